/* runwayd.c: the runway service. It loads the configuration, refuses a
 * database schema it does not know (rw_migrate_check) and event tables that
 * do not match the event map, checks every chain's id against its node, then
 * runs one indexer per chain on one libuv loop until SIGINT or SIGTERM, and
 * serves Prometheus metrics when the configuration asks for them. A chain
 * with a relayer configured (chains[].relayer.keystore) also runs the
 * relayer engine on the same rpc client and a database connection of its
 * own (a long statement of the scheduler or the indexer never holds up its
 * rounds, nor theirs its writes): its key is loaded before
 * the loop starts (a wrong passphrase or an unreadable keystore is a
 * start-up error naming the chain and the file), and it starts once the
 * chain id is confirmed. A chain with a relayer and a Balance contract also
 * runs the scheduler (chains[].scheduler) on a third connection: it files
 * the daily charges and refills as intents and completes top-up sessions.
 * The engines' statements run concurrently, as the CLI's always have beside
 * runwayd: the relayer locks its signer row, then intents and transactions;
 * the scheduler writes only intents it files, never a signer row; the
 * indexer writes its chain row with rw_chain_register (migration 0028),
 * which the relayer's concurrent insert of the same row cannot fail.
 *
 * Shutdown: the first signal stops every indexer (a commit in flight is
 * awaited: it commits whole or not at all), every relayer and every
 * scheduler (a cycle in flight is abandoned: each of its statements is one
 * transaction), then closes
 * the rpc and pg clients, the metrics server and the signal handles; the loop then has
 * nothing left and uv_loop_close returns 0. A second signal closes the
 * database connections at once: the server rolls back a transaction in
 * flight, or commits it whole when its COMMIT was already sent (a
 * pipelined job's Sync); a restart reads what was committed either way. */
#include <inttypes.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "cli.h"
#include "config.h"
#include "err.h"
#include "eventmap.h"
#include "hex.h"
#include "indexer.h"
#include "key.h"
#include "migrate.h"
#include "pg.h"
#include "relayer.h"
#include "rpc.h"
#include "rwconfig.h"
#include "scheduler.h"

static const char usage[] =
	"Usage: runwayd [options]\n"
	"\n"
	"The runway service: indexes billing events into PostgreSQL, files the\n"
	"daily charges that are due, and relays the settlement transactions that\n"
	"keep billing moving.\n"
	"\n"
	"Options:\n"
	"  --config FILE         configuration file (JSON; deploy/README.md)\n"
	"  --database-url URL    PostgreSQL connection string (env RUNWAY_DATABASE_URL;\n"
	"                        else the configuration's database_url; else libpq's PG*\n"
	"                        variables)\n"
	"  --migrations DIR      the migrations this runwayd knows (env RUNWAY_MIGRATIONS;\n"
	"                        default " RUNWAY_SOURCE_ROOT "/migrations)\n"
	"  --check               check the configuration, the database schema, the event\n"
	"                        tables and every chain's id, then exit (without --config:\n"
	"                        the schema only)\n"
	"  --verbose             log debug lines too\n"
	"  -h, --help            this help\n"
	"  --version             print the version\n"
	"\n"
	"Exit status: 0 ok, 1 failure, 2 usage error.\n";

#define CHAIN_ID_RETRY_MS  5000
#define METRICS_CLIENTS    16
#define METRICS_REQ_MAX    4096
#define METRICS_TIMEOUT_MS 5000

struct svc;

/* The database connections of a chain, one per engine: each engine's
 * statements queue on its own connection only. */
enum chain_pg_role { PG_INDEXER, PG_RELAYER, PG_SCHEDULER, CHAIN_PGS };

static const char *const pg_role_names[CHAIN_PGS] = { "indexer", "relayer", "scheduler" };

struct chain;

/* One database connection of a chain (pg NULL: not opened). */
struct chain_pg {
	struct chain *c;
	enum chain_pg_role role;
	struct rw_pg *pg;
	int closing;
};

/* One chain: its clients, its indexer, its relayer and its scheduler (NULL
 * when the chain has none configured). */
struct chain {
	struct svc *svc;
	const struct rw_config_chain *cc;
	struct rw_rpc *rpc;
	struct chain_pg pgs[CHAIN_PGS];
	struct rw_indexer *ix;
	struct rw_relayer *rl;
	struct rw_scheduler *sc;
	uv_timer_t retry;
	int id_ok;
	int stops; /* engines still stopping, plus one while stops are asked */
	int closing;
	int open; /* things of this chain still to close: rpc, timer, each pgs[] slot */
};

/* One metrics client: a request is read, one answer written, then closed. */
struct mclient {
	struct svc *svc;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wr;
	char req[METRICS_REQ_MAX];
	size_t len;
	char *resp;
	int open;
	int answered;
};

struct svc {
	uv_loop_t loop;
	struct rw_config *cfg;
	struct rw_eventmap *map;
	struct rw_relayer_errors *errors; /* custom errors of abi_dir, or NULL */
	const char *conninfo;
	int check_only;
	struct chain *chains;
	size_t n_chains;
	size_t chains_open;
	size_t ids_pending;
	uv_signal_t sigint, sigterm;
	int metrics_on;
	uv_tcp_t metrics;
	size_t clients;
	int stopping;
	int exit_code;
};

/* ---- start checks (blocking, before the loop) --------------------------- */

static int check_event_tables(const struct rw_cli *cli, PGconn *conn, const struct rw_eventmap *map)
{
	char *sql = NULL;
	if (rw_eventmap_schema_query(&sql, map) < 0) {
		rw_cli_err(cli, "out of memory");
		return -1;
	}
	PGresult *res = PQexec(conn, sql);
	free(sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		char m[512];
		rw_pg_message_line(m, sizeof(m), PQerrorMessage(conn));
		rw_cli_err(cli, "reading the event tables' columns failed: %s", m);
		PQclear(res);
		return -1;
	}
	int n = PQntuples(res);
	struct rw_eventmap_dbcol *rows = calloc((size_t)n + 1, sizeof(*rows));
	if (!rows) {
		PQclear(res);
		rw_cli_err(cli, "out of memory");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		rows[i].table = PQgetvalue(res, i, 0);
		rows[i].column = PQgetvalue(res, i, 1);
		rows[i].type = PQgetvalue(res, i, 2);
	}
	char err[1024] = "";
	int r = rw_eventmap_schema_check(map, rows, (size_t)n, err, sizeof(err));
	free(rows);
	PQclear(res);
	if (r < 0) {
		rw_cli_err(cli, "the database does not match the event map: %s", err);
		fprintf(stderr, "  hint: every table of the event map needs a migration that "
				"creates it (rw_event_table_create) with these columns\n");
		return -1;
	}
	return 0;
}

/* Every mapped table must be in indexer_event_table, or reorgs would not
 * delete from it. */
static int check_registered(const struct rw_cli *cli, PGconn *conn, const struct rw_eventmap *map)
{
	PGresult *res = PQexec(conn, "SELECT table_name FROM indexer_event_table");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		char m[512];
		rw_pg_message_line(m, sizeof(m), PQerrorMessage(conn));
		rw_cli_err(cli, "reading indexer_event_table failed: %s", m);
		PQclear(res);
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < map->n_events; i++) {
		int found = 0;
		for (int k = 0; !found && k < PQntuples(res); k++)
			found = strcmp(PQgetvalue(res, k, 0), map->events[i].table) == 0;
		if (!found) {
			rw_cli_err(
				cli,
				"event table %s (%s.%s) is not registered in indexer_event_table: "
				"a reorg would not delete from it",
				map->events[i].table, map->events[i].kind,
				map->events[i].event->name);
			rc = -1;
		}
	}
	PQclear(res);
	return rc;
}

/* Checks that the database schema is exactly the one this build knows and,
 * with a map, that every event table is there. Returns 0, or -1 after
 * printing why and what to do. */
static int check_schema(const struct rw_cli *cli, const char *conninfo, const char *migrations,
			const struct rw_eventmap *map)
{
	struct rw_migrate m;
	memset(&m, 0, sizeof(m));
	int r = rw_migrate_open(&m, rw_pg_conninfo(conninfo), migrations);
	if (r == 0)
		r = rw_migrate_check(&m);
	if (r < 0) {
		rw_cli_err(cli, "database schema check failed: %s", m.err);
		if (r == RW_EINVAL && !strstr(m.err, "runway db"))
			fprintf(stderr, "  hint: run 'runway db status' to see the migrations, and "
					"'runway db migrate' to apply pending ones\n");
	}
	if (r == 0 && map) {
		r = check_event_tables(cli, m.conn, map);
		if (r == 0)
			r = check_registered(cli, m.conn, map);
	}
	rw_migrate_close(&m);
	return r < 0 ? -1 : 0;
}

/* ---- shutdown ----------------------------------------------------------- */

static void close_service_handles(struct svc *s)
{
	uv_close((uv_handle_t *)&s->sigint, NULL);
	uv_close((uv_handle_t *)&s->sigterm, NULL);
	if (s->metrics_on) {
		s->metrics_on = 0;
		uv_close((uv_handle_t *)&s->metrics, NULL);
	}
}

static void chain_closed_one(struct chain *c)
{
	if (--c->open > 0)
		return;
	c->sc = rw_scheduler_free(c->sc);
	c->rl = rw_relayer_free(c->rl);
	c->ix = rw_indexer_free(c->ix);
	struct svc *s = c->svc;
	if (--s->chains_open == 0)
		close_service_handles(s);
}

static void on_rpc_closed(void *arg)
{
	chain_closed_one(arg);
}

static void on_pg_closed(void *arg)
{
	chain_closed_one(((struct chain_pg *)arg)->c);
}

/* Starts closing cp's connection unless it is closing already; a slot
 * never opened counts as closed at once (once) when unopened_too. */
static void pg_close_slot(struct chain_pg *cp, int unopened_too)
{
	if (cp->closing || (!cp->pg && !unopened_too))
		return;
	cp->closing = 1;
	if (cp->pg)
		rw_pg_close(cp->pg, on_pg_closed, cp);
	else
		chain_closed_one(cp->c);
}

/* Closes c's database connections not closing yet. */
static void chain_close_pgs(struct chain *c)
{
	for (int i = 0; i < CHAIN_PGS; i++)
		pg_close_slot(&c->pgs[i], 1);
}

static void on_retry_closed(uv_handle_t *h)
{
	chain_closed_one(h->data);
}

static void chain_close(struct chain *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	uv_close((uv_handle_t *)&c->retry, on_retry_closed);
	if (c->rpc && rw_rpc_close(c->rpc, on_rpc_closed, c) < 0)
		chain_closed_one(c);
	chain_close_pgs(c);
}

/* One engine of c stopped: when none is left, the clients close. */
static void on_engine_stopped(void *arg)
{
	struct chain *c = arg;
	if (--c->stops == 0)
		chain_close(c);
}

/* Stops c's indexer, relayer and scheduler, then closes its clients (the
 * engines must be stopped before the rpc and pg clients they borrow close). */
static void chain_stop(struct chain *c)
{
	c->stops = 1;
	if (c->ix && rw_indexer_stop(c->ix, on_engine_stopped, c) == 0)
		c->stops++;
	if (c->rl && rw_relayer_stop(c->rl, on_engine_stopped, c) == 0)
		c->stops++;
	if (c->sc && rw_scheduler_stop(c->sc, on_engine_stopped, c) == 0)
		c->stops++;
	on_engine_stopped(c);
}

static void shutdown_svc(struct svc *s, int code)
{
	if (code > s->exit_code)
		s->exit_code = code;
	if (s->stopping)
		return;
	s->stopping = 1;
	for (size_t i = 0; i < s->n_chains; i++)
		chain_stop(&s->chains[i]);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct svc *s = h->data;
	if (!s->stopping) {
		rw_indexer_log(NULL, RW_INDEXER_INFO, "%s: stopping",
			       signum == SIGINT ? "SIGINT" : "SIGTERM");
		shutdown_svc(s, 0);
		return;
	}
	rw_indexer_log(NULL, RW_INDEXER_WARN,
		       "second signal: closing the database connections now (a transaction in "
		       "flight commits whole or not at all)");
	for (size_t i = 0; i < s->n_chains; i++)
		for (int k = 0; k < CHAIN_PGS; k++)
			pg_close_slot(&s->chains[i].pgs[k], 0);
}

/* ---- chains ------------------------------------------------------------- */

static void on_pg_event(struct rw_pg *pg, enum rw_pg_event ev, const struct rw_pg_error *err,
			void *arg)
{
	const struct chain_pg *cp = arg;
	const struct chain *c = cp->c;
	const char *role = pg_role_names[cp->role];
	switch (ev) {
	case RW_PG_EV_CONNECTED:
		rw_indexer_log(c->cc->name, RW_INDEXER_INFO, "database connected (%s, for the %s)",
			       rw_pg_server(pg), role);
		break;
	case RW_PG_EV_CONNECT_FAILED:
		rw_indexer_log(c->cc->name, RW_INDEXER_WARN,
			       "database connection failed (the %s's): %s", role,
			       err ? err->message : "?");
		break;
	case RW_PG_EV_LOST:
		rw_indexer_log(c->cc->name, RW_INDEXER_WARN,
			       "database connection lost (the %s's): %s", role,
			       err ? err->message : "?");
		break;
	case RW_PG_EV_PREPARE_FAILED:
		rw_indexer_log(c->cc->name, RW_INDEXER_WARN,
			       "re-preparing a statement failed (the %s's connection): %s", role,
			       err ? err->message : "?");
		break;
	case RW_PG_EV_NOTICE: break;
	}
}

static void ask_chain_id(struct chain *c);

static void on_retry(uv_timer_t *t)
{
	ask_chain_id(t->data);
}

static int start_indexer(struct chain *c)
{
	struct rw_indexer_params p = {
		.chain = c->cc,
		.map = c->svc->map,
		.rpc = c->rpc,
		.pg = c->pgs[PG_INDEXER].pg,
	};
	int r = rw_indexer_new(&c->ix, &c->svc->loop, &p);
	if (r == 0)
		r = rw_indexer_start(c->ix);
	if (r < 0) {
		rw_indexer_log(c->cc->name, RW_INDEXER_ERROR, "cannot start the indexer: %s",
			       rw_strerror(r));
		return r;
	}
	if (c->rl && (r = rw_relayer_start(c->rl)) < 0)
		rw_relayer_log(c->cc->name, RW_RELAYER_ERROR, "cannot start the relayer: %s",
			       rw_strerror(r));
	if (r == 0 && c->sc && (r = rw_scheduler_start(c->sc)) < 0)
		rw_scheduler_log(c->cc->name, RW_SCHEDULER_ERROR, "cannot start the scheduler: %s",
				 rw_strerror(r));
	return r;
}

static void on_chain_id(struct rw_rpc *rpc, const struct rw_rpc_result *res, size_t n, void *udata)
{
	struct chain *c = udata;
	struct svc *s = c->svc;
	(void)rpc;
	(void)n;
	if (s->stopping || res[0].cls == RW_RPC_CANCELLED)
		return;
	char *ep = rw_config_mask(res[0].endpoint ? res[0].endpoint : c->cc->rpc[0].url.v);
	if (res[0].cls != RW_RPC_OK || !json_is_string(res[0].result)) {
		rw_indexer_log(c->cc->name, s->check_only ? RW_INDEXER_ERROR : RW_INDEXER_WARN,
			       "eth_chainId failed: %s (%s), endpoint %s%s",
			       rw_rpc_class_name(res[0].cls), res[0].message, ep ? ep : "?",
			       s->check_only ? "" : "; retrying in 5 s");
		free(ep);
		if (s->check_only)
			shutdown_svc(s, RW_EXIT_FAIL);
		else
			(void)uv_timer_start(&c->retry, on_retry, CHAIN_ID_RETRY_MS, 0);
		return;
	}
	char err[512];
	if (rw_config_check_chain_id(c->cc, res[0].endpoint ? res[0].endpoint : c->cc->rpc[0].url.v,
				     json_string_value(res[0].result), err, sizeof(err)) < 0) {
		rw_indexer_log(c->cc->name, RW_INDEXER_ERROR, "%s", err);
		free(ep);
		shutdown_svc(s, RW_EXIT_FAIL);
		return;
	}
	rw_indexer_log(c->cc->name, RW_INDEXER_INFO, "chain id %" PRIu64 " confirmed by %s",
		       c->cc->chain_id, ep ? ep : "?");
	free(ep);
	c->id_ok = 1;
	if (s->check_only) {
		if (--s->ids_pending == 0) {
			rw_indexer_log(NULL, RW_INDEXER_INFO,
				       "check passed: configuration, schema, event tables and %zu "
				       "chain id%s",
				       s->n_chains, s->n_chains == 1 ? "" : "s");
			shutdown_svc(s, 0);
		}
		return;
	}
	if (start_indexer(c) < 0)
		shutdown_svc(s, RW_EXIT_FAIL);
}

static void ask_chain_id(struct chain *c)
{
	if (c->svc->stopping)
		return;
	int r = rw_rpc_call(c->rpc, "eth_chainId", NULL, on_chain_id, c);
	if (r < 0) {
		rw_indexer_log(c->cc->name, RW_INDEXER_ERROR, "cannot ask eth_chainId: %s",
			       rw_strerror(r));
		shutdown_svc(c->svc, RW_EXIT_FAIL);
	}
}

static int open_rpc(struct chain *c)
{
	struct rw_rpc_opts o = { .max_response = (size_t)64 << 20 };
	int r = rw_rpc_new(&c->rpc, &c->svc->loop, &o);
	for (size_t i = 0; r >= 0 && i < c->cc->n_rpc; i++) {
		const struct rw_config_rpc *e = &c->cc->rpc[i];
		struct rw_rpc_endpoint_opts eo = {
			.url = e->url.v,
			.max_concurrency = (unsigned)e->max_concurrency.v,
			.max_rps = (double)e->max_rps.v,
			.timeout_ms = e->timeout_ms.v,
		};
		r = rw_rpc_add_endpoint(c->rpc, &eo);
		if (r < 0) {
			char *m = rw_config_mask(e->url.v);
			rw_indexer_log(c->cc->name, RW_INDEXER_ERROR, "rpc endpoint %s refused: %s",
				       m ? m : "?", rw_strerror(r));
			free(m);
		}
	}
	return r < 0 ? r : 0;
}

/* The relayer's tuning: its defaults for the chain, then every key the
 * configuration sets (chains[].relayer, deploy/README.md). */
static void relayer_opts(struct rw_relayer_opts *o, const struct rw_config_chain *cc)
{
	const struct rw_config_relayer *rc = &cc->relayer;
	rw_relayer_opts_default(o, cc);
	if (rc->fee_cap.src != RW_CONFIG_DEFAULT)
		o->fee_cap = rc->fee_cap.v;
	if (rc->min_tip.src != RW_CONFIG_DEFAULT)
		o->min_tip = rc->min_tip.v;
	if (rc->warn_balance.src != RW_CONFIG_DEFAULT)
		o->warn_balance = rc->warn_balance.v;
	if (rc->max_inflight.src != RW_CONFIG_DEFAULT)
		o->max_inflight = (unsigned)rc->max_inflight.v;
	if (rc->stuck_blocks.src != RW_CONFIG_DEFAULT)
		o->stuck_blocks = rc->stuck_blocks.v;
	if (rc->stuck_ms.src != RW_CONFIG_DEFAULT)
		o->stuck_ms = rc->stuck_ms.v;
	if (rc->rebroadcast_ms.src != RW_CONFIG_DEFAULT)
		o->rebroadcast_ms = rc->rebroadcast_ms.v;
	if (rc->gap_grace_ms.src != RW_CONFIG_DEFAULT)
		o->gap_grace_ms = rc->gap_grace_ms.v;
	if (rc->warn_days.src != RW_CONFIG_DEFAULT)
		o->warn_days = (unsigned)rc->warn_days.v;
	if (rc->legacy.src != RW_CONFIG_DEFAULT)
		o->legacy = (int)rc->legacy.v;
}

/* Opens c's database connection for role (connecting in the background).
 * Returns 0 or -1 after logging why. */
static int open_pg(struct chain *c, enum chain_pg_role role)
{
	char msg[256];
	struct chain_pg *cp = &c->pgs[role];
	struct rw_pg_config pc = { .conninfo = c->svc->conninfo,
				   .on_event = on_pg_event,
				   .arg = cp };
	if (rw_pg_open(&cp->pg, &c->svc->loop, &pc, msg, sizeof(msg)) < 0) {
		rw_indexer_log(c->cc->name, RW_INDEXER_ERROR, "database (the %s's connection): %s",
			       pg_role_names[role], msg);
		cp->pg = NULL;
		return -1;
	}
	return 0;
}

/* Creates c's relayer when its chain has one configured: loads the key
 * (blocking: the key derivation), then rw_relayer_new on c's clients.
 * Returns 0 (also without a relayer) or -1 after logging why. */
static int open_relayer(struct chain *c)
{
	const struct rw_config_chain *cc = c->cc;
	if (!cc->relayer.enabled)
		return 0;
	uint8_t sk[32];
	char err[RW_CONFIG_ERRLEN];
	int r = rw_relayer_key_load(sk, &cc->relayer, err, sizeof(err));
	if (r < 0) {
		rw_relayer_log(cc->name, RW_RELAYER_ERROR,
			       "chain %s: cannot load the relayer key: %s", cc->name, err);
		return -1;
	}
	if (open_pg(c, PG_RELAYER) < 0) {
		rw_wipe(sk, sizeof(sk));
		return -1;
	}
	struct rw_relayer_params p = {
		.chain = cc,
		.rpc = c->rpc,
		.pg = c->pgs[PG_RELAYER].pg,
		.errors = c->svc->errors,
	};
	relayer_opts(&p.opts, cc);
	r = rw_relayer_new(&c->rl, &c->svc->loop, &p, sk);
	rw_wipe(sk, sizeof(sk));
	if (r < 0) {
		c->rl = NULL;
		rw_relayer_log(cc->name, RW_RELAYER_ERROR,
			       "chain %s: cannot create the relayer (keystore %s): %s", cc->name,
			       cc->relayer.keystore, rw_strerror(r));
		return -1;
	}
	uint8_t addr[20];
	char hex[43];
	rw_relayer_address(addr, c->rl);
	rw_hex_encode(hex, addr, 20, 1);
	rw_relayer_log(cc->name, RW_RELAYER_INFO, "relayer signer %s", hex);
	return 0;
}

/* Creates c's scheduler when the chain has a relayer and a Balance contract
 * (and scheduler.enabled is not false). Returns 0 (also without one) or -1
 * after logging why. */
static int open_scheduler(struct chain *c)
{
	const struct rw_config_chain *cc = c->cc;
	if (!rw_config_scheduler_on(cc)) {
		if (cc->relayer.enabled && cc->scheduler.enabled.v)
			rw_scheduler_log(cc->name, RW_SCHEDULER_INFO,
					 "no Balance contract on this chain: no scheduler");
		return 0;
	}
	if (open_pg(c, PG_SCHEDULER) < 0)
		return -1;
	struct rw_scheduler_params p = { .chain = cc, .pg = c->pgs[PG_SCHEDULER].pg };
	int r = rw_scheduler_new(&c->sc, &c->svc->loop, &p);
	if (r < 0) {
		c->sc = NULL;
		rw_scheduler_log(cc->name, RW_SCHEDULER_ERROR, "cannot create the scheduler: %s",
				 rw_strerror(r));
		return -1;
	}
	return 0;
}

static int open_chain(struct svc *s, struct chain *c, const struct rw_config_chain *cc)
{
	c->svc = s;
	c->cc = cc;
	uv_timer_init(&s->loop, &c->retry);
	c->retry.data = c;
	c->open = 2 + CHAIN_PGS;
	for (int i = 0; i < CHAIN_PGS; i++)
		c->pgs[i] = (struct chain_pg){ .c = c, .role = (enum chain_pg_role)i };
	s->chains_open++;
	if (open_rpc(c) < 0)
		return -1;
	if (s->check_only)
		return 0;
	if (open_pg(c, PG_INDEXER) < 0)
		return -1;
	if (open_relayer(c) < 0)
		return -1;
	return open_scheduler(c);
}

/* ---- metrics ------------------------------------------------------------ */

static void on_client_closed(uv_handle_t *h)
{
	struct mclient *m = h->data;
	if (--m->open > 0)
		return;
	m->svc->clients--;
	free(m->resp);
	free(m);
}

static void client_close(struct mclient *m)
{
	if (!uv_is_closing((uv_handle_t *)&m->tcp))
		uv_close((uv_handle_t *)&m->tcp, on_client_closed);
	if (!uv_is_closing((uv_handle_t *)&m->timer))
		uv_close((uv_handle_t *)&m->timer, on_client_closed);
}

static void on_written(uv_write_t *w, int status)
{
	(void)status;
	client_close(w->data);
}

static char *metrics_body(struct svc *s, size_t *ret_len)
{
	struct rw_buf b;
	rw_buf_init(&b, (size_t)16 << 20);
	int r = 0;
	for (size_t i = 0; r == 0 && i < s->n_chains; i++)
		if (s->chains[i].ix)
			r = rw_indexer_metrics(&b, s->chains[i].ix, i == 0);
	int header = 1;
	for (size_t i = 0; r == 0 && i < s->n_chains; i++)
		if (s->chains[i].rl) {
			r = rw_relayer_metrics(&b, s->chains[i].rl, header);
			header = 0;
		}
	header = 1;
	for (size_t i = 0; r == 0 && i < s->n_chains; i++)
		if (s->chains[i].sc) {
			r = rw_scheduler_metrics(&b, s->chains[i].sc, header);
			header = 0;
		}
	if (r == 0)
		r = rw_buf_push(&b, 0);
	if (r < 0) {
		rw_buf_free(&b);
		return NULL;
	}
	*ret_len = b.len - 1;
	return (char *)b.p;
}

static void answer(struct mclient *m)
{
	m->answered = 1;
	uv_read_stop((uv_stream_t *)&m->tcp);
	int ok = strncmp(m->req, "GET /metrics ", 13) == 0 ||
		 strncmp(m->req, "GET /metrics?", 13) == 0;
	size_t blen = 0;
	char *body = ok ? metrics_body(m->svc, &blen) : NULL;
	const char *status = ok && body ? "200 OK"
			     : ok       ? "500 Internal Server Error"
					: "404 Not Found";
	const char *text = body ? body : ok ? "error\n" : "not found: try GET /metrics\n";
	if (!body)
		blen = strlen(text);
	size_t cap = blen + 256;
	m->resp = malloc(cap);
	if (!m->resp) {
		free(body);
		client_close(m);
		return;
	}
	int h = snprintf(m->resp, cap,
			 "HTTP/1.1 %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, blen);
	memcpy(m->resp + h, text, blen);
	free(body);
	uv_buf_t buf = uv_buf_init(m->resp, (unsigned)((size_t)h + blen));
	m->wr.data = m;
	if (uv_write(&m->wr, (uv_stream_t *)&m->tcp, &buf, 1, on_written) < 0)
		client_close(m);
}

static void on_client_alloc(uv_handle_t *h, size_t want, uv_buf_t *buf)
{
	struct mclient *m = h->data;
	(void)want;
	*buf = uv_buf_init(m->req + m->len, (unsigned)(sizeof(m->req) - 1 - m->len));
}

static void on_client_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct mclient *m = st->data;
	(void)buf;
	if (n < 0) {
		client_close(m);
		return;
	}
	m->len += (size_t)n;
	m->req[m->len] = 0;
	if (strstr(m->req, "\r\n\r\n") || strstr(m->req, "\n\n") || m->len >= sizeof(m->req) - 1)
		answer(m);
}

static void on_client_timeout(uv_timer_t *t)
{
	client_close(t->data);
}

static void on_metrics_conn(uv_stream_t *server, int status)
{
	struct svc *s = server->data;
	if (status < 0)
		return;
	struct mclient *m = calloc(1, sizeof(*m));
	if (!m || s->clients >= METRICS_CLIENTS || s->stopping) {
		uv_tcp_t *drop = malloc(sizeof(*drop));
		free(m);
		if (drop && uv_tcp_init(&s->loop, drop) == 0) {
			(void)uv_accept(server, (uv_stream_t *)drop);
			uv_close((uv_handle_t *)drop, (uv_close_cb)free);
		} else {
			free(drop);
		}
		return;
	}
	m->svc = s;
	uv_tcp_init(&s->loop, &m->tcp);
	uv_timer_init(&s->loop, &m->timer);
	m->tcp.data = m->timer.data = m;
	m->open = 2;
	s->clients++;
	if (uv_accept(server, (uv_stream_t *)&m->tcp) < 0 ||
	    uv_read_start((uv_stream_t *)&m->tcp, on_client_alloc, on_client_read) < 0) {
		client_close(m);
		return;
	}
	(void)uv_timer_start(&m->timer, on_client_timeout, METRICS_TIMEOUT_MS, 0);
}

/* Listens on "host:port" ("[v6]:port" for IPv6). Returns 0 or -1. */
static int metrics_listen(struct svc *s, const char *spec)
{
	char host[128];
	const char *colon = strrchr(spec, ':');
	if (!colon || (size_t)(colon - spec) >= sizeof(host)) {
		rw_indexer_log(NULL, RW_INDEXER_ERROR, "metrics.listen %s: expected host:port",
			       spec);
		return -1;
	}
	const char *h = spec;
	size_t hl = (size_t)(colon - spec);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']')
		h++, hl -= 2;
	memcpy(host, h, hl);
	host[hl] = 0;
	int port = atoi(colon + 1);
	struct sockaddr_storage addr;
	int r = strchr(host, ':') ? uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr)
				  : uv_ip4_addr(host, port, (struct sockaddr_in *)&addr);
	if (r == 0) {
		uv_tcp_init(&s->loop, &s->metrics);
		s->metrics.data = s;
		s->metrics_on = 1;
		r = uv_tcp_bind(&s->metrics, (const struct sockaddr *)&addr, 0);
		if (r == 0)
			r = uv_listen((uv_stream_t *)&s->metrics, 16, on_metrics_conn);
	}
	if (r < 0) {
		rw_indexer_log(NULL, RW_INDEXER_ERROR, "metrics: cannot listen on %s: %s", spec,
			       uv_strerror(r));
		return -1;
	}
	rw_indexer_log(NULL, RW_INDEXER_INFO, "metrics on http://%s/metrics", spec);
	return 0;
}

/* ---- main --------------------------------------------------------------- */

/* When a chain has a relayer: initializes the key module and reads the
 * custom errors of abi_dir for revert reasons (unreadable: a warning, and
 * reasons show selectors). Returns 0, or -1 when the key module cannot
 * start. */
static int relayer_setup(struct svc *s)
{
	int any = 0;
	for (size_t i = 0; i < s->cfg->n_chains; i++)
		any |= s->cfg->chains[i].relayer.enabled;
	if (rw_key_init() < 0) {
		rw_relayer_log(NULL, RW_RELAYER_ERROR, "cannot initialize the key module");
		return -1;
	}
	if (any && s->cfg->abi_dir.v && rw_relayer_errors_load(&s->errors, s->cfg->abi_dir.v) < 0) {
		s->errors = NULL;
		rw_relayer_log(NULL, RW_RELAYER_WARN,
			       "%s: cannot read the ABI files; custom errors show as selectors",
			       s->cfg->abi_dir.v);
	}
	return 0;
}

static int run(struct svc *s)
{
	uv_loop_init(&s->loop);
	uv_signal_init(&s->loop, &s->sigint);
	uv_signal_init(&s->loop, &s->sigterm);
	s->sigint.data = s->sigterm.data = s;
	uv_signal_start(&s->sigint, on_signal, SIGINT);
	uv_signal_start(&s->sigterm, on_signal, SIGTERM);
	s->n_chains = s->cfg->n_chains;
	s->chains = calloc(s->n_chains, sizeof(*s->chains));
	if (!s->chains) {
		rw_indexer_log(NULL, RW_INDEXER_ERROR, "out of memory");
		return RW_EXIT_FAIL;
	}
	s->ids_pending = s->n_chains;
	int failed = 0;
	if (!s->check_only && s->cfg->metrics_listen.v &&
	    metrics_listen(s, s->cfg->metrics_listen.v) < 0)
		failed = 1;
	for (size_t i = 0; i < s->n_chains && !failed; i++)
		if (open_chain(s, &s->chains[i], &s->cfg->chains[i]) < 0)
			failed = 1;
	for (size_t i = 0; i < s->n_chains && !failed; i++)
		ask_chain_id(&s->chains[i]);
	if (failed) {
		s->stopping = 1;
		s->exit_code = RW_EXIT_FAIL;
		for (size_t i = 0; i < s->n_chains; i++)
			if (s->chains[i].svc)
				chain_stop(&s->chains[i]);
		if (s->chains_open == 0)
			close_service_handles(s);
	}
	uv_run(&s->loop, UV_RUN_DEFAULT);
	int rc = uv_loop_close(&s->loop);
	if (rc != 0) {
		rw_indexer_log(NULL, RW_INDEXER_ERROR, "the loop still has handles at exit: %s",
			       uv_strerror(rc));
		s->exit_code = RW_EXIT_FAIL;
	}
	free(s->chains);
	if (s->exit_code == 0 && !s->check_only)
		rw_indexer_log(NULL, RW_INDEXER_INFO, "stopped");
	return s->exit_code;
}

/* Large buffers (eth_getLogs answers of megabytes, COPY rows) come and go
 * all the time: glibc keeps freed memory for reuse instead of unmapping it
 * and faulting it in again at the next answer (a fifth of the indexer's
 * CPU in a backfill). What is live stays bounded by the indexer's budgets,
 * so the process keeps at most about that much. */
static void tune_malloc(void)
{
#ifdef __GLIBC__
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 128 << 20);
#endif
}

int main(int argc, char **argv)
{
	struct rw_cli cli = { .prog = "runwayd" };
	tune_malloc();
	const char *migrations = getenv("RUNWAY_MIGRATIONS");
	int check_only = 0;
	cli.database_url = getenv("RUNWAY_DATABASE_URL");
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r;
		if (rw_cli_is_help(argv[i])) {
			fputs(usage, stdout);
			return RW_EXIT_OK;
		}
		if (strcmp(argv[i], "--version") == 0) {
			rw_cli_version(&cli);
			return RW_EXIT_OK;
		}
		if ((r = rw_cli_opt_value(&cli, argc, argv, &i, "config", &v)) != 0) {
			if (r < 0)
				return RW_EXIT_USAGE;
			cli.config_path = v;
			continue;
		}
		if ((r = rw_cli_opt_value(&cli, argc, argv, &i, "database-url", &v)) != 0) {
			if (r < 0)
				return RW_EXIT_USAGE;
			cli.database_url = v;
			continue;
		}
		if ((r = rw_cli_opt_value(&cli, argc, argv, &i, "migrations", &v)) != 0) {
			if (r < 0)
				return RW_EXIT_USAGE;
			migrations = v;
			continue;
		}
		if (strcmp(argv[i], "--check") == 0) {
			check_only = 1;
			continue;
		}
		if (strcmp(argv[i], "--verbose") == 0) {
			rw_indexer_log_level(RW_INDEXER_DEBUG);
			continue;
		}
		return rw_cli_usage(&cli, "unknown option '%s'", argv[i]);
	}
	if (!migrations || !*migrations)
		migrations = RUNWAY_SOURCE_ROOT "/migrations";
	if (!cli.config_path) {
		if (!check_only)
			return rw_cli_usage(&cli, "--config FILE is required");
		if (check_schema(&cli, cli.database_url, migrations, NULL) < 0)
			return RW_EXIT_FAIL;
		fprintf(stderr, "runwayd: database schema is up to date\n");
		return RW_EXIT_OK;
	}
	signal(SIGPIPE, SIG_IGN);

	struct svc s;
	memset(&s, 0, sizeof(s));
	s.check_only = check_only;
	char err[1024];
	if (rw_config_load(&s.cfg, cli.config_path, err, sizeof(err)) < 0) {
		rw_cli_err(&cli, "%s", err);
		return RW_EXIT_FAIL;
	}
	s.conninfo =
		cli.database_url && *cli.database_url ? cli.database_url : s.cfg->database_url.v;
	const char *map_path = s.cfg->event_map.v;
	if (rw_eventmap_load(&s.map, s.cfg->abi_dir.v, map_path, err, sizeof(err)) < 0) {
		rw_cli_err(&cli, "event map: %s", err);
		rw_config_free(s.cfg);
		return RW_EXIT_FAIL;
	}
	int rc = RW_EXIT_FAIL;
	if (!check_only && relayer_setup(&s) < 0) {
		rw_eventmap_free(s.map);
		rw_config_free(s.cfg);
		return RW_EXIT_FAIL;
	}
	if (check_schema(&cli, s.conninfo, migrations, s.map) == 0) {
		if (check_only)
			fprintf(stderr,
				"runwayd: database schema and event tables are up to date\n");
		rc = run(&s);
	}
	rw_relayer_errors_free(s.errors);
	rw_key_cleanup();
	rw_eventmap_free(s.map);
	rw_config_free(s.cfg);
	return rc;
}
