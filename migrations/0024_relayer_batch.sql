-- 0024_relayer_batch: the relayer's writes of a round as one statement per
-- kind, instead of one PL/pgSQL call per transaction.
--
-- Owns:
--   engine     rw_relayer_assign_many, rw_relayer_sent_many,
--              rw_relayer_mined_many
--              rw_relayer_assign_refusal (its helper)
--   replaces   rw_relayer_settle (set-based, same contract; reaches its
--              receipts through relayer_receipt_open instead of the signer's
--              whole history), rw_relayer_sync (same contract; the spend
--              per day kept on relayer_signer for a minute)
--   columns    relayer_signer.spend_per_day, spend_at
--
-- The rules of 0010 hold unchanged: nonces are taken under the signer row's
-- lock, only from next_nonce, below the in-flight cap, in the transaction
-- that stores the signed bytes (before any broadcast); every CHECK
-- constraint and partial unique index still decides. A batch never stores
-- half a row: rw_relayer_assign_many stores the longest run of good rows
-- from the first (their nonces are consecutive, so nothing after a refused
-- row can keep the nonce it was signed with) and says why it stopped; those
-- intents stay queued and are signed again. rw_relayer_mined_many takes the
-- common case (a new receipt for the current attempt of a pending nonce) in
-- a few statements and hands every other row, in order, to rw_relayer_mined,
-- so each row's outcome is the one the per-row call would give.

-- Assign -------------------------------------------------------------------------

-- Why row k of an assign batch cannot be stored (NULL: it can), from the
-- row and its intent (locked by the caller). A pure helper of
-- rw_relayer_assign_many.
CREATE FUNCTION rw_relayer_assign_refusal(p_chain_id bigint, p_signer bytea,
	i relayer_intent, p_intent_id bigint, p_type smallint, p_gas_price numeric,
	p_max_fee numeric, p_tip numeric, p_gas_limit bigint, p_raw bytea, p_hash bytea)
RETURNS text
LANGUAGE sql STABLE AS $$
SELECT CASE
	WHEN p_intent_id IS NULL OR p_raw IS NULL OR octet_length(p_raw) = 0 OR p_hash IS NULL
		OR octet_length(p_hash) <> 32 OR p_gas_limit IS NULL OR p_gas_limit < 21000
		THEN 'an incomplete row (intent id, raw bytes, a 32-byte hash and a gas limit of at '
			'least 21000 are required)'
	WHEN p_type IS NULL OR NOT ((p_type = 0 AND p_gas_price IS NOT NULL AND p_max_fee IS NULL
			AND p_tip IS NULL AND rw_is_uint(p_gas_price, 256))
		OR (p_type = 2 AND p_gas_price IS NULL AND p_max_fee IS NOT NULL AND p_tip IS NOT NULL
			AND p_tip <= p_max_fee AND rw_is_uint(p_max_fee, 256) AND rw_is_uint(p_tip, 256)))
		THEN format('fees that do not fit type %s', coalesce(p_type::text, 'NULL'))
	WHEN i.id IS NULL THEN format('no intent %s', p_intent_id)
	WHEN i.state <> 'queued' THEN format('intent %s is %s, not queued', i.key, i.state)
	WHEN i.chain_id <> p_chain_id THEN format('intent %s is for chain %s', i.key, i.chain_id)
	WHEN i.signer IS NOT NULL AND i.signer <> p_signer
		THEN format('intent %s is for signer %s', i.key, rw_hex(i.signer))
	WHEN EXISTS (SELECT 1 FROM relayer_tx t WHERE t.hash = p_hash)
		THEN format('transaction %s is already stored', rw_hex(p_hash))
END
$$;

COMMENT ON FUNCTION rw_relayer_assign_refusal(bigint, bytea, relayer_intent, bigint, smallint, numeric, numeric, numeric, bigint, bytea, bytea) IS
	'Why a row of rw_relayer_assign_many cannot be stored (NULL: it can): an incomplete row, '
	'fees that do not fit the type, an intent that is missing, not queued or for another '
	'chain or signer, a hash already stored.';

-- Takes consecutive nonces from next_nonce for a batch of queued intents and
-- stores their signed transactions, in the caller's transaction, before any
-- broadcast.
CREATE FUNCTION rw_relayer_assign_many(p_chain_id bigint, p_signer bytea,
	p_first_nonce bigint, p_max_inflight integer, p_intent_ids bigint[], p_types smallint[],
	p_gas_prices numeric[], p_max_fees numeric[], p_tips numeric[], p_gas_limits bigint[],
	p_raws bytea[], p_hashes bytea[])
RETURNS TABLE (k integer, intent_id bigint, nonce bigint, tx_id bigint, refused text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	s relayer_signer;
	n integer := coalesce(cardinality(p_intent_ids), 0);
	inflight bigint;
	bad integer;
	why text;
	good integer;
BEGIN
	IF p_chain_id IS NULL OR p_signer IS NULL OR p_first_nonce IS NULL
		OR p_max_inflight IS NULL
		OR n <> coalesce(cardinality(p_types), 0) OR n <> coalesce(cardinality(p_gas_prices), 0)
		OR n <> coalesce(cardinality(p_max_fees), 0) OR n <> coalesce(cardinality(p_tips), 0)
		OR n <> coalesce(cardinality(p_gas_limits), 0) OR n <> coalesce(cardinality(p_raws), 0)
		OR n <> coalesce(cardinality(p_hashes), 0) THEN
		RAISE EXCEPTION 'rw_relayer_assign_many: chain, signer, first nonce and cap are '
			'required and the eight arrays must have one element per row'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO s FROM relayer_signer r WHERE r.chain_id = p_chain_id AND r.address = p_signer
	FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'signer % is not registered on chain %', rw_hex(p_signer), p_chain_id
			USING ERRCODE = 'RW004';
	END IF;
	IF s.paused THEN
		RAISE EXCEPTION 'signer % on chain % is paused', rw_hex(p_signer), p_chain_id
			USING ERRCODE = 'RW007';
	END IF;
	IF s.next_nonce <> p_first_nonce THEN
		RAISE EXCEPTION 'signer %: next nonce is %, not %', rw_hex(p_signer), s.next_nonce,
			p_first_nonce USING ERRCODE = 'RW002';
	END IF;
	IF n = 0 THEN
		RETURN;
	END IF;
	SELECT count(*) INTO inflight FROM relayer_tx t
	WHERE t.chain_id = p_chain_id AND t.signer = p_signer AND t.state IN ('signed', 'sent');
	IF inflight >= p_max_inflight THEN
		RAISE EXCEPTION 'signer %: % transactions in flight (cap %)', rw_hex(p_signer), inflight,
			p_max_inflight USING ERRCODE = 'RW003';
	END IF;
	-- the intents in one order (by id), as every locker of several does
	PERFORM 1 FROM relayer_intent i WHERE i.id = ANY (p_intent_ids) ORDER BY i.id FOR UPDATE;
	-- the first row that cannot be stored, and why
	SELECT x.k, x.why INTO bad, why FROM (
		SELECT u.k, CASE
			WHEN u.k > p_max_inflight - inflight
				THEN format('the in-flight cap: %s in flight, cap %s', inflight + u.k - 1,
					p_max_inflight)
			WHEN u.id IS NOT NULL
				AND row_number() OVER (PARTITION BY u.id ORDER BY u.k) > 1
				THEN format('intent %s is in this batch twice', u.id)
			WHEN u.hash IS NOT NULL
				AND row_number() OVER (PARTITION BY u.hash ORDER BY u.k) > 1
				THEN format('transaction %s is in this batch twice', rw_hex(u.hash))
			ELSE rw_relayer_assign_refusal(p_chain_id, p_signer, i, u.id, u.type, u.gas_price,
				u.max_fee, u.tip, u.gas_limit, u.raw, u.hash)
			END AS why
		FROM unnest(p_intent_ids, p_types, p_gas_prices, p_max_fees, p_tips, p_gas_limits,
			p_raws, p_hashes) WITH ORDINALITY
			AS u(id, type, gas_price, max_fee, tip, gas_limit, raw, hash, k)
		LEFT JOIN relayer_intent i ON i.id = u.id) x
	WHERE x.why IS NOT NULL
	ORDER BY x.k LIMIT 1;
	good := coalesce(bad - 1, n);
	IF good > 0 THEN
		WITH ins AS (
			INSERT INTO relayer_tx (chain_id, signer, nonce, attempt, kind, intent_id, type,
				gas_price, max_fee_per_gas, max_priority_fee_per_gas, gas_limit, raw, hash)
			SELECT p_chain_id, p_signer, p_first_nonce + u.k - 1,
				1 + coalesce((SELECT max(o.attempt) FROM relayer_tx o
					WHERE o.chain_id = p_chain_id AND o.signer = p_signer
						AND o.nonce = p_first_nonce + u.k - 1), 0),
				'intent', u.id, u.type, u.gas_price, u.max_fee, u.tip, u.gas_limit, u.raw,
				u.hash
			FROM unnest(p_intent_ids, p_types, p_gas_prices, p_max_fees, p_tips,
				p_gas_limits, p_raws, p_hashes) WITH ORDINALITY
				AS u(id, type, gas_price, max_fee, tip, gas_limit, raw, hash, k)
			WHERE u.k <= good
			RETURNING id, intent_id, nonce, gas_limit, hash),
		upd AS (
			UPDATE relayer_intent i SET state = 'pending', signer = p_signer,
				nonce = ins.nonce, gas_limit = ins.gas_limit, reason = NULL, signed_at = now()
			FROM ins WHERE i.id = ins.intent_id
			RETURNING i.id, i.key)
		INSERT INTO relayer_event (chain_id, signer, intent_id, tx_id, nonce, kind, level,
			message)
		SELECT p_chain_id, p_signer, ins.intent_id, ins.id, ins.nonce, 'signed', 'info',
			format('%s: nonce %s, tx %s', upd.key, ins.nonce, rw_hex(ins.hash))
		FROM ins JOIN upd ON upd.id = ins.intent_id
		ORDER BY ins.nonce;
		UPDATE relayer_signer r SET next_nonce = p_first_nonce + good, updated_at = now()
		WHERE r.chain_id = p_chain_id AND r.address = p_signer;
	END IF;
	RETURN QUERY
	SELECT u.k::integer, u.id, p_first_nonce + u.k - 1, t.id,
		CASE WHEN u.k <= good THEN NULL
			WHEN u.k = bad THEN why
			ELSE format('not stored: row %s (nonce %s) before it was refused', bad,
				p_first_nonce + bad - 1) END
	FROM unnest(p_intent_ids, p_hashes) WITH ORDINALITY AS u(id, hash, k)
	LEFT JOIN relayer_tx t ON u.k <= good AND t.hash = u.hash
	ORDER BY u.k;
END
$$;
COMMENT ON FUNCTION rw_relayer_assign_many(bigint, bytea, bigint, integer, bigint[], smallint[], numeric[], numeric[], numeric[], bigint[], bytea[], bytea[]) IS
	'rw_relayer_assign for a batch: row k (1-based) of the arrays is signed with nonce '
	'p_first_nonce + k - 1. Locks the signer row; raises RW002 (next nonce is not '
	'p_first_nonce), RW003 (no room under the cap), RW007 (paused), RW004 (no signer) and '
	'stores nothing then. Otherwise stores the longest run of good rows from the first: '
	'a row is refused when its intent is missing, not queued, for another chain or signer, '
	'or twice in the batch, its hash is stored or twice in the batch, its fees do not fit its '
	'type, or the cap is reached; every row after it is not stored either (its nonce would '
	'not be the next one). Returns one row per input row: its nonce and transaction id, or '
	'why it was not stored.';

-- Broadcast answers ------------------------------------------------------------------

-- Records the broadcasts of a round (accepted or not: hints).
CREATE FUNCTION rw_relayer_sent_many(p_tx_ids bigint[], p_head bigint, p_accepted boolean[],
	p_error_classes text[], p_errors text[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	n integer := coalesce(cardinality(p_tx_ids), 0);
	updated integer;
BEGIN
	IF n <> coalesce(cardinality(p_accepted), 0) OR n <> coalesce(cardinality(p_error_classes), 0)
		OR n <> coalesce(cardinality(p_errors), 0) THEN
		RAISE EXCEPTION 'rw_relayer_sent_many: the four arrays must have one element per '
			'transaction' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF n = 0 THEN
		RETURN 0;
	END IF;
	PERFORM 1 FROM relayer_tx t WHERE t.id = ANY (p_tx_ids) ORDER BY t.id FOR UPDATE;
	-- one answer per transaction: the first of a repeated id counts
	WITH u AS (
		SELECT DISTINCT ON (a.id) a.id, coalesce(a.accepted, false) AS accepted, a.cls, a.err
		FROM unnest(p_tx_ids, p_accepted, p_error_classes, p_errors) WITH ORDINALITY
			AS a(id, accepted, cls, err, k)
		WHERE a.id IS NOT NULL
		ORDER BY a.id, a.k),
	old AS (
		SELECT t.id, t.last_error_class FROM relayer_tx t WHERE t.id IN (SELECT id FROM u)),
	upd AS (
		UPDATE relayer_tx t SET state = 'sent', broadcasts = t.broadcasts + 1,
			sent_at = coalesce(t.sent_at, now()), sent_block = coalesce(t.sent_block, p_head),
			last_sent_at = now(),
			last_error_class = CASE WHEN u.accepted THEN NULL ELSE u.cls END,
			last_error = CASE WHEN u.accepted THEN NULL ELSE left(u.err, 500) END
		FROM u WHERE t.id = u.id AND t.state IN ('signed', 'sent')
		RETURNING t.id, t.chain_id, t.signer, t.nonce, t.hash, t.intent_id),
	ev AS (
		INSERT INTO relayer_event (chain_id, signer, intent_id, tx_id, nonce, kind, level,
			message)
		SELECT upd.chain_id, upd.signer, upd.intent_id, upd.id, upd.nonce, 'broadcast_error',
			'warn', format('nonce %s: %s: no endpoint accepted it: %s: %s', upd.nonce,
				rw_hex(upd.hash), u.cls, left(u.err, 300))
		FROM upd JOIN u ON u.id = upd.id JOIN old ON old.id = upd.id
		WHERE NOT u.accepted AND old.last_error_class IS DISTINCT FROM u.cls
		ORDER BY upd.nonce
		RETURNING 1)
	SELECT count(*) INTO updated FROM upd;
	RETURN updated;
END
$$;
COMMENT ON FUNCTION rw_relayer_sent_many(bigint[], bigint, boolean[], text[], text[]) IS
	'rw_relayer_sent for a round''s broadcasts in one statement: element k of the arrays is '
	'the answer for transaction p_tx_ids[k] (a repeated id counts once, its first answer). '
	'Current attempts (signed or sent) become sent with their first broadcast''s time and '
	'block p_head kept; others are left alone. A new error class of a refused broadcast is '
	'reported (broadcast_error). Returns the number of transactions updated.';

-- Receipts ---------------------------------------------------------------------------

-- Records a round's receipts: the common case in a few statements, every
-- other row through rw_relayer_mined, in input order.
CREATE FUNCTION rw_relayer_mined_many(p_hashes bytea[], p_block_numbers bigint[],
	p_block_hashes bytea[], p_statuses smallint[], p_gas_used bigint[],
	p_effective_gas_prices numeric[])
RETURNS TABLE (k integer, hash bytea, answer text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	n integer := coalesce(cardinality(p_hashes), 0);
	fast integer[];
	r record;
	slow text[] := '{}';
BEGIN
	IF n <> coalesce(cardinality(p_block_numbers), 0)
		OR n <> coalesce(cardinality(p_block_hashes), 0)
		OR n <> coalesce(cardinality(p_statuses), 0) OR n <> coalesce(cardinality(p_gas_used), 0)
		OR n <> coalesce(cardinality(p_effective_gas_prices), 0) THEN
		RAISE EXCEPTION 'rw_relayer_mined_many: the six arrays must have one element per '
			'receipt' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF n = 0 THEN
		RETURN;
	END IF;
	PERFORM 1 FROM relayer_tx t WHERE t.hash = ANY (p_hashes) ORDER BY t.id FOR UPDATE;
	-- the common case: a new receipt for the current attempt of a nonce with no
	-- mined attempt, a gap filler or the call of a pending intent, its hash and
	-- its nonce once in the batch
	SELECT coalesce(array_agg(x.k ORDER BY x.k), '{}') INTO fast FROM (
		SELECT u.k, t.kind, t.state, i.state AS istate,
			count(*) OVER (PARTITION BY u.hash) AS same_hash,
			count(*) OVER (PARTITION BY t.chain_id, t.signer, t.nonce) AS same_nonce,
			u.block_number, u.block_hash, u.status, u.gas_used, u.egp, t.id
		FROM unnest(p_hashes, p_block_numbers, p_block_hashes, p_statuses, p_gas_used,
			p_effective_gas_prices) WITH ORDINALITY
			AS u(hash, block_number, block_hash, status, gas_used, egp, k)
		JOIN relayer_tx t ON t.hash = u.hash
		LEFT JOIN relayer_intent i ON i.id = t.intent_id) x
	WHERE x.same_hash = 1 AND x.same_nonce = 1 AND x.state IN ('signed', 'sent')
		AND ((x.kind = 'intent' AND x.istate = 'pending') OR x.kind = 'filler')
		AND x.block_number IS NOT NULL AND x.block_hash IS NOT NULL AND x.status IS NOT NULL
		AND x.gas_used IS NOT NULL AND x.egp IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM relayer_receipt rc WHERE rc.tx_hash = p_hashes[x.k])
		AND NOT EXISTS (SELECT 1 FROM relayer_tx o JOIN relayer_tx t2 ON t2.id = x.id
			WHERE o.chain_id = t2.chain_id AND o.signer = t2.signer AND o.nonce = t2.nonce
				AND o.state = 'mined');
	IF cardinality(fast) > 0 THEN
		PERFORM 1 FROM relayer_intent i
		WHERE i.id IN (SELECT t.intent_id FROM relayer_tx t
			WHERE t.hash = ANY (SELECT p_hashes[f] FROM unnest(fast) f))
		ORDER BY i.id FOR UPDATE;
		WITH u AS (
			SELECT f AS k, p_hashes[f] AS hash, p_block_numbers[f] AS block_number,
				p_block_hashes[f] AS block_hash, p_statuses[f] AS status,
				p_gas_used[f] AS gas_used, p_effective_gas_prices[f] AS egp
			FROM unnest(fast) f),
		rc AS (
			INSERT INTO relayer_receipt (tx_hash, chain_id, block_number, block_hash, status,
				gas_used, effective_gas_price)
			SELECT u.hash, t.chain_id, u.block_number, u.block_hash, u.status, u.gas_used, u.egp
			FROM u JOIN relayer_tx t ON t.hash = u.hash
			RETURNING tx_hash),
		tx AS (
			UPDATE relayer_tx t SET state = 'mined' FROM u WHERE t.hash = u.hash
			RETURNING t.id, t.chain_id, t.signer, t.nonce, t.intent_id, t.hash),
		it AS (
			UPDATE relayer_intent i SET state = 'mined', tx_hash = tx.hash, mined_at = now(),
				reason = NULL
			FROM tx WHERE i.id = tx.intent_id
			RETURNING i.id)
		INSERT INTO relayer_event (chain_id, signer, intent_id, tx_id, nonce, kind, level,
			message)
		SELECT tx.chain_id, tx.signer, tx.intent_id, tx.id, tx.nonce, 'mined', 'info',
			format('nonce %s: %s mined in block %s (%s), status %s', tx.nonce,
				rw_hex(tx.hash), u.block_number, rw_hex(u.block_hash), u.status)
		FROM tx JOIN u ON u.hash = tx.hash
		ORDER BY tx.nonce;
	END IF;
	-- everything else, one by one, in input order
	FOR r IN SELECT a.k, a.hash FROM unnest(p_hashes) WITH ORDINALITY AS a(hash, k)
		WHERE NOT a.k = ANY (fast) ORDER BY a.k
	LOOP
		slow[r.k] := rw_relayer_mined(r.hash, p_block_numbers[r.k], p_block_hashes[r.k],
			p_statuses[r.k], p_gas_used[r.k], p_effective_gas_prices[r.k]);
	END LOOP;
	RETURN QUERY
	SELECT a.k::integer, a.hash, CASE WHEN a.k = ANY (fast) THEN 'mined' ELSE slow[a.k] END
	FROM unnest(p_hashes) WITH ORDINALITY AS a(hash, k)
	ORDER BY a.k;
END
$$;
COMMENT ON FUNCTION rw_relayer_mined_many(bytea[], bigint[], bytea[], smallint[], bigint[], numeric[]) IS
	'rw_relayer_mined for a round''s receipts: element k of the arrays is the receipt of '
	'transaction p_hashes[k]. Returns one row per element with what rw_relayer_mined would '
	'answer for it in input order (same, mined, moved, conflict); an unknown hash raises RW004 '
	'and nothing is stored. New receipts of the current attempt of a pending nonce are stored '
	'set-based; every other row goes through rw_relayer_mined.';

-- Settle (replacing 0010's) ------------------------------------------------------------

-- Marks receipts at the confirmation depth confirmed and those at or below the
-- finalized block final, and moves their intents on: a few statements, each
-- over the receipts not yet final (relayer_receipt_open), their transactions
-- looked up by hash (a LATERAL subquery behind OFFSET 0: on young tables,
-- whose statistics say "one row", the planner otherwise scans the signer's
-- whole history once per receipt).
CREATE OR REPLACE FUNCTION rw_relayer_settle(p_chain_id bigint, p_signer bytea, p_head bigint,
	p_confirmations bigint, p_finalized bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	n integer := 0;
	m integer := 0;
BEGIN
	WITH c AS (
		SELECT rc.tx_hash, rc.status, rc.block_number, t.intent_id, t.id AS tx_id, t.nonce
		FROM relayer_receipt rc CROSS JOIN LATERAL (
			SELECT x.id, x.intent_id, x.nonce, x.chain_id, x.signer, x.state
			FROM relayer_tx x WHERE x.hash = rc.tx_hash OFFSET 0) t
		WHERE rc.chain_id = p_chain_id AND NOT rc.final AND NOT rc.confirmed
			AND rc.block_number <= p_head - p_confirmations
			AND t.chain_id = p_chain_id AND t.signer = p_signer AND t.state = 'mined'
		ORDER BY t.nonce FOR UPDATE OF rc),
	ur AS (
		UPDATE relayer_receipt rc SET confirmed = true, confirmed_at = now()
		FROM c WHERE rc.tx_hash = c.tx_hash
		RETURNING rc.tx_hash),
	ui AS (
		UPDATE relayer_intent i SET
			state = CASE c.status WHEN 1 THEN 'confirmed' ELSE 'reverted' END,
			confirmed_at = now(),
			reason = CASE c.status WHEN 1 THEN NULL ELSE 'reverted on chain' END
		FROM c WHERE i.id = c.intent_id AND i.state = 'mined'
		RETURNING i.id),
	ev AS (
		INSERT INTO relayer_event (chain_id, signer, intent_id, tx_id, nonce, kind, level,
			message)
		SELECT p_chain_id, p_signer, c.intent_id, c.tx_id, c.nonce, 'reverted', 'error',
			format('nonce %s: %s reverted on chain in block %s', c.nonce, rw_hex(c.tx_hash),
				c.block_number)
		FROM c WHERE c.status = 0 AND c.intent_id IS NOT NULL
		ORDER BY c.nonce
		RETURNING 1)
	SELECT count(*) INTO n FROM ur;
	IF p_finalized IS NOT NULL THEN
		WITH c AS (
			SELECT rc.tx_hash, t.intent_id
			FROM relayer_receipt rc CROSS JOIN LATERAL (
				SELECT x.intent_id, x.nonce, x.chain_id, x.signer, x.state
				FROM relayer_tx x WHERE x.hash = rc.tx_hash OFFSET 0) t
			WHERE rc.chain_id = p_chain_id AND NOT rc.final AND rc.confirmed
				AND rc.block_number <= p_finalized
				AND t.chain_id = p_chain_id AND t.signer = p_signer AND t.state = 'mined'
			ORDER BY t.nonce FOR UPDATE OF rc),
		ur AS (
			UPDATE relayer_receipt rc SET final = true, final_at = now()
			FROM c WHERE rc.tx_hash = c.tx_hash
			RETURNING rc.tx_hash),
		ui AS (
			UPDATE relayer_intent i SET state = 'final', final_at = now()
			FROM c WHERE i.id = c.intent_id AND i.state = 'confirmed'
			RETURNING i.id)
		SELECT count(*) INTO m FROM ur;
	END IF;
	RETURN n + m;
END
$$;
COMMENT ON FUNCTION rw_relayer_settle(bigint, bytea, bigint, bigint, bigint) IS
	'After the receipts of this round were checked against the chain: receipts with '
	'block_number + confirmations <= head become confirmed (intents confirmed, or reverted for '
	'status 0), and confirmed receipts at or below p_finalized (NULL: the chain has no '
	'finalized tag) become final (intents final). Returns the number of changes.';

-- Sync (replacing 0010's): the spending kept for a minute ------------------------------

-- The spend per day of the last 7 days, kept on the signer row and worked
-- out again at most once a minute: it sums the signer's receipts of a week,
-- which every round of a busy relayer would otherwise scan.
ALTER TABLE relayer_signer ADD COLUMN spend_per_day numeric(78,0)
	CHECK (rw_is_uint(spend_per_day, 256));
ALTER TABLE relayer_signer ADD COLUMN spend_at timestamptz;
COMMENT ON COLUMN relayer_signer.spend_per_day IS
	'Gas spent per day over the last 7 days (wei), as rw_relayer_sync last worked it out '
	'(at spend_at; again after a minute).';

CREATE OR REPLACE FUNCTION rw_relayer_sync(p_chain_id bigint, p_chain_name text, p_signer bytea,
	p_head bigint, p_finalized bigint, p_latest bigint, p_pending bigint, p_balance numeric,
	p_status text)
RETURNS TABLE (next_nonce bigint, raised_from bigint, paused boolean, spend_per_day numeric,
	status text, inflight bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	s relayer_signer;
	chain_max bigint := greatest(p_latest, p_pending);
	first_seen timestamptz;
	spent numeric;
	spend numeric;
BEGIN
	INSERT INTO chain (chain_id, name) VALUES (p_chain_id, p_chain_name) ON CONFLICT DO NOTHING;
	INSERT INTO relayer_signer (chain_id, address, next_nonce)
	VALUES (p_chain_id, p_signer, coalesce(chain_max, 0))
	ON CONFLICT DO NOTHING;
	SELECT * INTO s FROM relayer_signer r WHERE r.chain_id = p_chain_id AND r.address = p_signer
	FOR UPDATE;
	raised_from := NULL;
	IF chain_max > s.next_nonce THEN
		raised_from := s.next_nonce;
		PERFORM rw_relayer_report(p_chain_id, p_signer, 'nonce_ahead', 'warn',
			format('the chain''s nonce %s (latest %s, pending %s) is ahead of the local '
				'nonce %s: another sender uses this key; continuing from %s',
				chain_max, p_latest, p_pending, s.next_nonce, chain_max),
			NULL, NULL, s.next_nonce);
		s.next_nonce := chain_max;
	END IF;
	IF p_status IS NOT NULL AND p_status <> s.status THEN
		PERFORM rw_relayer_report(p_chain_id, p_signer,
			CASE p_status WHEN 'ok' THEN 'funds_ok' WHEN 'low' THEN 'low_balance'
				ELSE 'cannot_pay' END,
			CASE p_status WHEN 'ok' THEN 'info' WHEN 'low' THEN 'warn' ELSE 'error' END,
			format('gas balance %s wei: status %s -> %s', p_balance, s.status, p_status));
		s.status := p_status;
	END IF;
	spend := s.spend_per_day;
	IF s.spend_at IS NULL OR s.spend_at < now() - interval '1 minute' THEN
		SELECT min(rc.seen_at), sum(rc.gas_used * rc.effective_gas_price) INTO first_seen, spent
		FROM relayer_receipt rc JOIN relayer_tx t ON t.hash = rc.tx_hash
		WHERE t.chain_id = p_chain_id AND t.signer = p_signer
			AND rc.seen_at > now() - interval '7 days';
		spend := CASE WHEN spent IS NULL THEN 0 ELSE trunc(spent / (extract(epoch FROM
			greatest(now() - first_seen, interval '1 hour')) / 86400)) END;
		s.spend_at := now();
	END IF;
	UPDATE relayer_signer r SET next_nonce = s.next_nonce,
		chain_nonce = coalesce(p_latest, r.chain_nonce),
		chain_pending_nonce = coalesce(p_pending, r.chain_pending_nonce),
		head_block = coalesce(p_head, r.head_block),
		finalized_block = coalesce(p_finalized, r.finalized_block),
		balance = coalesce(p_balance, r.balance), status = s.status,
		spend_per_day = spend, spend_at = s.spend_at,
		synced_at = now(), updated_at = now()
	WHERE r.chain_id = p_chain_id AND r.address = p_signer;
	SELECT count(*) INTO inflight FROM relayer_tx t
	WHERE t.chain_id = p_chain_id AND t.signer = p_signer AND t.state IN ('signed', 'sent');
	next_nonce := s.next_nonce;
	paused := s.paused;
	spend_per_day := spend;
	status := s.status;
	RETURN NEXT;
END
$$;
COMMENT ON FUNCTION rw_relayer_sync(bigint, text, bytea, bigint, bigint, bigint, bigint, numeric, text) IS
	'The relayer''s sync step: registers the chain and signer on first use, stores the chain''s '
	'view (head, finalized, nonce counts, balance, status; NULL keeps the old value), raises '
	'next_nonce to the chain''s counts (reported as nonce_ahead), and returns next_nonce, the '
	'spend per day of the last 7 days (worked out again at most once a minute), status and '
	'the transactions in flight.';
