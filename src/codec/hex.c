/* hex.c: strict hexadecimal text. */
#include "hex.h"

#include <stdlib.h>

#include "err.h"

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

/* Decodes exactly n bytes from 2n digits at s; returns 0 or RW_EINVAL.
 * Writes out only after every digit has been checked. */
static int decode_digits(uint8_t *out, const char *s, size_t n)
{
	for (size_t i = 0; i < 2 * n; i++)
		if (rw_hex_digit(s[i]) < 0)
			return RW_EINVAL;
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(rw_hex_digit(s[2 * i]) << 4 | rw_hex_digit(s[2 * i + 1]));
	return 0;
}

int rw_hex_decode_fixed(uint8_t *out, size_t n, const char *s, size_t slen, unsigned flags)
{
	int r = strip_prefix(&s, &slen, flags);
	if (r < 0)
		return r;
	for (size_t i = 0; i < slen; i++)
		if (rw_hex_digit(s[i]) < 0)
			return RW_EINVAL;
	if (slen != 2 * n)
		return RW_ERANGE;
	return decode_digits(out, s, n);
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
	r = decode_digits(out->p + out->len, s, n);
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
		int d = rw_hex_digit(s[i]);
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
