/* duration.h: human durations for the CLI ("2w", "14d", "1w2d12h",
 * "90m", "3600s", "3600"), as exact whole seconds. */
#ifndef RW_DURATION_H
#define RW_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Parses s into seconds: one or more <digits><unit> terms with units s, m,
 * h, d, w (a bare number is seconds), summed. Returns 0; RW_EINVAL for
 * malformed text (empty, a unit without digits, an unknown unit, signs,
 * spaces, a zero total); RW_ERANGE when the total overflows 64 bits. */
int rw_duration_parse(uint64_t *ret, const char *s);

/* Formats seconds as the shortest exact term list ("2w", "1w2d", "1h30m",
 * "45s", "0s") into out (at least 48 bytes). Returns out. */
char *rw_duration_format(char *out, size_t n, uint64_t seconds);

#endif
