/* abi.c: Solidity ABI types, encoding, strict decoding, selectors, events.
 *
 * Sections: words; types (derived fields, text parser, JSON, format);
 * encoder; decoder; values; functions and events.
 *
 * Encoding of a sequence (tuple or array items) is a head of fixed size,
 * one slot per item (the static encoding in place, or a 32-byte offset
 * for a dynamic item), followed by the tails of the dynamic items. Offsets
 * are measured from the start of the head. The encoder reserves the head,
 * appends each tail and patches its offset; it works with positions into
 * the buffer, never pointers, because appending may move it. */
#include "abi.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "keccak.h"

#define WORD 32

/* ---- words ---- */

static void word_from_u256(uint8_t w[WORD], const rw_u256 *u)
{
	for (size_t i = 0; i < WORD; i++)
		w[WORD - 1 - i] = (uint8_t)(u->w[i / 8] >> (8 * (i % 8)));
}

static void word_to_u256(rw_u256 *u, const uint8_t w[WORD])
{
	memset(u, 0, sizeof(*u));
	for (size_t i = 0; i < WORD; i++)
		u->w[i / 8] |= (uint64_t)w[WORD - 1 - i] << (8 * (i % 8));
}

static void word_from_size(uint8_t w[WORD], size_t v)
{
	memset(w, 0, WORD);
	for (size_t i = 0; i < sizeof(v); i++)
		w[WORD - 1 - i] = (uint8_t)(v >> (8 * i));
}

/* Returns 1 when bytes [from, to) of w are all equal to fill. */
static int all_equal(const uint8_t *w, size_t from, size_t to, uint8_t fill)
{
	for (size_t i = from; i < to; i++)
		if (w[i] != fill)
			return 0;
	return 1;
}

/* Returns 1 when w holds an unsigned value of at most bits bits. */
static int fits_uint(const uint8_t w[WORD], unsigned bits)
{
	return all_equal(w, 0, WORD - bits / 8, 0);
}

/* Returns 1 when w is the sign extension of a bits-bit two's complement. */
static int fits_int(const uint8_t w[WORD], unsigned bits)
{
	size_t k = WORD - bits / 8;
	if (k == 0)
		return 1;
	return all_equal(w, 0, k, (w[k] & 0x80) ? 0xff : 0);
}

static int is_value_kind(enum rw_abi_kind k)
{
	return k == RW_ABI_UINT || k == RW_ABI_INT || k == RW_ABI_ADDRESS || k == RW_ABI_BOOL ||
	       k == RW_ABI_FIXED_BYTES;
}

/* The type of item i of a tuple or array t. */
static const struct rw_abi_type *item_type(const struct rw_abi_type *t, size_t i)
{
	return t->kind == RW_ABI_TUPLE ? t->comps[i] : t->elem;
}

/* A NUL-terminated copy of n bytes at s, or NULL when out of memory. */
static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* ---- types: derived fields ---- */

#define LEAF(k, n, dyn)                                                                            \
	{                                                                                          \
		.kind = (k), .size = (n), .dynamic = (dyn), .head = WORD, .nodes = 1, .depth = 1   \
	}

const struct rw_abi_type rw_abi_type_uint256 = LEAF(RW_ABI_UINT, 256, 0);
const struct rw_abi_type rw_abi_type_address = LEAF(RW_ABI_ADDRESS, 160, 0);
const struct rw_abi_type rw_abi_type_bool = LEAF(RW_ABI_BOOL, 8, 0);
const struct rw_abi_type rw_abi_type_bytes32 = LEAF(RW_ABI_FIXED_BYTES, 32, 0);
const struct rw_abi_type rw_abi_type_bytes = LEAF(RW_ABI_BYTES, 0, 1);
const struct rw_abi_type rw_abi_type_string = LEAF(RW_ABI_STRING, 0, 1);

/* Fills the derived fields of an array type from its element. */
static int finish_array(struct rw_abi_type *t)
{
	const struct rw_abi_type *e = t->elem;
	/* An element that takes no space would let a count from the input
	 * allocate without consuming input. */
	if (e->head == 0 || (t->kind == RW_ABI_FIXED_ARRAY && t->len == 0))
		return RW_EUNSUPPORTED;
	if (t->kind == RW_ABI_FIXED_ARRAY && t->len > RW_ABI_MAX_STATIC / e->head)
		return RW_ETOOBIG;
	t->dynamic = t->kind == RW_ABI_ARRAY || e->dynamic;
	t->head = t->dynamic ? WORD : t->len * e->head;
	t->nodes = e->nodes + 1;
	t->depth = e->depth + 1;
	return 0;
}

/* Fills the derived fields of a tuple type from its components. */
static int finish_tuple(struct rw_abi_type *t)
{
	size_t size = 0, nodes = 1;
	unsigned depth = 0;
	int dynamic = 0;
	for (size_t i = 0; i < t->len; i++) {
		const struct rw_abi_type *c = t->comps[i];
		if (c->head > RW_ABI_MAX_STATIC - size)
			return RW_ETOOBIG;
		size += c->head;
		nodes += c->nodes;
		dynamic |= c->dynamic;
		if (c->depth > depth)
			depth = c->depth;
	}
	t->dynamic = dynamic;
	t->head = dynamic ? WORD : size;
	t->nodes = nodes;
	t->depth = depth + 1;
	return 0;
}

/* Fills the derived fields of t (children already finished). Returns 0,
 * RW_EUNSUPPORTED or RW_ETOOBIG. */
static int type_finish(struct rw_abi_type *t)
{
	int r = 0;
	switch (t->kind) {
	case RW_ABI_ARRAY:
	case RW_ABI_FIXED_ARRAY: r = finish_array(t); break;
	case RW_ABI_TUPLE: r = finish_tuple(t); break;
	default:
		t->dynamic = t->kind == RW_ABI_BYTES || t->kind == RW_ABI_STRING;
		t->head = WORD;
		t->nodes = 1;
		t->depth = 1;
	}
	if (r == 0 && t->depth > RW_ABI_MAX_DEPTH)
		r = RW_ETOOBIG;
	return r;
}

void rw_abi_type_free(struct rw_abi_type *t)
{
	if (!t)
		return;
	rw_abi_type_free(t->elem);
	for (size_t i = 0; i < t->len && t->comps; i++)
		rw_abi_type_free(t->comps[i]);
	for (size_t i = 0; i < t->len && t->names; i++)
		free(t->names[i]);
	free(t->comps);
	free(t->names);
	free(t);
}

static struct rw_abi_type *type_new(enum rw_abi_kind kind)
{
	struct rw_abi_type *t = calloc(1, sizeof(*t));
	if (t)
		t->kind = kind;
	return t;
}

/* A tuple under construction: components and names grow together. */
struct tuple_builder {
	struct rw_abi_type *t;
	size_t cap;
};

static int tb_init(struct tuple_builder *b)
{
	b->cap = 0;
	b->t = type_new(RW_ABI_TUPLE);
	return b->t ? 0 : RW_ENOMEM;
}

/* Appends component c (taken over, freed on failure) named name (copied;
 * NULL for a tuple without names). */
static int tb_add(struct tuple_builder *b, struct rw_abi_type *c, const char *name, size_t name_len)
{
	struct rw_abi_type *t = b->t;
	if (t->len == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4;
		struct rw_abi_type **comps = realloc(t->comps, cap * sizeof(*comps));
		if (!comps)
			goto nomem;
		t->comps = comps;
		if (name) {
			char **names = realloc(t->names, cap * sizeof(*names));
			if (!names)
				goto nomem;
			t->names = names;
		}
		b->cap = cap;
	}
	if (name) {
		t->names[t->len] = dup_n(name, name_len);
		if (!t->names[t->len])
			goto nomem;
	}
	t->comps[t->len++] = c;
	return 0;
nomem:
	rw_abi_type_free(c);
	return RW_ENOMEM;
}

/* Finishes the tuple and hands it over in *ret, or frees it. */
static int tb_finish(struct tuple_builder *b, struct rw_abi_type **ret)
{
	int r = type_finish(b->t);
	if (r < 0) {
		rw_abi_type_free(b->t);
		return r;
	}
	*ret = b->t;
	return 0;
}

/* ---- types: text parser ---- */

struct parser {
	const char *s;
	size_t n;
	size_t i;
};

static int at(const struct parser *p, char c)
{
	return p->i < p->n && p->s[p->i] == c;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}

static int is_ident(char c)
{
	return is_ident_start(c) || is_digit(c);
}

/* Parses decimal digits without leading zeros, at most max. Returns 0 (no
 * digits: *ret = 0 and *ret_found = 0), RW_EINVAL or RW_ETOOBIG. */
static int parse_number(struct parser *p, size_t max, size_t *ret, int *ret_found)
{
	size_t v = 0, start = p->i;
	while (p->i < p->n && is_digit(p->s[p->i])) {
		size_t d = (size_t)(p->s[p->i] - '0');
		if (p->i > start && p->s[start] == '0')
			return RW_EINVAL;
		if (v > (max - d) / 10)
			return RW_ETOOBIG;
		v = v * 10 + d;
		p->i++;
	}
	*ret = v;
	*ret_found = p->i > start;
	return 0;
}

/* Reads an identifier [A-Za-z_$][A-Za-z0-9_$]* (may be empty). */
static size_t parse_ident(struct parser *p)
{
	size_t start = p->i;
	if (p->i < p->n && is_ident_start(p->s[p->i]))
		while (p->i < p->n && is_ident(p->s[p->i]))
			p->i++;
	return p->i - start;
}

static int word_is(const char *w, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(w, lit, n) == 0;
}

/* Parses an elementary type name (letters then an optional size). */
static int parse_elementary(struct parser *p, struct rw_abi_type **ret)
{
	size_t start = p->i;
	while (p->i < p->n && p->s[p->i] >= 'a' && p->s[p->i] <= 'z')
		p->i++;
	const char *w = p->s + start;
	size_t wn = p->i - start;
	size_t size;
	int found;
	int r = parse_number(p, 1000, &size, &found);
	if (r < 0)
		return RW_EINVAL;
	enum rw_abi_kind kind;
	unsigned bits = 0;
	if (word_is(w, wn, "uint") || word_is(w, wn, "int")) {
		kind = w[0] == 'u' ? RW_ABI_UINT : RW_ABI_INT;
		bits = found ? (unsigned)size : 256;
		if (bits == 0 || bits > 256 || bits % 8)
			return RW_EINVAL;
	} else if (word_is(w, wn, "bytes")) {
		kind = found ? RW_ABI_FIXED_BYTES : RW_ABI_BYTES;
		bits = (unsigned)size;
		if (found && (size == 0 || size > 32))
			return RW_EINVAL;
	} else if (!found && word_is(w, wn, "address")) {
		kind = RW_ABI_ADDRESS;
		bits = 160;
	} else if (!found && word_is(w, wn, "bool")) {
		kind = RW_ABI_BOOL;
		bits = 8;
	} else if (!found && word_is(w, wn, "string")) {
		kind = RW_ABI_STRING;
	} else if (word_is(w, wn, "fixed") || word_is(w, wn, "ufixed") ||
		   word_is(w, wn, "function")) {
		return RW_EUNSUPPORTED;
	} else {
		return RW_EINVAL;
	}
	struct rw_abi_type *t = type_new(kind);
	if (!t)
		return RW_ENOMEM;
	t->size = bits;
	(void)type_finish(t);
	*ret = t;
	return 0;
}

/* Applies any "[]" / "[k]" suffixes to *t (replacing it; freed on failure). */
static int parse_suffixes(struct parser *p, struct rw_abi_type **t)
{
	while (at(p, '[')) {
		p->i++;
		size_t k;
		int found;
		int r = parse_number(p, RW_ABI_MAX_STATIC, &k, &found);
		if (r == 0 && !at(p, ']'))
			r = RW_EINVAL;
		struct rw_abi_type *a = NULL;
		if (r == 0) {
			a = type_new(found ? RW_ABI_FIXED_ARRAY : RW_ABI_ARRAY);
			r = a ? 0 : RW_ENOMEM;
		}
		if (r == 0) {
			p->i++;
			a->len = k;
			a->elem = *t;
			*t = a;
			r = type_finish(a);
		}
		if (r < 0) {
			rw_abi_type_free(*t);
			*t = NULL;
			return r;
		}
	}
	return 0;
}

/* Where a parameter list allows names and "indexed" after each type. */
enum { PARAMS_TYPES = 0, PARAMS_NAMES = 1, PARAMS_INDEXED = 2 };

struct param_flags {
	uint8_t *v;
	size_t n, cap;
};

static int parse_type(struct parser *p, struct rw_abi_type **ret, unsigned depth);

/* Reads the words after a parameter's type: " indexed" (events), then a
 * name. On return *name and *name_len hold the name ("" when none). */
static int parse_param_words(struct parser *p, unsigned mode, int *indexed, const char **name,
			     size_t *name_len)
{
	*indexed = 0;
	*name = "";
	*name_len = 0;
	int have_name = 0;
	while (at(p, ' ') && (mode & PARAMS_NAMES)) {
		p->i++;
		const char *w = p->s + p->i;
		size_t wn = parse_ident(p);
		if (wn == 0 || have_name)
			return RW_EINVAL;
		if (word_is(w, wn, "indexed")) {
			/* a keyword, never a name */
			if (!(mode & PARAMS_INDEXED) || *indexed)
				return RW_EINVAL;
			*indexed = 1;
			continue;
		}
		*name = w;
		*name_len = wn;
		have_name = 1;
	}
	return 0;
}

static int flags_push(struct param_flags *f, int v)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 4;
		uint8_t *q = realloc(f->v, cap);
		if (!q)
			return RW_ENOMEM;
		f->v = q;
		f->cap = cap;
	}
	f->v[f->n++] = (uint8_t)v;
	return 0;
}

/* Parses "(" [param ("," param)*] ")" into a tuple. With PARAMS_NAMES the
 * tuple carries names; with PARAMS_INDEXED the flags go to *flags. */
static int parse_list(struct parser *p, struct rw_abi_type **ret, unsigned depth, unsigned mode,
		      struct param_flags *flags)
{
	struct tuple_builder b;
	if (depth > RW_ABI_MAX_DEPTH)
		return RW_ETOOBIG;
	if (!at(p, '('))
		return RW_EINVAL;
	p->i++;
	int r = tb_init(&b);
	if (r < 0)
		return r;
	if (at(p, ')')) {
		p->i++;
		return tb_finish(&b, ret);
	}
	for (;;) {
		struct rw_abi_type *c;
		int indexed;
		const char *name;
		size_t name_len;
		r = parse_type(p, &c, depth + 1);
		if (r < 0)
			break;
		r = parse_param_words(p, mode, &indexed, &name, &name_len);
		if (r == 0 && flags)
			r = flags_push(flags, indexed);
		if (r < 0) {
			rw_abi_type_free(c);
			break;
		}
		r = tb_add(&b, c, (mode & PARAMS_NAMES) ? name : NULL, name_len);
		if (r < 0)
			break;
		if (at(p, ')')) {
			p->i++;
			return tb_finish(&b, ret);
		}
		if (!at(p, ',')) {
			r = RW_EINVAL;
			break;
		}
		p->i++;
	}
	rw_abi_type_free(b.t);
	return r;
}

/* Parses one type (elementary or tuple) with its array suffixes. */
static int parse_type(struct parser *p, struct rw_abi_type **ret, unsigned depth)
{
	struct rw_abi_type *t;
	int r;
	if (depth > RW_ABI_MAX_DEPTH)
		return RW_ETOOBIG;
	if (at(p, '('))
		r = parse_list(p, &t, depth, PARAMS_TYPES, NULL);
	else
		r = parse_elementary(p, &t);
	if (r < 0)
		return r;
	r = parse_suffixes(p, &t);
	if (r < 0)
		return r;
	*ret = t;
	return 0;
}

int rw_abi_type_parse(struct rw_abi_type **ret, const char *s, size_t n)
{
	struct parser p = { s, n, 0 };
	struct rw_abi_type *t;
	int r = parse_type(&p, &t, 1);
	if (r < 0)
		return r;
	if (p.i != n) {
		rw_abi_type_free(t);
		return RW_EINVAL;
	}
	*ret = t;
	return 0;
}

/* ---- types: JSON ---- */

static int type_from_json(struct rw_abi_type **ret, const json_t *param, unsigned depth);

/* Builds a tuple from a JSON array of parameters; indexed flags to *flags
 * when not NULL. An absent array (NULL) is an empty tuple. */
static int params_from_json(struct rw_abi_type **ret, const json_t *arr, unsigned depth,
			    struct param_flags *flags)
{
	struct tuple_builder b;
	if (depth > RW_ABI_MAX_DEPTH)
		return RW_ETOOBIG;
	if (arr && !json_is_array(arr))
		return RW_EINVAL;
	int r = tb_init(&b);
	if (r < 0)
		return r;
	for (size_t i = 0; arr && i < json_array_size(arr); i++) {
		const json_t *param = json_array_get(arr, i);
		const json_t *jname = json_object_get(param, "name");
		const json_t *jidx = json_object_get(param, "indexed");
		struct rw_abi_type *c;
		if ((jname && !json_is_string(jname)) || (jidx && !json_is_boolean(jidx))) {
			r = RW_EINVAL;
			break;
		}
		r = type_from_json(&c, param, depth + 1);
		if (r < 0)
			break;
		if (flags)
			r = flags_push(flags, json_is_true(jidx));
		if (r < 0) {
			rw_abi_type_free(c);
			break;
		}
		const char *name = jname ? json_string_value(jname) : "";
		r = tb_add(&b, c, name, strlen(name));
		if (r < 0)
			break;
	}
	if (r == 0)
		return tb_finish(&b, ret);
	rw_abi_type_free(b.t);
	return r;
}

static int type_from_json(struct rw_abi_type **ret, const json_t *param, unsigned depth)
{
	if (depth > RW_ABI_MAX_DEPTH)
		return RW_ETOOBIG;
	if (!json_is_object(param))
		return RW_EINVAL;
	const json_t *jtype = json_object_get(param, "type");
	if (!json_is_string(jtype))
		return RW_EINVAL;
	const char *s = json_string_value(jtype);
	struct parser p = { s, json_string_length(jtype), 0 };
	struct rw_abi_type *t;
	int r;
	if (p.n >= 5 && memcmp(s, "tuple", 5) == 0) {
		const json_t *comps = json_object_get(param, "components");
		if (!json_is_array(comps))
			return RW_EINVAL;
		p.i = 5;
		r = params_from_json(&t, comps, depth, NULL);
		if (r == 0)
			r = parse_suffixes(&p, &t);
	} else {
		r = parse_type(&p, &t, depth);
	}
	if (r < 0)
		return r;
	if (p.i != p.n) {
		rw_abi_type_free(t);
		return RW_EINVAL;
	}
	*ret = t;
	return 0;
}

int rw_abi_type_from_json(struct rw_abi_type **ret, const struct json_t *param)
{
	return type_from_json(ret, param, 1);
}

/* ---- types: canonical text ---- */

static int format_type(struct rw_buf *out, const struct rw_abi_type *t, unsigned depth)
{
	char tmp[32];
	int r = 0;
	if (depth > RW_ABI_MAX_DEPTH)
		return RW_ETOOBIG;
	switch (t->kind) {
	case RW_ABI_UINT: snprintf(tmp, sizeof(tmp), "uint%u", t->size); break;
	case RW_ABI_INT: snprintf(tmp, sizeof(tmp), "int%u", t->size); break;
	case RW_ABI_ADDRESS: snprintf(tmp, sizeof(tmp), "address"); break;
	case RW_ABI_BOOL: snprintf(tmp, sizeof(tmp), "bool"); break;
	case RW_ABI_FIXED_BYTES: snprintf(tmp, sizeof(tmp), "bytes%u", t->size); break;
	case RW_ABI_BYTES: snprintf(tmp, sizeof(tmp), "bytes"); break;
	case RW_ABI_STRING: snprintf(tmp, sizeof(tmp), "string"); break;
	case RW_ABI_ARRAY:
	case RW_ABI_FIXED_ARRAY:
		r = format_type(out, t->elem, depth + 1);
		if (t->kind == RW_ABI_ARRAY)
			snprintf(tmp, sizeof(tmp), "[]");
		else
			snprintf(tmp, sizeof(tmp), "[%zu]", t->len);
		break;
	case RW_ABI_TUPLE:
		r = rw_buf_push(out, '(');
		for (size_t i = 0; r == 0 && i < t->len; i++) {
			if (i)
				r = rw_buf_push(out, ',');
			if (r == 0)
				r = format_type(out, t->comps[i], depth + 1);
		}
		snprintf(tmp, sizeof(tmp), ")");
		break;
	}
	if (r == 0)
		r = rw_buf_append(out, tmp, strlen(tmp));
	return r;
}

int rw_abi_type_format(struct rw_buf *out, const struct rw_abi_type *t)
{
	size_t len = out->len;
	int r = format_type(out, t, 1);
	if (r < 0)
		out->len = len;
	return r;
}

/* ---- encoder ---- */

/* Writes the word of a value-kind leaf into w, checking the value. */
static int put_leaf(uint8_t w[WORD], const struct rw_abi_type *t, const struct rw_abi_value *v)
{
	if (v->flags & RW_ABI_VALUE_HASH)
		return RW_EINVAL;
	memset(w, 0, WORD);
	switch (t->kind) {
	case RW_ABI_UINT: word_from_u256(w, &v->u); return fits_uint(w, t->size) ? 0 : RW_ERANGE;
	case RW_ABI_INT: word_from_u256(w, &v->u); return fits_int(w, t->size) ? 0 : RW_ERANGE;
	case RW_ABI_ADDRESS: memcpy(w + 12, v->addr, 20); return 0;
	case RW_ABI_BOOL:
		if (v->b != 0 && v->b != 1)
			return RW_EINVAL;
		w[31] = (uint8_t)v->b;
		return 0;
	case RW_ABI_FIXED_BYTES: memcpy(w, v->fixed, t->size); return 0;
	default: return RW_EINVAL;
	}
}

/* The type of item i of a sequence: from t, or (t NULL) from the item. */
static const struct rw_abi_type *seq_type(const struct rw_abi_type *t,
					  const struct rw_abi_value *items, size_t i)
{
	return t ? item_type(t, i) : items[i].type;
}

/* Writes the static encoding of v at dst (t->head bytes, zeroed). */
static int write_static(uint8_t *dst, const struct rw_abi_type *t, const struct rw_abi_value *v,
			unsigned depth)
{
	if (depth > RW_ABI_MAX_DEPTH)
		return RW_ETOOBIG;
	if (is_value_kind(t->kind))
		return put_leaf(dst, t, v);
	if (v->flags & RW_ABI_VALUE_HASH)
		return RW_EINVAL;
	if ((t->kind != RW_ABI_FIXED_ARRAY && t->kind != RW_ABI_TUPLE) || v->list.n != t->len)
		return RW_EINVAL;
	for (size_t i = 0; i < t->len; i++) {
		const struct rw_abi_type *it = item_type(t, i);
		int r = write_static(dst, it, &v->list.items[i], depth + 1);
		if (r < 0)
			return r;
		dst += it->head;
	}
	return 0;
}

static int enc_value(struct rw_buf *out, const struct rw_abi_type *t, const struct rw_abi_value *v,
		     unsigned depth);

/* Appends the head and tails of n items; item types from t or the items. */
static int enc_seq(struct rw_buf *out, const struct rw_abi_type *t,
		   const struct rw_abi_value *items, size_t n, unsigned depth)
{
	size_t head = 0;
	for (size_t i = 0; i < n; i++) {
		const struct rw_abi_type *it = seq_type(t, items, i);
		if (!it)
			return RW_EINVAL;
		if (it->head > out->max - head)
			return RW_ETOOBIG;
		head += it->head;
	}
	size_t start = out->len;
	int r = rw_buf_zeros(out, head);
	size_t pos = start;
	for (size_t i = 0; r == 0 && i < n; i++) {
		const struct rw_abi_type *it = seq_type(t, items, i);
		if (it->dynamic) {
			word_from_size(out->p + pos, out->len - start);
			r = enc_value(out, it, &items[i], depth + 1);
		} else {
			r = write_static(out->p + pos, it, &items[i], depth + 1);
		}
		pos += it->head;
	}
	return r;
}

/* Appends the encoding of bytes/string v: length, data, zero padding. */
static int enc_bytes(struct rw_buf *out, const struct rw_abi_value *v)
{
	uint8_t w[WORD];
	size_t pad = (WORD - v->bytes.len % WORD) % WORD;
	word_from_size(w, v->bytes.len);
	int r = rw_buf_append(out, w, WORD);
	if (r == 0)
		r = rw_buf_append(out, v->bytes.p, v->bytes.len);
	if (r == 0)
		r = rw_buf_zeros(out, pad);
	return r;
}

/* Appends the encoding of v, a value of type t. */
static int enc_value(struct rw_buf *out, const struct rw_abi_type *t, const struct rw_abi_value *v,
		     unsigned depth)
{
	if (depth > RW_ABI_MAX_DEPTH)
		return RW_ETOOBIG;
	if (v->flags & RW_ABI_VALUE_HASH)
		return RW_EINVAL;
	if (!t->dynamic) {
		size_t at = out->len;
		int r = rw_buf_zeros(out, t->head);
		return r < 0 ? r : write_static(out->p + at, t, v, depth);
	}
	switch (t->kind) {
	case RW_ABI_BYTES:
	case RW_ABI_STRING:
		if (!v->bytes.p && v->bytes.len)
			return RW_EINVAL;
		return enc_bytes(out, v);
	case RW_ABI_ARRAY: {
		uint8_t w[WORD];
		word_from_size(w, v->list.n);
		int r = rw_buf_append(out, w, WORD);
		return r < 0 ? r : enc_seq(out, t, v->list.items, v->list.n, depth);
	}
	case RW_ABI_FIXED_ARRAY:
	case RW_ABI_TUPLE:
		if (v->list.n != t->len)
			return RW_EINVAL;
		return enc_seq(out, t, v->list.items, v->list.n, depth);
	default: return RW_EINVAL;
	}
}

int rw_abi_encode(struct rw_buf *out, const struct rw_abi_type *t, const struct rw_abi_value *v)
{
	size_t len = out->len;
	int r = enc_value(out, t, v, 1);
	if (r < 0)
		out->len = len;
	return r;
}

int rw_abi_encode_call(struct rw_buf *out, const uint8_t selector[4],
		       const struct rw_abi_value *args, size_t n)
{
	size_t len = out->len;
	int r = rw_buf_append(out, selector, 4);
	if (r == 0)
		r = enc_seq(out, NULL, args, n, 1);
	if (r < 0)
		out->len = len;
	return r;
}

int rw_abi_func_encode(struct rw_buf *out, const struct rw_abi_func *f,
		       const struct rw_abi_value *args, size_t n)
{
	if (n != f->inputs->len)
		return RW_EINVAL;
	size_t len = out->len;
	int r = rw_buf_append(out, f->selector, 4);
	if (r == 0)
		r = enc_seq(out, f->inputs, args, n, 1);
	if (r < 0)
		out->len = len;
	return r;
}

struct rw_abi_value rw_abi_val_uint256(const rw_u256 *u)
{
	struct rw_abi_value v = { .type = &rw_abi_type_uint256 };
	v.u = *u;
	return v;
}

struct rw_abi_value rw_abi_val_address(const uint8_t addr[20])
{
	struct rw_abi_value v = { .type = &rw_abi_type_address };
	memcpy(v.addr, addr, 20);
	return v;
}

struct rw_abi_value rw_abi_val_bool(int b)
{
	struct rw_abi_value v = { .type = &rw_abi_type_bool };
	v.b = b;
	return v;
}

struct rw_abi_value rw_abi_val_bytes32(const uint8_t b[32])
{
	struct rw_abi_value v = { .type = &rw_abi_type_bytes32 };
	memcpy(v.fixed, b, 32);
	return v;
}

struct rw_abi_value rw_abi_val_bytes(const uint8_t *p, size_t len)
{
	struct rw_abi_value v = { .type = &rw_abi_type_bytes };
	v.bytes.p = p;
	v.bytes.len = len;
	return v;
}

struct rw_abi_value rw_abi_val_string(const char *s, size_t len)
{
	struct rw_abi_value v = { .type = &rw_abi_type_string };
	v.bytes.p = (const uint8_t *)s;
	v.bytes.len = len;
	return v;
}

/* ---- decoder ---- */

/* The input and what is left of the output budget (list items). */
struct dec {
	const uint8_t *p;
	size_t len;
	size_t budget;
};

/* Points *w at the word at pos, or returns RW_ETRUNC. */
static int read_word(const struct dec *d, size_t pos, const uint8_t **w)
{
	if (pos > d->len || d->len - pos < WORD)
		return RW_ETRUNC;
	*w = d->p + pos;
	return 0;
}

/* Reads the word at pos as an offset, length or count, which must be at
 * most max (else RW_ETRUNC: it announces more than the input holds). */
static int read_size(const struct dec *d, size_t pos, size_t max, size_t *ret)
{
	const uint8_t *w;
	int r = read_word(d, pos, &w);
	if (r < 0)
		return r;
	if (!all_equal(w, 0, WORD - 8, 0))
		return RW_ETRUNC;
	uint64_t v = 0;
	for (size_t i = WORD - 8; i < WORD; i++)
		v = v << 8 | w[i];
	if (v > max)
		return RW_ETRUNC;
	*ret = (size_t)v;
	return 0;
}

/* Decodes a value-kind leaf from word w into v (type already set). */
static int dec_leaf(struct rw_abi_value *v, const struct rw_abi_type *t, const uint8_t w[WORD])
{
	switch (t->kind) {
	case RW_ABI_UINT:
	case RW_ABI_INT:
		if (t->kind == RW_ABI_UINT ? !fits_uint(w, t->size) : !fits_int(w, t->size))
			return RW_EDIRTY;
		word_to_u256(&v->u, w);
		return 0;
	case RW_ABI_ADDRESS:
		if (!fits_uint(w, 160))
			return RW_EDIRTY;
		memcpy(v->addr, w + 12, 20);
		return 0;
	case RW_ABI_BOOL:
		if (!fits_uint(w, 8) || w[31] > 1)
			return RW_EDIRTY;
		v->b = w[31];
		return 0;
	case RW_ABI_FIXED_BYTES:
		if (!all_equal(w, t->size, WORD, 0))
			return RW_EDIRTY;
		memcpy(v->fixed, w, WORD);
		return 0;
	default: return RW_EINVAL;
	}
}

static void value_clear(struct rw_abi_value *v);

static int dec_value(struct dec *d, struct rw_abi_value *v, const struct rw_abi_type *t, size_t pos,
		     unsigned depth);

/* Decodes the n items of sequence t whose head starts at base into items
 * (skipping tuple components whose skip flag is set: they take no head).
 * On failure the items decoded so far are cleared. */
static int dec_seq(struct dec *d, struct rw_abi_value *items, const struct rw_abi_type *t, size_t n,
		   size_t base, const uint8_t *skip, unsigned depth)
{
	size_t h = base;
	for (size_t i = 0; i < n; i++) {
		if (skip && skip[i])
			continue;
		const struct rw_abi_type *it = item_type(t, i);
		size_t pos = h, off;
		int r = 0;
		if (it->dynamic) {
			r = read_size(d, h, d->len - base, &off);
			pos = base + off;
		}
		if (r == 0)
			r = dec_value(d, &items[i], it, pos, depth + 1);
		if (r < 0) {
			for (size_t j = 0; j < i; j++)
				if (!skip || !skip[j])
					value_clear(&items[j]);
			return r;
		}
		h += it->head;
	}
	return 0;
}

/* Decodes a list of n items (head at base) into v, after checking that the
 * heads fit in the input and the budget allows n more values. */
static int dec_list(struct dec *d, struct rw_abi_value *v, const struct rw_abi_type *t, size_t n,
		    size_t base, unsigned depth)
{
	size_t head = 0;
	if (base > d->len)
		return RW_ETRUNC;
	if (t->kind == RW_ABI_TUPLE) {
		for (size_t i = 0; i < n; i++)
			head += t->comps[i]->head;
	} else {
		if (t->elem->head == 0)
			return RW_EINVAL;
		if (n > (d->len - base) / t->elem->head)
			return RW_ETRUNC;
		head = n * t->elem->head;
	}
	if (head > d->len - base)
		return RW_ETRUNC;
	if (n > d->budget)
		return RW_ETOOBIG;
	d->budget -= n;
	struct rw_abi_value *items = NULL;
	if (n) {
		items = calloc(n, sizeof(*items));
		if (!items)
			return RW_ENOMEM;
	}
	int r = dec_seq(d, items, t, n, base, NULL, depth);
	if (r < 0) {
		free(items);
		return r;
	}
	v->list.items = items;
	v->list.n = n;
	return 0;
}

/* Decodes bytes/string at pos: length word, data, zero padding. */
static int dec_bytes(const struct dec *d, struct rw_abi_value *v, size_t pos)
{
	const uint8_t *w;
	size_t n;
	int r = read_word(d, pos, &w);
	if (r < 0)
		return r;
	size_t room = d->len - pos - WORD;
	r = read_size(d, pos, room, &n);
	if (r < 0)
		return r;
	size_t pad = (WORD - n % WORD) % WORD;
	if (pad > room - n)
		return RW_ETRUNC;
	const uint8_t *data = d->p + pos + WORD;
	if (!all_equal(data, n, n + pad, 0))
		return RW_EDIRTY;
	v->bytes.p = data;
	v->bytes.len = n;
	return 0;
}

/* Decodes the encoding of a value of type t that starts at pos into v. */
static int dec_value(struct dec *d, struct rw_abi_value *v, const struct rw_abi_type *t, size_t pos,
		     unsigned depth)
{
	const uint8_t *w;
	size_t n;
	int r;
	if (depth > RW_ABI_MAX_DEPTH)
		return RW_ETOOBIG;
	memset(v, 0, sizeof(*v));
	v->type = t;
	switch (t->kind) {
	case RW_ABI_BYTES:
	case RW_ABI_STRING: return dec_bytes(d, v, pos);
	case RW_ABI_ARRAY:
		if (t->elem->head == 0)
			return RW_EINVAL;
		r = read_word(d, pos, &w);
		if (r == 0)
			r = read_size(d, pos, (d->len - pos - WORD) / t->elem->head, &n);
		return r < 0 ? r : dec_list(d, v, t, n, pos + WORD, depth);
	case RW_ABI_FIXED_ARRAY:
	case RW_ABI_TUPLE: return dec_list(d, v, t, t->len, pos, depth);
	default: r = read_word(d, pos, &w); return r < 0 ? r : dec_leaf(v, t, w);
	}
}

/* The most list items one decode of t over len bytes may produce: each
 * node of the type can occur at most once per 32 bytes of input unless
 * offsets alias. */
static size_t budget_for(const struct rw_abi_type *t, size_t len)
{
	size_t per = len / WORD + 1;
	return t->nodes > SIZE_MAX / per ? SIZE_MAX : t->nodes * per;
}

int rw_abi_decode(struct rw_abi_value **ret, const struct rw_abi_type *t, const uint8_t *data,
		  size_t len)
{
	struct dec d = { data, len, budget_for(t, len) };
	struct rw_abi_value *v = malloc(sizeof(*v));
	if (!v)
		return RW_ENOMEM;
	int r = dec_value(&d, v, t, 0, 1);
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	return 0;
}

int rw_abi_func_decode_input(struct rw_abi_value **ret, const struct rw_abi_func *f,
			     const uint8_t *calldata, size_t len)
{
	if (len < 4)
		return RW_ETRUNC;
	if (memcmp(calldata, f->selector, 4) != 0)
		return RW_ENOTFOUND;
	return rw_abi_decode(ret, f->inputs, calldata + 4, len - 4);
}

int rw_abi_func_decode_output(struct rw_abi_value **ret, const struct rw_abi_func *f,
			      const uint8_t *data, size_t len)
{
	return rw_abi_decode(ret, f->outputs, data, len);
}

/* Decodes the first word of data as a leaf of type t. */
static int decode_first(struct rw_abi_value *v, const struct rw_abi_type *t, const uint8_t *data,
			size_t len)
{
	if (len < WORD)
		return RW_ETRUNC;
	return dec_leaf(v, t, data);
}

int rw_abi_decode_uint256(rw_u256 *ret, const uint8_t *data, size_t len)
{
	struct rw_abi_value v;
	int r = decode_first(&v, &rw_abi_type_uint256, data, len);
	if (r == 0)
		*ret = v.u;
	return r;
}

int rw_abi_decode_address(uint8_t ret[20], const uint8_t *data, size_t len)
{
	struct rw_abi_value v;
	int r = decode_first(&v, &rw_abi_type_address, data, len);
	if (r == 0)
		memcpy(ret, v.addr, 20);
	return r;
}

int rw_abi_decode_bool(int *ret, const uint8_t *data, size_t len)
{
	struct rw_abi_value v;
	int r = decode_first(&v, &rw_abi_type_bool, data, len);
	if (r == 0)
		*ret = v.b;
	return r;
}

/* ---- values ---- */

/* Frees what v owns (lists, owned bytes), not v itself. */
static void value_clear(struct rw_abi_value *v)
{
	const struct rw_abi_type *t = v->type;
	if (!t || (v->flags & RW_ABI_VALUE_HASH))
		return;
	if (t->kind == RW_ABI_ARRAY || t->kind == RW_ABI_FIXED_ARRAY || t->kind == RW_ABI_TUPLE) {
		for (size_t i = 0; i < v->list.n; i++)
			value_clear(&v->list.items[i]);
		free(v->list.items);
		v->list.items = NULL;
		v->list.n = 0;
	} else if ((t->kind == RW_ABI_BYTES || t->kind == RW_ABI_STRING) &&
		   (v->flags & RW_ABI_VALUE_OWNED)) {
		free((void *)(uintptr_t)v->bytes.p);
		v->bytes.p = NULL;
	}
}

void rw_abi_value_free(struct rw_abi_value *v)
{
	if (!v)
		return;
	value_clear(v);
	free(v);
}

static int value_eq(const struct rw_abi_type *t, const struct rw_abi_value *a,
		    const struct rw_abi_value *b, unsigned depth)
{
	if (depth > RW_ABI_MAX_DEPTH)
		return 0;
	if ((a->flags & RW_ABI_VALUE_HASH) != (b->flags & RW_ABI_VALUE_HASH))
		return 0;
	if (a->flags & RW_ABI_VALUE_HASH)
		return memcmp(a->hash, b->hash, 32) == 0;
	switch (t->kind) {
	case RW_ABI_UINT:
	case RW_ABI_INT: return memcmp(&a->u, &b->u, sizeof(a->u)) == 0;
	case RW_ABI_ADDRESS: return memcmp(a->addr, b->addr, 20) == 0;
	case RW_ABI_BOOL: return a->b == b->b;
	case RW_ABI_FIXED_BYTES: return memcmp(a->fixed, b->fixed, t->size) == 0;
	case RW_ABI_BYTES:
	case RW_ABI_STRING:
		return a->bytes.len == b->bytes.len &&
		       (a->bytes.len == 0 || memcmp(a->bytes.p, b->bytes.p, a->bytes.len) == 0);
	default:
		if (a->list.n != b->list.n)
			return 0;
		for (size_t i = 0; i < a->list.n; i++)
			if (!value_eq(item_type(t, i), &a->list.items[i], &b->list.items[i],
				      depth + 1))
				return 0;
		return 1;
	}
}

int rw_abi_value_eq(const struct rw_abi_type *t, const struct rw_abi_value *a,
		    const struct rw_abi_value *b)
{
	return value_eq(t, a, b, 1);
}

/* ---- functions, events, selectors ---- */

void rw_abi_selector(uint8_t out[4], const char *sig, size_t n)
{
	uint8_t h[32];
	rw_keccak256(h, sig, n);
	memcpy(out, h, 4);
}

void rw_abi_topic(uint8_t out[32], const char *sig, size_t n)
{
	rw_keccak256(out, sig, n);
}

/* Builds "name(types)" into a fresh NUL-terminated string. */
static int make_signature(char **ret, const char *name, size_t name_len,
			  const struct rw_abi_type *inputs)
{
	struct rw_buf b;
	rw_buf_init(&b, RW_BUF_DEFAULT_MAX);
	int r = rw_buf_append(&b, name, name_len);
	if (r == 0)
		r = rw_abi_type_format(&b, inputs);
	if (r == 0)
		r = rw_buf_push(&b, '\0');
	if (r < 0) {
		rw_buf_free(&b);
		return r;
	}
	char *s = malloc(b.len);
	if (!s) {
		rw_buf_free(&b);
		return RW_ENOMEM;
	}
	memcpy(s, b.p, b.len);
	rw_buf_free(&b);
	*ret = s;
	return 0;
}

void rw_abi_func_free(struct rw_abi_func *f)
{
	if (!f)
		return;
	free(f->name);
	free(f->signature);
	rw_abi_type_free(f->inputs);
	rw_abi_type_free(f->outputs);
	free(f);
}

/* Completes f from name and inputs already set: signature and selector.
 * Frees f on failure. */
static int func_finish(struct rw_abi_func **ret, struct rw_abi_func *f)
{
	int r = make_signature(&f->signature, f->name, strlen(f->name), f->inputs);
	if (r < 0) {
		rw_abi_func_free(f);
		return r;
	}
	rw_abi_selector(f->selector, f->signature, strlen(f->signature));
	*ret = f;
	return 0;
}

/* Skips the literal lit; returns 1 when it was there. */
static int skip_lit(struct parser *p, const char *lit)
{
	size_t n = strlen(lit);
	if (p->n - p->i < n || memcmp(p->s + p->i, lit, n) != 0)
		return 0;
	p->i += n;
	return 1;
}

/* Parses a name, the start of a function or event signature. */
static int parse_name(struct parser *p, char **ret)
{
	const char *w = p->s + p->i;
	size_t wn = parse_ident(p);
	if (wn == 0)
		return RW_EINVAL;
	*ret = dup_n(w, wn);
	return *ret ? 0 : RW_ENOMEM;
}

static int empty_tuple(struct rw_abi_type **ret)
{
	struct tuple_builder b;
	int r = tb_init(&b);
	return r < 0 ? r : tb_finish(&b, ret);
}

int rw_abi_func_parse(struct rw_abi_func **ret, const char *s, size_t n)
{
	struct parser p = { s, n, 0 };
	struct rw_abi_func *f = calloc(1, sizeof(*f));
	if (!f)
		return RW_ENOMEM;
	int r = parse_name(&p, &f->name);
	if (r == 0)
		r = parse_list(&p, &f->inputs, 1, PARAMS_NAMES, NULL);
	if (r == 0 && (skip_lit(&p, " returns (") || skip_lit(&p, " returns("))) {
		p.i--;
		r = parse_list(&p, &f->outputs, 1, PARAMS_NAMES, NULL);
	} else if (r == 0) {
		r = empty_tuple(&f->outputs);
	}
	if (r == 0 && p.i != n)
		r = RW_EINVAL;
	if (r < 0) {
		rw_abi_func_free(f);
		return r;
	}
	return func_finish(ret, f);
}

/* Returns the string member key of obj, or NULL when absent or not a string. */
static const char *json_str(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

int rw_abi_func_from_json(struct rw_abi_func **ret, const struct json_t *entry)
{
	if (!json_is_object(entry))
		return RW_EINVAL;
	const char *type = json_str(entry, "type");
	const char *name = json_str(entry, "name");
	int is_func = type && (strcmp(type, "function") == 0 || strcmp(type, "error") == 0);
	if ((json_object_get(entry, "type") && !is_func) || !name || !*name)
		return RW_EINVAL;
	struct rw_abi_func *f = calloc(1, sizeof(*f));
	if (!f)
		return RW_ENOMEM;
	f->name = dup_n(name, strlen(name));
	int r = f->name ? 0 : RW_ENOMEM;
	if (r == 0)
		r = params_from_json(&f->inputs, json_object_get(entry, "inputs"), 1, NULL);
	if (r == 0)
		r = params_from_json(&f->outputs, json_object_get(entry, "outputs"), 1, NULL);
	if (r < 0) {
		rw_abi_func_free(f);
		return r;
	}
	return func_finish(ret, f);
}

void rw_abi_event_free(struct rw_abi_event *e)
{
	if (!e)
		return;
	free(e->name);
	free(e->signature);
	rw_abi_type_free(e->inputs);
	free(e->indexed);
	free(e);
}

/* Completes e from name, anonymous, inputs and the flags: counts the
 * indexed parameters, builds signature and topic. Frees e on failure. */
static int event_finish(struct rw_abi_event **ret, struct rw_abi_event *e,
			struct param_flags *flags)
{
	int r = 0;
	e->indexed = flags->v;
	flags->v = NULL;
	if (!e->indexed && e->inputs->len) {
		e->indexed = calloc(e->inputs->len, 1);
		r = e->indexed ? 0 : RW_ENOMEM;
	}
	for (size_t i = 0; r == 0 && i < e->inputs->len; i++)
		e->n_indexed += e->indexed[i];
	if (r == 0 && e->n_indexed > (e->anonymous ? 4u : 3u))
		r = RW_EINVAL;
	if (r == 0)
		r = make_signature(&e->signature, e->name, strlen(e->name), e->inputs);
	if (r < 0) {
		rw_abi_event_free(e);
		return r;
	}
	rw_abi_topic(e->topic, e->signature, strlen(e->signature));
	*ret = e;
	return 0;
}

int rw_abi_event_parse(struct rw_abi_event **ret, const char *s, size_t n)
{
	struct parser p = { s, n, 0 };
	struct param_flags flags = { NULL, 0, 0 };
	struct rw_abi_event *e = calloc(1, sizeof(*e));
	if (!e)
		return RW_ENOMEM;
	int r = parse_name(&p, &e->name);
	if (r == 0)
		r = parse_list(&p, &e->inputs, 1, PARAMS_NAMES | PARAMS_INDEXED, &flags);
	if (r == 0 && skip_lit(&p, " anonymous"))
		e->anonymous = 1;
	if (r == 0 && p.i != n)
		r = RW_EINVAL;
	if (r < 0) {
		free(flags.v);
		rw_abi_event_free(e);
		return r;
	}
	return event_finish(ret, e, &flags);
}

int rw_abi_event_from_json(struct rw_abi_event **ret, const struct json_t *entry)
{
	if (!json_is_object(entry))
		return RW_EINVAL;
	const char *type = json_str(entry, "type");
	const char *name = json_str(entry, "name");
	const json_t *anon = json_object_get(entry, "anonymous");
	if (!type || strcmp(type, "event") != 0 || !name || !*name ||
	    (anon && !json_is_boolean(anon)))
		return RW_EINVAL;
	struct param_flags flags = { NULL, 0, 0 };
	struct rw_abi_event *e = calloc(1, sizeof(*e));
	if (!e)
		return RW_ENOMEM;
	e->anonymous = json_is_true(anon);
	e->name = dup_n(name, strlen(name));
	int r = e->name ? 0 : RW_ENOMEM;
	if (r == 0)
		r = params_from_json(&e->inputs, json_object_get(entry, "inputs"), 1, &flags);
	if (r < 0) {
		free(flags.v);
		rw_abi_event_free(e);
		return r;
	}
	return event_finish(ret, e, &flags);
}

/* Fills the indexed parameters of e from topics (after the signature). */
static int event_topics(struct rw_abi_value *items, const struct rw_abi_event *e,
			const uint8_t (*topics)[32])
{
	size_t k = 0;
	for (size_t i = 0; i < e->inputs->len; i++) {
		if (!e->indexed[i])
			continue;
		const struct rw_abi_type *t = e->inputs->comps[i];
		items[i].type = t;
		if (is_value_kind(t->kind)) {
			int r = dec_leaf(&items[i], t, topics[k]);
			if (r < 0)
				return r;
		} else {
			items[i].flags = RW_ABI_VALUE_HASH;
			memcpy(items[i].hash, topics[k], 32);
		}
		k++;
	}
	return 0;
}

int rw_abi_event_decode(struct rw_abi_value **ret, const struct rw_abi_event *e,
			const uint8_t (*topics)[32], size_t ntopics, const uint8_t *data,
			size_t len)
{
	size_t first = e->anonymous ? 0 : 1;
	if (!e->anonymous && (ntopics < 1 || memcmp(topics[0], e->topic, 32) != 0))
		return RW_ENOTFOUND;
	if (ntopics != first + e->n_indexed)
		return RW_EINVAL;
	const struct rw_abi_type *t = e->inputs;
	struct dec d = { data, len, budget_for(t, len) };
	size_t head = 0;
	for (size_t i = 0; i < t->len; i++)
		if (!e->indexed[i])
			head += t->comps[i]->head;
	if (head > len)
		return RW_ETRUNC;
	struct rw_abi_value *v = calloc(1, sizeof(*v));
	struct rw_abi_value *items = t->len ? calloc(t->len, sizeof(*items)) : NULL;
	if (!v || (t->len && !items)) {
		free(v);
		free(items);
		return RW_ENOMEM;
	}
	int r = ntopics ? event_topics(items, e, topics + first) : 0;
	if (r == 0)
		r = dec_seq(&d, items, t, t->len, 0, e->indexed, 1);
	if (r < 0) {
		free(items);
		free(v);
		return r;
	}
	v->type = t;
	v->list.items = items;
	v->list.n = t->len;
	*ret = v;
	return 0;
}
