/* u256.c: unsigned 256-bit integers for money and EVM words.
 *
 * Values are four 64-bit words, least significant first. Every operation
 * computes into a local and copies to the caller only on success, so
 * outputs are untouched on failure and may alias the inputs. Products and
 * quotients use unsigned __int128 (gcc and clang). */
#include "u256.h"

#include <string.h>

#include "err.h"
#include "hex.h"

__extension__ typedef unsigned __int128 u128;

#define WORDS 4

/* 10^19, the largest power of ten in a uint64. */
#define TEN19 10000000000000000000ull

/* Largest `decimals` accepted by the token amount functions: 10^77 is the
 * largest power of ten below 2^256. */
#define UNITS_MAX_DECIMALS 77

rw_u256 rw_u256_from_u64(uint64_t v)
{
	rw_u256 r = { { v, 0, 0, 0 } };
	return r;
}

int rw_u256_is_zero(const rw_u256 *v)
{
	return (v->w[0] | v->w[1] | v->w[2] | v->w[3]) == 0;
}

int rw_u256_cmp(const rw_u256 *a, const rw_u256 *b)
{
	for (int i = WORDS - 1; i >= 0; i--) {
		if (a->w[i] != b->w[i])
			return a->w[i] < b->w[i] ? -1 : 1;
	}
	return 0;
}

int rw_u256_add(rw_u256 *ret, const rw_u256 *a, const rw_u256 *b)
{
	rw_u256 r;
	uint64_t carry = 0;
	for (int i = 0; i < WORDS; i++) {
		u128 s = (u128)a->w[i] + b->w[i] + carry;
		r.w[i] = (uint64_t)s;
		carry = (uint64_t)(s >> 64);
	}
	if (carry)
		return RW_ERANGE;
	*ret = r;
	return 0;
}

int rw_u256_sub(rw_u256 *ret, const rw_u256 *a, const rw_u256 *b)
{
	rw_u256 r;
	uint64_t borrow = 0;
	for (int i = 0; i < WORDS; i++) {
		uint64_t x = a->w[i], y = b->w[i];
		r.w[i] = x - y - borrow;
		borrow = x < y || (x == y && borrow);
	}
	if (borrow)
		return RW_ERANGE;
	*ret = r;
	return 0;
}

int rw_u256_mul(rw_u256 *ret, const rw_u256 *a, const rw_u256 *b)
{
	/* Schoolbook product into 8 words; any nonzero high word overflows. */
	uint64_t p[2 * WORDS] = { 0 };
	for (int i = 0; i < WORDS; i++) {
		uint64_t carry = 0;
		if (a->w[i] == 0)
			continue;
		for (int j = 0; j < WORDS; j++) {
			u128 t = (u128)a->w[i] * b->w[j] + p[i + j] + carry;
			p[i + j] = (uint64_t)t;
			carry = (uint64_t)(t >> 64);
		}
		p[i + WORDS] = carry;
	}
	if (p[4] | p[5] | p[6] | p[7])
		return RW_ERANGE;
	memcpy(ret->w, p, sizeof(ret->w));
	return 0;
}

/* Number of significant words of v (0 for zero). */
static int word_len(const uint64_t *v, int n)
{
	while (n > 0 && v[n - 1] == 0)
		n--;
	return n;
}

/* Leading zero bits of a nonzero word. */
static int clz64(uint64_t x)
{
	return __builtin_clzll(x);
}

/* q = a / d and returns a % d, for a one-word divisor d != 0. */
static uint64_t div_small(rw_u256 *q, const rw_u256 *a, uint64_t d)
{
	uint64_t rem = 0;
	for (int i = WORDS - 1; i >= 0; i--) {
		u128 cur = (u128)rem << 64 | a->w[i];
		q->w[i] = (uint64_t)(cur / d);
		rem = (uint64_t)(cur % d);
	}
	return rem;
}

/* Shifts n words of v left by s bits (0 <= s < 64) into out[0..n], the
 * bits shifted out landing in out[n]. */
static void shl_words(uint64_t *out, const uint64_t *v, int n, int s)
{
	if (s == 0) {
		memcpy(out, v, (size_t)n * sizeof(*v));
		out[n] = 0;
		return;
	}
	out[n] = v[n - 1] >> (64 - s);
	for (int i = n - 1; i > 0; i--)
		out[i] = v[i] << s | v[i - 1] >> (64 - s);
	out[0] = v[0] << s;
}

/* Subtracts qhat * v (n words) from u[0..n] in place. Returns 1 when the
 * result went negative (u then holds it modulo 2^(64(n+1))). */
static int mul_sub(uint64_t *u, const uint64_t *v, int n, uint64_t qhat)
{
	uint64_t carry = 0, borrow = 0;
	for (int i = 0; i < n; i++) {
		u128 p = (u128)qhat * v[i] + carry;
		uint64_t lo = (uint64_t)p;
		carry = (uint64_t)(p >> 64);
		uint64_t x = u[i];
		u[i] = x - lo - borrow;
		borrow = x < lo || (x == lo && borrow);
	}
	uint64_t x = u[n];
	u[n] = x - carry - borrow;
	return x < carry || (x == carry && borrow);
}

/* Adds v (n words) back to u[0..n] in place, dropping the final carry. */
static void add_back(uint64_t *u, const uint64_t *v, int n)
{
	uint64_t carry = 0;
	for (int i = 0; i < n; i++) {
		u128 s = (u128)u[i] + v[i] + carry;
		u[i] = (uint64_t)s;
		carry = (uint64_t)(s >> 64);
	}
	u[n] += carry;
}

/* Knuth's algorithm D (TAOCP 4.3.1) for a divisor of n >= 2 words and a
 * dividend a >= b: q = a / b, r = a % b. */
static void div_long(rw_u256 *q, rw_u256 *r, const rw_u256 *a, const rw_u256 *b, int n)
{
	int m = word_len(a->w, WORDS) - n; /* quotient has m + 1 words */
	int s = clz64(b->w[n - 1]);
	uint64_t vn[WORDS + 1], un[WORDS + 1];
	shl_words(vn, b->w, n, s); /* vn[n] is 0: the top word had s free bits */
	shl_words(un, a->w, m + n, s);
	*q = rw_u256_from_u64(0);
	for (int j = m; j >= 0; j--) {
		u128 num = (u128)un[j + n] << 64 | un[j + n - 1];
		u128 qhat = num / vn[n - 1];
		u128 rhat = num % vn[n - 1];
		/* At most two corrections make qhat exact or one too big. */
		while (qhat >> 64 || qhat * vn[n - 2] > (rhat << 64 | un[j + n - 2])) {
			qhat--;
			rhat += vn[n - 1];
			if (rhat >> 64)
				break;
		}
		if (mul_sub(un + j, vn, n, (uint64_t)qhat)) {
			qhat--;
			add_back(un + j, vn, n);
		}
		q->w[j] = (uint64_t)qhat;
	}
	/* The remainder is un[0..n) shifted back right by s. */
	*r = rw_u256_from_u64(0);
	for (int i = 0; i < n; i++)
		r->w[i] = s ? un[i] >> s | un[i + 1] << (64 - s) : un[i];
}

int rw_u256_divmod(rw_u256 *ret_q, rw_u256 *ret_r, const rw_u256 *a, const rw_u256 *b)
{
	int n = word_len(b->w, WORDS);
	if (n == 0)
		return RW_EDIVZERO;
	rw_u256 q, r;
	if (rw_u256_cmp(a, b) < 0) {
		q = rw_u256_from_u64(0);
		r = *a;
	} else if (n == 1) {
		r = rw_u256_from_u64(div_small(&q, a, b->w[0]));
	} else {
		div_long(&q, &r, a, b, n);
	}
	if (ret_q)
		*ret_q = q;
	if (ret_r)
		*ret_r = r;
	return 0;
}

int rw_u256_div(rw_u256 *ret, const rw_u256 *a, const rw_u256 *b)
{
	return rw_u256_divmod(ret, NULL, a, b);
}

int rw_u256_mod(rw_u256 *ret, const rw_u256 *a, const rw_u256 *b)
{
	return rw_u256_divmod(NULL, ret, a, b);
}

int rw_u256_to_u64(uint64_t *ret, const rw_u256 *v)
{
	if (v->w[1] | v->w[2] | v->w[3])
		return RW_ERANGE;
	*ret = v->w[0];
	return 0;
}

void rw_u256_to_be(uint8_t out[32], const rw_u256 *v)
{
	for (int i = 0; i < 32; i++)
		out[31 - i] = (uint8_t)(v->w[i / 8] >> (8 * (i % 8)));
}

int rw_u256_from_be(rw_u256 *ret, const uint8_t *in, size_t n)
{
	for (; n > 32; in++, n--)
		if (*in)
			return RW_ERANGE;
	rw_u256 r = rw_u256_from_u64(0);
	for (size_t i = 0; i < n; i++)
		r.w[i / 8] |= (uint64_t)in[n - 1 - i] << (8 * (i % 8));
	*ret = r;
	return 0;
}

size_t rw_u256_byte_len(const rw_u256 *v)
{
	int n = word_len(v->w, WORDS);
	if (n == 0)
		return 0;
	return (size_t)(n - 1) * 8 + (size_t)(64 - clz64(v->w[n - 1]) + 7) / 8;
}

/* v = v * m + add. Returns 0, or RW_ERANGE when the result needs more than
 * 256 bits (v is then garbage: callers work on a local copy). */
static int mul_add_small(rw_u256 *v, uint64_t m, uint64_t add)
{
	uint64_t carry = add;
	for (int i = 0; i < WORDS; i++) {
		u128 t = (u128)v->w[i] * m + carry;
		v->w[i] = (uint64_t)t;
		carry = (uint64_t)(t >> 64);
	}
	return carry ? RW_ERANGE : 0;
}

/* Returns 1 when s[0..n) is non-empty and all decimal digits. */
static int all_dec_digits(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* v = v * 10^n + (the n decimal digits at s), digits already checked.
 * Returns 0 or RW_ERANGE (v is then garbage). */
static int accumulate_dec(rw_u256 *v, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (mul_add_small(v, 10, (uint64_t)(s[i] - '0')) < 0)
			return RW_ERANGE;
	return 0;
}

int rw_u256_parse_dec(rw_u256 *ret, const char *s, size_t n)
{
	if (!all_dec_digits(s, n))
		return RW_EINVAL;
	rw_u256 v = rw_u256_from_u64(0);
	if (accumulate_dec(&v, s, n) < 0)
		return RW_ERANGE;
	*ret = v;
	return 0;
}

/* Returns 1 when s starts with "0x" or "0X". */
static int has_hex_prefix(const char *s, size_t n)
{
	return n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

/* Parses "0x" + 1..64 hex digits; leading zeros refused when quantity is
 * nonzero (except the single digit of "0x0"). */
static int parse_hex_digits(rw_u256 *ret, const char *s, size_t n, int quantity)
{
	if (!has_hex_prefix(s, n))
		return RW_EINVAL;
	s += 2;
	n -= 2;
	if (n == 0)
		return RW_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (rw_hex_digit(s[i]) < 0)
			return RW_EINVAL;
	if (quantity && n > 1 && s[0] == '0')
		return RW_EINVAL;
	if (n > 64)
		return RW_ERANGE;
	rw_u256 v = rw_u256_from_u64(0);
	for (size_t i = 0; i < n; i++) {
		size_t bit = 4 * (n - 1 - i);
		v.w[bit / 64] |= (uint64_t)rw_hex_digit(s[i]) << (bit % 64);
	}
	*ret = v;
	return 0;
}

int rw_u256_parse_hex(rw_u256 *ret, const char *s, size_t n)
{
	return parse_hex_digits(ret, s, n, 0);
}

int rw_u256_parse_quantity(rw_u256 *ret, const char *s, size_t n)
{
	return parse_hex_digits(ret, s, n, 1);
}

int rw_u256_parse(rw_u256 *ret, const char *s, size_t n)
{
	if (has_hex_prefix(s, n))
		return rw_u256_parse_hex(ret, s, n);
	return rw_u256_parse_dec(ret, s, n);
}

/* Writes u as exactly `width` decimal digits (zero-padded) at out. */
static void put_dec_padded(char *out, uint64_t u, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		out[i] = (char)('0' + u % 10);
		u /= 10;
	}
}

/* Number of decimal digits of u (1 for zero). */
static int dec_digits(uint64_t u)
{
	int k = 1;
	while (u >= 10) {
		u /= 10;
		k++;
	}
	return k;
}

size_t rw_u256_format_dec(char *out, const rw_u256 *v)
{
	/* Split into base-10^19 chunks, least significant first; 2^256 has 78
	 * digits, so five chunks always suffice. */
	uint64_t chunk[5];
	int k = 0;
	rw_u256 t = *v;
	do {
		chunk[k++] = div_small(&t, &t, TEN19);
	} while (!rw_u256_is_zero(&t));
	size_t len = 0;
	int top = dec_digits(chunk[k - 1]);
	put_dec_padded(out, chunk[k - 1], top);
	len += (size_t)top;
	for (int i = k - 2; i >= 0; i--) {
		put_dec_padded(out + len, chunk[i], 19);
		len += 19;
	}
	out[len] = '\0';
	return len;
}

size_t rw_u256_format_hex(char *out, const rw_u256 *v)
{
	static const char digits[] = "0123456789abcdef";
	int n = word_len(v->w, WORDS);
	size_t len = 0;
	out[len++] = '0';
	out[len++] = 'x';
	if (n == 0) {
		out[len++] = '0';
		out[len] = '\0';
		return len;
	}
	int bits = (n - 1) * 64 + 64 - clz64(v->w[n - 1]);
	for (int nib = (bits + 3) / 4 - 1; nib >= 0; nib--)
		out[len++] = digits[(v->w[nib / 16] >> (4 * (nib % 16))) & 15];
	out[len] = '\0';
	return len;
}

int rw_u256_format_units(char *out, const rw_u256 *v, unsigned decimals)
{
	if (decimals > UNITS_MAX_DECIMALS)
		return RW_ERANGE;
	char dec[RW_U256_DEC_MAX];
	size_t n = rw_u256_format_dec(dec, v);
	size_t d = decimals, len = 0;
	if (d == 0) {
		memcpy(out, dec, n + 1);
		return (int)n;
	}
	if (n <= d) {
		/* Pure fraction: "0." then zeros up to the digits. */
		out[len++] = '0';
		out[len++] = '.';
		memset(out + len, '0', d - n);
		len += d - n;
		memcpy(out + len, dec, n);
		len += n;
	} else {
		memcpy(out, dec, n - d);
		len = n - d;
		out[len++] = '.';
		memcpy(out + len, dec + n - d, d);
		len += d;
	}
	out[len] = '\0';
	return (int)len;
}

int rw_u256_parse_units(rw_u256 *ret, const char *s, size_t n, unsigned decimals)
{
	if (decimals > UNITS_MAX_DECIMALS)
		return RW_ERANGE;
	const char *dot = n ? memchr(s, '.', n) : NULL;
	size_t ilen = dot ? (size_t)(dot - s) : n;
	size_t flen = dot ? n - ilen - 1 : 0;
	const char *frac = dot ? dot + 1 : NULL;
	if (!all_dec_digits(s, ilen) || (dot && !all_dec_digits(frac, flen)))
		return RW_EINVAL;
	if (flen > decimals)
		return RW_ERANGE;
	rw_u256 v = rw_u256_from_u64(0);
	if (accumulate_dec(&v, s, ilen) < 0 || accumulate_dec(&v, frac, flen) < 0)
		return RW_ERANGE;
	for (size_t i = flen; i < decimals; i++)
		if (mul_add_small(&v, 10, 0) < 0)
			return RW_ERANGE;
	*ret = v;
	return 0;
}
