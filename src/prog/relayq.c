/* relayq.c: what the relayer queue commands share (see relayq.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#include "key.h"
#include "pg.h"
#include "relayq.h"

int rw_relayq_open(struct rw_relayq *q, struct rw_cli *cli)
{
	memset(q, 0, sizeof(*q));
	q->cli = cli;
	if (rw_cli_config(cli, &q->cfg) != 0)
		return RW_EXIT_FAIL;
	return rw_pgsync_connect(&q->db, &q->db_open, cli, q->cfg);
}

void rw_relayq_close(struct rw_relayq *q)
{
	if (q->db_open)
		rw_pgsync_close(&q->db);
	q->db_open = 0;
	q->cfg = rw_config_free(q->cfg);
}

int rw_relayq_fail(struct rw_relayq *q, const struct rw_pgsync_err *e)
{
	return rw_pgsync_fail(q->cli, e);
}

int rw_relayq_exec(char **ret, struct rw_relayq *q, const char *sql, int n,
		   const char *const *params)
{
	return rw_pgsync_text(ret, &q->db, q->cli, sql, n, params);
}

/* The pieces joined, or NULL when out of memory. */
static char *join(const char *const *parts)
{
	size_t len = 1;
	for (size_t i = 0; parts[i]; i++)
		len += strlen(parts[i]);
	char *s = malloc(len), *p = s;
	for (size_t i = 0; s && parts[i]; i++) {
		size_t k = strlen(parts[i]);
		memcpy(p, parts[i], k);
		p += k;
	}
	if (s)
		*p = '\0';
	return s;
}

int rw_relayq_json(json_t **ret, struct rw_relayq *q, const char *const *sql, int n,
		   const char *const *params)
{
	char *text;
	*ret = NULL;
	char *stmt = join(sql);
	if (!stmt) {
		rw_cli_err(q->cli, "out of memory");
		return RW_EXIT_FAIL;
	}
	int rc = rw_relayq_exec(&text, q, stmt, n, params);
	free(stmt);
	if (rc != 0 || !text)
		return rc;
	json_error_t e;
	*ret = json_loads(text, JSON_DECODE_ANY, &e);
	free(text);
	if (!*ret) {
		rw_cli_err(q->cli, "unreadable answer from the database: %s", e.text);
		return RW_EXIT_FAIL;
	}
	return 0;
}

int rw_relayq_chain(char out[24], struct rw_relayq *q, const char *arg)
{
	const char *params[] = { arg };
	char *id, *known;
	int rc = rw_relayq_exec(
		&id, q,
		"SELECT chain_id::text FROM chain WHERE chain_id::text = $1 OR name = $1 "
		"ORDER BY chain_id::text = $1 DESC LIMIT 1",
		1, params);
	if (rc != 0)
		return rc;
	if (id) {
		snprintf(out, 24, "%s", id);
		free(id);
		return 0;
	}
	rc = rw_relayq_exec(
		&known, q,
		"SELECT string_agg(chain_id || ' (' || name || ')', ', ' ORDER BY chain_id) "
		"FROM chain",
		0, NULL);
	if (rc != 0)
		return rc;
	rw_cli_err(q->cli, "--chain %s: the database knows no such chain (it knows %s)", arg,
		   known ? known : "none");
	free(known);
	return RW_EXIT_FAIL;
}

int rw_relayq_print_json(const json_t *j)
{
	int rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	fputc('\n', stdout);
	return rc == 0 && fflush(stdout) == 0 ? RW_EXIT_OK : RW_EXIT_FAIL;
}

static int is_address_key(const char *key)
{
	return strcmp(key, "signer") == 0 || strcmp(key, "target") == 0;
}

void rw_relayq_checksum(json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;
	if (json_is_array(j)) {
		json_array_foreach(j, i, v) rw_relayq_checksum(v);
		return;
	}
	if (!json_is_object(j))
		return;
	json_object_foreach(j, key, v)
	{
		const char *s = json_string_value(v);
		uint8_t a[20];
		char out[43];
		if (s && is_address_key(key) && rw_addr_parse(a, s, strlen(s)) == 0) {
			rw_addr_checksum(out, a);
			json_object_set_new(j, key, json_string(out));
		} else {
			rw_relayq_checksum(v);
		}
	}
}

const char *rw_relayq_str(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : "";
}

const char *rw_relayq_age(char *out, size_t n, json_int_t s)
{
	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(out, n, "%llds", (long long)s);
	else if (s < 2 * 3600)
		snprintf(out, n, "%lldm", (long long)(s / 60));
	else if (s < 2 * 86400)
		snprintf(out, n, "%lldh", (long long)(s / 3600));
	else
		snprintf(out, n, "%lldd", (long long)(s / 86400));
	return out;
}

const char *rw_relayq_gwei(char *out, size_t n, const char *wei)
{
	size_t len = strlen(wei);
	if (len == 0 || len > 78 || wei[strspn(wei, "0123456789")] != '\0') {
		snprintf(out, n, "%s wei", wei);
		return out;
	}
	char digits[96];
	size_t pad = len < 10 ? 10 - len : 0;
	memset(digits, '0', pad);
	memcpy(digits + pad, wei, len + 1);
	size_t total = pad + len, point = total - 9;
	size_t end = total;
	while (end > point && digits[end - 1] == '0')
		end--;
	if (end == point)
		snprintf(out, n, "%.*s gwei", (int)point, digits);
	else
		snprintf(out, n, "%.*s.%.*s gwei", (int)point, digits, (int)(end - point),
			 digits + point);
	return out;
}

const char *rw_relayq_fees(char *out, size_t n, const json_t *tx)
{
	char a[128], b[128];
	if (json_integer_value(json_object_get(tx, "type")) == 0) {
		snprintf(out, n, "gas price %s",
			 rw_relayq_gwei(a, sizeof(a), rw_relayq_str(tx, "gas_price")));
		return out;
	}
	snprintf(out, n, "max fee %s, tip %s",
		 rw_relayq_gwei(a, sizeof(a), rw_relayq_str(tx, "max_fee_per_gas")),
		 rw_relayq_gwei(b, sizeof(b), rw_relayq_str(tx, "max_priority_fee_per_gas")));
	return out;
}

void rw_relayq_table_init(struct rw_relayq_table *t, size_t cols, const char *const *header)
{
	memset(t, 0, sizeof(*t));
	t->cols = cols > RW_RELAYQ_COLS ? RW_RELAYQ_COLS : cols;
	rw_relayq_table_row(t, header);
}

void rw_relayq_table_row(struct rw_relayq_table *t, const char *const *cells)
{
	char **v = realloc(t->cells, (t->rows + 1) * t->cols * sizeof(*v));
	if (!v) {
		t->oom = 1;
		return;
	}
	t->cells = v;
	for (size_t c = 0; c < t->cols; c++) {
		const char *s = cells[c] && cells[c][0] ? cells[c] : "-";
		char *copy = strdup(s);
		t->oom |= !copy;
		v[t->rows * t->cols + c] = copy;
		size_t w = strlen(s);
		if (w > t->width[c])
			t->width[c] = w;
	}
	t->rows++;
}

int rw_relayq_table_print(struct rw_relayq_table *t, const struct rw_cli *cli)
{
	int rc = RW_EXIT_OK;
	if (t->oom) {
		rw_cli_err(cli, "out of memory");
		rc = RW_EXIT_FAIL;
	}
	for (size_t r = 0; rc == RW_EXIT_OK && r < t->rows; r++) {
		for (size_t c = 0; c < t->cols; c++) {
			const char *s = t->cells[r * t->cols + c];
			if (c + 1 < t->cols)
				printf("%-*s  ", (int)t->width[c], s);
			else
				printf("%s\n", s);
		}
	}
	for (size_t k = 0; k < t->rows * t->cols; k++)
		free(t->cells[k]);
	free(t->cells);
	t->cells = NULL;
	t->rows = 0;
	return rc;
}

int rw_relayq_listen(struct rw_relayq *q, const char *channel)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "LISTEN %s", channel);
	return rw_relayq_exec(NULL, q, sql, 0, NULL);
}

int rw_relayq_wait_notify(struct rw_relayq *q, int ms)
{
	PGconn *conn = q->db.conn;
	int fd = PQsocket(conn);
	if (fd < 0) {
		rw_cli_err(q->cli, "PostgreSQL at %s: the connection is gone", q->db.server);
		return RW_EXIT_FAIL;
	}
	fd_set in;
	FD_ZERO(&in);
	FD_SET(fd, &in);
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	int n = select(fd + 1, &in, NULL, NULL, &tv);
	if (n < 0 && errno != EINTR) {
		rw_cli_err(q->cli, "waiting for PostgreSQL: %s", strerror(errno));
		return RW_EXIT_FAIL;
	}
	if (n > 0 && !PQconsumeInput(conn)) {
		char line[512];
		rw_pg_message_line(line, sizeof(line), PQerrorMessage(conn));
		rw_cli_err(q->cli, "PostgreSQL at %s: %s", q->db.server, line);
		return RW_EXIT_FAIL;
	}
	PGnotify *note;
	while ((note = PQnotifies(conn)) != NULL)
		PQfreemem(note);
	return 0;
}

uint64_t rw_relayq_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void rw_relayq_print_attempt(const json_t *a)
{
	char fees[300], paid[128], price[128];
	printf("  #%lld %-8s %-6s nonce %lld, %s, gas %lld, %s\n",
	       (long long)json_integer_value(json_object_get(a, "attempt")),
	       rw_relayq_str(a, "state"), rw_relayq_str(a, "kind"),
	       (long long)json_integer_value(json_object_get(a, "nonce")),
	       rw_relayq_fees(fees, sizeof(fees), a),
	       (long long)json_integer_value(json_object_get(a, "gas_limit")),
	       rw_relayq_str(a, "hash"));
	json_int_t b = json_integer_value(json_object_get(a, "broadcasts"));
	printf("     signed %s, broadcast %lld time%s", rw_relayq_str(a, "created_at"),
	       (long long)b, b == 1 ? "" : "s");
	if (rw_relayq_str(a, "last_error")[0])
		printf(", last error %s: %s", rw_relayq_str(a, "last_error_class"),
		       rw_relayq_str(a, "last_error"));
	printf("\n");
	if (json_is_integer(json_object_get(a, "block_number")))
		printf("     receipt: block %lld (%s), status %lld, gas used %lld at %s: %s "
		       "paid%s\n",
		       (long long)json_integer_value(json_object_get(a, "block_number")),
		       rw_relayq_str(a, "block_hash"),
		       (long long)json_integer_value(json_object_get(a, "status")),
		       (long long)json_integer_value(json_object_get(a, "gas_used")),
		       rw_relayq_gwei(price, sizeof(price),
				      rw_relayq_str(a, "effective_gas_price")),
		       rw_relayq_gwei(paid, sizeof(paid), rw_relayq_str(a, "fee_paid")),
		       json_is_true(json_object_get(a, "final"))       ? ", final"
		       : json_is_true(json_object_get(a, "confirmed")) ? ", confirmed"
								       : ", not confirmed yet");
}

void rw_relayq_print_requests(const json_t *reqs)
{
	size_t i;
	const json_t *q;
	json_array_foreach(reqs, i, q)
	{
		printf("  #%lld %s %s by %s at %s",
		       (long long)json_integer_value(json_object_get(q, "id")),
		       rw_relayq_str(q, "kind"), rw_relayq_str(q, "state"),
		       rw_relayq_str(q, "requested_by"), rw_relayq_str(q, "created_at"));
		const json_t *tx = json_object_get(q, "tx");
		if (json_is_object(tx))
			printf(": attempt #%lld %s",
			       (long long)json_integer_value(json_object_get(tx, "attempt")),
			       rw_relayq_str(tx, "hash"));
		if (rw_relayq_str(q, "reason")[0])
			printf(": %s", rw_relayq_str(q, "reason"));
		if (rw_relayq_str(q, "note")[0])
			printf(" (note: %s)", rw_relayq_str(q, "note"));
		printf("\n");
	}
}

void rw_relayq_print_events(const json_t *events)
{
	size_t i;
	const json_t *e;
	json_array_foreach(events, i, e)
		printf("  %s %-5s %-17s %s\n", rw_relayq_str(e, "at"), rw_relayq_str(e, "level"),
		       rw_relayq_str(e, "kind"), rw_relayq_str(e, "message"));
}
