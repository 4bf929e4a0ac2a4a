-- 0033_scheduler_probe: a burst of due instances is looked at a call's worth
-- at a time.
--
-- Owns:
--   functions  rw_scheduler_file_batches replaced (same arguments and rows;
--              0029 and 0031 stay the reference for everything but what a
--              call that looks again evaluates); its comment restated
--
-- Why (issue #7's benchmark, tools/bench-charges: 10,000 instances due at
-- one block): a call that looked again evaluated scheduler_due whole, 300-450
-- ms over 10,000 due instances (35 us an instance: a dozen index probes of
-- the event tables each), to file at most 20 batches (980 instances); the
-- relayer got its first charge 0.5-0.6 s after the due block, and the
-- backlog's calls then took 160-250 ms each for their 85-100 batches, the
-- relayer idle in between.
--
-- Now such a call evaluates at most what it can file plus one row: the first
-- 20 batches' worth (at least 1,000 rows), LIMIT probe. A due set that fits
-- is looked at whole and handled exactly as before (filing order, at most 20
-- batches, the rest to scheduler_backlog). A burst that fills the probe is
-- filed 20 batches a call: the probe's rows in filing order, the rest of the
-- probe dropped, and an empty scheduler_backlog row left so that runwayd
-- calls again at once (rw_scheduler_more); that call finds nothing of the
-- backlog holding and looks again, skipping the instances claimed (0029's
-- view tests the open claim before deriving the state). A call thus costs
-- what it files, the relayer gets 20 batches at a time as they are filed,
-- and the first of a burst 0.1 s after its block instead of 0.5 s.
--
-- What changes for a burst: "oldest paid_until first" holds within each
-- call's probe, not across the burst (the probe is whichever rows the view
-- gives first). Every row of a burst is filed within the burst's calls, a
-- few tenths of a second apart; exactly-once does not change (claim keys are
-- unique, a row is filed under the chain's advisory lock, and a claimed
-- instance is not due).

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
	probe integer;             -- (0033) the most rows a call that looks again evaluates
	partial boolean := false;  -- it found that many: more are due than it looked at
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
		-- (0033) at most what this call can file, and one more to tell a burst
		-- (at least 1,000: a small due set is looked at whole, as before)
		probe := greatest(least(first_batches, p_max_batches) * p_batch_size, 1000) + 1;
		SELECT array_agg(d.r ORDER BY (d.r).contract, (d.r).action, (d.r).paid_until, (d.r).instance_id)
		INTO todo
		FROM (SELECT s AS r FROM scheduler_due s
		      WHERE s.chain_id = p_chain_id AND s.lag_blocks <= p_max_lag LIMIT probe) d;
		partial := coalesce(cardinality(todo), 0) = probe;
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
	-- 6. What is left past the last batch waits for the next call. (0033)
	-- After a partial look, nothing of it is kept (the rest of the burst was
	-- not looked at): an empty backlog tells the caller to call again at
	-- once, and that call, with nothing holding, looks again.
	IF partial OR (bno[n] = 0 AND since IS NOT NULL) THEN
		INSERT INTO scheduler_backlog AS b (chain_id, args, made_at, since_block, last_claim,
			anchor_blocks, anchor_hashes, todo)
		VALUES (p_chain_id, due_args, made, since, last_claim, anchors_n, anchors_h,
			CASE WHEN partial THEN '{}' ELSE
			-- a row constructor over unnest: todo[k] in a query costs O(k) a row
			ARRAY(SELECT (x.chain_id, x.contract, x.instance_id, x.account, x.action, x.period,
			              x.attempt, x.reason, x.key, x.price_per_day, x.reserve, x.paid_until,
			              x.grace_until, x.periods, x.gas, x.now, x.mirror_block, x.lag_blocks)::scheduler_due
			      FROM unnest(todo) WITH ORDINALITY x (chain_id, contract, instance_id, account, action,
			           period, attempt, reason, key, price_per_day, reserve, paid_until, grace_until,
			           periods, gas, now, mirror_block, lag_blocks, o)
			      WHERE bno[x.o] = 0 ORDER BY x.o) END)
		ON CONFLICT (chain_id) DO UPDATE SET args = EXCLUDED.args, made_at = EXCLUDED.made_at,
			since_block = EXCLUDED.since_block, last_claim = EXCLUDED.last_claim,
			anchor_blocks = EXCLUDED.anchor_blocks, anchor_hashes = EXCLUDED.anchor_hashes,
			todo = EXCLUDED.todo;
	ELSE
		DELETE FROM scheduler_backlog b WHERE b.chain_id = p_chain_id;
	END IF;
	-- 7. One row per batch; its reasons counted in one pass over the rows
	-- (per batch over every row, it was the call's largest cost)
	RETURN QUERY
	SELECT keys[g.no], g.action, g.contract, g.cnt::integer, rs.reasons,
	       base + g.gas, ids[g.no], g.claims
	FROM (SELECT bno[x.ordinality] AS no, min(x.action) AS action, (array_agg(x.contract))[1] AS contract,
	             count(*) AS cnt, sum(x.gas)::bigint AS gas,
	             array_agg(x.key ORDER BY x.ordinality) AS claims
	      FROM unnest(todo) WITH ORDINALITY x
	      WHERE bno[x.ordinality] > 0
	      GROUP BY 1) g
	JOIN (SELECT s.no, string_agg(s.reason || ' ' || s.n, ', ' ORDER BY s.reason) AS reasons
	      FROM (SELECT bno[y.ordinality] AS no, y.reason, count(*) AS n
	            FROM unnest(todo) WITH ORDINALITY y
	            WHERE bno[y.ordinality] > 0
	            GROUP BY 1, 2) s
	      GROUP BY s.no) rs ON rs.no = g.no
	ORDER BY g.no;
END
$$;
COMMENT ON FUNCTION rw_scheduler_file_batches(bigint, integer, bigint, bigint, integer, bigint) IS
	'Files what scheduler_due lists for the chain (contracts whose mirror trails the head by at '
	'most p_max_lag blocks), charges before refills, oldest paid_until first, in batch intents of '
	'at most p_batch_size instances and p_batch_gas estimated gas (30000 for the call plus each '
	'instance''s share), at most p_max_batches of them: one row per batch (intent key, action, '
	'contract, instances, reasons, estimated gas, intent id, claim keys). A call that looks at '
	'scheduler_due evaluates at most 20 batches'' worth of rows plus one (at least 1,001) and files '
	'at most 20 batches; when it found that many (a burst), the order holds within its rows, and '
	'it leaves an empty scheduler_backlog row: call again. Stores the arguments in '
	'scheduler_config. One transaction under a per-chain advisory lock; when nothing it depends '
	'on changed since a call that found nothing it returns without looking (scheduler_idle); '
	'what one complete look found past its last batch is filed by the next calls while it holds '
	'(scheduler_backlog, rw_scheduler_backlog_hold). Exactly p_max_batches rows, or a backlog left: '
	'call again, more may be due. Since 0029; the probe since 0033.';
