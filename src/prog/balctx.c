/* balctx.c: what the commands on a Balance contract share (see balctx.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balctx.h"
#include "err.h"
#include "hex.h"
#include "key.h"

int rw_balctx_open(struct rw_balctx *c)
{
	if (rw_cli_config(c->cli, &c->cfg) != 0)
		return RW_EXIT_FAIL;
	return rw_pgsync_connect(&c->db, &c->db_open, c->cli, c->cfg);
}

void rw_balctx_close(struct rw_balctx *c)
{
	if (c->db_open)
		rw_pgsync_close(&c->db);
	c->cfg = rw_config_free(c->cfg);
}

int rw_balctx_run(struct rw_cli *cli, int argc, char **argv, int allow, const char *help,
		  rw_balctx_parse_fn *parse, rw_balctx_run_fn *run, void *opts)
{
	int rc = parse(cli, argc, argv, allow, help, opts);
	if (rc == RW_BALCTX_HELP_SHOWN)
		return RW_EXIT_OK;
	if (rc != 0)
		return rc;
	struct rw_balctx c = { .cli = cli };
	rc = rw_balctx_open(&c);
	if (rc == 0)
		rc = run(&c, opts);
	rw_balctx_close(&c);
	return rc;
}

int rw_balctx_query_text(struct rw_balctx *c, const char *sql, int n, const char *const *params,
			 char **ret)
{
	return rw_pgsync_text(ret, &c->db, c->cli, sql, n, params);
}

json_t *rw_balctx_json(struct rw_balctx *c, const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	if (!j)
		rw_cli_err(c->cli, "unreadable answer from the database: %s", e.text);
	return j;
}

int rw_balctx_query_array(struct rw_balctx *c, const char *sql, int n, const char *const *params,
			  const char *const *keys, size_t n_keys, json_t **ret)
{
	char *text;
	*ret = NULL;
	int rc = rw_balctx_query_text(c, sql, n, params, &text);
	if (rc != 0)
		return rc;
	json_t *j = text ? rw_balctx_json(c, text) : NULL;
	free(text);
	if (!json_is_array(j)) {
		json_decref(j);
		return RW_EXIT_FAIL;
	}
	for (size_t i = 0; i < json_array_size(j); i++)
		rw_balctx_checksum(json_array_get(j, i), keys, n_keys);
	*ret = j;
	return 0;
}

int rw_balctx_show_first(struct rw_balctx *c, const json_t *arr, const char *what, const char *id,
			 void (*print)(const json_t *obj))
{
	const json_t *o = json_array_get(arr, 0);
	if (!o) {
		rw_cli_err(c->cli, "%s %s vanished", what, id);
		return RW_EXIT_FAIL;
	}
	return rw_balctx_show(c, o, print);
}

int rw_balctx_show(struct rw_balctx *c, const json_t *j, void (*print)(const json_t *j))
{
	if (c->cli->json)
		return rw_balctx_print_json(j);
	print(j);
	return RW_EXIT_OK;
}

int rw_balctx_target(struct rw_balctx *c, const char *chain_id, const char *balance_hex,
		     struct rw_baltarget *t)
{
	const char *chain = chain_id;
	const char *balance = balance_hex;
	char cfg_chain[24], cfg_balance[43];
	if (!balance && c->cfg) {
		size_t found = 0;
		for (size_t i = 0; i < c->cfg->n_chains; i++) {
			const struct rw_config_chain *ch = &c->cfg->chains[i];
			if (chain && strtoull(chain, NULL, 10) != ch->chain_id)
				continue;
			for (size_t j = 0; j < ch->n_balances; j++, found++) {
				snprintf(cfg_chain, sizeof(cfg_chain), "%llu",
					 (unsigned long long)ch->chain_id);
				rw_hex_encode(cfg_balance, ch->balances[j].address, 20, 1);
			}
		}
		if (found == 0) {
			rw_cli_err(c->cli, "%s names no Balance contract%s%s: give --balance ADDR",
				   c->cfg->path, chain ? " on chain " : "", chain ? chain : "");
			return RW_EXIT_FAIL;
		}
		if (found > 1)
			return rw_cli_usage(
				c->cli,
				"%s names %zu Balance contracts: choose one with --balance ADDR",
				c->cfg->path, found);
		chain = cfg_chain;
		balance = cfg_balance;
	}
	const char *params[] = { chain, balance };
	struct rw_pgsync_err err;
	PGresult *r = rw_pgsync_exec(
		&c->db,
		"SELECT b.chain_id::text, rw_hex(b.address), t.decimals::text, t.symbol "
		"FROM balance_info b LEFT JOIN token t ON t.chain_id = b.chain_id AND "
		"t.address = b.token "
		"WHERE ($1::bigint IS NULL OR b.chain_id = $1::bigint) AND "
		"($2::text IS NULL OR b.address = rw_unhex($2::text)) "
		"ORDER BY b.chain_id, b.address",
		2, params, &err);
	if (!r)
		return rw_pgsync_fail(c->cli, &err);
	int n = PQntuples(r), rc = 0;
	if (n == 0) {
		if (balance)
			rw_cli_err(c->cli,
				   "Balance contract %s is not known to the database%s%s (runwayd "
				   "records the configured ones when it starts)",
				   balance, chain ? " on chain " : "", chain ? chain : "");
		else
			rw_cli_err(c->cli, "the database knows no Balance contract%s%s",
				   chain ? " on chain " : "", chain ? chain : "");
		rc = RW_EXIT_FAIL;
	} else if (n > 1 && balance) {
		rc = rw_cli_usage(c->cli,
				  "Balance contract %s is known on %d chains: choose one with "
				  "--chain-id N",
				  balance, n);
	} else if (n > 1) {
		rc = rw_cli_usage(
			c->cli,
			"the database knows %d Balance contracts: choose one with --balance "
			"ADDR",
			n);
	} else {
		snprintf(t->chain_id, sizeof(t->chain_id), "%s", PQgetvalue(r, 0, 0));
		snprintf(t->balance, sizeof(t->balance), "%s", PQgetvalue(r, 0, 1));
		t->decimals = PQgetisnull(r, 0, 2) ? -1 : atoi(PQgetvalue(r, 0, 2));
		snprintf(t->symbol, sizeof(t->symbol), "%s", PQgetvalue(r, 0, 3));
	}
	PQclear(r);
	return rc;
}

int rw_balctx_amount(struct rw_balctx *c, const struct rw_baltarget *t, const char *opt,
		     const char *s, int nonzero, char out[RW_U256_DEC_MAX])
{
	if (t->decimals < 0) {
		rw_cli_err(c->cli,
			   "the token of Balance contract %s is not in the token table: its "
			   "decimals are unknown",
			   t->balance);
		return RW_EXIT_FAIL;
	}
	rw_u256 v;
	int r = rw_u256_parse_units(&v, s, strlen(s), (unsigned)t->decimals);
	const char *dot = strchr(s, '.');
	if (r == RW_ERANGE && dot && strlen(dot + 1) > (size_t)t->decimals)
		return rw_cli_usage(
			c->cli, "%s %s has more decimals than %s's %d: amounts are never rounded",
			opt, s, t->symbol[0] ? t->symbol : "the token", t->decimals);
	if (r == RW_ERANGE)
		return rw_cli_usage(c->cli, "%s %s does not fit in uint256", opt, s);
	if (r < 0)
		return rw_cli_usage(c->cli, "%s '%s' is not a decimal amount (e.g. 100 or 99.5)",
				    opt, s);
	if (nonzero && rw_u256_is_zero(&v))
		return rw_cli_usage(c->cli, "%s must be above 0", opt);
	rw_u256_format_dec(out, &v);
	return 0;
}

const char *rw_balctx_str(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : "";
}

const char *rw_balctx_show_amount(char *buf, size_t n, const json_t *o, const char *key)
{
	char k[64];
	snprintf(k, sizeof(k), "%s_units", key);
	const char *u = json_string_value(json_object_get(o, k));
	const char *sym = rw_balctx_str(o, "symbol");
	if (u)
		snprintf(buf, n, "%s %s", u, sym[0] ? sym : "tokens");
	else
		snprintf(buf, n, "%s base units", rw_balctx_str(o, key));
	return buf;
}

void rw_balctx_checksum(json_t *o, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = json_string_value(json_object_get(o, keys[i]));
		uint8_t a[20];
		char out[43];
		if (!v || rw_addr_parse(a, v, strlen(v)) < 0)
			continue;
		rw_addr_checksum(out, a);
		json_object_set_new(o, keys[i], json_string(out));
	}
}

int rw_balctx_print_json(const json_t *j)
{
	int rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	return rc == 0 ? RW_EXIT_OK : RW_EXIT_FAIL;
}
