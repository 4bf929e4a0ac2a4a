/* fuzz_jscan.c: the JSON scanner never crashes or reads out of bounds, and
 * agrees with jansson: it accepts what jansson accepts (but for nesting
 * deeper than RW_JSCAN_MAX_DEPTH, and but for what follows a NUL byte, which
 * jansson takes for the end of the text), it refuses what jansson refuses (but for
 * numbers too large for jansson, duplicate keys and keys holding NUL, which
 * it leaves to its callers), and walking the text member by member finds jansson's keys,
 * strings and structure. The loose skip never reads out of the text, and
 * on text the checking skip accepts it ends at the same byte. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Compares the value at s with v, recursively; aborts on a difference. */
static void same(struct rw_jscan *s, const json_t *v)
{
	enum rw_jtype t = rw_jscan_peek(s);
	const char *p, *k;
	size_t n, kn;
	switch (t) {
	case RW_J_OBJECT: {
		if (!json_is_object(v) || rw_jscan_enter(s, t) < 0)
			abort();
		size_t members = 0;
		int r;
		while ((r = rw_jscan_next(s, &k, &kn)) == 1) {
			char *key = malloc(kn + 1);
			size_t m = kn;
			if (!key)
				abort();
			if (k == s->key || memchr(k, '\\', kn) == NULL)
				memcpy(key, k, kn);
			else if (rw_jscan_unescape(key, &m, k, kn) < 0)
				abort();
			key[m] = '\0';
			/* keys holding NUL cannot be looked up by name */
			const json_t *mv = memchr(key, 0, m) ? NULL : json_object_get(v, key);
			free(key);
			if (mv)
				same(s, mv);
			else if (rw_jscan_skip(s, NULL, NULL) < 0)
				abort();
			members++;
		}
		if (r != 0 || members != json_object_size(v))
			abort();
		return;
	}
	case RW_J_ARRAY: {
		if (!json_is_array(v) || rw_jscan_enter(s, t) < 0)
			abort();
		size_t i = 0;
		int r;
		while ((r = rw_jscan_next(s, NULL, NULL)) == 1) {
			if (i >= json_array_size(v))
				abort();
			same(s, json_array_get(v, i++));
		}
		if (r != 0 || i != json_array_size(v))
			abort();
		return;
	}
	case RW_J_STRING: {
		int esc;
		if (!json_is_string(v) || rw_jscan_string(s, &p, &n, &esc) < 0)
			abort();
		char *u = malloc(n ? n : 1);
		size_t m;
		if (!u || rw_jscan_unescape(u, &m, p, n) < 0)
			abort();
		if (m != json_string_length(v) || memcmp(u, json_string_value(v), m) != 0 ||
		    (!esc && m != n))
			abort();
		free(u);
		return;
	}
	case RW_J_NUMBER:
		if (!json_is_number(v) || rw_jscan_skip(s, NULL, NULL) < 0)
			abort();
		return;
	case RW_J_TRUE:
	case RW_J_FALSE:
	case RW_J_NULL:
		if ((t == RW_J_TRUE && !json_is_true(v)) ||
		    (t == RW_J_FALSE && !json_is_false(v)) ||
		    (t == RW_J_NULL && !json_is_null(v)) || rw_jscan_skip(s, NULL, NULL) < 0)
			abort();
		return;
	default: abort();
	}
}

static int jansson_only(const json_error_t *e)
{
	return strstr(e->text, "too big") || strstr(e->text, "overflow") ||
	       strstr(e->text, "duplicate") || strstr(e->text, "NUL byte in object key");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct rw_jscan s;
	rw_jscan_init(&s, text, size);
	const char *p;
	size_t n;
	int r = rw_jscan_skip(&s, &p, &n);
	if (r == 0 && (p < text || p + n > text + size))
		abort();
	if (r == 0)
		r = rw_jscan_end(&s);
	if ((r < 0) != (s.err != 0) || (r < 0 && (!s.why || s.err_at > size)))
		abort();

	struct rw_jscan l;
	const char *lp;
	size_t ln;
	rw_jscan_init(&l, text, size);
	int lr = rw_jscan_skip_loose(&l, &lp, &ln);
	if (lr == 0 && (lp < text || lp + ln > text + size))
		abort();
	if ((lr < 0) != (l.err != 0) || (lr < 0 && (!l.why || l.err_at > size)))
		abort();
	if (r == 0 && (lr < 0 || lp != p || ln != n))
		abort(); /* the loose skip ends elsewhere than the checking one */

	json_error_t e;
	json_t *v = json_loadb(text, size,
			       JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &e);
	/* jansson takes a NUL byte outside strings for the end of the text */
	const char *nul = memchr(text, 0, size);
	int cut = nul && s.err_at >= (size_t)(nul - text);
	if (v && r < 0 && strcmp(s.why, "nesting too deep") != 0 && !cut)
		abort(); /* refused what jansson accepts */
	if (!v && r == 0 && !jansson_only(&e))
		abort(); /* accepted what jansson refuses */
	if (v && r == 0) {
		rw_jscan_init(&s, text, size);
		same(&s, v);
		if (rw_jscan_end(&s) < 0)
			abort();
	}
	json_decref(v);
	return 0;
}
