/* rwconfig.c: reading and checking the configuration file.
 *
 * Sections: error messages (paths, "got" descriptions, key suggestions);
 * secret masking; typed getters; the parts of the file (root, chains,
 * RPC endpoints, contracts, relayer); environment overrides; the dump.
 *
 * Every parser takes the JSON path of its value ("chains[0].rpc[1]") and
 * reports with it. Arrays are allocated at their full size first and
 * counted at once, so rw_config_free can free a half-filled config. */
#include "rwconfig.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "config.h"
#include "err.h"
#include "hex.h"
#include "key.h"

extern char **environ;

/* The longest JSON path we build ("chains[63].marketplaces[9999].start_block")
 * and the longest description of a value in a message. */
#define PATH_LEN       128
#define GOT_LEN        96
#define RPC_ENV_PREFIX "RUNWAY_RPC_URL_"
#define DB_ENV         "RUNWAY_DATABASE_URL"

#define DEFAULT_MAX_CONCURRENCY 8
#define DEFAULT_TIMEOUT_MS      30000
#define DEFAULT_MAX_BLOCK_RANGE 2000
#define MIN_REORG_WINDOW        64
#define DEFAULT_METRICS_LISTEN  "127.0.0.1:9464"

/* The loader's state: where messages go and which file they name. */
struct ld {
	const char *file;
	char *err;
	size_t errlen;
};

/* snprintf for messages and paths: truncation is accepted (the text is
 * for people) and the buffer always ends with a NUL. */
void rw_config_strf(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, n, fmt, ap);
	va_end(ap);
}

#define strf     rw_config_strf
#define quote    rw_config_quote
#define describe rw_config_describe

/* ---- error messages --------------------------------------------------- */

static int vfail(struct ld *l, const char *path, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static int vfail(struct ld *l, const char *path, const char *fmt, va_list ap)
{
	if (!l->errlen)
		return RW_EINVAL;
	int n = 0;
	if (path && *path)
		n = snprintf(l->err, l->errlen, "%s: %s: ", l->file, path);
	else if (path)
		n = snprintf(l->err, l->errlen, "%s: ", l->file);
	if (n < 0 || (size_t)n >= l->errlen)
		return RW_EINVAL;
	vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
	return RW_EINVAL;
}

/* Writes "<file>: <path>: <message>" (no path part when path is "") and
 * returns RW_EINVAL. */
static int failf(struct ld *l, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int failf(struct ld *l, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(l, path, fmt, ap);
	va_end(ap);
	return RW_EINVAL;
}

/* Writes the message alone (environment errors, which are not in the
 * file) and returns err. */
static int fail_raw(struct ld *l, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail_raw(struct ld *l, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(l, NULL, fmt, ap);
	va_end(ap);
	return err;
}

static int fail_nomem(struct ld *l)
{
	return fail_raw(l, RW_ENOMEM, "%s: out of memory", l->file);
}

/* Writes s as a double-quoted string into out (n > 8), escaping quotes,
 * backslashes and control bytes, cutting it with "..." when long. */
void rw_config_quote(char *out, size_t n, const char *s)
{
	size_t k = 0, limit = n - 6;
	out[k++] = '"';
	for (; *s && k < limit; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[k++] = '\\';
			out[k++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			if (k + 4 >= limit)
				break;
			k += (size_t)snprintf(out + k, n - k, "\\x%02x", c);
		} else {
			out[k++] = (char)c;
		}
	}
	if (*s) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k++] = '"';
	out[k] = '\0';
}

/* Describes a JSON value for "got ..." (secret strings masked). */
void rw_config_describe(char *out, size_t n, const json_t *v, int secret)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: strf(out, n, "an object"); return;
	case JSON_ARRAY: strf(out, n, "an array"); return;
	case JSON_TRUE: strf(out, n, "true"); return;
	case JSON_FALSE: strf(out, n, "false"); return;
	case JSON_NULL: strf(out, n, "null"); return;
	case JSON_INTEGER: strf(out, n, "%lld", (long long)json_integer_value(v)); return;
	case JSON_REAL: {
		char *d = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
		strf(out, n, "%s", d ? d : "a real number");
		free(d);
		return;
	}
	case JSON_STRING:
		if (secret) {
			char *m = rw_config_mask(json_string_value(v));
			quote(out, n, m ? m : "***");
			free(m);
		} else {
			quote(out, n, json_string_value(v));
		}
		return;
	}
	strf(out, n, "a JSON value");
}

/* Levenshtein distance of two short strings (longer ones: SIZE_MAX). */
static size_t distance(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b), row[33];
	if (na > 32 || nb > 32)
		return SIZE_MAX;
	for (size_t j = 0; j <= nb; j++)
		row[j] = j;
	for (size_t i = 1; i <= na; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= nb; j++) {
			size_t up = row[j];
			size_t best = diag + (tolower((unsigned char)a[i - 1]) !=
					      tolower((unsigned char)b[j - 1]));
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[nb];
}

static int in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* Refuses an object holding a key not in allowed, naming the key, the
 * allowed ones and the closest of them when it looks like a typo. */
static int check_keys(struct ld *l, const char *path, const json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v)
	{
		if (in_list(key, allowed))
			continue;
		char list[512] = "", q[GOT_LEN], hint[GOT_LEN] = "";
		size_t best = 3;
		for (const char *const *a = allowed; *a; a++) {
			size_t len = strlen(list);
			strf(list + len, sizeof(list) - len, "%s%s", len ? ", " : "", *a);
			size_t d = distance(key, *a);
			if (strlen(key) >= 3 && strncmp(*a, key, strlen(key)) == 0)
				d = 1; /* a prefix: "timeout" for "timeout_ms" */
			if (d < best) {
				best = d;
				strf(hint, sizeof(hint), "; did you mean \"%s\"?", *a);
			}
		}
		quote(q, sizeof(q), key);
		return failf(l, path, "unknown key %s (allowed: %s%s)", q, list, hint);
	}
	return 0;
}

/* out = parent.key (or key at the root). */
static void join(char out[PATH_LEN], const char *parent, const char *key)
{
	strf(out, PATH_LEN, "%s%s%s", parent, *parent ? "." : "", key);
}

/* out = parent[i]. */
static void join_index(char out[PATH_LEN], const char *parent, size_t i)
{
	strf(out, PATH_LEN, "%s[%zu]", parent, i);
}

/* ---- secret masking --------------------------------------------------- */

static int secret_name(const char *k, size_t n)
{
	static const char *const words[] = { "pass", "key", "token", "secret" };
	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		size_t wl = strlen(words[w]);
		for (size_t i = 0; i + wl <= n; i++)
			if (strncasecmp(k + i, words[w], wl) == 0)
				return 1;
	}
	return 0;
}

static int put(struct rw_buf *b, const char *s, size_t n)
{
	return rw_buf_append(b, s, n);
}

static int puts_(struct rw_buf *b, const char *s)
{
	return rw_buf_append(b, s, strlen(s));
}

/* A path segment that looks like an API key. */
static int keylike(const char *s, size_t n)
{
	if (n < 20)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return 0;
	return 1;
}

/* Masks "k=v&k=v" (a URI query): secret values become ***. */
static int mask_query(struct rw_buf *b, const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t end = i;
		while (end < n && s[end] != '&')
			end++;
		const char *eq = memchr(s + i, '=', end - i);
		int r;
		if (eq && secret_name(s + i, (size_t)(eq - (s + i)))) {
			r = put(b, s + i, (size_t)(eq - (s + i)) + 1);
			if (r == 0)
				r = puts_(b, "***");
		} else {
			r = put(b, s + i, end - i);
		}
		if (r == 0 && end < n)
			r = puts_(b, "&");
		if (r < 0)
			return r;
		i = end + 1;
	}
	return 0;
}

/* Masks scheme://user:password@host/path?query#fragment. */
static int mask_uri(struct rw_buf *b, const char *s)
{
	const char *start = strstr(s, "://") + 3;
	size_t qpos = strcspn(start, "?#");
	const char *at = NULL;
	for (const char *p = start; p < start + qpos; p++)
		if (*p == '@')
			at = p;
	int r = put(b, s, (size_t)(start - s));
	const char *rest = start;
	if (r == 0 && at) {
		const char *colon = memchr(start, ':', (size_t)(at - start));
		if (colon) {
			r = put(b, start, (size_t)(colon - start));
			if (r == 0)
				r = puts_(b, ":***@");
		} else {
			r = put(b, start, (size_t)(at - start) + 1);
		}
		rest = at + 1;
	}
	/* host and path segments */
	size_t plen = strcspn(rest, "?#");
	for (size_t i = 0; r == 0 && i < plen;) {
		size_t seg = strcspn(rest + i, "/?#");
		if (seg > plen - i)
			seg = plen - i;
		if (i > 0 && keylike(rest + i, seg))
			r = puts_(b, "***");
		else
			r = put(b, rest + i, seg);
		i += seg;
		if (r == 0 && i < plen) {
			r = puts_(b, "/");
			i++;
		}
	}
	rest += plen;
	if (r == 0 && *rest == '?') {
		size_t qlen = strcspn(rest + 1, "#");
		r = puts_(b, "?");
		if (r == 0)
			r = mask_query(b, rest + 1, qlen);
		rest += 1 + qlen;
	}
	if (r == 0)
		r = puts_(b, rest);
	return r;
}

/* Masks a libpq "key=value key='quoted value'" string. What cannot be
 * parsed is replaced by *** as a whole. */
static int mask_kv(struct rw_buf *b, const char *s)
{
	int r = 0, first = 1;
	while (r == 0) {
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		const char *k = s;
		while (isalnum((unsigned char)*s) || *s == '_')
			s++;
		size_t klen = (size_t)(s - k);
		while (isspace((unsigned char)*s))
			s++;
		if (klen == 0 || *s != '=')
			return puts_(b, first ? "***" : " ***");
		s++;
		while (isspace((unsigned char)*s))
			s++;
		const char *v = s;
		if (*s == '\'') {
			for (s++; *s && *s != '\''; s++)
				if (*s == '\\' && s[1])
					s++;
			if (*s != '\'')
				return puts_(b, first ? "***" : " ***");
			s++;
		} else {
			while (*s && !isspace((unsigned char)*s))
				s++;
		}
		if (!first)
			r = puts_(b, " ");
		if (r == 0)
			r = put(b, k, klen);
		if (r == 0)
			r = puts_(b, "=");
		if (r == 0)
			r = secret_name(k, klen) ? puts_(b, "***") : put(b, v, (size_t)(s - v));
		first = 0;
	}
	return r;
}

char *rw_config_mask(const char *s)
{
	struct rw_buf b;
	rw_buf_init(&b, RW_BUF_DEFAULT_MAX);
	int r;
	if (!s)
		r = puts_(&b, "(unset)");
	else if (strstr(s, "://"))
		r = mask_uri(&b, s);
	else if (strchr(s, '='))
		r = mask_kv(&b, s);
	else
		r = puts_(&b, s);
	if (r == 0)
		r = rw_buf_push(&b, 0);
	if (r < 0) {
		rw_buf_free(&b);
		return NULL;
	}
	return (char *)b.p;
}

/* ---- typed getters ---------------------------------------------------- */

/* Parses an integer in [min, max]. Reals, strings and booleans are refused. */
static int parse_uint(struct ld *l, const char *path, const json_t *v, uint64_t min, uint64_t max,
		      uint64_t *out)
{
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		if (i >= 0 && (uint64_t)i >= min && (uint64_t)i <= max) {
			*out = (uint64_t)i;
			return 0;
		}
	}
	char got[GOT_LEN];
	describe(got, sizeof(got), v, 0);
	if (max >= (uint64_t)INT64_MAX)
		return failf(l, path, "expected an integer >= %llu, got %s",
			     (unsigned long long)min, got);
	return failf(l, path, "expected an integer from %llu to %llu, got %s",
		     (unsigned long long)min, (unsigned long long)max, got);
}

/* An optional integer member: absent takes def (origin default). */
static int opt_uint(struct ld *l, const char *parent, const json_t *obj, const char *key,
		    uint64_t min, uint64_t max, uint64_t def, struct rw_config_uint *out)
{
	const json_t *v = json_object_get(obj, key);
	if (!v) {
		out->v = def;
		out->src = RW_CONFIG_DEFAULT;
		return 0;
	}
	char path[PATH_LEN];
	join(path, parent, key);
	int r = parse_uint(l, path, v, min, max, &out->v);
	if (r == 0)
		out->src = RW_CONFIG_FILE;
	return r;
}

/* A required member: refuses its absence. */
static const json_t *need(struct ld *l, const char *parent, const json_t *obj, const char *key,
			  const char *what)
{
	const json_t *v = json_object_get(obj, key);
	if (!v)
		failf(l, parent, "missing key \"%s\" (%s)", key, what);
	return v;
}

/* Returns 1 when s holds no control characters. */
static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* A non-empty string without control characters, at most max bytes;
 * *ret points into v. */
static int parse_text(struct ld *l, const char *path, const json_t *v, size_t max, int secret,
		      const char **ret)
{
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v);
		if (n > 0 && n <= max && strlen(s) == n && printable(s)) {
			*ret = s;
			return 0;
		}
	}
	char got[GOT_LEN];
	describe(got, sizeof(got), v, secret);
	return failf(l, path,
		     "expected a non-empty string of at most %zu printable characters, got %s", max,
		     got);
}

/* Copies s into *dst (freeing nothing: *dst must be NULL). */
static int dup_into(struct ld *l, char **dst, const char *s)
{
	*dst = strdup(s);
	return *dst ? 0 : fail_nomem(l);
}

/* An optional label string ("name", "symbol"). */
static int opt_text(struct ld *l, const char *parent, const json_t *obj, const char *key,
		    size_t max, struct rw_config_str *out)
{
	const json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	char path[PATH_LEN];
	const char *s = NULL;
	join(path, parent, key);
	int r = parse_text(l, path, v, max, 0, &s);
	if (r == 0)
		r = dup_into(l, &out->v, s);
	if (r == 0)
		out->src = RW_CONFIG_FILE;
	return r;
}

static int parse_address(struct ld *l, const char *path, const json_t *v, uint8_t out[20])
{
	char got[GOT_LEN];
	describe(got, sizeof(got), v, 0);
	if (!json_is_string(v))
		return failf(l, path, "expected an address (\"0x\" and 40 hex digits), got %s",
			     got);
	int r = rw_addr_parse(out, json_string_value(v), json_string_length(v));
	if (r == RW_ECHECKSUM)
		return failf(l, path,
			     "bad EIP-55 checksum in %s: a mixed-case address must match its "
			     "checksum (a typo?)",
			     got);
	if (r < 0)
		return failf(l, path, "expected an address (\"0x\" and 40 hex digits), got %s",
			     got);
	return 0;
}

/* An array member of at most max items; absent gives n = 0. */
static int opt_array(struct ld *l, const char *path, const json_t *obj, const char *key, size_t max,
		     const json_t **ret, size_t *ret_n)
{
	const json_t *v = json_object_get(obj, key);
	*ret = v;
	*ret_n = 0;
	if (!v)
		return 0;
	if (!json_is_array(v) || json_array_size(v) > max) {
		char got[GOT_LEN];
		describe(got, sizeof(got), v, 0);
		if (json_is_array(v))
			strf(got, sizeof(got), "%zu items", json_array_size(v));
		return failf(l, path, "expected an array of at most %zu items, got %s", max, got);
	}
	*ret_n = json_array_size(v);
	return 0;
}

static int expect_object(struct ld *l, const char *path, const json_t *v)
{
	if (json_is_object(v))
		return 0;
	char got[GOT_LEN];
	describe(got, sizeof(got), v, 0);
	return failf(l, path, "expected an object, got %s", got);
}

/* Joins a relative path to the configuration file's directory; a path
 * that exists is made canonical ("deploy/../abi" -> "/srv/runway/abi"). */
static int resolve(struct ld *l, char **dst, const char *dir, const char *s)
{
	size_t n = strlen(dir) + 1 + strlen(s) + 1;
	char *joined = malloc(n);
	if (!joined)
		return fail_nomem(l);
	if (s[0] == '/')
		strf(joined, n, "%s", s);
	else
		strf(joined, n, "%s/%s", dir, s);
	*dst = realpath(joined, NULL);
	if (*dst) {
		free(joined);
		return 0;
	}
	*dst = joined;
	return 0;
}

/* ---- URLs and addresses ----------------------------------------------- */

/* An http:// or https:// URL with a host and no spaces. */
static int url_ok(const char *s)
{
	size_t skip;
	if (strncasecmp(s, "http://", 7) == 0)
		skip = 7;
	else if (strncasecmp(s, "https://", 8) == 0)
		skip = 8;
	else
		return 0;
	if (s[skip] == '\0' || s[skip] == '/' || s[skip] == '?' || s[skip] == '#')
		return 0;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* A libpq connection string: a postgres(ql):// URI or key=value pairs. */
static int db_url_ok(const char *s)
{
	if (strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0)
		return 1;
	return strchr(s, '=') != NULL && strstr(s, "://") == NULL;
}

/* "host:port", IPv6 hosts in brackets, port 1..65535. */
static int listen_ok(const char *s)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s || !colon[1] || strlen(colon + 1) > 5)
		return 0;
	unsigned long port = 0;
	for (const char *p = colon + 1; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return 0;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (port < 1 || port > 65535)
		return 0;
	if (s[0] == '[')
		return colon[-1] == ']' && colon - s > 2;
	for (const char *p = s; p < colon; p++)
		if (*p == ':' || *p == '[' || *p == ']' || isspace((unsigned char)*p))
			return 0;
	return 1;
}

/* ---- root keys -------------------------------------------------------- */

static int parse_database_url(struct ld *l, struct rw_config *cfg, const json_t *root)
{
	const json_t *v = json_object_get(root, "database_url");
	const char *s = NULL;
	if (v) {
		int r = parse_text(l, "database_url", v, 4096, 1, &s);
		if (r < 0)
			return r;
		if (!db_url_ok(s)) {
			char got[GOT_LEN];
			describe(got, sizeof(got), v, 1);
			return failf(
				l, "database_url",
				"expected a postgresql:// URI or a libpq key=value string, got %s",
				got);
		}
		cfg->database_url.src = RW_CONFIG_FILE;
		return dup_into(l, &cfg->database_url.v, s);
	}
	return 0;
}

static int parse_metrics(struct ld *l, struct rw_config *cfg, const json_t *root)
{
	static const char *const keys[] = { "listen", NULL };
	const json_t *m = json_object_get(root, "metrics");
	if (!m)
		return 0;
	int r = expect_object(l, "metrics", m);
	if (r == 0)
		r = check_keys(l, "metrics", m, keys);
	if (r < 0)
		return r;
	const json_t *v = json_object_get(m, "listen");
	const char *s = DEFAULT_METRICS_LISTEN;
	cfg->metrics_listen.src = RW_CONFIG_DEFAULT;
	if (v) {
		r = parse_text(l, "metrics.listen", v, 300, 0, &s);
		if (r == 0 && !listen_ok(s)) {
			char got[GOT_LEN];
			describe(got, sizeof(got), v, 0);
			r = failf(l, "metrics.listen",
				  "expected host:port (port 1 to 65535, an IPv6 host in brackets), "
				  "got %s",
				  got);
		}
		if (r < 0)
			return r;
		cfg->metrics_listen.src = RW_CONFIG_FILE;
	}
	return dup_into(l, &cfg->metrics_listen.v, s);
}

/* abi_dir and event_map, resolved against the file's directory. */
static int parse_paths(struct ld *l, struct rw_config *cfg, const json_t *root)
{
	const json_t *v = json_object_get(root, "abi_dir");
	const char *s = NULL;
	int r;
	if (v) {
		r = parse_text(l, "abi_dir", v, PATH_MAX, 0, &s);
		if (r == 0)
			r = resolve(l, &cfg->abi_dir.v, cfg->dir, s);
		if (r < 0)
			return r;
		cfg->abi_dir.src = RW_CONFIG_FILE;
	} else {
		r = dup_into(l, &cfg->abi_dir.v, RUNWAY_SOURCE_ROOT "/abi");
		if (r < 0)
			return r;
	}
	v = json_object_get(root, "event_map");
	if (v) {
		r = parse_text(l, "event_map", v, PATH_MAX, 0, &s);
		if (r == 0)
			r = resolve(l, &cfg->event_map.v, cfg->dir, s);
		if (r == 0)
			cfg->event_map.src = RW_CONFIG_FILE;
		return r;
	}
	return resolve(l, &cfg->event_map.v, cfg->abi_dir.v, "events.json");
}

/* ---- RPC endpoints ---------------------------------------------------- */

static void rpc_defaults(struct rw_config_rpc *e)
{
	e->max_concurrency.v = DEFAULT_MAX_CONCURRENCY;
	e->max_rps.v = 0;
	e->timeout_ms.v = DEFAULT_TIMEOUT_MS;
}

static int url_error(struct ld *l, const char *path, const json_t *v)
{
	char got[GOT_LEN];
	describe(got, sizeof(got), v, 1);
	return failf(l, path, "expected an http:// or https:// URL, got %s", got);
}

static int parse_rpc_item(struct ld *l, const char *path, const json_t *v, struct rw_config_rpc *e)
{
	static const char *const keys[] = { "url", "max_concurrency", "max_rps", "timeout_ms",
					    NULL };
	char p[PATH_LEN];
	const json_t *u = v;
	int r = 0;
	rpc_defaults(e);
	if (json_is_object(v)) {
		r = check_keys(l, path, v, keys);
		if (r == 0 && !(u = need(l, path, v, "url", "the endpoint's http(s) URL")))
			r = RW_EINVAL;
		if (r == 0)
			r = opt_uint(l, path, v, "max_concurrency", 1, 1024,
				     DEFAULT_MAX_CONCURRENCY, &e->max_concurrency);
		if (r == 0)
			r = opt_uint(l, path, v, "max_rps", 0, 100000, 0, &e->max_rps);
		if (r == 0)
			r = opt_uint(l, path, v, "timeout_ms", 100, 600000, DEFAULT_TIMEOUT_MS,
				     &e->timeout_ms);
		if (r < 0)
			return r;
		join(p, path, "url");
	} else if (json_is_string(v)) {
		strf(p, sizeof(p), "%s", path);
	} else {
		char got[GOT_LEN];
		describe(got, sizeof(got), v, 0);
		return failf(l, path, "expected a URL string or an object with \"url\", got %s",
			     got);
	}
	if (!json_is_string(u) || !url_ok(json_string_value(u)) ||
	    strlen(json_string_value(u)) != json_string_length(u))
		return url_error(l, p, u);
	e->url.src = RW_CONFIG_FILE;
	return dup_into(l, &e->url.v, json_string_value(u));
}

/* Refuses the same URL twice in one chain. */
static int rpc_unique(struct ld *l, const struct rw_config_chain *ch, const char *where)
{
	for (size_t i = 0; i < ch->n_rpc; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(ch->rpc[i].url.v, ch->rpc[j].url.v) == 0) {
				char *m = rw_config_mask(ch->rpc[i].url.v);
				int r = fail_raw(l, RW_EINVAL,
						 "%s: endpoints %zu and %zu are the same URL %s",
						 where, j, i, m ? m : "***");
				free(m);
				return r;
			}
	return 0;
}

static int parse_rpc_file(struct ld *l, const char *cpath, const json_t *chain,
			  struct rw_config_chain *ch)
{
	char path[PATH_LEN];
	join(path, cpath, "rpc");
	const json_t *v = json_object_get(chain, "rpc");
	if (!v)
		return failf(l, cpath, "missing key \"rpc\" (a list of http(s) URLs; or set %s)",
			     ch->rpc_env);
	if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > RW_CONFIG_MAX_RPC) {
		char got[GOT_LEN];
		describe(got, sizeof(got), v, 0);
		if (json_is_array(v))
			strf(got, sizeof(got), "%zu items", json_array_size(v));
		return failf(l, path, "expected an array of 1 to %d endpoints, got %s",
			     RW_CONFIG_MAX_RPC, got);
	}
	ch->rpc = calloc(json_array_size(v), sizeof(*ch->rpc));
	if (!ch->rpc)
		return fail_nomem(l);
	ch->n_rpc = json_array_size(v);
	for (size_t i = 0; i < ch->n_rpc; i++) {
		char p[PATH_LEN];
		join_index(p, path, i);
		int r = parse_rpc_item(l, p, json_array_get(v, i), &ch->rpc[i]);
		if (r < 0)
			return r;
	}
	char where[PATH_LEN + 64];
	strf(where, sizeof(where), "%s: %s", l->file, path);
	return rpc_unique(l, ch, where);
}

static void free_rpc(struct rw_config_chain *ch)
{
	for (size_t i = 0; i < ch->n_rpc; i++)
		free(ch->rpc[i].url.v);
	free(ch->rpc);
	ch->rpc = NULL;
	ch->n_rpc = 0;
}

/* Replaces the chain's endpoints by the comma-separated list in env. */
static int parse_rpc_env(struct ld *l, struct rw_config_chain *ch, const char *env)
{
	size_t n = 1;
	for (const char *p = env; *p; p++)
		n += *p == ',';
	if (n > RW_CONFIG_MAX_RPC)
		return fail_raw(l, RW_EINVAL, "%s (environment): %zu URLs, at most %d allowed",
				ch->rpc_env, n, RW_CONFIG_MAX_RPC);
	free_rpc(ch);
	ch->rpc = calloc(n, sizeof(*ch->rpc));
	if (!ch->rpc)
		return fail_nomem(l);
	ch->n_rpc = n;
	const char *p = env;
	for (size_t i = 0; i < n; i++) {
		size_t len = strcspn(p, ",");
		while (len && (*p == ' ' || *p == '\t'))
			p++, len--;
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		char *u = strndup(p, len);
		if (!u)
			return fail_nomem(l);
		rpc_defaults(&ch->rpc[i]);
		ch->rpc[i].url.v = u;
		ch->rpc[i].url.src = RW_CONFIG_ENV;
		if (!url_ok(u)) {
			char *m = rw_config_mask(u);
			char q[GOT_LEN];
			quote(q, sizeof(q), m ? m : "***");
			free(m);
			return fail_raw(
				l, RW_EINVAL,
				"%s (environment): URL %zu: expected an http:// or https:// "
				"URL, got %s",
				ch->rpc_env, i + 1, q);
		}
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
	}
	char where[PATH_LEN];
	strf(where, sizeof(where), "%s (environment)", ch->rpc_env);
	return rpc_unique(l, ch, where);
}

/* ---- contracts -------------------------------------------------------- */

static int parse_contract(struct ld *l, const char *path, const json_t *v, uint64_t start,
			  struct rw_config_contract *c)
{
	static const char *const keys[] = { "name", "address", "start_block", NULL };
	char p[PATH_LEN];
	const json_t *a = NULL;
	int r = expect_object(l, path, v);
	if (r == 0)
		r = check_keys(l, path, v, keys);
	if (r == 0)
		r = opt_text(l, path, v, "name", 64, &c->name);
	if (r == 0 && !(a = need(l, path, v, "address", "the contract's address")))
		r = RW_EINVAL;
	if (r < 0)
		return r;
	join(p, path, "address");
	r = parse_address(l, p, a, c->address);
	if (r == 0)
		r = opt_uint(l, path, v, "start_block", 0, INT64_MAX, start, &c->start_block);
	return r;
}

static int parse_watch(struct ld *l, const char *path, const json_t *obj, struct rw_config_token *t)
{
	const json_t *v = json_object_get(obj, "watch");
	if (!v)
		return 0;
	t->watch_src = RW_CONFIG_FILE;
	if (json_is_string(v) && strcmp(json_string_value(v), "all") == 0) {
		t->watch = RW_CONFIG_WATCH_ALL;
		return 0;
	}
	if (json_is_string(v) && strcmp(json_string_value(v), "watched") == 0) {
		t->watch = RW_CONFIG_WATCH_WATCHED;
		return 0;
	}
	char p[PATH_LEN], got[GOT_LEN];
	join(p, path, "watch");
	describe(got, sizeof(got), v, 0);
	return failf(l, p, "expected \"all\" or \"watched\", got %s", got);
}

static int parse_token(struct ld *l, const char *path, const json_t *v, uint64_t start,
		       struct rw_config_token *t)
{
	static const char *const keys[] = { "name",  "symbol",      "address", "decimals",
					    "watch", "start_block", NULL };
	char p[PATH_LEN];
	const json_t *a = NULL, *d = NULL, *s = NULL;
	const char *sym = NULL;
	uint64_t dec = 0;
	int r = expect_object(l, path, v);
	if (r == 0)
		r = check_keys(l, path, v, keys);
	if (r == 0 && !(a = need(l, path, v, "address", "the token's address")))
		r = RW_EINVAL;
	if (r == 0 && !(s = need(l, path, v, "symbol", "the token's symbol, e.g. \"USDC\"")))
		r = RW_EINVAL;
	if (r == 0 && !(d = need(l, path, v, "decimals", "an integer from 0 to 77")))
		r = RW_EINVAL;
	if (r < 0)
		return r;
	join(p, path, "address");
	r = parse_address(l, p, a, t->address);
	join(p, path, "symbol");
	if (r == 0)
		r = parse_text(l, p, s, 32, 0, &sym);
	if (r == 0)
		r = dup_into(l, &t->symbol, sym);
	join(p, path, "decimals");
	if (r == 0)
		r = parse_uint(l, p, d, 0, 77, &dec);
	if (r == 0)
		t->decimals = (unsigned)dec;
	if (r == 0)
		r = opt_text(l, path, v, "name", 64, &t->name);
	if (r == 0 && !t->name.v)
		r = dup_into(l, &t->name.v, t->symbol);
	if (r == 0)
		r = parse_watch(l, path, v, t);
	if (r == 0)
		r = opt_uint(l, path, v, "start_block", 0, INT64_MAX, start, &t->start_block);
	return r;
}

static int parse_tokens(struct ld *l, const char *cpath, const json_t *chain,
			struct rw_config_chain *ch)
{
	char path[PATH_LEN];
	const json_t *arr;
	size_t n;
	join(path, cpath, "tokens");
	int r = opt_array(l, path, chain, "tokens", RW_CONFIG_MAX_CONTRACT, &arr, &n);
	if (r < 0 || n == 0)
		return r;
	ch->tokens = calloc(n, sizeof(*ch->tokens));
	if (!ch->tokens)
		return fail_nomem(l);
	ch->n_tokens = n;
	for (size_t i = 0; i < n && r == 0; i++) {
		char p[PATH_LEN];
		join_index(p, path, i);
		r = parse_token(l, p, json_array_get(arr, i), ch->start_block.v, &ch->tokens[i]);
	}
	return r;
}

static int parse_contracts(struct ld *l, const char *cpath, const json_t *chain, const char *key,
			   uint64_t start, struct rw_config_contract **ret, size_t *ret_n)
{
	char path[PATH_LEN];
	const json_t *arr;
	size_t n;
	join(path, cpath, key);
	int r = opt_array(l, path, chain, key, RW_CONFIG_MAX_CONTRACT, &arr, &n);
	if (r < 0 || n == 0)
		return r;
	*ret = calloc(n, sizeof(**ret));
	if (!*ret)
		return fail_nomem(l);
	*ret_n = n;
	for (size_t i = 0; i < n && r == 0; i++) {
		char p[PATH_LEN];
		join_index(p, path, i);
		r = parse_contract(l, p, json_array_get(arr, i), start, &(*ret)[i]);
	}
	return r;
}

static int parse_watched(struct ld *l, const char *cpath, const json_t *chain,
			 struct rw_config_chain *ch)
{
	char path[PATH_LEN];
	const json_t *arr;
	size_t n;
	join(path, cpath, "watched_addresses");
	int r = opt_array(l, path, chain, "watched_addresses", RW_CONFIG_MAX_CONTRACT, &arr, &n);
	if (r < 0 || n == 0)
		return r;
	ch->watched = calloc(n, sizeof(*ch->watched));
	if (!ch->watched)
		return fail_nomem(l);
	ch->n_watched = n;
	for (size_t i = 0; i < n && r == 0; i++) {
		char p[PATH_LEN];
		join_index(p, path, i);
		r = parse_address(l, p, json_array_get(arr, i), ch->watched[i]);
	}
	return r;
}

/* One address of a chain and the list item it came from. */
struct addr_ref {
	const uint8_t *addr;
	const char *list;
	size_t i;
};

static int addr_ref_cmp(const void *a, const void *b)
{
	const struct addr_ref *x = a, *y = b;
	int c = memcmp(x->addr, y->addr, 20);
	if (c == 0)
		c = strcmp(x->list, y->list);
	if (c == 0)
		c = x->i < y->i ? -1 : x->i > y->i;
	return c;
}

/* Sorts refs and refuses two equal addresses, naming both places. */
static int addr_unique(struct ld *l, const char *cpath, struct addr_ref *refs, size_t n)
{
	qsort(refs, n, sizeof(*refs), addr_ref_cmp);
	for (size_t i = 1; i < n; i++) {
		if (memcmp(refs[i].addr, refs[i - 1].addr, 20) != 0)
			continue;
		char a[43], p[PATH_LEN], q[PATH_LEN];
		rw_addr_checksum(a, refs[i].addr);
		strf(p, sizeof(p), "%s.%s[%zu]", cpath, refs[i - 1].list, refs[i - 1].i);
		strf(q, sizeof(q), "%s.%s[%zu]", cpath, refs[i].list, refs[i].i);
		return failf(l, q, "address %s is already listed at %s", a, p);
	}
	return 0;
}

/* A contract address appears once per chain; so does a watched address. */
static int chain_addresses_unique(struct ld *l, const char *cpath, const struct rw_config_chain *ch)
{
	size_t n = ch->n_tokens + ch->n_providers + ch->n_marketplaces + ch->n_balances;
	size_t m = n > ch->n_watched ? n : ch->n_watched;
	struct addr_ref *refs = calloc(m ? m : 1, sizeof(*refs));
	if (!refs)
		return fail_nomem(l);
	size_t k = 0;
	for (size_t i = 0; i < ch->n_tokens; i++)
		refs[k++] = (struct addr_ref){ ch->tokens[i].address, "tokens", i };
	for (size_t i = 0; i < ch->n_providers; i++)
		refs[k++] = (struct addr_ref){ ch->providers[i].address, "providers", i };
	for (size_t i = 0; i < ch->n_marketplaces; i++)
		refs[k++] = (struct addr_ref){ ch->marketplaces[i].address, "marketplaces", i };
	for (size_t i = 0; i < ch->n_balances; i++)
		refs[k++] = (struct addr_ref){ ch->balances[i].address, "balances", i };
	int r = addr_unique(l, cpath, refs, k);
	for (size_t i = 0; r == 0 && i < ch->n_watched; i++)
		refs[i] = (struct addr_ref){ ch->watched[i], "watched_addresses", i };
	if (r == 0)
		r = addr_unique(l, cpath, refs, ch->n_watched);
	free(refs);
	return r;
}

/* ---- relayer ---------------------------------------------------------- */

static int env_name_ok(const char *s)
{
	if (!(isalpha((unsigned char)*s) || *s == '_'))
		return 0;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return 0;
	return 1;
}

/* An optional wei amount member: a JSON integer, or a string of decimal
 * digits for amounts beyond 2^63, at least min (0 or 1). */
static int opt_wei(struct ld *l, const char *parent, const json_t *obj, const char *key,
		   unsigned min, struct rw_config_wei *out)
{
	const json_t *v = json_object_get(obj, key);
	memset(out, 0, sizeof(*out));
	if (!v)
		return 0;
	char path[PATH_LEN];
	join(path, parent, key);
	int ok = 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		out->v = rw_u256_from_u64((uint64_t)json_integer_value(v));
		ok = 1;
	} else if (json_is_string(v)) {
		const char *t = json_string_value(v);
		size_t n = json_string_length(v);
		ok = n > 0 && n <= 78 && strspn(t, "0123456789") == n &&
		     rw_u256_parse_dec(&out->v, t, n) == 0;
	}
	if (ok && !(min && rw_u256_is_zero(&out->v))) {
		out->src = RW_CONFIG_FILE;
		return 0;
	}
	char got[GOT_LEN];
	describe(got, sizeof(got), v, 0);
	memset(out, 0, sizeof(*out));
	return failf(l, path,
		     "expected an amount in wei from %u to 2^256-1 (an integer, or a string "
		     "of decimal digits), got %s",
		     min, got);
}

/* An optional boolean member, as 1 or 0. */
static int opt_bool(struct ld *l, const char *parent, const json_t *obj, const char *key,
		    struct rw_config_uint *out)
{
	const json_t *v = json_object_get(obj, key);
	out->v = 0;
	out->src = RW_CONFIG_DEFAULT;
	if (!v)
		return 0;
	if (json_is_boolean(v)) {
		out->v = json_is_true(v) ? 1 : 0;
		out->src = RW_CONFIG_FILE;
		return 0;
	}
	char path[PATH_LEN], got[GOT_LEN];
	join(path, parent, key);
	describe(got, sizeof(got), v, 0);
	return failf(l, path, "expected true or false, got %s", got);
}

/* The relayer's tuning keys of the object at path (see rwconfig.h). */
static int parse_relayer_tuning(struct ld *l, const char *path, const json_t *v,
				struct rw_config_relayer *rl)
{
	const uint64_t day_ms = 86400000;
	int r = opt_wei(l, path, v, "fee_cap", 1, &rl->fee_cap);
	if (r == 0)
		r = opt_wei(l, path, v, "min_tip", 0, &rl->min_tip);
	if (r == 0)
		r = opt_uint(l, path, v, "max_inflight", 1, 1024, 0, &rl->max_inflight);
	if (r == 0)
		r = opt_uint(l, path, v, "stuck_blocks", 1, 100000, 0, &rl->stuck_blocks);
	if (r == 0)
		r = opt_uint(l, path, v, "stuck_ms", 1000, day_ms, 0, &rl->stuck_ms);
	if (r == 0)
		r = opt_uint(l, path, v, "rebroadcast_ms", 1000, day_ms, 0, &rl->rebroadcast_ms);
	if (r == 0)
		r = opt_uint(l, path, v, "gap_grace_ms", 1000, day_ms, 0, &rl->gap_grace_ms);
	if (r == 0)
		r = opt_wei(l, path, v, "warn_balance", 0, &rl->warn_balance);
	if (r == 0)
		r = opt_uint(l, path, v, "warn_days", 1, 3650, 0, &rl->warn_days);
	if (r == 0)
		r = opt_bool(l, path, v, "legacy", &rl->legacy);
	return r;
}

static int parse_relayer(struct ld *l, const char *cpath, const json_t *chain, const char *dir,
			 struct rw_config_relayer *rl)
{
	static const char *const keys[] = { "keystore",       "passphrase_file",
					    "passphrase_env", "fee_cap",
					    "min_tip",        "max_inflight",
					    "stuck_blocks",   "stuck_ms",
					    "rebroadcast_ms", "gap_grace_ms",
					    "warn_balance",   "warn_days",
					    "legacy",         NULL };
	char path[PATH_LEN], p[PATH_LEN];
	const json_t *v = json_object_get(chain, "relayer");
	const char *s = NULL;
	if (!v)
		return 0;
	join(path, cpath, "relayer");
	int r = expect_object(l, path, v);
	if (r == 0)
		r = check_keys(l, path, v, keys);
	if (r < 0)
		return r;
	const json_t *ks = json_object_get(v, "keystore");
	const json_t *pf = json_object_get(v, "passphrase_file");
	const json_t *pe = json_object_get(v, "passphrase_env");
	join(p, path, "keystore");
	if (ks && !json_is_string(ks)) {
		char got[GOT_LEN];
		describe(got, sizeof(got), ks, 0);
		return failf(l, p, "expected a keystore file path (\"\": no relayer yet), got %s",
			     got);
	}
	if (ks && json_string_length(ks) > 0) {
		r = parse_text(l, p, ks, PATH_MAX, 0, &s);
		if (r == 0)
			r = resolve(l, &rl->keystore, dir, s);
		if (r < 0)
			return r;
		rl->enabled = 1;
	}
	if (pf && pe)
		return failf(l, path, "give one of passphrase_file and passphrase_env, not both");
	if (rl->enabled && !pf && !pe)
		return failf(
			l, path,
			"a keystore needs its passphrase: give passphrase_file or passphrase_env");
	if (pf) {
		join(p, path, "passphrase_file");
		r = parse_text(l, p, pf, PATH_MAX, 0, &s);
		if (r == 0)
			r = resolve(l, &rl->passphrase_file, dir, s);
	}
	if (pe) {
		join(p, path, "passphrase_env");
		r = parse_text(l, p, pe, 256, 0, &s);
		if (r == 0 && !env_name_ok(s)) {
			char got[GOT_LEN];
			describe(got, sizeof(got), pe, 0);
			r = failf(l, p,
				  "expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*), "
				  "got %s",
				  got);
		}
		if (r == 0)
			r = dup_into(l, &rl->passphrase_env, s);
	}
	if (r == 0)
		r = parse_relayer_tuning(l, path, v, rl);
	return r;
}

/* ---- scheduler ---------------------------------------------------------- */

static int parse_scheduler(struct ld *l, const char *cpath, const json_t *chain,
			   struct rw_config_chain *ch)
{
	static const char *const keys[] = { "enabled",      "batch_size",  "batch_gas",
					    "refill_every", "max_batches", NULL };
	struct rw_config_scheduler *sc = &ch->scheduler;
	const json_t *v = json_object_get(chain, "scheduler");
	char path[PATH_LEN];
	join(path, cpath, "scheduler");
	int r = 0;
	if (v) {
		r = expect_object(l, path, v);
		if (r == 0)
			r = check_keys(l, path, v, keys);
	}
	const json_t *obj = v; /* absent: json_object_get(NULL, ...) finds nothing */
	if (r == 0)
		r = opt_bool(l, path, obj, "enabled", &sc->enabled);
	if (r == 0 && sc->enabled.src == RW_CONFIG_DEFAULT)
		sc->enabled.v = 1;
	if (r == 0)
		r = opt_uint(l, path, obj, "batch_size", 1, 1000, 50, &sc->batch_size);
	if (r == 0)
		r = opt_uint(l, path, obj, "batch_gas", 100000, 100000000, 3000000, &sc->batch_gas);
	if (r == 0)
		r = opt_uint(l, path, obj, "refill_every", 60, 31536000, 3600, &sc->refill_every);
	if (r == 0)
		r = opt_uint(l, path, obj, "max_batches", 1, 1000, 100, &sc->max_batches);
	if (r == 0 && sc->enabled.src == RW_CONFIG_FILE && sc->enabled.v &&
	    (!ch->relayer.enabled || ch->n_balances == 0)) {
		char p[PATH_LEN];
		join(p, path, "enabled");
		return failf(l, p,
			     "the scheduler files intents for the chain's relayer on its Balance "
			     "contracts: it needs relayer.keystore and at least one entry in "
			     "balances (this chain has %s)",
			     !ch->relayer.enabled ? "no relayer" : "no Balance contract");
	}
	return r;
}

int rw_config_scheduler_on(const struct rw_config_chain *ch)
{
	return ch->scheduler.enabled.v && ch->relayer.enabled && ch->n_balances > 0;
}

/* ---- chains ----------------------------------------------------------- */

/* Per-chain defaults: confirmation depth and poll interval. */
static const struct chain_default {
	uint64_t id;
	uint64_t confirmations;
	uint64_t poll_ms;
} chain_defaults[] = {
	{ 1, 12, 6000 },        /* Ethereum */
	{ 11155111, 12, 6000 }, /* Sepolia */
	{ 17000, 12, 6000 },    /* Holesky */
	{ 560048, 12, 6000 },   /* Hoodi */
	{ 137, 64, 2000 },      /* Polygon PoS */
	{ 80002, 64, 2000 },    /* Polygon Amoy */
	{ 10, 20, 2000 },       /* OP Mainnet */
	{ 11155420, 20, 2000 }, /* OP Sepolia */
	{ 8453, 20, 2000 },     /* Base */
	{ 84532, 20, 2000 },    /* Base Sepolia */
	{ 42161, 20, 1000 },    /* Arbitrum One */
	{ 421614, 20, 1000 },   /* Arbitrum Sepolia */
	{ 31337, 0, 1000 },     /* anvil, hardhat */
	{ 1337, 0, 1000 },      /* geth --dev, ganache */
};

static const struct chain_default *chain_default(uint64_t id)
{
	static const struct chain_default other = { 0, 12, 2000 };
	for (size_t i = 0; i < sizeof(chain_defaults) / sizeof(chain_defaults[0]); i++)
		if (chain_defaults[i].id == id)
			return &chain_defaults[i];
	return &other;
}

uint64_t rw_config_default_confirmations(uint64_t chain_id)
{
	return chain_default(chain_id)->confirmations;
}

uint64_t rw_config_default_poll_ms(uint64_t chain_id)
{
	return chain_default(chain_id)->poll_ms;
}

static int chain_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > RW_CONFIG_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_' ||
		      *s == '-'))
			return 0;
	return 1;
}

/* name, rpc_env, chain_id, and their uniqueness against earlier chains. */
static int parse_chain_identity(struct ld *l, const char *cpath, const json_t *chain,
				struct rw_config *cfg, struct rw_config_chain *ch)
{
	char p[PATH_LEN], got[GOT_LEN];
	const json_t *v = need(l, cpath, chain, "name", "[a-z0-9_-]+, e.g. \"mainnet\"");
	if (!v)
		return RW_EINVAL;
	join(p, cpath, "name");
	if (!json_is_string(v) || !chain_name_ok(json_string_value(v)) ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		describe(got, sizeof(got), v, 0);
		return failf(l, p,
			     "expected a chain name of 1 to %d characters from [a-z0-9_-], got %s",
			     RW_CONFIG_NAME_MAX, got);
	}
	int r = dup_into(l, &ch->name, json_string_value(v));
	if (r < 0)
		return r;
	char env[sizeof(RPC_ENV_PREFIX) + RW_CONFIG_NAME_MAX];
	size_t k = sizeof(RPC_ENV_PREFIX) - 1;
	memcpy(env, RPC_ENV_PREFIX, k);
	for (const char *s = ch->name; *s; s++)
		env[k++] = *s == '-' ? '_' : (char)toupper((unsigned char)*s);
	env[k] = '\0';
	if ((r = dup_into(l, &ch->rpc_env, env)) < 0)
		return r;
	for (size_t i = 0; i < ch->index; i++) {
		if (strcmp(cfg->chains[i].name, ch->name) == 0)
			return failf(l, p, "\"%s\" is already the name of chains[%zu]", ch->name,
				     i);
		if (strcmp(cfg->chains[i].rpc_env, ch->rpc_env) == 0)
			return failf(l, p,
				     "\"%s\" and chains[%zu] (\"%s\") would share the environment "
				     "variable %s",
				     ch->name, i, cfg->chains[i].name, ch->rpc_env);
	}
	if (!(v = need(l, cpath, chain, "chain_id", "the EIP-155 chain id, e.g. 1")))
		return RW_EINVAL;
	join(p, cpath, "chain_id");
	if ((r = parse_uint(l, p, v, 1, INT64_MAX, &ch->chain_id)) < 0)
		return r;
	for (size_t i = 0; i < ch->index; i++)
		if (cfg->chains[i].chain_id == ch->chain_id)
			return failf(l, p, "%llu is already the chain_id of chains[%zu] (%s)",
				     (unsigned long long)ch->chain_id, i, cfg->chains[i].name);
	return 0;
}

/* confirmations, reorg_window, poll_interval_ms, start_block, max_block_range. */
static int parse_chain_numbers(struct ld *l, const char *cpath, const json_t *chain,
			       struct rw_config_chain *ch)
{
	uint64_t conf = rw_config_default_confirmations(ch->chain_id);
	int r = opt_uint(l, cpath, chain, "confirmations", 0, 10000, conf, &ch->confirmations);
	uint64_t window = 2 * ch->confirmations.v;
	if (window < MIN_REORG_WINDOW)
		window = MIN_REORG_WINDOW;
	if (r == 0)
		r = opt_uint(l, cpath, chain, "reorg_window", 1, 100000, window, &ch->reorg_window);
	if (r == 0 && ch->reorg_window.v < ch->confirmations.v) {
		char p[PATH_LEN];
		join(p, cpath, "reorg_window");
		return failf(l, p, "expected at least confirmations (%llu), got %llu",
			     (unsigned long long)ch->confirmations.v,
			     (unsigned long long)ch->reorg_window.v);
	}
	if (r == 0)
		r = opt_uint(l, cpath, chain, "poll_interval_ms", 100, 3600000,
			     rw_config_default_poll_ms(ch->chain_id), &ch->poll_interval_ms);
	if (r == 0)
		r = opt_uint(l, cpath, chain, "start_block", 0, INT64_MAX, 0, &ch->start_block);
	if (r == 0)
		r = opt_uint(l, cpath, chain, "max_block_range", 1, 100000, DEFAULT_MAX_BLOCK_RANGE,
			     &ch->max_block_range);
	return r;
}

static int parse_chain(struct ld *l, const char *cpath, const json_t *chain, struct rw_config *cfg,
		       struct rw_config_chain *ch)
{
	static const char *const keys[] = { "name",
					    "chain_id",
					    "rpc",
					    "confirmations",
					    "reorg_window",
					    "poll_interval_ms",
					    "start_block",
					    "max_block_range",
					    "tokens",
					    "providers",
					    "marketplaces",
					    "balances",
					    "watched_addresses",
					    "relayer",
					    "scheduler",
					    NULL };
	int r = expect_object(l, cpath, chain);
	if (r == 0)
		r = check_keys(l, cpath, chain, keys);
	if (r == 0)
		r = parse_chain_identity(l, cpath, chain, cfg, ch);
	if (r < 0)
		return r;
	const char *env = getenv(ch->rpc_env);
	if (!env || !*env || json_object_get(chain, "rpc"))
		r = parse_rpc_file(l, cpath, chain, ch);
	if (r == 0 && env && *env)
		r = parse_rpc_env(l, ch, env);
	if (r == 0)
		r = parse_chain_numbers(l, cpath, chain, ch);
	if (r == 0)
		r = parse_tokens(l, cpath, chain, ch);
	if (r == 0)
		r = parse_contracts(l, cpath, chain, "providers", ch->start_block.v, &ch->providers,
				    &ch->n_providers);
	if (r == 0)
		r = parse_contracts(l, cpath, chain, "marketplaces", ch->start_block.v,
				    &ch->marketplaces, &ch->n_marketplaces);
	if (r == 0)
		r = parse_contracts(l, cpath, chain, "balances", ch->start_block.v, &ch->balances,
				    &ch->n_balances);
	if (r == 0)
		r = parse_watched(l, cpath, chain, ch);
	if (r == 0)
		r = chain_addresses_unique(l, cpath, ch);
	if (r == 0)
		r = parse_relayer(l, cpath, chain, cfg->dir, &ch->relayer);
	if (r == 0)
		r = parse_scheduler(l, cpath, chain, ch);
	return r;
}

static int parse_chains(struct ld *l, const json_t *root, struct rw_config *cfg)
{
	const json_t *v = json_object_get(root, "chains");
	if (!v)
		return failf(l, "", "missing key \"chains\" (a list of at least one chain)");
	if (!json_is_array(v) || json_array_size(v) < 1 ||
	    json_array_size(v) > RW_CONFIG_MAX_CHAINS) {
		char got[GOT_LEN];
		describe(got, sizeof(got), v, 0);
		if (json_is_array(v))
			strf(got, sizeof(got), "%zu items", json_array_size(v));
		return failf(l, "chains", "expected an array of 1 to %d chains, got %s",
			     RW_CONFIG_MAX_CHAINS, got);
	}
	cfg->chains = calloc(json_array_size(v), sizeof(*cfg->chains));
	if (!cfg->chains)
		return fail_nomem(l);
	cfg->n_chains = json_array_size(v);
	for (size_t i = 0; i < cfg->n_chains; i++) {
		char p[PATH_LEN];
		join_index(p, "chains", i);
		cfg->chains[i].index = i;
		int r = parse_chain(l, p, json_array_get(v, i), cfg, &cfg->chains[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- environment ------------------------------------------------------ */

static int apply_db_env(struct ld *l, struct rw_config *cfg)
{
	const char *env = getenv(DB_ENV);
	if (!env || !*env)
		return 0;
	if (!db_url_ok(env) || !printable(env)) {
		char *m = rw_config_mask(env);
		char q[GOT_LEN];
		quote(q, sizeof(q), m ? m : "***");
		free(m);
		return fail_raw(l, RW_EINVAL,
				"%s (environment): expected a postgresql:// URI or a libpq "
				"key=value string, got %s",
				DB_ENV, q);
	}
	if (cfg->database_url.v)
		rw_wipe(cfg->database_url.v, strlen(cfg->database_url.v));
	free(cfg->database_url.v);
	cfg->database_url.v = NULL;
	cfg->database_url.src = RW_CONFIG_ENV;
	return dup_into(l, &cfg->database_url.v, env);
}

/* Refuses RUNWAY_RPC_URL_<X> set for no configured chain: a misspelt
 * variable would otherwise leave the file's endpoints in use unnoticed. */
static int check_stray_rpc_env(struct ld *l, const struct rw_config *cfg)
{
	for (char **e = environ; e && *e; e++) {
		if (strncmp(*e, RPC_ENV_PREFIX, sizeof(RPC_ENV_PREFIX) - 1) != 0)
			continue;
		const char *eq = strchr(*e, '=');
		if (!eq || !eq[1])
			continue;
		size_t n = (size_t)(eq - *e);
		int known = 0;
		for (size_t i = 0; i < cfg->n_chains && !known; i++)
			known = strlen(cfg->chains[i].rpc_env) == n &&
				strncmp(cfg->chains[i].rpc_env, *e, n) == 0;
		if (known)
			continue;
		char names[256] = "";
		for (size_t i = 0; i < cfg->n_chains; i++) {
			size_t len = strlen(names);
			strf(names + len, sizeof(names) - len, "%s%s", i ? ", " : "",
			     cfg->chains[i].rpc_env);
		}
		return fail_raw(l, RW_EINVAL,
				"%.*s (environment): no chain of %s uses it (expected one of: %s)",
				(int)(n > 64 ? 64 : n), *e, l->file, names);
	}
	return 0;
}

/* ---- loading ---------------------------------------------------------- */

/* Reads the whole file (a regular file of at most RW_CONFIG_MAX_FILE). */
static int read_file(struct ld *l, const char *path, char **ret, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail_raw(l, RW_EIO, "%s: cannot open: %s", path, strerror(errno));
	struct stat st;
	int r = 0;
	char *text = NULL;
	if (fstat(fd, &st) < 0)
		r = fail_raw(l, RW_EIO, "%s: cannot stat: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		r = fail_raw(l, RW_EIO, "%s: not a regular file", path);
	else if ((uint64_t)st.st_size > RW_CONFIG_MAX_FILE)
		r = fail_raw(l, RW_ETOOBIG, "%s: %lld bytes, larger than the %zu allowed", path,
			     (long long)st.st_size, RW_CONFIG_MAX_FILE);
	else if (!(text = malloc((size_t)st.st_size + 1)))
		r = fail_nomem(l);
	size_t got = 0;
	while (r == 0 && got < (size_t)st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			r = fail_raw(l, RW_EIO, "%s: cannot read: %s", path,
				     n < 0 ? strerror(errno) : "file shrank while reading");
		else
			got += (size_t)n;
	}
	close(fd);
	if (r < 0) {
		free(text);
		return r;
	}
	text[got] = '\0';
	*ret = text;
	*ret_len = got;
	return 0;
}

/* The absolute directory of the file. */
static int file_dir(struct ld *l, const char *path, char **ret)
{
	char *copy = strdup(path);
	if (!copy)
		return fail_nomem(l);
	char *slash = strrchr(copy, '/');
	const char *dir = ".";
	if (slash == copy)
		dir = "/";
	else if (slash) {
		*slash = '\0';
		dir = copy;
	}
	*ret = realpath(dir, NULL);
	int r = *ret ? 0
		     : fail_raw(l, RW_EIO, "%s: cannot resolve its directory: %s", path,
				strerror(errno));
	free(copy);
	return r;
}

static int parse_root(struct ld *l, const json_t *root, struct rw_config *cfg)
{
	static const char *const keys[] = { "database_url", "abi_dir", "event_map",
					    "metrics",      "chains",  NULL };
	if (!json_is_object(root)) {
		char got[GOT_LEN];
		describe(got, sizeof(got), root, 0);
		return failf(l, "", "expected a JSON object at the top, got %s", got);
	}
	int r = check_keys(l, "", root, keys);
	if (r == 0)
		r = parse_database_url(l, cfg, root);
	if (r == 0)
		r = parse_paths(l, cfg, root);
	if (r == 0)
		r = parse_metrics(l, cfg, root);
	if (r == 0)
		r = parse_chains(l, root, cfg);
	if (r == 0)
		r = apply_db_env(l, cfg);
	if (r == 0)
		r = check_stray_rpc_env(l, cfg);
	return r;
}

int rw_config_load(struct rw_config **ret, const char *path, char *err, size_t errlen)
{
	struct ld l = { path, err, errlen };
	char *text = NULL;
	size_t len = 0;
	if (errlen)
		err[0] = '\0';
	int r = read_file(&l, path, &text, &len);
	if (r < 0)
		return r;
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	free(text);
	if (!root)
		return fail_raw(&l, RW_EINVAL, "%s:%d:%d: invalid JSON: %s", path, je.line,
				je.column, je.text);
	struct rw_config *cfg = calloc(1, sizeof(*cfg));
	if (!cfg) {
		json_decref(root);
		return fail_nomem(&l);
	}
	r = dup_into(&l, &cfg->path, path);
	if (r == 0)
		r = file_dir(&l, path, &cfg->dir);
	if (r == 0)
		r = parse_root(&l, root, cfg);
	json_decref(root);
	if (r < 0) {
		rw_config_free(cfg);
		return r;
	}
	*ret = cfg;
	return 0;
}

static void free_contracts(struct rw_config_contract *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].name.v);
	free(c);
}

static void free_chain(struct rw_config_chain *ch)
{
	free(ch->name);
	free(ch->rpc_env);
	free_rpc(ch);
	for (size_t i = 0; i < ch->n_tokens; i++) {
		free(ch->tokens[i].name.v);
		free(ch->tokens[i].symbol);
	}
	free(ch->tokens);
	free_contracts(ch->providers, ch->n_providers);
	free_contracts(ch->marketplaces, ch->n_marketplaces);
	free_contracts(ch->balances, ch->n_balances);
	free(ch->watched);
	free(ch->relayer.keystore);
	free(ch->relayer.passphrase_file);
	free(ch->relayer.passphrase_env);
}

struct rw_config *rw_config_free(struct rw_config *cfg)
{
	if (!cfg)
		return NULL;
	for (size_t i = 0; i < cfg->n_chains; i++)
		free_chain(&cfg->chains[i]);
	free(cfg->chains);
	if (cfg->database_url.v)
		rw_wipe(cfg->database_url.v, strlen(cfg->database_url.v));
	free(cfg->database_url.v);
	free(cfg->abi_dir.v);
	free(cfg->event_map.v);
	free(cfg->metrics_listen.v);
	free(cfg->path);
	free(cfg->dir);
	free(cfg);
	return NULL;
}

/* ---- checks at start -------------------------------------------------- */

int rw_config_check_chain_id(const struct rw_config_chain *ch, const char *endpoint,
			     const char *quantity, char *err, size_t errlen)
{
	uint64_t id;
	char *m = rw_config_mask(endpoint);
	char q[GOT_LEN];
	int r = 0;
	quote(q, sizeof(q), quantity ? quantity : "");
	if (!quantity || rw_hex_quantity_u64(&id, quantity, strlen(quantity)) < 0)
		r = RW_EINVAL;
	if (r < 0 && errlen)
		strf(err, errlen,
		     "chains[%zu] (%s): %s answered eth_chainId with %s, not a chain id", ch->index,
		     ch->name, m ? m : "***", q);
	else if (r == 0 && id != ch->chain_id) {
		r = RW_EINVAL;
		if (errlen)
			strf(err, errlen,
			     "chains[%zu] (%s): chain_id is %llu in the configuration but %s "
			     "serves chain %llu (eth_chainId %s): a wrong RPC URL or chain_id",
			     ch->index, ch->name, (unsigned long long)ch->chain_id, m ? m : "***",
			     (unsigned long long)id, quantity);
	}
	free(m);
	return r;
}

/* ---- dump ------------------------------------------------------------- */

const char *rw_config_src_name(enum rw_config_src src)
{
	switch (src) {
	case RW_CONFIG_DEFAULT: return "default";
	case RW_CONFIG_FILE: return "file";
	case RW_CONFIG_ENV: return "env";
	}
	return "default";
}

/* Prints key = "string" (masked when secret)  # origin[ detail]. */
static void dump_str(FILE *f, const char *key, const char *s, enum rw_config_src src, int secret,
		     const char *detail)
{
	char q[PATH_MAX + 16];
	if (!s) {
		fprintf(f, "%s = (unset)  # %s%s\n", key, rw_config_src_name(src), detail);
		return;
	}
	char *m = secret ? rw_config_mask(s) : NULL;
	quote(q, sizeof(q), secret ? (m ? m : "***") : s);
	free(m);
	fprintf(f, "%s = %s  # %s%s\n", key, q, rw_config_src_name(src), detail);
}

static void dump_uint(FILE *f, const char *key, const struct rw_config_uint *u, const char *detail)
{
	fprintf(f, "%s = %llu  # %s%s\n", key, (unsigned long long)u->v, rw_config_src_name(u->src),
		u->src == RW_CONFIG_DEFAULT ? detail : "");
}

static void dump_addr(FILE *f, const char *key, const uint8_t a[20])
{
	char s[43];
	rw_addr_checksum(s, a);
	fprintf(f, "%s = %s  # file\n", key, s);
}

static void dump_contracts(FILE *f, const char *cpath, const char *list,
			   const struct rw_config_contract *c, size_t n)
{
	char p[PATH_LEN], k[PATH_LEN];
	for (size_t i = 0; i < n; i++) {
		strf(p, sizeof(p), "%s.%s[%zu]", cpath, list, i);
		join(k, p, "name");
		dump_str(f, k, c[i].name.v, c[i].name.src, 0, "");
		join(k, p, "address");
		dump_addr(f, k, c[i].address);
		join(k, p, "start_block");
		dump_uint(f, k, &c[i].start_block, " (the chain's start_block)");
	}
}

static void dump_rpc(FILE *f, const char *cpath, const struct rw_config_chain *ch)
{
	char p[PATH_LEN], k[PATH_LEN], env[PATH_LEN];
	for (size_t i = 0; i < ch->n_rpc; i++) {
		const struct rw_config_rpc *e = &ch->rpc[i];
		strf(p, sizeof(p), "%s.rpc[%zu]", cpath, i);
		strf(env, sizeof(env), " %s", ch->rpc_env);
		join(k, p, "url");
		dump_str(f, k, e->url.v, e->url.src, 1, e->url.src == RW_CONFIG_ENV ? env : "");
		join(k, p, "max_concurrency");
		dump_uint(f, k, &e->max_concurrency, "");
		join(k, p, "max_rps");
		dump_uint(f, k, &e->max_rps, " (0: no cap)");
		join(k, p, "timeout_ms");
		dump_uint(f, k, &e->timeout_ms, "");
	}
}

static void dump_tokens(FILE *f, const char *cpath, const struct rw_config_chain *ch)
{
	char p[PATH_LEN], k[PATH_LEN];
	for (size_t i = 0; i < ch->n_tokens; i++) {
		const struct rw_config_token *t = &ch->tokens[i];
		strf(p, sizeof(p), "%s.tokens[%zu]", cpath, i);
		join(k, p, "name");
		dump_str(f, k, t->name.v, t->name.src, 0, t->name.src ? "" : " (the symbol)");
		join(k, p, "symbol");
		dump_str(f, k, t->symbol, RW_CONFIG_FILE, 0, "");
		join(k, p, "address");
		dump_addr(f, k, t->address);
		join(k, p, "decimals");
		fprintf(f, "%s = %u  # file\n", k, t->decimals);
		join(k, p, "watch");
		fprintf(f, "%s = \"%s\"  # %s\n", k,
			t->watch == RW_CONFIG_WATCH_ALL ? "all" : "watched",
			rw_config_src_name(t->watch_src));
		join(k, p, "start_block");
		dump_uint(f, k, &t->start_block, " (the chain's start_block)");
	}
}

/* The relayer's tuning keys that the file sets (the others are the
 * relayer's defaults, relayer.h). */
static void dump_relayer_tuning(FILE *f, const char *cpath, const struct rw_config_relayer *rl)
{
	const struct {
		const char *key;
		const struct rw_config_wei *w;
	} weis[] = { { "fee_cap", &rl->fee_cap },
		     { "min_tip", &rl->min_tip },
		     { "warn_balance", &rl->warn_balance } };
	const struct {
		const char *key;
		const struct rw_config_uint *u;
	} uints[] = {
		{ "max_inflight", &rl->max_inflight }, { "stuck_blocks", &rl->stuck_blocks },
		{ "stuck_ms", &rl->stuck_ms },         { "rebroadcast_ms", &rl->rebroadcast_ms },
		{ "gap_grace_ms", &rl->gap_grace_ms }, { "warn_days", &rl->warn_days }
	};
	char k[PATH_LEN], dec[RW_U256_DEC_MAX];
	for (size_t i = 0; i < sizeof(weis) / sizeof(weis[0]); i++)
		if (weis[i].w->src != RW_CONFIG_DEFAULT) {
			strf(k, sizeof(k), "%s.relayer.%s", cpath, weis[i].key);
			rw_u256_format_dec(dec, &weis[i].w->v);
			fprintf(f, "%s = \"%s\"  # %s\n", k, dec,
				rw_config_src_name(weis[i].w->src));
		}
	for (size_t i = 0; i < sizeof(uints) / sizeof(uints[0]); i++)
		if (uints[i].u->src != RW_CONFIG_DEFAULT) {
			strf(k, sizeof(k), "%s.relayer.%s", cpath, uints[i].key);
			dump_uint(f, k, uints[i].u, "");
		}
	if (rl->legacy.src != RW_CONFIG_DEFAULT) {
		strf(k, sizeof(k), "%s.relayer.legacy", cpath);
		fprintf(f, "%s = %s  # %s\n", k, rl->legacy.v ? "true" : "false",
			rw_config_src_name(rl->legacy.src));
	}
}

static void dump_relayer(FILE *f, const char *cpath, const struct rw_config_relayer *rl)
{
	char k[PATH_LEN];
	strf(k, sizeof(k), "%s.relayer.keystore", cpath);
	if (!rl->enabled) {
		fprintf(f, "%s = (unset)  # no relayer on this chain\n", k);
		return;
	}
	dump_str(f, k, rl->keystore, RW_CONFIG_FILE, 0, "");
	strf(k, sizeof(k), "%s.relayer.passphrase_file", cpath);
	if (rl->passphrase_file)
		dump_str(f, k, rl->passphrase_file, RW_CONFIG_FILE, 0, "");
	strf(k, sizeof(k), "%s.relayer.passphrase_env", cpath);
	if (rl->passphrase_env)
		dump_str(f, k, rl->passphrase_env, RW_CONFIG_FILE, 0, "");
	dump_relayer_tuning(f, cpath, rl);
}

static void dump_scheduler(FILE *f, const char *cpath, const struct rw_config_chain *ch)
{
	const struct rw_config_scheduler *sc = &ch->scheduler;
	char k[PATH_LEN];
	strf(k, sizeof(k), "%s.scheduler.enabled", cpath);
	fprintf(f, "%s = %s  # %s%s\n", k, sc->enabled.v ? "true" : "false",
		rw_config_src_name(sc->enabled.src),
		rw_config_scheduler_on(ch) ? ""
		: sc->enabled.v            ? " (not run: no relayer or no Balance contract)"
					   : "");
	const struct {
		const char *key;
		const struct rw_config_uint *u;
	} uints[] = { { "batch_size", &sc->batch_size },
		      { "batch_gas", &sc->batch_gas },
		      { "refill_every", &sc->refill_every },
		      { "max_batches", &sc->max_batches } };
	for (size_t i = 0; i < sizeof(uints) / sizeof(uints[0]); i++) {
		strf(k, sizeof(k), "%s.scheduler.%s", cpath, uints[i].key);
		dump_uint(f, k, uints[i].u, "");
	}
}

static void dump_chain(FILE *f, const struct rw_config_chain *ch)
{
	char cpath[PATH_LEN], k[PATH_LEN], by_id[64];
	strf(cpath, sizeof(cpath), "chains[%zu]", ch->index);
	strf(by_id, sizeof(by_id), " (chain id %llu)", (unsigned long long)ch->chain_id);
	join(k, cpath, "name");
	dump_str(f, k, ch->name, RW_CONFIG_FILE, 0, "");
	join(k, cpath, "chain_id");
	fprintf(f, "%s = %llu  # file\n", k, (unsigned long long)ch->chain_id);
	dump_rpc(f, cpath, ch);
	join(k, cpath, "confirmations");
	dump_uint(f, k, &ch->confirmations, by_id);
	join(k, cpath, "reorg_window");
	dump_uint(f, k, &ch->reorg_window, " (max(2 * confirmations, 64))");
	join(k, cpath, "poll_interval_ms");
	dump_uint(f, k, &ch->poll_interval_ms, by_id);
	join(k, cpath, "start_block");
	dump_uint(f, k, &ch->start_block, "");
	join(k, cpath, "max_block_range");
	dump_uint(f, k, &ch->max_block_range, "");
	dump_tokens(f, cpath, ch);
	dump_contracts(f, cpath, "providers", ch->providers, ch->n_providers);
	dump_contracts(f, cpath, "marketplaces", ch->marketplaces, ch->n_marketplaces);
	dump_contracts(f, cpath, "balances", ch->balances, ch->n_balances);
	for (size_t i = 0; i < ch->n_watched; i++) {
		strf(k, sizeof(k), "%s.watched_addresses[%zu]", cpath, i);
		dump_addr(f, k, ch->watched[i]);
	}
	dump_relayer(f, cpath, &ch->relayer);
	dump_scheduler(f, cpath, ch);
}

int rw_config_dump(FILE *f, const struct rw_config *cfg)
{
	char q[PATH_MAX + 16];
	quote(q, sizeof(q), cfg->path);
	fprintf(f, "# runway configuration %s (directory %s)\n", q, cfg->dir);
	dump_str(f, "database_url", cfg->database_url.v, cfg->database_url.src, 1,
		 cfg->database_url.src == RW_CONFIG_ENV ? " " DB_ENV
		 : cfg->database_url.v                  ? ""
							: " (libpq's PG* variables)");
	dump_str(f, "abi_dir", cfg->abi_dir.v, cfg->abi_dir.src, 0, "");
	dump_str(f, "event_map", cfg->event_map.v, cfg->event_map.src, 0,
		 cfg->event_map.src ? "" : " (<abi_dir>/events.json)");
	dump_str(f, "metrics.listen", cfg->metrics_listen.v, cfg->metrics_listen.src, 0,
		 cfg->metrics_listen.v ? "" : " (no metrics endpoint)");
	for (size_t i = 0; i < cfg->n_chains; i++)
		dump_chain(f, &cfg->chains[i]);
	fflush(f);
	return ferror(f) ? RW_EIO : 0;
}
