/* err.c: messages for the project's error codes. */
#include "err.h"

const char *rw_strerror(int err)
{
	switch (err) {
	case RW_OK: return "success";
	case RW_EINVAL: return "malformed input";
	case RW_ERANGE: return "value out of range";
	case RW_ENOMEM: return "out of memory";
	case RW_ETRUNC: return "input truncated";
	case RW_ENONCANON: return "non-canonical encoding";
	case RW_ETRAILING: return "trailing bytes after the encoded item";
	case RW_ETOOBIG: return "data exceeds its size limit";
	case RW_EDIVZERO: return "division by zero";
	case RW_ECRYPTO: return "cryptographic operation failed";
	case RW_EMAC: return "MAC mismatch (wrong passphrase or damaged keystore)";
	case RW_EIO: return "input/output error";
	case RW_EUNSUPPORTED: return "unsupported variant";
	case RW_EDIRTY: return "dirty high bits in an ABI word";
	case RW_ENOTFOUND: return "not found";
	case RW_ECHECKSUM: return "bad EIP-55 address checksum";
	case RW_EPERM: return "file is accessible by group or others";
	}
	return "unknown error";
}
