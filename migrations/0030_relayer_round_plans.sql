-- 0030_relayer_round_plans: a round's set-based writes keep index plans
-- whatever the statistics and however old the cached plan.
--
-- Owns:
--   engine     rw_relayer_mined_many(..., p_head, p_confirmations) replaced
--              (same arguments, rows and answers: 0027 stays the reference;
--              the two NOT EXISTS tests of its common case rewritten, and
--              its last statements read the receipt from the update);
--              rw_relayer_sent_many replaced (0024's contract; its event
--              insert reads the update's rows);
--              planner settings of rw_relayer_assign_many,
--              rw_relayer_sent_many and rw_relayer_mined_many
--
-- Why: tests/bench/round-sql.sh (a burst of batches of 1,000 signed and
-- stored, ANALYZE at its peak as autovacuum may run it at any moment, then
-- each batch sent and mined) showed rw_relayer_mined_many at 114, 1,256,
-- 2,521, 3,563, 4,888 and 5,699 ms for batches 1-6: quadratic in the
-- transactions mined before. Its common-case test "no attempt at this nonce
-- is mined" joined relayer_tx to itself by id inside NOT EXISTS, and with
-- statistics that saw nothing mined the planner read the whole
-- relayer_tx_one_mined index once per receipt; "no receipt stored" did the
-- same with relayer_receipt once plpgsql had switched to a generic plan. A
-- generic plan made while a table was young (analyzed near empty) also
-- keeps sequential scans of relayer_tx per row in rw_relayer_assign_many's
-- attempt lookup as the table grows.
--
-- What: each NOT EXISTS is a lookup of the receipt's own hash, or of its own
-- (chain, signer, nonce), in a subquery planned apart (OFFSET 0), so it is
-- always an index condition; the three functions run with enable_seqscan
-- off (every relayer row they touch is found by a key of the batch, so a
-- sequential scan is never the right plan, only what a young table's
-- statistics suggest) and with generic plans from the first call (plpgsql
-- switches to them after five calls anyway, and with both changes above
-- they are index nested loops that cost no planning: a call of 1,000
-- receipts 85-100 ms instead of 100-165 ms for the five custom-planned
-- calls; forcing custom plans instead cost 40-100 ms of planning a call).
-- A generic plan assumes ten rows an array and joins two CTEs by nested
-- loop, batch x batch rows: rw_relayer_sent_many's event insert (joining its
-- update to the answers and the old rows) and rw_relayer_mined_many's intent
-- update and event insert (joining its update to the receipts) did, up to
-- 58 ms of a call at 1,000 rows. Both now read what they need from the
-- update's RETURNING (rw_relayer_sent_many the row before it through a join
-- of relayer_tx by id): sent_many at 1,000 rows after a history of 100,000,
-- 52-67 ms instead of 86-131.

CREATE OR REPLACE FUNCTION rw_relayer_mined_many(p_hashes bytea[], p_block_numbers bigint[],
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
			u.block_number, u.block_hash, u.status, u.gas_used, u.egp, t.id,
			t.chain_id, t.signer, t.nonce, t.hash
		FROM unnest(p_hashes, p_block_numbers, p_block_hashes, p_statuses, p_gas_used,
			p_effective_gas_prices) WITH ORDINALITY
			AS u(hash, block_number, block_hash, status, gas_used, egp, k)
		JOIN relayer_tx t ON t.hash = u.hash
		LEFT JOIN relayer_intent i ON i.id = t.intent_id) x
	WHERE x.same_hash = 1 AND x.same_nonce = 1 AND x.state IN ('signed', 'sent')
		AND ((x.kind = 'intent' AND x.istate = 'pending') OR x.kind = 'filler')
		AND x.block_number IS NOT NULL AND x.block_hash IS NOT NULL AND x.status IS NOT NULL
		AND x.gas_used IS NOT NULL AND x.egp IS NOT NULL
		-- no receipt stored yet, no attempt at the nonce mined: one index lookup
		-- each per receipt (by its hash; by its own chain, signer and nonce),
		-- planned apart (OFFSET 0) so that no statistics can turn either into a
		-- scan of every receipt or every mined attempt
		AND NOT EXISTS (SELECT 1 FROM (SELECT 1 FROM relayer_receipt rc
			WHERE rc.tx_hash = x.hash OFFSET 0) r)
		AND NOT EXISTS (SELECT 1 FROM (SELECT 1 FROM relayer_tx o
			WHERE o.chain_id = x.chain_id AND o.signer = x.signer AND o.nonce = x.nonce
				AND o.state = 'mined' OFFSET 0) m);
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
		-- the receipt's fields come out of this update, so that no later
		-- statement joins two CTEs (a generic plan does that by nested loop)
		tx AS (
			UPDATE relayer_tx t SET state = 'mined' FROM u WHERE t.hash = u.hash
			RETURNING t.id, t.chain_id, t.signer, t.nonce, t.intent_id, t.hash,
				u.block_number, u.block_hash, u.status, u.deep),
		it AS (
			UPDATE relayer_intent i SET
				state = CASE WHEN NOT tx.deep THEN 'mined' WHEN tx.status = 1 THEN 'confirmed'
					ELSE 'reverted' END,
				tx_hash = tx.hash, mined_at = now(),
				confirmed_at = CASE WHEN tx.deep THEN now() END,
				reason = CASE WHEN tx.deep AND tx.status <> 1 THEN 'reverted on chain' END
			FROM tx WHERE i.id = tx.intent_id
			RETURNING i.id)
		INSERT INTO relayer_event (chain_id, signer, intent_id, tx_id, nonce, kind, level,
			message)
		SELECT tx.chain_id, tx.signer, tx.intent_id, tx.id, tx.nonce, e.kind, e.level,
			CASE e.kind WHEN 'mined' THEN format('nonce %s: %s mined in block %s (%s), status %s',
					tx.nonce, rw_hex(tx.hash), tx.block_number, rw_hex(tx.block_hash), tx.status)
				ELSE format('nonce %s: %s reverted on chain in block %s', tx.nonce,
					rw_hex(tx.hash), tx.block_number) END
		FROM tx
		CROSS JOIN LATERAL (VALUES ('mined', 'info', 1),
			('reverted', 'error', CASE WHEN tx.deep AND tx.status <> 1 AND tx.intent_id IS NOT NULL
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
-- (CREATE OR REPLACE keeps 0027's comment: the contract is unchanged.)

-- rw_relayer_sent_many (0024's, same contract): its event insert reads only the
-- update's rows.
CREATE OR REPLACE FUNCTION rw_relayer_sent_many(p_tx_ids bigint[], p_head bigint, p_accepted boolean[],
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
	-- the old error class and the answer come out of the update itself (o is
	-- the row before it), so that no statement joins two CTEs
	upd AS (
		UPDATE relayer_tx t SET state = 'sent', broadcasts = t.broadcasts + 1,
			sent_at = coalesce(t.sent_at, now()), sent_block = coalesce(t.sent_block, p_head),
			last_sent_at = now(),
			last_error_class = CASE WHEN u.accepted THEN NULL ELSE u.cls END,
			last_error = CASE WHEN u.accepted THEN NULL ELSE left(u.err, 500) END
		FROM u, relayer_tx o
		WHERE t.id = u.id AND o.id = t.id AND t.state IN ('signed', 'sent')
		RETURNING t.id, t.chain_id, t.signer, t.nonce, t.hash, t.intent_id, u.accepted, u.cls,
			u.err, o.last_error_class AS old_cls),
	ev AS (
		INSERT INTO relayer_event (chain_id, signer, intent_id, tx_id, nonce, kind, level,
			message)
		SELECT upd.chain_id, upd.signer, upd.intent_id, upd.id, upd.nonce, 'broadcast_error',
			'warn', format('nonce %s: %s: no endpoint accepted it: %s: %s', upd.nonce,
				rw_hex(upd.hash), upd.cls, left(upd.err, 300))
		FROM upd
		WHERE NOT upd.accepted AND upd.old_cls IS DISTINCT FROM upd.cls
		ORDER BY upd.nonce
		RETURNING 1)
	SELECT count(*) INTO updated FROM upd;
	RETURN updated;
END
$$;

-- The three functions a round calls with arrays of up to a chunk of rows.
ALTER FUNCTION rw_relayer_mined_many(bytea[], bigint[], bytea[], smallint[], bigint[],
	numeric[], bigint, bigint) SET enable_seqscan = off SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION rw_relayer_assign_many SET enable_seqscan = off
	SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION rw_relayer_sent_many SET enable_seqscan = off
	SET plan_cache_mode = force_generic_plan;
