/*
 * check_reliability.c - migrate under crashes, races and hostile input, on
 * the driver under test (SPEC sections 4 and 5; issue 5).
 *
 * Each test gets a fresh project directory and a fresh real database, as in
 * check_cli.c, and runs the built binary, sometimes several at once,
 * sometimes killing one with SIGKILL in the middle of a migration, or
 * ending its session from the server side. What is checked is what a
 * deploy relies on: every process exits with the documented code, nothing
 * is applied twice, and nothing is recorded as applied that was not.
 *
 * A migration that must still be running when the test looks is held at a
 * gate the test controls (testutil.h: a lock the test holds and releases),
 * never by a statement that is merely expected to take a while, so the
 * suite behaves the same on a fast machine and on a slow one.
 *
 * The deploy-safety commands are here too: validate naming every problem,
 * baseline, and --dry-run changing nothing (not even the SQLite file).
 *
 * Divisions: helpers; races; crashes; lost connections; bad input;
 * integrity, baseline, dry run.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static void write_config(const char *extra)
{
	project_config(proj, url, 20, extra, NULL);
}

static void setup(void)
{
	project_new(&proj, &url);
	write_config(NULL);
}

static void teardown(void)
{
	project_free(&proj, &url);
}

#define CLI(...) run_migrate(proj, NULL, (const char *const[]){ __VA_ARGS__, NULL })

static void mig(const char *name, const char *text)
{
	write_migration(proj, name, text);
}

static int is_mysql(void)
{
	return test_driver()->dialect == SQL_DIALECT_MYSQL;
}

static char *history_status(const char *version)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT status FROM schema_migrations WHERE version = '%s'", version);
	return db_scalar(sql);
}

/* The binary in the background, its stderr into proj/<errname> (testutil.h). */
#define SPAWN(errname, ...) ((pid_t)start_migrate(proj, errname, (const char *const[]){ __VA_ARGS__, NULL }))
#define wait_exit(pid, timeout_s) wait_exit_code((int)(pid), timeout_s)

static void kill9(pid_t pid)
{
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(wait_exit(pid, 10), 128 + SIGKILL);
}

static void exec_sql(const char *sql)
{
	struct driver_conn *c = test_connect();

	free(test_scalar(c, sql));
	test_driver()->close(c);
}

static const char one_sql[] = "-- migrate:up\nCREATE TABLE one (id INTEGER);\n-- migrate:down\nDROP TABLE one;\n";

static void apply_one_first(void);

/*
 * Migration 2: a table, a row, then the gate (testutil.h), where it stays
 * until the test releases it; transactional = 0 adds transaction:false.
 */
static void write_gated_two(const struct gate *g, int transactional)
{
	char *text = xasprintf("-- migrate:up%s\nCREATE TABLE two (id INTEGER);\nINSERT INTO two (id) VALUES (1);\n%s\n"
			       "-- migrate:down\nDROP TABLE two;\n",
			       transactional ? "" : " transaction:false", gate_sql(g));

	mig("2_slow.sql", text);
	free(text);
}

static const char two_quick_sql[] = "-- migrate:up\nCREATE TABLE two (id INTEGER);\nINSERT INTO two (id) VALUES (1);\n"
				    "-- migrate:down\nDROP TABLE two;\n";

/* ---- races ------------------------------------------------------------------------ */

START_TEST(parallel_seeds_apply_each_seed_once)
{
	enum { N = 6 };
	pid_t pids[N];
	int i, failures = 0;
	char *v, name[32];
	struct run r;

	mig("1_items.sql", "-- migrate:up\nCREATE TABLE items (id INTEGER PRIMARY KEY, label VARCHAR(20));\n"
			   "-- migrate:down\nDROP TABLE items;\n");
	write_file(proj, "seeds/01_first.sql", "INSERT INTO items (id, label) VALUES (1, 'a');\nINSERT INTO items (id, label) VALUES (2, 'b');\n");
	write_file(proj, "seeds/02_second.sql", "INSERT INTO items (id, label) VALUES (3, 'c');\n");
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "seed%d.err", i);
		pids[i] = SPAWN(name, "-q", "seed");
	}
	for (i = 0; i < N; i++) {
		int rc = wait_exit(pids[i], 60);
		if (rc) {
			snprintf(name, sizeof(name), "seed%d.err", i);
			v = slurp(proj, name);
			fprintf(stderr, "parallel seed %d: exit %d: %s\n", i, rc, v ? v : "");
			free(v);
			failures++;
		}
	}
	ck_assert_int_eq(failures, 0);
	ck_assert_int_eq(db_count("schema_seeds"), 2);
	ck_assert_int_eq(db_count("items"), 3);
}
END_TEST

/* ---- crashes ---------------------------------------------------------------------- */

/*
 * kill -9 in the middle of migration 2. PostgreSQL and SQLite roll the
 * transaction back (the server when the session ends, SQLite from its hot
 * journal on the next open), so nothing of it remains. MySQL's DDL has
 * committed: its row says 'running', and everything refuses until repair.
 */
START_TEST(kill_9_during_a_long_migration)
{
	struct gate *g;
	char *st;
	struct run r;
	pid_t pid;

	apply_one_first();
	g = gate_hold(proj, 1);
	write_gated_two(g, 1);
	pid = SPAWN("up.err", "up");
	gate_wait(g, pid, "two", 20);
	kill9(pid);
	/* a server session left behind finishes its statement and ends with the client */
	gate_release(g);
	/* the next run must not do the long part again: it is the migration's fix */
	mig("2_slow.sql", two_quick_sql);

	if (!is_mysql()) {
		ck_assert_int_eq(db_table_exists("two"), 0);
		ck_assert_int_eq(db_count("schema_migrations"), 1);
		/* on PostgreSQL the orphaned session may still hold the lock a moment: up waits for it */
		r = CLI("up");
		expect(&r, 0, "up after the crash");
		run_free(&r);
		ck_assert_int_eq(db_count("two"), 1);
		st = history_status("2");
		ck_assert_str_eq(st, "applied");
		free(st);
		return;
	}
	st = history_status("2");
	ck_assert_str_eq(st, "running");
	free(st);
	r = CLI("status");
	expect(&r, 0, "status");
	expect_in(r.out, "running  2", "status");
	run_free(&r);
	r = CLI("status", "--check");
	expect(&r, 1, "status --check");
	run_free(&r);
	r = CLI("validate");
	expect(&r, 1, "validate");
	expect_in(r.err, "2 (slow) did not complete (recorded as running", "validate");
	run_free(&r);
	r = CLI("up");
	expect(&r, 1, "up with a running row");
	expect_in(r.err, "migrate repair", "up");
	run_free(&r);
	st = history_status("2");
	ck_assert_str_eq(st, "running");
	free(st);
	/* put the database right by hand, then repair */
	{
		struct driver_conn *c = test_connect();
		free(test_scalar(c, "DROP TABLE two"));
		test_driver()->close(c);
	}
	r = CLI("repair");
	expect(&r, 0, "repair");
	expect_in(r.out, "forgot running migration 2", "repair");
	run_free(&r);
	r = CLI("up");
	expect(&r, 0, "up after repair");
	run_free(&r);
	ck_assert_int_eq(db_count("two"), 1);
}
END_TEST

/*
 * The lock holder dies while a second run waits for the lock: the waiter
 * gets it and goes on (and, on MySQL, finds the 'running' trace and
 * refuses, as it must).
 */
START_TEST(the_waiter_proceeds_when_the_lock_holder_is_killed)
{
	/*
	 * SQLite: outside a transaction, since a reader holding the gate of a
	 * transactional one would keep the waiter from even opening the file.
	 */
	int transactional = test_driver()->dialect != SQL_DIALECT_SQLITE;
	struct gate *g;
	char *err, *st;
	pid_t holder, waiter;
	int rc;

	apply_one_first();
	g = gate_hold(proj, transactional);
	write_gated_two(g, transactional);
	holder = SPAWN("holder.err", "up");
	gate_wait(g, holder, "two", 20);
	waiter = SPAWN("waiter.err", "up", "--lock-timeout", "30");
	wait_for_text(proj, "waiter.err", "waiting up to 30 s (lock_timeout) for the migration lock", 20);
	ck_assert_msg(waitpid(waiter, NULL, WNOHANG) == 0, "the waiter did not wait for the lock");
	kill9(holder);
	gate_release(g);
	rc = wait_exit(waiter, 40);
	err = slurp(proj, "waiter.err");
	if (!transactional || is_mysql()) {
		/* the holder's DDL committed: its 'running' row is the trace */
		ck_assert_msg(rc == 1, "waiter: exit %d: %s", rc, err);
		expect_in(err, "recorded as running", "waiter's stderr");
	} else {
		ck_assert_msg(rc == 0, "waiter: exit %d: %s", rc, err);
		ck_assert_int_eq(db_count("two"), 1);
		st = history_status("2");
		ck_assert_str_eq(st, "applied");
		free(st);
	}
	free(err);
}
END_TEST

/*
 * transaction:false (SPEC section 4), on every driver: the row says
 * 'running' while the section runs, 'applied' after it, and 'failed' when
 * a statement fails part-way, whose effects stay; up refuses until repair.
 */
START_TEST(transaction_false_is_tracked_running_then_applied_or_failed)
{
	struct gate *g;
	char *st;
	struct run r;
	pid_t pid;
	int rc;

	apply_one_first();
	g = gate_hold(proj, 0);
	write_gated_two(g, 0);
	pid = SPAWN("up.err", "up");
	gate_wait(g, pid, "two", 20);
	r = CLI("status");
	expect_in(r.out, "running  2", "status while it runs");
	run_free(&r);
	gate_release(g);
	rc = wait_exit(pid, 30);
	ck_assert_int_eq(rc, 0);
	st = history_status("2");
	ck_assert_str_eq(st, "applied");
	free(st);

	mig("3_bad.sql", "-- migrate:up transaction:false\nCREATE TABLE three (id INTEGER);\nINSERT INTO no_such_table (id) VALUES (1);\n"
			 "-- migrate:down\nDROP TABLE three;\n");
	r = CLI("up");
	expect(&r, 1, "a failing transaction:false section");
	expect_in(r.err, "3_bad.sql:3:", "stderr");
	expect_in(r.err, "recorded as failed", "stderr");
	run_free(&r);
	st = history_status("3");
	ck_assert_str_eq(st, "failed");
	free(st);
	ck_assert_int_eq(db_table_exists("three"), 1); /* no transaction: its first statement stays */
	r = CLI("up");
	expect(&r, 1, "up after the failure");
	expect_in(r.err, "3 (bad) failed part-way", "stderr");
	run_free(&r);
	exec_sql("DROP TABLE three");
	r = CLI("repair");
	expect(&r, 0, "repair");
	run_free(&r);
	mig("3_bad.sql", "-- migrate:up transaction:false\nCREATE TABLE three (id INTEGER);\n-- migrate:down\nDROP TABLE three;\n");
	r = CLI("up");
	expect(&r, 0, "up after repair");
	run_free(&r);
	st = history_status("3");
	ck_assert_str_eq(st, "applied");
	free(st);
}
END_TEST

/* ---- lost connections ------------------------------------------------------------- */

/*
 * The server ends the session in the middle of migration 2
 * (pg_terminate_backend, KILL): a clear error naming the file, exit 1, and
 * migration 2 not recorded as applied. SQLite has no server and no
 * session to lose: the scenario does not exist there.
 */
START_TEST(the_server_drops_the_connection_mid_migration)
{
	struct gate *g;
	char *st, *e;
	struct driver_conn *c;
	pid_t pid;
	int rc;

	if (test_driver()->dialect == SQL_DIALECT_SQLITE)
		return;
	apply_one_first();
	g = gate_hold(proj, 1);
	write_gated_two(g, 1);
	pid = SPAWN("up.err", "up");
	gate_wait(g, pid, "two", 20);
	c = test_connect();
	if (is_mysql()) {
		char *id = test_scalar(c, "SELECT id FROM information_schema.processlist WHERE db = DATABASE() "
					  "AND id <> CONNECTION_ID() AND info LIKE 'SELECT GET_LOCK(%'");
		char *kill_sql = xasprintf("KILL %s", id);
		ck_assert_ptr_nonnull(id);
		free(test_scalar(c, kill_sql));
		free(kill_sql);
		free(id);
	} else {
		free(test_scalar(c, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
				    "AND pid <> pg_backend_pid() AND query LIKE 'SELECT pg_advisory_xact_lock(%'"));
	}
	test_driver()->close(c);
	rc = wait_exit(pid, 20);
	gate_release(g);
	e = slurp(proj, "up.err");
	ck_assert_msg(rc == 1, "up: exit %d, expected 1: %s", rc, e);
	expect_in(e, "migrate: error: ", "stderr");
	expect_in(e, "2_slow.sql:", "stderr");
	free(e);
	st = history_status("2");
	if (is_mysql()) {
		/* the row could not be set 'failed' on a dead connection: 'running' is the trace */
		ck_assert_msg(st && strcmp(st, "applied") != 0, "migration 2 is recorded as %s", st ? st : "nothing");
	} else {
		ck_assert_ptr_null(st);
		ck_assert_int_eq(db_table_exists("two"), 0);
	}
	free(st);
	st = history_status("1");
	ck_assert_str_eq(st, "applied");
	free(st);
}
END_TEST

/* ---- bad input ---------------------------------------------------------------------- */

/* The state bad input must leave alone: migration 1 applied, nothing else. */
static void apply_one_first(void)
{
	struct run r;

	mig("1_one.sql", one_sql);
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
}

static void expect_as_before(const char *what)
{
	char *st = history_status("1");

	ck_assert_msg(db_count("schema_migrations") == 1, "%s: the tracking table changed", what);
	ck_assert_msg(st && strcmp(st, "applied") == 0, "%s: migration 1 is %s", what, st ? st : "gone");
	ck_assert_msg(db_table_exists("one"), "%s: table one is gone", what);
	ck_assert_msg(!db_table_exists("two"), "%s: table two appeared", what);
	free(st);
}

START_TEST(bad_config_and_urls_exit_2_and_change_nothing)
{
	static const struct {
		const char *config; /* the whole file; NULL: the good one */
		const char *url;    /* --url */
		const char *msg;
	} cases[] = {
		{ "[migrate\nlock_timeout = 5\n", NULL, "config.ini:1:" },
		{ "[migrate]\nlock_timeout\n", NULL, "config.ini:2:" },
		{ "[development]\nurl = ${MIGRATE_TEST_SURELY_UNSET}\n", NULL, "MIGRATE_TEST_SURELY_UNSET" },
		{ "[development]\ndriver = oracle\ndatabase = x\n", NULL, "config.ini:2: unknown driver 'oracle'" },
		{ "[development]\nurl = postgres://h:99999/db\n", NULL, "config.ini:2:" },
		{ "[migrate]\nlock_timeout = soon\n[development]\ndriver = sqlite\ndatabase = x.db\n", NULL, "config.ini:2:" },
		{ NULL, "postgres://u:%zz@h/db", "URL" },
		{ NULL, "mysql://h:port/db", "URL" },
		{ NULL, "postgres://h/db?bogus=1", "bogus" },
		{ NULL, "sqlite:", "URL" },
		{ NULL, "://nothing", "URL" },
		{ NULL, "postgres://user:s3cr3t-pw@h:70000/db", "URL" },
	};
	size_t i;

	apply_one_first();
	mig("2_two.sql", two_quick_sql);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run r;
		if (cases[i].config)
			write_file(proj, "config.ini", cases[i].config);
		else
			write_config(NULL);
		r = cases[i].url ? CLI("--url", cases[i].url, "up") : CLI("up");
		ck_assert_msg(r.status == 2, "case %zu: exit %d, expected 2\nstderr: %s", i, r.status, r.err);
		expect_in(r.err, "migrate: error: ", "stderr");
		expect_in(r.err, cases[i].msg, "stderr");
		ck_assert_msg(!strstr(r.err, "s3cr3t-pw"), "case %zu: the password is in: %s", i, r.err);
		run_free(&r);
		write_config(NULL);
		expect_as_before(cases[i].config ? cases[i].config : cases[i].url);
	}
}
END_TEST

/*
 * Table names are identifiers: whatever the config says is quoted by the
 * driver's rule (never pasted), so a hostile name is just a strange name.
 * iniparser ends a value at ';' unless it is quoted, and single quotes may
 * hold a double quote.
 */
START_TEST(hostile_table_names_are_quoted_not_injected)
{
	static const struct {
		const char *ini;  /* as written in config.ini */
		const char *name; /* the table it names */
		const char *seeds_ini;
	} cases[] = {
		{ "'we\"ird;name'", "we\"ird;name", "'se\"eds;'" },
		{ "\"we`ird name\"", "we`ird name", "\"se`eds x\"" },
		{ "\"x'); DROP TABLE one; --\"", "x'); DROP TABLE one; --", "\"y'); DROP TABLE one; --\"" },
		{ "a\\b", "a\\b", "s\\eeds" },
	};
	size_t i;

	mig("1_one.sql", one_sql);
	mig("2_two.sql", two_quick_sql);
	/* an empty seeds directory: seed then only creates the seeds table */
	{
		char *seeds = path_join(proj, "seeds");
		mkdir(seeds, 0777);
		free(seeds);
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct driver_conn *c;
		struct driver_error err;
		struct run r;
		char *extra = xasprintf("table = %s\nseeds_table = %s", cases[i].ini, cases[i].seeds_ini);
		int exists = 0;

		write_config(extra);
		free(extra);
		r = CLI("up");
		expect(&r, 0, cases[i].name);
		run_free(&r);
		r = CLI("up");
		expect(&r, 0, cases[i].name);
		expect_in(r.out, "nothing to migrate", "second up");
		run_free(&r);
		r = CLI("seed");
		expect(&r, 0, cases[i].name);
		run_free(&r);
		c = test_connect();
		ck_assert_int_eq(test_driver()->table_exists(c, cases[i].name, &exists, &err), DRIVER_OK);
		test_driver()->close(c);
		ck_assert_msg(exists, "no table named %s", cases[i].name);
		ck_assert_int_eq(db_table_exists("one"), 1);
		ck_assert_int_eq(db_table_exists("schema_migrations"), 0);
		r = CLI("down", "--all");
		expect(&r, 0, cases[i].name);
		run_free(&r);
		ck_assert_int_eq(db_table_exists("one"), 0);
		ck_assert_int_eq(db_table_exists("two"), 0);
	}
}
END_TEST

/*
 * Hostile file names are not migrations: an error naming each of them
 * (exit 2), nothing run, and nothing of the name reaches a shell or SQL.
 */
START_TEST(hostile_migration_file_names_are_errors)
{
	static const char *const names[] = {
		"2_x'; DROP TABLE one; --.sql", "3_a b.sql", "4_a`b.sql", "5_a\"b.sql", "6_$(touch pwned).sql",
	};
	struct run r;
	size_t i;
	char *p;

	apply_one_first();
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		mig(names[i], two_quick_sql);
	r = CLI("up");
	expect(&r, 2, "up");
	expect_in(r.err, "not a migration file: ", "stderr");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		expect_in(r.err, names[i], "stderr");
	run_free(&r);
	expect_as_before("hostile file names");
	p = slurp(proj, "pwned");
	ck_assert_ptr_null(p);
}
END_TEST

/* A file of 20 MB (comments around a statement with a 1 MB string) works like any other. */
START_TEST(a_huge_migration_file_is_applied)
{
	struct strbuf sb = STRBUF_INIT;
	char *big, *v;
	struct run r;
	long long t0;
	size_t i;

	strbuf_addf(&sb, "-- migrate:up\nCREATE TABLE big (id INTEGER, t %s);\n", pick("TEXT", "TEXT", "LONGTEXT"));
	for (i = 0; sb.len < 10u * 1024 * 1024; i++)
		strbuf_addf(&sb, "-- filler line %zu: a comment; with 'quotes' and \"quotes\" that mean nothing\n", i);
	strbuf_addstr(&sb, "INSERT INTO big (id, t) VALUES (1, '");
	for (i = 0; i < 1024 * 1024; i++)
		strbuf_addch(&sb, (char)('a' + i % 26));
	strbuf_addstr(&sb, "');\n");
	while (sb.len < 20u * 1024 * 1024)
		strbuf_addstr(&sb, "/* more filler, a block comment; ; ; */\n");
	strbuf_addstr(&sb, "-- migrate:down\nDROP TABLE big;\n");
	big = strbuf_detach(&sb);
	mig("1_big.sql", big);
	free(big);
	t0 = mono_ms();
	r = CLI("up");
	expect(&r, 0, "up of a 20 MB file");
	run_free(&r);
	ck_assert_msg(mono_ms() - t0 < 60000, "a 20 MB file took %lld ms", mono_ms() - t0);
	v = db_scalar("SELECT LENGTH(t) FROM big");
	ck_assert_str_eq(v, "1048576");
	free(v);
	r = CLI("validate");
	expect(&r, 0, "validate");
	run_free(&r);
	r = CLI("down");
	expect(&r, 0, "down");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("big"), 0);
}
END_TEST

/*
 * Binary garbage that is not a NUL byte (check_cli.c has that one) reaches
 * the database, which rejects it: exit 1, the file named, and nothing
 * recorded as applied.
 */
START_TEST(binary_garbage_fails_cleanly)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned x = 12345;
	struct run r;
	char *st;
	size_t i;

	apply_one_first();
	strbuf_addstr(&sb, "-- migrate:up\n");
	for (i = 0; i < 4096; i++) {
		unsigned char ch;
		x = x * 1103515245u + 12345u;
		ch = (unsigned char)(x >> 16);
		/* no NUL, and no quote that would make it an unterminated string (exit 2) */
		if (ch == 0 || ch == '\'' || ch == '"' || ch == '`' || ch == '$' || ch == '[' || ch == '/' || ch == '-' || ch == '#')
			ch = 0xfe;
		strbuf_addch(&sb, (char)ch);
	}
	strbuf_addstr(&sb, "\n;\n-- migrate:down\nSELECT 1;\n");
	mig("2_garbage.sql", strbuf_str(&sb));
	strbuf_release(&sb);
	r = CLI("up");
	ck_assert_msg(r.status == 1 || r.status == 2, "up: exit %d\nstderr: %s", r.status, r.err);
	expect_in(r.err, "2_garbage.sql", "stderr");
	run_free(&r);
	st = history_status("2");
	ck_assert_msg(!st || strcmp(st, "applied") != 0, "garbage recorded as applied");
	if (test_driver()->caps & DRIVER_CAP_TRANSACTIONAL_DDL)
		ck_assert_ptr_null(st);
	free(st);
	st = history_status("1");
	ck_assert_str_eq(st, "applied");
	free(st);
}
END_TEST

/*
 * A version is digits of any length: 2^64 and 10^23 are versions like any
 * other, and an argument that is not digits is a usage error that changes
 * nothing.
 */
START_TEST(versions_are_digits_of_any_length)
{
	static const char *const not_versions[] = { "1e5", "-1", "+2", " 2", "0x10", "2.0", "" };
	struct run r;
	size_t i;

	apply_one_first();
	for (i = 0; i < sizeof(not_versions) / sizeof(not_versions[0]); i++) {
		r = CLI("up", "--to", not_versions[i]);
		expect(&r, 2, not_versions[i]);
		run_free(&r);
		r = CLI("down", "--to", not_versions[i]);
		expect(&r, 2, not_versions[i]);
		run_free(&r);
		r = CLI("baseline", not_versions[i]);
		expect(&r, 2, not_versions[i]);
		run_free(&r);
		expect_as_before(not_versions[i]);
	}
	r = CLI("baseline", "99999999999999999999999");
	expect(&r, 2, "baseline 10^23 with no such migration");
	expect_in(r.err, "no migration has version 99999999999999999999999", "stderr");
	run_free(&r);
	expect_as_before("baseline 10^23");
	mig("18446744073709551616_big.sql", two_quick_sql); /* 2^64 */
	r = CLI("up");
	expect(&r, 0, "2^64");
	expect_in(r.out, "applied     18446744073709551616 big", "stdout");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("two"), 1);
}
END_TEST

/*
 * Files that cannot be read as migrations: a directory, a FIFO (opening
 * one would block forever), a dangling link, and a file without read
 * permission. Each is exit 2 naming the file, before the database is
 * touched.
 */
START_TEST(unreadable_migration_files_exit_2)
{
	static const char *const kinds[] = { "directory", "fifo", "dangling link", "mode 000" };
	size_t i;

	apply_one_first();
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		char *path = xasprintf("%s/migrations/2_bad.sql", proj);
		struct run r;
		switch (i) {
		case 0:
			ck_assert_int_eq(mkdir(path, 0755), 0);
			break;
		case 1:
			ck_assert_int_eq(mkfifo(path, 0644), 0);
			break;
		case 2:
			ck_assert_int_eq(symlink("/nonexistent/migrate-test", path), 0);
			break;
		case 3:
			mig("2_bad.sql", two_quick_sql);
			ck_assert_int_eq(chmod(path, 0), 0);
			break;
		}
		r = CLI("up");
		if (i == 3 && geteuid() == 0) {
			/*
			 * root reads a mode-000 file anyway, so there is nothing to
			 * refuse: the migration applies. Only this assertion depends
			 * on who runs the suite.
			 */
			expect(&r, 0, kinds[i]);
			run_free(&r);
			rm_rf(path);
			free(path);
			break;
		}
		ck_assert_msg(r.status == 2, "%s: exit %d, expected 2\nstderr: %s", kinds[i], r.status, r.err);
		expect_in(r.err, "cannot read migration", kinds[i]);
		expect_in(r.err, "2_bad.sql", kinds[i]);
		run_free(&r);
		expect_as_before(kinds[i]);
		if (i == 0)
			rmdir(path);
		else
			unlink(path);
		free(path);
	}
}
END_TEST

/* ---- integrity, baseline, dry run ------------------------------------------------- */

static char *tracking_snapshot(void)
{
	struct strbuf sb = STRBUF_INIT;
	static const char *const versions[] = { "1", "2", "3", "4", "10", "15", "20", "30", "40" };
	size_t i;

	strbuf_addf(&sb, "%ld rows;", db_count("schema_migrations"));
	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		char *st = history_status(versions[i]);
		strbuf_addf(&sb, " %s=%s", versions[i], st ? st : "-");
		free(st);
	}
	return strbuf_detach(&sb);
}

/* validate names every problem at once, of every kind, and changes nothing; up refuses the same. */
START_TEST(validate_reports_every_problem_and_changes_nothing)
{
	struct run r;
	char *before, *after, *path;

	path = path_join(proj, "migrations"); /* empty, but there: a missing one is an error */
	ck_assert_int_eq(mkdir(path, 0777), 0);
	free(path);
	r = CLI("validate");
	expect(&r, 0, "validate on an empty database");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("schema_migrations"), 0);

	mig("10_one.sql", "-- migrate:up\nCREATE TABLE one (id INTEGER);\n-- migrate:down\nDROP TABLE one;\n");
	mig("20_two.sql", "-- migrate:up\nCREATE TABLE two (id INTEGER);\n-- migrate:down\nDROP TABLE two;\n");
	mig("30_three.sql", "-- migrate:up\nCREATE TABLE three (id INTEGER);\n-- migrate:down\nDROP TABLE three;\n");
	mig("40_four.sql", "-- migrate:up\nCREATE TABLE four (id INTEGER);\n-- migrate:down\nDROP TABLE four;\n");
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	mig("10_one.sql", "-- migrate:up\nCREATE TABLE one (id INTEGER, changed INTEGER);\n-- migrate:down\nDROP TABLE one;\n");
	path = xasprintf("%s/migrations/20_two.sql", proj);
	unlink(path);
	free(path);
	exec_sql("UPDATE schema_migrations SET status = 'failed' WHERE version = '30'");
	exec_sql("UPDATE schema_migrations SET status = 'running' WHERE version = '40'");
	mig("15_late.sql", "-- migrate:up\nCREATE TABLE late (id INTEGER);\n-- migrate:down\nDROP TABLE late;\n");
	before = tracking_snapshot();

	r = CLI("validate");
	expect(&r, 1, "validate");
	expect_in(r.err, "30 (three) failed part-way", "validate");
	expect_in(r.err, "40 (four) did not complete (recorded as running", "validate");
	expect_in(r.err, "20 (two) has no file", "validate");
	expect_in(r.err, "10 (one) changed since it was applied", "validate");
	expect_in(r.err, "15 (late) has a lower version", "validate");
	expect_in(r.err, "migrate repair", "validate");
	run_free(&r);
	r = CLI("--format", "json", "validate");
	expect(&r, 1, "validate --format json");
	expect_in(r.out, "\"ok\": false", "validate --format json");
	run_free(&r);
	r = CLI("status");
	expect_in(r.out, "changed  10", "status");
	expect_in(r.out, "missing  20", "status");
	expect_in(r.out, "failed   30", "status");
	expect_in(r.out, "running  40", "status");
	expect_in(r.out, "pending  15", "status");
	run_free(&r);
	r = CLI("up");
	expect(&r, 1, "up");
	expect_in(r.err, "30 (three) failed part-way", "up");
	expect_in(r.err, "40 (four) did not complete", "up");
	expect_in(r.err, "20 (two) has no file", "up");
	expect_in(r.err, "10 (one) changed", "up");
	expect_in(r.err, "--out-of-order", "up");
	run_free(&r);
	after = tracking_snapshot();
	ck_assert_str_eq(before, after);
	ck_assert_int_eq(db_table_exists("late"), 0);
	free(before);
	free(after);
}
END_TEST

START_TEST(baseline_records_without_running)
{
	struct run r;
	char *v;

	mig("1_one.sql", "-- migrate:up\nCREATE TABLE one (id INTEGER);\n-- migrate:down\nDROP TABLE one;\n");
	mig("2_two.sql", "-- migrate:up\nCREATE TABLE two (id INTEGER);\n-- migrate:down\nDROP TABLE two;\n");
	mig("3_three.sql", "-- migrate:up\nCREATE TABLE three (id INTEGER);\n-- migrate:down\nDROP TABLE three;\n");
	/* the database to adopt was made some other way */
	exec_sql("CREATE TABLE one (id INTEGER)");
	exec_sql("CREATE TABLE two (id INTEGER)");

	r = CLI("baseline");
	expect(&r, 2, "baseline without a version");
	run_free(&r);
	r = CLI("baseline", "7");
	expect(&r, 2, "baseline of no migration");
	expect_in(r.err, "no migration has version 7", "stderr");
	run_free(&r);
	r = CLI("--dry-run", "baseline", "2");
	expect(&r, 0, "baseline --dry-run");
	expect_in(r.out, "INSERT INTO", "stdout");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("schema_migrations"), 0);

	r = CLI("baseline", "2");
	expect(&r, 0, "baseline 2");
	expect_in(r.out, "recorded    1 one", "stdout");
	expect_in(r.out, "recorded    2 two", "stdout");
	ck_assert_ptr_null(strstr(r.out, "three"));
	run_free(&r);
	ck_assert_int_eq(db_count("schema_migrations"), 2);
	ck_assert_int_eq(db_table_exists("three"), 0);
	r = CLI("validate");
	expect(&r, 0, "validate after baseline");
	run_free(&r);

	r = CLI("baseline", "1");
	expect(&r, 1, "baseline again");
	expect_in(r.err, "1 (one, applied) is already recorded", "stderr");
	run_free(&r);
	r = CLI("--format", "json", "baseline", "3");
	expect(&r, 1, "baseline over recorded ones");
	run_free(&r);
	ck_assert_int_eq(db_count("schema_migrations"), 2);

	r = CLI("up");
	expect(&r, 0, "up after baseline");
	expect_in(r.out, "applied     3 three", "stdout");
	ck_assert_ptr_null(strstr(r.out, "applied     1"));
	run_free(&r);
	v = history_status("3");
	ck_assert_str_eq(v, "applied");
	free(v);
	r = CLI("down", "--all");
	expect(&r, 0, "down --all after baseline");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("one"), 0);
}
END_TEST

START_TEST(dry_run_prints_every_write_and_changes_nothing)
{
	const char *q = test_driver()->dialect == SQL_DIALECT_MYSQL ? "`" : "\"";
	/* qualified with the schema on the servers: "public"."schema_migrations" */
	char *create_tracking = xasprintf("%sschema_migrations%s (%sversion%s", q, q, q, q);
	char *create_seeds = xasprintf("%sschema_seeds%s (%sname%s", q, q, q, q);
	char *dbfile = xasprintf("%s/test.db", proj);
	struct driver_conn *holder;
	struct driver_error derr;
	struct run r;
	json_t *doc, *plan, *step;
	json_error_t jerr;
	size_t i;
	int found = 0;

	unlink(dbfile); /* the file the harness made: a dry run must not make it again */
	mig("1_one.sql", "-- migrate:up\nCREATE TABLE one (id INTEGER);\n-- migrate:down\nDROP TABLE one;\n");
	mig("2_two.sql", "-- migrate:up transaction:false\nCREATE TABLE two (id INTEGER);\n-- migrate:down\nDROP TABLE two;\n");
	write_file(proj, "seeds/01_rows.sql", "INSERT INTO one (id) VALUES (1);\n");

	r = CLI("--dry-run", "up");
	expect(&r, 0, "up --dry-run");
	expect_in(r.out, create_tracking, "stdout");
	expect_in(r.out, "CREATE TABLE one (id INTEGER);", "stdout");
	expect_in(r.out, "CREATE TABLE two (id INTEGER);", "stdout");
	expect_in(r.out, "INSERT INTO", "stdout");
	expect_in(r.out, "'running'", "stdout"); /* 2 is transaction:false: running, then applied */
	expect_in(r.out, "UPDATE", "stdout");
	if (test_driver()->caps & DRIVER_CAP_TRANSACTIONAL_DDL) {
		expect_in(r.out, test_driver()->begin_sql, "stdout");
		expect_in(r.out, test_driver()->commit_sql, "stdout");
	}
	run_free(&r);
	if (test_driver()->dialect == SQL_DIALECT_SQLITE)
		ck_assert_msg(access(dbfile, F_OK) != 0, "--dry-run created the SQLite file %s", dbfile);
	ck_assert_int_eq(db_table_exists("schema_migrations"), 0);
	ck_assert_int_eq(db_table_exists("one"), 0);

	/* a dry run needs no lock: it neither waits for nor blocks a deploy */
	holder = test_connect();
	ck_assert_int_eq(test_driver()->lock(holder, "schema_migrations", 0, &derr), DRIVER_OK);
	r = CLI("--dry-run", "--lock-timeout", "0", "up");
	expect(&r, 0, "up --dry-run while locked");
	run_free(&r);
	test_driver()->unlock(holder, &derr);
	test_driver()->close(holder);

	/* the same plan as data */
	r = CLI("--dry-run", "--format", "json", "up");
	expect(&r, 0, "up --dry-run --format json");
	doc = json_loads(r.out, 0, &jerr);
	ck_assert_msg(doc != NULL, "not JSON: %s\n%s", jerr.text, r.out);
	ck_assert(json_is_true(json_object_get(doc, "dry_run")));
	plan = json_object_get(doc, "plan");
	ck_assert(json_is_array(plan));
	json_array_foreach(plan, i, step) {
		json_t *sql = json_object_get(step, "sql");
		if (strcmp(json_string_value(json_object_get(step, "action")), "up") == 0 &&
		    strcmp(json_string_value(json_object_get(step, "version")), "2") == 0) {
			size_t k;
			ck_assert(json_array_size(sql) >= 3);
			/* after BEGIN (on PostgreSQL with the migration's SET LOCAL limits) */
			for (k = 1; k < json_array_size(sql) && k < 3; k++)
				if (strstr(json_string_value(json_array_get(sql, k)), "CREATE TABLE two"))
					found = 1;
		}
	}
	ck_assert_msg(found, "no step for migration 2 in the plan:\n%s", r.out);
	json_decref(doc);
	run_free(&r);
	ck_assert_int_eq(db_table_exists("schema_migrations"), 0);

	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);

	r = CLI("--dry-run", "down");
	expect(&r, 0, "down --dry-run");
	expect_in(r.out, "DROP TABLE two;", "stdout");
	expect_in(r.out, "DELETE FROM", "stdout");
	run_free(&r);
	r = CLI("--dry-run", "redo");
	expect(&r, 0, "redo --dry-run");
	expect_in(r.out, "DROP TABLE two;", "stdout");
	expect_in(r.out, "CREATE TABLE two (id INTEGER);", "stdout");
	run_free(&r);
	r = CLI("--dry-run", "seed");
	expect(&r, 0, "seed --dry-run");
	expect_in(r.out, create_seeds, "stdout");
	expect_in(r.out, "INSERT INTO one (id) VALUES (1);", "stdout");
	run_free(&r);
	r = CLI("--dry-run", "--format", "json", "seed");
	expect(&r, 0, "seed --dry-run --format json");
	expect_in(r.out, "\"action\": \"seed\"", "stdout");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("two"), 1);
	ck_assert_int_eq(db_count("schema_migrations"), 2);
	ck_assert_int_eq(db_table_exists("schema_seeds"), 0);
	ck_assert_int_eq(db_count("one"), 0);
	free(create_tracking);
	free(create_seeds);
	free(dbfile);
}
END_TEST

Suite *reliability_suite(void)
{
	Suite *s = suite_create("reliability");
	TCase *tc = tcase_create("reliability");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, parallel_seeds_apply_each_seed_once);
	tcase_add_test(tc, kill_9_during_a_long_migration);
	tcase_add_test(tc, the_waiter_proceeds_when_the_lock_holder_is_killed);
	tcase_add_test(tc, transaction_false_is_tracked_running_then_applied_or_failed);
	tcase_add_test(tc, the_server_drops_the_connection_mid_migration);
	tcase_add_test(tc, bad_config_and_urls_exit_2_and_change_nothing);
	tcase_add_test(tc, hostile_table_names_are_quoted_not_injected);
	tcase_add_test(tc, hostile_migration_file_names_are_errors);
	tcase_add_test(tc, a_huge_migration_file_is_applied);
	tcase_add_test(tc, binary_garbage_fails_cleanly);
	tcase_add_test(tc, versions_are_digits_of_any_length);
	tcase_add_test(tc, unreadable_migration_files_exit_2);
	tcase_add_test(tc, validate_reports_every_problem_and_changes_nothing);
	tcase_add_test(tc, baseline_records_without_running);
	tcase_add_test(tc, dry_run_prints_every_write_and_changes_nothing);
	suite_add_tcase(s, tc);
	return s;
}
