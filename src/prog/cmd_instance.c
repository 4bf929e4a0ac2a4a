/* cmd_instance.c: `runway instance create|list|show|stop|set-status`:
 * billed compute instances on a Balance contract, for operators
 * (migrations/0022_scheduler.sql, shared/DESIGN.md §1.2).
 *
 * The rules live in SQL (rw_instance_create, rw_instance_stop,
 * rw_instance_set_status, the instances view), so the CLI, the provisioning
 * side and a console apply the same ones. create and stop file intents for
 * the chain's relayer (runwayd sends them: createInstance and stopInstance
 * on the Balance contract); list and show read the instances view, whose
 * status is New or Launching until the mirror has the instance on chain,
 * then the chain's. This file picks the Balance contract, turns the decimal
 * --price-per-day into base units with the token's decimals (exactly: more
 * decimals than the token has are refused, never rounded), calls the
 * functions and prints what they return; each query returns one JSON
 * document built in SQL: --json prints it (EIP-55 addresses), the text form
 * reads it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "balctx.h"
#include "cmd.h"
#include "err.h"
#include "hex.h"
#include "key.h"
#include "pg.h"
#include "pgsync.h"
#include "rwconfig.h"
#include "u256.h"

static const char usage_instance[] =
	"Usage: runway instance create|list|show|stop|set-status [options]\n"
	"\n"
	"Compute instances billed by the day on a Balance contract. runwayd's\n"
	"relayer sends what create and stop file; its scheduler charges every\n"
	"day when the instance's period ends.\n"
	"\n"
	"Subcommands:\n"
	"  create      record an instance (New) and file createInstance\n"
	"  list        list instances, newest first\n"
	"  show        one instance: status, billing, intents\n"
	"  stop        file stopInstance (periods begun are paid, the reserve\n"
	"              goes back to the account)\n"
	"  set-status  set New or Launching on an instance not yet on chain\n"
	"\n"
	"Run 'runway instance SUBCOMMAND --help' for a subcommand's options.\n";

#define CONTRACT_HELP                                                                              \
	"  --balance ADDR        the Balance contract (default: the only one in the\n"             \
	"                        --config file, else the only one in the database)\n"              \
	"  --chain-id N          its chain, when the address alone is ambiguous\n"

#define FIND_HELP                                                                                  \
	"  --balance ADDR        the Balance contract, when the id is on several\n"                \
	"  --chain-id N          the chain, when the id is on several\n"

#define DB_HELP                                                                                    \
	"  --database-url URL    PostgreSQL connection string (env\n"                              \
	"                        RUNWAY_DATABASE_URL; else the --config file's, else\n"            \
	"                        libpq's PG* variables)\n"

static const char usage_create[] =
	"Usage: runway instance create --account ADDR --provider ADDR --price-per-day DEC\n"
	"                              [--id ID] [--request REQ] [--balance ADDR]\n"
	"                              [--chain-id N] [--json]\n"
	"\n"
	"Records the instance as New and files the intent instance-create:<REQ>\n"
	"calling createInstance(id, account, provider, pricePerDay) on the Balance\n"
	"contract; runwayd's relayer sends it (its key must be an operator of the\n"
	"contract, or the account). Creating takes two days from the account's\n"
	"balance: one paid to the provider, one kept as reserve. The same --request\n"
	"again changes nothing and prints the same instance.\n"
	"\n"
	"Options:\n"
	"  --account ADDR        the account that pays\n"
	"  --provider ADDR       who is paid every day\n"
	"  --price-per-day DEC   token amount per day, e.g. 5 or 0.5 (at most the\n"
	"                        token's decimals; never rounded)\n"
	"  --id ID               the instance id, 0x + 64 hex digits (default:\n"
	"                        derived from the request)\n"
	"  --request REQ         idempotency key, 1-120 printable characters without\n"
	"                        spaces (default: a random UUID)\n" CONTRACT_HELP DB_HELP
	"  --json                the instance as one object\n"
	"\n"
	"Exit status: 0 ok, 1 refused (balance below two days, id or request used,\n"
	"unknown contract) or failed, 2 usage error.\n";

static const char usage_list[] =
	"Usage: runway instance list [--account ADDR] [--status S] [--limit N]\n"
	"                            [--balance ADDR] [--chain-id N] [--json]\n"
	"\n"
	"Lists instances, newest first, with their status as users see it: New,\n"
	"Launching (off-chain), Active, SmallBalance, InsufficientFunds,\n"
	"Terminated, Stopped (from the chain).\n"
	"\n"
	"Options:\n"
	"  --account ADDR        only this account's\n"
	"  --status S            only instances in this status\n"
	"  --limit N             at most N (1..1000, default 50)\n"
	"  --balance ADDR        only this Balance contract's\n"
	"  --chain-id N          only this chain's\n" DB_HELP
	"  --json                an array of instances\n";

static const char usage_show[] =
	"Usage: runway instance show ID [--balance ADDR] [--chain-id N] [--json]\n"
	"\n"
	"Shows one instance (ID: 0x + 64 hex digits): status, price, reserve,\n"
	"paid until and the next charge, grace period, charges so far, and the\n"
	"intents that create, stop and charge it.\n"
	"\n"
	"Options:\n" FIND_HELP DB_HELP "  --json                the instance as one object\n";

static const char usage_stop[] =
	"Usage: runway instance stop ID [--balance ADDR] [--chain-id N] [--json]\n"
	"\n"
	"Files the intent instance-stop:<chain>:<ID> calling stopInstance(ID);\n"
	"runwayd's relayer sends it. Periods already begun are paid, the reserve\n"
	"goes back to the account's balance; the status becomes Stopped once the\n"
	"mirror has it. Stopping again changes nothing.\n"
	"\n"
	"Options:\n" FIND_HELP DB_HELP "  --json                the intent as one object\n"
	"\n"
	"Exit status: 0 ok, 1 refused (not on chain yet, already ended) or failed,\n"
	"2 usage error.\n";

static const char usage_set_status[] =
	"Usage: runway instance set-status ID New|Launching [--balance ADDR] [--chain-id N]\n"
	"                                  [--json]\n"
	"\n"
	"Sets the off-chain status of an instance recorded with create that is not\n"
	"on chain yet (provisioning). Once on chain its status follows the chain.\n"
	"\n"
	"Options:\n" FIND_HELP DB_HELP "  --json                the instance as one object\n"
	"\n"
	"Exit status: 0 ok, 1 refused (on chain already, unknown id) or failed, 2\n"
	"usage error.\n";

/* Options a subcommand accepts. */
enum {
	OPT_CONTRACT = 1, /* --balance, --chain-id */
	OPT_CREATE = 2,   /* --account, --provider, --price-per-day, --id, --request */
	OPT_LIST = 4,     /* --account, --status, --limit */
	OPT_ID = 8,       /* one positional ID */
	OPT_STATUS = 16   /* a second positional: New or Launching */
};

struct opts {
	const char *chain_id;
	const char *balance;
	const char *account;
	const char *provider;
	const char *price;
	const char *id;
	const char *request;
	const char *status;
	const char *limit;
	const char *new_status;
	char balance_hex[43];
	char account_hex[43];
	char provider_hex[43];
	char id_hex[67];
};

static const char *const statuses[] = { "New",          "Launching",         "Active",
					"SmallBalance", "InsufficientFunds", "Terminated",
					"Stopped" };

/* ---- arguments ---------------------------------------------------------- */

static int take(struct rw_cli *cli, int argc, char **argv, int *i, const char *name,
		const char **ret, int allowed)
{
	if (!allowed)
		return 0;
	return rw_cli_opt_value(cli, argc, argv, i, name, ret);
}

/* An instance id: "0x" + 64 hex digits into lowercase hex; 0 or a usage
 * exit code. */
static int parse_id(struct rw_cli *cli, const char *what, const char *v, char out[67])
{
	uint8_t b[32];
	if (rw_hex_decode_fixed(b, 32, v, strlen(v), RW_HEX_PREFIX_REQUIRED) < 0)
		return rw_cli_usage(cli, "%s '%s' is not an instance id (0x and 64 hex digits)",
				    what, v);
	rw_hex_encode(out, b, 32, 1);
	return 0;
}

/* A status name, any case, to its canonical spelling; NULL if unknown. */
static const char *status_name(const char *s, size_t first, size_t last)
{
	for (size_t k = first; k <= last; k++)
		if (strcasecmp(s, statuses[k]) == 0)
			return statuses[k];
	return NULL;
}

/* Takes the options of argv[i]; returns 1 (taken), 0 (not an option of
 * this subcommand) or -1 (usage error printed). */
static int take_option(struct rw_cli *cli, int argc, char **argv, int *i, int allow, struct opts *o)
{
	int r;
	if ((r = take(cli, argc, argv, i, "chain-id", &o->chain_id,
		      allow & (OPT_CONTRACT | OPT_LIST | OPT_ID))) ||
	    (r = take(cli, argc, argv, i, "balance", &o->balance,
		      allow & (OPT_CONTRACT | OPT_LIST | OPT_ID))) ||
	    (r = take(cli, argc, argv, i, "account", &o->account,
		      allow & (OPT_CREATE | OPT_LIST))) ||
	    (r = take(cli, argc, argv, i, "provider", &o->provider, allow & OPT_CREATE)) ||
	    (r = take(cli, argc, argv, i, "price-per-day", &o->price, allow & OPT_CREATE)) ||
	    (r = take(cli, argc, argv, i, "id", &o->id, allow & OPT_CREATE)) ||
	    (r = take(cli, argc, argv, i, "request", &o->request, allow & OPT_CREATE)) ||
	    (r = take(cli, argc, argv, i, "status", &o->status, allow & OPT_LIST)) ||
	    (r = take(cli, argc, argv, i, "limit", &o->limit, allow & OPT_LIST)))
		return r < 0 ? -1 : 1;
	return 0;
}

/* Checks and normalizes what was given. Returns 0 or a usage exit code. */
static int check_opts(struct rw_cli *cli, const char *sub, int allow, struct opts *o)
{
	int r;
	if (o->chain_id) {
		size_t n = strlen(o->chain_id);
		if (n == 0 || n > 18 || o->chain_id[strspn(o->chain_id, "0123456789")] != '\0' ||
		    strtoull(o->chain_id, NULL, 10) == 0)
			return rw_cli_usage(
				cli,
				"--chain-id needs a chain id (a whole number above 0), not '%s'",
				o->chain_id);
	}
	if (o->balance && (r = rw_cli_addr_hex(cli, "--balance", o->balance, o->balance_hex)) != 0)
		return r;
	if (o->account && (r = rw_cli_addr_hex(cli, "--account", o->account, o->account_hex)) != 0)
		return r;
	if (o->provider &&
	    (r = rw_cli_addr_hex(cli, "--provider", o->provider, o->provider_hex)) != 0)
		return r;
	if (allow & OPT_CREATE) {
		if (!o->account)
			return rw_cli_usage(cli, "instance %s needs --account ADDR", sub);
		if (!o->provider)
			return rw_cli_usage(cli, "instance %s needs --provider ADDR", sub);
		if (!o->price)
			return rw_cli_usage(cli, "instance %s needs --price-per-day DEC", sub);
		if (o->id && (r = parse_id(cli, "--id", o->id, o->id_hex)) != 0)
			return r;
		if (o->request) {
			size_t n = strlen(o->request);
			int ok = n >= 1 && n <= 120;
			for (size_t k = 0; ok && k < n; k++)
				ok = o->request[k] > ' ' && o->request[k] < 0x7f;
			if (!ok)
				return rw_cli_usage(cli,
						    "--request '%s' is not 1 to 120 printable "
						    "characters without spaces",
						    o->request);
		}
	}
	if (allow & OPT_ID) {
		if (!o->id)
			return rw_cli_usage(cli, "instance %s needs the instance's ID", sub);
		if ((r = parse_id(cli, "ID", o->id, o->id_hex)) != 0)
			return r;
	}
	if (allow & OPT_STATUS) {
		if (!o->new_status)
			return rw_cli_usage(cli, "instance %s needs a status: New or Launching",
					    sub);
		const char *canon = status_name(o->new_status, 0, 1);
		if (!canon)
			return rw_cli_usage(cli,
					    "status '%s': only New and Launching are set by hand; "
					    "the others follow the chain",
					    o->new_status);
		o->new_status = canon;
	}
	if (o->limit) {
		size_t n = strlen(o->limit);
		unsigned long v = strtoul(o->limit, NULL, 10);
		if (n == 0 || n > 4 || o->limit[strspn(o->limit, "0123456789")] != '\0' || v < 1 ||
		    v > 1000)
			return rw_cli_usage(cli,
					    "--limit needs a whole number from 1 to 1000, not '%s'",
					    o->limit);
	}
	if (o->status) {
		const char *canon = status_name(o->status, 0, 6);
		if (!canon)
			return rw_cli_usage(
				cli,
				"--status must be New, Launching, Active, SmallBalance, "
				"InsufficientFunds, Terminated or Stopped, not '%s'",
				o->status);
		o->status = canon;
	}
	return 0;
}

/* Parses the subcommand's arguments (argv[0] is the subcommand). Returns
 * 0, RW_BALCTX_HELP_SHOWN, or an exit code after a usage error (an
 * rw_balctx_parse_fn: arg is a struct opts). */
static int parse(struct rw_cli *cli, int argc, char **argv, int allow, const char *help, void *arg)
{
	struct opts *o = arg;
	for (int i = 1; i < argc; i++) {
		const char *const a = argv[i];
		if (rw_cli_is_help(a)) {
			fputs(help, stdout);
			return RW_BALCTX_HELP_SHOWN;
		}
		int r = take_option(cli, argc, argv, &i, allow, o);
		if (r < 0)
			return RW_EXIT_USAGE;
		if (r > 0)
			continue;
		if ((allow & OPT_ID) && a[0] != '-' && !o->id) {
			o->id = a;
			continue;
		}
		if ((allow & OPT_STATUS) && a[0] != '-' && !o->new_status) {
			o->new_status = a;
			continue;
		}
		return rw_cli_usage(cli, "instance %s: unexpected argument '%s'", argv[0], a);
	}
	return check_opts(cli, argv[0], allow, o);
}

/* ---- output --------------------------------------------------------------- */

/* The keys of an instance object that hold addresses (shown in EIP-55 form). */
static const char *const addr_keys[] = { "balance", "account", "provider" };

/* Puts the addresses of an instance object in their EIP-55 form. */
static void checksum_all(json_t *o)
{
	rw_balctx_checksum(o, addr_keys, RW_NELEM(addr_keys));
}

/* rw_balctx_show_amount, or "-" when the amount at key is NULL. */
static const char *amount(char *buf, size_t n, const json_t *o, const char *key)
{
	if (!json_is_string(json_object_get(o, key))) {
		snprintf(buf, n, "-");
		return buf;
	}
	return rw_balctx_show_amount(buf, n, o, key);
}

/* An intent line: "key (state[: reason])", or nothing when key is NULL. */
static void print_intent(const char *label, const json_t *o, const char *key, const char *state,
			 const char *reason)
{
	if (!json_is_string(json_object_get(o, key)))
		return;
	printf("%-12s%s (%s%s%s)\n", label, rw_balctx_str(o, key), rw_balctx_str(o, state),
	       json_is_string(json_object_get(o, reason)) ? ": " : "", rw_balctx_str(o, reason));
}

static void print_instance(const json_t *i)
{
	char a[160];
	printf("%s\n", rw_balctx_str(i, "instance_id"));
	printf("status      %s%s\n", rw_balctx_str(i, "status"),
	       json_is_true(json_object_get(i, "on_chain")) ? "" : " (not on chain yet)");
	printf("account     %s\n", rw_balctx_str(i, "account"));
	printf("provider    %s\n", rw_balctx_str(i, "provider"));
	printf("balance     %s (chain %lld)\n", rw_balctx_str(i, "balance"),
	       (long long)json_integer_value(json_object_get(i, "chain_id")));
	printf("price       %s per day\n", amount(a, sizeof(a), i, "price_per_day"));
	if (json_is_true(json_object_get(i, "on_chain"))) {
		printf("reserve     %s\n", amount(a, sizeof(a), i, "reserve"));
		printf("paid until  %s\n", rw_balctx_str(i, "paid_until_time"));
		if (json_is_true(json_object_get(i, "live")))
			printf("next charge %s, %s%s\n", rw_balctx_str(i, "paid_until_time"),
			       amount(a, sizeof(a), i, "price_per_day"),
			       json_is_true(json_object_get(i, "due")) ? " (due now)" : "");
		if (strcmp(rw_balctx_str(i, "grace_until"), "0") != 0 &&
		    rw_balctx_str(i, "grace_until")[0])
			printf("grace until %s (a charge failed: the instance ends then unless "
			       "money arrives)\n",
			       rw_balctx_str(i, "grace_until_time"));
		printf("charged     %s in %lld period%s\n", amount(a, sizeof(a), i, "charged"),
		       (long long)json_integer_value(json_object_get(i, "charges")),
		       json_integer_value(json_object_get(i, "charges")) == 1 ? "" : "s");
		if (json_is_string(json_object_get(i, "ended_reason")))
			printf("ended       %s, reserve returned %s\n",
			       rw_balctx_str(i, "ended_reason"),
			       amount(a, sizeof(a), i, "refunded"));
	}
	if (json_is_string(json_object_get(i, "request_id")))
		printf("request     %s (%s since %s)\n", rw_balctx_str(i, "request_id"),
		       rw_balctx_str(i, "requested_status"), rw_balctx_str(i, "requested_at"));
	print_intent("create", i, "create_intent", "create_state", "create_reason");
	print_intent("stop", i, "stop_intent", "stop_state", "stop_reason");
	if (json_is_string(json_object_get(i, "last_claim")))
		printf("last claim  %s in %s (%s)\n", rw_balctx_str(i, "last_claim"),
		       rw_balctx_str(i, "last_claim_intent"), rw_balctx_str(i, "last_claim_state"));
}

static void print_list(const json_t *arr)
{
	char a[160];
	printf("%-66s  %-17s  %-22s  %-20s  %s\n", "INSTANCE", "STATUS", "PRICE/DAY", "PAID UNTIL",
	       "ACCOUNT");
	for (size_t k = 0; k < json_array_size(arr); k++) {
		const json_t *i = json_array_get(arr, k);
		printf("%-66s  %-17s  %-22s  %-20s  %s\n", rw_balctx_str(i, "instance_id"),
		       rw_balctx_str(i, "status"), amount(a, sizeof(a), i, "price_per_day"),
		       rw_balctx_str(i, "paid_until_time")[0] ? rw_balctx_str(i, "paid_until_time")
							      : "-",
		       rw_balctx_str(i, "account"));
	}
	printf("%zu instance%s\n", json_array_size(arr), json_array_size(arr) == 1 ? "" : "s");
}

/* Instances of the instances view as a JSON array, newest first, filtered
 * by $1 instance id, $2 account, $3 Balance contract (0x-hex), $4 chain id,
 * $5 status (each NULL: any), at most $6. Times are UTC, ISO 8601. */
static const char instances_sql[] =
	"SELECT coalesce(json_agg(x.j ORDER BY x.at DESC, x.instance_id), '[]')::text "
	"FROM (SELECT coalesce(i.requested_at, i.created_time) AS at, i.instance_id, "
	"json_build_object("
	"'chain_id', i.chain_id, 'balance', i.contract, 'instance_id', i.instance_id, "
	"'status', i.status, 'on_chain', i.on_chain, 'live', i.live, "
	"'account', i.account, 'provider', i.provider, 'symbol', i.symbol, "
	"'price_per_day', i.price_per_day::text, 'price_per_day_units', i.price_per_day_units, "
	"'reserve', i.reserve::text, 'reserve_units', i.reserve_units, "
	"'paid_until', i.paid_until::text, 'paid_until_time', "
	"to_char(i.paid_until_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	"'due', i.due, 'needs_refill', i.needs_refill, "
	"'grace_until', i.grace_until::text, 'grace_until_time', "
	"to_char(i.grace_until_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	"'charges', i.charges, 'charged', i.charged::text, 'charged_units', i.charged_units, "
	"'refunded', i.refunded::text, 'refunded_units', i.refunded_units, "
	"'created_time', "
	"to_char(i.created_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	"'ended_reason', i.ended_reason, 'request_id', i.request_id, "
	"'requested_status', i.requested_status, 'requested_at', "
	"to_char(i.requested_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	"'create_intent', i.create_intent, 'create_state', i.create_state, "
	"'create_reason', i.create_reason, "
	"'stop_intent', i.stop_intent, 'stop_state', i.stop_state, 'stop_reason', i.stop_reason, "
	"'last_claim', i.last_claim, 'last_claim_intent', i.last_claim_intent, "
	"'last_claim_state', i.last_claim_state, 'confirmed', i.confirmed) AS j "
	"FROM instances i "
	"WHERE ($1::text IS NULL OR i.instance_id = $1) AND ($2::text IS NULL OR i.account = $2) "
	"AND ($3::text IS NULL OR i.contract = $3) "
	"AND ($4::bigint IS NULL OR i.chain_id = $4::bigint) "
	"AND ($5::text IS NULL OR i.status = $5) "
	"ORDER BY coalesce(i.requested_at, i.created_time) DESC, i.instance_id "
	"LIMIT $6::integer) x";

/* Runs instances_sql; 0 and the array in *ret, or an exit code. */
static int query_instances(struct rw_balctx *c, const char *const params[6], json_t **ret)
{
	return rw_balctx_query_array(c, instances_sql, 6, params, addr_keys, RW_NELEM(addr_keys),
				     ret);
}

/* Prints the instance id (0x-hex) of chain (decimal) and contract (0x-hex):
 * JSON or text. */
static int show_instance(struct rw_balctx *c, const char *id, const char *chain,
			 const char *contract)
{
	const char *params[] = { id, NULL, contract, chain, NULL, "2" };
	json_t *arr;
	int rc = query_instances(c, params, &arr);
	if (rc != 0)
		return rc;
	rc = rw_balctx_show_first(c, arr, "instance", id, print_instance);
	json_decref(arr);
	return rc;
}

/* ---- subcommands ----------------------------------------------------------- */

static int run_create(struct rw_balctx *c, const void *arg)
{
	const struct opts *o = arg;
	struct rw_baltarget t;
	char base[RW_U256_DEC_MAX];
	int rc = rw_balctx_target(c, o->chain_id, o->balance ? o->balance_hex : NULL, &t);
	if (rc == 0)
		rc = rw_balctx_amount(c, &t, "--price-per-day", o->price, 1, base);
	if (rc != 0)
		return rc;
	const char *params[] = { t.chain_id, t.balance,  o->account_hex,          o->provider_hex,
				 base,       o->request, o->id ? o->id_hex : NULL };
	char *text;
	rc = rw_balctx_query_text(
		c,
		"SELECT rw_hex(r.instance_id) FROM rw_instance_create($1::bigint, "
		"rw_unhex($2), rw_unhex($3), rw_unhex($4), $5::numeric, $6, "
		"rw_unhex($7)) r",
		7, params, &text);
	if (rc != 0)
		return rc;
	if (!text) {
		rw_cli_err(c->cli, "rw_instance_create returned nothing");
		return RW_EXIT_FAIL;
	}
	rc = show_instance(c, text, t.chain_id, t.balance);
	free(text);
	return rc;
}

static int run_list(struct rw_balctx *c, const void *arg)
{
	const struct opts *o = arg;
	const char *params[] = { NULL,
				 o->account ? o->account_hex : NULL,
				 o->balance ? o->balance_hex : NULL,
				 o->chain_id,
				 o->status,
				 o->limit ? o->limit : "50" };
	json_t *arr;
	int rc = query_instances(c, params, &arr);
	if (rc != 0)
		return rc;
	rc = rw_balctx_show(c, arr, print_list);
	json_decref(arr);
	return rc;
}

/* Finds the chain and contract of --id among requests and the mirror
 * (rw_instance_find). Returns 0 or an exit code after the message. */
static int find(struct rw_balctx *c, const struct opts *o, char chain[24], char contract[43])
{
	const char *params[] = { o->id_hex, o->chain_id, o->balance ? o->balance_hex : NULL };
	struct rw_pgsync_err err;
	PGresult *r = rw_pgsync_exec(&c->db,
				     "SELECT f.chain_id::text, rw_hex(f.contract) FROM "
				     "rw_instance_find(rw_unhex($1), $2::bigint, rw_unhex($3)) f",
				     3, params, &err);
	if (!r)
		return rw_pgsync_fail(c->cli, &err);
	snprintf(chain, 24, "%s", PQgetvalue(r, 0, 0));
	snprintf(contract, 43, "%s", PQgetvalue(r, 0, 1));
	PQclear(r);
	return 0;
}

static int run_show(struct rw_balctx *c, const void *arg)
{
	const struct opts *o = arg;
	char chain[24], contract[43];
	int rc = find(c, o, chain, contract);
	return rc != 0 ? rc : show_instance(c, o->id_hex, chain, contract);
}

static int run_stop(struct rw_balctx *c, const void *arg)
{
	const struct opts *o = arg;
	char chain[24], contract[43], *text;
	int rc = find(c, o, chain, contract);
	if (rc != 0)
		return rc;
	const char *params[] = { o->id_hex, chain, contract };
	rc = rw_balctx_query_text(
		c,
		"SELECT json_build_object('key', i.key, 'state', i.state, 'chain_id', "
		"i.chain_id, 'balance', rw_hex(i.target), 'instance_id', $1::text, "
		"'reason', i.reason, 'created_at', to_char(i.created_at AT TIME ZONE 'UTC', "
		"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))::text "
		"FROM rw_instance_stop(rw_unhex($1), $2::bigint, rw_unhex($3)) i",
		3, params, &text);
	if (rc != 0)
		return rc;
	json_t *j = text ? rw_balctx_json(c, text) : NULL;
	free(text);
	if (!j)
		return RW_EXIT_FAIL;
	checksum_all(j);
	if (c->cli->json) {
		rc = rw_balctx_print_json(j);
	} else {
		printf("%s\n", rw_balctx_str(j, "key"));
		printf("state       %s%s%s\n", rw_balctx_str(j, "state"),
		       json_is_string(json_object_get(j, "reason")) ? ": " : "",
		       rw_balctx_str(j, "reason"));
		printf("calls       stopInstance(%s) on %s (chain %s)\n", o->id_hex,
		       rw_balctx_str(j, "balance"), chain);
	}
	json_decref(j);
	return rc;
}

static int run_set_status(struct rw_balctx *c, const void *arg)
{
	const struct opts *o = arg;
	char chain[24], contract[43], *text;
	int rc = find(c, o, chain, contract);
	if (rc != 0)
		return rc;
	const char *params[] = { o->id_hex, o->new_status, chain, contract };
	rc = rw_balctx_query_text(c,
				  "SELECT r.status FROM rw_instance_set_status(rw_unhex($1), $2, "
				  "$3::bigint, rw_unhex($4)) r",
				  4, params, &text);
	if (rc != 0)
		return rc;
	free(text);
	return show_instance(c, o->id_hex, chain, contract);
}

int rw_cmd_instance(struct rw_cli *cli, int argc, char **argv)
{
	static const struct {
		const char *name;
		int allow;
		const char *help;
		rw_balctx_run_fn *run;
	} subs[] = {
		{ "create", OPT_CONTRACT | OPT_CREATE, usage_create, run_create },
		{ "list", OPT_LIST, usage_list, run_list },
		{ "show", OPT_ID, usage_show, run_show },
		{ "stop", OPT_ID, usage_stop, run_stop },
		{ "set-status", OPT_ID | OPT_STATUS, usage_set_status, run_set_status },
	};
	size_t i;
	int rc;
	if (!rw_cli_subcommand(&i, &rc, cli, "instance", usage_instance, subs, sizeof(subs[0]),
			       RW_NELEM(subs), argc, argv))
		return rc;
	struct opts o = { 0 };
	return rw_balctx_run(cli, argc - 1, argv + 1, subs[i].allow, subs[i].help, parse,
			     subs[i].run, &o);
}
