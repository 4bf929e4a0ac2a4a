/* jscan.c: a small JSON scanner that walks a text in place (jscan.h). */
#include "jscan.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "err.h"

/* Stack entry bits. */
#define LV_OBJECT 1 /* an object (else an array) */
#define LV_SOME   2 /* a member or element was stepped to */

/* 1 for a byte that a string holds as it is: printable ASCII but for the
 * quote and the backslash (control bytes, escapes and UTF-8 need a look). */
static inline int plain(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

void rw_jscan_init(struct rw_jscan *s, const char *text, size_t len)
{
	s->text = text;
	s->p = text;
	s->end = text + len;
	s->err = 0;
	s->err_at = 0;
	s->why = NULL;
	s->depth = 0;
	s->done = 0;
	s->key[0] = '\0';
}

size_t rw_jscan_offset(const struct rw_jscan *s)
{
	return (size_t)(s->p - s->text);
}

/* Records the first error at the current position. Returns RW_EINVAL. */
static int fail(struct rw_jscan *s, const char *why)
{
	if (!s->err) {
		s->err = RW_EINVAL;
		s->err_at = (size_t)(s->p - s->text);
		s->why = why;
	}
	return RW_EINVAL;
}

static void skip_ws(struct rw_jscan *s)
{
	const char *p = s->p;
	while (p < s->end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	s->p = p;
}

/* A value at the top level has been read completely. */
static void value_done(struct rw_jscan *s)
{
	if (s->depth == 0)
		s->done = 1;
}

enum rw_jtype rw_jscan_peek(struct rw_jscan *s)
{
	if (s->err)
		return RW_J_NONE;
	skip_ws(s);
	if (s->p >= s->end)
		return RW_J_NONE;
	if (s->depth == 0 && s->done) {
		fail(s, "data after the value");
		return RW_J_NONE;
	}
	switch (*s->p) {
	case '{': return RW_J_OBJECT;
	case '[': return RW_J_ARRAY;
	case '"': return RW_J_STRING;
	case 't': return RW_J_TRUE;
	case 'f': return RW_J_FALSE;
	case 'n': return RW_J_NULL;
	case ']':
	case '}': return RW_J_NONE;
	default:
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
			return RW_J_NUMBER;
		fail(s, "unexpected character");
		return RW_J_NONE;
	}
}

static int hex4(const char *p, unsigned *ret)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		v = v << 4 | d;
	}
	*ret = v;
	return 0;
}

/* Returns the end of the run of plain bytes from q: the first byte that
 * needs a look (a quote, a backslash, below 0x20, above 0x7f), or end.
 * Sixteen bytes at a time with SSE2, then eight with word arithmetic (the
 * rest, or everything without SSE2), then one by one. */
static const unsigned char *plain_run(const unsigned char *q, const unsigned char *end)
{
#ifdef __SSE2__
	const __m128i vquote = _mm_set1_epi8('"'), vbs = _mm_set1_epi8('\\'),
		      vlow = _mm_set1_epi8(0x20);
	while (end - q >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
		/* signed: below 0x20 or above 0x7f */
		__m128i m = _mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(v, vquote), _mm_cmpeq_epi8(v, vbs)),
			_mm_cmplt_epi8(v, vlow));
		int bits = _mm_movemask_epi8(m);
		if (bits)
			return q + __builtin_ctz((unsigned)bits);
		q += 16;
	}
#endif
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	while (end - q >= 8) {
		uint64_t x, quote, bs;
		memcpy(&x, q, 8);
		quote = x ^ (ones * '"');
		bs = x ^ (ones * '\\');
		/* a zero byte in quote or bs, a byte below 0x20, a byte above 0x7f */
		if (((quote - ones) & ~quote & highs) | ((bs - ones) & ~bs & highs) |
		    ((x - ones * 0x20) & ~x & highs) | (x & highs))
			break;
		q += 8;
	}
	while (q < end && plain(*q))
		q++;
	return q;
}

/* Checks one escape at q (q[0] == '\\'); returns its length, or 0 when it
 * is malformed. Sets *cp to the code point (surrogate pairs joined). */
static size_t escape_len(const char *q, const char *end, unsigned *cp)
{
	if (end - q < 2)
		return 0;
	switch (q[1]) {
	case '"': *cp = '"'; return 2;
	case '\\': *cp = '\\'; return 2;
	case '/': *cp = '/'; return 2;
	case 'b': *cp = '\b'; return 2;
	case 'f': *cp = '\f'; return 2;
	case 'n': *cp = '\n'; return 2;
	case 'r': *cp = '\r'; return 2;
	case 't': *cp = '\t'; return 2;
	case 'u': break;
	default: return 0;
	}
	unsigned hi, lo;
	if (end - q < 6 || hex4(q + 2, &hi) < 0)
		return 0;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return 0; /* a low surrogate alone */
	if (hi < 0xd800 || hi > 0xdbff) {
		*cp = hi;
		return 6;
	}
	if (end - q < 12 || q[6] != '\\' || q[7] != 'u' || hex4(q + 8, &lo) < 0 || lo < 0xdc00 ||
	    lo > 0xdfff)
		return 0; /* a high surrogate without its low half */
	*cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
	return 12;
}

/* Checks one UTF-8 sequence at q (q[0] >= 0x80); returns its length, or 0
 * when it is malformed (overlong, surrogate, above U+10FFFF, cut). */
static size_t utf8_len(const unsigned char *q, const unsigned char *end)
{
	unsigned char c = q[0];
	size_t k;
	unsigned char lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		k = 1;
	else if (c >= 0xe0 && c <= 0xef)
		k = 2, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
	else if (c >= 0xf0 && c <= 0xf4)
		k = 3, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if ((size_t)(end - q) <= k || q[1] < lo || q[1] > hi)
		return 0;
	for (size_t i = 2; i <= k; i++)
		if (q[i] < 0x80 || q[i] > 0xbf)
			return 0;
	return k + 1;
}

/* Scans the string at s->p (a quote). */
static int scan_string(struct rw_jscan *s, const char **ret_p, size_t *ret_n, int *ret_escaped)
{
	const unsigned char *q = (const unsigned char *)s->p + 1;
	const unsigned char *end = (const unsigned char *)s->end;
	int escaped = 0;
	for (;;) {
		q = plain_run(q, end);
		if (q >= end) {
			s->p = (const char *)q;
			return fail(s, "unterminated string");
		}
		size_t k;
		unsigned cp;
		if (*q == '"') {
			if (ret_p)
				*ret_p = s->p + 1;
			if (ret_n)
				*ret_n = (size_t)((const char *)q - s->p - 1);
			if (ret_escaped)
				*ret_escaped = escaped;
			s->p = (const char *)q + 1;
			return 0;
		}
		if (*q == '\\') {
			k = escape_len((const char *)q, (const char *)end, &cp);
			escaped = 1;
		} else {
			k = *q < 0x20 ? 0 : utf8_len(q, end);
		}
		if (!k) {
			s->p = (const char *)q;
			return fail(s, *q == '\\'  ? "invalid escape in a string"
				       : *q < 0x20 ? "control character in a string"
						   : "invalid UTF-8 in a string");
		}
		q += k;
	}
}

static const char *digits(const char *p, const char *end)
{
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p;
}

static int scan_number(struct rw_jscan *s)
{
	const char *p = s->p, *end = s->end, *q;
	if (*p == '-')
		p++;
	if (p >= end || *p < '0' || *p > '9') {
		s->p = p;
		return fail(s, "malformed number");
	}
	p = *p == '0' ? p + 1 : digits(p, end);
	if (p < end && *p == '.') {
		q = digits(p + 1, end);
		if (q == p + 1) {
			s->p = q;
			return fail(s, "malformed number");
		}
		p = q;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		q = digits(p, end);
		if (q == p) {
			s->p = q;
			return fail(s, "malformed number");
		}
		p = q;
	}
	s->p = p;
	return 0;
}

static int scan_literal(struct rw_jscan *s, const char *word, size_t n)
{
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return fail(s, "unexpected character");
	s->p += n;
	return 0;
}

/* Reads the scalar at s->p (peeked as t). */
static int scalar(struct rw_jscan *s, enum rw_jtype t)
{
	int r;
	switch (t) {
	case RW_J_STRING: r = scan_string(s, NULL, NULL, NULL); break;
	case RW_J_NUMBER: r = scan_number(s); break;
	case RW_J_TRUE: r = scan_literal(s, "true", 4); break;
	case RW_J_FALSE: r = scan_literal(s, "false", 5); break;
	case RW_J_NULL: r = scan_literal(s, "null", 4); break;
	default: r = fail(s, "expected a value"); break;
	}
	if (r == 0)
		value_done(s);
	return r;
}

int rw_jscan_string(struct rw_jscan *s, const char **ret_p, size_t *ret_n, int *ret_escaped)
{
	enum rw_jtype t = rw_jscan_peek(s);
	if (s->err)
		return s->err;
	if (t != RW_J_STRING)
		return fail(s, "expected a string");
	int r = scan_string(s, ret_p, ret_n, ret_escaped);
	if (r == 0)
		value_done(s);
	return r;
}

int rw_jscan_enter(struct rw_jscan *s, enum rw_jtype type)
{
	enum rw_jtype t = rw_jscan_peek(s);
	if (s->err)
		return s->err;
	if ((type != RW_J_OBJECT && type != RW_J_ARRAY) || t != type)
		return fail(s, type == RW_J_OBJECT ? "expected an object" : "expected an array");
	if (s->depth >= RW_JSCAN_MAX_DEPTH)
		return fail(s, "nesting too deep");
	s->stack[s->depth++] = type == RW_J_OBJECT ? LV_OBJECT : 0;
	s->p++;
	return 0;
}

/* Reads an object key and its colon. */
static int read_key(struct rw_jscan *s, const char **ret_key, size_t *ret_klen)
{
	if (s->p >= s->end || *s->p != '"')
		return fail(s, "expected a key");
	const char *k;
	size_t n;
	int esc;
	if (scan_string(s, &k, &n, &esc) < 0)
		return s->err;
	if (esc && ret_key && n <= sizeof(s->key)) {
		size_t m;
		(void)rw_jscan_unescape(s->key, &m, k, n);
		k = s->key;
		n = m;
	}
	if (ret_key) {
		*ret_key = k;
		*ret_klen = n;
	}
	skip_ws(s);
	if (s->p >= s->end || *s->p != ':')
		return fail(s, "expected ':' after a key");
	s->p++;
	return 0;
}

int rw_jscan_next(struct rw_jscan *s, const char **ret_key, size_t *ret_klen)
{
	if (s->err)
		return s->err;
	if (s->depth == 0)
		return fail(s, "not inside an object or array");
	uint8_t *lv = &s->stack[s->depth - 1];
	int object = *lv & LV_OBJECT;
	skip_ws(s);
	if (s->p >= s->end)
		return fail(s, object ? "unterminated object" : "unterminated array");
	if (*s->p == (object ? '}' : ']')) {
		s->p++;
		s->depth--;
		value_done(s);
		return 0;
	}
	if (*lv & LV_SOME) {
		if (*s->p != ',')
			return fail(s, object ? "expected ',' or '}'" : "expected ',' or ']'");
		s->p++;
		skip_ws(s);
	}
	*lv |= LV_SOME;
	if (object && read_key(s, ret_key, ret_klen) < 0)
		return s->err;
	return 1;
}

int rw_jscan_skip(struct rw_jscan *s, const char **ret_p, size_t *ret_n)
{
	enum rw_jtype t = rw_jscan_peek(s);
	if (s->err)
		return s->err;
	const char *start = s->p;
	if (t != RW_J_OBJECT && t != RW_J_ARRAY) {
		if (scalar(s, t) < 0)
			return s->err;
	} else {
		size_t base = s->depth;
		if (rw_jscan_enter(s, t) < 0)
			return s->err;
		while (s->depth > base) {
			int r = rw_jscan_next(s, NULL, NULL);
			if (r < 0)
				return r;
			if (r == 0)
				continue;
			t = rw_jscan_peek(s);
			if (t == RW_J_OBJECT || t == RW_J_ARRAY)
				r = rw_jscan_enter(s, t);
			else
				r = scalar(s, t);
			if (r < 0)
				return s->err;
		}
	}
	if (ret_p)
		*ret_p = start;
	if (ret_n)
		*ret_n = (size_t)(s->p - start);
	return 0;
}

/* The byte after the closing quote of the string whose opening quote is at
 * p, or NULL when it is not closed before end. */
static const char *string_end(const char *p, const char *end)
{
	const char *q = p + 1;
	for (;;) {
		q = memchr(q, '"', (size_t)(end - q));
		if (!q)
			return NULL;
		const char *b = q;
		while (b > p + 1 && b[-1] == '\\')
			b--;
		if (((q - b) & 1) == 0) /* an even run of backslashes: not escaped */
			return q + 1;
		q++;
	}
}

/* Loose end of a container opening at s->p: brackets matched, strings
 * jumped over. Uses the stack above the open levels. */
static int container_end_loose(struct rw_jscan *s)
{
	const char *p = s->p, *end = s->end;
	size_t depth = s->depth;
	while (p < end) {
		char c = *p;
		if (c == '"') {
			const char *q = string_end(p, end);
			if (!q) {
				s->p = p;
				return fail(s, "unterminated string");
			}
			p = q;
			continue;
		}
		if (c == '[' || c == '{') {
			if (depth >= RW_JSCAN_MAX_DEPTH) {
				s->p = p;
				return fail(s, "nesting too deep");
			}
			s->stack[depth++] = (uint8_t)c;
		} else if (c == ']' || c == '}') {
			if (depth == s->depth || s->stack[depth - 1] != (c == ']' ? '[' : '{')) {
				s->p = p;
				return fail(s, "mismatched bracket");
			}
			if (--depth == s->depth) {
				s->p = p + 1;
				return 0;
			}
		}
		p++;
	}
	s->p = p;
	return fail(s, "unterminated object or array");
}

int rw_jscan_skip_loose(struct rw_jscan *s, const char **ret_p, size_t *ret_n)
{
	enum rw_jtype t = rw_jscan_peek(s);
	if (s->err)
		return s->err;
	const char *start = s->p;
	if (t == RW_J_NONE)
		return fail(s, "expected a value");
	if (t == RW_J_STRING) {
		const char *q = string_end(s->p, s->end);
		if (!q) {
			s->p = s->end;
			return fail(s, "unterminated string");
		}
		s->p = q;
	} else if (t == RW_J_OBJECT || t == RW_J_ARRAY) {
		if (container_end_loose(s) < 0)
			return s->err;
	} else {
		const char *p = s->p;
		while (p < s->end && !strchr(" \t\r\n,]}:", *p))
			p++;
		s->p = p;
	}
	value_done(s);
	if (ret_p)
		*ret_p = start;
	if (ret_n)
		*ret_n = (size_t)(s->p - start);
	return 0;
}

int rw_jscan_end(struct rw_jscan *s)
{
	if (s->err)
		return s->err;
	if (s->depth)
		return fail(s, "unclosed object or array");
	skip_ws(s);
	if (!s->done)
		return fail(s, "no value");
	if (s->p != s->end)
		return fail(s, "data after the value");
	return 0;
}

/* Writes code point cp as UTF-8 at out; returns the length. */
static size_t put_utf8(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

int rw_jscan_unescape(char *out, size_t *ret_n, const char *raw, size_t n)
{
	size_t o = 0;
	const char *p = raw, *end = raw + n;
	while (p < end) {
		if (*p != '\\') {
			out[o++] = *p++;
			continue;
		}
		unsigned cp;
		size_t k = escape_len(p, end, &cp);
		if (!k)
			return RW_EINVAL;
		o += put_utf8(out + o, cp);
		p += k;
	}
	*ret_n = o;
	return 0;
}
