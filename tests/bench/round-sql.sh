#!/usr/bin/env bash
# round-sql.sh: the relayer's set-based writes of a round, statement by
# statement, on a database that already holds a history (run by
# tools/bench-relayer --sql-only under tests/pg/with-pg; not a test).
#
# 1. A history of H transactions: H/B rounds of B intents filed, assigned
#    (rw_relayer_assign_many), sent (rw_relayer_sent_many) and mined at the
#    confirmation depth (rw_relayer_mined_many), through the same functions
#    as the relayer, not timed; then ANALYZE (what autovacuum does).
# 2. A burst of K batches of B: every batch filed and assigned first (the
#    relayer signs and stores before it sends), then ANALYZE (autovacuum may
#    analyze at any moment; this one sees the burst signed and none of it
#    mined), then each batch sent and mined. Each statement is timed by psql.
#
# Rows are made up (raw bytes and hashes derived from counters): the
# database's work is the relayer's, no chain is involved.
#
# Usage: round-sql.sh RUNWAY_BINARY [--history H] [--batches K] [--batch B]
# Environment: RUNWAY_TEST_DATABASE_URL (with-pg).
set -euo pipefail
runway=${1:?usage: round-sql.sh RUNWAY_BINARY [--history H] [--batches K] [--batch B]}
shift
history=0 batches=8 batch=1000
need() { [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || { echo "round-sql.sh: $1 needs a number" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --history) need "$@"; history=$2; shift ;;
    --batches) need "$@"; batches=$2; shift ;;
    --batch) need "$@"; batch=$2; shift ;;
    *) echo "round-sql.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$batch" -gt 0 ] && [ "$batches" -gt 0 ] || { echo "round-sql.sh: --batch and --batches must be > 0" >&2; exit 2; }
url=${RUNWAY_TEST_DATABASE_URL:?round-sql.sh: RUNWAY_TEST_DATABASE_URL is not set (run under tests/pg/with-pg)}
root=$(cd "$(dirname "$0")/../.." && pwd)
"$runway" --database-url "$url" db migrate --migrations "$root/migrations" >/dev/null
q() { psql "$url" -X -q -v ON_ERROR_STOP=1 "$@"; }

signer="'\\x00000000000000000000000000000000000000b5'::bytea"
q -c "INSERT INTO chain (chain_id, name) VALUES (31337, 'local') ON CONFLICT DO NOTHING" \
  -c "SELECT 1 FROM rw_relayer_sync(31337, 'local', $signer, 1000000, NULL, 0, 0, 10::numeric ^ 18, 'ok')" >/dev/null

# file_sql N: files batch N (intents bench:N:1..B) into table b_N: ids, raws, hashes.
file_sql() {
  cat <<EOF
CREATE TABLE b_$1 AS SELECT array_agg(f.id ORDER BY g) ids,
  array_agg(decode(repeat('a5', 180), 'hex') ORDER BY g) raws,
  array_agg(sha256(convert_to('round-sql/$1/' || g, 'UTF8')) ORDER BY g) hashes
FROM generate_series(1, $batch) g,
  LATERAL rw_intent_file('bench:$1:' || g, 31337, '\\x00000000000000000000000000000000000000c0'::bytea,
    decode('40c10f19', 'hex') || decode(lpad(to_hex(g), 64, '0'), 'hex')) f;
EOF
}
assign_sql() {
  cat <<EOF
SELECT count(*) FROM b_$1, rw_relayer_assign_many(31337, $signer,
  (SELECT next_nonce FROM relayer_signer WHERE address = $signer), 1000000, ids,
  array_fill(2::smallint, ARRAY[$batch]), array_fill(NULL::numeric, ARRAY[$batch]),
  array_fill(100000000000::numeric, ARRAY[$batch]), array_fill(1000000000::numeric, ARRAY[$batch]),
  array_fill(60000::bigint, ARRAY[$batch]), raws, hashes) a WHERE a.refused IS NULL;
EOF
}
sent_sql() {
  cat <<EOF
SELECT count(*) FROM b_$1, LATERAL (SELECT array_agg(t.id ORDER BY t.id) tx FROM relayer_tx t
  WHERE t.hash = ANY (hashes)) x, rw_relayer_sent_many(x.tx, 10, array_fill(true, ARRAY[$batch]),
  array_fill(NULL::text, ARRAY[$batch]), array_fill(NULL::text, ARRAY[$batch]));
EOF
}
mined_sql() {
  cat <<EOF
SELECT count(*) FROM b_$1, rw_relayer_mined_many(hashes, array_fill(11::bigint, ARRAY[$batch]),
  array_fill(sha256(convert_to('block/$1', 'UTF8')), ARRAY[$batch]), array_fill(1::smallint, ARRAY[$batch]),
  array_fill(50000::bigint, ARRAY[$batch]), array_fill(2000000000::numeric, ARRAY[$batch]), 20, 0)
  WHERE answer = 'mined';
EOF
}

# 1. The history (not timed).
rounds=$(( (history + batch - 1) / batch ))
t0=$(date +%s%N)
for n in $(seq 1 "$rounds"); do
  { file_sql "h$n"; assign_sql "h$n"; sent_sql "h$n"; mined_sql "h$n"; } | q >/dev/null
done
q -c "ANALYZE" >/dev/null
echo "round-sql: history of $((rounds * batch)) mined transactions built in $(( ($(date +%s%N) - t0) / 1000000 )) ms"

# 2. The burst, timed statement by statement (psql's \timing: client-side,
# one round trip included).
times() { grep -o '^Time: [0-9.]*' | awk '{print $2}'; }
mapfile -t ta < <({ for n in $(seq 1 "$batches"); do echo '\timing off'; file_sql "$n"; echo '\timing on'; assign_sql "$n"; done; } | q | times)
q -c "ANALYZE relayer_tx" -c "ANALYZE relayer_intent" -c "ANALYZE relayer_receipt" >/dev/null
mapfile -t tm < <({ echo '\timing on'; for n in $(seq 1 "$batches"); do sent_sql "$n"; mined_sql "$n"; done; } | q | times)
[ "${#ta[@]}" -eq "$batches" ] && [ "${#tm[@]}" -eq $((2 * batches)) ] ||
  { echo "round-sql.sh: expected $batches assign and $((2 * batches)) sent/mined timings, got ${#ta[@]} and ${#tm[@]}" >&2; exit 1; }
mined=$(q -At -c "SELECT count(*) FROM relayer_intent WHERE state = 'confirmed'")
[ "$mined" -eq $(((rounds + batches) * batch)) ] ||
  { echo "round-sql.sh: $mined intents confirmed, expected $(((rounds + batches) * batch))" >&2; exit 1; }
echo "round-sql: a burst of $batches batches of $batch after $((rounds * batch)) (ms per statement)"
printf '%6s %10s %10s %10s\n' batch assign_many sent_many mined_many
for n in $(seq 1 "$batches"); do
  printf '%6s %10.1f %10.1f %10.1f\n' "$n" "${ta[$((n - 1))]}" "${tm[$((2 * n - 2))]}" "${tm[$((2 * n - 1))]}"
done
