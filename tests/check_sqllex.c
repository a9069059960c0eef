/*
 * check_sqllex.c - unit tests for migrate/sqllex.c: splitting sections into
 * statements by each dialect's rules (exact text and line of every
 * statement), errors for unterminated quotes and comments, and the
 * normalised text that checksum_sql hashes.
 *
 * Every input is copied into a buffer of exactly len bytes, without a NUL,
 * so the sanitizers catch a read past the end.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <ctype.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../migrate/sqllex.h"
#include "../migrate/util.h"

Suite *sqllex_suite(void);

#define SQLITE SQL_DIALECT_SQLITE
#define PG SQL_DIALECT_POSTGRES
#define MY SQL_DIALECT_MYSQL

struct want {
	const char *text;
	int line;
};

static const char *dialect_name(enum sql_dialect d)
{
	return d == SQLITE ? "sqlite" : d == PG ? "postgres" : "mysql";
}

/* A copy of text[0..len) without a terminator. */
static char *exact_copy(const char *text, size_t len)
{
	char *p = xmalloc(len ? len : 1);

	memcpy(p, text, len);
	return p;
}

/*
 * Splits sql and checks the statements against want[0..n). at: the caller's
 * line. Everything is freed before the verdict, so a failing check leaks
 * nothing even when Check runs without fork.
 */
static void split_check(int at, enum sql_dialect d, int first_line, const char *sql,
			const struct want *want, size_t n)
{
	size_t len = strlen(sql), i;
	char *buf = exact_copy(sql, len);
	struct sql_stmts st = { NULL, 0, 0 };
	char err[256] = "", why[1024] = "";
	int r = sqllex_split(buf, len, d, first_line, &st, NULL, err, sizeof(err));

	if (r != 0)
		snprintf(why, sizeof(why), "sqllex_split failed: %s", err);
	else if (st.n != n)
		snprintf(why, sizeof(why), "%zu statements, want %zu", st.n, n);
	for (i = 0; !why[0] && i < n; i++) {
		if (st.v[i].off + st.v[i].len > len)
			snprintf(why, sizeof(why), "statement %zu out of range", i);
		else if (st.v[i].len != strlen(want[i].text) ||
			 memcmp(buf + st.v[i].off, want[i].text, st.v[i].len) != 0)
			snprintf(why, sizeof(why), "statement %zu is '%.*s', want '%s'", i, (int)st.v[i].len,
				 buf + st.v[i].off, want[i].text);
		else if (st.v[i].line != want[i].line)
			snprintf(why, sizeof(why), "statement %zu at line %d, want %d", i, st.v[i].line,
				 want[i].line);
	}
	sql_stmts_release(&st);
	free(buf);
	ck_assert_msg(!why[0], "line %d (%s): %s", at, dialect_name(d), why);
}

#define SPLIT_FROM(d, first, sql, ...)                                                         \
	do {                                                                                   \
		static const struct want w_[] = { __VA_ARGS__ };                               \
		split_check(__LINE__, (d), (first), (sql), w_, sizeof(w_) / sizeof(w_[0]));    \
	} while (0)
#define SPLIT(d, sql, ...) SPLIT_FROM(d, 1, sql, __VA_ARGS__)
#define SPLIT_NONE(d, sql) split_check(__LINE__, (d), 1, (sql), NULL, 0)

/* Expects sqllex_split to fail with a message holding sub. */
static void split_fails(int at, enum sql_dialect d, int first_line, const char *sql, const char *sub)
{
	size_t len = strlen(sql);
	char *buf = exact_copy(sql, len);
	struct sql_stmts st = { NULL, 0, 0 };
	char err[256] = "";
	int r = sqllex_split(buf, len, d, first_line, &st, NULL, err, sizeof(err));

	ck_assert_msg(r == -1, "line %d (%s): sqllex_split gave %d, want -1", at, dialect_name(d), r);
	ck_assert_msg(strstr(err, sub) != NULL, "line %d (%s): message '%s' lacks '%s'", at,
		      dialect_name(d), err, sub);
	sql_stmts_release(&st);
	free(buf);
}

#define SPLIT_FAILS(d, sql, sub) split_fails(__LINE__, (d), 1, (sql), (sub))

/* The normalised text of sql (the caller frees). */
static char *norm_of(enum sql_dialect d, const char *sql)
{
	size_t len = strlen(sql);
	char *buf = exact_copy(sql, len);
	struct sql_stmts st = { NULL, 0, 0 };
	struct strbuf nb = STRBUF_INIT;
	char err[256] = "";

	ck_assert_msg(sqllex_split(buf, len, d, 1, &st, &nb, err, sizeof(err)) == 0, "%s: %s", sql, err);
	sql_stmts_release(&st);
	free(buf);
	return strbuf_detach(&nb);
}

/* ---- every dialect ------------------------------------------------------------------ */

START_TEST(plain_statements_with_lines)
{
	static const char sql[] =
		"CREATE TABLE a (id INTEGER);\n"
		"INSERT INTO a VALUES (1);\n"
		"\n"
		"   SELECT 1 ;  \n";
	enum sql_dialect d;

	for (d = SQLITE; d <= MY; d++)
		SPLIT(d, sql, { "CREATE TABLE a (id INTEGER)", 1 }, { "INSERT INTO a VALUES (1)", 2 },
		      { "SELECT 1", 4 });
}
END_TEST

START_TEST(last_statement_without_semicolon)
{
	enum sql_dialect d;

	for (d = SQLITE; d <= MY; d++) {
		SPLIT(d, "SELECT 1;\nSELECT\n  2\n\n", { "SELECT 1", 1 }, { "SELECT\n  2", 2 });
		SPLIT(d, "SELECT 1;;\n;SELECT 2", { "SELECT 1", 1 }, { "SELECT 2", 2 });
	}
}
END_TEST

START_TEST(first_line_offsets_line_numbers)
{
	SPLIT_FROM(SQLITE, 10, "\nSELECT 1;\n\nSELECT 2;", { "SELECT 1", 11 }, { "SELECT 2", 13 });
	SPLIT_FROM(PG, 7, "SELECT 1; SELECT 2;", { "SELECT 1", 7 }, { "SELECT 2", 7 });
}
END_TEST

START_TEST(empty_and_comment_only_give_no_statements)
{
	enum sql_dialect d;

	for (d = SQLITE; d <= MY; d++) {
		SPLIT_NONE(d, "");
		SPLIT_NONE(d, "  \n\t\n");
		SPLIT_NONE(d, "-- nothing here;\n/* nor; here */\n");
		SPLIT_NONE(d, ";\n;");
	}
}
END_TEST

START_TEST(only_len_bytes_are_read)
{
	struct sql_stmts st = { NULL, 0, 0 };
	char err[64];
	static const char sql[] = "SELECT 1; SELECT 2;";

	ck_assert_int_eq(sqllex_split(sql, 8, SQLITE, 1, &st, NULL, err, sizeof(err)), 0);
	ck_assert_uint_eq(st.n, 1);
	ck_assert_uint_eq(st.v[0].off, 0);
	ck_assert_uint_eq(st.v[0].len, 8);
	/* statements are appended to what out already holds */
	ck_assert_int_eq(sqllex_split(sql + 10, 9, SQLITE, 5, &st, NULL, err, sizeof(err)), 0);
	ck_assert_uint_eq(st.n, 2);
	ck_assert_uint_eq(st.v[1].off, 0);
	ck_assert_uint_eq(st.v[1].len, 8);
	ck_assert_int_eq(st.v[1].line, 5);
	sql_stmts_release(&st);
	ck_assert_ptr_null(st.v);
	ck_assert_uint_eq(st.n, 0);
}
END_TEST

START_TEST(string_holding_semicolon_and_dashes)
{
	static const char sql[] =
		"INSERT INTO t VALUES ('a;b -- c /* d', 'it''s; ok');\n"
		"SELECT 2;";
	enum sql_dialect d;

	for (d = SQLITE; d <= MY; d++)
		SPLIT(d, sql, { "INSERT INTO t VALUES ('a;b -- c /* d', 'it''s; ok')", 1 }, { "SELECT 2", 2 });
}
END_TEST

START_TEST(line_comment_holding_semicolon)
{
	enum sql_dialect d;

	for (d = SQLITE; d <= MY; d++) {
		SPLIT(d, "SELECT 1; -- x; y\nSELECT 2;", { "SELECT 1", 1 }, { "SELECT 2", 2 });
		SPLIT(d, "-- header; here\nSELECT 1;", { "SELECT 1", 2 });
		SPLIT(d, "SELECT -- c; d\n 1;\nSELECT 2 -- trailing\n", { "SELECT -- c; d\n 1", 1 },
		      { "SELECT 2", 3 });
	}
}
END_TEST

START_TEST(block_comment_holding_semicolon)
{
	enum sql_dialect d;

	for (d = SQLITE; d <= MY; d++)
		SPLIT(d, "SELECT /* ; */ 1;\n/* a;\n b; */\nSELECT 2; /* c; */",
		      { "SELECT /* ; */ 1", 1 }, { "SELECT 2", 4 });
}
END_TEST

START_TEST(multi_line_string_counts_lines)
{
	enum sql_dialect d;

	for (d = SQLITE; d <= MY; d++)
		SPLIT(d, "INSERT INTO t VALUES ('one\ntwo;\nthree');\nSELECT 2;",
		      { "INSERT INTO t VALUES ('one\ntwo;\nthree')", 1 }, { "SELECT 2", 4 });
}
END_TEST

START_TEST(transaction_statements_are_not_blocks)
{
	enum sql_dialect d;

	for (d = SQLITE; d <= MY; d++)
		SPLIT(d, "BEGIN;\nSELECT CASE WHEN 1 THEN 2 END;\nEND;\nSELECT 3;", { "BEGIN", 1 },
		      { "SELECT CASE WHEN 1 THEN 2 END", 2 }, { "END", 3 }, { "SELECT 3", 4 });
}
END_TEST

/* ---- SQLite --------------------------------------------------------------------- */

START_TEST(sqlite_trigger_is_one_statement)
{
	static const char sql[] =
		"CREATE TABLE t (x INTEGER);\n"
		"CREATE TRIGGER trg AFTER INSERT ON t\n"
		"BEGIN\n"
		"  UPDATE t SET x = 1;\n"
		"  DELETE FROM t WHERE x = 2;\n"
		"END;\n"
		"SELECT 3;\n";

	SPLIT(SQLITE, sql, { "CREATE TABLE t (x INTEGER)", 1 },
	      { "CREATE TRIGGER trg AFTER INSERT ON t\n"
		"BEGIN\n"
		"  UPDATE t SET x = 1;\n"
		"  DELETE FROM t WHERE x = 2;\n"
		"END", 2 },
	      { "SELECT 3", 7 });
	/* lower case, TEMP and IF NOT EXISTS */
	SPLIT(SQLITE, "create temp trigger if not exists trg before delete on t begin select 1; end;select 2",
	      { "create temp trigger if not exists trg before delete on t begin select 1; end", 1 },
	      { "select 2", 1 });
}
END_TEST

START_TEST(sqlite_trigger_with_case_end)
{
	static const char sql[] =
		"CREATE TRIGGER trg AFTER INSERT ON t BEGIN\n"
		"  UPDATE t SET y = CASE WHEN new.x > 0 THEN 'pos;' ELSE 'neg' END;\n"
		"  INSERT INTO log VALUES (CASE new.x WHEN 1 THEN 'one' END);\n"
		"END;\n"
		"INSERT INTO t VALUES (1);";

	SPLIT(SQLITE, sql,
	      { "CREATE TRIGGER trg AFTER INSERT ON t BEGIN\n"
		"  UPDATE t SET y = CASE WHEN new.x > 0 THEN 'pos;' ELSE 'neg' END;\n"
		"  INSERT INTO log VALUES (CASE new.x WHEN 1 THEN 'one' END);\n"
		"END", 1 },
	      { "INSERT INTO t VALUES (1)", 5 });
	/* a CASE in the WHEN clause, before BEGIN */
	SPLIT(SQLITE, "CREATE TRIGGER trg AFTER UPDATE ON t WHEN CASE WHEN new.x THEN 1 END BEGIN SELECT 1; END;\nSELECT 2;",
	      { "CREATE TRIGGER trg AFTER UPDATE ON t WHEN CASE WHEN new.x THEN 1 END BEGIN SELECT 1; END", 1 },
	      { "SELECT 2", 2 });
}
END_TEST

START_TEST(sqlite_quoted_identifiers)
{
	SPLIT(SQLITE, "SELECT \"a;b\", `c;d`, [e;f] FROM \"t\"\"x;\";SELECT 2",
	      { "SELECT \"a;b\", `c;d`, [e;f] FROM \"t\"\"x;\"", 1 }, { "SELECT 2", 1 });
	/* no backslash escapes outside MySQL: 'a\' is a whole string */
	SPLIT(SQLITE, "SELECT 'a\\'; SELECT 2;", { "SELECT 'a\\'", 1 }, { "SELECT 2", 1 });
}
END_TEST

/*
 * Regression (found by this suite, fixed in 85d6e30): "CREATE TABLE event"
 * was taken for a routine because EVENT stood among its first words, and a
 * column named begin (valid SQLite) then swallowed the next statement.
 */
START_TEST(sqlite_table_named_event_is_not_a_routine)
{
	SPLIT(SQLITE, "CREATE TABLE event (id INTEGER, begin TEXT);\nCREATE TABLE x (y INTEGER);",
	      { "CREATE TABLE event (id INTEGER, begin TEXT)", 1 }, { "CREATE TABLE x (y INTEGER)", 2 });
}
END_TEST

START_TEST(create_kind_decides_routine)
{
	/* modifiers before the kind */
	SPLIT(SQLITE, "CREATE TEMPORARY TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END;\nSELECT 2;",
	      { "CREATE TEMPORARY TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END", 1 }, { "SELECT 2", 2 });
	/* other objects named like routines stay plain statements */
	SPLIT(PG, "CREATE INDEX trigger ON function (begin);\nCREATE VIEW procedure AS SELECT 1 AS begin;\nSELECT 3;",
	      { "CREATE INDEX trigger ON function (begin)", 1 },
	      { "CREATE VIEW procedure AS SELECT 1 AS begin", 2 }, { "SELECT 3", 3 });
}
END_TEST

/* ---- PostgreSQL ----------------------------------------------------------------------- */

START_TEST(postgres_dollar_quoted_function_and_do_block)
{
	static const char sql[] =
		"CREATE FUNCTION f() RETURNS trigger AS $$\n"
		"BEGIN\n"
		"  NEW.x := 1; -- not a comment inside the body? it is body text\n"
		"  RETURN NEW;\n"
		"END;\n"
		"$$ LANGUAGE plpgsql;\n"
		"DO $fn$ BEGIN PERFORM 1; RAISE NOTICE 'a;b'; END $fn$;\n"
		"SELECT 1;";

	SPLIT(PG, sql,
	      { "CREATE FUNCTION f() RETURNS trigger AS $$\n"
		"BEGIN\n"
		"  NEW.x := 1; -- not a comment inside the body? it is body text\n"
		"  RETURN NEW;\n"
		"END;\n"
		"$$ LANGUAGE plpgsql", 1 },
	      { "DO $fn$ BEGIN PERFORM 1; RAISE NOTICE 'a;b'; END $fn$", 7 },
	      { "SELECT 1", 8 });
}
END_TEST

START_TEST(postgres_dollar_tags_must_match)
{
	SPLIT(PG, "SELECT $fn$ a $$ ; $$ b $fn$; SELECT 2",
	      { "SELECT $fn$ a $$ ; $$ b $fn$", 1 }, { "SELECT 2", 1 });
	/* $1 is a parameter and a$b an identifier, not dollar quotes */
	SPLIT(PG, "PREPARE p AS SELECT $1; SELECT a$b; SELECT 3", { "PREPARE p AS SELECT $1", 1 },
	      { "SELECT a$b", 1 }, { "SELECT 3", 1 });
}
END_TEST

START_TEST(postgres_single_quoted_function_body)
{
	SPLIT(PG, "CREATE OR REPLACE FUNCTION f() RETURNS int AS 'SELECT 1; SELECT ''x;''' LANGUAGE sql;\nSELECT 2;",
	      { "CREATE OR REPLACE FUNCTION f() RETURNS int AS 'SELECT 1; SELECT ''x;''' LANGUAGE sql", 1 },
	      { "SELECT 2", 2 });
}
END_TEST

START_TEST(postgres_e_strings_with_backslash)
{
	SPLIT(PG, "SELECT E'it\\'s;'; SELECT e'\\\\'; SELECT 'a\\'; SELECT 4;",
	      { "SELECT E'it\\'s;'", 1 }, { "SELECT e'\\\\'", 1 }, { "SELECT 'a\\'", 1 }, { "SELECT 4", 1 });
}
END_TEST

START_TEST(postgres_nested_block_comments)
{
	static const char sql[] = "SELECT 1 /* outer /* inner; */ still; */ + 1;\nSELECT 2;";

	SPLIT(PG, sql, { "SELECT 1 /* outer /* inner; */ still; */ + 1", 1 }, { "SELECT 2", 2 });
	/* elsewhere the first * / closes the comment */
	SPLIT(SQLITE, sql, { "SELECT 1 /* outer /* inner; */ still", 1 }, { "*/ + 1", 1 }, { "SELECT 2", 2 });
	/* a trailing comment is not part of the statement's text */
	SPLIT(PG, "SELECT 1 /* a /* b; */ c; */;", { "SELECT 1", 1 });
}
END_TEST

START_TEST(postgres_double_quoted_identifiers)
{
	SPLIT(PG, "CREATE TABLE \"a;b\" (\"c--d\" int); SELECT 2",
	      { "CREATE TABLE \"a;b\" (\"c--d\" int)", 1 }, { "SELECT 2", 1 });
}
END_TEST

START_TEST(postgres_begin_atomic_body)
{
	SPLIT(PG, "CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND;\nSELECT 3;",
	      { "CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND", 1 },
	      { "SELECT 3", 6 });
	/* a trigger without a body ends at its ';' */
	SPLIT(PG, "CREATE TRIGGER t BEFORE UPDATE ON a FOR EACH ROW EXECUTE FUNCTION f();\nSELECT 1;",
	      { "CREATE TRIGGER t BEFORE UPDATE ON a FOR EACH ROW EXECUTE FUNCTION f()", 1 },
	      { "SELECT 1", 2 });
}
END_TEST

/* ---- MySQL ----------------------------------------------------------------------------- */

START_TEST(mysql_procedure_with_if_is_one_statement)
{
	static const char sql[] =
		"CREATE PROCEDURE p(IN x INT)\n"
		"BEGIN\n"
		"  IF x > 0 THEN\n"
		"    INSERT INTO t VALUES (x);\n"
		"  ELSE\n"
		"    INSERT INTO t VALUES (0);\n"
		"  END IF;\n"
		"  WHILE x > 0 DO\n"
		"    SET x = x - 1;\n"
		"  END WHILE;\n"
		"  CASE x WHEN 0 THEN SELECT 'z;'; ELSE SELECT IF(x, 1, 2); END CASE;\n"
		"  SELECT CASE x WHEN 0 THEN 'z' END;\n"
		"END;\n"
		"CALL p(1);";

	SPLIT(MY, sql,
	      { "CREATE PROCEDURE p(IN x INT)\n"
		"BEGIN\n"
		"  IF x > 0 THEN\n"
		"    INSERT INTO t VALUES (x);\n"
		"  ELSE\n"
		"    INSERT INTO t VALUES (0);\n"
		"  END IF;\n"
		"  WHILE x > 0 DO\n"
		"    SET x = x - 1;\n"
		"  END WHILE;\n"
		"  CASE x WHEN 0 THEN SELECT 'z;'; ELSE SELECT IF(x, 1, 2); END CASE;\n"
		"  SELECT CASE x WHEN 0 THEN 'z' END;\n"
		"END", 1 },
	      { "CALL p(1)", 14 });
}
END_TEST

START_TEST(mysql_labelled_blocks_and_definer)
{
	SPLIT(MY, "CREATE DEFINER=`root`@`localhost` FUNCTION f() RETURNS INT DETERMINISTIC\n"
		  "blk: BEGIN\n  DECLARE x INT DEFAULT 0;\n  l: LOOP SET x = x + 1; IF x > 3 THEN LEAVE l; END IF; END LOOP l;\n"
		  "  REPEAT SET x = x - 1; UNTIL x = 0 END REPEAT;\n  RETURN x;\nEND blk;\nSELECT f();",
	      { "CREATE DEFINER=`root`@`localhost` FUNCTION f() RETURNS INT DETERMINISTIC\n"
		"blk: BEGIN\n  DECLARE x INT DEFAULT 0;\n  l: LOOP SET x = x + 1; IF x > 3 THEN LEAVE l; END IF; END LOOP l;\n"
		"  REPEAT SET x = x - 1; UNTIL x = 0 END REPEAT;\n  RETURN x;\nEND blk", 1 },
	      { "SELECT f()", 8 });
}
END_TEST

START_TEST(mysql_trigger_and_event_bodies)
{
	SPLIT(MY, "CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW BEGIN\n"
		  "  IF NEW.x < 0 THEN SET NEW.x = 0; END IF;\nEND;\n"
		  "CREATE TRIGGER t2 BEFORE UPDATE ON t FOR EACH ROW SET NEW.y = 1;\n"
		  "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; END;\n"
		  "SELECT 1;",
	      { "CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW BEGIN\n"
		"  IF NEW.x < 0 THEN SET NEW.x = 0; END IF;\nEND", 1 },
	      { "CREATE TRIGGER t2 BEFORE UPDATE ON t FOR EACH ROW SET NEW.y = 1", 4 },
	      { "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; END", 5 },
	      { "SELECT 1", 6 });
}
END_TEST

START_TEST(mysql_delimiter_blocks)
{
	static const char sql[] =
		"DELIMITER $$\n"
		"CREATE PROCEDURE p()\n"
		"BEGIN\n"
		"  SELECT 1;\n"
		"END$$\n"
		"DELIMITER ;\n"
		"CALL p();\n";

	SPLIT(MY, sql, { "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\nEND", 2 }, { "CALL p()", 7 });
	/* with a custom delimiter, ';' no longer ends statements */
	SPLIT(MY, "delimiter //\nSELECT 1; SELECT 2//\nSELECT 3 //\nDELIMITER ;\nSELECT 4;",
	      { "SELECT 1; SELECT 2", 2 }, { "SELECT 3", 3 }, { "SELECT 4", 5 });
}
END_TEST

START_TEST(mysql_hash_comments)
{
	SPLIT(MY, "SELECT 1; # a; b\n# SELECT 2;\nSELECT 3 # c;\n;", { "SELECT 1", 1 }, { "SELECT 3", 3 });
}
END_TEST

START_TEST(mysql_backslash_escapes_in_strings)
{
	SPLIT(MY, "INSERT INTO t VALUES ('it\\'s; fine', \"say \\\"hi;\\\"\", '\\\\');\nSELECT 2;",
	      { "INSERT INTO t VALUES ('it\\'s; fine', \"say \\\"hi;\\\"\", '\\\\')", 1 }, { "SELECT 2", 2 });
}
END_TEST

START_TEST(mysql_double_dash_needs_space)
{
	SPLIT(MY, "SELECT 5--1;\nSELECT 2;", { "SELECT 5--1", 1 }, { "SELECT 2", 2 });
	SPLIT(MY, "SELECT 1; -- a; b\nSELECT 2; --\tc;\nSELECT 3;--", { "SELECT 1", 1 }, { "SELECT 2", 2 },
	      { "SELECT 3", 3 });
	/* elsewhere --1 starts a comment */
	SPLIT(PG, "SELECT 5--1;\nSELECT 2;", { "SELECT 5--1;\nSELECT 2", 1 });
}
END_TEST

START_TEST(mysql_backtick_identifiers)
{
	SPLIT(MY, "SELECT `a;b` FROM `t``;`; SELECT 2", { "SELECT `a;b` FROM `t``;`", 1 }, { "SELECT 2", 1 });
}
END_TEST

START_TEST(mysql_executable_comment_is_code)
{
	SPLIT(MY, "/*!40101 SET x = 1 */;\n/* SET y = 2 */;\nSELECT 3;", { "/*!40101 SET x = 1 */", 1 },
	      { "SELECT 3", 3 });
}
END_TEST

/* ---- errors ------------------------------------------------------------------------------- */

START_TEST(unterminated_string_names_its_line)
{
	enum sql_dialect d;

	for (d = SQLITE; d <= MY; d++)
		SPLIT_FAILS(d, "SELECT 1;\n\nSELECT 'abc;\nmore;\n", "line 3: unterminated string");
	split_fails(__LINE__, SQLITE, 10, "SELECT 1;\n\nSELECT 'abc;\n", "line 12: unterminated string");
	SPLIT_FAILS(MY, "SELECT 'abc\\'", "line 1: unterminated string");
	SPLIT_FAILS(PG, "\nSELECT E'abc\\'", "line 2: unterminated string");
	SPLIT_FAILS(MY, "SELECT\n\"abc", "line 2: unterminated string");
	SPLIT_FAILS(SQLITE, "SELECT\n\"abc", "line 2: unterminated quoted identifier");
	SPLIT_FAILS(PG, "SELECT \"abc", "line 1: unterminated quoted identifier");
	SPLIT_FAILS(MY, "SELECT `abc", "line 1: unterminated quoted identifier");
	SPLIT_FAILS(SQLITE, "SELECT [abc", "line 1: unterminated quoted identifier");
}
END_TEST

START_TEST(unterminated_dollar_quote_names_its_line)
{
	SPLIT_FAILS(PG, "SELECT 1;\nDO $$ BEGIN\n  PERFORM 1;\n", "line 2: unterminated dollar-quoted string");
	SPLIT_FAILS(PG, "SELECT $fn$ body $$;\n", "line 1: unterminated dollar-quoted string");
}
END_TEST

START_TEST(unterminated_comment_names_its_line)
{
	enum sql_dialect d;

	for (d = SQLITE; d <= MY; d++)
		SPLIT_FAILS(d, "SELECT 1;\n/* open\n;\n", "line 2: unterminated /* comment");
	SPLIT_FAILS(PG, "SELECT 1;\n\n/* a /* b */ c\n", "line 3: unterminated /* comment");
}
END_TEST

START_TEST(delimiter_without_argument)
{
	SPLIT_FAILS(MY, "SELECT 1;\nDELIMITER \nSELECT 2;", "line 2: DELIMITER needs a delimiter");
}
END_TEST

/* ---- normalisation ------------------------------------------------------------------------ */

START_TEST(norm_exact_form)
{
	char *n = norm_of(SQLITE, "  SELECT   1 ,  'a  b' ;\n-- c\nINSERT INTO t ( x )\n VALUES (- -1);");

	ck_assert_str_eq(n, "SELECT 1,'a  b';\nINSERT INTO t(x)VALUES(- -1);\n");
	free(n);
}
END_TEST

START_TEST(norm_ignores_comments_and_whitespace)
{
	static const char *const a[] = {
		"CREATE TABLE a (id INT, name TEXT); -- c\nINSERT INTO a VALUES (1, 'x');",
		"SELECT $$ a $$, x::int FROM t WHERE y >= 2;",
		"SELECT 1; # hash\nSELECT 2;",
	};
	static const char *const b[] = {
		"/* header; */\nCREATE   TABLE a(\n  id INT,   -- the key\n  name TEXT\n);\n\n\nINSERT INTO a VALUES(1,'x') ;\n",
		"SELECT $$ a $$ , x :: int\n  FROM t /* where */ WHERE y>=2",
		"SELECT 1 ;\n\n  SELECT   2 # more\n",
	};
	enum sql_dialect ds[] = { SQLITE, PG, MY };
	size_t i;

	for (i = 0; i < 3; i++) {
		char *x = norm_of(ds[i], a[i]), *y = norm_of(ds[i], b[i]);
		ck_assert_msg(strcmp(x, y) == 0, "case %zu: '%s' != '%s'", i, x, y);
		free(x);
		free(y);
	}
}
END_TEST

START_TEST(norm_changes_with_literal_or_keyword)
{
	static const char *const pairs[][2] = {
		{ "INSERT INTO a VALUES (1, 'x');", "INSERT INTO a VALUES (1, 'y');" },
		{ "INSERT INTO a VALUES (1, 'x');", "INSERT INTO a VALUES (2, 'x');" },
		{ "SELECT 'a b';", "SELECT 'a  b';" },
		{ "CREATE TABLE a (id INT);", "CREATE VIEW a (id INT);" },
		{ "SELECT 1; SELECT 2;", "SELECT 1 SELECT 2;" },
		{ "SELECT 5 - -1;", "SELECT 5 --1\n;" },
		{ "SELECT a b;", "SELECT ab;" },
	};
	size_t i;

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		char *x = norm_of(SQLITE, pairs[i][0]), *y = norm_of(SQLITE, pairs[i][1]);
		ck_assert_msg(strcmp(x, y) != 0, "case %zu: both normalise to '%s'", i, x);
		free(x);
		free(y);
	}
	/* a change inside a dollar-quoted body is a change */
	{
		char *x = norm_of(PG, "DO $$ BEGIN PERFORM 1; END $$;");
		char *y = norm_of(PG, "DO $$ BEGIN PERFORM 2; END $$;");
		ck_assert_str_ne(x, y);
		free(x);
		free(y);
	}
}
END_TEST


/* ---- splitting as the database's own client does (issue 12) ------------------------ */

/*
 * sqlite3_complete(), which the sqlite3 shell splits with: inside a trigger
 * only "; END ;" ends it, so a column named end (valid SQLite) and CASE ...
 * END in the body keep it whole. Each case here was run through the shell.
 */
START_TEST(sqlite_trigger_with_a_column_named_end)
{
	SPLIT(SQLITE,
	      "CREATE TABLE x (id INTEGER, end INTEGER);\n"
	      "CREATE TRIGGER t AFTER INSERT ON x BEGIN UPDATE x SET end = 1 WHERE id = new.id; END;\n"
	      "SELECT 2;",
	      { "CREATE TABLE x (id INTEGER, end INTEGER)", 1 },
	      { "CREATE TRIGGER t AFTER INSERT ON x BEGIN UPDATE x SET end = 1 WHERE id = new.id; END", 2 },
	      { "SELECT 2", 3 });
	SPLIT(SQLITE,
	      "CREATE TRIGGER t AFTER INSERT ON x BEGIN\n"
	      "  UPDATE x SET end = CASE WHEN new.end > 0 THEN 1 END;\n"
	      "  SELECT end FROM x WHERE end IN (SELECT end FROM x);\n"
	      "END ;\nSELECT 3;",
	      { "CREATE TRIGGER t AFTER INSERT ON x BEGIN\n"
		"  UPDATE x SET end = CASE WHEN new.end > 0 THEN 1 END;\n"
		"  SELECT end FROM x WHERE end IN (SELECT end FROM x);\n"
		"END", 1 },
	      { "SELECT 3", 5 });
	/* a comment between "; END" and ';' changes nothing */
	SPLIT(SQLITE, "CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END /* c */ ;SELECT 2;",
	      { "CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END", 1 }, { "SELECT 2", 1 });
}
END_TEST

/*
 * The sqlite3 shell gathers lines until sqlite3_complete() says the text
 * holds a whole statement. Random files built from tricky statements
 * (columns named end and begin, CASE ... END and ';' in strings inside
 * triggers) must split exactly where it does.
 */
START_TEST(sqlite_splits_where_sqlite3_complete_does)
{
	static const char *const parts[] = {
		"CREATE TABLE x (id INTEGER, end INTEGER, begin TEXT, \"case\" INT)",
		"CREATE TRIGGER t1 AFTER INSERT ON x BEGIN UPDATE x SET end = 1 WHERE id = new.id; END",
		"CREATE TRIGGER t2 AFTER INSERT ON x BEGIN UPDATE x SET end = CASE WHEN new.end > 0 THEN 1 ELSE 2 END; SELECT end, begin FROM x; END",
		"CREATE TEMP TRIGGER t3 BEFORE DELETE ON x WHEN old.end IS NOT NULL BEGIN SELECT RAISE(ABORT, 'no; END'); END",
		"CREATE TRIGGER t4 AFTER UPDATE ON x BEGIN INSERT INTO x (end) VALUES (CASE new.id WHEN 1 THEN 'a' END); END",
		"SELECT CASE WHEN 1 THEN 2 END",
		"INSERT INTO x (end, begin) VALUES (1, 'END;')",
		"CREATE VIEW v AS SELECT end AS begin FROM x",
		"CREATE TRIGGER t5 AFTER INSERT ON x BEGIN SELECT 1; -- END;\n SELECT 2; END",
		"UPDATE x SET begin = 'x' WHERE end = 3",
		"CREATE TRIGGER t6 AFTER INSERT ON x BEGIN SELECT 1; END /* c */",
	};
	static const char *const ends[] = { ";\n", ";", " ;\n", ";\r\n" };
	unsigned seed = 7;
	int trial;

	for (trial = 0; trial < 200; trial++) {
		struct strbuf sql = STRBUF_INIT, why = STRBUF_INIT;
		struct sql_stmts st = { NULL, 0, 0 };
		char err[256];
		size_t i, k, n = 1 + (size_t)(rand_r(&seed) % 6), from = 0, got = 0;

		for (i = 0; i < n; i++) {
			strbuf_addstr(&sql, parts[rand_r(&seed) % (sizeof(parts) / sizeof(parts[0]))]);
			strbuf_addstr(&sql, ends[rand_r(&seed) % (sizeof(ends) / sizeof(ends[0]))]);
		}
		ck_assert_int_eq(sqllex_split(sql.buf, sql.len, SQLITE, 1, &st, NULL, err, sizeof(err)), 0);
		/* the shell's statements: up to each ';' at which sqlite3_complete() is true */
		for (k = 0; k < sql.len && !why.len; k++) {
			char *chunk;
			size_t a;
			if (sql.buf[k] != ';')
				continue;
			chunk = xstrndup(sql.buf + from, k + 1 - from);
			if (sqlite3_complete(chunk)) {
				for (a = from; a < k && isspace((unsigned char)sql.buf[a]); a++)
					;
				if (got >= st.n || st.v[got].off != a)
					strbuf_addf(&why, "statement %zu: the shell starts one at '%.20s'", got, sql.buf + a);
				got++;
				from = k + 1;
			}
			free(chunk);
		}
		if (!why.len && got != st.n)
			strbuf_addf(&why, "%zu statements, the shell has %zu", st.n, got);
		sql_stmts_release(&st);
		ck_assert_msg(!why.len, "%s in:\n%s", why.buf, sql.buf);
		strbuf_release(&sql);
		strbuf_release(&why);
	}
}
END_TEST

/* psql: a ';' inside parentheses never ends a statement (a multi-action rule). */
START_TEST(postgres_rule_with_parenthesised_actions)
{
	SPLIT(PG,
	      "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (NEW.id); INSERT INTO b VALUES (NEW.id + 1));\n"
	      "INSERT INTO t VALUES (1);",
	      { "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (NEW.id); INSERT INTO b VALUES (NEW.id + 1))", 1 },
	      { "INSERT INTO t VALUES (1)", 2 });
	/* psql counts BEGIN ... END (and CASE inside it) in CREATE [OR REPLACE] FUNCTION/PROCEDURE only */
	SPLIT(PG,
	      "CREATE OR REPLACE PROCEDURE p(x int) LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN x > 0 THEN 1 END; SELECT 2; END;\n"
	      "SELECT 3;",
	      { "CREATE OR REPLACE PROCEDURE p(x int) LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN x > 0 THEN 1 END; SELECT 2; END", 1 },
	      { "SELECT 3", 2 });
	/* an unbalanced ')' is ignored, as psql does */
	SPLIT(PG, "SELECT 1);SELECT 2;", { "SELECT 1)", 1 }, { "SELECT 2", 1 });
}
END_TEST

/*
 * MySQL without DELIMITER: inside a routine, BEGIN/END/CASE after '.', ','
 * '(' , an operator or a word a name follows are column names. (With
 * DELIMITER the delimiter alone splits, as in the mysql client.)
 */
START_TEST(mysql_routine_with_columns_named_end_and_begin)
{
	SPLIT(MY,
	      "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN\n"
	      "  SET NEW.end = CASE WHEN NEW.id > 0 THEN 1 ELSE 0 END;\n"
	      "  SET NEW.begin = 2;\n"
	      "  UPDATE y SET end = NEW.id, begin = 1 WHERE end IS NULL AND (end, id) = (1, 2);\n"
	      "END;\nSELECT 1;",
	      { "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN\n"
		"  SET NEW.end = CASE WHEN NEW.id > 0 THEN 1 ELSE 0 END;\n"
		"  SET NEW.begin = 2;\n"
		"  UPDATE y SET end = NEW.id, begin = 1 WHERE end IS NULL AND (end, id) = (1, 2);\n"
		"END", 1 },
	      { "SELECT 1", 6 });
	/* MariaDB's Oracle mode: AS BEGIN opens the body */
	SPLIT(MY, "CREATE PROCEDURE p AS BEGIN SELECT 1; SELECT 2; END;SELECT 3;",
	      { "CREATE PROCEDURE p AS BEGIN SELECT 1; SELECT 2; END", 1 }, { "SELECT 3", 1 });
	/* blocks still nest: ELSE BEGIN, a label, END IF, END CASE */
	SPLIT(MY,
	      "CREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 1; ELSE BEGIN SELECT 2; END; END IF; "
	      "lbl: BEGIN CASE 1 WHEN 1 THEN SELECT 3; END CASE; END lbl; END;SELECT 4;",
	      { "CREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 1; ELSE BEGIN SELECT 2; END; END IF; "
		"lbl: BEGIN CASE 1 WHEN 1 THEN SELECT 3; END CASE; END lbl; END", 1 },
	      { "SELECT 4", 1 });
}
END_TEST

/* A lone CR ends a line (as in the markers); CRLF is one line break, not two. */
START_TEST(cr_and_crlf_line_breaks)
{
	enum sql_dialect d;

	for (d = SQLITE; d <= MY; d++) {
		SPLIT(d, "SELECT 1;\rSELECT 2;\r\nSELECT 3;\r\n-- c\rSELECT 4;",
		      { "SELECT 1", 1 }, { "SELECT 2", 2 }, { "SELECT 3", 3 }, { "SELECT 4", 5 });
		/* a CR inside a string is the string's, and counts as a line */
		SPLIT(d, "SELECT 'a\rb';\nSELECT 2;", { "SELECT 'a\rb'", 1 }, { "SELECT 2", 3 });
	}
}
END_TEST

/* checksum_sql reads every line ending inside a token as LF, as it always did. */
START_TEST(norm_reads_line_endings_as_lf)
{
	enum sql_dialect d;

	for (d = SQLITE; d <= MY; d++) {
		char *a = norm_of(d, "SELECT 'a\nb';\nSELECT 2;");
		char *b = norm_of(d, "SELECT 'a\rb';\rSELECT 2;");
		char *c = norm_of(d, "SELECT 'a\r\nb';\r\nSELECT 2;");
		ck_assert_str_eq(a, b);
		ck_assert_str_eq(a, c);
		free(a);
		free(b);
		free(c);
	}
}
END_TEST

/* ---- classifying statements --------------------------------------------------------- */

static void classify_is(int at, enum sql_dialect d, const char *sql, enum sql_stmt_kind want,
			const char *what)
{
	char got[64] = "?";
	enum sql_stmt_kind k = sqllex_classify(sql, strlen(sql), d, got, sizeof(got));

	ck_assert_msg(k == want, "line %d (%s): '%s' is kind %d, want %d", at, dialect_name(d), sql, (int)k,
		      (int)want);
	if (what)
		ck_assert_msg(strcmp(got, what) == 0, "line %d (%s): '%s' names '%s', want '%s'", at,
			      dialect_name(d), sql, got, what);
}

#define CLASSIFY(d, sql, kind, what) classify_is(__LINE__, (d), (sql), (kind), (what))

START_TEST(classify_transaction_control)
{
	enum sql_dialect d;

	for (d = SQLITE; d <= MY; d++) {
		CLASSIFY(d, "COMMIT", SQL_STMT_TX_CONTROL, "COMMIT");
		CLASSIFY(d, "commit work", SQL_STMT_TX_CONTROL, "commit");
		CLASSIFY(d, "-- x\n/* y */ ROLLBACK", SQL_STMT_TX_CONTROL, "ROLLBACK");
		CLASSIFY(d, "ROLLBACK TO SAVEPOINT a", SQL_STMT_OTHER, NULL);
		CLASSIFY(d, "ROLLBACK TRANSACTION TO a", SQL_STMT_OTHER, NULL);
		CLASSIFY(d, "ROLLBACK WORK TO SAVEPOINT a", SQL_STMT_OTHER, NULL);
		CLASSIFY(d, "SAVEPOINT a", SQL_STMT_OTHER, NULL);
		CLASSIFY(d, "RELEASE SAVEPOINT a", SQL_STMT_OTHER, NULL);
		CLASSIFY(d, "BEGIN", SQL_STMT_TX_CONTROL, "BEGIN");
		CLASSIFY(d, "CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; COMMIT; END", SQL_STMT_OTHER, NULL);
		CLASSIFY(d, "SELECT 'COMMIT'", SQL_STMT_OTHER, NULL);
		CLASSIFY(d, "committed_rows", SQL_STMT_OTHER, NULL);
	}
	CLASSIFY(SQLITE, "BEGIN IMMEDIATE TRANSACTION", SQL_STMT_TX_CONTROL, "BEGIN");
	CLASSIFY(SQLITE, "END TRANSACTION", SQL_STMT_TX_CONTROL, "END");
	CLASSIFY(PG, "END", SQL_STMT_TX_CONTROL, "END");
	CLASSIFY(PG, "ABORT", SQL_STMT_TX_CONTROL, "ABORT");
	CLASSIFY(PG, "start  transaction isolation level serializable", SQL_STMT_TX_CONTROL, "start  transaction");
	CLASSIFY(PG, "BEGIN ISOLATION LEVEL SERIALIZABLE", SQL_STMT_TX_CONTROL, "BEGIN");
	CLASSIFY(PG, "PREPARE TRANSACTION 'x'", SQL_STMT_TX_CONTROL, "PREPARE TRANSACTION");
	CLASSIFY(PG, "PREPARE q AS SELECT 1", SQL_STMT_OTHER, NULL);
	CLASSIFY(PG, "DO $$ BEGIN COMMIT; END $$", SQL_STMT_OTHER, NULL);
	CLASSIFY(MY, "START TRANSACTION", SQL_STMT_TX_CONTROL, "START TRANSACTION");
	CLASSIFY(MY, "BEGIN WORK", SQL_STMT_TX_CONTROL, "BEGIN");
	CLASSIFY(MY, "BEGIN NOT ATOMIC SELECT 1; END", SQL_STMT_OTHER, NULL);
	CLASSIFY(MY, "END", SQL_STMT_OTHER, NULL);
	CLASSIFY(MY, "START SLAVE", SQL_STMT_OTHER, NULL);
	CLASSIFY(SQLITE, "START TRANSACTION", SQL_STMT_OTHER, NULL);
}
END_TEST

START_TEST(classify_postgres_statements_outside_transactions)
{
	CLASSIFY(PG, "VACUUM ANALYZE t", SQL_STMT_NO_TX, "VACUUM");
	CLASSIFY(PG, "CREATE INDEX CONCURRENTLY i ON t (x)", SQL_STMT_NO_TX, "CREATE INDEX CONCURRENTLY");
	CLASSIFY(PG, "create unique index concurrently i ON t (x)", SQL_STMT_NO_TX, "create unique index concurrently");
	CLASSIFY(PG, "DROP INDEX CONCURRENTLY i", SQL_STMT_NO_TX, "DROP INDEX CONCURRENTLY");
	CLASSIFY(PG, "REINDEX (VERBOSE) TABLE CONCURRENTLY t", SQL_STMT_NO_TX, NULL);
	CLASSIFY(PG, "REINDEX DATABASE d", SQL_STMT_NO_TX, "REINDEX DATABASE");
	CLASSIFY(PG, "CREATE DATABASE d", SQL_STMT_NO_TX, "CREATE DATABASE");
	CLASSIFY(PG, "DROP TABLESPACE s", SQL_STMT_NO_TX, "DROP TABLESPACE");
	CLASSIFY(PG, "ALTER SYSTEM SET work_mem = '1MB'", SQL_STMT_NO_TX, "ALTER SYSTEM");
	CLASSIFY(PG, "CREATE INDEX i ON t (x)", SQL_STMT_OTHER, NULL);
	CLASSIFY(PG, "CREATE TABLE concurrently (x int)", SQL_STMT_OTHER, NULL);
	CLASSIFY(PG, "REINDEX TABLE t", SQL_STMT_OTHER, NULL);
	CLASSIFY(PG, "ALTER DATABASE d SET x = 1", SQL_STMT_OTHER, NULL);
	CLASSIFY(MY, "CREATE DATABASE d", SQL_STMT_OTHER, NULL);
}
END_TEST

START_TEST(classify_sqlite_settings)
{
	CLASSIFY(SQLITE, "PRAGMA foreign_keys=OFF", SQL_STMT_FK_OFF, "PRAGMA foreign_keys");
	CLASSIFY(SQLITE, "pragma foreign_keys = 0", SQL_STMT_FK_OFF, NULL);
	CLASSIFY(SQLITE, "PRAGMA foreign_keys('false')", SQL_STMT_FK_OFF, NULL);
	CLASSIFY(SQLITE, "PRAGMA main.foreign_keys = no", SQL_STMT_FK_OFF, NULL);
	CLASSIFY(SQLITE, "PRAGMA foreign_keys = ON", SQL_STMT_FK_ON, NULL);
	CLASSIFY(SQLITE, "PRAGMA foreign_keys=true", SQL_STMT_FK_ON, NULL);
	CLASSIFY(SQLITE, "PRAGMA foreign_keys", SQL_STMT_OTHER, NULL);
	CLASSIFY(SQLITE, "PRAGMA foreign_key_check", SQL_STMT_OTHER, NULL);
	CLASSIFY(SQLITE, "PRAGMA defer_foreign_keys = ON", SQL_STMT_OTHER, NULL);
	CLASSIFY(SQLITE, "PRAGMA legacy_alter_table = ON", SQL_STMT_OTHER, NULL);
	CLASSIFY(SQLITE, "PRAGMA journal_mode = WAL", SQL_STMT_NO_TX, "PRAGMA journal_mode");
	CLASSIFY(SQLITE, "PRAGMA journal_mode", SQL_STMT_OTHER, NULL);
	CLASSIFY(SQLITE, "PRAGMA synchronous=OFF", SQL_STMT_NO_TX, "PRAGMA synchronous");
	CLASSIFY(SQLITE, "PRAGMA wal_checkpoint(TRUNCATE)", SQL_STMT_NO_TX, "PRAGMA wal_checkpoint");
	CLASSIFY(SQLITE, "VACUUM", SQL_STMT_NO_TX, "VACUUM");
	/* not SQLite's settings elsewhere */
	CLASSIFY(MY, "VACUUM", SQL_STMT_OTHER, NULL);
	CLASSIFY(MY, "PRAGMA foreign_keys=OFF", SQL_STMT_OTHER, NULL);
}
END_TEST

Suite *sqllex_suite(void)
{
	Suite *s = suite_create("sqllex");
	TCase *tc = tcase_create("split");
	TCase *te = tcase_create("errors");
	TCase *tn = tcase_create("norm");

	tcase_add_test(tc, plain_statements_with_lines);
	tcase_add_test(tc, last_statement_without_semicolon);
	tcase_add_test(tc, first_line_offsets_line_numbers);
	tcase_add_test(tc, empty_and_comment_only_give_no_statements);
	tcase_add_test(tc, only_len_bytes_are_read);
	tcase_add_test(tc, string_holding_semicolon_and_dashes);
	tcase_add_test(tc, line_comment_holding_semicolon);
	tcase_add_test(tc, block_comment_holding_semicolon);
	tcase_add_test(tc, multi_line_string_counts_lines);
	tcase_add_test(tc, transaction_statements_are_not_blocks);
	tcase_add_test(tc, sqlite_trigger_is_one_statement);
	tcase_add_test(tc, sqlite_trigger_with_case_end);
	tcase_add_test(tc, sqlite_quoted_identifiers);
	tcase_add_test(tc, sqlite_table_named_event_is_not_a_routine);
	tcase_add_test(tc, create_kind_decides_routine);
	tcase_add_test(tc, postgres_dollar_quoted_function_and_do_block);
	tcase_add_test(tc, postgres_single_quoted_function_body);
	tcase_add_test(tc, postgres_dollar_tags_must_match);
	tcase_add_test(tc, postgres_e_strings_with_backslash);
	tcase_add_test(tc, postgres_nested_block_comments);
	tcase_add_test(tc, postgres_double_quoted_identifiers);
	tcase_add_test(tc, postgres_begin_atomic_body);
	tcase_add_test(tc, mysql_procedure_with_if_is_one_statement);
	tcase_add_test(tc, mysql_labelled_blocks_and_definer);
	tcase_add_test(tc, mysql_trigger_and_event_bodies);
	tcase_add_test(tc, mysql_delimiter_blocks);
	tcase_add_test(tc, mysql_hash_comments);
	tcase_add_test(tc, mysql_backslash_escapes_in_strings);
	tcase_add_test(tc, mysql_double_dash_needs_space);
	tcase_add_test(tc, mysql_backtick_identifiers);
	tcase_add_test(tc, mysql_executable_comment_is_code);
	tcase_add_test(tc, sqlite_trigger_with_a_column_named_end);
	tcase_add_test(tc, sqlite_splits_where_sqlite3_complete_does);
	tcase_add_test(tc, postgres_rule_with_parenthesised_actions);
	tcase_add_test(tc, mysql_routine_with_columns_named_end_and_begin);
	tcase_add_test(tc, cr_and_crlf_line_breaks);
	tcase_add_test(tc, classify_transaction_control);
	tcase_add_test(tc, classify_sqlite_settings);
	tcase_add_test(tc, classify_postgres_statements_outside_transactions);
	suite_add_tcase(s, tc);

	tcase_add_test(te, unterminated_string_names_its_line);
	tcase_add_test(te, unterminated_dollar_quote_names_its_line);
	tcase_add_test(te, unterminated_comment_names_its_line);
	tcase_add_test(te, delimiter_without_argument);
	suite_add_tcase(s, te);

	tcase_add_test(tn, norm_exact_form);
	tcase_add_test(tn, norm_ignores_comments_and_whitespace);
	tcase_add_test(tn, norm_changes_with_literal_or_keyword);
	tcase_add_test(tn, norm_reads_line_endings_as_lf);
	suite_add_tcase(s, tn);
	return s;
}
