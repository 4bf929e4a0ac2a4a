/* jscan.h: a small JSON scanner that walks a text in place.
 *
 * Design
 * - No tree is built: the caller pulls values one at a time (enter an
 *   object or array, step to its next member or element, read a string,
 *   skip a value). Strings come back as spans of the text (raw, escapes
 *   left in) so that hot paths (eth_getLogs answers: hex strings without
 *   escapes) copy nothing; rw_jscan_unescape decodes the rare escaped one.
 * - Strict RFC 8259 grammar, as jansson checks it: strings well-formed
 *   UTF-8 without raw control characters, escapes complete (surrogates
 *   paired), numbers in JSON form, literals true/false/null, nothing but
 *   whitespace after the top value (rw_jscan_end). What the scanner does
 *   not check is what a caller decides: duplicate keys, value types.
 * - Nesting is limited to RW_JSCAN_MAX_DEPTH levels; deeper text is an
 *   error, never a deep recursion (nothing here recurses).
 * - The first error sticks: every later call fails with it, and err_at /
 *   why say where and what (for a message naming the endpoint and method).
 * - The text need not be NUL-terminated; nothing reads past len bytes. */
#ifndef RW_JSCAN_H
#define RW_JSCAN_H

#include <stddef.h>
#include <stdint.h>

/* The most nested objects and arrays a text may hold. */
#define RW_JSCAN_MAX_DEPTH 512

/* The type of the value that comes next. */
enum rw_jtype {
	RW_J_NONE = 0, /* no value: end of text, end of a container, or an error */
	RW_J_OBJECT,
	RW_J_ARRAY,
	RW_J_STRING,
	RW_J_NUMBER,
	RW_J_TRUE,
	RW_J_FALSE,
	RW_J_NULL
};

/* A scanner over one text. Fields are private but for err, err_at, why. */
struct rw_jscan {
	const char *text;
	const char *p; /* next byte */
	const char *end;
	int err;         /* 0, or the first error (RW_EINVAL) */
	size_t err_at;   /* byte offset of the first error */
	const char *why; /* what the first error was (static text), or NULL */
	size_t depth;
	int done;                          /* the top value has been read */
	uint8_t stack[RW_JSCAN_MAX_DEPTH]; /* per open level: array/object, first or not */
	char key[64];                      /* an escaped key, unescaped (rw_jscan_next) */
};

/* Starts scanning text[0..len). Cannot fail. */
void rw_jscan_init(struct rw_jscan *s, const char *text, size_t len);

/* Returns the type of the next value (after whitespace) without consuming
 * it; RW_J_NONE at the end of the text, before a closing bracket, or after
 * an error (an unexpected byte is an error here). */
enum rw_jtype rw_jscan_peek(struct rw_jscan *s);

/* Skips the next value, whatever its type, checking all of it. Returns 0 or
 * RW_EINVAL.
 * Out: ret_p, ret_n (may be NULL): the value's text, from its first byte to
 * its last (no surrounding whitespace). */
int rw_jscan_skip(struct rw_jscan *s, const char **ret_p, size_t *ret_n);

/* Skips the next value finding only where it ends: a string at its closing
 * quote (escapes honoured), a container at its matching bracket; what lies
 * between is not checked (for text a checking scan reads later, when a
 * first pass only needs to find it). The value's first byte must start a
 * value. Returns 0, or RW_EINVAL for an unterminated string or container,
 * a mismatched bracket, or nesting deeper than RW_JSCAN_MAX_DEPTH.
 * Out: ret_p, ret_n (may be NULL): as rw_jscan_skip. */
int rw_jscan_skip_loose(struct rw_jscan *s, const char **ret_p, size_t *ret_n);

/* Reads the next value, which must be a string. Returns 0 or RW_EINVAL.
 * Out: ret_p, ret_n: the text between the quotes, escapes left in;
 * ret_escaped (may be NULL): 1 when it holds a backslash escape. */
int rw_jscan_string(struct rw_jscan *s, const char **ret_p, size_t *ret_n, int *ret_escaped);

/* Enters the next value, which must be an object (type RW_J_OBJECT) or an
 * array (RW_J_ARRAY): consumes its opening bracket. Returns 0 or RW_EINVAL
 * (another type, or nesting deeper than RW_JSCAN_MAX_DEPTH). */
int rw_jscan_enter(struct rw_jscan *s, enum rw_jtype type);

/* Steps to the next member of the object or element of the array entered
 * last. Returns 1 when one follows (for an object its key has been read,
 * and the colon: the value is next), 0 when the container ended (its
 * closing bracket consumed: the scanner is back in the parent), RW_EINVAL.
 * Out (objects only; may be NULL for arrays): ret_key, ret_klen: the key,
 * unescaped; a key with escapes is unescaped into s->key (valid until the
 * next call) when it fits there, else returned raw. */
int rw_jscan_next(struct rw_jscan *s, const char **ret_key, size_t *ret_klen);

/* Checks that nothing but whitespace follows the top value and that every
 * container was closed. Returns 0 or RW_EINVAL. */
int rw_jscan_end(struct rw_jscan *s);

/* Decodes the escapes of a string's raw text (as rw_jscan_string gives it,
 * already checked) into out, which must hold n bytes (decoding never
 * lengthens). Returns 0 or RW_EINVAL (text that rw_jscan_string would not
 * have accepted).
 * Out: out, ret_n: the UTF-8 bytes (not NUL-terminated; may hold NUL from
 * \u0000). */
int rw_jscan_unescape(char *out, size_t *ret_n, const char *raw, size_t n);

/* Returns the byte offset of the next byte to read. */
size_t rw_jscan_offset(const struct rw_jscan *s);

#endif
