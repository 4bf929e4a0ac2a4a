/* secret.h: where the CLI gets keys and passphrases from.
 *
 * A signing key comes from a keystore v3 file (--keystore FILE, with a
 * passphrase) or from a file holding the 0x-hex private key (--key-file
 * FILE). Both files must not be accessible by group or others. A
 * passphrase comes from --passphrase-file FILE (its first line), from the
 * environment variable named by --passphrase-env NAME (default
 * RUNWAY_PASSPHRASE), or, when neither is given and a terminal is
 * attached, from a prompt on /dev/tty with echo off.
 *
 * Every buffer that held a key or passphrase is wiped before it is freed;
 * nothing secret is ever printed. */
#ifndef RW_SECRET_H
#define RW_SECRET_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"

/* The key and passphrase options of a command. */
struct rw_secret_opts {
	const char *keystore;        /* --keystore FILE */
	const char *key_file;        /* --key-file FILE ("-" is standard input) */
	const char *passphrase_file; /* --passphrase-file FILE */
	const char *passphrase_env;  /* --passphrase-env NAME */
};

/* If argv[*i] is one of the options above, stores it, advances *i and
 * returns 1; returns 0 for another argument; -1 after a usage error. */
int rw_secret_take_opt(const struct rw_cli *cli, struct rw_secret_opts *o, int argc, char **argv,
		       int *i);

/* The help text lines for the options above. */
extern const char rw_secret_help[];

/* A passphrase: heap bytes, wiped and freed by rw_secret_pass_free. */
struct rw_secret_pass {
	char *p;
	size_t len;
};

/* Gets a passphrase from the sources in o, in the order described above.
 * When confirm is nonzero and the passphrase comes from a prompt, asks
 * twice and refuses a mismatch. Prints the reason to standard error and
 * returns -1 on failure, 0 on success. */
int rw_secret_pass_get(const struct rw_cli *cli, const struct rw_secret_opts *o, int confirm,
		       struct rw_secret_pass *ret);

/* Wipes and frees a passphrase (accepts an empty one). */
void rw_secret_pass_free(struct rw_secret_pass *pass);

/* Loads the signing key named by o (exactly one of --keystore and
 * --key-file must be set). Prints the reason (the file, and for a keystore
 * which field is wrong) to standard error and returns -1 on failure; 0 on
 * success with the key in ret_sk (wipe it after use).
 * ret_usage is set to 1 when the failure is a usage error (neither or both
 * key options given). */
int rw_secret_load_key(const struct rw_cli *cli, const struct rw_secret_opts *o, uint8_t ret_sk[32],
		       int *ret_usage);

/* Reads a 0x-hex private key from text (surrounding whitespace allowed).
 * Returns 0 or a negative rw_err code (RW_EINVAL malformed, RW_ECRYPTO
 * not a valid key). */
int rw_secret_parse_key(uint8_t ret_sk[32], const char *text, size_t len);

#endif
