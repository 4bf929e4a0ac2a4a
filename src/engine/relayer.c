/* relayer.c: the relayer's life cycle, its rounds, logging, statement
 * parameters, stats and metrics. The steps of a round live in
 * relayer_sync.c, relayer_confirm.c, relayer_submit.c and relayer_intent.c
 * (relayer_int.h has the map). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "hex.h"
#include "key.h"
#include "relayer_int.h"
#include "log.h"
#include "metric.h"

/* ---- logging (engine/log.c) ------------------------------------------ */

_Static_assert((int)RW_RELAYER_DEBUG == (int)RW_LOG_DEBUG &&
		       (int)RW_RELAYER_ERROR == (int)RW_LOG_ERROR,
	       "log levels line up with engine/log.h");

static void vlog(const char *chain, enum rw_relayer_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void vlog(const char *chain, enum rw_relayer_level level, const char *fmt, va_list ap)
{
	char tag[96];
	if (chain)
		snprintf(tag, sizeof(tag), "%s relayer", chain);
	rw_logv(chain ? tag : NULL, (enum rw_log_level)level, fmt, ap);
}

void rw_relayer_log(const char *chain, enum rw_relayer_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(chain, level, fmt, ap);
	va_end(ap);
}

void rw_relayer_log_level(enum rw_relayer_level level)
{
	rw_log_set_level((enum rw_log_level)level);
}

void rw_relayer_say(const struct rw_relayer *rl, enum rw_relayer_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(rl->name, level, fmt, ap);
	va_end(ap);
}

void rw_relayer_rpc_failed(struct rw_relayer *rl, const char *what, const struct rw_rpc_result *res)
{
	if (res->cls == RW_RPC_CANCELLED)
		return;
	if ((size_t)res->cls < sizeof(rl->st.errors) / sizeof(rl->st.errors[0]))
		rl->st.errors[res->cls]++;
	char *ep = rw_config_mask(res->endpoint);
	rw_relayer_say(rl, RW_RELAYER_WARN, "%s failed: %s (%s), endpoint %s", what,
		       rw_rpc_class_name(res->cls), res->message, ep ? ep : "?");
	free(ep);
}

void rw_relayer_pg_failed(struct rw_relayer *rl, const char *what, const struct rw_pg_reply *reply)
{
	const struct rw_pg_error *e = reply->error;
	if (!e || e->kind == RW_PG_ERR_CLOSED)
		return;
	rl->st.db_errors++;
	rw_relayer_say(rl, RW_RELAYER_WARN, "%s: database: %s%s%s%s%s", what,
		       e->sqlstate[0] ? e->sqlstate : "", e->sqlstate[0] ? " " : "", e->message,
		       e->detail ? "; " : "", e->detail ? e->detail : "");
}

/* ---- names and defaults ------------------------------------------------ */

static const char *const step_names[RW_RELAYER_STEP_COUNT] = {
	[RW_RELAYER_STEP_ROUND] = "round",         [RW_RELAYER_STEP_ASSIGNED] = "assigned",
	[RW_RELAYER_STEP_REPLACED] = "replaced",   [RW_RELAYER_STEP_FILLED] = "filled",
	[RW_RELAYER_STEP_BROADCAST] = "broadcast", [RW_RELAYER_STEP_SENT] = "sent",
	[RW_RELAYER_STEP_RECEIPTS] = "receipts",   [RW_RELAYER_STEP_MINED] = "mined",
	[RW_RELAYER_STEP_STEERED] = "steered",
};

const char *rw_relayer_step_name(enum rw_relayer_step step)
{
	return (unsigned)step < RW_RELAYER_STEP_COUNT ? step_names[step] : "?";
}

static const char *const intent_states[RL_INTENT_STATES] = {
	"queued", "pending", "mined", "confirmed", "final", "reverted", "failed", "cancelled",
};

const char *rw_relayer_intent_state_name(size_t i)
{
	return i < RL_INTENT_STATES ? intent_states[i] : NULL;
}

static rw_u256 gwei(uint64_t n, uint64_t div)
{
	return rw_u256_from_u64(n * 1000000000ull / div);
}

/* Fee cap and least tip by chain id (RELAYER.md, "Fees"). */
static void chain_fees(uint64_t id, rw_u256 *cap, rw_u256 *tip)
{
	switch (id) {
	case 1:
	case 11155111:
	case 17000: /* Ethereum, Sepolia, Holesky */
		*cap = gwei(500, 1);
		*tip = gwei(1, 10);
		return;
	case 137:
	case 80002: /* Polygon PoS, Amoy: a 25 gwei least tip is enforced */
		*cap = gwei(5000, 1);
		*tip = gwei(30, 1);
		return;
	case 10:
	case 8453:
	case 42161:
	case 11155420:
	case 84532:
	case 421614: /* L2s */
		*cap = gwei(10, 1);
		*tip = gwei(1, 1000);
		return;
	case 31337:
	case 1337: /* dev chains */
		*cap = gwei(1000, 1);
		*tip = gwei(1, 1);
		return;
	}
	*cap = gwei(500, 1);
	*tip = gwei(1, 10);
}

void rw_relayer_opts_default(struct rw_relayer_opts *o, const struct rw_config_chain *chain)
{
	memset(o, 0, sizeof(*o));
	o->max_inflight = 64;
	chain_fees(chain ? chain->chain_id : 0, &o->fee_cap, &o->min_tip);
	o->tip_percentile = 50;
	o->fee_blocks = 10;
	o->base_fee_pct = 200;
	o->gas_margin_pct = 25;
	o->stuck_blocks = 3;
	o->stuck_ms = 60000;
	o->rebroadcast_ms = 15000;
	o->poll_ms = chain ? chain->poll_interval_ms.v : 2000;
	o->gap_grace_ms = 10000;
	o->confirmations = chain ? chain->confirmations.v : 12;
	o->settle_depth = chain ? chain->reorg_window.v : 64;
	o->warn_days = 7;
	o->estimate_retries = 5;
	o->estimate_retry_ms = 5000;
}

/* Zero numbers take the defaults; the rest is bounded. */
static void opts_complete(struct rw_relayer_opts *o, const struct rw_config_chain *chain)
{
	struct rw_relayer_opts d;
	rw_relayer_opts_default(&d, chain);
#define DEF(f)                                                                                     \
	do {                                                                                       \
		if (!o->f)                                                                         \
			o->f = d.f;                                                                \
	} while (0)
	DEF(max_inflight);
	DEF(tip_percentile);
	DEF(fee_blocks);
	DEF(base_fee_pct);
	DEF(stuck_blocks);
	DEF(stuck_ms);
	DEF(rebroadcast_ms);
	DEF(poll_ms);
	DEF(gap_grace_ms);
	DEF(warn_days);
	DEF(estimate_retries);
	DEF(estimate_retry_ms);
	DEF(settle_depth);
#undef DEF
	if (rw_u256_is_zero(&o->fee_cap))
		o->fee_cap = d.fee_cap;
	if (o->max_inflight > 1024)
		o->max_inflight = 1024;
	if (o->tip_percentile > 99)
		o->tip_percentile = 99;
	if (o->fee_blocks > 1024)
		o->fee_blocks = 1024;
	if (o->base_fee_pct < 100)
		o->base_fee_pct = 100;
	if (o->gas_margin_pct > 1000)
		o->gas_margin_pct = 1000;
}

/* ---- statement parameters and result cells ------------------------------- */

static void arg_put(struct rl_args *a, char *s)
{
	if (a->n >= RL_ARGS_MAX || (!s && !a->oom)) {
		free(s);
		a->oom = 1;
		return;
	}
	a->v[a->n++] = s;
}

void rw_relayer_arg_text(struct rl_args *a, const char *s)
{
	arg_put(a, strdup(s));
}

void rw_relayer_arg_null(struct rl_args *a)
{
	if (a->n >= RL_ARGS_MAX) {
		a->oom = 1;
		return;
	}
	a->v[a->n++] = NULL;
}

void rw_relayer_arg_u64(struct rl_args *a, uint64_t v)
{
	char s[24];
	snprintf(s, sizeof(s), "%" PRIu64, v);
	rw_relayer_arg_text(a, s);
}

void rw_relayer_arg_i64(struct rl_args *a, int64_t v)
{
	char s[24];
	snprintf(s, sizeof(s), "%" PRId64, v);
	rw_relayer_arg_text(a, s);
}

void rw_relayer_arg_u256(struct rl_args *a, const rw_u256 *v)
{
	char s[RW_U256_DEC_MAX];
	rw_u256_format_dec(s, v);
	rw_relayer_arg_text(a, s);
}

void rw_relayer_arg_bytea(struct rl_args *a, const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 3);
	if (s) {
		s[0] = '\\';
		rw_hex_encode(s + 1, p, n, 0);
		memmove(s + 2, s + 1, 2 * n + 1);
		s[1] = 'x';
	}
	arg_put(a, s);
}

void rw_relayer_arg_fees(struct rl_args *a, const struct rw_relayer_fees *f)
{
	rw_relayer_arg_text(a, f->type == 0 ? "0" : "2");
	if (f->type == 0) {
		rw_relayer_arg_u256(a, &f->gas_price);
		rw_relayer_arg_null(a);
		rw_relayer_arg_null(a);
	} else {
		rw_relayer_arg_null(a);
		rw_relayer_arg_u256(a, &f->max_fee);
		rw_relayer_arg_u256(a, &f->tip);
	}
}

static void args_free(struct rl_args *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->v[i]);
	a->n = 0;
}

/* ---- array parameters ------------------------------------------------------ */

/* The most an array literal may take; a round's batch stays far below
 * (relayer_intent.c caps the bytes it signs per round). */
#define RL_ARR_MAX ((size_t)64 << 20)

/* Starts the next element: "{" before the first, "," before the others. */
static void arr_sep(struct rl_arr *arr)
{
	if (arr->err)
		return;
	if (!arr->b.max)
		rw_buf_init(&arr->b, RL_ARR_MAX);
	int r = rw_buf_push(&arr->b, arr->n ? ',' : '{');
	if (r < 0)
		arr->err = r;
	arr->n++;
}

static void arr_put(struct rl_arr *arr, const char *s, size_t n)
{
	arr_sep(arr);
	if (!arr->err) {
		int r = rw_buf_append(&arr->b, s, n);
		if (r < 0)
			arr->err = r;
	}
}

void rw_relayer_arr_i64(struct rl_arr *arr, int64_t v)
{
	char s[24];
	int n = snprintf(s, sizeof(s), "%" PRId64, v);
	arr_put(arr, s, (size_t)n);
}

void rw_relayer_arr_u64(struct rl_arr *arr, uint64_t v)
{
	char s[24];
	int n = snprintf(s, sizeof(s), "%" PRIu64, v);
	arr_put(arr, s, (size_t)n);
}

void rw_relayer_arr_u256(struct rl_arr *arr, const rw_u256 *v)
{
	char s[RW_U256_DEC_MAX];
	rw_u256_format_dec(s, v);
	arr_put(arr, s, strlen(s));
}

void rw_relayer_arr_null(struct rl_arr *arr)
{
	arr_put(arr, "NULL", 4);
}

/* A bytea element: "\\x..." (the array's quoting takes one backslash,
 * bytea's hex input reads the rest). */
void rw_relayer_arr_bytea(struct rl_arr *arr, const uint8_t *p, size_t n)
{
	arr_sep(arr);
	if (arr->err)
		return;
	int r = rw_buf_reserve(&arr->b, 2 * n + 5);
	if (r < 0) {
		arr->err = r;
		return;
	}
	char *o = (char *)arr->b.p + arr->b.len;
	memcpy(o, "\"\\\\x", 4);
	rw_hex_encode(o + 4, p, n, 0);
	o[4 + 2 * n] = '"';
	arr->b.len += 2 * n + 5;
}

void rw_relayer_arr_text(struct rl_arr *arr, const char *s)
{
	arr_sep(arr);
	size_t n = strlen(s);
	if (arr->err)
		return;
	int r = rw_buf_reserve(&arr->b, 2 * n + 2);
	if (r < 0) {
		arr->err = r;
		return;
	}
	uint8_t *o = arr->b.p + arr->b.len, *start = o;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			*o++ = '\\';
		*o++ = c >= 0x20 && c < 0x7f ? c : '?';
	}
	*o++ = '"';
	arr->b.len += (size_t)(o - start);
}

void rw_relayer_arg_arr(struct rl_args *a, struct rl_arr *arr)
{
	if (!arr->err && !arr->b.max)
		rw_buf_init(&arr->b, RL_ARR_MAX);
	/* the closing brace and a NUL */
	int r = arr->err ? arr->err
		: arr->n ? rw_buf_append(&arr->b, "}", 2)
			 : rw_buf_append(&arr->b, "{}", 3);
	char *s = NULL;
	if (r == 0) {
		s = (char *)arr->b.p;
		arr->b = (struct rw_buf){ 0 };
	}
	rw_buf_free(&arr->b);
	*arr = (struct rl_arr){ 0 };
	arg_put(a, s); /* NULL: marks a failed */
}

int rw_relayer_job_add(struct rw_pg_job *job, const char *sql, struct rl_args *a)
{
	int r = a->oom ? RW_ENOMEM
		       : rw_pg_job_sql(job, sql, a->n, (const char *const *)a->v, NULL, NULL, 0);
	args_free(a);
	a->oom = 0;
	return r;
}

const char *rw_relayer_cell(const PGresult *res, int row, int col)
{
	if (!res || row >= PQntuples(res) || col >= PQnfields(res) || PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

int rw_relayer_cell_i64(int64_t *ret, const PGresult *res, int row, int col)
{
	const char *s = rw_relayer_cell(res, row, col);
	if (!s || !*s)
		return RW_EINVAL;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (*end)
		return RW_EINVAL;
	*ret = v;
	return 0;
}

int rw_relayer_cell_u256(rw_u256 *ret, const PGresult *res, int row, int col)
{
	const char *s = rw_relayer_cell(res, row, col);
	return s ? (rw_u256_parse_dec(ret, s, strlen(s)) < 0 ? RW_EINVAL : 0) : RW_EINVAL;
}

int rw_relayer_cell_hex(uint8_t *out, size_t n, const PGresult *res, int row, int col)
{
	const char *s = rw_relayer_cell(res, row, col);
	if (!s || rw_hex_decode_fixed(out, n, s, strlen(s), RW_HEX_PREFIX_FORBIDDEN) < 0)
		return RW_EINVAL;
	return 0;
}

/* ---- costs and sends ------------------------------------------------------- */

void rw_relayer_cost(rw_u256 *ret, uint64_t gas, const struct rw_relayer_fees *f,
		     const rw_u256 *value)
{
	rw_u256 g = rw_u256_from_u64(gas), c;
	const rw_u256 *price = f->type == 0 ? &f->gas_price : &f->max_fee;
	if (rw_u256_mul(&c, &g, price) < 0 || rw_u256_add(&c, &c, value) < 0)
		memset(&c, 0xff, sizeof(c));
	*ret = c;
}

void rw_relayer_committed(rw_u256 *ret, const struct rw_relayer *rl)
{
	rw_u256 sum = rw_u256_from_u64(0), c;
	for (size_t i = 0; i < rl->n_txs; i++) {
		const struct rl_tx *t = &rl->txs[i];
		if (t->state != RL_TX_SIGNED && t->state != RL_TX_SENT)
			continue;
		rw_relayer_cost(&c, t->gas_limit, &t->fees, &t->value);
		if (rw_u256_add(&sum, &sum, &c) < 0)
			memset(&sum, 0xff, sizeof(sum));
	}
	*ret = sum;
}

int rw_relayer_send_add(struct rw_relayer *rl, int64_t id, uint64_t nonce, const uint8_t hash[32],
			const uint8_t *raw, size_t raw_len)
{
	for (size_t i = 0; i < rl->n_sends; i++)
		if (rl->sends[i].id == id)
			return 0;
	if (rl->n_sends == rl->cap_sends) {
		size_t cap = rl->cap_sends ? rl->cap_sends * 2 : 16;
		struct rl_send *v = realloc(rl->sends, cap * sizeof(*v));
		if (!v)
			return RW_ENOMEM;
		rl->sends = v;
		rl->cap_sends = cap;
	}
	struct rl_send *s = &rl->sends[rl->n_sends];
	memset(s, 0, sizeof(*s));
	s->raw_hex = rw_hex_encode_alloc(raw, raw_len);
	if (!s->raw_hex)
		return RW_ENOMEM;
	s->id = id;
	s->nonce = nonce;
	memcpy(s->hash, hash, 32);
	rl->n_sends++;
	return 0;
}

void rw_relayer_sends_clear(struct rw_relayer *rl)
{
	for (size_t i = 0; i < rl->n_sends; i++)
		free(rl->sends[i].raw_hex);
	rl->n_sends = 0;
}

int rw_relayer_item_add(struct rw_relayer *rl, int64_t ref, uint64_t nonce, size_t intent,
			struct rl_signed *s, const struct rw_relayer_fees *fees, uint64_t gas)
{
	struct rl_item *v = realloc(rl->items, (rl->n_items + 1) * sizeof(*v));
	if (!v) {
		free(s->raw);
		s->raw = NULL;
		return RW_ENOMEM;
	}
	rl->items = v;
	struct rl_item *it = &v[rl->n_items++];
	it->ref = ref;
	it->nonce = nonce;
	it->intent = intent;
	it->raw = s->raw;
	it->raw_len = s->raw_len;
	memcpy(it->hash, s->hash, 32);
	it->fees = *fees;
	it->gas = gas;
	s->raw = NULL;
	return 0;
}

void rw_relayer_items_clear(struct rw_relayer *rl)
{
	for (size_t i = 0; i < rl->n_items; i++)
		free(rl->items[i].raw);
	free(rl->items);
	rl->items = NULL;
	rl->n_items = 0;
}

void rw_relayer_txs_clear(struct rw_relayer *rl)
{
	for (size_t i = 0; i < rl->n_txs; i++)
		free(rl->txs[i].raw);
	free(rl->txs);
	rl->txs = NULL;
	rl->n_txs = 0;
}

/* ---- async bookkeeping ------------------------------------------------------ */

int rw_relayer_rpc(struct rw_relayer *rl, struct rw_rpc *rpc, const struct rw_rpc_req *reqs,
		   size_t n, int as_batch, rw_rpc_cb cb, void *udata)
{
	struct rw_rpc_send_opts o = { .as_batch = as_batch };
	int r = rw_rpc_send(rpc, &o, reqs, n, cb, udata);
	if (r == 0)
		rl->outstanding++;
	return r;
}

/* One rw_relayer_rpc_split: its parts count down to done. */
struct rl_split {
	struct rw_relayer *rl;
	const struct rl_split_ops *ops;
	void *udata;
	size_t left; /* parts still owed */
};

struct rl_split_part {
	struct rl_split *s;
	size_t off;
};

static void split_back(struct rl_split *s, int live)
{
	if (--s->left > 0)
		return;
	s->ops->done(s->rl, s->udata, live);
	free(s);
}

static void on_split_part(struct rw_rpc *rpc, const struct rw_rpc_result *res, size_t n,
			  void *udata)
{
	struct rl_split_part *p = udata;
	struct rl_split *s = p->s;
	size_t off = p->off;
	free(p);
	int live = !rw_relayer_back(s->rl);
	if (live)
		s->ops->part(s->rl, s->udata, off, res, n);
	split_back(s, live);
}

int rw_relayer_rpc_split(struct rw_relayer *rl, struct rw_rpc *rpc, const struct rw_rpc_req *reqs,
			 size_t n, const struct rl_split_ops *ops, void *udata)
{
	size_t parts = n / RL_SPLIT_MIN;
	if (parts > RL_SPLIT_PARTS)
		parts = RL_SPLIT_PARTS;
	if (parts == 0)
		parts = 1;
	struct rl_split *s = malloc(sizeof(*s));
	if (!s) {
		for (size_t i = 0; i < n; i++)
			json_decref(reqs[i].params);
		return RW_ENOMEM;
	}
	/* one more than the parts until all are sent: a part answered at once
	 * cannot end the split early */
	*s = (struct rl_split){ rl, ops, udata, parts + 1 };
	size_t size = (n + parts - 1) / parts, sent = 0;
	int first = 0;
	for (size_t off = 0; off < n; off += size) {
		size_t k = n - off < size ? n - off : size;
		struct rl_split_part *p = malloc(sizeof(*p));
		int r = RW_ENOMEM;
		if (p) {
			*p = (struct rl_split_part){ s, off };
			r = rw_relayer_rpc(rl, rpc, reqs + off, k, 1, on_split_part, p);
		} else {
			for (size_t i = off; i < off + k; i++)
				json_decref(reqs[i].params);
		}
		if (r < 0) {
			free(p);
			s->left--;
			if (off == 0)
				first = r;
			rw_relayer_say(rl, RW_RELAYER_WARN, "cannot send %zu %s requests: %s", k,
				       reqs[off].method, rw_strerror(r));
			continue;
		}
		sent++;
	}
	if (sent == 0) {
		free(s);
		return first ? first : RW_ENOMEM;
	}
	split_back(s, 1);
	return 0;
}

int rw_relayer_submit(struct rw_relayer *rl, struct rw_pg_job *job, rw_pg_reply_fn cb)
{
	int r = rw_pg_submit(rl->p.pg, job, cb, rl);
	if (r == 0)
		rl->outstanding++;
	return r;
}

int rw_relayer_back(struct rw_relayer *rl)
{
	if (rl->outstanding)
		rl->outstanding--;
	return rl->stopping;
}

void rw_relayer_hook(struct rw_relayer *rl, enum rw_relayer_step step)
{
	if (rl->p.opts.on_step)
		rl->p.opts.on_step(step, rl->p.opts.step_arg);
}

/* ---- rounds -------------------------------------------------------------------- */

typedef int (*step_fn)(struct rw_relayer *rl);

static const step_fn steps[RL_STEPS] = {
	[RL_CHAIN] = rw_relayer_step_chain,
	[RL_LOAD] = rw_relayer_step_load,
	[RL_RECEIPTS] = rw_relayer_step_receipts,
	[RL_RECEIPTS_WRITE] = rw_relayer_step_receipts_write,
	[RL_RELOAD] = rw_relayer_step_reload,
	[RL_LOST_CHECK] = rw_relayer_step_lost_check,
	[RL_LOST_WRITE] = rw_relayer_step_lost_write,
	[RL_STEER] = rw_relayer_step_steer,
	[RL_FILL] = rw_relayer_step_fill,
	[RL_BUMP] = rw_relayer_step_bump,
	[RL_TAKE] = rw_relayer_step_take,
	[RL_ESTIMATE] = rw_relayer_step_estimate,
	[RL_ASSIGN] = rw_relayer_step_assign,
	[RL_BROADCAST] = rw_relayer_step_broadcast,
	[RL_SENT_WRITE] = rw_relayer_step_sent_write,
};

static void on_timer(uv_timer_t *t);

static const char *const rl_step_names[RL_STEPS] = {
	[RL_CHAIN] = "chain",
	[RL_LOAD] = "load",
	[RL_RECEIPTS] = "receipts",
	[RL_RECEIPTS_WRITE] = "receipts_write",
	[RL_RELOAD] = "reload",
	[RL_LOST_CHECK] = "lost_check",
	[RL_LOST_WRITE] = "lost_write",
	[RL_STEER] = "steer",
	[RL_FILL] = "fill",
	[RL_BUMP] = "bump",
	[RL_TAKE] = "take",
	[RL_ESTIMATE] = "estimate",
	[RL_ASSIGN] = "assign",
	[RL_BROADCAST] = "broadcast",
	[RL_SENT_WRITE] = "sent_write",
};

/* Adds the time since the current step began to its round total. */
static void step_done(struct rw_relayer *rl)
{
	if (rl->step < RL_STEPS)
		rl->round_ns[rl->step] += uv_hrtime() - rl->step_t0;
}

/* At debug level: one line with the time of every step of the round that
 * took at least 0.1 ms, for finding where a round's time goes. */
static void log_round_times(struct rw_relayer *rl, int ok)
{
	if (!rw_log_enabled(RW_LOG_DEBUG))
		return;
	char line[512];
	size_t n = 0;
	uint64_t total = 0;
	for (int i = 0; i < RL_STEPS; i++) {
		total += rl->round_ns[i];
		if (rl->round_ns[i] >= 100000 && n < sizeof(line))
			n += (size_t)snprintf(line + n, sizeof(line) - n, " %s %.1f",
					      rl_step_names[i], (double)rl->round_ns[i] / 1e6);
	}
	line[n < sizeof(line) ? n : sizeof(line) - 1] = '\0';
	rw_relayer_say(rl, RW_RELAYER_DEBUG,
		       "round %" PRIu64 " %s in %.1f ms (%zu attempts loaded, %zu receipts asked, "
		       "%zu intents taken, %zu sent):%s",
		       rl->st.rounds, ok ? "done" : "ended early", (double)total / 1e6, rl->n_txs,
		       rl->n_receipts_asked, rl->n_intents, rl->n_sends, n ? line : " (idle)");
}

static void schedule(struct rw_relayer *rl, uint64_t ms)
{
	if (!rl->stopping && rl->timer_open)
		uv_timer_start(rl->timer, on_timer, ms, 0);
}

static void round_end(struct rw_relayer *rl, int ok)
{
	rl->round_active = 0;
	rl->bcast_active = 0;
	rl->assigning = 0;
	log_round_times(rl, ok);
	rw_relayer_sends_clear(rl);
	rw_relayer_intents_clear(rl);
	rw_relayer_items_clear(rl);
	free(rl->changes);
	rl->changes = NULL;
	rl->n_changes = 0;
	free(rl->suspects);
	rl->suspects = NULL;
	rl->n_suspects = 0;
	free(rl->lost);
	rl->lost = NULL;
	rl->n_lost = 0;
	rl->st.rounds++;
	if (!ok)
		rl->again = 0;
	rw_relayer_hook(rl, RW_RELAYER_STEP_ROUND);
	schedule(rl, rl->again ? 20 : rl->p.opts.poll_ms);
}

static void run_steps(struct rw_relayer *rl)
{
	while (!rl->stopping && rl->step < RL_STEPS) {
		rl->step_t0 = uv_hrtime();
		int r = steps[rl->step](rl);
		if (r > 0)
			return;
		step_done(rl);
		if (r < 0) {
			round_end(rl, 0);
			return;
		}
		rl->step++;
	}
	if (rl->stopping) {
		rl->round_active = 0;
		return;
	}
	round_end(rl, 1);
}

void rw_relayer_next(struct rw_relayer *rl)
{
	step_done(rl);
	rl->step++;
	run_steps(rl);
}

void rw_relayer_abort(struct rw_relayer *rl)
{
	step_done(rl);
	if (rl->stopping) {
		rl->round_active = 0;
		return;
	}
	round_end(rl, 0);
}

static void on_timer(uv_timer_t *t)
{
	struct rw_relayer *rl = t->data;
	if (rl->stopping || rl->round_active)
		return;
	rl->round_active = 1;
	rl->again = 0;
	rl->step = 0;
	rl->round_seq++;
	rl->n_receipts_asked = 0;
	rl->est_state = RL_EST_NONE;
	rl->round_started_ms = uv_now(rl->loop);
	memset(rl->round_ns, 0, sizeof(rl->round_ns));
	run_steps(rl);
}

static void on_notify(struct rw_pg *pg, const char *channel, const char *payload, int be_pid,
		      void *arg)
{
	struct rw_relayer *rl = arg;
	if (rl->stopping)
		return;
	if (rl->round_active)
		rl->again = 1;
	else
		schedule(rl, 0);
}

/* The indexer committed blocks (its cursor moved): a receipt the relayer
 * waits for may be in them. A relayer with nonces open (in flight, or
 * mined and waiting for their depth or finality) looks at once rather
 * than at its next poll; one with nothing open ignores it. */
static void on_head_notify(struct rw_pg *pg, const char *channel, const char *payload, int be_pid,
			   void *arg)
{
	struct rw_relayer *rl = arg;
	if (rl->stopping || rl->n_txs == 0)
		return;
	if (rl->round_active)
		rl->again = 1;
	else
		schedule(rl, 0);
}

/* ---- life cycle -------------------------------------------------------------------- */

static void bc_close_quietly(struct rw_rpc **bc, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (bc[i])
			(void)rw_rpc_close(bc[i], NULL, NULL);
}

static int bc_open(struct rw_relayer *rl)
{
	const struct rw_config_chain *ch = rl->p.chain;
	rl->bc = calloc(ch->n_rpc, sizeof(*rl->bc));
	if (!rl->bc)
		return RW_ENOMEM;
	struct rw_rpc_opts ro = { .max_attempts = 2 };
	for (size_t i = 0; i < ch->n_rpc; i++) {
		int r = rw_rpc_new(&rl->bc[i], rl->loop, &ro);
		if (r == 0) {
			struct rw_rpc_endpoint_opts eo = {
				.url = ch->rpc[i].url.v,
				.max_concurrency = (unsigned)ch->rpc[i].max_concurrency.v,
				.max_rps = (double)ch->rpc[i].max_rps.v,
				.timeout_ms = ch->rpc[i].timeout_ms.v,
			};
			r = rw_rpc_add_endpoint(rl->bc[i], &eo);
			r = r < 0 ? r : 0;
		}
		if (r < 0) {
			bc_close_quietly(rl->bc, ch->n_rpc);
			free(rl->bc);
			rl->bc = NULL;
			return r;
		}
	}
	rl->n_bc = rl->bc_open = ch->n_rpc;
	return 0;
}

int rw_relayer_new(struct rw_relayer **ret, uv_loop_t *loop, const struct rw_relayer_params *p,
		   const uint8_t sk[32])
{
	if (!ret || !loop || !p || !p->chain || !p->rpc || !p->pg || !sk || !p->chain->n_rpc ||
	    strlen(p->chain->name) > RW_CONFIG_NAME_MAX)
		return RW_EINVAL;
	struct rw_relayer *rl = calloc(1, sizeof(*rl));
	if (!rl)
		return RW_ENOMEM;
	rl->loop = loop;
	rl->p = *p;
	opts_complete(&rl->p.opts, p->chain);
	rl->chain_id = p->chain->chain_id;
	snprintf(rl->name, sizeof(rl->name), "%s", p->chain->name);
	snprintf(rl->channel, sizeof(rl->channel), "rw_relayer_%" PRIu64, rl->chain_id);
	snprintf(rl->head_channel, sizeof(rl->head_channel), "rw_indexed_%" PRIu64, rl->chain_id);
	rl->first_round = 1;
	rl->sk = rw_relayer_key_page();
	if (!rl->sk) {
		free(rl);
		return RW_ENOMEM;
	}
	memcpy(rl->sk, sk, 32);
	if (rw_key_address(rl->addr, rl->sk) < 0) {
		rw_relayer_key_page_free(rl->sk);
		free(rl);
		return RW_ECRYPTO;
	}
	rw_hex_encode(rl->addr_hex, rl->addr, 20, 1);
	rl->addr_bytea[0] = '\\';
	rl->addr_bytea[1] = 'x';
	rw_hex_encode(rl->addr_bytea + 2, rl->addr, 20, 0);
	int r = bc_open(rl);
	if (r == 0) {
		rl->timer = malloc(sizeof(*rl->timer));
		r = rl->timer ? 0 : RW_ENOMEM;
	}
	if (r < 0) {
		if (rl->bc) {
			bc_close_quietly(rl->bc, rl->n_bc);
			free(rl->bc);
		}
		rw_relayer_key_page_free(rl->sk);
		free(rl);
		return r;
	}
	uv_timer_init(loop, rl->timer);
	rl->timer->data = rl;
	rl->timer_open = 1;
	*ret = rl;
	return 0;
}

int rw_relayer_start(struct rw_relayer *rl)
{
	if (rl->started || rl->stopping)
		return RW_EINVAL;
	rl->started = 1;
	if (rw_pg_listen(rl->p.pg, rl->channel, on_notify, NULL, rl) < 0)
		rw_relayer_say(rl, RW_RELAYER_WARN,
			       "cannot listen on %s: new intents wait for the next round",
			       rl->channel);
	if (rw_pg_listen(rl->p.pg, rl->head_channel, on_head_notify, NULL, rl) < 0)
		rw_relayer_say(rl, RW_RELAYER_WARN,
			       "cannot listen on %s: receipts wait for the next round",
			       rl->head_channel);
	char fee_cap[RW_U256_DEC_MAX];
	rw_u256_format_dec(fee_cap, &rl->p.opts.fee_cap);
	rw_relayer_say(rl, RW_RELAYER_INFO,
		       "signer %s, %zu broadcast endpoint%s, fee cap %s wei, %u in flight at most, "
		       "%" PRIu64 " confirmation%s",
		       rl->addr_hex, rl->n_bc, rl->n_bc == 1 ? "" : "s", fee_cap,
		       rl->p.opts.max_inflight, rl->p.opts.confirmations,
		       rl->p.opts.confirmations == 1 ? "" : "s");
	schedule(rl, 0);
	return 0;
}

static void maybe_stopped(struct rw_relayer *rl)
{
	if (rl->timer_open || rl->bc_open || rl->stopped_called)
		return;
	rl->stopped_called = 1;
	if (rl->on_stopped)
		rl->on_stopped(rl->stopped_arg);
}

static void on_timer_closed(uv_handle_t *h)
{
	struct rw_relayer *rl = h->data;
	free(h);
	rl->timer = NULL;
	rl->timer_open = 0;
	maybe_stopped(rl);
}

static void on_bc_closed(void *arg)
{
	struct rw_relayer *rl = arg;
	rl->bc_open--;
	maybe_stopped(rl);
}

int rw_relayer_stop(struct rw_relayer *rl, void (*on_stopped)(void *arg), void *arg)
{
	if (rl->stopping)
		return RW_EINVAL;
	rl->stopping = 1;
	rl->on_stopped = on_stopped;
	rl->stopped_arg = arg;
	if (rl->started) {
		(void)rw_pg_unlisten(rl->p.pg, rl->channel);
		(void)rw_pg_unlisten(rl->p.pg, rl->head_channel);
	}
	uv_timer_stop(rl->timer);
	uv_close((uv_handle_t *)rl->timer, on_timer_closed);
	for (size_t i = 0; i < rl->n_bc; i++)
		if (rw_rpc_close(rl->bc[i], on_bc_closed, rl) < 0)
			rl->bc_open--;
	return 0;
}

struct rw_relayer *rw_relayer_free(struct rw_relayer *rl)
{
	if (!rl)
		return NULL;
	if (rl->timer_open || rl->bc_open) {
		rw_relayer_say(rl, RW_RELAYER_ERROR, "freed before its stop completed; leaking it");
		return NULL;
	}
	rw_relayer_txs_clear(rl);
	rw_relayer_sends_clear(rl);
	free(rl->sends);
	rw_relayer_intents_clear(rl);
	rw_relayer_items_clear(rl);
	free(rl->changes);
	free(rl->bctx);
	free(rl->suspects);
	free(rl->lost);
	free(rl->bc);
	rw_relayer_key_page_free(rl->sk);
	free(rl);
	return NULL;
}

void rw_relayer_address(uint8_t ret[20], const struct rw_relayer *rl)
{
	memcpy(ret, rl->addr, 20);
}

/* ---- stats and metrics ----------------------------------------------------------- */

void rw_relayer_get_stats(struct rw_relayer_stats *ret, const struct rw_relayer *rl)
{
	*ret = rl->st;
}

/* A gauge or counter with the relayer's labels. */
static int metric(struct rw_buf *b, const struct rw_relayer *rl, int header, const char *name,
		  const char *type, const char *help, const char *value)
{
	int r = rw_metric_head(b, header, name, type, help);
	return r < 0 ? r
		     : rw_buf_appendf(b, "%s{chain=\"%s\",signer=\"%s\"} %s\n", name, rl->name,
				      rl->addr_hex, value);
}

static int metric_u64(struct rw_buf *b, const struct rw_relayer *rl, int header, const char *name,
		      const char *type, const char *help, uint64_t v)
{
	char s[24];
	snprintf(s, sizeof(s), "%" PRIu64, v);
	return metric(b, rl, header, name, type, help, s);
}

int rw_relayer_metrics(struct rw_buf *out, const struct rw_relayer *rl, int header)
{
	const struct rw_relayer_stats *s = &rl->st;
	char v[RW_U256_DEC_MAX + 8];
	int r = rw_metric_head(out, header, "runway_relayer_intents", "gauge", "Intents by state.");
	for (size_t i = 0; r == 0 && i < RL_INTENT_STATES; i++)
		r = rw_buf_appendf(
			out,
			"runway_relayer_intents{chain=\"%s\",signer=\"%s\",state=\"%s\"} %" PRIu64
			"\n",
			rl->name, rl->addr_hex, intent_states[i], s->intents[i]);
	snprintf(v, sizeof(v), "%.3f", s->oldest_unconfirmed_s);
	if (r == 0)
		r = metric(out, rl, header, "runway_relayer_oldest_unconfirmed_seconds", "gauge",
			   "Age of the oldest intent not yet confirmed.", v);
	if (r == 0)
		r = metric_u64(out, rl, header, "runway_relayer_inflight", "gauge",
			       "Transactions signed and not yet mined.", s->inflight);
	if (r == 0)
		r = rw_metric_head(
			out, header, "runway_relayer_nonce", "gauge",
			"The local next nonce and the chain's counts (latest, pending).");
	const char *kinds[3] = { "local", "chain", "chain_pending" };
	uint64_t nonces[3] = { s->local_nonce, s->chain_nonce, s->chain_pending_nonce };
	for (int i = 0; r == 0 && i < 3; i++)
		r = rw_buf_appendf(
			out,
			"runway_relayer_nonce{chain=\"%s\",signer=\"%s\",kind=\"%s\"} %" PRIu64
			"\n",
			rl->name, rl->addr_hex, kinds[i], nonces[i]);
	rw_u256_format_dec(v, &s->balance);
	if (r == 0)
		r = metric(out, rl, header, "runway_relayer_balance_wei", "gauge",
			   "The signer's gas balance.", v);
	snprintf(v, sizeof(v), "%.2f", s->balance_days);
	if (r == 0)
		r = metric(out, rl, header, "runway_relayer_balance_days", "gauge",
			   "Days the balance lasts at the last 7 days' spending (-1: no spending).",
			   v);
	if (r == 0)
		r = metric_u64(out, rl, header, "runway_relayer_status", "gauge",
			       "0 ok, 1 low balance, 2 cannot pay (no new transactions).",
			       (uint64_t)s->status);
	if (r == 0)
		r = metric_u64(out, rl, header, "runway_relayer_bumps_total", "counter",
			       "Fee bumps (replacements).", s->bumps);
	if (r == 0)
		r = metric_u64(out, rl, header, "runway_relayer_fillers_total", "counter",
			       "No-op transactions that closed nonce gaps.", s->fillers);
	if (r == 0)
		r = metric_u64(out, rl, header, "runway_relayer_signed_total", "counter",
			       "Transactions signed for new nonces.", s->signed_txs);
	if (r == 0)
		r = metric_u64(out, rl, header, "runway_relayer_reorged_total", "counter",
			       "Receipts undone by reorgs.", s->reorged);
	if (r == 0)
		r = metric_u64(out, rl, header, "runway_relayer_nonce_taken_total", "counter",
			       "Nonces used by another sender.", s->nonce_taken);
	if (r == 0)
		r = metric_u64(out, rl, header, "runway_relayer_estimate_reverts_total", "counter",
			       "Gas estimations that reverted.", s->estimate_reverts);
	if (r == 0)
		r = metric_u64(out, rl, header, "runway_relayer_learned_misses_total", "counter",
			       "Calls at the gas of earlier estimates of the same function that "
			       "failed (estimated instead).",
			       s->learned_misses);
	if (r == 0)
		r = metric_u64(out, rl, header, "runway_relayer_resent_lost_total", "counter",
			       "Transactions sent again as the same bytes because the node's "
			       "pending count no longer covered them (lost from its pool).",
			       s->resent_lost);
	if (r == 0)
		r = rw_metric_head(out, header, "runway_relayer_requests_total", "counter",
				   "Operators' bump and cancel requests by outcome.");
	const char *outcomes[2] = { "done", "refused" };
	uint64_t requests[2] = { s->requests_done, s->requests_refused };
	for (int i = 0; r == 0 && i < 2; i++)
		r = rw_buf_appendf(
			out,
			"runway_relayer_requests_total{chain=\"%s\",signer=\"%s\",outcome=\"%s\"} "
			"%" PRIu64 "\n",
			rl->name, rl->addr_hex, outcomes[i], requests[i]);
	if (r == 0)
		r = rw_metric_head(out, header, "runway_relayer_errors_total", "counter",
				   "Failed requests and broadcast answers by class.");
	for (int c = RW_RPC_TRANSPORT; r == 0 && c <= RW_RPC_OTHER; c++)
		if (s->errors[c])
			r = rw_buf_appendf(
				out,
				"runway_relayer_errors_total{chain=\"%s\",signer=\"%s\",class=\"%"
				"s\"} %" PRIu64 "\n",
				rl->name, rl->addr_hex, rw_rpc_class_name((enum rw_rpc_class)c),
				s->errors[c]);
	return r;
}
