/*
 * check_safe_apply.c - lock_wait, retries and statement_timeout on the
 * driver under test (SPEC section 9; issue 13).
 *
 * A second session holds a conflicting lock on a table, as a long
 * application transaction would (testutil.h: hold_table), while 'migrate
 * up' runs in the background with a short lock_wait. What is checked is
 * the outcome a deploy relies on: each wait that ran out is a warning
 * naming the holder, the run goes on once the holder lets go (released
 * only after the first warning is on stderr), or stops with exit 4 and
 * nothing of the migration applied; a section outside a transaction goes
 * on from the statement that timed out. The back-off is random, so no
 * test looks at how long anything took.
 *
 * Divisions: helpers; lock waits; statement timeout; CREATE INDEX
 * CONCURRENTLY; configuration and dry run.
 */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../migrate/util.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------------ */

static char *proj;
static char *url;

static void setup(void)
{
	project_new(&proj, &url);
}

static void teardown(void)
{
	project_free(&proj, &url);
}

#define CLI(...) run_migrate(proj, NULL, (const char *const[]){ __VA_ARGS__, NULL })
#define START(errname, ...) start_migrate(proj, errname, (const char *const[]){ __VA_ARGS__, NULL })

static int dialect(void)
{
	return (int)test_driver()->dialect;
}

static char *history_status(const char *version)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT status FROM schema_migrations WHERE version = '%s'", version);
	return db_scalar(sql);
}

static long count_where(const char *sql)
{
	char *v = db_scalar(sql);
	long n = v ? atol(v) : -1;

	free(v);
	return n;
}

/* Migration 1 (tables t and seen) applied, with a small lock_wait and the given retries. */
static void base(const char *limits)
{
	struct run r;

	project_config(proj, url, 20, limits, NULL);
	write_migration(proj, "1_t.sql", "-- migrate:up\nCREATE TABLE t (id INTEGER);\nCREATE TABLE seen (id INTEGER);\n"
					 "-- migrate:down\nDROP TABLE seen;\nDROP TABLE t;\n");
	r = CLI("up");
	expect(&r, 0, "up of migration 1");
	run_free(&r);
}

/* How many times needle is in hay. */
static int occurrences(const char *hay, const char *needle)
{
	int n = 0;

	for (; hay && (hay = strstr(hay, needle)) != NULL; hay++)
		n++;
	return n;
}

/* Does table t have column c? */
static int t_has_c(void)
{
	return count_where(pick("SELECT COUNT(*) FROM pragma_table_info('t') WHERE name = 'c'",
				"SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 't' AND column_name = 'c'",
				"SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() "
				"AND table_name = 't' AND column_name = 'c'")) == 1;
}

static const char alter_sql[] = "-- migrate:up\nALTER TABLE t ADD COLUMN c INTEGER;\n-- migrate:down\n";

/* ---- lock waits ------------------------------------------------------------------- */

/*
 * The holder keeps t locked past the first wait: up warns, naming the
 * holder, and once the holder lets go it applies the migration once.
 */
START_TEST(a_held_lock_is_retried_until_the_holder_lets_go)
{
	struct holder *h;
	char *err, *st;
	int pid, rc;

	base("lock_wait = 200ms\nretries = 20\n");
	write_migration(proj, "2_alter.sql", alter_sql);
	h = hold_table("t", 0, NULL);
	pid = START("up.err", "up");
	wait_for_text(proj, "up.err", "lock wait timed out", 30);
	err = slurp(proj, "up.err");
	expect_in(err, "migration 2 (alter): lock wait timed out (lock_wait 200ms), attempt 1 of 21, retrying in", "the first warning");
	expect_in(err, holder_id(h), "the first warning (the holder)");
	if (dialect() != SQL_DIALECT_SQLITE)
		expect_in(err, "on table", "the first warning (the table)");
	free(err);
	holder_release(h);
	rc = wait_exit_code(pid, 120);
	err = slurp(proj, "up.err");
	ck_assert_msg(rc == 0, "up exited %d once the holder let go:\n%s", rc, err ? err : "");
	ck_assert_int_eq(occurrences(err, "migrate: error"), 0);
	free(err);
	ck_assert(t_has_c());
	st = history_status("2");
	ck_assert_str_eq(st, "applied");
	free(st);
	ck_assert_int_eq(db_count("schema_migrations"), 2);
}
END_TEST

/*
 * The holder never lets go: each of the retries + 1 waits is a warning,
 * then exit 4 saying that nothing of the migration was applied; and it
 * was not (no column, no row: the migration is still pending).
 */
START_TEST(a_lock_never_released_exits_4_with_nothing_applied)
{
	struct holder *h;
	struct run r;
	char *err;
	int pid, rc;

	base("lock_wait = 200ms\nretries = 1\n");
	write_migration(proj, "2_alter.sql", alter_sql);
	write_migration(proj, "3_after.sql", "-- migrate:up\nINSERT INTO seen (id) VALUES (3);\n-- migrate:down\n");
	h = hold_table("t", 0, NULL);
	pid = START("up.err", "up");
	rc = wait_exit_code(pid, 60);
	err = slurp(proj, "up.err");
	ck_assert_msg(rc == 4, "up exited %d, not 4:\n%s", rc, err ? err : "");
	ck_assert_int_eq(occurrences(err, "lock wait timed out"), 2);
	expect_in(err, "attempt 2 of 2, no retry left", "the last warning");
	expect_in(err, "migrate: error: migration 2 (alter) did not get its locks in 2 attempts (lock_wait 200ms, retries 1)", "the error");
	expect_in(err, "nothing of it was applied", "the error");
	expect_in(err, "applied by this run: none; not applied: 2, 3", "the error");
	expect_in(err, holder_id(h), "the error");
	free(err);
	holder_release(h);
	ck_assert(!t_has_c());
	ck_assert_int_eq(db_count("seen"), 0);
	ck_assert_int_eq(db_count("schema_migrations"), 1);
	r = CLI("status");
	expect(&r, 0, "status");
	expect_in(r.out, "pending  2", "status");
	run_free(&r);
	/* with the holder gone, the next deploy applies both */
	r = CLI("up");
	expect(&r, 0, "up once the lock is free");
	run_free(&r);
	ck_assert(t_has_c());
	ck_assert_int_eq(db_count("seen"), 1);
}
END_TEST

/*
 * Outside a transaction, only the statement that timed out runs again:
 * the INSERT before it is done once, however many attempts it takes. On
 * SQLite, whose lock is the whole file, the statement that waits writes to
 * another (attached) database file, which the holder holds.
 */
START_TEST(a_section_outside_a_transaction_resumes_at_the_statement_that_timed_out)
{
	struct holder *h;
	char *text, *err, *st, *other = NULL;
	int pid, rc;

	base("lock_wait = 200ms\nretries = 20\n");
	if (dialect() == SQL_DIALECT_SQLITE) {
		struct driver_conn *c;
		other = path_join(proj, "other.db");
		c = test_connect();
		text = xasprintf("ATTACH DATABASE '%s' AS other", other);
		free(test_scalar(c, text));
		free(text);
		free(test_scalar(c, "CREATE TABLE other.o (id INTEGER)"));
		test_driver()->close(c);
		text = xasprintf("-- migrate:up transaction:false\nINSERT INTO seen (id) VALUES (1);\n"
				 "ATTACH DATABASE '%s' AS other;\nINSERT INTO other.o (id) VALUES (1);\n-- migrate:down\n",
				 other);
	} else {
		text = xasprintf("-- migrate:up transaction:false\nINSERT INTO seen (id) VALUES (1);\n"
				 "ALTER TABLE t ADD COLUMN c INTEGER;\n-- migrate:down\n");
	}
	write_migration(proj, "2_both.sql", text);
	free(text);
	h = hold_table("t", 0, other);
	pid = START("up.err", "up");
	wait_for_text(proj, "up.err", "lock wait timed out", 30);
	/* let a second wait run out too, so the statement is retried more than once */
	wait_for_text(proj, "up.err", "attempt 2 of 21", 30);
	err = slurp(proj, "up.err");
	expect_in(err, pick("2_both.sql:4", "2_both.sql:3", "2_both.sql:3"), "the warning (the statement that waits)");
	expect_in(err, holder_id(h), "the warning");
	free(err);
	holder_release(h);
	rc = wait_exit_code(pid, 120);
	err = slurp(proj, "up.err");
	ck_assert_msg(rc == 0, "up exited %d once the holder let go:\n%s", rc, err ? err : "");
	free(err);
	ck_assert_int_eq(db_count("seen"), 1);
	if (other) {
		text = xasprintf("ATTACH DATABASE '%s' AS other", other);
		{
			struct driver_conn *c = test_connect();
			char *n;
			free(test_scalar(c, text));
			n = test_scalar(c, "SELECT COUNT(*) FROM other.o");
			ck_assert_str_eq(n, "1");
			free(n);
			test_driver()->close(c);
		}
		free(text);
	} else {
		ck_assert(t_has_c());
	}
	st = history_status("2");
	ck_assert_str_eq(st, "applied");
	free(st);
	free(other);
}
END_TEST

/*
 * SIGTERM while up waits to try again (or during its next attempt): the run
 * ends at once with 143, and nothing of the migration is applied.
 */
START_TEST(an_interrupt_ends_the_retries)
{
	struct holder *h;
	int pid, rc;
	long long t0;

	base("lock_wait = 200ms\nretries = 20\n");
	write_migration(proj, "2_alter.sql", alter_sql);
	h = hold_table("t", 0, NULL);
	pid = START("up.err", "up");
	wait_for_text(proj, "up.err", "retrying in", 30);
	t0 = mono_ms();
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	rc = wait_exit_code(pid, 30);
	ck_assert_int_eq(rc, 143);
	/* not the rest of the back-off nor the twenty attempts left: a lock wait at most */
	ck_assert_msg(mono_ms() - t0 < 15000, "up took %lld ms to stop", mono_ms() - t0);
	holder_release(h);
	ck_assert(!t_has_c());
	if (dialect() == SQL_DIALECT_MYSQL) {
		/* outside a transaction an interrupted migration is recorded as failed (SPEC section 5) */
		char *st = history_status("2");
		ck_assert_str_eq(st, "failed");
		free(st);
	} else {
		ck_assert_int_eq(db_count("schema_migrations"), 1);
	}
}
END_TEST

/* retries:0 and lock_wait: after the up marker override the config for that migration. */
START_TEST(marker_options_override_the_config)
{
	struct holder *h;
	struct run r;

	base("lock_wait = 1h\nretries = 20\n");
	write_migration(proj, "2_alter.sql", "-- migrate:up lock_wait:200ms retries:0\nALTER TABLE t ADD COLUMN c INTEGER;\n-- migrate:down\n");
	h = hold_table("t", 0, NULL);
	r = CLI("up");
	expect(&r, 4, "up with retries:0");
	ck_assert_int_eq(occurrences(r.err, "lock wait timed out"), 1);
	expect_in(r.err, "did not get its locks in 1 attempt (lock_wait 200ms, retries 0)", "the error");
	run_free(&r);
	holder_release(h);
	ck_assert(!t_has_c());
}
END_TEST

/* ---- statement timeout ------------------------------------------------------------ */

/*
 * A statement that cannot finish (it waits, with lock_wait 0, for a table
 * the test holds; on SQLite, an endless recursive query) is stopped by
 * statement_timeout: the
 * migration fails with exit 1, and the database is as the transaction
 * rules say (nothing of it where it ran in a transaction, a 'failed' row
 * on MySQL).
 */
START_TEST(statement_timeout_fails_the_migration)
{
	struct holder *h = NULL;
	struct run r;
	char *st;

	base("statement_timeout = 1s\nlock_wait = 0\n");
	if (dialect() == SQL_DIALECT_SQLITE)
		write_migration(proj, "2_stuck.sql", "-- migrate:up\nINSERT INTO seen (id) VALUES (1);\n"
			       "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n;\n"
			       "-- migrate:down\n");
	else
		write_migration(proj, "2_stuck.sql", "-- migrate:up\nINSERT INTO seen (id) VALUES (1);\n"
			       "INSERT INTO t (id) VALUES (1);\n-- migrate:down\n");
	if (dialect() != SQL_DIALECT_SQLITE)
		h = hold_table("t", 0, NULL);
	r = CLI("up");
	expect(&r, 1, "up with a statement past statement_timeout");
	expect_in(r.err, "2_stuck.sql:3", "the error");
	expect_in(r.err, pick("statement_timeout", "statement timeout", "max_statement_time"), "the error");
	ck_assert_int_eq(occurrences(r.err, "lock wait timed out"), 0);
	run_free(&r);
	holder_release(h);
	ck_assert_int_eq(db_count("t"), 0);
	st = history_status("2");
	if (dialect() == SQL_DIALECT_MYSQL) {
		ck_assert_str_eq(st, "failed");
		ck_assert_int_eq(db_count("seen"), 1);
	} else {
		ck_assert_ptr_null(st);
		ck_assert_int_eq(db_count("seen"), 0);
	}
	free(st);
}
END_TEST

/* ---- CREATE INDEX CONCURRENTLY ------------------------------------------------------------- */

static long invalid_indexes(void)
{
	return count_where("SELECT COUNT(*) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
			   "WHERE i.relname = 't_id' AND NOT x.indisvalid");
}

/*
 * A CREATE INDEX CONCURRENTLY that waits for an open transaction leaves an
 * INVALID index when its wait runs out: migrate drops it before the next
 * attempt, says so, and ends with one valid index.
 */
START_TEST(an_invalid_index_is_dropped_before_the_retry)
{
	struct holder *h;
	char *err;
	int pid, rc;

	if (dialect() != SQL_DIALECT_POSTGRES)
		return;
	base("lock_wait = 200ms\nretries = 20\n");
	write_migration(proj, "2_index.sql", "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n-- migrate:down\n");
	h = hold_table("t", 1, NULL);
	pid = START("up.err", "up");
	wait_for_text(proj, "up.err", "lock wait timed out", 30);
	err = slurp(proj, "up.err");
	expect_in(err, holder_id(h), "the warning");
	free(err);
	/* while the holder's transaction is open, dropping the index waits for it too */
	holder_release(h);
	rc = wait_exit_code(pid, 120);
	err = slurp(proj, "up.err");
	ck_assert_msg(rc == 0, "up exited %d once the holder let go:\n%s", rc, err ? err : "");
	expect_in(err, "the failed statement left an INVALID index behind; dropped it: DROP INDEX CONCURRENTLY IF EXISTS public.t_id", "the warnings");
	free(err);
	ck_assert_int_eq(invalid_indexes(), 0);
	ck_assert_int_eq(count_where("SELECT COUNT(*) FROM pg_indexes WHERE indexname = 't_id'"), 1);
}
END_TEST

/*
 * When the retries run out while the holder still blocks the drop too, the
 * error names the INVALID index and the statement that drops it, and the
 * migration is recorded as failed (it left something behind).
 */
START_TEST(an_invalid_index_left_behind_is_named)
{
	struct holder *h;
	struct run r;
	char *st;

	if (dialect() != SQL_DIALECT_POSTGRES)
		return;
	base("lock_wait = 200ms\nretries = 0\n");
	write_migration(proj, "2_index.sql", "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n-- migrate:down\n");
	h = hold_table("t", 1, NULL);
	r = CLI("up");
	expect(&r, 4, "up");
	expect_in(r.err, "left the INVALID index behind and dropping it failed too: run 'DROP INDEX CONCURRENTLY IF EXISTS public.t_id'", "the error");
	expect_in(r.err, "migration 2 is recorded as failed", "the error");
	run_free(&r);
	ck_assert_int_eq(invalid_indexes(), 1);
	holder_release(h);
	st = history_status("2");
	ck_assert_str_eq(st, "failed");
	free(st);
}
END_TEST

/* ---- configuration and dry run --------------------------------------------------------- */

/* lock_wait: abc, negative retries, a bad marker option: exit 2 at file:line, nothing touched. */
START_TEST(bad_limits_are_configuration_errors)
{
	static const struct {
		const char *shared, *marker, *want;
	} cases[] = {
		{ "lock_wait = abc\n", "", "config.ini:3: lock_wait 'abc' is not a duration" },
		{ "retries = -1\n", "", "config.ini:3: retries '-1' is not a number of retries" },
		{ "lock_wait = 2s\nstatement_timeout = 5 s\n", "", "config.ini:4: statement_timeout '5 s' is not a duration" },
		{ NULL, " lock_wait:abc", "1_t.sql:1: malformed marker: lock_wait 'abc' is not a duration" },
		{ NULL, " retries:-1", "1_t.sql:1: malformed marker: retries '-1' is not a number of retries" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run r;
		char *text = xasprintf("-- migrate:up%s\nCREATE TABLE t (id INTEGER);\n-- migrate:down\nDROP TABLE t;\n",
				       cases[i].marker);
		project_config(proj, url, 20, cases[i].shared, NULL);
		write_migration(proj, "1_t.sql", text);
		free(text);
		r = CLI("up");
		expect(&r, 2, cases[i].want);
		expect_in(r.err, cases[i].want, "the error");
		run_free(&r);
		ck_assert_int_eq(db_table_exists("schema_migrations"), 0);
		ck_assert_int_eq(db_table_exists("t"), 0);
	}
}
END_TEST

/* --dry-run prints the settings with the rest, and changes nothing. */
START_TEST(dry_run_prints_the_settings)
{
	struct run r;

	project_config(proj, url, 20, "lock_wait = 2s\nstatement_timeout = 1m\n", NULL);
	write_migration(proj, "1_t.sql", "-- migrate:up\nCREATE TABLE t (id INTEGER);\n-- migrate:down\nDROP TABLE t;\n");
	write_migration(proj, "2_i.sql", "-- migrate:up transaction:false lock_wait:500ms\nINSERT INTO t (id) VALUES (1);\n-- migrate:down\n");
	r = CLI("up", "--dry-run");
	expect(&r, 0, "up --dry-run");
	switch (dialect()) {
	case SQL_DIALECT_POSTGRES:
		expect_in(r.out, "BEGIN; SET LOCAL lock_timeout = '2000ms'; SET LOCAL statement_timeout = '60000ms';\nCREATE TABLE t", "the plan");
		expect_in(r.out, "SET lock_timeout = '500ms'; SET statement_timeout = '60000ms';\n", "the plan");
		expect_in(r.out, "RESET lock_timeout; RESET statement_timeout;\n", "the plan");
		break;
	case SQL_DIALECT_MYSQL:
		expect_in(r.out, "SET SESSION lock_wait_timeout = 2, innodb_lock_wait_timeout = 2, max_statement_time = 60.000;\n", "the plan");
		expect_in(r.out, "SET SESSION lock_wait_timeout = 1, innodb_lock_wait_timeout = 1, max_statement_time = 60.000;\n", "the plan");
		expect_in(r.out, "SET SESSION lock_wait_timeout = DEFAULT, innodb_lock_wait_timeout = DEFAULT, max_statement_time = DEFAULT;\n", "the plan");
		break;
	default:
		expect_in(r.out, "PRAGMA busy_timeout = 2000;\nBEGIN IMMEDIATE;\nCREATE TABLE t", "the plan");
		expect_in(r.out, "PRAGMA busy_timeout = 500;\n", "the plan");
		expect_in(r.out, "PRAGMA busy_timeout = 10000;\n", "the plan");
		break;
	}
	run_free(&r);
	ck_assert_int_eq(db_table_exists("t"), 0);
	ck_assert_int_eq(db_table_exists("schema_migrations"), 0);
}
END_TEST

Suite *safe_apply_suite(void)
{
	Suite *s = suite_create("safe_apply");
	TCase *tc = tcase_create("lock_wait");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, a_held_lock_is_retried_until_the_holder_lets_go);
	tcase_add_test(tc, a_lock_never_released_exits_4_with_nothing_applied);
	tcase_add_test(tc, a_section_outside_a_transaction_resumes_at_the_statement_that_timed_out);
	tcase_add_test(tc, marker_options_override_the_config);
	tcase_add_test(tc, an_interrupt_ends_the_retries);
	tcase_add_test(tc, statement_timeout_fails_the_migration);
	tcase_add_test(tc, an_invalid_index_is_dropped_before_the_retry);
	tcase_add_test(tc, an_invalid_index_left_behind_is_named);
	tcase_add_test(tc, bad_limits_are_configuration_errors);
	tcase_add_test(tc, dry_run_prints_the_settings);
	suite_add_tcase(s, tc);
	return s;
}
