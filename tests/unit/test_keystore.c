/* test_keystore.c: keystore v3 read/write, scrypt, and the file helpers.
 *
 * Vectors: the two published in the Web3 Secret Storage Definition
 * (tests/vectors/keystore/web3_*.json), files written by ethers v6
 * (tests/vectors/gen_keystore.mjs), RFC 7914's scrypt vectors, and
 * OpenSSL's EVP_PBE_scrypt as an independent scrypt. */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "err.h"
#include "hex.h"
#include "key.h"
#include "keystore.h"

#define NCASES(a) (sizeof(a) / sizeof((a)[0]))

static const char web3_sk[] = "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d";
static const char web3_pass[] = "testpassword";

static int setup(void **state)
{
	(void)state;
	return rw_key_init();
}

static int teardown(void **state)
{
	(void)state;
	rw_key_cleanup();
	return 0;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Decrypts a vector file and checks the key; returns the seconds taken. */
static double decrypt_vector(const char *name, const char *pass, size_t passlen, const char *sk)
{
	size_t len;
	char *json = tl_read_vector(name, &len);
	uint8_t got[32];
	struct rw_keystore_diag d = { 0 };
	double t = now();
	int r = rw_keystore_decrypt(got, json, len, pass, passlen, &d);
	t = now() - t;
	if (r != 0)
		fail_msg("%s: %s (%s: %s)", name, rw_strerror(r), d.field ? d.field : "-",
			 d.reason ? d.reason : "-");
	tl_assert_hex(got, 32, sk);
	free(json);
	return t;
}

/* The published PBKDF2 vector (c = 262144). */
static void web3_pbkdf2(void **state)
{
	(void)state;
	double t =
		decrypt_vector("keystore/web3_pbkdf2.json", web3_pass, strlen(web3_pass), web3_sk);
	print_message("pbkdf2 c=262144: %.2f s\n", t);
}

/* The published scrypt vector (n = 2^18, r = 1, p = 8: OpenSSL's
 * EVP_PBE_scrypt refuses these parameters). */
static void web3_scrypt(void **state)
{
	(void)state;
	double t =
		decrypt_vector("keystore/web3_scrypt.json", web3_pass, strlen(web3_pass), web3_sk);
	print_message("scrypt n=2^18 r=1 p=8: %.2f s\n", t);
}

/* Files written by ethers: "Crypto", x-ethers, non-ASCII passphrase. */
static void ethers_files(void **state)
{
	(void)state;
	char *text = tl_read_vector("keystore/ethers.txt", NULL);
	char *lines[16];
	size_t n = tl_lines(text, lines, 16);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		char *save = NULL, path[256];
		const char *file = strtok_r(lines[i], " ", &save);
		const char *pass_hex = strtok_r(NULL, " ", &save);
		const char *sk = strtok_r(NULL, " ", &save);
		const char *addr = strtok_r(NULL, " ", &save);
		assert_non_null(addr);
		size_t passlen;
		uint8_t *pass = tl_unhex(pass_hex, &passlen);
		snprintf(path, sizeof(path), "keystore/%s", file);
		decrypt_vector(path, (const char *)pass, passlen, sk);

		size_t len;
		char *json = tl_read_vector(path, &len);
		uint8_t a[20], want[20];
		assert_int_equal(rw_keystore_address(a, json, len, NULL), 0);
		assert_int_equal(rw_addr_parse(want, addr, strlen(addr)), 0);
		assert_memory_equal(a, want, 20);
		free(json);
		free(pass);
	}
	free(text);
}

/* A light scrypt keystore of web3_sk made by us, with an address. Not inlined:
 * inlined, gcc 12 -O2 mistakes the returned buffer for the local that held it
 * (-Wdangling-pointer). */
__attribute__((noinline)) static char *light_keystore(enum rw_keystore_kdf kdf, size_t *ret_len)
{
	struct rw_keystore_params p = { .kdf = kdf, .n = 16, .r = 1, .p = 1, .c = 16 };
	uint8_t sk[32];
	char *json = NULL;
	assert_int_equal(rw_hex_decode_fixed(sk, 32, web3_sk, 64, 0), 0);
	assert_int_equal(rw_keystore_encrypt(&json, ret_len, sk, web3_pass, strlen(web3_pass), &p),
			 0);
	return json;
}

/* Wrong passphrases, a damaged ciphertext or mac: RW_EMAC; ret_sk stays
 * untouched. */
static void wrong_pass_and_tampering(void **state)
{
	(void)state;
	size_t len;
	uint8_t sk[32];
	struct rw_keystore_diag d = { 0 };
	char *json = tl_read_vector("keystore/ethers_scrypt.json", &len);
	const char *pass = "correct horse \xe2\x98\x83 battery";

	memset(sk, 0xaa, sizeof(sk));
	assert_int_equal(rw_keystore_decrypt(sk, json, len, "testpassword", 12, &d), RW_EMAC);
	assert_string_equal(d.field, "crypto.mac");
	/* one byte short, and the passphrase's prefix */
	assert_int_equal(rw_keystore_decrypt(sk, json, len, pass, strlen(pass) - 1, NULL), RW_EMAC);
	assert_int_equal(rw_keystore_decrypt(sk, json, len, "", 0, NULL), RW_EMAC);
	assert_int_equal(rw_keystore_decrypt(sk, json, len, NULL, 0, NULL), RW_EMAC);
	for (size_t i = 0; i < 32; i++)
		assert_int_equal(sk[i], 0xaa);

	/* flip the first, a middle and the last digit of the ciphertext,
	 * then of the mac */
	static const char *const fields[] = { "\"ciphertext\":\"", "\"mac\":\"" };
	static const size_t digits[] = { 0, 5, 63 };
	for (size_t f = 0; f < 2 * NCASES(digits); f++) {
		char *copy = strdup(json);
		char *p = strstr(copy, fields[f % 2]);
		assert_non_null(p);
		p += strlen(fields[f % 2]) + digits[f / 2];
		*p = *p == '0' ? '1' : '0';
		memset(&d, 0, sizeof(d));
		assert_int_equal(rw_keystore_decrypt(sk, copy, len, pass, strlen(pass), &d),
				 RW_EMAC);
		assert_string_equal(d.field, "crypto.mac");
		free(copy);
	}
	free(json);
}

/* The iv is not covered by the MAC: a changed iv decrypts to another key,
 * and only the address check catches it. */
static void tampered_iv_caught_by_address(void **state)
{
	(void)state;
	size_t len;
	uint8_t sk[32];
	struct rw_keystore_diag d = { 0 };
	char *json = light_keystore(RW_KEYSTORE_SCRYPT, &len);
	const char *iv = strstr(json, "\"iv\":\"");
	assert_non_null(iv);
	size_t at = (size_t)(iv - json) + 6;
	json[at] = json[at] == '0' ? '1' : '0';
	int r = rw_keystore_decrypt(sk, json, len, web3_pass, strlen(web3_pass), &d);
	/* ~2^-128 odds that the garbage is not a valid key */
	assert_int_equal(r, RW_EINVAL);
	assert_string_equal(d.field, "address");
	free(json);
}

/* Sets (value != NULL, JSON text) or deletes the member at a dotted path. */
static void mutate(json_t *root, const char *path, const char *value)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	json_t *obj = root;
	char *key = buf, *dot;
	while ((dot = strchr(key, '.')) != NULL) {
		*dot = '\0';
		obj = json_object_get(obj, key);
		assert_non_null(obj);
		key = dot + 1;
	}
	if (!value) {
		assert_int_equal(json_object_del(obj, key), 0);
		return;
	}
	json_error_t err;
	json_t *v = json_loads(value, JSON_DECODE_ANY, &err);
	if (!v)
		fail_msg("bad JSON in test table: %s", value);
	assert_int_equal(json_object_set_new(obj, key, v), 0);
}

struct bad_case {
	const char *path;  /* member to change */
	const char *value; /* its new JSON value; NULL deletes it */
	int err;
	const char *field; /* expected diag.field; NULL for the document */
};

/* Applies each case to a fresh copy of base and checks the refusal. Cases
 * are refused before any heavy work: each one must take well under a
 * second even where the parameters would take hours or terabytes. */
static void run_cases(const char *base, const struct bad_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_error_t err;
		json_t *root = json_loads(base, 0, &err);
		assert_non_null(root);
		mutate(root, c[i].path, c[i].value);
		char *text = json_dumps(root, JSON_COMPACT);
		assert_non_null(text);
		json_decref(root);

		uint8_t sk[32];
		memset(sk, 0xaa, sizeof(sk));
		struct rw_keystore_diag d = { 0 };
		double t = now();
		int r = rw_keystore_decrypt(sk, text, strlen(text), web3_pass, strlen(web3_pass),
					    &d);
		t = now() - t;
		if (r != c[i].err || (c[i].field && (!d.field || strcmp(d.field, c[i].field))) ||
		    (!c[i].field && d.field) || (r < 0 && !d.reason))
			fail_msg("case %zu (%s = %s): got %d %s (%s), want %d %s", i, c[i].path,
				 c[i].value ? c[i].value : "<deleted>", r, d.field ? d.field : "-",
				 d.reason ? d.reason : "-", c[i].err,
				 c[i].field ? c[i].field : "-");
		if (t > 0.5)
			fail_msg("case %zu (%s = %s) took %.2f s", i, c[i].path,
				 c[i].value ? c[i].value : "<deleted>", t);
		if (r == 0) {
			tl_assert_hex(sk, 32, web3_sk);
		} else {
			for (size_t k = 0; k < 32; k++)
				assert_int_equal(sk[k], 0xaa);
		}
		free(text);
	}
}

static void bad_fields_scrypt(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
		{ "version", NULL, RW_ENOTFOUND, "version" },
		{ "version", "\"3\"", RW_EINVAL, "version" },
		{ "version", "3.0", RW_EINVAL, "version" },
		{ "version", "1", RW_EUNSUPPORTED, "version" },
		{ "version", "4", RW_EUNSUPPORTED, "version" },
		{ "crypto", NULL, RW_ENOTFOUND, "crypto" },
		{ "crypto", "[]", RW_EINVAL, "crypto" },
		{ "Crypto", "{}", RW_EINVAL, "crypto" }, /* both spellings */
		{ "crypto.cipher", NULL, RW_ENOTFOUND, "crypto.cipher" },
		{ "crypto.cipher", "\"aes-128-cbc\"", RW_EUNSUPPORTED, "crypto.cipher" },
		{ "crypto.cipher", "\"AES-128-CTR\"", RW_EUNSUPPORTED, "crypto.cipher" },
		{ "crypto.cipher", "7", RW_EINVAL, "crypto.cipher" },
		{ "crypto.cipherparams", NULL, RW_ENOTFOUND, "crypto.cipherparams" },
		{ "crypto.cipherparams", "\"x\"", RW_EINVAL, "crypto.cipherparams" },
		{ "crypto.cipherparams.iv", NULL, RW_ENOTFOUND, "crypto.cipherparams.iv" },
		{ "crypto.cipherparams.iv", "\"00\"", RW_EINVAL, "crypto.cipherparams.iv" },
		{ "crypto.cipherparams.iv", "\"000102030405060708090a0b0c0d0e0f10\"", RW_EINVAL,
		  "crypto.cipherparams.iv" },
		{ "crypto.cipherparams.iv", "\"0x0102030405060708090a0b0c0d0e0f\"", RW_EINVAL,
		  "crypto.cipherparams.iv" },
		{ "crypto.cipherparams.iv", "\"zz0102030405060708090a0b0c0d0e0f\"", RW_EINVAL,
		  "crypto.cipherparams.iv" },
		{ "crypto.ciphertext", NULL, RW_ENOTFOUND, "crypto.ciphertext" },
		{ "crypto.ciphertext",
		  "\"000102030405060708091011121314151617181920212223242526272829303132\"",
		  RW_EINVAL, "crypto.ciphertext" }, /* 33 bytes */
		{ "crypto.ciphertext",
		  "\"00010203040506070809101112131415161718192021222324252627282930\"", RW_EINVAL,
		  "crypto.ciphertext" }, /* 31 bytes */
		{ "crypto.ciphertext",
		  "\"000102030405060708091011121314151617181920212223242526272829303\"", RW_EINVAL,
		  "crypto.ciphertext" }, /* odd */
		{ "crypto.ciphertext", "null", RW_EINVAL, "crypto.ciphertext" },
		{ "crypto.kdf", NULL, RW_ENOTFOUND, "crypto.kdf" },
		{ "crypto.kdf", "\"argon2id\"", RW_EUNSUPPORTED, "crypto.kdf" },
		{ "crypto.kdf", "\"Scrypt\"", RW_EUNSUPPORTED, "crypto.kdf" },
		{ "crypto.kdfparams", NULL, RW_ENOTFOUND, "crypto.kdfparams" },
		{ "crypto.kdfparams", "[]", RW_EINVAL, "crypto.kdfparams" },
		{ "crypto.kdfparams.dklen", NULL, RW_ENOTFOUND, "crypto.kdfparams.dklen" },
		{ "crypto.kdfparams.dklen", "64", RW_EUNSUPPORTED, "crypto.kdfparams.dklen" },
		{ "crypto.kdfparams.dklen", "16", RW_EUNSUPPORTED, "crypto.kdfparams.dklen" },
		{ "crypto.kdfparams.dklen", "0", RW_EINVAL, "crypto.kdfparams.dklen" },
		{ "crypto.kdfparams.salt", NULL, RW_ENOTFOUND, "crypto.kdfparams.salt" },
		{ "crypto.kdfparams.salt", "\"\"", RW_EINVAL, "crypto.kdfparams.salt" },
		{ "crypto.kdfparams.salt", "\"abc\"", RW_EINVAL, "crypto.kdfparams.salt" },
		{ "crypto.kdfparams.salt", "\"xy\"", RW_EINVAL, "crypto.kdfparams.salt" },
		{ "crypto.kdfparams.n", NULL, RW_ENOTFOUND, "crypto.kdfparams.n" },
		{ "crypto.kdfparams.n", "0", RW_EINVAL, "crypto.kdfparams.n" },
		{ "crypto.kdfparams.n", "1", RW_EINVAL, "crypto.kdfparams.n" },
		{ "crypto.kdfparams.n", "-16", RW_EINVAL, "crypto.kdfparams.n" },
		{ "crypto.kdfparams.n", "1000", RW_EINVAL, "crypto.kdfparams.n" },
		{ "crypto.kdfparams.n", "\"16\"", RW_EINVAL, "crypto.kdfparams.n" },
		{ "crypto.kdfparams.n", "16.0", RW_EINVAL, "crypto.kdfparams.n" },
		/* would allocate 128 GiB */
		{ "crypto.kdfparams.n", "1073741824", RW_ETOOBIG, "crypto.kdfparams" },
		{ "crypto.kdfparams.n", "2147483648", RW_ETOOBIG, "crypto.kdfparams" },
		{ "crypto.kdfparams.n", "1099511627776", RW_ETOOBIG, "crypto.kdfparams.n" },
		{ "crypto.kdfparams.n", "9223372036854775807", RW_ETOOBIG, "crypto.kdfparams.n" },
		{ "crypto.kdfparams.r", NULL, RW_ENOTFOUND, "crypto.kdfparams.r" },
		{ "crypto.kdfparams.r", "0", RW_EINVAL, "crypto.kdfparams.r" },
		/* 128 * r * (n + p) just over 2 GiB, then far over */
		{ "crypto.kdfparams.r", "1000000", RW_ETOOBIG, "crypto.kdfparams" },
		{ "crypto.kdfparams.r", "4294967295", RW_ETOOBIG, "crypto.kdfparams" },
		{ "crypto.kdfparams.p", NULL, RW_ENOTFOUND, "crypto.kdfparams.p" },
		{ "crypto.kdfparams.p", "0", RW_EINVAL, "crypto.kdfparams.p" },
		/* little memory, but hours of work */
		{ "crypto.kdfparams.p", "2097152", RW_ETOOBIG, "crypto.kdfparams" },
		{ "crypto.kdfparams.p", "4294967295", RW_ETOOBIG, "crypto.kdfparams" },
		{ "crypto.mac", NULL, RW_ENOTFOUND, "crypto.mac" },
		{ "crypto.mac", "\"00\"", RW_EINVAL, "crypto.mac" },
		{ "crypto.mac", "{}", RW_EINVAL, "crypto.mac" },
		{ "address", "7", RW_EINVAL, "address" },
		{ "address", "\"08ab7c\"", RW_EINVAL, "address" },
		{ "address", "\"0x008aeeda4d805471df9b2a5b0f38a0c3bcba786\"", RW_EINVAL,
		  "address" },
		{ "address", "\"zz8aeeda4d805471df9b2a5b0f38a0c3bcba786b\"", RW_EINVAL, "address" },
		{ "address", "\"0X008aeeda4d805471df9b2a5b0f38a0c3bcba786b\"", RW_EINVAL,
		  "address" },
		/* mixed case with one letter's case flipped */
		{ "address", "\"0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786B\"", RW_ECHECKSUM,
		  "address" },
		/* a well-formed address of another key: found after the KDF */
		{ "address", "\"7e5f4552091a69125d5dfcb7b8c2659029395bdf\"", RW_EINVAL, "address" },
		/* accepted spellings of the right address */
		{ "address", "\"0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b\"", 0, NULL },
		{ "address", "\"008AEEDA4D805471DF9B2A5B0F38A0C3BCBA786B\"", 0, NULL },
		{ "address", NULL, 0, NULL },
		/* unknown members are ignored */
		{ "x-extra", "{\"a\": [1, 2]}", 0, NULL },
		{ "id", NULL, 0, NULL },
	};
	size_t len;
	char *base = light_keystore(RW_KEYSTORE_SCRYPT, &len);
	run_cases(base, cases, NCASES(cases));
	free(base);
}

static void bad_fields_pbkdf2(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
		{ "crypto.kdfparams.prf", NULL, RW_ENOTFOUND, "crypto.kdfparams.prf" },
		{ "crypto.kdfparams.prf", "\"hmac-sha512\"", RW_EUNSUPPORTED,
		  "crypto.kdfparams.prf" },
		{ "crypto.kdfparams.prf", "1", RW_EINVAL, "crypto.kdfparams.prf" },
		{ "crypto.kdfparams.c", NULL, RW_ENOTFOUND, "crypto.kdfparams.c" },
		{ "crypto.kdfparams.c", "0", RW_EINVAL, "crypto.kdfparams.c" },
		{ "crypto.kdfparams.c", "-1", RW_EINVAL, "crypto.kdfparams.c" },
		/* would take minutes */
		{ "crypto.kdfparams.c", "10000001", RW_ETOOBIG, "crypto.kdfparams.c" },
		{ "crypto.kdfparams.c", "4294967296", RW_ETOOBIG, "crypto.kdfparams.c" },
		{ "crypto.kdf", "\"pbkdf2\"", 0, NULL },
		{ "crypto.kdf", "\"scrypt\"", RW_ENOTFOUND, "crypto.kdfparams.n" },
	};
	size_t len;
	char *base = light_keystore(RW_KEYSTORE_PBKDF2, &len);
	run_cases(base, cases, NCASES(cases));

	/* salt length limits: 1024 bytes are fine (MAC fails: different
	 * salt), 1025 too many */
	char *salt = malloc(2 * 1025 + 3);
	assert_non_null(salt);
	salt[0] = '"';
	memset(salt + 1, 'a', 2 * 1025);
	strcpy(salt + 1 + 2 * 1025, "\"");
	const struct bad_case big = { "crypto.kdfparams.salt", salt, RW_ETOOBIG,
				      "crypto.kdfparams.salt" };
	run_cases(base, &big, 1);
	strcpy(salt + 1 + 2 * 1024, "\"");
	const struct bad_case max = { "crypto.kdfparams.salt", salt, RW_EMAC, "crypto.mac" };
	run_cases(base, &max, 1);
	free(salt);
	free(base);
}

/* Documents that are not keystores at all. */
static void bad_documents(void **state)
{
	(void)state;
	static const char *const docs[] = {
		"",
		"{",
		"[]",
		"3",
		"null",
		"\"x\"",
		"{\"version\":3,\"version\":3}", /* duplicate member */
		"{\"version\":3} trailing",
	};
	uint8_t sk[32];
	struct rw_keystore_diag d;
	for (size_t i = 0; i < NCASES(docs); i++) {
		d.field = "sentinel";
		d.reason = NULL;
		assert_int_equal(rw_keystore_decrypt(sk, docs[i], strlen(docs[i]), "x", 1, &d),
				 RW_EINVAL);
		assert_null(d.field);
		assert_non_null(d.reason);
	}
	/* the length counts, not a NUL */
	size_t len;
	char *json = light_keystore(RW_KEYSTORE_SCRYPT, &len);
	assert_int_equal(rw_keystore_decrypt(sk, json, len - 1, web3_pass, 12, NULL), RW_EINVAL);
	free(json);

	/* over 64 KiB is refused before parsing */
	size_t big = RW_KEYSTORE_MAX_JSON + 1;
	char *huge = malloc(big);
	assert_non_null(huge);
	memset(huge, ' ', big);
	assert_int_equal(rw_keystore_decrypt(sk, huge, big, "x", 1, &d), RW_ETOOBIG);
	assert_null(d.field);
	uint8_t addr[20];
	assert_int_equal(rw_keystore_address(addr, huge, big, NULL), RW_ETOOBIG);
	free(huge);
}

/* Encrypt then decrypt with both KDFs; check the document's shape. */
static void round_trip(void **state)
{
	(void)state;
	static const struct rw_keystore_params params[] = {
		{ .kdf = RW_KEYSTORE_SCRYPT, .n = 1024, .r = 8, .p = 1 },
		{ .kdf = RW_KEYSTORE_SCRYPT, .n = 2, .r = 1, .p = 3 },
		{ .kdf = RW_KEYSTORE_PBKDF2, .c = 1000 },
		{ .kdf = RW_KEYSTORE_PBKDF2, .c = 1 },
	};
	static const char pass_with_nul[] = "pass\0word";
	for (size_t i = 0; i < NCASES(params); i++) {
		uint8_t sk[32], got[32], addr[20], want_addr[20];
		char *json = NULL, *json2 = NULL;
		size_t len, len2;
		assert_int_equal(rw_key_generate(sk), 0);
		assert_int_equal(rw_key_address(want_addr, sk), 0);
		assert_int_equal(rw_keystore_encrypt(&json, &len, sk, pass_with_nul,
						     sizeof(pass_with_nul) - 1, &params[i]),
				 0);
		assert_int_equal(strlen(json), len);
		assert_int_equal(rw_keystore_decrypt(got, json, len, pass_with_nul,
						     sizeof(pass_with_nul) - 1, NULL),
				 0);
		assert_memory_equal(got, sk, 32);
		/* the bytes after the NUL count */
		assert_int_equal(rw_keystore_decrypt(got, json, len, pass_with_nul, 4, NULL),
				 RW_EMAC);
		assert_int_equal(rw_keystore_address(addr, json, len, NULL), 0);
		assert_memory_equal(addr, want_addr, 20);

		/* the shape: version 3, lowercase crypto, address without 0x,
		 * uuid v4, 32-byte salt, 16-byte iv */
		json_error_t err;
		json_t *root = json_loads(json, 0, &err);
		assert_non_null(root);
		assert_int_equal(json_integer_value(json_object_get(root, "version")), 3);
		const char *a = json_string_value(json_object_get(root, "address"));
		assert_non_null(a);
		assert_int_equal(strlen(a), 40);
		for (const char *c = a; *c; c++)
			assert_true((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'));
		const char *id = json_string_value(json_object_get(root, "id"));
		assert_non_null(id);
		assert_int_equal(strlen(id), 36);
		assert_true(id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-');
		assert_int_equal(id[14], '4');
		assert_non_null(strchr("89ab", id[19]));
		json_t *crypto = json_object_get(root, "crypto");
		assert_non_null(crypto);
		json_t *kp = json_object_get(crypto, "kdfparams");
		assert_int_equal(strlen(json_string_value(json_object_get(kp, "salt"))), 64);
		assert_int_equal(json_integer_value(json_object_get(kp, "dklen")), 32);
		assert_int_equal(strlen(json_string_value(json_object_get(
					 json_object_get(crypto, "cipherparams"), "iv"))),
				 32);
		if (params[i].kdf == RW_KEYSTORE_SCRYPT) {
			assert_string_equal(json_string_value(json_object_get(crypto, "kdf")),
					    "scrypt");
			assert_int_equal(json_integer_value(json_object_get(kp, "n")), params[i].n);
			assert_int_equal(json_integer_value(json_object_get(kp, "r")), params[i].r);
			assert_int_equal(json_integer_value(json_object_get(kp, "p")), params[i].p);
		} else {
			assert_string_equal(json_string_value(json_object_get(crypto, "kdf")),
					    "pbkdf2");
			assert_string_equal(json_string_value(json_object_get(kp, "prf")),
					    "hmac-sha256");
			assert_int_equal(json_integer_value(json_object_get(kp, "c")), params[i].c);
		}
		json_decref(root);

		/* fresh salt, iv and id each time */
		assert_int_equal(rw_keystore_encrypt(&json2, &len2, sk, pass_with_nul,
						     sizeof(pass_with_nul) - 1, &params[i]),
				 0);
		assert_string_not_equal(json, json2);
		free(json);
		free(json2);
	}
}

/* The defaults: geth's standard scrypt (about a second each way). */
static void round_trip_defaults(void **state)
{
	(void)state;
	uint8_t sk[32], got[32];
	char *json = NULL;
	size_t len;
	assert_int_equal(rw_hex_decode_fixed(sk, 32, web3_sk, 64, 0), 0);
	double t = now();
	assert_int_equal(rw_keystore_encrypt(&json, &len, sk, "", 0, NULL), 0);
	print_message("encrypt with defaults: %.2f s\n", now() - t);
	assert_non_null(strstr(json, "\"n\":262144"));
	assert_non_null(strstr(json, "\"r\":8"));
	assert_non_null(strstr(json, "\"p\":1"));
	assert_non_null(strstr(json, "\"address\":\"008aeeda4d805471df9b2a5b0f38a0c3bcba786b\""));
	assert_int_equal(rw_keystore_decrypt(got, json, len, NULL, 0, NULL), 0);
	assert_memory_equal(got, sk, 32);
	free(json);
}

/* Encryption refuses bad keys and parameters, leaving *ret_json alone. */
static void encrypt_refusals(void **state)
{
	(void)state;
	uint8_t sk[32] = { 0 };
	char *json = (char *)"sentinel";
	size_t len = 7;
	struct rw_keystore_params p = { .kdf = RW_KEYSTORE_PBKDF2, .c = 1 };

	assert_int_equal(rw_keystore_encrypt(&json, &len, sk, "x", 1, &p), RW_ECRYPTO);
	memset(sk, 0xff, sizeof(sk)); /* >= n */
	assert_int_equal(rw_keystore_encrypt(&json, &len, sk, "x", 1, &p), RW_ECRYPTO);
	sk[0] = 0x01;

	static const struct {
		struct rw_keystore_params p;
		int err;
		const char *field;
	} bad[] = {
		{ { .kdf = 0 }, RW_EINVAL, "crypto.kdf" },
		{ { .kdf = 7 }, RW_EINVAL, "crypto.kdf" },
		{ { .kdf = RW_KEYSTORE_PBKDF2, .c = 0 }, RW_EINVAL, "crypto.kdfparams.c" },
		{ { .kdf = RW_KEYSTORE_PBKDF2, .c = 10000001 }, RW_ETOOBIG, "crypto.kdfparams.c" },
		{ { .kdf = RW_KEYSTORE_SCRYPT, .n = 0, .r = 1, .p = 1 },
		  RW_EINVAL,
		  "crypto.kdfparams.n" },
		{ { .kdf = RW_KEYSTORE_SCRYPT, .n = 3, .r = 1, .p = 1 },
		  RW_EINVAL,
		  "crypto.kdfparams.n" },
		{ { .kdf = RW_KEYSTORE_SCRYPT, .n = 16, .r = 0, .p = 1 },
		  RW_EINVAL,
		  "crypto.kdfparams.r" },
		{ { .kdf = RW_KEYSTORE_SCRYPT, .n = 16, .r = 1, .p = 0 },
		  RW_EINVAL,
		  "crypto.kdfparams.p" },
		/* 2^21 * 8: 2 GiB + 1 KiB of memory */
		{ { .kdf = RW_KEYSTORE_SCRYPT, .n = 1u << 21, .r = 8, .p = 1 },
		  RW_ETOOBIG,
		  "crypto.kdfparams" },
		/* 2^20 * 8 * 4: 1 GiB but 2^25 work */
		{ { .kdf = RW_KEYSTORE_SCRYPT, .n = 1u << 20, .r = 8, .p = 4 },
		  RW_ETOOBIG,
		  "crypto.kdfparams" },
	};
	for (size_t i = 0; i < NCASES(bad); i++) {
		struct rw_keystore_diag d = { 0 };
		assert_int_equal(rw_keystore_check_params(&bad[i].p, &d), bad[i].err);
		assert_string_equal(d.field, bad[i].field);
		assert_int_equal(rw_keystore_encrypt(&json, &len, sk, "x", 1, &bad[i].p),
				 bad[i].err);
	}
	assert_string_equal(json, "sentinel");
	assert_int_equal(len, 7);

	/* the limits themselves are allowed */
	struct rw_keystore_params ok[] = {
		{ .kdf = RW_KEYSTORE_SCRYPT, .n = 1u << 20, .r = 8, .p = 1 },
		{ .kdf = RW_KEYSTORE_SCRYPT, .n = 1u << 18, .r = 8, .p = 8 },
		{ .kdf = RW_KEYSTORE_SCRYPT, .n = 2, .r = 1, .p = 1 },
		{ .kdf = RW_KEYSTORE_PBKDF2, .c = 10000000 },
	};
	for (size_t i = 0; i < NCASES(ok); i++)
		assert_int_equal(rw_keystore_check_params(&ok[i], NULL), 0);
	struct rw_keystore_params def;
	rw_keystore_params_default(&def);
	assert_int_equal(rw_keystore_check_params(&def, NULL), 0);
	assert_int_equal(def.kdf, RW_KEYSTORE_SCRYPT);
	assert_int_equal(def.n, 262144);
	assert_int_equal(def.r, 8);
	assert_int_equal(def.p, 1);
}

/* RFC 7914 section 12 (the fourth vector needs 1 GiB and is left out). */
static void scrypt_rfc7914(void **state)
{
	(void)state;
	static const struct {
		const char *pass, *salt;
		uint32_t n, r, p;
		const char *dk;
	} v[] = {
		{ "", "", 16, 1, 1,
		  "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
		  "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906" },
		{ "password", "NaCl", 1024, 8, 16,
		  "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
		  "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640" },
		{ "pleaseletmein", "SodiumChloride", 16384, 8, 1,
		  "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
		  "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887" },
	};
	for (size_t i = 0; i < NCASES(v); i++) {
		uint8_t out[64];
		assert_int_equal(rw_keystore_scrypt(out, 64, v[i].pass, strlen(v[i].pass),
						    (const uint8_t *)v[i].salt, strlen(v[i].salt),
						    v[i].n, v[i].r, v[i].p),
				 0);
		tl_assert_hex(out, 64, v[i].dk);
	}
}

/* Agrees with OpenSSL's EVP_PBE_scrypt wherever OpenSSL accepts the
 * parameters (n < 2^(16 r)), over several shapes and output lengths. */
static void scrypt_vs_openssl(void **state)
{
	(void)state;
	static const struct {
		uint32_t n, r, p;
		size_t outlen;
	} v[] = {
		{ 2, 1, 1, 32 },     { 4, 1, 1, 1 },     { 16, 1, 1, 33 },   { 256, 1, 1, 32 },
		{ 32768, 1, 1, 32 }, { 1024, 2, 3, 64 }, { 512, 3, 2, 100 }, { 4096, 8, 1, 32 },
		{ 2048, 16, 1, 32 }, { 64, 5, 7, 17 },
	};
	uint8_t pass[40], salt[40];
	for (size_t i = 0; i < sizeof(pass); i++) {
		pass[i] = (uint8_t)(i * 7 + 1);
		salt[i] = (uint8_t)(255 - i * 3);
	}
	for (size_t i = 0; i < NCASES(v); i++) {
		uint8_t a[128], b[128];
		size_t pl = i * 3 % sizeof(pass), sl = (i * 5 + 1) % sizeof(salt);
		assert_int_equal(rw_keystore_scrypt(a, v[i].outlen, pass, pl, salt, sl, v[i].n,
						    v[i].r, v[i].p),
				 0);
		assert_int_equal(EVP_PBE_scrypt((const char *)pass, pl, salt, sl, v[i].n, v[i].r,
						v[i].p, (uint64_t)1 << 30, b, v[i].outlen),
				 1);
		assert_memory_equal(a, b, v[i].outlen);
	}
	/* refusals */
	uint8_t out[32];
	assert_int_equal(rw_keystore_scrypt(out, 32, "", 0, salt, 1, 0, 1, 1), RW_EINVAL);
	assert_int_equal(rw_keystore_scrypt(out, 32, "", 0, salt, 1, 1, 1, 1), RW_EINVAL);
	assert_int_equal(rw_keystore_scrypt(out, 32, "", 0, salt, 1, 48, 1, 1), RW_EINVAL);
	assert_int_equal(rw_keystore_scrypt(out, 32, "", 0, salt, 1, 16, 0, 1), RW_EINVAL);
	assert_int_equal(rw_keystore_scrypt(out, 32, "", 0, salt, 1, 16, 1, 0), RW_EINVAL);
	assert_int_equal(rw_keystore_scrypt(out, 0, "", 0, salt, 1, 16, 1, 1), RW_EINVAL);
	assert_int_equal(rw_keystore_scrypt(out, 32, "", 0, salt, 1, 1u << 31, 1, 1), RW_ETOOBIG);
}

/* ---- file helpers ---- */

static char tmpdir[64];

/* Writes data to dir/name with mode via the helper, then chmods. */
static void make_file(char *path, size_t cap, const char *name, const char *data, mode_t mode)
{
	snprintf(path, cap, "%s/%s", tmpdir, name);
	assert_int_equal(rw_keystore_write_file(path, data, strlen(data)), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void file_helpers(void **state)
{
	(void)state;
	char path[128];
	char *json;
	size_t len;
	struct stat st;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/runway-keystore-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	mode_t old = umask(022);

	/* written 0600 (umask 022 would have given 0644), read back */
	snprintf(path, sizeof(path), "%s/a.json", tmpdir);
	assert_int_equal(rw_keystore_write_file(path, "{\"x\":1}\n", 8), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(rw_keystore_read_file(&json, &len, path), 0);
	assert_int_equal(len, 8);
	assert_string_equal(json, "{\"x\":1}\n");
	free(json);

	/* never replaces a file */
	errno = 0;
	assert_int_equal(rw_keystore_write_file(path, "new", 3), RW_EIO);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(rw_keystore_read_file(&json, &len, path), 0);
	assert_string_equal(json, "{\"x\":1}\n");
	free(json);

	/* nor writes through a symlink */
	char link_path[160];
	snprintf(link_path, sizeof(link_path), "%s/link.json", tmpdir);
	char target[160];
	snprintf(target, sizeof(target), "%s/target.json", tmpdir);
	assert_int_equal(symlink(target, link_path), 0);
	assert_int_equal(rw_keystore_write_file(link_path, "x", 1), RW_EIO);
	assert_int_equal(access(target, F_OK), -1);

	/* group or other bits refused, owner-only modes accepted */
	static const struct {
		mode_t mode;
		int err;
	} modes[] = {
		{ 0600, 0 },        { 0400, 0 },        { 0700, 0 },        { 0644, RW_EPERM },
		{ 0640, RW_EPERM }, { 0604, RW_EPERM }, { 0660, RW_EPERM }, { 0606, RW_EPERM },
		{ 0610, RW_EPERM }, { 0601, RW_EPERM },
	};
	for (size_t i = 0; i < NCASES(modes); i++) {
		char name[32];
		snprintf(name, sizeof(name), "m%zu.json", i);
		make_file(path, sizeof(path), name, "{}", modes[i].mode);
		json = (char *)"sentinel";
		int r = rw_keystore_read_file(&json, &len, path);
		if (r != modes[i].err)
			fail_msg("mode %04o: got %d, want %d", (unsigned)modes[i].mode, r,
				 modes[i].err);
		if (r == 0) {
			assert_string_equal(json, "{}");
			free(json);
		} else {
			assert_string_equal(json, "sentinel");
		}
		(void)unlink(path);
	}

	/* not found, a directory, too large */
	snprintf(path, sizeof(path), "%s/missing.json", tmpdir);
	errno = 0;
	assert_int_equal(rw_keystore_read_file(&json, &len, path), RW_EIO);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(rw_keystore_read_file(&json, &len, tmpdir), RW_EINVAL);
	char *big = malloc(RW_KEYSTORE_MAX_JSON + 2);
	assert_non_null(big);
	memset(big, ' ', RW_KEYSTORE_MAX_JSON + 1);
	big[RW_KEYSTORE_MAX_JSON + 1] = '\0';
	make_file(path, sizeof(path), "big.json", big, 0600);
	assert_int_equal(rw_keystore_read_file(&json, &len, path), RW_ETOOBIG);
	(void)unlink(path);
	big[RW_KEYSTORE_MAX_JSON] = '\0'; /* exactly the limit */
	make_file(path, sizeof(path), "max.json", big, 0600);
	assert_int_equal(rw_keystore_read_file(&json, &len, path), 0);
	assert_int_equal(len, RW_KEYSTORE_MAX_JSON);
	free(json);
	(void)unlink(path);
	free(big);

	/* a whole keystore through the files */
	size_t klen;
	char *ks = light_keystore(RW_KEYSTORE_SCRYPT, &klen);
	snprintf(path, sizeof(path), "%s/key.json", tmpdir);
	assert_int_equal(rw_keystore_write_file(path, ks, klen), 0);
	assert_int_equal(rw_keystore_read_file(&json, &len, path), 0);
	uint8_t sk[32];
	assert_int_equal(rw_keystore_decrypt(sk, json, len, web3_pass, strlen(web3_pass), NULL), 0);
	tl_assert_hex(sk, 32, web3_sk);
	free(json);
	free(ks);
	(void)unlink(path);

	snprintf(path, sizeof(path), "%s/a.json", tmpdir);
	(void)unlink(path);
	(void)unlink(link_path);
	umask(old);
	assert_int_equal(rmdir(tmpdir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(web3_pbkdf2),
		cmocka_unit_test(web3_scrypt),
		cmocka_unit_test(ethers_files),
		cmocka_unit_test(wrong_pass_and_tampering),
		cmocka_unit_test(tampered_iv_caught_by_address),
		cmocka_unit_test(bad_fields_scrypt),
		cmocka_unit_test(bad_fields_pbkdf2),
		cmocka_unit_test(bad_documents),
		cmocka_unit_test(round_trip),
		cmocka_unit_test(round_trip_defaults),
		cmocka_unit_test(encrypt_refusals),
		cmocka_unit_test(scrypt_rfc7914),
		cmocka_unit_test(scrypt_vs_openssl),
		cmocka_unit_test(file_helpers),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
