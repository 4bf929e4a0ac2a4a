/* test_config.c: the configuration file (src/engine/rwconfig.c).
 *
 * A full valid file (tests/engine/data/full.json) and the shipped example
 * (deploy/runway.example.json); every refusal, from a table of small
 * inline documents, with the message each must give; environment
 * overrides; per-chain defaults; secret masking in messages and dumps;
 * the eth_chainId check. Inline documents are written with ' for " and
 * go through a temporary file, as a real one would. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "key.h"
#include "rwconfig.h"

extern char **environ;

#define DATA RUNWAY_SOURCE_ROOT "/tests/engine/data"

static char tmpdir[] = "/tmp/rw-config-XXXXXX";

/* Unsets every RUNWAY_RPC_URL_* and RUNWAY_DATABASE_URL. */
static void clean_env(void)
{
	char name[256];
	for (;;) {
		char **e = environ;
		while (*e && strncmp(*e, "RUNWAY_RPC_URL_", 15) != 0)
			e++;
		if (!*e)
			break;
		size_t n = strcspn(*e, "=");
		snprintf(name, sizeof(name), "%.*s", (int)n, *e);
		unsetenv(name);
	}
	unsetenv("RUNWAY_DATABASE_URL");
}

static int setup(void **state)
{
	(void)state;
	clean_env();
	return mkdtemp(tmpdir) ? 0 : -1;
}

/* Before each test: no overriding variables left by an earlier one. */
static int clean(void **state)
{
	(void)state;
	clean_env();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char path[256];
	snprintf(path, sizeof(path), "%s/runway.json", tmpdir);
	unlink(path);
	return rmdir(tmpdir);
}

/* Writes text (' standing for ") to <tmpdir>/runway.json; returns its path. */
static const char *write_doc(const char *text)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/runway.json", tmpdir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (const char *p = text; *p; p++)
		fputc(*p == '\'' ? '"' : *p, f);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Loads an inline document; returns the code, the config in *ret. */
static int load_doc(const char *text, struct rw_config **ret, char *err, size_t errlen)
{
	return rw_config_load(ret, write_doc(text), err, errlen);
}

/* Asserts that text is refused with code want and a message holding
 * every string of needles (NULL-terminated). */
static void refuse(const char *text, int want, const char *const *needles)
{
	struct rw_config *cfg = NULL;
	char err[512];
	int r = load_doc(text, &cfg, err, sizeof(err));
	if (r != want) {
		rw_config_free(cfg);
		fail_msg("expected %s, got %s for %s (message: %s)", rw_strerror(want),
			 rw_strerror(r), text, err);
	}
	assert_null(cfg);
	for (; *needles; needles++)
		if (!strstr(err, *needles))
			fail_msg("message \"%s\" lacks \"%s\" (document %s)", err, *needles, text);
}

#define CHAIN_HEAD       "'name': 'local', 'chain_id': 31337, 'rpc': ['http://127.0.0.1:8545']"
#define ONE_CHAIN(extra) "{'chains': [{" CHAIN_HEAD extra "}]}"
#define ADDR_A           "0x5FbDB2315678afecb367f032d93F642f64180aa3"
#define ADDR_B           "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
#define ADDR_BAD_SUM     "0x5fbDB2315678afecb367f032d93F642f64180aa3"

static void addr_is(const uint8_t got[20], const char *want)
{
	char s[43];
	rw_addr_checksum(s, got);
	assert_string_equal(s, want);
}

/* ---- valid files ------------------------------------------------------ */

static void full_file(void **state)
{
	(void)state;
	struct rw_config *cfg = NULL;
	char err[512];
	int r = rw_config_load(&cfg, DATA "/full.json", err, sizeof(err));
	if (r < 0)
		fail_msg("%s", err);
	assert_string_equal(cfg->database_url.v,
			    "postgresql://runway:s3cret@db.internal:5432/runway?sslmode=require");
	assert_int_equal(cfg->database_url.src, RW_CONFIG_FILE);
	char *abs = realpath(DATA, NULL);
	assert_non_null(abs);
	assert_string_equal(cfg->dir, abs);
	char want[4096];
	char *abi = realpath(RUNWAY_SOURCE_ROOT "/abi", NULL);
	assert_string_equal(cfg->abi_dir.v, abi);
	free(abi);
	snprintf(want, sizeof(want), "%s/events.json", abs);
	assert_string_equal(cfg->event_map.v, want);
	assert_string_equal(cfg->metrics_listen.v, "127.0.0.1:9464");
	assert_int_equal(cfg->metrics_listen.src, RW_CONFIG_FILE);
	assert_int_equal(cfg->n_chains, 2);

	const struct rw_config_chain *c = &cfg->chains[0];
	assert_string_equal(c->name, "local");
	assert_string_equal(c->rpc_env, "RUNWAY_RPC_URL_LOCAL");
	assert_int_equal(c->chain_id, 31337);
	assert_int_equal(c->n_rpc, 2);
	assert_string_equal(c->rpc[0].url.v, "http://127.0.0.1:8545");
	assert_int_equal(c->rpc[0].url.src, RW_CONFIG_FILE);
	assert_int_equal(c->rpc[0].max_concurrency.v, 8);
	assert_int_equal(c->rpc[0].max_concurrency.src, RW_CONFIG_DEFAULT);
	assert_int_equal(c->rpc[0].timeout_ms.v, 30000);
	assert_int_equal(c->rpc[1].max_concurrency.v, 4);
	assert_int_equal(c->rpc[1].max_concurrency.src, RW_CONFIG_FILE);
	assert_int_equal(c->rpc[1].max_rps.v, 25);
	assert_int_equal(c->rpc[1].timeout_ms.v, 5000);
	assert_int_equal(c->confirmations.v, 2);
	assert_int_equal(c->confirmations.src, RW_CONFIG_FILE);
	assert_int_equal(c->reorg_window.v, 32);
	assert_int_equal(c->poll_interval_ms.v, 500);
	assert_int_equal(c->start_block.v, 1);
	assert_int_equal(c->max_block_range.v, 500);

	assert_int_equal(c->n_tokens, 2);
	assert_string_equal(c->tokens[0].name.v, "USD Coin");
	assert_string_equal(c->tokens[0].symbol, "USDC");
	addr_is(c->tokens[0].address, ADDR_A);
	assert_int_equal(c->tokens[0].decimals, 6);
	assert_int_equal(c->tokens[0].watch, RW_CONFIG_WATCH_ALL);
	assert_int_equal(c->tokens[0].watch_src, RW_CONFIG_FILE);
	assert_int_equal(c->tokens[0].start_block.v, 1);
	assert_string_equal(c->tokens[1].name.v, "TT18"); /* the symbol */
	assert_int_equal(c->tokens[1].name.src, RW_CONFIG_DEFAULT);
	assert_int_equal(c->tokens[1].decimals, 18);
	assert_int_equal(c->tokens[1].watch, RW_CONFIG_WATCH_WATCHED);
	assert_int_equal(c->tokens[1].watch_src, RW_CONFIG_DEFAULT);
	assert_int_equal(c->tokens[1].start_block.v, 1); /* the chain's */
	assert_int_equal(c->tokens[1].start_block.src, RW_CONFIG_DEFAULT);

	assert_int_equal(c->n_providers, 2);
	assert_string_equal(c->providers[0].name.v, "ProviderUSDC");
	assert_int_equal(c->providers[0].start_block.v, 4);
	assert_null(c->providers[1].name.v);
	addr_is(c->providers[1].address, "0xE451980132E65465d0a498c53f0b5227326Dd73F");
	assert_int_equal(c->n_marketplaces, 1);
	assert_int_equal(c->marketplaces[0].start_block.v, 3);
	assert_int_equal(c->n_balances, 1);
	addr_is(c->balances[0].address, "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707");
	assert_int_equal(c->n_watched, 2);
	addr_is(c->watched[1], "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65");
	assert_true(c->relayer.enabled);
	snprintf(want, sizeof(want), "%s/keys/operator.json", abs);
	assert_string_equal(c->relayer.keystore, want);
	assert_null(c->relayer.passphrase_file);
	assert_string_equal(c->relayer.passphrase_env, "RUNWAY_TEST_PASSPHRASE");

	c = &cfg->chains[1];
	assert_string_equal(c->rpc_env, "RUNWAY_RPC_URL_POLYGON_AMOY");
	assert_int_equal(c->confirmations.v, 64);
	assert_int_equal(c->confirmations.src, RW_CONFIG_DEFAULT);
	assert_int_equal(c->reorg_window.v, 128);
	assert_int_equal(c->poll_interval_ms.v, 2000);
	assert_int_equal(c->start_block.v, 0);
	assert_int_equal(c->max_block_range.v, 2000);
	assert_int_equal(c->n_tokens + c->n_providers + c->n_balances + c->n_watched, 0);
	assert_false(c->relayer.enabled);
	free(abs);
	rw_config_free(cfg);
}

static void example_loads(void **state)
{
	(void)state;
	struct rw_config *cfg = NULL;
	char err[512];
	int r = rw_config_load(&cfg, RUNWAY_SOURCE_ROOT "/deploy/runway.example.json", err,
			       sizeof(err));
	if (r < 0)
		fail_msg("%s", err);
	assert_true(cfg->n_chains >= 1);
	FILE *f = fopen("/dev/null", "w");
	assert_non_null(f);
	assert_int_equal(rw_config_dump(f, cfg), 0);
	fclose(f);
	rw_config_free(cfg);
}

static void minimal_defaults(void **state)
{
	(void)state;
	struct rw_config *cfg = NULL;
	char err[512];
	int r = load_doc(ONE_CHAIN(""), &cfg, err, sizeof(err));
	if (r < 0)
		fail_msg("%s", err);
	assert_null(cfg->database_url.v);
	assert_int_equal(cfg->database_url.src, RW_CONFIG_DEFAULT);
	assert_string_equal(cfg->abi_dir.v, RUNWAY_SOURCE_ROOT "/abi");
	assert_int_equal(cfg->abi_dir.src, RW_CONFIG_DEFAULT);
	assert_string_equal(cfg->event_map.v, RUNWAY_SOURCE_ROOT "/abi/events.json");
	assert_null(cfg->metrics_listen.v);
	const struct rw_config_chain *c = &cfg->chains[0];
	assert_int_equal(c->confirmations.v, 0);
	assert_int_equal(c->reorg_window.v, 64);
	assert_int_equal(c->poll_interval_ms.v, 1000);
	assert_int_equal(c->start_block.v, 0);
	assert_int_equal(c->start_block.src, RW_CONFIG_DEFAULT);
	assert_int_equal(c->max_block_range.v, 2000);
	rw_config_free(cfg);

	/* metrics without listen takes the default address */
	r = load_doc("{'metrics': {}, 'chains': [{" CHAIN_HEAD "}]}", &cfg, err, sizeof(err));
	assert_int_equal(r, 0);
	assert_string_equal(cfg->metrics_listen.v, "127.0.0.1:9464");
	assert_int_equal(cfg->metrics_listen.src, RW_CONFIG_DEFAULT);
	rw_config_free(cfg);

	/* an empty keystore: the relayer is off, passphrase keys are allowed */
	r = load_doc(ONE_CHAIN(", 'relayer': {'keystore': '', 'passphrase_env': 'X'}"), &cfg, err,
		     sizeof(err));
	assert_int_equal(r, 0);
	assert_false(cfg->chains[0].relayer.enabled);
	rw_config_free(cfg);

	/* absolute paths stay as they are; relative ones follow the file */
	r = load_doc(
		"{'abi_dir': '/nonexistent/abi', 'event_map': 'map.json', 'chains': [{" CHAIN_HEAD
		"}]}",
		&cfg, err, sizeof(err));
	assert_int_equal(r, 0);
	assert_string_equal(cfg->abi_dir.v, "/nonexistent/abi");
	char want[512];
	char *abs = realpath(tmpdir, NULL);
	snprintf(want, sizeof(want), "%s/map.json", abs);
	assert_string_equal(cfg->event_map.v, want);
	free(abs);
	rw_config_free(cfg);
}

static void chain_defaults(void **state)
{
	(void)state;
	static const struct {
		uint64_t id, conf, window, poll;
	} cases[] = {
		{ 1, 12, 64, 6000 },      { 11155111, 12, 64, 6000 }, { 137, 64, 128, 2000 },
		{ 80002, 64, 128, 2000 }, { 10, 20, 64, 2000 },       { 8453, 20, 64, 2000 },
		{ 42161, 20, 64, 1000 },  { 31337, 0, 64, 1000 },     { 1337, 0, 64, 1000 },
		{ 999999, 12, 64, 2000 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char doc[256], err[512];
		struct rw_config *cfg = NULL;
		snprintf(doc, sizeof(doc),
			 "{'chains': [{'name': 'c', 'chain_id': %llu, 'rpc': ['http://h']}]}",
			 (unsigned long long)cases[i].id);
		int r = load_doc(doc, &cfg, err, sizeof(err));
		if (r < 0)
			fail_msg("%s", err);
		const struct rw_config_chain *c = &cfg->chains[0];
		assert_int_equal(c->confirmations.v, cases[i].conf);
		assert_int_equal(c->reorg_window.v, cases[i].window);
		assert_int_equal(c->poll_interval_ms.v, cases[i].poll);
		assert_int_equal(rw_config_default_confirmations(cases[i].id), cases[i].conf);
		assert_int_equal(rw_config_default_poll_ms(cases[i].id), cases[i].poll);
		rw_config_free(cfg);
	}
	/* a deep confirmation depth widens the default window */
	struct rw_config *cfg = NULL;
	char err[512];
	assert_int_equal(load_doc(ONE_CHAIN(", 'confirmations': 100"), &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg->chains[0].reorg_window.v, 200);
	assert_int_equal(cfg->chains[0].reorg_window.src, RW_CONFIG_DEFAULT);
	rw_config_free(cfg);
}

/* ---- refusals --------------------------------------------------------- */

struct bad {
	const char *doc;
	const char *needles[4];
};

static const struct bad bad_docs[] = {
	/* JSON and top level */
	{ "{\n  'chains': [\n    {,\n", { "runway.json:3:", "invalid JSON" } },
	{ "{'chains': [], 'chains': []}", { "runway.json:1:", "duplicate" } },
	{ "[]", { "expected a JSON object at the top, got an array" } },
	{ "{'chain': []}",
	  { "unknown key \"chain\"", "allowed: database_url, abi_dir, event_map, metrics, chains",
	    "did you mean \"chains\"?" } },
	{ "{}", { "missing key \"chains\"" } },
	{ "{'chains': []}", { "chains: expected an array of 1 to 64 chains, got 0 items" } },
	{ "{'chains': {}}", { "chains: expected an array of 1 to 64 chains, got an object" } },
	{ "{'chains': [3]}", { "chains[0]: expected an object, got 3" } },
	{ "{'abi_dir': '', 'chains': [{" CHAIN_HEAD "}]}",
	  { "abi_dir: expected a non-empty string", "got \"\"" } },
	{ "{'event_map': 5, 'chains': [{" CHAIN_HEAD "}]}", { "event_map: expected", "got 5" } },
	{ "{'metrics': {'listen': 'localhost'}, 'chains': [{" CHAIN_HEAD "}]}",
	  { "metrics.listen: expected host:port", "got \"localhost\"" } },
	{ "{'metrics': {'listen': '[::1]:70000'}, 'chains': [{" CHAIN_HEAD "}]}",
	  { "metrics.listen: expected host:port" } },
	{ "{'metrics': {'port': 1}, 'chains': [{" CHAIN_HEAD "}]}",
	  { "metrics: unknown key \"port\" (allowed: listen)" } },
	{ "{'metrics': true, 'chains': [{" CHAIN_HEAD "}]}",
	  { "metrics: expected an object, got true" } },
	/* database_url: refused, and masked */
	{ "{'database_url': 'mysql://app:hunter2@db/x', 'chains': [{" CHAIN_HEAD "}]}",
	  { "database_url: expected a postgresql:// URI or a libpq key=value string",
	    "\"mysql://app:***@db/x\"" } },
	{ "{'database_url': 42, 'chains': [{" CHAIN_HEAD "}]}",
	  { "database_url: expected", "got 42" } },
	/* chain level */
	{ ONE_CHAIN(", 'confirmation': 3"),
	  { "chains[0]: unknown key \"confirmation\"", "did you mean \"confirmations\"?" } },
	{ "{'chains': [{'chain_id': 1, 'rpc': ['http://h']}]}",
	  { "chains[0]: missing key \"name\"" } },
	{ "{'chains': [{'name': 'Local', 'chain_id': 1, 'rpc': ['http://h']}]}",
	  { "chains[0].name: expected a chain name of 1 to 32 characters from [a-z0-9_-], got "
	    "\"Local\"" } },
	{ "{'chains': [{'name': 'a b', 'chain_id': 1, 'rpc': ['http://h']}]}",
	  { "chains[0].name: expected a chain name", "\"a b\"" } },
	{ "{'chains': [{'name': '', 'chain_id': 1, 'rpc': ['http://h']}]}",
	  { "chains[0].name: expected a chain name" } },
	{ "{'chains': [{'name': 'x', 'rpc': ['http://h']}]}",
	  { "chains[0]: missing key \"chain_id\"" } },
	{ "{'chains': [{'name': 'x', 'chain_id': '1', 'rpc': ['http://h']}]}",
	  { "chains[0].chain_id: expected an integer >= 1, got \"1\"" } },
	{ "{'chains': [{'name': 'x', 'chain_id': 0, 'rpc': ['http://h']}]}",
	  { "chains[0].chain_id: expected an integer >= 1, got 0" } },
	{ "{'chains': [{'name': 'x', 'chain_id': 1.0, 'rpc': ['http://h']}]}",
	  { "chains[0].chain_id: expected an integer >= 1, got 1.0" } },
	{ "{'chains': [{" CHAIN_HEAD
	  "}, {'name': 'other', 'chain_id': 31337, 'rpc': ['http://h']}]}",
	  { "chains[1].chain_id: 31337 is already the chain_id of chains[0] (local)" } },
	{ "{'chains': [{" CHAIN_HEAD "}, {'name': 'local', 'chain_id': 1, 'rpc': ['http://h']}]}",
	  { "chains[1].name: \"local\" is already the name of chains[0]" } },
	{ "{'chains': [{'name': 'a-b', 'chain_id': 1, 'rpc': ['http://h']}, "
	  "{'name': 'a_b', 'chain_id': 2, 'rpc': ['http://h']}]}",
	  { "chains[1].name", "share the environment variable RUNWAY_RPC_URL_A_B" } },
	{ "{'chains': [{'name': 'x', 'chain_id': 1}]}",
	  { "chains[0]: missing key \"rpc\"", "RUNWAY_RPC_URL_X" } },
	{ "{'chains': [{'name': 'x', 'chain_id': 1, 'rpc': []}]}",
	  { "chains[0].rpc: expected an array of 1 to 32 endpoints, got 0 items" } },
	{ "{'chains': [{'name': 'x', 'chain_id': 1, 'rpc': 'http://h'}]}",
	  { "chains[0].rpc: expected an array", "got \"http://h\"" } },
	{ "{'chains': [{'name': 'x', 'chain_id': 1, 'rpc': ['ws://h']}]}",
	  { "chains[0].rpc[0]: expected an http:// or https:// URL, got \"ws://h\"" } },
	{ "{'chains': [{'name': 'x', 'chain_id': 1, 'rpc': ['https://u:pw@h', 'https://']}]}",
	  { "chains[0].rpc[1]: expected an http:// or https:// URL" } },
	{ "{'chains': [{'name': 'x', 'chain_id': 1, 'rpc': ['http://h', 'http://h']}]}",
	  { "chains[0].rpc: endpoints 0 and 1 are the same URL" } },
	{ "{'chains': [{'name': 'x', 'chain_id': 1, 'rpc': [{'url': 'http://h', 'max_rps': -1}]}]}",
	  { "chains[0].rpc[0].max_rps: expected an integer from 0 to 100000, got -1" } },
	{ "{'chains': [{'name': 'x', 'chain_id': 1, 'rpc': [{'url': 'http://h', 'timeout': 1}]}]}",
	  { "chains[0].rpc[0]: unknown key \"timeout\"", "did you mean \"timeout_ms\"?" } },
	{ "{'chains': [{'name': 'x', 'chain_id': 1, 'rpc': [{'max_rps': 1}]}]}",
	  { "chains[0].rpc[0]: missing key \"url\"" } },
	{ "{'chains': [{'name': 'x', 'chain_id': 1, 'rpc': [{'url': 'http://h', "
	  "'max_concurrency': 0}]}]}",
	  { "chains[0].rpc[0].max_concurrency: expected an integer from 1 to 1024, got 0" } },
	{ "{'chains': [{'name': 'x', 'chain_id': 1, 'rpc': [{'url': 7}]}]}",
	  { "chains[0].rpc[0].url: expected an http:// or https:// URL, got 7" } },
	{ "{'chains': [{'name': 'x', 'chain_id': 1, 'rpc': [true]}]}",
	  { "chains[0].rpc[0]: expected a URL string or an object with \"url\", got true" } },
	{ ONE_CHAIN(", 'confirmations': '12'"),
	  { "chains[0].confirmations: expected an integer from 0 to 10000, got \"12\"" } },
	{ ONE_CHAIN(", 'confirmations': 12.5"),
	  { "chains[0].confirmations: expected an integer from 0 to 10000, got 12.5" } },
	{ ONE_CHAIN(", 'confirmations': 12, 'reorg_window': 10"),
	  { "chains[0].reorg_window: expected at least confirmations (12), got 10" } },
	{ ONE_CHAIN(", 'poll_interval_ms': 5"),
	  { "chains[0].poll_interval_ms: expected an integer from 100 to 3600000, got 5" } },
	{ ONE_CHAIN(", 'start_block': -1"),
	  { "chains[0].start_block: expected an integer >= 0, got -1" } },
	{ ONE_CHAIN(", 'max_block_range': 0"),
	  { "chains[0].max_block_range: expected an integer from 1 to 100000, got 0" } },
	/* tokens */
	{ ONE_CHAIN(", 'tokens': [{'symbol': 'A', 'address': '" ADDR_A "', 'decimals': 6}, "
		    "{'symbol': 'B', 'address': '" ADDR_B "', 'decimals': '6'}]"),
	  { "chains[0].tokens[1].decimals: expected an integer from 0 to 77, got \"6\"" } },
	{ ONE_CHAIN(", 'tokens': [{'symbol': 'A', 'address': '" ADDR_A "', 'decimals': 78}]"),
	  { "chains[0].tokens[0].decimals: expected an integer from 0 to 77, got 78" } },
	{ ONE_CHAIN(", 'tokens': [{'symbol': 'A', 'address': '" ADDR_A "', 'decimal': 6}]"),
	  { "chains[0].tokens[0]: unknown key \"decimal\"",
	    "allowed: name, symbol, address, decimals, watch, start_block",
	    "did you mean \"decimals\"?" } },
	{ ONE_CHAIN(", 'tokens': [{'symbol': 'A', 'address': '" ADDR_A "'}]"),
	  { "chains[0].tokens[0]: missing key \"decimals\"" } },
	{ ONE_CHAIN(", 'tokens': [{'address': '" ADDR_A "', 'decimals': 6}]"),
	  { "chains[0].tokens[0]: missing key \"symbol\"" } },
	{ ONE_CHAIN(", 'tokens': [{'symbol': 'A', 'address': '0x1234', 'decimals': 6}]"),
	  { "chains[0].tokens[0].address: expected an address (\"0x\" and 40 hex digits), got "
	    "\"0x1234\"" } },
	{ ONE_CHAIN(", 'tokens': [{'symbol': 'A', 'address': '" ADDR_BAD_SUM "', 'decimals': 6}]"),
	  { "chains[0].tokens[0].address: bad EIP-55 checksum in \"" ADDR_BAD_SUM "\"" } },
	{ ONE_CHAIN(", 'tokens': [{'symbol': 'A', 'address': '" ADDR_A "', 'decimals': 6, "
		    "'watch': 'some'}]"),
	  { "chains[0].tokens[0].watch: expected \"all\" or \"watched\", got \"some\"" } },
	{ ONE_CHAIN(", 'tokens': [{'symbol': '', 'address': '" ADDR_A "', 'decimals': 6}]"),
	  { "chains[0].tokens[0].symbol: expected a non-empty string" } },
	{ ONE_CHAIN(", 'tokens': [{'symbol': 'A', 'address': '" ADDR_A "', 'decimals': 6, "
		    "'start_block': -5}]"),
	  { "chains[0].tokens[0].start_block: expected an integer >= 0, got -5" } },
	{ ONE_CHAIN(", 'tokens': {}"), { "chains[0].tokens: expected an array", "got an object" } },
	/* other contracts and addresses */
	{ ONE_CHAIN(", 'providers': [{'address': '" ADDR_A "', 'start': 1}]"),
	  { "chains[0].providers[0]: unknown key \"start\"",
	    "allowed: name, address, start_block" } },
	{ ONE_CHAIN(", 'providers': [{'name': 'p'}]"),
	  { "chains[0].providers[0]: missing key \"address\"" } },
	{ ONE_CHAIN(", 'marketplaces': ['" ADDR_A "']"),
	  { "chains[0].marketplaces[0]: expected an object, got \"" ADDR_A "\"" } },
	{ ONE_CHAIN(", 'balances': [{'address': '" ADDR_BAD_SUM "'}]"),
	  { "chains[0].balances[0].address: bad EIP-55 checksum" } },
	{ ONE_CHAIN(", 'tokens': [{'symbol': 'A', 'address': '" ADDR_A "', 'decimals': 6}], "
		    "'balances': [{'address': '0x5fbdb2315678afecb367f032d93f642f64180aa3'}]"),
	  { "chains[0].tokens[0]: address " ADDR_A
	    " is already listed at chains[0].balances[0]" } },
	{ ONE_CHAIN(", 'watched_addresses': ['" ADDR_A "', '" ADDR_B "', '" ADDR_A "']"),
	  { "chains[0].watched_addresses[2]: address " ADDR_A
	    " is already listed at chains[0].watched_addresses[0]" } },
	{ ONE_CHAIN(", 'watched_addresses': [12]"),
	  { "chains[0].watched_addresses[0]: expected an address", "got 12" } },
	/* relayer */
	{ ONE_CHAIN(", 'relayer': {'keystore': 'k.json'}"),
	  { "chains[0].relayer: a keystore needs its passphrase" } },
	{ ONE_CHAIN(", 'relayer': {'keystore': 'k.json', 'passphrase_file': 'p', "
		    "'passphrase_env': 'P'}"),
	  { "chains[0].relayer: give one of passphrase_file and passphrase_env, not both" } },
	{ ONE_CHAIN(", 'relayer': {'keystore': 'k.json', 'passphrase_env': 'BAD-NAME'}"),
	  { "chains[0].relayer.passphrase_env: expected an environment variable name" } },
	{ ONE_CHAIN(", 'relayer': {'keystore': 'k.json', 'passphrase': 'x'}"),
	  { "chains[0].relayer: unknown key \"passphrase\"",
	    "allowed: keystore, passphrase_file, passphrase_env" } },
	{ ONE_CHAIN(", 'relayer': {'keystore': 3}"),
	  { "chains[0].relayer.keystore: expected a keystore file path", "got 3" } },
	{ ONE_CHAIN(", 'relayer': {'keystore': 'k.json', 'passphrase_file': ''}"),
	  { "chains[0].relayer.passphrase_file: expected a non-empty string" } },
	{ ONE_CHAIN(", 'relayer': 'k.json'"), { "chains[0].relayer: expected an object" } },
};

static void refusals(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_docs) / sizeof(bad_docs[0]); i++) {
		const char *needles[5] = { 0 };
		memcpy(needles, bad_docs[i].needles, sizeof(bad_docs[i].needles));
		refuse(bad_docs[i].doc, RW_EINVAL, needles);
	}
}

static void file_errors(void **state)
{
	(void)state;
	struct rw_config *cfg = NULL;
	char err[512];
	assert_int_equal(rw_config_load(&cfg, "/nonexistent/runway.json", err, sizeof(err)),
			 RW_EIO);
	assert_null(cfg);
	assert_string_equal(err,
			    "/nonexistent/runway.json: cannot open: No such file or directory");
	assert_int_equal(rw_config_load(&cfg, tmpdir, err, sizeof(err)), RW_EIO);
	assert_non_null(strstr(err, "not a regular file"));
	/* a message that does not fit is cut, never overrun */
	char tiny[8];
	assert_int_equal(rw_config_load(&cfg, "/nonexistent/runway.json", tiny, sizeof(tiny)),
			 RW_EIO);
	assert_int_equal(strlen(tiny), 7);
	assert_int_equal(rw_config_load(&cfg, "/nonexistent/runway.json", NULL, 0), RW_EIO);
	/* bad JSON: line and column */
	const char *needles[] = { "runway.json:2:", "invalid JSON", NULL };
	refuse("{\n 'chains': x }", RW_EINVAL, needles);
}

/* ---- environment ------------------------------------------------------ */

static void env_overrides(void **state)
{
	(void)state;
	struct rw_config *cfg = NULL;
	char err[512];
	setenv("RUNWAY_DATABASE_URL", "postgresql://env:pw@h/db", 1);
	setenv("RUNWAY_RPC_URL_LOCAL", " http://10.0.0.1:8545 ,https://rpc.example.com/k", 1);
	int r = load_doc("{'database_url': 'postgresql://file@h/db', 'chains': [{'name': 'local', "
			 "'chain_id': 31337, 'rpc': ['http://from-file']}]}",
			 &cfg, err, sizeof(err));
	if (r < 0)
		fail_msg("%s", err);
	assert_string_equal(cfg->database_url.v, "postgresql://env:pw@h/db");
	assert_int_equal(cfg->database_url.src, RW_CONFIG_ENV);
	const struct rw_config_chain *c = &cfg->chains[0];
	assert_int_equal(c->n_rpc, 2);
	assert_string_equal(c->rpc[0].url.v, "http://10.0.0.1:8545");
	assert_string_equal(c->rpc[1].url.v, "https://rpc.example.com/k");
	assert_int_equal(c->rpc[1].url.src, RW_CONFIG_ENV);
	assert_int_equal(c->rpc[1].max_concurrency.v, 8);
	assert_int_equal(c->rpc[1].max_concurrency.src, RW_CONFIG_DEFAULT);
	rw_config_free(cfg);

	/* with the variable set, the file may leave "rpc" out */
	r = load_doc("{'chains': [{'name': 'local', 'chain_id': 31337}]}", &cfg, err, sizeof(err));
	if (r < 0)
		fail_msg("%s", err);
	assert_int_equal(cfg->chains[0].n_rpc, 2);
	rw_config_free(cfg);

	/* but the file is still checked */
	const char *n1[] = { "chains[0].rpc[0]: expected an http:// or https:// URL", NULL };
	refuse("{'chains': [{'name': 'local', 'chain_id': 31337, 'rpc': ['ftp://x']}]}", RW_EINVAL,
	       n1);

	/* bad values in the environment name the variable, secrets masked */
	setenv("RUNWAY_RPC_URL_LOCAL", "http://a,,http://b", 1);
	const char *n2[] = { "RUNWAY_RPC_URL_LOCAL (environment): URL 2: expected an http:// or "
			     "https:// URL, got \"\"",
			     NULL };
	refuse(ONE_CHAIN(""), RW_EINVAL, n2);
	setenv("RUNWAY_RPC_URL_LOCAL", "http://a,ws://user:topsecret@b", 1);
	const char *n3[] = { "URL 2", "ws://user:***@b", NULL };
	refuse(ONE_CHAIN(""), RW_EINVAL, n3);
	setenv("RUNWAY_RPC_URL_LOCAL", "http://a,http://a", 1);
	const char *n4[] = {
		"RUNWAY_RPC_URL_LOCAL (environment): endpoints 0 and 1 are the same URL", NULL
	};
	refuse(ONE_CHAIN(""), RW_EINVAL, n4);
	unsetenv("RUNWAY_RPC_URL_LOCAL");

	setenv("RUNWAY_DATABASE_URL", "mysql://root:hunter2@db/x", 1);
	const char *n5[] = { "RUNWAY_DATABASE_URL (environment): expected a postgresql:// URI",
			     "mysql://root:***@db/x", NULL };
	refuse(ONE_CHAIN(""), RW_EINVAL, n5);
	struct rw_config *none = NULL;
	load_doc(ONE_CHAIN(""), &none, err, sizeof(err));
	assert_null(strstr(err, "hunter2"));
	unsetenv("RUNWAY_DATABASE_URL");

	/* an empty variable counts as unset */
	setenv("RUNWAY_DATABASE_URL", "", 1);
	setenv("RUNWAY_RPC_URL_LOCAL", "", 1);
	assert_int_equal(load_doc(ONE_CHAIN(""), &cfg, err, sizeof(err)), 0);
	assert_null(cfg->database_url.v);
	assert_int_equal(cfg->chains[0].rpc[0].url.src, RW_CONFIG_FILE);
	rw_config_free(cfg);
	unsetenv("RUNWAY_DATABASE_URL");
	unsetenv("RUNWAY_RPC_URL_LOCAL");

	/* a variable for no configured chain is a typo */
	setenv("RUNWAY_RPC_URL_LOKAL", "http://x", 1);
	const char *n6[] = { "RUNWAY_RPC_URL_LOKAL (environment): no chain of",
			     "expected one of: RUNWAY_RPC_URL_LOCAL", NULL };
	refuse(ONE_CHAIN(""), RW_EINVAL, n6);
	unsetenv("RUNWAY_RPC_URL_LOKAL");
}

/* ---- secrets, dump, chain id ------------------------------------------ */

static void mask_cases(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{ "postgresql://runway:s3cret@db:5432/runway",
		  "postgresql://runway:***@db:5432/runway" },
		{ "postgresql://runway@db/runway", "postgresql://runway@db/runway" },
		{ "postgresql://u:p%40ss@h1:5432,h2:5433/db?sslmode=require&password=x",
		  "postgresql://u:***@h1:5432,h2:5433/db?sslmode=require&password=***" },
		{ "postgresql://u:pa/ss@host/db", "postgresql://u:***@host/db" },
		{ "host=db user=runway password=s3cret dbname=runway",
		  "host=db user=runway password=*** dbname=runway" },
		{ "host=db password = 'a b\\' c' sslpassword=x port=5432",
		  "host=db password=*** sslpassword=*** port=5432" },
		{ "host=db password='unterminated", "host=db ***" },
		{ "https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef",
		  "https://mainnet.infura.io/v3/***" },
		{ "https://eth-mainnet.g.alchemy.com/v2/AbCdEfGhIjKlMnOpQrStUvWxYz_-1234",
		  "https://eth-mainnet.g.alchemy.com/v2/***" },
		{ "https://rpc.example.com/?apikey=abc&chain=1",
		  "https://rpc.example.com/?apikey=***&chain=1" },
		{ "http://127.0.0.1:8545", "http://127.0.0.1:8545" },
		{ "https://u:pw@node.example.com/rpc#frag",
		  "https://u:***@node.example.com/rpc#frag" },
		{ "plain", "plain" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *m = rw_config_mask(cases[i][0]);
		assert_non_null(m);
		assert_string_equal(m, cases[i][1]);
		free(m);
	}
	char *m = rw_config_mask(NULL);
	assert_string_equal(m, "(unset)");
	free(m);
}

/* Dumps cfg into a heap string. */
static char *dump_text(const struct rw_config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(rw_config_dump(f, cfg), 0);
	fclose(f);
	return text;
}

static void dump(void **state)
{
	(void)state;
	struct rw_config *cfg = NULL;
	char err[512];
	setenv("RUNWAY_RPC_URL_POLYGON_AMOY",
	       "https://amoy.example.net/v2/ZZZZZZZZZZZZZZZZZZZZZZZZ", 1);
	int r = rw_config_load(&cfg, DATA "/full.json", err, sizeof(err));
	unsetenv("RUNWAY_RPC_URL_POLYGON_AMOY");
	if (r < 0)
		fail_msg("%s", err);
	char *text = dump_text(cfg);
	static const char *const want[] = {
		"database_url = "
		"\"postgresql://runway:***@db.internal:5432/runway?sslmode=require\"  # file\n",
		"metrics.listen = \"127.0.0.1:9464\"  # file\n",
		"chains[0].name = \"local\"  # file\n",
		"chains[0].chain_id = 31337  # file\n",
		"chains[0].rpc[0].url = \"http://127.0.0.1:8545\"  # file\n",
		"chains[0].rpc[0].max_concurrency = 8  # default\n",
		"chains[0].rpc[1].max_rps = 25  # file\n",
		"chains[0].confirmations = 2  # file\n",
		"chains[0].tokens[0].address = 0x5FbDB2315678afecb367f032d93F642f64180aa3  # "
		"file\n",
		"chains[0].tokens[0].decimals = 6  # file\n",
		"chains[0].tokens[0].watch = \"all\"  # file\n",
		"chains[0].tokens[1].name = \"TT18\"  # default (the symbol)\n",
		"chains[0].tokens[1].watch = \"watched\"  # default\n",
		"chains[0].tokens[1].start_block = 1  # default (the chain's start_block)\n",
		"chains[0].providers[1].name = (unset)  # default\n",
		"chains[0].watched_addresses[1] = 0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65  # "
		"file\n",
		"chains[0].relayer.passphrase_env = \"RUNWAY_TEST_PASSPHRASE\"  # file\n",
		"chains[1].rpc[0].url = \"https://amoy.example.net/v2/***\"  # env "
		"RUNWAY_RPC_URL_POLYGON_AMOY\n",
		"chains[1].confirmations = 64  # default (chain id 80002)\n",
		"chains[1].reorg_window = 128  # default (max(2 * confirmations, 64))\n",
		"chains[1].relayer.keystore = (unset)  # no relayer on this chain\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(text, want[i]))
			fail_msg("dump lacks: %sdump:\n%s", want[i], text);
	assert_null(strstr(text, "s3cret"));
	assert_null(strstr(text, "ZZZZ"));
	free(text);
	rw_config_free(cfg);

	/* environment database URL, masked, named */
	setenv("RUNWAY_DATABASE_URL", "host=db password=topsecret", 1);
	assert_int_equal(load_doc(ONE_CHAIN(""), &cfg, err, sizeof(err)), 0);
	unsetenv("RUNWAY_DATABASE_URL");
	text = dump_text(cfg);
	assert_non_null(strstr(
		text, "database_url = \"host=db password=***\"  # env RUNWAY_DATABASE_URL\n"));
	assert_non_null(strstr(text, "abi_dir = \"" RUNWAY_SOURCE_ROOT "/abi\"  # default\n"));
	assert_null(strstr(text, "topsecret"));
	free(text);
	rw_config_free(cfg);
}

static void chain_id_check(void **state)
{
	(void)state;
	struct rw_config *cfg = NULL;
	char err[512];
	assert_int_equal(load_doc(ONE_CHAIN(""), &cfg, err, sizeof(err)), 0);
	const struct rw_config_chain *c = &cfg->chains[0];
	assert_int_equal(
		rw_config_check_chain_id(c, "http://127.0.0.1:8545", "0x7a69", err, sizeof(err)),
		0);
	assert_int_equal(rw_config_check_chain_id(c, "https://u:pw@h/x", "0x1", err, sizeof(err)),
			 RW_EINVAL);
	assert_string_equal(err, "chains[0] (local): chain_id is 31337 in the configuration but "
				 "https://u:***@h/x serves chain 1 (eth_chainId 0x1): a wrong RPC "
				 "URL or chain_id");
	assert_int_equal(rw_config_check_chain_id(c, "http://h", "0x07a69", err, sizeof(err)),
			 RW_EINVAL);
	assert_string_equal(err, "chains[0] (local): http://h answered eth_chainId with "
				 "\"0x07a69\", not a chain id");
	assert_int_equal(rw_config_check_chain_id(c, "http://h", NULL, err, sizeof(err)),
			 RW_EINVAL);
	rw_config_free(cfg);
	assert_null(rw_config_free(NULL));
	assert_string_equal(rw_config_src_name(RW_CONFIG_ENV), "env");
}

/* ---- tools/devnet-config's output (test_config FILE) ------------------ */

static const char *devnet_file;

static void devnet_config(void **state)
{
	(void)state;
	struct rw_config *cfg = NULL;
	char err[512];
	int r = rw_config_load(&cfg, devnet_file, err, sizeof(err));
	if (r < 0)
		fail_msg("%s", err);
	assert_int_equal(cfg->n_chains, 1);
	const struct rw_config_chain *c = &cfg->chains[0];
	assert_string_equal(c->name, "local");
	assert_int_equal(c->chain_id, 31337);
	assert_int_equal(c->n_rpc, 1);
	assert_int_equal(c->confirmations.v, 0);
	assert_int_equal(c->n_tokens, 2);
	assert_int_equal(c->tokens[0].decimals, 6);
	assert_int_equal(c->tokens[1].decimals, 18);
	assert_int_equal(c->tokens[0].watch, RW_CONFIG_WATCH_ALL);
	assert_int_equal(c->n_providers, 2);
	assert_int_equal(c->n_marketplaces, 1);
	assert_int_equal(c->n_balances, 1);
	addr_is(c->balances[0].address, "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707");
	assert_int_equal(c->balances[0].start_block.v, 6);
	assert_true(c->n_watched >= 3);
	assert_false(c->relayer.enabled);
	rw_config_free(cfg);
}

/* ---- relayer tuning keys ---- */

#define RELAYER(extra)                                                                             \
	ONE_CHAIN(", 'relayer': {'keystore': 'k.json', 'passphrase_env': 'P'" extra "}")

/* Every tuning key: a valid value is read with its origin; an absent one
 * stays default (0). */
static void relayer_tuning_valid(void **state)
{
	(void)state;
	struct rw_config *cfg = NULL;
	char err[512];
	int r = load_doc(RELAYER(", 'fee_cap': '500000000000000000000000000000', 'min_tip': 7, "
				 "'max_inflight': 4, 'stuck_blocks': 5, 'stuck_ms': 2000, "
				 "'rebroadcast_ms': 3000, 'gap_grace_ms': 4000, "
				 "'warn_balance': '1000000000000000000', 'warn_days': 30, "
				 "'legacy': true"),
			 &cfg, err, sizeof(err));
	if (r != 0)
		fail_msg("refused: %s", err);
	const struct rw_config_relayer *rl = &cfg->chains[0].relayer;
	char dec[RW_U256_DEC_MAX];
	rw_u256_format_dec(dec, &rl->fee_cap.v);
	assert_string_equal(dec, "500000000000000000000000000000");
	assert_int_equal(rl->fee_cap.src, RW_CONFIG_FILE);
	rw_u256_format_dec(dec, &rl->min_tip.v);
	assert_string_equal(dec, "7");
	assert_int_equal(rl->min_tip.src, RW_CONFIG_FILE);
	rw_u256_format_dec(dec, &rl->warn_balance.v);
	assert_string_equal(dec, "1000000000000000000");
	assert_int_equal(rl->warn_balance.src, RW_CONFIG_FILE);
	assert_int_equal(rl->max_inflight.v, 4);
	assert_int_equal(rl->stuck_blocks.v, 5);
	assert_int_equal(rl->stuck_ms.v, 2000);
	assert_int_equal(rl->rebroadcast_ms.v, 3000);
	assert_int_equal(rl->gap_grace_ms.v, 4000);
	assert_int_equal(rl->warn_days.v, 30);
	assert_int_equal(rl->legacy.v, 1);
	assert_int_equal(rl->legacy.src, RW_CONFIG_FILE);
	assert_int_equal(rl->warn_days.src, RW_CONFIG_FILE);
	/* the dump shows what the file set */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(rw_config_dump(f, cfg), 0);
	fclose(f);
	assert_non_null(strstr(
		text, "chains[0].relayer.fee_cap = \"500000000000000000000000000000\"  # file"));
	assert_non_null(strstr(text, "chains[0].relayer.max_inflight = 4  # file"));
	assert_non_null(strstr(text, "chains[0].relayer.legacy = true  # file"));
	free(text);
	rw_config_free(cfg);

	/* zero where zero means something; false; absent keys stay default */
	r = load_doc(RELAYER(", 'min_tip': '0', 'warn_balance': 0, 'legacy': false"), &cfg, err,
		     sizeof(err));
	if (r != 0)
		fail_msg("refused: %s", err);
	rl = &cfg->chains[0].relayer;
	assert_true(rw_u256_is_zero(&rl->min_tip.v));
	assert_int_equal(rl->min_tip.src, RW_CONFIG_FILE);
	assert_int_equal(rl->warn_balance.src, RW_CONFIG_FILE);
	assert_int_equal(rl->legacy.v, 0);
	assert_int_equal(rl->legacy.src, RW_CONFIG_FILE);
	assert_int_equal(rl->fee_cap.src, RW_CONFIG_DEFAULT);
	assert_int_equal(rl->max_inflight.src, RW_CONFIG_DEFAULT);
	assert_int_equal(rl->max_inflight.v, 0);
	rw_config_free(cfg);
}

/* Every tuning key: a wrong type and a value out of range, named by path. */
static const struct {
	const char *doc;
	const char *needles[3];
} bad_tuning[] = {
	{ RELAYER(", 'fee_cap': 1.5"),
	  { "chains[0].relayer.fee_cap: expected an amount in wei from 1", "got 1.5" } },
	{ RELAYER(", 'fee_cap': 0"),
	  { "chains[0].relayer.fee_cap: expected an amount in wei from 1", "got 0" } },
	{ RELAYER(", 'fee_cap': '1e9'"),
	  { "chains[0].relayer.fee_cap: expected an amount in wei", "got \"1e9\"" } },
	{ RELAYER(", 'fee_cap': "
		  "'115792089237316195423570985008687907853269984665640564039457584007913129639936"
		  "'"),
	  { "chains[0].relayer.fee_cap: expected an amount in wei from 1 to 2^256-1" } },
	{ RELAYER(", 'min_tip': true"),
	  { "chains[0].relayer.min_tip: expected an amount in wei from 0", "got true" } },
	{ RELAYER(", 'min_tip': -1"),
	  { "chains[0].relayer.min_tip: expected an amount in wei from 0", "got -1" } },
	{ RELAYER(", 'warn_balance': {}"),
	  { "chains[0].relayer.warn_balance: expected an amount in wei", "got an object" } },
	{ RELAYER(", 'warn_balance': '-5'"),
	  { "chains[0].relayer.warn_balance: expected an amount in wei", "got \"-5\"" } },
	{ RELAYER(", 'max_inflight': '4'"),
	  { "chains[0].relayer.max_inflight: expected an integer from 1 to 1024", "got \"4\"" } },
	{ RELAYER(", 'max_inflight': 0"),
	  { "chains[0].relayer.max_inflight: expected an integer from 1 to 1024, got 0" } },
	{ RELAYER(", 'max_inflight': 1025"),
	  { "chains[0].relayer.max_inflight: expected an integer from 1 to 1024, got 1025" } },
	{ RELAYER(", 'stuck_blocks': 2.0"),
	  { "chains[0].relayer.stuck_blocks: expected an integer from 1 to 100000" } },
	{ RELAYER(", 'stuck_blocks': 0"),
	  { "chains[0].relayer.stuck_blocks: expected an integer from 1 to 100000, got 0" } },
	{ RELAYER(", 'stuck_ms': null"),
	  { "chains[0].relayer.stuck_ms: expected an integer from 1000 to 86400000" } },
	{ RELAYER(", 'stuck_ms': 999"),
	  { "chains[0].relayer.stuck_ms: expected an integer from 1000 to 86400000, got 999" } },
	{ RELAYER(", 'rebroadcast_ms': '15000'"),
	  { "chains[0].relayer.rebroadcast_ms: expected an integer from 1000 to 86400000" } },
	{ RELAYER(", 'rebroadcast_ms': 86400001"),
	  { "chains[0].relayer.rebroadcast_ms: expected an integer from 1000 to 86400000, got "
	    "86400001" } },
	{ RELAYER(", 'gap_grace_ms': []"),
	  { "chains[0].relayer.gap_grace_ms: expected an integer from 1000 to 86400000" } },
	{ RELAYER(", 'gap_grace_ms': 10"),
	  { "chains[0].relayer.gap_grace_ms: expected an integer from 1000 to 86400000, got 10" } },
	{ RELAYER(", 'warn_days': false"),
	  { "chains[0].relayer.warn_days: expected an integer from 1 to 3650" } },
	{ RELAYER(", 'warn_days': 3651"),
	  { "chains[0].relayer.warn_days: expected an integer from 1 to 3650, got 3651" } },
	{ RELAYER(", 'legacy': 1"), { "chains[0].relayer.legacy: expected true or false, got 1" } },
	{ RELAYER(", 'legacy': 'yes'"),
	  { "chains[0].relayer.legacy: expected true or false, got \"yes\"" } },
	{ RELAYER(", 'fee_caps': 1"), { "chains[0].relayer: unknown key \"fee_caps\"", "legacy" } },
};

static void relayer_tuning_refusals(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_tuning) / sizeof(bad_tuning[0]); i++) {
		const char *needles[4] = { 0 };
		memcpy(needles, bad_tuning[i].needles, sizeof(bad_tuning[i].needles));
		refuse(bad_tuning[i].doc, RW_EINVAL, needles);
	}
}

/* ---- scheduler keys ---- */

#define BALANCES                ", 'balances': [{'address': '" ADDR_A "'}]"
#define SCHEDULER(extra, sched) ONE_CHAIN(extra ", 'scheduler': {" sched "}")

/* Defaults, every key read with its origin, on/off by relayer and balances,
 * and the dump. */
static void scheduler_valid(void **state)
{
	(void)state;
	struct rw_config *cfg = NULL;
	char err[512];
	/* absent: defaults; off without a relayer */
	int r = load_doc(ONE_CHAIN(BALANCES), &cfg, err, sizeof(err));
	if (r != 0)
		fail_msg("refused: %s", err);
	const struct rw_config_scheduler *sc = &cfg->chains[0].scheduler;
	assert_int_equal(sc->enabled.v, 1);
	assert_int_equal(sc->enabled.src, RW_CONFIG_DEFAULT);
	assert_int_equal(sc->batch_size.v, 50);
	assert_int_equal(sc->batch_gas.v, 3000000);
	assert_int_equal(sc->refill_every.v, 3600);
	assert_int_equal(sc->max_batches.v, 100);
	assert_int_equal(sc->max_batches.src, RW_CONFIG_DEFAULT);
	assert_false(rw_config_scheduler_on(&cfg->chains[0]));
	rw_config_free(cfg);

	/* a relayer and a Balance contract: on; every key from the file */
	r = load_doc(SCHEDULER(BALANCES
			       ", 'relayer': {'keystore': 'k.json', 'passphrase_env': 'P'}",
			       "'enabled': true, 'batch_size': 7, 'batch_gas': 100000, "
			       "'refill_every': 60, 'max_batches': 1000"),
		     &cfg, err, sizeof(err));
	if (r != 0)
		fail_msg("refused: %s", err);
	sc = &cfg->chains[0].scheduler;
	assert_true(rw_config_scheduler_on(&cfg->chains[0]));
	assert_int_equal(sc->enabled.src, RW_CONFIG_FILE);
	assert_int_equal(sc->batch_size.v, 7);
	assert_int_equal(sc->batch_size.src, RW_CONFIG_FILE);
	assert_int_equal(sc->batch_gas.v, 100000);
	assert_int_equal(sc->refill_every.v, 60);
	assert_int_equal(sc->max_batches.v, 1000);
	char *text = dump_text(cfg);
	assert_non_null(strstr(text, "chains[0].scheduler.enabled = true  # file\n"));
	assert_non_null(strstr(text, "chains[0].scheduler.batch_size = 7  # file\n"));
	assert_non_null(strstr(text, "chains[0].scheduler.refill_every = 60  # file\n"));
	free(text);
	rw_config_free(cfg);

	/* switched off by hand: allowed anywhere */
	r = load_doc(SCHEDULER(BALANCES
			       ", 'relayer': {'keystore': 'k.json', 'passphrase_env': 'P'}",
			       "'enabled': false"),
		     &cfg, err, sizeof(err));
	if (r != 0)
		fail_msg("refused: %s", err);
	assert_false(rw_config_scheduler_on(&cfg->chains[0]));
	text = dump_text(cfg);
	assert_non_null(strstr(text, "chains[0].scheduler.enabled = false  # file\n"));
	assert_non_null(strstr(text, "chains[0].scheduler.max_batches = 100  # default\n"));
	free(text);
	rw_config_free(cfg);
	r = load_doc(SCHEDULER("", "'enabled': false"), &cfg, err, sizeof(err));
	if (r != 0)
		fail_msg("refused: %s", err);
	text = dump_text(cfg);
	assert_non_null(strstr(text, "chains[0].scheduler.enabled = false  # file\n"));
	free(text);
	rw_config_free(cfg);

	/* on by default but nothing to run on: the dump says why */
	r = load_doc(ONE_CHAIN(""), &cfg, err, sizeof(err));
	if (r != 0)
		fail_msg("refused: %s", err);
	text = dump_text(cfg);
	assert_non_null(strstr(text, "chains[0].scheduler.enabled = true  # default (not run: no "
				     "relayer or no Balance contract)\n"));
	free(text);
	rw_config_free(cfg);
}

#define RELAYER_BAL ", 'relayer': {'keystore': 'k.json', 'passphrase_env': 'P'}" BALANCES

/* Every key: a wrong type and a value out of range, named by path; enabled
 * without a relayer or a Balance contract. */
static const struct {
	const char *doc;
	const char *needles[3];
} bad_scheduler[] = {
	{ SCHEDULER(RELAYER_BAL, "'batch_size': 0"),
	  { "chains[0].scheduler.batch_size: expected an integer from 1 to 1000, got 0" } },
	{ SCHEDULER(RELAYER_BAL, "'batch_size': 1001"),
	  { "chains[0].scheduler.batch_size: expected an integer from 1 to 1000, got 1001" } },
	{ SCHEDULER(RELAYER_BAL, "'batch_size': '50'"),
	  { "chains[0].scheduler.batch_size: expected an integer", "got \"50\"" } },
	{ SCHEDULER(RELAYER_BAL, "'batch_gas': 99999"),
	  { "chains[0].scheduler.batch_gas: expected an integer from 100000 to 100000000, got "
	    "99999" } },
	{ SCHEDULER(RELAYER_BAL, "'batch_gas': 1.5e6"),
	  { "chains[0].scheduler.batch_gas: expected an integer from 100000 to 100000000" } },
	{ SCHEDULER(RELAYER_BAL, "'refill_every': 59"),
	  { "chains[0].scheduler.refill_every: expected an integer from 60 to 31536000, got 59" } },
	{ SCHEDULER(RELAYER_BAL, "'refill_every': 31536001"),
	  { "chains[0].scheduler.refill_every: expected an integer from 60 to 31536000" } },
	{ SCHEDULER(RELAYER_BAL, "'max_batches': 0"),
	  { "chains[0].scheduler.max_batches: expected an integer from 1 to 1000, got 0" } },
	{ SCHEDULER(RELAYER_BAL, "'max_batches': null"),
	  { "chains[0].scheduler.max_batches: expected an integer from 1 to 1000, got null" } },
	{ SCHEDULER(RELAYER_BAL, "'enabled': 1"),
	  { "chains[0].scheduler.enabled: expected true or false, got 1" } },
	{ SCHEDULER(RELAYER_BAL, "'batchsize': 5"),
	  { "chains[0].scheduler: unknown key \"batchsize\"", "did you mean \"batch_size\"" } },
	{ ONE_CHAIN(RELAYER_BAL ", 'scheduler': true"),
	  { "chains[0].scheduler: expected an object" } },
	{ SCHEDULER(BALANCES, "'enabled': true"),
	  { "chains[0].scheduler.enabled: the scheduler files intents for the chain's relayer",
	    "no relayer" } },
	{ SCHEDULER(", 'relayer': {'keystore': 'k.json', 'passphrase_env': 'P'}",
		    "'enabled': true"),
	  { "chains[0].scheduler.enabled:", "no Balance contract" } },
};

static void scheduler_refusals(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_scheduler) / sizeof(bad_scheduler[0]); i++) {
		const char *needles[4] = { 0 };
		memcpy(needles, bad_scheduler[i].needles, sizeof(bad_scheduler[i].needles));
		refuse(bad_scheduler[i].doc, RW_EINVAL, needles);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		devnet_file = argv[1];
		const struct CMUnitTest one[] = { cmocka_unit_test_setup(devnet_config, clean) };
		return cmocka_run_group_tests(one, setup, teardown);
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(full_file, clean),
		cmocka_unit_test_setup(example_loads, clean),
		cmocka_unit_test_setup(minimal_defaults, clean),
		cmocka_unit_test_setup(chain_defaults, clean),
		cmocka_unit_test_setup(refusals, clean),
		cmocka_unit_test_setup(file_errors, clean),
		cmocka_unit_test_setup(env_overrides, clean),
		cmocka_unit_test_setup(mask_cases, clean),
		cmocka_unit_test_setup(dump, clean),
		cmocka_unit_test_setup(chain_id_check, clean),
		cmocka_unit_test_setup(relayer_tuning_valid, clean),
		cmocka_unit_test_setup(relayer_tuning_refusals, clean),
		cmocka_unit_test_setup(scheduler_valid, clean),
		cmocka_unit_test_setup(scheduler_refusals, clean),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
