/* cmd_intents.c: `runway intents [list]|show|cancel|retry`: the relayer's
 * queue of business actions (relayer_intent, migrations/0010_relayer.sql,
 * 0023_relayer_steer.sql; src/engine/RELAYER.md).
 *
 * list and show read the tables; cancel and retry call rw_intent_cancel
 * and rw_intent_retry, whose refusals (an intent with a transaction on the
 * chain, an intent that is not failed) are printed as they are. Every
 * query returns one JSON document built in SQL: --json prints it (EIP-55
 * addresses), the text form reads it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "relayq.h"

#define DB_HELP                                                                                    \
	"  --database-url URL    PostgreSQL (env RUNWAY_DATABASE_URL; else the --config\n"         \
	"                        file's database_url, else libpq's PG* variables)\n"

static const char usage_intents[] =
	"Usage: runway intents [list] [--state S] [--chain ID] [--key PREFIX] [--limit N]\n"
	"       runway intents show KEY\n"
	"       runway intents cancel KEY [--reason TEXT]\n"
	"       runway intents retry KEY\n"
	"\n"
	"The relayer's queue: business actions (intents) under unique keys, each\n"
	"signed, sent and confirmed exactly once (src/engine/RELAYER.md).\n"
	"\n"
	"Subcommands:\n"
	"  list     the intents, newest first (the default)\n"
	"  show     one intent: its attempts with fees and hashes, receipt,\n"
	"           operators' requests and its history (relayer_event)\n"
	"  cancel   cancel a queued or failed intent (nothing was signed)\n"
	"  retry    queue a failed intent again\n"
	"\n"
	"An intent that has a transaction on the chain is cancelled with\n"
	"`runway tx cancel SIGNER:NONCE`; a stuck one is bumped with\n"
	"`runway tx bump SIGNER:NONCE`.\n"
	"\n"
	"Run 'runway intents SUBCOMMAND --help' for a subcommand's options.\n"
	"Exit status: 0 ok, 1 refused or failed, 2 usage error.\n";

static const char usage_list[] =
	"Usage: runway intents [list] [--state S] [--chain ID] [--key PREFIX] [--limit N]\n"
	"                      [--json]\n"
	"\n"
	"Lists intents, newest first: key, state, chain, signer, nonce, attempts\n"
	"(signed transactions), age and the last error (the intent's reason, or its\n"
	"latest broadcast error). A state shows \"(cancelling)\" while an operator's\n"
	"no-op is in flight and \"(bump requested)\" / \"(cancel requested)\" while a\n"
	"request waits for the relayer.\n"
	"\n"
	"Options:\n"
	"  --state S             queued, pending, mined, confirmed, final, reverted,\n"
	"                        failed, cancelled, or open (queued, pending, mined)\n"
	"  --chain ID            a chain id or name\n"
	"  --key PREFIX          keys starting with PREFIX (extend:, charge:1:)\n"
	"  --limit N             at most N (1..10000, default 50)\n" DB_HELP
	"  --json                an array of intents\n";

static const char usage_show[] =
	"Usage: runway intents show KEY [--json]\n"
	"\n"
	"Shows one intent: its action (target, value, calldata), state, nonce and\n"
	"signer; every attempt (signed transaction) with its fees, gas, hash,\n"
	"broadcasts and receipt; the operators' bump and cancel requests at its\n"
	"nonce; and its history (relayer_event), oldest first.\n"
	"\n"
	"Options:\n" DB_HELP "  --json                {intent, attempts, requests, events}\n";

static const char usage_cancel[] =
	"Usage: runway intents cancel KEY [--reason TEXT] [--json]\n"
	"\n"
	"Cancels a queued or failed intent: it has no nonce and nothing of it was\n"
	"signed (rw_intent_cancel). An intent pending on the chain is refused:\n"
	"cancel its transaction with `runway tx cancel SIGNER:NONCE` (a no-op at\n"
	"its nonce); a mined one cannot be cancelled. Cancelling a cancelled intent\n"
	"changes nothing.\n"
	"\n"
	"Options:\n"
	"  --reason TEXT         why (stored as the intent's reason; default\n"
	"                        \"cancelled by an operator\")\n" DB_HELP
	"  --json                the intent as one object\n";

static const char usage_retry[] =
	"Usage: runway intents retry KEY [--json]\n"
	"\n"
	"Queues a failed intent again (rw_intent_retry), after its cause was fixed\n"
	"(an allowance, a balance): the relayer estimates and signs it anew.\n"
	"Only failed intents are retried.\n"
	"\n"
	"Options:\n" DB_HELP "  --json                the intent as one object\n";

/* The fields of one intent i (joined with chain c) as json_build_object
 * arguments. */
// clang-format off
#define INTENT_FIELDS \
	"'id', i.id, 'key', i.key, 'kind', i.kind, 'state', i.state, " \
	"'chain_id', i.chain_id, 'chain', c.name, 'signer', rw_hex(i.signer), " \
	"'target', rw_hex(i.target), 'value', i.value::text, " \
	"'calldata_bytes', octet_length(i.calldata), 'nonce', i.nonce, " \
	"'gas_limit', i.gas_limit, " \
	"'attempts', (SELECT count(*) FROM relayer_tx t WHERE t.intent_id = i.id), " \
	"'tx_hash', rw_hex(i.tx_hash), " \
	"'current', (SELECT json_build_object('hash', rw_hex(t.hash), " \
	"'attempt', t.attempt, 'kind', t.kind, 'state', t.state) FROM relayer_tx t " \
	"WHERE t.intent_id = i.id AND t.state IN ('signed', 'sent')), " \
	"'open_request', (SELECT json_build_object('id', q.id, 'kind', q.kind, " \
	"'created_at', " RW_RELAYQ_TS("q.created_at") ") FROM relayer_request q " \
	"WHERE q.chain_id = i.chain_id AND q.signer = i.signer " \
	"AND q.nonce = i.nonce AND q.state = 'requested'), " \
	"'reason', i.reason, " \
	"'last_error', (SELECT t.last_error_class || ': ' || t.last_error " \
	"FROM relayer_tx t WHERE t.intent_id = i.id AND t.last_error IS NOT NULL " \
	"ORDER BY t.attempt DESC LIMIT 1), " \
	"'age_seconds', greatest(extract(epoch FROM now() - i.created_at)::bigint, 0), " \
	"'created_at', " RW_RELAYQ_TS("i.created_at") ", " \
	"'updated_at', " RW_RELAYQ_TS("i.updated_at") ", " \
	"'not_before', " RW_RELAYQ_TS("i.not_before") ", " \
	"'signed_at', " RW_RELAYQ_TS("i.signed_at") ", " \
	"'mined_at', " RW_RELAYQ_TS("i.mined_at") ", " \
	"'confirmed_at', " RW_RELAYQ_TS("i.confirmed_at") ", " \
	"'final_at', " RW_RELAYQ_TS("i.final_at")
// clang-format on

static const char *const list_sql[] = {
	"SELECT coalesce(json_agg(x.j ORDER BY x.id DESC), '[]')::text FROM ("
	"SELECT i.id, json_build_object(",
	INTENT_FIELDS,
	") AS j FROM relayer_intent i "
	"JOIN chain c ON c.chain_id = i.chain_id "
	"WHERE ($1::text IS NULL OR i.state = $1 "
	"OR ($1 = 'open' AND i.state IN ('queued', 'pending', 'mined'))) "
	"AND ($2::bigint IS NULL OR i.chain_id = $2::bigint) "
	"AND ($3::text IS NULL OR starts_with(i.key, $3)) "
	"ORDER BY i.id DESC LIMIT $4::integer) x",
	NULL
};

static const char *const one_sql[] = {
	"SELECT json_build_object(", INTENT_FIELDS,
	")::text FROM relayer_intent i JOIN chain c ON c.chain_id = i.chain_id WHERE i.key = $1",
	NULL
};

static const char *const show_sql[] = {
	"SELECT json_build_object('intent', json_build_object(",
	INTENT_FIELDS,
	", 'calldata', rw_hex(i.calldata)), "
	"'attempts', (SELECT coalesce(json_agg(json_build_object(",
	RW_RELAYQ_ATTEMPT_FIELDS,
	") ORDER BY t.nonce, t.attempt), "
	"'[]') FROM relayer_tx t LEFT JOIN relayer_receipt r ON r.tx_hash = t.hash "
	"WHERE t.intent_id = i.id), "
	"'requests', (SELECT coalesce(json_agg(json_build_object(",
	RW_RELAYQ_REQUEST_FIELDS,
	") ORDER BY q.id), '[]') " RW_RELAYQ_REQUEST_FROM "WHERE q.intent_id = i.id), "
	"'events', (SELECT coalesce(json_agg(x.j ORDER BY x.id), '[]') FROM (SELECT "
	"e.id, " RW_RELAYQ_EVENT_JSON " AS j FROM relayer_event e WHERE e.intent_id = i.id "
	"ORDER BY e.id DESC LIMIT 500) x))::text "
	"FROM relayer_intent i JOIN chain c ON c.chain_id = i.chain_id WHERE i.key = $1",
	NULL
};

/* The options of a subcommand. */
struct opts {
	const char *state;
	const char *chain;
	const char *key_prefix;
	const char *limit;
	const char *key;
	const char *reason;
};

enum { ALLOW_LIST = 1, ALLOW_KEY = 2, ALLOW_REASON = 4 };

#define HELP_SHOWN (-1)

static const char *const states[] = { "queued",   "pending", "mined",     "confirmed", "final",
				      "reverted", "failed",  "cancelled", "open" };

/* Parses the subcommand's arguments from argv[first]. Returns 0,
 * HELP_SHOWN or an exit code after a usage error. */
static int parse(struct rw_cli *cli, int argc, char **argv, int first, const char *sub, int allow,
		 const char *help, struct opts *o)
{
	for (int i = first; i < argc; i++) {
		const char *a = argv[i];
		int r = 0;
		if (rw_cli_is_help(a)) {
			fputs(help, stdout);
			return HELP_SHOWN;
		}
		if ((allow & ALLOW_LIST) &&
		    ((r = rw_cli_opt_value(cli, argc, argv, &i, "state", &o->state)) ||
		     (r = rw_cli_opt_value(cli, argc, argv, &i, "chain", &o->chain)) ||
		     (r = rw_cli_opt_value(cli, argc, argv, &i, "key", &o->key_prefix)) ||
		     (r = rw_cli_opt_value(cli, argc, argv, &i, "limit", &o->limit)))) {
			if (r < 0)
				return RW_EXIT_USAGE;
			continue;
		}
		if ((allow & ALLOW_REASON) &&
		    (r = rw_cli_opt_value(cli, argc, argv, &i, "reason", &o->reason))) {
			if (r < 0)
				return RW_EXIT_USAGE;
			continue;
		}
		if ((allow & ALLOW_KEY) && a[0] != '-' && !o->key) {
			o->key = a;
			continue;
		}
		return rw_cli_usage(cli, "intents %s: unexpected argument '%s'", sub, a);
	}
	if ((allow & ALLOW_KEY) && !o->key)
		return rw_cli_usage(cli, "intents %s needs the intent's KEY (e.g. extend:42)", sub);
	if (o->state) {
		size_t k = 0;
		while (k < sizeof(states) / sizeof(states[0]) && strcmp(o->state, states[k]) != 0)
			k++;
		if (k == sizeof(states) / sizeof(states[0]))
			return rw_cli_usage(cli,
					    "--state must be queued, pending, mined, confirmed, "
					    "final, reverted, failed, cancelled or open, not '%s'",
					    o->state);
	}
	if (o->limit) {
		size_t n = strlen(o->limit);
		unsigned long v = strtoul(o->limit, NULL, 10);
		if (n == 0 || n > 5 || o->limit[strspn(o->limit, "0123456789")] != '\0' || v < 1 ||
		    v > 10000)
			return rw_cli_usage(
				cli, "--limit needs a whole number from 1 to 10000, not '%s'",
				o->limit);
	}
	if (o->key_prefix && !o->key_prefix[0])
		return rw_cli_usage(cli, "--key needs a key prefix (e.g. extend:)");
	if (o->reason && (!o->reason[0] || strlen(o->reason) > 500))
		return rw_cli_usage(cli, "--reason needs a text of 1 to 500 bytes");
	return 0;
}

/* "pending (cancelling)", "queued (cancel requested)", ... */
static const char *state_text(char *out, size_t n, const json_t *it)
{
	const json_t *cur = json_object_get(it, "current");
	const json_t *req = json_object_get(it, "open_request");
	const char *extra = "";
	char r[64] = "";
	if (json_is_object(req)) {
		snprintf(r, sizeof(r), " (%s requested)", rw_relayq_str(req, "kind"));
		extra = r;
	} else if (json_is_object(cur) && strcmp(rw_relayq_str(cur, "kind"), "cancel") == 0) {
		extra = " (cancelling)";
	}
	snprintf(out, n, "%s%s", rw_relayq_str(it, "state"), extra);
	return out;
}

static void print_list(struct rw_relayq *q, const json_t *arr, int *rc)
{
	static const char *const header[] = { "KEY",   "STATE", "CHAIN", "SIGNER",
					      "NONCE", "ATT",   "AGE",   "LAST ERROR" };
	struct rw_relayq_table t;
	rw_relayq_table_init(&t, 8, header);
	size_t i;
	const json_t *it;
	json_array_foreach(arr, i, it)
	{
		char state[96], nonce[24], att[24], age[24];
		const json_t *jn = json_object_get(it, "nonce");
		snprintf(nonce, sizeof(nonce), "%lld", (long long)json_integer_value(jn));
		snprintf(att, sizeof(att), "%lld",
			 (long long)json_integer_value(json_object_get(it, "attempts")));
		const char *err = rw_relayq_str(it, "reason");
		if (!err[0])
			err = rw_relayq_str(it, "last_error");
		const char *signer = rw_relayq_str(it, "signer");
		const char *row[8] = {
			rw_relayq_str(it, "key"),
			state_text(state, sizeof(state), it),
			rw_relayq_str(it, "chain"),
			signer[0] ? signer : "any",
			json_is_integer(jn) ? nonce : NULL,
			att,
			rw_relayq_age(age, sizeof(age),
				      json_integer_value(json_object_get(it, "age_seconds"))),
			err,
		};
		rw_relayq_table_row(&t, row);
	}
	*rc = rw_relayq_table_print(&t, q->cli);
	if (*rc == RW_EXIT_OK)
		printf("%zu intent%s\n", json_array_size(arr),
		       json_array_size(arr) == 1 ? "" : "s");
}

static int run_list(struct rw_relayq *q, const struct opts *o)
{
	char chain[24];
	int rc = o->chain ? rw_relayq_chain(chain, q, o->chain) : 0;
	if (rc != 0)
		return rc;
	const char *params[] = { o->state, o->chain ? chain : NULL, o->key_prefix,
				 o->limit ? o->limit : "50" };
	json_t *arr;
	rc = rw_relayq_json(&arr, q, list_sql, 4, params);
	if (rc != 0)
		return rc;
	rw_relayq_checksum(arr);
	if (q->cli->json)
		rc = rw_relayq_print_json(arr);
	else
		print_list(q, arr, &rc);
	json_decref(arr);
	return rc;
}

/* The one-line summary of an intent after cancel or retry. */
static void print_summary(const json_t *it)
{
	char state[96];
	printf("%s %s", rw_relayq_str(it, "key"), state_text(state, sizeof(state), it));
	if (rw_relayq_str(it, "reason")[0])
		printf(": %s", rw_relayq_str(it, "reason"));
	printf("\n");
}

static void print_show(const json_t *s)
{
	const json_t *it = json_object_get(s, "intent");
	char state[96], age[24];
	printf("%s\n", rw_relayq_str(it, "key"));
	printf("state       %s", state_text(state, sizeof(state), it));
	if (json_is_integer(json_object_get(it, "nonce")))
		printf(" at nonce %lld of %s",
		       (long long)json_integer_value(json_object_get(it, "nonce")),
		       rw_relayq_str(it, "signer"));
	printf("\n");
	if (rw_relayq_str(it, "reason")[0])
		printf("reason      %s\n", rw_relayq_str(it, "reason"));
	printf("chain       %lld (%s)\n",
	       (long long)json_integer_value(json_object_get(it, "chain_id")),
	       rw_relayq_str(it, "chain"));
	printf("signer      %s\n", rw_relayq_str(it, "signer")[0] ? rw_relayq_str(it, "signer")
								  : "any (the chain's relayer)");
	printf("call        %s, value %s wei, %lld bytes of calldata %s\n",
	       rw_relayq_str(it, "target"), rw_relayq_str(it, "value"),
	       (long long)json_integer_value(json_object_get(it, "calldata_bytes")),
	       rw_relayq_str(it, "calldata"));
	if (rw_relayq_str(it, "tx_hash")[0])
		printf("mined tx    %s\n", rw_relayq_str(it, "tx_hash"));
	printf("filed       %s (%s ago)\n", rw_relayq_str(it, "created_at"),
	       rw_relayq_age(age, sizeof(age),
			     json_integer_value(json_object_get(it, "age_seconds"))));
	static const char *const times[] = { "signed_at", "mined_at", "confirmed_at", "final_at",
					     "not_before" };
	for (size_t k = 0; k < sizeof(times) / sizeof(times[0]); k++)
		if (rw_relayq_str(it, times[k])[0])
			printf("%-11.*s %s\n", (int)(strlen(times[k]) - 3), times[k],
			       rw_relayq_str(it, times[k]));
	const json_t *atts = json_object_get(s, "attempts");
	printf("attempts    %zu\n", json_array_size(atts));
	size_t i;
	const json_t *a;
	json_array_foreach(atts, i, a) rw_relayq_print_attempt(a);
	const json_t *reqs = json_object_get(s, "requests");
	if (json_array_size(reqs)) {
		printf("requests    %zu\n", json_array_size(reqs));
		rw_relayq_print_requests(reqs);
	}
	printf("history     %zu event%s\n", json_array_size(json_object_get(s, "events")),
	       json_array_size(json_object_get(s, "events")) == 1 ? "" : "s");
	rw_relayq_print_events(json_object_get(s, "events"));
}

/* No intent under key: says so. Returns RW_EXIT_FAIL. */
static int no_such_key(struct rw_relayq *q, const char *key)
{
	rw_cli_err(q->cli, "no intent %s", key);
	return RW_EXIT_FAIL;
}

static int run_show(struct rw_relayq *q, const struct opts *o)
{
	const char *params[] = { o->key };
	json_t *s;
	int rc = rw_relayq_json(&s, q, show_sql, 1, params);
	if (rc != 0)
		return rc;
	if (!s)
		return no_such_key(q, o->key);
	rw_relayq_checksum(s);
	if (q->cli->json)
		rc = rw_relayq_print_json(s);
	else
		print_show(s);
	json_decref(s);
	return rc;
}

/* Runs rw_intent_cancel or rw_intent_retry, then prints the intent. */
static int run_change(struct rw_relayq *q, const struct opts *o, const char *sql, int n)
{
	const char *params[] = { o->key, o->reason ? o->reason : "cancelled by an operator" };
	int rc = rw_relayq_exec(NULL, q, sql, n, params);
	if (rc != 0)
		return rc;
	json_t *it;
	rc = rw_relayq_json(&it, q, one_sql, 1, params);
	if (rc != 0)
		return rc;
	if (!it)
		return no_such_key(q, o->key);
	rw_relayq_checksum(it);
	if (q->cli->json)
		rc = rw_relayq_print_json(it);
	else
		print_summary(it);
	json_decref(it);
	return rc;
}

static int run_cancel(struct rw_relayq *q, const struct opts *o)
{
	return run_change(q, o, "SELECT key FROM rw_intent_cancel($1, $2)", 2);
}

static int run_retry(struct rw_relayq *q, const struct opts *o)
{
	return run_change(q, o, "SELECT key FROM rw_intent_retry($1)", 1);
}

int rw_cmd_intents(struct rw_cli *cli, int argc, char **argv)
{
	static const struct {
		const char *name;
		int allow;
		const char *help;
		int (*run)(struct rw_relayq *q, const struct opts *o);
	} subs[] = {
		{ "list", ALLOW_LIST, usage_list, run_list },
		{ "show", ALLOW_KEY, usage_show, run_show },
		{ "cancel", ALLOW_KEY | ALLOW_REASON, usage_cancel, run_cancel },
		{ "retry", ALLOW_KEY, usage_retry, run_retry },
	};
	size_t s = 0; /* no subcommand word: list */
	int first = 1, rc;
	if (argc >= 2 && (argv[1][0] != '-' || rw_cli_is_help(argv[1]))) {
		if (!rw_cli_subcommand(&s, &rc, cli, "intents", usage_intents, subs,
				       sizeof(subs[0]), RW_NELEM(subs), argc, argv))
			return rc;
		first = 2;
	}
	struct opts o = { 0 };
	rc = parse(cli, argc, argv, first, subs[s].name, subs[s].allow, subs[s].help, &o);
	if (rc == HELP_SHOWN)
		return RW_EXIT_OK;
	if (rc != 0)
		return rc;
	struct rw_relayq q;
	rc = rw_relayq_open(&q, cli);
	if (rc == 0)
		rc = subs[s].run(&q, &o);
	rw_relayq_close(&q);
	return rc;
}
