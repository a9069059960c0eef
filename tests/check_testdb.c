/*
 * check_testdb.c - 'migrate testdb' (SPEC section 11), end to end through the
 * built binary, on the driver under test.
 *
 * Every test names its databases with a prefix of its own and removes them
 * with 'testdb --gc' at the end. The database names on the server (or the
 * files in the project directory, for SQLite) are read with the server's
 * own catalog, not through migrate. Nothing waits on the clock: what a test
 * waits for is held by a lock the test holds, and polled for with a
 * timeout.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../migrate/util.h"
#include "testutil.h"

#define POLL_SECONDS 60

static char *proj;
static char *url;
static char prefix[32];
static int prefix_seq;

#define CLI(...) run_migrate(proj, NULL, (const char *const[]){ __VA_ARGS__, NULL })

static void config(const char *shared)
{
	project_config(proj, url, 30, shared, NULL);
}

static void setup(void)
{
	project_new(&proj, &url);
	snprintf(prefix, sizeof(prefix), "td%d_%d", (int)getpid() % 100000, ++prefix_seq);
	copy_example(proj);
	config("pool = 0");
}

static void teardown(void)
{
	project_free(&proj, &url);
}

static int is_sqlite(void)
{
	return test_driver()->dialect == SQL_DIALECT_SQLITE;
}

static int count_names(const char *list)
{
	int n = 0;

	if (!*list)
		return 0;
	for (n = 1; *list; list++)
		n += *list == ',';
	return n;
}

/* Runs SQL on the test database; for making unrelated databases. */
static void db_exec(const char *sql)
{
	struct driver_conn *c = test_connect();
	struct driver_error err;

	err.message[0] = '\0';
	ck_assert_msg(test_driver()->exec(c, sql, strlen(sql), NULL, &err) == DRIVER_OK, "%s: %s", sql, err.message);
	test_driver()->close(c);
}

/* An unrelated database (or file) called name. */
static void make_unrelated(const char *name)
{
	char *sql;

	if (is_sqlite()) {
		write_file(proj, name, "");
		return;
	}
	sql = xasprintf("CREATE DATABASE %s", name);
	db_exec(sql);
	free(sql);
}

static void drop_unrelated(const char *name)
{
	char *sql;

	if (is_sqlite())
		return;
	sql = xasprintf("DROP DATABASE IF EXISTS %s", name);
	db_exec(sql);
	free(sql);
}

/* testdb with the options given and --format json; the document, or fails. */
static json_t *testdb_json(const char *a1, const char *a2, const char *a3)
{
	const char *argv[9] = { "--format", "json", "testdb", "--prefix", prefix, a1, a2, a3 };
	json_error_t jerr;
	struct run r = run_migrate(proj, NULL, argv);
	json_t *doc;

	expect(&r, 0, "testdb");
	doc = json_loads(r.out, 0, &jerr);
	ck_assert_msg(doc != NULL, "not JSON: %s", r.out);
	run_free(&r);
	return doc;
}

static const char *jget(json_t *doc, const char *key)
{
	json_t *v = json_object_get(doc, key);

	ck_assert_msg(json_is_string(v), "no string '%s' in the output", key);
	return json_string_value(v);
}

static void gc_all(void)
{
	struct run r = CLI("testdb", "--prefix", prefix, "--gc");

	expect(&r, 0, "testdb --gc");
	run_free(&r);
}

/* Waits until process pid is gone (it is not our child: kill(pid, 0) tells). */
static void wait_gone(long pid)
{
	int i;

	if (pid <= 0)
		return;
	for (i = 0; i < POLL_SECONDS * 20; i++) {
		if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
			return;
		sleep_ms(50);
	}
	ck_abort_msg("process %ld did not end within %d s", pid, POLL_SECONDS);
}

static char *dump_of(const char *db_url)
{
	struct run r = CLI("--url", db_url, "dump");
	char *out;

	expect(&r, 0, "dump");
	out = xstrdup(r.out);
	run_free(&r);
	return out;
}

/* ---- tests ----------------------------------------------------------------------- */

START_TEST(testdb_is_at_the_current_version_with_the_schema_up_makes)
{
	json_t *doc;
	struct run r;
	char *want, *got;

	doc = testdb_json("--with-password", NULL, NULL);
	ck_assert(json_is_true(json_object_get(doc, "template_built")));
	ck_assert(json_is_false(json_object_get(doc, "from_pool")));
	expect_in(jget(doc, "database"), prefix, "database");
	expect_in(jget(doc, "template"), "_tpl_", "template");

	r = CLI("--url", jget(doc, "url"), "version");
	expect(&r, 0, "version of the test database");
	ck_assert_str_eq(r.out, "20240101000002\n");
	run_free(&r);
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	want = dump_of(url);
	got = dump_of(jget(doc, "url"));
	ck_assert_str_eq(got, want);
	ck_assert(strstr(got, "table customers") != NULL);
	free(want);
	free(got);
	json_decref(doc);

	/* a second one comes from the same template, and is another database */
	doc = testdb_json("--with-password", NULL, NULL);
	ck_assert(json_is_false(json_object_get(doc, "template_built")));
	json_decref(doc);
	gc_all();
}
END_TEST

START_TEST(testdb_seed_has_the_seeds)
{
	json_t *doc = testdb_json("--seed", "--with-password", NULL);
	struct run r = CLI("--url", jget(doc, "url"), "status");

	expect(&r, 0, "status");
	expect_in(r.out, "applied  01_customers.sql", "status");
	run_free(&r);
	json_decref(doc);
	gc_all();
}
END_TEST

/*
 * Runs n 'testdb --format json' at once (a shell starts them all, then
 * waits) and returns their documents; each must succeed and hand out a
 * database no other handed out. Waits for the refills they started.
 */
static json_t **parallel(int n)
{
	json_t **docs = xcalloc((size_t)n, sizeof(*docs));
	struct strbuf seen = STRBUF_INIT;
	char *script;
	int i;

	script = xasprintf("cd '%s' && for i in $(seq %d); do \"$MIGRATE_BIN\" --format json testdb --prefix %s "
			   "> out.$i 2> err.$i & done; wait",
			   proj, n, prefix);
	ck_assert_int_eq(system(script), 0);
	free(script);
	for (i = 0; i < n; i++) {
		char fn[32], *text;
		json_error_t jerr;
		const char *db;

		snprintf(fn, sizeof(fn), "out.%d", i + 1);
		text = slurp(proj, fn);
		docs[i] = text ? json_loads(text, 0, &jerr) : NULL;
		if (!docs[i]) {
			snprintf(fn, sizeof(fn), "err.%d", i + 1);
			ck_abort_msg("call %d: %s", i + 1, slurp(proj, fn));
		}
		free(text);
		db = jget(docs[i], "database");
		ck_assert_msg(!strstr(seen.buf ? seen.buf : "", db), "%s handed out twice", db);
		strbuf_addf(&seen, "%s|", db);
	}
	for (i = 0; i < n; i++)
		wait_gone((long)json_integer_value(json_object_get(docs[i], "refill_pid")));
	strbuf_release(&seen);
	return docs;
}

static void free_docs(json_t **docs, int n)
{
	int i;

	for (i = 0; i < n; i++)
		json_decref(docs[i]);
	free(docs);
}

START_TEST(sixteen_parallel_calls_build_the_template_once_and_get_sixteen_databases)
{
	json_t **docs;
	char *names;
	int i, built = 0;

	docs = parallel(16);
	for (i = 0; i < 16; i++)
		built += json_is_true(json_object_get(docs[i], "template_built"));
	ck_assert_int_eq(built, 1);
	names = names_like(proj, prefix);
	ck_assert_msg(count_names(names) == 17, "expected 16 test databases and 1 template: %s", names);
	free(names);
	free_docs(docs, 16);
	gc_all();
	names = names_like(proj, prefix);
	ck_assert_str_eq(names, "");
	free(names);
}
END_TEST

START_TEST(parallel_callers_never_claim_the_same_pool_database)
{
	json_t **docs, *doc;
	int i, from_pool = 0;

	config("pool = 8");
	doc = testdb_json("--prefill", "8", NULL);
	json_decref(doc);
	docs = parallel(8);
	for (i = 0; i < 8; i++)
		from_pool += json_is_true(json_object_get(docs[i], "from_pool"));
	/* eight ready databases for eight callers: every one claims one, and no two the same */
	ck_assert_int_eq(from_pool, is_sqlite() ? 0 : 8);
	free_docs(docs, 8);
	gc_all();
}
END_TEST

START_TEST(a_changed_migration_gives_a_new_template)
{
	json_t *a, *b;
	struct run r;

	a = testdb_json("--with-password", NULL, NULL);
	write_migration(proj, "20240101000003_more.sql",
			"-- migrate:up\nCREATE TABLE more_things (id INTEGER);\n-- migrate:down\nDROP TABLE more_things;\n");
	b = testdb_json("--with-password", NULL, NULL);
	ck_assert_str_ne(jget(a, "template"), jget(b, "template"));
	ck_assert(json_is_true(json_object_get(b, "template_built")));
	r = CLI("--url", jget(b, "url"), "version");
	expect(&r, 0, "version");
	ck_assert_str_eq(r.out, "20240101000003\n");
	run_free(&r);
	/* an edit of an existing file changes the hash too */
	write_migration(proj, "20240101000003_more.sql",
			"-- migrate:up\nCREATE TABLE more_things (id INTEGER, n INTEGER);\n-- migrate:down\nDROP TABLE more_things;\n");
	json_decref(a);
	a = testdb_json(NULL, NULL, NULL);
	ck_assert_str_ne(jget(a, "template"), jget(b, "template"));
	json_decref(a);
	json_decref(b);
	gc_all();
}
END_TEST

START_TEST(gc_keep_1_removes_what_testdb_made_and_nothing_else)
{
	char *unrelated[4], *names;
	json_t *a, *b;
	struct run r;
	int i;

	unrelated[0] = xasprintf("%s_keepme", prefix);
	unrelated[1] = xasprintf("%s_tpl_0123456789abcdeg", prefix);
	unrelated[2] = xasprintf("%s_0123456789abcdef_1x", prefix);
	unrelated[3] = xasprintf("%sx_0123456789abcdef_1", prefix);
	for (i = 0; i < 4; i++)
		make_unrelated(unrelated[i]);
	a = testdb_json(NULL, NULL, NULL);
	json_decref(testdb_json(NULL, NULL, NULL));
	write_migration(proj, "20240101000003_more.sql", "-- migrate:up\nCREATE TABLE more_things (id INTEGER);\n");
	b = testdb_json(NULL, NULL, NULL);
	json_decref(testdb_json(NULL, NULL, NULL));
	names = names_like(proj, prefix);
	ck_assert_msg(count_names(names) == 10, "4 unrelated, 2 templates, 4 test databases: %s", names);
	free(names);

	r = CLI("testdb", "--prefix", prefix, "--gc", "--keep", "1");
	expect(&r, 0, "testdb --gc --keep 1");
	run_free(&r);
	names = names_like(proj, prefix);
	/* the newest template stays, with the four unrelated names */
	ck_assert_int_eq(count_names(names), 5);
	for (i = 0; i < 4; i++)
		expect_in(names, unrelated[i], "names after gc");
	expect_in(names, strrchr(jget(b, "template"), '_') + 1, "names after gc");
	ck_assert(strstr(names, strrchr(jget(a, "template"), '_') + 1) == NULL);
	free(names);

	gc_all();
	names = names_like(proj, prefix);
	ck_assert_int_eq(count_names(names), 4);
	free(names);
	for (i = 0; i < 4; i++) {
		drop_unrelated(unrelated[i]);
		free(unrelated[i]);
	}
	json_decref(a);
	json_decref(b);
}
END_TEST

START_TEST(drop_removes_a_test_database_and_refuses_any_other)
{
	char *other, *other_url, *names;
	json_t *doc;
	struct run r;

	other = xasprintf("%s_0123456789abcdef_1_x", prefix);
	make_unrelated(other);
	doc = testdb_json(NULL, NULL, NULL);
	if (is_sqlite()) {
		other_url = xasprintf("sqlite://%s/%s", proj, other);
	} else {
		const char *slash = strrchr(jget(doc, "url"), '/');
		other_url = xasprintf("%.*s/%s", (int)(slash - jget(doc, "url")), jget(doc, "url"), other);
	}
	r = CLI("testdb", "--prefix", prefix, "--drop", other_url);
	expect(&r, 2, "--drop of an unrelated database");
	expect_in(r.err, "refusing to drop", "stderr");
	run_free(&r);
	/* the configured database is outside the patterns too */
	r = CLI("testdb", "--prefix", prefix, "--drop", url);
	expect(&r, 2, "--drop of the configured database");
	run_free(&r);
	/* and a test database of another prefix */
	r = CLI("testdb", "--drop", jget(doc, "url"));
	expect(&r, 2, "--drop with the default prefix");
	run_free(&r);
	names = names_like(proj, prefix);
	expect_in(names, other, "names");
	expect_in(names, strrchr(jget(doc, "database"), '/') ? strrchr(jget(doc, "database"), '/') + 1
							     : jget(doc, "database"),
		  "names");
	ck_assert_int_eq(count_names(names), 3);
	free(names);

	r = CLI("testdb", "--prefix", prefix, "--drop", jget(doc, "url"));
	expect(&r, 0, "--drop of the test database");
	expect_in(r.out, "dropped", "stdout");
	run_free(&r);
	names = names_like(proj, prefix);
	ck_assert_int_eq(count_names(names), 2); /* the template and the unrelated one */
	free(names);
	drop_unrelated(other);
	free(other);
	free(other_url);
	json_decref(doc);
	gc_all();
}
END_TEST

START_TEST(the_url_has_no_password_unless_asked)
{
	json_t *doc;
	struct run r;

	r = CLI("testdb", "--prefix", prefix);
	expect(&r, 0, "testdb");
	ck_assert(strstr(r.out, "secret") == NULL && strstr(r.out, "****") == NULL);
	ck_assert(strstr(r.err, "secret") == NULL);
	ck_assert_int_eq(count_names(r.out), 1); /* one line */
	expect_in(r.out, prefix, "stdout");
	run_free(&r);
	doc = testdb_json(NULL, NULL, NULL);
	ck_assert(strstr(jget(doc, "url"), "secret") == NULL);
	json_decref(doc);
	r = CLI("testdb", "--prefix", prefix, "--with-password");
	expect(&r, 0, "testdb --with-password");
	if (!is_sqlite())
		expect_in(r.out, ":migrate-secret@", "stdout");
	run_free(&r);
	gc_all();
}
END_TEST

/* MySQL cannot copy a view with its tables: such a template is cloned by building from the files. */
START_TEST(a_template_with_a_view_clones_to_the_same_schema)
{
	json_t *doc;
	struct run r;
	char *want, *got;

	write_migration(proj, "20240101000003_view.sql",
			"-- migrate:up\nCREATE VIEW adults AS SELECT firstname, lastname FROM customers WHERE age >= 18;\n"
			"-- migrate:down\nDROP VIEW adults;\n");
	doc = testdb_json("--with-password", NULL, NULL);
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	want = dump_of(url);
	got = dump_of(jget(doc, "url"));
	expect_in(got, "view adults", "the test database's dump");
	ck_assert_str_eq(got, want);
	free(want);
	free(got);
	json_decref(doc);
	gc_all();
}
END_TEST

START_TEST(a_failed_build_leaves_nothing_behind)
{
	struct run r;
	char *names;

	write_migration(proj, "20240101000003_broken.sql", "-- migrate:up\nCREATE TABLE fine (id INTEGER);\nCREATE TABLE broken (;\n");
	r = CLI("testdb", "--prefix", prefix);
	expect(&r, 1, "testdb with a failing migration");
	expect_in(r.err, "20240101000003_broken.sql:3", "stderr");
	expect_in(r.err, "nothing of it is left", "stderr");
	ck_assert_str_eq(r.out, "");
	run_free(&r);
	names = names_like(proj, prefix);
	ck_assert_str_eq(names, "");
	free(names);
	/* a file that is not a migration is a usage error, before anything is made */
	write_migration(proj, "20240101000003_broken.sql", "no marker at all\n");
	r = CLI("testdb", "--prefix", prefix);
	expect(&r, 2, "testdb with a malformed migration");
	expect_in(r.err, "20240101000003_broken.sql", "stderr");
	run_free(&r);
	names = names_like(proj, prefix);
	ck_assert_str_eq(names, "");
	free(names);
}
END_TEST

START_TEST(a_bad_prefix_is_a_usage_error)
{
	struct run r = CLI("testdb", "--prefix", "Bad-Prefix");
	char *names;

	expect(&r, 2, "testdb --prefix Bad-Prefix");
	expect_in(r.err, "prefix 'Bad-Prefix'", "stderr");
	run_free(&r);
	r = CLI("testdb", "--prefix", prefix, "--keep", "1");
	expect(&r, 2, "testdb --keep without --gc");
	run_free(&r);
	r = CLI("testdb", "--prefix", prefix, "--gc", "--prefill", "2");
	expect(&r, 2, "testdb --gc --prefill");
	run_free(&r);
	config("pool = -1");
	r = CLI("testdb", "--prefix", prefix);
	expect(&r, 2, "pool = -1");
	expect_in(r.err, "config.ini:3: pool '-1' is not a number from 0 to 1000", "stderr");
	run_free(&r);
	names = names_like(proj, prefix);
	ck_assert_str_eq(names, "");
	free(names);
}
END_TEST

START_TEST(the_pool_hands_out_ready_clones_and_refills_itself)
{
	json_t *doc;
	char *names;
	long pid;

	config("pool = 2");
	doc = testdb_json("--prefill", "2", NULL);
	if (is_sqlite()) {
		/* no pool on SQLite: the template is ready, and a hand-out starts no refill */
		json_decref(doc);
		doc = testdb_json(NULL, NULL, NULL);
		ck_assert(json_is_false(json_object_get(doc, "from_pool")));
		ck_assert(json_is_null(json_object_get(doc, "refill_pid")));
		json_decref(doc);
		gc_all();
		return;
	}
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "pool_ready")), 2);
	json_decref(doc);
	doc = testdb_json("--with-password", NULL, NULL);
	ck_assert(json_is_true(json_object_get(doc, "from_pool")));
	pid = (long)json_integer_value(json_object_get(doc, "refill_pid"));
	ck_assert_int_gt(pid, 0);
	{
		struct run r = CLI("--url", jget(doc, "url"), "version");
		expect(&r, 0, "version of a pool database");
		ck_assert_str_eq(r.out, "20240101000002\n");
		run_free(&r);
	}
	json_decref(doc);
	wait_gone(pid);
	/* the template, the database handed out, and a full pool of 2 */
	names = names_like(proj, prefix);
	ck_assert_msg(count_names(names) == 4, "%s", names);
	free(names);
	/* a changed file: the pool of the old files is never handed out */
	write_migration(proj, "20240101000003_more.sql", "-- migrate:up\nCREATE TABLE more_things (id INTEGER);\n");
	doc = testdb_json("--with-password", NULL, NULL);
	ck_assert(json_is_false(json_object_get(doc, "from_pool")));
	ck_assert(json_is_true(json_object_get(doc, "template_built")));
	{
		struct run r = CLI("--url", jget(doc, "url"), "version");
		expect(&r, 0, "version after the change");
		ck_assert_str_eq(r.out, "20240101000003\n");
		run_free(&r);
	}
	wait_gone((long)json_integer_value(json_object_get(doc, "refill_pid")));
	json_decref(doc);
	gc_all();
}
END_TEST

/*
 * Holds a lock on template tpl that a clone of it waits for: PostgreSQL's
 * CREATE DATABASE ... TEMPLATE waits for a COMMENT ON DATABASE in an open
 * transaction, MySQL's INSERT ... SELECT from a template table for LOCK
 * TABLES ... WRITE. Returns the holder's connection (release_template).
 */
static struct driver_conn *hold_template(const char *tpl)
{
	struct driver_conn *holder = test_connect();
	struct driver_error derr;
	char *sql;

	derr.message[0] = '\0';
	if (test_driver()->dialect == SQL_DIALECT_POSTGRES) {
		ck_assert(test_driver()->exec(holder, "BEGIN", 5, NULL, &derr) == DRIVER_OK);
		sql = xasprintf("COMMENT ON DATABASE \"%s\" IS 'held by the test'", tpl);
	} else {
		sql = xasprintf("LOCK TABLES `%s`.`customers` WRITE", tpl);
	}
	ck_assert_msg(test_driver()->exec(holder, sql, strlen(sql), NULL, &derr) == DRIVER_OK, "%s", derr.message);
	free(sql);
	return holder;
}

static void release_template(struct driver_conn *holder)
{
	struct driver_error derr;

	derr.message[0] = '\0';
	if (test_driver()->dialect == SQL_DIALECT_POSTGRES)
		ck_assert(test_driver()->exec(holder, "ROLLBACK", 8, NULL, &derr) == DRIVER_OK);
	else
		ck_assert(test_driver()->exec(holder, "UNLOCK TABLES", 13, NULL, &derr) == DRIVER_OK);
	test_driver()->close(holder);
}

/* Polls sql (a count) until it is non-zero (nonzero = 1) or zero (0); 1 when it got there in time. */
static int poll_count(const char *sql, int nonzero)
{
	char *v;
	int i, now = !nonzero;

	for (i = 0; i < POLL_SECONDS * 20 && now != nonzero; i++) {
		v = db_scalar(sql);
		now = v && strcmp(v, "0") != 0;
		free(v);
		if (now != nonzero)
			sleep_ms(50);
	}
	return now == nonzero;
}

/* Waits until a refill's clone waits for the lock hold_template() holds. */
static void wait_refill_blocked(void)
{
	ck_assert_msg(poll_count(pick("", "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
					  " AND query LIKE 'CREATE DATABASE%'",
				      "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'INSERT INTO%'"
				      " AND STATE LIKE 'Waiting for table metadata lock%'"),
				 1),
		      "the refill never reached the lock");
}

/* Waits until no clone statement runs on the server (a killed refill's session ends). */
static void wait_no_clone_running(void)
{
	ck_assert_msg(poll_count(pick("", "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'CREATE DATABASE%'",
				      "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'INSERT INTO%'"),
				 0),
		      "the refill's statement did not end");
}

/*
 * The refill is killed (SIGKILL) while it is making a clone, held there by
 * a lock the test holds on the template (hold_template).
 */
START_TEST(a_killed_refill_leaves_nothing_that_is_used_or_kept)
{
	struct driver_conn *holder;
	json_t *doc, *next;
	char *tpl, *names;
	long pid;

	if (is_sqlite())
		return; /* no pool, no refill on SQLite (the_pool_hands_out_... checks that) */
	config("pool = 1");
	doc = testdb_json("--prefill", "1", NULL);
	tpl = xstrdup(jget(doc, "template"));
	json_decref(doc);

	holder = hold_template(tpl);
	/* takes the pool's one database, and starts a refill that blocks on the lock */
	doc = testdb_json(NULL, NULL, NULL);
	ck_assert(json_is_true(json_object_get(doc, "from_pool")));
	pid = (long)json_integer_value(json_object_get(doc, "refill_pid"));
	ck_assert_int_gt(pid, 0);
	wait_refill_blocked();
	ck_assert_int_eq(kill((pid_t)pid, SIGKILL), 0);
	wait_gone(pid);
	release_template(holder);
	/* the orphaned server session finishes its statement and ends */
	wait_no_clone_running();

	/* what the killed refill left is never handed out: the pool is empty, so this is a new clone */
	names = names_like(proj, prefix);
	next = testdb_json(NULL, NULL, NULL);
	ck_assert(json_is_false(json_object_get(next, "from_pool")));
	ck_assert_msg(strstr(names, jget(next, "database")) == NULL, "%s was there before: %s",
		      jget(next, "database"), names);
	wait_gone((long)json_integer_value(json_object_get(next, "refill_pid")));
	free(names);
	json_decref(next);
	json_decref(doc);

	gc_all();
	names = names_like(proj, prefix);
	ck_assert_str_eq(names, "");
	free(names);
	free(tpl);
}
END_TEST

/*
 * The refill outlives the call, so it must hold nothing of the caller's:
 * not the pipe a $(migrate testdb) reads until every writer has closed it
 * (its 0, 1 and 2 are /dev/null), nor any other descriptor the caller had
 * (here a file the test opens without close-on-exec, which migrate
 * inherits). Looked at in /proc while the refill waits on a lock the test
 * holds; the hand-out itself returned (its output read to the end) first.
 */
START_TEST(the_refill_holds_no_descriptor_of_the_caller)
{
	struct driver_conn *holder;
	char *tpl, *marker, *real, *fddir;
	struct dirent *de;
	json_t *doc;
	long pid;
	DIR *d;
	int fd, seen = 0;

	if (is_sqlite())
		return; /* no refill on SQLite */
	config("pool = 1");
	doc = testdb_json("--prefill", "1", NULL);
	tpl = xstrdup(jget(doc, "template"));
	json_decref(doc);
	marker = xasprintf("%s/marker", proj);
	fd = open(marker, O_CREAT | O_RDWR, 0644); /* inherited by migrate: no O_CLOEXEC */
	ck_assert_int_ge(fd, 0);
	real = realpath(marker, NULL);
	ck_assert_ptr_nonnull(real);

	holder = hold_template(tpl);
	doc = testdb_json(NULL, NULL, NULL);
	pid = (long)json_integer_value(json_object_get(doc, "refill_pid"));
	ck_assert_int_gt(pid, 0);
	wait_refill_blocked();
	fddir = xasprintf("/proc/%ld/fd", pid);
	d = opendir(fddir);
	ck_assert_msg(d != NULL, "%s: %s", fddir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		char *link = xasprintf("%s/%s", fddir, de->d_name), target[4096];
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		long no = strtol(de->d_name, NULL, 10);

		free(link);
		if (de->d_name[0] == '.' || n < 0)
			continue;
		target[n] = '\0';
		ck_assert_msg(strcmp(target, real) != 0, "the refill holds the caller's descriptor %ld (%s)", no, target);
		if (no <= 2) {
			ck_assert_msg(strcmp(target, "/dev/null") == 0, "the refill's descriptor %ld is %s", no, target);
			seen++;
		}
	}
	closedir(d);
	ck_assert_int_eq(seen, 3);
	release_template(holder);
	wait_gone(pid);
	close(fd);
	free(fddir);
	free(real);
	free(marker);
	free(tpl);
	json_decref(doc);
	gc_all();
}
END_TEST

/*
 * testdb opens its connection while it reads the migration files; a file
 * that cannot be read is still the error (exit 2, naming it), even when
 * the server cannot be reached either, and nothing is made.
 */
START_TEST(an_unreadable_migration_is_the_error_even_with_the_server_down)
{
	char *dir = xasprintf("%s/migrations/20240101000009_dir.sql", proj), *names;
	struct run r;

	ck_assert_int_eq(mkdir(dir, 0755), 0); /* opens, but cannot be read: root reads any file */
	if (!is_sqlite()) {
		char *dead = xasprintf("%s://u:secret-xyz@127.0.0.1:1/db?connect_timeout=3", test_driver_name());
		project_config(proj, dead, 30, "pool = 0", NULL);
		free(dead);
	}
	r = CLI("testdb", "--prefix", prefix);
	expect(&r, 2, "testdb with an unreadable migration");
	expect_in(r.err, "cannot read migration", "stderr");
	expect_in(r.err, "20240101000009_dir.sql", "stderr");
	ck_assert_ptr_null(strstr(r.err, "secret-xyz"));
	ck_assert_str_eq(r.out, "");
	run_free(&r);
	ck_assert_int_eq(rmdir(dir), 0);
	names = names_like(proj, prefix);
	ck_assert_str_eq(names, "");
	free(names);
	free(dir);
}
END_TEST

/* A server that cannot be reached is exit 3, its password never shown. */
START_TEST(an_unreachable_server_exits_3)
{
	char *dead;
	struct run r;

	if (is_sqlite())
		return; /* no server: the directory (a_bad_prefix_... and testdb_dir cover it) */
	dead = xasprintf("%s://u:secret-xyz@127.0.0.1:1/db?connect_timeout=3", test_driver_name());
	project_config(proj, dead, 30, "pool = 2", NULL);
	r = CLI("testdb", "--prefix", prefix);
	expect(&r, 3, "testdb with the server down");
	expect_in(r.err, "cannot connect", "stderr");
	ck_assert_ptr_null(strstr(r.err, "secret-xyz"));
	ck_assert_str_eq(r.out, "");
	run_free(&r);
	free(dead);
}
END_TEST

Suite *testdb_suite(void);
Suite *testdb_suite(void)
{
	Suite *s = suite_create("testdb");
	TCase *tc = tcase_create("testdb");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, testdb_is_at_the_current_version_with_the_schema_up_makes);
	tcase_add_test(tc, testdb_seed_has_the_seeds);
	tcase_add_test(tc, sixteen_parallel_calls_build_the_template_once_and_get_sixteen_databases);
	tcase_add_test(tc, parallel_callers_never_claim_the_same_pool_database);
	tcase_add_test(tc, a_changed_migration_gives_a_new_template);
	tcase_add_test(tc, gc_keep_1_removes_what_testdb_made_and_nothing_else);
	tcase_add_test(tc, drop_removes_a_test_database_and_refuses_any_other);
	tcase_add_test(tc, the_url_has_no_password_unless_asked);
	tcase_add_test(tc, a_template_with_a_view_clones_to_the_same_schema);
	tcase_add_test(tc, a_failed_build_leaves_nothing_behind);
	tcase_add_test(tc, a_bad_prefix_is_a_usage_error);
	tcase_add_test(tc, the_pool_hands_out_ready_clones_and_refills_itself);
	tcase_add_test(tc, a_killed_refill_leaves_nothing_that_is_used_or_kept);
	tcase_add_test(tc, the_refill_holds_no_descriptor_of_the_caller);
	tcase_add_test(tc, an_unreadable_migration_is_the_error_even_with_the_server_down);
	tcase_add_test(tc, an_unreachable_server_exits_3);
	suite_add_tcase(s, tc);
	return s;
}
