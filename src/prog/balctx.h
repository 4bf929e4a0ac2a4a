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

/* Runs a statement that returns one row of one column (or no row: *ret
 * NULL); a malloc'd copy of the value in *ret. */
int rw_balctx_query_text(struct rw_balctx *c, const char *sql, int n, const char *const *params,
			 char **ret);

/* Parses JSON text that a query built; NULL after a message on failure. */
json_t *rw_balctx_json(struct rw_balctx *c, const char *text);

/* Picks the Balance contract: balance_hex (a lowercase 0x address, or NULL)
 * on chain_id (decimal text, or NULL), else the only one of the --config
 * file, else the only one the database knows. */
int rw_balctx_target(struct rw_balctx *c, const char *chain_id, const char *balance_hex,
		     struct rw_baltarget *t);

/* Parses a token amount given to option `opt` ("--amount") in t's token
 * decimals into decimal base units in out: never rounded (too many
 * decimals is a usage error), at most uint256, above 0 when nonzero is
 * set. */
int rw_balctx_amount(struct rw_balctx *c, const struct rw_baltarget *t, const char *opt,
		     const char *s, int nonzero, char out[RW_U256_DEC_MAX]);

#endif
