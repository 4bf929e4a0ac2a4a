/* relayer_revert.c: revert reasons in words: Error(string), Panic(uint256)
 * and the custom errors of the ABI files, with their arguments decoded. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "err.h"
#include "hex.h"
#include "key.h"
#include "relayer.h"

/* Largest ABI file read. */
#define ABI_FILE_MAX ((size_t)8 << 20)
/* Most custom errors kept. */
#define ERRORS_MAX 4096
/* Longest string or bytes argument shown. */
#define SHOW_MAX 96
/* Deepest argument shown in full. */
#define SHOW_DEPTH 4

struct rw_relayer_errors {
	struct rw_abi_func **v;
	size_t n;
};

/* ---- the table ---------------------------------------------------------- */

static const struct rw_abi_func *errors_find(const struct rw_relayer_errors *e,
					     const uint8_t sel[4])
{
	for (size_t i = 0; e && i < e->n; i++)
		if (memcmp(e->v[i]->selector, sel, 4) == 0)
			return e->v[i];
	return NULL;
}

static int errors_add(struct rw_relayer_errors *e, const json_t *entry)
{
	struct rw_abi_func *f = NULL;
	if (e->n >= ERRORS_MAX || rw_abi_func_from_json(&f, entry) < 0)
		return 0;
	if (errors_find(e, f->selector)) {
		rw_abi_func_free(f);
		return 0;
	}
	struct rw_abi_func **v = realloc(e->v, (e->n + 1) * sizeof(*v));
	if (!v) {
		rw_abi_func_free(f);
		return RW_ENOMEM;
	}
	e->v = v;
	e->v[e->n++] = f;
	return 0;
}

/* Adds the custom errors of one ABI file; a file that does not parse is
 * skipped. */
static int errors_add_file(struct rw_relayer_errors *e, const char *path)
{
	json_error_t jerr;
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	if (fseek(f, 0, SEEK_END) != 0 || ftell(f) < 0 || (size_t)ftell(f) > ABI_FILE_MAX ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return 0;
	}
	json_t *doc = json_loadf(f, 0, &jerr);
	fclose(f);
	if (!doc)
		return 0;
	const json_t *abi = json_is_array(doc) ? doc : json_object_get(doc, "abi");
	size_t i;
	const json_t *entry;
	int r = 0;
	json_array_foreach(abi, i, entry)
	{
		const char *type = json_string_value(json_object_get(entry, "type"));
		if (type && strcmp(type, "error") == 0 && (r = errors_add(e, entry)) < 0)
			break;
	}
	json_decref(doc);
	return r;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

int rw_relayer_errors_load(struct rw_relayer_errors **ret, const char *dir)
{
	struct rw_relayer_errors *e = calloc(1, sizeof(*e));
	if (!e)
		return RW_ENOMEM;
	DIR *d = opendir(dir);
	if (!d) {
		free(e);
		return RW_EIO;
	}
	struct dirent *de;
	int r = 0;
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (!ends_with(de->d_name, ".json") || de->d_name[0] == '.')
			continue;
		char path[4096];
		int k = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (k > 0 && (size_t)k < sizeof(path))
			r = errors_add_file(e, path);
	}
	closedir(d);
	if (r < 0) {
		rw_relayer_errors_free(e);
		return r;
	}
	*ret = e;
	return 0;
}

struct rw_relayer_errors *rw_relayer_errors_free(struct rw_relayer_errors *e)
{
	if (!e)
		return NULL;
	for (size_t i = 0; i < e->n; i++)
		rw_abi_func_free(e->v[i]);
	free(e->v);
	free(e);
	return NULL;
}

/* ---- text ---------------------------------------------------------------- */

/* An output buffer that cuts what does not fit. */
struct out {
	char *p;
	size_t cap, len;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->cap == 0)
		return;
	size_t room = o->cap - 1 - o->len;
	if (n > room)
		n = room;
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = 0;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Text without control characters or quotes, cut at SHOW_MAX bytes. */
static void put_text(struct out *o, const char *s, size_t n)
{
	size_t shown = n > SHOW_MAX ? SHOW_MAX : n;
	for (size_t i = 0; i < shown; i++) {
		char c = s[i];
		put(o, (c < 0x20 || c == 0x7f || c == '"' || c == '\\') ? "?" : &c, 1);
	}
	if (shown < n)
		puts_(o, "...");
}

static void put_hex(struct out *o, const uint8_t *p, size_t n)
{
	size_t shown = n > SHOW_MAX / 2 ? SHOW_MAX / 2 : n;
	char hex[SHOW_MAX + 3];
	rw_hex_encode(hex, p, shown, 1);
	puts_(o, hex);
	if (shown < n)
		putf(o, "...(%zu bytes)", n);
}

static void put_int(struct out *o, const rw_u256 *u, int is_signed)
{
	char dec[RW_U256_DEC_MAX];
	if (is_signed && (u->w[3] >> 63)) {
		rw_u256 neg = *u; /* two's complement: the magnitude is ~u + 1 */
		for (int i = 0; i < 4; i++)
			neg.w[i] = ~neg.w[i];
		rw_u256 one = rw_u256_from_u64(1);
		(void)rw_u256_add(&neg, &neg, &one);
		rw_u256_format_dec(dec, &neg);
		puts_(o, "-");
		puts_(o, dec);
		return;
	}
	rw_u256_format_dec(dec, u);
	puts_(o, dec);
}

static void put_value(struct out *o, const struct rw_abi_type *t, const struct rw_abi_value *v,
		      unsigned depth)
{
	if (v->flags & RW_ABI_VALUE_HASH) {
		put_hex(o, v->hash, 32);
		return;
	}
	switch (t->kind) {
	case RW_ABI_UINT: put_int(o, &v->u, 0); return;
	case RW_ABI_INT: put_int(o, &v->u, 1); return;
	case RW_ABI_BOOL: puts_(o, v->b ? "true" : "false"); return;
	case RW_ABI_ADDRESS: {
		char a[43];
		rw_addr_checksum(a, v->addr);
		puts_(o, a);
		return;
	}
	case RW_ABI_FIXED_BYTES: put_hex(o, v->fixed, t->size); return;
	case RW_ABI_BYTES: put_hex(o, v->bytes.p, v->bytes.len); return;
	case RW_ABI_STRING:
		puts_(o, "\"");
		put_text(o, (const char *)v->bytes.p, v->bytes.len);
		puts_(o, "\"");
		return;
	case RW_ABI_ARRAY:
	case RW_ABI_FIXED_ARRAY:
	case RW_ABI_TUPLE: break;
	}
	if (depth >= SHOW_DEPTH) {
		puts_(o, "...");
		return;
	}
	int tuple = t->kind == RW_ABI_TUPLE;
	puts_(o, tuple ? "(" : "[");
	for (size_t i = 0; i < v->list.n; i++) {
		if (i)
			puts_(o, ", ");
		const struct rw_abi_type *et = tuple ? t->comps[i] : t->elem;
		put_value(o, et, &v->list.items[i], depth + 1);
	}
	puts_(o, tuple ? ")" : "]");
}

static const char *panic_meaning(uint64_t code)
{
	switch (code) {
	case 0x00: return "generic panic";
	case 0x01: return "assert failed";
	case 0x11: return "arithmetic overflow or underflow";
	case 0x12: return "division or modulo by zero";
	case 0x21: return "invalid enum value";
	case 0x22: return "bad storage byte array";
	case 0x31: return "pop on an empty array";
	case 0x32: return "array index out of bounds";
	case 0x41: return "too much memory";
	case 0x51: return "call of a zero function";
	}
	return "unknown panic code";
}

static void put_custom(struct out *o, const struct rw_relayer_errors *errors,
		       const struct rw_rpc_revert *rv)
{
	const struct rw_abi_func *f = errors_find(errors, rv->selector);
	if (!f) {
		char sel[11];
		rw_hex_encode(sel, rv->selector, 4, 1);
		putf(o, "custom error %s (%zu bytes of arguments; not in the ABI files)", sel,
		     rv->len - 4);
		return;
	}
	struct rw_abi_value *args = NULL;
	puts_(o, f->name);
	if (rw_abi_decode(&args, f->inputs, rv->data + 4, rv->len - 4) < 0) {
		putf(o, "(%zu bytes of arguments that do not decode)", rv->len - 4);
		return;
	}
	puts_(o, "(");
	for (size_t i = 0; i < args->list.n; i++) {
		if (i)
			puts_(o, ", ");
		const char *name = f->inputs->names ? f->inputs->names[i] : "";
		if (name && *name) {
			puts_(o, name);
			puts_(o, "=");
		}
		put_value(o, f->inputs->comps[i], &args->list.items[i], 1);
	}
	puts_(o, ")");
	rw_abi_value_free(args);
}

size_t rw_relayer_revert_reason(char *out, size_t n, const struct rw_relayer_errors *errors,
				const struct rw_rpc_revert *rv, const char *message)
{
	struct out o = { out, n, 0 };
	if (n)
		out[0] = 0;
	switch (rv->kind) {
	case RW_RPC_REVERT_NONE:
		puts_(&o, "reverted: ");
		put_text(&o, message ? message : "", message ? strlen(message) : 0);
		break;
	case RW_RPC_REVERT_EMPTY: puts_(&o, "reverted without a reason"); break;
	case RW_RPC_REVERT_ERROR:
		puts_(&o, "Error(\"");
		put_text(&o, rv->reason, rv->reason_len);
		puts_(&o, "\")");
		break;
	case RW_RPC_REVERT_PANIC: {
		uint64_t code = 0;
		int small = rw_u256_to_u64(&code, &rv->panic) == 0;
		char hex[RW_U256_HEX_MAX];
		rw_u256_format_hex(hex, &rv->panic);
		putf(&o, "Panic(%s: %s)", hex, small ? panic_meaning(code) : "unknown panic code");
		break;
	}
	case RW_RPC_REVERT_CUSTOM: put_custom(&o, errors, rv); break;
	case RW_RPC_REVERT_RAW:
		puts_(&o, "reverted with data ");
		put_hex(&o, rv->data, rv->len);
		break;
	}
	return o.len;
}
