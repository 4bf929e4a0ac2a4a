/* balctx.h: what the commands on a Balance contract share (`runway topup`,
 * `runway instance`): a command's configuration and database, one-value
 * queries, which Balance contract is meant, and token amounts in that
 * contract's token decimals. Every function that can fail prints its
 * message and returns the exit code (0 on success). */
#ifndef RW_BALCTX_H
#define RW_BALCTX_H

#include <jansson.h>

#include "cli.h"
#include "pgsync.h"
#include "rwconfig.h"
#include "u256.h"

/* A command's state. Set cli, zero the rest; rw_balctx_close after use. */
struct rw_balctx {
	struct rw_cli *cli;
	struct rw_config *cfg;
	struct rw_pgsync db;
	int db_open;
};

/* The Balance contract a command acts on, and its token. */
struct rw_baltarget {
	char chain_id[24];
	char balance[43]; /* lowercase 0x-hex */
	int decimals;     /* -1: the token is not in the token table */
	char symbol[64];
};

/* Loads --config when given, then connects. */
int rw_balctx_open(struct rw_balctx *c);

/* Closes the connection and frees the configuration. */
void rw_balctx_close(struct rw_balctx *c);

/* What an rw_balctx_parse_fn returns after printing the subcommand's help. */
#define RW_BALCTX_HELP_SHOWN (-1)

/* Parses a subcommand's arguments (argv[0] is the subcommand) into opts,
 * accepting the options in `allow` and printing `help` for --help.
 * Returns 0, RW_BALCTX_HELP_SHOWN, or an exit code after a usage error. */
typedef int rw_balctx_parse_fn(struct rw_cli *cli, int argc, char **argv, int allow,
			       const char *help, void *opts);

/* Runs a subcommand on an open context with the options parse stored;
 * returns the exit code. */
typedef int rw_balctx_run_fn(struct rw_balctx *c, const void *opts);

/* Runs a subcommand: parse(cli, argc, argv, allow, help, opts); after its
 * help, exit code 0; after a usage error, its exit code, nothing opened;
 * otherwise opens a context for cli (rw_balctx_open), runs run(c, opts)
 * when that succeeded, and closes it. Returns the exit code: parse's,
 * rw_balctx_open's or run's. */
int rw_balctx_run(struct rw_cli *cli, int argc, char **argv, int allow, const char *help,
		  rw_balctx_parse_fn *parse, rw_balctx_run_fn *run, void *opts);

/* Runs a statement that returns one row of one column (or no row: *ret
 * NULL); a malloc'd copy of the value in *ret. */
int rw_balctx_query_text(struct rw_balctx *c, const char *sql, int n, const char *const *params,
			 char **ret);

/* Parses JSON text that a query built; NULL after a message on failure. */
json_t *rw_balctx_json(struct rw_balctx *c, const char *text);

/* Runs a statement that returns one JSON array as text (one row of one
 * column) and parses it; each element's addresses at keys[0..n_keys) are
 * put in EIP-55 form (rw_balctx_checksum). Returns 0 with the array in
 * *ret (json_decref it), or an exit code with *ret NULL. */
int rw_balctx_query_array(struct rw_balctx *c, const char *sql, int n, const char *const *params,
			  const char *const *keys, size_t n_keys, json_t **ret);

/* Shows j: indented JSON with --json (rw_balctx_print_json), else print(j).
 * Returns the exit code. */
int rw_balctx_show(struct rw_balctx *c, const json_t *j, void (*print)(const json_t *j));

/* rw_balctx_show of the first object of arr. When arr is empty, says
 * "<what> <id> vanished" and returns RW_EXIT_FAIL. arr stays the
 * caller's. */
int rw_balctx_show_first(struct rw_balctx *c, const json_t *arr, const char *what, const char *id,
			 void (*print)(const json_t *obj));

/* Picks the Balance contract: balance_hex (a lowercase 0x address, or NULL)
 * on chain_id (decimal text, or NULL), else the only one of the --config
 * file, else the only one the database knows. */
int rw_balctx_target(struct rw_balctx *c, const char *chain_id, const char *balance_hex,
		     struct rw_baltarget *t);

/* The string at key of object o; "" when there is none. */
const char *rw_balctx_str(const json_t *o, const char *key);

/* An amount that a query built, for people: "<units> <symbol>" when o has
 * key_units ("tokens" when o has no symbol), else "<base> base units".
 * Writes at most n bytes to buf and returns buf. */
const char *rw_balctx_show_amount(char *buf, size_t n, const json_t *o, const char *key);

/* Replaces each of the n keys of o that holds an address (0x + 40 hex
 * digits) by its EIP-55 form; other values stay as they are. */
void rw_balctx_checksum(json_t *o, const char *const *keys, size_t n);

/* Prints j as indented JSON (members in their order) and a newline to
 * standard output. Returns RW_EXIT_OK, or RW_EXIT_FAIL when it could not
 * be written. */
int rw_balctx_print_json(const json_t *j);

/* Parses a token amount given to option `opt` ("--amount") in t's token
 * decimals into decimal base units in out: never rounded (too many
 * decimals is a usage error), at most uint256, above 0 when nonzero is
 * set. */
int rw_balctx_amount(struct rw_balctx *c, const struct rw_baltarget *t, const char *opt,
		     const char *s, int nonzero, char out[RW_U256_DEC_MAX]);

#endif
