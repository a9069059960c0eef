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
