/* cmd_keys.c: `runway keys new|import|address`: keys in encrypted keystore
 * v3 files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cmd.h"
#include "err.h"
#include "key.h"
#include "keystore.h"
#include "secret.h"

static const char usage[] =
	"Usage: runway keys new --keystore FILE [--kdf scrypt|pbkdf2] [--scrypt-n N]\n"
	"       runway keys import --keystore FILE --key-file KEYFILE [--kdf ...]\n"
	"       runway keys address --keystore FILE [--unverified]\n"
	"\n"
	"new      make a fresh key and write it to a new keystore v3 file (mode 0600);\n"
	"         prints its address\n"
	"import   encrypt the 0x-hex private key in KEYFILE (- for standard input)\n"
	"         into a new keystore file; prints its address\n"
	"address  decrypt the keystore and print the key's EIP-55 address;\n"
	"         --unverified prints the file's address field without decrypting\n"
	"\n"
	"Options:\n"
	"  --keystore FILE         the keystore file (never overwritten)\n"
	"  --key-file FILE         (import) the private key to encrypt\n"
	"  --kdf scrypt|pbkdf2     key derivation for new files (default scrypt)\n"
	"  --scrypt-n N            scrypt cost, a power of two (default 262144)\n"
	"  --pbkdf2-c N            pbkdf2 iterations (default 262144)\n"
	"  --passphrase-file FILE  passphrase from the first line of FILE\n"
	"  --passphrase-env NAME   passphrase from environment variable NAME\n"
	"                          (default: $RUNWAY_PASSPHRASE, else a prompt)\n"
	"  --unverified            (address) do not decrypt\n"
	"  --json                  print {\"address\": ..., \"keystore\": ...}\n";

/* parse_opts's return when it printed the help. */
#define HELP_SHOWN (-1)

struct keys_opts {
	struct rw_secret_opts secret;
	struct rw_keystore_params params;
	int unverified;
};

/* Parses a positive decimal uint32 option value. Returns 0 or -1. */
static int parse_u32(const char *s, uint32_t *ret)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > UINT32_MAX || s[0] == '-')
		return -1;
	*ret = (uint32_t)v;
	return 0;
}

/* Parses the options after the subcommand. Returns 0, HELP_SHOWN, or an
 * exit code. */
static int parse_opts(struct rw_cli *cli, int argc, char **argv, struct keys_opts *o)
{
	rw_keystore_params_default(&o->params);
	for (int i = 2; i < argc; i++) {
		const char *v;
		int r;
		if (rw_cli_is_help(argv[i])) {
			fputs(usage, stdout);
			return HELP_SHOWN;
		}
		if ((r = rw_secret_take_opt(cli, &o->secret, argc, argv, &i)) != 0) {
			if (r < 0)
				return RW_EXIT_USAGE;
			continue;
		}
		if (strcmp(argv[i], "--unverified") == 0) {
			o->unverified = 1;
			continue;
		}
		if ((r = rw_cli_opt_value(cli, argc, argv, &i, "kdf", &v)) != 0) {
			if (r < 0)
				return RW_EXIT_USAGE;
			if (strcmp(v, "scrypt") == 0)
				o->params.kdf = RW_KEYSTORE_SCRYPT;
			else if (strcmp(v, "pbkdf2") == 0)
				o->params.kdf = RW_KEYSTORE_PBKDF2;
			else
				return rw_cli_usage(cli, "--kdf must be scrypt or pbkdf2, not '%s'",
						    v);
			continue;
		}
		if ((r = rw_cli_opt_value(cli, argc, argv, &i, "scrypt-n", &v)) != 0) {
			if (r < 0)
				return RW_EXIT_USAGE;
			if (parse_u32(v, &o->params.n) < 0)
				return rw_cli_usage(
					cli, "--scrypt-n needs a positive integer, not '%s'", v);
			continue;
		}
		if ((r = rw_cli_opt_value(cli, argc, argv, &i, "pbkdf2-c", &v)) != 0) {
			if (r < 0)
				return RW_EXIT_USAGE;
			if (parse_u32(v, &o->params.c) < 0)
				return rw_cli_usage(
					cli, "--pbkdf2-c needs a positive integer, not '%s'", v);
			continue;
		}
		return rw_cli_usage(cli, "keys: unknown argument '%s'", argv[i]);
	}
	return 0;
}

/* Prints the result of new/import/address. */
static void print_address(const struct rw_cli *cli, const uint8_t addr[20], const char *keystore)
{
	char a[43];
	rw_addr_checksum(a, addr);
	if (cli->json) {
		json_t *o = json_pack("{s:s, s:s}", "address", a, "keystore", keystore);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(o);
	} else {
		printf("%s\n", a);
	}
}

/* Encrypts sk into a new keystore file. Returns an exit code. */
static int write_keystore(struct rw_cli *cli, const struct keys_opts *o, const uint8_t sk[32])
{
	struct rw_keystore_diag diag = { NULL, NULL };
	if (rw_keystore_check_params(&o->params, &diag) < 0)
		return rw_cli_usage(cli, "bad key derivation parameter %s: %s",
				    diag.field ? diag.field : "", diag.reason ? diag.reason : "");
	struct rw_secret_pass pass;
	if (rw_secret_pass_get(cli, &o->secret, 1, &pass) < 0)
		return RW_EXIT_FAIL;
	if (pass.len == 0) {
		rw_secret_pass_free(&pass);
		rw_cli_err(cli, "refusing an empty passphrase");
		return RW_EXIT_FAIL;
	}
	char *json = NULL;
	size_t len = 0;
	int r = rw_keystore_encrypt(&json, &len, sk, pass.p, pass.len, &o->params);
	rw_secret_pass_free(&pass);
	if (r < 0) {
		rw_cli_err(cli, "cannot encrypt the key: %s", rw_strerror(r));
		return RW_EXIT_FAIL;
	}
	r = rw_keystore_write_file(o->secret.keystore, json, len);
	free(json);
	if (r < 0) {
		rw_cli_err(cli, "cannot write keystore %s: %s", o->secret.keystore,
			   errno == EEXIST ? "the file exists (runway never overwrites a keystore)"
					   : strerror(errno));
		return RW_EXIT_FAIL;
	}
	uint8_t addr[20];
	if (rw_key_address(addr, sk) < 0) {
		rw_cli_err(cli, "cannot derive the address");
		return RW_EXIT_FAIL;
	}
	print_address(cli, addr, o->secret.keystore);
	return RW_EXIT_OK;
}

static int keys_new(struct rw_cli *cli, struct keys_opts *o)
{
	if (o->secret.key_file)
		return rw_cli_usage(cli,
				    "keys new makes its own key; use keys import for --key-file");
	uint8_t sk[32];
	if (rw_key_generate(sk) < 0) {
		rw_cli_err(cli, "cannot generate a key (no randomness?)");
		return RW_EXIT_FAIL;
	}
	int rc = write_keystore(cli, o, sk);
	rw_wipe(sk, sizeof(sk));
	return rc;
}

static int keys_import(struct rw_cli *cli, struct keys_opts *o)
{
	if (!o->secret.key_file)
		return rw_cli_usage(cli, "keys import needs --key-file FILE");
	struct rw_secret_opts only_file = o->secret;
	only_file.keystore = NULL;
	uint8_t sk[32];
	int usage_err;
	if (rw_secret_load_key(cli, &only_file, sk, &usage_err) < 0)
		return usage_err ? RW_EXIT_USAGE : RW_EXIT_FAIL;
	int rc = write_keystore(cli, o, sk);
	rw_wipe(sk, sizeof(sk));
	return rc;
}

static int keys_address(struct rw_cli *cli, struct keys_opts *o)
{
	if (o->secret.key_file)
		return rw_cli_usage(cli, "keys address reads --keystore FILE only");
	uint8_t addr[20];
	if (o->unverified) {
		char *json = NULL;
		size_t len = 0;
		int r = rw_keystore_read_file(&json, &len, o->secret.keystore);
		if (r < 0) {
			rw_cli_err(cli, "cannot read keystore %s: %s", o->secret.keystore,
				   r == RW_EIO ? strerror(errno) : rw_strerror(r));
			return RW_EXIT_FAIL;
		}
		struct rw_keystore_diag diag = { NULL, NULL };
		r = rw_keystore_address(addr, json, len, &diag);
		free(json);
		if (r < 0) {
			rw_cli_err(cli, "keystore %s: %s (field %s: %s)", o->secret.keystore,
				   rw_strerror(r), diag.field ? diag.field : "-",
				   diag.reason ? diag.reason : "-");
			return RW_EXIT_FAIL;
		}
		print_address(cli, addr, o->secret.keystore);
		return RW_EXIT_OK;
	}
	uint8_t sk[32];
	int usage_err;
	if (rw_secret_load_key(cli, &o->secret, sk, &usage_err) < 0)
		return usage_err ? RW_EXIT_USAGE : RW_EXIT_FAIL;
	int r = rw_key_address(addr, sk);
	rw_wipe(sk, sizeof(sk));
	if (r < 0) {
		rw_cli_err(cli, "cannot derive the address");
		return RW_EXIT_FAIL;
	}
	print_address(cli, addr, o->secret.keystore);
	return RW_EXIT_OK;
}

int rw_cmd_keys(struct rw_cli *cli, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct rw_cli *cli, struct keys_opts *o);
	} subs[] = { { "new", keys_new }, { "import", keys_import }, { "address", keys_address } };
	size_t i;
	int rc;
	if (!rw_cli_subcommand(&i, &rc, cli, "keys", usage, subs, sizeof(subs[0]), RW_NELEM(subs),
			       argc, argv))
		return rc;
	struct keys_opts o;
	memset(&o, 0, sizeof(o));
	rc = parse_opts(cli, argc, argv, &o);
	if (rc == HELP_SHOWN)
		return RW_EXIT_OK;
	if (rc != 0)
		return rc;
	if (!o.secret.keystore)
		return rw_cli_usage(cli, "keys %s needs --keystore FILE", argv[1]);
	return subs[i].run(cli, &o);
}
