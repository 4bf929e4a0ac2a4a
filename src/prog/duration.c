/* duration.c: human durations for the CLI. */
#include "duration.h"

#include <stdio.h>
#include <string.h>

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
