-- test_relayer_batch: the set-based writes of a round (0024):
-- rw_relayer_assign_many (nonces for a batch under the signer lock; the
-- longest good run is stored, a bad row never loses the rows before it
-- and never assigns twice), rw_relayer_sent_many, rw_relayer_mined_many
-- (its answers are those of rw_relayer_mined row by row), the set-based
-- rw_relayer_settle and the spend kept by rw_relayer_sync; their error
-- paths.

INSERT INTO chain (chain_id, name) VALUES (31337, 'local') ON CONFLICT DO NOTHING;
INSERT INTO chain (chain_id, name) VALUES (5, 'other') ON CONFLICT DO NOTHING;
CREATE TEMP TABLE k AS SELECT rwt.addr(88) AS signer, rwt.addr(89) AS other;
SELECT rwt.eq((SELECT next_nonce FROM rw_relayer_sync(31337, 'local', (SELECT signer FROM k),
	100, NULL, 0, 0, 10::numeric ^ 18, 'ok')), 0::bigint, 'sync registers the signer at nonce 0');

-- intents i1..i12 for this chain, one for another signer, one for another chain
CREATE TEMP TABLE i AS
SELECT g, (rw_intent_file('charge:31337:batch:' || g, 31337, rwt.addr(10),
	decode(lpad(to_hex(g), 8, '0'), 'hex'))).id AS id
FROM generate_series(1, 12) g;
CREATE TEMP TABLE ix AS SELECT
	(rw_intent_file('charge:31337:theirs:1', 31337, rwt.addr(10), '\x01'::bytea, 0,
		rwt.addr(89))).id AS theirs,
	(rw_intent_file('charge:5:elsewhere:1', 5, rwt.addr(10), '\x01'::bytea)).id AS elsewhere;

-- One batch with type-2 fees (max fee 100, tip 10, gas 50000); raw bytes
-- and hashes from the intents' numbers unless given.
CREATE FUNCTION pg_temp.assign(p_first bigint, p_cap integer, p_ids bigint[],
	p_hashes bytea[] DEFAULT NULL, p_tips numeric[] DEFAULT NULL)
RETURNS TABLE (k integer, intent_id bigint, nonce bigint, tx_id bigint, refused text)
LANGUAGE sql AS $$
SELECT * FROM rw_relayer_assign_many(31337, (SELECT signer FROM k), p_first, p_cap, p_ids,
	array_fill(2::smallint, ARRAY[cardinality(p_ids)]),
	array_fill(NULL::numeric, ARRAY[cardinality(p_ids)]),
	array_fill(100::numeric, ARRAY[cardinality(p_ids)]),
	coalesce(p_tips, array_fill(10::numeric, ARRAY[cardinality(p_ids)])),
	array_fill(50000::bigint, ARRAY[cardinality(p_ids)]),
	(SELECT array_agg(decode('aa' || lpad(to_hex(x), 8, '0'), 'hex') ORDER BY o)
		FROM unnest(p_ids) WITH ORDINALITY u(x, o)),
	coalesce(p_hashes, (SELECT array_agg(rwt.tx(1000 + x) ORDER BY o)
		FROM unnest(p_ids) WITH ORDINALITY u(x, o))))
$$;
CREATE FUNCTION pg_temp.ids(VARIADIC g int[]) RETURNS bigint[]
LANGUAGE sql AS $$
SELECT array_agg(i.id ORDER BY o) FROM unnest(g) WITH ORDINALITY u(n, o) JOIN i ON i.g = u.n
$$;

-- assign_many: whole-batch errors store nothing ----------------------------------------

SELECT rwt.throws($$SELECT * FROM rw_relayer_assign_many(31337, (SELECT signer FROM k), 0, 8,
	pg_temp.ids(1, 2), '{2}', '{NULL,NULL}', '{100,100}', '{10,10}', '{50000,50000}',
	'{"\\xaa","\\xab"}', ARRAY[rwt.tx(1), rwt.tx(2)])$$, '22023',
	'assign_many: arrays of different lengths are refused');
SELECT rwt.throws($$SELECT * FROM rw_relayer_assign_many(31337, NULL, 0, 8, '{}', '{}', '{}',
	'{}', '{}', '{}', '{}', '{}')$$, '22023', 'assign_many: a NULL signer is refused');
SELECT rwt.throws($$SELECT * FROM rw_relayer_assign_many(31337, rwt.addr(77), 0, 8,
	pg_temp.ids(1), '{2}', '{NULL}', '{100}', '{10}', '{50000}', '{"\\xaa"}',
	ARRAY[rwt.tx(1)])$$, 'RW004', 'assign_many: an unregistered signer is RW004');
SELECT rwt.throws($$SELECT * FROM pg_temp.assign(1, 8, pg_temp.ids(1, 2))$$, 'RW002',
	'assign_many: a first nonce that is not next_nonce is RW002');
UPDATE relayer_signer SET paused = true;
SELECT rwt.throws($$SELECT * FROM pg_temp.assign(0, 8, pg_temp.ids(1, 2))$$, 'RW007',
	'assign_many: a paused signer is RW007');
UPDATE relayer_signer SET paused = false;
SELECT rwt.eq((SELECT count(*) FROM pg_temp.assign(0, 8, '{}')), 0::bigint,
	'assign_many: an empty batch returns no rows');
SELECT rwt.eq((SELECT count(*) FROM relayer_tx) || '/' || (SELECT next_nonce FROM relayer_signer),
	'0/0', 'assign_many: nothing stored by the refused calls');

-- a good batch ---------------------------------------------------------------------------

CREATE TEMP TABLE a1 AS SELECT * FROM pg_temp.assign(0, 8, pg_temp.ids(1, 2, 3));
SELECT rwt.eq((SELECT string_agg(k || ':' || nonce || ':' || (tx_id IS NOT NULL) || ':'
	|| coalesce(refused, '-'), ',' ORDER BY k) FROM a1), '1:0:true:-,2:1:true:-,3:2:true:-',
	'assign_many: row k gets nonce first + k - 1 and a transaction');
SELECT rwt.eq((SELECT string_agg(i.state || '/' || i.nonce, ',' ORDER BY i.nonce)
	FROM relayer_intent i WHERE i.id = ANY (pg_temp.ids(1, 2, 3))), 'pending/0,pending/1,pending/2',
	'assign_many: the intents are pending at their nonces');
SELECT rwt.eq((SELECT next_nonce FROM relayer_signer), 3::bigint,
	'assign_many: next_nonce moves past the batch');
SELECT rwt.eq((SELECT string_agg(t.nonce || ':' || t.state || ':' || t.attempt || ':' || t.kind, ','
	ORDER BY t.nonce) FROM relayer_tx t), '0:signed:1:intent,1:signed:1:intent,2:signed:1:intent',
	'assign_many: each transaction stored signed, attempt 1');
SELECT rwt.ok((SELECT bool_and(t.intent_id = a.intent_id AND t.nonce = a.nonce)
	FROM a1 a JOIN relayer_tx t ON t.id = a.tx_id), 'assign_many: the returned ids are the rows');
SELECT rwt.eq((SELECT count(*) FROM relayer_event WHERE kind = 'signed'), 3::bigint,
	'assign_many: one signed report per transaction');
SELECT rwt.throws($$SELECT * FROM pg_temp.assign(0, 8, pg_temp.ids(4))$$, 'RW002',
	'assign_many: the same first nonce again is RW002 (a nonce is taken once)');

-- the same intent twice in one batch: assigned once ----------------------------------------

CREATE TEMP TABLE a2 AS SELECT * FROM pg_temp.assign(3, 16, pg_temp.ids(4, 4, 5));
SELECT rwt.eq((SELECT string_agg(k || ':' || (tx_id IS NOT NULL), ',' ORDER BY k) FROM a2),
	'1:true,2:false,3:false', 'same intent twice: the first stored, the rest not');
SELECT rwt.ok((SELECT refused FROM a2 WHERE k = 2) LIKE '%in this batch twice',
	'same intent twice: the second says why');
SELECT rwt.ok((SELECT refused FROM a2 WHERE k = 3) LIKE 'not stored: row 2 (nonce 4)%',
	'same intent twice: a row after it is not stored (its nonce would not be next)');
SELECT rwt.eq((SELECT count(*) FROM relayer_tx WHERE intent_id = (pg_temp.ids(4))[1]), 1::bigint,
	'same intent twice: one transaction for it');
SELECT rwt.eq((SELECT next_nonce FROM relayer_signer), 4::bigint,
	'same intent twice: next_nonce moves by the stored rows only');
SELECT rwt.eq((SELECT state FROM relayer_intent WHERE id = (pg_temp.ids(5))[1]), 'queued',
	'same intent twice: the intent after it stays queued');

-- an intent already assigned (another batch took it): the run before it is kept --------

CREATE TEMP TABLE a3 AS SELECT * FROM pg_temp.assign(4, 16, pg_temp.ids(5, 1, 6));
SELECT rwt.eq((SELECT string_agg(k || ':' || (tx_id IS NOT NULL), ',' ORDER BY k) FROM a3),
	'1:true,2:false,3:false', 'partial batch: the good run before the bad row is stored');
SELECT rwt.ok((SELECT refused FROM a3 WHERE k = 2) LIKE '%is pending, not queued',
	'partial batch: an intent with a nonce is not assigned again');
SELECT rwt.eq((SELECT nonce FROM relayer_intent WHERE id = (pg_temp.ids(1))[1]), 0::bigint,
	'partial batch: the intent keeps its first nonce');
SELECT rwt.eq((SELECT count(*) FROM relayer_tx WHERE intent_id = (pg_temp.ids(1))[1]), 1::bigint,
	'partial batch: no second transaction for it');
SELECT rwt.eq((SELECT next_nonce FROM relayer_signer), 5::bigint, 'partial batch: next_nonce 5');

-- a bad first row stores nothing ------------------------------------------------------------

SELECT rw_intent_cancel('charge:31337:batch:6');
CREATE TEMP TABLE a4 AS SELECT * FROM pg_temp.assign(5, 16, pg_temp.ids(6, 7));
SELECT rwt.eq((SELECT count(*) FILTER (WHERE tx_id IS NOT NULL) FROM a4), 0::bigint,
	'a cancelled first row: nothing stored');
SELECT rwt.ok((SELECT refused FROM a4 WHERE k = 1) LIKE '%is cancelled, not queued',
	'a cancelled intent is refused');
SELECT rwt.eq((SELECT next_nonce FROM relayer_signer), 5::bigint, 'nothing stored: next_nonce kept');

-- other refusals: each stops the batch at its row -----------------------------------------

SELECT rwt.ok((SELECT refused FROM pg_temp.assign(5, 16,
	ARRAY[(SELECT theirs FROM ix)]) WHERE k = 1) LIKE '%is for signer 0x%',
	'an intent kept for another signer is refused');
SELECT rwt.ok((SELECT refused FROM pg_temp.assign(5, 16,
	ARRAY[(SELECT elsewhere FROM ix)]) WHERE k = 1) LIKE '%is for chain 5',
	'an intent of another chain is refused');
SELECT rwt.ok((SELECT refused FROM pg_temp.assign(5, 16, ARRAY[-1]::bigint[]) WHERE k = 1)
	= 'no intent -1', 'a missing intent is refused');
SELECT rwt.ok((SELECT refused FROM pg_temp.assign(5, 16, pg_temp.ids(7),
	ARRAY[rwt.tx(1000 + (pg_temp.ids(1))[1])]) WHERE k = 1) LIKE 'transaction 0x% is already stored',
	'a hash already stored is refused');
SELECT rwt.eq((SELECT next_nonce FROM relayer_signer) || '/' || (SELECT count(*) FROM relayer_tx),
	'5/5', 'the refused rows stored nothing');
CREATE TEMP TABLE a6 AS SELECT * FROM pg_temp.assign(5, 16, pg_temp.ids(7, 8),
	ARRAY[rwt.tx(70), rwt.tx(70)]);
SELECT rwt.eq((SELECT string_agg(k || ':' || (tx_id IS NOT NULL), ',' ORDER BY k) FROM a6),
	'1:true,2:false', 'a hash twice in the batch: the first row is stored');
SELECT rwt.ok((SELECT refused FROM a6 WHERE k = 2) LIKE '%is in this batch twice',
	'a hash twice in the batch: the second is refused');
SELECT rwt.ok((SELECT refused FROM pg_temp.assign(6, 16, pg_temp.ids(8), NULL, '{101}')
	WHERE k = 1) = 'fees that do not fit type 2', 'a tip above the max fee is refused, not raised');
SELECT rwt.ok((SELECT refused FROM pg_temp.assign(6, 16, pg_temp.ids(8), ARRAY[NULL::bytea])
	WHERE k = 1) LIKE 'an incomplete row%', 'a row without a hash is refused');
SELECT rwt.eq((SELECT next_nonce FROM relayer_signer) || '/' || (SELECT count(*) FROM relayer_tx),
	'6/6', 'those refused rows stored nothing');

-- the in-flight cap: the rows beyond the room ------------------------------------------------

SELECT rwt.throws($$SELECT * FROM pg_temp.assign(6, 6, pg_temp.ids(8))$$, 'RW003',
	'no room at all under the cap: RW003');
CREATE TEMP TABLE a5 AS SELECT * FROM pg_temp.assign(6, 8, pg_temp.ids(8, 9, 10));
SELECT rwt.eq((SELECT string_agg(k || ':' || (tx_id IS NOT NULL), ',' ORDER BY k) FROM a5),
	'1:true,2:true,3:false', 'the cap: the rows that fit are stored');
SELECT rwt.ok((SELECT refused FROM a5 WHERE k = 3) = 'the in-flight cap: 8 in flight, cap 8',
	'the cap: the first row beyond it says why');

-- nonce uniqueness over every batch
SELECT rwt.eq((SELECT count(DISTINCT nonce) = count(*) AND max(nonce) = count(*) - 1
	FROM relayer_tx), true, 'every stored nonce is distinct and consecutive from 0');
SELECT rwt.eq((SELECT count(*) FROM relayer_intent WHERE nonce IS NOT NULL), 8::bigint,
	'eight intents hold nonces');

-- sent_many ---------------------------------------------------------------------------------

SELECT rwt.throws($$SELECT rw_relayer_sent_many('{1,2}', 100, '{t}', '{ok,ok}', '{"",""}')$$,
	'22023', 'sent_many: arrays of different lengths are refused');
SELECT rwt.eq(rw_relayer_sent_many('{}', 100, '{}', '{}', '{}'), 0, 'sent_many: nothing to do');
CREATE TEMP TABLE t AS SELECT nonce, id FROM relayer_tx;
SELECT rwt.eq(rw_relayer_sent_many(ARRAY[(SELECT id FROM t WHERE nonce = 0),
	(SELECT id FROM t WHERE nonce = 1), (SELECT id FROM t WHERE nonce = 0),
	(SELECT id FROM t WHERE nonce = 2)], 100, '{t,f,f,f}',
	'{ok,timeout,timeout,"nonce \"too\" low"}', '{"","no answer","x","said \"no\""}'), 3,
	'sent_many: three transactions updated (a repeated id counts once)');
SELECT rwt.eq((SELECT string_agg(nonce || ':' || state || ':' || broadcasts || ':' || sent_block || ':'
	|| coalesce(last_error_class, '-'), ',' ORDER BY nonce) FROM relayer_tx WHERE nonce < 3),
	'0:sent:1:100:-,1:sent:1:100:timeout,2:sent:1:100:nonce "too" low',
	'sent_many: state, broadcasts, first block and the error class (its first answer for a '
	'repeated id)');
SELECT rwt.eq((SELECT last_error FROM relayer_tx WHERE nonce = 2), 'said "no"',
	'sent_many: quotes in messages survive');
SELECT rwt.eq((SELECT count(*) FROM relayer_event WHERE kind = 'broadcast_error'), 2::bigint,
	'sent_many: a refused broadcast is reported');
SELECT rw_relayer_sent_many(ARRAY[(SELECT id FROM t WHERE nonce = 1)], 105, '{f}', '{timeout}',
	'{"again"}');
SELECT rwt.eq((SELECT broadcasts || ':' || sent_block FROM relayer_tx WHERE nonce = 1), '2:100',
	'sent_many: the first block is kept');
SELECT rwt.eq((SELECT count(*) FROM relayer_event WHERE kind = 'broadcast_error'), 2::bigint,
	'sent_many: the same error class is not reported again');
SELECT rw_relayer_sent_many(ARRAY[(SELECT id FROM t WHERE nonce = 1)], 106, '{t}', '{ok}', '{""}');
SELECT rwt.eq((SELECT coalesce(last_error_class, '-') FROM relayer_tx WHERE nonce = 1), '-',
	'sent_many: an accepted broadcast clears the error');

-- mined_many -----------------------------------------------------------------------------------

SELECT rwt.throws($$SELECT * FROM rw_relayer_mined_many(ARRAY[rwt.tx(1)], '{1,2}', '{}', '{}',
	'{}', '{}')$$, '22023', 'mined_many: arrays of different lengths are refused');
SELECT rwt.eq((SELECT count(*) FROM rw_relayer_mined_many('{}', '{}', '{}', '{}', '{}', '{}')),
	0::bigint, 'mined_many: nothing to do');
SELECT rwt.throws($$SELECT * FROM rw_relayer_mined_many(ARRAY[rwt.tx(1000 + (pg_temp.ids(1))[1]), rwt.tx(9999)],
	'{110,110}', ARRAY[rwt.h32(110), rwt.h32(110)], '{1,1}', '{30000,30000}', '{50,50}')$$,
	'RW004', 'mined_many: an unknown hash raises RW004');
SELECT rwt.eq((SELECT count(*) FROM relayer_receipt), 0::bigint,
	'mined_many: nothing stored when a row raises');

-- a bump at nonce 2: the replaced attempt goes the per-row way
SELECT rw_relayer_replace((SELECT id FROM t WHERE nonce = 2), 2::smallint, NULL, 111, 12, '\xbb',
	rwt.tx(2002), 'stuck');
-- intents 1, 2 (nonces 0, 1: the common case), 4 (nonce 3) twice, and the
-- replaced attempt at nonce 2
CREATE TEMP TABLE m1 AS SELECT * FROM rw_relayer_mined_many(
	ARRAY[rwt.tx(1000 + (pg_temp.ids(1))[1]), rwt.tx(1000 + (pg_temp.ids(2))[1]),
		rwt.tx(1000 + (pg_temp.ids(4))[1]), rwt.tx(1000 + (pg_temp.ids(4))[1]),
		rwt.tx(1000 + (pg_temp.ids(3))[1])],
	'{110,110,111,112,111}',
	ARRAY[rwt.h32(110), rwt.h32(110), rwt.h32(111), rwt.h32(112), rwt.h32(111)],
	'{1,1,1,1,0}', '{30000,30000,30000,30000,30000}', '{50,50,50,50,50}');
SELECT rwt.eq((SELECT string_agg(k || ':' || answer, ',' ORDER BY k) FROM m1),
	'1:mined,2:mined,3:mined,4:moved,5:mined',
	'mined_many: the answers of rw_relayer_mined row by row (the repeated hash moved)');
SELECT rwt.eq((SELECT block_number FROM relayer_receipt WHERE tx_hash = rwt.tx(1000 + (pg_temp.ids(4))[1])),
	112::bigint, 'mined_many: the later row of a repeated hash wins, as in order');
SELECT rwt.eq((SELECT string_agg(attempt || ':' || state, ',' ORDER BY attempt) FROM relayer_tx
	WHERE nonce = 2), '1:mined,2:replaced',
	'mined_many: a replaced attempt mined makes the current one replaced');
SELECT rwt.eq((SELECT string_agg(i.state, ',' ORDER BY i.nonce) FROM relayer_intent i
	WHERE i.nonce < 4), 'mined,mined,mined,mined', 'mined_many: the intents are mined');
SELECT rwt.ok((SELECT bool_and(i.tx_hash = t.hash) FROM relayer_intent i JOIN relayer_tx t
	ON t.intent_id = i.id AND t.state = 'mined' WHERE i.nonce < 4),
	'mined_many: each intent holds its mined hash');
SELECT rwt.eq((SELECT count(*) FROM relayer_event WHERE kind = 'mined'), 4::bigint,
	'mined_many: one mined report per new receipt');
SELECT rwt.eq((SELECT count(*) FROM relayer_event WHERE kind = 'reorged'), 1::bigint,
	'mined_many: the move is reported');
SELECT rwt.eq((SELECT answer FROM rw_relayer_mined_many(ARRAY[rwt.tx(1000 + (pg_temp.ids(1))[1])],
	'{110}', ARRAY[rwt.h32(110)], '{1}', '{30000}', '{50}')), 'same',
	'mined_many: the same receipt again is same');

-- a gap filler goes the common way (another sender's nonce 8 was counted, then dropped)
SELECT rw_relayer_sync(31337, 'local', (SELECT signer FROM k), 112, NULL, 8, 9, 10::numeric ^ 18,
	'ok');
SELECT rw_relayer_fill(31337, (SELECT signer FROM k), 8, 2::smallint, NULL, 100, 10, 21000, '\xcc',
	rwt.tx(3004), 'test');
SELECT rwt.eq((SELECT answer FROM rw_relayer_mined_many(ARRAY[rwt.tx(3004)], '{113}',
	ARRAY[rwt.h32(113)], '{1}', '{21000}', '{50}')), 'mined', 'mined_many: a filler is mined');
SELECT rwt.eq((SELECT state FROM relayer_tx WHERE hash = rwt.tx(3004)), 'mined',
	'mined_many: the filler is the mined one of its nonce');

-- settle (set-based) -----------------------------------------------------------------------------

SELECT rwt.eq(rw_relayer_settle(31337, (SELECT signer FROM k), 112, 2, NULL), 2,
	'settle: the receipts at depth (block 110) are confirmed');
SELECT rwt.eq(rw_relayer_settle(31337, (SELECT signer FROM k), 114, 2, 111), 5,
	'settle: nonces 2 and 3 confirmed, 0, 1 and 2 final, in one call');
SELECT rwt.eq((SELECT string_agg(i.state, ',' ORDER BY i.nonce) FROM relayer_intent i
	WHERE i.nonce < 4), 'final,final,reverted,confirmed',
	'settle: final, final, reverted (status 0), confirmed');
SELECT rwt.eq((SELECT count(*) FROM relayer_event WHERE kind = 'reverted'), 1::bigint,
	'settle: the revert is reported');
SELECT rwt.eq(rw_relayer_settle(31337, (SELECT signer FROM k), 114, 2, 111), 0,
	'settle: again, nothing changes');

-- sync keeps the spend for a minute -----------------------------------------------------------

SELECT rwt.eq((SELECT spend_per_day FROM relayer_signer), 0::numeric,
	'sync: the spend worked out before any receipt is kept (now() is the transaction''s)');
UPDATE relayer_signer SET spend_at = NULL;

SELECT rwt.ok((SELECT spend_per_day > 0 FROM rw_relayer_sync(31337, 'local', (SELECT signer FROM k),
	115, 111, 5, 5, 10::numeric ^ 18, 'ok')), 'sync: the spend per day from the receipts');
SELECT rwt.ok((SELECT spend_at IS NOT NULL AND spend_per_day > 0 FROM relayer_signer),
	'sync: the spend is kept on the signer row');
UPDATE relayer_signer SET spend_per_day = 7;
SELECT rwt.eq((SELECT spend_per_day FROM rw_relayer_sync(31337, 'local', (SELECT signer FROM k),
	116, 111, 5, 5, 10::numeric ^ 18, 'ok')), 7::numeric, 'sync: within a minute, the kept spend');
UPDATE relayer_signer SET spend_at = now() - interval '2 minutes';
SELECT rwt.ok((SELECT spend_per_day <> 7 FROM rw_relayer_sync(31337, 'local', (SELECT signer FROM k),
	117, 111, 5, 5, 10::numeric ^ 18, 'ok')), 'sync: after a minute, worked out again');

-- mined_many at the confirmation depth (0027) ---------------------------------------------------

-- the three lowest pending nonces: the first two mined at depth (status 1, then
-- status 0), the third above it
CREATE TEMP TABLE d AS SELECT i.id, i.nonce, t.hash,
	row_number() OVER (ORDER BY i.nonce) AS n
FROM relayer_intent i JOIN relayer_tx t ON t.intent_id = i.id AND t.state IN ('signed', 'sent')
WHERE i.state = 'pending' ORDER BY i.nonce LIMIT 3;
SELECT rwt.eq((SELECT count(*) FROM d), 3::bigint, 'deep: three pending intents to mine');
-- what earlier tests left for settle up to head 120 (the filler at block 113)
SELECT rw_relayer_settle(31337, (SELECT signer FROM k), 120, 2, NULL);
CREATE TEMP TABLE ev0 AS SELECT kind, count(*) AS n FROM relayer_event GROUP BY kind;
CREATE TEMP TABLE m2 AS SELECT * FROM rw_relayer_mined_many(
	(SELECT array_agg(hash ORDER BY n) FROM d), '{118,118,119}',
	ARRAY[rwt.h32(118), rwt.h32(118), rwt.h32(119)], '{1,0,1}', '{30000,30000,30000}',
	'{50,50,50}', 120, 2);
SELECT rwt.eq((SELECT string_agg(answer, ',' ORDER BY k) FROM m2), 'mined,mined,mined',
	'deep: each receipt is new');
SELECT rwt.eq((SELECT string_agg(i.state, ',' ORDER BY d.n) FROM d JOIN relayer_intent i
	ON i.id = d.id), 'confirmed,reverted,mined',
	'deep: at depth confirmed (status 1) or reverted (status 0) at once; above it mined');
SELECT rwt.eq((SELECT string_agg(rc.confirmed || ':' || (rc.confirmed_at IS NOT NULL), ','
	ORDER BY d.n) FROM d JOIN relayer_receipt rc ON rc.tx_hash = d.hash),
	'true:true,true:true,false:false', 'deep: the receipts at depth are stored confirmed');
SELECT rwt.eq((SELECT string_agg(coalesce(i.reason, '-') || ':' || (i.confirmed_at IS NOT NULL)
	|| ':' || (i.tx_hash = d.hash), ',' ORDER BY d.n) FROM d JOIN relayer_intent i ON i.id = d.id),
	'-:true:true,reverted on chain:true:true,-:false:true',
	'deep: reason, confirmation time and mined hash as rw_relayer_settle would set them');
SELECT rwt.eq((SELECT string_agg(t.state, ',' ORDER BY d.n) FROM d JOIN relayer_tx t
	ON t.hash = d.hash), 'mined,mined,mined', 'deep: the transactions are mined');
SELECT rwt.eq((SELECT count(*) FROM relayer_event WHERE kind = 'mined')
	- (SELECT n FROM ev0 WHERE kind = 'mined'), 3::bigint, 'deep: one mined report each');
SELECT rwt.eq((SELECT count(*) FROM relayer_event e JOIN d ON d.id = e.intent_id
	WHERE e.kind = 'reverted' AND e.level = 'error' AND d.n = 2
		AND e.message LIKE '%reverted on chain in block 118'), 1::bigint,
	'deep: the revert is reported once, as rw_relayer_settle reports it');
SELECT rwt.eq(rw_relayer_settle(31337, (SELECT signer FROM k), 120, 2, NULL), 0,
	'deep: nothing is left for settle at the same head');
SELECT rwt.eq(rw_relayer_settle(31337, (SELECT signer FROM k), 121, 2, NULL), 1,
	'deep: the receipt above the depth is confirmed by settle once the head moves');
SELECT rwt.eq((SELECT i.state FROM d JOIN relayer_intent i ON i.id = d.id WHERE d.n = 3),
	'confirmed', 'deep: and its intent with it');
