/*
 * check_adopt.c - coming from another tool (SPEC section 14), end to end on
 * the driver under test: golang-migrate's, goose's, Flyway's and dbmate's
 * directories run in place, and 'baseline --from' takes over their history
 * tables, created here with the DDL each tool itself uses on that database
 * (from their sources: golang-migrate database/<driver>/, goose
 * internal/dialects/, Flyway's <Database>.getRawCreateScript, dbmate
 * pkg/driver/<driver>/).
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../migrate/util.h"
#include "testutil.h"

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

static void mig(const char *name, const char *text)
{
	write_migration(proj, name, text);
}

/* Runs statements one at a time on the test database, as the other tool would have. */
static void sql(const char *const *stmts)
{
	struct driver_conn *c = test_connect();
	struct driver_error err;
	size_t i;

	for (i = 0; stmts[i]; i++)
		ck_assert_msg(test_driver()->exec(c, stmts[i], strlen(stmts[i]), NULL, &err) == DRIVER_OK, "%s: %s",
			      stmts[i], err.message);
	test_driver()->close(c);
}

#define SQL(...) sql((const char *const[]){ __VA_ARGS__, NULL })

static char *scalar(const char *q)
{
	return db_scalar(q);
}

static void expect_scalar(const char *q, const char *want)
{
	char *v = scalar(q);

	ck_assert_msg(v && strcmp(v, want) == 0, "%s: '%s', expected '%s'", q, v ? v : "NULL", want);
	free(v);
}

static char *dump(void)
{
	struct run r = CLI("dump");
	char *out;

	expect(&r, 0, "dump");
	out = xstrdup(r.out);
	run_free(&r);
	return out;
}

/* The versions in migrate's table, in version order, joined by spaces (sorted by the status output). */
static char *recorded(const char *table)
{
	char q[256];

	snprintf(q, sizeof(q), "SELECT COUNT(*) FROM %s WHERE status = 'applied'", table);
	return scalar(q);
}

/* ---- directories run in place ------------------------------------------------------------ */

START_TEST(golang_migrate_pairs_run_in_place)
{
	struct run r;

	mig("1_init.up.sql", "CREATE TABLE one (id INTEGER);\nCREATE TABLE two (id INTEGER);\n");
	mig("1_init.down.sql", "DROP TABLE two;\nDROP TABLE one;\n");
	/* a byte-order mark an editor put first is not SQL */
	mig("000002_more.up.sql", "\xEF\xBB\xBF" "CREATE TABLE three (id INTEGER);\n");
	mig("000002_more.down.sql", "\xEF\xBB\xBF" "DROP TABLE three;\n");
	r = CLI("-v", "up");
	expect(&r, 0, "up");
	expect_in(r.err, "read in golang-migrate layout", "stderr");
	expect_in(r.out, "applied     2 more", "stdout");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("two"), 1);
	ck_assert_int_eq(db_table_exists("three"), 1);
	expect_scalar("SELECT COUNT(*) FROM schema_migrations", "2");
	r = CLI("validate");
	expect(&r, 0, "validate");
	run_free(&r);
	r = CLI("status", "--check");
	expect(&r, 0, "status --check");
	run_free(&r);
	/* lint reads the same layout, with or without the database */
	r = CLI("lint", "--all");
	expect(&r, 0, "lint --all");
	run_free(&r);
	r = CLI("down", "--all");
	expect(&r, 0, "down --all");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("one"), 0);
	ck_assert_int_eq(db_table_exists("three"), 0);
	expect_scalar("SELECT COUNT(*) FROM schema_migrations", "0");
	/* the down file runs, and its errors name it and its line */
	mig("3_bad.up.sql", "CREATE TABLE four (id INTEGER);\n");
	mig("3_bad.down.sql", "\nDROP TABLE nosuch;\n");
	r = CLI("up");
	expect(&r, 0, "up again");
	run_free(&r);
	r = CLI("down");
	expect(&r, 1, "down with a bad .down.sql");
	expect_in(r.err, "migrations/3_bad.down.sql:2:", "stderr");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("four"), 1);
}
END_TEST

/* golang-migrate's name is greedy: 2_typo.up..sql (a real one, in stashapp/stash) is version 2, up */
START_TEST(golang_migrate_without_a_down_file_is_irreversible)
{
	struct run r;

	mig("1_init.up.sql", "CREATE TABLE one (id INTEGER);\n");
	mig("2_typo.up..sql", "CREATE TABLE two (id INTEGER);\n");
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("two"), 1);
	r = CLI("down");
	expect(&r, 1, "down without a .down.sql");
	expect_in(r.err, "migration 2 (typo) is irreversible: it has no <version>_<name>.down.sql file", "stderr");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("two"), 1);
	expect_scalar("SELECT COUNT(*) FROM schema_migrations", "2");
	/* verify says the same before it changes anything */
	mig("3_three.up.sql", "CREATE TABLE three (id INTEGER);\n");
	r = CLI("verify");
	expect(&r, 1, "verify with a migration without a .down.sql");
	expect_in(r.err, "migration 3 (three) is irreversible: it has no <version>_<name>.down.sql file", "stderr");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("three"), 0);
}
END_TEST

/*
 * golang-migrate sends a file as one exec, not in a transaction of its
 * own: a file that controls transactions itself runs outside migrate's.
 */
START_TEST(golang_migrate_file_with_its_own_transaction)
{
	struct run r;

	mig("1_tx.up.sql", pick("BEGIN;\nCREATE TABLE one (id INTEGER);\nCOMMIT;\n",
				"BEGIN;\nCREATE TABLE one (id INTEGER);\nCOMMIT;\n",
				"START TRANSACTION;\nCREATE TABLE one (id INTEGER);\nCOMMIT;\n"));
	mig("1_tx.down.sql", "DROP TABLE one;\n");
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("one"), 1);
	expect_scalar("SELECT status FROM schema_migrations WHERE version = '1'", "applied");
}
END_TEST

static const char goose_init[] =
	"-- a comment before Up is allowed\n"
	"-- +goose Up\n"
	"CREATE TABLE one (id INTEGER, n INTEGER);\n"
	"-- +goose StatementBegin\n"
	"INSERT INTO one (id, n) VALUES (1, 1);\n"
	"INSERT INTO one (id, n) VALUES (2, 2);\n"
	"-- +goose StatementEnd\n"
	"\n"
	"-- +goose Down\n"
	"DROP TABLE one;\n";

START_TEST(goose_sections_and_blocks_run_in_place)
{
	struct run r;
	char *trig;

	/*
	 * The block is one statement: --dry-run shows it whole. On MySQL goose
	 * needs multiStatements for it and the server runs the statements one
	 * by one; migrate splits it as the server would.
	 */
	mig("00001_init.sql", goose_init);
	r = CLI("--dry-run", "up");
	expect(&r, 0, "up --dry-run");
	expect_in(r.out, pick("INSERT INTO one (id, n) VALUES (1, 1);\nINSERT INTO one (id, n) VALUES (2, 2);;\n",
			      "INSERT INTO one (id, n) VALUES (1, 1);\nINSERT INTO one (id, n) VALUES (2, 2);;\n",
			      "INSERT INTO one (id, n) VALUES (1, 1);\nINSERT INTO one (id, n) VALUES (2, 2);\n"),
		  "stdout");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("one"), 0);

	/* a real block: a trigger or function whose body holds semicolons */
	mig("00001_init.sql",
	    "-- +goose Up\nCREATE TABLE one (id INTEGER, n INTEGER);\n-- +goose Down\nDROP TABLE one;\n");
	trig = xasprintf("\xEF\xBB\xBF-- +goose Up\n-- +goose StatementBegin\n%s\n-- +goose StatementEnd\n"
			 "INSERT INTO one (id, n) VALUES (1, 0);\n"
			 "-- +goose Down\n-- +goose StatementBegin\n%s\n-- +goose StatementEnd\n",
			 pick("CREATE TRIGGER one_n AFTER INSERT ON one BEGIN\n  UPDATE one SET n = 7 WHERE id = NEW.id;\nEND;",
			      "CREATE FUNCTION one_n() RETURNS trigger AS $$\nBEGIN\n  NEW.n := 7;\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\n"
			      "CREATE TRIGGER one_n BEFORE INSERT ON one FOR EACH ROW EXECUTE FUNCTION one_n();",
			      "CREATE TRIGGER one_n BEFORE INSERT ON one FOR EACH ROW\nBEGIN\n  IF NEW.id > 0 THEN\n    SET NEW.n = 7;\n  END IF;\nEND;"),
			 pick("DROP TRIGGER one_n;", "DROP TRIGGER one_n ON one;\nDROP FUNCTION one_n();",
			      "DROP TRIGGER one_n;"));
	mig("00002_trigger.sql", trig);
	free(trig);
	/* NO TRANSACTION: a statement the database refuses inside one */
	mig("20240101000000_index.sql",
	    pick("-- +goose NO TRANSACTION\n-- +goose Up\nVACUUM;\n",
		 "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY one_id ON one (id);\n-- +goose Down\nDROP INDEX CONCURRENTLY one_id;\n",
		 "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX one_id ON one (id);\n-- +goose Down\nDROP INDEX one_id ON one;\n"));
	r = CLI("-v", "up");
	expect(&r, 0, "up");
	expect_in(r.err, "read in goose layout", "stderr");
	run_free(&r);
	expect_scalar("SELECT n FROM one WHERE id = 1", "7");
	expect_scalar("SELECT COUNT(*) FROM schema_migrations", "3");
	r = CLI("validate");
	expect(&r, 0, "validate");
	run_free(&r);
	r = CLI("status");
	expect(&r, 0, "status");
	expect_in(r.out, "applied  20240101000000", "status");
	run_free(&r);
	if (strcmp(test_driver_name(), "sqlite") == 0) {
		/* VACUUM has no down: irreversible, said in goose's terms */
		r = CLI("down");
		expect(&r, 1, "down of a migration without Down");
		expect_in(r.err, "'-- +goose Down' section is missing or empty", "stderr");
		run_free(&r);
		mig("20240101000000_index.sql", "-- +goose NO TRANSACTION\n-- +goose Up\nVACUUM;\n-- +goose Down\nVACUUM;\n");
		r = CLI("repair");
		expect(&r, 0, "repair");
		run_free(&r);
	}
	r = CLI("down", "--all");
	expect(&r, 0, "down --all");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("one"), 0);
	expect_scalar("SELECT COUNT(*) FROM schema_migrations", "0");
}
END_TEST

START_TEST(flyway_versions_compare_part_by_part)
{
	struct run r;

	mig("V1__init.sql", "CREATE TABLE one (id INTEGER);\n");
	mig("U1__init.sql", "DROP TABLE one;\n");
	mig("V1.10__ten.sql", "CREATE TABLE ten (id INTEGER);\n");
	mig("U1.10__ten.sql", "DROP TABLE ten;\n");
	mig("V1.9__nine.sql", "CREATE TABLE nine (id INTEGER);\n");
	mig("U1.9__nine.sql", "DROP TABLE nine;\n");
	mig("V1_11__eleven.sql", "CREATE TABLE eleven (id INTEGER);\n");
	mig("U1_11__eleven.sql", "DROP TABLE eleven;\n");
	mig("V2__two.sql", "CREATE TABLE two (id INTEGER);\n");
	mig("U2__two.sql", "DROP TABLE two;\n");
	mig("V1.9.conf", "not a migration, not looked at\n");
	r = CLI("-v", "up", "--to", "1.9");
	expect(&r, 0, "up --to 1.9");
	expect_in(r.err, "read in flyway layout", "stderr");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("nine"), 1);
	ck_assert_int_eq(db_table_exists("ten"), 0);
	r = CLI("up");
	expect(&r, 0, "up");
	/* 1.9 < 1.10 < 1.11 (1_11 in the name) */
	ck_assert_msg(strstr(r.out, "applied     1.10 ten") && strstr(r.out, "applied     1.11 eleven") &&
			      strstr(r.out, "1.10 ten") < strstr(r.out, "1.11 eleven"),
		      "%s", r.out);
	ck_assert_msg(strstr(r.out, "1.11 eleven") < strstr(r.out, "applied     2 two"), "%s", r.out);
	run_free(&r);
	r = CLI("version");
	expect(&r, 0, "version");
	expect_in(r.out, "2\n", "version");
	run_free(&r);
	r = CLI("down", "--to", "1.9");
	expect(&r, 0, "down --to 1.9");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("ten"), 0);
	ck_assert_int_eq(db_table_exists("eleven"), 0);
	ck_assert_int_eq(db_table_exists("two"), 0);
	ck_assert_int_eq(db_table_exists("nine"), 1);
	r = CLI("down", "--all");
	expect(&r, 0, "down --all");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("one"), 0);
}
END_TEST

START_TEST(dbmate_layout_is_migrate_s_own)
{
	struct run r;

	project_config(proj, url, 10, "format = dbmate", NULL);
	mig("20240101000000_init.sql", "-- migrate:up\nCREATE TABLE one (id INTEGER);\n\n-- migrate:down\nDROP TABLE one;\n");
	r = CLI("-v", "up");
	expect(&r, 0, "up");
	expect_in(r.err, "read in dbmate layout", "stderr");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("one"), 1);
	r = CLI("down");
	expect(&r, 0, "down");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("one"), 0);
}
END_TEST

/* 'new' writes in the directory's layout, so the directory stays one tool's */
START_TEST(new_writes_in_the_layout_of_the_directory)
{
	static const struct {
		const char *first, *first_text, *suffix, *holds;
	} cases[] = {
		{ "1_init.sql", "-- +goose Up\nCREATE TABLE one (id INTEGER);\n", "_add_x.sql", "-- +goose Up\n-- +goose StatementBegin\n" },
		{ "1_init.up.sql", "CREATE TABLE one (id INTEGER);\n", "_add_x.up.sql", NULL },
		{ "V1__init.sql", "CREATE TABLE one (id INTEGER);\n", "__add_x.sql", NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run r;
		char *migs = xasprintf("%s/migrations", proj), *text, *rel;
		size_t n;

		rm_rf(migs);
		free(migs);
		SQL("DROP TABLE IF EXISTS one", "DROP TABLE IF EXISTS schema_migrations");
		mig(cases[i].first, cases[i].first_text);
		r = CLI("new", "add_x");
		expect(&r, 0, cases[i].first);
		n = strlen(r.out);
		ck_assert_msg(n > strlen(cases[i].suffix) + 1 &&
				      strncmp(r.out + n - 1 - strlen(cases[i].suffix), cases[i].suffix, strlen(cases[i].suffix)) == 0,
			      "%s: new printed '%s'", cases[i].first, r.out);
		r.out[n - 1] = '\0';
		rel = r.out[0] == '/' ? r.out + strlen(proj) + 1 : r.out;
		text = slurp(proj, rel);
		ck_assert_msg(text != NULL, "%s: no file '%s'", cases[i].first, rel);
		if (cases[i].holds)
			expect_in(text, cases[i].holds, cases[i].first);
		free(text);
		if (i == 1) { /* golang-migrate's pair */
			char *down = xasprintf("%.*s.down.sql", (int)(strlen(rel) - 7), rel);
			text = slurp(proj, down);
			ck_assert_msg(text != NULL, "no '%s'", down);
			free(text);
			free(down);
		}
		run_free(&r);
		r = CLI("up");
		expect(&r, 0, "up with the new file");
		expect_in(r.out, "add_x", cases[i].first);
		run_free(&r);
	}
}
END_TEST

/* ---- bad input: exit 2, the file named, nothing changed ------------------------------------------ */

static void expect_refused(const char *what, const char *needle1, const char *needle2)
{
	struct run r = CLI("up");

	expect(&r, 2, what);
	expect_in(r.err, needle1, what);
	if (needle2)
		expect_in(r.err, needle2, what);
	run_free(&r);
	r = CLI("status", "--check");
	expect(&r, 2, what);
	run_free(&r);
	ck_assert_msg(!db_table_exists("schema_migrations"), "%s: the tracking table was created", what);
	ck_assert_msg(!db_table_exists("one"), "%s: a migration ran", what);
}

START_TEST(a_directory_that_mixes_layouts_is_refused)
{
	mig("1_one.up.sql", "CREATE TABLE one (id INTEGER);\n");
	mig("V2__two.sql", "CREATE TABLE two (id INTEGER);\n");
	expect_refused("golang-migrate and Flyway", "migrations/1_one.up.sql' is in golang-migrate's layout",
		       "migrations/V2__two.sql' in Flyway's");
	project_free(&proj, &url); /* a fresh project for the second pair */
	project_new(&proj, &url);
	project_config(proj, url, 10, NULL, NULL);
	mig("1_one.sql", "-- +goose Up\nCREATE TABLE one (id INTEGER);\n");
	mig("2_two.sql", "-- migrate:up\nCREATE TABLE two (id INTEGER);\n");
	expect_refused("goose and migrate", "migrations/1_one.sql' is in goose's layout",
		       "migrations/2_two.sql' in migrate's");
	/* goose's Go migrations alone are not an empty, up-to-date directory */
	project_free(&proj, &url);
	project_new(&proj, &url);
	project_config(proj, url, 10, NULL, NULL);
	mig("00001_one.go", "package migrations\n");
	expect_refused("only Go migrations", "migrations/00001_one.go' is a goose Go migration", NULL);
}
END_TEST

START_TEST(a_flyway_repeatable_file_is_refused)
{
	mig("V1__one.sql", "CREATE TABLE one (id INTEGER);\n");
	mig("R__views.sql", "CREATE VIEW v AS SELECT 1 AS x;\n");
	expect_refused("R__", "migrations/R__views.sql' is a Flyway repeatable migration (R__)", "ignore");
}
END_TEST

START_TEST(a_goose_block_without_its_end_is_refused)
{
	mig("00001_one.sql", "-- +goose Up\nCREATE TABLE one (id INTEGER);\n-- +goose StatementBegin\nINSERT INTO one VALUES (1);\n\n-- +goose Down\nDROP TABLE one;\n");
	expect_refused("StatementBegin without StatementEnd",
		       "migrations/00001_one.sql:3: '-- +goose StatementBegin' has no '-- +goose StatementEnd'", NULL);
	mig("00001_one.sql", "-- +goose Up\nCREATE TABLE one (id INTEGER);\n-- +goose StatementEnd\n");
	expect_refused("StatementEnd without StatementBegin", "migrations/00001_one.sql:3: '-- +goose StatementEnd' without", NULL);
	mig("00001_one.sql", "CREATE TABLE one (id INTEGER);\n-- +goose Up\n");
	expect_refused("a statement before Up", "migrations/00001_one.sql:1: a statement before '-- +goose Up'", NULL);
	mig("00001_one.sql", "-- +goose Up\nCREATE TABLE one (id INTEGER);\n-- +goose ENVSUB ON\n");
	expect_refused("ENVSUB ON", "migrations/00001_one.sql:3: '-- +goose ENVSUB ON'", NULL);
	/*
	 * A transaction-control statement without NO TRANSACTION, said in
	 * goose's terms, where migrations run in transactions (not MySQL's DDL)
	 */
	if (test_driver()->caps & DRIVER_CAP_TRANSACTIONAL_DDL) {
		struct run r;

		mig("00001_one.sql", "-- +goose Up\nCREATE TABLE one (id INTEGER);\nCOMMIT;\n");
		r = CLI("up");
		expect(&r, 2, "COMMIT without NO TRANSACTION");
		expect_in(r.err, "migrations/00001_one.sql:3: 'COMMIT' in a migration that runs in a transaction", "stderr");
		expect_in(r.err, "add '-- +goose NO TRANSACTION' to the file", "stderr");
		run_free(&r);
		ck_assert_int_eq(db_table_exists("one"), 0);
	}
}
END_TEST

START_TEST(a_file_of_another_layout_than_the_format_is_refused)
{
	char *path;

	project_config(proj, url, 10, "format = goose", NULL);
	mig("1_one.up.sql", "CREATE TABLE one (id INTEGER);\n");
	expect_refused("format = goose, a golang-migrate file", "not a goose migration file: 'migrations/1_one.up.sql'",
		       "goose names them <version>_<name>.sql");
	project_config(proj, url, 10, "format = golang", NULL);
	expect_refused("an unknown format", "config.ini:3: format 'golang' is not one of auto, migrate, golang-migrate", NULL);
	/* format = migrate keeps the refusal of golang-migrate's files */
	project_config(proj, url, 10, "format = migrate", NULL);
	mig("1_one.down.sql", "DROP TABLE one;\n");
	expect_refused("format = migrate", "have the same version 1", "golang-migrate");
	path = xasprintf("%s/migrations", proj);
	rm_rf(path);
	free(path);
	project_config(proj, url, 10, "format = goose", NULL);
	mig("1_one.sql", "-- +goose Up\nCREATE TABLE one (id INTEGER);\n");
	mig("2_two.go", "package migrations\n");
	expect_refused("a goose Go migration", "migrations/2_two.go' is a goose Go migration", NULL);
}
END_TEST

/* ---- baseline --from ------------------------------------------------------------------------ */

/* Two migrations of golang-migrate's layout, applied here by hand as golang-migrate would have. */
static void golang_project(void)
{
	mig("1_init.up.sql", "CREATE TABLE one (id INTEGER);\n");
	mig("1_init.down.sql", "DROP TABLE one;\n");
	mig("2_two.up.sql", "CREATE TABLE two (id INTEGER);\n");
	mig("2_two.down.sql", "DROP TABLE two;\n");
	mig("3_three.up.sql", "CREATE TABLE three (id INTEGER);\n");
	mig("3_three.down.sql", "DROP TABLE three;\n");
	SQL("CREATE TABLE one (id INTEGER)", "CREATE TABLE two (id INTEGER)");
	/* golang-migrate's DDL, per database (database/sqlite3, postgres, mysql) */
	if (strcmp(test_driver_name(), "sqlite") == 0)
		SQL("CREATE TABLE IF NOT EXISTS schema_migrations (version uint64,dirty bool)",
		    "CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations (version)");
	else if (strcmp(test_driver_name(), "postgres") == 0)
		SQL("CREATE TABLE IF NOT EXISTS \"public\".\"schema_migrations\" (version bigint not null primary key, dirty boolean not null)");
	else
		SQL("CREATE TABLE `schema_migrations` (version bigint not null primary key, dirty boolean not null)");
}

START_TEST(baseline_from_golang_migrate_takes_over_its_history)
{
	struct run r;
	char *before, *after, *again;

	golang_project();
	SQL(pick("INSERT INTO schema_migrations (version, dirty) VALUES (2, 0)",
		 "INSERT INTO schema_migrations (version, dirty) VALUES (2, false)",
		 "INSERT INTO schema_migrations (version, dirty) VALUES (2, false)"));
	/* under migrate's own table name, the table is golang-migrate's: said so, nothing changed */
	r = CLI("status");
	expect(&r, 2, "status with golang-migrate's table as migrate's");
	expect_in(r.err, "table 'schema_migrations' is golang-migrate's history", "stderr");
	expect_in(r.err, "set 'table' in [migrate] to another name", "stderr");
	run_free(&r);
	r = CLI("baseline", "--from", "golang-migrate");
	expect(&r, 2, "baseline --from with the same table name");
	expect_in(r.err, "'schema_migrations' is golang-migrate's history table and migrate's own table has the same name", "stderr");
	run_free(&r);

	project_config(proj, url, 10, "table = migrate_migrations", NULL);
	before = dump();
	r = CLI("baseline", "--from", "golang-migrate");
	expect(&r, 0, "baseline --from golang-migrate");
	expect_in(r.out, "recorded    1 init (as applied, not run)", "stdout");
	expect_in(r.out, "recorded    2 two (as applied, not run)", "stdout");
	run_free(&r);
	after = recorded("migrate_migrations");
	ck_assert_str_eq(after, "2");
	free(after);
	/* golang-migrate's table is as it was */
	expect_scalar("SELECT COUNT(*) FROM schema_migrations", "1");
	expect_scalar("SELECT version FROM schema_migrations", "2");
	after = dump();
	ck_assert_str_eq(before, after);
	free(after);
	/* and the project goes on as if it had always used migrate */
	r = CLI("validate");
	expect(&r, 0, "validate");
	run_free(&r);
	r = CLI("up");
	expect(&r, 0, "up");
	expect_in(r.out, "applied     3 three", "stdout");
	run_free(&r);
	r = CLI("status", "--check");
	expect(&r, 0, "status --check");
	run_free(&r);
	after = dump();
	r = CLI("down", "--all");
	expect(&r, 0, "down --all");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("one"), 0);
	r = CLI("up");
	expect(&r, 0, "up again");
	run_free(&r);
	again = dump();
	ck_assert_str_eq(after, again);
	/* a second baseline finds migrate's history and refuses */
	r = CLI("baseline", "--from", "golang-migrate");
	expect(&r, 1, "baseline --from twice");
	expect_in(r.err, "already holds 3 migrations", "stderr");
	run_free(&r);
	free(before);
	free(after);
	free(again);
}
END_TEST

static void expect_baseline_refused(const char *tool, const char *what, const char *needle)
{
	struct run r;
	char *before = dump();

	r = CLI("baseline", "--from", tool);
	expect(&r, 1, what);
	expect_in(r.err, needle, what);
	expect_in(r.err, "nothing was recorded", what);
	run_free(&r);
	ck_assert_msg(!db_table_exists("migrate_migrations"), "%s: migrate's table was created", what);
	{
		char *after = dump();
		ck_assert_str_eq(before, after);
		free(after);
	}
	free(before);
}

START_TEST(baseline_refuses_a_dirty_or_failed_history_or_a_version_with_no_file)
{
	project_config(proj, url, 10, "table = migrate_migrations", NULL);
	golang_project();
	SQL(pick("INSERT INTO schema_migrations (version, dirty) VALUES (2, 1)",
		 "INSERT INTO schema_migrations (version, dirty) VALUES (2, true)",
		 "INSERT INTO schema_migrations (version, dirty) VALUES (2, true)"));
	expect_baseline_refused("golang-migrate", "dirty", "it is dirty at version 2");
	expect_scalar("SELECT COUNT(*) FROM schema_migrations", "1");
	SQL(pick("UPDATE schema_migrations SET version = 7, dirty = 0", "UPDATE schema_migrations SET version = 7, dirty = false",
		 "UPDATE schema_migrations SET version = 7, dirty = false"));
	expect_baseline_refused("golang-migrate", "a version with no file", "has applied version 7, with no migration file");
	{
		struct run r = CLI("baseline", "--from", "goose");
		expect(&r, 1, "no goose table");
		expect_in(r.err, "there is no table 'goose_db_version'", "stderr");
		run_free(&r);
		r = CLI("baseline", "--from", "liquibase");
		expect(&r, 2, "an unknown tool");
		run_free(&r);
		r = CLI("baseline", "--table", "x");
		expect(&r, 2, "--table without --from");
		run_free(&r);
	}
}
END_TEST

/* goose's goose_db_version, per database (internal/dialects) */
static void goose_table(void)
{
	if (strcmp(test_driver_name(), "sqlite") == 0)
		SQL("CREATE TABLE goose_db_version (\n\t\tid INTEGER PRIMARY KEY AUTOINCREMENT,\n\t\tversion_id INTEGER NOT NULL,\n\t\tis_applied INTEGER NOT NULL,\n\t\ttstamp TIMESTAMP DEFAULT (datetime('now'))\n\t)");
	else if (strcmp(test_driver_name(), "postgres") == 0)
		SQL("CREATE TABLE goose_db_version (\n\t\tid integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY,\n\t\tversion_id bigint NOT NULL,\n\t\tis_applied boolean NOT NULL,\n\t\ttstamp timestamp NOT NULL DEFAULT now()\n\t)");
	else
		SQL("CREATE TABLE goose_db_version (\n\t\tid bigint(20) unsigned NOT NULL AUTO_INCREMENT,\n\t\tversion_id bigint NOT NULL,\n\t\tis_applied boolean NOT NULL,\n\t\ttstamp timestamp NULL default now(),\n\t\tPRIMARY KEY(id)\n\t)");
}

START_TEST(baseline_from_goose_reads_the_latest_row_of_each_version)
{
	struct run r;
	const char *t = pick("1", "true", "1"), *f = pick("0", "false", "0");
	char *ins[6];
	int i;

	project_config(proj, url, 10, "table = migrate_migrations", NULL);
	mig("00001_one.sql", "-- +goose Up\nCREATE TABLE one (id INTEGER);\n-- +goose Down\nDROP TABLE one;\n");
	mig("00002_two.sql", "-- +goose Up\nCREATE TABLE two (id INTEGER);\n-- +goose Down\nDROP TABLE two;\n");
	mig("00003_three.sql", "-- +goose Up\nCREATE TABLE three (id INTEGER);\n-- +goose Down\nDROP TABLE three;\n");
	SQL("CREATE TABLE one (id INTEGER)", "CREATE TABLE three (id INTEGER)");
	goose_table();
	/* goose's first row (version 0), 1 and 3 applied, 2 applied and rolled back (goose before v3.16 kept the row) */
	ins[0] = xasprintf("INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, %s)", t);
	ins[1] = xasprintf("INSERT INTO goose_db_version (version_id, is_applied) VALUES (1, %s)", t);
	ins[2] = xasprintf("INSERT INTO goose_db_version (version_id, is_applied) VALUES (2, %s)", t);
	ins[3] = xasprintf("INSERT INTO goose_db_version (version_id, is_applied) VALUES (2, %s)", f);
	ins[4] = xasprintf("INSERT INTO goose_db_version (version_id, is_applied) VALUES (3, %s)", t);
	ins[5] = NULL;
	sql((const char *const *)ins);
	for (i = 0; ins[i]; i++)
		free(ins[i]);
	r = CLI("baseline", "--from", "goose");
	expect(&r, 0, "baseline --from goose");
	run_free(&r);
	expect_scalar("SELECT COUNT(*) FROM migrate_migrations", "2");
	expect_scalar("SELECT COUNT(*) FROM migrate_migrations WHERE version = '2'", "0");
	expect_scalar("SELECT COUNT(*) FROM goose_db_version", "5");
	r = CLI("validate");
	expect(&r, 1, "validate: 2 is pending below 3");
	run_free(&r);
	r = CLI("up", "--out-of-order");
	expect(&r, 0, "up --out-of-order");
	expect_in(r.out, "applied     2 two", "stdout");
	run_free(&r);
	r = CLI("status", "--check");
	expect(&r, 0, "status --check");
	run_free(&r);
	/* a version goose applied with no file here */
	r = CLI("down", "--all");
	expect(&r, 0, "down --all");
	run_free(&r);
	ins[0] = xasprintf("INSERT INTO goose_db_version (version_id, is_applied) VALUES (9, %s)", t);
	SQL("DROP TABLE migrate_migrations", "CREATE TABLE one (id INTEGER)", "CREATE TABLE three (id INTEGER)", ins[0]);
	free(ins[0]);
	expect_baseline_refused("goose", "a goose version with no file", "has applied version 9, with no migration file");
}
END_TEST

/* Flyway's flyway_schema_history, per database (getRawCreateScript) */
static void flyway_table(void)
{
	if (strcmp(test_driver_name(), "sqlite") == 0)
		SQL("CREATE TABLE \"flyway_schema_history\" (\n    \"installed_rank\" INT NOT NULL PRIMARY KEY,\n    \"version\" VARCHAR(50),\n    \"description\" VARCHAR(200) NOT NULL,\n    \"type\" VARCHAR(20) NOT NULL,\n    \"script\" VARCHAR(1000) NOT NULL,\n    \"checksum\" INT,\n    \"installed_by\" VARCHAR(100) NOT NULL,\n    \"installed_on\" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f','now')),\n    \"execution_time\" INT NOT NULL,\n    \"success\" BOOLEAN NOT NULL\n)",
		    "CREATE INDEX \"flyway_schema_history_s_idx\" ON \"flyway_schema_history\" (\"success\")");
	else if (strcmp(test_driver_name(), "postgres") == 0)
		SQL("CREATE TABLE \"public\".\"flyway_schema_history\" (\n    \"installed_rank\" INT NOT NULL,\n    \"version\" VARCHAR(50),\n    \"description\" VARCHAR(200) NOT NULL,\n    \"type\" VARCHAR(20) NOT NULL,\n    \"script\" VARCHAR(1000) NOT NULL,\n    \"checksum\" INTEGER,\n    \"installed_by\" VARCHAR(100) NOT NULL,\n    \"installed_on\" TIMESTAMP NOT NULL DEFAULT now(),\n    \"execution_time\" INTEGER NOT NULL,\n    \"success\" BOOLEAN NOT NULL\n)",
		    "ALTER TABLE \"public\".\"flyway_schema_history\" ADD CONSTRAINT \"flyway_schema_history_pk\" PRIMARY KEY (\"installed_rank\")",
		    "CREATE INDEX \"flyway_schema_history_s_idx\" ON \"public\".\"flyway_schema_history\" (\"success\")");
	else
		SQL("CREATE TABLE `flyway_schema_history` (\n    `installed_rank` INT NOT NULL,\n    `version` VARCHAR(50),\n    `description` VARCHAR(200) NOT NULL,\n    `type` VARCHAR(20) NOT NULL,\n    `script` VARCHAR(1000) NOT NULL,\n    `checksum` INT,\n    `installed_by` VARCHAR(100) NOT NULL,\n    `installed_on` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,\n    `execution_time` INT NOT NULL,\n    `success` BOOL NOT NULL,\n    CONSTRAINT `flyway_schema_history_pk` PRIMARY KEY (`installed_rank`)\n)",
		    "CREATE INDEX `flyway_schema_history_s_idx` ON `flyway_schema_history` (`success`)");
}

static char *flyway_row(int rank, const char *version, const char *desc, const char *type, const char *script,
			int success)
{
	return xasprintf("INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) "
			 "VALUES (%d, %s%s%s, '%s', '%s', '%s', NULL, 'app', 0, %s)",
			 rank, version ? "'" : "", version ? version : "NULL", version ? "'" : "", desc, type, script,
			 success ? pick("1", "true", "1") : pick("0", "false", "0"));
}

START_TEST(baseline_from_flyway_reads_baseline_undo_and_failed_rows)
{
	struct run r;
	char *rows[8];
	int i;

	project_config(proj, url, 10, "table = migrate_migrations", NULL);
	mig("V1__one.sql", "CREATE TABLE one (id INTEGER);\n");
	mig("V1.1__two.sql", "CREATE TABLE two (id INTEGER);\n");
	mig("V1.2__three.sql", "CREATE TABLE three (id INTEGER);\n");
	mig("V2__four.sql", "CREATE TABLE four (id INTEGER);\n");
	SQL("CREATE TABLE one (id INTEGER)", "CREATE TABLE two (id INTEGER)", "CREATE TABLE four (id INTEGER)");
	flyway_table();
	/* schema mark, baseline at 1.1 (V1 and V1.1 below it), 1.2 applied then undone, 2 applied */
	rows[0] = flyway_row(0, NULL, "<< Flyway Schema Creation >>", "SCHEMA", "\"public\"", 1);
	rows[1] = flyway_row(1, "1.1", "<< Flyway Baseline >>", "BASELINE", "<< Flyway Baseline >>", 1);
	rows[2] = flyway_row(2, "1.2", "three", "SQL", "V1.2__three.sql", 1);
	rows[3] = flyway_row(3, "1.2", "three", "UNDO_SQL", "U1.2__three.sql", 1);
	rows[4] = flyway_row(4, "2", "four", "SQL", "V2__four.sql", 1);
	rows[5] = NULL;
	sql((const char *const *)rows);
	for (i = 0; rows[i]; i++)
		free(rows[i]);
	r = CLI("baseline", "--from", "flyway");
	expect(&r, 0, "baseline --from flyway");
	run_free(&r);
	expect_scalar("SELECT COUNT(*) FROM migrate_migrations", "3");
	expect_scalar("SELECT COUNT(*) FROM migrate_migrations WHERE version = '1.2'", "0");
	expect_scalar("SELECT COUNT(*) FROM flyway_schema_history", "5");
	r = CLI("up", "--out-of-order");
	expect(&r, 0, "up --out-of-order");
	expect_in(r.out, "applied     1.2 three", "stdout");
	run_free(&r);
	r = CLI("validate");
	expect(&r, 0, "validate");
	run_free(&r);
	/* a failed row */
	SQL("DROP TABLE migrate_migrations");
	rows[0] = flyway_row(5, "3", "five", "SQL", "V3__five.sql", 0);
	rows[1] = NULL;
	sql((const char *const *)rows);
	free(rows[0]);
	expect_baseline_refused("flyway", "a failed Flyway migration", "records a failed migration: V3__five.sql");
}
END_TEST

START_TEST(baseline_from_dbmate_beside_its_table_of_the_same_name)
{
	struct run r;

	mig("20240101000000_one.sql", "-- migrate:up\nCREATE TABLE one (id INTEGER);\n-- migrate:down\nDROP TABLE one;\n");
	mig("20240102000000_two.sql", "-- migrate:up\nCREATE TABLE two (id INTEGER);\n-- migrate:down\nDROP TABLE two;\n");
	mig("20240103000000_three.sql", "-- migrate:up\nCREATE TABLE three (id INTEGER);\n-- migrate:down\nDROP TABLE three;\n");
	SQL("CREATE TABLE one (id INTEGER)", "CREATE TABLE two (id INTEGER)");
	/* dbmate's DDL (pkg/driver/<driver>) */
	SQL(pick("create table if not exists \"schema_migrations\" (version varchar(128) primary key)",
		 "create table if not exists public.schema_migrations (version varchar primary key)",
		 "create table if not exists `schema_migrations` (version varchar(128) primary key)"),
	    "INSERT INTO schema_migrations (version) VALUES ('20240101000000')",
	    "INSERT INTO schema_migrations (version) VALUES ('20240102000000')");
	r = CLI("up");
	expect(&r, 2, "up with dbmate's table as migrate's");
	expect_in(r.err, "table 'schema_migrations' is dbmate's history (one column, version)", "stderr");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("three"), 0);
	project_config(proj, url, 10, "table = migrate_migrations\nformat = dbmate", NULL);
	r = CLI("baseline", "--from", "dbmate");
	expect(&r, 0, "baseline --from dbmate");
	run_free(&r);
	expect_scalar("SELECT COUNT(*) FROM migrate_migrations", "2");
	expect_scalar("SELECT COUNT(*) FROM schema_migrations", "2");
	r = CLI("up");
	expect(&r, 0, "up");
	expect_in(r.out, "applied     20240103000000 three", "stdout");
	run_free(&r);
	expect_scalar("SELECT COUNT(*) FROM schema_migrations", "2");
	r = CLI("validate");
	expect(&r, 0, "validate");
	run_free(&r);
}
END_TEST

Suite *adopt_suite(void);

Suite *adopt_suite(void)
{
	Suite *s = suite_create("adopt");
	TCase *tc = tcase_create("adopt");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, golang_migrate_pairs_run_in_place);
	tcase_add_test(tc, golang_migrate_without_a_down_file_is_irreversible);
	tcase_add_test(tc, golang_migrate_file_with_its_own_transaction);
	tcase_add_test(tc, goose_sections_and_blocks_run_in_place);
	tcase_add_test(tc, flyway_versions_compare_part_by_part);
	tcase_add_test(tc, dbmate_layout_is_migrate_s_own);
	tcase_add_test(tc, new_writes_in_the_layout_of_the_directory);
	tcase_add_test(tc, a_directory_that_mixes_layouts_is_refused);
	tcase_add_test(tc, a_flyway_repeatable_file_is_refused);
	tcase_add_test(tc, a_goose_block_without_its_end_is_refused);
	tcase_add_test(tc, a_file_of_another_layout_than_the_format_is_refused);
	tcase_add_test(tc, baseline_from_golang_migrate_takes_over_its_history);
	tcase_add_test(tc, baseline_refuses_a_dirty_or_failed_history_or_a_version_with_no_file);
	tcase_add_test(tc, baseline_from_goose_reads_the_latest_row_of_each_version);
	tcase_add_test(tc, baseline_from_flyway_reads_baseline_undo_and_failed_rows);
	tcase_add_test(tc, baseline_from_dbmate_beside_its_table_of_the_same_name);
	suite_add_tcase(s, tc);
	return s;
}
