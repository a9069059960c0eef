/*
 * check_migration.c - unit tests for migrate/migration.c: versions and names,
 * parsing a file's sections for one dialect (SPEC section 3), checksums,
 * and scanning migration and seed directories.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../migrate/error.h"
#include "../migrate/migration.h"
#include "../migrate/util.h"
#include "testutil.h"

Suite *migration_suite(void);

#define SQLITE SQL_DIALECT_SQLITE
#define PG SQL_DIALECT_POSTGRES
#define MY SQL_DIALECT_MYSQL
#define PATH "migrations/1_x.sql"

static const char *dname(enum sql_dialect d)
{
	return d == SQLITE ? "sqlite" : d == PG ? "postgres" : "mysql";
}

/* ---- versions and migration_name_valid ----------------------------------------- */

static void canonical_is(const char *in, size_t len, const char *want)
{
	char *v = version_canonical(in, len);

	ck_assert_msg(v != NULL, "'%.*s' is not a version", (int)len, in);
	ck_assert_str_eq(v, want);
	free(v);
}

START_TEST(version_canonical_drops_leading_zeros)
{
	canonical_is("001", 3, "1");
	canonical_is("1", 1, "1");
	canonical_is("0", 1, "0");
	canonical_is("000", 3, "0");
	canonical_is("20240131235959", 14, "20240131235959");
	/* only len characters count */
	canonical_is("123_name", 3, "123");
}
END_TEST

/* Real histories use 20-digit versions (gobuffalo/pop): any size is a number. */
START_TEST(version_canonical_has_no_size_limit)
{
	canonical_is("18446744073709551615", 20, "18446744073709551615");
	canonical_is("18446744073709551616", 20, "18446744073709551616");
	canonical_is("20150100000001000000", 20, "20150100000001000000");
	canonical_is("000000000000000000000000018446744073709551616", 45, "18446744073709551616");
	canonical_is("1000000000000000000000000000000000000000", 40, "1000000000000000000000000000000000000000");
}
END_TEST

START_TEST(version_canonical_rejects_non_digits)
{
	ck_assert_ptr_null(version_canonical("", 0));
	ck_assert_ptr_null(version_canonical("12a", 3));
	ck_assert_ptr_null(version_canonical("-1", 2));
	ck_assert_ptr_null(version_canonical(" 1", 2));
	ck_assert_ptr_null(version_canonical("1 ", 2));
	ck_assert_ptr_null(version_canonical("+1", 2));
	ck_assert_ptr_null(version_canonical("\xd9\xa1", 2)); /* an Arabic-Indic digit is not 0-9 */
}
END_TEST

/* Flyway's dotted versions: numbers separated by single dots, 1.0 is 1, compared part by part. */
START_TEST(dotted_versions_compare_part_by_part)
{
	canonical_is("1.2.3", 5, "1.2.3");
	canonical_is("01.002.0", 8, "1.2");
	canonical_is("1.0.0", 5, "1");
	canonical_is("0.0", 3, "0");
	canonical_is("2024.01.31", 10, "2024.1.31");
	ck_assert_ptr_null(version_canonical("1.", 2));
	ck_assert_ptr_null(version_canonical(".1", 2));
	ck_assert_ptr_null(version_canonical("1..2", 4));
	ck_assert_ptr_null(version_canonical("1_2", 3));
	ck_assert_int_eq(version_cmp("1.10", "1.9"), 1);
	ck_assert_int_eq(version_cmp("1.9", "1.10"), -1);
	ck_assert_int_eq(version_cmp("2", "1.10"), 1);
	ck_assert_int_eq(version_cmp("1.10", "2.1"), -1);
	ck_assert_int_eq(version_cmp("1", "1.0.0"), 0);
	ck_assert_int_eq(version_cmp("1.01", "1.1"), 0);
	ck_assert_int_eq(version_cmp("1", "1.0.1"), -1);
	ck_assert_int_eq(version_cmp("1.2.3", "1.2"), 1);
	ck_assert_int_eq(version_cmp("18446744073709551616.1", "18446744073709551616"), 1);
	ck_assert_int_eq(version_valid("1.2", 3), 1);
	ck_assert_int_eq(version_valid("1.a", 3), 0);
}
END_TEST

START_TEST(version_cmp_is_numeric)
{
	ck_assert_int_eq(version_cmp("1", "1"), 0);
	ck_assert_int_eq(version_cmp("001", "1"), 0);
	ck_assert_int_eq(version_cmp("0", "000"), 0);
	ck_assert_int_eq(version_cmp("2", "10"), -1);
	ck_assert_int_eq(version_cmp("10", "2"), 1);
	ck_assert_int_eq(version_cmp("09", "10"), -1);
	ck_assert_int_eq(version_cmp("18446744073709551615", "18446744073709551616"), -1);
	ck_assert_int_eq(version_cmp("20150100000001000000", "20240101000001"), 1);
	ck_assert_int_eq(version_cmp("99999999999999999999", "100000000000000000000"), -1);
	ck_assert_int_eq(version_cmpn("3_a", 1, "03_b", 2), 0);
	ck_assert_int_eq(version_cmpn("10_a", 2, "9_b", 1), 1);
}
END_TEST

START_TEST(migration_name_valid_cases)
{
	ck_assert_int_eq(migration_name_valid("create_customers", 16), 1);
	ck_assert_int_eq(migration_name_valid("a", 1), 1);
	ck_assert_int_eq(migration_name_valid("add_2fa_9", 9), 1);
	ck_assert_int_eq(migration_name_valid("_", 1), 1);
	ck_assert_int_eq(migration_name_valid("", 0), 0);
	/* letters of either case, '-' and '.': upgrade_v6.0, add-c, init.up */
	ck_assert_int_eq(migration_name_valid("Bad", 3), 1);
	ck_assert_int_eq(migration_name_valid("add-c", 5), 1);
	ck_assert_int_eq(migration_name_valid("upgrade_v6.0", 12), 1);
	ck_assert_int_eq(migration_name_valid("x.y", 3), 1);
	ck_assert_int_eq(migration_name_valid("two words", 9), 0);
	ck_assert_int_eq(migration_name_valid("a/b", 3), 0);
	ck_assert_int_eq(migration_name_valid("a'b", 3), 0);
	ck_assert_int_eq(migration_name_valid("a$(x)", 5), 0);
	ck_assert_int_eq(migration_name_valid("caf\xc3\xa9", 5), 0);
	/* only len characters count */
	ck_assert_int_eq(migration_name_valid("abc-", 3), 1);
}
END_TEST

/* ---- migration_parse -------------------------------------------------------------------- */

static enum migrate_result parse_as(const char *text, enum sql_dialect d, int is_seed,
				    struct migration *m, struct migrate_error *err)
{
	memset(m, 0, sizeof(*m));
	merr_clear(err);
	return migration_parse(m, PATH, xstrdup(text), strlen(text), d, dname(d), is_seed, err);
}

#define PARSE_OK(src, d, m, err)                                                            \
	do {                                                                                \
		enum migrate_result r_ = parse_as((src), (d), 0, (m), (err));              \
		ck_assert_msg(r_ == MIGRATE_OK, "migration_parse (%s): %d: %s", dname(d),   \
			      (int)r_, (err)->message);                                     \
	} while (0)

#define PARSE_FAILS(src, d, err, sub)                                                       \
	do {                                                                                \
		struct migration m_;                                                        \
		enum migrate_result r_ = parse_as((src), (d), 0, &m_, (err));              \
		ck_assert_msg(r_ == MIGRATE_EUSAGE, "migration_parse (%s) gave %d, want MIGRATE_EUSAGE", \
			      dname(d), (int)r_);                                           \
		ck_assert_int_eq((err)->code, MIGRATE_EUSAGE);                              \
		ck_assert_msg(strstr((err)->message, (sub)) != NULL, "message '%s' lacks '%s'", \
			      (err)->message, (sub));                                       \
		ck_assert_ptr_null(m_.text);                                                \
	} while (0)

/* Checks a section's body and first line. */
#define SECTION_IS(m, sec, body, ln)                                                        \
	do {                                                                                \
		ck_assert_msg((sec).present, "section absent");                             \
		ck_assert_msg((sec).len == strlen(body) &&                                  \
			      memcmp((m).text + (sec).off, (body), (sec).len) == 0,         \
			      "section is '%.*s', want '%s'", (int)(sec).len,               \
			      (m).text + (sec).off, (body));                                \
		ck_assert_int_eq((sec).line, (ln));                                         \
	} while (0)

START_TEST(parse_generic_up_and_down)
{
	static const char text[] =
		"-- migrate:up\n"
		"CREATE TABLE a (x INT);\n"
		"\n"
		"-- migrate:down\n"
		"DROP TABLE a;\n";
	struct migrate_error err;
	struct migration m;
	char want[65];
	enum sql_dialect d;

	for (d = SQLITE; d <= MY; d++) {
		PARSE_OK(text, d, &m, &err);
		SECTION_IS(m, m.up, "CREATE TABLE a (x INT);\n\n", 2);
		SECTION_IS(m, m.down, "DROP TABLE a;\n", 5);
		ck_assert_int_eq(m.up.transaction, 1);
		ck_assert_int_eq(m.down.transaction, 1);
		ck_assert_uint_eq(m.len, strlen(text));
		ck_assert_str_eq(m.text, text);
		sha256_hex(text, strlen(text), want);
		ck_assert_str_eq(m.checksum, want);
		ck_assert_uint_eq(strlen(m.checksum_sql), 64);
		migration_release(&m);
		ck_assert_ptr_null(m.text);
	}
}
END_TEST

START_TEST(parse_dialect_section_replaces_generic_on_that_driver_only)
{
	static const char text[] =
		"-- migrate:up\n"                                   /* 1 */
		"CREATE TABLE c (id INTEGER PRIMARY KEY);\n"        /* 2 */
		"-- migrate:down\n"                                 /* 3 */
		"DROP TABLE c;\n"                                   /* 4 */
		"-- migrate:up postgres\n"                          /* 5 */
		"CREATE TABLE c (id uuid PRIMARY KEY);\n"           /* 6 */
		"-- migrate:down mariadb\n"                         /* 7 */
		"DROP TABLE IF EXISTS c;\n";                        /* 8 */
	struct migrate_error err;
	struct migration lite, pg, my;

	PARSE_OK(text, SQLITE, &lite, &err);
	SECTION_IS(lite, lite.up, "CREATE TABLE c (id INTEGER PRIMARY KEY);\n", 2);
	SECTION_IS(lite, lite.down, "DROP TABLE c;\n", 4);

	PARSE_OK(text, PG, &pg, &err);
	SECTION_IS(pg, pg.up, "CREATE TABLE c (id uuid PRIMARY KEY);\n", 6);
	SECTION_IS(pg, pg.down, "DROP TABLE c;\n", 4);

	PARSE_OK(text, MY, &my, &err);
	SECTION_IS(my, my.up, "CREATE TABLE c (id INTEGER PRIMARY KEY);\n", 2);
	SECTION_IS(my, my.down, "DROP TABLE IF EXISTS c;\n", 8);

	/* the file is the same; the statements each database runs are not */
	ck_assert_str_eq(lite.checksum, pg.checksum);
	ck_assert_str_eq(lite.checksum, my.checksum);
	ck_assert_str_ne(lite.checksum_sql, pg.checksum_sql);
	ck_assert_str_ne(lite.checksum_sql, my.checksum_sql);
	migration_release(&lite);
	migration_release(&pg);
	migration_release(&my);
}
END_TEST

/* lock_wait:, retries: and statement_timeout: after a marker (SPEC section 9) */
START_TEST(parse_limit_options)
{
	static const char text[] =
		"-- migrate:up lock_wait:10s retries:0 transaction:false statement_timeout:2m\n"
		"CREATE INDEX CONCURRENTLY i ON t (x);\n"
		"-- migrate:down\n"
		"DROP INDEX i;\n";
	static const char plain[] =
		"-- migrate:up transaction:false\n"
		"CREATE INDEX CONCURRENTLY i ON t (x);\n"
		"-- migrate:down\n"
		"DROP INDEX i;\n";
	struct migrate_error err;
	struct migration m, p;

	PARSE_OK(text, PG, &m, &err);
	ck_assert_int_eq(m.up.transaction, 0);
	ck_assert_int_eq(m.up.lock_wait_ms, 10000);
	ck_assert_int_eq(m.up.retries, 0);
	ck_assert_int_eq(m.up.statement_timeout_ms, 120000);
	ck_assert_int_eq(m.up.given, SECTION_GIVES_LOCK_WAIT | SECTION_GIVES_RETRIES | SECTION_GIVES_STATEMENT_TIMEOUT);
	ck_assert_int_eq(m.down.lock_wait_ms, -1);
	ck_assert_int_eq(m.down.retries, -1);
	/* a section that gives none (as other tools' layouts make them) takes the config's */
	ck_assert_int_eq(m.down.given, 0);
	/* how long to wait is not what the migration does: the same checksum_sql */
	PARSE_OK(plain, PG, &p, &err);
	ck_assert_str_eq(m.checksum_sql, p.checksum_sql);
	ck_assert_int_eq(p.up.lock_wait_ms, -1);
	migration_release(&m);
	migration_release(&p);

	PARSE_OK("-- migrate:up lock_wait:500ms lock_wait:0\nA;\n", PG, &m, &err);
	ck_assert_int_eq(m.up.lock_wait_ms, 0);
	migration_release(&m);

	PARSE_FAILS("-- migrate:up lock_wait:abc\nA;\n", PG, &err, "1_x.sql:1: malformed marker: lock_wait 'abc' is not a duration");
	PARSE_FAILS("x\n-- migrate:up retries:-1\nA;\n", PG, &err, "1_x.sql:2: malformed marker: retries '-1' is not a number");
	PARSE_FAILS("-- migrate:up retries:\nA;\n", PG, &err, "retries '' is not a number");
	PARSE_FAILS("-- migrate:up statement_timeout:5x\nA;\n", PG, &err, "statement_timeout '5x' is not a duration");
	PARSE_FAILS("-- migrate:up lock_wait:-1s\nA;\n", PG, &err, "lock_wait '-1s' is not a duration");
}
END_TEST

START_TEST(parse_transaction_false)
{
	static const char text[] =
		"-- migrate:up transaction:false\n"
		"CREATE INDEX CONCURRENTLY i ON t (x);\n"
		"-- migrate:down\n"
		"DROP INDEX i;\n"
		"-- migrate:down postgres transaction:false\n"
		"DROP INDEX CONCURRENTLY i;\n";
	static const char plain[] =
		"-- migrate:up\n"
		"CREATE INDEX CONCURRENTLY i ON t (x);\n"
		"-- migrate:down\n"
		"DROP INDEX i;\n";
	struct migrate_error err;
	struct migration m, p;

	PARSE_OK(text, SQLITE, &m, &err);
	ck_assert_int_eq(m.up.transaction, 0);
	ck_assert_int_eq(m.down.transaction, 1);
	migration_release(&m);

	PARSE_OK(text, PG, &m, &err);
	ck_assert_int_eq(m.up.transaction, 0);
	ck_assert_int_eq(m.down.transaction, 0);
	SECTION_IS(m, m.down, "DROP INDEX CONCURRENTLY i;\n", 6);
	migration_release(&m);

	/* running outside a transaction is part of what is checked */
	PARSE_OK(text, SQLITE, &m, &err);
	PARSE_OK(plain, SQLITE, &p, &err);
	ck_assert_str_ne(m.checksum_sql, p.checksum_sql);
	migration_release(&m);
	migration_release(&p);
}
END_TEST

/*
 * 'nothing' on a down marker: nothing to undo on that database. It is part
 * of what is checked and stored, and it must be an empty section.
 */
START_TEST(parse_down_nothing)
{
	static const char text[] =
		"-- migrate:up\n"
		"CREATE INDEX i ON t (x);\n"
		"-- migrate:down\n"
		"DROP INDEX i;\n"
		"-- migrate:down sqlite nothing\n"
		"\n"
		"   \t\n";
	static const char empty[] =
		"-- migrate:up\n"
		"CREATE INDEX i ON t (x);\n"
		"-- migrate:down\n"
		"DROP INDEX i;\n"
		"-- migrate:down sqlite\n";
	struct migrate_error err;
	struct migration m, p;
	char *stored;

	PARSE_OK(text, SQLITE, &m, &err);
	ck_assert(m.down.present);
	ck_assert_int_eq(m.down.nothing, 1);
	ck_assert_int_eq(m.down.line, 6);
	stored = migration_down_text(&m);
	ck_assert_str_eq(stored, "-- migrate:down nothing\n\n   \t\n");
	free(stored);
	/* not the same statements as an empty (irreversible) down section */
	PARSE_OK(empty, SQLITE, &p, &err);
	ck_assert_int_eq(p.down.nothing, 0);
	ck_assert_str_ne(m.checksum_sql, p.checksum_sql);
	migration_release(&p);
	migration_release(&m);

	/* another database runs its down section */
	PARSE_OK(text, PG, &m, &err);
	ck_assert_int_eq(m.down.nothing, 0);
	SECTION_IS(m, m.down, "DROP INDEX i;\n", 4);
	migration_release(&m);

	/* generic, with other options in any order */
	PARSE_OK("-- migrate:up\nSELECT 1;\n-- migrate:down nothing transaction:false\n", MY, &m, &err);
	ck_assert_int_eq(m.down.nothing, 1);
	ck_assert_int_eq(m.down.transaction, 0);
	stored = migration_down_text(&m);
	ck_assert_str_eq(stored, "-- migrate:down transaction:false nothing\n");
	free(stored);
	migration_release(&m);
}
END_TEST

START_TEST(parse_text_in_a_nothing_section_names_path_and_line)
{
	struct migrate_error err;

	PARSE_FAILS("-- migrate:up\nSELECT 1;\n-- migrate:down nothing\n\nDROP TABLE t;\n", SQLITE, &err,
		    PATH ":5: text in a 'nothing' down section (its marker is line 3)");
	/* a comment is text too: the section says there is nothing */
	PARSE_FAILS("-- migrate:up\nSELECT 1;\n-- migrate:down postgres nothing\n  -- none\n", PG, &err,
		    PATH ":4: text in a 'nothing' down section");
	/* checked whichever database the file is read for */
	PARSE_FAILS("-- migrate:up\nSELECT 1;\n-- migrate:down postgres nothing\nX\n-- migrate:down\nSELECT 2;\n", SQLITE,
		    &err, PATH ":4: text in a 'nothing' down section");
	PARSE_FAILS("-- migrate:up nothing\nSELECT 1;\n", SQLITE, &err,
		    PATH ":1: malformed marker: 'nothing' is an option of '-- migrate:down'");
	PARSE_FAILS("-- migrate:up\nSELECT 1;\n-- migrate:down nothin\n", SQLITE, &err,
		    PATH ":3: malformed marker: unknown word 'nothin'");
}
END_TEST

START_TEST(parse_text_before_first_marker_is_ignored)
{
	static const char with[] =
		"Creates the customers table; an 'unterminated quote is fine here\n"
		"SELECT broken(;\n"
		"-- migrate:up\n"
		"CREATE TABLE customers (id INT);\n";
	static const char without[] =
		"-- migrate:up\n"
		"CREATE TABLE customers (id INT);\n";
	struct migrate_error err;
	struct migration a, b;

	PARSE_OK(with, SQLITE, &a, &err);
	SECTION_IS(a, a.up, "CREATE TABLE customers (id INT);\n", 4);
	ck_assert(!a.down.present);
	PARSE_OK(without, SQLITE, &b, &err);
	ck_assert_str_ne(a.checksum, b.checksum);
	ck_assert_str_eq(a.checksum_sql, b.checksum_sql);
	migration_release(&a);
	migration_release(&b);
}
END_TEST

START_TEST(parse_marker_spelling)
{
	struct migrate_error err;
	struct migration m;

	/* indentation, no space after --, and the case of "migrate:" do not matter */
	PARSE_OK("  --migrate:up\nSELECT 1;\n\t-- Migrate:down   sqlite3  transaction:true\nSELECT 2;\n", SQLITE, &m,
		 &err);
	SECTION_IS(m, m.up, "SELECT 1;\n", 2);
	SECTION_IS(m, m.down, "SELECT 2;\n", 4);
	ck_assert_int_eq(m.down.transaction, 1);
	migration_release(&m);

	/* an ordinary comment is not a marker */
	PARSE_OK("-- migrate:up\n-- migrates the table\n--- migrate:down\nSELECT 1;\n", SQLITE, &m, &err);
	SECTION_IS(m, m.up, "-- migrates the table\n--- migrate:down\nSELECT 1;\n", 2);
	ck_assert(!m.down.present);
	migration_release(&m);
}
END_TEST

START_TEST(parse_malformed_marker_names_path_and_line)
{
	struct migrate_error err;

	PARSE_FAILS("-- migrate:up\nSELECT 1;\n-- migrate:upp\nSELECT 2;\n", SQLITE, &err,
		    PATH ":3: malformed marker 'migrate:upp'");
	PARSE_FAILS("-- migrate:UP\nSELECT 1;\n", SQLITE, &err, PATH ":1: malformed marker");
	PARSE_FAILS("\n\n-- migrate:up oracle\nSELECT 1;\n", PG, &err,
		    PATH ":3: malformed marker: unknown word 'oracle'");
	PARSE_FAILS("-- migrate:up\nSELECT 1;\n-- migrate:down transaction:maybe\n", MY, &err,
		    PATH ":3: malformed marker: unknown word 'transaction:maybe'");
	PARSE_FAILS("-- migrate:up postgres sqlite\nSELECT 1;\n", PG, &err,
		    PATH ":1: malformed marker: unknown word 'sqlite'");
	PARSE_FAILS("-- migrate:\nSELECT 1;\n", PG, &err, PATH ":1: malformed marker");
}
END_TEST

START_TEST(parse_duplicate_section_names_both_lines)
{
	struct migrate_error err;

	PARSE_FAILS("-- migrate:up\nA;\n-- migrate:down\nB;\n-- migrate:up\nC;\n", SQLITE, &err,
		    PATH ":5: a second '-- migrate:up' section (the first is at line 1)");
	PARSE_FAILS("-- migrate:up\nA;\n-- migrate:up postgres\nB;\n\n-- migrate:up postgresql\nC;\n", SQLITE, &err,
		    PATH ":6: a second '-- migrate:up postgres' section (the first is at line 3)");
	PARSE_FAILS("-- migrate:up\nA;\n-- migrate:down\nB;\n-- migrate:down transaction:false\nC;\n", PG, &err,
		    PATH ":5: a second '-- migrate:down' section (the first is at line 3)");
}
END_TEST

START_TEST(parse_without_up_section_is_error)
{
	struct migrate_error err;

	PARSE_FAILS("-- migrate:down\nDROP TABLE a;\n", SQLITE, &err, PATH ": no '-- migrate:up' section");
	PARSE_FAILS("CREATE TABLE a (x INT);\n", SQLITE, &err, PATH ": no '-- migrate:up' section");
	PARSE_FAILS("", PG, &err, PATH ": no '-- migrate:up' section");
}
END_TEST

START_TEST(parse_only_other_dialect_up_is_error_that_says_so)
{
	static const char text[] = "-- migrate:up postgres\nCREATE EXTENSION pgcrypto;\n";
	struct migrate_error err;
	struct migration m;

	PARSE_FAILS(text, SQLITE, &err, PATH ": no '-- migrate:up' section for sqlite (only for other databases)");
	ck_assert_msg(strstr(err.message, "'-- migrate:up sqlite'") != NULL, "%s", err.message);
	PARSE_FAILS(text, MY, &err, "for mysql (only for other databases)");
	PARSE_OK(text, PG, &m, &err);
	SECTION_IS(m, m.up, "CREATE EXTENSION pgcrypto;\n", 2);
	migration_release(&m);
}
END_TEST

START_TEST(parse_nul_byte_is_error)
{
	static const char text[] = "-- migrate:up\nSELECT 1;\0\nSELECT 2;\n";
	size_t len = sizeof(text) - 1;
	char *copy = xmalloc(len + 1);
	struct migrate_error err;
	struct migration m;

	memcpy(copy, text, len + 1);
	memset(&m, 0, sizeof(m));
	merr_clear(&err);
	ck_assert_int_eq(migration_parse(&m, PATH, copy, len, SQLITE, "sqlite", 0, &err), MIGRATE_EUSAGE);
	ck_assert_msg(strstr(err.message, PATH ": holds a NUL byte") != NULL, "%s", err.message);
	ck_assert_ptr_null(m.text); /* copy was freed */
}
END_TEST

START_TEST(parse_lexer_error_names_file_line)
{
	struct migrate_error err;

	PARSE_FAILS("-- intro\n-- migrate:up\nSELECT 1;\nSELECT 'abc;\n", SQLITE, &err,
		    PATH ":4: unterminated string");
	PARSE_FAILS("-- migrate:up\nSELECT 1;\n-- migrate:down\n\nDO $$ BEGIN\n", PG, &err,
		    PATH ":5: unterminated dollar-quoted string");
}
END_TEST

START_TEST(parse_crlf_and_lf_same_checksum)
{
	static const char lf[] = "-- migrate:up\nCREATE TABLE a (x INT);\n-- migrate:down\nDROP TABLE a;\n";
	static const char crlf[] = "-- migrate:up\r\nCREATE TABLE a (x INT);\r\n-- migrate:down\r\nDROP TABLE a;\r\n";
	static const char cr[] = "-- migrate:up\rCREATE TABLE a (x INT);\r-- migrate:down\rDROP TABLE a;\r";
	struct migrate_error err;
	struct migration a, b, c;

	PARSE_OK(lf, SQLITE, &a, &err);
	PARSE_OK(crlf, SQLITE, &b, &err);
	PARSE_OK(cr, SQLITE, &c, &err);
	ck_assert_str_eq(a.checksum, b.checksum);
	ck_assert_str_eq(a.checksum, c.checksum);
	ck_assert_str_eq(a.checksum_sql, b.checksum_sql);
	ck_assert_str_eq(a.checksum_sql, c.checksum_sql);
	ck_assert_uint_eq(b.len, strlen(lf));
	ck_assert_str_eq(b.text, lf);
	SECTION_IS(b, b.down, "DROP TABLE a;\n", 4);
	migration_release(&a);
	migration_release(&b);
	migration_release(&c);
}
END_TEST

/* The text that runs keeps a lone CR; CRLF as each client reads it; the checksum reads LF. */
START_TEST(parse_keeps_a_lone_cr_and_skips_a_bom)
{
	static const char lf[] = "-- migrate:up\nSELECT 'a\nb';\n";
	static const char cr[] = "-- migrate:up\nSELECT 'a\rb';\n";
	static const char crlf[] = "-- migrate:up\r\nSELECT 'a\r\nb';\r\n";
	static const char bom[] = "\xEF\xBB\xBF-- migrate:up\nSELECT 'a\nb';\n";
	struct migrate_error err;
	struct migration a, b, c, d;

	PARSE_OK(lf, SQLITE, &a, &err);
	PARSE_OK(cr, SQLITE, &b, &err);
	ck_assert_str_eq(a.checksum, b.checksum);
	ck_assert_str_eq(a.checksum_sql, b.checksum_sql);
	SECTION_IS(b, b.up, "SELECT 'a\rb';\n", 2);
	migration_release(&b);
	PARSE_OK(crlf, MY, &b, &err);
	SECTION_IS(b, b.up, "SELECT 'a\nb';\n", 2);
	migration_release(&b);
	PARSE_OK(crlf, PG, &c, &err);
	SECTION_IS(c, c.up, "SELECT 'a\r\nb';\r\n", 2);
	ck_assert_str_eq(a.checksum, c.checksum);
	migration_release(&a);
	PARSE_OK(lf, PG, &a, &err); /* checksum_sql as before: every line ending read as LF */
	ck_assert_str_eq(a.checksum_sql, c.checksum_sql);
	migration_release(&a);
	PARSE_OK(lf, SQLITE, &a, &err);
	PARSE_OK(bom, SQLITE, &d, &err);
	SECTION_IS(d, d.up, "SELECT 'a\nb';\n", 2);
	ck_assert_str_eq(a.checksum_sql, d.checksum_sql);
	migration_release(&d);
	ck_assert_int_eq(parse_as("\xEF\xBB\xBFINSERT INTO t VALUES (1);\n", SQLITE, 1, &d, &err), MIGRATE_OK);
	SECTION_IS(d, d.up, "INSERT INTO t VALUES (1);\n", 1);
	migration_release(&d);
	migration_release(&a);
	migration_release(&c);
}
END_TEST

START_TEST(parse_comment_edit_keeps_checksum_sql)
{
	static const char orig[] =
		"-- migrate:up\nCREATE TABLE a (x INT, y TEXT);\nINSERT INTO a VALUES (1, 'one');\n"
		"-- migrate:down\nDROP TABLE a;\n";
	static const char cosmetic[] =
		"-- Adds table a.\n"
		"-- migrate:up\n"
		"-- the table\n"
		"CREATE TABLE a (\n  x INT,   /* key */\n  y TEXT\n);\n\n"
		"INSERT INTO a VALUES (1,'one'); -- first row\n"
		"-- migrate:down\n"
		"DROP   TABLE a ;\n";
	struct migrate_error err;
	struct migration a, b;
	enum sql_dialect d;

	for (d = SQLITE; d <= MY; d++) {
		PARSE_OK(orig, d, &a, &err);
		PARSE_OK(cosmetic, d, &b, &err);
		ck_assert_str_ne(a.checksum, b.checksum);
		ck_assert_msg(strcmp(a.checksum_sql, b.checksum_sql) == 0, "%s: cosmetic edit changed checksum_sql",
			      dname(d));
		migration_release(&a);
		migration_release(&b);
	}
}
END_TEST

START_TEST(parse_statement_edit_changes_checksum_sql)
{
	static const char orig[] =
		"-- migrate:up\nCREATE TABLE a (x INT);\nINSERT INTO a VALUES (1, 'one');\n"
		"-- migrate:down\nDROP TABLE a;\n";
	static const char *const edits[] = {
		"-- migrate:up\nCREATE TABLE a (x INT);\nINSERT INTO a VALUES (2, 'one');\n"
		"-- migrate:down\nDROP TABLE a;\n",
		"-- migrate:up\nCREATE TABLE a (x INT);\nINSERT INTO a VALUES (1, 'One');\n"
		"-- migrate:down\nDROP TABLE a;\n",
		"-- migrate:up\nCREATE TABLE a (x BIGINT);\nINSERT INTO a VALUES (1, 'one');\n"
		"-- migrate:down\nDROP TABLE a;\n",
		/* the down section counts too */
		"-- migrate:up\nCREATE TABLE a (x INT);\nINSERT INTO a VALUES (1, 'one');\n"
		"-- migrate:down\nDROP TABLE IF EXISTS a;\n",
		/* a statement moved from up to down */
		"-- migrate:up\nCREATE TABLE a (x INT);\n"
		"-- migrate:down\nINSERT INTO a VALUES (1, 'one');\nDROP TABLE a;\n",
	};
	struct migrate_error err;
	struct migration a, b;
	size_t i;

	PARSE_OK(orig, SQLITE, &a, &err);
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		PARSE_OK(edits[i], SQLITE, &b, &err);
		ck_assert_msg(strcmp(a.checksum_sql, b.checksum_sql) != 0, "edit %zu kept checksum_sql", i);
		ck_assert_str_ne(a.checksum, b.checksum);
		migration_release(&b);
	}
	migration_release(&a);
}
END_TEST

START_TEST(parse_seed_without_markers_is_one_up_section)
{
	static const char text[] = "INSERT INTO c VALUES (1);\nINSERT INTO c VALUES (2);\n";
	struct migrate_error err;
	struct migration m;

	memset(&m, 0, sizeof(m));
	merr_clear(&err);
	ck_assert_int_eq(parse_as(text, SQLITE, 1, &m, &err), MIGRATE_OK);
	SECTION_IS(m, m.up, text, 1);
	ck_assert_int_eq(m.up.transaction, 1);
	ck_assert(!m.down.present);
	migration_release(&m);

	/* a seed with markers follows the migration format */
	ck_assert_int_eq(parse_as("-- note\n-- migrate:up\nINSERT INTO c VALUES (1);\n-- migrate:down\nDELETE FROM c;\n",
				  SQLITE, 1, &m, &err), MIGRATE_OK);
	SECTION_IS(m, m.up, "INSERT INTO c VALUES (1);\n", 3);
	SECTION_IS(m, m.down, "DELETE FROM c;\n", 5);
	migration_release(&m);
}
END_TEST

/* ---- migration_scan and seed_scan ------------------------------------------------------ */

static const char body[] = "-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n";

START_TEST(scan_orders_versions_numerically)
{
	char *dir = tmpdir_new();
	struct migration_set set;
	struct migrate_error err;
	char *p;

	write_file(dir, "10_a.sql", body);
	write_file(dir, "2_b.sql", body);
	write_file(dir, "0001_first.sql", body);
	write_file(dir, "20240131235959_late.sql", body);
	merr_clear(&err);
	ck_assert_int_eq(migration_scan(dir, SQLITE, "sqlite", NULL, &set, &err), MIGRATE_OK);
	ck_assert_uint_eq(set.n, 4);
	ck_assert_str_eq(set.v[0].version, "1");
	ck_assert_str_eq(set.v[0].name, "first");
	ck_assert_str_eq(set.v[0].filename, "0001_first.sql");
	ck_assert_str_eq(set.v[1].version, "2");
	ck_assert_str_eq(set.v[1].name, "b");
	ck_assert_str_eq(set.v[2].version, "10");
	ck_assert_str_eq(set.v[2].name, "a");
	ck_assert_str_eq(set.v[3].version, "20240131235959");
	ck_assert_str_eq(set.v[3].name, "late");
	p = path_join(dir, "2_b.sql");
	ck_assert_str_eq(set.v[1].path, p);
	free(p);
	SECTION_IS(set.v[1], set.v[1].up, "SELECT 1;\n", 2);
	ck_assert_ptr_eq(migration_find(&set, "10"), &set.v[2]);
	ck_assert_ptr_eq(migration_find(&set, "010"), &set.v[2]);
	ck_assert_ptr_null(migration_find(&set, "3"));
	migration_set_release(&set);
	ck_assert_ptr_null(set.v);
	ck_assert_uint_eq(set.n, 0);
	rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(scan_duplicate_version_names_both_files)
{
	char *dir = tmpdir_new();
	struct migration_set set;
	struct migrate_error err;
	char *a, *b;

	write_file(dir, "001_x.sql", body);
	write_file(dir, "1_y.sql", body);
	write_file(dir, "2_z.sql", body);
	merr_clear(&err);
	ck_assert_int_eq(migration_scan(dir, SQLITE, "sqlite", NULL, &set, &err), MIGRATE_EUSAGE);
	a = path_join(dir, "001_x.sql");
	b = path_join(dir, "1_y.sql");
	ck_assert_msg(strstr(err.message, a) && strstr(err.message, b), "message '%s' does not name both files",
		      err.message);
	ck_assert_msg(strstr(err.message, "same version 1") != NULL, "%s", err.message);
	ck_assert_uint_eq(set.n, 0);
	ck_assert_ptr_null(set.v);
	free(a);
	free(b);
	rm_rf(dir);
	free(dir);
}
END_TEST

/*
 * A *.sql file that is not a migration is an error naming it, not a
 * silent skip: every such file at once, with why, before any file is read.
 * Names may hold letters of either case, '-' and '.'.
 */
START_TEST(scan_a_sql_file_that_is_not_a_migration_is_an_error)
{
	static const struct {
		const char *file, *why;
	} cases[] = {
		{ "foo.sql", "/foo.sql' (no '_' between the version and the name)" },
		{ "1.sql", "/1.sql' (no '_' between the version and the name)" },
		{ "x_1_a.sql", "/x_1_a.sql' (the version 'x' is not digits)" },
		{ "v2_add.sql", "/v2_add.sql' (the version 'v2' is not digits)" },
		{ "_a.sql", "/_a.sql' (no version before the '_')" },
		{ "3_.sql", "/3_.sql' (no name after the '_')" },
		{ "4_upper.SQL", "/4_upper.SQL' (it ends in '.SQL', not '.sql')" },
		{ "5_two words.sql", "/5_two words.sql' (the name holds a character other than" },
	};
	char *dir = tmpdir_new();
	struct migration_set set;
	struct migrate_error err;
	size_t i;

	write_file(dir, "1_ok.sql", body);
	write_file(dir, "2_upgrade_v6.0.sql", body);
	write_file(dir, "3_add-c.sql", body);
	write_file(dir, "4_Add_Users.sql", body);
	merr_clear(&err);
	ck_assert_int_eq(migration_scan(dir, SQLITE, "sqlite", NULL, &set, &err), MIGRATE_OK);
	ck_assert_uint_eq(set.n, 4);
	ck_assert_str_eq(set.v[1].name, "upgrade_v6.0");
	ck_assert_str_eq(set.v[2].name, "add-c");
	ck_assert_str_eq(set.v[3].name, "Add_Users");
	migration_set_release(&set);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *want = cases[i].why;
		write_file(dir, cases[i].file, body);
		merr_clear(&err);
		memset(&set, 0xff, sizeof(set));
		ck_assert_int_eq(migration_scan(dir, SQLITE, "sqlite", NULL, &set, &err), MIGRATE_EUSAGE);
		ck_assert_msg(strstr(err.message, "not a migration file: ") != NULL, "%s", err.message);
		ck_assert_msg(strstr(err.message, want) != NULL, "'%s' lacks '%s'", err.message, want);
		ck_assert_msg(strstr(err.message, "the 'ignore' setting") != NULL, "%s", err.message);
		ck_assert_uint_eq(set.n, 0);
		ck_assert_ptr_null(set.v);
	}
	/* all of them in one message, in name order */
	ck_assert_msg(strstr(err.message, "/1.sql'") < strstr(err.message, "/foo.sql'"), "%s", err.message);
	ck_assert_msg(strstr(err.message, "/foo.sql'") < strstr(err.message, "/x_1_a.sql'"), "%s", err.message);
	rm_rf(dir);
	free(dir);
}
END_TEST

/* The 'ignore' setting's globs: files meant to be there, skipped without a word. */
START_TEST(scan_skips_files_the_ignore_patterns_match)
{
	char *dir = tmpdir_new();
	struct migration_set set;
	struct migrate_error err;

	write_file(dir, "1_ok.sql", body);
	write_file(dir, "schema.sql", "CREATE TABLE dump_of_everything (x INT);\n");
	write_file(dir, "notes_draft.sql", "x");
	write_file(dir, "2_wip.sql", "not even a migration");
	merr_clear(&err);
	ck_assert_int_eq(migration_scan(dir, SQLITE, "sqlite", " schema.sql\t*_draft.sql\n2_wip.*  ", &set, &err),
			 MIGRATE_OK);
	ck_assert_uint_eq(set.n, 1);
	ck_assert_str_eq(set.v[0].filename, "1_ok.sql");
	migration_set_release(&set);
	/* a pattern that matches nothing does not hide the others */
	merr_clear(&err);
	ck_assert_int_eq(migration_scan(dir, SQLITE, "sqlite", "schema.sql other.sql", &set, &err), MIGRATE_EUSAGE);
	ck_assert_msg(strstr(err.message, "notes_draft.sql") != NULL, "%s", err.message);
	ck_assert_msg(strstr(err.message, "schema.sql") == NULL, "%s", err.message);
	/* the whole name must match */
	merr_clear(&err);
	ck_assert_int_eq(migration_scan(dir, SQLITE, "sqlite", "schema *_draft.sql 2_wip.*", &set, &err), MIGRATE_EUSAGE);
	ck_assert_msg(strstr(err.message, "schema.sql") != NULL, "%s", err.message);
	rm_rf(dir);
	free(dir);
}
END_TEST

/*
 * golang-migrate's pair, 1_x.up.sql and 1_x.down.sql, parses as two
 * migrations with version 1 (names 'x.up' and 'x.down'): an error that
 * says what the files look like, never a silent "up to date". One such
 * file alone has no markers, and its error says the same.
 */
START_TEST(scan_a_golang_migrate_pair_is_an_error_that_says_so)
{
	char *dir = tmpdir_new();
	struct migration_set set;
	struct migrate_error err;

	write_file(dir, "1_init.up.sql", "CREATE TABLE t (id INT);\n");
	write_file(dir, "1_init.down.sql", "DROP TABLE t;\n");
	merr_clear(&err);
	ck_assert_int_eq(migration_scan(dir, SQLITE, "sqlite", NULL, &set, &err), MIGRATE_EUSAGE);
	ck_assert_msg(strstr(err.message, "1_init.down.sql and ") != NULL, "%s", err.message);
	ck_assert_msg(strstr(err.message, "1_init.up.sql have the same version 1") != NULL, "%s", err.message);
	ck_assert_msg(strstr(err.message, "golang-migrate") != NULL, "%s", err.message);
	ck_assert_uint_eq(set.n, 0);
	rm_rf(dir);
	free(dir);

	dir = tmpdir_new();
	write_file(dir, "1_init.up.sql", "CREATE TABLE t (id INT);\n");
	merr_clear(&err);
	ck_assert_int_eq(migration_scan(dir, SQLITE, "sqlite", NULL, &set, &err), MIGRATE_EUSAGE);
	ck_assert_msg(strstr(err.message, "1_init.up.sql: no '-- migrate:up' section") != NULL, "%s", err.message);
	ck_assert_msg(strstr(err.message, "golang-migrate") != NULL, "%s", err.message);
	rm_rf(dir);
	free(dir);
}
END_TEST

/* Seeds: a *.sql or *.csv that is not a seed is an error too, unless ignored. */
START_TEST(seed_scan_a_file_that_is_not_a_seed_is_an_error)
{
	char *dir = tmpdir_new();
	struct migration_set set;
	struct migrate_error err;

	write_file(dir, "01_customers.sql", "INSERT INTO c VALUES (1);\n");
	write_file(dir, "02_my-table.csv", "id\n1\n");
	write_file(dir, "customers.csv", "id\n1\n");
	write_file(dir, "README.md", "seeds\n");
	merr_clear(&err);
	ck_assert_int_eq(seed_scan(dir, SQLITE, "sqlite", NULL, &set, &err), MIGRATE_EUSAGE);
	ck_assert_msg(strstr(err.message, "not a seed file: ") != NULL, "%s", err.message);
	ck_assert_msg(strstr(err.message, "/customers.csv' (no '_' between the order and the name)") != NULL, "%s",
		      err.message);
	ck_assert_msg(strstr(err.message, "<order>_<table>.csv") != NULL, "%s", err.message);
	ck_assert_msg(strstr(err.message, "README") == NULL, "%s", err.message);
	ck_assert_uint_eq(set.n, 0);
	merr_clear(&err);
	ck_assert_int_eq(seed_scan(dir, SQLITE, "sqlite", "*.csv", &set, &err), MIGRATE_OK);
	ck_assert_uint_eq(set.n, 1);
	migration_set_release(&set);
	merr_clear(&err);
	ck_assert_int_eq(seed_scan(dir, SQLITE, "sqlite", "customers.csv", &set, &err), MIGRATE_OK);
	ck_assert_uint_eq(set.n, 2);
	ck_assert_str_eq(set.v[1].name, "my-table");
	migration_set_release(&set);
	rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(scan_ignores_other_files_silently)
{
	char *dir = tmpdir_new();
	struct migration_set set;
	struct migrate_error err;

	write_file(dir, "1_ok.sql", body);
	write_file(dir, "README.md", "# migrations\n");
	write_file(dir, ".hidden.sql", "not sql at all");
	write_file(dir, ".1_x.sql", body);
	write_file(dir, "2_x.sql.bak", body);
	write_file(dir, "notes.txt", "x");
	write_file(dir, "sub/3_nested.sql", body);
	merr_clear(&err);
	ck_assert_int_eq(migration_scan(dir, SQLITE, "sqlite", NULL, &set, &err), MIGRATE_OK);
	ck_assert_uint_eq(set.n, 1);
	ck_assert_str_eq(set.v[0].filename, "1_ok.sql");
	migration_set_release(&set);
	rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(scan_missing_directory_is_empty_set)
{
	char *dir = tmpdir_new();
	char *missing = path_join(dir, "no/such/dir");
	struct migration_set set;
	struct migrate_error err;

	memset(&set, 0xff, sizeof(set));
	merr_clear(&err);
	ck_assert_int_eq(migration_scan(missing, SQLITE, "sqlite", NULL, &set, &err), MIGRATE_OK);
	ck_assert_uint_eq(set.n, 0);
	ck_assert_ptr_null(set.v);
	ck_assert_int_eq(err.code, MIGRATE_OK);
	ck_assert_int_eq(seed_scan(missing, SQLITE, "sqlite", NULL, &set, &err), MIGRATE_OK);
	ck_assert_uint_eq(set.n, 0);
	free(missing);
	rm_rf(dir);
	free(dir);
}
END_TEST

/* 20-digit versions and beyond are numbers like any other, in numeric order. */
START_TEST(scan_versions_of_any_size)
{
	char *dir = tmpdir_new();
	struct migration_set set;
	struct migrate_error err;

	write_file(dir, "20150100000001000000_pop.sql", body);
	write_file(dir, "18446744073709551616_big.sql", body);
	write_file(dir, "18446744073709551615_max.sql", body);
	write_file(dir, "9_small.sql", body);
	write_file(dir, "00100000000000000000000000000000000000000_huge.sql", body);
	merr_clear(&err);
	ck_assert_int_eq(migration_scan(dir, SQLITE, "sqlite", NULL, &set, &err), MIGRATE_OK);
	ck_assert_uint_eq(set.n, 5);
	ck_assert_str_eq(set.v[0].version, "9");
	ck_assert_str_eq(set.v[1].version, "18446744073709551615");
	ck_assert_str_eq(set.v[2].version, "18446744073709551616");
	ck_assert_str_eq(set.v[3].version, "20150100000001000000");
	ck_assert_str_eq(set.v[4].version, "100000000000000000000000000000000000000");
	ck_assert_str_eq(set.v[4].name, "huge");
	ck_assert_ptr_eq(migration_find(&set, "020150100000001000000"), &set.v[3]);
	migration_set_release(&set);
	rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(scan_malformed_file_is_error_with_path_and_line)
{
	char *dir = tmpdir_new();
	struct migration_set set;
	struct migrate_error err;
	char *want;

	write_file(dir, "1_ok.sql", body);
	write_file(dir, "2_bad.sql", "-- migrate:up\nSELECT 1;\n-- migrate:dwon\n");
	merr_clear(&err);
	ck_assert_int_eq(migration_scan(dir, SQLITE, "sqlite", NULL, &set, &err), MIGRATE_EUSAGE);
	want = xasprintf("%s/2_bad.sql:3: malformed marker", dir);
	ck_assert_msg(strstr(err.message, want) != NULL, "message '%s' lacks '%s'", err.message, want);
	ck_assert_uint_eq(set.n, 0);
	free(want);
	rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(scan_parses_for_the_dialect)
{
	char *dir = tmpdir_new();
	struct migration_set set;
	struct migrate_error err;

	write_file(dir, "1_ext.sql", "-- migrate:up postgres\nCREATE EXTENSION x;\n");
	merr_clear(&err);
	ck_assert_int_eq(migration_scan(dir, PG, "postgres", NULL, &set, &err), MIGRATE_OK);
	ck_assert_uint_eq(set.n, 1);
	migration_set_release(&set);
	merr_clear(&err);
	ck_assert_int_eq(migration_scan(dir, SQLITE, "sqlite", NULL, &set, &err), MIGRATE_EUSAGE);
	ck_assert_msg(strstr(err.message, "1_ext.sql: no '-- migrate:up' section for sqlite") != NULL, "%s",
		      err.message);
	rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(seed_scan_allows_files_without_markers)
{
	char *dir = tmpdir_new();
	struct migration_set set;
	struct migrate_error err;

	write_file(dir, "02_addresses.sql", "-- migrate:up\nINSERT INTO a VALUES (1);\n-- migrate:down\nDELETE FROM a;\n");
	write_file(dir, "01_customers.sql", "INSERT INTO c VALUES (1);\n");
	write_file(dir, "1_more.sql", "INSERT INTO c VALUES (2);\n");
	write_file(dir, "03_rows.csv", "id\n1\n");
	merr_clear(&err);
	ck_assert_int_eq(seed_scan(dir, SQLITE, "sqlite", NULL, &set, &err), MIGRATE_OK);
	/* two seeds may share an order: then by file name; CSV seeds are seeds too */
	ck_assert_uint_eq(set.n, 4);
	ck_assert_str_eq(set.v[3].filename, "03_rows.csv");
	ck_assert_int_eq(set.v[3].csv, 1);
	ck_assert_str_eq(set.v[3].name, "rows");
	ck_assert_str_eq(set.v[0].filename, "01_customers.sql");
	ck_assert_str_eq(set.v[1].filename, "1_more.sql");
	ck_assert_str_eq(set.v[2].filename, "02_addresses.sql");
	ck_assert_str_eq(set.v[0].name, "customers");
	SECTION_IS(set.v[0], set.v[0].up, "INSERT INTO c VALUES (1);\n", 1);
	ck_assert(!set.v[0].down.present);
	SECTION_IS(set.v[2], set.v[2].down, "DELETE FROM a;\n", 4);
	migration_set_release(&set);

	/* the same file is not a migration */
	{
		char *more = path_join(dir, "1_more.sql");
		ck_assert_int_eq(remove(more), 0);
		free(more);
	}
	merr_clear(&err);
	ck_assert_int_eq(migration_scan(dir, SQLITE, "sqlite", NULL, &set, &err), MIGRATE_EUSAGE);
	ck_assert_msg(strstr(err.message, "no '-- migrate:up' section") != NULL, "%s", err.message);
	rm_rf(dir);
	free(dir);
}
END_TEST

Suite *migration_suite(void)
{
	Suite *s = suite_create("migration");
	TCase *tv = tcase_create("names");
	TCase *tp = tcase_create("parse");
	TCase *ts = tcase_create("scan");

	tcase_add_test(tv, version_canonical_drops_leading_zeros);
	tcase_add_test(tv, version_canonical_has_no_size_limit);
	tcase_add_test(tv, version_canonical_rejects_non_digits);
	tcase_add_test(tv, version_cmp_is_numeric);
	tcase_add_test(tv, dotted_versions_compare_part_by_part);
	tcase_add_test(tv, migration_name_valid_cases);
	suite_add_tcase(s, tv);

	tcase_add_test(tp, parse_generic_up_and_down);
	tcase_add_test(tp, parse_dialect_section_replaces_generic_on_that_driver_only);
	tcase_add_test(tp, parse_transaction_false);
	tcase_add_test(tp, parse_limit_options);
	tcase_add_test(tp, parse_text_before_first_marker_is_ignored);
	tcase_add_test(tp, parse_marker_spelling);
	tcase_add_test(tp, parse_malformed_marker_names_path_and_line);
	tcase_add_test(tp, parse_duplicate_section_names_both_lines);
	tcase_add_test(tp, parse_down_nothing);
	tcase_add_test(tp, parse_text_in_a_nothing_section_names_path_and_line);
	tcase_add_test(tp, parse_without_up_section_is_error);
	tcase_add_test(tp, parse_only_other_dialect_up_is_error_that_says_so);
	tcase_add_test(tp, parse_nul_byte_is_error);
	tcase_add_test(tp, parse_lexer_error_names_file_line);
	tcase_add_test(tp, parse_crlf_and_lf_same_checksum);
	tcase_add_test(tp, parse_keeps_a_lone_cr_and_skips_a_bom);
	tcase_add_test(tp, parse_comment_edit_keeps_checksum_sql);
	tcase_add_test(tp, parse_statement_edit_changes_checksum_sql);
	tcase_add_test(tp, parse_seed_without_markers_is_one_up_section);
	suite_add_tcase(s, tp);

	tcase_add_test(ts, scan_orders_versions_numerically);
	tcase_add_test(ts, scan_duplicate_version_names_both_files);
	tcase_add_test(ts, scan_a_sql_file_that_is_not_a_migration_is_an_error);
	tcase_add_test(ts, scan_skips_files_the_ignore_patterns_match);
	tcase_add_test(ts, scan_a_golang_migrate_pair_is_an_error_that_says_so);
	tcase_add_test(ts, seed_scan_a_file_that_is_not_a_seed_is_an_error);
	tcase_add_test(ts, scan_ignores_other_files_silently);
	tcase_add_test(ts, scan_missing_directory_is_empty_set);
	tcase_add_test(ts, scan_versions_of_any_size);
	tcase_add_test(ts, scan_malformed_file_is_error_with_path_and_line);
	tcase_add_test(ts, scan_parses_for_the_dialect);
	tcase_add_test(ts, seed_scan_allows_files_without_markers);
	suite_add_tcase(s, ts);
	return s;
}
