/*
 * check_fleet.c - fleets (--targets, --parallel, --canary) and 'drift', end
 * to end with the built binary on the driver under test (SPEC section 13).
 *
 * A fleet here is several real databases of the driver under test: SQLite
 * files beside the project's, or databases made on the test server next to
 * the project's own (dropped at teardown), and on PostgreSQL schemas in the
 * project's database. Each test checks the exit code, the output and the
 * state of every target afterwards.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../migrate/util.h"
#include "testutil.h"

#define NDB 4

static char *proj;
static char *url;
static char *names[NDB];   /* the targets' database names (SQLite: file paths) */
static char *urls[NDB];

#define CLI(...) run_migrate(proj, NULL, (const char *const[]){ __VA_ARGS__, NULL })

static int is_sqlite(void)
{
	return test_driver()->dialect == SQL_DIALECT_SQLITE;
}

/* Settings for target i (borrowing names[i]), like the project's database otherwise. */
static struct driver_settings target_settings(int i)
{
	struct driver_settings s = *test_db_settings();

	s.database = names[i];
	return s;
}

static void setup(void)
{
	struct driver_error err;
	int i;

	project_new(&proj, &url);
	project_config(proj, url, 10, NULL, NULL);
	for (i = 0; i < NDB; i++) {
		if (is_sqlite()) {
			names[i] = xasprintf("%s/shard%d.db", proj, i);
			urls[i] = xasprintf("sqlite://%s", names[i]);
		} else {
			struct driver_settings s;
			const char *slash = strrchr(url, '/');
			names[i] = xasprintf("%s_f%d", test_db_settings()->database, i);
			urls[i] = xasprintf("%.*s/%s", (int)(slash - url), url, names[i]);
			s = target_settings(i);
			err.message[0] = '\0';
			ck_assert_msg(test_driver()->create_database(&s, &err) == DRIVER_OK, "create %s: %s", names[i],
				      err.message);
		}
	}
	write_migration(proj, "1_a.sql",
			"-- migrate:up\n"
			"CREATE TABLE t (id INTEGER PRIMARY KEY, a VARCHAR(20) DEFAULT 'x' NOT NULL);\n"
			"CREATE INDEX t_a ON t (a);\n"
			"-- migrate:down\nDROP TABLE t;\n");
	write_migration(proj, "2_b.sql",
			"-- migrate:up\nCREATE TABLE u (id INTEGER PRIMARY KEY, n INTEGER DEFAULT 5);\n"
			"-- migrate:down\nDROP TABLE u;\n");
}

static void teardown(void)
{
	struct driver_error err;
	int i;

	for (i = 0; i < NDB; i++) {
		if (!is_sqlite()) {
			struct driver_settings s = target_settings(i);
			test_driver()->drop_database(&s, &err);
		}
		free(names[i]);
		free(urls[i]);
		names[i] = urls[i] = NULL;
	}
	project_free(&proj, &url);
}

/* Runs each statement (NULL-terminated) on target i, or on the project's database when i < 0. */
static void sql_on(int i, const char *const *stmts)
{
	struct driver_settings s = i < 0 ? *test_db_settings() : target_settings(i);
	struct driver_conn *c = NULL;
	struct driver_error err;

	err.message[0] = '\0';
	ck_assert_msg(test_driver()->connect(&s, &c, &err) == DRIVER_OK, "connect: %s", err.message);
	for (; *stmts; stmts++) {
		err.message[0] = '\0';
		ck_assert_msg(test_driver()->exec(c, *stmts, strlen(*stmts), NULL, &err) == DRIVER_OK, "%s: %s", *stmts,
			      err.message);
	}
	test_driver()->close(c);
}

static long rows_on(int i, const char *table)
{
	struct driver_settings s = target_settings(i);
	struct driver_conn *c = NULL;
	struct driver_error err;
	int exists = 0;
	long n = -1;

	err.message[0] = '\0';
	ck_assert_msg(test_driver()->connect(&s, &c, &err) == DRIVER_OK, "connect: %s", err.message);
	ck_assert(test_driver()->table_exists(c, table, &exists, &err) == DRIVER_OK);
	if (exists) {
		char *sql = xasprintf("SELECT COUNT(*) FROM %s", table);
		char *v = test_scalar(c, sql);
		n = atol(v);
		free(v);
		free(sql);
	}
	test_driver()->close(c);
	return n;
}

/* config.ini with a [targets NAME] section whose body is text. */
static void targets_config(const char *text)
{
	char *shared = xasprintf("\n[targets fleet]\n%s\n", text);
	char *cfg = xasprintf("[migrate]\nlock_timeout = 10\n\n[development]\nurl = %s\n%s", url, shared);

	write_file(proj, "config.ini", cfg);
	free(cfg);
	free(shared);
}

/* A URL that cannot be reached: a database that does not exist (SQLite: a file in no directory). */
static char *unreachable_url(void)
{
	if (is_sqlite())
		return xasprintf("sqlite://%s/no/such/dir/x.db", proj);
	return xasprintf("%.*s/%s_none", (int)(strrchr(url, '/') - url), url, test_db_settings()->database);
}

static void expect_no_password(const struct run *r)
{
	const char *pw = test_db_settings()->password;

	if (pw && *pw) {
		ck_assert_msg(!strstr(r->out ? r->out : "", pw), "stdout holds the password:\n%s", r->out);
		ck_assert_msg(!strstr(r->err ? r->err : "", pw), "stderr holds the password:\n%s", r->err);
	}
}

/* ---- fleets ------------------------------------------------------------------------ */

START_TEST(a_broken_target_fails_alone_and_the_exit_code_is_the_worst)
{
	char *bad = unreachable_url(), *text;
	struct run r;
	int i;

	/* target 1 already has a table the first migration makes: that migration fails there (exit 1) */
	sql_on(1, (const char *const[]){ "CREATE TABLE t (id INTEGER)", NULL });
	text = xasprintf("urls = %s %s %s \\\n  %s %s", urls[0], urls[1], bad, urls[2], urls[3]);
	targets_config(text);
	r = CLI("up", "--targets", "fleet", "--parallel", "2");
	expect(&r, 3, "up --targets with an unreachable and a failing target");
	expect_no_password(&r);
	for (i = 0; i < NDB; i++) {
		if (i == 1)
			continue;
		ck_assert_int_eq(rows_on(i, "schema_migrations"), 2);
		ck_assert_int_eq(rows_on(i, "u"), 0);
	}
	/* the failing target: nothing after the failed migration (MySQL records it as failed) */
	ck_assert_int_eq(rows_on(1, "schema_migrations"), test_driver()->dialect == SQL_DIALECT_MYSQL ? 1 : 0);
	ck_assert_int_eq(rows_on(1, "u"), -1);
	expect_in(r.out, "5 targets: 3 ok, 2 failed, 0 skipped", "stdout");
	expect_in(r.out, "exit 3", "stdout");
	expect_in(r.out, "exit 1", "stdout");
	expect_in(r.err, "up on 2 of 5 targets failed", "stderr");
	run_free(&r);

	/* nothing pending on the healthy ones: status says so per target */
	r = CLI("status", "--targets", "fleet");
	expect(&r, 3, "status --targets");
	expect_in(r.out, "2 applied, 0 pending", "stdout");
	run_free(&r);
	free(text);
	free(bad);
}
END_TEST

START_TEST(the_canary_stops_the_rest)
{
	char *text;
	struct run r;
	int i;

	sql_on(0, (const char *const[]){ "CREATE TABLE t (id INTEGER)", NULL });
	text = xasprintf("urls = %s %s %s %s", urls[0], urls[1], urls[2], urls[3]);
	targets_config(text);
	r = CLI("up", "--targets", "fleet", "--canary", "1");
	expect(&r, 1, "up --canary 1 with a failing canary");
	expect_in(r.out, "4 targets: 0 ok, 1 failed, 3 skipped", "stdout");
	expect_in(r.out, "skipped", "stdout");
	for (i = 1; i < NDB; i++)
		ck_assert_int_eq(rows_on(i, "schema_migrations"), -1);
	run_free(&r);

	/* a healthy canary: then every target runs */
	free(text);
	text = xasprintf("urls = %s %s %s", urls[1], urls[2], urls[3]);
	targets_config(text);
	r = CLI("up", "--targets", "fleet", "--canary", "2", "--parallel", "1");
	expect(&r, 0, "up --canary 2");
	for (i = 1; i < NDB; i++)
		ck_assert_int_eq(rows_on(i, "schema_migrations"), 2);
	run_free(&r);
	free(text);
}
END_TEST

START_TEST(targets_from_a_file_relative_to_the_config)
{
	char *text;
	struct run r;
	json_t *doc, *ts;
	json_error_t jerr;
	size_t k;

	text = xasprintf("# the shards\n%s\n\n   %s   # the second\n# %s\n", urls[0], urls[1], urls[2]);
	write_file(proj, "conf/shards.txt", text);
	free(text);
	text = xasprintf("[migrate]\nlock_timeout = 10\nmigrations_dir = ../migrations\n\n[development]\nurl = %s\n\n"
			 "[targets fleet]\nurls_file = shards.txt\n", url);
	write_file(proj, "conf/config.ini", text);
	r = CLI("--config", "conf/config.ini", "--format", "json", "up", "--targets", "fleet");
	expect(&r, 0, "up --targets from urls_file");
	doc = json_loads(r.out, 0, &jerr);
	ck_assert_msg(doc != NULL, "not JSON: %s", r.out);
	ts = json_object_get(doc, "targets");
	ck_assert_int_eq(json_array_size(ts), 2);
	for (k = 0; k < 2; k++) {
		json_t *t = json_array_get(ts, k);
		ck_assert_str_eq(json_string_value(json_object_get(t, "result")), "ok");
		ck_assert_int_eq(json_integer_value(json_object_get(t, "exit")), 0);
		ck_assert_str_eq(json_string_value(json_object_get(t, "current")), "2");
	}
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(doc, "summary"), "ok")), 2);
	json_decref(doc);
	ck_assert_int_eq(rows_on(0, "schema_migrations"), 2);
	ck_assert_int_eq(rows_on(1, "schema_migrations"), 2);
	ck_assert_int_eq(rows_on(2, "schema_migrations"), -1); /* commented out */
	run_free(&r);
	free(text);
}
END_TEST

START_TEST(targets_from_a_query_on_the_environments_database)
{
	const char *create = "CREATE TABLE tenants (id INTEGER PRIMARY KEY, url VARCHAR(500), active INTEGER)";
	char *ins[3];
	struct run r;
	json_t *doc, *ts;
	json_error_t jerr;
	int i;

	for (i = 0; i < 3; i++)
		ins[i] = xasprintf("INSERT INTO tenants VALUES (%d, '%s', %d)", i, urls[i], i != 1);
	sql_on(-1, (const char *const[]){ create, ins[0], ins[1], ins[2], NULL });
	targets_config("urls_query = SELECT url FROM tenants WHERE active = 1 ORDER BY id");
	r = CLI("up", "--targets", "fleet");
	expect(&r, 0, "up --targets from urls_query");
	run_free(&r);
	ck_assert_int_eq(rows_on(0, "schema_migrations"), 2);
	ck_assert_int_eq(rows_on(1, "schema_migrations"), -1);
	ck_assert_int_eq(rows_on(2, "schema_migrations"), 2);

	/* a new migration: status shows it pending on each, --check fails, up applies it */
	write_migration(proj, "3_c.sql", "-- migrate:up\nCREATE TABLE w (id INTEGER);\n-- migrate:down\nDROP TABLE w;\n");
	r = CLI("--format", "json", "status", "--check", "--targets", "fleet");
	expect(&r, 1, "status --check --targets with one pending");
	doc = json_loads(r.out, 0, &jerr);
	ck_assert_msg(doc != NULL, "not JSON: %s", r.out);
	ts = json_object_get(doc, "targets");
	ck_assert_int_eq(json_array_size(ts), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(ts, 0), "pending")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(ts, 1), "applied")), 2);
	json_decref(doc);
	run_free(&r);
	r = CLI("up", "--targets", "fleet");
	expect(&r, 0, "up --targets, one new migration");
	expect_in(r.out, "applied 1, now at 3", "stdout");
	ck_assert_int_eq(rows_on(0, "w"), 0);
	ck_assert_int_eq(rows_on(2, "w"), 0);
	run_free(&r);
	for (i = 0; i < 3; i++)
		free(ins[i]);
}
END_TEST

START_TEST(a_malformed_target_url_is_a_config_error_naming_its_line)
{
	char *text, *bad;
	struct run r;

	/* a password and a port that is not one: the message names the line, never the password */
	bad = is_sqlite() ? xstrdup("postgres://app:hunter2secret@db.example:54x2/app")
			  : xasprintf("%.*s:54x2/app", (int)(strrchr(url, ':') - url), url);
	text = xasprintf("urls = %s \\\n  %s", urls[0], bad);
	targets_config(text);
	r = CLI("up", "--targets", "fleet");
	expect(&r, 2, "up --targets with a malformed URL");
	expect_in(r.err, "config.ini:9: target is not a valid database URL", "stderr");
	ck_assert_msg(!strstr(r.err, "hunter2secret"), "stderr holds the password: %s", r.err);
	expect_no_password(&r);
	ck_assert_int_eq(rows_on(0, "schema_migrations"), -1); /* nothing ran */
	run_free(&r);

	/* an unknown section, a command that takes no --targets, a bad --parallel */
	r = CLI("up", "--targets", "nope");
	expect(&r, 2, "unknown targets");
	expect_in(r.err, "unknown targets 'nope'", "stderr");
	expect_in(r.err, "known targets: fleet", "stderr");
	run_free(&r);
	r = CLI("down", "--targets", "fleet");
	expect(&r, 2, "down --targets");
	run_free(&r);
	r = CLI("up", "--targets", "fleet", "--parallel", "0");
	expect(&r, 2, "--parallel 0");
	run_free(&r);
	free(text);
	free(bad);
}
END_TEST

/* PostgreSQL: one schema per tenant in the project's database. */
START_TEST(schemas_in_one_database_are_a_fleet)
{
	struct run r;
	char *v;

	if (test_driver()->dialect != SQL_DIALECT_POSTGRES)
		return;
	sql_on(-1, (const char *const[]){ "CREATE SCHEMA \"tenant one\"", "CREATE SCHEMA t2", "CREATE SCHEMA t3", NULL });
	write_migration(proj, "3_c.sql",
			"-- migrate:up\nCREATE TABLE sp (v TEXT);\nINSERT INTO sp VALUES (current_setting('search_path'));\n"
			"-- migrate:down\nDROP TABLE sp;\n");
	/* a migration that moves its session: the history stays in the tenant's schema */
	write_migration(proj, "4_d.sql", "-- migrate:up\nSET search_path TO public;\nSELECT 1;\n-- migrate:down\nSELECT 1;\n");
	/* one a line: a name may hold a space */
	write_file(proj, "tenants.txt", "# schemas\ntenant one\nt2\nt3\nnosuch\n");
	targets_config("urls_file = tenants.txt");
	r = CLI("up", "--targets", "fleet", "--parallel", "3");
	expect(&r, 3, "up over schemas, one missing");
	expect_in(r.out, "schema 'nosuch' does not exist", "stdout");
	expect_in(r.out, "4 targets: 3 ok, 1 failed", "stdout");
	run_free(&r);
	/* each schema has its tables and its own history; public has neither */
	v = db_scalar("SELECT string_agg(table_schema || '.' || table_name, ',' ORDER BY table_schema || '.' || table_name) FROM information_schema.tables"
		      " WHERE table_name IN ('schema_migrations', 't', 'u', 'sp')");
	ck_assert_str_eq(v, "t2.schema_migrations,t2.sp,t2.t,t2.u,t3.schema_migrations,t3.sp,t3.t,t3.u,"
			    "tenant one.schema_migrations,tenant one.sp,tenant one.t,tenant one.u");
	free(v);
	/* the migration's search_path was exactly its schema, quoted */
	v = db_scalar("SELECT v FROM \"tenant one\".sp");
	ck_assert_str_eq(v, "\"tenant one\"");
	free(v);
	v = db_scalar("SELECT count(*) FROM \"tenant one\".schema_migrations");
	ck_assert_str_eq(v, "4");
	free(v);
	/* drift per schema, the schemas from a query: clean, then a hand edit in one */
	sql_on(-1, (const char *const[]){ "CREATE TABLE tenants (name TEXT)",
		   "INSERT INTO tenants VALUES ('tenant one'), ('t2'), ('t3')", NULL });
	targets_config("urls_query = SELECT name FROM tenants ORDER BY name");
	r = CLI("drift", "--targets", "fleet");
	expect(&r, 0, "drift over clean schemas");
	run_free(&r);
	sql_on(-1, (const char *const[]){ "ALTER TABLE t2.t ADD COLUMN hand INTEGER", NULL });
	r = CLI("drift", "--targets", "fleet");
	expect(&r, 1, "drift over schemas, one edited");
	expect_in(r.out, "failed   t2: exit 1: 1 difference: extra column 't.hand'", "stdout");
	expect_in(r.out, "3 targets: 2 ok, 1 failed", "stdout");
	run_free(&r);
}
END_TEST

START_TEST(lint_over_a_fleet_lints_each_targets_pending_migrations)
{
	char *text;
	struct run r;
	json_t *doc, *ts;
	json_error_t jerr;
	size_t k;

	text = xasprintf("urls = %s %s", urls[0], urls[1]);
	targets_config(text);
	r = CLI("up", "--targets", "fleet");
	expect(&r, 0, "up --targets");
	run_free(&r);
	/* target 1 is behind by one migration that drops a column: a warning there only */
	write_migration(proj, "3_c.sql", "-- migrate:up\nALTER TABLE u DROP COLUMN n;\n-- migrate:down\nALTER TABLE u ADD COLUMN n INTEGER;\n");
	r = CLI("up", "--targets", "fleet", "--canary", "1", "--parallel", "1");
	expect(&r, 0, "up on the first target only: a canary of one, then the rest");
	run_free(&r);
	r = CLI("-u", urls[1], "down");
	expect(&r, 0, "down on target 1");
	run_free(&r);
	r = CLI("--format", "json", "lint", "--targets", "fleet");
	expect(&r, 0, "lint --targets with a warning");
	doc = json_loads(r.out, 0, &jerr);
	ck_assert_msg(doc != NULL, "not JSON: %s", r.out);
	ts = json_object_get(doc, "targets");
	ck_assert_int_eq(json_array_size(ts), 2);
	for (k = 0; k < 2; k++) {
		json_t *t = json_array_get(ts, k);
		int behind = json_integer_value(json_object_get(t, "index")) == 1;
		char *events = json_dumps(json_object_get(t, "events"), 0);
		ck_assert_int_eq(json_integer_value(json_object_get(t, "warnings")), behind ? 1 : 0);
		ck_assert_int_eq(json_integer_value(json_object_get(t, "errors")), 0);
		ck_assert_int_eq(strstr(events, "drop-column") != NULL, behind);
		free(events);
	}
	json_decref(doc);
	run_free(&r);
	r = CLI("lint", "--rules", "--targets", "fleet");
	expect(&r, 2, "lint --rules --targets");
	run_free(&r);
	free(text);
}
END_TEST

/* ---- sessions, connections and interrupts ------------------------------------------- */

static int is_postgres(void)
{
	return test_driver()->dialect == SQL_DIALECT_POSTGRES;
}

/* Polls sql on the project's database until it returns want (up to timeout_s), failing the test otherwise. */
static void wait_value(const char *sql, const char *want, int timeout_s, const char *what)
{
	long long until = mono_ms() + timeout_s * 1000LL;

	for (;;) {
		char *v = db_scalar(sql);
		int same = v && strcmp(v, want) == 0;

		if (same) {
			free(v);
			return;
		}
		if (mono_ms() > until)
			ck_abort_msg("%s: '%s' gave %s, not %s, after %d s", what, sql, v ? v : "NULL", want, timeout_s);
		free(v);
		sleep_ms(20);
	}
}

/*
 * PostgreSQL: the schemas of one database share their worker's connection
 * (one backend for them all with --parallel 1), and nothing one schema's
 * migration leaves in the session reaches the next: a setting, a custom
 * setting, a temporary table, a prepared statement, a session advisory
 * lock. Each migration sees its search_path exactly its schema.
 */
START_TEST(schemas_share_a_connection_but_no_session_state)
{
	struct run r;
	char *v;

	if (!is_postgres())
		return;
	sql_on(-1, (const char *const[]){ "CREATE SCHEMA s1", "CREATE SCHEMA s2", "CREATE SCHEMA s3", NULL });
	/* first what this session holds, then leave all of it behind */
	write_migration(proj, "3_c.sql",
			"-- migrate:up\n"
			"CREATE TABLE seen AS SELECT pg_backend_pid() AS pid, current_setting('search_path') AS sp,\n"
			"  COALESCE(NULLIF(current_setting('migrate_test.leak', true), ''), '-') AS leak,\n"
			"  (current_setting('work_mem') = '7777kB')::int AS work_mem,\n"
			"  (SELECT count(*) FROM pg_catalog.pg_class WHERE relname = 'leak_tmp' AND relpersistence = 't') AS temps,\n"
			"  (SELECT count(*) FROM pg_catalog.pg_prepared_statements) AS prepared,\n"
			"  (SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()\n"
			"     AND objid = 4242) AS locks;\n"
			"SELECT set_config('migrate_test.leak', current_schema(), false);\n"
			"SET work_mem = '7777kB';\n"
			"CREATE TEMP TABLE leak_tmp (x INTEGER);\n"
			"PREPARE leak_stmt AS SELECT 1;\n"
			"SELECT pg_advisory_lock(4242);\n"
			"-- migrate:down\nDROP TABLE seen;\n");
	targets_config("urls = s1 s2 s3");
	r = CLI("up", "--targets", "fleet", "--parallel", "1");
	expect(&r, 0, "up over three schemas on one worker");
	expect_in(r.out, "3 targets: 3 ok, 0 failed, 0 skipped", "stdout");
	run_free(&r);
	v = db_scalar("SELECT string_agg(concat_ws('|', sp, leak, work_mem, temps, prepared, locks), ',' ORDER BY sp)"
		      " FROM (SELECT * FROM s1.seen UNION ALL SELECT * FROM s2.seen UNION ALL SELECT * FROM s3.seen) x");
	ck_assert_str_eq(v, "s1|-|0|0|0|0,s2|-|0|0|0|0,s3|-|0|0|0|0");
	free(v);
	/* one connection served them all */
	v = db_scalar("SELECT count(DISTINCT pid) FROM (SELECT pid FROM s1.seen UNION ALL SELECT pid FROM s2.seen"
		      " UNION ALL SELECT pid FROM s3.seen) x");
	ck_assert_str_eq(v, "1");
	free(v);
	v = db_scalar("SELECT string_agg(n::text, ',' ORDER BY s) FROM (SELECT 's1' s, count(*) n FROM s1.schema_migrations"
		      " UNION ALL SELECT 's2', count(*) FROM s2.schema_migrations"
		      " UNION ALL SELECT 's3', count(*) FROM s3.schema_migrations) x");
	ck_assert_str_eq(v, "3,3,3");
	free(v);
	/* the worker's connection went with it: no session, no lock left */
	wait_value("SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE datname = current_database()"
		   " AND pid <> pg_backend_pid() AND backend_type = 'client backend'", "0", 20, "sessions left");
	wait_value("SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND database ="
		   " (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())", "0", 20, "locks left");
	/* nothing pending: status over the shared connection */
	r = CLI("--format", "json", "status", "--check", "--targets", "fleet", "--parallel", "1");
	expect(&r, 0, "status --check over the schemas");
	run_free(&r);
}
END_TEST

/* The backend waiting at the gate (PostgreSQL), its pid as text; the caller frees. */
static char *gated_backend(void)
{
	return db_scalar("SELECT pid FROM pg_catalog.pg_stat_activity WHERE wait_event_type = 'Lock'"
			 " AND query LIKE 'SELECT pg_advisory_xact_lock(%' LIMIT 1");
}

/*
 * PostgreSQL: the server ends the connection a schema's migration runs on
 * (pg_terminate_backend while it stands at a gate): that schema fails
 * alone, and the next schemas on the same worker run on a new connection.
 */
START_TEST(a_schema_whose_connection_is_killed_fails_alone)
{
	struct gate *g;
	char *text, *stmt, *killed, *v, *sql, *out, *err;
	int pid, code;

	if (!is_postgres())
		return;
	g = gate_hold(proj, 1);
	sql_on(-1, (const char *const[]){ "CREATE SCHEMA k1", "CREATE SCHEMA k2", "CREATE SCHEMA k3", NULL });
	/* the gate's statement, for k1 only: "...pg_advisory_xact_lock(N) WHERE current_schema() = 'k1';" */
	stmt = xstrdup(gate_sql(g));
	ck_assert(stmt[strlen(stmt) - 1] == ';');
	stmt[strlen(stmt) - 1] = '\0';
	text = xasprintf("-- migrate:up\nCREATE TABLE seen AS SELECT pg_backend_pid() AS pid;\n%s WHERE current_schema() = 'k1';\n"
			 "-- migrate:down\nDROP TABLE seen;\n",
			 stmt);
	write_migration(proj, "3_c.sql", text);
	targets_config("urls = k1 k2 k3");
	pid = start_migrate_to(proj, "up.out", "up.err",
			       (const char *const[]){ "up", "--targets", "fleet", "--parallel", "1", NULL });
	gate_wait(g, pid, NULL, 30);
	killed = gated_backend();
	ck_assert_msg(killed != NULL, "no backend at the gate");
	sql = xasprintf("SELECT pg_terminate_backend(%s)", killed);
	v = db_scalar(sql);
	ck_assert_str_eq(v, "t");
	free(v);
	code = wait_exit_code(pid, 60);
	out = slurp(proj, "up.out");
	err = slurp(proj, "up.err");
	ck_assert_msg(code == 1, "exit %d:\n%s\n%s", code, out, err);
	expect_in(out, "failed   k1: exit 1: ", "stdout");
	expect_in(out, "ok       k2: applied 3, now at 3", "stdout");
	expect_in(out, "ok       k3: applied 3, now at 3", "stdout");
	expect_in(out, "3 targets: 2 ok, 1 failed, 0 skipped", "stdout");
	gate_release(g);
	/* k1: the two migrations before stay applied, the third rolled back with its session */
	v = db_scalar("SELECT count(*) FROM k1.schema_migrations");
	ck_assert_str_eq(v, "2");
	free(v);
	v = db_scalar("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'k1' AND table_name = 'seen'");
	ck_assert_str_eq(v, "0");
	free(v);
	/* k2 and k3: one new connection, not the killed one */
	free(sql);
	sql = xasprintf("SELECT count(DISTINCT pid)::text || ',' || bool_and(pid <> %s)::text FROM"
			" (SELECT pid FROM k2.seen UNION ALL SELECT pid FROM k3.seen) x", killed);
	v = db_scalar(sql);
	ck_assert_str_eq(v, "1,true");
	free(v);
	free(sql);
	free(killed);
	free(out);
	free(err);
	free(stmt);
	free(text);
}
END_TEST

/* No run-wide lock left on a SQLite database: its lock file can be taken. */
static void expect_sqlite_unlocked(const char *db)
{
	char *lockpath = xasprintf("%s.migrate-lock", db);
	int fd = open(lockpath, O_RDWR);

	if (fd >= 0) {
		ck_assert_msg(flock(fd, LOCK_EX | LOCK_NB) == 0, "the run-wide lock of %s is still held", db);
		close(fd);
	}
	free(lockpath);
}

static char *history_of(int i, const char *version)
{
	struct driver_settings s = i < 0 ? *test_db_settings() : target_settings(i);
	struct driver_conn *c = NULL;
	struct driver_error err;
	char *sql = xasprintf("SELECT status FROM schema_migrations WHERE version = '%s'", version), *v;

	err.message[0] = '\0';
	ck_assert_msg(test_driver()->connect(&s, &c, &err) == DRIVER_OK, "connect: %s", err.message);
	v = test_scalar(c, sql);
	test_driver()->close(c);
	free(sql);
	return v;
}

/*
 * SQLite: SIGINT to the fleet's parent alone (not its process group) while
 * two targets, one on each worker, stand at a gate: each worker stops its
 * target as a single run does (its transaction:false migration recorded
 * failed), the two targets not started are reported so and untouched, no
 * lock is left, and migrate exits 130.
 */
START_TEST(sigint_to_the_parent_stops_every_worker_sqlite)
{
	struct gate *g;
	char *text, *out, *err, *v;
	int pid, code;
	long long until;

	if (!is_sqlite())
		return;
	g = gate_hold(proj, 0);
	text = xasprintf("-- migrate:up transaction:false\nCREATE TABLE g_before (id INTEGER);\n%s\n"
			 "-- migrate:down\nDROP TABLE g_before;\n",
			 gate_sql(g));
	write_migration(proj, "3_c.sql", text);
	free(text);
	text = xasprintf("urls = %s %s %s %s", url, urls[0], urls[1], urls[2]);
	targets_config(text);
	pid = start_migrate_to(proj, "up.out", "up.err",
			       (const char *const[]){ "up", "--targets", "fleet", "--parallel", "2", NULL });
	gate_wait(g, pid, "g_before", 30);
	/* the other worker's target (shard 0) at the gate too: its table before the gate is there */
	until = mono_ms() + 30000;
	while (rows_on(0, "g_before") < 0) {
		ck_assert_msg(mono_ms() < until, "the second worker did not reach the gate");
		sleep_ms(20);
	}
	ck_assert_int_eq(kill(pid, SIGINT), 0);
	code = wait_exit_code(pid, 60);
	out = slurp(proj, "up.out");
	err = slurp(proj, "up.err");
	ck_assert_msg(code == 130, "exit %d:\n%s\n%s", code, out, err);
	expect_in(out, "exit 130: ", "stdout");
	expect_in(out, "skipped  ", "stdout");
	expect_in(out, "interrupted before it started", "stdout");
	expect_in(out, "4 targets: 0 ok, 2 failed, 2 skipped", "stdout");
	expect_in(err, "interrupted", "stderr");
	gate_release(g);
	/* as a single run: the migration outside a transaction is recorded failed, on both */
	v = history_of(-1, "3");
	ck_assert_msg(v && strcmp(v, "failed") == 0, "the project's database: '%s'", v ? v : "nothing");
	free(v);
	v = history_of(0, "3");
	ck_assert_msg(v && strcmp(v, "failed") == 0, "shard 0: '%s'", v ? v : "nothing");
	free(v);
	/* the targets not started: untouched */
	ck_assert_int_eq(rows_on(1, "schema_migrations"), -1);
	ck_assert_int_eq(rows_on(2, "schema_migrations"), -1);
	expect_sqlite_unlocked(test_db_settings()->database);
	expect_sqlite_unlocked(names[0]);
	free(out);
	free(err);
	free(text);
}
END_TEST

/*
 * PostgreSQL: SIGTERM to the parent alone while two schemas, one on each
 * worker, stand at a gate: each worker cancels its statement and rolls its
 * migration back, the schemas not started are reported so and untouched,
 * no session or lock is left, and migrate exits 143. Then the fleet runs.
 */
START_TEST(sigterm_to_the_parent_stops_every_worker_postgres)
{
	struct gate *g;
	struct run r;
	char *text, *out, *err, *v;
	int pid, code;

	if (!is_postgres())
		return;
	g = gate_hold(proj, 1);
	sql_on(-1, (const char *const[]){ "CREATE SCHEMA a1", "CREATE SCHEMA a2", "CREATE SCHEMA a3", "CREATE SCHEMA a4", NULL });
	text = xasprintf("-- migrate:up\nCREATE TABLE g_before (id INTEGER);\n%s\n-- migrate:down\nDROP TABLE g_before;\n",
			 gate_sql(g));
	write_migration(proj, "3_c.sql", text);
	free(text);
	targets_config("urls = a1 a2 a3 a4");
	pid = start_migrate_to(proj, "up.out", "up.err",
			       (const char *const[]){ "up", "--targets", "fleet", "--parallel", "2", NULL });
	gate_wait(g, pid, NULL, 30);
	wait_value("SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE wait_event_type = 'Lock'"
		   " AND query LIKE 'SELECT pg_advisory_xact_lock(%'", "2", 30, "both workers at the gate");
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	code = wait_exit_code(pid, 60);
	out = slurp(proj, "up.out");
	err = slurp(proj, "up.err");
	ck_assert_msg(code == 143, "exit %d:\n%s\n%s", code, out, err);
	expect_in(out, "failed   a1: exit 130: ", "stdout");
	expect_in(out, "failed   a2: exit 130: ", "stdout");
	expect_in(out, "skipped  a3: skipped: interrupted before it started", "stdout");
	expect_in(out, "skipped  a4: skipped: interrupted before it started", "stdout");
	expect_in(out, "4 targets: 0 ok, 2 failed, 2 skipped", "stdout");
	expect_in(err, "interrupted", "stderr");
	/* no session of migrate is left, and no lock but the gate's */
	wait_value("SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE datname = current_database()"
		   " AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND state <> 'idle'", "0", 20,
		   "sessions left working");
	wait_value("SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND database ="
		   " (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())"
		   " AND NOT (classid = 0 AND objid = 7234001)", "0", 20, "locks left");
	gate_release(g);
	wait_value("SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE datname = current_database()"
		   " AND pid <> pg_backend_pid() AND backend_type = 'client backend'", "0", 20, "sessions left");
	/* a1 and a2: the third migration rolled back; a3 and a4: untouched */
	v = db_scalar("SELECT string_agg(table_schema || '.' || table_name, ',' ORDER BY table_schema, table_name)"
		      " FROM information_schema.tables WHERE table_schema LIKE 'a_'");
	ck_assert_str_eq(v, "a1.schema_migrations,a1.t,a1.u,a2.schema_migrations,a2.t,a2.u");
	free(v);
	v = db_scalar("SELECT (SELECT count(*) FROM a1.schema_migrations) || ',' || (SELECT count(*) FROM a2.schema_migrations)");
	ck_assert_str_eq(v, "2,2");
	free(v);
	/* and the next run finishes the fleet */
	r = CLI("up", "--targets", "fleet");
	expect(&r, 0, "up --targets after the interrupt");
	expect_in(r.out, "4 targets: 4 ok, 0 failed, 0 skipped", "stdout");
	run_free(&r);
	free(out);
	free(err);
}
END_TEST

/*
 * PostgreSQL: the parent killed (SIGKILL: nothing of it runs) while two
 * schemas stand at a gate: the workers see it gone, cancel their
 * statements and roll back, with the gate still held; nothing is left.
 */
START_TEST(workers_stop_when_the_parent_is_killed)
{
	struct gate *g;
	char *text, *v;
	int pid, code;

	if (!is_postgres())
		return;
	g = gate_hold(proj, 1);
	sql_on(-1, (const char *const[]){ "CREATE SCHEMA b1", "CREATE SCHEMA b2", NULL });
	text = xasprintf("-- migrate:up\nCREATE TABLE g_before (id INTEGER);\n%s\n-- migrate:down\nDROP TABLE g_before;\n",
			 gate_sql(g));
	write_migration(proj, "3_c.sql", text);
	free(text);
	targets_config("urls = b1 b2");
	pid = start_migrate_to(proj, "up.out", "up.err",
			       (const char *const[]){ "up", "--targets", "fleet", "--parallel", "2", NULL });
	gate_wait(g, pid, NULL, 30);
	wait_value("SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE wait_event_type = 'Lock'"
		   " AND query LIKE 'SELECT pg_advisory_xact_lock(%'", "2", 30, "both workers at the gate");
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	code = wait_exit_code(pid, 10);
	ck_assert_int_eq(code, 128 + SIGKILL);
	/* the gate is still held: only the workers themselves can have stopped their statements */
	wait_value("SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE datname = current_database()"
		   " AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND state <> 'idle'", "0", 30,
		   "sessions left working");
	wait_value("SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND database ="
		   " (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())"
		   " AND NOT (classid = 0 AND objid = 7234001)", "0", 20, "locks left");
	gate_release(g);
	v = db_scalar("SELECT (SELECT count(*) FROM b1.schema_migrations) || ',' || (SELECT count(*) FROM b2.schema_migrations)"
		      " || ',' || (SELECT count(*) FROM information_schema.tables WHERE table_name = 'g_before')");
	ck_assert_str_eq(v, "2,2,0");
	free(v);
}
END_TEST

/* ---- drift -------------------------------------------------------------------------- */

/*
 * No scratch database left behind: nothing in TMPDIR, and no database (or
 * SQLite file in the project) with a test database's name, as drift's are.
 */
static void expect_no_scratch(const char *tmp)
{
	if (is_sqlite()) {
		DIR *d = opendir(tmp);
		struct dirent *e;
		ck_assert(d != NULL);
		while ((e = readdir(d)))
			ck_assert_msg(e->d_name[0] == '.', "left in TMPDIR: %s", e->d_name);
		closedir(d);
		d = opendir(proj);
		ck_assert(d != NULL);
		while ((e = readdir(d)))
			ck_assert_msg(strncmp(e->d_name, "migrate_test_", 13) != 0, "left in the project: %s", e->d_name);
		closedir(d);
	} else {
		char *v = db_scalar(test_driver()->dialect == SQL_DIALECT_POSTGRES
					    ? "SELECT count(*) FROM pg_database WHERE datname LIKE 'migrate\\_test\\_%'"
					      " AND datname NOT LIKE 'migrate\\_test\\_tpl\\_%'"
					    : "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'migrate\\_test\\_%'"
					      " AND SCHEMA_NAME NOT LIKE 'migrate\\_test\\_tpl\\_%'");
		ck_assert_str_eq(v, "0");
		free(v);
	}
}

START_TEST(drift_names_each_hand_made_change)
{
	char *tmp = xasprintf("%s/tmp", proj), *tmpenv = xasprintf("TMPDIR=%s", tmp);
	const char *env[] = { tmpenv, NULL };
	struct run r;
	json_t *doc, *items;
	json_error_t jerr;
	size_t k;
	int seen = 0;

	write_file(proj, "tmp/.keep", "");
	r = run_migrate(proj, env, (const char *const[]){ "up", NULL });
	expect(&r, 0, "up");
	run_free(&r);
	r = run_migrate(proj, env, (const char *const[]){ "drift", NULL });
	expect(&r, 0, "drift on an untouched database");
	expect_in(r.out, "no drift", "stdout");
	run_free(&r);
	expect_no_scratch(tmp);

	/* by hand: a column added, an index dropped, a default changed */
	sql_on(-1, (const char *const[]){ "ALTER TABLE t ADD COLUMN z INTEGER",
		   pick("DROP INDEX t_a", "DROP INDEX t_a", "DROP INDEX t_a ON t"), NULL });
	if (is_sqlite())
		sql_on(-1, (const char *const[]){ "CREATE TABLE u2 (id INTEGER PRIMARY KEY, n INTEGER DEFAULT 7)",
			   "INSERT INTO u2 SELECT * FROM u", "DROP TABLE u", "ALTER TABLE u2 RENAME TO u", NULL });
	else
		sql_on(-1, (const char *const[]){ "ALTER TABLE u ALTER COLUMN n SET DEFAULT 7", NULL });
	r = run_migrate(proj, env, (const char *const[]){ "drift", NULL });
	expect(&r, 1, "drift after changes by hand");
	expect_in(r.out, "missing  index 't.t_a'", "stdout");
	expect_in(r.out, "extra    column 't.z'", "stdout");
	expect_in(r.out, "changed  column 'u.n'", "stdout");
	expect_in(r.err, "differs from its migrations in 3 objects", "stderr");
	run_free(&r);
	expect_no_scratch(tmp);

	r = run_migrate(proj, env, (const char *const[]){ "--format", "json", "drift", NULL });
	expect(&r, 1, "drift --format json");
	doc = json_loads(r.out, 0, &jerr);
	ck_assert_msg(doc != NULL, "not JSON: %s", r.out);
	items = json_object_get(doc, "differences");
	ck_assert_int_eq(json_array_size(items), 3);
	for (k = 0; k < 3; k++) {
		json_t *it = json_array_get(items, k);
		const char *kind = json_string_value(json_object_get(it, "kind"));
		const char *name = json_string_value(json_object_get(it, "name"));
		if (strcmp(kind, "changed") == 0) {
			ck_assert_str_eq(name, "u.n");
			expect_in(json_string_value(json_object_get(it, "expected")), "5", "expected");
			expect_in(json_string_value(json_object_get(it, "actual")), "7", "actual");
			seen |= 1;
		} else if (strcmp(kind, "missing") == 0) {
			ck_assert_str_eq(name, "t.t_a");
			ck_assert_str_eq(json_string_value(json_object_get(it, "object")), "index");
			seen |= 2;
		} else {
			ck_assert_str_eq(kind, "extra");
			ck_assert_str_eq(name, "t.z");
			ck_assert_str_eq(json_string_value(json_object_get(it, "object")), "column");
			seen |= 4;
		}
	}
	ck_assert_int_eq(seen, 7);
	json_decref(doc);
	run_free(&r);
	/* drift changed nothing: the live database still has its history and the hand edits */
	ck_assert_int_eq(db_count("schema_migrations"), 2);
	ck_assert_int_eq(db_count("t"), 0);
	free(tmp);
	free(tmpenv);
}
END_TEST

START_TEST(drift_replays_only_what_the_live_history_lists)
{
	struct run r;

	/* 2 is pending: the live database never ran it, so it is not expected there */
	r = CLI("up", "--to", "1");
	expect(&r, 0, "up --to 1");
	run_free(&r);
	r = CLI("drift");
	expect(&r, 0, "drift with a pending migration");
	run_free(&r);
	/* a table made by hand is extra; a whole table the migrations make and live lacks is missing */
	sql_on(-1, (const char *const[]){ "CREATE TABLE hand (id INTEGER)", "DROP TABLE t", NULL });
	r = CLI("drift");
	expect(&r, 1, "drift, table level");
	expect_in(r.out, "missing  table 't'", "stdout");
	expect_in(r.out, "extra    table 'hand'", "stdout");
	run_free(&r);
}
END_TEST

START_TEST(drift_over_a_fleet)
{
	char *text;
	struct run r;

	text = xasprintf("urls = %s %s", urls[0], urls[1]);
	targets_config(text);
	r = CLI("up", "--targets", "fleet");
	expect(&r, 0, "up --targets");
	run_free(&r);
	sql_on(1, (const char *const[]){ "ALTER TABLE t ADD COLUMN hand INTEGER", NULL });
	r = CLI("drift", "--targets", "fleet");
	expect(&r, 1, "drift --targets, one edited");
	expect_in(r.out, "1 difference: extra column 't.hand'", "stdout");
	expect_in(r.out, "2 targets: 1 ok, 1 failed, 0 skipped", "stdout");
	expect_no_password(&r);
	run_free(&r);
	free(text);
}
END_TEST

Suite *fleet_suite(void)
{
	Suite *s = suite_create("fleet");
	TCase *tc = tcase_create("fleet");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, a_broken_target_fails_alone_and_the_exit_code_is_the_worst);
	tcase_add_test(tc, the_canary_stops_the_rest);
	tcase_add_test(tc, targets_from_a_file_relative_to_the_config);
	tcase_add_test(tc, targets_from_a_query_on_the_environments_database);
	tcase_add_test(tc, a_malformed_target_url_is_a_config_error_naming_its_line);
	tcase_add_test(tc, schemas_in_one_database_are_a_fleet);
	tcase_add_test(tc, lint_over_a_fleet_lints_each_targets_pending_migrations);
	tcase_add_test(tc, schemas_share_a_connection_but_no_session_state);
	tcase_add_test(tc, a_schema_whose_connection_is_killed_fails_alone);
	tcase_add_test(tc, sigint_to_the_parent_stops_every_worker_sqlite);
	tcase_add_test(tc, sigterm_to_the_parent_stops_every_worker_postgres);
	tcase_add_test(tc, workers_stop_when_the_parent_is_killed);
	tcase_add_test(tc, drift_names_each_hand_made_change);
	tcase_add_test(tc, drift_replays_only_what_the_live_history_lists);
	tcase_add_test(tc, drift_over_a_fleet);
	suite_add_tcase(s, tc);
	return s;
}
