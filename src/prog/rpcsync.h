/* rpcsync.h: blocking JSON-RPC for the CLI.
 *
 * The CLI runs one request at a time: each call runs a private libuv loop
 * with the layer-2 client (rw_rpc) until the answer is in, so the CLI
 * shares the service's classification, retries and response checks. */
#ifndef RW_RPCSYNC_H
#define RW_RPCSYNC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "buf.h"
#include "rpc.h"

struct rw_relayer_errors;

struct rw_rpcsync {
	uv_loop_t loop;
	struct rw_rpc *rpc;
	const char *url; /* borrowed */
	/* Custom errors by name (rw_relayer_errors_load), or NULL: a custom
	 * revert is then shown by its selector. Borrowed; set it after
	 * rw_rpcsync_open, it must outlive the calls. */
	const struct rw_relayer_errors *errors;
};

/* Why a call failed, for messages: the class, and a one-line description
 * (the node's message, a decoded revert reason, or what went wrong).
 * A revert reads "execution reverted: " and the reason: the text of an
 * Error(string), "panic 0x11 (arithmetic overflow)", a custom error by
 * name with its arguments when s->errors knows it ("EnforcedPause()"),
 * else by selector. */
struct rw_rpcsync_err {
	enum rw_rpc_class cls;
	char msg[512];
};

/* Fills err with a class and a printf-style message. */
void rw_rpcsync_err_set(struct rw_rpcsync_err *err, enum rw_rpc_class cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Opens a client for url. Returns 0, or -1 with err filled (a bad URL, no
 * memory). Always call rw_rpcsync_close afterwards. */
int rw_rpcsync_open(struct rw_rpcsync *s, const char *url, struct rw_rpcsync_err *err);

/* Calls method with params (stolen, even on failure). Returns 0 and a new
 * reference to the result in *ret, or -1 with err filled. */
int rw_rpcsync_call(struct rw_rpcsync *s, const char *method, json_t *params, json_t **ret,
		    struct rw_rpcsync_err *err);

/* eth_call of calldata (n bytes) on contract `to` at the "latest" block;
 * appends the return data to out. Returns 0, or -1 with err filled (a
 * revert carries its decoded reason). */
int rw_rpcsync_eth_call(struct rw_rpcsync *s, const uint8_t to[20], const uint8_t *calldata,
			size_t n, struct rw_buf *out, struct rw_rpcsync_err *err);

/* The same at block `block` (a tag such as "latest", or a 0x-QUANTITY
 * block number). */
int rw_rpcsync_eth_call_at(struct rw_rpcsync *s, const uint8_t to[20], const uint8_t *calldata,
			   size_t n, const char *block, struct rw_buf *out,
			   struct rw_rpcsync_err *err);

/* Reads eth_chainId. Returns 0 or -1 with err filled. */
int rw_rpcsync_chain_id(struct rw_rpcsync *s, uint64_t *ret, struct rw_rpcsync_err *err);

/* Closes the client and its loop. Accepts a struct that failed to open. */
void rw_rpcsync_close(struct rw_rpcsync *s);

#endif
