/* abi.h: the Solidity contract ABI: types, encoding, strict decoding,
 * function selectors, event topics and event logs.
 *
 * Types are trees built from canonical type strings ("uint256",
 * "(address,uint256[])[]"), from human-readable signatures
 * ("transfer(address to,uint256 amount) returns (bool)") or from JSON ABI
 * entries (jansson). Values are trees of struct rw_abi_value that follow a
 * type tree.
 *
 * Lifetimes. A decoded value tree points into two things it does not own:
 * the type it was decoded with (value->type) and, for bytes and string,
 * the caller's input (value->bytes.p). Both must outlive the tree. Free
 * a decoded tree with rw_abi_value_free(), which frees the lists only.
 *
 * Decoding is strict: every offset, length and count is checked against
 * the bytes that remain before it is used or allocated for; words with
 * dirty high bits are refused with RW_EDIRTY; the number of values one
 * decode may produce is bounded by the input size (so offsets that alias
 * one another cannot multiply the output). Bytes after the encoding are
 * ignored, as Solidity does. */
#ifndef RW_ABI_H
#define RW_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "u256.h"

struct json_t; /* jansson's json_t */

/* Deepest type tree accepted (a leaf has depth 1; "uint256[][]" has 3). */
#define RW_ABI_MAX_DEPTH 32
/* Largest static (head) size of a type, in bytes. */
#define RW_ABI_MAX_STATIC ((size_t)1 << 30)

enum rw_abi_kind {
	RW_ABI_UINT,        /* uintN: size = N (bits) */
	RW_ABI_INT,         /* intN: size = N (bits) */
	RW_ABI_ADDRESS,     /* address */
	RW_ABI_BOOL,        /* bool */
	RW_ABI_FIXED_BYTES, /* bytesN: size = N (bytes, 1..32) */
	RW_ABI_BYTES,       /* bytes */
	RW_ABI_STRING,      /* string */
	RW_ABI_ARRAY,       /* T[]: elem */
	RW_ABI_FIXED_ARRAY, /* T[k]: elem, len = k */
	RW_ABI_TUPLE        /* (T1,...,Tn): comps[0..len), names */
};

/* A type. Build one with rw_abi_type_parse() or rw_abi_type_from_json()
 * and treat it as read-only; the derived fields are filled by those
 * constructors (a hand-built type must fill them the same way). */
struct rw_abi_type {
	enum rw_abi_kind kind;
	unsigned size;              /* N of uintN / intN (bits) and of bytesN (bytes) */
	size_t len;                 /* k of T[k]; number of tuple components */
	struct rw_abi_type *elem;   /* arrays: the element type */
	struct rw_abi_type **comps; /* tuple: len component types */
	char **names;               /* tuple: len names ("" when unnamed), or NULL */
	/* derived */
	int dynamic;  /* 1 for bytes, string, T[], and anything holding one */
	size_t head;  /* bytes it takes in an enclosing head: 32 when dynamic */
	size_t nodes; /* nodes of the tree (a fixed array's element counted once) */
	unsigned depth;
};

/* Ready-made leaf types for the common call sites (never free them). */
extern const struct rw_abi_type rw_abi_type_uint256;
extern const struct rw_abi_type rw_abi_type_address;
extern const struct rw_abi_type rw_abi_type_bool;
extern const struct rw_abi_type rw_abi_type_bytes32;
extern const struct rw_abi_type rw_abi_type_bytes;
extern const struct rw_abi_type rw_abi_type_string;

/* Value flags. */
enum {
	RW_ABI_VALUE_HASH = 1, /* an indexed event parameter of a reference type:
	                        * hash holds the topic (keccak of the value), the
	                        * value itself is not available */
	RW_ABI_VALUE_OWNED = 2 /* bytes.p is malloc()ed and freed with the tree */
};

/* A value. The member in use follows the type's kind:
 *   uint, int:        u (int: 256-bit two's complement, sign-extended)
 *   address:          addr
 *   bool:             b (0 or 1)
 *   bytesN:           fixed[0..N) (the encoder reads no further)
 *   bytes, string:    bytes (no UTF-8 check is made on strings)
 *   arrays, tuples:   list (n items, in order)
 *   flag HASH:        hash, whatever the type */
struct rw_abi_value {
	const struct rw_abi_type *type; /* set by the decoders; see rw_abi_encode */
	unsigned flags;
	union {
		rw_u256 u;
		uint8_t addr[20];
		int b;
		uint8_t fixed[32];
		uint8_t hash[32];
		struct {
			const uint8_t *p;
			size_t len;
		} bytes;
		struct {
			struct rw_abi_value *items;
			size_t n;
		} list;
	};
};

/* A function: name, canonical signature, selector, input and output
 * tuples (parameter names in inputs->names / outputs->names). */
struct rw_abi_func {
	char *name;
	char *signature; /* "name(type,...)", tuples written "(...)" */
	uint8_t selector[4];
	struct rw_abi_type *inputs;  /* a tuple */
	struct rw_abi_type *outputs; /* a tuple, empty when nothing is returned */
};

/* An event: name, canonical signature, topic, parameters in declaration
 * order (a tuple) and which of them are indexed. */
struct rw_abi_event {
	char *name;
	char *signature;
	uint8_t topic[32];          /* keccak-256 of the signature */
	int anonymous;              /* 1: topics[0] is not the signature hash */
	struct rw_abi_type *inputs; /* a tuple; names in inputs->names */
	uint8_t *indexed;           /* inputs->len flags, 1 when indexed */
	size_t n_indexed;
};

/* ---- types ---- */

/* Parses a canonical type string: uintN, intN (N = 8..256 step 8; "uint"
 * and "int" mean 256), address, bool, bytesN (1..32), bytes, string,
 * tuples "(T1,...,Tn)" (n >= 0) and suffixes "[]" and "[k]" (k >= 1), no
 * spaces. Returns 0; RW_EINVAL for malformed text; RW_EUNSUPPORTED for
 * fixed/ufixed/function and for arrays whose element takes no space (T[0],
 * ()[]); RW_ETOOBIG when the tree is deeper than RW_ABI_MAX_DEPTH or its
 * static size passes RW_ABI_MAX_STATIC; RW_ENOMEM. *ret untouched on
 * failure.
 * Out: ret: the new type (rw_abi_type_free it). In: s, n: the text. */
int rw_abi_type_parse(struct rw_abi_type **ret, const char *s, size_t n);

/* Builds a type from one JSON ABI parameter object: {"type": "...",
 * "components": [...], "name": "..."}, where "tuple" in the type stands
 * for the components (e.g. "tuple[2][]"). Returns 0, RW_EINVAL (missing or
 * malformed members), or any error of rw_abi_type_parse. *ret untouched on
 * failure. */
int rw_abi_type_from_json(struct rw_abi_type **ret, const struct json_t *param);

/* Frees a type made by the constructors above. Accepts NULL. */
void rw_abi_type_free(struct rw_abi_type *t);

/* Appends the canonical text of t to out ("(uint256,bytes)[2][]"), no NUL.
 * Returns 0, RW_ETOOBIG or RW_ENOMEM; out unchanged on failure. */
int rw_abi_type_format(struct rw_buf *out, const struct rw_abi_type *t);

/* ---- encoding ---- */

/* Appends the ABI encoding of v, a value of type t, to out. The encoder
 * follows t: the type fields of v and of its items are not read. Returns
 * 0; RW_ERANGE when an integer does not fit its type (uintN above 2^N - 1,
 * intN not a sign extension of N bits); RW_EINVAL when a bool is not 0/1,
 * a list length differs from a fixed array's k or a tuple's arity, or a
 * value is flagged HASH; RW_ETOOBIG (depth, or out's ceiling); RW_ENOMEM.
 * out is unchanged on failure. */
int rw_abi_encode(struct rw_buf *out, const struct rw_abi_type *t, const struct rw_abi_value *v);

/* Appends a call: the 4-byte selector, then the encoding of the tuple
 * (args[0], ..., args[n-1]), each of the type args[i].type (which must be
 * set; the rw_abi_val_* helpers do). Same returns as rw_abi_encode. */
int rw_abi_encode_call(struct rw_buf *out, const uint8_t selector[4],
		       const struct rw_abi_value *args, size_t n);

/* Appends a call of f with n arguments (n must be f's input count, else
 * RW_EINVAL), encoded with f's input types. Same returns as rw_abi_encode. */
int rw_abi_func_encode(struct rw_buf *out, const struct rw_abi_func *f,
		       const struct rw_abi_value *args, size_t n);

/* Value helpers for encoder inputs: a value of the ready-made type, with
 * bytes and strings pointing at the caller's memory (not copied). */
struct rw_abi_value rw_abi_val_uint256(const rw_u256 *u);
struct rw_abi_value rw_abi_val_address(const uint8_t addr[20]);
struct rw_abi_value rw_abi_val_bool(int b);
struct rw_abi_value rw_abi_val_bytes32(const uint8_t b[32]);
struct rw_abi_value rw_abi_val_bytes(const uint8_t *p, size_t len);
struct rw_abi_value rw_abi_val_string(const char *s, size_t len);

/* ---- decoding ---- */

/* Decodes data as the encoding of one value of type t (for function
 * arguments and return data, t is the tuple of the parameters). Bytes
 * after the encoding are ignored. Returns 0; RW_ETRUNC when an offset,
 * length or count points past the end of the data (whatever its size,
 * 2^256 - 1 included) or a word is cut short; RW_EDIRTY for a word with
 * dirty bits (address with a nonzero top 12 bytes, bool not 0/1, uintN
 * above 2^N - 1, intN not sign-extended, bytesN or bytes/string padding
 * not zero); RW_ETOOBIG when t is deeper than RW_ABI_MAX_DEPTH or the
 * offsets alias so much that the output would outgrow the input;
 * RW_ENOMEM. *ret untouched on failure.
 * Out: ret: the value tree (rw_abi_value_free it); it points into data
 * and at t. In: data, len: the encoding. */
int rw_abi_decode(struct rw_abi_value **ret, const struct rw_abi_type *t, const uint8_t *data,
		  size_t len);

/* Decodes calldata of f: checks the selector, then decodes the inputs
 * tuple. Returns 0; RW_ETRUNC when shorter than 4 bytes; RW_ENOTFOUND when
 * the selector is not f's; else as rw_abi_decode. */
int rw_abi_func_decode_input(struct rw_abi_value **ret, const struct rw_abi_func *f,
			     const uint8_t *calldata, size_t len);

/* Decodes the return data of f (the outputs tuple). As rw_abi_decode. */
int rw_abi_func_decode_output(struct rw_abi_value **ret, const struct rw_abi_func *f,
			      const uint8_t *data, size_t len);

/* Decode return data holding one uint256 / address / bool (the first
 * word; bytes after it are ignored). Return 0; RW_ETRUNC when shorter than
 * 32 bytes; RW_EDIRTY for dirty bits. *ret untouched on failure. */
int rw_abi_decode_uint256(rw_u256 *ret, const uint8_t *data, size_t len);
int rw_abi_decode_address(uint8_t ret[20], const uint8_t *data, size_t len);
int rw_abi_decode_bool(int *ret, const uint8_t *data, size_t len);

/* Frees a value tree returned by a decoder: its lists, owned bytes, and
 * v itself. Accepts NULL. */
void rw_abi_value_free(struct rw_abi_value *v);

/* Returns 1 when a and b, both values of type t, are equal (same HASH
 * flag and hash, or same contents; bytesN compares the first N bytes),
 * else 0. */
int rw_abi_value_eq(const struct rw_abi_type *t, const struct rw_abi_value *a,
		    const struct rw_abi_value *b);

/* ---- functions, events, selectors ---- */

/* Writes the first 4 bytes of keccak-256(sig) into out. sig is taken as
 * is (it should be canonical: "transfer(address,uint256)"). */
void rw_abi_selector(uint8_t out[4], const char *sig, size_t n);

/* Writes keccak-256(sig), the topic of an event signature, into out. */
void rw_abi_topic(uint8_t out[32], const char *sig, size_t n);

/* Parses a function signature: name "(" params ")" [" returns (" params
 * ")"], a param being a type optionally followed by a space and a name
 * ("transfer(address to,uint256 amount) returns (bool)"). "uint" is taken
 * as uint256. Returns 0; RW_EINVAL for malformed text; else as
 * rw_abi_type_parse. *ret untouched on failure.
 * Out: ret: the function (rw_abi_func_free it). */
int rw_abi_func_parse(struct rw_abi_func **ret, const char *s, size_t n);

/* Builds a function from a JSON ABI entry ({"type": "function", "name",
 * "inputs", "outputs"}; "type" may be absent). A custom error entry
 * ("type": "error") is taken the same way: its selector starts the revert
 * data. Returns 0; RW_EINVAL when it is neither or is malformed; else as
 * rw_abi_type_from_json. *ret untouched on failure. */
int rw_abi_func_from_json(struct rw_abi_func **ret, const struct json_t *entry);

/* Frees a function. Accepts NULL. */
void rw_abi_func_free(struct rw_abi_func *f);

/* Parses an event signature: name "(" params ")" [" anonymous"], a param
 * being a type, then optionally " indexed", then optionally a space and a
 * name ("Transfer(address indexed from,address indexed to,uint256)").
 * Returns 0; RW_EINVAL for malformed text or more than 3 indexed
 * parameters (4 when anonymous); else as rw_abi_type_parse. *ret untouched
 * on failure. Out: ret: the event (rw_abi_event_free it). */
int rw_abi_event_parse(struct rw_abi_event **ret, const char *s, size_t n);

/* Builds an event from a JSON ABI entry ({"type": "event", "name",
 * "inputs": [{"type", "name", "indexed", "components"}], "anonymous"}).
 * Returns as rw_abi_func_from_json, RW_EINVAL also for too many indexed
 * parameters. *ret untouched on failure. */
int rw_abi_event_from_json(struct rw_abi_event **ret, const struct json_t *entry);

/* Frees an event. Accepts NULL. */
void rw_abi_event_free(struct rw_abi_event *e);

/* Decodes a log of event e. topics[0] must be e's topic unless e is
 * anonymous; the other topics are the indexed parameters in order: value
 * types (uintN, intN, address, bool, bytesN) are decoded from their topic
 * with the dirty-bit checks, every other type (bytes, string, arrays,
 * tuples) is returned as its 32-byte keccak hash with RW_ABI_VALUE_HASH
 * set. The parameters that are not indexed are decoded from data as a
 * tuple. The result is a tuple value of type e->inputs with the items in
 * declaration order. Returns 0; RW_ENOTFOUND when topics[0] is not e's
 * topic; RW_EINVAL when the number of topics is not the number e
 * announces; else as rw_abi_decode. *ret untouched on failure.
 * In: topics: ntopics 32-byte topics; data, len: the log data. */
int rw_abi_event_decode(struct rw_abi_value **ret, const struct rw_abi_event *e,
			const uint8_t (*topics)[32], size_t ntopics, const uint8_t *data,
			size_t len);

#endif
