-- 0022_scheduler: the daily-charge scheduler and the instances operators
-- create, stop and provision (shared/DESIGN.md §1.2; abi/README.md, Balance).
--
-- Owns:
--   helpers    rw_abi_uint, rw_abi_address, rw_abi_bytes32_array (ABI words
--              for the calls below; selectors are constants checked by tests)
--   instances  table instance_request (New / Launching, off-chain), view
--              instances (the user-facing status of every instance),
--              functions rw_instance_create, rw_instance_set_status,
--              rw_instance_stop
--   scheduler  tables scheduler_config, scheduler_claim, sequence
--              scheduler_batch_seq; views scheduler_mirror, scheduler_due,
--              scheduler_claims; functions rw_scheduler_file,
--              rw_scheduler_batch; trigger indexer_cursor_notify
--   grants     runway_reader may also select relayer_health and instances
--
-- What runwayd's scheduler does (src/engine/scheduler.c): every poll cycle
-- (the chain's poll interval, and at once when the indexer commits: the
-- trigger on indexer_cursor notifies channel rw_indexed_<chain>) it calls
-- rw_scheduler_file(chain, batch size, gas budget, refill cadence, max
-- batches), then rw_topup_reconcile(chain) and rw_topup_expire(chain).
-- Each call is one transaction: it files everything or nothing.
--
-- "Now" is chain time as the mirror knows it: per Balance contract, the
-- time of the latest stored block header below the contract's indexer
-- cursor (scheduler_mirror.now). The contract checks block.timestamp >=
-- paidUntil when the charge is mined, in a later block, so nothing filed by
-- this rule is early. A contract whose mirror trails the chain head by more
-- than p_max_lag blocks (a backfill) is skipped: its state is too old to act
-- on.
--
-- What needs a transaction (scheduler_due, one row per live instance at
-- most; Balance.charge and Balance.refill are open to anyone and idempotent):
--   charge  the period after the last paid one has begun (paid_until <=
--           now). Attempt 1 is filed at once ("due"). A period whose earlier
--           attempts were all settled and which is still unpaid (the charge
--           failed: the account could not pay, grace runs) gets another
--           attempt when the grace period has ended ("grace_end": the
--           contract ends the instance as InsufficientFunds), when money
--           reached the account since ("deposit": a Deposited, Credited or
--           a reserve returned by InstanceEnded), or every refill_every
--           seconds of chain time ("cadence").
--   refill  the reserve is short (SmallBalance) and no period is due: at
--           once after money reached the account ("deposit"), else every
--           refill_every seconds ("cadence"). refill() pays no period.
-- An instance with an unsettled claim (below) gets nothing new.
--
-- Claims and keys. A batch intent ("charge:<chain>:batch:<n>", calling
-- charge(ids) or refill(ids) on one Balance contract, signer: the chain's
-- relayer) carries up to batch_size instances whose estimated gas fits the
-- budget. Each instance in it has one scheduler_claim row whose primary key
-- is its own business key:
--   charge:<chain>:<instance>:<period>[:<attempt>]   (attempt 1 has no suffix)
--   refill:<chain>:<instance>:<period>[:<attempt>]   (period: the last paid one)
-- filed in the same transaction as the intent. Instance ids are unique per
-- Balance contract only: an id that another Balance contract of the same
-- chain also has is written <contract>/<instance> in the key, and the claim
-- is unique by (chain, contract, instance, action, period, attempt) too,
-- so one contract's instance can never block or stand for the other's.
--
-- Why no period is charged twice: the contract pays a period only while
-- block.timestamp >= paidUntil and advances paidUntil by a day when it does,
-- so one period is paid at most once whatever is sent; on our side a claim
-- key names one period and one attempt and is unique (primary key), a new
-- claim for an instance is filed only when none of its claims is unsettled
-- (its intent queued, pending or mined, or mined in a block the mirror has
-- not indexed yet), and every claim is filed under a per-chain advisory lock
-- together with its intent, so two schedulers cannot both file.
-- Why none is skipped: a live instance whose period has begun is due in
-- every cycle until the mirror shows it paid or ended; attempt 1 needs
-- nothing but that, later attempts come at the latest after refill_every
-- seconds, and the grace end is always acted on. A cancelled or failed
-- intent settles its claims, so the cadence files again.
--
-- Instances. An operator (runway instance create) or the provisioning side
-- (SQL) records the instance with rw_instance_create: an instance_request
-- row (status New) and the intent "instance-create:<request-id>" calling
-- createInstance(id, account, provider, pricePerDay) through the relayer
-- (its signer must be an operator of the Balance contract, or the account).
-- The provisioning side moves it to Launching with rw_instance_set_status.
-- Once the mirror has its InstanceCreated the status follows the chain
-- (Active, SmallBalance, Stopped, Terminated, InsufficientFunds) and can no
-- longer be set. rw_instance_stop files "instance-stop:<chain>:<instance>"
-- calling stopInstance(id).
--
-- SQLSTATEs (class RW, 2xx for instances; 22023 a malformed argument,
-- P0002 no such instance):
--   RW201 the request id was used for another instance
--   RW202 the instance id exists already (on chain or requested)
--   RW203 unknown Balance contract on that chain
--   RW204 the account's balance does not cover the two days createInstance takes
--   RW205 the instance is on chain: its status follows the chain
--   RW206 the instance is not live (cannot be stopped)
--   RW207 the instance id is known on several contracts: name the one meant
--
-- Privileges: the rw_instance_* and rw_scheduler_* functions are SECURITY
-- DEFINER (search_path pinned) and not executable by PUBLIC; grant EXECUTE
-- to the roles that need them.

-- ABI helpers ---------------------------------------------------------------------

CREATE FUNCTION rw_abi_uint(v numeric) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
	x numeric := v;
	h text := '';
BEGIN
	IF NOT rw_is_uint(v, 256) THEN
		RAISE EXCEPTION 'rw_abi_uint: % is not a uint256', v USING ERRCODE = 'invalid_parameter_value';
	END IF;
	WHILE x > 0 LOOP
		h := substr('0123456789abcdef', mod(x, 16)::integer + 1, 1) || h;
		x := div(x, 16);
	END LOOP;
	RETURN decode(lpad(h, 64, '0'), 'hex');
END
$$;
COMMENT ON FUNCTION rw_abi_uint(numeric) IS
	'A uint256 as its 32-byte ABI word (big-endian, exact: digit by digit, never a double); '
	'raises 22023 outside [0, 2^256).';

CREATE FUNCTION rw_abi_address(a bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
	IF octet_length(a) <> 20 THEN
		RAISE EXCEPTION 'rw_abi_address: % is not a 20-byte address', rw_hex(a)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN '\x000000000000000000000000'::bytea || a;
END
$$;
COMMENT ON FUNCTION rw_abi_address(bytea) IS 'A 20-byte address as its 32-byte ABI word.';

CREATE FUNCTION rw_abi_bytes32_array(ids bytea[]) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
	out bytea := rw_abi_uint(32) || rw_abi_uint(coalesce(cardinality(ids), 0));
	id bytea;
BEGIN
	FOREACH id IN ARRAY ids LOOP
		IF id IS NULL OR octet_length(id) <> 32 THEN
			RAISE EXCEPTION 'rw_abi_bytes32_array: % is not 32 bytes', coalesce(rw_hex(id), 'NULL')
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		out := out || id;
	END LOOP;
	RETURN out;
END
$$;
COMMENT ON FUNCTION rw_abi_bytes32_array(bytea[]) IS
	'The ABI encoding of a lone bytes32[] argument (offset 32, length, elements): what follows '
	'the selector of charge(bytes32[]) and refill(bytes32[]).';

-- Instances: the off-chain part ----------------------------------------------------

CREATE TABLE instance_request (
	chain_id bigint NOT NULL REFERENCES chain (chain_id),
	contract bytea NOT NULL CHECK (octet_length(contract) = 20),
	instance_id bytea NOT NULL CHECK (octet_length(instance_id) = 32
		AND instance_id <> '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea),
	request_id text NOT NULL UNIQUE CHECK (request_id ~ '^[\x21-\x7e]{1,120}$'),
	account bytea NOT NULL CHECK (octet_length(account) = 20),
	provider bytea NOT NULL CHECK (octet_length(provider) = 20),
	price_per_day numeric(78,0) NOT NULL CHECK (rw_is_uint(price_per_day, 256) AND price_per_day > 0),
	status text NOT NULL DEFAULT 'New' CHECK (status IN ('New', 'Launching')),
	intent_id bigint NOT NULL REFERENCES relayer_intent (id),
	created_at timestamptz NOT NULL DEFAULT now(),
	status_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (chain_id, contract, instance_id)
);
CREATE INDEX instance_request_instance ON instance_request (instance_id);
COMMENT ON TABLE instance_request IS
	'Instances recorded through rw_instance_create: who asked (request_id), the createInstance '
	'arguments, the intent that calls it, and the off-chain status (New, Launching) that holds '
	'until the mirror has the instance''s InstanceCreated.';
COMMENT ON COLUMN instance_request.request_id IS
	'The caller''s idempotency key: the intent is instance-create:<request_id>.';
COMMENT ON COLUMN instance_request.status IS
	'New (recorded) or Launching (set by the provisioning side); shown until the instance is on chain.';
COMMENT ON COLUMN instance_request.intent_id IS 'The createInstance intent (relayer_intent).';
COMMENT ON COLUMN instance_request.status_at IS 'When status was last set.';

-- The one place the instance id of a request is derived: sha256 of a tagged text.
CREATE FUNCTION rw_instance_default_id(p_chain_id bigint, p_contract bytea, p_request_id text)
RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN sha256(convert_to('runway-instance-v1|' || p_chain_id || '|' || rw_hex(p_contract) || '|'
	|| p_request_id, 'UTF8'));
COMMENT ON FUNCTION rw_instance_default_id(bigint, bytea, text) IS
	'sha256("runway-instance-v1|<chain>|<contract 0x-hex>|<request id>"): the instance id '
	'rw_instance_create gives when none is passed (never 0; a request id maps to one id).';

CREATE FUNCTION rw_instance_create(p_chain_id bigint, p_contract bytea, p_account bytea,
	p_provider bytea, p_price_per_day numeric, p_request_id text DEFAULT NULL,
	p_instance_id bytea DEFAULT NULL) RETURNS instance_request
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	req text := coalesce(p_request_id, gen_random_uuid()::text);
	id bytea;
	r instance_request;
	i relayer_intent;
	held numeric;
BEGIN
	IF p_chain_id IS NULL OR p_contract IS NULL OR octet_length(p_contract) <> 20
	   OR p_account IS NULL OR octet_length(p_account) <> 20
	   OR p_provider IS NULL OR octet_length(p_provider) <> 20 THEN
		RAISE EXCEPTION 'rw_instance_create: a chain id and 20-byte contract, account and provider '
			'addresses are required' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_account = '\x0000000000000000000000000000000000000000'::bytea
	   OR p_provider = '\x0000000000000000000000000000000000000000'::bytea THEN
		RAISE EXCEPTION 'rw_instance_create: the account and the provider cannot be the zero address'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_price_per_day IS NULL OR NOT rw_is_uint(p_price_per_day, 256) OR p_price_per_day = 0
	   OR 2 * p_price_per_day >= 2::numeric ^ 256 THEN
		RAISE EXCEPTION 'rw_instance_create: price per day % is not a uint256 above 0 (twice it must '
			'fit too)', coalesce(p_price_per_day::text, 'NULL') USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF req !~ '^[\x21-\x7e]{1,120}$' THEN
		RAISE EXCEPTION 'rw_instance_create: request id % is not 1 to 120 printable ASCII characters '
			'without spaces', quote_literal(req) USING ERRCODE = 'invalid_parameter_value';
	END IF;
	id := coalesce(p_instance_id, rw_instance_default_id(p_chain_id, p_contract, req));
	IF octet_length(id) <> 32 OR id = '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea
	THEN
		RAISE EXCEPTION 'rw_instance_create: instance id % is not 32 bytes other than zero', rw_hex(id)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- The same request again: the same instance, or a refusal.
	SELECT * INTO r FROM instance_request x WHERE x.request_id = req;
	IF FOUND THEN
		IF r.chain_id = p_chain_id AND r.contract = p_contract AND r.instance_id = id
		   AND r.account = p_account AND r.provider = p_provider AND r.price_per_day = p_price_per_day THEN
			RETURN r;
		END IF;
		RAISE EXCEPTION 'request id % was used for instance % (account %, price per day %)', req,
			rw_hex(r.instance_id), rw_hex(r.account), r.price_per_day USING ERRCODE = 'RW201',
			HINT = 'A request id names one instance; use a new one for another.';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM balance_info b WHERE b.chain_id = p_chain_id AND b.address = p_contract) THEN
		RAISE EXCEPTION 'Balance contract % is not known on chain %', rw_hex(p_contract), p_chain_id
			USING ERRCODE = 'RW203',
			HINT = 'runwayd records the configured Balance contracts when it starts.';
	END IF;
	IF EXISTS (SELECT 1 FROM instance_request x WHERE x.chain_id = p_chain_id AND x.contract = p_contract
	           AND x.instance_id = id)
	   OR EXISTS (SELECT 1 FROM ev_balance_instance_created c WHERE c.chain_id = p_chain_id
	              AND c.address = p_contract AND c.instance_id = id) THEN
		RAISE EXCEPTION 'instance % exists already on Balance contract %', rw_hex(id), rw_hex(p_contract)
			USING ERRCODE = 'RW202', HINT = 'Instance ids are never reused, not even after the end.';
	END IF;
	SELECT a.balance INTO held FROM balance_account_state a
	WHERE a.chain_id = p_chain_id AND a.contract = p_contract AND a.account = p_account;
	IF coalesce(held, 0) < 2 * p_price_per_day THEN
		RAISE EXCEPTION 'account % has % on Balance contract %: createInstance takes two days (%)',
			rw_hex(p_account), coalesce(held, 0), rw_hex(p_contract), 2 * p_price_per_day
			USING ERRCODE = 'RW204',
			DETAIL = json_build_object('balance', coalesce(held, 0)::text,
				'needed', (2 * p_price_per_day)::text)::text,
			HINT = 'Top the account up first (a deposit counts once runwayd has indexed it).';
	END IF;
	i := rw_intent_file('instance-create:' || req, p_chain_id, p_contract,
		'\x2394e526'::bytea || id || rw_abi_address(p_account) || rw_abi_address(p_provider)
			|| rw_abi_uint(p_price_per_day));
	INSERT INTO instance_request (chain_id, contract, instance_id, request_id, account, provider,
		price_per_day, intent_id)
	VALUES (p_chain_id, p_contract, id, req, p_account, p_provider, p_price_per_day, i.id)
	RETURNING * INTO r;
	RETURN r;
END
$$;
COMMENT ON FUNCTION rw_instance_create(bigint, bytea, bytea, bytea, numeric, text, bytea) IS
	'Records instance (request_id, default a random UUID; instance id, default '
	'rw_instance_default_id) as New and files intent instance-create:<request_id> calling '
	'createInstance(id, account, provider, pricePerDay) on the Balance contract. The same request '
	'again returns the same row; refuses RW201 (request id used for another instance), RW202 '
	'(instance id exists), RW203 (unknown contract), RW204 (the mirror''s balance is below two '
	'days), 22023.';

-- Finds one instance by id (and optionally chain and contract) among requests
-- and the mirror; raises P0002 when none, RW207 when several.
CREATE FUNCTION rw_instance_find(p_instance_id bytea, p_chain_id bigint DEFAULT NULL,
	p_contract bytea DEFAULT NULL, OUT chain_id bigint, OUT contract bytea)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	n integer;
BEGIN
	SELECT count(*), min(k.chain_id), (array_agg(k.contract))[1] INTO n, chain_id, contract
	FROM (SELECT x.chain_id, x.contract FROM instance_request x WHERE x.instance_id = p_instance_id
	      UNION
	      SELECT c.chain_id, c.address FROM ev_balance_instance_created c
	      WHERE c.instance_id = p_instance_id) k
	WHERE (p_chain_id IS NULL OR k.chain_id = p_chain_id) AND (p_contract IS NULL OR k.contract = p_contract);
	IF n = 0 THEN
		RAISE EXCEPTION '%', 'no instance ' || rw_hex(p_instance_id)
			|| CASE WHEN p_chain_id IS NULL THEN '' ELSE ' on chain ' || p_chain_id END
			|| CASE WHEN p_contract IS NULL THEN '' ELSE ' on Balance contract ' || rw_hex(p_contract) END
			USING ERRCODE = 'no_data_found';
	END IF;
	IF n > 1 THEN
		RAISE EXCEPTION 'instance % is known on % Balance contracts', rw_hex(p_instance_id), n
			USING ERRCODE = 'RW207', HINT = 'Name the chain and the Balance contract.';
	END IF;
END
$$;
COMMENT ON FUNCTION rw_instance_find(bytea, bigint, bytea) IS
	'The chain and Balance contract of an instance id (requests and the mirror); P0002 when '
	'unknown, RW207 when the id is on several contracts and the filters do not tell them apart.';

CREATE FUNCTION rw_instance_set_status(p_instance_id bytea, p_status text,
	p_chain_id bigint DEFAULT NULL, p_contract bytea DEFAULT NULL) RETURNS instance_request
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	f record;
	r instance_request;
	st numeric;
BEGIN
	IF p_status IS NULL OR p_status NOT IN ('New', 'Launching') THEN
		RAISE EXCEPTION 'status %: only New and Launching are set by hand; the others follow the chain',
			coalesce(quote_literal(p_status), 'NULL') USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_instance_id IS NULL THEN
		RAISE EXCEPTION 'rw_instance_set_status: an instance id is required'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO f FROM rw_instance_find(p_instance_id, p_chain_id, p_contract);
	SELECT i.status INTO st FROM balance_instance_state i
	WHERE i.chain_id = f.chain_id AND i.contract = f.contract AND i.instance_id = p_instance_id;
	IF FOUND THEN
		RAISE EXCEPTION 'instance % is on chain (%): its status follows the chain', rw_hex(p_instance_id),
			rw_instance_status(st) USING ERRCODE = 'RW205';
	END IF;
	UPDATE instance_request x SET status = p_status, status_at = now()
	WHERE x.chain_id = f.chain_id AND x.contract = f.contract AND x.instance_id = p_instance_id
	RETURNING * INTO r;
	RETURN r;
END
$$;
COMMENT ON FUNCTION rw_instance_set_status(bytea, text, bigint, bytea) IS
	'Sets the off-chain status (New or Launching) of a recorded instance that the mirror does not '
	'have on chain yet. Refuses RW205 once it is on chain, P0002 unknown, RW207 ambiguous, 22023.';

CREATE FUNCTION rw_instance_stop(p_instance_id bytea, p_chain_id bigint DEFAULT NULL,
	p_contract bytea DEFAULT NULL) RETURNS relayer_intent
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	f record;
	st numeric;
	req instance_request;
BEGIN
	IF p_instance_id IS NULL THEN
		RAISE EXCEPTION 'rw_instance_stop: an instance id is required'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO f FROM rw_instance_find(p_instance_id, p_chain_id, p_contract);
	SELECT i.status INTO st FROM balance_instance_state i
	WHERE i.chain_id = f.chain_id AND i.contract = f.contract AND i.instance_id = p_instance_id;
	IF NOT FOUND THEN
		SELECT * INTO req FROM instance_request x
		WHERE x.chain_id = f.chain_id AND x.contract = f.contract AND x.instance_id = p_instance_id;
		RAISE EXCEPTION 'instance % is not on chain yet (%)', rw_hex(p_instance_id), req.status
			USING ERRCODE = 'RW206',
			HINT = format('Cancel its creation instead: SELECT rw_intent_cancel(%L).',
				'instance-create:' || req.request_id);
	END IF;
	IF st NOT IN (1, 2) THEN
		RAISE EXCEPTION 'instance % has ended (%): nothing to stop', rw_hex(p_instance_id),
			rw_instance_status(st) USING ERRCODE = 'RW206';
	END IF;
	RETURN rw_intent_file('instance-stop:' || f.chain_id || ':' || rw_hex(p_instance_id), f.chain_id,
		f.contract, '\xc257a3cf'::bytea || p_instance_id);
END
$$;
COMMENT ON FUNCTION rw_instance_stop(bytea, bigint, bytea) IS
	'Files intent instance-stop:<chain>:<instance> calling stopInstance(id) (periods begun are '
	'paid, the reserve goes back to the balance); the same call again returns the same intent. '
	'Refuses RW206 when the instance is not on chain yet or has ended, P0002, RW207.';

-- Scheduler: configuration, mirror point, claims ------------------------------------

CREATE TABLE scheduler_config (
	chain_id bigint PRIMARY KEY REFERENCES chain (chain_id),
	batch_size integer NOT NULL CHECK (batch_size BETWEEN 1 AND 1000),
	batch_gas bigint NOT NULL CHECK (batch_gas BETWEEN 100000 AND 100000000),
	refill_every bigint NOT NULL CHECK (refill_every BETWEEN 60 AND 31536000),
	max_batches integer NOT NULL CHECK (max_batches BETWEEN 1 AND 1000),
	max_lag bigint NOT NULL CHECK (max_lag >= 0),
	updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE scheduler_config IS
	'What the chain''s scheduler last ran with (written by rw_scheduler_file from runwayd''s '
	'configuration, chains[].scheduler): batch size, gas budget per batch, refill cadence in '
	'seconds of chain time, batches per call, tolerated mirror lag in blocks. scheduler_due '
	'reads refill_every from here (3600 when the chain has no row).';

CREATE SEQUENCE scheduler_batch_seq;
COMMENT ON SEQUENCE scheduler_batch_seq IS 'Numbers the batch intents (charge:<chain>:batch:<n>).';

CREATE TABLE scheduler_claim (
	key text PRIMARY KEY
		CHECK (key ~ '^(charge|refill):[0-9]+:(0x[0-9a-f]{40}/)?0x[0-9a-f]{64}:[0-9]+(:[0-9]+)?$'),
	id bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	chain_id bigint NOT NULL REFERENCES chain (chain_id),
	contract bytea NOT NULL CHECK (octet_length(contract) = 20),
	instance_id bytea NOT NULL CHECK (octet_length(instance_id) = 32),
	action text NOT NULL CHECK (action IN ('charge', 'refill')),
	period numeric(78,0) NOT NULL CHECK (rw_is_uint(period, 256)),
	attempt integer NOT NULL CHECK (attempt >= 1),
	reason text NOT NULL CHECK (reason IN ('due', 'grace_end', 'deposit', 'cadence')),
	intent_id bigint NOT NULL REFERENCES relayer_intent (id),
	mirror_block bigint NOT NULL CHECK (mirror_block >= -1),
	mirror_time bigint NOT NULL CHECK (mirror_time >= 0),
	filed_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (chain_id, contract, instance_id, action, period, attempt)
);
CREATE INDEX scheduler_claim_instance ON scheduler_claim (chain_id, contract, instance_id, id);
CREATE INDEX scheduler_claim_intent ON scheduler_claim (intent_id);
COMMENT ON TABLE scheduler_claim IS
	'One row per instance in a charge or refill batch intent, keyed by its business key '
	'(charge|refill:<chain>:<instance>:<period>[:<attempt>]): the exactly-once record of what the '
	'scheduler asked for. mirror_block / mirror_time: the mirror''s point and chain time when it '
	'was filed (what the decision saw).';
COMMENT ON COLUMN scheduler_claim.period IS
	'charge: the period it pays (the last paid + 1); refill: the last paid period.';
COMMENT ON COLUMN scheduler_claim.reason IS
	'due (first attempt at a period), grace_end (the grace period ended: the contract ends the '
	'instance), deposit (money reached the account since the last try), cadence (refill_every '
	'passed).';

-- The indexer's commit hook: a cursor that moves notifies rw_indexed_<chain>
-- (one notification per transaction and chain: PostgreSQL folds equal ones).
CREATE FUNCTION rw_indexer_cursor_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('rw_indexed_' || NEW.chain_id, '');
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION rw_indexer_cursor_notify() IS
	'Trigger: notifies channel rw_indexed_<chain_id> when an indexer cursor moves (delivered at '
	'commit), so the scheduler acts on new blocks at once.';
CREATE TRIGGER indexer_cursor_notify AFTER UPDATE OF next_block ON indexer_cursor
	FOR EACH ROW WHEN (NEW.next_block IS DISTINCT FROM OLD.next_block)
	EXECUTE FUNCTION rw_indexer_cursor_notify();

CREATE VIEW scheduler_mirror AS
SELECT s.chain_id,
       s.address AS contract,
       s.id AS source_id,
       c.next_block - 1 AS mirror_block,
       t.number AS time_block,
       t.timestamp AS now,
       h.head_number,
       greatest(coalesce(h.head_number, 0) - (c.next_block - 1), 0) AS lag_blocks
FROM indexer_source s
JOIN indexer_cursor c ON c.source_id = s.id
LEFT JOIN chain_head h ON h.chain_id = s.chain_id
LEFT JOIN LATERAL (
	SELECT b.number, b.timestamp FROM indexer_block b
	WHERE b.chain_id = s.chain_id AND b.number < c.next_block
	ORDER BY b.number DESC LIMIT 1
) t ON true
WHERE s.kind = 'Balance';
COMMENT ON VIEW scheduler_mirror IS
	'Raw: per Balance contract, how far the mirror is: mirror_block (last block indexed), now '
	'(time of the latest stored header at or below it: the chain time the scheduler acts on; NULL '
	'before any), lag_blocks behind the head the indexer has seen.';

CREATE VIEW scheduler_due AS
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
COMMENT ON VIEW scheduler_due IS
	'Raw (bytea keys): the live instances that need a transaction now, against the mirror''s chain '
	'time (scheduler_mirror.now), with no unsettled claim: action charge (a period has begun; '
	'reason due for the first attempt at it, grace_end, deposit or cadence for later ones) or '
	'refill (reserve short, nothing due; reason deposit or cadence), the claim key it gets, the '
	'periods the charge will pay (at most 30 per call) and the estimated gas of its part of a '
	'batch. What rw_scheduler_file files.';
COMMENT ON COLUMN scheduler_due.gas IS
	'Estimated gas of this instance inside charge()/refill(): 60000 for the first period (pay, '
	'transfer, refill), 15000 for each further one, 40000 for a refill (measured on anvil: '
	'46600-58200 per instance for one period, about 9000 per extra period).';

CREATE VIEW scheduler_claims AS
SELECT cl.id,
       cl.key,
       cl.chain_id,
       rw_hex(cl.contract) AS contract,
       rw_hex(cl.instance_id) AS instance_id,
       cl.action,
       cl.period,
       cl.attempt,
       cl.reason,
       ri.key AS intent_key,
       ri.state AS intent_state,
       ri.reason AS intent_reason,
       rw_hex(ri.tx_hash) AS tx_hash,
       rr.block_number,
       cl.mirror_block,
       cl.mirror_time,
       rw_time(cl.mirror_time) AS mirror_time_time,
       cl.filed_at,
       NOT (ri.state IN ('queued', 'pending', 'mined')
            OR (ri.state IN ('confirmed', 'final', 'reverted')
                AND (rr.block_number IS NULL OR rr.block_number > m.mirror_block))) AS settled
FROM scheduler_claim cl
JOIN relayer_intent ri ON ri.id = cl.intent_id
LEFT JOIN relayer_receipt rr ON rr.tx_hash = ri.tx_hash
LEFT JOIN scheduler_mirror m ON m.chain_id = cl.chain_id AND m.contract = cl.contract;
COMMENT ON VIEW scheduler_claims IS
	'Every claim with its batch intent (key, state, reason, transaction and block) and settled: '
	'the intent is done with (failed, cancelled, or mined in a block the mirror has indexed).';

-- Scheduler: filing ------------------------------------------------------------------

-- Files one batch: the intent and a claim per row (rows of one chain,
-- contract and action).
CREATE FUNCTION rw_scheduler_batch(p_rows scheduler_due[]) RETURNS relayer_intent
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	f scheduler_due := p_rows[1];
	i relayer_intent;
BEGIN
	IF f IS NULL OR EXISTS (SELECT 1 FROM unnest(p_rows) x WHERE x.chain_id <> f.chain_id
	                        OR x.contract <> f.contract OR x.action <> f.action) THEN
		RAISE EXCEPTION 'rw_scheduler_batch: a batch is one chain, contract and action'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	i := rw_intent_file(f.action || ':' || f.chain_id || ':batch:' || nextval('scheduler_batch_seq'),
		f.chain_id, f.contract,
		CASE f.action WHEN 'charge' THEN '\xd66062ee'::bytea ELSE '\x8092abd8'::bytea END
			|| rw_abi_bytes32_array(ARRAY(SELECT x.instance_id FROM unnest(p_rows) WITH ORDINALITY x
			                              ORDER BY ordinality)));
	INSERT INTO scheduler_claim (key, chain_id, contract, instance_id, action, period, attempt, reason,
		intent_id, mirror_block, mirror_time)
	SELECT x.key, x.chain_id, x.contract, x.instance_id, x.action, x.period, x.attempt, x.reason,
		i.id, x.mirror_block, x.now
	FROM unnest(p_rows) x;
	RETURN i;
END
$$;
COMMENT ON FUNCTION rw_scheduler_batch(scheduler_due[]) IS
	'Internal to rw_scheduler_file: files intent charge|refill:<chain>:batch:<n> calling '
	'charge(ids) or refill(ids) on the rows'' contract and one scheduler_claim per row, in the '
	'caller''s transaction.';

CREATE FUNCTION rw_scheduler_file(p_chain_id bigint, p_batch_size integer DEFAULT 50,
	p_batch_gas bigint DEFAULT 3000000, p_refill_every bigint DEFAULT 3600,
	p_max_batches integer DEFAULT 20, p_max_lag bigint DEFAULT 32)
RETURNS TABLE (key text, action text, contract bytea, instances integer, reasons text,
	gas bigint, intent_id bigint, claims text[])
-- jit off: compiling the plan of scheduler_due costs seconds, running it milliseconds
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET jit = off AS $$
#variable_conflict use_column
DECLARE
	r scheduler_due;
	batch scheduler_due[] := '{}';
	used bigint := 0;
	filed integer := 0;
	i relayer_intent;
	base constant bigint := 30000; -- the call itself: 21000 + calldata and the loop
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
	FOR r IN SELECT * FROM scheduler_due d WHERE d.chain_id = p_chain_id AND d.lag_blocks <= p_max_lag
	         ORDER BY d.contract, d.action, d.paid_until, d.instance_id LOOP
		IF cardinality(batch) > 0 AND (r.contract <> (batch[1]).contract OR r.action <> (batch[1]).action
		   OR cardinality(batch) >= p_batch_size OR base + used + r.gas > p_batch_gas) THEN
			i := rw_scheduler_batch(batch);
			filed := filed + 1;
			RETURN QUERY SELECT i.key, (batch[1]).action, (batch[1]).contract, cardinality(batch),
				(SELECT string_agg(s.reason || ' ' || s.n, ', ' ORDER BY s.reason)
				 FROM (SELECT b.reason, count(*) AS n FROM unnest(batch) b GROUP BY b.reason) s),
				base + used, i.id, ARRAY(SELECT b.key FROM unnest(batch) b);
			batch := '{}';
			used := 0;
			EXIT WHEN filed >= p_max_batches;
		END IF;
		batch := batch || r;
		used := used + r.gas;
	END LOOP;
	IF cardinality(batch) > 0 AND filed < p_max_batches THEN
		i := rw_scheduler_batch(batch);
		RETURN QUERY SELECT i.key, (batch[1]).action, (batch[1]).contract, cardinality(batch),
			(SELECT string_agg(s.reason || ' ' || s.n, ', ' ORDER BY s.reason)
			 FROM (SELECT b.reason, count(*) AS n FROM unnest(batch) b GROUP BY b.reason) s),
			base + used, i.id, ARRAY(SELECT b.key FROM unnest(batch) b);
	END IF;
END
$$;
COMMENT ON FUNCTION rw_scheduler_file(bigint, integer, bigint, bigint, integer, bigint) IS
	'Files what scheduler_due lists for the chain (contracts whose mirror trails the head by at '
	'most p_max_lag blocks), charges before refills, oldest paid_until first, in batch intents of '
	'at most p_batch_size instances and p_batch_gas estimated gas (30000 for the call plus each '
	'instance''s share), at most p_max_batches of them: one row per batch (intent key, action, '
	'contract, instances, reasons, estimated gas, intent id, claim keys). Stores the arguments in '
	'scheduler_config (nothing at all while the chain table lacks the chain). One transaction '
	'under a per-chain advisory lock; a second call with nothing new files nothing. Exactly '
	'p_max_batches rows: call again, more may be due.';

REVOKE EXECUTE ON FUNCTION rw_instance_create(bigint, bytea, bytea, bytea, numeric, text, bytea),
	rw_instance_set_status(bytea, text, bigint, bytea), rw_instance_stop(bytea, bigint, bytea),
	rw_scheduler_batch(scheduler_due[]),
	rw_scheduler_file(bigint, integer, bigint, bigint, integer, bigint)
	FROM PUBLIC;

-- The user-facing instance list ----------------------------------------------------------

CREATE VIEW instances AS
SELECT coalesce(b.chain_id, r.chain_id) AS chain_id,
       coalesce(b.contract, rw_hex(r.contract)) AS contract,
       coalesce(b.instance_id, rw_hex(r.instance_id)) AS instance_id,
       coalesce(b.account, rw_hex(r.account)) AS account,
       coalesce(b.provider, rw_hex(r.provider)) AS provider,
       coalesce(b.status, r.status) AS status,
       b.instance_id IS NOT NULL AS on_chain,
       coalesce(b.live, false) AS live,
       coalesce(b.symbol, t.symbol) AS symbol,
       coalesce(b.price_per_day, r.price_per_day) AS price_per_day,
       coalesce(b.price_per_day_units, rw_units(r.price_per_day, t.decimals)) AS price_per_day_units,
       b.reserve,
       b.reserve_units,
       b.paid_until,
       b.paid_until_time,
       b.next_charge,
       b.next_charge_time,
       b.due,
       b.needs_refill,
       b.grace_until,
       b.grace_until_time,
       b.charges,
       b.charged,
       b.charged_units,
       b.refunded,
       b.refunded_units,
       b.created_time,
       b.ended_reason,
       r.request_id,
       r.status AS requested_status,
       r.created_at AS requested_at,
       ci.key AS create_intent,
       ci.state AS create_state,
       ci.reason AS create_reason,
       si.key AS stop_intent,
       si.state AS stop_state,
       si.reason AS stop_reason,
       lc.key AS last_claim,
       lc.intent_key AS last_claim_intent,
       lc.intent_state AS last_claim_state,
       coalesce(b.confirmed, false) AS confirmed
FROM instance_request r
FULL JOIN instance_billing b ON b.chain_id = r.chain_id AND b.contract = rw_hex(r.contract)
                            AND b.instance_id = rw_hex(r.instance_id)
LEFT JOIN balance_info bi ON bi.chain_id = r.chain_id AND bi.address = r.contract
LEFT JOIN token t ON t.chain_id = bi.chain_id AND t.address = bi.token
LEFT JOIN relayer_intent ci ON ci.id = r.intent_id
LEFT JOIN relayer_intent si ON si.key = 'instance-stop:' || coalesce(b.chain_id, r.chain_id) || ':'
                                       || coalesce(b.instance_id, rw_hex(r.instance_id))
LEFT JOIN LATERAL (
	SELECT c.key, i.key AS intent_key, i.state AS intent_state FROM scheduler_claim c
	JOIN relayer_intent i ON i.id = c.intent_id
	WHERE c.chain_id = coalesce(b.chain_id, r.chain_id)
	  AND c.contract = coalesce(r.contract, rw_unhex(b.contract))
	  AND c.instance_id = coalesce(r.instance_id, rw_unhex(b.instance_id))
	ORDER BY c.id DESC LIMIT 1
) lc ON true;
COMMENT ON VIEW instances IS
	'Every instance as users see it: recorded ones (instance_request) and every instance the mirror '
	'has. status: New or Launching (off-chain, set by rw_instance_set_status) until the mirror has '
	'its InstanceCreated, then the chain''s (Active, SmallBalance, Stopped, Terminated, '
	'InsufficientFunds). Billing columns as instance_billing; the create and stop intents and the '
	'scheduler''s last claim with their states.';
COMMENT ON COLUMN instances.status IS
	'New, Launching, Active, SmallBalance, Stopped, Terminated or InsufficientFunds.';
COMMENT ON COLUMN instances.requested_status IS 'The off-chain status as last set (New or Launching).';
COMMENT ON COLUMN instances.create_intent IS 'instance-create:<request id> (NULL when created elsewhere).';
COMMENT ON COLUMN instances.last_claim IS 'The scheduler''s latest claim for the instance (scheduler_claim.key).';

-- Read-only role: the relayer's health and the instance list too ---------------------------

GRANT SELECT ON relayer_health, instances TO runway_reader;
COMMENT ON ROLE runway_reader IS
	'Read-only dashboards: SELECT on app_runway, account_balance, instance_billing, charge_history, '
	'topup_sessions, topup_flags, relayer_health and instances, nothing else (GRANT runway_reader '
	'TO a login role).';
