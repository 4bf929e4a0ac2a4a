-- 0028_chain_register: one way to write a chain row, safe when another
-- session writes the same row at the same moment.
--
-- Owns:
--   engine     rw_chain_register(chain_id, name): the indexer's start-up
--              write of its chain row
--
-- Why: the indexer wrote `INSERT ... ON CONFLICT (chain_id) DO UPDATE`. Its
-- only arbiter is the primary key, so when another session (the relayer's
-- sync, which inserts the same row with ON CONFLICT DO NOTHING) inserted the
-- row first and committed while the indexer's insert waited on it, the
-- indexer's statement failed on the other unique index (chain_name_key)
-- instead of finding the row. With every engine of runwayd on its own
-- database connection both run at start-up. ON CONFLICT DO NOTHING without a
-- target takes every unique index as an arbiter and never fails that way;
-- the rename is then a separate UPDATE, and a name that belongs to another
-- chain is a plain error naming both chains.

CREATE FUNCTION rw_chain_register(p_chain_id bigint, p_name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	holder bigint;
BEGIN
	INSERT INTO chain (chain_id, name) VALUES (p_chain_id, p_name) ON CONFLICT DO NOTHING;
	UPDATE chain SET name = p_name WHERE chain_id = p_chain_id AND name IS DISTINCT FROM p_name;
	IF NOT EXISTS (SELECT 1 FROM chain WHERE chain_id = p_chain_id) THEN
		RAISE SQLSTATE '23505'; -- the insert met the name, held by another chain id
	END IF;
EXCEPTION WHEN unique_violation THEN
	-- The insert or the rename met the name, held by another chain id.
	SELECT c.chain_id INTO holder FROM chain c WHERE c.name = p_name AND c.chain_id <> p_chain_id;
	RAISE EXCEPTION 'chain name % is already used by chain id %, cannot name chain id % so',
		p_name, holder, p_chain_id
		USING ERRCODE = 'unique_violation',
		      HINT = 'Chain names are unique; rename one of them in the configuration.';
END $$;
COMMENT ON FUNCTION rw_chain_register(bigint, text) IS
	'Inserts the chain row (chain_id, name), or renames the chain to p_name when it exists under '
	'another name. Safe against a concurrent insert of the same row. A name held by another chain '
	'id raises unique_violation naming both ids.';
REVOKE EXECUTE ON FUNCTION rw_chain_register(bigint, text) FROM PUBLIC;
