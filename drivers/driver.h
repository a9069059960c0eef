/*
 * driver.h - the contract between migrate's core and a database.
 *
 * Each database is one file in drivers/ that exports exactly one
 *
 *     const struct driver NAME_driver = { .name = "NAME", ... };
 *
 * and keeps everything else static. drivers.c lists the drivers this build
 * has. The core never asks which database it talks to: it reads the
 * capability bits and the few SQL fragments in struct driver, and calls the
 * operations below through the wrappers in migrate/db.c, so a missing
 * optional operation is one clear error in one place.
 *
 * Division of labour
 *   The core reads migration files, splits each section into statements with
 *   its dialect-aware lexer (migrate/sqllex.h; it knows each database's
 *   quoting, comments, dollar quotes, DELIMITER and BEGIN...END bodies),
 *   writes the tracking-table SQL once for every database, and decides what
 *   runs in which transaction. A driver connects, runs one statement at a
 *   time, binds parameters, returns rows as text, and takes the run-wide lock.
 *
 * Errors
 *   Every operation that can fail returns enum driver_result and, on failure,
 *   fills the caller's struct driver_error with the database's own message,
 *   copied at once (PQerrorMessage, mysql_error and sqlite3_errmsg are
 *   overwritten by the next call). A driver never prints, never exits, and
 *   never puts a password in a message.
 *
 * Versioning
 *   Like sqlite3_vfs, this table only ever grows at the end. New operations
 *   are optional (NULL means "not supported") until every driver has them.
 */
#ifndef MIGRATE_DRIVER_H
#define MIGRATE_DRIVER_H

#include <stddef.h>

enum driver_result {
	DRIVER_OK = 0,
	DRIVER_ESQL,         /* the database rejected a statement */
	DRIVER_ECONNECT,     /* cannot connect, or the connection was lost */
	DRIVER_ELOCK,        /* the run-wide lock was not acquired in time */
	DRIVER_ECONFIG,      /* the settings cannot work (bad option, bad path) */
	DRIVER_EUNSUPPORTED, /* this driver cannot do that */
	DRIVER_EEXISTS,      /* a database of that name exists already (clone_database) */
	/*
	 * A statement waited for a lock longer than the session's lock wait
	 * (lock_timeout, lock_wait_timeout, the busy timeout), or was chosen as
	 * a deadlock victim: it did nothing, and a transaction it ran in must be
	 * rolled back. Running it again may succeed (SPEC section 9).
	 */
	DRIVER_ELOCKWAIT,
};

/* The statement languages the core's lexer knows. */
enum sql_dialect {
	SQL_DIALECT_SQLITE,
	SQL_DIALECT_POSTGRES,
	SQL_DIALECT_MYSQL,
};

/* How a driver spells the n-th bound parameter (n counts from 1). */
enum driver_param_style {
	DRIVER_PARAM_QMARK,  /* ?   (SQLite, MySQL) */
	DRIVER_PARAM_DOLLAR, /* $n  (PostgreSQL) */
};

/* Capability bits: what the core may rely on. */
#define DRIVER_CAP_TRANSACTIONAL_DDL (1u << 0) /* DDL rolls back with its transaction */
#define DRIVER_CAP_LOCK              (1u << 1) /* lock() and unlock() are real */
#define DRIVER_CAP_CREATE_DATABASE   (1u << 2) /* create_database() and drop_database() */
#define DRIVER_CAP_BULK_LOAD         (1u << 3) /* primary_key() and the load_*() operations */
/*
 * Foreign keys are switched with PRAGMA foreign_keys, which the database
 * ignores inside a transaction, and PRAGMA foreign_key_check lists the rows
 * that break one (SQLite). The core switches them around a section.
 */
#define DRIVER_CAP_FK_PRAGMA         (1u << 4)
#define DRIVER_CAP_DATABASE_FILES    (1u << 5) /* a database is a file: its name is a path in a directory */

struct driver_error {
	char message[1024]; /* the database's message, one line, no password */
	/*
	 * Byte offset into the failing statement where the database says the
	 * error is (PostgreSQL's error position), or -1 when it does not say.
	 * The core turns it into a file line.
	 */
	long offset;
};

/*
 * Connection settings, parsed by the core from the config file, environment
 * and URL. Every string is borrowed from the core and lives until close();
 * NULL means "not given, use the database's default". port is 0 when not
 * given. For SQLite, database is a path (already resolved by the core) or
 * ":memory:".
 */
struct driver_settings {
	const char *host;
	int port;
	const char *user;
	const char *password; /* never copy into a message */
	const char *database;
	const char *socket;
	const char *sslmode;  /* postgres: disable, allow, prefer, require, verify-ca, verify-full */
	const char *ssl_ca;   /* mysql */
	const char *ssl_cert; /* mysql */
	const char *ssl_key;  /* mysql */
	const char *options;  /* driver-specific pass-through, documented per driver */
	int connect_timeout;  /* seconds; 0 means the driver's default (10) */
	/*
	 * The run must change nothing (--dry-run): the core sends no writes, and
	 * connecting must not create anything either. SQLite opens the file
	 * read-only, and a file that does not exist as an empty in-memory
	 * database, so the plan is that of a new database and no file appears.
	 * Servers make the session read-only, so a write is refused there too.
	 */
	int read_only;
	/*
	 * The database must exist already (the commands that only read):
	 * SQLite never creates the file, and a missing one is DRIVER_ECONNECT,
	 * as the servers' "unknown database" is.
	 */
	int must_exist;
};

/*
 * Every driver's connection struct begins with this, so the core can reach
 * the driver from a connection. The driver allocates it in connect() and
 * frees it in close().
 */
struct driver_conn {
	const struct driver *drv;
};

/*
 * Called once per result row of query(). values[i] is the i-th column as
 * text, NULL for SQL NULL; both are borrowed for the duration of the call.
 * Return 0 to go on, non-zero to stop reading rows (query() then still
 * drains the result and returns DRIVER_OK).
 */
typedef int (*driver_row_fn)(void *ctx, int ncols, const char *const *values);

/*
 * Limits for a migration's work (SPEC section 9), in milliseconds; 0 is no
 * limit (lock_wait 0: wait as long as the database does by default).
 */
struct driver_limits {
	long long lock_wait_ms;
	long long statement_timeout_ms;
};

/* What set_limits() writes the statements for. */
enum driver_limits_how {
	/*
	 * Right after BEGIN, for that transaction only (PostgreSQL SET LOCAL),
	 * so they hold through a transaction-pooling proxy and need no undoing.
	 * A driver without such a thing writes none, and the core uses
	 * DRIVER_LIMITS_SET and DRIVER_LIMITS_RESET around the transaction.
	 * The core sends them in one exec() with begin_sql ("BEGIN; SET
	 * LOCAL ..."), so exec() must take several statements then.
	 */
	DRIVER_LIMITS_LOCAL,
	DRIVER_LIMITS_SET,   /* for the session, before the work */
	DRIVER_LIMITS_RESET, /* back to the session's defaults, after it */
};

/* Statements a driver writes for the core to run, in order. */
struct driver_sql_list {
	int n;
	char v[4][256];
};

/* A bulk load in progress (see load_begin); each driver defines its own. */
struct driver_load;

struct driver {
	const char *name;               /* "sqlite", "postgres", "mysql": the dialect name in migration files */
	enum sql_dialect dialect;       /* which rules the core's lexer uses for this database */
	unsigned caps;                  /* DRIVER_CAP_* */
	enum driver_param_style params; /* how query() spells parameters */
	char ident_quote;               /* '"' or '`'; doubled inside an identifier */

	/*
	 * SQL fragments the core uses to build its own statements: transaction
	 * control (also printed by --dry-run) and the column types of the
	 * tracking tables.
	 */
	const char *begin_sql;      /* "BEGIN" */
	const char *commit_sql;     /* "COMMIT" */
	const char *rollback_sql;   /* "ROLLBACK" */
	const char *type_long_text; /* unbounded text: "TEXT", "LONGTEXT" */
	const char *type_timestamp; /* a UTC date and time without zone */

	/*
	 * Opens a connection. On DRIVER_OK *out is set; on failure *out stays
	 * NULL and err says why (DRIVER_ECONNECT for an unreachable server,
	 * failed authentication or an unknown database; DRIVER_ECONFIG for
	 * settings that cannot work). Honours settings->connect_timeout.
	 * SQLite: enforces foreign keys and sets a busy timeout on every
	 * connection. The settings are borrowed until close().
	 */
	enum driver_result (*connect)(const struct driver_settings *settings,
				      struct driver_conn **out, struct driver_error *err);

	/* Closes and frees the connection, releasing any lock. close(NULL) is a no-op. */
	void (*close)(struct driver_conn *conn);

	/*
	 * Runs one statement of a migration or seed, exactly as given (len
	 * bytes, not NUL-terminated), with no parameters, and discards any rows.
	 * Every result the database sends back is read and checked, so an error
	 * is never lost. On DRIVER_OK *changes (when changes is not NULL) is the
	 * number of rows the statement inserted, updated or deleted (0 for
	 * DDL). On DRIVER_ESQL err->message is the database's message and
	 * err->offset the error position when known.
	 */
	enum driver_result (*exec)(struct driver_conn *conn, const char *sql, size_t len,
				   long long *changes, struct driver_error *err);

	/*
	 * Runs one statement (NUL-terminated) with nparams text parameters
	 * bound (params[i] NULL binds SQL NULL), calling fn for each row (fn may
	 * be NULL for statements that return none). Parameters are spelled as
	 * the params field says. Values are always bound, never pasted.
	 */
	enum driver_result (*query)(struct driver_conn *conn, const char *sql, int nparams,
				    const char *const *params, driver_row_fn fn, void *ctx,
				    struct driver_error *err);

	/*
	 * Sets *exists to whether a table of that name exists in the current
	 * database (or schema search path). The name is unquoted and exact.
	 */
	enum driver_result (*table_exists)(struct driver_conn *conn, const char *table,
					   int *exists, struct driver_error *err);

	/*
	 * Takes the run-wide lock, waiting up to timeout_s seconds (0: try
	 * once), outside any transaction. name identifies the lock within the
	 * database (the core passes the tracking table's name); the driver
	 * scopes it to the database. Returns DRIVER_ELOCK when the wait runs
	 * out. The lock is held until unlock() or close(), and a crashed
	 * holder's lock is released by the database or the kernel.
	 */
	enum driver_result (*lock)(struct driver_conn *conn, const char *name, int timeout_s,
				   struct driver_error *err);
	enum driver_result (*unlock)(struct driver_conn *conn, struct driver_error *err);

	/*
	 * Optional (DRIVER_CAP_CREATE_DATABASE): create or drop the database
	 * named in settings->database, connecting to the server without it.
	 * SQLite creates the file, or deletes it and its journals.
	 */
	enum driver_result (*create_database)(const struct driver_settings *settings,
					      struct driver_error *err);
	enum driver_result (*drop_database)(const struct driver_settings *settings,
					    struct driver_error *err);

	/*
	 * Optional (NULL: 'dump' and 'verify' are refused on this driver).
	 * Writes the schema of the connected database into *out (the caller
	 * frees) as deterministic, readable text built from the database's own
	 * catalogs: tables, columns (type, nullability, default), primary keys,
	 * unique constraints, foreign keys, CHECK constraints, indexes, views,
	 * and triggers where
	 * the catalog gives them, each sorted, so the same schema always gives
	 * the same bytes on the same database. Tables named in skip
	 * (NULL-terminated; the tracking tables) are left out.
	 */
	enum driver_result (*dump_schema)(struct driver_conn *conn, const char *const *skip,
					  char **out, struct driver_error *err);

	/*
	 * ---- bulk loading, for CSV seeds (DRIVER_CAP_BULK_LOAD) ----
	 *
	 * Optional (NULL: CSV seeds are refused on this driver). The core reads
	 * the CSV file as a stream and hands the driver one row at a time; the
	 * driver sends them by the database's fastest path with every value
	 * bound or streamed, never pasted into SQL, and identifiers quoted. The
	 * core has begun a transaction; a failure leaves it to roll back.
	 *
	 * A load is load_begin, any number of load_row, then load_end (which
	 * finishes it) or load_abort (which gives it up, after a failure or when
	 * the core stops early); both free the load, and the connection is then
	 * ready for the core's next statement (ROLLBACK, or the tracking rows).
	 *
	 * Errors from load_row and load_end set err->offset to the 1-based number
	 * of the row (the n-th load_row call) the database rejected, when it
	 * says so, or -1; the core turns it into the CSV file's line. A driver
	 * that sends rows in batches or streams may report a row's error only
	 * from a later load_row or from load_end.
	 */

	/*
	 * Sets *cols to the columns of table's primary key in key order, as a
	 * NULL-terminated array the caller frees (each string, then the
	 * array), empty when the table has none (SQLite: "rowid" for a rowid
	 * table without a declared key). The name is unquoted and exact.
	 */
	enum driver_result (*primary_key)(struct driver_conn *conn, const char *table, char ***cols,
					  struct driver_error *err);

	/*
	 * Starts loading rows into table's ncols columns cols (names unquoted,
	 * exact). key, when not NULL, names a column the database fills itself
	 * (auto-increment, serial, identity, SQLite's rowid): the driver then
	 * reports the value it gave each loaded row, as text, by calling key_fn
	 * (ncols 1) at any time up to load_end's return; the core uses them to
	 * undo the load by key. On DRIVER_OK *out is the load.
	 */
	enum driver_result (*load_begin)(struct driver_conn *conn, const char *table,
					 const char *const *cols, int ncols, const char *key,
					 driver_row_fn key_fn, void *key_ctx, struct driver_load **out,
					 struct driver_error *err);

	/*
	 * Adds one row: values[i] (lens[i] bytes, NUL-terminated; NULL for SQL
	 * NULL) for cols[i]. Borrowed for the call only: a driver that batches
	 * copies them.
	 */
	enum driver_result (*load_row)(struct driver_load *ld, const char *const *values,
				       const size_t *lens, struct driver_error *err);

	/* Sends what is left, finishes, sets *rows to the rows loaded, frees ld. */
	enum driver_result (*load_end)(struct driver_load *ld, long long *rows,
				       struct driver_error *err);

	/* Gives the load up and frees it. load_abort(NULL) is a no-op. */
	void (*load_abort)(struct driver_load *ld);

	/*
	 * Optional (NULL: an interrupt waits for the statement to end). Asks
	 * the database to stop the statement running on conn. Called from
	 * another thread while conn's own thread waits in exec(), query(),
	 * lock() or a load, and never at the same time as close(): it touches
	 * nothing of conn that its thread uses (PostgreSQL's cancel request
	 * with the cancel object made at connect, MySQL's KILL QUERY over a
	 * second connection, sqlite3_interrupt). The waiting operation then
	 * fails with the database's message; a wait in lock() gives up. A
	 * statement that has not reached the server yet may still run: the
	 * core calls cancel() again while it does.
	 */
	enum driver_result (*cancel)(struct driver_conn *conn, struct driver_error *err);

	/*
	 * Optional (NULL: one namespace per connection, as SQLite). Sets *out
	 * (the caller frees) to the schema (PostgreSQL) or database (MySQL)
	 * where the unqualified name table resolves on conn now: the schema of
	 * the table when one of that name is found (on the search path), else
	 * where CREATE TABLE would put it; NULL when there is none. The core
	 * asks once, right after connect(), for the tracking table, and
	 * qualifies the tracking tables with the answer, so a migration that
	 * moves its session (SET search_path, USE) never moves the history.
	 */
	enum driver_result (*current_schema)(struct driver_conn *conn, const char *table, char **out,
					     struct driver_error *err);

	/*
	 * Optional. Puts the session's name resolution back as it was at
	 * connect (PostgreSQL: RESET search_path; MySQL: the settings'
	 * database again), so each migration starts where the first did, as
	 * if each file ran in a session of its own. Called outside any
	 * transaction.
	 */
	enum driver_result (*reset_session)(struct driver_conn *conn, struct driver_error *err);

	/*
	 * The number of rows the last successful query() inserted, updated or
	 * deleted (rows matched, for an UPDATE that changed nothing, may count
	 * 0 on MySQL). The core checks that each write to a tracking table
	 * touched the row it meant to.
	 */
	long long (*changes)(struct driver_conn *conn);

	/*
	 * ---- test databases, for 'migrate testdb' (migrate/testdb.c) ----
	 *
	 * Optional (connect_server NULL: testdb is refused on this driver).
	 * The core names every database; the driver quotes the names and
	 * never builds one itself. A database is "sealed" when it is
	 * complete and nobody has it: a finished template, or a pool
	 * database no caller has claimed. Sealing is the last step of making
	 * one, so a maker killed half-way leaves an unsealed database that is
	 * never cloned nor handed out (gc removes it).
	 */

	/*
	 * Opens a connection to the server rather than to one database, for
	 * the operations below and for lock()/unlock() (PostgreSQL: the
	 * maintenance database; MySQL: no database selected). Drivers with
	 * DRIVER_CAP_DATABASE_FILES take dir, the directory of the database
	 * files, instead, and lock() on the connection flocks the directory.
	 */
	enum driver_result (*connect_server)(const struct driver_settings *settings, const char *dir,
					     struct driver_conn **out, struct driver_error *err);

	/*
	 * Calls fn once for each database whose name begins with prefix
	 * (exactly, no pattern), with three columns: the name, "1" when it is
	 * sealed else "0", and a decimal number that grows with the time the
	 * database was made (for 'gc --keep'), "0" when unknown.
	 */
	enum driver_result (*list_databases)(struct driver_conn *server, const char *prefix,
					     driver_row_fn fn, void *ctx, struct driver_error *err);

	/*
	 * Makes database to, unsealed: a copy of database from (schema, rows,
	 * the tracking tables; from is sealed and nobody writes to it), or an
	 * empty one when from is NULL. DRIVER_EEXISTS when to exists (nothing
	 * is changed then); DRIVER_EUNSUPPORTED when from holds what this
	 * driver cannot copy (the core then builds to from the migrations).
	 */
	enum driver_result (*clone_database)(struct driver_conn *server, const char *from, const char *to,
					     struct driver_error *err);

	/* Seals database name (see above). */
	enum driver_result (*seal_database)(struct driver_conn *server, const char *name,
					    struct driver_error *err);

	/*
	 * Optional (NULL: no warm pool on this driver). Unseals pool database
	 * name atomically across processes: *claimed is 1 for the one caller
	 * that did it, 0 for every other (it was gone or unsealed already).
	 */
	enum driver_result (*claim_database)(struct driver_conn *server, const char *name, int *claimed,
					     struct driver_error *err);

	/* Drops database name when it exists (SQLite: the file and its journals). */
	enum driver_result (*drop_named_database)(struct driver_conn *server, const char *name,
						  struct driver_error *err);

	/*
	 * ---- safe apply (SPEC section 9) ----
	 *
	 * Optional (NULL: lock_wait and statement_timeout are not applied on
	 * this driver). Fills out with the statements that give the session
	 * the limits lim (see enum driver_limits_how; lim is ignored for
	 * DRIVER_LIMITS_RESET), which the core runs with exec() in order, and
	 * --dry-run prints. The driver keeps lim until the reset, for what the
	 * SQL cannot do: say which lock a wait that ran out was for and which
	 * session held it (in DRIVER_ELOCKWAIT's message: the table, the
	 * session's id, how long it has run, the start of its query or that it
	 * is idle in a transaction), or a statement timeout that is not a
	 * setting (SQLite).
	 */
	void (*set_limits)(struct driver_conn *conn, enum driver_limits_how how,
			   const struct driver_limits *lim, struct driver_sql_list *out);

	/*
	 * Optional (NULL: nothing is ever left). After sql (len bytes) failed
	 * outside a transaction: when it left an object behind that a second
	 * run of it would trip on (the INVALID index of a PostgreSQL CREATE
	 * INDEX CONCURRENTLY), sets *drop (the caller frees) to the statement
	 * that removes it, else to NULL.
	 */
	enum driver_result (*leftover)(struct driver_conn *conn, const char *sql, size_t len,
				       char **drop, struct driver_error *err);

	/*
	 * ---- the run-wide lock on real topologies (SPEC section 10) ----
	 *
	 * The server's clock as milliseconds since the epoch, an SQL
	 * expression, for the lease lock's times (NULL: this driver has no
	 * lease lock, only its own lock()).
	 */
	const char *now_ms_sql;

	/*
	 * Optional (NULL: lock() is always sound). Returns 1, with why filled,
	 * when lock() cannot be trusted on this connection: a Galera/PXC node
	 * (GET_LOCK is local to one node), a connection through a pooling
	 * proxy (a session lock may land on another server session); 0
	 * otherwise, or when it cannot tell.
	 */
	int (*lock_unsound)(struct driver_conn *conn, char *why, size_t len);

	/*
	 * Optional: loads now what connect() would load first (the client
	 * library and its set-up), so that processes forked afterwards (a
	 * fleet's workers) share it instead of each loading it again. NULL:
	 * nothing to load. A failure is left for connect() to report.
	 */
	enum driver_result (*preload)(struct driver_error *err);

	/*
	 * Optional (NULL: a connection serves one run only). Makes conn, as a
	 * finished run left it, fit for the next run on the same database and
	 * login, as a pooler does between two clients (PgBouncer's
	 * server_reset_query): a transaction left open is rolled back;
	 * everything the session had is dropped (settings, temporary tables,
	 * prepared statements, cursors, session locks, LISTENs); what
	 * connect() set is set again, from settings, which replace connect()'s
	 * (borrowed until close()). On any failure (a connection the server
	 * ended, one that is busy) the core closes conn and connects anew.
	 */
	enum driver_result (*reset_connection)(struct driver_conn *conn, const struct driver_settings *settings,
					       struct driver_error *err);

	/* New operations go here, at the end. */
};

/* The drivers this build has, NULL-terminated, in drivers.c. */
extern const struct driver *const driver_list[];

/* The driver called name ("postgresql" and "mariadb" are aliases), or NULL. */
const struct driver *driver_find(const char *name);

/* Formats a message into err (offset -1). For drivers' own use. */
void driver_error_set(struct driver_error *err, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

/*
 * ---- schema dump helpers, for the drivers' dump_schema() ----
 *
 * A driver collects catalog rows with dump_rows_add (a driver_row_fn) and
 * builds its text from sorted line lists, so the order never depends on
 * the catalog's order or the server's collation.
 */
struct dump_rows {
	char **v;        /* v[row * ncols + col]; NULL for SQL NULL */
	size_t n, ncols, cap;
};

/* Appends a row to ctx (a struct dump_rows); rows must all have the same width. */
int dump_rows_add(void *ctx, int ncols, const char *const *values);
/* The cell at row, col ("" for SQL NULL). Borrowed. */
const char *dump_cell(const struct dump_rows *r, size_t row, size_t col);
void dump_rows_release(struct dump_rows *r);

struct dump_lines {
	char **v;
	size_t n, cap;
};

void dump_lines_addf(struct dump_lines *l, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
/* Sorts the lines bytewise (strcmp). */
void dump_lines_sort(struct dump_lines *l);
void dump_lines_release(struct dump_lines *l);
/* Is name one of skip's (NULL-terminated) names? */
int dump_skipped(const char *const *skip, const char *name);
/* s with every run of whitespace made one space, trimmed. The caller frees. */
char *dump_oneline(const char *s);

#endif
