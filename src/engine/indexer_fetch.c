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
	for (size_t i = 0; i < ix->p.map->n_events; i++)
		b += r->rows[i].buf.cap;
	ix->mem_held = ix->mem_held - r->bytes + b;
	r->bytes = b;
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
 * following the node's hint when it gives one. */
static void too_large(struct ix_range *r, const struct rw_rpc_range *hint, const char *why)
{
	struct ix_lane *lane = r->lane;
	uint64_t n = r->to - r->from + 1, keep = n / 2;
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
		too_large(r, &res->range, res->message);
		return;
	}
	if (is_too_big_body(res)) {
		r->ix->st.rpc_errors[res->cls]++;
		too_large(r, NULL, res->message);
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
	size_t cap;
};

static int seen_init(struct seen *s, size_t n)
{
	s->cap = 16;
	while (s->cap < 2 * n + 16)
		s->cap <<= 1;
	s->key = calloc(s->cap, sizeof(*s->key));
	s->query = calloc(s->cap, sizeof(*s->query));
	return s->key && s->query ? 0 : RW_ENOMEM;
}

static void seen_free(struct seen *s)
{
	free(s->key);
	free(s->query);
}

/* Returns -1 when new (and records it), else the query that gave it first. */
static int seen_add(struct seen *s, uint64_t key, int query)
{
	uint64_t k = key + 1; /* 0 marks a free slot */
	size_t i = (size_t)((k * 0x9e3779b97f4a7c15ULL) >> 7) & (s->cap - 1);
	while (s->key[i]) {
		if (s->key[i] == k)
			return s->query[i];
		i = (i + 1) & (s->cap - 1);
	}
	s->key[i] = k;
	s->query[i] = query;
	return -1;
}

struct decode {
	struct ix_range *r;
	struct seen seen;
	struct ix_blockref *refs;
	size_t n_refs;
	struct ix_log lg;
	const char *why; /* set when the answer is inconsistent */
	int too_big;
};

static int parse_log(struct ix_log *lg, const json_t *v, const char **why)
{
	const json_t *t = json_object_get(v, "topics");
	if (!json_is_object(v) || !json_is_array(t)) {
		*why = "a log is not an object with topics";
		return RW_EINVAL;
	}
	if (json_is_true(json_object_get(v, "removed"))) {
		*why = "a log is marked removed";
		return RW_EINVAL;
	}
	if (rw_rpc_get_quantity_u64(&lg->block, json_object_get(v, "blockNumber")) < 0 ||
	    rw_rpc_get_quantity_u64(&lg->tx_index, json_object_get(v, "transactionIndex")) < 0 ||
	    rw_rpc_get_quantity_u64(&lg->log_index, json_object_get(v, "logIndex")) < 0 ||
	    rw_rpc_get_data32(lg->block_hash, json_object_get(v, "blockHash")) < 0 ||
	    rw_rpc_get_data32(lg->tx_hash, json_object_get(v, "transactionHash")) < 0 ||
	    rw_rpc_get_address(lg->addr, json_object_get(v, "address")) < 0 ||
	    lg->tx_index > INT32_MAX || lg->log_index > 0xffffff || lg->block > INT64_MAX) {
		*why = "a log lacks a well-formed block, transaction, index or address";
		return RW_EINVAL;
	}
	lg->ntopics = json_array_size(t);
	if (lg->ntopics > 4) {
		*why = "a log has more than four topics";
		return RW_EINVAL;
	}
	for (size_t i = 0; i < lg->ntopics; i++) {
		if (rw_rpc_get_data32(lg->topics[i], json_array_get(t, i)) < 0) {
			*why = "a log topic is not 32 bytes of hex";
			return RW_EINVAL;
		}
	}
	lg->data.len = 0;
	if (rw_rpc_get_hex_bytes(&lg->data, json_object_get(v, "data")) < 0) {
		*why = "a log's data is not hex";
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

/* Decodes one log into its table's rows. Returns 0 (stored, skipped or
 * rejected) or a negative code when the whole range must be fetched again
 * (d->why or d->too_big say why). */
static int take_log(struct decode *d, const json_t *v, int qi)
{
	struct ix_range *r = d->r;
	struct ix_log *lg = &d->lg;
	if (parse_log(lg, v, &d->why) < 0)
		return RW_EINVAL;
	if (lg->block < r->from || lg->block > r->to) {
		d->why = "a log is outside the requested blocks";
		return RW_EINVAL;
	}
	int first = seen_add(&d->seen, (lg->block << 24) | lg->log_index, qi);
	if (first == qi) {
		d->why = "two logs of one block share a log index";
		return RW_EINVAL;
	}
	d->refs[d->n_refs].number = lg->block;
	memcpy(d->refs[d->n_refs].hash, lg->block_hash, 32);
	d->n_refs++;
	if (first >= 0 || lg->ntopics == 0)
		return 0;
	const struct rw_eventmap_event *ev = NULL;
	const struct ix_source *src = find_source(r->lane, r->lane->q[qi].watched, lg, &ev);
	if (!src)
		return 0; /* an event the map does not hold, or not of this lane */
	struct rw_abi_value *vals = NULL;
	int rc = rw_abi_event_decode(&vals, ev->event, (const uint8_t(*)[32])lg->topics,
				     lg->ntopics, lg->data.p, lg->data.len);
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

/* Window ranges: every header, contiguous and linked by parent hash. */
static int take_headers(struct ix_range *r, const struct rw_rpc_result *res, size_t n,
			const char **why)
{
	r->hdrs = calloc(n ? n : 1, sizeof(*r->hdrs));
	if (!r->hdrs)
		return RW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (json_is_null(res[i].result)) {
			*why = "a block is not there yet";
			return RW_EINVAL;
		}
		if (rw_indexer_parse_header(&r->hdrs[i], res[i].result) < 0) {
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
	if (json_is_null(res->result)) {
		*why = "the node does not have the range's last block yet";
		return RW_EINVAL;
	}
	if (rw_indexer_parse_header(ret, res->result) < 0 || ret->number != r->to) {
		*why = "the range's last header is malformed";
		return RW_EINVAL;
	}
	return 0;
}

static int take_answer(struct decode *d, const struct rw_rpc_result *res, size_t n)
{
	struct ix_range *r = d->r;
	size_t nq = r->lane->n_q, total = 0;
	struct ix_hdr last;
	int rc = r->window ? take_headers(r, res + nq, n - nq, &d->why)
			   : take_last(r, &res[n - 1], &last, &d->why);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < nq; i++) {
		if (!json_is_array(res[i].result)) {
			d->why = "eth_getLogs did not answer a list";
			return RW_EINVAL;
		}
		total += json_array_size(res[i].result);
	}
	d->refs = calloc(total + 1, sizeof(*d->refs));
	if (!d->refs || seen_init(&d->seen, total) < 0)
		return RW_ENOMEM;
	rw_buf_init(&d->lg.data, RW_RPC_DEFAULT_MAX_RESPONSE);
	for (size_t i = 0; i < nq; i++) {
		const json_t *a = res[i].result;
		for (size_t k = 0; rc == 0 && k < json_array_size(a); k++)
			rc = take_log(d, json_array_get(a, k), (int)i);
		if (rc < 0)
			return rc;
	}
	rc = unique_refs(d);
	if (rc < 0)
		return rc;
	if (!r->window) {
		if (d->n_refs && d->refs[d->n_refs - 1].number == r->to &&
		    memcmp(d->refs[d->n_refs - 1].hash, last.hash, 32) != 0) {
			d->why = "a log's block hash differs from its header's";
			return RW_EINVAL;
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

static void on_logs(struct rw_rpc *rpc, const struct rw_rpc_result *res, size_t n, void *udata)
{
	struct ix_range *r = udata;
	struct rw_indexer *ix = r->ix;
	(void)rpc;
	if (reap(r))
		return;
	size_t nq = r->lane->n_q;
	for (size_t i = 0; i < n; i++) {
		if (res[i].cls != RW_RPC_OK) {
			failed(r, &res[i], i < nq ? "eth_getLogs" : "eth_getBlockByNumber");
			rw_indexer_pump(ix);
			return;
		}
	}
	struct decode d = { .r = r };
	int rc = take_answer(&d, res, n);
	if (rc == 0 && !r->window && d.n_refs) {
		r->need = d.refs;
		r->n_need = d.n_refs;
		d.refs = NULL;
	}
	seen_free(&d.seen);
	free(d.refs);
	rw_buf_free(&d.lg.data);
	if (rc < 0) {
		if (d.too_big)
			too_large(r, NULL, "rows over the per-range ceiling");
		else if (rc == RW_ENOMEM)
			inconsistent(r, "out of memory");
		else
			inconsistent(r, d.why ? d.why : "the answer is malformed");
		rw_indexer_pump(ix);
		return;
	}
	account(r);
	if (r->n_need) {
		r->state = IX_R_HEADERS;
		r->hdrs = calloc(r->n_need, sizeof(*r->hdrs));
		if (!r->hdrs || send_headers(r) < 0) {
			r->failures++;
			retry_later(r);
		}
	} else {
		r->state = IX_R_READY;
		r->ready_ms = rw_indexer_now(ix);
		r->failures = 0;
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
		r->state = IX_R_READY;
		r->ready_ms = rw_indexer_now(ix);
		r->failures = 0;
		account(r);
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
	if (ok) {
		struct rw_rpc_send_opts o = { .as_batch = 1 };
		rc = rw_rpc_send(r->ix->p.rpc, &o, reqs, n, on_logs, r);
	} else {
		for (size_t i = 0; i < n; i++)
			json_decref(reqs[i].params);
	}
	free(reqs);
	if (rc < 0)
		return rc;
	r->state = IX_R_LOGS;
	r->busy = 1;
	return 0;
}
