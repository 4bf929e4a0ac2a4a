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
