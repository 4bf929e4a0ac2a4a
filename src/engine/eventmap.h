/* eventmap.h: the event map: which ABI event of which contract kind goes
 * to which table, and with which columns (src/engine/INDEXER.md).
 *
 * The map file (abi/events.json) is a JSON array of entries
 *   {"kind": "TestToken", "event": "Transfer", "table": "ev_erc20_transfer",
 *    "columns": {"from": "from_address", "to": "to_address"}}
 * where kind names the ABI file <abi_dir>/<kind>.json (its "abi" array),
 * event is an event name (or a full signature "Transfer(address,address,
 * uint256)" when the ABI overloads the name), and columns optionally
 * renames parameters (default: the parameter name in snake_case,
 * "arg<i>" for an unnamed one). Unknown keys are errors.
 *
 * Each entry becomes a descriptor: topic 0, the rw_abi_event, the table and
 * its ordered columns: the seven leading ones (chain_id, block_number,
 * block_hash, tx_hash, tx_index, log_index, address), then one per event
 * parameter in declaration order, each with its SQL type:
 *   address, bytesN, bytes     -> bytea
 *   uintN, intN                -> numeric(78,0)
 *   bool                       -> boolean
 *   string                     -> text
 *   indexed string, bytes, array or tuple -> bytea (its 32-byte topic)
 *   array or tuple, not indexed -> jsonb
 * Table and column names match [a-z_][a-z0-9_]* (at most 63 characters)
 * and are not PostgreSQL reserved words; a table is mapped once, a (kind,
 * event) pair once, and no table may be one of runway's own (chain,
 * chain_head, runway_migrations, indexer_*), since reorgs delete from
 * every mapped table.
 *
 * The schema check at start is split so that its logic needs no database:
 * rw_eventmap_schema_query gives the SQL, the caller runs it, and
 * rw_eventmap_schema_check compares the rows with the descriptors. */
#ifndef RW_EVENTMAP_H
#define RW_EVENTMAP_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"

/* Limits. */
#define RW_EVENTMAP_MAX_FILE    ((size_t)16 << 20) /* bytes of the map or an ABI file */
#define RW_EVENTMAP_MAX_ENTRIES 1024
#define RW_EVENTMAP_NAME_MAX    63   /* PostgreSQL's identifier length */
#define RW_EVENTMAP_LEADING     7    /* leading columns of every event table */
#define RW_EVENTMAP_ERRLEN      1024 /* an error buffer this long holds any message */

/* The SQL types of event table columns. */
enum rw_eventmap_sql {
	RW_EVENTMAP_BIGINT,
	RW_EVENTMAP_INTEGER,
	RW_EVENTMAP_BYTEA,
	RW_EVENTMAP_NUMERIC, /* numeric(78,0) */
	RW_EVENTMAP_BOOLEAN,
	RW_EVENTMAP_TEXT,
	RW_EVENTMAP_JSONB
};

/* What a column holds. */
enum rw_eventmap_field {
	RW_EVENTMAP_CHAIN_ID,     /* bigint */
	RW_EVENTMAP_BLOCK_NUMBER, /* bigint */
	RW_EVENTMAP_BLOCK_HASH,   /* bytea, 32 bytes */
	RW_EVENTMAP_TX_HASH,      /* bytea, 32 bytes */
	RW_EVENTMAP_TX_INDEX,     /* integer */
	RW_EVENTMAP_LOG_INDEX,    /* integer */
	RW_EVENTMAP_ADDRESS,      /* bytea, 20 bytes: the emitting contract */
	RW_EVENTMAP_PARAM         /* an event parameter */
};

struct rw_eventmap_column {
	char *name;
	enum rw_eventmap_sql type;
	enum rw_eventmap_field field;
	size_t param;   /* RW_EVENTMAP_PARAM: index in event->inputs */
	int topic_hash; /* RW_EVENTMAP_PARAM: an indexed reference type, stored as its topic */
};

/* One map entry, ready for the indexer. */
struct rw_eventmap_event {
	size_t entry; /* index in the map file */
	char *kind;
	const struct rw_abi_event *event; /* owned by the map */
	uint8_t topic0[32];
	char *table;
	struct rw_eventmap_column *cols; /* RW_EVENTMAP_LEADING + parameters */
	size_t n_cols;
};

/* The loaded map: events in file order. Read-only after loading. */
struct rw_eventmap {
	struct rw_eventmap_event *events;
	size_t n_events;
	/* private: lookup index and the ABI events */
	struct rw_eventmap_event **by_key; /* sorted by (kind, topic0) */
	struct rw_abi_event **owned;
	size_t n_owned;
};

/* One row of the schema query: a column as PostgreSQL has it. type is
 * data_type from information_schema.columns, except numeric with a
 * precision, written "numeric(P,S)". */
struct rw_eventmap_dbcol {
	const char *table;
	const char *column;
	const char *type;
};

/* Loads the map file and the ABI files it names. Returns 0; RW_EIO when a
 * file cannot be read; RW_ETOOBIG when one is larger than
 * RW_EVENTMAP_MAX_FILE; RW_EINVAL for bad JSON or an invalid entry;
 * RW_ENOMEM. On failure *ret is untouched and err names the file, the
 * entry ("[3]") and the key, or the JSON line and column (err, errlen:
 * RW_EVENTMAP_ERRLEN bytes hold any message; errlen may be 0).
 * Out: ret: the map (rw_eventmap_free it). In: abi_dir: the directory of
 * the <kind>.json files; map_path: the map file. */
int rw_eventmap_load(struct rw_eventmap **ret, const char *abi_dir, const char *map_path, char *err,
		     size_t errlen);

/* As rw_eventmap_load with the map already parsed. name labels the map
 * in messages. map is only read. */
int rw_eventmap_from_json(struct rw_eventmap **ret, const char *abi_dir, const struct json_t *map,
			  const char *name, char *err, size_t errlen);

/* Frees a map (and its ABI events). Accepts NULL. Returns NULL. */
struct rw_eventmap *rw_eventmap_free(struct rw_eventmap *m);

/* Returns the descriptor of (kind, topic0), or NULL when the map has no
 * such event. The pointer lives as long as the map. */
const struct rw_eventmap_event *rw_eventmap_lookup(const struct rw_eventmap *m, const char *kind,
						   const uint8_t topic0[32]);

/* Writes the distinct topic0 values mapped for kind (for an eth_getLogs
 * topic filter) into out[0..max) in map order. Returns how many kind has
 * (which may exceed max: only max are written). */
size_t rw_eventmap_topics(const struct rw_eventmap *m, const char *kind, uint8_t (*out)[32],
			  size_t max);

/* Returns the SQL name of a type ("bigint", "numeric(78,0)", ...), as the
 * schema query reports it. */
const char *rw_eventmap_sql_name(enum rw_eventmap_sql t);

/* Builds the query that lists every mapped table's columns in the current
 * schema: rows of (table_name, column_name, data_type) text, the type as
 * struct rw_eventmap_dbcol describes. Returns 0 or RW_ENOMEM.
 * Out: ret: a NUL-terminated string (free() it). */
int rw_eventmap_schema_query(char **ret, const struct rw_eventmap *m);

/* Compares the rows of the schema query with the descriptors: every
 * mapped table must exist, with every column and its type (other
 * columns are allowed). Returns 0 when all match; RW_ENOTFOUND when a
 * table or column is missing; RW_EINVAL when a type differs. On failure
 * err names the first mismatch in map order (table, column, found and
 * expected types, and the event it serves).
 * In: rows: n rows in any order. */
int rw_eventmap_schema_check(const struct rw_eventmap *m, const struct rw_eventmap_dbcol *rows,
			     size_t n, char *err, size_t errlen);

#endif
