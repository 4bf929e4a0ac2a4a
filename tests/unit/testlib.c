/* testlib.c: helpers shared by the unit tests. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"

char *tl_read_vector(const char *name, size_t *ret_len)
{
	const char *dir = getenv("RUNWAY_VECTORS");
	char path[4096];
	if (!dir)
		fail_msg("RUNWAY_VECTORS is not set (run the tests with meson test)");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open vector file %s", path);
	size_t cap = 4096, len = 0;
	char *s = malloc(cap);
	assert_non_null(s);
	size_t got;
	while ((got = fread(s + len, 1, cap - len - 1, f)) > 0) {
		len += got;
		if (cap - len - 1 == 0) {
			cap *= 2;
			s = realloc(s, cap);
			assert_non_null(s);
		}
	}
	fclose(f);
	s[len] = '\0';
	if (ret_len)
		*ret_len = len;
	return s;
}

uint8_t *tl_unhex(const char *hex, size_t *ret_len)
{
	struct rw_buf b;
	rw_buf_init(&b, (size_t)1 << 30);
	int r = rw_hex_decode_buf(&b, hex, strlen(hex), RW_HEX_PREFIX_OPTIONAL);
	if (r < 0)
		fail_msg("bad hex in test data: %.80s", hex);
	uint8_t *p = malloc(b.len ? b.len : 1);
	assert_non_null(p);
	if (b.len)
		memcpy(p, b.p, b.len);
	*ret_len = b.len;
	rw_buf_free(&b);
	return p;
}

void tl_assert_hex(const uint8_t *got, size_t n, const char *want)
{
	char *g = rw_hex_encode_alloc(got, n);
	assert_non_null(g);
	const char *w = want;
	if (w[0] == '0' && (w[1] == 'x' || w[1] == 'X'))
		w += 2;
	if (strcasecmp(g + 2, w) != 0) {
		print_error("hex mismatch\n  got:  %s\n  want: 0x%s\n", g, w);
		free(g);
		fail();
	}
	free(g);
}

size_t tl_lines(char *text, char **lines, size_t max)
{
	size_t n = 0;
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l && n < max; l = strtok_r(NULL, "\n", &save)) {
		size_t k = strlen(l);
		if (k && l[k - 1] == '\r')
			l[--k] = '\0';
		if (k == 0 || l[0] == '#')
			continue;
		lines[n++] = l;
	}
	return n;
}
