/* cli.h: conventions shared by runway and runwayd.
 *
 * Exit codes: 0 ok, 1 failure, 2 usage error. Messages and errors go to
 * standard error; results (and --json output) to standard output. */
#ifndef RW_CLI_H
#define RW_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The number of elements of an array (not a pointer). */
#define RW_NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum { RW_EXIT_OK = 0, RW_EXIT_FAIL = 1, RW_EXIT_USAGE = 2 };

/* Global options, parsed before the command word. */
struct rw_cli {
	const char *prog;         /* "runway" or "runwayd" */
	const char *config_path;  /* --config FILE */
	const char *rpc_url;      /* --rpc-url URL or $RUNWAY_RPC_URL */
	const char *database_url; /* --database-url URL or $RUNWAY_DATABASE_URL */
	int json;                 /* --json */
};

/* Prints "PROG: message\n" to standard error. */
void rw_cli_err(const struct rw_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prints "PROG: usage error: message\nTry 'PROG ... --help'.\n" and
 * returns RW_EXIT_USAGE, so callers can `return rw_cli_usage(...)`. */
int rw_cli_usage(const struct rw_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Returns 1 when arg is "-h" or "--help". */
int rw_cli_is_help(const char *arg);

/* Finds the subcommand word argv[1] of command `cmd` in a table of n entries
 * of `size` bytes each, each starting with its name (a `const char *`), as
 * rw_cli_subcommand(..., subs, sizeof(subs[0]), RW_NELEM(subs), ...).
 * Returns 1 with the entry's index in *ret_index. Otherwise returns 0 with the exit
 * code in *ret_exit: RW_EXIT_OK after printing `usage` for "-h", "--help" or
 * "help"; RW_EXIT_USAGE after "CMD: a subcommand is needed (a, b or c)" or
 * "CMD: unknown subcommand 'x' (a, b or c)". */
int rw_cli_subcommand(size_t *ret_index, int *ret_exit, const struct rw_cli *cli, const char *cmd,
		      const char *usage, const void *table, size_t size, size_t n, int argc,
		      char **argv);

/* If argv[*i] is "--name VALUE" or "--name=VALUE", stores VALUE in *ret,
 * advances *i past it and returns 1. Returns 0 when argv[*i] is another
 * option, and -1 (after printing a usage error) when the value is missing. */
int rw_cli_opt_value(const struct rw_cli *cli, int argc, char **argv, int *i, const char *name,
		     const char **ret);

/* Parses an address given to option `opt` (e.g. "--provider"): 0x + 40
 * hex digits, EIP-55 checked when mixed-case. Returns 0, or RW_EXIT_USAGE
 * after a usage error naming the option and the value. */
int rw_cli_addr(const struct rw_cli *cli, const char *opt, const char *v, uint8_t ret[20]);

/* rw_cli_addr, giving "0x" + 40 lowercase hex digits in out. */
int rw_cli_addr_hex(const struct rw_cli *cli, const char *opt, const char *v, char out[43]);

struct rw_config;

/* Loads the --config file into *ret when one was given (*ret stays NULL
 * otherwise). Returns 0, or RW_EXIT_FAIL after the loader's message (which
 * names the file and key); free *ret with rw_config_free either way. */
int rw_cli_config(const struct rw_cli *cli, struct rw_config **ret);

/* Prints the version line "PROG VERSION" to standard output. */
void rw_cli_version(const struct rw_cli *cli);

#endif
