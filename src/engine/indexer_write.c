/* indexer_write.c: every SQL job of the indexer: the configuration rows
 * (with the eth_calls they need), loading sources and cursors, the commit
 * of a range, pruning. The design is in indexer_int.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "err.h"
#include "hex.h"
#include "indexer_int.h"
#include "keystore.h"

/* ---- SQL ---------------------------------------------------------------- */

/* The cursor guard: the first statement of every range commit. Fails the
 * transaction (22P02) unless every source of the lane was at from. */
static const char sql_guard[] =
	"WITH u AS (UPDATE indexer_cursor SET next_block = $3::bigint, updated_at = now() "
	"WHERE chain_id = $1::bigint AND source_id = ANY($2::bigint[]) "
	"AND next_block = $4::bigint RETURNING 1) "
	"SELECT ('" IX_GUARD_TAG ": ' || count(*) || ' of ' || $5::bigint || "
	"' cursors were at block ' || $4::bigint)::integer "
	"FROM u HAVING count(*) <> $5::bigint";

static const char sql_quiet[] = "SET LOCAL client_min_messages = warning";

static const char sql_block_cols[] = "(chain_id, number, hash, parent_hash, timestamp)";

static const char sql_stg_block[] =
	"CREATE TEMP TABLE IF NOT EXISTS rw_stg_block (LIKE indexer_block) ON COMMIT DELETE ROWS";

static const char sql_block_merge[] =
	"INSERT INTO indexer_block (chain_id, number, hash, parent_hash, timestamp) "
	"SELECT chain_id, number, hash, parent_hash, timestamp FROM rw_stg_block "
	"ON CONFLICT DO NOTHING";

/* Fails the transaction when a header fetched by a lower lane differs from
 * the stored one at its height (a reorg the top lane has not seen yet). */
static const char sql_block_check[] =
	"SELECT ('" IX_HDR_TAG ": ' || count(*) || ' fetched headers differ from the stored "
	"ones, the first at block ' || min(s.number))::integer "
	"FROM rw_stg_block s JOIN indexer_block b ON b.chain_id = s.chain_id "
	"AND b.number = s.number AND b.hash <> s.hash HAVING count(*) > 0";

static const char sql_head[] =
	"INSERT INTO chain_head (chain_id, head_number, head_hash, head_timestamp, confirmations, "
	"finalized_number) VALUES ($1::bigint, $2::bigint, decode($3, 'hex'), $4::bigint, "
	"$5::integer, $6::bigint) ON CONFLICT (chain_id) DO UPDATE SET "
	"head_number = EXCLUDED.head_number, head_hash = EXCLUDED.head_hash, "
	"head_timestamp = EXCLUDED.head_timestamp, confirmations = EXCLUDED.confirmations, "
	"finalized_number = coalesce(EXCLUDED.finalized_number, chain_head.finalized_number), "
	"updated_at = now()";

/* Watched-only tokens re-read history from the start of any watched address
 * added in this transaction (added_at defaults to now(), the transaction's
 * start time). */
static const char sql_lower[] =
	"UPDATE indexer_cursor c SET next_block = greatest(s.start_block, w.since), "
	"updated_at = now() FROM indexer_source s, "
	"(SELECT min(start_block) AS since FROM watched_address "
	"WHERE chain_id = $1::bigint AND added_at = now()) w "
	"WHERE s.id = c.source_id AND s.chain_id = $1::bigint AND s.kind = '" RW_CONFIG_KIND_TOKEN
	"' AND s.watch = 'watched' AND w.since IS NOT NULL "
	"AND c.next_block > greatest(s.start_block, w.since)";

/* The chain row: inserted, or renamed (0028: safe against the relayer's
 * concurrent insert of the same row). */
static const char sql_chain[] = "SELECT rw_chain_register($1::bigint, $2)";

/* A configured source; its cursor goes back to the new start when the start
 * moved down or a token turned from watched to all (history to re-read),
 * up to the start when it moved up. */
static const char sql_source[] =
	"WITH old AS (SELECT s.id, s.start_block, s.watch FROM indexer_source s "
	"WHERE s.chain_id = $1::bigint AND s.address = decode($2, 'hex') AND s.kind = $3), "
	"up AS (INSERT INTO indexer_source (chain_id, address, kind, start_block, watch, "
	"config_name) VALUES ($1::bigint, decode($2, 'hex'), $3, $4::bigint, $5, $6) "
	"ON CONFLICT (chain_id, address, kind) DO UPDATE SET start_block = EXCLUDED.start_block, "
	"watch = EXCLUDED.watch, config_name = EXCLUDED.config_name RETURNING id), "
	"want AS (SELECT old.id, CASE WHEN old.start_block > $4::bigint OR "
	"(old.watch IS DISTINCT FROM 'all' AND $5 = 'all') THEN least(c.next_block, $4::bigint) "
	"ELSE greatest(c.next_block, $4::bigint) END AS next "
	"FROM old JOIN indexer_cursor c ON c.source_id = old.id) "
	"UPDATE indexer_cursor c SET next_block = want.next, updated_at = now() FROM want "
	"WHERE c.source_id = want.id AND c.next_block <> want.next";

static const char sql_token[] =
	"INSERT INTO token (chain_id, address, symbol, decimals, name) "
	"VALUES ($1::bigint, decode($2, 'hex'), $3, $4::smallint, $5) "
	"ON CONFLICT (chain_id, address) DO UPDATE SET symbol = EXCLUDED.symbol, "
	"decimals = EXCLUDED.decimals, name = EXCLUDED.name, updated_at = now()";

static const char sql_provider[] =
	"INSERT INTO provider_info (chain_id, address, token, payee, price, consensus, origin) "
	"VALUES ($1::bigint, decode($2, 'hex'), decode($3, 'hex'), decode($4, 'hex'), "
	"$5::numeric, decode($6, 'hex'), 'config') ON CONFLICT (chain_id, address) DO UPDATE SET "
	"token = EXCLUDED.token, payee = EXCLUDED.payee, price = EXCLUDED.price, "
	"consensus = EXCLUDED.consensus WHERE provider_info.origin = 'config'";

static const char sql_balance[] =
	"INSERT INTO balance_info (chain_id, address, token, min_deposit, max_balance, "
	"grace_period) VALUES ($1::bigint, decode($2, 'hex'), decode($3, 'hex'), $4::numeric, "
	"$5::numeric, $6::numeric) ON CONFLICT (chain_id, address) DO UPDATE SET "
	"token = EXCLUDED.token, min_deposit = EXCLUDED.min_deposit, "
	"max_balance = EXCLUDED.max_balance, grace_period = EXCLUDED.grace_period";

/* The indexer's own watched addresses of one reason ($4: 'extra' from the
 * configuration, 'relayer' for the relayer's account): added, and removed
 * when no longer configured. */
static const char sql_watch[] =
	"INSERT INTO watched_address (chain_id, address, reason, start_block) "
	"SELECT $1::bigint, decode(a, 'hex'), $4, $3::bigint FROM unnest($2::text[]) a "
	"ON CONFLICT DO NOTHING";

static const char sql_unwatch[] =
	"DELETE FROM watched_address WHERE chain_id = $1::bigint AND reason = $3 "
	"AND source_id IS NULL AND NOT (encode(address, 'hex') = ANY($2::text[]))";

static const char sql_load_sources[] =
	"SELECT s.id, encode(s.address, 'hex'), s.kind, s.start_block, coalesce(s.watch, ''), "
	"c.next_block, (s.config_name IS NOT NULL)::int, coalesce(s.discovered_by, 0) "
	"FROM indexer_source s JOIN indexer_cursor c ON c.source_id = s.id "
	"WHERE s.chain_id = $1::bigint ORDER BY s.id";

static const char sql_load_watched[] =
	"SELECT DISTINCT encode(address, 'hex') FROM watched_address WHERE chain_id = $1::bigint "
	"ORDER BY 1";

static const char sql_load_headers[] =
	"SELECT number, encode(hash, 'hex'), encode(parent_hash, 'hex'), timestamp "
	"FROM indexer_block WHERE chain_id = $1::bigint ORDER BY number DESC LIMIT $2::bigint";

static const char sql_prune[] = "SELECT rw_indexer_prune_blocks($1::bigint, $2::bigint)";

/* ---- helpers ------------------------------------------------------------ */

static void hex40(char out[41], const uint8_t a[20])
{
	rw_hex_encode(out, a, 20, 0);
}

static int add(struct rw_pg_job *job, int *rc, const char *sql, int n, const char *const *v)
{
	if (*rc == 0)
		*rc = rw_pg_job_sql(job, sql, n, v, NULL, NULL, 0);
	return *rc;
}

/* Formats a pg error for the log: "SQLSTATE message (detail)". */
static void pg_message(char *out, size_t n, const struct rw_pg_error *e)
{
	snprintf(out, n, "%s%s%s%s%s%s", e->sqlstate[0] ? e->sqlstate : "",
		 e->sqlstate[0] ? " " : "", e->message, e->detail ? " (" : "",
		 e->detail ? e->detail : "", e->detail ? ")" : "");
}

/* Returns 1 for errors that retrying cures by itself (the connection). */
static int transient(const struct rw_pg_error *e)
{
	return e->kind == RW_PG_ERR_LOST || e->kind == RW_PG_ERR_CONNECT ||
	       strncmp(e->sqlstate, "57P", 3) == 0 || strncmp(e->sqlstate, "08", 2) == 0;
}

/* Parses a decimal text column. Returns 0 or RW_EINVAL. */
static int get_u64(uint64_t *ret, const PGresult *res, int row, int col)
{
	const char *s = PQgetvalue(res, row, col);
	char *end;
	if (!s || !*s || *s == '-')
		return RW_EINVAL;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end)
		return RW_EINVAL;
	*ret = v;
	return 0;
}

static int get_hex(uint8_t *out, size_t n, const PGresult *res, int row, int col)
{
	const char *s = PQgetvalue(res, row, col);
	return rw_hex_decode_fixed(out, n, s, strlen(s), RW_HEX_PREFIX_FORBIDDEN);
}

/* A step's callback in an older generation or after stop: account and
 * return 1. */
static int stale(struct rw_indexer *ix, uint64_t gen)
{
	ix->step_busy = 0;
	if (ix->state >= IX_S_STOPPING)
		return 1;
	if (gen != ix->gen) {
		rw_indexer_step(ix);
		return 1;
	}
	return 0;
}

/* Carries the generation of a step's request. */
struct step_req {
	struct rw_indexer *ix;
	uint64_t gen;
};

static struct step_req *step_req(struct rw_indexer *ix)
{
	struct step_req *s = malloc(sizeof(*s));
	if (s) {
		s->ix = ix;
		s->gen = ix->gen;
	}
	return s;
}

/* ---- setup: immutables by eth_call -------------------------------------- */

static const char *const provider_getters[] = { "token()", "payee()", "price()", "consensus()" };
static const char *const balance_getters[] = { "token()", "minDeposit()", "maxBalance()",
					       "gracePeriod()" };
#define GETTERS 4

static json_t *call_params(const uint8_t to[20], const char *sig)
{
	uint8_t sel[4];
	char a[43], d[11];
	rw_abi_selector(sel, sig, strlen(sig));
	rw_hex_encode(a, to, 20, 1);
	rw_hex_encode(d, sel, 4, 1);
	return json_pack("[{s:s,s:s},s]", "to", a, "data", d, "latest");
}

/* Reads the 32-byte word of an eth_call answer. Returns 0, or RW_EINVAL
 * with why set. */
static int call_word(uint8_t w[32], const struct rw_rpc_result *res, const char **why)
{
	if (res->cls != RW_RPC_OK) {
		*why = res->cls == RW_RPC_REVERTED ? "it reverted" : rw_rpc_class_name(res->cls);
		return RW_EINVAL;
	}
	struct rw_buf b;
	rw_buf_init(&b, 4096);
	int r = rw_rpc_get_hex_bytes(&b, res->result);
	if (r >= 0 && b.len >= 32)
		memcpy(w, b.p, 32);
	else
		r = RW_EINVAL;
	if (r < 0)
		*why = b.len == 0 ? "an empty answer (no contract there at the head?)"
				  : "an answer shorter than a word";
	rw_buf_free(&b);
	return r < 0 ? r : 0;
}

/* Fills im from the four getters' answers. Returns 0, or RW_EINVAL with
 * *why and *what (the getter) set. */
static int take_immutables(struct ix_immutables *im, const struct rw_rpc_result *res, int balance,
			   const char **what, const char **why)
{
	const char *const *names = balance ? balance_getters : provider_getters;
	uint8_t w[4][32];
	for (int i = 0; i < GETTERS; i++) {
		*what = names[i];
		if (call_word(w[i], &res[i], why) < 0)
			return RW_EINVAL;
	}
	*why = "a value with dirty high bits";
	rw_u256 v[3];
	for (int i = 1; i < GETTERS; i++) {
		*what = names[i];
		if (!balance && i != 2)
			continue;
		if (rw_abi_decode_uint256(&v[i - 1], w[i], 32) < 0)
			return RW_EINVAL;
	}
	*what = names[0];
	if (rw_abi_decode_address(im->token, w[0], 32) < 0)
		return RW_EINVAL;
	if (balance) {
		rw_u256_format_dec(im->min_deposit, &v[0]);
		rw_u256_format_dec(im->max_balance, &v[1]);
		rw_u256_format_dec(im->grace_period, &v[2]);
	} else if (rw_abi_decode_address(im->payee, w[1], 32) < 0 ||
		   rw_abi_decode_address(im->consensus, w[3], 32) < 0) {
		*what = "payee() or consensus()";
		return RW_EINVAL;
	} else {
		rw_u256_format_dec(im->price, &v[1]);
	}
	im->ok = 1;
	return 0;
}

/* Any transport-like failure means the whole step is retried. */
static int retryable(const struct rw_rpc_result *res, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (res[i].cls != RW_RPC_OK && rw_rpc_class_retryable(res[i].cls))
			return 1;
	return 0;
}

static void on_calls(struct rw_rpc *rpc, const struct rw_rpc_result *res, size_t n, void *udata)
{
	struct step_req *s = udata;
	struct rw_indexer *ix = s->ix;
	uint64_t gen = s->gen;
	(void)rpc;
	free(s);
	if (stale(ix, gen))
		return;
	if (retryable(res, n)) {
		for (size_t i = 0; i < n; i++)
			if (res[i].cls != RW_RPC_OK) {
				rw_indexer_rpc_failed(ix, "reading contract immutables", &res[i]);
				break;
			}
		rw_indexer_step_retry(ix);
		return;
	}
	const struct rw_config_chain *ch = ix->ch;
	for (size_t i = 0; i < ch->n_providers + ch->n_balances; i++) {
		int bal = i >= ch->n_providers;
		size_t k = bal ? i - ch->n_providers : i;
		struct ix_immutables *im = bal ? &ix->bal[k] : &ix->prov[k];
		const struct rw_config_contract *c = bal ? &ch->balances[k] : &ch->providers[k];
		const char *what = "", *why = "";
		if (take_immutables(im, res + i * GETTERS, bal, &what, &why) < 0) {
			char a[43];
			rw_hex_encode(a, c->address, 20, 1);
			rw_indexer_say(ix, RW_INDEXER_WARN,
				       "%s %s at %s: %s gave %s; its %s row is left as it is",
				       bal ? "balance contract" : "provider",
				       c->name.v ? c->name.v : "", a, what, why,
				       bal ? "balance_info" : "provider_info");
		}
	}
	ix->backoff_ms = 0;
	ix->state = IX_S_UPSERT;
	rw_indexer_step(ix);
}

int rw_indexer_calls(struct rw_indexer *ix)
{
	const struct rw_config_chain *ch = ix->ch;
	size_t n = (ch->n_providers + ch->n_balances) * GETTERS;
	free(ix->prov);
	free(ix->bal);
	ix->prov = calloc(ch->n_providers + 1, sizeof(*ix->prov));
	ix->bal = calloc(ch->n_balances + 1, sizeof(*ix->bal));
	if (!ix->prov || !ix->bal)
		return RW_ENOMEM;
	if (n == 0) {
		ix->state = IX_S_UPSERT;
		rw_indexer_step(ix);
		return 0;
	}
	if (n > RW_RPC_MAX_BATCH)
		return RW_ETOOBIG;
	struct rw_rpc_req *reqs = calloc(n, sizeof(*reqs));
	struct step_req *s = step_req(ix);
	if (!reqs || !s) {
		free(reqs);
		free(s);
		return RW_ENOMEM;
	}
	for (size_t i = 0; i < ch->n_providers + ch->n_balances; i++) {
		int bal = i >= ch->n_providers;
		const struct rw_config_contract *c =
			bal ? &ch->balances[i - ch->n_providers] : &ch->providers[i];
		for (size_t g = 0; g < GETTERS; g++) {
			reqs[i * GETTERS + g].method = "eth_call";
			reqs[i * GETTERS + g].params = call_params(
				c->address, bal ? balance_getters[g] : provider_getters[g]);
		}
	}
	struct rw_rpc_send_opts o = { .as_batch = 1 };
	int r = rw_rpc_send(ix->p.rpc, &o, reqs, n, on_calls, s);
	free(reqs);
	if (r < 0) {
		free(s);
		return r;
	}
	ix->step_busy = 1;
	return 0;
}

/* ---- setup: configuration rows ------------------------------------------ */

static void on_upsert(struct rw_pg *pg, const struct rw_pg_reply *reply, void *arg)
{
	struct step_req *s = arg;
	struct rw_indexer *ix = s->ix;
	uint64_t gen = s->gen;
	(void)pg;
	free(s);
	if (stale(ix, gen))
		return;
	if (reply->error) {
		char m[512];
		pg_message(m, sizeof(m), reply->error);
		rw_indexer_say(
			ix, RW_INDEXER_ERROR,
			"writing the configuration rows failed (statement %zu): %s; retrying",
			reply->error->statement, m);
		rw_indexer_step_retry(ix);
		return;
	}
	ix->backoff_ms = 0;
	ix->state = IX_S_LOAD;
	rw_indexer_step(ix);
}

static int upsert_source(struct rw_pg_job *job, int *rc, const struct rw_indexer *ix,
			 const uint8_t addr[20], const char *kind, uint64_t start,
			 const char *watch, const char *name)
{
	char a[41], st[24];
	hex40(a, addr);
	snprintf(st, sizeof(st), "%" PRIu64, start);
	const char *v[] = { ix->chain_id, a, kind, st, watch, name };
	return add(job, rc, sql_source, 6, v);
}

static int upsert_tokens(struct rw_pg_job *job, int *rc, const struct rw_indexer *ix)
{
	for (size_t i = 0; *rc == 0 && i < ix->ch->n_tokens; i++) {
		const struct rw_config_token *t = &ix->ch->tokens[i];
		const char *label = t->name.v ? t->name.v : t->symbol;
		upsert_source(job, rc, ix, t->address, RW_CONFIG_KIND_TOKEN, t->start_block.v,
			      t->watch == RW_CONFIG_WATCH_ALL ? "all" : "watched", label);
		char a[41], d[8];
		hex40(a, t->address);
		snprintf(d, sizeof(d), "%u", t->decimals);
		const char *v[] = { ix->chain_id, a, t->symbol, d, label };
		add(job, rc, sql_token, 5, v);
	}
	return *rc;
}

static int upsert_contracts(struct rw_pg_job *job, int *rc, const struct rw_indexer *ix,
			    const struct rw_config_contract *c, size_t n, const char *kind,
			    const char *list)
{
	for (size_t i = 0; *rc == 0 && i < n; i++) {
		char label[96];
		if (c[i].name.v)
			snprintf(label, sizeof(label), "%s", c[i].name.v);
		else
			snprintf(label, sizeof(label), "%s[%zu]", list, i);
		upsert_source(job, rc, ix, c[i].address, kind, c[i].start_block.v, NULL, label);
	}
	return *rc;
}

static int upsert_infos(struct rw_pg_job *job, int *rc, const struct rw_indexer *ix)
{
	const struct rw_config_chain *ch = ix->ch;
	for (size_t i = 0; *rc == 0 && i < ch->n_providers; i++) {
		const struct ix_immutables *im = &ix->prov[i];
		if (!im->ok)
			continue;
		char a[41], t[41], p[41], c[41];
		hex40(a, ch->providers[i].address);
		hex40(t, im->token);
		hex40(p, im->payee);
		hex40(c, im->consensus);
		const char *v[] = { ix->chain_id, a, t, p, im->price, c };
		add(job, rc, sql_provider, 6, v);
	}
	for (size_t i = 0; *rc == 0 && i < ch->n_balances; i++) {
		const struct ix_immutables *im = &ix->bal[i];
		if (!im->ok)
			continue;
		char a[41], t[41];
		hex40(a, ch->balances[i].address);
		hex40(t, im->token);
		const char *v[] = { ix->chain_id,    a, t, im->min_deposit, im->max_balance,
				    im->grace_period };
		add(job, rc, sql_balance, 6, v);
	}
	return *rc;
}

/* n addresses as a text[] literal of hex. */
static char *address_literal(const uint8_t (*a)[20], size_t n)
{
	char *s = malloc(3 + n * 41);
	if (!s)
		return NULL;
	size_t o = 0;
	s[o++] = '{';
	for (size_t i = 0; i < n; i++) {
		if (i)
			s[o++] = ',';
		hex40(s + o, a[i]);
		o += 40;
	}
	s[o++] = '}';
	s[o] = 0;
	return s;
}

/* The relayer's account, read from its keystore's "address" (nothing is
 * decrypted). Returns 1 and fills addr, or 0 (no relayer, or a keystore
 * that cannot be read: logged, the relayer will say more). */
static int relayer_address(const struct rw_indexer *ix, uint8_t addr[20])
{
	const struct rw_config_relayer *rl = &ix->ch->relayer;
	if (!rl->enabled || !rl->keystore)
		return 0;
	char *json = NULL;
	size_t len = 0;
	int r = rw_keystore_read_file(&json, &len, rl->keystore);
	if (r == 0)
		r = rw_keystore_address(addr, json, len, NULL);
	free(json);
	if (r < 0) {
		rw_indexer_say(ix, RW_INDEXER_WARN,
			       "relayer keystore %s: cannot read its address (%s); the relayer's "
			       "token transfers are not watched",
			       rl->keystore, rw_strerror(r));
		return 0;
	}
	return 1;
}

/* Adds the watched addresses of one reason and drops the stale ones. */
static int upsert_watched(struct rw_pg_job *job, int *rc, const struct rw_indexer *ix,
			  const uint8_t (*a)[20], size_t n, const char *reason)
{
	char start[24];
	char *list = address_literal(a, n);
	if (!list)
		return *rc = RW_ENOMEM;
	snprintf(start, sizeof(start), "%" PRIu64, ix->ch->start_block.v);
	const char *v[] = { ix->chain_id, list, start, reason };
	const char *u[] = { ix->chain_id, list, reason };
	add(job, rc, sql_watch, 4, v);
	add(job, rc, sql_unwatch, 3, u);
	free(list);
	return *rc;
}

int rw_indexer_upsert(struct rw_indexer *ix)
{
	const struct rw_config_chain *ch = ix->ch;
	struct rw_pg_job *job = rw_pg_job_new(RW_PG_TX);
	struct step_req *s = step_req(ix);
	if (!job || !s) {
		rw_pg_job_free(job);
		free(s);
		return RW_ENOMEM;
	}
	int rc = 0;
	uint8_t relayer[1][20];
	size_t n_relayer = (size_t)relayer_address(ix, relayer[0]);
	const char *cv[] = { ix->chain_id, ch->name };
	add(job, &rc, sql_chain, 2, cv);
	upsert_tokens(job, &rc, ix);
	upsert_contracts(job, &rc, ix, ch->providers, ch->n_providers, RW_CONFIG_KIND_PROVIDER,
			 "providers");
	upsert_contracts(job, &rc, ix, ch->marketplaces, ch->n_marketplaces,
			 RW_CONFIG_KIND_MARKETPLACE, "marketplaces");
	upsert_contracts(job, &rc, ix, ch->balances, ch->n_balances, RW_CONFIG_KIND_BALANCE,
			 "balances");
	upsert_infos(job, &rc, ix);
	upsert_watched(job, &rc, ix, (const uint8_t(*)[20])ch->watched, ch->n_watched, "extra");
	upsert_watched(job, &rc, ix, (const uint8_t(*)[20])relayer, n_relayer, "relayer");
	add(job, &rc, sql_lower, 1, cv);
	if (rc == 0)
		rc = rw_pg_submit(ix->p.pg, job, on_upsert, s);
	else
		rw_pg_job_free(job);
	if (rc < 0) {
		free(s);
		return rc;
	}
	ix->step_busy = 1;
	return 0;
}

/* ---- loading sources and cursors ---------------------------------------- */

/* Is (address, kind) in the configuration? */
static int configured(const struct rw_config_chain *ch, const uint8_t a[20], const char *kind)
{
	if (strcmp(kind, RW_CONFIG_KIND_TOKEN) == 0) {
		for (size_t i = 0; i < ch->n_tokens; i++)
			if (!memcmp(ch->tokens[i].address, a, 20))
				return 1;
		return 0;
	}
	const struct rw_config_contract *c = NULL;
	size_t n = 0;
	if (strcmp(kind, RW_CONFIG_KIND_PROVIDER) == 0)
		c = ch->providers, n = ch->n_providers;
	else if (strcmp(kind, RW_CONFIG_KIND_MARKETPLACE) == 0)
		c = ch->marketplaces, n = ch->n_marketplaces;
	else if (strcmp(kind, RW_CONFIG_KIND_BALANCE) == 0)
		c = ch->balances, n = ch->n_balances;
	for (size_t i = 0; i < n; i++)
		if (!memcmp(c[i].address, a, 20))
			return 1;
	return 0;
}

static struct ix_source *find_id(struct rw_indexer *ix, int64_t id)
{
	for (size_t i = 0; i < ix->n_src; i++)
		if (ix->src[i].id == id)
			return &ix->src[i];
	return NULL;
}

/* Decides which sources are indexed: configured now, or found by an indexed
 * factory; and only kinds the event map has events for. */
static void mark_indexed(struct rw_indexer *ix)
{
	for (size_t i = 0; i < ix->n_src; i++) {
		struct ix_source *s = &ix->src[i];
		s->indexed = configured(ix->ch, s->addr, s->kind);
		if (!s->indexed && s->configured && !ix->loaded_once) {
			char a[43];
			rw_hex_encode(a, s->addr, 20, 1);
			rw_indexer_say(ix, RW_INDEXER_INFO,
				       "%s %s is in the database but no longer configured: not "
				       "indexed (its cursor stays at block %" PRIu64 ")",
				       s->kind, a, s->next);
		}
	}
	for (int changed = 1; changed;) {
		changed = 0;
		for (size_t i = 0; i < ix->n_src; i++) {
			struct ix_source *s = &ix->src[i];
			if (s->indexed || !s->discovered_by)
				continue;
			struct ix_source *f = find_id(ix, s->discovered_by);
			if (f && f->indexed)
				s->indexed = changed = 1;
		}
	}
	for (size_t i = 0; i < ix->n_src; i++) {
		struct ix_source *s = &ix->src[i];
		if (s->indexed && rw_eventmap_topics(ix->p.map, s->kind, NULL, 0) == 0) {
			s->indexed = 0;
			if (!ix->loaded_once)
				rw_indexer_say(ix, RW_INDEXER_WARN,
					       "kind %s has no event in the event map: its "
					       "contracts are not indexed",
					       s->kind);
		}
	}
}

static int take_sources(struct rw_indexer *ix, const PGresult *res)
{
	int n = PQntuples(res);
	struct ix_source *v = calloc((size_t)n + 1, sizeof(*v));
	if (!v)
		return RW_ENOMEM;
	int rc = 0;
	for (int i = 0; rc == 0 && i < n; i++) {
		struct ix_source *s = &v[i];
		uint64_t id, by, configured_flag;
		if (get_u64(&id, res, i, 0) < 0 || get_hex(s->addr, 20, res, i, 1) < 0 ||
		    get_u64(&s->start, res, i, 3) < 0 || get_u64(&s->next, res, i, 5) < 0 ||
		    get_u64(&configured_flag, res, i, 6) < 0 || get_u64(&by, res, i, 7) < 0) {
			rc = RW_EINVAL;
			break;
		}
		s->id = (int64_t)id;
		s->discovered_by = (int64_t)by;
		s->configured = configured_flag != 0;
		s->watched = strcmp(PQgetvalue(res, i, 4), "watched") == 0;
		s->kind = strdup(PQgetvalue(res, i, 2));
		if (!s->kind)
			rc = RW_ENOMEM;
	}
	if (rc < 0) {
		for (int i = 0; i < n; i++)
			free(v[i].kind);
		free(v);
		return rc;
	}
	for (size_t i = 0; i < ix->n_src; i++)
		free(ix->src[i].kind);
	free(ix->src);
	ix->src = v;
	ix->n_src = (size_t)n;
	return 0;
}

static int take_watched(struct rw_indexer *ix, const PGresult *res)
{
	int n = PQntuples(res);
	uint8_t(*w)[20] = calloc((size_t)n + 1, 20);
	if (!w)
		return RW_ENOMEM;
	for (int i = 0; i < n; i++) {
		if (get_hex(w[i], 20, res, i, 0) < 0) {
			free(w);
			return RW_EINVAL;
		}
	}
	free(ix->watched);
	ix->watched = w;
	ix->n_watched = (size_t)n;
	return 0;
}

static int take_headers(struct rw_indexer *ix, const PGresult *res)
{
	rw_indexer_ring_clear(&ix->ring);
	ix->high_water = -1;
	int n = PQntuples(res);
	for (int i = 0; i < n; i++) {
		struct ix_hdr h;
		if (get_u64(&h.number, res, i, 0) < 0 || get_hex(h.hash, 32, res, i, 1) < 0 ||
		    get_hex(h.parent, 32, res, i, 2) < 0 || get_u64(&h.timestamp, res, i, 3) < 0)
			return RW_EINVAL;
		rw_indexer_ring_put(&ix->ring, &h);
		if ((int64_t)h.number > ix->high_water)
			ix->high_water = (int64_t)h.number;
	}
	if (ix->high_water >= 0 && !ix->last_prune)
		ix->last_prune = (uint64_t)ix->high_water;
	return 0;
}

static void on_load(struct rw_pg *pg, const struct rw_pg_reply *reply, void *arg)
{
	struct step_req *s = arg;
	struct rw_indexer *ix = s->ix;
	uint64_t gen = s->gen;
	(void)pg;
	free(s);
	if (stale(ix, gen))
		return;
	if (reply->error) {
		char m[512];
		pg_message(m, sizeof(m), reply->error);
		rw_indexer_say(ix, transient(reply->error) ? RW_INDEXER_WARN : RW_INDEXER_ERROR,
			       "loading sources failed: %s; retrying", m);
		rw_indexer_step_retry(ix);
		return;
	}
	int rc = take_sources(ix, reply->results[0]);
	if (rc == 0)
		rc = take_watched(ix, reply->results[1]);
	if (rc == 0)
		rc = take_headers(ix, reply->results[2]);
	if (rc == 0) {
		mark_indexed(ix);
		rc = rw_indexer_lanes_build(ix);
	}
	if (rc < 0) {
		rw_indexer_say(ix, RW_INDEXER_ERROR, "loading sources failed: %s; retrying",
			       rw_strerror(rc));
		rw_indexer_step_retry(ix);
		return;
	}
	ix->loaded_once = 1;
	ix->backoff_ms = 0;
	if (ix->trust_tip) {
		ix->trust_tip = 0;
		rw_indexer_run(ix);
		return;
	}
	ix->state = IX_S_VERIFY;
	rw_indexer_step(ix);
}

int rw_indexer_load(struct rw_indexer *ix)
{
	struct rw_pg_job *job = rw_pg_job_new(RW_PG_TX);
	struct step_req *s = step_req(ix);
	if (!job || !s) {
		rw_pg_job_free(job);
		free(s);
		return RW_ENOMEM;
	}
	char lim[24];
	snprintf(lim, sizeof(lim), "%" PRIu64, ix->ch->reorg_window.v + 1);
	const char *v[] = { ix->chain_id, lim };
	int rc = 0;
	add(job, &rc, sql_load_sources, 1, v);
	add(job, &rc, sql_load_watched, 1, v);
	add(job, &rc, sql_load_headers, 2, v);
	if (rc == 0)
		rc = rw_pg_submit(ix->p.pg, job, on_load, s);
	else
		rw_pg_job_free(job);
	if (rc < 0) {
		free(s);
		return rc;
	}
	ix->step_busy = 1;
	return 0;
}

/* ---- the commit of a range ---------------------------------------------- */

static void on_commit(struct rw_pg *pg, const struct rw_pg_reply *reply, void *arg)
{
	struct ix_range *r = arg;
	(void)pg;
	if (!reply->error) {
		rw_indexer_commit_done(r, IX_C_OK, NULL);
		return;
	}
	const struct rw_pg_error *e = reply->error;
	char m[512];
	pg_message(m, sizeof(m), e);
	switch (e->kind) {
	case RW_PG_ERR_SERVER:
		if (strcmp(e->sqlstate, "22P02") == 0 &&
		    (strstr(e->message, IX_GUARD_TAG) || strstr(e->message, IX_HDR_TAG))) {
			rw_indexer_commit_done(r, IX_C_GUARD, m);
			return;
		}
		/* Rows thought new were there (never expected): the retry merges
		 * through the staging tables instead of failing forever. */
		if (strcmp(e->sqlstate, "23505") == 0 && !r->staged) {
			r->force_staged = 1;
			rw_indexer_commit_done(r, IX_C_EXISTS, m);
			return;
		}
		rw_indexer_commit_done(r, IX_C_FAILED, m);
		return;
	case RW_PG_ERR_LOST:
	case RW_PG_ERR_CONNECT: rw_indexer_commit_done(r, IX_C_LOST, m); return;
	case RW_PG_ERR_CLOSED: rw_indexer_commit_done(r, IX_C_CLOSED, m); return;
	default: rw_indexer_commit_done(r, IX_C_FAILED, m); return;
	}
}

/* The COPY producer of a range's rows: buf, then the buffers of merged
 * ranges, a slice at a time. */
static int rows_part(struct rw_buf *out, void *arg)
{
	struct ix_rows *rows = arg;
	const size_t slice = (size_t)1 << 20;
	while (rows->sent_part <= rows->n_more) {
		const struct rw_buf *b =
			rows->sent_part ? &rows->more[rows->sent_part - 1] : &rows->buf;
		size_t left = b->len - rows->sent_off;
		if (left) {
			size_t take = left < slice ? left : slice;
			int rc = rw_buf_append(out, b->p + rows->sent_off, take);
			if (rc < 0)
				return rc;
			rows->sent_off += take;
			return rows->sent_part < rows->n_more || rows->sent_off < b->len;
		}
		rows->sent_part++;
		rows->sent_off = 0;
	}
	return 0;
}

/* Adds the COPY of rows (from the start: a retried commit sends them
 * again). */
static int copy_rows(struct rw_pg_job *job, const char *sql, struct ix_rows *rows)
{
	rows->sent_part = 0;
	rows->sent_off = 0;
	if (!rows->n_more)
		return rw_pg_job_copy_data(job, sql, rows->buf.p, rows->buf.len);
	return rw_pg_job_copy(job, sql, rows_part, rows);
}

/* "COPY t (cols) FROM STDIN (FORMAT binary)" or, for staging, the three
 * statements around rw_stg_<i>. */
static int add_rows(struct rw_pg_job *job, const struct rw_eventmap_event *ev, size_t i,
		    struct ix_rows *rows, int staged)
{
	size_t cap = 256;
	for (size_t c = 0; c < ev->n_cols; c++)
		cap += strlen(ev->cols[c].name) + 4;
	cap = cap * 2 + strlen(ev->table) * 3;
	char *cols = malloc(cap), *sql = malloc(2 * cap);
	int rc = cols && sql ? 0 : RW_ENOMEM;
	size_t o = 0;
	for (size_t c = 0; rc == 0 && c < ev->n_cols; c++)
		o += (size_t)snprintf(cols + o, cap - o, "%s\"%s\"", c ? ", " : "",
				      ev->cols[c].name);
	if (rc == 0 && !staged) {
		snprintf(sql, 2 * cap, "COPY \"%s\" (%s) FROM STDIN (FORMAT binary)", ev->table,
			 cols);
		rc = copy_rows(job, sql, rows);
	} else if (rc == 0) {
		snprintf(sql, 2 * cap,
			 "CREATE TEMP TABLE IF NOT EXISTS rw_stg_%zu (LIKE \"%s\") ON COMMIT "
			 "DELETE ROWS",
			 i, ev->table);
		add(job, &rc, sql, 0, NULL);
		snprintf(sql, 2 * cap, "COPY rw_stg_%zu (%s) FROM STDIN (FORMAT binary)", i, cols);
		if (rc == 0)
			rc = copy_rows(job, sql, rows);
		snprintf(sql, 2 * cap,
			 "INSERT INTO \"%s\" (%s) SELECT %s FROM rw_stg_%zu ON CONFLICT DO NOTHING",
			 ev->table, cols, cols, i);
		add(job, &rc, sql, 0, NULL);
	}
	free(cols);
	free(sql);
	return rc;
}

static int encode_headers(struct ix_range *r)
{
	struct rw_buf *b = &r->hdr_rows;
	b->len = 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < r->n_hdrs; i++) {
		const struct ix_hdr *h = &r->hdrs[i];
		rc = rw_pg_copy_row(b, 5);
		if (rc == 0)
			rc = rw_pg_copy_int8(b, (int64_t)r->ix->ch->chain_id);
		if (rc == 0)
			rc = rw_pg_copy_int8(b, (int64_t)h->number);
		if (rc == 0)
			rc = rw_pg_copy_bytea(b, h->hash, 32);
		if (rc == 0)
			rc = rw_pg_copy_bytea(b, h->parent, 32);
		if (rc == 0)
			rc = rw_pg_copy_int8(b, (int64_t)h->timestamp);
	}
	return rc;
}

static int add_headers(struct rw_pg_job *job, struct ix_range *r, int staged)
{
	int rc = encode_headers(r);
	char sql[256];
	if (rc < 0 || r->n_hdrs == 0)
		return rc;
	if (!staged) {
		snprintf(sql, sizeof(sql), "COPY indexer_block %s FROM STDIN (FORMAT binary)",
			 sql_block_cols);
		return rw_pg_job_copy_data(job, sql, r->hdr_rows.p, r->hdr_rows.len);
	}
	add(job, &rc, sql_stg_block, 0, NULL);
	snprintf(sql, sizeof(sql), "COPY rw_stg_block %s FROM STDIN (FORMAT binary)",
		 sql_block_cols);
	if (rc == 0)
		rc = rw_pg_job_copy_data(job, sql, r->hdr_rows.p, r->hdr_rows.len);
	add(job, &rc, sql_block_merge, 0, NULL);
	add(job, &rc, sql_block_check, 0, NULL);
	return rc;
}

static int add_head(struct rw_pg_job *job, int *rc, const struct ix_range *r)
{
	const struct rw_indexer *ix = r->ix;
	const struct ix_hdr *h = &r->hdrs[r->n_hdrs - 1];
	char num[24], hash[65], ts[24], conf[24], fin[24];
	snprintf(num, sizeof(num), "%" PRIu64, h->number);
	rw_hex_encode(hash, h->hash, 32, 0);
	snprintf(ts, sizeof(ts), "%" PRIu64, h->timestamp);
	snprintf(conf, sizeof(conf), "%" PRIu64, ix->ch->confirmations.v);
	snprintf(fin, sizeof(fin), "%" PRIu64, ix->finalized);
	const char *v[] = { ix->chain_id, num, hash, ts, conf, ix->finalized ? fin : NULL };
	return add(job, rc, sql_head, 6, v);
}

int rw_indexer_commit(struct ix_range *r)
{
	struct rw_indexer *ix = r->ix;
	struct ix_lane *lane = r->lane;
	const struct rw_eventmap *map = ix->p.map;
	r->staged = r->force_staged || (int64_t)r->from <= ix->high_water;
	struct rw_pg_job *job = rw_pg_job_new(RW_PG_TX);
	if (!job)
		return RW_ENOMEM;
	char to1[24], from[24], n[24];
	snprintf(to1, sizeof(to1), "%" PRIu64, r->to + 1);
	snprintf(from, sizeof(from), "%" PRIu64, r->from);
	snprintf(n, sizeof(n), "%zu", lane->n_src);
	const char *gv[] = { ix->chain_id, lane->ids, to1, from, n };
	int rc = 0;
	add(job, &rc, sql_guard, 5, gv);
	if (r->staged)
		add(job, &rc, sql_quiet, 0, NULL);
	for (size_t i = 0; rc == 0 && i < map->n_events; i++)
		if (r->rows[i].n)
			rc = add_rows(job, &map->events[i], i, &r->rows[i], r->staged);
	if (rc == 0)
		rc = add_headers(job, r, r->staged);
	if (r->window && r->n_hdrs)
		add_head(job, &rc, r);
	if (r->discovers)
		add(job, &rc, sql_lower, 1, gv);
	if (rc == 0)
		rc = rw_pg_submit(ix->p.pg, job, on_commit, r);
	else
		rw_pg_job_free(job);
	if (rc < 0)
		return rc;
	r->state = IX_R_COMMIT;
	r->commit_ms = rw_indexer_now(ix);
	ix->committing = r;
	return 0;
}

/* ---- pruning ------------------------------------------------------------ */

static void on_prune(struct rw_pg *pg, const struct rw_pg_reply *reply, void *arg)
{
	struct rw_indexer *ix = arg;
	(void)pg;
	ix->prune_busy = 0;
	if (ix->state >= IX_S_STOPPING)
		return;
	if (reply->error && reply->error->kind != RW_PG_ERR_CLOSED) {
		char m[512];
		pg_message(m, sizeof(m), reply->error);
		rw_indexer_say(ix, RW_INDEXER_WARN, "pruning old headers failed: %s", m);
	}
}

void rw_indexer_prune(struct rw_indexer *ix, uint64_t keep_from)
{
	if (ix->prune_busy)
		return;
	char k[24];
	snprintf(k, sizeof(k), "%" PRIu64, keep_from);
	const char *v[] = { ix->chain_id, k };
	struct rw_pg_job *job = rw_pg_job_new(0);
	int rc = job ? 0 : RW_ENOMEM;
	add(job, &rc, sql_prune, 2, v);
	if (rc == 0)
		rc = rw_pg_submit(ix->p.pg, job, on_prune, ix);
	else
		rw_pg_job_free(job);
	if (rc == 0)
		ix->prune_busy = 1;
}
