/* pg_copy.c: the binary COPY format and PostgreSQL's binary numeric.
 *
 * COPY binary: an 11-byte signature, a 32-bit flags word and a 32-bit
 * header-extension length; then per row a 16-bit field count and per
 * field a 32-bit length (-1 for NULL) and the value in the type's binary
 * send format; then a 16-bit -1. All integers are big-endian.
 *
 * numeric: int16 ndigits, int16 weight, uint16 sign (0 or 0x4000),
 * uint16 dscale, then ndigits base-10000 digits as int16, most significant
 * first; the value is sum(digit[i] * 10000^(weight - i)). The canonical
 * form has no leading or trailing zero digits; zero has no digits. */
#include "pg.h"

#include <string.h>

#include "err.h"

#define NUMERIC_POS      0x0000
#define NUMERIC_NEG      0x4000
#define NUMERIC_MAX_TEXT 1000 /* digits accepted by rw_pg_copy_numeric */
#define NUMERIC_MAX_NDIG (NUMERIC_MAX_TEXT / 4 + 2)
#define FIELD_MAX        ((size_t)1 << 30)
/* 2000-01-01 minus 1970-01-01 in microseconds. */
#define PG_EPOCH_US 946684800000000LL

static const uint8_t signature[11] = { 'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0 };

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* Appends a field length followed by n bytes of p. */
static int put_field(struct rw_buf *b, const void *p, size_t n)
{
	if (n >= FIELD_MAX)
		return RW_ETOOBIG;
	int rc = rw_buf_reserve(b, 4 + n);
	if (rc < 0)
		return rc;
	put32(b->p + b->len, (uint32_t)n);
	if (n > 0)
		memcpy(b->p + b->len + 4, p, n);
	b->len += 4 + n;
	return 0;
}

int rw_pg_copy_header(struct rw_buf *b)
{
	uint8_t h[19];
	memcpy(h, signature, sizeof(signature));
	put32(h + 11, 0); /* flags: no OIDs */
	put32(h + 15, 0); /* no header extension */
	return rw_buf_append(b, h, sizeof(h));
}

int rw_pg_copy_trailer(struct rw_buf *b)
{
	uint8_t t[2];
	put16(t, 0xffff);
	return rw_buf_append(b, t, sizeof(t));
}

int rw_pg_copy_row(struct rw_buf *b, unsigned nfields)
{
	if (nfields > 1600)
		return RW_EINVAL;
	uint8_t h[2];
	put16(h, (uint16_t)nfields);
	return rw_buf_append(b, h, sizeof(h));
}

int rw_pg_copy_null(struct rw_buf *b)
{
	uint8_t h[4];
	put32(h, 0xffffffffu);
	return rw_buf_append(b, h, sizeof(h));
}

int rw_pg_copy_bool(struct rw_buf *b, int v)
{
	uint8_t x = v ? 1 : 0;
	return put_field(b, &x, 1);
}

int rw_pg_copy_int2(struct rw_buf *b, int16_t v)
{
	uint8_t x[2];
	put16(x, (uint16_t)v);
	return put_field(b, x, sizeof(x));
}

int rw_pg_copy_int4(struct rw_buf *b, int32_t v)
{
	uint8_t x[4];
	put32(x, (uint32_t)v);
	return put_field(b, x, sizeof(x));
}

int rw_pg_copy_int8(struct rw_buf *b, int64_t v)
{
	uint8_t x[8];
	put64(x, (uint64_t)v);
	return put_field(b, x, sizeof(x));
}

int rw_pg_copy_bytea(struct rw_buf *b, const void *p, size_t n)
{
	return put_field(b, p, n);
}

int rw_pg_copy_text(struct rw_buf *b, const char *s, size_t n)
{
	if (n > 0 && memchr(s, '\0', n))
		return RW_EINVAL;
	return put_field(b, s, n);
}

int rw_pg_copy_timestamptz(struct rw_buf *b, int64_t unix_us)
{
	if (unix_us < INT64_MIN + PG_EPOCH_US)
		return RW_ERANGE;
	return rw_pg_copy_int8(b, unix_us - PG_EPOCH_US);
}

/* The parts of a decimal text: [-] int [. frac]. */
struct dec_parts {
	int neg;
	const char *ip; /* integer digits without leading zeros */
	size_t il;
	const char *fp; /* fractional digits */
	size_t fl;
};

static size_t count_digits(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

static int split_decimal(struct dec_parts *d, const char *s, size_t n)
{
	size_t i = 0;
	memset(d, 0, sizeof(*d));
	if (n > 0 && s[0] == '-') {
		d->neg = 1;
		i = 1;
	}
	size_t il = count_digits(s + i, n - i);
	if (il == 0)
		return RW_EINVAL;
	d->ip = s + i;
	d->il = il;
	i += il;
	if (i < n && s[i] == '.') {
		i++;
		d->fp = s + i;
		d->fl = count_digits(s + i, n - i);
		if (d->fl == 0)
			return RW_EINVAL;
		i += d->fl;
	}
	if (i != n)
		return RW_EINVAL;
	if (d->il + d->fl > NUMERIC_MAX_TEXT)
		return RW_ERANGE;
	while (d->il > 0 && d->ip[0] == '0') {
		d->ip++;
		d->il--;
	}
	return 0;
}

/* Value of up to four decimal digits, right-padded with zeros to four. */
static uint16_t group_value(const char *p, size_t n)
{
	unsigned v = 0;
	for (size_t i = 0; i < 4; i++)
		v = v * 10 + (i < n ? (unsigned)(p[i] - '0') : 0);
	return (uint16_t)v;
}

int rw_pg_numeric_encode(uint8_t *out, size_t cap, const char *s, size_t n)
{
	struct dec_parts d;
	int rc = split_decimal(&d, s, n);
	if (rc < 0)
		return rc;
	uint16_t dig[NUMERIC_MAX_NDIG];
	size_t nd = 0;
	size_t ig = (d.il + 3) / 4;
	size_t first = d.il - 4 * (ig > 0 ? ig - 1 : 0); /* digits in the first group */
	for (size_t g = 0; g < ig; g++) {
		size_t off = g == 0 ? 0 : first + 4 * (g - 1);
		size_t len = g == 0 ? first : 4;
		unsigned v = 0;
		for (size_t k = 0; k < len; k++)
			v = v * 10 + (unsigned)(d.ip[off + k] - '0');
		dig[nd++] = (uint16_t)v;
	}
	for (size_t off = 0; off < d.fl; off += 4)
		dig[nd++] = group_value(d.fp + off, d.fl - off < 4 ? d.fl - off : 4);
	int weight = (int)ig - 1;
	size_t lead = 0;
	while (lead < nd && dig[lead] == 0)
		lead++;
	weight -= (int)lead;
	while (nd > lead && dig[nd - 1] == 0)
		nd--;
	size_t ndig = nd - lead;
	uint16_t sign = d.neg ? NUMERIC_NEG : NUMERIC_POS;
	if (ndig == 0) {
		weight = 0;
		sign = NUMERIC_POS;
	}
	size_t need = 8 + 2 * ndig;
	if (need > cap)
		return RW_ERANGE;
	put16(out, (uint16_t)ndig);
	put16(out + 2, (uint16_t)(int16_t)weight);
	put16(out + 4, sign);
	put16(out + 6, (uint16_t)d.fl);
	for (size_t i = 0; i < ndig; i++)
		put16(out + 8 + 2 * i, dig[lead + i]);
	return (int)need;
}

int rw_pg_copy_numeric(struct rw_buf *b, const char *s, size_t n)
{
	uint8_t enc[8 + 2 * NUMERIC_MAX_NDIG];
	int len = rw_pg_numeric_encode(enc, sizeof(enc), s, n);
	if (len < 0)
		return len;
	return put_field(b, enc, (size_t)len);
}

/* Converts v to base-10000 digits, least significant first, by long
 * division of its 32-bit limbs by 10^8. Returns the digit count (no
 * leading zero digits; 0 for zero). */
static size_t u256_base10000(uint16_t dig[20], const rw_u256 *v)
{
	uint32_t limb[8]; /* most significant first */
	for (int i = 0; i < 4; i++) {
		limb[7 - 2 * i] = (uint32_t)v->w[i];
		limb[6 - 2 * i] = (uint32_t)(v->w[i] >> 32);
	}
	size_t nd = 0;
	int top = 0;
	while (top < 8 && limb[top] == 0)
		top++;
	while (top < 8) {
		uint64_t rem = 0;
		for (int k = top; k < 8; k++) {
			uint64_t cur = rem << 32 | limb[k];
			limb[k] = (uint32_t)(cur / 100000000u);
			rem = cur % 100000000u;
		}
		dig[nd++] = (uint16_t)(rem % 10000);
		dig[nd++] = (uint16_t)(rem / 10000);
		while (top < 8 && limb[top] == 0)
			top++;
	}
	while (nd > 0 && dig[nd - 1] == 0)
		nd--;
	return nd;
}

int rw_pg_copy_numeric_u256(struct rw_buf *b, const rw_u256 *v)
{
	uint16_t dig[20];
	size_t nd = u256_base10000(dig, v);
	size_t low = 0; /* trailing zero digits are not sent */
	while (low < nd && dig[low] == 0)
		low++;
	size_t ndig = nd - low;
	uint8_t enc[8 + 2 * 20];
	put16(enc, (uint16_t)ndig);
	put16(enc + 2, (uint16_t)(nd > 0 ? nd - 1 : 0)); /* weight */
	put16(enc + 4, NUMERIC_POS);
	put16(enc + 6, 0); /* dscale */
	for (size_t i = 0; i < ndig; i++)
		put16(enc + 8 + 2 * i, dig[nd - 1 - i]);
	return put_field(b, enc, 8 + 2 * ndig);
}

/* Appends c to out at *pos when there is room; counts it either way. */
static void emit(char *out, size_t cap, size_t *pos, char c)
{
	if (*pos < cap)
		out[*pos] = c;
	(*pos)++;
}

/* Appends the four digits of v (or fewer: only the significant ones when
 * lead is set, at most max of them otherwise). */
static void emit_group(char *out, size_t cap, size_t *pos, unsigned v, int lead, size_t max)
{
	char g[4] = { (char)('0' + v / 1000), (char)('0' + v / 100 % 10), (char)('0' + v / 10 % 10),
		      (char)('0' + v % 10) };
	size_t k = 0;
	if (lead)
		while (k < 3 && g[k] == '0')
			k++;
	for (size_t e = 0; k < 4 && e < max; k++, e++)
		emit(out, cap, pos, g[k]);
}

int rw_pg_numeric_decode(char *out, size_t cap, const uint8_t *p, size_t n)
{
	if (n < 8)
		return RW_EINVAL;
	size_t ndig = get16(p);
	int weight = (int16_t)get16(p + 2);
	unsigned sign = get16(p + 4), dscale = get16(p + 6);
	if ((sign != NUMERIC_POS && sign != NUMERIC_NEG) || dscale > 0x3fff || n != 8 + 2 * ndig)
		return RW_EINVAL;
	for (size_t i = 0; i < ndig; i++)
		if (get16(p + 8 + 2 * i) >= 10000)
			return RW_EINVAL;
	size_t pos = 0;
	if (sign == NUMERIC_NEG && ndig > 0)
		emit(out, cap, &pos, '-');
	if (weight < 0) {
		emit(out, cap, &pos, '0');
	} else {
		for (int i = 0; i <= weight; i++) {
			unsigned v = (size_t)i < ndig ? get16(p + 8 + 2 * i) : 0;
			emit_group(out, cap, &pos, v, i == 0, 4);
		}
	}
	if (dscale > 0) {
		emit(out, cap, &pos, '.');
		size_t left = dscale;
		for (long j = 1; left > 0; j++) {
			long idx = weight + j;
			unsigned v = idx >= 0 && (size_t)idx < ndig ? get16(p + 8 + 2 * idx) : 0;
			size_t take = left < 4 ? left : 4;
			emit_group(out, cap, &pos, v, 0, take);
			left -= take;
		}
	}
	if (pos >= cap)
		return RW_ETOOBIG;
	out[pos] = '\0';
	return (int)pos;
}
