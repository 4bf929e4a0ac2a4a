-- test_relayer_steer: operators' requests (migrations/0023_relayer_steer.sql):
-- filing bump and cancel requests and every refusal, the engine's side
-- (steer_bump, steer_cancel, steer_refuse), the cancel no-op through mined,
-- reorged, the original winning the race, and a nonce lost to another
-- sender; the constraints and triggers that keep it exactly-once.

INSERT INTO chain (chain_id, name) VALUES (31337, 'local'), (5, 'other') ON CONFLICT DO NOTHING;
CREATE TEMP TABLE k AS SELECT rwt.addr(88) AS signer;
SELECT rwt.eq((SELECT next_nonce FROM rw_relayer_sync(31337, 'local', (SELECT signer FROM k),
	100, NULL, 0, 0, 10::numeric ^ 18, 'ok')), 0::bigint, 'a fresh signer at nonce 0');

CREATE TEMP TABLE i AS SELECT
	(rw_intent_file('extend:s1', 31337, rwt.addr(10), '\x01'::bytea)).id AS a,
	(rw_intent_file('extend:s2', 31337, rwt.addr(10), '\x02'::bytea)).id AS b,
	(rw_intent_file('extend:s3', 31337, rwt.addr(10), '\x03'::bytea)).id AS c,
	(rw_intent_file('extend:s4', 31337, rwt.addr(10), '\x04'::bytea)).id AS d;
-- a at nonce 0, b at 1, c at 2, d at 3; all sent
DO $$ BEGIN PERFORM rw_relayer_assign(31337, (SELECT signer FROM k), (SELECT a FROM i), 0, 8, 2::smallint, NULL,
	100, 10, 50000, '\xa0', rwt.tx(100)); END $$;
DO $$ BEGIN PERFORM rw_relayer_assign(31337, (SELECT signer FROM k), (SELECT b FROM i), 1, 8, 2::smallint, NULL,
	100, 10, 50000, '\xa1', rwt.tx(101)); END $$;
DO $$ BEGIN PERFORM rw_relayer_assign(31337, (SELECT signer FROM k), (SELECT c FROM i), 2, 8, 0::smallint, 100,
	NULL, NULL, 50000, '\xa2', rwt.tx(102)); END $$;
DO $$ BEGIN PERFORM rw_relayer_assign(31337, (SELECT signer FROM k), (SELECT d FROM i), 3, 8, 2::smallint, NULL,
	100, 10, 50000, '\xa3', rwt.tx(103)); END $$;
DO $$ BEGIN PERFORM rw_relayer_sent(id, 100, true, NULL, NULL) FROM relayer_tx; END $$;

-- filing: bad arguments
SELECT rwt.throws($$SELECT rw_tx_request('speedup', 31337, (SELECT signer FROM k), 0)$$, '22023',
	'a kind other than bump or cancel is refused');
SELECT rwt.throws($$SELECT rw_tx_request('bump', 31337, '\x01'::bytea, 0)$$, '22023',
	'a signer that is not 20 bytes is refused');
SELECT rwt.throws($$SELECT rw_tx_request('bump', 31337, (SELECT signer FROM k), -1)$$, '22023',
	'a negative nonce is refused');
SELECT rwt.throws($$SELECT rw_tx_request('bump', 31337, (SELECT signer FROM k), 0, repeat('x', 501))$$,
	'22023', 'a note over 500 bytes is refused');
SELECT rwt.throws($$SELECT rw_tx_request_hash('bump', '\x01'::bytea)$$, '22023',
	'a hash that is not 32 bytes is refused');

-- filing: nothing there
SELECT rwt.throws($$SELECT rw_tx_request('bump', 31337, (SELECT signer FROM k), 9)$$, 'P0002',
	'no transaction at the nonce: P0002');
SELECT rwt.eq((rw_relayer_steerable('bump', 31337, (SELECT signer FROM k), 9)).reason,
	'nonce 9 of ' || rw_hex((SELECT signer FROM k)) || ' on chain 31337 has no transaction of the '
	|| 'relayer (its next nonce is 4)', 'the refusal names the nonce, the signer and the next nonce');
SELECT rwt.throws($$SELECT rw_tx_request('bump', NULL, (SELECT signer FROM k), 9)$$, 'P0002',
	'no chain given and the nonce is nowhere: P0002');
SELECT rwt.throws($$SELECT rw_tx_request('bump', 31337, rwt.addr(99), 0)$$, 'P0002',
	'a signer the relayer never used: P0002');
SELECT rwt.ok((rw_relayer_steerable('bump', 31337, rwt.addr(99), 0)).reason
	LIKE '%the relayer has never used this signer on this chain%', 'and the refusal says so');
SELECT rwt.throws($$SELECT rw_tx_request_hash('bump', rwt.tx(999))$$, 'P0002',
	'an unknown hash: P0002');

-- filing: a bump by signer and nonce, chain found alone
CREATE TEMP TABLE q1 AS SELECT * FROM rw_tx_request('bump', NULL, (SELECT signer FROM k), 0, 'stuck');
SELECT rwt.eq((SELECT state || '/' || kind || '/' || chain_id || '/' || intent_id FROM q1),
	'requested/bump/31337/' || (SELECT a FROM i), 'a bump request is filed for the intent at the nonce');
SELECT rwt.eq((SELECT from_tx_id FROM q1), (SELECT id FROM relayer_tx WHERE hash = rwt.tx(100)),
	'it records the attempt current when filed');
SELECT rwt.eq((SELECT requested_by FROM q1), session_user::text, 'and who asked');
SELECT rwt.eq((SELECT count(*) FROM relayer_event WHERE kind = 'bump_requested'), 1::bigint,
	'the request is reported');
SELECT rwt.throws($$SELECT rw_tx_request('cancel', 31337, (SELECT signer FROM k), 0)$$, 'RW008',
	'a second open request at the nonce: RW008');
SELECT rwt.throws($$SELECT rw_tx_request_hash('bump', rwt.tx(100))$$, 'RW008',
	'also by hash');
SELECT rwt.throws($$INSERT INTO relayer_request (chain_id, signer, nonce, kind)
	VALUES (31337, (SELECT signer FROM k), 0, 'bump')$$, '23505',
	'the partial unique index keeps one open request per nonce');

-- the engine carries it out: the replacement and the request done together
CREATE TEMP TABLE r1 AS SELECT * FROM rw_relayer_steer_bump((SELECT id FROM q1),
	(SELECT id FROM relayer_tx WHERE hash = rwt.tx(100)), 2::smallint, NULL, 111, 12, '\xb0', rwt.tx(110));
SELECT rwt.ok((SELECT tx_id FROM r1) IS NOT NULL, 'steer_bump returns the new attempt');
SELECT rwt.eq((SELECT state || '/' || tx_id FROM relayer_request WHERE id = (SELECT id FROM q1)),
	'done/' || (SELECT tx_id FROM r1), 'the request is done with the replacement');
SELECT rwt.eq((SELECT string_agg(attempt || ':' || state || ':' || kind, ',' ORDER BY attempt)
	FROM relayer_tx WHERE nonce = 0), '1:replaced:intent,2:signed:intent',
	'the bump is attempt 2 of the same intent');
SELECT rwt.ok((SELECT message FROM r1) LIKE 'nonce 0: bump request #% done: attempt 2 %max fee 111, tip 12)',
	'the message names the attempt and the fees');
SELECT rwt.eq((SELECT count(*) FROM relayer_event WHERE kind IN ('bumped', 'request_done')), 2::bigint,
	'reported as bumped and request_done');
SELECT rwt.eq((SELECT tx_id FROM rw_relayer_steer_bump((SELECT id FROM q1),
	(SELECT id FROM relayer_tx WHERE hash = rwt.tx(110)), 2::smallint, NULL, 200, 20, '\xb1', rwt.tx(111))),
	NULL::bigint, 'a done request is not carried out twice');
SELECT rwt.eq((SELECT count(*) FROM relayer_tx WHERE nonce = 0), 2::bigint, 'nothing stored the second time');
SELECT rwt.throws($$UPDATE relayer_request SET state = 'refused', reason = 'x' WHERE id = (SELECT id FROM q1)$$,
	'RW004', 'a done request never changes');

-- a bump whose fees break the rule is refused, not stored
CREATE TEMP TABLE q2 AS SELECT * FROM rw_tx_request_hash('bump', rwt.tx(110));
SELECT rwt.eq((SELECT nonce FROM q2), 0::bigint, 'by hash: the nonce of that transaction');
SELECT rwt.eq((SELECT tx_id FROM rw_relayer_steer_bump((SELECT id FROM q2),
	(SELECT id FROM relayer_tx WHERE hash = rwt.tx(110)), 2::smallint, NULL, 122, 13, '\xb2', rwt.tx(112))),
	NULL::bigint, 'underpriced (tip 12 -> 13 < 14): refused');
SELECT rwt.ok((SELECT state = 'refused' AND reason LIKE 'replacement underpriced: max fee 122 and tip 13 wei, the rule needs at least 124 and 15%' FROM relayer_request
	WHERE id = (SELECT id FROM q2)), 'the request is refused with the rule''s reason');
SELECT rwt.eq((SELECT count(*) FROM relayer_tx WHERE nonce = 0), 2::bigint, 'nothing was stored');

-- the engine refuses with its own reason (fee cap), or SQL's
CREATE TEMP TABLE q3 AS SELECT * FROM rw_tx_request('bump', 31337, (SELECT signer FROM k), 0);
SELECT rwt.eq((SELECT message FROM rw_relayer_steer_refuse((SELECT id FROM q3),
	'the least replacement fees are above the fee cap')), 'the least replacement fees are above the fee cap',
	'steer_refuse returns the reason');
SELECT rwt.eq((SELECT state || ': ' || reason FROM relayer_request WHERE id = (SELECT id FROM q3)),
	'refused: the least replacement fees are above the fee cap', 'and stores it');
SELECT rwt.eq((SELECT count(*) FROM relayer_event WHERE kind = 'request_refused'), 2::bigint,
	'refusals are reported');
SELECT rwt.throws($$UPDATE relayer_request SET kind = 'cancel' WHERE id = (SELECT id FROM q3)$$,
	'RW004', 'a refused request never changes');

-- cancel: a no-op at the intent's nonce
CREATE TEMP TABLE q4 AS SELECT * FROM rw_tx_request('cancel', 31337, (SELECT signer FROM k), 1);
SELECT rwt.eq((SELECT intent_id FROM q4), (SELECT b FROM i), 'a cancel request names the intent');
SELECT rwt.eq((SELECT tx_id FROM rw_relayer_steer_cancel((SELECT id FROM q4),
	(SELECT id FROM relayer_tx WHERE hash = rwt.tx(101)), 0::smallint, 200, NULL, NULL, '\xc0', rwt.tx(120))),
	NULL::bigint, 'a no-op of another type is refused');
SELECT rwt.ok((SELECT reason FROM relayer_request WHERE id = (SELECT id FROM q4)) LIKE '%keep the type%',
	'with the reason');
CREATE TEMP TABLE q5 AS SELECT * FROM rw_tx_request('cancel', 31337, (SELECT signer FROM k), 1);
SELECT rwt.eq((SELECT tx_id FROM rw_relayer_steer_cancel((SELECT id FROM q5),
	(SELECT id FROM relayer_tx WHERE hash = rwt.tx(101)), 2::smallint, NULL, 110, 11, '\xc0', rwt.tx(120))),
	NULL::bigint, 'a no-op under the bump rule is refused');
CREATE TEMP TABLE q6 AS SELECT * FROM rw_tx_request('cancel', 31337, (SELECT signer FROM k), 1);
CREATE TEMP TABLE r6 AS SELECT * FROM rw_relayer_steer_cancel((SELECT id FROM q6),
	(SELECT id FROM relayer_tx WHERE hash = rwt.tx(101)), 2::smallint, NULL, 111, 12, '\xc0', rwt.tx(120));
SELECT rwt.eq((SELECT kind || '/' || gas_limit || '/' || intent_id || '/' || state || '/' || attempt
	FROM relayer_tx WHERE id = (SELECT tx_id FROM r6)), 'cancel/21000/' || (SELECT b FROM i) || '/signed/2',
	'the no-op is stored as kind cancel, gas 21000, of the intent, attempt 2');
SELECT rwt.eq((SELECT state FROM relayer_tx WHERE hash = rwt.tx(101)), 'replaced', 'the call is replaced');
SELECT rwt.eq((SELECT state FROM relayer_intent WHERE id = (SELECT b FROM i)), 'pending',
	'the intent stays pending until a receipt');
SELECT rwt.eq((SELECT state FROM relayer_request WHERE id = (SELECT id FROM q6)), 'done', 'the request is done');
SELECT rwt.eq((SELECT count(*) FROM relayer_event WHERE kind = 'cancelling'), 1::bigint, 'reported as cancelling');
SELECT rwt.throws($$SELECT rw_tx_request('cancel', 31337, (SELECT signer FROM k), 1)$$, 'RW009',
	'cancelling twice: RW009');
SELECT rwt.ok((rw_relayer_steerable('cancel', 31337, (SELECT signer FROM k), 1)).reason
	LIKE '%is already being cancelled%`runway tx bump` raises its fees', 'and says how to raise its fees');
SELECT rwt.throws($$SELECT rw_intent_cancel('extend:s2')$$, 'RW004',
	'rw_intent_cancel refuses an intent with a nonce');
SELECT rwt.eq((SELECT count(*) FROM relayer_intent WHERE state = 'cancelled'), 0::bigint, 'nothing cancelled yet');

-- the cancel no-op is bumped like any attempt: kind and gas stay
CREATE TEMP TABLE r7 AS SELECT rw_relayer_replace((SELECT tx_id FROM r6), 2::smallint, NULL, 200, 20,
	'\xc1', rwt.tx(121), 'stuck') AS id;
SELECT rwt.eq((SELECT kind || '/' || gas_limit || '/' || intent_id FROM relayer_tx WHERE id = (SELECT id FROM r7)),
	'cancel/21000/' || (SELECT b FROM i), 'a bump of the no-op is a no-op');

-- the no-op is mined: the intent is cancelled, keeping its nonce and the no-op's hash
SELECT rwt.eq(rw_relayer_mined(rwt.tx(121), 105, rwt.h32(105), 1::smallint, 21000, 50), 'mined',
	'the no-op is mined');
SELECT rwt.eq((SELECT state || '/' || nonce || '/' || rw_hex(tx_hash) FROM relayer_intent WHERE id = (SELECT b FROM i)),
	'cancelled/1/' || rw_hex(rwt.tx(121)), 'the intent is cancelled at its nonce with the no-op''s hash');
SELECT rwt.ok((SELECT reason FROM relayer_intent WHERE id = (SELECT b FROM i)) LIKE 'cancelled by an operator%never ran',
	'the reason says the call never ran');
SELECT rwt.eq((SELECT count(*) FROM relayer_event WHERE kind = 'cancelled'), 1::bigint, 'reported as cancelled');
SELECT rwt.eq(rw_relayer_settle(31337, (SELECT signer FROM k), 110, 2, NULL), 1, 'the no-op''s receipt is confirmed');
SELECT rwt.eq((SELECT state FROM relayer_intent WHERE id = (SELECT b FROM i)), 'cancelled',
	'a cancelled intent stays cancelled at depth');
SELECT rwt.throws($$SELECT rw_tx_request('bump', 31337, (SELECT signer FROM k), 1)$$, 'RW009',
	'a mined nonce: RW009');
SELECT rwt.ok((rw_relayer_steerable('bump', 31337, (SELECT signer FROM k), 1)).reason
	LIKE '%is already mined: % (the no-op cancelling extend:s2) in block 105; nothing to bump',
	'the refusal names the mined no-op and its block');
SELECT rwt.eq((rw_intent_cancel('extend:s2')).state, 'cancelled', 'rw_intent_cancel of a cancelled intent: as it is');
SELECT rwt.throws($$SELECT rw_intent_retry('extend:s2')$$, 'RW004', 'a cancelled intent is not retried');

-- a reorg takes the no-op out: pending again; the original call wins this time
SELECT rwt.eq(rw_relayer_unmined(rwt.tx(121), 'no receipt'), 'pending', 'the no-op is reorged out');
SELECT rwt.eq((SELECT state || '/' || nonce || '/' || coalesce(rw_hex(tx_hash), '-') FROM relayer_intent
	WHERE id = (SELECT b FROM i)), 'pending/1/-', 'the intent is pending again at its nonce');
SELECT rwt.eq(rw_relayer_mined(rwt.tx(101), 106, rwt.h32(106), 1::smallint, 40000, 50), 'mined',
	'the original call is mined instead');
SELECT rwt.eq((SELECT state || '/' || rw_hex(tx_hash) FROM relayer_intent WHERE id = (SELECT b FROM i)),
	'mined/' || rw_hex(rwt.tx(101)), 'the intent follows the call''s receipt: mined');
SELECT rwt.eq((SELECT count(*) FROM relayer_tx WHERE nonce = 1 AND state = 'mined'), 1::bigint,
	'one mined transaction at the nonce');
-- and back: a reorg moves the nonce to the no-op while the intent is mined
SELECT rwt.eq(rw_relayer_mined(rwt.tx(121), 107, rwt.h32(107), 1::smallint, 21000, 50), 'mined',
	'the no-op is mined in the new branch');
SELECT rwt.eq((SELECT state || '/' || rw_hex(tx_hash) FROM relayer_intent WHERE id = (SELECT b FROM i)),
	'cancelled/' || rw_hex(rwt.tx(121)), 'the intent is cancelled again');
SELECT rwt.eq((SELECT string_agg(attempt || ':' || state, ',' ORDER BY attempt) FROM relayer_tx WHERE nonce = 1),
	'1:replaced,2:replaced,3:mined', 'only the no-op is mined');
SELECT rwt.eq((SELECT count(*) FROM relayer_receipt rc JOIN relayer_tx t ON t.hash = rc.tx_hash WHERE t.nonce = 1),
	1::bigint, 'one receipt at the nonce');

-- the race: the original is mined while the no-op is current
CREATE TEMP TABLE q8 AS SELECT * FROM rw_tx_request('cancel', 31337, (SELECT signer FROM k), 3);
DO $$ BEGIN PERFORM rw_relayer_steer_cancel((SELECT id FROM q8), (SELECT id FROM relayer_tx WHERE hash = rwt.tx(103)),
	2::smallint, NULL, 111, 12, '\xd0', rwt.tx(130)); END $$;
SELECT rwt.eq(rw_relayer_mined(rwt.tx(103), 108, rwt.h32(108), 1::smallint, 40000, 50), 'mined',
	'the original call wins the race');
SELECT rwt.eq((SELECT state FROM relayer_intent WHERE id = (SELECT d FROM i)), 'mined',
	'the intent follows the call: mined, not cancelled');
SELECT rwt.eq((SELECT state FROM relayer_tx WHERE hash = rwt.tx(130)), 'replaced', 'the no-op is replaced');
SELECT rwt.eq(rw_relayer_settle(31337, (SELECT signer FROM k), 112, 2, NULL), 2,
	'settled (the call and the earlier no-op''s new receipt)');
SELECT rwt.eq((SELECT state FROM relayer_intent WHERE id = (SELECT d FROM i)), 'confirmed', 'and confirmed');

-- a cancel whose nonce is taken by another sender: cancelled, no nonce
CREATE TEMP TABLE q9 AS SELECT * FROM rw_tx_request('cancel', 31337, (SELECT signer FROM k), 2);
SELECT rwt.eq((SELECT tx_id FROM rw_relayer_steer_cancel((SELECT id FROM q9),
	(SELECT id FROM relayer_tx WHERE hash = rwt.tx(102)), 0::smallint, 111, NULL, NULL, '\xe0', rwt.tx(140))) IS NOT NULL,
	true, 'a legacy (type 0) call gets a type 0 no-op');
SELECT rwt.eq(rw_relayer_lost(31337, (SELECT signer FROM k), 2, 3, 109), 2, 'nonce 2 lost to another sender');
SELECT rwt.eq((SELECT state || '/' || coalesce(nonce::text, '-') || '/' || coalesce(rw_hex(tx_hash), '-')
	FROM relayer_intent WHERE id = (SELECT c FROM i)), 'cancelled/-/-',
	'the intent is cancelled (as asked), not queued again');
SELECT rwt.ok((SELECT message FROM relayer_event WHERE kind = 'nonce_taken' ORDER BY id DESC LIMIT 1)
	LIKE '%extend:s3 cancelled (as requested)', 'the nonce_taken report says so');
SELECT rwt.throws($$SELECT rw_tx_request('bump', 31337, (SELECT signer FROM k), 2)$$, 'RW009',
	'a lost nonce: RW009');
SELECT rwt.ok((rw_relayer_steerable('bump', 31337, (SELECT signer FROM k), 2)).reason
	LIKE '%was used by a transaction that is not ours%extend:s3 is cancelled', 'the refusal says so');

-- a gap filler can be bumped, not cancelled
DO $$ BEGIN PERFORM rw_relayer_sync(31337, 'local', (SELECT signer FROM k), 113, NULL, 4, 4, 10::numeric ^ 18, 'ok'); END $$;
UPDATE relayer_signer SET next_nonce = 6;
DO $$ BEGIN PERFORM rw_relayer_fill(31337, (SELECT signer FROM k), 4, 2::smallint, NULL, 100, 10, 21000, '\xf0', rwt.tx(150), 'gap'); END $$;
SELECT rwt.throws($$SELECT rw_tx_request('cancel', 31337, (SELECT signer FROM k), 4)$$, 'RW009',
	'a gap filler is not cancelled');
SELECT rwt.ok((rw_relayer_steerable('cancel', 31337, (SELECT signer FROM k), 4)).reason LIKE '%holds a gap filler%',
	'the refusal says it is a gap filler');
SELECT rwt.eq((SELECT kind FROM rw_tx_request('bump', 31337, (SELECT signer FROM k), 4)), 'bump',
	'a gap filler can be bumped');

-- a request refused by SQL when the attempt is no longer current
CREATE TEMP TABLE q10 AS SELECT id FROM relayer_request WHERE nonce = 4 AND state = 'requested';
DO $$ BEGIN PERFORM rw_relayer_mined(rwt.tx(150), 114, rwt.h32(114), 1::smallint, 21000, 50); END $$;
SELECT rwt.eq((SELECT tx_id FROM rw_relayer_steer_bump((SELECT id FROM q10),
	(SELECT id FROM relayer_tx WHERE hash = rwt.tx(150)), 2::smallint, NULL, 200, 20, '\xf1', rwt.tx(151))),
	NULL::bigint, 'a bump of a nonce mined meanwhile is refused');
SELECT rwt.ok((SELECT reason FROM relayer_request WHERE id = (SELECT id FROM q10)) LIKE '%is already mined%',
	'with the reason: already mined');

-- the same nonce on two chains: the chain must be named
INSERT INTO relayer_signer (chain_id, address, next_nonce) VALUES (5, (SELECT signer FROM k), 0);
DO $$ BEGIN PERFORM rw_intent_file('extend:other', 5, rwt.addr(10), '\x05'::bytea); END $$;
DO $$ BEGIN PERFORM rw_relayer_assign(5, (SELECT signer FROM k), (SELECT id FROM relayer_intent WHERE key = 'extend:other'),
	0, 8, 2::smallint, NULL, 100, 10, 50000, '\xa9', rwt.tx(160)); END $$;
SELECT rwt.throws($$SELECT rw_tx_request('bump', NULL, (SELECT signer FROM k), 0)$$, '22023',
	'a nonce on two chains needs the chain');
SELECT rwt.eq((SELECT chain_id FROM rw_tx_request('bump', 5, (SELECT signer FROM k), 0)), 5::bigint,
	'with the chain named it is filed');

-- constraints and triggers
SELECT rwt.throws($$INSERT INTO relayer_tx (chain_id, signer, nonce, attempt, kind, type, max_fee_per_gas,
	max_priority_fee_per_gas, gas_limit, raw, hash)
	VALUES (31337, (SELECT signer FROM k), 9, 1, 'cancel', 2, 1, 1, 21000, '\x01', rwt.tx(900))$$, '23514',
	'a cancel attempt belongs to an intent');
SELECT rwt.throws($$INSERT INTO relayer_tx (chain_id, signer, nonce, attempt, kind, intent_id, type,
	max_fee_per_gas, max_priority_fee_per_gas, gas_limit, raw, hash)
	VALUES (31337, (SELECT signer FROM k), 9, 1, 'cancel', (SELECT a FROM i), 2, 1, 1, 50000, '\x01', rwt.tx(900))$$,
	'23514', 'a cancel attempt has gas 21000');
SELECT rwt.throws($$INSERT INTO relayer_tx (chain_id, signer, nonce, attempt, kind, intent_id, type,
	max_fee_per_gas, max_priority_fee_per_gas, gas_limit, raw, hash)
	VALUES (31337, (SELECT signer FROM k), 9, 1, 'filler', (SELECT a FROM i), 2, 1, 1, 21000, '\x01', rwt.tx(900))$$,
	'23514', 'a gap filler belongs to no intent');
CREATE TEMP TABLE e AS SELECT (rw_intent_file('extend:s5', 31337, rwt.addr(10), '\x06'::bytea)).id AS id;
DO $$ BEGIN PERFORM rw_relayer_assign(31337, (SELECT signer FROM k), (SELECT id FROM e), 6, 8, 2::smallint, NULL,
	100, 10, 50000, '\xaa', rwt.tx(170)); END $$;
SELECT rwt.throws($$UPDATE relayer_intent SET state = 'cancelled' WHERE id = (SELECT id FROM e)$$, 'RW004',
	'a pending intent is not cancelled by hand');
SELECT rwt.throws($$UPDATE relayer_intent SET state = 'cancelled', tx_hash = rwt.tx(170) WHERE id = (SELECT id FROM e)$$,
	'RW004', 'nor with the hash of its call');
SELECT rwt.throws($$UPDATE relayer_intent SET state = 'cancelled', nonce = NULL WHERE id = (SELECT id FROM e)$$,
	'RW004', 'nor by dropping its nonce while its call is in flight');
SELECT rwt.throws($$UPDATE relayer_intent SET state = 'pending', nonce = 7, gas_limit = 21000, signer = (SELECT signer FROM k)
	WHERE id = (SELECT c FROM i)$$, 'RW004', 'a cancelled intent without a mined no-op stays cancelled');
SELECT rwt.throws($$UPDATE relayer_intent SET tx_hash = NULL WHERE id = (SELECT b FROM i)$$, '23514',
	'a cancelled intent with a nonce keeps the no-op''s hash');

-- the view
SELECT rwt.eq((SELECT count(*) FROM relayer_requests), (SELECT count(*) FROM relayer_request),
	'relayer_requests shows every request');
SELECT rwt.eq((SELECT kind || '/' || state || '/' || intent_key || '/' || attempt || '/' || max_fee_per_gas
	FROM relayer_requests WHERE id = (SELECT id FROM q6)), 'cancel/done/extend:s2/2/111',
	'relayer_requests: kind, state, intent, the replacement and its fees');
