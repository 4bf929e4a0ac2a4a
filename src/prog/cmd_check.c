/* cmd_check.c: `runway check`: reconciles the mirror (the database views)
 * against the chain with eth_call at the mirror's indexed block: ERC-20
 * allowances and balances, runways, Balance accounts and instances. Every
 * difference is printed; the exit status is 1 when there is one. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "abi.h"
#include "buf.h"
#include "cmd.h"
#include "hex.h"
#include "pg.h"
#include "pgsync.h"
#include "rpc_class.h"
#include "rpcsync.h"
#include "rwconfig.h"
#include "u256.h"

static const char usage[] =
	"Usage: runway check [--chain-id N] [--rpc-url URL] [--database-url URL] [--json]\n"
	"\n"
	"Reconciles the mirror against the chain: every value the views derive\n"
	"is read again with eth_call at the mirror's indexed block (so a live\n"
	"chain causes no false difference) and compared:\n"
	"  allowance  every (token, owner, spender) of erc20_allowances\n"
	"  balance    every holder of erc20_balances (tokens watched wholly)\n"
	"  runway     runway(app) of every application in app_runways\n"
	"  account    Balance.balances(account) of every balance_accounts row\n"
	"  instance   getInstance(id) reserve, paidUntil and status of every\n"
	"             balance_instances row\n"
	"Prints one line per mismatch, then \"checked N values at block B: M\n"
	"mismatches\". The allowance view estimates what was spent from the\n"
	"transfers it sees, so a spender it does not know shows up here.\n"
	"\n"
	"Options:\n"
	"  --chain-id N         the chain (needed when the database holds several)\n"
	"  --rpc-url URL        JSON-RPC endpoint (env RUNWAY_RPC_URL; else the\n"
	"                       --config file's first rpc URL of the chain)\n"
	"  --database-url URL   PostgreSQL (env RUNWAY_DATABASE_URL; else --config's)\n"
	"  --json               {chain_id, block, checked, mismatches: [...]}\n"
	"\n"
	"Exit status: 0 no mismatch, 1 mismatches or a failure, 2 usage error.\n";

/* One run's state. */
struct ctx {
	struct rw_cli *cli;
	struct rw_config *cfg;
	struct rw_pgsync db;
	int db_open;
	struct rw_rpcsync rpc;
	int rpc_open;
	const char *rpc_url;
	uint64_t chain_id;
	uint64_t block;
	char block_tag[24];
	unsigned long checked;
	json_t *mismatches; /* array of objects */
};

/* Parses the options. Returns 0, 1 after the help, or an exit code
 * (negated) after a usage error. */
static int parse(struct ctx *c, int argc, char **argv, const char **chain)
{
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r;
		if (rw_cli_is_help(argv[i])) {
			fputs(usage, stdout);
			return 1;
		}
		if ((r = rw_cli_opt_value(c->cli, argc, argv, &i, "chain-id", &v)) != 0) {
			if (r < 0)
				return -RW_EXIT_USAGE;
			if (!*v || v[strspn(v, "0123456789")] != '\0' || strlen(v) > 18)
				return -rw_cli_usage(c->cli, "--chain-id needs a number, not '%s'",
						     v);
			*chain = v;
			continue;
		}
		return -rw_cli_usage(c->cli, "check: unknown argument '%s'", argv[i]);
	}
	return 0;
}

/* Loads --config when given and connects to the database. Returns 0 or an
 * exit code after the message. */
static int open_db(struct ctx *c)
{
	if (rw_cli_config(c->cli, &c->cfg) != 0)
		return RW_EXIT_FAIL;
	return rw_pgsync_connect(&c->db, &c->db_open, c->cli, c->cfg);
}

/* Runs a statement with the chain id as $1. Returns the result or NULL
 * after the message. */
static PGresult *query(struct ctx *c, const char *sql)
{
	char chain[24];
	snprintf(chain, sizeof(chain), "%" PRIu64, c->chain_id);
	const char *params[] = { chain };
	struct rw_pgsync_err err;
	PGresult *r = rw_pgsync_exec(&c->db, sql, 1, params, &err);
	if (!r)
		rw_pgsync_fail(c->cli, &err);
	return r;
}

/* Picks the chain (--chain-id, else the only one with a head) and its
 * indexed block: the head, or below it the lowest cursor's last block.
 * Returns 0 or an exit code after the message. */
static int resolve_chain(struct ctx *c, const char *chain)
{
	struct rw_pgsync_err err;
	const char *params[] = { chain };
	PGresult *r = rw_pgsync_exec(
		&c->db,
		"SELECT h.chain_id::text, h.head_number::text, "
		"(SELECT min(k.next_block) - 1 FROM indexer_cursor k "
		" WHERE k.chain_id = h.chain_id)::text "
		"FROM chain_head h WHERE $1::bigint IS NULL OR h.chain_id = $1::bigint "
		"ORDER BY h.chain_id",
		1, params, &err);
	if (!r)
		return rw_pgsync_fail(c->cli, &err);
	int n = PQntuples(r), rc = 0;
	if (n == 0) {
		rw_cli_err(c->cli, "the mirror has no indexed block%s%s (has runwayd run?)",
			   chain ? " for chain " : "", chain ? chain : "");
		rc = RW_EXIT_FAIL;
	} else if (n > 1) {
		rc = rw_cli_usage(c->cli,
				  "the mirror holds %d chains: choose one with --chain-id N", n);
	} else {
		c->chain_id = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
		c->block = strtoull(PQgetvalue(r, 0, 1), NULL, 10);
		if (!PQgetisnull(r, 0, 2)) {
			long long k = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
			if (k >= 0 && (uint64_t)k < c->block)
				c->block = (uint64_t)k;
		}
		rw_hex_format_u64(c->block_tag, c->block);
	}
	PQclear(r);
	return rc;
}

/* Connects to the node (--rpc-url, else the configuration's first URL of
 * the chain) and checks it serves the mirror's chain and has the block.
 * Returns 0 or an exit code after the message. */
static int open_node(struct ctx *c)
{
	c->rpc_url = c->cli->rpc_url && *c->cli->rpc_url ? c->cli->rpc_url : NULL;
	for (size_t i = 0; !c->rpc_url && c->cfg && i < c->cfg->n_chains; i++)
		if (c->cfg->chains[i].chain_id == c->chain_id && c->cfg->chains[i].n_rpc > 0)
			c->rpc_url = c->cfg->chains[i].rpc[0].url.v;
	if (!c->rpc_url)
		return rw_cli_usage(c->cli, "check needs a node: --rpc-url URL, RUNWAY_RPC_URL or "
					    "--config FILE");
	struct rw_rpcsync_err err;
	c->rpc_open = 1;
	if (rw_rpcsync_open(&c->rpc, c->rpc_url, &err) < 0) {
		rw_cli_err(c->cli, "%s", err.msg);
		return RW_EXIT_FAIL;
	}
	uint64_t id;
	if (rw_rpcsync_chain_id(&c->rpc, &id, &err) < 0) {
		rw_cli_err(c->cli, "cannot read the chain id from the node %s: %s", c->rpc_url,
			   err.msg);
		return RW_EXIT_FAIL;
	}
	if (id != c->chain_id) {
		rw_cli_err(c->cli,
			   "the node %s serves chain %" PRIu64
			   " but the mirror is of chain %" PRIu64,
			   c->rpc_url, id, c->chain_id);
		return RW_EXIT_FAIL;
	}
	json_t *res;
	uint64_t latest;
	if (rw_rpcsync_call(&c->rpc, "eth_blockNumber", json_array(), &res, &err) < 0) {
		rw_cli_err(c->cli, "eth_blockNumber on %s failed: %s", c->rpc_url, err.msg);
		return RW_EXIT_FAIL;
	}
	int r = rw_rpc_get_quantity_u64(&latest, res);
	json_decref(res);
	if (r < 0) {
		rw_cli_err(c->cli, "eth_blockNumber on %s returned a malformed quantity",
			   c->rpc_url);
		return RW_EXIT_FAIL;
	}
	if (latest < c->block) {
		rw_cli_err(c->cli,
			   "the node %s is at block %" PRIu64 ", below the mirror's block %" PRIu64
			   " (another chain, or a node behind?)",
			   c->rpc_url, latest, c->block);
		return RW_EXIT_FAIL;
	}
	return 0;
}

/* eth_call at the indexed block of sig with up to two one-word arguments
 * (each 32 bytes, or NULL); the return data in out (rw_buf_free it).
 * Returns 0 or -1 after the message. */
static int call(struct ctx *c, const char *to_hex, const char *sig, const uint8_t *arg1,
		const uint8_t *arg2, struct rw_buf *out)
{
	uint8_t cd[68];
	size_t n = 4;
	rw_abi_selector(cd, sig, strlen(sig));
	if (arg1) {
		memcpy(cd + n, arg1, 32);
		n += 32;
	}
	if (arg2) {
		memcpy(cd + n, arg2, 32);
		n += 32;
	}
	char data[2 * sizeof(cd) + 3];
	rw_hex_encode(data, cd, n, 1);
	json_t *params = json_pack("[{s:s, s:s}, s]", "to", to_hex, "data", data, c->block_tag);
	json_t *res;
	struct rw_rpcsync_err err;
	rw_buf_init(out, 1 << 16);
	if (!params) {
		rw_cli_err(c->cli, "out of memory");
		return -1;
	}
	if (rw_rpcsync_call(&c->rpc, "eth_call", params, &res, &err) < 0) {
		rw_cli_err(c->cli, "eth_call %s on %s at block %" PRIu64 " failed: %s", sig, to_hex,
			   c->block, err.msg);
		return -1;
	}
	int r = rw_rpc_get_hex_bytes(out, res);
	json_decref(res);
	if (r < 0 || out->len == 0) {
		rw_cli_err(c->cli, "eth_call %s on %s returned %s", sig, to_hex,
			   r < 0 ? "malformed data" : "no data (no contract there?)");
		rw_buf_free(out);
		return -1;
	}
	return 0;
}

/* An address or bytes32 from view text ("0x.." hex) as one ABI word. */
static int word_of(uint8_t w[32], const char *hex, size_t n)
{
	memset(w, 0, 32);
	return rw_hex_decode_fixed(w + 32 - n, n, hex, strlen(hex), RW_HEX_PREFIX_REQUIRED);
}

/* Records a mismatch: prints "what: mirror M chain C" (unless --json). */
static void mismatch(struct ctx *c, const char *kind, const char *what, const char *mirror,
		     const char *chain)
{
	if (!c->cli->json)
		printf("%s: mirror %s chain %s\n", what, mirror, chain);
	json_array_append_new(c->mismatches, json_pack("{s:s, s:s, s:s, s:s}", "kind", kind, "what",
						       what, "mirror", mirror, "chain", chain));
}

/* Compares the mirror's decimal text with word `index` of the return data. */
static void compare_word(struct ctx *c, const char *kind, const char *what, const char *mirror,
			 const struct rw_buf *data, size_t index)
{
	rw_u256 m, v;
	char chain[RW_U256_DEC_MAX];
	c->checked++;
	if (data->len < 32 * (index + 1) || rw_u256_from_be(&v, data->p + 32 * index, 32) < 0) {
		mismatch(c, kind, what, mirror, "(short return data)");
		return;
	}
	rw_u256_format_dec(chain, &v);
	if (rw_u256_parse_dec(&m, mirror, strlen(mirror)) < 0 || rw_u256_cmp(&m, &v) != 0)
		mismatch(c, kind, what, mirror, chain);
}

/* One mirrored value that a single view call reads back: the view's SQL
 * returns (contract, what, arg1, arg2 or NULL, value) per row; `sig` takes
 * one or two 20-byte arguments and returns the value as its first word. */
struct word_check;
typedef int (*row_fn)(struct ctx *c, const struct word_check *w, PGresult *r, int i);
struct word_check {
	const char *kind;
	const char *view; /* for messages */
	const char *sig;
	const char *sql;
	row_fn row;
};

/* Reads row i of a word_check's result back from the chain and compares.
 * Returns 0 (a mismatch is recorded, not an error) or -1 after the message. */
static int row_word(struct ctx *c, const struct word_check *w, PGresult *r, int i)
{
	uint8_t a1[32], a2[32];
	int two = !PQgetisnull(r, i, 3);
	if (word_of(a1, PQgetvalue(r, i, 2), 20) < 0 ||
	    (two && word_of(a2, PQgetvalue(r, i, 3), 20) < 0)) {
		rw_cli_err(c->cli, "%s row %d holds a malformed address", w->view, i);
		return -1;
	}
	struct rw_buf out;
	if (call(c, PQgetvalue(r, i, 0), w->sig, a1, two ? a2 : NULL, &out) < 0)
		return -1;
	compare_word(c, w->kind, PQgetvalue(r, i, 1), PQgetvalue(r, i, 4), &out, 0);
	rw_buf_free(&out);
	return 0;
}

/* Runs a check over every row of its view. Returns 0 or -1. */
static int each_row(struct ctx *c, const struct word_check *w)
{
	PGresult *r = query(c, w->sql);
	if (!r)
		return -1;
	int rc = 0;
	for (int i = 0; i < PQntuples(r) && rc == 0; i++)
		rc = w->row(c, w, r, i);
	PQclear(r);
	return rc;
}

static const char *status_name(uint64_t code)
{
	static const char *const names[] = { "None",    "Active",     "SmallBalance",
					     "Stopped", "Terminated", "InsufficientFunds" };
	return code < sizeof(names) / sizeof(names[0]) ? names[code] : "Unknown";
}

/* contract, instance_id, status_code, reserve, paid_until. getInstance
 * returns (account, status, failedAt, provider, period, pricePerDay,
 * reserve, paidUntil). */
static int row_instance(struct ctx *c, const struct word_check *w, PGresult *r, int i)
{
	uint8_t id[32];
	if (word_of(id, PQgetvalue(r, i, 1), 32) < 0) {
		rw_cli_err(c->cli, "%s row %d holds a malformed id", w->view, i);
		return -1;
	}
	struct rw_buf out;
	if (call(c, PQgetvalue(r, i, 0), w->sig, id, NULL, &out) < 0)
		return -1;
	const char *inst = PQgetvalue(r, i, 1);
	char what[256];
	snprintf(what, sizeof(what), "instance %s reserve", inst);
	compare_word(c, "instance", what, PQgetvalue(r, i, 3), &out, 6);
	snprintf(what, sizeof(what), "instance %s paid_until", inst);
	compare_word(c, "instance", what, PQgetvalue(r, i, 4), &out, 7);

	c->checked++;
	snprintf(what, sizeof(what), "instance %s status", inst);
	uint64_t mirror = strtoull(PQgetvalue(r, i, 2), NULL, 10), chain = UINT64_MAX;
	rw_u256 v;
	if (out.len >= 64 && rw_u256_from_be(&v, out.p + 32, 32) == 0)
		rw_u256_to_u64(&chain, &v);
	if (mirror != chain)
		mismatch(c, "instance", what, status_name(mirror), status_name(chain));
	rw_buf_free(&out);
	return 0;
}

/* Every comparison, in one read-only snapshot of the mirror. Returns 0 or
 * -1 after the message. */
static int reconcile(struct ctx *c)
{
	static const struct word_check words[] = {
		{ "allowance", "erc20_allowances", "allowance(address,address)",
		  "SELECT token, format('allowance %s owner %s spender %s', "
		  "coalesce(symbol, token), owner, spender), owner, spender, allowance::text "
		  "FROM erc20_allowances WHERE chain_id = $1::bigint ORDER BY token, owner, "
		  "spender",
		  row_word },
		{ "balance", "erc20_balances", "balanceOf(address)",
		  "SELECT token, format('balance %s holder %s', coalesce(symbol, token), holder), "
		  "holder, NULL, balance::text FROM erc20_balances "
		  "WHERE chain_id = $1::bigint ORDER BY token, holder",
		  row_word },
		{ "runway", "app_runways", "runway(address)",
		  "SELECT provider, format('runway provider %s app %s', provider, application), "
		  "application, NULL, runway_until::text FROM app_runways "
		  "WHERE chain_id = $1::bigint ORDER BY provider, application",
		  row_word },
		{ "account", "balance_accounts", "balances(address)",
		  "SELECT contract, format('account balance %s (Balance %s)', account, contract), "
		  "account, NULL, balance::text FROM balance_accounts "
		  "WHERE chain_id = $1::bigint ORDER BY contract, account",
		  row_word },
		{ "instance", "balance_instances", "getInstance(bytes32)",
		  "SELECT contract, instance_id, status_code::text, reserve::text, "
		  "paid_until::text FROM balance_instances "
		  "WHERE chain_id = $1::bigint ORDER BY contract, instance_id",
		  row_instance },
	};
	for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
		if (each_row(c, &words[k]) < 0)
			return -1;
	return 0;
}

/* Starts the snapshot every later statement reads. */
static int begin(struct ctx *c)
{
	struct rw_pgsync_err err;
	PGresult *r = rw_pgsync_exec(&c->db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0,
				     NULL, &err);
	if (!r)
		return rw_pgsync_fail(c->cli, &err);
	PQclear(r);
	return 0;
}

static void report(struct ctx *c)
{
	size_t m = json_array_size(c->mismatches);
	if (c->cli->json) {
		json_t *o = json_pack("{s:I, s:I, s:I, s:O}", "chain_id", (json_int_t)c->chain_id,
				      "block", (json_int_t)c->block, "checked",
				      (json_int_t)c->checked, "mismatches", c->mismatches);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(o);
		return;
	}
	printf("checked %lu values at block %" PRIu64 ": %zu mismatch%s\n", c->checked, c->block, m,
	       m == 1 ? "" : "es");
}

int rw_cmd_check(struct rw_cli *cli, int argc, char **argv)
{
	struct ctx c = { .cli = cli };
	const char *chain = NULL;
	int rc = parse(&c, argc, argv, &chain);
	if (rc == 1)
		return RW_EXIT_OK;
	if (rc < 0)
		return -rc;
	c.mismatches = json_array();
	if (!c.mismatches) {
		rw_cli_err(cli, "out of memory");
		return RW_EXIT_FAIL;
	}
	if ((rc = open_db(&c)) == 0 && (rc = begin(&c)) == 0 &&
	    (rc = resolve_chain(&c, chain)) == 0 && (rc = open_node(&c)) == 0) {
		if (reconcile(&c) < 0) {
			rc = RW_EXIT_FAIL;
		} else {
			report(&c);
			rc = json_array_size(c.mismatches) ? RW_EXIT_FAIL : RW_EXIT_OK;
		}
	}
	if (c.rpc_open)
		rw_rpcsync_close(&c.rpc);
	if (c.db_open)
		rw_pgsync_close(&c.db);
	c.cfg = rw_config_free(c.cfg);
	json_decref(c.mismatches);
	return rc;
}
