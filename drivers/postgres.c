/*
 * postgres.c - the PostgreSQL driver, through libpq.
 *
 * PostgreSQL's DDL is transactional, so the core wraps each migration and
 * its tracking row in one transaction. Migration statements go through the
 * simple query protocol, one statement per call, so statements that refuse
 * to run in a transaction block (CREATE INDEX CONCURRENTLY, CREATE DATABASE)
 * work in a transaction:false section. The core's own statements are bound
 * with the extended protocol, so values are never pasted into SQL.
 *
 * The run-wide lock is a session advisory lock, held across the many
 * transactions of a run and released by the server when the connection
 * ends, however it ends. Its 64-bit key is
 *
 *     hashtextextended('migrate:' || current_database() || ':' || name, 0)
 *
 * (PostgreSQL 11 and later), so any session, psql included, can find or
 * take the same lock.
 *
 * libpq prints NOTICEs to stderr unless told otherwise; a driver never
 * prints, so every connection gets a notice processor that drops them.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdatomic.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../migrate/util.h"
#include "driver.h"
#include "dynlib.h"

#define PGDRV_CONNECT_TIMEOUT 10
#define PGDRV_LOCK_POLL_MS    100
#define PGDRV_MAINTENANCE_DB  "postgres"

extern const struct driver postgres_driver;

struct pgdrv_conn {
	struct driver_conn base;
	PGconn *pg;
	char *lock_key; /* the advisory lock key as decimal text while held, else NULL */
	PGcancel *cancel;       /* made at connect, for cancel() from another thread */
	atomic_int cancelled;   /* cancel() was called: a lock wait gives up */
	long long last_changes; /* rows the last query() wrote */
	const struct driver_settings *settings; /* borrowed until close, for the watcher */
	/*
	 * Safe apply: while lock_wait_ms is set, a statement that runs longer
	 * than half of it is looked at from a second connection (watcher), and
	 * what it waits for and who holds that goes in blocker.
	 */
	long long lock_wait_ms;
	PGconn *watcher;
	char blocker[512];
};

static void pgdrv_notice_ignore(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/*
 * Copies prefix and text into err as one line: libpq's messages end in a
 * newline and often span several (one per host tried, a tab-indented hint),
 * so every run of line breaks and tabs becomes one space.
 */
static void pgdrv_error_text(struct driver_error *err, const char *prefix, const char *text)
{
	size_t n = 0, cap = sizeof(err->message) - 1;
	const char *p;
	int space = 0;

	for (p = prefix; *p && n < cap; p++)
		err->message[n++] = *p;
	for (p = text ? text : ""; *p && n < cap; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t') {
			space = 1;
			continue;
		}
		if (space && n > 0 && err->message[n - 1] != ' ')
			err->message[n++] = ' ';
		space = 0;
		if (n < cap)
			err->message[n++] = *p;
	}
	while (n > 0 && err->message[n - 1] == ' ')
		n--;
	err->message[n] = '\0';
	err->offset = -1;
}

static int pgdrv_valid_sslmode(const char *mode)
{
	static const char *const modes[] = { "disable", "allow", "prefer", "require", "verify-ca",
					     "verify-full" };
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(mode, modes[i]) == 0)
			return 1;
	return 0;
}

/* What pgdrv_open sets in the new session. */
enum pgdrv_session {
	PGDRV_SESSION_QUIET,     /* client_min_messages = warning */
	PGDRV_SESSION_READ_ONLY, /* that, and read-only transactions (--dry-run) */
	PGDRV_SESSION_AS_IS      /* nothing: no round trip (testdb's server connection) */
};

/*
 * Opens a libpq connection to dbname with the settings' host, credentials
 * and options. On DRIVER_OK *out is a connection whose notices are dropped
 * and whose session is set as session says: with client_min_messages
 * warning, so the server does not even send the notices; with
 * PGDRV_SESSION_READ_ONLY, transactions that are read-only, so the server
 * refuses any write should the core ever send one.
 */
static enum driver_result pgdrv_open(const struct driver_settings *s, const char *dbname,
				     enum pgdrv_session session, PGconn **out, struct driver_error *err)
{
	const char *keys[16], *vals[16];
	char port[16], timeout[16];
	PGconn *pg;
	PGresult *res;
	int n = 0;

	*out = NULL;
	if (s->sslmode && *s->sslmode && !pgdrv_valid_sslmode(s->sslmode)) {
		driver_error_set(err, "sslmode '%s' is not one of disable, allow, prefer, require, "
				      "verify-ca, verify-full", s->sslmode);
		return DRIVER_ECONFIG;
	}
	/* a socket is a directory holding .s.PGSQL.<port>; libpq takes it as the host */
	if (s->socket && *s->socket) {
		keys[n] = "host";
		vals[n++] = s->socket;
	} else if (s->host && *s->host) {
		keys[n] = "host";
		vals[n++] = s->host;
	}
	if (s->port > 0) {
		snprintf(port, sizeof(port), "%d", s->port);
		keys[n] = "port";
		vals[n++] = port;
	}
	if (s->user && *s->user) {
		keys[n] = "user";
		vals[n++] = s->user;
	}
	if (s->password) {
		keys[n] = "password";
		vals[n++] = s->password;
	}
	if (dbname && *dbname) {
		keys[n] = "dbname";
		vals[n++] = dbname;
	}
	if (s->sslmode && *s->sslmode) {
		keys[n] = "sslmode";
		vals[n++] = s->sslmode;
	}
	if (s->options && *s->options) {
		keys[n] = "options";
		vals[n++] = s->options;
	}
	snprintf(timeout, sizeof(timeout), "%d",
		 s->connect_timeout > 0 ? s->connect_timeout : PGDRV_CONNECT_TIMEOUT);
	keys[n] = "connect_timeout";
	vals[n++] = timeout;
	/* the fallback, so PGAPPNAME still names the application when the user sets it */
	keys[n] = "fallback_application_name";
	vals[n++] = "migrate";
	keys[n] = NULL;
	vals[n] = NULL;

	/* libpq is loaded on first use, so SQLite and MySQL runs never pay for it */
	if (dynlib_open(&pgdrv_libpq, err))
		return DRIVER_ECONFIG;
	/* expand_dbname 0: a database name is a name, never a connection string */
	pg = PQconnectdbParams(keys, vals, 0);
	if (!pg) {
		driver_error_set(err, "out of memory in libpq");
		return DRIVER_ECONNECT;
	}
	PQsetNoticeProcessor(pg, pgdrv_notice_ignore, NULL);
	if (PQstatus(pg) != CONNECTION_OK) {
		pgdrv_error_text(err, "", PQerrorMessage(pg));
		PQfinish(pg);
		return DRIVER_ECONNECT;
	}
	if (session == PGDRV_SESSION_AS_IS) {
		*out = pg;
		return DRIVER_OK;
	}
	/* one round trip for both (a simple query may hold several statements) */
	res = PQexec(pg, session == PGDRV_SESSION_READ_ONLY
				 ? "SET client_min_messages TO warning; SET default_transaction_read_only TO on"
				 : "SET client_min_messages TO warning");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		pgdrv_error_text(err, "", res ? PQresultErrorMessage(res) : PQerrorMessage(pg));
		PQclear(res);
		PQfinish(pg);
		return DRIVER_ECONNECT;
	}
	PQclear(res);
	*out = pg;
	return DRIVER_OK;
}

static enum driver_result pgdrv_connect_as(const struct driver_settings *s, enum pgdrv_session session,
					   struct driver_conn **out, struct driver_error *err)
{
	struct pgdrv_conn *c;
	enum driver_result r;
	PGconn *pg;

	*out = NULL;
	r = pgdrv_open(s, s->database, session, &pg, err);
	if (r != DRIVER_OK)
		return r;
	c = xcalloc(1, sizeof(*c));
	c->base.drv = &postgres_driver;
	c->pg = pg;
	c->cancel = PQgetCancel(pg);
	atomic_init(&c->cancelled, 0);
	c->settings = s;
	*out = &c->base;
	return DRIVER_OK;
}

static enum driver_result pgdrv_connect(const struct driver_settings *s, struct driver_conn **out,
					struct driver_error *err)
{
	return pgdrv_connect_as(s, s->read_only ? PGDRV_SESSION_READ_ONLY : PGDRV_SESSION_QUIET, out, err);
}

static void pgdrv_close(struct driver_conn *conn)
{
	struct pgdrv_conn *c = (struct pgdrv_conn *)conn;

	if (!c)
		return;
	PQfinish(c->pg); /* the server releases the session's advisory lock */
	if (c->cancel)
		PQfreeCancel(c->cancel);
	if (c->watcher)
		PQfinish(c->watcher);
	free(c->lock_key);
	free(c);
}

/*
 * The byte offset of the 1-based character position pos in sql. The server
 * counts characters of the statement as it received it: UTF-8 characters
 * when the client encoding is UTF8 (and the server converts), bytes in the
 * single-byte encodings and SQL_ASCII.
 */
static long pgdrv_position_offset(PGconn *pg, const char *sql, size_t len, long pos)
{
	const char *cenc = PQparameterStatus(pg, "client_encoding");
	const char *senc = PQparameterStatus(pg, "server_encoding");
	size_t i = 0;
	long chars = 0;

	if (pos < 1)
		return -1;
	if (!cenc || strcmp(cenc, "UTF8") != 0 || (senc && strcmp(senc, "SQL_ASCII") == 0))
		return (size_t)(pos - 1) < len ? pos - 1 : (long)len;
	while (i < len && chars < pos - 1) {
		i++;
		/* skip the continuation bytes (10xxxxxx) of this character */
		while (i < len && ((unsigned char)sql[i] & 0xC0) == 0x80)
			i++;
		chars++;
	}
	return (long)i;
}

/*
 * Fills err from an error result: the primary message, its SQLSTATE, and
 * DETAIL and HINT when the server sent them, on one line; the offset when
 * the server says where in sql the error is.
 */
static void pgdrv_result_error(PGconn *pg, const PGresult *res, const char *sql, size_t len,
			       struct driver_error *err)
{
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *state, *detail, *hint, *pos;
	struct strbuf sb = STRBUF_INIT;

	if (!primary) {
		/* an error libpq made itself (lost connection, out of memory) */
		const char *msg = res ? PQresultErrorMessage(res) : "";
		pgdrv_error_text(err, "", *msg ? msg : PQerrorMessage(pg));
		return;
	}
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
	strbuf_addstr(&sb, primary);
	if (state)
		strbuf_addf(&sb, " (SQLSTATE %s)", state);
	if (detail)
		strbuf_addf(&sb, " DETAIL: %s", detail);
	if (hint)
		strbuf_addf(&sb, " HINT: %s", hint);
	pgdrv_error_text(err, "", strbuf_str(&sb));
	strbuf_release(&sb);
	if (pos && sql)
		err->offset = pgdrv_position_offset(pg, sql, len, strtol(pos, NULL, 10));
}

/*
 * Whether a result's row count is rows written: INSERT, UPDATE, DELETE,
 * MERGE, COPY, and CREATE TABLE AS / SELECT INTO (tagged "SELECT n" but
 * returning no rows). A plain SELECT's count is rows read.
 */
static long long pgdrv_changes(const PGresult *res)
{
	static const char *const tags[] = { "INSERT ", "UPDATE ", "DELETE ", "MERGE ", "COPY " };
	const char *tag = PQcmdStatus((PGresult *)res);
	const char *n = PQcmdTuples((PGresult *)res);
	size_t i;
	int counts = 0;

	if (!*n)
		return 0;
	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (strncmp(tag, tags[i], strlen(tags[i])) == 0)
			counts = 1;
	if (strncmp(tag, "SELECT ", 7) == 0 && PQresultStatus(res) == PGRES_COMMAND_OK)
		counts = 1;
	return counts ? strtoll(n, NULL, 10) : 0;
}

/*
 * Reads every result of the query just sent, so an error is never lost and
 * the connection is ready for the next one. Rows go to fn until it returns
 * non-zero; a COPY is ended (FROM STDIN refused, TO STDOUT discarded). The
 * first error wins; a connection lost on the way is DRIVER_ECONNECT.
 */
static enum driver_result pgdrv_results(struct pgdrv_conn *c, const char *sql, size_t len,
					driver_row_fn fn, void *ctx, long long *changes,
					struct driver_error *err)
{
	const char **vals = NULL;
	size_t cap = 0;
	PGresult *res;
	int failed = 0, stop = 0, lock_wait = 0;

	while ((res = PQgetResult(c->pg)) != NULL) {
		ExecStatusType st = PQresultStatus(res);
		int row, col, nrows, ncols;
		char *buf;

		switch (st) {
		case PGRES_TUPLES_OK:
		case PGRES_SINGLE_TUPLE:
			nrows = PQntuples(res);
			ncols = PQnfields(res);
			xgrow(&vals, &cap, (size_t)ncols + 1, sizeof(*vals));
			for (row = 0; fn && !stop && row < nrows; row++) {
				for (col = 0; col < ncols; col++) {
					int null = PQgetisnull(res, row, col);
					vals[col] = null ? NULL : PQgetvalue(res, row, col);
				}
				stop = fn(ctx, ncols, vals);
			}
			/* fall through */
		case PGRES_COMMAND_OK:
		case PGRES_EMPTY_QUERY:
			if (changes)
				*changes += pgdrv_changes(res);
			break;
		case PGRES_COPY_IN:
			PQputCopyEnd(c->pg, "COPY FROM STDIN is not supported here");
			break;
		case PGRES_COPY_OUT:
			while (PQgetCopyData(c->pg, &buf, 0) > 0)
				PQfreemem(buf);
			break;
		default:
			if (!failed) {
				const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
				pgdrv_result_error(c->pg, res, sql, len, err);
				/* lock_not_available (lock_timeout), deadlock_detected */
				if (state && (strcmp(state, "55P03") == 0 || strcmp(state, "40P01") == 0))
					lock_wait = 1;
			}
			failed = 1;
			break;
		}
		PQclear(res);
		/* COPY BOTH (replication) has no end we can reach: give up on the connection */
		if (st == PGRES_COPY_BOTH || PQstatus(c->pg) == CONNECTION_BAD)
			break;
	}
	free(vals);
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		char msg[sizeof(err->message)];

		if (!failed)
			pgdrv_error_text(err, "", PQerrorMessage(c->pg));
		snprintf(msg, sizeof(msg), "%s", err->message);
		pgdrv_error_text(err, "connection lost: ", msg);
		return DRIVER_ECONNECT;
	}
	if (lock_wait && c->blocker[0]) {
		size_t n = strlen(err->message);
		snprintf(err->message + n, sizeof(err->message) - n, "; %s", c->blocker);
	}
	return failed ? (lock_wait ? DRIVER_ELOCKWAIT : DRIVER_ESQL) : DRIVER_OK;
}

/* A send that failed: the connection is gone or the query could not be sent. */
static enum driver_result pgdrv_send_failed(struct pgdrv_conn *c, struct driver_error *err)
{
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		pgdrv_error_text(err, "connection lost: ", PQerrorMessage(c->pg));
		return DRIVER_ECONNECT;
	}
	pgdrv_error_text(err, "", PQerrorMessage(c->pg));
	return DRIVER_ESQL;
}

static void pgdrv_watch(struct pgdrv_conn *c);

static enum driver_result pgdrv_exec(struct driver_conn *conn, const char *sql, size_t len,
				     long long *changes, struct driver_error *err)
{
	struct pgdrv_conn *c = (struct pgdrv_conn *)conn;
	enum driver_result r;
	long long n = 0;
	char *stmt;

	if (changes)
		*changes = 0;
	stmt = xstrndup(sql, len);
	/* the simple protocol, as PQexec, but every result is read and checked */
	if (!PQsendQuery(c->pg, stmt)) {
		free(stmt);
		return pgdrv_send_failed(c, err);
	}
	pgdrv_watch(c);
	r = pgdrv_results(c, stmt, len, NULL, NULL, &n, err);
	free(stmt);
	if (r == DRIVER_OK && changes)
		*changes = n;
	return r;
}

static enum driver_result pgdrv_query(struct driver_conn *conn, const char *sql, int nparams,
				      const char *const *params, driver_row_fn fn, void *ctx,
				      struct driver_error *err)
{
	struct pgdrv_conn *c = (struct pgdrv_conn *)conn;
	enum driver_result r;
	long long n = 0;

	c->last_changes = 0;
	/* text parameters, types left to the server (NULL paramTypes) */
	if (!PQsendQueryParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0))
		return pgdrv_send_failed(c, err);
	r = pgdrv_results(c, sql, strlen(sql), fn, ctx, &n, err);
	if (r == DRIVER_OK)
		c->last_changes = n;
	return r;
}

/* Keeps the first column of the first row, for one-value queries. */
static int pgdrv_first_value(void *ctx, int ncols, const char *const *values)
{
	char **out = ctx;

	if (ncols > 0 && !*out)
		*out = xstrdup(values[0] ? values[0] : "");
	return 1;
}

static enum driver_result pgdrv_value(struct pgdrv_conn *c, const char *sql, int nparams,
				      const char *const *params, char **out,
				      struct driver_error *err)
{
	enum driver_result r;

	*out = NULL;
	r = pgdrv_query(&c->base, sql, nparams, params, pgdrv_first_value, out, err);
	if (r != DRIVER_OK) {
		free(*out);
		*out = NULL;
	}
	return r;
}

static enum driver_result pgdrv_table_exists(struct driver_conn *conn, const char *table,
					     int *exists, struct driver_error *err)
{
	struct pgdrv_conn *c = (struct pgdrv_conn *)conn;
	const char *params[1] = { table };
	enum driver_result r;
	char *v;

	*exists = 0;
	/* quote_ident keeps the name exact; to_regclass resolves it on the search path */
	r = pgdrv_value(c,
			"SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class"
			" WHERE oid = pg_catalog.to_regclass(pg_catalog.quote_ident($1))"
			" AND relkind IN ('r', 'p'))",
			1, params, &v, err);
	if (r != DRIVER_OK)
		return r;
	*exists = v && strcmp(v, "t") == 0;
	free(v);
	return DRIVER_OK;
}

static void pgdrv_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* The pid of the session holding the advisory lock key, or NULL when unknown. */
static char *pgdrv_lock_holder(struct pgdrv_conn *c, const char *key)
{
	struct driver_error ignored;
	const char *params[1] = { key };
	char *pid;

	pgdrv_value(c,
		    "SELECT pid FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND granted"
		    " AND database = (SELECT oid FROM pg_catalog.pg_database"
		    " WHERE datname = pg_catalog.current_database())"
		    " AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = $1::bigint"
		    " LIMIT 1",
		    1, params, &pid, &ignored);
	return pid;
}

static enum driver_result pgdrv_lock(struct driver_conn *conn, const char *name, int timeout_s,
				     struct driver_error *err)
{
	struct pgdrv_conn *c = (struct pgdrv_conn *)conn;
	long long deadline = now_ms() + (long long)timeout_s * 1000;
	const char *params[1] = { name };
	enum driver_result r;
	char *key, *got;

	if (c->lock_key)
		return DRIVER_OK;
	if (PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
		driver_error_set(err, "the migration lock cannot be taken inside a transaction");
		return DRIVER_ESQL;
	}
	r = pgdrv_value(c,
			"SELECT pg_catalog.hashtextextended("
			"'migrate:' || pg_catalog.current_database() || ':' || $1, 0)",
			1, params, &key, err);
	if (r != DRIVER_OK)
		return r;
	params[0] = key;
	for (;;) {
		r = pgdrv_value(c, "SELECT pg_catalog.pg_try_advisory_lock($1::bigint)", 1, params,
				&got, err);
		if (r != DRIVER_OK) {
			free(key);
			return r;
		}
		if (got && strcmp(got, "t") == 0) {
			free(got);
			c->lock_key = key;
			return DRIVER_OK;
		}
		free(got);
		if (atomic_load(&c->cancelled)) {
			driver_error_set(err, "interrupted while waiting for advisory lock %s", key);
			free(key);
			return DRIVER_ELOCK;
		}
		if (now_ms() >= deadline) {
			char *pid = pgdrv_lock_holder(c, key);
			if (pid && *pid)
				driver_error_set(err, "advisory lock %s is held by server process %s",
						 key, pid);
			else
				driver_error_set(err, "advisory lock %s is held by another session",
						 key);
			free(pid);
			free(key);
			return DRIVER_ELOCK;
		}
		pgdrv_sleep_ms(PGDRV_LOCK_POLL_MS);
	}
}

static enum driver_result pgdrv_unlock(struct driver_conn *conn, struct driver_error *err)
{
	struct pgdrv_conn *c = (struct pgdrv_conn *)conn;
	const char *params[1];
	enum driver_result r;
	char *released;

	if (!c->lock_key)
		return DRIVER_OK;
	params[0] = c->lock_key;
	r = pgdrv_value(c, "SELECT pg_catalog.pg_advisory_unlock($1::bigint)", 1, params, &released,
			err);
	/* on failure (an aborted transaction) the lock stays held until close() */
	if (r != DRIVER_OK)
		return r;
	free(c->lock_key);
	c->lock_key = NULL;
	if (!released || strcmp(released, "t") != 0) {
		driver_error_set(err, "the advisory lock was not held");
		r = DRIVER_ESQL;
	}
	free(released);
	return r;
}

/* ---- interrupts and the session ---------------------------------------------- */

static enum driver_result pgdrv_cancel(struct driver_conn *conn, struct driver_error *err)
{
	struct pgdrv_conn *c = (struct pgdrv_conn *)conn;
	char msg[256];

	atomic_store(&c->cancelled, 1);
	/* PQcancel is safe from another thread: it opens a connection of its own */
	if (c->cancel && !PQcancel(c->cancel, msg, sizeof(msg))) {
		pgdrv_error_text(err, "cannot send a cancel request: ", msg);
		return DRIVER_ECONNECT;
	}
	return DRIVER_OK;
}

static enum driver_result pgdrv_current_schema(struct driver_conn *conn, const char *table, char **out,
					       struct driver_error *err)
{
	const char *params[1] = { table };
	/* where the table is found on the search path (as before), else where it would be made */
	enum driver_result r = pgdrv_value((struct pgdrv_conn *)conn,
					   "SELECT COALESCE((SELECT n.nspname FROM pg_catalog.pg_class c"
					   " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
					   " WHERE c.oid = pg_catalog.to_regclass(pg_catalog.quote_ident($1))),"
					   " pg_catalog.current_schema())",
					   1, params, out, err);

	if (r == DRIVER_OK && *out && !**out) { /* NULL: no schema of the search path exists */
		free(*out);
		*out = NULL;
	}
	return r;
}

static enum driver_result pgdrv_reset_session(struct driver_conn *conn, struct driver_error *err)
{
	return pgdrv_exec(conn, "RESET search_path", 17, NULL, err);
}

/*
 * Between two runs on one connection (a fleet's schemas of one database):
 * DISCARD ALL, what PgBouncer's session pooling sends between clients,
 * drops the session's settings, temporary tables, prepared statements
 * (this driver keeps none of its own: its statements are unnamed), cursors,
 * advisory locks and LISTENs; then the settings connect made, again.
 */
static enum driver_result pgdrv_reset_connection(struct driver_conn *conn, const struct driver_settings *s,
						 struct driver_error *err)
{
	struct pgdrv_conn *c = (struct pgdrv_conn *)conn;
	const char *set = s->read_only ? "SET client_min_messages TO warning; SET default_transaction_read_only TO on"
				       : "SET client_min_messages TO warning";
	enum driver_result r = DRIVER_OK;

	if (PQstatus(c->pg) != CONNECTION_OK) {
		pgdrv_error_text(err, "connection lost: ", PQerrorMessage(c->pg));
		return DRIVER_ECONNECT;
	}
	switch (PQtransactionStatus(c->pg)) {
	case PQTRANS_IDLE:
		break;
	case PQTRANS_INTRANS:
	case PQTRANS_INERROR:
		r = pgdrv_exec(conn, "ROLLBACK", 8, NULL, err);
		break;
	default: /* a statement still running, or a connection libpq cannot tell */
		driver_error_set(err, "the connection is busy");
		return DRIVER_ECONNECT;
	}
	/* alone: DISCARD ALL refuses to run in a transaction block, a multi-statement query's too */
	if (r == DRIVER_OK)
		r = pgdrv_exec(conn, "DISCARD ALL", 11, NULL, err);
	if (r == DRIVER_OK)
		r = pgdrv_exec(conn, set, strlen(set), NULL, err);
	if (r != DRIVER_OK)
		return r;
	/* the server released every advisory lock; a cancel was for the run before */
	free(c->lock_key);
	c->lock_key = NULL;
	atomic_store(&c->cancelled, 0);
	c->lock_wait_ms = 0;
	c->blocker[0] = '\0';
	c->last_changes = 0;
	c->settings = s;
	return DRIVER_OK;
}

static long long pgdrv_last_changes(struct driver_conn *conn)
{
	return ((struct pgdrv_conn *)conn)->last_changes;
}

/*
 * Runs one statement on a connection to the maintenance database, since a
 * database cannot be created or dropped from inside itself. ignore_state
 * is a SQLSTATE that counts as success, or NULL.
 */
static enum driver_result pgdrv_maintenance(const struct driver_settings *s, const char *verb,
					    const char *ignore_state, struct driver_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	enum driver_result r;
	const char *p, *state;
	PGresult *res;
	PGconn *pg;

	if (!s->database || !*s->database) {
		driver_error_set(err, "no database name given");
		return DRIVER_ECONFIG;
	}
	r = pgdrv_open(s, PGDRV_MAINTENANCE_DB, PGDRV_SESSION_QUIET, &pg, err);
	if (r != DRIVER_OK)
		return r;
	strbuf_addf(&sb, "%s \"", verb);
	for (p = s->database; *p; p++) {
		if (*p == '"')
			strbuf_addch(&sb, '"');
		strbuf_addch(&sb, *p);
	}
	strbuf_addch(&sb, '"');
	res = PQexec(pg, strbuf_str(&sb));
	if (PQresultStatus(res) == PGRES_COMMAND_OK) {
		r = DRIVER_OK;
	} else {
		state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		if (ignore_state && state && strcmp(state, ignore_state) == 0) {
			r = DRIVER_OK;
		} else {
			pgdrv_result_error(pg, res, NULL, 0, err);
			r = PQstatus(pg) == CONNECTION_BAD ? DRIVER_ECONNECT : DRIVER_ESQL;
		}
	}
	PQclear(res);
	PQfinish(pg);
	strbuf_release(&sb);
	return r;
}

static enum driver_result pgdrv_create_database(const struct driver_settings *s,
						struct driver_error *err)
{
	/* 42P04 duplicate_database: already there is what was asked for */
	return pgdrv_maintenance(s, "CREATE DATABASE", "42P04", err);
}

static enum driver_result pgdrv_drop_database(const struct driver_settings *s,
					      struct driver_error *err)
{
	return pgdrv_maintenance(s, "DROP DATABASE IF EXISTS", NULL, err);
}

/* ---- schema dump ---------------------------------------------------------- */

/*
 * The schema of the schemas on the search path (current_schemas(false)),
 * from pg_catalog, with the server's own deparsers (format_type,
 * pg_get_constraintdef, pg_get_indexdef, pg_get_triggerdef,
 * pg_get_viewdef, pg_get_functiondef), which print the same text for the
 * same definition whatever statements built it. OIDs are used to join but
 * never printed. Objects outside the current schema carry its name.
 * Constraint names are left out (they are generated from the table and
 * columns, but numbered on collision); index and trigger names stay, since
 * a person chose them. Objects of extensions are left out.
 */

#define PGDRV_IN_PATH "n.nspname = ANY (pg_catalog.current_schemas(false))"
#define PGDRV_DISPLAY(rel) \
	"CASE WHEN n.nspname = pg_catalog.current_schema() THEN " rel " ELSE n.nspname || '.' || " rel " END"
#define PGDRV_NOT_EXTENSION(cls, oid) \
	" AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e WHERE e.classid = '" cls "'::regclass" \
	" AND e.objid = " oid " AND e.deptype = 'e')"

static enum driver_result pgdrv_rows(struct pgdrv_conn *c, const char *sql, const char *param,
				     struct dump_rows *out, struct driver_error *err)
{
	memset(out, 0, sizeof(*out));
	return pgdrv_query(&c->base, sql, param ? 1 : 0, &param, dump_rows_add, out, err);
}

/*
 * Adds each row of sql (run with param) to lines as "  KIND name: text", or
 * "  text" when kind is NULL, the text (column 1) on one line.
 */
static enum driver_result pgdrv_dump_lines(struct pgdrv_conn *c, const char *sql, const char *param,
					   const char *kind, struct dump_lines *lines, struct driver_error *err)
{
	struct dump_rows r;
	enum driver_result res = pgdrv_rows(c, sql, param, &r, err);
	size_t i;

	for (i = 0; res == DRIVER_OK && i < r.n; i++) {
		char *one = dump_oneline(dump_cell(&r, i, 1));
		if (kind)
			dump_lines_addf(lines, "  %s %s: %s", kind, dump_cell(&r, i, 0), one);
		else
			dump_lines_addf(lines, "  %s", one);
		free(one);
	}
	dump_rows_release(&r);
	return res;
}

static enum driver_result pgdrv_dump_table(struct pgdrv_conn *c, const char *oid, struct strbuf *out,
					   struct driver_error *err)
{
	struct dump_lines cols = { NULL, 0, 0 }, rest = { NULL, 0, 0 };
	struct dump_rows r;
	enum driver_result res;
	size_t i;

	res = pgdrv_rows(c, "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,"
			    " pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,"
			    " CASE WHEN a.attcollation <> t.typcollation THEN co.collname END"
			    " FROM pg_catalog.pg_attribute a"
			    " JOIN pg_catalog.pg_type t ON t.oid = a.atttypid"
			    " LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
			    " LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation"
			    " WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped",
			 oid, &r, err);
	for (i = 0; res == DRIVER_OK && i < r.n; i++) {
		const char *dflt = r.v[i * r.ncols + 3], *ident = dump_cell(&r, i, 4), *gen = dump_cell(&r, i, 5);
		const char *coll = r.v[i * r.ncols + 6];
		dump_lines_addf(&cols, "  column %s %s%s%s%s%s%s%s%s%s", dump_cell(&r, i, 0), dump_cell(&r, i, 1),
				coll ? " collate " : "", coll ? coll : "",
				strcmp(dump_cell(&r, i, 2), "t") == 0 ? " not null" : "",
				dflt && *gen ? " generated always as " : dflt ? " default " : "", dflt ? dflt : "",
				dflt && *gen ? " stored" : "",
				*ident == 'a' ? " generated always as identity" : "",
				*ident == 'd' ? " generated by default as identity" : "");
	}
	dump_rows_release(&r);
	if (res == DRIVER_OK)
		res = pgdrv_dump_lines(c, "SELECT contype, pg_catalog.pg_get_constraintdef(oid, true)"
					  " FROM pg_catalog.pg_constraint WHERE conrelid = $1::oid",
				       oid, NULL, &rest, err);
	if (res == DRIVER_OK)
		res = pgdrv_dump_lines(c, "SELECT i.relname, pg_catalog.pg_get_indexdef(x.indexrelid)"
					  " FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid"
					  " WHERE x.indrelid = $1::oid AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k"
					  " WHERE k.conrelid = x.indrelid AND k.conindid = x.indexrelid AND k.contype IN ('p', 'u', 'x'))",
				       oid, "index", &rest, err);
	if (res == DRIVER_OK)
		res = pgdrv_dump_lines(c, "SELECT tgname, pg_catalog.pg_get_triggerdef(oid, true)"
					  " FROM pg_catalog.pg_trigger WHERE tgrelid = $1::oid AND NOT tgisinternal",
				       oid, "trigger", &rest, err);
	if (res == DRIVER_OK) {
		dump_lines_sort(&cols);
		dump_lines_sort(&rest);
		for (i = 0; i < cols.n; i++)
			strbuf_addf(out, "%s\n", cols.v[i]);
		for (i = 0; i < rest.n; i++)
			strbuf_addf(out, "%s\n", rest.v[i]);
	}
	dump_lines_release(&cols);
	dump_lines_release(&rest);
	return res;
}

/* One object of the dump: its header (the sort key) and its text. */
struct pgdrv_object {
	char *head;
	char *text;
};

static int pgdrv_object_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pgdrv_object *)a)->head, ((const struct pgdrv_object *)b)->head);
}

static enum driver_result pgdrv_dump_schema(struct driver_conn *conn, const char *const *skip,
					    char **out, struct driver_error *err)
{
	struct pgdrv_conn *c = (struct pgdrv_conn *)conn;
	struct pgdrv_object *objs = NULL;
	size_t nobjs = 0, cap = 0, i;
	struct strbuf sb = STRBUF_INIT;
	struct dump_rows r;
	enum driver_result res;

	*out = NULL;
	/* tables, views, materialized views, sequences */
	res = pgdrv_rows(c, "SELECT c.oid, c.relkind, " PGDRV_DISPLAY("c.relname") ", c.relname,"
			    " CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid, true) END,"
			    " n.nspname = pg_catalog.current_schema()"
			    " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
			    " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND " PGDRV_IN_PATH
			    PGDRV_NOT_EXTENSION("pg_catalog.pg_class", "c.oid"),
			 NULL, &r, err);
	for (i = 0; res == DRIVER_OK && i < r.n; i++) {
		const char *kind = dump_cell(&r, i, 1), *name = dump_cell(&r, i, 2);
		struct strbuf t = STRBUF_INIT;
		char *one;

		if (strcmp(dump_cell(&r, i, 5), "t") == 0 && (*kind == 'r' || *kind == 'p') &&
		    dump_skipped(skip, dump_cell(&r, i, 3)))
			continue;
		xgrow(&objs, &cap, nobjs + 1, sizeof(*objs));
		switch (*kind) {
		case 'r':
		case 'p':
			objs[nobjs].head = xasprintf("table %s", name);
			res = pgdrv_dump_table(c, dump_cell(&r, i, 0), &t, err);
			break;
		case 'v':
		case 'm':
			one = dump_oneline(dump_cell(&r, i, 4));
			objs[nobjs].head = xasprintf("%s %s", *kind == 'v' ? "view" : "materialized view", name);
			strbuf_addf(&t, "  %s\n", one);
			free(one);
			{
				struct dump_lines trig = { NULL, 0, 0 };
				size_t j;
				res = pgdrv_dump_lines(c, "SELECT tgname, pg_catalog.pg_get_triggerdef(oid, true)"
							  " FROM pg_catalog.pg_trigger WHERE tgrelid = $1::oid AND NOT tgisinternal",
						       dump_cell(&r, i, 0), "trigger", &trig, err);
				dump_lines_sort(&trig);
				for (j = 0; j < trig.n; j++)
					strbuf_addf(&t, "%s\n", trig.v[j]);
				dump_lines_release(&trig);
			}
			break;
		default:
			objs[nobjs].head = xasprintf("sequence %s", name);
			break;
		}
		objs[nobjs++].text = strbuf_detach(&t);
	}
	dump_rows_release(&r);
	/* functions and procedures, and enum types */
	if (res == DRIVER_OK)
		res = pgdrv_rows(c, "SELECT CASE p.prokind WHEN 'p' THEN 'procedure ' ELSE 'function ' END || "
				    PGDRV_DISPLAY("p.proname") " || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')',"
				    " pg_catalog.pg_get_functiondef(p.oid)"
				    " FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
				    " WHERE p.prokind IN ('f', 'p') AND " PGDRV_IN_PATH
				    PGDRV_NOT_EXTENSION("pg_catalog.pg_proc", "p.oid")
				    " UNION ALL"
				    " SELECT 'type ' || " PGDRV_DISPLAY("t.typname") ", 'enum (' || (SELECT"
				    " pg_catalog.string_agg(pg_catalog.quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)"
				    " FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid) || ')'"
				    " FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace"
				    " WHERE t.typtype = 'e' AND " PGDRV_IN_PATH
				    PGDRV_NOT_EXTENSION("pg_catalog.pg_type", "t.oid"),
				 NULL, &r, err);
	for (i = 0; res == DRIVER_OK && i < r.n; i++) {
		char *one = dump_oneline(dump_cell(&r, i, 1));
		xgrow(&objs, &cap, nobjs + 1, sizeof(*objs));
		objs[nobjs].head = xstrdup(dump_cell(&r, i, 0));
		objs[nobjs++].text = xasprintf("  %s\n", one);
		free(one);
	}
	dump_rows_release(&r);
	if (nobjs > 1)
		qsort(objs, nobjs, sizeof(*objs), pgdrv_object_cmp);
	for (i = 0; i < nobjs; i++) {
		if (res == DRIVER_OK)
			strbuf_addf(&sb, "%s%s\n%s", i ? "\n" : "", objs[i].head, objs[i].text);
		free(objs[i].head);
		free(objs[i].text);
	}
	free(objs);
	if (res != DRIVER_OK) {
		strbuf_release(&sb);
		return res;
	}
	*out = strbuf_detach(&sb);
	return DRIVER_OK;
}

/* ---- bulk loading ------------------------------------------------------------ */

/*
 * COPY table (cols) FROM STDIN in text format, rows encoded here (tab
 * between values, \N for NULL, backslash escapes) and sent in blocks of
 * PGDRV_COPY_BLOCK bytes. The server reports a bad row as "COPY t, line N"
 * in the error's context; N counts the rows sent, which is the row number
 * the core wants. Generated keys are read after the COPY: the rows whose
 * xmin is the transaction's own id are the rows it wrote. When the
 * transaction had written before the load (seed --rerun runs every undo and
 * load of the run in one transaction), the keys of the rows it had written
 * to that table by then are read first and left out.
 */
#define PGDRV_COPY_BLOCK (256 << 10)

struct driver_load {
	struct pgdrv_conn *c;
	struct strbuf buf;
	int ncols;
	long long rows;
	char *key_sql;      /* SELECT of the generated keys, or NULL */
	driver_row_fn key_fn;
	void *key_ctx;
	char **before;      /* keys this transaction had written before the load, sorted */
	size_t nbefore;
};

static void pgdrv_quote(struct strbuf *sb, const char *name)
{
	strbuf_addch(sb, '"');
	for (; *name; name++) {
		if (*name == '"')
			strbuf_addch(sb, '"');
		strbuf_addch(sb, *name);
	}
	strbuf_addch(sb, '"');
}

struct pgdrv_names {
	char **v;
	size_t n, cap;
};

static int pgdrv_add_name(void *ctx, int ncols, const char *const *values)
{
	struct pgdrv_names *l = ctx;

	if (ncols < 1 || !values[0])
		return 0;
	xgrow(&l->v, &l->cap, l->n + 2, sizeof(*l->v));
	l->v[l->n++] = xstrdup(values[0]);
	l->v[l->n] = NULL;
	return 0;
}

static enum driver_result pgdrv_primary_key(struct driver_conn *conn, const char *table,
					    char ***cols, struct driver_error *err)
{
	struct pgdrv_names l = { NULL, 0, 0 };
	const char *params[1] = { table };
	enum driver_result r;

	*cols = NULL;
	r = pgdrv_query(conn,
			"SELECT a.attname FROM pg_catalog.pg_index i"
			" JOIN LATERAL pg_catalog.unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) ON true"
			" JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
			" WHERE i.indrelid = pg_catalog.to_regclass(pg_catalog.quote_ident($1)) AND i.indisprimary"
			" ORDER BY k.n",
			1, params, pgdrv_add_name, &l, err);
	if (r != DRIVER_OK) {
		while (l.n)
			free(l.v[--l.n]);
		free(l.v);
		return r;
	}
	if (!l.v)
		l.v = xcalloc(1, sizeof(*l.v));
	*cols = l.v;
	return DRIVER_OK;
}

static int pgdrv_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void pgdrv_load_free(struct driver_load *ld)
{
	size_t i;

	strbuf_release(&ld->buf);
	free(ld->key_sql);
	for (i = 0; i < ld->nbefore; i++)
		free(ld->before[i]);
	free(ld->before);
	free(ld);
}

static enum driver_result pgdrv_load_begin(struct driver_conn *conn, const char *table,
					   const char *const *cols, int ncols, const char *key,
					   driver_row_fn key_fn, void *key_ctx,
					   struct driver_load **out, struct driver_error *err)
{
	struct pgdrv_conn *c = (struct pgdrv_conn *)conn;
	struct strbuf sb = STRBUF_INIT;
	struct driver_load *ld;
	PGresult *res;
	int i;

	*out = NULL;
	/* CSV seeds are UTF-8; the server converts to its own encoding */
	if (PQsetClientEncoding(c->pg, "UTF8") != 0)
		return pgdrv_send_failed(c, err);
	ld = xcalloc(1, sizeof(*ld));
	ld->c = c;
	ld->ncols = ncols;
	if (key) {
		struct pgdrv_names wrote = { NULL, 0, 0 }, before = { NULL, 0, 0 };
		enum driver_result r;
		strbuf_addstr(&sb, "SELECT ");
		pgdrv_quote(&sb, key);
		strbuf_addstr(&sb, "::text FROM ");
		pgdrv_quote(&sb, table);
		strbuf_addstr(&sb, " WHERE xmin::text::bigint = pg_catalog.txid_current() % 4294967296");
		ld->key_sql = strbuf_detach(&sb);
		ld->key_fn = key_fn;
		ld->key_ctx = key_ctx;
		/* has this transaction written anything yet? if so, which of this table's rows */
		r = pgdrv_query(conn, "SELECT 'x' WHERE pg_catalog.txid_current_if_assigned() IS NOT NULL", 0,
				NULL, pgdrv_add_name, &wrote, err);
		if (r == DRIVER_OK && wrote.n)
			r = pgdrv_query(conn, ld->key_sql, 0, NULL, pgdrv_add_name, &before, err);
		while (wrote.n)
			free(wrote.v[--wrote.n]);
		free(wrote.v);
		ld->before = before.v;
		ld->nbefore = before.n;
		if (ld->nbefore > 1)
			qsort(ld->before, ld->nbefore, sizeof(*ld->before), pgdrv_cmp_str);
		if (r != DRIVER_OK) {
			pgdrv_load_free(ld);
			return r;
		}
	}
	strbuf_addstr(&sb, "COPY ");
	pgdrv_quote(&sb, table);
	strbuf_addstr(&sb, " (");
	for (i = 0; i < ncols; i++) {
		if (i)
			strbuf_addstr(&sb, ", ");
		pgdrv_quote(&sb, cols[i]);
	}
	strbuf_addstr(&sb, ") FROM STDIN");
	res = PQexec(c->pg, sb.buf);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		pgdrv_result_error(c->pg, res, NULL, 0, err);
		PQclear(res);
		strbuf_release(&sb);
		/* drain anything left, so the connection is ready for ROLLBACK */
		while ((res = PQgetResult(c->pg)) != NULL)
			PQclear(res);
		pgdrv_load_free(ld);
		return PQstatus(c->pg) == CONNECTION_BAD ? DRIVER_ECONNECT : DRIVER_ESQL;
	}
	PQclear(res);
	strbuf_release(&sb);
	*out = ld;
	return DRIVER_OK;
}

static enum driver_result pgdrv_load_flush(struct driver_load *ld, struct driver_error *err)
{
	if (ld->buf.len == 0)
		return DRIVER_OK;
	if (PQputCopyData(ld->c->pg, ld->buf.buf, (int)ld->buf.len) != 1)
		return pgdrv_send_failed(ld->c, err);
	ld->buf.len = 0;
	return DRIVER_OK;
}

static enum driver_result pgdrv_load_row(struct driver_load *ld, const char *const *values,
					 const size_t *lens, struct driver_error *err)
{
	struct strbuf *b = &ld->buf;
	int i;

	ld->rows++;
	for (i = 0; i < ld->ncols; i++) {
		const char *v = values[i], *end, *run;

		if (i)
			strbuf_addch(b, '\t');
		if (!v) {
			strbuf_add(b, "\\N", 2);
			continue;
		}
		end = v + lens[i];
		for (run = v; v < end; v++) {
			const char *esc;
			switch (*v) {
			case '\\': esc = "\\\\"; break;
			case '\n': esc = "\\n"; break;
			case '\r': esc = "\\r"; break;
			case '\t': esc = "\\t"; break;
			default: continue;
			}
			strbuf_add(b, run, (size_t)(v - run));
			strbuf_add(b, esc, 2);
			run = v + 1;
		}
		strbuf_add(b, run, (size_t)(end - run));
	}
	strbuf_addch(b, '\n');
	if (b->len >= PGDRV_COPY_BLOCK)
		return pgdrv_load_flush(ld, err);
	return DRIVER_OK;
}

/* "COPY t, line 12, column x: ..." in the context names the row. */
static long pgdrv_copy_line(const PGresult *res)
{
	const char *ctx = res ? PQresultErrorField(res, PG_DIAG_CONTEXT) : NULL;
	const char *p = ctx ? strstr(ctx, ", line ") : NULL;

	return p ? strtol(p + 7, NULL, 10) : -1;
}

static enum driver_result pgdrv_load_finish(struct driver_load *ld, const char *abort_msg,
					    struct driver_error *err)
{
	struct pgdrv_conn *c = ld->c;
	enum driver_result r = DRIVER_OK;
	PGresult *res;
	int failed = 0;

	if (!abort_msg && pgdrv_load_flush(ld, err) != DRIVER_OK) {
		abort_msg = "the client could not send a block";
		failed = 1;
		r = DRIVER_ESQL;
	}
	if (PQputCopyEnd(c->pg, abort_msg) != 1 && !failed) {
		r = pgdrv_send_failed(c, err);
		failed = 1;
	}
	while ((res = PQgetResult(c->pg)) != NULL) {
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_COPY_IN) {
			/* still copying: the end did not get through; give up on the COPY */
			PQputCopyEnd(c->pg, "aborted");
		} else if (st != PGRES_COMMAND_OK && !failed && !abort_msg) {
			pgdrv_result_error(c->pg, res, NULL, 0, err);
			err->offset = pgdrv_copy_line(res);
			r = PQstatus(c->pg) == CONNECTION_BAD ? DRIVER_ECONNECT : DRIVER_ESQL;
			failed = 1;
		}
		PQclear(res);
		if (PQstatus(c->pg) == CONNECTION_BAD)
			break;
	}
	return r;
}

/* A key the load wrote: handed on unless the transaction had written it before the load. */
static int pgdrv_new_key(void *ctx, int ncols, const char *const *values)
{
	struct driver_load *ld = ctx;

	if (ld->nbefore && ncols >= 1 && values[0] &&
	    bsearch(&values[0], ld->before, ld->nbefore, sizeof(*ld->before), pgdrv_cmp_str))
		return 0;
	return ld->key_fn(ld->key_ctx, ncols, values);
}

static enum driver_result pgdrv_load_end(struct driver_load *ld, long long *rows,
					 struct driver_error *err)
{
	enum driver_result r = pgdrv_load_finish(ld, NULL, err);

	*rows = ld->rows;
	if (r == DRIVER_OK && ld->key_sql)
		r = pgdrv_query(&ld->c->base, ld->key_sql, 0, NULL, pgdrv_new_key, ld, err);
	pgdrv_load_free(ld);
	return r;
}

static void pgdrv_load_abort(struct driver_load *ld)
{
	struct driver_error ignored;

	if (!ld)
		return;
	pgdrv_load_finish(ld, "the load was given up", &ignored);
	pgdrv_load_free(ld);
}

/* ---- test databases ------------------------------------------------------- */

/*
 * 'migrate testdb' on PostgreSQL: a clone is CREATE DATABASE ... TEMPLATE,
 * the server's own file-level copy. Sealed means datallowconn = false: a
 * template nobody can connect to can always be cloned (CREATE DATABASE
 * fails while the source has sessions), and a pool database nobody can
 * connect to cannot be used before it is claimed. A claim takes a
 * transaction-level advisory lock on the name, checks that the database is
 * still sealed, and unseals it, in one transaction: a second claimer
 * either fails the try-lock or, once the first has committed, sees it
 * unsealed.
 */

static enum driver_result pgdrv_connect_server(const struct driver_settings *s, const char *dir,
					       struct driver_conn **out, struct driver_error *err)
{
	struct driver_settings server = *s;

	(void)dir;
	server.database = PGDRV_MAINTENANCE_DB;
	server.read_only = 0;
	/*
	 * No SET: the notices its statements may raise (DROP DATABASE IF
	 * EXISTS of a missing one) are dropped by the notice processor, and a
	 * hand-out saves the round trip.
	 */
	return pgdrv_connect_as(&server, PGDRV_SESSION_AS_IS, out, err);
}

static enum driver_result pgdrv_list_databases(struct driver_conn *server, const char *prefix,
					       driver_row_fn fn, void *ctx, struct driver_error *err)
{
	const char *params[1] = { prefix };

	return pgdrv_query(server,
			   "SELECT datname, CASE WHEN datallowconn THEN '0' ELSE '1' END, oid::text"
			   " FROM pg_catalog.pg_database WHERE pg_catalog.starts_with(datname::text, $1)",
			   1, params, fn, ctx, err);
}

/*
 * Runs one statement on the server connection; a failure whose SQLSTATE is
 * exists_state is DRIVER_EEXISTS.
 */
static enum driver_result pgdrv_server_run(struct pgdrv_conn *c, const char *sql, const char *exists_state,
					   struct driver_error *err)
{
	enum driver_result r = DRIVER_OK;
	PGresult *res = PQexec(c->pg, sql);
	const char *state;

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
		state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		pgdrv_result_error(c->pg, res, NULL, 0, err);
		if (exists_state && state && strcmp(state, exists_state) == 0)
			r = DRIVER_EEXISTS;
		else
			r = PQstatus(c->pg) == CONNECTION_BAD ? DRIVER_ECONNECT : DRIVER_ESQL;
	}
	PQclear(res);
	return r;
}

static enum driver_result pgdrv_clone_database(struct driver_conn *server, const char *from, const char *to,
					       struct driver_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	enum driver_result r;

	strbuf_addstr(&sb, "CREATE DATABASE ");
	pgdrv_quote(&sb, to);
	if (from) {
		strbuf_addstr(&sb, " TEMPLATE ");
		pgdrv_quote(&sb, from);
	}
	/* 42P04 duplicate_database */
	r = pgdrv_server_run((struct pgdrv_conn *)server, strbuf_str(&sb), "42P04", err);
	strbuf_release(&sb);
	return r;
}

static enum driver_result pgdrv_allow(struct pgdrv_conn *c, const char *name, int allow, struct driver_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	enum driver_result r;

	strbuf_addstr(&sb, "ALTER DATABASE ");
	pgdrv_quote(&sb, name);
	strbuf_addstr(&sb, allow ? " ALLOW_CONNECTIONS true" : " ALLOW_CONNECTIONS false");
	r = pgdrv_server_run(c, strbuf_str(&sb), NULL, err);
	strbuf_release(&sb);
	return r;
}

static enum driver_result pgdrv_seal_database(struct driver_conn *server, const char *name,
					      struct driver_error *err)
{
	return pgdrv_allow((struct pgdrv_conn *)server, name, 0, err);
}

#define PGDRV_CLAIM_LOCK                                                \
	"SELECT pg_catalog.pg_try_advisory_xact_lock("                  \
	"pg_catalog.hashtextextended('migrate:claim:' || $1, 0))"
/* a statement of its own: its snapshot is taken once the lock is held, so it sees every claim committed before */
#define PGDRV_CLAIM_SEALED "SELECT NOT datallowconn FROM pg_catalog.pg_database WHERE datname = $1"

#ifdef LIBPQ_HAS_PIPELINING
/*
 * The claim's first three statements in one round trip (libpq's pipeline
 * mode): BEGIN, the try-lock and the check, then one Sync. *locked and
 * *sealed are what the last two answered. Every result is read, whatever
 * fails, so the connection leaves pipeline mode as it entered it.
 */
static enum driver_result pgdrv_claim_begin(struct pgdrv_conn *c, const char *name, int *locked, int *sealed,
					    struct driver_error *err)
{
	static const char *const sql[3] = { "BEGIN", PGDRV_CLAIM_LOCK, PGDRV_CLAIM_SEALED };
	const char *params[1] = { name };
	enum driver_result r = DRIVER_OK;
	int *answer[3] = { NULL, locked, sealed };
	PGresult *res;
	int i;

	*locked = *sealed = 0;
	if (!PQenterPipelineMode(c->pg))
		return pgdrv_send_failed(c, err);
	for (i = 0; i < 3; i++)
		if (!PQsendQueryParams(c->pg, sql[i], i ? 1 : 0, NULL, i ? params : NULL, NULL, NULL, 0))
			break;
	if (i < 3 || !PQpipelineSync(c->pg)) {
		/* only a broken connection refuses to send: the caller drops it, still in pipeline mode */
		pgdrv_send_failed(c, err);
		return DRIVER_ECONNECT;
	}
	for (i = 0; i < 3; i++) {
		res = PQgetResult(c->pg);
		if (!res)
			break; /* the connection went away */
		if (PQresultStatus(res) == PGRES_FATAL_ERROR && r == DRIVER_OK) {
			pgdrv_result_error(c->pg, res, NULL, 0, err);
			r = DRIVER_ESQL;
		} else if (answer[i] && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
			*answer[i] = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		}
		PQclear(res);
		PQclear(PQgetResult(c->pg)); /* the NULL that ends each statement's results */
	}
	res = PQgetResult(c->pg);
	if (i < 3 || PQresultStatus(res) != PGRES_PIPELINE_SYNC || !PQexitPipelineMode(c->pg)) {
		if (r == DRIVER_OK)
			pgdrv_error_text(err, "connection lost: ", PQerrorMessage(c->pg));
		r = DRIVER_ECONNECT;
	}
	PQclear(res);
	return r;
}
#else
static enum driver_result pgdrv_claim_begin(struct pgdrv_conn *c, const char *name, int *locked, int *sealed,
					    struct driver_error *err)
{
	const char *params[1] = { name };
	enum driver_result r;
	char *v = NULL;

	*locked = *sealed = 0;
	if ((r = pgdrv_server_run(c, "BEGIN", NULL, err)) != DRIVER_OK)
		return r;
	if ((r = pgdrv_value(c, PGDRV_CLAIM_LOCK, 1, params, &v, err)) == DRIVER_OK && v && strcmp(v, "t") == 0) {
		*locked = 1;
		free(v);
		v = NULL;
		r = pgdrv_value(c, PGDRV_CLAIM_SEALED, 1, params, &v, err);
		*sealed = r == DRIVER_OK && v && strcmp(v, "t") == 0;
	}
	free(v);
	return r;
}
#endif

/*
 * Two round trips: BEGIN, the try-lock and the check (above); then the
 * unsealing and COMMIT, one simple query, or ROLLBACK. The name goes into
 * ALTER DATABASE quoted, as an identifier, the only place it is not bound.
 */
static enum driver_result pgdrv_claim_database(struct driver_conn *server, const char *name, int *claimed,
					       struct driver_error *err)
{
	struct pgdrv_conn *c = (struct pgdrv_conn *)server;
	struct driver_error ignored;
	struct strbuf sb = STRBUF_INIT;
	enum driver_result r;
	int locked, sealed;

	*claimed = 0;
	r = pgdrv_claim_begin(c, name, &locked, &sealed, err);
	if (r == DRIVER_OK && locked && sealed) {
		strbuf_addstr(&sb, "ALTER DATABASE ");
		pgdrv_quote(&sb, name);
		strbuf_addstr(&sb, " ALLOW_CONNECTIONS true; COMMIT");
		r = pgdrv_server_run(c, strbuf_str(&sb), NULL, err);
		strbuf_release(&sb);
		/* a failed ALTER skips the COMMIT: the transaction is still open, and rolled back below */
		*claimed = r == DRIVER_OK && PQtransactionStatus(c->pg) == PQTRANS_IDLE;
	}
	if (!*claimed && r != DRIVER_ECONNECT && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
		pgdrv_server_run(c, "ROLLBACK", NULL, &ignored);
	return r;
}

static enum driver_result pgdrv_drop_named_database(struct driver_conn *server, const char *name,
						    struct driver_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	enum driver_result r;

	strbuf_addstr(&sb, "DROP DATABASE IF EXISTS ");
	pgdrv_quote(&sb, name);
	r = pgdrv_server_run((struct pgdrv_conn *)server, strbuf_str(&sb), NULL, err);
	strbuf_release(&sb);
	return r;
}

/* ---- safe apply ------------------------------------------------------------ */

static void pgdrv_set_limits(struct driver_conn *conn, enum driver_limits_how how,
			     const struct driver_limits *lim, struct driver_sql_list *out)
{
	struct pgdrv_conn *c = (struct pgdrv_conn *)conn;

	/* one statement: the simple protocol runs both in one round trip */
	out->n = 1;
	if (how == DRIVER_LIMITS_RESET) {
		c->lock_wait_ms = 0;
		snprintf(out->v[0], sizeof(out->v[0]), "RESET lock_timeout; RESET statement_timeout");
		return;
	}
	c->lock_wait_ms = lim->lock_wait_ms;
	snprintf(out->v[0], sizeof(out->v[0]), "SET%s lock_timeout = '%lldms'; SET%s statement_timeout = '%lldms'",
		 how == DRIVER_LIMITS_LOCAL ? " LOCAL" : "", lim->lock_wait_ms,
		 how == DRIVER_LIMITS_LOCAL ? " LOCAL" : "", lim->statement_timeout_ms);
}

/*
 * What our statement waits for and who holds it, seen from the watcher
 * connection (opened on first use): the lock not granted to our backend,
 * and the first of pg_blocking_pids() with its state, the age of its
 * transaction and the start of its query.
 */
static void pgdrv_look(struct pgdrv_conn *c)
{
	static const char *const sql =
		"SELECT coalesce(CASE WHEN r.relkind IN ('r', 'p') THEN 'table ' ELSE 'relation ' END"
		" || pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(r.relname), w.locktype),"
		" w.mode, b.pid, coalesce(b.state, ''),"
		" coalesce(extract(epoch FROM now() - b.xact_start)::bigint, 0),"
		" coalesce(extract(epoch FROM now() - b.query_start)::bigint, 0),"
		" left(regexp_replace(coalesce(b.query, ''), '\\s+', ' ', 'g'), 120)"
		" FROM pg_catalog.pg_locks w"
		" CROSS JOIN LATERAL unnest(pg_catalog.pg_blocking_pids(w.pid)) AS bp(pid)"
		" JOIN pg_catalog.pg_stat_activity b ON b.pid = bp.pid"
		" LEFT JOIN pg_catalog.pg_class r ON r.oid = w.relation"
		" LEFT JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace"
		" WHERE w.pid = $1 AND NOT w.granted ORDER BY b.xact_start NULLS LAST LIMIT 1";
	struct driver_error ignored;
	char pid[24];
	const char *params[1] = { pid };
	PGresult *res;

	if (!c->watcher &&
	    pgdrv_open(c->settings, c->settings->database, PGDRV_SESSION_QUIET, &c->watcher, &ignored) != DRIVER_OK)
		return;
	snprintf(pid, sizeof(pid), "%d", PQbackendPID(c->pg));
	res = PQexecParams(c->watcher, sql, 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		const char *state = PQgetvalue(res, 0, 3);
		int idle = strncmp(state, "idle in transaction", 19) == 0;
		snprintf(c->blocker, sizeof(c->blocker),
			 "waited for %s on %s, held by session %s (transaction open %s s; %s %s s ago: %s)",
			 PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 4),
			 idle ? "idle in transaction, its last query started" : "running, its query started",
			 PQgetvalue(res, 0, 5), PQgetvalue(res, 0, 6));
	}
	PQclear(res);
	if (PQstatus(c->watcher) == CONNECTION_BAD) {
		PQfinish(c->watcher);
		c->watcher = NULL;
	}
}

/*
 * Waits for the statement just sent to answer. Under a lock wait limit,
 * looks at what it waits for every half of the limit, so a wait that runs
 * out is seen at least once while it lasts.
 */
static void pgdrv_watch(struct pgdrv_conn *c)
{
	int sock = PQsocket(c->pg), every;

	c->blocker[0] = '\0';
	if (c->lock_wait_ms <= 0 || sock < 0)
		return;
	every = c->lock_wait_ms / 2 > 60000 ? 60000 : (int)(c->lock_wait_ms / 2);
	if (every < 20)
		every = 20;
	while (PQisBusy(c->pg)) {
		struct pollfd p = { sock, POLLIN, 0 };
		int r = poll(&p, 1, every);

		if (r < 0 && errno != EINTR)
			return;
		if (r > 0 && !PQconsumeInput(c->pg))
			return; /* the connection broke: PQgetResult says so */
		if (r == 0)
			pgdrv_look(c);
	}
}

/*
 * A CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ... that failed
 * may have left its index behind, INVALID: the statement to drop it.
 */
static enum driver_result pgdrv_leftover(struct driver_conn *conn, const char *sql, size_t len,
					 char **drop, struct driver_error *err)
{
	struct pgdrv_conn *c = (struct pgdrv_conn *)conn;
	static const char *const words[] = { "create", "unique", "index", "concurrently", "if", "not", "exists" };
	char name[200];
	const char *p = sql, *end = sql + len;
	const char *params[1] = { name };
	int seen[7] = { 0 }, k;
	size_t n = 0;
	char *v = NULL;
	enum driver_result r;

	*drop = NULL;
	/* the keywords, in order; comments before the statement are skipped */
	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
			p++;
		if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
			while (p < end && *p != '\n')
				p++;
			continue;
		}
		for (k = 0; k < 7; k++) {
			size_t wl = strlen(words[k]);
			if ((size_t)(end - p) > wl && strncasecmp(p, words[k], wl) == 0 &&
			    (p[wl] == ' ' || p[wl] == '\t' || p[wl] == '\n' || p[wl] == '\r'))
				break;
		}
		if (k == 7)
			break;
		seen[k] = 1;
		p += strlen(words[k]);
	}
	if (!seen[0] || !seen[2] || !seen[3])
		return DRIVER_OK;
	/* the name: an identifier, maybe quoted; the schema is that of the table */
	if (p < end && *p == '"') {
		for (p++; p < end && n + 1 < sizeof(name); p++) {
			if (*p == '"') {
				if (p + 1 < end && p[1] == '"') {
					name[n++] = '"';
					p++;
					continue;
				}
				break;
			}
			name[n++] = *p;
		}
	} else {
		while (p < end && n + 1 < sizeof(name) &&
		       (isalnum((unsigned char)*p) || *p == '_' || *p == '$' || (unsigned char)*p >= 0x80))
			name[n++] = (char)tolower((unsigned char)*p++);
	}
	name[n] = '\0';
	if (n == 0)
		return DRIVER_OK;
	r = pgdrv_value(c,
			"SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(i.relname)"
			" FROM pg_catalog.pg_class i JOIN pg_catalog.pg_index x ON x.indexrelid = i.oid"
			" JOIN pg_catalog.pg_namespace n ON n.oid = i.relnamespace"
			" WHERE i.relname = $1 AND NOT x.indisvalid AND pg_catalog.pg_table_is_visible(x.indrelid)",
			1, params, &v, err);
	if (r != DRIVER_OK)
		return r;
	if (v)
		*drop = xasprintf("DROP INDEX CONCURRENTLY IF EXISTS %s", v);
	free(v);
	return DRIVER_OK;
}

/*
 * Behind a connection pooler (PgBouncer, pgcat, Odyssey), the process id
 * in the key the connection started with is the pooler's own, not that of
 * the server session that answers: a session advisory lock is then not
 * tied to this connection (in transaction pooling, the next statement may
 * run in another server session).
 */
static int pgdrv_lock_unsound(struct driver_conn *conn, char *why, size_t len)
{
	struct pgdrv_conn *c = (struct pgdrv_conn *)conn;
	struct driver_error ignored;
	char *pid = NULL;
	int proxied;

	if (pgdrv_value(c, "SELECT pg_catalog.pg_backend_pid()", 0, NULL, &pid, &ignored) != DRIVER_OK || !pid)
		return 0;
	proxied = atol(pid) != PQbackendPID(c->pg);
	if (proxied)
		snprintf(why, len, "the connection goes through a pooling proxy (its key names process %d, the server session is %s)",
			 PQbackendPID(c->pg), pid);
	free(pid);
	return proxied;
}

static enum driver_result pgdrv_preload(struct driver_error *err)
{
	return dynlib_open(&pgdrv_libpq, err) ? DRIVER_ECONFIG : DRIVER_OK;
}

const struct driver postgres_driver = {
	.name = "postgres",
	.dialect = SQL_DIALECT_POSTGRES,
	.caps = DRIVER_CAP_TRANSACTIONAL_DDL | DRIVER_CAP_LOCK | DRIVER_CAP_CREATE_DATABASE |
		DRIVER_CAP_BULK_LOAD,
	.params = DRIVER_PARAM_DOLLAR,
	.ident_quote = '"',
	.begin_sql = "BEGIN",
	.commit_sql = "COMMIT",
	.rollback_sql = "ROLLBACK",
	.type_long_text = "TEXT",
	.type_timestamp = "TIMESTAMP",
	.connect = pgdrv_connect,
	.close = pgdrv_close,
	.exec = pgdrv_exec,
	.query = pgdrv_query,
	.table_exists = pgdrv_table_exists,
	.lock = pgdrv_lock,
	.unlock = pgdrv_unlock,
	.create_database = pgdrv_create_database,
	.drop_database = pgdrv_drop_database,
	.dump_schema = pgdrv_dump_schema,
	.primary_key = pgdrv_primary_key,
	.load_begin = pgdrv_load_begin,
	.load_row = pgdrv_load_row,
	.load_end = pgdrv_load_end,
	.load_abort = pgdrv_load_abort,
	.cancel = pgdrv_cancel,
	.current_schema = pgdrv_current_schema,
	.reset_session = pgdrv_reset_session,
	.changes = pgdrv_last_changes,
	.set_limits = pgdrv_set_limits,
	.leftover = pgdrv_leftover,
	.connect_server = pgdrv_connect_server,
	.list_databases = pgdrv_list_databases,
	.clone_database = pgdrv_clone_database,
	.seal_database = pgdrv_seal_database,
	.claim_database = pgdrv_claim_database,
	.drop_named_database = pgdrv_drop_named_database,
	.now_ms_sql = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint",
	.lock_unsound = pgdrv_lock_unsound,
	.preload = pgdrv_preload,
	.reset_connection = pgdrv_reset_connection,
};
