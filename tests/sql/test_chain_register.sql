-- test_chain_register: rw_chain_register (migrations/0028_chain_register.sql),
-- the indexer's write of its chain row: insert, the same call again, a
-- rename, and a name held by another chain id (a plain error naming both).
-- The concurrent insert it exists for is checked by run-sql-tests itself
-- (two sessions; a file runs in one).
SELECT rw_chain_register(424201, 'reg-a');
SELECT rwt.eq((SELECT name FROM chain WHERE chain_id = 424201), 'reg-a', 'a new chain is inserted');
SELECT rw_chain_register(424201, 'reg-a');
SELECT rwt.eq((SELECT count(*) FROM chain WHERE chain_id = 424201 OR name = 'reg-a'), 1::bigint,
	'the same call again changes nothing');
SELECT rw_chain_register(424201, 'reg-b');
SELECT rwt.eq((SELECT name FROM chain WHERE chain_id = 424201), 'reg-b',
	'a known chain id with a new name is renamed');
SELECT rwt.ok(NOT EXISTS (SELECT 1 FROM chain WHERE name = 'reg-a'), 'the old name is free again');

SELECT rw_chain_register(424202, 'reg-c');
SELECT rwt.eq(rwt.err($$SELECT rw_chain_register(424202, 'reg-b')$$),
	'23505 chain name reg-b is already used by chain id 424201, cannot name chain id 424202 so',
	'renaming to a name another chain holds fails, naming both ids');
SELECT rwt.eq((SELECT name FROM chain WHERE chain_id = 424202), 'reg-c',
	'the refused rename changed nothing');
SELECT rwt.eq(rwt.err($$SELECT rw_chain_register(424203, 'reg-b')$$),
	'23505 chain name reg-b is already used by chain id 424201, cannot name chain id 424203 so',
	'a new chain id with a name another chain holds fails, naming both ids');
SELECT rwt.ok(NOT EXISTS (SELECT 1 FROM chain WHERE chain_id = 424203),
	'the refused chain is not inserted');
