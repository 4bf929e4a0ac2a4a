-- test_relayer_flow: the engine's functions through a transaction's life:
-- sync, assign (nonce under lock), sent, replace (bump rule), mined, settle
-- (confirmed, final), unmined (reorg), lost (nonce used by another
-- sender), fill (gap), estimate failures, and the partial unique indexes.

INSERT INTO chain (chain_id, name) VALUES (31337, 'local') ON CONFLICT DO NOTHING;
CREATE TEMP TABLE k AS SELECT rwt.addr(77) AS signer;

-- sync registers the signer at the chain's highest count
SELECT rwt.eq((SELECT next_nonce FROM rw_relayer_sync(31337, 'local', (SELECT signer FROM k),
	100, 36, 4, 5, 10::numeric ^ 18, 'ok')), 5::bigint,
	'sync registers the signer with next_nonce = max(latest, pending)');
SELECT rwt.eq((SELECT chain_nonce FROM relayer_signer), 4::bigint, 'sync stores the latest count');
SELECT rwt.eq((SELECT count(*) FROM relayer_event WHERE kind = 'nonce_ahead'), 0::bigint,
	'registering is not a nonce_ahead report');

CREATE TEMP TABLE i AS SELECT
	(rw_intent_file('charge:31337:a:1', 31337, rwt.addr(10), '\x01'::bytea)).id AS a,
	(rw_intent_file('charge:31337:b:1', 31337, rwt.addr(10), '\x02'::bytea)).id AS b,
	(rw_intent_file('charge:31337:c:1', 31337, rwt.addr(10), '\x03'::bytea)).id AS c;

-- assign: the nonce under the signer lock
SELECT rwt.throws($$SELECT rw_relayer_assign(31337, (SELECT signer FROM k), (SELECT a FROM i), 4, 8,
	2::smallint, NULL, 100, 10, 50000, '\xaa', rwt.tx(1))$$, 'RW002',
	'assign with a nonce that is not next_nonce: RW002');
CREATE TEMP TABLE tx1 AS SELECT rw_relayer_assign(31337, (SELECT signer FROM k), (SELECT a FROM i),
	5, 2, 2::smallint, NULL, 100, 10, 50000, '\xaa', rwt.tx(1)) AS id;
SELECT rwt.eq((SELECT state || '/' || nonce || '/' || gas_limit FROM relayer_intent
	WHERE id = (SELECT a FROM i)), 'pending/5/50000', 'assign: the intent is pending with nonce 5');
SELECT rwt.eq((SELECT next_nonce FROM relayer_signer), 6::bigint, 'assign: next_nonce moves on');
SELECT rwt.eq((SELECT state || '/' || attempt || '/' || kind FROM relayer_tx WHERE id = (SELECT id FROM tx1)),
	'signed/1/intent', 'assign: the transaction is stored as signed, attempt 1');
SELECT rwt.throws($$SELECT rw_relayer_assign(31337, (SELECT signer FROM k), (SELECT a FROM i), 6, 8,
	2::smallint, NULL, 100, 10, 50000, '\xab', rwt.tx(2))$$, 'RW004',
	'an intent that has a nonce is not assigned again');
SELECT rwt.throws($$SELECT rw_relayer_assign(31337, (SELECT signer FROM k), (SELECT b FROM i), 6, 1,
	2::smallint, NULL, 100, 10, 50000, '\xab', rwt.tx(2))$$, 'RW003',
	'assign beyond the in-flight cap: RW003');
SELECT rwt.throws($$SELECT rw_relayer_assign(31337, (SELECT signer FROM k), (SELECT b FROM i), 6, 8,
	2::smallint, NULL, 100, 101, 50000, '\xab', rwt.tx(2))$$, '23514',
	'a tip above the max fee is refused');
SELECT rwt.throws($$SELECT rw_relayer_assign(31337, (SELECT signer FROM k), (SELECT b FROM i), 6, 8,
	2::smallint, 5, 100, 10, 50000, '\xab', rwt.tx(2))$$, '23514',
	'a type 2 transaction with a gas price is refused');
UPDATE relayer_signer SET paused = true;
SELECT rwt.throws($$SELECT rw_relayer_assign(31337, (SELECT signer FROM k), (SELECT b FROM i), 6, 8,
	2::smallint, NULL, 100, 10, 50000, '\xab', rwt.tx(2))$$, 'RW007', 'a paused signer: RW007');
UPDATE relayer_signer SET paused = false;
CREATE TEMP TABLE tx2 AS SELECT rw_relayer_assign(31337, (SELECT signer FROM k), (SELECT b FROM i),
	6, 2, 2::smallint, NULL, 100, 10, 50000, '\xab', rwt.tx(2)) AS id;

-- the partial unique indexes
SELECT rwt.throws($$INSERT INTO relayer_tx (chain_id, signer, nonce, attempt, kind, intent_id, type,
	max_fee_per_gas, max_priority_fee_per_gas, gas_limit, raw, hash)
	VALUES (31337, (SELECT signer FROM k), 5, 9, 'filler', NULL, 2, 1, 1, 21000, '\x01', rwt.tx(99))$$,
	'23505', 'a second current attempt at one nonce is refused');
SELECT rwt.throws($$INSERT INTO relayer_tx (chain_id, signer, nonce, attempt, kind, intent_id, type,
	max_fee_per_gas, max_priority_fee_per_gas, gas_limit, raw, hash)
	VALUES (31337, (SELECT signer FROM k), 9, 1, 'intent', (SELECT a FROM i), 2, 1, 1, 21000, '\x01', rwt.tx(99))$$,
	'23505', 'a second current attempt of one intent (another nonce) is refused');
SELECT rwt.throws($$UPDATE relayer_tx SET raw = '\x00' WHERE id = (SELECT id FROM tx1)$$, 'RW004',
	'the bytes of a signed transaction never change');
SELECT rwt.throws($$UPDATE relayer_tx SET state = 'sent' WHERE id = (SELECT id FROM tx1)$$, '23514',
	'sent needs sent_at');

-- sent
SELECT rw_relayer_sent((SELECT id FROM tx1), 100, true, NULL, NULL);
SELECT rwt.eq((SELECT state || '/' || broadcasts || '/' || sent_block FROM relayer_tx WHERE id = (SELECT id FROM tx1)),
	'sent/1/100', 'sent: state, broadcasts and the block of the first broadcast');
SELECT rw_relayer_sent((SELECT id FROM tx1), 105, false, 'timeout', 'no answer');
SELECT rwt.eq((SELECT sent_block || '/' || last_error_class FROM relayer_tx WHERE id = (SELECT id FROM tx1)),
	'100/timeout', 'a failed broadcast keeps the first block and records the class');
SELECT rwt.eq((SELECT count(*) FROM relayer_event WHERE kind = 'broadcast_error'), 1::bigint,
	'a broadcast error class is reported');
SELECT rw_relayer_sent((SELECT id FROM tx1), 106, false, 'timeout', 'no answer');
SELECT rwt.eq((SELECT count(*) FROM relayer_event WHERE kind = 'broadcast_error'), 1::bigint,
	'the same class again is not reported again');

-- replace: the bump rule
SELECT rwt.eq(rw_relayer_bump_min(100), 111::numeric, 'bump_min(100) = 111');
SELECT rwt.eq(rw_relayer_bump_min(10), 12::numeric, 'bump_min(10) = 12');
SELECT rwt.eq(rw_relayer_bump_min(101), 113::numeric, 'bump_min(101) = ceil(111.1) + 1 = 113');
SELECT rwt.eq(rw_relayer_bump_min(0), 1::numeric, 'bump_min(0) = 1');
SELECT rwt.throws($$SELECT rw_relayer_replace((SELECT id FROM tx1), 2::smallint, NULL, 110, 12,
	'\xac', rwt.tx(3), 'stuck')$$, 'RW006', 'a max fee below old + 10% + 1 is refused');
SELECT rwt.throws($$SELECT rw_relayer_replace((SELECT id FROM tx1), 2::smallint, NULL, 111, 11,
	'\xac', rwt.tx(3), 'stuck')$$, 'RW006', 'a tip below old + 10% + 1 is refused');
SELECT rwt.throws($$SELECT rw_relayer_replace((SELECT id FROM tx1), 0::smallint, 200, NULL, NULL,
	'\xac', rwt.tx(3), 'stuck')$$, 'RW006', 'a replacement keeps the type');
CREATE TEMP TABLE tx3 AS SELECT rw_relayer_replace((SELECT id FROM tx1), 2::smallint, NULL, 111, 12,
	'\xac', rwt.tx(3), 'stuck') AS id;
SELECT rwt.eq((SELECT string_agg(attempt || ':' || state, ',' ORDER BY attempt) FROM relayer_tx WHERE nonce = 5),
	'1:replaced,2:signed', 'replace: attempt 2 is current, attempt 1 replaced');
SELECT rwt.eq((SELECT gas_limit FROM relayer_tx WHERE id = (SELECT id FROM tx3)), 50000::bigint,
	'replace keeps the gas limit');
SELECT rwt.throws($$SELECT rw_relayer_replace((SELECT id FROM tx1), 2::smallint, NULL, 200, 20,
	'\xad', rwt.tx(4), 'stuck')$$, 'RW004', 'only the current attempt is replaced');
SELECT rwt.throws($$SELECT rw_relayer_replace((SELECT id FROM tx3), 2::smallint, NULL, 122, 13,
	'\xad', rwt.tx(4), 'stuck')$$, 'RW006', 'the rule holds against the highest attempt (tip 12 -> 14)');

-- mined: the old attempt 1 wins the race
SELECT rwt.eq(rw_relayer_mined(rwt.tx(1), 101, rwt.h32(101), 1::smallint, 30000, 50), 'mined',
	'a receipt of a replaced attempt is taken');
SELECT rwt.eq((SELECT string_agg(attempt || ':' || state, ',' ORDER BY attempt) FROM relayer_tx WHERE nonce = 5),
	'1:mined,2:replaced', 'mined: attempt 1 mined, attempt 2 replaced');
SELECT rwt.eq((SELECT state || '/' || rw_hex(tx_hash) FROM relayer_intent WHERE id = (SELECT a FROM i)),
	'mined/' || rw_hex(rwt.tx(1)), 'mined: the intent holds the mined hash');
SELECT rwt.eq(rw_relayer_mined(rwt.tx(1), 101, rwt.h32(101), 1::smallint, 30000, 50), 'same',
	'the same receipt again changes nothing');
SELECT rwt.throws($$UPDATE relayer_tx SET state = 'mined' WHERE id = (SELECT id FROM tx3)$$, '23505',
	'a second mined transaction at one nonce is refused');
SELECT rwt.eq(rw_relayer_mined(rwt.tx(1), 102, rwt.h32(1102), 1::smallint, 30000, 50), 'moved',
	'a receipt in another block moves it');
SELECT rwt.eq((SELECT block_number FROM relayer_receipt WHERE tx_hash = rwt.tx(1)), 102::bigint,
	'moved: the receipt has the new block');

-- settle: confirmed at depth, final at the finalized block
SELECT rwt.eq(rw_relayer_settle(31337, (SELECT signer FROM k), 103, 2, 50), 0,
	'not confirmed before the depth (102 + 2 > 103)');
SELECT rwt.eq(rw_relayer_settle(31337, (SELECT signer FROM k), 104, 2, 50), 1,
	'confirmed at the depth (102 + 2 <= 104)');
SELECT rwt.eq((SELECT state FROM relayer_intent WHERE id = (SELECT a FROM i)), 'confirmed',
	'the intent is confirmed');

-- unmined after confirmation (deeper reorg): back to pending, highest attempt current
SELECT rwt.eq(rw_relayer_unmined(rwt.tx(1), 'no receipt'), 'pending', 'unmined returns pending');
SELECT rwt.eq((SELECT string_agg(attempt || ':' || state, ',' ORDER BY attempt) FROM relayer_tx WHERE nonce = 5),
	'1:replaced,2:sent', 'unmined: the highest attempt is current again');
SELECT rwt.eq((SELECT state || '/' || coalesce(rw_hex(tx_hash), '-') FROM relayer_intent WHERE id = (SELECT a FROM i)),
	'pending/-', 'unmined: the intent is pending without a hash');
SELECT rwt.eq((SELECT level FROM relayer_event WHERE kind = 'reorged' ORDER BY id DESC LIMIT 1), 'error',
	'a reorg after confirmation is reported as an error');
SELECT rwt.eq((SELECT count(*) FROM relayer_receipt WHERE tx_hash = rwt.tx(1)), 0::bigint,
	'unmined: the receipt is gone');

-- attempt 2 is mined now; reverted (status 0) and final
SELECT rwt.eq(rw_relayer_mined(rwt.tx(3), 110, rwt.h32(110), 0::smallint, 30000, 50), 'mined',
	'the current attempt is mined');
SELECT rwt.eq(rw_relayer_settle(31337, (SELECT signer FROM k), 112, 2, 110), 2,
	'confirmed and final in one step');
SELECT rwt.eq((SELECT state FROM relayer_intent WHERE id = (SELECT a FROM i)), 'reverted',
	'status 0 at depth: reverted');
SELECT rwt.eq((SELECT final FROM relayer_receipt WHERE tx_hash = rwt.tx(3)), true,
	'the receipt of a reverted transaction is final');

-- b (nonce 6) mined and final; the intent is final
SELECT rwt.eq(rw_relayer_mined(rwt.tx(2), 111, rwt.h32(111), 1::smallint, 21000, 50), 'mined',
	'nonce 6 mined');
SELECT rwt.eq(rw_relayer_settle(31337, (SELECT signer FROM k), 113, 2, 111), 2,
	'nonce 6 confirmed and final');
SELECT rwt.eq((SELECT state FROM relayer_intent WHERE id = (SELECT b FROM i)), 'final', 'intent b is final');
SELECT rwt.throws($$UPDATE relayer_intent SET state = 'pending' WHERE id = (SELECT b FROM i)$$, 'RW004',
	'final is final');

-- lost: nonce 7 used by someone else
CREATE TEMP TABLE tx4 AS SELECT rw_relayer_assign(31337, (SELECT signer FROM k), (SELECT c FROM i),
	7, 2, 2::smallint, NULL, 100, 10, 50000, '\xb0', rwt.tx(5)) AS id;
SELECT rwt.throws($$SELECT rw_relayer_lost(31337, (SELECT signer FROM k), 7, 7, 120)$$, 'RW004',
	'lost needs the count at depth above the nonce');
SELECT rwt.throws($$SELECT rw_relayer_lost(31337, (SELECT signer FROM k), 6, 8, 120)$$, 'RW004',
	'lost refuses a nonce with a mined transaction of ours');
SELECT rwt.eq(rw_relayer_lost(31337, (SELECT signer FROM k), 7, 8, 120), 1, 'lost: one attempt lost');
SELECT rwt.eq((SELECT state || '/' || coalesce(nonce::text, '-') FROM relayer_intent WHERE id = (SELECT c FROM i)),
	'queued/-', 'lost: the intent is queued again without a nonce');
SELECT rwt.eq((SELECT count(*) FROM relayer_event WHERE kind = 'nonce_taken'), 1::bigint,
	'lost is reported as nonce_taken');
SELECT rwt.eq(rw_relayer_mined(rwt.tx(5), 130, rwt.h32(130), 1::smallint, 21000, 50), 'conflict',
	'a receipt for a lost transaction is a conflict, reported');
SELECT rwt.eq((SELECT count(*) FROM relayer_event WHERE kind = 'lost_mined'), 1::bigint,
	'the conflict is reported as lost_mined');

-- sync: another sender moved the chain's nonce past ours
SELECT rwt.eq((SELECT next_nonce || '/' || raised_from FROM rw_relayer_sync(31337, 'local',
	(SELECT signer FROM k), 130, 110, 12, 12, 10::numeric ^ 18, 'ok')), '12/8',
	'sync raises next_nonce to the chain''s count');
SELECT rwt.eq((SELECT count(*) FROM relayer_event WHERE kind = 'nonce_ahead'), 1::bigint,
	'the raise is reported as nonce_ahead');

-- fill: gaps only
SELECT rwt.eq((SELECT next_nonce FROM rw_relayer_sync(31337, 'local', (SELECT signer FROM k), 131, 110,
	10, 12, 10::numeric ^ 18, 'ok')), 12::bigint, 'sync never lowers next_nonce');
SELECT rwt.throws($$SELECT rw_relayer_fill(31337, (SELECT signer FROM k), 12, 2::smallint, NULL, 100, 10,
	21000, '\xc0', rwt.tx(6), 'test')$$, 'RW005', 'no filler at next_nonce');
SELECT rwt.throws($$SELECT rw_relayer_fill(31337, (SELECT signer FROM k), 9, 2::smallint, NULL, 100, 10,
	21000, '\xc0', rwt.tx(6), 'test')$$, 'RW005', 'no filler below the chain''s count');
SELECT rwt.ok(rw_relayer_fill(31337, (SELECT signer FROM k), 11, 2::smallint, NULL, 100, 10,
	21000, '\xc0', rwt.tx(6), 'test') > 0, 'a filler at a gap');
SELECT rwt.throws($$SELECT rw_relayer_fill(31337, (SELECT signer FROM k), 11, 2::smallint, NULL, 100, 10,
	21000, '\xc1', rwt.tx(7), 'test')$$, 'RW005', 'no second filler at a filled nonce');
SELECT rwt.eq((SELECT kind || '/' || coalesce(intent_id::text, '-') FROM relayer_tx WHERE hash = rwt.tx(6)),
	'filler/-', 'a filler belongs to no intent');

-- estimation failures
SELECT rwt.eq(rw_relayer_estimate_failed((SELECT c FROM i), 'InsufficientAllowance()', false, '5 seconds'),
	'queued', 'a deferred estimation failure keeps the intent queued');
SELECT rwt.ok((SELECT not_before > now() FROM relayer_intent WHERE id = (SELECT c FROM i)),
	'a deferred intent waits until not_before');
SELECT rwt.eq(rw_relayer_estimate_failed((SELECT c FROM i), 'InsufficientAllowance()', true, '0'),
	'failed', 'a final estimation failure fails the intent');
SELECT rwt.eq((SELECT reason FROM relayer_intent WHERE id = (SELECT c FROM i)), 'InsufficientAllowance()',
	'the failure reason is the decoded revert');
SELECT rwt.eq((SELECT count(*) FROM relayer_tx WHERE intent_id = (SELECT c FROM i) AND state <> 'lost'), 0::bigint,
	'a failed intent has no live transaction');
SELECT rwt.eq((rw_intent_retry('charge:31337:c:1')).state, 'queued', 'retry queues a failed intent');

-- status reports and the views
SELECT rwt.eq((SELECT status FROM rw_relayer_sync(31337, 'local', (SELECT signer FROM k), 132, 110,
	10, 12, 5, 'cannot_pay')), 'cannot_pay', 'sync returns the new status');
SELECT rwt.eq((SELECT status FROM relayer_signer), 'cannot_pay', 'sync stores the status');
SELECT rwt.eq((SELECT count(*) FROM relayer_event WHERE kind = 'cannot_pay'), 1::bigint,
	'a status change is reported');
SELECT rwt.eq((SELECT local_nonce || '/' || chain_nonce || '/' || inflight || '/' || queued || '/' || fillers
	FROM relayer_health), '12/10/1/1/1', 'relayer_health: nonces, in flight, queued, fillers');
SELECT rwt.ok((SELECT spend_7d FROM relayer_health) = 30000 * 50 + 21000 * 50,
	'relayer_health: gas spent from the receipts');
SELECT rwt.eq((SELECT count(*) FROM relayer_queue), 1::bigint, 'relayer_queue: the queued intent');
SELECT rwt.eq((SELECT attempts FROM relayer_intents WHERE key = 'charge:31337:a:1'), 2::bigint,
	'relayer_intents counts attempts');
