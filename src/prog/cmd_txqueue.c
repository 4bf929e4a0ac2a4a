/* cmd_txqueue.c: `runway tx list|show|bump|cancel`: the relayer's
 * transactions (attempts, relayer_tx) and operators' requests to steer
 * them (relayer_request, migrations/0023_relayer_steer.sql;
 * src/engine/RELAYER.md). cmd_tx.c dispatches here.
 *
 * The CLI never signs these: bump and cancel file a request with
 * rw_tx_request (the same function a web console calls), which notifies the
 * chain's relayer; the running relayer carries it out in its next round
 * (a replacement with bumped fees, or a no-op self-transfer at the nonce)
 * and marks it done or refused with a reason. --wait listens on channel
 * rw_relayer_request until then. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "duration.h"
#include "err.h"
#include "hex.h"
#include "key.h"
#include "relayq.h"

#define DB_HELP                                                                                    \
	"  --database-url URL    PostgreSQL (env RUNWAY_DATABASE_URL; else the --config\n"         \
	"                        file's database_url, else libpq's PG* variables)\n"

#define TARGET_HELP                                                                                \
	"TARGET is SIGNER:NONCE (the relayer's address and a nonce, e.g.\n"                        \
	"0x70997970C51812dc3A010C7d01b50e0d17dc79C8:7) or the hash of any of the\n"                \
	"nonce's attempts.\n"

static const char usage_list[] =
	"Usage: runway tx list [--signer ADDR] [--state S] [--chain ID] [--limit N] [--json]\n"
	"\n"
	"Lists the relayer's transactions (attempts), newest first: chain, signer,\n"
	"nonce, attempt, kind (intent: an intent's call; filler: a no-op closing a\n"
	"nonce gap; cancel: a no-op an operator asked for), state, fees, hash, the\n"
	"intent and age.\n"
	"\n"
	"Options:\n"
	"  --signer ADDR         only this signer's\n"
	"  --state S             signed, sent, mined, replaced, lost, or current\n"
	"                        (signed or sent: in flight)\n"
	"  --chain ID            a chain id or name\n"
	"  --limit N             at most N (1..10000, default 50)\n" DB_HELP
	"  --json                an array of transactions\n";

static const char usage_show[] =
	"Usage: runway tx show TARGET [--chain ID] [--json]\n"
	"\n"
	"Shows one nonce of a relayer signer: its intent, every attempt with fees,\n"
	"gas, hash, broadcasts and receipt, the operators' requests at it, and its\n"
	"history (relayer_event), oldest first.\n"
	"\n" TARGET_HELP "\n"
	"Options:\n"
	"  --chain ID            the chain (a chain id or name), when SIGNER:NONCE is\n"
	"                        on several\n" DB_HELP
	"  --json                {chain_id, signer, nonce, intent, attempts, requests,\n"
	"                        events}\n";

#define STEER_OPTIONS                                                                              \
	"Options:\n"                                                                               \
	"  --chain ID            the chain (a chain id or name), when SIGNER:NONCE is\n"           \
	"                        on several\n"                                                     \
	"  --note TEXT           a note stored with the request (at most 500 bytes)\n"             \
	"  --wait                wait until the relayer carried it out, and print the\n"           \
	"                        outcome (exit 1 when refused)\n"                                  \
	"  --timeout DURATION    how long --wait waits (30s, 5m; default 60s); exit 1\n"           \
	"                        when the request is still open then\n" DB_HELP                    \
	"  --json                the request as one object\n"                                      \
	"\n"                                                                                       \
	"Refused at once (exit 1): no transaction at the nonce, already mined, lost to\n"          \
	"another sender, a request already open at the nonce. Refused by the relayer\n"            \
	"(with --wait, exit 1): the replacement would exceed the chain's fee cap, the\n"           \
	"balance cannot pay it, or the nonce was mined meanwhile.\n"

static const char usage_bump[] =
	"Usage: runway tx bump TARGET [--chain ID] [--note TEXT] [--wait [--timeout D]] [--json]\n"
	"\n"
	"Asks the running relayer to replace the nonce's current attempt now with\n"
	"bumped fees: every fee field at least ceil(old * 1.1) + 1 of the highest\n"
	"earlier attempt and at least the market, under the chain's fee cap (else\n"
	"refused with the reason). The call, gas and nonce stay. The CLI signs\n"
	"nothing: it files a request (rw_tx_request) that the relayer carries out in\n"
	"its next round.\n"
	"\n" TARGET_HELP "\n" STEER_OPTIONS;

static const char usage_cancel[] =
	"Usage: runway tx cancel TARGET [--chain ID] [--note TEXT] [--wait [--timeout D]] "
	"[--json]\n"
	"\n"
	"Asks the running relayer to replace an intent's transaction with a no-op\n"
	"self-transfer (to the signer, value 0, gas 21000) at the same nonce, with\n"
	"fees bumped as `runway tx bump` does. When the no-op is mined the intent\n"
	"ends cancelled and its call never runs; if the original is mined first,\n"
	"the intent follows its receipt as usual (exactly once either way).\n"
	"An intent without a nonce (queued, failed) is cancelled with\n"
	"`runway intents cancel KEY`.\n"
	"\n" TARGET_HELP "\n" STEER_OPTIONS;

/* The options of a subcommand. */
struct opts {
	const char *sub;
	const char *signer;
	const char *state;
	const char *chain;
	const char *limit;
	const char *target;
	const char *note;
	const char *timeout;
	int wait;
	/* TARGET parsed */
	char hash[67];  /* 0x-hex, or "" */
	char addr[43];  /* lowercase 0x-hex of SIGNER, or "" */
	char nonce[24]; /* decimal NONCE */
	char signer_hex[43];
	uint64_t timeout_ms;
};

enum { ALLOW_LIST = 1, ALLOW_TARGET = 2, ALLOW_STEER = 4 };

#define HELP_SHOWN (-1)

/* Parses an address option into lowercase hex. Returns 0 or a usage exit
 * code after the message. */
static int parse_addr(struct rw_cli *cli, const char *what, const char *v, size_t n, char out[43])
{
	uint8_t a[20];
	int r = rw_addr_parse(a, v, n);
	if (r == RW_ECHECKSUM)
		return rw_cli_usage(cli, "%s %.*s has a wrong EIP-55 checksum", what, (int)n, v);
	if (r < 0)
		return rw_cli_usage(cli, "%s '%.*s' is not a 0x-prefixed 20-byte address", what,
				    (int)n, v);
	rw_hex_encode(out, a, 20, 1);
	return 0;
}

/* TARGET: a 32-byte hash, or SIGNER:NONCE. */
static int parse_target(struct rw_cli *cli, struct opts *o)
{
	const char *t = o->target;
	const char *colon = strchr(t, ':');
	uint8_t h[32];
	if (!colon) {
		if (rw_hex_decode_fixed(h, 32, t, strlen(t), RW_HEX_PREFIX_REQUIRED) < 0)
			return rw_cli_usage(cli,
					    "'%s' is neither a transaction hash (0x and 64 hex "
					    "digits) nor SIGNER:NONCE",
					    t);
		rw_hex_encode(o->hash, h, 32, 1);
		return 0;
	}
	int rc = parse_addr(cli, "SIGNER", t, (size_t)(colon - t), o->addr);
	if (rc != 0)
		return rc;
	const char *n = colon + 1;
	size_t len = strlen(n);
	if (len == 0 || len > 18 || n[strspn(n, "0123456789")] != '\0')
		return rw_cli_usage(cli, "NONCE '%s' in '%s' is not a whole number", n, t);
	snprintf(o->nonce, sizeof(o->nonce), "%llu", strtoull(n, NULL, 10));
	return 0;
}

/* Checks the values of the options. */
static int check(struct rw_cli *cli, struct opts *o, int allow)
{
	int rc;
	if ((allow & ALLOW_TARGET) && !o->target)
		return rw_cli_usage(cli, "tx %s needs SIGNER:NONCE or a transaction hash", o->sub);
	if (o->target && (rc = parse_target(cli, o)) != 0)
		return rc;
	if (o->hash[0] && o->chain)
		return rw_cli_usage(cli,
				    "tx %s: --chain goes with SIGNER:NONCE; a hash names its "
				    "chain",
				    o->sub);
	if (o->signer &&
	    (rc = parse_addr(cli, "--signer", o->signer, strlen(o->signer), o->signer_hex)) != 0)
		return rc;
	if (o->state) {
		static const char *const states[] = { "signed",   "sent", "mined",
						      "replaced", "lost", "current" };
		size_t k = 0;
		while (k < sizeof(states) / sizeof(states[0]) && strcmp(o->state, states[k]) != 0)
			k++;
		if (k == sizeof(states) / sizeof(states[0]))
			return rw_cli_usage(
				cli,
				"--state must be signed, sent, mined, replaced, lost or "
				"current, not '%s'",
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
	if (o->note && (!o->note[0] || strlen(o->note) > 500))
		return rw_cli_usage(cli, "--note needs a text of 1 to 500 bytes");
	o->timeout_ms = 60000;
	if (o->timeout) {
		uint64_t s;
		if (!o->wait)
			return rw_cli_usage(cli, "--timeout goes with --wait");
		if (rw_duration_parse(&s, o->timeout) < 0 || s > 86400)
			return rw_cli_usage(cli,
					    "--timeout needs a duration from 1s to 1d (30s, 5m), "
					    "not '%s'",
					    o->timeout);
		o->timeout_ms = s * 1000;
	}
	return 0;
}

/* Parses the subcommand's arguments (argv[1] is the subcommand). */
static int parse(struct rw_cli *cli, int argc, char **argv, int allow, const char *help,
		 struct opts *o)
{
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		int r = 0;
		if (rw_cli_is_help(a)) {
			fputs(help, stdout);
			return HELP_SHOWN;
		}
		if ((allow & ALLOW_LIST) &&
		    ((r = rw_cli_opt_value(cli, argc, argv, &i, "signer", &o->signer)) ||
		     (r = rw_cli_opt_value(cli, argc, argv, &i, "state", &o->state)) ||
		     (r = rw_cli_opt_value(cli, argc, argv, &i, "limit", &o->limit)))) {
			if (r < 0)
				return RW_EXIT_USAGE;
			continue;
		}
		if ((r = rw_cli_opt_value(cli, argc, argv, &i, "chain", &o->chain))) {
			if (r < 0)
				return RW_EXIT_USAGE;
			continue;
		}
		if ((allow & ALLOW_STEER) &&
		    ((r = rw_cli_opt_value(cli, argc, argv, &i, "note", &o->note)) ||
		     (r = rw_cli_opt_value(cli, argc, argv, &i, "timeout", &o->timeout)))) {
			if (r < 0)
				return RW_EXIT_USAGE;
			continue;
		}
		if ((allow & ALLOW_STEER) && strcmp(a, "--wait") == 0) {
			o->wait = 1;
			continue;
		}
		if ((allow & ALLOW_TARGET) && a[0] != '-' && !o->target) {
			o->target = a;
			continue;
		}
		return rw_cli_usage(cli, "tx %s: unexpected argument '%s'", o->sub, a);
	}
	return check(cli, o, allow);
}

/* ---- list ------------------------------------------------------------------ */

static const char *const list_sql[] = {
	"SELECT coalesce(json_agg(x.j ORDER BY x.id DESC), '[]')::text FROM ("
	"SELECT t.id, json_build_object('chain_id', t.chain_id, 'chain', c.name, "
	"'signer', rw_hex(t.signer), ",
	RW_RELAYQ_ATTEMPT_FIELDS,
	", 'intent', i.key, "
	"'intent_state', i.state, "
	"'age_seconds', greatest(extract(epoch FROM now() - t.created_at)::bigint, 0)) AS j "
	"FROM relayer_tx t JOIN chain c ON c.chain_id = t.chain_id "
	"LEFT JOIN relayer_intent i ON i.id = t.intent_id "
	"LEFT JOIN relayer_receipt r ON r.tx_hash = t.hash "
	"WHERE ($1::text IS NULL OR t.signer = rw_unhex($1)) "
	"AND ($2::text IS NULL OR t.state = $2 "
	"OR ($2 = 'current' AND t.state IN ('signed', 'sent'))) "
	"AND ($3::bigint IS NULL OR t.chain_id = $3::bigint) "
	"ORDER BY t.id DESC LIMIT $4::integer) x",
	NULL
};

static void print_list(struct rw_relayq *q, const json_t *arr, int *rc)
{
	static const char *const header[] = { "CHAIN", "SIGNER", "NONCE", "ATT",    "KIND",
					      "STATE", "FEES",   "HASH",  "INTENT", "AGE" };
	struct rw_relayq_table t;
	rw_relayq_table_init(&t, 10, header);
	size_t i;
	const json_t *tx;
	json_array_foreach(arr, i, tx)
	{
		char nonce[24], att[24], fees[300], age[24];
		snprintf(nonce, sizeof(nonce), "%lld",
			 (long long)json_integer_value(json_object_get(tx, "nonce")));
		snprintf(att, sizeof(att), "%lld",
			 (long long)json_integer_value(json_object_get(tx, "attempt")));
		const char *row[10] = {
			rw_relayq_str(tx, "chain"),
			rw_relayq_str(tx, "signer"),
			nonce,
			att,
			rw_relayq_str(tx, "kind"),
			rw_relayq_str(tx, "state"),
			rw_relayq_fees(fees, sizeof(fees), tx),
			rw_relayq_str(tx, "hash"),
			rw_relayq_str(tx, "intent"),
			rw_relayq_age(age, sizeof(age),
				      json_integer_value(json_object_get(tx, "age_seconds"))),
		};
		rw_relayq_table_row(&t, row);
	}
	*rc = rw_relayq_table_print(&t, q->cli);
	if (*rc == RW_EXIT_OK)
		printf("%zu transaction%s\n", json_array_size(arr),
		       json_array_size(arr) == 1 ? "" : "s");
}

static int run_list(struct rw_relayq *q, const struct opts *o)
{
	char chain[24];
	int rc = o->chain ? rw_relayq_chain(chain, q, o->chain) : 0;
	if (rc != 0)
		return rc;
	const char *params[] = { o->signer ? o->signer_hex : NULL, o->state,
				 o->chain ? chain : NULL, o->limit ? o->limit : "50" };
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

/* ---- show ------------------------------------------------------------------- */

/* The nonce TARGET names: chain (decimal), signer (lowercase hex), nonce. */
struct nonce_ref {
	char chain[24];
	char signer[43];
	char nonce[24];
};

/* Finds the chain, signer and nonce of TARGET. Returns 0 or an exit code
 * after the message (no such transaction: 1; SIGNER:NONCE on several
 * chains without --chain: 2). */
static int resolve(struct nonce_ref *ret, struct rw_relayq *q, const struct opts *o)
{
	json_t *j;
	int rc;
	if (o->hash[0]) {
		const char *params[] = { o->hash };
		static const char *const sql[] = {
			"SELECT json_build_object('chain_id', chain_id::text, 'signer', "
			"rw_hex(signer), 'nonce', nonce::text)::text FROM relayer_tx "
			"WHERE hash = rw_unhex($1)",
			NULL
		};
		rc = rw_relayq_json(&j, q, sql, 1, params);
		if (rc != 0)
			return rc;
		if (!j) {
			rw_cli_err(q->cli, "no transaction of the relayer has hash %s", o->hash);
			return RW_EXIT_FAIL;
		}
		snprintf(ret->chain, sizeof(ret->chain), "%s", rw_relayq_str(j, "chain_id"));
		snprintf(ret->signer, sizeof(ret->signer), "%s", rw_relayq_str(j, "signer"));
		snprintf(ret->nonce, sizeof(ret->nonce), "%s", rw_relayq_str(j, "nonce"));
		json_decref(j);
		return 0;
	}
	char chain[24];
	rc = o->chain ? rw_relayq_chain(chain, q, o->chain) : 0;
	if (rc != 0)
		return rc;
	const char *params[] = { o->addr, o->nonce, o->chain ? chain : NULL };
	static const char *const sql[] = {
		"SELECT coalesce(json_agg(DISTINCT chain_id::text), '[]')::text "
		"FROM relayer_tx WHERE signer = rw_unhex($1) AND nonce = $2::bigint "
		"AND ($3::bigint IS NULL OR chain_id = $3::bigint)",
		NULL
	};
	rc = rw_relayq_json(&j, q, sql, 3, params);
	if (rc != 0)
		return rc;
	size_t n = json_array_size(j);
	if (n == 1) {
		snprintf(ret->chain, sizeof(ret->chain), "%s",
			 json_string_value(json_array_get(j, 0)));
		snprintf(ret->signer, sizeof(ret->signer), "%s", o->addr);
		snprintf(ret->nonce, sizeof(ret->nonce), "%s", o->nonce);
	} else if (n == 0) {
		rw_cli_err(q->cli, "nonce %s of %.*s has no transaction of the relayer%s%s",
			   o->nonce, (int)(strchr(o->target, ':') - o->target), o->target,
			   o->chain ? " on chain " : "", o->chain ? o->chain : "");
		rc = RW_EXIT_FAIL;
	} else {
		rc = rw_cli_usage(
			q->cli, "nonce %s of %.*s is on %zu chains: name one with --chain",
			o->nonce, (int)(strchr(o->target, ':') - o->target), o->target, n);
	}
	json_decref(j);
	return rc;
}

static const char *const show_sql[] = {
	"SELECT json_build_object('chain_id', $1::bigint, "
	"'chain', (SELECT name FROM chain WHERE chain_id = $1::bigint), "
	"'signer', $2::text, 'nonce', $3::bigint, "
	"'intent', (SELECT json_build_object('key', i.key, 'state', i.state, 'nonce', i.nonce, "
	"'tx_hash', rw_hex(i.tx_hash), 'reason', i.reason) FROM relayer_tx t "
	"JOIN relayer_intent i ON i.id = t.intent_id WHERE t.chain_id = $1::bigint "
	"AND t.signer = rw_unhex($2) AND t.nonce = $3::bigint "
	"ORDER BY t.state <> 'lost' DESC, t.attempt DESC LIMIT 1), "
	"'next_nonce', (SELECT next_nonce FROM relayer_signer WHERE chain_id = $1::bigint "
	"AND address = rw_unhex($2)), "
	"'chain_nonce', (SELECT chain_nonce FROM relayer_signer WHERE chain_id = $1::bigint "
	"AND address = rw_unhex($2)), "
	"'attempts', (SELECT coalesce(json_agg(json_build_object(",
	RW_RELAYQ_ATTEMPT_FIELDS,
	") ORDER BY t.attempt), '[]') FROM relayer_tx t "
	"LEFT JOIN relayer_receipt r ON r.tx_hash = t.hash WHERE t.chain_id = $1::bigint "
	"AND t.signer = rw_unhex($2) AND t.nonce = $3::bigint), "
	"'requests', (SELECT coalesce(json_agg(json_build_object(",
	RW_RELAYQ_REQUEST_FIELDS,
	") ORDER BY q.id), '[]') " RW_RELAYQ_REQUEST_FROM "WHERE q.chain_id = $1::bigint "
	"AND q.signer = rw_unhex($2) AND q.nonce = $3::bigint), "
	"'events', (SELECT coalesce(json_agg(x.j ORDER BY x.id), '[]') FROM (SELECT "
	"e.id, " RW_RELAYQ_EVENT_JSON " AS j FROM relayer_event e WHERE e.chain_id = $1::bigint "
	"AND e.signer = rw_unhex($2) AND e.nonce = $3::bigint ORDER BY e.id DESC LIMIT 500) x)"
	")::text",
	NULL
};

static void print_show(const json_t *s)
{
	printf("nonce %lld of %s on chain %lld (%s)\n",
	       (long long)json_integer_value(json_object_get(s, "nonce")),
	       rw_relayq_str(s, "signer"),
	       (long long)json_integer_value(json_object_get(s, "chain_id")),
	       rw_relayq_str(s, "chain"));
	const json_t *it = json_object_get(s, "intent");
	if (json_is_object(it)) {
		printf("intent      %s (%s", rw_relayq_str(it, "key"), rw_relayq_str(it, "state"));
		if (rw_relayq_str(it, "reason")[0])
			printf(": %s", rw_relayq_str(it, "reason"));
		printf(")\n");
	} else {
		printf("intent      none (a gap filler)\n");
	}
	printf("signer      next nonce %lld, the chain's count %lld\n",
	       (long long)json_integer_value(json_object_get(s, "next_nonce")),
	       (long long)json_integer_value(json_object_get(s, "chain_nonce")));
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
	const json_t *ev = json_object_get(s, "events");
	printf("history     %zu event%s\n", json_array_size(ev),
	       json_array_size(ev) == 1 ? "" : "s");
	rw_relayq_print_events(ev);
}

static int run_show(struct rw_relayq *q, const struct opts *o)
{
	struct nonce_ref n;
	int rc = resolve(&n, q, o);
	if (rc != 0)
		return rc;
	const char *params[] = { n.chain, n.signer, n.nonce };
	json_t *s;
	rc = rw_relayq_json(&s, q, show_sql, 3, params);
	if (rc != 0)
		return rc;
	rw_relayq_checksum(s);
	if (q->cli->json)
		rc = rw_relayq_print_json(s);
	else
		print_show(s);
	json_decref(s);
	return rc;
}

/* ---- bump and cancel ----------------------------------------------------------- */

static const char *const request_sql[] = {
	"SELECT json_build_object(", RW_RELAYQ_REQUEST_FIELDS,
	", 'chain', c.name, "
	"'relayer_synced_seconds_ago', "
	"greatest(extract(epoch FROM now() - s.synced_at)::bigint, "
	"0))::text " RW_RELAYQ_REQUEST_FROM "JOIN chain c ON c.chain_id = q.chain_id "
	"LEFT JOIN relayer_signer s ON s.chain_id = q.chain_id AND s.address = q.signer "
	"WHERE q.id = $1::bigint",
	NULL
};

static void print_request(const json_t *r)
{
	char fees[300];
	const char *kind = rw_relayq_str(r, "kind");
	const char *state = rw_relayq_str(r, "state");
	printf("%s request #%lld for nonce %lld of %s on chain %lld (%s): %s\n", kind,
	       (long long)json_integer_value(json_object_get(r, "id")),
	       (long long)json_integer_value(json_object_get(r, "nonce")),
	       rw_relayq_str(r, "signer"),
	       (long long)json_integer_value(json_object_get(r, "chain_id")),
	       rw_relayq_str(r, "chain"), state);
	if (rw_relayq_str(r, "intent")[0])
		printf("intent      %s (%s)\n", rw_relayq_str(r, "intent"),
		       rw_relayq_str(r, "intent_state"));
	else
		printf("intent      none (a gap filler)\n");
	const json_t *tx = json_object_get(r, "tx");
	if (strcmp(state, "requested") == 0) {
		printf("current     %s\n", rw_relayq_str(r, "from_tx"));
		printf("next        the relayer carries it out in its next round; `runway tx show "
		       "%s:%lld` follows it\n",
		       rw_relayq_str(r, "signer"),
		       (long long)json_integer_value(json_object_get(r, "nonce")));
	} else if (strcmp(state, "done") == 0 && json_is_object(tx)) {
		printf("replaced    %s by attempt #%lld %s (%s%s)\n", rw_relayq_str(r, "from_tx"),
		       (long long)json_integer_value(json_object_get(tx, "attempt")),
		       rw_relayq_str(tx, "hash"), strcmp(kind, "cancel") == 0 ? "a no-op, " : "",
		       rw_relayq_fees(fees, sizeof(fees), tx));
		if (strcmp(kind, "cancel") == 0)
			printf("next        %s is cancelled when the no-op is mined; if its call "
			       "is "
			       "mined first, it follows that receipt\n",
			       rw_relayq_str(r, "intent"));
	} else if (strcmp(state, "refused") == 0) {
		printf("reason      %s\n", rw_relayq_str(r, "reason"));
	}
}

/* Reads request id. Returns 0 or an exit code. */
static int fetch_request(json_t **ret, struct rw_relayq *q, const char *id)
{
	const char *params[] = { id };
	int rc = rw_relayq_json(ret, q, request_sql, 1, params);
	if (rc == 0 && !*ret) {
		rw_cli_err(q->cli, "request %s vanished", id);
		rc = RW_EXIT_FAIL;
	}
	if (rc == 0)
		rw_relayq_checksum(*ret);
	return rc;
}

/* Waits until request id is no longer requested or the timeout passes.
 * Returns 0 with *ret the request as it is then, or an exit code. */
static int wait_request(json_t **ret, struct rw_relayq *q, const char *id, uint64_t timeout_ms)
{
	uint64_t deadline = rw_relayq_now_ms() + timeout_ms;
	int rc = rw_relayq_listen(q, "rw_relayer_request");
	for (*ret = NULL; rc == 0;) {
		rc = fetch_request(ret, q, id);
		if (rc != 0 || strcmp(rw_relayq_str(*ret, "state"), "requested") != 0)
			break;
		uint64_t now = rw_relayq_now_ms();
		if (now >= deadline)
			break;
		json_decref(*ret);
		*ret = NULL;
		uint64_t left = deadline - now;
		rc = rw_relayq_wait_notify(q, left < 500 ? (int)left : 500);
	}
	if (rc != 0) {
		json_decref(*ret);
		*ret = NULL;
	}
	return rc;
}

/* Prints a request and returns the exit code its state means: 0 done or
 * filed, 1 refused or (after --wait) still open. */
static int report(struct rw_relayq *q, const struct opts *o, const json_t *r)
{
	int rc = q->cli->json ? rw_relayq_print_json(r) : (print_request(r), RW_EXIT_OK);
	const char *state = rw_relayq_str(r, "state");
	const char *kind = rw_relayq_str(r, "kind");
	long long id = (long long)json_integer_value(json_object_get(r, "id"));
	if (strcmp(state, "refused") == 0) {
		rw_cli_err(q->cli, "%s request #%lld refused: %s", kind, id,
			   rw_relayq_str(r, "reason"));
		return RW_EXIT_FAIL;
	}
	if (o->wait && strcmp(state, "requested") == 0) {
		const json_t *ago = json_object_get(r, "relayer_synced_seconds_ago");
		char when[64], age[24];
		if (json_is_integer(ago))
			snprintf(when, sizeof(when), "its last round was %s ago",
				 rw_relayq_age(age, sizeof(age), json_integer_value(ago)));
		else
			snprintf(when, sizeof(when), "it has never run");
		rw_cli_err(q->cli,
			   "%s request #%lld is still open after %llus: no relayer carried it "
			   "out; is runwayd running the relayer of %s on chain %lld? (%s)",
			   kind, id, (unsigned long long)(o->timeout_ms / 1000),
			   rw_relayq_str(r, "signer"),
			   (long long)json_integer_value(json_object_get(r, "chain_id")), when);
		return RW_EXIT_FAIL;
	}
	return rc;
}

static int run_steer(struct rw_relayq *q, const struct opts *o, const char *kind)
{
	char chain[24], *id;
	int rc = o->chain ? rw_relayq_chain(chain, q, o->chain) : 0;
	if (rc != 0)
		return rc;
	if (o->hash[0]) {
		const char *params[] = { kind, o->hash, o->note };
		rc = rw_relayq_exec(&id, q,
				    "SELECT id::text FROM rw_tx_request_hash($1, rw_unhex($2), $3)",
				    3, params);
	} else {
		const char *params[] = { kind, o->chain ? chain : NULL, o->addr, o->nonce,
					 o->note };
		rc = rw_relayq_exec(
			&id, q,
			"SELECT id::text FROM rw_tx_request($1, $2::bigint, rw_unhex($3), "
			"$4::bigint, $5)",
			5, params);
	}
	if (rc != 0)
		return rc;
	if (!id) {
		rw_cli_err(q->cli, "the database filed no request");
		return RW_EXIT_FAIL;
	}
	json_t *r;
	rc = o->wait ? wait_request(&r, q, id, o->timeout_ms) : fetch_request(&r, q, id);
	free(id);
	if (rc != 0)
		return rc;
	rc = report(q, o, r);
	json_decref(r);
	return rc;
}

static int run_bump(struct rw_relayq *q, const struct opts *o)
{
	return run_steer(q, o, "bump");
}

static int run_cancel(struct rw_relayq *q, const struct opts *o)
{
	return run_steer(q, o, "cancel");
}

int rw_cmd_txqueue(struct rw_cli *cli, int argc, char **argv)
{
	static const struct {
		const char *name;
		int allow;
		const char *help;
		int (*run)(struct rw_relayq *q, const struct opts *o);
	} subs[] = {
		{ "list", ALLOW_LIST, usage_list, run_list },
		{ "show", ALLOW_TARGET, usage_show, run_show },
		{ "bump", ALLOW_TARGET | ALLOW_STEER, usage_bump, run_bump },
		{ "cancel", ALLOW_TARGET | ALLOW_STEER, usage_cancel, run_cancel },
	};
	for (size_t s = 0; s < sizeof(subs) / sizeof(subs[0]); s++) {
		if (strcmp(argv[1], subs[s].name) != 0)
			continue;
		struct opts o = { .sub = subs[s].name };
		int rc = parse(cli, argc, argv, subs[s].allow, subs[s].help, &o);
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
	return rw_cli_usage(cli, "tx: unknown subcommand '%s'", argv[1]);
}
