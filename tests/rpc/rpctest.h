/* rpctest.h: helpers for the rpc client tests: child processes (the fault
 * server, anvil), free ports, a loop with a client, and a callback that
 * keeps copies of results after the callback returns. */
#ifndef RW_RPCTEST_H
#define RW_RPCTEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rpc.h"

/* Starts argv[0] with argv. When ret_out is not NULL the child's stdout is
 * a pipe whose read end is stored there; otherwise stdout goes to
 * /dev/null. Returns the pid, or -1. */
pid_t rt_spawn(char *const argv[], int *ret_out);

/* Reads one line (without the newline) from fd within timeout_ms.
 * Returns its length, or -1. */
int rt_read_line(int fd, char *buf, size_t n, int timeout_ms);

/* Sends SIGTERM to pid (SIGKILL after 5 s) and reaps it. */
void rt_kill(pid_t pid);

/* Returns a TCP port on 127.0.0.1 that was free a moment ago, or -1. */
int rt_free_port(void);

/* Waits until 127.0.0.1:port accepts connections. Returns 0 or -1. */
int rt_wait_port(int port, int timeout_ms);

/* A copy of one result that outlives the callback. */
struct rt_item {
	enum rw_rpc_class cls;
	json_t *result; /* a reference (json_decref'd by rt_got_free) */
	char *raw;      /* raw mode: a copy of the result's text, NUL-terminated */
	size_t raw_len;
	uint64_t body_size;
	char message[512];
	char endpoint[256];
	long long code;
	int http_status;
	unsigned attempts;
	struct rw_rpc_range range;
	enum rw_rpc_revert_kind revert_kind;
	char reason[256];
	uint64_t panic;
};

/* What one request's callback delivered. */
struct rt_got {
	int calls; /* how many times the callback ran (must end at 1) */
	size_t n;
	struct rt_item *items;
	int order;                  /* value of rt_order_counter when it ran */
	struct rw_rpc *close_in_cb; /* when set, the callback closes this client */
};

/* Incremented by every rt_collect call; gives callbacks an order. */
extern int rt_order_counter;

/* An rw_rpc_cb: udata is a struct rt_got. */
void rt_collect(struct rw_rpc *rpc, const struct rw_rpc_result *res, size_t n, void *udata);

/* Frees what rt_collect stored. */
void rt_got_free(struct rt_got *g);

/* Runs the loop until every got[i].calls is nonzero. Returns 0, or -1 when
 * the loop ran dry first. */
int rt_run_until(uv_loop_t *loop, struct rt_got *got, size_t n);

/* Closes rpc, runs the loop until idle and checks that the close callback
 * ran and uv_loop_close() returns 0. Returns 0 or -1 (with a message). */
int rt_close_all(uv_loop_t *loop, struct rw_rpc *rpc);

#endif
