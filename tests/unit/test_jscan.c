/* test_jscan.c: the JSON scanner walks what jansson accepts, refuses what
 * it refuses (with a position and a reason), and unescapes strings as
 * jansson does. */
#include "testlib.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jscan.h"

/* Skips one whole value and checks the end; returns 0 or RW_EINVAL. */
static int accepts(const char *text, size_t len)
{
	struct rw_jscan s;
	rw_jscan_init(&s, text, len);
	int r = rw_jscan_skip(&s, NULL, NULL);
	if (r == 0)
		r = rw_jscan_end(&s);
	if (r < 0) {
		assert_non_null(s.why);
		assert_true(s.err_at <= len);
	}
	return r;
}

static int jansson_accepts(const char *text, size_t len)
{
	json_error_t e;
	json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	json_decref(v);
	return v != NULL;
}

static const char *const good[] = {
	"0",
	"-0",
	"12.5e-3",
	"1E+2",
	"-1.0",
	"true",
	" false ",
	"null",
	"\"\"",
	"\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"",
	"\"\\u00e9\\u20ac\\ud83d\\ude00\"",
	"\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
	"\"\\u0000\"",
	"[]",
	"{}",
	" [ 1 , [ 2 , { } ] , { \"a\" : [ ] } ] ",
	"{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}",
	"\t\r\n[\n1\n]\n",
};

static const char *const bad[] = {
	"",
	"   ",
	"01",
	"-",
	"1.",
	".5",
	"1e",
	"1e+",
	"+1",
	"tru",
	"truex",
	"nul",
	"\"abc",
	"\"a\\x\"",
	"\"\\u12\"",
	"\"\\ud800\"",
	"\"\\ud800\\u0041\"",
	"\"\\udc00\"",
	"\"\x01\"",
	"\"\xc0\xaf\"",
	"\"\xed\xa0\x80\"",
	"\"\xf4\x90\x80\x80\"",
	"\"\xe2\x82\"",
	"\"\x80\"",
	"[1,]",
	"[,1]",
	"[1 2]",
	"[1",
	"[",
	"]",
	"{\"a\"}",
	"{\"a\":}",
	"{\"a\":1,}",
	"{1:2}",
	"{\"a\" 1}",
	"{\"a\":1",
	"[}",
	"{]",
	"1 2",
	"[] []",
	"nulll",
	"[1]x",
};

static void grammar(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		size_t n = strlen(good[i]);
		if (strcmp(good[i], "\"\\u0000\"") != 0)
			assert_true(jansson_accepts(good[i], n));
		if (accepts(good[i], n) != 0)
			fail_msg("refused: %s", good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = strlen(bad[i]);
		assert_false(jansson_accepts(bad[i], n));
		if (accepts(bad[i], n) != RW_EINVAL)
			fail_msg("accepted: %s", bad[i]);
	}
	/* not NUL-terminated: nothing past len is read */
	assert_int_equal(accepts("[1]]", 3), 0);
	assert_int_equal(accepts("\"ab\"", 3), RW_EINVAL);
}

static void error_position(void **state)
{
	(void)state;
	struct rw_jscan s;
	const char *t = "[1, 2, x]";
	rw_jscan_init(&s, t, strlen(t));
	assert_int_equal(rw_jscan_skip(&s, NULL, NULL), RW_EINVAL);
	assert_int_equal(s.err_at, 7);
	assert_string_equal(s.why, "unexpected character");
	/* the first error sticks */
	assert_int_equal(rw_jscan_end(&s), RW_EINVAL);
	assert_int_equal(rw_jscan_peek(&s), RW_J_NONE);
	assert_int_equal(rw_jscan_next(&s, NULL, NULL), RW_EINVAL);
	assert_int_equal(s.err_at, 7);

	t = "{\"a\": \"b\x01\"}";
	rw_jscan_init(&s, t, strlen(t));
	assert_int_equal(rw_jscan_skip(&s, NULL, NULL), RW_EINVAL);
	assert_int_equal(s.err_at, 8);
	assert_string_equal(s.why, "control character in a string");
}

static void depth(void **state)
{
	(void)state;
	size_t n = RW_JSCAN_MAX_DEPTH + 1;
	char *t = malloc(2 * n);
	assert_non_null(t);
	memset(t, '[', n);
	memset(t + n, ']', n);
	assert_int_equal(accepts(t, 2 * n), RW_EINVAL);
	assert_int_equal(accepts(t + 1, 2 * n - 2), 0); /* exactly the limit */
	free(t);
}

/* Walks a log-shaped object member by member, as the indexer does. */
static void walk(void **state)
{
	(void)state;
	const char *t = "[{\"address\":\"0xab\",\"topics\":[\"0x01\",\"0x02\"],\"n\":7,"
			"\"removed\":false,\"x\":{\"deep\":[1,{\"y\":null}]}},{},"
			"{\"ke\\u0079\":\"v\\n\"}]";
	struct rw_jscan s;
	rw_jscan_init(&s, t, strlen(t));
	assert_int_equal(rw_jscan_peek(&s), RW_J_ARRAY);
	assert_int_equal(rw_jscan_enter(&s, RW_J_ARRAY), 0);

	assert_int_equal(rw_jscan_next(&s, NULL, NULL), 1);
	assert_int_equal(rw_jscan_enter(&s, RW_J_OBJECT), 0);
	const char *k, *v;
	size_t kn, vn;
	int esc;
	assert_int_equal(rw_jscan_next(&s, &k, &kn), 1);
	assert_int_equal(kn, 7);
	assert_memory_equal(k, "address", 7);
	assert_int_equal(rw_jscan_string(&s, &v, &vn, &esc), 0);
	assert_int_equal(vn, 4);
	assert_memory_equal(v, "0xab", 4);
	assert_int_equal(esc, 0);
	assert_int_equal(rw_jscan_next(&s, &k, &kn), 1);
	assert_memory_equal(k, "topics", 6);
	assert_int_equal(rw_jscan_enter(&s, RW_J_ARRAY), 0);
	int topics = 0;
	while (rw_jscan_next(&s, NULL, NULL) == 1) {
		assert_int_equal(rw_jscan_string(&s, &v, &vn, NULL), 0);
		topics++;
	}
	assert_int_equal(topics, 2);
	assert_int_equal(rw_jscan_next(&s, &k, &kn), 1);
	assert_memory_equal(k, "n", 1);
	assert_int_equal(rw_jscan_peek(&s), RW_J_NUMBER);
	assert_int_equal(rw_jscan_string(&s, &v, &vn, NULL), RW_EINVAL); /* not a string */
	assert_string_equal(s.why, "expected a string");

	/* start again and skip values instead */
	rw_jscan_init(&s, t, strlen(t));
	assert_int_equal(rw_jscan_enter(&s, RW_J_ARRAY), 0);
	int elems = 0;
	while (rw_jscan_next(&s, NULL, NULL) == 1) {
		const char *p;
		size_t n;
		if (elems == 2) {
			assert_int_equal(rw_jscan_enter(&s, RW_J_OBJECT), 0);
			assert_int_equal(rw_jscan_next(&s, &k, &kn), 1);
			assert_int_equal(kn, 3);
			assert_memory_equal(k, "key", 3); /* unescaped */
			assert_int_equal(rw_jscan_string(&s, &v, &vn, &esc), 0);
			assert_int_equal(esc, 1);
			char out[8];
			size_t on;
			assert_int_equal(rw_jscan_unescape(out, &on, v, vn), 0);
			assert_int_equal(on, 2);
			assert_memory_equal(out, "v\n", 2);
			assert_int_equal(rw_jscan_next(&s, &k, &kn), 0);
		} else {
			assert_int_equal(rw_jscan_skip(&s, &p, &n), 0);
			assert_true(p[0] == '{' && p[n - 1] == '}');
		}
		elems++;
	}
	assert_int_equal(elems, 3);
	assert_int_equal(rw_jscan_end(&s), 0);
	assert_int_equal(s.err, 0);
}

static void misuse(void **state)
{
	(void)state;
	struct rw_jscan s;
	rw_jscan_init(&s, "[1]", 3);
	assert_int_equal(rw_jscan_next(&s, NULL, NULL), RW_EINVAL); /* not entered */
	rw_jscan_init(&s, "[1]", 3);
	assert_int_equal(rw_jscan_enter(&s, RW_J_OBJECT), RW_EINVAL);
	assert_string_equal(s.why, "expected an object");
	rw_jscan_init(&s, "{}", 2);
	assert_int_equal(rw_jscan_enter(&s, RW_J_STRING), RW_EINVAL);
	rw_jscan_init(&s, "[1]", 3);
	assert_int_equal(rw_jscan_enter(&s, RW_J_ARRAY), 0);
	assert_int_equal(rw_jscan_end(&s), RW_EINVAL); /* still open */
	assert_string_equal(s.why, "unclosed object or array");
	rw_jscan_init(&s, "[1]", 3);
	assert_int_equal(rw_jscan_enter(&s, RW_J_ARRAY), 0);
	assert_int_equal(rw_jscan_next(&s, NULL, NULL), 1);
	/* the element was not read: the next step finds it instead of ',' */
	assert_int_equal(rw_jscan_next(&s, NULL, NULL), RW_EINVAL);
	rw_jscan_init(&s, "[]", 2);
	assert_int_equal(rw_jscan_enter(&s, RW_J_ARRAY), 0);
	assert_int_equal(rw_jscan_next(&s, NULL, NULL), 0);
	assert_int_equal(rw_jscan_next(&s, NULL, NULL), RW_EINVAL); /* back at the top */
	assert_int_equal(rw_jscan_offset(&s), 2);
}

/* Unescaped strings equal jansson's string values. */
static void unescape(void **state)
{
	(void)state;
	static const char *const strs[] = {
		"\"plain\"",
		"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
		"\"\\u0041\\u00e9\\u0800\\uffff\"",
		"\"x\\ud83d\\ude00y\\udbff\\udfff\"",
		"\"a\\u0000b\"",
		"\"caf\xc3\xa9\"",
	};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		struct rw_jscan s;
		rw_jscan_init(&s, strs[i], strlen(strs[i]));
		const char *raw;
		size_t n, m;
		assert_int_equal(rw_jscan_string(&s, &raw, &n, NULL), 0);
		assert_int_equal(rw_jscan_end(&s), 0);
		char *out = malloc(n + 1);
		assert_non_null(out);
		assert_int_equal(rw_jscan_unescape(out, &m, raw, n), 0);
		json_error_t e;
		json_t *j =
			json_loadb(strs[i], strlen(strs[i]), JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
		assert_non_null(j);
		assert_int_equal(m, json_string_length(j));
		assert_memory_equal(out, json_string_value(j), m);
		json_decref(j);
		free(out);
	}
	char out[4];
	size_t m;
	assert_int_equal(rw_jscan_unescape(out, &m, "\\q", 2), RW_EINVAL);
	assert_int_equal(rw_jscan_unescape(out, &m, "\\", 1), RW_EINVAL);
}

/* Strings long enough for the eight-bytes-at-a-time path, with a byte that
 * needs a look at every position: the scanner agrees with jansson. */
static void long_strings(void **state)
{
	(void)state;
	static const char *const specials[] = { "\"",       "\\",  "\x01", "\x1f", "\x80",
						"\xc3\xa9", "\\n", "\x7f", "\xff" };
	char text[64];
	for (size_t k = 0; k < sizeof(specials) / sizeof(specials[0]); k++) {
		size_t sn = strlen(specials[k]);
		for (size_t at = 0; at < 40; at++) {
			size_t n = 0;
			text[n++] = '"';
			for (size_t i = 0; i < at; i++)
				text[n++] = (char)('a' + i % 26);
			memcpy(text + n, specials[k], sn);
			n += sn;
			for (size_t i = 0; i < 9; i++)
				text[n++] = 'z';
			text[n++] = '"';
			int want = jansson_accepts(text, n) ? 0 : RW_EINVAL;
			if (accepts(text, n) != want)
				fail_msg("special %zu at %zu: jansson %d", k, at, want);
		}
	}
}

/* The loose skip: where a value ends, whatever lies inside. */
static void loose(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		size_t end; /* 0: refused */
	} cases[] = {
		{ "[1,,2] x", 6 },
		{ "{\"a\":[}]}", 0 },           /* mismatched */
		{ "{\"a\":\"]}\\\"\"} ,", 12 }, /* brackets and an escaped quote in a string */
		{ "\"a\\\\\" 1", 5 },           /* an even run of backslashes */
		{ "\"abc", 0 },
		{ "[[[", 0 },
		{ "tru ,", 3 },
		{ "-1.5e3]", 6 },
		{ "]", 0 },
		{ "", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rw_jscan s;
		const char *p;
		size_t n;
		rw_jscan_init(&s, cases[i].text, strlen(cases[i].text));
		int r = rw_jscan_skip_loose(&s, &p, &n);
		if (cases[i].end == 0) {
			if (r != RW_EINVAL)
				fail_msg("accepted: %s", cases[i].text);
			assert_non_null(s.why);
			continue;
		}
		if (r != 0 || p != cases[i].text || n != cases[i].end)
			fail_msg("%s: %d, %zu bytes", cases[i].text, r, n);
	}
	/* deeper than the limit */
	size_t d = RW_JSCAN_MAX_DEPTH + 1;
	char *t = malloc(2 * d);
	assert_non_null(t);
	memset(t, '[', d);
	memset(t + d, ']', d);
	struct rw_jscan s;
	rw_jscan_init(&s, t, 2 * d);
	assert_int_equal(rw_jscan_skip_loose(&s, NULL, NULL), RW_EINVAL);
	assert_string_equal(s.why, "nesting too deep");
	rw_jscan_init(&s, t + 1, 2 * d - 2);
	assert_int_equal(rw_jscan_skip_loose(&s, NULL, NULL), 0);
	assert_int_equal(rw_jscan_end(&s), 0);
	free(t);
	/* inside an entered container, the scanner goes on after it */
	const char *u = "[{\"a\":[1,,]},2]";
	rw_jscan_init(&s, u, strlen(u));
	assert_int_equal(rw_jscan_enter(&s, RW_J_ARRAY), 0);
	assert_int_equal(rw_jscan_next(&s, NULL, NULL), 1);
	assert_int_equal(rw_jscan_skip_loose(&s, NULL, NULL), 0);
	assert_int_equal(rw_jscan_next(&s, NULL, NULL), 1);
	assert_int_equal(rw_jscan_skip(&s, NULL, NULL), 0);
	assert_int_equal(rw_jscan_next(&s, NULL, NULL), 0);
	assert_int_equal(rw_jscan_end(&s), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(grammar),      cmocka_unit_test(error_position),
		cmocka_unit_test(depth),        cmocka_unit_test(walk),
		cmocka_unit_test(misuse),       cmocka_unit_test(unescape),
		cmocka_unit_test(long_strings), cmocka_unit_test(loose),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
