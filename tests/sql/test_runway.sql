-- test_runway: provider discovery from the factory, providers, app_runways,
-- app_funding, and allowances drawn down by runway extensions.
--
-- Chain 1, token T (18 decimals), Marketplace M (configured), provider P
-- created by M at block 10 (payee Y, price 33052248677249, the worked
-- example). Payers U and V. Applications:
--   A1 deployed at 12 with 604800 s, extended live at 20 (+1209600) and in a
--      two-extension transaction at 21 (+86400): active
--   A2 funded 3600 s at 14: lapsed by the head at 700 (so is A4)
--   A3 deployed at 13 without runway: never funded
--   A4 funded in the two-extension transaction at 21 (+7200), and by V at 23
\set price 33052248677249
DO $$
DECLARE
	t bytea := rwt.addr(256);
	m bytea := rwt.addr(512);
	p bytea := rwt.addr(768);
	y bytea := rwt.addr(769);
	u bytea := rwt.addr(1024);
	v bytea := rwt.addr(1025);
	z bytea := rwt.addr(1026);
	price numeric := 33052248677249;
	a1 bytea := rwt.addr(1281);
	a2 bytea := rwt.addr(1282);
	a3 bytea := rwt.addr(1283);
	a4 bytea := rwt.addr(1284);
	u1 numeric := rwt.block_time(12) + 604800;
BEGIN
	PERFORM rwt.block(1, 0);
	INSERT INTO token (chain_id, address, symbol, decimals) VALUES (1, t, 'TT', 18);
	INSERT INTO indexer_source (chain_id, address, kind, start_block, watch, config_name)
	VALUES (1, t, 'TestToken', 0, 'watched', 'tt'), (1, m, 'Marketplace', 5, NULL, 'market');
	-- approvals: an old one, then the current ones (U: 100 T; V: unlimited)
	PERFORM rwt.emit('ev_erc20_approval', 8, 0, 1, t,
		jsonb_build_object('owner', u, 'spender', p, 'value', 5000000000000000000));
	PERFORM rwt.emit('ev_marketplace_provider_created', 10, 0, 2, m,
		jsonb_build_object('provider', p, 'consensus', rwt.addr(770), 'token', t, 'payee', y,
		                   'price', price));
	PERFORM rwt.emit('ev_erc20_approval', 11, 0, 3, t,
		jsonb_build_object('owner', u, 'spender', p, 'value', 100000000000000000000));
	PERFORM rwt.emit('ev_erc20_approval', 11, 1, 4, t,
		jsonb_build_object('owner', v, 'spender', p, 'value', 2::numeric ^ 256 - 1));
	-- deploy A1 with 604800 s (the provider logs, then pulls)
	PERFORM rwt.emit('ev_vnp_application_deployed', 12, 0, 5, p,
		jsonb_build_object('application', a1, 'owner', u, 'template_hash', rwt.h32(1), 'salt', rwt.h32(2)));
	PERFORM rwt.emit('ev_vnp_machine_location', 12, 1, 5, p,
		jsonb_build_object('application', a1, 'location', 'ipfs://a1'));
	PERFORM rwt.emit('ev_vnp_financial_runway', 12, 2, 5, p,
		jsonb_build_object('application', a1, 'until', u1));
	PERFORM rwt.emit('ev_erc20_transfer', 12, 3, 5, t,
		jsonb_build_object('from_address', u, 'to_address', y, 'value', 604800 * price));
	-- deploy A3 without runway
	PERFORM rwt.emit('ev_vnp_application_deployed', 13, 0, 6, p,
		jsonb_build_object('application', a3, 'owner', v, 'template_hash', rwt.h32(1), 'salt', rwt.h32(3)));
	PERFORM rwt.emit('ev_vnp_machine_location', 13, 1, 6, p,
		jsonb_build_object('application', a3, 'location', 'ipfs://a3'));
	-- A2: one hour
	PERFORM rwt.emit('ev_vnp_financial_runway', 14, 0, 7, p,
		jsonb_build_object('application', a2, 'until', rwt.block_time(14) + 3600));
	PERFORM rwt.emit('ev_erc20_transfer', 14, 1, 7, t,
		jsonb_build_object('from_address', u, 'to_address', y, 'value', 3600 * price));
	-- A1 extended while live
	PERFORM rwt.emit('ev_vnp_financial_runway', 20, 0, 8, p,
		jsonb_build_object('application', a1, 'until', u1 + 1209600));
	PERFORM rwt.emit('ev_erc20_transfer', 20, 1, 8, t,
		jsonb_build_object('from_address', u, 'to_address', y, 'value', 1209600 * price));
	-- one transaction, two extensions (A4 new, A1 live)
	PERFORM rwt.emit('ev_vnp_financial_runway', 21, 0, 9, p,
		jsonb_build_object('application', a4, 'until', rwt.block_time(21) + 7200));
	PERFORM rwt.emit('ev_erc20_transfer', 21, 1, 9, t,
		jsonb_build_object('from_address', u, 'to_address', y, 'value', 7200 * price));
	PERFORM rwt.emit('ev_vnp_financial_runway', 21, 2, 9, p,
		jsonb_build_object('application', a1, 'until', u1 + 1209600 + 86400));
	PERFORM rwt.emit('ev_erc20_transfer', 21, 3, 9, t,
		jsonb_build_object('from_address', u, 'to_address', y, 'value', 86400 * price));
	-- a plain transfer by U (not a pull by P)
	PERFORM rwt.emit('ev_erc20_transfer', 22, 0, 10, t,
		jsonb_build_object('from_address', u, 'to_address', z, 'value', 1));
	-- V pays for A4 (live: 7200 s from block 21 still running at 23)
	PERFORM rwt.emit('ev_vnp_financial_runway', 23, 0, 11, p,
		jsonb_build_object('application', a4, 'until', rwt.block_time(21) + 7200 + 60));
	PERFORM rwt.emit('ev_erc20_transfer', 23, 1, 11, t,
		jsonb_build_object('from_address', v, 'to_address', y, 'value', 60 * price));
	PERFORM rwt.emit('ev_vnp_paused', 30, 0, 12, p, jsonb_build_object('account', u));
	PERFORM rwt.head(1, 700, 0);
END
$$;

-- Discovery by the factory log.
SELECT rwt.eq((SELECT s.kind || ' start ' || s.start_block || ' by ' || f.config_name || ' at '
                      || s.discovered_block || ' ' || (s.discovered_tx = rwt.tx(2))
                      || ' cursor ' || c.next_block
               FROM indexer_source s
               JOIN indexer_source f ON f.id = s.discovered_by
               JOIN indexer_cursor c ON c.source_id = s.id
               WHERE s.address = rwt.addr(768)),
	'ValidatorNodeProvider start 10 by market at 10 true cursor 10',
	'factory log adds the provider as a source with its cursor at the log''s block');
SELECT rwt.eq((SELECT count(*) FROM indexer_cursor), 3::bigint,
	'every source has a cursor (trigger)');
SELECT rwt.eq((SELECT string_agg(reason || ' ' || right(rw_hex(address), 3) || ' from ' || start_block,
                                 ',' ORDER BY reason)
               FROM watched_address),
	'payee 301 from 10,provider 300 from 10', 'the provider and its payee are watched');
SELECT rwt.eq((SELECT origin || ' ' || price || ' ' || (source_id IS NOT NULL) FROM provider_info),
	'factory 33052248677249 true', 'provider_info from the factory log');

-- providers
SELECT rwt.eq((SELECT provider || ' ' || token || ' ' || symbol || ' ' || payee || ' ' || price_units
                      || ' ' || paused FROM providers),
	'0x0000000000000000000000000000000000000300 0x0000000000000000000000000000000000000100 TT '
	'0x0000000000000000000000000000000000000301 0.000033052248677249 true',
	'providers: terms, decimal price per second, paused');

-- app_runways
SELECT rwt.eq((SELECT string_agg(right(application, 3) || ' ' || status, ', ' ORDER BY application)
               FROM app_runways),
	'501 active, 502 lapsed, 503 never funded, 504 lapsed', 'app_runways: status per application');
SELECT rwt.eq((SELECT runway_until || ' ' || seconds_left FROM app_runways WHERE right(application, 3) = '501'),
	(rwt.block_time(12) + 604800 + 1209600 + 86400) || ' '
	|| (rwt.block_time(12) + 604800 + 1209600 + 86400 - rwt.block_time(700)),
	'app_runways: until and seconds left against the chain head''s time');
SELECT rwt.eq((SELECT seconds_left || ' ' || runway_until FROM app_runways WHERE right(application, 3) = '502'),
	'0 ' || (rwt.block_time(14) + 3600), 'app_runways: a lapsed runway has 0 seconds left');
SELECT rwt.eq((SELECT runway_until || ' ' || seconds_left || ' ' || coalesce(funded_tx, '-') || ' '
                      || location || ' ' || right(owner, 3)
               FROM app_runways WHERE right(application, 3) = '503'),
	'0 0 - ipfs://a3 401', 'app_runways: never funded, with owner and location from deploy');
SELECT rwt.eq((SELECT provider_paused AND payee = '0x0000000000000000000000000000000000000301'
               FROM app_runways WHERE right(application, 3) = '501'), true,
	'app_runways: provider paused flag and terms');
SELECT rwt.eq((SELECT until_time FROM app_runways WHERE right(application, 3) = '502'),
	rw_time(rwt.block_time(14) + 3600), 'app_runways: until as timestamptz');
DO $$ BEGIN PERFORM rwt.head(1, 20, 0); END $$;
SELECT rwt.eq((SELECT string_agg(right(application, 3) || ' ' || status, ', ' ORDER BY application)
               FROM app_runways),
	'501 active, 502 active, 503 never funded, 504 active',
	'app_runways: an earlier head (chain time) makes them active again');
DO $$ BEGIN PERFORM rwt.emit('ev_vnp_unpaused', 31, 0, 13, rwt.addr(768), jsonb_build_object('account', rwt.addr(1024))); END $$;
SELECT rwt.eq((SELECT bool_or(provider_paused) FROM app_runways), false,
	'app_runways: Unpaused after Paused clears the flag');

-- app_funding
SELECT rwt.eq((SELECT string_agg(right(application, 3) || ' ' || right(payer, 3) || ' ' || seconds || ' '
                                 || amount_units || ' ' || (amount = cost) || ' ' || restarted,
                                 ', ' ORDER BY block_number, log_index)
               FROM app_funding),
	'501 400 604800 19.990000000000195200 true true, '
	'502 400 3600 0.118988095238096400 true true, '
	'501 400 1209600 39.980000000000390400 true false, '
	'504 400 7200 0.237976190476192800 true true, '
	'501 400 86400 2.855714285714313600 true false, '
	'504 401 60 0.001983134920634940 true false',
	'app_funding: payer and amount from the transfer in the same transaction, seconds and cost');
SELECT rwt.eq((SELECT previous_until FROM app_funding WHERE right(application, 3) = '501' AND block_number = 20),
	rwt.block_time(12) + 604800::numeric, 'app_funding: previous until');

-- allowances drawn down by pulls of the provider
SELECT rwt.eq((SELECT approved || ' ' || spent || ' ' || allowance FROM erc20_allowances
               WHERE right(owner, 3) = '400'),
	'100000000000000000000 ' || (604800 + 3600 + 1209600 + 7200 + 86400) * :price::numeric || ' '
	|| (100000000000000000000 - (604800 + 3600 + 1209600 + 7200 + 86400) * :price::numeric),
	'erc20_allowances: runway pulls since the latest Approval lower the allowance; plain transfers do not');
SELECT rwt.eq((SELECT unlimited || ' ' || spent || ' ' || (allowance = approved) FROM erc20_allowances
               WHERE right(owner, 3) = '401'),
	'true ' || 60 * :price::numeric || ' true', 'erc20_allowances: unlimited stays unlimited');
