/* chainread.c: typed contract reads for the CLI. */
#include "chainread.h"

#include <stdio.h>
#include <string.h>

#include "abi.h"
#include "buf.h"
#include "err.h"

/* Builds calldata: selector of sig, then an optional one-word argument. */
static void calldata(uint8_t out[36], size_t *ret_len, const char *sig, const rw_u256 *arg_u256,
		     const uint8_t *arg_addr)
{
	rw_abi_selector(out, sig, strlen(sig));
	*ret_len = 4;
	if (arg_u256) {
		rw_u256_to_be(out + 4, arg_u256);
		*ret_len = 36;
	} else if (arg_addr) {
		memset(out + 4, 0, 12);
		memcpy(out + 16, arg_addr, 20);
		*ret_len = 36;
	}
}

/* eth_call of sig; the return data in out. */
static int call(struct rw_rpcsync *s, const uint8_t to[20], const char *sig,
		const rw_u256 *arg_u256, const uint8_t *arg_addr, struct rw_buf *out,
		struct rw_rpcsync_err *err)
{
	uint8_t cd[36];
	size_t n;
	calldata(cd, &n, sig, arg_u256, arg_addr);
	rw_buf_init(out, 1 << 20);
	if (rw_rpcsync_eth_call(s, to, cd, n, out, err) < 0) {
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
		     const rw_u256 *arg_u256, const uint8_t *arg_addr,
		     int (*decode)(void *ret, const uint8_t *data, size_t len), void *ret,
		     struct rw_rpcsync_err *err)
{
	struct rw_buf out;
	if (call(s, to, sig, arg_u256, arg_addr, &out, err) < 0)
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

static int decode_u256(void *ret, const uint8_t *data, size_t len)
{
	return rw_abi_decode_uint256(ret, data, len);
}

static int decode_address(void *ret, const uint8_t *data, size_t len)
{
	return rw_abi_decode_address(ret, data, len);
}

int rw_chainread_u256(struct rw_rpcsync *s, const uint8_t to[20], const char *sig,
		      const rw_u256 *arg_u256, const uint8_t *arg_addr, rw_u256 *ret,
		      struct rw_rpcsync_err *err)
{
	return read_word(s, to, sig, arg_u256, arg_addr, decode_u256, ret, err);
}

int rw_chainread_address(struct rw_rpcsync *s, const uint8_t to[20], const char *sig,
			 uint8_t ret[20], struct rw_rpcsync_err *err)
{
	return read_word(s, to, sig, NULL, NULL, decode_address, ret, err);
}

/* symbol() as an ABI string; "" when the token has none or it does not
 * decode (some old tokens return bytes32). */
static void read_symbol(struct rw_rpcsync *s, const uint8_t token[20], char *out, size_t n)
{
	struct rw_rpcsync_err err;
	struct rw_buf data;
	out[0] = '\0';
	if (call(s, token, "symbol()", NULL, NULL, &data, &err) < 0)
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
