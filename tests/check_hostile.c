/*
 * check_hostile.c - migrate under a hostile user, on the driver under test
 * (SPEC sections 4, 5 and 7; issue 12): secrets that must never show,
 * signals in the middle of a statement, migrations that move their
 * session, and history tables edited by hand.
 *
 * Nothing here depends on the machine's speed: a statement is held on a
 * lock the test holds (PostgreSQL advisory lock, MySQL GET_LOCK) or never
 * ends by itself (SQLite: an endless recursive CTE), and the test polls,
 * with a timeout, for what it waits for.
 *
 * Divisions: helpers; secrets; signals; the session moved; hand-edited
 * history.
 */
#define _GNU_SOURCE
#include <check.h>
#include <jansson.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../migrate/util.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------------ */

static char *proj;
static char *url;

static void setup(void)
{
	char *dir;

	project_new(&proj, &url);
	project_config(proj, url, 20, NULL, NULL);
	dir = path_join(proj, "migrations");
	mkdir(dir, 0777);
	free(dir);
}

static void teardown(void)
{
	project_free(&proj, &url);
}

#define CLI(...) run_migrate(proj, NULL, (const char *const[]){ __VA_ARGS__, NULL })
#define CLI_ENV(env, ...) run_migrate(proj, (env), (const char *const[]){ __VA_ARGS__, NULL })

static int is_sqlite(void)
{
	return test_driver()->dialect == SQL_DIALECT_SQLITE;
}

static int is_mysql(void)
{
	return test_driver()->dialect == SQL_DIALECT_MYSQL;
}

/* The binary in the background, its stderr into proj/<errname> (testutil.h). */
#define SPAWN(errname, ...) ((pid_t)start_migrate(proj, errname, (const char *const[]){ __VA_ARGS__, NULL }))
#define wait_exit(pid, timeout_s) wait_exit_code((int)(pid), timeout_s)

static void wait_for_file(const char *path, int timeout_s)
{
	long long until = mono_ms() + timeout_s * 1000LL;

	while (access(path, F_OK) != 0) {
		ck_assert_msg(mono_ms() < until, "'%s' did not appear within %d s", path, timeout_s);
		sleep_ms(20);
	}
}

static char *read_text(const char *name)
{
	char *t = slurp(proj, name);

	return t ? t : xstrdup("");
}

static char *history_status(const char *version)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT status FROM schema_migrations WHERE version = '%s'", version);
	return db_scalar(sql);
}

/* ---- secrets ---------------------------------------------------------------------- */

/* Passwords a user may really have, each one hostile to some parser. */
static const char *const hostile_pw[] = {
	"Xq${ecr3t p4rt}9", /* "${" with no variable name after it */
	"Zk9${Wv7",         /* "${" never closed */
	"Jj4?Qx8@Rr",       /* '?' and '@' unencoded */
	"Ww3%zzPp",         /* a bad percent escape */
	"Hh6:Kk2/Mm",       /* ':' and '/' unencoded */
	NULL,
};

/* Fails unless no 3-character piece of pw is in the run's output. */
static void expect_no_password(const struct run *r, const char *pw, const char *what)
{
	size_t i, n = strlen(pw);
	char piece[4];

	for (i = 0; i + 3 <= n; i++) {
		memcpy(piece, pw + i, 3);
		piece[3] = '\0';
		ck_assert_msg(!strstr(r->out, piece) && !strstr(r->err, piece),
			      "%s: the output shows '%s' of the password '%s' (exit %d)\nstdout: %s\nstderr: %s", what,
			      piece, pw, r->status, r->out, r->err);
	}
}

/* A config whose [development] has these lines (the test database's own settings are not used). */
static void env_config(const char *lines)
{
	char *text = xasprintf("[migrate]\nlock_timeout = 5\n\n[development]\n%s", lines);

	write_file(proj, "config.ini", text);
	free(text);
}

START_TEST(no_message_shows_any_part_of_a_password)
{
	const char *drv = test_driver_name();
	size_t i;

	for (i = 0; hostile_pw[i]; i++) {
		const char *pw = hostile_pw[i];
		char *lines, *u, *env[2] = { NULL, NULL };
		struct run r;

		/* the password key: with a bad port, an unknown key, an unset variable, a bad line */
		lines = xasprintf("driver = %s\nhost = 127.0.0.1\nport = notaport\nuser = app\npassword = %s\ndatabase = d.db\n",
				  drv, pw);
		env_config(lines);
		free(lines);
		r = CLI("status");
		ck_assert_msg(r.status == 2, "bad port: exit %d: %s", r.status, r.err);
		expect_no_password(&r, pw, "config password, bad port");
		run_free(&r);

		lines = xasprintf("driver = %s\nuser = app\npassword = %s\ncolour = blue\ndatabase = d.db\n", drv, pw);
		env_config(lines);
		free(lines);
		r = CLI("status");
		ck_assert_msg(r.status == 2, "unknown key: exit %d: %s", r.status, r.err);
		expect_no_password(&r, pw, "config password, unknown key");
		run_free(&r);

		lines = xasprintf("driver = %s\nuser = app\npassword = %s${MIGRATE_TEST_NOT_SET}\ndatabase = d.db\n", drv, pw);
		env_config(lines);
		free(lines);
		r = CLI("status");
		ck_assert_msg(r.status == 2, "expansion: exit %d: %s", r.status, r.err);
		expect_no_password(&r, pw, "config password, expansion error");
		run_free(&r);

		lines = xasprintf("driver = %s\nuser = app\npassword %s\ndatabase = d.db\n", drv, pw);
		env_config(lines);
		free(lines);
		r = CLI("status");
		ck_assert_msg(r.status == 2, "syntax error: exit %d: %s", r.status, r.err);
		expect_no_password(&r, pw, "config password, syntax error");
		run_free(&r);

		/* the URL, in the config, on the command line and in DATABASE_URL */
		u = xasprintf("%s://app:%s@127.0.0.1:notaport/db?colour=blue", is_mysql() ? "mysql" : "postgres", pw);
		lines = xasprintf("url = %s\n", u);
		env_config(lines);
		free(lines);
		r = CLI("status");
		ck_assert_msg(r.status == 2, "config url: exit %d: %s", r.status, r.err);
		expect_no_password(&r, pw, "config url");
		run_free(&r);
		r = CLI("--url", u, "status");
		ck_assert_msg(r.status == 2, "--url: exit %d: %s", r.status, r.err);
		expect_no_password(&r, pw, "--url");
		run_free(&r);
		env[0] = xasprintf("DATABASE_URL=%s", u);
		r = CLI_ENV((const char *const *)env, "status");
		ck_assert_msg(r.status == 2, "DATABASE_URL: exit %d: %s", r.status, r.err);
		expect_no_password(&r, pw, "DATABASE_URL");
		run_free(&r);
		free(env[0]);
		free(u);

		/* a server that refuses the password, or is not there */
		if (!is_sqlite()) {
			struct driver_settings *s = test_db_settings();
			struct strbuf lit = STRBUF_INIT; /* "${" written as the literal "$${" */
			const char *p;
			for (p = pw; *p; p++) {
				if (p[0] == '$' && p[1] == '{')
					strbuf_addch(&lit, '$');
				strbuf_addch(&lit, *p);
			}
			lines = xasprintf("driver = %s\nhost = %s\nport = %d\nuser = %s\npassword = \"%s\"\ndatabase = %s\n",
					  drv, s->host ? s->host : "127.0.0.1", s->port, s->user, strbuf_str(&lit), s->database);
			env_config(lines);
			free(lines);
			r = CLI("status");
			ck_assert_msg(r.status == 3, "wrong password: exit %d: %s", r.status, r.err);
			expect_no_password(&r, pw, "authentication failed");
			run_free(&r);
			lines = xasprintf("driver = %s\nhost = 127.0.0.1\nport = 1\nuser = app\npassword = \"%s\"\ndatabase = db\n",
					  drv, strbuf_str(&lit));
			strbuf_release(&lit);
			env_config(lines);
			free(lines);
			r = CLI("status");
			ck_assert_msg(r.status == 3, "unreachable: exit %d: %s", r.status, r.err);
			expect_no_password(&r, pw, "server unreachable");
			run_free(&r);
		}
	}
}
END_TEST

/* Is pid's command line (argv joined by spaces) free of needle, and already migrate's? */
static int cmdline_hides(pid_t pid, const char *needle, char *shown, size_t len)
{
	char path[64], buf[4096];
	ssize_t n, i;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	for (i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	snprintf(shown, len, "%s", buf);
	return strstr(buf, " wait") && !strstr(buf, needle);
}

START_TEST(a_url_password_is_blanked_in_the_command_line)
{
	static const char *const forms[][3] = {
		{ "--url", "postgres://app:Pq7secretWord@127.0.0.1:1/db", NULL },
		{ "--url=mysql://app:Pq7secretWord@127.0.0.1:1/db", NULL, NULL },
		{ "-u", "mysql://app:Pq7secretWord@127.0.0.1:1/db", NULL },
		{ "-upostgres://app:Pq7se@cr/etWord@127.0.0.1:1/db", NULL, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		const char *argv[8] = { forms[i][0] };
		char shown[4096] = "";
		long long until;
		size_t n = 1;
		pid_t pid;
		int code;

		if (forms[i][1])
			argv[n++] = forms[i][1];
		argv[n++] = "wait";
		argv[n++] = "--timeout";
		argv[n++] = "60";
		argv[n] = NULL;
		pid = (pid_t)start_migrate(proj, "wait.err", argv);
		until = mono_ms() + 10000;
		/* deterministic: the port is closed, so 'wait' retries until the signal */
		while (!cmdline_hides(pid, "etWord", shown, sizeof(shown))) {
			if (mono_ms() > until) {
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
				ck_abort_msg("form %zu: /proc/%d/cmdline still shows the password: %s", i, (int)pid, shown);
			}
			sleep_ms(20);
		}
		expect_in(shown, "app:xxxx", "cmdline");
		ck_assert_int_eq(kill(pid, SIGTERM), 0);
		code = wait_exit(pid, 20);
		ck_assert_msg(code == 143, "form %zu: exit %d", i, code);
	}
	/* the copy kept for the run still connects */
	if (!is_sqlite()) {
		struct run r = CLI("--url", url, "status");
		expect(&r, 0, "status with the password in --url");
		run_free(&r);
	}
}
END_TEST

/* ---- signals ----------------------------------------------------------------------- */

/* Polls until pid has taken sig (it is no longer pending), so a second one is not merged with it. */
static void wait_signal_taken(pid_t pid, int sig)
{
	long long until = mono_ms() + 10000;
	char path[64], buf[4096], *p;
	unsigned long long pending;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	for (;;) {
		fd = open(path, O_RDONLY);
		ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		ck_assert(n > 0);
		buf[n] = '\0';
		p = strstr(buf, "ShdPnd:");
		ck_assert(p != NULL);
		pending = strtoull(p + 7, NULL, 16);
		if (!(pending & (1ULL << (sig - 1))))
			return;
		ck_assert_msg(mono_ms() < until, "migrate did not take signal %d within 10 s", sig);
		sleep_ms(10);
	}
}

/*
 * The holder of what the migration waits for, on its own connection: PG's
 * pg_advisory_lock(key), MySQL's GET_LOCK(name). NULL on SQLite, whose
 * migration never ends by itself.
 */
struct hold {
	struct driver_conn *c;
	char *id;      /* the holder's server session (pid / connection id) */
	char key[64];  /* the lock key or name */
};

static void hold_take(struct hold *g)
{
	char sql[256];

	memset(g, 0, sizeof(*g));
	if (is_sqlite())
		return;
	g->c = test_connect();
	if (is_mysql()) {
		snprintf(g->key, sizeof(g->key), "gate_%d", (int)getpid());
		snprintf(sql, sizeof(sql), "SELECT GET_LOCK('%s', 0)", g->key);
		g->id = test_scalar(g->c, "SELECT CONNECTION_ID()");
	} else {
		snprintf(g->key, sizeof(g->key), "%d", 424200 + (int)(getpid() % 1000));
		snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%s)", g->key);
		g->id = test_scalar(g->c, "SELECT pg_backend_pid()");
	}
	free(test_scalar(g->c, sql));
}

static void hold_free(struct hold *g)
{
	if (g->c)
		test_driver()->close(g->c);
	free(g->id);
	memset(g, 0, sizeof(*g));
}

/* The statement of a migration that waits for the gate (or never ends, on SQLite). */
static char *held_statement(const struct hold *g)
{
	if (is_mysql())
		return xasprintf("DO GET_LOCK('%s', 60);", g->key);
	if (!is_sqlite())
		return xasprintf("SELECT pg_advisory_xact_lock(%s);", g->key);
	return xstrdup("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c;");
}

/* Polls until the migration's statement is running on the server. */
static void wait_until_held(const struct hold *g, int transactional)
{
	char *sql, *journal;

	if (is_mysql()) {
		sql = xasprintf("SELECT COUNT(*) FROM information_schema.processlist WHERE db = DATABASE() "
				"AND id <> CONNECTION_ID() AND info LIKE 'DO GET_LOCK(''%s''%%'", g->key);
	} else if (!is_sqlite()) {
		sql = xasprintf("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
				"AND wait_event_type = 'Lock' AND query LIKE 'SELECT pg_advisory_xact_lock(%s)%%'", g->key);
	} else if (!transactional) {
		/* the row is written running, then t_held is made: the endless statement is next */
		wait_for_value("SELECT COUNT(*) FROM sqlite_master WHERE name = 't_held'", "1", 20, "t_held");
		return;
	} else {
		/* the migration's transaction has written: its journal is there until it ends */
		wait_for_value("SELECT COUNT(*) FROM sqlite_master WHERE name = 'schema_migrations'", "1", 20,
			       "tracking table");
		journal = xasprintf("%s/test.db-journal", proj);
		wait_for_file(journal, 20);
		free(journal);
		return;
	}
	wait_for_value(sql, "1", 20, "the migration's statement waiting for the gate");
	free(sql);
}

/* After migrate exited: no session of it is left, and no run-wide lock. */
static void expect_nothing_left(const struct hold *g)
{
	char *sql;

	if (is_sqlite()) {
		char *lockpath = xasprintf("%s/test.db.migrate-lock", proj);
		int fd = open(lockpath, O_RDWR);
		if (fd >= 0) {
			ck_assert_msg(flock(fd, LOCK_EX | LOCK_NB) == 0, "the run-wide lock is still held");
			close(fd);
		}
		free(lockpath);
		return;
	}
	if (is_mysql()) {
		sql = xasprintf("SELECT COUNT(*) FROM information_schema.processlist WHERE db = DATABASE() "
				"AND id <> CONNECTION_ID() AND id <> %s",
				g->id);
		wait_for_value(sql, "0", 10, "sessions of migrate left on the server");
		free(sql);
		sql = xasprintf("SELECT COALESCE(IS_USED_LOCK('migrate:%s:schema_migrations'), 0)",
				test_db_settings()->database);
		wait_for_value(sql, "0", 10, "the run-wide lock");
	} else {
		sql = xasprintf("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
				"AND pid <> pg_backend_pid() AND pid <> %s",
				g->id);
		wait_for_value(sql, "0", 10, "sessions of migrate left on the server");
		free(sql);
		sql = xasprintf("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND pid <> %s", g->id);
		wait_for_value(sql, "0", 10, "the run-wide lock");
	}
	free(sql);
}

/*
 * A migration held in its second statement gets sig: migrate exits 128+sig
 * (SIGHUP: 143), leaves nothing running or locked, and the history says
 * the truth: no row where the database rolled back, 'failed' where it
 * could not. Then the next 'up' works.
 */
static void interrupt_case(int transactional, int sig)
{
	struct hold g;
	char *stmt, *text, *st, *err;
	struct run r;
	pid_t pid;
	int code, rolled_back = transactional && !is_mysql();

	hold_take(&g);
	stmt = held_statement(&g);
	text = xasprintf("-- migrate:up%s\nCREATE TABLE t_held (id INTEGER);\n%s\n-- migrate:down\nDROP TABLE t_held;\n",
			 transactional ? "" : " transaction:false", stmt);
	write_migration(proj, "1_held.sql", text);
	free(text);
	free(stmt);

	pid = SPAWN("up.err", "up");
	wait_until_held(&g, transactional);
	ck_assert_int_eq(kill(pid, sig), 0);
	code = wait_exit(pid, 30);
	err = read_text("up.err");
	ck_assert_msg(code == (sig == SIGINT ? 130 : 143), "exit %d after signal %d: %s", code, sig, err);
	expect_in(err, "interrupted", "stderr");
	expect_in(err, "1_held.sql:3", "stderr");
	expect_nothing_left(&g);

	st = history_status("1");
	if (rolled_back) {
		ck_assert_msg(st == NULL, "a rolled-back migration is recorded as '%s'", st);
		ck_assert_int_eq(db_table_exists("t_held"), 0);
	} else {
		ck_assert_msg(st && strcmp(st, "failed") == 0, "recorded as '%s', not failed: %s", st ? st : "nothing",
			      err);
		expect_in(err, "recorded as failed", "stderr");
	}
	free(st);
	free(err);

	/* put right by hand, then the next run works */
	hold_free(&g);
	if (is_sqlite())
		write_migration(proj, "1_held.sql",
				"-- migrate:up\nCREATE TABLE t_held (id INTEGER);\n-- migrate:down\nDROP TABLE t_held;\n");
	if (!rolled_back) {
		free(db_scalar("DROP TABLE IF EXISTS t_held"));
		r = CLI("repair");
		expect(&r, 0, "repair");
		run_free(&r);
	}
	r = CLI("up");
	expect(&r, 0, "up after the interrupt");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("t_held"), 1);
	st = history_status("1");
	ck_assert_str_eq(st, "applied");
	free(st);
}

START_TEST(sigint_cancels_a_transactional_migration)
{
	interrupt_case(1, SIGINT);
}
END_TEST

START_TEST(sigterm_records_a_transaction_false_migration_failed)
{
	interrupt_case(0, SIGTERM);
}
END_TEST

/* With --format json the error's code is the exit code: 143 for SIGTERM. */
START_TEST(an_interrupt_in_json_reports_the_exit_code)
{
	struct hold g;
	char *stmt, *text, *err;
	pid_t pid;
	int code;

	hold_take(&g);
	stmt = held_statement(&g);
	text = xasprintf("-- migrate:up transaction:false\nCREATE TABLE t_held (id INTEGER);\n%s\n-- migrate:down\nDROP TABLE t_held;\n",
			 stmt);
	write_migration(proj, "1_held.sql", text);
	free(text);
	free(stmt);
	pid = SPAWN("up.err", "--format", "json", "up");
	wait_until_held(&g, 0);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	code = wait_exit(pid, 30);
	err = read_text("up.err");
	ck_assert_msg(code == 143, "exit %d: %s", code, err);
	expect_in(err, "\"code\":143", "stderr");
	free(err);
	hold_free(&g);
}
END_TEST

START_TEST(sighup_is_handled_as_sigterm)
{
	interrupt_case(1, SIGHUP);
}
END_TEST

/*
 * The first signal's clean-up is held (the tracking row it must write is
 * locked by the test): a second signal ends migrate at once.
 */
START_TEST(a_second_signal_exits_at_once)
{
	struct hold g;
	struct driver_conn *rows;
	char *stmt, *text, *err;
	long long t0;
	pid_t pid;
	int code;

	hold_take(&g);
	stmt = held_statement(&g);
	text = xasprintf("-- migrate:up transaction:false\nCREATE TABLE t_held (id INTEGER);\n%s\n-- migrate:down\nDROP TABLE t_held;\n",
			 stmt);
	write_migration(proj, "1_held.sql", text);
	free(text);
	free(stmt);
	pid = SPAWN("up.err", "up");
	wait_until_held(&g, 0);
	/* hold the tracking row, so recording the failure waits */
	rows = test_connect();
	free(test_scalar(rows, is_sqlite() ? "BEGIN IMMEDIATE" : "BEGIN"));
	if (!is_sqlite())
		free(test_scalar(rows, "SELECT status FROM schema_migrations WHERE version = '1' FOR UPDATE"));
	ck_assert_int_eq(kill(pid, SIGINT), 0);
	wait_signal_taken(pid, SIGINT);
	if (is_mysql())
		wait_for_value("SELECT COUNT(*) FROM information_schema.processlist WHERE db = DATABASE() "
			       "AND info LIKE 'UPDATE%schema_migrations%'",
			       "1", 20, "the failure's UPDATE waiting");
	else if (!is_sqlite())
		wait_for_value("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
			       "AND wait_event_type = 'Lock' AND query LIKE 'UPDATE%schema_migrations%'",
			       "1", 20, "the failure's UPDATE waiting");
	t0 = mono_ms(); /* on SQLite the clean-up waits for the test's write lock, unseen */
	ck_assert_int_eq(kill(pid, SIGINT), 0);
	code = wait_exit(pid, 5);
	err = read_text("up.err");
	ck_assert_msg(code == 130, "exit %d after two signals: %s", code, err);
	ck_assert_msg(mono_ms() - t0 < 4000, "the second signal took %lld ms", mono_ms() - t0);
	free(err);
	test_driver()->close(rows);
	hold_free(&g);
}
END_TEST

/* A run waiting for the run-wide lock stops at once on a signal; the holder goes on. */
START_TEST(a_signal_stops_a_run_waiting_for_the_lock)
{
	struct hold g;
	char *stmt, *text, *err;
	pid_t first, second;
	int code;

	hold_take(&g);
	stmt = held_statement(&g);
	text = xasprintf("-- migrate:up transaction:false\nCREATE TABLE t_held (id INTEGER);\n%s\n-- migrate:down\nDROP TABLE t_held;\n",
			 stmt);
	write_migration(proj, "1_held.sql", text);
	free(text);
	free(stmt);
	first = SPAWN("first.err", "up");
	wait_until_held(&g, 0);
	second = SPAWN("second.err", "up");
	wait_for_text(proj, "second.err", "waiting up to", 20);
	ck_assert_int_eq(kill(second, SIGINT), 0);
	code = wait_exit(second, 10);
	err = read_text("second.err");
	ck_assert_msg(code == 130, "the waiting run exited %d: %s", code, err);
	expect_in(err, "interrupted while waiting for the migration lock", "stderr");
	free(err);
	/* the holder was not disturbed */
	ck_assert_int_eq(kill(first, 0), 0);
	ck_assert_int_eq(kill(first, SIGTERM), 0);
	code = wait_exit(first, 30);
	ck_assert_int_eq(code, 143);
	hold_free(&g);
}
END_TEST

/*
 * SQLite: a statement waiting for another process's write lock (here with
 * the migration's own PRAGMA busy_timeout of an hour) stops on a signal,
 * though sqlite3_interrupt alone does not end a busy wait.
 */
START_TEST(a_signal_stops_a_sqlite_statement_waiting_for_a_lock)
{
	struct gate *g;
	char *text, *err, *st;
	pid_t pid;
	int code;

	if (!is_sqlite())
		return; /* the servers' lock waits: the signals tests above */
	g = gate_hold(proj, 0);
	text = xasprintf("-- migrate:up transaction:false\nCREATE TABLE t_before (id INTEGER);\n%s\n"
			 "-- migrate:down\nDROP TABLE t_before;\n",
			 gate_sql(g));
	write_migration(proj, "1_gated.sql", text);
	free(text);
	pid = SPAWN("up.err", "up");
	gate_wait(g, pid, "t_before", 20);
	ck_assert_int_eq(kill(pid, SIGINT), 0);
	code = wait_exit(pid, 20);
	err = read_text("up.err");
	ck_assert_msg(code == 130, "exit %d: %s", code, err);
	expect_in(err, "interrupted", "stderr");
	free(err);
	gate_release(g);
	st = history_status("1");
	ck_assert_msg(st && strcmp(st, "failed") == 0, "recorded as '%s'", st ? st : "nothing");
	free(st);
}
END_TEST

/* ---- the session moved ------------------------------------------------------------------ */

/*
 * Migrations that move their session (SET search_path, a pg_dump-style
 * set_config, USE): the history stays where it was, the next run finds
 * nothing to do, and the next migration starts in the original schema.
 */
START_TEST(a_migration_that_moves_its_session_does_not_move_the_history)
{
	char *other = NULL, *sql, *v;
	struct run r;

	if (is_sqlite())
		return; /* one namespace per connection: ATTACH never moves "main" */
	if (is_mysql()) {
		other = xasprintf("%s_other", test_db_settings()->database);
		sql = xasprintf("-- migrate:up\nCREATE DATABASE %s;\nUSE %s;\nCREATE TABLE t_moved (id INTEGER);\n"
				"-- migrate:down\nDROP DATABASE %s;\n",
				other, other, other);
		write_migration(proj, "1_use.sql", sql);
		free(sql);
	} else {
		write_migration(proj, "1_tenant.sql",
				"-- migrate:up\nCREATE SCHEMA tenant;\nSET search_path TO tenant, public;\n"
				"CREATE TABLE t_moved (id INTEGER);\n-- migrate:down\nDROP SCHEMA tenant CASCADE;\n");
		/* as pg_dump writes it; psql applies it */
		write_migration(proj, "2_dump.sql",
				"-- migrate:up\nSELECT pg_catalog.set_config('search_path', '', false);\n"
				"CREATE TABLE public.t_dumped (id INTEGER);\n-- migrate:down\nDROP TABLE public.t_dumped;\n");
		write_migration(proj, "3_tf.sql",
				"-- migrate:up transaction:false\nSET search_path TO tenant;\nCREATE TABLE t_tf (id INTEGER);\n"
				"-- migrate:down transaction:false\nDROP TABLE tenant.t_tf;\n");
	}
	write_migration(proj, "4_after.sql", "-- migrate:up\nCREATE TABLE t_after (id INTEGER);\n-- migrate:down\nDROP TABLE t_after;\n");
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	/* the history is where it was, complete; the other schema has none */
	v = db_scalar("SELECT COUNT(*) FROM schema_migrations WHERE status = 'applied'");
	ck_assert_str_eq(v, is_mysql() ? "2" : "4");
	free(v);
	if (is_mysql()) {
		sql = xasprintf("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '%s' "
				"AND table_name = 'schema_migrations'", other);
		v = db_scalar(sql);
		free(sql);
	} else {
		v = db_scalar("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'tenant' AND tablename = 'schema_migrations'");
	}
	ck_assert_str_eq(v, "0");
	free(v);
	/* the migration after them ran in the original schema */
	ck_assert_int_eq(db_table_exists("t_after"), 1);
	r = CLI("status", "--check");
	expect(&r, 0, "status --check");
	run_free(&r);
	r = CLI("up");
	expect(&r, 0, "up again");
	expect_in(r.out, "nothing to migrate", "stdout");
	run_free(&r);
	if (!is_mysql()) {
		/*
		 * A schema that now comes first on the search path ("$user")
		 * does not hide the history where it is.
		 */
		char *user = db_scalar("SELECT current_user");
		sql = xasprintf("CREATE SCHEMA \"%s\"", user);
		free(db_scalar(sql));
		free(sql);
		v = db_scalar("SELECT current_schema()");
		ck_assert_str_eq(v, user);
		free(v);
		free(user);
		r = CLI("up");
		expect(&r, 0, "up with a $user schema");
		expect_in(r.out, "nothing to migrate", "stdout");
		run_free(&r);
	}
	r = CLI("down", "--all");
	expect(&r, 0, "down --all");
	run_free(&r);
	v = db_scalar("SELECT COUNT(*) FROM schema_migrations");
	ck_assert_str_eq(v, "0");
	free(v);
	if (other) {
		sql = xasprintf("DROP DATABASE IF EXISTS %s", other);
		free(db_scalar(sql));
		free(sql);
		free(other);
	}
}
END_TEST

/*
 * A tracking UPDATE that finds no row (here the migration deleted its own
 * row) is an error naming the migration, never a silent success.
 */
START_TEST(a_tracking_write_that_finds_no_row_is_an_error)
{
	struct run r;

	write_migration(proj, "1_selfish.sql",
			"-- migrate:up transaction:false\nCREATE TABLE t_selfish (id INTEGER);\n"
			"DELETE FROM schema_migrations WHERE version = '1';\n-- migrate:down\nDROP TABLE t_selfish;\n");
	r = CLI("up");
	expect(&r, 1, "up");
	expect_in(r.err, "cannot record migration 1 (selfish) as applied", "stderr");
	expect_in(r.err, "0 rows", "stderr");
	run_free(&r);
}
END_TEST

/* ---- hand-edited history ---------------------------------------------------------- */

static void expect_refused(const char *const *argv, const char *needle)
{
	struct run r = run_migrate(proj, NULL, argv);

	ck_assert_msg(r.status == 1, "'%s': exit %d, expected 1\nstdout: %s\nstderr: %s", argv[0], r.status, r.out,
		      r.err);
	expect_in(r.err, needle, argv[0]);
	expect_in(r.err, "never guesses", argv[0]);
	run_free(&r);
}

#define REFUSED(needle, ...) expect_refused((const char *const[]){ __VA_ARGS__, NULL }, needle)

START_TEST(a_history_edited_by_hand_is_refused_not_guessed)
{
	struct run r;
	char *v;

	write_migration(proj, "1_one.sql", "-- migrate:up\nCREATE TABLE t_one (id INTEGER);\n-- migrate:down\nDROP TABLE t_one;\n");
	write_migration(proj, "2_two.sql", "-- migrate:up\nCREATE TABLE t_two (id INTEGER);\n-- migrate:down\nDROP TABLE t_two;\n");
	write_migration(proj, "3_three.sql", "-- migrate:up\nCREATE TABLE t_three (id INTEGER);\n-- migrate:down\nDROP TABLE t_three;\n");
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);

	/* a status migrate never writes */
	free(db_scalar("UPDATE schema_migrations SET status = 'done' WHERE version = '3'"));
	REFUSED("status 'done'", "validate");
	REFUSED("status 'done'", "status", "--check");
	REFUSED("status 'done'", "down");
	REFUSED("status 'done'", "up");
	REFUSED("status 'done'", "redo");
	REFUSED("status 'done'", "repair");
	REFUSED("status 'done'", "baseline", "2");
	ck_assert_int_eq(db_table_exists("t_three"), 1);
	free(db_scalar("UPDATE schema_migrations SET status = 'applied' WHERE version = '3'"));

	/* a version that is not one: no file matches it, so down would run its stored down_sql */
	free(db_scalar("UPDATE schema_migrations SET version = ' 3' WHERE version = '3'"));
	REFUSED("version ' 3' (three) is not a version", "down");
	REFUSED("version ' 3' (three) is not a version", "validate");
	REFUSED("version ' 3' (three) is not a version", "status", "--check");
	REFUSED("version ' 3' (three) is not a version", "up");
	REFUSED("version ' 3' (three) is not a version", "repair");
	ck_assert_int_eq(db_table_exists("t_three"), 1);
	free(db_scalar("UPDATE schema_migrations SET version = 'abc' WHERE version = ' 3'"));
	REFUSED("version 'abc' (three) is not a version", "down", "--all");
	ck_assert_int_eq(db_table_exists("t_three"), 1);
	ck_assert_int_eq(db_table_exists("t_one"), 1);
	free(db_scalar("UPDATE schema_migrations SET version = '3' WHERE version = 'abc'"));

	/* one version twice: "03" beside "3" */
	free(db_scalar("INSERT INTO schema_migrations SELECT '03', name, checksum, checksum_sql, down_sql, "
		       "applied_at, duration_ms, status FROM schema_migrations WHERE version = '3'"));
	REFUSED("version '03' (three, applied) and '3' (three, applied)", "down", "2");
	REFUSED("recorded 2 times", "validate");
	REFUSED("recorded 2 times", "status", "--check");
	REFUSED("recorded 2 times", "up");
	/* nothing was rolled back */
	ck_assert_int_eq(db_table_exists("t_three"), 1);
	ck_assert_int_eq(db_table_exists("t_two"), 1);
	v = db_scalar("SELECT COUNT(*) FROM schema_migrations");
	ck_assert_str_eq(v, "4");
	free(v);

	/* put right by hand: everything works again */
	free(db_scalar("DELETE FROM schema_migrations WHERE version = '03'"));
	r = CLI("down", "2");
	expect(&r, 0, "down 2 after the repair by hand");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("t_three"), 0);
	ck_assert_int_eq(db_table_exists("t_two"), 0);
	ck_assert_int_eq(db_table_exists("t_one"), 1);
}
END_TEST

/*
 * The tracking table named in another case (table = Schema_Migrations) is
 * the same table where the database's names are case-insensitive (SQLite),
 * and another history where they are not (PostgreSQL quoted names, MySQL
 * with lower_case_table_names=0): on SQLite it used to be "not there", so
 * status showed everything pending and up failed creating it. A CSV seed's
 * table is found in any case the same way.
 */
START_TEST(a_tracking_table_named_in_another_case)
{
	struct run r;
	char *v;

	write_migration(proj, "1_one.sql", "-- migrate:up\nCREATE TABLE t_one (id INTEGER);\n-- migrate:down\nDROP TABLE t_one;\n");
	write_migration(proj, "2_two.sql", "-- migrate:up\nCREATE TABLE t_two (id INTEGER);\n-- migrate:down\nDROP TABLE t_two;\n");
	r = CLI("up", "--to", "1");
	expect(&r, 0, "up --to 1");
	run_free(&r);
	project_config(proj, url, 20, "table = Schema_Migrations", NULL);
	if (!is_sqlite()) {
		/* another table, another history: nothing applied in it */
		r = CLI("status");
		expect(&r, 0, "status");
		expect_in(r.out, "(0 applied, 2 pending)", "stdout");
		run_free(&r);
		return;
	}
	r = CLI("status");
	expect(&r, 0, "status");
	expect_in(r.out, "(1 applied, 1 pending)", "stdout");
	run_free(&r);
	r = CLI("up");
	expect(&r, 0, "up");
	expect_in(r.out, "applied     2 two", "stdout");
	run_free(&r);
	v = db_scalar("SELECT COUNT(*) FROM schema_migrations");
	ck_assert_str_eq(v, "2");
	free(v);
	write_file(proj, "seeds/1_T_ONE.csv", "id\n7\n");
	r = CLI("seed");
	expect(&r, 0, "seed into T_ONE");
	run_free(&r);
	ck_assert_int_eq(db_count("t_one"), 1);
}
END_TEST

/* ---- messages ------------------------------------------------------------------------ */

/*
 * The connection is lost while migrate writes a migration's tracking row
 * (the test holds the row, then ends migrate's session on the server): the
 * message names the migration and the state it is left in, and shows
 * neither the INSERT/UPDATE nor its parameters.
 */
START_TEST(a_connection_lost_at_the_tracking_row_names_the_migration)
{
	struct hold g;
	struct driver_conn *rows;
	char *stmt, *text, *err, *sql, *pid_sql, *pid;
	pid_t mig;
	int code;

	if (is_sqlite())
		return; /* no server to lose */
	hold_take(&g);
	stmt = held_statement(&g);
	text = xasprintf("-- migrate:up transaction:false\nCREATE TABLE t_lost (id INTEGER);\n%s\n-- migrate:down\nDROP TABLE t_lost;\n",
			 stmt);
	write_migration(proj, "1_lost.sql", text);
	free(text);
	free(stmt);
	mig = SPAWN("up.err", "up");
	wait_until_held(&g, 0);
	/* migrate's session, while it is still the one waiting at the gate */
	if (is_mysql())
		pid_sql = xasprintf("SELECT id FROM information_schema.processlist WHERE db = DATABASE() "
				    "AND info LIKE 'DO GET_LOCK(''%s''%%'", g.key);
	else
		pid_sql = xasprintf("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
				    "AND query LIKE 'SELECT pg_advisory_xact_lock(%s)%%'", g.key);
	pid = db_scalar(pid_sql);
	free(pid_sql);
	ck_assert_msg(pid != NULL, "migrate's session is not there");
	/* hold its row, then let the migration's statement finish: the UPDATE to applied waits */
	rows = test_connect();
	free(test_scalar(rows, is_mysql() ? "START TRANSACTION" : "BEGIN"));
	free(test_scalar(rows, "SELECT status FROM schema_migrations WHERE version = '1' FOR UPDATE"));
	hold_free(&g);
	if (is_mysql())
		sql = xasprintf("SELECT COUNT(*) FROM information_schema.processlist WHERE id = %s "
				"AND info LIKE 'UPDATE%%schema_migrations%%'", pid);
	else
		sql = xasprintf("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock' "
				"AND query LIKE 'UPDATE%%schema_migrations%%'", pid);
	wait_for_value(sql, "1", 20, "the UPDATE to applied waiting for the row");
	free(sql);
	sql = is_mysql() ? xasprintf("KILL %s", pid) : xasprintf("SELECT pg_terminate_backend(%s)", pid);
	free(test_scalar(rows, sql));
	free(sql);
	code = wait_exit(mig, 30);
	test_driver()->close(rows);
	err = read_text("up.err");
	ck_assert_msg(code == 1, "exit %d: %s", code, err);
	expect_in(err, "cannot record migration 1 (lost) as applied", "stderr");
	expect_in(err, "stays recorded as running", "stderr");
	ck_assert_msg(!strstr(err, "$1") && !strstr(err, "?") && !strstr(err, "SET "),
		      "the message shows migrate's SQL: %s", err);
	free(err);
	free(pid);
}
END_TEST

/*
 * A foreign key blocks 'seed --undo': the database's message comes first,
 * and migrate's DELETE with its list of bound keys is not shown.
 */
START_TEST(a_blocked_seed_undo_puts_the_database_message_first)
{
	struct strbuf csv = STRBUF_INIT;
	struct run r;
	const char *line;
	int i;

	write_migration(proj, "1_parents.sql",
			"-- migrate:up\nCREATE TABLE parents (id INTEGER PRIMARY KEY);\n"
			"CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parents (id));\n"
			"-- migrate:down\nDROP TABLE children;\nDROP TABLE parents;\n");
	strbuf_addstr(&csv, "id\n");
	for (i = 1; i <= 300; i++)
		strbuf_addf(&csv, "%d\n", i);
	write_file(proj, "seeds/01_parents.csv", strbuf_str(&csv));
	strbuf_release(&csv);
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	r = CLI("seed");
	expect(&r, 0, "seed");
	run_free(&r);
	free(db_scalar("INSERT INTO children (id, parent_id) VALUES (1, 150)"));
	r = CLI("seed", "--undo");
	expect(&r, 1, "seed --undo blocked by a foreign key");
	line = strstr(r.err, "migrate: error: ");
	ck_assert_msg(line != NULL, "%s", r.err);
	line += strlen("migrate: error: ");
	ck_assert_msg(strstr(line, pick("FOREIGN KEY constraint failed", "violates foreign key constraint",
				       "foreign key constraint fails")) != NULL,
		      "no database message: %s", r.err);
	ck_assert_msg(!strstr(r.err, "$1") && !strstr(r.err, "?, ?") && !strstr(r.err, " IN ("),
		      "the message shows the bound SQL: %s", r.err);
	ck_assert_msg(strlen(r.err) < 600, "a %zu-byte message: %s", strlen(r.err), r.err);
	run_free(&r);
	ck_assert_int_eq(db_count("parents"), 300);
}
END_TEST

/*
 * A seed whose recording fails (a CHECK the test puts on schema_seeds) or
 * whose COMMIT fails (a deferred foreign key): the database's message names
 * no seed, so migrate says which seed and what is left of it. The same for
 * an undo that fails at its COMMIT.
 */
START_TEST(a_seed_failing_at_its_record_or_commit_is_named)
{
	struct run r;
	char *path;

	write_migration(proj, "1_seeded.sql",
			"-- migrate:up\nCREATE TABLE t_seeded (id INTEGER PRIMARY KEY);\n"
			"-- migrate:down\nDROP TABLE t_seeded;\n");
	write_file(proj, "seeds/1_t_seeded.csv", "id\n1\n");
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	r = CLI("seed");
	expect(&r, 0, "seed");
	run_free(&r);

	/* the tracking row cannot be written: a CSV seed, then a SQL seed */
	free(db_scalar(pick("CREATE TRIGGER guard BEFORE INSERT ON schema_seeds BEGIN SELECT RAISE(ABORT, 'no more seeds'); END",
			    "ALTER TABLE schema_seeds ADD CONSTRAINT guard CHECK (name = '1_t_seeded.csv')",
			    "ALTER TABLE schema_seeds ADD CONSTRAINT guard CHECK (name = '1_t_seeded.csv')")));
	write_file(proj, "seeds/2_t_seeded.csv", "id\n2\n");
	r = CLI("seed");
	expect(&r, 1, "seed whose row cannot be recorded");
	expect_in(r.err, "; seed seeds/2_t_seeded.csv was rolled back: none of its rows were kept and it is still pending",
		  "stderr");
	run_free(&r);
	path = path_join(proj, "seeds/2_t_seeded.csv");
	ck_assert_int_eq(unlink(path), 0);
	free(path);
	write_file(proj, "seeds/3_more.sql", "-- migrate:up\nINSERT INTO t_seeded (id) VALUES (3);\n"
					      "-- migrate:down\nDELETE FROM t_seeded WHERE id = 3;\n");
	r = CLI("seed");
	expect(&r, 1, "SQL seed whose row cannot be recorded");
	expect_in(r.err, "; seed seeds/3_more.sql was rolled back: none of its rows were kept and it is still pending",
		  "stderr");
	run_free(&r);
	ck_assert_int_eq(db_count("t_seeded"), 1);
	ck_assert_int_eq(db_count("schema_seeds"), 1);
	path = path_join(proj, "seeds/3_more.sql");
	ck_assert_int_eq(unlink(path), 0);
	free(path);
	if (is_mysql())
		return; /* MySQL has no deferred constraints, so nothing fails at COMMIT */

	/* COMMIT refused: a deferred foreign key, at a load and at an undo */
	free(db_scalar(pick("DROP TRIGGER guard", "ALTER TABLE schema_seeds DROP CONSTRAINT guard", "")));
	write_migration(proj, "2_child.sql",
			"-- migrate:up\nCREATE TABLE t_child (id INTEGER PRIMARY KEY, seeded_id INTEGER "
			"REFERENCES t_seeded (id) DEFERRABLE INITIALLY DEFERRED);\n-- migrate:down\nDROP TABLE t_child;\n");
	r = CLI("up");
	expect(&r, 0, "up 2");
	run_free(&r);
	write_file(proj, "seeds/4_t_child.csv", "id,seeded_id\n1,99\n");
	r = CLI("seed");
	expect(&r, 1, "seed refused at COMMIT");
	expect_in(r.err, "COMMIT", "stderr");
	expect_in(r.err, "; seed seeds/4_t_child.csv was rolled back: none of its rows were kept and it is still pending",
		  "stderr");
	run_free(&r);
	ck_assert_int_eq(db_count("t_child"), 0);
	path = path_join(proj, "seeds/4_t_child.csv");
	ck_assert_int_eq(unlink(path), 0);
	free(path);
	free(db_scalar("INSERT INTO t_child (id, seeded_id) VALUES (1, 1)"));
	r = CLI("seed", "--undo");
	expect(&r, 1, "seed --undo refused at COMMIT");
	expect_in(r.err, "COMMIT", "stderr");
	expect_in(r.err, "; the undo of seed 1_t_seeded.csv was rolled back: its rows are kept and it is still applied",
		  "stderr");
	run_free(&r);
	ck_assert_int_eq(db_count("t_seeded"), 1);
	ck_assert_int_eq(db_count("schema_seeds"), 1);
}
END_TEST

/*
 * stdout's reader is gone before migrate writes (`migrate up | head -1`, a
 * log collector that died): every driver finishes the run and exits 1
 * saying why, rather than dying by SIGPIPE between two migrations on some
 * drivers (the MySQL client library ignores SIGPIPE; the others did not).
 */
START_TEST(a_closed_stdout_neither_kills_the_run_nor_passes)
{
	const char *bin = getenv("MIGRATE_BIN");
	int fds[2], status, i;
	char *err;
	pid_t pid;

	for (i = 1; i <= 3; i++) {
		char name[32], text[160];
		snprintf(name, sizeof(name), "%d_t%d.sql", i, i);
		snprintf(text, sizeof(text), "-- migrate:up\nCREATE TABLE t_%d (id INTEGER);\n-- migrate:down\nDROP TABLE t_%d;\n",
			 i, i);
		write_migration(proj, name, text);
	}
	ck_assert_msg(bin && *bin, "MIGRATE_BIN is not set (run the tests through tests/run.sh)");
	ck_assert_int_eq(pipe(fds), 0);
	close(fds[0]); /* no reader: the first write fails */
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		int errfd;
		if (chdir(proj) != 0)
			_exit(126);
		errfd = open("closed.err", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (errfd < 0)
			_exit(126);
		dup2(fds[1], 1);
		dup2(errfd, 2);
		signal(SIGPIPE, SIG_DFL); /* as from a shell */
		setenv("NO_COLOR", "1", 1);
		unsetenv("DATABASE_URL");
		execl(bin, bin, "up", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	err = read_text("closed.err");
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1, "up with stdout closed: %s %d\nstderr: %s",
		      WIFEXITED(status) ? "exit" : "killed by signal",
		      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), err);
	expect_in(err, "cannot write to standard output: Broken pipe", "stderr");
	free(err);
	ck_assert_int_eq(db_table_exists("t_3"), 1);
	ck_assert_int_eq(db_count("schema_migrations"), 3);
}
END_TEST

/* ---- files ------------------------------------------------------------------------ */

/*
 * A tmpfs this test mounted, unmounted by teardown_files when the test
 * passes (a failed test runs no teardown: tests unmount before asserting).
 */
static char *mounted;

static void teardown_files(void)
{
	if (mounted) {
		if (umount2(mounted, MNT_DETACH) != 0)
			fprintf(stderr, "umount %s: %s\n", mounted, strerror(errno));
		free(mounted);
		mounted = NULL;
	}
	teardown();
}

/* Mounts a tmpfs of size kb at proj/name (needs root, as the harness has). */
static char *mount_tmpfs(const char *name, int kb)
{
	char *dir = path_join(proj, name), opts[32];

	ck_assert_int_eq(mkdir(dir, 0777), 0);
	snprintf(opts, sizeof(opts), "size=%dk", kb);
	ck_assert_msg(mount("tmpfs", dir, "tmpfs", 0, opts) == 0,
		      "cannot mount a tmpfs at %s: %s (the file-system tests need root)", dir, strerror(errno));
	mounted = xstrdup(dir);
	return dir;
}

static void remount(const char *dir, int read_only)
{
	ck_assert_msg(mount(NULL, dir, NULL, MS_REMOUNT | (read_only ? MS_RDONLY : 0), NULL) == 0,
		      "remount %s: %s", dir, strerror(errno));
}

START_TEST(a_missing_migrations_directory_is_an_error)
{
	struct run r;
	char *dir;

	r = CLI("--migrations-dir", "migrationz", "up");
	expect(&r, 2, "a mistyped --migrations-dir");
	expect_in(r.err, "migrations directory 'migrationz' does not exist", "stderr");
	run_free(&r);
	project_config(proj, url, 20, "migrations_dir = migs", NULL);
	r = CLI("status");
	expect(&r, 2, "migrations_dir in the config");
	expect_in(r.err, "'migs' does not exist", "stderr");
	run_free(&r);
	project_config(proj, url, 20, NULL, NULL);
	dir = path_join(proj, "migrations");
	rm_rf(dir);
	r = CLI("up");
	expect(&r, 2, "the default directory");
	expect_in(r.err, "migrations' does not exist", "stderr");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("schema_migrations"), 0);
	/* 'new' makes it */
	r = CLI("new", "first");
	expect(&r, 0, "new");
	run_free(&r);
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	free(dir);

	/* a file where the directory should be */
	write_file(proj, "notadir", "");
	r = CLI("--migrations-dir", "notadir", "status");
	expect(&r, 2, "--migrations-dir naming a file");
	expect_in(r.err, "migrations directory 'notadir' is not a directory", "stderr");
	run_free(&r);

	/* the same for seeds: a mistyped --seeds-dir is not "every seed is applied" */
	r = CLI("--seeds-dir", "seedz", "seed");
	expect(&r, 2, "a mistyped --seeds-dir");
	expect_in(r.err, "seeds directory 'seedz' does not exist", "stderr");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("schema_seeds"), 0);
	project_config(proj, url, 20, "seeds_dir = seedz", NULL);
	r = CLI("seed", "--rerun");
	expect(&r, 2, "seeds_dir in the config");
	expect_in(r.err, "seeds directory 'seedz' does not exist", "stderr");
	run_free(&r);
	r = CLI("--seeds-dir", "notadir", "seed");
	expect(&r, 2, "--seeds-dir naming a file");
	expect_in(r.err, "seeds directory 'notadir' is not a directory", "stderr");
	run_free(&r);
	/* an undo works from the records in the database, and status lists what there is */
	r = CLI("seed", "--undo");
	expect(&r, 0, "seed --undo without the directory");
	run_free(&r);
	r = CLI("status");
	expect(&r, 0, "status without a seeds directory");
	run_free(&r);
}
END_TEST

START_TEST(a_read_only_sqlite_file_system_is_a_failed_run)
{
	struct run r[4];
	char *dir, *u, *lock;
	int i;

	if (!is_sqlite())
		return;
	dir = mount_tmpfs("ro", 1024);
	u = xasprintf("sqlite:%s/ro.db", dir);
	lock = xasprintf("%s/ro.db.migrate-lock", dir);
	write_migration(proj, "1_one.sql", "-- migrate:up\nCREATE TABLE t_one (id INTEGER);\n-- migrate:down\nDROP TABLE t_one;\n");
	r[0] = CLI("--url", u, "up");
	write_migration(proj, "2_two.sql", "-- migrate:up\nCREATE TABLE t_two (id INTEGER);\n-- migrate:down\nDROP TABLE t_two;\n");
	remount(dir, 1);
	r[1] = CLI("--url", u, "status");
	r[2] = CLI("--url", u, "up");
	remount(dir, 0);
	unlink(lock);
	remount(dir, 1);
	r[3] = CLI("--url", u, "up");
	/* unmounted before any assertion: a failed test runs no teardown */
	ck_assert_msg(umount2(dir, MNT_DETACH) == 0, "umount %s: %s", dir, strerror(errno));
	free(mounted);
	mounted = NULL;
	expect(&r[0], 0, "up");
	expect(&r[1], 0, "status on a read-only file system");
	expect(&r[2], 1, "up on a read-only file system (the lock file there)");
	expect_in(r[2].err, "readonly", "stderr");
	expect(&r[3], 1, "up on a read-only file system (no lock file)");
	expect_in(r[3].err, "Read-only file system", "stderr");
	expect_in(r[3].err, "must be writable", "stderr");
	for (i = 0; i < 4; i++)
		run_free(&r[i]);
	free(lock);
	free(u);
	free(dir);
}
END_TEST

START_TEST(commands_that_read_never_create_a_sqlite_file)
{
	static const char *const cmds[] = { "status", "validate", "version", "dump" };
	struct run r;
	char *path;
	size_t i;

	if (!is_sqlite())
		return;
	path = path_join(proj, "typo.db");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		r = CLI("--url", "sqlite:typo.db", cmds[i]);
		ck_assert_msg(r.status == 3, "%s: exit %d: %s", cmds[i], r.status, r.err);
		expect_in(r.err, "no database", cmds[i]);
		run_free(&r);
		ck_assert_msg(access(path, F_OK) != 0, "%s created %s", cmds[i], path);
	}
	r = CLI("--url", "sqlite:typo.db", "up");
	expect(&r, 0, "up creates it");
	run_free(&r);
	ck_assert_int_eq(access(path, F_OK), 0);
	free(path);
}
END_TEST

START_TEST(the_sqlite_lock_covers_a_path_through_a_symlink)
{
	char *real, *link_path, *lockpath;
	struct run r;
	int fd;

	if (!is_sqlite())
		return;
	write_migration(proj, "1_one.sql", "-- migrate:up\nCREATE TABLE t_one (id INTEGER);\n-- migrate:down\nDROP TABLE t_one;\n");
	real = path_join(proj, "test.db");
	link_path = path_join(proj, "link.db");
	ck_assert_int_eq(symlink(real, link_path), 0);
	/* a run through the real path holds the lock (the test stands in for it) */
	lockpath = xasprintf("%s.migrate-lock", real);
	fd = open(lockpath, O_RDWR | O_CREAT, 0666);
	ck_assert(fd >= 0);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
	r = CLI("--url", "sqlite:link.db", "--lock-timeout", "0", "up");
	expect(&r, 4, "up through the symlink while the lock is held");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("t_one"), 0);
	close(fd);
	r = CLI("--url", "sqlite:link.db", "up");
	expect(&r, 0, "up through the symlink");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("t_one"), 1);
	free(lockpath);
	free(real);
	free(link_path);
}
END_TEST

/*
 * A config line over iniparser's 1,023 characters: a long value loads (a
 * long password, a long placeholder); a long line that is not key = value
 * is an error naming file:line.
 */
/*
 * Config files that are not files: /dev/zero (read until memory ran out),
 * a directory (said it had no [development] section), a NUL byte (iniparser
 * dropped the rest of the line unseen), and a pipe (--config <(...), or
 * /dev/stdin: read twice, so loaded empty).
 */
START_TEST(config_files_that_are_not_files)
{
	const char *bin = getenv("MIGRATE_BIN");
	struct run r;
	char *cmd, *out;
	int st;

	r = CLI("--config", "/dev/zero", "status");
	expect(&r, 2, "--config /dev/zero");
	expect_in(r.err, "cannot read config file '/dev/zero': larger than 1 MiB", "stderr");
	run_free(&r);
	r = CLI("--config", "migrations", "status");
	expect(&r, 2, "--config naming a directory");
	expect_in(r.err, "cannot read config file 'migrations': Is a directory", "stderr");
	run_free(&r);
	{
		static const char nul_ini[] = "[migrate]\nlock_timeout = 5\n[development]\nlock_timeout = 7\0 ; url = x\n";
		char *path = path_join(proj, "nul.ini");
		FILE *f = fopen(path, "wb");
		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(fwrite(nul_ini, 1, sizeof(nul_ini) - 1, f), sizeof(nul_ini) - 1);
		ck_assert_int_eq(fclose(f), 0);
		free(path);
	}
	r = CLI("--config", "nul.ini", "status");
	expect(&r, 2, "a config file with a NUL byte");
	expect_in(r.err, "nul.ini:4: a NUL byte", "stderr");
	run_free(&r);

	write_migration(proj, "1_one.sql", "-- migrate:up\nCREATE TABLE t_one (id INTEGER);\n-- migrate:down\nDROP TABLE t_one;\n");
	ck_assert_msg(bin && *bin, "MIGRATE_BIN is not set (run the tests through tests/run.sh)");
	cmd = xasprintf("cd '%s' && printf '[development]\\nurl = %%s\\nmigrations_dir = %%s/migrations\\n' '%s' '%s' | "
			"NO_COLOR=1 '%s' --config /dev/stdin up > pipe.out 2>&1",
			proj, url, proj, bin);
	st = system(cmd);
	free(cmd);
	out = read_text("pipe.out");
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "up --config /dev/stdin exited %d: %s", st, out);
	expect_in(out, "applied     1 one", "output");
	free(out);
	ck_assert_int_eq(db_table_exists("t_one"), 1);
}
END_TEST

START_TEST(long_config_lines)
{
	struct strbuf big = STRBUF_INIT, cfg = STRBUF_INIT;
	struct run r;
	char *v;
	int i;

	for (i = 0; i < 1500; i++)
		strbuf_addch(&big, (char)('a' + i % 26));
	strbuf_addf(&cfg, "; %s\n[migrate]\nlock_timeout = 5\n\n[development]\nurl = %s\n\n[placeholders]\nlong = %s ; a comment\n",
		    strbuf_str(&big), url, strbuf_str(&big));
	write_file(proj, "config.ini", strbuf_str(&cfg));
	write_migration(proj, "1_long.sql",
			"-- migrate:up\nCREATE TABLE t_long (v TEXT);\nINSERT INTO t_long (v) VALUES ('${long}');\n"
			"-- migrate:down\nDROP TABLE t_long;\n");
	r = CLI("up");
	expect(&r, 0, "up with long config lines");
	run_free(&r);
	v = db_scalar("SELECT v FROM t_long");
	ck_assert_msg(v && strcmp(v, strbuf_str(&big)) == 0, "the long value arrived as '%.40s...' (%zu bytes)",
		      v ? v : "(null)", v ? strlen(v) : 0);
	free(v);

	/* a long password: the server refuses it (3), the parser does not (2) */
	v = path_join(proj, "migrations/1_long.sql");
	unlink(v);
	free(v);
	if (!is_sqlite()) {
		struct driver_settings *s = test_db_settings();
		cfg.len = 0;
		strbuf_addf(&cfg, "[development]\ndriver = %s\nhost = %s\nport = %d\nuser = %s\npassword = %s\ndatabase = %s\n",
			    test_driver_name(), s->host ? s->host : "127.0.0.1", s->port, s->user, strbuf_str(&big),
			    s->database);
		write_file(proj, "config.ini", strbuf_str(&cfg));
		r = CLI("status");
		expect(&r, 3, "a long wrong password");
		ck_assert_msg(!strstr(r.err, "abcdefg"), "the password shows: %s", r.err);
		run_free(&r);
	}

	cfg.len = 0;
	strbuf_addf(&cfg, "[development]\nurl = %s\n[%s]\n", url, strbuf_str(&big));
	write_file(proj, "config.ini", strbuf_str(&cfg));
	r = CLI("status");
	expect(&r, 2, "a long section name");
	expect_in(r.err, "config.ini:3: line longer than 1,023 characters", "stderr");
	run_free(&r);
	strbuf_release(&big);
	strbuf_release(&cfg);
}
END_TEST

/*
 * Names and messages carry user input: file names, history rows anyone may
 * have edited. A control character in one is shown as \xNN and never acts
 * on the terminal (ESC [2J would clear it, a CR overwrite the line); a name
 * that is not UTF-8 leaves the JSON document valid (U+FFFD for each stray
 * byte) instead of losing it.
 */
static void expect_no_controls(const char *text, const char *where)
{
	const char *p;

	for (p = text; *p; p++)
		ck_assert_msg(*p == '\n' || *p == '\t' || (unsigned char)*p >= 0x20,
			      "%s holds the control character 0x%02x: %s", where, (unsigned char)*p, text);
}

START_TEST(control_characters_in_names_are_shown_not_obeyed)
{
	struct run r;
	json_t *doc;
	json_error_t jerr;
	char *path, *sql;

	write_migration(proj, "1_one.sql", "-- migrate:up\nCREATE TABLE t_one (id INTEGER);\n-- migrate:down\nDROP TABLE t_one;\n");
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);

	/* a file whose name clears the screen: text escapes it, JSON carries it exactly */
	write_migration(proj, "2_\033[2Jx.sql", "-- migrate:up\nSELECT 1;\n");
	r = CLI("status");
	expect(&r, 2, "status with a file named with ESC [2J");
	expect_in(r.err, "'migrations/2_\\x1b[2Jx.sql'", "stderr");
	expect_no_controls(r.err, "stderr");
	run_free(&r);
	r = CLI("--format", "json", "up");
	expect(&r, 2, "up --format json with a file named with ESC [2J");
	doc = json_loads(r.err, 0, &jerr);
	ck_assert_msg(doc != NULL, "not JSON: %s\n%s", jerr.text, r.err);
	expect_in(json_string_value(json_object_get(json_object_get(doc, "error"), "message")), "2_\033[2Jx.sql",
		  "the JSON message");
	json_decref(doc);
	run_free(&r);
	path = path_join(proj, "migrations/2_\033[2Jx.sql");
	ck_assert_int_eq(unlink(path), 0);
	free(path);

	/* a file name that is not UTF-8 */
	write_migration(proj, "2_\xff\xfe.sql", "-- migrate:up\nSELECT 1;\n");
	r = CLI("--format", "json", "up");
	expect(&r, 2, "up --format json with a file name that is not UTF-8");
	doc = json_loads(r.err, 0, &jerr);
	ck_assert_msg(doc != NULL, "not JSON: %s\n%s", jerr.text, r.err);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(doc, "error"), "code")), 2);
	expect_in(json_string_value(json_object_get(json_object_get(doc, "error"), "message")),
		  "'migrations/2_\xef\xbf\xbd\xef\xbf\xbd.sql'", "the JSON message");
	json_decref(doc);
	run_free(&r);
	r = CLI("up");
	expect(&r, 2, "up with a file name that is not UTF-8");
	expect_in(r.err, "'migrations/2_\\xff\\xfe.sql'", "stderr");
	run_free(&r);
	path = path_join(proj, "migrations/2_\xff\xfe.sql");
	ck_assert_int_eq(unlink(path), 0);
	free(path);

	/* a history row whose name paints the terminal; its file gone, so the row's name is shown */
	sql = xasprintf("UPDATE schema_migrations SET name = %s WHERE version = '1'",
			pick("char(27) || '[2J' || char(13) || 'evil'", "chr(27) || '[2J' || chr(13) || 'evil'",
			     "CONCAT(CHAR(27 USING utf8mb4), '[2J', CHAR(13 USING utf8mb4), 'evil')"));
	free(db_scalar(sql));
	free(sql);
	path = path_join(proj, "migrations/1_one.sql");
	ck_assert_int_eq(unlink(path), 0);
	free(path);
	r = CLI("status");
	expect(&r, 0, "status");
	expect_in(r.out, "missing  1              \\x1b[2J\\x0devil", "stdout");
	expect_no_controls(r.out, "stdout");
	run_free(&r);
	r = CLI("--format", "json", "status");
	expect(&r, 0, "status --format json");
	doc = json_loads(r.out, 0, &jerr);
	ck_assert_msg(doc != NULL, "not JSON: %s\n%s", jerr.text, r.out);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(doc, "migrations"), 0), "name")),
			 "\033[2J\revil");
	json_decref(doc);
	run_free(&r);
	r = CLI("down");
	expect(&r, 0, "down with the stored down_sql");
	expect_in(r.out, "rolled back 1 \\x1b[2J\\x0devil", "stdout");
	expect_no_controls(r.out, "stdout");
	expect_no_controls(r.err, "stderr");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("t_one"), 0);
	ck_assert_int_eq(db_count("schema_migrations"), 0);
}
END_TEST

/* ---- the suite ------------------------------------------------------------------------ */

Suite *hostile_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc;

	tc = tcase_create("secrets");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, no_message_shows_any_part_of_a_password);
	tcase_add_test(tc, a_url_password_is_blanked_in_the_command_line);
	suite_add_tcase(s, tc);

	tc = tcase_create("signals");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, sigint_cancels_a_transactional_migration);
	tcase_add_test(tc, sigterm_records_a_transaction_false_migration_failed);
	tcase_add_test(tc, an_interrupt_in_json_reports_the_exit_code);
	tcase_add_test(tc, sighup_is_handled_as_sigterm);
	tcase_add_test(tc, a_second_signal_exits_at_once);
	tcase_add_test(tc, a_signal_stops_a_run_waiting_for_the_lock);
	tcase_add_test(tc, a_signal_stops_a_sqlite_statement_waiting_for_a_lock);
	suite_add_tcase(s, tc);

	tc = tcase_create("history");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, a_migration_that_moves_its_session_does_not_move_the_history);
	tcase_add_test(tc, a_tracking_write_that_finds_no_row_is_an_error);
	tcase_add_test(tc, a_history_edited_by_hand_is_refused_not_guessed);
	tcase_add_test(tc, a_tracking_table_named_in_another_case);
	suite_add_tcase(s, tc);

	tc = tcase_create("messages");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, a_connection_lost_at_the_tracking_row_names_the_migration);
	tcase_add_test(tc, a_blocked_seed_undo_puts_the_database_message_first);
	tcase_add_test(tc, long_config_lines);
	tcase_add_test(tc, config_files_that_are_not_files);
	tcase_add_test(tc, control_characters_in_names_are_shown_not_obeyed);
	tcase_add_test(tc, a_seed_failing_at_its_record_or_commit_is_named);
	tcase_add_test(tc, a_closed_stdout_neither_kills_the_run_nor_passes);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, setup, teardown_files);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, a_missing_migrations_directory_is_an_error);
	tcase_add_test(tc, a_read_only_sqlite_file_system_is_a_failed_run);
	tcase_add_test(tc, commands_that_read_never_create_a_sqlite_file);
	tcase_add_test(tc, the_sqlite_lock_covers_a_path_through_a_symlink);
	suite_add_tcase(s, tc);
	return s;
}
