-- test_helpers: rw_units, rw_hex, rw_unhex, rw_time, rw_is_uint, rw_instance_status.

-- rw_units: exact, exactly `decimals` fraction digits
SELECT rwt.eq(rw_units(0, 18), '0.000000000000000000', 'rw_units 0 with 18 decimals');
SELECT rwt.eq(rw_units(0, 0), '0', 'rw_units 0 with 0 decimals');
SELECT rwt.eq(rw_units(1, 0), '1', 'rw_units 1 with 0 decimals');
SELECT rwt.eq(rw_units(1, 6), '0.000001', 'rw_units 1 with 6 decimals');
SELECT rwt.eq(rw_units(1, 18), '0.000000000000000001', 'rw_units 1 with 18 decimals');
SELECT rwt.eq(rw_units(10000000, 6), '10.000000', 'rw_units 10 USDC');
SELECT rwt.eq(rw_units(5000000000, 6), '5000.000000', 'rw_units 5000 USDC');
SELECT rwt.eq(rw_units(123456789, 0), '123456789', 'rw_units decimals 0 keeps the integer');
SELECT rwt.eq(rw_units(19990000000000195200, 18), '19.990000000000195200',
	'rw_units worked example cost(604800)');
SELECT rwt.eq(rw_units(33052248677249::numeric * 1209600, 18), '39.980000000000390400',
	'rw_units worked example cost(1209600) = price * seconds');
SELECT rwt.eq(rw_units(115792089237316195423570985008687907853269984665640564039457584007913129639935, 18),
	'115792089237316195423570985008687907853269984665640564039457.584007913129639935',
	'rw_units 2^256-1 with 18 decimals');
SELECT rwt.eq(rw_units(2::numeric ^ 256 - 1, 0),
	'115792089237316195423570985008687907853269984665640564039457584007913129639935',
	'rw_units 2^256-1 (computed, scale > 0) with 0 decimals');
SELECT rwt.eq(rw_units(-2500000, 6), '-2.500000', 'rw_units keeps the sign of signed amounts');
SELECT rwt.eq(rw_units(1, 77), '0.' || repeat('0', 76) || '1', 'rw_units 77 decimals');
SELECT rwt.eq(rw_units(1::numeric(78,0), 6), '0.000001', 'rw_units takes numeric(78,0)');
SELECT rwt.eq(rw_units(10, NULL), NULL::text, 'rw_units NULL decimals (unknown token) is NULL');
SELECT rwt.throws('SELECT rw_units(1.5, 6)', '22023', 'rw_units refuses a fraction of a base unit');
SELECT rwt.throws('SELECT rw_units(1, -1)', '22023', 'rw_units refuses negative decimals');

-- rw_hex / rw_unhex
SELECT rwt.eq(rw_hex('\x00AbCdEf'::bytea), '0x00abcdef', 'rw_hex is 0x and lowercase');
SELECT rwt.eq(rw_hex(''::bytea), '0x', 'rw_hex of no bytes');
SELECT rwt.eq(rw_hex(NULL::bytea), NULL::text, 'rw_hex NULL');
SELECT rwt.eq(rw_hex(rwt.addr(1)), '0x0000000000000000000000000000000000000001', 'rw_hex address');
SELECT rwt.eq(rw_unhex('0xABcd'), '\xabcd'::bytea, 'rw_unhex any case');
SELECT rwt.eq(rw_unhex(rw_hex(rwt.tx(1))), rwt.tx(1), 'rw_unhex(rw_hex(b)) = b');
SELECT rwt.throws('SELECT rw_unhex(''abcd'')', '22023', 'rw_unhex refuses hex without 0x');
SELECT rwt.throws('SELECT rw_unhex(''0xabc'')', '22023', 'rw_unhex refuses an odd digit count');
SELECT rwt.throws('SELECT rw_unhex(''0xzz'')', '22023', 'rw_unhex refuses non-hex');

-- rw_time
SELECT rwt.eq(rw_time(0), '1970-01-01 00:00:00+00'::timestamptz, 'rw_time epoch');
SELECT rwt.eq(rw_time(1700000000), '2023-11-14 22:13:20+00'::timestamptz, 'rw_time unix seconds');
SELECT rwt.eq(rw_time(2::numeric ^ 200), NULL::timestamptz, 'rw_time out of range is NULL');

-- rw_is_uint
SELECT rwt.ok(rw_is_uint(0, 256) AND rw_is_uint(2::numeric ^ 256 - 1, 256), 'rw_is_uint bounds in');
SELECT rwt.ok(NOT rw_is_uint(2::numeric ^ 256, 256) AND NOT rw_is_uint(-1, 256)
	AND NOT rw_is_uint(0.5, 256), 'rw_is_uint bounds out');
SELECT rwt.ok(rw_is_uint(255, 8) AND NOT rw_is_uint(256, 8), 'rw_is_uint uint8');

-- rw_instance_status
SELECT rwt.eq(string_agg(rw_instance_status(c), ',' ORDER BY c),
	'None,Active,SmallBalance,Stopped,Terminated,InsufficientFunds,Unknown(9)',
	'rw_instance_status names')
FROM unnest(ARRAY[0, 1, 2, 3, 4, 5, 9]::numeric[]) c;
