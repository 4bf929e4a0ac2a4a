-- 0001_init: the chains runway knows about.
--
-- One row per EVM chain runway indexes or relays on; every raw event row
-- will carry a chain_id that refers to it.
CREATE TABLE chain (
	chain_id bigint PRIMARY KEY CHECK (chain_id > 0),
	name text NOT NULL UNIQUE
);
