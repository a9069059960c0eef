/*
 * check_drift.c - 'migrate drift' and its scratch database (SPEC sections 13
 * and 11), end to end with the built binary on the driver under test: the
 * testdb template cloned where it is the replay, a replay where there is
 * none (or a stale one), and no scratch database left behind forever when
 * drift is interrupted or killed.
 *
 * drift names its scratch database as a test database of the default
 * prefix (migrate_test_<hash>_<n>), and its template is migrate_test_tpl_<hash>:
 * every test writes migrations of its own (so its hash is its own) and
 * removes what it made with 'migrate testdb --gc' at the end. The names on
 * the server (or the files in the project, for SQLite) are read with the
 * server's own catalog, not through migrate. What a test waits for is held
 * by a lock the test holds (or, on SQLite, by a statement that runs until
 * it is stopped), and polled for with a timeout.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../migrate/util.h"
#include "testutil.h"

#define PREFIX "migrate_test_"
#define TPL_PREFIX "migrate_test_tpl_"
#define POLL_SECONDS 60

static char *proj;
static char *url;
static int seq;

#define CLI(...) run_migrate(proj, NULL, (const char *const[]){ __VA_ARGS__, NULL })

static int is_sqlite(void)
{
	return test_driver()->dialect == SQL_DIALECT_SQLITE;
}

static int is_mysql(void)
{
	return test_driver()->dialect == SQL_DIALECT_MYSQL;
}

/* Migrations 1 and 2, with a comment that makes this test's content hash its own. */
static void setup(void)
{
	char *text;

	project_new(&proj, &url);
	project_config(proj, url, 30, "pool = 0", NULL);
	text = xasprintf("-- test %d.%d\n-- migrate:up\n"
			 "CREATE TABLE t (id INTEGER PRIMARY KEY, a VARCHAR(20) DEFAULT 'x' NOT NULL);\n"
			 "CREATE INDEX t_a ON t (a);\n"
			 "-- migrate:down\nDROP TABLE t;\n",
			 (int)getpid(), ++seq);
	write_migration(proj, "1_a.sql", text);
	free(text);
	write_migration(proj, "2_b.sql",
			"-- migrate:up\nCREATE TABLE u (id INTEGER PRIMARY KEY, n INTEGER DEFAULT 5);\n"
			"-- migrate:down\nDROP TABLE u;\n");
}

static void teardown(void)
{
	struct run r = CLI("testdb", "--gc");

	run_free(&r);
	project_free(&proj, &url);
}

/* The test and scratch databases (not templates) of the default prefix. */
static char *scratch_names(void)
{
	char *all = names_like(proj, PREFIX), *tok, *save = NULL;
	struct strbuf sb = STRBUF_INIT;

	for (tok = strtok_r(all, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (strncmp(tok, TPL_PREFIX, strlen(TPL_PREFIX)) != 0)
			strbuf_addf(&sb, "%s%s", sb.len ? "," : "", tok);
	free(all);
	strbuf_addstr(&sb, "");
	return strbuf_detach(&sb);
}

/* Runs each statement (NULL-terminated) on database name of the test server, or on the test database (NULL). */
static void sql_in(const char *name, const char *const *stmts)
{
	struct driver_settings s = *test_db_settings();
	struct driver_conn *c = NULL;
	struct driver_error err;
	char *path = NULL;

	if (name)
		s.database = is_sqlite() ? (path = path_join(proj, name)) : name;
	err.message[0] = '\0';
	ck_assert_msg(test_driver()->connect(&s, &c, &err) == DRIVER_OK, "connect: %s", err.message);
	for (; *stmts; stmts++) {
		err.message[0] = '\0';
		ck_assert_msg(test_driver()->exec(c, *stmts, strlen(*stmts), NULL, &err) == DRIVER_OK, "%s: %s", *stmts,
			      err.message);
	}
	test_driver()->close(c);
	free(path);
}

/* No session of anyone is in a database of the default prefix (a killed client's backend has ended). */
static void wait_no_sessions(void)
{
	if (is_sqlite())
		return;
	if (is_mysql())
		wait_for_value("SELECT COUNT(*) FROM information_schema.processlist WHERE db LIKE 'migrate\\_test\\_%'",
			       "0", POLL_SECONDS, "sessions in the scratch database");
	else
		wait_for_value("SELECT COUNT(*) FROM pg_stat_activity WHERE datname LIKE 'migrate\\_test\\_%'", "0",
			       POLL_SECONDS, "sessions in the scratch database");
}

/* A template made by 'migrate testdb' (its test database dropped at once); its name. */
static char *make_template(void)
{
	struct run r = CLI("testdb"), d;
	char *nl, *tpl;

	expect(&r, 0, "testdb");
	nl = strchr(r.out, '\n');
	if (nl)
		*nl = '\0';
	d = run_migrate(proj, NULL, (const char *const[]){ "testdb", "--drop", r.out, NULL });
	expect(&d, 0, "testdb --drop");
	run_free(&d);
	run_free(&r);
	tpl = names_like(proj, TPL_PREFIX);
	ck_assert_msg(*tpl && !strchr(tpl, ','), "one template: '%s'", tpl);
	return tpl;
}

/* By hand: a column added, an index dropped, a default changed (on SQLite by a rebuild). */
static void hand_edits(void)
{
	sql_in(NULL, (const char *const[]){ "ALTER TABLE t ADD COLUMN z INTEGER",
		   is_mysql() ? "DROP INDEX t_a ON t" : "DROP INDEX t_a", NULL });
	if (is_sqlite())
		sql_in(NULL, (const char *const[]){ "CREATE TABLE u2 (id INTEGER PRIMARY KEY, n INTEGER DEFAULT 7)",
			   "INSERT INTO u2 SELECT * FROM u", "DROP TABLE u", "ALTER TABLE u2 RENAME TO u", NULL });
	else
		sql_in(NULL, (const char *const[]){ "ALTER TABLE u ALTER COLUMN n SET DEFAULT 7", NULL });
}

/* drift's JSON: the differences' kinds and names, sorted, and the reference's fields. */
static void drift_json(json_t **doc_out, const char **tpl, long long *replayed, size_t *n)
{
	struct run r = CLI("--format", "json", "drift");
	json_error_t jerr;
	json_t *doc = json_loads(r.out, 0, &jerr);

	ck_assert_msg(doc != NULL, "not JSON: %s (stderr: %s)", r.out, r.err);
	*tpl = json_string_value(json_object_get(doc, "template"));
	*replayed = json_integer_value(json_object_get(doc, "replayed"));
	*n = json_array_size(json_object_get(doc, "differences"));
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "applied")), 2);
	*doc_out = doc;
	run_free(&r);
}

START_TEST(drift_clones_the_template_and_finds_the_same_differences)
{
	char *tpl, *v;
	const char *jtpl;
	long long replayed;
	size_t n;
	json_t *doc;
	struct run r;

	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	tpl = make_template();

	/* untouched: clean, against a clone of the template */
	r = CLI("drift");
	expect(&r, 0, "drift on an untouched database");
	expect_in(r.out, "no drift: ", "stdout");
	expect_in(r.out, "matches its 2 applied migrations (cloned template ", "stdout");
	expect_in(r.out, tpl, "stdout");
	run_free(&r);
	drift_json(&doc, &jtpl, &replayed, &n);
	ck_assert_ptr_nonnull(jtpl);
	ck_assert_msg(strstr(jtpl, tpl) != NULL, "template '%s', not '%s'", jtpl, tpl);
	ck_assert_int_eq(replayed, 0);
	ck_assert_int_eq(n, 0);
	json_decref(doc);

	/* the three hand-made changes, found the same way as by a replay */
	hand_edits();
	r = CLI("drift");
	expect(&r, 1, "drift after changes by hand");
	expect_in(r.out, "missing  index 't.t_a'", "stdout");
	expect_in(r.out, "extra    column 't.z'", "stdout");
	expect_in(r.out, "changed  column 'u.n'", "stdout");
	expect_in(r.err, "differs from its migrations in 3 objects (cloned template ", "stderr");
	run_free(&r);
	drift_json(&doc, &jtpl, &replayed, &n);
	ck_assert_ptr_nonnull(jtpl);
	ck_assert_int_eq(replayed, 0);
	ck_assert_int_eq(n, 3);
	json_decref(doc);

	/* the clone is the reference: a column put into the template by hand is 'missing' in the live database */
	if (is_sqlite()) {
		char *path = path_join(proj, tpl);
		ck_assert_int_eq(chmod(path, 0644), 0);
		sql_in(tpl, (const char *const[]){ "ALTER TABLE t ADD COLUMN tamper INTEGER", NULL });
		ck_assert_int_eq(chmod(path, 0444), 0);
		free(path);
	} else if (is_mysql()) {
		char *sql = xasprintf("ALTER TABLE `%s`.t ADD COLUMN tamper INTEGER", tpl);
		sql_in(NULL, (const char *const[]){ sql, NULL });
		free(sql);
	} else {
		char *on = xasprintf("ALTER DATABASE \"%s\" ALLOW_CONNECTIONS true", tpl);
		char *off = xasprintf("ALTER DATABASE \"%s\" ALLOW_CONNECTIONS false", tpl);
		char *busy = xasprintf("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = '%s'", tpl);
		sql_in(NULL, (const char *const[]){ on, NULL });
		sql_in(tpl, (const char *const[]){ "ALTER TABLE t ADD COLUMN tamper INTEGER", NULL });
		sql_in(NULL, (const char *const[]){ off, NULL });
		wait_for_value(busy, "0", POLL_SECONDS, "the session in the template");
		free(on);
		free(off);
		free(busy);
	}
	r = CLI("drift");
	expect(&r, 1, "drift against the altered template");
	expect_in(r.out, "missing  column 't.tamper'", "stdout");
	expect_in(r.err, "in 4 objects (cloned template ", "stderr");
	run_free(&r);

	/* no scratch database left; the template still there; the live history untouched */
	v = scratch_names();
	ck_assert_str_eq(v, "");
	free(v);
	v = names_like(proj, TPL_PREFIX);
	ck_assert_str_eq(v, tpl);
	free(v);
	ck_assert_int_eq(db_count("schema_migrations"), 2);
	free(tpl);
}
END_TEST

START_TEST(drift_replays_without_a_template_of_the_current_files)
{
	char *tpl, *old, *v;
	const char *jtpl;
	long long replayed;
	size_t n;
	json_t *doc;
	struct run r;

	/* no template: replayed */
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	r = CLI("drift");
	expect(&r, 0, "drift without a template");
	expect_in(r.out, "matches its 2 applied migrations (replayed 2 migrations)", "stdout");
	run_free(&r);
	drift_json(&doc, &jtpl, &replayed, &n);
	ck_assert_ptr_null(jtpl);
	ck_assert_int_eq(replayed, 2);
	json_decref(doc);
	hand_edits();
	r = CLI("drift");
	expect(&r, 1, "drift after changes by hand, replayed");
	expect_in(r.err, "differs from its migrations in 3 objects (replayed 2 migrations)", "stderr");
	run_free(&r);

	/* a template of files that changed since is not used: a migration added and applied */
	old = make_template();
	write_migration(proj, "3_c.sql",
			"-- migrate:up\nCREATE TABLE w (id INTEGER);\n-- migrate:down\nDROP TABLE w;\n");
	r = CLI("up");
	expect(&r, 0, "up 3");
	run_free(&r);
	r = CLI("--format", "json", "drift");
	expect(&r, 1, "drift with a stale template");
	expect_in(r.out, "\"replayed\": 3", "stdout");
	expect_in(r.out, "\"template\": null", "stdout");
	run_free(&r);
	v = names_like(proj, TPL_PREFIX);
	ck_assert_str_eq(v, old); /* still there, unused */
	free(v);

	/* a template of the current files, but the live database has not applied them all: replayed */
	r = CLI("testdb", "--gc");
	expect(&r, 0, "testdb --gc");
	run_free(&r);
	tpl = make_template();
	ck_assert_str_ne(tpl, old);
	r = CLI("down");
	expect(&r, 0, "down 1");
	run_free(&r);
	drift_json(&doc, &jtpl, &replayed, &n);
	ck_assert_ptr_null(jtpl);
	ck_assert_int_eq(replayed, 2);
	ck_assert_int_eq(n, 3);
	json_decref(doc);
	v = scratch_names();
	ck_assert_str_eq(v, "");
	free(v);
	free(tpl);
	free(old);
}
END_TEST

/*
 * MySQL: a template made with other defaults than the live database's
 * (testdb makes utf8mb4_unicode_ci) would read every text column as
 * 'changed': drift replays instead, and finds no drift.
 */
START_TEST(drift_on_mysql_clones_only_a_template_of_the_same_character_set)
{
	const char *jtpl;
	long long replayed;
	size_t n;
	json_t *doc;
	struct run r;
	char *sql;

	if (!is_mysql())
		return; /* a database's defaults show in the dump on MySQL only */
	sql = xasprintf("ALTER DATABASE `%s` CHARACTER SET latin1 COLLATE latin1_swedish_ci", test_db_settings()->database);
	sql_in(NULL, (const char *const[]){ sql, NULL });
	free(sql);
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	free(make_template());
	r = CLI("drift");
	expect(&r, 0, "drift, live database in latin1");
	expect_in(r.out, "(replayed 2 migrations)", "stdout");
	run_free(&r);
	drift_json(&doc, &jtpl, &replayed, &n);
	ck_assert_ptr_null(jtpl);
	ck_assert_int_eq(replayed, 2);
	ck_assert_int_eq(n, 0);
	json_decref(doc);
}
END_TEST

/*
 * Migration 3 holds the replay where the test wants it, and only there
 * (the live 'up' runs it in a database of another name and goes through):
 * MySQL waits for a lock the test holds (GET_LOCK is server-wide);
 * PostgreSQL, whose advisory locks are per database, and SQLite run a
 * statement that does not end until it is cancelled (PostgreSQL: or its
 * session is ended, which hold_release does), after making 'held'.
 */
struct hold {
	struct driver_conn *c;
	char key[64];
};

static void hold_take(struct hold *h)
{
	char *sql, *text;

	memset(h, 0, sizeof(*h));
	if (is_sqlite()) {
		text = xstrdup("-- migrate:up transaction:false\nCREATE TABLE held (id INTEGER);\n"
			       "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c"
			       " WHERE (SELECT file FROM pragma_database_list WHERE name = 'main') GLOB '*/migrate_test_*')"
			       " SELECT count(*) FROM c;\n"
			       "-- migrate:down\nDROP TABLE held;\n");
	} else if (is_mysql()) {
		snprintf(h->key, sizeof(h->key), "drift_gate_%d", (int)getpid());
		text = xasprintf("-- migrate:up\nCREATE TABLE held (id INTEGER);\n"
				 "DO IF(DATABASE() LIKE 'migrate\\_test\\_%%', GET_LOCK('%s', 3600), 0);\n"
				 "-- migrate:down\nDROP TABLE held;\n",
				 h->key);
	} else {
		text = xstrdup("-- migrate:up\nCREATE TABLE held (id INTEGER);\n"
			       "SELECT pg_sleep(3600) WHERE current_database() LIKE 'migrate\\_test\\_%';\n"
			       "-- migrate:down\nDROP TABLE held;\n");
	}
	write_migration(proj, "3_held.sql", text);
	free(text);
	{
		struct run r = CLI("up");
		expect(&r, 0, "up, through the hold");
		run_free(&r);
	}
	if (!is_mysql())
		return;
	h->c = test_connect();
	sql = xasprintf("SELECT GET_LOCK('%s', 0)", h->key);
	free(test_scalar(h->c, sql));
	free(sql);
}

/* Lets the replay go; on PostgreSQL ends the sessions in scratch databases. */
static void hold_release(struct hold *h)
{
	if (h->c)
		test_driver()->close(h->c);
	h->c = NULL;
	if (test_driver()->dialect == SQL_DIALECT_POSTGRES)
		free(db_scalar("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
			       " WHERE datname LIKE 'migrate\\_test\\_%'"));
}

/* Polls until the replay stands at the hold; returns the scratch database's name. */
static char *wait_held(const struct hold *h, int pid)
{
	long long until = mono_ms() + POLL_SECONDS * 1000LL;
	char *name = NULL, *sql = NULL;

	(void)h;
	if (is_mysql())
		sql = xstrdup("SELECT COUNT(*) FROM information_schema.processlist"
			      " WHERE db LIKE 'migrate\\_test\\_%' AND info LIKE 'DO IF(%'");
	else if (!is_sqlite())
		sql = xstrdup("SELECT COUNT(*) FROM pg_stat_activity WHERE datname LIKE 'migrate\\_test\\_%'"
			      " AND state = 'active' AND query LIKE 'SELECT pg_sleep(3600)%'");
	for (;;) {
		int there = 0;

		free(name);
		name = scratch_names();
		if (*name && sql) {
			char *v = db_scalar(sql);
			there = v && strcmp(v, "1") == 0;
			free(v);
		} else if (*name) {
			/* 'held' is committed (transaction:false) just before the endless statement */
			char *path = path_join(proj, name);
			sqlite3 *db = NULL;
			sqlite3_stmt *st = NULL;

			if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
			    sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'held'", -1, &st, NULL) ==
				    SQLITE_OK &&
			    sqlite3_step(st) == SQLITE_ROW)
				there = sqlite3_column_int(st, 0) == 1;
			sqlite3_finalize(st);
			sqlite3_close(db);
			free(path);
		}
		if (there)
			break;
		ck_assert_msg(kill(pid, 0) == 0, "drift (pid %d) ended before it reached the hold", pid);
		ck_assert_msg(mono_ms() < until, "drift (pid %d) did not reach the hold within %d s", pid, POLL_SECONDS);
		sleep_ms(20);
	}
	free(sql);
	ck_assert_msg(!strchr(name, ','), "one scratch database: '%s'", name);
	return name;
}

/* Is name migrate_test_<16 hex>_<digits>, a test database's name? */
static int testdb_name(const char *name)
{
	size_t i, n = strlen(PREFIX);

	if (strncmp(name, PREFIX, n) != 0)
		return 0;
	for (i = 0; i < 16; i++)
		if (!strchr("0123456789abcdef", name[n + i]))
			return 0;
	return name[n + 16] == '_' && name[n + 17] && strspn(name + n + 17, "0123456789") == strlen(name + n + 17);
}

START_TEST(drift_interrupted_drops_its_scratch_database)
{
	struct hold h;
	char *name, *err, *v;
	int pid, code;

	hold_take(&h);
	pid = start_migrate(proj, "drift.err", (const char *const[]){ "drift", NULL });
	name = wait_held(&h, pid);
	ck_assert_msg(testdb_name(name), "'%s' is not a test database's name", name);
	ck_assert_int_eq(kill(pid, SIGINT), 0);
	code = wait_exit_code(pid, POLL_SECONDS);
	hold_release(&h);
	err = slurp(proj, "drift.err");
	ck_assert_msg(code == 130, "exit %d after SIGINT: %s", code, err ? err : "");
	expect_in(err, "interrupted", "stderr");
	v = scratch_names();
	ck_assert_msg(strcmp(v, "") == 0, "left behind after SIGINT: %s", v);
	if (is_sqlite()) {
		char *lock = xasprintf("%s/%s.migrate-lock", proj, name);
		ck_assert_int_ne(access(lock, F_OK), 0);
		free(lock);
	}
	ck_assert_int_eq(db_count("schema_migrations"), 3);
	free(v);
	free(err);
	free(name);
}
END_TEST

START_TEST(drift_killed_leaves_a_name_testdb_gc_removes)
{
	struct hold h;
	char *name, *v;
	int pid, code;
	struct run r;

	hold_take(&h);
	pid = start_migrate(proj, "drift.err", (const char *const[]){ "drift", NULL });
	name = wait_held(&h, pid);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	code = wait_exit_code(pid, POLL_SECONDS);
	ck_assert_int_eq(code, 128 + SIGKILL);
	hold_release(&h); /* the server ends the dead client's session once its statement returns */
	wait_no_sessions();
	v = scratch_names();
	ck_assert_str_eq(v, name); /* left behind, under a test database's name */
	free(v);
	ck_assert_msg(testdb_name(name), "'%s' is not a test database's name", name);
	r = CLI("testdb", "--gc");
	expect(&r, 0, "testdb --gc");
	expect_in(r.out, "dropped ", "stdout");
	expect_in(r.out, name, "stdout");
	run_free(&r);
	v = scratch_names();
	ck_assert_str_eq(v, "");
	free(v);
	if (is_sqlite()) {
		char *lock = xasprintf("%s/%s.migrate-lock", proj, name);
		ck_assert_int_ne(access(lock, F_OK), 0);
		free(lock);
	}
	free(name);
}
END_TEST

Suite *drift_suite(void)
{
	Suite *s = suite_create("drift");
	TCase *tc = tcase_create("drift");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, drift_clones_the_template_and_finds_the_same_differences);
	tcase_add_test(tc, drift_replays_without_a_template_of_the_current_files);
	tcase_add_test(tc, drift_on_mysql_clones_only_a_template_of_the_same_character_set);
	tcase_add_test(tc, drift_interrupted_drops_its_scratch_database);
	tcase_add_test(tc, drift_killed_leaves_a_name_testdb_gc_removes);
	suite_add_tcase(s, tc);
	return s;
}
