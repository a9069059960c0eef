/*
 * sqlite.c - the SQLite driver, through the sqlite3 library.
 *
 * Every connection enforces foreign keys and waits for a busy database
 * instead of failing at once. SQLite's DDL is transactional, so the core
 * wraps each migration and its tracking row in one transaction (BEGIN
 * IMMEDIATE, so the write lock is taken up front rather than upgraded).
 *
 * The run-wide lock is an flock() on "<database>.migrate-lock" beside the
 * database file: it works across processes, and the kernel releases it when
 * its holder dies. SQLite's own write lock cannot serve, because it lasts
 * one transaction and a run is many. An in-memory database needs no lock.
 */
#define _GNU_SOURCE /* copy_file_range */
#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/file.h>
#ifdef __linux__
#include <linux/fs.h> /* FICLONE */
#include <sys/ioctl.h>
#endif
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../migrate/util.h"
#include "driver.h"

#define LITEDRV_BUSY_MS 10000

extern const struct driver sqlite_driver;

struct litedrv_conn {
	struct driver_conn base;
	sqlite3 *db;
	char *path;
	int lock_fd;
	atomic_int cancelled; /* cancel() was called: a lock wait gives up */
	long busy_ms;         /* how long a statement waits for a locked database */
	long busy_default;             /* busy_ms as connect set it, for the limits' reset */
	long long statement_timeout_ms; /* safe apply: 0 none */
	long long stmt_start;           /* when the running statement began (now_ms) */
	long long busy_since; /* when the current wait began */
	long long last_changes; /* rows the last query() wrote */
	int server; /* connect_server(): path is the directory of the files, and lock() flocks it */
};

static int litedrv_memory(const char *path)
{
	return strcmp(path, ":memory:") == 0;
}

/*
 * The process holding a lock on the database file that keeps us from
 * writing (SQLite locks bytes from 0x40000000 with fcntl), from
 * /proc/locks (Linux), or 0. Never by F_GETLK: opening and closing the file
 * here would drop the locks SQLite holds on it in this process.
 */
static long litedrv_lock_holder(const char *path)
{
	struct stat st;
	char line[256];
	FILE *f;
	long pid = 0;

	if (stat(path, &st) != 0 || !(f = fopen("/proc/locks", "r")))
		return 0;
	while (!pid && fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		unsigned long long ino, start;
		long who;
		char kind[16], mode[16];

		/* "1: POSIX  ADVISORY  WRITE 1234 08:01:5678 1073741825 1073741825" */
		if (sscanf(line, "%*d: %15s %*s %15s %ld %x:%x:%llu %llu", kind, mode, &who, &maj, &min, &ino,
			   &start) != 7)
			continue;
		if (ino == (unsigned long long)st.st_ino && major(st.st_dev) == maj && minor(st.st_dev) == min &&
		    start >= 0x40000000ULL && start < 0x40000000ULL + 512 && who > 0 && who != (long)getpid())
			pid = who;
	}
	fclose(f);
	return pid;
}

static enum driver_result litedrv_fail(sqlite3 *db, struct driver_error *err)
{
	int rc = sqlite3_extended_errcode(db) & 0xff, i;
	const char *name;
	long pid = 0;

	driver_error_set(err, "%s", sqlite3_errmsg(db));
	if (rc != SQLITE_BUSY)
		return DRIVER_ESQL;
	/* the busy timeout ran out: a whole database file (main or attached) was locked */
	for (i = 0; !pid && i < 2 + 125 /* SQLITE_MAX_ATTACHED's highest */; i++) {
		const char *file;
		if ((name = sqlite3_db_name(db, i)) == NULL) {
			if (i >= 2)
				break;
			continue;
		}
		file = sqlite3_db_filename(db, name);
		if (file && *file)
			pid = litedrv_lock_holder(file);
	}
	if (pid > 0) {
		size_t n = strlen(err->message);
		snprintf(err->message + n, sizeof(err->message) - n,
			 "; waited for database '%s' (SQLite locks the whole file), held by process %ld", name, pid);
	}
	return DRIVER_ELOCKWAIT;
}

static void litedrv_sleep_ms(long ms);

/*
 * The busy handler: sqlite3_busy_timeout's wait, in short sleeps, that
 * also gives up when cancel() is called (sqlite3_interrupt does not end a
 * wait for a lock, only a running statement).
 */
static int litedrv_busy(void *arg, int count)
{
	struct litedrv_conn *c = arg;

	if (count == 0)
		c->busy_since = now_ms();
	if (atomic_load(&c->cancelled) || now_ms() - c->busy_since >= c->busy_ms)
		return 0;
	litedrv_sleep_ms(count < 10 ? 1 + count : 20);
	return 1;
}

static enum driver_result litedrv_connect(const struct driver_settings *s, struct driver_conn **out,
					  struct driver_error *err)
{
	struct litedrv_conn *c;
	sqlite3 *db = NULL;
	int rc;

	*out = NULL;
	if (s->options && *s->options) {
		driver_error_set(err, "the sqlite driver takes no options");
		return DRIVER_ECONFIG;
	}
	if (s->must_exist && !litedrv_memory(s->database) && access(s->database, F_OK) != 0 && errno == ENOENT) {
		/* as the servers' "unknown database": a command that only reads creates nothing */
		driver_error_set(err, "no database: '%s' does not exist (run 'migrate up' or 'migrate create' to create it)",
				 s->database);
		return DRIVER_ECONNECT;
	}
	if (s->read_only && !litedrv_memory(s->database) && access(s->database, F_OK) != 0 && errno == ENOENT)
		rc = sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	else /* NOMUTEX: a connection is only ever used by one thread */
		rc = sqlite3_open_v2(s->database, &db,
				     (s->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
					     SQLITE_OPEN_NOMUTEX,
				     NULL);
	if (rc != SQLITE_OK) {
		driver_error_set(err, "%s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return DRIVER_ECONNECT;
	}
	sqlite3_extended_result_codes(db, 1);
	c = xcalloc(1, sizeof(*c));
	c->base.drv = &sqlite_driver;
	c->db = db;
	c->lock_fd = -1;
	atomic_init(&c->cancelled, 0);
	c->busy_ms = s->connect_timeout > 0 ? s->connect_timeout * 1000L : LITEDRV_BUSY_MS;
	c->busy_default = c->busy_ms;
	sqlite3_busy_handler(db, litedrv_busy, c);
	/* foreign keys are off by default in SQLite; migrations must see them enforced */
	rc = sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		/* a file that is not a database fails here, on first read */
		driver_error_set(err, "%s", sqlite3_errmsg(db));
		sqlite3_close(db);
		free(c);
		return DRIVER_ECONNECT;
	}
	c->path = xstrdup(s->database);
	*out = &c->base;
	return DRIVER_OK;
}

static void litedrv_close(struct driver_conn *conn)
{
	struct litedrv_conn *c = (struct litedrv_conn *)conn;

	if (!c)
		return;
	if (c->lock_fd >= 0)
		close(c->lock_fd); /* releases the flock */
	sqlite3_close(c->db);
	free(c->path);
	free(c);
}

/* Does s[0..n) hold word, in any case? */
static int litedrv_mentions(const char *s, size_t n, const char *word)
{
	size_t w = strlen(word), i;

	for (i = 0; i + w <= n; i++)
		if (strncasecmp(s + i, word, w) == 0)
			return 1;
	return 0;
}

static enum driver_result litedrv_exec(struct driver_conn *conn, const char *sql, size_t len,
				       long long *changes, struct driver_error *err)
{
	struct litedrv_conn *c = (struct litedrv_conn *)conn;
	const char *p = sql, *end = sql + len, *tail;
	sqlite3_int64 busy_ms = -1;
	sqlite3_stmt *st;
	int rc, busy;

	if (changes)
		*changes = 0;
	/* the core passes one statement, but SQLite's own splitting is the final word */
	while (p < end) {
		c->stmt_start = now_ms();
		rc = sqlite3_prepare_v2(c->db, p, (int)(end - p), &st, &tail);
		if (rc != SQLITE_OK) {
			int off = sqlite3_error_offset(c->db);
			enum driver_result r = litedrv_fail(c->db, err);
			err->offset = off >= 0 ? (long)(p - sql) + off : (long)(p - sql);
			return r;
		}
		if (!st) /* only comments or blanks were left */
			break;
		busy = litedrv_mentions(p, (size_t)(tail - p), "busy_timeout");
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			if (busy && sqlite3_column_count(st) == 1 && sqlite3_column_type(st, 0) == SQLITE_INTEGER)
				busy_ms = sqlite3_column_int64(st, 0);
		if (rc != SQLITE_DONE) {
			enum driver_result r = litedrv_fail(c->db, err);
			if ((rc & 0xff) == SQLITE_INTERRUPT && c->statement_timeout_ms > 0)
				driver_error_set(err, "the statement ran longer than statement_timeout (%lld ms) and was interrupted",
						 c->statement_timeout_ms);
			err->offset = (long)(p - sql);
			sqlite3_finalize(st);
			return r;
		}
		if (busy_ms >= 0) {
			/*
			 * PRAGMA busy_timeout put SQLite's own busy handler back,
			 * which an interrupt does not stop: ours again, with the
			 * migration's timeout.
			 */
			c->busy_ms = (long)busy_ms;
			sqlite3_busy_handler(c->db, litedrv_busy, c);
			busy_ms = -1;
		}
		if (changes && !sqlite3_stmt_readonly(st))
			*changes += sqlite3_changes64(c->db);
		sqlite3_finalize(st);
		p = tail;
	}
	return DRIVER_OK;
}

static enum driver_result litedrv_query(struct driver_conn *conn, const char *sql, int nparams,
					const char *const *params, driver_row_fn fn, void *ctx,
					struct driver_error *err)
{
	struct litedrv_conn *c = (struct litedrv_conn *)conn;
	const char *vals[32];
	sqlite3_stmt *st;
	int rc, i, ncols, stop = 0;

	c->last_changes = 0;
	/*
	 * The core's own statements are never cancelled (it cancels only a
	 * user's statement or a lock wait): after an interrupt, recording the
	 * failure waits for a locked database as long as any statement.
	 */
	atomic_store(&c->cancelled, 0);
	c->stmt_start = now_ms();
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
		return litedrv_fail(c->db, err);
	for (i = 0; i < nparams; i++) {
		rc = params[i] ? sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_STATIC)
			       : sqlite3_bind_null(st, i + 1);
		if (rc != SQLITE_OK) {
			sqlite3_finalize(st);
			return litedrv_fail(c->db, err);
		}
	}
	ncols = sqlite3_column_count(st);
	if (ncols > 32)
		ncols = 32;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!fn || stop)
			continue;
		for (i = 0; i < ncols; i++)
			vals[i] = (const char *)sqlite3_column_text(st, i);
		stop = fn(ctx, ncols, vals);
	}
	if (rc != SQLITE_DONE) {
		enum driver_result r = litedrv_fail(c->db, err);
		sqlite3_finalize(st);
		return r;
	}
	if (!sqlite3_stmt_readonly(st))
		c->last_changes = sqlite3_changes64(c->db);
	sqlite3_finalize(st);
	return DRIVER_OK;
}

static enum driver_result litedrv_table_exists(struct driver_conn *conn, const char *table,
					       int *exists, struct driver_error *err)
{
	struct litedrv_conn *c = (struct litedrv_conn *)conn;
	sqlite3_stmt *st;
	int rc;

	*exists = 0;
	/* SQLite's names are case-insensitive (ASCII, as NOCASE): Schema_Migrations is schema_migrations */
	if (sqlite3_prepare_v2(c->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE",
			       -1, &st, NULL) != SQLITE_OK)
		return litedrv_fail(c->db, err);
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*exists = 1;
	else if (rc != SQLITE_DONE) {
		litedrv_fail(c->db, err);
		sqlite3_finalize(st);
		return DRIVER_ESQL;
	}
	sqlite3_finalize(st);
	return DRIVER_OK;
}

static void litedrv_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static enum driver_result litedrv_lock(struct driver_conn *conn, const char *name, int timeout_s,
				       struct driver_error *err)
{
	struct litedrv_conn *c = (struct litedrv_conn *)conn;
	long waited = 0, limit = (long)timeout_s * 1000;
	char *lockpath, *real;
	int fd;

	(void)name; /* one lock per database file covers every table */
	if (litedrv_memory(c->path) || c->lock_fd >= 0)
		return DRIVER_OK;
	/*
	 * Beside the file itself, not a symlink to it: two runs that reach one
	 * database by different paths take one lock. A server connection
	 * (testdb) locks the directory of the files.
	 */
	if (c->server) {
		lockpath = xstrdup(c->path);
		fd = open(lockpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		real = realpath(c->path, NULL);
		lockpath = xasprintf("%s.migrate-lock", real ? real : c->path);
		free(real);
		fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	}
	if (fd < 0 && !c->server && (errno == EROFS || errno == EACCES)) {
		int why = errno;
		/* an existing lock file locks as well read-only; the writes then fail on their own */
		fd = open(lockpath, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			driver_error_set(err, "cannot create the lock file '%s': %s (migrate writes the database and a lock file beside it: their directory must be writable)",
					 lockpath, strerror(why));
			free(lockpath);
			return DRIVER_ESQL;
		}
	}
	if (fd < 0) {
		driver_error_set(err, "cannot open lock file '%s': %s", lockpath, strerror(errno));
		free(lockpath);
		return DRIVER_ECONFIG;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			driver_error_set(err, "cannot lock '%s': %s", lockpath, strerror(errno));
			close(fd);
			free(lockpath);
			return DRIVER_ECONFIG;
		}
		if (atomic_load(&c->cancelled)) {
			driver_error_set(err, "interrupted while waiting for the lock on '%s'", lockpath);
			close(fd);
			free(lockpath);
			return DRIVER_ELOCK;
		}
		if (waited >= limit) {
			driver_error_set(err, "'%s' is locked by another process", lockpath);
			close(fd);
			free(lockpath);
			return DRIVER_ELOCK;
		}
		litedrv_sleep_ms(50);
		waited += 50;
	}
	free(lockpath);
	c->lock_fd = fd;
	return DRIVER_OK;
}

static enum driver_result litedrv_unlock(struct driver_conn *conn, struct driver_error *err)
{
	struct litedrv_conn *c = (struct litedrv_conn *)conn;

	(void)err;
	if (c->lock_fd >= 0) {
		close(c->lock_fd);
		c->lock_fd = -1;
	}
	return DRIVER_OK;
}

/* sqlite3_interrupt may be called from any thread while the connection is open. */
static enum driver_result litedrv_cancel(struct driver_conn *conn, struct driver_error *err)
{
	struct litedrv_conn *c = (struct litedrv_conn *)conn;

	(void)err;
	atomic_store(&c->cancelled, 1);
	sqlite3_interrupt(c->db);
	return DRIVER_OK;
}

static long long litedrv_last_changes(struct driver_conn *conn)
{
	return ((struct litedrv_conn *)conn)->last_changes;
}

static enum driver_result litedrv_create_database(const struct driver_settings *s,
						  struct driver_error *err)
{
	struct driver_conn *conn;
	enum driver_result r = litedrv_connect(s, &conn, err);

	if (r == DRIVER_OK)
		litedrv_close(conn);
	return r;
}

static enum driver_result litedrv_drop_database(const struct driver_settings *s,
						struct driver_error *err)
{
	static const char *const suffixes[] = { "", "-journal", "-wal", "-shm", ".migrate-lock" };
	size_t i;

	if (litedrv_memory(s->database))
		return DRIVER_OK;
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char *p = xasprintf("%s%s", s->database, suffixes[i]);
		if (unlink(p) != 0 && errno != ENOENT) {
			driver_error_set(err, "cannot remove '%s': %s", p, strerror(errno));
			free(p);
			return DRIVER_ECONFIG;
		}
		free(p);
	}
	return DRIVER_OK;
}

/* ---- schema dump ---------------------------------------------------------- */

/*
 * The schema from sqlite_master and the table-valued pragmas. SQLite keeps
 * a trigger's, view's and explicit index's CREATE text as written, so those
 * are printed as that text on one line; tables are rebuilt from
 * pragma_table_info, pragma_index_list and pragma_foreign_key_list, whose
 * automatic names (sqlite_autoindex_T_N) depend on statement order and are
 * left out. SQLite's own tables (sqlite_sequence, sqlite_stat1) are left out
 * too: they appear with AUTOINCREMENT or ANALYZE and never go away.
 */
static enum driver_result litedrv_rows(struct litedrv_conn *c, const char *sql, const char *param,
				       struct dump_rows *out, struct driver_error *err)
{
	memset(out, 0, sizeof(*out));
	return litedrv_query(&c->base, sql, param ? 1 : 0, &param, dump_rows_add, out, err);
}

/* "a, b" from the rows' column col. */
static void litedrv_join(struct strbuf *sb, const struct dump_rows *r, size_t col)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		strbuf_addf(sb, "%s%s", i ? ", " : "", dump_cell(r, i, col));
}

/* Does a table's CREATE text say AUTOINCREMENT (which pragma_table_info does not tell)? */
static int litedrv_autoincrement(const char *sql)
{
	static const char word[] = "autoincrement";
	size_t i, n = sizeof(word) - 1;

	for (; sql && *sql; sql++) {
		for (i = 0; i < n && sql[i] && (sql[i] | 0x20) == word[i]; i++)
			;
		if (i == n)
			return 1;
	}
	return 0;
}

/*
 * Skips the string, quoted name or comment that starts at s, if one does:
 * returns where it ends, or s itself.
 */
static const char *litedrv_skip_quoted(const char *s)
{
	char close;

	if (s[0] == '-' && s[1] == '-') {
		while (*s && *s != '\n')
			s++;
		return s;
	}
	if (s[0] == '/' && s[1] == '*') {
		for (s += 2; *s && !(s[0] == '*' && s[1] == '/'); s++)
			;
		return *s ? s + 2 : s;
	}
	close = *s == '\'' ? '\'' : *s == '"' ? '"' : *s == '`' ? '`' : *s == '[' ? ']' : 0;
	if (!close)
		return s;
	for (s++; *s; s++) {
		if (*s == close) {
			if (close != ']' && s[1] == close) { /* doubled: one quote inside */
				s++;
				continue;
			}
			return s + 1;
		}
	}
	return s;
}

/*
 * The CHECK constraints of a table, column and table ones alike, from its
 * CREATE text (no pragma tells them): "  check (expr)" each, the
 * expression on one line, the constraint's name left out as for the
 * other constraints.
 */
static void litedrv_checks(const char *sql, struct dump_lines *out)
{
	const char *s = sql, *q;

	while (s && *s) {
		q = litedrv_skip_quoted(s);
		if (q != s) {
			s = q;
			continue;
		}
		if (((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z') || *s == '_') {
			const char *w = s;
			int depth = 0;

			while ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z' ? 1 : (*s >= '0' && *s <= '9') || *s == '_')
				s++;
			if (s - w != 5 || strncasecmp(w, "check", 5) != 0)
				continue;
			while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
				s++;
			if (*s != '(')
				continue;
			for (w = s; *s; ) {
				q = litedrv_skip_quoted(s);
				if (q != s) {
					s = q;
					continue;
				}
				if (*s == '(')
					depth++;
				else if (*s == ')' && --depth == 0)
					break;
				s++;
			}
			if (*s == ')') {
				char *expr = xstrndup(w + 1, (size_t)(s - w - 1)), *one = dump_oneline(expr);

				dump_lines_addf(out, "  check (%s)", one);
				free(one);
				free(expr);
				s++;
			}
			continue;
		}
		s++;
	}
}

static enum driver_result litedrv_dump_table(struct litedrv_conn *c, const char *table,
					     const char *table_sql, struct strbuf *out,
					     struct driver_error *err)
{
	struct dump_lines cols = { NULL, 0, 0 }, rest = { NULL, 0, 0 };
	struct dump_rows r, k;
	struct strbuf sb = STRBUF_INIT;
	enum driver_result res;
	size_t i, j;
	char *one;

	res = litedrv_rows(c, "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?)",
			   table, &r, err);
	if (res != DRIVER_OK)
		goto out;
	for (i = 0; i < r.n; i++) {
		const char *type = dump_cell(&r, i, 1), *dflt = r.v[i * r.ncols + 3];
		dump_lines_addf(&cols, "  column %s%s%s%s%s%s", dump_cell(&r, i, 0), *type ? " " : "", type,
				strcmp(dump_cell(&r, i, 2), "0") != 0 ? " not null" : "", dflt ? " default " : "",
				dflt ? dflt : "");
	}
	/* the primary key's columns in key order (pk counts from 1) */
	for (j = 1; j <= r.n; j++)
		for (i = 0; i < r.n; i++)
			if (atol(dump_cell(&r, i, 4)) == (long)j)
				strbuf_addf(&sb, "%s%s", sb.len ? ", " : "", dump_cell(&r, i, 0));
	if (sb.len)
		dump_lines_addf(&rest, "  primary key (%s)%s", sb.buf,
				litedrv_autoincrement(table_sql) ? " autoincrement" : "");
	strbuf_release(&sb);
	dump_rows_release(&r);
	litedrv_checks(table_sql, &rest);

	res = litedrv_rows(c, "SELECT name, origin FROM pragma_index_list(?)", table, &r, err);
	if (res != DRIVER_OK)
		goto out;
	for (i = 0; i < r.n && res == DRIVER_OK; i++) {
		const char *name = dump_cell(&r, i, 0), *origin = dump_cell(&r, i, 1);
		if (strcmp(origin, "u") == 0) {
			res = litedrv_rows(c, "SELECT name FROM pragma_index_info(?) ORDER BY seqno", name, &k, err);
			if (res == DRIVER_OK) {
				litedrv_join(&sb, &k, 0);
				dump_lines_addf(&rest, "  unique (%s)", strbuf_str(&sb));
				strbuf_release(&sb);
			}
			dump_rows_release(&k);
		} else if (strcmp(origin, "c") == 0) {
			res = litedrv_rows(c, "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", name,
					   &k, err);
			if (res == DRIVER_OK && k.n) {
				one = dump_oneline(dump_cell(&k, 0, 0));
				dump_lines_addf(&rest, "  index %s: %s", name, one);
				free(one);
			}
			dump_rows_release(&k);
		}
	}
	dump_rows_release(&r);
	if (res != DRIVER_OK)
		goto out;

	res = litedrv_rows(c, "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete"
			      " FROM pragma_foreign_key_list(?) ORDER BY id, seq", table, &r, err);
	if (res != DRIVER_OK)
		goto out;
	for (i = 0; i < r.n; i = j) {
		struct strbuf to = STRBUF_INIT;
		for (j = i; j < r.n && strcmp(dump_cell(&r, j, 0), dump_cell(&r, i, 0)) == 0; j++) {
			strbuf_addf(&sb, "%s%s", j > i ? ", " : "", dump_cell(&r, j, 2));
			if (r.v[j * r.ncols + 3])
				strbuf_addf(&to, "%s%s", to.len ? ", " : "", dump_cell(&r, j, 3));
		}
		dump_lines_addf(&rest, "  foreign key (%s) references %s%s%s%s on update %s on delete %s",
				strbuf_str(&sb), dump_cell(&r, i, 1), to.len ? " (" : "", strbuf_str(&to),
				to.len ? ")" : "", dump_cell(&r, i, 4), dump_cell(&r, i, 5));
		strbuf_release(&sb);
		strbuf_release(&to);
	}
	dump_rows_release(&r);

	res = litedrv_rows(c, "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
			   table, &r, err);
	if (res != DRIVER_OK)
		goto out;
	for (i = 0; i < r.n; i++) {
		one = dump_oneline(dump_cell(&r, i, 1));
		dump_lines_addf(&rest, "  trigger %s: %s", dump_cell(&r, i, 0), one);
		free(one);
	}
	dump_rows_release(&r);

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

static enum driver_result litedrv_dump_schema(struct driver_conn *conn, const char *const *skip,
					      char **out, struct driver_error *err)
{
	struct litedrv_conn *c = (struct litedrv_conn *)conn;
	struct strbuf sb = STRBUF_INIT;
	struct dump_rows r;
	enum driver_result res;
	size_t i;

	*out = NULL;
	/* ORDER BY name is bytewise in SQLite (BINARY collation) */
	res = litedrv_rows(c, "SELECT type, name, sql FROM sqlite_master"
			      " WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
			      " ORDER BY type, name", NULL, &r, err);
	if (res != DRIVER_OK)
		return res;
	for (i = 0; i < r.n && res == DRIVER_OK; i++) {
		const char *type = dump_cell(&r, i, 0), *name = dump_cell(&r, i, 1);
		if (dump_skipped(skip, name))
			continue;
		if (sb.len)
			strbuf_addch(&sb, '\n');
		if (strcmp(type, "table") == 0) {
			strbuf_addf(&sb, "table %s\n", name);
			res = litedrv_dump_table(c, name, r.v[i * r.ncols + 2], &sb, err);
		} else {
			struct dump_rows t;
			char *one = dump_oneline(dump_cell(&r, i, 2));
			size_t j;
			strbuf_addf(&sb, "view %s\n  %s\n", name, one);
			free(one);
			res = litedrv_rows(c, "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
					      " AND tbl_name = ? ORDER BY name", name, &t, err);
			for (j = 0; res == DRIVER_OK && j < t.n; j++) {
				one = dump_oneline(dump_cell(&t, j, 1));
				strbuf_addf(&sb, "  trigger %s: %s\n", dump_cell(&t, j, 0), one);
				free(one);
			}
			dump_rows_release(&t);
		}
	}
	dump_rows_release(&r);
	if (res != DRIVER_OK) {
		strbuf_release(&sb);
		return res;
	}
	*out = strbuf_detach(&sb);
	return DRIVER_OK;
}

/* ---- bulk loading ------------------------------------------------------------ */

/*
 * One prepared INSERT, reused for every row, in the core's transaction:
 * SQLite's fastest path short of writing pages itself. A generated key is
 * the rowid (an INTEGER PRIMARY KEY is the rowid), read after each row.
 */
struct driver_load {
	struct litedrv_conn *c;
	sqlite3_stmt *st;
	int ncols;
	long long rows;
	driver_row_fn key_fn;
	void *key_ctx;
};

static void litedrv_quote(struct strbuf *sb, const char *name)
{
	strbuf_addch(sb, '"');
	for (; *name; name++) {
		if (*name == '"')
			strbuf_addch(sb, '"');
		strbuf_addch(sb, *name);
	}
	strbuf_addch(sb, '"');
}

static enum driver_result litedrv_primary_key(struct driver_conn *conn, const char *table,
					      char ***cols, struct driver_error *err)
{
	struct litedrv_conn *c = (struct litedrv_conn *)conn;
	sqlite3_stmt *st;
	size_t n = 0, cap = 0;
	char **v = NULL;
	int rc, without_rowid = 0;

	*cols = NULL;
	if (sqlite3_prepare_v2(c->db, "SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk",
			       -1, &st, NULL) != SQLITE_OK)
		return litedrv_fail(c->db, err);
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		xgrow(&v, &cap, n + 2, sizeof(*v));
		v[n++] = xstrdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		while (n)
			free(v[--n]);
		free(v);
		return litedrv_fail(c->db, err);
	}
	if (n == 0) {
		/* no declared key: the rowid is one, unless the table has none */
		if (sqlite3_prepare_v2(c->db, "SELECT 1 FROM pragma_index_list(?) WHERE origin = 'pk'",
				       -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
			without_rowid = sqlite3_step(st) == SQLITE_ROW;
			sqlite3_finalize(st);
		}
		if (!without_rowid) {
			xgrow(&v, &cap, 2, sizeof(*v));
			v[n++] = xstrdup("rowid");
		}
	}
	xgrow(&v, &cap, n + 1, sizeof(*v));
	v[n] = NULL;
	*cols = v;
	return DRIVER_OK;
}

static enum driver_result litedrv_load_begin(struct driver_conn *conn, const char *table,
					     const char *const *cols, int ncols, const char *key,
					     driver_row_fn key_fn, void *key_ctx,
					     struct driver_load **out, struct driver_error *err)
{
	struct litedrv_conn *c = (struct litedrv_conn *)conn;
	struct strbuf sb = STRBUF_INIT;
	struct driver_load *ld;
	sqlite3_stmt *st;
	int i;

	*out = NULL;
	strbuf_addstr(&sb, "INSERT INTO ");
	litedrv_quote(&sb, table);
	strbuf_addstr(&sb, " (");
	for (i = 0; i < ncols; i++) {
		if (i)
			strbuf_addstr(&sb, ", ");
		litedrv_quote(&sb, cols[i]);
	}
	strbuf_addstr(&sb, ") VALUES (");
	for (i = 0; i < ncols; i++)
		strbuf_addstr(&sb, i ? ", ?" : "?");
	strbuf_addch(&sb, ')');
	if (sqlite3_prepare_v2(c->db, sb.buf, -1, &st, NULL) != SQLITE_OK) {
		strbuf_release(&sb);
		return litedrv_fail(c->db, err);
	}
	strbuf_release(&sb);
	ld = xcalloc(1, sizeof(*ld));
	ld->c = c;
	ld->st = st;
	ld->ncols = ncols;
	ld->key_fn = key ? key_fn : NULL;
	ld->key_ctx = key_ctx;
	*out = ld;
	return DRIVER_OK;
}

static enum driver_result litedrv_load_row(struct driver_load *ld, const char *const *values,
					   const size_t *lens, struct driver_error *err)
{
	int i, rc;

	ld->rows++;
	for (i = 0; i < ld->ncols; i++) {
		rc = values[i] ? sqlite3_bind_text(ld->st, i + 1, values[i], (int)lens[i], SQLITE_STATIC)
			       : sqlite3_bind_null(ld->st, i + 1);
		if (rc != SQLITE_OK)
			goto fail;
	}
	rc = sqlite3_step(ld->st);
	sqlite3_reset(ld->st);
	if (rc != SQLITE_DONE)
		goto fail;
	if (ld->key_fn) {
		char key[24];
		const char *v[1] = { key };
		snprintf(key, sizeof(key), "%lld", (long long)sqlite3_last_insert_rowid(ld->c->db));
		ld->key_fn(ld->key_ctx, 1, v);
	}
	return DRIVER_OK;
fail:
	litedrv_fail(ld->c->db, err);
	err->offset = (long)ld->rows;
	return DRIVER_ESQL;
}

static void litedrv_load_abort(struct driver_load *ld)
{
	if (!ld)
		return;
	sqlite3_finalize(ld->st);
	free(ld);
}

static enum driver_result litedrv_load_end(struct driver_load *ld, long long *rows,
					   struct driver_error *err)
{
	(void)err;
	*rows = ld->rows;
	litedrv_load_abort(ld);
	return DRIVER_OK;
}

/* ---- test databases ------------------------------------------------------- */

/*
 * 'migrate testdb' on SQLite: databases are files of the core's names in a
 * directory, and a clone is a copy of the template's file (the template's
 * connection is closed, so the file is whole: no journal, no WAL). The
 * copy goes straight to its new name, created with O_EXCL, which only its
 * maker knows until it returns: a copy cut short is never handed out, and
 * gc removes it. Sealed means the file has no write permission: sealing
 * (chmod 0444) follows an fsync of the file and precedes one of the
 * directory, so a template that is sealed is whole even after a crash.
 * There is no warm pool: a file copy is already cheaper than a claim.
 */

static enum driver_result litedrv_connect_server(const struct driver_settings *s, const char *dir,
						 struct driver_conn **out, struct driver_error *err)
{
	struct driver_settings mem = *s;
	struct litedrv_conn *c;
	enum driver_result r;
	struct stat st;

	*out = NULL;
	if (!dir || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		driver_error_set(err, "'%s' is not a directory", dir ? dir : "");
		return DRIVER_ECONFIG;
	}
	mem.database = ":memory:";
	mem.read_only = 0;
	r = litedrv_connect(&mem, out, err);
	if (r != DRIVER_OK)
		return r;
	c = (struct litedrv_conn *)*out;
	free(c->path);
	c->path = xstrdup(dir);
	c->server = 1;
	return DRIVER_OK;
}

static enum driver_result litedrv_list_databases(struct driver_conn *server, const char *prefix,
						 driver_row_fn fn, void *ctx, struct driver_error *err)
{
	struct litedrv_conn *c = (struct litedrv_conn *)server;
	size_t n = strlen(prefix);
	struct dirent *de;
	DIR *d = opendir(c->path);

	if (!d) {
		driver_error_set(err, "cannot read directory '%s': %s", c->path, strerror(errno));
		return DRIVER_ECONFIG;
	}
	while ((de = readdir(d)) != NULL) {
		char sealed[2], age[32];
		const char *row[3] = { de->d_name, sealed, age };
		struct stat st;
		char *p;

		if (strncmp(de->d_name, prefix, n) != 0)
			continue;
		p = xasprintf("%s/%s", c->path, de->d_name);
		if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		free(p);
		snprintf(sealed, sizeof(sealed), "%d", (st.st_mode & 0222) == 0);
		snprintf(age, sizeof(age), "%lld",
			 (long long)st.st_mtim.tv_sec * 1000000000LL + (long long)st.st_mtim.tv_nsec);
		if (fn(ctx, 3, row))
			break;
	}
	closedir(d);
	return DRIVER_OK;
}

/*
 * Copies the whole of in to the empty file out inside the kernel: a
 * reflink (FICLONE: btrfs, XFS), else copy_file_range(). Returns 0 when
 * done, 1 when neither applies here and nothing was written (the caller
 * copies through a buffer), -1 on an error (errno).
 */
static int litedrv_copy_fast(int in, int out)
{
#ifdef __linux__
	int first = 1;
	ssize_t n;

	if (ioctl(out, FICLONE, in) == 0)
		return 0;
	while ((n = copy_file_range(in, NULL, out, NULL, (size_t)1 << 30, 0)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return first && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP ||
					 errno == EBADF || errno == EPERM) ? 1 : -1;
		first = 0;
	}
	return 0;
#else
	(void)in;
	(void)out;
	return 1;
#endif
}

static enum driver_result litedrv_copy(const char *from, const char *to, struct driver_error *err)
{
	static const size_t bufsize = 256 << 10;
	int in = -1, out = -1;
	enum driver_result r = DRIVER_OK;
	char *buf = NULL;
	ssize_t n;

	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out < 0) {
		if (errno == EEXIST)
			return DRIVER_EEXISTS;
		driver_error_set(err, "cannot create '%s': %s", to, strerror(errno));
		return DRIVER_ECONFIG;
	}
	if (!from) {
		close(out);
		return DRIVER_OK; /* an empty file is an empty database */
	}
	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		driver_error_set(err, "cannot open '%s': %s", from, strerror(errno));
		r = DRIVER_ECONFIG;
		goto out;
	}
	/* the file system's own copy first: a reflink shares the blocks, copy_file_range stays in the kernel */
	switch (litedrv_copy_fast(in, out)) {
	case 0:
		goto out;
	case -1:
		driver_error_set(err, "cannot copy '%s' to '%s': %s", from, to, strerror(errno));
		r = DRIVER_ECONFIG;
		goto out;
	}
	buf = xmalloc(bufsize);
	while ((n = read(in, buf, bufsize)) != 0) {
		ssize_t off = 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			driver_error_set(err, "cannot read '%s': %s", from, strerror(errno));
			r = DRIVER_ECONFIG;
			goto out;
		}
		while (off < n) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				driver_error_set(err, "cannot write '%s': %s", to, strerror(errno));
				r = DRIVER_ECONFIG;
				goto out;
			}
			off += w;
		}
	}
out:
	free(buf);
	if (in >= 0)
		close(in);
	if (close(out) != 0 && r == DRIVER_OK) {
		driver_error_set(err, "cannot write '%s': %s", to, strerror(errno));
		r = DRIVER_ECONFIG;
	}
	if (r != DRIVER_OK)
		unlink(to);
	return r;
}

static enum driver_result litedrv_clone_database(struct driver_conn *server, const char *from, const char *to,
						 struct driver_error *err)
{
	struct litedrv_conn *c = (struct litedrv_conn *)server;
	char *src = from ? xasprintf("%s/%s", c->path, from) : NULL;
	char *dst = xasprintf("%s/%s", c->path, to);
	enum driver_result r = litedrv_copy(src, dst, err);

	free(src);
	free(dst);
	return r;
}

static int litedrv_fsync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC), r;

	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

static enum driver_result litedrv_seal_database(struct driver_conn *server, const char *name,
						struct driver_error *err)
{
	struct litedrv_conn *c = (struct litedrv_conn *)server;
	char *p = xasprintf("%s/%s", c->path, name);
	enum driver_result r = DRIVER_OK;

	if (litedrv_fsync_path(p, O_RDONLY) != 0 || chmod(p, 0444) != 0 ||
	    litedrv_fsync_path(c->path, O_RDONLY | O_DIRECTORY) != 0) {
		driver_error_set(err, "cannot seal '%s': %s", p, strerror(errno));
		r = DRIVER_ECONFIG;
	}
	free(p);
	return r;
}

static enum driver_result litedrv_drop_named_database(struct driver_conn *server, const char *name,
						      struct driver_error *err)
{
	struct litedrv_conn *c = (struct litedrv_conn *)server;
	struct driver_settings s;
	enum driver_result r;

	memset(&s, 0, sizeof(s));
	s.database = xasprintf("%s/%s", c->path, name);
	r = litedrv_drop_database(&s, err);
	free((char *)s.database);
	return r;
}

/* ---- safe apply ------------------------------------------------------------ */

/* statement_timeout: SQLite has no such setting; the progress handler interrupts */
static int litedrv_progress(void *arg)
{
	struct litedrv_conn *c = arg;

	return now_ms() - c->stmt_start > c->statement_timeout_ms;
}

static void litedrv_set_limits(struct driver_conn *conn, enum driver_limits_how how,
			       const struct driver_limits *lim, struct driver_sql_list *out)
{
	struct litedrv_conn *c = (struct litedrv_conn *)conn;
	long long busy;

	out->n = 0;
	if (how == DRIVER_LIMITS_LOCAL)
		return;
	c->statement_timeout_ms = how == DRIVER_LIMITS_RESET ? 0 : lim->statement_timeout_ms;
	sqlite3_progress_handler(c->db, c->statement_timeout_ms > 0 ? 1000 : 0,
				 c->statement_timeout_ms > 0 ? litedrv_progress : NULL, c);
	/* lock_wait 0 waits as long as SQLite can be told to (24 days) */
	busy = how == DRIVER_LIMITS_RESET ? c->busy_default : lim->lock_wait_ms > 0 ? lim->lock_wait_ms : INT_MAX;
	if (busy > INT_MAX)
		busy = INT_MAX;
	out->n = 1;
	snprintf(out->v[0], sizeof(out->v[0]), "PRAGMA busy_timeout = %lld", busy);
}

const struct driver sqlite_driver = {
	.name = "sqlite",
	.dialect = SQL_DIALECT_SQLITE,
	.caps = DRIVER_CAP_TRANSACTIONAL_DDL | DRIVER_CAP_LOCK | DRIVER_CAP_CREATE_DATABASE |
		DRIVER_CAP_BULK_LOAD | DRIVER_CAP_FK_PRAGMA | DRIVER_CAP_DATABASE_FILES,
	.params = DRIVER_PARAM_QMARK,
	.ident_quote = '"',
	.begin_sql = "BEGIN IMMEDIATE",
	.commit_sql = "COMMIT",
	.rollback_sql = "ROLLBACK",
	.type_long_text = "TEXT",
	.type_timestamp = "TEXT",
	.connect = litedrv_connect,
	.close = litedrv_close,
	.exec = litedrv_exec,
	.query = litedrv_query,
	.table_exists = litedrv_table_exists,
	.lock = litedrv_lock,
	.unlock = litedrv_unlock,
	.create_database = litedrv_create_database,
	.drop_database = litedrv_drop_database,
	.dump_schema = litedrv_dump_schema,
	.primary_key = litedrv_primary_key,
	.load_begin = litedrv_load_begin,
	.load_row = litedrv_load_row,
	.load_end = litedrv_load_end,
	.load_abort = litedrv_load_abort,
	.cancel = litedrv_cancel,
	.changes = litedrv_last_changes,
	.set_limits = litedrv_set_limits,
	.connect_server = litedrv_connect_server,
	.list_databases = litedrv_list_databases,
	.clone_database = litedrv_clone_database,
	.seal_database = litedrv_seal_database,
	.drop_named_database = litedrv_drop_named_database,
};
