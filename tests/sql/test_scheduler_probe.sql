-- test_scheduler_probe: migrations/0033_scheduler_probe.sql: a call that
-- looks at scheduler_due evaluates at most 20 batches' worth of rows plus
-- one (at least 1,001); a burst that fills the probe is filed 20 batches a
-- call, each call leaving an empty scheduler_backlog row (call again), and
-- every due instance is claimed once, in filing order within each call.
--
-- Chain 6, Balance B (0xa20), USDC (0xa30); account K (0xb21, rich); 1,500
-- instances of 1 USDC a day created in block 6 (two by two with the same
-- period end), all due at block 7306.
CREATE FUNCTION pg_temp.b() RETURNS bytea LANGUAGE sql IMMUTABLE RETURN rwt.addr(2592);
CREATE TEMP TABLE filed (call int, no int, key text, instances int, claims text[]);
-- One call as runwayd makes it (batches of at most 50, 100 a call); the
-- number of batches it filed.
CREATE FUNCTION pg_temp.file(call int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	INSERT INTO filed SELECT call, row_number() OVER (), f.key, f.instances, f.claims
	FROM rw_scheduler_file(6, 50, 3000000, 3600, 100, 32) f;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;
CREATE FUNCTION pg_temp.instances(call int) RETURNS bigint LANGUAGE sql STABLE
RETURN (SELECT coalesce(sum(instances), 0) FROM filed f WHERE f.call = instances.call);
-- The backlog's rows (NULL: no backlog row).
CREATE FUNCTION pg_temp.backlog() RETURNS int LANGUAGE sql STABLE
RETURN (SELECT cardinality(todo) FROM scheduler_backlog WHERE chain_id = 6);
-- Whether the claims of a call are in filing order (paid_until, then id).
CREATE FUNCTION pg_temp.in_order(call int) RETURNS boolean LANGUAGE sql STABLE
RETURN (SELECT bool_and(ok) FROM (
	SELECT (i.paid_until, c.instance_id) >= lag((i.paid_until, c.instance_id)) OVER (ORDER BY f.no, k.o)
	       IS NOT FALSE AS ok
	FROM filed f, unnest(f.claims) WITH ORDINALITY k (claim, o)
	JOIN scheduler_claim c ON c.key = k.claim
	JOIN balance_instance_state i ON i.chain_id = c.chain_id AND i.contract = c.contract
	                             AND i.instance_id = c.instance_id
	WHERE f.call = in_order.call) s);

DO $$
BEGIN
	PERFORM rwt.balance_instances(6, pg_temp.b(), rwt.addr(2608), rwt.addr(2849), 'probe', 1500, 90000, 2);
	PERFORM rwt.mirror_at(6, 7306);
END
$$;

SELECT rwt.eq((SELECT count(*) FROM scheduler_due WHERE chain_id = 6), 1500::bigint, '1,500 instances due');

-- A burst: a probe's worth a call ------------------------------------------------------------------------

SELECT rwt.eq(pg_temp.file(1), 20::bigint, 'the first call: 20 batches');
SELECT rwt.eq(pg_temp.instances(1), 980::bigint, 'of 49 instances (the gas budget), 980 in all');
SELECT rwt.eq(pg_temp.backlog(), 0, 'it looked at part of the burst: an empty backlog, call again');
SELECT rwt.ok(pg_temp.in_order(1), 'its claims are in filing order');
SELECT rwt.eq(pg_temp.file(2), 11::bigint, 'the next call looks again: the other 520, in 11 batches');
SELECT rwt.eq(pg_temp.instances(2), 520::bigint, '520 instances');
SELECT rwt.ok(pg_temp.in_order(2), 'in filing order');
SELECT rwt.ok(NOT EXISTS (SELECT 1 FROM scheduler_backlog WHERE chain_id = 6),
	'it looked at every due row and filed them all: no backlog');
SELECT rwt.eq(pg_temp.file(3), 0::bigint, 'then nothing: every due instance has an open claim');
SELECT rwt.eq((SELECT count(*) || ' ' || count(DISTINCT instance_id) FROM scheduler_claim WHERE chain_id = 6),
	'1500 1500', 'every instance claimed once');
SELECT rwt.ok((SELECT bool_and(f.instances = cardinality(f.claims)) FROM filed f), 'each batch lists its claims');

-- The batches are the ones a whole look would have made, per call ------------------------------------------

SELECT rwt.ok((SELECT bool_and(instances = 49) FROM filed WHERE call = 1 OR (call = 2 AND no < 11)),
	'every batch full but the last');
SELECT rwt.eq((SELECT instances FROM filed WHERE call = 2 AND no = 11), 30, 'the last holds the 30 left');
