/* replay.c: runs a fuzz target over every file of a corpus directory.
 *
 * Usage: replay_<name> DIR... ; exit 0 when every input ran (the target
 * aborts on a finding, so sanitizers turn it into a failure). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "replay: cannot open %s\n", path);
		return -1;
	}
	size_t cap = 1 << 16, len = 0, got;
	uint8_t *p = malloc(cap);
	if (!p) {
		fclose(f);
		return -1;
	}
	while ((got = fread(p + len, 1, cap - len, f)) > 0) {
		len += got;
		if (len == cap) {
			uint8_t *q = realloc(p, cap * 2);
			if (!q) {
				free(p);
				fclose(f);
				return -1;
			}
			p = q;
			cap *= 2;
		}
	}
	fclose(f);
	/* Copy into an exact-size allocation so ASan sees overreads. */
	uint8_t *exact = malloc(len ? len : 1);
	if (!exact) {
		free(p);
		return -1;
	}
	memcpy(exact, p, len);
	free(p);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

int main(int argc, char **argv)
{
	int files = 0, errors = 0;
	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		if (!d) {
			fprintf(stderr, "replay: cannot open corpus directory %s\n", argv[i]);
			return 1;
		}
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (run_file(path) < 0)
				errors++;
			else
				files++;
		}
		closedir(d);
	}
	printf("replay: %d inputs, %d unreadable\n", files, errors);
	if (files == 0) {
		fprintf(stderr, "replay: empty corpus\n");
		return 1;
	}
	return errors ? 1 : 0;
}
