/* relayer_driver.c: runs the relayer engine for one chain of a
 * configuration file, as runwayd will, for the relayer tests
 * (the .test.mjs files of tests/relayer). It stops cleanly on SIGTERM or SIGINT
 * (exit 0), and can kill itself with SIGKILL at a chosen point of a round
 * (--crash-at STEP[:N]) so that tests can crash it between any two steps.
 *
 * Usage: relayer_driver --config FILE [--chain NAME] [--key-file FILE]
 *                       [--database-url URL] [tuning options]
 * The key comes from the chain's relayer keystore (with its passphrase) or,
 * for tests, from --key-file (a 0x-hex private key). Every tuning option
 * overrides one field of struct rw_relayer_opts. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "buf.h"
#include "err.h"
#include "hex.h"
#include "key.h"
#include "pg.h"
#include "relayer.h"
#include "rpc.h"
#include "rwconfig.h"

struct driver {
	uv_loop_t loop;
	struct rw_config *cfg;
	const struct rw_config_chain *chain;
	struct rw_rpc *rpc;
	struct rw_pg *pg;
	struct rw_relayer *rl;
	struct rw_relayer_errors *errors;
	uv_signal_t sigterm, sigint;
	uv_timer_t metrics_timer;
	const char *metrics_file;
	int crash_step;
	unsigned crash_n;
	unsigned crash_seen;
	int stopping;
	int exit_code;
};

static struct driver D;

static void usage(void)
{
	fprintf(stderr,
		"usage: relayer_driver --config FILE [--chain NAME] [--key-file FILE]\n"
		"  [--database-url URL] [--abi-dir DIR] [--max-inflight N] [--fee-cap WEI]\n"
		"  [--min-tip WEI] [--stuck-blocks N] [--stuck-ms MS] [--rebroadcast-ms MS]\n"
		"  [--poll-ms MS] [--gap-grace-ms MS] [--warn-balance WEI] [--base-fee-pct N]\n"
		"  [--confirmations N] [--estimate-retries N] [--estimate-retry-ms MS] [--legacy]\n"
		"  [--crash-at STEP[:N]] [--metrics-file FILE] [--log-level debug|info|warn]\n");
}

static int parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end)
		return -1;
	*ret = v;
	return 0;
}

static int parse_wei(const char *s, rw_u256 *ret)
{
	return rw_u256_parse_dec(ret, s, strlen(s)) < 0 ? -1 : 0;
}

static int parse_crash(const char *s)
{
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	D.crash_n = 1;
	if (colon) {
		uint64_t k;
		if (parse_u64(colon + 1, &k) < 0 || k == 0)
			return -1;
		D.crash_n = (unsigned)k;
	}
	for (int i = 0; i < RW_RELAYER_STEP_COUNT; i++) {
		const char *name = rw_relayer_step_name((enum rw_relayer_step)i);
		if (strlen(name) == n && strncmp(name, s, n) == 0) {
			D.crash_step = i;
			return 0;
		}
	}
	return -1;
}

/* The test hook: dies like kill -9 at the chosen step. */
static void on_step(enum rw_relayer_step step, void *arg)
{
	if ((int)step != D.crash_step || ++D.crash_seen < D.crash_n)
		return;
	fprintf(stderr, "relayer_driver: crashing at %s (%u)\n", rw_relayer_step_name(step),
		D.crash_seen);
	raise(SIGKILL);
}

static void write_metrics(void)
{
	if (!D.metrics_file || !D.rl)
		return;
	struct rw_buf b;
	rw_buf_init(&b, (size_t)1 << 20);
	if (rw_relayer_metrics(&b, D.rl, 1) == 0) {
		char tmp[4096];
		snprintf(tmp, sizeof(tmp), "%s.tmp", D.metrics_file);
		FILE *f = fopen(tmp, "w");
		if (f) {
			fwrite(b.p, 1, b.len, f);
			fclose(f);
			rename(tmp, D.metrics_file);
		}
	}
	rw_buf_free(&b);
}

static void on_metrics_timer(uv_timer_t *t)
{
	write_metrics();
}

static void on_pg_closed(void *arg)
{
	D.pg = NULL;
}

static void on_rpc_closed(void *arg)
{
	D.rpc = NULL;
}

static void on_stopped(void *arg)
{
	write_metrics();
	if (D.rpc)
		rw_rpc_close(D.rpc, on_rpc_closed, NULL);
	if (D.pg)
		rw_pg_close(D.pg, on_pg_closed, NULL);
}

static void stop(void)
{
	if (D.stopping)
		return;
	D.stopping = 1;
	uv_close((uv_handle_t *)&D.sigterm, NULL);
	uv_close((uv_handle_t *)&D.sigint, NULL);
	uv_close((uv_handle_t *)&D.metrics_timer, NULL);
	if (!D.rl || rw_relayer_stop(D.rl, on_stopped, NULL) < 0)
		on_stopped(NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
	fprintf(stderr, "relayer_driver: signal %d, stopping\n", signum);
	stop();
}

static int load_key(uint8_t sk[32], const char *key_file)
{
	char err[RW_CONFIG_ERRLEN];
	if (!key_file) {
		int r = rw_relayer_key_load(sk, &D.chain->relayer, err, sizeof(err));
		if (r < 0)
			fprintf(stderr, "relayer_driver: %s\n", err);
		return r;
	}
	FILE *f = fopen(key_file, "r");
	char text[200] = { 0 };
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	if (f)
		fclose(f);
	while (n && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
		n--;
	int r = rw_hex_decode_fixed(sk, 32, text, n, RW_HEX_PREFIX_OPTIONAL);
	rw_wipe(text, sizeof(text));
	if (r < 0)
		fprintf(stderr, "relayer_driver: %s: not a 0x-hex private key\n", key_file);
	return r;
}

static int open_clients(const char *database_url)
{
	int r = rw_rpc_new(&D.rpc, &D.loop, NULL);
	for (size_t i = 0; r == 0 && i < D.chain->n_rpc; i++) {
		struct rw_rpc_endpoint_opts eo = {
			.url = D.chain->rpc[i].url.v,
			.timeout_ms = D.chain->rpc[i].timeout_ms.v,
		};
		r = rw_rpc_add_endpoint(D.rpc, &eo);
		r = r < 0 ? r : 0;
	}
	if (r < 0) {
		fprintf(stderr, "relayer_driver: rpc: %s\n", rw_strerror(r));
		return r;
	}
	char msg[512];
	struct rw_pg_config pc = { .conninfo = rw_pg_conninfo(database_url) };
	if (!pc.conninfo && D.cfg->database_url.v)
		pc.conninfo = D.cfg->database_url.v;
	r = rw_pg_open(&D.pg, &D.loop, &pc, msg, sizeof(msg));
	if (r < 0)
		fprintf(stderr, "relayer_driver: database: %s\n", msg);
	return r;
}

/* Applies one tuning option at argv[*i]; returns 1 when it was one, 0 when
 * not, -1 on a bad value. */
static int tuning(struct rw_relayer_opts *o, int argc, char **argv, int *i, const char **abi_dir,
		  enum rw_relayer_level *level)
{
	const char *a = argv[*i];
	if (strcmp(a, "--legacy") == 0) {
		o->legacy = 1;
		return 1;
	}
	if (*i + 1 >= argc)
		return 0;
	const char *v = argv[*i + 1];
	uint64_t u = 0;
	int bad = 0;
	if (strcmp(a, "--max-inflight") == 0)
		bad = parse_u64(v, &u) < 0 || !(o->max_inflight = (unsigned)u);
	else if (strcmp(a, "--fee-cap") == 0)
		bad = parse_wei(v, &o->fee_cap);
	else if (strcmp(a, "--min-tip") == 0)
		bad = parse_wei(v, &o->min_tip);
	else if (strcmp(a, "--warn-balance") == 0)
		bad = parse_wei(v, &o->warn_balance);
	else if (strcmp(a, "--stuck-blocks") == 0)
		bad = parse_u64(v, &o->stuck_blocks);
	else if (strcmp(a, "--stuck-ms") == 0)
		bad = parse_u64(v, &o->stuck_ms);
	else if (strcmp(a, "--rebroadcast-ms") == 0)
		bad = parse_u64(v, &o->rebroadcast_ms);
	else if (strcmp(a, "--poll-ms") == 0)
		bad = parse_u64(v, &o->poll_ms);
	else if (strcmp(a, "--gap-grace-ms") == 0)
		bad = parse_u64(v, &o->gap_grace_ms);
	else if (strcmp(a, "--confirmations") == 0)
		bad = parse_u64(v, &o->confirmations);
	else if (strcmp(a, "--estimate-retry-ms") == 0)
		bad = parse_u64(v, &o->estimate_retry_ms);
	else if (strcmp(a, "--base-fee-pct") == 0)
		bad = parse_u64(v, &u) < 0 || !(o->base_fee_pct = (unsigned)u);
	else if (strcmp(a, "--estimate-retries") == 0)
		bad = parse_u64(v, &u) < 0 || !(o->estimate_retries = (unsigned)u);
	else if (strcmp(a, "--abi-dir") == 0)
		*abi_dir = v;
	else if (strcmp(a, "--crash-at") == 0)
		bad = parse_crash(v);
	else if (strcmp(a, "--metrics-file") == 0)
		D.metrics_file = v;
	else if (strcmp(a, "--log-level") == 0)
		*level = strcmp(v, "debug") == 0  ? RW_RELAYER_DEBUG
			 : strcmp(v, "warn") == 0 ? RW_RELAYER_WARN
						  : RW_RELAYER_INFO;
	else
		return 0;
	(*i)++;
	return bad ? -1 : 1;
}

/* The options that are not tuning: config, chain, key file, database. */
static int take_basic(int argc, char **argv, int *i, const char **config, const char **chain,
		      const char **key_file, const char **database_url)
{
	const char *a = argv[*i];
	const char **slot = strcmp(a, "--config") == 0         ? config
			    : strcmp(a, "--chain") == 0        ? chain
			    : strcmp(a, "--key-file") == 0     ? key_file
			    : strcmp(a, "--database-url") == 0 ? database_url
							       : NULL;
	if (!slot || *i + 1 >= argc)
		return 0;
	*slot = argv[++*i];
	return 1;
}

/* Applies the tuning options over the chain's defaults. Returns 0 or -1. */
static int parse_tuning(struct rw_relayer_opts *o, int argc, char **argv, const char **abi_dir,
			enum rw_relayer_level *level)
{
	rw_relayer_opts_default(o, D.chain);
	for (int i = 1; i < argc; i++) {
		const char *skip;
		if (take_basic(argc, argv, &i, &skip, &skip, &skip, &skip))
			continue;
		int t = tuning(o, argc, argv, &i, abi_dir, level);
		if (t <= 0) {
			fprintf(stderr, "relayer_driver: %s %s\n",
				t < 0 ? "bad value for" : "unknown option",
				argv[t < 0 ? i - 1 : i]);
			usage();
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *config = NULL, *chain_name = NULL, *key_file = NULL, *database_url = NULL;
	const char *abi_dir = NULL;
	enum rw_relayer_level level = RW_RELAYER_INFO;
	struct rw_relayer_opts o;
	D.crash_step = -1;
	for (int i = 1; i < argc; i++)
		(void)take_basic(argc, argv, &i, &config, &chain_name, &key_file, &database_url);
	if (!config) {
		usage();
		return 2;
	}
	char err[RW_CONFIG_ERRLEN];
	if (rw_config_load(&D.cfg, config, err, sizeof(err)) < 0) {
		fprintf(stderr, "relayer_driver: %s\n", err);
		return 1;
	}
	for (size_t i = 0; i < D.cfg->n_chains && !D.chain; i++)
		if (!chain_name || strcmp(D.cfg->chains[i].name, chain_name) == 0)
			D.chain = &D.cfg->chains[i];
	if (!D.chain) {
		fprintf(stderr, "relayer_driver: no chain %s\n", chain_name);
		rw_config_free(D.cfg);
		return 1;
	}
	if (parse_tuning(&o, argc, argv, &abi_dir, &level) < 0) {
		rw_config_free(D.cfg);
		return 2;
	}
	rw_relayer_log_level(level);
	if (rw_key_init() < 0) {
		rw_config_free(D.cfg);
		return 1;
	}
	uint8_t sk[32];
	if (load_key(sk, key_file) < 0) {
		rw_key_cleanup();
		rw_config_free(D.cfg);
		return 1;
	}
	if (!abi_dir)
		abi_dir = D.cfg->abi_dir.v;
	if (abi_dir && rw_relayer_errors_load(&D.errors, abi_dir) < 0)
		fprintf(stderr,
			"relayer_driver: %s: cannot read the ABI files; custom errors "
			"show as selectors\n",
			abi_dir);
	uv_loop_init(&D.loop);
	int r = open_clients(database_url);
	if (r == 0) {
		struct rw_relayer_params p = {
			.chain = D.chain, .rpc = D.rpc, .pg = D.pg, .errors = D.errors
		};
		p.opts = o;
		p.opts.on_step = on_step;
		r = rw_relayer_new(&D.rl, &D.loop, &p, sk);
		if (r < 0)
			fprintf(stderr, "relayer_driver: relayer: %s\n", rw_strerror(r));
	}
	rw_wipe(sk, sizeof(sk));
	uv_signal_init(&D.loop, &D.sigterm);
	uv_signal_init(&D.loop, &D.sigint);
	uv_signal_start(&D.sigterm, on_signal, SIGTERM);
	uv_signal_start(&D.sigint, on_signal, SIGINT);
	uv_timer_init(&D.loop, &D.metrics_timer);
	if (r == 0 && D.metrics_file)
		uv_timer_start(&D.metrics_timer, on_metrics_timer, 200, 200);
	if (r == 0)
		r = rw_relayer_start(D.rl);
	if (r < 0) {
		D.exit_code = 1;
		stop();
	}
	uv_run(&D.loop, UV_RUN_DEFAULT);
	rw_relayer_free(D.rl);
	int closed = uv_loop_close(&D.loop);
	if (closed != 0)
		fprintf(stderr, "relayer_driver: the loop still has handles at exit\n");
	rw_relayer_errors_free(D.errors);
	rw_config_free(D.cfg);
	rw_key_cleanup();
	return closed != 0 ? 1 : D.exit_code;
}
