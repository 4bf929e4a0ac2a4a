/* rpctest.c: helpers for the rpc client tests. */
#include "rpctest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int rt_order_counter;

pid_t rt_spawn(char *const argv[], int *ret_out)
{
	posix_spawn_file_actions_t fa;
	int fds[2] = { -1, -1 };
	pid_t pid;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return -1;
	if (ret_out) {
		if (pipe(fds) < 0) {
			posix_spawn_file_actions_destroy(&fa);
			return -1;
		}
		posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
		posix_spawn_file_actions_addclose(&fa, fds[0]);
		posix_spawn_file_actions_addclose(&fa, fds[1]);
	} else {
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	}
	int r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (ret_out) {
		close(fds[1]);
		if (r != 0)
			close(fds[0]);
		else
			*ret_out = fds[0];
	}
	return r == 0 ? pid : -1;
}

int rt_read_line(int fd, char *buf, size_t n, int timeout_ms)
{
	size_t k = 0;
	while (k + 1 < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, timeout_ms) <= 0)
			return -1;
		char c;
		ssize_t got = read(fd, &c, 1);
		if (got <= 0)
			return -1;
		if (c == '\n')
			break;
		buf[k++] = c;
	}
	buf[k] = '\0';
	return (int)k;
}

void rt_kill(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 500; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int rt_free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return -1;
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(a);
	int port = -1;
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(s, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(s);
	return port;
}

int rt_wait_port(int port, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 50) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0)
			return -1;
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int r = connect(s, (struct sockaddr *)&a, sizeof(a));
		close(s);
		if (r == 0)
			return 0;
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return -1;
}

static void copy_item(struct rt_item *it, const struct rw_rpc_result *r)
{
	it->cls = r->cls;
	it->result = r->result ? json_incref(r->result) : NULL;
	it->raw = NULL;
	it->raw_len = r->raw_len;
	it->body_size = r->body_size;
	if (r->raw && (it->raw = malloc(r->raw_len + 1)) != NULL) {
		memcpy(it->raw, r->raw, r->raw_len);
		it->raw[r->raw_len] = '\0';
	}
	snprintf(it->message, sizeof(it->message), "%s", r->message);
	snprintf(it->endpoint, sizeof(it->endpoint), "%s", r->endpoint ? r->endpoint : "");
	it->code = r->code;
	it->http_status = r->http_status;
	it->attempts = r->attempts;
	it->range = r->range;
	it->revert_kind = r->revert.kind;
	if (r->revert.kind == RW_RPC_REVERT_ERROR)
		snprintf(it->reason, sizeof(it->reason), "%.*s", (int)r->revert.reason_len,
			 r->revert.reason);
	if (r->revert.kind == RW_RPC_REVERT_PANIC)
		it->panic = r->revert.panic.w[0];
}

void rt_collect(struct rw_rpc *rpc, const struct rw_rpc_result *res, size_t n, void *udata)
{
	struct rt_got *g = udata;
	g->calls++;
	g->order = ++rt_order_counter;
	if (g->calls > 1)
		return;
	g->n = n;
	g->items = calloc(n, sizeof(*g->items));
	for (size_t i = 0; g->items && i < n; i++)
		copy_item(&g->items[i], &res[i]);
	if (g->close_in_cb)
		(void)rw_rpc_close(g->close_in_cb, NULL, NULL);
	(void)rpc;
}

void rt_got_free(struct rt_got *g)
{
	for (size_t i = 0; g->items && i < g->n; i++) {
		json_decref(g->items[i].result);
		free(g->items[i].raw);
	}
	free(g->items);
	g->items = NULL;
}

int rt_run_until(uv_loop_t *loop, struct rt_got *got, size_t n)
{
	for (;;) {
		size_t done = 0;
		for (size_t i = 0; i < n; i++)
			done += got[i].calls > 0;
		if (done == n)
			return 0;
		if (uv_run(loop, UV_RUN_ONCE) == 0) {
			done = 0;
			for (size_t i = 0; i < n; i++)
				done += got[i].calls > 0;
			return done == n ? 0 : -1;
		}
	}
}

static void on_closed(void *udata)
{
	*(int *)udata += 1;
}

int rt_close_all(uv_loop_t *loop, struct rw_rpc *rpc)
{
	int closed = 0;
	if (rw_rpc_close(rpc, on_closed, &closed) != 0) {
		fprintf(stderr, "rw_rpc_close failed\n");
		return -1;
	}
	uv_run(loop, UV_RUN_DEFAULT);
	if (closed != 1) {
		fprintf(stderr, "close callback ran %d times\n", closed);
		return -1;
	}
	int r = uv_loop_close(loop);
	if (r != 0) {
		fprintf(stderr, "uv_loop_close: %s\n", uv_strerror(r));
		uv_print_all_handles(loop, stderr);
		return -1;
	}
	return 0;
}
