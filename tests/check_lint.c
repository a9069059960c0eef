/*
 * check_lint.c - unit tests for migrate/lint.c (SPEC section 12): each rule
 * with its hazard and with the safe way to write it, on the dialects it is
 * about and not on the others; nothing read from strings, comments or quoted
 * identifiers; the history model (a table the same migration made is no
 * hazard); ignore comments; [lint] in the config; the documentation of
 * every rule. No database: lint --all needs none. Through the built binary,
 * as users run it, with --format json read back.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../migrate/util.h"
#include "testutil.h"

Suite *lint_suite(void);

enum { SQ, PG, MY };

static char *dir;

static void setup(void)
{
	dir = tmpdir_new();
}

static void teardown(void)
{
	rm_rf(dir);
	free(dir);
	dir = NULL;
}

static const char *const urls[] = {
	"sqlite:lint-test.db",
	/* never connected to by lint --all; port 1 refuses at once when it is */
	"postgres://lint@127.0.0.1:1/nodb",
	"mysql://lint@127.0.0.1:1/nodb",
};

/* What one 'migrate --format json lint' said. */
struct lint_run {
	int r;                  /* exit status */
	char found[4096];       /* "rule@line rule@line" */
	size_t n, errors, warnings, checked;
	char scope[16];
	char severity[32][8];   /* of the first findings */
	char message[4096];     /* of the first finding */
	char *err;              /* stderr */
};

static const char *jstr_of(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : "";
}

/*
 * Writes the files (name, text, ..., NULL) into a fresh migrations
 * directory and runs 'migrate --format json lint' on them: every migration
 * (all), or the pending ones. config: the [lint] section's lines, or NULL.
 */
static void lint_files(struct lint_run *lr, int dialect, int all, const char *config, const char *const *files)
{
	char *mdir = path_join(dir, "migrations");
	char *text = xasprintf("[development]\nurl = %s\n%s%s", urls[dialect], config ? "[lint]\n" : "",
			       config ? config : "");
	struct run run;
	json_error_t jerr;
	json_t *doc, *f;
	size_t i;

	memset(lr, 0, sizeof(*lr));
	rm_rf(mdir);
	for (; files && files[0]; files += 2) {
		char *name = xasprintf("migrations/%s", files[0]);
		write_file(dir, name, files[1]);
		free(name);
	}
	write_file(dir, "config.ini", text);
	if (all)
		run = run_migrate(dir, NULL, (const char *const[]){ "--format", "json", "lint", "--all", NULL });
	else
		run = run_migrate(dir, NULL, (const char *const[]){ "--format", "json", "lint", NULL });
	lr->r = run.status;
	lr->err = run.err;
	run.err = NULL;
	doc = json_loads(run.out, 0, &jerr);
	if (doc) {
		json_array_foreach(json_object_get(doc, "findings"), i, f) {
			snprintf(lr->found + strlen(lr->found), sizeof(lr->found) - strlen(lr->found), "%s%s@%d",
				 i ? " " : "", jstr_of(f, "rule"), (int)json_integer_value(json_object_get(f, "line")));
			if (i < 32)
				snprintf(lr->severity[i], sizeof(lr->severity[i]), "%s", jstr_of(f, "severity"));
			if (i == 0)
				snprintf(lr->message, sizeof(lr->message), "%s", jstr_of(f, "message"));
			lr->n++;
		}
		lr->errors = (size_t)json_integer_value(json_object_get(doc, "errors"));
		lr->warnings = (size_t)json_integer_value(json_object_get(doc, "warnings"));
		lr->checked = (size_t)json_integer_value(json_object_get(doc, "checked"));
		snprintf(lr->scope, sizeof(lr->scope), "%s", jstr_of(doc, "scope"));
		json_decref(doc);
	}
	run_free(&run);
	free(text);
	free(mdir);
}

static void lint_run_free(struct lint_run *lr)
{
	free(lr->err);
	lr->err = NULL;
}

static const char base[] =
	"-- migrate:up\nCREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(20), c INTEGER);\n"
	"-- migrate:down\nDROP TABLE t;\n";

/* Migration 1 makes table t; migration 2 is "-- migrate:up[ opts]\n" + up. Returns the findings. */
static void check2(int dialect, const char *opts, const char *up, const char *want)
{
	struct lint_run lr;
	char *two = xasprintf("-- migrate:up%s\n%s\n-- migrate:down\n", opts, up);

	lint_files(&lr, dialect, 1, NULL, (const char *const[]){ "1_base.sql", base, "2_change.sql", two, NULL });
	ck_assert_msg(lr.r == 0 || lr.r == 1, "lint failed (exit %d): %s", lr.r, lr.err);
	ck_assert_msg(strcmp(lr.found, want) == 0, "dialect %d, '%s':\n  found '%s'\n  wanted '%s'", dialect, up,
		      lr.found, want);
	/* exit 1 exactly when a finding is an error */
	ck_assert_int_eq(lr.r, lr.errors ? 1 : 0);
	lint_run_free(&lr);
	free(two);
}

/* The same statements on all three dialects. */
static void check2_all(const char *up, const char *want_sq, const char *want_pg, const char *want_my)
{
	check2(SQ, "", up, want_sq);
	check2(PG, "", up, want_pg);
	check2(MY, "", up, want_my);
}

/* Several migrations after base (up sections, each "opts\nbody"); the findings of all. */
static void check_history(int dialect, const char *const *ups, const char *want)
{
	const char *files[16];
	char *texts[8], *names[8];
	struct lint_run lr;
	size_t i, n = 0, k = 0;

	files[k++] = "1_base.sql";
	files[k++] = base;
	for (i = 0; ups[i] && n < 6; i++, n++) {
		names[n] = xasprintf("%zu_step.sql", i + 2);
		texts[n] = xasprintf("-- migrate:up%s\n-- migrate:down\n", ups[i]);
		files[k++] = names[n];
		files[k++] = texts[n];
	}
	files[k] = NULL;
	lint_files(&lr, dialect, 1, NULL, files);
	ck_assert_msg(strcmp(lr.found, want) == 0, "found '%s', wanted '%s'", lr.found, want);
	lint_run_free(&lr);
	for (i = 0; i < n; i++) {
		free(names[i]);
		free(texts[i]);
	}
}

/* ---- PostgreSQL indexes ---------------------------------------------------------------------- */

START_TEST(pg_index_without_concurrently_on_an_existing_table)
{
	check2(PG, "", "CREATE INDEX t_a ON t (a);", "pg-index-not-concurrent@2");
	check2(PG, "", "CREATE UNIQUE INDEX IF NOT EXISTS t_a ON public.t USING btree (a);", "pg-index-not-concurrent@2");
	/* MySQL and SQLite build indexes without blocking writes the same way: not this rule */
	check2(SQ, "", "CREATE INDEX t_a ON t (a);", "");
	check2(MY, "", "CREATE INDEX t_a ON t (a);", "");
}
END_TEST

START_TEST(pg_index_safe_forms)
{
	check2(PG, " transaction:false", "CREATE INDEX CONCURRENTLY t_a ON t (a);", "");
	/* a table this migration made is empty: nothing to block */
	check2(PG, "", "CREATE TABLE u (x integer);\nCREATE INDEX u_x ON u (x);", "");
	/* a partitioned table's parent: ON ONLY makes an invalid index at once */
	check2(PG, "", "CREATE INDEX t_a ON ONLY t (a);", "");
}
END_TEST

START_TEST(pg_concurrently_in_a_transaction)
{
	check2(PG, "", "CREATE INDEX CONCURRENTLY t_a ON t (a);", "pg-concurrently-in-transaction@2");
	check2(PG, "", "DROP INDEX CONCURRENTLY t_a;", "pg-concurrently-in-transaction@2");
	check2(PG, " transaction:false", "DROP INDEX CONCURRENTLY t_a;", "");
	/* REFRESH ... CONCURRENTLY may run in a transaction */
	check2(PG, "", "REFRESH MATERIALIZED VIEW CONCURRENTLY v;", "");
}
END_TEST

START_TEST(nothing_is_read_from_strings_comments_or_quoted_identifiers)
{
	const char *up =
		"SELECT 'CREATE INDEX t_a ON t (a)', 'DROP TABLE t';\n"
		"-- CREATE INDEX t_a ON t (a);\n"
		"/* ALTER TABLE t DROP COLUMN a; */\n"
		"SELECT 1 AS \"UPDATE t SET a = 1\";\n"
		"INSERT INTO t (a) VALUES (1); -- DELETE FROM t;\n";

	check2(PG, "", up, "");
	check2(SQ, "", up, "");
	check2(MY, "", "SELECT 'DROP TABLE t', \"DELETE FROM t\", `UPDATE t SET a = 1`;\n# DELETE FROM t;\n", "");
	check2(PG, "", "DO $$ BEGIN UPDATE t SET a = 1; END $$;", "");
	/* a trigger's body is part of the CREATE TRIGGER, not a statement of the migration */
	check2(SQ, "", "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 1; DELETE FROM t; END;", "");
}
END_TEST

/* ---- columns ---------------------------------------------------------------------------------- */

START_TEST(add_column_not_null_without_default)
{
	check2_all("ALTER TABLE t ADD COLUMN d INTEGER NOT NULL;", "add-column-not-null-without-default@2",
		   "add-column-not-null-without-default@2", "add-column-not-null-without-default@2");
	check2(PG, "", "ALTER TABLE t ADD d integer PRIMARY KEY;",
	       "add-column-not-null-without-default@2 pg-add-unique-constraint@2");
}
END_TEST

START_TEST(add_column_not_null_safe_forms)
{
	check2_all("ALTER TABLE t ADD COLUMN d INTEGER NOT NULL DEFAULT 0;", "", "", "");
	check2_all("ALTER TABLE t ADD COLUMN d INTEGER;", "", "", "");
	check2_all("CREATE TABLE u (x INTEGER);\nALTER TABLE u ADD COLUMN d INTEGER NOT NULL;", "", "", "");
	check2(PG, "", "ALTER TABLE t ADD COLUMN d integer NOT NULL GENERATED ALWAYS AS (a * 2) STORED;",
	       "pg-volatile-default@2");
	check2(MY, "", "ALTER TABLE t ADD COLUMN d INTEGER NOT NULL AUTO_INCREMENT UNIQUE;", "");
}
END_TEST

START_TEST(pg_set_not_null)
{
	check2(PG, "", "ALTER TABLE t ALTER COLUMN a SET NOT NULL;", "pg-set-not-null@2");
	check2(PG, "", "ALTER TABLE t ALTER a DROP NOT NULL;", "");
	check2(PG, "", "CREATE TABLE u (x integer);\nALTER TABLE u ALTER COLUMN x SET NOT NULL;", "");
}
END_TEST

START_TEST(pg_set_not_null_after_a_validated_check)
{
	check_history(PG, (const char *const[]){
		"\nALTER TABLE t ADD CONSTRAINT t_a_nn CHECK (a IS NOT NULL) NOT VALID;",
		"\nALTER TABLE t VALIDATE CONSTRAINT t_a_nn;",
		"\nALTER TABLE t ALTER COLUMN a SET NOT NULL;\nALTER TABLE t DROP CONSTRAINT t_a_nn;",
		NULL }, "");
	/* not yet validated: still a scan */
	check_history(PG, (const char *const[]){
		"\nALTER TABLE t ADD CONSTRAINT t_a_nn CHECK (a IS NOT NULL) NOT VALID;",
		"\nALTER TABLE t ALTER COLUMN a SET NOT NULL;",
		NULL }, "pg-set-not-null@2");
}
END_TEST

START_TEST(alter_column_type)
{
	check2(PG, "", "ALTER TABLE t ALTER COLUMN a TYPE bigint;", "alter-column-type@2");
	check2(PG, "", "ALTER TABLE t ALTER COLUMN b SET DATA TYPE varchar(10);", "alter-column-type@2");
	check2(PG, "", "ALTER TABLE t ALTER COLUMN b TYPE varchar(40) USING lower(b);", "alter-column-type@2");
	check2(MY, "", "ALTER TABLE t MODIFY COLUMN a BIGINT;", "alter-column-type@2");
	check2(MY, "", "ALTER TABLE t CHANGE a a BIGINT NOT NULL;", "alter-column-type@2");
	check2(SQ, "", "ALTER TABLE t ADD COLUMN d TEXT;", "");
}
END_TEST

START_TEST(alter_column_type_safe_forms)
{
	/* no rewrite: a longer or unbounded varchar, varchar to text */
	check2(PG, "", "ALTER TABLE t ALTER COLUMN b TYPE varchar(40);", "");
	check2(PG, "", "ALTER TABLE t ALTER COLUMN b TYPE text;", "");
	check2(PG, "", "CREATE TABLE u (x integer);\nALTER TABLE u ALTER COLUMN x TYPE bigint;", "");
	/* MySQL refuses rather than copies when asked for an online algorithm */
	check2(MY, "", "ALTER TABLE t MODIFY COLUMN a BIGINT, ALGORITHM=INPLACE, LOCK=NONE;", "");
	/* the same type: NULL, NOT NULL or a default, in place */
	check2(MY, "", "ALTER TABLE t MODIFY a INTEGER NOT NULL DEFAULT 0;", "");
}
END_TEST

START_TEST(pg_volatile_default)
{
	check2(PG, "", "ALTER TABLE t ADD COLUMN d uuid DEFAULT gen_random_uuid();", "pg-volatile-default@2");
	check2(PG, "", "ALTER TABLE t ADD COLUMN d double precision DEFAULT random();", "pg-volatile-default@2");
	check2(PG, "", "ALTER TABLE t ADD COLUMN d timestamptz DEFAULT clock_timestamp();", "pg-volatile-default@2");
	check2(PG, "", "ALTER TABLE t ADD COLUMN d bigserial;", "pg-volatile-default@2");
	check2(PG, "", "ALTER TABLE t ADD COLUMN d bigint GENERATED ALWAYS AS IDENTITY;", "pg-volatile-default@2");
}
END_TEST

START_TEST(pg_volatile_default_safe_forms)
{
	/* PostgreSQL 11+: a non-volatile default is stored once, no rewrite */
	check2(PG, "", "ALTER TABLE t ADD COLUMN d timestamptz NOT NULL DEFAULT now();", "");
	check2(PG, "", "ALTER TABLE t ADD COLUMN d text DEFAULT 'random()';", "");
	check2(PG, "", "ALTER TABLE t ADD COLUMN d uuid;\nALTER TABLE t ALTER COLUMN d SET DEFAULT gen_random_uuid();", "");
	check2(PG, "", "CREATE TABLE u (x integer);\nALTER TABLE u ADD COLUMN d uuid DEFAULT gen_random_uuid();", "");
}
END_TEST

/* ---- constraints ---------------------------------------------------------------------------------- */

START_TEST(pg_foreign_key_and_check_without_not_valid)
{
	check2(PG, "", "ALTER TABLE t ADD CONSTRAINT t_c_fk FOREIGN KEY (c) REFERENCES t (id);",
	       "pg-foreign-key-without-not-valid@2");
	check2(PG, "", "ALTER TABLE t ADD COLUMN d integer REFERENCES t (id);", "pg-foreign-key-without-not-valid@2");
	check2(PG, "", "ALTER TABLE t ADD CONSTRAINT t_a_pos CHECK (a > 0);", "pg-check-without-not-valid@2");
	check2(PG, "", "ALTER TABLE t ADD CHECK (a > 0);", "pg-check-without-not-valid@2");
}
END_TEST

START_TEST(pg_constraints_not_valid_then_validated)
{
	check_history(PG, (const char *const[]){
		"\nALTER TABLE t ADD CONSTRAINT t_c_fk FOREIGN KEY (c) REFERENCES t (id) NOT VALID;\n"
		"ALTER TABLE t ADD CONSTRAINT t_a_pos CHECK (a > 0) NOT VALID;",
		"\nALTER TABLE t VALIDATE CONSTRAINT t_c_fk;\nALTER TABLE t VALIDATE CONSTRAINT t_a_pos;",
		NULL }, "");
	check2(PG, "", "CREATE TABLE u (x integer);\nALTER TABLE u ADD CONSTRAINT u_x_fk FOREIGN KEY (x) REFERENCES t (id);",
	       "");
}
END_TEST

START_TEST(pg_unique_constraint)
{
	check2(PG, "", "ALTER TABLE t ADD CONSTRAINT t_b_key UNIQUE (b);", "pg-add-unique-constraint@2");
	check2(PG, "", "ALTER TABLE t ADD COLUMN d integer UNIQUE;", "pg-add-unique-constraint@2");
	check_history(PG, (const char *const[]){
		" transaction:false\nCREATE UNIQUE INDEX CONCURRENTLY t_b_idx ON t (b);",
		"\nALTER TABLE t ADD CONSTRAINT t_b_key UNIQUE USING INDEX t_b_idx;",
		NULL }, "");
	check2(MY, "", "ALTER TABLE t ADD CONSTRAINT t_b_key UNIQUE (b);", "");
}
END_TEST

/* ---- breaking the running application ------------------------------------------------------------ */

START_TEST(drop_and_rename_are_warnings)
{
	struct lint_run lr;

	check2_all("ALTER TABLE t DROP COLUMN b;", "drop-column@2", "drop-column@2", "drop-column@2");
	check2_all("DROP TABLE t;", "drop-table@2", "drop-table@2", "drop-table@2");
	check2_all("ALTER TABLE t RENAME COLUMN a TO a2;", "rename-column@2", "rename-column@2", "rename-column@2");
	check2_all("ALTER TABLE t RENAME TO t2;", "rename-table@2", "rename-table@2", "rename-table@2");
	check2(MY, "", "RENAME TABLE t TO t2;", "rename-table@2");
	check2(MY, "", "ALTER TABLE t CHANGE COLUMN a a2 INTEGER;", "rename-column@2");
	check2(MY, "", "ALTER TABLE t DROP b;", "drop-column@2");
	/* warnings: exit 0 */
	lint_files(&lr, PG, 1, NULL, (const char *const[]){ "1_base.sql", base, "2_x.sql",
		   "-- migrate:up\nDROP TABLE t;\n", NULL });
	ck_assert_int_eq(lr.r, 0);
	ck_assert_int_eq(lr.warnings, 1);
	ck_assert_str_eq(lr.severity[0], "warning");
	lint_run_free(&lr);
}
END_TEST

START_TEST(drop_and_rename_safe_forms)
{
	/* on a table the same migration made */
	check2_all("CREATE TABLE u (x INTEGER, y INTEGER);\nALTER TABLE u DROP COLUMN y;\n"
		   "ALTER TABLE u RENAME COLUMN x TO z;\nALTER TABLE u RENAME TO v;\nDROP TABLE v;", "", "", "");
	/* SQLite's table rebuild: t is made again under its own name */
	check2_all("CREATE TABLE t_new (id INTEGER PRIMARY KEY, a INTEGER);\n"
		   "INSERT INTO t_new (id, a) SELECT id, a FROM t;\nDROP TABLE t;\nALTER TABLE t_new RENAME TO t;", "", "", "");
	/* dropping an index or a constraint is not dropping a column */
	check2(PG, "", "ALTER TABLE t DROP CONSTRAINT t_pkey;", "");
	check2(MY, "", "ALTER TABLE t DROP INDEX t_a, DROP FOREIGN KEY t_fk, DROP PRIMARY KEY;", "");
}
END_TEST

/* ---- MySQL ---------------------------------------------------------------------------------------- */

START_TEST(mysql_inline_references)
{
	struct lint_run lr;

	check2(MY, "", "CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER REFERENCES t (id));",
	       "mysql-inline-references@2");
	check2(MY, "", "ALTER TABLE t ADD COLUMN d INTEGER REFERENCES t (id);", "mysql-inline-references@2");
	/* the server was not asked: the finding says what lint assumed */
	lint_files(&lr, MY, 1, NULL, (const char *const[]){ "1_u.sql",
		   "-- migrate:up\nCREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER REFERENCES t (id));\n", NULL });
	ck_assert_int_eq(lr.n, 1);
	expect_in(lr.message, "lint assumed MySQL", "the finding");
	lint_run_free(&lr);
}
END_TEST

START_TEST(mysql_inline_references_safe_forms)
{
	check2(MY, "", "CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER,\n"
	       "  CONSTRAINT u_t FOREIGN KEY (t_id) REFERENCES t (id));", "");
	check2(MY, "", "ALTER TABLE t ADD CONSTRAINT t_c FOREIGN KEY (c) REFERENCES t (id);", "");
	/* PostgreSQL and SQLite honour it */
	check2(SQ, "", "CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER REFERENCES t (id));", "");
	check2(PG, "", "CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER REFERENCES t (id));", "");
}
END_TEST

START_TEST(mysql_algorithm_copy_and_blocking_locks)
{
	check2(MY, "", "ALTER TABLE t ADD COLUMN d INTEGER, ALGORITHM=COPY;", "mysql-algorithm-copy@2");
	check2(MY, "", "ALTER TABLE t ADD INDEX t_a (a), LOCK = SHARED;", "mysql-lock-blocking@2");
	check2(MY, "", "CREATE INDEX t_a ON t (a) ALGORITHM COPY LOCK EXCLUSIVE;",
	       "mysql-algorithm-copy@2 mysql-lock-blocking@2");
}
END_TEST

START_TEST(mysql_online_algorithms_are_safe)
{
	check2(MY, "", "ALTER TABLE t ADD COLUMN d INTEGER, ALGORITHM=INSTANT;", "");
	check2(MY, "", "ALTER TABLE t ADD INDEX t_a (a), ALGORITHM=INPLACE, LOCK=NONE;", "");
	check2(MY, "", "CREATE TABLE u (x INTEGER);\nALTER TABLE u ADD COLUMN d INTEGER, ALGORITHM=COPY;", "");
	check2(MY, "", "SELECT 'ALGORITHM=COPY';", "");
}
END_TEST

/* ---- SQLite -------------------------------------------------------------------------------------- */

START_TEST(sqlite_pragma_foreign_keys_is_a_warning)
{
	struct lint_run lr;

	check2(SQ, "", "PRAGMA foreign_keys = OFF;", "sqlite-pragma-foreign-keys@2");
	check2(SQ, "", "PRAGMA main.foreign_keys=ON;", "sqlite-pragma-foreign-keys@2");
	lint_files(&lr, SQ, 1, NULL, (const char *const[]){ "1_x.sql", "-- migrate:up\nPRAGMA foreign_keys = OFF;\n", NULL });
	ck_assert_int_eq(lr.r, 0);
	ck_assert_int_eq(lr.warnings, 1);
	lint_run_free(&lr);
}
END_TEST

START_TEST(sqlite_other_pragmas_are_fine)
{
	check2(SQ, "", "PRAGMA foreign_key_check;\nPRAGMA user_version = 3;", "");
}
END_TEST

/* ---- data ---------------------------------------------------------------------------------------- */

START_TEST(update_and_delete_without_where)
{
	check2_all("UPDATE t SET a = 0;", "update-without-where@2", "update-without-where@2", "update-without-where@2");
	check2_all("UPDATE t SET a = (SELECT 1 FROM t AS x WHERE x.id = 1);", "update-without-where@2",
		   "update-without-where@2", "update-without-where@2");
	check2_all("DELETE FROM t;", "delete-without-where@2", "delete-without-where@2", "delete-without-where@2");
}
END_TEST

START_TEST(update_and_delete_safe_forms)
{
	check2_all("UPDATE t SET a = 0 WHERE id BETWEEN 1 AND 1000;", "", "", "");
	check2_all("DELETE FROM t WHERE a IS NULL;", "", "", "");
	check2_all("CREATE TABLE u (x INTEGER);\nINSERT INTO u VALUES (1);\nUPDATE u SET x = 2;\nDELETE FROM u;", "", "", "");
}
END_TEST

START_TEST(pg_backfill_in_the_ddl_transaction)
{
	check2(PG, "", "ALTER TABLE t ADD COLUMN d integer;\nUPDATE t SET d = a WHERE id < 1000;",
	       "pg-backfill-in-ddl-transaction@3");
	/* outside a transaction, each statement commits on its own */
	check2(PG, " transaction:false", "ALTER TABLE t ADD COLUMN d integer;\nUPDATE t SET d = a WHERE id < 1000;", "");
	check_history(PG, (const char *const[]){
		"\nALTER TABLE t ADD COLUMN d integer;",
		" transaction:false\nUPDATE t SET d = a WHERE id < 1000;",
		NULL }, "");
	/* another table's DDL does not hold this one */
	check2(PG, "", "CREATE TABLE u (x integer);\nALTER TABLE u ADD COLUMN y integer;\nUPDATE t SET a = 1 WHERE id = 1;",
	       "");
}
END_TEST

/* ---- the history -------------------------------------------------------------------------------- */

START_TEST(history_tells_which_tables_existed)
{
	/* IF NOT EXISTS of a table the history made makes nothing: the index is on a live table */
	check2(PG, "", "CREATE TABLE IF NOT EXISTS t (id integer);\nCREATE INDEX t_a ON t (a);", "pg-index-not-concurrent@3");
	check2(PG, "", "CREATE TABLE IF NOT EXISTS u (id integer);\nCREATE INDEX u_id ON u (id);", "");
	/* a table renamed in an earlier migration still holds the rows */
	check_history(PG, (const char *const[]){ "\nALTER TABLE t RENAME TO t2;", "\nCREATE INDEX t2_a ON t2 (a);", NULL },
		      "rename-table@2 pg-index-not-concurrent@2");
	/* quoted and schema-qualified names are the same table */
	check2(PG, "", "CREATE TABLE \"Orders\" (x integer);\nCREATE INDEX o_x ON public.orders (x);", "");
}
END_TEST

START_TEST(the_repository_example_has_no_findings)
{
	const char *src = getenv("MIGRATE_SOURCE_DIR");
	char *a, *b;
	int d;

	ck_assert_msg(src != NULL, "MIGRATE_SOURCE_DIR is not set (tests/run.sh sets it)");
	a = slurp(src, "migrations/20240101000001_create_customers.sql");
	b = slurp(src, "migrations/20240101000002_create_addresses.sql");
	ck_assert(a && b);
	for (d = SQ; d <= MY; d++) {
		struct lint_run lr;
		lint_files(&lr, d, 1, NULL, (const char *const[]){ "20240101000001_create_customers.sql", a,
			   "20240101000002_create_addresses.sql", b, NULL });
		ck_assert_int_eq(lr.r, 0);
		ck_assert_msg(lr.found[0] == '\0', "dialect %d: %s", d, lr.found);
		ck_assert_int_eq(lr.checked, 2);
		lint_run_free(&lr);
	}
	free(a);
	free(b);
}
END_TEST

/* ---- ignore comments ---------------------------------------------------------------------------- */

START_TEST(ignore_with_a_reason_silences_that_rule_there)
{
	check2(PG, "", "-- migrate:lint ignore pg-index-not-concurrent t has ten rows\nCREATE INDEX t_a ON t (a);", "");
	/* a run of ignore lines, each one rule */
	check2(PG, "", "-- migrate:lint ignore update-without-where the table is tiny\n"
	       "--   migrate:lint ignore pg-backfill-in-ddl-transaction  same\n"
	       "UPDATE t SET a = 0;\nALTER TABLE t ADD COLUMN d integer;", "");
	/* only that rule, and only that statement */
	check2(PG, "", "-- migrate:lint ignore drop-column wrong rule\nCREATE INDEX t_a ON t (a);\nCREATE INDEX t_b ON t (b);",
	       "pg-index-not-concurrent@3 pg-index-not-concurrent@4");
	check2(PG, "", "-- migrate:lint ignore pg-index-not-concurrent reason\nCREATE INDEX t_a ON t (a);\n"
	       "CREATE INDEX t_b ON t (b);", "pg-index-not-concurrent@4");
	/* not the line right before: silences nothing */
	check2(PG, "", "-- migrate:lint ignore pg-index-not-concurrent reason\n\nCREATE INDEX t_a ON t (a);",
	       "pg-index-not-concurrent@4");
}
END_TEST

START_TEST(ignore_without_a_reason_is_an_error_and_silences_nothing)
{
	check2(PG, "", "-- migrate:lint ignore pg-index-not-concurrent\nCREATE INDEX t_a ON t (a);",
	       "lint-ignore-without-reason@2 pg-index-not-concurrent@3");
	check2(SQ, "", "-- migrate:lint ignore drop-table   \nDROP TABLE t;",
	       "lint-ignore-without-reason@2 drop-table@3");
	check2(SQ, "", "-- migrate:lint ignore no-such-rule because\nDROP TABLE t;", "lint-ignore-unknown-rule@2 drop-table@3");
	check2(SQ, "", "-- migrate:lint skip drop-table because\nDROP TABLE t;", "lint-ignore-unknown-rule@2 drop-table@3");
}
END_TEST

START_TEST(ignore_inside_a_string_is_not_a_comment)
{
	check2(PG, "", "SELECT 'x\n-- migrate:lint ignore pg-index-not-concurrent reason\n'; CREATE INDEX t_a ON t (a);",
	       "pg-index-not-concurrent@4");
}
END_TEST

/* ---- [lint] in the config ------------------------------------------------------------------------- */

START_TEST(config_sets_severities)
{
	struct lint_run lr;
	const char *const files[] = { "1_base.sql", base, "2_x.sql",
		"-- migrate:up\nCREATE INDEX t_a ON t (a);\nALTER TABLE t DROP COLUMN b;\nDELETE FROM t;\n", NULL };

	lint_files(&lr, PG, 1, "pg-index-not-concurrent = warning\ndrop-column = error\ndelete-without-where = off\n",
		   files);
	ck_assert_str_eq(lr.found, "pg-index-not-concurrent@2 drop-column@3");
	ck_assert_str_eq(lr.severity[0], "warning");
	ck_assert_str_eq(lr.severity[1], "error");
	ck_assert_int_eq(lr.r, 1);
	lint_run_free(&lr);
	lint_files(&lr, PG, 1, "pg-index-not-concurrent = off\ndrop-column = Warning\ndelete-without-where = WARNING\n"
		   "enforce = false\n", files);
	ck_assert_str_eq(lr.found, "drop-column@3 delete-without-where@4");
	ck_assert_int_eq(lr.r, 0);
	lint_run_free(&lr);
}
END_TEST

START_TEST(config_mistakes_are_usage_errors_with_file_and_line)
{
	struct lint_run lr;
	const char *const files[] = { "1_base.sql", base, NULL };

	lint_files(&lr, SQ, 1, "drop-table = warning\nno-such-rule = error\n", files);
	ck_assert_int_eq(lr.r, 2);
	expect_in(lr.err, "config.ini:5: unknown lint rule 'no-such-rule'", "stderr");
	lint_run_free(&lr);
	lint_files(&lr, SQ, 1, "drop-table = loud\n", files);
	ck_assert_int_eq(lr.r, 2);
	expect_in(lr.err, "config.ini:4: [lint] drop-table 'loud' is not error, warning or off", "stderr");
	lint_run_free(&lr);
	lint_files(&lr, SQ, 1, "enforce = maybe\n", files);
	ck_assert_int_eq(lr.r, 2);
	expect_in(lr.err, "config.ini:4: [lint] enforce 'maybe' is not true or false", "stderr");
	lint_run_free(&lr);
}
END_TEST

/* ---- which migrations --------------------------------------------------------------------------- */

START_TEST(pending_without_a_database_lints_everything_and_says_so)
{
	struct lint_run lr;

	/* port 1 refuses the connection: never exit 3 */
	lint_files(&lr, PG, 0, NULL, (const char *const[]){ "1_base.sql", base, "2_x.sql",
		   "-- migrate:up\nDROP TABLE t;\n", NULL });
	ck_assert_int_eq(lr.r, 0);
	ck_assert_str_eq(lr.scope, "all");
	ck_assert_int_eq(lr.checked, 2);
	ck_assert_str_eq(lr.found, "drop-table@2");
	expect_in(lr.err, "lint checks every migration, not only the pending ones", "stderr");
	lint_run_free(&lr);
}
END_TEST

START_TEST(every_rule_is_documented)
{
	const char *src = getenv("MIGRATE_SOURCE_DIR");
	struct run run = run_migrate(dir, NULL, (const char *const[]){ "--format", "json", "lint", "--rules", NULL });
	json_t *doc, *r;
	char *readme, *man;
	size_t i;

	expect(&run, 0, "lint --rules");
	ck_assert_msg(src != NULL, "MIGRATE_SOURCE_DIR is not set (tests/run.sh sets it)");
	readme = slurp(src, "README.md");
	man = slurp(src, "docs/migrate.1.scd");
	ck_assert(readme && man);
	doc = json_loads(run.out, 0, NULL);
	ck_assert(doc != NULL);
	json_array_foreach(json_object_get(doc, "rules"), i, r) {
		char *row = xasprintf("| `%s` | %s | %s |", jstr_of(r, "id"), jstr_of(r, "dialects"), jstr_of(r, "severity"));
		/* short messages: Check cannot carry the whole README */
		ck_assert_msg(strstr(readme, row) != NULL, "README.md's rule table has no row '%s'", row);
		ck_assert_msg(strstr(man, jstr_of(r, "id")) != NULL, "docs/migrate.1.scd does not name '%s'",
			      jstr_of(r, "id"));
		free(row);
	}
	ck_assert_int_ge(json_array_size(json_object_get(doc, "rules")), 20);
	json_decref(doc);
	run_free(&run);
	free(readme);
	free(man);
}
END_TEST

Suite *lint_suite(void)
{
	Suite *s = suite_create("lint");
	TCase *tc = tcase_create("rules");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, pg_index_without_concurrently_on_an_existing_table);
	tcase_add_test(tc, pg_index_safe_forms);
	tcase_add_test(tc, pg_concurrently_in_a_transaction);
	tcase_add_test(tc, nothing_is_read_from_strings_comments_or_quoted_identifiers);
	tcase_add_test(tc, add_column_not_null_without_default);
	tcase_add_test(tc, add_column_not_null_safe_forms);
	tcase_add_test(tc, pg_set_not_null);
	tcase_add_test(tc, pg_set_not_null_after_a_validated_check);
	tcase_add_test(tc, alter_column_type);
	tcase_add_test(tc, alter_column_type_safe_forms);
	tcase_add_test(tc, pg_volatile_default);
	tcase_add_test(tc, pg_volatile_default_safe_forms);
	tcase_add_test(tc, pg_foreign_key_and_check_without_not_valid);
	tcase_add_test(tc, pg_constraints_not_valid_then_validated);
	tcase_add_test(tc, pg_unique_constraint);
	tcase_add_test(tc, drop_and_rename_are_warnings);
	tcase_add_test(tc, drop_and_rename_safe_forms);
	tcase_add_test(tc, mysql_inline_references);
	tcase_add_test(tc, mysql_inline_references_safe_forms);
	tcase_add_test(tc, mysql_algorithm_copy_and_blocking_locks);
	tcase_add_test(tc, mysql_online_algorithms_are_safe);
	tcase_add_test(tc, sqlite_pragma_foreign_keys_is_a_warning);
	tcase_add_test(tc, sqlite_other_pragmas_are_fine);
	tcase_add_test(tc, update_and_delete_without_where);
	tcase_add_test(tc, update_and_delete_safe_forms);
	tcase_add_test(tc, pg_backfill_in_the_ddl_transaction);
	tcase_add_test(tc, history_tells_which_tables_existed);
	tcase_add_test(tc, the_repository_example_has_no_findings);
	tcase_add_test(tc, ignore_with_a_reason_silences_that_rule_there);
	tcase_add_test(tc, ignore_without_a_reason_is_an_error_and_silences_nothing);
	tcase_add_test(tc, ignore_inside_a_string_is_not_a_comment);
	tcase_add_test(tc, config_sets_severities);
	tcase_add_test(tc, config_mistakes_are_usage_errors_with_file_and_line);
	tcase_add_test(tc, pending_without_a_database_lints_everything_and_says_so);
	tcase_add_test(tc, every_rule_is_documented);
	suite_add_tcase(s, tc);
	return s;
}
