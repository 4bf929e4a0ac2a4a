-- 0025_scheduler_bulk: the scheduler's filing at scale (issue #7's benchmark,
-- tools/bench-charges: 10,000 instances due at once).
--
-- Owns:
--   table      scheduler_idle (per chain: the fingerprint of the inputs that
--              last gave nothing to file)
--   functions  rw_scheduler_fingerprint; rw_scheduler_file replaced (same
--              arguments, same result, same rules: 0022 stays the reference)
--
-- What 0022's rw_scheduler_file cost with 10,000 live instances (release
-- build, 2 shared cores): evaluating scheduler_due took 300-500 ms whether
-- or not anything was due (every live instance's state is derived from its
-- events each time), and runwayd calls it every poll interval and after
-- every indexer commit; filing was a row-by-row loop (an array copied per
-- row, one claim INSERT per batch), about 7 ms a batch. Two changes:
--
-- 1. Idle calls are skipped. What scheduler_due lists depends only on the
--    mirror (each Balance contract's cursor and the hash of the block it
--    stands on, the chain head the indexer has seen), on which of the
--    chain's intents are open (queued, pending, mined: a claim settles when
--    its intent leaves that set or when the mirror passes its block) and on
--    the call's arguments. A call that found nothing to file stores that
--    fingerprint (computed before it looked); the next call with the same
--    fingerprint returns at once without evaluating scheduler_due. Anything
--    else (a new block, a reorg, an intent confirmed, failed, cancelled or
--    retried, other arguments) makes it look again; so does a stored
--    fingerprint older than a minute, as a backstop. Filing anything clears
--    it. The fingerprint is read through the partial index of open intents
--    (relayer_intent_open), so it costs what the open intents cost.
-- 2. Filing is set-based: the due rows are read once into an array, a
--    loop over it only numbers the batches (the same greedy rule: same
--    contract and action, at most p_batch_size instances and p_batch_gas of
--    estimated gas, at most p_max_batches batches), then one rw_intent_file
--    per batch (calldata built with string_agg) and one INSERT for every
--    claim of the call.
--
-- Nothing about what is filed changes: the same batches, keys, claims and
-- intents as 0022 for the same mirror (tests/sql/test_scheduler.sql runs
-- against this function; tests/sql/test_scheduler_bulk.sql covers the
-- skip).

CREATE TABLE scheduler_idle (
	chain_id bigint PRIMARY KEY REFERENCES chain (chain_id),
	fingerprint text NOT NULL,
	checked_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE scheduler_idle IS
	'Per chain: the fingerprint (rw_scheduler_fingerprint and the call''s arguments) of the '
	'last rw_scheduler_file call that found nothing to file, and when. A call with the same '
	'fingerprint within a minute skips scheduler_due; filing anything deletes the row.';

CREATE FUNCTION rw_scheduler_fingerprint(p_chain_id bigint) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT concat_ws('|',
	(SELECT string_agg(s.id || ':' || c.next_block || ':' || coalesce(encode(b.hash, 'hex'), '-'), ','
	                   ORDER BY s.id)
	 FROM indexer_source s
	 JOIN indexer_cursor c ON c.source_id = s.id
	 LEFT JOIN LATERAL (SELECT x.hash FROM indexer_block x
	                    WHERE x.chain_id = s.chain_id AND x.number < c.next_block
	                    ORDER BY x.number DESC LIMIT 1) b ON true
	 WHERE s.chain_id = p_chain_id AND s.kind = 'Balance'),
	(SELECT h.head_number || ':' || encode(h.head_hash, 'hex') FROM chain_head h
	 WHERE h.chain_id = p_chain_id),
	(SELECT count(*) || ':' || coalesce(md5(string_agg(i.id || i.state, ',' ORDER BY i.id)), '-')
	 FROM relayer_intent i
	 WHERE i.chain_id = p_chain_id AND i.state IN ('queued', 'pending', 'mined')))
$$;
COMMENT ON FUNCTION rw_scheduler_fingerprint(bigint) IS
	'What scheduler_due depends on for a chain, as text: each Balance contract''s indexer cursor '
	'and the hash of the latest stored block below it, the head the indexer has seen, and the '
	'open (queued, pending, mined) intents with their states. Equal fingerprints: the same rows '
	'due.';

CREATE OR REPLACE FUNCTION rw_scheduler_file(p_chain_id bigint, p_batch_size integer DEFAULT 50,
	p_batch_gas bigint DEFAULT 3000000, p_refill_every bigint DEFAULT 3600,
	p_max_batches integer DEFAULT 20, p_max_lag bigint DEFAULT 32)
RETURNS TABLE (key text, action text, contract bytea, instances integer, reasons text,
	gas bigint, intent_id bigint, claims text[])
-- jit off: compiling the plan of scheduler_due costs seconds, running it milliseconds
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET jit = off AS $$
#variable_conflict use_column
DECLARE
	base constant bigint := 30000; -- the call itself: 21000 + calldata and the loop
	fp text;
	todo scheduler_due[];
	n integer;
	bno integer[];
	b integer := 0;
	cnt integer := 0;
	used bigint := 0;
	r scheduler_due;
	p scheduler_due;
	ids bigint[] := '{}';
	keys text[] := '{}';
	bt record;
	i relayer_intent;
BEGIN
	IF p_chain_id IS NULL OR p_batch_size IS NULL OR p_batch_size NOT BETWEEN 1 AND 1000
	   OR p_batch_gas IS NULL OR p_batch_gas NOT BETWEEN 100000 AND 100000000
	   OR p_refill_every IS NULL OR p_refill_every NOT BETWEEN 60 AND 31536000
	   OR p_max_batches IS NULL OR p_max_batches NOT BETWEEN 1 AND 1000
	   OR p_max_lag IS NULL OR p_max_lag < 0 THEN
		RAISE EXCEPTION 'rw_scheduler_file: bad arguments (chain %, batch size % of 1..1000, batch gas '
			'% of 100000..100000000, refill every % s of 60..31536000, max batches % of 1..1000, '
			'max lag % >= 0)', p_chain_id, p_batch_size, p_batch_gas, p_refill_every, p_max_batches,
			p_max_lag USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM chain x WHERE x.chain_id = p_chain_id) THEN
		RETURN; -- the indexer has not recorded the chain yet: nothing is indexed
	END IF;
	PERFORM pg_advisory_xact_lock(hashtextextended('rw_scheduler:' || p_chain_id, 0));
	INSERT INTO scheduler_config AS c (chain_id, batch_size, batch_gas, refill_every, max_batches, max_lag)
	VALUES (p_chain_id, p_batch_size, p_batch_gas, p_refill_every, p_max_batches, p_max_lag)
	ON CONFLICT (chain_id) DO UPDATE
	SET batch_size = EXCLUDED.batch_size, batch_gas = EXCLUDED.batch_gas,
	    refill_every = EXCLUDED.refill_every, max_batches = EXCLUDED.max_batches,
	    max_lag = EXCLUDED.max_lag, updated_at = now()
	WHERE (c.batch_size, c.batch_gas, c.refill_every, c.max_batches, c.max_lag)
	      IS DISTINCT FROM (EXCLUDED.batch_size, EXCLUDED.batch_gas, EXCLUDED.refill_every,
	                        EXCLUDED.max_batches, EXCLUDED.max_lag);
	-- 1. Nothing changed since a call that found nothing: nothing to find.
	fp := concat_ws('|', p_batch_size, p_batch_gas, p_refill_every, p_max_batches, p_max_lag,
		rw_scheduler_fingerprint(p_chain_id));
	IF EXISTS (SELECT 1 FROM scheduler_idle s WHERE s.chain_id = p_chain_id AND s.fingerprint = fp
	           AND s.checked_at > now() - interval '1 minute') THEN
		RETURN;
	END IF;
	-- 2. The due rows, once, in filing order.
	SELECT array_agg(d ORDER BY d.contract, d.action, d.paid_until, d.instance_id) INTO todo
	FROM scheduler_due d WHERE d.chain_id = p_chain_id AND d.lag_blocks <= p_max_lag;
	n := coalesce(cardinality(todo), 0);
	IF n = 0 THEN
		INSERT INTO scheduler_idle AS s (chain_id, fingerprint, checked_at) VALUES (p_chain_id, fp, now())
		ON CONFLICT (chain_id) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, checked_at = EXCLUDED.checked_at;
		RETURN;
	END IF;
	DELETE FROM scheduler_idle s WHERE s.chain_id = p_chain_id;
	-- 3. Batch numbers: a new batch on another contract or action, or when the
	-- size or the gas budget would be exceeded; rows past the last batch get 0.
	bno := array_fill(0, ARRAY[n]);
	FOR k IN 1..n LOOP
		r := todo[k];
		IF cnt > 0 AND (r.contract <> p.contract OR r.action <> p.action OR cnt >= p_batch_size
		                OR base + used + r.gas > p_batch_gas) THEN
			cnt := 0;
			used := 0;
		END IF;
		IF cnt = 0 THEN
			b := b + 1;
			EXIT WHEN b > p_max_batches;
		END IF;
		bno[k] := b;
		cnt := cnt + 1;
		used := used + r.gas;
		p := r;
	END LOOP;
	-- 4. One intent per batch, in batch order (the relayer takes them by id).
	FOR bt IN SELECT bno[x.ordinality] AS no, (array_agg(x.contract))[1] AS contract, min(x.action) AS action,
	                 count(*) AS cnt, string_agg(x.instance_id, ''::bytea ORDER BY x.ordinality) AS ids
	          FROM unnest(todo) WITH ORDINALITY x
	          WHERE bno[x.ordinality] > 0
	          GROUP BY 1 ORDER BY 1 LOOP
		i := rw_intent_file(bt.action || ':' || p_chain_id || ':batch:' || nextval('scheduler_batch_seq'),
			p_chain_id, bt.contract,
			CASE bt.action WHEN 'charge' THEN '\xd66062ee'::bytea ELSE '\x8092abd8'::bytea END
				|| rw_abi_uint(32) || rw_abi_uint(bt.cnt) || bt.ids);
		ids := ids || i.id;
		keys := keys || i.key;
	END LOOP;
	-- 5. Every claim of the call at once.
	INSERT INTO scheduler_claim (key, chain_id, contract, instance_id, action, period, attempt, reason,
		intent_id, mirror_block, mirror_time)
	SELECT x.key, x.chain_id, x.contract, x.instance_id, x.action, x.period, x.attempt, x.reason,
		ids[bno[x.ordinality]], x.mirror_block, x.now
	FROM unnest(todo) WITH ORDINALITY x
	WHERE bno[x.ordinality] > 0
	ORDER BY x.ordinality;
	RETURN QUERY
	SELECT keys[g.no], g.action, g.contract, g.cnt::integer,
	       (SELECT string_agg(s.reason || ' ' || s.n, ', ' ORDER BY s.reason)
	        FROM (SELECT y.reason, count(*) AS n FROM unnest(todo) WITH ORDINALITY y
	              WHERE bno[y.ordinality] = g.no GROUP BY y.reason) s),
	       base + g.gas, ids[g.no], g.claims
	FROM (SELECT bno[x.ordinality] AS no, min(x.action) AS action, (array_agg(x.contract))[1] AS contract,
	             count(*) AS cnt, sum(x.gas)::bigint AS gas,
	             array_agg(x.key ORDER BY x.ordinality) AS claims
	      FROM unnest(todo) WITH ORDINALITY x
	      WHERE bno[x.ordinality] > 0
	      GROUP BY 1) g
	ORDER BY g.no;
END
$$;
COMMENT ON FUNCTION rw_scheduler_file(bigint, integer, bigint, bigint, integer, bigint) IS
	'Files what scheduler_due lists for the chain (contracts whose mirror trails the head by at '
	'most p_max_lag blocks), charges before refills, oldest paid_until first, in batch intents of '
	'at most p_batch_size instances and p_batch_gas estimated gas (30000 for the call plus each '
	'instance''s share), at most p_max_batches of them: one row per batch (intent key, action, '
	'contract, instances, reasons, estimated gas, intent id, claim keys). Stores the arguments in '
	'scheduler_config (nothing at all while the chain table lacks the chain). One transaction '
	'under a per-chain advisory lock; a second call with nothing new files nothing, and when '
	'nothing it depends on changed since a call that found nothing (rw_scheduler_fingerprint, '
	'scheduler_idle) it returns without looking. Exactly p_max_batches rows: call again, more '
	'may be due. Set-based since 0025.';

REVOKE EXECUTE ON FUNCTION rw_scheduler_fingerprint(bigint) FROM PUBLIC;
