-- test_confirmed: the confirmed flag follows chain_head.safe_number (head -
-- confirmations) per chain; every view of mirrored events has it.
DO $$
DECLARE
	t bytea := rwt.addr(256);
	p bytea := rwt.addr(768);
	b bytea := rwt.addr(1536);
BEGIN
	PERFORM rwt.block(1, 0);
	PERFORM rwt.block(2, 0);
	PERFORM rwt.block(3, 0);
	INSERT INTO token (chain_id, address, symbol, decimals) VALUES (1, t, 'TT', 18);
	INSERT INTO indexer_source (chain_id, address, kind, start_block, watch, config_name)
	VALUES (1, t, 'TestToken', 0, 'all', 'tt'), (1, p, 'ValidatorNodeProvider', 0, NULL, 'p'),
	       (1, b, 'Balance', 0, NULL, 'b');
	INSERT INTO provider_info (chain_id, address, token, payee, price, origin)
	VALUES (1, p, t, rwt.addr(769), 2, 'config');
	INSERT INTO balance_info (chain_id, address, token) VALUES (1, b, t);
	FOR i IN 1..3 LOOP
		PERFORM rwt.emit('ev_erc20_transfer', 10 * i, 1, i, t,
			jsonb_build_object('from_address', rwt.addr(1024), 'to_address', rwt.addr(769), 'value', 2 * i));
		PERFORM rwt.emit('ev_vnp_financial_runway', 10 * i, 0, i, p,
			jsonb_build_object('application', rwt.addr(1281), 'until', 1000000000000 + i));
		PERFORM rwt.emit('ev_balance_deposited', 10 * i, 2, i, b,
			jsonb_build_object('account', rwt.addr(1792), 'payer', rwt.addr(1792), 'amount', 10,
			                   'tax', 0, 'ref', rwt.h32(i), 'balance_after', 10 * i));
	END LOOP;
	-- the same on chain 2, whose head is elsewhere
	PERFORM rwt.emit('ev_erc20_transfer', 30, 1, 9, t,
		jsonb_build_object('from_address', rwt.addr(1024), 'to_address', rwt.addr(769), 'value', 1), 2);
END
$$;

SELECT rwt.eq((SELECT count(*) FILTER (WHERE confirmed) FROM erc20_transfers), 0::bigint,
	'nothing is confirmed while the chain head is unknown');
SELECT rwt.eq((SELECT status FROM app_runways), NULL::text, 'runway status is NULL while the head is unknown');

DO $$ BEGIN PERFORM rwt.head(1, 30, 10); END $$;
SELECT rwt.eq((SELECT safe_number FROM chain_head WHERE chain_id = 1), 20::bigint,
	'safe_number = head - confirmations');
SELECT rwt.eq((SELECT string_agg(block_number || ':' || confirmed, ',' ORDER BY block_number)
               FROM erc20_transfers WHERE chain_id = 1), '10:true,20:true,30:false',
	'erc20_transfers: confirmed up to safe_number');
SELECT rwt.eq((SELECT string_agg(block_number || ':' || confirmed, ',' ORDER BY block_number)
               FROM app_funding), '10:true,20:true,30:false', 'app_funding: confirmed up to safe_number');
SELECT rwt.eq((SELECT string_agg(block_number || ':' || confirmed, ',' ORDER BY block_number)
               FROM balance_ledger), '10:true,20:true,30:false', 'balance_ledger: confirmed up to safe_number');
SELECT rwt.eq((SELECT runway_until - 1000000000000 || ' ' || confirmed_until - 1000000000000 || ' ' || confirmed
               FROM app_runways), '3 2 false',
	'app_runways: latest until unconfirmed, confirmed_until is the latest confirmed one');
SELECT rwt.eq((SELECT balance || ' ' || confirmed FROM balance_accounts), '30 false',
	'balance_accounts: unconfirmed while its latest event is');
SELECT rwt.eq((SELECT confirmed FROM erc20_transfers WHERE chain_id = 2), false,
	'another chain''s rows follow their own head');

DO $$ BEGIN PERFORM rwt.head(1, 31, 1); END $$;
SELECT rwt.eq((SELECT bool_and(confirmed) FROM erc20_transfers WHERE chain_id = 1), true,
	'the head moves: every row up to the new safe_number is confirmed');
SELECT rwt.eq((SELECT confirmed_until - 1000000000000 || ' ' || confirmed FROM app_runways), '3 true',
	'app_runways: confirmed follows the head');
SELECT rwt.eq((SELECT bool_and(confirmed) FROM balance_accounts), true, 'balance_accounts: confirmed');
DO $$ BEGIN PERFORM rwt.head(1, 31, 15); END $$;
SELECT rwt.eq((SELECT string_agg(block_number || ':' || confirmed, ',' ORDER BY block_number)
               FROM erc20_transfers WHERE chain_id = 1), '10:true,20:false,30:false',
	'more confirmations: safe_number moves back');
SELECT rwt.eq((SELECT confirmed FROM erc20_transfers WHERE chain_id = 2), false,
	'chain 2 still has no head');
DO $$ BEGIN PERFORM rwt.head(2, 30, 0); END $$;
SELECT rwt.eq((SELECT confirmed FROM erc20_transfers WHERE chain_id = 2), true,
	'chain 2 confirmed by its own head');

SELECT rwt.eq((SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_class c
               WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'v'
                 AND c.relname NOT IN ('balance_account_state', 'balance_instance_state')
                 -- the relayer's views show its own state machine (pending, confirmed,
                 -- final per transaction), not mirrored events
                 AND c.relname NOT LIKE 'relayer\_%'
                 -- the scheduler's views (0022) show its decisions and claims against
                 -- the mirror's indexed point, not mirrored events
                 AND c.relname NOT LIKE 'scheduler\_%'
                 AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                                 WHERE a.attrelid = c.oid AND a.attname = 'confirmed'
                                   AND a.atttypid = 'boolean'::regtype)), NULL,
	'every presentation view has a boolean confirmed column');

DO $$ BEGIN
	INSERT INTO provider_info (chain_id, address, token, payee, price, origin)
	VALUES (2, rwt.addr(3000), rwt.addr(256), rwt.addr(769), 2, 'config');
	INSERT INTO provider_info (chain_id, address, token, payee, price, origin)
	VALUES (3, rwt.addr(3000), rwt.addr(256), rwt.addr(769), 2, 'config');
END $$;
SELECT rwt.eq((SELECT string_agg(chain_id || ':' || confirmed, ',' ORDER BY chain_id) FROM providers
               WHERE provider = rw_hex(rwt.addr(3000))), '2:true,3:false',
	'a configured provider without events: confirmed once its chain has a head');
SELECT rwt.eq((SELECT string_agg(contract || ':' || confirmed, ',') FROM balance_contracts),
	rw_hex(rwt.addr(1536)) || ':false', 'balance_contracts: unconfirmed while an account''s latest event is');
DO $$ BEGIN PERFORM rwt.head(1, 40, 0); END $$;
SELECT rwt.eq((SELECT string_agg(contract || ':' || confirmed, ',') FROM balance_contracts),
	rw_hex(rwt.addr(1536)) || ':true', 'balance_contracts: confirmed with the head past every event');
