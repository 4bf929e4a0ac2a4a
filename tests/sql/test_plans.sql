-- test_plans: the views stay cheap: latest-per-key lookups are index scans,
-- and a filter on a hex column reaches the indexes below the window
-- functions and DISTINCT ON (sequential scans are disabled so the tiny test
-- tables do not hide a plan that could not use an index).
CREATE FUNCTION pg_temp.plan(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	t text := '';
BEGIN
	FOR r IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		t := t || r."QUERY PLAN" || E'\n';
	END LOOP;
	RETURN t;
END
$$;
SET LOCAL enable_seqscan = off;

SELECT rwt.ok(pg_temp.plan($$SELECT * FROM balance_ledger
                            WHERE account = '0x0000000000000000000000000000000000000700'$$)
              ~ 'ev_balance_charged_account_hex',
	'balance_ledger: a filter on account uses the hex index under the windows');
SELECT rwt.ok(pg_temp.plan($$SELECT * FROM balance_accounts
                            WHERE account = '0x0000000000000000000000000000000000000700'$$)
              ~ 'ev_balance_reserve_refilled_account_hex',
	'balance_accounts: a filter on account uses the hex index under DISTINCT ON');
SELECT rwt.ok(pg_temp.plan($$SELECT * FROM balance_instances
                            WHERE account = '0x0000000000000000000000000000000000000700'$$)
              ~ 'ev_balance_instance_created_account_hex',
	'balance_instances: a filter on account uses the hex index');
SELECT rwt.ok(pg_temp.plan('SELECT * FROM balance_instance_state')
              ~ 'Index Scan Backward using ev_balance_charged_id',
	'balance_instance_state: latest Charged per instance is a backward index scan');
SELECT rwt.ok(pg_temp.plan('SELECT * FROM app_runways')
              ~ 'Index Scan Backward using ev_vnp_financial_runway_app',
	'app_runways: latest FinancialRunway per application is a backward index scan');
SELECT rwt.ok(pg_temp.plan('SELECT * FROM app_funding')
              ~ 'ev_erc20_transfer_tx',
	'app_funding: the payment is found by transaction hash');
SELECT rwt.ok(pg_temp.plan('SELECT * FROM erc20_allowances')
              ~ 'ev_erc20_approval_key',
	'erc20_allowances: latest Approval per owner and spender from its index');
