-- 0026: a gas limit the filer of an intent vouches for.
--
-- The relayer estimates the gas of every queued intent (eth_estimateGas),
-- which runs the call several times on the node. A filer that knows a
-- bound (the scheduler sizes its batch charges by one: 30000 for the call
-- plus 60000 per instance) gives it as gas_hint; the relayer then runs the
-- call once, with eth_call at that gas, and signs with that gas limit: a
-- revert is reported with its reason as for an estimate, and a call that
-- fails at the hint (out of gas) fails the intent with the node's message.
-- The hint is not part of the intent's payload: filing the same key again
-- with another hint is the same intent.

ALTER TABLE relayer_intent ADD COLUMN gas_hint bigint
	CHECK (gas_hint IS NULL OR gas_hint BETWEEN 21000 AND 1000000000);
COMMENT ON COLUMN relayer_intent.gas_hint IS
	'A gas limit the filer vouches for (NULL: the relayer estimates): the call is checked with '
	'one eth_call at this gas and signed with it.';

-- The scheduler's charge batches carry their bound: rw_scheduler_file
-- files as before (now rw_scheduler_file_batches) and sets each new charge
-- intent's hint to the batch's estimated gas (60000 an instance; a charge
-- measured at most 58200). Refills are not hinted: their share (40000) is a
-- batching figure, below what a refill costs.
ALTER FUNCTION rw_scheduler_file(bigint, integer, bigint, bigint, integer, bigint)
	RENAME TO rw_scheduler_file_batches;

CREATE FUNCTION rw_scheduler_file(p_chain_id bigint, p_batch_size integer DEFAULT 50,
	p_batch_gas bigint DEFAULT 3000000, p_refill_every bigint DEFAULT 3600,
	p_max_batches integer DEFAULT 20, p_max_lag bigint DEFAULT 32)
RETURNS TABLE (key text, action text, contract bytea, instances integer, reasons text,
	gas bigint, intent_id bigint, claims text[])
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT * FROM rw_scheduler_file_batches(p_chain_id, p_batch_size, p_batch_gas,
		p_refill_every, p_max_batches, p_max_lag) f
	LOOP
		UPDATE relayer_intent x SET gas_hint = r.gas
		WHERE x.id = r.intent_id AND x.state = 'queued' AND x.gas_hint IS NULL
			AND r.action = 'charge' AND r.gas BETWEEN 21000 AND 1000000000;
		key := r.key;
		action := r.action;
		contract := r.contract;
		instances := r.instances;
		reasons := r.reasons;
		gas := r.gas;
		intent_id := r.intent_id;
		claims := r.claims;
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION rw_scheduler_file(bigint, integer, bigint, bigint, integer, bigint) IS
	'rw_scheduler_file_batches (the filing, see its comment), and each charge batch intent it '
	'filed gets the batch''s estimated gas as its gas_hint, in the same transaction (refills are '
	'estimated by the relayer). Same arguments and rows.';
REVOKE EXECUTE ON FUNCTION rw_scheduler_file(bigint, integer, bigint, bigint, integer, bigint)
	FROM PUBLIC;
