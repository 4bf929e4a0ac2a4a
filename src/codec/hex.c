/* hex.c: strict hexadecimal text. */
#include "hex.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

/* Digit values plus one by byte; 0 for a byte that is no hex digit. */
static const uint8_t digit_p1[256] = {
	['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,
	['6'] = 7,  ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12,
	['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* The value of digit c, -1 when it is none. */
static inline int digit_val(unsigned char c)
{
	return (int)digit_p1[c] - 1;
}

int rw_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Applies the prefix rule. On success advances *s (and shrinks *slen) past
 * any prefix. */
static int strip_prefix(const char **s, size_t *slen, unsigned flags)
{
	int has = *slen >= 2 && (*s)[0] == '0' && ((*s)[1] == 'x' || (*s)[1] == 'X');
	if (has && flags == RW_HEX_PREFIX_FORBIDDEN)
		return RW_EINVAL;
	if (!has && flags == RW_HEX_PREFIX_REQUIRED)
		return RW_EINVAL;
	if (has) {
		*s += 2;
		*slen -= 2;
	}
	return 0;
}

/* Decodes n bytes from 2n digits at s into out, one pass; returns 0 or
 * RW_EINVAL. out may be written even when a digit is bad. */
static int decode_into(uint8_t *out, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		int hi = digit_val(u[2 * i]), lo = digit_val(u[2 * i + 1]);
		bad |= hi | lo; /* negative once any digit is bad */
		out[i] = (uint8_t)((hi & 15) << 4 | (lo & 15));
	}
	return bad < 0 ? RW_EINVAL : 0;
}

/* Decodes exactly n bytes from 2n digits at s; returns 0 or RW_EINVAL.
 * Writes out only after every digit has been checked. */
static int decode_digits(uint8_t *out, const char *s, size_t n)
{
	uint8_t tmp[64];
	if (n <= sizeof(tmp)) {
		if (decode_into(tmp, s, n) < 0)
			return RW_EINVAL;
		memcpy(out, tmp, n);
		return 0;
	}
	for (size_t i = 0; i < 2 * n; i++)
		if (digit_val((unsigned char)s[i]) < 0)
			return RW_EINVAL;
	return decode_into(out, s, n);
}

int rw_hex_decode_fixed(uint8_t *out, size_t n, const char *s, size_t slen, unsigned flags)
{
	int r = strip_prefix(&s, &slen, flags);
	if (r < 0)
		return r;
	if (slen == 2 * n)
		return decode_digits(out, s, n);
	for (size_t i = 0; i < slen; i++)
		if (digit_val((unsigned char)s[i]) < 0)
			return RW_EINVAL;
	return RW_ERANGE;
}

int rw_hex_decode_buf(struct rw_buf *out, const char *s, size_t slen, unsigned flags)
{
	int r = strip_prefix(&s, &slen, flags);
	if (r < 0)
		return r;
	if (slen % 2)
		return RW_EINVAL;
	size_t n = slen / 2;
	if (n == 0)
		return 0;
	if (n > (size_t)INT32_MAX)
		return RW_ETOOBIG;
	r = rw_buf_reserve(out, n);
	if (r < 0)
		return r;
	r = decode_into(out->p + out->len, s, n); /* past len: unseen until it counts */
	if (r < 0)
		return r;
	out->len += n;
	return (int)n;
}

size_t rw_hex_encode(char *out, const uint8_t *in, size_t n, int prefix)
{
	static const char digits[] = "0123456789abcdef";
	size_t k = 0;
	if (prefix) {
		out[k++] = '0';
		out[k++] = 'x';
	}
	for (size_t i = 0; i < n; i++) {
		out[k++] = digits[in[i] >> 4];
		out[k++] = digits[in[i] & 15];
	}
	out[k] = '\0';
	return k;
}

char *rw_hex_encode_alloc(const uint8_t *in, size_t n)
{
	if (n > (SIZE_MAX - 3) / 2)
		return NULL;
	char *s = malloc(2 * n + 3);
	if (s)
		rw_hex_encode(s, in, n, 1);
	return s;
}

int rw_hex_quantity_u64(uint64_t *ret, const char *s, size_t slen)
{
	if (slen < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return RW_EINVAL;
	s += 2;
	slen -= 2;
	if (slen > 1 && s[0] == '0')
		return RW_EINVAL;
	uint64_t v = 0;
	for (size_t i = 0; i < slen; i++) {
		int d = digit_val((unsigned char)s[i]);
		if (d < 0)
			return RW_EINVAL;
		if (v >> 60)
			return RW_ERANGE;
		v = v << 4 | (uint64_t)d;
	}
	*ret = v;
	return 0;
}

size_t rw_hex_format_u64(char *out, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	size_t n = 0;
	do {
		tmp[n++] = digits[v & 15];
		v >>= 4;
	} while (v);
	size_t k = 0;
	out[k++] = '0';
	out[k++] = 'x';
	while (n)
		out[k++] = tmp[--n];
	out[k] = '\0';
	return k;
}
