/* keystore.h: Web3 Secret Storage (keystore v3) files.
 *
 * A keystore holds one secp256k1 secret key encrypted with AES-128-CTR
 * under a key derived from a passphrase by scrypt or PBKDF2-HMAC-SHA256,
 * and authenticated by mac = keccak256(dk[16..32] || ciphertext).
 *
 * Reading is strict and bounded: a hostile file can make us neither
 * allocate nor compute more than the RW_KEYSTORE_*_MAX limits below, and
 * every refusal says which JSON field was wrong (struct rw_keystore_diag).
 * The passphrase is used as the bytes given (UTF-8 by convention; ethers
 * applies NFKC first, so pass NFKC-normalised text for non-ASCII
 * passphrases written by ethers).
 *
 * rw_key_init() must have run: decrypting compares the key's address,
 * encrypting writes it.
 *
 * The last two functions (rw_keystore_read_file, rw_keystore_write_file)
 * are the only file I/O in codec/: keystore files are this module's
 * subject, and their permissions are part of the format's safety. */
#ifndef RW_KEYSTORE_H
#define RW_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

/* Key derivation functions. */
enum rw_keystore_kdf {
	RW_KEYSTORE_SCRYPT = 1,
	RW_KEYSTORE_PBKDF2 = 2 /* with prf hmac-sha256 */
};

/* KDF parameters for writing a keystore. Only the fields of the chosen
 * kdf are used. dklen is always 32 and the salt always 32 random bytes. */
struct rw_keystore_params {
	enum rw_keystore_kdf kdf;
	uint32_t n; /* scrypt CPU/memory cost: a power of two >= 2 */
	uint32_t r; /* scrypt block size, >= 1 */
	uint32_t p; /* scrypt parallelism, >= 1 */
	uint32_t c; /* pbkdf2 iteration count, >= 1 */
};

/* Defaults (geth's "standard" scrypt: 256 MiB, about a second). */
#define RW_KEYSTORE_SCRYPT_N 262144
#define RW_KEYSTORE_SCRYPT_R 8
#define RW_KEYSTORE_SCRYPT_P 1
#define RW_KEYSTORE_PBKDF2_C 262144

/* Limits enforced on files read and on parameters written, so that we
 * never write a file we would refuse to read:
 * - the JSON text is at most RW_KEYSTORE_MAX_JSON bytes;
 * - scrypt: memory 128 * r * (n + p) bytes <= RW_KEYSTORE_SCRYPT_MAX_MEM
 *   (2 GiB: allows n = 2^20 with r = 8), and work n * r * p <=
 *   RW_KEYSTORE_SCRYPT_MAX_WORK (2^24, 8 times the default: about 8 s);
 * - pbkdf2: 1 <= c <= RW_KEYSTORE_PBKDF2_MAX_C;
 * - salt: 1 to RW_KEYSTORE_MAX_SALT bytes; dklen exactly 32. */
#define RW_KEYSTORE_MAX_JSON        ((size_t)64 << 10)
#define RW_KEYSTORE_SCRYPT_MAX_MEM  ((uint64_t)1 << 31)
#define RW_KEYSTORE_SCRYPT_MAX_WORK ((uint64_t)1 << 24)
#define RW_KEYSTORE_PBKDF2_MAX_C    10000000u
#define RW_KEYSTORE_MAX_SALT        1024

/* Why a keystore was refused, for messages. Both strings are static and
 * never contain key material or passphrase bytes. field is the JSON path
 * of the offending member ("crypto.kdfparams.n", "address", ...; "crypto"
 * also stands for the capitalised "Crypto"), or NULL when the problem is
 * the document as a whole (not JSON, too large). reason is a short
 * lowercase phrase ("missing", "must be a power of two >= 2"). */
struct rw_keystore_diag {
	const char *field;
	const char *reason;
};

/* Fills p with the default scrypt parameters. */
void rw_keystore_params_default(struct rw_keystore_params *p);

/* Checks parameters against the limits above. Returns 0; RW_EINVAL (a
 * value that makes no sense: zero, n not a power of two, unknown kdf);
 * RW_ETOOBIG (over a memory or work ceiling).
 * Args: diag: filled on failure when not NULL; field names as in a file. */
int rw_keystore_check_params(const struct rw_keystore_params *p, struct rw_keystore_diag *diag);

/* Encrypts sk into a new keystore v3 JSON document: random 32-byte salt,
 * random 16-byte iv, random UUID v4 id, the address in lowercase hex
 * without 0x, version 3. Takes as long as the KDF (about a second with
 * the defaults).
 * Returns 0; RW_EINVAL or RW_ETOOBIG (bad params, see
 * rw_keystore_check_params); RW_ECRYPTO (sk is not a valid key, no
 * randomness, or rw_key_init() has not run); RW_ENOMEM.
 * Out: *ret_json: NUL-terminated compact JSON, free() it; *ret_len: its
 *      length without the NUL (may be NULL).
 * In:  sk: the secret key; pass, passlen: the passphrase (pass may be NULL
 *      when passlen is 0); p: KDF parameters, or NULL for the defaults. */
int rw_keystore_encrypt(char **ret_json, size_t *ret_len, const uint8_t sk[32], const char *pass,
			size_t passlen, const struct rw_keystore_params *p);

/* Decrypts a keystore v3 document. Every field is checked before the KDF
 * runs, the MAC is compared in constant time before decrypting, and when
 * the file has an "address" it must be the decrypted key's address.
 * Returns 0, or, with diag naming the field:
 *   RW_ETOOBIG      the document or a KDF parameter is over its limit;
 *   RW_EINVAL       not JSON, a field of the wrong type or malformed, or
 *                   the address does not match the decrypted key;
 *   RW_ENOTFOUND    a required field is missing;
 *   RW_EUNSUPPORTED version is not 3, cipher not aes-128-ctr, kdf not
 *                   scrypt/pbkdf2, prf not hmac-sha256, dklen not 32;
 *   RW_ECHECKSUM    the address is mixed-case with a wrong EIP-55 checksum;
 *   RW_EMAC         wrong passphrase (or a damaged ciphertext or mac);
 *   RW_ECRYPTO      the plaintext is not a valid secret key, or a crypto
 *                   primitive failed;
 *   RW_ENOMEM.
 * Out: ret_sk: the secret key (untouched on failure; wipe it after use).
 * In:  json, len: the document (need not be NUL-terminated); pass, passlen:
 *      the passphrase; diag: filled on failure when not NULL. */
int rw_keystore_decrypt(uint8_t ret_sk[32], const char *json, size_t len, const char *pass,
			size_t passlen, struct rw_keystore_diag *diag);

/* Reads the "address" field of a keystore without decrypting it (for
 * listing keys). The whole document is validated as rw_keystore_decrypt
 * does before the KDF. The address is only as trustworthy as the file:
 * rw_keystore_decrypt is what proves it.
 * Returns 0; RW_ENOTFOUND (field "address") when the file has none; the
 * other codes of rw_keystore_decrypt's checks. */
int rw_keystore_address(uint8_t ret_addr[20], const char *json, size_t len,
			struct rw_keystore_diag *diag);

/* scrypt (RFC 7914) with HMAC-SHA256, as keystores use it. Unlike
 * OpenSSL's EVP_PBE_scrypt it accepts n >= 2^(16 r), which the published
 * keystore vector (n = 2^18, r = 1) needs. Secrets are wiped.
 * Returns 0; RW_EINVAL (n not a power of two >= 2, r or p zero, outlen
 * zero or over 2^20, passlen or saltlen over INT_MAX); RW_ETOOBIG (over
 * the memory or work ceiling); RW_ENOMEM; RW_ECRYPTO.
 * Out: out: outlen bytes.
 * In:  pass, passlen: the passphrase (pass may be NULL when passlen is 0);
 *      salt, saltlen: the salt; n, r, p: the cost parameters. */
int rw_keystore_scrypt(uint8_t *out, size_t outlen, const void *pass, size_t passlen,
		       const uint8_t *salt, size_t saltlen, uint32_t n, uint32_t r, uint32_t p);

/* Reads a keystore file for decryption. Refuses a file that group or
 * others may access, as ssh does for private keys.
 * Returns 0; RW_EPERM (mode & 077 is nonzero); RW_EINVAL (not a regular
 * file); RW_ETOOBIG (larger than RW_KEYSTORE_MAX_JSON); RW_EIO (open,
 * fstat or read failed: errno says why); RW_ENOMEM.
 * Out: *ret_json: the contents, NUL-terminated, free() it; *ret_len: the
 *      length without the NUL.
 * In:  path: the file. */
int rw_keystore_read_file(char **ret_json, size_t *ret_len, const char *path);

/* Writes a new keystore file with mode 0600. Never replaces an existing
 * file (O_CREAT | O_EXCL) nor follows a symlink at path; the data is
 * fsync'ed before returning. On failure no partial file is left.
 * Returns 0 or RW_EIO (errno says why: EEXIST when path exists).
 * In: path: the new file; json, len: the contents. */
int rw_keystore_write_file(const char *path, const char *json, size_t len);

#endif
