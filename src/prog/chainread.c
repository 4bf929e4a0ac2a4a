/* chainread.c: typed contract reads for the CLI. */
#include "chainread.h"

#include <stdio.h>
#include <string.h>

#include "abi.h"
#include "buf.h"
#include "err.h"
#include "key.h"

/* Most argument words of a read. */
#define WORDS_MAX 2

/* Builds calldata: selector of sig, then n argument words (32 bytes each,
 * back to back in words). */
static void calldata(uint8_t out[4 + 32 * WORDS_MAX], const char *sig, const uint8_t *words,
		     size_t n)
{
	rw_abi_selector(out, sig, strlen(sig));
	for (size_t i = 0; i < n; i++)
		memcpy(out + 4 + 32 * i, words + 32 * i, 32);
}

/* eth_call of sig with n argument words at block; the return data in
 * out. */
static int call(struct rw_rpcsync *s, const uint8_t to[20], const char *sig, const uint8_t *words,
		size_t n, const char *block, struct rw_buf *out, struct rw_rpcsync_err *err)
{
	uint8_t cd[4 + 32 * WORDS_MAX];
	calldata(cd, sig, words, n);
	rw_buf_init(out, 1 << 20);
	if (rw_rpcsync_eth_call_at(s, to, cd, 4 + 32 * n, block, out, err) < 0) {
		size_t k = strlen(err->msg);
		snprintf(err->msg + k, sizeof(err->msg) - k, " [%s]", sig);
		rw_buf_free(out);
		return -1;
	}
	if (out->len == 0) {
		snprintf(err->msg, sizeof(err->msg),
			 "%s returned no data: is there a contract of the expected kind at that "
			 "address, on this chain?",
			 sig);
		err->cls = RW_RPC_OTHER;
		rw_buf_free(out);
		return -1;
	}
	return 0;
}

/* Calls sig and decodes its one-word result with decode into ret. */
static int read_word(struct rw_rpcsync *s, const uint8_t to[20], const char *sig,
		     const uint8_t *words, size_t n, const char *block,
		     int (*decode)(void *ret, const uint8_t *data, size_t len), void *ret,
		     struct rw_rpcsync_err *err)
{
	struct rw_buf out;
	if (call(s, to, sig, words, n, block, &out, err) < 0)
		return -1;
	int r = decode(ret, out.p, out.len);
	rw_buf_free(&out);
	if (r < 0) {
		snprintf(err->msg, sizeof(err->msg), "%s returned malformed data (%s)", sig,
			 rw_strerror(r));
		err->cls = RW_RPC_BAD_RESPONSE;
		return -1;
	}
	return 0;
}

/* An address as an ABI word. */
static void word_addr(uint8_t w[32], const uint8_t addr[20])
{
	memset(w, 0, 12);
	memcpy(w + 12, addr, 20);
}

static int decode_u256(void *ret, const uint8_t *data, size_t len)
{
	return rw_abi_decode_uint256(ret, data, len);
}

static int decode_address(void *ret, const uint8_t *data, size_t len)
{
	return rw_abi_decode_address(ret, data, len);
}

int rw_chainread_u256_at(struct rw_rpcsync *s, const uint8_t to[20], const char *sig,
			 const rw_u256 *arg_u256, const uint8_t *arg_addr, const char *block,
			 rw_u256 *ret, struct rw_rpcsync_err *err)
{
	uint8_t w[32] = { 0 };
	size_t n = 0;
	if (arg_u256) {
		rw_u256_to_be(w, arg_u256);
		n = 1;
	} else if (arg_addr) {
		word_addr(w, arg_addr);
		n = 1;
	}
	return read_word(s, to, sig, w, n, block, decode_u256, ret, err);
}

int rw_chainread_u256(struct rw_rpcsync *s, const uint8_t to[20], const char *sig,
		      const rw_u256 *arg_u256, const uint8_t *arg_addr, rw_u256 *ret,
		      struct rw_rpcsync_err *err)
{
	return rw_chainread_u256_at(s, to, sig, arg_u256, arg_addr, "latest", ret, err);
}

int rw_chainread_address(struct rw_rpcsync *s, const uint8_t to[20], const char *sig,
			 uint8_t ret[20], struct rw_rpcsync_err *err)
{
	return read_word(s, to, sig, NULL, 0, "latest", decode_address, ret, err);
}

int rw_chainread_allowance(struct rw_rpcsync *s, const uint8_t token[20], const uint8_t owner[20],
			   const uint8_t spender[20], rw_u256 *ret, struct rw_rpcsync_err *err)
{
	uint8_t w[64];
	word_addr(w, owner);
	word_addr(w + 32, spender);
	return read_word(s, token, "allowance(address,address)", w, 2, "latest", decode_u256, ret,
			 err);
}

int rw_chainread_bool(struct rw_rpcsync *s, const uint8_t to[20], const char *sig, int *ret,
		      struct rw_rpcsync_err *err)
{
	rw_u256 v, one = rw_u256_from_u64(1);
	if (read_word(s, to, sig, NULL, 0, "latest", decode_u256, &v, err) < 0)
		return -1;
	if (rw_u256_cmp(&v, &one) > 0) {
		snprintf(err->msg, sizeof(err->msg), "%s returned a word that is not a bool", sig);
		err->cls = RW_RPC_BAD_RESPONSE;
		return -1;
	}
	*ret = !rw_u256_is_zero(&v);
	return 0;
}

/* symbol() as an ABI string; "" when the token has none or it does not
 * decode (some old tokens return bytes32). */
static void read_symbol(struct rw_rpcsync *s, const uint8_t token[20], char *out, size_t n)
{
	struct rw_rpcsync_err err;
	struct rw_buf data;
	out[0] = '\0';
	if (call(s, token, "symbol()", NULL, 0, "latest", &data, &err) < 0)
		return;
	/* Return data is the tuple (string). */
	struct rw_abi_type *t = NULL;
	struct rw_abi_value *v = NULL;
	if (rw_abi_type_parse(&t, "(string)", 8) == 0 &&
	    rw_abi_decode(&v, t, data.p, data.len) == 0 && v->list.n == 1) {
		const struct rw_abi_value *str = &v->list.items[0];
		size_t k = str->bytes.len < n - 1 ? str->bytes.len : n - 1;
		for (size_t i = 0; i < k; i++) {
			char c = (char)str->bytes.p[i];
			out[i] = c >= 0x20 && c < 0x7f ? c : '?';
		}
		out[k] = '\0';
	}
	rw_abi_value_free(v);
	rw_abi_type_free(t);
	rw_buf_free(&data);
}

int rw_chainread_token(struct rw_rpcsync *s, const uint8_t token[20], struct rw_token_info *ret,
		       struct rw_rpcsync_err *err)
{
	rw_u256 d;
	uint64_t d64;
	if (rw_chainread_u256(s, token, "decimals()", NULL, NULL, &d, err) < 0)
		return -1;
	if (rw_u256_to_u64(&d64, &d) < 0 || d64 > 77) {
		snprintf(err->msg, sizeof(err->msg),
			 "the token's decimals() is out of range (0..77)");
		err->cls = RW_RPC_BAD_RESPONSE;
		return -1;
	}
	memcpy(ret->address, token, 20);
	ret->decimals = (unsigned)d64;
	read_symbol(s, token, ret->symbol, sizeof(ret->symbol));
	return 0;
}

int rw_chainread_provider(struct rw_rpcsync *s, const uint8_t provider[20],
			  struct rw_provider_info *ret, struct rw_rpcsync_err *err)
{
	struct rw_provider_info p;
	memcpy(p.address, provider, 20);
	if (rw_chainread_address(s, provider, "token()", p.token, err) < 0 ||
	    rw_chainread_address(s, provider, "payee()", p.payee, err) < 0 ||
	    rw_chainread_u256(s, provider, "price()", NULL, NULL, &p.price, err) < 0)
		return -1;
	*ret = p;
	return 0;
}

int rw_chainread_cost(struct rw_rpcsync *s, const struct rw_provider_info *p, uint64_t seconds,
		      rw_u256 *ret, struct rw_rpcsync_err *err)
{
	char a[43];
	rw_addr_checksum(a, p->address);
	rw_u256 secs = rw_u256_from_u64(seconds), cost, onchain;
	if (rw_u256_mul(&cost, &secs, &p->price) < 0) {
		snprintf(err->msg, sizeof(err->msg),
			 "%llu s x price overflows uint256: the provider would revert",
			 (unsigned long long)seconds);
		err->cls = RW_RPC_OTHER;
		return -1;
	}
	if (rw_chainread_u256(s, p->address, "cost(uint256)", &secs, NULL, &onchain, err) < 0) {
		char why[sizeof(err->msg)];
		memcpy(why, err->msg, sizeof(why));
		snprintf(err->msg, sizeof(err->msg), "provider %s: cost(%llu) failed: %.400s", a,
			 (unsigned long long)seconds, why);
		return -1;
	}
	if (rw_u256_cmp(&onchain, &cost) != 0) {
		char x[RW_U256_DEC_MAX], y[RW_U256_DEC_MAX];
		rw_u256_format_dec(x, &cost);
		rw_u256_format_dec(y, &onchain);
		snprintf(err->msg, sizeof(err->msg),
			 "provider %s: cost(%llu) on chain is %s but seconds x price is %s; "
			 "refusing to guess",
			 a, (unsigned long long)seconds, y, x);
		err->cls = RW_RPC_BAD_RESPONSE;
		return -1;
	}
	*ret = onchain;
	return 0;
}

/* ---- logs and blocks ------------------------------------------------------ */

int64_t rw_chainread_log_index(const json_t *log)
{
	uint64_t v;
	if (rw_rpc_get_quantity_u64(&v, json_object_get(log, "logIndex")) < 0 || v > INT64_MAX)
		return -1;
	return (int64_t)v;
}

int rw_chainread_log_topic(uint8_t ret[32], const json_t *log, size_t i)
{
	const json_t *topics = json_object_get(log, "topics");
	if (!json_is_array(topics) || i >= json_array_size(topics))
		return RW_EINVAL;
	return rw_rpc_get_data32(ret, json_array_get(topics, i)) < 0 ? RW_EINVAL : 0;
}

int rw_chainread_log_word(rw_u256 *ret, const json_t *log, size_t i)
{
	struct rw_buf data;
	rw_buf_init(&data, 1 << 20);
	int r = rw_rpc_get_hex_bytes(&data, json_object_get(log, "data"));
	if (r >= 0 && data.len >= 32 * (i + 1))
		r = rw_u256_from_be(ret, data.p + 32 * i, 32);
	else
		r = RW_EINVAL;
	rw_buf_free(&data);
	return r < 0 ? RW_EINVAL : 0;
}

/* 1 when log was emitted by address with topic0 (and topic1) after `after`. */
static int log_matches(const json_t *log, const uint8_t address[20], const uint8_t topic0[32],
		       const uint8_t *topic1, int64_t after)
{
	uint8_t a[20], t[32];
	if (rw_rpc_get_address(a, json_object_get(log, "address")) < 0 || memcmp(a, address, 20))
		return 0;
	if (rw_chainread_log_topic(t, log, 0) < 0 || memcmp(t, topic0, 32))
		return 0;
	if (topic1 && (rw_chainread_log_topic(t, log, 1) < 0 || memcmp(t, topic1, 32)))
		return 0;
	return rw_chainread_log_index(log) > after;
}

const json_t *rw_chainread_find_log(const json_t *logs, const uint8_t address[20],
				    const uint8_t topic0[32], const uint8_t *topic1, int64_t after)
{
	size_t i;
	const json_t *log;
	json_array_foreach(logs, i, log)
	{
		if (log_matches(log, address, topic0, topic1, after))
			return log;
	}
	return NULL;
}

int rw_chainread_block(uint64_t *ret_number, uint64_t *ret_time, struct rw_rpcsync *s,
		       const char *tag, struct rw_rpcsync_err *err)
{
	json_t *res;
	if (rw_rpcsync_call(s, "eth_getBlockByNumber", json_pack("[s,b]", tag, 0), &res, err) < 0)
		return -1;
	uint64_t n, t;
	int ok = json_is_object(res) &&
		 rw_rpc_get_quantity_u64(&n, json_object_get(res, "number")) == 0 &&
		 rw_rpc_get_quantity_u64(&t, json_object_get(res, "timestamp")) == 0;
	int missing = json_is_null(res);
	json_decref(res);
	if (!ok) {
		snprintf(err->msg, sizeof(err->msg), "eth_getBlockByNumber(%s): %s", tag,
			 missing ? "no such block" : "malformed block (number, timestamp)");
		err->cls = missing ? RW_RPC_OTHER : RW_RPC_BAD_RESPONSE;
		return -1;
	}
	if (ret_number)
		*ret_number = n;
	*ret_time = t;
	return 0;
}
