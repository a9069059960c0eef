/*
 * check_sqlsafety.c - SQL handled as the database's own client handles it,
 * and nothing lost on the way (issue 12, SPEC sections 4, 5 and 7), end to
 * end on the driver under test:
 *
 *   - SQLite's table rebuild with PRAGMA foreign_keys=OFF keeps the rows the
 *     sqlite3 shell keeps; a foreign key it breaks fails the migration;
 *   - COMMIT, BEGIN, ROLLBACK in a transactional section, and SQLite
 *     statements that do not work in a transaction, are file errors found
 *     before anything runs;
 *   - statements split as sqlite3, psql and the mysql client split them;
 *   - a lone CR in a string literal is stored as CR; a UTF-8 BOM is skipped;
 *   - seed --rerun is all-or-nothing;
 *   - a full temporary directory or disk fails the command, never exit 0.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include "../migrate/util.h"
#include "testutil.h"

Suite *sqlsafety_suite(void);

static char *proj;
static char *url;

static void setup(void)
{
	project_new(&proj, &url);
	project_config(proj, url, 10, NULL, NULL);
}

static void teardown(void)
{
	project_free(&proj, &url);
}

#define CLI(...) run_migrate(proj, NULL, (const char *const[]){ __VA_ARGS__, NULL })
#define CLI_ENV(env, ...) run_migrate(proj, (const char *const[]){ env, NULL }, (const char *const[]){ __VA_ARGS__, NULL })

static int is(const char *driver)
{
	return strcmp(test_driver_name(), driver) == 0;
}

static void mig(const char *name, const char *text)
{
	write_migration(proj, name, text);
}

static char *value(const char *sql)
{
	char *v = db_scalar(sql);

	return v ? v : xstrdup("(null)");
}

static void expect_value(const char *sql, const char *want)
{
	char *v = value(sql);

	ck_assert_msg(strcmp(v, want) == 0, "%s: '%s', expected '%s'", sql, v, want);
	free(v);
}

static void run_ok(struct run r, const char *what)
{
	expect(&r, 0, what);
	run_free(&r);
}

/* ---- SQLite: PRAGMA foreign_keys=OFF (SPEC section 5) ----------------------------- */

static const char fk_schema[] =
	"-- migrate:up\n"
	"CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);\n"
	"CREATE TABLE child (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES parent (id) ON DELETE CASCADE);\n"
	"CREATE TABLE link (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES parent (id) ON DELETE SET NULL);\n"
	"INSERT INTO parent VALUES (1, 'a'), (2, 'b');\n"
	"INSERT INTO child VALUES (10, 1), (11, 2);\n"
	"INSERT INTO link VALUES (20, 1), (21, 2);\n"
	"-- migrate:down\n"
	"DROP TABLE link;\nDROP TABLE child;\nDROP TABLE parent;\n";

/* The documented 12-step rebuild, as a migration author writes it. */
static const char fk_rebuild_up[] =
	"PRAGMA foreign_keys=OFF;\n"
	"CREATE TABLE new_parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '');\n"
	"INSERT INTO new_parent SELECT id, coalesce(name, '') FROM parent;\n"
	"DROP TABLE parent;\n"
	"ALTER TABLE new_parent RENAME TO parent;\n"
	"PRAGMA foreign_keys=ON;\n";

/* What the sqlite3 shell leaves: children and links per parent, as text. */
static char *fk_state(const char *db)
{
	char *sql = xasprintf("SELECT (SELECT count(*) FROM child) || '/' || (SELECT count(*) FROM link WHERE pid IS NOT NULL)");
	char *v;

	if (!db) {
		v = value(sql);
	} else {
		char *cmd = xasprintf("sqlite3 '%s' \"%s\"", db, sql);
		FILE *p = popen(cmd, "r");
		char buf[64] = "";
		ck_assert_ptr_nonnull(p);
		if (!fgets(buf, sizeof(buf), p))
			buf[0] = '\0';
		pclose(p);
		buf[strcspn(buf, "\n")] = '\0';
		v = xstrdup(buf);
		free(cmd);
	}
	free(sql);
	return v;
}

/* migrate's own statements around a migration: its lock_wait and statement_timeout (SPEC section 9) */
static int limits_sql(const char *q)
{
	return strncmp(q, "BEGIN; SET LOCAL lock_timeout", 29) == 0 || strncmp(q, "SET SESSION lock_wait_timeout", 29) == 0 ||
	       strncmp(q, "PRAGMA busy_timeout", 19) == 0;
}

START_TEST(sqlite_rebuild_with_foreign_keys_off_keeps_the_rows_the_shell_keeps)
{
	char *text, *dbfile, *ref, *cmd, *want, *got;
	struct run r;

	if (!is("sqlite"))
		return; /* PRAGMA foreign_keys is SQLite's */
	mig("1_schema.sql", fk_schema);
	run_ok(CLI("up"), "up 1");
	/* the reference: the same SQL through the sqlite3 shell on a copy of the database */
	dbfile = xstrdup(test_db_settings()->database);
	ref = xasprintf("%s.ref", dbfile);
	write_file(proj, "rebuild.sql", fk_rebuild_up);
	cmd = xasprintf("cp '%s' '%s' && sqlite3 '%s' < '%s/rebuild.sql'", dbfile, ref, ref, proj);
	ck_assert_int_eq(system(cmd), 0);
	want = fk_state(ref);
	ck_assert_str_eq(want, "2/2"); /* the shell keeps every child and every link */

	text = xasprintf("-- migrate:up\n%s-- migrate:down\n", fk_rebuild_up);
	mig("2_rebuild.sql", text);
	free(text);
	/* and foreign keys are on again for the next migration of the same run: the delete cascades */
	mig("3_delete.sql", "-- migrate:up\nDELETE FROM parent WHERE id = 2;\n-- migrate:down\n");
	r = CLI("up", "--to", "2");
	expect(&r, 0, "up to the rebuild");
	run_free(&r);
	got = fk_state(NULL);
	ck_assert_str_eq(got, want);
	free(got);
	expect_value("SELECT count(*) FROM pragma_foreign_key_list('child')", "1");
	run_ok(CLI("up"), "up 3");
	expect_value("SELECT count(*) FROM child WHERE id = 11", "0");
	expect_value("SELECT count(*) FROM link WHERE pid IS NULL", "1");

	free(want);
	free(cmd);
	free(ref);
	free(dbfile);
}
END_TEST

START_TEST(sqlite_rebuild_that_breaks_a_foreign_key_fails_and_rolls_back)
{
	struct run r;
	char *text;

	if (!is("sqlite"))
		return;
	mig("1_schema.sql", fk_schema);
	run_ok(CLI("up"), "up 1");
	/* the copy forgets parent 2: children 11 and 21 are left pointing at nothing */
	text = xasprintf("-- migrate:up\n"
			 "PRAGMA foreign_keys = off;\n"
			 "CREATE TABLE new_parent (id INTEGER PRIMARY KEY, name TEXT);\n"
			 "INSERT INTO new_parent SELECT * FROM parent WHERE id = 1;\n"
			 "DROP TABLE parent;\n"
			 "ALTER TABLE new_parent RENAME TO parent;\n"
			 "PRAGMA foreign_keys = on;\n"
			 "-- migrate:down\n");
	mig("2_rebuild.sql", text);
	free(text);
	r = CLI("up");
	expect(&r, 1, "a rebuild that breaks a foreign key");
	expect_in(r.err, "2_rebuild.sql:2:", "stderr");
	expect_in(r.err, "foreign_key_check", "stderr");
	expect_in(r.err, "'child' (1 row referencing 'parent')", "stderr");
	expect_in(r.err, "'link' (1 row referencing 'parent')", "stderr");
	expect_in(r.err, "rolled back", "stderr");
	run_free(&r);
	expect_value("SELECT count(*) FROM parent", "2");
	expect_value("SELECT count(*) FROM sqlite_master WHERE name = 'new_parent'", "0");
	expect_value("SELECT count(*) FROM schema_migrations WHERE version = '2'", "0");

	/* --dry-run shows where foreign keys go off and on, and the check */
	r = CLI("--dry-run", "up");
	expect(&r, 0, "dry run");
	expect_in(r.out, "PRAGMA foreign_keys = OFF;\nBEGIN", "stdout");
	expect_in(r.out, "PRAGMA foreign_key_check;\nCOMMIT;\nPRAGMA foreign_keys = ON;", "stdout");
	run_free(&r);
	/* one transaction for every migration cannot switch them for one: refused */
	r = CLI("up", "--single-transaction");
	expect(&r, 2, "--single-transaction with foreign keys off");
	expect_in(r.err, "2_rebuild.sql:2", "stderr");
	run_free(&r);
	expect_value("SELECT count(*) FROM parent", "2");
}
END_TEST

START_TEST(sqlite_foreign_keys_off_outside_a_transaction_are_put_back)
{
	if (!is("sqlite"))
		return;
	mig("1_schema.sql", fk_schema);
	mig("2_off.sql", "-- migrate:up transaction:false\nPRAGMA foreign_keys = OFF;\nSELECT 1;\n-- migrate:down\n");
	mig("3_delete.sql", "-- migrate:up\nDELETE FROM parent WHERE id = 2;\n-- migrate:down\n");
	run_ok(CLI("up"), "up");
	/* the next migration of the same run has foreign keys on again: the delete cascades */
	expect_value("SELECT count(*) FROM child WHERE id = 11", "0");
	expect_value("SELECT count(*) FROM link WHERE pid IS NULL", "1");
}
END_TEST

/* SQLite refuses or ignores these in a transaction; migrate says so before anything runs. */
START_TEST(sqlite_statements_that_do_not_work_in_a_transaction_are_refused)
{
	static const char *const bad[] = { "VACUUM", "PRAGMA journal_mode = WAL", "PRAGMA synchronous = OFF" };
	static const char *const named[] = { "'VACUUM'", "'PRAGMA journal_mode'", "'PRAGMA synchronous'" };
	size_t i;

	if (!is("sqlite"))
		return;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *text = xasprintf("-- migrate:up\nCREATE TABLE t%zu (x INTEGER);\n%s;\n-- migrate:down\n", i, bad[i]);
		struct run r;
		mig("1_first.sql", "-- migrate:up\nCREATE TABLE first (x INTEGER);\n-- migrate:down\n");
		mig("2_bad.sql", text);
		free(text);
		r = CLI("up");
		expect(&r, 2, bad[i]);
		expect_in(r.err, "2_bad.sql:3:", "stderr");
		expect_in(r.err, named[i], "stderr");
		expect_in(r.err, "transaction:false", "stderr");
		run_free(&r);
		/* nothing ran, not even the migration before it */
		ck_assert_int_eq(db_table_exists("first"), 0);
		expect_value("PRAGMA journal_mode", "delete");
	}
	/* outside a transaction they run, as in the shell */
	mig("2_bad.sql", "-- migrate:up transaction:false\nPRAGMA journal_mode = WAL;\nVACUUM;\n-- migrate:down\n");
	run_ok(CLI("up"), "transaction:false");
	expect_value("PRAGMA journal_mode", "wal");
}
END_TEST

/* PostgreSQL refuses these in a transaction block: found before the first migration runs. */
START_TEST(postgres_statements_outside_a_transaction_block_are_refused_first)
{
	struct run r;

	if (!is("postgres"))
		return;
	mig("1_first.sql", "-- migrate:up\nCREATE TABLE first (x INTEGER);\n-- migrate:down\nDROP TABLE first;\n");
	mig("2_index.sql", "-- migrate:up\nCREATE TABLE v (id INTEGER);\nCREATE INDEX CONCURRENTLY v_id ON v (id);\n"
			    "-- migrate:down\nDROP TABLE v;\n");
	r = CLI("up");
	expect(&r, 2, "CONCURRENTLY in a transaction");
	expect_in(r.err, "2_index.sql:3: 'CREATE INDEX CONCURRENTLY'", "stderr");
	expect_in(r.err, "transaction:false", "stderr");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("first"), 0);
	mig("2_index.sql", "-- migrate:up transaction:false\nCREATE TABLE v (id INTEGER);\nCREATE INDEX CONCURRENTLY v_id ON v (id);\n"
			    "-- migrate:down\nDROP TABLE v;\n");
	run_ok(CLI("up"), "up with transaction:false");
}
END_TEST

/* ---- transaction control in a transactional section (SPEC section 5) ------------- */

START_TEST(commit_in_a_transactional_section_is_refused_before_anything_runs)
{
	const char *const stmts[] = { "COMMIT", "BEGIN", "ROLLBACK", "START TRANSACTION", "END" };
	size_t i;
	struct run r;
	int tddl = (test_driver()->caps & DRIVER_CAP_TRANSACTIONAL_DDL) != 0;

	for (i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
		char *text;
		if ((is("sqlite") && strcmp(stmts[i], "START TRANSACTION") == 0) || (is("mysql") && strcmp(stmts[i], "END") == 0))
			continue; /* not a statement there */
		text = xasprintf("-- migrate:up\nCREATE TABLE a (x INTEGER);\n\n%s;\nCREATE TABLE b (x INTEGER);\n"
				 "-- migrate:down\nDROP TABLE a;\nDROP TABLE b;\n",
				 stmts[i]);
		mig("1_first.sql", "-- migrate:up\nCREATE TABLE first (x INTEGER);\n-- migrate:down\nDROP TABLE first;\n");
		mig("2_tx.sql", text);
		free(text);
		r = CLI("up");
		if (tddl) {
			expect(&r, 2, stmts[i]);
			expect_in(r.err, "2_tx.sql:4: '", "stderr");
			expect_in(r.err, stmts[i], "stderr");
			expect_in(r.err, "transaction:false", "stderr");
			ck_assert_int_eq(db_table_exists("first"), 0);
			ck_assert_int_eq(db_table_exists("a"), 0);
			ck_assert_int_eq(db_count("schema_migrations"), 0);
		} else {
			/* MySQL runs migrations outside a transaction (its DDL commits): theirs is theirs */
			expect(&r, 0, stmts[i]);
			run_ok(CLI("down", "--all"), "down");
		}
		run_free(&r);
	}
	/* the same in a down section, and in a seed (a transaction on every database) */
	mig("2_tx.sql", "-- migrate:up\nCREATE TABLE a (x INTEGER);\n-- migrate:down\nDROP TABLE a;\nCOMMIT;\n");
	run_ok(CLI("up"), "up"); /* only what runs is checked: the down section when rolling back */
	r = CLI("down");
	if (tddl) {
		expect(&r, 2, "COMMIT in a down section");
		expect_in(r.err, "2_tx.sql:5: 'COMMIT'", "stderr");
		expect_in(r.err, "-- migrate:down transaction:false", "stderr");
		ck_assert_int_eq(db_table_exists("a"), 1);
		expect_value("SELECT count(*) FROM schema_migrations", "2");
	} else {
		expect(&r, 0, "COMMIT in a MySQL down section");
	}
	run_free(&r);
	/* an applied file with a COMMIT never blocks a run that does not run it */
	mig("3_more.sql", "-- migrate:up\nCREATE TABLE more (x INTEGER);\n-- migrate:down\nDROP TABLE more;\n");
	run_ok(CLI("up"), "up past it");
	run_ok(CLI("status"), "status");
	ck_assert_int_eq(db_table_exists("a"), 1); /* 2 is applied, with its COMMIT in the down section */
	write_file(proj, "seeds/01_rows.sql", "INSERT INTO a VALUES (1);\nCOMMIT;\nINSERT INTO a VALUES (2);\n");
	r = CLI("seed");
	expect(&r, 2, "COMMIT in a seed");
	expect_in(r.err, "seeds/01_rows.sql:2: 'COMMIT'", "stderr");
	run_free(&r);
	expect_value("SELECT count(*) FROM a", "0");
	/* transaction:false: the file manages its own transaction */
	write_file(proj, "seeds/01_rows.sql",
		   "-- migrate:up transaction:false\nSTART TRANSACTION;\nINSERT INTO a VALUES (1);\nCOMMIT;\n");
	if (is("sqlite"))
		write_file(proj, "seeds/01_rows.sql",
			   "-- migrate:up transaction:false\nBEGIN;\nINSERT INTO a VALUES (1);\nCOMMIT;\n");
	run_ok(CLI("seed"), "transaction:false seed");
	expect_value("SELECT count(*) FROM a", "1");
}
END_TEST

/* Blocks, bodies and savepoints that hold BEGIN, END, COMMIT are not transaction control. */
START_TEST(bodies_and_savepoints_are_not_transaction_control)
{
	mig("1_bodies.sql", pick(
		"-- migrate:up\n"
		"CREATE TABLE t (x INTEGER);\n"
		"CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET x = x + 1 WHERE x = -1; END;\n"
		"SAVEPOINT s;\nINSERT INTO t VALUES (1);\nROLLBACK TO SAVEPOINT s;\nRELEASE s;\n"
		"-- migrate:down\nDROP TABLE t;\n",
		"-- migrate:up\n"
		"CREATE TABLE t (x INTEGER);\n"
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; END;\n"
		"CREATE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$;\n"
		"DO $$ BEGIN PERFORM 1; END $$;\n"
		"SAVEPOINT s;\nINSERT INTO t VALUES (1);\nROLLBACK TO SAVEPOINT s;\nRELEASE SAVEPOINT s;\n"
		"-- migrate:down\nDROP PROCEDURE p;\nDROP FUNCTION f;\nDROP TABLE t;\n",
		"-- migrate:up\n"
		"CREATE TABLE t (x INTEGER);\n"
		"CREATE PROCEDURE p() BEGIN START TRANSACTION; INSERT INTO t VALUES (5); COMMIT; END;\n"
		"DELIMITER //\nBEGIN NOT ATOMIC SELECT 1; END//\nDELIMITER ;\n"
		"-- migrate:down\nDROP PROCEDURE p;\nDROP TABLE t;\n"));
	run_ok(CLI("up"), "up");
	expect_value("SELECT count(*) FROM t", "0");
	run_ok(CLI("down"), "down");
}
END_TEST

/* ---- split as the database's own client splits ------------------------------------ */

START_TEST(statements_split_as_the_client_splits_them)
{
	/* each section was run through sqlite3, psql and the mariadb client, which accept it */
	mig("1_split.sql", pick(
		"-- migrate:up\n"
		"CREATE TABLE x (id INTEGER PRIMARY KEY, end INTEGER, note TEXT);\n"
		"CREATE TABLE y (id INTEGER PRIMARY KEY, end INTEGER);\n"
		"INSERT INTO y VALUES (1, 0);\n"
		"CREATE TRIGGER x_ai AFTER INSERT ON x BEGIN\n"
		"  UPDATE x SET end = CASE WHEN new.id > 0 THEN 1 ELSE 0 END, note = 'a; END' WHERE id = new.id;\n"
		"  UPDATE y SET end = new.id WHERE end IS NOT NULL;\n"
		"END;\n"
		"INSERT INTO x (id) VALUES (5);\n"
		"-- migrate:down\nDROP TABLE x;\nDROP TABLE y;\n",
		"-- migrate:up\n"
		"CREATE TABLE x (id int PRIMARY KEY, \"end\" int, note text);\n"
		"CREATE TABLE y (id int PRIMARY KEY, \"end\" int);\n"
		"INSERT INTO y VALUES (1, 0);\n"
		"CREATE RULE x_r AS ON INSERT TO x DO ALSO (\n"
		"  UPDATE y SET \"end\" = NEW.id;\n"
		"  INSERT INTO y VALUES (NEW.id + 100, 1)\n"
		");\n"
		"INSERT INTO x (id) VALUES (5);\n"
		"UPDATE x SET \"end\" = 1, note = 'a; END';\n"
		"-- migrate:down\nDROP TABLE x;\nDROP TABLE y;\n",
		"-- migrate:up\n"
		"CREATE TABLE x (id INT PRIMARY KEY, end INT, note TEXT);\n"
		"CREATE TABLE y (id INT PRIMARY KEY, end INT);\n"
		"INSERT INTO y VALUES (1, 0);\n"
		"CREATE TRIGGER x_bi BEFORE INSERT ON x FOR EACH ROW BEGIN\n"
		"  SET NEW.end = CASE WHEN NEW.id > 0 THEN 1 ELSE 0 END;\n"
		"  SET NEW.note = 'a; END';\n"
		"  UPDATE y SET end = NEW.id WHERE end IS NOT NULL;\n"
		"END;\n"
		"INSERT INTO x (id) VALUES (5);\n"
		"-- migrate:down\nDROP TABLE x;\nDROP TABLE y;\n"));
	run_ok(CLI("up"), "up");
	expect_value(pick("SELECT end FROM x", "SELECT \"end\" FROM x", "SELECT end FROM x"), "1");
	expect_value("SELECT note FROM x", "a; END");
	expect_value(pick("SELECT end FROM y WHERE id = 1", "SELECT \"end\" FROM y WHERE id = 1",
			  "SELECT end FROM y WHERE id = 1"),
		     "5");
	expect_value("SELECT status FROM schema_migrations", "applied");
	if (is("postgres"))
		expect_value("SELECT count(*) FROM y", "2");
	run_ok(CLI("down"), "down");
}
END_TEST

/*
 * psql is the reference for PostgreSQL: random files of tricky statements
 * (parenthesised rule actions, BEGIN ATOMIC bodies with CASE, dollar
 * quotes, strings and comments holding ';') must reach the server as the
 * same statements, whether psql or migrate sends them. psql echoes what it
 * sends (-e); migrate's dry run lists it.
 */
START_TEST(postgres_splits_as_psql_does)
{
	static const char *const parts[] = {
		"CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (NEW.id); INSERT INTO b VALUES (NEW.id + 1))",
		"CREATE OR REPLACE FUNCTION f(x int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN x > 0 THEN 1 ELSE 2 END; SELECT 3; END",
		"CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END",
		"CREATE FUNCTION g() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql",
		"DO $d$ BEGIN PERFORM 1; END $d$",
		"SELECT (1 + (2))",
		"SELECT 'a;b', E'c\\';d', \"x;y\" FROM t",
		"CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION g()",
		"CREATE TABLE t2 (id int, note text DEFAULT 'x;y', CHECK (id > 0))",
		"SELECT CASE WHEN true THEN 1 END",
		"CREATE VIEW v AS SELECT 1 /* ; */ AS x",
	};
	static const char *const ends[] = { ";\n", ";", " ;\n" };
	unsigned seed = 11;
	int trial;

	if (!is("postgres"))
		return;
	for (trial = 0; trial < 25; trial++) {
		struct strbuf sql = STRBUF_INIT, want = STRBUF_INIT, got = STRBUF_INIT;
		size_t i, n = 1 + (size_t)(rand_r(&seed) % 5);
		json_t *doc, *plan, *step, *stmts, *v;
		json_error_t jerr;
		char *cmd, *text, buf[4096];
		struct run r;
		FILE *p;

		for (i = 0; i < n; i++) {
			strbuf_addstr(&sql, parts[rand_r(&seed) % (sizeof(parts) / sizeof(parts[0]))]);
			strbuf_addstr(&sql, ends[rand_r(&seed) % (sizeof(ends) / sizeof(ends[0]))]);
		}
		write_file(proj, "in.sql", sql.buf);
		/* psql: the statements it sends, each echoed on its own lines; errors (no table t) do not matter */
		cmd = xasprintf("psql '%s' -X -q -e -o /dev/null -v ON_ERROR_STOP=0 -f '%s/in.sql' 2>/dev/null", url, proj);
		p = popen(cmd, "r");
		ck_assert_ptr_nonnull(p);
		while (fgets(buf, sizeof(buf), p))
			strbuf_addstr(&want, buf);
		ck_assert_int_eq(pclose(p), 0);
		free(cmd);
		/* migrate: the statements of its plan, as "statement;\n" with no blank before the ';' */
		text = xasprintf("-- migrate:up\n%s", sql.buf);
		mig("1_x.sql", text);
		free(text);
		r = CLI("--dry-run", "--format", "json", "up");
		expect(&r, 0, "dry run");
		doc = json_loads(r.out, 0, &jerr);
		ck_assert_ptr_nonnull(doc);
		plan = json_object_get(doc, "plan");
		json_array_foreach(plan, i, step) {
			size_t j;
			if (strcmp(json_string_value(json_object_get(step, "action")), "up") != 0)
				continue;
			stmts = json_object_get(step, "sql");
			json_array_foreach(stmts, j, v) {
				const char *q = json_string_value(v);
				/* the tracking row, its table qualified with the schema */
				if (strcmp(q, "BEGIN;") == 0 || strcmp(q, "COMMIT;") == 0 || limits_sql(q) ||
				    (strncmp(q, "INSERT INTO ", 12) == 0 && strstr(q, "\"schema_migrations\" (")))
					continue;
				strbuf_addf(&got, "%s\n", q);
			}
		}
		json_decref(doc);
		run_free(&r);
		/* psql echoes "stmt ;" as written: drop blanks before each line-ending ';' */
		{
			char *w = want.buf, *rd = want.buf;
			for (; *rd; rd++) {
				if (*rd == ';' && rd[1] == '\n')
					while (w > want.buf && (w[-1] == ' ' || w[-1] == '\t'))
						w--;
				*w++ = *rd;
			}
			*w = '\0';
		}
		ck_assert_msg(strcmp(want.buf, got.buf) == 0, "psql sends:\n%s\nmigrate sends:\n%s\nfor:\n%s", want.buf,
			      got.buf, sql.buf);
		strbuf_release(&sql);
		strbuf_release(&want);
		strbuf_release(&got);
	}
}
END_TEST

/*
 * The mysql client is the reference for MySQL/MariaDB: with DELIMITER the
 * delimiter alone ends a statement; strings and identifiers holding ';'
 * (with backslash escapes) never do. (Without DELIMITER migrate goes
 * further than the client, so routines need none; see sqllex.c.)
 */
START_TEST(mysql_splits_as_the_mysql_client_does)
{
	static const char *const parts[] = {
		"CREATE TABLE tt (id INT, end INT, begin INT, note TEXT);\n",
		"INSERT INTO tt (note) VALUES ('a;b'), (\"c\\\";d\"), ('e\\';f');\n",
		"SELECT `x;y` FROM tt WHERE note = 'END;';\n",
		"DELIMITER $$\nCREATE TRIGGER tr BEFORE INSERT ON tt FOR EACH ROW BEGIN SET NEW.end = CASE WHEN NEW.id > 0 THEN 1 END; SET NEW.begin = 2; END$$\nDELIMITER ;\n",
		"DELIMITER //\nCREATE PROCEDURE pr() BEGIN IF 1 THEN SELECT 1; END IF; END //\nSELECT 2//\nDELIMITER ;\n",
		"DO 1 ;\n",
		"SET @a = 'x;y';SET @b = 2;\n",
	};
	unsigned seed = 5;
	int trial;
	const struct driver_settings *st = test_db_settings();

	if (!is("mysql"))
		return;
	for (trial = 0; trial < 25; trial++) {
		struct strbuf sql = STRBUF_INIT, echo = STRBUF_INIT, want = STRBUF_INIT, got = STRBUF_INIT;
		size_t i, n = 1 + (size_t)(rand_r(&seed) % 5);
		json_t *doc, *plan, *step, *stmts, *v;
		json_error_t jerr;
		char *cmd, *text, buf[4096];
		const char *sep = "--------------\n", *p0, *p1;
		struct run r;
		FILE *p;

		for (i = 0; i < n; i++)
			strbuf_addstr(&sql, parts[rand_r(&seed) % (sizeof(parts) / sizeof(parts[0]))]);
		write_file(proj, "in.sql", sql.buf);
		/* the client, verbose: each statement it sends between two lines of dashes */
		cmd = xasprintf("MYSQL_PWD='%s' mariadb -h '%s' -P %d -u '%s' '%s' -v -f < '%s/in.sql' 2>/dev/null",
				st->password ? st->password : "", st->host, st->port, st->user, st->database, proj);
		p = popen(cmd, "r");
		ck_assert_ptr_nonnull(p);
		while (fgets(buf, sizeof(buf), p))
			strbuf_addstr(&echo, buf);
		pclose(p);
		free(cmd);
		for (p0 = strstr(echo.buf ? echo.buf : "", sep); p0; p0 = strstr(p1 + strlen(sep), sep)) {
			p0 += strlen(sep);
			p1 = strstr(p0, sep);
			if (!p1)
				break;
			strbuf_add(&want, p0, (size_t)(p1 - p0));
		}
		{
			struct driver_conn *c = test_connect();
			struct driver_error e;
			test_driver()->exec(c, "DROP TABLE IF EXISTS tt", 23, NULL, &e);
			test_driver()->exec(c, "DROP PROCEDURE IF EXISTS pr", 27, NULL, &e);
			test_driver()->close(c);
		}
		/* migrate: the statements of its plan */
		text = xasprintf("-- migrate:up\n%s", sql.buf);
		mig("1_x.sql", text);
		free(text);
		r = CLI("--dry-run", "--format", "json", "up");
		expect(&r, 0, "dry run");
		doc = json_loads(r.out, 0, &jerr);
		ck_assert_ptr_nonnull(doc);
		plan = json_object_get(doc, "plan");
		json_array_foreach(plan, i, step) {
			size_t j;
			if (strcmp(json_string_value(json_object_get(step, "action")), "up") != 0)
				continue;
			stmts = json_object_get(step, "sql");
			json_array_foreach(stmts, j, v) {
				const char *q = json_string_value(v);
				size_t len = strlen(q);
				/* the tracking rows, their table qualified with the database */
				if (limits_sql(q) || ((strncmp(q, "INSERT INTO ", 12) == 0 || strncmp(q, "UPDATE ", 7) == 0) &&
				    strstr(q, "`schema_migrations` ")))
					continue;
				strbuf_add(&got, q, len && q[len - 1] == ';' ? len - 1 : len);
				strbuf_addch(&got, '\n');
			}
		}
		json_decref(doc);
		run_free(&r);
		ck_assert_msg(strcmp(strbuf_str(&want), strbuf_str(&got)) == 0,
			      "the client sends:\n%s\nmigrate sends:\n%s\nfor:\n%s", strbuf_str(&want), strbuf_str(&got),
			      sql.buf);
		strbuf_release(&sql);
		strbuf_release(&echo);
		strbuf_release(&want);
		strbuf_release(&got);
	}
}
END_TEST

/* ---- bytes: CR and the BOM ------------------------------------------------------------ */

START_TEST(a_lone_cr_in_a_string_is_stored_as_cr)
{
	char *v;

	mig("1_cr.sql",
	    "-- migrate:up\r\n"
	    "CREATE TABLE crt (id INTEGER, v TEXT);\r\n"
	    "INSERT INTO crt VALUES (1, 'a\rb');\r\n"
	    "INSERT INTO crt VALUES (2, 'c\r\nd');\r\n"
	    "-- migrate:down\r\nDROP TABLE crt;\r\n");
	run_ok(CLI("up"), "up");
	v = value("SELECT v FROM crt WHERE id = 1");
	ck_assert_msg(strcmp(v, "a\rb") == 0, "a lone CR: stored as '%s'", v);
	free(v);
	/* CRLF as the client stores it: psql keeps the CR, sqlite3 and mysql read lines without it */
	v = value("SELECT v FROM crt WHERE id = 2");
	ck_assert_str_eq(v, is("postgres") ? "c\r\nd" : "c\nd");
	free(v);
	/* the checksum is still that of the file with LF line endings */
	mig("1_cr.sql",
	    "-- migrate:up\n"
	    "CREATE TABLE crt (id INTEGER, v TEXT);\n"
	    "INSERT INTO crt VALUES (1, 'a\nb');\n"
	    "INSERT INTO crt VALUES (2, 'c\nd');\n"
	    "-- migrate:down\nDROP TABLE crt;\n");
	run_ok(CLI("validate"), "validate with LF line endings");
	/* a seed too */
	write_file(proj, "seeds/01_cr.sql", "INSERT INTO crt VALUES (3, 'e\rf');\n");
	run_ok(CLI("seed"), "seed");
	v = value("SELECT v FROM crt WHERE id = 3");
	ck_assert_msg(strcmp(v, "e\rf") == 0, "a lone CR in a seed: stored as '%s'", v);
	free(v);
}
END_TEST

START_TEST(a_utf8_bom_before_the_marker_or_a_seed_is_skipped)
{
	struct run r;

	mig("1_bom.sql", "\xEF\xBB\xBF-- migrate:up\nCREATE TABLE bom (x INTEGER);\n-- migrate:down\nDROP TABLE bom;\n");
	write_file(proj, "seeds/01_bom.sql", "\xEF\xBB\xBFINSERT INTO bom VALUES (1);\n");
	write_file(proj, "seeds/02_bom.sql", "\xEF\xBB\xBF-- migrate:up\nINSERT INTO bom VALUES (2);\n"
		   "-- migrate:down\nDELETE FROM bom WHERE x = 2;\n");
	run_ok(CLI("up"), "up");
	ck_assert_int_eq(db_table_exists("bom"), 1);
	run_ok(CLI("seed"), "seed");
	expect_value("SELECT count(*) FROM bom", "2");
	r = CLI("seed", "--undo");
	expect(&r, 0, "undo");
	run_free(&r);
	expect_value("SELECT count(*) FROM bom", "1");
	run_ok(CLI("down"), "down");
}
END_TEST

/* ---- seed --rerun is all-or-nothing ------------------------------------------------- */

static void rerun_tables(void)
{
	char *text = xasprintf("-- migrate:up\n"
			       "CREATE TABLE things (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(50));\n"
			       "CREATE TABLE gen (%s, label VARCHAR(50) NOT NULL);\n"
			       "-- migrate:down\nDROP TABLE gen;\nDROP TABLE things;\n",
			       pick("id INTEGER PRIMARY KEY AUTOINCREMENT", "id serial PRIMARY KEY",
				    "id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY"));
	mig("1_tables.sql", text);
	free(text);
	run_ok(CLI("up"), "up");
}

static char *seeds_state(void)
{
	return value("SELECT (SELECT count(*) FROM things) || '/' || (SELECT count(*) FROM gen) || '/' || "
		     "(SELECT count(*) FROM schema_seeds) || '/' || (SELECT count(*) FROM schema_seeds_undo)");
}

static char *seeds_state_portable(void)
{
	/* MySQL's || is OR: spell it with CONCAT there */
	if (is("mysql"))
		return value("SELECT CONCAT((SELECT count(*) FROM things), '/', (SELECT count(*) FROM gen), '/', "
			     "(SELECT count(*) FROM schema_seeds), '/', (SELECT count(*) FROM schema_seeds_undo))");
	return seeds_state();
}

START_TEST(rerun_with_a_bad_new_file_changes_nothing)
{
	struct run r;
	char *before, *after;

	rerun_tables();
	write_file(proj, "seeds/01_things.csv", "id,name\n1,a\n2,b\n");
	write_file(proj, "seeds/02_gen.csv", "label\nx\ny\n");
	write_file(proj, "seeds/03_more.sql", "-- migrate:up\nINSERT INTO things VALUES (10, 'ten');\n"
		   "-- migrate:down\nDELETE FROM things WHERE id = 10;\n");
	write_file(proj, "seeds/04_gen.csv", "label\nw\n");
	run_ok(CLI("seed"), "seed");
	before = seeds_state_portable();
	ck_assert_str_eq(before, "3/3/4/8");

	/* a short CSV row in the new version */
	write_file(proj, "seeds/01_things.csv", "id,name\n1,a2\n2\n");
	r = CLI("seed", "--rerun");
	expect(&r, 1, "rerun with a short row");
	expect_in(r.err, "01_things.csv:3:", "stderr");
	expect_in(r.err, "rolled back", "stderr");
	run_free(&r);
	after = seeds_state_portable();
	ck_assert_str_eq(after, before);
	free(after);
	expect_value("SELECT name FROM things WHERE id = 1", "a");

	/* a value the database rejects, in a later seed: the earlier undo and load roll back too */
	write_file(proj, "seeds/01_things.csv", "id,name\n1,a2\n2,b2\n");
	write_file(proj, "seeds/02_gen.csv", "label\nz\n\"\"\n");
	write_file(proj, "seeds/03_more.sql", "-- migrate:up\nINSERT INTO things VALUES (10, 'ten');\n"
		   "INSERT INTO things VALUES (1, 'duplicate key');\n"
		   "-- migrate:down\nDELETE FROM things WHERE id = 10;\n");
	r = CLI("seed", "--rerun");
	expect(&r, 1, "rerun with a duplicate key");
	expect_in(r.err, "03_more.sql:3:", "stderr");
	run_free(&r);
	after = seeds_state_portable();
	ck_assert_str_eq(after, before);
	free(after);
	expect_value("SELECT name FROM things WHERE id = 1", "a");
	expect_value("SELECT min(label) FROM gen", "w");
	r = CLI("status");
	expect_in(r.out, "changed  01_things.csv", "status"); /* still recorded, as before */
	run_free(&r);

	/* a good new version then reruns all three */
	write_file(proj, "seeds/03_more.sql", "-- migrate:up\nINSERT INTO things VALUES (10, 'ten2');\n"
		   "-- migrate:down\nDELETE FROM things WHERE id = 10;\n");
	write_file(proj, "seeds/04_gen.csv", "label\nv\n");
	run_ok(CLI("seed", "--rerun"), "rerun");
	expect_value("SELECT name FROM things WHERE id = 1", "a2");
	expect_value("SELECT name FROM things WHERE id = 10", "ten2");
	expect_value("SELECT count(*) FROM gen", "3");
	/*
	 * and each one's undo removes exactly its own rows, though two loads into
	 * gen shared the rerun's transaction (PostgreSQL reads generated keys by xmin)
	 */
	run_ok(CLI("seed", "--undo", "04_gen"), "undo 04_gen");
	expect_value("SELECT count(*) FROM gen", "2");
	run_ok(CLI("seed", "--undo", "02_gen"), "undo 02_gen");
	expect_value("SELECT count(*) FROM gen", "0");
	run_ok(CLI("seed", "--undo-all"), "undo all");
	expect_value("SELECT count(*) FROM things", "0");
	free(before);
}
END_TEST

/* A section outside a transaction: the new files are checked whole before anything is undone. */
START_TEST(rerun_outside_one_transaction_checks_the_new_files_first)
{
	struct run r;
	char *before, *after;

	rerun_tables();
	write_file(proj, "seeds/01_things.csv", "id,name\n1,a\n2,b\n");
	write_file(proj, "seeds/02_gen.sql", "-- migrate:up transaction:false\nINSERT INTO gen (label) VALUES ('x');\n"
		   "-- migrate:down transaction:false\nDELETE FROM gen;\n");
	run_ok(CLI("seed"), "seed");
	before = seeds_state_portable();
	write_file(proj, "seeds/01_things.csv", "id,name\n1,a2\n2,b2,extra\n");
	write_file(proj, "seeds/02_gen.sql", "-- migrate:up transaction:false\nINSERT INTO gen (label) VALUES ('y');\n"
		   "-- migrate:down transaction:false\nDELETE FROM gen;\n");
	r = CLI("seed", "--rerun");
	expect(&r, 1, "rerun with a bad CSV beside a transaction:false seed");
	expect_in(r.err, "01_things.csv:3:", "stderr");
	ck_assert_msg(strstr(r.out, "rolled back") == NULL, "something was undone:\n%s", r.out);
	run_free(&r);
	after = seeds_state_portable();
	ck_assert_str_eq(after, before);
	free(after);
	free(before);
	expect_value("SELECT label FROM gen", "x");
}
END_TEST

/* ---- full temporary directory and full disk ------------------------------------------ */

/* Mounts a 64 KiB tmpfs on dir; the test fails (never skips) when it cannot. */
static void small_tmpfs(const char *dir)
{
	mkdir(dir, 0700);
	ck_assert_msg(mount("tmpfs", dir, "tmpfs", 0, "size=64k") == 0,
		      "cannot mount a 64k tmpfs on %s: %s (the suite runs as root)", dir, strerror(errno));
}

START_TEST(a_full_temporary_directory_fails_a_csv_seed)
{
	char *tmp = xasprintf("%s/tmpfs", proj), *env = xasprintf("TMPDIR=%s", tmp);
	struct strbuf csv = STRBUF_INIT;
	struct run r;
	int i;

	mig("1_keys.sql", "-- migrate:up\nCREATE TABLE keyed (k VARCHAR(100) NOT NULL PRIMARY KEY, n INTEGER);\n"
			   "-- migrate:down\nDROP TABLE keyed;\n");
	run_ok(CLI("up"), "up");
	/* some 150 KB of keys to spool, more than the 64 KiB there is room for */
	strbuf_addstr(&csv, "k,n\n");
	for (i = 0; i < 2000; i++)
		strbuf_addf(&csv, "key-%06d-abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz,%d\n", i, i);
	write_file(proj, "seeds/01_keyed.csv", csv.buf);
	strbuf_release(&csv);
	small_tmpfs(tmp);
	r = CLI_ENV(env, "seed");
	umount2(tmp, MNT_DETACH);
	expect(&r, 1, "seed with a full TMPDIR");
	expect_in(r.err, "01_keyed.csv: cannot write the keys", "stderr");
	expect_in(r.err, "No space left on device", "stderr");
	expect_in(r.err, "nothing was applied", "stderr");
	run_free(&r);
	expect_value("SELECT count(*) FROM keyed", "0");
	expect_value("SELECT count(*) FROM schema_seeds", "0");
	/* with room, the same seed loads and its undo removes every row */
	run_ok(CLI("seed"), "seed");
	expect_value("SELECT count(*) FROM keyed", "2000");
	run_ok(CLI("seed", "--undo"), "undo");
	expect_value("SELECT count(*) FROM keyed", "0");
	free(env);
	free(tmp);
}
END_TEST

START_TEST(a_full_disk_fails_new_and_output)
{
	char *tmp = xasprintf("%s/tmpfs", proj), *dir = xasprintf("%s/tmpfs/migrations", proj);
	char *filler = xasprintf("%s/tmpfs/filler", proj);
	struct run r;
	char block[4096];
	int fd, n = 0;
	DIR *d;
	struct dirent *de;

	small_tmpfs(tmp);
	mkdir(dir, 0700);
	memset(block, 'x', sizeof(block));
	fd = open(filler, O_WRONLY | O_CREAT, 0600);
	while (fd >= 0 && write(fd, block, sizeof(block)) > 0)
		;
	if (fd >= 0)
		close(fd);
	r = run_migrate(proj, NULL, (const char *const[]){ "--migrations-dir", dir, "new", "full_disk", NULL });
	/* no empty file left to break every later run */
	d = opendir(dir);
	while (d && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	if (d)
		closedir(d);
	umount2(tmp, MNT_DETACH);
	expect(&r, 2, "new on a full disk");
	expect_in(r.err, "cannot write", "stderr");
	run_free(&r);
	ck_assert_int_eq(n, 0);

	/* output cut short is not success */
	{
		char *cmd = xasprintf("'%s' --version > /dev/full 2>/dev/null", getenv("MIGRATE_BIN"));
		int st = system(cmd);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "--version > /dev/full exited %d", st);
		free(cmd);
	}
	free(filler);
	free(dir);
	free(tmp);
}
END_TEST

/*
 * dump -o on a full disk: the error, and the previous dump kept whole (it
 * used to be truncated, then removed), with no temporary file left beside it.
 */
START_TEST(a_full_disk_keeps_the_previous_dump)
{
	char *tmp = xasprintf("%s/tmpfs", proj), *out = xasprintf("%s/tmpfs/schema.sql", proj);
	char *filler = xasprintf("%s/tmpfs/filler", proj);
	char *before, *after, block[4096];
	struct strbuf sql = STRBUF_INIT;
	struct run first, r;
	int fd, i, n = 0;
	DIR *d;
	struct dirent *de;

	mig("1_one.sql", "-- migrate:up\nCREATE TABLE t_one (id INTEGER);\n-- migrate:down\nDROP TABLE t_one;\n");
	run_ok(CLI("up"), "up");
	small_tmpfs(tmp);
	first = CLI("dump", "-o", out);
	before = slurp(tmp, "schema.sql");
	/*
	 * a second migration makes the schema bigger (some 14 KB of dump, more
	 * than the old file's page freed by truncating it); then the disk is filled
	 */
	strbuf_addstr(&sql, "-- migrate:up\nCREATE TABLE t_two (id INTEGER");
	for (i = 0; i < 200; i++)
		strbuf_addf(&sql, ", c_%03d_abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz INTEGER", i);
	strbuf_addstr(&sql, ");\n-- migrate:down\nDROP TABLE t_two;\n");
	mig("2_two.sql", sql.buf);
	strbuf_release(&sql);
	r = CLI("up");
	run_free(&r);
	memset(block, 'x', sizeof(block));
	fd = open(filler, O_WRONLY | O_CREAT, 0600);
	while (fd >= 0 && write(fd, block, sizeof(block)) > 0)
		;
	if (fd >= 0)
		close(fd);
	r = CLI("dump", "-o", out);
	after = slurp(tmp, "schema.sql");
	d = opendir(tmp);
	while (d && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	if (d)
		closedir(d);
	umount2(tmp, MNT_DETACH);
	expect(&first, 0, "dump -o with room");
	run_free(&first);
	expect(&r, 2, "dump -o on a full disk");
	expect_in(r.err, "No space left on device", "stderr");
	run_free(&r);
	ck_assert_ptr_nonnull(before);
	ck_assert_msg(after != NULL, "the previous dump is gone");
	ck_assert_str_eq(after, before);
	ck_assert_msg(n == 2, "%d files in the full tmpfs: schema.sql and filler expected (no temporary file)", n);
	free(before);
	free(after);
	free(filler);
	free(out);
	free(tmp);
}
END_TEST

Suite *sqlsafety_suite(void)
{
	Suite *s = suite_create("sqlsafety");
	TCase *tc = tcase_create("sql");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, sqlite_rebuild_with_foreign_keys_off_keeps_the_rows_the_shell_keeps);
	tcase_add_test(tc, sqlite_rebuild_that_breaks_a_foreign_key_fails_and_rolls_back);
	tcase_add_test(tc, sqlite_foreign_keys_off_outside_a_transaction_are_put_back);
	tcase_add_test(tc, sqlite_statements_that_do_not_work_in_a_transaction_are_refused);
	tcase_add_test(tc, postgres_statements_outside_a_transaction_block_are_refused_first);
	tcase_add_test(tc, commit_in_a_transactional_section_is_refused_before_anything_runs);
	tcase_add_test(tc, bodies_and_savepoints_are_not_transaction_control);
	tcase_add_test(tc, statements_split_as_the_client_splits_them);
	tcase_add_test(tc, postgres_splits_as_psql_does);
	tcase_add_test(tc, mysql_splits_as_the_mysql_client_does);
	tcase_add_test(tc, a_lone_cr_in_a_string_is_stored_as_cr);
	tcase_add_test(tc, a_utf8_bom_before_the_marker_or_a_seed_is_skipped);
	tcase_add_test(tc, rerun_with_a_bad_new_file_changes_nothing);
	tcase_add_test(tc, rerun_outside_one_transaction_checks_the_new_files_first);
	tcase_add_test(tc, a_full_temporary_directory_fails_a_csv_seed);
	tcase_add_test(tc, a_full_disk_fails_new_and_output);
	tcase_add_test(tc, a_full_disk_keeps_the_previous_dump);
	suite_add_tcase(s, tc);
	return s;
}
