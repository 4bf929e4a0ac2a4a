/* test_tx.c: transactions: signing payload and hash, signing, raw bytes,
 * hash, strict decoding, sender recovery.
 *
 * The EIP-155 example; tests/vectors/tx_random.txt, written by an
 * independent implementation (ethers, gen_tx.mjs), checked line by line
 * byte for byte; signatures whose r or s start with a zero byte, found by
 * trying nonces; and every rejection of the decoder. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hex.h"
#include "keccak.h"
#include "key.h"
#include "rlp.h"
#include "tx.h"

static const char *eip155_payload =
	"0xec098504a817c800825208943535353535353535353535353535353535353535"
	"880de0b6b3a764000080018080";
static const char *eip155_hash =
	"0xdaf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53";
static const char *eip155_raw =
	"0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025"
	"a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703"
	"30"
	"4b3800ccf555c9f3dc64214b297fb1966a3b6d83";

/* --- helpers ------------------------------------------------------------- */

static int setup(void **state)
{
	(void)state;
	return rw_key_init() == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	rw_key_cleanup();
	return 0;
}

static void u256_of_hex(rw_u256 *ret, const char *s)
{
	if (rw_u256_parse_hex(ret, s, strlen(s)) < 0)
		fail_msg("bad quantity in test data: %s", s);
}

static uint64_t u64_of_hex(const char *s)
{
	rw_u256 v;
	uint64_t r;
	u256_of_hex(&v, s);
	assert_int_equal(rw_u256_to_u64(&r, &v), 0);
	return r;
}

/* Copies hex text of exactly n bytes into out. */
static void fixed_of_hex(uint8_t *out, size_t n, const char *s)
{
	size_t len;
	uint8_t *p = tl_unhex(s, &len);
	assert_int_equal(len, n);
	memcpy(out, p, n);
	free(p);
}

/* The EIP-155 example transaction (unsigned). */
static void eip155_tx(struct rw_tx *tx)
{
	memset(tx, 0, sizeof(*tx));
	tx->type = RW_TX_LEGACY;
	tx->chain_id = 1;
	tx->nonce = 9;
	tx->gas_price = rw_u256_from_u64(20000000000u);
	tx->gas = 21000;
	tx->has_to = 1;
	memset(tx->to, 0x35, 20);
	tx->value = rw_u256_from_u64(1000000000000000000u);
}

static const uint8_t key46[32] = {
	0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46,
	0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46,
	0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46,
};

/* Asserts that two transactions hold the same fields (those their type
 * uses). */
static void assert_tx_equal(const struct rw_tx *a, const struct rw_tx *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->chain_id, b->chain_id);
	assert_int_equal(a->nonce, b->nonce);
	if (a->type == RW_TX_DYNAMIC_FEE) {
		assert_int_equal(rw_u256_cmp(&a->max_fee_per_gas, &b->max_fee_per_gas), 0);
		assert_int_equal(
			rw_u256_cmp(&a->max_priority_fee_per_gas, &b->max_priority_fee_per_gas), 0);
	} else {
		assert_int_equal(rw_u256_cmp(&a->gas_price, &b->gas_price), 0);
	}
	assert_int_equal(a->gas, b->gas);
	assert_int_equal(a->has_to, b->has_to);
	if (a->has_to)
		assert_memory_equal(a->to, b->to, 20);
	assert_int_equal(rw_u256_cmp(&a->value, &b->value), 0);
	assert_int_equal(a->data_len, b->data_len);
	if (a->data_len)
		assert_memory_equal(a->data, b->data, a->data_len);
	assert_int_equal(a->access_list_len, b->access_list_len);
	for (size_t i = 0; i < a->access_list_len; i++) {
		const struct rw_access_tuple *x = &a->access_list[i], *y = &b->access_list[i];
		assert_memory_equal(x->address, y->address, 20);
		assert_int_equal(x->storage_keys_len, y->storage_keys_len);
		if (x->storage_keys_len)
			assert_memory_equal(x->storage_keys, y->storage_keys,
					    32 * x->storage_keys_len);
	}
	assert_int_equal(a->is_signed, b->is_signed);
	if (a->is_signed) {
		assert_memory_equal(a->sig.r, b->sig.r, 32);
		assert_memory_equal(a->sig.s, b->sig.s, 32);
		assert_int_equal(a->sig.recid, b->sig.recid);
	}
}

/* Encodes tx raw into a fresh buffer (caller frees). */
static void raw_of(struct rw_buf *b, const struct rw_tx *tx)
{
	rw_buf_init(b, RW_BUF_DEFAULT_MAX);
	assert_int_equal(rw_tx_encode_raw(b, tx), 0);
}

/* Decodes raw, checks that it re-encodes to the same bytes and that the
 * fields equal want, and frees the decoded tx. */
static void assert_round_trip(const uint8_t *raw, size_t n, const struct rw_tx *want)
{
	struct rw_tx got;
	assert_int_equal(rw_tx_decode(&got, raw, n), 0);
	assert_tx_equal(&got, want);
	struct rw_buf b;
	raw_of(&b, &got);
	assert_int_equal(b.len, n);
	assert_memory_equal(b.p, raw, n);
	rw_buf_free(&b);
	rw_tx_free(&got);
}

/* --- field surgery for the rejection tests ----------------------------- */

/* A raw tx cut into its type byte (-1 for legacy) and the complete
 * encodings of its fields, so that tests can replace, drop or add one. */
struct fields {
	int type;
	size_t n;
	uint8_t *enc[16];
	size_t len[16];
};

static void split(struct fields *f, const uint8_t *raw, size_t n)
{
	memset(f, 0, sizeof(*f));
	f->type = raw[0] < 0xc0 ? raw[0] : -1;
	size_t off = f->type < 0 ? 0 : 1;
	struct rw_rlp_item list, item;
	struct rw_rlp_iter it;
	assert_int_equal(rw_rlp_decode(&list, raw + off, n - off), 0);
	assert_int_equal(rw_rlp_iter_init(&it, &list), 0);
	for (;;) {
		const uint8_t *start = it.p;
		if (rw_rlp_iter_next(&it, &item) != 1)
			break;
		assert_true(f->n < 16);
		f->len[f->n] = (size_t)(it.p - start);
		f->enc[f->n] = malloc(f->len[f->n]);
		assert_non_null(f->enc[f->n]);
		memcpy(f->enc[f->n], start, f->len[f->n]);
		f->n++;
	}
}

static void fields_free(struct fields *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->enc[i]);
	f->n = 0;
}

/* Replaces field i (i == n appends) with the encoding enc[0..len). */
static void set_field(struct fields *f, size_t i, const uint8_t *enc, size_t len)
{
	assert_true(i <= f->n && i < 16);
	if (i == f->n)
		f->n++;
	else
		free(f->enc[i]);
	f->enc[i] = malloc(len ? len : 1);
	assert_non_null(f->enc[i]);
	memcpy(f->enc[i], enc, len);
	f->len[i] = len;
}

static void set_field_hex(struct fields *f, size_t i, const char *hex)
{
	size_t len;
	uint8_t *p = tl_unhex(hex, &len);
	set_field(f, i, p, len);
	free(p);
}

static void drop_field(struct fields *f, size_t i)
{
	assert_true(i < f->n);
	free(f->enc[i]);
	memmove(&f->enc[i], &f->enc[i + 1], (f->n - i - 1) * sizeof(f->enc[0]));
	memmove(&f->len[i], &f->len[i + 1], (f->n - i - 1) * sizeof(f->len[0]));
	f->n--;
}

/* Joins the fields into raw bytes in b. */
static void join(struct rw_buf *b, const struct fields *f)
{
	size_t mark;
	rw_buf_init(b, RW_BUF_DEFAULT_MAX);
	if (f->type >= 0)
		assert_int_equal(rw_buf_push(b, (uint8_t)f->type), 0);
	assert_int_equal(rw_rlp_list_begin(b, &mark), 0);
	for (size_t i = 0; i < f->n; i++)
		assert_int_equal(rw_buf_append(b, f->enc[i], f->len[i]), 0);
	assert_int_equal(rw_rlp_list_end(b, mark), 0);
}

/* Joins the fields and returns what rw_tx_decode says of them. A
 * successful decode must re-encode to the same bytes. */
static int join_decode(const struct fields *f)
{
	struct rw_buf b;
	struct rw_tx tx;
	join(&b, f);
	int r = rw_tx_decode(&tx, b.p, b.len);
	if (r == 0) {
		struct rw_buf again;
		raw_of(&again, &tx);
		assert_int_equal(again.len, b.len);
		assert_memory_equal(again.p, b.p, b.len);
		rw_buf_free(&again);
		rw_tx_free(&tx);
	}
	rw_buf_free(&b);
	return r;
}

/* --- the EIP-155 example --------------------------------------------------- */

static void eip155_example(void **state)
{
	(void)state;
	struct rw_tx tx;
	struct rw_buf b;
	uint8_t h[32], addr[20], want_addr[20];
	eip155_tx(&tx);

	rw_buf_init(&b, RW_BUF_DEFAULT_MAX);
	assert_int_equal(rw_tx_signing_payload(&b, &tx), 0);
	tl_assert_hex(b.p, b.len, eip155_payload);
	rw_buf_free(&b);
	assert_int_equal(rw_tx_signing_hash(h, &tx), 0);
	tl_assert_hex(h, 32, eip155_hash);

	assert_int_equal(rw_tx_encode_raw(&b, &tx), RW_EINVAL); /* not signed */
	assert_int_equal(rw_tx_sign(&tx, key46), 0);
	assert_true(tx.is_signed);
	raw_of(&b, &tx);
	tl_assert_hex(b.p, b.len, eip155_raw);

	rw_u256 v, want_v = rw_u256_from_u64(37);
	assert_int_equal(rw_tx_v(&v, &tx), 0);
	assert_int_equal(rw_u256_cmp(&v, &want_v), 0);

	uint8_t want_hash[32];
	rw_keccak256(want_hash, b.p, b.len);
	assert_int_equal(rw_tx_hash(h, &tx), 0);
	assert_memory_equal(h, want_hash, 32);

	assert_int_equal(rw_key_address(want_addr, key46), 0);
	assert_int_equal(rw_tx_sender(addr, &tx), 0);
	assert_memory_equal(addr, want_addr, 20);
	tl_assert_hex(addr, 20, "0x9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f");

	assert_round_trip(b.p, b.len, &tx);
	struct rw_tx dec;
	assert_int_equal(rw_tx_decode(&dec, b.p, b.len), 0);
	assert_int_equal(rw_tx_sender(addr, &dec), 0);
	assert_memory_equal(addr, want_addr, 20);
	rw_tx_free(&dec);
	rw_buf_free(&b);
}

/* --- the ethers vectors -------------------------------------------------- */

/* Parses "addr:key,key;addr:..." into a heap access list. */
static void parse_access_list(struct rw_tx *tx, char *s)
{
	if (strcmp(s, "-") == 0)
		return;
	size_t n = 1;
	for (const char *c = s; *c; c++)
		n += *c == ';';
	tx->access_list = calloc(n, sizeof(*tx->access_list));
	assert_non_null(tx->access_list);
	tx->access_list_len = n;
	char *save = NULL, *entry = strtok_r(s, ";", &save);
	for (size_t i = 0; i < n; i++, entry = strtok_r(NULL, ";", &save)) {
		assert_non_null(entry);
		struct rw_access_tuple *t = &tx->access_list[i];
		char *colon = strchr(entry, ':');
		assert_non_null(colon);
		*colon = '\0';
		fixed_of_hex(t->address, 20, entry);
		char *keys = colon + 1;
		if (!*keys)
			continue;
		size_t k = 1;
		for (const char *c = keys; *c; c++)
			k += *c == ',';
		t->storage_keys = malloc(k * 32);
		assert_non_null(t->storage_keys);
		t->storage_keys_len = k;
		char *save2 = NULL, *key = strtok_r(keys, ",", &save2);
		for (size_t j = 0; j < k; j++, key = strtok_r(NULL, ",", &save2)) {
			assert_non_null(key);
			fixed_of_hex(t->storage_keys[j], 32, key);
		}
	}
}

enum {
	F_TYPE,
	F_CHAIN,
	F_NONCE,
	F_GAS_PRICE,
	F_PRIO,
	F_MAX_FEE,
	F_GAS,
	F_TO,
	F_VALUE,
	F_DATA,
	F_ACCESS,
	F_SK,
	F_SIGHASH,
	F_RAW,
	F_HASH,
	F_SENDER,
	F_COUNT
};

/* Runs one vector line; returns 1 when r or s of its signature starts
 * with a zero byte. */
static int run_vector(size_t lineno, char *line)
{
	char *f[F_COUNT], *save = NULL;
	size_t nf = 0;
	for (char *t = strtok_r(line, " ", &save); t && nf < F_COUNT;
	     t = strtok_r(NULL, " ", &save))
		f[nf++] = t;
	if (nf != F_COUNT)
		fail_msg("tx_random.txt line %zu: %zu fields", lineno, nf);

	struct rw_tx tx;
	memset(&tx, 0, sizeof(tx));
	tx.type = atoi(f[F_TYPE]);
	tx.chain_id = u64_of_hex(f[F_CHAIN]);
	tx.nonce = u64_of_hex(f[F_NONCE]);
	u256_of_hex(&tx.gas_price, f[F_GAS_PRICE]);
	u256_of_hex(&tx.max_priority_fee_per_gas, f[F_PRIO]);
	u256_of_hex(&tx.max_fee_per_gas, f[F_MAX_FEE]);
	tx.gas = u64_of_hex(f[F_GAS]);
	if (strcmp(f[F_TO], "-") != 0) {
		tx.has_to = 1;
		fixed_of_hex(tx.to, 20, f[F_TO]);
	}
	u256_of_hex(&tx.value, f[F_VALUE]);
	tx.data = tl_unhex(f[F_DATA], &tx.data_len);
	parse_access_list(&tx, f[F_ACCESS]);
	uint8_t sk[32], sender[20], h[32], addr[20];
	fixed_of_hex(sk, 32, f[F_SK]);
	fixed_of_hex(sender, 20, f[F_SENDER]);

	assert_int_equal(rw_tx_signing_hash(h, &tx), 0);
	tl_assert_hex(h, 32, f[F_SIGHASH]);
	assert_int_equal(rw_tx_sign(&tx, sk), 0);
	struct rw_buf b;
	raw_of(&b, &tx);
	tl_assert_hex(b.p, b.len, f[F_RAW]);
	assert_int_equal(rw_tx_hash(h, &tx), 0);
	tl_assert_hex(h, 32, f[F_HASH]);
	assert_int_equal(rw_tx_sender(addr, &tx), 0);
	assert_memory_equal(addr, sender, 20);

	struct rw_tx dec;
	assert_int_equal(rw_tx_decode(&dec, b.p, b.len), 0);
	assert_tx_equal(&dec, &tx);
	memset(addr, 0, 20);
	assert_int_equal(rw_tx_sender(addr, &dec), 0);
	assert_memory_equal(addr, sender, 20);
	assert_int_equal(rw_tx_hash(h, &dec), 0);
	tl_assert_hex(h, 32, f[F_HASH]);
	assert_round_trip(b.p, b.len, &tx);

	int lead = tx.sig.r[0] == 0 || tx.sig.s[0] == 0;
	rw_tx_free(&dec);
	rw_tx_free(&tx);
	rw_buf_free(&b);
	rw_wipe(sk, sizeof(sk));
	return lead;
}

static void ethers_vectors(void **state)
{
	(void)state;
	size_t len;
	char *text = tl_read_vector("tx_random.txt", &len);
	static char *lines[2048];
	size_t n = tl_lines(text, lines, 2048);
	assert_true(n >= 400);
	int types[3] = { 0 }, creations = 0, lead = 0;
	for (size_t i = 0; i < n; i++) {
		types[atoi(lines[i])]++;
		creations += strstr(lines[i], " - ") != NULL;
		lead += run_vector(i + 1, lines[i]);
	}
	print_message("tx_random.txt: %zu cases (legacy %d, type 1 %d, type 2 %d), "
		      "%d with r/s starting 0x00\n",
		      n, types[0], types[1], types[2], lead);
	assert_true(types[0] > 50 && types[1] > 20 && types[2] > 50);
	assert_true(lead >= 6);
	assert_true(creations > 10);
	free(text);
}

/* --- r or s starting with a zero byte -------------------------------------- */

/* Signs successive nonces of a tx of the given type with a fixed key until
 * r (which 0) or s (1) starts with a zero byte, then checks that the raw
 * encoding carries it as a shorter minimal integer and round trips. */
static void find_leading_zero(int type, int which)
{
	static const uint8_t sk[32] = {
		0x5e, 0xed, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13,
		0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
	};
	struct rw_tx tx;
	eip155_tx(&tx);
	tx.type = type;
	tx.max_fee_per_gas = rw_u256_from_u64(100);
	uint64_t nonce;
	for (nonce = 0; nonce < 100000; nonce++) {
		tx.nonce = nonce;
		assert_int_equal(rw_tx_sign(&tx, sk), 0);
		if ((which ? tx.sig.s : tx.sig.r)[0] == 0)
			break;
	}
	assert_true(nonce < 100000);

	struct rw_buf b;
	raw_of(&b, &tx);
	/* Walk the raw list to its r and s items. */
	size_t off = type == RW_TX_LEGACY ? 0 : 1;
	struct rw_rlp_item list, item, r_item = { 0 }, s_item = { 0 };
	struct rw_rlp_iter it;
	assert_int_equal(rw_rlp_decode(&list, b.p + off, b.len - off), 0);
	assert_int_equal(rw_rlp_iter_init(&it, &list), 0);
	int count = rw_rlp_list_count(&list);
	for (int i = 0; i < count; i++) {
		assert_int_equal(rw_rlp_iter_next(&it, &item), 1);
		if (i == count - 2)
			r_item = item;
		if (i == count - 1)
			s_item = item;
	}
	const struct rw_rlp_item *z = which ? &s_item : &r_item;
	const uint8_t *w = which ? tx.sig.s : tx.sig.r;
	size_t lz = 0;
	while (w[lz] == 0)
		lz++;
	assert_int_equal(z->len, 32 - lz);
	assert_int_not_equal(z->p[0], 0);
	assert_memory_equal(z->p, w + lz, 32 - lz);
	assert_round_trip(b.p, b.len, &tx);

	uint8_t addr[20], want[20];
	struct rw_tx dec;
	assert_int_equal(rw_tx_decode(&dec, b.p, b.len), 0);
	assert_int_equal(rw_tx_sender(addr, &dec), 0);
	assert_int_equal(rw_key_address(want, sk), 0);
	assert_memory_equal(addr, want, 20);
	rw_tx_free(&dec);

	/* The same signature with r or s padded to 32 bytes is refused. */
	struct fields f;
	split(&f, b.p, b.len);
	uint8_t padded[33] = { 0xa0 };
	memcpy(padded + 1, w, 32);
	set_field(&f, f.n - 2 + (size_t)which, padded, 33);
	assert_int_equal(join_decode(&f), RW_ENONCANON);
	fields_free(&f);
	rw_buf_free(&b);
}

static void leading_zero_r_s(void **state)
{
	(void)state;
	for (int type = 0; type <= 2; type++) {
		find_leading_zero(type, 0);
		find_leading_zero(type, 1);
	}
}

/* --- rejections ------------------------------------------------------------ */

/* A signed type-2 tx with an access list (two tuples, 0 and 2 keys). */
static void type2_tx(struct rw_tx *tx, struct rw_access_tuple al[2], uint8_t keys[2][32])
{
	static uint8_t data[] = { 0xa9, 0x05, 0x9c, 0xbb };
	eip155_tx(tx);
	tx->type = RW_TX_DYNAMIC_FEE;
	tx->chain_id = 137;
	tx->max_priority_fee_per_gas = rw_u256_from_u64(30000000000u);
	tx->max_fee_per_gas = rw_u256_from_u64(90000000000u);
	tx->data = data;
	tx->data_len = sizeof(data);
	memset(al, 0, 2 * sizeof(al[0]));
	memset(al[0].address, 0x11, 20);
	memset(al[1].address, 0x22, 20);
	memset(keys, 0x33, 2 * 32);
	keys[1][31] = 0x44;
	al[1].storage_keys = keys;
	al[1].storage_keys_len = 2;
	tx->access_list = al;
	tx->access_list_len = 2;
	assert_int_equal(rw_tx_sign(tx, key46), 0);
}

/* Checks every proper prefix (RW_ETRUNC) and one trailing byte. */
static void check_truncation(const uint8_t *raw, size_t n)
{
	struct rw_tx tx;
	for (size_t cut = 0; cut < n; cut++) {
		int r = rw_tx_decode(&tx, raw, cut);
		if (r != RW_ETRUNC)
			fail_msg("prefix of %zu of %zu bytes: %d, want RW_ETRUNC", cut, n, r);
	}
	uint8_t *more = malloc(n + 1);
	assert_non_null(more);
	memcpy(more, raw, n);
	more[n] = 0;
	assert_int_equal(rw_tx_decode(&tx, more, n + 1), RW_ETRAILING);
	more[n] = 0xc0;
	assert_int_equal(rw_tx_decode(&tx, more, n + 1), RW_ETRAILING);
	free(more);
}

/* One field replaced by an encoding, and the decoder's answer. */
struct field_case {
	size_t field;
	const char *hex;
	int want;
};

static void check_field_cases(const uint8_t *raw, size_t n, const struct field_case *c,
			      size_t count)
{
	for (size_t i = 0; i < count; i++) {
		struct fields f;
		split(&f, raw, n);
		set_field_hex(&f, c[i].field, c[i].hex);
		int r = join_decode(&f);
		if (r != c[i].want)
			fail_msg("field %zu := %s: got %d (%s), want %d", c[i].field, c[i].hex, r,
				 rw_strerror(r), c[i].want);
		fields_free(&f);
	}
}

/* Replaces s by n - s (the high-s twin of the same signature). */
static void high_s(uint8_t s[32])
{
	static const char *n_hex =
		"0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
	rw_u256 n, v;
	u256_of_hex(&n, n_hex);
	assert_int_equal(rw_u256_from_be(&v, s, 32), 0);
	assert_int_equal(rw_u256_sub(&v, &n, &v), 0);
	rw_u256_to_be(s, &v);
}

static void reject_legacy(void **state)
{
	(void)state;
	size_t n;
	uint8_t *raw = tl_unhex(eip155_raw, &n);
	check_truncation(raw, n);

	/* fields: 0 nonce, 1 gasPrice, 2 gas, 3 to, 4 value, 5 data, 6 v, 7 r, 8 s */
	static const struct field_case cases[] = {
		{ 0, "00", RW_ENONCANON },
		{ 0, "820009", RW_ENONCANON },
		{ 0, "88ffffffffffffffff", 0 },
		{ 0, "89010000000000000000", RW_ERANGE },
		{ 0, "c0", RW_EINVAL },
		{ 1, "a1010000000000000000000000000000000000000000000000000000000000000000",
		  RW_ERANGE },
		{ 1, "a00000000000000000000000000000000000000000000000000000000000000001",
		  RW_ENONCANON },
		{ 2, "89010000000000000000", RW_ERANGE },
		{ 3, "80", 0 }, /* contract creation */
		{ 3, "9335353535353535353535353535353535353535", RW_EINVAL },
		{ 3, "95353535353535353535353535353535353535353535", RW_EINVAL },
		{ 3, "c0", RW_EINVAL },
		{ 3, "b8143535353535353535353535353535353535353535", RW_ENONCANON },
		{ 4, "c180", RW_EINVAL },
		{ 5, "c0", RW_EINVAL },
		{ 5, "8100", RW_ENONCANON },
		{ 6, "80", RW_EINVAL }, /* v = 0 */
		{ 6, "01", RW_EINVAL }, /* a y parity where a v belongs */
		{ 6, "1a", RW_EINVAL }, /* 26 */
		{ 6, "1b", 0 },         /* 27: pre-EIP-155 */
		{ 6, "1c", 0 },         /* 28 */
		{ 6, "1d", RW_EINVAL }, /* 29 */
		{ 6, "22", RW_EINVAL }, /* 34 */
		{ 6, "23", RW_EINVAL }, /* 35: chain id 0 */
		{ 6, "24", RW_EINVAL }, /* 36 */
		{ 6, "26", 0 },         /* 38: chain id 1, recid 1 */
		{ 6, "820025", RW_ENONCANON },
		{ 6, "c0", RW_EINVAL },
		{ 6, "8901ffffffffffffffff", 0 },         /* chain id 2^64 - 18 */
		{ 6, "89020000000000000023", RW_ERANGE }, /* chain id 2^64 */
		{ 7, "80", RW_EINVAL },                   /* r = 0 */
		{ 7, "a0fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
		  RW_EINVAL }, /* r = n */
		{ 7, "a0fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140",
		  0 }, /* r = n - 1 */
		{ 7, "a10028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276",
		  RW_ENONCANON },
		{ 7, "a10128ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276",
		  RW_ERANGE },
		{ 7, "c0", RW_EINVAL },
		{ 8, "80", RW_EINVAL }, /* s = 0 */
		{ 8, "a07fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0",
		  0 }, /* s = n/2 */
		{ 8, "a07fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a1",
		  RW_EINVAL }, /* s = n/2 + 1 */
		{ 8, "01", 0 },
	};
	check_field_cases(raw, n, cases, sizeof(cases) / sizeof(cases[0]));

	/* The high-s twin of the valid signature. */
	struct rw_tx tx;
	assert_int_equal(rw_tx_decode(&tx, raw, n), 0);
	uint8_t s_high[33] = { 0xa0 };
	memcpy(s_high + 1, tx.sig.s, 32);
	high_s(s_high + 1);
	struct fields f;
	split(&f, raw, n);
	set_field(&f, 8, s_high, 33);
	assert_int_equal(join_decode(&f), RW_EINVAL);
	fields_free(&f);

	/* Wrong field counts: 8, 10, and the 6 of an unsigned pre-EIP-155 tx. */
	split(&f, raw, n);
	drop_field(&f, 8);
	assert_int_equal(join_decode(&f), RW_EINVAL);
	set_field_hex(&f, 8, "01");
	set_field_hex(&f, 9, "80");
	assert_int_equal(join_decode(&f), RW_EINVAL);
	drop_field(&f, 9);
	drop_field(&f, 8);
	drop_field(&f, 7);
	drop_field(&f, 6);
	assert_int_equal(join_decode(&f), RW_EINVAL);
	fields_free(&f);
	assert_int_equal(join_decode(&f), RW_EINVAL); /* no fields at all */

	/* Legacy fields behind a type byte. */
	split(&f, raw, n);
	f.type = RW_TX_DYNAMIC_FEE;
	assert_int_equal(join_decode(&f), RW_EINVAL);
	f.type = RW_TX_ACCESS_LIST;
	assert_int_equal(join_decode(&f), RW_EINVAL);
	fields_free(&f);

	/* Failure leaves the output untouched. */
	struct rw_tx keep;
	memset(&keep, 0x5a, sizeof(keep));
	memcpy(&tx, &keep, sizeof(tx));
	assert_int_equal(rw_tx_decode(&tx, raw, n - 1), RW_ETRUNC);
	assert_memory_equal(&tx, &keep, sizeof(tx));
	free(raw);
}

static void reject_typed(void **state)
{
	(void)state;
	struct rw_tx tx;
	struct rw_access_tuple al[2];
	uint8_t keys[2][32];
	struct rw_buf b;
	type2_tx(&tx, al, keys);
	raw_of(&b, &tx);
	assert_round_trip(b.p, b.len, &tx);
	check_truncation(b.p, b.len);

	/* fields: 0 chainId, 1 nonce, 2 maxPriorityFee, 3 maxFee, 4 gas, 5 to,
	 * 6 value, 7 data, 8 accessList, 9 yParity, 10 r, 11 s */
	static const struct field_case cases[] = {
		{ 0, "80", 0 },
		{ 0, "89010000000000000000", RW_ERANGE },
		{ 0, "00", RW_ENONCANON },
		{ 1, "88ffffffffffffffff", 0 },
		{ 2, "a1010000000000000000000000000000000000000000000000000000000000000000",
		  RW_ERANGE },
		{ 3, "a0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 0 },
		{ 4, "89010000000000000000", RW_ERANGE },
		{ 5, "80", 0 },
		{ 5, "9335353535353535353535353535353535353535", RW_EINVAL },
		{ 8, "c0", 0 },
		{ 8, "80", RW_EINVAL },
		{ 8, "c180", RW_EINVAL },
		{ 8, "c2c180", RW_EINVAL }, /* tuple of one */
		{ 8, "d7d6941111111111111111111111111111111111111111c0", 0 },
		{ 8, "d6d59311111111111111111111111111111111111111c0", RW_EINVAL },
		{ 8, "d8d795111111111111111111111111111111111111111111c0", RW_EINVAL },
		{ 8, "d7d694111111111111111111111111111111111111111180", RW_EINVAL },
		{ 8, "d8d7941111111111111111111111111111111111111111c080", RW_EINVAL },
		{ 8,
		  "f7f6941111111111111111111111111111111111111111e09f333333333333333333333333333333"
		  "33333333333333333333333333333333",
		  RW_EINVAL }, /* a 31-byte key */
		{ 8,
		  "f83af838941111111111111111111111111111111111111111e2a133333333333333333333333333"
		  "3333333333333333333333333333333333333333",
		  RW_EINVAL }, /* a 33-byte key */
		{ 8,
		  "f83af838941111111111111111111111111111111111111111e2e1a0333333333333333333333333"
		  "3333333333333333333333333333333333333333",
		  RW_EINVAL }, /* a key inside a list */
		{ 9, "02", RW_EINVAL },
		{ 9, "00", RW_ENONCANON },
		{ 9, "1b", RW_EINVAL },
		{ 9, "c0", RW_EINVAL },
		{ 10, "80", RW_EINVAL },
		{ 11, "80", RW_EINVAL },
		{ 11, "a07fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a1",
		  RW_EINVAL },
	};
	check_field_cases(b.p, b.len, cases, sizeof(cases) / sizeof(cases[0]));

	/* The high-s twin, wrong counts, wrong type bytes. */
	struct fields f;
	uint8_t s_high[33] = { 0xa0 };
	memcpy(s_high + 1, tx.sig.s, 32);
	high_s(s_high + 1);
	split(&f, b.p, b.len);
	set_field(&f, 11, s_high, 33);
	assert_int_equal(join_decode(&f), RW_EINVAL);
	fields_free(&f);

	split(&f, b.p, b.len);
	drop_field(&f, 11);
	assert_int_equal(join_decode(&f), RW_EINVAL);
	fields_free(&f);
	split(&f, b.p, b.len);
	set_field_hex(&f, 12, "80");
	assert_int_equal(join_decode(&f), RW_EINVAL);
	fields_free(&f);

	split(&f, b.p, b.len);
	f.type = RW_TX_ACCESS_LIST; /* 12 fields where 11 belong */
	assert_int_equal(join_decode(&f), RW_EINVAL);
	f.type = -1; /* as legacy: 12 fields */
	assert_int_equal(join_decode(&f), RW_EINVAL);
	/* Without a fee it has the type-1 shape: it decodes (whether the
	 * signature matches is rw_tx_sender's business). */
	drop_field(&f, 2);
	f.type = RW_TX_ACCESS_LIST;
	assert_int_equal(join_decode(&f), 0);
	fields_free(&f);

	static const uint8_t bad_types[] = { 0x00, 0x03, 0x04, 0x05, 0x7e, 0x7f };
	for (size_t i = 0; i < sizeof(bad_types); i++) {
		uint8_t saved = b.p[0];
		b.p[0] = bad_types[i];
		assert_int_equal(rw_tx_decode(&tx, b.p, b.len), RW_EUNSUPPORTED);
		b.p[0] = saved;
	}
	static const char *misc[][2] = {
		{ "", "-4" },         { "02", "-4" },    { "01", "-4" },
		{ "0280", "-1" }, /* a string payload */
		{ "02c0", "-1" }, /* no fields */
		{ "80", "-1" },   /* a string is not a tx */
		{ "83646f67", "-1" }, { "b838", "-1" },  { "c0", "-1" },
		{ "02c0c0", "-6" },   { "03c0", "-12" },
	};
	for (size_t i = 0; i < sizeof(misc) / sizeof(misc[0]); i++) {
		size_t n;
		uint8_t *in = tl_unhex(misc[i][0], &n);
		int r = rw_tx_decode(&tx, in, n);
		if (r != atoi(misc[i][1]))
			fail_msg("%s: got %d, want %s", misc[i][0], r, misc[i][1]);
		free(in);
	}
	rw_buf_free(&b);
}

/* --- the API's own errors --------------------------------------------------- */

static void api_errors(void **state)
{
	(void)state;
	struct rw_tx tx;
	struct rw_buf b;
	uint8_t h[32], addr[20];
	rw_u256 v;
	eip155_tx(&tx);
	rw_buf_init(&b, RW_BUF_DEFAULT_MAX);

	/* Not signed. */
	assert_int_equal(rw_tx_encode_raw(&b, &tx), RW_EINVAL);
	assert_int_equal(rw_tx_hash(h, &tx), RW_EINVAL);
	assert_int_equal(rw_tx_sender(addr, &tx), RW_EINVAL);
	assert_int_equal(rw_tx_v(&v, &tx), RW_EINVAL);
	assert_int_equal(b.len, 0);

	/* Unknown types and inconsistent fields. */
	tx.type = 3;
	assert_int_equal(rw_tx_signing_payload(&b, &tx), RW_EUNSUPPORTED);
	assert_int_equal(rw_tx_signing_hash(h, &tx), RW_EUNSUPPORTED);
	tx.type = -1;
	assert_int_equal(rw_tx_signing_payload(&b, &tx), RW_EUNSUPPORTED);
	eip155_tx(&tx);
	tx.data_len = 1;
	assert_int_equal(rw_tx_signing_payload(&b, &tx), RW_EINVAL);
	eip155_tx(&tx);
	struct rw_access_tuple al = { { 0 }, NULL, 0 };
	tx.access_list = &al;
	tx.access_list_len = 1;
	assert_int_equal(rw_tx_signing_payload(&b, &tx), RW_EINVAL); /* legacy */
	tx.type = RW_TX_DYNAMIC_FEE;
	assert_int_equal(rw_tx_signing_payload(&b, &tx), 0);
	b.len = 0;
	al.storage_keys_len = 1;
	assert_int_equal(rw_tx_signing_payload(&b, &tx), RW_EINVAL);
	tx.access_list = NULL;
	assert_int_equal(rw_tx_signing_payload(&b, &tx), RW_EINVAL);
	assert_int_equal(b.len, 0);

	/* Malformed signatures are refused by every signed operation. */
	eip155_tx(&tx);
	assert_int_equal(rw_tx_sign(&tx, key46), 0);
	struct rw_tx good = tx;
	tx.sig.recid = 2;
	assert_int_equal(rw_tx_encode_raw(&b, &tx), RW_EINVAL);
	assert_int_equal(rw_tx_sender(addr, &tx), RW_EINVAL);
	assert_int_equal(rw_tx_v(&v, &tx), RW_EINVAL);
	tx = good;
	high_s(tx.sig.s);
	assert_int_equal(rw_tx_encode_raw(&b, &tx), RW_EINVAL);
	assert_int_equal(rw_tx_hash(h, &tx), RW_EINVAL);
	assert_int_equal(rw_tx_sender(addr, &tx), RW_EINVAL);
	tx = good;
	memset(tx.sig.r, 0, 32);
	assert_int_equal(rw_tx_encode_raw(&b, &tx), RW_EINVAL);
	assert_int_equal(b.len, 0);

	/* A key that is not a key: tx unchanged. */
	tx = good;
	uint8_t zero[32] = { 0 };
	assert_int_equal(rw_tx_sign(&tx, zero), RW_ECRYPTO);
	assert_memory_equal(&tx, &good, sizeof(tx));

	/* The buffer's ceiling: refused, and the buffer keeps its length. */
	struct rw_buf small;
	rw_buf_init(&small, 100);
	assert_int_equal(rw_buf_append(&small, "abc", 3), 0);
	assert_int_equal(rw_tx_encode_raw(&small, &tx), RW_ETOOBIG);
	assert_int_equal(small.len, 3);
	assert_int_equal(rw_tx_signing_payload(&small, &tx), 0);
	assert_memory_equal(small.p, "abc", 3);
	tl_assert_hex(small.p + 3, small.len - 3, eip155_payload);
	rw_buf_free(&small);

	/* rw_tx_free accepts NULL and a freed tx. */
	rw_tx_free(NULL);
	size_t n;
	uint8_t *raw = tl_unhex(eip155_raw, &n);
	struct rw_tx dec;
	assert_int_equal(rw_tx_decode(&dec, raw, n), 0);
	rw_tx_free(&dec);
	rw_tx_free(&dec);
	assert_null(dec.data);
	assert_null(dec.access_list);
	free(raw);
	rw_buf_free(&b);
}

/* Limits ethers cannot produce (nonce 2^64 - 1), the pre-EIP-155 form,
 * and a large access list. */
static void extremes(void **state)
{
	(void)state;
	uint8_t addr[20], want[20];
	assert_int_equal(rw_key_address(want, key46), 0);
	for (int type = 0; type <= 2; type++) {
		for (int pre155 = 0; pre155 <= (type == 0); pre155++) {
			struct rw_tx tx;
			struct rw_buf b;
			eip155_tx(&tx);
			tx.type = type;
			tx.chain_id = pre155 ? 0 : UINT64_MAX;
			tx.nonce = UINT64_MAX;
			tx.gas = UINT64_MAX;
			tx.has_to = 0;
			assert_int_equal(rw_tx_sign(&tx, key46), 0);
			raw_of(&b, &tx);
			assert_round_trip(b.p, b.len, &tx);
			assert_int_equal(rw_tx_sender(addr, &tx), 0);
			assert_memory_equal(addr, want, 20);
			rw_u256 v;
			assert_int_equal(rw_tx_v(&v, &tx), 0);
			uint64_t v64;
			if (type != 0) {
				assert_int_equal(rw_u256_to_u64(&v64, &v), 0);
				assert_int_equal(v64, (uint64_t)tx.sig.recid);
			} else if (pre155) {
				assert_int_equal(rw_u256_to_u64(&v64, &v), 0);
				assert_int_equal(v64, 27 + (uint64_t)tx.sig.recid);
				/* The payload has six fields: no chain id. */
				struct rw_buf p;
				struct rw_rlp_item list;
				rw_buf_init(&p, RW_BUF_DEFAULT_MAX);
				assert_int_equal(rw_tx_signing_payload(&p, &tx), 0);
				assert_int_equal(rw_rlp_decode(&list, p.p, p.len), 0);
				assert_int_equal(rw_rlp_list_count(&list), 6);
				rw_buf_free(&p);
			} else {
				assert_int_equal(rw_u256_to_u64(&v64, &v), RW_ERANGE);
			}
			rw_buf_free(&b);
		}
	}

	/* 1000 tuples of 0..3 keys. */
	struct rw_tx tx;
	eip155_tx(&tx);
	tx.type = RW_TX_ACCESS_LIST;
	tx.access_list_len = 1000;
	tx.access_list = calloc(1000, sizeof(*tx.access_list));
	assert_non_null(tx.access_list);
	for (size_t i = 0; i < 1000; i++) {
		struct rw_access_tuple *t = &tx.access_list[i];
		memcpy(t->address, &i, sizeof(i));
		t->storage_keys_len = i % 4;
		if (t->storage_keys_len) {
			t->storage_keys = calloc(t->storage_keys_len, 32);
			assert_non_null(t->storage_keys);
			t->storage_keys[0][0] = (uint8_t)i;
		}
	}
	assert_int_equal(rw_tx_sign(&tx, key46), 0);
	struct rw_buf b;
	raw_of(&b, &tx);
	assert_round_trip(b.p, b.len, &tx);
	assert_int_equal(rw_tx_sender(addr, &tx), 0);
	assert_memory_equal(addr, want, 20);
	rw_buf_free(&b);
	rw_tx_free(&tx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(eip155_example),   cmocka_unit_test(ethers_vectors),
		cmocka_unit_test(leading_zero_r_s), cmocka_unit_test(reject_legacy),
		cmocka_unit_test(reject_typed),     cmocka_unit_test(api_errors),
		cmocka_unit_test(extremes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
