/* cmd_tx.c: `runway tx sign` (offline signing) and `runway tx decode`;
 * `runway tx list|show|bump|cancel` (the relayer's transactions) live in
 * cmd_txqueue.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cmd.h"
#include "err.h"
#include "hex.h"
#include "key.h"
#include "secret.h"
#include "tx.h"
#include "txjson.h"

/* Largest transaction JSON or raw hex text read. */
#define INPUT_MAX ((size_t)32 << 20)

static const char sign_usage[] =
	"Usage: runway tx sign [FILE] (--keystore FILE | --key-file FILE) [options]\n"
	"\n"
	"Signs one transaction offline. Reads it as a JSON object from FILE or\n"
	"standard input, with the field names of the Ethereum JSON-RPC\n"
	"transaction object: type (0x0 legacy, 0x1, 0x2 EIP-1559; inferred from\n"
	"the fee fields when absent), chainId, nonce, gas, gasPrice or\n"
	"maxFeePerGas + maxPriorityFeePerGas, to (absent or null: contract\n"
	"creation), value, data or input, accessList. Quantities are 0x-hex or\n"
	"decimal strings. A \"from\" field, when present, must be the key's address.\n"
	"\n"
	"Prints the raw signed transaction (0x-hex) on the first line, then its\n"
	"hash and sender; with --json an object with raw, hash, from and the fields.\n"
	"\n"
	"Options:\n";

static const char decode_usage[] =
	"Usage: runway tx decode RAW|-\n"
	"\n"
	"Decodes a raw signed transaction (0x-hex; - reads it from standard input)\n"
	"and prints its fields, hash and recovered sender. With --json, an object\n"
	"with the JSON-RPC field names plus from and hash.\n";

static const char usage[] =
	"Usage: runway tx sign [FILE] (--keystore FILE | --key-file FILE)\n"
	"       runway tx decode RAW|-\n"
	"       runway tx list [--signer ADDR] [--state S] [--chain ID] [--limit N]\n"
	"       runway tx show SIGNER:NONCE|HASH\n"
	"       runway tx bump SIGNER:NONCE|HASH [--wait [--timeout D]]\n"
	"       runway tx cancel SIGNER:NONCE|HASH [--wait [--timeout D]]\n"
	"\n"
	"sign    sign a transaction given as JSON, offline\n"
	"decode  print a raw transaction's fields, hash and sender\n"
	"list    the relayer's transactions (attempts), newest first\n"
	"show    one nonce of a relayer signer: attempts, receipt, requests, history\n"
	"bump    ask the running relayer to replace a nonce's transaction now with\n"
	"        bumped fees\n"
	"cancel  ask the running relayer to replace an intent's transaction with a\n"
	"        no-op at its nonce (the intent ends cancelled when it is mined)\n"
	"\n"
	"`runway tx SUBCOMMAND --help` says more.\n";

/* Reads all of FILE (or standard input for NULL or "-") into a
 * NUL-terminated buffer with a ceiling. Returns 0 or -1 after a message. */
static int read_input(const struct rw_cli *cli, const char *path, struct rw_buf *out)
{
	FILE *f = stdin;
	if (path && strcmp(path, "-") != 0) {
		f = fopen(path, "rb");
		if (!f) {
			rw_cli_err(cli, "cannot open %s: %s", path, strerror(errno));
			return -1;
		}
	}
	rw_buf_init(out, INPUT_MAX);
	char chunk[65536];
	size_t n;
	int r = 0;
	while (r == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		r = rw_buf_append(out, chunk, n);
	int read_err = ferror(f);
	if (f != stdin)
		fclose(f);
	if (r == 0)
		r = rw_buf_push(out, 0);
	if (r < 0 || read_err) {
		rw_cli_err(cli, "cannot read %s: %s",
			   path && strcmp(path, "-") ? path : "standard input",
			   read_err          ? "read error"
			   : r == RW_ETOOBIG ? "larger than 32 MiB"
					     : rw_strerror(r));
		rw_buf_free(out);
		return -1;
	}
	out->len--; /* the NUL is not part of the text */
	return 0;
}

/* Prints a JSON value on standard output. */
static void print_json(const json_t *o)
{
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
}

/* Prints the fields of a JSON transaction object as aligned text. */
static void print_text(const json_t *o)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)o, key, v)
	{
		if (json_is_string(v)) {
			printf("%-22s %s\n", key, json_string_value(v));
		} else if (json_is_null(v)) {
			printf("%-22s %s\n", key,
			       strcmp(key, "to") == 0 ? "(contract creation)" : "null");
		} else if (json_is_array(v)) {
			printf("%-22s %zu entr%s\n", key, json_array_size(v),
			       json_array_size(v) == 1 ? "y" : "ies");
			size_t i;
			json_t *e;
			json_array_foreach(v, i, e)
			{
				printf("  %s\n", json_string_value(json_object_get(e, "address")));
				size_t k;
				json_t *sk;
				json_array_foreach(json_object_get(e, "storageKeys"), k, sk)
					printf("    %s\n", json_string_value(sk));
			}
		}
	}
}

/* Signs tx with sk and prints the result. Returns an exit code. */
static int sign_and_print(const struct rw_cli *cli, struct rw_tx *tx, const uint8_t sk[32],
			  const uint8_t *want_from)
{
	uint8_t from[20], hash[32];
	int r = rw_key_address(from, sk);
	if (r == 0 && want_from && memcmp(want_from, from, 20) != 0) {
		char a[43], b[43];
		rw_addr_checksum(a, want_from);
		rw_addr_checksum(b, from);
		rw_cli_err(cli, "field 'from': %s is not the signing key's address %s", a, b);
		return RW_EXIT_FAIL;
	}
	if (r == 0)
		r = rw_tx_sign(tx, sk);
	struct rw_buf raw;
	rw_buf_init(&raw, RW_BUF_DEFAULT_MAX);
	if (r == 0)
		r = rw_tx_encode_raw(&raw, tx);
	if (r == 0)
		r = rw_tx_hash(hash, tx);
	if (r < 0) {
		rw_buf_free(&raw);
		rw_cli_err(cli, "cannot sign the transaction: %s", rw_strerror(r));
		return RW_EXIT_FAIL;
	}
	char *rawhex = rw_hex_encode_alloc(raw.p, raw.len);
	rw_buf_free(&raw);
	json_t *o = rw_txjson_build(tx, hash, from);
	if (!rawhex || !o) {
		free(rawhex);
		json_decref(o);
		rw_cli_err(cli, "out of memory");
		return RW_EXIT_FAIL;
	}
	if (cli->json) {
		json_t *out = json_pack("{s:s}", "raw", rawhex);
		json_object_update(out, o);
		print_json(out);
		json_decref(out);
	} else {
		printf("%s\nhash %s\nfrom %s\n", rawhex,
		       json_string_value(json_object_get(o, "hash")),
		       json_string_value(json_object_get(o, "from")));
	}
	free(rawhex);
	json_decref(o);
	return RW_EXIT_OK;
}

static int tx_sign(struct rw_cli *cli, int argc, char **argv)
{
	struct rw_secret_opts so;
	memset(&so, 0, sizeof(so));
	const char *file = NULL;
	for (int i = 2; i < argc; i++) {
		int r;
		if (rw_cli_is_help(argv[i])) {
			fputs(sign_usage, stdout);
			fputs(rw_secret_help, stdout);
			return RW_EXIT_OK;
		}
		if ((r = rw_secret_take_opt(cli, &so, argc, argv, &i)) != 0) {
			if (r < 0)
				return RW_EXIT_USAGE;
			continue;
		}
		if (argv[i][0] == '-' && strcmp(argv[i], "-") != 0)
			return rw_cli_usage(cli, "tx sign: unknown option '%s'", argv[i]);
		if (file)
			return rw_cli_usage(cli, "tx sign takes one input file");
		file = argv[i];
	}
	if (!so.keystore == !so.key_file)
		return rw_cli_usage(
			cli, "tx sign needs exactly one of --keystore FILE and --key-file FILE");
	if (so.key_file && strcmp(so.key_file, "-") == 0 && (!file || strcmp(file, "-") == 0))
		return rw_cli_usage(
			cli, "the key and the transaction cannot both come from standard input");

	struct rw_buf in;
	if (read_input(cli, file, &in) < 0)
		return RW_EXIT_FAIL;
	json_error_t jerr;
	json_t *obj = json_loadb((const char *)in.p, in.len, JSON_REJECT_DUPLICATES, &jerr);
	rw_buf_free(&in);
	if (!obj) {
		rw_cli_err(cli, "%s: not valid JSON at line %d, column %d: %s",
			   file && strcmp(file, "-") ? file : "standard input", jerr.line,
			   jerr.column, jerr.text);
		return RW_EXIT_FAIL;
	}
	struct rw_tx tx;
	uint8_t want_from[20];
	int has_from;
	char err[512];
	int r = rw_txjson_parse(&tx, want_from, &has_from, obj, err, sizeof(err));
	json_decref(obj);
	if (r < 0) {
		rw_cli_err(cli, "transaction refused: %s", err);
		return RW_EXIT_FAIL;
	}
	uint8_t sk[32];
	int usage_err;
	if (rw_secret_load_key(cli, &so, sk, &usage_err) < 0) {
		rw_tx_free(&tx);
		return usage_err ? RW_EXIT_USAGE : RW_EXIT_FAIL;
	}
	int rc = sign_and_print(cli, &tx, sk, has_from ? want_from : NULL);
	rw_wipe(sk, sizeof(sk));
	rw_tx_free(&tx);
	return rc;
}

/* Explains a decoding error in words. */
static const char *decode_reason(int r)
{
	switch (r) {
	case RW_ETRUNC: return "the bytes end before the transaction does";
	case RW_ETRAILING: return "bytes follow the transaction";
	case RW_ENONCANON: return "non-canonical encoding (RLP or an integer with leading zeros)";
	case RW_ERANGE: return "a field is out of range";
	case RW_EUNSUPPORTED: return "unsupported transaction type";
	case RW_EINVAL: return "malformed transaction or signature";
	default: return rw_strerror(r);
	}
}

static int tx_decode(struct rw_cli *cli, int argc, char **argv)
{
	const char *arg = NULL;
	for (int i = 2; i < argc; i++) {
		if (rw_cli_is_help(argv[i])) {
			fputs(decode_usage, stdout);
			return RW_EXIT_OK;
		}
		if (argv[i][0] == '-' && strcmp(argv[i], "-") != 0 && argv[i][1] != '\0')
			return rw_cli_usage(cli, "tx decode: unknown option '%s'", argv[i]);
		if (arg)
			return rw_cli_usage(cli, "tx decode takes one raw transaction");
		arg = argv[i];
	}
	if (!arg)
		return rw_cli_usage(cli,
				    "tx decode needs a raw transaction (0x-hex, or - for stdin)");
	struct rw_buf text;
	const char *hex = arg;
	size_t hexlen = strlen(arg);
	rw_buf_init(&text, 0);
	if (strcmp(arg, "-") == 0) {
		if (read_input(cli, "-", &text) < 0)
			return RW_EXIT_FAIL;
		hex = (const char *)text.p;
		hexlen = text.len;
		while (hexlen && (hex[hexlen - 1] == '\n' || hex[hexlen - 1] == '\r' ||
				  hex[hexlen - 1] == ' '))
			hexlen--;
	}
	struct rw_buf raw;
	rw_buf_init(&raw, INPUT_MAX);
	int r = rw_hex_decode_buf(&raw, hex, hexlen, RW_HEX_PREFIX_REQUIRED);
	rw_buf_free(&text);
	if (r < 0) {
		rw_buf_free(&raw);
		rw_cli_err(cli,
			   "tx decode: the raw transaction must be 0x-prefixed hex with an even "
			   "number of digits");
		return RW_EXIT_FAIL;
	}
	struct rw_tx tx;
	r = rw_tx_decode(&tx, raw.p, raw.len);
	if (r < 0) {
		rw_buf_free(&raw);
		rw_cli_err(cli, "tx decode: %s", decode_reason(r));
		return RW_EXIT_FAIL;
	}
	uint8_t hash[32], from[20];
	r = rw_tx_hash(hash, &tx);
	if (r == 0)
		r = rw_tx_sender(from, &tx);
	rw_buf_free(&raw);
	if (r < 0) {
		rw_tx_free(&tx);
		rw_cli_err(cli, "tx decode: cannot recover the sender: %s", rw_strerror(r));
		return RW_EXIT_FAIL;
	}
	json_t *o = rw_txjson_build(&tx, hash, from);
	rw_tx_free(&tx);
	if (!o) {
		rw_cli_err(cli, "out of memory");
		return RW_EXIT_FAIL;
	}
	if (cli->json)
		print_json(o);
	else
		print_text(o);
	json_decref(o);
	return RW_EXIT_OK;
}

int rw_cmd_tx(struct rw_cli *cli, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct rw_cli *cli, int argc, char **argv);
	} subs[] = {
		{ "sign", tx_sign },        { "decode", tx_decode },
		{ "list", rw_cmd_txqueue }, { "show", rw_cmd_txqueue },
		{ "bump", rw_cmd_txqueue }, { "cancel", rw_cmd_txqueue },
	};
	size_t i;
	int rc;
	if (!rw_cli_subcommand(&i, &rc, cli, "tx", usage, subs, sizeof(subs[0]), RW_NELEM(subs),
			       argc, argv))
		return rc;
	return subs[i].run(cli, argc, argv);
}
