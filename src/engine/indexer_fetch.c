/* indexer_fetch.c: fetching a range (eth_getLogs per filter, headers),
 * checking what the node answered, and decoding logs into binary COPY
 * rows, one buffer per event table. The design is in indexer_int.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "err.h"
#include "hex.h"
#include "indexer_int.h"
#include "jscan.h"

/* ---- requests ----------------------------------------------------------- */

json_t *rw_indexer_block_params(uint64_t number, const char *tag)
{
	char q[24];
	if (!tag) {
		rw_hex_format_u64(q, number);
		tag = q;
	}
	return json_pack("[sb]", tag, 0);
}

static json_t *quantity(uint64_t v)
{
	char q[24];
	rw_hex_format_u64(q, v);
	return json_string(q);
}

static json_t *hex_string(const uint8_t *p, size_t n)
{
	char s[2 * 32 + 3];
	if (n > 32)
		return NULL;
	rw_hex_encode(s, p, n, 1);
	return json_string(s);
}

static json_t *address_topic(const uint8_t addr[20])
{
	uint8_t w[32] = { 0 };
	memcpy(w + 12, addr, 20);
	return hex_string(w, 32);
}

/* The distinct topic-0 values of the kinds in set, as a JSON array. */
static json_t *topic0_list(const struct rw_eventmap *map, const struct ix_srcset *set)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < set->n; i++) {
		size_t k = 0;
		for (; k < i; k++)
			if (strcmp(set->v[k]->kind, set->v[i]->kind) == 0)
				break;
		if (k < i)
			continue;
		size_t n = rw_eventmap_topics(map, set->v[i]->kind, NULL, 0);
		uint8_t(*t)[32] = calloc(n + 1, 32);
		if (!t) {
			json_decref(a);
			return NULL;
		}
		rw_eventmap_topics(map, set->v[i]->kind, t, n);
		for (size_t j = 0; j < n; j++)
			json_array_append_new(a, hex_string(t[j], 32));
		free(t);
	}
	return a;
}

/* Addresses set->v[from .. from + n) as a JSON array, deduplicated. */
static json_t *address_list(const struct ix_srcset *set, size_t from, size_t n)
{
	json_t *a = json_array();
	for (size_t i = from; a && i < from + n; i++)
		if (i == from || memcmp(set->v[i]->addr, set->v[i - 1]->addr, 20) != 0)
			json_array_append_new(a, hex_string(set->v[i]->addr, 20));
	return a;
}

static int add_query(struct ix_lane *lane, json_t *filter, int watched)
{
	if (!filter)
		return RW_ENOMEM;
	struct ix_query *q = realloc(lane->q, (lane->n_q + 1) * sizeof(*q));
	if (!q) {
		json_decref(filter);
		return RW_ENOMEM;
	}
	lane->q = q;
	q[lane->n_q].filter = filter;
	q[lane->n_q].watched = watched;
	lane->n_q++;
	return 0;
}

static int plain_queries(struct ix_lane *lane)
{
	const struct ix_srcset *set = &lane->plain;
	json_t *t0 = set->n ? topic0_list(lane->ix->p.map, set) : NULL;
	if (set->n && !t0)
		return RW_ENOMEM;
	int r = 0;
	for (size_t i = 0; r == 0 && i < set->n; i += IX_FILTER_CHUNK) {
		size_t n = set->n - i < IX_FILTER_CHUNK ? set->n - i : IX_FILTER_CHUNK;
		r = add_query(
			lane,
			json_pack("{s:o,s:[O]}", "address", address_list(set, i, n), "topics", t0),
			0);
	}
	json_decref(t0);
	return r;
}

/* Two filters per address chunk and watched chunk: the watched address in
 * topic 1 (Transfer from, Approval owner), then in topic 2 (to, spender). */
static int watched_queries(struct ix_lane *lane)
{
	struct rw_indexer *ix = lane->ix;
	const struct ix_srcset *set = &lane->watched;
	if (!set->n || !ix->n_watched)
		return 0;
	json_t *t0 = topic0_list(ix->p.map, set);
	if (!t0)
		return RW_ENOMEM;
	int r = 0;
	for (size_t i = 0; r == 0 && i < set->n; i += IX_FILTER_CHUNK) {
		size_t n = set->n - i < IX_FILTER_CHUNK ? set->n - i : IX_FILTER_CHUNK;
		for (size_t w = 0; r == 0 && w < ix->n_watched; w += IX_FILTER_CHUNK) {
			size_t m = ix->n_watched - w < IX_FILTER_CHUNK ? ix->n_watched - w
								       : IX_FILTER_CHUNK;
			json_t *wl = json_array();
			for (size_t k = 0; wl && k < m; k++)
				json_array_append_new(wl, address_topic(ix->watched[w + k]));
			json_t *a1 = address_list(set, i, n), *a2 = address_list(set, i, n);
			r = add_query(lane,
				      json_pack("{s:o,s:[O,O]}", "address", a1, "topics", t0, wl),
				      1);
			if (r == 0)
				r = add_query(lane,
					      json_pack("{s:o,s:[O,n,O]}", "address", a2, "topics",
							t0, wl),
					      1);
			else
				json_decref(a2);
			json_decref(wl);
		}
	}
	json_decref(t0);
	return r;
}

int rw_indexer_lane_queries(struct ix_lane *lane)
{
	int r = plain_queries(lane);
	return r ? r : watched_queries(lane);
}

/* ---- headers ------------------------------------------------------------ */

int rw_indexer_parse_header(struct ix_hdr *ret, const json_t *v)
{
	struct ix_hdr h;
	if (!json_is_object(v))
		return RW_EINVAL;
	if (rw_rpc_get_quantity_u64(&h.number, json_object_get(v, "number")) < 0 ||
	    rw_rpc_get_quantity_u64(&h.timestamp, json_object_get(v, "timestamp")) < 0 ||
	    rw_rpc_get_data32(h.hash, json_object_get(v, "hash")) < 0 ||
	    rw_rpc_get_data32(h.parent, json_object_get(v, "parentHash")) < 0 ||
	    h.number > INT64_MAX || h.timestamp > INT64_MAX)
		return RW_EINVAL;
	*ret = h;
	return 0;
}

/* ---- range state -------------------------------------------------------- */

static void account(struct ix_range *r)
{
	struct rw_indexer *ix = r->ix;
	size_t b = r->n_hdrs * sizeof(*r->hdrs) + r->n_need * sizeof(*r->need);
	for (size_t i = 0; i < ix->p.map->n_events; i++) {
		b += r->rows[i].buf.cap;
		for (size_t k = 0; k < r->rows[i].n_more; k++)
			b += r->rows[i].more[k].cap;
	}
	ix->mem_held = ix->mem_held - r->bytes + b;
	r->bytes = b;
}

static size_t rows_bytes(const struct ix_range *r)
{
	size_t b = 0;
	for (size_t i = 0; i < r->ix->p.map->n_events; i++) {
		b += r->rows[i].buf.len;
		for (size_t k = 0; k < r->rows[i].n_more; k++)
			b += r->rows[i].more[k].len;
	}
	return b;
}

static int can_absorb(const struct ix_range *r, const struct ix_range *t)
{
	if (!t || r->state != IX_R_READY || t->state != IX_R_READY || t->from != r->to + 1 ||
	    r->window != t->window || r->force_staged || t->force_staged || r->discovers)
		return 0;
	if (r->window && r->n_hdrs && t->n_hdrs &&
	    memcmp(t->hdrs[0].parent, r->hdrs[r->n_hdrs - 1].hash, 32) != 0)
		return 0; /* a reorg between them: check_parent finds it at t's turn */
	return rows_bytes(r) + rows_bytes(t) <= IX_COMMIT_BYTES;
}

int rw_indexer_range_absorb(struct ix_range *r)
{
	struct ix_range *t = r->next;
	if (!can_absorb(r, t))
		return 0;
	const struct rw_eventmap *map = r->ix->p.map;
	for (size_t i = 0; i < map->n_events; i++) {
		struct ix_rows *a = &r->rows[i];
		if (!t->rows[i].n)
			continue;
		struct rw_buf *m =
			realloc(a->more, (a->n_more + 1 + t->rows[i].n_more) * sizeof(*m));
		if (!m)
			return RW_ENOMEM;
		a->more = m;
	}
	struct ix_hdr *h = realloc(r->hdrs, (r->n_hdrs + t->n_hdrs + 1) * sizeof(*h));
	if (!h)
		return RW_ENOMEM;
	r->hdrs = h;
	if (t->n_hdrs)
		memcpy(r->hdrs + r->n_hdrs, t->hdrs, t->n_hdrs * sizeof(*h));
	r->n_hdrs += t->n_hdrs;
	for (size_t i = 0; i < map->n_events; i++) {
		struct ix_rows *a = &r->rows[i], *b = &t->rows[i];
		if (!b->n)
			continue;
		/* t's buffers move over (room was made above) */
		a->more[a->n_more++] = b->buf;
		rw_buf_init(&b->buf, IX_RANGE_ROWS_MAX);
		for (size_t k = 0; k < b->n_more; k++)
			a->more[a->n_more++] = b->more[k];
		free(b->more);
		b->more = NULL;
		b->n_more = 0;
		a->n += b->n;
		b->n = 0;
	}
	r->to = t->to;
	r->n_logs += t->n_logs;
	r->n_rejects += t->n_rejects;
	r->discovers |= t->discovers;
	if (t->started_ms < r->started_ms)
		r->started_ms = t->started_ms;
	if (t->ready_ms > r->ready_ms)
		r->ready_ms = t->ready_ms;
	rw_indexer_range_unlink(t);
	rw_indexer_range_free(t);
	account(r);
	return 1;
}

/* Fetches r again after a backoff that grows with its failures. */
static void retry_later(struct ix_range *r)
{
	uint64_t d = IX_BACKOFF_MIN_MS;
	for (unsigned i = 1; i < r->failures && d < IX_BACKOFF_MAX_MS; i++)
		d *= 2;
	if (d > IX_BACKOFF_MAX_MS)
		d = IX_BACKOFF_MAX_MS;
	rw_indexer_range_reset(r);
	r->state = IX_R_WAIT;
	r->retry_at = rw_indexer_now(r->ix) + d;
}

/* The node answered something inconsistent (a reorg under way, a node
 * behind its peers): drop what was fetched and try again. */
static void inconsistent(struct ix_range *r, const char *why)
{
	r->failures++;
	rw_indexer_say(r->ix, r->failures > 3 ? RW_INDEXER_WARN : RW_INDEXER_INFO,
		       "blocks %" PRIu64 "-%" PRIu64 ": %s; fetching them again", r->from, r->to,
		       why);
	retry_later(r);
}

/* Splits r after its first keep blocks; the rest becomes a new range. */
static int split(struct ix_range *r, uint64_t keep)
{
	struct ix_range *t = rw_indexer_range_new(r->lane, r->from + keep, r->to, r->window);
	if (!t)
		return RW_ENOMEM;
	t->started_ms = r->started_ms;
	rw_indexer_range_insert(r->lane, r, t);
	r->to = r->from + keep - 1;
	rw_indexer_range_reset(r);
	r->state = IX_R_NEW;
	r->retry_at = 0;
	return 0;
}

/* The node refused the range as too large (or its answer was): split it,
 * following the node's hint when it gives one, else in proportion to the
 * answer's announced size (size: bytes, 0 when unknown; limit: the ceiling
 * it passed). */
static void too_large(struct ix_range *r, const struct rw_rpc_range *hint, const char *why,
		      uint64_t size, uint64_t limit)
{
	struct ix_lane *lane = r->lane;
	uint64_t n = r->to - r->from + 1, keep = n / 2;
	if (size > limit && limit) {
		/* aim at half the ceiling: block sizes vary */
		keep = (uint64_t)((double)n * (double)limit / 2.0 / (double)size);
		if (keep >= n)
			keep = n / 2;
		if (!keep)
			keep = 1;
		lane->bpb = size / n + 1;
	}
	if (hint && hint->has_range && hint->to >= r->from && hint->to < r->to)
		keep = hint->to - r->from + 1;
	else if (hint && hint->max_span && hint->max_span < n)
		keep = hint->max_span;
	if (hint && hint->max_span && hint->max_span < lane->span_cap)
		lane->span_cap = hint->max_span;
	if (n < 2 || keep < 1) {
		r->failures++;
		rw_indexer_say(r->ix, RW_INDEXER_ERROR,
			       "block %" PRIu64 " alone is too large for the node (%s); retrying",
			       r->from, why);
		retry_later(r);
		return;
	}
	if (keep < lane->span)
		lane->span = keep;
	rw_indexer_say(r->ix, RW_INDEXER_DEBUG,
		       "blocks %" PRIu64 "-%" PRIu64 " too large (%s): %" PRIu64
		       " blocks per request",
		       r->from, r->to, why, keep);
	if (split(r, keep) < 0)
		retry_later(r);
}

static int is_too_big_body(const struct rw_rpc_result *res)
{
	return res->cls == RW_RPC_TRANSPORT && strstr(res->message, "larger than") != NULL;
}

/* The answer ceiling of r's requests: twice the answer expected (at least
 * IX_MIN_RESPONSE, at most IX_RANGE_MAX_RESPONSE), so that the answers in
 * flight stay within twice IX_FETCH_BUDGET whatever the blocks hold; a
 * range of one block cannot be split: it gets the rpc client's. */
static size_t max_response(const struct ix_range *r)
{
	if (r->to == r->from)
		return 0;
	size_t m = 2 * r->expect;
	if (m < IX_MIN_RESPONSE)
		m = IX_MIN_RESPONSE;
	return m < IX_RANGE_MAX_RESPONSE ? m : IX_RANGE_MAX_RESPONSE;
}

/* Adapts the lane's span to an answer of blocks blocks and bytes bytes:
 * about IX_TARGET_BYTES per answer, growing at most IX_GROWTH times per
 * answer (slow start), shrinking at once. */
static void adapt_span(struct ix_lane *lane, uint64_t blocks, size_t bytes)
{
	lane->bpb = bytes / blocks + 1;
	uint64_t want = IX_TARGET_BYTES / lane->bpb;
	if (want > lane->span * IX_GROWTH)
		want = lane->span * IX_GROWTH;
	if (want > lane->span_cap)
		want = lane->span_cap;
	lane->span = want ? want : 1;
}

/* Handles a failed request of r. */
static void failed(struct ix_range *r, const struct rw_rpc_result *res, const char *what)
{
	if (res->cls == RW_RPC_CANCELLED) {
		r->state = IX_R_WAIT;
		r->retry_at = rw_indexer_now(r->ix) + IX_BACKOFF_MAX_MS;
		return;
	}
	if (res->cls == RW_RPC_RANGE_TOO_LARGE) {
		r->ix->st.rpc_errors[res->cls]++;
		too_large(r, &res->range, res->message, 0, 0);
		return;
	}
	if (is_too_big_body(res)) {
		r->ix->st.rpc_errors[res->cls]++;
		too_large(r, NULL, res->message, res->body_size, r->limit);
		return;
	}
	char w[96];
	snprintf(w, sizeof(w), "%s of blocks %" PRIu64 "-%" PRIu64, what, r->from, r->to);
	rw_indexer_rpc_failed(r->ix, w, res);
	r->failures++;
	retry_later(r);
}

/* Frees a dropped range when its callback comes. Returns 1 when r was
 * dropped (and is gone). */
static int reap(struct ix_range *r)
{
	r->busy = 0;
	if (r->lane)
		return 0;
	struct rw_indexer *ix = r->ix;
	if (r->prev)
		r->prev->next = r->next;
	else
		ix->dead = r->next;
	if (r->next)
		r->next->prev = r->prev;
	rw_indexer_range_free(r);
	return 1;
}

/* ---- rows --------------------------------------------------------------- */

/* Returns 1 when s[0..n) is UTF-8 that PostgreSQL accepts as text: well
 * formed, shortest forms, no surrogates, nothing above U+10FFFF, no NUL. */
static int text_ok(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = s[i];
		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t k;
		uint32_t cp, min;
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1, cp = c & 0x1f, min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2, cp = c & 0x0f, min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if (n - i <= k)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

/* A signed intN value (two's complement in 256 bits) as decimal text. */
static size_t int_text(char *out, const rw_u256 *v)
{
	if (!(v->w[3] >> 63))
		return rw_u256_format_dec(out, v);
	rw_u256 neg;
	int carry = 1;
	for (int i = 0; i < 4; i++) {
		uint64_t x = ~v->w[i];
		neg.w[i] = x + (uint64_t)carry;
		carry = carry && neg.w[i] == 0;
	}
	out[0] = '-';
	return 1 + rw_u256_format_dec(out + 1, &neg);
}

static json_t *value_json(const struct rw_abi_type *t, const struct rw_abi_value *v);

static json_t *list_json(const struct rw_abi_type *t, const struct rw_abi_value *v)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < v->list.n; i++) {
		const struct rw_abi_type *et = t->kind == RW_ABI_TUPLE ? t->comps[i] : t->elem;
		json_t *e = value_json(et, &v->list.items[i]);
		if (!e || json_array_append_new(a, e) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* A value as jsonb wants it: decimal strings for integers, 0x-hex for bytes
 * and addresses, arrays for arrays and tuples. NULL when a string is not
 * valid UTF-8 (or out of memory). */
static json_t *value_json(const struct rw_abi_type *t, const struct rw_abi_value *v)
{
	char s[RW_U256_DEC_MAX + 2];
	if (v->flags & RW_ABI_VALUE_HASH)
		return hex_string(v->hash, 32);
	switch (t->kind) {
	case RW_ABI_UINT: rw_u256_format_dec(s, &v->u); return json_string(s);
	case RW_ABI_INT: int_text(s, &v->u); return json_string(s);
	case RW_ABI_ADDRESS: return hex_string(v->addr, 20);
	case RW_ABI_BOOL: return json_boolean(v->b);
	case RW_ABI_FIXED_BYTES: return hex_string(v->fixed, t->size);
	case RW_ABI_BYTES: {
		char *h = rw_hex_encode_alloc(v->bytes.p, v->bytes.len);
		json_t *j = h ? json_string(h) : NULL;
		free(h);
		return j;
	}
	case RW_ABI_STRING:
		if (!text_ok(v->bytes.p, v->bytes.len))
			return NULL;
		return json_stringn((const char *)v->bytes.p, v->bytes.len);
	case RW_ABI_ARRAY:
	case RW_ABI_FIXED_ARRAY:
	case RW_ABI_TUPLE: return list_json(t, v);
	}
	return NULL;
}

static int put_jsonb(struct rw_buf *b, const struct rw_abi_type *t, const struct rw_abi_value *v)
{
	json_t *j = value_json(t, v);
	if (!j)
		return RW_EINVAL;
	char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	if (!text)
		return RW_ENOMEM;
	size_t n = strlen(text);
	char *f = malloc(n + 1);
	int r = RW_ENOMEM;
	if (f) {
		f[0] = 1; /* jsonb binary format version */
		memcpy(f + 1, text, n);
		r = rw_pg_copy_bytea(b, f, n + 1);
		free(f);
	}
	free(text);
	return r;
}

static int put_param(struct rw_buf *b, const struct rw_eventmap_column *col,
		     const struct rw_abi_type *t, const struct rw_abi_value *v)
{
	char s[RW_U256_DEC_MAX + 2];
	if (v->flags & RW_ABI_VALUE_HASH)
		return col->type == RW_EVENTMAP_BYTEA ? rw_pg_copy_bytea(b, v->hash, 32)
						      : RW_EINVAL;
	switch (col->type) {
	case RW_EVENTMAP_BYTEA:
		if (t->kind == RW_ABI_ADDRESS)
			return rw_pg_copy_bytea(b, v->addr, 20);
		if (t->kind == RW_ABI_FIXED_BYTES)
			return rw_pg_copy_bytea(b, v->fixed, t->size);
		if (t->kind == RW_ABI_BYTES)
			return rw_pg_copy_bytea(b, v->bytes.p, v->bytes.len);
		return RW_EINVAL;
	case RW_EVENTMAP_NUMERIC:
		if (t->kind == RW_ABI_UINT)
			return rw_pg_copy_numeric_u256(b, &v->u);
		if (t->kind == RW_ABI_INT)
			return rw_pg_copy_numeric(b, s, int_text(s, &v->u));
		return RW_EINVAL;
	case RW_EVENTMAP_BOOLEAN:
		return t->kind == RW_ABI_BOOL ? rw_pg_copy_bool(b, v->b) : RW_EINVAL;
	case RW_EVENTMAP_TEXT:
		if (t->kind != RW_ABI_STRING || !text_ok(v->bytes.p, v->bytes.len))
			return RW_EINVAL;
		return rw_pg_copy_text(b, (const char *)v->bytes.p, v->bytes.len);
	case RW_EVENTMAP_JSONB: return put_jsonb(b, t, v);
	default: return RW_EINVAL;
	}
}

/* One log as the node gave it. */
struct ix_log {
	uint64_t block, tx_index, log_index;
	uint8_t block_hash[32], tx_hash[32], addr[20];
	uint8_t topics[4][32];
	size_t ntopics;
	struct rw_buf data;
};

static int put_row(struct rw_buf *b, const struct rw_indexer *ix,
		   const struct rw_eventmap_event *ev, const struct ix_log *lg,
		   const struct rw_abi_value *vals)
{
	int r = rw_pg_copy_row(b, (unsigned)ev->n_cols);
	for (size_t i = 0; r == 0 && i < ev->n_cols; i++) {
		const struct rw_eventmap_column *c = &ev->cols[i];
		switch (c->field) {
		case RW_EVENTMAP_CHAIN_ID: r = rw_pg_copy_int8(b, (int64_t)ix->ch->chain_id); break;
		case RW_EVENTMAP_BLOCK_NUMBER: r = rw_pg_copy_int8(b, (int64_t)lg->block); break;
		case RW_EVENTMAP_BLOCK_HASH: r = rw_pg_copy_bytea(b, lg->block_hash, 32); break;
		case RW_EVENTMAP_TX_HASH: r = rw_pg_copy_bytea(b, lg->tx_hash, 32); break;
		case RW_EVENTMAP_TX_INDEX: r = rw_pg_copy_int4(b, (int32_t)lg->tx_index); break;
		case RW_EVENTMAP_LOG_INDEX: r = rw_pg_copy_int4(b, (int32_t)lg->log_index); break;
		case RW_EVENTMAP_ADDRESS: r = rw_pg_copy_bytea(b, lg->addr, 20); break;
		case RW_EVENTMAP_PARAM:
			if (c->param >= vals->list.n)
				return RW_EINVAL;
			r = put_param(b, c, ev->event->inputs->comps[c->param],
				      &vals->list.items[c->param]);
			break;
		}
	}
	return r;
}

/* ---- logs --------------------------------------------------------------- */

/* The keys (block, log index) seen in this range, and which query gave each:
 * duplicates across the two watched queries are expected, within one query
 * they are the node's error. */
struct seen {
	uint64_t *key;
	int *query;
	size_t cap, n;
};

static int seen_init(struct seen *s, size_t cap)
{
	s->cap = cap;
	s->n = 0;
	s->key = calloc(s->cap, sizeof(*s->key));
	s->query = calloc(s->cap, sizeof(*s->query));
	return s->key && s->query ? 0 : RW_ENOMEM;
}

static void seen_free(struct seen *s)
{
	free(s->key);
	free(s->query);
	s->key = NULL;
	s->query = NULL;
}

static size_t seen_slot(const struct seen *s, uint64_t k)
{
	size_t i = (size_t)((k * 0x9e3779b97f4a7c15ULL) >> 7) & (s->cap - 1);
	while (s->key[i] && s->key[i] != k)
		i = (i + 1) & (s->cap - 1);
	return i;
}

/* Doubles the table (kept at most half full). Returns 0 or RW_ENOMEM. */
static int seen_grow(struct seen *s)
{
	struct seen t;
	if (seen_init(&t, s->cap * 2) < 0) {
		seen_free(&t);
		return RW_ENOMEM;
	}
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->key[i])
			continue;
		size_t j = seen_slot(&t, s->key[i]);
		t.key[j] = s->key[i];
		t.query[j] = s->query[i];
	}
	t.n = s->n;
	seen_free(s);
	*s = t;
	return 0;
}

/* Returns -1 when new (and records it), else the query that gave it first;
 * RW_ENOMEM (< -1). */
static int seen_add(struct seen *s, uint64_t key, int query)
{
	uint64_t k = key + 1; /* 0 marks a free slot */
	if (2 * (s->n + 1) > s->cap && seen_grow(s) < 0)
		return RW_ENOMEM;
	size_t i = seen_slot(s, k);
	if (s->key[i])
		return s->query[i];
	s->key[i] = k;
	s->query[i] = query;
	s->n++;
	return -1;
}

/* The text a value was last decoded from (in the answer being read). */
struct text_seen {
	const char *p; /* NULL: none */
	size_t n;
};

struct decode {
	struct ix_range *r;
	struct text_seen seen_bh, seen_tx; /* of lg.block_hash, lg.tx_hash */
	struct seen seen;
	struct ix_blockref *refs;
	size_t n_refs, cap_refs;
	struct ix_log lg;
	struct rw_jscan s;  /* over the answer being read */
	struct rw_buf esc;  /* an escaped string, unescaped */
	const char *why;    /* set when the answer is inconsistent */
	char why_buf[128];  /* for a why made here */
	const char *method; /* of the answer being read, for messages */
	const char *endpoint;
	int too_big;
};

/* The fields of a log the indexer reads. */
enum log_field {
	F_ADDRESS,
	F_TOPICS,
	F_DATA,
	F_BLOCK,
	F_BLOCK_HASH,
	F_TX_HASH,
	F_TX_INDEX,
	F_LOG_INDEX,
	F_REMOVED,
	F_OTHER
};

#define F_NEEDED                                                                                   \
	(1u << F_ADDRESS | 1u << F_TOPICS | 1u << F_DATA | 1u << F_BLOCK | 1u << F_BLOCK_HASH |    \
	 1u << F_TX_HASH | 1u << F_TX_INDEX | 1u << F_LOG_INDEX)

static enum log_field field_of(const char *k, size_t n)
{
	static const struct {
		const char *name;
		size_t len;
		enum log_field f;
	} names[] = {
		{ "address", 7, F_ADDRESS },
		{ "topics", 6, F_TOPICS },
		{ "data", 4, F_DATA },
		{ "blockNumber", 11, F_BLOCK },
		{ "blockHash", 9, F_BLOCK_HASH },
		{ "transactionHash", 15, F_TX_HASH },
		{ "transactionIndex", 16, F_TX_INDEX },
		{ "logIndex", 8, F_LOG_INDEX },
		{ "removed", 7, F_REMOVED },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].len == n && memcmp(names[i].name, k, n) == 0)
			return names[i].f;
	return F_OTHER;
}

/* Reads the next value, a string, unescaped into d->esc when it holds
 * escapes. Returns 0, RW_EINVAL (not a string) or RW_ENOMEM. */
static int get_str(struct decode *d, const char **p, size_t *n)
{
	int esc;
	if (rw_jscan_peek(&d->s) != RW_J_STRING || rw_jscan_string(&d->s, p, n, &esc) < 0)
		return RW_EINVAL;
	if (!esc)
		return 0;
	d->esc.len = 0;
	if (rw_buf_reserve(&d->esc, *n) < 0)
		return RW_ENOMEM;
	if (rw_jscan_unescape((char *)d->esc.p, n, *p, *n) < 0)
		return RW_EINVAL;
	*p = (const char *)d->esc.p;
	return 0;
}

static int get_quantity(struct decode *d, uint64_t *v, uint64_t max)
{
	const char *p;
	size_t n;
	int rc = get_str(d, &p, &n);
	if (rc == 0 && (rw_hex_quantity_u64(v, p, n) < 0 || *v > max))
		rc = RW_EINVAL;
	return rc;
}

static int get_fixed(struct decode *d, uint8_t *out, size_t len)
{
	const char *p;
	size_t n;
	int rc = get_str(d, &p, &n);
	if (rc == 0 && rw_hex_decode_fixed(out, len, p, n, RW_HEX_PREFIX_REQUIRED) < 0)
		rc = RW_EINVAL;
	return rc;
}

/* get_fixed of a 32-byte hash that often repeats from log to log (the
 * logs of one block, of one transaction): when the text equals the last
 * one decoded into out (c), out already holds it. */
static int get_hash(struct decode *d, struct text_seen *c, uint8_t out[32])
{
	const char *p;
	size_t n;
	int esc;
	if (rw_jscan_peek(&d->s) != RW_J_STRING || rw_jscan_string(&d->s, &p, &n, &esc) < 0)
		return RW_EINVAL;
	if (!esc && c->p && c->n == n && memcmp(c->p, p, n) == 0)
		return 0;
	c->p = NULL;
	if (esc) {
		d->esc.len = 0;
		if (rw_buf_reserve(&d->esc, n) < 0)
			return RW_ENOMEM;
		if (rw_jscan_unescape((char *)d->esc.p, &n, p, n) < 0)
			return RW_EINVAL;
		p = (const char *)d->esc.p;
	}
	if (rw_hex_decode_fixed(out, 32, p, n, RW_HEX_PREFIX_REQUIRED) < 0)
		return RW_EINVAL;
	if (!esc) {
		c->p = p;
		c->n = n;
	}
	return 0;
}

static int get_topics(struct decode *d, struct ix_log *lg)
{
	if (rw_jscan_peek(&d->s) != RW_J_ARRAY || rw_jscan_enter(&d->s, RW_J_ARRAY) < 0) {
		d->why = "a log is not an object with topics";
		return RW_EINVAL;
	}
	int more;
	while ((more = rw_jscan_next(&d->s, NULL, NULL)) == 1) {
		if (lg->ntopics == 4) {
			d->why = "a log has more than four topics";
			return RW_EINVAL;
		}
		int rc = get_fixed(d, lg->topics[lg->ntopics++], 32);
		if (rc < 0) {
			d->why = "a log topic is not 32 bytes of hex";
			return rc;
		}
	}
	return more;
}

/* Reads one field's value into lg. Returns 0 or a negative code with
 * d->why set. */
static int get_field(struct decode *d, struct ix_log *lg, enum log_field f, int *removed)
{
	const char *p;
	size_t n;
	int rc = 0;
	switch (f) {
	case F_TOPICS: return get_topics(d, lg);
	case F_REMOVED:
		*removed = rw_jscan_peek(&d->s) == RW_J_TRUE;
		return rw_jscan_skip(&d->s, NULL, NULL);
	case F_DATA:
		rc = get_str(d, &p, &n);
		if (rc == 0 && rw_hex_decode_buf(&lg->data, p, n, RW_HEX_PREFIX_REQUIRED) < 0)
			rc = RW_EINVAL;
		if (rc < 0)
			d->why = "a log's data is not hex";
		return rc;
	case F_BLOCK: rc = get_quantity(d, &lg->block, INT64_MAX); break;
	case F_TX_INDEX: rc = get_quantity(d, &lg->tx_index, INT32_MAX); break;
	case F_LOG_INDEX: rc = get_quantity(d, &lg->log_index, 0xffffff); break;
	case F_BLOCK_HASH: rc = get_hash(d, &d->seen_bh, lg->block_hash); break;
	case F_TX_HASH: rc = get_hash(d, &d->seen_tx, lg->tx_hash); break;
	case F_ADDRESS: rc = get_fixed(d, lg->addr, 20); break;
	default: return rw_jscan_skip(&d->s, NULL, NULL);
	}
	if (rc < 0)
		d->why = "a log lacks a well-formed block, transaction, index or address";
	return rc;
}

/* Reads the log object that comes next in d->s. Returns 0, or a negative
 * code with d->why set. */
static int parse_log(struct decode *d, struct ix_log *lg)
{
	unsigned have = 0;
	int removed = 0, rc = 0, more;
	const char *k;
	size_t kn;
	lg->ntopics = 0;
	lg->data.len = 0;
	if (rw_jscan_peek(&d->s) != RW_J_OBJECT || rw_jscan_enter(&d->s, RW_J_OBJECT) < 0) {
		d->why = "a log is not an object with topics";
		return RW_EINVAL;
	}
	while (rc == 0 && (more = rw_jscan_next(&d->s, &k, &kn)) == 1) {
		enum log_field f = field_of(k, kn);
		if (f != F_OTHER && (have & 1u << f)) {
			d->why = "a log has a field twice";
			return RW_EINVAL;
		}
		if (f != F_OTHER)
			have |= 1u << f;
		rc = get_field(d, lg, f, &removed);
	}
	if (rc == 0 && more < 0)
		rc = more;
	if (rc < 0) {
		if (!d->why)
			d->why = d->s.why ? d->s.why : "out of memory";
		return rc;
	}
	if (removed) {
		d->why = "a log is marked removed";
		return RW_EINVAL;
	}
	if (!(have & 1u << F_TOPICS)) {
		d->why = "a log is not an object with topics";
		return RW_EINVAL;
	}
	if (!(have & 1u << F_DATA)) {
		d->why = "a log's data is not hex";
		return RW_EINVAL;
	}
	if ((have & F_NEEDED) != F_NEEDED) {
		d->why = "a log lacks a well-formed block, transaction, index or address";
		return RW_EINVAL;
	}
	return 0;
}

/* The source of a log: an address of the query's set whose kind maps the
 * log's topic 0. Sets *ret_ev too; NULL when none. */
static const struct ix_source *find_source(const struct ix_lane *lane, int watched,
					   const struct ix_log *lg,
					   const struct rw_eventmap_event **ret_ev)
{
	const struct ix_srcset *set = watched ? &lane->watched : &lane->plain;
	size_t lo = 0, hi = set->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(set->v[mid]->addr, lg->addr, 20) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < set->n && memcmp(set->v[i]->addr, lg->addr, 20) == 0; i++) {
		const struct rw_eventmap_event *ev =
			rw_eventmap_lookup(lane->ix->p.map, set->v[i]->kind, lg->topics[0]);
		if (ev) {
			*ret_ev = ev;
			return set->v[i];
		}
	}
	return NULL;
}

static void reject(struct ix_range *r, const struct ix_log *lg, const struct ix_source *src,
		   const struct rw_eventmap_event *ev, const char *why)
{
	struct rw_indexer *ix = r->ix;
	r->n_rejects++;
	if (ix->reject_logged >= 100 && ix->reject_logged % 1000 != 0) {
		ix->reject_logged++;
		return;
	}
	ix->reject_logged++;
	char tx[67], addr[43];
	rw_hex_encode(tx, lg->tx_hash, 32, 1);
	rw_hex_encode(addr, lg->addr, 20, 1);
	rw_indexer_say(ix, RW_INDEXER_WARN,
		       "rejected log: block %" PRIu64 " tx %s log index %" PRIu64
		       " (%s %s at %s): %s; skipped",
		       lg->block, tx, lg->log_index, src->kind, ev->event->name, addr, why);
}

/* Returns 1 when vals is a factory log announcing a contract that is not a
 * source yet (its commit changes the watch set). */
static int is_new_child(const struct rw_indexer *ix, const struct rw_eventmap_event *ev,
			const struct rw_abi_value *vals)
{
	if (strcmp(ev->kind, IX_FACTORY_KIND) != 0 ||
	    strcmp(ev->event->name, IX_FACTORY_EVENT) != 0)
		return 0;
	const struct rw_abi_type *in = ev->event->inputs;
	for (size_t i = 0; i < in->len && i < vals->list.n; i++) {
		if (!in->names || strcmp(in->names[i], IX_FACTORY_CHILD) != 0 ||
		    in->comps[i]->kind != RW_ABI_ADDRESS)
			continue;
		for (size_t k = 0; k < ix->n_src; k++)
			if (!memcmp(ix->src[k].addr, vals->list.items[i].addr, 20) &&
			    strcmp(ix->src[k].kind, RW_CONFIG_KIND_PROVIDER) == 0)
				return 0;
		return 1;
	}
	return 1;
}

/* Notes the block of a log (unique_refs sorts them and keeps each once;
 * consecutive logs of one block, the usual order, are noted once). */
static int add_ref(struct decode *d, const struct ix_log *lg)
{
	struct ix_blockref *last = d->n_refs ? &d->refs[d->n_refs - 1] : NULL;
	if (last && last->number == lg->block && memcmp(last->hash, lg->block_hash, 32) == 0)
		return 0;
	if (d->n_refs == d->cap_refs) {
		size_t cap = d->cap_refs ? 2 * d->cap_refs : 64;
		struct ix_blockref *v = realloc(d->refs, cap * sizeof(*v));
		if (!v)
			return RW_ENOMEM;
		d->refs = v;
		d->cap_refs = cap;
	}
	d->refs[d->n_refs].number = lg->block;
	memcpy(d->refs[d->n_refs].hash, lg->block_hash, 32);
	d->n_refs++;
	return 0;
}

/* Decodes one log into its table's rows. Returns 0 (stored, skipped or
 * rejected) or a negative code when the whole range must be fetched again
 * (d->why or d->too_big say why). */
static int take_log(struct decode *d, int qi)
{
	struct ix_range *r = d->r;
	struct ix_log *lg = &d->lg;
	int rc = parse_log(d, lg);
	if (rc < 0)
		return rc;
	if (lg->block < r->from || lg->block > r->to) {
		d->why = "a log is outside the requested blocks";
		return RW_EINVAL;
	}
	int first = seen_add(&d->seen, (lg->block << 24) | lg->log_index, qi);
	if (first == RW_ENOMEM)
		return first;
	if (first == qi) {
		d->why = "two logs of one block share a log index";
		return RW_EINVAL;
	}
	rc = add_ref(d, lg);
	if (rc < 0)
		return rc;
	if (first >= 0 || lg->ntopics == 0)
		return 0;
	const struct rw_eventmap_event *ev = NULL;
	const struct ix_source *src = find_source(r->lane, r->lane->q[qi].watched, lg, &ev);
	if (!src)
		return 0; /* an event the map does not hold, or not of this lane */
	struct rw_abi_value *vals = NULL;
	rc = rw_abi_event_decode(&vals, ev->event, (const uint8_t(*)[32])lg->topics, lg->ntopics,
				 lg->data.p, lg->data.len);
	if (rc < 0) {
		char why[96];
		snprintf(why, sizeof(why), "does not decode as %s (%s)", ev->event->signature,
			 rw_strerror(rc));
		reject(r, lg, src, ev, why);
		return 0;
	}
	struct ix_rows *rows = &r->rows[ev - r->ix->p.map->events];
	size_t mark = rows->buf.len;
	rc = put_row(&rows->buf, r->ix, ev, lg, vals);
	if (rc == 0 && !r->discovers && is_new_child(r->ix, ev, vals))
		r->discovers = 1;
	rw_abi_value_free(vals);
	if (rc == RW_ETOOBIG) {
		rows->buf.len = mark;
		d->too_big = 1;
		return rc;
	}
	if (rc < 0) {
		rows->buf.len = mark;
		reject(r, lg, src, ev,
		       rc == RW_ENOMEM ? "out of memory" : "a value does not fit its column");
		return rc == RW_ENOMEM ? rc : 0;
	}
	rows->n++;
	r->n_logs++;
	return 0;
}

static int cmp_ref(const void *a, const void *b)
{
	const struct ix_blockref *x = a, *y = b;
	return x->number < y->number ? -1 : x->number > y->number;
}

/* Sorts the blocks that hold logs and keeps each once; two hashes for one
 * height are an inconsistent answer. Returns 0 or RW_EINVAL. */
static int unique_refs(struct decode *d)
{
	if (d->n_refs > 1)
		qsort(d->refs, d->n_refs, sizeof(*d->refs), cmp_ref);
	size_t o = 0;
	for (size_t i = 0; i < d->n_refs; i++) {
		if (o && d->refs[o - 1].number == d->refs[i].number) {
			if (memcmp(d->refs[o - 1].hash, d->refs[i].hash, 32) != 0) {
				d->why = "logs of one height name two block hashes";
				return RW_EINVAL;
			}
			continue;
		}
		d->refs[o++] = d->refs[i];
	}
	d->n_refs = o;
	return 0;
}

/* A header from a raw answer: 1 when the node has the block (*h filled),
 * 0 when it answered null, RW_EINVAL when the answer is malformed. */
static int raw_header(struct ix_hdr *h, const struct rw_rpc_result *res)
{
	json_error_t e;
	json_t *v =
		json_loadb(res->raw, res->raw_len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
	if (!v)
		return RW_EINVAL;
	int rc = json_is_null(v) ? 0 : rw_indexer_parse_header(h, v) == 0 ? 1 : RW_EINVAL;
	json_decref(v);
	return rc;
}

/* Window ranges: every header, contiguous and linked by parent hash. */
static int take_headers(struct ix_range *r, const struct rw_rpc_result *res, size_t n,
			const char **why)
{
	r->hdrs = calloc(n ? n : 1, sizeof(*r->hdrs));
	if (!r->hdrs)
		return RW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int k = raw_header(&r->hdrs[i], &res[i]);
		if (k == 0) {
			*why = "a block is not there yet";
			return RW_EINVAL;
		}
		if (k < 0) {
			*why = "a header is malformed";
			return RW_EINVAL;
		}
		if (r->hdrs[i].number != r->from + i) {
			*why = "a header has another number than asked";
			return RW_EINVAL;
		}
		if (i && memcmp(r->hdrs[i].parent, r->hdrs[i - 1].hash, 32) != 0) {
			*why = "the headers do not link (the chain changed while fetching)";
			return RW_EINVAL;
		}
		r->n_hdrs++;
	}
	return 0;
}

static int send_headers(struct ix_range *r);

/* Everything of the first answer: window headers, then logs. Returns 0, or
 * a negative code with d->why / d->too_big set. */
/* Backfill ranges: the header of the range's last block came in the same
 * batch; a node that lacks it (behind its peers) would answer an empty list
 * for logs it does not have yet. */
static int take_last(struct ix_range *r, const struct rw_rpc_result *res, struct ix_hdr *ret,
		     const char **why)
{
	int k = raw_header(ret, res);
	if (k == 0) {
		*why = "the node does not have the range's last block yet";
		return RW_EINVAL;
	}
	if (k < 0 || ret->number != r->to) {
		*why = "the range's last header is malformed";
		return RW_EINVAL;
	}
	return 0;
}

static int take_answer(struct decode *d, const struct rw_rpc_result *res, size_t n)
{
	struct ix_range *r = d->r;
	size_t nq = r->lane->n_q;
	struct ix_hdr last = { 0 };
	d->method = "eth_getBlockByNumber";
	d->endpoint = res[n - 1].endpoint;
	int rc = r->window ? take_headers(r, res + nq, n - nq, &d->why)
			   : take_last(r, &res[n - 1], &last, &d->why);
	if (rc < 0)
		return rc;
	if (seen_init(&d->seen, 1024) < 0)
		return RW_ENOMEM;
	d->method = "eth_getLogs";
	for (size_t i = 0; i < nq; i++) {
		d->endpoint = res[i].endpoint;
		rw_jscan_init(&d->s, res[i].raw, res[i].raw_len);
		if (rw_jscan_peek(&d->s) != RW_J_ARRAY || rw_jscan_enter(&d->s, RW_J_ARRAY) < 0) {
			d->why = "eth_getLogs did not answer a list";
			return RW_EINVAL;
		}
		int more;
		while ((more = rw_jscan_next(&d->s, NULL, NULL)) == 1)
			if ((rc = take_log(d, (int)i)) < 0)
				return rc;
		if (more < 0) {
			d->why = d->s.why;
			return more;
		}
	}
	rc = unique_refs(d);
	if (rc < 0)
		return rc;
	if (!r->window) {
		if (d->n_refs && d->refs[d->n_refs - 1].number == r->to) {
			if (memcmp(d->refs[d->n_refs - 1].hash, last.hash, 32) != 0) {
				d->why = "a log's block hash differs from its header's";
				return RW_EINVAL;
			}
			/* its header came with the logs: not fetched again */
			r->last_hdr = last;
			r->last_needed = 1;
			d->n_refs--;
		}
		return 0;
	}
	for (size_t i = 0; i < d->n_refs; i++) {
		if (memcmp(d->refs[i].hash, r->hdrs[d->refs[i].number - r->from].hash, 32) != 0) {
			d->why = "a log's block hash differs from its header's";
			return RW_EINVAL;
		}
	}
	return 0;
}

/* Every header of r is in: the range is ready to commit. */
static void headers_done(struct ix_range *r)
{
	if (r->last_needed)
		r->hdrs[r->n_hdrs++] = r->last_hdr;
	r->state = IX_R_READY;
	r->ready_ms = rw_indexer_now(r->ix);
	r->failures = 0;
	account(r);
}

static void on_logs(struct rw_rpc *rpc, const struct rw_rpc_result *res, size_t n, void *udata)
{
	struct ix_range *r = udata;
	struct rw_indexer *ix = r->ix;
	(void)rpc;
	if (reap(r))
		return;
	ix->fetch_bytes -= r->expect;
	r->expect = 0;
	size_t nq = r->lane->n_q;
	for (size_t i = 0; i < n; i++) {
		if (res[i].cls != RW_RPC_OK) {
			failed(r, &res[i], i < nq ? "eth_getLogs" : "eth_getBlockByNumber");
			rw_indexer_pump(ix);
			return;
		}
	}
	size_t bytes = 0;
	for (size_t i = 0; i < nq; i++)
		bytes += res[i].raw_len;
	adapt_span(r->lane, r->to - r->from + 1, bytes);
	struct decode d = { .r = r };
	rw_buf_init(&d.lg.data, RW_RPC_DEFAULT_MAX_RESPONSE);
	rw_buf_init(&d.esc, RW_RPC_DEFAULT_MAX_RESPONSE);
	int rc = take_answer(&d, res, n);
	if (rc < 0 && d.s.err) {
		/* results come delimited, not checked: malformed text is met here */
		snprintf(d.why_buf, sizeof(d.why_buf), "the answer is not JSON (byte %zu: %s)",
			 d.s.err_at, d.s.why ? d.s.why : "?");
		d.why = d.why_buf;
	}
	if (rc == 0 && !r->window && d.n_refs) {
		r->need = d.refs;
		r->n_need = d.n_refs;
		d.refs = NULL;
	}
	seen_free(&d.seen);
	free(d.refs);
	rw_buf_release(&d.lg.data);
	rw_buf_release(&d.esc);
	if (rc < 0) {
		if (d.too_big) {
			too_large(r, NULL, "rows over the per-range ceiling", 0, 0);
		} else if (rc == RW_ENOMEM) {
			inconsistent(r, "out of memory");
		} else {
			char *ep = d.endpoint ? rw_config_mask(d.endpoint) : NULL;
			char why[256];
			snprintf(why, sizeof(why), "%s from %s: %s",
				 d.method ? d.method : "an answer", ep ? ep : "?",
				 d.why ? d.why : "the answer is malformed");
			free(ep);
			inconsistent(r, why);
		}
		rw_indexer_pump(ix);
		return;
	}
	account(r);
	if (r->n_need || r->last_needed) {
		r->hdrs = calloc(r->n_need + 1, sizeof(*r->hdrs));
		if (!r->hdrs) {
			r->failures++;
			retry_later(r);
		} else if (r->n_need) {
			r->state = IX_R_HEADERS;
			if (send_headers(r) < 0) {
				r->failures++;
				retry_later(r);
			}
		} else {
			headers_done(r);
		}
	} else {
		headers_done(r);
	}
	rw_indexer_pump(ix);
}

static void on_headers(struct rw_rpc *rpc, const struct rw_rpc_result *res, size_t n, void *udata)
{
	struct ix_range *r = udata;
	struct rw_indexer *ix = r->ix;
	(void)rpc;
	if (reap(r))
		return;
	for (size_t i = 0; i < n; i++) {
		if (res[i].cls != RW_RPC_OK) {
			failed(r, &res[i], "eth_getBlockByNumber");
			rw_indexer_pump(ix);
			return;
		}
		const struct ix_blockref *want = &r->need[r->n_hdrs];
		struct ix_hdr *h = &r->hdrs[r->n_hdrs];
		const char *why = NULL;
		if (json_is_null(res[i].result))
			why = "a block with logs is not there";
		else if (rw_indexer_parse_header(h, res[i].result) < 0)
			why = "a header is malformed";
		else if (h->number != want->number)
			why = "a header has another number than asked";
		else if (memcmp(h->hash, want->hash, 32) != 0)
			why = "a block's hash differs from its logs' (the chain changed while "
			      "fetching)";
		if (why) {
			inconsistent(r, why);
			rw_indexer_pump(ix);
			return;
		}
		r->n_hdrs++;
	}
	if (r->n_hdrs < r->n_need) {
		if (send_headers(r) < 0) {
			r->failures++;
			retry_later(r);
		}
	} else {
		headers_done(r);
	}
	rw_indexer_pump(ix);
}

/* Asks for the next batch of headers of blocks with logs. */
static int send_headers(struct ix_range *r)
{
	size_t n = r->n_need - r->need_sent;
	if (n > IX_HEADER_BATCH)
		n = IX_HEADER_BATCH;
	struct rw_rpc_req *reqs = calloc(n, sizeof(*reqs));
	if (!reqs)
		return RW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		reqs[i].method = "eth_getBlockByNumber";
		reqs[i].params = rw_indexer_block_params(r->need[r->need_sent + i].number, NULL);
	}
	struct rw_rpc_send_opts o = { .as_batch = 1 };
	int rc = rw_rpc_send(r->ix->p.rpc, &o, reqs, n, on_headers, r);
	free(reqs);
	if (rc == 0) {
		r->need_sent += n;
		r->busy = 1;
	}
	return rc;
}

int rw_indexer_fetch(struct ix_range *r)
{
	struct ix_lane *lane = r->lane;
	/* window: every header; else the last block's, to know the node has it */
	size_t nh = r->window ? (size_t)(r->to - r->from + 1) : 1;
	size_t n = lane->n_q + nh;
	rw_indexer_range_reset(r);
	if (n > RW_RPC_MAX_BATCH)
		return RW_ETOOBIG;
	struct rw_rpc_req *reqs = calloc(n, sizeof(*reqs));
	if (!reqs)
		return RW_ENOMEM;
	for (size_t i = 0; i < lane->n_q; i++) {
		json_t *f = json_deep_copy(lane->q[i].filter);
		if (f) {
			json_object_set_new(f, "fromBlock", quantity(r->from));
			json_object_set_new(f, "toBlock", quantity(r->to));
		}
		reqs[i].method = "eth_getLogs";
		reqs[i].params = json_pack("[o]", f);
	}
	for (size_t i = 0; i < nh; i++) {
		reqs[lane->n_q + i].method = "eth_getBlockByNumber";
		reqs[lane->n_q + i].params =
			rw_indexer_block_params(r->window ? r->from + i : r->to, NULL);
	}
	int ok = 1;
	for (size_t i = 0; i < n; i++)
		ok = ok && reqs[i].params;
	int rc = RW_ENOMEM;
	r->expect = lane->bpb ? (size_t)((r->to - r->from + 1) * lane->bpb) : IX_TARGET_BYTES;
	if (ok) {
		r->limit = max_response(r);
		struct rw_rpc_send_opts o = { .as_batch = 1,
					      .raw = RW_RPC_RAW_DELIMITED,
					      .max_response = r->limit };
		rc = rw_rpc_send(r->ix->p.rpc, &o, reqs, n, on_logs, r);
	} else {
		for (size_t i = 0; i < n; i++)
			json_decref(reqs[i].params);
	}
	free(reqs);
	if (rc < 0) {
		r->expect = 0; /* not counted */
		return rc;
	}
	r->state = IX_R_LOGS;
	r->busy = 1;
	r->ix->fetch_bytes += r->expect;
	return 0;
}
