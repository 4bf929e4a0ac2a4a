/* test_abi.c: the Solidity ABI codec.
 *
 * The examples of the Solidity ABI specification (tests/vectors/
 * abi_spec.txt), selectors and topics (abi_selectors.txt), a few hundred
 * random round trips generated with ethers (abi_random.txt, by
 * gen_abi.mjs), type parsing, JSON ABI entries (inline and the project's
 * abi/ artifacts), event logs, the call-site helpers, and every rejection
 * with its error code. */
#include "testlib.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "config.h"
#include "err.h"
#include "hex.h"
#include "keccak.h"

/* --- helpers ----------------------------------------------------------- */

static struct rw_abi_type *type_of(const char *s)
{
	struct rw_abi_type *t = NULL;
	int r = rw_abi_type_parse(&t, s, strlen(s));
	if (r < 0)
		fail_msg("cannot parse type %s: %s", s, rw_strerror(r));
	return t;
}

static void buf_new(struct rw_buf *b)
{
	rw_buf_init(b, RW_BUF_DEFAULT_MAX);
}

/* Writes a 256-bit big-endian word into a u256 (the test does not rely on
 * u256.c). */
static void word_to_u256(rw_u256 *u, const uint8_t w[32])
{
	memset(u, 0, sizeof(*u));
	for (size_t i = 0; i < 32; i++)
		u->w[i / 8] |= (uint64_t)w[31 - i] << (8 * (i % 8));
}

static rw_u256 u256_small(uint64_t v)
{
	rw_u256 u = { { v, 0, 0, 0 } };
	return u;
}

/* Returns a 32-byte word: `fill` everywhere, then the hex text at the end. */
static void word_hex(uint8_t w[32], uint8_t fill, const char *tail_hex)
{
	size_t n;
	uint8_t *t = tl_unhex(tail_hex, &n);
	assert_true(n <= 32);
	memset(w, fill, 32);
	memcpy(w + 32 - n, t, n);
	free(t);
}

/* --- the value notation of the vector files ---------------------------- */

/* Length of the token at s (up to ',', ']' or the end). */
static size_t token_len(const char *s)
{
	size_t n = 0;
	while (s[n] && s[n] != ',' && s[n] != ']')
		n++;
	return n;
}

/* Parses 0x-hex (or "text") at *s into a fresh buffer. */
static uint8_t *parse_blob(const char **s, size_t *ret_len)
{
	if (**s == '"') {
		const char *end = strchr(*s + 1, '"');
		assert_non_null(end);
		size_t n = (size_t)(end - *s - 1);
		uint8_t *p = malloc(n ? n : 1);
		assert_non_null(p);
		memcpy(p, *s + 1, n);
		*s = end + 1;
		*ret_len = n;
		return p;
	}
	size_t n = token_len(*s);
	char *tmp = malloc(n + 1);
	assert_non_null(tmp);
	memcpy(tmp, *s, n);
	tmp[n] = '\0';
	uint8_t *p = tl_unhex(tmp, ret_len);
	free(tmp);
	*s += n;
	return p;
}

/* Parses [-]0x<hex> at *s into a two's complement 256-bit integer. */
static void parse_int(const char **s, rw_u256 *ret)
{
	int neg = **s == '-';
	if (neg)
		(*s)++;
	assert_true((*s)[0] == '0' && (*s)[1] == 'x');
	*s += 2;
	size_t n = token_len(*s);
	assert_true(n >= 1 && n <= 64);
	char tmp[66] = "0";
	memcpy(tmp + (n % 2), *s, n); /* left-pad an odd digit count */
	tmp[n + n % 2] = '\0';
	uint8_t w[32];
	word_hex(w, 0, tmp);
	*s += n;
	if (neg) {
		unsigned carry = 1;
		for (size_t i = 32; i-- > 0;) {
			unsigned b = (uint8_t)~w[i] + carry;
			w[i] = (uint8_t)b;
			carry = b >> 8;
		}
	}
	word_to_u256(ret, w);
}

static void parse_value(const struct rw_abi_type *t, const char **s, struct rw_abi_value *v);

static void parse_items(const struct rw_abi_type *t, const char **s, struct rw_abi_value *v)
{
	assert_int_equal(**s, '[');
	(*s)++;
	size_t cap = 4, n = 0;
	struct rw_abi_value *items = calloc(cap, sizeof(*items));
	assert_non_null(items);
	while (**s != ']') {
		if (n == cap) {
			cap *= 2;
			items = realloc(items, cap * sizeof(*items));
			assert_non_null(items);
		}
		memset(&items[n], 0, sizeof(items[n]));
		parse_value(t->kind == RW_ABI_TUPLE ? t->comps[n] : t->elem, s, &items[n]);
		n++;
		if (**s == ',')
			(*s)++;
		else
			assert_int_equal(**s, ']');
	}
	(*s)++;
	v->list.items = items;
	v->list.n = n;
}

/* Parses one value of type t at *s into v (a tree rw_abi_value_free frees:
 * lists, and bytes marked OWNED). */
static void parse_value(const struct rw_abi_type *t, const char **s, struct rw_abi_value *v)
{
	size_t n;
	uint8_t *p;
	memset(v, 0, sizeof(*v));
	v->type = t;
	switch (t->kind) {
	case RW_ABI_UINT:
	case RW_ABI_INT: parse_int(s, &v->u); break;
	case RW_ABI_BOOL:
		if (strncmp(*s, "true", 4) == 0) {
			v->b = 1;
			*s += 4;
		} else {
			assert_int_equal(strncmp(*s, "false", 5), 0);
			*s += 5;
		}
		break;
	case RW_ABI_ADDRESS:
		p = parse_blob(s, &n);
		assert_int_equal(n, 20);
		memcpy(v->addr, p, 20);
		free(p);
		break;
	case RW_ABI_FIXED_BYTES:
		p = parse_blob(s, &n);
		assert_int_equal(n, t->size);
		memcpy(v->fixed, p, n);
		free(p);
		break;
	case RW_ABI_BYTES:
	case RW_ABI_STRING:
		v->bytes.p = parse_blob(s, &v->bytes.len);
		v->flags = RW_ABI_VALUE_OWNED;
		break;
	default: parse_items(t, s, v);
	}
}

/* Parses a whole value text of type t into a heap tree. */
static struct rw_abi_value *value_of(const struct rw_abi_type *t, const char *text)
{
	struct rw_abi_value *v = malloc(sizeof(*v));
	assert_non_null(v);
	const char *s = text;
	parse_value(t, &s, v);
	if (*s)
		fail_msg("trailing text in value: %s", s);
	return v;
}

/* Splits a vector line at tabs into fields (in place); returns the count. */
static size_t fields(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *save = NULL;
	for (char *t = strtok_r(line, "\t", &save); t && n < max; t = strtok_r(NULL, "\t", &save))
		f[n++] = t;
	return n;
}

/* Encodes v with t, compares with hex, decodes back and compares values,
 * re-encodes the decoded tree. */
static void check_round_trip(const struct rw_abi_type *t, const struct rw_abi_value *v,
			     const char *hex)
{
	struct rw_buf b;
	buf_new(&b);
	assert_int_equal(rw_abi_encode(&b, t, v), 0);
	tl_assert_hex(b.p, b.len, hex);

	struct rw_abi_value *d = NULL;
	assert_int_equal(rw_abi_decode(&d, t, b.p, b.len), 0);
	assert_true(rw_abi_value_eq(t, v, d));
	struct rw_buf b2;
	buf_new(&b2);
	assert_int_equal(rw_abi_encode(&b2, t, d), 0);
	assert_int_equal(b2.len, b.len);
	assert_memory_equal(b2.p, b.p, b.len);
	rw_abi_value_free(d);
	rw_buf_free(&b2);
	rw_buf_free(&b);
}

/* Decodes hex with the type text; returns rw_abi_decode's result. */
static int decode_hex(const char *type, const char *hex)
{
	struct rw_abi_type *t = type_of(type);
	size_t n;
	uint8_t *in = tl_unhex(hex, &n);
	struct rw_abi_value *v = NULL;
	int r = rw_abi_decode(&v, t, in, n);
	if (r == 0)
		rw_abi_value_free(v);
	else
		assert_null(v);
	free(in);
	rw_abi_type_free(t);
	return r;
}

/* Hex of one 32-byte word holding the small number v. */
static const char *w(uint64_t v)
{
	static char ring[16][65];
	static unsigned k;
	char *s = ring[k++ % 16];
	snprintf(s, 65, "%064llx", (unsigned long long)v);
	return s;
}

#define Z  "0000000000000000000000000000000000000000000000000000000000000000"
#define FF "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

/* Concatenates up to 6 hex pieces (NULL for none) into a static buffer. */
static const char *cat(const char *a, const char *b, const char *c, const char *d, const char *e,
		       const char *f)
{
	static char out[8][1024];
	static unsigned k;
	char tmp[1024];
	/* Built aside: the pieces may be earlier results from the same ring. */
	snprintf(tmp, sizeof(tmp), "%s%s%s%s%s%s", a, b ? b : "", c ? c : "", d ? d : "",
		 e ? e : "", f ? f : "");
	char *s = out[k++ % 8];
	memcpy(s, tmp, sizeof(tmp));
	return s;
}

/* --- published vectors ------------------------------------------------- */

static void spec_examples(void **state)
{
	(void)state;
	char *text = tl_read_vector("abi_spec.txt", NULL);
	char *lines[64];
	size_t n = tl_lines(text, lines, 64);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++) {
		char *f[4];
		assert_int_equal(fields(lines[i], f, 4), 4);
		struct rw_abi_func *fn = NULL;
		assert_int_equal(rw_abi_func_parse(&fn, f[0], strlen(f[0])), 0);
		assert_string_equal(fn->signature, f[1]);
		struct rw_abi_value *v = value_of(fn->inputs, f[2]);

		struct rw_buf b;
		buf_new(&b);
		assert_int_equal(rw_abi_func_encode(&b, fn, v->list.items, v->list.n), 0);
		tl_assert_hex(b.p, b.len, f[3]);
		char sel_hex[9];
		memcpy(sel_hex, f[3] + 2, 8);
		sel_hex[8] = '\0';
		tl_assert_hex(fn->selector, 4, sel_hex);

		struct rw_abi_value *d = NULL;
		assert_int_equal(rw_abi_func_decode_input(&d, fn, b.p, b.len), 0);
		assert_true(rw_abi_value_eq(fn->inputs, v, d));
		rw_abi_value_free(d);
		/* Another selector is refused. */
		b.p[0] ^= 1;
		assert_int_equal(rw_abi_func_decode_input(&d, fn, b.p, b.len), RW_ENOTFOUND);
		assert_int_equal(rw_abi_func_decode_input(&d, fn, b.p, 3), RW_ETRUNC);

		rw_buf_free(&b);
		rw_abi_value_free(v);
		rw_abi_func_free(fn);
	}
	free(text);
}

static void selectors_and_topics(void **state)
{
	(void)state;
	char *text = tl_read_vector("abi_selectors.txt", NULL);
	char *lines[64];
	size_t n = tl_lines(text, lines, 64);
	assert_true(n >= 11);
	for (size_t i = 0; i < n; i++) {
		char *f[2];
		assert_int_equal(fields(lines[i], f, 2), 2);
		size_t hexlen = strlen(f[1]) - 2;
		if (hexlen == 8) {
			uint8_t sel[4];
			rw_abi_selector(sel, f[0], strlen(f[0]));
			tl_assert_hex(sel, 4, f[1]);
			/* The parsed function computes the same selector. */
			struct rw_abi_func *fn = NULL;
			assert_int_equal(rw_abi_func_parse(&fn, f[0], strlen(f[0])), 0);
			assert_string_equal(fn->signature, f[0]);
			tl_assert_hex(fn->selector, 4, f[1]);
			rw_abi_func_free(fn);
		} else {
			assert_int_equal(hexlen, 64);
			uint8_t topic[32];
			rw_abi_topic(topic, f[0], strlen(f[0]));
			tl_assert_hex(topic, 32, f[1]);
			struct rw_abi_event *e = NULL;
			assert_int_equal(rw_abi_event_parse(&e, f[0], strlen(f[0])), 0);
			tl_assert_hex(e->topic, 32, f[1]);
			rw_abi_event_free(e);
		}
	}
	free(text);
}

/* --- random round trips against ethers --------------------------------- */

static void random_vs_ethers(void **state)
{
	(void)state;
	char *text = tl_read_vector("abi_random.txt", NULL);
	static char *lines[4096];
	size_t n = tl_lines(text, lines, 4096);
	assert_true(n >= 300);
	for (size_t i = 0; i < n; i++) {
		char *f[3];
		assert_int_equal(fields(lines[i], f, 3), 3);
		struct rw_abi_type *t = type_of(f[0]);
		/* The canonical text is the text ethers was given. */
		struct rw_buf b;
		buf_new(&b);
		assert_int_equal(rw_abi_type_format(&b, t), 0);
		assert_int_equal(b.len, strlen(f[0]));
		assert_memory_equal(b.p, f[0], b.len);
		rw_buf_free(&b);

		struct rw_abi_value *v = value_of(t, f[1]);
		check_round_trip(t, v, f[2]);
		/* Every truncation of the encoding is refused (sampled). */
		size_t len;
		uint8_t *in = tl_unhex(f[2], &len);
		for (size_t cut = 0; cut < len; cut += 31) {
			struct rw_abi_value *d = NULL;
			int r = rw_abi_decode(&d, t, in, cut);
			if (r == 0) {
				/* Only when the cut leaves the static head
				 * intact and the tails are not needed. */
				rw_abi_value_free(d);
				continue;
			}
			assert_int_equal(r, RW_ETRUNC);
		}
		free(in);
		rw_abi_value_free(v);
		rw_abi_type_free(t);
	}
	free(text);
}

/* --- types ------------------------------------------------------------- */

static void type_parse_canonical(void **state)
{
	(void)state;
	static const char *const same[] = {
		"uint8",
		"uint256",
		"int8",
		"int136",
		"address",
		"bool",
		"bytes1",
		"bytes32",
		"bytes",
		"string",
		"uint256[]",
		"uint8[3]",
		"()",
		"(uint256)",
		"(address,uint256[])[]",
		"(uint256,bytes)[2][]",
		"string[][]",
		"((int8,(bool)),bytes7[1][])",
		"bytes32[2][3][]",
	};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		struct rw_abi_type *t = type_of(same[i]);
		struct rw_buf b;
		buf_new(&b);
		assert_int_equal(rw_abi_type_format(&b, t), 0);
		assert_int_equal(b.len, strlen(same[i]));
		assert_memory_equal(b.p, same[i], b.len);
		rw_buf_free(&b);
		rw_abi_type_free(t);
	}
	static const char *const alias[][2] = {
		{ "uint", "uint256" },
		{ "int", "int256" },
		{ "uint[]", "uint256[]" },
		{ "(uint,int)", "(uint256,int256)" },
	};
	for (size_t i = 0; i < sizeof(alias) / sizeof(alias[0]); i++) {
		struct rw_abi_type *t = type_of(alias[i][0]);
		struct rw_buf b;
		buf_new(&b);
		assert_int_equal(rw_abi_type_format(&b, t), 0);
		assert_int_equal(b.len, strlen(alias[i][1]));
		assert_memory_equal(b.p, alias[i][1], b.len);
		rw_buf_free(&b);
		rw_abi_type_free(t);
	}
}

static void type_parse_derived(void **state)
{
	(void)state;
	struct rw_abi_type *t = type_of("(uint256,bytes)[2][]");
	assert_int_equal(t->kind, RW_ABI_ARRAY);
	assert_true(t->dynamic);
	assert_int_equal(t->head, 32);
	assert_int_equal(t->depth, 4);
	assert_int_equal(t->elem->kind, RW_ABI_FIXED_ARRAY);
	assert_int_equal(t->elem->len, 2);
	assert_int_equal(t->elem->elem->kind, RW_ABI_TUPLE);
	assert_int_equal(t->elem->elem->len, 2);
	rw_abi_type_free(t);
	t = type_of("(uint8,bytes3[2],(bool,address))");
	assert_false(t->dynamic);
	assert_int_equal(t->head, 32 * 5);
	rw_abi_type_free(t);
	t = type_of("int72");
	assert_int_equal(t->kind, RW_ABI_INT);
	assert_int_equal(t->size, 72);
	rw_abi_type_free(t);
}

static void type_parse_rejects(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int err;
	} bad[] = {
		{ "", RW_EINVAL },
		{ "uint7", RW_EINVAL },
		{ "uint0", RW_EINVAL },
		{ "uint264", RW_EINVAL },
		{ "uint08", RW_EINVAL },
		{ "int", 0 },
		{ "bytes0", RW_EINVAL },
		{ "bytes33", RW_EINVAL },
		{ "bytes01", RW_EINVAL },
		{ "address20", RW_EINVAL },
		{ "bool8", RW_EINVAL },
		{ "Uint256", RW_EINVAL },
		{ "uint256 ", RW_EINVAL },
		{ " uint256", RW_EINVAL },
		{ "uint256[", RW_EINVAL },
		{ "uint256]", RW_EINVAL },
		{ "uint256[01]", RW_EINVAL },
		{ "uint256[-1]", RW_EINVAL },
		{ "uint256[x]", RW_EINVAL },
		{ "(uint256", RW_EINVAL },
		{ "(uint256,)", RW_EINVAL },
		{ "(,uint256)", RW_EINVAL },
		{ "(uint256 a)", RW_EINVAL },
		{ "tuple", RW_EINVAL },
		{ "(uint256))", RW_EINVAL },
		{ "fixed128x18", RW_EUNSUPPORTED },
		{ "ufixed", RW_EUNSUPPORTED },
		{ "function", RW_EUNSUPPORTED },
		{ "uint256[0]", RW_EUNSUPPORTED },
		{ "()[]", RW_EUNSUPPORTED },
		{ "()[2]", RW_EUNSUPPORTED },
		{ "uint256[99999999999999999999999]", RW_ETOOBIG },
		{ "uint256[1073741824]", RW_ETOOBIG },
		{ "uint256[33554432]", 0 },
		{ "uint256[33554433]", RW_ETOOBIG },
		{ "uint256[33554432][2]", RW_ETOOBIG },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rw_abi_type *t = (struct rw_abi_type *)&bad;
		int r = rw_abi_type_parse(&t, bad[i].s, strlen(bad[i].s));
		if (r != bad[i].err)
			fail_msg("type \"%s\": got %d, want %d", bad[i].s, r, bad[i].err);
		if (r == 0)
			rw_abi_type_free(t);
		else
			assert_ptr_equal(t, (struct rw_abi_type *)&bad); /* untouched */
	}
}

static void type_depth_limit(void **state)
{
	(void)state;
	char s[512];
	/* uint256 followed by k "[]": depth k + 1. */
	for (int k = 30; k <= 40; k++) {
		strcpy(s, "uint256");
		for (int i = 0; i < k; i++)
			strcat(s, "[]");
		struct rw_abi_type *t = NULL;
		int r = rw_abi_type_parse(&t, s, strlen(s));
		assert_int_equal(r, k + 1 <= RW_ABI_MAX_DEPTH ? 0 : RW_ETOOBIG);
		rw_abi_type_free(t);
	}
	/* Nested tuples, far past the limit, fail fast without recursing. */
	size_t n = 0;
	for (int i = 0; i < 200; i++)
		s[n++] = '(';
	memcpy(s + n, "bool", 4);
	n += 4;
	for (int i = 0; i < 200; i++)
		s[n++] = ')';
	struct rw_abi_type *t = NULL;
	assert_int_equal(rw_abi_type_parse(&t, s, n), RW_ETOOBIG);
	assert_null(t);
}

static void type_from_json_tuples(void **state)
{
	(void)state;
	json_error_t err;
	json_t *j = json_loads("{\"name\":\"orders\",\"type\":\"tuple[2][]\",\"components\":["
			       "{\"name\":\"maker\",\"type\":\"address\"},"
			       "{\"name\":\"legs\",\"type\":\"tuple[]\",\"components\":["
			       "{\"name\":\"amount\",\"type\":\"uint256\"},"
			       "{\"name\":\"memo\",\"type\":\"bytes\"}]}]}",
			       0, &err);
	assert_non_null(j);
	struct rw_abi_type *t = NULL;
	assert_int_equal(rw_abi_type_from_json(&t, j), 0);
	struct rw_buf b;
	buf_new(&b);
	assert_int_equal(rw_abi_type_format(&b, t), 0);
	const char *want = "(address,(uint256,bytes)[])[2][]";
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.p, want, b.len);
	rw_buf_free(&b);
	const struct rw_abi_type *tup = t->elem->elem;
	assert_non_null(tup->names);
	assert_string_equal(tup->names[0], "maker");
	assert_string_equal(tup->names[1], "legs");
	assert_string_equal(tup->comps[1]->elem->names[1], "memo");
	rw_abi_type_free(t);
	json_decref(j);

	static const char *const bad[] = {
		"{\"type\":\"tuple\"}",
		"{\"type\":\"tuple\",\"components\":{}}",
		"{\"type\":5}",
		"{\"name\":\"x\"}",
		"{\"type\":\"tuplex\",\"components\":[]}",
		"{\"type\":\"tuple\",\"components\":[{\"type\":\"uint7\"}]}",
		"{\"type\":\"tuple\",\"components\":[{\"type\":\"uint8\",\"name\":3}]}",
		"[]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = json_loads(bad[i], JSON_DECODE_ANY, &err);
		assert_non_null(j);
		t = NULL;
		assert_int_equal(rw_abi_type_from_json(&t, j), RW_EINVAL);
		assert_null(t);
		json_decref(j);
	}
}

/* --- functions and events from JSON ------------------------------------ */

static void func_from_json(void **state)
{
	(void)state;
	json_error_t err;
	json_t *j = json_loads(
		"{\"type\":\"function\",\"name\":\"settle\",\"stateMutability\":\"nonpayable\","
		"\"inputs\":[{\"name\":\"batch\",\"type\":\"tuple[]\",\"components\":["
		"{\"name\":\"to\",\"type\":\"address\"},{\"name\":\"ids\",\"type\":\"uint256[]\"}]}"
		","
		"{\"name\":\"note\",\"type\":\"string\"}],"
		"\"outputs\":[{\"name\":\"\",\"type\":\"bool\"}]}",
		0, &err);
	assert_non_null(j);
	struct rw_abi_func *f = NULL;
	assert_int_equal(rw_abi_func_from_json(&f, j), 0);
	assert_string_equal(f->name, "settle");
	assert_string_equal(f->signature, "settle((address,uint256[])[],string)");
	uint8_t sel[4];
	rw_abi_selector(sel, f->signature, strlen(f->signature));
	assert_memory_equal(sel, f->selector, 4);
	assert_string_equal(f->inputs->names[0], "batch");
	assert_int_equal(f->outputs->len, 1);
	assert_int_equal(f->outputs->comps[0]->kind, RW_ABI_BOOL);
	/* Outputs decode: true. */
	uint8_t ret[32] = { 0 };
	ret[31] = 1;
	struct rw_abi_value *v = NULL;
	assert_int_equal(rw_abi_func_decode_output(&v, f, ret, 32), 0);
	assert_int_equal(v->list.n, 1);
	assert_int_equal(v->list.items[0].b, 1);
	rw_abi_value_free(v);
	rw_abi_func_free(f);
	json_decref(j);

	/* A custom error entry: its selector starts the revert data. */
	j = json_loads("{\"type\":\"error\",\"name\":\"InsufficientBalance\",\"inputs\":["
		       "{\"name\":\"available\",\"type\":\"uint256\"},"
		       "{\"name\":\"required\",\"type\":\"uint256\"}]}",
		       0, &err);
	assert_non_null(j);
	f = NULL;
	assert_int_equal(rw_abi_func_from_json(&f, j), 0);
	assert_string_equal(f->signature, "InsufficientBalance(uint256,uint256)");
	tl_assert_hex(f->selector, 4, "cf479181");
	assert_int_equal(f->outputs->len, 0);
	rw_abi_func_free(f);
	json_decref(j);
	/* The standard revert reason, Error(string). */
	assert_int_equal(rw_abi_func_parse(&f, "Error(string)", 13), 0);
	tl_assert_hex(f->selector, 4, "08c379a0");
	size_t rlen;
	uint8_t *revert = tl_unhex(
		cat("08c379a0", w(0x20), w(4),
		    "6e6f706500000000000000000000000000000000000000000000000000000000", NULL, NULL),
		&rlen);
	v = NULL;
	assert_int_equal(rw_abi_func_decode_input(&v, f, revert, rlen), 0);
	assert_int_equal(v->list.items[0].bytes.len, 4);
	assert_memory_equal(v->list.items[0].bytes.p, "nope", 4);
	rw_abi_value_free(v);
	free(revert);
	rw_abi_func_free(f);

	/* Not functions. */
	static const char *const bad[] = {
		"{\"type\":\"event\",\"name\":\"X\",\"inputs\":[]}",
		"{\"type\":\"function\",\"inputs\":[]}",
		"{\"type\":\"function\",\"name\":\"\",\"inputs\":[]}",
		"{\"type\":\"function\",\"name\":\"f\",\"inputs\":{}}",
		"{\"type\":\"function\",\"name\":\"f\",\"inputs\":[{\"type\":\"bytes33\"}]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = json_loads(bad[i], 0, &err);
		assert_non_null(j);
		f = NULL;
		assert_int_equal(rw_abi_func_from_json(&f, j), RW_EINVAL);
		assert_null(f);
		json_decref(j);
	}
}

/* Every function and event of the project's contract artifacts builds, and
 * the token's events have the ERC-20 topics. */
static void project_artifacts(void **state)
{
	(void)state;
	static const char *const files[] = { "Application", "Balance", "Marketplace", "TestToken",
					     "ValidatorNodeProvider" };
	size_t funcs = 0, events = 0;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/abi/%s.json", RUNWAY_SOURCE_ROOT, files[i]);
		json_error_t err;
		json_t *root = json_load_file(path, 0, &err);
		if (!root)
			fail_msg("cannot load %s: %s", path, err.text);
		json_t *abi = json_is_array(root) ? root : json_object_get(root, "abi");
		assert_true(json_is_array(abi));
		size_t k;
		json_t *entry;
		json_array_foreach(abi, k, entry)
		{
			const char *type = json_string_value(json_object_get(entry, "type"));
			if (type && strcmp(type, "function") == 0) {
				struct rw_abi_func *f = NULL;
				assert_int_equal(rw_abi_func_from_json(&f, entry), 0);
				rw_abi_func_free(f);
				funcs++;
			} else if (type && strcmp(type, "event") == 0) {
				struct rw_abi_event *e = NULL;
				assert_int_equal(rw_abi_event_from_json(&e, entry), 0);
				if (strcmp(e->name, "Transfer") == 0)
					tl_assert_hex(e->topic, 32,
						      "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4"
						      "a11628f55a4df523b3ef");
				if (strcmp(e->name, "Approval") == 0)
					tl_assert_hex(e->topic, 32,
						      "8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2"
						      "291e5b200ac8c7c3b925");
				rw_abi_event_free(e);
				events++;
			}
		}
		json_decref(root);
	}
	assert_true(funcs > 0);
	assert_true(events > 0);
}

/* --- events ------------------------------------------------------------ */

static const char *const FROM = "000000000000000000000000a1b2c3d4e5f60718293a4b5c6d7e8f9001122334";
static const char *const TO = "0000000000000000000000000102030405060708090a0b0c0d0e0f1011121314";

/* Builds n topics from hex words. */
static uint8_t (*topics_of(const char *const *hex, size_t n))[32]
{
	uint8_t(*t)[32] = calloc(n ? n : 1, 32);
	assert_non_null(t);
	for (size_t i = 0; i < n; i++)
		word_hex(t[i], 0, hex[i]);
	return t;
}

static void check_transfer(const struct rw_abi_event *e)
{
	const char *th[] = { "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
			     FROM, TO };
	uint8_t(*topics)[32] = topics_of(th, 3);
	size_t dlen;
	uint8_t *data =
		tl_unhex("00000000000000000000000000000000000000000000000000000000000f4240", &dlen);
	struct rw_abi_value *v = NULL;
	assert_int_equal(rw_abi_event_decode(&v, e, (const uint8_t(*)[32])topics, 3, data, dlen),
			 0);
	assert_int_equal(v->list.n, 3);
	tl_assert_hex(v->list.items[0].addr, 20, "a1b2c3d4e5f60718293a4b5c6d7e8f9001122334");
	tl_assert_hex(v->list.items[1].addr, 20, "0102030405060708090a0b0c0d0e0f1011121314");
	rw_u256 want = u256_small(1000000);
	assert_memory_equal(&v->list.items[2].u, &want, sizeof(want));
	assert_int_equal(v->list.items[0].flags, 0);
	rw_abi_value_free(v);

	/* Not this event: another topics[0], or no topics at all. */
	topics[0][0] ^= 1;
	v = NULL;
	assert_int_equal(rw_abi_event_decode(&v, e, (const uint8_t(*)[32])topics, 3, data, dlen),
			 RW_ENOTFOUND);
	assert_int_equal(rw_abi_event_decode(&v, e, NULL, 0, data, dlen), RW_ENOTFOUND);
	topics[0][0] ^= 1;
	/* Wrong number of topics (an ERC-721 Transfer has 4). */
	assert_int_equal(rw_abi_event_decode(&v, e, (const uint8_t(*)[32])topics, 2, data, dlen),
			 RW_EINVAL);
	/* Dirty indexed address. */
	topics[1][0] = 1;
	assert_int_equal(rw_abi_event_decode(&v, e, (const uint8_t(*)[32])topics, 3, data, dlen),
			 RW_EDIRTY);
	topics[1][0] = 0;
	/* Data too short for the amount. */
	assert_int_equal(rw_abi_event_decode(&v, e, (const uint8_t(*)[32])topics, 3, data, 31),
			 RW_ETRUNC);
	assert_null(v);
	free(data);
	free(topics);
}

static void event_erc20_transfer(void **state)
{
	(void)state;
	const char *sig = "Transfer(address indexed from,address indexed to,uint256 value)";
	struct rw_abi_event *e = NULL;
	assert_int_equal(rw_abi_event_parse(&e, sig, strlen(sig)), 0);
	assert_string_equal(e->signature, "Transfer(address,address,uint256)");
	assert_int_equal(e->n_indexed, 2);
	assert_string_equal(e->inputs->names[2], "value");
	check_transfer(e);
	rw_abi_event_free(e);

	json_error_t err;
	json_t *j = json_loads(
		"{\"anonymous\":false,\"type\":\"event\",\"name\":\"Transfer\",\"inputs\":["
		"{\"indexed\":true,\"name\":\"from\",\"type\":\"address\"},"
		"{\"indexed\":true,\"name\":\"to\",\"type\":\"address\"},"
		"{\"indexed\":false,\"name\":\"value\",\"type\":\"uint256\"}]}",
		0, &err);
	assert_non_null(j);
	e = NULL;
	assert_int_equal(rw_abi_event_from_json(&e, j), 0);
	check_transfer(e);
	rw_abi_event_free(e);
	json_decref(j);
}

static void event_indexed_string(void **state)
{
	(void)state;
	const char *sig = "Note(string indexed tag,string text,uint256[] indexed ids,bool ok)";
	struct rw_abi_event *e = NULL;
	assert_int_equal(rw_abi_event_parse(&e, sig, strlen(sig)), 0);
	assert_string_equal(e->signature, "Note(string,string,uint256[],bool)");

	uint8_t tag_hash[32], ids_hash[32];
	rw_keccak256(tag_hash, "billing", 7);
	memset(ids_hash, 0x5a, 32);
	uint8_t topics[3][32];
	memcpy(topics[0], e->topic, 32);
	memcpy(topics[1], tag_hash, 32);
	memcpy(topics[2], ids_hash, 32);
	/* data: (string text, bool ok) = ("hello", true) */
	const char *hex =
		cat(w(0x40), w(1), w(5),
		    "68656c6c6f000000000000000000000000000000000000000000000000000000", NULL, NULL);
	size_t dlen;
	uint8_t *data = tl_unhex(hex, &dlen);
	struct rw_abi_value *v = NULL;
	assert_int_equal(rw_abi_event_decode(&v, e, (const uint8_t(*)[32])topics, 3, data, dlen),
			 0);
	assert_int_equal(v->list.n, 4);
	assert_int_equal(v->list.items[0].flags, RW_ABI_VALUE_HASH);
	assert_memory_equal(v->list.items[0].hash, tag_hash, 32);
	assert_int_equal(v->list.items[1].flags, 0);
	assert_int_equal(v->list.items[1].bytes.len, 5);
	assert_memory_equal(v->list.items[1].bytes.p, "hello", 5);
	assert_ptr_equal(v->list.items[1].bytes.p, data + 96); /* points into the input */
	assert_int_equal(v->list.items[2].flags, RW_ABI_VALUE_HASH);
	assert_memory_equal(v->list.items[2].hash, ids_hash, 32);
	assert_int_equal(v->list.items[3].b, 1);
	/* A hash cannot be encoded back. */
	struct rw_buf b;
	buf_new(&b);
	assert_int_equal(rw_abi_encode(&b, e->inputs, v), RW_EINVAL);
	assert_int_equal(b.len, 0);
	rw_buf_free(&b);
	rw_abi_value_free(v);

	/* Dirty string padding in data; a bad offset. */
	data[96 + 31] = 1;
	v = NULL;
	assert_int_equal(rw_abi_event_decode(&v, e, (const uint8_t(*)[32])topics, 3, data, dlen),
			 RW_EDIRTY);
	data[96 + 31] = 0;
	data[31] = 0xff;
	assert_int_equal(rw_abi_event_decode(&v, e, (const uint8_t(*)[32])topics, 3, data, dlen),
			 RW_ETRUNC);
	assert_null(v);
	free(data);
	rw_abi_event_free(e);
}

static void event_anonymous_and_limits(void **state)
{
	(void)state;
	const char *sig =
		"Tick(uint8 indexed a,int16 indexed b,bytes4 indexed c,bool indexed d) anonymous";
	struct rw_abi_event *e = NULL;
	assert_int_equal(rw_abi_event_parse(&e, sig, strlen(sig)), 0);
	assert_true(e->anonymous);
	assert_int_equal(e->n_indexed, 4);
	const char *th[] = { w(7), FF,
			     "deadbeef00000000000000000000000000000000000000000000000000000000",
			     w(0) };
	uint8_t(*topics)[32] = topics_of(th, 4);
	struct rw_abi_value *v = NULL;
	assert_int_equal(rw_abi_event_decode(&v, e, (const uint8_t(*)[32])topics, 4, NULL, 0), 0);
	rw_u256 seven = u256_small(7);
	assert_memory_equal(&v->list.items[0].u, &seven, sizeof(seven));
	rw_u256 minus1;
	memset(&minus1, 0xff, sizeof(minus1));
	assert_memory_equal(&v->list.items[1].u, &minus1, sizeof(minus1));
	tl_assert_hex(v->list.items[2].fixed, 4, "deadbeef");
	assert_int_equal(v->list.items[3].b, 0);
	rw_abi_value_free(v);
	/* Dirty topics for each value type. */
	const char *dirty[4][4] = {
		{ w(0x100), FF, th[2], th[3] },
		{ th[0], cat("00", &FF[2], NULL, NULL, NULL, NULL), th[2], th[3] },
		{ th[0], th[1], "deadbeef01000000000000000000000000000000000000000000000000000000",
		  th[3] },
		{ th[0], th[1], th[2], w(2) },
	};
	for (size_t i = 0; i < 4; i++) {
		uint8_t(*dt)[32] = topics_of(dirty[i], 4);
		v = NULL;
		assert_int_equal(rw_abi_event_decode(&v, e, (const uint8_t(*)[32])dt, 4, NULL, 0),
				 RW_EDIRTY);
		assert_null(v);
		free(dt);
	}
	free(topics);
	rw_abi_event_free(e);

	/* Four indexed parameters need "anonymous"; names are optional. */
	const char *four = "X(uint8 indexed,uint8 indexed,uint8 indexed,uint8 indexed)";
	e = NULL;
	assert_int_equal(rw_abi_event_parse(&e, four, strlen(four)), RW_EINVAL);
	assert_null(e);
	static const char *const bad[] = {
		"X(uint8 a b)",  "X(uint8 indexed indexed)", "X(uint8  a)", "(uint8)",
		"X(uint8) anon", "X(uint8 a indexed)",       "X(uint8,)",   "X",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rw_abi_event_parse(&e, bad[i], strlen(bad[i])) != RW_EINVAL)
			fail_msg("event \"%s\" accepted", bad[i]);
	}
	assert_null(e);
}

/* --- call-site helpers ------------------------------------------------- */

static void helpers(void **state)
{
	(void)state;
	uint8_t to[20];
	for (int i = 0; i < 20; i++)
		to[i] = (uint8_t)(0x11 * (i % 15 + 1));
	rw_u256 amount = u256_small(1000000000000000000ULL);
	struct rw_abi_value args[2] = { rw_abi_val_address(to), rw_abi_val_uint256(&amount) };
	uint8_t sel[4];
	rw_abi_selector(sel, "transfer(address,uint256)", 25);
	struct rw_buf b;
	buf_new(&b);
	assert_int_equal(rw_abi_encode_call(&b, sel, args, 2), 0);
	tl_assert_hex(b.p, b.len,
		      "a9059cbb"
		      "000000000000000000000000112233445566778899aabbccddeeff1122334455"
		      "0000000000000000000000000000000000000000000000000de0b6b3a7640000");
	rw_buf_free(&b);

	/* Dynamic helpers: (bool, bytes32, string, bytes). */
	uint8_t b32[32];
	memset(b32, 0xab, 32);
	struct rw_abi_value more[4] = { rw_abi_val_bool(1), rw_abi_val_bytes32(b32),
					rw_abi_val_string("runway", 6), rw_abi_val_bytes(NULL, 0) };
	buf_new(&b);
	assert_int_equal(rw_abi_encode_call(&b, sel, more, 4), 0);
	tl_assert_hex(b.p + 4, b.len - 4,
		      cat(w(1), "abababababababababababababababababababababababababababababababab",
			  w(0x80), w(0xc0), w(6),
			  cat("72756e7761790000000000000000000000000000000000000000000000000000",
			      w(0), NULL, NULL, NULL, NULL)));
	/* A missing type is refused and the buffer left as it was. */
	more[1].type = NULL;
	size_t len = b.len;
	assert_int_equal(rw_abi_encode_call(&b, sel, more, 4), RW_EINVAL);
	assert_int_equal(b.len, len);
	rw_buf_free(&b);

	/* Single return values. */
	uint8_t word[40];
	memset(word, 0, sizeof(word));
	word[31] = 1;
	word[35] = 0xee; /* bytes after the first word are ignored */
	rw_u256 u = u256_small(99);
	assert_int_equal(rw_abi_decode_uint256(&u, word, 40), 0);
	rw_u256 one = u256_small(1);
	assert_memory_equal(&u, &one, sizeof(u));
	int bl = 7;
	assert_int_equal(rw_abi_decode_bool(&bl, word, 32), 0);
	assert_int_equal(bl, 1);
	uint8_t addr[20];
	assert_int_equal(rw_abi_decode_address(addr, word, 32), 0);
	assert_int_equal(addr[19], 1);
	/* Short and dirty: outputs untouched. */
	bl = 7;
	assert_int_equal(rw_abi_decode_bool(&bl, word, 31), RW_ETRUNC);
	assert_int_equal(rw_abi_decode_uint256(&u, word, 0), RW_ETRUNC);
	word[31] = 2;
	assert_int_equal(rw_abi_decode_bool(&bl, word, 32), RW_EDIRTY);
	assert_int_equal(bl, 7);
	word[11] = 1;
	memset(addr, 0x77, 20);
	assert_int_equal(rw_abi_decode_address(addr, word, 32), RW_EDIRTY);
	assert_int_equal(addr[0], 0x77);
	word[0] = 0x80;
	assert_int_equal(rw_abi_decode_uint256(&u, word, 32), 0); /* any uint256 is clean */

	/* The ready-made types are the parsed ones. */
	struct rw_abi_type *t = type_of("uint256");
	assert_int_equal(t->head, rw_abi_type_uint256.head);
	assert_int_equal(t->nodes, rw_abi_type_uint256.nodes);
	rw_abi_type_free(t);
	t = type_of("string");
	assert_int_equal(t->dynamic, rw_abi_type_string.dynamic);
	rw_abi_type_free(t);
}

static void func_parse_forms(void **state)
{
	(void)state;
	static const struct {
		const char *in, *sig;
		size_t nout;
	} ok[] = {
		{ "balanceOf(address) returns (uint256)", "balanceOf(address)", 1 },
		{ "balanceOf(address owner) returns(uint256 balance)", "balanceOf(address)", 1 },
		{ "f()", "f()", 0 },
		{ "f((uint,bytes)[2][] xs,string)", "f((uint256,bytes)[2][],string)", 0 },
		{ "$_x9(bool) returns (bool,bytes32)", "$_x9(bool)", 2 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct rw_abi_func *f = NULL;
		assert_int_equal(rw_abi_func_parse(&f, ok[i].in, strlen(ok[i].in)), 0);
		assert_string_equal(f->signature, ok[i].sig);
		assert_int_equal(f->outputs->len, ok[i].nout);
		rw_abi_func_free(f);
	}
	static const char *const bad[] = {
		"",
		"f",
		"f(",
		"(uint256)",
		"9f()",
		"f() returns",
		"f() returns ()x",
		"f()x",
		"f(uint256 indexed a b)",
		"f(fixed)",
		"f(uint256,,)",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rw_abi_func *f = NULL;
		int r = rw_abi_func_parse(&f, bad[i], strlen(bad[i]));
		if (r >= 0)
			fail_msg("function \"%s\" accepted", bad[i]);
		assert_null(f);
	}
	/* n must match the inputs. */
	struct rw_abi_func *f = NULL;
	assert_int_equal(rw_abi_func_parse(&f, "cost(uint256)", 13), 0);
	struct rw_buf b;
	buf_new(&b);
	assert_int_equal(rw_abi_func_encode(&b, f, NULL, 0), RW_EINVAL);
	rw_u256 c = u256_small(3);
	struct rw_abi_value a = rw_abi_val_uint256(&c);
	assert_int_equal(rw_abi_func_encode(&b, f, &a, 1), 0);
	tl_assert_hex(b.p, b.len, cat("9097548d", w(3), NULL, NULL, NULL, NULL));
	rw_buf_free(&b);
	rw_abi_func_free(f);
}

/* --- decoder rejections ------------------------------------------------ */

static void reject_offsets_and_lengths(void **state)
{
	(void)state;
	const char *hello = "68656c6c6f000000000000000000000000000000000000000000000000000000";
	/* The good one, then with trailing bytes (ignored). */
	assert_int_equal(decode_hex("(bytes)", cat(w(0x20), w(5), hello, NULL, NULL, NULL)), 0);
	assert_int_equal(decode_hex("(bytes)", cat(w(0x20), w(5), hello, "ff", NULL, NULL)), 0);
	/* Offset past the end, at the end, and 2^256 - 1. */
	assert_int_equal(decode_hex("(bytes)", cat(w(0x60), w(5), hello, NULL, NULL, NULL)),
			 RW_ETRUNC);
	assert_int_equal(decode_hex("(bytes)", cat(w(0x40), w(5), NULL, NULL, NULL, NULL)),
			 RW_ETRUNC);
	assert_int_equal(decode_hex("(bytes)", cat(FF, w(5), hello, NULL, NULL, NULL)), RW_ETRUNC);
	assert_int_equal(decode_hex("(bytes)", cat(w(UINT64_MAX), w(5), hello, NULL, NULL, NULL)),
			 RW_ETRUNC);
	/* Offset + length overflow, length past the end, padding missing. */
	assert_int_equal(decode_hex("(bytes)", cat(w(0x20), FF, hello, NULL, NULL, NULL)),
			 RW_ETRUNC);
	assert_int_equal(
		decode_hex("(bytes)", cat(w(0x20), w(UINT64_MAX - 31), hello, NULL, NULL, NULL)),
		RW_ETRUNC);
	assert_int_equal(decode_hex("(string)", cat(w(0x20), w(33), hello, NULL, NULL, NULL)),
			 RW_ETRUNC);
	assert_int_equal(decode_hex("(string)", cat(w(0x20), w(5), "68656c6c6f", NULL, NULL, NULL)),
			 RW_ETRUNC);
	/* Empty bytes at the very end is fine; a cut length word is not. */
	assert_int_equal(decode_hex("(bytes)", cat(w(0x20), w(0), NULL, NULL, NULL, NULL)), 0);
	assert_int_equal(decode_hex("(bytes)", cat(w(0x20), "00", NULL, NULL, NULL, NULL)),
			 RW_ETRUNC);
	/* Dirty padding. */
	assert_int_equal(decode_hex("(bytes)", cat(w(0x20), w(4), hello, NULL, NULL, NULL)),
			 RW_EDIRTY);
	assert_int_equal(decode_hex("(string)", cat(w(0x20), w(31), FF, NULL, NULL, NULL)),
			 RW_EDIRTY);
	assert_int_equal(decode_hex("(string)", cat(w(0x20), w(32), FF, NULL, NULL, NULL)), 0);
	/* Nested: the inner offset is relative to the inner head. */
	assert_int_equal(decode_hex("(bytes[])", cat(w(0x20), w(1), w(0x20), w(5), hello, NULL)),
			 0);
	assert_int_equal(decode_hex("(bytes[])", cat(w(0x20), w(1), w(0x40), w(5), hello, NULL)),
			 RW_ETRUNC);
	/* Two offsets to the same data (not canonical, but valid). */
	assert_int_equal(
		decode_hex("(bytes,bytes)", cat(w(0x40), w(0x40), w(5), hello, NULL, NULL)), 0);
	/* Truncated statics. */
	assert_int_equal(decode_hex("(uint256,uint256)", w(1)), RW_ETRUNC);
	assert_int_equal(
		decode_hex("(uint256,uint256)", cat(w(1), "000000", NULL, NULL, NULL, NULL)),
		RW_ETRUNC);
	assert_int_equal(decode_hex("uint256", ""), RW_ETRUNC);
	assert_int_equal(decode_hex("()", ""), 0);
	assert_int_equal(decode_hex("(uint8[3])", cat(w(1), w(2), NULL, NULL, NULL, NULL)),
			 RW_ETRUNC);
}

static void reject_huge_counts(void **state)
{
	(void)state;
	/* Counts that the data cannot hold fail before any allocation: the
	 * largest, 2^64 - 1, 2^58 (2^63 bytes of heads) and one too many. */
	assert_int_equal(decode_hex("(uint256[])", cat(w(0x20), FF, NULL, NULL, NULL, NULL)),
			 RW_ETRUNC);
	assert_int_equal(
		decode_hex("(uint256[])", cat(w(0x20), w(UINT64_MAX), NULL, NULL, NULL, NULL)),
		RW_ETRUNC);
	assert_int_equal(
		decode_hex("(string[])", cat(w(0x20), w(1ULL << 58), w(0), NULL, NULL, NULL)),
		RW_ETRUNC);
	assert_int_equal(decode_hex("(uint256[])", cat(w(0x20), w(3), w(1), w(2), NULL, NULL)),
			 RW_ETRUNC);
	assert_int_equal(decode_hex("(uint256[])", cat(w(0x20), w(2), w(1), w(2), NULL, NULL)), 0);
	/* Static tuples need their whole size per element. */
	assert_int_equal(
		decode_hex("((uint256,uint256)[])", cat(w(0x20), w(2), w(1), w(2), NULL, NULL)),
		RW_ETRUNC);
	assert_int_equal(
		decode_hex("((uint256,uint256)[])", cat(w(0x20), w(1), w(1), w(2), NULL, NULL)), 0);
	/* Offsets that alias cannot multiply the output: 100 inner arrays all
	 * pointing at one array of 100 elements. */
	struct rw_buf b;
	buf_new(&b);
	uint8_t word[32];
	size_t n = 100;
	memset(word, 0, 32);
	word[31] = 0x20;
	assert_int_equal(rw_buf_append(&b, word, 32), 0); /* offset of the outer array */
	word[31] = (uint8_t)n;
	assert_int_equal(rw_buf_append(&b, word, 32), 0); /* outer count */
	for (size_t i = 0; i < n; i++) {
		size_t off = n * 32;
		memset(word, 0, 32);
		word[30] = (uint8_t)(off >> 8);
		word[31] = (uint8_t)off;
		assert_int_equal(rw_buf_append(&b, word, 32), 0);
	}
	memset(word, 0, 32);
	word[31] = (uint8_t)n;
	assert_int_equal(rw_buf_append(&b, word, 32), 0); /* inner count */
	assert_int_equal(rw_buf_zeros(&b, n * 32), 0);
	struct rw_abi_type *t = type_of("(uint256[][])");
	struct rw_abi_value *v = NULL;
	assert_int_equal(rw_abi_decode(&v, t, b.p, b.len), RW_ETOOBIG);
	assert_null(v);
	rw_abi_type_free(t);
	rw_buf_free(&b);
}

static void reject_dirty_words(void **state)
{
	(void)state;
	static const struct {
		const char *type;
		const char *word;
		int err;
	} cases[] = {
		{ "(address)", "000000000000000000000001ffffffffffffffffffffffffffffffffffffffff",
		  RW_EDIRTY },
		{ "(address)", "800000000000000000000000ffffffffffffffffffffffffffffffffffffffff",
		  RW_EDIRTY },
		{ "(address)", "000000000000000000000000ffffffffffffffffffffffffffffffffffffffff",
		  0 },
		{ "(bool)", "0000000000000000000000000000000000000000000000000000000000000002",
		  RW_EDIRTY },
		{ "(bool)", "0000000000000000000000000000000000000000000000000000000000000101",
		  RW_EDIRTY },
		{ "(bool)", "1000000000000000000000000000000000000000000000000000000000000001",
		  RW_EDIRTY },
		{ "(bool)", "0000000000000000000000000000000000000000000000000000000000000001", 0 },
		{ "(uint8)", "0000000000000000000000000000000000000000000000000000000000000100",
		  RW_EDIRTY },
		{ "(uint8)", "00000000000000000000000000000000000000000000000000000000000000ff",
		  0 },
		{ "(uint32)", "0000000000000000000000000000000000000000000000000000000100000000",
		  RW_EDIRTY },
		{ "(uint248)", "0100000000000000000000000000000000000000000000000000000000000000",
		  RW_EDIRTY },
		{ "(uint248)", "00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		  0 },
		{ "(int8)", "0000000000000000000000000000000000000000000000000000000000000080",
		  RW_EDIRTY },
		{ "(int8)", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		  RW_EDIRTY },
		{ "(int8)", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80", 0 },
		{ "(int8)", "000000000000000000000000000000000000000000000000000000000000007f", 0 },
		{ "(int8)", "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		  RW_EDIRTY },
		{ "(int128)", "fffffffffffffffffffffffffffffffe80000000000000000000000000000000",
		  RW_EDIRTY },
		{ "(int128)", "ffffffffffffffffffffffffffffffff80000000000000000000000000000000",
		  0 },
		{ "(int256)", "8000000000000000000000000000000000000000000000000000000000000000",
		  0 },
		{ "(bytes1)", "ab00000000000000000000000000000000000000000000000000000000000001",
		  RW_EDIRTY },
		{ "(bytes3)", "6162630100000000000000000000000000000000000000000000000000000000",
		  RW_EDIRTY },
		{ "(bytes3)", "6162630000000000000000000000000000000000000000000000000000000000",
		  0 },
		{ "(bytes31)", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff01",
		  RW_EDIRTY },
		{ "(bytes32)", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		  0 },
		/* In nested positions too. */
		{ "(uint8[1])", "0000000000000000000000000000000000000000000000000000000000000100",
		  RW_EDIRTY },
		{ "((bool))", "0000000000000000000000000000000000000000000000000000000000000003",
		  RW_EDIRTY },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = decode_hex(cases[i].type, cases[i].word);
		if (r != cases[i].err)
			fail_msg("%s %s: got %d, want %d", cases[i].type, cases[i].word, r,
				 cases[i].err);
	}
	/* Inside a dynamic array. */
	assert_int_equal(decode_hex("(address[])", cat(w(0x20), w(2), w(1), FF, NULL, NULL)),
			 RW_EDIRTY);
}

/* Builds a hand-made chain of k single-element tuples around a uint256,
 * skipping the constructors' depth check. */
static struct rw_abi_type *deep_tuple(unsigned k)
{
	struct rw_abi_type *t = type_of("uint256");
	for (unsigned i = 0; i < k; i++) {
		struct rw_abi_type *u = calloc(1, sizeof(*u));
		assert_non_null(u);
		u->kind = RW_ABI_TUPLE;
		u->len = 1;
		u->comps = malloc(sizeof(*u->comps));
		assert_non_null(u->comps);
		u->comps[0] = t;
		u->head = 32;
		u->nodes = t->nodes + 1;
		u->depth = t->depth + 1;
		t = u;
	}
	return t;
}

static void reject_deep_nesting(void **state)
{
	(void)state;
	uint8_t word[32] = { 0 };
	struct rw_abi_type *t = deep_tuple(RW_ABI_MAX_DEPTH - 1);
	struct rw_abi_value *v = NULL;
	assert_int_equal(rw_abi_decode(&v, t, word, 32), 0);
	struct rw_buf b;
	buf_new(&b);
	assert_int_equal(rw_abi_encode(&b, t, v), 0);
	rw_abi_value_free(v);
	rw_abi_type_free(t);

	t = deep_tuple(RW_ABI_MAX_DEPTH + 8);
	v = NULL;
	assert_int_equal(rw_abi_decode(&v, t, word, 32), RW_ETOOBIG);
	assert_null(v);
	/* The encoder refuses too: build a matching value by hand. */
	struct rw_abi_value vals[RW_ABI_MAX_DEPTH + 9];
	memset(vals, 0, sizeof(vals));
	for (size_t i = 0; i + 1 < RW_ABI_MAX_DEPTH + 9; i++) {
		vals[i].list.items = &vals[i + 1];
		vals[i].list.n = 1;
	}
	b.len = 0;
	assert_int_equal(rw_abi_encode(&b, t, &vals[0]), RW_ETOOBIG);
	assert_int_equal(b.len, 0);
	rw_buf_free(&b);
	rw_abi_type_free(t);
}

/* --- encoder rejections ------------------------------------------------ */

static void encoder_rejects(void **state)
{
	(void)state;
	struct rw_buf b;
	buf_new(&b);
	struct rw_abi_value v;
	memset(&v, 0, sizeof(v));

	struct rw_abi_type *t = type_of("uint8");
	v.u = u256_small(256);
	assert_int_equal(rw_abi_encode(&b, t, &v), RW_ERANGE);
	v.u = u256_small(255);
	assert_int_equal(rw_abi_encode(&b, t, &v), 0);
	rw_abi_type_free(t);

	t = type_of("int8");
	v.u = u256_small(128);
	assert_int_equal(rw_abi_encode(&b, t, &v), RW_ERANGE);
	memset(&v.u, 0xff, sizeof(v.u));
	v.u.w[0] = ~(uint64_t)0x7f; /* -128 */
	assert_int_equal(rw_abi_encode(&b, t, &v), 0);
	v.u.w[3] = 0x7fffffffffffffffULL; /* not a sign extension */
	assert_int_equal(rw_abi_encode(&b, t, &v), RW_ERANGE);
	rw_abi_type_free(t);

	memset(&v, 0, sizeof(v));
	t = type_of("bool");
	v.b = 2;
	assert_int_equal(rw_abi_encode(&b, t, &v), RW_EINVAL);
	rw_abi_type_free(t);

	/* Wrong list lengths. */
	struct rw_abi_value items[3];
	memset(items, 0, sizeof(items));
	v.list.items = items;
	v.list.n = 2;
	t = type_of("uint8[3]");
	assert_int_equal(rw_abi_encode(&b, t, &v), RW_EINVAL);
	rw_abi_type_free(t);
	t = type_of("(uint8,string)");
	v.list.n = 3;
	assert_int_equal(rw_abi_encode(&b, t, &v), RW_EINVAL);
	rw_abi_type_free(t);
	t = type_of("string[2]");
	assert_int_equal(rw_abi_encode(&b, t, &v), RW_EINVAL);
	rw_abi_type_free(t);
	/* A dirty item deep in a dynamic array: nothing is appended. */
	t = type_of("(string,uint8[])");
	struct rw_abi_value inner[2], bad_items[3];
	memset(inner, 0, sizeof(inner));
	memset(bad_items, 0, sizeof(bad_items));
	inner[0].bytes.p = (const uint8_t *)"x";
	inner[0].bytes.len = 1;
	inner[1].list.items = bad_items;
	inner[1].list.n = 3;
	bad_items[2].u = u256_small(300);
	v.list.items = inner;
	v.list.n = 2;
	size_t len = b.len;
	assert_int_equal(rw_abi_encode(&b, t, &v), RW_ERANGE);
	assert_int_equal(b.len, len);
	bad_items[2].u = u256_small(3);
	assert_int_equal(rw_abi_encode(&b, t, &v), 0);
	rw_abi_type_free(t);
	rw_buf_free(&b);

	/* The buffer's ceiling. */
	rw_buf_init(&b, 40);
	t = type_of("(uint256,uint256)");
	memset(items, 0, sizeof(items));
	v.list.items = items;
	v.list.n = 2;
	assert_int_equal(rw_abi_encode(&b, t, &v), RW_ETOOBIG);
	assert_int_equal(b.len, 0);
	rw_abi_type_free(t);
	rw_buf_free(&b);
}

/* Exact positions: decoded bytes point into the input. */
static void decode_points_into_input(void **state)
{
	(void)state;
	struct rw_abi_type *t = type_of("(uint256,string[],bytes7)");
	size_t n;
	uint8_t *in = tl_unhex(
		cat(w(9), w(0x60),
		    "6162636465666700000000000000000000000000000000000000000000000000", w(2),
		    cat(w(0x40), w(0x80), w(1),
			"7800000000000000000000000000000000000000000000000000000000000000", w(0),
			NULL),
		    NULL),
		&n);
	struct rw_abi_value *v = NULL;
	assert_int_equal(rw_abi_decode(&v, t, in, n), 0);
	assert_int_equal(v->list.n, 3);
	rw_u256 nine = u256_small(9);
	assert_memory_equal(&v->list.items[0].u, &nine, sizeof(nine));
	const struct rw_abi_value *arr = &v->list.items[1];
	assert_int_equal(arr->list.n, 2);
	assert_ptr_equal(arr->type, t->comps[1]);
	assert_int_equal(arr->list.items[0].bytes.len, 1);
	assert_ptr_equal(arr->list.items[0].bytes.p, in + 7 * 32);
	assert_int_equal(arr->list.items[1].bytes.len, 0);
	tl_assert_hex(v->list.items[2].fixed, 7, "61626364656667");
	rw_abi_value_free(v);
	rw_abi_value_free(NULL);
	rw_abi_type_free(NULL);
	rw_abi_func_free(NULL);
	rw_abi_event_free(NULL);
	free(in);
	rw_abi_type_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spec_examples),
		cmocka_unit_test(selectors_and_topics),
		cmocka_unit_test(random_vs_ethers),
		cmocka_unit_test(type_parse_canonical),
		cmocka_unit_test(type_parse_derived),
		cmocka_unit_test(type_parse_rejects),
		cmocka_unit_test(type_depth_limit),
		cmocka_unit_test(type_from_json_tuples),
		cmocka_unit_test(func_from_json),
		cmocka_unit_test(project_artifacts),
		cmocka_unit_test(event_erc20_transfer),
		cmocka_unit_test(event_indexed_string),
		cmocka_unit_test(event_anonymous_and_limits),
		cmocka_unit_test(helpers),
		cmocka_unit_test(func_parse_forms),
		cmocka_unit_test(reject_offsets_and_lengths),
		cmocka_unit_test(reject_huge_counts),
		cmocka_unit_test(reject_dirty_words),
		cmocka_unit_test(reject_deep_nesting),
		cmocka_unit_test(encoder_rejects),
		cmocka_unit_test(decode_points_into_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
