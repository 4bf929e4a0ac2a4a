-- test_scheduler_backlog: migrations/0029_scheduler_backlog.sql: what one
-- evaluation of scheduler_due found past a call's last batch is filed by
-- the next calls while it holds (scheduler_backlog, rw_scheduler_backlog_hold),
-- and looked at again when it does not: other arguments, a reorg of its
-- anchor, a minute gone, an instance with a newer event or claim.
--
-- Chain 4, Balance B (0xa00), USDC (0xa10); account K (0xb01, rich); 30
-- instances of 1 USDC a day created in block 6, all due at block 7306.
CREATE FUNCTION pg_temp.b() RETURNS bytea LANGUAGE sql IMMUTABLE RETURN rwt.addr(2560);
CREATE FUNCTION pg_temp.at(n bigint) RETURNS void LANGUAGE sql RETURN rwt.mirror_at(4, n);
CREATE TEMP TABLE filed (call int, key text, instances int, claims text[]);
-- Files with batches of 5 instances, at most 2 batches a call.
CREATE FUNCTION pg_temp.file(call int, maxb int DEFAULT 2, size int DEFAULT 5, every bigint DEFAULT 3600)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	INSERT INTO filed SELECT call, f.key, f.instances, f.claims
	FROM rw_scheduler_file(4, size, 3000000, every, maxb, 32) f;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;
CREATE FUNCTION pg_temp.id(n int) RETURNS bytea LANGUAGE sql IMMUTABLE RETURN rwt.h32(70000 + n);
-- The instance number of a claim key (charge:4:<id>:<period>).
CREATE FUNCTION pg_temp.inst(claim text) RETURNS int LANGUAGE sql STABLE
RETURN (SELECT n FROM generate_series(1, 40) n WHERE rw_hex(pg_temp.id(n)) = split_part(claim, ':', 3));
CREATE FUNCTION pg_temp.claimed(call int) RETURNS int[] LANGUAGE sql STABLE
RETURN (SELECT array_agg(pg_temp.inst(c) ORDER BY pg_temp.inst(c)) FROM filed f, unnest(f.claims) c WHERE f.call = claimed.call);
CREATE FUNCTION pg_temp.left() RETURNS bigint LANGUAGE sql STABLE
RETURN coalesce((SELECT cardinality(todo) FROM scheduler_backlog WHERE chain_id = 4), 0);

DO $$
BEGIN
	-- instance n's period ends n seconds after the others: filing order is 1..30
	PERFORM rwt.balance_instances(4, pg_temp.b(), rwt.addr(2576), rwt.addr(2817), 'backlog', 30, 70000);
	PERFORM pg_temp.at(7306);
END
$$;

-- The burst: evaluated once, then filed from the backlog --------------------------------------------

SELECT rwt.eq(pg_temp.file(1), 2::bigint, '30 due, batches of 5, 2 a call: two');
SELECT rwt.eq(pg_temp.claimed(1), ARRAY(SELECT generate_series(1, 10)), 'the first call files instances 1-10');
SELECT rwt.eq(pg_temp.left(), 20::bigint, 'the other 20 wait in the backlog');
SELECT rwt.ok((SELECT since_block = 7306 AND anchor_blocks = ARRAY[7306::bigint]
                      AND anchor_hashes = ARRAY[rwt.block_hash(4, 7306, 0)]
                      AND last_claim < (SELECT min(id) FROM scheduler_claim WHERE chain_id = 4)
               FROM scheduler_backlog WHERE chain_id = 4),
	'the backlog holds on block 7306 and its hash, and on the claims before the call');
-- a new block and a new instance due in it: the backlog still holds, so the
-- next call files from it and does not see the new one yet
SELECT rwt.emit('ev_balance_instance_created', 7307, 0, 7307, pg_temp.b(), jsonb_build_object(
	'instance_id', pg_temp.id(31), 'account', rwt.addr(2817), 'provider', rwt.addr(2048),
	'price_per_day', 1000000, 'paid', 1000000, 'reserve', 1000000,
	'paid_until', rwt.block_time(7306) - 1, 'balance_after', 1000000000), 4);
SELECT pg_temp.at(7307);
SELECT rwt.eq((SELECT count(*) FROM scheduler_due WHERE chain_id = 4 AND instance_id = pg_temp.id(31)), 1::bigint,
	'instance 31 is due at block 7307');
SELECT rwt.eq(pg_temp.file(2), 2::bigint, 'the next call: two more batches');
SELECT rwt.eq(pg_temp.claimed(2), ARRAY(SELECT generate_series(11, 20)), 'from the backlog: 11-20, not 31');
SELECT rwt.ok((SELECT bool_and(mirror_block = 7306 AND mirror_time = rwt.block_time(7306))
               FROM scheduler_claim c JOIN filed f ON c.key = ANY (f.claims) WHERE f.call = 2),
	'their claims record what the evaluation saw (block 7306)');
SELECT rwt.eq(pg_temp.left(), 10::bigint, '10 left');

-- A row whose instance moved is dropped, not filed ------------------------------------------------------

SAVEPOINT moved;
-- instance 21 charged in block 7308 (someone else called charge), 22 ended
SELECT rwt.emit('ev_balance_charged', 7308, 0, 7308, pg_temp.b(), jsonb_build_object(
	'instance_id', pg_temp.id(21), 'account', rwt.addr(2817), 'provider', rwt.addr(2048),
	'period', 1, 'amount', 1000000, 'reserve_after', 1000000,
	'paid_until', rwt.block_time(6) + 2 * 86400 + 21), 4);
SELECT rwt.emit('ev_balance_instance_ended', 7308, 1, 7308, pg_temp.b(), jsonb_build_object(
	'instance_id', pg_temp.id(22), 'account', rwt.addr(2817), 'reason', 3, 'refunded', 1000000,
	'balance_after', 1000000000), 4);
SELECT pg_temp.at(7308);
CREATE FUNCTION pg_temp.hold(since bigint, last_claim bigint) RETURNS int[] LANGUAGE sql STABLE
RETURN (SELECT array_agg(pg_temp.inst(d.key) ORDER BY o)
        FROM unnest(rw_scheduler_backlog_hold(4, (SELECT todo FROM scheduler_backlog WHERE chain_id = 4), since,
                                              last_claim)) WITH ORDINALITY d (chain_id, contract, instance_id, account,
             action, period, attempt, reason, key, price_per_day, reserve, paid_until, grace_until, periods, gas, now,
             mirror_block, lag_blocks, o));
SELECT rwt.eq(pg_temp.hold(7306, (SELECT max(id) FROM scheduler_claim)), ARRAY[23, 24, 25, 26, 27, 28, 29, 30],
	'rw_scheduler_backlog_hold: 21 (charged) and 22 (ended) after 7306 do not hold, 23-30 do, in order');
SELECT rwt.eq(pg_temp.hold(7308, (SELECT max(id) FROM scheduler_claim)), ARRAY(SELECT generate_series(21, 30)),
	'rw_scheduler_backlog_hold: events up to since_block do not count');
SAVEPOINT claim;
INSERT INTO scheduler_claim (key, chain_id, contract, instance_id, action, period, attempt, reason, intent_id,
	mirror_block, mirror_time)
SELECT 'charge:4:' || rw_hex(pg_temp.id(23)) || ':1', 4, pg_temp.b(), pg_temp.id(23), 'charge', 1, 1, 'due', c.intent_id,
	7306, rwt.block_time(7306)
FROM scheduler_claim c WHERE c.chain_id = 4 LIMIT 1;
SELECT rwt.eq(pg_temp.hold(7308, (SELECT max(id) FROM scheduler_claim) - 1), ARRAY[21, 22, 24, 25, 26, 27, 28, 29, 30],
	'rw_scheduler_backlog_hold: a row with a claim newer than last_claim does not hold');
SELECT rwt.eq(pg_temp.hold(7308, (SELECT max(id) FROM scheduler_claim)), ARRAY(SELECT generate_series(21, 30)),
	'rw_scheduler_backlog_hold: ... one up to last_claim does');
ROLLBACK TO SAVEPOINT claim;
SELECT rwt.eq(pg_temp.file(3), 2::bigint, 'the next call: two batches');
SELECT rwt.eq(pg_temp.claimed(3), ARRAY[23, 24, 25, 26, 27, 28, 29, 30],
	'the backlog''s 23-30: 21 and 22 dropped');
SELECT rwt.eq(pg_temp.left(), 0::bigint, 'nothing left');
SELECT rwt.ok(NOT EXISTS (SELECT 1 FROM scheduler_backlog WHERE chain_id = 4), 'the backlog row is gone');
SELECT rwt.eq(pg_temp.file(4), 1::bigint, 'the next call looks again: one batch');
SELECT rwt.eq(pg_temp.claimed(4), ARRAY[31], 'instance 31 (21 paid, 22 ended: not due)');
SELECT rwt.eq(pg_temp.file(5), 0::bigint, 'then nothing: every due instance has an open claim');
SELECT rwt.eq((SELECT count(*) FROM scheduler_claim WHERE chain_id = 4), 29::bigint,
	'29 claims: 1-20 and 23-31, once each; 21 was paid, 22 ended');
ROLLBACK TO SAVEPOINT moved;

-- What ends the backlog: other arguments, a reorg, a minute ---------------------------------------------

SAVEPOINT args;
SELECT rwt.eq(pg_temp.file(15, 1, 3), 1::bigint, 'other batching arguments (1 batch of 3 a call): one batch');
SELECT rwt.eq(pg_temp.claimed(15), ARRAY[21, 22, 23], 'from the backlog: 21-23 (batching does not decide what is due)');
SELECT rwt.eq(pg_temp.left(), 7::bigint, '24-30 left');
SELECT rwt.eq(pg_temp.file(19, 1, 3, 7200), 1::bigint, 'another refill cadence: one batch');
SELECT rwt.eq(pg_temp.claimed(19), ARRAY[24, 25, 26],
	'a new look (the cadence decides what is due): 24-26 (31 is due later in the filing order)');
SELECT rwt.eq(pg_temp.left(), 5::bigint, 'a new backlog of 27-31');
ROLLBACK TO SAVEPOINT args;

-- The first call of a burst files at most 20 batches ------------------------------------------------

SAVEPOINT first;
DELETE FROM scheduler_backlog WHERE chain_id = 4;
DELETE FROM scheduler_claim WHERE chain_id = 4;
SELECT rwt.eq(pg_temp.file(20, 100, 1), 20::bigint, 'a new look, 31 due, batches of 1, 100 a call: 20 batches');
SELECT rwt.eq(pg_temp.left(), 11::bigint, '11 rows wait in the backlog');
SELECT rwt.eq(pg_temp.file(21, 100, 1), 11::bigint, 'the next call files them all');
SELECT rwt.eq(pg_temp.file(22, 100, 1), 0::bigint, 'then nothing');
ROLLBACK TO SAVEPOINT first;

SAVEPOINT reorg;
-- block 7306 replaced by another branch's: the anchor no longer stands
UPDATE indexer_block SET hash = rwt.block_hash(4, 7306, 1) WHERE chain_id = 4 AND number = 7306;
SELECT rwt.eq(pg_temp.file(16), 2::bigint, 'after a reorg of the anchor: a new look');
SELECT rwt.eq(pg_temp.claimed(16), ARRAY(SELECT generate_series(21, 30)), 'it files 21-30');
SELECT rwt.eq((SELECT anchor_blocks[1] || ' ' || cardinality(todo) FROM scheduler_backlog WHERE chain_id = 4),
	'7307 1', 'and keeps 31, anchored on block 7307');
ROLLBACK TO SAVEPOINT reorg;

SAVEPOINT old;
UPDATE scheduler_backlog SET made_at = now() - interval '61 seconds', todo = todo[1:1] WHERE chain_id = 4;
SELECT rwt.eq(pg_temp.file(17), 2::bigint, 'a backlog older than a minute: a new look');
SELECT rwt.eq(pg_temp.claimed(17), ARRAY(SELECT generate_series(21, 30)), 'it files 21-30 (not the one row left)');
ROLLBACK TO SAVEPOINT old;

SAVEPOINT gone;
DELETE FROM scheduler_backlog WHERE chain_id = 4; -- as after a crash (unlogged)
SELECT rwt.eq(pg_temp.file(18), 2::bigint, 'no backlog: a new look');
SELECT rwt.eq(pg_temp.claimed(18), ARRAY(SELECT generate_series(21, 30)), 'it files 21-30');
ROLLBACK TO SAVEPOINT gone;

-- Comments, privileges ----------------------------------------------------------------------------------

SELECT rwt.ok(obj_description('scheduler_backlog'::regclass, 'pg_class') <> '', 'scheduler_backlog has a COMMENT');
SELECT rwt.ok(obj_description('rw_scheduler_backlog_hold(bigint, scheduler_due[], bigint, bigint)'::regprocedure, 'pg_proc')
	<> '', 'rw_scheduler_backlog_hold has a COMMENT');
SELECT rwt.ok(obj_description('rw_scheduler_file_batches(bigint, integer, bigint, bigint, integer, bigint)'::regprocedure,
	'pg_proc') LIKE '%scheduler_backlog%', 'rw_scheduler_file_batches''s COMMENT names the backlog');
SELECT rwt.ok(NOT has_function_privilege('public', 'rw_scheduler_backlog_hold(bigint, scheduler_due[], bigint, bigint)',
	'EXECUTE'), 'PUBLIC may not call rw_scheduler_backlog_hold');
SELECT rwt.ok((SELECT relpersistence = 'u' FROM pg_class WHERE oid = 'scheduler_backlog'::regclass),
	'scheduler_backlog is unlogged');
