/* pgtest.h: helpers for the tests that run against a real PostgreSQL
 * (started by tests/pg/with-pg, which exports RUNWAY_TEST_DATABASE_URL). */
#ifndef RW_PGTEST_H
#define RW_PGTEST_H

#include <libpq-fe.h>
#include <uv.h>

/* Returns $RUNWAY_TEST_DATABASE_URL; fails the test when it is not set. */
const char *pt_url(void);

/* Drops and creates the database name on the test server and returns a
 * heap URL for it. */
char *pt_fresh_db(const char *name);

/* Connects (blocking) to url; fails the test on error. */
PGconn *pt_connect(const char *url);

/* Runs sql on url and returns the first column of the first row as a
 * heap string ("" when no rows); fails the test on an error. */
char *pt_query1(const char *url, const char *sql);

/* Runs sql on url; fails the test on an error. */
void pt_exec(const char *url, const char *sql);

/* Runs the loop until *done is non-zero, failing the test after seconds. */
void pt_run_until(uv_loop_t *loop, const int *done, double seconds);

/* Runs the loop until it has nothing left (uv_run DEFAULT) and asserts
 * that uv_loop_close succeeds. */
void pt_loop_finish(uv_loop_t *loop);

/* Creates a temporary directory; returns its heap path. */
char *pt_tmpdir(void);

/* Writes text to dir/name. */
void pt_write(const char *dir, const char *name, const char *text);

/* Removes dir and everything in it. */
void pt_rmrf(const char *dir);

/* Returns a free TCP port on 127.0.0.1 (nothing listens on it). */
int pt_free_port(void);

#endif
