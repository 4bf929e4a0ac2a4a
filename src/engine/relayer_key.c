/* relayer_key.c: the relayer's key: loading it from a keystore with its
 * passphrase, keeping it on a locked page, and signing with it. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "key.h"
#include "keystore.h"
#include "relayer_int.h"
#include "tx.h"

/* Longest passphrase read from a file. */
#define PASS_MAX 4096

static void errf(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t n, const char *fmt, ...)
{
	if (!n)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
}

/* Reads the first line of a passphrase file that only its owner may read.
 * Returns 0 with a heap copy in *ret (wipe and free it), or RW_EPERM,
 * RW_EIO, RW_ETOOBIG, RW_ENOMEM. */
static int read_pass_file(char **ret, size_t *ret_len, const char *path, char *err, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		errf(err, n, "%s: cannot open the passphrase file: %s", path, strerror(errno));
		return RW_EIO;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errf(err, n, "%s: the passphrase file is not a regular file", path);
		return RW_EIO;
	}
	if (st.st_mode & 077) {
		close(fd);
		errf(err, n,
		     "%s: the passphrase file may be read by others (mode %03o); chmod 600 it",
		     path, (unsigned)(st.st_mode & 0777));
		return RW_EPERM;
	}
	char *buf = malloc(PASS_MAX + 1);
	if (!buf) {
		close(fd);
		return RW_ENOMEM;
	}
	size_t len = 0;
	ssize_t k;
	while (len < PASS_MAX && (k = read(fd, buf + len, PASS_MAX - len)) > 0)
		len += (size_t)k;
	close(fd);
	size_t line = 0;
	while (line < len && buf[line] != '\n' && buf[line] != '\r')
		line++;
	if (line == len && len == PASS_MAX) {
		rw_wipe(buf, PASS_MAX + 1);
		free(buf);
		errf(err, n, "%s: the passphrase's first line is longer than %d bytes", path,
		     PASS_MAX);
		return RW_ETOOBIG;
	}
	rw_wipe(buf + line, PASS_MAX + 1 - line);
	*ret = buf;
	*ret_len = line;
	return 0;
}

/* Gets the passphrase from the file or the environment variable. */
static int get_pass(char **ret, size_t *ret_len, const struct rw_config_relayer *rl, char *err,
		    size_t n)
{
	if (rl->passphrase_file)
		return read_pass_file(ret, ret_len, rl->passphrase_file, err, n);
	const char *v = rl->passphrase_env ? getenv(rl->passphrase_env) : NULL;
	if (!v) {
		errf(err, n, "no passphrase: environment variable %s is not set",
		     rl->passphrase_env ? rl->passphrase_env : "(none configured)");
		return RW_EINVAL;
	}
	size_t len = strlen(v);
	char *copy = malloc(len + 1);
	if (!copy)
		return RW_ENOMEM;
	memcpy(copy, v, len + 1);
	*ret = copy;
	*ret_len = len;
	return 0;
}

int rw_relayer_key_load(uint8_t ret_sk[32], const struct rw_config_relayer *rl, char *err,
			size_t errlen)
{
	if (!rl || !rl->enabled || !rl->keystore) {
		errf(err, errlen, "no relayer keystore is configured for this chain");
		return RW_EINVAL;
	}
	char *json = NULL;
	size_t json_len = 0;
	int r = rw_keystore_read_file(&json, &json_len, rl->keystore);
	if (r < 0) {
		int e = errno;
		if (r == RW_EPERM)
			errf(err, errlen, "%s: the keystore may be read by others; chmod 600 it",
			     rl->keystore);
		else if (r == RW_EIO)
			errf(err, errlen, "%s: cannot read the keystore: %s", rl->keystore,
			     strerror(e));
		else
			errf(err, errlen, "%s: %s", rl->keystore, rw_strerror(r));
		return r;
	}
	char *pass = NULL;
	size_t pass_len = 0;
	r = get_pass(&pass, &pass_len, rl, err, errlen);
	if (r < 0) {
		free(json);
		return r;
	}
	struct rw_keystore_diag diag = { NULL, NULL };
	uint8_t sk[32];
	r = rw_keystore_decrypt(sk, json, json_len, pass, pass_len, &diag);
	rw_wipe(pass, pass_len);
	free(pass);
	free(json);
	if (r < 0) {
		if (r == RW_EMAC)
			errf(err, errlen, "%s: wrong passphrase (or a damaged keystore)",
			     rl->keystore);
		else
			errf(err, errlen, "%s: %s%s%s", rl->keystore, diag.field ? diag.field : "",
			     diag.field ? ": " : "", diag.reason ? diag.reason : rw_strerror(r));
		return r;
	}
	r = rw_key_selftest(sk);
	if (r < 0) {
		rw_wipe(sk, sizeof(sk));
		errf(err, errlen, "%s: the key failed its signing self-test", rl->keystore);
		return r;
	}
	memcpy(ret_sk, sk, 32);
	rw_wipe(sk, sizeof(sk));
	return 0;
}

uint8_t *rw_relayer_key_page(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	size_t size = ps > 0 ? (size_t)ps : 4096;
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	(void)mlock(p, size); /* best effort: RLIMIT_MEMLOCK may refuse */
#ifdef MADV_DONTDUMP
	(void)madvise(p, size, MADV_DONTDUMP);
#endif
	return p;
}

void rw_relayer_key_page_free(uint8_t *page)
{
	if (!page)
		return;
	long ps = sysconf(_SC_PAGESIZE);
	size_t size = ps > 0 ? (size_t)ps : 4096;
	rw_wipe(page, size);
	(void)munlock(page, size);
	(void)munmap(page, size);
}

static void set_fees(struct rw_tx *tx, const struct rw_relayer_fees *f)
{
	tx->type = f->type == 0 ? RW_TX_LEGACY : RW_TX_DYNAMIC_FEE;
	tx->gas_price = f->gas_price;
	tx->max_fee_per_gas = f->max_fee;
	tx->max_priority_fee_per_gas = f->tip;
}

/* Signs tx and stores its raw bytes and hash in ret. */
static int finish(struct rl_signed *ret, struct rw_tx *tx, const uint8_t *sk)
{
	struct rw_buf raw;
	rw_buf_init(&raw, RW_BUF_DEFAULT_MAX);
	int r = rw_tx_sign(tx, sk);
	if (r == 0)
		r = rw_tx_encode_raw(&raw, tx);
	if (r < 0) {
		rw_buf_free(&raw);
		return r;
	}
	ret->raw = raw.p;
	ret->raw_len = raw.len;
	rw_tx_hash(ret->hash, tx);
	return 0;
}

int rw_relayer_sign(struct rl_signed *ret, const struct rw_relayer *rl, uint64_t nonce,
		    const struct rw_relayer_fees *f, uint64_t gas, const uint8_t to[20],
		    const rw_u256 *value, const uint8_t *data, size_t data_len)
{
	struct rw_tx tx;
	memset(&tx, 0, sizeof(tx));
	set_fees(&tx, f);
	tx.chain_id = rl->chain_id;
	tx.nonce = nonce;
	tx.gas = gas;
	tx.has_to = 1;
	memcpy(tx.to, to, 20);
	tx.value = *value;
	tx.data = (uint8_t *)data;
	tx.data_len = data_len;
	return finish(ret, &tx, rl->sk);
}

int rw_relayer_resign(struct rl_signed *ret, const struct rw_relayer *rl, const uint8_t *raw,
		      size_t raw_len, const struct rw_relayer_fees *f)
{
	struct rw_tx tx;
	int r = rw_tx_decode(&tx, raw, raw_len);
	if (r < 0)
		return RW_EINVAL;
	int want = f->type == 0 ? RW_TX_LEGACY : RW_TX_DYNAMIC_FEE;
	if (tx.type != want || tx.chain_id != rl->chain_id) {
		rw_tx_free(&tx);
		return RW_EINVAL;
	}
	set_fees(&tx, f);
	tx.is_signed = 0;
	r = finish(ret, &tx, rl->sk);
	rw_tx_free(&tx);
	return r;
}
