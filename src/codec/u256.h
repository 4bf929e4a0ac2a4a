/* u256.h: unsigned 256-bit integers for money and EVM words.
 *
 * Every operation detects overflow; nothing is silently truncated. Text
 * forms: decimal ("12345"), hex with 0x ("0x3039"), and token amounts
 * with N decimals ("19.990000000000195200"). */
#ifndef RW_U256_H
#define RW_U256_H

#include <stddef.h>
#include <stdint.h>

/* Four 64-bit words, least significant first. */
typedef struct {
	uint64_t w[4];
} rw_u256;

/* Longest decimal text: 78 digits; with a decimal point and NUL, 81. */
#define RW_U256_DEC_MAX 81
/* Longest hex text: "0x" + 64 digits + NUL. */
#define RW_U256_HEX_MAX 67

/* Returns v as a u256. */
rw_u256 rw_u256_from_u64(uint64_t v);

/* Returns 1 when v is zero, else 0. */
int rw_u256_is_zero(const rw_u256 *v);

/* Returns -1, 0 or 1 as a is less than, equal to or greater than b. */
int rw_u256_cmp(const rw_u256 *a, const rw_u256 *b);

/* *ret = a + b. Returns 0 or RW_ERANGE on overflow (ret untouched).
 * ret may alias a or b (same for every arithmetic function below). */
int rw_u256_add(rw_u256 *ret, const rw_u256 *a, const rw_u256 *b);

/* *ret = a - b. Returns 0 or RW_ERANGE when b > a. */
int rw_u256_sub(rw_u256 *ret, const rw_u256 *a, const rw_u256 *b);

/* *ret = a * b. Returns 0 or RW_ERANGE when the product needs > 256 bits. */
int rw_u256_mul(rw_u256 *ret, const rw_u256 *a, const rw_u256 *b);

/* *ret_q = a / b and *ret_r = a % b (either may be NULL). Returns 0 or
 * RW_EDIVZERO when b is zero. */
int rw_u256_divmod(rw_u256 *ret_q, rw_u256 *ret_r, const rw_u256 *a, const rw_u256 *b);

/* *ret = a / b. Returns 0 or RW_EDIVZERO. */
int rw_u256_div(rw_u256 *ret, const rw_u256 *a, const rw_u256 *b);

/* *ret = a % b. Returns 0 or RW_EDIVZERO. */
int rw_u256_mod(rw_u256 *ret, const rw_u256 *a, const rw_u256 *b);

/* *ret = v as uint64. Returns 0 or RW_ERANGE when v >= 2^64. */
int rw_u256_to_u64(uint64_t *ret, const rw_u256 *v);

/* Writes v as 32 big-endian bytes. */
void rw_u256_to_be(uint8_t out[32], const rw_u256 *v);

/* Reads n big-endian bytes (n may exceed 32 only if the extra leading
 * bytes are zero). Returns 0 or RW_ERANGE. */
int rw_u256_from_be(rw_u256 *ret, const uint8_t *in, size_t n);

/* Number of bytes in the minimal big-endian form of v (0 for zero). */
size_t rw_u256_byte_len(const rw_u256 *v);

/* Parses decimal digits ("0", "123"; no sign, no spaces, no leading '+').
 * Leading zeros are accepted. Returns 0, RW_EINVAL (empty, bad digit) or
 * RW_ERANGE (>= 2^256). */
int rw_u256_parse_dec(rw_u256 *ret, const char *s, size_t n);

/* Parses "0x" (or "0X") followed by 1..64 hex digits in either case
 * (leading zeros accepted). Returns 0, RW_EINVAL (no prefix, no digits, bad
 * digit) or RW_ERANGE (more than 64 digits). */
int rw_u256_parse_hex(rw_u256 *ret, const char *s, size_t n);

/* Parses a JSON-RPC QUANTITY: like rw_u256_parse_hex but leading zeros are
 * refused ("0x0" is zero, "0x01" is RW_EINVAL). */
int rw_u256_parse_quantity(rw_u256 *ret, const char *s, size_t n);

/* Parses hex when the text starts with "0x" (or "0X"), else decimal. */
int rw_u256_parse(rw_u256 *ret, const char *s, size_t n);

/* Writes v in decimal with a NUL into out (RW_U256_DEC_MAX chars).
 * Returns the length before the NUL. */
size_t rw_u256_format_dec(char *out, const rw_u256 *v);

/* Writes v as a QUANTITY ("0x0", "0x1f") with a NUL into out
 * (RW_U256_HEX_MAX chars). Returns the length before the NUL. */
size_t rw_u256_format_hex(char *out, const rw_u256 *v);

/* Writes v base units as a token amount with exactly `decimals` digits
 * after the point (none and no point when decimals is 0), e.g. 19990000000000195200 with
 * 18 decimals is "19.990000000000195200", 10000000 with 6 is "10.000000".
 * decimals <= 77. out holds RW_U256_DEC_MAX + 1 chars. Returns the length
 * before the NUL, or RW_ERANGE when decimals > 77. */
int rw_u256_format_units(char *out, const rw_u256 *v, unsigned decimals);

/* Parses a token amount into base units: "10", "10.5", "10.000000",
 * ".5" is refused, "10." is refused. More fractional digits than
 * `decimals` is RW_ERANGE (never rounded); a result >= 2^256 is
 * RW_ERANGE; anything else malformed is RW_EINVAL. decimals > 77 is
 * RW_ERANGE, as for rw_u256_format_units. */
int rw_u256_parse_units(rw_u256 *ret, const char *s, size_t n, unsigned decimals);

#endif
