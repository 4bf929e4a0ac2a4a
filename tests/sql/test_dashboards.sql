-- test_dashboards: the dashboard views of migrations/0021_dashboards.sql on
-- a small scenario, and the read-only role runway_reader.
--
-- Chain 1, head 60 (2 confirmations: safe 58). USDC (0x610, 6 decimals).
-- Prepaid runway: provider P (0x300, configured, price 10 base units/s,
-- payee 0x301); application A1 (0x501) funded by U (0x401) then V (0x402);
-- A2 (0x502) announced, never funded.
-- Balance B (0x600): K1 (0x701) deposits 100, instance I1 at 5/day (live:
-- charged day 1, fails day 2, paid late after a credit) and I2 at 3/day
-- (stopped, reserve back); a Pending top-up of 50. K2 (0x702): only a Pending
-- session. Deposits without a session (K1's, and K3's: 0x703) are flagged.
CREATE TEMP TABLE k (name text PRIMARY KEY, v bytea);
INSERT INTO k VALUES ('usdc', rwt.addr(1552)), ('p', rwt.addr(768)), ('y', rwt.addr(769)),
	('u', rwt.addr(1025)), ('v', rwt.addr(1026)), ('a1', rwt.addr(1281)), ('a2', rwt.addr(1282)),
	('b', rwt.addr(1536)), ('k1', rwt.addr(1793)), ('k2', rwt.addr(1794)), ('k3', rwt.addr(1795)),
	('op', rwt.addr(1800)), ('r', rwt.addr(2048)), ('i1', rwt.h32(4097)), ('i2', rwt.h32(4098));
CREATE FUNCTION pg_temp.a(n text) RETURNS bytea LANGUAGE sql STABLE
RETURN (SELECT v FROM k WHERE name = n);
CREATE FUNCTION pg_temp.ev(tbl text, block bigint, log int, tx int, args jsonb) RETURNS void
LANGUAGE sql RETURN rwt.emit('ev_balance_' || tbl, block, log, tx, pg_temp.a('b'), args);
CREATE FUNCTION pg_temp.u(n numeric) RETURNS numeric LANGUAGE sql IMMUTABLE RETURN n * 1000000;
CREATE TEMP TABLE sess (name text PRIMARY KEY, ref bytea);

DO $$
DECLARE
	day int := 86400;
	pu1 numeric := rwt.block_time(21) + 86400;
BEGIN
	PERFORM rwt.block(1, 0);
	INSERT INTO token (chain_id, address, symbol, decimals) VALUES (1, pg_temp.a('usdc'), 'USDC', 6);
	INSERT INTO indexer_source (chain_id, address, kind, start_block, watch, config_name)
	VALUES (1, pg_temp.a('usdc'), 'TestToken', 0, 'watched', 'usdc'),
	       (1, pg_temp.a('p'), 'ValidatorNodeProvider', 1, NULL, 'p'),
	       (1, pg_temp.a('b'), 'Balance', 1, NULL, 'b');
	INSERT INTO provider_info (chain_id, address, token, payee, price, origin)
	VALUES (1, pg_temp.a('p'), pg_temp.a('usdc'), pg_temp.a('y'), 10, 'config');
	INSERT INTO balance_info (chain_id, address, token, min_deposit, max_balance, grace_period)
	VALUES (1, pg_temp.a('b'), pg_temp.a('usdc'), 10000000, 5000000000, 86400);

	-- A1: a day by U at block 10, a week more by V at block 12
	PERFORM rwt.emit('ev_vnp_financial_runway', 10, 0, 1, pg_temp.a('p'),
		jsonb_build_object('application', pg_temp.a('a1'), 'until', rwt.block_time(10) + day));
	PERFORM rwt.emit('ev_erc20_transfer', 10, 1, 1, pg_temp.a('usdc'), jsonb_build_object(
		'from_address', pg_temp.a('u'), 'to_address', pg_temp.a('y'), 'value', 10 * day));
	PERFORM rwt.emit('ev_vnp_financial_runway', 12, 0, 2, pg_temp.a('p'),
		jsonb_build_object('application', pg_temp.a('a1'), 'until', rwt.block_time(10) + 8 * day));
	PERFORM rwt.emit('ev_erc20_transfer', 12, 1, 2, pg_temp.a('usdc'), jsonb_build_object(
		'from_address', pg_temp.a('v'), 'to_address', pg_temp.a('y'), 'value', 70 * day));
	PERFORM rwt.emit('ev_vnp_machine_location', 13, 0, 3, pg_temp.a('p'),
		jsonb_build_object('application', pg_temp.a('a2'), 'location', 'ipfs://a2'));

	-- K1: deposit 100 (tax 19), I1 (5/day) and I2 (3/day)
	PERFORM pg_temp.ev('deposited', 20, 0, 10, jsonb_build_object('account', pg_temp.a('k1'),
		'payer', pg_temp.a('k1'), 'amount', pg_temp.u(100), 'tax', pg_temp.u(19), 'ref', rwt.h32(1),
		'balance_after', pg_temp.u(100)));
	PERFORM pg_temp.ev('instance_created', 21, 0, 11, jsonb_build_object('instance_id', pg_temp.a('i1'),
		'account', pg_temp.a('k1'), 'provider', pg_temp.a('r'), 'price_per_day', pg_temp.u(5),
		'paid', pg_temp.u(5), 'reserve', pg_temp.u(5), 'paid_until', pu1, 'balance_after', pg_temp.u(90)));
	PERFORM pg_temp.ev('instance_created', 22, 0, 12, jsonb_build_object('instance_id', pg_temp.a('i2'),
		'account', pg_temp.a('k1'), 'provider', pg_temp.a('r'), 'price_per_day', pg_temp.u(3),
		'paid', pg_temp.u(3), 'reserve', pg_temp.u(3), 'paid_until', rwt.block_time(22) + day,
		'balance_after', pg_temp.u(84)));
	-- I1 day 1 paid, reserve refilled
	PERFORM pg_temp.ev('charged', 30, 0, 13, jsonb_build_object('instance_id', pg_temp.a('i1'),
		'account', pg_temp.a('k1'), 'provider', pg_temp.a('r'), 'period', 1, 'amount', pg_temp.u(5),
		'reserve_after', 0, 'paid_until', pu1 + day));
	PERFORM pg_temp.ev('reserve_refilled', 30, 1, 13, jsonb_build_object('instance_id', pg_temp.a('i1'),
		'account', pg_temp.a('k1'), 'amount', pg_temp.u(5), 'reserve_after', pg_temp.u(5),
		'balance_after', pg_temp.u(79)));
	-- I2 stopped: reserve back
	PERFORM pg_temp.ev('instance_ended', 31, 0, 14, jsonb_build_object('instance_id', pg_temp.a('i2'),
		'account', pg_temp.a('k1'), 'reason', 3, 'refunded', pg_temp.u(3), 'balance_after', pg_temp.u(82)));
	-- I1 day 2: the reserve was spent elsewhere in this story: fails, then paid
	PERFORM pg_temp.ev('charge_failed', 40, 0, 15, jsonb_build_object('instance_id', pg_temp.a('i1'),
		'account', pg_temp.a('k1'), 'period', 2, 'reserve', 0, 'grace_until', pu1 + 2 * day));
	PERFORM pg_temp.ev('charged', 41, 0, 16, jsonb_build_object('instance_id', pg_temp.a('i1'),
		'account', pg_temp.a('k1'), 'provider', pg_temp.a('r'), 'period', 2, 'amount', pg_temp.u(5),
		'reserve_after', pg_temp.u(5), 'paid_until', pu1 + 2 * day));
	-- K3: a deposit nobody opened a session for
	PERFORM pg_temp.ev('deposited', 42, 0, 17, jsonb_build_object('account', pg_temp.a('k3'),
		'payer', pg_temp.a('k3'), 'amount', pg_temp.u(10), 'tax', 0, 'ref', rwt.h32(3),
		'balance_after', pg_temp.u(10)));
	PERFORM rwt.head(1, 60, 2);
	INSERT INTO sess VALUES
		('k1', (rw_topup_create(1, pg_temp.a('b'), pg_temp.a('k1'), pg_temp.u(50), NULL, NULL, rwt.h32(71))).ref),
		('k2', (rw_topup_create(1, pg_temp.a('b'), pg_temp.a('k2'), pg_temp.u(20), NULL, NULL, rwt.h32(72))).ref);
	PERFORM rw_topup_reconcile(1);
END
$$;

-- app_runway ---------------------------------------------------------------------------

SELECT rwt.eq((SELECT status || ' ' || (until = rwt.block_time(10) + 8 * 86400) || ' '
                      || (seconds_left = until - rwt.block_time(60)) || ' '
                      || (time_left = make_interval(secs => seconds_left::double precision)) || ' '
                      || (days_left = trunc(seconds_left / 86400.0, 2)) || ' ' || cost_per_day || ' '
                      || cost_per_day_units || ' ' || price_units || ' ' || symbol
               FROM app_runway WHERE application = rw_hex(pg_temp.a('a1'))),
	'active true true true true 864000 0.864000 0.000010 USDC',
	'app_runway: until, time left, days left, cost per day');
SELECT rwt.eq((SELECT (funded_by = rw_hex(pg_temp.a('v'))) || ' ' || extensions || ' ' || funded_total_units
                      || ' ' || last_funding_units || ' '
                      || (funders = ARRAY[rw_hex(pg_temp.a('u')), rw_hex(pg_temp.a('v'))]) || ' ' || confirmed
               FROM app_runway WHERE application = rw_hex(pg_temp.a('a1'))),
	'true 2 6.912000 6.048000 true true', 'app_runway: funded by V last, U and V in all, totals');
SELECT rwt.eq((SELECT status || ' ' || until || ' ' || extensions || ' ' || funded_total || ' '
                      || cardinality(funders) || ' ' || coalesce(funded_by, '-')
               FROM app_runway WHERE application = rw_hex(pg_temp.a('a2'))),
	'never funded 0 0 0 0 -', 'app_runway: an application never funded');

-- account_balance -------------------------------------------------------------------------

SELECT rwt.eq((SELECT balance_units || ' ' || reserved_units || ' ' || total_funds_units || ' '
                      || pending_topups_units || ' ' || pending_sessions || ' ' || live_instances || ' '
                      || burn_per_day_units || ' ' || days_of_runway || ' ' || symbol || ' ' || confirmed
               FROM account_balance WHERE account = rw_hex(pg_temp.a('k1'))),
	'82.000000 5.000000 87.000000 50.000000 1 1 5.000000 16.40 USDC true',
	'account_balance: balance, reserved, pending top-up, burn of live instances, days of runway');
SELECT rwt.eq((SELECT balance || ' ' || reserved || ' ' || pending_topups_units || ' ' || pending_sessions || ' '
                      || burn_per_day || ' ' || coalesce(days_of_runway::text, 'none')
               FROM account_balance WHERE account = rw_hex(pg_temp.a('k2'))),
	'0 0 20.000000 1 0 none', 'account_balance: an account with only a session; no burn, no runway figure');
SELECT rwt.eq((SELECT balance_units || ' ' || pending_topups || ' ' || coalesce(days_of_runway::text, 'none')
               FROM account_balance WHERE account = rw_hex(pg_temp.a('k3'))),
	'10.000000 0 none', 'account_balance: an account without instances');
SELECT rwt.eq((SELECT count(*) FROM account_balance), 3::bigint, 'account_balance: one row per account');

-- instance_billing --------------------------------------------------------------------------

SELECT rwt.eq((SELECT status || ' ' || price_per_day_units || ' ' || reserve_units || ' '
                      || (paid_until = rwt.block_time(21) + 3 * 86400) || ' ' || (next_charge = paid_until) || ' '
                      || (next_charge_time = rw_time(paid_until)) || ' ' || next_charge_amount_units || ' '
                      || charges || ' ' || charged_units || ' ' || refunded_units || ' ' || grace_until
               FROM instance_billing WHERE instance_id = rw_hex(pg_temp.a('i1'))),
	'Active 5.000000 5.000000 true true true 5.000000 3 15.000000 0.000000 0',
	'instance_billing: a live instance: next charge when paid_until comes, three periods paid');
SELECT rwt.eq((SELECT status || ' ' || reserve || ' ' || coalesce(next_charge::text, 'none') || ' '
                      || coalesce(next_charge_amount::text, 'none') || ' ' || charges || ' ' || charged_units
                      || ' ' || refunded_units || ' ' || ended_reason
               FROM instance_billing WHERE instance_id = rw_hex(pg_temp.a('i2'))),
	'Stopped 0 none none 1 3.000000 3.000000 Stopped', 'instance_billing: a stopped instance: reserve refunded');

-- charge_history ------------------------------------------------------------------------------

SELECT rwt.eq((SELECT string_agg(period || ':' || outcome || ':' || coalesce(amount_units, '-') || ':'
                                 || coalesce(resolution, '-') || ':' || event, ' '
                                 ORDER BY block_number, log_index)
               FROM charge_history WHERE instance_id = rw_hex(pg_temp.a('i1'))),
	'0:paid:5.000000:-:InstanceCreated 1:paid:5.000000:-:Charged 2:failed:-:charged:ChargeFailed 2:paid:5.000000:-:Charged',
	'charge_history: every charge of I1, the failed day and its late payment');
SELECT rwt.ok((SELECT bool_and(period_end - period_start = 86400 AND period_end_time = rw_time(period_end)
                               AND provider = rw_hex(pg_temp.a('r')) AND symbol = 'USDC' AND tx_hash LIKE '0x%')
               FROM charge_history WHERE outcome = 'paid'), 'charge_history: paid periods are one day, with provider and tx');
SELECT rwt.eq((SELECT provider = rw_hex(pg_temp.a('r')) AND grace_until_time = rw_time(grace_until) AND amount IS NULL
               FROM charge_history WHERE outcome = 'failed'), true, 'charge_history: a failed charge has its grace time, no amount');

-- topup_sessions and topup_flags ----------------------------------------------------------------

SELECT rwt.eq((SELECT status || ' ' || amount_units || ' ' || deposit_amount_units || ' ' || tax_units || ' '
                      || total_units || ' ' || (time_left = interval '15 minutes') || ' '
                      || (ref = rw_hex(rwt.h32(71))) || ' ' || cardinality(flags) || ' ' || confirmed
               FROM topup_sessions WHERE account = rw_hex(pg_temp.a('k1'))),
	'Pending 50.000000 50.000000 0.000000 50.000000 true true 0 true', 'topup_sessions: a Pending session');
SELECT rwt.eq((SELECT kind || ' ' || account || ' ' || amount_units || ' ' || coalesce(session_ref, '-') || ' '
                      || resolved || ' ' || confirmed || ' ' || (block_time = rw_time(rwt.block_time(42)))
               FROM topup_flags WHERE account = rw_hex(pg_temp.a('k3'))),
	'deposit_without_session ' || rw_hex(pg_temp.a('k3')) || ' 10.000000 - false true true',
	'topup_flags: the deposit without a session');
DO $$ BEGIN
	PERFORM rw_topup_flag_resolve(id, 'customer confirmed by mail') FROM topup_flag WHERE account = pg_temp.a('k3');
END $$;
SELECT rwt.eq((SELECT resolved || ' ' || resolution FROM topup_flags WHERE account = rw_hex(pg_temp.a('k3'))),
	'true customer confirmed by mail', 'topup_flags: resolved by support');
SELECT rwt.throws($$SELECT rw_topup_flag_resolve((SELECT id FROM topup_flag WHERE account = pg_temp.a('k3')), 'again')$$, 'P0002',
	'rw_topup_flag_resolve: a resolved flag cannot be resolved again');

-- Comments -----------------------------------------------------------------------------------

SELECT rwt.eq((SELECT string_agg(v, ',') FROM unnest(ARRAY['app_runway', 'account_balance', 'instance_billing',
                      'charge_history', 'topup_sessions', 'topup_flags']) v
               WHERE coalesce(obj_description(v::regclass, 'pg_class'), '') = ''), NULL,
	'every dashboard view has a COMMENT');
SELECT rwt.ok((SELECT count(*) FROM pg_description d JOIN pg_class c ON c.oid = d.objoid
               WHERE c.relname IN ('app_runway', 'account_balance', 'instance_billing', 'charge_history',
                                   'topup_sessions', 'topup_flags') AND d.objsubid > 0) >= 30,
	'the columns that matter are commented');

-- runway_reader ----------------------------------------------------------------------------------

SELECT rwt.eq((SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_class c
               WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
                 AND has_table_privilege('runway_reader', c.oid, 'SELECT')),
	'account_balance,app_runway,charge_history,instance_billing,instances,relayer_health,topup_flags,topup_sessions',
	'runway_reader may select exactly the dashboard views (relayer_health and instances: 0022)');
SELECT rwt.eq((SELECT string_agg(c.relname || ':' || p, ',') FROM pg_class c,
                      unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
               WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
                 AND has_table_privilege('runway_reader', c.oid, p)), NULL,
	'runway_reader may change nothing');
SELECT rwt.eq((SELECT string_agg(p.oid::regprocedure::text, ',') FROM pg_proc p
               WHERE p.pronamespace = 'public'::regnamespace
                 AND p.proname IN ('rw_topup_quote', 'rw_topup_create', 'rw_topup_cancel', 'rw_topup_expire',
                                   'rw_topup_reconcile', 'rw_topup_flag_resolve')
                 AND has_function_privilege('runway_reader', p.oid, 'EXECUTE')), NULL,
	'runway_reader may call no rw_topup_* function that reads or writes');
SELECT rwt.ok((SELECT NOT rolcanlogin AND NOT rolsuper AND NOT rolcreaterole AND NOT rolcreatedb
               FROM pg_roles WHERE rolname = 'runway_reader'), 'runway_reader: NOLOGIN, no special rights');
-- As the role itself (the test library's schema made readable for the checks).
GRANT USAGE ON SCHEMA rwt TO runway_reader;
SET LOCAL ROLE runway_reader;
SELECT rwt.ok((SELECT count(*) FROM app_runway) = 2 AND (SELECT count(*) FROM account_balance) = 3
              AND (SELECT count(*) FROM instance_billing) = 2 AND (SELECT count(*) FROM charge_history) = 5
              AND (SELECT count(*) FROM topup_sessions) = 2 AND (SELECT count(*) FROM topup_flags) = 2,
	'runway_reader reads every dashboard view');
SELECT rwt.throws('SELECT * FROM ev_balance_deposited', '42501', 'runway_reader cannot select an ev_* table');
SELECT rwt.throws('SELECT * FROM topup_session', '42501', 'runway_reader cannot select the sessions table');
SELECT rwt.throws('SELECT * FROM balance_accounts', '42501', 'runway_reader cannot select the views dashboards build on');
SELECT rwt.throws($$SELECT rw_topup_create(1, '\x0000000000000000000000000000000000000600'::bytea,
	'\x0000000000000000000000000000000000000799'::bytea, 10000000)$$, '42501',
	'runway_reader cannot call rw_topup_create');
SELECT rwt.throws($$SELECT rw_topup_reconcile(1)$$, '42501', 'runway_reader cannot call rw_topup_reconcile');
RESET ROLE;
