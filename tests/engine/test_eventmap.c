/* test_eventmap.c: the event map (src/engine/eventmap.c).
 *
 * The project's abi/ files with the test map tests/engine/data/events.json
 * (and abi/events.json when it exists): lookup by topic 0, the columns
 * and SQL types of Transfer and of Balance events, the topic list per
 * kind; a made-up ABI (data/abi/Weird.json) for every type mapping,
 * snake_case names and overloads; the schema query and checker on
 * matching and mismatching rows; and every refusal with its message. */
#include "testlib.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "eventmap.h"

#define ABI_DIR  RUNWAY_SOURCE_ROOT "/abi"
#define DATA     RUNWAY_SOURCE_ROOT "/tests/engine/data"
#define TEST_ABI DATA "/abi"

#define TOPIC_TRANSFER "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"

static struct rw_eventmap *load_test_map(void)
{
	struct rw_eventmap *m = NULL;
	char err[512];
	int r = rw_eventmap_load(&m, ABI_DIR, DATA "/events.json", err, sizeof(err));
	if (r < 0)
		fail_msg("%s", err);
	return m;
}

/* Parses text with ' standing for ". */
static json_t *doc(const char *text)
{
	char *s = strdup(text);
	assert_non_null(s);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	json_error_t je;
	json_t *j = json_loads(s, 0, &je);
	if (!j)
		fail_msg("bad test JSON %s: %s", text, je.text);
	free(s);
	return j;
}

static const struct rw_eventmap_event *lookup_hex(const struct rw_eventmap *m, const char *kind,
						  const char *topic_hex)
{
	size_t n;
	uint8_t *t = tl_unhex(topic_hex, &n);
	assert_int_equal(n, 32);
	const struct rw_eventmap_event *e = rw_eventmap_lookup(m, kind, t);
	free(t);
	return e;
}

/* Asserts the columns of e after the leading ones: "name type" pairs. */
static void columns_are(const struct rw_eventmap_event *e, const char *const *want, size_t n)
{
	static const char *const lead[] = { "chain_id bigint",  "block_number bigint",
					    "block_hash bytea", "tx_hash bytea",
					    "tx_index integer", "log_index integer",
					    "address bytea" };
	assert_int_equal(e->n_cols, RW_EVENTMAP_LEADING + n);
	for (size_t i = 0; i < e->n_cols; i++) {
		char got[128];
		snprintf(got, sizeof(got), "%s %s", e->cols[i].name,
			 rw_eventmap_sql_name(e->cols[i].type));
		const char *w = i < RW_EVENTMAP_LEADING ? lead[i] : want[i - RW_EVENTMAP_LEADING];
		if (strcmp(got, w) != 0)
			fail_msg("%s column %zu: got \"%s\", want \"%s\"", e->table, i, got, w);
		if (i < RW_EVENTMAP_LEADING) {
			assert_int_equal(e->cols[i].field, (enum rw_eventmap_field)i);
		} else {
			assert_int_equal(e->cols[i].field, RW_EVENTMAP_PARAM);
			assert_int_equal(e->cols[i].param, i - RW_EVENTMAP_LEADING);
		}
	}
}

/* ---- the real ABI files ----------------------------------------------- */

static void transfer(void **state)
{
	(void)state;
	struct rw_eventmap *m = load_test_map();
	assert_int_equal(m->n_events, 10);
	const struct rw_eventmap_event *e = lookup_hex(m, "TestToken", TOPIC_TRANSFER);
	assert_non_null(e);
	assert_string_equal(e->table, "ev_erc20_transfer");
	assert_string_equal(e->kind, "TestToken");
	assert_string_equal(e->event->signature, "Transfer(address,address,uint256)");
	assert_int_equal(e->entry, 0);
	assert_ptr_equal(e, &m->events[0]);
	tl_assert_hex(e->topic0, 32, TOPIC_TRANSFER);
	static const char *const cols[] = { "from_address bytea", "to_address bytea",
					    "value numeric(78,0)" };
	columns_are(e, cols, 3);
	for (size_t i = RW_EVENTMAP_LEADING; i < e->n_cols; i++)
		assert_false(e->cols[i].topic_hash);

	/* same topic, another kind: not mapped */
	assert_null(lookup_hex(m, "Balance", TOPIC_TRANSFER));
	assert_null(lookup_hex(m, "TestToken",
			       "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ee"));

	/* Approval keeps the parameter names */
	e = lookup_hex(m, "TestToken",
		       "8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925");
	assert_non_null(e);
	static const char *const acols[] = { "owner bytea", "spender bytea",
					     "value numeric(78,0)" };
	columns_are(e, acols, 3);

	uint8_t topics[4][32];
	assert_int_equal(rw_eventmap_topics(m, "TestToken", topics, 4), 2);
	tl_assert_hex(topics[0], 32, TOPIC_TRANSFER);
	assert_int_equal(rw_eventmap_topics(m, "Balance", topics, 1), 5);
	assert_int_equal(rw_eventmap_topics(m, "Nothing", topics, 4), 0);
	rw_eventmap_free(m);
}

static void balance_events(void **state)
{
	(void)state;
	struct rw_eventmap *m = load_test_map();
	const struct rw_eventmap_event *dep = NULL, *chg = NULL, *ended = NULL, *op = NULL,
				       *created = NULL, *loc = NULL;
	for (size_t i = 0; i < m->n_events; i++) {
		const struct rw_eventmap_event *e = &m->events[i];
		const char *name = e->event->name;
		if (strcmp(name, "Deposited") == 0)
			dep = e;
		else if (strcmp(name, "Charged") == 0)
			chg = e;
		else if (strcmp(name, "InstanceEnded") == 0)
			ended = e;
		else if (strcmp(name, "OperatorSet") == 0)
			op = e;
		else if (strcmp(name, "ValidatorNodeProviderCreated") == 0)
			created = e;
		else if (strcmp(name, "MachineLocation") == 0)
			loc = e;
		assert_ptr_equal(rw_eventmap_lookup(m, e->kind, e->topic0), e);
	}
	assert_non_null(dep);
	static const char *const dcols[] = {
		"account bytea",     "payer bytea", "amount numeric(78,0)",
		"tax numeric(78,0)", "ref bytea",   "balance_after numeric(78,0)"
	};
	columns_are(dep, dcols, 6);
	static const char *const ccols[] = { "id bytea",
					     "account bytea",
					     "provider bytea",
					     "period numeric(78,0)",
					     "amount numeric(78,0)",
					     "reserve_after numeric(78,0)",
					     "paid_until numeric(78,0)" };
	columns_are(chg, ccols, 7);
	static const char *const ecols[] = { "id bytea", "account bytea", "reason numeric(78,0)",
					     "refunded numeric(78,0)",
					     "balance_after numeric(78,0)" };
	columns_are(ended, ecols, 5);
	static const char *const ocols[] = { "operator bytea", "enabled boolean" };
	columns_are(op, ocols, 2);
	static const char *const pcols[] = { "provider bytea", "consensus bytea", "token bytea",
					     "payee bytea", "price numeric(78,0)" };
	columns_are(created, pcols, 5);
	static const char *const lcols[] = { "application bytea", "location text" };
	columns_are(loc, lcols, 2);
	tl_assert_hex(loc->topic0, 32,
		      "22f244e839c97faca31341c9c2bb7a09f94a81fb309a36a85c8465bafeb69ffc");
	rw_eventmap_free(m);
}

/* abi/events.json, once it exists, loads against the same ABI files. */
static void project_map(void **state)
{
	(void)state;
	if (access(ABI_DIR "/events.json", F_OK) != 0)
		skip();
	struct rw_eventmap *m = NULL;
	char err[512];
	int r = rw_eventmap_load(&m, ABI_DIR, ABI_DIR "/events.json", err, sizeof(err));
	if (r < 0)
		fail_msg("%s", err);
	assert_true(m->n_events > 0);
	rw_eventmap_free(m);
}

/* ---- types and names (data/abi/Weird.json) ---------------------------- */

static void weird_types(void **state)
{
	(void)state;
	struct rw_eventmap *m = NULL;
	char err[512];
	json_t *j = doc("[{'kind': 'Weird', 'event': 'Odd', 'table': 'ev_odd'},"
			" {'kind': 'Weird', 'event': 'Dup(address)', 'table': 'ev_dup'},"
			" {'kind': 'Weird', 'event': 'Sent', 'table': 'ev_sent',"
			"  'columns': {'to': 'recipient', 'address': 'target',"
			"              'blockNumber': 'at_block'}}]");
	int r = rw_eventmap_from_json(&m, TEST_ABI, j, "map", err, sizeof(err));
	json_decref(j);
	if (r < 0)
		fail_msg("%s", err);
	const struct rw_eventmap_event *e = &m->events[0];
	static const char *const cols[] = { "time numeric(78,0)", "token_id numeric(78,0)",
					    "erc20_token bytea",  "arg3 boolean",
					    "label bytea",        "note text",
					    "blob bytea",         "ids jsonb",
					    "pair jsonb",         "tag bytea" };
	columns_are(e, cols, 10);
	assert_true(e->cols[RW_EVENTMAP_LEADING + 4].topic_hash);  /* indexed string */
	assert_false(e->cols[RW_EVENTMAP_LEADING + 1].topic_hash); /* indexed int8: a value */
	assert_false(e->cols[RW_EVENTMAP_LEADING + 5].topic_hash);
	assert_string_equal(m->events[1].event->signature, "Dup(address)");
	static const char *const scols[] = { "recipient bytea", "target bytea",
					     "at_block numeric(78,0)" };
	columns_are(&m->events[2], scols, 3);
	rw_eventmap_free(m);
}

/* ---- schema check ----------------------------------------------------- */

/* Rows that match m exactly, plus one extra column per table. */
static struct rw_eventmap_dbcol *rows_for(const struct rw_eventmap *m, size_t *ret_n)
{
	size_t n = 0;
	for (size_t i = 0; i < m->n_events; i++)
		n += m->events[i].n_cols + 1;
	struct rw_eventmap_dbcol *rows = calloc(n, sizeof(*rows));
	assert_non_null(rows);
	size_t k = 0;
	for (size_t i = m->n_events; i-- > 0;) { /* reverse order: order must not matter */
		const struct rw_eventmap_event *e = &m->events[i];
		rows[k++] = (struct rw_eventmap_dbcol){ e->table, "inserted_at",
							"timestamp with time zone" };
		for (size_t c = 0; c < e->n_cols; c++)
			rows[k++] =
				(struct rw_eventmap_dbcol){ e->table, e->cols[c].name,
							    rw_eventmap_sql_name(e->cols[c].type) };
	}
	*ret_n = n;
	return rows;
}

static void schema_check(void **state)
{
	(void)state;
	struct rw_eventmap *m = load_test_map();
	char *q = NULL, err[512];
	assert_int_equal(rw_eventmap_schema_query(&q, m), 0);
	assert_non_null(strstr(q, "FROM information_schema.columns"));
	assert_non_null(strstr(q, "table_schema = current_schema()"));
	assert_non_null(strstr(q, "table_name IN ('ev_erc20_transfer', 'ev_erc20_approval', "));
	assert_non_null(
		strstr(q, "'ev_balance_refunded')\n ORDER BY table_name, ordinal_position"));
	assert_non_null(strstr(q, "'numeric(' || numeric_precision"));
	free(q);

	size_t n;
	struct rw_eventmap_dbcol *rows = rows_for(m, &n);
	assert_int_equal(rw_eventmap_schema_check(m, rows, n, err, sizeof(err)), 0);

	/* a wrong type */
	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i].table, "ev_erc20_transfer") == 0 &&
		    strcmp(rows[i].column, "value") == 0)
			rows[i].type = "numeric";
	assert_int_equal(rw_eventmap_schema_check(m, rows, n, err, sizeof(err)), RW_EINVAL);
	assert_string_equal(err,
			    "column ev_erc20_transfer.value is numeric, expected "
			    "numeric(78,0) (TestToken.Transfer parameter value, map entry [0])");
	free(rows);

	/* a missing column, the first in map order */
	rows = rows_for(m, &n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i].column, "log_index") == 0 &&
		    strcmp(rows[i].table, "ev_financial_runway") == 0)
			rows[i].column = "logindex";
	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i].column, "balance_after") == 0)
			rows[i].column = "balance";
	assert_int_equal(rw_eventmap_schema_check(m, rows, n, err, sizeof(err)), RW_ENOTFOUND);
	assert_string_equal(err,
			    "column ev_financial_runway.log_index does not exist (expected "
			    "integer; leading column of ValidatorNodeProvider.FinancialRunway, "
			    "map entry [2])");
	free(rows);

	/* a missing table */
	rows = rows_for(m, &n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i].table, "ev_balance_charged") == 0)
			rows[i].table = "ev_balance_charge";
	assert_int_equal(rw_eventmap_schema_check(m, rows, n, err, sizeof(err)), RW_ENOTFOUND);
	assert_string_equal(err, "table ev_balance_charged (for Balance.Charged, map entry [6]) "
				 "does not exist in the current schema");
	assert_int_equal(rw_eventmap_schema_check(m, NULL, 0, err, sizeof(err)), RW_ENOTFOUND);
	free(rows);
	rw_eventmap_free(m);

	/* an empty map: a valid query, nothing to check */
	json_t *j = json_array();
	assert_int_equal(rw_eventmap_from_json(&m, ABI_DIR, j, "empty", err, sizeof(err)), 0);
	json_decref(j);
	assert_int_equal(rw_eventmap_schema_query(&q, m), 0);
	assert_non_null(strstr(q, "IN (NULL)"));
	free(q);
	assert_int_equal(rw_eventmap_schema_check(m, NULL, 0, err, sizeof(err)), 0);
	uint8_t t[32] = { 0 };
	assert_null(rw_eventmap_lookup(m, "TestToken", t));
	rw_eventmap_free(m);
	assert_null(rw_eventmap_free(NULL));
}

/* ---- refusals --------------------------------------------------------- */

struct bad {
	const char *map;
	int code;
	const char *needle;
};

#define T_ENTRY(tail) "{'kind': 'TestToken', 'event': 'Transfer', 'table': 'ev_t'" tail "}"
#define TRANSFER_OK   T_ENTRY(", 'columns': {'from': 'src', 'to': 'dst'}")

static const struct bad bad_maps[] = {
	{ "{}", RW_EINVAL, "map: expected an array of at most 1024 entries, got an object" },
	{ "[3]", RW_EINVAL, "map: [0]: expected an object, got 3" },
	{ "[{'kind': 'TestToken', 'event': 'Transfer'}]", RW_EINVAL,
	  "map: [0]: missing key \"table\"" },
	{ "[" T_ENTRY(", 'colums': {}") "]", RW_EINVAL,
	  "map: [0]: unknown key \"colums\" (allowed: kind, event, table, columns)" },
	{ "[{'kind': 'Nope', 'event': 'Transfer', 'table': 't'}]", RW_EIO,
	  "map: [0].kind: " TEST_ABI "/Nope.json: cannot open: No such file or directory" },
	{ "[{'kind': '../abi/Weird', 'event': 'Odd', 'table': 't'}]", RW_EINVAL,
	  "map: [0].kind: expected an ABI file name ([A-Za-z0-9_]+), got \"../abi/Weird\"" },
	{ "[{'kind': 'NoAbi', 'event': 'X', 'table': 't'}]", RW_EINVAL,
	  "map: [0].kind: " TEST_ABI "/NoAbi.json has no \"abi\" array" },
	{ "[{'kind': 'Broken', 'event': 'X', 'table': 't'}]", RW_EINVAL,
	  "map: [0].kind: " TEST_ABI "/Broken.json:2:" },
	{ "[{'kind': 'Weird', 'event': 'Transfer', 'table': 't'}]", RW_EINVAL,
	  "map: [0].event: Weird has no event \"Transfer\" (it has: Odd, Dup, Dup, Anon, Sent)" },
	{ "[{'kind': 'Weird', 'event': 'Dup', 'table': 't'}]", RW_EINVAL,
	  "map: [0].event: Weird has several events named \"Dup\" (Dup(uint256), Dup(address)): "
	  "give the signature" },
	{ "[{'kind': 'Weird', 'event': 'Dup(bool)', 'table': 't'}]", RW_EINVAL,
	  "map: [0].event: Weird has no event \"Dup(bool)\"" },
	{ "[{'kind': 'Weird', 'event': 'Anon', 'table': 't'}]", RW_EINVAL,
	  "map: [0].event: Weird.Anon is anonymous" },
	{ "[{'kind': 'Weird', 'event': 'Odd', 'table': 'Ev_Odd'}]", RW_EINVAL,
	  "map: [0].table: table name \"Ev_Odd\": expected [a-z_][a-z0-9_]*, at most 63 "
	  "characters" },
	{ "[{'kind': 'Weird', 'event': 'Odd', 'table': "
	  "'t234567890123456789012345678901234567890123456789012345678901234'}]",
	  RW_EINVAL, "map: [0].table: table name \"t2345678901" },
	{ "[{'kind': 'Weird', 'event': 'Odd', 'table': 'select'}]", RW_EINVAL,
	  "map: [0].table: table name \"select\" is a reserved word in PostgreSQL" },
	{ "[{'kind': 'Weird', 'event': 'Odd', 'table': 'indexer_block'}]", RW_EINVAL,
	  "map: [0].table: table indexer_block is one of runway's own tables" },
	{ "[{'kind': 'Weird', 'event': 'Odd', 'table': 'chain'}]", RW_EINVAL,
	  "map: [0].table: table chain is one of runway's own tables" },
	{ "[{'kind': 'Weird', 'event': 'Odd', 'table': 7}]", RW_EINVAL,
	  "map: [0].table: expected a non-empty string, got 7" },
	{ "[" TRANSFER_OK ", " T_ENTRY(", 'columns': {'from': 'src', 'to': 'dst'}") "]", RW_EINVAL,
	  "map: [1]: table ev_t is already mapped by [0] (TestToken.Transfer): one table per "
	  "event" },
	{ "[" TRANSFER_OK ", {'kind': 'TestToken', 'event': 'Transfer(address,address,uint256)', "
	  "'table': 'ev_t2', 'columns': {'from': 'src', 'to': 'dst'}}]",
	  RW_EINVAL,
	  "map: [1]: TestToken.Transfer(address,address,uint256) is already mapped by [0] (table "
	  "ev_t)" },
	{ "[" T_ENTRY("") "]", RW_EINVAL,
	  "map: [0]: column name \"from\" is a reserved word in PostgreSQL (parameter "
	  "from of TestToken.Transfer; rename it in \"columns\")" },
	{ "[" T_ENTRY(", 'columns': {'from': 'src'}") "]", RW_EINVAL,
	  "map: [0]: column name \"to\" is a reserved word in PostgreSQL (parameter to of "
	  "TestToken.Transfer; rename it in \"columns\")" },
	{ "[" T_ENTRY(", 'columns': {'from': 'src', 'to': 'dst', 'amount': 'x'}") "]", RW_EINVAL,
	  "map: [0].columns: TestToken.Transfer has no parameter \"amount\" (parameters: from, to, "
	  "value)" },
	{ "[" T_ENTRY(", 'columns': {'from': 'src', 'to': 5}") "]", RW_EINVAL,
	  "map: [0].columns.to: expected a column name, got 5" },
	{ "[" T_ENTRY(", 'columns': {'from': 'src', 'to': 'Dst'}") "]", RW_EINVAL,
	  "map: [0].columns.to: column name \"Dst\": expected [a-z_][a-z0-9_]*" },
	{ "[" T_ENTRY(", 'columns': {'from': 'src', 'to': 'src'}") "]", RW_EINVAL,
	  "map: [0]: column src of parameter to is already taken by another parameter" },
	{ "[" T_ENTRY(", 'columns': {'from': 'src', 'to': 'dst', 'value': 'block_hash'}") "]",
	  RW_EINVAL,
	  "map: [0]: column block_hash of parameter value is already taken by a leading "
	  "column" },
	{ "[" T_ENTRY(", 'columns': []") "]", RW_EINVAL,
	  "map: [0].columns: expected an object of parameter: column, got an array" },
	{ "[{'kind': 'Weird', 'event': 'Sent', 'table': 'ev_s', 'columns': {'to': 'dst'}}]",
	  RW_EINVAL,
	  "map: [0]: column address of parameter address is already taken by a leading "
	  "column" },
	{ "[{'kind': 'Weird', 'event': 'Sent', 'table': 'ev_s', 'columns': {'to': 'dst', "
	  "'address': 'dest'}}]",
	  RW_EINVAL,
	  "map: [0]: column block_number of parameter blockNumber is already taken by a "
	  "leading column" },
};

static void refusals(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_maps) / sizeof(bad_maps[0]); i++) {
		struct rw_eventmap *m = NULL;
		char err[512];
		const char *abi_dir = strstr(bad_maps[i].map, "TestToken") ? ABI_DIR : TEST_ABI;
		json_t *j = doc(bad_maps[i].map);
		int r = rw_eventmap_from_json(&m, abi_dir, j, "map", err, sizeof(err));
		json_decref(j);
		if (r != bad_maps[i].code || !strstr(err, bad_maps[i].needle)) {
			rw_eventmap_free(m);
			fail_msg("map %s: got %s \"%s\", want %s \"%s\"", bad_maps[i].map,
				 rw_strerror(r), err, rw_strerror(bad_maps[i].code),
				 bad_maps[i].needle);
		}
		assert_null(m);
	}
}

static void file_errors(void **state)
{
	(void)state;
	struct rw_eventmap *m = NULL;
	char err[512], path[] = "/tmp/rw-eventmap-XXXXXX";
	assert_int_equal(
		rw_eventmap_load(&m, ABI_DIR, "/nonexistent/events.json", err, sizeof(err)),
		RW_EIO);
	assert_string_equal(err,
			    "/nonexistent/events.json: cannot open: No such file or directory");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	static const char text[] =
		"[\n  {\"kind\": \"TestToken\",\n   \"event\" \"Transfer\"}\n]\n";
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	assert_int_equal(rw_eventmap_load(&m, ABI_DIR, path, err, sizeof(err)), RW_EINVAL);
	char want[128];
	snprintf(want, sizeof(want), "%s:3:", path);
	if (!strstr(err, want) || !strstr(err, "invalid JSON"))
		fail_msg("message \"%s\" lacks %s", err, want);
	unlink(path);
	assert_null(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(transfer),     cmocka_unit_test(balance_events),
		cmocka_unit_test(project_map),  cmocka_unit_test(weird_types),
		cmocka_unit_test(schema_check), cmocka_unit_test(refusals),
		cmocka_unit_test(file_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
