/*
 * check_cli.c - the built binary, end to end, on the driver under test.
 *
 * Each test gets a fresh project directory (config.ini, migrations/, seeds/)
 * and a fresh real database, runs build/migrate in it, and checks the exit
 * code, the output and the database afterwards.
 */
#define _GNU_SOURCE
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../migrate/util.h"
#include "testutil.h"

static char *proj;
static char *url;

static void write_config(const char *extra)
{
	project_config(proj, url, 10, extra, NULL);
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
#define CLI_ENV(env, ...) run_migrate(proj, (const char *const[]){ env, NULL }, (const char *const[]){ __VA_ARGS__, NULL })

static void mig(const char *name, const char *text)
{
	write_migration(proj, name, text);
}

static int transactional(void)
{
	return (test_driver()->caps & DRIVER_CAP_TRANSACTIONAL_DDL) != 0;
}

static char *history_status(const char *version)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT status FROM schema_migrations WHERE version = '%s'", version);
	return db_scalar(sql);
}

static const char simple1[] = "-- migrate:up\nCREATE TABLE one (id INTEGER);\n-- migrate:down\nDROP TABLE one;\n";
static const char simple2[] = "-- migrate:up\nCREATE TABLE two (id INTEGER);\n-- migrate:down\nDROP TABLE two;\n";
static const char simple3[] = "-- migrate:up\nCREATE TABLE three (id INTEGER);\n-- migrate:down\nDROP TABLE three;\n";

/* ---- the example ------------------------------------------------------------- */

START_TEST(up_applies_the_example_and_records_it)
{
	struct run r;
	char *v;

	copy_example(proj);
	r = CLI("up");
	expect(&r, 0, "up");
	expect_in(r.out, "applied     20240101000001 create_customers", "stdout");
	expect_in(r.out, "applied     20240101000002 create_addresses", "stdout");
	run_free(&r);
	ck_assert_int_eq(db_count("customers"), 0);
	ck_assert_int_eq(db_count("addresses"), 0);
	ck_assert_int_eq(db_count("schema_migrations"), 2);
	v = history_status("20240101000002");
	ck_assert_str_eq(v, "applied");
	free(v);
	v = db_scalar("SELECT checksum FROM schema_migrations WHERE version = '20240101000001'");
	ck_assert_int_eq(strlen(v), 64);
	free(v);
	v = db_scalar("SELECT down_sql FROM schema_migrations WHERE version = '20240101000002'");
	expect_in(v, "DROP TABLE addresses", "down_sql");
	free(v);

	r = CLI("up");
	expect(&r, 0, "second up");
	expect_in(r.out, "nothing to migrate", "stdout");
	run_free(&r);
	ck_assert_int_eq(db_count("schema_migrations"), 2);
}
END_TEST

START_TEST(seed_links_every_address_to_a_customer)
{
	struct run r;
	char *v;

	copy_example(proj);
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	r = CLI("seed");
	expect(&r, 0, "seed");
	expect_in(r.out, "seeded      01_customers.sql (6 rows", "stdout");
	expect_in(r.out, "seeded      02_addresses.sql (6 rows", "stdout");
	run_free(&r);
	ck_assert_int_eq(db_count("customers"), 6);
	ck_assert_int_eq(db_count("addresses"), 6);
	v = db_scalar("SELECT COUNT(*) FROM addresses a LEFT JOIN customers c ON c.uuid = a.fk_customerid "
		      "WHERE c.uuid IS NULL");
	ck_assert_str_eq(v, "0");
	free(v);
	v = db_scalar("SELECT a.street FROM addresses a JOIN customers c ON c.uuid = a.fk_customerid "
		      "WHERE c.firstname = 'Jack' AND c.lastname = 'Davis'");
	ck_assert_str_eq(v, "W NORMA ST");
	free(v);
	{
		/* "rows" is a reserved word on MariaDB: the core quotes it, and so must we */
		char q[64], sql[256];
		snprintf(sql, sizeof(sql), "SELECT %s FROM schema_seeds WHERE name = '02_addresses.sql'",
			 test_quote("rows", q, sizeof(q)));
		v = db_scalar(sql);
		ck_assert_str_eq(v, "6");
		free(v);
	}
	/* the timestamps Sequelize reads are filled */
	{
		char q[64], sql[256];
		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM customers WHERE %s IS NOT NULL",
			 test_quote("createdAt", q, sizeof(q)));
		v = db_scalar(sql);
		ck_assert_str_eq(v, "6");
		free(v);
	}
	/* the one-to-one link is enforced: a second address for Jack is refused */
	{
		struct driver_conn *c = test_connect();
		struct driver_error err;
		/* Jack's uuid is ${uuid:jack}: made by the run, time-based (version 1) */
		char *jack = db_scalar("SELECT uuid FROM customers WHERE firstname = 'Jack'");
		char *dup = xasprintf("INSERT INTO addresses (street, phone, fk_customerid) VALUES "
				      "('X', '1', '%s')", jack);
		const char *orphan = "INSERT INTO addresses (street, phone, fk_customerid) VALUES "
				     "('Y', '2', '00000000-0000-1000-8000-000000000000')";
		ck_assert_int_eq(strlen(jack), 36);
		ck_assert_int_eq(jack[14], '1');
		ck_assert_int_eq(test_driver()->exec(c, dup, strlen(dup), NULL, &err), DRIVER_ESQL);
		ck_assert_int_eq(test_driver()->exec(c, orphan, strlen(orphan), NULL, &err), DRIVER_ESQL);
		test_driver()->close(c);
		free(dup);
		free(jack);
	}
	r = CLI("seed");
	expect(&r, 0, "second seed");
	expect_in(r.out, "nothing to seed", "stdout");
	run_free(&r);
	ck_assert_int_eq(db_count("customers"), 6);
}
END_TEST

START_TEST(down_all_restores_the_empty_schema)
{
	struct run r;

	copy_example(proj);
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	r = CLI("down", "--all");
	expect(&r, 0, "down --all");
	expect_in(r.out, "rolled back 20240101000002 create_addresses", "stdout");
	expect_in(r.out, "rolled back 20240101000001 create_customers", "stdout");
	/* highest version first */
	ck_assert(strstr(r.out, "20240101000002") < strstr(r.out, "20240101000001"));
	run_free(&r);
	ck_assert_int_eq(db_table_exists("customers"), 0);
	ck_assert_int_eq(db_table_exists("addresses"), 0);
	ck_assert_int_eq(db_count("schema_migrations"), 0);
}
END_TEST

/* ---- up, down, redo, status, version ---------------------------------------------- */

START_TEST(up_to_stops_at_the_version)
{
	struct run r;

	mig("1_one.sql", simple1);
	mig("2_two.sql", simple2);
	mig("10_three.sql", simple3);
	r = CLI("up", "--to", "2");
	expect(&r, 0, "up --to 2");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("two"), 1);
	ck_assert_int_eq(db_table_exists("three"), 0);
	r = CLI("version");
	expect(&r, 0, "version");
	ck_assert_str_eq(r.out, "2\n");
	run_free(&r);
	r = CLI("up", "--to", "abc");
	expect(&r, 2, "up --to abc");
	run_free(&r);
}
END_TEST

START_TEST(versions_compare_as_numbers)
{
	struct run r;

	mig("10_three.sql", simple3);
	mig("9_two.sql", simple2);
	mig("0001_one.sql", simple1);
	r = CLI("up");
	expect(&r, 0, "up");
	ck_assert_ptr_nonnull(strstr(r.out, " 1 one"));
	ck_assert(strstr(r.out, " 1 one") < strstr(r.out, " 9 two"));
	ck_assert(strstr(r.out, " 9 two") < strstr(r.out, " 10 three"));
	run_free(&r);
	r = CLI("version");
	ck_assert_str_eq(r.out, "10\n");
	run_free(&r);
}
END_TEST

/*
 * Versions are numbers of any size: gobuffalo/pop's 20-digit versions,
 * one beyond 64 bits, and a 21-digit one that sorts after them because it
 * is a larger number, through up --to, status, version, down --to,
 * baseline and the JSON documents.
 */
START_TEST(versions_of_any_size_up_down_status_and_to)
{
	static const char big3[] = "100000000000000000000"; /* 21 digits */
	struct run r;
	json_t *doc, *migs;
	json_error_t jerr;
	char *v;

	mig("20150100000001000000_one.sql", simple1);
	mig("20150100000002000000_two.sql", simple2);
	mig("100000000000000000000_three.sql", simple3);
	r = CLI("up", "--to", "20150100000002000000");
	expect(&r, 0, "up --to a 20-digit version");
	expect_in(r.out, "applied     20150100000001000000 one", "stdout");
	expect_in(r.out, "applied     20150100000002000000 two", "stdout");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("two"), 1);
	ck_assert_int_eq(db_table_exists("three"), 0);
	v = history_status("20150100000002000000");
	ck_assert_str_eq(v, "applied");
	free(v);
	r = CLI("version");
	expect(&r, 0, "version");
	ck_assert_str_eq(r.out, "20150100000002000000\n");
	run_free(&r);
	/* 18446744073709551616 (2^64) is below every pending version: nothing to do */
	r = CLI("up", "--to", "18446744073709551616");
	expect(&r, 0, "up --to 2^64");
	expect_in(r.out, "nothing to migrate", "stdout");
	run_free(&r);
	r = CLI("status");
	expect(&r, 0, "status");
	expect_in(r.out, "applied  20150100000001000000  one", "stdout"); /* the column fits the longest */
	expect_in(r.out, "pending  100000000000000000000 three", "stdout");
	ck_assert(strstr(r.out, "20150100000002000000") < strstr(r.out, big3));
	expect_in(r.out, "current version: 20150100000002000000 (2 applied, 1 pending)", "stdout");
	run_free(&r);
	r = CLI("status", "--check");
	expect(&r, 1, "status --check with the 21-digit one pending");
	run_free(&r);
	r = CLI("up");
	expect(&r, 0, "up");
	expect_in(r.out, "applied     100000000000000000000 three", "stdout");
	run_free(&r);
	r = CLI("--format", "json", "status");
	expect(&r, 0, "status --format json");
	doc = json_loads(r.out, 0, &jerr);
	ck_assert_msg(doc != NULL, "not JSON: %s\n%s", jerr.text, r.out);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "current")), big3);
	migs = json_object_get(doc, "migrations");
	ck_assert_int_eq(json_array_size(migs), 3);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(migs, 0), "version")), "20150100000001000000");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(migs, 2), "version")), big3);
	json_decref(doc);
	run_free(&r);
	/* leading zeros are the same number */
	r = CLI("down", "--to", "020150100000001000000");
	expect(&r, 0, "down --to with a leading zero");
	expect_in(r.out, "rolled back 100000000000000000000 three", "stdout");
	expect_in(r.out, "rolled back 20150100000002000000 two", "stdout");
	ck_assert(strstr(r.out, big3) < strstr(r.out, "20150100000002000000"));
	run_free(&r);
	ck_assert_int_eq(db_table_exists("one"), 1);
	ck_assert_int_eq(db_table_exists("two"), 0);
	ck_assert_int_eq(db_count("schema_migrations"), 1);
	r = CLI("down", "--all");
	expect(&r, 0, "down --all");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("one"), 0);
	ck_assert_int_eq(db_count("schema_migrations"), 0);
	r = CLI("baseline", "20150100000002000000");
	expect(&r, 0, "baseline at a 20-digit version");
	run_free(&r);
	ck_assert_int_eq(db_count("schema_migrations"), 2);
	v = history_status("20150100000002000000");
	ck_assert_str_eq(v, "applied");
	free(v);
	ck_assert_int_eq(db_table_exists("one"), 0); /* recorded, not run */
	r = CLI("up", "--to", "1000000000000000000000000");
	expect(&r, 0, "up --to beyond every version");
	expect_in(r.out, "applied     100000000000000000000 three", "stdout");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("three"), 1);
}
END_TEST

START_TEST(down_counts_and_to)
{
	struct run r;

	mig("1_one.sql", simple1);
	mig("2_two.sql", simple2);
	mig("3_three.sql", simple3);
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	r = CLI("down");
	expect(&r, 0, "down");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("three"), 0);
	ck_assert_int_eq(db_table_exists("two"), 1);
	r = CLI("up");
	run_free(&r);
	r = CLI("down", "2");
	expect(&r, 0, "down 2");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("two"), 0);
	ck_assert_int_eq(db_table_exists("one"), 1);
	r = CLI("up");
	run_free(&r);
	r = CLI("down", "--to", "1");
	expect(&r, 0, "down --to 1");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("one"), 1);
	ck_assert_int_eq(db_table_exists("two"), 0);
	ck_assert_int_eq(db_count("schema_migrations"), 1);
	r = CLI("down", "0");
	expect(&r, 2, "down 0");
	run_free(&r);
	r = CLI("down", "1", "--all");
	expect(&r, 2, "down 1 --all");
	run_free(&r);
	r = CLI("down", "--all");
	expect(&r, 0, "down --all");
	run_free(&r);
	r = CLI("down");
	expect(&r, 0, "down with nothing applied");
	expect_in(r.out, "nothing to roll back", "stdout");
	run_free(&r);
	r = CLI("version");
	ck_assert_str_eq(r.out, "none\n");
	run_free(&r);
}
END_TEST

START_TEST(down_refuses_an_irreversible_migration_and_changes_nothing)
{
	struct run r;

	mig("1_one.sql", simple1);
	mig("2_two.sql", "-- migrate:up\nCREATE TABLE two (id INTEGER);\n-- migrate:down\n-- nothing to undo\n");
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	r = CLI("down", "--all");
	expect(&r, 1, "down --all");
	expect_in(r.err, "irreversible", "stderr");
	expect_in(r.err, "2 (two)", "stderr");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("one"), 1);
	ck_assert_int_eq(db_table_exists("two"), 1);
	ck_assert_int_eq(db_count("schema_migrations"), 2);
}
END_TEST

/*
 * '-- migrate:down DIALECT nothing': an index that exists on one database
 * only. Each of the three migrations below creates an index on one
 * database and says there is nothing to undo on the other two, so on the
 * driver under test one of them really drops its index and two only lose
 * their rows, and 'down --all' reaches the empty schema.
 */
static const char idx_sqlite[] =
	"-- migrate:up\nSELECT 1;\n-- migrate:down nothing\n\n"
	"-- migrate:up sqlite\nCREATE INDEX one_by_id ON one (id);\n-- migrate:down sqlite\nDROP INDEX one_by_id;\n";
static const char idx_postgres[] =
	"-- migrate:up\nSELECT 1;\n-- migrate:down nothing\n"
	"-- migrate:up postgres\n-- migrate:lint ignore pg-index-not-concurrent table one is empty in this test\n"
	"CREATE INDEX one_by_id ON one (id);\n-- migrate:down postgres\nDROP INDEX one_by_id;\n";
static const char idx_mysql[] =
	"-- migrate:up mysql\nCREATE INDEX one_by_id ON one (id);\n-- migrate:down mysql\nDROP INDEX one_by_id ON one;\n"
	"-- migrate:up\nSELECT 1;\n-- migrate:down nothing\n";

START_TEST(down_nothing_removes_the_row_and_runs_nothing_on_that_database)
{
	const char *mine = pick("2", "3", "4"); /* the migration that creates an index here */
	struct run r;
	char *v, *path;

	mig("1_one.sql", simple1);
	mig("2_sqlite_index.sql", idx_sqlite);
	mig("3_postgres_index.sql", idx_postgres);
	mig("4_mysql_index.sql", idx_mysql);
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	r = CLI("dump");
	expect(&r, 0, "dump");
	expect_in(r.out, "one_by_id", "dump after up");
	run_free(&r);
	/* the stored down section keeps the mark, for a file that goes missing */
	v = db_scalar(strcmp(mine, "4") ? "SELECT down_sql FROM schema_migrations WHERE version = '4'"
					: "SELECT down_sql FROM schema_migrations WHERE version = '3'");
	ck_assert_str_eq(v, "-- migrate:down nothing\n");
	free(v);
	/* the top one first: nothing to undo here, unless it is this database's index */
	r = CLI("--dry-run", "down");
	expect(&r, 0, "down --dry-run");
	expect_in(r.out, "-- down 4 mysql_index", "stdout");
	if (strcmp(mine, "4") != 0)
		ck_assert_msg(!strstr(r.out, "DROP INDEX"), "a 'nothing' section ran a statement:\n%s", r.out);
	run_free(&r);
	r = CLI("down", "--all");
	expect(&r, 0, "down --all");
	expect_in(r.out, "rolled back 4 mysql_index", "stdout");
	expect_in(r.out, "rolled back 3 postgres_index", "stdout");
	expect_in(r.out, "rolled back 2 sqlite_index", "stdout");
	expect_in(r.out, "rolled back 1 one", "stdout");
	run_free(&r);
	ck_assert_int_eq(db_count("schema_migrations"), 0);
	ck_assert_int_eq(db_table_exists("one"), 0);
	r = CLI("dump");
	expect(&r, 0, "dump");
	ck_assert_msg(!strstr(r.out, "one"), "the schema is not empty after down --all:\n%s", r.out);
	run_free(&r);

	/* the index of this database really is dropped by its own down section */
	r = CLI("up");
	expect(&r, 0, "up again");
	run_free(&r);
	r = CLI("down", "--to", strcmp(mine, "2") == 0 ? "1" : strcmp(mine, "3") == 0 ? "2" : "3");
	expect(&r, 0, "down --to below this database's index");
	run_free(&r);
	r = CLI("dump");
	expect(&r, 0, "dump");
	ck_assert_msg(!strstr(r.out, "one_by_id"), "the index is still there after its down section:\n%s", r.out);
	expect_in(r.out, "table one", "dump");
	run_free(&r);

	/* a 'nothing' migration whose file is gone rolls back from the stored section */
	r = CLI("up");
	expect(&r, 0, "up again");
	run_free(&r);
	path = xasprintf("%s/migrations/%s", proj, strcmp(mine, "4") ? "4_mysql_index.sql" : "3_postgres_index.sql");
	ck_assert_int_eq(remove(path), 0);
	free(path);
	if (strcmp(mine, "4") == 0) {
		/* mysql: the top one is this database's; roll it back first with its file */
		r = CLI("down");
		expect(&r, 0, "down 4");
		run_free(&r);
	}
	r = CLI("down");
	expect(&r, 0, "down with the file gone");
	expect_in(r.err, "has no file", "stderr");
	run_free(&r);
	ck_assert_int_eq(db_count("schema_migrations"), strcmp(mine, "4") ? 3 : 2);
}
END_TEST

START_TEST(redo_rolls_back_and_reapplies)
{
	struct run r;
	struct driver_conn *c;
	struct driver_error err;
	const char *ins = "INSERT INTO two (id) VALUES (7)";

	mig("1_one.sql", simple1);
	mig("2_two.sql", simple2);
	r = CLI("up");
	run_free(&r);
	c = test_connect();
	ck_assert_int_eq(test_driver()->exec(c, ins, strlen(ins), NULL, &err), DRIVER_OK);
	test_driver()->close(c);
	r = CLI("redo");
	expect(&r, 0, "redo");
	expect_in(r.out, "rolled back 2 two", "stdout");
	expect_in(r.out, "applied     2 two", "stdout");
	run_free(&r);
	ck_assert_int_eq(db_count("two"), 0); /* recreated empty */
	ck_assert_int_eq(db_count("schema_migrations"), 2);
}
END_TEST

START_TEST(status_lists_states_and_check_exits_1_when_pending)
{
	struct run r;
	json_t *doc, *migs;
	json_error_t jerr;

	mig("1_one.sql", simple1);
	mig("2_two.sql", simple2);
	r = CLI("up", "--to", "1");
	run_free(&r);
	r = CLI("status");
	expect(&r, 0, "status");
	expect_in(r.out, "applied  1", "stdout");
	expect_in(r.out, "pending  2", "stdout");
	expect_in(r.out, "current version: 1 (1 applied, 1 pending)", "stdout");
	run_free(&r);
	r = CLI("status", "--check");
	expect(&r, 1, "status --check with a pending migration");
	run_free(&r);
	r = CLI("--format", "json", "status");
	expect(&r, 0, "status --format json");
	doc = json_loads(r.out, 0, &jerr);
	ck_assert_msg(doc != NULL, "not JSON: %s\n%s", jerr.text, r.out);
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "format_version")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "current")), "1");
	migs = json_object_get(doc, "migrations");
	ck_assert_int_eq(json_array_size(migs), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(migs, 0), "state")), "applied");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(migs, 1), "state")), "pending");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(migs, 1), "version")), "2");
	json_decref(doc);
	run_free(&r);
	r = CLI("up");
	run_free(&r);
	r = CLI("status", "--check");
	expect(&r, 0, "status --check when all applied");
	run_free(&r);
	r = CLI("version", "--format", "json");
	expect(&r, 0, "version json");
	doc = json_loads(r.out, 0, &jerr);
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "version")), "2");
	json_decref(doc);
	run_free(&r);
}
END_TEST

START_TEST(status_does_not_create_the_tracking_table)
{
	struct run r;

	mig("1_one.sql", simple1);
	r = CLI("status");
	expect(&r, 0, "status");
	run_free(&r);
	r = CLI("version");
	expect(&r, 0, "version");
	ck_assert_str_eq(r.out, "none\n");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("schema_migrations"), 0);
}
END_TEST

/* ---- statements as the database runs them -------------------------------------------- */

START_TEST(sections_with_triggers_routines_and_tricky_strings)
{
	struct run r;
	char *v;

	mig("1_items.sql",
	    "-- migrate:up sqlite\n"
	    "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, note TEXT);\n"
	    "CREATE TABLE audit (msg TEXT);\n"
	    "CREATE TRIGGER items_ai AFTER INSERT ON items\n"
	    "BEGIN\n"
	    "  INSERT INTO audit (msg) VALUES ('added; ' || NEW.name || ' -- ok');\n"
	    "  UPDATE items SET note = CASE WHEN NEW.name = 'x' THEN 'x;' ELSE 'y' END WHERE id = NEW.id;\n"
	    "END;\n"
	    "INSERT INTO items (name) VALUES ('a;b -- c');\n"
	    "-- migrate:up postgres\n"
	    "CREATE TABLE items (id SERIAL PRIMARY KEY, name TEXT, note TEXT);\n"
	    "CREATE TABLE audit (msg TEXT);\n"
	    "CREATE FUNCTION items_audit() RETURNS trigger AS $$\n"
	    "BEGIN\n"
	    "  INSERT INTO audit (msg) VALUES ('added; ' || NEW.name || ' -- ok');\n"
	    "  RETURN NEW;\n"
	    "END;\n"
	    "$$ LANGUAGE plpgsql;\n"
	    "CREATE TRIGGER items_ai AFTER INSERT ON items FOR EACH ROW EXECUTE FUNCTION items_audit();\n"
	    "DO $do$ BEGIN PERFORM 1; END $do$;\n"
	    "INSERT INTO items (name) VALUES ('a;b -- c');\n"
	    "-- migrate:up mysql\n"
	    "CREATE TABLE items (id INTEGER AUTO_INCREMENT PRIMARY KEY, name TEXT, note TEXT);\n"
	    "CREATE TABLE audit (msg TEXT);\n"
	    "CREATE TRIGGER items_ai AFTER INSERT ON items FOR EACH ROW\n"
	    "BEGIN\n"
	    "  IF NEW.name IS NOT NULL THEN\n"
	    "    INSERT INTO audit (msg) VALUES (CONCAT('added; ', NEW.name, ' -- ok'));\n"
	    "  END IF;\n"
	    "END;\n"
	    "DELIMITER $$\n"
	    "CREATE PROCEDURE add_item(IN n TEXT)\n"
	    "BEGIN\n"
	    "  INSERT INTO items (name) VALUES (n);\n"
	    "END$$\n"
	    "DELIMITER ;\n"
	    "CALL add_item('a;b -- c');\n"
	    "-- migrate:down\n"
	    "DROP TABLE audit;\n"
	    "DROP TABLE items;\n"
	    "-- migrate:down postgres\n"
	    "DROP TABLE audit;\n"
	    "DROP TABLE items;\n"
	    "DROP FUNCTION items_audit();\n"
	    "-- migrate:down mysql\n"
	    "DROP PROCEDURE add_item;\n"
	    "DROP TABLE audit;\n"
	    "DROP TABLE items;\n");
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	v = db_scalar("SELECT name FROM items");
	ck_assert_str_eq(v, "a;b -- c");
	free(v);
	v = db_scalar("SELECT msg FROM audit");
	ck_assert_str_eq(v, "added; a;b -- c -- ok");
	free(v);
	r = CLI("down");
	expect(&r, 0, "down");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("items"), 0);
}
END_TEST

START_TEST(dialect_section_replaces_the_generic_one)
{
	struct run r;
	char sec[64];

	snprintf(sec, sizeof(sec), "-- migrate:up %s\n", test_driver_name());
	{
		char *text = xasprintf("-- migrate:up\nCREATE TABLE generic_t (id INTEGER);\n%s"
				       "CREATE TABLE specific_t (id INTEGER);\n-- migrate:down\nDROP TABLE specific_t;\n",
				       sec);
		mig("1_d.sql", text);
		free(text);
	}
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("specific_t"), 1);
	ck_assert_int_eq(db_table_exists("generic_t"), 0);
}
END_TEST

START_TEST(a_failing_statement_names_file_and_line_and_records_nothing_applied)
{
	struct run r;
	char *v;

	mig("1_one.sql", simple1);
	mig("2_bad.sql",
	    "-- migrate:up\n"
	    "CREATE TABLE first_table (id INTEGER);\n"
	    "INSERT INTO first_table (id) VALUES (1);\n"
	    "INSERT INTO no_such_table (id) VALUES (1);\n"
	    "-- migrate:down\n"
	    "DROP TABLE first_table;\n");
	r = CLI("up");
	expect(&r, 1, "up with a failing statement");
	expect_in(r.err, "migrate: error: ", "stderr");
	expect_in(r.err, "2_bad.sql:4:", "stderr");
	expect_in(r.err, "no_such_table", "stderr");
	expect_in(r.out, "applied     1 one", "stdout");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("one"), 1);
	v = history_status("2");
	if (transactional()) {
		/* the statements and the row roll back together */
		ck_assert_ptr_null(v);
		ck_assert_int_eq(db_table_exists("first_table"), 0);
	} else {
		/* MySQL's DDL commits: the trace says so, and up refuses until repair */
		ck_assert_str_eq(v, "failed");
		r = CLI("status");
		expect_in(r.out, "failed   2", "status");
		run_free(&r);
		r = CLI("up");
		expect(&r, 1, "up after a failure");
		expect_in(r.err, "repair", "stderr");
		run_free(&r);
		r = CLI("repair");
		expect(&r, 0, "repair");
		expect_in(r.out, "forgot failed migration 2", "stdout");
		run_free(&r);
		{
			struct driver_conn *c = test_connect();
			struct driver_error err;
			ck_assert_int_eq(test_driver()->exec(c, "DROP TABLE first_table", 22, NULL, &err), DRIVER_OK);
			test_driver()->close(c);
		}
	}
	free(v);
	mig("2_bad.sql", "-- migrate:up\nCREATE TABLE first_table (id INTEGER);\n-- migrate:down\nDROP TABLE first_table;\n");
	r = CLI("up");
	expect(&r, 0, "up after fixing the file");
	run_free(&r);
	v = history_status("2");
	ck_assert_str_eq(v, "applied");
	free(v);
}
END_TEST

START_TEST(transaction_false_runs_outside_a_transaction)
{
	struct run r;
	char *text, *v;

	text = xasprintf("-- migrate:up transaction:false\nCREATE TABLE v (id INTEGER);\n%s\n"
			 "-- migrate:down\nDROP TABLE v;\n",
			 /* PostgreSQL: CONCURRENTLY cannot run in a transaction, and must not
			  * deadlock on the run-wide advisory lock either */
			 pick("VACUUM;", "VACUUM v;\nCREATE INDEX CONCURRENTLY v_id ON v (id);",
			      "OPTIMIZE TABLE v;"));
	mig("1_v.sql", text);
	free(text);
	r = CLI("up");
	expect(&r, 0, "up with transaction:false");
	run_free(&r);
	v = history_status("1");
	ck_assert_str_eq(v, "applied");
	free(v);
}
END_TEST

START_TEST(single_transaction_where_ddl_is_transactional)
{
	struct run r;

	mig("1_one.sql", simple1);
	mig("2_bad.sql", "-- migrate:up\nCREATE TABLE two (id INTEGER);\nSELECT * FROM nope_nope;\n");
	r = CLI("up", "--single-transaction");
	if (transactional()) {
		expect(&r, 1, "up --single-transaction");
		expect_in(r.err, "rolled back", "stderr");
		run_free(&r);
		ck_assert_int_eq(db_table_exists("one"), 0);
		ck_assert_int_eq(db_count("schema_migrations"), 0);
	} else {
		expect(&r, 2, "up --single-transaction on MySQL");
		expect_in(r.err, "transactional DDL", "stderr");
		run_free(&r);
		ck_assert_int_eq(db_table_exists("one"), 0);
	}
}
END_TEST

/* ---- refusals -------------------------------------------------------------------------- */

START_TEST(up_refuses_out_of_order_unless_asked)
{
	struct run r;

	mig("1_one.sql", simple1);
	mig("3_three.sql", simple3);
	r = CLI("up");
	run_free(&r);
	mig("2_two.sql", simple2);
	r = CLI("up");
	expect(&r, 1, "up with a lower pending version");
	expect_in(r.err, "2 (two)", "stderr");
	expect_in(r.err, "--out-of-order", "stderr");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("two"), 0);
	r = CLI("up", "--out-of-order");
	expect(&r, 0, "up --out-of-order");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("two"), 1);
}
END_TEST

START_TEST(up_refuses_a_changed_migration_but_not_a_comment_edit)
{
	struct run r;

	mig("1_one.sql", simple1);
	r = CLI("up");
	run_free(&r);
	mig("1_one.sql", "-- a comment\n-- migrate:up\nCREATE   TABLE one (id INTEGER); -- why\n-- migrate:down\nDROP TABLE one;\n");
	mig("2_two.sql", simple2);
	r = CLI("up");
	expect(&r, 0, "up after a comment-only edit");
	expect_in(r.err, "warning", "stderr");
	run_free(&r);
	mig("3_three.sql", simple3);
	mig("1_one.sql", "-- migrate:up\nCREATE TABLE one (id INTEGER, extra INTEGER);\n-- migrate:down\nDROP TABLE one;\n");
	r = CLI("up");
	expect(&r, 1, "up after a real change");
	expect_in(r.err, "1 (one) changed", "stderr");
	expect_in(r.err, "repair", "stderr");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("three"), 0);
	r = CLI("status");
	expect_in(r.out, "changed  1", "status");
	run_free(&r);
	r = CLI("validate");
	expect(&r, 1, "validate");
	run_free(&r);
	/* for scripts: each problem as data, besides the message */
	{
		json_error_t jerr;
		json_t *doc, *p;

		r = CLI("--format", "json", "validate");
		expect(&r, 1, "validate --format json");
		doc = json_loads(r.out, 0, &jerr);
		ck_assert_msg(doc != NULL, "validate's JSON does not parse (%s):\n%s", jerr.text, r.out);
		ck_assert(json_is_false(json_object_get(doc, "ok")));
		ck_assert(json_is_string(json_object_get(doc, "error")));
		p = json_object_get(doc, "problems");
		ck_assert_msg(json_is_array(p) && json_array_size(p) == 1, "problems:\n%s", r.out);
		p = json_array_get(p, 0);
		ck_assert_str_eq(json_string_value(json_object_get(p, "version")), "1");
		ck_assert_str_eq(json_string_value(json_object_get(p, "name")), "one");
		ck_assert_str_eq(json_string_value(json_object_get(p, "problem")), "changed");
		json_decref(doc);
		run_free(&r);
	}
	r = CLI("repair");
	expect(&r, 0, "repair");
	expect_in(r.out, "recorded the new checksum of 1", "stdout");
	run_free(&r);
	r = CLI("up");
	expect(&r, 0, "up after repair");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("three"), 1);
}
END_TEST

START_TEST(a_missing_file_blocks_up_and_down_uses_the_stored_down_sql)
{
	struct run r;
	char *path;

	mig("1_one.sql", simple1);
	mig("2_two.sql", simple2);
	r = CLI("up");
	run_free(&r);
	path = xasprintf("%s/migrations/2_two.sql", proj);
	unlink(path);
	free(path);
	r = CLI("up");
	expect(&r, 1, "up with a missing file");
	expect_in(r.err, "2 (two) has no file", "stderr");
	run_free(&r);
	r = CLI("down");
	expect(&r, 0, "down with the file gone");
	expect_in(r.err, "stored", "stderr");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("two"), 0);
	ck_assert_int_eq(db_count("schema_migrations"), 1);
}
END_TEST

/* ---- bad input: the documented exit code, and the database untouched --------------------- */

static void expect_untouched(void)
{
	ck_assert_int_eq(db_table_exists("schema_migrations"), 0);
	ck_assert_int_eq(db_table_exists("one"), 0);
}

START_TEST(bad_migration_files_are_rejected_before_the_database_is_touched)
{
	static const struct {
		const char *name, *text, *msg;
	} cases[] = {
		{ "2_dup.sql", "-- migrate:up\nSELECT 1;\n", "same version" },
		{ "002_b.sql", "-- migrate:up\nSELECT 1;\n", "same version" },
		{ "3_noup.sql", "-- migrate:down\nSELECT 1;\n", "no '-- migrate:up' section" },
		{ "4_bad.sql", "-- migrate:up\nSELECT 1;\n-- migrate:sideways\n", "4_bad.sql:3: malformed marker" },
		{ "5_bad.sql", "-- migrate:up postgress\nSELECT 1;\n", "5_bad.sql:1: malformed marker" },
		{ "03_three.sql", "-- migrate:up\nSELECT 1;\n", "same version 3" },
		{ "6_bin.sql", "-- migrate:up\nSELECT 1;\n\001\002", NULL },
		{ "7_quote.sql", "-- migrate:up\nSELECT 'unterminated;\n", "7_quote.sql:2: unterminated string" },
		{ "8_nothing.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down nothing\n\nSELECT 2;\n",
		  "8_nothing.sql:5: text in a 'nothing' down section (its marker is line 3)" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run r;
		char *path;
		mig("1_one.sql", simple1);
		if (i == 0)
			mig("2_one.sql", simple1);
		if (i == 1)
			mig("2_a.sql", simple1);
		if (i == 5)
			mig("3_three.sql", simple3);
		mig(cases[i].name, cases[i].text);
		if (!cases[i].msg) {
			/* binary garbage: a NUL byte */
			path = xasprintf("%s/migrations/%s", proj, cases[i].name);
			FILE *f = fopen(path, "ab");
			fputc(0, f);
			fclose(f);
			free(path);
		}
		r = CLI("up");
		expect(&r, 2, cases[i].name);
		expect_in(r.err, cases[i].msg ? cases[i].msg : "NUL byte", "stderr");
		if (i == 5) { /* both files named: 3 and 03 are one version */
			expect_in(r.err, "migrations/03_three.sql and ", "stderr");
			expect_in(r.err, "migrations/3_three.sql have the same version 3", "stderr");
		}
		run_free(&r);
		expect_untouched();
		path = xasprintf("%s/migrations", proj);
		rm_rf(path);
		free(path);
	}
}
END_TEST

/* Names hold letters of either case, digits, '_', '-' and '.': these are migrations like any other. */
START_TEST(names_with_dots_dashes_and_capitals_are_migrations)
{
	struct run r;

	mig("1_one.sql", simple1);
	mig("2_upgrade_v6.0.sql", simple2);
	mig("3_add-c.sql", simple3);
	mig("4_Add_Users.sql", "-- migrate:up\nCREATE TABLE four (id INTEGER);\n-- migrate:down\nDROP TABLE four;\n");
	r = CLI("up");
	expect(&r, 0, "up");
	expect_in(r.out, "applied     2 upgrade_v6.0", "stdout");
	expect_in(r.out, "applied     3 add-c", "stdout");
	expect_in(r.out, "applied     4 Add_Users", "stdout");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("two"), 1);
	ck_assert_int_eq(db_table_exists("three"), 1);
	ck_assert_int_eq(db_table_exists("four"), 1);
	r = CLI("status", "--check");
	expect(&r, 0, "status --check");
	run_free(&r);
	r = CLI("down", "--to", "1");
	expect(&r, 0, "down --to 1");
	expect_in(r.out, "rolled back 3 add-c", "stdout");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("two"), 0);
	r = CLI("new", "Add-Things.v2");
	expect(&r, 0, "new with a dot and a dash");
	expect_in(r.out, "_Add-Things.v2.sql", "stdout");
	run_free(&r);
}
END_TEST

/* Fails the test unless the history is still 'one' applied and nothing else. */
static void expect_one_applied_only(const char *what)
{
	char *v = history_status("1");

	ck_assert_msg(db_count("schema_migrations") == 1, "%s: the tracking table changed", what);
	ck_assert_msg(v && strcmp(v, "applied") == 0, "%s: migration 1 is %s", what, v ? v : "gone");
	free(v);
	ck_assert_msg(db_table_exists("one"), "%s: table one is gone", what);
	ck_assert_msg(!db_table_exists("two"), "%s: table two appeared", what);
}

/*
 * No silent skips: a *.sql in migrations/ that is not a migration is an
 * error naming it (exit 2) for every command that reads the migrations, so
 * 'up' and 'status --check' never pass with a file left out. The database
 * is not changed. Other files (README.md, *.bak, hidden ones) are not
 * looked at.
 */
START_TEST(a_sql_file_that_is_not_a_migration_is_an_error_for_every_command)
{
	static const struct {
		const char *file, *why;
	} cases[] = {
		{ "foo.sql", "/foo.sql' (no '_' between the version and the name)" },
		{ "1.sql", "/1.sql' (no '_' between the version and the name)" },
		{ "x_1_a.sql", "/x_1_a.sql' (the version 'x' is not digits)" },
		{ "2_two.SQL", "/2_two.SQL' (it ends in '.SQL', not '.sql')" },
		{ "2_two words.sql", "/2_two words.sql' (the name holds a character other than letters" },
	};
	const char *const *const cmds[] = {
		(const char *const[]){ "up", NULL },
		(const char *const[]){ "status", NULL },
		(const char *const[]){ "status", "--check", NULL },
		(const char *const[]){ "validate", NULL },
		(const char *const[]){ "down", NULL },
		(const char *const[]){ "baseline", "1", NULL },
		(const char *const[]){ "--format", "json", "up", NULL },
	};
	struct run r;
	size_t i, k;

	mig("1_one.sql", simple1);
	mig("README.md", "not a migration\n");
	mig("1_one.sql.bak", "old copy\n");
	mig(".2_hidden.sql", simple2);
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path;
		mig(cases[i].file, simple2);
		for (k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
			r = run_migrate(proj, NULL, cmds[k]);
			expect(&r, 2, cases[i].file);
			expect_in(r.err, "not a migration file: '", "stderr");
			expect_in(r.err, cases[i].why, "stderr");
			expect_in(r.err, "'ignore' setting", "stderr");
			ck_assert_msg(!strstr(r.err, "README") && !strstr(r.err, ".bak") && !strstr(r.err, "hidden"),
				      "another file named: %s", r.err);
			run_free(&r);
		}
		expect_one_applied_only(cases[i].file);
		path = xasprintf("%s/migrations/%s", proj, cases[i].file);
		ck_assert_int_eq(remove(path), 0);
		free(path);
	}
	r = CLI("status", "--check");
	expect(&r, 0, "status --check with the bad files gone");
	run_free(&r);
}
END_TEST

/*
 * With 'format = migrate', golang-migrate's layout (1_x.up.sql,
 * 1_x.down.sql) is not read (check_adopt.c runs it with 'auto'); pointed
 * at such a directory migrate fails and says what it sees, never "up to
 * date".
 */
START_TEST(a_golang_migrate_directory_is_an_error_not_up_to_date)
{
	struct run r;

	write_config("format = migrate");
	mig("1_init.up.sql", "CREATE TABLE one (id INTEGER);\n");
	mig("1_init.down.sql", "DROP TABLE one;\n");
	mig("2_more.up.sql", "CREATE TABLE two (id INTEGER);\n");
	mig("2_more.down.sql", "DROP TABLE two;\n");
	r = CLI("up");
	expect(&r, 2, "up on a golang-migrate directory");
	expect_in(r.err, "migrations/1_init.down.sql and ", "stderr");
	expect_in(r.err, "migrations/1_init.up.sql have the same version 1", "stderr");
	expect_in(r.err, "golang-migrate", "stderr");
	ck_assert_msg(!strstr(r.out, "up to date"), "%s", r.out);
	run_free(&r);
	r = CLI("status", "--check");
	expect(&r, 2, "status --check on a golang-migrate directory");
	expect_in(r.err, "golang-migrate", "stderr");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("schema_migrations"), 0);
	ck_assert_int_eq(db_table_exists("one"), 0);
}
END_TEST

/*
 * The 'ignore' setting: glob patterns of file names meant to be there, in
 * [migrate] or an environment's section, skipped without a word; the
 * patterns apply to migrations/ and seeds/ alike.
 */
START_TEST(ignore_patterns_skip_files_meant_to_be_there)
{
	struct run r;

	mig("1_one.sql", simple1);
	mig("schema.sql", "CREATE TABLE dumped (id INTEGER);\n");
	mig("draft_two.sql", simple2);
	write_file(proj, "seeds/reference.sql", "INSERT INTO one (id) VALUES (1);\n");
	write_config("ignore = schema.sql draft_*.sql\n");
	r = CLI("status");
	expect(&r, 2, "status with seeds/reference.sql not ignored");
	expect_in(r.err, "not a seed file: '", "stderr");
	expect_in(r.err, "seeds/reference.sql' (no '_' between the order and the name)", "stderr");
	ck_assert_msg(!strstr(r.err, "schema.sql") && !strstr(r.err, "draft"), "%s", r.err);
	run_free(&r);
	r = CLI("seed");
	expect(&r, 2, "seed with seeds/reference.sql not ignored");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("one"), 0);
	write_config("ignore = \"schema.sql  draft_*.sql\treference.*\"\n");
	r = CLI("up");
	expect(&r, 0, "up with ignore in [migrate]");
	ck_assert_str_eq(r.err, "");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("one"), 1);
	ck_assert_int_eq(db_table_exists("dumped"), 0);
	ck_assert_int_eq(db_table_exists("two"), 0);
	r = CLI("status", "--check");
	expect(&r, 0, "status --check");
	run_free(&r);
	/* in the environment's section, replacing [migrate]'s */
	project_config(proj, url, 10, "ignore = nothing-matches.sql\n", "ignore = *.sql~ schema.sql draft_* reference.sql\n");
	r = CLI("status", "--check");
	expect(&r, 0, "status --check with ignore in [development]");
	run_free(&r);
	project_config(proj, url, 10, "ignore = schema.sql draft_* reference.sql\n", "ignore = schema.sql\n");
	r = CLI("validate");
	expect(&r, 2, "validate with the environment's narrower ignore");
	expect_in(r.err, "draft_two.sql", "stderr");
	run_free(&r);
}
END_TEST

/* Seeds: a *.sql or *.csv in seeds/ that is not a seed is an error, and nothing is seeded. */
START_TEST(a_file_that_is_not_a_seed_is_an_error)
{
	struct run r;

	mig("1_one.sql", simple1);
	write_file(proj, "seeds/01_one.sql", "INSERT INTO one (id) VALUES (1);\n");
	write_file(proj, "seeds/one.csv", "id\n2\n");
	write_file(proj, "seeds/notes.txt", "not looked at\n");
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	r = CLI("seed");
	expect(&r, 2, "seed");
	expect_in(r.err, "not a seed file: '", "stderr");
	expect_in(r.err, "seeds/one.csv' (no '_' between the order and the name)", "stderr");
	ck_assert_msg(!strstr(r.err, "notes.txt"), "%s", r.err);
	run_free(&r);
	r = CLI("status", "--check");
	expect(&r, 2, "status --check");
	run_free(&r);
	ck_assert_int_eq(db_count("one"), 0);
	ck_assert_int_eq(db_table_exists("schema_seeds"), 0);
}
END_TEST

START_TEST(configuration_mistakes_exit_2_with_file_and_line)
{
	struct run r;

	mig("1_one.sql", simple1);
	r = CLI("--env", "staging", "up");
	expect(&r, 2, "unknown env");
	expect_in(r.err, "unknown environment 'staging'", "stderr");
	expect_in(r.err, "development", "stderr");
	run_free(&r);

	write_config("seeds_dir = ${MIGRATE_TEST_UNSET_VAR}");
	r = CLI("up");
	expect(&r, 2, "unset variable");
	expect_in(r.err, "config.ini:3:", "stderr");
	expect_in(r.err, "MIGRATE_TEST_UNSET_VAR", "stderr");
	run_free(&r);

	write_config("colour = blue");
	r = CLI("up");
	expect(&r, 2, "unknown key");
	expect_in(r.err, "config.ini:3: unknown key 'colour'", "stderr");
	run_free(&r);

	write_config("this line is not ini");
	r = CLI("up");
	expect(&r, 2, "syntax error");
	expect_in(r.err, "config.ini:3:", "stderr");
	run_free(&r);

	write_config(NULL);
	r = CLI("--url", "ftp://x/y", "up");
	expect(&r, 2, "bad url");
	expect_in(r.err, "unknown URL scheme", "stderr");
	run_free(&r);

	r = CLI("--config", "nope.ini", "up");
	expect(&r, 2, "missing config");
	expect_in(r.err, "nope.ini", "stderr");
	run_free(&r);

	r = CLI("--lock-timeout", "soon", "up");
	expect(&r, 2, "bad lock timeout");
	run_free(&r);
	/* too big for the config file's bound (a year), and values that used to wrap around an int */
	{
		static const char *const bad[] = { "31536001", "2147483648", "4294967301", "99999999999999999999", " 5", "+5" };
		size_t i;
		for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
			r = CLI("--lock-timeout", bad[i], "up");
			expect(&r, 2, bad[i]);
			expect_in(r.err, "is not a number of seconds from 0 to 31536000", "stderr");
			run_free(&r);
		}
	}
	expect_untouched();
}
END_TEST

START_TEST(usage_errors_exit_2)
{
	struct run r;

	r = CLI("frobnicate");
	expect(&r, 2, "unknown command");
	expect_in(r.err, "unknown command 'frobnicate'", "stderr");
	run_free(&r);
	r = CLI("up", "--sideways");
	expect(&r, 2, "unknown option");
	run_free(&r);
	r = CLI("--format", "yaml", "status");
	expect(&r, 2, "bad format");
	run_free(&r);
	r = CLI("new");
	expect(&r, 2, "new without a name");
	run_free(&r);
	r = CLI("new", "bad name");
	expect(&r, 2, "new with a bad name");
	run_free(&r);
	r = CLI("drop");
	expect(&r, 2, "drop without --yes");
	run_free(&r);
	r = run_migrate(proj, NULL, (const char *const[]){ NULL });
	expect(&r, 2, "no command");
	expect_in(r.err, "usage:", "stderr");
	run_free(&r);
}
END_TEST

/* ---- connections, secrets, locks ---------------------------------------------------------- */

START_TEST(no_password_in_any_output)
{
	struct run r;
	const char *pw = test_db_settings()->password;

	mig("1_one.sql", simple1);
	r = CLI("-v", "up");
	expect(&r, 0, "up");
	run_free(&r);
	r = CLI("status");
	expect(&r, 0, "status");
	if (pw && *pw) {
		ck_assert_msg(strstr(r.out, pw) == NULL, "password in status: %s", r.out);
		expect_in(r.out, ":****@", "status");
	}
	run_free(&r);
	if (test_driver()->dialect != SQL_DIALECT_SQLITE) {
		char *bad = xasprintf("%s://%s:Not-The-Pa55word@%s:%d/%s", test_driver_name(),
				      test_db_settings()->user, test_db_settings()->host, test_db_settings()->port,
				      test_db_settings()->database);
		r = CLI("--url", bad, "status");
		expect(&r, 3, "wrong password");
		ck_assert_msg(strstr(r.err, "Not-The-Pa55word") == NULL, "password in error: %s", r.err);
		ck_assert_msg(strstr(r.out, "Not-The-Pa55word") == NULL, "password in output: %s", r.out);
		run_free(&r);
		free(bad);
	}
}
END_TEST

START_TEST(unreachable_database_exits_3)
{
	struct run r;

	mig("1_one.sql", simple1);
	if (test_driver()->dialect == SQL_DIALECT_SQLITE) {
		r = CLI("--url", "sqlite:///nonexistent-dir-for-migrate/x.db", "up");
	} else {
		char *dead = xasprintf("%s://u:secret-xyz@127.0.0.1:1/db?connect_timeout=3", test_driver_name());
		r = CLI("--url", dead, "up");
		free(dead);
		ck_assert_ptr_null(strstr(r.err, "secret-xyz"));
	}
	expect(&r, 3, "unreachable");
	expect_in(r.err, "cannot connect", "stderr");
	run_free(&r);
}
END_TEST

START_TEST(lock_timeout_exits_4_and_applies_nothing)
{
	struct run r;
	struct driver_conn *holder = test_connect();
	struct driver_error err;

	mig("1_one.sql", simple1);
	ck_assert_int_eq(test_driver()->lock(holder, "schema_migrations", 0, &err), DRIVER_OK);
	r = CLI("up", "--lock-timeout", "1");
	expect(&r, 4, "up while locked");
	expect_in(r.err, "lock", "stderr");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("one"), 0);
	ck_assert_int_eq(db_table_exists("schema_migrations"), 0);
	test_driver()->unlock(holder, &err);
	test_driver()->close(holder);
	r = CLI("up");
	expect(&r, 0, "up after unlock");
	run_free(&r);
}
END_TEST

START_TEST(parallel_ups_apply_each_migration_once)
{
	enum { N = 6 };
	pid_t pids[N];
	int i, status, failures = 0;
	char *v;

	mig("1_one.sql", simple1);
	mig("2_two.sql", simple2);
	mig("3_three.sql", "-- migrate:up\nCREATE TABLE three (id INTEGER);\nINSERT INTO three (id) VALUES (1);\n"
			   "-- migrate:down\nDROP TABLE three;\n");
	for (i = 0; i < N; i++) {
		pids[i] = fork();
		ck_assert(pids[i] >= 0);
		if (pids[i] == 0) {
			struct run r = CLI("-q", "up");
			if (r.status)
				fprintf(stderr, "parallel up %d: exit %d: %s", i, r.status, r.err);
			_exit(r.status);
		}
	}
	for (i = 0; i < N; i++) {
		waitpid(pids[i], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failures++;
	}
	ck_assert_int_eq(failures, 0);
	ck_assert_int_eq(db_count("schema_migrations"), 3);
	v = db_scalar("SELECT COUNT(*) FROM three");
	ck_assert_str_eq(v, "1");
	free(v);
}
END_TEST

START_TEST(dry_run_prints_the_sql_and_changes_nothing)
{
	struct run r;

	mig("1_one.sql", simple1);
	r = CLI("up", "--dry-run");
	expect(&r, 0, "up --dry-run");
	expect_in(r.out, "CREATE TABLE one (id INTEGER);", "stdout");
	expect_in(r.out, "INSERT INTO", "stdout");
	if (transactional())
		expect_in(r.out, test_driver()->begin_sql, "stdout");
	run_free(&r);
	expect_untouched();
}
END_TEST

/* ---- the other commands ------------------------------------------------------------------ */

START_TEST(new_creates_a_timestamped_template)
{
	struct run r;
	char *text, *path;

	r = CLI("new", "add_orders");
	expect(&r, 0, "new");
	ck_assert_msg(strncmp(r.out, "migrations/", 11) == 0, "stdout: %s", r.out);
	ck_assert_int_eq(strlen(r.out), strlen("migrations/YYYYMMDDHHMMSS_add_orders.sql\n"));
	expect_in(r.out, "_add_orders.sql\n", "stdout");
	path = xstrndup(r.out, strlen(r.out) - 1);
	text = slurp(proj, path);
	ck_assert_ptr_nonnull(text);
	expect_in(text, "-- migrate:up\n", path);
	expect_in(text, "-- migrate:down\n", path);
	free(text);
	free(path);
	run_free(&r);
	/* the new (empty) migration is a valid pending one */
	r = CLI("status");
	expect(&r, 0, "status");
	expect_in(r.out, "pending", "status");
	run_free(&r);
}
END_TEST

/*
 * 'new' never makes a second file with a version that is already there,
 * leading zeros or not: files 0<stamp>_taken.sql for every second of the
 * next minute, so the run falls inside it however slow the machine is.
 */
START_TEST(new_refuses_a_version_taken_with_leading_zeros)
{
	time_t now = time(NULL);
	struct run r;
	int i;

	for (i = -1; i <= 60; i++) {
		time_t t = now + i;
		struct tm tm;
		char stamp[16], name[64];
		gmtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
		snprintf(name, sizeof(name), "0%s_taken.sql", stamp);
		mig(name, simple1);
	}
	r = CLI("new", "add_orders");
	expect(&r, 2, "new with its version taken");
	expect_in(r.err, "already exists", "stderr");
	run_free(&r);
}
END_TEST

START_TEST(drivers_help_and_global_options_anywhere)
{
	struct run r;

	r = CLI("drivers");
	expect(&r, 0, "drivers");
	ck_assert_str_eq(r.out, "sqlite\npostgres\nmysql\n");
	run_free(&r);
	r = CLI("help", "up");
	expect(&r, 0, "help up");
	expect_in(r.out, "usage: migrate up", "help");
	run_free(&r);
	r = CLI("down", "--help");
	expect(&r, 0, "down --help");
	expect_in(r.out, "usage: migrate down", "help");
	run_free(&r);
	r = CLI("--version");
	expect(&r, 0, "--version");
	expect_in(r.out, "migrate ", "version");
	run_free(&r);
	mig("1_one.sql", simple1);
	r = CLI("up", "--env", "development", "-q");
	expect(&r, 0, "up with globals after the command");
	ck_assert_str_eq(r.out, "");
	run_free(&r);
	r = CLI_ENV("MIGRATE_ENV=development", "version");
	ck_assert_str_eq(r.out, "1\n");
	run_free(&r);
}
END_TEST

START_TEST(url_from_the_environment_overrides_the_config)
{
	struct run r;
	char *env = xasprintf("DATABASE_URL=%s", url);

	write_file(proj, "config.ini", "[development]\ndriver = sqlite\ndatabase = /nonexistent-dir-xyz/never.db\n");
	mig("1_one.sql", simple1);
	r = CLI_ENV(env, "up");
	expect(&r, 0, "up with DATABASE_URL");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("one"), 1);
	free(env);
}
END_TEST

START_TEST(create_wait_and_drop)
{
	struct run r;

	r = CLI("create");
	expect(&r, 0, "create");
	run_free(&r);
	r = CLI("wait", "--timeout", "5");
	expect(&r, 0, "wait");
	run_free(&r);
	/* 4294967301 used to wrap around an int to 5 */
	r = CLI("wait", "--timeout", "4294967301");
	expect(&r, 2, "wait --timeout past a year");
	expect_in(r.err, "--timeout '4294967301' is not a number of seconds from 0 to 31536000", "stderr");
	run_free(&r);
	mig("1_one.sql", simple1);
	r = CLI("up");
	run_free(&r);
	r = CLI("drop", "--yes");
	expect(&r, 0, "drop --yes");
	run_free(&r);
	if (test_driver()->dialect == SQL_DIALECT_SQLITE) {
		char *text = slurp(proj, "test.db");
		ck_assert_ptr_null(text);
	} else {
		r = CLI("up");
		expect(&r, 3, "up on a dropped database");
		run_free(&r);
		r = CLI("create");
		expect(&r, 0, "create again");
		run_free(&r);
		ck_assert_int_eq(db_table_exists("one"), 0);
	}
}
END_TEST

/* ---- lint (SPEC section 12) ------------------------------------------------------- */

static const char lint_base[] =
	"-- migrate:up\nCREATE TABLE lt (id INTEGER PRIMARY KEY, a INTEGER);\n-- migrate:down\nDROP TABLE lt;\n";
/* an error on every database: fails (PostgreSQL, SQLite) or fills 0 (MySQL) on a table with rows */
static const char lint_hazard[] =
	"-- migrate:up\nALTER TABLE lt ADD COLUMN b INTEGER NOT NULL;\n-- migrate:down\n";

START_TEST(lint_checks_the_pending_migrations_and_exits_1_on_an_error)
{
	struct run r;
	json_t *doc, *f;

	mig("1_base.sql", lint_base);
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	mig("2_hazard.sql", lint_hazard);
	mig("3_rename.sql", "-- migrate:up\nALTER TABLE lt RENAME COLUMN a TO a2;\n-- migrate:down\n");
	r = CLI("lint");
	expect(&r, 1, "lint");
	expect_in(r.out, "2_hazard.sql:2: error: add-column-not-null-without-default: column 'b' is added to existing table 'lt'",
		  "stdout");
	expect_in(r.out, "3_rename.sql:2: warning: rename-column: ", "stdout");
	expect_in(r.out, "1 error, 1 warning in 2 pending migrations", "stdout");
	expect_in(r.err, "migrate: error: lint: 1 error-level finding in 2 migrations", "stderr");
	ck_assert_ptr_null(strstr(r.out, "1_base.sql"));
	run_free(&r);
	/* lint changes nothing */
	ck_assert_int_eq(db_count("schema_migrations"), 1);

	r = CLI("--format", "json", "lint");
	expect(&r, 1, "lint --format json");
	doc = json_loads(r.out, 0, NULL);
	ck_assert_msg(doc != NULL, "not JSON: %s", r.out);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "command")), "lint");
	ck_assert(json_is_false(json_object_get(doc, "ok")));
	ck_assert_str_eq(json_string_value(json_object_get(doc, "scope")), "pending");
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "checked")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "errors")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "warnings")), 1);
	f = json_array_get(json_object_get(doc, "findings"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(f, "rule")), "add-column-not-null-without-default");
	ck_assert_str_eq(json_string_value(json_object_get(f, "severity")), "error");
	ck_assert_str_eq(json_string_value(json_object_get(f, "version")), "2");
	ck_assert_int_eq(json_integer_value(json_object_get(f, "line")), 2);
	expect_in(json_string_value(json_object_get(f, "fix")), "DEFAULT", "fix");
	json_decref(doc);
	run_free(&r);

	/* --all reads the applied one too; a warning alone exits 0 */
	r = CLI("lint", "--all");
	expect(&r, 1, "lint --all");
	expect_in(r.out, "in 3 migrations", "stdout");
	run_free(&r);
	mig("2_hazard.sql", "-- migrate:up\nALTER TABLE lt ADD COLUMN b INTEGER NOT NULL DEFAULT 0;\n-- migrate:down\n");
	r = CLI("lint");
	expect(&r, 0, "lint of the safe form");
	expect_in(r.out, "0 errors, 1 warning in 2 pending migrations", "stdout");
	run_free(&r);
	r = CLI("lint", "3");
	expect(&r, 0, "lint 3");
	expect_in(r.out, "in 1 migration", "stdout");
	run_free(&r);
	r = CLI("lint", "9");
	expect(&r, 2, "lint of a version that is not there");
	expect_in(r.err, "'9' names no migration", "stderr");
	run_free(&r);
}
END_TEST

/* lt made by an earlier run: a live table */
static void lint_base_applied(void)
{
	struct run r;

	mig("1_base.sql", lint_base);
	r = CLI("up");
	expect(&r, 0, "up of the base");
	run_free(&r);
}

START_TEST(up_refuses_an_error_level_finding_and_applies_nothing)
{
	struct run r;

	lint_base_applied();
	mig("2_hazard.sql", lint_hazard);
	mig("3_after.sql", "-- migrate:up\nCREATE TABLE after_hazard (id INTEGER);\n-- migrate:down\n");
	r = CLI("up");
	expect(&r, 1, "up");
	expect_in(r.err, "2_hazard.sql:2: error: add-column-not-null-without-default:", "stderr");
	expect_in(r.err, "migrate: error: lint: ", "stderr");
	expect_in(r.err, "nothing was applied", "stderr");
	expect_in(r.err, "migrate up --no-lint", "stderr");
	ck_assert_ptr_null(strstr(r.out, "applied"));
	run_free(&r);
	ck_assert_int_eq(db_count("schema_migrations"), 1);
	ck_assert(!db_table_exists("after_hazard"));

	/* a dry run shows the findings and refuses as the real run would */
	r = CLI("up", "--dry-run");
	expect(&r, 1, "up --dry-run");
	expect_in(r.err, "2_hazard.sql:2: error: add-column-not-null-without-default:", "stderr");
	run_free(&r);

	r = CLI("--format", "json", "up");
	expect(&r, 1, "up --format json");
	{
		json_t *doc = json_loads(r.out, 0, NULL), *f;
		ck_assert_msg(doc != NULL, "not JSON: %s", r.out);
		ck_assert(json_is_false(json_object_get(doc, "ok")));
		f = json_array_get(json_object_get(doc, "findings"), 0);
		ck_assert_str_eq(json_string_value(json_object_get(f, "rule")), "add-column-not-null-without-default");
		json_decref(doc);
	}
	run_free(&r);
	ck_assert_int_eq(db_count("schema_migrations"), 1);

	r = CLI("up", "--no-lint");
	expect(&r, 0, "up --no-lint");
	expect_in(r.out, "applied     2 hazard", "stdout");
	ck_assert_ptr_null(strstr(r.err, "add-column-not-null-without-default"));
	run_free(&r);
	ck_assert_int_eq(db_count("schema_migrations"), 3);
}
END_TEST

/*
 * A table an earlier migration of the same run makes is new: no application
 * uses it yet, so up's gate lets the "hazard" through (an empty database's
 * whole history is one run: a test database, CI), while lint, which judges
 * each migration against a live database, still reports it.
 */
START_TEST(up_lets_through_a_hazard_on_a_table_the_same_run_makes)
{
	struct run r;

	mig("1_base.sql", lint_base);
	mig("2_hazard.sql", lint_hazard);
	r = CLI("up");
	expect(&r, 0, "up of both in one run");
	expect_in(r.out, "applied     2 hazard", "stdout");
	ck_assert_ptr_null(strstr(r.err, "add-column-not-null-without-default"));
	run_free(&r);
	ck_assert_int_eq(db_count("schema_migrations"), 2);
	r = CLI("lint", "--all");
	expect(&r, 1, "lint --all");
	expect_in(r.out, "2_hazard.sql:2: error: add-column-not-null-without-default:", "stdout");
	run_free(&r);
	/* applied in two runs, the second finds lt live: up_refuses_an_error_level_finding_and_applies_nothing */
}
END_TEST

START_TEST(up_with_enforce_false_reports_and_applies)
{
	struct run r;

	write_config("[lint]\nenforce = false\n");
	lint_base_applied();
	mig("2_hazard.sql", lint_hazard);
	r = CLI("up");
	expect(&r, 0, "up with enforce = false");
	expect_in(r.err, "2_hazard.sql:2: error: add-column-not-null-without-default:", "stderr");
	expect_in(r.out, "applied     2 hazard", "stdout");
	run_free(&r);
	ck_assert_int_eq(db_count("schema_migrations"), 2);
}
END_TEST

START_TEST(up_applies_what_an_ignore_comment_with_a_reason_silences)
{
	struct run r;

	mig("1_base.sql", lint_base);
	mig("2_hazard.sql", "-- migrate:up\n-- migrate:lint ignore add-column-not-null-without-default\n"
	    "ALTER TABLE lt ADD COLUMN b INTEGER NOT NULL;\n-- migrate:down\n");
	r = CLI("up");
	expect(&r, 1, "up with an ignore without a reason");
	expect_in(r.err, "2_hazard.sql:2: error: lint-ignore-without-reason:", "stderr");
	run_free(&r);
	ck_assert_int_eq(db_count("schema_migrations"), 0);
	mig("2_hazard.sql", "-- migrate:up\n-- migrate:lint ignore add-column-not-null-without-default lt is empty here\n"
	    "ALTER TABLE lt ADD COLUMN b INTEGER NOT NULL;\n-- migrate:down\n");
	r = CLI("up");
	expect(&r, 0, "up with an ignore");
	run_free(&r);
	ck_assert_int_eq(db_count("schema_migrations"), 2);
	/* the comment does not change the statements: only the file's checksum */
	r = CLI("lint", "--all");
	expect(&r, 0, "lint --all");
	expect_in(r.out, "no findings in 2 migrations", "stdout");
	run_free(&r);
}
END_TEST

START_TEST(up_dry_run_shows_warnings_and_up_does_not)
{
	struct run r;

	mig("1_base.sql", lint_base);
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	mig("2_rename.sql", "-- migrate:up\nALTER TABLE lt RENAME TO lt2;\n-- migrate:down\nALTER TABLE lt2 RENAME TO lt;\n");
	r = CLI("up", "--dry-run");
	expect(&r, 0, "up --dry-run");
	expect_in(r.err, "2_rename.sql:2: warning: rename-table:", "stderr");
	expect_in(r.out, "RENAME TO lt2", "stdout");
	run_free(&r);
	ck_assert_int_eq(db_count("schema_migrations"), 1);
	r = CLI("up");
	expect(&r, 0, "up");
	ck_assert_ptr_null(strstr(r.err, "rename-table"));
	run_free(&r);
	ck_assert_int_eq(db_count("schema_migrations"), 2);
	ck_assert(db_table_exists("lt2"));
}
END_TEST

START_TEST(lint_config_mistakes_stop_up_too)
{
	struct run r;

	write_config("[lint]\ndrop-table = warning\nno-such-rule = off\n");
	mig("1_base.sql", lint_base);
	r = CLI("up");
	expect(&r, 2, "up with an unknown rule in [lint]");
	expect_in(r.err, "config.ini:5: unknown lint rule 'no-such-rule' in [lint]", "stderr");
	run_free(&r);
	ck_assert(!db_table_exists("lt"));
}
END_TEST

/* SPEC 12: MySQL ignores inline REFERENCES, MariaDB 10.5+ honours them; lint asks the server. */
START_TEST(lint_asks_the_server_about_inline_references)
{
	struct run r;
	char *v;

	mig("1_refs.sql", "-- migrate:up\nCREATE TABLE p (id INTEGER PRIMARY KEY);\n"
	    "CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id));\n-- migrate:down\n");
	v = test_driver()->dialect == SQL_DIALECT_MYSQL ? db_scalar("SELECT VERSION()") : xstrdup("");
	r = CLI("lint");
	if (test_driver()->dialect == SQL_DIALECT_MYSQL && !strstr(v, "MariaDB")) {
		expect(&r, 1, "lint on MySQL");
		expect_in(r.out, "mysql-inline-references", "stdout");
		ck_assert_ptr_null(strstr(r.out, "lint assumed MySQL"));
	} else {
		/* MariaDB 10.5+ (the test server), PostgreSQL and SQLite make the key */
		expect(&r, 0, "lint");
		expect_in(r.out, "no findings in 1 pending migration", "stdout");
	}
	run_free(&r);
	r = CLI("lint", "--all");
	if (test_driver()->dialect == SQL_DIALECT_MYSQL) {
		/* the server is not asked: lint assumes MySQL and says so */
		expect(&r, 1, "lint --all on the mysql dialect");
		expect_in(r.out, "1_refs.sql:3: error: mysql-inline-references:", "stdout");
		expect_in(r.out, "lint assumed MySQL: the server was not asked", "stdout");
	} else {
		expect(&r, 0, "lint --all");
	}
	run_free(&r);
	r = CLI("up", "--no-lint");
	expect(&r, 0, "up");
	run_free(&r);
	if (test_driver()->dialect == SQL_DIALECT_MYSQL && strstr(v, "MariaDB")) {
		char *n = db_scalar("SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS "
				    "WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'c'");
		ck_assert_msg(strcmp(n, "1") == 0, "MariaDB %s made %s foreign keys from the inline REFERENCES", v, n);
		free(n);
	}
	free(v);
}
END_TEST

Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("commands");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, up_applies_the_example_and_records_it);
	tcase_add_test(tc, lint_checks_the_pending_migrations_and_exits_1_on_an_error);
	tcase_add_test(tc, up_refuses_an_error_level_finding_and_applies_nothing);
	tcase_add_test(tc, up_lets_through_a_hazard_on_a_table_the_same_run_makes);
	tcase_add_test(tc, up_with_enforce_false_reports_and_applies);
	tcase_add_test(tc, up_applies_what_an_ignore_comment_with_a_reason_silences);
	tcase_add_test(tc, up_dry_run_shows_warnings_and_up_does_not);
	tcase_add_test(tc, lint_config_mistakes_stop_up_too);
	tcase_add_test(tc, lint_asks_the_server_about_inline_references);
	tcase_add_test(tc, seed_links_every_address_to_a_customer);
	tcase_add_test(tc, down_all_restores_the_empty_schema);
	tcase_add_test(tc, up_to_stops_at_the_version);
	tcase_add_test(tc, versions_compare_as_numbers);
	tcase_add_test(tc, versions_of_any_size_up_down_status_and_to);
	tcase_add_test(tc, down_counts_and_to);
	tcase_add_test(tc, down_refuses_an_irreversible_migration_and_changes_nothing);
	tcase_add_test(tc, down_nothing_removes_the_row_and_runs_nothing_on_that_database);
	tcase_add_test(tc, redo_rolls_back_and_reapplies);
	tcase_add_test(tc, status_lists_states_and_check_exits_1_when_pending);
	tcase_add_test(tc, status_does_not_create_the_tracking_table);
	tcase_add_test(tc, sections_with_triggers_routines_and_tricky_strings);
	tcase_add_test(tc, dialect_section_replaces_the_generic_one);
	tcase_add_test(tc, a_failing_statement_names_file_and_line_and_records_nothing_applied);
	tcase_add_test(tc, transaction_false_runs_outside_a_transaction);
	tcase_add_test(tc, single_transaction_where_ddl_is_transactional);
	tcase_add_test(tc, up_refuses_out_of_order_unless_asked);
	tcase_add_test(tc, up_refuses_a_changed_migration_but_not_a_comment_edit);
	tcase_add_test(tc, a_missing_file_blocks_up_and_down_uses_the_stored_down_sql);
	tcase_add_test(tc, bad_migration_files_are_rejected_before_the_database_is_touched);
	tcase_add_test(tc, names_with_dots_dashes_and_capitals_are_migrations);
	tcase_add_test(tc, a_sql_file_that_is_not_a_migration_is_an_error_for_every_command);
	tcase_add_test(tc, a_golang_migrate_directory_is_an_error_not_up_to_date);
	tcase_add_test(tc, ignore_patterns_skip_files_meant_to_be_there);
	tcase_add_test(tc, a_file_that_is_not_a_seed_is_an_error);
	tcase_add_test(tc, configuration_mistakes_exit_2_with_file_and_line);
	tcase_add_test(tc, usage_errors_exit_2);
	tcase_add_test(tc, no_password_in_any_output);
	tcase_add_test(tc, unreachable_database_exits_3);
	tcase_add_test(tc, lock_timeout_exits_4_and_applies_nothing);
	tcase_add_test(tc, parallel_ups_apply_each_migration_once);
	tcase_add_test(tc, dry_run_prints_the_sql_and_changes_nothing);
	tcase_add_test(tc, new_creates_a_timestamped_template);
	tcase_add_test(tc, new_refuses_a_version_taken_with_leading_zeros);
	tcase_add_test(tc, drivers_help_and_global_options_anywhere);
	tcase_add_test(tc, url_from_the_environment_overrides_the_config);
	tcase_add_test(tc, create_wait_and_drop);
	suite_add_tcase(s, tc);
	return s;
}
