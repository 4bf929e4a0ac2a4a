-- test_schema: abi/events.json, the event-table registry and the tables agree
-- (names, types per INDEXER.md, order, keys, indexes); CHECK constraints
-- refuse bad bytes and amounts; every table and view is commented.

-- One row per event parameter (run-sql-tests builds it from abi/*.json).
CREATE TEMP TABLE spec AS
SELECT e->>'table' AS tbl, e->>'kind' AS kind, e->>'event' AS event, (e->>'position')::int AS position,
       e->>'param' AS param, e->>'column' AS col, e->>'type' AS type, (e->>'indexed')::boolean AS indexed
FROM jsonb_array_elements(:'event_spec'::jsonb) e;

CREATE TEMP TABLE map AS
SELECT m->>'kind' AS kind, m->>'event' AS event, m->>'table' AS tbl, m->'columns' AS columns
FROM jsonb_array_elements(:'events_json'::jsonb) m;

SELECT rwt.ok((SELECT count(*) FROM spec) > 60, 'event spec read from abi/*.json (' ||
	(SELECT count(*) FROM spec) || ' parameters)');
SELECT rwt.eq((SELECT count(*) FROM map), 23::bigint, 'events.json has 23 entries');
SELECT rwt.eq((SELECT count(DISTINCT tbl) FROM map), (SELECT count(*) FROM map),
	'events.json table names are unique');
SELECT rwt.eq((SELECT count(DISTINCT (kind, event)) FROM map), (SELECT count(*) FROM map),
	'events.json maps each event once');
SELECT rwt.eq((SELECT string_agg(tbl, ',') FROM map WHERE tbl !~ '^ev_[a-z0-9_]+$'), NULL,
	'events.json table names are ev_[a-z0-9_]+');
SELECT rwt.eq((SELECT string_agg(m.tbl || '.' || k, ',')
               FROM map m, jsonb_object_keys(coalesce(m.columns, '{}')) k
               WHERE NOT EXISTS (SELECT 1 FROM spec s WHERE s.tbl = m.tbl AND s.param = k)),
	NULL, 'events.json renames only parameters that exist');

SELECT rwt.eq((SELECT string_agg(m.tbl, ',') FROM map m
               LEFT JOIN indexer_event_table r ON r.table_name = m.tbl AND r.kind = m.kind
                                              AND r.event = m.event
               WHERE r.table_name IS NULL), NULL,
	'every events.json entry is registered with its kind and event');
SELECT rwt.eq((SELECT string_agg(r.table_name, ',') FROM indexer_event_table r
               WHERE NOT EXISTS (SELECT 1 FROM map m WHERE m.tbl = r.table_name)), NULL,
	'no registered table is missing from events.json');

-- Leading columns, in order, with types.
WITH want (attnum, attname, typ) AS (VALUES
	(1, 'chain_id', 'bigint'), (2, 'block_number', 'bigint'), (3, 'block_hash', 'bytea'),
	(4, 'tx_hash', 'bytea'), (5, 'tx_index', 'integer'), (6, 'log_index', 'integer'),
	(7, 'address', 'bytea'))
SELECT rwt.eq((SELECT string_agg(r.table_name || '.' || w.attname, ',')
               FROM indexer_event_table r CROSS JOIN want w
               LEFT JOIN pg_attribute a ON a.attrelid = r.table_name::regclass
                    AND a.attnum = w.attnum AND NOT a.attisdropped
               WHERE a.attname IS DISTINCT FROM w.attname
                  OR format_type(a.atttypid, a.atttypmod) <> w.typ OR NOT a.attnotnull),
	NULL, 'every event table starts with the 7 common columns, NOT NULL');

-- Parameter columns: type mapping of INDEXER.md, ABI order, NOT NULL.
CREATE TEMP TABLE param_check AS
SELECT s.*, a.attnum, format_type(a.atttypid, a.atttypmod) AS got, a.attnotnull,
       CASE WHEN s.type = 'address' THEN 'bytea'
            WHEN s.type ~ '^u?int[0-9]*$' THEN 'numeric(78,0)'
            WHEN s.type = 'bool' THEN 'boolean'
            WHEN s.type ~ '^bytes[0-9]*$' THEN 'bytea'
            WHEN s.type = 'string' AND NOT s.indexed THEN 'text'
            WHEN s.indexed THEN 'bytea'
            ELSE 'jsonb' END AS want
FROM spec s
LEFT JOIN pg_attribute a ON a.attrelid = to_regclass(s.tbl) AND a.attname = s.col
                        AND NOT a.attisdropped;
SELECT rwt.eq((SELECT string_agg(tbl || '.' || col || ' ' || coalesce(got, 'missing') || ' want ' || want, ', ')
               FROM param_check WHERE got IS DISTINCT FROM want), NULL,
	'every event parameter has its column with the mapped type');
SELECT rwt.eq((SELECT string_agg(tbl || '.' || col, ',') FROM param_check
               WHERE attnum IS DISTINCT FROM 8 + position), NULL,
	'parameter columns follow the common ones in ABI order');
SELECT rwt.eq((SELECT string_agg(tbl || '.' || col, ',') FROM param_check WHERE NOT attnotnull),
	NULL, 'parameter columns are NOT NULL');
SELECT rwt.eq((SELECT string_agg(r.table_name, ',') FROM indexer_event_table r
               WHERE (SELECT count(*) FROM pg_attribute a
                      WHERE a.attrelid = r.table_name::regclass AND a.attnum > 0
                        AND NOT a.attisdropped)
                  <> 7 + (SELECT count(*) FROM spec s WHERE s.tbl = r.table_name)), NULL,
	'event tables have no columns beyond the common ones and the parameters');
SELECT rwt.eq((SELECT string_agg(tbl || '.' || col, ',') FROM spec s
               JOIN pg_get_keywords() k ON k.word = s.col AND k.catcode = 'R'), NULL,
	'no column is an SQL reserved word');

-- Keys and indexes.
SELECT rwt.eq((SELECT string_agg(r.table_name, ',') FROM indexer_event_table r
               WHERE NOT EXISTS (
                   SELECT 1 FROM pg_index i
                   WHERE i.indrelid = r.table_name::regclass AND i.indisprimary
                     AND (SELECT array_agg(a.attname ORDER BY k.ord)
                          FROM unnest(i.indkey) WITH ORDINALITY k (attnum, ord)
                          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum)
                         = ARRAY['chain_id', 'block_hash', 'log_index']::name[])), NULL,
	'every event table has PRIMARY KEY (chain_id, block_hash, log_index)');
SELECT rwt.eq((SELECT string_agg(r.table_name, ',') FROM indexer_event_table r
               WHERE NOT EXISTS (
                   SELECT 1 FROM pg_index i
                   WHERE i.indrelid = r.table_name::regclass
                     AND (SELECT array_agg(a.attname ORDER BY k.ord)
                          FROM unnest(i.indkey) WITH ORDINALITY k (attnum, ord)
                          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum)
                         = ARRAY['chain_id', 'block_number']::name[])), NULL,
	'every event table has an index on (chain_id, block_number)');

-- Every table accepts a sample row built from the ABI types.
DO $$
DECLARE
	t record;
BEGIN
	FOR t IN SELECT tbl, jsonb_object_agg(col, rwt.sample(type, indexed, position + 3)) AS args
	         FROM spec GROUP BY tbl LOOP
		PERFORM rwt.emit(t.tbl, 5, 0, 1, rwt.addr(900), t.args);
	END LOOP;
END
$$;
SELECT rwt.eq((SELECT count(*) FROM ev_erc20_transfer) + (SELECT count(*) FROM ev_balance_instance_ended),
	2::bigint, 'a sample row goes into every event table');

-- CHECK constraints.
SELECT rwt.throws($$SELECT rwt.emit('ev_erc20_transfer', 6, 0, 1, rwt.addr(900),
	jsonb_build_object('from_address', '\x' || repeat('11', 19), 'to_address', rwt.addr(2), 'value', 1))$$,
	'23514', 'a 19-byte address parameter is refused');
SELECT rwt.throws($$SELECT rwt.emit('ev_erc20_transfer', 6, 0, 1, '\x1111111111111111111111111111111111111111'::bytea || '\x22'::bytea,
	jsonb_build_object('from_address', rwt.addr(1), 'to_address', rwt.addr(2), 'value', 1))$$,
	'23514', 'a 21-byte emitting address is refused');
SELECT rwt.throws($$INSERT INTO ev_erc20_transfer VALUES (1, 6, rwt.block(1, 6), '\x00', 0, 0,
	rwt.addr(900), rwt.addr(1), rwt.addr(2), 1)$$, '23514', 'a 1-byte tx hash is refused');
SELECT rwt.throws($$SELECT rwt.emit('ev_erc20_transfer', 6, 0, 1, rwt.addr(900),
	jsonb_build_object('from_address', rwt.addr(1), 'to_address', rwt.addr(2), 'value', -1))$$,
	'23514', 'a negative amount is refused');
SELECT rwt.throws($$SELECT rwt.emit('ev_balance_deposited', 6, 0, 1, rwt.addr(900),
	jsonb_build_object('account', rwt.addr(1), 'payer', rwt.addr(2), 'amount', -10000000, 'tax', 0,
	                   'ref', rwt.h32(1), 'balance_after', 0))$$,
	'23514', 'a negative deposit is refused');
SELECT rwt.throws($$SELECT rwt.emit('ev_erc20_transfer', 6, 0, 1, rwt.addr(900),
	jsonb_build_object('from_address', rwt.addr(1), 'to_address', rwt.addr(2),
	                   'value', 2::numeric ^ 256))$$, '23514', 'an amount of 2^256 is refused');
SELECT rwt.throws($$SELECT rwt.emit('ev_balance_instance_ended', 6, 0, 1, rwt.addr(900),
	jsonb_build_object('instance_id', rwt.h32(1), 'account', rwt.addr(1), 'reason', 256,
	                   'refunded', 0, 'balance_after', 0))$$, '23514', 'a uint8 of 256 is refused');
SELECT rwt.throws($$SELECT rwt.emit('ev_balance_charged', 6, 0, 1, rwt.addr(900),
	jsonb_build_object('instance_id', '\x' || repeat('ab', 31), 'account', rwt.addr(1),
	                   'provider', rwt.addr(2), 'period', 1, 'amount', 1, 'reserve_after', 1,
	                   'paid_until', 1))$$, '23514', 'a 31-byte bytes32 is refused');
SELECT rwt.throws($$SELECT rwt.emit('ev_erc20_transfer', 5, 0, 1, rwt.addr(900),
	jsonb_build_object('from_address', rwt.addr(1), 'to_address', rwt.addr(2), 'value', 1))$$,
	'23505', 'the same (chain, block hash, log index) twice is refused');
SELECT rwt.throws($$INSERT INTO indexer_source (chain_id, address, kind, start_block, config_name)
	VALUES (1, ('\x' || repeat('11', 19))::bytea, 'TestToken', 0, 'usdc')$$, '23514',
	'indexer_source refuses a 19-byte address');
SELECT rwt.throws($$INSERT INTO indexer_source (chain_id, address, kind, start_block)
	VALUES (1, rwt.addr(5), 'TestToken', 0)$$, '23514',
	'indexer_source needs a config name or a discovery');
SELECT rwt.throws($$INSERT INTO indexer_source (chain_id, address, kind, start_block, config_name)
	VALUES (424242, rwt.addr(5), 'TestToken', 0, 'x')$$, '23503',
	'indexer_source refuses an unknown chain');
SELECT rwt.throws($$INSERT INTO token VALUES (1, rwt.addr(5), 'X', 256)$$, '23514',
	'token decimals above 255 are refused');
SELECT rwt.throws($$INSERT INTO indexer_block VALUES (1, 7, rwt.h32(77), rwt.h32(66), 0),
	(1, 7, rwt.h32(78), rwt.h32(66), 0)$$, '23505', 'indexer_block keeps one header per height');
SELECT rwt.throws($$SELECT rwt.head(1, 3, -1)$$, '23514', 'chain_head refuses negative confirmations');
SELECT rwt.throws($$UPDATE chain_head SET safe_number = 1$$, '428C9',
	'chain_head.safe_number is generated');

-- Comments, for dashboards.
SELECT rwt.eq((SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_class c
               WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v')
                 AND c.relname NOT IN ('runway_migrations', 'chain') -- not ours
                 AND coalesce(obj_description(c.oid, 'pg_class'), '') = ''), NULL,
	'every table and view of 0002/0003 has a COMMENT');
SELECT rwt.eq((SELECT string_agg(p.proname, ',') FROM pg_proc p
               WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'rw\_%'
                 AND p.prorettype <> 'trigger'::regtype
                 AND coalesce(obj_description(p.oid, 'pg_proc'), '') = ''), NULL,
	'every rw_ function has a COMMENT');
