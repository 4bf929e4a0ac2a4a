/* key.c: secp256k1 keys, Ethereum addresses, EIP-55, signing, recovery.
 *
 * The one piece of global state in codec/: a secp256k1 context created by
 * rw_key_init() and randomized (blinding against side channels) with 32
 * bytes from getrandom(). Calls that only use public data (key checks,
 * recovery) fall back to libsecp256k1's static context when rw_key_init()
 * has not run; calls that use a secret key refuse with RW_ECRYPTO.
 * rw_key_init() and rw_key_cleanup() are not thread-safe: call them once
 * from the main thread, before and after everything else. */
#include "key.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "buf.h"
#include "err.h"
#include "hex.h"
#include "keccak.h"

static secp256k1_context *ctx;

/* The group order n and n/2, big-endian. */
static const uint8_t order[32] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
	0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};
static const uint8_t half_order[32] = {
	0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4,
	0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
};

/* The context for operations on public data only. */
static const secp256k1_context *public_ctx(void)
{
	return ctx ? ctx : secp256k1_context_static;
}

/* Fills n bytes from the kernel's CSPRNG. Returns 0 or RW_ECRYPTO. */
static int random_bytes(uint8_t *out, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = getrandom(out + got, n - got, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return RW_ECRYPTO;
		got += (size_t)k;
	}
	return 0;
}

int rw_key_init(void)
{
	if (ctx)
		return 0;
	uint8_t seed[32];
	secp256k1_selftest();
	secp256k1_context *c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	if (!c)
		return RW_ECRYPTO;
	int r = random_bytes(seed, sizeof(seed));
	if (r == 0 && !secp256k1_context_randomize(c, seed))
		r = RW_ECRYPTO;
	rw_wipe(seed, sizeof(seed));
	if (r < 0) {
		secp256k1_context_destroy(c);
		return r;
	}
	ctx = c;
	return 0;
}

void rw_key_cleanup(void)
{
	if (!ctx)
		return;
	secp256k1_context_destroy(ctx);
	ctx = NULL;
}

/* Compares two 32-byte big-endian numbers: <0, 0 or >0. Not constant
 * time: only for public values (signature scalars). */
static int cmp32(const uint8_t a[32], const uint8_t b[32])
{
	return memcmp(a, b, 32);
}

static int is_zero32(const uint8_t a[32])
{
	uint8_t acc = 0;
	for (int i = 0; i < 32; i++)
		acc |= a[i];
	return acc == 0;
}

int rw_key_check(const uint8_t sk[32])
{
	return secp256k1_ec_seckey_verify(public_ctx(), sk) == 1;
}

int rw_key_generate(uint8_t ret_sk[32])
{
	uint8_t sk[32];
	/* A random 256-bit string is >= n with probability ~2^-128. */
	for (int tries = 0; tries < 16; tries++) {
		if (random_bytes(sk, sizeof(sk)) < 0)
			break;
		if (rw_key_check(sk)) {
			memcpy(ret_sk, sk, sizeof(sk));
			rw_wipe(sk, sizeof(sk));
			return 0;
		}
	}
	rw_wipe(sk, sizeof(sk));
	return RW_ECRYPTO;
}

/* Serialises pk as X || Y (64 bytes) and hashes it to an address. */
static void address_of(uint8_t ret_addr[20], const secp256k1_pubkey *pk)
{
	uint8_t ser[65];
	size_t len = sizeof(ser);
	(void)secp256k1_ec_pubkey_serialize(public_ctx(), ser, &len, pk, SECP256K1_EC_UNCOMPRESSED);
	rw_key_pub_address(ret_addr, ser + 1);
}

int rw_key_address(uint8_t ret_addr[20], const uint8_t sk[32])
{
	secp256k1_pubkey pk;
	if (!ctx || !secp256k1_ec_pubkey_create(ctx, &pk, sk))
		return RW_ECRYPTO;
	address_of(ret_addr, &pk);
	return 0;
}

void rw_key_pub_address(uint8_t ret_addr[20], const uint8_t pub[64])
{
	uint8_t h[32];
	rw_keccak256(h, pub, 64);
	memcpy(ret_addr, h + 12, 20);
}

/* Brings a signature to low s: when s > n/2, s := n - s and the recovery
 * id flips (the nonce point R is negated, so its y parity changes). */
static void normalise_low_s(uint8_t rs[64], int *recid)
{
	secp256k1_ecdsa_signature sig, low;
	if (!secp256k1_ecdsa_signature_parse_compact(public_ctx(), &sig, rs))
		return;
	if (secp256k1_ecdsa_signature_normalize(public_ctx(), &low, &sig)) {
		(void)secp256k1_ecdsa_signature_serialize_compact(public_ctx(), rs, &low);
		*recid ^= 1;
	}
}

int rw_key_sign(struct rw_sig *ret, const uint8_t hash[32], const uint8_t sk[32])
{
	secp256k1_ecdsa_recoverable_signature rsig;
	uint8_t rs[64];
	int recid;

	if (!ctx || !secp256k1_ecdsa_sign_recoverable(ctx, &rsig, hash, sk, NULL, NULL))
		return RW_ECRYPTO;
	(void)secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, rs, &recid, &rsig);
	normalise_low_s(rs, &recid);
	memcpy(ret->r, rs, 32);
	memcpy(ret->s, rs + 32, 32);
	ret->recid = recid;
	return 0;
}

int rw_key_selftest(const uint8_t sk[32])
{
	uint8_t hash[32], want[20], got[20];
	struct rw_sig sig;
	rw_keccak256(hash, "runway key self-test", 20);
	if (rw_key_address(want, sk) < 0 || rw_key_sign(&sig, hash, sk) < 0 ||
	    rw_key_sig_check(&sig) < 0 || rw_key_recover(got, hash, &sig) < 0 ||
	    memcmp(got, want, 20) != 0)
		return RW_ECRYPTO;
	return 0;
}

int rw_key_sig_check(const struct rw_sig *sig)
{
	if (sig->recid != 0 && sig->recid != 1)
		return RW_EINVAL;
	if (is_zero32(sig->r) || cmp32(sig->r, order) >= 0)
		return RW_EINVAL;
	if (is_zero32(sig->s) || cmp32(sig->s, half_order) > 0)
		return RW_EINVAL;
	return 0;
}

int rw_key_recover(uint8_t ret_addr[20], const uint8_t hash[32], const struct rw_sig *sig)
{
	secp256k1_ecdsa_recoverable_signature rsig;
	secp256k1_pubkey pk;
	uint8_t rs[64];

	if (rw_key_sig_check(sig) < 0)
		return RW_EINVAL;
	memcpy(rs, sig->r, 32);
	memcpy(rs + 32, sig->s, 32);
	if (!secp256k1_ecdsa_recoverable_signature_parse_compact(public_ctx(), &rsig, rs,
								 sig->recid))
		return RW_EINVAL;
	if (!secp256k1_ecdsa_recover(public_ctx(), &pk, &rsig, hash))
		return RW_ECRYPTO;
	address_of(ret_addr, &pk);
	return 0;
}

/* Writes the 40 EIP-55 digits of addr (no prefix, no NUL) into out. */
static void checksum_digits(char out[40], const uint8_t addr[20])
{
	char lower[43];
	uint8_t h[32];
	rw_hex_encode(lower, addr, 20, 0);
	rw_keccak256(h, lower, 40);
	for (int i = 0; i < 40; i++) {
		char c = lower[i];
		int nibble = i % 2 ? h[i / 2] & 0x0f : h[i / 2] >> 4;
		if (c >= 'a' && c <= 'f' && nibble >= 8)
			c = (char)(c - 'a' + 'A');
		out[i] = c;
	}
}

void rw_addr_checksum(char out[43], const uint8_t addr[20])
{
	out[0] = '0';
	out[1] = 'x';
	checksum_digits(out + 2, addr);
	out[42] = '\0';
}

int rw_addr_parse(uint8_t ret[20], const char *s, size_t n)
{
	uint8_t addr[20];
	int lower = 0, upper = 0;

	if (n != 42 || s[0] != '0' || s[1] != 'x')
		return RW_EINVAL;
	for (size_t i = 2; i < n; i++) {
		if (s[i] >= 'a' && s[i] <= 'f')
			lower = 1;
		else if (s[i] >= 'A' && s[i] <= 'F')
			upper = 1;
	}
	if (rw_hex_decode_fixed(addr, 20, s + 2, 40, RW_HEX_PREFIX_FORBIDDEN) < 0)
		return RW_EINVAL;
	if (lower && upper) {
		char want[40];
		checksum_digits(want, addr);
		if (memcmp(want, s + 2, 40) != 0)
			return RW_ECHECKSUM;
	}
	memcpy(ret, addr, 20);
	return 0;
}
