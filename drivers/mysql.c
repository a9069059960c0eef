/*
 * mysql.c - the MySQL and MariaDB driver, through the MariaDB Connector/C
 * (libmariadb; the MySQL client library has the same API).
 *
 * MySQL commits DDL implicitly, so the driver claims no transactional DDL:
 * the core records a migration as running before its first statement and
 * as applied after its last. The core splits every section into statements
 * (DELIMITER blocks and BEGIN...END bodies arrive whole), so a connection
 * never runs multi-statement text; it still accepts multiple results, which
 * CALL returns, and exec() reads every one of them so no error is lost.
 *
 * The run-wide lock is GET_LOCK on "migrate:<database>:<table>" (or, past
 * MySQL's 64 characters, "migrate:" and a SHA-256 prefix of that name).
 * The server releases it when the session ends, so a crashed run leaves no
 * lock behind. For the same reason the connection never reconnects by
 * itself: a new session would silently have lost the lock.
 *
 * Connection settings
 *   port        given without socket, connects over TCP even to "localhost"
 *               (the library would otherwise take the default Unix socket
 *               and ignore the port).
 *   ssl_ca, ssl_cert, ssl_key
 *               any of them makes TLS required: the server's certificate is
 *               verified (against ssl_ca, or the system's CAs) with its host
 *               name, and a server without TLS is refused, never used in
 *               the clear.
 *   options     a list of key=value, separated by commas, semicolons or
 *               spaces (in a URL: ?options=read_timeout%3D600,compress%3D1):
 *     read_timeout=S   seconds to wait for an answer (default 0: no limit,
 *                      since a migration may run for hours; when set, keep
 *                      it above lock_timeout, which GET_LOCK waits out)
 *     write_timeout=S  seconds to wait for the server to read (default 60)
 *     compress=1       compress the protocol (default 0)
 *     ssl=1            require TLS without certificate files (the server's
 *                      certificate is then verified against the system's CAs)
 *     ssl_verify_server_cert=0
 *                      require TLS but trust any server certificate; the
 *                      session is checked to be encrypted after connecting
 *     local_infile=0   never load CSV seeds with LOAD DATA LOCAL INFILE,
 *                      even where the server allows it (default 1; see
 *                      "bulk loading" below)
 *   Any other key is a configuration error.
 *
 * Library lifetime
 *   mysql_library_init() is called before every mysql_init() (it is a no-op
 *   once done, and mysql_init()'s implicit call is not thread-safe).
 *   mysql_library_end() is never called: what the library keeps (plugins,
 *   character sets, the TLS context) stays reachable from its globals, so
 *   LeakSanitizer reports nothing, and ending it when our last connection
 *   closes would pull it from under a program that also uses it.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <errmsg.h>
#include <limits.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../migrate/util.h"
#include "driver.h"
#include "dynlib.h"

#define MYDRV_CONNECT_TIMEOUT 10
#define MYDRV_WRITE_TIMEOUT   60
#define MYDRV_LOCK_NAME_MAX   64 /* GET_LOCK's limit, in characters */
#define MYDRV_COLUMN_BUF      256
#define MYDRV_STMT_CACHE      8

extern const struct driver mysql_driver;

struct mydrv_conn {
	struct driver_conn base;
	MYSQL *db;
	const char *database; /* borrowed from the settings, for the lock name */
	const struct driver_settings *settings; /* borrowed until close, for cancel()'s connection */
	unsigned long thread_id; /* this session's id on the server, for KILL QUERY */
	atomic_int cancelled;    /* cancel() was called */
	long long last_changes;  /* rows the last query() wrote */
	char *lock_name;      /* the GET_LOCK held, or NULL */
	int local_infile;     /* 0: the options forbid LOAD DATA LOCAL INFILE */
	/*
	 * Prepared statements kept for reuse, by their SQL: the core runs the
	 * same few (the tracking-row writes) once or twice per migration, and
	 * a prepare is a round trip and a parse on the server.
	 */
	struct mydrv_cached {
		char *sql;
		MYSQL_STMT *st;
	} cache[MYDRV_STMT_CACHE];
	unsigned cache_next;  /* the slot to fill next, round robin */
	struct mydrv_chunk *loading; /* the chunk whose LOAD DATA is running, or NULL */
	int mariadb;          /* the server is MariaDB (max_statement_time, METADATA_LOCK_INFO) */
	int wsrep;            /* the server is a Galera/PXC node (wsrep_on): see mydrv_wsrep_session */
};

struct mydrv_chunk;
static void mydrv_cache_clear(struct mydrv_conn *c);
static int mydrv_infile_init(void **ptr, const char *filename, void *userdata);
static int mydrv_infile_read(void *ptr, char *buf, unsigned int len);
static void mydrv_infile_end(void *ptr);
static int mydrv_infile_error(void *ptr, char *buf, unsigned int len);
static enum driver_result mydrv_wsrep_session(struct mydrv_conn *c, struct driver_error *err);
static void mydrv_close(struct driver_conn *conn);

/* What settings->options may say; -1 means "not given". */
struct mydrv_options {
	long read_timeout;
	long write_timeout;
	int compress;
	int ssl;
	int ssl_verify;
	int local_infile;
};

/* ---- errors ----------------------------------------------------------------- */

/* Errors that mean the session is gone, and with it any lock it held. */
static int mydrv_lost(unsigned int code)
{
	switch (code) {
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
#ifdef CR_SERVER_LOST_EXTENDED
	case CR_SERVER_LOST_EXTENDED:
#endif
#ifdef ER_CONNECTION_KILLED
	case ER_CONNECTION_KILLED:
#endif
		return 1;
	default:
		return 0;
	}
}

/*
 * A syntax error quotes the statement from the error on, newlines and all;
 * the message must stay one line, so each line break and the indentation
 * after it become one space.
 */
static void mydrv_one_line(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (*s == '\n' || *s == '\r') {
			while (s[1] == '\n' || s[1] == '\r' || s[1] == ' ' || s[1] == '\t')
				s++;
			*out++ = ' ';
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

static enum driver_result mydrv_error(const char *msg, unsigned int code, struct driver_error *err)
{
	driver_error_set(err, "%s (error %u)", msg && *msg ? msg : "unknown error", code);
	mydrv_one_line(err->message);
	if (code == ER_LOCK_WAIT_TIMEOUT || code == ER_LOCK_DEADLOCK)
		return DRIVER_ELOCKWAIT;
	return mydrv_lost(code) ? DRIVER_ECONNECT : DRIVER_ESQL;
}

static enum driver_result mydrv_fail(MYSQL *db, struct driver_error *err)
{
	return mydrv_error(mysql_error(db), mysql_errno(db), err);
}

static enum driver_result mydrv_stmt_fail(MYSQL_STMT *st, struct driver_error *err)
{
	return mydrv_error(mysql_stmt_error(st), mysql_stmt_errno(st), err);
}

/*
 * The length of msg without a trailing " at row R", and R in *row (0 and
 * the whole length when it has none). The server counts rows of the
 * statement, not of the file.
 */
static size_t mydrv_at_row(const char *msg, long *row)
{
	static const char at[] = " at row ";
	size_t n = strlen(msg), k = sizeof(at) - 1;
	const char *p = msg + n;

	*row = 0;
	while (p > msg && p[-1] >= '0' && p[-1] <= '9')
		p--;
	if (!*p || (size_t)(p - msg) < k || memcmp(p - k, at, k) != 0)
		return n;
	*row = strtol(p, NULL, 10);
	return (size_t)(p - msg) - k;
}

/*
 * The failure of a one-row INSERT replayed to find a bad CSV row, without
 * the server's "at row 1", which would read as the file's first row next
 * to the file:line the core puts before it.
 */
static enum driver_result mydrv_row_fail(MYSQL_STMT *st, struct driver_error *err)
{
	const char *msg = mysql_stmt_error(st) ? mysql_stmt_error(st) : "";
	long row;
	size_t n = mydrv_at_row(msg, &row);
	char *trimmed = xstrndup(msg, n);
	enum driver_result r = mydrv_error(trimmed, mysql_stmt_errno(st), err);

	free(trimmed);
	return r;
}

/*
 * MySQL places a syntax error by line within the statement ("... near 'x'
 * at line 3"); the core wants a byte offset, so this is the line's start.
 * -1 when the message names no line.
 */
static long mydrv_error_offset(const char *msg, const char *sql, size_t len)
{
	const char *at = NULL, *p;
	char *end;
	long line;
	size_t i;

	for (p = strstr(msg, " at line "); p; p = strstr(p + 1, " at line "))
		at = p;
	if (!at)
		return -1;
	line = strtol(at + 9, &end, 10);
	if (*end || line < 1)
		return -1;
	for (i = 0; line > 1 && i < len; i++)
		if (sql[i] == '\n')
			line--;
	return line > 1 ? -1 : (long)i;
}

/* ---- connecting ------------------------------------------------------------- */

static int mydrv_parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
		*out = 1;
	else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
		*out = 0;
	else
		return -1;
	return 0;
}

static int mydrv_parse_seconds(const char *v, long *out)
{
	char *end;
	long n;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || n > INT_MAX)
		return -1;
	*out = n;
	return 0;
}

/* Parses settings->options (see the top of this file) into o. */
static enum driver_result mydrv_parse_options(const char *text, struct mydrv_options *o,
					      struct driver_error *err)
{
	static const char *const seps = ",; \t\n";
	static const char *const known =
		"read_timeout, write_timeout, compress, ssl, ssl_verify_server_cert, local_infile";
	char *copy, *item, *save = NULL;
	enum driver_result r = DRIVER_OK;

	o->read_timeout = o->write_timeout = -1;
	o->compress = o->ssl = o->ssl_verify = o->local_infile = -1;
	if (!text)
		return DRIVER_OK;
	copy = xstrdup(text);
	for (item = strtok_r(copy, seps, &save); item; item = strtok_r(NULL, seps, &save)) {
		char *val = strchr(item, '=');
		int bad;

		if (!val) {
			driver_error_set(err, "mysql option '%s' has no value (write key=value)", item);
			r = DRIVER_ECONFIG;
			break;
		}
		*val++ = '\0';
		if (!strcmp(item, "read_timeout"))
			bad = mydrv_parse_seconds(val, &o->read_timeout);
		else if (!strcmp(item, "write_timeout"))
			bad = mydrv_parse_seconds(val, &o->write_timeout);
		else if (!strcmp(item, "compress"))
			bad = mydrv_parse_bool(val, &o->compress);
		else if (!strcmp(item, "ssl"))
			bad = mydrv_parse_bool(val, &o->ssl);
		else if (!strcmp(item, "ssl_verify_server_cert"))
			bad = mydrv_parse_bool(val, &o->ssl_verify);
		else if (!strcmp(item, "local_infile"))
			bad = mydrv_parse_bool(val, &o->local_infile);
		else {
			driver_error_set(err, "unknown mysql option '%s' (known: %s)", item, known);
			r = DRIVER_ECONFIG;
			break;
		}
		if (bad) {
			driver_error_set(err, "mysql option %s='%s' is not a valid value", item, val);
			r = DRIVER_ECONFIG;
			break;
		}
	}
	free(copy);
	return r;
}

/* A certificate file that cannot be read is a configuration error, not a TLS failure. */
static enum driver_result mydrv_check_file(const char *key, const char *path, struct driver_error *err)
{
	if (path && access(path, R_OK) != 0) {
		driver_error_set(err, "cannot read %s '%s': %s", key, path, strerror(errno));
		return DRIVER_ECONFIG;
	}
	return DRIVER_OK;
}

static enum driver_result mydrv_connect(const struct driver_settings *s, struct driver_conn **out,
					struct driver_error *err)
{
	struct mydrv_options o;
	struct mydrv_conn *c;
	enum driver_result r;
	unsigned int timeout, protocol = MYSQL_PROTOCOL_TCP, local_infile = 1;
	my_bool off = 0, on = 1, verify;
	int tls;
	MYSQL *db;

	*out = NULL;
	r = mydrv_parse_options(s->options, &o, err);
	if (r != DRIVER_OK)
		return r;
	tls = s->ssl_ca || s->ssl_cert || s->ssl_key;
	if (o.ssl == 0 && tls) {
		driver_error_set(err, "mysql option ssl=0 contradicts the ssl_ca, ssl_cert or ssl_key given");
		return DRIVER_ECONFIG;
	}
	tls = tls || o.ssl == 1;
	if (o.ssl_verify >= 0 && !tls) {
		driver_error_set(err, "mysql option ssl_verify_server_cert needs TLS (ssl_ca, or ssl=1)");
		return DRIVER_ECONFIG;
	}
	if ((r = mydrv_check_file("ssl_ca", s->ssl_ca, err)) != DRIVER_OK ||
	    (r = mydrv_check_file("ssl_cert", s->ssl_cert, err)) != DRIVER_OK ||
	    (r = mydrv_check_file("ssl_key", s->ssl_key, err)) != DRIVER_OK)
		return r;

	/* the client library is loaded on first use, so other drivers never pay for it */
	if (dynlib_open(&mydrv_libmysql, err))
		return DRIVER_ECONFIG;
	if (mysql_library_init(0, NULL, NULL)) {
		driver_error_set(err, "cannot initialise the MySQL client library");
		return DRIVER_ECONNECT;
	}
	db = mysql_init(NULL);
	if (!db) {
		driver_error_set(err, "cannot allocate a MySQL connection");
		return DRIVER_ECONNECT;
	}
	timeout = s->connect_timeout > 0 ? (unsigned int)s->connect_timeout : MYDRV_CONNECT_TIMEOUT;
	mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	timeout = o.write_timeout >= 0 ? (unsigned int)o.write_timeout : MYDRV_WRITE_TIMEOUT;
	if (timeout > 0)
		mysql_options(db, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
	if (o.read_timeout > 0) {
		timeout = (unsigned int)o.read_timeout;
		mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &timeout);
	}
	mysql_options(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(db, MYSQL_OPT_RECONNECT, &off);
	/*
	 * LOAD DATA LOCAL INFILE for CSV seeds: the library never opens a file
	 * for the server. Our handlers serve only the rows of a load migrate
	 * itself started, and refuse any other request a server makes.
	 */
	mysql_options(db, MYSQL_OPT_LOCAL_INFILE, &local_infile);
	if (o.compress == 1)
		mysql_options(db, MYSQL_OPT_COMPRESS, NULL);
	if (s->port > 0 && !s->socket)
		mysql_options(db, MYSQL_OPT_PROTOCOL, &protocol);
	if (tls) {
		/*
		 * The connector's "enforce" alone falls back to plain text when
		 * the server has no TLS; with verification on it refuses.
		 */
		verify = o.ssl_verify != 0;
		if (s->ssl_ca)
			mysql_options(db, MYSQL_OPT_SSL_CA, s->ssl_ca);
		if (s->ssl_cert)
			mysql_options(db, MYSQL_OPT_SSL_CERT, s->ssl_cert);
		if (s->ssl_key)
			mysql_options(db, MYSQL_OPT_SSL_KEY, s->ssl_key);
		mysql_options(db, MYSQL_OPT_SSL_ENFORCE, &on);
		mysql_options(db, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
	}
	if (!mysql_real_connect(db, s->host, s->user, s->password, s->database,
				s->port > 0 ? (unsigned int)s->port : 0, s->socket, CLIENT_MULTI_RESULTS)) {
		mydrv_fail(db, err); /* the message names the user, never the password */
		mysql_close(db);
		return DRIVER_ECONNECT;
	}
	/* unverified, the connector settles for plain text; refuse the session */
	if (tls && !mysql_get_ssl_cipher(db)) {
		driver_error_set(err, "the server does not support TLS, which the settings require");
		mysql_close(db);
		return DRIVER_ECONNECT;
	}
	/* --dry-run: the server refuses any write, DDL too, should the core ever send one */
	if (s->read_only && mysql_real_query(db, "SET SESSION TRANSACTION READ ONLY", 33)) {
		mydrv_fail(db, err);
		mysql_close(db);
		return DRIVER_ECONNECT;
	}
	c = xcalloc(1, sizeof(*c));
	c->base.drv = &mysql_driver;
	c->db = db;
	c->database = s->database;
	c->settings = s;
	c->thread_id = mysql_thread_id(db);
	atomic_init(&c->cancelled, 0);
	c->local_infile = o.local_infile != 0;
	c->mariadb = strstr(mysql_get_server_info(db), "MariaDB") != NULL;
	mysql_set_local_infile_handler(db, mydrv_infile_init, mydrv_infile_read, mydrv_infile_end,
				       mydrv_infile_error, c);
	r = mydrv_wsrep_session(c, err);
	if (r != DRIVER_OK) {
		mydrv_close(&c->base);
		return DRIVER_ECONNECT;
	}
	*out = &c->base;
	return DRIVER_OK;
}

static void mydrv_close(struct driver_conn *conn)
{
	struct mydrv_conn *c = (struct mydrv_conn *)conn;

	if (!c)
		return;
	mydrv_cache_clear(c);
	mysql_close(c->db); /* the server releases the GET_LOCK with the session */
	free(c->lock_name);
	free(c);
}

/* ---- statements ------------------------------------------------------------- */

static void mydrv_blocker(struct mydrv_conn *c, const char *sql, size_t len, struct driver_error *err);

static enum driver_result mydrv_exec(struct driver_conn *conn, const char *sql, size_t len,
				     long long *changes, struct driver_error *err)
{
	struct mydrv_conn *c = (struct mydrv_conn *)conn;
	MYSQL_RES *res;
	my_ulonglong n;
	int status;

	if (changes)
		*changes = 0;
	if (mysql_real_query(c->db, sql, (unsigned long)len)) {
		unsigned int code = mysql_errno(c->db);
		enum driver_result r;

		if (code == ER_EMPTY_QUERY)
			return DRIVER_OK; /* only comments were left, as SQLite allows */
		r = mydrv_fail(c->db, err);
		if (code == ER_PARSE_ERROR || code == ER_SYNTAX_ERROR)
			err->offset = mydrv_error_offset(mysql_error(c->db), sql, len);
		if (r == DRIVER_ELOCKWAIT)
			mydrv_blocker(c, sql, len, err);
		return r;
	}
	/* one result per statement, and a CALL adds one per SELECT it runs */
	do {
		res = mysql_store_result(c->db);
		if (res) {
			mysql_free_result(res);
		} else if (mysql_field_count(c->db) != 0) {
			return mydrv_fail(c->db, err); /* rows were due, and reading them failed */
		} else if (changes) {
			n = mysql_affected_rows(c->db);
			if (n != (my_ulonglong)-1)
				*changes += (long long)n;
		}
		status = mysql_next_result(c->db);
		if (status > 0)
			return mydrv_fail(c->db, err);
	} while (status == 0);
	return DRIVER_OK;
}

/* query() without parameters: the text protocol, which runs any statement. */
static enum driver_result mydrv_query_text(struct mydrv_conn *c, const char *sql, driver_row_fn fn,
					   void *ctx, struct driver_error *err)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	int status, stop = 0;

	if (mysql_real_query(c->db, sql, (unsigned long)strlen(sql)))
		return mydrv_fail(c->db, err);
	do {
		res = mysql_store_result(c->db);
		if (res) {
			int ncols = (int)mysql_num_fields(res);

			/* a stored result's values are NUL-terminated, NULL for SQL NULL */
			while ((row = mysql_fetch_row(res)) != NULL)
				if (fn && !stop)
					stop = fn(ctx, ncols, (const char *const *)row);
			mysql_free_result(res);
		} else if (mysql_field_count(c->db) != 0) {
			return mydrv_fail(c->db, err);
		}
		status = mysql_next_result(c->db);
		if (status > 0)
			return mydrv_fail(c->db, err);
	} while (status == 0);
	return DRIVER_OK;
}

/* One result column of a prepared statement, fetched as text. */
struct mydrv_col {
	char *buf;
	unsigned long cap; /* bytes in buf, one more than the bind's buffer_length */
	unsigned long len;
	my_bool is_null;
	my_bool error;
};

/*
 * Reads one result set of a prepared statement, passing each row to fn as
 * text until fn asks to stop. Columns start with a small buffer; a longer
 * value is fetched again into a buffer of its size, which later rows keep.
 */
static enum driver_result mydrv_stmt_rows(MYSQL_STMT *st, int ncols, driver_row_fn fn, void *ctx,
					  int *stop, struct driver_error *err)
{
	MYSQL_BIND *bind = xcalloc((size_t)ncols, sizeof(*bind));
	struct mydrv_col *cols = xcalloc((size_t)ncols, sizeof(*cols));
	const char **vals = xcalloc((size_t)ncols, sizeof(*vals));
	enum driver_result r = DRIVER_OK;
	int i, rc, rebind;

	for (i = 0; i < ncols; i++) {
		cols[i].cap = MYDRV_COLUMN_BUF;
		cols[i].buf = xmalloc(cols[i].cap);
		bind[i].buffer_type = MYSQL_TYPE_STRING;
		bind[i].buffer = cols[i].buf;
		bind[i].buffer_length = cols[i].cap - 1;
		bind[i].length = &cols[i].len;
		bind[i].is_null = &cols[i].is_null;
		bind[i].error = &cols[i].error;
	}
	if (mysql_stmt_bind_result(st, bind) || mysql_stmt_store_result(st)) {
		r = mydrv_stmt_fail(st, err);
		goto out;
	}
	while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
		if (!fn || *stop)
			continue; /* the result is stored; reading on only empties it */
		rebind = 0;
		for (i = 0; i < ncols; i++) {
			struct mydrv_col *col = &cols[i];

			if (col->is_null) {
				vals[i] = NULL;
				continue;
			}
			if (col->len >= col->cap) {
				col->cap = col->len + 1;
				col->buf = xrealloc(col->buf, col->cap);
				bind[i].buffer = col->buf;
				bind[i].buffer_length = col->cap - 1;
				if (mysql_stmt_fetch_column(st, &bind[i], (unsigned int)i, 0)) {
					r = mydrv_stmt_fail(st, err);
					goto out;
				}
				rebind = 1;
			}
			col->buf[col->len] = '\0';
			vals[i] = col->buf;
		}
		if (rebind && mysql_stmt_bind_result(st, bind)) {
			r = mydrv_stmt_fail(st, err);
			goto out;
		}
		*stop = fn(ctx, ncols, vals);
	}
	if (rc != MYSQL_NO_DATA)
		r = mydrv_stmt_fail(st, err);
out:
	mysql_stmt_free_result(st);
	for (i = 0; i < ncols; i++)
		free(cols[i].buf);
	free(vals);
	free(cols);
	free(bind);
	return r;
}

/* The cached statement for sql, prepared now when it is not there yet; NULL on failure. */
static MYSQL_STMT *mydrv_cache_get(struct mydrv_conn *c, const char *sql, struct driver_error *err)
{
	struct mydrv_cached *e;
	MYSQL_STMT *st;
	unsigned i;

	for (i = 0; i < MYDRV_STMT_CACHE; i++)
		if (c->cache[i].sql && strcmp(c->cache[i].sql, sql) == 0)
			return c->cache[i].st;
	st = mysql_stmt_init(c->db);
	if (!st) {
		mydrv_fail(c->db, err);
		return NULL;
	}
	if (mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql))) {
		mydrv_stmt_fail(st, err);
		mysql_stmt_close(st);
		return NULL;
	}
	e = &c->cache[c->cache_next];
	c->cache_next = (c->cache_next + 1) % MYDRV_STMT_CACHE;
	if (e->st)
		mysql_stmt_close(e->st);
	free(e->sql);
	e->sql = xstrdup(sql);
	e->st = st;
	return st;
}

/* Forgets st (after a failure, which may leave it unusable). */
static void mydrv_cache_drop(struct mydrv_conn *c, MYSQL_STMT *st)
{
	unsigned i;

	for (i = 0; i < MYDRV_STMT_CACHE; i++) {
		if (c->cache[i].st == st) {
			mysql_stmt_close(st);
			free(c->cache[i].sql);
			c->cache[i].sql = NULL;
			c->cache[i].st = NULL;
		}
	}
}

static void mydrv_cache_clear(struct mydrv_conn *c)
{
	unsigned i;

	for (i = 0; i < MYDRV_STMT_CACHE; i++)
		if (c->cache[i].st)
			mydrv_cache_drop(c, c->cache[i].st);
}

/* query() with parameters: a prepared statement (kept for reuse), every value bound as a string. */
static enum driver_result mydrv_query_stmt(struct mydrv_conn *c, const char *sql, int nparams,
					   const char *const *params, driver_row_fn fn, void *ctx,
					   struct driver_error *err)
{
	MYSQL_STMT *st;
	MYSQL_BIND *bind;
	unsigned long *lens;
	my_bool *nulls;
	enum driver_result r = DRIVER_OK;
	int i, status, stop = 0;

	st = mydrv_cache_get(c, sql, err);
	if (!st)
		return DRIVER_ESQL;
	if (mysql_stmt_param_count(st) != (unsigned long)nparams) {
		driver_error_set(err, "the statement has %lu parameters, but %d values were given",
				 mysql_stmt_param_count(st), nparams);
		return DRIVER_ESQL;
	}
	bind = xcalloc((size_t)nparams, sizeof(*bind));
	lens = xcalloc((size_t)nparams, sizeof(*lens));
	nulls = xcalloc((size_t)nparams, sizeof(*nulls));
	for (i = 0; i < nparams; i++) {
		nulls[i] = params[i] == NULL;
		lens[i] = params[i] ? (unsigned long)strlen(params[i]) : 0;
		bind[i].buffer_type = MYSQL_TYPE_STRING;
		bind[i].buffer = (void *)params[i]; /* only read */
		bind[i].buffer_length = lens[i];
		bind[i].length = &lens[i];
		bind[i].is_null = &nulls[i];
	}
	if (mysql_stmt_bind_param(st, bind) || mysql_stmt_execute(st)) {
		r = mydrv_stmt_fail(st, err);
		goto out;
	}
	if (mysql_stmt_field_count(st) == 0 && mysql_stmt_affected_rows(st) != (unsigned long long)-1)
		c->last_changes = (long long)mysql_stmt_affected_rows(st);
	do {
		int ncols = (int)mysql_stmt_field_count(st);

		if (ncols > 0) {
			r = mydrv_stmt_rows(st, ncols, fn, ctx, &stop, err);
			if (r != DRIVER_OK)
				goto out;
		}
		status = mysql_stmt_next_result(st);
		if (status > 0) {
			r = mydrv_stmt_fail(st, err);
			goto out;
		}
	} while (status == 0);
out:
	if (r != DRIVER_OK)
		mydrv_cache_drop(c, st);
	free(nulls);
	free(lens);
	free(bind);
	return r;
}

static enum driver_result mydrv_query(struct driver_conn *conn, const char *sql, int nparams,
				      const char *const *params, driver_row_fn fn, void *ctx,
				      struct driver_error *err)
{
	struct mydrv_conn *c = (struct mydrv_conn *)conn;

	c->last_changes = 0;
	if (nparams <= 0)
		return mydrv_query_text(c, sql, fn, ctx, err);
	return mydrv_query_stmt(c, sql, nparams, params, fn, ctx, err);
}

/* ---- tables and the lock ---------------------------------------------------- */

/* The first column of the first row, for single-value queries. */
struct mydrv_value {
	int rows;
	char *text; /* NULL for SQL NULL */
};

static int mydrv_first_value(void *ctx, int ncols, const char *const *values)
{
	struct mydrv_value *v = ctx;

	v->rows++;
	if (ncols > 0 && values[0])
		v->text = xstrdup(values[0]);
	return 1;
}

static enum driver_result mydrv_table_exists(struct driver_conn *conn, const char *table,
					     int *exists, struct driver_error *err)
{
	struct mydrv_value v = { 0, NULL };
	enum driver_result r;

	*exists = 0;
	r = mydrv_query(conn,
			"SELECT 1 FROM information_schema.tables"
			" WHERE table_schema = DATABASE() AND table_name = ?",
			1, &table, mydrv_first_value, &v, err);
	free(v.text);
	if (r == DRIVER_OK)
		*exists = v.rows > 0;
	return r;
}

/*
 * GET_LOCK names are server-wide, so the name carries the database. One
 * longer than MySQL allows is replaced by a hash of it, still unique.
 * The caller frees.
 */
static char *mydrv_lock_name(const char *database, const char *name)
{
	char *full = xasprintf("migrate:%s:%s", database ? database : "", name);
	char hex[65];

	if (strlen(full) <= MYDRV_LOCK_NAME_MAX)
		return full;
	sha256_hex(full, strlen(full), hex);
	free(full);
	return xasprintf("migrate:%.*s", MYDRV_LOCK_NAME_MAX - 8, hex);
}

static enum driver_result mydrv_lock(struct driver_conn *conn, const char *name, int timeout_s,
				     struct driver_error *err)
{
	struct mydrv_conn *c = (struct mydrv_conn *)conn;
	struct mydrv_value v = { 0, NULL };
	enum driver_result r;
	char *lname, *sql;
	const char *param;

	if (c->lock_name)
		return DRIVER_OK; /* GET_LOCK nests; one release must free it */
	lname = mydrv_lock_name(c->database, name);
	param = lname;
	sql = xasprintf("SELECT GET_LOCK(?, %d)", timeout_s > 0 ? timeout_s : 0);
	r = mydrv_query(conn, sql, 1, &param, mydrv_first_value, &v, err);
	free(sql);
	if (r == DRIVER_OK && v.text && strcmp(v.text, "1") == 0) {
		c->lock_name = lname;
		free(v.text);
		return DRIVER_OK;
	}
	if (r != DRIVER_OK) {
		/* err is set */
	} else if (v.text && strcmp(v.text, "0") == 0) {
		struct mydrv_value holder = { 0, NULL };
		struct driver_error ignored;

		mydrv_query(conn, "SELECT IS_USED_LOCK(?)", 1, &param, mydrv_first_value, &holder,
			    &ignored);
		if (holder.text)
			driver_error_set(err, "GET_LOCK('%s') timed out: connection %s holds it", lname,
					 holder.text);
		else
			driver_error_set(err, "GET_LOCK('%s') timed out", lname);
		free(holder.text);
		r = DRIVER_ELOCK;
	} else {
		driver_error_set(err, "GET_LOCK('%s') failed: it returned %s", lname,
				 v.text ? v.text : "NULL");
		r = DRIVER_ESQL;
	}
	free(v.text);
	free(lname);
	return r;
}

static enum driver_result mydrv_unlock(struct driver_conn *conn, struct driver_error *err)
{
	struct mydrv_conn *c = (struct mydrv_conn *)conn;
	struct mydrv_value v = { 0, NULL };
	enum driver_result r;
	const char *param = c->lock_name;

	if (!c->lock_name)
		return DRIVER_OK;
	r = mydrv_query(conn, "SELECT RELEASE_LOCK(?)", 1, &param, mydrv_first_value, &v, err);
	if (r == DRIVER_OK && !(v.text && strcmp(v.text, "1") == 0)) {
		driver_error_set(err, "RELEASE_LOCK('%s'): the lock was not held by this session",
				 c->lock_name);
		r = DRIVER_ESQL;
	}
	free(v.text);
	free(c->lock_name);
	c->lock_name = NULL;
	return r;
}

/* ---- interrupts and the session ---------------------------------------------- */

/*
 * KILL QUERY over a connection of its own, as the mysql client does on
 * Ctrl-C: the statement stops with "Query execution was interrupted", the
 * session stays (and with it the run-wide lock, until the core releases it).
 */
static enum driver_result mydrv_cancel(struct driver_conn *conn, struct driver_error *err)
{
	struct mydrv_conn *c = (struct mydrv_conn *)conn;
	struct driver_conn *k;
	struct mydrv_conn *kc;
	enum driver_result r;
	char sql[64];

	atomic_store(&c->cancelled, 1);
	r = mydrv_connect(c->settings, &k, err);
	if (r != DRIVER_OK)
		return r;
	kc = (struct mydrv_conn *)k;
	snprintf(sql, sizeof(sql), "KILL QUERY %lu", c->thread_id);
	r = DRIVER_OK;
	if (mysql_real_query(kc->db, sql, (unsigned long)strlen(sql)) && mysql_errno(kc->db) != ER_NO_SUCH_THREAD)
		r = mydrv_fail(kc->db, err);
	mydrv_close(k);
	return r;
}

static enum driver_result mydrv_current_schema(struct driver_conn *conn, const char *table, char **out,
					       struct driver_error *err)
{
	struct mydrv_value v = { 0, NULL };

	(void)table; /* an unqualified name only ever means the current database */
	enum driver_result r = mydrv_query(conn, "SELECT DATABASE()", 0, NULL, mydrv_first_value, &v, err);

	*out = r == DRIVER_OK ? v.text : NULL;
	if (r != DRIVER_OK)
		free(v.text);
	return r;
}

static enum driver_result mydrv_reset_session(struct driver_conn *conn, struct driver_error *err)
{
	struct mydrv_conn *c = (struct mydrv_conn *)conn;

	/* on Galera, the next migration starts with causal reads and TOI again, whatever this one set */
	enum driver_result r = c->wsrep ? mydrv_wsrep_session(c, err) : DRIVER_OK;

	if (r != DRIVER_OK)
		return r;
	if (!c->database || !*c->database)
		return DRIVER_OK;
	if (mysql_select_db(c->db, c->database))
		return mydrv_fail(c->db, err);
	return DRIVER_OK;
}

static long long mydrv_last_changes(struct driver_conn *conn)
{
	return ((struct mydrv_conn *)conn)->last_changes;
}

/* ---- databases -------------------------------------------------------------- */

/* Runs "<verb> `database`" on a connection to the server without a database. */
static enum driver_result mydrv_server_exec(const struct driver_settings *s, const char *verb,
					    const char *suffix, struct driver_error *err)
{
	struct driver_settings server = *s;
	struct strbuf sql = STRBUF_INIT;
	struct driver_conn *conn;
	enum driver_result r;
	const char *p;

	if (!s->database || !*s->database) {
		driver_error_set(err, "no database name given");
		return DRIVER_ECONFIG;
	}
	server.database = NULL;
	r = mydrv_connect(&server, &conn, err);
	if (r != DRIVER_OK)
		return r;
	strbuf_addf(&sql, "%s `", verb);
	for (p = s->database; *p; p++) {
		if (*p == '`')
			strbuf_addch(&sql, '`');
		strbuf_addch(&sql, *p);
	}
	strbuf_addch(&sql, '`');
	strbuf_addstr(&sql, suffix);
	r = mydrv_exec(conn, sql.buf, sql.len, NULL, err);
	strbuf_release(&sql);
	mydrv_close(conn);
	return r;
}

static enum driver_result mydrv_create_database(const struct driver_settings *s,
						struct driver_error *err)
{
	/* utf8mb4 whatever the server's default (latin1 on MariaDB 10.11) */
	return mydrv_server_exec(s, "CREATE DATABASE IF NOT EXISTS",
				 " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", err);
}

static enum driver_result mydrv_drop_database(const struct driver_settings *s,
					      struct driver_error *err)
{
	return mydrv_server_exec(s, "DROP DATABASE IF EXISTS", "", err);
}

/* ---- bulk loading ------------------------------------------------------------ */

/*
 * Two paths, chosen per load:
 *
 * LOAD DATA LOCAL INFILE, where the server allows it (@@local_infile) and
 * the options do not forbid it. Rows are encoded into a chunk of
 * tab-separated lines (backslash escapes, \N for NULL) and each full chunk
 * is sent by one "LOAD DATA LOCAL INFILE ... INTO TABLE `t` CHARACTER SET
 * utf8mb4 ... (`a`, `b`)", whose file our infile handlers serve from
 * memory; no file is written or read. With LOCAL the server turns every
 * bad value, duplicate key and NULL in a NOT NULL column into a warning and
 * goes on (it cannot stop the client mid-file), so each chunk runs after a
 * SAVEPOINT and any warning (notes aside), or a row count short of the
 * chunk's, fails it: the chunk is rolled back to the savepoint and replayed
 * one row at a time through a prepared INSERT, so the error names the exact
 * row and the server's own message for it, as on the other path. A server
 * or client that refuses LOCAL on the first chunk makes the load fall back
 * to the other path.
 *
 * Multi-row prepared INSERTs otherwise: rows are copied into a batch and
 * sent as one "INSERT INTO t (cols) VALUES (?,..),(?,..),..." with every
 * value bound, batches sized to stay under max_allowed_packet and the
 * 65,535 placeholders of a statement. The full-size statement is prepared
 * once; a short last batch gets its own. A batch the server rejects is
 * replayed one row at a time (InnoDB undoes only the failed statement).
 *
 * Either way the core then rolls the whole load back.
 *
 * Generated keys: the server gives a multi-row INSERT, and a LOAD DATA,
 * consecutive auto-increment values (auto_increment_increment apart) unless
 * innodb_autoinc_lock_mode is 2, where concurrent inserts may interleave;
 * then rows go by INSERT, one per batch, so every key is exact.
 */
#define MYDRV_BATCH_ROWS  1000
#define MYDRV_BATCH_BYTES (4u << 20)
#define MYDRV_CHUNK_BYTES (1u << 20)
#define MYDRV_INFILE_NAME "migrate-seed" /* what LOAD DATA names; never opened */

/* A chunk of rows for one LOAD DATA, and what became of it. */
struct mydrv_chunk {
	struct strbuf text;      /* the rows, encoded */
	int n;                   /* rows in it */
	long long first;         /* rows of the load before it */
	size_t sent;             /* bytes the library has read */
	enum driver_result r;    /* its outcome */
	struct driver_error err;
	int refused;             /* the server or the library refused LOCAL */
	unsigned long long key;  /* the first key the server gave its rows */
};

struct driver_load {
	struct mydrv_conn *c;
	char *table_sql;     /* "INSERT INTO `t` (`a`, `b`) VALUES " */
	int ncols;
	int batch_rows;      /* rows in a full batch */
	size_t batch_bytes;  /* bytes of values in a full batch */
	MYSQL_STMT *full;    /* prepared for batch_rows rows */
	/* the batch: values copied into buf, offsets per value, -1 for NULL */
	struct strbuf buf;
	long *offs;
	int n;               /* rows in the batch, or in the chunk */
	long long rows;      /* rows sent before this batch or chunk */
	driver_row_fn key_fn;
	void *key_ctx;
	unsigned long long key_step;
	/* LOAD DATA LOCAL INFILE */
	int local;           /* 1 while rows go by LOAD DATA */
	char *load_sql;
	struct strbuf chunk; /* the chunk being filled: n rows, encoded */
	struct mydrv_chunk sending; /* the chunk sent last, by the sender thread */
	pthread_t thread;
	int thread_started;
	pthread_mutex_t mu;  /* guards busy and quit */
	pthread_cond_t cv;
	int busy;            /* the sender is sending */
	int quit;            /* the sender is to end */
	int pending;         /* sending's outcome is not taken yet */
};

static void mydrv_quote(struct strbuf *sb, const char *name)
{
	strbuf_addch(sb, '`');
	for (; *name; name++) {
		if (*name == '`')
			strbuf_addch(sb, '`');
		strbuf_addch(sb, *name);
	}
	strbuf_addch(sb, '`');
}

static int mydrv_add_name(void *ctx, int ncols, const char *const *values)
{
	struct strbuf *sb = ctx; /* names, each NUL-terminated */

	if (ncols >= 1 && values[0])
		strbuf_add(sb, values[0], strlen(values[0]) + 1);
	return 0;
}

static enum driver_result mydrv_primary_key(struct driver_conn *conn, const char *table,
					    char ***cols, struct driver_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	enum driver_result r;
	size_t n = 0, i;
	char **v;
	const char *p;

	*cols = NULL;
	r = mydrv_query(conn,
			"SELECT column_name FROM information_schema.key_column_usage"
			" WHERE table_schema = DATABASE() AND table_name = ? AND constraint_name = 'PRIMARY'"
			" ORDER BY ordinal_position",
			1, &table, mydrv_add_name, &sb, err);
	if (r != DRIVER_OK) {
		strbuf_release(&sb);
		return r;
	}
	for (i = 0; i < sb.len; i++)
		if (sb.buf[i] == '\0')
			n++;
	v = xcalloc(n + 1, sizeof(*v));
	for (i = 0, p = sb.buf; i < n; i++, p += strlen(p) + 1)
		v[i] = xstrdup(p);
	strbuf_release(&sb);
	*cols = v;
	return DRIVER_OK;
}

/* The statement for n rows. */
static MYSQL_STMT *mydrv_load_prepare(struct driver_load *ld, int n, struct driver_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	MYSQL_STMT *st;
	int i, j;

	strbuf_addstr(&sb, ld->table_sql);
	for (i = 0; i < n; i++) {
		strbuf_addstr(&sb, i ? ",(" : "(");
		for (j = 0; j < ld->ncols; j++)
			strbuf_addstr(&sb, j ? ",?" : "?");
		strbuf_addch(&sb, ')');
	}
	st = mysql_stmt_init(ld->c->db);
	if (!st) {
		mydrv_fail(ld->c->db, err);
	} else if (mysql_stmt_prepare(st, sb.buf, (unsigned long)sb.len)) {
		mydrv_stmt_fail(st, err);
		mysql_stmt_close(st);
		st = NULL;
	}
	strbuf_release(&sb);
	return st;
}

/* Binds rows [first, first + n) of the batch to st and runs it. */
static int mydrv_load_exec(struct driver_load *ld, MYSQL_STMT *st, int first, int n)
{
	size_t nb = (size_t)n * (size_t)ld->ncols, i;
	MYSQL_BIND *bind = xcalloc(nb, sizeof(*bind));
	unsigned long *lens = xcalloc(nb, sizeof(*lens));
	my_bool *nulls = xcalloc(nb, sizeof(*nulls));
	int rc;

	for (i = 0; i < nb; i++) {
		long off = ld->offs[(size_t)first * (size_t)ld->ncols + i];
		nulls[i] = off < 0;
		bind[i].buffer_type = MYSQL_TYPE_STRING;
		bind[i].is_null = &nulls[i];
		bind[i].length = &lens[i];
		if (off >= 0) {
			bind[i].buffer = ld->buf.buf + off;
			lens[i] = (unsigned long)strlen(ld->buf.buf + off);
			bind[i].buffer_length = lens[i];
		}
	}
	rc = mysql_stmt_bind_param(st, bind) || mysql_stmt_execute(st);
	free(bind);
	free(lens);
	free(nulls);
	return rc;
}

/* Reports the n keys the server gave a statement's rows, the first of them first. */
static void mydrv_load_keys(struct driver_load *ld, unsigned long long first, int n)
{
	char key[24];
	const char *v[1] = { key };
	int i;

	for (i = 0; i < n && ld->key_fn; i++) {
		snprintf(key, sizeof(key), "%llu", first + (unsigned long long)i * ld->key_step);
		ld->key_fn(ld->key_ctx, 1, v);
	}
}

/* The batch is sent (or failed): start the next one. */
static void mydrv_load_next(struct driver_load *ld)
{
	ld->rows += ld->n;
	ld->n = 0;
	ld->buf.len = 0;
}

/*
 * Did the last statement leave a warning (notes aside)? Then it failed:
 * err says why, as "message (warning N)" without the server's "at row R",
 * whose R (0 when it names none) goes to *row. A server that is not in
 * strict mode stores a bad value, cut or replaced, with such a warning;
 * LOAD DATA LOCAL does so in strict mode too. A seed fails on it either
 * way, as it fails on an error.
 */
static int mydrv_warned(struct mydrv_conn *c, struct driver_error *err, long *row)
{
	MYSQL_RES *res;
	MYSQL_ROW w;
	int found = 0;

	*row = 0;
	if (mysql_warning_count(c->db) == 0)
		return 0;
	if (mysql_real_query(c->db, "SHOW WARNINGS", 13) || !(res = mysql_store_result(c->db))) {
		driver_error_set(err, "the server reported warnings, and SHOW WARNINGS failed");
		return 1;
	}
	while (!found && (w = mysql_fetch_row(res)) != NULL) {
		const char *text;

		if (mysql_num_fields(res) < 3 || !w[0] || strcmp(w[0], "Note") == 0)
			continue;
		text = w[2] ? w[2] : "";
		driver_error_set(err, "%.*s (warning %s)", (int)mydrv_at_row(text, row), text, w[1] ? w[1] : "?");
		mydrv_one_line(err->message);
		found = 1;
	}
	mysql_free_result(res);
	return found;
}

/* Sends the batch. On failure finds the row the server rejects and its message. */
static enum driver_result mydrv_load_flush(struct driver_load *ld, struct driver_error *err)
{
	MYSQL_STMT *st;
	enum driver_result r = DRIVER_OK;
	int i;

	if (ld->n == 0)
		return DRIVER_OK;
	st = ld->n == ld->batch_rows ? ld->full : mydrv_load_prepare(ld, ld->n, err);
	if (!st)
		return DRIVER_ESQL;
	if (mydrv_load_exec(ld, st, 0, ld->n) == 0) {
		unsigned long long first = mysql_insert_id(ld->c->db);
		long row;

		if (mydrv_warned(ld->c, err, &row)) {
			err->offset = row > 0 ? (long)(ld->rows + row) : -1;
			r = DRIVER_ESQL;
		} else {
			mydrv_load_keys(ld, first, ld->n);
		}
	} else {
		MYSQL_STMT *one;

		r = ld->n == 1 ? mydrv_row_fail(st, err) : mydrv_stmt_fail(st, err);
		err->offset = -1;
		one = r == DRIVER_ESQL && ld->n > 1 ? mydrv_load_prepare(ld, 1, err) : NULL;
		for (i = 0; one && i < ld->n; i++) {
			long row;

			if (mydrv_load_exec(ld, one, i, 1) != 0)
				r = mydrv_row_fail(one, err);
			else if (!mydrv_warned(ld->c, err, &row))
				continue;
			err->offset = (long)(ld->rows + i + 1);
			break;
		}
		if (ld->n == 1)
			err->offset = (long)(ld->rows + 1);
		if (one)
			mysql_stmt_close(one);
	}
	if (st != ld->full)
		mysql_stmt_close(st);
	mydrv_load_next(ld);
	return r;
}

/* Adds a row to the INSERT batch, sending the batch when it is full. */
static enum driver_result mydrv_insert_row(struct driver_load *ld, const char *const *values,
					   const size_t *lens, struct driver_error *err)
{
	long *offs = ld->offs + (size_t)ld->n * (size_t)ld->ncols;
	int i;

	for (i = 0; i < ld->ncols; i++) {
		if (!values[i]) {
			offs[i] = -1;
			continue;
		}
		offs[i] = (long)ld->buf.len;
		strbuf_add(&ld->buf, values[i], lens[i] + 1); /* with the NUL */
	}
	ld->n++;
	if (ld->n == ld->batch_rows || ld->buf.len >= ld->batch_bytes)
		return mydrv_load_flush(ld, err);
	return DRIVER_OK;
}

/* -- LOAD DATA LOCAL INFILE -- */

/*
 * The infile handlers, set on every connection. The server names a file in
 * its request; whatever it names, they serve the chunk of the load this
 * connection is running, and refuse when it runs none, so a server can
 * never read a file of the client's.
 */
static int mydrv_infile_init(void **ptr, const char *filename, void *userdata)
{
	struct mydrv_conn *c = userdata;

	(void)filename;
	*ptr = c;
	if (!c->loading)
		return 1;
	c->loading->sent = 0;
	return 0;
}

static int mydrv_infile_read(void *ptr, char *buf, unsigned int len)
{
	struct mydrv_chunk *ch = ((struct mydrv_conn *)ptr)->loading;
	size_t n;

	if (!ch)
		return -1;
	n = ch->text.len - ch->sent;
	if (n > len)
		n = len;
	if (n)
		memcpy(buf, ch->text.buf + ch->sent, n);
	ch->sent += n;
	return (int)n;
}

static void mydrv_infile_end(void *ptr)
{
	(void)ptr;
}

static int mydrv_infile_error(void *ptr, char *buf, unsigned int len)
{
	(void)ptr;
	snprintf(buf, len, "the server asked for a local file outside a seed load; migrate sends none");
	return CR_UNKNOWN_ERROR;
}

/* Escapes for LOAD DATA's FIELDS ESCAPED BY '\\': the bytes it would read otherwise. */
static const char mydrv_tsv_escape[256] = {
	['\0'] = '0', ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r', ['\\'] = '\\',
};

static void mydrv_tsv_add(struct strbuf *sb, const char *v, size_t len)
{
	size_t i, start = 0;

	for (i = 0; i < len; i++) {
		char e = mydrv_tsv_escape[(unsigned char)v[i]];

		if (!e)
			continue;
		strbuf_add(sb, v + start, i - start);
		strbuf_addch(sb, '\\');
		strbuf_addch(sb, e);
		start = i + 1;
	}
	strbuf_add(sb, v + start, len - start);
}

/*
 * Decodes the line at *p, ncols values, into out (each value NUL-terminated)
 * and offs (each value's offset, -1 for NULL), moving *p past it: the
 * inverse of mydrv_tsv_add.
 */
static void mydrv_tsv_decode(const char **p, int ncols, struct strbuf *out, long *offs)
{
	const char *s = *p;
	int i;

	out->len = 0;
	for (i = 0; i < ncols; i++) {
		if (s[0] == '\\' && s[1] == 'N' && (s[2] == '\t' || s[2] == '\n')) {
			offs[i] = -1;
			s += 3;
			continue;
		}
		offs[i] = (long)out->len;
		for (; *s != '\t' && *s != '\n'; s++) {
			char ch = *s;

			if (ch == '\\') {
				ch = *++s;
				ch = ch == '0' ? '\0' : ch == 't' ? '\t' : ch == 'n' ? '\n' : ch == 'r' ? '\r' : ch;
			}
			strbuf_addch(out, ch);
		}
		strbuf_addch(out, '\0');
		s++; /* the tab or the newline */
	}
	*p = s;
}

/*
 * Replays the chunk one row at a time by INSERT to find the row the server
 * rejects: on finding it, sets ch's error to its message and row.
 */
static void mydrv_chunk_replay(struct driver_load *ld, struct mydrv_chunk *ch)
{
	struct driver_error row_err;
	MYSQL_STMT *one = mydrv_load_prepare(ld, 1, &row_err);
	const char *p = ch->text.buf;
	int i;

	if (!one)
		return;
	for (i = 0; i < ch->n; i++) {
		long row;

		mydrv_tsv_decode(&p, ld->ncols, &ld->buf, ld->offs); /* as the batch's first row */
		if (mydrv_load_exec(ld, one, 0, 1) != 0)
			ch->r = mydrv_row_fail(one, &ch->err);
		else if (!mydrv_warned(ld->c, &ch->err, &row))
			continue;
		ch->err.offset = (long)(ch->first + i + 1);
		break;
	}
	mysql_stmt_close(one);
}

/* Sends the chunk's rows by INSERT instead (the first chunk, when LOCAL is refused). */
static enum driver_result mydrv_chunk_insert(struct driver_load *ld, struct mydrv_chunk *ch,
					     struct driver_error *err)
{
	struct strbuf row = STRBUF_INIT;
	const char *p = ch->text.buf;
	const char **vals = xcalloc((size_t)ld->ncols, sizeof(*vals));
	size_t *lens = xcalloc((size_t)ld->ncols, sizeof(*lens));
	long *offs = xcalloc((size_t)ld->ncols, sizeof(*offs));
	enum driver_result r = DRIVER_OK;
	int i, j;

	for (i = 0; i < ch->n && r == DRIVER_OK; i++) {
		mydrv_tsv_decode(&p, ld->ncols, &row, offs);
		for (j = 0; j < ld->ncols; j++) {
			vals[j] = offs[j] < 0 ? NULL : row.buf + offs[j];
			lens[j] = offs[j] < 0 ? 0 : strlen(row.buf + offs[j]);
		}
		r = mydrv_insert_row(ld, vals, lens, err);
	}
	strbuf_release(&row);
	free(offs);
	free(lens);
	free(vals);
	return r;
}

/* Is this error the server or the library refusing LOCAL? */
static int mydrv_local_refused(unsigned int code)
{
	switch (code) {
	case ER_NOT_ALLOWED_COMMAND: /* 1148, MySQL 5.x, MariaDB */
	case 3948:                   /* ER_CLIENT_LOCAL_FILES_DISABLED, MySQL 8 */
	case 4166:                   /* ER_LOAD_INFILE_CAPABILITY_DISABLED, MariaDB */
	case 2068:                   /* CR_LOAD_DATA_LOCAL_INFILE_REJECTED, MySQL 8 client */
		return 1;
	default:
		return 0;
	}
}

/*
 * Loads the chunk by LOAD DATA LOCAL INFILE (see the top of this section),
 * setting ch->r and ch->err, and ch->key to the first key the server gave.
 * Runs on the sender thread (on the caller's only when no thread could be
 * started); it touches only the connection, ch, and the load's replay
 * buffers, which the caller leaves alone until mydrv_chunk_collect.
 */
static void mydrv_chunk_send(struct driver_load *ld, struct mydrv_chunk *ch)
{
	struct mydrv_conn *c = ld->c;
	my_ulonglong loaded;
	int failed;

	ch->r = DRIVER_OK;
	ch->refused = 0;
	ch->err.offset = -1;
	if (mysql_real_query(c->db, "SAVEPOINT migrate_load", 22)) {
		ch->r = mydrv_fail(c->db, &ch->err);
		return;
	}
	c->loading = ch;
	failed = mysql_real_query(c->db, ld->load_sql, (unsigned long)strlen(ld->load_sql));
	c->loading = NULL;
	if (failed) {
		ch->refused = mydrv_local_refused(mysql_errno(c->db));
		ch->r = mydrv_fail(c->db, &ch->err);
		if (ch->refused || ch->r != DRIVER_ESQL)
			return; /* refused: nothing went in; or the connection is gone */
	} else {
		long row;
		int warned;

		loaded = mysql_affected_rows(c->db);
		/* what the replay below does not pin down, the warning's row does */
		warned = mydrv_warned(c, &ch->err, &row);
		if (!warned && loaded == (my_ulonglong)ch->n) {
			/* the OK packet of a LOAD DATA carries no insert id; the session has it */
			if (ld->key_fn) {
				struct mydrv_value first = { 0, NULL };

				ch->r = mydrv_query_text(c, "SELECT LAST_INSERT_ID()", mydrv_first_value, &first,
							 &ch->err);
				ch->key = first.text ? strtoull(first.text, NULL, 10) : 0;
				free(first.text);
			}
			return;
		}
		if (warned)
			ch->err.offset = row > 0 ? (long)(ch->first + row) : -1;
		else
			driver_error_set(&ch->err, "the server loaded %llu of %d rows",
					 (unsigned long long)loaded, ch->n);
		ch->r = DRIVER_ESQL;
	}
	/* find the row, with the message an INSERT of it gets */
	if (mysql_real_query(c->db, "ROLLBACK TO SAVEPOINT migrate_load", 34) == 0)
		mydrv_chunk_replay(ld, ch);
}

static void *mydrv_sender(void *arg)
{
	struct driver_load *ld = arg;

	pthread_mutex_lock(&ld->mu);
	for (;;) {
		while (!ld->busy && !ld->quit)
			pthread_cond_wait(&ld->cv, &ld->mu);
		if (ld->quit)
			break;
		pthread_mutex_unlock(&ld->mu);
		mydrv_chunk_send(ld, &ld->sending);
		pthread_mutex_lock(&ld->mu);
		ld->busy = 0;
		pthread_cond_broadcast(&ld->cv);
	}
	pthread_mutex_unlock(&ld->mu);
	return NULL;
}

/*
 * Waits for the chunk being sent, if any, and takes its outcome. When the
 * first chunk found LOCAL refused (nothing went in), the load goes on by
 * INSERT from that chunk on.
 */
static enum driver_result mydrv_chunk_collect(struct driver_load *ld, struct driver_error *err)
{
	struct mydrv_chunk *ch = &ld->sending;

	if (ld->thread_started) {
		pthread_mutex_lock(&ld->mu);
		while (ld->busy)
			pthread_cond_wait(&ld->cv, &ld->mu);
		pthread_mutex_unlock(&ld->mu);
	}
	if (!ld->pending)
		return DRIVER_OK;
	ld->pending = 0;
	if (ch->refused && ch->first == 0) {
		ld->local = 0;
		ld->rows = 0;
		ld->full = mydrv_load_prepare(ld, ld->batch_rows, err);
		return ld->full ? mydrv_chunk_insert(ld, ch, err) : DRIVER_ESQL;
	}
	if (ch->r != DRIVER_OK) {
		*err = ch->err;
		return ch->r;
	}
	mydrv_load_keys(ld, ch->key, ch->n);
	return DRIVER_OK;
}

/*
 * Hands the filled chunk to the sender thread, after the one before it is
 * done, so the server loads one chunk while this thread reads and encodes
 * the next.
 */
static enum driver_result mydrv_chunk_flush(struct driver_load *ld, struct driver_error *err)
{
	struct strbuf spare;
	enum driver_result r;

	r = mydrv_chunk_collect(ld, err);
	if (r != DRIVER_OK || ld->n == 0)
		return r;
	if (!ld->local) {
		/* LOCAL was refused: this chunk by INSERT too */
		struct mydrv_chunk ch;

		memset(&ch, 0, sizeof(ch));
		ch.text = ld->chunk;
		ch.n = ld->n;
		ld->n = 0;
		r = mydrv_chunk_insert(ld, &ch, err);
		ld->chunk.len = 0;
		return r;
	}
	spare = ld->sending.text;
	ld->sending.text = ld->chunk;
	ld->sending.n = ld->n;
	ld->sending.first = ld->rows;
	ld->chunk = spare;
	ld->chunk.len = 0;
	ld->rows += ld->n;
	ld->n = 0;
	ld->pending = 1;
	if (!ld->thread_started) {
		if (pthread_create(&ld->thread, NULL, mydrv_sender, ld) != 0) {
			mydrv_chunk_send(ld, &ld->sending); /* no thread: send it here */
			return DRIVER_OK;
		}
		ld->thread_started = 1;
	}
	pthread_mutex_lock(&ld->mu);
	ld->busy = 1;
	pthread_cond_broadcast(&ld->cv);
	pthread_mutex_unlock(&ld->mu);
	return DRIVER_OK;
}

static enum driver_result mydrv_chunk_row(struct driver_load *ld, const char *const *values,
					  const size_t *lens, struct driver_error *err)
{
	int i;

	for (i = 0; i < ld->ncols; i++) {
		if (i)
			strbuf_addch(&ld->chunk, '\t');
		if (values[i])
			mydrv_tsv_add(&ld->chunk, values[i], lens[i]);
		else
			strbuf_add(&ld->chunk, "\\N", 2);
	}
	strbuf_addch(&ld->chunk, '\n');
	ld->n++;
	if (ld->chunk.len >= MYDRV_CHUNK_BYTES)
		return mydrv_chunk_flush(ld, err);
	return DRIVER_OK;
}

/* The values of the first row of a query, ncols of them, each NULL for SQL NULL. */
struct mydrv_values {
	int ncols;
	char *v[4];
};

static int mydrv_first_values(void *ctx, int ncols, const char *const *values)
{
	struct mydrv_values *vs = ctx;
	int i;

	for (i = 0; i < ncols && i < 4 && !vs->ncols; i++)
		vs->v[i] = values[i] ? xstrdup(values[i]) : NULL;
	vs->ncols = ncols;
	return 1;
}

static void mydrv_load_free(struct driver_load *ld)
{
	if (ld->full)
		mysql_stmt_close(ld->full);
	pthread_cond_destroy(&ld->cv);
	pthread_mutex_destroy(&ld->mu);
	strbuf_release(&ld->buf);
	strbuf_release(&ld->chunk);
	strbuf_release(&ld->sending.text);
	free(ld->offs);
	free(ld->load_sql);
	free(ld->table_sql);
	free(ld);
}

static enum driver_result mydrv_load_begin(struct driver_conn *conn, const char *table,
					   const char *const *cols, int ncols, const char *key,
					   driver_row_fn key_fn, void *key_ctx,
					   struct driver_load **out, struct driver_error *err)
{
	struct mydrv_conn *c = (struct mydrv_conn *)conn;
	struct mydrv_values vs = { 0, { NULL, NULL, NULL, NULL } };
	struct strbuf sb = STRBUF_INIT, names = STRBUF_INIT;
	struct driver_load *ld;
	unsigned long long packet = 16u << 20;
	int i;

	*out = NULL;
	if (mydrv_query_text(c, "SELECT @@max_allowed_packet, @@local_infile, @@auto_increment_increment",
			     mydrv_first_values, &vs, err) != DRIVER_OK)
		return DRIVER_ESQL;
	if (key) {
		/* an error (no InnoDB) leaves it NULL: only InnoDB's mode 2 interleaves keys */
		struct mydrv_values mode = { 0, { NULL, NULL, NULL, NULL } };
		struct driver_error ignored;

		mydrv_query_text(c, "SELECT @@innodb_autoinc_lock_mode", mydrv_first_values, &mode, &ignored);
		vs.v[3] = mode.v[0];
	}
	ld = xcalloc(1, sizeof(*ld));
	ld->c = c;
	ld->ncols = ncols;
	pthread_mutex_init(&ld->mu, NULL);
	pthread_cond_init(&ld->cv, NULL);
	if (vs.v[0])
		packet = strtoull(vs.v[0], NULL, 10);
	ld->local = c->local_infile && vs.v[1] && strcmp(vs.v[1], "1") == 0;
	ld->key_step = 1;
	if (vs.v[2] && atoll(vs.v[2]) > 0)
		ld->key_step = (unsigned long long)atoll(vs.v[2]);
	ld->batch_rows = MYDRV_BATCH_ROWS;
	if (ld->batch_rows * ncols > 65535)
		ld->batch_rows = 65535 / ncols;
	/* half the packet: the binary protocol adds type and length bytes per value */
	ld->batch_bytes = packet / 2 < MYDRV_BATCH_BYTES ? (size_t)(packet / 2) : MYDRV_BATCH_BYTES;
	if (key) {
		ld->key_fn = key_fn;
		ld->key_ctx = key_ctx;
		if (vs.v[3] && strcmp(vs.v[3], "2") == 0) {
			ld->batch_rows = 1;
			ld->local = 0;
		}
	}
	for (i = 0; i < 4; i++)
		free(vs.v[i]);

	for (i = 0; i < ncols; i++) {
		if (i)
			strbuf_addstr(&names, ", ");
		mydrv_quote(&names, cols[i]);
	}
	strbuf_addstr(&sb, "INSERT INTO ");
	mydrv_quote(&sb, table);
	strbuf_addf(&sb, " (%s) VALUES ", names.buf);
	ld->table_sql = strbuf_detach(&sb);
	strbuf_addstr(&sb, "LOAD DATA LOCAL INFILE '" MYDRV_INFILE_NAME "' INTO TABLE ");
	mydrv_quote(&sb, table);
	strbuf_addf(&sb, " CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ENCLOSED BY '' ESCAPED BY '\\\\'"
			 " LINES STARTING BY '' TERMINATED BY '\\n' (%s)", names.buf);
	ld->load_sql = strbuf_detach(&sb);
	strbuf_release(&names);
	ld->offs = xcalloc((size_t)ld->batch_rows * (size_t)ncols, sizeof(*ld->offs));
	if (!ld->local) {
		ld->full = mydrv_load_prepare(ld, ld->batch_rows, err);
		if (!ld->full) {
			mydrv_load_free(ld);
			return DRIVER_ESQL;
		}
	}
	*out = ld;
	return DRIVER_OK;
}

static enum driver_result mydrv_load_row(struct driver_load *ld, const char *const *values,
					 const size_t *lens, struct driver_error *err)
{
	if (ld->local)
		return mydrv_chunk_row(ld, values, lens, err);
	return mydrv_insert_row(ld, values, lens, err);
}

static void mydrv_load_abort(struct driver_load *ld)
{
	if (!ld)
		return;
	if (ld->thread_started) {
		/* the connection is the sender's until its chunk is done */
		pthread_mutex_lock(&ld->mu);
		while (ld->busy)
			pthread_cond_wait(&ld->cv, &ld->mu);
		ld->quit = 1;
		pthread_cond_broadcast(&ld->cv);
		pthread_mutex_unlock(&ld->mu);
		pthread_join(ld->thread, NULL);
	}
	mydrv_load_free(ld);
}

static enum driver_result mydrv_load_end(struct driver_load *ld, long long *rows,
					 struct driver_error *err)
{
	enum driver_result r = DRIVER_OK;

	if (ld->local) {
		r = mydrv_chunk_flush(ld, err);
		if (r == DRIVER_OK)
			r = mydrv_chunk_collect(ld, err);
	}
	/* the INSERT path, or a first chunk that fell back to it, leaves a batch */
	if (r == DRIVER_OK)
		r = mydrv_load_flush(ld, err);
	*rows = ld->rows;
	mydrv_load_abort(ld);
	return r;
}

/* ---- schema dump ---------------------------------------------------------- */

/*
 * The schema of DATABASE() from information_schema. Names are compared
 * and sorted bytewise here, not by the server's case-insensitive
 * collations. Constraint names are left out: MySQL numbers unnamed foreign
 * keys (t_ibfk_1, t_ibfk_2) in the order they were created. Views lose the
 * "`database`." the server puts before every name, so the dump of a
 * scratch database reads like any other's.
 */
static enum driver_result mydrv_rows(struct mydrv_conn *c, const char *sql, const char *param,
				     struct dump_rows *out, struct driver_error *err)
{
	memset(out, 0, sizeof(*out));
	return mydrv_query(&c->base, sql, param ? 1 : 0, &param, dump_rows_add, out, err);
}

static enum driver_result mydrv_dump_table(struct mydrv_conn *c, const char *table, struct strbuf *out,
					   struct driver_error *err)
{
	struct dump_lines cols = { NULL, 0, 0 }, rest = { NULL, 0, 0 };
	struct strbuf sb = STRBUF_INIT, to = STRBUF_INIT;
	struct dump_rows r;
	enum driver_result res;
	size_t i, j;
	char *one;

	res = mydrv_rows(c, "SELECT column_name, column_type, is_nullable, column_default, extra,"
			    " collation_name FROM information_schema.columns"
			    " WHERE table_schema = DATABASE() AND table_name = ?", table, &r, err);
	for (i = 0; res == DRIVER_OK && i < r.n; i++) {
		const char *dflt = r.v[i * r.ncols + 3], *extra = dump_cell(&r, i, 4), *coll = r.v[i * r.ncols + 5];
		dump_lines_addf(&cols, "  column %s %s%s%s%s%s%s%s%s", dump_cell(&r, i, 0), dump_cell(&r, i, 1),
				coll ? " collate " : "", coll ? coll : "",
				strcmp(dump_cell(&r, i, 2), "NO") == 0 ? " not null" : "", dflt ? " default " : "",
				dflt ? dflt : "", *extra ? " " : "", extra);
	}
	dump_rows_release(&r);
	if (res != DRIVER_OK)
		goto out;

	/* one row per index column, grouped by index */
	res = mydrv_rows(c, "SELECT index_name, non_unique, column_name, sub_part, index_type"
			    " FROM information_schema.statistics"
			    " WHERE table_schema = DATABASE() AND table_name = ?"
			    " ORDER BY index_name, seq_in_index", table, &r, err);
	for (i = 0; res == DRIVER_OK && i < r.n; i = j) {
		const char *name = dump_cell(&r, i, 0);
		for (j = i; j < r.n && strcmp(dump_cell(&r, j, 0), name) == 0; j++) {
			const char *part = r.v[j * r.ncols + 3];
			strbuf_addf(&sb, "%s%s%s%s%s", j > i ? ", " : "", dump_cell(&r, j, 2), part ? "(" : "",
				    part ? part : "", part ? ")" : "");
		}
		if (strcmp(name, "PRIMARY") == 0)
			dump_lines_addf(&rest, "  primary key (%s)", sb.buf);
		else if (strcmp(dump_cell(&r, i, 1), "0") == 0)
			dump_lines_addf(&rest, "  unique (%s)", sb.buf);
		else
			dump_lines_addf(&rest, "  index %s (%s) using %s", name, sb.buf, dump_cell(&r, i, 4));
		strbuf_release(&sb);
	}
	dump_rows_release(&r);
	if (res != DRIVER_OK)
		goto out;

	res = mydrv_rows(c, "SELECT k.constraint_name, k.column_name, k.referenced_table_name,"
			    " k.referenced_column_name, f.update_rule, f.delete_rule"
			    " FROM information_schema.key_column_usage k"
			    " JOIN information_schema.referential_constraints f"
			    " ON f.constraint_schema = k.constraint_schema AND f.constraint_name = k.constraint_name"
			    " AND f.table_name = k.table_name"
			    " WHERE k.table_schema = DATABASE() AND k.table_name = ?"
			    " AND k.referenced_table_name IS NOT NULL"
			    " ORDER BY k.constraint_name, k.ordinal_position", table, &r, err);
	for (i = 0; res == DRIVER_OK && i < r.n; i = j) {
		for (j = i; j < r.n && strcmp(dump_cell(&r, j, 0), dump_cell(&r, i, 0)) == 0; j++) {
			strbuf_addf(&sb, "%s%s", j > i ? ", " : "", dump_cell(&r, j, 1));
			strbuf_addf(&to, "%s%s", j > i ? ", " : "", dump_cell(&r, j, 3));
		}
		dump_lines_addf(&rest, "  foreign key (%s) references %s (%s) on update %s on delete %s", sb.buf,
				dump_cell(&r, i, 2), to.buf, dump_cell(&r, i, 4), dump_cell(&r, i, 5));
		strbuf_release(&sb);
		strbuf_release(&to);
	}
	dump_rows_release(&r);
	if (res != DRIVER_OK)
		goto out;

	/*
	 * CHECK constraints, column and table ones alike, without their names
	 * (MariaDB numbers unnamed ones CONSTRAINT_1, CONSTRAINT_2 in order).
	 * MariaDB's check_constraints has table_name; MySQL 8's has not.
	 */
	if (strstr(mysql_get_server_info(c->db), "MariaDB"))
		res = mydrv_rows(c, "SELECT check_clause FROM information_schema.check_constraints"
				    " WHERE constraint_schema = DATABASE() AND table_name = ?", table, &r, err);
	else
		res = mydrv_rows(c, "SELECT cc.check_clause FROM information_schema.table_constraints tc"
				    " JOIN information_schema.check_constraints cc"
				    " ON cc.constraint_schema = tc.constraint_schema AND cc.constraint_name = tc.constraint_name"
				    " WHERE tc.table_schema = DATABASE() AND tc.table_name = ? AND tc.constraint_type = 'CHECK'",
				 table, &r, err);
	for (i = 0; res == DRIVER_OK && i < r.n; i++) {
		one = dump_oneline(dump_cell(&r, i, 0));
		dump_lines_addf(&rest, "  check (%s)", one);
		free(one);
	}
	dump_rows_release(&r);
	if (res != DRIVER_OK)
		goto out;

	res = mydrv_rows(c, "SELECT trigger_name, action_timing, event_manipulation, action_statement"
			    " FROM information_schema.triggers"
			    " WHERE trigger_schema = DATABASE() AND event_object_table = ?", table, &r, err);
	for (i = 0; res == DRIVER_OK && i < r.n; i++) {
		one = dump_oneline(dump_cell(&r, i, 3));
		dump_lines_addf(&rest, "  trigger %s: %s %s FOR EACH ROW %s", dump_cell(&r, i, 0),
				dump_cell(&r, i, 1), dump_cell(&r, i, 2), one);
		free(one);
	}
	dump_rows_release(&r);
	if (res != DRIVER_OK)
		goto out;

	dump_lines_sort(&cols);
	dump_lines_sort(&rest);
	for (i = 0; i < cols.n; i++)
		strbuf_addf(out, "%s\n", cols.v[i]);
	for (i = 0; i < rest.n; i++)
		strbuf_addf(out, "%s\n", rest.v[i]);
out:
	dump_lines_release(&cols);
	dump_lines_release(&rest);
	return res;
}

/* One object of the dump: its header (the sort key) and its text. */
struct mydrv_object {
	char *head;
	char *text;
};

static int mydrv_object_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mydrv_object *)a)->head, ((const struct mydrv_object *)b)->head);
}

static enum driver_result mydrv_dump_schema(struct driver_conn *conn, const char *const *skip,
					    char **out, struct driver_error *err)
{
	struct mydrv_conn *c = (struct mydrv_conn *)conn;
	struct mydrv_object *objs = NULL;
	size_t nobjs = 0, cap = 0, i;
	struct strbuf sb = STRBUF_INIT;
	struct dump_rows r;
	enum driver_result res;

	*out = NULL;
	res = mydrv_rows(c, "SELECT t.table_name, t.table_type,"
			    " REPLACE(v.view_definition, CONCAT('`', DATABASE(), '`.'), '')"
			    " FROM information_schema.tables t LEFT JOIN information_schema.views v"
			    " ON v.table_schema = t.table_schema AND v.table_name = t.table_name"
			    " WHERE t.table_schema = DATABASE()"
			    " UNION ALL"
			    " SELECT routine_name, routine_type, routine_definition FROM information_schema.routines"
			    " WHERE routine_schema = DATABASE()", NULL, &r, err);
	for (i = 0; res == DRIVER_OK && i < r.n; i++) {
		const char *name = dump_cell(&r, i, 0), *type = dump_cell(&r, i, 1);
		struct strbuf t = STRBUF_INIT;
		char *one;

		if (strcmp(type, "BASE TABLE") == 0) {
			if (dump_skipped(skip, name))
				continue;
			xgrow(&objs, &cap, nobjs + 1, sizeof(*objs));
			objs[nobjs].head = xasprintf("table %s", name);
			res = mydrv_dump_table(c, name, &t, err);
		} else {
			xgrow(&objs, &cap, nobjs + 1, sizeof(*objs));
			one = dump_oneline(dump_cell(&r, i, 2));
			objs[nobjs].head = xasprintf("%s %s", strcmp(type, "VIEW") == 0 ? "view"
							   : strcmp(type, "PROCEDURE") == 0 ? "procedure"
							   : strcmp(type, "FUNCTION") == 0 ? "function" : type, name);
			strbuf_addf(&t, "  %s\n", one);
			free(one);
		}
		objs[nobjs++].text = strbuf_detach(&t);
	}
	dump_rows_release(&r);
	if (nobjs > 1)
		qsort(objs, nobjs, sizeof(*objs), mydrv_object_cmp);
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

/* ---- test databases ------------------------------------------------------- */

/*
 * 'migrate testdb' on MySQL/MariaDB, which has neither CREATE DATABASE ...
 * TEMPLATE nor RENAME DATABASE. A clone is made on the server, without a
 * byte through the client: CREATE DATABASE with the template's character
 * set, then for each table the template's own SHOW CREATE TABLE text run
 * in the new database (indexes, foreign keys, AUTO_INCREMENT counter and
 * all) and INSERT ... SELECT of its stored columns, with foreign key
 * checks off for the copy. A template holding anything else (views,
 * triggers, routines, events, sequences) is DRIVER_EUNSUPPORTED: the core
 * then builds the clone from the migrations, which is always right.
 *
 * Sealed means the database holds the table MYDRV_SEALED, created as the
 * last step and never copied. A claim is DROP TABLE of it: of two sessions
 * that drop the same table, the server lets exactly one succeed.
 */
#define MYDRV_SEALED "migrate_testdb_sealed"

static int mydrv_add_pair(void *ctx, int ncols, const char *const *values);

static enum driver_result mydrv_connect_server(const struct driver_settings *s, const char *dir,
					       struct driver_conn **out, struct driver_error *err)
{
	struct driver_settings server = *s;

	(void)dir;
	server.database = NULL;
	server.read_only = 0;
	return mydrv_connect(&server, out, err);
}

/* A row of the listing below: a schema (no second column), or a sealed one with its age. */
static int mydrv_add_listed(void *ctx, int ncols, const char *const *values)
{
	struct strbuf *sb = ctx; /* [0]: the names, [1]: the sealed names and ages */

	if (ncols >= 2 && values[0] && values[1])
		return mydrv_add_pair(&sb[1], ncols, values);
	return mydrv_add_name(&sb[0], ncols, values);
}

/*
 * Two lookups the server answers without opening tables: the schemas whose
 * names match, and the one marker table per schema (a constant table name
 * is a file lookup per schema directory). A join of the two would make
 * MariaDB open every table of every schema; a UNION ALL keeps each lookup
 * as it is and asks both in one statement, one round trip (a hand-out's
 * connection is new, so each statement is prepared, then executed).
 */
static enum driver_result mydrv_list_databases(struct driver_conn *server, const char *prefix,
					       driver_row_fn fn, void *ctx, struct driver_error *err)
{
	struct strbuf like = STRBUF_INIT, lists[2] = { STRBUF_INIT, STRBUF_INIT };
	struct strbuf *names = &lists[0], *sealed = &lists[1];
	const char *params[2], *p, *q;
	size_t n = strlen(prefix);
	enum driver_result r;

	for (p = prefix; *p; p++) {
		if (*p == '\\' || *p == '%' || *p == '_')
			strbuf_addch(&like, '\\');
		strbuf_addch(&like, *p);
	}
	strbuf_addch(&like, '%');
	params[0] = params[1] = strbuf_str(&like);
	r = mydrv_query(server,
			"SELECT SCHEMA_NAME, NULL FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?"
			" UNION ALL"
			" SELECT TABLE_SCHEMA, COALESCE(UNIX_TIMESTAMP(CREATE_TIME), 0) FROM information_schema.TABLES"
			" WHERE TABLE_NAME = '" MYDRV_SEALED "' AND TABLE_SCHEMA LIKE ?",
			2, params, mydrv_add_listed, lists, err);
	for (p = names->buf; r == DRIVER_OK && p && p < names->buf + names->len; p += strlen(p) + 1) {
		const char *row[3] = { p, "0", "0" };

		if (strncmp(p, prefix, n) != 0) /* LIKE ignores case; the names do not */
			continue;
		for (q = sealed->buf; q && q < sealed->buf + sealed->len; q += strlen(q) + 1) {
			const char *age = q + strlen(q) + 1;
			if (strcmp(q, p) == 0) {
				row[1] = "1";
				row[2] = age;
			}
			q = age;
		}
		if (fn(ctx, 3, row))
			break;
	}
	strbuf_release(&like);
	strbuf_release(names);
	strbuf_release(sealed);
	return r;
}

/*
 * Runs sql on the server connection. A failure with the server's error
 * code soft (0: none) is DRIVER_EEXISTS, with nothing in err.
 */
static enum driver_result mydrv_server_run(struct mydrv_conn *c, const char *sql, unsigned int soft,
					   struct driver_error *err)
{
	struct driver_error mine;
	enum driver_result r = mydrv_exec(&c->base, sql, strlen(sql), NULL, &mine);

	if (r == DRIVER_OK)
		return r;
	if (soft && mysql_errno(c->db) == soft)
		return DRIVER_EEXISTS;
	*err = mine;
	return r;
}

static enum driver_result mydrv_run_named(struct mydrv_conn *c, const char *verb, const char *db,
					  const char *table, const char *suffix, unsigned int soft,
					  struct driver_error *err)
{
	struct strbuf sql = STRBUF_INIT;
	enum driver_result r;

	strbuf_addf(&sql, "%s ", verb);
	mydrv_quote(&sql, db);
	if (table) {
		strbuf_addch(&sql, '.');
		mydrv_quote(&sql, table);
	}
	strbuf_addstr(&sql, suffix ? suffix : "");
	r = mydrv_server_run(c, strbuf_str(&sql), soft, err);
	strbuf_release(&sql);
	return r;
}

/* Rows of (table, column): each NUL-terminated in turn. */
static int mydrv_add_pair(void *ctx, int ncols, const char *const *values)
{
	struct strbuf *sb = ctx;

	if (ncols >= 2 && values[0] && values[1]) {
		strbuf_add(sb, values[0], strlen(values[0]) + 1);
		strbuf_add(sb, values[1], strlen(values[1]) + 1);
	}
	return 0;
}

static int mydrv_second_value(void *ctx, int ncols, const char *const *values)
{
	char **out = ctx;

	if (ncols >= 2 && values[1] && !*out)
		*out = xstrdup(values[1]);
	return 1;
}

/* Copies every table of from into to (which exists, empty, and is the current database). */
static enum driver_result mydrv_copy_tables(struct mydrv_conn *c, const char *from, const char *to,
					    struct driver_error *err)
{
	struct strbuf tables = STRBUF_INIT, cols = STRBUF_INIT, sql = STRBUF_INIT, list = STRBUF_INIT;
	const char *params[1] = { from };
	enum driver_result r;
	const char *t, *p, *end;

	r = mydrv_query(&c->base,
			"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?"
			" AND TABLE_NAME <> '" MYDRV_SEALED "' ORDER BY TABLE_NAME",
			1, params, mydrv_add_name, &tables, err);
	if (r == DRIVER_OK)
		r = mydrv_query(&c->base,
				"SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS"
				" WHERE TABLE_SCHEMA = ? AND EXTRA NOT LIKE '%VIRTUAL GENERATED%'"
				" AND EXTRA NOT LIKE '%STORED GENERATED%' AND EXTRA NOT LIKE '%PERSISTENT%'"
				" ORDER BY TABLE_NAME, ORDINAL_POSITION",
				1, params, mydrv_add_pair, &cols, err);
	for (t = tables.buf; r == DRIVER_OK && t && t < tables.buf + tables.len; t += strlen(t) + 1) {
		char *create = NULL;

		strbuf_release(&sql);
		strbuf_addstr(&sql, "SHOW CREATE TABLE ");
		mydrv_quote(&sql, from);
		strbuf_addch(&sql, '.');
		mydrv_quote(&sql, t);
		r = mydrv_query(&c->base, strbuf_str(&sql), 0, NULL, mydrv_second_value, &create, err);
		if (r == DRIVER_OK && !create) {
			driver_error_set(err, "SHOW CREATE TABLE %s.%s returned nothing", from, t);
			r = DRIVER_ESQL;
		}
		if (r == DRIVER_OK)
			r = mydrv_exec(&c->base, create, strlen(create), NULL, err);
		free(create);
		/* the stored columns of t, in order */
		strbuf_release(&list);
		for (p = cols.buf, end = cols.buf + cols.len; p && p < end; p += strlen(p) + 1) {
			const char *col = p + strlen(p) + 1;
			if (strcmp(p, t) == 0) {
				if (list.len)
					strbuf_addstr(&list, ", ");
				mydrv_quote(&list, col);
			}
			p = col;
		}
		if (r != DRIVER_OK || !list.len)
			continue;
		strbuf_release(&sql);
		strbuf_addstr(&sql, "INSERT INTO ");
		mydrv_quote(&sql, to);
		strbuf_addch(&sql, '.');
		mydrv_quote(&sql, t);
		strbuf_addf(&sql, " (%s) SELECT %s FROM ", list.buf, list.buf);
		mydrv_quote(&sql, from);
		strbuf_addch(&sql, '.');
		mydrv_quote(&sql, t);
		r = mydrv_exec(&c->base, sql.buf, sql.len, NULL, err);
	}
	strbuf_release(&tables);
	strbuf_release(&cols);
	strbuf_release(&sql);
	strbuf_release(&list);
	return r;
}

static enum driver_result mydrv_clone_database(struct driver_conn *server, const char *from, const char *to,
					       struct driver_error *err)
{
	struct mydrv_conn *c = (struct mydrv_conn *)server;
	struct mydrv_value other = { 0, NULL };
	struct driver_error ignored;
	const char *params[4] = { from, from, from, from };
	char *charset = NULL, *suffix;
	enum driver_result r;

	if (!from)
		return mydrv_run_named(c, "CREATE DATABASE", to, NULL,
				       " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", ER_DB_CREATE_EXISTS, err);
	r = mydrv_query(server,
			"SELECT (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?"
			" AND TABLE_TYPE <> 'BASE TABLE')"
			" + (SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?)"
			" + (SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?)"
			" + (SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?)",
			4, params, mydrv_first_value, &other, err);
	if (r != DRIVER_OK)
		return r;
	if (!other.text || strcmp(other.text, "0") != 0) {
		free(other.text);
		driver_error_set(err, "'%s' holds views, triggers, routines, events or sequences, "
				      "which a table copy would not carry", from);
		return DRIVER_EUNSUPPORTED;
	}
	free(other.text);
	r = mydrv_query(server,
			"SELECT DEFAULT_CHARACTER_SET_NAME, CONCAT(' CHARACTER SET ', DEFAULT_CHARACTER_SET_NAME,"
			" ' COLLATE ', DEFAULT_COLLATION_NAME) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
			1, params, mydrv_second_value, &charset, err);
	if (r != DRIVER_OK)
		return r;
	suffix = charset;
	r = mydrv_run_named(c, "CREATE DATABASE", to, NULL, suffix ? suffix : "", ER_DB_CREATE_EXISTS, err);
	free(charset);
	if (r != DRIVER_OK)
		return r;
	r = mydrv_server_run(c, "SET @migrate_fk = @@foreign_key_checks, @migrate_mode = @@sql_mode,"
			     " foreign_key_checks = 0,"
			     " sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')", 0, err);
	if (r == DRIVER_OK)
		r = mydrv_run_named(c, "USE", to, NULL, NULL, 0, err);
	if (r == DRIVER_OK)
		r = mydrv_copy_tables(c, from, to, err);
	mydrv_server_run(c, "SET foreign_key_checks = @migrate_fk, sql_mode = @migrate_mode", 0, &ignored);
	if (r != DRIVER_OK) /* nothing half-made stays behind */
		mydrv_run_named(c, "DROP DATABASE IF EXISTS", to, NULL, NULL, 0, &ignored);
	return r;
}

static enum driver_result mydrv_seal_database(struct driver_conn *server, const char *name,
					      struct driver_error *err)
{
	return mydrv_run_named((struct mydrv_conn *)server, "CREATE TABLE", name, MYDRV_SEALED,
			       " (sealed INT)", 0, err);
}

static enum driver_result mydrv_claim_database(struct driver_conn *server, const char *name, int *claimed,
					       struct driver_error *err)
{
	struct mydrv_conn *c = (struct mydrv_conn *)server;
	enum driver_result r;

	*claimed = 0;
	r = mydrv_run_named(c, "DROP TABLE", name, MYDRV_SEALED, NULL, ER_BAD_TABLE_ERROR, err);
	if (r == DRIVER_OK)
		*claimed = 1;
	else if (r == DRIVER_EEXISTS || mysql_errno(c->db) == ER_BAD_DB_ERROR)
		r = DRIVER_OK; /* another caller took it, or it is gone */
	return r;
}

static enum driver_result mydrv_drop_named_database(struct driver_conn *server, const char *name,
						    struct driver_error *err)
{
	return mydrv_run_named((struct mydrv_conn *)server, "DROP DATABASE IF EXISTS", name, NULL, NULL, 0, err);
}

/* ---- safe apply ------------------------------------------------------------ */

/*
 * Session settings, in whole seconds (both lock waits take no less than
 * 1 s), and DEFAULT (the server's global value) for 0 and the reset. The
 * statement timeout is MariaDB's max_statement_time (seconds, every
 * statement) or MySQL's max_execution_time (milliseconds, SELECT only).
 */
static void mydrv_set_limits(struct driver_conn *conn, enum driver_limits_how how,
			     const struct driver_limits *lim, struct driver_sql_list *out)
{
	struct mydrv_conn *c = (struct mydrv_conn *)conn;
	const char *stv = c->mariadb ? "max_statement_time" : "max_execution_time";
	char wait[32], st[32];

	out->n = 0;
	if (how == DRIVER_LIMITS_LOCAL)
		return;
	out->n = 1;
	if (how == DRIVER_LIMITS_RESET || lim->lock_wait_ms <= 0)
		snprintf(wait, sizeof(wait), "DEFAULT");
	else
		snprintf(wait, sizeof(wait), "%lld", (lim->lock_wait_ms + 999) / 1000);
	if (how == DRIVER_LIMITS_RESET)
		snprintf(st, sizeof(st), "DEFAULT");
	else if (c->mariadb)
		snprintf(st, sizeof(st), "%lld.%03lld", lim->statement_timeout_ms / 1000,
			 lim->statement_timeout_ms % 1000);
	else
		snprintf(st, sizeof(st), "%lld", lim->statement_timeout_ms);
	snprintf(out->v[0], sizeof(out->v[0]),
		 "SET SESSION lock_wait_timeout = %s, innodb_lock_wait_timeout = %s, %s = %s", wait, wait, stv, st);
}

struct mydrv_holder {
	const char *sql;
	size_t len;
	char found[400];
	char any[400];
};

/* Does sql name table as a word (any case)? */
static int mydrv_names(const char *sql, size_t len, const char *table)
{
	size_t n = strlen(table), i;

	for (i = 0; n && i + n <= len; i++) {
		if (strncasecmp(sql + i, table, n) != 0)
			continue;
		if ((i == 0 || !(isalnum((unsigned char)sql[i - 1]) || sql[i - 1] == '_')) &&
		    (i + n == len || !(isalnum((unsigned char)sql[i + n]) || sql[i + n] == '_')))
			return 1;
	}
	return 0;
}

/* One lock holder: table, mode, id, command, time, transaction age (-1: none), query. */
static int mydrv_holder_row(void *ctx, int ncols, const char *const *v)
{
	struct mydrv_holder *h = ctx;
	char *slot;
	int idle, trx;

	if (ncols < 7)
		return 1;
	slot = v[0] && mydrv_names(h->sql, h->len, v[0]) ? h->found : h->any;
	if (*slot)
		return 0;
	idle = v[3] && strcmp(v[3], "Sleep") == 0;
	trx = v[5] && strcmp(v[5], "-1") != 0;
	snprintf(slot, sizeof(h->found), "%s%s%sheld by session %s (%s%s%s%s%s%s for %s s%s%s)",
		 v[0] && *v[0] ? "waited for a lock on table " : "", v[0] ? v[0] : "", v[0] && *v[0] ? ", " : "",
		 v[2] ? v[2] : "?", v[1] && *v[1] ? v[1] : "", v[1] && *v[1] ? "; " : "",
		 trx ? "transaction open " : "", trx ? v[5] : "", trx ? " s, " : "",
		 idle ? (trx ? "idle in transaction" : "idle") : "running", v[4] ? v[4] : "?",
		 v[6] && *v[6] ? ": " : "", v[6] ? v[6] : "");
	return 0;
}

/*
 * After a lock wait ran out: who holds a lock on a table the statement
 * names. MariaDB lists metadata locks in METADATA_LOCK_INFO (the
 * metadata_lock_info plugin), MySQL 8 in performance_schema.metadata_locks;
 * where neither is there, the session with the oldest open transaction is
 * the likely holder. Best effort: the holder may let go in between, and
 * nothing is added when no look succeeds.
 */
static void mydrv_blocker(struct mydrv_conn *c, const char *sql, size_t len, struct driver_error *err)
{
	static const char *const mdl_mariadb =
		"SELECT m.TABLE_NAME, m.LOCK_MODE, p.ID, p.COMMAND, p.TIME,"
		" COALESCE(TIMESTAMPDIFF(SECOND, t.trx_started, NOW()), -1), LEFT(COALESCE(p.INFO, ''), 120)"
		" FROM information_schema.METADATA_LOCK_INFO m"
		" JOIN information_schema.PROCESSLIST p ON p.ID = m.THREAD_ID"
		" LEFT JOIN information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = p.ID"
		" WHERE m.THREAD_ID <> CONNECTION_ID() AND m.TABLE_SCHEMA = DATABASE() ORDER BY p.TIME DESC";
	static const char *const mdl_mysql =
		"SELECT ml.OBJECT_NAME, ml.LOCK_TYPE, th.PROCESSLIST_ID, th.PROCESSLIST_COMMAND, th.PROCESSLIST_TIME,"
		" COALESCE(TIMESTAMPDIFF(SECOND, t.trx_started, NOW()), -1), LEFT(COALESCE(th.PROCESSLIST_INFO, ''), 120)"
		" FROM performance_schema.metadata_locks ml"
		" JOIN performance_schema.threads th ON th.THREAD_ID = ml.OWNER_THREAD_ID"
		" LEFT JOIN information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = th.PROCESSLIST_ID"
		" WHERE ml.OBJECT_TYPE = 'TABLE' AND ml.LOCK_STATUS = 'GRANTED' AND ml.OBJECT_SCHEMA = DATABASE()"
		" AND th.PROCESSLIST_ID <> CONNECTION_ID() ORDER BY th.PROCESSLIST_TIME DESC";
	static const char *const oldest =
		"SELECT '', '', p.ID, p.COMMAND, p.TIME, TIMESTAMPDIFF(SECOND, t.trx_started, NOW()),"
		" LEFT(COALESCE(p.INFO, ''), 120) FROM information_schema.INNODB_TRX t"
		" JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id"
		" WHERE p.ID <> CONNECTION_ID() ORDER BY t.trx_started LIMIT 1";
	struct mydrv_holder h;
	struct driver_error ignored;
	const char *pick;
	size_t n;
	int mdl;

	memset(&h, 0, sizeof(h));
	h.sql = sql;
	h.len = len;
	mdl = mydrv_query_text(c, c->mariadb ? mdl_mariadb : mdl_mysql, mydrv_holder_row, &h, &ignored) == DRIVER_OK;
	if (!mdl || !h.found[0]) {
		h.any[0] = '\0';
		mydrv_query_text(c, oldest, mydrv_holder_row, &h, &ignored);
	}
	pick = h.found[0] ? h.found : h.any;
	n = strlen(err->message);
	if (*pick)
		snprintf(err->message + n, sizeof(err->message) - n, "; %s%s", h.found[0] ? "" : "probably ", pick);
	else if (!mdl)
		snprintf(err->message + n, sizeof(err->message) - n, "; %s",
			 c->mariadb ? "the session holding the lock cannot be named: the server lacks the metadata_lock_info plugin"
				    : "the session holding the lock cannot be named: performance_schema is off");
}

/*
 * On a Galera/PXC node (wsrep_on), every session migrate opens (the run's,
 * the lease renewal's, a read-only command's) is set up so that what it
 * reads and what it changes is the cluster's, not one node's:
 *
 *   wsrep_sync_wait |= 1 (READ)
 *       A node applies other nodes' write sets a little after they
 *       committed, so a plain SELECT may not yet see what another node
 *       committed: 'status' on node 2 right after 'up' on node 1 would
 *       list applied migrations as pending, 'lock status' or 'lock release'
 *       would miss a lease taken on another node, and a waiting run would
 *       see a lease already renewed or released as it was. With READ, a
 *       SELECT (and a START TRANSACTION) first waits until this node has
 *       applied everything the cluster had committed when it arrived.
 *       UPDATE/DELETE (2) and INSERT/REPLACE (4) are not needed for the
 *       lease: its writes are conditional on the row a causal SELECT just
 *       read, and a write that raced one from another node loses at
 *       certification (error 1213, or 1062 once the winner's row is
 *       applied) and the row read back says who won (lease.c). Without
 *       those bits a migration's own UPDATE/DELETE/INSERT statements do not
 *       each pay a cluster round trip. The bits are added to the session's
 *       own value (the server's default), never taken away.
 *   wsrep_OSU_method = TOI
 *       A DDL statement under RSU (rolling schema upgrade, the method a DBA
 *       may set globally while altering one node at a time) runs on this
 *       node only, while the tracking row written after it replicates: the
 *       other nodes' history would claim a schema they do not have. Under
 *       TOI every node runs it, in the same total order.
 *
 * A server without Galera has no wsrep_on (MySQL: an error) or has it off:
 * nothing is set. A migration runs in the same session, so it inherits
 * both; it may change them for its own statements, and reset_session sets
 * them again for the next (README, "Locks on real topologies").
 */
struct mydrv_wsrep {
	int on, sync_wait, toi;
};

static int mydrv_wsrep_row(void *ctx, int ncols, const char *const *v)
{
	struct mydrv_wsrep *w = ctx;

	if (ncols < 3 || !v[0] || !v[1] || !v[2])
		return 1;
	w->on = strcmp(v[0], "1") == 0 || strcasecmp(v[0], "ON") == 0;
	w->sync_wait = atoi(v[1]);
	w->toi = strcasecmp(v[2], "TOI") == 0;
	return 1;
}

static enum driver_result mydrv_wsrep_session(struct mydrv_conn *c, struct driver_error *err)
{
	struct driver_error ignored;
	struct mydrv_wsrep w = { 0, 0, 0 };
	char set[160];

	/* a server without Galera: MySQL has no such variables (an error), MariaDB has wsrep_on off */
	if (mydrv_query_text(c, "SELECT @@GLOBAL.wsrep_on, @@SESSION.wsrep_sync_wait, @@SESSION.wsrep_OSU_method",
			     mydrv_wsrep_row, &w, &ignored) != DRIVER_OK)
		return DRIVER_OK;
	c->wsrep = w.on;
	if (!w.on || ((w.sync_wait & 1) && w.toi))
		return DRIVER_OK;
	/* only what is missing, so that a session already right needs no privilege to set it */
	snprintf(set, sizeof(set), "SET SESSION %s%s%s", w.sync_wait & 1 ? "" : "wsrep_sync_wait = @@SESSION.wsrep_sync_wait | 1",
		 !(w.sync_wait & 1) && !w.toi ? ", " : "", w.toi ? "" : "wsrep_OSU_method = 'TOI'");
	if (mysql_real_query(c->db, set, (unsigned long)strlen(set)))
		return mydrv_fail(c->db, err);
	return DRIVER_OK;
}

/* A Galera/PXC node (wsrep_on): GET_LOCK is local to the node. */
static int mydrv_lock_unsound(struct driver_conn *conn, char *why, size_t len)
{
	struct mydrv_conn *c = (struct mydrv_conn *)conn;

	if (!c->wsrep)
		return 0;
	snprintf(why, len, "the server is a Galera/PXC cluster node (wsrep_on), where GET_LOCK holds on one node only");
	return 1;
}

static enum driver_result mydrv_preload(struct driver_error *err)
{
	if (dynlib_open(&mydrv_libmysql, err))
		return DRIVER_ECONFIG;
	/* the one-time set-up, which is not thread-safe, done once for every fork */
	return mysql_library_init(0, NULL, NULL) ? DRIVER_ECONNECT : DRIVER_OK;
}

const struct driver mysql_driver = {
	.name = "mysql",
	.dialect = SQL_DIALECT_MYSQL,
	.caps = DRIVER_CAP_LOCK | DRIVER_CAP_CREATE_DATABASE | DRIVER_CAP_BULK_LOAD,
	.params = DRIVER_PARAM_QMARK,
	.ident_quote = '`',
	.begin_sql = "START TRANSACTION",
	.commit_sql = "COMMIT",
	.rollback_sql = "ROLLBACK",
	.type_long_text = "LONGTEXT",
	.type_timestamp = "DATETIME",
	.connect = mydrv_connect,
	.close = mydrv_close,
	.exec = mydrv_exec,
	.query = mydrv_query,
	.table_exists = mydrv_table_exists,
	.lock = mydrv_lock,
	.unlock = mydrv_unlock,
	.create_database = mydrv_create_database,
	.drop_database = mydrv_drop_database,
	.dump_schema = mydrv_dump_schema,
	.primary_key = mydrv_primary_key,
	.load_begin = mydrv_load_begin,
	.load_row = mydrv_load_row,
	.load_end = mydrv_load_end,
	.load_abort = mydrv_load_abort,
	.cancel = mydrv_cancel,
	.current_schema = mydrv_current_schema,
	.reset_session = mydrv_reset_session,
	.changes = mydrv_last_changes,
	.set_limits = mydrv_set_limits,
	.connect_server = mydrv_connect_server,
	.list_databases = mydrv_list_databases,
	.clone_database = mydrv_clone_database,
	.seal_database = mydrv_seal_database,
	.claim_database = mydrv_claim_database,
	.drop_named_database = mydrv_drop_named_database,
	.now_ms_sql = "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)",
	.lock_unsound = mydrv_lock_unsound,
	.preload = mydrv_preload,
};
