/* cmd_topup.c: `runway topup quote|create|cancel|list`: top-up sessions
 * (migrations/0020_topup.sql, shared/DESIGN.md §1.2, §1.3).
 *
 * Every rule lives in SQL (rw_topup_quote, rw_topup_create,
 * rw_topup_cancel, the topup_sessions view), so the CLI and a web console
 * apply the same ones; this file picks the Balance contract, turns the
 * decimal --amount into base units with the token's decimals (exactly:
 * too many decimals are refused, never rounded), makes the session ref (32
 * bytes from getrandom), calls the functions and prints what they return.
 * Each query returns one JSON document built in SQL: --json prints it (with
 * EIP-55 addresses), the text form reads it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

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

static const char usage_topup[] =
	"Usage: runway topup quote|create|cancel|list [options]\n"
	"\n"
	"Top-up sessions on a Balance contract: the payer calls\n"
	"deposit(account, amount, tax, ref) with the session's ref before it\n"
	"expires (15 minutes); the deposit completes it once confirmed.\n"
	"\n"
	"Subcommands:\n"
	"  quote    price a top-up: amount, promotional adjustment, tax, total\n"
	"  create   open a session; prints its ref and the deposit() arguments\n"
	"  cancel   cancel a Pending session\n"
	"  list     list sessions, newest first\n"
	"\n"
	"Run 'runway topup SUBCOMMAND --help' for a subcommand's options.\n";

#define CONTRACT_HELP                                                                              \
	"  --balance ADDR        the Balance contract (default: the only one in the\n"             \
	"                        --config file, else the only one in the database)\n"              \
	"  --chain-id N          its chain, when the address alone is ambiguous\n"

#define DB_HELP                                                                                    \
	"  --database-url URL    PostgreSQL connection string (env\n"                              \
	"                        RUNWAY_DATABASE_URL; else the --config file's, else\n"            \
	"                        libpq's PG* variables)\n"

#define AMOUNT_HELP                                                                                \
	"  --account ADDR        the account to credit\n"                                          \
	"  --amount DEC          token amount, e.g. 100 or 99.5 (at most the token's\n"            \
	"                        decimals; never rounded)\n"                                       \
	"  --code CODE           promotional code (bonus or discount)\n"                           \
	"  --region XX           tax region: ISO 3166 country or subdivision (DE,\n"               \
	"                        US-CA); none: no tax\n"

static const char usage_quote[] =
	"Usage: runway topup quote --account ADDR --amount DEC [--code CODE] [--region XX]\n"
	"                          [--balance ADDR] [--chain-id N] [--json]\n"
	"\n"
	"Prices a top-up without opening a session: amount, promotional discount\n"
	"or bonus, tax, the total the payer pays, and the account's balance,\n"
	"pending top-ups and headroom below the cap. Refused like create: below\n"
	"the minimum, over the cap (balance + pending + this), bad promo code.\n"
	"\n"
	"Options:\n" AMOUNT_HELP CONTRACT_HELP DB_HELP
	"  --json                one object; amounts in base units and *_units\n"
	"\n"
	"Exit status: 0 ok, 1 refused or failed, 2 usage error.\n";

static const char usage_create[] =
	"Usage: runway topup create --account ADDR --amount DEC [--code CODE] [--region XX]\n"
	"                           [--balance ADDR] [--chain-id N] [--json]\n"
	"\n"
	"Opens a Pending session (at most one per account) and prints its ref on\n"
	"the first line, then the amounts, the expiry and the call to make:\n"
	"approve the Balance contract for the total on the token, then\n"
	"deposit(account, deposit_amount, tax, ref) on the Balance contract.\n"
	"\n"
	"Options:\n" AMOUNT_HELP CONTRACT_HELP DB_HELP
	"  --json                the session as one object\n"
	"\n"
	"Exit status: 0 ok, 1 refused (minimum, cap, a pending session, promo\n"
	"code) or failed, 2 usage error.\n";

static const char usage_cancel[] =
	"Usage: runway topup cancel REF [--account ADDR] [--json]\n"
	"\n"
	"Cancels a Pending session (REF: its 0x-hex ref). Refused once its\n"
	"deposit is on chain, when completed or expired. Cancelling a cancelled\n"
	"session changes nothing.\n"
	"\n"
	"Options:\n"
	"  --account ADDR        refuse unless the session is this account's\n" DB_HELP
	"  --json                the session as one object\n";

static const char usage_list[] =
	"Usage: runway topup list [--account ADDR] [--status S] [--limit N]\n"
	"                         [--balance ADDR] [--chain-id N] [--json]\n"
	"\n"
	"Lists sessions, newest first, with their status as the customer sees it\n"
	"(Pending, Confirming, Completed, Cancelled, Expired).\n"
	"\n"
	"Options:\n"
	"  --account ADDR        only this account's\n"
	"  --status S            only sessions in this status\n"
	"  --limit N             at most N (1..1000, default 20)\n"
	"  --balance ADDR        only this Balance contract's\n"
	"  --chain-id N          only this chain's\n" DB_HELP
	"  --json                an array of sessions\n";

/* Options a subcommand accepts. */
enum {
	OPT_CONTRACT = 1, /* --balance, --chain-id */
	OPT_AMOUNT = 2,   /* --account, --amount, --code, --region */
	OPT_ACCOUNT = 4,  /* --account alone */
	OPT_LIST = 8,     /* --status, --limit */
	OPT_REF = 16      /* one positional REF */
};

struct opts {
	const char *chain_id;
	const char *balance;
	const char *account;
	const char *amount;
	const char *code;
	const char *region;
	const char *status;
	const char *limit;
	const char *ref;
	char balance_hex[43]; /* lowercase 0x-hex of --balance */
	char account_hex[43]; /* lowercase 0x-hex of --account */
	char ref_hex[67];     /* lowercase 0x-hex of REF */
};

/* Stores the option's value when argv[*i] is --name; returns 1 (taken),
 * 0 (another option) or -1 (usage error printed). */
static int take(struct rw_cli *cli, int argc, char **argv, int *i, const char *name,
		const char **ret, int allowed)
{
	if (!allowed)
		return 0;
	return rw_cli_opt_value(cli, argc, argv, i, name, ret);
}

/* Parses the subcommand's arguments (argv[0] is the subcommand). Returns
 * 0, RW_BALCTX_HELP_SHOWN, or an exit code after a usage error (an
 * rw_balctx_parse_fn: arg is a struct opts). */
static int parse(struct rw_cli *cli, int argc, char **argv, int allow, const char *help, void *arg)
{
	struct opts *o = arg;
	for (int i = 1; i < argc; i++) {
		const char *const a = argv[i];
		int r;
		if (rw_cli_is_help(a)) {
			fputs(help, stdout);
			return RW_BALCTX_HELP_SHOWN;
		}
		if ((r = take(cli, argc, argv, &i, "chain-id", &o->chain_id,
			      allow & (OPT_CONTRACT | OPT_LIST))) ||
		    (r = take(cli, argc, argv, &i, "balance", &o->balance,
			      allow & (OPT_CONTRACT | OPT_LIST))) ||
		    (r = take(cli, argc, argv, &i, "account", &o->account,
			      allow & (OPT_AMOUNT | OPT_ACCOUNT))) ||
		    (r = take(cli, argc, argv, &i, "amount", &o->amount, allow & OPT_AMOUNT)) ||
		    (r = take(cli, argc, argv, &i, "code", &o->code, allow & OPT_AMOUNT)) ||
		    (r = take(cli, argc, argv, &i, "region", &o->region, allow & OPT_AMOUNT)) ||
		    (r = take(cli, argc, argv, &i, "status", &o->status, allow & OPT_LIST)) ||
		    (r = take(cli, argc, argv, &i, "limit", &o->limit, allow & OPT_LIST))) {
			if (r < 0)
				return RW_EXIT_USAGE;
			continue;
		}
		if ((allow & OPT_REF) && a[0] != '-' && !o->ref) {
			o->ref = a;
			continue;
		}
		return rw_cli_usage(cli, "topup %s: unexpected argument '%s'", argv[0], a);
	}
	if (o->chain_id) {
		size_t n = strlen(o->chain_id);
		if (n == 0 || n > 18 || o->chain_id[strspn(o->chain_id, "0123456789")] != '\0' ||
		    strtoull(o->chain_id, NULL, 10) == 0)
			return rw_cli_usage(
				cli,
				"--chain-id needs a chain id (a whole number above 0), not '%s'",
				o->chain_id);
	}
	int r;
	if (o->balance && (r = rw_cli_addr_hex(cli, "--balance", o->balance, o->balance_hex)) != 0)
		return r;
	if (o->account && (r = rw_cli_addr_hex(cli, "--account", o->account, o->account_hex)) != 0)
		return r;
	if (allow & OPT_AMOUNT) {
		if (!o->account)
			return rw_cli_usage(cli, "topup %s needs --account ADDR", argv[0]);
		if (!o->amount)
			return rw_cli_usage(cli, "topup %s needs --amount DEC", argv[0]);
	}
	if (allow & OPT_REF) {
		uint8_t ref[32];
		if (!o->ref)
			return rw_cli_usage(cli, "topup %s needs the session's REF", argv[0]);
		if (rw_hex_decode_fixed(ref, 32, o->ref, strlen(o->ref), RW_HEX_PREFIX_REQUIRED) <
		    0)
			return rw_cli_usage(cli, "REF '%s' is not a 0x-prefixed 32-byte hex value",
					    o->ref);
		rw_hex_encode(o->ref_hex, ref, 32, 1);
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
		static const char *const names[] = { "Pending", "Confirming", "Completed",
						     "Cancelled", "Expired" };
		const char *canon = NULL;
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (strcasecmp(o->status, names[k]) == 0)
				canon = names[k];
		if (!canon)
			return rw_cli_usage(cli,
					    "--status must be Pending, Confirming, Completed, "
					    "Cancelled or Expired, not '%s'",
					    o->status);
		o->status = canon;
	}
	return 0;
}

/* The keys of a session or quote object that hold addresses (shown in
 * EIP-55 form). */
static const char *const addr_keys[] = { "balance", "account", "token", "deposit_payer" };

/* Puts the addresses of a session or quote object in their EIP-55 form. */
static void checksum_all(json_t *o)
{
	rw_balctx_checksum(o, addr_keys, RW_NELEM(addr_keys));
}

/* A rate in basis points as a percentage ("19.00%"). */
static const char *rate(char *buf, size_t n, const json_t *o, const char *key)
{
	json_int_t bp = json_integer_value(json_object_get(o, key));
	snprintf(buf, n, "%lld.%02lld%%", (long long)(bp / 100), (long long)(bp % 100));
	return buf;
}

static int nonzero(const json_t *o, const char *key)
{
	const char *v = rw_balctx_str(o, key);
	return v[0] && strcmp(v, "0") != 0;
}

/* The amount lines shared by quote and session output, after "amount". */
static void print_amounts(const json_t *o)
{
	char a[160], r[32];
	if (nonzero(o, "discount")) {
		printf("discount    -%s (promo %s), credited by the operator after confirmation\n",
		       rw_balctx_show_amount(a, sizeof(a), o, "discount"),
		       rw_balctx_str(o, "code"));
		printf("deposit     %s\n",
		       rw_balctx_show_amount(a, sizeof(a), o, "deposit_amount"));
	}
	if (json_is_string(json_object_get(o, "region")))
		printf("tax         %s (%s, %s)\n", rw_balctx_show_amount(a, sizeof(a), o, "tax"),
		       rw_balctx_str(o, "region"), rate(r, sizeof(r), o, "tax_rate_bp"));
	else
		printf("tax         %s (no region)\n",
		       rw_balctx_show_amount(a, sizeof(a), o, "tax"));
	printf("total       %s to pay\n", rw_balctx_show_amount(a, sizeof(a), o, "total"));
	if (nonzero(o, "bonus"))
		printf("bonus       +%s (promo %s), credited by the operator after confirmation\n",
		       rw_balctx_show_amount(a, sizeof(a), o, "bonus"), rw_balctx_str(o, "code"));
}

static void print_quote(const json_t *q)
{
	char a[160], b[160], c[160], d[160];
	printf("%s\n", rw_balctx_show_amount(a, sizeof(a), q, "total"));
	printf("account     %s\n", rw_balctx_str(q, "account"));
	printf("balance     %s (chain %lld)\n", rw_balctx_str(q, "balance"),
	       (long long)json_integer_value(json_object_get(q, "chain_id")));
	printf("amount      %s\n", rw_balctx_show_amount(a, sizeof(a), q, "amount"));
	print_amounts(q);
	printf("deposit()   deposit(%s, %s, %s, <session ref>)\n", rw_balctx_str(q, "account"),
	       rw_balctx_str(q, "deposit_amount"), rw_balctx_str(q, "tax"));
	printf("position    balance %s, pending %s, after %s\n",
	       rw_balctx_show_amount(a, sizeof(a), q, "balance_now"),
	       rw_balctx_show_amount(b, sizeof(b), q, "pending"),
	       rw_balctx_show_amount(c, sizeof(c), q, "balance_after"));
	printf("limits      minimum %s, cap %s, headroom %s\n",
	       rw_balctx_show_amount(a, sizeof(a), q, "min_deposit"),
	       rw_balctx_show_amount(b, sizeof(b), q, "max_balance"),
	       rw_balctx_show_amount(d, sizeof(d), q, "headroom"));
	if (json_is_string(json_object_get(q, "pending_ref")))
		printf("pending     %s (%s, expires %s): pay it or cancel it before creating "
		       "another\n",
		       rw_balctx_str(q, "pending_ref"), rw_balctx_str(q, "pending_status"),
		       rw_balctx_str(q, "pending_expires_at"));
}

static void print_session(const json_t *s)
{
	char a[160];
	printf("%s\n", rw_balctx_str(s, "ref"));
	printf("status      %s", rw_balctx_str(s, "status"));
	if (strcmp(rw_balctx_str(s, "status"), "Pending") == 0)
		printf(" until %s (sessions last 15 minutes)", rw_balctx_str(s, "expires_at"));
	else if (strcmp(rw_balctx_str(s, "status"), "Completed") == 0)
		printf(" at %s", rw_balctx_str(s, "completed_at"));
	else if (strcmp(rw_balctx_str(s, "status"), "Cancelled") == 0)
		printf(" at %s", rw_balctx_str(s, "cancelled_at"));
	else if (strcmp(rw_balctx_str(s, "status"), "Expired") == 0)
		printf(" at %s", rw_balctx_str(s, "expires_at"));
	printf("\n");
	printf("account     %s\n", rw_balctx_str(s, "account"));
	printf("balance     %s (chain %lld)\n", rw_balctx_str(s, "balance"),
	       (long long)json_integer_value(json_object_get(s, "chain_id")));
	printf("amount      %s\n", rw_balctx_show_amount(a, sizeof(a), s, "amount"));
	print_amounts(s);
	if (json_is_string(json_object_get(s, "deposit_tx")))
		printf("deposit tx  %s (block %lld%s)\n", rw_balctx_str(s, "deposit_tx"),
		       (long long)json_integer_value(json_object_get(s, "deposit_block")),
		       json_is_true(json_object_get(s, "deposit_confirmed")) ? ", confirmed" : "");
	if (strcmp(rw_balctx_str(s, "status"), "Pending") == 0) {
		printf("to pay      approve(%s, %s) on token %s\n", rw_balctx_str(s, "balance"),
		       rw_balctx_str(s, "total"), rw_balctx_str(s, "token"));
		printf("            deposit(%s, %s, %s, %s) on %s\n", rw_balctx_str(s, "account"),
		       rw_balctx_str(s, "deposit_amount"), rw_balctx_str(s, "tax"),
		       rw_balctx_str(s, "ref"), rw_balctx_str(s, "balance"));
	}
	size_t nflags = json_array_size(json_object_get(s, "flags"));
	for (size_t i = 0; i < nflags; i++)
		printf("flag        %s\n",
		       json_string_value(json_array_get(json_object_get(s, "flags"), i)));
}

/* Sessions of the topup_sessions view as a JSON array, newest first,
 * filtered by $1 ref, $2 account, $3 Balance contract (0x-hex), $4 chain
 * id, $5 status (each NULL: any), at most $6. */
static const char sessions_sql[] =
	"SELECT coalesce(json_agg(x.j ORDER BY x.created_at DESC, x.ref), '[]')::text "
	"FROM (SELECT s.created_at, s.ref, json_build_object("
	"'ref', s.ref, 'chain_id', s.chain_id, 'balance', s.contract, 'account', s.account, "
	"'token', (SELECT rw_hex(bi.token) FROM balance_info bi "
	"          WHERE bi.chain_id = s.chain_id AND bi.address = rw_unhex(s.contract)), "
	"'status', s.status, 'symbol', s.symbol, "
	"'amount', s.amount::text, 'amount_units', s.amount_units, "
	"'discount', s.discount::text, 'discount_units', s.discount_units, "
	"'deposit_amount', s.deposit_amount::text, "
	"'deposit_amount_units', s.deposit_amount_units, "
	"'tax_rate_bp', s.tax_rate_bp, 'tax', s.tax::text, 'tax_units', s.tax_units, "
	"'total', s.total::text, 'total_units', s.total_units, "
	"'bonus', s.bonus::text, 'bonus_units', s.bonus_units, "
	"'promo_credit', s.promo_credit::text, 'promo_credit_units', s.promo_credit_units, "
	"'code', s.code, 'region', s.region, "
	"'created_at', to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	"'expires_at', to_char(s.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	"'completed_at', "
	"to_char(s.completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	"'cancelled_at', "
	"to_char(s.cancelled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	"'deposit_tx', s.deposit_tx, 'deposit_block', s.deposit_block, "
	"'deposit_payer', s.deposit_payer, 'deposit_confirmed', s.deposit_confirmed, "
	"'flags', s.flags) AS j "
	"FROM topup_sessions s "
	"WHERE ($1::text IS NULL OR s.ref = $1) AND ($2::text IS NULL OR s.account = $2) "
	"AND ($3::text IS NULL OR s.contract = $3) "
	"AND ($4::bigint IS NULL OR s.chain_id = $4::bigint) "
	"AND ($5::text IS NULL OR s.status = $5) "
	"ORDER BY s.created_at DESC, s.ref LIMIT $6::integer) x";

/* Runs sessions_sql; returns 0 and the array in *ret, or an exit code. */
static int query_sessions(struct rw_balctx *c, const char *const params[6], json_t **ret)
{
	return rw_balctx_query_array(c, sessions_sql, 6, params, addr_keys, RW_NELEM(addr_keys),
				     ret);
}

/* Prints the session with ref (0x-hex): JSON or text. */
static int show_session(struct rw_balctx *c, const char *ref)
{
	const char *params[] = { ref, NULL, NULL, NULL, NULL, "1" };
	json_t *arr;
	int rc = query_sessions(c, params, &arr);
	if (rc != 0)
		return rc;
	rc = rw_balctx_show_first(c, arr, "session", ref, print_session);
	json_decref(arr);
	return rc;
}

static int run_quote(struct rw_balctx *c, const void *arg)
{
	const struct opts *o = arg;
	struct rw_baltarget t;
	char base[RW_U256_DEC_MAX], *text;
	int rc = rw_balctx_target(c, o->chain_id, o->balance ? o->balance_hex : NULL, &t);
	if (rc == 0)
		rc = rw_balctx_amount(c, &t, "--amount", o->amount, 0, base);
	if (rc != 0)
		return rc;
	const char *params[] = { t.chain_id, t.balance, o->account_hex, base, o->code, o->region };
	rc = rw_balctx_query_text(
		c,
		"SELECT json_build_object('chain_id', q.chain_id, 'balance', rw_hex(q.contract), "
		"'account', rw_hex(q.account), 'token', rw_hex(q.token), 'symbol', q.symbol, "
		"'decimals', q.decimals, "
		"'amount', q.amount::text, 'amount_units', rw_units(q.amount, q.decimals), "
		"'discount', q.discount::text, 'discount_units', rw_units(q.discount, q.decimals), "
		"'deposit_amount', q.deposit_amount::text, "
		"'deposit_amount_units', rw_units(q.deposit_amount, q.decimals), "
		"'tax_rate_bp', q.tax_rate_bp, "
		"'tax', q.tax::text, 'tax_units', rw_units(q.tax, q.decimals), "
		"'total', q.total::text, 'total_units', rw_units(q.total, q.decimals), "
		"'bonus', q.bonus::text, 'bonus_units', rw_units(q.bonus, q.decimals), "
		"'promo_credit', q.promo_credit::text, "
		"'promo_credit_units', rw_units(q.promo_credit, q.decimals), "
		"'code', q.code, 'promo_kind', q.promo_kind, 'promo_rate_bp', q.promo_rate_bp, "
		"'region', q.region, "
		"'min_deposit', q.min_deposit::text, "
		"'min_deposit_units', rw_units(q.min_deposit, q.decimals), "
		"'max_balance', q.max_balance::text, "
		"'max_balance_units', rw_units(q.max_balance, q.decimals), "
		"'balance_now', q.balance::text, 'balance_now_units', rw_units(q.balance, "
		"q.decimals), "
		"'pending', q.pending::text, 'pending_units', rw_units(q.pending, q.decimals), "
		"'balance_after', q.balance_after::text, "
		"'balance_after_units', rw_units(q.balance_after, q.decimals), "
		"'headroom', q.headroom::text, 'headroom_units', rw_units(q.headroom, q.decimals), "
		"'pending_ref', rw_hex(q.pending_ref), 'pending_status', q.pending_status, "
		"'pending_expires_at', "
		"to_char(q.pending_expires_at AT TIME ZONE 'UTC', "
		"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
		"'expires_at', to_char(q.expires_at AT TIME ZONE 'UTC', "
		"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
		")::text FROM rw_topup_quote($1::bigint, rw_unhex($2), rw_unhex($3), $4::numeric, "
		"$5, $6) q",
		6, params, &text);
	if (rc != 0)
		return rc;
	json_t *j = text ? rw_balctx_json(c, text) : NULL;
	free(text);
	if (!j)
		return RW_EXIT_FAIL;
	checksum_all(j);
	rc = rw_balctx_show(c, j, print_quote);
	json_decref(j);
	return rc;
}

/* 32 random bytes as 0x-hex. Returns 0 or -1. */
static int random_ref(char out[67])
{
	uint8_t b[32];
	size_t got = 0;
	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
		if (n < 0)
			return -1;
		got += (size_t)n;
	}
	rw_hex_encode(out, b, sizeof(b), 1);
	return 0;
}

static int run_create(struct rw_balctx *c, const void *arg)
{
	const struct opts *o = arg;
	struct rw_baltarget t;
	char base[RW_U256_DEC_MAX], ref[67], *text;
	int rc = rw_balctx_target(c, o->chain_id, o->balance ? o->balance_hex : NULL, &t);
	if (rc == 0)
		rc = rw_balctx_amount(c, &t, "--amount", o->amount, 0, base);
	if (rc != 0)
		return rc;
	if (random_ref(ref) < 0) {
		rw_cli_err(c->cli, "cannot read random bytes for the session ref");
		return RW_EXIT_FAIL;
	}
	const char *params[] = { t.chain_id, t.balance, o->account_hex, base, o->code,
				 o->region,  ref };
	rc = rw_balctx_query_text(
		c,
		"SELECT rw_hex(s.ref) FROM rw_topup_create($1::bigint, rw_unhex($2), "
		"rw_unhex($3), $4::numeric, $5, $6, rw_unhex($7)) s",
		7, params, &text);
	if (rc != 0)
		return rc;
	rc = show_session(c, text ? text : ref);
	free(text);
	return rc;
}

static int run_cancel(struct rw_balctx *c, const void *arg)
{
	const struct opts *o = arg;
	char *text;
	const char *params[] = { o->ref_hex, o->account ? o->account_hex : NULL };
	int rc = rw_balctx_query_text(c,
				      "SELECT rw_hex(s.ref) FROM rw_topup_cancel(rw_unhex($1), "
				      "rw_unhex($2)) s",
				      2, params, &text);
	if (rc != 0)
		return rc;
	rc = show_session(c, o->ref_hex);
	free(text);
	return rc;
}

static void print_list(const json_t *arr)
{
	char a[160], b[160];
	printf("%-66s  %-10s  %-22s  %-22s  %-20s  %s\n", "REF", "STATUS", "AMOUNT", "TOTAL",
	       "EXPIRES", "ACCOUNT");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const json_t *s = json_array_get(arr, i);
		printf("%-66s  %-10s  %-22s  %-22s  %-20s  %s\n", rw_balctx_str(s, "ref"),
		       rw_balctx_str(s, "status"), rw_balctx_show_amount(a, sizeof(a), s, "amount"),
		       rw_balctx_show_amount(b, sizeof(b), s, "total"),
		       rw_balctx_str(s, "expires_at"), rw_balctx_str(s, "account"));
	}
	printf("%zu session%s\n", json_array_size(arr), json_array_size(arr) == 1 ? "" : "s");
}

static int run_list(struct rw_balctx *c, const void *arg)
{
	const struct opts *o = arg;
	const char *params[] = { NULL,
				 o->account ? o->account_hex : NULL,
				 o->balance ? o->balance_hex : NULL,
				 o->chain_id,
				 o->status,
				 o->limit ? o->limit : "20" };
	json_t *arr;
	int rc = query_sessions(c, params, &arr);
	if (rc != 0)
		return rc;
	rc = rw_balctx_show(c, arr, print_list);
	json_decref(arr);
	return rc;
}

int rw_cmd_topup(struct rw_cli *cli, int argc, char **argv)
{
	static const struct {
		const char *name;
		int allow;
		const char *help;
		rw_balctx_run_fn *run;
	} subs[] = {
		{ "quote", OPT_CONTRACT | OPT_AMOUNT, usage_quote, run_quote },
		{ "create", OPT_CONTRACT | OPT_AMOUNT, usage_create, run_create },
		{ "cancel", OPT_ACCOUNT | OPT_REF, usage_cancel, run_cancel },
		{ "list", OPT_ACCOUNT | OPT_LIST, usage_list, run_list },
	};
	size_t i;
	int rc;
	if (!rw_cli_subcommand(&i, &rc, cli, "topup", usage_topup, subs, sizeof(subs[0]),
			       RW_NELEM(subs), argc, argv))
		return rc;
	struct opts o = { 0 };
	return rw_balctx_run(cli, argc - 1, argv + 1, subs[i].allow, subs[i].help, parse,
			     subs[i].run, &o);
}
