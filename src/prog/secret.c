/* secret.c: keys and passphrases for the CLI. */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "hex.h"
#include "key.h"
#include "keystore.h"

#define PASS_MAX 1024

const char rw_secret_help[] =
	"  --keystore FILE         keystore v3 file (mode 0600)\n"
	"  --key-file FILE         file holding a 0x-hex private key (mode 0600; - for stdin)\n"
	"  --passphrase-file FILE  read the keystore passphrase from the first line of FILE\n"
	"  --passphrase-env NAME   read it from environment variable NAME\n"
	"                          (default: $RUNWAY_PASSPHRASE, else a prompt on the terminal)\n";

int rw_secret_take_opt(const struct rw_cli *cli, struct rw_secret_opts *o, int argc, char **argv,
		       int *i)
{
	static const struct {
		const char *name;
		size_t off;
	} opts[] = {
		{ "keystore", offsetof(struct rw_secret_opts, keystore) },
		{ "key-file", offsetof(struct rw_secret_opts, key_file) },
		{ "passphrase-file", offsetof(struct rw_secret_opts, passphrase_file) },
		{ "passphrase-env", offsetof(struct rw_secret_opts, passphrase_env) },
	};
	for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
		const char *v;
		int r = rw_cli_opt_value(cli, argc, argv, i, opts[k].name, &v);
		if (r != 0) {
			if (r > 0)
				*(const char **)((char *)o + opts[k].off) = v;
			return r;
		}
	}
	return 0;
}

/* Stores a copy of n bytes at p in *ret. Returns 0 or -1 (out of memory). */
static int pass_set(struct rw_secret_pass *ret, const char *p, size_t n)
{
	ret->p = malloc(n + 1);
	if (!ret->p)
		return -1;
	memcpy(ret->p, p, n);
	ret->p[n] = '\0';
	ret->len = n;
	return 0;
}

/* Reads one line (without its newline) from fd into buf (cap bytes).
 * Returns its length, or -1 on a read error or a line too long. */
static ssize_t read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n')
			break;
		if (n + 1 >= cap)
			return -1;
		buf[n++] = c;
	}
	if (n && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return (ssize_t)n;
}

/* Prompts on /dev/tty with echo off. Returns the length or -1. */
static ssize_t prompt(const char *question, char *buf, size_t cap)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct termios old, quiet;
	int have_termios = tcgetattr(fd, &old) == 0;
	if (have_termios) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		(void)tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	(void)!write(fd, question, strlen(question));
	ssize_t n = read_line(fd, buf, cap);
	(void)!write(fd, "\n", 1);
	if (have_termios)
		(void)tcsetattr(fd, TCSAFLUSH, &old);
	close(fd);
	return n;
}

int rw_secret_pass_get(const struct rw_cli *cli, const struct rw_secret_opts *o, int confirm,
		       struct rw_secret_pass *ret)
{
	ret->p = NULL;
	ret->len = 0;
	if (o->passphrase_file) {
		char *text = NULL;
		size_t len = 0;
		int r = rw_keystore_read_file(&text, &len, o->passphrase_file);
		if (r < 0) {
			rw_cli_err(cli, "cannot read passphrase file %s: %s%s%s",
				   o->passphrase_file, rw_strerror(r), r == RW_EIO ? ": " : "",
				   r == RW_EIO ? strerror(errno) : "");
			return -1;
		}
		size_t n = strcspn(text, "\r\n");
		r = pass_set(ret, text, n);
		rw_wipe(text, len);
		free(text);
		if (r < 0) {
			rw_cli_err(cli, "out of memory");
			return -1;
		}
		return 0;
	}
	const char *env = o->passphrase_env ? o->passphrase_env : "RUNWAY_PASSPHRASE";
	const char *v = getenv(env);
	if (v) {
		if (pass_set(ret, v, strlen(v)) < 0) {
			rw_cli_err(cli, "out of memory");
			return -1;
		}
		return 0;
	}
	if (o->passphrase_env) {
		rw_cli_err(cli, "environment variable %s (from --passphrase-env) is not set", env);
		return -1;
	}
	char a[PASS_MAX], b[PASS_MAX];
	ssize_t na = prompt("Passphrase: ", a, sizeof(a));
	if (na < 0) {
		rw_cli_err(cli,
			   "no passphrase: no terminal to ask on; use --passphrase-file FILE or "
			   "set RUNWAY_PASSPHRASE");
		return -1;
	}
	if (confirm) {
		ssize_t nb = prompt("Passphrase again: ", b, sizeof(b));
		if (nb != na || memcmp(a, b, (size_t)na) != 0) {
			rw_wipe(a, sizeof(a));
			rw_wipe(b, sizeof(b));
			rw_cli_err(cli, "the passphrases do not match");
			return -1;
		}
	}
	int r = pass_set(ret, a, (size_t)na);
	rw_wipe(a, sizeof(a));
	rw_wipe(b, sizeof(b));
	if (r < 0) {
		rw_cli_err(cli, "out of memory");
		return -1;
	}
	return 0;
}

void rw_secret_pass_free(struct rw_secret_pass *pass)
{
	if (pass->p) {
		rw_wipe(pass->p, pass->len);
		free(pass->p);
	}
	pass->p = NULL;
	pass->len = 0;
}

int rw_secret_parse_key(uint8_t ret_sk[32], const char *text, size_t len)
{
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ' ||
		       text[len - 1] == '\t'))
		len--;
	while (len && (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')) {
		text++;
		len--;
	}
	uint8_t sk[32];
	int r = rw_hex_decode_fixed(sk, sizeof(sk), text, len, RW_HEX_PREFIX_OPTIONAL);
	if (r < 0) {
		rw_wipe(sk, sizeof(sk));
		return RW_EINVAL;
	}
	if (!rw_key_check(sk)) {
		rw_wipe(sk, sizeof(sk));
		return RW_ECRYPTO;
	}
	memcpy(ret_sk, sk, sizeof(sk));
	rw_wipe(sk, sizeof(sk));
	return 0;
}

/* Reads all of standard input (at most max bytes) into a heap string. */
static int read_stdin_secret(char **ret, size_t *ret_len, size_t max)
{
	struct rw_buf b;
	rw_buf_init(&b, max);
	char chunk[256];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
		int r = rw_buf_append(&b, chunk, n);
		rw_wipe(chunk, sizeof(chunk));
		if (r < 0) {
			rw_buf_free(&b);
			return r;
		}
	}
	int r = rw_buf_push(&b, 0);
	if (r < 0) {
		rw_buf_free(&b);
		return r;
	}
	*ret = (char *)b.p; /* ownership moves to the caller */
	*ret_len = b.len - 1;
	return 0;
}

/* Loads a raw hex key from a file (or stdin for "-"). */
static int load_key_file(const struct rw_cli *cli, const char *path, uint8_t ret_sk[32])
{
	char *text = NULL;
	size_t len = 0;
	int r = strcmp(path, "-") == 0 ? read_stdin_secret(&text, &len, 4096)
				       : rw_keystore_read_file(&text, &len, path);
	if (r < 0) {
		if (r == RW_EPERM)
			rw_cli_err(
				cli,
				"key file %s is accessible by group or others; run: chmod 600 %s",
				path, path);
		else
			rw_cli_err(cli, "cannot read key file %s: %s%s%s", path, rw_strerror(r),
				   r == RW_EIO ? ": " : "", r == RW_EIO ? strerror(errno) : "");
		return -1;
	}
	r = rw_secret_parse_key(ret_sk, text, len);
	rw_wipe(text, len);
	free(text);
	if (r == RW_ECRYPTO) {
		rw_cli_err(cli,
			   "key file %s: not a valid secp256k1 private key (zero or >= the curve "
			   "order)",
			   path);
		return -1;
	}
	if (r < 0) {
		rw_cli_err(cli, "key file %s: expected 64 hex digits (optionally 0x-prefixed)",
			   path);
		return -1;
	}
	return 0;
}

/* Loads and decrypts a keystore file. */
static int load_keystore(const struct rw_cli *cli, const struct rw_secret_opts *o,
			 uint8_t ret_sk[32])
{
	char *json = NULL;
	size_t len = 0;
	int r = rw_keystore_read_file(&json, &len, o->keystore);
	if (r < 0) {
		if (r == RW_EPERM)
			rw_cli_err(
				cli,
				"keystore %s is accessible by group or others; run: chmod 600 %s",
				o->keystore, o->keystore);
		else
			rw_cli_err(cli, "cannot read keystore %s: %s%s%s", o->keystore,
				   rw_strerror(r), r == RW_EIO ? ": " : "",
				   r == RW_EIO ? strerror(errno) : "");
		return -1;
	}
	struct rw_secret_pass pass;
	if (rw_secret_pass_get(cli, o, 0, &pass) < 0) {
		free(json);
		return -1;
	}
	struct rw_keystore_diag diag = { NULL, NULL };
	r = rw_keystore_decrypt(ret_sk, json, len, pass.p, pass.len, &diag);
	rw_secret_pass_free(&pass);
	free(json);
	if (r == RW_EMAC) {
		rw_cli_err(cli, "keystore %s: wrong passphrase (the MAC does not match)",
			   o->keystore);
		return -1;
	}
	if (r < 0) {
		rw_cli_err(cli, "keystore %s: %s%s%s%s", o->keystore, rw_strerror(r),
			   diag.field ? ": field " : "", diag.field ? diag.field : "",
			   diag.reason ? "" : "");
		if (diag.reason)
			fprintf(stderr, "  detail: %s%s%s\n", diag.field ? diag.field : "document",
				": ", diag.reason);
		return -1;
	}
	return 0;
}

int rw_secret_load_key(const struct rw_cli *cli, const struct rw_secret_opts *o, uint8_t ret_sk[32],
		       int *ret_usage)
{
	*ret_usage = 0;
	if (!o->keystore == !o->key_file) {
		*ret_usage = 1;
		rw_cli_usage(cli, "give exactly one of --keystore FILE and --key-file FILE");
		return -1;
	}
	int r = o->key_file ? load_key_file(cli, o->key_file, ret_sk)
			    : load_keystore(cli, o, ret_sk);
	if (r == 0 && rw_key_selftest(ret_sk) < 0) {
		rw_wipe(ret_sk, 32);
		rw_cli_err(cli, "%s: the key failed its signing self-test (no secp256k1 context?)",
			   o->key_file ? o->key_file : o->keystore);
		return -1;
	}
	return r;
}
