-- testlib.sql: helpers for the SQL tests (schema rwt), loaded by
-- run-sql-tests after the migrations. Checks return one text line, "ok - name"
-- or "not ok - name: why", which the runner numbers (TAP).
DROP SCHEMA IF EXISTS rwt CASCADE;
CREATE SCHEMA rwt;

-- Checks ------------------------------------------------------------------

CREATE FUNCTION rwt.eq(got anyelement, want anyelement, name text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
SELECT CASE WHEN got IS NOT DISTINCT FROM want THEN 'ok - ' || name
            ELSE 'not ok - ' || name || ': got ' || coalesce(got::text, 'NULL')
                 || ', want ' || coalesce(want::text, 'NULL') END
$$;

CREATE FUNCTION rwt.ok(cond boolean, name text) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN CASE WHEN cond THEN 'ok - ' || name
            ELSE 'not ok - ' || name || ': ' || coalesce(cond::text, 'NULL') END;

-- The statement fails with this SQLSTATE (and is undone: subtransaction).
CREATE FUNCTION rwt.throws(stmt text, state text, name text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		EXECUTE stmt;
	EXCEPTION WHEN OTHERS THEN
		IF SQLSTATE = state THEN
			RETURN 'ok - ' || name;
		END IF;
		RETURN 'not ok - ' || name || ': failed with ' || SQLSTATE || ' ' || SQLERRM
			|| ', want ' || state;
	END;
	RETURN 'not ok - ' || name || ': no error, want ' || state;
END
$$;

-- The error of a statement as "SQLSTATE message", or 'no error' (undone:
-- subtransaction).
CREATE FUNCTION rwt.err(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		EXECUTE stmt;
	EXCEPTION WHEN OTHERS THEN
		RETURN SQLSTATE || ' ' || SQLERRM;
	END;
	RETURN 'no error';
END
$$;

-- Data ----------------------------------------------------------------------

-- A deterministic address / 32-byte value from a number.
CREATE FUNCTION rwt.addr(n bigint) RETURNS bytea
LANGUAGE sql IMMUTABLE RETURN decode(lpad(to_hex(n), 40, '0'), 'hex');
CREATE FUNCTION rwt.h32(n bigint) RETURNS bytea
LANGUAGE sql IMMUTABLE RETURN decode(lpad(to_hex(n), 64, '0'), 'hex');
CREATE FUNCTION rwt.tx(n bigint) RETURNS bytea
LANGUAGE sql IMMUTABLE RETURN sha256(convert_to('tx/' || n, 'UTF8'));

-- Block time of test blocks: T0 + 12 s per block.
CREATE FUNCTION rwt.t0() RETURNS bigint LANGUAGE sql IMMUTABLE RETURN 1700000000;
CREATE FUNCTION rwt.block_time(number bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE RETURN rwt.t0() + 12 * number;

CREATE FUNCTION rwt.block_hash(chain bigint, number bigint, branch int) RETURNS bytea
LANGUAGE sql IMMUTABLE
RETURN sha256(convert_to(chain || '/' || number || '/' || branch, 'UTF8'));

-- Ensures the chain row and the header of block `number` exist (branch 0
-- unless told; the parent is the same branch's block number - 1).
CREATE FUNCTION rwt.block(chain bigint, number bigint, branch int DEFAULT 0) RETURNS bytea
LANGUAGE plpgsql AS $$
DECLARE
	h bytea;
BEGIN
	INSERT INTO chain (chain_id, name) VALUES (chain, 'test-' || chain) ON CONFLICT DO NOTHING;
	SELECT hash INTO h FROM indexer_block b WHERE b.chain_id = chain AND b.number = block.number;
	IF h IS NULL THEN
		h := rwt.block_hash(chain, number, branch);
		INSERT INTO indexer_block (chain_id, number, hash, parent_hash, timestamp)
		VALUES (chain, number, h, rwt.block_hash(chain, number - 1, branch), rwt.block_time(number));
	END IF;
	RETURN h;
END
$$;

-- Inserts one event row: leading columns from the arguments (tx hash from
-- the tx number, tx_index = tx number), parameters from args (jsonb:
-- bytea as '\x..' text, which to_jsonb(bytea) gives).
CREATE FUNCTION rwt.emit(tbl text, block bigint, log int, tx int, address bytea, args jsonb,
                         chain bigint DEFAULT 1) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	r jsonb;
BEGIN
	r := jsonb_build_object('chain_id', chain, 'block_number', block,
		'block_hash', rwt.block(chain, block), 'tx_hash', rwt.tx(tx), 'tx_index', tx,
		'log_index', log, 'address', address) || args;
	EXECUTE format('INSERT INTO %I SELECT * FROM jsonb_populate_record(NULL::%I, $1)', tbl, tbl)
		USING r;
END
$$;

-- The mirror of `chain` has indexed every block up to n: header n stored,
-- the head at n, every indexer cursor of the chain at n + 1.
CREATE FUNCTION rwt.mirror_at(chain bigint, n bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM rwt.block(chain, n);
	PERFORM rwt.head(chain, n, 0);
	UPDATE indexer_cursor SET next_block = n + 1 WHERE chain_id = chain;
END
$$;

-- A Balance contract `balance` on `chain` (token `token`, 6 decimals, its
-- indexer source named `source_name`), account `account` funded with 4000
-- USDC in block 5, and `n` instances of 1 USDC a day created in block 6:
-- instance k has id rwt.h32(id_base + k) and its period ends k / tie
-- seconds after a day (tie 2: two at a time). For the scheduler's tests.
CREATE FUNCTION rwt.balance_instances(chain bigint, balance bytea, token bytea, account bytea,
                                      source_name text, n int, id_base int, tie int DEFAULT 1)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM rwt.block(chain, 0);
	INSERT INTO token (chain_id, address, symbol, decimals) VALUES (chain, token, 'USDC', 6);
	INSERT INTO indexer_source (chain_id, address, kind, start_block, config_name)
	VALUES (chain, balance, 'Balance', 1, source_name);
	INSERT INTO balance_info (chain_id, address, token, min_deposit, max_balance, grace_period)
	VALUES (chain, balance, token, 10000000, 5000000000, 86400);
	PERFORM rwt.emit('ev_balance_deposited', 5, 0, 5, balance, jsonb_build_object('account', account,
		'payer', account, 'amount', 4000000000, 'tax', 0, 'ref', rwt.h32(1),
		'balance_after', 4000000000), chain);
	FOR k IN 1..n LOOP
		PERFORM rwt.emit('ev_balance_instance_created', 6, k, 6, balance, jsonb_build_object(
			'instance_id', rwt.h32(id_base + k), 'account', account, 'provider', rwt.addr(2048),
			'price_per_day', 1000000, 'paid', 1000000, 'reserve', 1000000,
			'paid_until', rwt.block_time(6) + 86400 + k / tie, 'balance_after', 4000000000 - 2000000::bigint * k),
			chain);
	END LOOP;
END
$$;

-- Sets the chain head to block `number` (its header is created if needed).
CREATE FUNCTION rwt.head(chain bigint, number bigint, confirmations int,
                         ts bigint DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO chain_head (chain_id, head_number, head_hash, head_timestamp, confirmations)
	VALUES (chain, number, rwt.block(chain, number), coalesce(ts, rwt.block_time(number)),
	        confirmations)
	ON CONFLICT (chain_id) DO UPDATE
	SET head_number = EXCLUDED.head_number, head_hash = EXCLUDED.head_hash,
	    head_timestamp = EXCLUDED.head_timestamp, confirmations = EXCLUDED.confirmations,
	    updated_at = now();
END
$$;

-- A sample value for an ABI type, as jsonb (for generic inserts).
CREATE FUNCTION rwt.sample(abi_type text, indexed boolean, n bigint) RETURNS jsonb
LANGUAGE sql IMMUTABLE
RETURN CASE
	WHEN abi_type = 'address' THEN to_jsonb(rwt.addr(n))
	WHEN abi_type ~ '^u?int[0-9]*$' THEN to_jsonb(n % 200)
	WHEN abi_type = 'bool' THEN to_jsonb(n % 2 = 0)
	WHEN abi_type = 'bytes32' OR (indexed AND abi_type IN ('string', 'bytes')) THEN to_jsonb(rwt.h32(n))
	WHEN abi_type = 'string' THEN to_jsonb('s' || n)
	ELSE to_jsonb(rwt.h32(n)) END;
