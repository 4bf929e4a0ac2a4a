-- test_topup: top-up sessions (migrations/0020_topup.sql): quotes (minimum,
-- cap including pending, tax by region, promo codes), one Pending session per
-- account, cancel, expiry, and reconciliation with Deposited events
-- (confirming, completion on confirmation, support flags, idempotence,
-- reorgs).
--
-- Chain 1, head 100 with 10 confirmations (safe 90); Balance B (0x600) on
-- USDC (0x610, 6 decimals): minimum 10, cap 5000. Accounts K1..K12 are
-- 0x701..0x70c. Every statement of a file runs in one transaction, so now()
-- is one instant: expiry is tested by moving created_at / expires_at back.
CREATE TEMP TABLE k (name text PRIMARY KEY, v bytea);
INSERT INTO k VALUES ('b', rwt.addr(1536)), ('b2', rwt.addr(1537)), ('usdc', rwt.addr(1552)),
	('op', rwt.addr(1800)), ('payer', rwt.addr(1801));
INSERT INTO k SELECT 'k' || i, rwt.addr(1792 + i) FROM generate_series(1, 12) i;
CREATE FUNCTION pg_temp.a(n text) RETURNS bytea LANGUAGE sql STABLE
RETURN (SELECT v FROM k WHERE name = n);
-- USDC to base units
CREATE FUNCTION pg_temp.u(n numeric) RETURNS numeric LANGUAGE sql IMMUTABLE RETURN n * 1000000;
CREATE FUNCTION pg_temp.quote(acct text, amount numeric, code text DEFAULT NULL,
                              region text DEFAULT NULL) RETURNS topup_quote
LANGUAGE sql RETURN rw_topup_quote(1, pg_temp.a('b'), pg_temp.a(acct), amount, code, region);
CREATE FUNCTION pg_temp.create(acct text, amount numeric, code text DEFAULT NULL,
                               region text DEFAULT NULL, ref bytea DEFAULT NULL) RETURNS bytea
LANGUAGE sql RETURN (rw_topup_create(1, pg_temp.a('b'), pg_temp.a(acct), amount, code, region, ref)).ref;
-- A Deposited event on B.
CREATE FUNCTION pg_temp.dep(block bigint, log int, tx int, acct text, amount numeric, tax numeric,
                            ref bytea, after numeric) RETURNS void
LANGUAGE sql RETURN rwt.emit('ev_balance_deposited', block, log, tx, pg_temp.a('b'),
	jsonb_build_object('account', pg_temp.a(acct), 'payer', pg_temp.a('payer'), 'amount', amount,
	                   'tax', tax, 'ref', ref, 'balance_after', after));
CREATE FUNCTION pg_temp.st(r bytea) RETURNS text LANGUAGE sql STABLE
RETURN (SELECT effective_status || '/' || status FROM topup_session_state WHERE ref = r);
CREATE FUNCTION pg_temp.rec() RETURNS text LANGUAGE sql
RETURN (SELECT completed || ' ' || flagged || ' ' || expired || ' ' || waiting FROM rw_topup_reconcile(1));
-- Refs of the sessions the test makes, by name.
CREATE TEMP TABLE sess (name text PRIMARY KEY, ref bytea);
CREATE FUNCTION pg_temp.s(n text) RETURNS bytea LANGUAGE sql STABLE
RETURN (SELECT ref FROM sess WHERE name = n);

DO $$
BEGIN
	PERFORM rwt.block(1, 0);
	INSERT INTO token (chain_id, address, symbol, decimals) VALUES (1, pg_temp.a('usdc'), 'USDC', 6);
	INSERT INTO indexer_source (chain_id, address, kind, start_block, config_name)
	VALUES (1, pg_temp.a('b'), 'Balance', 1, 'balance');
	INSERT INTO balance_info (chain_id, address, token, min_deposit, max_balance, grace_period)
	VALUES (1, pg_temp.a('b'), pg_temp.a('usdc'), 10000000, 5000000000, 86400),
	       (1, pg_temp.a('b2'), pg_temp.a('usdc'), NULL, NULL, NULL);
	INSERT INTO tax_rate (region, rate_bp) VALUES ('DE', 1900), ('US', 500), ('US-CA', 725);
	INSERT INTO promo_code (code, kind, rate_bp, max_uses, max_per_account, valid_from, expires_at, disabled)
	VALUES ('TENOFF', 'discount', 1000, NULL, 1, NULL, NULL, false),
	       ('BONUS5', 'bonus', 500, 1, 1, NULL, NULL, false),
	       ('BIG', 'bonus', 1000, NULL, NULL, NULL, NULL, false),
	       ('HALF', 'discount', 5000, NULL, NULL, NULL, NULL, false),
	       ('OLD', 'bonus', 1000, NULL, 1, now() - interval '30 days', now() - interval '1 day', false),
	       ('LATER', 'bonus', 1000, NULL, 1, now() + interval '1 day', NULL, false),
	       ('OFF', 'bonus', 1000, NULL, 1, NULL, NULL, true);
	-- K1 holds 4000, K9 4990 (operator credits: no deposit to reconcile)
	PERFORM rwt.emit('ev_balance_credited', 5, 0, 1, pg_temp.a('b'), jsonb_build_object(
		'account', pg_temp.a('k1'), 'operator', pg_temp.a('op'), 'amount', pg_temp.u(4000),
		'ref', rwt.h32(1), 'balance_after', pg_temp.u(4000)));
	PERFORM rwt.emit('ev_balance_credited', 5, 1, 1, pg_temp.a('b'), jsonb_build_object(
		'account', pg_temp.a('k9'), 'operator', pg_temp.a('op'), 'amount', pg_temp.u(4990),
		'ref', rwt.h32(2), 'balance_after', pg_temp.u(4990)));
	PERFORM rwt.head(1, 100, 10);
END
$$;

-- Quotes: the minimum, exact integers --------------------------------------------

SELECT rwt.eq((SELECT amount || ' ' || deposit_amount || ' ' || tax || ' ' || total || ' ' || balance
                      || ' ' || pending || ' ' || headroom || ' ' || symbol || ' ' || decimals
               FROM pg_temp.quote('k2', pg_temp.u(10))),
	'10000000 10000000 0 10000000 0 0 5000000000 USDC 6', 'quote: 10.00 is accepted');
SELECT rwt.ok(rwt.err($$SELECT pg_temp.quote('k2', 9990000)$$)
              = 'RW101 a top-up of 9.990000 USDC is below the minimum of 10.000000 USDC',
	'quote: 9.99 is refused and the message says the minimum');
SELECT rwt.throws($$SELECT pg_temp.quote('k2', 10000000.5)$$, '22023', 'quote: a fraction of a base unit is refused');
SELECT rwt.throws($$SELECT pg_temp.quote('k2', 0)$$, '22023', 'quote: zero is refused');
SELECT rwt.throws($$SELECT pg_temp.quote('k2', -10000000)$$, '22023', 'quote: a negative amount is refused');
SELECT rwt.throws($$SELECT rw_topup_quote(1, rwt.addr(9999), rwt.addr(1), 10000000)$$, 'RW105',
	'quote: an unknown Balance contract is refused');
SELECT rwt.ok(rwt.err($$SELECT rw_topup_quote(1, rwt.addr(1537), rwt.addr(1), 10000000)$$)
              ~ '^RW105 .*limits.*not known', 'quote: a contract whose limits are unknown is refused');
SELECT rwt.ok((SELECT expires_at = now() + interval '15 minutes' FROM pg_temp.quote('k2', pg_temp.u(10))),
	'quote: a session made now would expire in 15 minutes');

-- Tax by region ---------------------------------------------------------------------

SELECT rwt.eq((SELECT region || ' ' || tax_rate_bp || ' ' || tax || ' ' || total
               FROM pg_temp.quote('k2', pg_temp.u(100), NULL, 'de')),
	'DE 1900 19000000 119000000', 'tax: DE at 19%, region in any case');
SELECT rwt.eq((SELECT string_agg(coalesce(r, 'none') || '=' || (pg_temp.quote('k2', pg_temp.u(100), NULL, r)).tax_rate_bp, ' ')
               FROM unnest(ARRAY['US-CA', 'US-NY', 'FR', NULL, '']) r),
	'US-CA=725 US-NY=500 FR=0 none=0 =0', 'tax: subdivision, else its country, else 0');
SELECT rwt.eq((SELECT string_agg((pg_temp.quote('k2', v, NULL, 'DE')).tax::text, ' ')
               FROM unnest(ARRAY[10000001, 10000003, 10000005]::numeric[]) v),
	'1900000 1900001 1900001', 'tax: rounded half up to a base unit');
SELECT rwt.throws($$SELECT pg_temp.quote('k2', 10000000, NULL, 'Germany')$$, '22023',
	'tax: a region that is no ISO code is refused');

-- The cap, including pending ---------------------------------------------------------

SELECT rwt.eq((SELECT balance || ' ' || balance_after || ' ' || headroom FROM pg_temp.quote('k1', pg_temp.u(1000))),
	'4000000000 5000000000 1000000000', 'cap: 4000 + 1000 reaches 5000 exactly');
SELECT rwt.ok(rwt.err($$SELECT pg_temp.quote('k1', 1000000001)$$)
              ~ '^RW102 the balance would reach 5000.000001 USDC .*above the cap of 5000.000000 USDC: at most 1000.000000 USDC can be added$',
	'cap: one base unit more is refused, saying the headroom');
INSERT INTO sess VALUES ('s1', pg_temp.create('k1', pg_temp.u(500)));
SELECT rwt.eq(pg_temp.st(pg_temp.s('s1')), 'Pending/Pending', 'create: a Pending session');
SELECT rwt.ok((SELECT expires_at = created_at + interval '15 minutes' AND created_at = now()
                      AND octet_length(ref) = 32 AND total = pg_temp.u(500)
               FROM topup_session WHERE ref = pg_temp.s('s1')), 'create: random ref, expiry 15 minutes later');
SELECT rwt.ok(rwt.err($$SELECT pg_temp.quote('k1', 600000000)$$) ~ 'pending 500.000000 USDC.*at most 500.000000 USDC can be added',
	'cap: a pending session counts (600 more refused, 500 of headroom)');
SELECT rwt.eq((SELECT pending || ' ' || balance_after || ' ' || (pending_ref = pg_temp.s('s1')) || ' ' || pending_status
               FROM pg_temp.quote('k1', pg_temp.u(500))),
	'500000000 5000000000 true Pending', 'quote: reports the pending session without refusing');

-- One Pending session per account ---------------------------------------------------

SELECT rwt.ok(rwt.err($$SELECT pg_temp.create('k1', 10000000)$$)
              = 'RW103 account ' || rw_hex(pg_temp.a('k1')) || ' already has a pending top-up session '
                || rw_hex(pg_temp.s('s1')) || ' (expires at '
                || to_char((now() + interval '15 minutes') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                || '): pay it or cancel it first',
	'create: a second Pending session is refused, naming the first and its expiry');
SELECT rwt.throws($$INSERT INTO topup_session (ref, chain_id, contract, account, amount, expires_at)
	VALUES (rwt.h32(77), 1, pg_temp.a('b'), pg_temp.a('k1'), 10000000, now() + interval '1 minute')$$,
	'23505', 'the table itself keeps one Pending session per account');

-- Cancel ------------------------------------------------------------------------------

SELECT rwt.throws($$SELECT rw_topup_cancel(pg_temp.s('s1'), pg_temp.a('k2'))$$, 'P0002',
	'cancel: another account''s session is not found');
SELECT rwt.throws($$SELECT rw_topup_cancel(rwt.h32(12345))$$, 'P0002', 'cancel: an unknown ref is not found');
SELECT rwt.eq((SELECT status || ' ' || (cancelled_at = now()) FROM rw_topup_cancel(pg_temp.s('s1'), pg_temp.a('k1'))),
	'Cancelled true', 'cancel: Pending -> Cancelled');
SELECT rwt.eq((SELECT status FROM rw_topup_cancel(pg_temp.s('s1'))), 'Cancelled',
	'cancel: cancelling again returns the session unchanged');
INSERT INTO sess VALUES ('s2', pg_temp.create('k1', pg_temp.u(20)));
SELECT rwt.eq(pg_temp.st(pg_temp.s('s2')), 'Pending/Pending', 'cancel: frees the account for a new session');

-- Expiry ------------------------------------------------------------------------------

UPDATE topup_session SET created_at = now() - interval '16 minutes', expires_at = now() - interval '1 minute'
WHERE ref = pg_temp.s('s2');
SELECT rwt.eq(pg_temp.st(pg_temp.s('s2')), 'Expired/Pending', 'expiry: shown Expired at once (lazy)');
SELECT rwt.eq((SELECT pending FROM pg_temp.quote('k1', pg_temp.u(10))), 0::numeric,
	'expiry: an expired session no longer counts as pending');
SELECT rwt.eq(rw_topup_expire(), 1, 'expiry: rw_topup_expire stores it');
SELECT rwt.eq((SELECT status || ' ' || (expired_at = now()) FROM topup_session WHERE ref = pg_temp.s('s2')),
	'Expired true', 'expiry: stored Expired with its time');
SELECT rwt.eq(rw_topup_expire(), 0, 'expiry: a second run changes nothing');
SELECT rwt.ok(rwt.err($$SELECT rw_topup_cancel(pg_temp.s('s2'))$$) ~ '^RW106 .*expired',
	'cancel: an expired session cannot be cancelled');
DO $$
DECLARE
	r bytea := pg_temp.create('k1', pg_temp.u(30));
BEGIN
	UPDATE topup_session SET created_at = now() - interval '16 minutes', expires_at = now() - interval '1 minute'
	WHERE ref = r;
END
$$;
INSERT INTO sess VALUES ('s3', pg_temp.create('k1', pg_temp.u(100)));
SELECT rwt.eq((SELECT count(*) || ' ' || count(*) FILTER (WHERE status = 'Expired') FROM topup_session
               WHERE account = pg_temp.a('k1') AND ref <> pg_temp.s('s3') AND status <> 'Cancelled'),
	'2 2', 'create: expires the account''s stale Pending session first');

-- Confirming, then Completed on confirmation -------------------------------------------

DO $$ BEGIN
	PERFORM pg_temp.dep(95, 0, 10, 'k1', pg_temp.u(100), 0, pg_temp.s('s3'), pg_temp.u(4100));
END $$;
SELECT rwt.eq(pg_temp.st(pg_temp.s('s3')), 'Confirming/Pending', 'a matching deposit above the safe block: Confirming');
SELECT rwt.eq(pg_temp.rec(), '0 0 0 1', 'reconcile: nothing to complete before confirmation (1 waiting)');
SELECT rwt.ok(rwt.err($$SELECT rw_topup_cancel(pg_temp.s('s3'))$$) ~ '^RW106 .*on chain .*block 95.*confirmation',
	'cancel: a confirming session cannot be cancelled');
SELECT rwt.ok(rwt.err($$SELECT pg_temp.create('k1', 10000000)$$) ~ '^RW103 .*waiting for confirmation',
	'create: refused while the pending session confirms');
SELECT rwt.eq((SELECT pending || ' ' || balance FROM pg_temp.quote('k1', pg_temp.u(10))), '0 4100000000',
	'quote: a confirming deposit is in the balance, not counted twice');
DO $$ BEGIN PERFORM rwt.head(1, 105, 10); END $$;
SELECT rwt.eq(pg_temp.st(pg_temp.s('s3')), 'Confirming/Pending', 'confirmed but not reconciled yet: still Confirming');
SELECT rwt.eq(pg_temp.rec(), '1 0 0 0', 'reconcile: the confirmed deposit completes the session');
SELECT rwt.eq((SELECT status || ' ' || dep_block_number || ' ' || (dep_tx_hash = rwt.tx(10)) || ' ' || (completed_at = now())
               FROM topup_session WHERE ref = pg_temp.s('s3')),
	'Completed 95 true true', 'completed: the deposit''s key and time are stored');
SELECT rwt.eq(pg_temp.rec(), '0 0 0 0', 'reconcile: a second run does nothing');

-- Deposits support must see ---------------------------------------------------------------

DO $$
BEGIN
	-- no session
	PERFORM pg_temp.dep(20, 0, 20, 'k2', pg_temp.u(10), 0, rwt.h32(999), pg_temp.u(10));
	-- after cancel (s1 of K1)
	PERFORM pg_temp.dep(21, 0, 21, 'k1', pg_temp.u(500), 0, pg_temp.s('s1'), pg_temp.u(4600));
	-- K3: expired before the deposit's block (late)
	INSERT INTO sess VALUES ('s4', pg_temp.create('k3', pg_temp.u(40)));
	UPDATE topup_session SET created_at = rw_time(rwt.block_time(22)) - interval '20 minutes',
	                         expires_at = rw_time(rwt.block_time(22)) - interval '5 minutes'
	WHERE ref = pg_temp.s('s4');
	-- K4: expired by the wall clock, but its deposit's block is in time
	INSERT INTO sess VALUES ('s5', pg_temp.create('k4', pg_temp.u(40)));
	UPDATE topup_session SET created_at = rw_time(rwt.block_time(23)) - interval '10 minutes',
	                         expires_at = rw_time(rwt.block_time(23)) + interval '5 minutes'
	WHERE ref = pg_temp.s('s5');
	PERFORM rw_topup_expire();
	PERFORM pg_temp.dep(22, 0, 22, 'k3', pg_temp.u(40), 0, pg_temp.s('s4'), pg_temp.u(40));
	PERFORM pg_temp.dep(23, 0, 23, 'k4', pg_temp.u(40), 0, pg_temp.s('s5'), pg_temp.u(40));
	-- K5: 50 with DE tax; deposits of 49 (amount), of 50 with tax 9 (tax), then right, then again
	INSERT INTO sess VALUES ('s6', pg_temp.create('k5', pg_temp.u(50), NULL, 'DE'));
	PERFORM pg_temp.dep(24, 0, 24, 'k5', pg_temp.u(49), pg_temp.u(9.5), pg_temp.s('s6'), pg_temp.u(49));
	PERFORM pg_temp.dep(25, 0, 25, 'k5', pg_temp.u(50), pg_temp.u(9), pg_temp.s('s6'), pg_temp.u(99));
END
$$;
SELECT rwt.eq(pg_temp.st(pg_temp.s('s4')) || ' ' || pg_temp.st(pg_temp.s('s5')) || ' ' || pg_temp.st(pg_temp.s('s6')),
	'Expired/Expired Confirming/Expired Pending/Pending',
	'late deposit: Expired; in-time deposit: Confirming; mismatched deposits: still Pending');
SELECT rwt.eq(pg_temp.rec(), '1 5 0 0', 'reconcile: one completed, five flags');
SELECT rwt.eq((SELECT string_agg(kind || ':' || block_number, ' ' ORDER BY block_number, kind) FROM topup_flag),
	'deposit_without_session:20 deposit_after_cancel:21 deposit_after_expiry:22 amount_mismatch:24 amount_mismatch:25',
	'flags: without session, after cancel, after expiry, amount and tax mismatches');
SELECT rwt.eq((SELECT status || ' ' || dep_block_number FROM topup_session WHERE ref = pg_temp.s('s5')),
	'Completed 23', 'an expired session whose deposit''s block was in time completes');
SELECT rwt.eq((SELECT string_agg(t.status, ' ' ORDER BY x.name) FROM topup_session t JOIN sess x ON x.ref = t.ref
               WHERE x.name IN ('s1', 's4', 's6')),
	'Cancelled Expired Pending', 'flagged deposits complete nothing (cancelled, expired and mismatched sessions stay)');
SELECT rwt.eq((SELECT expected_amount || ' ' || expected_tax || ' ' || amount || ' ' || tax || ' ' || (session_ref = pg_temp.s('s6'))
               FROM topup_flag WHERE kind = 'amount_mismatch' AND block_number = 24),
	'50000000 9500000 49000000 9500000 true', 'amount_mismatch: expected and received amounts');
SELECT rwt.ok((SELECT detail ~ 'expects amount 50000000 tax 9500000' FROM topup_flag
               WHERE kind = 'amount_mismatch' AND block_number = 25), 'amount_mismatch: a tax mismatch is one too');
SELECT rwt.eq((SELECT session_ref FROM topup_flag WHERE kind = 'deposit_without_session'), NULL::bytea,
	'deposit_without_session: no session');
DO $$
BEGIN
	PERFORM pg_temp.dep(26, 0, 26, 'k5', pg_temp.u(50), pg_temp.u(9.5), pg_temp.s('s6'), pg_temp.u(149));
	PERFORM pg_temp.dep(27, 0, 27, 'k5', pg_temp.u(50), pg_temp.u(9.5), pg_temp.s('s6'), pg_temp.u(199));
	-- s3's ref used for another account
	PERFORM pg_temp.dep(28, 0, 28, 'k2', pg_temp.u(100), 0, pg_temp.s('s3'), pg_temp.u(110));
END
$$;
SELECT rwt.eq(pg_temp.rec(), '1 2 0 0', 'reconcile: the exact deposit completes; a duplicate and a foreign one are flagged');
SELECT rwt.eq((SELECT status || ' ' || dep_block_number FROM topup_session WHERE ref = pg_temp.s('s6')),
	'Completed 26', 'the session completes only with the exact amount and tax');
SELECT rwt.eq((SELECT string_agg(kind, ' ' ORDER BY kind) FROM topup_flag WHERE block_number IN (27, 28)),
	'account_mismatch duplicate_deposit', 'flags: duplicate deposit, deposit for another account');

-- Idempotence -------------------------------------------------------------------------------

SELECT rwt.eq(pg_temp.rec(), '0 0 0 0', 'reconcile: nothing left to do');
INSERT INTO topup_deposit_queue (chain_id, block_hash, log_index, block_number)
SELECT chain_id, block_hash, log_index, block_number FROM ev_balance_deposited;
SELECT rwt.eq(pg_temp.rec(), '0 0 0 0', 'reconcile: every deposit again changes nothing (no new flag, no second completion)');
SELECT rwt.eq((SELECT count(*) FROM topup_flag), 7::bigint, 'flags: seven in all');

-- Reorgs --------------------------------------------------------------------------------------

INSERT INTO sess VALUES ('s7', pg_temp.create('k6', pg_temp.u(10)));
DO $$ BEGIN PERFORM pg_temp.dep(101, 0, 101, 'k6', pg_temp.u(10), 0, pg_temp.s('s7'), pg_temp.u(10)); END $$;
SELECT rwt.eq(pg_temp.st(pg_temp.s('s7')), 'Confirming/Pending', 'reorg: confirming before');
SELECT rwt.eq((SELECT count(*) FROM topup_deposit_queue), 1::bigint, 'the trigger queued the new deposit');
DO $$ BEGIN PERFORM rw_indexer_rewind(1, 100); END $$;
SELECT rwt.eq(pg_temp.st(pg_temp.s('s7')), 'Pending/Pending', 'reorg: the deposit is gone, the session is Pending again');
SELECT rwt.eq(pg_temp.rec(), '0 0 0 0', 'reorg: the queued deposit is dropped');

-- Promo codes ----------------------------------------------------------------------------------

SELECT rwt.eq((SELECT code || ' ' || promo_kind || ' ' || discount || ' ' || deposit_amount || ' ' || tax || ' '
                      || total || ' ' || bonus || ' ' || promo_credit || ' ' || balance_after
               FROM pg_temp.quote('k7', pg_temp.u(100), ' tenoff ', 'DE')),
	'TENOFF discount 10000000 90000000 17100000 107100000 0 10000000 100000000',
	'promo: a 10% discount, tax on what is paid, the discount credited after');
SELECT rwt.eq((SELECT promo_kind || ' ' || discount || ' ' || deposit_amount || ' ' || total || ' ' || bonus || ' '
                      || promo_credit || ' ' || balance_after
               FROM pg_temp.quote('k7', pg_temp.u(100), 'BONUS5')),
	'bonus 0 100000000 100000000 5000000 5000000 105000000', 'promo: a 5% bonus on top');
SELECT rwt.ok(rwt.err($$SELECT pg_temp.quote('k7', 100000000, 'OLD')$$) ~ '^RW104 promo code OLD expired at ',
	'promo: an expired code is refused');
SELECT rwt.ok(rwt.err($$SELECT pg_temp.quote('k7', 100000000, 'LATER')$$) ~ '^RW104 promo code LATER is not valid before ',
	'promo: a code not yet valid is refused');
SELECT rwt.eq(rwt.err($$SELECT pg_temp.quote('k7', 100000000, 'OFF')$$), 'RW104 promo code OFF is disabled',
	'promo: a disabled code is refused');
SELECT rwt.eq(rwt.err($$SELECT pg_temp.quote('k7', 100000000, 'NOPE')$$), 'RW104 promo code NOPE does not exist',
	'promo: an unknown code is refused');
INSERT INTO sess VALUES ('s8', pg_temp.create('k7', pg_temp.u(100), 'BONUS5'));
SELECT rwt.eq(rwt.err($$SELECT pg_temp.quote('k8', 100000000, 'BONUS5')$$),
	'RW104 promo code BONUS5 is used up (1 of 1 uses)', 'promo: an exhausted code is refused before any payment');
SELECT rwt.ok(rwt.err($$SELECT pg_temp.create('k8', 100000000, 'BONUS5')$$) ~ '^RW104 ',
	'promo: create refuses it too');
INSERT INTO sess VALUES ('s9', pg_temp.create('k8', pg_temp.u(100), 'TENOFF'));
SELECT rwt.ok(rwt.err($$SELECT pg_temp.quote('k8', 100000000, 'TENOFF')$$) ~ '^RW104 promo code TENOFF was already used by account ',
	'promo: once per account');
SELECT rwt.eq((SELECT status FROM rw_topup_cancel(pg_temp.s('s9'))), 'Cancelled', 'promo: cancel the session');
SELECT rwt.eq((SELECT code FROM pg_temp.quote('k8', pg_temp.u(100), 'TENOFF')), 'TENOFF',
	'promo: a cancelled session gives the use back');
SELECT rwt.ok(rwt.err($$SELECT pg_temp.quote('k8', 15000000, 'HALF')$$)
              ~ '^RW101 with the 7.500000 USDC discount of promo code HALF the deposit would be 7.500000 USDC, below the minimum of 10.000000 USDC',
	'promo: a discount may not take the deposit below the minimum');
SELECT rwt.ok(rwt.err($$SELECT pg_temp.quote('k9', 10000000, 'BIG')$$) ~ '^RW102 the balance would reach 5001.000000 USDC',
	'cap: a bonus counts toward the cap');
SELECT rwt.eq((SELECT balance_after FROM pg_temp.quote('k9', pg_temp.u(10))), pg_temp.u(5000),
	'cap: without the bonus it fits');
-- The bonus is pending until the operator's credit under the session's ref.
DO $$ BEGIN
	PERFORM pg_temp.dep(30, 0, 30, 'k7', pg_temp.u(100), 0, pg_temp.s('s8'), pg_temp.u(100));
	PERFORM rw_topup_reconcile(1);
END $$;
SELECT rwt.eq((SELECT effective_status || ' ' || pending_amount || ' ' || promo_credited
               FROM topup_session_state WHERE ref = pg_temp.s('s8')), 'Completed 5000000 false',
	'promo: completed, the bonus still pending');
SELECT rwt.eq((SELECT pending || ' ' || balance FROM pg_temp.quote('k7', pg_temp.u(10))), '5000000 100000000',
	'promo: an uncredited bonus counts as pending');
DO $$ BEGIN
	PERFORM rwt.emit('ev_balance_credited', 31, 0, 31, pg_temp.a('b'), jsonb_build_object(
		'account', pg_temp.a('k7'), 'operator', pg_temp.a('op'), 'amount', pg_temp.u(5),
		'ref', pg_temp.s('s8'), 'balance_after', pg_temp.u(105)));
END $$;
SELECT rwt.eq((SELECT pending_amount || ' ' || promo_credited FROM topup_session_state WHERE ref = pg_temp.s('s8')),
	'0 true', 'promo: credited under the ref, nothing pending');

-- Refs ------------------------------------------------------------------------------------------

SELECT rwt.eq(pg_temp.create('k10', pg_temp.u(10), NULL, NULL, rwt.h32(4242)), rwt.h32(4242),
	'create: the caller''s ref is used');
SELECT rwt.eq(pg_temp.create('k10', pg_temp.u(10), NULL, NULL, rwt.h32(4242)), rwt.h32(4242),
	'create: the same ref and arguments return the same session (a retry)');
SELECT rwt.eq((SELECT count(*) FROM topup_session WHERE account = pg_temp.a('k10')), 1::bigint,
	'create: a retry makes no second session');
SELECT rwt.throws($$SELECT pg_temp.create('k10', 11000000, NULL, NULL, rwt.h32(4242))$$, '23505',
	'create: the same ref with other arguments is refused');
SELECT rwt.throws($$SELECT pg_temp.create('k11', 10000000, NULL, NULL, '\x00'::bytea)$$, '22023',
	'create: a ref that is not 32 bytes is refused');
SELECT rwt.throws($$SELECT pg_temp.create('k11', 10000000, NULL, NULL, rwt.h32(0))$$, '22023',
	'create: an all-zero ref is refused');
SELECT rwt.ok((SELECT count(DISTINCT rw_topup_new_ref()) = 50 AND bool_and(octet_length(rw_topup_new_ref()) = 32)
               FROM generate_series(1, 50)), 'rw_topup_new_ref: 32 random bytes');

-- Privileges --------------------------------------------------------------------------------------

CREATE TEMP TABLE calls AS
SELECT unnest(ARRAY['rw_topup_quote', 'rw_topup_create', 'rw_topup_cancel', 'rw_topup_expire',
                    'rw_topup_reconcile', 'rw_topup_flag_resolve']) AS name;
SELECT rwt.eq((SELECT count(*) FROM pg_proc p JOIN calls c ON c.name = p.proname), 6::bigint,
	'the six functions a console or runwayd calls exist');
SELECT rwt.eq((SELECT string_agg(p.proname, ',' ORDER BY p.proname) FROM pg_proc p JOIN calls c ON c.name = p.proname
               WHERE has_function_privilege('public', p.oid, 'EXECUTE')),
	NULL, 'they are not executable by PUBLIC');
SELECT rwt.eq((SELECT string_agg(p.proname, ',' ORDER BY p.proname) FROM pg_proc p JOIN calls c ON c.name = p.proname
               WHERE NOT p.prosecdef OR NOT 'search_path=public, pg_temp' = ANY (p.proconfig)),
	NULL, 'they run as their owner (SECURITY DEFINER, search_path pinned), so a console role needs only EXECUTE');

-- Plans: the deposit shown for a session is found by its ref (index), not
-- by scanning every deposit (sequential scans off so tiny tables do not hide it).
CREATE FUNCTION pg_temp.plan(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	t text := '';
BEGIN
	FOR r IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		t := t || r."QUERY PLAN" || E'\n';
	END LOOP;
	RETURN t;
END
$$;
ANALYZE ev_balance_deposited, ev_balance_credited, topup_session;
SET LOCAL enable_seqscan = off;
SELECT rwt.ok(pg_temp.plan('SELECT * FROM topup_session_state') ~ 'ev_balance_deposited_ref',
	'topup_session_state: the deposit is looked up by (chain, contract, ref)');
SELECT rwt.ok(pg_temp.plan($$SELECT * FROM topup_sessions WHERE account = '0x0000000000000000000000000000000000000701'$$)
              ~ 'topup_session_account|topup_session_pkey|Index',
	'topup_sessions: a filter on the account reads the sessions by index');
RESET enable_seqscan;
