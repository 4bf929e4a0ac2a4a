-- 0011_relayer_comments: descriptions of the relayer functions 0010 left
-- without one, for anyone reading the schema from a console.
COMMENT ON FUNCTION rw_relayer_report(bigint, bytea, text, text, text, bigint, bigint, bigint) IS
	'Records a report (a nonce gap, a lost nonce, low gas funds, ...) in relayer_event for '
	'the signer on a chain, with its level, message and the intent, transaction and nonce it '
	'concerns.';
COMMENT ON FUNCTION rw_relayer_estimate_failed(bigint, text, boolean, interval) IS
	'Gas estimation of intent p_intent_id reverted with p_reason: the intent fails and is not '
	'sent (p_final), or waits p_retry_after when the revert may come from the signer''s own '
	'transactions still in flight. Returns the state the intent is left in.';
COMMENT ON FUNCTION rw_relayer_fill(bigint, bytea, bigint, smallint, numeric, numeric, numeric, bigint, bytea, bytea, text) IS
	'Stores a signed no-op self-transfer that closes a nonce gap at p_nonce below the signer''s '
	'next nonce, and reports it. Returns the transaction id.';
COMMENT ON FUNCTION rw_relayer_sent(bigint, bigint, boolean, text, text) IS
	'Records one broadcast of transaction p_tx_id at head p_head: accepted by the node or '
	'refused with an error class. A hint only: receipts decide what happened.';
