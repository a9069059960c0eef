/*
 * internal.h - the handle behind migrate.h, and the core's internal modules.
 *
 *   db.c       the only place that calls through struct driver: connect,
 *              run a section statement by statement, query, lock
 *   history.c  the tracking tables, with SQL written once for every database
 *   runner.c   up, down, redo, status, version
 *   seed.c     seeds
 *   schema.c   dump and verify
 *   drift.c    drift: the applied migrations replayed and compared with the live schema
 *   fleet.c    --targets: one command on every target, a process each
 *   api.c      open, close, new, and the small accessors
 *   testdb.c   test databases: templates, clones and the warm pool; drift's scratch database
 *   layout.c   other tools' migration directories (layout.h)
 *   adopt.c    baseline --from: another tool's history table
 */
#ifndef MIGRATE_INTERNAL_H
#define MIGRATE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "../drivers/driver.h"
#include "config.h"
#include "error.h"
#include "migrate.h"
#include "migration.h"
#include "placeholder.h"
#include "util.h"

struct migrate {
	struct migrate_options opt;
	struct config cfg;
	struct driver_conn *conn;   /* NULL with no_database */
	struct migration_set migs;  /* parsed for the configured dialect */
	int migs_scanned;           /* migs is read (not with no_connect until api_scan_migrations) */
	struct driver_conn *testdb_server; /* testdb's connection to the server, kept between calls */
	int locked;
	int lock_wait_hit;          /* a statement's lock wait ran out (DRIVER_ELOCKWAIT) since cleared */
	struct driver_limits limits; /* the session's limits while limits_set (retry.c) */
	struct lease *lease;         /* lock_mode table: the lease held (lease.c), or NULL */
	const char *lock_mode;       /* "advisory" or "table", once decided (db_lock_mode) */
	char lock_mode_why[256];
	int limits_set;              /* 1: until limits_leave; 2: until the migration ends */
	struct placeholders ph;     /* ${...}: the config's values and this run's UUIDs */
	/*
	 * The schema or database the tracking tables live in, resolved at
	 * connect (driver current_schema); NULL where there is one namespace.
	 */
	char *schema;
	/*
	 * migrate_interrupt(), from another thread: interrupted is set once;
	 * in_statement says a user's statement (or a lock wait, or a load) is
	 * running, which is what cancel() may stop. mu is held while either
	 * changes and while conn is cancelled or closed, so a cancel never
	 * meets a closed connection nor hits migrate's own tracking writes.
	 */
	atomic_int interrupted;
	int in_statement;
	pthread_mutex_t mu;
	struct migrate *sub;        /* verify's scratch handle while it runs (under mu) */
	/*
	 * A connection handed on by the run before on the same database and
	 * login (a fleet worker's, fleet.c), which db_connect resets and uses
	 * instead of connecting; NULL once taken.
	 */
	struct driver_conn *reuse;
};

/* ---- events (api.c) ---- */
void emit(migrate *m, enum migrate_event_kind kind, const char *version, const char *name,
	  const char *message, long long duration_ms, long long rows);
void emitf(migrate *m, enum migrate_event_kind kind, const char *fmt, ...) MIGRATE_PRINTF(3, 4);

/* ---- api.c ---- */
/* Reads and checks every migration file into m->migs, once. */
enum migrate_result api_scan_migrations(migrate *m, struct migrate_error *err);
/*
 * migrate_open, on *conn when it is not NULL: a connection a run before
 * left (see db_detach), on the same database and login as options give,
 * which the handle takes (*conn becomes NULL), resets and uses instead of
 * connecting (a broken one is closed, and a new one made). On failure
 * *conn is the connection the handle had, or NULL.
 */
enum migrate_result api_open(const struct migrate_options *options, struct driver_conn **conn, migrate **out,
			     struct migrate_error *err);

/* ---- db.c ---- */
/* Has migrate_interrupt() been called? */
int db_interrupted(migrate *m);
/*
 * Brackets work that an interrupt may cancel on the server (a statement of
 * a migration or seed, a load). db_cancelable_begin returns -1, and starts
 * nothing, when the run is interrupted already.
 */
int db_cancelable_begin(migrate *m);
void db_cancelable_end(migrate *m);
/* MIGRATE_EINTR when interrupted, else the migrate result for r. */
enum migrate_result db_fail_code(migrate *m, enum driver_result r);
/* The migrate result (and exit code) for a driver result. */
enum migrate_result db_map_result(enum driver_result r);
enum migrate_result db_connect(migrate *m, struct migrate_error *err);
/*
 * Loads a driver's client library now (before a fleet forks its workers,
 * which then share it); a failure shows when a worker connects.
 */
void db_preload(const struct driver *drv);
/* After connecting with opt.schema: search_path exactly that schema (PostgreSQL only). */
enum migrate_result db_enter_schema(migrate *m, struct migrate_error *err);
enum migrate_result db_lock(migrate *m, struct migrate_error *err);
void db_unlock(migrate *m);
/* Runs one statement the core wrote (tracking tables, transactions). */
enum migrate_result db_exec_sql(migrate *m, const char *sql, struct migrate_error *err);
enum migrate_result db_query(migrate *m, const char *sql, int nparams, const char *const *params,
			     driver_row_fn fn, void *ctx, struct migrate_error *err);
enum migrate_result db_table_exists(migrate *m, const char *table, int *exists,
				    struct migrate_error *err);
/* The same for a tracking table: in m->schema, wherever the session looks now. */
enum migrate_result db_tracking_exists(migrate *m, const char *table, int *exists,
				       struct migrate_error *err);
/*
 * Told after each statement of a section has run: done of total bytes of
 * the section, and the rows changed so far.
 */
typedef void (*db_section_progress_fn)(void *ctx, long long done, long long total, long long rows);

/*
 * Runs a section of a migration or seed statement by statement. label is
 * the file name for messages; an error reads "label:line: message".
 * *changes adds up the rows the statements changed. progress (may be NULL)
 * is told after each statement. With --dry-run the statements are
 * reported and not run.
 */
enum migrate_result db_run_section(migrate *m, const char *label, const char *text,
				   const struct section *sec, long long *changes,
				   db_section_progress_fn progress, void *progress_ctx,
				   struct migrate_error *err);
/* Where a section run stopped, so it can go on from the statement that failed (retry.c). */
struct section_pos {
	size_t next;  /* in: the statement (from 0) to start at; out: the one that failed, or the count */
	char *failed; /* out: the failed statement as run (the caller frees), or NULL */
};
/* db_run_section from pos->next, with no progress or row count. */
enum migrate_result db_run_section_at(migrate *m, const char *label, const char *text,
				      const struct section *sec, struct section_pos *pos,
				      struct migrate_error *err);
/*
 * Safe apply (SPEC section 9): runs the driver's statements that set the
 * limits (see enum driver_limits_how; printed under --dry-run). Returns
 * how many ran (0: the driver has none for that), or -1 with err set.
 */
int db_set_limits(migrate *m, enum driver_limits_how how, const struct driver_limits *lim,
		  struct migrate_error *err);
/*
 * BEGIN, and the limits for that transaction only (DRIVER_LIMITS_LOCAL)
 * where the driver has them, sent together in one round trip.
 */
enum migrate_result db_begin_limited(migrate *m, const struct driver_limits *lim, struct migrate_error *err);
/* Can the driver set the limits for one transaction only (SET LOCAL)? */
int db_has_local_limits(migrate *m, const struct driver_limits *lim);
/*
 * After sql failed outside a transaction: drops what it left behind (a
 * CREATE INDEX CONCURRENTLY's INVALID index). *drop (the caller frees) is
 * the statement that does it, NULL when nothing was left; on failure err
 * says why and *drop is what the user must run.
 */
enum migrate_result db_drop_leftover(migrate *m, const char *sql, char **drop,
				     struct migrate_error *err);
/* Transaction control, reported under --dry-run like every other write. */
enum migrate_result db_begin(migrate *m, struct migrate_error *err);
enum migrate_result db_commit(migrate *m, struct migrate_error *err);
void db_rollback(migrate *m);
/* Appends name quoted as an identifier for this driver. */
void db_quote_ident(const migrate *m, struct strbuf *sb, const char *name);
/* Appends a tracking table's name, qualified with m->schema when there is one. */
void db_quote_table(const migrate *m, struct strbuf *sb, const char *table);
/*
 * Runs one of migrate's own writes (sql with parameters) and sets *changed
 * to the rows it inserted, updated or deleted.
 */
enum migrate_result db_write(migrate *m, const char *sql, int nparams, const char *const *params,
			     long long *changed, struct migrate_error *err);
/* Puts the session's name resolution back after a migration (driver reset_session). */
void db_reset_session(migrate *m);
/*
 * How the run-wide lock is taken on this connection: "advisory" or
 * "table" (see migrate_lock_info), why into why. Decided once.
 */
const char *db_lock_mode(migrate *m, char *why, size_t len);
/* migrate_lock_status for an advisory lock: held by another session? */
enum migrate_result db_advisory_status(migrate *m, struct migrate_lock_info *out, struct migrate_error *err);
/* A second connection with the same settings (the lease's renewal), and a query on it. */
enum driver_result db_connect_other(migrate *m, struct driver_conn **out, struct driver_error *derr);
enum driver_result db_query_on(migrate *m, struct driver_conn *conn, const char *sql, int nparams,
			       const char *const *params, driver_row_fn fn, void *ctx, struct driver_error *derr);
void db_close_other(migrate *m, struct driver_conn *conn);
/* Unlocks and closes the connection, if there is one. */
void db_close(migrate *m);
/*
 * Unlocks and hands the connection over to the caller (NULL when there is
 * none), for the next run's api_open; migrate_close then closes nothing.
 */
struct driver_conn *db_detach(migrate *m);
/* create / drop: the configured database, through the driver's server connection. */
enum migrate_result db_create_database(migrate *m, struct migrate_error *err);
enum migrate_result db_drop_database(migrate *m, struct migrate_error *err);
/* Connects and disconnects at once (for 'wait'): DRIVER_OK, or why not in derr. */
enum driver_result db_try_connect(migrate *m, struct driver_error *derr);

/*
 * Bulk loading for CSV seeds: the driver's load operations (driver.h), on
 * the open connection. db_can_load says whether this driver has them.
 */
int db_can_load(const migrate *m);
enum driver_result db_primary_key(migrate *m, const char *table, char ***cols, struct driver_error *derr);
enum driver_result db_load_begin(migrate *m, const char *table, const char *const *cols, int ncols,
				 const char *key, driver_row_fn key_fn, void *key_ctx,
				 struct driver_load **out, struct driver_error *derr);
enum driver_result db_load_row(migrate *m, struct driver_load *ld, const char *const *values,
			       const size_t *lens, struct driver_error *derr);
enum driver_result db_load_end(migrate *m, struct driver_load *ld, long long *rows,
			       struct driver_error *derr);
void db_load_abort(migrate *m, struct driver_load *ld);
/* Appends the n-th (from 1) parameter marker for this driver. */
void db_param(const migrate *m, struct strbuf *sb, int n);
/*
 * Expands every placeholder of a section without running anything, so an
 * unknown one is a usage error (file:line) before the first statement.
 */
enum migrate_result db_check_placeholders(migrate *m, const char *label, const char *text,
					  const struct section *sec, struct migrate_error *err);
/*
 * Checks, before anything runs, that a section can run in the transaction
 * migrate wraps it in (in_tx; which is "up" or "down", for the message):
 * transaction control (COMMIT, BEGIN, ROLLBACK, ...) would end that
 * transaction part-way, and SQLite refuses or ignores some statements
 * inside one (sqllex_classify). Either is MIGRATE_EUSAGE naming file:line
 * and pointing to transaction:false.
 */
enum migrate_result db_check_section(migrate *m, const char *label, const char *text,
				     const struct section *sec, const char *which, int in_tx,
				     struct migrate_error *err);

/*
 * The transaction around a section, or around several (--single-transaction,
 * seed --rerun), and the settings a database only changes outside one.
 * SQLite ignores PRAGMA foreign_keys inside a transaction, so a section
 * that turns foreign keys off (the table-rebuild procedure) has them turned
 * off before BEGIN, PRAGMA foreign_key_check run before COMMIT, and their
 * state put back afterwards, on failure too (SPEC section 5). A section
 * outside a transaction that touches them has them put back afterwards.
 *
 *   struct db_tx tx = DB_TX_INIT;
 *   db_tx_add(m, &tx, label, text, sec);     for each section it will run
 *   db_tx_begin(m, &tx, in_tx, err);         then the statements
 *   db_tx_commit(m, &tx, err) or db_tx_rollback(m, &tx);
 */
struct db_tx {
	int in_tx;        /* BEGIN was sent */
	int fk_off;       /* a section turns foreign keys off */
	int fk_touch;     /* a section sets foreign keys at all */
	int fk_was;       /* their state before, to put back; -1: untouched */
	int fk_check;     /* they were on and are off for this transaction */
	char *fk_where;   /* "file:line" of the PRAGMA that turns them off */
	const struct driver_limits *limits; /* SET LOCAL with the BEGIN (db_begin_limited), or NULL */
};
#define DB_TX_INIT { 0, 0, 0, -1, 0, NULL, NULL }
void db_tx_add(migrate *m, struct db_tx *tx, const char *label, const char *text,
	       const struct section *sec);
enum migrate_result db_tx_begin(migrate *m, struct db_tx *tx, int in_tx, struct migrate_error *err);
enum migrate_result db_tx_commit(migrate *m, struct db_tx *tx, struct migrate_error *err);
void db_tx_rollback(migrate *m, struct db_tx *tx);

/* Does a section hold any statement? (An empty down section is irreversible.) */
int section_has_statements(const migrate *m, const char *text, const struct section *sec);
/*
 * Can a down section undo: it holds statements, or it is marked 'nothing'
 * (nothing to undo on this database)? An empty one without the mark makes
 * the migration irreversible.
 */
int section_can_undo(const migrate *m, const char *text, const struct section *sec);
/* The schema as the driver dumps it, tracking tables left out (*out: the caller frees). */
enum migrate_result db_dump_schema(migrate *m, char **out, struct migrate_error *err);

/*
 * Test databases (testdb.c): the server-level operations of driver.h, on a
 * connection from db_server_connect (see there for dir). db_can_testdb says
 * whether this driver has them all; db_can_claim whether it has a pool.
 */
int db_can_testdb(const migrate *m);
int db_can_claim(const migrate *m);
enum driver_result db_server_connect(migrate *m, const char *dir, struct driver_conn **out,
				     struct driver_error *derr);
/* db_server_close(m, NULL) is a no-op. */
void db_server_close(migrate *m, struct driver_conn *server);
enum driver_result db_server_lock(migrate *m, struct driver_conn *server, const char *name, int timeout_s,
				  struct driver_error *derr);
void db_server_unlock(migrate *m, struct driver_conn *server);
enum driver_result db_list_databases(migrate *m, struct driver_conn *server, const char *prefix,
				     driver_row_fn fn, void *ctx, struct driver_error *derr);
enum driver_result db_clone_database(migrate *m, struct driver_conn *server, const char *from, const char *to,
				     struct driver_error *derr);
enum driver_result db_seal_database(migrate *m, struct driver_conn *server, const char *name,
				    struct driver_error *derr);
enum driver_result db_claim_database(migrate *m, struct driver_conn *server, const char *name, int *claimed,
				     struct driver_error *derr);
enum driver_result db_drop_named_database(migrate *m, struct driver_conn *server, const char *name,
					  struct driver_error *derr);

/*
 * drift's scratch database (drift.c), named as a test database of the
 * default prefix and the current migrations' hash without seeds
 * (<prefix>_<hash>_<n>), so one a killed drift left behind is what
 * 'migrate testdb --gc' removes; never sealed, so never claimed.
 *
 *   struct testdb_scratch s = { 0 };
 *   testdb_scratch_find(m, &s, err);       s.template_name: the sealed template of
 *                                          the current migrations, or NULL
 *   testdb_scratch_make(m, &s, clone, err) s.name, s.setting: a clone of that
 *                                          template (s.cloned) or an empty database
 *   testdb_scratch_drop(m, &s, err);       drops it (the caller's connections closed first)
 *   testdb_scratch_release(&s);
 *
 * On m's server (m->testdb_server, connected when needed; SQLite: files in
 * testdb's directory). A template the driver cannot clone (driver.h:
 * DRIVER_EUNSUPPORTED) gives an empty database, s.cloned 0.
 */
struct testdb_scratch {
	char *template_name; /* the sealed template of the current migrations, or NULL */
	char *name;          /* the scratch database made, or NULL */
	char *setting;       /* its database setting: the name, or the file's path (SQLite) */
	int cloned;          /* it is a clone of template_name (else empty) */
	char *dir;           /* testdb.c's own: the directory of the files (SQLite) */
	char hash[17];       /* testdb.c's own: the content hash, once computed */
};
enum migrate_result testdb_scratch_find(migrate *m, struct testdb_scratch *s, struct migrate_error *err);
enum migrate_result testdb_scratch_make(migrate *m, struct testdb_scratch *s, int clone, struct migrate_error *err);
enum migrate_result testdb_scratch_drop(migrate *m, struct testdb_scratch *s, struct migrate_error *err);
void testdb_scratch_release(struct testdb_scratch *s);

/* ---- runner.c, for verify (schema.c): up and down in a run that already holds the lock ---- */
enum migrate_result runner_up_locked(migrate *m, const struct migrate_up_options *opt,
				     struct migrate_error *err);
enum migrate_result runner_down_locked(migrate *m, const struct migrate_down_options *opt,
				       struct migrate_error *err);

/* ---- retry.c: safe apply (SPEC section 9) ---- */
struct retry_policy {
	struct driver_limits lim;
	int retries; /* attempts after the first */
};
/* The limits for a section: its marker's options, else the config's. */
void retry_policy_for(const migrate *m, const struct section *sec, struct retry_policy *out);
/* One attempt at the work; a lock wait that ran out leaves m->lock_wait_hit set. */
typedef enum migrate_result (*retry_attempt_fn)(migrate *m, void *ctx, struct migrate_error *err);
/*
 * Runs attempt until it succeeds, fails otherwise than by a lock wait, or
 * has been tried retries + 1 times; each lock wait that ran out is a
 * warning naming what (e.g. "migration 2 (add_index)"), and the next try
 * comes after the back-off.
 * Out of tries: MIGRATE_ELOCK, err holding the last wait's message, for
 * the caller to say what was and was not applied. *attempts: how many ran.
 */
enum migrate_result retry_run(migrate *m, const char *what, const struct retry_policy *pol,
			      retry_attempt_fn attempt, void *ctx, int *attempts, struct migrate_error *err);
/*
 * A migration's limits (see retry.c): limits_enter before it (*local: set
 * them with SET LOCAL after each BEGIN, which attempt does), limits_after
 * when it is done, limits_leave at the end of the run. A failed reset sets
 * err only when nothing else failed.
 */
enum migrate_result limits_enter(migrate *m, const struct driver_limits *lim, int tx, int *local,
				 struct migrate_error *err);
void limits_after(migrate *m, struct migrate_error *err);
void limits_leave(migrate *m, struct migrate_error *err);

/* ---- lease.c: the run-wide lock as a lease row (SPEC section 10) ---- */
struct lease;
/* <table>_lock; the caller frees. */
char *lease_table(const migrate *m);
enum migrate_result lease_ensure_table(migrate *m, struct migrate_error *err);
/* Takes the lease within lock_timeout and starts renewing it. */
enum migrate_result lease_acquire(migrate *m, struct migrate_error *err);
/* MIGRATE_ELOCK when the renewal found the lease taken over. */
enum migrate_result lease_check(migrate *m, struct migrate_error *err);
/* Stops the renewal and deletes the row. No-op without a lease. */
void lease_release(migrate *m);

/* ---- history.c ---- */
struct history_row {
	char *version;      /* as stored */
	char *v;            /* canonical (version_canonical); NULL unless parsed is 1 */
	int parsed;
	char *name;
	char *checksum;
	char *checksum_sql;
	char *down_sql;
	char *applied_at;
	long long duration_ms;
	char *status;       /* "applied", "running", "failed" */
};

struct history {
	struct history_row *v; /* sorted by version */
	size_t n, cap;
};

enum migrate_result history_ensure(migrate *m, struct migrate_error *err);
/* Reads the table; a missing table is an empty history. */
enum migrate_result history_load(migrate *m, struct history *out, struct migrate_error *err);
void history_release(struct history *h);
enum migrate_result history_insert(migrate *m, const struct migration *mig, const char *status,
				   long long duration_ms, struct migrate_error *err);
/*
 * The writes check that they touched exactly the row meant (0 rows is an
 * error naming the migration); name is for messages.
 */
enum migrate_result history_set_status(migrate *m, const char *version, const char *name,
				       const char *status, long long duration_ms, struct migrate_error *err);
enum migrate_result history_delete(migrate *m, const char *version, const char *name,
				   struct migrate_error *err);
/* The row of that canonical version, or NULL. */
struct history_row *history_find(const struct history *h, const char *version);

struct seed_row {
	char *name;
	char *checksum;
	char *applied_at;
	long long rows;
};

struct seed_history {
	struct seed_row *v;
	size_t n, cap;
};

enum migrate_result seed_history_ensure(migrate *m, struct migrate_error *err);
enum migrate_result seed_history_load(migrate *m, struct seed_history *out, struct migrate_error *err);
void seed_history_release(struct seed_history *h);
enum migrate_result seed_history_insert(migrate *m, const struct migration *seed,
					long long duration_ms, long long rows,
					struct migrate_error *err);
struct seed_row *seed_history_find(const struct seed_history *h, const char *name);
enum migrate_result seed_history_delete(migrate *m, const char *name, struct migrate_error *err);

/* <seeds_table>_undo: part 0 says how to undo a seed, parts 1.. hold a CSV seed's keys. */
enum migrate_result seed_undo_ensure(migrate *m, struct migrate_error *err);
enum migrate_result seed_undo_put(migrate *m, const char *name, long part, const char *data,
				  struct migrate_error *err);
/* Sets *data (the caller frees) to the part, or NULL when there is none. */
enum migrate_result seed_undo_get(migrate *m, const char *name, long part, char **data,
				  struct migrate_error *err);
enum migrate_result seed_undo_delete(migrate *m, const char *name, struct migrate_error *err);

/* ---- adopt.c ---- */
/*
 * After reading the tracking table failed (err set): when the table is
 * golang-migrate's or dbmate's (they share migrate's default name), err
 * becomes a MIGRATE_EUSAGE that says so and what to do.
 */
void explain_foreign_table(migrate *m, struct migrate_error *err);

/* ---- seed.c ---- */
/* Fills the seed part of a status (scans the seeds directory). */
enum migrate_result seed_status(migrate *m, struct migrate_status *st, struct migrate_error *err);

#endif
