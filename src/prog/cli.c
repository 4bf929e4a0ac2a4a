/* cli.c: conventions shared by runway and runwayd. */
#include "cli.h"

#include <stdarg.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "hex.h"
#include "key.h"
#include "rwconfig.h"

void rw_cli_err(const struct rw_cli *cli, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", cli->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int rw_cli_usage(const struct rw_cli *cli, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: usage error: ", cli->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", cli->prog);
	return RW_EXIT_USAGE;
}

int rw_cli_is_help(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

/* The name of entry i of a subcommand table (see rw_cli_subcommand). */
static const char *entry_name(const void *table, size_t size, size_t i)
{
	const char *name;
	memcpy(&name, (const char *)table + i * size, sizeof(name));
	return name;
}

/* Writes "a, b or c" of the table's names into out (truncated to cap). */
static void list_names(char *out, size_t cap, const void *table, size_t size, size_t n)
{
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n && len < cap; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
		int w = snprintf(out + len, cap - len, "%s%s", sep, entry_name(table, size, i));
		if (w < 0)
			break;
		len += (size_t)w;
	}
}

int rw_cli_subcommand(size_t *ret_index, int *ret_exit, const struct rw_cli *cli, const char *cmd,
		      const char *usage, const void *table, size_t size, size_t n, int argc,
		      char **argv)
{
	char list[256];
	list_names(list, sizeof(list), table, size, n);
	if (argc < 2) {
		*ret_exit = rw_cli_usage(cli, "%s: a subcommand is needed (%s)", cmd, list);
		return 0;
	}
	if (rw_cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		*ret_exit = RW_EXIT_OK;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(argv[1], entry_name(table, size, i)) == 0) {
			*ret_index = i;
			return 1;
		}
	}
	*ret_exit = rw_cli_usage(cli, "%s: unknown subcommand '%s' (%s)", cmd, argv[1], list);
	return 0;
}

int rw_cli_opt_value(const struct rw_cli *cli, int argc, char **argv, int *i, const char *name,
		     const char **ret)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, n) != 0)
		return 0;
	if (a[2 + n] == '=') {
		*ret = a + 3 + n;
		return 1;
	}
	if (a[2 + n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		rw_cli_usage(cli, "option --%s needs a value", name);
		return -1;
	}
	*ret = argv[++*i];
	return 1;
}

int rw_cli_addr(const struct rw_cli *cli, const char *opt, const char *v, uint8_t ret[20])
{
	int r = rw_addr_parse(ret, v, strlen(v));
	if (r == RW_ECHECKSUM)
		return rw_cli_usage(cli, "%s %s has a wrong EIP-55 checksum", opt, v);
	if (r < 0)
		return rw_cli_usage(cli, "%s '%s' is not a 0x-prefixed 20-byte address", opt, v);
	return 0;
}

int rw_cli_addr_hex(const struct rw_cli *cli, const char *opt, const char *v, char out[43])
{
	uint8_t a[20];
	int r = rw_cli_addr(cli, opt, v, a);
	if (r == 0)
		rw_hex_encode(out, a, 20, 1);
	return r;
}

int rw_cli_config(const struct rw_cli *cli, struct rw_config **ret)
{
	char msg[RW_CONFIG_ERRLEN];
	if (cli->config_path && rw_config_load(ret, cli->config_path, msg, sizeof(msg)) < 0) {
		rw_cli_err(cli, "%s", msg);
		return RW_EXIT_FAIL;
	}
	return 0;
}

void rw_cli_version(const struct rw_cli *cli)
{
	printf("%s %s\n", cli->prog, RUNWAY_VERSION);
}
