/* buf.c: growable byte buffer with a ceiling. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

void rw_buf_init(struct rw_buf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

int rw_buf_reserve(struct rw_buf *b, size_t n)
{
	if (n > b->max || b->len > b->max - n)
		return RW_ETOOBIG;
	size_t need = b->len + n;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > b->max / 2 ? b->max : cap * 2;
	if (cap < need)
		cap = need;
	uint8_t *p = malloc(cap);
	if (!p)
		return RW_ENOMEM;
	if (b->len)
		memcpy(p, b->p, b->len);
	/* Wipe the old copy: buffers may hold key material. */
	rw_wipe(b->p, b->cap);
	free(b->p);
	b->p = p;
	b->cap = cap;
	return 0;
}

int rw_buf_append(struct rw_buf *b, const void *p, size_t n)
{
	int r = rw_buf_reserve(b, n);
	if (r < 0)
		return r;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

int rw_buf_appendf(struct rw_buf *b, const char *fmt, ...)
{
	va_list ap, again;
	va_start(ap, fmt);
	va_copy(again, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	int r = n < 0 ? RW_EINVAL : rw_buf_reserve(b, (size_t)n + 1);
	if (r == 0) {
		vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, again);
		b->len += (size_t)n;
	}
	va_end(again);
	return r;
}

int rw_buf_push(struct rw_buf *b, uint8_t byte)
{
	return rw_buf_append(b, &byte, 1);
}

int rw_buf_zeros(struct rw_buf *b, size_t n)
{
	int r = rw_buf_reserve(b, n);
	if (r < 0)
		return r;
	if (n)
		memset(b->p + b->len, 0, n);
	b->len += n;
	return 0;
}

int rw_buf_insert(struct rw_buf *b, size_t off, const void *p, size_t n)
{
	if (off > b->len)
		return RW_EINVAL;
	int r = rw_buf_reserve(b, n);
	if (r < 0)
		return r;
	if (n) {
		memmove(b->p + off + n, b->p + off, b->len - off);
		memcpy(b->p + off, p, n);
	}
	b->len += n;
	return 0;
}

void rw_buf_free(struct rw_buf *b)
{
	rw_wipe(b->p, b->cap);
	free(b->p);
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}

void rw_buf_release(struct rw_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}

void rw_wipe(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}
