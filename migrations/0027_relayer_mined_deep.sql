-- 0027_relayer_mined_deep: a receipt that is already at the confirmation
-- depth when it is first stored settles its intent in the same statement.
--
-- Owns:
--   engine     rw_relayer_mined_many(..., p_head, p_confirmations): the
--              common case stores such a receipt confirmed and moves its
--              intent from pending straight to confirmed (reverted for
--              status 0, reported as rw_relayer_settle reports it), one row
--              version of each instead of two and nothing left for
--              rw_relayer_settle; 0024's six-argument form is now this one
--              with no head (everything stays mined, as before)
--   replaces   rw_relayer_intent_transition (0023's, plus pending ->
--              confirmed and pending -> reverted)
--
-- Why: with confirmations 0 (a dev chain) or receipts read late (after a
-- restart, or a round that took long), every receipt is at depth when it is
-- first seen, and the relayer wrote each intent, receipt and transaction
-- twice in one round (mined_many, then settle). Everything else (reorgs,
-- moved nonces, cancels: rw_relayer_mined row by row) is unchanged and
-- settles through rw_relayer_settle as before.

-- Transition rules (replacing 0023's) ---------------------------------------------------

-- The allowed state changes of an intent (RELAYER.md, "States"), now with a
-- pending intent whose first receipt is already at the confirmation depth
-- settled at once.
CREATE OR REPLACE FUNCTION rw_relayer_intent_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.state IS DISTINCT FROM OLD.state AND NOT (OLD.state, NEW.state) IN (
		('queued', 'pending'), ('queued', 'failed'), ('queued', 'cancelled'),
		('pending', 'mined'), ('pending', 'confirmed'), ('pending', 'reverted'),
		('pending', 'queued'), ('pending', 'cancelled'),
		('mined', 'confirmed'), ('mined', 'reverted'), ('mined', 'pending'),
		('confirmed', 'final'), ('confirmed', 'pending'),
		('reverted', 'pending'), ('cancelled', 'pending'),
		('failed', 'queued'), ('failed', 'cancelled'))
	THEN
		RAISE EXCEPTION 'relayer intent %: % -> % is not an allowed transition',
			OLD.key, OLD.state, NEW.state
			USING ERRCODE = 'RW004';
	END IF;
	-- pending -> cancelled only through an operator's cancel at its nonce: its
	-- no-op is mined (the intent keeps the nonce and the no-op's hash), or every
	-- attempt at the nonce is lost to another sender (the intent lets it go)
	IF OLD.state = 'pending' AND NEW.state = 'cancelled' AND NOT (
		EXISTS (SELECT 1 FROM relayer_tx t WHERE t.intent_id = OLD.id AND t.kind = 'cancel'
			AND t.nonce = OLD.nonce AND t.chain_id = OLD.chain_id AND t.signer = OLD.signer
			AND ((NEW.tx_hash IS NOT NULL AND t.hash = NEW.tx_hash AND t.state = 'mined')
				OR NEW.tx_hash IS NULL))
		AND (NEW.tx_hash IS NOT NULL OR NOT EXISTS (SELECT 1 FROM relayer_tx t
			WHERE t.chain_id = OLD.chain_id AND t.signer = OLD.signer AND t.nonce = OLD.nonce
				AND t.state <> 'lost')))
	THEN
		RAISE EXCEPTION 'relayer intent %: pending -> cancelled needs the operator''s no-op at '
			'nonce % mined (or every attempt at it lost)', OLD.key, OLD.nonce
			USING ERRCODE = 'RW004',
			HINT = 'Cancel an intent with a nonce with rw_tx_request(''cancel'', ...).';
	END IF;
	-- cancelled -> pending only when a reorg undid the no-op's receipt
	IF OLD.state = 'cancelled' AND NEW.state = 'pending' AND OLD.tx_hash IS NULL THEN
		RAISE EXCEPTION 'relayer intent %: a cancelled intent without a mined no-op stays '
			'cancelled', OLD.key USING ERRCODE = 'RW004';
	END IF;
	IF NEW.key <> OLD.key OR NEW.payload_hash <> OLD.payload_hash OR NEW.target <> OLD.target
		OR NEW.value <> OLD.value OR NEW.calldata <> OLD.calldata
		OR NEW.chain_id <> OLD.chain_id THEN
		RAISE EXCEPTION 'relayer intent %: the action (key, chain, target, value, calldata) '
			'never changes', OLD.key USING ERRCODE = 'RW004';
	END IF;
	NEW.updated_at := now();
	RETURN NEW;
END
$$;

-- Receipts ---------------------------------------------------------------------------

-- Records a round's receipts: the common case in a few statements (settled
-- at once when already at depth), every other row through rw_relayer_mined,
-- in input order.
CREATE FUNCTION rw_relayer_mined_many(p_hashes bytea[], p_block_numbers bigint[],
	p_block_hashes bytea[], p_statuses smallint[], p_gas_used bigint[],
	p_effective_gas_prices numeric[], p_head bigint, p_confirmations bigint)
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
				p_gas_used[f] AS gas_used, p_effective_gas_prices[f] AS egp,
				coalesce(p_block_numbers[f] <= p_head - p_confirmations, false) AS deep
			FROM unnest(fast) f),
		rc AS (
			INSERT INTO relayer_receipt (tx_hash, chain_id, block_number, block_hash, status,
				gas_used, effective_gas_price, confirmed, confirmed_at)
			SELECT u.hash, t.chain_id, u.block_number, u.block_hash, u.status, u.gas_used, u.egp,
				u.deep, CASE WHEN u.deep THEN now() END
			FROM u JOIN relayer_tx t ON t.hash = u.hash
			RETURNING tx_hash),
		tx AS (
			UPDATE relayer_tx t SET state = 'mined' FROM u WHERE t.hash = u.hash
			RETURNING t.id, t.chain_id, t.signer, t.nonce, t.intent_id, t.hash),
		it AS (
			UPDATE relayer_intent i SET
				state = CASE WHEN NOT u.deep THEN 'mined' WHEN u.status = 1 THEN 'confirmed'
					ELSE 'reverted' END,
				tx_hash = tx.hash, mined_at = now(),
				confirmed_at = CASE WHEN u.deep THEN now() END,
				reason = CASE WHEN u.deep AND u.status <> 1 THEN 'reverted on chain' END
			FROM tx JOIN u ON u.hash = tx.hash WHERE i.id = tx.intent_id
			RETURNING i.id)
		INSERT INTO relayer_event (chain_id, signer, intent_id, tx_id, nonce, kind, level,
			message)
		SELECT tx.chain_id, tx.signer, tx.intent_id, tx.id, tx.nonce, e.kind, e.level,
			CASE e.kind WHEN 'mined' THEN format('nonce %s: %s mined in block %s (%s), status %s',
					tx.nonce, rw_hex(tx.hash), u.block_number, rw_hex(u.block_hash), u.status)
				ELSE format('nonce %s: %s reverted on chain in block %s', tx.nonce,
					rw_hex(tx.hash), u.block_number) END
		FROM tx JOIN u ON u.hash = tx.hash
		CROSS JOIN LATERAL (VALUES ('mined', 'info', 1),
			('reverted', 'error', CASE WHEN u.deep AND u.status <> 1 AND tx.intent_id IS NOT NULL
				THEN 1 END)) e(kind, level, keep)
		WHERE e.keep IS NOT NULL
		ORDER BY tx.nonce, e.kind;
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
COMMENT ON FUNCTION rw_relayer_mined_many(bytea[], bigint[], bytea[], smallint[], bigint[], numeric[], bigint, bigint) IS
	'rw_relayer_mined for a round''s receipts: element k of the arrays is the receipt of '
	'transaction p_hashes[k]. Returns one row per element with what rw_relayer_mined would '
	'answer for it in input order (same, mined, moved, conflict); an unknown hash raises RW004 '
	'and nothing is stored. New receipts of the current attempt of a pending nonce are stored '
	'set-based; those at block_number <= p_head - p_confirmations are stored confirmed and '
	'their intents become confirmed (reverted for status 0) at once (NULL head: none). Every '
	'other row goes through rw_relayer_mined and settles through rw_relayer_settle.';

-- 0024's form: no head, so nothing is settled here (kept for callers that
-- settle apart).
CREATE OR REPLACE FUNCTION rw_relayer_mined_many(p_hashes bytea[], p_block_numbers bigint[],
	p_block_hashes bytea[], p_statuses smallint[], p_gas_used bigint[],
	p_effective_gas_prices numeric[])
RETURNS TABLE (k integer, hash bytea, answer text)
LANGUAGE sql AS $$
SELECT * FROM rw_relayer_mined_many(p_hashes, p_block_numbers, p_block_hashes, p_statuses,
	p_gas_used, p_effective_gas_prices, NULL, NULL)
$$;
COMMENT ON FUNCTION rw_relayer_mined_many(bytea[], bigint[], bytea[], smallint[], bigint[], numeric[]) IS
	'rw_relayer_mined_many(..., NULL, NULL): every new receipt is stored unconfirmed and its '
	'intent mined; rw_relayer_settle confirms it.';
