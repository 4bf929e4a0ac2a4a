-- 0020_topup: top-up sessions (shared/DESIGN.md §1.2, §1.3): quotes with
-- tax by region and promotional codes, sessions whose ref the payer passes to
-- Balance.deposit(account, amount, tax, ref), expiry, and reconciliation with
-- the Deposited events of the mirror (0002).
--
-- Owns:
--   tables     tax_rate, promo_code, topup_session, topup_flag,
--              topup_deposit_queue
--   view       topup_session_state (raw: bytea keys; what 0021 builds on)
--   functions  rw_topup_quote, rw_topup_create, rw_topup_cancel,
--              rw_topup_expire, rw_topup_reconcile, rw_topup_flag_resolve
--              (the web console and the CLI call these: same rules);
--              helpers rw_topup_ttl, rw_topup_region, rw_topup_amount_text,
--              rw_topup_new_ref, rw_topup_time_text
--   trigger    ev_balance_deposited_topup (queues every new Deposited row)
--
-- Sessions. A session is off-chain: a random 32-byte ref, the Balance
-- contract and account, and the amounts the payer must pass to deposit().
-- Status (stored): Pending -> Completed | Cancelled | Expired. At most one
-- Pending session per (chain, contract, account) (partial unique index).
-- Shown (topup_session_state.effective_status), computed live so readers
-- never wait for a job:
--   Confirming  a Deposited event with the session's ref, account, amount
--               and tax is indexed but the session is not Completed yet
--               (not confirmed, or confirmed and awaiting rw_topup_reconcile)
--   Expired     Pending and past expires_at with no such deposit (lazy
--               expiry; rw_topup_expire stores it)
--
-- Time. created_at / expires_at are wall-clock (now(), the transaction's
-- start): sessions live off-chain, unlike billing, whose "now" is chain time
-- (chain_head.head_timestamp). A session lasts rw_topup_ttl() = 15 minutes.
-- A deposit whose block time is at or before expires_at was in time: it
-- completes the session even if the session was already marked Expired
-- (the indexer lagged); one after it is late and flagged.
--
-- Amounts are base units, numeric(78,0), never rounded by the database
-- except where a rule says so:
--   amount          what the customer asked to top up
--   discount        promo kind 'discount': floor(amount * rate_bp / 10000),
--                   taken off what the payer pays
--   deposit_amount  amount - discount: the `amount` argument of deposit()
--   tax             round half up (deposit_amount * tax rate_bp / 10000):
--                   the `tax` argument of deposit(), paid to the treasury
--   total           deposit_amount + tax: what the payer pays (approve the
--                   Balance contract for it)
--   bonus           promo kind 'bonus': floor(amount * rate_bp / 10000),
--                   extra credit
--   promo_credit    discount + bonus: what the operator credits after the
--                   deposit is confirmed, with credit(account, promo_credit,
--                   ref) under the session's ref, so the account receives
--                   amount + bonus in all
-- Limits come from balance_info (min_deposit, max_balance): amount and
-- deposit_amount >= min_deposit; balance (mirror, latest, unconfirmed
-- included) + pending (other sessions, topup_session_state.pending_amount)
-- + amount + bonus <= max_balance.
--
-- Reconciliation. A statement trigger on ev_balance_deposited queues every
-- new Deposited row (topup_deposit_queue; rows a reorg deleted drop out).
-- rw_topup_reconcile(chain) takes queued deposits at or below
-- chain_head.safe_number in chain order and either completes the session
-- (stores the deposit's key) or raises support flags (topup_flag, one per
-- deposit and kind, so a second run adds nothing):
--   deposit_without_session  no session has the deposit's ref
--   account_mismatch         the ref's session is for another chain,
--                            contract or account
--   amount_mismatch          amount or tax differ from the session's
--                            deposit_amount and tax (never completes)
--   deposit_after_cancel     the session was cancelled
--   deposit_after_expiry     the session expired before the deposit's block
--   duplicate_deposit        the session was already completed by another
--                            deposit
-- The money is on chain in every case (the mirror's balances show it);
-- flags are for support, who close them with rw_topup_flag_resolve.
-- Completion and flags wait for confirmation, so a reorg within the
-- confirmation depth only changes what topup_session_state shows; a deeper
-- one (reported by the indexer) is not undone here.
--
-- runwayd calls rw_topup_reconcile(chain_id) once per poll cycle after the
-- indexer commits (idempotent; serialized per chain by an advisory lock).
--
-- Privileges: the functions are SECURITY DEFINER (search_path pinned) and
-- not executable by PUBLIC, so a console role needs only EXECUTE on the ones
-- it uses (GRANT EXECUTE ON FUNCTION rw_topup_quote(...), ... TO role).
--
-- SQLSTATEs (class RW, 1xx for top-ups; the relayer uses RW0xx):
--   RW101 amount below the minimum top-up
--   RW102 the resulting balance would exceed the cap
--   RW103 the account already has a Pending session
--   RW104 promo code unknown, disabled, not yet valid, expired or used up
--   RW105 unknown Balance contract, or its limits are not known yet
--   RW106 the session cannot be cancelled (completed, confirming, expired)
--   22023 a malformed argument (amount, ref, region, code); P0002 no such
--   session. Every message is a sentence naming the values involved; DETAIL
--   is a JSON object with the numbers (base units as strings).

-- Configuration: tax by region, promotional codes ----------------------------

CREATE TABLE tax_rate (
	region text PRIMARY KEY CHECK (region ~ '^[A-Z]{2}(-[A-Z0-9]{1,3})?$'),
	rate_bp integer NOT NULL CHECK (rate_bp BETWEEN 0 AND 10000),
	name text,
	updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE tax_rate IS
	'Tax on top-ups by region: ISO 3166-1 alpha-2 country (DE) or subdivision (US-CA). A '
	'subdivision without a row falls back to its country; a region without a row, or none given, '
	'is taxed at 0.';
COMMENT ON COLUMN tax_rate.rate_bp IS 'Rate in basis points (1900 = 19%).';

CREATE TABLE promo_code (
	code text PRIMARY KEY CHECK (code ~ '^[A-Z0-9][A-Z0-9_-]{2,31}$'),
	kind text NOT NULL CHECK (kind IN ('bonus', 'discount')),
	rate_bp integer NOT NULL CHECK (rate_bp BETWEEN 1 AND 10000),
	max_uses integer CHECK (max_uses > 0),
	max_per_account integer DEFAULT 1 CHECK (max_per_account > 0),
	valid_from timestamptz,
	expires_at timestamptz,
	disabled boolean NOT NULL DEFAULT false,
	note text,
	created_at timestamptz NOT NULL DEFAULT now(),
	CHECK (expires_at > valid_from)
);
COMMENT ON TABLE promo_code IS
	'Promotional codes (upper case). kind bonus: extra credit of rate_bp of the amount; kind '
	'discount: the payer pays rate_bp less. Either way the operator credits the promotional part '
	'after the deposit is confirmed. Checked live at quote and create: unknown, disabled, not yet '
	'valid, expired or used up codes are refused before any payment.';
COMMENT ON COLUMN promo_code.rate_bp IS 'Bonus or discount in basis points of the amount (1000 = 10%).';
COMMENT ON COLUMN promo_code.max_uses IS
	'Sessions that may use the code (Pending, Confirming or Completed ones count); NULL: no limit.';
COMMENT ON COLUMN promo_code.max_per_account IS 'Uses per account (default 1); NULL: no limit.';
COMMENT ON COLUMN promo_code.valid_from IS 'Not valid before (NULL: at once).';
COMMENT ON COLUMN promo_code.expires_at IS 'Not valid from this instant on (NULL: never).';

-- Sessions ----------------------------------------------------------------------

CREATE TABLE topup_session (
	ref bytea PRIMARY KEY
		CHECK (octet_length(ref) = 32 AND ref <> '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea),
	chain_id bigint NOT NULL REFERENCES chain (chain_id),
	contract bytea NOT NULL CHECK (octet_length(contract) = 20),
	account bytea NOT NULL CHECK (octet_length(account) = 20),
	amount numeric(78,0) NOT NULL CHECK (rw_is_uint(amount, 256) AND amount > 0),
	discount numeric(78,0) NOT NULL DEFAULT 0 CHECK (discount >= 0 AND discount <= amount),
	deposit_amount numeric(78,0) GENERATED ALWAYS AS (amount - discount) STORED,
	tax_rate_bp integer NOT NULL DEFAULT 0 CHECK (tax_rate_bp BETWEEN 0 AND 10000),
	tax numeric(78,0) NOT NULL DEFAULT 0 CHECK (rw_is_uint(tax, 256)),
	total numeric(78,0) GENERATED ALWAYS AS (amount - discount + tax) STORED,
	bonus numeric(78,0) NOT NULL DEFAULT 0 CHECK (rw_is_uint(bonus, 256)),
	promo_credit numeric(78,0) GENERATED ALWAYS AS (discount + bonus) STORED,
	code text REFERENCES promo_code (code),
	region text CHECK (region ~ '^[A-Z]{2}(-[A-Z0-9]{1,3})?$'),
	status text NOT NULL DEFAULT 'Pending'
		CHECK (status IN ('Pending', 'Completed', 'Cancelled', 'Expired')),
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	completed_at timestamptz,
	cancelled_at timestamptz,
	expired_at timestamptz,
	dep_block_number bigint,
	dep_block_hash bytea CHECK (octet_length(dep_block_hash) = 32),
	dep_log_index integer,
	dep_tx_hash bytea CHECK (octet_length(dep_tx_hash) = 32),
	CHECK (expires_at > created_at),
	CHECK ((status = 'Completed') = (completed_at IS NOT NULL)),
	CHECK ((status = 'Completed') = (dep_block_hash IS NOT NULL)),
	CHECK ((dep_block_hash IS NULL) = (dep_log_index IS NULL)
	       AND (dep_block_hash IS NULL) = (dep_block_number IS NULL)
	       AND (dep_block_hash IS NULL) = (dep_tx_hash IS NULL)),
	CHECK ((status = 'Cancelled') = (cancelled_at IS NOT NULL)),
	CHECK (status <> 'Expired' OR expired_at IS NOT NULL),
	CHECK ((code IS NULL) <= (discount = 0 AND bonus = 0))
);
CREATE UNIQUE INDEX topup_session_one_pending ON topup_session (chain_id, contract, account)
	WHERE status = 'Pending';
CREATE INDEX topup_session_account ON topup_session (chain_id, contract, account, created_at);
CREATE INDEX topup_session_code ON topup_session (code) WHERE code IS NOT NULL;
CREATE UNIQUE INDEX topup_session_deposit ON topup_session (chain_id, dep_block_hash, dep_log_index)
	WHERE dep_block_hash IS NOT NULL;
COMMENT ON TABLE topup_session IS
	'Top-up payment sessions (off-chain): the payer calls deposit(account, deposit_amount, tax, '
	'ref) on the Balance contract. Stored status Pending, Completed (a confirmed matching Deposited '
	'event; dep_* is its key), Cancelled, Expired; at most one Pending per account. Wall-clock '
	'times; a session lasts 15 minutes. Amounts in base units (see 0020_topup.sql).';
COMMENT ON COLUMN topup_session.ref IS 'Random 32-byte session id: deposit()''s ref argument.';
COMMENT ON COLUMN topup_session.contract IS 'The Balance contract.';
COMMENT ON COLUMN topup_session.amount IS 'The top-up asked for, before any discount.';
COMMENT ON COLUMN topup_session.discount IS 'Promotional discount (kind discount), off what the payer pays.';
COMMENT ON COLUMN topup_session.deposit_amount IS 'amount - discount: deposit()''s amount argument.';
COMMENT ON COLUMN topup_session.tax IS 'deposit()''s tax argument: round half up of deposit_amount x tax_rate_bp / 10000.';
COMMENT ON COLUMN topup_session.total IS 'deposit_amount + tax: what the payer pays.';
COMMENT ON COLUMN topup_session.bonus IS 'Promotional bonus credit (kind bonus).';
COMMENT ON COLUMN topup_session.promo_credit IS
	'discount + bonus: credited by the operator (credit(account, promo_credit, ref)) once completed.';
COMMENT ON COLUMN topup_session.expires_at IS 'created_at + 15 minutes (wall clock).';
COMMENT ON COLUMN topup_session.dep_block_hash IS
	'With chain_id and dep_log_index, the key of the confirmed Deposited event that completed it.';

CREATE TABLE topup_flag (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind text NOT NULL CHECK (kind IN ('deposit_without_session', 'account_mismatch',
	                                   'amount_mismatch', 'deposit_after_cancel',
	                                   'deposit_after_expiry', 'duplicate_deposit')),
	chain_id bigint NOT NULL,
	contract bytea NOT NULL CHECK (octet_length(contract) = 20),
	block_number bigint NOT NULL,
	block_hash bytea NOT NULL CHECK (octet_length(block_hash) = 32),
	log_index integer NOT NULL,
	tx_hash bytea NOT NULL CHECK (octet_length(tx_hash) = 32),
	account bytea NOT NULL CHECK (octet_length(account) = 20),
	payer bytea NOT NULL CHECK (octet_length(payer) = 20),
	ref bytea NOT NULL CHECK (octet_length(ref) = 32),
	amount numeric(78,0) NOT NULL,
	tax numeric(78,0) NOT NULL,
	session_ref bytea REFERENCES topup_session (ref),
	expected_amount numeric(78,0),
	expected_tax numeric(78,0),
	detail text NOT NULL,
	flagged_at timestamptz NOT NULL DEFAULT now(),
	resolved_at timestamptz,
	resolved_by text,
	resolution text,
	UNIQUE (chain_id, block_hash, log_index, kind),
	CHECK ((resolved_at IS NULL) = (resolution IS NULL))
);
CREATE INDEX topup_flag_open ON topup_flag (flagged_at) WHERE resolved_at IS NULL;
CREATE INDEX topup_flag_session ON topup_flag (session_ref) WHERE session_ref IS NOT NULL;
COMMENT ON TABLE topup_flag IS
	'Confirmed deposits support must look at: one row per deposit and kind (see 0020_topup.sql). '
	'The deposit is credited on chain whatever the kind; resolution records what support did.';
COMMENT ON COLUMN topup_flag.session_ref IS 'The session with the deposit''s ref, when one exists.';
COMMENT ON COLUMN topup_flag.expected_amount IS 'The session''s deposit_amount (amount_mismatch).';

CREATE TABLE topup_deposit_queue (
	chain_id bigint NOT NULL,
	block_hash bytea NOT NULL,
	log_index integer NOT NULL,
	block_number bigint NOT NULL,
	queued_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (chain_id, block_hash, log_index)
);
CREATE INDEX topup_deposit_queue_block ON topup_deposit_queue (chain_id, block_number);
COMMENT ON TABLE topup_deposit_queue IS
	'Deposited rows not yet reconciled (filled by the ev_balance_deposited trigger; '
	'rw_topup_reconcile removes a row once it is confirmed and handled, or gone by a reorg).';

-- SECURITY DEFINER: the indexer's role needs no privilege on the queue.
CREATE FUNCTION rw_topup_queue_deposits() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	INSERT INTO topup_deposit_queue (chain_id, block_hash, log_index, block_number)
	SELECT n.chain_id, n.block_hash, n.log_index, n.block_number FROM new_rows n
	ON CONFLICT DO NOTHING;
	RETURN NULL;
END
$$;
CREATE TRIGGER ev_balance_deposited_topup AFTER INSERT ON ev_balance_deposited
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION rw_topup_queue_deposits();
-- Deposits indexed before this migration are reconciled like new ones.
INSERT INTO topup_deposit_queue (chain_id, block_hash, log_index, block_number)
SELECT chain_id, block_hash, log_index, block_number FROM ev_balance_deposited;

-- Helpers -------------------------------------------------------------------------

CREATE FUNCTION rw_topup_ttl() RETURNS interval
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN interval '15 minutes';
COMMENT ON FUNCTION rw_topup_ttl() IS 'How long a top-up session stays Pending: 15 minutes.';

-- rw_topup_region: normalizes a region ('' and NULL: none); raises 22023
-- on anything that is not a country or subdivision code.
CREATE FUNCTION rw_topup_region(r text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
	v text := upper(btrim(r));
BEGIN
	IF v IS NULL OR v = '' THEN
		RETURN NULL;
	END IF;
	IF v !~ '^[A-Z]{2}(-[A-Z0-9]{1,3})?$' THEN
		RAISE EXCEPTION 'region % is not an ISO 3166 country or subdivision code (DE, US-CA)', r
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN v;
END
$$;
COMMENT ON FUNCTION rw_topup_region(text) IS
	'Region code in upper case (NULL for NULL or ''''); raises 22023 unless it looks like DE or US-CA.';

-- rw_topup_amount_text: an amount for messages: '10.000000 USDC' when the
-- token is known, else 'N base units'.
CREATE FUNCTION rw_topup_amount_text(v numeric, decimals integer, symbol text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN decimals IS NULL THEN v::text || ' base units'
            ELSE rw_units(v, decimals) || ' ' || coalesce(symbol, 'tokens') END;
COMMENT ON FUNCTION rw_topup_amount_text(numeric, integer, text) IS
	'Amount for messages: decimal with the token''s symbol, or base units when decimals is NULL.';

-- rw_topup_time_text: an instant for messages, in UTC to the second.
CREATE FUNCTION rw_topup_time_text(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
COMMENT ON FUNCTION rw_topup_time_text(timestamptz) IS
	'An instant for messages: ISO 8601 in UTC to the second (2026-01-31T12:00:00Z).';

-- rw_topup_new_ref: 32 random bytes from two random UUIDs (244 random bits,
-- gen_random_uuid is built in), for callers that bring no ref.
CREATE FUNCTION rw_topup_new_ref() RETURNS bytea
LANGUAGE sql VOLATILE
RETURN sha256(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()));
COMMENT ON FUNCTION rw_topup_new_ref() IS
	'A random 32-byte session ref (SHA-256 of two random UUIDs) for callers that bring none.';

-- The live state of every session --------------------------------------------------

-- Per session: its stored row, the deposit shown for it (the linked one for
-- a Completed session, else the first with its ref on its contract,
-- matching ones first), the effective status and what it still adds to the
-- account's balance (pending_amount).
CREATE VIEW topup_session_state AS
SELECT s.*,
       d.block_number AS d_block_number,
       d.block_hash AS d_block_hash,
       d.log_index AS d_log_index,
       d.tx_hash AS d_tx_hash,
       d.payer AS d_payer,
       d.amount AS d_amount,
       d.tax AS d_tax,
       b.timestamp AS d_block_time,
       coalesce(d.matches, false) AS deposit_matches,
       coalesce(d.block_number <= h.safe_number, false) AS deposit_confirmed,
       coalesce(b.timestamp <= extract(epoch FROM s.expires_at), false) AS deposit_in_time,
       st.effective_status,
       CASE st.effective_status
            WHEN 'Pending' THEN s.deposit_amount + s.promo_credit
            WHEN 'Confirming' THEN s.promo_credit
            WHEN 'Completed' THEN CASE WHEN pc.credited THEN 0 ELSE s.promo_credit END
            ELSE 0 END AS pending_amount,
       pc.credited AS promo_credited,
       h.safe_number IS NOT NULL AND coalesce(d.block_number <= h.safe_number, true) AS confirmed
FROM topup_session s
LEFT JOIN chain_head h ON h.chain_id = s.chain_id
LEFT JOIN LATERAL (
	SELECT x.block_number, x.block_hash, x.log_index, x.tx_hash, x.payer, x.amount, x.tax,
	       x.account = s.account AND x.amount = s.deposit_amount AND x.tax = s.tax AS matches
	FROM ev_balance_deposited x
	WHERE x.chain_id = s.chain_id AND x.address = s.contract AND x.ref = s.ref
	ORDER BY (x.block_hash = s.dep_block_hash AND x.log_index = s.dep_log_index) IS TRUE DESC,
	         x.account = s.account AND x.amount = s.deposit_amount AND x.tax = s.tax DESC,
	         x.block_number, x.log_index
	LIMIT 1
) d ON true
LEFT JOIN indexer_block b ON b.chain_id = s.chain_id AND b.hash = d.block_hash
CROSS JOIN LATERAL (
	SELECT CASE WHEN s.status IN ('Completed', 'Cancelled') THEN s.status
	            WHEN d.matches AND (s.status = 'Pending'
	                                OR b.timestamp <= extract(epoch FROM s.expires_at))
	                 THEN 'Confirming'
	            WHEN s.status = 'Pending' AND s.expires_at <= now() THEN 'Expired'
	            ELSE s.status END AS effective_status
) st
CROSS JOIN LATERAL (
	SELECT EXISTS (SELECT 1 FROM ev_balance_credited c
	               WHERE c.chain_id = s.chain_id AND c.address = s.contract
	                 AND c.account = s.account AND c.ref = s.ref) AS credited
) pc;
COMMENT ON VIEW topup_session_state IS
	'Raw (bytea keys): every topup_session row with the deposit shown for it (d_*: the linked one '
	'when Completed, else the first with its ref, matching ones first), deposit_matches (account, '
	'amount and tax as the session says), deposit_confirmed, deposit_in_time (block time <= '
	'expires_at), effective_status (Pending, Confirming, Completed, Cancelled, Expired: expiry '
	'and confirmation applied live), pending_amount (what the session will still add to the '
	'balance: deposit_amount + promo_credit while Pending, promo_credit while Confirming or until '
	'the operator''s credit with the ref is indexed) and confirmed.';

-- Quotes --------------------------------------------------------------------------

CREATE TYPE topup_quote AS (
	chain_id bigint,
	contract bytea,
	account bytea,
	token bytea,
	symbol text,
	decimals integer,
	amount numeric,
	discount numeric,
	deposit_amount numeric,
	tax_rate_bp integer,
	tax numeric,
	total numeric,
	bonus numeric,
	promo_credit numeric,
	code text,
	promo_kind text,
	promo_rate_bp integer,
	region text,
	min_deposit numeric,
	max_balance numeric,
	balance numeric,
	pending numeric,
	balance_after numeric,
	headroom numeric,
	pending_ref bytea,
	pending_status text,
	pending_expires_at timestamptz,
	expires_at timestamptz
);
COMMENT ON TYPE topup_quote IS
	'What rw_topup_quote returns: the amounts of a top-up (base units) and the account''s '
	'position: balance (mirror), pending (other sessions), balance_after = balance + pending + '
	'amount + bonus, headroom = max_balance - balance - pending, and any Pending session.';

-- rw_topup_quote: checks every rule and prices a top-up; raises RW101..RW105
-- or 22023 as documented above. Does not write.
CREATE FUNCTION rw_topup_quote(p_chain_id bigint, p_balance bytea, p_account bytea,
                               p_amount numeric, p_code text DEFAULT NULL,
                               p_region text DEFAULT NULL)
RETURNS topup_quote
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	q topup_quote;
	bi balance_info;
	pc promo_code;
	v_code text := nullif(upper(btrim(p_code)), '');
	uses bigint;
	mine bigint;
	fmt_min text;
BEGIN
	IF p_chain_id IS NULL OR p_balance IS NULL OR octet_length(p_balance) <> 20 THEN
		RAISE EXCEPTION 'a top-up needs a chain id and a 20-byte Balance contract address'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_account IS NULL OR octet_length(p_account) <> 20 THEN
		RAISE EXCEPTION 'a top-up needs a 20-byte account address'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_amount IS NULL OR NOT rw_is_uint(p_amount, 256) OR p_amount = 0 THEN
		RAISE EXCEPTION 'the amount % is not a whole number of base units above 0', p_amount
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	q.chain_id := p_chain_id;
	q.contract := p_balance;
	q.account := p_account;
	q.amount := p_amount;
	q.region := rw_topup_region(p_region);
	q.expires_at := now() + rw_topup_ttl();

	SELECT * INTO bi FROM balance_info WHERE chain_id = p_chain_id AND address = p_balance;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no Balance contract % is known on chain %', rw_hex(p_balance), p_chain_id
			USING ERRCODE = 'RW105', HINT = 'runwayd records configured Balance contracts in balance_info.';
	END IF;
	IF bi.min_deposit IS NULL OR bi.max_balance IS NULL THEN
		RAISE EXCEPTION 'the limits of Balance contract % on chain % (minDeposit, maxBalance) are not known yet',
			rw_hex(p_balance), p_chain_id
			USING ERRCODE = 'RW105', HINT = 'runwayd reads them from the contract when it starts indexing it.';
	END IF;
	q.token := bi.token;
	q.min_deposit := bi.min_deposit;
	q.max_balance := bi.max_balance;
	SELECT t.symbol, t.decimals INTO q.symbol, q.decimals
	FROM token t WHERE t.chain_id = p_chain_id AND t.address = bi.token;

	-- Promotional code, checked live.
	q.discount := 0;
	q.bonus := 0;
	IF v_code IS NOT NULL THEN
		SELECT * INTO pc FROM promo_code c WHERE c.code = v_code;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'promo code % does not exist', v_code USING ERRCODE = 'RW104';
		END IF;
		IF pc.disabled THEN
			RAISE EXCEPTION 'promo code % is disabled', v_code USING ERRCODE = 'RW104';
		END IF;
		IF pc.valid_from IS NOT NULL AND now() < pc.valid_from THEN
			RAISE EXCEPTION 'promo code % is not valid before %', v_code, rw_topup_time_text(pc.valid_from)
				USING ERRCODE = 'RW104';
		END IF;
		IF pc.expires_at IS NOT NULL AND now() >= pc.expires_at THEN
			RAISE EXCEPTION 'promo code % expired at %', v_code, rw_topup_time_text(pc.expires_at) USING ERRCODE = 'RW104';
		END IF;
		SELECT count(*), count(*) FILTER (WHERE s.chain_id = p_chain_id AND s.contract = p_balance
		                                  AND s.account = p_account)
		INTO uses, mine
		FROM topup_session_state s
		WHERE s.code = pc.code AND s.effective_status IN ('Pending', 'Confirming', 'Completed');
		IF pc.max_uses IS NOT NULL AND uses >= pc.max_uses THEN
			RAISE EXCEPTION 'promo code % is used up (% of % uses)', v_code, uses, pc.max_uses
				USING ERRCODE = 'RW104';
		END IF;
		IF pc.max_per_account IS NOT NULL AND mine >= pc.max_per_account THEN
			RAISE EXCEPTION 'promo code % was already used by account % (% of % per account)',
				v_code, rw_hex(p_account), mine, pc.max_per_account USING ERRCODE = 'RW104';
		END IF;
		q.code := pc.code;
		q.promo_kind := pc.kind;
		q.promo_rate_bp := pc.rate_bp;
		IF pc.kind = 'discount' THEN
			q.discount := div(p_amount * pc.rate_bp, 10000);
		ELSE
			q.bonus := div(p_amount * pc.rate_bp, 10000);
		END IF;
	END IF;
	q.deposit_amount := p_amount - q.discount;
	q.promo_credit := q.discount + q.bonus;

	-- Tax by region: the region, else its country, else 0.
	q.tax_rate_bp := coalesce(
		(SELECT t.rate_bp FROM tax_rate t WHERE t.region = q.region),
		(SELECT t.rate_bp FROM tax_rate t WHERE t.region = left(q.region, 2)), 0);
	q.tax := div(q.deposit_amount * q.tax_rate_bp + 5000, 10000);
	q.total := q.deposit_amount + q.tax;

	-- The account's position: the mirror's balance (latest, unconfirmed
	-- included: the contract checks the cap against it) and what other
	-- sessions will still add.
	q.balance := coalesce((SELECT a.balance FROM balance_account_state a
	                       WHERE a.chain_id = p_chain_id AND a.contract = p_balance
	                         AND a.account = p_account), 0);
	q.pending := coalesce((SELECT sum(s.pending_amount) FROM topup_session_state s
	                       WHERE s.chain_id = p_chain_id AND s.contract = p_balance
	                         AND s.account = p_account), 0);
	SELECT s.ref, s.effective_status, s.expires_at
	INTO q.pending_ref, q.pending_status, q.pending_expires_at
	FROM topup_session_state s
	WHERE s.chain_id = p_chain_id AND s.contract = p_balance AND s.account = p_account
	  AND s.status = 'Pending' AND s.effective_status IN ('Pending', 'Confirming');
	q.balance_after := q.balance + q.pending + p_amount + q.bonus;
	q.headroom := greatest(bi.max_balance - q.balance - q.pending, 0);

	-- The rules.
	fmt_min := rw_topup_amount_text(bi.min_deposit, q.decimals, q.symbol);
	IF p_amount < bi.min_deposit THEN
		RAISE EXCEPTION 'a top-up of % is below the minimum of %',
			rw_topup_amount_text(p_amount, q.decimals, q.symbol), fmt_min
			USING ERRCODE = 'RW101',
			      DETAIL = json_build_object('amount', p_amount::text,
			                                 'minimum', bi.min_deposit::text)::text;
	END IF;
	IF q.deposit_amount < bi.min_deposit THEN
		RAISE EXCEPTION 'with the % discount of promo code % the deposit would be %, below the minimum of %',
			rw_topup_amount_text(q.discount, q.decimals, q.symbol), q.code,
			rw_topup_amount_text(q.deposit_amount, q.decimals, q.symbol), fmt_min
			USING ERRCODE = 'RW101',
			      DETAIL = json_build_object('amount', p_amount::text, 'deposit_amount',
			                                 q.deposit_amount::text, 'minimum', bi.min_deposit::text)::text;
	END IF;
	IF q.balance_after > bi.max_balance THEN
		RAISE EXCEPTION 'the balance would reach % (balance % + pending % + this top-up %), above the cap of %: at most % can be added',
			rw_topup_amount_text(q.balance_after, q.decimals, q.symbol),
			rw_topup_amount_text(q.balance, q.decimals, q.symbol),
			rw_topup_amount_text(q.pending, q.decimals, q.symbol),
			rw_topup_amount_text(p_amount + q.bonus, q.decimals, q.symbol),
			rw_topup_amount_text(bi.max_balance, q.decimals, q.symbol),
			rw_topup_amount_text(q.headroom, q.decimals, q.symbol)
			USING ERRCODE = 'RW102',
			      DETAIL = json_build_object('balance', q.balance::text, 'pending', q.pending::text,
			                                 'credit', (p_amount + q.bonus)::text,
			                                 'cap', bi.max_balance::text,
			                                 'headroom', q.headroom::text)::text;
	END IF;
	RETURN q;
END
$$;
COMMENT ON FUNCTION rw_topup_quote(bigint, bytea, bytea, numeric, text, text) IS
	'Prices a top-up of amount base units for account on a Balance contract: promo code '
	'(discount or bonus, checked live), tax by region, total to pay, deposit() arguments, and '
	'the account''s balance, pending and headroom. Raises RW101 (below minimum), RW102 (over '
	'the cap, says the headroom), RW104 (promo code), RW105 (unknown contract), 22023. Writes '
	'nothing; a Pending session is reported (pending_ref), not refused.';

-- Expiry ------------------------------------------------------------------------------

CREATE FUNCTION rw_topup_expire(p_chain_id bigint DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	n integer;
BEGIN
	UPDATE topup_session t SET status = 'Expired', expired_at = now()
	FROM topup_session_state s
	WHERE s.ref = t.ref AND t.status = 'Pending' AND s.effective_status = 'Expired'
	  AND (p_chain_id IS NULL OR t.chain_id = p_chain_id);
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;
COMMENT ON FUNCTION rw_topup_expire(bigint) IS
	'Stores Expired on Pending sessions past expires_at (wall clock) with no matching deposit '
	'indexed (all chains when chain_id is NULL); returns how many. Views apply expiry live anyway.';

-- Sessions ---------------------------------------------------------------------------

-- rw_topup_create: a new Pending session under the rules of rw_topup_quote,
-- at most one Pending per account. p_ref: the caller's 32 random bytes
-- (NULL: rw_topup_new_ref()); calling again with the same ref and the same
-- arguments returns the same session (a retried request makes no second
-- one).
CREATE FUNCTION rw_topup_create(p_chain_id bigint, p_balance bytea, p_account bytea,
                                p_amount numeric, p_code text DEFAULT NULL,
                                p_region text DEFAULT NULL, p_ref bytea DEFAULT NULL)
RETURNS topup_session
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	v_ref bytea := coalesce(p_ref, rw_topup_new_ref());
	prev topup_session;
	r topup_session;
	q topup_quote;
BEGIN
	IF octet_length(v_ref) <> 32 OR v_ref = '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea THEN
		RAISE EXCEPTION 'a session ref is 32 bytes and not all zero' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- One account at a time: the pending check, the cap and the promo
	-- counts below see every session committed before.
	PERFORM pg_advisory_xact_lock(hashtextextended('rw_topup:' || p_chain_id || ':'
		|| coalesce(rw_hex(p_balance), '') || ':' || coalesce(rw_hex(p_account), ''), 0));
	SELECT * INTO prev FROM topup_session t WHERE t.ref = v_ref;
	IF FOUND THEN
		IF prev.chain_id = p_chain_id AND prev.contract = p_balance AND prev.account = p_account
		   AND prev.amount = p_amount AND prev.code IS NOT DISTINCT FROM nullif(upper(btrim(p_code)), '')
		   AND prev.region IS NOT DISTINCT FROM rw_topup_region(p_region) THEN
			RETURN prev;
		END IF;
		RAISE EXCEPTION 'session ref % is already used by another session', rw_hex(v_ref)
			USING ERRCODE = 'unique_violation';
	END IF;
	PERFORM rw_topup_expire(p_chain_id);
	SELECT * INTO prev FROM topup_session t
	WHERE t.chain_id = p_chain_id AND t.contract = p_balance AND t.account = p_account
	  AND t.status = 'Pending';
	IF FOUND THEN
		RAISE EXCEPTION 'account % already has a pending top-up session % (expires at %)%',
			rw_hex(p_account), rw_hex(prev.ref), rw_topup_time_text(prev.expires_at),
			CASE WHEN (SELECT s.effective_status FROM topup_session_state s WHERE s.ref = prev.ref) = 'Confirming'
			     THEN ': its deposit is on chain, waiting for confirmation'
			     ELSE ': pay it or cancel it first' END
			USING ERRCODE = 'RW103',
			      DETAIL = json_build_object('ref', rw_hex(prev.ref),
			                                 'expires_at', rw_topup_time_text(prev.expires_at))::text;
	END IF;
	IF nullif(btrim(p_code), '') IS NOT NULL THEN
		-- Serializes uses of the code across accounts.
		PERFORM 1 FROM promo_code c WHERE c.code = upper(btrim(p_code)) FOR UPDATE;
	END IF;
	q := rw_topup_quote(p_chain_id, p_balance, p_account, p_amount, p_code, p_region);
	INSERT INTO topup_session (ref, chain_id, contract, account, amount, discount, tax_rate_bp, tax,
	                           bonus, code, region, created_at, expires_at)
	VALUES (v_ref, p_chain_id, p_balance, p_account, p_amount, q.discount, q.tax_rate_bp, q.tax,
	        q.bonus, q.code, q.region, now(), now() + rw_topup_ttl())
	RETURNING * INTO r;
	RETURN r;
END
$$;
COMMENT ON FUNCTION rw_topup_create(bigint, bytea, bytea, numeric, text, text, bytea) IS
	'Opens a Pending top-up session (the rules of rw_topup_quote; RW103 when the account already '
	'has a Pending one, naming it and its expiry). ref: 32 random bytes from the caller, or NULL '
	'for a generated one; the same ref with the same arguments returns the existing session. '
	'Returns the row: pass deposit_amount, tax and ref to Balance.deposit before expires_at.';

-- rw_topup_cancel: Pending -> Cancelled. p_account, when given, must be the
-- session's (a console passes the signed-in account). Cancelling a
-- cancelled session returns it unchanged.
CREATE FUNCTION rw_topup_cancel(p_ref bytea, p_account bytea DEFAULT NULL) RETURNS topup_session
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	r topup_session;
	s topup_session_state;
BEGIN
	SELECT * INTO r FROM topup_session t
	WHERE t.ref = p_ref AND (p_account IS NULL OR t.account = p_account) FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no top-up session %', coalesce(rw_hex(p_ref), 'NULL')
			|| CASE WHEN p_account IS NULL THEN '' ELSE ' for account ' || rw_hex(p_account) END
			USING ERRCODE = 'no_data_found';
	END IF;
	SELECT * INTO s FROM topup_session_state t WHERE t.ref = p_ref;
	CASE s.effective_status
	WHEN 'Cancelled' THEN
		RETURN r;
	WHEN 'Completed' THEN
		RAISE EXCEPTION 'top-up session % is completed (deposit in transaction %); it cannot be cancelled',
			rw_hex(p_ref), rw_hex(r.dep_tx_hash) USING ERRCODE = 'RW106';
	WHEN 'Confirming' THEN
		RAISE EXCEPTION 'the deposit for top-up session % is on chain (transaction %, block %), waiting for confirmation; it cannot be cancelled',
			rw_hex(p_ref), rw_hex(s.d_tx_hash), s.d_block_number USING ERRCODE = 'RW106';
	WHEN 'Expired' THEN
		RAISE EXCEPTION 'top-up session % expired at %; there is nothing to cancel',
			rw_hex(p_ref), rw_topup_time_text(r.expires_at) USING ERRCODE = 'RW106';
	ELSE
		UPDATE topup_session t SET status = 'Cancelled', cancelled_at = now()
		WHERE t.ref = p_ref RETURNING * INTO r;
		RETURN r;
	END CASE;
END
$$;
COMMENT ON FUNCTION rw_topup_cancel(bytea, bytea) IS
	'Cancels a Pending session (account, when given, must be its own). RW106 when it is '
	'completed, its deposit is confirming, or it expired; P0002 when there is no such session; '
	'a cancelled one is returned unchanged.';

-- Reconciliation -----------------------------------------------------------------------

CREATE FUNCTION rw_topup_reconcile(p_chain_id bigint DEFAULT NULL,
                                   OUT completed integer, OUT flagged integer,
                                   OUT expired integer, OUT waiting integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	c bigint;
	safe bigint;
	d record;
	s topup_session;
	kinds text[];
	k text;
	n integer;
BEGIN
	completed := 0;
	flagged := 0;
	expired := 0;
	waiting := 0;
	FOR c IN SELECT x.chain_id FROM chain x
	         WHERE p_chain_id IS NULL OR x.chain_id = p_chain_id ORDER BY x.chain_id LOOP
		PERFORM pg_advisory_xact_lock(hashtextextended('rw_topup_reconcile:' || c, 0));
		-- Rows a reorg deleted.
		DELETE FROM topup_deposit_queue q
		WHERE q.chain_id = c AND NOT EXISTS (
			SELECT 1 FROM ev_balance_deposited x
			WHERE x.chain_id = q.chain_id AND x.block_hash = q.block_hash
			  AND x.log_index = q.log_index);
		SELECT h.safe_number INTO safe FROM chain_head h WHERE h.chain_id = c;
		FOR d IN SELECT x.*, b.timestamp AS block_time
		         FROM topup_deposit_queue q
		         JOIN ev_balance_deposited x ON x.chain_id = q.chain_id
		              AND x.block_hash = q.block_hash AND x.log_index = q.log_index
		         LEFT JOIN indexer_block b ON b.chain_id = x.chain_id AND b.hash = x.block_hash
		         WHERE q.chain_id = c AND x.block_number <= safe
		         ORDER BY x.block_number, x.log_index LOOP
			SELECT * INTO s FROM topup_session t WHERE t.ref = d.ref FOR UPDATE;
			kinds := '{}';
			IF NOT FOUND THEN
				kinds := ARRAY['deposit_without_session'];
				s := NULL;
			ELSIF s.chain_id <> d.chain_id OR s.contract <> d.address OR s.account <> d.account THEN
				kinds := ARRAY['account_mismatch'];
			ELSIF s.status = 'Completed' AND s.dep_block_hash = d.block_hash
			      AND s.dep_log_index = d.log_index THEN
				NULL; -- the deposit that completed it, seen again
			ELSE
				-- The same verdict whatever the session became since (a
				-- deposit seen again after a rewind gets the same flags).
				IF d.amount <> s.deposit_amount OR d.tax <> s.tax THEN
					kinds := kinds || 'amount_mismatch'::text;
				ELSIF s.status = 'Completed' THEN
					kinds := kinds || 'duplicate_deposit'::text;
				END IF;
				IF s.status = 'Cancelled' THEN
					kinds := kinds || 'deposit_after_cancel'::text;
				ELSIF s.status = 'Expired'
				      AND (d.block_time IS NULL OR d.block_time > extract(epoch FROM s.expires_at)) THEN
					kinds := kinds || 'deposit_after_expiry'::text;
				END IF;
				IF cardinality(kinds) = 0 THEN
					UPDATE topup_session t
					SET status = 'Completed', completed_at = now(),
					    dep_block_number = d.block_number, dep_block_hash = d.block_hash,
					    dep_log_index = d.log_index, dep_tx_hash = d.tx_hash
					WHERE t.ref = s.ref;
					completed := completed + 1;
				END IF;
			END IF;
			FOREACH k IN ARRAY kinds LOOP
				INSERT INTO topup_flag (kind, chain_id, contract, block_number, block_hash, log_index,
				                        tx_hash, account, payer, ref, amount, tax, session_ref,
				                        expected_amount, expected_tax, detail)
				VALUES (k, d.chain_id, d.address, d.block_number, d.block_hash, d.log_index,
				        d.tx_hash, d.account, d.payer, d.ref, d.amount, d.tax, s.ref,
				        s.deposit_amount, s.tax,
				        CASE k
				        WHEN 'deposit_without_session' THEN 'no top-up session has ref ' || rw_hex(d.ref)
				        WHEN 'account_mismatch' THEN 'session ' || rw_hex(s.ref) || ' is for account '
				             || rw_hex(s.account) || ' on ' || rw_hex(s.contract) || ' (chain '
				             || s.chain_id || '); the deposit credited ' || rw_hex(d.account)
				        WHEN 'amount_mismatch' THEN 'deposit of amount ' || d.amount || ' tax ' || d.tax
				             || '; session ' || rw_hex(s.ref) || ' expects amount '
				             || s.deposit_amount || ' tax ' || s.tax
				        WHEN 'deposit_after_cancel' THEN 'session ' || rw_hex(s.ref) || ' was cancelled at '
				             || rw_topup_time_text(s.cancelled_at) || '; block time '
				             || coalesce(rw_time(d.block_time)::text, 'unknown')
				        WHEN 'deposit_after_expiry' THEN 'session ' || rw_hex(s.ref) || ' expired at '
				             || rw_topup_time_text(s.expires_at) || '; block time '
				             || coalesce(rw_time(d.block_time)::text, 'unknown')
				        ELSE 'session ' || rw_hex(s.ref) || ' was completed by transaction '
				             || rw_hex(s.dep_tx_hash) END)
				ON CONFLICT (chain_id, block_hash, log_index, kind) DO NOTHING;
				GET DIAGNOSTICS n = ROW_COUNT;
				flagged := flagged + n;
			END LOOP;
			DELETE FROM topup_deposit_queue q
			WHERE q.chain_id = d.chain_id AND q.block_hash = d.block_hash AND q.log_index = d.log_index;
		END LOOP;
		expired := expired + rw_topup_expire(c);
		waiting := waiting + (SELECT count(*) FROM topup_deposit_queue q WHERE q.chain_id = c);
	END LOOP;
END
$$;
COMMENT ON FUNCTION rw_topup_reconcile(bigint) IS
	'Matches confirmed Deposited events (block <= chain_head.safe_number) with sessions by ref: '
	'Completed when account, amount and tax match and the session is Pending (or Expired with the '
	'deposit''s block in time); else topup_flag rows. Then stores expiries. Idempotent; one chain '
	'(or all when NULL) at a time under an advisory lock. Returns completed, flagged, expired, '
	'waiting (deposits not yet confirmed). runwayd calls it every poll cycle.';

CREATE FUNCTION rw_topup_flag_resolve(p_id bigint, p_resolution text,
                                      p_by text DEFAULT NULL) RETURNS topup_flag
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	f topup_flag;
BEGIN
	IF nullif(btrim(p_resolution), '') IS NULL THEN
		RAISE EXCEPTION 'a resolution says what was done' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE topup_flag t SET resolved_at = now(), resolution = p_resolution,
	                        resolved_by = coalesce(p_by, session_user)
	WHERE t.id = p_id AND t.resolved_at IS NULL RETURNING * INTO f;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no open support flag %', p_id USING ERRCODE = 'no_data_found';
	END IF;
	RETURN f;
END
$$;
COMMENT ON FUNCTION rw_topup_flag_resolve(bigint, text, text) IS
	'Closes an open support flag with what was done (by: who; default the session user).';

REVOKE EXECUTE ON FUNCTION rw_topup_quote(bigint, bytea, bytea, numeric, text, text),
	rw_topup_create(bigint, bytea, bytea, numeric, text, text, bytea),
	rw_topup_cancel(bytea, bytea), rw_topup_expire(bigint), rw_topup_reconcile(bigint),
	rw_topup_flag_resolve(bigint, text, text)
	FROM PUBLIC;
