-- test_relayer_plans: a round's set-based writes read a bounded number of
-- relayer rows per row of the batch, whatever the statistics say
-- (0030_relayer_round_plans; the lost_mined lookup, 0032). Not timed: the
-- rows each call reads are counted from pg_stat_xact_user_tables and
-- pg_stat_get_xact_tuples_returned (this transaction's own counters), so
-- the check is the same on a slow machine.
--
-- The case that was quadratic: a burst of batches assigned, ANALYZE at its
-- peak (nothing of it mined), then each batch sent and mined; every mined
-- batch read all the attempts mined before it, once per receipt.

INSERT INTO chain (chain_id, name) VALUES (31337, 'local') ON CONFLICT DO NOTHING;
CREATE TEMP TABLE k AS SELECT rwt.addr(91) AS signer;
SELECT rwt.eq((SELECT next_nonce FROM rw_relayer_sync(31337, 'local', (SELECT signer FROM k),
	100, NULL, 0, 0, 10::numeric ^ 18, 'ok')), 0::bigint, 'plans: the signer is registered');

-- Batch b (1..6) of 150 intents: ids, raw bytes and hashes.
CREATE TEMP TABLE b AS
SELECT b, array_agg(f.id ORDER BY g) AS ids,
	array_agg(decode('ab' || lpad(to_hex(b * 1000 + g), 8, '0'), 'hex') ORDER BY g) AS raws,
	array_agg(rwt.tx(900000 + b * 1000 + g) ORDER BY g) AS hashes
FROM generate_series(1, 6) b, generate_series(1, 150) g,
	LATERAL rw_intent_file('charge:31337:plans:' || b || ':' || g, 31337, rwt.addr(10),
		decode(lpad(to_hex(b * 1000 + g), 8, '0'), 'hex')) f
GROUP BY b;

-- Rows of the tables read so far in this transaction (sequential and index
-- reads).
CREATE FUNCTION pg_temp.table_reads(VARIADIC t regclass[]) RETURNS bigint LANGUAGE sql AS $$
SELECT (SELECT coalesce(sum(seq_tup_read), 0) FROM pg_stat_xact_user_tables
		WHERE relid = ANY (t))
	+ (SELECT coalesce(sum(pg_stat_get_xact_tuples_returned(x.indexrelid)), 0)
		FROM pg_index x WHERE x.indrelid = ANY (t))
$$;
-- ... of relayer_tx, relayer_intent and relayer_receipt
CREATE FUNCTION pg_temp.reads() RETURNS bigint LANGUAGE sql
RETURN pg_temp.table_reads('relayer_tx', 'relayer_intent', 'relayer_receipt');
CREATE TEMP TABLE r (b int, step text, reads bigint, n bigint);
CREATE FUNCTION pg_temp.step(p_b int, p_step text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	before bigint := pg_temp.reads();
	n bigint;
	x b;
BEGIN
	SELECT * INTO x FROM b WHERE b.b = p_b;
	IF p_step = 'assign' THEN
		SELECT count(*) INTO n FROM rw_relayer_assign_many(31337, (SELECT signer FROM k),
			(SELECT next_nonce FROM relayer_signer WHERE address = (SELECT signer FROM k)), 10000,
			x.ids, array_fill(2::smallint, ARRAY[150]), array_fill(NULL::numeric, ARRAY[150]),
			array_fill(100::numeric, ARRAY[150]), array_fill(10::numeric, ARRAY[150]),
			array_fill(50000::bigint, ARRAY[150]), x.raws, x.hashes) a
		WHERE a.refused IS NULL;
	ELSIF p_step = 'sent' THEN
		SELECT rw_relayer_sent_many(
			(SELECT array_agg(t.id ORDER BY t.id) FROM relayer_tx t WHERE t.hash = ANY (x.hashes)),
			10, array_fill(true, ARRAY[150]), array_fill(NULL::text, ARRAY[150]),
			array_fill(NULL::text, ARRAY[150])) INTO n;
	ELSE
		SELECT count(*) INTO n FROM rw_relayer_mined_many(x.hashes,
			array_fill(11::bigint, ARRAY[150]), array_fill(rwt.h32(p_b), ARRAY[150]),
			array_fill(1::smallint, ARRAY[150]), array_fill(50000::bigint, ARRAY[150]),
			array_fill(7::numeric, ARRAY[150]), 20, 0) m
		WHERE m.answer = 'mined';
	END IF;
	INSERT INTO r VALUES (p_b, p_step, pg_temp.reads() - before, n);
END
$$;

SELECT pg_temp.step(g, 'assign') FROM generate_series(1, 6) g;
ANALYZE relayer_tx;
ANALYZE relayer_intent;
ANALYZE relayer_receipt;
SELECT pg_temp.step(g, s) FROM generate_series(1, 6) g, unnest(ARRAY['sent', 'mined']) s
ORDER BY g, s DESC;

SELECT rwt.eq((SELECT string_agg(step || ':' || n, ',' ORDER BY b, step) FROM r WHERE b = 6),
	'assign:150,mined:150,sent:150', 'plans: each call stores its whole batch');
SELECT rwt.eq((SELECT count(*) FROM relayer_intent i JOIN b ON i.id = ANY (b.ids)
	WHERE i.state = 'confirmed'), 900::bigint, 'plans: every intent of the burst is confirmed');
-- 150 receipts read a few index entries each (hash, nonce, intent, the
-- receipt's absence, the locks); the quadratic plan read 150 x the mined
-- attempts before (22,500 for batch 2 .. 112,500 for batch 6)
SELECT rwt.ok((SELECT max(reads) FROM r WHERE step = 'mined') < 150 * 40,
	'plans: rw_relayer_mined_many reads under 40 rows per receipt (most: '
	|| (SELECT max(reads) FROM r WHERE step = 'mined') || ', batch 6: '
	|| (SELECT reads FROM r WHERE step = 'mined' AND b = 6) || ')');
SELECT rwt.ok((SELECT max(reads) FROM r WHERE step = 'assign') < 150 * 40,
	'plans: rw_relayer_assign_many reads under 40 rows per intent (most: '
	|| (SELECT max(reads) FROM r WHERE step = 'assign') || ')');
SELECT rwt.ok((SELECT max(reads) FROM r WHERE step = 'sent') < 150 * 40,
	'plans: rw_relayer_sent_many reads under 40 rows per transaction (most: '
	|| (SELECT max(reads) FROM r WHERE step = 'sent') || ')');
SELECT rwt.ok((SELECT coalesce(bool_and(c @> ARRAY['enable_seqscan=off',
		'plan_cache_mode=force_generic_plan']), false)
	FROM (SELECT p.proconfig AS c FROM pg_proc p WHERE p.proname IN ('rw_relayer_assign_many',
		'rw_relayer_sent_many') OR (p.proname = 'rw_relayer_mined_many' AND p.pronargs = 8)) x),
	'plans: the three functions run without sequential scans, on generic plans');

-- rw_relayer_mined's "lost_mined reported once" test (0032): an index lookup,
-- not a read of every event (the burst above wrote one per transaction)
ANALYZE relayer_event;
CREATE FUNCTION pg_temp.event_reads() RETURNS bigint LANGUAGE sql
RETURN pg_temp.table_reads('relayer_event');
CREATE TEMP TABLE ev0 AS SELECT count(*) AS events, 0::bigint AS n FROM relayer_event;
UPDATE ev0 SET n = pg_temp.event_reads();
SELECT 1 FROM relayer_event WHERE tx_id = (SELECT max(id) FROM relayer_tx) AND kind = 'lost_mined';
SELECT rwt.ok(pg_temp.event_reads() - (SELECT n FROM ev0) < 10,
	'plans: the lost_mined lookup reads under 10 of ' || (SELECT events FROM ev0) || ' events (read: '
	|| (pg_temp.event_reads() - (SELECT n FROM ev0)) || ')');
