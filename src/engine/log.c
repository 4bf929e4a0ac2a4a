/* log.c: the engines' log lines. */
#include "log.h"

#include <stdio.h>
#include <time.h>

static enum rw_log_level log_min = RW_LOG_INFO;

static const char *level_name(enum rw_log_level l)
{
	switch (l) {
	case RW_LOG_DEBUG: return "DEBUG";
	case RW_LOG_INFO: return "INFO";
	case RW_LOG_WARN: return "WARN";
	case RW_LOG_ERROR: return "ERROR";
	}
	return "?";
}

int rw_log_enabled(enum rw_log_level level)
{
	return level >= log_min;
}

void rw_log_set_level(enum rw_log_level level)
{
	log_min = level;
}

void rw_logv(const char *tag, enum rw_log_level level, const char *fmt, va_list ap)
{
	if (level < log_min)
		return;
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char line[2048];
	int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, ts.tv_nsec / 1000000, level_name(level));
	if (tag && n >= 0 && (size_t)n < sizeof(line))
		n += snprintf(line + n, sizeof(line) - (size_t)n, "[%s] ", tag);
	if (n >= 0 && (size_t)n < sizeof(line))
		n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	size_t len = n < 0 ? 0 : (size_t)n >= sizeof(line) - 1 ? sizeof(line) - 2 : (size_t)n;
	for (size_t i = 0; i < len; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[len++] = '\n';
	(void)fwrite(line, 1, len, stderr);
}
