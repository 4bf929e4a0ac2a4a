/* fuzz_rpc.c: the JSON-RPC response parser, validator and classifier must
 * never crash, whatever the body.
 *
 * Byte 0 picks the mode: bit 7 set: a batch of 1 + (bits 0-2) requests
 * with ids 1..n; clear: a single request with id 1. Bits 3-6 pick an HTTP
 * status. The rest is the body. The body is also fed to the message
 * classifier and, as raw bytes, to the revert decoder.
 *
 * Raw mode (rw_rpc_parse_raw) reads the same body: its results are JSON
 * text inside the body, and when the tree parser accepts the body, raw
 * mode agrees item by item (class, and the value of each result), but for
 * what jscan refuses and jansson does not (nesting deeper than jscan's
 * limit, text after a NUL byte). Delimited raw mode (results only
 * delimited) agrees with checked raw mode wherever that one accepts. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jscan.h"
#include "rpc_class.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int statuses[16] = { 200, 200, 200, 200, 0,   201, 204, 400,
				  404, 408, 413, 429, 500, 502, 503, 504 };

static void check_result(const struct rw_rpc_result *r)
{
	if (!r->message || (unsigned)r->cls > RW_RPC_OTHER)
		abort();
	if ((r->cls == RW_RPC_OK) != (r->result != NULL))
		abort();
	if (r->revert.kind != RW_RPC_REVERT_NONE && r->cls != RW_RPC_REVERTED)
		abort();
	if (r->range.has_range && (r->range.from > r->range.to || r->range.max_span == 0))
		abort();
	(void)strlen(r->message);
}

/* A raw-mode result: OK exactly when it has text, which lies in the body
 * and is one whole JSON value. */
static void check_raw(const struct rw_rpc_result *r, const char *body, size_t len)
{
	if (!r->message || (unsigned)r->cls > RW_RPC_OTHER || r->result)
		abort();
	if ((r->cls == RW_RPC_OK) != (r->raw != NULL))
		abort();
	if (!r->raw)
		return;
	if (r->raw < body || r->raw_len > len || r->raw + r->raw_len > body + len)
		abort();
	struct rw_jscan s;
	rw_jscan_init(&s, r->raw, r->raw_len);
	if (rw_jscan_skip(&s, NULL, NULL) < 0 || rw_jscan_end(&s) < 0)
		abort();
}

/* The tree parser's item and raw mode's agree. */
static void same_item(const struct rw_rpc_result *t, const struct rw_rpc_result *r)
{
	if (t->cls != r->cls || t->code != r->code || strcmp(t->message, r->message) != 0)
		abort();
	if (t->cls != RW_RPC_OK)
		return;
	json_error_t e;
	json_t *v = json_loadb(r->raw, r->raw_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	if (!v || !json_equal(v, t->result))
		abort();
	json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	int batch = data[0] >> 7;
	size_t n = batch ? 1 + (data[0] & 7) : 1;
	int status = statuses[(data[0] >> 3) & 15];
	const char *body = (const char *)data + 1;
	size_t len = size - 1;

	uint64_t ids[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct rw_rpc_result out[8], raw[8];
	json_t *root = NULL, *raw_root = NULL;
	int r = rw_rpc_parse_response(&root, out, ids, n, batch, body, len, status);
	if (r < 0 && root)
		abort();
	int rr = rw_rpc_parse_raw(&raw_root, raw, ids, n, batch, body, len, status);
	if (rr < 0 && raw_root)
		abort();
	struct rw_rpc_result del[8];
	json_t *del_root = NULL;
	int rd = rw_rpc_parse_delimited(&del_root, del, ids, n, batch, body, len, status);
	if (rd < 0 && del_root)
		abort();
	if (rr == 0 && rd != 0)
		abort();
	for (size_t i = 0; i < n; i++) {
		if ((del[i].cls == RW_RPC_OK) != (del[i].raw != NULL) || del[i].result)
			abort();
		if (del[i].raw && (del[i].raw < body || del[i].raw + del[i].raw_len > body + len))
			abort();
		if (rr == 0 && (del[i].cls != raw[i].cls || del[i].raw != raw[i].raw ||
				del[i].raw_len != raw[i].raw_len))
			abort();
		rw_rpc_result_clear(&del[i]);
	}
	json_decref(del_root);
	int exempt = memchr(body, 0, len) != NULL;
	for (size_t i = 0; i < n; i++)
		exempt |= strstr(raw[i].message, "nesting too deep") != NULL;
	if (r == 0 && rr < 0 && !exempt)
		abort();
	for (size_t i = 0; i < n; i++) {
		check_result(&out[i]);
		check_raw(&raw[i], body, len);
		if (r == 0 && rr == 0)
			same_item(&out[i], &raw[i]);
		rw_rpc_result_clear(&out[i]);
		rw_rpc_result_clear(&raw[i]);
	}
	json_decref(root);
	json_decref(raw_root);

	struct rw_rpc_range range;
	int row;
	enum rw_rpc_class cls = rw_rpc_classify(&range, &row, 0, body, len);
	if (row >= 0 && rw_rpc_class_row_class((size_t)row) != cls)
		abort();
	if (range.has_range && range.from > range.to)
		abort();

	struct rw_rpc_revert rev;
	rw_rpc_decode_revert(&rev, (const uint8_t *)body, len);
	if (rev.kind == RW_RPC_REVERT_ERROR &&
	    (rev.reason < body || rev.reason + rev.reason_len > body + len))
		abort();
	return 0;
}
