/* eventmap.c: the event map: ABI files + abi/events.json -> per-event
 * descriptors (topic 0, event, table, typed columns), the lookup by
 * (kind, topic 0), and the schema check's query and comparison.
 *
 * Sections: messages; names (identifiers, reserved words, snake_case);
 * ABI files; one entry (event, columns); the map; lookup; schema check. */
#include "eventmap.h"
#include "rwconfig.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "err.h"
#include "hex.h"

#define PATH_LEN 96
#define GOT_LEN  96

/* The loader's state. */
struct ld {
	const char *file; /* the map's label in messages */
	const char *abi_dir;
	char *err;
	size_t errlen;
	struct abi_file *abis; /* loaded ABI files, one per kind */
	size_t n_abis;
};

/* One ABI file, parsed once per load. */
struct abi_file {
	char *kind;
	json_t *root;
	const json_t *abi; /* its "abi" array */
};

#define strf  rw_config_strf
#define quote rw_config_quote

/* ---- messages --------------------------------------------------------- */

static int vfail(char *err, size_t errlen, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static int vfail(char *err, size_t errlen, const char *fmt, va_list ap)
{
	if (errlen)
		vsnprintf(err, errlen, fmt, ap);
	return RW_EINVAL;
}

/* Writes "<file>: <path>: <message>" and returns err. */
static int failf(struct ld *l, int err, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int failf(struct ld *l, int err, const char *path, const char *fmt, ...)
{
	char msg[RW_EVENTMAP_ERRLEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (l->errlen)
		strf(l->err, l->errlen, "%s: %s%s%s", l->file, path, *path ? ": " : "", msg);
	return err;
}

/* Writes a message with no prefix and returns err. */
static int fail_raw(char *e, size_t errlen, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail_raw(char *e, size_t errlen, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(e, errlen, fmt, ap);
	va_end(ap);
	return err;
}

static int fail_nomem(struct ld *l)
{
	return failf(l, RW_ENOMEM, "", "out of memory");
}

/* A value in a message (strings quoted and escaped). */
static void describe(char *out, size_t n, const json_t *v)
{
	rw_config_describe(out, n, v, 0);
}

/* ---- names ------------------------------------------------------------ */

/* PostgreSQL's reserved key words (including those that can only be
 * function or type names): a column or table named so needs quoting in
 * every query, so the map must rename it. Sorted. */
/* clang-format off */
static const char *const reserved[] = {
	"all", "analyse", "analyze", "and", "any", "array",
	"as", "asc", "asymmetric", "authorization", "binary", "both",
	"case", "cast", "check", "collate", "collation", "column",
	"concurrently", "constraint", "create", "cross",
	"current_catalog", "current_date", "current_role", "current_schema",
	"current_time", "current_timestamp", "current_user", "default",
	"deferrable", "desc", "distinct", "do", "else", "end",
	"except", "false", "fetch", "for", "foreign", "freeze",
	"from", "full", "grant", "group", "having", "ilike",
	"in", "initially", "inner", "intersect", "into", "is",
	"isnull", "join", "lateral", "leading", "left", "like",
	"limit", "localtime", "localtimestamp", "natural", "not", "notnull",
	"null", "offset", "on", "only", "or", "order",
	"outer", "overlaps", "placing", "primary", "references", "returning",
	"right", "select", "session_user", "similar", "some", "symmetric",
	"system_user", "table", "tablesample", "then", "to", "trailing",
	"true", "union", "unique", "user", "using", "variadic",
	"verbose", "when", "where", "window", "with",
};
/* clang-format on */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int is_reserved(const char *s)
{
	return bsearch(&s, reserved, sizeof(reserved) / sizeof(reserved[0]), sizeof(reserved[0]),
		       cmp_str) != NULL;
}

/* [a-z_][a-z0-9_]*, 1..RW_EVENTMAP_NAME_MAX characters. */
static int ident_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > RW_EVENTMAP_NAME_MAX || !(islower((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
			return 0;
	return 1;
}

/* runway's own tables, which a map must never name (reorgs delete from
 * every mapped table). */
static int own_table(const char *s)
{
	return strcmp(s, "chain") == 0 || strcmp(s, "chain_head") == 0 ||
	       strcmp(s, "runway_migrations") == 0 || strncmp(s, "indexer_", 8) == 0;
}

/* Checks a table or column name; what says which ("table", "column"). */
static int check_ident(struct ld *l, const char *path, const char *what, const char *s,
		       const char *hint)
{
	char q[GOT_LEN];
	quote(q, sizeof(q), s);
	if (!ident_ok(s))
		return failf(l, RW_EINVAL, path,
			     "%s name %s: expected [a-z_][a-z0-9_]*, at most %d characters%s", what,
			     q, RW_EVENTMAP_NAME_MAX, hint);
	if (is_reserved(s))
		return failf(l, RW_EINVAL, path, "%s name %s is a reserved word in PostgreSQL%s",
			     what, q, hint);
	return 0;
}

/* Writes name in snake_case into out (n bytes): leading and trailing
 * underscores dropped, '_' before an upper-case letter that follows a
 * lower-case letter or digit or that starts a word after an acronym
 * ("templateHash" -> template_hash, "tokenID" -> token_id, "ERC20Token"
 * -> erc20_token). Returns 0, or -1 when it does not fit. */
static int snake(char *out, size_t n, const char *name)
{
	size_t len = strlen(name), k = 0;
	while (len && name[len - 1] == '_')
		len--;
	size_t i = 0;
	while (i < len && name[i] == '_')
		i++;
	size_t first = i;
	for (; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (isupper(c) && i > first) {
			unsigned char p = (unsigned char)name[i - 1];
			unsigned char nx = i + 1 < len ? (unsigned char)name[i + 1] : 0;
			int brk = islower(p) || isdigit(p) || (isupper(p) && islower(nx));
			if (brk && k && out[k - 1] != '_') {
				if (k + 1 >= n)
					return -1;
				out[k++] = '_';
			}
		}
		if (k + 1 >= n)
			return -1;
		out[k++] = (char)tolower(c);
	}
	out[k] = '\0';
	return 0;
}

/* ---- ABI files -------------------------------------------------------- */

/* Reads a regular file of at most RW_EVENTMAP_MAX_FILE bytes. */
static int read_file(char *err, size_t errlen, const char *path, char **ret, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail_raw(err, errlen, RW_EIO, "%s: cannot open: %s", path, strerror(errno));
	struct stat st;
	int r = 0;
	char *text = NULL;
	if (fstat(fd, &st) < 0)
		r = fail_raw(err, errlen, RW_EIO, "%s: cannot stat: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		r = fail_raw(err, errlen, RW_EIO, "%s: not a regular file", path);
	else if ((uint64_t)st.st_size > RW_EVENTMAP_MAX_FILE)
		r = fail_raw(err, errlen, RW_ETOOBIG, "%s: %lld bytes, larger than the %zu allowed",
			     path, (long long)st.st_size, RW_EVENTMAP_MAX_FILE);
	else if (!(text = malloc((size_t)st.st_size + 1)))
		r = fail_raw(err, errlen, RW_ENOMEM, "%s: out of memory", path);
	size_t got = 0;
	while (r == 0 && got < (size_t)st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			r = fail_raw(err, errlen, RW_EIO, "%s: cannot read: %s", path,
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

/* Reads and parses a JSON file; messages name the file and line:column. */
static int load_json(char *err, size_t errlen, const char *path, json_t **ret)
{
	char *text = NULL;
	size_t len = 0;
	int r = read_file(err, errlen, path, &text, &len);
	if (r < 0)
		return r;
	json_error_t je;
	*ret = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	free(text);
	if (!*ret)
		return fail_raw(err, errlen, RW_EINVAL, "%s:%d:%d: invalid JSON: %s", path, je.line,
				je.column, je.text);
	return 0;
}

/* [A-Za-z0-9_]+, at most 64: a file name in abi_dir, never a path. */
static int kind_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 64)
		return 0;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return 0;
	return 1;
}

/* Returns the "abi" array of <abi_dir>/<kind>.json, loading it once. */
static int abi_of(struct ld *l, const char *path, const char *kind, const json_t **ret)
{
	for (size_t i = 0; i < l->n_abis; i++)
		if (strcmp(l->abis[i].kind, kind) == 0) {
			*ret = l->abis[i].abi;
			return 0;
		}
	struct abi_file *grown = realloc(l->abis, (l->n_abis + 1) * sizeof(*grown));
	if (!grown)
		return fail_nomem(l);
	l->abis = grown;
	struct abi_file *f = &l->abis[l->n_abis];
	memset(f, 0, sizeof(*f));
	if (!(f->kind = strdup(kind)))
		return fail_nomem(l);
	l->n_abis++;
	size_t n = strlen(l->abi_dir) + strlen(kind) + 7;
	char *file = malloc(n), msg[RW_EVENTMAP_ERRLEN];
	if (!file)
		return fail_nomem(l);
	strf(file, n, "%s/%s.json", l->abi_dir, kind);
	int r = load_json(msg, sizeof(msg), file, &f->root);
	if (r < 0)
		r = failf(l, r, path, "%s", msg);
	else if (!json_is_array(f->abi = json_object_get(f->root, "abi")))
		r = failf(l, RW_EINVAL, path, "%s has no \"abi\" array", file);
	free(file);
	if (r == 0)
		*ret = f->abi;
	return r;
}

static void free_abis(struct ld *l)
{
	for (size_t i = 0; i < l->n_abis; i++) {
		free(l->abis[i].kind);
		json_decref(l->abis[i].root);
	}
	free(l->abis);
}

/* ---- one entry -------------------------------------------------------- */

static int is_event(const json_t *e)
{
	const json_t *t = json_object_get(e, "type");
	return json_is_string(t) && strcmp(json_string_value(t), "event") == 0;
}

/* Lists the kind's event names (for "it has: ...") into out. */
static void event_names(char *out, size_t n, const json_t *abi)
{
	size_t i, k = 0;
	const json_t *e;
	out[0] = '\0';
	json_array_foreach(abi, i, e)
	{
		const char *name = json_string_value(json_object_get(e, "name"));
		if (!is_event(e) || !name)
			continue;
		int w = snprintf(out + k, n - k, "%s%s", k ? ", " : "", name);
		if (w < 0 || (size_t)w >= n - k)
			break;
		k += (size_t)w;
	}
	if (!k)
		strf(out, n, "no events");
}

/* Finds and builds the event: by name, or by signature when want holds
 * '('. A name that matches several events (overloads) is refused. */
static int find_event(struct ld *l, const char *path, const char *kind, const json_t *abi,
		      const char *want, struct rw_abi_event **ret)
{
	int by_sig = strchr(want, '(') != NULL;
	struct rw_abi_event *found = NULL;
	size_t i;
	const json_t *e;
	char q[GOT_LEN];
	quote(q, sizeof(q), want);
	json_array_foreach(abi, i, e)
	{
		const char *name = json_string_value(json_object_get(e, "name"));
		if (!is_event(e) || !name)
			continue;
		if (!by_sig && strcmp(name, want) != 0)
			continue;
		struct rw_abi_event *ev;
		int r = rw_abi_event_from_json(&ev, e);
		if (r < 0) {
			rw_abi_event_free(found);
			return failf(l, r == RW_ENOMEM ? r : RW_EINVAL, path,
				     "%s: the ABI entry of event %s is invalid: %s", kind, name,
				     rw_strerror(r));
		}
		if (by_sig && strcmp(ev->signature, want) != 0) {
			rw_abi_event_free(ev);
			continue;
		}
		if (found) {
			char a[256];
			strf(a, sizeof(a), "%s", found->signature);
			r = failf(l, RW_EINVAL, path,
				  "%s has several events named %s (%s, %s): give the signature",
				  kind, q, a, ev->signature);
			rw_abi_event_free(found);
			rw_abi_event_free(ev);
			return r;
		}
		found = ev;
	}
	if (!found) {
		char names[256];
		event_names(names, sizeof(names), abi);
		return failf(l, RW_EINVAL, path, "%s has no event %s (it has: %s)", kind, q, names);
	}
	if (found->anonymous) {
		rw_abi_event_free(found);
		return failf(l, RW_EINVAL, path,
			     "%s.%s is anonymous: it has no topic 0 to be found by", kind, want);
	}
	*ret = found;
	return 0;
}

static const char *const leading[RW_EVENTMAP_LEADING] = {
	"chain_id", "block_number", "block_hash", "tx_hash", "tx_index", "log_index", "address",
};
static const enum rw_eventmap_sql leading_type[RW_EVENTMAP_LEADING] = {
	RW_EVENTMAP_BIGINT,  RW_EVENTMAP_BIGINT,  RW_EVENTMAP_BYTEA, RW_EVENTMAP_BYTEA,
	RW_EVENTMAP_INTEGER, RW_EVENTMAP_INTEGER, RW_EVENTMAP_BYTEA,
};

/* The SQL type of parameter t; *ret_hash is 1 for an indexed reference type. */
static enum rw_eventmap_sql param_type(const struct rw_abi_type *t, int indexed, int *ret_hash)
{
	*ret_hash = 0;
	switch (t->kind) {
	case RW_ABI_UINT:
	case RW_ABI_INT: return RW_EVENTMAP_NUMERIC;
	case RW_ABI_ADDRESS:
	case RW_ABI_FIXED_BYTES: return RW_EVENTMAP_BYTEA;
	case RW_ABI_BOOL: return RW_EVENTMAP_BOOLEAN;
	case RW_ABI_BYTES: *ret_hash = indexed; return RW_EVENTMAP_BYTEA;
	case RW_ABI_STRING:
		*ret_hash = indexed;
		return indexed ? RW_EVENTMAP_BYTEA : RW_EVENTMAP_TEXT;
	case RW_ABI_ARRAY:
	case RW_ABI_FIXED_ARRAY:
	case RW_ABI_TUPLE:
		*ret_hash = indexed;
		return indexed ? RW_EVENTMAP_BYTEA : RW_EVENTMAP_JSONB;
	}
	return RW_EVENTMAP_BYTEA;
}

static const char *param_name(const struct rw_abi_event *ev, size_t i)
{
	return ev->inputs->names && ev->inputs->names[i] ? ev->inputs->names[i] : "";
}

/* Checks that every key of "columns" is a parameter of the event. */
static int check_renames(struct ld *l, const char *path, const char *kind,
			 const struct rw_abi_event *ev, const json_t *cols)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)cols, key, v)
	{
		size_t i = 0;
		while (i < ev->inputs->len && strcmp(param_name(ev, i), key) != 0)
			i++;
		char q[GOT_LEN], names[256] = "", p[PATH_LEN];
		quote(q, sizeof(q), key);
		if (i == ev->inputs->len) {
			for (size_t k = 0; k < ev->inputs->len; k++) {
				size_t len = strlen(names);
				strf(names + len, sizeof(names) - len, "%s%s", k ? ", " : "",
				     param_name(ev, k));
			}
			return failf(l, RW_EINVAL, path,
				     "%s.%s has no parameter %s (parameters: %s)", kind, ev->name,
				     q, names);
		}
		strf(p, sizeof(p), "%s.%s", path, key);
		if (!json_is_string(v)) {
			describe(q, sizeof(q), v);
			return failf(l, RW_EINVAL, p, "expected a column name, got %s", q);
		}
	}
	return 0;
}

/* The column name of parameter i: its rename, or its name in snake_case,
 * or arg<i> when it has no name. The caller checks the result. */
static int column_name(struct ld *l, const char *path, const struct rw_abi_event *ev,
		       const json_t *cols, size_t i, char **ret)
{
	const char *pn = param_name(ev, i);
	const json_t *rn = *pn ? json_object_get(cols, pn) : NULL;
	char buf[2 * RW_EVENTMAP_NAME_MAX + 2];
	if (rn) {
		*ret = strdup(json_string_value(rn));
	} else if (!*pn) {
		strf(buf, sizeof(buf), "arg%zu", i);
		*ret = strdup(buf);
	} else if (snake(buf, sizeof(buf), pn) < 0 || !buf[0]) {
		char q[GOT_LEN];
		quote(q, sizeof(q), pn);
		return failf(l, RW_EINVAL, path,
			     "parameter %s gives no valid column name: rename it in \"columns\"",
			     q);
	} else {
		*ret = strdup(buf);
	}
	return *ret ? 0 : fail_nomem(l);
}

/* Builds the columns of an entry: leading ones, then one per parameter,
 * each name checked and unique. */
static int build_columns(struct ld *l, const char *path, const char *kind,
			 struct rw_eventmap_event *d, const json_t *cols)
{
	const struct rw_abi_event *ev = d->event;
	char cpath[PATH_LEN];
	int r = 0;
	strf(cpath, sizeof(cpath), "%s.columns", path);
	if (cols && (r = check_renames(l, cpath, kind, ev, cols)) < 0)
		return r;
	d->cols = calloc(RW_EVENTMAP_LEADING + ev->inputs->len, sizeof(*d->cols));
	if (!d->cols)
		return fail_nomem(l);
	d->n_cols = RW_EVENTMAP_LEADING + ev->inputs->len;
	for (size_t i = 0; i < RW_EVENTMAP_LEADING; i++) {
		d->cols[i].field = (enum rw_eventmap_field)i;
		d->cols[i].type = leading_type[i];
		if (!(d->cols[i].name = strdup(leading[i])))
			return fail_nomem(l);
	}
	for (size_t i = 0; i < ev->inputs->len; i++) {
		struct rw_eventmap_column *c = &d->cols[RW_EVENTMAP_LEADING + i];
		c->field = RW_EVENTMAP_PARAM;
		c->param = i;
		c->type = param_type(ev->inputs->comps[i], ev->indexed[i], &c->topic_hash);
		if ((r = column_name(l, path, ev, cols, i, &c->name)) < 0)
			return r;
		const char *pn = param_name(ev, i);
		char p[PATH_LEN], hint[128];
		strf(p, sizeof(p), "%s.%s", cpath, pn);
		strf(hint, sizeof(hint), " (parameter %s of %s.%s; rename it in \"columns\")",
		     *pn ? pn : "-", kind, ev->name);
		r = check_ident(l, json_object_get(cols, pn) ? p : path, "column", c->name, hint);
		if (r < 0)
			return r;
		for (size_t k = 0; k < RW_EVENTMAP_LEADING + i; k++)
			if (strcmp(d->cols[k].name, c->name) == 0)
				return failf(l, RW_EINVAL, path,
					     "column %s of parameter %s is already taken by %s%s",
					     c->name, *pn ? pn : "-",
					     k < RW_EVENTMAP_LEADING ? "a leading column"
								     : "another parameter",
					     hint);
	}
	return 0;
}

static int get_string(struct ld *l, const char *path, const json_t *e, const char *key,
		      const char **ret)
{
	const json_t *v = json_object_get(e, key);
	char p[PATH_LEN], got[GOT_LEN];
	strf(p, sizeof(p), "%s.%s", path, key);
	if (!v)
		return failf(l, RW_EINVAL, path, "missing key \"%s\"", key);
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		describe(got, sizeof(got), v);
		return failf(l, RW_EINVAL, p, "expected a non-empty string, got %s", got);
	}
	*ret = json_string_value(v);
	return 0;
}

/* Checks the entry's shape; fills kind, event, table and columns. */
static int entry_shape(struct ld *l, const char *path, const json_t *e, const char **kind,
		       const char **event, const char **table, const json_t **cols)
{
	static const char *const keys[4] = { "kind", "event", "table", "columns" };
	char got[GOT_LEN], p[PATH_LEN];
	const char *key;
	json_t *v;
	if (!json_is_object(e)) {
		describe(got, sizeof(got), e);
		return failf(l, RW_EINVAL, path, "expected an object, got %s", got);
	}
	json_object_foreach((json_t *)e, key, v)
	{
		size_t k = 0;
		while (k < 4 && strcmp(key, keys[k]) != 0)
			k++;
		if (k == 4) {
			quote(got, sizeof(got), key);
			return failf(l, RW_EINVAL, path,
				     "unknown key %s (allowed: kind, event, table, columns)", got);
		}
	}
	int r = get_string(l, path, e, "kind", kind);
	if (r == 0 && !kind_ok(*kind)) {
		strf(p, sizeof(p), "%s.kind", path);
		quote(got, sizeof(got), *kind);
		return failf(l, RW_EINVAL, p, "expected an ABI file name ([A-Za-z0-9_]+), got %s",
			     got);
	}
	if (r == 0)
		r = get_string(l, path, e, "event", event);
	if (r == 0)
		r = get_string(l, path, e, "table", table);
	*cols = json_object_get(e, "columns");
	if (r == 0 && *cols && !json_is_object(*cols)) {
		strf(p, sizeof(p), "%s.columns", path);
		describe(got, sizeof(got), *cols);
		return failf(l, RW_EINVAL, p, "expected an object of parameter: column, got %s",
			     got);
	}
	return r;
}

/* Refuses a table or a (kind, topic 0) mapped by an earlier entry. */
static int entry_unique(struct ld *l, const char *path, const struct rw_eventmap *m,
			const struct rw_eventmap_event *d)
{
	for (size_t i = 0; i < d->entry; i++) {
		const struct rw_eventmap_event *o = &m->events[i];
		if (strcmp(o->table, d->table) == 0)
			return failf(
				l, RW_EINVAL, path,
				"table %s is already mapped by [%zu] (%s.%s): one table per event",
				d->table, i, o->kind, o->event->name);
		if (strcmp(o->kind, d->kind) == 0 && memcmp(o->topic0, d->topic0, 32) == 0)
			return failf(l, RW_EINVAL, path,
				     "%s.%s is already mapped by [%zu] (table %s)", d->kind,
				     d->event->signature, i, o->table);
	}
	return 0;
}

static int build_entry(struct ld *l, struct rw_eventmap *m, size_t i, const json_t *e)
{
	struct rw_eventmap_event *d = &m->events[i];
	const char *kind, *event, *table;
	const json_t *cols = NULL, *abi = NULL;
	char path[PATH_LEN], p[PATH_LEN];
	struct rw_abi_event *ev = NULL;
	strf(path, sizeof(path), "[%zu]", i);
	d->entry = i;
	int r = entry_shape(l, path, e, &kind, &event, &table, &cols);
	strf(p, sizeof(p), "%s.kind", path);
	if (r == 0)
		r = abi_of(l, p, kind, &abi);
	strf(p, sizeof(p), "%s.event", path);
	if (r == 0)
		r = find_event(l, p, kind, abi, event, &ev);
	if (r < 0)
		return r;
	m->owned[m->n_owned++] = ev;
	d->event = ev;
	memcpy(d->topic0, ev->topic, 32);
	if (!(d->kind = strdup(kind)) || !(d->table = strdup(table)))
		return fail_nomem(l);
	strf(p, sizeof(p), "%s.table", path);
	r = check_ident(l, p, "table", table, "");
	if (r == 0 && own_table(table))
		r = failf(l, RW_EINVAL, p,
			  "table %s is one of runway's own tables (chain, chain_head, "
			  "runway_migrations, indexer_*)",
			  table);
	if (r == 0)
		r = build_columns(l, path, kind, d, cols);
	if (r == 0)
		r = entry_unique(l, path, m, d);
	return r;
}

/* ---- the map ---------------------------------------------------------- */

static int key_cmp(const char *kind, const uint8_t topic[32], const struct rw_eventmap_event *e)
{
	int c = strcmp(kind, e->kind);
	return c ? c : memcmp(topic, e->topic0, 32);
}

static int by_key_cmp(const void *a, const void *b)
{
	const struct rw_eventmap_event *x = *(const struct rw_eventmap_event *const *)a;
	const struct rw_eventmap_event *y = *(const struct rw_eventmap_event *const *)b;
	return key_cmp(x->kind, x->topic0, y);
}

static int build_index(struct ld *l, struct rw_eventmap *m)
{
	m->by_key = calloc(m->n_events ? m->n_events : 1, sizeof(*m->by_key));
	if (!m->by_key)
		return fail_nomem(l);
	for (size_t i = 0; i < m->n_events; i++)
		m->by_key[i] = &m->events[i];
	qsort(m->by_key, m->n_events, sizeof(*m->by_key), by_key_cmp);
	return 0;
}

int rw_eventmap_from_json(struct rw_eventmap **ret, const char *abi_dir, const json_t *map,
			  const char *name, char *err, size_t errlen)
{
	struct ld l = { name, abi_dir, err, errlen, NULL, 0 };
	if (errlen)
		err[0] = '\0';
	if (!json_is_array(map) || json_array_size(map) > RW_EVENTMAP_MAX_ENTRIES) {
		char got[GOT_LEN];
		describe(got, sizeof(got), map);
		if (json_is_array(map))
			strf(got, sizeof(got), "%zu entries", json_array_size(map));
		return failf(&l, RW_EINVAL, "", "expected an array of at most %d entries, got %s",
			     RW_EVENTMAP_MAX_ENTRIES, got);
	}
	size_t n = json_array_size(map);
	struct rw_eventmap *m = calloc(1, sizeof(*m));
	int r = m ? 0 : fail_nomem(&l);
	if (r == 0) {
		m->events = calloc(n ? n : 1, sizeof(*m->events));
		m->owned = calloc(n ? n : 1, sizeof(*m->owned));
		if (!m->events || !m->owned)
			r = fail_nomem(&l);
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		m->n_events = i + 1;
		r = build_entry(&l, m, i, json_array_get(map, i));
	}
	if (r == 0)
		r = build_index(&l, m);
	free_abis(&l);
	if (r < 0) {
		rw_eventmap_free(m);
		return r;
	}
	*ret = m;
	return 0;
}

int rw_eventmap_load(struct rw_eventmap **ret, const char *abi_dir, const char *map_path, char *err,
		     size_t errlen)
{
	json_t *map;
	if (errlen)
		err[0] = '\0';
	int r = load_json(err, errlen, map_path, &map);
	if (r < 0)
		return r;
	r = rw_eventmap_from_json(ret, abi_dir, map, map_path, err, errlen);
	json_decref(map);
	return r;
}

struct rw_eventmap *rw_eventmap_free(struct rw_eventmap *m)
{
	if (!m)
		return NULL;
	for (size_t i = 0; i < m->n_events; i++) {
		struct rw_eventmap_event *e = &m->events[i];
		for (size_t k = 0; k < e->n_cols; k++)
			free(e->cols[k].name);
		free(e->cols);
		free(e->kind);
		free(e->table);
	}
	for (size_t i = 0; i < m->n_owned; i++)
		rw_abi_event_free(m->owned[i]);
	free(m->owned);
	free(m->events);
	free(m->by_key);
	free(m);
	return NULL;
}

/* ---- lookup ----------------------------------------------------------- */

const struct rw_eventmap_event *rw_eventmap_lookup(const struct rw_eventmap *m, const char *kind,
						   const uint8_t topic0[32])
{
	size_t lo = 0, hi = m->n_events;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(kind, topic0, m->by_key[mid]);
		if (c == 0)
			return m->by_key[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

size_t rw_eventmap_topics(const struct rw_eventmap *m, const char *kind, uint8_t (*out)[32],
			  size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < m->n_events; i++) {
		if (strcmp(m->events[i].kind, kind) != 0)
			continue;
		if (n < max)
			memcpy(out[n], m->events[i].topic0, 32);
		n++;
	}
	return n;
}

const char *rw_eventmap_sql_name(enum rw_eventmap_sql t)
{
	switch (t) {
	case RW_EVENTMAP_BIGINT: return "bigint";
	case RW_EVENTMAP_INTEGER: return "integer";
	case RW_EVENTMAP_BYTEA: return "bytea";
	case RW_EVENTMAP_NUMERIC: return "numeric(78,0)";
	case RW_EVENTMAP_BOOLEAN: return "boolean";
	case RW_EVENTMAP_TEXT: return "text";
	case RW_EVENTMAP_JSONB: return "jsonb";
	}
	return "unknown";
}

/* ---- schema check ----------------------------------------------------- */

static const char query_head[] =
	"SELECT table_name::text, column_name::text,\n"
	"       CASE WHEN data_type = 'numeric' AND numeric_precision IS NOT NULL\n"
	"            THEN 'numeric(' || numeric_precision || ',' || coalesce(numeric_scale, 0) || "
	"')'\n"
	"            ELSE data_type::text END\n"
	"  FROM information_schema.columns\n"
	" WHERE table_schema = current_schema()\n"
	"   AND table_name IN (";
static const char query_tail[] = ")\n ORDER BY table_name, ordinal_position";

int rw_eventmap_schema_query(char **ret, const struct rw_eventmap *m)
{
	struct rw_buf b;
	rw_buf_init(&b, RW_BUF_DEFAULT_MAX);
	int r = rw_buf_append(&b, query_head, sizeof(query_head) - 1);
	/* names are [a-z_][a-z0-9_]*: quoting them needs no escapes */
	for (size_t i = 0; r == 0 && i < m->n_events; i++) {
		if (i)
			r = rw_buf_append(&b, ", ", 2);
		if (r == 0)
			r = rw_buf_push(&b, '\'');
		if (r == 0)
			r = rw_buf_append(&b, m->events[i].table, strlen(m->events[i].table));
		if (r == 0)
			r = rw_buf_push(&b, '\'');
	}
	if (r == 0 && m->n_events == 0)
		r = rw_buf_append(&b, "NULL", 4);
	if (r == 0)
		r = rw_buf_append(&b, query_tail, sizeof(query_tail));
	if (r < 0) {
		rw_buf_free(&b);
		return RW_ENOMEM;
	}
	*ret = (char *)b.p;
	return 0;
}

/* What a column is for, in messages: "TestToken.Transfer parameter value". */
static void column_role(char *out, size_t n, const struct rw_eventmap_event *e,
			const struct rw_eventmap_column *c)
{
	if (c->field == RW_EVENTMAP_PARAM)
		strf(out, n, "%s.%s parameter %s, map entry [%zu]", e->kind, e->event->name,
		     param_name(e->event, c->param), e->entry);
	else
		strf(out, n, "leading column of %s.%s, map entry [%zu]", e->kind, e->event->name,
		     e->entry);
}

int rw_eventmap_schema_check(const struct rw_eventmap *m, const struct rw_eventmap_dbcol *rows,
			     size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < m->n_events; i++) {
		const struct rw_eventmap_event *e = &m->events[i];
		size_t seen = 0;
		for (size_t k = 0; k < n; k++)
			seen += strcmp(rows[k].table, e->table) == 0;
		if (!seen)
			return fail_raw(
				err, errlen, RW_ENOTFOUND,
				"table %s (for %s.%s, map entry [%zu]) does not exist in the "
				"current schema",
				e->table, e->kind, e->event->name, e->entry);
		for (size_t c = 0; c < e->n_cols; c++) {
			const struct rw_eventmap_column *col = &e->cols[c];
			const char *want = rw_eventmap_sql_name(col->type);
			const struct rw_eventmap_dbcol *row = NULL;
			char role[256];
			for (size_t k = 0; k < n && !row; k++)
				if (strcmp(rows[k].table, e->table) == 0 &&
				    strcmp(rows[k].column, col->name) == 0)
					row = &rows[k];
			column_role(role, sizeof(role), e, col);
			if (!row)
				return fail_raw(err, errlen, RW_ENOTFOUND,
						"column %s.%s does not exist (expected %s; %s)",
						e->table, col->name, want, role);
			if (strcmp(row->type, want) != 0)
				return fail_raw(err, errlen, RW_EINVAL,
						"column %s.%s is %s, expected %s (%s)", e->table,
						col->name, row->type, want, role);
		}
	}
	return 0;
}
