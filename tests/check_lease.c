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

#include "../migrate/config.h"
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

/* ---- a Galera cluster (MIGRATE_TEST_GALERA_URLS: its three nodes) ---------------- */

enum { GALERA_NODES = 3 };

/*
 * The URL of the test database on node i: the test's URL (on node 1, the
 * server of MIGRATE_TEST_URL) with that node's host and port. NULL when
 * this run has no cluster.
 */
static char *galera_url(int i)
{
	const char *list = getenv("MIGRATE_TEST_GALERA_URLS");
	const char *db = strrchr(url, '/');
	char *copy, *word, *save = NULL, *out = NULL;
	int n = 0;

	if (!list || !*list)
		return NULL;
	copy = xstrdup(list);
	for (word = strtok_r(copy, " ", &save); word; word = strtok_r(NULL, " ", &save), n++) {
		if (n == i) {
			/* scheme://user:password@host:port/database: swap the database */
			char *slash = strrchr(word, '/');
			ck_assert_ptr_nonnull(slash);
			*slash = '\0';
			out = xasprintf("%s%s", word, db);
			break;
		}
	}
	free(copy);
	ck_assert_msg(out, "MIGRATE_TEST_GALERA_URLS has no node %d: %s", i + 1, list);
	return out;
}

/*
 * Connects to node i, its reads waiting for every write the cluster
 * committed. The test database, created on node 1, reaches the other nodes
 * as they apply it: the connection is retried for up to 30 s.
 */
static struct driver_conn *galera_connect(int i)
{
	struct driver_settings s = *test_db_settings();
	struct driver_conn *c = NULL;
	struct driver_error err = { "", -1 };
	struct db_url u;
	char msg[256], *node = galera_url(i);
	long long t0;

	memset(&u, 0, sizeof(u));
	ck_assert_msg(url_parse(node, &u, msg, sizeof(msg)) == 0, "node %d: %s", i + 1, msg);
	s.host = u.host;
	s.port = u.port;
	for (t0 = mono_ms(); test_driver()->connect(&s, &c, &err) != DRIVER_OK; sleep_ms(100))
		ck_assert_msg(mono_ms() - t0 < 30000, "node %d: %s", i + 1, err.message);
	ck_assert_msg(test_driver()->exec(c, "SET SESSION wsrep_sync_wait = 1", 31, NULL, &err) == DRIVER_OK, "node %d: %s",
		      i + 1, err.message);
	db_url_release(&u);
	free(node);
	return c;
}

/*
 * Six runs spread over the three nodes, two on each, lock_mode left at
 * auto: the first (on node 1) is held at a gate in a migration outside a
 * transaction while the others wait for the lease, and 'lock status' on
 * node 3 names it. GET_LOCK holds on one node only, so the gate is held on
 * node 1 where that run is, and the other runs are started only once it
 * stands there (holding the lease). Every run exits 0, every migration is
 * applied once, and every node has the same history and no lease row.
 */
START_TEST(galera_runs_on_three_nodes_apply_each_migration_once)
{
	enum { N = 6 };
	struct gate *g;
	struct run r;
	int pids[N], i, failures = 0;
	char name[32], *urls[GALERA_NODES], *want, *text, *history[GALERA_NODES];

	if (!getenv("MIGRATE_TEST_GALERA_URLS") || test_driver()->dialect != SQL_DIALECT_MYSQL)
		return;
	for (i = 0; i < GALERA_NODES; i++) {
		urls[i] = galera_url(i);
		test_driver()->close(galera_connect(i)); /* the new database is on every node */
	}
	project_config(proj, urls[0], 60, "lease = 2s\n", NULL);
	g = gate_hold(proj, 0);
	text = xasprintf("-- migrate:up transaction:false\nCREATE TABLE two (id INTEGER);\n"
			 "INSERT INTO applied (n) VALUES (2);\n%s\n-- migrate:down\nDROP TABLE two;\n",
			 gate_sql(g));
	write_migration(proj, "1_one.sql",
			"-- migrate:up\nCREATE TABLE applied (id INTEGER AUTO_INCREMENT PRIMARY KEY, n INTEGER);\n"
			"INSERT INTO applied (n) VALUES (1);\n-- migrate:down\nDROP TABLE applied;\n");
	write_migration(proj, "2_two.sql", text);
	write_migration(proj, "3_three.sql",
			"-- migrate:up\nINSERT INTO applied (n) VALUES (3);\n-- migrate:down\nDELETE FROM applied WHERE n = 3;\n");
	free(text);

	/* auto chooses the lease on a Galera node */
	r = CLI("lock", "status", "--url", urls[1]);
	expect(&r, 0, "lock status on node 2");
	expect_in(r.out, "table lock (lock_mode = auto: the server is a Galera/PXC cluster node (wsrep_on)", "lock status");
	expect_in(r.out, ": free", "lock status");
	run_free(&r);

	pids[0] = START("up0.err", "up");
	gate_wait(g, pids[0], "two", 60);
	/* the holder, seen from another node */
	want = pid_text(pids[0]);
	r = CLI("lock", "status", "--url", urls[2]);
	expect(&r, 0, "lock status on node 3 while held");
	expect_in(r.out, want, "lock status on node 3");
	run_free(&r);
	free(want);
	for (i = 1; i < N; i++) {
		snprintf(name, sizeof(name), "up%d.err", i);
		pids[i] = START(name, "up", "--url", urls[i % GALERA_NODES]);
	}
	for (i = 1; i < N; i++) {
		snprintf(name, sizeof(name), "up%d.err", i);
		wait_for_text(proj, name, "waiting up to 60 s (lock_timeout) for the migration lease", 60);
	}
	gate_release(g);
	for (i = 0; i < N; i++) {
		int rc = wait_exit_code(pids[i], 120);
		if (rc) {
			char *e;
			snprintf(name, sizeof(name), "up%d.err", i);
			e = slurp(proj, name);
			fprintf(stderr, "galera up %d (node %d): exit %d: %s\n", i, i % GALERA_NODES + 1, rc, e ? e : "");
			free(e);
			failures++;
		}
	}
	ck_assert_int_eq(failures, 0);
	for (i = 0; i < GALERA_NODES; i++) {
		struct driver_conn *c = galera_connect(i);
		char *applied = test_scalar(c, "SELECT GROUP_CONCAT(n ORDER BY id) FROM applied");
		char *lease = test_scalar(c, "SELECT COUNT(*) FROM schema_migrations_lock");

		history[i] = test_scalar(c, "SELECT GROUP_CONCAT(CONCAT_WS(':', version, checksum) ORDER BY version) "
					    "FROM schema_migrations");
		ck_assert_msg(applied && strcmp(applied, "1,2,3") == 0, "node %d applied %s, not 1,2,3 once each",
			      i + 1, applied ? applied : "nothing");
		ck_assert_msg(lease && strcmp(lease, "0") == 0, "node %d has %s lease rows left", i + 1,
			      lease ? lease : "?");
		ck_assert_msg(history[i] && strncmp(history[i], "1:", 2) == 0 && strstr(history[i], ",2:") &&
				      strstr(history[i], ",3:"),
			      "node %d history: %s", i + 1, history[i] ? history[i] : "(none)");
		ck_assert_str_eq(history[i], history[0]);
		free(applied);
		free(lease);
		test_driver()->close(c);
	}
	for (i = 0; i < GALERA_NODES; i++) {
		free(history[i]);
		free(urls[i]);
	}
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
	/* CK_RUN_CASE=galera: tests/run.sh runs it on the cluster alone */
	tc = tcase_create("galera");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, galera_runs_on_three_nodes_apply_each_migration_once);
	suite_add_tcase(s, tc);
	return s;
}
