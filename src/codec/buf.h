/* buf.h: a growable byte buffer with a ceiling, and memory wiping. */
#ifndef RW_BUF_H
#define RW_BUF_H

#include <stddef.h>
#include <stdint.h>

/* A growable buffer. p is NULL until the first append; len bytes are used;
 * it never grows past max bytes. Zero-initialise then call rw_buf_init. */
struct rw_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	size_t max;
};

/* Default ceiling for buffers that hold one encoded item (16 MiB). */
#define RW_BUF_DEFAULT_MAX ((size_t)16 << 20)

/* Initialises an empty buffer that will refuse to grow beyond max bytes. */
void rw_buf_init(struct rw_buf *b, size_t max);

/* Makes room for n more bytes. Returns 0, RW_ETOOBIG if len + n > max, or
 * RW_ENOMEM. On failure the buffer is unchanged. */
int rw_buf_reserve(struct rw_buf *b, size_t n);

/* Appends n bytes from p (p may be NULL only when n == 0). Returns 0,
 * RW_ETOOBIG or RW_ENOMEM; on failure the buffer is unchanged. */
int rw_buf_append(struct rw_buf *b, const void *p, size_t n);

/* Appends printf-formatted text (no terminating NUL is counted in len; one
 * spare byte past it must fit under max). Returns 0, RW_EINVAL for a format
 * error, RW_ETOOBIG or RW_ENOMEM; on failure the buffer is unchanged. */
int rw_buf_appendf(struct rw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends one byte. Same returns as rw_buf_append. */
int rw_buf_push(struct rw_buf *b, uint8_t byte);

/* Appends n zero bytes. Same returns as rw_buf_append. */
int rw_buf_zeros(struct rw_buf *b, size_t n);

/* Inserts n bytes from p at offset off (off <= len), moving the tail. */
int rw_buf_insert(struct rw_buf *b, size_t off, const void *p, size_t n);

/* Frees the memory (wiping it first) and leaves an empty buffer with the
 * same ceiling. Accepts a buffer that was never appended to. */
void rw_buf_free(struct rw_buf *b);

/* Frees the memory without wiping it, for public data only (chain data,
 * JSON answers, COPY rows), where wiping megabytes costs for nothing.
 * Leaves an empty buffer with the same ceiling. */
void rw_buf_release(struct rw_buf *b);

/* Overwrites n bytes at p with zeros in a way the compiler cannot elide.
 * Use on every secret. p may be NULL when n == 0. */
void rw_wipe(void *p, size_t n);

#endif
