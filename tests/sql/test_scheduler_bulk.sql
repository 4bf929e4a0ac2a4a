-- test_scheduler_bulk: migrations/0025_scheduler_bulk.sql: rw_scheduler_file
-- files many instances set-based (the same batches as 0022's rules: size,
-- gas budget, max batches, order, calldata, one claim each) and skips its
-- look at scheduler_due while nothing it depends on changed since a call
-- that found nothing (rw_scheduler_fingerprint, scheduler_idle).
-- (tests/sql/test_scheduler.sql runs all of 0022's cases against it too.)
--
-- Chain 3, Balance B (0x900), USDC (0x910); account K (0xa01, rich); 120
-- instances of 1 USDC a day created in block 6; the relayer signer 0x4d.
CREATE FUNCTION pg_temp.b() RETURNS bytea LANGUAGE sql IMMUTABLE RETURN rwt.addr(2304);
CREATE FUNCTION pg_temp.at(n bigint) RETURNS void LANGUAGE sql RETURN rwt.mirror_at(3, n);
CREATE TEMP TABLE filed (call int, key text, action text, instances int, reasons text, gas bigint, intent_id bigint,
	claims text[]);
CREATE FUNCTION pg_temp.file(call int, size int DEFAULT 50, gas bigint DEFAULT 3000000, maxb int DEFAULT 20)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	INSERT INTO filed SELECT call, f.key, f.action, f.instances, f.reasons, f.gas, f.intent_id, f.claims
	FROM rw_scheduler_file(3, size, gas, 3600, maxb, 32) f;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;
CREATE FUNCTION pg_temp.id(n int) RETURNS bytea LANGUAGE sql IMMUTABLE RETURN rwt.h32(90000 + n);

DO $$
BEGIN
	-- paid_until in creation order, then ids descending where times tie
	PERFORM rwt.balance_instances(3, pg_temp.b(), rwt.addr(2320), rwt.addr(2561), 'bulk', 120, 90000, 2);
	PERFORM pg_temp.at(6);
END
$$;

-- Idle: nothing due, then nothing looked at while nothing changes -----------------------------------

SELECT rwt.eq(pg_temp.file(1), 0::bigint, 'nothing due after creation');
SELECT rwt.ok(EXISTS (SELECT 1 FROM scheduler_idle WHERE chain_id = 3), 'a call that found nothing stores its fingerprint');
SELECT rwt.eq((SELECT fingerprint FROM scheduler_idle WHERE chain_id = 3),
	concat_ws('|', 50, 3000000, 3600, 20, 32, rw_scheduler_fingerprint(3)), 'the fingerprint: the arguments and the inputs');
SAVEPOINT idle;
-- A period ends in a block the fingerprint cannot see (its header stored, the
-- cursor not moved: the indexer never does that; it shows the look is skipped).
UPDATE indexer_block SET timestamp = rwt.block_time(6) + 2 * 86400 WHERE chain_id = 3 AND number = 6;
SELECT rwt.eq((SELECT count(*) FROM scheduler_due WHERE chain_id = 3), 120::bigint, 'scheduler_due: everything due');
SELECT rwt.eq(pg_temp.file(2), 0::bigint, 'the same fingerprint: scheduler_due is not looked at');
SELECT rwt.eq(pg_temp.file(3, 50, 3000000, 21), 3::bigint, 'other arguments: looked at, filed');
ROLLBACK TO SAVEPOINT idle;
UPDATE indexer_block SET timestamp = rwt.block_time(6) + 2 * 86400 WHERE chain_id = 3 AND number = 6;
UPDATE scheduler_idle SET checked_at = now() - interval '61 seconds' WHERE chain_id = 3;
SELECT rwt.eq(pg_temp.file(4), 3::bigint, 'a fingerprint older than a minute: looked at again');
ROLLBACK TO SAVEPOINT idle;
UPDATE indexer_block SET timestamp = rwt.block_time(6) + 2 * 86400 WHERE chain_id = 3 AND number = 6;
SELECT rwt.eq((rw_intent_file('other:1', 3, rwt.addr(2304), '\x01'::bytea)).state, 'queued', 'another intent filed');
SELECT rwt.eq(pg_temp.file(5), 3::bigint, 'an intent of the chain queued: looked at again');
ROLLBACK TO SAVEPOINT idle;
SELECT rwt.eq((rw_intent_file('other:1', 3, rwt.addr(2304), '\x01'::bytea)).state, 'queued', 'another intent filed');
SELECT rwt.eq(pg_temp.file(6), 0::bigint, 'an open intent, nothing due: nothing');
UPDATE indexer_block SET timestamp = rwt.block_time(6) + 2 * 86400 WHERE chain_id = 3 AND number = 6;
SELECT rwt.eq((rw_intent_cancel('other:1', 'test')).state, 'cancelled', 'that intent cancelled');
SELECT rwt.eq(pg_temp.file(7), 3::bigint, 'an open intent cancelled: looked at again');
ROLLBACK TO SAVEPOINT idle;
CREATE TEMP TABLE fp (step text PRIMARY KEY, v text);
INSERT INTO fp VALUES ('before', rw_scheduler_fingerprint(3));
SELECT rwt.head(3, 7, 0);
INSERT INTO fp VALUES ('head', rw_scheduler_fingerprint(3));
SELECT pg_temp.at(7);
INSERT INTO fp VALUES ('block', rw_scheduler_fingerprint(3));
SELECT rwt.eq((SELECT count(DISTINCT v) FROM fp), 3::bigint, 'a new head, then a new block indexed: new fingerprints');
ROLLBACK TO SAVEPOINT idle;

-- Bulk filing ------------------------------------------------------------------------------------------

SELECT pg_temp.at(6 + 7300);
SELECT rwt.eq(pg_temp.file(10, 50, 5000000, 2), 2::bigint, '120 due, batch size 50 (gas budget 5000000), at most 2 batches: two');
-- 0026: each charge batch intent carries the batch's estimated gas as its gas_hint
SELECT rwt.ok((SELECT bool_and(i.gas_hint = f.gas AND f.gas > 30000 AND f.action = 'charge')
               FROM filed f JOIN relayer_intent i ON i.id = f.intent_id
               WHERE f.call = 10) AND (SELECT count(*) FROM filed WHERE call = 10) = 2,
	'0026: both charge batch intents carry their estimated gas as gas_hint');
SAVEPOINT hint;
SELECT rwt.eq((rw_intent_file('hand:1', 3, rwt.addr(2304), '\x02'::bytea)).gas_hint, NULL::bigint,
	'0026: an intent filed by hand has no gas_hint');
SELECT rwt.throws($$UPDATE relayer_intent SET gas_hint = 20999 WHERE id = (SELECT min(intent_id) FROM filed)$$,
	'23514', '0026: a gas_hint below 21000 is refused');
ROLLBACK TO SAVEPOINT hint;
SELECT rwt.ok(NOT EXISTS (SELECT 1 FROM scheduler_idle WHERE chain_id = 3), 'filing clears the stored fingerprint');
SELECT rwt.eq((SELECT string_agg(instances || ' ' || gas || ' ' || reasons, ', ' ORDER BY intent_id) FROM filed WHERE call = 10),
	'50 3030000 due 50, 50 3030000 due 50', 'two batches of 50 (30000 + 50 x 60000 gas)');
SELECT rwt.eq((SELECT array_agg(c ORDER BY f.intent_id, o) FROM filed f, unnest(f.claims) WITH ORDINALITY u(c, o)
               WHERE call = 10),
	(SELECT array_agg('charge:3:' || rw_hex(id) || ':1' ORDER BY pu, id) FROM (
		SELECT pg_temp.id(n) AS id, n / 2 AS pu FROM generate_series(1, 120) n ORDER BY 2, 1 LIMIT 100) x),
	'the oldest 100 by paid_until, then id, in order');
SELECT rwt.eq((SELECT string_agg(rw_hex(i.calldata), ',' ORDER BY i.id) FROM filed f JOIN relayer_intent i ON i.id = f.intent_id
               WHERE call = 10),
	(SELECT string_agg(rw_hex('\xd66062ee'::bytea || rw_abi_bytes32_array(ARRAY(
		SELECT rw_unhex(substr(c, 10, 66)) FROM unnest(f.claims) WITH ORDINALITY u(c, o) ORDER BY o))), ','
		ORDER BY f.intent_id) FROM filed f WHERE call = 10),
	'each intent calls charge(ids) with its claims'' instances, in order');
SELECT rwt.eq((SELECT count(*) FROM scheduler_claim c JOIN filed f ON f.intent_id = c.intent_id AND c.key = ANY (f.claims)
               WHERE call = 10), 100::bigint, 'every claim points at its batch''s intent');
SELECT rwt.ok((SELECT bool_and(mirror_block = 7306 AND mirror_time = rwt.block_time(7306) AND reason = 'due' AND attempt = 1)
               FROM scheduler_claim WHERE chain_id = 3), 'claims record the mirror''s point and the reason');
SELECT rwt.eq(pg_temp.file(11, 50, 5000000, 2), 1::bigint, 'the next call: the remaining 20');
SELECT rwt.eq((SELECT instances FROM filed WHERE call = 11), 20, 'a batch of 20');
SELECT rwt.eq(pg_temp.file(12), 0::bigint, 'then nothing (every claim open)');
SELECT rwt.eq((SELECT count(DISTINCT instance_id) FROM scheduler_claim WHERE chain_id = 3), 120::bigint,
	'120 instances, one claim each');
SELECT rwt.eq((SELECT string_agg(DISTINCT split_part(key, ':', 1) || ':' || split_part(key, ':', 2), ',') FROM filed),
	'charge:3', 'keys charge:<chain>:batch:<n>');
-- gas budget: 30000 + 3 x 60000 = 210000 fits, a fourth would not
SAVEPOINT gas;
DELETE FROM scheduler_claim WHERE chain_id = 3;
DELETE FROM filed;
-- (0029: the first call after looking files at most 20 batches, the next the rest)
SELECT rwt.eq(pg_temp.file(13, 50, 210000, 1000) + pg_temp.file(14, 50, 210000, 1000), 40::bigint,
	'a 210000 gas budget: 40 batches of three');
SELECT rwt.ok((SELECT bool_and(instances = 3 AND gas = 210000) FROM filed WHERE call IN (13, 14)), 'each within the budget');
ROLLBACK TO SAVEPOINT gas;

-- Comments, privileges ----------------------------------------------------------------------------------

SELECT rwt.ok(obj_description('scheduler_idle'::regclass, 'pg_class') <> '', 'scheduler_idle has a COMMENT');
SELECT rwt.ok(obj_description('rw_scheduler_fingerprint(bigint)'::regprocedure, 'pg_proc') <> '',
	'rw_scheduler_fingerprint has a COMMENT');
SELECT rwt.ok(obj_description('rw_scheduler_file_batches(bigint, integer, bigint, bigint, integer, bigint)'::regprocedure, 'pg_proc')
	LIKE '%scheduler_idle%', 'rw_scheduler_file_batches''s COMMENT says it skips');
SELECT rwt.ok(obj_description('rw_scheduler_file(bigint, integer, bigint, bigint, integer, bigint)'::regprocedure, 'pg_proc')
	LIKE '%gas_hint%', 'rw_scheduler_file''s COMMENT says it sets the hints');
SELECT rwt.ok(col_description('relayer_intent'::regclass, (SELECT attnum FROM pg_attribute
               WHERE attrelid = 'relayer_intent'::regclass AND attname = 'gas_hint')) <> '', 'relayer_intent.gas_hint has a COMMENT');
SELECT rwt.eq((SELECT string_agg(p.proname, ',') FROM pg_proc p
               WHERE p.proname IN ('rw_scheduler_fingerprint', 'rw_scheduler_file', 'rw_scheduler_file_batches')
                 AND has_function_privilege('public', p.oid, 'EXECUTE')), NULL,
	'PUBLIC may call neither');
