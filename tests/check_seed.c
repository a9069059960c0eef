/*
 * check_seed.c - seeds: the CSV reader and placeholders (unit), and CSV
 * seeds, undo, rerun and placeholders end to end on the driver under test.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../migrate/csvread.h"
#include "../migrate/placeholder.h"
#include "../migrate/util.h"
#include "testutil.h"

/* ---- unit: the CSV reader ------------------------------------------------------ */

struct rows {
	struct strbuf text; /* "L<line>:[f1][NULL]...\n" per record */
	int stop_at;        /* stop after this many records (0: never) */
	int n;
};

static int collect(void *ctx, long line, size_t n, char *const *f, const size_t *lens)
{
	struct rows *r = ctx;
	size_t i;

	strbuf_addf(&r->text, "L%ld:", line);
	for (i = 0; i < n; i++) {
		if (f[i])
			strbuf_addf(&r->text, "[%.*s]", (int)lens[i], f[i]);
		else
			strbuf_addstr(&r->text, "NULL");
	}
	strbuf_addch(&r->text, '\n');
	return ++r->n == r->stop_at ? 7 : 0;
}

/* Reads text as a CSV file; returns csvread_file's result, records in *out, message in msg. */
static int read_csv(const char *text, char **out, long *line, char *msg, size_t msglen)
{
	char *dir = tmpdir_new(), *path = path_join(dir, "x.csv");
	struct rows r = { STRBUF_INIT, 0, 0 };
	int res;

	write_file(dir, "x.csv", text);
	res = csvread_file(path, collect, NULL, &r, line, msg, msglen);
	*out = strbuf_detach(&r.text);
	rm_rf(dir);
	free(dir);
	free(path);
	return res;
}

START_TEST(csv_follows_postgres_rules)
{
	char *out, msg[256];
	long line;

	ck_assert_int_eq(read_csv("\xef\xbb\xbf" "a,b,c\n1,,\"\"\n\"x\ny\",\"q\"\"q\", sp \n\n3,\"a,b\",\r\n4,5,6",
				  &out, &line, msg, sizeof(msg)), 0);
	ck_assert_str_eq(out, "L1:[a][b][c]\n"
			      "L2:[1]NULL[]\n"
			      "L3:[x\ny][q\"q][ sp ]\n"
			      "L6:[3][a,b]NULL\n"
			      "L7:[4][5][6]\n");
	free(out);
}
END_TEST

START_TEST(csv_errors_name_the_line)
{
	char *out, msg[256];
	long line;

	/* a quote inside an unquoted field */
	ck_assert_int_eq(read_csv("a,b\n1,2\n3,x\"y\n", &out, &line, msg, sizeof(msg)), -1);
	ck_assert_int_eq(line, 3);
	ck_assert_msg(strstr(msg, "line 3: malformed CSV"), "%s", msg);
	free(out);
	/* text after a closing quote */
	ck_assert_int_eq(read_csv("a,b\n\"1\"2,3\n", &out, &line, msg, sizeof(msg)), -1);
	ck_assert_int_eq(line, 2);
	free(out);
	/* a quote never closed: the line where the field starts */
	ck_assert_int_eq(read_csv("a,b\n1,2\n3,\"open\nmore\nmore\n", &out, &line, msg, sizeof(msg)), -1);
	ck_assert_int_eq(line, 3);
	ck_assert_msg(strstr(msg, "never closed"), "%s", msg);
	free(out);
	/* not UTF-8 */
	ck_assert_int_eq(read_csv("a\n\xff\xfe\n", &out, &line, msg, sizeof(msg)), -1);
	ck_assert_int_eq(line, 2);
	ck_assert_msg(strstr(msg, "UTF-8"), "%s", msg);
	free(out);
	/* a multi-line record that ends well keeps the lines after it right */
	ck_assert_int_eq(read_csv("a,b\n\"1\n2\n3\",x\n4,y\"\n", &out, &line, msg, sizeof(msg)), -1);
	ck_assert_int_eq(line, 5);
	free(out);
}
END_TEST

START_TEST(csv_row_callback_stops_the_read)
{
	char *dir = tmpdir_new(), *path = path_join(dir, "x.csv");
	struct rows r = { STRBUF_INIT, 2, 0 };
	char msg[128];
	long line;

	write_file(dir, "x.csv", "a\n1\n2\n3\n");
	ck_assert_int_eq(csvread_file(path, collect, NULL, &r, &line, msg, sizeof(msg)), 7);
	ck_assert_int_eq(r.n, 2);
	strbuf_release(&r.text);
	ck_assert_int_eq(csvread_file("/nonexistent/x.csv", collect, NULL, &r, &line, msg, sizeof(msg)), -1);
	rm_rf(dir);
	free(dir);
	free(path);
}
END_TEST

START_TEST(utf8_validation)
{
	ck_assert(csvread_utf8_valid("plain", 5));
	ck_assert(csvread_utf8_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9));
	ck_assert(!csvread_utf8_valid("\xc0\xaf", 2));         /* overlong */
	ck_assert(!csvread_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
	ck_assert(!csvread_utf8_valid("\xe2\x82", 2));         /* cut short */
}
END_TEST

/* ---- unit: placeholders ------------------------------------------------------------ */

static char ph_owner[] = "owner", ph_unset[] = "unset", ph_app[] = "app";
static char *const ph_names[] = { ph_owner, ph_unset };
static char *const ph_values[] = { ph_app, NULL };

static struct placeholders ph_new(int version)
{
	struct placeholders ph;

	memset(&ph, 0, sizeof(ph));
	ph.env = "test";
	ph.driver = "sqlite";
	ph.names = ph_names;
	ph.values = ph_values;
	ph.n = 2;
	ph.uuid_version = version;
	return ph;
}

static char *expand(struct placeholders *ph, const char *s, int *errline, char *msg)
{
	return placeholder_expand(ph, s, strlen(s), NULL, 10, errline, msg, 256);
}

START_TEST(placeholders_expand)
{
	struct placeholders ph = ph_new(1);
	char msg[256], *a, *b;
	int line;

	a = expand(&ph, "GRANT x TO ${owner} -- ${env} on ${driver}; $${literal} $x $", &line, msg);
	ck_assert_str_eq(a, "GRANT x TO app -- test on sqlite; ${literal} $x $");
	free(a);
	/* names from the config are case-insensitive, as config keys are */
	a = expand(&ph, "${OWNER}", &line, msg);
	ck_assert_str_eq(a, "app");
	free(a);
	/* one UUID per key per run, at every use */
	a = expand(&ph, "${uuid:a},${uuid:b},${uuid:a}", &line, msg);
	b = expand(&ph, "${uuid:a}", &line, msg);
	ck_assert_int_eq(strlen(a), 36 * 3 + 2);
	ck_assert(strncmp(a, a + 74, 36) == 0);
	ck_assert(strncmp(a, a + 37, 36) != 0);
	ck_assert(strncmp(a, b, 36) == 0);
	ck_assert_int_eq(a[14], '1');
	free(a);
	free(b);
	placeholders_release(&ph);
}
END_TEST

START_TEST(placeholders_errors_name_the_line)
{
	struct placeholders ph = ph_new(1);
	char msg[256];
	int line = 0;

	ck_assert_ptr_null(expand(&ph, "SELECT 1;\n-- x\nSELECT '${nope}'", &line, msg));
	ck_assert_int_eq(line, 12);
	ck_assert_msg(strstr(msg, "unknown placeholder '${nope}'"), "%s", msg);
	ck_assert_ptr_null(expand(&ph, "a ${owner", &line, msg));
	ck_assert_int_eq(line, 10);
	ck_assert_msg(strstr(msg, "closing"), "%s", msg);
	ck_assert_ptr_null(expand(&ph, "\n${unset}", &line, msg));
	ck_assert_int_eq(line, 11);
	ck_assert_msg(strstr(msg, "unset environment variable"), "%s", msg);
	ck_assert(placeholder_any("x${", 3));
	ck_assert(!placeholder_any("x$ {", 4));
	placeholders_release(&ph);
}
END_TEST

START_TEST(uuid_versions)
{
	struct placeholders v4 = ph_new(4), v7 = ph_new(7);
	char a[37], b[37];
	int i;

	placeholder_new_uuid(&v4, a);
	ck_assert_int_eq(a[14], '4');
	ck_assert(strchr("89ab", a[19]));
	placeholder_new_uuid(&v7, a);
	ck_assert_int_eq(a[14], '7');
	ck_assert(strchr("89ab", a[19]));
	/* v7 made in one run sort in the order made */
	for (i = 0; i < 1000; i++) {
		placeholder_new_uuid(&v7, b);
		ck_assert_msg(strcmp(a, b) < 0, "%s then %s", a, b);
		memcpy(a, b, 37);
	}
}
END_TEST

Suite *seed_unit_suite(void)
{
	Suite *s = suite_create("seed-unit");
	TCase *tc = tcase_create("csv-and-placeholders");

	tcase_add_test(tc, csv_follows_postgres_rules);
	tcase_add_test(tc, csv_errors_name_the_line);
	tcase_add_test(tc, csv_row_callback_stops_the_read);
	tcase_add_test(tc, utf8_validation);
	tcase_add_test(tc, placeholders_expand);
	tcase_add_test(tc, placeholders_errors_name_the_line);
	tcase_add_test(tc, uuid_versions);
	suite_add_tcase(s, tc);
	return s;
}

/* ---- end to end, on the driver under test ------------------------------------------ */

static char *proj;
static char *url;

static void setup(void)
{
	project_new(&proj, &url);
	project_config(proj, url, 10, "\n[placeholders]\ncity = Paris\n", NULL);
}

static void teardown(void)
{
	project_free(&proj, &url);
}

#define CLI(...) run_migrate(proj, NULL, (const char *const[]){ __VA_ARGS__, NULL })

static void run_ok(const char *what, const char *const *argv)
{
	struct run r = run_migrate(proj, NULL, argv);

	expect(&r, 0, what);
	run_free(&r);
}

/* things: a key in the CSV; gen: a key the database makes */
static void make_tables(void)
{
	char *text = xasprintf(
		"-- migrate:up\n"
		"CREATE TABLE things (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(50), note VARCHAR(200),"
		" qty INTEGER NOT NULL CHECK (qty >= 0));\n"
		"CREATE TABLE gen (%s, label VARCHAR(50) NOT NULL);\n"
		"-- migrate:down\nDROP TABLE gen;\nDROP TABLE things;\n",
		pick("id INTEGER PRIMARY KEY AUTOINCREMENT", "id serial PRIMARY KEY",
		     "id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY"));

	write_file(proj, "migrations/1_tables.sql", text);
	free(text);
	run_ok("up", (const char *const[]){ "up", NULL });
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

START_TEST(csv_loads_hostile_values_exactly)
{
	struct run r;

	make_tables();
	write_file(proj, "seeds/01_things.csv",
		   "id,name,note,qty\n"
		   "1,plain,,3\n"
		   "2,\"comma, inside\",\"two\nlines\",4\n"
		   "3,\"\",\"say \"\"hi\"\"\",5\n"
		   "4,  spaces  ,\"tab\there \\ back\",0\n"
		   "5,caf\xc3\xa9,${city} in ${env},6\n");
	r = CLI("seed");
	expect(&r, 0, "seed");
	expect_in(r.out, "seeded      01_things.csv (5 rows", "stdout");
	run_free(&r);
	expect_value("SELECT COUNT(*) FROM things", "5");
	expect_value("SELECT COUNT(*) FROM things WHERE note IS NULL", "1");
	expect_value("SELECT id FROM things WHERE note IS NULL", "1");
	expect_value("SELECT name FROM things WHERE id = 2", "comma, inside");
	expect_value("SELECT note FROM things WHERE id = 2", "two\nlines");
	expect_value("SELECT COUNT(*) FROM things WHERE id = 3 AND name = '' AND name IS NOT NULL", "1");
	expect_value("SELECT note FROM things WHERE id = 3", "say \"hi\"");
	expect_value("SELECT name FROM things WHERE id = 4", "  spaces  ");
	expect_value("SELECT note FROM things WHERE id = 4", "tab\there \\ back");
	expect_value("SELECT name FROM things WHERE id = 5", "caf\xc3\xa9");
	expect_value("SELECT note FROM things WHERE id = 5", "Paris in development");
	expect_value("SELECT COUNT(*) FROM schema_seeds WHERE name = '01_things.csv'", "1");
}
END_TEST

/* Each bad file fails whole, names file:line, and leaves the table and the seeds table as they were. */
static void expect_bad(const char *csv, int status, const char *where, const char *what)
{
	struct run r;

	write_file(proj, "seeds/01_things.csv", csv);
	r = CLI("seed");
	expect(&r, status, where);
	expect_in(r.err, where, "stderr");
	if (what)
		expect_in(r.err, what, "stderr");
	run_free(&r);
	expect_value("SELECT COUNT(*) FROM things", "1");
	expect_value("SELECT name FROM things WHERE id = 100", "before");
	expect_value("SELECT COUNT(*) FROM schema_seeds", "0");
}

START_TEST(bad_csv_fails_whole_with_file_and_line)
{
	struct driver_conn *c;
	struct driver_error err;
	const char *pre = "INSERT INTO things (id, name, qty) VALUES (100, 'before', 1)";

	make_tables();
	c = test_connect();
	ck_assert_int_eq(test_driver()->exec(c, pre, strlen(pre), NULL, &err), DRIVER_OK);
	test_driver()->close(c);

	expect_bad("id,name,note,qty\n1,a,,1\n2,b\n3,c,,1\n", 1, "seeds/01_things.csv:3:", "2 fields");
	expect_bad("id,name,note,qty\n1,a,,1\n2,\"b\n\",,1\n3,c\"d,,1\n", 1, "seeds/01_things.csv:5:", "malformed CSV");
	expect_bad("id,name,note,qty\n1,a,,1\n2,\"never closed,,1\n3,c,,1\n", 1, "seeds/01_things.csv:3:", "never closed");
	/* values the database rejects, found in the middle of the stream: a CHECK, a NOT NULL, a type, a key */
	expect_bad("id,name,note,qty\n1,a,,1\n2,\"b\nb\",,1\n3,c,,-1\n4,d,,1\n", 1, "seeds/01_things.csv:5:", NULL);
	expect_bad("id,name,note,qty\n1,a,,1\n2,b,,\n", 1, "seeds/01_things.csv:3:", NULL);
	if (test_driver()->dialect != SQL_DIALECT_SQLITE) /* SQLite's type affinity stores 'lots' as text */
		expect_bad("id,name,note,qty\n1,a,,1\n2,b,,lots\n", 1, "seeds/01_things.csv:3:", NULL);
	expect_bad("id,name,note,qty\n1,a,,1\n1,again,,1\n", 1, "seeds/01_things.csv:3:", NULL);
	expect_bad("id,name,nope,qty\n1,a,,1\n", 1, "seeds/01_things.csv", NULL);
	/* an unknown placeholder is a usage error, found before anything runs */
	expect_bad("id,name,note,qty\n1,a,,1\n2,b,${nope},1\n", 2, "seeds/01_things.csv:3:", "unknown placeholder");
}
END_TEST

START_TEST(a_large_batch_failure_names_the_row)
{
	struct strbuf sb = STRBUF_INIT;
	struct run r;
	int i;

	/* past any driver's batch or block size, with a bad row deep inside */
	make_tables();
	strbuf_addstr(&sb, "id,name,note,qty\n");
	for (i = 1; i <= 5000; i++)
		strbuf_addf(&sb, "%d,n%d,,%d\n", i, i, i == 3777 ? -5 : i);
	write_file(proj, "seeds/01_things.csv", sb.buf);
	strbuf_release(&sb);
	r = CLI("seed");
	expect(&r, 1, "seed");
	expect_in(r.err, "seeds/01_things.csv:3778:", "stderr");
	run_free(&r);
	expect_value("SELECT COUNT(*) FROM things", "0");
}
END_TEST

/*
 * Several megabytes: past every driver's batch, block and chunk (MySQL's
 * LOAD DATA chunks of 1 MiB go through a second thread), so generated keys
 * must come back right across chunks and a bad row late in the file must
 * still be named exactly and leave nothing behind.
 */
START_TEST(a_multi_megabyte_load_keeps_keys_and_names_a_late_bad_row)
{
	const char *pre = "INSERT INTO gen (label) VALUES ('before')";
	const char *post = "INSERT INTO gen (label) VALUES ('after')";
	struct strbuf sb = STRBUF_INIT;
	struct driver_conn *c;
	struct driver_error err;
	struct run r;
	int i;

	make_tables();
	c = test_connect();
	ck_assert_int_eq(test_driver()->exec(c, pre, strlen(pre), NULL, &err), DRIVER_OK);
	strbuf_addstr(&sb, "label\n");
	for (i = 1; i <= 70000; i++)
		strbuf_addf(&sb, "label %d padded to forty bytes or so........\n", i);
	write_file(proj, "seeds/01_gen.csv", sb.buf);
	strbuf_release(&sb);
	r = CLI("seed");
	expect(&r, 0, "seed");
	expect_in(r.out, "seeded      01_gen.csv (70000 rows", "stdout");
	run_free(&r);
	ck_assert_int_eq(test_driver()->exec(c, post, strlen(post), NULL, &err), DRIVER_OK);
	expect_value("SELECT COUNT(*) FROM gen", "70002");
	expect_value("SELECT COUNT(DISTINCT label) FROM gen", "70002");
	r = CLI("seed", "--undo");
	expect(&r, 0, "undo");
	run_free(&r);
	expect_value("SELECT COUNT(*) FROM gen", "2");
	expect_value("SELECT COUNT(*) FROM gen WHERE label IN ('before', 'after')", "2");
	test_driver()->close(c);

	/* the bad row in the third megabyte */
	write_file(proj, "seeds/01_gen.csv", "label\nx\n");
	strbuf_addstr(&sb, "id,name,note,qty\n");
	for (i = 1; i <= 90000; i++) {
		if (i == 88888) /* SQLite's type affinity takes text: there a CHECK fails */
			strbuf_addf(&sb, "%d,name %d,a note,%s\n", i, i, pick("-1", "lots", "lots"));
		else
			strbuf_addf(&sb, "%d,name %d,a note that makes the row longer,%d\n", i, i, i);
	}
	write_file(proj, "seeds/02_things.csv", sb.buf);
	strbuf_release(&sb);
	r = CLI("seed");
	expect(&r, 1, "seed");
	expect_in(r.err, "seeds/02_things.csv:88889:", "stderr");
	/* the file's line, and no "at row 1" of the statement that found it (MySQL) */
	ck_assert_msg(strstr(r.err, "at row 1 ") == NULL, "stderr names row 1:\n%s", r.err);
	run_free(&r);
	expect_value("SELECT COUNT(*) FROM things", "0");
	expect_value("SELECT COUNT(*) FROM schema_seeds WHERE name = '02_things.csv'", "0");
}
END_TEST

/*
 * MySQL loads by LOAD DATA LOCAL INFILE where the server allows it, and by
 * prepared INSERTs where it does not or the options say local_infile=0:
 * the same bytes either way, and bad rows named the same way.
 */
static void load_hostile(const char *how)
{
	struct run r;

	write_file(proj, "seeds/01_things.csv",
		   "id,name,note,qty\n"
		   "1,plain,,3\n"
		   "2,\"tab\there, back\\slash \\N\",\"two\r\nlines\",4\n"
		   "3,\"\",\\N,5\n");
	r = CLI("seed");
	expect(&r, 0, how);
	run_free(&r);
	expect_value("SELECT COUNT(*) FROM things WHERE note IS NULL", "1");
	expect_value("SELECT name FROM things WHERE id = 2", "tab\there, back\\slash \\N");
	expect_value("SELECT note FROM things WHERE id = 2", "two\r\nlines");
	expect_value("SELECT COUNT(*) FROM things WHERE id = 3 AND name = ''", "1");
	expect_value("SELECT note FROM things WHERE id = 3", "\\N");
	r = CLI("seed", "--undo");
	expect(&r, 0, how);
	run_free(&r);

	write_file(proj, "seeds/01_things.csv", "id,name,note,qty\n1,a,,1\n2,b,,1\n2,again,,1\n");
	r = CLI("seed");
	expect(&r, 1, how);
	expect_in(r.err, "seeds/01_things.csv:4: Duplicate entry '2'", "stderr");
	run_free(&r);
	expect_value("SELECT COUNT(*) FROM things", "0");
}

START_TEST(mysql_loads_the_same_with_and_without_local_infile)
{
	struct driver_conn *c;
	struct driver_error err;
	const char *off = "SET GLOBAL local_infile = 0", *on = "SET GLOBAL local_infile = 1";

	make_tables();
	load_hostile("LOAD DATA LOCAL INFILE");

	project_config(proj, url, 10, "\n[placeholders]\ncity = Paris\n", "options = local_infile=0\n");
	load_hostile("options local_infile=0");

	project_config(proj, url, 10, "\n[placeholders]\ncity = Paris\n", NULL);
	c = test_connect();
	ck_assert_int_eq(test_driver()->exec(c, off, strlen(off), NULL, &err), DRIVER_OK);
	load_hostile("the server's local_infile OFF");
	ck_assert_int_eq(test_driver()->exec(c, on, strlen(on), NULL, &err), DRIVER_OK);
	test_driver()->close(c);
}
END_TEST

/*
 * A server outside strict mode stores 'lots' in an integer column as 0,
 * with a warning (and LOAD DATA LOCAL does so in strict mode too): a seed
 * fails on it all the same, on both paths, naming the row.
 */
START_TEST(mysql_fails_on_values_a_lax_server_would_mangle)
{
	const char *config = "\n[placeholders]\ncity = Paris\n";
	struct strbuf sb = STRBUF_INIT;
	struct run r[3];
	struct driver_conn *c;
	struct driver_error err;
	const char *set = "SET GLOBAL sql_mode = ''";
	char *mode, *reset;
	int i;

	make_tables();
	c = test_connect();
	mode = test_scalar(c, "SELECT @@GLOBAL.sql_mode");
	reset = xasprintf("SET GLOBAL sql_mode = '%s'", mode);
	ck_assert_int_eq(test_driver()->exec(c, set, strlen(set), NULL, &err), DRIVER_OK);

	write_file(proj, "seeds/01_things.csv", "id,name,note,qty\n1,a,,1\n2,b,,lots\n3,c,,3\n");
	r[0] = CLI("seed");
	project_config(proj, url, 10, config, "options = local_infile=0\n");
	r[1] = CLI("seed");
	/* the warning of a multi-row INSERT names the row inside the batch */
	strbuf_addstr(&sb, "id,name,note,qty\n");
	for (i = 1; i <= 2000; i++)
		strbuf_addf(&sb, i == 1500 ? "%d,n,,lots\n" : "%d,n,,%d\n", i, i);
	write_file(proj, "seeds/01_things.csv", sb.buf);
	strbuf_release(&sb);
	r[2] = CLI("seed");

	ck_assert_int_eq(test_driver()->exec(c, reset, strlen(reset), NULL, &err), DRIVER_OK);
	test_driver()->close(c);
	free(reset);
	free(mode);
	for (i = 0; i < 3; i++) {
		expect(&r[i], 1, i == 0 ? "LOAD DATA" : "INSERT");
		expect_in(r[i].err, i < 2 ? "seeds/01_things.csv:3: " : "seeds/01_things.csv:1501: ", "stderr");
		expect_in(r[i].err, "'lots'", "stderr");
		expect_in(r[i].err, "(warning 1366)", "stderr");
		run_free(&r[i]);
	}
	expect_value("SELECT COUNT(*) FROM things", "0");
	expect_value("SELECT COUNT(*) FROM schema_seeds", "0");
}
END_TEST

START_TEST(undo_deletes_exactly_the_rows_it_inserted)
{
	struct driver_conn *c;
	struct driver_error err;
	const char *pre[] = {
		"INSERT INTO things (id, name, qty) VALUES (100, 'other', 1)",
		"INSERT INTO gen (label) VALUES ('before')",
	};
	const char *post = "INSERT INTO gen (label) VALUES ('after')";
	struct run r;
	size_t i;

	make_tables();
	c = test_connect();
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(test_driver()->exec(c, pre[i], strlen(pre[i]), NULL, &err), DRIVER_OK);
	write_file(proj, "seeds/01_things.csv", "id,name,note,qty\n1,a,,1\n2,b,,1\n3,c,,1\n7,g,,1\n50,x,,1\n");
	write_file(proj, "seeds/02_gen.csv", "label\nx\ny\nz\n");
	write_file(proj, "seeds/03_more.sql",
		   "-- migrate:up\nINSERT INTO things (id, name, qty) VALUES (60, '${uuid:k}', 1);\n"
		   "-- migrate:down\nDELETE FROM things WHERE name = '${uuid:k}';\n");
	run_ok("seed", (const char *const[]){ "seed", NULL });
	ck_assert_int_eq(test_driver()->exec(c, post, strlen(post), NULL, &err), DRIVER_OK);
	test_driver()->close(c);
	expect_value("SELECT COUNT(*) FROM things", "7");
	expect_value("SELECT COUNT(*) FROM gen", "5");

	/* the last one first: the SQL seed, with the UUID of the run that applied it */
	r = CLI("seed", "--undo");
	expect(&r, 0, "undo");
	expect_in(r.out, "03_more.sql", "stdout");
	run_free(&r);
	expect_value("SELECT COUNT(*) FROM things", "6");
	expect_value("SELECT COUNT(*) FROM schema_seeds", "2");

	r = CLI("seed", "--undo", "2");
	expect(&r, 0, "undo 2");
	run_free(&r);
	expect_value("SELECT COUNT(*) FROM things", "1");
	expect_value("SELECT name FROM things", "other");
	expect_value("SELECT COUNT(*) FROM gen", "2");
	expect_value("SELECT COUNT(*) FROM gen WHERE label IN ('before', 'after')", "2");
	expect_value("SELECT COUNT(*) FROM schema_seeds", "0");
	expect_value("SELECT COUNT(*) FROM schema_seeds_undo", "0");

	/* and again: everything applies, --undo-all takes it all back */
	run_ok("seed", (const char *const[]){ "seed", NULL });
	expect_value("SELECT COUNT(*) FROM things", "7");
	r = CLI("seed", "--undo-all");
	expect(&r, 0, "undo-all");
	run_free(&r);
	expect_value("SELECT COUNT(*) FROM things", "1");
	expect_value("SELECT COUNT(*) FROM gen", "2");
	r = CLI("seed", "--undo");
	expect(&r, 0, "undo with nothing applied");
	expect_in(r.out, "nothing to undo", "stdout");
	run_free(&r);
}
END_TEST

/* A seed's '-- migrate:down nothing': undoing it forgets it and runs nothing; an empty down is refused. */
START_TEST(undo_of_a_nothing_down_section_forgets_the_seed)
{
	struct run r;

	make_tables();
	write_file(proj, "seeds/01_things.sql",
		   "-- migrate:up\nINSERT INTO things (id, name, qty) VALUES (1, 'kept', 1);\n-- migrate:down\n");
	write_file(proj, "seeds/02_touch.sql",
		   "-- migrate:up\nUPDATE things SET qty = 2 WHERE id = 1;\n-- migrate:down nothing\n");
	run_ok("seed", (const char *const[]){ "seed", NULL });
	r = CLI("seed", "--undo");
	expect(&r, 0, "undo of a 'nothing' seed");
	expect_in(r.out, "02_touch.sql", "stdout");
	run_free(&r);
	expect_value("SELECT COUNT(*) FROM schema_seeds", "1");
	expect_value("SELECT qty FROM things WHERE id = 1", "2");
	r = CLI("seed", "--undo");
	expect(&r, 1, "undo of a seed with an empty down section");
	expect_in(r.err, "cannot be undone", "stderr");
	run_free(&r);
	expect_value("SELECT COUNT(*) FROM schema_seeds", "1");
	expect_value("SELECT COUNT(*) FROM things", "1");
}
END_TEST

START_TEST(undo_by_text_keys_leaves_similar_keys_alone)
{
	struct driver_conn *c;
	struct driver_error err;
	const char *other = "INSERT INTO codes (code, label) VALUES ('10', 'other')";

	/* '1' .. '3' as text: a range would take '10' with them */
	write_file(proj, "migrations/1_codes.sql",
		   "-- migrate:up\nCREATE TABLE codes (code VARCHAR(10) NOT NULL PRIMARY KEY, label VARCHAR(20));\n"
		   "-- migrate:down\nDROP TABLE codes;\n");
	run_ok("up", (const char *const[]){ "up", NULL });
	write_file(proj, "seeds/1_codes.csv", "code,label\n1,a\n2,b\n3,c\n");
	run_ok("seed", (const char *const[]){ "seed", NULL });
	c = test_connect();
	ck_assert_int_eq(test_driver()->exec(c, other, strlen(other), NULL, &err), DRIVER_OK);
	test_driver()->close(c);
	run_ok("undo", (const char *const[]){ "seed", "--undo", NULL });
	expect_value("SELECT COUNT(*) FROM codes", "1");
	expect_value("SELECT label FROM codes", "other");
}
END_TEST

START_TEST(rerun_reapplies_changed_seeds)
{
	struct run r;

	make_tables();
	write_file(proj, "seeds/01_things.csv", "id,name,note,qty\n1,a,,1\n2,b,,1\n");
	write_file(proj, "seeds/02_gen.csv", "label\nx\n");
	run_ok("seed", (const char *const[]){ "seed", NULL });
	write_file(proj, "seeds/01_things.csv", "id,name,note,qty\n2,b2,,1\n3,c,,1\n4,d,,1\n");
	r = CLI("seed");
	expect(&r, 0, "seed with a changed file");
	expect_in(r.err, "changed since it was applied", "stderr");
	run_free(&r);
	expect_value("SELECT COUNT(*) FROM things", "2");
	r = CLI("seed", "--rerun");
	expect(&r, 0, "rerun");
	expect_in(r.out, "rolled back", "stdout");
	expect_in(r.out, "seeded      01_things.csv (3 rows", "stdout");
	run_free(&r);
	expect_value("SELECT COUNT(*) FROM things", "3");
	expect_value("SELECT name FROM things WHERE id = 2", "b2");
	expect_value("SELECT COUNT(*) FROM gen", "1");
	r = CLI("status");
	expect(&r, 0, "status");
	expect_in(r.out, "applied  01_things.csv", "stdout");
	run_free(&r);
}
END_TEST

START_TEST(placeholders_link_rows_across_files)
{
	struct run r;

	write_file(proj, "migrations/1_t.sql",
		   "-- migrate:up\nCREATE TABLE p (k CHAR(36) NOT NULL PRIMARY KEY, who VARCHAR(20), drv VARCHAR(20));\n"
		   "CREATE TABLE q (id INTEGER NOT NULL PRIMARY KEY, pk CHAR(36) NOT NULL REFERENCES p (k));\n"
		   "-- migrate:down\nDROP TABLE q;\nDROP TABLE p;\n");
	write_file(proj, "seeds/1_p.sql",
		   "INSERT INTO p VALUES ('${uuid:alice}', '${city}', '${driver}');\n"
		   "INSERT INTO p VALUES ('${uuid:bob}', '$${literal}', '${env}');\n");
	write_file(proj, "seeds/2_q.csv", "id,pk\n1,${uuid:alice}\n2,${uuid:bob}\n3,${uuid:alice}\n");
	r = CLI("--dry-run", "seed");
	expect(&r, 0, "dry run");
	expect_in(r.out, "'Paris'", "stdout");
	expect_in(r.out, "-- load 3 rows of", "stdout");
	run_free(&r);
	run_ok("up", (const char *const[]){ "up", NULL });
	run_ok("seed", (const char *const[]){ "seed", NULL });
	expect_value("SELECT COUNT(*) FROM q JOIN p ON p.k = q.pk", "3");
	expect_value("SELECT COUNT(DISTINCT pk) FROM q", "2");
	expect_value("SELECT who FROM p WHERE drv = 'development'", "${literal}");
	{
		char sql[128];
		snprintf(sql, sizeof(sql), "SELECT who FROM p WHERE drv = '%s'", test_driver_name());
		expect_value(sql, "Paris");
	}
}
END_TEST

START_TEST(unknown_placeholder_exits_2_before_anything_runs)
{
	struct run r;

	write_file(proj, "migrations/1_t.sql", "-- migrate:up\nCREATE TABLE t (a VARCHAR(20));\n-- migrate:down\nDROP TABLE t;\n");
	write_file(proj, "migrations/2_u.sql", "-- migrate:up\nINSERT INTO t VALUES ('x');\n\nINSERT INTO t VALUES ('${who}');\n");
	r = CLI("up");
	expect(&r, 2, "up");
	expect_in(r.err, "migrations/2_u.sql:4: unknown placeholder '${who}'", "stderr");
	run_free(&r);
	ck_assert_int_eq(db_table_exists("t"), 0);

	write_file(proj, "migrations/2_u.sql", "-- migrate:up\nINSERT INTO t VALUES ('x');\n");
	run_ok("up", (const char *const[]){ "up", NULL });
	write_file(proj, "seeds/1_a.sql", "INSERT INTO t VALUES ('a');\n");
	write_file(proj, "seeds/2_b.sql", "INSERT INTO t VALUES ('b');\n-- ok\nINSERT INTO t VALUES ('${uuid:}');\n");
	r = CLI("seed");
	expect(&r, 2, "seed");
	expect_in(r.err, "seeds/2_b.sql:3: unknown placeholder", "stderr");
	run_free(&r);
	expect_value("SELECT COUNT(*) FROM t", "1");
}
END_TEST

Suite *seed_suite(void)
{
	Suite *s = suite_create("seed");
	TCase *tc = tcase_create("seed");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, csv_loads_hostile_values_exactly);
	tcase_add_test(tc, bad_csv_fails_whole_with_file_and_line);
	tcase_add_test(tc, a_large_batch_failure_names_the_row);
	tcase_add_test(tc, a_multi_megabyte_load_keeps_keys_and_names_a_late_bad_row);
	if (test_driver() && test_driver()->dialect == SQL_DIALECT_MYSQL) {
		tcase_add_test(tc, mysql_loads_the_same_with_and_without_local_infile);
		tcase_add_test(tc, mysql_fails_on_values_a_lax_server_would_mangle);
	}
	tcase_add_test(tc, undo_deletes_exactly_the_rows_it_inserted);
	tcase_add_test(tc, undo_of_a_nothing_down_section_forgets_the_seed);
	tcase_add_test(tc, undo_by_text_keys_leaves_similar_keys_alone);
	tcase_add_test(tc, rerun_reapplies_changed_seeds);
	tcase_add_test(tc, placeholders_link_rows_across_files);
	tcase_add_test(tc, unknown_placeholder_exits_2_before_anything_runs);
	suite_add_tcase(s, tc);
	return s;
}
