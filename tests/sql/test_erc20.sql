-- test_erc20: erc20_transfers, erc20_balances (watch = all only), and
-- erc20_allowances for approvals without pulls.
-- Chain 1; token W (6 decimals, watched wholly), token Q (not in the token
-- table, watched by address); holders U, V, Z.
DO $$
DECLARE
	w bytea := rwt.addr(272);   -- 0x...0110
	q bytea := rwt.addr(273);
	u bytea := rwt.addr(1024);  -- 0x...0400
	v bytea := rwt.addr(1025);
	z bytea := rwt.addr(1026);
	zero bytea := rwt.addr(0);
BEGIN
	PERFORM rwt.block(1, 0);
	INSERT INTO token (chain_id, address, symbol, decimals) VALUES (1, w, 'USDW', 6);
	INSERT INTO indexer_source (chain_id, address, kind, start_block, watch, config_name)
	VALUES (1, w, 'TestToken', 0, 'all', 'usdw'), (1, q, 'TestToken', 0, 'watched', 'q');
	PERFORM rwt.emit('ev_erc20_transfer', 2, 0, 1, w,
		jsonb_build_object('from_address', zero, 'to_address', u, 'value', 100000000));
	PERFORM rwt.emit('ev_erc20_transfer', 3, 0, 2, w,
		jsonb_build_object('from_address', u, 'to_address', v, 'value', 30000000));
	PERFORM rwt.emit('ev_erc20_transfer', 3, 1, 2, w,
		jsonb_build_object('from_address', v, 'to_address', z, 'value', 1));
	PERFORM rwt.emit('ev_erc20_transfer', 4, 0, 3, q,
		jsonb_build_object('from_address', zero, 'to_address', u, 'value', 5));
	PERFORM rwt.emit('ev_erc20_approval', 5, 0, 4, w,
		jsonb_build_object('owner', u, 'spender', v, 'value', 7000000));
	PERFORM rwt.emit('ev_erc20_approval', 6, 0, 5, w,
		jsonb_build_object('owner', u, 'spender', v, 'value', 2500000));
	PERFORM rwt.emit('ev_erc20_approval', 6, 1, 5, w,
		jsonb_build_object('owner', u, 'spender', z, 'value', 2::numeric ^ 256 - 1));
	PERFORM rwt.head(1, 10, 0);
END
$$;

SELECT rwt.eq((SELECT count(*) FROM erc20_transfers), 4::bigint, 'erc20_transfers: one row per Transfer');
SELECT rwt.eq(t.*::text,
	'(1,0x0000000000000000000000000000000000000110,USDW,0x0000000000000000000000000000000000000400,'
	'0x0000000000000000000000000000000000000401,30000000,30.000000,3,"2023-11-14 22:13:56+00",'
	|| rw_hex(rwt.tx(2)) || ',0,t)', 'erc20_transfers: columns of a transfer')
FROM erc20_transfers t WHERE t.block_number = 3 AND t.log_index = 0;
SELECT rwt.eq(t.value_units, NULL::text, 'erc20_transfers: unknown token has no decimal amount')
FROM erc20_transfers t WHERE t.token = '0x0000000000000000000000000000000000000111';
SELECT rwt.eq(t.from_address, '0x0000000000000000000000000000000000000000', 'erc20_transfers: mint from zero')
FROM erc20_transfers t WHERE t.block_number = 2;

SELECT rwt.eq((SELECT string_agg(right(holder, 3) || '=' || balance_units, ',' ORDER BY holder)
               FROM erc20_balances), '400=70.000000,401=29.999999,402=0.000001',
	'erc20_balances: sums in and out per holder, without the zero address');
SELECT rwt.eq((SELECT count(*) FROM erc20_balances
               WHERE token = '0x0000000000000000000000000000000000000111'), 0::bigint,
	'erc20_balances: tokens watched by address only are left out');

SELECT rwt.eq((SELECT approved || '/' || spent || '/' || allowance || '/' || allowance_units
               FROM erc20_allowances WHERE right(spender, 3) = '401'),
	'2500000/0/2500000/2.500000', 'erc20_allowances: the latest Approval counts');
SELECT rwt.eq((SELECT unlimited AND allowance = 2::numeric ^ 256 - 1
               FROM erc20_allowances WHERE right(spender, 3) = '402'), true,
	'erc20_allowances: 2^256-1 is unlimited');
SELECT rwt.eq((SELECT count(*) FROM erc20_allowances), 2::bigint,
	'erc20_allowances: one row per owner and spender');
