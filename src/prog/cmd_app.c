/* cmd_app.c: `runway app status`: an application's runway on a provider:
 * until, time left, status (active, lapsed, never funded) and who funded
 * it. From the mirror (the app_runway and app_funding views) when a
 * database is configured, else from the chain: runway(app) and the
 * FinancialRunway logs of the application, each with the Transfer of the
 * provider's token to its payee in the same transaction (payer, amount).
 * Both sources fill one JSON object of the same shape; the text form is
 * printed from it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "abi.h"
#include "chainread.h"
#include "cmd.h"
#include "duration.h"
#include "err.h"
#include "hex.h"
#include "key.h"
#include "pg.h"
#include "pgsync.h"
#include "rpcsync.h"
#include "rwconfig.h"
#include "u256.h"

/* Most extensions listed. */
#define HISTORY_MAX 1000

static const char usage_app[] = "Usage: runway app status --provider ADDR --app ADDR [options]\n"
				"\n"
				"status  an application's runway: until, time left, who funded it\n"
				"\n"
				"`runway app status --help` says more.\n";

static const char usage_status[] =
	"Usage: runway app status --provider ADDR --app ADDR [--source mirror|chain]\n"
	"                         [--chain-id N] [--history N] [--from-block N] [--json]\n"
	"\n"
	"Shows an application's prepaid runway on a ValidatorNodeProvider: until\n"
	"(UTC), time left against chain time, status (active, lapsed, never\n"
	"funded), the price, and who funded it with the latest extensions.\n"
	"\n"
	"With a database configured (--database-url, RUNWAY_DATABASE_URL or\n"
	"--config) it reads the mirror (views app_runway and app_funding, as of\n"
	"the mirror's head); else the chain: runway(app), and the application's\n"
	"FinancialRunway logs, each with the token Transfer of the same transaction\n"
	"(payer and amount).\n"
	"\n"
	"Options:\n"
	"  --provider ADDR       the ValidatorNodeProvider contract\n"
	"  --app ADDR            the application\n"
	"  --source S            mirror or chain (default: mirror when a database is\n"
	"                        configured)\n"
	"  --chain-id N          the chain (mirror: when it holds several; chain: the\n"
	"                        node must serve it)\n"
	"  --history N           extensions listed, newest first (default 5; 0 none)\n"
	"  --from-block N        chain: first block searched for logs (default 0)\n"
	"  --rpc-url URL         JSON-RPC endpoint (env RUNWAY_RPC_URL; else --config's)\n"
	"  --database-url URL    PostgreSQL (env RUNWAY_DATABASE_URL; else --config's)\n"
	"  --json                {source, chain_id, block, block_time, provider,\n"
	"                        application, status, until, until_iso, seconds_left,\n"
	"                        token, symbol, decimals, price, cost_per_day,\n"
	"                        provider_paused, funded_by, extensions, history: [...]}\n"
	"\n"
	"Exit status: 0 shown, 1 failure, 2 usage error.\n";

/* The command line. */
struct args {
	uint8_t provider[20], app[20];
	int source; /* 0: by configuration, 'm' mirror, 'c' chain */
	uint64_t chain_id;
	uint64_t history;
	uint64_t from_block;
};

/* One run. */
struct ctx {
	struct rw_cli *cli;
	struct args a;
	struct rw_config *cfg;
	struct rw_pgsync db;
	int db_open;
	struct rw_rpcsync rpc;
	int rpc_open;
	char *rpc_shown;
	json_t *out; /* the answer */
};

#define HELP_SHOWN (-1)

/* ---- arguments ------------------------------------------------------------ */

/* A whole number of at most 18 digits. */
static int parse_num(struct rw_cli *cli, const char *opt, const char *v, uint64_t *ret)
{
	if (!*v || v[strspn(v, "0123456789")] || strlen(v) > 18)
		return rw_cli_usage(cli, "--%s needs a whole number, not '%s'", opt, v);
	*ret = strtoull(v, NULL, 10);
	return 0;
}

static int parse(struct rw_cli *cli, int argc, char **argv, struct args *a)
{
	const char *prov = NULL, *app = NULL, *src = NULL, *chain = NULL, *hist = NULL,
		   *from = NULL;
	static const char *const names[] = { "provider", "app",     "source",
					     "chain-id", "history", "from-block" };
	const char **slots[] = { &prov, &app, &src, &chain, &hist, &from };
	memset(a, 0, sizeof(*a));
	a->history = 5;
	for (int i = 2; i < argc; i++) {
		if (rw_cli_is_help(argv[i])) {
			fputs(usage_status, stdout);
			return HELP_SHOWN;
		}
		size_t k;
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			const char *v;
			int r = rw_cli_opt_value(cli, argc, argv, &i, names[k], &v);
			if (r < 0)
				return RW_EXIT_USAGE;
			if (r > 0) {
				*slots[k] = v;
				break;
			}
		}
		if (k == sizeof(names) / sizeof(names[0]))
			return rw_cli_usage(cli, "app status: unknown argument '%s'", argv[i]);
	}
	int r;
	if (!prov)
		return rw_cli_usage(cli, "app status needs --provider ADDR");
	if (!app)
		return rw_cli_usage(cli, "app status needs --app ADDR");
	if ((r = rw_cli_addr(cli, "--provider", prov, a->provider)) != 0 ||
	    (r = rw_cli_addr(cli, "--app", app, a->app)) != 0)
		return r;
	if (src && strcmp(src, "mirror") != 0 && strcmp(src, "chain") != 0)
		return rw_cli_usage(cli, "--source is mirror or chain, not '%s'", src);
	a->source = src ? src[0] : 0;
	if ((chain && (r = parse_num(cli, "chain-id", chain, &a->chain_id)) != 0) ||
	    (hist && (r = parse_num(cli, "history", hist, &a->history)) != 0) ||
	    (from && (r = parse_num(cli, "from-block", from, &a->from_block)) != 0))
		return r;
	if (chain && a->chain_id == 0)
		return rw_cli_usage(cli, "--chain-id needs a number above zero");
	if (a->history > HISTORY_MAX)
		return rw_cli_usage(cli, "--history is at most %d", HISTORY_MAX);
	if (from && a->source == 'm')
		return rw_cli_usage(cli, "--from-block is for --source chain");
	return 0;
}

/* ---- the answer ------------------------------------------------------------- */

/* A uint256 as a JSON integer when it fits 63 bits, else a decimal
 * string. */
static json_t *json_u256(const rw_u256 *v)
{
	uint64_t t;
	if (rw_u256_to_u64(&t, v) == 0 && t <= INT64_MAX)
		return json_integer((json_int_t)t);
	char dec[RW_U256_DEC_MAX];
	rw_u256_format_dec(dec, v);
	return json_string(dec);
}

/* Sets key to an EIP-55 address (JSON null when addr is NULL). */
static void set_addr(json_t *o, const char *key, const uint8_t *addr)
{
	char a[43];
	if (!addr) {
		json_object_set_new(o, key, json_null());
		return;
	}
	rw_addr_checksum(a, addr);
	json_object_set_new(o, key, json_string(a));
}

/* Sets key to the EIP-55 form of a 0x-hex address text (null when NULL or
 * malformed). */
static void set_addr_text(json_t *o, const char *key, const char *text)
{
	uint8_t a[20];
	set_addr(o, key, text && rw_addr_parse(a, text, strlen(text)) == 0 ? a : NULL);
}

/* Sets key (base units, decimal string) and key_units (token amount, or
 * null when the decimals are unknown). */
static void set_amount(json_t *o, const char *key, const rw_u256 *v, int decimals)
{
	char dec[RW_U256_DEC_MAX], units[RW_U256_DEC_MAX + 1], k[64];
	rw_u256_format_dec(dec, v);
	json_object_set_new(o, key, json_string(dec));
	snprintf(k, sizeof(k), "%s_units", key);
	json_object_set_new(o, k,
			    decimals >= 0 && rw_u256_format_units(units, v, (unsigned)decimals) >= 0
				    ? json_string(units)
				    : json_null());
}

/* Sets until, until_iso (null past the year 9999). */
static void set_until(json_t *o, const rw_u256 *until)
{
	char iso[32];
	uint64_t t;
	json_object_set_new(o, "until", json_u256(until));
	json_object_set_new(o, "until_iso",
			    rw_u256_to_u64(&t, until) == 0 && rw_time_iso(iso, t) == 0 &&
					    !rw_u256_is_zero(until)
				    ? json_string(iso)
				    : json_null());
}

/* The fields both sources share: runway, status against chain time,
 * price and cost per day. */
static void set_runway(json_t *o, const rw_u256 *until, uint64_t now, const rw_u256 *price,
		       int decimals)
{
	set_until(o, until);
	uint64_t t, left = 0;
	if (rw_u256_to_u64(&t, until) < 0)
		left = UINT64_MAX;
	else if (t > now)
		left = t - now;
	json_object_set_new(o, "status",
			    json_string(rw_u256_is_zero(until) ? "never funded"
					: left > 0             ? "active"
							       : "lapsed"));
	json_object_set_new(o, "seconds_left",
			    left <= INT64_MAX ? json_integer((json_int_t)left) : json_null());
	rw_u256 day = rw_u256_from_u64(86400), cpd;
	set_amount(o, "price", price, decimals);
	if (rw_u256_mul(&cpd, price, &day) == 0)
		set_amount(o, "cost_per_day", &cpd, decimals);
}

/* ---- from the mirror ----------------------------------------------------------- */

static const char sql_app[] =
	"SELECT r.chain_id::text, h.head_number::text, h.head_timestamp::text, r.token, "
	"r.symbol, t.decimals::text, r.payee, r.price::text, r.provider_paused, r.until::text, "
	"r.funded_by, r.extensions::text, r.funded_total::text, "
	"array_to_string(r.funders, ','), r.confirmed, r.owner, r.location "
	"FROM app_runway r "
	"LEFT JOIN chain_head h ON h.chain_id = r.chain_id "
	"LEFT JOIN token t ON t.chain_id = r.chain_id AND rw_hex(t.address) = r.token "
	"WHERE r.provider = $1 AND r.application = $2 "
	"AND ($3::bigint IS NULL OR r.chain_id = $3::bigint) ORDER BY r.chain_id";

/* A provider the mirror knows, for an application it has no row of. */
static const char sql_provider[] =
	"SELECT p.chain_id::text, h.head_number::text, h.head_timestamp::text, p.token, "
	"p.symbol, t.decimals::text, p.payee, p.price::text, p.paused, '0', NULL, '0', '0', '', "
	"true, NULL, NULL "
	"FROM providers p "
	"LEFT JOIN chain_head h ON h.chain_id = p.chain_id "
	"LEFT JOIN token t ON t.chain_id = p.chain_id AND rw_hex(t.address) = p.token "
	"WHERE p.provider = $1 AND ($3::bigint IS NULL OR p.chain_id = $3::bigint) "
	"AND $2::text IS NOT NULL ORDER BY p.chain_id";

static const char sql_history[] =
	"SELECT block_number::text, tx_hash, payer, amount::text, runway_until::text, "
	"extract(epoch FROM block_time)::bigint::text, restarted, seconds::text, confirmed "
	"FROM app_funding WHERE chain_id = $1::bigint AND provider = $2 AND application = $3 "
	"ORDER BY block_number DESC, log_index DESC LIMIT $4::bigint";

/* A text cell, NULL for SQL NULL. */
static const char *cell(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

static rw_u256 cell_u256(PGresult *r, int row, int col)
{
	rw_u256 v = rw_u256_from_u64(0);
	const char *s = cell(r, row, col);
	if (s)
		(void)rw_u256_parse_dec(&v, s, strlen(s));
	return v;
}

static int64_t cell_i64(PGresult *r, int row, int col)
{
	const char *s = cell(r, row, col);
	return s ? strtoll(s, NULL, 10) : -1;
}

/* The funding history rows into out's "history". */
static int mirror_history(struct ctx *c, const char *chain, const char *prov, const char *app,
			  int decimals)
{
	char lim[24];
	snprintf(lim, sizeof(lim), "%" PRIu64, c->a.history);
	const char *params[] = { chain, prov, app, lim };
	struct rw_pgsync_err err;
	PGresult *r = rw_pgsync_exec(&c->db, sql_history, 4, params, &err);
	if (!r)
		return rw_pgsync_fail(c->cli, &err);
	json_t *h = json_array();
	for (int i = 0; i < PQntuples(r); i++) {
		json_t *e = json_object();
		rw_u256 amount = cell_u256(r, i, 3), until = cell_u256(r, i, 4);
		json_object_set_new(e, "block", json_integer(cell_i64(r, i, 0)));
		json_object_set_new(e, "block_time",
				    cell(r, i, 5) ? json_integer(cell_i64(r, i, 5)) : json_null());
		json_object_set_new(e, "tx_hash", json_string(cell(r, i, 1)));
		set_addr_text(e, "payer", cell(r, i, 2));
		if (cell(r, i, 3))
			set_amount(e, "amount", &amount, decimals);
		else
			json_object_set_new(e, "amount", json_null());
		set_until(e, &until);
		json_object_set_new(e, "seconds",
				    cell(r, i, 7) ? json_integer(cell_i64(r, i, 7)) : json_null());
		json_object_set_new(e, "restarted",
				    json_boolean(cell(r, i, 6) && strcmp(cell(r, i, 6), "t") == 0));
		json_object_set_new(e, "confirmed",
				    json_boolean(cell(r, i, 8) && strcmp(cell(r, i, 8), "t") == 0));
		json_array_append_new(h, e);
	}
	PQclear(r);
	json_object_set_new(c->out, "history", h);
	return 0;
}

/* Fills out from the row of sql_app or sql_provider. */
static void mirror_row(struct ctx *c, PGresult *r)
{
	json_t *o = c->out;
	int decimals = cell(r, 0, 5) ? atoi(cell(r, 0, 5)) : -1;
	rw_u256 price = cell_u256(r, 0, 7), until = cell_u256(r, 0, 9), total = cell_u256(r, 0, 12);
	int64_t head = cell_i64(r, 0, 1), now = cell_i64(r, 0, 2);
	json_object_set_new(o, "source", json_string("mirror"));
	json_object_set_new(o, "chain_id", json_integer(cell_i64(r, 0, 0)));
	json_object_set_new(o, "block", head >= 0 ? json_integer(head) : json_null());
	json_object_set_new(o, "block_time", now >= 0 ? json_integer(now) : json_null());
	set_addr(o, "provider", c->a.provider);
	set_addr(o, "application", c->a.app);
	set_runway(o, &until, now >= 0 ? (uint64_t)now : 0, &price, decimals);
	if (now < 0) /* no head: the status is not known */
		json_object_set_new(o, "status", json_null());
	set_addr_text(o, "token", cell(r, 0, 3));
	json_object_set_new(o, "symbol", json_string(cell(r, 0, 4) ? cell(r, 0, 4) : ""));
	json_object_set_new(o, "decimals", decimals >= 0 ? json_integer(decimals) : json_null());
	set_addr_text(o, "payee", cell(r, 0, 6));
	json_object_set_new(o, "provider_paused",
			    json_boolean(cell(r, 0, 8) && strcmp(cell(r, 0, 8), "t") == 0));
	set_addr_text(o, "funded_by", cell(r, 0, 10));
	json_object_set_new(o, "extensions", json_integer(cell_i64(r, 0, 11)));
	set_amount(o, "funded_total", &total, decimals);
	json_t *funders = json_array();
	const char *f = cell(r, 0, 13);
	while (f && *f) {
		size_t n = strcspn(f, ",");
		uint8_t a[20];
		char cs[43];
		if (rw_addr_parse(a, f, n) == 0) {
			rw_addr_checksum(cs, a);
			json_array_append_new(funders, json_string(cs));
		}
		f += n + (f[n] == ',');
	}
	json_object_set_new(o, "funders", funders);
	json_object_set_new(o, "confirmed",
			    json_boolean(cell(r, 0, 14) && strcmp(cell(r, 0, 14), "t") == 0));
	set_addr_text(o, "owner", cell(r, 0, 15));
	json_object_set_new(o, "location",
			    cell(r, 0, 16) ? json_string(cell(r, 0, 16)) : json_null());
}

static int from_mirror(struct ctx *c)
{
	int rc = rw_pgsync_connect(&c->db, &c->db_open, c->cli, c->cfg);
	if (rc != 0)
		return rc;
	struct rw_pgsync_err err;
	char prov[43], app[43], chain[24];
	rw_hex_encode(prov, c->a.provider, 20, 1);
	rw_hex_encode(app, c->a.app, 20, 1);
	snprintf(chain, sizeof(chain), "%" PRIu64, c->a.chain_id);
	const char *params[] = { prov, app, c->a.chain_id ? chain : NULL };
	PGresult *r = rw_pgsync_exec(&c->db, sql_app, 3, params, &err);
	if (r && PQntuples(r) == 0) {
		PQclear(r);
		r = rw_pgsync_exec(&c->db, sql_provider, 3, params, &err);
	}
	if (!r)
		return rw_pgsync_fail(c->cli, &err);
	int n = PQntuples(r);
	char cs[43];
	rw_addr_checksum(cs, c->a.provider);
	if (n != 1) {
		PQclear(r);
		if (n > 1)
			return rw_cli_usage(c->cli,
					    "the mirror has provider %s on %d chains: choose one "
					    "with --chain-id N",
					    cs, n);
		rw_cli_err(c->cli,
			   "the mirror does not index provider %s%s%s: add it to the "
			   "configuration, or read the chain with --source chain",
			   cs, c->a.chain_id ? " on chain " : "", c->a.chain_id ? chain : "");
		return RW_EXIT_FAIL;
	}
	int decimals = cell(r, 0, 5) ? atoi(cell(r, 0, 5)) : -1;
	snprintf(chain, sizeof(chain), "%s", cell(r, 0, 0));
	mirror_row(c, r);
	PQclear(r);
	return mirror_history(c, chain, prov, app, decimals);
}

/* ---- from the chain ----------------------------------------------------------- */

/* Opens the node (--rpc-url, else the configuration's chain) and checks
 * its chain id against --chain-id. Returns 0 or an exit code. */
static int open_node(struct ctx *c, uint64_t *ret_chain)
{
	const char *url = c->cli->rpc_url && *c->cli->rpc_url ? c->cli->rpc_url : NULL;
	for (size_t i = 0; !url && c->cfg && i < c->cfg->n_chains; i++)
		if (c->cfg->chains[i].chain_id == c->a.chain_id ||
		    (!c->a.chain_id && c->cfg->n_chains == 1))
			url = c->cfg->chains[i].rpc[0].url.v;
	if (!url)
		return rw_cli_usage(c->cli,
				    "app status needs a node (--rpc-url URL, RUNWAY_RPC_URL "
				    "or --config FILE) or a database (--database-url)");
	if (!(c->rpc_shown = rw_config_mask(url))) {
		rw_cli_err(c->cli, "out of memory");
		return RW_EXIT_FAIL;
	}
	struct rw_rpcsync_err err;
	c->rpc_open = 1;
	if (rw_rpcsync_open(&c->rpc, url, &err) < 0) {
		rw_cli_err(c->cli, "%s", err.msg);
		return RW_EXIT_FAIL;
	}
	if (rw_rpcsync_chain_id(&c->rpc, ret_chain, &err) < 0) {
		rw_cli_err(c->cli, "cannot read the chain id of the node %s: %s", c->rpc_shown,
			   err.msg);
		return RW_EXIT_FAIL;
	}
	if (c->a.chain_id && c->a.chain_id != *ret_chain) {
		rw_cli_err(c->cli,
			   "wrong chain: expected chain %" PRIu64 " (--chain-id) but the node %s "
			   "serves chain %" PRIu64,
			   c->a.chain_id, c->rpc_shown, *ret_chain);
		return RW_EXIT_FAIL;
	}
	return 0;
}

/* One extension: its block, time, payer and amount (the Transfer of the
 * provider's token to the payee after the log in the same transaction;
 * without one, the transaction's sender and no amount). */
static int chain_extension(struct ctx *c, const json_t *log, const struct rw_provider_info *p,
			   int decimals, json_t **ret)
{
	struct rw_rpcsync_err err;
	const char *tx = json_string_value(json_object_get(log, "transactionHash"));
	uint64_t block, time;
	rw_u256 until;
	if (!tx || rw_rpc_get_quantity_u64(&block, json_object_get(log, "blockNumber")) < 0 ||
	    rw_chainread_log_word(&until, log, 0) < 0) {
		rw_cli_err(c->cli, "eth_getLogs returned a malformed FinancialRunway log");
		return RW_EXIT_FAIL;
	}
	json_t *rc;
	char tag[24];
	rw_hex_format_u64(tag, block);
	if (rw_rpcsync_call(&c->rpc, "eth_getTransactionReceipt", json_pack("[s]", tx), &rc, &err) <
		    0 ||
	    rw_chainread_block(NULL, &time, &c->rpc, tag, &err) < 0) {
		json_decref(rc);
		rw_cli_err(c->cli, "cannot read the extension in %s: %s", tx, err.msg);
		return RW_EXIT_FAIL;
	}
	uint8_t tr[32], payee[32] = { 0 }, t[32], from[20];
	rw_abi_topic(tr, "Transfer(address,address,uint256)", 33);
	memcpy(payee + 12, p->payee, 20);
	const json_t *pay = NULL, *logs = json_object_get(rc, "logs");
	for (int64_t after = rw_chainread_log_index(log);
	     (pay = rw_chainread_find_log(logs, p->token, tr, NULL, after)) != NULL;
	     after = rw_chainread_log_index(pay))
		if (rw_chainread_log_topic(t, pay, 2) == 0 && memcmp(t, payee, 32) == 0)
			break;
	json_t *e = json_object();
	rw_u256 amount;
	json_object_set_new(e, "block", json_integer((json_int_t)block));
	json_object_set_new(e, "block_time", json_integer((json_int_t)time));
	json_object_set_new(e, "tx_hash", json_string(tx));
	if (pay && rw_chainread_log_topic(t, pay, 1) == 0 &&
	    rw_chainread_log_word(&amount, pay, 0) == 0) {
		set_addr(e, "payer", t + 12);
		set_amount(e, "amount", &amount, decimals);
	} else {
		set_addr(e, "payer",
			 rw_rpc_get_address(from, json_object_get(rc, "from")) == 0 ? from : NULL);
		json_object_set_new(e, "amount", json_null());
	}
	set_until(e, &until);
	json_decref(rc);
	*ret = e;
	return 0;
}

/* The application's FinancialRunway logs from --from-block to block. */
static int chain_logs(struct ctx *c, uint64_t block, json_t **ret)
{
	uint8_t fr[32];
	char from[24], to[24], t0[67], t1[67] = "0x000000000000000000000000";
	rw_abi_topic(fr, "FinancialRunway(address,uint256)", 32);
	rw_hex_encode(t0, fr, 32, 1);
	rw_hex_encode(t1 + 26, c->a.app, 20, 0);
	rw_hex_format_u64(from, c->a.from_block);
	rw_hex_format_u64(to, block);
	char *prov = rw_hex_encode_alloc(c->a.provider, 20);
	json_t *params = json_pack("[{s:s, s:s, s:s?, s:[s,s]}]", "fromBlock", from, "toBlock", to,
				   "address", prov, "topics", t0, t1);
	free(prov);
	struct rw_rpcsync_err err;
	if (rw_rpcsync_call(&c->rpc, "eth_getLogs", params, ret, &err) < 0) {
		rw_cli_err(c->cli, "cannot read the FinancialRunway logs: %s%s", err.msg,
			   err.cls == RW_RPC_RANGE_TOO_LARGE
				   ? "; pass --from-block N (the provider's first block), or read "
				     "the mirror"
				   : "");
		return RW_EXIT_FAIL;
	}
	if (!json_is_array(*ret)) {
		json_decref(*ret);
		rw_cli_err(c->cli, "eth_getLogs returned something that is not an array");
		return RW_EXIT_FAIL;
	}
	return 0;
}

/* History, newest first, and who funded it last. */
static int chain_history(struct ctx *c, uint64_t block, const struct rw_provider_info *p,
			 int decimals)
{
	json_t *logs, *h = json_array();
	int rc = chain_logs(c, block, &logs);
	if (rc != 0) {
		json_decref(h);
		return rc;
	}
	size_t n = json_array_size(logs);
	for (size_t i = n; i > 0 && rc == 0 && json_array_size(h) < c->a.history; i--) {
		json_t *e;
		if ((rc = chain_extension(c, json_array_get(logs, i - 1), p, decimals, &e)) == 0)
			json_array_append_new(h, e);
	}
	json_object_set_new(c->out, "extensions", json_integer((json_int_t)n));
	json_t *latest = NULL;
	if (rc == 0 && n > 0 && json_array_size(h) == 0)
		rc = chain_extension(c, json_array_get(logs, n - 1), p, decimals, &latest);
	const json_t *first = json_array_size(h) ? json_array_get(h, 0) : latest;
	json_object_set(c->out, "funded_by", first ? json_object_get(first, "payer") : json_null());
	json_decref(latest);
	json_decref(logs);
	json_object_set_new(c->out, "history", h);
	return rc;
}

static int from_chain(struct ctx *c)
{
	uint64_t chain, block, now;
	int rc = open_node(c, &chain);
	if (rc != 0)
		return rc;
	struct rw_rpcsync_err err;
	struct rw_provider_info p;
	struct rw_token_info t;
	char prov[43], tag[24];
	rw_addr_checksum(prov, c->a.provider);
	if (rw_chainread_block(&block, &now, &c->rpc, "latest", &err) < 0 ||
	    rw_chainread_provider(&c->rpc, c->a.provider, &p, &err) < 0) {
		rw_cli_err(c->cli, "cannot read provider %s: %s", prov, err.msg);
		return RW_EXIT_FAIL;
	}
	/* Every read at the same block. */
	rw_hex_format_u64(tag, block);
	rw_u256 until, paused;
	if (rw_chainread_token(&c->rpc, p.token, &t, &err) < 0 ||
	    rw_chainread_u256_at(&c->rpc, c->a.provider, "runway(address)", NULL, c->a.app, tag,
				 &until, &err) < 0 ||
	    rw_chainread_u256_at(&c->rpc, c->a.provider, "paused()", NULL, NULL, tag, &paused,
				 &err) < 0) {
		rw_cli_err(c->cli, "cannot read the runway on provider %s: %s", prov, err.msg);
		return RW_EXIT_FAIL;
	}
	json_t *o = c->out;
	json_object_set_new(o, "source", json_string("chain"));
	json_object_set_new(o, "chain_id", json_integer((json_int_t)chain));
	json_object_set_new(o, "block", json_integer((json_int_t)block));
	json_object_set_new(o, "block_time", json_integer((json_int_t)now));
	set_addr(o, "provider", c->a.provider);
	set_addr(o, "application", c->a.app);
	set_runway(o, &until, now, &p.price, (int)t.decimals);
	set_addr(o, "token", p.token);
	json_object_set_new(o, "symbol", json_string(t.symbol));
	json_object_set_new(o, "decimals", json_integer(t.decimals));
	set_addr(o, "payee", p.payee);
	json_object_set_new(o, "provider_paused", json_boolean(!rw_u256_is_zero(&paused)));
	return chain_history(c, block, &p, (int)t.decimals);
}

/* ---- printing ---------------------------------------------------------------- */

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "-";
}

/* An integer or decimal-string field as text. */
static void num(char *out, size_t n, const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	if (json_is_integer(v))
		snprintf(out, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		snprintf(out, n, "%s", json_is_string(v) ? json_string_value(v) : "-");
}

static void print_text(const json_t *o)
{
	const char *sym = str(o, "symbol");
	char chain[24], block[24], until[80], secs[24], left[48];
	num(chain, sizeof(chain), o, "chain_id");
	num(block, sizeof(block), o, "block");
	num(until, sizeof(until), o, "until");
	num(secs, sizeof(secs), o, "seconds_left");
	const json_t *sl = json_object_get(o, "seconds_left");
	rw_duration_left(left, sizeof(left),
			 json_is_integer(sl) ? (uint64_t)json_integer_value(sl) : 0);
	printf("application   %s\n", str(o, "application"));
	printf("provider      %s (chain %s)%s\n", str(o, "provider"), chain,
	       json_is_true(json_object_get(o, "provider_paused")) ? " PAUSED" : "");
	printf("status        %s\n", str(o, "status"));
	if (json_is_string(json_object_get(o, "until_iso")))
		printf("until         %s (%s)\n", str(o, "until_iso"), until);
	else
		printf("until         %s\n", strcmp(until, "0") ? until : "-");
	printf("time left     %s (%s s)\n", left, secs);
	printf("price         %s %s/s, %s %s/day\n", str(o, "price_units"), sym,
	       str(o, "cost_per_day_units"), sym);
	printf("funded by     %s\n", str(o, "funded_by"));
	num(secs, sizeof(secs), o, "extensions");
	if (json_object_get(o, "funded_total_units"))
		printf("extensions    %s (total %s %s)\n", secs, str(o, "funded_total_units"), sym);
	else
		printf("extensions    %s\n", secs);
	printf("source        %s at block %s\n", str(o, "source"), block);
	const json_t *h = json_object_get(o, "history");
	if (json_array_size(h) == 0)
		return;
	printf("latest extensions, newest first:\n");
	size_t i;
	const json_t *e;
	json_array_foreach(h, i, e)
	{
		char b[24], u[80];
		num(b, sizeof(b), e, "block");
		num(u, sizeof(u), e, "until");
		printf("  block %s  %s  paid %s %s  until %s  tx %s\n", b, str(e, "payer"),
		       str(e, "amount_units"), sym,
		       json_is_string(json_object_get(e, "until_iso")) ? str(e, "until_iso") : u,
		       str(e, "tx_hash"));
	}
}

/* ---- the command --------------------------------------------------------------- */

static int status(struct ctx *c)
{
	if (rw_cli_config(c->cli, &c->cfg) != 0)
		return RW_EXIT_FAIL;
	int mirror = c->a.source == 'm' || (!c->a.source && (rw_pg_conninfo(c->cli->database_url) ||
							     (c->cfg && c->cfg->database_url.v)));
	if (mirror && c->a.from_block)
		return rw_cli_usage(c->cli, "--from-block is for --source chain (a database is "
					    "configured: the mirror is read)");
	c->out = json_object();
	int rc = mirror ? from_mirror(c) : from_chain(c);
	if (rc != 0)
		return rc;
	if (c->cli->json) {
		json_dumpf(c->out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
	} else {
		print_text(c->out);
	}
	return 0;
}

int rw_cmd_app(struct rw_cli *cli, int argc, char **argv)
{
	static const char *const subs[] = { "status" };
	size_t i;
	int rc;
	if (!rw_cli_subcommand(&i, &rc, cli, "app", usage_app, subs, sizeof(subs[0]),
			       RW_NELEM(subs), argc, argv))
		return rc;
	struct ctx c;
	memset(&c, 0, sizeof(c));
	c.cli = cli;
	rc = parse(cli, argc, argv, &c.a);
	if (rc == HELP_SHOWN)
		return RW_EXIT_OK;
	if (rc == 0)
		rc = status(&c);
	json_decref(c.out);
	if (c.rpc_open)
		rw_rpcsync_close(&c.rpc);
	if (c.db_open)
		rw_pgsync_close(&c.db);
	rw_config_free(c.cfg);
	free(c.rpc_shown);
	return rc;
}
