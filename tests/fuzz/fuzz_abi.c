/* fuzz_abi.c: the ABI decoder, encoder and type parser.
 *
 * The first byte picks a mode:
 *   0x00..0xef: decode the rest with types[byte % NTYPES]; on success the
 *               value is encoded, decoded again and encoded again: both
 *               values and both encodings must be equal (abort otherwise).
 *   0xf0..0xfd: decode an event log: 4 topics (the first replaced by the
 *               event's own topic when the byte is even), then the data.
 *   0xfe:       parse the rest as a function signature; its canonical form
 *               must parse to itself.
 *   0xff:       parse the rest as a type; same check on its text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const type_text[] = {
	"(uint256)",
	"(address,bool,uint8,int8,bytes3)",
	"(bytes)",
	"(string)",
	"(uint256[])",
	"(bytes,bool,uint256[])",
	"(uint256,uint32[],bytes10,bytes)",
	"(uint256[][],string[])",
	"((uint256,bytes)[2][])",
	"(string[][])",
	"((address,uint256[])[])",
	"(int16[2][],(bool,(string,bytes32)[]))",
	"(bytes3[2])",
	"((),uint8)",
	"(string[3],int256)",
	"(((uint8)[])[],bytes[2])",
};
#define NTYPES (sizeof(type_text) / sizeof(type_text[0]))

static struct rw_abi_type *types[NTYPES];
static struct rw_abi_event *event;

static void init(void)
{
	if (event)
		return;
	for (size_t i = 0; i < NTYPES; i++)
		if (rw_abi_type_parse(&types[i], type_text[i], strlen(type_text[i])) < 0)
			abort();
	const char *ev =
		"Ev(address indexed a,string indexed s,uint256[] v,int8 indexed i,bytes b)";
	if (rw_abi_event_parse(&event, ev, strlen(ev)) < 0)
		abort();
}

/* Encodes v; returns the encoding (malloc) and its length, or aborts. */
static uint8_t *encode(const struct rw_abi_type *t, const struct rw_abi_value *v, size_t *ret_len)
{
	struct rw_buf b;
	rw_buf_init(&b, (size_t)1 << 26);
	if (rw_abi_encode(&b, t, v) < 0)
		abort(); /* a decoded value always encodes */
	uint8_t *p = malloc(b.len ? b.len : 1);
	if (!p)
		abort();
	if (b.len)
		memcpy(p, b.p, b.len);
	*ret_len = b.len;
	rw_buf_free(&b);
	return p;
}

static void fuzz_decode(const struct rw_abi_type *t, const uint8_t *data, size_t size)
{
	struct rw_abi_value *v = NULL, *v2 = NULL;
	if (rw_abi_decode(&v, t, data, size) < 0) {
		if (v)
			abort(); /* untouched on failure */
		return;
	}
	size_t n1, n2;
	uint8_t *e1 = encode(t, v, &n1);
	if (rw_abi_decode(&v2, t, e1, n1) < 0)
		abort();
	if (!rw_abi_value_eq(t, v, v2))
		abort();
	uint8_t *e2 = encode(t, v2, &n2);
	if (n1 != n2 || memcmp(e1, e2, n1) != 0)
		abort();
	/* The canonical encoding is never longer than what was read. */
	rw_abi_value_free(v2);
	rw_abi_value_free(v);
	free(e2);
	free(e1);
}

static void fuzz_event(int own_topic, const uint8_t *data, size_t size)
{
	uint8_t topics[4][32];
	if (size < sizeof(topics))
		return;
	memcpy(topics, data, sizeof(topics));
	if (own_topic)
		memcpy(topics[0], event->topic, 32);
	struct rw_abi_value *v = NULL;
	if (rw_abi_event_decode(&v, event, (const uint8_t(*)[32])topics, 4, data + sizeof(topics),
				size - sizeof(topics)) == 0)
		rw_abi_value_free(v);
}

/* Formats t into a NUL-terminated heap string, or aborts. */
static char *format(const struct rw_abi_type *t)
{
	struct rw_buf b;
	rw_buf_init(&b, RW_BUF_DEFAULT_MAX);
	if (rw_abi_type_format(&b, t) < 0 || rw_buf_push(&b, 0) < 0)
		abort();
	char *s = malloc(b.len);
	if (!s)
		abort();
	memcpy(s, b.p, b.len);
	rw_buf_free(&b);
	return s;
}

static void fuzz_type(const char *s, size_t n)
{
	struct rw_abi_type *t = NULL, *t2 = NULL;
	if (rw_abi_type_parse(&t, s, n) < 0)
		return;
	char *c = format(t);
	if (rw_abi_type_parse(&t2, c, strlen(c)) < 0)
		abort();
	char *c2 = format(t2);
	if (strcmp(c, c2) != 0 || t->head != t2->head || t->dynamic != t2->dynamic)
		abort();
	free(c2);
	free(c);
	rw_abi_type_free(t2);
	rw_abi_type_free(t);
}

static void fuzz_func(const char *s, size_t n)
{
	struct rw_abi_func *f = NULL, *f2 = NULL;
	if (rw_abi_func_parse(&f, s, n) < 0)
		return;
	if (rw_abi_func_parse(&f2, f->signature, strlen(f->signature)) < 0)
		abort();
	if (strcmp(f->signature, f2->signature) != 0 || memcmp(f->selector, f2->selector, 4) != 0)
		abort();
	rw_abi_func_free(f2);
	rw_abi_func_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init();
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	data++;
	size--;
	if (mode < 0xf0)
		fuzz_decode(types[mode % NTYPES], data, size);
	else if (mode < 0xfe)
		fuzz_event(mode % 2 == 0, data, size);
	else if (mode == 0xfe)
		fuzz_func((const char *)data, size);
	else
		fuzz_type((const char *)data, size);
	return 0;
}
