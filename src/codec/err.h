/* err.h: the project's error codes.
 *
 * Every function that can fail returns 0 (or a non-negative count) on
 * success and one of these negative codes on failure. */
#ifndef RW_ERR_H
#define RW_ERR_H

enum rw_err {
	RW_OK = 0,
	RW_EINVAL = -1,        /* malformed input: bad character, bad field */
	RW_ERANGE = -2,        /* a value does not fit: overflow, too many decimals */
	RW_ENOMEM = -3,        /* allocation failed */
	RW_ETRUNC = -4,        /* input ends before the item it announces */
	RW_ENONCANON = -5,     /* valid but non-canonical encoding */
	RW_ETRAILING = -6,     /* bytes left over after the item */
	RW_ETOOBIG = -7,       /* a buffer would pass its ceiling */
	RW_EDIVZERO = -8,      /* division or modulo by zero */
	RW_ECRYPTO = -9,       /* a cryptographic primitive failed or refused a key */
	RW_EMAC = -10,         /* keystore MAC mismatch: wrong passphrase or damaged file */
	RW_EIO = -11,          /* a read or write failed (errno says more) */
	RW_EUNSUPPORTED = -12, /* a valid but unsupported variant */
	RW_EDIRTY = -13,       /* ABI word with dirty high bits */
	RW_ENOTFOUND = -14,    /* a looked-up item does not exist */
	RW_ECHECKSUM = -15,    /* an EIP-55 mixed-case address with a wrong checksum */
	RW_EPERM = -16         /* a secret file is accessible by group or others */
};

/* Returns a short, static, human-readable message for an rw_err code.
 * Never returns NULL; unknown codes give "unknown error". */
const char *rw_strerror(int err);

#endif
