-- 0002_indexer: what the C indexer writes and reads.
--
-- Owns:
--   helper functions  rw_hex, rw_unhex, rw_units, rw_time, rw_is_uint,
--                     rw_event_table_create (for this and later migrations)
--   sources, cursors  indexer_source, indexer_cursor
--   blocks, head      indexer_block, chain_head
--   configuration     token, provider_info, balance_info, watched_address
--   event tables      ev_* (one per entry of abi/events.json), registered in
--                     indexer_event_table
--   reorgs            rw_indexer_rewind, rw_indexer_prune_blocks
--
-- Contract with the C indexer (src/engine/INDEXER.md is the design):
--
-- * Sources. A configured contract is one indexer_source row with
--   config_name set. A ValidatorNodeProvider created by a watched
--   Marketplace is added by SQL: inserting its ValidatorNodeProviderCreated
--   row into ev_marketplace_provider_created inserts the provider's
--   indexer_source row (start_block = the log's block, discovered_by = the
--   Marketplace's source), its provider_info row and its watched addresses,
--   all in the indexer's transaction. The indexer re-reads indexer_source
--   after each commit to learn new children; it may also insert them itself
--   (ON CONFLICT DO NOTHING), the result is the same.
--
-- * Cursors live in their own table, indexer_cursor, one row per source,
--   created by a trigger when the source is inserted (next_block =
--   start_block). next_block is the first block NOT yet indexed: every log of
--   the source in [start_block, next_block) is in the event tables. The
--   indexer advances it in the same transaction as the rows it wrote.
--
-- * Blocks. indexer_block holds one canonical header per height (unique
--   (chain_id, number)): the headers of the unconfirmed window and of every
--   block that holds an indexed log, inserted in the same transaction as the
--   block's rows. Views take event times from it. Event rows do not
--   reference it by foreign key (COPY speed); rw_indexer_rewind deletes both.
--
-- * Reorgs. rw_indexer_rewind(chain, fork) deletes, inside the caller's
--   transaction, every event row and block row at or above fork (event tables
--   from the registry indexer_event_table), every source discovered at or
--   above fork (its cursor, provider_info and watched addresses go with it by
--   foreign key; a configured provider announced there reverts to origin
--   config), and moves every cursor above fork back to
--   greatest(fork, start_block). It does not touch chain_head: the indexer
--   writes the new head in the same transaction.
--
-- * chain_head is written by the indexer on every new head; safe_number is
--   generated (head_number - confirmations) and is what views call
--   confirmed (block_number <= safe_number).
--
-- * token, provider_info and balance_info describe contracts; the indexer
--   fills them from the configuration (and eth_call of the immutable getters)
--   when it inserts the source; views left-join them, so a row whose token
--   is unknown still shows, with NULL decimal amounts.

-- Helpers ---------------------------------------------------------------

-- rw_hex: bytes as '0x' and lowercase hex (addresses, hashes in views).
CREATE FUNCTION rw_hex(b bytea) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN '0x' || encode(b, 'hex');
COMMENT ON FUNCTION rw_hex(bytea) IS
	'Bytes as 0x-prefixed lowercase hex (how views show addresses and hashes).';

-- rw_unhex: the inverse, for queries ('0x' prefix required, any case).
CREATE FUNCTION rw_unhex(t text) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
	IF t !~ '^0[xX]([0-9a-fA-F]{2})*$' THEN
		RAISE EXCEPTION 'rw_unhex: % is not 0x-prefixed hex with an even number of digits', t
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN decode(substr(t, 3), 'hex');
END
$$;
COMMENT ON FUNCTION rw_unhex(text) IS
	'0x-hex text (any case) to bytes; raises on anything else. rw_unhex(rw_hex(b)) = b.';

-- rw_units: base units to an exact decimal token amount with exactly
-- `decimals` fraction digits. Works on the digits (text), never a double and
-- never a numeric division (numeric division rounds large quotients).
CREATE FUNCTION rw_units(v numeric, decimals integer) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
	digits text;
BEGIN
	IF decimals < 0 THEN
		RAISE EXCEPTION 'rw_units: negative decimals %', decimals
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF v <> trunc(v) THEN
		RAISE EXCEPTION 'rw_units: % is not a whole number of base units', v
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	digits := trunc(abs(v))::text;
	IF decimals > 0 THEN
		digits := lpad(digits, greatest(length(digits), decimals + 1), '0');
		digits := left(digits, -decimals) || '.' || right(digits, decimals);
	END IF;
	RETURN CASE WHEN v < 0 THEN '-' ELSE '' END || digits;
END
$$;
COMMENT ON FUNCTION rw_units(numeric, integer) IS
	'Base units as an exact decimal token amount with exactly decimals fraction digits '
	'(rw_units(19990000000000195200, 18) = ''19.990000000000195200''); signed amounts keep '
	'their sign; NULL decimals give NULL.';

-- rw_time: unix seconds (block or contract time) as timestamptz; NULL when
-- the value is out of timestamptz's range (a uint256 can be anything).
CREATE FUNCTION rw_time(s numeric) RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN s >= 0 AND s < 9000000000000 THEN to_timestamp(s::bigint) END;
COMMENT ON FUNCTION rw_time(numeric) IS
	'Unix seconds as timestamptz (UTC instant); NULL when out of range.';

-- rw_is_uint: v is a whole number in [0, 2^bits): the CHECK of uintN columns.
CREATE FUNCTION rw_is_uint(v numeric, bits integer) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN v >= 0 AND v = trunc(v) AND v < 2::numeric ^ bits;
COMMENT ON FUNCTION rw_is_uint(numeric, integer) IS
	'True when v fits a Solidity uint<bits> (whole, >= 0, < 2^bits).';

-- Sources and cursors ---------------------------------------------------

CREATE TABLE indexer_source (
	id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	chain_id bigint NOT NULL REFERENCES chain (chain_id),
	address bytea NOT NULL CHECK (octet_length(address) = 20),
	kind text NOT NULL CHECK (kind ~ '^[A-Za-z][A-Za-z0-9_]*$'),
	start_block bigint NOT NULL CHECK (start_block >= 0),
	watch text CHECK (watch IN ('all', 'watched')),
	config_name text,
	discovered_by bigint REFERENCES indexer_source (id) ON DELETE CASCADE,
	discovered_block bigint CHECK (discovered_block >= 0),
	discovered_tx bytea CHECK (octet_length(discovered_tx) = 32),
	created_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (chain_id, address, kind),
	UNIQUE (chain_id, id),
	CONSTRAINT indexer_source_origin CHECK (config_name IS NOT NULL OR discovered_block IS NOT NULL)
);
CREATE INDEX indexer_source_discovered ON indexer_source (chain_id, discovered_block)
	WHERE discovered_block IS NOT NULL;
COMMENT ON TABLE indexer_source IS
	'The watch set: one contract address on one chain with the kind naming its ABI in abi/. '
	'Configured sources have config_name; sources found by a factory have discovered_* '
	'(inserted by the ev_marketplace_provider_created trigger).';
COMMENT ON COLUMN indexer_source.kind IS
	'ABI file name in abi/: TestToken (any ERC-20), ValidatorNodeProvider, Marketplace, Balance.';
COMMENT ON COLUMN indexer_source.start_block IS 'First block whose logs are indexed.';
COMMENT ON COLUMN indexer_source.watch IS
	'ERC-20 only: all = every Transfer/Approval; watched = only those touching watched_address; '
	'NULL for other kinds.';
COMMENT ON COLUMN indexer_source.config_name IS 'Name in the configuration file; NULL when discovered.';
COMMENT ON COLUMN indexer_source.discovered_by IS 'The factory source whose log created this source.';
COMMENT ON COLUMN indexer_source.discovered_block IS
	'Block of the factory log; a rewind to at or below it removes the source.';

CREATE TABLE indexer_cursor (
	source_id bigint PRIMARY KEY,
	chain_id bigint NOT NULL,
	next_block bigint NOT NULL CHECK (next_block >= 0),
	updated_at timestamptz NOT NULL DEFAULT now(),
	FOREIGN KEY (chain_id, source_id) REFERENCES indexer_source (chain_id, id) ON DELETE CASCADE
);
CREATE INDEX indexer_cursor_chain ON indexer_cursor (chain_id, next_block);
COMMENT ON TABLE indexer_cursor IS
	'Per source, the first block not yet indexed: every log of the source in '
	'[start_block, next_block) is stored. Advanced in the transaction that writes the rows; '
	'created with next_block = start_block when the source is inserted.';

CREATE FUNCTION rw_indexer_source_cursor() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO indexer_cursor (source_id, chain_id, next_block)
	VALUES (NEW.id, NEW.chain_id, NEW.start_block)
	ON CONFLICT (source_id) DO NOTHING;
	RETURN NULL;
END
$$;
CREATE TRIGGER indexer_source_cursor AFTER INSERT ON indexer_source
	FOR EACH ROW EXECUTE FUNCTION rw_indexer_source_cursor();

-- Blocks and heads ------------------------------------------------------

CREATE TABLE indexer_block (
	chain_id bigint NOT NULL REFERENCES chain (chain_id),
	number bigint NOT NULL CHECK (number >= 0),
	hash bytea NOT NULL CHECK (octet_length(hash) = 32),
	parent_hash bytea NOT NULL CHECK (octet_length(parent_hash) = 32),
	timestamp bigint NOT NULL CHECK (timestamp >= 0),
	PRIMARY KEY (chain_id, hash)
);
CREATE UNIQUE INDEX indexer_block_number ON indexer_block (chain_id, number);
COMMENT ON TABLE indexer_block IS
	'Canonical block headers: the unconfirmed window and every block holding an indexed log. '
	'One per height; a reorg deletes from the fork up before the new branch is written.';
COMMENT ON COLUMN indexer_block.timestamp IS 'Block time, unix seconds: what "now" means for billing.';

CREATE TABLE chain_head (
	chain_id bigint PRIMARY KEY REFERENCES chain (chain_id),
	head_number bigint NOT NULL CHECK (head_number >= 0),
	head_hash bytea NOT NULL CHECK (octet_length(head_hash) = 32),
	head_timestamp bigint NOT NULL CHECK (head_timestamp >= 0),
	confirmations integer NOT NULL CHECK (confirmations >= 0),
	safe_number bigint GENERATED ALWAYS AS (head_number - confirmations) STORED,
	finalized_number bigint CHECK (finalized_number >= 0),
	updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE chain_head IS
	'Latest head seen per chain. Views call a row confirmed when block_number <= safe_number; '
	'runway and billing "now" is head_timestamp (chain time, not the wall clock).';
COMMENT ON COLUMN chain_head.safe_number IS 'head_number - confirmations (generated).';
COMMENT ON COLUMN chain_head.finalized_number IS 'The node''s finalized block, when it reports one.';

-- Contracts described by configuration ----------------------------------

CREATE TABLE token (
	chain_id bigint NOT NULL REFERENCES chain (chain_id),
	address bytea NOT NULL CHECK (octet_length(address) = 20),
	symbol text NOT NULL,
	decimals smallint NOT NULL CHECK (decimals BETWEEN 0 AND 255),
	name text,
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (chain_id, address)
);
COMMENT ON TABLE token IS
	'ERC-20 tokens by chain and address: symbol and decimals for decimal amounts in views. '
	'Filled by the indexer from the configuration (or the token''s getters).';

CREATE TABLE provider_info (
	chain_id bigint NOT NULL REFERENCES chain (chain_id),
	address bytea NOT NULL CHECK (octet_length(address) = 20),
	token bytea NOT NULL CHECK (octet_length(token) = 20),
	payee bytea NOT NULL CHECK (octet_length(payee) = 20),
	price numeric(78,0) NOT NULL CHECK (rw_is_uint(price, 256)),
	consensus bytea CHECK (octet_length(consensus) = 20),
	origin text NOT NULL CHECK (origin IN ('config', 'factory')),
	source_id bigint,
	created_block bigint CHECK (created_block >= 0),
	created_tx bytea CHECK (octet_length(created_tx) = 32),
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (chain_id, address),
	FOREIGN KEY (chain_id, source_id) REFERENCES indexer_source (chain_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE provider_info IS
	'ValidatorNodeProvider immutables (token, payee, price per second in base units). '
	'origin config: inserted by the indexer from the configuration / eth_call; origin factory: '
	'inserted by the ev_marketplace_provider_created trigger (chain data wins over config). '
	'source_id defaults to the provider''s indexer_source; a discovered provider''s row goes '
	'with its source on a rewind.';

CREATE TABLE balance_info (
	chain_id bigint NOT NULL REFERENCES chain (chain_id),
	address bytea NOT NULL CHECK (octet_length(address) = 20),
	token bytea NOT NULL CHECK (octet_length(token) = 20),
	min_deposit numeric(78,0) CHECK (rw_is_uint(min_deposit, 256)),
	max_balance numeric(78,0) CHECK (rw_is_uint(max_balance, 256)),
	grace_period numeric(78,0) CHECK (rw_is_uint(grace_period, 256)),
	source_id bigint,
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (chain_id, address),
	FOREIGN KEY (chain_id, source_id) REFERENCES indexer_source (chain_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE balance_info IS
	'Balance contract immutables (token; minDeposit, maxBalance, gracePeriod when known), '
	'filled by the indexer from the configuration / eth_call. No event carries the token.';

CREATE TABLE watched_address (
	chain_id bigint NOT NULL REFERENCES chain (chain_id),
	address bytea NOT NULL CHECK (octet_length(address) = 20),
	reason text NOT NULL CHECK (reason ~ '^[a-z][a-z0-9_]*$'),
	source_id bigint,
	start_block bigint NOT NULL DEFAULT 0 CHECK (start_block >= 0),
	added_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE NULLS NOT DISTINCT (chain_id, address, reason, source_id),
	FOREIGN KEY (chain_id, source_id) REFERENCES indexer_source (chain_id, id) ON DELETE CASCADE
);
CREATE INDEX watched_address_address ON watched_address (chain_id, address);
COMMENT ON TABLE watched_address IS
	'Addresses whose ERC-20 Transfer/Approval logs are indexed on tokens with watch = watched '
	'(topic filters). reason: payee, provider (spender), balance, relayer, extra, ... '
	'Rows with source_id come from provider_info / balance_info (triggers) and go with the '
	'source; rows without are the indexer''s (configuration, relayer accounts). start_block: '
	'from where the address matters (a token cursor already past it needs a backfill).';

-- provider_info / balance_info: default source_id, then watch the addresses
-- the token filters need (the provider as spender, the payee as receiver,
-- the Balance contract as both).
CREATE FUNCTION rw_info_source() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.source_id IS NULL THEN
		SELECT id INTO NEW.source_id FROM indexer_source
		WHERE chain_id = NEW.chain_id AND address = NEW.address AND kind = TG_ARGV[0];
	END IF;
	NEW.updated_at := now();
	RETURN NEW;
END
$$;

CREATE FUNCTION rw_provider_info_watch() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	since bigint;
BEGIN
	SELECT start_block INTO since FROM indexer_source WHERE id = NEW.source_id;
	INSERT INTO watched_address (chain_id, address, reason, source_id, start_block)
	VALUES (NEW.chain_id, NEW.address, 'provider', NEW.source_id, coalesce(since, 0)),
	       (NEW.chain_id, NEW.payee, 'payee', NEW.source_id, coalesce(since, 0))
	ON CONFLICT DO NOTHING;
	RETURN NULL;
END
$$;

CREATE FUNCTION rw_balance_info_watch() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	since bigint;
BEGIN
	SELECT start_block INTO since FROM indexer_source WHERE id = NEW.source_id;
	INSERT INTO watched_address (chain_id, address, reason, source_id, start_block)
	VALUES (NEW.chain_id, NEW.address, 'balance', NEW.source_id, coalesce(since, 0))
	ON CONFLICT DO NOTHING;
	RETURN NULL;
END
$$;

CREATE TRIGGER provider_info_source BEFORE INSERT OR UPDATE ON provider_info
	FOR EACH ROW EXECUTE FUNCTION rw_info_source('ValidatorNodeProvider');
CREATE TRIGGER provider_info_watch AFTER INSERT OR UPDATE ON provider_info
	FOR EACH ROW EXECUTE FUNCTION rw_provider_info_watch();
CREATE TRIGGER balance_info_source BEFORE INSERT OR UPDATE ON balance_info
	FOR EACH ROW EXECUTE FUNCTION rw_info_source('Balance');
CREATE TRIGGER balance_info_watch AFTER INSERT OR UPDATE ON balance_info
	FOR EACH ROW EXECUTE FUNCTION rw_balance_info_watch();

-- Event tables ----------------------------------------------------------

CREATE TABLE indexer_event_table (
	table_name text PRIMARY KEY CHECK (table_name ~ '^ev_[a-z0-9_]+$'),
	kind text NOT NULL,
	event text NOT NULL,
	UNIQUE (kind, event, table_name)
);
COMMENT ON TABLE indexer_event_table IS
	'Registry of raw event tables (one per abi/events.json entry). rw_indexer_rewind and '
	'rw_indexer_prune_blocks act on every table listed; rw_event_table_create registers.';

-- rw_event_table_create: creates an event table with the common leading
-- columns, its key, the (chain_id, block_number) index, and registers it.
-- The caller adds the parameter columns (ALTER TABLE ... ADD COLUMN) and
-- its own indexes. For later migrations too.
CREATE FUNCTION rw_event_table_create(p_table text, p_kind text, p_event text, p_comment text)
RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
	IF p_table !~ '^ev_[a-z0-9_]+$' THEN
		RAISE EXCEPTION 'rw_event_table_create: table name % must match ev_[a-z0-9_]+', p_table;
	END IF;
	EXECUTE format($sql$
		CREATE TABLE %1$I (
			chain_id bigint NOT NULL CHECK (chain_id > 0),
			block_number bigint NOT NULL CHECK (block_number >= 0),
			block_hash bytea NOT NULL CHECK (octet_length(block_hash) = 32),
			tx_hash bytea NOT NULL CHECK (octet_length(tx_hash) = 32),
			tx_index integer NOT NULL CHECK (tx_index >= 0),
			log_index integer NOT NULL CHECK (log_index >= 0),
			address bytea NOT NULL CHECK (octet_length(address) = 20),
			CONSTRAINT %2$I PRIMARY KEY (chain_id, block_hash, log_index)
		)$sql$, p_table, p_table || '_pkey');
	EXECUTE format('CREATE INDEX %I ON %I (chain_id, block_number)', p_table || '_block', p_table);
	EXECUTE format('COMMENT ON TABLE %I IS %L', p_table,
		p_kind || '.' || p_event || ': ' || p_comment);
	EXECUTE format('COMMENT ON COLUMN %I.block_hash IS %L', p_table,
		'Block hash; the key is (chain_id, block_hash, log_index).');
	EXECUTE format('COMMENT ON COLUMN %I.log_index IS %L', p_table, 'Log index in the block.');
	EXECUTE format('COMMENT ON COLUMN %I.address IS %L', p_table, 'The emitting contract.');
	INSERT INTO indexer_event_table (table_name, kind, event) VALUES (p_table, p_kind, p_event);
END
$fn$;
COMMENT ON FUNCTION rw_event_table_create(text, text, text, text) IS
	'Creates and registers an ev_* table with the common leading columns '
	'(chain_id, block_number, block_hash, tx_hash, tx_index, log_index, address).';

-- ERC-20 (kind TestToken: any ERC-20)

SELECT rw_event_table_create('ev_erc20_transfer', 'TestToken', 'Transfer',
	'ERC-20 Transfer(from indexed, to indexed, value). Mints come from, burns go to 0x00..00.');
ALTER TABLE ev_erc20_transfer
	ADD COLUMN from_address bytea NOT NULL CHECK (octet_length(from_address) = 20),
	ADD COLUMN to_address bytea NOT NULL CHECK (octet_length(to_address) = 20),
	ADD COLUMN value numeric(78,0) NOT NULL CHECK (rw_is_uint(value, 256));
CREATE INDEX ev_erc20_transfer_to ON ev_erc20_transfer (chain_id, address, to_address, block_number);
CREATE INDEX ev_erc20_transfer_from ON ev_erc20_transfer (chain_id, address, from_address, block_number);
CREATE INDEX ev_erc20_transfer_tx ON ev_erc20_transfer (chain_id, tx_hash);

SELECT rw_event_table_create('ev_erc20_approval', 'TestToken', 'Approval',
	'ERC-20 Approval(owner indexed, spender indexed, value): the allowance set by approve.');
ALTER TABLE ev_erc20_approval
	ADD COLUMN owner bytea NOT NULL CHECK (octet_length(owner) = 20),
	ADD COLUMN spender bytea NOT NULL CHECK (octet_length(spender) = 20),
	ADD COLUMN value numeric(78,0) NOT NULL CHECK (rw_is_uint(value, 256));
CREATE INDEX ev_erc20_approval_key
	ON ev_erc20_approval (chain_id, address, owner, spender, block_number, log_index);

-- ValidatorNodeProvider

SELECT rw_event_table_create('ev_vnp_financial_runway', 'ValidatorNodeProvider', 'FinancialRunway',
	'FinancialRunway(application indexed, until): the application''s new paid-until unix time.');
ALTER TABLE ev_vnp_financial_runway
	ADD COLUMN application bytea NOT NULL CHECK (octet_length(application) = 20),
	ADD COLUMN until numeric(78,0) NOT NULL CHECK (rw_is_uint(until, 256));
CREATE INDEX ev_vnp_financial_runway_app
	ON ev_vnp_financial_runway (chain_id, address, application, block_number, log_index);
CREATE INDEX ev_vnp_financial_runway_tx ON ev_vnp_financial_runway (chain_id, tx_hash);

SELECT rw_event_table_create('ev_vnp_machine_location', 'ValidatorNodeProvider', 'MachineLocation',
	'MachineLocation(application indexed, location): where the machine can be fetched.');
ALTER TABLE ev_vnp_machine_location
	ADD COLUMN application bytea NOT NULL CHECK (octet_length(application) = 20),
	ADD COLUMN location text NOT NULL;
CREATE INDEX ev_vnp_machine_location_app
	ON ev_vnp_machine_location (chain_id, address, application, block_number, log_index);

SELECT rw_event_table_create('ev_vnp_application_deployed', 'ValidatorNodeProvider', 'ApplicationDeployed',
	'ApplicationDeployed(application indexed, owner indexed, templateHash, salt): from deploy.');
ALTER TABLE ev_vnp_application_deployed
	ADD COLUMN application bytea NOT NULL CHECK (octet_length(application) = 20),
	ADD COLUMN owner bytea NOT NULL CHECK (octet_length(owner) = 20),
	ADD COLUMN template_hash bytea NOT NULL CHECK (octet_length(template_hash) = 32),
	ADD COLUMN salt bytea NOT NULL CHECK (octet_length(salt) = 32);
CREATE INDEX ev_vnp_application_deployed_app
	ON ev_vnp_application_deployed (chain_id, address, application, block_number, log_index);

SELECT rw_event_table_create('ev_vnp_paused', 'ValidatorNodeProvider', 'Paused',
	'Paused(account): the provider refuses extendRunway and deploy until Unpaused.');
ALTER TABLE ev_vnp_paused
	ADD COLUMN account bytea NOT NULL CHECK (octet_length(account) = 20);
CREATE INDEX ev_vnp_paused_addr ON ev_vnp_paused (chain_id, address, block_number, log_index);

SELECT rw_event_table_create('ev_vnp_unpaused', 'ValidatorNodeProvider', 'Unpaused',
	'Unpaused(account).');
ALTER TABLE ev_vnp_unpaused
	ADD COLUMN account bytea NOT NULL CHECK (octet_length(account) = 20);
CREATE INDEX ev_vnp_unpaused_addr ON ev_vnp_unpaused (chain_id, address, block_number, log_index);

SELECT rw_event_table_create('ev_vnp_ownership_transferred', 'ValidatorNodeProvider', 'OwnershipTransferred',
	'OwnershipTransferred(previousOwner indexed, newOwner indexed), also at construction.');
ALTER TABLE ev_vnp_ownership_transferred
	ADD COLUMN previous_owner bytea NOT NULL CHECK (octet_length(previous_owner) = 20),
	ADD COLUMN new_owner bytea NOT NULL CHECK (octet_length(new_owner) = 20);
CREATE INDEX ev_vnp_ownership_transferred_addr
	ON ev_vnp_ownership_transferred (chain_id, address, block_number, log_index);

-- Marketplace

SELECT rw_event_table_create('ev_marketplace_provider_created', 'Marketplace', 'ValidatorNodeProviderCreated',
	'ValidatorNodeProviderCreated(provider, consensus, token, payee, price), nothing indexed. '
	'Inserting a row adds the provider''s indexer_source and provider_info (trigger).');
ALTER TABLE ev_marketplace_provider_created
	ADD COLUMN provider bytea NOT NULL CHECK (octet_length(provider) = 20),
	ADD COLUMN consensus bytea NOT NULL CHECK (octet_length(consensus) = 20),
	ADD COLUMN token bytea NOT NULL CHECK (octet_length(token) = 20),
	ADD COLUMN payee bytea NOT NULL CHECK (octet_length(payee) = 20),
	ADD COLUMN price numeric(78,0) NOT NULL CHECK (rw_is_uint(price, 256));
CREATE INDEX ev_marketplace_provider_created_provider
	ON ev_marketplace_provider_created (chain_id, provider);

-- A factory log discovers a provider: its source (cursor by trigger), its
-- immutables, and through provider_info its watched addresses.
CREATE FUNCTION rw_on_provider_created() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	factory bigint;
	child bigint;
BEGIN
	SELECT id INTO factory FROM indexer_source
	WHERE chain_id = NEW.chain_id AND address = NEW.address AND kind = 'Marketplace';
	INSERT INTO indexer_source (chain_id, address, kind, start_block,
	                            discovered_by, discovered_block, discovered_tx)
	VALUES (NEW.chain_id, NEW.provider, 'ValidatorNodeProvider', NEW.block_number,
	        factory, NEW.block_number, NEW.tx_hash)
	ON CONFLICT (chain_id, address, kind) DO NOTHING;
	SELECT id INTO child FROM indexer_source
	WHERE chain_id = NEW.chain_id AND address = NEW.provider AND kind = 'ValidatorNodeProvider';
	INSERT INTO provider_info AS p (chain_id, address, token, payee, price, consensus, origin,
	                                source_id, created_block, created_tx)
	VALUES (NEW.chain_id, NEW.provider, NEW.token, NEW.payee, NEW.price, NEW.consensus, 'factory',
	        child, NEW.block_number, NEW.tx_hash)
	ON CONFLICT (chain_id, address) DO UPDATE
	SET token = EXCLUDED.token, payee = EXCLUDED.payee, price = EXCLUDED.price,
	    consensus = EXCLUDED.consensus, origin = 'factory',
	    source_id = coalesce(p.source_id, EXCLUDED.source_id),
	    created_block = EXCLUDED.created_block, created_tx = EXCLUDED.created_tx;
	RETURN NULL;
END
$$;
CREATE TRIGGER ev_marketplace_provider_created_discover
	AFTER INSERT ON ev_marketplace_provider_created
	FOR EACH ROW EXECUTE FUNCTION rw_on_provider_created();

-- Balance

SELECT rw_event_table_create('ev_balance_deposited', 'Balance', 'Deposited',
	'Deposited(account indexed, payer indexed, amount, tax, ref, balanceAfter): a top-up; '
	'ref is the off-chain payment-session id, tax went to the treasury.');
ALTER TABLE ev_balance_deposited
	ADD COLUMN account bytea NOT NULL CHECK (octet_length(account) = 20),
	ADD COLUMN payer bytea NOT NULL CHECK (octet_length(payer) = 20),
	ADD COLUMN amount numeric(78,0) NOT NULL CHECK (rw_is_uint(amount, 256)),
	ADD COLUMN tax numeric(78,0) NOT NULL CHECK (rw_is_uint(tax, 256)),
	ADD COLUMN ref bytea NOT NULL CHECK (octet_length(ref) = 32),
	ADD COLUMN balance_after numeric(78,0) NOT NULL CHECK (rw_is_uint(balance_after, 256));
CREATE INDEX ev_balance_deposited_account
	ON ev_balance_deposited (chain_id, address, account, block_number, log_index);
CREATE INDEX ev_balance_deposited_ref ON ev_balance_deposited (chain_id, address, ref);
CREATE INDEX ev_balance_deposited_tx ON ev_balance_deposited (chain_id, tx_hash);

SELECT rw_event_table_create('ev_balance_credited', 'Balance', 'Credited',
	'Credited(account indexed, operator indexed, amount, ref, balanceAfter): promotional or '
	'goodwill credit, tokens supplied by the operator.');
ALTER TABLE ev_balance_credited
	ADD COLUMN account bytea NOT NULL CHECK (octet_length(account) = 20),
	ADD COLUMN operator bytea NOT NULL CHECK (octet_length(operator) = 20),
	ADD COLUMN amount numeric(78,0) NOT NULL CHECK (rw_is_uint(amount, 256)),
	ADD COLUMN ref bytea NOT NULL CHECK (octet_length(ref) = 32),
	ADD COLUMN balance_after numeric(78,0) NOT NULL CHECK (rw_is_uint(balance_after, 256));
CREATE INDEX ev_balance_credited_account
	ON ev_balance_credited (chain_id, address, account, block_number, log_index);
CREATE INDEX ev_balance_credited_tx ON ev_balance_credited (chain_id, tx_hash);

SELECT rw_event_table_create('ev_balance_refunded', 'Balance', 'Refunded',
	'Refunded(account indexed, to indexed, amount, ref, balanceAfter): operator refund out of '
	'the balance.');
ALTER TABLE ev_balance_refunded
	ADD COLUMN account bytea NOT NULL CHECK (octet_length(account) = 20),
	ADD COLUMN to_address bytea NOT NULL CHECK (octet_length(to_address) = 20),
	ADD COLUMN amount numeric(78,0) NOT NULL CHECK (rw_is_uint(amount, 256)),
	ADD COLUMN ref bytea NOT NULL CHECK (octet_length(ref) = 32),
	ADD COLUMN balance_after numeric(78,0) NOT NULL CHECK (rw_is_uint(balance_after, 256));
CREATE INDEX ev_balance_refunded_account
	ON ev_balance_refunded (chain_id, address, account, block_number, log_index);

SELECT rw_event_table_create('ev_balance_instance_created', 'Balance', 'InstanceCreated',
	'InstanceCreated(id indexed, account indexed, provider indexed, pricePerDay, paid, reserve, '
	'paidUntil, balanceAfter): period 0 paid, one day held as reserve.');
ALTER TABLE ev_balance_instance_created
	ADD COLUMN instance_id bytea NOT NULL CHECK (octet_length(instance_id) = 32),
	ADD COLUMN account bytea NOT NULL CHECK (octet_length(account) = 20),
	ADD COLUMN provider bytea NOT NULL CHECK (octet_length(provider) = 20),
	ADD COLUMN price_per_day numeric(78,0) NOT NULL CHECK (rw_is_uint(price_per_day, 256)),
	ADD COLUMN paid numeric(78,0) NOT NULL CHECK (rw_is_uint(paid, 256)),
	ADD COLUMN reserve numeric(78,0) NOT NULL CHECK (rw_is_uint(reserve, 256)),
	ADD COLUMN paid_until numeric(78,0) NOT NULL CHECK (rw_is_uint(paid_until, 256)),
	ADD COLUMN balance_after numeric(78,0) NOT NULL CHECK (rw_is_uint(balance_after, 256));
CREATE INDEX ev_balance_instance_created_id
	ON ev_balance_instance_created (chain_id, address, instance_id);
CREATE INDEX ev_balance_instance_created_account
	ON ev_balance_instance_created (chain_id, address, account, block_number, log_index);

SELECT rw_event_table_create('ev_balance_charged', 'Balance', 'Charged',
	'Charged(id indexed, account indexed, provider indexed, period, amount, reserveAfter, '
	'paidUntil): one day paid from the reserve to the provider.');
ALTER TABLE ev_balance_charged
	ADD COLUMN instance_id bytea NOT NULL CHECK (octet_length(instance_id) = 32),
	ADD COLUMN account bytea NOT NULL CHECK (octet_length(account) = 20),
	ADD COLUMN provider bytea NOT NULL CHECK (octet_length(provider) = 20),
	ADD COLUMN period numeric(78,0) NOT NULL CHECK (rw_is_uint(period, 256)),
	ADD COLUMN amount numeric(78,0) NOT NULL CHECK (rw_is_uint(amount, 256)),
	ADD COLUMN reserve_after numeric(78,0) NOT NULL CHECK (rw_is_uint(reserve_after, 256)),
	ADD COLUMN paid_until numeric(78,0) NOT NULL CHECK (rw_is_uint(paid_until, 256));
CREATE INDEX ev_balance_charged_id
	ON ev_balance_charged (chain_id, address, instance_id, block_number, log_index);
CREATE INDEX ev_balance_charged_account
	ON ev_balance_charged (chain_id, address, account, block_number, log_index);

SELECT rw_event_table_create('ev_balance_reserve_refilled', 'Balance', 'ReserveRefilled',
	'ReserveRefilled(id indexed, account indexed, amount, reserveAfter, balanceAfter): the '
	'reserve topped up to one day from the balance; the instance is Active.');
ALTER TABLE ev_balance_reserve_refilled
	ADD COLUMN instance_id bytea NOT NULL CHECK (octet_length(instance_id) = 32),
	ADD COLUMN account bytea NOT NULL CHECK (octet_length(account) = 20),
	ADD COLUMN amount numeric(78,0) NOT NULL CHECK (rw_is_uint(amount, 256)),
	ADD COLUMN reserve_after numeric(78,0) NOT NULL CHECK (rw_is_uint(reserve_after, 256)),
	ADD COLUMN balance_after numeric(78,0) NOT NULL CHECK (rw_is_uint(balance_after, 256));
CREATE INDEX ev_balance_reserve_refilled_id
	ON ev_balance_reserve_refilled (chain_id, address, instance_id, block_number, log_index);
CREATE INDEX ev_balance_reserve_refilled_account
	ON ev_balance_reserve_refilled (chain_id, address, account, block_number, log_index);

SELECT rw_event_table_create('ev_balance_small_balance', 'Balance', 'SmallBalance',
	'SmallBalance(id indexed, account indexed, reserve, balanceAfter): the reserve could not be '
	'refilled; the instance runs on what is paid.');
ALTER TABLE ev_balance_small_balance
	ADD COLUMN instance_id bytea NOT NULL CHECK (octet_length(instance_id) = 32),
	ADD COLUMN account bytea NOT NULL CHECK (octet_length(account) = 20),
	ADD COLUMN reserve numeric(78,0) NOT NULL CHECK (rw_is_uint(reserve, 256)),
	ADD COLUMN balance_after numeric(78,0) NOT NULL CHECK (rw_is_uint(balance_after, 256));
CREATE INDEX ev_balance_small_balance_id
	ON ev_balance_small_balance (chain_id, address, instance_id, block_number, log_index);
CREATE INDEX ev_balance_small_balance_account
	ON ev_balance_small_balance (chain_id, address, account, block_number, log_index);

SELECT rw_event_table_create('ev_balance_charge_failed', 'Balance', 'ChargeFailed',
	'ChargeFailed(id indexed, account indexed, period, reserve, graceUntil): a due period '
	'could not be paid; the instance ends at graceUntil unless money arrives.');
ALTER TABLE ev_balance_charge_failed
	ADD COLUMN instance_id bytea NOT NULL CHECK (octet_length(instance_id) = 32),
	ADD COLUMN account bytea NOT NULL CHECK (octet_length(account) = 20),
	ADD COLUMN period numeric(78,0) NOT NULL CHECK (rw_is_uint(period, 256)),
	ADD COLUMN reserve numeric(78,0) NOT NULL CHECK (rw_is_uint(reserve, 256)),
	ADD COLUMN grace_until numeric(78,0) NOT NULL CHECK (rw_is_uint(grace_until, 256));
CREATE INDEX ev_balance_charge_failed_id
	ON ev_balance_charge_failed (chain_id, address, instance_id, block_number, log_index);
CREATE INDEX ev_balance_charge_failed_account
	ON ev_balance_charge_failed (chain_id, address, account, block_number, log_index);

SELECT rw_event_table_create('ev_balance_instance_ended', 'Balance', 'InstanceEnded',
	'InstanceEnded(id indexed, account indexed, reason, refunded, balanceAfter): reason is the '
	'final status (3 Stopped, 4 Terminated, 5 InsufficientFunds); the reserve went back.');
ALTER TABLE ev_balance_instance_ended
	ADD COLUMN instance_id bytea NOT NULL CHECK (octet_length(instance_id) = 32),
	ADD COLUMN account bytea NOT NULL CHECK (octet_length(account) = 20),
	ADD COLUMN reason numeric(78,0) NOT NULL CHECK (rw_is_uint(reason, 8)),
	ADD COLUMN refunded numeric(78,0) NOT NULL CHECK (rw_is_uint(refunded, 256)),
	ADD COLUMN balance_after numeric(78,0) NOT NULL CHECK (rw_is_uint(balance_after, 256));
CREATE INDEX ev_balance_instance_ended_id
	ON ev_balance_instance_ended (chain_id, address, instance_id, block_number, log_index);
CREATE INDEX ev_balance_instance_ended_account
	ON ev_balance_instance_ended (chain_id, address, account, block_number, log_index);

SELECT rw_event_table_create('ev_balance_operator_set', 'Balance', 'OperatorSet',
	'OperatorSet(operator indexed, enabled).');
ALTER TABLE ev_balance_operator_set
	ADD COLUMN operator bytea NOT NULL CHECK (octet_length(operator) = 20),
	ADD COLUMN enabled boolean NOT NULL;
CREATE INDEX ev_balance_operator_set_op
	ON ev_balance_operator_set (chain_id, address, operator, block_number, log_index);

SELECT rw_event_table_create('ev_balance_treasury_set', 'Balance', 'TreasurySet',
	'TreasurySet(treasury indexed): where deposit tax goes (also at construction).');
ALTER TABLE ev_balance_treasury_set
	ADD COLUMN treasury bytea NOT NULL CHECK (octet_length(treasury) = 20);
CREATE INDEX ev_balance_treasury_set_addr
	ON ev_balance_treasury_set (chain_id, address, block_number, log_index);

SELECT rw_event_table_create('ev_balance_paused', 'Balance', 'Paused',
	'Paused(account): deposit, credit and createInstance refused until Unpaused.');
ALTER TABLE ev_balance_paused
	ADD COLUMN account bytea NOT NULL CHECK (octet_length(account) = 20);
CREATE INDEX ev_balance_paused_addr ON ev_balance_paused (chain_id, address, block_number, log_index);

SELECT rw_event_table_create('ev_balance_unpaused', 'Balance', 'Unpaused', 'Unpaused(account).');
ALTER TABLE ev_balance_unpaused
	ADD COLUMN account bytea NOT NULL CHECK (octet_length(account) = 20);
CREATE INDEX ev_balance_unpaused_addr ON ev_balance_unpaused (chain_id, address, block_number, log_index);

SELECT rw_event_table_create('ev_balance_ownership_transferred', 'Balance', 'OwnershipTransferred',
	'OwnershipTransferred(previousOwner indexed, newOwner indexed), also at construction.');
ALTER TABLE ev_balance_ownership_transferred
	ADD COLUMN previous_owner bytea NOT NULL CHECK (octet_length(previous_owner) = 20),
	ADD COLUMN new_owner bytea NOT NULL CHECK (octet_length(new_owner) = 20);
CREATE INDEX ev_balance_ownership_transferred_addr
	ON ev_balance_ownership_transferred (chain_id, address, block_number, log_index);

-- Dashboards filter the Balance views by the account as 0x-hex text
-- (balance_ledger, balance_accounts, ...). These tables grow per user action
-- or per instance-day, so an index on the hex form is cheap and turns such a
-- filter into index scans (the views push it down into every branch).
CREATE INDEX ev_balance_deposited_account_hex ON ev_balance_deposited (rw_hex(account));
CREATE INDEX ev_balance_credited_account_hex ON ev_balance_credited (rw_hex(account));
CREATE INDEX ev_balance_refunded_account_hex ON ev_balance_refunded (rw_hex(account));
CREATE INDEX ev_balance_instance_created_account_hex ON ev_balance_instance_created (rw_hex(account));
CREATE INDEX ev_balance_charged_account_hex ON ev_balance_charged (rw_hex(account));
CREATE INDEX ev_balance_reserve_refilled_account_hex ON ev_balance_reserve_refilled (rw_hex(account));
CREATE INDEX ev_balance_small_balance_account_hex ON ev_balance_small_balance (rw_hex(account));
CREATE INDEX ev_balance_charge_failed_account_hex ON ev_balance_charge_failed (rw_hex(account));
CREATE INDEX ev_balance_instance_ended_account_hex ON ev_balance_instance_ended (rw_hex(account));

-- Reorgs ----------------------------------------------------------------

-- rw_indexer_rewind: undo everything the indexer stored for a chain at or
-- above fork_block, inside the caller's transaction. Returns the number of
-- event rows and block rows deleted (rows that follow by foreign key —
-- discovered sources' cursors, provider_info, watched addresses — are not
-- counted).
CREATE FUNCTION rw_indexer_rewind(p_chain_id bigint, p_fork_block bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	t text;
	n bigint;
	total bigint := 0;
BEGIN
	IF p_chain_id IS NULL OR p_fork_block IS NULL OR p_fork_block < 0 THEN
		RAISE EXCEPTION 'rw_indexer_rewind: bad arguments (chain %, fork block %)',
			p_chain_id, p_fork_block USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR t IN SELECT table_name FROM indexer_event_table ORDER BY table_name LOOP
		EXECUTE format('DELETE FROM %I WHERE chain_id = $1 AND block_number >= $2', t)
			USING p_chain_id, p_fork_block;
		GET DIAGNOSTICS n = ROW_COUNT;
		total := total + n;
	END LOOP;
	DELETE FROM indexer_block WHERE chain_id = p_chain_id AND number >= p_fork_block;
	GET DIAGNOSTICS n = ROW_COUNT;
	total := total + n;
	-- Children found by factory logs that no longer exist (a configured
	-- source is never removed, even if a factory also announced it).
	DELETE FROM indexer_source
	WHERE chain_id = p_chain_id AND config_name IS NULL AND discovered_block >= p_fork_block;
	-- A configured provider that a vanished factory log also announced:
	-- back to what the configuration said.
	UPDATE provider_info
	SET origin = 'config', created_block = NULL, created_tx = NULL
	WHERE chain_id = p_chain_id AND created_block >= p_fork_block;
	UPDATE indexer_cursor c
	SET next_block = greatest(p_fork_block, s.start_block), updated_at = now()
	FROM indexer_source s
	WHERE s.id = c.source_id AND c.chain_id = p_chain_id AND c.next_block > p_fork_block;
	RETURN total;
END
$$;
COMMENT ON FUNCTION rw_indexer_rewind(bigint, bigint) IS
	'Reorg: delete every event row (all tables in indexer_event_table) and block row of the chain '
	'at or above fork_block and sources discovered there; move cursors above fork_block back to '
	'greatest(fork_block, start_block). Runs in the caller''s transaction; returns event + block '
	'rows deleted.';

-- rw_indexer_prune_blocks: drop headers below keep_from that hold no
-- indexed log (the window moved on). Returns the number deleted.
CREATE FUNCTION rw_indexer_prune_blocks(p_chain_id bigint, p_keep_from bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	cond text := '';
	t text;
	n bigint;
BEGIN
	FOR t IN SELECT table_name FROM indexer_event_table ORDER BY table_name LOOP
		cond := cond || format(' AND NOT EXISTS (SELECT 1 FROM %I e WHERE e.chain_id = b.chain_id'
		                       ' AND e.block_number = b.number AND e.block_hash = b.hash)', t);
	END LOOP;
	EXECUTE 'DELETE FROM indexer_block b WHERE b.chain_id = $1 AND b.number < $2' || cond
		USING p_chain_id, p_keep_from;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;
COMMENT ON FUNCTION rw_indexer_prune_blocks(bigint, bigint) IS
	'Delete headers of the chain below keep_from that hold no row of any registered event table.';
