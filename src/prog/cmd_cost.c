/* cmd_cost.c: `runway cost`: the exact cost of a runway extension, from
 * the provider's price and cross-checked with its cost(uint256). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "chainread.h"
#include "cmd.h"
#include "duration.h"
#include "err.h"
#include "hex.h"
#include "key.h"
#include "rpcsync.h"

static const char usage[] =
	"Usage: runway cost --provider ADDR (--duration D | --seconds N) [--rpc-url URL]\n"
	"\n"
	"Prints the exact cost of extending a runway by a duration on a\n"
	"ValidatorNodeProvider: seconds x price (base units per second), checked\n"
	"against the contract's own cost(uint256), in base units and as a decimal\n"
	"token amount.\n"
	"\n"
	"Options:\n"
	"  --provider ADDR   the ValidatorNodeProvider contract\n"
	"  --duration D      e.g. 2w, 14d, 1w2d12h, 90m, 3600s (w d h m s)\n"
	"  --seconds N       the duration in seconds\n"
	"  --rpc-url URL     JSON-RPC endpoint (env RUNWAY_RPC_URL)\n"
	"  --json            {provider, token, symbol, decimals, seconds, price, cost, "
	"cost_units}\n";

/* The answer, for printing. */
struct cost {
	struct rw_provider_info provider;
	struct rw_token_info token;
	uint64_t seconds;
	rw_u256 cost;
};

/* Parses --provider and --duration/--seconds. Returns 0, HELP (printed),
 * or an exit code. */
#define HELP_SHOWN (-1)
static int parse(struct rw_cli *cli, int argc, char **argv, uint8_t provider[20], uint64_t *seconds)
{
	const char *prov = NULL, *dur = NULL, *secs = NULL;
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r;
		if (rw_cli_is_help(argv[i])) {
			fputs(usage, stdout);
			return HELP_SHOWN;
		}
		if ((r = rw_cli_opt_value(cli, argc, argv, &i, "provider", &v)) != 0) {
			if (r < 0)
				return RW_EXIT_USAGE;
			prov = v;
		} else if ((r = rw_cli_opt_value(cli, argc, argv, &i, "duration", &v)) != 0) {
			if (r < 0)
				return RW_EXIT_USAGE;
			dur = v;
		} else if ((r = rw_cli_opt_value(cli, argc, argv, &i, "seconds", &v)) != 0) {
			if (r < 0)
				return RW_EXIT_USAGE;
			secs = v;
		} else {
			return rw_cli_usage(cli, "cost: unknown argument '%s'", argv[i]);
		}
	}
	if (!prov)
		return rw_cli_usage(cli, "cost needs --provider ADDR");
	int r = rw_cli_addr(cli, "--provider", prov, provider);
	if (r != 0)
		return r;
	if (!dur == !secs)
		return rw_cli_usage(cli, "cost needs exactly one of --duration D and --seconds N");
	if (secs && (secs[strspn(secs, "0123456789")] != '\0' || !*secs))
		return rw_cli_usage(cli, "--seconds needs a whole number, not '%s'", secs);
	r = rw_duration_parse(seconds, dur ? dur : secs);
	if (r == RW_ERANGE)
		return rw_cli_usage(cli, "the duration '%s' does not fit in 64 bits",
				    dur ? dur : secs);
	if (r < 0)
		return rw_cli_usage(
			cli,
			"--duration '%s' is not a duration (e.g. 2w, 14d, 1w2d12h, 90m, "
			"3600s; more than zero)",
			dur ? dur : secs);
	return 0;
}

/* Reads the provider's terms and computes the cost, cross-checked with
 * cost(uint256). Returns 0 or -1 after a message. */
static int compute(struct rw_cli *cli, struct rw_rpcsync *s, const uint8_t provider[20],
		   uint64_t seconds, struct cost *ret)
{
	struct rw_rpcsync_err err;
	char a[43];
	rw_addr_checksum(a, provider);
	if (rw_chainread_provider(s, provider, &ret->provider, &err) < 0) {
		rw_cli_err(cli, "cannot read provider %s: %s", a, err.msg);
		return -1;
	}
	if (rw_chainread_token(s, ret->provider.token, &ret->token, &err) < 0) {
		char t[43];
		rw_addr_checksum(t, ret->provider.token);
		rw_cli_err(cli, "cannot read token %s of provider %s: %s", t, a, err.msg);
		return -1;
	}
	ret->seconds = seconds;
	if (rw_chainread_cost(s, &ret->provider, seconds, &ret->cost, &err) < 0) {
		rw_cli_err(cli, "%s", err.msg);
		return -1;
	}
	return 0;
}

static void print(const struct rw_cli *cli, const struct cost *c)
{
	char prov[43], tok[43], price[RW_U256_DEC_MAX], cost[RW_U256_DEC_MAX],
		units[RW_U256_DEC_MAX + 1], dur[48];
	rw_addr_checksum(prov, c->provider.address);
	rw_addr_checksum(tok, c->token.address);
	rw_u256_format_dec(price, &c->provider.price);
	rw_u256_format_dec(cost, &c->cost);
	rw_u256_format_units(units, &c->cost, c->token.decimals);
	rw_duration_format(dur, sizeof(dur), c->seconds);
	const char *sym = c->token.symbol[0] ? c->token.symbol : "tokens";
	if (cli->json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:I, s:s, s:s, s:s}", "provider", prov,
				      "token", tok, "symbol", c->token.symbol, "decimals",
				      (int)c->token.decimals, "seconds", (json_int_t)c->seconds,
				      "price", price, "cost", cost, "cost_units", units);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(o);
		return;
	}
	printf("%s %s\n", units, sym);
	printf("cost        %s base units\n", cost);
	printf("duration    %llu s (%s)\n", (unsigned long long)c->seconds, dur);
	printf("price       %s base units/s\n", price);
	printf("token       %s (%s, %u decimals)\n", tok, sym, c->token.decimals);
	printf("provider    %s\n", prov);
}

int rw_cmd_cost(struct rw_cli *cli, int argc, char **argv)
{
	uint8_t provider[20];
	uint64_t seconds = 0;
	int rc = parse(cli, argc, argv, provider, &seconds);
	if (rc == HELP_SHOWN)
		return RW_EXIT_OK;
	if (rc != 0)
		return rc;
	if (!cli->rpc_url || !*cli->rpc_url)
		return rw_cli_usage(cli, "cost needs a node: --rpc-url URL or RUNWAY_RPC_URL");
	struct rw_rpcsync s;
	struct rw_rpcsync_err err;
	if (rw_rpcsync_open(&s, cli->rpc_url, &err) < 0) {
		rw_rpcsync_close(&s);
		rw_cli_err(cli, "%s", err.msg);
		return RW_EXIT_FAIL;
	}
	struct cost c;
	rc = compute(cli, &s, provider, seconds, &c) < 0 ? RW_EXIT_FAIL : RW_EXIT_OK;
	rw_rpcsync_close(&s);
	if (rc == RW_EXIT_OK)
		print(cli, &c);
	return rc;
}
