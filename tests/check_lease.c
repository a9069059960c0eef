/*
 * check_lease.c - the run-wide lock as a lease row (lock_mode table),
 * 'migrate lock status' and 'lock release' (SPEC section 10; issue 13), on
 * the driver under test.
 *
 * What a deploy relies on: parallel runs apply each migration once and
 * leave no lease behind; a holder killed with kill -9 stops renewing, and
 * the next run waits for the lease to expire and takes it over, naming the
 * previous owner; a live lease is released only with --force. Migrations
 * are held at a gate the test controls (testutil.h), never by time.
 *
 * Divisions: helpers; the lease; lock status and release; configuration.
 */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

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

static int is_sqlite(void)
{
	return test_driver()->dialect == SQL_DIALECT_SQLITE;
}

/* Migration 1, and migration 2 held at the gate g (outside a transaction on MySQL). */
static void gated_history(const struct gate *g)
{
	char *text = xasprintf("-- migrate:up%s\nCREATE TABLE two (id INTEGER);\n%s\n-- migrate:down\nDROP TABLE two;\n",
			       test_driver()->dialect == SQL_DIALECT_MYSQL ? "" : " transaction:false", gate_sql(g));

	write_migration(proj, "1_one.sql", "-- migrate:up\nCREATE TABLE one (id INTEGER);\n-- migrate:down\nDROP TABLE one;\n");
	write_migration(proj, "2_two.sql", text);
	write_migration(proj, "3_three.sql", "-- migrate:up\nCREATE TABLE three (id INTEGER);\n-- migrate:down\nDROP TABLE three;\n");
	free(text);
}

static char *pid_text(int pid)
{
	return xasprintf("pid %d", pid);
}

/* ---- the lease ------------------------------------------------------------------- */

/*
 * Six runs at once, the first held at a gate in a migration outside a
 * transaction: every migration applied once, every run exits 0, and no
 * lease is left.
 */
START_TEST(parallel_runs_with_a_lease_apply_each_migration_once)
{
	enum { N = 6 };
	struct gate *g;
	int pids[N], i, failures = 0;
	char name[32];

	if (is_sqlite())
		return;
	/* through a transaction-pooling proxy, auto must choose the lease itself */
	project_config(proj, url, 60, test_behind_proxy() ? "lease = 2s\n" : "lock_mode = table\nlease = 2s\n", NULL);
	g = gate_hold(proj, 0);
	gated_history(g);
	pids[0] = START("up0.err", "up");
	gate_wait(g, pids[0], "two", 30);
	for (i = 1; i < N; i++) {
		snprintf(name, sizeof(name), "up%d.err", i);
		pids[i] = START(name, "up");
	}
	/* every other run waits for the lease while the first is held */
	for (i = 1; i < N; i++) {
		snprintf(name, sizeof(name), "up%d.err", i);
		wait_for_text(proj, name, "waiting up to 60 s (lock_timeout) for the migration lease", 30);
	}
	gate_release(g);
	for (i = 0; i < N; i++) {
		int rc = wait_exit_code(pids[i], 120);
		if (rc) {
			char *e;
			snprintf(name, sizeof(name), "up%d.err", i);
			e = slurp(proj, name);
			fprintf(stderr, "parallel up %d: exit %d: %s\n", i, rc, e ? e : "");
			free(e);
			failures++;
		}
	}
	ck_assert_int_eq(failures, 0);
	ck_assert_int_eq(db_count("schema_migrations"), 3);
	ck_assert_int_eq(db_count("schema_migrations_lock"), 0);
	ck_assert_int_eq(db_count("three"), 0);
	/* no lock left behind by anyone: no advisory lock on the server at all */
	if (test_driver()->dialect == SQL_DIALECT_POSTGRES) {
		char *n = db_scalar("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'");
		ck_assert_str_eq(n, "0");
		free(n);
	}
}
END_TEST

/*
 * The holder is killed with kill -9 at the gate: its lease stays until it
 * expires, and the next run waits for that, takes it over and names the
 * run it was (host and pid).
 */
START_TEST(a_killed_holders_lease_is_taken_over_when_it_expires)
{
	struct gate *g;
	struct run r;
	char *want, *err;
	int pid, rc, status;

	if (is_sqlite())
		return;
	project_config(proj, url, 60, "lock_mode = table\nlease = 2s\n", NULL);
	g = gate_hold(proj, 0);
	gated_history(g);
	pid = START("up.err", "up");
	gate_wait(g, pid, "two", 30);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	gate_release(g);
	ck_assert_int_eq(db_count("schema_migrations_lock"), 1);
	want = pid_text(pid);
	r = CLI("lock", "status");
	expect(&r, 0, "lock status");
	expect_in(r.out, "table lock (lock_mode = table)", "lock status");
	expect_in(r.out, want, "lock status");
	run_free(&r);
	pid = START("up2.err", "up");
	rc = wait_exit_code(pid, 120);
	err = slurp(proj, "up2.err");
	expect_in(err, "took over the expired migration lease of host ", "the next run");
	expect_in(err, want, "the next run (the previous owner)");
	/* the killed run left migration 2 recorded as running: the next run refuses it */
	ck_assert_msg(rc == 1, "up after the takeover exited %d:\n%s", rc, err ? err : "");
	expect_in(err, "did not complete (recorded as running", "the next run");
	free(err);
	free(want);
	ck_assert_int_eq(db_count("schema_migrations_lock"), 0);
}
END_TEST

/* ---- lock status and release ------------------------------------------------------ */

/*
 * A lease whose holder was killed (lease 30 s: still live): 'lock release'
 * refuses it (exit 1, naming it) and changes nothing; --force removes it
 * and says whose it was; status then says free.
 */
START_TEST(a_live_lease_is_released_only_with_force)
{
	struct gate *g;
	struct run r;
	char *want;
	int pid, status;

	if (is_sqlite())
		return;
	project_config(proj, url, 60, "lock_mode = table\nlease = 30s\n", NULL);
	g = gate_hold(proj, 0);
	gated_history(g);
	pid = START("up.err", "up");
	gate_wait(g, pid, "two", 30);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	gate_release(g);
	want = pid_text(pid);
	r = CLI("lock", "release");
	expect(&r, 1, "lock release of a live lease");
	expect_in(r.err, "is live: held by host ", "lock release");
	expect_in(r.err, want, "lock release");
	expect_in(r.err, "--force", "lock release");
	run_free(&r);
	ck_assert_int_eq(db_count("schema_migrations_lock"), 1);
	r = CLI("lock", "release", "--force");
	expect(&r, 0, "lock release --force");
	expect_in(r.out, "released the live lease of host ", "lock release --force");
	expect_in(r.out, want, "lock release --force");
	run_free(&r);
	ck_assert_int_eq(db_count("schema_migrations_lock"), 0);
	r = CLI("lock", "status");
	expect(&r, 0, "lock status");
	expect_in(r.out, ": free", "lock status");
	run_free(&r);
	free(want);
}
END_TEST

/*
 * The default (auto) on a plain server is the advisory lock, and status
 * sees another session holding it; through a pooling proxy it is the lease.
 */
START_TEST(lock_status_of_the_advisory_lock)
{
	struct driver_error derr = { "", -1 };
	struct driver_conn *holder;
	struct run r;

	project_config(proj, url, 60, NULL, NULL);
	write_migration(proj, "1_one.sql", "-- migrate:up\nCREATE TABLE one (id INTEGER);\n-- migrate:down\nDROP TABLE one;\n");
	r = CLI("lock", "status");
	expect(&r, 0, "lock status");
	if (test_behind_proxy()) {
		/* auto finds the proxy: the lease, never the advisory lock */
		expect_in(r.out, "table lock (lock_mode = auto: the connection goes through a pooling proxy", "lock status");
		expect_in(r.out, ": free", "lock status");
		run_free(&r);
		return;
	}
	expect_in(r.out, is_sqlite() ? "advisory lock (the sqlite driver's own lock)" : "advisory lock (lock_mode = auto)", "lock status");
	expect_in(r.out, ": free", "lock status");
	run_free(&r);
	holder = test_connect();
	ck_assert_int_eq(test_driver()->lock(holder, "schema_migrations", 0, &derr), DRIVER_OK);
	r = CLI("lock", "status");
	expect(&r, 0, "lock status while held");
	expect_in(r.out, ": held", "lock status");
	run_free(&r);
	r = CLI("lock", "release");
	expect(&r, 1, "lock release of an advisory lock");
	expect_in(r.err, "there is no lease to release", "lock release");
	run_free(&r);
	test_driver()->unlock(holder, &derr);
	test_driver()->close(holder);
}
END_TEST

/* ---- configuration -------------------------------------------------------------------- */

START_TEST(bad_lock_settings_are_configuration_errors)
{
	static const struct {
		const char *shared, *want;
	} cases[] = {
		{ "lock_mode = sometimes\n", "config.ini:3: lock_mode 'sometimes' is not auto, advisory or table" },
		{ "lease = 0\n", "config.ini:3: lease '0' is not a duration of at least 1s" },
		{ "lease = forever\n", "config.ini:3: lease 'forever' is not a duration" },
	};
	size_t i;
	struct run r;

	write_migration(proj, "1_one.sql", "-- migrate:up\nCREATE TABLE one (id INTEGER);\n-- migrate:down\nDROP TABLE one;\n");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		project_config(proj, url, 60, cases[i].shared, NULL);
		r = CLI("up");
		expect(&r, 2, cases[i].want);
		expect_in(r.err, cases[i].want, "the error");
		run_free(&r);
	}
	project_config(proj, url, 60, "lock_mode = table\n", NULL);
	r = CLI("up");
	if (is_sqlite()) {
		expect(&r, 2, "lock_mode table on SQLite");
		expect_in(r.err, "config.ini:3: lock_mode 'table' is not for SQLite", "the error");
		ck_assert_int_eq(db_table_exists("one"), 0);
	} else {
		expect(&r, 0, "lock_mode table");
		ck_assert_int_eq(db_count("schema_migrations_lock"), 0);
	}
	run_free(&r);
	ck_assert_int_eq(db_table_exists("schema_migrations"), !is_sqlite());
}
END_TEST

Suite *lease_suite(void)
{
	Suite *s = suite_create("lease");
	TCase *tc = tcase_create("lease");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, parallel_runs_with_a_lease_apply_each_migration_once);
	tcase_add_test(tc, a_killed_holders_lease_is_taken_over_when_it_expires);
	tcase_add_test(tc, a_live_lease_is_released_only_with_force);
	tcase_add_test(tc, lock_status_of_the_advisory_lock);
	tcase_add_test(tc, bad_lock_settings_are_configuration_errors);
	suite_add_tcase(s, tc);
	return s;
}
