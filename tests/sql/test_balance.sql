-- test_balance: the Balance contract views on a scenario that mirrors the
-- contract (abi/README.md): deposit -> createInstance -> charges with
-- refills -> small balance -> charge failure -> credit and deposit -> refill
-- and late charge -> refund -> stop with the reserve returned; and a second
-- account whose instance ends as InsufficientFunds.
--
-- Chain 1; Balance B (0x600) on USDC (0x610, 6 decimals); account K (0x700),
-- payer (0x701), operator O (0x702), treasury (0x703), account K2 (0x704),
-- provider R (0x800); price 5 USDC per day. Instance I1 (K), I2 (K2).
CREATE TEMP TABLE k (name text PRIMARY KEY, v bytea);
INSERT INTO k VALUES
	('b', rwt.addr(1536)), ('usdc', rwt.addr(1552)), ('k', rwt.addr(1792)), ('payer', rwt.addr(1793)),
	('op', rwt.addr(1794)), ('treasury', rwt.addr(1795)), ('k2', rwt.addr(1796)),
	('r', rwt.addr(2048)), ('i1', rwt.h32(4097)), ('i2', rwt.h32(4098));
CREATE FUNCTION pg_temp.a(n text) RETURNS bytea LANGUAGE sql STABLE
RETURN (SELECT v FROM k WHERE name = n);
-- a Balance event / a USDC transfer
CREATE FUNCTION pg_temp.ev(tbl text, block bigint, log int, tx int, args jsonb) RETURNS void
LANGUAGE sql RETURN rwt.emit('ev_balance_' || tbl, block, log, tx, pg_temp.a('b'), args);
CREATE FUNCTION pg_temp.tr(block bigint, log int, tx int, f text, t text, val numeric) RETURNS void
LANGUAGE sql RETURN rwt.emit('ev_erc20_transfer', block, log, tx, pg_temp.a('usdc'),
	jsonb_build_object('from_address', pg_temp.a(f), 'to_address', pg_temp.a(t), 'value', val));

DO $$
DECLARE
	day int := 86400;
	pu numeric := rwt.block_time(51) + 86400;  -- I1 paid until after creation
BEGIN
	PERFORM rwt.block(1, 0);
	INSERT INTO token (chain_id, address, symbol, decimals) VALUES (1, pg_temp.a('usdc'), 'USDC', 6);
	INSERT INTO indexer_source (chain_id, address, kind, start_block, watch, config_name)
	VALUES (1, pg_temp.a('usdc'), 'TestToken', 0, 'watched', 'usdc'),
	       (1, pg_temp.a('b'), 'Balance', 40, NULL, 'balance');
	INSERT INTO balance_info (chain_id, address, token, min_deposit, max_balance, grace_period)
	VALUES (1, pg_temp.a('b'), pg_temp.a('usdc'), 10000000, 5000000000, 86400);
	-- construction
	PERFORM pg_temp.ev('ownership_transferred', 40, 0, 1,
		jsonb_build_object('previous_owner', rwt.addr(0), 'new_owner', pg_temp.a('op')));
	PERFORM pg_temp.ev('treasury_set', 40, 1, 1, jsonb_build_object('treasury', pg_temp.a('treasury')));
	PERFORM pg_temp.ev('operator_set', 41, 0, 2, jsonb_build_object('operator', pg_temp.a('op'), 'enabled', true));
	-- K2: deposit 10, instance I2 (5/day) leaves 0
	PERFORM pg_temp.tr(49, 0, 3, 'k2', 'b', 10000000);
	PERFORM pg_temp.ev('deposited', 49, 1, 3, jsonb_build_object('account', pg_temp.a('k2'),
		'payer', pg_temp.a('k2'), 'amount', 10000000, 'tax', 0, 'ref', rwt.h32(2), 'balance_after', 10000000));
	-- K: deposit 20 + tax 2
	PERFORM pg_temp.tr(50, 0, 4, 'payer', 'b', 20000000);
	PERFORM pg_temp.tr(50, 1, 4, 'payer', 'treasury', 2000000);
	PERFORM pg_temp.ev('deposited', 50, 2, 4, jsonb_build_object('account', pg_temp.a('k'),
		'payer', pg_temp.a('payer'), 'amount', 20000000, 'tax', 2000000, 'ref', rwt.h32(170),
		'balance_after', 20000000));
	-- I1: 5 paid to R, 5 reserved, balance 10
	PERFORM pg_temp.ev('instance_created', 51, 0, 5, jsonb_build_object('instance_id', pg_temp.a('i1'),
		'account', pg_temp.a('k'), 'provider', pg_temp.a('r'), 'price_per_day', 5000000,
		'paid', 5000000, 'reserve', 5000000, 'paid_until', pu, 'balance_after', 10000000));
	PERFORM pg_temp.tr(51, 1, 5, 'b', 'r', 5000000);
	PERFORM pg_temp.ev('instance_created', 52, 0, 6, jsonb_build_object('instance_id', pg_temp.a('i2'),
		'account', pg_temp.a('k2'), 'provider', pg_temp.a('r'), 'price_per_day', 5000000,
		'paid', 5000000, 'reserve', 5000000, 'paid_until', rwt.block_time(52) + day, 'balance_after', 0));
	PERFORM pg_temp.tr(52, 1, 6, 'b', 'r', 5000000);
	-- day 1 of I1: charge from the reserve, refill (balance 5)
	PERFORM pg_temp.ev('charged', 60, 0, 7, jsonb_build_object('instance_id', pg_temp.a('i1'),
		'account', pg_temp.a('k'), 'provider', pg_temp.a('r'), 'period', 1, 'amount', 5000000,
		'reserve_after', 0, 'paid_until', pu + day));
	PERFORM pg_temp.tr(60, 1, 7, 'b', 'r', 5000000);
	PERFORM pg_temp.ev('reserve_refilled', 60, 2, 7, jsonb_build_object('instance_id', pg_temp.a('i1'),
		'account', pg_temp.a('k'), 'amount', 5000000, 'reserve_after', 5000000, 'balance_after', 5000000));
	-- day 1 of I2: charged, no refill possible -> SmallBalance
	PERFORM pg_temp.ev('charged', 61, 0, 8, jsonb_build_object('instance_id', pg_temp.a('i2'),
		'account', pg_temp.a('k2'), 'provider', pg_temp.a('r'), 'period', 1, 'amount', 5000000,
		'reserve_after', 0, 'paid_until', rwt.block_time(52) + 2 * day));
	PERFORM pg_temp.tr(61, 1, 8, 'b', 'r', 5000000);
	PERFORM pg_temp.ev('small_balance', 61, 2, 8, jsonb_build_object('instance_id', pg_temp.a('i2'),
		'account', pg_temp.a('k2'), 'reserve', 0, 'balance_after', 0));
	-- day 2 of I1: charge, refill (balance 0)
	PERFORM pg_temp.ev('charged', 70, 0, 9, jsonb_build_object('instance_id', pg_temp.a('i1'),
		'account', pg_temp.a('k'), 'provider', pg_temp.a('r'), 'period', 2, 'amount', 5000000,
		'reserve_after', 0, 'paid_until', pu + 2 * day));
	PERFORM pg_temp.tr(70, 1, 9, 'b', 'r', 5000000);
	PERFORM pg_temp.ev('reserve_refilled', 70, 2, 9, jsonb_build_object('instance_id', pg_temp.a('i1'),
		'account', pg_temp.a('k'), 'amount', 5000000, 'reserve_after', 5000000, 'balance_after', 0));
	-- I2 fails day 2
	PERFORM pg_temp.ev('charge_failed', 71, 0, 10, jsonb_build_object('instance_id', pg_temp.a('i2'),
		'account', pg_temp.a('k2'), 'period', 2, 'reserve', 0, 'grace_until', rwt.block_time(52) + 3 * day));
	-- day 3 of I1: charge, refill impossible -> SmallBalance
	PERFORM pg_temp.ev('charged', 80, 0, 11, jsonb_build_object('instance_id', pg_temp.a('i1'),
		'account', pg_temp.a('k'), 'provider', pg_temp.a('r'), 'period', 3, 'amount', 5000000,
		'reserve_after', 0, 'paid_until', pu + 3 * day));
	PERFORM pg_temp.tr(80, 1, 11, 'b', 'r', 5000000);
	PERFORM pg_temp.ev('small_balance', 80, 2, 11, jsonb_build_object('instance_id', pg_temp.a('i1'),
		'account', pg_temp.a('k'), 'reserve', 0, 'balance_after', 0));
	-- I2 ends for lack of funds after its grace period
	PERFORM pg_temp.ev('instance_ended', 81, 0, 12, jsonb_build_object('instance_id', pg_temp.a('i2'),
		'account', pg_temp.a('k2'), 'reason', 5, 'refunded', 0, 'balance_after', 0));
	-- I1 fails day 4
	PERFORM pg_temp.ev('charge_failed', 85, 0, 13, jsonb_build_object('instance_id', pg_temp.a('i1'),
		'account', pg_temp.a('k'), 'period', 4, 'reserve', 0, 'grace_until', pu + 4 * day));
	PERFORM rwt.head(1, 85, 0, (pu + 3 * day)::bigint);
END
$$;

-- Mid-scenario: I1 is SmallBalance with a failure pending.
SELECT rwt.eq((SELECT status || ' ' || reserve || ' ' || period || ' ' || (grace_until = paid_until + 86400)
                      || ' ' || due || ' ' || needs_refill || ' ' || live
               FROM balance_instances WHERE instance_id = rw_hex(pg_temp.a('i1'))),
	'SmallBalance 0 3 true true true true',
	'balance_instances: SmallBalance, reserve empty, failure pending, due and short');
SELECT rwt.eq((SELECT coalesce(resolution, 'pending') FROM balance_charge_failures
               WHERE instance_id = rw_hex(pg_temp.a('i1'))), 'pending',
	'balance_charge_failures: a failure not yet resolved');

DO $$
DECLARE
	day int := 86400;
	pu numeric := rwt.block_time(51) + 86400;
BEGIN
	-- money arrives: promotional credit 3 (not enough), deposit 10
	PERFORM pg_temp.tr(90, 0, 14, 'op', 'b', 3000000);
	PERFORM pg_temp.ev('credited', 90, 1, 14, jsonb_build_object('account', pg_temp.a('k'),
		'operator', pg_temp.a('op'), 'amount', 3000000, 'ref', rwt.h32(187), 'balance_after', 3000000));
	PERFORM pg_temp.tr(91, 0, 15, 'payer', 'b', 10000000);
	PERFORM pg_temp.ev('deposited', 91, 1, 15, jsonb_build_object('account', pg_temp.a('k'),
		'payer', pg_temp.a('payer'), 'amount', 10000000, 'tax', 0, 'ref', rwt.h32(204),
		'balance_after', 13000000));
	-- charge: refill (Active), the late day 4, refill again
	PERFORM pg_temp.ev('reserve_refilled', 92, 0, 16, jsonb_build_object('instance_id', pg_temp.a('i1'),
		'account', pg_temp.a('k'), 'amount', 5000000, 'reserve_after', 5000000, 'balance_after', 8000000));
	PERFORM pg_temp.ev('charged', 92, 1, 16, jsonb_build_object('instance_id', pg_temp.a('i1'),
		'account', pg_temp.a('k'), 'provider', pg_temp.a('r'), 'period', 4, 'amount', 5000000,
		'reserve_after', 0, 'paid_until', pu + 4 * day));
	PERFORM pg_temp.tr(92, 2, 16, 'b', 'r', 5000000);
	PERFORM pg_temp.ev('reserve_refilled', 92, 3, 16, jsonb_build_object('instance_id', pg_temp.a('i1'),
		'account', pg_temp.a('k'), 'amount', 5000000, 'reserve_after', 5000000, 'balance_after', 3000000));
	PERFORM rwt.head(1, 93, 0, (pu + 4 * day)::bigint - 1);
END
$$;

SELECT rwt.eq((SELECT status || ' ' || reserve_units || ' ' || period || ' ' || grace_until || ' '
                      || due || ' ' || needs_refill
               FROM balance_instances WHERE instance_id = rw_hex(pg_temp.a('i1'))),
	'Active 5.000000 4 0 false false',
	'balance_instances: refilled and the late day paid: Active, failure cleared');
SELECT rwt.eq((SELECT resolution FROM balance_charge_failures WHERE instance_id = rw_hex(pg_temp.a('i1'))),
	'charged', 'balance_charge_failures: resolved by the late charge');

DO $$
BEGIN
	-- operator refund of 1 to the payer, then K stops I1 (reserve back)
	PERFORM pg_temp.ev('refunded', 95, 0, 17, jsonb_build_object('account', pg_temp.a('k'),
		'to_address', pg_temp.a('payer'), 'amount', 1000000, 'ref', rwt.h32(221), 'balance_after', 2000000));
	PERFORM pg_temp.tr(95, 1, 17, 'b', 'payer', 1000000);
	PERFORM pg_temp.ev('instance_ended', 100, 0, 18, jsonb_build_object('instance_id', pg_temp.a('i1'),
		'account', pg_temp.a('k'), 'reason', 3, 'refunded', 5000000, 'balance_after', 7000000));
	PERFORM pg_temp.ev('paused', 110, 0, 19, jsonb_build_object('account', pg_temp.a('op')));
	PERFORM rwt.head(1, 200, 0);
END
$$;

-- balance_accounts
SELECT rwt.eq((SELECT balance_units || ' ' || reserves || ' ' || total_funds_units || ' ' || live_instances
                      || ' dep ' || deposited_units || ' tax ' || tax_units || ' cr ' || credited_units
                      || ' rf ' || refunded_units || ' spent ' || spent_units || ' ' || symbol
               FROM balance_accounts WHERE account = rw_hex(pg_temp.a('k'))),
	'7.000000 0 7.000000 0 dep 30.000000 tax 2.000000 cr 3.000000 rf 1.000000 spent 25.000000 USDC',
	'balance_accounts: balance, reserves and totals of K');
SELECT rwt.ok((SELECT deposited + credited - refunded - spent = total_funds FROM balance_accounts
               WHERE account = rw_hex(pg_temp.a('k'))), 'balance_accounts: money in - out = funds');
SELECT rwt.eq((SELECT balance || ' ' || spent || ' ' || deposited FROM balance_accounts
               WHERE account = rw_hex(pg_temp.a('k2'))), '0 10000000 10000000',
	'balance_accounts: K2 spent everything');

-- balance_ledger
SELECT rwt.eq((SELECT string_agg(line_no || ':' || kind || coalesce('#' || period, '') || ' '
                                 || amount_units || ' ' || div(balance_delta, 1000000) || '/'
                                 || div(reserve_delta, 1000000) || ' ' || div(balance_after, 1000000),
                                 ', ' ORDER BY line_no)
               FROM balance_ledger WHERE account = rw_hex(pg_temp.a('k'))),
	'1:deposit 20.000000 20/0 20, 2:charge#0 -5.000000 -5/0 15, 3:reserve_hold -5.000000 -5/5 10, '
	'4:charge#1 -5.000000 0/-5 10, 5:reserve_refill -5.000000 -5/5 5, '
	'6:charge#2 -5.000000 0/-5 5, 7:reserve_refill -5.000000 -5/5 0, '
	'8:charge#3 -5.000000 0/-5 0, 9:credit 3.000000 3/0 3, 10:deposit 10.000000 10/0 13, '
	'11:reserve_refill -5.000000 -5/5 8, 12:charge#4 -5.000000 0/-5 8, '
	'13:reserve_refill -5.000000 -5/5 3, 14:refund -1.000000 -1/0 2, '
	'15:reserve_return 5.000000 5/-5 7',
	'balance_ledger: every money movement of K in order, with balance after');
SELECT rwt.eq((SELECT sum(balance_delta) || ' ' || sum(reserve_delta) FROM balance_ledger
               WHERE account = rw_hex(pg_temp.a('k'))), '7000000 0',
	'balance_ledger: balance_delta sums to the balance, reserve_delta to the reserves');
SELECT rwt.eq((SELECT tax_units || ' ' || ref || ' ' || counterparty FROM balance_ledger
               WHERE account = rw_hex(pg_temp.a('k')) AND line_no = 1),
	'2.000000 ' || rw_hex(rwt.h32(170)) || ' ' || rw_hex(pg_temp.a('payer')),
	'balance_ledger: a deposit carries tax, ref and payer');
SELECT rwt.eq((SELECT count(*) FROM balance_ledger b
               JOIN balance_accounts a ON a.account = b.account
               WHERE b.line_no = (SELECT max(line_no) FROM balance_ledger c WHERE c.account = b.account)
                 AND b.balance_after <> a.balance), 0::bigint,
	'balance_ledger: the last balance_after is the account''s balance');
SELECT rwt.ok((SELECT bool_and(block_time IS NOT NULL AND tx_hash LIKE '0x%' AND confirmed)
               FROM balance_ledger), 'balance_ledger: time, tx hash, confirmed');

-- balance_instances at the end
SELECT rwt.eq((SELECT string_agg(status || ' ' || live || ' ' || reserve || ' ' || period || ' '
                                 || ended_reason || ' ' || refunded_units || ' ' || spent_units || ' '
                                 || periods_paid || ' ' || right(provider, 3),
                                 ', ' ORDER BY instance_id)
               FROM balance_instances),
	'Stopped false 0 4 Stopped 5.000000 25.000000 5 800, '
	'InsufficientFunds false 0 1 InsufficientFunds 0.000000 10.000000 2 800',
	'balance_instances: final state of I1 (stopped) and I2 (insufficient funds)');
SELECT rwt.eq((SELECT paid_until || ' ' || price_per_day_units || ' ' || created_block || ' '
                      || ended_block || ' ' || created_tx
               FROM balance_instances WHERE instance_id = rw_hex(pg_temp.a('i1'))),
	(rwt.block_time(51) + 5 * 86400) || ' 5.000000 51 100 ' || rw_hex(rwt.tx(5)),
	'balance_instances: paid until, price, creation and end');
SELECT rwt.eq((SELECT i.status_code || ' ' || i.account || ' ' || i.paid_until
               FROM balance_instance_state s, balance_instances i
               WHERE s.instance_id = pg_temp.a('i2') AND i.instance_id = rw_hex(s.instance_id)
                 AND i.paid_until = s.paid_until AND i.account = rw_hex(s.account)),
	'5 ' || rw_hex(pg_temp.a('k2')) || ' ' || (rwt.block_time(52) + 2 * 86400),
	'balance_instance_state: the raw form agrees');

-- balance_instance_charges, balance_charge_failures
SELECT rwt.eq((SELECT string_agg(period || ' ' || amount_units || ' ' || event, ', '
                                 ORDER BY block_number, log_index)
               FROM balance_instance_charges WHERE instance_id = rw_hex(pg_temp.a('i1'))),
	'0 5.000000 InstanceCreated, 1 5.000000 Charged, 2 5.000000 Charged, 3 5.000000 Charged, '
	'4 5.000000 Charged', 'balance_instance_charges: one row per paid period of I1');
SELECT rwt.eq((SELECT sum(amount) FROM balance_instance_charges),
	(SELECT sum(value) FROM ev_erc20_transfer WHERE to_address = pg_temp.a('r')),
	'balance_instance_charges: the sum is what the provider received');
SELECT rwt.eq((SELECT string_agg(right(instance_id, 1) || ' ' || period || ' ' || resolution, ', '
                                 ORDER BY instance_id)
               FROM balance_charge_failures), '1 4 charged, 2 2 ended',
	'balance_charge_failures: one charged late, one ended');

-- balance_contracts, balance_operators
SELECT rwt.eq((SELECT accounts || ' ' || total_balances_units || ' ' || total_reserves || ' '
                      || live_instances || ' ' || token_held_units || ' ' || surplus || ' ' || paused || ' '
                      || right(treasury, 3) || ' ' || right(owner, 3) || ' ' || symbol
               FROM balance_contracts),
	'2 7.000000 0 0 7.000000 0 true 703 702 USDC',
	'balance_contracts: totals, token held = balances + reserves, paused, treasury, owner');
DO $$ BEGIN PERFORM pg_temp.tr(201, 0, 20, 'k', 'b', 1); END $$;
SELECT rwt.eq((SELECT surplus FROM balance_contracts), 1::numeric,
	'balance_contracts: tokens sent directly show as surplus');
SELECT rwt.eq((SELECT string_agg(right(operator, 3) || ' ' || enabled, ',') FROM balance_operators),
	'702 true', 'balance_operators: latest OperatorSet');
SELECT rwt.eq((SELECT string_agg(reason || ' ' || right(rw_hex(address), 3), ',' ORDER BY reason)
               FROM watched_address), 'balance 600', 'balance_info makes the contract a watched address');
