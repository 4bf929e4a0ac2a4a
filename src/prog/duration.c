/* duration.c: human durations for the CLI. */
#include "duration.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"

static const struct {
	char unit;
	uint64_t seconds;
} units[] = {
	{ 'w', 604800 }, { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
};

int rw_duration_parse(uint64_t *ret, const char *s)
{
	uint64_t total = 0;
	unsigned terms = 0;
	const char *p = s;
	if (!*p)
		return RW_EINVAL;
	while (*p) {
		if (*p < '0' || *p > '9')
			return RW_EINVAL;
		uint64_t v = 0;
		while (*p >= '0' && *p <= '9') {
			unsigned d = (unsigned)(*p++ - '0');
			if (v > (UINT64_MAX - d) / 10)
				return RW_ERANGE;
			v = v * 10 + d;
		}
		uint64_t mult = 1;
		if (*p) {
			size_t k;
			for (k = 0; k < sizeof(units) / sizeof(units[0]); k++)
				if (*p == units[k].unit)
					break;
			if (k == sizeof(units) / sizeof(units[0]))
				return RW_EINVAL;
			mult = units[k].seconds;
			p++;
		} else if (terms > 0) {
			return RW_EINVAL; /* "1w5": a bare number only alone */
		}
		terms++;
		if (v > UINT64_MAX / mult || total > UINT64_MAX - v * mult)
			return RW_ERANGE;
		total += v * mult;
	}
	if (total == 0)
		return RW_EINVAL;
	*ret = total;
	return 0;
}

char *rw_duration_format(char *out, size_t n, uint64_t seconds)
{
	size_t k = 0;
	out[0] = '\0';
	if (seconds == 0) {
		snprintf(out, n, "0s");
		return out;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && k < n; i++) {
		uint64_t q = seconds / units[i].seconds;
		if (!q)
			continue;
		int w = snprintf(out + k, n - k, "%llu%c", (unsigned long long)q, units[i].unit);
		if (w < 0 || (size_t)w >= n - k)
			break;
		k += (size_t)w;
		seconds -= q * units[i].seconds;
	}
	return out;
}

/* "N unit" or "N units". */
static int plural(char *out, size_t n, uint64_t v, const char *unit)
{
	return snprintf(out, n, "%llu %s%s", (unsigned long long)v, unit, v == 1 ? "" : "s");
}

char *rw_duration_left(char *out, size_t n, uint64_t seconds)
{
	static const struct {
		uint64_t big, small;
		const char *big_name, *small_name;
	} steps[] = {
		{ 86400, 3600, "day", "hour" },
		{ 3600, 60, "hour", "minute" },
		{ 60, 1, "minute", "second" },
	};
	if (seconds == 0) {
		snprintf(out, n, "none");
		return out;
	}
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (seconds < steps[i].big)
			continue;
		int k = plural(out, n, seconds / steps[i].big, steps[i].big_name);
		if (k > 0 && (size_t)k < n - 1) {
			out[k] = ' ';
			plural(out + k + 1, n - (size_t)k - 1,
			       seconds % steps[i].big / steps[i].small, steps[i].small_name);
		}
		return out;
	}
	plural(out, n, seconds, "second");
	return out;
}

int rw_time_iso(char out[32], uint64_t t)
{
	out[0] = '\0';
	if (t > 253402300799ull) /* 9999-12-31T23:59:59Z */
		return RW_ERANGE;
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		out[0] = '\0';
		return RW_ERANGE;
	}
	return 0;
}
