/* hex.h: strict hexadecimal text. */
#ifndef RW_HEX_H
#define RW_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Flags for the decoders. */
enum {
	RW_HEX_PREFIX_OPTIONAL = 0, /* "0x" may be present */
	RW_HEX_PREFIX_REQUIRED = 1, /* "0x" (or "0X") must be present */
	RW_HEX_PREFIX_FORBIDDEN = 2 /* no prefix allowed */
};

/* Decodes hex text of exactly 2*n digits into n bytes.
 * Returns 0; RW_EINVAL for a missing/forbidden prefix or a bad digit;
 * RW_ERANGE when the text has a different number of digits (odd counts
 * included). out is untouched on failure.
 * Args: out: n bytes; s, slen: the text (need not be NUL-terminated). */
int rw_hex_decode_fixed(uint8_t *out, size_t n, const char *s, size_t slen, unsigned flags);

/* Decodes hex text of any even length, appending the bytes to out.
 * Returns the number of bytes appended; RW_EINVAL (odd digit count, bad
 * digit, prefix rule broken), RW_ETOOBIG or RW_ENOMEM. On failure out is
 * unchanged. */
int rw_hex_decode_buf(struct rw_buf *out, const char *s, size_t slen, unsigned flags);

/* Encodes n bytes as lowercase hex, with "0x" when prefix is nonzero, and
 * a terminating NUL. out must hold 2*n + 3 chars. Returns the number of
 * chars written before the NUL. */
size_t rw_hex_encode(char *out, const uint8_t *in, size_t n, int prefix);

/* Encodes n bytes as a freshly allocated "0x..." string (free() it).
 * Returns NULL only when out of memory. */
char *rw_hex_encode_alloc(const uint8_t *in, size_t n);

/* Parses a JSON-RPC QUANTITY that fits 64 bits: "0x" then 1..16 hex
 * digits, no leading zeros ("0x0" is zero). Returns 0, RW_EINVAL for
 * malformed text (missing prefix, empty, leading zero, bad digit), or
 * RW_ERANGE when it does not fit. *ret untouched on failure. */
int rw_hex_quantity_u64(uint64_t *ret, const char *s, size_t slen);

/* Formats a uint64 as a QUANTITY ("0x0", "0x1a"). out holds >= 19 chars.
 * Returns the length written before the NUL. */
size_t rw_hex_format_u64(char *out, uint64_t v);

/* Returns the value of one hex digit, or -1. */
int rw_hex_digit(char c);

#endif
