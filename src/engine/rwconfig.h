/* rwconfig.h: the configuration file of runwayd and the runway CLI.
 *
 * One JSON file (deploy/README.md is the reference of every key, with
 * deploy/runway.example.json): the database, where the ABI files and the
 * event map are, and per chain its RPC endpoints, confirmation depth,
 * polling, start block, contracts and watched addresses. The loader is
 * strict: an unknown key, a wrong type, a real where an integer belongs, an
 * address with a wrong EIP-55 checksum, a duplicate chain are errors, and
 * every error names the file and the JSON path of the value
 * ("runway.json: chains[0].tokens[1].decimals: expected an integer from 0
 * to 77, got \"6\"") or, for JSON syntax, the line and column.
 *
 * The environment overrides the secrets and URLs: RUNWAY_DATABASE_URL, and
 * RUNWAY_RPC_URL_<NAME> (the chain name upper-cased, '-' as '_'; a comma-
 * separated list that replaces the chain's "rpc"). Every value records
 * where it came from (file, environment, default) for rw_config_dump.
 *
 * Secrets: the password of a connection string, and whatever looks like
 * an API key in an RPC URL, are masked ("***") in every error message and
 * in the dump (rw_config_mask).
 *
 * This header is rwconfig.h, not config.h: the build's generated config.h
 * (RUNWAY_VERSION, RUNWAY_SOURCE_ROOT) is found by that name. */
#ifndef RW_RWCONFIG_H
#define RW_RWCONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "u256.h"

/* The ABI file (abi/<kind>.json) of each contract list. */
#define RW_CONFIG_KIND_TOKEN       "TestToken"
#define RW_CONFIG_KIND_PROVIDER    "ValidatorNodeProvider"
#define RW_CONFIG_KIND_MARKETPLACE "Marketplace"
#define RW_CONFIG_KIND_BALANCE     "Balance"

/* Limits. */
#define RW_CONFIG_MAX_FILE     ((size_t)4 << 20) /* bytes of the configuration file */
#define RW_CONFIG_MAX_CHAINS   64
#define RW_CONFIG_MAX_RPC      32    /* endpoints per chain (RW_RPC_MAX_ENDPOINTS) */
#define RW_CONFIG_MAX_CONTRACT 10000 /* entries of one contract or address list */
#define RW_CONFIG_NAME_MAX     32    /* chain name length */
#define RW_CONFIG_ERRLEN       1024  /* an error buffer this long holds any message */

/* Where a value came from. */
enum rw_config_src {
	RW_CONFIG_DEFAULT = 0, /* not in the file: the documented default */
	RW_CONFIG_FILE,        /* the configuration file */
	RW_CONFIG_ENV          /* an environment variable */
};

/* An integer setting and its origin. */
struct rw_config_uint {
	uint64_t v;
	enum rw_config_src src;
};

/* A string setting and its origin; v may be NULL where the key documents
 * "unset" (database_url, metrics.listen). */
struct rw_config_str {
	char *v;
	enum rw_config_src src;
};

/* One JSON-RPC endpoint. url is RW_CONFIG_FILE or RW_CONFIG_ENV; the
 * options are RW_CONFIG_DEFAULT unless the file's object form sets them. */
struct rw_config_rpc {
	struct rw_config_str url;              /* http:// or https:// */
	struct rw_config_uint max_concurrency; /* 1..1024, default 8 */
	struct rw_config_uint max_rps;         /* 0..100000, 0: no cap; default 0 */
	struct rw_config_uint timeout_ms;      /* 100..600000, default 30000 */
};

/* How an ERC-20 token is indexed. */
enum rw_config_watch {
	RW_CONFIG_WATCH_WATCHED = 0, /* only logs touching a watched address (default) */
	RW_CONFIG_WATCH_ALL          /* every Transfer and Approval of the token */
};

struct rw_config_token {
	struct rw_config_str name; /* label; default: the symbol */
	char *symbol;
	uint8_t address[20];
	unsigned decimals; /* 0..77 */
	enum rw_config_watch watch;
	enum rw_config_src watch_src;
	struct rw_config_uint start_block; /* default: the chain's start_block */
};

/* A provider, marketplace or balance contract. */
struct rw_config_contract {
	struct rw_config_str name; /* label; NULL when not given */
	uint8_t address[20];
	struct rw_config_uint start_block; /* default: the chain's start_block */
};

/* A wei amount (uint256) and its origin; v is zero when not given. */
struct rw_config_wei {
	rw_u256 v;
	enum rw_config_src src;
};

/* The relayer's key, checked for shape only. enabled is 0 when keystore is
 * absent or "" (no relayer on this chain yet); when enabled, exactly one of
 * passphrase_file and passphrase_env is set. Paths are resolved against the
 * configuration file's directory.
 *
 * Tuning (the fields of struct rw_relayer_opts, relayer.h): a setting whose
 * src is RW_CONFIG_DEFAULT was not given (its v is 0) and the relayer's own
 * default applies (rw_relayer_opts_default). */
struct rw_config_relayer {
	int enabled;
	char *keystore;                     /* NULL when not enabled */
	char *passphrase_file;              /* NULL when not given */
	char *passphrase_env;               /* an environment variable name, NULL when not given */
	struct rw_config_wei fee_cap;       /* wei, >= 1 */
	struct rw_config_wei min_tip;       /* wei */
	struct rw_config_uint max_inflight; /* 1..1024 */
	struct rw_config_uint stuck_blocks; /* 1..100000 */
	struct rw_config_uint stuck_ms;     /* 1000..86400000 */
	struct rw_config_uint rebroadcast_ms; /* 1000..86400000 */
	struct rw_config_uint gap_grace_ms;   /* 1000..86400000 */
	struct rw_config_wei warn_balance;    /* wei; 0: warn by days only */
	struct rw_config_uint warn_days;      /* 1..3650 */
	struct rw_config_uint legacy;         /* JSON true or false, as 1 or 0 */
};

/* The scheduler (chains[].scheduler): files the daily charges and reserve
 * refills of the chain's Balance contracts as intents for its relayer
 * (migrations/0022_scheduler.sql). It runs where the chain has a relayer and
 * at least one Balance contract, unless enabled is false; "enabled": true
 * without them is refused. Every field has its default when not given. */
struct rw_config_scheduler {
	struct rw_config_uint enabled;    /* true or false as 1 or 0; default 1 */
	struct rw_config_uint batch_size; /* instances per charge()/refill() call, 1..1000 (50) */
	struct rw_config_uint batch_gas;  /* estimated gas per call, 100000..100000000 (3000000) */
	struct rw_config_uint refill_every; /* seconds of chain time between retries, 60..31536000
					      * (3600) */
	struct rw_config_uint max_batches;  /* batch intents per cycle, 1..1000 (20) */
};

struct rw_config_chain {
	size_t index;      /* position in "chains" */
	char *name;        /* [a-z0-9_-]+, 1..RW_CONFIG_NAME_MAX chars, unique */
	char *rpc_env;     /* "RUNWAY_RPC_URL_<NAME>" whether set or not */
	uint64_t chain_id; /* > 0, unique */
	struct rw_config_rpc *rpc;
	size_t n_rpc;                        /* 1..RW_CONFIG_MAX_RPC */
	struct rw_config_uint confirmations; /* default by chain id */
	struct rw_config_uint
		reorg_window; /* >= confirmations; default max(2 * confirmations, 64) */
	struct rw_config_uint poll_interval_ms; /* default by chain id */
	struct rw_config_uint start_block;      /* default 0 */
	struct rw_config_uint max_block_range;  /* initial eth_getLogs range; default 2000 */
	struct rw_config_token *tokens;
	size_t n_tokens;
	struct rw_config_contract *providers;
	size_t n_providers;
	struct rw_config_contract *marketplaces;
	size_t n_marketplaces;
	struct rw_config_contract *balances;
	size_t n_balances;
	uint8_t (*watched)[20]; /* watched_addresses */
	size_t n_watched;
	struct rw_config_relayer relayer;
	struct rw_config_scheduler scheduler;
};

/* Returns 1 when runwayd runs the scheduler on chain ch: scheduler.enabled,
 * a relayer and at least one Balance contract. */
int rw_config_scheduler_on(const struct rw_config_chain *ch);

struct rw_config {
	char *path;                          /* the file as given to rw_config_load */
	char *dir;                           /* its directory, absolute */
	struct rw_config_str database_url;   /* NULL: libpq's defaults (PG* variables) */
	struct rw_config_str abi_dir;        /* absolute unless the default is relative */
	struct rw_config_str event_map;      /* default <abi_dir>/events.json */
	struct rw_config_str metrics_listen; /* "host:port"; NULL: no metrics */
	struct rw_config_chain *chains;
	size_t n_chains; /* 1..RW_CONFIG_MAX_CHAINS */
};

/* Reads, checks and completes a configuration file (defaults applied,
 * environment overrides read, relative paths resolved).
 * Returns 0; RW_EIO when the file cannot be read; RW_ETOOBIG when it is
 * larger than RW_CONFIG_MAX_FILE; RW_EINVAL for bad JSON or any invalid
 * value (in the file or in an overriding environment variable); RW_ENOMEM.
 * On failure *ret is untouched and err holds one line naming the file and
 * the key path (or line:column) and what was expected, secrets masked.
 * Out: ret: the configuration (rw_config_free it); err, errlen: the
 * message buffer (RW_CONFIG_ERRLEN bytes hold any message; a shorter one
 * gets it cut; errlen may be 0). In: path: the file. */
int rw_config_load(struct rw_config **ret, const char *path, char *err, size_t errlen);

/* Frees a configuration. Accepts NULL. Returns NULL. */
struct rw_config *rw_config_free(struct rw_config *cfg);

/* Prints the effective configuration, one "key = value  # origin" line
 * per setting, keys written as in error messages (chains[0].rpc[1].url),
 * with secrets masked. Returns 0 or RW_EIO when writing fails.
 * In: f: the stream; cfg: a loaded configuration. */
int rw_config_dump(FILE *f, const struct rw_config *cfg);

/* Returns a copy of a connection string or URL with its secrets replaced
 * by "***": the password of user:password@, the values of parameters
 * whose name holds "pass", "key", "token" or "secret" (URI query or libpq
 * key=value form), and URL path segments of 20 or more letters, digits,
 * '-' and '_' (provider API keys). NULL when out of memory. free() it.
 * In: s: the text (NULL gives "(unset)"). */
char *rw_config_mask(const char *s);

/* Returns the default confirmation depth for a chain id: 12 for Ethereum
 * and its testnets, 64 for Polygon PoS and Amoy, 20 for OP Mainnet, Base,
 * Arbitrum One and their Sepolia testnets, 0 for dev chains (31337, 1337),
 * else 12. */
uint64_t rw_config_default_confirmations(uint64_t chain_id);

/* Returns the default poll interval in milliseconds for a chain id (about
 * half its block time): 6000 for Ethereum and its testnets, 2000 for
 * Polygon, OP and Base, 1000 for Arbitrum and dev chains, else 2000. */
uint64_t rw_config_default_poll_ms(uint64_t chain_id);

/* Checks a chain's configured chain_id against an endpoint's eth_chainId
 * answer (a QUANTITY such as "0x7a69"). Returns 0 when they match;
 * RW_EINVAL when the answer is not a QUANTITY or names another chain, with
 * a message in err naming the chain, the endpoint (masked) and both ids.
 * In: ch: the chain; endpoint: the URL asked; quantity: the result text. */
int rw_config_check_chain_id(const struct rw_config_chain *ch, const char *endpoint,
			     const char *quantity, char *err, size_t errlen);

/* Returns "default", "file" or "env" for a source (never NULL). */
const char *rw_config_src_name(enum rw_config_src src);

/* ---- message helpers, shared with eventmap.c ---- */

/* snprintf for messages and paths: truncation is accepted (the text is
 * for people) and the buffer always ends with a NUL. */
void rw_config_strf(char *out, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Writes s double-quoted into out (n > 8), escaping quotes, backslashes
 * and control bytes, cutting it with "..." when long. */
void rw_config_quote(char *out, size_t n, const char *s);

/* Describes a JSON value for a message ("an object", "true", "12", a
 * quoted string; with secret, the string masked by rw_config_mask). */
void rw_config_describe(char *out, size_t n, const json_t *v, int secret);

#endif
