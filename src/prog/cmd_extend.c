/* cmd_extend.c: `runway extend`: buys runway for an application on a
 * ValidatorNodeProvider by hand, with the relayer's fee and gas rules
 * (txsend.h): checks (chain, paused, balance, --max-cost, gas money),
 * approve exactly the cost when the allowance is short, extendRunway,
 * the receipt's FinancialRunway and Transfer checked against what was
 * asked. src/prog/README.md has the design notes. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "abi.h"
#include "chainread.h"
#include "cmd.h"
#include "config.h"
#include "duration.h"
#include "err.h"
#include "hex.h"
#include "key.h"
#include "relayer.h"
#include "rpcsync.h"
#include "rwconfig.h"
#include "secret.h"
#include "txsend.h"

/* Gas limit of a dry run's extendRunway when it cannot be estimated (the
 * approval it needs is not mined): above what a standard ERC-20 pull, the
 * runway's storage write and the event cost (about 60000 to 90000). */
#define EXTEND_GAS_UNESTIMATED 200000

static const char usage[] =
	"Usage: runway extend --provider ADDR --app ADDR (--duration D | --seconds N)\n"
	"                     (--keystore FILE | --key-file FILE) [options]\n"
	"\n"
	"Buys runway for an application on a ValidatorNodeProvider: shows the cost,\n"
	"the payer's token balance and its allowance to the provider (the spender:\n"
	"the provider pulls the payment), approves exactly the cost when the\n"
	"allowance is short, sends extendRunway(app, seconds), waits for the receipt\n"
	"and prints the new runway end (UTC) and the time left. A lapsed runway\n"
	"restarts from the block's time; a live one is lengthened.\n"
	"\n"
	"Nothing is sent when the node is of another chain (--chain-id), the\n"
	"provider is paused, the payer holds less than the cost or too little for\n"
	"gas, the cost is above --max-cost, the payer has transactions pending, or\n"
	"a transaction would revert (its reason is shown).\n"
	"\n"
	"Options:\n"
	"  --provider ADDR      the ValidatorNodeProvider contract\n"
	"  --app ADDR           the application\n"
	"  --duration D         e.g. 2w, 14d, 1w2d12h, 90m, 3600s (w d h m s)\n"
	"  --seconds N          the duration in seconds\n"
	"  --max-cost AMOUNT    refuse when the cost is above AMOUNT: a token amount\n"
	"                       (40, 39.98) or base units with the suffix 'units'\n"
	"                       (39980000000000390400units)\n"
	"  --chain-id N         the chain the node must serve (default: --config's)\n"
	"  --fee-cap FEE        most fee per gas, wei or with the suffix 'gwei'\n"
	"                       (default: the relayer's for the chain, or --config's)\n"
	"  --timeout D          wait this long for each receipt (default 5m)\n"
	"  --yes                send without asking (needed when standard input is\n"
	"                       not a terminal)\n"
	"  --dry-run            print the signed raw transactions and send nothing\n"
	"  --rpc-url URL        JSON-RPC endpoint (env RUNWAY_RPC_URL; else --config's)\n"
	"  --json               one object: amounts in base units and *_units, the\n"
	"                       transactions, until (unix and ISO), seconds_left\n";

static const char usage_tail[] = "\n"
				 "Exit status: 0 extended (or dry run printed), 1 refused or "
				 "failed, 2 usage error.\n";

/* The command line. */
struct args {
	uint8_t provider[20], app[20];
	uint64_t seconds;
	const char *max_cost;
	const char *chain_id;
	const char *fee_cap;
	rw_u256 fee_cap_wei; /* --fee-cap parsed */
	uint64_t timeout_ms;
	int yes, dry_run;
	struct rw_secret_opts key;
};

/* One run. */
struct ctx {
	struct rw_cli *cli;
	struct args a;
	struct rw_config *cfg;
	const struct rw_config_chain *chain; /* of cfg, or NULL */
	struct rw_relayer_errors *errors;
	struct rw_rpcsync rpc;
	int rpc_open;
	const char *rpc_url;
	char *rpc_shown; /* rpc_url with secrets masked */
	uint8_t sk[32];
	int have_key;

	/* What the chain says before anything is sent. */
	uint64_t chain_id;
	struct rw_provider_info prov;
	struct rw_token_info tok;
	uint8_t payer[20];
	rw_u256 cost, balance, allowance, gas_balance, until;
	uint64_t now; /* the latest block's time */
	int need_approve;
	struct rw_relayer_opts opts;
	struct rw_relayer_fees fees;
	uint64_t nonce;
	uint64_t approve_gas, extend_gas;
	int extend_estimated;

	/* The transactions. */
	struct rw_txsend_tx approve, extend;
	int signed_approve, signed_extend;
	struct rw_txsend_receipt approve_rc, extend_rc;
	int mined_approve, mined_extend;

	/* The outcome. */
	rw_u256 prev_until, new_until, now_until;
	uint64_t block_time;
	int restarted;
};

#define HELP_SHOWN (-1)

/* Parses the duration of --duration or --seconds. */
static int parse_duration(struct rw_cli *cli, const char *dur, const char *secs, uint64_t *ret)
{
	if (!dur == !secs)
		return rw_cli_usage(cli,
				    "extend needs exactly one of --duration D and --seconds N");
	if (secs && (secs[strspn(secs, "0123456789")] != '\0' || !*secs))
		return rw_cli_usage(cli, "--seconds needs a whole number, not '%s'", secs);
	const char *v = dur ? dur : secs;
	int r = rw_duration_parse(ret, v);
	if (r == RW_ERANGE)
		return rw_cli_usage(cli, "the duration '%s' does not fit in 64 bits", v);
	if (r < 0)
		return rw_cli_usage(
			cli,
			"--duration '%s' is not a duration (e.g. 2w, 14d, 1w2d12h, 90m, "
			"3600s; more than zero)",
			v);
	return 0;
}

/* Parses --max-cost: base units with the suffix "units", else a token
 * amount of `decimals` decimals. Returns 0, RW_EINVAL (malformed) or
 * RW_ERANGE (more decimals, or at least 2^256). */
static int parse_max_cost(rw_u256 *ret, const char *v, unsigned decimals)
{
	size_t n = strlen(v);
	if (v[0] == '+' || v[0] == '-')
		return RW_EINVAL;
	if (n > 5 && strcmp(v + n - 5, "units") == 0)
		return rw_u256_parse_dec(ret, v, n - 5);
	return rw_u256_parse_units(ret, v, n, decimals);
}

/* Checks the shape of --max-cost, with as many decimals as it has (the
 * token's are checked once it is read). */
static int check_max_cost(struct rw_cli *cli, const char *v)
{
	rw_u256 x;
	const char *dot = strchr(v, '.');
	size_t frac = dot ? strlen(dot + 1) : 0;
	if (parse_max_cost(&x, v, frac > 77 ? 77 : (unsigned)frac) < 0)
		return rw_cli_usage(cli,
				    "--max-cost '%s' is not a token amount (40, 39.98) or base "
				    "units (39980000000000390400units)",
				    v);
	return 0;
}

/* Parses --fee-cap: wei, or gwei with the suffix. */
static int parse_fee_cap(struct rw_cli *cli, const char *v, rw_u256 *ret)
{
	size_t n = strlen(v);
	int r;
	if (n > 4 && strcmp(v + n - 4, "gwei") == 0)
		r = rw_u256_parse_units(ret, v, n - 4, 9);
	else
		r = rw_u256_parse_dec(ret, v, n);
	if (r < 0 || rw_u256_is_zero(ret))
		return rw_cli_usage(cli,
				    "--fee-cap '%s' is not a fee per gas above zero (wei, or e.g. "
				    "50gwei)",
				    v);
	return 0;
}

/* Takes one option of argv[*i]. Returns 0 when taken, 1 when not an
 * option of ours, or an exit code after a usage error. */
static int take_opt(struct rw_cli *cli, struct args *a, int argc, char **argv, int *i,
		    const char **prov, const char **app, const char **dur, const char **secs,
		    const char **timeout)
{
	static const char *const names[] = { "provider", "app",      "duration", "seconds",
					     "max-cost", "chain-id", "fee-cap",  "timeout" };
	const char **slots[] = { prov,         app,          dur,         secs,
				 &a->max_cost, &a->chain_id, &a->fee_cap, timeout };
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		const char *v;
		int r = rw_cli_opt_value(cli, argc, argv, i, names[k], &v);
		if (r < 0)
			return RW_EXIT_USAGE;
		if (r > 0) {
			*slots[k] = v;
			return 0;
		}
	}
	if (strcmp(argv[*i], "--yes") == 0 || strcmp(argv[*i], "-y") == 0) {
		a->yes = 1;
		return 0;
	}
	if (strcmp(argv[*i], "--dry-run") == 0) {
		a->dry_run = 1;
		return 0;
	}
	int r = rw_secret_take_opt(cli, &a->key, argc, argv, i);
	if (r < 0)
		return RW_EXIT_USAGE;
	return r > 0 ? 0 : 1;
}

/* Parses the command line. Returns 0, HELP_SHOWN, or an exit code after
 * a usage error. */
static int parse(struct rw_cli *cli, int argc, char **argv, struct args *a)
{
	const char *prov = NULL, *app = NULL, *dur = NULL, *secs = NULL, *timeout = NULL;
	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		if (rw_cli_is_help(argv[i])) {
			fputs(usage, stdout);
			fputs(rw_secret_help, stdout);
			fputs(usage_tail, stdout);
			return HELP_SHOWN;
		}
		int r = take_opt(cli, a, argc, argv, &i, &prov, &app, &dur, &secs, &timeout);
		if (r == 1)
			return rw_cli_usage(cli, "extend: unknown argument '%s'", argv[i]);
		if (r != 0)
			return r;
	}
	int r;
	if (!prov)
		return rw_cli_usage(cli, "extend needs --provider ADDR");
	if (!app)
		return rw_cli_usage(cli, "extend needs --app ADDR");
	if ((r = rw_cli_addr(cli, "--provider", prov, a->provider)) != 0 ||
	    (r = rw_cli_addr(cli, "--app", app, a->app)) != 0)
		return r;
	static const uint8_t zero[20];
	if (memcmp(a->app, zero, 20) == 0)
		return rw_cli_usage(cli, "--app must not be the zero address (the provider "
					 "refuses it)");
	if ((r = parse_duration(cli, dur, secs, &a->seconds)) != 0)
		return r;
	if (a->max_cost && (r = check_max_cost(cli, a->max_cost)) != 0)
		return r;
	if (a->chain_id && (!*a->chain_id || a->chain_id[strspn(a->chain_id, "0123456789")] ||
			    strlen(a->chain_id) > 18 || strtoull(a->chain_id, NULL, 10) == 0))
		return rw_cli_usage(cli, "--chain-id needs a number above zero, not '%s'",
				    a->chain_id);
	if (a->fee_cap && (r = parse_fee_cap(cli, a->fee_cap, &a->fee_cap_wei)) != 0)
		return r;
	uint64_t t = 300;
	if (timeout && rw_duration_parse(&t, timeout) < 0)
		return rw_cli_usage(cli, "--timeout '%s' is not a duration (e.g. 5m, 90s, 300)",
				    timeout);
	if (t > UINT64_MAX / 1000)
		t = UINT64_MAX / 1000;
	a->timeout_ms = t * 1000;
	if (!a->key.keystore == !a->key.key_file)
		return rw_cli_usage(cli,
				    "extend needs the payer's key: exactly one of --keystore FILE "
				    "and --key-file FILE");
	if (!a->yes && !a->dry_run && !isatty(STDIN_FILENO))
		return rw_cli_usage(cli, "extend asks before sending and standard input is not a "
					 "terminal: pass --yes to send without asking (or "
					 "--dry-run)");
	if (!a->yes && !a->dry_run && a->key.key_file && strcmp(a->key.key_file, "-") == 0)
		return rw_cli_usage(cli, "with --key-file - (standard input) pass --yes: the "
					 "question would read the same input");
	return 0;
}

/* ---- setting up ----------------------------------------------------------- */

/* Loads --config, picks its chain (--chain-id, else its only one), the
 * node and the expected chain id. Returns 0 or an exit code. */
static int setup_config(struct ctx *c)
{
	if (rw_cli_config(c->cli, &c->cfg) != 0)
		return RW_EXIT_FAIL;
	uint64_t want = c->a.chain_id ? strtoull(c->a.chain_id, NULL, 10) : 0;
	for (size_t i = 0; c->cfg && i < c->cfg->n_chains; i++)
		if (c->cfg->chains[i].chain_id == want || (!want && c->cfg->n_chains == 1))
			c->chain = &c->cfg->chains[i];
	c->rpc_url = c->cli->rpc_url && *c->cli->rpc_url ? c->cli->rpc_url : NULL;
	if (c->cfg && !c->chain && !want && !c->rpc_url)
		return rw_cli_usage(c->cli, "%s has %zu chains: choose one with --chain-id N",
				    c->cfg->path, c->cfg->n_chains);
	if (!c->rpc_url && c->chain)
		c->rpc_url = c->chain->rpc[0].url.v;
	if (!c->rpc_url && c->cfg && !c->chain)
		return rw_cli_usage(c->cli, "%s has no chain %" PRIu64 ": pass --rpc-url URL",
				    c->cfg->path, want);
	if (!c->rpc_url)
		return rw_cli_usage(
			c->cli, "extend needs a node: --rpc-url URL, RUNWAY_RPC_URL or --config "
				"FILE");
	if (!(c->rpc_shown = rw_config_mask(c->rpc_url))) {
		rw_cli_err(c->cli, "out of memory");
		return RW_EXIT_FAIL;
	}
	return 0;
}

/* Opens the node with the custom errors of the ABI files, and checks its
 * chain id. Returns 0 or an exit code. */
static int setup_node(struct ctx *c)
{
	const char *abi = c->cfg ? c->cfg->abi_dir.v : RUNWAY_SOURCE_ROOT "/abi";
	if (rw_relayer_errors_load(&c->errors, abi) < 0)
		c->errors = NULL; /* custom errors then show by selector */
	struct rw_rpcsync_err err;
	c->rpc_open = 1;
	if (rw_rpcsync_open(&c->rpc, c->rpc_url, &err) < 0) {
		rw_cli_err(c->cli, "%s", err.msg);
		return RW_EXIT_FAIL;
	}
	c->rpc.errors = c->errors;
	if (rw_rpcsync_chain_id(&c->rpc, &c->chain_id, &err) < 0) {
		rw_cli_err(c->cli, "cannot read the chain id of the node %s: %s", c->rpc_shown,
			   err.msg);
		return RW_EXIT_FAIL;
	}
	uint64_t want = c->a.chain_id ? strtoull(c->a.chain_id, NULL, 10)
			: c->chain    ? c->chain->chain_id
				      : 0;
	if (want && want != c->chain_id) {
		rw_cli_err(c->cli,
			   "wrong chain: expected chain %" PRIu64 " (%s) but the node %s serves "
			   "chain %" PRIu64 "; nothing sent",
			   want, c->a.chain_id ? "--chain-id" : "--config", c->rpc_shown,
			   c->chain_id);
		return RW_EXIT_FAIL;
	}
	if (!c->chain)
		for (size_t i = 0; c->cfg && i < c->cfg->n_chains; i++)
			if (c->cfg->chains[i].chain_id == c->chain_id)
				c->chain = &c->cfg->chains[i];
	rw_txsend_opts(&c->opts, c->chain_id, c->chain);
	if (c->a.fee_cap)
		c->opts.fee_cap = c->a.fee_cap_wei;
	return 0;
}

/* ---- reading the chain ------------------------------------------------------- */

/* Formats a token amount "12.5 SYM". */
static void fmt_amount(char *out, size_t n, const struct ctx *c, const rw_u256 *v)
{
	char units[RW_U256_DEC_MAX + 1];
	rw_u256_format_units(units, v, c->tok.decimals);
	snprintf(out, n, "%s %s", units, c->tok.symbol[0] ? c->tok.symbol : "tokens");
}

/* Reads the provider, its token and the cost, and checks it is not
 * paused and the cost is within --max-cost. Returns 0 or an exit code. */
static int read_terms(struct ctx *c)
{
	struct rw_rpcsync_err err;
	char p[43];
	rw_addr_checksum(p, c->a.provider);
	if (rw_chainread_provider(&c->rpc, c->a.provider, &c->prov, &err) < 0) {
		rw_cli_err(c->cli, "cannot read provider %s: %s", p, err.msg);
		return RW_EXIT_FAIL;
	}
	if (rw_chainread_token(&c->rpc, c->prov.token, &c->tok, &err) < 0) {
		char t[43];
		rw_addr_checksum(t, c->prov.token);
		rw_cli_err(c->cli, "cannot read token %s of provider %s: %s", t, p, err.msg);
		return RW_EXIT_FAIL;
	}
	if (rw_chainread_cost(&c->rpc, &c->prov, c->a.seconds, &c->cost, &err) < 0) {
		rw_cli_err(c->cli, "%s", err.msg);
		return RW_EXIT_FAIL;
	}
	int paused;
	if (rw_chainread_bool(&c->rpc, c->a.provider, "paused()", &paused, &err) < 0) {
		rw_cli_err(c->cli, "cannot read paused() of provider %s: %s", p, err.msg);
		return RW_EXIT_FAIL;
	}
	if (paused) {
		rw_cli_err(c->cli,
			   "provider %s is paused: extendRunway would revert (EnforcedPause); "
			   "nothing sent",
			   p);
		return RW_EXIT_FAIL;
	}
	if (!c->a.max_cost)
		return 0;
	rw_u256 max;
	if (parse_max_cost(&max, c->a.max_cost, c->tok.decimals) < 0)
		return rw_cli_usage(c->cli, "--max-cost %s has more decimals than the token's %u",
				    c->a.max_cost, c->tok.decimals);
	if (rw_u256_cmp(&c->cost, &max) > 0) {
		char a[128], b[128];
		fmt_amount(a, sizeof(a), c, &c->cost);
		fmt_amount(b, sizeof(b), c, &max);
		rw_cli_err(c->cli, "the cost %s is above --max-cost %s; nothing sent", a, b);
		return RW_EXIT_FAIL;
	}
	return 0;
}

/* Reads the payer's balances, its allowance to the provider, the runway
 * now and the latest block's time; checks the balance covers the cost.
 * Returns 0 or an exit code. */
static int read_payer(struct ctx *c)
{
	struct rw_rpcsync_err err;
	char pay[43], a[43];
	rw_addr_checksum(pay, c->payer);
	rw_addr_checksum(a, c->a.app);
	if (rw_chainread_u256(&c->rpc, c->prov.token, "balanceOf(address)", NULL, c->payer,
			      &c->balance, &err) < 0 ||
	    rw_chainread_allowance(&c->rpc, c->prov.token, c->payer, c->a.provider, &c->allowance,
				   &err) < 0) {
		rw_cli_err(c->cli, "cannot read the payer %s's token balance or allowance: %s", pay,
			   err.msg);
		return RW_EXIT_FAIL;
	}
	if (rw_chainread_u256(&c->rpc, c->a.provider, "runway(address)", NULL, c->a.app, &c->until,
			      &err) < 0 ||
	    rw_chainread_block(NULL, &c->now, &c->rpc, "latest", &err) < 0 ||
	    rw_txsend_balance(&c->gas_balance, &c->rpc, c->payer, &err) < 0) {
		rw_cli_err(c->cli, "cannot read the runway of %s: %s", a, err.msg);
		return RW_EXIT_FAIL;
	}
	if (rw_u256_cmp(&c->balance, &c->cost) < 0) {
		char have[128], need[128];
		fmt_amount(have, sizeof(have), c, &c->balance);
		fmt_amount(need, sizeof(need), c, &c->cost);
		rw_cli_err(c->cli,
			   "insufficient token balance: the payer %s holds %s but the extension "
			   "costs %s; nothing sent",
			   pay, have, need);
		return RW_EXIT_FAIL;
	}
	c->need_approve = rw_u256_cmp(&c->allowance, &c->cost) < 0;
	return 0;
}

/* ---- the transactions ----------------------------------------------------- */

/* Calldata of a call sig(address, uint256). */
static void calldata(uint8_t out[68], const char *sig, const uint8_t addr[20], const rw_u256 *v)
{
	rw_abi_selector(out, sig, strlen(sig));
	memset(out + 4, 0, 12);
	memcpy(out + 16, addr, 20);
	rw_u256_to_be(out + 36, v);
}

static void approve_data(uint8_t out[68], const struct ctx *c)
{
	calldata(out, "approve(address,uint256)", c->a.provider, &c->cost);
}

static void extend_data(uint8_t out[68], const struct ctx *c)
{
	rw_u256 secs = rw_u256_from_u64(c->a.seconds);
	calldata(out, "extendRunway(address,uint256)", c->a.app, &secs);
}

/* Estimates the extendRunway call. Returns 0 or an exit code. */
static int estimate_extend(struct ctx *c)
{
	uint8_t data[68];
	struct rw_rpcsync_err err;
	extend_data(data, c);
	if (rw_txsend_estimate(&c->extend_gas, NULL, &c->rpc, c->payer, c->a.provider, data,
			       sizeof(data), c->opts.gas_margin_pct, &err) < 0) {
		char a[43];
		rw_addr_checksum(a, c->a.app);
		rw_cli_err(c->cli, "extendRunway(%s, %" PRIu64 ") would fail: %s; nothing sent", a,
			   c->a.seconds, err.msg);
		return RW_EXIT_FAIL;
	}
	c->extend_estimated = 1;
	return 0;
}

/* Fees, nonce and gas of the plan; checks the gas money. Returns 0 or an
 * exit code. */
static int plan(struct ctx *c)
{
	struct rw_rpcsync_err err;
	if (rw_txsend_fees(&c->fees, &c->rpc, &c->opts, &err) < 0 ||
	    rw_txsend_nonce(&c->nonce, &c->rpc, c->payer, &err) < 0) {
		rw_cli_err(c->cli, "%s", err.msg);
		return RW_EXIT_FAIL;
	}
	if (!c->need_approve)
		return estimate_extend(c);
	uint8_t data[68];
	approve_data(data, c);
	if (rw_txsend_estimate(&c->approve_gas, NULL, &c->rpc, c->payer, c->prov.token, data,
			       sizeof(data), c->opts.gas_margin_pct, &err) < 0) {
		char t[43];
		rw_addr_checksum(t, c->prov.token);
		rw_cli_err(c->cli, "approve on token %s would fail: %s%s; nothing sent", t, err.msg,
			   rw_u256_is_zero(&c->allowance)
				   ? ""
				   : " (some tokens refuse to change a non-zero allowance: "
				     "approve 0 first)");
		return RW_EXIT_FAIL;
	}
	c->extend_gas = EXTEND_GAS_UNESTIMATED; /* estimated once the approval is mined */
	return 0;
}

/* gas x fee of both transactions against the payer's native balance.
 * Returns 0 or an exit code. */
static int check_gas_money(struct ctx *c)
{
	rw_u256 need = rw_u256_from_u64(0), gas, t;
	const rw_u256 *fee = c->fees.type == 2 ? &c->fees.max_fee : &c->fees.gas_price;
	gas = rw_u256_from_u64(c->extend_gas + (c->need_approve ? c->approve_gas : 0));
	if (rw_u256_mul(&t, &gas, fee) == 0)
		need = t;
	if (rw_u256_cmp(&c->gas_balance, &need) >= 0)
		return 0;
	char pay[43], have[RW_U256_DEC_MAX + 1], want[RW_U256_DEC_MAX + 1];
	rw_addr_checksum(pay, c->payer);
	rw_u256_format_units(have, &c->gas_balance, 18);
	rw_u256_format_units(want, &need, 18);
	rw_cli_err(c->cli,
		   "insufficient funds for gas: the payer %s holds %s of the chain's native token "
		   "but the transactions may need up to %s (gas x max fee); nothing sent",
		   pay, have, want);
	return RW_EXIT_FAIL;
}

/* Signs the transactions of the plan (approve at the nonce, extend after
 * it). Returns 0 or an exit code. */
static int sign_all(struct ctx *c)
{
	uint8_t data[68];
	int r = 0;
	uint64_t nonce = c->nonce;
	if (c->need_approve) {
		approve_data(data, c);
		r = rw_txsend_sign(&c->approve, c->chain_id, nonce++, &c->fees, c->approve_gas,
				   c->prov.token, data, sizeof(data), c->sk);
		c->signed_approve = r == 0;
	}
	if (r == 0) {
		extend_data(data, c);
		r = rw_txsend_sign(&c->extend, c->chain_id, nonce, &c->fees, c->extend_gas,
				   c->a.provider, data, sizeof(data), c->sk);
		c->signed_extend = r == 0;
	}
	if (r < 0) {
		rw_cli_err(c->cli, "cannot sign the transaction: %s", rw_strerror(r));
		return RW_EXIT_FAIL;
	}
	return 0;
}

/* ---- printing --------------------------------------------------------------- */

/* Formats a runway end: "2025-01-02T03:04:05Z (1735787045)" or the number
 * alone past the year 9999 or 2^64. */
static void fmt_until(char *out, size_t n, const rw_u256 *until)
{
	char dec[RW_U256_DEC_MAX], iso[32];
	uint64_t t;
	rw_u256_format_dec(dec, until);
	if (rw_u256_to_u64(&t, until) == 0 && rw_time_iso(iso, t) == 0)
		snprintf(out, n, "%s (%s)", iso, dec);
	else
		snprintf(out, n, "%s", dec);
}

/* Seconds from now to until (0 when lapsed; saturating). */
static uint64_t seconds_left(const rw_u256 *until, uint64_t now)
{
	uint64_t t;
	if (rw_u256_to_u64(&t, until) < 0)
		return UINT64_MAX;
	return t > now ? t - now : 0;
}

/* The runway now, for the summary: "until X (3 days 2 hours left)". */
static void fmt_runway(char *out, size_t n, const rw_u256 *until, uint64_t now)
{
	if (rw_u256_is_zero(until)) {
		snprintf(out, n, "never funded");
		return;
	}
	char u[128], left[48];
	fmt_until(u, sizeof(u), until);
	uint64_t s = seconds_left(until, now);
	if (s == 0)
		snprintf(out, n, "lapsed at %s: restarts from the block's time", u);
	else
		snprintf(out, n, "until %s, %s left", u, rw_duration_left(left, sizeof(left), s));
}

static void fmt_fees(char *out, size_t n, const struct rw_relayer_fees *f)
{
	char a[RW_U256_DEC_MAX + 1], b[RW_U256_DEC_MAX + 1];
	if (f->type == 2) {
		rw_u256_format_units(a, &f->max_fee, 9);
		rw_u256_format_units(b, &f->tip, 9);
		snprintf(out, n, "EIP-1559: max fee %s gwei, tip %s gwei", a, b);
	} else {
		rw_u256_format_units(a, &f->gas_price, 9);
		snprintf(out, n, "legacy: gas price %s gwei", a);
	}
}

/* What is about to happen (standard output; with --json on standard error,
 * and only before the question). */
static void print_summary(const struct ctx *c)
{
	FILE *f = c->cli->json ? stderr : stdout;
	char app[43], prov[43], pay[43], dur[48], cost[128], bal[128], alw[128], run[256],
		fees[256], base[RW_U256_DEC_MAX];
	rw_addr_checksum(app, c->a.app);
	rw_addr_checksum(prov, c->a.provider);
	rw_addr_checksum(pay, c->payer);
	rw_duration_format(dur, sizeof(dur), c->a.seconds);
	fmt_amount(cost, sizeof(cost), c, &c->cost);
	fmt_amount(bal, sizeof(bal), c, &c->balance);
	fmt_amount(alw, sizeof(alw), c, &c->allowance);
	rw_u256_format_dec(base, &c->cost);
	fmt_runway(run, sizeof(run), &c->until, c->now);
	fmt_fees(fees, sizeof(fees), &c->fees);
	fprintf(f, "extend runway of %s\n", app);
	fprintf(f, "provider      %s (chain %" PRIu64 ")\n", prov, c->chain_id);
	fprintf(f, "duration      %" PRIu64 " s (%s)\n", c->a.seconds, dur);
	fprintf(f, "cost          %s (%s base units)\n", cost, base);
	fprintf(f, "payer         %s\n", pay);
	fprintf(f, "balance       %s\n", bal);
	fprintf(f, "allowance     %s to the provider: %s\n", alw,
		c->need_approve ? "approve exactly the cost first" : "enough, no approval");
	fprintf(f, "runway now    %s\n", run);
	fprintf(f, "fees          %s\n", fees);
	if (c->need_approve)
		fprintf(f, "gas           approve %" PRIu64 ", extendRunway %" PRIu64 "%s\n",
			c->approve_gas, c->extend_gas,
			c->extend_estimated ? "" : " (estimated once the approval is mined)");
	else
		fprintf(f, "gas           extendRunway %" PRIu64 "\n", c->extend_gas);
	fflush(f);
}

/* One transaction as JSON. */
static json_t *tx_json(const char *action, const struct rw_txsend_tx *tx,
		       const struct rw_txsend_receipt *rc, int with_raw)
{
	char hash[67];
	rw_hex_encode(hash, tx->hash, 32, 1);
	json_t *o = json_pack("{s:s, s:s, s:I, s:I}", "action", action, "hash", hash, "nonce",
			      (json_int_t)tx->nonce, "gas", (json_int_t)tx->gas);
	if (o && with_raw) {
		char *raw = rw_hex_encode_alloc(tx->raw.p, tx->raw.len);
		json_object_set_new(o, "raw", raw ? json_string(raw) : json_null());
		free(raw);
	}
	if (o && rc) {
		json_object_set_new(o, "block", json_integer((json_int_t)rc->block));
		json_object_set_new(o, "gas_used", json_integer((json_int_t)rc->gas_used));
	}
	return o;
}

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

/* Adds "name" (base units) and "name_units" to o. */
static void json_amount(json_t *o, const struct ctx *c, const char *name, const rw_u256 *v)
{
	char dec[RW_U256_DEC_MAX], units[RW_U256_DEC_MAX + 1], key[64];
	rw_u256_format_dec(dec, v);
	rw_u256_format_units(units, v, c->tok.decimals);
	json_object_set_new(o, name, json_string(dec));
	snprintf(key, sizeof(key), "%s_units", name);
	json_object_set_new(o, key, json_string(units));
}

/* The object --json prints: the plan, and the outcome when sent. */
static json_t *result_json(const struct ctx *c)
{
	char app[43], prov[43], pay[43], tok[43], payee[43], dur[48], price[RW_U256_DEC_MAX];
	rw_addr_checksum(app, c->a.app);
	rw_addr_checksum(prov, c->a.provider);
	rw_addr_checksum(pay, c->payer);
	rw_addr_checksum(tok, c->prov.token);
	rw_addr_checksum(payee, c->prov.payee);
	rw_duration_format(dur, sizeof(dur), c->a.seconds);
	rw_u256_format_dec(price, &c->prov.price);
	json_t *o =
		json_pack("{s:b, s:I, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:I, s:s, s:s}", "dry_run",
			  c->a.dry_run, "chain_id", (json_int_t)c->chain_id, "provider", prov,
			  "application", app, "payer", pay, "token", tok, "symbol", c->tok.symbol,
			  "decimals", (int)c->tok.decimals, "payee", payee, "seconds",
			  (json_int_t)c->a.seconds, "duration", dur, "price", price);
	if (!o)
		return NULL;
	json_amount(o, c, "cost", &c->cost);
	json_amount(o, c, "balance", &c->balance);
	json_amount(o, c, "allowance", &c->allowance);
	json_object_set_new(o, "previous_until",
			    json_u256(c->mined_extend ? &c->prev_until : &c->until));
	json_t *txs = json_array();
	if (c->signed_approve)
		json_array_append_new(txs, tx_json("approve", &c->approve,
						   c->mined_approve ? &c->approve_rc : NULL,
						   c->a.dry_run));
	if (c->signed_extend)
		json_array_append_new(txs, tx_json("extendRunway", &c->extend,
						   c->mined_extend ? &c->extend_rc : NULL,
						   c->a.dry_run));
	json_object_set_new(o, "transactions", txs);
	if (!c->mined_extend)
		return o;
	char iso[32];
	uint64_t t;
	int has_iso = rw_u256_to_u64(&t, &c->new_until) == 0 && rw_time_iso(iso, t) == 0;
	json_object_set_new(o, "restarted", json_boolean(c->restarted));
	json_object_set_new(o, "block_time", json_integer((json_int_t)c->block_time));
	json_object_set_new(o, "until", json_u256(&c->new_until));
	json_object_set_new(o, "until_iso", has_iso ? json_string(iso) : json_null());
	uint64_t left = seconds_left(&c->new_until, c->block_time);
	json_object_set_new(o, "seconds_left",
			    left <= INT64_MAX ? json_integer((json_int_t)left) : json_null());
	json_object_set_new(o, "runway_now", json_u256(&c->now_until));
	return o;
}

static void print_json(const struct ctx *c)
{
	json_t *o = result_json(c);
	if (!o) {
		rw_cli_err(c->cli, "out of memory");
		return;
	}
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(o);
}

/* --dry-run: the signed transactions, in order. */
static void print_dry_run(const struct ctx *c)
{
	if (c->cli->json) {
		print_json(c);
		return;
	}
	printf("dry run: nothing sent; the signed transactions, in order:\n");
	const struct rw_txsend_tx *txs[2] = { c->signed_approve ? &c->approve : NULL, &c->extend };
	const char *names[2] = { "approve", "extendRunway" };
	for (int i = 0; i < 2; i++) {
		if (!txs[i])
			continue;
		char hash[67];
		rw_hex_encode(hash, txs[i]->hash, 32, 1);
		char *raw = rw_hex_encode_alloc(txs[i]->raw.p, txs[i]->raw.len);
		printf("%s nonce %" PRIu64 " gas %" PRIu64 "%s hash %s\n%s\n", names[i],
		       txs[i]->nonce, txs[i]->gas,
		       i == 1 && !c->extend_estimated ? " (not estimated: needs the approval)" : "",
		       hash, raw ? raw : "(out of memory)");
		free(raw);
	}
}

/* The outcome in words. */
static void print_result(const struct ctx *c)
{
	if (c->cli->json) {
		print_json(c);
		return;
	}
	char hash[67], until[128], left[48], paid[128], payee[43];
	if (c->mined_approve) {
		rw_hex_encode(hash, c->approve.hash, 32, 1);
		printf("approve       %s (block %" PRIu64 ")\n", hash, c->approve_rc.block);
	}
	rw_hex_encode(hash, c->extend.hash, 32, 1);
	printf("extendRunway  %s (block %" PRIu64 ")\n", hash, c->extend_rc.block);
	fmt_amount(paid, sizeof(paid), c, &c->cost);
	rw_addr_checksum(payee, c->prov.payee);
	printf("paid          %s to %s\n", paid, payee);
	fmt_until(until, sizeof(until), &c->new_until);
	printf("until         %s%s\n", until,
	       !c->restarted                     ? ""
	       : rw_u256_is_zero(&c->prev_until) ? " (first funding: from the block's time)"
						 : " (the runway had lapsed: restarted from the "
						   "block's time)");
	uint64_t s = seconds_left(&c->new_until, c->block_time);
	printf("time left     %s (%" PRIu64 " s)\n", rw_duration_left(left, sizeof(left), s), s);
}

/* ---- sending ------------------------------------------------------------------ */

/* Asks on the terminal. Returns 1 for yes. */
static int confirm(const struct ctx *c)
{
	char line[16];
	fprintf(stderr, "%s: send %s? [y/N] ", c->cli->prog,
		c->need_approve ? "approve and extendRunway" : "extendRunway");
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return 0;
	line[strcspn(line, "\r\n")] = '\0';
	return strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0;
}

/* Sends one transaction and waits for a successful receipt. Returns 0 or
 * an exit code. */
static int send_one(struct ctx *c, const char *what, const struct rw_txsend_tx *tx,
		    struct rw_txsend_receipt *rc, int *mined)
{
	struct rw_rpcsync_err err;
	struct rw_txsend_wait w = { c->a.timeout_ms, 0, c->opts.rebroadcast_ms };
	char hash[67];
	rw_hex_encode(hash, tx->hash, 32, 1);
	rw_cli_err(c->cli, "%s: sent %s, waiting for the receipt", what, hash);
	if (rw_txsend_send(rc, &c->rpc, tx, &w, &err) < 0) {
		rw_cli_err(c->cli, "%s: %s", what, err.msg);
		return RW_EXIT_FAIL;
	}
	*mined = 1;
	if (rc->status != 1) {
		rw_cli_err(c->cli,
			   "%s %s reverted on chain in block %" PRIu64 " (gas used %" PRIu64
			   " of %" PRIu64 ")",
			   what, hash, rc->block, rc->gas_used, tx->gas);
		return RW_EXIT_FAIL;
	}
	return 0;
}

/* Approve (when needed) then extend. Returns 0 or an exit code. */
static int send_all(struct ctx *c)
{
	int rc;
	if (c->need_approve) {
		if ((rc = send_one(c, "approve", &c->approve, &c->approve_rc, &c->mined_approve)))
			return rc;
		/* The extend's gas is known now that the allowance is there. */
		if ((rc = estimate_extend(c)) != 0) {
			rw_cli_err(c->cli, "the approval is mined; the allowance stays, and a new "
					   "run uses it without approving again");
			return rc;
		}
		rw_txsend_tx_free(&c->extend);
		c->signed_extend = 0;
		uint8_t data[68];
		extend_data(data, c);
		int r = rw_txsend_sign(&c->extend, c->chain_id, c->nonce + 1, &c->fees,
				       c->extend_gas, c->a.provider, data, sizeof(data), c->sk);
		if (r < 0) {
			rw_cli_err(c->cli, "cannot sign extendRunway: %s", rw_strerror(r));
			return RW_EXIT_FAIL;
		}
		c->signed_extend = 1;
	}
	return send_one(c, "extendRunway", &c->extend, &c->extend_rc, &c->mined_extend);
}

/* Checks the receipt's FinancialRunway and Transfer against the request
 * and reads the runway before and after. Returns 0 or an exit code. */
static int verify(struct ctx *c)
{
	uint8_t fr[32], tr[32], app_topic[32] = { 0 }, t[32];
	rw_abi_topic(fr, "FinancialRunway(address,uint256)", 32);
	rw_abi_topic(tr, "Transfer(address,address,uint256)", 33);
	memcpy(app_topic + 12, c->a.app, 20);
	const json_t *log =
		rw_chainread_find_log(c->extend_rc.logs, c->a.provider, fr, app_topic, -1);
	struct rw_rpcsync_err err;
	char blk[24], hash[67];
	rw_hex_encode(hash, c->extend.hash, 32, 1);
	if (!log || rw_chainread_log_word(&c->new_until, log, 0) < 0) {
		rw_cli_err(c->cli, "the receipt of %s has no FinancialRunway for the application",
			   hash);
		return RW_EXIT_FAIL;
	}
	const json_t *pay = rw_chainread_find_log(c->extend_rc.logs, c->prov.token, tr, NULL,
						  rw_chainread_log_index(log));
	rw_u256 amount;
	uint8_t payer_topic[32] = { 0 }, payee_topic[32] = { 0 };
	memcpy(payer_topic + 12, c->payer, 20);
	memcpy(payee_topic + 12, c->prov.payee, 20);
	if (!pay || rw_chainread_log_topic(t, pay, 1) < 0 || memcmp(t, payer_topic, 32) ||
	    rw_chainread_log_topic(t, pay, 2) < 0 || memcmp(t, payee_topic, 32) ||
	    rw_chainread_log_word(&amount, pay, 0) < 0 || rw_u256_cmp(&amount, &c->cost)) {
		rw_cli_err(c->cli,
			   "the receipt of %s does not show the payment of exactly the cost from "
			   "the payer to the payee",
			   hash);
		return RW_EXIT_FAIL;
	}
	rw_hex_format_u64(blk, c->extend_rc.block);
	char before[24];
	rw_hex_format_u64(before, c->extend_rc.block - 1);
	if (rw_chainread_block(NULL, &c->block_time, &c->rpc, blk, &err) < 0 ||
	    rw_chainread_u256_at(&c->rpc, c->a.provider, "runway(address)", NULL, c->a.app, before,
				 &c->prev_until, &err) < 0 ||
	    rw_chainread_u256(&c->rpc, c->a.provider, "runway(address)", NULL, c->a.app,
			      &c->now_until, &err) < 0) {
		rw_cli_err(c->cli, "extended (%s), but reading the runway back failed: %s", hash,
			   err.msg);
		return RW_EXIT_FAIL;
	}
	rw_u256 ts = rw_u256_from_u64(c->block_time), secs = rw_u256_from_u64(c->a.seconds), want;
	c->restarted = rw_u256_cmp(&c->prev_until, &ts) <= 0;
	want = c->restarted ? ts : c->prev_until;
	if (rw_u256_add(&want, &want, &secs) < 0 || rw_u256_cmp(&want, &c->new_until) != 0)
		rw_cli_err(c->cli,
			   "note: the new end is not max(end before the block, block time) + "
			   "seconds: another extension of this application is in the same block");
	if (rw_u256_cmp(&c->now_until, &c->new_until) != 0)
		rw_cli_err(c->cli, "note: the runway has changed again since (someone else "
				   "extended it)");
	return 0;
}

/* ---- the command --------------------------------------------------------------- */

static int run(struct ctx *c)
{
	int rc, usage_err;
	if ((rc = setup_config(c)) != 0)
		return rc;
	if (rw_secret_load_key(c->cli, &c->a.key, c->sk, &usage_err) < 0)
		return usage_err ? RW_EXIT_USAGE : RW_EXIT_FAIL;
	c->have_key = 1;
	if (rw_key_address(c->payer, c->sk) < 0) {
		rw_cli_err(c->cli, "the key is not a valid secp256k1 key");
		return RW_EXIT_FAIL;
	}
	if ((rc = setup_node(c)) != 0 || (rc = read_terms(c)) != 0 || (rc = read_payer(c)) != 0 ||
	    (rc = plan(c)) != 0 || (rc = check_gas_money(c)) != 0 || (rc = sign_all(c)) != 0)
		return rc;
	if (!c->cli->json || (!c->a.yes && !c->a.dry_run))
		print_summary(c);
	if (c->a.dry_run) {
		print_dry_run(c);
		return RW_EXIT_OK;
	}
	if (!c->a.yes && !confirm(c)) {
		rw_cli_err(c->cli, "cancelled: nothing sent");
		return RW_EXIT_FAIL;
	}
	if ((rc = send_all(c)) != 0)
		return rc;
	rc = verify(c);
	print_result(c);
	return rc;
}

int rw_cmd_extend(struct rw_cli *cli, int argc, char **argv)
{
	struct ctx c;
	memset(&c, 0, sizeof(c));
	c.cli = cli;
	int rc = parse(cli, argc, argv, &c.a);
	if (rc == HELP_SHOWN)
		return RW_EXIT_OK;
	if (rc != 0)
		return rc;
	rc = run(&c);
	rw_wipe(c.sk, sizeof(c.sk));
	rw_txsend_tx_free(&c.approve);
	rw_txsend_tx_free(&c.extend);
	rw_txsend_receipt_free(&c.approve_rc);
	rw_txsend_receipt_free(&c.extend_rc);
	if (c.rpc_open)
		rw_rpcsync_close(&c.rpc);
	rw_relayer_errors_free(c.errors);
	rw_config_free(c.cfg);
	free(c.rpc_shown);
	return rc;
}
