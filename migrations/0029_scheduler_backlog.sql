-- 0029_scheduler_backlog: a burst of due instances is evaluated once.
--
-- Owns:
--   view       scheduler_due replaced (the same rows; claimed instances
--              skipped early)
--   table      scheduler_backlog (per chain: the due rows an evaluation found
--              that did not fit the call's batches, and what they hold on)
--   functions  rw_scheduler_backlog_hold; rw_scheduler_file_batches replaced (same
--              arguments, same rows, same rules: 0025 stays the reference)
--
-- Why (issue #7's benchmark, tools/bench-charges: 10,000 instances due at
-- one block): evaluating scheduler_due takes 300-450 ms over 10,000 live
-- instances, and a call files at most p_max_batches batches (100 of 49
-- instances by default), so a burst took three calls, each evaluating the
-- view again, on the cores anvil mines the charges on.
--
-- Now a call that evaluates scheduler_due files at most 20 batches (the
-- relayer gets work 0.4-0.5 s sooner than after 100), keeps the rows past
-- its last batch in scheduler_backlog, and the next calls (runwayd's
-- scheduler calls again at once while a backlog is left) file from them,
-- p_max_batches at a time, instead of evaluating again, as long as they
-- hold:
--   * the same arguments that decide what is due (p_refill_every,
--     p_max_lag; batching does not), and evaluated less than a minute ago;
--   * every Balance contract's latest stored header at the evaluation
--     (anchor_blocks, anchor_hashes) is still the stored header at its
--     height: no reorg has touched what the rows were derived from;
--   * per row: its instance has no event after the lowest mirror block of
--     the evaluation (since_block) and no claim newer than the newest claim
--     then (last_claim); rw_scheduler_backlog_hold. A row that moved is dropped
--     from the backlog, not filed: the next evaluation decides it again.
-- When no row holds, the call evaluates scheduler_due as before. The rows
-- filed are the rows an evaluation found due; their claims carry the
-- mirror point and time that evaluation saw (mirror_block, mirror_time), as
-- before. Why nothing is charged twice or skipped does not change (0022):
-- a row is filed once (it leaves the backlog in the transaction that files
-- it, under the chain's advisory lock), claim keys are unique, and a row
-- whose instance changed since is looked at again.

-- scheduler_due, unchanged in what it lists, skips the instances with an
-- open claim before deriving their state: during a burst every instance
-- filed has one, and looking at 10,000 claimed instances took 255-330 ms a
-- cycle, on the cores anvil mines the charges on.
CREATE OR REPLACE VIEW scheduler_due AS
SELECT x.chain_id,
       x.contract,
       x.instance_id,
       x.account,
       a.action,
       a.period,
       a.attempt,
       w.reason,
       a.action || ':' || x.chain_id || ':'
           || CASE WHEN q.shared THEN rw_hex(x.contract) || '/' ELSE '' END || rw_hex(x.instance_id)
           || ':' || a.period || CASE WHEN a.attempt > 1 THEN ':' || a.attempt ELSE '' END AS key,
       x.price_per_day,
       x.reserve,
       x.paid_until,
       x.grace_until,
       a.periods,
       CASE a.action WHEN 'charge' THEN 60000 + 15000 * (a.periods - 1) ELSE 40000 END AS gas,
       x.now,
       x.mirror_block,
       x.lag_blocks
FROM (SELECT m.chain_id, m.contract, m.mirror_block, m.now, m.lag_blocks,
             i.instance_id, i.account, i.price_per_day, i.reserve, i.paid_until, i.period,
             i.grace_until, i.created_block, i.created_block_hash,
             i.paid_until <= m.now AS due,
             coalesce(cfg.refill_every, 3600) AS refill_every
      FROM scheduler_mirror m
      JOIN balance_instance_state i ON i.chain_id = m.chain_id AND i.contract = m.contract
      LEFT JOIN scheduler_config cfg ON cfg.chain_id = m.chain_id
      WHERE i.live AND m.now IS NOT NULL
        -- (0029) an instance with a claim whose intent is still open is never
        -- due (see o below); this test needs only the instance's key, so it
        -- is made before its state is derived from its events: a scalar
        -- subquery (a plain NOT EXISTS became an anti-join above the state)
        AND NOT (SELECT EXISTS (SELECT 1 FROM scheduler_claim cl JOIN relayer_intent ri ON ri.id = cl.intent_id
                                WHERE cl.chain_id = i.chain_id AND cl.contract = i.contract
                                  AND cl.instance_id = i.instance_id
                                  AND ri.state IN ('queued', 'pending', 'mined')))
        AND (i.paid_until <= m.now OR i.reserve < i.price_per_day)) x
-- the latest claim of the instance, and whether any claim is unsettled
LEFT JOIN LATERAL (
	SELECT cl.mirror_block, cl.mirror_time FROM scheduler_claim cl
	WHERE cl.chain_id = x.chain_id AND cl.contract = x.contract AND cl.instance_id = x.instance_id
	ORDER BY cl.id DESC LIMIT 1
) lc ON true
CROSS JOIN LATERAL (
	SELECT EXISTS (
		SELECT 1 FROM scheduler_claim cl
		JOIN relayer_intent ri ON ri.id = cl.intent_id
		LEFT JOIN relayer_receipt rr ON rr.tx_hash = ri.tx_hash
		WHERE cl.chain_id = x.chain_id AND cl.contract = x.contract AND cl.instance_id = x.instance_id
		  AND (ri.state IN ('queued', 'pending', 'mined')
		       OR (ri.state IN ('confirmed', 'final', 'reverted')
		           AND (rr.block_number IS NULL OR rr.block_number > x.mirror_block)))) AS open
) o
-- earlier attempts at the period now due, and at refilling after the last paid one
LEFT JOIN LATERAL (
	SELECT max(cl.attempt) AS attempts, bool_or(cl.mirror_time >= x.grace_until) AS after_grace
	FROM scheduler_claim cl
	WHERE cl.chain_id = x.chain_id AND cl.contract = x.contract AND cl.instance_id = x.instance_id
	  AND cl.action = 'charge' AND cl.period = x.period + 1
) pc ON true
LEFT JOIN LATERAL (
	SELECT max(cl.attempt) AS attempts FROM scheduler_claim cl
	WHERE cl.chain_id = x.chain_id AND cl.contract = x.contract AND cl.instance_id = x.instance_id
	  AND cl.action = 'refill' AND cl.period = x.period
) rc ON true
-- the latest event that left the reserve short or the charge unpaid
LEFT JOIN LATERAL (
	SELECT e.block_number, e.log_index, b.timestamp FROM (
		(SELECT y.block_number, y.log_index, y.block_hash FROM ev_balance_small_balance y
		 WHERE y.chain_id = x.chain_id AND y.address = x.contract AND y.instance_id = x.instance_id
		 ORDER BY y.block_number DESC, y.log_index DESC LIMIT 1)
		UNION ALL
		(SELECT y.block_number, y.log_index, y.block_hash FROM ev_balance_charge_failed y
		 WHERE y.chain_id = x.chain_id AND y.address = x.contract AND y.instance_id = x.instance_id
		 ORDER BY y.block_number DESC, y.log_index DESC LIMIT 1)) e
	LEFT JOIN indexer_block b ON b.chain_id = x.chain_id AND b.hash = e.block_hash
	ORDER BY e.block_number DESC, e.log_index DESC LIMIT 1
) se ON true
LEFT JOIN indexer_block cb ON cb.chain_id = x.chain_id AND cb.hash = x.created_block_hash
-- since when: positions are block * 2^32 + log index
CROSS JOIN LATERAL (
	SELECT coalesce(greatest(lc.mirror_block::numeric * 4294967296 + 4294967295,
	                         se.block_number::numeric * 4294967296 + se.log_index),
	                x.created_block::numeric * 4294967296 + 4294967295) AS pos,
	       coalesce(greatest(lc.mirror_time, se.timestamp), cb.timestamp, 0) AS time
) since
CROSS JOIN LATERAL (
	SELECT EXISTS (SELECT 1 FROM ev_balance_deposited d
	               WHERE d.chain_id = x.chain_id AND d.address = x.contract AND d.account = x.account
	                 AND d.block_number >= div(since.pos, 4294967296)
	                 AND d.block_number::numeric * 4294967296 + d.log_index > since.pos)
	    OR EXISTS (SELECT 1 FROM ev_balance_credited d
	               WHERE d.chain_id = x.chain_id AND d.address = x.contract AND d.account = x.account
	                 AND d.block_number >= div(since.pos, 4294967296)
	                 AND d.block_number::numeric * 4294967296 + d.log_index > since.pos)
	    OR EXISTS (SELECT 1 FROM ev_balance_instance_ended d
	               WHERE d.chain_id = x.chain_id AND d.address = x.contract AND d.account = x.account
	                 AND d.refunded > 0 AND d.block_number >= div(since.pos, 4294967296)
	                 AND d.block_number::numeric * 4294967296 + d.log_index > since.pos) AS money
) mo
CROSS JOIN LATERAL (
	SELECT CASE
		WHEN o.open THEN NULL
		WHEN x.due AND pc.attempts IS NULL THEN 'due'
		WHEN x.due AND x.grace_until > 0 AND x.now >= x.grace_until
		     AND NOT coalesce(pc.after_grace, false) THEN 'grace_end'
		WHEN mo.money THEN 'deposit'
		WHEN x.now >= since.time + x.refill_every THEN 'cadence'
	END AS reason
) w
-- an id that another Balance contract of the chain uses too: keys name the contract
CROSS JOIN LATERAL (
	SELECT EXISTS (SELECT 1 FROM indexer_source o
	               JOIN ev_balance_instance_created y ON y.chain_id = o.chain_id AND y.address = o.address
	               WHERE o.chain_id = x.chain_id AND o.kind = 'Balance' AND o.address <> x.contract
	                 AND y.instance_id = x.instance_id) AS shared
) q
CROSS JOIN LATERAL (
	SELECT CASE WHEN x.due THEN 'charge' ELSE 'refill' END AS action,
	       CASE WHEN x.due THEN x.period + 1 ELSE x.period END AS period,
	       CASE WHEN x.due THEN coalesce(pc.attempts, 0) ELSE coalesce(rc.attempts, 0) END + 1 AS attempt,
	       CASE WHEN x.due AND w.reason <> 'grace_end'
	            THEN least(30, div(x.now - x.paid_until, 86400) + 1) ELSE 1 END AS periods
) a
WHERE w.reason IS NOT NULL;

CREATE UNLOGGED TABLE scheduler_backlog (
	chain_id bigint PRIMARY KEY REFERENCES chain (chain_id),
	args text NOT NULL,
	made_at timestamptz NOT NULL,
	since_block bigint NOT NULL,
	last_claim bigint NOT NULL,
	anchor_blocks bigint[] NOT NULL,
	anchor_hashes bytea[] NOT NULL,
	todo scheduler_due[] NOT NULL
);
COMMENT ON TABLE scheduler_backlog IS
	'Per chain: the due rows the last evaluation of scheduler_due found past the call''s last '
	'batch (todo, in filing order), for the next rw_scheduler_file call while they hold: the same '
	'refill cadence and lag limit (args), made_at within a minute, each anchor block still stored with its hash, '
	'and per row no instance event after since_block and no claim after last_claim. Unlogged: '
	'after a crash it is empty, and the next call evaluates again.';

-- Set-based, under its own planner settings: per-row probes of the event
-- tables were planned against statistics taken before a burst's first
-- charges (the tables empty), and went through the (chain_id, block_number)
-- index once a row: 3-15 s for 9,000 rows in tools/bench-charges. One range
-- scan per table and a hash anti-join are linear whatever the estimates.
CREATE FUNCTION rw_scheduler_backlog_hold(p_chain_id bigint, p_todo scheduler_due[], p_since bigint,
	p_last_claim bigint) RETURNS scheduler_due[]
LANGUAGE sql STABLE PARALLEL SAFE SET enable_nestloop = off SET enable_seqscan = off AS $$
WITH moved AS (
	SELECT e.address AS contract, e.instance_id FROM ev_balance_charged e
	WHERE e.chain_id = p_chain_id AND e.block_number > p_since
	UNION
	SELECT e.address, e.instance_id FROM ev_balance_reserve_refilled e
	WHERE e.chain_id = p_chain_id AND e.block_number > p_since
	UNION
	SELECT e.address, e.instance_id FROM ev_balance_small_balance e
	WHERE e.chain_id = p_chain_id AND e.block_number > p_since
	UNION
	SELECT e.address, e.instance_id FROM ev_balance_charge_failed e
	WHERE e.chain_id = p_chain_id AND e.block_number > p_since
	UNION
	SELECT e.address, e.instance_id FROM ev_balance_instance_ended e
	WHERE e.chain_id = p_chain_id AND e.block_number > p_since
	UNION
	SELECT c.contract, c.instance_id FROM scheduler_claim c
	WHERE c.chain_id = p_chain_id AND c.id > p_last_claim
)
SELECT array_agg(d ORDER BY d.contract, d.action, d.paid_until, d.instance_id)
FROM unnest(p_todo) d
WHERE NOT EXISTS (SELECT 1 FROM moved m WHERE m.contract = d.contract AND m.instance_id = d.instance_id)
$$;
COMMENT ON FUNCTION rw_scheduler_backlog_hold(bigint, scheduler_due[], bigint, bigint) IS
	'The rows of a backlog that still hold, in filing order (NULL: none): those whose Balance '
	'instance has no event (Charged, ReserveRefilled, SmallBalance, ChargeFailed, InstanceEnded) '
	'in a block after p_since and no scheduler claim with an id above p_last_claim.';
REVOKE EXECUTE ON FUNCTION rw_scheduler_backlog_hold(bigint, scheduler_due[], bigint, bigint) FROM PUBLIC;

CREATE OR REPLACE FUNCTION rw_scheduler_file_batches(p_chain_id bigint, p_batch_size integer DEFAULT 50,
	p_batch_gas bigint DEFAULT 3000000, p_refill_every bigint DEFAULT 3600,
	p_max_batches integer DEFAULT 20, p_max_lag bigint DEFAULT 32)
RETURNS TABLE (key text, action text, contract bytea, instances integer, reasons text,
	gas bigint, intent_id bigint, claims text[])
-- jit off: compiling the plan of scheduler_due costs seconds, running it milliseconds
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET jit = off AS $$
#variable_conflict use_column
DECLARE
	base constant bigint := 30000; -- the call itself: 21000 + calldata and the loop
	fp text;
	todo scheduler_due[];
	n integer;
	bno integer[];
	b integer := 0;
	cnt integer := 0;
	used bigint := 0;
	r scheduler_due;
	p scheduler_due;
	ids bigint[] := '{}';
	keys text[] := '{}';
	bt record;
	i relayer_intent;
	bl scheduler_backlog;
	-- the arguments that decide which rows are due (not how they are batched)
	due_args text := concat_ws('|', p_refill_every, p_max_lag);
	anchors_n bigint[];
	anchors_h bytea[];
	since bigint;
	last_claim bigint;
	made timestamptz;
	fresh boolean := false;
	first_batches constant integer := 20; -- 980 instances of the default batches
BEGIN
	IF p_chain_id IS NULL OR p_batch_size IS NULL OR p_batch_size NOT BETWEEN 1 AND 1000
	   OR p_batch_gas IS NULL OR p_batch_gas NOT BETWEEN 100000 AND 100000000
	   OR p_refill_every IS NULL OR p_refill_every NOT BETWEEN 60 AND 31536000
	   OR p_max_batches IS NULL OR p_max_batches NOT BETWEEN 1 AND 1000
	   OR p_max_lag IS NULL OR p_max_lag < 0 THEN
		RAISE EXCEPTION 'rw_scheduler_file: bad arguments (chain %, batch size % of 1..1000, batch gas '
			'% of 100000..100000000, refill every % s of 60..31536000, max batches % of 1..1000, '
			'max lag % >= 0)', p_chain_id, p_batch_size, p_batch_gas, p_refill_every, p_max_batches,
			p_max_lag USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM chain x WHERE x.chain_id = p_chain_id) THEN
		RETURN; -- the indexer has not recorded the chain yet: nothing is indexed
	END IF;
	PERFORM pg_advisory_xact_lock(hashtextextended('rw_scheduler:' || p_chain_id, 0));
	INSERT INTO scheduler_config AS c (chain_id, batch_size, batch_gas, refill_every, max_batches, max_lag)
	VALUES (p_chain_id, p_batch_size, p_batch_gas, p_refill_every, p_max_batches, p_max_lag)
	ON CONFLICT (chain_id) DO UPDATE
	SET batch_size = EXCLUDED.batch_size, batch_gas = EXCLUDED.batch_gas,
	    refill_every = EXCLUDED.refill_every, max_batches = EXCLUDED.max_batches,
	    max_lag = EXCLUDED.max_lag, updated_at = now()
	WHERE (c.batch_size, c.batch_gas, c.refill_every, c.max_batches, c.max_lag)
	      IS DISTINCT FROM (EXCLUDED.batch_size, EXCLUDED.batch_gas, EXCLUDED.refill_every,
	                        EXCLUDED.max_batches, EXCLUDED.max_lag);
	-- 1. Nothing changed since a call that found nothing: nothing to find.
	fp := concat_ws('|', p_batch_size, p_batch_gas, p_refill_every, p_max_batches, p_max_lag,
		rw_scheduler_fingerprint(p_chain_id));
	IF EXISTS (SELECT 1 FROM scheduler_idle s WHERE s.chain_id = p_chain_id AND s.fingerprint = fp
	           AND s.checked_at > now() - interval '1 minute') THEN
		RETURN;
	END IF;
	-- 2. The due rows, in filing order: what an earlier call evaluated and
	-- left while it still holds (scheduler_backlog), else scheduler_due.
	SELECT * INTO bl FROM scheduler_backlog b WHERE b.chain_id = p_chain_id;
	IF bl.chain_id IS NOT NULL AND bl.args = due_args AND bl.made_at > now() - interval '1 minute'
	   AND NOT EXISTS (SELECT 1 FROM unnest(bl.anchor_blocks, bl.anchor_hashes) a (n, h)
	                   WHERE NOT EXISTS (SELECT 1 FROM indexer_block x WHERE x.chain_id = p_chain_id
	                                     AND x.number = a.n AND x.hash = a.h)) THEN
		todo := rw_scheduler_backlog_hold(p_chain_id, bl.todo, bl.since_block, bl.last_claim);
		since := bl.since_block;
		last_claim := bl.last_claim;
		anchors_n := bl.anchor_blocks;
		anchors_h := bl.anchor_hashes;
		made := bl.made_at;
	END IF;
	IF todo IS NULL THEN -- none left that holds: look again
		made := now();
		fresh := true;
		SELECT array_agg(m.time_block), array_agg(x.hash), min(m.mirror_block)
		INTO anchors_n, anchors_h, since
		FROM scheduler_mirror m
		JOIN indexer_block x ON x.chain_id = m.chain_id AND x.number = m.time_block
		WHERE m.chain_id = p_chain_id;
		SELECT coalesce(max(c.id), 0) INTO last_claim FROM scheduler_claim c;
		SELECT array_agg(d ORDER BY d.contract, d.action, d.paid_until, d.instance_id) INTO todo
		FROM scheduler_due d WHERE d.chain_id = p_chain_id AND d.lag_blocks <= p_max_lag;
	END IF;
	n := coalesce(cardinality(todo), 0);
	IF n = 0 THEN
		DELETE FROM scheduler_backlog b WHERE b.chain_id = p_chain_id;
		INSERT INTO scheduler_idle AS s (chain_id, fingerprint, checked_at) VALUES (p_chain_id, fp, now())
		ON CONFLICT (chain_id) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, checked_at = EXCLUDED.checked_at;
		RETURN;
	END IF;
	DELETE FROM scheduler_idle s WHERE s.chain_id = p_chain_id;
	-- 3. Batch numbers: a new batch on another contract or action, or when the
	-- size or the gas budget would be exceeded; rows past the last batch get 0.
	-- A call that has just evaluated files at most first_batches: the relayer
	-- gets work sooner, and the rest follows from the backlog.
	bno := array_fill(0, ARRAY[n]);
	FOR k IN 1..n LOOP
		r := todo[k];
		IF cnt > 0 AND (r.contract <> p.contract OR r.action <> p.action OR cnt >= p_batch_size
		                OR base + used + r.gas > p_batch_gas) THEN
			cnt := 0;
			used := 0;
		END IF;
		IF cnt = 0 THEN
			b := b + 1;
			EXIT WHEN b > p_max_batches OR (fresh AND b > first_batches);
		END IF;
		bno[k] := b;
		cnt := cnt + 1;
		used := used + r.gas;
		p := r;
	END LOOP;
	-- 4. One intent per batch, in batch order (the relayer takes them by id).
	FOR bt IN SELECT bno[x.ordinality] AS no, (array_agg(x.contract))[1] AS contract, min(x.action) AS action,
	                 count(*) AS cnt, string_agg(x.instance_id, ''::bytea ORDER BY x.ordinality) AS ids
	          FROM unnest(todo) WITH ORDINALITY x
	          WHERE bno[x.ordinality] > 0
	          GROUP BY 1 ORDER BY 1 LOOP
		i := rw_intent_file(bt.action || ':' || p_chain_id || ':batch:' || nextval('scheduler_batch_seq'),
			p_chain_id, bt.contract,
			CASE bt.action WHEN 'charge' THEN '\xd66062ee'::bytea ELSE '\x8092abd8'::bytea END
				|| rw_abi_uint(32) || rw_abi_uint(bt.cnt) || bt.ids);
		ids := ids || i.id;
		keys := keys || i.key;
	END LOOP;
	-- 5. Every claim of the call at once.
	INSERT INTO scheduler_claim (key, chain_id, contract, instance_id, action, period, attempt, reason,
		intent_id, mirror_block, mirror_time)
	SELECT x.key, x.chain_id, x.contract, x.instance_id, x.action, x.period, x.attempt, x.reason,
		ids[bno[x.ordinality]], x.mirror_block, x.now
	FROM unnest(todo) WITH ORDINALITY x
	WHERE bno[x.ordinality] > 0
	ORDER BY x.ordinality;
	-- 6. What is left past the last batch waits for the next call.
	IF bno[n] = 0 AND since IS NOT NULL THEN
		INSERT INTO scheduler_backlog AS b (chain_id, args, made_at, since_block, last_claim,
			anchor_blocks, anchor_hashes, todo)
		VALUES (p_chain_id, due_args, made, since, last_claim, anchors_n, anchors_h,
			-- a row constructor over unnest: todo[k] in a query costs O(k) a row
			ARRAY(SELECT (x.chain_id, x.contract, x.instance_id, x.account, x.action, x.period,
			              x.attempt, x.reason, x.key, x.price_per_day, x.reserve, x.paid_until,
			              x.grace_until, x.periods, x.gas, x.now, x.mirror_block, x.lag_blocks)::scheduler_due
			      FROM unnest(todo) WITH ORDINALITY x (chain_id, contract, instance_id, account, action,
			           period, attempt, reason, key, price_per_day, reserve, paid_until, grace_until,
			           periods, gas, now, mirror_block, lag_blocks, o)
			      WHERE bno[x.o] = 0 ORDER BY x.o))
		ON CONFLICT (chain_id) DO UPDATE SET args = EXCLUDED.args, made_at = EXCLUDED.made_at,
			since_block = EXCLUDED.since_block, last_claim = EXCLUDED.last_claim,
			anchor_blocks = EXCLUDED.anchor_blocks, anchor_hashes = EXCLUDED.anchor_hashes,
			todo = EXCLUDED.todo;
	ELSE
		DELETE FROM scheduler_backlog b WHERE b.chain_id = p_chain_id;
	END IF;
	RETURN QUERY
	SELECT keys[g.no], g.action, g.contract, g.cnt::integer,
	       (SELECT string_agg(s.reason || ' ' || s.n, ', ' ORDER BY s.reason)
	        FROM (SELECT y.reason, count(*) AS n FROM unnest(todo) WITH ORDINALITY y
	              WHERE bno[y.ordinality] = g.no GROUP BY y.reason) s),
	       base + g.gas, ids[g.no], g.claims
	FROM (SELECT bno[x.ordinality] AS no, min(x.action) AS action, (array_agg(x.contract))[1] AS contract,
	             count(*) AS cnt, sum(x.gas)::bigint AS gas,
	             array_agg(x.key ORDER BY x.ordinality) AS claims
	      FROM unnest(todo) WITH ORDINALITY x
	      WHERE bno[x.ordinality] > 0
	      GROUP BY 1) g
	ORDER BY g.no;
END
$$;
COMMENT ON FUNCTION rw_scheduler_file_batches(bigint, integer, bigint, bigint, integer, bigint) IS
	'Files what scheduler_due lists for the chain (contracts whose mirror trails the head by at '
	'most p_max_lag blocks), charges before refills, oldest paid_until first, in batch intents of '
	'at most p_batch_size instances and p_batch_gas estimated gas (30000 for the call plus each '
	'instance''s share), at most p_max_batches of them: one row per batch (intent key, action, '
	'contract, instances, reasons, estimated gas, intent id, claim keys); at most 20 in a call '
	'that evaluated scheduler_due. Stores the arguments in '
	'scheduler_config. One transaction under a per-chain advisory lock; when nothing it depends '
	'on changed since a call that found nothing it returns without looking (scheduler_idle); '
	'what one evaluation found past its last batch is filed by the next calls while it holds '
	'(scheduler_backlog, rw_scheduler_backlog_hold). Exactly p_max_batches rows, or a backlog left: call again, more may '
	'be due. Since 0029.';
REVOKE EXECUTE ON FUNCTION rw_scheduler_file_batches(bigint, integer, bigint, bigint, integer, bigint)
	FROM PUBLIC;
