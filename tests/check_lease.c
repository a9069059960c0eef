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

/*
 * Starts 'up' on the config's URL, waits until it stands at the gate g
 * (in migration 2: it holds the lease), kills it there with kill -9 and
 * lets the gate go, so that its server session ends. Returns "pid N" of
 * the killed run (the caller frees); its lease stays until it expires.
 */
static char *up_killed_at_gate(struct gate *g)
{
	int pid = START("up.err", "up"), status;

	gate_wait(g, pid, "two", 60);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	gate_release(g);
	return pid_text(pid);
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
	struct run r;
	char *want, *err;
	int pid, rc;

	if (is_sqlite())
		return;
	project_config(proj, url, 60, "lock_mode = table\nlease = 2s\n", NULL);
	{
		struct gate *g = gate_hold(proj, 0);
		gated_history(g);
		want = up_killed_at_gate(g);
	}
	ck_assert_int_eq(db_count("schema_migrations_lock"), 1);
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

	if (is_sqlite())
		return;
	project_config(proj, url, 60, "lock_mode = table\nlease = 30s\n", NULL);
	g = gate_hold(proj, 0);
	gated_history(g);
	want = up_killed_at_gate(g);
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

/* Runs sql on c: 0, or -1 with the server's message in derr. */
static int galera_exec(struct driver_conn *c, const char *sql, struct driver_error *derr)
{
	return test_driver()->exec(c, sql, strlen(sql), NULL, derr) == DRIVER_OK ? 0 : -1;
}

/*
 * This run's cluster: urls[i] is the test database on node i, which exists
 * on every node once this returns. 0 when this run has no cluster (the
 * test then has nothing to do).
 */
static int galera_setup(char *urls[GALERA_NODES])
{
	int i;

	if (!getenv("MIGRATE_TEST_GALERA_URLS") || test_driver()->dialect != SQL_DIALECT_MYSQL)
		return 0;
	for (i = 0; i < GALERA_NODES; i++) {
		urls[i] = galera_url(i);
		test_driver()->close(galera_connect(i)); /* the new database is on every node */
	}
	return 1;
}

static void galera_free(char *urls[GALERA_NODES])
{
	int i;

	for (i = 0; i < GALERA_NODES; i++)
		free(urls[i]);
}

/*
 * Every node, read causally: the table "applied" holds want (each
 * migration's mark, once each, in order), the history is the same on every
 * node with every row applied, and no lease row is left.
 */
static void galera_expect_nodes(const char *want)
{
	char *history[GALERA_NODES];
	int i;

	for (i = 0; i < GALERA_NODES; i++) {
		struct driver_conn *c = galera_connect(i);
		char *applied = test_scalar(c, "SELECT GROUP_CONCAT(n ORDER BY id) FROM applied");
		char *lease = test_scalar(c, "SELECT COUNT(*) FROM schema_migrations_lock");
		char *other = test_scalar(c, "SELECT COUNT(*) FROM schema_migrations WHERE status <> 'applied'");

		history[i] = test_scalar(c, "SELECT GROUP_CONCAT(CONCAT_WS(':', version, checksum) ORDER BY version) "
					    "FROM schema_migrations");
		ck_assert_msg(applied && strcmp(applied, want) == 0, "node %d applied %s, not %s once each", i + 1,
			      applied ? applied : "nothing", want);
		ck_assert_msg(lease && strcmp(lease, "0") == 0, "node %d has %s lease rows left", i + 1,
			      lease ? lease : "?");
		ck_assert_msg(other && strcmp(other, "0") == 0, "node %d has %s rows not applied", i + 1,
			      other ? other : "?");
		ck_assert_msg(history[i] && strncmp(history[i], "1:", 2) == 0, "node %d history: %s", i + 1,
			      history[i] ? history[i] : "(none)");
		ck_assert_str_eq(history[i], history[0]);
		free(applied);
		free(lease);
		free(other);
		test_driver()->close(c);
	}
	for (i = 0; i < GALERA_NODES; i++)
		free(history[i]);
}

/*
 * Migrations 1 to 3, each adding its mark to "applied"; migration 2 stops
 * at the gate g before it does anything, so a run killed there has applied
 * nothing of it (its row stays 'running').
 */
static void galera_gated_history(const struct gate *g)
{
	char *text = xasprintf("-- migrate:up\n%s\nINSERT INTO applied (n) VALUES (2);\n"
			       "-- migrate:down\nDELETE FROM applied WHERE n = 2;\n", gate_sql(g));

	write_migration(proj, "1_one.sql",
			"-- migrate:up\nCREATE TABLE applied (id INTEGER AUTO_INCREMENT PRIMARY KEY, n INTEGER);\n"
			"INSERT INTO applied (n) VALUES (1);\n-- migrate:down\nDROP TABLE applied;\n");
	write_migration(proj, "2_two.sql", text);
	write_migration(proj, "3_three.sql",
			"-- migrate:up\nINSERT INTO applied (n) VALUES (3);\n-- migrate:down\nDELETE FROM applied WHERE n = 3;\n");
	free(text);
}

/* What the processlist of node i shows (the test database's sessions): the number running a statement like like. */
static int galera_running(int i, const char *like)
{
	struct driver_conn *c = galera_connect(i);
	char *sql = xasprintf("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = '%s' AND INFO LIKE '%s'",
			      strrchr(url, '/') + 1, like);
	char *n = test_scalar(c, sql);
	int v = n ? atoi(n) : 0;

	free(n);
	free(sql);
	test_driver()->close(c);
	return v;
}

static long galera_status_sum(const char *name)
{
	long sum = 0;
	int i;

	for (i = 0; i < GALERA_NODES; i++) {
		struct driver_conn *c = galera_connect(i);
		char *sql = xasprintf("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = '%s'", name);
		char *v = test_scalar(c, sql);

		sum += v ? atol(v) : 0;
		free(v);
		free(sql);
		test_driver()->close(c);
	}
	return sum;
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
	char name[32], *urls[GALERA_NODES], *want, *text;

	if (!galera_setup(urls))
		return;
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
	galera_expect_nodes("1,2,3");
	galera_free(urls);
}
END_TEST

/*
 * migrate's own session on a node reads causally (wsrep_sync_wait has
 * READ) and replicates its DDL in total order (wsrep_OSU_method TOI), even
 * where the server's default is another: migrations run on node 2, whose
 * default is made RSU for the run, record what their session has, and
 * their tables and history reach node 3 (under RSU the CREATE TABLE would
 * stay on node 2). Migration 1 turns causal reads off for itself; migration
 * 2 has them again.
 */
START_TEST(galera_session_reads_causally_and_replicates_ddl)
{
	struct driver_conn *c;
	struct driver_error derr = { "", -1 };
	struct run r;
	char *urls[GALERA_NODES], *v;

	if (!galera_setup(urls))
		return;
	project_config(proj, urls[1], 60, NULL, NULL);
	write_migration(proj, "1_one.sql",
			"-- migrate:up\nCREATE TABLE applied (id INTEGER AUTO_INCREMENT PRIMARY KEY, n INTEGER);\n"
			"INSERT INTO applied (n) VALUES (1);\n"
			"CREATE TABLE seen (m INTEGER, sync_wait INTEGER, osu VARCHAR(16));\n"
			"INSERT INTO seen VALUES (1, @@SESSION.wsrep_sync_wait, @@SESSION.wsrep_OSU_method);\n"
			"SET SESSION wsrep_sync_wait = 0;\n"
			"-- migrate:down\nDROP TABLE seen;\nDROP TABLE applied;\n");
	write_migration(proj, "2_two.sql",
			"-- migrate:up\nINSERT INTO applied (n) VALUES (2);\n"
			"INSERT INTO seen VALUES (2, @@SESSION.wsrep_sync_wait, @@SESSION.wsrep_OSU_method);\n"
			"-- migrate:down\nDELETE FROM seen WHERE m = 2;\nDELETE FROM applied WHERE n = 2;\n");
	c = galera_connect(1);
	ck_assert_msg(galera_exec(c, "SET GLOBAL wsrep_OSU_method = 'RSU'", &derr) == 0,
		      "node 2: %s", derr.message);
	r = CLI("up");
	/* put node 2's default back before anything can fail */
	ck_assert_msg(galera_exec(c, "SET GLOBAL wsrep_OSU_method = 'TOI'", &derr) == 0,
		      "node 2: %s", derr.message);
	test_driver()->close(c);
	expect(&r, 0, "up on node 2");
	run_free(&r);
	c = galera_connect(2);
	v = test_scalar(c, "SELECT GROUP_CONCAT(CONCAT(m, ': ', sync_wait & 1, ' ', osu) ORDER BY m) FROM seen");
	ck_assert_msg(v && strcmp(v, "1: 1 TOI,2: 1 TOI") == 0,
		      "migrate's session on node 2 had (migration: wsrep_sync_wait & 1, wsrep_OSU_method) %s",
		      v ? v : "(no rows on node 3)");
	free(v);
	test_driver()->close(c);
	galera_expect_nodes("1,2");
	/* read from another node at once: 'status --check' sees the history */
	r = CLI("status", "--check", "--url", urls[2]);
	expect(&r, 0, "status --check on node 3");
	run_free(&r);
	galera_free(urls);
}
END_TEST

/*
 * A lease holder on node 1 is killed with kill -9 at a gate in migration
 * 2: its lease stays, seen from node 2. The next run, on node 2, waits for
 * it to expire, takes it over naming the killed run, and refuses the
 * 'running' row the killed run left (exit 1) without applying anything;
 * after 'repair' on node 3, 'up' on node 2 applies 2 and 3: every
 * migration applied once, the same history on all three nodes, no lease.
 */
START_TEST(galera_killed_holder_is_taken_over_from_another_node)
{
	struct driver_conn *c;
	struct gate *g;
	struct run r;
	char *urls[GALERA_NODES], *want, *err, *v;
	int pid, rc;

	if (!galera_setup(urls))
		return;
	project_config(proj, urls[0], 60, "lease = 2s\n", NULL);
	g = gate_hold(proj, 0);
	galera_gated_history(g);
	want = up_killed_at_gate(g);
	c = galera_connect(1);
	v = test_scalar(c, "SELECT CONCAT('pid ', pid) FROM schema_migrations_lock");
	ck_assert_msg(v && strcmp(v, want) == 0, "node 2 sees the lease of %s, not the killed run's (%s)",
		      v ? v : "nobody", want);
	free(v);
	test_driver()->close(c);

	pid = START("up2.err", "up", "--url", urls[1]);
	rc = wait_exit_code(pid, 120);
	err = slurp(proj, "up2.err");
	expect_in(err, "took over the expired migration lease of host ", "the run on node 2");
	expect_in(err, want, "the run on node 2 (the previous owner)");
	ck_assert_msg(rc == 1, "up on node 2 after the takeover exited %d:\n%s", rc, err ? err : "");
	expect_in(err, "migration 2 (two) did not complete (recorded as running", "the run on node 2");
	free(err);

	r = CLI("repair", "--url", urls[2]);
	expect(&r, 0, "repair on node 3");
	run_free(&r);
	r = CLI("up", "--url", urls[1]);
	expect(&r, 0, "up on node 2 after repair");
	run_free(&r);
	galera_expect_nodes("1,2,3");
	free(want);
	galera_free(urls);
}
END_TEST

/*
 * The lease of a run killed on node 1 (lease 30 s: still live), looked at
 * and released from the other nodes: 'lock status' on node 2 names it,
 * 'lock release' on node 3 refuses it (exit 1) and leaves it, 'lock
 * release --force' on node 2 removes it naming it, and 'lock status' on
 * node 3 at once says free. Then the history is put right from node 3.
 */
START_TEST(galera_lock_status_and_release_from_other_nodes)
{
	struct driver_conn *c;
	struct gate *g;
	struct run r;
	char *urls[GALERA_NODES], *want, *v;

	if (!galera_setup(urls))
		return;
	project_config(proj, urls[0], 60, "lease = 30s\n", NULL);
	g = gate_hold(proj, 0);
	galera_gated_history(g);
	want = up_killed_at_gate(g);

	r = CLI("lock", "status", "--url", urls[1]);
	expect(&r, 0, "lock status on node 2");
	expect_in(r.out, "table lock (lock_mode = auto: the server is a Galera/PXC cluster node (wsrep_on)", "lock status on node 2");
	expect_in(r.out, want, "lock status on node 2");
	run_free(&r);
	r = CLI("lock", "release", "--url", urls[2]);
	expect(&r, 1, "lock release of a live lease on node 3");
	expect_in(r.err, "is live: held by host ", "lock release on node 3");
	expect_in(r.err, want, "lock release on node 3");
	run_free(&r);
	c = galera_connect(0);
	v = test_scalar(c, "SELECT COUNT(*) FROM schema_migrations_lock");
	ck_assert_msg(v && strcmp(v, "1") == 0, "the refused release left %s lease rows on node 1", v ? v : "?");
	free(v);
	test_driver()->close(c);
	r = CLI("lock", "release", "--force", "--url", urls[1]);
	expect(&r, 0, "lock release --force on node 2");
	expect_in(r.out, "released the live lease of host ", "lock release --force on node 2");
	expect_in(r.out, want, "lock release --force on node 2");
	run_free(&r);
	r = CLI("lock", "status", "--url", urls[2]);
	expect(&r, 0, "lock status on node 3 after the release");
	expect_in(r.out, ": free", "lock status on node 3 after the release");
	run_free(&r);

	r = CLI("repair", "--url", urls[2]);
	expect(&r, 0, "repair on node 3");
	run_free(&r);
	r = CLI("up", "--url", urls[2]);
	expect(&r, 0, "up on node 3");
	run_free(&r);
	galera_expect_nodes("1,2,3");
	free(want);
	galera_free(urls);
}
END_TEST

/*
 * Two runs on two nodes write the lease row at once, ROUNDS times: the
 * test holds an uncommitted row of the same key on node 2 and on node 3,
 * so each run stands in its INSERT of the lease, then lets both go. The
 * loser's INSERT always fails (a certification conflict or brute-force
 * abort, 1213, or a duplicate key, 1062, depending on which node applied
 * what first): it lost the race and must wait for the winner, never exit
 * 1, never hold the lease too. Each round adds one migration: it is
 * applied once, by one of the two.
 */
START_TEST(galera_lease_writes_racing_on_two_nodes)
{
	enum { ROUNDS = 5 };
	static const char hold[] = "INSERT INTO schema_migrations_lock (name, host, pid, run_id, taken_at, expires_at)"
				   " VALUES ('migrate', 'test', 0, 'test', 0, 0)";
	struct driver_error derr = { "", -1 };
	struct run r;
	char *urls[GALERA_NODES], name[64], want[256];
	long cert0, bf0;
	int k, j;

	if (!galera_setup(urls))
		return;
	project_config(proj, urls[0], 60, "lease = 30s\n", NULL);
	write_migration(proj, "1_one.sql",
			"-- migrate:up\nCREATE TABLE applied (id INTEGER AUTO_INCREMENT PRIMARY KEY, n INTEGER);\n"
			"INSERT INTO applied (n) VALUES (1);\n-- migrate:down\nDROP TABLE applied;\n");
	r = CLI("up");
	expect(&r, 0, "up on node 1 (the lease table)");
	run_free(&r);
	snprintf(want, sizeof(want), "1");
	cert0 = galera_status_sum("WSREP_LOCAL_CERT_FAILURES");
	bf0 = galera_status_sum("WSREP_LOCAL_BF_ABORTS");
	for (k = 2; k < 2 + ROUNDS; k++) {
		struct driver_conn *h[2];
		int pids[2];
		char *text = xasprintf("-- migrate:up\nINSERT INTO applied (n) VALUES (%d);\n-- migrate:down\n"
				       "DELETE FROM applied WHERE n = %d;\n", k, k);

		snprintf(name, sizeof(name), "%d_m%d.sql", k, k);
		write_migration(proj, name, text);
		free(text);
		for (j = 0; j < 2; j++) {
			h[j] = galera_connect(j + 1);
			ck_assert_msg(galera_exec(h[j], "START TRANSACTION", &derr) == 0 &&
					      galera_exec(h[j], hold, &derr) == 0,
				      "node %d: %s", j + 2, derr.message);
		}
		for (j = 0; j < 2; j++) {
			long long until = mono_ms() + 60000;
			snprintf(name, sizeof(name), "race%d_node%d.err", k, j + 2);
			pids[j] = start_migrate(proj, name, (const char *const[]){ "up", "--url", urls[j + 1], NULL });
			/* it stands in its INSERT of the lease, behind the test's row */
			while (!galera_running(j + 1, "INSERT INTO `schema_migrations_lock`%")) {
				ck_assert_msg(mono_ms() < until, "the run on node %d never wrote the lease", j + 2);
				ck_assert_msg(waitpid(pids[j], NULL, WNOHANG) == 0, "the run on node %d ended early", j + 2);
				sleep_ms(20);
			}
		}
		/* both go at once; a brute-force abort may already have ended a holder's transaction */
		for (j = 0; j < 2; j++) {
			galera_exec(h[j], "ROLLBACK", &derr);
			test_driver()->close(h[j]);
		}
		for (j = 0; j < 2; j++) {
			int rc = wait_exit_code(pids[j], 120);
			char *e;
			snprintf(name, sizeof(name), "race%d_node%d.err", k, j + 2);
			e = slurp(proj, name);
			ck_assert_msg(rc == 0, "round %d: the run on node %d exited %d:\n%s", k - 1, j + 2, rc, e ? e : "");
			free(e);
		}
		snprintf(want + strlen(want), sizeof(want) - strlen(want), ",%d", k);
	}
	fprintf(stderr, "galera lease race: %d rounds, %ld certification failures, %ld brute-force aborts\n", ROUNDS,
		galera_status_sum("WSREP_LOCAL_CERT_FAILURES") - cert0, galera_status_sum("WSREP_LOCAL_BF_ABORTS") - bf0);
	galera_expect_nodes(want);
	galera_free(urls);
}
END_TEST

/*
 * A run waiting for the lease on node 2 while node 2 cannot apply what the
 * cluster commits (the test holds LOCK TABLE stall READ there, and writes
 * to it on node 1: node 2's applier waits, as it would behind a long DDL
 * under TOI): its causal reads of the lease time out (error 1205, after
 * repl.causal_read_timeout, 1 s for this test), and it says so and keeps
 * waiting within lock_timeout instead of failing. Once node 2 catches up
 * and the holder is let go, it finds nothing left to do.
 */
START_TEST(galera_waiting_run_outlasts_a_node_that_lags)
{
	static const char fast[] = "SET GLOBAL wsrep_provider_options = 'repl.causal_read_timeout=PT1S'";
	static const char slow[] = "SET GLOBAL wsrep_provider_options = 'repl.causal_read_timeout=PT30S'";
	struct driver_error derr = { "", -1 };
	struct driver_conn *n1, *n2;
	struct gate *g;
	char *urls[GALERA_NODES], *text, *e;
	int holder, waiter, rc;

	if (!galera_setup(urls))
		return;
	project_config(proj, urls[0], 60, "lease = 30s\n", NULL);
	g = gate_hold(proj, 0);
	text = xasprintf("-- migrate:up\n%s\nINSERT INTO applied (n) VALUES (2);\n"
			 "-- migrate:down\nDELETE FROM applied WHERE n = 2;\n", gate_sql(g));
	write_migration(proj, "1_one.sql",
			"-- migrate:up\nCREATE TABLE applied (id INTEGER AUTO_INCREMENT PRIMARY KEY, n INTEGER);\n"
			"CREATE TABLE stall (id INTEGER PRIMARY KEY);\n"
			"INSERT INTO applied (n) VALUES (1);\n-- migrate:down\nDROP TABLE stall;\nDROP TABLE applied;\n");
	write_migration(proj, "2_two.sql", text);
	free(text);
	holder = START("up.err", "up");
	gate_wait(g, holder, "two", 60);
	waiter = START("up2.err", "up", "--url", urls[1]);
	wait_for_text(proj, "up2.err", "waiting up to 60 s (lock_timeout) for the migration lease", 60);

	n2 = galera_connect(1);
	n1 = galera_connect(0);
	ck_assert_msg(galera_exec(n2, fast, &derr) == 0 &&
			      galera_exec(n2, "LOCK TABLE stall READ", &derr) == 0 &&
			      galera_exec(n1, "INSERT INTO stall VALUES (1)", &derr) == 0,
		      "stalling node 2: %s", derr.message);
	wait_for_text(proj, "up2.err", "cannot read the migration lease on ", 60);
	e = slurp(proj, "up2.err");
	expect_in(e, "Lock wait timeout exceeded", "the waiting run on node 2");
	free(e);
	ck_assert_msg(galera_exec(n2, "UNLOCK TABLES", &derr) == 0 &&
			      galera_exec(n2, slow, &derr) == 0,
		      "node 2: %s", derr.message);
	test_driver()->close(n1);
	test_driver()->close(n2);
	gate_release(g);
	rc = wait_exit_code(holder, 120);
	e = slurp(proj, "up.err");
	ck_assert_msg(rc == 0, "the holder on node 1 exited %d:\n%s", rc, e ? e : "");
	free(e);
	rc = wait_exit_code(waiter, 120);
	e = slurp(proj, "up2.err");
	ck_assert_msg(rc == 0, "the waiting run on node 2 exited %d:\n%s", rc, e ? e : "");
	free(e);
	galera_expect_nodes("1,2");
	galera_free(urls);
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
	tcase_add_test(tc, galera_session_reads_causally_and_replicates_ddl);
	tcase_add_test(tc, galera_killed_holder_is_taken_over_from_another_node);
	tcase_add_test(tc, galera_lock_status_and_release_from_other_nodes);
	tcase_add_test(tc, galera_lease_writes_racing_on_two_nodes);
	tcase_add_test(tc, galera_waiting_run_outlasts_a_node_that_lags);
	suite_add_tcase(s, tc);
	return s;
}
