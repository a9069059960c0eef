/*
 * check_dump.c - 'dump', 'verify' and the JSON documents, end to end with
 * the built binary on the driver under test.
 *
 * Each test gets a fresh project directory and a fresh real database, as in
 * check_cli.c.
 */
#define _GNU_SOURCE
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../migrate/util.h"
#include "testutil.h"

static char *proj;
static char *url;

static void write_config(const char *shared, const char *env_extra, const char *db_url)
{
	project_config(proj, db_url, 10, shared, env_extra);
}

static void setup(void)
{
	project_new(&proj, &url);
	write_config(NULL, NULL, url);
}

static void teardown(void)
{
	project_free(&proj, &url);
}

#define CLI(...) run_migrate(proj, NULL, (const char *const[]){ __VA_ARGS__, NULL })

/* Case-insensitive: PostgreSQL's deparsers write keywords in capitals. */
static void expect_in_ci(const char *hay, const char *needle, const char *where)
{
	ck_assert_msg(hay && strcasestr(hay, needle), "%s does not hold '%s' (any case):\n%s", where, needle,
		      hay ? hay : "(null)");
}

static void expect_not_in(const char *hay, const char *needle, const char *where)
{
	ck_assert_msg(!hay || !strstr(hay, needle), "%s holds '%s':\n%s", where, needle, hay);
}

static void mig(const char *name, const char *text)
{
	write_migration(proj, name, text);
}

static void unmig(const char *name)
{
	char *path = xasprintf("%s/migrations/%s", proj, name);

	ck_assert_msg(remove(path) == 0, "cannot remove %s", path);
	free(path);
}

/* Runs 'dump' and returns its stdout (caller frees). */
static char *dump(void)
{
	struct run r = CLI("dump");
	char *out;

	expect(&r, 0, "dump");
	out = r.out;
	r.out = NULL;
	run_free(&r);
	return out;
}

static json_t *parse_json(const char *text, const char *what)
{
	json_error_t jerr;
	json_t *doc = json_loads(text ? text : "", 0, &jerr);

	ck_assert_msg(doc != NULL, "%s is not JSON (%s): %s", what, jerr.text, text ? text : "(null)");
	return doc;
}

static const char *jstr(json_t *doc, const char *key)
{
	json_t *v = json_object_get(doc, key);

	ck_assert_msg(json_is_string(v), "'%s' is not a string in the document", key);
	return json_string_value(v);
}

/* Every document has format_version 1, the command and ok. */
static json_t *expect_doc(const char *text, const char *command, int ok)
{
	json_t *doc = parse_json(text, command);

	ck_assert_int_eq(json_integer_value(json_object_get(doc, "format_version")), 1);
	ck_assert_str_eq(jstr(doc, "command"), command);
	ck_assert_msg(json_is_boolean(json_object_get(doc, "ok")), "%s: no boolean 'ok'", command);
	ck_assert_int_eq(json_is_true(json_object_get(doc, "ok")), ok);
	return doc;
}

/* ---- dump ------------------------------------------------------------------------- */

START_TEST(dump_shows_the_example_and_leaves_out_the_tracking_tables)
{
	struct run r;
	char *a, *b, *file;

	copy_example(proj);
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	r = CLI("seed");
	expect(&r, 0, "seed");
	run_free(&r);
	a = dump();
	expect_in(a, "table addresses\n", "dump");
	expect_in(a, "table customers\n", "dump");
	expect_in(a, "  column street ", "dump");
	expect_in(a, "  column uuid ", "dump");
	expect_in_ci(a, "primary key (uuid)", "dump");
	expect_in_ci(a, "unique (fk_customerid)", "dump");
	expect_in_ci(a, "foreign key (fk_customerid) references customers", "dump");
	expect_in_ci(a, "on delete set null", "dump");
	expect_in_ci(a, "on update cascade", "dump");
	expect_in(a, " not null", "dump");
	expect_in_ci(a, "default current_timestamp", "dump");
	expect_not_in(a, "schema_migrations", "dump");
	expect_not_in(a, "schema_seeds", "dump");
	expect_not_in(a, "sqlite_", "dump");
	/* customers' columns are sorted: age before createdAt before firstname */
	{
		const char *cust = strstr(a, "table customers\n");
		const char *age = strstr(cust, "column age"), *created = strstr(cust, "column createdAt");
		ck_assert(age && created && age < created && created < strstr(cust, "column firstname"));
	}

	b = dump();
	ck_assert_str_eq(a, b);
	free(b);

	r = CLI("dump", "-o", "schema.txt");
	expect(&r, 0, "dump -o");
	expect_not_in(r.out, "table customers", "stdout of dump -o");
	run_free(&r);
	file = slurp(proj, "schema.txt");
	ck_assert_ptr_nonnull(file);
	ck_assert_str_eq(a, file);
	free(file);
	free(a);
}
END_TEST

START_TEST(dump_leaves_out_renamed_tracking_tables_and_writes_files)
{
	struct run r;
	char *d;

	write_config("table = app_history\nseeds_table = app_seeds", NULL, url);
	copy_example(proj);
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	r = CLI("seed");
	expect(&r, 0, "seed");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("app_history"), 1);
	d = dump();
	expect_in(d, "table customers\n", "dump");
	expect_not_in(d, "app_history", "dump");
	expect_not_in(d, "app_seeds", "dump");
	free(d);
	r = CLI("dump", "--output", "no-such-dir/schema.txt");
	expect(&r, 2, "dump -o into a missing directory");
	expect_in(r.err, "cannot write 'no-such-dir/schema.txt'", "stderr");
	run_free(&r);
}
END_TEST

START_TEST(dump_shows_indexes_views_and_triggers)
{
	struct run r;
	char *d;

	mig("1_things.sql",
	    pick("-- migrate:up\n"
		 "CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL, n INTEGER DEFAULT 0);\n"
		 "CREATE TABLE log (id INTEGER PRIMARY KEY, what TEXT);\n"
		 "CREATE INDEX things_by_name ON things (name);\n"
		 "CREATE VIEW named_things AS SELECT id, name FROM things;\n"
		 "CREATE TRIGGER things_log AFTER INSERT ON things BEGIN INSERT INTO log (what) VALUES (NEW.name); END;\n"
		 "-- migrate:down\nDROP VIEW named_things;\nDROP TABLE things;\nDROP TABLE log;\n",
		 "-- migrate:up\n"
		 "CREATE TABLE things (id integer PRIMARY KEY, name text NOT NULL, n integer DEFAULT 0);\n"
		 "CREATE TABLE log (id serial PRIMARY KEY, what text);\n"
		 "CREATE INDEX things_by_name ON things (name);\n"
		 "CREATE VIEW named_things AS SELECT id, name FROM things;\n"
		 "CREATE FUNCTION log_thing() RETURNS trigger LANGUAGE plpgsql AS $$\n"
		 "BEGIN INSERT INTO log (what) VALUES (NEW.name); RETURN NEW; END $$;\n"
		 "CREATE TRIGGER things_log AFTER INSERT ON things FOR EACH ROW EXECUTE FUNCTION log_thing();\n"
		 "-- migrate:down\nDROP VIEW named_things;\nDROP TABLE things;\nDROP TABLE log;\nDROP FUNCTION log_thing();\n",
		 "-- migrate:up\n"
		 "CREATE TABLE things (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, n INTEGER DEFAULT 0);\n"
		 "CREATE TABLE log (id INTEGER AUTO_INCREMENT PRIMARY KEY, what VARCHAR(50));\n"
		 "CREATE INDEX things_by_name ON things (name);\n"
		 "CREATE VIEW named_things AS SELECT id, name FROM things;\n"
		 "CREATE TRIGGER things_log AFTER INSERT ON things FOR EACH ROW INSERT INTO log (what) VALUES (NEW.name);\n"
		 "-- migrate:down\nDROP VIEW named_things;\nDROP TABLE things;\nDROP TABLE log;\n"));
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	d = dump();
	expect_in(d, "table things\n", "dump");
	expect_in(d, "table log\n", "dump");
	expect_in(d, "  index things_by_name", "dump");
	expect_in(d, "view named_things\n", "dump");
	expect_in(d, "  trigger things_log: ", "dump");
	expect_in_ci(d, "default 0", "dump");
	if (test_driver()->dialect == SQL_DIALECT_POSTGRES)
		expect_in(d, "function log_thing()", "dump");
	free(d);
	/* and verify passes on it: the down section drops everything */
	r = CLI("down", "--all");
	expect(&r, 0, "down --all");
	run_free(&r);
	r = CLI("verify");
	expect(&r, 0, "verify");
	run_free(&r);
}
END_TEST

/*
 * CHECK constraints, column and table ones, are in the dump on every
 * database (their text as the database keeps it, without their names), and
 * 'verify' catches one a down section leaves behind.
 */
START_TEST(dump_shows_check_constraints)
{
	struct run r;
	char *d;

	mig("1_orders.sql",
	    "-- migrate:up\n"
	    "CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER CHECK (total >= 0),\n"
	    "  note VARCHAR(40) DEFAULT 'no check (here)', -- nor check (here)\n"
	    "  CONSTRAINT small CHECK (total < 1000000));\n"
	    "-- migrate:down\nDROP TABLE orders;\n");
	r = CLI("up");
	expect(&r, 0, "up");
	run_free(&r);
	d = dump();
	expect_in(d, pick("  check (total < 1000000)\n  check (total >= 0)\n",
			  "  CHECK (total < 1000000)\n  CHECK (total >= 0)\n",
			  "  check (`total` < 1000000)\n  check (`total` >= 0)\n"),
		  "dump");
	expect_not_in(d, "  check (here", "dump"); /* the words in a string and a comment are no constraint */
	free(d);
	if (test_driver()->dialect == SQL_DIALECT_SQLITE)
		return; /* no ALTER TABLE ... ADD CONSTRAINT */

	mig("2_positive.sql", "-- migrate:up\nALTER TABLE orders ADD CONSTRAINT positive CHECK (id > 0);\n"
			      "-- migrate:down\nSELECT 1;\n");
	r = CLI("verify");
	expect(&r, 1, "verify with a down section that leaves a check behind");
	expect_in(r.err, "rolling back 2 (positive) does not restore the schema", "stderr");
	expect_in_ci(r.err, "+  check (", "stderr");
	run_free(&r);
	d = xstrdup("");
	free(d);
}
END_TEST

/*
 * The same schema, built by statements in another order (tables, indexes,
 * columns, unnamed foreign keys), dumps to the same bytes.
 */
START_TEST(dump_does_not_depend_on_statement_order)
{
	struct run r;
	char *a, *b;

	mig("1_first_order.sql",
	    pick("-- migrate:up\n"
		 "CREATE TABLE parent (id INTEGER PRIMARY KEY, code TEXT UNIQUE, label TEXT);\n"
		 "CREATE TABLE child (id INTEGER PRIMARY KEY, a INTEGER REFERENCES parent (id), b TEXT REFERENCES parent (code));\n"
		 "CREATE INDEX child_a ON child (a);\nCREATE INDEX child_b ON child (b);\n"
		 "-- migrate:down\nDROP TABLE child;\nDROP TABLE parent;\n",
		 "-- migrate:up\n"
		 "CREATE TABLE parent (id integer PRIMARY KEY, code text UNIQUE, label text);\n"
		 "CREATE TABLE child (id integer PRIMARY KEY, a integer REFERENCES parent (id), b text REFERENCES parent (code));\n"
		 "CREATE INDEX child_a ON child (a);\nCREATE INDEX child_b ON child (b);\n"
		 "-- migrate:down\nDROP TABLE child;\nDROP TABLE parent;\n",
		 "-- migrate:up\n"
		 "CREATE TABLE parent (id INTEGER PRIMARY KEY, code VARCHAR(20) UNIQUE, label VARCHAR(20));\n"
		 "CREATE TABLE child (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(20),\n"
		 "  FOREIGN KEY (a) REFERENCES parent (id), FOREIGN KEY (b) REFERENCES parent (code));\n"
		 "CREATE INDEX child_a ON child (a);\nCREATE INDEX child_b ON child (b);\n"
		 "-- migrate:down\nDROP TABLE child;\nDROP TABLE parent;\n"));
	r = CLI("up");
	expect(&r, 0, "up (first order)");
	run_free(&r);
	a = dump();
	r = CLI("down", "--all");
	expect(&r, 0, "down --all");
	run_free(&r);
	unmig("1_first_order.sql");
	mig("2_second_order.sql",
	    pick("-- migrate:up\n"
		 "CREATE TABLE parent (label TEXT, code TEXT, id INTEGER, PRIMARY KEY (id), UNIQUE (code));\n"
		 "CREATE TABLE child (b TEXT, a INTEGER, id INTEGER PRIMARY KEY,\n"
		 "  FOREIGN KEY (b) REFERENCES parent (code), FOREIGN KEY (a) REFERENCES parent (id));\n"
		 "CREATE INDEX child_b ON child (b);\nCREATE INDEX child_a ON child (a);\n"
		 "-- migrate:down\nDROP TABLE child;\nDROP TABLE parent;\n",
		 "-- migrate:up\n"
		 "CREATE TABLE parent (label text, code text, id integer, PRIMARY KEY (id), UNIQUE (code));\n"
		 "CREATE TABLE child (b text, a integer, id integer PRIMARY KEY);\n"
		 "CREATE INDEX child_b ON child (b);\nCREATE INDEX child_a ON child (a);\n"
		 "ALTER TABLE child ADD FOREIGN KEY (b) REFERENCES parent (code);\n"
		 "ALTER TABLE child ADD FOREIGN KEY (a) REFERENCES parent (id);\n"
		 "-- migrate:down\nDROP TABLE child;\nDROP TABLE parent;\n",
		 "-- migrate:up\n"
		 "CREATE TABLE parent (label VARCHAR(20), code VARCHAR(20), id INTEGER, PRIMARY KEY (id), UNIQUE (code));\n"
		 "CREATE TABLE child (b VARCHAR(20), a INTEGER, id INTEGER PRIMARY KEY);\n"
		 "CREATE INDEX child_b ON child (b);\nCREATE INDEX child_a ON child (a);\n"
		 "ALTER TABLE child ADD FOREIGN KEY (b) REFERENCES parent (code);\n"
		 "ALTER TABLE child ADD FOREIGN KEY (a) REFERENCES parent (id);\n"
		 "-- migrate:down\nDROP TABLE child;\nDROP TABLE parent;\n"));
	r = CLI("up");
	expect(&r, 0, "up (second order)");
	run_free(&r);
	b = dump();
	ck_assert_msg(strcmp(a, b) == 0, "the dumps differ:\n--- first order\n%s\n--- second order\n%s", a, b);
	free(a);
	free(b);
}
END_TEST

/* ---- verify ------------------------------------------------------------------------ */

START_TEST(verify_passes_on_the_example)
{
	struct run r;
	char *v;

	copy_example(proj);
	r = CLI("verify");
	expect(&r, 0, "verify");
	expect_in(r.out, "verified ", "stdout");
	expect_in(r.out, "2 migrations", "stdout");
	run_free(&r);
	/* it leaves everything applied, as after 'up' */
	v = db_scalar("SELECT COUNT(*) FROM schema_migrations WHERE status = 'applied'");
	ck_assert_str_eq(v, "2");
	free(v);
	ck_assert_int_eq(db_table_exists("customers"), 1);
	ck_assert_int_eq(db_table_exists("addresses"), 1);
	/* with nothing pending there is nothing to check: it says so */
	r = CLI("verify");
	expect(&r, 0, "verify with nothing pending");
	expect_in(r.out, "nothing to verify", "stdout");
	run_free(&r);
}
END_TEST

START_TEST(verify_catches_a_table_a_down_section_leaves_behind)
{
	struct run r;

	copy_example(proj);
	mig("20240101000003_create_orders.sql",
	    pick("-- migrate:up\nCREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER);\n"
		 "CREATE TABLE order_lines (id INTEGER PRIMARY KEY);\n"
		 "-- migrate:down\nDROP TABLE order_lines;\n",
		 "-- migrate:up\nCREATE TABLE orders (id integer PRIMARY KEY, total integer);\n"
		 "CREATE TABLE order_lines (id integer PRIMARY KEY);\n"
		 "-- migrate:down\nDROP TABLE order_lines;\n",
		 "-- migrate:up\nCREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER);\n"
		 "CREATE TABLE order_lines (id INTEGER PRIMARY KEY);\n"
		 "-- migrate:down\nDROP TABLE order_lines;\n"));
	r = CLI("verify");
	expect(&r, 1, "verify with a down section that forgets a table");
	expect_in(r.err, "migrate: error: verify: rolling back 20240101000003 (create_orders)", "stderr");
	expect_in(r.err, "table 'orders' is there but should not be", "stderr");
	/* the unified diff of the two dumps */
	expect_in(r.err, "--- before 20240101000003 (up)\n+++ after its down section\n@@ ", "stderr");
	expect_in(r.err, "\n+table orders\n", "stderr");
	expect_not_in(r.err, "+table order_lines", "stderr");
	run_free(&r);
}
END_TEST

START_TEST(verify_catches_a_column_a_down_section_does_not_restore)
{
	struct run r;

	copy_example(proj);
	mig("20240101000003_change_customers.sql",
	    pick("-- migrate:up\nALTER TABLE customers ADD COLUMN phone VARCHAR(32);\nALTER TABLE customers DROP COLUMN age;\n"
		 "-- migrate:down\nALTER TABLE customers DROP COLUMN phone;\n",
		 "-- migrate:up\nALTER TABLE customers ADD COLUMN phone varchar(32);\nALTER TABLE customers DROP COLUMN age;\n"
		 "-- migrate:down\nALTER TABLE customers DROP COLUMN phone;\n",
		 "-- migrate:up\nALTER TABLE customers ADD COLUMN phone VARCHAR(32);\nALTER TABLE customers DROP COLUMN age;\n"
		 "-- migrate:down\nALTER TABLE customers DROP COLUMN phone;\n"));
	r = CLI("verify");
	expect(&r, 1, "verify with a down section that forgets a column");
	expect_in(r.err, "rolling back 20240101000003 (change_customers) does not restore the schema", "stderr");
	expect_in(r.err, "table 'customers': 'column age ", "stderr");
	expect_in(r.err, "' is missing", "stderr");
	expect_in(r.err, "\n-  column age ", "stderr");
	run_free(&r);
}
END_TEST

/*
 * The sentence above verify's diff comes from the same comparison as the
 * diff: it names the object the diff changes, whether that is the first,
 * a middle or the last object of the dump (tables a, b and c), and no
 * other.
 */
static void verify_names_the_object(const char *second, const char *sentence, const char *diff_line,
				    const char *const *not_named)
{
	struct run r;

	mig("1_abc.sql", "-- migrate:up\nCREATE TABLE a (id INTEGER);\nCREATE TABLE b (id INTEGER);\n"
			 "CREATE TABLE c (id INTEGER);\n"
			 "-- migrate:down\nDROP TABLE c;\nDROP TABLE b;\nDROP TABLE a;\n");
	mig("2_change.sql", second);
	r = CLI("verify");
	expect(&r, 1, "verify with a down section that does not undo its up section");
	expect_in(r.err, "verify: rolling back 2 (change) does not restore the schema it started from: ", "stderr");
	expect_in(r.err, sentence, "stderr");
	expect_in(r.err, diff_line, "stderr");
	for (; *not_named; not_named++)
		expect_not_in(r.err, *not_named, "stderr");
	run_free(&r);
}

START_TEST(verify_names_a_column_left_in_the_first_object)
{
	verify_names_the_object("-- migrate:up\nALTER TABLE a ADD COLUMN x INTEGER;\n-- migrate:down\nSELECT 1;\n",
				"the schema it started from: table 'a': 'column x ", "\n+  column x ",
				(const char *const[]){ "table 'b'", "table 'c'", "(left behind)", NULL });
}
END_TEST

START_TEST(verify_names_a_table_left_in_the_middle)
{
	verify_names_the_object("-- migrate:up\nCREATE TABLE b2 (id INTEGER);\n-- migrate:down\nSELECT 1;\n",
				"the schema it started from: table 'b2' is there but should not be (left behind)",
				"\n+table b2\n", (const char *const[]){ "table 'a'", "table 'b'", "table 'c'", NULL });
}
END_TEST

START_TEST(verify_names_a_column_replaced_in_the_middle)
{
	verify_names_the_object("-- migrate:up\nDROP TABLE b;\n-- migrate:down\nCREATE TABLE b (other INTEGER);\n",
				"the schema it started from: table 'b': 'column other ", "\n-  column id ",
				(const char *const[]){ "table 'a'", "table 'c'", NULL });
}
END_TEST

START_TEST(verify_names_a_column_left_in_the_last_object)
{
	verify_names_the_object("-- migrate:up\nALTER TABLE c ADD COLUMN x INTEGER;\n-- migrate:down\nSELECT 1;\n",
				"the schema it started from: table 'c': 'column x ", "\n+  column x ",
				(const char *const[]){ "table 'a'", "table 'b'", NULL });
}
END_TEST

START_TEST(verify_names_a_table_missing_at_the_end)
{
	verify_names_the_object("-- migrate:up\nCREATE TABLE d (id INTEGER);\n-- migrate:down\nDROP TABLE d;\nDROP TABLE c;\n",
				"the schema it started from: table 'c' is missing", "\n-table c\n",
				(const char *const[]){ "table 'a'", "table 'b'", "table 'd'", NULL });
}
END_TEST

/*
 * A 'nothing' down section is checked like any other: verify rolls it
 * back (the row goes, no statement runs) and compares the schema, so a
 * 'nothing' where there is something to undo is reported, and one where
 * there is nothing passes.
 */
START_TEST(verify_checks_a_nothing_down_section_like_any_other)
{
	struct run r;

	mig("1_one.sql", "-- migrate:up\nCREATE TABLE one (id INTEGER);\n-- migrate:down\nDROP TABLE one;\n");
	/* an index on one database only: nothing to undo elsewhere */
	mig("2_index.sql", pick("-- migrate:up\nCREATE INDEX one_by_id ON one (id);\n-- migrate:down\nDROP INDEX one_by_id;\n"
				"-- migrate:up postgres\nSELECT 1;\n-- migrate:down postgres nothing\n"
				"-- migrate:up mysql\nSELECT 1;\n-- migrate:down mysql nothing\n",
				"-- migrate:up\nSELECT 1;\n-- migrate:down nothing\n"
				"-- migrate:up postgres\nCREATE INDEX one_by_id ON one (id);\n-- migrate:down postgres\nDROP INDEX one_by_id;\n",
				"-- migrate:up\nSELECT 1;\n-- migrate:down sqlite nothing\n-- migrate:down postgres nothing\n"
				"-- migrate:up mysql\nCREATE INDEX one_by_id ON one (id);\n-- migrate:down mysql\nDROP INDEX one_by_id ON one;\n"));
	mig("3_noop.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down nothing\n");
	r = CLI("verify");
	expect(&r, 0, "verify with 'nothing' down sections that are right");
	expect_in(r.out, "3 migrations", "stdout");
	run_free(&r);
	ck_assert_int_eq(db_count("schema_migrations"), 3);

	mig("4_wrong.sql", "-- migrate:up\nCREATE TABLE kept (id INTEGER);\n-- migrate:down nothing\n");
	r = CLI("verify");
	expect(&r, 1, "verify with a 'nothing' that leaves a table behind");
	expect_in(r.err, "verify: rolling back 4 (wrong) does not restore the schema it started from: "
			 "table 'kept' is there but should not be (left behind)", "stderr");
	expect_in(r.err, "\n+table kept\n", "stderr");
	run_free(&r);
}
END_TEST

START_TEST(verify_refuses_an_irreversible_migration_and_changes_nothing)
{
	struct run r;

	copy_example(proj);
	mig("20240101000003_one_way.sql", "-- migrate:up\nCREATE TABLE one_way (id INTEGER);\n-- migrate:down\n");
	r = CLI("verify");
	expect(&r, 1, "verify with an irreversible migration");
	expect_in(r.err, "20240101000003 (one_way) is irreversible", "stderr");
	expect_in(r.err, "nothing was changed", "stderr");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("customers"), 0);
	ck_assert_int_eq(db_table_exists("one_way"), 0);
}
END_TEST

/* The configured database is unreachable: verify never touches it and works on the scratch one. */
START_TEST(verify_runs_on_a_scratch_database)
{
	const char *unreachable = pick("sqlite:///nonexistent-dir/migrate/never.db",
				       "postgres://nobody:secret@127.0.0.1:1/never",
				       "mysql://nobody:secret@127.0.0.1:1/never");
	struct run r;

	copy_example(proj);
	write_config(NULL, NULL, unreachable);
	r = CLI("up");
	expect(&r, 3, "up on the unreachable database");
	run_free(&r);
	r = CLI("verify", "--scratch-url", url);
	expect(&r, 0, "verify --scratch-url");
	expect_in(r.out, "verified ", "stdout");
	expect_not_in(r.out, "secret", "stdout");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("customers"), 1);

	/* the same from the config's verify_url (a new database: for SQLite, in another directory) */
	{
		char *sub = path_join(proj, "scratch2");
		write_file(sub, "keep", "");
		free(url);
		test_db_create(sub, &url);
		free(sub);
	}
	{
		char *line = xasprintf("verify_url = %s", url);
		write_config(NULL, line, unreachable);
		free(line);
	}
	r = CLI("verify");
	expect(&r, 0, "verify with verify_url");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("addresses"), 1);
}
END_TEST

START_TEST(verify_takes_the_lock)
{
	struct run r;
	struct driver_conn *holder = test_connect();
	struct driver_error err;

	copy_example(proj);
	ck_assert_int_eq(test_driver()->lock(holder, "schema_migrations", 0, &err), DRIVER_OK);
	r = CLI("verify", "--lock-timeout", "1");
	expect(&r, 4, "verify while locked");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("customers"), 0);
	test_driver()->unlock(holder, &err);
	test_driver()->close(holder);
}
END_TEST

/* ---- JSON ------------------------------------------------------------------------- */

START_TEST(json_documents_of_dump_and_verify)
{
	struct run r;
	json_t *doc, *diff;
	char *text;

	copy_example(proj);
	r = CLI("--format", "json", "verify");
	expect(&r, 0, "verify --format json");
	doc = expect_doc(r.out, "verify", 1);
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "checked")), 2);
	ck_assert_ptr_nonnull(strstr(jstr(doc, "database"), test_driver_name()));
	ck_assert_ptr_null(json_object_get(doc, "difference"));
	json_decref(doc);
	run_free(&r);

	text = dump();
	r = CLI("dump", "--format", "json");
	expect(&r, 0, "dump --format json");
	doc = expect_doc(r.out, "dump", 1);
	ck_assert_str_eq(jstr(doc, "schema"), text);
	ck_assert_str_eq(jstr(doc, "driver"), test_driver_name());
	ck_assert(json_is_null(json_object_get(doc, "file")));
	json_decref(doc);
	run_free(&r);
	free(text);

	r = CLI("down", "--all");
	run_free(&r);
	mig("20240101000003_create_orders.sql",
	    "-- migrate:up\nCREATE TABLE orders (id INTEGER PRIMARY KEY);\n-- migrate:down\nSELECT 1;\n");
	r = CLI("verify", "--format", "json");
	expect(&r, 1, "failing verify --format json");
	doc = expect_doc(r.out, "verify", 0);
	diff = json_object_get(doc, "difference");
	ck_assert_ptr_nonnull(diff);
	expect_in(json_string_value(json_object_get(diff, "step")), "rolling back 20240101000003", "difference.step");
	expect_in(json_string_value(json_object_get(diff, "summary")), "table 'orders'", "difference.summary");
	expect_in(json_string_value(json_object_get(diff, "diff")), "+table orders", "difference.diff");
	json_decref(doc);
	/* the error, as JSON on stderr */
	doc = parse_json(r.err, "stderr");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(doc, "error"), "code")), 1);
	expect_in(json_string_value(json_object_get(json_object_get(doc, "error"), "message")), "table 'orders'",
		  "error.message");
	json_decref(doc);
	run_free(&r);
}
END_TEST

/* Every command that reports prints one document with format_version 1, its name and ok. */
START_TEST(json_documents_of_every_reporting_command)
{
	static const char *const cmds[][3] = {
		{ "up", NULL, "up" },           { "status", NULL, "status" }, { "version", NULL, "version" },
		{ "validate", NULL, "validate" }, { "seed", NULL, "seed" },   { "redo", NULL, "redo" },
		{ "down", "--all", "down" },    { "repair", NULL, "repair" },
	};
	struct run r;
	json_t *doc, *arr;
	size_t i;

	copy_example(proj);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (cmds[i][1])
			r = CLI("--format", "json", cmds[i][0], cmds[i][1]);
		else
			r = CLI("--format", "json", cmds[i][0]);
		expect(&r, 0, cmds[i][0]);
		doc = expect_doc(r.out, cmds[i][2], 1);
		if (strcmp(cmds[i][0], "up") == 0 || strcmp(cmds[i][0], "down") == 0) {
			arr = json_object_get(doc, "migrations");
			ck_assert_int_eq(json_array_size(arr), 2);
			ck_assert_str_eq(jstr(json_array_get(arr, 0), "action"),
					 strcmp(cmds[i][0], "up") == 0 ? "applied" : "rolled_back");
			ck_assert(json_is_integer(json_object_get(json_array_get(arr, 0), "duration_ms")));
		} else if (strcmp(cmds[i][0], "seed") == 0) {
			arr = json_object_get(doc, "seeds");
			ck_assert_int_eq(json_array_size(arr), 2);
			ck_assert_str_eq(jstr(json_array_get(arr, 0), "action"), "seeded");
			ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(arr, 0), "rows")), 6);
		} else if (strcmp(cmds[i][0], "status") == 0) {
			ck_assert_str_eq(jstr(doc, "current"), "20240101000002");
			ck_assert_str_eq(jstr(doc, "driver"), test_driver_name());
			ck_assert_int_eq(json_array_size(json_object_get(doc, "migrations")), 2);
			ck_assert_int_eq(json_array_size(json_object_get(doc, "seeds")), 2);
		} else if (strcmp(cmds[i][0], "version") == 0) {
			ck_assert_str_eq(jstr(doc, "version"), "20240101000002");
		} else if (strcmp(cmds[i][0], "redo") == 0) {
			ck_assert_int_eq(json_array_size(json_object_get(doc, "migrations")), 2);
		}
		json_decref(doc);
		ck_assert_msg(r.err[0] == '\0' || r.err[0] == '{', "%s: stderr is not JSON: %s", cmds[i][0], r.err);
		run_free(&r);
	}
	/* after down --all: version is null, status --check fails with a document */
	r = CLI("--format", "json", "version");
	doc = expect_doc(r.out, "version", 1);
	ck_assert(json_is_null(json_object_get(doc, "version")));
	json_decref(doc);
	run_free(&r);
	r = CLI("--format", "json", "status", "--check");
	expect(&r, 1, "status --check with pending migrations");
	doc = expect_doc(r.out, "status", 0);
	json_decref(doc);
	run_free(&r);
	r = CLI("up");
	run_free(&r);
	r = CLI("status", "--check");
	expect(&r, 0, "status --check with everything applied");
	run_free(&r);
	/* commands with nothing to list report too */
	r = CLI("--format", "json", "drivers");
	expect(&r, 0, "drivers");
	doc = expect_doc(r.out, "drivers", 1);
	ck_assert_int_ge(json_array_size(json_object_get(doc, "drivers")), 1);
	json_decref(doc);
	run_free(&r);
	r = CLI("--format", "json", "new", "add_things");
	expect(&r, 0, "new");
	doc = expect_doc(r.out, "new", 1);
	expect_in(jstr(doc, "path"), "_add_things.sql", "path");
	json_decref(doc);
	run_free(&r);
	/* errors are JSON on stderr: a usage error and a failed validation */
	r = CLI("--format", "json", "down", "--bogus");
	expect(&r, 2, "usage error");
	doc = parse_json(r.err, "usage error on stderr");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(doc, "error"), "code")), 2);
	json_decref(doc);
	run_free(&r);
	unmig("20240101000002_create_addresses.sql");
	r = CLI("--format", "json", "validate");
	expect(&r, 1, "validate with a missing file");
	doc = expect_doc(r.out, "validate", 0);
	json_decref(doc);
	doc = parse_json(r.err, "validate error on stderr");
	expect_in(json_string_value(json_object_get(json_object_get(doc, "error"), "message")), "20240101000002",
		  "error.message");
	json_decref(doc);
	run_free(&r);
}
END_TEST

Suite *dump_suite(void)
{
	Suite *s = suite_create("dump");
	TCase *tc = tcase_create("dump");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, dump_shows_the_example_and_leaves_out_the_tracking_tables);
	tcase_add_test(tc, dump_leaves_out_renamed_tracking_tables_and_writes_files);
	tcase_add_test(tc, dump_shows_indexes_views_and_triggers);
	tcase_add_test(tc, dump_does_not_depend_on_statement_order);
	tcase_add_test(tc, dump_shows_check_constraints);
	tcase_add_test(tc, verify_passes_on_the_example);
	tcase_add_test(tc, verify_catches_a_table_a_down_section_leaves_behind);
	tcase_add_test(tc, verify_catches_a_column_a_down_section_does_not_restore);
	tcase_add_test(tc, verify_names_a_column_left_in_the_first_object);
	tcase_add_test(tc, verify_names_a_table_left_in_the_middle);
	tcase_add_test(tc, verify_names_a_column_replaced_in_the_middle);
	tcase_add_test(tc, verify_names_a_column_left_in_the_last_object);
	tcase_add_test(tc, verify_names_a_table_missing_at_the_end);
	tcase_add_test(tc, verify_checks_a_nothing_down_section_like_any_other);
	tcase_add_test(tc, verify_refuses_an_irreversible_migration_and_changes_nothing);
	tcase_add_test(tc, verify_runs_on_a_scratch_database);
	tcase_add_test(tc, verify_takes_the_lock);
	tcase_add_test(tc, json_documents_of_dump_and_verify);
	tcase_add_test(tc, json_documents_of_every_reporting_command);
	suite_add_tcase(s, tc);
	return s;
}
