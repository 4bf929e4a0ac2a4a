-- 0021_dashboards: the views dashboards and accountants read, and the
-- read-only role runway_reader that may read them and nothing else.
--
-- Owns:
--   views  app_runway, account_balance, instance_billing, charge_history,
--          topup_sessions, topup_flags
--   role   runway_reader (NOLOGIN; grant it to a login role)
--
-- Each view builds on the derived views of 0003 and the session state of
-- 0020 (app_runways, app_funding, balance_accounts, balance_instances,
-- balance_instance_charges, balance_charge_failures, topup_session_state)
-- and adds what a dashboard shows; it re-derives nothing from events.
-- Conventions as in 0003: addresses, hashes and refs as 0x-hex; amounts in
-- base units (numeric) with a *_units column beside them (exact decimal
-- text, NULL when the token is unknown); unix times with a *_time
-- timestamptz; a boolean confirmed column; chain time for billing, wall
-- clock for top-up sessions.
--
-- relayer_health (queue depth, oldest pending, gas balance) is not here:
-- it belongs with the relayer's tables (0010) and is added with them.
--
-- runway_reader: USAGE on schema public and SELECT on exactly these views.
-- The views read their tables with their owner's rights, so the role needs
-- no right on any table; the functions they call (rw_hex, rw_units,
-- rw_time, rw_instance_status) are pure and executable by everyone. It can
-- call none of the rw_topup_* functions (0020 revokes them from PUBLIC).
-- No default privileges are granted: a view added later is not readable
-- until a migration grants it.
--
-- Example queries (README.md, "Dashboards", has one per view):
--   SELECT application, until_time, time_left, cost_per_day_units, funded_by
--   FROM app_runway WHERE status = 'active' ORDER BY until_time;

-- Prepaid runway ----------------------------------------------------------------

CREATE VIEW app_runway AS
SELECT r.chain_id,
       r.provider,
       r.application,
       r.owner,
       r.location,
       r.token,
       r.symbol,
       r.payee,
       r.status,
       r.runway_until AS until,
       r.until_time,
       r.seconds_left,
       CASE WHEN r.seconds_left <= 31536000000
            THEN make_interval(secs => r.seconds_left::double precision) END AS time_left,
       trunc(r.seconds_left / 86400.0, 2) AS days_left,
       r.price,
       rw_units(r.price, t.decimals) AS price_units,
       r.price * 86400 AS cost_per_day,
       rw_units(r.price * 86400, t.decimals) AS cost_per_day_units,
       f.funded_by,
       f.last_amount AS last_funding,
       rw_units(f.last_amount, t.decimals) AS last_funding_units,
       f.last_time AS last_funded_time,
       coalesce(f.extensions, 0) AS extensions,
       coalesce(f.funded_total, 0) AS funded_total,
       rw_units(coalesce(f.funded_total, 0), t.decimals) AS funded_total_units,
       coalesce(f.funders, '{}') AS funders,
       r.provider_paused,
       r.confirmed
FROM app_runways r
LEFT JOIN token t ON t.chain_id = r.chain_id AND rw_hex(t.address) = r.token
LEFT JOIN (
	SELECT x.chain_id, x.provider, x.application,
	       (array_agg(x.payer ORDER BY x.block_number DESC, x.log_index DESC))[1] AS funded_by,
	       (array_agg(x.amount ORDER BY x.block_number DESC, x.log_index DESC))[1] AS last_amount,
	       max(x.block_time) AS last_time,
	       count(*) AS extensions,
	       sum(x.amount) AS funded_total,
	       array_agg(DISTINCT x.payer) FILTER (WHERE x.payer IS NOT NULL) AS funders
	FROM app_funding x
	GROUP BY x.chain_id, x.provider, x.application
) f ON f.chain_id = r.chain_id AND f.provider = r.provider AND f.application = r.application;
COMMENT ON VIEW app_runway IS
	'Per application (prepaid runway): until, time left against chain time, status (active, '
	'lapsed, never funded), cost per day (price x 86400) and who funded it (latest payer, every '
	'payer, total paid). Builds on app_runways and app_funding.';
COMMENT ON COLUMN app_runway.until IS 'Paid-until unix time (latest FinancialRunway; 0 never funded).';
COMMENT ON COLUMN app_runway.time_left IS 'until - chain time, as an interval (NULL past 1000 years).';
COMMENT ON COLUMN app_runway.days_left IS 'seconds_left / 86400, truncated to 2 decimals.';
COMMENT ON COLUMN app_runway.price IS 'Provider price, base units per second.';
COMMENT ON COLUMN app_runway.cost_per_day IS 'price x 86400 base units.';
COMMENT ON COLUMN app_runway.funded_by IS 'Payer of the latest extension (NULL when its transfer is not indexed).';
COMMENT ON COLUMN app_runway.funders IS 'Every payer of an indexed extension.';
COMMENT ON COLUMN app_runway.funded_total IS 'Sum of the indexed extension payments.';

-- Balance contract ---------------------------------------------------------------

CREATE VIEW account_balance AS
SELECT k.chain_id,
       rw_hex(k.contract) AS contract,
       rw_hex(k.account) AS account,
       t.symbol,
       coalesce(a.balance, 0) AS balance,
       rw_units(coalesce(a.balance, 0), t.decimals) AS balance_units,
       coalesce(a.reserves, 0) AS reserved,
       rw_units(coalesce(a.reserves, 0), t.decimals) AS reserved_units,
       coalesce(a.total_funds, 0) AS total_funds,
       rw_units(coalesce(a.total_funds, 0), t.decimals) AS total_funds_units,
       coalesce(p.pending, 0) AS pending_topups,
       rw_units(coalesce(p.pending, 0), t.decimals) AS pending_topups_units,
       coalesce(p.sessions, 0) AS pending_sessions,
       coalesce(a.live_instances, 0) AS live_instances,
       coalesce(b.burn, 0) AS burn_per_day,
       rw_units(coalesce(b.burn, 0), t.decimals) AS burn_per_day_units,
       CASE WHEN b.burn > 0 THEN trunc(coalesce(a.balance, 0) / b.burn, 2) END AS days_of_runway,
       a.last_block,
       coalesce(a.confirmed, h.safe_number IS NOT NULL) AS confirmed
FROM (SELECT chain_id, contract, account FROM balance_account_state
      UNION
      SELECT chain_id, contract, account FROM topup_session) k
LEFT JOIN balance_accounts a ON a.chain_id = k.chain_id AND a.contract = rw_hex(k.contract)
                            AND a.account = rw_hex(k.account)
LEFT JOIN (
	SELECT i.chain_id, i.contract, i.account, sum(i.price_per_day) AS burn
	FROM balance_instance_state i WHERE i.live
	GROUP BY i.chain_id, i.contract, i.account
) b ON b.chain_id = k.chain_id AND b.contract = k.contract AND b.account = k.account
LEFT JOIN (
	SELECT s.chain_id, s.contract, s.account, sum(s.pending_amount) AS pending,
	       count(*) FILTER (WHERE s.effective_status IN ('Pending', 'Confirming')) AS sessions
	FROM topup_session_state s
	GROUP BY s.chain_id, s.contract, s.account
) p ON p.chain_id = k.chain_id AND p.contract = k.contract AND p.account = k.account
LEFT JOIN balance_info bi ON bi.chain_id = k.chain_id AND bi.address = k.contract
LEFT JOIN token t ON t.chain_id = bi.chain_id AND t.address = bi.token
LEFT JOIN chain_head h ON h.chain_id = k.chain_id;
COMMENT ON VIEW account_balance IS
	'Per Balance contract and account (with events or top-up sessions): balance, reserved in '
	'instances, pending top-ups, burn per day of live instances and days of runway at that burn. '
	'Builds on balance_accounts, balance_instance_state and topup_session_state.';
COMMENT ON COLUMN account_balance.balance IS 'Balance (latest balanceAfter, unconfirmed included).';
COMMENT ON COLUMN account_balance.reserved IS 'Sum of the reserves of the account''s instances (one day each).';
COMMENT ON COLUMN account_balance.pending_topups IS
	'What top-up sessions will still add: Pending sessions'' deposit and promotional credit, and '
	'the promotional credit of confirming or completed ones not yet credited.';
COMMENT ON COLUMN account_balance.pending_sessions IS 'Sessions Pending or Confirming (at most one).';
COMMENT ON COLUMN account_balance.burn_per_day IS 'Sum of price_per_day of live (Active, SmallBalance) instances.';
COMMENT ON COLUMN account_balance.days_of_runway IS
	'balance / burn_per_day, truncated to 2 decimals: days of reserve refills the balance pays '
	'(each reserve already holds one more day). NULL when nothing burns.';

CREATE VIEW instance_billing AS
SELECT i.chain_id,
       i.contract,
       i.instance_id,
       i.account,
       i.provider,
       i.symbol,
       i.status,
       i.live,
       i.price_per_day,
       i.price_per_day_units,
       i.reserve,
       i.reserve_units,
       i.paid_until,
       i.paid_until_time,
       CASE WHEN i.live THEN i.paid_until END AS next_charge,
       CASE WHEN i.live THEN i.paid_until_time END AS next_charge_time,
       CASE WHEN i.live THEN i.price_per_day END AS next_charge_amount,
       CASE WHEN i.live THEN i.price_per_day_units END AS next_charge_amount_units,
       i.due,
       i.needs_refill,
       i.grace_until,
       i.grace_until_time,
       i.periods_paid AS charges,
       i.spent AS charged,
       i.spent_units AS charged_units,
       coalesce(i.refunded, 0) AS refunded,
       coalesce(i.refunded_units, rw_units(0, t.decimals)) AS refunded_units,
       i.created_time,
       i.ended_reason,
       i.confirmed
FROM balance_instances i
LEFT JOIN balance_info bi ON bi.chain_id = i.chain_id AND rw_hex(bi.address) = i.contract
LEFT JOIN token t ON t.chain_id = bi.chain_id AND t.address = bi.token;
COMMENT ON VIEW instance_billing IS
	'Per instance: status, price per day, reserve, paid until, next charge (when the next '
	'period begins and what it costs; live instances only), charges so far (periods paid, '
	'amount), reserve refunded at the end. Builds on balance_instances.';
COMMENT ON COLUMN instance_billing.next_charge IS
	'Unix time the next period begins and charge() pays it (= paid_until); NULL once ended.';
COMMENT ON COLUMN instance_billing.due IS 'paid_until <= chain time: charge() would pay now.';
COMMENT ON COLUMN instance_billing.charges IS 'Periods paid, day 0 included.';
COMMENT ON COLUMN instance_billing.charged IS 'Paid to the provider so far (day 0 + charges).';
COMMENT ON COLUMN instance_billing.refunded IS 'Reserve returned to the balance when it ended (0 while live).';

CREATE VIEW charge_history AS
SELECT c.chain_id,
       c.contract,
       c.instance_id,
       c.account,
       c.provider,
       c.period,
       'paid' AS outcome,
       c.symbol,
       c.amount,
       c.amount_units,
       c.paid_until - 86400 AS period_start,
       rw_time(c.paid_until - 86400) AS period_start_time,
       c.paid_until AS period_end,
       c.paid_until_time AS period_end_time,
       c.reserve_after,
       NULL::numeric AS grace_until,
       NULL::timestamptz AS grace_until_time,
       NULL::text AS resolution,
       c.event,
       c.block_number,
       c.block_time,
       c.tx_hash,
       c.log_index,
       c.confirmed
FROM balance_instance_charges c
UNION ALL
SELECT f.chain_id,
       f.contract,
       f.instance_id,
       f.account,
       i.provider,
       f.period,
       'failed',
       i.symbol,
       NULL,
       NULL,
       NULL,
       NULL,
       NULL,
       NULL,
       f.reserve,
       f.grace_until,
       f.grace_until_time,
       f.resolution,
       'ChargeFailed',
       f.block_number,
       f.block_time,
       f.tx_hash,
       f.log_index,
       f.confirmed
FROM balance_charge_failures f
LEFT JOIN balance_instances i ON i.chain_id = f.chain_id AND i.contract = f.contract
                             AND i.instance_id = f.instance_id;
COMMENT ON VIEW charge_history IS
	'Every charge of every instance: outcome paid (period 0 at InstanceCreated, later periods '
	'by Charged, amount to the provider, the period it covers) or failed (ChargeFailed: nothing '
	'paid, grace_until, resolution charged / ended / NULL pending). Builds on '
	'balance_instance_charges and balance_charge_failures.';
COMMENT ON COLUMN charge_history.outcome IS 'paid or failed.';
COMMENT ON COLUMN charge_history.period_start IS 'Unix time the paid period began (period_end - 1 day).';
COMMENT ON COLUMN charge_history.period_end IS 'paidUntil after the charge: the end of the paid period.';
COMMENT ON COLUMN charge_history.resolution IS
	'Failed charges: charged (money arrived, the period was paid), ended, or NULL (pending).';

-- Top-up sessions ----------------------------------------------------------------

CREATE VIEW topup_sessions AS
SELECT s.chain_id,
       rw_hex(s.contract) AS contract,
       rw_hex(s.account) AS account,
       rw_hex(s.ref) AS ref,
       s.effective_status AS status,
       s.status AS stored_status,
       t.symbol,
       s.amount,
       rw_units(s.amount, t.decimals) AS amount_units,
       s.discount,
       rw_units(s.discount, t.decimals) AS discount_units,
       s.deposit_amount,
       rw_units(s.deposit_amount, t.decimals) AS deposit_amount_units,
       s.tax_rate_bp,
       s.tax,
       rw_units(s.tax, t.decimals) AS tax_units,
       s.total,
       rw_units(s.total, t.decimals) AS total_units,
       s.bonus,
       rw_units(s.bonus, t.decimals) AS bonus_units,
       s.promo_credit,
       rw_units(s.promo_credit, t.decimals) AS promo_credit_units,
       s.promo_credited,
       s.pending_amount,
       s.code,
       s.region,
       s.created_at,
       s.expires_at,
       CASE WHEN s.effective_status = 'Pending' THEN s.expires_at - now() END AS time_left,
       s.completed_at,
       s.cancelled_at,
       s.expired_at,
       s.d_block_number AS deposit_block,
       rw_time(s.d_block_time) AS deposit_time,
       rw_hex(s.d_tx_hash) AS deposit_tx,
       rw_hex(s.d_payer) AS deposit_payer,
       s.d_amount AS deposit_seen_amount,
       s.d_tax AS deposit_seen_tax,
       s.deposit_matches,
       s.deposit_confirmed,
       coalesce(fl.kinds, '{}') AS flags,
       coalesce(fl.open, 0) AS open_flags,
       s.confirmed
FROM topup_session_state s
LEFT JOIN balance_info bi ON bi.chain_id = s.chain_id AND bi.address = s.contract
LEFT JOIN token t ON t.chain_id = bi.chain_id AND t.address = bi.token
LEFT JOIN LATERAL (
	SELECT array_agg(f.kind ORDER BY f.id) AS kinds,
	       count(*) FILTER (WHERE f.resolved_at IS NULL) AS open
	FROM topup_flag f WHERE f.session_ref = s.ref
) fl ON true;
COMMENT ON VIEW topup_sessions IS
	'Top-up sessions with status as a customer sees it (Pending, Confirming: deposit on chain, '
	'not yet confirmed; Completed, Cancelled, Expired: expiry applied live), the quoted amounts, '
	'deposit() arguments (deposit_amount, tax, ref), time left, the deposit seen and support flags.';
COMMENT ON COLUMN topup_sessions.status IS
	'Pending, Confirming, Completed, Cancelled or Expired (live; stored_status is the table''s).';
COMMENT ON COLUMN topup_sessions.deposit_amount IS 'deposit()''s amount argument: amount - discount.';
COMMENT ON COLUMN topup_sessions.total IS 'What the payer pays: deposit_amount + tax.';
COMMENT ON COLUMN topup_sessions.promo_credit IS
	'Credited by the operator once completed (discount + bonus); promo_credited when indexed.';
COMMENT ON COLUMN topup_sessions.time_left IS 'Until expiry, while Pending (wall clock).';
COMMENT ON COLUMN topup_sessions.deposit_tx IS
	'The deposit shown: the one that completed it, else the first with its ref (matching first).';
COMMENT ON COLUMN topup_sessions.deposit_matches IS 'That deposit has the session''s account, amount and tax.';
COMMENT ON COLUMN topup_sessions.flags IS 'Kinds of the support flags raised on this session''s ref.';

CREATE VIEW topup_flags AS
SELECT f.id,
       f.kind,
       f.chain_id,
       rw_hex(f.contract) AS contract,
       rw_hex(f.account) AS account,
       rw_hex(f.payer) AS payer,
       rw_hex(f.ref) AS ref,
       rw_hex(f.session_ref) AS session_ref,
       t.symbol,
       f.amount,
       rw_units(f.amount, t.decimals) AS amount_units,
       f.tax,
       rw_units(f.tax, t.decimals) AS tax_units,
       f.expected_amount,
       rw_units(f.expected_amount, t.decimals) AS expected_amount_units,
       f.expected_tax,
       rw_units(f.expected_tax, t.decimals) AS expected_tax_units,
       f.detail,
       f.block_number,
       rw_time(b.timestamp) AS block_time,
       rw_hex(f.tx_hash) AS tx_hash,
       f.log_index,
       f.flagged_at,
       f.resolved_at IS NOT NULL AS resolved,
       f.resolved_at,
       f.resolved_by,
       f.resolution,
       coalesce(f.block_number <= h.safe_number, false) AS confirmed
FROM topup_flag f
LEFT JOIN balance_info bi ON bi.chain_id = f.chain_id AND bi.address = f.contract
LEFT JOIN token t ON t.chain_id = bi.chain_id AND t.address = bi.token
LEFT JOIN indexer_block b ON b.chain_id = f.chain_id AND b.hash = f.block_hash
LEFT JOIN chain_head h ON h.chain_id = f.chain_id;
COMMENT ON VIEW topup_flags IS
	'Deposits for support: without a session, for another account, with another amount or tax, '
	'after the session was cancelled or expired, or a second one for a completed session. The '
	'money is credited on chain in every case; resolved once support closed it '
	'(rw_topup_flag_resolve).';
COMMENT ON COLUMN topup_flags.kind IS
	'deposit_without_session, account_mismatch, amount_mismatch, deposit_after_cancel, '
	'deposit_after_expiry or duplicate_deposit.';

-- The read-only role ---------------------------------------------------------------

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'runway_reader') THEN
		CREATE ROLE runway_reader NOLOGIN;
	END IF;
END
$$;
COMMENT ON ROLE runway_reader IS
	'Read-only dashboards: SELECT on app_runway, account_balance, instance_billing, charge_history, '
	'topup_sessions, topup_flags and nothing else (GRANT runway_reader TO a login role).';
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM runway_reader;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM runway_reader;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM runway_reader;
GRANT USAGE ON SCHEMA public TO runway_reader;
GRANT SELECT ON app_runway, account_balance, instance_billing, charge_history, topup_sessions,
	topup_flags TO runway_reader;
