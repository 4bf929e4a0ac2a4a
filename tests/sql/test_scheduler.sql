-- test_scheduler: migrations/0022_scheduler.sql: the ABI helpers, instances
-- (create, set-status, stop, the instances view), and the scheduler
-- (scheduler_due, rw_scheduler_file: due charges, claims and keys, refills
-- after a deposit and on the cadence, grace tracking and its end, batches
-- by size and gas, the mirror lag rule), and the read-only role.
--
-- Chain 1, Balance B (0x600), USDC (0x610, 6 decimals), provider R (0x800).
-- Blocks are 12 s apart (testlib), so a day is 7200 blocks and the 3600 s
-- refill cadence is 300 blocks. The mirror's point is moved by hand
-- (pg_temp.at) and the relayer's work is simulated with its own engine
-- functions (pg_temp.exec: assign, mined, settle) plus the events the
-- contract would emit.
--   I1 (K1, rich, 5/day): charged on time.
--   I2 (K2, 2 left after creation): short after day 1, refilled at once
--      after a deposit.
--   I3 (K3, 0 left): short after day 1, refills on the cadence, day 2 fails,
--      a cadence retry is cancelled, the grace end is charged: it ends.
--   I4 (K4, 0 left): day 2 fails, a deposit brings the late charge at once.
-- Chain 2, Balance C (0x601): eight instances due at once, for batches.
CREATE TEMP TABLE k (name text PRIMARY KEY, v bytea);
INSERT INTO k VALUES ('usdc', rwt.addr(1552)), ('b', rwt.addr(1536)), ('c', rwt.addr(1537)),
	('r', rwt.addr(2048)), ('k1', rwt.addr(1793)), ('k2', rwt.addr(1794)), ('k3', rwt.addr(1795)),
	('k4', rwt.addr(1796)), ('k5', rwt.addr(1797)), ('signer', rwt.addr(77)),
	('i1', rwt.h32(4097)), ('i2', rwt.h32(4098)), ('i3', rwt.h32(4099)), ('i4', rwt.h32(4100));
CREATE FUNCTION pg_temp.a(n text) RETURNS bytea LANGUAGE sql STABLE
RETURN (SELECT v FROM k WHERE name = n);
CREATE FUNCTION pg_temp.u(n numeric) RETURNS numeric LANGUAGE sql IMMUTABLE RETURN n * 1000000;
CREATE FUNCTION pg_temp.ev(tbl text, block bigint, log int, args jsonb, chain bigint DEFAULT 1) RETURNS void
LANGUAGE sql RETURN rwt.emit('ev_balance_' || tbl, block, log, block::int, pg_temp.a(CASE chain WHEN 1 THEN 'b' ELSE 'c' END),
	args, chain);
-- The mirror has indexed every block up to n (header n stored, head n).
CREATE FUNCTION pg_temp.at(chain bigint, n bigint) RETURNS void LANGUAGE sql RETURN rwt.mirror_at(chain, n);
-- The relayer executes intent `key` in block n (assign, mined, confirmed at n).
CREATE FUNCTION pg_temp.exec(key text, n bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	i relayer_intent;
	nonce bigint;
	h bytea := sha256(convert_to('tx:' || key, 'UTF8'));
BEGIN
	SELECT * INTO i FROM relayer_intent x WHERE x.key = exec.key;
	PERFORM rw_relayer_sync(i.chain_id, 'test', pg_temp.a('signer'), n, NULL, 0, 0, 10::numeric ^ 18, 'ok');
	SELECT next_nonce INTO nonce FROM relayer_signer WHERE chain_id = i.chain_id AND address = pg_temp.a('signer');
	PERFORM rw_relayer_assign(i.chain_id, pg_temp.a('signer'), i.id, nonce, 1000, 2::smallint, NULL, 100, 10,
		100000, '\xaa'::bytea || h, h);
	PERFORM rw_relayer_mined(h, n, rwt.block(i.chain_id, n), 1::smallint, 50000, 100);
	PERFORM rw_relayer_settle(i.chain_id, pg_temp.a('signer'), n, 0, NULL);
END
$$;
-- The intent of the batch a claim is in.
CREATE FUNCTION pg_temp.batch_of(claim text) RETURNS text LANGUAGE sql STABLE
RETURN (SELECT i.key FROM scheduler_claim c JOIN relayer_intent i ON i.id = c.intent_id WHERE c.key = claim);
CREATE FUNCTION pg_temp.key(action text, inst text, period int, attempt int DEFAULT 1) RETURNS text
LANGUAGE sql STABLE
RETURN action || ':1:' || rw_hex(pg_temp.a(inst)) || ':' || period || CASE WHEN attempt > 1 THEN ':' || attempt ELSE '' END;
-- What a call files, kept for the checks.
CREATE TEMP TABLE filed (call int, key text, action text, instances int, reasons text, gas bigint, intent_id bigint,
	claims text[]);
CREATE FUNCTION pg_temp.file(call int, chain bigint DEFAULT 1, size int DEFAULT 50, gas bigint DEFAULT 3000000,
	maxb int DEFAULT 20, lag bigint DEFAULT 32) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	INSERT INTO filed SELECT call, f.key, f.action, f.instances, f.reasons, f.gas, f.intent_id, f.claims
	FROM rw_scheduler_file(chain, size, gas, 3600, maxb, lag) f;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;
CREATE FUNCTION pg_temp.claims(call int) RETURNS text LANGUAGE sql STABLE
RETURN (SELECT string_agg(c, ' ' ORDER BY c) FROM filed f, unnest(f.claims) c WHERE f.call = claims.call);

-- ABI helpers --------------------------------------------------------------------------------

SELECT rwt.eq(rw_hex(rw_abi_uint(0)), '0x' || repeat('0', 64), 'rw_abi_uint: 0');
SELECT rwt.eq(rw_hex(rw_abi_uint(2::numeric ^ 256 - 1)), '0x' || repeat('f', 64), 'rw_abi_uint: 2^256-1, exactly');
SELECT rwt.eq(rw_hex(rw_abi_uint(5000000)), '0x' || repeat('0', 58) || '4c4b40', 'rw_abi_uint: 5000000');
SELECT rwt.throws($$SELECT rw_abi_uint(2::numeric ^ 256)$$, '22023', 'rw_abi_uint: 2^256 is refused');
SELECT rwt.throws($$SELECT rw_abi_uint(-1)$$, '22023', 'rw_abi_uint: a negative number is refused');
SELECT rwt.throws($$SELECT rw_abi_uint(1.5)$$, '22023', 'rw_abi_uint: a fraction is refused');
SELECT rwt.throws($$SELECT rw_abi_address('\x01'::bytea)$$, '22023', 'rw_abi_address: 20 bytes only');
SELECT rwt.throws($$SELECT rw_abi_bytes32_array(ARRAY['\x01'::bytea])$$, '22023',
	'rw_abi_bytes32_array: 32-byte elements only');
-- expected values from ethers' Interface.encodeFunctionData
SELECT rwt.eq(rw_hex('\xd66062ee'::bytea || rw_abi_bytes32_array(ARRAY[rwt.h32(4097), rwt.h32(4098)])),
	'0xd66062ee0000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000000200000000000000000000000000000000000000000000000000000000000010010000000000000000000000000000000000000000000000000000000000001002',
	'charge(bytes32[]) calldata matches ethers');
SELECT rwt.eq(rw_hex('\xd66062ee'::bytea || rw_abi_bytes32_array('{}')),
	'0xd66062ee00000000000000000000000000000000000000000000000000000000000000200000000000000000000000000000000000000000000000000000000000000000',
	'charge([]) calldata matches ethers');

-- The scenario's chain, contracts and accounts ------------------------------------------------

DO $$
BEGIN
	PERFORM rwt.block(1, 0);
	PERFORM rwt.block(2, 0);
	INSERT INTO token (chain_id, address, symbol, decimals) VALUES (1, pg_temp.a('usdc'), 'USDC', 6),
		(2, pg_temp.a('usdc'), 'USDC', 6);
	INSERT INTO indexer_source (chain_id, address, kind, start_block, config_name)
	VALUES (1, pg_temp.a('b'), 'Balance', 1, 'b'), (2, pg_temp.a('c'), 'Balance', 1, 'c');
	INSERT INTO balance_info (chain_id, address, token, min_deposit, max_balance, grace_period)
	VALUES (1, pg_temp.a('b'), pg_temp.a('usdc'), pg_temp.u(10), pg_temp.u(5000), 86400),
	       (2, pg_temp.a('c'), pg_temp.a('usdc'), pg_temp.u(10), pg_temp.u(5000), 86400);
	PERFORM pg_temp.ev('deposited', 10, 0, jsonb_build_object('account', pg_temp.a('k1'), 'payer', pg_temp.a('k1'),
		'amount', pg_temp.u(100), 'tax', 0, 'ref', rwt.h32(1), 'balance_after', pg_temp.u(100)));
	PERFORM pg_temp.ev('deposited', 10, 1, jsonb_build_object('account', pg_temp.a('k2'), 'payer', pg_temp.a('k2'),
		'amount', pg_temp.u(12), 'tax', 0, 'ref', rwt.h32(2), 'balance_after', pg_temp.u(12)));
	PERFORM pg_temp.ev('deposited', 10, 2, jsonb_build_object('account', pg_temp.a('k3'), 'payer', pg_temp.a('k3'),
		'amount', pg_temp.u(10), 'tax', 0, 'ref', rwt.h32(3), 'balance_after', pg_temp.u(10)));
	PERFORM pg_temp.ev('deposited', 10, 3, jsonb_build_object('account', pg_temp.a('k4'), 'payer', pg_temp.a('k4'),
		'amount', pg_temp.u(10), 'tax', 0, 'ref', rwt.h32(4), 'balance_after', pg_temp.u(10)));
	PERFORM pg_temp.at(1, 10);
END
$$;

-- Instances: create, set-status, stop ----------------------------------------------------------

SELECT rwt.throws($$SELECT rw_instance_create(1, rwt.addr(9999), pg_temp.a('k1'), pg_temp.a('r'), 5000000, 'req-x')$$,
	'RW203', 'rw_instance_create: an unknown Balance contract: RW203');
SELECT rwt.throws($$SELECT rw_instance_create(1, pg_temp.a('b'), pg_temp.a('k5'), pg_temp.a('r'), 5000000, 'req-x')$$,
	'RW204', 'rw_instance_create: an account without two days of balance: RW204');
SELECT rwt.throws($$SELECT rw_instance_create(1, pg_temp.a('b'), pg_temp.a('k1'), pg_temp.a('r'), 0, 'req-x')$$,
	'22023', 'rw_instance_create: price 0: 22023');
SELECT rwt.throws($$SELECT rw_instance_create(1, pg_temp.a('b'), pg_temp.a('k1'), pg_temp.a('r'), 2::numeric ^ 255, 'req-x')$$,
	'22023', 'rw_instance_create: a price whose two days overflow: 22023');
SELECT rwt.throws($$SELECT rw_instance_create(1, pg_temp.a('b'), pg_temp.a('k1'), pg_temp.a('r'), 5000000, 'has space')$$,
	'22023', 'rw_instance_create: a request id with a space: 22023');
SELECT rwt.throws($$SELECT rw_instance_create(1, pg_temp.a('b'), pg_temp.a('k1'), '\x00'::bytea, 5000000, 'req-x')$$,
	'22023', 'rw_instance_create: a provider that is not 20 bytes: 22023');
SELECT rwt.throws($$SELECT rw_instance_create(1, pg_temp.a('b'), pg_temp.a('k1'), rwt.addr(0), 5000000, 'req-x')$$,
	'22023', 'rw_instance_create: the zero provider: 22023');
SELECT rwt.throws($$SELECT rw_instance_create(1, pg_temp.a('b'), pg_temp.a('k1'), pg_temp.a('r'), 5000000, 'req-x',
	rwt.h32(0))$$, '22023', 'rw_instance_create: instance id 0: 22023');

CREATE TEMP TABLE req AS SELECT * FROM rw_instance_create(1, pg_temp.a('b'), pg_temp.a('k1'), pg_temp.a('r'),
	pg_temp.u(5), 'req-1', pg_temp.a('i1'));
SELECT rwt.eq((SELECT i.key || ' ' || i.state || ' ' || rw_hex(i.target) || ' ' || rw_hex(i.calldata)
               FROM relayer_intent i JOIN req r ON r.intent_id = i.id),
	'instance-create:req-1 queued ' || rw_hex(pg_temp.a('b'))
	|| ' 0x2394e52600000000000000000000000000000000000000000000000000000000000010010000000000000000000000000000000000000000000000000000000000000701000000000000000000000000000000000000000000000000000000000000080000000000000000000000000000000000000000000000000000000000004c4b40',
	'rw_instance_create: files instance-create:<request> calling createInstance (calldata as ethers encodes it)');
SELECT rwt.eq((SELECT (rw_instance_create(1, pg_temp.a('b'), pg_temp.a('k1'), pg_temp.a('r'), pg_temp.u(5), 'req-1',
	pg_temp.a('i1'))).intent_id = (SELECT intent_id FROM req)), true, 'rw_instance_create: the same request again is the same');
SELECT rwt.throws($$SELECT rw_instance_create(1, pg_temp.a('b'), pg_temp.a('k1'), pg_temp.a('r'), 6000000, 'req-1',
	pg_temp.a('i1'))$$, 'RW201', 'rw_instance_create: the request id with another price: RW201');
SELECT rwt.throws($$SELECT rw_instance_create(1, pg_temp.a('b'), pg_temp.a('k1'), pg_temp.a('r'), 5000000, 'req-2',
	pg_temp.a('i1'))$$, 'RW202', 'rw_instance_create: the instance id under another request: RW202');
SELECT rwt.eq((SELECT rw_hex(instance_id) FROM rw_instance_create(1, pg_temp.a('b'), pg_temp.a('k1'), pg_temp.a('r'),
	pg_temp.u(5), 'req-derived')),
	rw_hex(sha256(convert_to('runway-instance-v1|1|' || rw_hex(pg_temp.a('b')) || '|req-derived', 'UTF8'))),
	'rw_instance_create: without an id, the id is derived from the request');
SELECT rwt.ok((SELECT request_id ~ '^[0-9a-f-]{36}$' FROM rw_instance_create(1, pg_temp.a('b'), pg_temp.a('k1'),
	pg_temp.a('r'), pg_temp.u(5))), 'rw_instance_create: without a request id, a random UUID');

SELECT rwt.eq((SELECT status || ' ' || on_chain || ' ' || price_per_day_units || ' ' || create_state || ' ' || request_id
               FROM instances WHERE instance_id = rw_hex(pg_temp.a('i1'))),
	'New false 5.000000 queued req-1', 'instances: a recorded instance is New');
SELECT rwt.eq((SELECT status FROM rw_instance_set_status(pg_temp.a('i1'), 'Launching')), 'Launching',
	'rw_instance_set_status: New to Launching');
SELECT rwt.eq((SELECT status || ' ' || requested_status FROM instances WHERE instance_id = rw_hex(pg_temp.a('i1'))),
	'Launching Launching', 'instances: Launching shows');
SELECT rwt.throws($$SELECT rw_instance_set_status(pg_temp.a('i1'), 'Active')$$, '22023',
	'rw_instance_set_status: Active is not set by hand: 22023');
SELECT rwt.throws($$SELECT rw_instance_set_status(rwt.h32(5555), 'New')$$, 'P0002',
	'rw_instance_set_status: an unknown instance: P0002');
SELECT rwt.throws($$SELECT rw_instance_set_status(pg_temp.a('i1'), 'New', 2)$$, 'P0002',
	'rw_instance_set_status: the instance on another chain: P0002');
SELECT rwt.throws($$SELECT rw_instance_stop(pg_temp.a('i1'))$$, 'RW206',
	'rw_instance_stop: not on chain yet: RW206');

DO $$
BEGIN
	PERFORM pg_temp.ev('instance_created', 20, 0, jsonb_build_object('instance_id', pg_temp.a('i1'),
		'account', pg_temp.a('k1'), 'provider', pg_temp.a('r'), 'price_per_day', pg_temp.u(5), 'paid', pg_temp.u(5),
		'reserve', pg_temp.u(5), 'paid_until', rwt.block_time(20) + 86400, 'balance_after', pg_temp.u(90)));
	PERFORM pg_temp.ev('instance_created', 20, 1, jsonb_build_object('instance_id', pg_temp.a('i2'),
		'account', pg_temp.a('k2'), 'provider', pg_temp.a('r'), 'price_per_day', pg_temp.u(5), 'paid', pg_temp.u(5),
		'reserve', pg_temp.u(5), 'paid_until', rwt.block_time(20) + 86400, 'balance_after', pg_temp.u(2)));
	PERFORM pg_temp.ev('instance_created', 20, 2, jsonb_build_object('instance_id', pg_temp.a('i3'),
		'account', pg_temp.a('k3'), 'provider', pg_temp.a('r'), 'price_per_day', pg_temp.u(5), 'paid', pg_temp.u(5),
		'reserve', pg_temp.u(5), 'paid_until', rwt.block_time(20) + 86400, 'balance_after', 0));
	PERFORM pg_temp.ev('instance_created', 20, 3, jsonb_build_object('instance_id', pg_temp.a('i4'),
		'account', pg_temp.a('k4'), 'provider', pg_temp.a('r'), 'price_per_day', pg_temp.u(5), 'paid', pg_temp.u(5),
		'reserve', pg_temp.u(5), 'paid_until', rwt.block_time(20) + 86400, 'balance_after', 0));
	PERFORM pg_temp.at(1, 20);
END
$$;
SELECT rwt.eq((SELECT status || ' ' || on_chain || ' ' || requested_status || ' ' || reserve_units
               FROM instances WHERE instance_id = rw_hex(pg_temp.a('i1'))),
	'Active true Launching 5.000000', 'instances: on chain, the status follows the chain');
SELECT rwt.throws($$SELECT rw_instance_set_status(pg_temp.a('i1'), 'New')$$, 'RW205',
	'rw_instance_set_status: on chain: RW205');
SELECT rwt.eq((SELECT status || ' ' || on_chain || ' ' || coalesce(request_id, '-')
               FROM instances WHERE instance_id = rw_hex(pg_temp.a('i2'))),
	'Active true -', 'instances: an instance created elsewhere shows too');
SELECT rwt.throws($$SELECT rw_instance_create(1, pg_temp.a('b'), pg_temp.a('k1'), pg_temp.a('r'), 5000000, 'req-3',
	pg_temp.a('i2'))$$, 'RW202', 'rw_instance_create: an id the mirror has on chain: RW202');

-- Scheduler: not before due, then exactly one claim -------------------------------------------------

SELECT rwt.eq(pg_temp.file(1), 0::bigint, 'nothing is due right after creation');
SELECT pg_temp.at(1, 20 + 7199);
SELECT rwt.eq(pg_temp.file(2), 0::bigint, 'one block before the period ends: nothing');
SELECT rwt.eq((SELECT now FROM scheduler_mirror WHERE chain_id = 1), rwt.block_time(7219),
	'scheduler_mirror: now is the time of the last indexed block');
SELECT pg_temp.at(1, 20 + 7200);
SELECT rwt.eq(pg_temp.file(3), 1::bigint, 'when the period ends: one batch');
SELECT rwt.eq((SELECT action || ' ' || instances || ' ' || reasons || ' ' || gas FROM filed WHERE call = 3),
	'charge 4 due 4 270000', 'the batch: four charges, reason due, 30000 + 4 x 60000 gas');
SELECT rwt.eq(pg_temp.claims(3), (SELECT string_agg(pg_temp.key('charge', n, 1), ' ' ORDER BY pg_temp.key('charge', n, 1))
                                  FROM unnest(ARRAY['i1', 'i2', 'i3', 'i4']) n),
	'one claim per instance: charge:<chain>:<instance>:1');
SELECT rwt.eq((SELECT rw_hex(i.calldata) FROM relayer_intent i WHERE i.key = (SELECT key FROM filed WHERE call = 3)),
	rw_hex('\xd66062ee'::bytea || rw_abi_bytes32_array((SELECT array_agg(v ORDER BY v) FROM k
		WHERE name IN ('i1', 'i2', 'i3', 'i4')))),
	'the batch intent calls charge(ids) on the contract');
SELECT rwt.ok((SELECT key ~ '^charge:1:batch:[0-9]+$' AND i.target = pg_temp.a('b') AND i.signer IS NULL
               FROM filed f JOIN relayer_intent i USING (key) WHERE call = 3),
	'the batch intent: key charge:1:batch:<n>, target the contract, signer the chain''s relayer');
SELECT rwt.eq(pg_temp.file(4), 0::bigint, 'filed again at once: nothing (the claims are open)');
SELECT pg_temp.exec((SELECT key FROM filed WHERE call = 3), 7222);
SELECT pg_temp.at(1, 7221);
SELECT rwt.eq(pg_temp.file(5), 0::bigint, 'confirmed but the mirror has not seen its block: nothing');
SELECT rwt.eq((SELECT count(*) FILTER (WHERE NOT settled) FROM scheduler_claims), 4::bigint,
	'scheduler_claims: unsettled while the mirror is behind the receipt');

-- What charge() did in block 7222: I1 paid and refilled; I2 paid, refill
-- failed (2 left); I3 and I4 paid, nothing to refill from.
DO $$
DECLARE
	pu numeric := rwt.block_time(20) + 2 * 86400;
BEGIN
	PERFORM pg_temp.ev('charged', 7222, 0, jsonb_build_object('instance_id', pg_temp.a('i1'), 'account', pg_temp.a('k1'),
		'provider', pg_temp.a('r'), 'period', 1, 'amount', pg_temp.u(5), 'reserve_after', 0, 'paid_until', pu));
	PERFORM pg_temp.ev('reserve_refilled', 7222, 1, jsonb_build_object('instance_id', pg_temp.a('i1'),
		'account', pg_temp.a('k1'), 'amount', pg_temp.u(5), 'reserve_after', pg_temp.u(5), 'balance_after', pg_temp.u(85)));
	PERFORM pg_temp.ev('charged', 7222, 2, jsonb_build_object('instance_id', pg_temp.a('i2'), 'account', pg_temp.a('k2'),
		'provider', pg_temp.a('r'), 'period', 1, 'amount', pg_temp.u(5), 'reserve_after', 0, 'paid_until', pu));
	PERFORM pg_temp.ev('small_balance', 7222, 3, jsonb_build_object('instance_id', pg_temp.a('i2'),
		'account', pg_temp.a('k2'), 'reserve', 0, 'balance_after', pg_temp.u(2)));
	PERFORM pg_temp.ev('charged', 7222, 4, jsonb_build_object('instance_id', pg_temp.a('i3'), 'account', pg_temp.a('k3'),
		'provider', pg_temp.a('r'), 'period', 1, 'amount', pg_temp.u(5), 'reserve_after', 0, 'paid_until', pu));
	PERFORM pg_temp.ev('small_balance', 7222, 5, jsonb_build_object('instance_id', pg_temp.a('i3'),
		'account', pg_temp.a('k3'), 'reserve', 0, 'balance_after', 0));
	PERFORM pg_temp.ev('charged', 7222, 6, jsonb_build_object('instance_id', pg_temp.a('i4'), 'account', pg_temp.a('k4'),
		'provider', pg_temp.a('r'), 'period', 1, 'amount', pg_temp.u(5), 'reserve_after', 0, 'paid_until', pu));
	PERFORM pg_temp.ev('small_balance', 7222, 7, jsonb_build_object('instance_id', pg_temp.a('i4'),
		'account', pg_temp.a('k4'), 'reserve', 0, 'balance_after', 0));
	PERFORM pg_temp.at(1, 7222);
END
$$;
SELECT rwt.eq(pg_temp.file(6), 0::bigint, 'the charge seen by the mirror: nothing due, no money for refills yet');
SELECT rwt.eq((SELECT string_agg(status, ' ' ORDER BY instance_id) FROM instances WHERE on_chain),
	'Active SmallBalance SmallBalance SmallBalance', 'instances: the statuses after day 1');

-- Refills: at once after a deposit, else on the cadence -------------------------------------------

SELECT pg_temp.ev('deposited', 7230, 0, jsonb_build_object('account', pg_temp.a('k2'), 'payer', pg_temp.a('k2'),
	'amount', pg_temp.u(10), 'tax', 0, 'ref', rwt.h32(5), 'balance_after', pg_temp.u(12)));
SELECT pg_temp.at(1, 7230);
SELECT rwt.eq(pg_temp.file(7), 1::bigint, 'a deposit for an account with a SmallBalance instance: a refill at once');
SELECT rwt.eq((SELECT action || ' ' || reasons || ' ' || gas FROM filed WHERE call = 7), 'refill deposit 1 70000',
	'the refill batch: reason deposit, 30000 + 40000 gas');
SELECT rwt.eq(pg_temp.claims(7), pg_temp.key('refill', 'i2', 1), 'its claim: refill:<chain>:<instance>:<last paid period>');
SELECT rwt.eq((SELECT gas_hint FROM relayer_intent WHERE key = (SELECT key FROM filed WHERE call = 7)), NULL::bigint,
	'0026: a refill batch has no gas_hint (the relayer estimates it)');
SELECT rwt.eq((SELECT rw_hex(calldata) FROM relayer_intent WHERE key = (SELECT key FROM filed WHERE call = 7)),
	rw_hex('\x8092abd8'::bytea || rw_abi_bytes32_array(ARRAY[pg_temp.a('i2')])), 'it calls refill([id])');
SELECT pg_temp.exec((SELECT key FROM filed WHERE call = 7), 7231);
SELECT pg_temp.ev('reserve_refilled', 7231, 0, jsonb_build_object('instance_id', pg_temp.a('i2'),
	'account', pg_temp.a('k2'), 'amount', pg_temp.u(5), 'reserve_after', pg_temp.u(5), 'balance_after', pg_temp.u(7)));
SELECT pg_temp.at(1, 7231);
SELECT rwt.eq((SELECT status FROM instances WHERE instance_id = rw_hex(pg_temp.a('i2'))), 'Active',
	'instances: refilled, Active again');
SELECT pg_temp.at(1, 7222 + 299);
SELECT rwt.eq(pg_temp.file(8), 0::bigint, 'the cadence: not before refill_every (3600 s) since the SmallBalance');
SELECT pg_temp.at(1, 7222 + 300);
SELECT rwt.eq(pg_temp.file(9), 1::bigint, 'the cadence: after 3600 s, one refill batch');
SELECT rwt.eq((SELECT reasons || ' | ' || pg_temp.claims(9) FROM filed WHERE call = 9),
	'cadence 2 | ' || pg_temp.key('refill', 'i3', 1) || ' ' || pg_temp.key('refill', 'i4', 1),
	'I3 and I4 (no money) are retried on the cadence');
SELECT pg_temp.exec((SELECT key FROM filed WHERE call = 9), 7523);
SELECT pg_temp.at(1, 7523);
SELECT rwt.eq(pg_temp.file(10), 0::bigint, 'the refill changed nothing: the next try waits for the cadence');
SELECT pg_temp.at(1, 7522 + 300);
SELECT rwt.eq(pg_temp.file(11), 1::bigint, 'the cadence again, counted from the last claim');
SELECT rwt.eq(pg_temp.claims(11), pg_temp.key('refill', 'i3', 1, 2) || ' ' || pg_temp.key('refill', 'i4', 1, 2),
	'second attempts: refill:<chain>:<instance>:1:2');
SELECT rwt.eq((rw_intent_cancel((SELECT key FROM filed WHERE call = 11))).state, 'cancelled',
	'an operator cancels the second refill batch');

-- Day 2: I3 and I4 cannot pay; grace ----------------------------------------------------------------

SELECT pg_temp.at(1, 20 + 14400);
SELECT rwt.eq(pg_temp.file(12), 1::bigint, 'day 2: one charge batch');
SELECT rwt.eq(pg_temp.claims(12), pg_temp.key('charge', 'i1', 2) || ' ' || pg_temp.key('charge', 'i2', 2) || ' '
	|| pg_temp.key('charge', 'i3', 2) || ' ' || pg_temp.key('charge', 'i4', 2), 'period 2 of each live instance');
SELECT pg_temp.exec((SELECT key FROM filed WHERE call = 12), 14421);
DO $$
DECLARE
	pu numeric := rwt.block_time(20) + 3 * 86400;
	gu numeric := rwt.block_time(14421) + 86400;
BEGIN
	PERFORM pg_temp.ev('charged', 14421, 0, jsonb_build_object('instance_id', pg_temp.a('i1'), 'account', pg_temp.a('k1'),
		'provider', pg_temp.a('r'), 'period', 2, 'amount', pg_temp.u(5), 'reserve_after', 0, 'paid_until', pu));
	PERFORM pg_temp.ev('reserve_refilled', 14421, 1, jsonb_build_object('instance_id', pg_temp.a('i1'),
		'account', pg_temp.a('k1'), 'amount', pg_temp.u(5), 'reserve_after', pg_temp.u(5), 'balance_after', pg_temp.u(80)));
	PERFORM pg_temp.ev('charged', 14421, 2, jsonb_build_object('instance_id', pg_temp.a('i2'), 'account', pg_temp.a('k2'),
		'provider', pg_temp.a('r'), 'period', 2, 'amount', pg_temp.u(5), 'reserve_after', 0, 'paid_until', pu));
	PERFORM pg_temp.ev('reserve_refilled', 14421, 3, jsonb_build_object('instance_id', pg_temp.a('i2'),
		'account', pg_temp.a('k2'), 'amount', pg_temp.u(5), 'reserve_after', pg_temp.u(5), 'balance_after', pg_temp.u(2)));
	PERFORM pg_temp.ev('charge_failed', 14421, 4, jsonb_build_object('instance_id', pg_temp.a('i3'),
		'account', pg_temp.a('k3'), 'period', 2, 'reserve', 0, 'grace_until', gu));
	PERFORM pg_temp.ev('charge_failed', 14421, 5, jsonb_build_object('instance_id', pg_temp.a('i4'),
		'account', pg_temp.a('k4'), 'period', 2, 'reserve', 0, 'grace_until', gu));
	PERFORM pg_temp.at(1, 14421);
END
$$;
SELECT rwt.eq(pg_temp.file(13), 0::bigint, 'after the failed charge: nothing at once (grace runs)');
SELECT rwt.eq((SELECT grace_until FROM instances WHERE instance_id = rw_hex(pg_temp.a('i3'))),
	rwt.block_time(14421) + 86400::numeric, 'instances: the grace end is tracked');
SELECT pg_temp.ev('credited', 14430, 0, jsonb_build_object('account', pg_temp.a('k4'), 'operator', pg_temp.a('r'),
	'amount', pg_temp.u(10), 'ref', rwt.h32(6), 'balance_after', pg_temp.u(10)));
SELECT pg_temp.at(1, 14430);
SELECT rwt.eq(pg_temp.file(14), 1::bigint, 'money for I4 during its grace: the late charge at once');
SELECT rwt.eq((SELECT action || ' ' || reasons || ' | ' || pg_temp.claims(14) FROM filed WHERE call = 14),
	'charge deposit 1 | ' || pg_temp.key('charge', 'i4', 2, 2), 'a second attempt at period 2: charge:<chain>:<I4>:2:2');
SELECT pg_temp.exec((SELECT key FROM filed WHERE call = 14), 14431);
DO $$
BEGIN
	PERFORM pg_temp.ev('reserve_refilled', 14431, 0, jsonb_build_object('instance_id', pg_temp.a('i4'),
		'account', pg_temp.a('k4'), 'amount', pg_temp.u(5), 'reserve_after', pg_temp.u(5), 'balance_after', pg_temp.u(5)));
	PERFORM pg_temp.ev('charged', 14431, 1, jsonb_build_object('instance_id', pg_temp.a('i4'), 'account', pg_temp.a('k4'),
		'provider', pg_temp.a('r'), 'period', 2, 'amount', pg_temp.u(5), 'reserve_after', 0,
		'paid_until', rwt.block_time(20) + 3 * 86400));
	PERFORM pg_temp.ev('reserve_refilled', 14431, 2, jsonb_build_object('instance_id', pg_temp.a('i4'),
		'account', pg_temp.a('k4'), 'amount', pg_temp.u(5), 'reserve_after', pg_temp.u(5), 'balance_after', 0));
	PERFORM pg_temp.at(1, 14431);
END
$$;
SELECT rwt.eq((SELECT status || ' ' || grace_until FROM instances WHERE instance_id = rw_hex(pg_temp.a('i4'))),
	'Active 0', 'I4 recovered: Active, no grace pending');
SELECT pg_temp.at(1, 14421 + 300);
SELECT rwt.eq(pg_temp.file(15), 1::bigint, 'I3 in grace, no money: a retry on the cadence');
SELECT rwt.eq((SELECT reasons || ' | ' || pg_temp.claims(15) FROM filed WHERE call = 15),
	'cadence 1 | ' || pg_temp.key('charge', 'i3', 2, 2), 'charge:<chain>:<I3>:2:2, reason cadence');
SELECT rwt.eq((rw_intent_cancel((SELECT key FROM filed WHERE call = 15))).state, 'cancelled',
	'an operator cancels the cadence retry');
SELECT rwt.eq((SELECT settled FROM scheduler_claims WHERE key = pg_temp.key('charge', 'i3', 2, 2)), true,
	'a cancelled intent settles its claims');
SELECT pg_temp.at(1, 14421 + 7199);
SELECT rwt.eq((SELECT count(*) FROM scheduler_due WHERE instance_id = pg_temp.a('i3') AND reason = 'grace_end'), 0::bigint,
	'no grace_end before grace_until');
SELECT pg_temp.at(1, 14421 + 7200);
SELECT rwt.eq(pg_temp.file(16), 1::bigint, 'the grace period ended (and day 3 began): one charge batch');
SELECT rwt.eq((SELECT reasons || ' | ' || pg_temp.claims(16) FROM filed WHERE call = 16),
	'due 3, grace_end 1 | ' || pg_temp.key('charge', 'i1', 3) || ' ' || pg_temp.key('charge', 'i2', 3) || ' '
	|| pg_temp.key('charge', 'i3', 2, 3) || ' ' || pg_temp.key('charge', 'i4', 3),
	'charge:<chain>:<I3>:2:3 (grace_end) beside day 3 of the others');
SELECT pg_temp.exec((SELECT key FROM filed WHERE call = 16), 21622);
DO $$
DECLARE
	pu numeric := rwt.block_time(20) + 4 * 86400;
BEGIN
	PERFORM pg_temp.ev('charged', 21622, 0, jsonb_build_object('instance_id', pg_temp.a('i1'), 'account', pg_temp.a('k1'),
		'provider', pg_temp.a('r'), 'period', 3, 'amount', pg_temp.u(5), 'reserve_after', 0, 'paid_until', pu));
	PERFORM pg_temp.ev('reserve_refilled', 21622, 1, jsonb_build_object('instance_id', pg_temp.a('i1'),
		'account', pg_temp.a('k1'), 'amount', pg_temp.u(5), 'reserve_after', pg_temp.u(5), 'balance_after', pg_temp.u(75)));
	PERFORM pg_temp.ev('charged', 21622, 2, jsonb_build_object('instance_id', pg_temp.a('i2'), 'account', pg_temp.a('k2'),
		'provider', pg_temp.a('r'), 'period', 3, 'amount', pg_temp.u(5), 'reserve_after', 0, 'paid_until', pu));
	PERFORM pg_temp.ev('small_balance', 21622, 3, jsonb_build_object('instance_id', pg_temp.a('i2'),
		'account', pg_temp.a('k2'), 'reserve', 0, 'balance_after', pg_temp.u(2)));
	PERFORM pg_temp.ev('instance_ended', 21622, 4, jsonb_build_object('instance_id', pg_temp.a('i3'),
		'account', pg_temp.a('k3'), 'reason', 5, 'refunded', 0, 'balance_after', 0));
	PERFORM pg_temp.ev('charged', 21622, 5, jsonb_build_object('instance_id', pg_temp.a('i4'), 'account', pg_temp.a('k4'),
		'provider', pg_temp.a('r'), 'period', 3, 'amount', pg_temp.u(5), 'reserve_after', 0, 'paid_until', pu));
	PERFORM pg_temp.ev('small_balance', 21622, 6, jsonb_build_object('instance_id', pg_temp.a('i4'),
		'account', pg_temp.a('k4'), 'reserve', 0, 'balance_after', 0));
	PERFORM pg_temp.at(1, 21622);
END
$$;
SELECT rwt.eq(pg_temp.file(17), 0::bigint, 'day 3 paid, I3 ended: nothing left to file');
SELECT rwt.eq((SELECT status || ' ' || live FROM instances WHERE instance_id = rw_hex(pg_temp.a('i3'))),
	'InsufficientFunds false', 'I3 ended for lack of funds');
SELECT rwt.throws($$SELECT rw_instance_stop(pg_temp.a('i3'))$$, 'RW206', 'rw_instance_stop: an ended instance: RW206');

-- Stop -------------------------------------------------------------------------------------------

SELECT rwt.eq((SELECT key || ' ' || rw_hex(calldata) FROM rw_instance_stop(pg_temp.a('i1'))),
	'instance-stop:1:' || rw_hex(pg_temp.a('i1')) || ' 0xc257a3cf' || substr(rw_hex(pg_temp.a('i1')), 3),
	'rw_instance_stop: files instance-stop:<chain>:<instance> calling stopInstance(id)');
SELECT rwt.eq((SELECT id FROM rw_instance_stop(pg_temp.a('i1'), 1, pg_temp.a('b'))),
	(SELECT id FROM relayer_intent WHERE key = 'instance-stop:1:' || rw_hex(pg_temp.a('i1'))),
	'rw_instance_stop: again, the same intent');
SELECT rwt.eq((SELECT stop_state FROM instances WHERE instance_id = rw_hex(pg_temp.a('i1'))), 'queued',
	'instances: the stop intent shows');

-- Exactly once over the whole story ---------------------------------------------------------------

SELECT rwt.eq((SELECT string_agg(key, ' ' ORDER BY id) FROM scheduler_claim WHERE instance_id = pg_temp.a('i3')),
	pg_temp.key('charge', 'i3', 1) || ' ' || pg_temp.key('refill', 'i3', 1) || ' ' || pg_temp.key('refill', 'i3', 1, 2)
	|| ' ' || pg_temp.key('charge', 'i3', 2) || ' ' || pg_temp.key('charge', 'i3', 2, 2) || ' '
	|| pg_temp.key('charge', 'i3', 2, 3), 'I3''s claims, in order: each key once');
SELECT rwt.eq((SELECT count(*) FROM (SELECT instance_id, period FROM scheduler_claim
                                     WHERE action = 'charge' AND attempt = 1 GROUP BY 1, 2) x), 11::bigint,
	'every period that came due got exactly one first attempt (4 instances x 2 days, 3 on day 3)');
SELECT rwt.eq((SELECT count(*) FROM ev_balance_charged e WHERE e.chain_id = 1 AND NOT EXISTS (
               SELECT 1 FROM scheduler_claim c WHERE c.chain_id = e.chain_id AND c.contract = e.address
               AND c.instance_id = e.instance_id AND c.period = e.period AND c.action = 'charge')), 0::bigint,
	'every Charged period has a charge claim');

-- Batches: size, gas, max batches, lag (chain 2) -----------------------------------------------------------

DO $$
BEGIN
	PERFORM pg_temp.ev('deposited', 5, 0, jsonb_build_object('account', pg_temp.a('k5'), 'payer', pg_temp.a('k5'),
		'amount', pg_temp.u(1000), 'tax', 0, 'ref', rwt.h32(9), 'balance_after', pg_temp.u(1000)), 2);
	FOR n IN 1..8 LOOP
		PERFORM pg_temp.ev('instance_created', 6, n, jsonb_build_object('instance_id', rwt.h32(8000 + n),
			'account', pg_temp.a('k5'), 'provider', pg_temp.a('r'), 'price_per_day', pg_temp.u(1), 'paid', pg_temp.u(1),
			'reserve', pg_temp.u(1), 'paid_until', rwt.block_time(6) + 86400 - 9 + n, 'balance_after', pg_temp.u(1000 - 2 * n)), 2);
	END LOOP;
	PERFORM pg_temp.at(2, 6 + 7200);
END
$$;
SAVEPOINT batches;
SELECT rwt.eq(pg_temp.file(20, 2, 3), 3::bigint, 'batch size 3: eight instances in three batches');
SELECT rwt.eq((SELECT string_agg(instances::text, ',' ORDER BY intent_id) FROM filed WHERE call = 20), '3,3,2',
	'batch size 3: 3 + 3 + 2');
SELECT rwt.ok((SELECT bool_and(f.key ~ '^charge:2:batch:') FROM filed f WHERE call = 20), 'chain 2''s batch keys');
SELECT rwt.eq((SELECT (claims)[1] FROM filed WHERE call = 20 ORDER BY intent_id LIMIT 1),
	'charge:2:' || rw_hex(rwt.h32(8001)) || ':1', 'oldest paid_until first');
ROLLBACK TO SAVEPOINT batches;
SELECT rwt.eq(pg_temp.file(21, 2, 50, 200000), 4::bigint, 'gas budget 200000: batches of two (30000 + 2 x 60000)');
SELECT rwt.ok((SELECT bool_and(gas <= 200000 AND instances = 2) FROM filed WHERE call = 21), 'every batch within the budget');
ROLLBACK TO SAVEPOINT batches;
SELECT rwt.eq(pg_temp.file(22, 2, 2, 3000000, 2), 2::bigint, 'at most max_batches per call');
SELECT rwt.eq(pg_temp.file(23, 2, 2, 3000000, 2), 2::bigint, 'the next call files the rest');
SELECT rwt.eq(pg_temp.file(24, 2, 2, 3000000, 2), 0::bigint, 'then nothing is left');
SELECT rwt.eq((SELECT count(DISTINCT c) FROM filed f, unnest(f.claims) c WHERE call IN (22, 23)), 8::bigint,
	'eight distinct claims over the calls');
ROLLBACK TO SAVEPOINT batches;
SELECT rwt.head(2, 6 + 7200 + 33, 0);
SELECT rwt.eq(pg_temp.file(25, 2), 0::bigint, 'a mirror 33 blocks behind the head (max lag 32): nothing filed');
SELECT rwt.eq((SELECT lag_blocks FROM scheduler_mirror WHERE chain_id = 2), 33::bigint, 'scheduler_mirror: the lag');
SELECT rwt.eq(pg_temp.file(26, 2, 50, 3000000, 20, 40), 1::bigint, 'with max lag 40: filed');
ROLLBACK TO SAVEPOINT batches;
-- a second Balance contract on chain 2 with an instance of the same id
DO $$
BEGIN
	INSERT INTO indexer_source (chain_id, address, kind, start_block, config_name)
	VALUES (2, rwt.addr(1538), 'Balance', 1, 'd');
	INSERT INTO balance_info (chain_id, address, token) VALUES (2, rwt.addr(1538), pg_temp.a('usdc'));
	PERFORM rwt.emit('ev_balance_deposited', 5, 20, 5, rwt.addr(1538), jsonb_build_object('account', pg_temp.a('k5'),
		'payer', pg_temp.a('k5'), 'amount', pg_temp.u(100), 'tax', 0, 'ref', rwt.h32(10),
		'balance_after', pg_temp.u(100)), 2);
	PERFORM rwt.emit('ev_balance_instance_created', 6, 20, 6, rwt.addr(1538), jsonb_build_object(
		'instance_id', rwt.h32(8001), 'account', pg_temp.a('k5'), 'provider', pg_temp.a('r'),
		'price_per_day', pg_temp.u(1), 'paid', pg_temp.u(1), 'reserve', pg_temp.u(1),
		'paid_until', rwt.block_time(6) + 86400, 'balance_after', pg_temp.u(98)), 2);
	PERFORM pg_temp.at(2, 6 + 7200);
END
$$;
SELECT rwt.eq(pg_temp.file(27, 2), 2::bigint, 'two contracts: one batch each');
SELECT rwt.eq((SELECT string_agg(c, ' ' ORDER BY c) FROM filed f, unnest(f.claims) c
               WHERE call = 27 AND c LIKE '%' || substr(rw_hex(rwt.h32(8001)), 3) || '%'),
	'charge:2:' || rw_hex(pg_temp.a('c')) || '/' || rw_hex(rwt.h32(8001)) || ':1 charge:2:' || rw_hex(rwt.addr(1538))
	|| '/' || rw_hex(rwt.h32(8001)) || ':1', 'an id on two contracts: keys name the contract');
SELECT rwt.eq((SELECT count(*) FROM filed f, unnest(f.claims) c WHERE call = 27), 9::bigint,
	'every instance of both contracts filed');
ROLLBACK TO SAVEPOINT batches;
SELECT rwt.eq((SELECT periods || ' ' || gas FROM scheduler_due WHERE instance_id = rwt.h32(8001)), '1 60000',
	'scheduler_due: one period due, 60000 gas');
SELECT pg_temp.at(2, 6 + 5 * 7200);
SELECT rwt.eq((SELECT periods || ' ' || gas FROM scheduler_due WHERE instance_id = rwt.h32(8001)), '5 120000',
	'scheduler_due: four days missed and today: 5 periods, 60000 + 4 x 15000 gas');

-- Arguments, config, comments, privileges ------------------------------------------------------------------

SELECT rwt.throws($$SELECT * FROM rw_scheduler_file(1, 0)$$, '22023', 'rw_scheduler_file: batch size 0: 22023');
SELECT rwt.throws($$SELECT * FROM rw_scheduler_file(1, 50, 99999)$$, '22023', 'rw_scheduler_file: a tiny gas budget: 22023');
SELECT rwt.throws($$SELECT * FROM rw_scheduler_file(1, 50, 3000000, 59)$$, '22023',
	'rw_scheduler_file: a refill cadence under a minute: 22023');
SELECT rwt.throws($$SELECT * FROM rw_scheduler_file(NULL)$$, '22023', 'rw_scheduler_file: no chain: 22023');
SELECT rwt.eq((SELECT batch_size || ' ' || batch_gas || ' ' || refill_every || ' ' || max_batches || ' ' || max_lag
               FROM scheduler_config WHERE chain_id = 1), '50 3000000 3600 20 32',
	'scheduler_config: what the last call ran with');
SELECT rwt.ok(EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'indexer_cursor_notify' AND NOT tgisinternal),
	'the indexer''s cursor notifies rw_indexed_<chain> on commit');
SELECT rwt.eq((SELECT string_agg(v, ',') FROM unnest(ARRAY['instance_request', 'scheduler_config', 'scheduler_claim',
                      'scheduler_mirror', 'scheduler_due', 'scheduler_claims', 'instances']) v
               WHERE coalesce(obj_description(v::regclass, 'pg_class'), '') = ''), NULL,
	'every table and view of 0022 has a COMMENT');
SELECT rwt.eq((SELECT string_agg(p.proname, ',') FROM pg_proc p
               WHERE p.pronamespace = 'public'::regnamespace
                 AND (p.proname LIKE 'rw_instance%' OR p.proname LIKE 'rw_scheduler%' OR p.proname LIKE 'rw_abi%'
                      OR p.proname = 'rw_indexer_cursor_notify')
                 AND coalesce(obj_description(p.oid, 'pg_proc'), '') = ''), NULL,
	'every function of 0022 has a COMMENT');
SELECT rwt.eq((SELECT string_agg(p.proname, ',' ORDER BY p.proname) FROM pg_proc p
               WHERE p.pronamespace = 'public'::regnamespace
                 AND p.proname IN ('rw_instance_create', 'rw_instance_set_status', 'rw_instance_stop',
                                   'rw_scheduler_file', 'rw_scheduler_batch')
                 AND has_function_privilege('public', p.oid, 'EXECUTE')), NULL,
	'PUBLIC may call none of the writing functions');
GRANT USAGE ON SCHEMA rwt TO runway_reader;
SET LOCAL ROLE runway_reader;
SELECT rwt.ok((SELECT count(*) FROM instances) >= 6 AND (SELECT count(*) FROM relayer_health) = 1,
	'runway_reader reads instances and relayer_health');
SELECT rwt.throws($$SELECT * FROM scheduler_claim$$, '42501', 'runway_reader cannot read the claims table');
SELECT rwt.throws($$SELECT * FROM rw_scheduler_file(1)$$, '42501', 'runway_reader cannot call rw_scheduler_file');
SELECT rwt.throws($$SELECT rw_instance_set_status('\x01'::bytea, 'New')$$, '42501',
	'runway_reader cannot call rw_instance_set_status');
RESET ROLE;
