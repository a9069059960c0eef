/*
 * testutil.c - shared test helpers (see testutil.h).
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include "../migrate/config.h"
#include "../migrate/util.h"

/* ---- files ---------------------------------------------------------------- */

char *tmpdir_new(void)
{
	const char *base = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/migrate-test-XXXXXX", base && *base ? base : "/tmp");

	if (!mkdtemp(tmpl))
		ck_abort_msg("mkdtemp: %s", strerror(errno));
	return tmpl;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

void rm_rf(const char *path)
{
	if (path)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void mkdirs_for(const char *path)
{
	char *p = xstrdup(path), *s;

	for (s = p + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0777);
			*s = '/';
		}
	}
	free(p);
}

void write_file(const char *dir, const char *name, const char *text)
{
	char *path = path_join(dir, name);
	FILE *f;

	mkdirs_for(path);
	f = fopen(path, "wb");
	ck_assert_msg(f != NULL, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
	free(path);
}

char *slurp(const char *dir, const char *name)
{
	char *path = path_join(dir, name), *text;
	size_t len;

	if (read_file(path, &text, &len))
		text = NULL;
	free(path);
	return text;
}

/* ---- running the binary ------------------------------------------------------ */

struct run run_migrate(const char *cwd, const char *const *env, const char *const *argv)
{
	const char *bin = getenv("MIGRATE_BIN");
	struct run r = { -1, NULL, NULL };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int po[2], pe[2], status;
	size_t n = 0, i;
	char **args;
	pid_t pid;

	ck_assert_msg(bin && *bin, "MIGRATE_BIN is not set (run the tests through tests/run.sh)");
	while (argv[n])
		n++;
	args = xcalloc(n + 2, sizeof(*args));
	args[0] = (char *)bin;
	for (i = 0; i < n; i++)
		args[i + 1] = (char *)argv[i];
	ck_assert(pipe(po) == 0 && pipe(pe) == 0);
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		close(po[1]);
		close(pe[1]);
		if (cwd && chdir(cwd) != 0)
			_exit(126);
		setenv("NO_COLOR", "1", 1);
		/* the runner's own settings must not leak into the command under test */
		unsetenv("DATABASE_URL");
		unsetenv("MIGRATE_ENV");
		unsetenv("MIGRATE_CONFIG");
		for (i = 0; env && env[i]; i++) {
			const char *eq = strchr(env[i], '=');
			char *name = xstrndup(env[i], (size_t)(eq - env[i]));
			if (eq[1])
				setenv(name, eq + 1, 1);
			else
				unsetenv(name);
			free(name);
		}
		execv(bin, args);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	{
		struct pollfd fds[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
		int open_fds = 2;
		char buf[8192];
		while (open_fds > 0) {
			if (poll(fds, 2, -1) < 0 && errno != EINTR)
				break;
			for (i = 0; i < 2; i++) {
				ssize_t k;
				if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
					continue;
				k = read(fds[i].fd, buf, sizeof(buf));
				if (k <= 0) {
					close(fds[i].fd);
					fds[i].fd = -1;
					open_fds--;
				} else {
					strbuf_add(i == 0 ? &out : &err, buf, (size_t)k);
				}
			}
		}
	}
	waitpid(pid, &status, 0);
	r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r.out = strbuf_detach(&out);
	r.err = strbuf_detach(&err);
	free(args);
	return r;
}

void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

/* ---- the database under test ------------------------------------------------- */

static const struct driver *drv;
static char drv_error[512];
static struct db_url server;      /* parsed MIGRATE_TEST_URL */
static struct db_url current;     /* this test's database */
static struct driver_settings cur_settings;
static int have_current;
static int counter;

const char *test_db_error(void)
{
	return drv_error;
}

const struct driver *test_driver(void)
{
	return drv;
}

int test_behind_proxy(void)
{
	const char *p = getenv("MIGRATE_TEST_PROXY_URL");

	return p && *p;
}

const char *test_driver_name(void)
{
	return drv ? drv->name : "none";
}

int test_db_init(const char *driver)
{
	const char *url = getenv("MIGRATE_TEST_URL");

	drv = driver_find(driver);
	if (!drv) {
		snprintf(drv_error, sizeof(drv_error),
			 "this build has no '%s' driver (install its client library and rebuild)", driver);
		return -1;
	}
	if (drv->dialect == SQL_DIALECT_SQLITE)
		return 0;
	if (!url || !*url) {
		snprintf(drv_error, sizeof(drv_error),
			 "MIGRATE_TEST_URL is not set: start the servers with tests/servers.sh (tests/run.sh does)");
		return -1;
	}
	if (url_parse(url, &server, drv_error, sizeof(drv_error)))
		return -1;
	return 0;
}

static void settings_from(struct driver_settings *s, const struct db_url *u)
{
	memset(s, 0, sizeof(*s));
	s->host = u->host;
	s->port = u->port;
	s->user = u->user;
	s->password = u->password;
	s->database = u->database;
	s->socket = u->socket;
	s->sslmode = u->sslmode;
	s->connect_timeout = 10;
}

struct driver_settings *test_db_settings(void)
{
	return &cur_settings;
}

void test_db_create(const char *dir, char **url)
{
	struct driver_error err;

	test_db_drop();
	memset(&current, 0, sizeof(current));
	if (drv->dialect == SQL_DIALECT_SQLITE) {
		current.driver = xstrdup("sqlite");
		current.database = path_join(dir, "test.db");
		*url = xasprintf("sqlite://%s", current.database);
		/* an empty file is an empty database, as the servers' new database is */
		write_file(dir, "test.db", "");
	} else {
		current.driver = xstrdup(server.driver);
		current.host = xstrdup(server.host);
		current.port = server.port;
		current.user = xstrdup(server.user);
		current.password = xstrdup(server.password);
		current.database = xasprintf("mt_%d_%d", (int)getpid(), ++counter);
		*url = xasprintf("%s://%s:%s@%s:%d/%s", server.driver, server.user ? server.user : "",
				 server.password ? server.password : "", server.host ? server.host : "127.0.0.1",
				 server.port, current.database);
		/*
		 * MIGRATE_TEST_PROXY_URL (a PgBouncer in front of the server): migrate
		 * connects through it, while the test's own sessions (gates, holders,
		 * checks) go to the server itself, as a deploy and a DBA would.
		 */
		if (getenv("MIGRATE_TEST_PROXY_URL") && *getenv("MIGRATE_TEST_PROXY_URL")) {
			struct db_url proxy;
			char msg[256];
			memset(&proxy, 0, sizeof(proxy));
			ck_assert_msg(url_parse(getenv("MIGRATE_TEST_PROXY_URL"), &proxy, msg, sizeof(msg)) == 0,
				      "MIGRATE_TEST_PROXY_URL: %s", msg);
			free(*url);
			*url = xasprintf("%s://%s:%s@%s:%d/%s", server.driver, server.user ? server.user : "",
					 server.password ? server.password : "", proxy.host ? proxy.host : "127.0.0.1",
					 proxy.port, current.database);
			db_url_release(&proxy);
		}
	}
	settings_from(&cur_settings, &current);
	have_current = 1;
	if (drv->dialect != SQL_DIALECT_SQLITE) {
		err.message[0] = '\0';
		ck_assert_msg(drv->create_database(&cur_settings, &err) == DRIVER_OK,
			      "cannot create test database %s: %s", current.database, err.message);
	}
}

void test_db_drop(void)
{
	struct driver_error err;

	if (!have_current)
		return;
	if (drv->dialect != SQL_DIALECT_SQLITE)
		drv->drop_database(&cur_settings, &err);
	db_url_release(&current);
	have_current = 0;
}

struct driver_conn *test_connect(void)
{
	struct driver_conn *c = NULL;
	struct driver_error err;

	err.message[0] = '\0';
	ck_assert_msg(drv->connect(&cur_settings, &c, &err) == DRIVER_OK, "connect: %s", err.message);
	return c;
}

static int first_value(void *ctx, int ncols, const char *const *v)
{
	char **out = ctx;

	if (!*out && ncols > 0)
		*out = xstrdup(v[0] ? v[0] : "(null)");
	return 0;
}

char *test_scalar(struct driver_conn *c, const char *sql)
{
	struct driver_error err;
	char *out = NULL;

	err.message[0] = '\0';
	ck_assert_msg(drv->query(c, sql, 0, NULL, first_value, &out, &err) == DRIVER_OK, "%s: %s", sql,
		      err.message);
	return out;
}

char *db_scalar(const char *sql)
{
	struct driver_conn *c = test_connect();
	char *v = test_scalar(c, sql);

	drv->close(c);
	return v;
}

int db_table_exists(const char *table)
{
	struct driver_conn *c = test_connect();
	struct driver_error err;
	int exists = 0;

	ck_assert(drv->table_exists(c, table, &exists, &err) == DRIVER_OK);
	drv->close(c);
	return exists;
}

long db_count(const char *table)
{
	char sql[256], *v;
	long n;

	if (!db_table_exists(table))
		return -1;
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", table);
	v = db_scalar(sql);
	n = v ? atol(v) : -1;
	free(v);
	return n;
}

const char *test_quote(const char *name, char *buf, size_t len)
{
	char q = drv->ident_quote;

	snprintf(buf, len, "%c%s%c", q, name, q);
	return buf;
}

/* ---- assertions and fixtures the suites share --------------------------------- */

void expect(struct run *r, int status, const char *what)
{
	ck_assert_msg(r->status == status, "%s: exit %d, expected %d\nstdout: %s\nstderr: %s", what, r->status,
		      status, r->out, r->err);
}

void expect_in(const char *hay, const char *needle, const char *where)
{
	ck_assert_msg(hay && strstr(hay, needle), "%s does not hold '%s':\n%s", where, needle, hay ? hay : "(null)");
}

const char *pick(const char *sqlite, const char *postgres, const char *mysql)
{
	switch (drv->dialect) {
	case SQL_DIALECT_POSTGRES:
		return postgres;
	case SQL_DIALECT_MYSQL:
		return mysql;
	default:
		return sqlite;
	}
}

void copy_example(const char *dir)
{
	static const char *const dirs[] = { "migrations", "seeds" };
	const char *src = getenv("MIGRATE_SOURCE_DIR");
	size_t i;

	ck_assert_msg(src && *src, "MIGRATE_SOURCE_DIR is not set (run the tests through tests/run.sh)");
	for (i = 0; i < 2; i++) {
		char *d = path_join(src, dirs[i]);
		DIR *dd = opendir(d);
		struct dirent *de;
		ck_assert_msg(dd != NULL, "cannot open %s", d);
		while ((de = readdir(dd)) != NULL) {
			char *text, *rel;
			if (de->d_name[0] == '.')
				continue;
			text = slurp(d, de->d_name);
			rel = xasprintf("%s/%s", dirs[i], de->d_name);
			write_file(dir, rel, text);
			free(rel);
			free(text);
		}
		closedir(dd);
		free(d);
	}
}

void project_new(char **dir, char **url)
{
	*dir = tmpdir_new();
	test_db_create(*dir, url);
}

void project_free(char **dir, char **url)
{
	test_db_drop();
	rm_rf(*dir);
	free(*dir);
	free(*url);
	*dir = *url = NULL;
}

void project_config(const char *dir, const char *url, int lock_timeout, const char *shared,
		    const char *env)
{
	char *text = xasprintf("[migrate]\nlock_timeout = %d\n%s\n[development]\nurl = %s\n%s\n", lock_timeout,
			       shared ? shared : "", url, env ? env : "");

	write_file(dir, "config.ini", text);
	free(text);
}

void write_migration(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("migrations/%s", name);

	write_file(dir, path, text);
	free(path);
}

/* ---- gates ------------------------------------------------------------------ */

long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void wait_for_text(const char *dir, const char *name, const char *needle, int timeout_s)
{
	long long until = mono_ms() + timeout_s * 1000LL;

	for (;;) {
		char *text = slurp(dir, name);
		int found = text && strstr(text, needle);

		if (found) {
			free(text);
			return;
		}
		if (mono_ms() > until) {
			ck_abort_msg("'%s' did not appear in %s within %d s; it holds:\n%s", needle, name,
				     timeout_s, text ? text : "(nothing)");
		}
		free(text);
		sleep_ms(20);
	}
}

/* Any lock number nobody else uses; the name carries the database (GET_LOCK is server-wide). */
#define GATE_PG_KEY "7234001"

struct gate {
	int transactional;
	struct driver_conn *conn;  /* the servers: the session holding the lock */
	sqlite3 *lite;             /* SQLite: the connection holding the file lock */
	char *path;                /* SQLite: the file it holds */
	char *sql;
};

static void lite_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		ck_abort_msg("gate: %s: %s", sql, msg ? msg : "?");
}

struct gate *gate_hold(const char *dir, int transactional)
{
	struct gate *g = xcalloc(1, sizeof(*g));
	char *v;

	g->transactional = transactional;
	switch (drv->dialect) {
	case SQL_DIALECT_POSTGRES:
		g->conn = test_connect();
		free(test_scalar(g->conn, "SELECT pg_advisory_lock(" GATE_PG_KEY ")"));
		/* the gate is waited at for as long as the test holds it, not for lock_wait */
		g->sql = xstrdup("SET lock_timeout = 0;\nSELECT pg_advisory_xact_lock(" GATE_PG_KEY ");");
		break;
	case SQL_DIALECT_MYSQL:
		g->conn = test_connect();
		g->sql = xasprintf("SELECT GET_LOCK('gate_%s', 0)", current.database);
		v = test_scalar(g->conn, g->sql);
		ck_assert_msg(v && strcmp(v, "1") == 0, "gate: GET_LOCK returned %s", v ? v : "NULL");
		free(v);
		free(g->sql);
		g->sql = xasprintf("SELECT GET_LOCK('gate_%s', 3600);\nDO RELEASE_LOCK('gate_%s');",
				   current.database, current.database);
		break;
	default:
		/* a long busy timeout: the migration waits for the gate, not for a clock */
		if (transactional) {
			g->path = xstrdup(current.database);
			ck_assert_int_eq(sqlite3_open(g->path, &g->lite), SQLITE_OK);
			lite_exec(g->lite, "BEGIN; SELECT COUNT(*) FROM sqlite_master;");
			g->sql = xstrdup("PRAGMA busy_timeout = 3600000;");
		} else {
			g->path = path_join(dir, "gate.db");
			ck_assert_int_eq(sqlite3_open(g->path, &g->lite), SQLITE_OK);
			lite_exec(g->lite, "CREATE TABLE IF NOT EXISTS g (x INTEGER); BEGIN IMMEDIATE;");
			g->sql = xasprintf("PRAGMA busy_timeout = 3600000;\nATTACH DATABASE '%s' AS gate;\n"
					   "INSERT INTO gate.g (x) VALUES (1);\nDETACH DATABASE gate;",
					   g->path);
		}
		break;
	}
	return g;
}

const char *gate_sql(const struct gate *g)
{
	return g->sql;
}

/* SQLite: another process than this one holds the write lock of path's PENDING byte (it commits). */
static int lite_committing(const char *path, int pid)
{
	struct stat st;
	char line[256];
	FILE *f;
	int found = 0;

	if (stat(path, &st) != 0 || !(f = fopen("/proc/locks", "r")))
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		unsigned long long ino, start;
		int lpid;
		char type[16];

		/* "1: POSIX  ADVISORY  WRITE 1234 fd:01:5678 1073741824 1073741824" */
		if (sscanf(line, "%*s %*s %*s %15s %d %x:%x:%llu %llu", type, &lpid, &maj, &min, &ino,
			   &start) == 6)
			found = lpid == pid && ino == (unsigned long long)st.st_ino &&
				start == 0x40000000ULL && strcmp(type, "WRITE") == 0;
	}
	fclose(f);
	return found;
}

void gate_wait(const struct gate *g, int pid, const char *after, int timeout_s)
{
	long long until = mono_ms() + timeout_s * 1000LL;
	char *sql = NULL;

	if (drv->dialect == SQL_DIALECT_POSTGRES)
		sql = xstrdup("SELECT COUNT(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
			      "AND wait_event_type = 'Lock' AND query LIKE 'SELECT pg_advisory_xact_lock(" GATE_PG_KEY ")%'");
	else if (drv->dialect == SQL_DIALECT_MYSQL)
		sql = xasprintf("SELECT COUNT(*) FROM information_schema.processlist WHERE id <> CONNECTION_ID() "
				"AND info LIKE 'SELECT GET_LOCK(''gate_%s'', 3600)%%'",
				current.database);
	for (;;) {
		int there;

		if (sql) {
			char *n = db_scalar(sql);
			there = n && atoi(n) > 0;
			free(n);
		} else if (g->transactional) {
			there = lite_committing(current.database, pid);
		} else {
			there = db_table_exists(after);
		}
		if (there)
			break;
		if (kill(pid, 0) != 0 || waitpid(pid, NULL, WNOHANG) == pid)
			ck_abort_msg("migrate (pid %d) ended before it reached the gate", pid);
		ck_assert_msg(mono_ms() < until, "migrate (pid %d) did not reach the gate within %d s", pid,
			      timeout_s);
		sleep_ms(20);
	}
	free(sql);
}

void gate_release(struct gate *g)
{
	if (!g)
		return;
	if (g->conn)
		test_driver()->close(g->conn); /* the server releases the session's locks */
	if (g->lite)
		sqlite3_close(g->lite); /* ends its transaction: the lock goes with it */
	free(g->path);
	free(g->sql);
	free(g);
}

/* ---- running in the background, holding table locks ---------------------------- */

int start_migrate(const char *cwd, const char *errname, const char *const *argv)
{
	return start_migrate_to(cwd, NULL, errname, argv);
}

int start_migrate_to(const char *cwd, const char *outname, const char *errname, const char *const *argv)
{
	const char *bin = getenv("MIGRATE_BIN");
	size_t n = 0, i;
	char **args;
	pid_t pid;

	ck_assert_msg(bin && *bin, "MIGRATE_BIN is not set (run the tests through tests/run.sh)");
	while (argv[n])
		n++;
	args = xcalloc(n + 2, sizeof(*args));
	args[0] = (char *)bin;
	for (i = 0; i < n; i++)
		args[i + 1] = (char *)argv[i];
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		int devnull, errfd;
		if (chdir(cwd) != 0)
			_exit(126);
		devnull = outname ? open(outname, O_WRONLY | O_CREAT | O_TRUNC, 0644) : open("/dev/null", O_WRONLY);
		errfd = open(errname, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (devnull < 0 || errfd < 0)
			_exit(126);
		dup2(devnull, 1);
		dup2(errfd, 2);
		setenv("NO_COLOR", "1", 1);
		unsetenv("DATABASE_URL");
		unsetenv("MIGRATE_ENV");
		unsetenv("MIGRATE_CONFIG");
		execv(bin, args);
		_exit(127);
	}
	free(args);
	return (int)pid;
}

int wait_exit_code(int pid, int timeout_s)
{
	long long until = mono_ms() + timeout_s * 1000LL;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		ck_assert_msg(r == 0, "waitpid: %s", strerror(errno));
		if (mono_ms() > until) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			ck_abort_msg("migrate (pid %d) still running after %d s", pid, timeout_s);
		}
		sleep_ms(20);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct holder {
	struct driver_conn *conn; /* the servers */
	sqlite3 *lite;            /* SQLite */
	char id[64];
};

struct holder *hold_table(const char *table, int row, const char *sqlite_path)
{
	struct holder *h = xcalloc(1, sizeof(*h));
	char *sql, *v;

	switch (drv->dialect) {
	case SQL_DIALECT_POSTGRES:
	case SQL_DIALECT_MYSQL:
		h->conn = test_connect();
		v = test_scalar(h->conn, drv->dialect == SQL_DIALECT_POSTGRES ? "SELECT pg_backend_pid()"
									       : "SELECT CONNECTION_ID()");
		ck_assert(v != NULL);
		snprintf(h->id, sizeof(h->id), "session %s", v);
		free(v);
		free(test_scalar(h->conn, "BEGIN"));
		if (row)
			sql = xasprintf("INSERT INTO %s VALUES (1)", table);
		else if (drv->dialect == SQL_DIALECT_POSTGRES)
			sql = xasprintf("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE", table);
		else
			sql = xasprintf("LOCK TABLES %s WRITE", table);
		free(test_scalar(h->conn, sql));
		free(sql);
		break;
	default:
		ck_assert_int_eq(sqlite3_open(sqlite_path ? sqlite_path : current.database, &h->lite), SQLITE_OK);
		lite_exec(h->lite, "BEGIN IMMEDIATE");
		snprintf(h->id, sizeof(h->id), "process %d", (int)getpid());
		break;
	}
	return h;
}

const char *holder_id(const struct holder *h)
{
	return h->id;
}

void holder_release(struct holder *h)
{
	if (!h)
		return;
	if (h->conn)
		test_driver()->close(h->conn); /* ends the transaction: the locks go with the session */
	if (h->lite)
		sqlite3_close(h->lite);
	free(h);
}

/*
 * The names beginning with p on the server (or, on SQLite, the files in proj),
 * sorted, comma-separated; SQLite's journals and lock files left out.
 */
char *names_like(const char *proj, const char *p)
{
	struct strbuf sb = STRBUF_INIT;
	char *sql, *v;

	if (test_driver()->dialect == SQL_DIALECT_SQLITE) {
		struct dirent **list;
		int n = scandir(proj, &list, NULL, alphasort), i;

		ck_assert_int_ge(n, 0);
		for (i = 0; i < n; i++) {
			if (strncmp(list[i]->d_name, p, strlen(p)) == 0 && !strchr(list[i]->d_name, '.') &&
			    !strchr(list[i]->d_name, '-'))
				strbuf_addf(&sb, "%s%s", sb.len ? "," : "", list[i]->d_name);
			free(list[i]);
		}
		free(list);
		strbuf_addstr(&sb, "");
		return strbuf_detach(&sb);
	}
	if (test_driver()->dialect == SQL_DIALECT_POSTGRES)
		sql = xasprintf("SELECT COALESCE(string_agg(datname::text, ',' ORDER BY datname::text), '')"
				" FROM pg_database WHERE starts_with(datname::text, '%s')", p);
	else
		sql = xasprintf("SELECT COALESCE(GROUP_CONCAT(SCHEMA_NAME ORDER BY SCHEMA_NAME), '')"
				" FROM information_schema.SCHEMATA WHERE LEFT(SCHEMA_NAME, %d) = '%s'",
				(int)strlen(p), p);
	v = db_scalar(sql);
	free(sql);
	return v ? v : xstrdup("");
}

/* Polls sql (on a connection of its own each time) until it returns want, up to timeout_s. */
void wait_for_value(const char *sql, const char *want, int timeout_s, const char *what)
{
	long long until = mono_ms() + timeout_s * 1000LL;
	char *v = NULL;

	for (;;) {
		v = db_scalar(sql);
		if (v && strcmp(v, want) == 0)
			break;
		ck_assert_msg(mono_ms() < until, "%s: '%s' gave '%s', not '%s', for %d s", what, sql, v ? v : "(null)",
			      want, timeout_s);
		free(v);
		sleep_ms(50);
	}
	free(v);
}
