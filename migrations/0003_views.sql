-- 0003_views: derived state, as views over the event tables of 0002.
--
-- Owns:
--   ERC-20            erc20_transfers, erc20_allowances, erc20_balances
--   prepaid runway    providers, app_runways, app_funding
--   Balance contract  balance_account_state, balance_instance_state (raw
--                     forms: bytea keys, for joins and the relayer),
--                     balance_accounts, balance_ledger, balance_instances,
--                     balance_instance_charges, balance_charge_failures,
--                     balance_contracts, balance_operators
--
-- Conventions (every view):
-- * addresses, hashes, ids and refs as 0x-hex (rw_hex); amounts as base units
--   (numeric) and, in the *_units column beside them, as exact decimal text
--   with the token's decimals (rw_units; NULL when the token is not in the
--   token table); unix times as numeric seconds plus a *_time timestamptz.
-- * confirmed: every event the row shows is at or below its chain's
--   chain_head.safe_number (false while the chain head is unknown; true for
--   a configured contract with no event yet).
-- * "now" is chain time: chain_head.head_timestamp, never the wall clock.
-- * "latest" means greatest (block_number, log_index); every latest-per-key
--   lookup is an index scan on the indexes of 0002.
-- * Filters on the hex columns cannot use the bytea indexes; hot paths that
--   filter by one key use the raw views or the ev_* tables with rw_unhex.

-- ERC-20 ----------------------------------------------------------------

CREATE VIEW erc20_transfers AS
SELECT e.chain_id,
       rw_hex(e.address) AS token,
       t.symbol,
       rw_hex(e.from_address) AS from_address,
       rw_hex(e.to_address) AS to_address,
       e.value,
       rw_units(e.value, t.decimals) AS value_units,
       e.block_number,
       rw_time(b.timestamp) AS block_time,
       rw_hex(e.tx_hash) AS tx_hash,
       e.log_index,
       coalesce(e.block_number <= h.safe_number, false) AS confirmed
FROM ev_erc20_transfer e
LEFT JOIN token t ON t.chain_id = e.chain_id AND t.address = e.address
LEFT JOIN indexer_block b ON b.chain_id = e.chain_id AND b.hash = e.block_hash
LEFT JOIN chain_head h ON h.chain_id = e.chain_id;
COMMENT ON VIEW erc20_transfers IS
	'Every indexed ERC-20 Transfer (mints from 0x00..00, burns to it), with decimal amounts.';

-- The current allowance per (token, owner, spender). ERC-20 only logs
-- Approval on approve(); transferFrom lowers the allowance silently (our
-- TestToken and USDC alike; TestToken leaves type(uint256).max untouched).
-- So: approved = the latest Approval; spent = what the spender pulled from
-- the owner since then, recognised as Transfers from the owner on this token
-- in a transaction where the spender contract logged a pull
-- (FinancialRunway: provider pulls the runway cost; Deposited: Balance pulls
-- amount and tax; Credited: Balance pulls from the operator); allowance =
-- approved - spent (never below 0), or approved when unlimited. Pulls by
-- spenders we do not index are not seen: allowance is an estimate that
-- `runway check` reconciles with allowance() on chain.
CREATE VIEW erc20_allowances AS
SELECT a.chain_id,
       rw_hex(a.address) AS token,
       t.symbol,
       rw_hex(a.owner) AS owner,
       rw_hex(a.spender) AS spender,
       a.value AS approved,
       rw_units(a.value, t.decimals) AS approved_units,
       a.value = 2::numeric ^ 256 - 1 AS unlimited,
       s.spent,
       CASE WHEN a.value = 2::numeric ^ 256 - 1 THEN a.value
            ELSE greatest(a.value - s.spent, 0) END AS allowance,
       rw_units(CASE WHEN a.value = 2::numeric ^ 256 - 1 THEN a.value
                     ELSE greatest(a.value - s.spent, 0) END, t.decimals) AS allowance_units,
       a.block_number,
       rw_time(b.timestamp) AS block_time,
       rw_hex(a.tx_hash) AS tx_hash,
       a.log_index,
       coalesce(greatest(a.block_number, s.last_block) <= h.safe_number, false) AS confirmed
FROM (SELECT DISTINCT ON (chain_id, address, owner, spender) *
      FROM ev_erc20_approval
      ORDER BY chain_id DESC, address DESC, owner DESC, spender DESC,
               block_number DESC, log_index DESC) a
CROSS JOIN LATERAL (
	SELECT coalesce(sum(x.value), 0) AS spent, max(x.block_number) AS last_block
	FROM ev_erc20_transfer x
	WHERE x.chain_id = a.chain_id AND x.address = a.address AND x.from_address = a.owner
	  AND x.block_number >= a.block_number
	  AND (x.block_number, x.log_index) > (a.block_number, a.log_index)
	  AND (EXISTS (SELECT 1 FROM ev_vnp_financial_runway p
	               WHERE p.chain_id = x.chain_id AND p.tx_hash = x.tx_hash AND p.address = a.spender)
	       OR EXISTS (SELECT 1 FROM ev_balance_deposited p
	                  WHERE p.chain_id = x.chain_id AND p.tx_hash = x.tx_hash AND p.address = a.spender)
	       OR EXISTS (SELECT 1 FROM ev_balance_credited p
	                  WHERE p.chain_id = x.chain_id AND p.tx_hash = x.tx_hash AND p.address = a.spender))
) s
LEFT JOIN token t ON t.chain_id = a.chain_id AND t.address = a.address
LEFT JOIN indexer_block b ON b.chain_id = a.chain_id AND b.hash = a.block_hash
LEFT JOIN chain_head h ON h.chain_id = a.chain_id;
COMMENT ON VIEW erc20_allowances IS
	'Per token, owner and spender: approved (latest Approval), spent (pulls by the spender seen '
	'since: runway extensions, deposits, credits), allowance = approved - spent (estimate; '
	'transferFrom logs no Approval; runway check reconciles with the chain), unlimited when '
	'approved is 2^256-1. block_* / tx_hash are the Approval''s.';

-- Balances from transfers, for tokens indexed wholly (indexer_source.watch =
-- 'all'); complete only when the source starts at or before the token's
-- deployment.
CREATE VIEW erc20_balances AS
SELECT m.chain_id,
       rw_hex(m.address) AS token,
       t.symbol,
       rw_hex(m.holder) AS holder,
       sum(m.delta) AS balance,
       rw_units(sum(m.delta), t.decimals) AS balance_units,
       max(m.block_number) AS last_block,
       coalesce(max(m.block_number) <= h.safe_number, false) AS confirmed
FROM (SELECT chain_id, address, to_address AS holder, value AS delta, block_number
      FROM ev_erc20_transfer
      UNION ALL
      SELECT chain_id, address, from_address, -value, block_number
      FROM ev_erc20_transfer) m
LEFT JOIN token t ON t.chain_id = m.chain_id AND t.address = m.address
LEFT JOIN chain_head h ON h.chain_id = m.chain_id
WHERE m.holder <> '\x0000000000000000000000000000000000000000'::bytea
  AND EXISTS (SELECT 1 FROM indexer_source s
              WHERE s.chain_id = m.chain_id AND s.address = m.address AND s.watch = 'all')
GROUP BY m.chain_id, m.address, m.holder, t.symbol, t.decimals, h.safe_number;
COMMENT ON VIEW erc20_balances IS
	'Holder balances summed from transfers, for tokens watched wholly (watch = all) only; '
	'confirmed when the holder''s last movement is.';

-- Prepaid runway (ValidatorNodeProvider) --------------------------------

CREATE VIEW providers AS
SELECT p.chain_id,
       rw_hex(p.address) AS provider,
       rw_hex(p.token) AS token,
       t.symbol,
       rw_hex(p.payee) AS payee,
       p.price,
       rw_units(p.price, t.decimals) AS price_units,
       rw_hex(p.consensus) AS consensus,
       p.origin,
       coalesce(ps.paused, false) AS paused,
       rw_hex(o.new_owner) AS owner,
       p.created_block,
       rw_hex(p.created_tx) AS created_tx,
       h.safe_number IS NOT NULL
           AND coalesce(greatest(p.created_block, ps.block_number, o.block_number) <= h.safe_number,
                        true) AS confirmed
FROM provider_info p
LEFT JOIN token t ON t.chain_id = p.chain_id AND t.address = p.token
LEFT JOIN LATERAL (
	SELECT u.paused, u.block_number FROM (
		(SELECT true AS paused, x.block_number, x.log_index FROM ev_vnp_paused x
		 WHERE x.chain_id = p.chain_id AND x.address = p.address
		 ORDER BY x.block_number DESC, x.log_index DESC LIMIT 1)
		UNION ALL
		(SELECT false, x.block_number, x.log_index FROM ev_vnp_unpaused x
		 WHERE x.chain_id = p.chain_id AND x.address = p.address
		 ORDER BY x.block_number DESC, x.log_index DESC LIMIT 1)) u
	ORDER BY u.block_number DESC, u.log_index DESC LIMIT 1
) ps ON true
LEFT JOIN LATERAL (
	SELECT x.new_owner, x.block_number FROM ev_vnp_ownership_transferred x
	WHERE x.chain_id = p.chain_id AND x.address = p.address
	ORDER BY x.block_number DESC, x.log_index DESC LIMIT 1
) o ON true
LEFT JOIN chain_head h ON h.chain_id = p.chain_id;
COMMENT ON VIEW providers IS
	'ValidatorNodeProviders (provider_info) with token, payee, price per second (base units and '
	'decimal), paused (latest Paused/Unpaused) and owner (latest OwnershipTransferred).';

-- Per application of a provider: applications are those with a
-- FinancialRunway, an ApplicationDeployed or a MachineLocation.
CREATE VIEW app_runways AS
SELECT a.chain_id,
       rw_hex(a.address) AS provider,
       rw_hex(a.application) AS application,
       rw_hex(d.owner) AS owner,
       l.location,
       rw_hex(p.token) AS token,
       t.symbol,
       rw_hex(p.payee) AS payee,
       p.price,
       coalesce(r.until, 0) AS runway_until,
       rw_time(r.until) AS until_time,
       coalesce(rc.until, 0) AS confirmed_until,
       h.head_timestamp,
       CASE WHEN r.until IS NULL THEN 0
            ELSE greatest(r.until - h.head_timestamp, 0) END AS seconds_left,
       CASE WHEN r.until IS NULL THEN 'never funded'
            WHEN h.head_timestamp IS NULL THEN NULL
            WHEN r.until > h.head_timestamp THEN 'active'
            ELSE 'lapsed' END AS status,
       coalesce(ps.paused, false) AS provider_paused,
       r.block_number AS funded_block,
       rw_hex(r.tx_hash) AS funded_tx,
       coalesce(greatest(r.block_number, l.block_number, d.block_number) <= h.safe_number,
                false) AS confirmed
FROM (SELECT chain_id, address, application FROM ev_vnp_financial_runway
      UNION
      SELECT chain_id, address, application FROM ev_vnp_application_deployed
      UNION
      SELECT chain_id, address, application FROM ev_vnp_machine_location) a
LEFT JOIN chain_head h ON h.chain_id = a.chain_id
LEFT JOIN LATERAL (
	SELECT x.until, x.block_number, x.tx_hash FROM ev_vnp_financial_runway x
	WHERE x.chain_id = a.chain_id AND x.address = a.address AND x.application = a.application
	ORDER BY x.block_number DESC, x.log_index DESC LIMIT 1
) r ON true
LEFT JOIN LATERAL (
	SELECT x.until FROM ev_vnp_financial_runway x
	WHERE x.chain_id = a.chain_id AND x.address = a.address AND x.application = a.application
	  AND x.block_number <= h.safe_number
	ORDER BY x.block_number DESC, x.log_index DESC LIMIT 1
) rc ON true
LEFT JOIN LATERAL (
	SELECT x.location, x.block_number FROM ev_vnp_machine_location x
	WHERE x.chain_id = a.chain_id AND x.address = a.address AND x.application = a.application
	ORDER BY x.block_number DESC, x.log_index DESC LIMIT 1
) l ON true
LEFT JOIN LATERAL (
	SELECT x.owner, x.block_number FROM ev_vnp_application_deployed x
	WHERE x.chain_id = a.chain_id AND x.address = a.address AND x.application = a.application
	ORDER BY x.block_number DESC, x.log_index DESC LIMIT 1
) d ON true
LEFT JOIN provider_info p ON p.chain_id = a.chain_id AND p.address = a.address
LEFT JOIN token t ON t.chain_id = p.chain_id AND t.address = p.token
LEFT JOIN LATERAL (
	SELECT u.paused FROM (
		(SELECT true AS paused, x.block_number, x.log_index FROM ev_vnp_paused x
		 WHERE x.chain_id = a.chain_id AND x.address = a.address
		 ORDER BY x.block_number DESC, x.log_index DESC LIMIT 1)
		UNION ALL
		(SELECT false, x.block_number, x.log_index FROM ev_vnp_unpaused x
		 WHERE x.chain_id = a.chain_id AND x.address = a.address
		 ORDER BY x.block_number DESC, x.log_index DESC LIMIT 1)) u
	ORDER BY u.block_number DESC, u.log_index DESC LIMIT 1
) ps ON true;
COMMENT ON VIEW app_runways IS
	'Per provider and application: runway_until (latest FinancialRunway; 0 never funded), '
	'confirmed_until (latest confirmed one), seconds_left and status (active / lapsed / never '
	'funded) against chain time head_timestamp (status NULL while the head is unknown), owner '
	'(from deploy), location (latest MachineLocation), provider terms and paused flag.';

-- Each extension with its payment: the ERC-20 Transfer of the provider's
-- token to its payee that follows the FinancialRunway log in the same
-- transaction (the provider logs, then pulls). seconds bought comes from the
-- runway itself: until - max(previous until, block time); cost = seconds *
-- price; amount and payer come from the transfer (NULL when the token's
-- transfer to the payee is not indexed).
CREATE VIEW app_funding AS
SELECT f.chain_id,
       rw_hex(f.address) AS provider,
       rw_hex(f.application) AS application,
       f.until AS runway_until,
       rw_time(f.until) AS until_time,
       prev.until AS previous_until,
       prev.until IS NULL OR prev.until <= b.timestamp AS restarted,
       f.until - greatest(coalesce(prev.until, 0), b.timestamp) AS seconds,
       (f.until - greatest(coalesce(prev.until, 0), b.timestamp)) * p.price AS cost,
       rw_hex(x.from_address) AS payer,
       rw_hex(p.token) AS token,
       t.symbol,
       x.value AS amount,
       rw_units(x.value, t.decimals) AS amount_units,
       f.block_number,
       rw_time(b.timestamp) AS block_time,
       rw_hex(f.tx_hash) AS tx_hash,
       f.log_index,
       coalesce(f.block_number <= h.safe_number, false) AS confirmed
FROM ev_vnp_financial_runway f
LEFT JOIN provider_info p ON p.chain_id = f.chain_id AND p.address = f.address
LEFT JOIN token t ON t.chain_id = p.chain_id AND t.address = p.token
LEFT JOIN indexer_block b ON b.chain_id = f.chain_id AND b.hash = f.block_hash
LEFT JOIN chain_head h ON h.chain_id = f.chain_id
LEFT JOIN LATERAL (
	SELECT y.until FROM ev_vnp_financial_runway y
	WHERE y.chain_id = f.chain_id AND y.address = f.address AND y.application = f.application
	  AND y.block_number <= f.block_number
	  AND (y.block_number, y.log_index) < (f.block_number, f.log_index)
	ORDER BY y.block_number DESC, y.log_index DESC LIMIT 1
) prev ON true
LEFT JOIN LATERAL (
	SELECT y.from_address, y.value FROM ev_erc20_transfer y
	WHERE y.chain_id = f.chain_id AND y.tx_hash = f.tx_hash AND y.log_index > f.log_index
	  AND y.address = p.token AND y.to_address = p.payee
	ORDER BY y.log_index LIMIT 1
) x ON true;
COMMENT ON VIEW app_funding IS
	'One row per FinancialRunway: previous_until, restarted (the runway had lapsed: the gap was '
	'free), seconds bought, cost = seconds * price, and payer / amount from the same '
	'transaction''s Transfer of the provider''s token to its payee (NULL if not indexed). '
	'seconds and cost need the block header (indexer_block).';

-- Balance contract: raw state ----------------------------------------------

-- Latest balance per account: every event that carries balanceAfter.
CREATE VIEW balance_account_state AS
SELECT DISTINCT ON (chain_id, address, account)
       chain_id, address AS contract, account, balance_after AS balance,
       block_number AS last_block, log_index AS last_log_index
FROM (SELECT chain_id, address, account, balance_after, block_number, log_index
      FROM ev_balance_deposited
      UNION ALL
      SELECT chain_id, address, account, balance_after, block_number, log_index
      FROM ev_balance_credited
      UNION ALL
      SELECT chain_id, address, account, balance_after, block_number, log_index
      FROM ev_balance_refunded
      UNION ALL
      SELECT chain_id, address, account, balance_after, block_number, log_index
      FROM ev_balance_instance_created
      UNION ALL
      SELECT chain_id, address, account, balance_after, block_number, log_index
      FROM ev_balance_reserve_refilled
      UNION ALL
      SELECT chain_id, address, account, balance_after, block_number, log_index
      FROM ev_balance_small_balance
      UNION ALL
      SELECT chain_id, address, account, balance_after, block_number, log_index
      FROM ev_balance_instance_ended) e
ORDER BY chain_id DESC, address DESC, account DESC, block_number DESC, log_index DESC;
COMMENT ON VIEW balance_account_state IS
	'Raw (bytea keys): per Balance contract and account, balance = balanceAfter of the latest '
	'Deposited, Credited, Refunded, InstanceCreated, ReserveRefilled, SmallBalance or '
	'InstanceEnded.';

-- Instance state, field by field from the latest event that sets it (see
-- abi/README.md "How a mirror derives state from events alone").
CREATE VIEW balance_instance_state AS
SELECT c.chain_id,
       c.address AS contract,
       c.instance_id,
       c.account,
       c.provider,
       c.price_per_day,
       res.reserve,
       coalesce(lc.paid_until, c.paid_until) AS paid_until,
       coalesce(lc.period, 0) AS period,
       st.status,
       st.status IN (1, 2) AS live,
       gr.grace_until,
       c.paid + coalesce(sp.charged, 0) AS spent,
       coalesce(sp.charges, 0) + 1 AS periods_paid,
       c.block_number AS created_block,
       c.block_hash AS created_block_hash,
       c.tx_hash AS created_tx,
       le.block_number AS ended_block,
       le.tx_hash AS ended_tx,
       le.reason AS ended_reason,
       le.refunded,
       greatest(c.block_number, lc.block_number, lr.block_number, ls.block_number,
                lf.block_number, le.block_number) AS last_block
FROM ev_balance_instance_created c
LEFT JOIN LATERAL (
	SELECT x.period, x.reserve_after, x.paid_until, x.block_number, x.log_index
	FROM ev_balance_charged x
	WHERE x.chain_id = c.chain_id AND x.address = c.address AND x.instance_id = c.instance_id
	ORDER BY x.block_number DESC, x.log_index DESC LIMIT 1
) lc ON true
LEFT JOIN LATERAL (
	SELECT x.reserve_after, x.block_number, x.log_index FROM ev_balance_reserve_refilled x
	WHERE x.chain_id = c.chain_id AND x.address = c.address AND x.instance_id = c.instance_id
	ORDER BY x.block_number DESC, x.log_index DESC LIMIT 1
) lr ON true
LEFT JOIN LATERAL (
	SELECT x.reserve, x.block_number, x.log_index FROM ev_balance_small_balance x
	WHERE x.chain_id = c.chain_id AND x.address = c.address AND x.instance_id = c.instance_id
	ORDER BY x.block_number DESC, x.log_index DESC LIMIT 1
) ls ON true
LEFT JOIN LATERAL (
	SELECT x.reserve, x.grace_until, x.block_number, x.log_index FROM ev_balance_charge_failed x
	WHERE x.chain_id = c.chain_id AND x.address = c.address AND x.instance_id = c.instance_id
	ORDER BY x.block_number DESC, x.log_index DESC LIMIT 1
) lf ON true
LEFT JOIN LATERAL (
	SELECT x.reason, x.refunded, x.block_number, x.log_index, x.tx_hash
	FROM ev_balance_instance_ended x
	WHERE x.chain_id = c.chain_id AND x.address = c.address AND x.instance_id = c.instance_id
	ORDER BY x.block_number DESC, x.log_index DESC LIMIT 1
) le ON true
LEFT JOIN LATERAL (
	SELECT sum(x.amount) AS charged, count(*) AS charges FROM ev_balance_charged x
	WHERE x.chain_id = c.chain_id AND x.address = c.address AND x.instance_id = c.instance_id
) sp ON true
CROSS JOIN LATERAL (
	SELECT v.reserve FROM (VALUES
		(c.block_number, c.log_index, c.reserve),
		(lc.block_number, lc.log_index, lc.reserve_after),
		(lr.block_number, lr.log_index, lr.reserve_after),
		(ls.block_number, ls.log_index, ls.reserve),
		(lf.block_number, lf.log_index, lf.reserve),
		(le.block_number, le.log_index, 0::numeric)) v (b, l, reserve)
	WHERE v.b IS NOT NULL ORDER BY v.b DESC, v.l DESC LIMIT 1
) res
CROSS JOIN LATERAL (
	SELECT v.status FROM (VALUES
		(c.block_number, c.log_index, 1::numeric),
		(lr.block_number, lr.log_index, 1::numeric),
		(ls.block_number, ls.log_index, 2::numeric),
		(le.block_number, le.log_index, le.reason)) v (b, l, status)
	WHERE v.b IS NOT NULL ORDER BY v.b DESC, v.l DESC LIMIT 1
) st
CROSS JOIN LATERAL (
	SELECT v.grace_until FROM (VALUES
		(c.block_number, c.log_index, 0::numeric),
		(lc.block_number, lc.log_index, 0::numeric),
		(lf.block_number, lf.log_index, lf.grace_until),
		(le.block_number, le.log_index, 0::numeric)) v (b, l, grace_until)
	WHERE v.b IS NOT NULL ORDER BY v.b DESC, v.l DESC LIMIT 1
) gr;
COMMENT ON VIEW balance_instance_state IS
	'Raw (bytea keys, numeric status): per instance reserve, paid_until, period, status '
	'(1 Active, 2 SmallBalance, 3 Stopped, 4 Terminated, 5 InsufficientFunds), grace_until '
	'(0: no failure pending), spent (day 0 + charges), creation and end. For joins and the '
	'relayer (charge ids as bytes).';

-- rw_instance_status: the name of a Balance instance status code.
CREATE FUNCTION rw_instance_status(code numeric) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE code WHEN 0 THEN 'None' WHEN 1 THEN 'Active' WHEN 2 THEN 'SmallBalance'
                 WHEN 3 THEN 'Stopped' WHEN 4 THEN 'Terminated' WHEN 5 THEN 'InsufficientFunds'
                 ELSE 'Unknown(' || code || ')' END;
COMMENT ON FUNCTION rw_instance_status(numeric) IS
	'Balance instance status code to name (0 None .. 5 InsufficientFunds).';

-- Balance contract: presentation --------------------------------------------

CREATE VIEW balance_instances AS
SELECT i.chain_id,
       rw_hex(i.contract) AS contract,
       rw_hex(i.instance_id) AS instance_id,
       rw_hex(i.account) AS account,
       rw_hex(i.provider) AS provider,
       t.symbol,
       i.price_per_day,
       rw_units(i.price_per_day, t.decimals) AS price_per_day_units,
       i.status AS status_code,
       rw_instance_status(i.status) AS status,
       i.live,
       i.reserve,
       rw_units(i.reserve, t.decimals) AS reserve_units,
       i.period,
       i.paid_until,
       rw_time(i.paid_until) AS paid_until_time,
       i.grace_until,
       rw_time(nullif(i.grace_until, 0)) AS grace_until_time,
       i.live AND i.paid_until <= h.head_timestamp AS due,
       i.live AND i.reserve < i.price_per_day AS needs_refill,
       i.spent,
       rw_units(i.spent, t.decimals) AS spent_units,
       i.periods_paid,
       i.created_block,
       rw_time(b.timestamp) AS created_time,
       rw_hex(i.created_tx) AS created_tx,
       i.ended_block,
       rw_hex(i.ended_tx) AS ended_tx,
       rw_instance_status(i.ended_reason) AS ended_reason,
       i.refunded,
       rw_units(i.refunded, t.decimals) AS refunded_units,
       i.last_block,
       coalesce(i.last_block <= h.safe_number, false) AS confirmed
FROM balance_instance_state i
LEFT JOIN balance_info bi ON bi.chain_id = i.chain_id AND bi.address = i.contract
LEFT JOIN token t ON t.chain_id = bi.chain_id AND t.address = bi.token
LEFT JOIN indexer_block b ON b.chain_id = i.chain_id AND b.hash = i.created_block_hash
LEFT JOIN chain_head h ON h.chain_id = i.chain_id;
COMMENT ON VIEW balance_instances IS
	'Per instance: account, provider, price per day, status (Active, SmallBalance, Stopped, '
	'Terminated, InsufficientFunds), reserve, period (last paid), paid_until, grace_until (0: '
	'none pending), due (live and paid_until <= chain time: charge() would pay), needs_refill, '
	'spent, creation and end (ended_reason, refunded reserve).';

CREATE VIEW balance_accounts AS
SELECT a.chain_id,
       rw_hex(a.contract) AS contract,
       rw_hex(a.account) AS account,
       t.symbol,
       a.balance,
       rw_units(a.balance, t.decimals) AS balance_units,
       r.reserves,
       rw_units(r.reserves, t.decimals) AS reserves_units,
       a.balance + r.reserves AS total_funds,
       rw_units(a.balance + r.reserves, t.decimals) AS total_funds_units,
       r.live_instances,
       dep.deposited,
       rw_units(dep.deposited, t.decimals) AS deposited_units,
       dep.tax,
       rw_units(dep.tax, t.decimals) AS tax_units,
       cr.credited,
       rw_units(cr.credited, t.decimals) AS credited_units,
       rf.refunded,
       rw_units(rf.refunded, t.decimals) AS refunded_units,
       r.spent,
       rw_units(r.spent, t.decimals) AS spent_units,
       greatest(a.last_block, r.last_block) AS last_block,
       coalesce(greatest(a.last_block, r.last_block) <= h.safe_number, false) AS confirmed
FROM balance_account_state a
CROSS JOIN LATERAL (
	SELECT coalesce(sum(i.reserve), 0) AS reserves,
	       count(*) FILTER (WHERE i.live) AS live_instances,
	       coalesce(sum(i.spent), 0) AS spent,
	       max(i.last_block) AS last_block
	FROM balance_instance_state i
	WHERE i.chain_id = a.chain_id AND i.contract = a.contract AND i.account = a.account
) r
CROSS JOIN LATERAL (
	SELECT coalesce(sum(x.amount), 0) AS deposited, coalesce(sum(x.tax), 0) AS tax
	FROM ev_balance_deposited x
	WHERE x.chain_id = a.chain_id AND x.address = a.contract AND x.account = a.account
) dep
CROSS JOIN LATERAL (
	SELECT coalesce(sum(x.amount), 0) AS credited FROM ev_balance_credited x
	WHERE x.chain_id = a.chain_id AND x.address = a.contract AND x.account = a.account
) cr
CROSS JOIN LATERAL (
	SELECT coalesce(sum(x.amount), 0) AS refunded FROM ev_balance_refunded x
	WHERE x.chain_id = a.chain_id AND x.address = a.contract AND x.account = a.account
) rf
LEFT JOIN balance_info bi ON bi.chain_id = a.chain_id AND bi.address = a.contract
LEFT JOIN token t ON t.chain_id = bi.chain_id AND t.address = bi.token
LEFT JOIN chain_head h ON h.chain_id = a.chain_id;
COMMENT ON VIEW balance_accounts IS
	'Per Balance contract and account: balance (latest balanceAfter), reserves of its instances, '
	'total_funds = balance + reserves, live instances, and totals deposited (tax beside it, paid '
	'to the treasury), credited, refunded, spent (day 0 + charges: what providers received).';

-- One line per money movement of an account (abi/README.md "Ledger lines").
-- amount is signed as the account sees it; balance_delta and reserve_delta
-- split it: the balance is the running sum of balance_delta, the reserves
-- the running sum of reserve_delta. A charge from the reserve leaves the
-- balance as it was: its balance_after is carried from the line before.
CREATE VIEW balance_ledger AS
SELECT w.chain_id,
       rw_hex(w.contract) AS contract,
       rw_hex(w.account) AS account,
       w.line_no,
       w.kind,
       rw_hex(w.instance_id) AS instance_id,
       w.period,
       rw_hex(w.counterparty) AS counterparty,
       rw_hex(w.ref) AS ref,
       t.symbol,
       w.amount,
       rw_units(w.amount, t.decimals) AS amount_units,
       w.balance_delta,
       w.reserve_delta,
       w.balance_after,
       rw_units(w.balance_after, t.decimals) AS balance_after_units,
       w.reserve_after,
       w.tax,
       rw_units(w.tax, t.decimals) AS tax_units,
       w.block_number,
       rw_time(b.timestamp) AS block_time,
       rw_hex(w.tx_hash) AS tx_hash,
       w.log_index,
       coalesce(w.block_number <= h.safe_number, false) AS confirmed
-- The windows work on the raw columns, partitioned by account, so a filter
-- on account (or contract) is applied before them, inside every branch.
FROM (SELECT g.*,
             row_number() OVER (PARTITION BY g.chain_id, g.contract, g.account
                                ORDER BY g.block_number, g.log_index, g.sub) AS line_no,
             coalesce(g.own_balance_after,
                      max(g.own_balance_after) OVER (PARTITION BY g.chain_id, g.contract, g.account,
                                                                  g.grp)) AS balance_after
      FROM (SELECT l.*,
                   count(l.own_balance_after) OVER (PARTITION BY l.chain_id, l.contract, l.account
                                                    ORDER BY l.block_number, l.log_index, l.sub) AS grp
            FROM (SELECT chain_id, address AS contract, account, block_number, log_index, 0 AS sub,
                         block_hash, tx_hash, 'deposit' AS kind, NULL::bytea AS instance_id,
                         NULL::numeric AS period, payer AS counterparty, ref,
                         amount, amount AS balance_delta, 0::numeric AS reserve_delta,
                         balance_after AS own_balance_after, NULL::numeric AS reserve_after, tax
                  FROM ev_balance_deposited
                  UNION ALL
                  SELECT chain_id, address, account, block_number, log_index, 0,
                         block_hash, tx_hash, 'credit', NULL, NULL, operator, ref,
                         amount, amount, 0, balance_after, NULL, NULL
                  FROM ev_balance_credited
                  UNION ALL
                  SELECT chain_id, address, account, block_number, log_index, 0,
                         block_hash, tx_hash, 'refund', NULL, NULL, to_address, ref,
                         -amount, -amount, 0, balance_after, NULL, NULL
                  FROM ev_balance_refunded
                  UNION ALL
                  SELECT chain_id, address, account, block_number, log_index, 0,
                         block_hash, tx_hash, 'charge', instance_id, 0, provider, NULL,
                         -paid, -paid, 0, balance_after + reserve, NULL, NULL
                  FROM ev_balance_instance_created
                  UNION ALL
                  SELECT chain_id, address, account, block_number, log_index, 1,
                         block_hash, tx_hash, 'reserve_hold', instance_id, NULL, NULL, NULL,
                         -reserve, -reserve, reserve, balance_after, reserve, NULL
                  FROM ev_balance_instance_created
                  UNION ALL
                  SELECT chain_id, address, account, block_number, log_index, 0,
                         block_hash, tx_hash, 'charge', instance_id, period, provider, NULL,
                         -amount, 0, -amount, NULL, reserve_after, NULL
                  FROM ev_balance_charged
                  UNION ALL
                  SELECT chain_id, address, account, block_number, log_index, 0,
                         block_hash, tx_hash, 'reserve_refill', instance_id, NULL, NULL, NULL,
                         -amount, -amount, amount, balance_after, reserve_after, NULL
                  FROM ev_balance_reserve_refilled
                  UNION ALL
                  SELECT chain_id, address, account, block_number, log_index, 0,
                         block_hash, tx_hash, 'reserve_return', instance_id, NULL, NULL, NULL,
                         refunded, refunded, -refunded, balance_after, 0, NULL
                  FROM ev_balance_instance_ended) l) g) w
LEFT JOIN balance_info bi ON bi.chain_id = w.chain_id AND bi.address = w.contract
LEFT JOIN token t ON t.chain_id = bi.chain_id AND t.address = bi.token
LEFT JOIN indexer_block b ON b.chain_id = w.chain_id AND b.hash = w.block_hash
LEFT JOIN chain_head h ON h.chain_id = w.chain_id;
COMMENT ON VIEW balance_ledger IS
	'One line per money movement of an account, in chain order (line_no): deposit (+, tax beside '
	'it, ref = payment session), credit (+), refund (-), charge (period 0 from the balance at '
	'creation, later periods from the reserve), reserve_hold, reserve_refill (balance to '
	'reserve), reserve_return (reserve back at the end). amount signed as the account sees it; '
	'balance_delta / reserve_delta split it; balance_after on every line.';

CREATE VIEW balance_instance_charges AS
SELECT c.chain_id,
       rw_hex(c.address) AS contract,
       rw_hex(c.instance_id) AS instance_id,
       rw_hex(c.account) AS account,
       rw_hex(c.provider) AS provider,
       c.period,
       t.symbol,
       c.amount,
       rw_units(c.amount, t.decimals) AS amount_units,
       c.reserve_after,
       c.paid_until,
       rw_time(c.paid_until) AS paid_until_time,
       c.event,
       c.block_number,
       rw_time(b.timestamp) AS block_time,
       rw_hex(c.tx_hash) AS tx_hash,
       c.log_index,
       coalesce(c.block_number <= h.safe_number, false) AS confirmed
FROM (SELECT chain_id, address, instance_id, account, provider, 0::numeric AS period,
             paid AS amount, reserve AS reserve_after, paid_until, 'InstanceCreated' AS event,
             block_number, block_hash, tx_hash, log_index
      FROM ev_balance_instance_created
      UNION ALL
      SELECT chain_id, address, instance_id, account, provider, period,
             amount, reserve_after, paid_until, 'Charged',
             block_number, block_hash, tx_hash, log_index
      FROM ev_balance_charged) c
LEFT JOIN balance_info bi ON bi.chain_id = c.chain_id AND bi.address = c.address
LEFT JOIN token t ON t.chain_id = bi.chain_id AND t.address = bi.token
LEFT JOIN indexer_block b ON b.chain_id = c.chain_id AND b.hash = c.block_hash
LEFT JOIN chain_head h ON h.chain_id = c.chain_id;
COMMENT ON VIEW balance_instance_charges IS
	'One row per paid period: period 0 from InstanceCreated (paid from the balance), then one '
	'per Charged (paid from the reserve). amount went to the provider.';

CREATE VIEW balance_charge_failures AS
SELECT f.chain_id,
       rw_hex(f.address) AS contract,
       rw_hex(f.instance_id) AS instance_id,
       rw_hex(f.account) AS account,
       f.period,
       f.reserve,
       f.grace_until,
       rw_time(f.grace_until) AS grace_until_time,
       CASE WHEN pc.block_number IS NOT NULL AND (pe.block_number IS NULL OR
                 (pc.block_number, pc.log_index) < (pe.block_number, pe.log_index)) THEN 'charged'
            WHEN pe.block_number IS NOT NULL THEN 'ended'
            END AS resolution,
       f.block_number,
       rw_time(b.timestamp) AS block_time,
       rw_hex(f.tx_hash) AS tx_hash,
       f.log_index,
       coalesce(f.block_number <= h.safe_number, false) AS confirmed
FROM ev_balance_charge_failed f
LEFT JOIN LATERAL (
	SELECT x.block_number, x.log_index FROM ev_balance_charged x
	WHERE x.chain_id = f.chain_id AND x.address = f.address AND x.instance_id = f.instance_id
	  AND x.block_number >= f.block_number
	  AND (x.block_number, x.log_index) > (f.block_number, f.log_index)
	ORDER BY x.block_number, x.log_index LIMIT 1
) pc ON true
LEFT JOIN LATERAL (
	SELECT x.block_number, x.log_index FROM ev_balance_instance_ended x
	WHERE x.chain_id = f.chain_id AND x.address = f.address AND x.instance_id = f.instance_id
	  AND x.block_number >= f.block_number
	  AND (x.block_number, x.log_index) > (f.block_number, f.log_index)
	ORDER BY x.block_number, x.log_index LIMIT 1
) pe ON true
LEFT JOIN indexer_block b ON b.chain_id = f.chain_id AND b.hash = f.block_hash
LEFT JOIN chain_head h ON h.chain_id = f.chain_id;
COMMENT ON VIEW balance_charge_failures IS
	'One row per ChargeFailed: the unpaid period, grace_until (the instance ends as '
	'InsufficientFunds at the first charge at or after it), and resolution: charged (money '
	'arrived, the period was paid), ended, or NULL (pending).';

CREATE VIEW balance_operators AS
SELECT o.chain_id,
       rw_hex(o.address) AS contract,
       rw_hex(o.operator) AS operator,
       o.enabled,
       o.block_number,
       rw_hex(o.tx_hash) AS tx_hash,
       coalesce(o.block_number <= h.safe_number, false) AS confirmed
FROM (SELECT DISTINCT ON (chain_id, address, operator) *
      FROM ev_balance_operator_set
      ORDER BY chain_id DESC, address DESC, operator DESC, block_number DESC, log_index DESC) o
LEFT JOIN chain_head h ON h.chain_id = o.chain_id;
COMMENT ON VIEW balance_operators IS
	'Per Balance contract and address: operator status from the latest OperatorSet.';

-- Per Balance contract (its indexer_source): totals and the invariant
-- sum(balances) + sum(reserves) <= token.balanceOf(contract), the token
-- holding summed from indexed transfers (complete only when the token is
-- indexed for the contract's address since its deployment).
CREATE VIEW balance_contracts AS
SELECT s.chain_id,
       rw_hex(s.address) AS contract,
       rw_hex(bi.token) AS token,
       t.symbol,
       ab.accounts,
       ab.total_balances,
       rw_units(ab.total_balances, t.decimals) AS total_balances_units,
       ir.total_reserves,
       rw_units(ir.total_reserves, t.decimals) AS total_reserves_units,
       ir.live_instances,
       th.token_held,
       rw_units(th.token_held, t.decimals) AS token_held_units,
       th.token_held - ab.total_balances - ir.total_reserves AS surplus,
       coalesce(ps.paused, false) AS paused,
       rw_hex(tr.treasury) AS treasury,
       rw_hex(ow.new_owner) AS owner,
       h.safe_number IS NOT NULL
           AND coalesce(greatest(ab.last_block, ir.last_block, ps.block_number, tr.block_number,
                                 ow.block_number) <= h.safe_number, true) AS confirmed
FROM indexer_source s
LEFT JOIN balance_info bi ON bi.chain_id = s.chain_id AND bi.address = s.address
LEFT JOIN token t ON t.chain_id = bi.chain_id AND t.address = bi.token
CROSS JOIN LATERAL (
	SELECT count(*) AS accounts, coalesce(sum(a.balance), 0) AS total_balances,
	       max(a.last_block) AS last_block
	FROM balance_account_state a
	WHERE a.chain_id = s.chain_id AND a.contract = s.address
) ab
CROSS JOIN LATERAL (
	SELECT coalesce(sum(i.reserve), 0) AS total_reserves,
	       count(*) FILTER (WHERE i.live) AS live_instances,
	       max(i.last_block) AS last_block
	FROM balance_instance_state i
	WHERE i.chain_id = s.chain_id AND i.contract = s.address
) ir
LEFT JOIN LATERAL (
	SELECT (SELECT coalesce(sum(x.value), 0) FROM ev_erc20_transfer x
	        WHERE x.chain_id = s.chain_id AND x.address = bi.token AND x.to_address = s.address)
	     - (SELECT coalesce(sum(x.value), 0) FROM ev_erc20_transfer x
	        WHERE x.chain_id = s.chain_id AND x.address = bi.token AND x.from_address = s.address)
	       AS token_held
	WHERE bi.token IS NOT NULL
) th ON true
LEFT JOIN LATERAL (
	SELECT u.paused, u.block_number FROM (
		(SELECT true AS paused, x.block_number, x.log_index FROM ev_balance_paused x
		 WHERE x.chain_id = s.chain_id AND x.address = s.address
		 ORDER BY x.block_number DESC, x.log_index DESC LIMIT 1)
		UNION ALL
		(SELECT false, x.block_number, x.log_index FROM ev_balance_unpaused x
		 WHERE x.chain_id = s.chain_id AND x.address = s.address
		 ORDER BY x.block_number DESC, x.log_index DESC LIMIT 1)) u
	ORDER BY u.block_number DESC, u.log_index DESC LIMIT 1
) ps ON true
LEFT JOIN LATERAL (
	SELECT x.treasury, x.block_number FROM ev_balance_treasury_set x
	WHERE x.chain_id = s.chain_id AND x.address = s.address
	ORDER BY x.block_number DESC, x.log_index DESC LIMIT 1
) tr ON true
LEFT JOIN LATERAL (
	SELECT x.new_owner, x.block_number FROM ev_balance_ownership_transferred x
	WHERE x.chain_id = s.chain_id AND x.address = s.address
	ORDER BY x.block_number DESC, x.log_index DESC LIMIT 1
) ow ON true
LEFT JOIN chain_head h ON h.chain_id = s.chain_id
WHERE s.kind = 'Balance';
COMMENT ON VIEW balance_contracts IS
	'Per Balance contract (indexer_source kind Balance): accounts, total_balances, '
	'total_reserves, live instances, token_held (sum of indexed transfers in - out), surplus = '
	'token_held - balances - reserves (>= 0 when the token is fully indexed for the contract: '
	'tokens sent directly belong to nobody), paused, treasury, owner.';
