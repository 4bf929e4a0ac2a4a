/* test_key.c: secp256k1 keys, addresses, EIP-55, signing and recovery.
 *
 * Published examples (EIP-55, well-known keys) and tests/vectors/
 * key_random.txt, produced by tests/vectors/gen_key.mjs with ethers v6 (an
 * independent implementation: noble-curves, RFC 6979, low-S). */
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hex.h"
#include "key.h"

static const char order_hex[] = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

/* Decodes exactly n bytes of hex (no prefix) into out; fails the test on
 * bad input. */
static void unhex_fixed(uint8_t *out, size_t n, const char *hex)
{
	assert_int_equal(rw_hex_decode_fixed(out, n, hex, strlen(hex), RW_HEX_PREFIX_OPTIONAL), 0);
}

/* out = a - b for 32-byte big-endian numbers (a >= b). */
static void sub32(uint8_t out[32], const uint8_t a[32], const uint8_t b[32])
{
	int borrow = 0;
	for (int i = 31; i >= 0; i--) {
		int d = a[i] - b[i] - borrow;
		borrow = d < 0;
		out[i] = (uint8_t)(d + (borrow ? 256 : 0));
	}
}

/* out = a + k for a small k (no overflow past 2^256 in our uses). */
static void add32_small(uint8_t out[32], const uint8_t a[32], unsigned k)
{
	unsigned carry = k;
	for (int i = 31; i >= 0; i--) {
		unsigned v = a[i] + carry;
		out[i] = (uint8_t)v;
		carry = v >> 8;
	}
}

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

/* Every checksummed form from EIP-55 parses and re-encodes to itself. */
static void eip55_examples(void **state)
{
	(void)state;
	static const char *mixed[] = {
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
		"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
		"0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
		"0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
		/* the all-caps and all-lower examples of the EIP are also
		 * their own checksummed form */
		"0x52908400098527886E0F7030069857D2E4169EE7",
		"0x8617E340B3D01FA5F11F306F4090FD50E238070D",
		"0xde709f2102306220921060314715629080e2fb77",
		"0x27b1fdb04752bbc536007a920d24acb045561c26",
	};
	for (size_t i = 0; i < sizeof(mixed) / sizeof(mixed[0]); i++) {
		uint8_t a[20];
		char out[43];
		assert_int_equal(rw_addr_parse(a, mixed[i], 42), 0);
		tl_assert_hex(a, 20, mixed[i]);
		rw_addr_checksum(out, a);
		assert_string_equal(out, mixed[i]);
	}
}

/* Uniform case is accepted without a checksum; mixed case must match. */
static void addr_parse_case_rules(void **state)
{
	(void)state;
	uint8_t a[20];
	char s[43];

	/* all-lower and all-upper forms of a mixed-case address */
	strcpy(s, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed");
	assert_int_equal(rw_addr_parse(a, s, 42), 0);
	tl_assert_hex(a, 20, "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed");
	strcpy(s, "0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED");
	assert_int_equal(rw_addr_parse(a, s, 42), 0);
	tl_assert_hex(a, 20, "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed");

	/* one letter's case flipped in a checksummed address */
	memset(a, 0xaa, sizeof(a));
	strcpy(s, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
	s[3] = 'A';
	assert_int_equal(rw_addr_parse(a, s, 42), RW_ECHECKSUM);
	strcpy(s, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
	s[41] = 'D';
	assert_int_equal(rw_addr_parse(a, s, 42), RW_ECHECKSUM);
	/* the address of sk=1 with one letter miscapitalised ("B8" for "b8") */
	assert_int_equal(rw_addr_parse(a, "0x7E5F4552091A69125d5DfCb7B8C2659029395Bdf", 42),
			 RW_ECHECKSUM);
	for (size_t i = 0; i < 20; i++)
		assert_int_equal(a[i], 0xaa); /* untouched on failure */
}

static void addr_parse_malformed(void **state)
{
	(void)state;
	uint8_t a[20];
	static const char *bad[] = {
		"5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",    /* no prefix */
		"0X5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",  /* 0X */
		"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae",   /* 39 digits */
		"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed0", /* 41 digits */
		"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg",  /* bad digit */
		"0x 5aaeb6053f3e94c9b9a09f33669435e7ef1beae",  /* space */
		"0x0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea",  /* double prefix */
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(rw_addr_parse(a, bad[i], strlen(bad[i])), RW_EINVAL);
	/* a correct address, but the length says less */
	assert_int_equal(rw_addr_parse(a, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", 41),
			 RW_EINVAL);
}

/* Well-known private keys and their addresses. */
static void known_keys(void **state)
{
	(void)state;
	static const struct {
		const char *sk, *addr;
	} cases[] = {
		/* the generator G */
		{ "0000000000000000000000000000000000000000000000000000000000000001",
		  "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf" },
		/* the EIP-155 example key */
		{ "4646464646464646464646464646464646464646464646464646464646464646",
		  "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F" },
		/* the Web3 Secret Storage test key */
		{ "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d",
		  "0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t sk[32], addr[20];
		char out[43];
		unhex_fixed(sk, 32, cases[i].sk);
		assert_int_equal(rw_key_check(sk), 1);
		assert_int_equal(rw_key_address(addr, sk), 0);
		rw_addr_checksum(out, addr);
		assert_string_equal(out, cases[i].addr);
	}
}

/* The address of G's uncompressed coordinates is sk=1's address. */
static void pub_address(void **state)
{
	(void)state;
	uint8_t pub[64], addr[20];
	unhex_fixed(pub, 64,
		    "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
		    "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8");
	rw_key_pub_address(addr, pub);
	tl_assert_hex(addr, 20, "7e5f4552091a69125d5dfcb7b8c2659029395bdf");
}

/* 0, n, n + 1 and 2^256 - 1 are not keys; n - 1 is. */
static void invalid_keys(void **state)
{
	(void)state;
	uint8_t n[32], sk[32], addr[20], hash[32];
	struct rw_sig sig;
	unhex_fixed(n, 32, order_hex);
	memset(hash, 0x11, sizeof(hash));

	uint8_t bad[4][32];
	memset(bad[0], 0, 32);
	memcpy(bad[1], n, 32);
	add32_small(bad[2], n, 1);
	memset(bad[3], 0xff, 32);
	for (int i = 0; i < 4; i++) {
		memset(addr, 0xaa, sizeof(addr));
		assert_int_equal(rw_key_check(bad[i]), 0);
		assert_int_equal(rw_key_address(addr, bad[i]), RW_ECRYPTO);
		assert_int_equal(rw_key_sign(&sig, hash, bad[i]), RW_ECRYPTO);
		for (size_t j = 0; j < sizeof(addr); j++)
			assert_int_equal(addr[j], 0xaa);
	}
	uint8_t one[32] = { 0 };
	one[31] = 1;
	sub32(sk, n, one);
	assert_int_equal(rw_key_check(sk), 1);
	assert_int_equal(rw_key_address(addr, sk), 0);
}

struct vec {
	uint8_t sk[32], hash[32], addr[20];
	struct rw_sig sig;
	char addr_text[43];
};

/* Parses one key_random.txt line: sk address hash r s recid. */
static void parse_vec(struct vec *v, char *line)
{
	char *save = NULL;
	char *f[6];
	for (int i = 0; i < 6; i++) {
		f[i] = strtok_r(i ? NULL : line, " ", &save);
		assert_non_null(f[i]);
	}
	unhex_fixed(v->sk, 32, f[0]);
	assert_int_equal(strlen(f[1]), 42);
	memcpy(v->addr_text, f[1], 43);
	assert_int_equal(rw_hex_decode_fixed(v->addr, 20, f[1], 42, RW_HEX_PREFIX_REQUIRED), 0);
	unhex_fixed(v->hash, 32, f[2]);
	unhex_fixed(v->sig.r, 32, f[3]);
	unhex_fixed(v->sig.s, 32, f[4]);
	v->sig.recid = atoi(f[5]);
}

/* Loads key_random.txt; returns the number of vectors in *ret (heap). */
static size_t load_vectors(struct vec **ret)
{
	char *text = tl_read_vector("key_random.txt", NULL);
	static char *lines[1024];
	size_t n = tl_lines(text, lines, 1024);
	assert_true(n >= 300);
	struct vec *v = calloc(n, sizeof(*v));
	assert_non_null(v);
	for (size_t i = 0; i < n; i++)
		parse_vec(&v[i], lines[i]);
	free(text);
	*ret = v;
	return n;
}

/* Address, EIP-55 text, signature bytes and recovery agree with ethers. */
static void random_vectors(void **state)
{
	(void)state;
	struct vec *v;
	size_t n = load_vectors(&v);
	for (size_t i = 0; i < n; i++) {
		uint8_t addr[20], rec[20], parsed[20];
		char text[43];
		struct rw_sig sig;

		assert_int_equal(rw_key_address(addr, v[i].sk), 0);
		assert_memory_equal(addr, v[i].addr, 20);
		rw_addr_checksum(text, addr);
		assert_string_equal(text, v[i].addr_text);
		assert_int_equal(rw_addr_parse(parsed, v[i].addr_text, 42), 0);
		assert_memory_equal(parsed, addr, 20);

		assert_int_equal(rw_key_sign(&sig, v[i].hash, v[i].sk), 0);
		assert_memory_equal(sig.r, v[i].sig.r, 32);
		assert_memory_equal(sig.s, v[i].sig.s, 32);
		assert_int_equal(sig.recid, v[i].sig.recid);

		assert_int_equal(rw_key_recover(rec, v[i].hash, &v[i].sig), 0);
		assert_memory_equal(rec, addr, 20);
	}
	print_message("checked %zu ethers vectors\n", n);
	free(v);
}

/* Changing the hash, r, s or recid never recovers the signer. */
static void tampered_signatures(void **state)
{
	(void)state;
	struct vec *v;
	size_t n = load_vectors(&v);
	if (n > 60)
		n = 60;
	for (size_t i = 0; i < n; i++) {
		uint8_t rec[20], hash[32];
		struct rw_sig sig;
		int r;

		memcpy(hash, v[i].hash, 32);
		hash[i % 32] ^= 0x01;
		r = rw_key_recover(rec, hash, &v[i].sig);
		assert_true(r < 0 || memcmp(rec, v[i].addr, 20) != 0);

		sig = v[i].sig;
		sig.r[31 - i % 32] ^= 0x04;
		r = rw_key_recover(rec, v[i].hash, &sig);
		assert_true(r < 0 || memcmp(rec, v[i].addr, 20) != 0);

		sig = v[i].sig;
		sig.s[31] ^= 0x01; /* stays low unless s was n/2 exactly */
		r = rw_key_recover(rec, v[i].hash, &sig);
		assert_true(r < 0 || memcmp(rec, v[i].addr, 20) != 0);

		sig = v[i].sig;
		sig.recid ^= 1;
		r = rw_key_recover(rec, v[i].hash, &sig);
		assert_true(r < 0 || memcmp(rec, v[i].addr, 20) != 0);
	}
	free(v);
}

/* High s, zero or out-of-range scalars, and bad recids are refused. */
static void malformed_signatures(void **state)
{
	(void)state;
	struct vec *v;
	load_vectors(&v);
	uint8_t n[32], rec[20];
	unhex_fixed(n, 32, order_hex);
	struct rw_sig sig;

	/* the valid one, then its high-s twin (n - s, other recid): a
	 * valid ECDSA signature, refused as malleable */
	assert_int_equal(rw_key_recover(rec, v[0].hash, &v[0].sig), 0);
	sig = v[0].sig;
	sub32(sig.s, n, v[0].sig.s);
	sig.recid ^= 1;
	assert_int_equal(rw_key_recover(rec, v[0].hash, &sig), RW_EINVAL);

	sig = v[0].sig;
	memset(sig.r, 0, 32);
	assert_int_equal(rw_key_recover(rec, v[0].hash, &sig), RW_EINVAL);
	sig = v[0].sig;
	memset(sig.s, 0, 32);
	assert_int_equal(rw_key_recover(rec, v[0].hash, &sig), RW_EINVAL);
	sig = v[0].sig;
	memcpy(sig.r, n, 32);
	assert_int_equal(rw_key_recover(rec, v[0].hash, &sig), RW_EINVAL);
	sig = v[0].sig;
	memset(sig.r, 0xff, 32);
	assert_int_equal(rw_key_recover(rec, v[0].hash, &sig), RW_EINVAL);
	sig = v[0].sig;
	memcpy(sig.s, n, 32);
	assert_int_equal(rw_key_recover(rec, v[0].hash, &sig), RW_EINVAL);

	/* s = n/2 is the largest low s; n/2 + 1 is high */
	sig = v[0].sig;
	unhex_fixed(sig.s, 32, "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0");
	int r = rw_key_recover(rec, v[0].hash, &sig);
	assert_true(r == 0 || r == RW_ECRYPTO);
	add32_small(sig.s, sig.s, 1);
	assert_int_equal(rw_key_recover(rec, v[0].hash, &sig), RW_EINVAL);

	static const int recids[] = { -1, 2, 3, 27, 28 };
	for (size_t i = 0; i < sizeof(recids) / sizeof(recids[0]); i++) {
		sig = v[0].sig;
		sig.recid = recids[i];
		assert_int_equal(rw_key_recover(rec, v[0].hash, &sig), RW_EINVAL);
	}
	free(v);
}

/* Fresh keys are valid, distinct, and sign/recover round trip. */
static void generate_sign_recover(void **state)
{
	(void)state;
	uint8_t prev[32] = { 0 };
	for (int i = 0; i < 50; i++) {
		uint8_t sk[32], hash[32], addr[20], rec[20];
		struct rw_sig sig;
		assert_int_equal(rw_key_generate(sk), 0);
		assert_int_equal(rw_key_check(sk), 1);
		assert_memory_not_equal(sk, prev, 32);
		memcpy(prev, sk, 32);
		memset(hash, i, sizeof(hash));
		assert_int_equal(rw_key_address(addr, sk), 0);
		assert_int_equal(rw_key_sign(&sig, hash, sk), 0);
		assert_true(sig.recid == 0 || sig.recid == 1);
		assert_int_equal(rw_key_recover(rec, hash, &sig), 0);
		assert_memory_equal(rec, addr, 20);
		/* RFC 6979: the same inputs give the same signature */
		struct rw_sig again;
		assert_int_equal(rw_key_sign(&again, hash, sk), 0);
		assert_memory_equal(&again, &sig, sizeof(sig));
	}
}

/* Without the context, secret-key calls refuse and public ones work;
 * init is idempotent. */
static void context_lifecycle(void **state)
{
	(void)state;
	uint8_t sk[32] = { 0 }, hash[32] = { 0 }, addr[20], rec[20];
	struct rw_sig sig;
	sk[31] = 7;
	assert_int_equal(rw_key_sign(&sig, hash, sk), 0);

	rw_key_cleanup();
	rw_key_cleanup();
	assert_int_equal(rw_key_check(sk), 1);
	assert_int_equal(rw_key_address(addr, sk), RW_ECRYPTO);
	assert_int_equal(rw_key_sign(&sig, hash, sk), RW_ECRYPTO);
	assert_int_equal(rw_key_selftest(sk), RW_ECRYPTO);
	assert_int_equal(rw_key_recover(rec, hash, &sig), 0);

	assert_int_equal(rw_key_init(), 0);
	assert_int_equal(rw_key_init(), 0);
	assert_int_equal(rw_key_address(addr, sk), 0);
	assert_memory_equal(addr, rec, 20);
	assert_int_equal(rw_key_selftest(sk), 0);
}

/* The self-test passes for valid keys and refuses zero and n. */
static void selftest_keys(void **state)
{
	(void)state;
	uint8_t sk[32];
	for (int i = 0; i < 20; i++) {
		assert_int_equal(rw_key_generate(sk), 0);
		assert_int_equal(rw_key_selftest(sk), 0);
	}
	memset(sk, 0, sizeof(sk));
	assert_int_equal(rw_key_selftest(sk), RW_ECRYPTO);
	static const uint8_t n[32] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
				       0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b,
				       0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41 };
	assert_int_equal(rw_key_selftest(n), RW_ECRYPTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(eip55_examples),       cmocka_unit_test(addr_parse_case_rules),
		cmocka_unit_test(addr_parse_malformed), cmocka_unit_test(known_keys),
		cmocka_unit_test(pub_address),          cmocka_unit_test(invalid_keys),
		cmocka_unit_test(random_vectors),       cmocka_unit_test(tampered_signatures),
		cmocka_unit_test(malformed_signatures), cmocka_unit_test(generate_sign_recover),
		cmocka_unit_test(context_lifecycle),    cmocka_unit_test(selftest_keys),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
