/* keystore.c: Web3 Secret Storage (keystore v3) read and write.
 *
 * Sections: scrypt; parsing a document into struct ks_file (every check
 * that needs no passphrase); the KDF, MAC and cipher; the public codec
 * functions; and last, apart from the pure code, the two file helpers.
 *
 * scrypt is implemented here (on OpenSSL's PBKDF2-HMAC-SHA256) because
 * OpenSSL's EVP_PBE_scrypt enforces RFC 7914's n < 2^(16 r), which the
 * spec's own test vector (n = 2^18, r = 1) breaks. The tests check it
 * against EVP_PBE_scrypt wherever OpenSSL accepts the parameters. */
#include "keystore.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "buf.h"
#include "err.h"
#include "hex.h"
#include "keccak.h"
#include "key.h"

/* Fills diag (when given) and returns err. */
static int refuse(struct rw_keystore_diag *diag, int err, const char *field, const char *reason)
{
	if (diag) {
		diag->field = field;
		diag->reason = reason;
	}
	return err;
}

/* ---- scrypt (RFC 7914) ------------------------------------------------ */

static uint32_t rotl32(uint32_t x, int k)
{
	return x << k | x >> (32 - k);
}

static void quarter_round(uint32_t x[16], int a, int b, int c, int d)
{
	x[b] ^= rotl32(x[a] + x[d], 7);
	x[c] ^= rotl32(x[b] + x[a], 9);
	x[d] ^= rotl32(x[c] + x[b], 13);
	x[a] ^= rotl32(x[d] + x[c], 18);
}

/* The Salsa20/8 core, in place on one 64-byte block of words; x is
 * scratch. Scratch lives in the caller's heap area, wiped once at the end,
 * so no derived state is left on the stack. */
static void salsa20_8(uint32_t b[16], uint32_t x[16])
{
	memcpy(x, b, 64);
	for (int i = 0; i < 8; i += 2) {
		quarter_round(x, 0, 4, 8, 12); /* columns */
		quarter_round(x, 5, 9, 13, 1);
		quarter_round(x, 10, 14, 2, 6);
		quarter_round(x, 15, 3, 7, 11);
		quarter_round(x, 0, 1, 2, 3); /* rows */
		quarter_round(x, 5, 6, 7, 4);
		quarter_round(x, 10, 11, 8, 9);
		quarter_round(x, 15, 12, 13, 14);
	}
	for (int i = 0; i < 16; i++)
		b[i] += x[i];
}

/* scryptBlockMix: out (2r blocks) from in (2r blocks); even blocks go to
 * the first half of out, odd ones to the second. t: 32 words of scratch. */
static void block_mix(uint32_t *out, const uint32_t *in, uint32_t r, uint32_t t[32])
{
	uint32_t *x = t;
	memcpy(x, in + (2 * (size_t)r - 1) * 16, 64);
	for (size_t i = 0; i < 2 * (size_t)r; i++) {
		for (int k = 0; k < 16; k++)
			x[k] ^= in[i * 16 + k];
		salsa20_8(x, t + 16);
		memcpy(out + ((i & 1) * r + i / 2) * 16, x, 64);
	}
}

/* scryptROMix on x (32r words), with y (32r words), v (n * 32r words) and
 * t (32 words) as scratch. n is a power of two >= 2, so the loops go by
 * pairs and the result ends in x. */
static void ro_mix(uint32_t *x, uint32_t *y, uint32_t *v, uint32_t *t, uint32_t n, uint32_t r)
{
	size_t w = 32 * (size_t)r;
	size_t last = (2 * (size_t)r - 1) * 16; /* Integerify reads this word */

	for (size_t i = 0; i < n; i += 2) {
		memcpy(v + i * w, x, w * 4);
		block_mix(y, x, r, t);
		memcpy(v + (i + 1) * w, y, w * 4);
		block_mix(x, y, r, t);
	}
	for (size_t i = 0; i < n; i += 2) {
		const uint32_t *vj = v + (x[last] & (n - 1)) * w;
		for (size_t k = 0; k < w; k++)
			x[k] ^= vj[k];
		block_mix(y, x, r, t);
		vj = v + (y[last] & (n - 1)) * w;
		for (size_t k = 0; k < w; k++)
			y[k] ^= vj[k];
		block_mix(x, y, r, t);
	}
}

static void load_le(uint32_t *w, const uint8_t *b, size_t nwords)
{
	for (size_t i = 0; i < nwords; i++)
		w[i] = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
		       (uint32_t)b[4 * i + 2] << 16 | (uint32_t)b[4 * i + 3] << 24;
}

static void store_le(uint8_t *b, const uint32_t *w, size_t nwords)
{
	for (size_t i = 0; i < nwords; i++) {
		b[4 * i] = (uint8_t)w[i];
		b[4 * i + 1] = (uint8_t)(w[i] >> 8);
		b[4 * i + 2] = (uint8_t)(w[i] >> 16);
		b[4 * i + 3] = (uint8_t)(w[i] >> 24);
	}
}

/* Checks scrypt's n, r, p against the format and our ceilings. */
static int check_scrypt(uint32_t n, uint32_t r, uint32_t p, struct rw_keystore_diag *diag)
{
	if (n < 2 || (n & (n - 1)) != 0)
		return refuse(diag, RW_EINVAL, "crypto.kdfparams.n", "must be a power of two >= 2");
	if (r == 0)
		return refuse(diag, RW_EINVAL, "crypto.kdfparams.r", "must be >= 1");
	if (p == 0)
		return refuse(diag, RW_EINVAL, "crypto.kdfparams.p", "must be >= 1");
	/* 128 * r * (n + p) <= MAX_MEM, without overflow */
	if ((uint64_t)n + p > RW_KEYSTORE_SCRYPT_MAX_MEM / 128 / r)
		return refuse(diag, RW_ETOOBIG, "crypto.kdfparams",
			      "scrypt memory 128*r*(n+p) is over 2 GiB");
	/* n * r fits 64 bits; compare to MAX_WORK / p */
	if ((uint64_t)n * r > RW_KEYSTORE_SCRYPT_MAX_WORK / p)
		return refuse(diag, RW_ETOOBIG, "crypto.kdfparams",
			      "scrypt work n*r*p is over 2^24");
	return 0;
}

int rw_keystore_scrypt(uint8_t *out, size_t outlen, const void *pass, size_t passlen,
		       const uint8_t *salt, size_t saltlen, uint32_t n, uint32_t r, uint32_t p)
{
	int ret = check_scrypt(n, r, p, NULL);
	if (ret < 0)
		return ret;
	if (outlen == 0 || outlen > ((size_t)1 << 20) || passlen > INT_MAX || saltlen > INT_MAX)
		return RW_EINVAL;

	size_t w = 32 * (size_t)r; /* words in one 128r-byte block */
	size_t blen = 128 * (size_t)r * p;
	uint8_t *b = malloc(blen);
	size_t xylen = (2 * w + 32) * 4; /* x, y, then block_mix's scratch */
	uint32_t *xy = malloc(xylen);
	uint32_t *v = malloc((size_t)n * w * 4);
	if (!b || !xy || !v) {
		ret = RW_ENOMEM;
		goto out;
	}
	ret = RW_ECRYPTO;
	if (!PKCS5_PBKDF2_HMAC(pass, (int)passlen, salt, (int)saltlen, 1, EVP_sha256(), (int)blen,
			       b))
		goto out;
	for (size_t i = 0; i < p; i++) {
		uint8_t *bi = b + i * 128 * r;
		load_le(xy, bi, w);
		ro_mix(xy, xy + w, v, xy + 2 * w, n, r);
		store_le(bi, xy, w);
	}
	if (!PKCS5_PBKDF2_HMAC(pass, (int)passlen, b, (int)blen, 1, EVP_sha256(), (int)outlen, out))
		goto out;
	ret = 0;
out:
	if (v)
		rw_wipe(v, (size_t)n * w * 4);
	if (xy)
		rw_wipe(xy, xylen);
	if (b)
		rw_wipe(b, blen);
	free(v);
	free(xy);
	free(b);
	return ret;
}

void rw_keystore_params_default(struct rw_keystore_params *p)
{
	memset(p, 0, sizeof(*p));
	p->kdf = RW_KEYSTORE_SCRYPT;
	p->n = RW_KEYSTORE_SCRYPT_N;
	p->r = RW_KEYSTORE_SCRYPT_R;
	p->p = RW_KEYSTORE_SCRYPT_P;
	p->c = RW_KEYSTORE_PBKDF2_C;
}

int rw_keystore_check_params(const struct rw_keystore_params *p, struct rw_keystore_diag *diag)
{
	switch (p->kdf) {
	case RW_KEYSTORE_SCRYPT: return check_scrypt(p->n, p->r, p->p, diag);
	case RW_KEYSTORE_PBKDF2:
		if (p->c == 0)
			return refuse(diag, RW_EINVAL, "crypto.kdfparams.c", "must be >= 1");
		if (p->c > RW_KEYSTORE_PBKDF2_MAX_C)
			return refuse(diag, RW_ETOOBIG, "crypto.kdfparams.c",
				      "over 10,000,000 iterations");
		return 0;
	}
	return refuse(diag, RW_EINVAL, "crypto.kdf", "unknown kdf");
}

/* ---- parsing ----------------------------------------------------------- */

/* A keystore document after every passphrase-free check. Nothing here is
 * secret: the ciphertext is only useful with the passphrase. */
struct ks_file {
	struct rw_keystore_params prm;
	uint8_t salt[RW_KEYSTORE_MAX_SALT];
	size_t saltlen;
	uint8_t iv[16];
	uint8_t ct[32];
	uint8_t mac[32];
	int has_addr;
	uint8_t addr[20];
};

/* Looks up a required member. */
static int member(json_t **ret, json_t *obj, const char *key, const char *path,
		  struct rw_keystore_diag *diag)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return refuse(diag, RW_ENOTFOUND, path, "missing");
	*ret = v;
	return 0;
}

static int get_object(json_t **ret, json_t *obj, const char *key, const char *path,
		      struct rw_keystore_diag *diag)
{
	json_t *v;
	int r = member(&v, obj, key, path, diag);
	if (r < 0)
		return r;
	if (!json_is_object(v))
		return refuse(diag, RW_EINVAL, path, "must be an object");
	*ret = v;
	return 0;
}

static int get_string(const char **ret, size_t *ret_len, json_t *obj, const char *key,
		      const char *path, struct rw_keystore_diag *diag)
{
	json_t *v;
	int r = member(&v, obj, key, path, diag);
	if (r < 0)
		return r;
	if (!json_is_string(v))
		return refuse(diag, RW_EINVAL, path, "must be a string");
	*ret = json_string_value(v);
	*ret_len = json_string_length(v);
	return 0;
}

/* A required string member that must equal want (else RW_EUNSUPPORTED). */
static int expect_string(json_t *obj, const char *key, const char *want, const char *path,
			 const char *reason, struct rw_keystore_diag *diag)
{
	const char *s;
	size_t n;
	int r = get_string(&s, &n, obj, key, path, diag);
	if (r < 0)
		return r;
	if (n != strlen(want) || memcmp(s, want, n) != 0)
		return refuse(diag, RW_EUNSUPPORTED, path, reason);
	return 0;
}

/* A required integer member in 1..max. */
static int get_uint(uint64_t *ret, json_t *obj, const char *key, uint64_t max, const char *path,
		    struct rw_keystore_diag *diag)
{
	json_t *v;
	int r = member(&v, obj, key, path, diag);
	if (r < 0)
		return r;
	if (!json_is_integer(v) || json_integer_value(v) < 1)
		return refuse(diag, RW_EINVAL, path, "must be a positive integer");
	if ((uint64_t)json_integer_value(v) > max)
		return refuse(diag, RW_ETOOBIG, path, "too large");
	*ret = (uint64_t)json_integer_value(v);
	return 0;
}

/* A required hex string member (no 0x) of min..max bytes. A length
 * outside the range is RW_EINVAL for a fixed-size field (min == max) and
 * RW_ETOOBIG for a variable one that is too long. */
static int get_hex(uint8_t *out, size_t *ret_len, size_t min, size_t max, json_t *obj,
		   const char *key, const char *path, const char *len_reason,
		   struct rw_keystore_diag *diag)
{
	const char *s;
	size_t n;
	int r = get_string(&s, &n, obj, key, path, diag);
	if (r < 0)
		return r;
	if (n % 2 != 0 || n / 2 < min)
		return refuse(diag, RW_EINVAL, path, len_reason);
	if (n / 2 > max)
		return refuse(diag, min == max ? RW_EINVAL : RW_ETOOBIG, path, len_reason);
	if (rw_hex_decode_fixed(out, n / 2, s, n, RW_HEX_PREFIX_FORBIDDEN) < 0)
		return refuse(diag, RW_EINVAL, path, "not hex (no 0x prefix)");
	if (ret_len)
		*ret_len = n / 2;
	return 0;
}

static int parse_version(json_t *root, struct rw_keystore_diag *diag)
{
	json_t *v;
	int r = member(&v, root, "version", "version", diag);
	if (r < 0)
		return r;
	if (!json_is_integer(v))
		return refuse(diag, RW_EINVAL, "version", "must be an integer");
	if (json_integer_value(v) != 3)
		return refuse(diag, RW_EUNSUPPORTED, "version", "only version 3 is supported");
	return 0;
}

/* Finds "crypto", or "Crypto" as some wallets (ethers) write it. */
static int find_crypto(json_t **ret, json_t *root, struct rw_keystore_diag *diag)
{
	json_t *lower = json_object_get(root, "crypto");
	json_t *upper = json_object_get(root, "Crypto");
	if (lower && upper)
		return refuse(diag, RW_EINVAL, "crypto", "both crypto and Crypto are present");
	json_t *c = lower ? lower : upper;
	if (!c)
		return refuse(diag, RW_ENOTFOUND, "crypto", "missing");
	if (!json_is_object(c))
		return refuse(diag, RW_EINVAL, "crypto", "must be an object");
	*ret = c;
	return 0;
}

static int parse_cipher(struct ks_file *f, json_t *crypto, struct rw_keystore_diag *diag)
{
	json_t *cp;
	int r = expect_string(crypto, "cipher", "aes-128-ctr", "crypto.cipher",
			      "only aes-128-ctr is supported", diag);
	if (r == 0)
		r = get_object(&cp, crypto, "cipherparams", "crypto.cipherparams", diag);
	if (r == 0)
		r = get_hex(f->iv, NULL, 16, 16, cp, "iv", "crypto.cipherparams.iv",
			    "must be 16 bytes of hex", diag);
	if (r == 0)
		r = get_hex(f->ct, NULL, 32, 32, crypto, "ciphertext", "crypto.ciphertext",
			    "must be 32 bytes of hex", diag);
	if (r == 0)
		r = get_hex(f->mac, NULL, 32, 32, crypto, "mac", "crypto.mac",
			    "must be 32 bytes of hex", diag);
	return r;
}

static int parse_scrypt(struct ks_file *f, json_t *kp, struct rw_keystore_diag *diag)
{
	uint64_t n, r, p;
	int ret = get_uint(&n, kp, "n", UINT32_MAX, "crypto.kdfparams.n", diag);
	if (ret == 0)
		ret = get_uint(&r, kp, "r", UINT32_MAX, "crypto.kdfparams.r", diag);
	if (ret == 0)
		ret = get_uint(&p, kp, "p", UINT32_MAX, "crypto.kdfparams.p", diag);
	if (ret < 0)
		return ret;
	f->prm.kdf = RW_KEYSTORE_SCRYPT;
	f->prm.n = (uint32_t)n;
	f->prm.r = (uint32_t)r;
	f->prm.p = (uint32_t)p;
	return rw_keystore_check_params(&f->prm, diag);
}

static int parse_pbkdf2(struct ks_file *f, json_t *kp, struct rw_keystore_diag *diag)
{
	uint64_t c;
	int r = expect_string(kp, "prf", "hmac-sha256", "crypto.kdfparams.prf",
			      "only hmac-sha256 is supported", diag);
	if (r == 0)
		r = get_uint(&c, kp, "c", UINT32_MAX, "crypto.kdfparams.c", diag);
	if (r < 0)
		return r;
	f->prm.kdf = RW_KEYSTORE_PBKDF2;
	f->prm.c = (uint32_t)c;
	return rw_keystore_check_params(&f->prm, diag);
}

static int parse_kdf(struct ks_file *f, json_t *crypto, struct rw_keystore_diag *diag)
{
	const char *kdf;
	size_t kdflen;
	json_t *kp;
	uint64_t dklen;
	int r = get_string(&kdf, &kdflen, crypto, "kdf", "crypto.kdf", diag);
	if (r == 0)
		r = get_object(&kp, crypto, "kdfparams", "crypto.kdfparams", diag);
	if (r == 0)
		r = get_uint(&dklen, kp, "dklen", UINT32_MAX, "crypto.kdfparams.dklen", diag);
	if (r == 0 && dklen != 32)
		r = refuse(diag, RW_EUNSUPPORTED, "crypto.kdfparams.dklen", "must be 32");
	if (r == 0)
		r = get_hex(f->salt, &f->saltlen, 1, RW_KEYSTORE_MAX_SALT, kp, "salt",
			    "crypto.kdfparams.salt", "must be 1 to 1024 bytes of hex", diag);
	if (r < 0)
		return r;
	if (kdflen == 6 && memcmp(kdf, "scrypt", 6) == 0)
		return parse_scrypt(f, kp, diag);
	if (kdflen == 6 && memcmp(kdf, "pbkdf2", 6) == 0)
		return parse_pbkdf2(f, kp, diag);
	return refuse(diag, RW_EUNSUPPORTED, "crypto.kdf", "must be scrypt or pbkdf2");
}

/* The optional "address": 40 hex digits, with or without 0x; mixed case
 * must carry a correct EIP-55 checksum. */
static int parse_address(struct ks_file *f, json_t *root, struct rw_keystore_diag *diag)
{
	json_t *v = json_object_get(root, "address");
	f->has_addr = 0;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return refuse(diag, RW_EINVAL, "address", "must be a string");
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	char text[43] = "0x";
	if (n == 40)
		memcpy(text + 2, s, 40);
	else if (n == 42)
		memcpy(text, s, 42);
	else
		return refuse(diag, RW_EINVAL, "address", "must be 40 hex digits");
	int r = rw_addr_parse(f->addr, text, 42);
	if (r == RW_ECHECKSUM)
		return refuse(diag, r, "address", "bad EIP-55 checksum");
	if (r < 0)
		return refuse(diag, RW_EINVAL, "address", "must be 40 hex digits");
	f->has_addr = 1;
	return 0;
}

/* Parses and checks a whole document; no passphrase needed. */
static int parse(struct ks_file *f, const char *json, size_t len, struct rw_keystore_diag *diag)
{
	json_error_t jerr;
	json_t *crypto;

	if (len > RW_KEYSTORE_MAX_JSON)
		return refuse(diag, RW_ETOOBIG, NULL, "larger than 64 KiB");
	memset(f, 0, sizeof(*f));
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return refuse(diag, RW_EINVAL, NULL, "not valid JSON");
	int r = 0;
	if (!json_is_object(root))
		r = refuse(diag, RW_EINVAL, NULL, "not a JSON object");
	if (r == 0)
		r = parse_version(root, diag);
	if (r == 0)
		r = find_crypto(&crypto, root, diag);
	if (r == 0)
		r = parse_cipher(f, crypto, diag);
	if (r == 0)
		r = parse_kdf(f, crypto, diag);
	if (r == 0)
		r = parse_address(f, root, diag);
	json_decref(root);
	return r;
}

/* ---- KDF, MAC, cipher -------------------------------------------------- */

/* Derives the 32-byte key of f's KDF from the passphrase. */
static int derive(uint8_t dk[32], const struct ks_file *f, const char *pass, size_t passlen)
{
	if (f->prm.kdf == RW_KEYSTORE_SCRYPT)
		return rw_keystore_scrypt(dk, 32, pass, passlen, f->salt, f->saltlen, f->prm.n,
					  f->prm.r, f->prm.p);
	if (!PKCS5_PBKDF2_HMAC(pass, (int)passlen, f->salt, (int)f->saltlen, (int)f->prm.c,
			       EVP_sha256(), 32, dk))
		return RW_ECRYPTO;
	return 0;
}

/* mac = keccak256(dk[16..32] || ciphertext). */
static void compute_mac(uint8_t out[32], const uint8_t dk[32], const uint8_t ct[32])
{
	struct rw_keccak k;
	rw_keccak_init(&k);
	rw_keccak_update(&k, dk + 16, 16);
	rw_keccak_update(&k, ct, 32);
	rw_keccak_final(&k, out);
}

/* AES-128-CTR of 32 bytes (encryption and decryption are the same). */
static int aes_ctr(uint8_t out[32], const uint8_t key[16], const uint8_t iv[16],
		   const uint8_t in[32])
{
	uint8_t tmp[48];
	int n = 0, fin = 0, r = RW_ECRYPTO;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	if (!c)
		return RW_ENOMEM;
	if (EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, key, iv) &&
	    EVP_EncryptUpdate(c, tmp, &n, in, 32) && n == 32 &&
	    EVP_EncryptFinal_ex(c, tmp + n, &fin) && fin == 0) {
		memcpy(out, tmp, 32);
		r = 0;
	}
	EVP_CIPHER_CTX_free(c);
	rw_wipe(tmp, sizeof(tmp));
	return r;
}

/* ---- public codec functions -------------------------------------------- */

int rw_keystore_decrypt(uint8_t ret_sk[32], const char *json, size_t len, const char *pass,
			size_t passlen, struct rw_keystore_diag *diag)
{
	struct ks_file f;
	uint8_t dk[32], mac[32], sk[32], addr[20];

	int r = parse(&f, json, len, diag);
	if (r < 0)
		return r;
	if (passlen > INT_MAX)
		return refuse(diag, RW_EINVAL, NULL, "passphrase too long");
	r = derive(dk, &f, pass, passlen);
	if (r < 0) {
		refuse(diag, r, "crypto.kdfparams", "key derivation failed");
		goto out;
	}
	compute_mac(mac, dk, f.ct);
	if (CRYPTO_memcmp(mac, f.mac, 32) != 0) {
		r = refuse(diag, RW_EMAC, "crypto.mac",
			   "does not match: wrong passphrase or damaged file");
		goto out;
	}
	r = aes_ctr(sk, dk, f.iv, f.ct);
	if (r < 0) {
		refuse(diag, r, "crypto.cipher", "decryption failed");
		goto out;
	}
	if (!rw_key_check(sk)) {
		r = refuse(diag, RW_ECRYPTO, "crypto.ciphertext",
			   "does not decrypt to a valid secp256k1 key");
		goto out;
	}
	if (f.has_addr) {
		if (rw_key_address(addr, sk) < 0) {
			r = refuse(diag, RW_ECRYPTO, NULL, "secp256k1 context not initialised");
			goto out;
		}
		if (memcmp(addr, f.addr, 20) != 0) {
			r = refuse(diag, RW_EINVAL, "address", "does not match the decrypted key");
			goto out;
		}
	}
	memcpy(ret_sk, sk, 32);
out:
	rw_wipe(dk, sizeof(dk));
	rw_wipe(sk, sizeof(sk));
	rw_wipe(mac, sizeof(mac));
	return r;
}

int rw_keystore_address(uint8_t ret_addr[20], const char *json, size_t len,
			struct rw_keystore_diag *diag)
{
	struct ks_file f;
	int r = parse(&f, json, len, diag);
	if (r < 0)
		return r;
	if (!f.has_addr)
		return refuse(diag, RW_ENOTFOUND, "address", "missing");
	memcpy(ret_addr, f.addr, 20);
	return 0;
}

/* Formats 16 random bytes as a version 4 UUID (36 chars and a NUL). */
static void format_uuid(char out[37], uint8_t u[16])
{
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	char *o = out;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		o += rw_hex_encode(o, u + i, 1, 0);
	}
	*o = '\0';
}

/* Builds the "kdfparams" object of p with salt (hex). */
static json_t *kdfparams_json(const struct rw_keystore_params *p, const char *salt)
{
	if (p->kdf == RW_KEYSTORE_SCRYPT)
		return json_pack("{s:i, s:I, s:I, s:I, s:s}", "dklen", 32, "n", (json_int_t)p->n,
				 "p", (json_int_t)p->p, "r", (json_int_t)p->r, "salt", salt);
	return json_pack("{s:I, s:i, s:s, s:s}", "c", (json_int_t)p->c, "dklen", 32, "prf",
			 "hmac-sha256", "salt", salt);
}

/* Serialises the document; *ret_json is malloc'ed. */
static int build_json(char **ret_json, size_t *ret_len, const struct rw_keystore_params *p,
		      const uint8_t addr[20], const uint8_t salt[32], const uint8_t iv[16],
		      const uint8_t ct[32], const uint8_t mac[32], const char *uuid)
{
	char addr_hex[43], salt_hex[67], iv_hex[35], ct_hex[67], mac_hex[67];
	rw_hex_encode(addr_hex, addr, 20, 0);
	rw_hex_encode(salt_hex, salt, 32, 0);
	rw_hex_encode(iv_hex, iv, 16, 0);
	rw_hex_encode(ct_hex, ct, 32, 0);
	rw_hex_encode(mac_hex, mac, 32, 0);

	json_t *kp = kdfparams_json(p, salt_hex);
	if (!kp)
		return RW_ENOMEM;
	json_t *root = json_pack("{s:s, s:{s:s, s:s, s:{s:s}, s:s, s:O, s:s}, s:s, s:i}", "address",
				 addr_hex, "crypto", "cipher", "aes-128-ctr", "ciphertext", ct_hex,
				 "cipherparams", "iv", iv_hex, "kdf",
				 p->kdf == RW_KEYSTORE_SCRYPT ? "scrypt" : "pbkdf2", "kdfparams",
				 kp, "mac", mac_hex, "id", uuid, "version", 3);
	json_decref(kp);
	if (!root)
		return RW_ENOMEM;
	int r = RW_ENOMEM;
	size_t n = json_dumpb(root, NULL, 0, JSON_COMPACT);
	char *s = n ? malloc(n + 1) : NULL;
	if (s && json_dumpb(root, s, n, JSON_COMPACT) == n) {
		s[n] = '\0';
		*ret_json = s;
		if (ret_len)
			*ret_len = n;
		s = NULL;
		r = 0;
	}
	free(s);
	json_decref(root);
	return r;
}

int rw_keystore_encrypt(char **ret_json, size_t *ret_len, const uint8_t sk[32], const char *pass,
			size_t passlen, const struct rw_keystore_params *p)
{
	struct rw_keystore_params prm;
	struct ks_file f;
	uint8_t dk[32], ct[32], mac[32], addr[20], uuid_bytes[16];
	char uuid[37];

	if (p)
		prm = *p;
	else
		rw_keystore_params_default(&prm);
	int r = rw_keystore_check_params(&prm, NULL);
	if (r < 0)
		return r;
	if (passlen > INT_MAX)
		return RW_EINVAL;
	if (rw_key_address(addr, sk) < 0)
		return RW_ECRYPTO;

	memset(&f, 0, sizeof(f));
	f.prm = prm;
	f.saltlen = 32;
	if (RAND_bytes(f.salt, 32) != 1 || RAND_bytes(f.iv, 16) != 1 ||
	    RAND_bytes(uuid_bytes, 16) != 1)
		return RW_ECRYPTO;
	format_uuid(uuid, uuid_bytes);

	r = derive(dk, &f, pass, passlen);
	if (r == 0)
		r = aes_ctr(ct, dk, f.iv, sk);
	if (r == 0) {
		compute_mac(mac, dk, ct);
		r = build_json(ret_json, ret_len, &prm, addr, f.salt, f.iv, ct, mac, uuid);
	}
	rw_wipe(dk, sizeof(dk));
	return r;
}

/* ---- file helpers (the only I/O in codec/) ------------------------------ */

int rw_keystore_read_file(char **ret_json, size_t *ret_len, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return RW_EIO;
	int r = 0;
	char *buf = NULL;
	size_t len = 0;

	if (fstat(fd, &st) < 0)
		r = RW_EIO;
	else if (!S_ISREG(st.st_mode))
		r = RW_EINVAL;
	else if (st.st_mode & 077)
		r = RW_EPERM;
	else if ((uint64_t)st.st_size > RW_KEYSTORE_MAX_JSON)
		r = RW_ETOOBIG;
	else if (!(buf = malloc(RW_KEYSTORE_MAX_JSON + 2)))
		r = RW_ENOMEM;
	/* Read to EOF even if the size changed since fstat, up to one byte
	 * past the limit so a grown file is noticed. */
	while (r == 0) {
		ssize_t k = read(fd, buf + len, RW_KEYSTORE_MAX_JSON + 1 - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			r = RW_EIO;
		else if (k == 0)
			break;
		else if ((len += (size_t)k) > RW_KEYSTORE_MAX_JSON)
			r = RW_ETOOBIG;
	}
	int saved = errno;
	(void)close(fd);
	errno = saved;
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[len] = '\0';
	*ret_json = buf;
	*ret_len = len;
	return 0;
}

/* Writes all n bytes to fd. Returns 0 or -1 with errno set. */
static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int rw_keystore_write_file(const char *path, const char *json, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return RW_EIO;
	int ok = write_all(fd, json, len) == 0 && fsync(fd) == 0;
	int saved = errno;
	/* close exactly once; its failure (delayed write error) counts too */
	if (close(fd) != 0 && ok) {
		ok = 0;
		saved = errno;
	}
	if (ok)
		return 0;
	(void)unlink(path);
	errno = saved;
	return RW_EIO;
}
