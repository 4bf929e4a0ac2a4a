/* tx.c: legacy, EIP-2930 and EIP-1559 transactions.
 *
 * Encoding writes the fields of the type in order into one RLP list
 * (after the type byte for typed transactions); the signing payload and
 * the raw bytes differ only in the tail: [chainId, 0, 0] or nothing, or
 * [v|yParity, r, s]. Decoding checks the whole RLP structure first
 * (rw_rlp_decode), then reads the fields one by one into a local struct
 * that is copied out only when everything was valid. */
#include "tx.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "keccak.h"
#include "rlp.h"

/* Field counts of the raw signed forms. */
#define LEGACY_FIELDS 9
#define TYPE1_FIELDS  11
#define TYPE2_FIELDS  12
#define MAX_FIELDS    12

/* --- checks shared by encoding and decoding ---------------------------- */

static int is_typed(int type)
{
	return type == RW_TX_ACCESS_LIST || type == RW_TX_DYNAMIC_FEE;
}

/* Returns 0 when the fields of tx can be encoded, else RW_EUNSUPPORTED
 * or RW_EINVAL. */
static int check_fields(const struct rw_tx *tx)
{
	if (tx->type != RW_TX_LEGACY && !is_typed(tx->type))
		return RW_EUNSUPPORTED;
	if (tx->data_len > 0 && !tx->data)
		return RW_EINVAL;
	if (tx->access_list_len > 0 && (!tx->access_list || !is_typed(tx->type)))
		return RW_EINVAL;
	for (size_t i = 0; i < tx->access_list_len; i++) {
		const struct rw_access_tuple *t = &tx->access_list[i];
		if (t->storage_keys_len > 0 && !t->storage_keys)
			return RW_EINVAL;
	}
	return 0;
}

/* --- encoding ------------------------------------------------------------ */

/* Appends a 32-byte big-endian word as a minimal integer. */
static int put_word(struct rw_buf *b, const uint8_t w[32])
{
	size_t skip = 0;
	while (skip < 32 && w[skip] == 0)
		skip++;
	return rw_rlp_put_bytes(b, w + skip, 32 - skip);
}

static int put_to(struct rw_buf *b, const struct rw_tx *tx)
{
	return rw_rlp_put_bytes(b, tx->has_to ? tx->to : NULL, tx->has_to ? 20 : 0);
}

static int put_access_list(struct rw_buf *b, const struct rw_tx *tx)
{
	size_t outer, tuple, keys;
	int r = rw_rlp_list_begin(b, &outer);
	for (size_t i = 0; r == 0 && i < tx->access_list_len; i++) {
		const struct rw_access_tuple *t = &tx->access_list[i];
		r = rw_rlp_list_begin(b, &tuple);
		if (r == 0)
			r = rw_rlp_put_bytes(b, t->address, 20);
		if (r == 0)
			r = rw_rlp_list_begin(b, &keys);
		for (size_t k = 0; r == 0 && k < t->storage_keys_len; k++)
			r = rw_rlp_put_bytes(b, t->storage_keys[k], 32);
		if (r == 0)
			r = rw_rlp_list_end(b, keys);
		if (r == 0)
			r = rw_rlp_list_end(b, tuple);
	}
	if (r == 0)
		r = rw_rlp_list_end(b, outer);
	return r;
}

/* Appends the fields every form shares, in the order of the type, up to
 * and including the access list of typed transactions. */
static int put_body(struct rw_buf *b, const struct rw_tx *tx)
{
	int r = 0;
	if (is_typed(tx->type))
		r = rw_rlp_put_u64(b, tx->chain_id);
	if (r == 0)
		r = rw_rlp_put_u64(b, tx->nonce);
	if (tx->type == RW_TX_DYNAMIC_FEE) {
		if (r == 0)
			r = rw_rlp_put_u256(b, &tx->max_priority_fee_per_gas);
		if (r == 0)
			r = rw_rlp_put_u256(b, &tx->max_fee_per_gas);
	} else if (r == 0) {
		r = rw_rlp_put_u256(b, &tx->gas_price);
	}
	if (r == 0)
		r = rw_rlp_put_u64(b, tx->gas);
	if (r == 0)
		r = put_to(b, tx);
	if (r == 0)
		r = rw_rlp_put_u256(b, &tx->value);
	if (r == 0)
		r = rw_rlp_put_bytes(b, tx->data, tx->data_len);
	if (r == 0 && is_typed(tx->type))
		r = put_access_list(b, tx);
	return r;
}

/* Appends the tail: the signature when signed, else the EIP-155
 * [chainId, 0, 0] of a legacy tx with a chain id. */
static int put_tail(struct rw_buf *b, const struct rw_tx *tx, int signed_form)
{
	int r;
	if (!signed_form) {
		if (tx->type != RW_TX_LEGACY || tx->chain_id == 0)
			return 0;
		r = rw_rlp_put_u64(b, tx->chain_id);
		if (r == 0)
			r = rw_rlp_put_u64(b, 0);
		if (r == 0)
			r = rw_rlp_put_u64(b, 0);
		return r;
	}
	rw_u256 v;
	r = rw_tx_v(&v, tx);
	if (r == 0)
		r = rw_rlp_put_u256(b, &v);
	if (r == 0)
		r = put_word(b, tx->sig.r);
	if (r == 0)
		r = put_word(b, tx->sig.s);
	return r;
}

/* Appends the signing payload (signed_form 0) or the raw signed bytes
 * (1). On failure out is restored to its length on entry. */
static int encode(struct rw_buf *out, const struct rw_tx *tx, int signed_form)
{
	int r = check_fields(tx);
	if (r == 0 && signed_form)
		r = tx->is_signed ? rw_key_sig_check(&tx->sig) : RW_EINVAL;
	if (r < 0)
		return r;
	size_t start = out->len, mark;
	if (is_typed(tx->type))
		r = rw_buf_push(out, (uint8_t)tx->type);
	if (r == 0)
		r = rw_rlp_list_begin(out, &mark);
	if (r == 0)
		r = put_body(out, tx);
	if (r == 0)
		r = put_tail(out, tx, signed_form);
	if (r == 0)
		r = rw_rlp_list_end(out, mark);
	if (r < 0)
		out->len = start;
	return r;
}

/* Stores keccak-256 of the signing payload (0) or raw bytes (1). */
static int hash_form(uint8_t ret[32], const struct rw_tx *tx, int signed_form)
{
	struct rw_buf b;
	rw_buf_init(&b, RW_BUF_DEFAULT_MAX);
	int r = encode(&b, tx, signed_form);
	if (r == 0)
		rw_keccak256(ret, b.p, b.len);
	rw_buf_free(&b);
	return r;
}

int rw_tx_signing_payload(struct rw_buf *out, const struct rw_tx *tx)
{
	return encode(out, tx, 0);
}

int rw_tx_signing_hash(uint8_t ret[32], const struct rw_tx *tx)
{
	return hash_form(ret, tx, 0);
}

int rw_tx_sign(struct rw_tx *tx, const uint8_t sk[32])
{
	uint8_t hash[32];
	struct rw_sig sig;
	int r = rw_tx_signing_hash(hash, tx);
	if (r < 0)
		return r;
	r = rw_key_sign(&sig, hash, sk);
	if (r < 0)
		return r;
	tx->sig = sig;
	tx->is_signed = 1;
	return 0;
}

int rw_tx_encode_raw(struct rw_buf *out, const struct rw_tx *tx)
{
	return encode(out, tx, 1);
}

int rw_tx_hash(uint8_t ret[32], const struct rw_tx *tx)
{
	return hash_form(ret, tx, 1);
}

int rw_tx_sender(uint8_t ret[20], const struct rw_tx *tx)
{
	if (!tx->is_signed || rw_key_sig_check(&tx->sig) < 0)
		return RW_EINVAL;
	uint8_t hash[32];
	int r = rw_tx_signing_hash(hash, tx);
	if (r < 0)
		return r;
	return rw_key_recover(ret, hash, &tx->sig);
}

int rw_tx_v(rw_u256 *ret, const struct rw_tx *tx)
{
	if (!tx->is_signed || (tx->sig.recid != 0 && tx->sig.recid != 1))
		return RW_EINVAL;
	rw_u256 v = rw_u256_from_u64((uint64_t)tx->sig.recid);
	if (tx->type == RW_TX_LEGACY) {
		/* chain_id*2 + 35 + recid < 2^66: these cannot overflow. */
		rw_u256 c = rw_u256_from_u64(tx->chain_id);
		rw_u256 base = rw_u256_from_u64(tx->chain_id ? 35 : 27);
		if (tx->chain_id) {
			(void)rw_u256_add(&v, &v, &c);
			(void)rw_u256_add(&v, &v, &c);
		}
		(void)rw_u256_add(&v, &v, &base);
	}
	*ret = v;
	return 0;
}

void rw_tx_free(struct rw_tx *tx)
{
	if (!tx)
		return;
	for (size_t i = 0; tx->access_list && i < tx->access_list_len; i++)
		free(tx->access_list[i].storage_keys);
	free(tx->access_list);
	free(tx->data);
	tx->access_list = NULL;
	tx->access_list_len = 0;
	tx->data = NULL;
	tx->data_len = 0;
}

/* --- decoding ------------------------------------------------------------ */

/* Reads a string of exactly n bytes into out. Returns 0 or RW_EINVAL. */
static int get_fixed(uint8_t *out, size_t n, const struct rw_rlp_item *it)
{
	if (it->is_list || it->len != n)
		return RW_EINVAL;
	memcpy(out, it->p, n);
	return 0;
}

static int get_to(struct rw_tx *tx, const struct rw_rlp_item *it)
{
	if (!it->is_list && it->len == 0) {
		tx->has_to = 0;
		return 0;
	}
	tx->has_to = 1;
	return get_fixed(tx->to, 20, it);
}

/* Copies the data string (its length is proven by the input). */
static int get_data(struct rw_tx *tx, const struct rw_rlp_item *it)
{
	if (it->is_list)
		return RW_EINVAL;
	if (it->len == 0)
		return 0;
	tx->data = malloc(it->len);
	if (!tx->data)
		return RW_ENOMEM;
	memcpy(tx->data, it->p, it->len);
	tx->data_len = it->len;
	return 0;
}

/* Reads r or s: a minimal integer of at most 32 bytes, left-padded. */
static int get_word(uint8_t out[32], const struct rw_rlp_item *it)
{
	rw_u256 v;
	int r = rw_rlp_get_u256(&v, it);
	if (r < 0)
		return r;
	memset(out, 0, 32);
	memcpy(out + 32 - it->len, it->p, it->len);
	return 0;
}

/* Checks one access list tuple [address, [key, ...]]: stores where its
 * address is and its key list. Returns the key count or RW_EINVAL. */
static int check_tuple(const uint8_t **ret_addr, struct rw_rlp_item *ret_keys,
		       const struct rw_rlp_item *tuple)
{
	struct rw_rlp_iter it;
	struct rw_rlp_item addr, key;
	int r, count = 0;
	if (rw_rlp_iter_init(&it, tuple) < 0 || rw_rlp_list_count(tuple) != 2)
		return RW_EINVAL;
	if (rw_rlp_iter_next(&it, &addr) != 1 || rw_rlp_iter_next(&it, ret_keys) != 1)
		return RW_EINVAL;
	if (addr.is_list || addr.len != 20 || rw_rlp_iter_init(&it, ret_keys) < 0)
		return RW_EINVAL;
	while ((r = rw_rlp_iter_next(&it, &key)) > 0) {
		if (key.is_list || key.len != 32)
			return RW_EINVAL;
		count++;
	}
	*ret_addr = addr.p;
	return r < 0 ? r : count;
}

/* Fills t from a tuple that check_tuple accepted. */
static int fill_tuple(struct rw_access_tuple *t, const struct rw_rlp_item *tuple)
{
	const uint8_t *addr;
	struct rw_rlp_item keys, key;
	struct rw_rlp_iter it;
	int n = check_tuple(&addr, &keys, tuple);
	if (n < 0)
		return n;
	memcpy(t->address, addr, 20);
	if (n == 0)
		return 0;
	t->storage_keys = malloc((size_t)n * sizeof(*t->storage_keys));
	if (!t->storage_keys)
		return RW_ENOMEM;
	t->storage_keys_len = (size_t)n;
	(void)rw_rlp_iter_init(&it, &keys);
	for (size_t k = 0; k < (size_t)n && rw_rlp_iter_next(&it, &key) == 1; k++)
		memcpy(t->storage_keys[k], key.p, 32);
	return 0;
}

/* Reads the access list. Every tuple is checked before anything is
 * allocated, so the allocations are sized by entries the input holds. */
static int get_access_list(struct rw_tx *tx, const struct rw_rlp_item *list)
{
	const uint8_t *addr;
	struct rw_rlp_iter it;
	struct rw_rlp_item tuple, keys;
	int r, n = 0;
	if (rw_rlp_iter_init(&it, list) < 0)
		return RW_EINVAL;
	while ((r = rw_rlp_iter_next(&it, &tuple)) > 0) {
		int k = check_tuple(&addr, &keys, &tuple);
		if (k < 0)
			return k;
		n++;
	}
	if (r < 0 || n == 0)
		return r;
	tx->access_list = calloc((size_t)n, sizeof(*tx->access_list));
	if (!tx->access_list)
		return RW_ENOMEM;
	tx->access_list_len = (size_t)n;
	(void)rw_rlp_iter_init(&it, list);
	for (size_t i = 0; i < (size_t)n && rw_rlp_iter_next(&it, &tuple) == 1; i++) {
		if ((r = fill_tuple(&tx->access_list[i], &tuple)) < 0)
			return r;
	}
	return 0;
}

/* Reads the signature of a typed tx: yParity, r, s. */
static int get_typed_sig(struct rw_tx *tx, const struct rw_rlp_item f[3])
{
	uint64_t parity;
	int r = rw_rlp_get_u64(&parity, &f[0]);
	if (r < 0)
		return r;
	if (parity > 1)
		return RW_EINVAL;
	tx->sig.recid = (int)parity;
	if ((r = get_word(tx->sig.r, &f[1])) < 0 || (r = get_word(tx->sig.s, &f[2])) < 0)
		return r;
	return 0;
}

/* Reads a legacy v into chain_id and recid: 27/28, or chainId*2 + 35/36
 * with chainId >= 1. */
static int get_legacy_v(struct rw_tx *tx, const struct rw_rlp_item *it)
{
	rw_u256 v, base = rw_u256_from_u64(35), two = rw_u256_from_u64(2), q, rem;
	uint64_t small, recid;
	int r = rw_rlp_get_u256(&v, it);
	if (r < 0)
		return r;
	if (rw_u256_to_u64(&small, &v) == 0 && small < 35) {
		if (small != 27 && small != 28)
			return RW_EINVAL;
		tx->chain_id = 0;
		tx->sig.recid = (int)(small - 27);
		return 0;
	}
	(void)rw_u256_sub(&v, &v, &base);
	(void)rw_u256_divmod(&q, &rem, &v, &two);
	if ((r = rw_u256_to_u64(&tx->chain_id, &q)) < 0)
		return r;
	if (tx->chain_id == 0)
		return RW_EINVAL;
	(void)rw_u256_to_u64(&recid, &rem);
	tx->sig.recid = (int)recid;
	return 0;
}

/* Collects the children of list into f[0..want). Returns 0 or RW_EINVAL
 * when the count differs. */
static int get_fields(struct rw_rlp_item f[MAX_FIELDS], const struct rw_rlp_item *list, int want)
{
	struct rw_rlp_iter it;
	struct rw_rlp_item child;
	int r, n = 0;
	if (rw_rlp_iter_init(&it, list) < 0)
		return RW_EINVAL;
	while ((r = rw_rlp_iter_next(&it, &child)) > 0) {
		if (n == want)
			return RW_EINVAL;
		f[n++] = child;
	}
	if (r < 0)
		return r;
	return n == want ? 0 : RW_EINVAL;
}

/* Reads the fields of a decoded list of the given type into tx. */
static int get_tx(struct rw_tx *tx, int type, const struct rw_rlp_item *list)
{
	struct rw_rlp_item f[MAX_FIELDS];
	int want = type == RW_TX_LEGACY        ? LEGACY_FIELDS
		   : type == RW_TX_ACCESS_LIST ? TYPE1_FIELDS
					       : TYPE2_FIELDS;
	int r = get_fields(f, list, want);
	if (r < 0)
		return r;
	tx->type = type;
	size_t i = 0;
	if (type != RW_TX_LEGACY && (r = rw_rlp_get_u64(&tx->chain_id, &f[i++])) < 0)
		return r;
	if ((r = rw_rlp_get_u64(&tx->nonce, &f[i++])) < 0)
		return r;
	if (type == RW_TX_DYNAMIC_FEE) {
		if ((r = rw_rlp_get_u256(&tx->max_priority_fee_per_gas, &f[i++])) < 0 ||
		    (r = rw_rlp_get_u256(&tx->max_fee_per_gas, &f[i++])) < 0)
			return r;
	} else if ((r = rw_rlp_get_u256(&tx->gas_price, &f[i++])) < 0) {
		return r;
	}
	if ((r = rw_rlp_get_u64(&tx->gas, &f[i++])) < 0 || (r = get_to(tx, &f[i++])) < 0 ||
	    (r = rw_rlp_get_u256(&tx->value, &f[i++])) < 0 || (r = get_data(tx, &f[i++])) < 0)
		return r;
	if (type == RW_TX_LEGACY) {
		if ((r = get_legacy_v(tx, &f[i])) < 0 || (r = get_word(tx->sig.r, &f[i + 1])) < 0 ||
		    (r = get_word(tx->sig.s, &f[i + 2])) < 0)
			return r;
	} else {
		if ((r = get_access_list(tx, &f[i++])) < 0 || (r = get_typed_sig(tx, &f[i])) < 0)
			return r;
	}
	tx->is_signed = 1;
	return rw_key_sig_check(&tx->sig);
}

int rw_tx_decode(struct rw_tx *ret, const uint8_t *raw, size_t n)
{
	if (n == 0)
		return RW_ETRUNC;
	int type = RW_TX_LEGACY;
	if (raw[0] < 0x80) {
		type = raw[0];
		if (!is_typed(type))
			return RW_EUNSUPPORTED;
		raw++;
		n--;
	} else if (raw[0] < 0xc0) {
		return RW_EINVAL; /* a string, not a list */
	}
	struct rw_rlp_item list;
	int r = rw_rlp_decode(&list, raw, n);
	if (r < 0)
		return r;
	if (!list.is_list)
		return RW_EINVAL;
	struct rw_tx tx;
	memset(&tx, 0, sizeof(tx));
	r = get_tx(&tx, type, &list);
	if (r < 0) {
		rw_tx_free(&tx);
		return r;
	}
	*ret = tx;
	return 0;
}
