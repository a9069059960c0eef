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
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../migrate/util.h"
#include "driver.h"

#define PGDRV_CONNECT_TIMEOUT 10
#define PGDRV_LOCK_POLL_MS    100
#define PGDRV_MAINTENANCE_DB  "postgres"

extern const struct driver postgres_driver;

struct pgdrv_conn {
	struct driver_conn base;
	PGconn *pg;
	char *lock_key; /* the advisory lock key as decimal text while held, else NULL */
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

/*
 * Opens a libpq connection to dbname with the settings' host, credentials
 * and options. On DRIVER_OK *out is a connection whose notices are dropped
 * and whose client_min_messages is warning.
 */
static enum driver_result pgdrv_open(const struct driver_settings *s, const char *dbname,
				     PGconn **out, struct driver_error *err)
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
	res = PQexec(pg, "SET client_min_messages TO warning");
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

static enum driver_result pgdrv_connect(const struct driver_settings *s, struct driver_conn **out,
					struct driver_error *err)
{
	struct pgdrv_conn *c;
	enum driver_result r;
	PGconn *pg;

	*out = NULL;
	r = pgdrv_open(s, s->database, &pg, err);
	if (r != DRIVER_OK)
		return r;
	c = xcalloc(1, sizeof(*c));
	c->base.drv = &postgres_driver;
	c->pg = pg;
	*out = &c->base;
	return DRIVER_OK;
}

static void pgdrv_close(struct driver_conn *conn)
{
	struct pgdrv_conn *c = (struct pgdrv_conn *)conn;

	if (!c)
		return;
	PQfinish(c->pg); /* the server releases the session's advisory lock */
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
	int failed = 0, stop = 0;

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
			if (!failed)
				pgdrv_result_error(c->pg, res, sql, len, err);
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
	return failed ? DRIVER_ESQL : DRIVER_OK;
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

	/* text parameters, types left to the server (NULL paramTypes) */
	if (!PQsendQueryParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0))
		return pgdrv_send_failed(c, err);
	return pgdrv_results(c, sql, strlen(sql), fn, ctx, NULL, err);
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
	r = pgdrv_open(s, PGDRV_MAINTENANCE_DB, &pg, err);
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

const struct driver postgres_driver = {
	.name = "postgres",
	.dialect = SQL_DIALECT_POSTGRES,
	.caps = DRIVER_CAP_TRANSACTIONAL_DDL | DRIVER_CAP_LOCK | DRIVER_CAP_CREATE_DATABASE,
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
};
