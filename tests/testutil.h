/*
 * testutil.h - what the suites share: temporary project directories, running
 * the built binary, and a fresh real database per test for the driver under
 * test (a SQLite file, or a new database on the PostgreSQL/MariaDB server
 * that tests/run.sh started).
 */
#ifndef MIGRATE_TESTUTIL_H
#define MIGRATE_TESTUTIL_H

#include <stddef.h>

#include "../drivers/driver.h"

/* ---- files ---- */

/* A new empty directory under $TMPDIR; the caller frees (and removes with rm_rf). */
char *tmpdir_new(void);
void rm_rf(const char *path);
/* Writes text to dir/name (creating parent directories). */
void write_file(const char *dir, const char *name, const char *text);
/* Reads dir/name; NULL when missing. Caller frees. */
char *slurp(const char *dir, const char *name);

/* ---- running the binary ---- */

struct run {
	int status;  /* exit code, or 128+signal */
	char *out;   /* stdout */
	char *err;   /* stderr */
};

/*
 * Runs $MIGRATE_BIN with the arguments (NULL-terminated) in directory cwd,
 * with NO_COLOR set and extra environment assignments from env (NULL or a
 * NULL-terminated list of "NAME=value"; "NAME=" with nothing unsets).
 */
struct run run_migrate(const char *cwd, const char *const *env, const char *const *argv);
void run_free(struct run *r);

/* ---- the database under test ---- */

/*
 * Reads MIGRATE_TEST_DRIVER and MIGRATE_TEST_URL (and MIGRATE_TEST_PROXY_URL:
 * a proxy in front of that server, which the URLs given to migrate then go
 * through). Returns 0, or -1 (see test_db_error).
 */
int test_behind_proxy(void);
int test_db_init(const char *driver);
const char *test_db_error(void);
const struct driver *test_driver(void);
const char *test_driver_name(void);

/*
 * A fresh, empty database for one test: for SQLite a file in dir, for the
 * servers a new database. Sets *url to a URL for it (caller frees) and
 * fills settings (borrowing from an internal store freed by test_db_drop).
 */
void test_db_create(const char *dir, char **url);
void test_db_drop(void);
struct driver_settings *test_db_settings(void);

/* Connects to the test database (fails the test on error). */
struct driver_conn *test_connect(void);
/* Runs SQL and returns the first column of the first row, or NULL. Caller frees. */
char *test_scalar(struct driver_conn *c, const char *sql);
/* Like test_scalar, connecting and closing itself. */
char *db_scalar(const char *sql);
/* Number of rows in a table, or -1 when the table does not exist. */
long db_count(const char *table);
int db_table_exists(const char *table);

/* ---- assertions and fixtures the suites share ---- */

/* Fails the test unless the run exited with status, showing its output. */
void expect(struct run *r, int status, const char *what);
/* Fails the test unless needle is in hay (where names hay in the message). */
void expect_in(const char *hay, const char *needle, const char *where);
/* The SQL for the driver under test. */
const char *pick(const char *sqlite, const char *postgres, const char *mysql);
/* Copies the repository's example (migrations/ and seeds/) into dir. */
void copy_example(const char *dir);

/*
 * A project for one test: a new temporary directory and a fresh database
 * (test_db_create). project_free drops the database, removes the directory
 * and frees both strings.
 */
void project_new(char **dir, char **url);
void project_free(char **dir, char **url);
/*
 * Writes dir/config.ini: [migrate] with lock_timeout and the shared lines,
 * then [development] with url and the env lines (either may be NULL).
 */
void project_config(const char *dir, const char *url, int lock_timeout, const char *shared,
		    const char *env);
/* Writes dir/migrations/name. */
void write_migration(const char *dir, const char *name, const char *text);

/* The quoted form of a camel-case column name on this driver ("createdAt" or `createdAt`). */
const char *test_quote(const char *name, char *buf, size_t len);

/* ---- holding a migration where the test wants it ---- */

/*
 * A gate: something the test holds so that a running migration stops at a
 * known point until the test lets it go, however fast or slow the machine
 * is. Never a statement that is merely expected to take a while.
 *
 *   PostgreSQL  the test holds a session advisory lock; the migration waits
 *               for it with pg_advisory_xact_lock.
 *   MySQL       the test holds GET_LOCK; the migration waits in GET_LOCK.
 *   SQLite      outside a transaction (transactional = 0): the test holds the
 *               write lock of dir/gate.db, which the migration ATTACHes and
 *               writes to. In a transaction (transactional = 1, where ATTACH
 *               is not allowed): the test holds a read lock on the test
 *               database, so the migration's COMMIT waits; nothing else may
 *               then read that database until the gate is released.
 *
 * gate_sql is the statement(s) to put in the migration where it should stop
 * (empty for SQLite in a transaction: it stops at its COMMIT). gate_wait
 * polls, up to timeout_s, until process pid stands at the gate (for SQLite
 * outside a transaction: until the table "after" exists, the statement
 * before the gate being its creation), failing the test otherwise.
 * gate_release lets the migration go and frees the gate.
 */
struct gate;
struct gate *gate_hold(const char *dir, int transactional);
const char *gate_sql(const struct gate *g);
void gate_wait(const struct gate *g, int pid, const char *after, int timeout_s);
void gate_release(struct gate *g);

/*
 * Starts the binary in directory cwd without waiting for it, its stderr
 * into cwd/errname and stdout discarded, with the environment run_migrate
 * gives. wait_exit_code waits up to timeout_s (then kills it and fails the
 * test) and returns its exit code, or 128+signal.
 */
int start_migrate(const char *cwd, const char *errname, const char *const *argv);
/* The same with its stdout into cwd/outname. */
int start_migrate_to(const char *cwd, const char *outname, const char *errname, const char *const *argv);
int wait_exit_code(int pid, int timeout_s);

/*
 * ---- holding a table lock, as a busy application would (SPEC section 9) ----
 *
 *   PostgreSQL  an open transaction that ran LOCK TABLE t IN ACCESS EXCLUSIVE MODE
 *               (with row = 1: that inserted a row into t instead, holding
 *               RowExclusiveLock and its transaction, what a CREATE INDEX
 *               CONCURRENTLY waits for)
 *   MySQL       LOCK TABLES t WRITE (row = 1: an open transaction that
 *               inserted a row into t, holding its metadata lock)
 *   SQLite      a write transaction (BEGIN IMMEDIATE) on sqlite_path, or on
 *               the test database when that is NULL
 *
 * holder_id is what migrate's warning names: "session N" (the server's
 * id for the holding session) or "process N" (SQLite: this process).
 * holder_release ends the transaction and frees the holder.
 */
struct holder;
struct holder *hold_table(const char *table, int row, const char *sqlite_path);
const char *holder_id(const struct holder *h);
void holder_release(struct holder *h);

/* Polls until dir/name holds needle (up to timeout_s), failing the test otherwise. */
void wait_for_text(const char *dir, const char *name, const char *needle, int timeout_s);
/* Milliseconds on the monotonic clock, and a sleep that survives signals. */
long long mono_ms(void);
void sleep_ms(long ms);

/* The names beginning with p on the server (or, on SQLite, the files in proj), sorted,
 * comma-separated; SQLite's journals and lock files left out. The caller frees. */
char *names_like(const char *proj, const char *p);
/* Polls sql (on a connection of its own each time) until it returns want, up to timeout_s. */
void wait_for_value(const char *sql, const char *want, int timeout_s, const char *what);

#endif
