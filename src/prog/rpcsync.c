/* rpcsync.c: blocking JSON-RPC for the CLI on a private loop. */
#include "rpcsync.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "hex.h"
#include "relayer.h"

void rw_rpcsync_err_set(struct rw_rpcsync_err *err, enum rw_rpc_class cls, const char *fmt, ...)
{
	va_list ap;
	err->cls = cls;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

int rw_rpcsync_open(struct rw_rpcsync *s, const char *url, struct rw_rpcsync_err *err)
{
	memset(s, 0, sizeof(*s));
	s->url = url;
	if (uv_loop_init(&s->loop) != 0) {
		rw_rpcsync_err_set(err, RW_RPC_OTHER, "cannot create an event loop");
		return -1;
	}
	struct rw_rpc_opts opts = { .max_attempts = 3 };
	if (rw_rpc_new(&s->rpc, &s->loop, &opts) < 0) {
		rw_rpcsync_err_set(err, RW_RPC_OTHER, "cannot create the JSON-RPC client");
		s->rpc = NULL;
		return -1;
	}
	struct rw_rpc_endpoint_opts ep = { .url = url, .max_concurrency = 4, .timeout_ms = 30000 };
	if (rw_rpc_add_endpoint(s->rpc, &ep) < 0) {
		rw_rpcsync_err_set(err, RW_RPC_OTHER,
				   "bad RPC URL '%s' (expected http:// or https://)", url);
		return -1;
	}
	return 0;
}

struct call_state {
	int done;
	json_t *result;
	struct rw_rpcsync_err *err;
	const struct rw_relayer_errors *errors;
};

/* Describes a failed result in one line, the revert reason decoded. */
static void describe(struct rw_rpcsync_err *err, const struct rw_rpc_result *r,
		     const struct rw_relayer_errors *errors)
{
	const struct rw_rpc_revert *rv = &r->revert;
	switch (r->cls == RW_RPC_REVERTED ? rv->kind : RW_RPC_REVERT_NONE) {
	case RW_RPC_REVERT_ERROR:
		rw_rpcsync_err_set(err, r->cls, "execution reverted: %.*s", (int)rv->reason_len,
				   rv->reason);
		return;
	case RW_RPC_REVERT_PANIC: {
		char p[RW_U256_HEX_MAX];
		rw_u256_format_hex(p, &rv->panic);
		rw_rpcsync_err_set(err, r->cls, "execution reverted: panic %s%s", p,
				   strcmp(p, "0x11") == 0 ? " (arithmetic overflow)" : "");
		return;
	}
	case RW_RPC_REVERT_CUSTOM:
		if (errors) {
			char why[400];
			rw_relayer_revert_reason(why, sizeof(why), errors, rv, r->message);
			rw_rpcsync_err_set(err, r->cls, "execution reverted: %s", why);
			return;
		}
		rw_rpcsync_err_set(
			err, r->cls, "execution reverted: custom error 0x%02x%02x%02x%02x",
			rv->selector[0], rv->selector[1], rv->selector[2], rv->selector[3]);
		return;
	case RW_RPC_REVERT_EMPTY:
		rw_rpcsync_err_set(err, r->cls, "execution reverted without a reason");
		return;
	default:
		rw_rpcsync_err_set(err, r->cls, "%s: %s", rw_rpc_class_name(r->cls),
				   r->message[0] ? r->message : "no details");
	}
}

static void on_result(struct rw_rpc *rpc, const struct rw_rpc_result *res, size_t n, void *udata)
{
	(void)rpc;
	(void)n;
	struct call_state *st = udata;
	st->done = 1;
	if (res->cls == RW_RPC_OK)
		st->result = json_incref(res->result ? res->result : json_null());
	else
		describe(st->err, res, st->errors);
}

int rw_rpcsync_call(struct rw_rpcsync *s, const char *method, json_t *params, json_t **ret,
		    struct rw_rpcsync_err *err)
{
	struct call_state st = { 0, NULL, err, s->errors };
	if (!s->rpc) {
		json_decref(params);
		rw_rpcsync_err_set(err, RW_RPC_OTHER, "no JSON-RPC client");
		return -1;
	}
	if (rw_rpc_call(s->rpc, method, params, on_result, &st) < 0) {
		rw_rpcsync_err_set(err, RW_RPC_OTHER, "cannot send %s", method);
		return -1;
	}
	while (!st.done)
		uv_run(&s->loop, UV_RUN_ONCE);
	if (!st.result) {
		size_t k = strlen(err->msg);
		if (k + 1 < sizeof(err->msg))
			snprintf(err->msg + k, sizeof(err->msg) - k, " (%s at %s)", method, s->url);
		return -1;
	}
	*ret = st.result;
	return 0;
}

int rw_rpcsync_eth_call(struct rw_rpcsync *s, const uint8_t to[20], const uint8_t *calldata,
			size_t n, struct rw_buf *out, struct rw_rpcsync_err *err)
{
	return rw_rpcsync_eth_call_at(s, to, calldata, n, "latest", out, err);
}

int rw_rpcsync_eth_call_at(struct rw_rpcsync *s, const uint8_t to[20], const uint8_t *calldata,
			   size_t n, const char *block, struct rw_buf *out,
			   struct rw_rpcsync_err *err)
{
	char *tohex = rw_hex_encode_alloc(to, 20);
	char *data = rw_hex_encode_alloc(calldata, n);
	json_t *params = tohex && data
				 ? json_pack("[{s:s, s:s}, s]", "to", tohex, "data", data, block)
				 : NULL;
	free(tohex);
	free(data);
	if (!params) {
		rw_rpcsync_err_set(err, RW_RPC_OTHER, "out of memory");
		return -1;
	}
	json_t *res;
	if (rw_rpcsync_call(s, "eth_call", params, &res, err) < 0)
		return -1;
	int r = rw_rpc_get_hex_bytes(out, res);
	json_decref(res);
	if (r < 0) {
		rw_rpcsync_err_set(err, RW_RPC_BAD_RESPONSE, "eth_call returned malformed data");
		return -1;
	}
	return 0;
}

int rw_rpcsync_chain_id(struct rw_rpcsync *s, uint64_t *ret, struct rw_rpcsync_err *err)
{
	json_t *res;
	if (rw_rpcsync_call(s, "eth_chainId", json_array(), &res, err) < 0)
		return -1;
	int r = rw_rpc_get_quantity_u64(ret, res);
	json_decref(res);
	if (r < 0) {
		rw_rpcsync_err_set(err, RW_RPC_BAD_RESPONSE,
				   "eth_chainId returned a malformed quantity");
		return -1;
	}
	return 0;
}

static void on_closed(void *udata)
{
	*(int *)udata = 1;
}

void rw_rpcsync_close(struct rw_rpcsync *s)
{
	if (s->rpc) {
		int closed = 0;
		if (rw_rpc_close(s->rpc, on_closed, &closed) == 0)
			while (!closed)
				uv_run(&s->loop, UV_RUN_ONCE);
		s->rpc = NULL;
	}
	uv_run(&s->loop, UV_RUN_DEFAULT);
	(void)uv_loop_close(&s->loop);
}
