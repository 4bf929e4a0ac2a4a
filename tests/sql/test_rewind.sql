-- test_rewind: rw_indexer_rewind deletes exactly the rows at or above the
-- fork from every registered event table (also one registered later), the
-- block headers there, the sources discovered there (with their cursor,
-- provider_info and watched addresses), and moves cursors back;
-- rw_indexer_prune_blocks keeps headers that hold logs.
CREATE TEMP TABLE spec AS
SELECT e->>'table' AS tbl, (e->>'position')::int AS position, e->>'column' AS col,
       e->>'type' AS type, (e->>'indexed')::boolean AS indexed
FROM jsonb_array_elements(:'event_spec'::jsonb) e;

-- A table a later migration would add: registered, so rewound too.
SELECT rw_event_table_create('ev_test_later', 'Later', 'Happened', 'test only');
ALTER TABLE ev_test_later ADD COLUMN n numeric(78,0) NOT NULL;

DO $$
DECLARE
	t record;
	i int := 0;
BEGIN
	FOR b IN 0..20 LOOP PERFORM rwt.block(1, b); END LOOP;
	PERFORM rwt.block(2, 0);
	INSERT INTO indexer_source (chain_id, address, kind, start_block, watch, config_name)
	VALUES (1, rwt.addr(256), 'TestToken', 0, 'watched', 'tt'),
	       (1, rwt.addr(512), 'Marketplace', 0, NULL, 'market'),
	       (1, rwt.addr(1536), 'Balance', 15, NULL, 'late-balance'),
	       (1, rwt.addr(1537), 'Balance', 0, NULL, 'slow-balance'),
	       (2, rwt.addr(512), 'Marketplace', 0, NULL, 'market');
	-- providers discovered below and above the fork (and one configured
	-- provider that the factory also announces above the fork)
	INSERT INTO indexer_source (chain_id, address, kind, start_block, config_name)
	VALUES (1, rwt.addr(770), 'ValidatorNodeProvider', 0, 'known');
	PERFORM rwt.emit('ev_marketplace_provider_created', 8, 50, 80, rwt.addr(512),
		jsonb_build_object('provider', rwt.addr(768), 'consensus', rwt.addr(1), 'token', rwt.addr(256),
		                   'payee', rwt.addr(868), 'price', 1));
	PERFORM rwt.emit('ev_marketplace_provider_created', 12, 50, 81, rwt.addr(512),
		jsonb_build_object('provider', rwt.addr(769), 'consensus', rwt.addr(1), 'token', rwt.addr(256),
		                   'payee', rwt.addr(869), 'price', 1));
	PERFORM rwt.emit('ev_marketplace_provider_created', 12, 51, 81, rwt.addr(512),
		jsonb_build_object('provider', rwt.addr(770), 'consensus', rwt.addr(1), 'token', rwt.addr(256),
		                   'payee', rwt.addr(870), 'price', 1));
	PERFORM rwt.emit('ev_marketplace_provider_created', 12, 50, 81, rwt.addr(512),
		jsonb_build_object('provider', rwt.addr(769), 'consensus', rwt.addr(1), 'token', rwt.addr(256),
		                   'payee', rwt.addr(869), 'price', 1), 2);
	-- one row below (block 5) and two at or above (10, 12) the fork in every
	-- table, one per table on chain 2 at block 12
	FOR t IN SELECT tbl, jsonb_object_agg(col, rwt.sample(type, indexed, 4000 + position)) AS args
	         FROM spec GROUP BY tbl ORDER BY tbl LOOP
		i := i + 1;
		PERFORM rwt.emit(t.tbl, 5, i, 1, rwt.addr(900), t.args);
		PERFORM rwt.emit(t.tbl, 10, i, 2, rwt.addr(900), t.args);
		PERFORM rwt.emit(t.tbl, 12, i, 3, rwt.addr(900), t.args);
		PERFORM rwt.emit(t.tbl, 12, i, 3, rwt.addr(900), t.args, 2);
	END LOOP;
	PERFORM rwt.emit('ev_test_later', 5, 0, 1, rwt.addr(900), '{"n": 1}');
	PERFORM rwt.emit('ev_test_later', 11, 0, 1, rwt.addr(900), '{"n": 2}');
	UPDATE indexer_cursor SET next_block = 21;
	UPDATE indexer_cursor SET next_block = 7
	WHERE source_id = (SELECT id FROM indexer_source WHERE config_name = 'slow-balance');
END
$$;

CREATE TEMP TABLE before_counts AS
SELECT r.table_name,
       (xpath('/row/c/text()', query_to_xml(format(
           'SELECT count(*) AS c FROM %I WHERE chain_id = 1 AND block_number >= 10', r.table_name),
           false, true, '')))[1]::text::bigint AS above,
       (xpath('/row/c/text()', query_to_xml(format(
           'SELECT count(*) AS c FROM %I WHERE chain_id = 1 AND block_number < 10', r.table_name),
           false, true, '')))[1]::text::bigint AS below,
       (xpath('/row/c/text()', query_to_xml(format(
           'SELECT count(*) AS c FROM %I WHERE chain_id = 2', r.table_name),
           false, true, '')))[1]::text::bigint AS other
FROM indexer_event_table r;

SELECT rwt.eq((SELECT count(*) FROM before_counts WHERE above > 0 AND below > 0), 24::bigint,
	'every registered table (23 + 1 later) has rows below and above the fork');
SELECT rwt.eq((SELECT count(*) FROM indexer_source WHERE chain_id = 1 AND discovered_block IS NOT NULL),
	3::bigint, 'three providers discovered on chain 1 (at 5, 8, 12; the configured one stays configured)');

CREATE TEMP TABLE rewound AS SELECT rw_indexer_rewind(1, 10) AS n;

SELECT rwt.eq((SELECT n FROM rewound),
	(SELECT sum(above) FROM before_counts)::bigint + 11,
	'rw_indexer_rewind returns the event rows and the 11 headers (10..20) deleted');
SELECT rwt.eq((SELECT string_agg(r.table_name, ',') FROM indexer_event_table r
               JOIN before_counts b USING (table_name)
               WHERE (xpath('/row/c/text()', query_to_xml(format(
                          'SELECT count(*) AS c FROM %I WHERE chain_id = 1 AND block_number >= 10',
                          r.table_name), false, true, '')))[1]::text::bigint <> 0
                  OR (xpath('/row/c/text()', query_to_xml(format(
                          'SELECT count(*) AS c FROM %I WHERE chain_id = 1 AND block_number < 10',
                          r.table_name), false, true, '')))[1]::text::bigint <> b.below
                  OR (xpath('/row/c/text()', query_to_xml(format(
                          'SELECT count(*) AS c FROM %I WHERE chain_id = 2', r.table_name),
                          false, true, '')))[1]::text::bigint <> b.other), NULL,
	'every registered table: rows at or above the fork gone, rows below and on chain 2 kept');
SELECT rwt.eq((SELECT count(*) || ' ' || max(number) FROM indexer_block WHERE chain_id = 1), '10 9',
	'headers at or above the fork are deleted');
SELECT rwt.eq((SELECT count(*) FROM indexer_block WHERE chain_id = 2 AND number = 12), 1::bigint,
	'another chain''s headers are kept');
SELECT rwt.eq((SELECT string_agg(coalesce(s.config_name, right(rw_hex(s.address), 3)) || '=' || c.next_block,
                                 ',' ORDER BY s.id)
               FROM indexer_source s JOIN indexer_cursor c ON c.source_id = s.id WHERE s.chain_id = 1),
	'tt=10,market=10,late-balance=15,slow-balance=7,known=10,300=10,fa0=10',
	'cursors above the fork move to greatest(fork, start_block); lower ones stay');
SELECT rwt.eq((SELECT next_block FROM indexer_cursor WHERE chain_id = 2 AND source_id =
                   (SELECT id FROM indexer_source WHERE chain_id = 2 AND config_name = 'market')), 21::bigint,
	'another chain''s cursors stay');
SELECT rwt.eq((SELECT count(*) FROM indexer_source WHERE chain_id = 1 AND address = rwt.addr(769)), 0::bigint,
	'a source discovered above the fork is removed');
SELECT rwt.eq((SELECT count(*) FROM provider_info WHERE chain_id = 1 AND address = rwt.addr(769))
              + (SELECT count(*) FROM watched_address WHERE chain_id = 1 AND address IN (rwt.addr(769), rwt.addr(869))),
	0::bigint, 'its provider_info and watched addresses go with it');
SELECT rwt.eq((SELECT string_agg(right(rw_hex(address), 3) || ' ' || origin || ' ' || coalesce(created_block::text, '-'),
                                 ',' ORDER BY address)
               FROM provider_info WHERE chain_id = 1 AND address IN (rwt.addr(768), rwt.addr(770))),
	'300 factory 8,302 config -',
	'the provider found below the fork stays; the configured one announced above it is config again');
SELECT rwt.eq((SELECT count(*) FROM indexer_source WHERE chain_id = 2 AND address = rwt.addr(769)), 1::bigint,
	'the same discovery on another chain stays');
SELECT rwt.throws('SELECT rw_indexer_rewind(1, -1)', '22023', 'rw_indexer_rewind refuses a negative fork');
SELECT rwt.eq(rw_indexer_rewind(1, 10), 0::bigint, 'a second rewind to the same fork deletes nothing');

-- Pruning: blocks 0..9 remain; 5 and 8 hold logs.
SELECT rwt.eq(rw_indexer_prune_blocks(1, 9), 7::bigint,
	'rw_indexer_prune_blocks deletes headers below keep_from without logs');
SELECT rwt.eq((SELECT string_agg(number::text, ',' ORDER BY number) FROM indexer_block WHERE chain_id = 1),
	'5,8,9', 'headers with logs and the window stay');
