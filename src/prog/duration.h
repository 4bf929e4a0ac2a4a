/* duration.h: human durations for the CLI ("2w", "14d", "1w2d12h",
 * "90m", "3600s", "3600"), as exact whole seconds; times left and UTC
 * dates for people. */
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

/* Formats a time left for people, to the hour when a day or more is left
 * ("13 days 23 hours", "1 day 0 hours"), to the minute below a day
 * ("5 hours 12 minutes"), to the second below an hour ("4 minutes 2
 * seconds"), "none" for 0, into out (at least 48 bytes). Returns out. */
char *rw_duration_left(char *out, size_t n, uint64_t seconds);

/* Formats a unix time as an ISO 8601 UTC date ("2025-01-02T03:04:05Z")
 * into out (at least 32 bytes). Returns 0, or RW_ERANGE when the time is
 * past the year 9999 (out then holds "").
 * Out: out. In: t: seconds since 1970-01-01 UTC. */
int rw_time_iso(char out[32], uint64_t t);

#endif
