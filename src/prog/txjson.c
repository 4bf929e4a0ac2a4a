/* txjson.c: transactions to and from JSON-RPC-style objects. */
#include "txjson.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hex.h"
#include "key.h"

/* The data of a JSON payload is bounded by the reader; this bounds one field. */
#define DATA_MAX ((size_t)8 << 20)

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Reads a quantity: a 0x-hex or decimal string, or a JSON integer >= 0. */
static int get_u256(rw_u256 *ret, const json_t *obj, const char *field, char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, field);
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		if (i < 0)
			return fail(err, errlen, "field '%s': must not be negative", field);
		*ret = rw_u256_from_u64((uint64_t)i);
		return 0;
	}
	if (!json_is_string(v))
		return fail(err, errlen,
			    "field '%s': expected a quantity (0x-hex or decimal string)", field);
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	int r = rw_u256_parse(ret, s, n);
	if (r == RW_ERANGE)
		return fail(err, errlen, "field '%s': '%s' does not fit in 256 bits", field, s);
	if (r < 0)
		return fail(err, errlen,
			    "field '%s': '%.80s' is not a quantity (0x-hex or decimal digits)",
			    field, s);
	return 0;
}

static int get_u64(uint64_t *ret, const json_t *obj, const char *field, char *err, size_t errlen)
{
	rw_u256 v;
	if (get_u256(&v, obj, field, err, errlen) < 0)
		return -1;
	if (rw_u256_to_u64(ret, &v) < 0)
		return fail(err, errlen, "field '%s': must be below 2^64", field);
	return 0;
}

/* Parses a 20-byte address string (EIP-55 checked when mixed case). */
static int get_address(uint8_t ret[20], const json_t *v, const char *field, char *err,
		       size_t errlen)
{
	if (!json_is_string(v))
		return fail(err, errlen, "field '%s': expected a 0x-hex address string", field);
	int r = rw_addr_parse(ret, json_string_value(v), json_string_length(v));
	if (r == RW_ECHECKSUM)
		return fail(err, errlen, "field '%s': '%s' has a wrong EIP-55 checksum", field,
			    json_string_value(v));
	if (r < 0)
		return fail(err, errlen, "field '%s': '%.80s' is not a 0x-prefixed 20-byte address",
			    field, json_string_value(v));
	return 0;
}

static int get_data(struct rw_tx *tx, const json_t *obj, char *err, size_t errlen)
{
	const json_t *d = json_object_get(obj, "data");
	const json_t *in = json_object_get(obj, "input");
	if (d && in && !json_equal(d, in))
		return fail(err, errlen, "fields 'data' and 'input' differ; give one of them");
	const json_t *v = d ? d : in;
	const char *field = d ? "data" : "input";
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return fail(err, errlen, "field '%s': expected a 0x-hex string", field);
	struct rw_buf b;
	rw_buf_init(&b, DATA_MAX);
	int r = rw_hex_decode_buf(&b, json_string_value(v), json_string_length(v),
				  RW_HEX_PREFIX_REQUIRED);
	if (r < 0) {
		rw_buf_free(&b);
		if (r == RW_ETOOBIG)
			return fail(err, errlen, "field '%s': larger than %zu bytes", field,
				    DATA_MAX);
		return fail(err, errlen,
			    "field '%s': not 0x-prefixed hex with an even number of digits", field);
	}
	tx->data = b.p;
	tx->data_len = b.len;
	return 0;
}

static int get_access_list(struct rw_tx *tx, const json_t *obj, char *err, size_t errlen)
{
	const json_t *al = json_object_get(obj, "accessList");
	if (!al || json_is_null(al))
		return 0;
	if (!json_is_array(al))
		return fail(err, errlen, "field 'accessList': expected an array");
	size_t n = json_array_size(al);
	if (n == 0)
		return 0;
	tx->access_list = calloc(n, sizeof(*tx->access_list));
	if (!tx->access_list)
		return fail(err, errlen, "out of memory");
	tx->access_list_len = n;
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(al, i);
		char field[64];
		snprintf(field, sizeof(field), "accessList[%zu].address", i);
		if (!json_is_object(e))
			return fail(err, errlen, "field 'accessList[%zu]': expected an object", i);
		const char *key;
		const json_t *val;
		json_object_foreach((json_t *)e, key, val)
		{
			(void)val;
			if (strcmp(key, "address") != 0 && strcmp(key, "storageKeys") != 0)
				return fail(err, errlen,
					    "field 'accessList[%zu].%s': unknown field", i, key);
		}
		struct rw_access_tuple *t = &tx->access_list[i];
		if (get_address(t->address, json_object_get(e, "address"), field, err, errlen) < 0)
			return -1;
		const json_t *keys = json_object_get(e, "storageKeys"); /* absent: none */
		if (keys && !json_is_array(keys))
			return fail(err, errlen,
				    "field 'accessList[%zu].storageKeys': expected an array", i);
		size_t nk = json_array_size(keys);
		if (nk) {
			t->storage_keys = calloc(nk, sizeof(*t->storage_keys));
			if (!t->storage_keys)
				return fail(err, errlen, "out of memory");
			t->storage_keys_len = nk;
		}
		for (size_t k = 0; k < nk; k++) {
			const json_t *sk = json_array_get(keys, k);
			if (!json_is_string(sk) ||
			    rw_hex_decode_fixed(t->storage_keys[k], 32, json_string_value(sk),
						json_string_length(sk), RW_HEX_PREFIX_REQUIRED) < 0)
				return fail(err, errlen,
					    "field 'accessList[%zu].storageKeys[%zu]': expected 0x "
					    "+ 64 "
					    "hex digits",
					    i, k);
		}
	}
	return 0;
}

static const char *const known_fields[] = {
	"type", "chainId", "nonce", "gas",   "gasPrice",   "maxFeePerGas", "maxPriorityFeePerGas",
	"to",   "value",   "data",  "input", "accessList", "from",
};

/* Refuses fields we do not know, naming the first one. */
static int check_fields(const json_t *obj, char *err, size_t errlen)
{
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)obj, key, v)
	{
		(void)v;
		size_t i;
		for (i = 0; i < sizeof(known_fields) / sizeof(known_fields[0]); i++)
			if (strcmp(key, known_fields[i]) == 0)
				break;
		if (i < sizeof(known_fields) / sizeof(known_fields[0]))
			continue;
		if (strcmp(key, "gasLimit") == 0)
			return fail(err, errlen, "field 'gasLimit': the JSON-RPC name is 'gas'");
		return fail(err, errlen,
			    "field '%s': unknown field (expected JSON-RPC transaction "
			    "fields: type, chainId, nonce, gas, gasPrice, maxFeePerGas, "
			    "maxPriorityFeePerGas, to, value, data or input, accessList)",
			    key);
	}
	return 0;
}

/* Decides the type from "type" or the fee fields; checks they agree. */
static int get_type(int *ret, const json_t *obj, char *err, size_t errlen)
{
	int has_price = json_object_get(obj, "gasPrice") != NULL;
	int has_max = json_object_get(obj, "maxFeePerGas") != NULL;
	int has_tip = json_object_get(obj, "maxPriorityFeePerGas") != NULL;
	int has_al = json_object_get(obj, "accessList") != NULL;
	int type;
	if (json_object_get(obj, "type")) {
		uint64_t t;
		if (get_u64(&t, obj, "type", err, errlen) < 0)
			return -1;
		if (t != 0 && t != 1 && t != 2)
			return fail(
				err, errlen,
				"field 'type': %llu is not supported (0 legacy, 1 access list, 2 "
				"EIP-1559)",
				(unsigned long long)t);
		type = (int)t;
	} else {
		type = has_max || has_tip ? 2 : has_al ? 1 : 0;
	}
	if (type == 2) {
		if (has_price)
			return fail(err, errlen,
				    "field 'gasPrice': not used by a type 2 transaction; "
				    "give maxFeePerGas and maxPriorityFeePerGas");
		if (!has_max)
			return fail(err, errlen, "field 'maxFeePerGas': missing (type 2)");
		if (!has_tip)
			return fail(err, errlen, "field 'maxPriorityFeePerGas': missing (type 2)");
	} else {
		if (has_max || has_tip)
			return fail(err, errlen,
				    "field '%s': only type 2 transactions have it (this one is "
				    "type %d)",
				    has_max ? "maxFeePerGas" : "maxPriorityFeePerGas", type);
		if (!has_price)
			return fail(err, errlen, "field 'gasPrice': missing (type %d)", type);
		if (type == 0 && has_al)
			return fail(err, errlen,
				    "field 'accessList': legacy transactions have none");
	}
	*ret = type;
	return 0;
}

static int parse_into(struct rw_tx *tx, uint8_t from[20], int *has_from, const json_t *obj,
		      char *err, size_t errlen)
{
	if (!json_is_object(obj))
		return fail(err, errlen, "expected a JSON object");
	if (check_fields(obj, err, errlen) < 0 || get_type(&tx->type, obj, err, errlen) < 0)
		return -1;
	static const char *const required[] = { "chainId", "nonce", "gas" };
	for (size_t i = 0; i < 3; i++)
		if (!json_object_get(obj, required[i]))
			return fail(err, errlen, "field '%s': missing", required[i]);
	if (get_u64(&tx->chain_id, obj, "chainId", err, errlen) < 0 ||
	    get_u64(&tx->nonce, obj, "nonce", err, errlen) < 0 ||
	    get_u64(&tx->gas, obj, "gas", err, errlen) < 0)
		return -1;
	if (tx->chain_id == 0)
		return fail(err, errlen,
			    "field 'chainId': must be at least 1 (runway signs only "
			    "replay-protected transactions)");
	if (tx->nonce == UINT64_MAX)
		return fail(err, errlen, "field 'nonce': 2^64-1 is not a usable nonce (EIP-2681)");
	if (tx->type == 2) {
		if (get_u256(&tx->max_fee_per_gas, obj, "maxFeePerGas", err, errlen) < 0 ||
		    get_u256(&tx->max_priority_fee_per_gas, obj, "maxPriorityFeePerGas", err,
			     errlen) < 0)
			return -1;
		if (rw_u256_cmp(&tx->max_priority_fee_per_gas, &tx->max_fee_per_gas) > 0)
			return fail(err, errlen,
				    "field 'maxPriorityFeePerGas': larger than maxFeePerGas");
	} else if (get_u256(&tx->gas_price, obj, "gasPrice", err, errlen) < 0) {
		return -1;
	}
	const json_t *to = json_object_get(obj, "to");
	if (to && !json_is_null(to)) {
		if (get_address(tx->to, to, "to", err, errlen) < 0)
			return -1;
		tx->has_to = 1;
	}
	if (json_object_get(obj, "value") && get_u256(&tx->value, obj, "value", err, errlen) < 0)
		return -1;
	const json_t *f = json_object_get(obj, "from");
	*has_from = 0;
	if (f && !json_is_null(f)) {
		if (get_address(from, f, "from", err, errlen) < 0)
			return -1;
		*has_from = 1;
	}
	if (get_data(tx, obj, err, errlen) < 0)
		return -1;
	return get_access_list(tx, obj, err, errlen);
}

int rw_txjson_parse(struct rw_tx *ret, uint8_t ret_from[20], int *ret_has_from, const json_t *obj,
		    char *err, size_t errlen)
{
	struct rw_tx tx;
	memset(&tx, 0, sizeof(tx));
	uint8_t from[20] = { 0 };
	int has_from = 0;
	if (parse_into(&tx, from, &has_from, obj, err, errlen) < 0) {
		rw_tx_free(&tx);
		return -1;
	}
	*ret = tx;
	memcpy(ret_from, from, 20);
	*ret_has_from = has_from;
	return 0;
}

/* Adds "field": QUANTITY. Returns 0 or -1. */
static int set_qty(json_t *o, const char *field, const rw_u256 *v)
{
	char s[RW_U256_HEX_MAX];
	rw_u256_format_hex(s, v);
	return json_object_set_new(o, field, json_string(s));
}

static int set_qty64(json_t *o, const char *field, uint64_t v)
{
	rw_u256 u = rw_u256_from_u64(v);
	return set_qty(o, field, &u);
}

static int set_addr(json_t *o, const char *field, const uint8_t a[20])
{
	char s[43];
	rw_addr_checksum(s, a);
	return json_object_set_new(o, field, json_string(s));
}

static int set_bytes(json_t *o, const char *field, const uint8_t *p, size_t n)
{
	char *s = rw_hex_encode_alloc(p, n);
	if (!s)
		return -1;
	int r = json_object_set_new(o, field, json_string(s));
	free(s);
	return r;
}

static json_t *access_list_json(const struct rw_tx *tx)
{
	json_t *al = json_array();
	for (size_t i = 0; al && i < tx->access_list_len; i++) {
		const struct rw_access_tuple *t = &tx->access_list[i];
		json_t *e = json_object();
		json_t *keys = json_array();
		int bad = !e || !keys || set_addr(e, "address", t->address) < 0;
		for (size_t k = 0; !bad && k < t->storage_keys_len; k++) {
			char *s = rw_hex_encode_alloc(t->storage_keys[k], 32);
			bad = !s || json_array_append_new(keys, json_string(s)) < 0;
			free(s);
		}
		if (bad || json_object_set_new(e, "storageKeys", keys) < 0 ||
		    json_array_append_new(al, e) < 0) {
			json_decref(al);
			return NULL;
		}
	}
	return al;
}

json_t *rw_txjson_build(const struct rw_tx *tx, const uint8_t hash[32], const uint8_t from[20])
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	rw_u256 v, r, s;
	int bad = set_qty64(o, "type", (uint64_t)tx->type) < 0 ||
		  set_qty64(o, "chainId", tx->chain_id) < 0 ||
		  set_qty64(o, "nonce", tx->nonce) < 0 || set_qty64(o, "gas", tx->gas) < 0;
	if (tx->type == RW_TX_DYNAMIC_FEE)
		bad = bad ||
		      set_qty(o, "maxPriorityFeePerGas", &tx->max_priority_fee_per_gas) < 0 ||
		      set_qty(o, "maxFeePerGas", &tx->max_fee_per_gas) < 0;
	else
		bad = bad || set_qty(o, "gasPrice", &tx->gas_price) < 0;
	bad = bad || (tx->has_to ? set_addr(o, "to", tx->to)
				 : json_object_set_new(o, "to", json_null())) < 0;
	bad = bad || set_qty(o, "value", &tx->value) < 0 ||
	      set_bytes(o, "input", tx->data, tx->data_len) < 0;
	if (tx->type != RW_TX_LEGACY)
		bad = bad || json_object_set_new(o, "accessList", access_list_json(tx)) < 0;
	if (!bad && tx->is_signed) {
		bad = rw_tx_v(&v, tx) < 0 || rw_u256_from_be(&r, tx->sig.r, 32) < 0 ||
		      rw_u256_from_be(&s, tx->sig.s, 32) < 0 || set_qty(o, "v", &v) < 0 ||
		      set_qty(o, "r", &r) < 0 || set_qty(o, "s", &s) < 0;
		if (tx->type != RW_TX_LEGACY)
			bad = bad || set_qty64(o, "yParity", (uint64_t)tx->sig.recid) < 0;
	}
	if (!bad && hash)
		bad = set_bytes(o, "hash", hash, 32) < 0;
	if (!bad && from)
		bad = set_addr(o, "from", from) < 0;
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
