-- test_relayer_intent: filing intents (rw_intent_file), the payload rule,
-- cancel and retry, and the constraints of relayer_intent.

INSERT INTO chain (chain_id, name) VALUES (31337, 'local') ON CONFLICT DO NOTHING;

CREATE TEMP TABLE t_a AS
SELECT * FROM rw_intent_file('extend:req-1', 31337, rwt.addr(10), '\x783d53ca'::bytea, 0);

SELECT rwt.eq((SELECT state FROM t_a), 'queued', 'a filed intent is queued');
SELECT rwt.eq((SELECT kind FROM t_a), 'extend', 'kind is the part of the key before the colon');
SELECT rwt.eq((SELECT nonce FROM t_a), NULL::bigint, 'a queued intent has no nonce');
SELECT rwt.eq((SELECT payload_hash FROM t_a),
	sha256(convert_to('runway-intent-v1|31337|-|0x000000000000000000000000000000000000000a|0|0x783d53ca', 'UTF8')),
	'the payload hash follows the documented formula');
SELECT rwt.eq((SELECT payload_hash FROM t_a),
	rw_intent_payload_hash(31337, NULL, rwt.addr(10), 0, '\x783d53ca'),
	'rw_intent_payload_hash gives the stored hash');

-- the same key and payload: the same intent, no second row
SELECT rwt.eq((rw_intent_file('extend:req-1', 31337, rwt.addr(10), '\x783d53ca'::bytea, 0)).id,
	(SELECT id FROM t_a), 'filing the same key twice returns the existing intent');
SELECT rwt.eq((rw_intent_file('extend:req-1', 31337, rwt.addr(10), '\x783d53ca'::bytea, 0.0)).id,
	(SELECT id FROM t_a), 'value 0.0 is the same payload as 0');
SELECT rwt.eq((SELECT count(*) FROM relayer_intent WHERE key = 'extend:req-1'), 1::bigint,
	'one row per key');

-- the same key with another payload
SELECT rwt.throws($$SELECT rw_intent_file('extend:req-1', 31337, rwt.addr(10), '\x783d53cb'::bytea, 0)$$,
	'RW001', 'same key, other calldata: RW001');
SELECT rwt.throws($$SELECT rw_intent_file('extend:req-1', 31337, rwt.addr(11), '\x783d53ca'::bytea, 0)$$,
	'RW001', 'same key, other target: RW001');
SELECT rwt.throws($$SELECT rw_intent_file('extend:req-1', 31337, rwt.addr(10), '\x783d53ca'::bytea, 1)$$,
	'RW001', 'same key, other value: RW001');
SELECT rwt.throws($$SELECT rw_intent_file('extend:req-1', 31337, rwt.addr(10), '\x783d53ca'::bytea, 0, rwt.addr(5))$$,
	'RW001', 'same key, a named signer: RW001');
INSERT INTO chain (chain_id, name) VALUES (1, 'mainnet-test') ON CONFLICT DO NOTHING;
SELECT rwt.throws($$SELECT rw_intent_file('extend:req-1', 1, rwt.addr(10), '\x783d53ca'::bytea, 0)$$,
	'RW001', 'same key, other chain: RW001');

-- bad input
SELECT rwt.throws($$SELECT rw_intent_file('nokind', 31337, rwt.addr(10))$$, '22023',
	'a key without kind: is refused');
SELECT rwt.throws($$SELECT rw_intent_file('Extend:x', 31337, rwt.addr(10))$$, '22023',
	'an upper-case kind is refused');
SELECT rwt.throws($$SELECT rw_intent_file('extend:a b', 31337, rwt.addr(10))$$, '22023',
	'a key with a space is refused');
SELECT rwt.throws($$SELECT rw_intent_file('extend:' || repeat('x', 200), 31337, rwt.addr(10))$$,
	'22023', 'a key over 200 bytes is refused');
SELECT rwt.throws($$SELECT rw_intent_file('extend:t', 31337, '\x01'::bytea)$$, '22023',
	'a target that is not 20 bytes is refused');
SELECT rwt.throws($$SELECT rw_intent_file('extend:t', 31337, rwt.addr(1), '', -1)$$, '22023',
	'a negative value is refused');
SELECT rwt.throws($$SELECT rw_intent_file('extend:t', 31337, rwt.addr(1), '', 1.5)$$, '22023',
	'a fractional value is refused');
SELECT rwt.throws($$SELECT rw_intent_file('extend:t', 31337, rwt.addr(1), '', 2::numeric ^ 256)$$,
	'22023', 'a value of 2^256 is refused');
SELECT rwt.throws($$SELECT rw_intent_file('extend:t', 31337, rwt.addr(1), '', 0, '\x01'::bytea)$$,
	'22023', 'a signer that is not 20 bytes is refused');
SELECT rwt.throws($$SELECT rw_intent_file('extend:t', 999999, rwt.addr(1))$$, '23503',
	'an unknown chain is refused (foreign key)');
SELECT rwt.eq((rw_intent_file('extend:max', 31337, rwt.addr(1), NULL, 2::numeric ^ 256 - 1)).value,
	(2::numeric ^ 256 - 1)::numeric(78,0), 'value 2^256-1 is kept exactly; NULL calldata is empty');
SELECT rwt.eq((SELECT calldata FROM relayer_intent WHERE key = 'extend:max'), ''::bytea,
	'NULL calldata is stored as no bytes');

-- constraints
SELECT rwt.throws($$UPDATE relayer_intent SET nonce = 3 WHERE key = 'extend:req-1'$$, '23514',
	'a queued intent cannot hold a nonce');
SELECT rwt.throws($$UPDATE relayer_intent SET state = 'final' WHERE key = 'extend:req-1'$$, 'RW004',
	'queued -> final is not a transition');
SELECT rwt.throws($$UPDATE relayer_intent SET calldata = '\x00' WHERE key = 'extend:req-1'$$, 'RW004',
	'the action of an intent never changes');
SELECT rwt.throws($$UPDATE relayer_intent SET state = 'failed' WHERE key = 'extend:req-1'$$, '23514',
	'a failed intent needs a reason');

-- cancel and retry
SELECT rwt.eq((rw_intent_cancel('extend:req-1')).state, 'cancelled', 'a queued intent is cancelled');
SELECT rwt.eq((rw_intent_cancel('extend:req-1')).state, 'cancelled', 'cancelling twice is fine');
SELECT rwt.throws($$SELECT rw_intent_retry('extend:req-1')$$, 'RW004',
	'a cancelled intent is not retried');
SELECT rwt.throws($$SELECT rw_intent_cancel('extend:nope')$$, 'P0002', 'cancel of an unknown key');
SELECT rwt.eq((SELECT count(*) FROM relayer_event WHERE kind = 'cancelled'), 1::bigint,
	'a cancel is reported once');
SELECT rwt.eq((rw_intent_file('extend:req-1', 31337, rwt.addr(10), '\x783d53ca'::bytea, 0)).state,
	'cancelled', 'filing a cancelled key again returns it as it is');
