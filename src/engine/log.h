/* log.h: the engines' log lines.
 *
 * One line per event on standard error: an UTC timestamp with
 * milliseconds, the level, "[tag]" when a tag is given (a chain name, or
 * "chain relayer"), and the message, with newlines folded so a line is
 * always one line. The indexer and the relayer both write through here. */
#ifndef RW_LOG_H
#define RW_LOG_H

#include <stdarg.h>

/* Levels, lowest first (the indexer's and relayer's level enums have the
 * same values). */
enum rw_log_level { RW_LOG_DEBUG, RW_LOG_INFO, RW_LOG_WARN, RW_LOG_ERROR };

/* Writes one line; nothing when level is below the threshold.
 * In: tag: NULL or a short tag; fmt: printf format. */
void rw_logv(const char *tag, enum rw_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Returns 1 when lines of this level are written (to skip building
 * costly debug lines). */
int rw_log_enabled(enum rw_log_level level);

/* Sets the lowest level written (default RW_LOG_INFO), for every engine. */
void rw_log_set_level(enum rw_log_level level);

#endif
