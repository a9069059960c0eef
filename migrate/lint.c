/*
 * lint.c - migrate lint: statements that would lock, rewrite or break a
 * live database, found before they run (SPEC section 12).
 *
 * Lint reads the migrations in version order and keeps a small model of the
 * schema they build (tables, their columns' types, CHECK (c IS NOT NULL)
 * constraints), so it knows whether a table existed before a migration: a
 * statement on a table the same migration created is never a hazard (and in
 * up's gate, nor on one an earlier migration of the same run created). It
 * works on the tokens of the core's own lexer (sqllex_tokens), so a keyword
 * in a string, a comment or a quoted identifier is never read as one.
 *
 * Each statement is read once into a view (what kind of statement, on which
 * table, its ALTER TABLE actions); each rule is a small recogniser over that
 * view, in the table below. Findings of the migrations being linted are
 * kept; the migrations before them only build the model.
 *
 * Divisions: the rule table; tokens; the schema model; reading a statement;
 * findings and ignore comments; the rules; a migration; the entry points.
 */
#define _POSIX_C_SOURCE 200809L
#include "lint.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "layout.h"
#include "sqllex.h"

/* ---- the rule table ------------------------------------------------------------- */

enum rule_id {
	R_PG_INDEX,
	R_PG_CONCURRENTLY_TX,
	R_ADD_NOT_NULL,
	R_PG_SET_NOT_NULL,
	R_COLUMN_TYPE,
	R_PG_VOLATILE_DEFAULT,
	R_PG_FOREIGN_KEY,
	R_PG_CHECK,
	R_PG_UNIQUE,
	R_DROP_COLUMN,
	R_DROP_TABLE,
	R_RENAME_COLUMN,
	R_RENAME_TABLE,
	R_MYSQL_REFERENCES,
	R_MYSQL_COPY,
	R_MYSQL_LOCK,
	R_SQLITE_PRAGMA_FK,
	R_UPDATE_NO_WHERE,
	R_DELETE_NO_WHERE,
	R_PG_BACKFILL,
	R_IGNORE_NO_REASON,
	R_IGNORE_UNKNOWN,
	R_COUNT
};

#define D_SQLITE (1u << SQL_DIALECT_SQLITE)
#define D_PG (1u << SQL_DIALECT_POSTGRES)
#define D_MYSQL (1u << SQL_DIALECT_MYSQL)
#define D_ALL (D_SQLITE | D_PG | D_MYSQL)

static const struct migrate_lint_rule rule_info[R_COUNT + 1] = {
	[R_PG_INDEX] = { "pg-index-not-concurrent", "postgres", MIGRATE_LINT_ERROR,
		"CREATE INDEX without CONCURRENTLY on an existing table",
		"use CREATE INDEX CONCURRENTLY, in a section marked '-- migrate:up transaction:false'" },
	[R_PG_CONCURRENTLY_TX] = { "pg-concurrently-in-transaction", "postgres", MIGRATE_LINT_ERROR,
		"CONCURRENTLY in a section that runs in a transaction",
		"mark the section '-- migrate:up transaction:false' and keep the statement alone in it" },
	[R_ADD_NOT_NULL] = { "add-column-not-null-without-default", "all", MIGRATE_LINT_ERROR,
		"ADD COLUMN ... NOT NULL (or PRIMARY KEY) without a DEFAULT on an existing table",
		"add the column with a DEFAULT (instant on PostgreSQL 11+, MySQL 8.0 and MariaDB 10.3+), or add it "
			"nullable, backfill it, then make it NOT NULL in a later migration" },
	[R_PG_SET_NOT_NULL] = { "pg-set-not-null", "postgres", MIGRATE_LINT_ERROR,
		"ALTER COLUMN ... SET NOT NULL without a validated CHECK (column IS NOT NULL)",
		"add CHECK (column IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT it in a later migration, "
			"then SET NOT NULL (PostgreSQL 12+ uses the check and skips the scan) and drop the check" },
	[R_COLUMN_TYPE] = { "alter-column-type", "postgres, mysql", MIGRATE_LINT_ERROR,
		"a column's type changed on an existing table (ALTER COLUMN ... TYPE, MODIFY, CHANGE)",
		"add a new column, backfill it in batches, switch the application, then drop the old one; "
			"on MySQL, ALGORITHM=INPLACE, LOCK=NONE makes the server refuse rather than copy" },
	[R_PG_VOLATILE_DEFAULT] = { "pg-volatile-default", "postgres", MIGRATE_LINT_ERROR,
		"ADD COLUMN with a volatile default (random(), gen_random_uuid(), clock_timestamp(), serial, identity) "
		"on an existing table",
		"add the column without the default (or with a constant one), set the default for new "
			"rows, and backfill existing rows in batches" },
	[R_PG_FOREIGN_KEY] = { "pg-foreign-key-without-not-valid", "postgres", MIGRATE_LINT_ERROR,
		"a foreign key added to an existing table without NOT VALID",
		"add it with NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT in a later migration "
			"(that scan takes a lock that lets reads and writes go on)" },
	[R_PG_CHECK] = { "pg-check-without-not-valid", "postgres", MIGRATE_LINT_ERROR,
		"a CHECK constraint added to an existing table without NOT VALID",
		"add it with NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT in a later migration" },
	[R_PG_UNIQUE] = { "pg-add-unique-constraint", "postgres", MIGRATE_LINT_ERROR,
		"a UNIQUE or PRIMARY KEY constraint added to an existing table without USING INDEX",
		"CREATE UNIQUE INDEX CONCURRENTLY (transaction:false), then ADD CONSTRAINT ... UNIQUE USING INDEX "
			"(or PRIMARY KEY USING INDEX) in a later migration" },
	[R_DROP_COLUMN] = { "drop-column", "all", MIGRATE_LINT_WARNING,
		"DROP COLUMN on an existing table",
		"first deploy code that no longer reads or writes the column, then drop it" },
	[R_DROP_TABLE] = { "drop-table", "all", MIGRATE_LINT_WARNING,
		"DROP TABLE of an existing table (not when the migration makes a table of that name again)",
		"first deploy code that no longer uses the table, then drop it" },
	[R_RENAME_COLUMN] = { "rename-column", "all", MIGRATE_LINT_WARNING,
		"a column of an existing table renamed",
		"add the new column, write both, backfill, move the reads, then drop the old one "
			"(or deploy code that reads both names first)" },
	[R_RENAME_TABLE] = { "rename-table", "all", MIGRATE_LINT_WARNING,
		"an existing table renamed",
		"create the new table (or a view under the old name), move the code over, then drop the old one" },
	[R_MYSQL_REFERENCES] = { "mysql-inline-references", "mysql", MIGRATE_LINT_ERROR,
		"a column's inline REFERENCES, which MySQL ignores (MariaDB 10.5+ honours it)",
		"declare the key as a table constraint: FOREIGN KEY (column) REFERENCES other (column)" },
	[R_MYSQL_COPY] = { "mysql-algorithm-copy", "mysql", MIGRATE_LINT_ERROR,
		"ALGORITHM=COPY on an existing table",
		"leave ALGORITHM out or ask for ALGORITHM=INPLACE or INSTANT, which the server refuses rather "
			"than block writes" },
	[R_MYSQL_LOCK] = { "mysql-lock-blocking", "mysql", MIGRATE_LINT_ERROR,
		"LOCK=SHARED or LOCK=EXCLUSIVE on an existing table",
		"use LOCK=NONE (the server refuses an ALTER that cannot allow writes) or leave LOCK out" },
	[R_SQLITE_PRAGMA_FK] = { "sqlite-pragma-foreign-keys", "sqlite", MIGRATE_LINT_WARNING,
		"PRAGMA foreign_keys in a migration",
		"nothing to change for the documented table rebuild: migrate runs the section with "
			"foreign keys off and checks them before the commit (PRAGMA foreign_key_check)" },
	[R_UPDATE_NO_WHERE] = { "update-without-where", "all", MIGRATE_LINT_ERROR,
		"UPDATE of an existing table without WHERE",
		"update in batches with a WHERE on the key, in a migration of its own (transaction:false)" },
	[R_DELETE_NO_WHERE] = { "delete-without-where", "all", MIGRATE_LINT_ERROR,
		"DELETE from an existing table without WHERE",
		"delete in batches with a WHERE on the key, or TRUNCATE if emptying the table is meant" },
	[R_PG_BACKFILL] = { "pg-backfill-in-ddl-transaction", "postgres", MIGRATE_LINT_ERROR,
		"an UPDATE in the same transaction as ALTER TABLE or CREATE INDEX on that table",
		"put the backfill in a migration of its own after the DDL (transaction:false, in batches)" },
	[R_IGNORE_NO_REASON] = { "lint-ignore-without-reason", "all", MIGRATE_LINT_ERROR,
		"a '-- migrate:lint ignore RULE-ID' comment without a reason (it silences nothing)",
		"say why: '-- migrate:lint ignore RULE-ID the reason'" },
	[R_IGNORE_UNKNOWN] = { "lint-ignore-unknown-rule", "all", MIGRATE_LINT_ERROR,
		"a '-- migrate:lint' comment that names no rule",
		"write '-- migrate:lint ignore RULE-ID reason' with a rule from 'migrate lint --rules'" },
	[R_COUNT] = { NULL, NULL, MIGRATE_LINT_OFF, NULL, NULL },
};

static const unsigned rule_dialects[R_COUNT] = {
	[R_PG_INDEX] = D_PG, [R_PG_CONCURRENTLY_TX] = D_PG, [R_ADD_NOT_NULL] = D_ALL,
	[R_PG_SET_NOT_NULL] = D_PG, [R_COLUMN_TYPE] = D_PG | D_MYSQL, [R_PG_VOLATILE_DEFAULT] = D_PG,
	[R_PG_FOREIGN_KEY] = D_PG, [R_PG_CHECK] = D_PG, [R_PG_UNIQUE] = D_PG,
	[R_DROP_COLUMN] = D_ALL, [R_DROP_TABLE] = D_ALL, [R_RENAME_COLUMN] = D_ALL, [R_RENAME_TABLE] = D_ALL,
	[R_MYSQL_REFERENCES] = D_MYSQL, [R_MYSQL_COPY] = D_MYSQL, [R_MYSQL_LOCK] = D_MYSQL,
	[R_SQLITE_PRAGMA_FK] = D_SQLITE, [R_UPDATE_NO_WHERE] = D_ALL, [R_DELETE_NO_WHERE] = D_ALL,
	[R_PG_BACKFILL] = D_PG, [R_IGNORE_NO_REASON] = D_ALL, [R_IGNORE_UNKNOWN] = D_ALL,
};

const struct migrate_lint_rule *migrate_lint_rules(void)
{
	return rule_info;
}

const char *migrate_lint_severity_name(enum migrate_lint_severity s)
{
	return s == MIGRATE_LINT_ERROR ? "error" : s == MIGRATE_LINT_WARNING ? "warning" : "off";
}

int lint_rule_index(const char *id)
{
	int i;

	for (i = 0; i < R_COUNT; i++)
		if (strcmp(rule_info[i].id, id) == 0)
			return i;
	return -1;
}

/* ---- the schema model ------------------------------------------------------------- */

#define NAME_LEN 128

struct lcol {
	char name[NAME_LEN];
	char type[NAME_LEN]; /* normalised: "varchar(20)", "timestamp with time zone"; "" when unknown */
};

struct ltable {
	char name[NAME_LEN];
	int created;         /* by the migration being read */
	int run_new;         /* up's gate: by an earlier migration of the same run, so no application uses it yet */
	struct lcol *cols;
	size_t ncols, cap;
};

/* A CHECK (column IS NOT NULL) constraint: once valid, SET NOT NULL needs no scan. */
struct lcheck {
	char name[NAME_LEN], table[NAME_LEN], column[NAME_LEN];
	int valid;
};

struct model {
	struct ltable *t;
	size_t n, cap;
	struct lcheck *k;
	size_t nk, capk;
};

static struct ltable *table_find(struct model *md, const char *name)
{
	size_t i;

	for (i = 0; i < md->n; i++)
		if (strcmp(md->t[i].name, name) == 0)
			return &md->t[i];
	return NULL;
}

static void table_drop(struct model *md, const char *name)
{
	struct ltable *t = table_find(md, name);

	if (!t)
		return;
	free(t->cols);
	*t = md->t[--md->n];
}

static struct ltable *table_create(struct model *md, const char *name)
{
	struct ltable *t;

	table_drop(md, name);
	xgrow(&md->t, &md->cap, md->n + 1, sizeof(*md->t));
	t = &md->t[md->n++];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->created = 1;
	return t;
}

static struct lcol *col_find(struct ltable *t, const char *name)
{
	size_t i;

	for (i = 0; t && i < t->ncols; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return &t->cols[i];
	return NULL;
}

static void col_set(struct ltable *t, const char *name, const char *type)
{
	struct lcol *c;

	if (!t)
		return;
	c = col_find(t, name);
	if (!c) {
		xgrow(&t->cols, &t->cap, t->ncols + 1, sizeof(*t->cols));
		c = &t->cols[t->ncols++];
		snprintf(c->name, sizeof(c->name), "%s", name);
	}
	snprintf(c->type, sizeof(c->type), "%s", type);
}

static void col_drop(struct ltable *t, const char *name)
{
	struct lcol *c = col_find(t, name);

	if (c)
		*c = t->cols[--t->ncols];
}

static struct lcheck *check_find(struct model *md, const char *name)
{
	size_t i;

	for (i = 0; i < md->nk; i++)
		if (strcmp(md->k[i].name, name) == 0)
			return &md->k[i];
	return NULL;
}

static int column_checked_not_null(struct model *md, const char *table, const char *column)
{
	size_t i;

	for (i = 0; i < md->nk; i++)
		if (md->k[i].valid && strcmp(md->k[i].table, table) == 0 && strcmp(md->k[i].column, column) == 0)
			return 1;
	return 0;
}

static void model_release(struct model *md)
{
	size_t i;

	for (i = 0; i < md->n; i++)
		free(md->t[i].cols);
	free(md->t);
	free(md->k);
	memset(md, 0, sizeof(*md));
}

/* ---- the linter's state and tokens ------------------------------------------------ */

enum server { SERVER_NOT_ASKED, SERVER_MYSQL, SERVER_MARIADB_OLD, SERVER_MARIADB_FK };

/* A finding whose fate is known only at the end of the migration. */
struct deferred {
	int rule;
	int line;
	uint64_t ignored;
	char table[NAME_LEN];
};

struct lint {
	migrate *m;
	enum sql_dialect d;
	struct model md;
	struct migrate_lint_report *rep;
	size_t capfindings;
	enum migrate_lint_severity severity[R_COUNT]; /* the defaults, as [lint] sets them */
	enum server server;
	int server_asked;

	int gate;               /* up's gate: tables made by this run's migrations are new */

	/* the migration being read */
	const struct migration *mig;
	int report;             /* keep its findings (else it only builds the model) */
	int tx;                 /* its up section runs in a transaction */
	struct deferred *later;
	size_t nlater, caplater;
	char (*altered)[NAME_LEN]; /* existing tables under DDL in this migration (for the backfill rule) */
	size_t naltered, capaltered;

	/* the statement being read */
	const char *s;          /* the section's text: token offsets count from here */
	const struct sql_token *t;
	size_t n;
	int line;
	uint64_t ignored;       /* rules its ignore comments silence */
};

static int tok_is(const struct lint *l, size_t i, const char *kw)
{
	size_t n = strlen(kw);

	return i < l->n && l->t[i].kind == SQL_TOKEN_WORD && l->t[i].len == n &&
	       strncasecmp(l->s + l->t[i].off, kw, n) == 0;
}

static int tok_ch(const struct lint *l, size_t i, char ch)
{
	return i < l->n && l->t[i].kind == SQL_TOKEN_OTHER && l->s[l->t[i].off] == ch;
}

static int tok_any(const struct lint *l, size_t i, const char *const *kws)
{
	for (; *kws; kws++)
		if (tok_is(l, i, *kws))
			return 1;
	return 0;
}

/* The index of the first token in [i, e) at parenthesis depth 0 that is the keyword, or e. */
static size_t find_kw(const struct lint *l, size_t i, size_t e, const char *kw)
{
	int depth = 0;

	for (; i < e; i++) {
		if (tok_ch(l, i, '('))
			depth++;
		else if (tok_ch(l, i, ')'))
			depth--;
		else if (depth == 0 && tok_is(l, i, kw))
			return i;
	}
	return e;
}

/* Past the ')' that closes the '(' at i. */
static size_t skip_parens(const struct lint *l, size_t i, size_t e)
{
	int depth = 0;

	for (; i < e; i++) {
		if (tok_ch(l, i, '('))
			depth++;
		else if (tok_ch(l, i, ')') && --depth <= 0)
			return i + 1;
	}
	return e;
}

/*
 * One part of a name at i: a word, a quoted identifier, or a ${placeholder}.
 * Writes it folded to lowercase (quotes dropped) and returns the index past
 * it, or i when there is none.
 */
static size_t name_part(const struct lint *l, size_t i, char *buf, size_t cap)
{
	const struct sql_token *tk;
	size_t k, w = 0;

	if (i >= l->n)
		return i;
	tk = &l->t[i];
	if (tk->kind == SQL_TOKEN_WORD) {
		for (k = 0; k < tk->len && w + 1 < cap; k++)
			buf[w++] = (char)tolower((unsigned char)l->s[tk->off + k]);
		buf[w] = '\0';
		return i + 1;
	}
	if (tk->kind == SQL_TOKEN_IDENT && tk->len >= 2) {
		char q = l->s[tk->off + tk->len - 1];
		for (k = 1; k + 1 < tk->len && w + 1 < cap; k++) {
			char c = l->s[tk->off + k];
			if (c == q && k + 2 < tk->len && l->s[tk->off + k + 1] == q)
				k++; /* a doubled quote */
			buf[w++] = (char)tolower((unsigned char)c);
		}
		buf[w] = '\0';
		return i + 1;
	}
	if (tok_ch(l, i, '$') && tok_ch(l, i + 1, '{') && i + 3 < l->n && l->t[i + 2].kind == SQL_TOKEN_WORD &&
	    tok_ch(l, i + 3, '}')) {
		snprintf(buf, cap, "${%.*s}", (int)l->t[i + 2].len, l->s + l->t[i + 2].off);
		return i + 4;
	}
	return i;
}

/* A name, schema-qualified or not: its last part goes to buf (schemas are not told apart). */
static size_t qname(const struct lint *l, size_t i, char *buf, size_t cap)
{
	size_t j = name_part(l, i, buf, cap);

	if (j == i) {
		buf[0] = '\0';
		return i;
	}
	while (tok_ch(l, j, '.')) {
		size_t k = name_part(l, j + 1, buf, cap);
		if (k == j + 1)
			break;
		j = k;
	}
	return j;
}

/* ---- a column definition ----------------------------------------------------------- */

struct coldef {
	char type[NAME_LEN];
	int not_null, has_default, primary, unique, references, check;
	int generates;        /* identity, serial, AUTO_INCREMENT, GENERATED ... AS: fills rows itself */
	int rewrites;         /* fills existing rows one by one: serial, identity, stored generated, volatile default */
	char volatile_what[64]; /* "random()", or "" */
};

static int is_constraint_word(const struct lint *l, size_t i)
{
	static const char *const words[] = {
		"NOT", "NULL", "DEFAULT", "PRIMARY", "UNIQUE", "REFERENCES", "CHECK", "CONSTRAINT", "COLLATE",
		"GENERATED", "AUTO_INCREMENT", "AUTOINCREMENT", "COMMENT", "ON", "AS", "USING", "FIRST", "AFTER",
		"CHARSET", "VISIBLE", "INVISIBLE", "KEY", "STORAGE", "COMPRESSION", "COLUMN_FORMAT", "SRID", NULL,
	};

	if (tok_is(l, i, "CHARACTER") && tok_is(l, i + 1, "SET"))
		return 1;
	return tok_any(l, i, words);
}

static const char *const volatile_functions[] = {
	"random", "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4",
	"clock_timestamp", "timeofday", "nextval", "txid_current", "uuidv4", "uuidv7", NULL,
};

/* Reads a column definition after its name: tokens [i, e). */
static void coldef_read(const struct lint *l, size_t i, size_t e, struct coldef *cd)
{
	size_t w = 0, k;
	int depth = 0;

	memset(cd, 0, sizeof(*cd));
	for (; i < e && (depth > 0 || !is_constraint_word(l, i)); i++) {
		const struct sql_token *tk = &l->t[i];
		if (tok_ch(l, i, '('))
			depth++;
		else if (tok_ch(l, i, ')'))
			depth--;
		if (w > 0 && tk->kind == SQL_TOKEN_WORD && l->t[i - 1].kind == SQL_TOKEN_WORD && w + 1 < sizeof(cd->type))
			cd->type[w++] = ' ';
		for (k = 0; k < tk->len && w + 1 < sizeof(cd->type); k++)
			cd->type[w++] = (char)tolower((unsigned char)l->s[tk->off + k]);
	}
	cd->type[w] = '\0';
	if (strcmp(cd->type, "serial") == 0 || strcmp(cd->type, "bigserial") == 0 ||
	    strcmp(cd->type, "smallserial") == 0 || strncmp(cd->type, "serial", 6) == 0)
		cd->generates = cd->rewrites = 1;
	for (depth = 0; i < e; i++) {
		if (tok_ch(l, i, '(')) {
			depth++;
			continue;
		}
		if (tok_ch(l, i, ')')) {
			depth--;
			continue;
		}
		if (depth > 0)
			continue;
		if (tok_is(l, i, "NOT") && tok_is(l, i + 1, "NULL")) {
			cd->not_null = 1;
		} else if (tok_is(l, i, "DEFAULT")) {
			size_t j = i + 1;
			int dd = 0;
			cd->has_default = 1;
			for (; j < e; j++) {
				if (tok_ch(l, j, '('))
					dd++;
				else if (tok_ch(l, j, ')'))
					dd--;
				else if (dd == 0 && j > i + 1 && is_constraint_word(l, j))
					break;
				if (!cd->volatile_what[0] && tok_any(l, j, volatile_functions) && tok_ch(l, j + 1, '(')) {
					snprintf(cd->volatile_what, sizeof(cd->volatile_what), "%.*s()", (int)l->t[j].len,
						 l->s + l->t[j].off);
					cd->rewrites = 1;
				}
			}
			i = j - 1;
		} else if (tok_is(l, i, "PRIMARY") && tok_is(l, i + 1, "KEY")) {
			cd->primary = 1;
		} else if (tok_is(l, i, "UNIQUE")) {
			cd->unique = 1;
		} else if (tok_is(l, i, "REFERENCES")) {
			cd->references = 1;
		} else if (tok_is(l, i, "CHECK")) {
			cd->check = 1;
		} else if (tok_is(l, i, "AUTO_INCREMENT") || tok_is(l, i, "AUTOINCREMENT")) {
			cd->generates = 1;
		} else if (tok_is(l, i, "GENERATED") || (tok_is(l, i, "AS") && tok_ch(l, i + 1, '('))) {
			size_t j = i;
			cd->generates = 1;
			while (j < e && !tok_is(l, j, "IDENTITY") && !tok_is(l, j, "STORED") && !tok_is(l, j, "VIRTUAL") &&
			       !tok_ch(l, j, '('))
				j++;
			if (tok_is(l, j, "IDENTITY"))
				cd->rewrites = 1;
			else if (tok_ch(l, j, '(') && tok_is(l, skip_parens(l, j, e), "STORED"))
				cd->rewrites = 1;
		}
	}
}

/* ---- reading a statement ------------------------------------------------------------- */

enum stmt_kind {
	ST_OTHER,
	ST_CREATE_TABLE,
	ST_CREATE_INDEX,
	ST_ALTER_TABLE,
	ST_DROP_TABLE,
	ST_RENAME_TABLE, /* MySQL's RENAME TABLE a TO b, ... */
	ST_UPDATE,
	ST_DELETE,
	ST_PRAGMA,
};

enum action_kind {
	A_OTHER,
	A_ADD_COLUMN,
	A_ADD_CONSTRAINT,
	A_ALTER_TYPE,
	A_SET_NOT_NULL,
	A_DROP_COLUMN,
	A_RENAME_COLUMN,
	A_RENAME_TABLE,
	A_MODIFY,        /* MySQL: MODIFY col def, and CHANGE old new def */
	A_VALIDATE,
};

struct action {
	enum action_kind kind;
	size_t b, e;            /* its tokens */
	size_t def;             /* A_ADD_COLUMN, A_MODIFY: where the column's definition starts */
	char col[NAME_LEN];     /* the column (the old name for a rename or CHANGE) */
	char col2[NAME_LEN];    /* the new name (rename, CHANGE), or the constraint's name */
	struct coldef cd;       /* A_ADD_COLUMN, A_MODIFY */
	/* A_ADD_CONSTRAINT */
	int foreign_key, check, unique, not_valid, using_index;
	char check_column[NAME_LEN]; /* CHECK (col IS NOT NULL) */
};

#define MAX_ACTIONS 64
#define MAX_NAMES 32

struct view {
	enum stmt_kind kind;
	char table[NAME_LEN];
	int existing;           /* the table existed before this migration */
	int concurrently, only, if_not_exists;
	int has_where;
	int algorithm_copy, lock_blocking, algorithm_online; /* MySQL options, anywhere in the statement */
	size_t body;            /* CREATE TABLE: the '(' of the definitions, or 0 */
	struct action act[MAX_ACTIONS];
	size_t nact;
	char names[MAX_NAMES][NAME_LEN]; /* DROP TABLE's tables; RENAME TABLE's pairs */
	size_t nnames;
};

static int table_existing(struct lint *l, const char *name)
{
	struct ltable *t = table_find(&l->md, name);

	/* a table the history does not know is an existing one */
	return !t || !(t->created || t->run_new);
}

/* MySQL's table options: ALGORITHM [=] x, LOCK [=] x, anywhere at depth 0. */
static void read_mysql_options(struct lint *l, struct view *v)
{
	size_t i;
	int depth = 0;

	for (i = 0; i < l->n; i++) {
		size_t j = i + 1;
		if (tok_ch(l, i, '('))
			depth++;
		else if (tok_ch(l, i, ')'))
			depth--;
		if (depth || !(tok_is(l, i, "ALGORITHM") || tok_is(l, i, "LOCK")))
			continue;
		if (tok_ch(l, j, '='))
			j++;
		if (tok_is(l, i, "ALGORITHM")) {
			if (tok_is(l, j, "COPY"))
				v->algorithm_copy = 1;
			else if (tok_is(l, j, "INPLACE") || tok_is(l, j, "INSTANT") || tok_is(l, j, "NOCOPY"))
				v->algorithm_online = 1;
		} else if (tok_is(l, j, "SHARED") || tok_is(l, j, "EXCLUSIVE")) {
			v->lock_blocking = 1;
		}
	}
}

/* One ALTER TABLE action, tokens [b, e). */
static void read_action(struct lint *l, struct view *v, size_t b, size_t e)
{
	static const char *const constraint_words[] = {
		"CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "INDEX", "KEY", "FULLTEXT", "SPATIAL",
		"EXCLUDE", "PARTITION", NULL,
	};
	static const char *const not_columns[] = {
		"CONSTRAINT", "INDEX", "KEY", "PRIMARY", "FOREIGN", "CHECK", "PARTITION", "DEFAULT", "TRIGGER",
		"IDENTITY", "EXPRESSION", "NOT", NULL,
	};
	struct action *a;
	size_t i = b;

	if (v->nact >= MAX_ACTIONS || b >= e)
		return;
	a = &v->act[v->nact++];
	memset(a, 0, sizeof(*a));
	a->b = b;
	a->e = e;
	if (tok_is(l, i, "ADD")) {
		i++;
		if (tok_any(l, i, constraint_words)) {
			a->kind = A_ADD_CONSTRAINT;
			if (tok_is(l, i, "CONSTRAINT")) {
				i = name_part(l, i + 1, a->col2, sizeof(a->col2));
			}
			a->foreign_key = tok_is(l, i, "FOREIGN");
			a->check = tok_is(l, i, "CHECK");
			a->unique = tok_is(l, i, "UNIQUE") || tok_is(l, i, "PRIMARY");
			a->not_valid = find_kw(l, i, e, "VALID") < e && tok_is(l, find_kw(l, i, e, "VALID") - 1, "NOT");
			a->using_index = find_kw(l, i, e, "USING") < e && tok_is(l, find_kw(l, i, e, "USING") + 1, "INDEX");
			/* CHECK ( col IS NOT NULL ) */
			if (a->check && tok_ch(l, i + 1, '(')) {
				char col[NAME_LEN];
				size_t j = name_part(l, i + 2, col, sizeof(col));
				if (j > i + 2 && tok_is(l, j, "IS") && tok_is(l, j + 1, "NOT") && tok_is(l, j + 2, "NULL") &&
				    tok_ch(l, j + 3, ')'))
					snprintf(a->check_column, sizeof(a->check_column), "%s", col);
			}
			return;
		}
		if (tok_is(l, i, "COLUMN"))
			i++;
		if (tok_is(l, i, "IF") && tok_is(l, i + 1, "NOT") && tok_is(l, i + 2, "EXISTS"))
			i += 3;
		if (tok_ch(l, i, '('))
			return; /* MySQL's ADD (a INT, b INT): not read */
		a->def = name_part(l, i, a->col, sizeof(a->col));
		if (a->def == i)
			return;
		a->kind = A_ADD_COLUMN;
		coldef_read(l, a->def, e, &a->cd);
	} else if (tok_is(l, i, "ALTER")) {
		i++;
		if (tok_is(l, i, "COLUMN"))
			i++;
		i = name_part(l, i, a->col, sizeof(a->col));
		if (tok_is(l, i, "SET") && tok_is(l, i + 1, "NOT") && tok_is(l, i + 2, "NULL"))
			a->kind = A_SET_NOT_NULL;
		else if (tok_is(l, i, "TYPE") || (tok_is(l, i, "SET") && tok_is(l, i + 1, "DATA") && tok_is(l, i + 2, "TYPE"))) {
			a->kind = A_ALTER_TYPE;
			a->def = i + (tok_is(l, i, "TYPE") ? 1 : 3);
			coldef_read(l, a->def, e, &a->cd);
		}
	} else if (tok_is(l, i, "DROP")) {
		i++;
		if (tok_is(l, i, "COLUMN"))
			i++;
		else if (tok_any(l, i, not_columns))
			return;
		if (tok_is(l, i, "IF") && tok_is(l, i + 1, "EXISTS"))
			i += 2;
		if (name_part(l, i, a->col, sizeof(a->col)) > i)
			a->kind = A_DROP_COLUMN;
	} else if (tok_is(l, i, "RENAME")) {
		i++;
		if (tok_is(l, i, "TO") || tok_is(l, i, "AS")) {
			a->kind = A_RENAME_TABLE;
			qname(l, i + 1, a->col2, sizeof(a->col2));
		} else if (tok_is(l, i, "CONSTRAINT") || tok_is(l, i, "INDEX") || tok_is(l, i, "KEY")) {
			return;
		} else {
			size_t j;
			if (tok_is(l, i, "COLUMN"))
				i++;
			j = name_part(l, i, a->col, sizeof(a->col));
			if (j > i && tok_is(l, j, "TO")) {
				a->kind = A_RENAME_COLUMN;
				name_part(l, j + 1, a->col2, sizeof(a->col2));
			} else if (j > i && j == e) {
				a->kind = A_RENAME_TABLE; /* MySQL: RENAME new_name */
				memcpy(a->col2, a->col, sizeof(a->col2));
				a->col[0] = '\0';
			}
		}
	} else if (tok_is(l, i, "MODIFY") || tok_is(l, i, "CHANGE")) {
		int change = tok_is(l, i, "CHANGE");
		i++;
		if (tok_is(l, i, "COLUMN"))
			i++;
		i = name_part(l, i, a->col, sizeof(a->col));
		if (change)
			i = name_part(l, i, a->col2, sizeof(a->col2));
		a->kind = A_MODIFY;
		a->def = i;
		coldef_read(l, i, e, &a->cd);
	} else if (tok_is(l, i, "VALIDATE") && tok_is(l, i + 1, "CONSTRAINT")) {
		a->kind = A_VALIDATE;
		name_part(l, i + 2, a->col2, sizeof(a->col2));
	}
}

/* After CREATE: OR REPLACE, TEMP and friends, then the object's kind. */
static size_t skip_create_modifiers(const struct lint *l, size_t i)
{
	static const char *const mods[] = {
		"OR", "REPLACE", "TEMP", "TEMPORARY", "UNLOGGED", "GLOBAL", "LOCAL", NULL,
	};

	while (tok_any(l, i, mods))
		i++;
	return i;
}

static void read_view(struct lint *l, struct view *v)
{
	size_t i = 0, j;

	memset(v, 0, sizeof(*v));
	if (l->d == SQL_DIALECT_MYSQL)
		read_mysql_options(l, v);
	if (tok_is(l, 0, "CREATE")) {
		i = skip_create_modifiers(l, 1);
		if (tok_is(l, i, "TABLE")) {
			i++;
			if (tok_is(l, i, "IF") && tok_is(l, i + 1, "NOT") && tok_is(l, i + 2, "EXISTS")) {
				v->if_not_exists = 1;
				i += 3;
			}
			j = qname(l, i, v->table, sizeof(v->table));
			if (j == i)
				return;
			v->kind = ST_CREATE_TABLE;
			if (tok_ch(l, j, '('))
				v->body = j;
			return;
		}
		if (tok_is(l, i, "UNIQUE") || tok_is(l, i, "FULLTEXT") || tok_is(l, i, "SPATIAL"))
			i++;
		if (!tok_is(l, i, "INDEX"))
			return;
		v->concurrently = tok_is(l, i + 1, "CONCURRENTLY");
		j = find_kw(l, i, l->n, "ON");
		if (j >= l->n)
			return;
		j++;
		if (tok_is(l, j, "ONLY")) {
			v->only = 1;
			j++;
		}
		if (qname(l, j, v->table, sizeof(v->table)) > j) {
			v->kind = ST_CREATE_INDEX;
			v->existing = table_existing(l, v->table);
		}
		return;
	}
	if (tok_is(l, 0, "ALTER")) {
		i = 1;
		while (tok_is(l, i, "ONLINE") || tok_is(l, i, "IGNORE"))
			i++;
		if (!tok_is(l, i, "TABLE"))
			return;
		i++;
		if (tok_is(l, i, "IF") && tok_is(l, i + 1, "EXISTS"))
			i += 2;
		if (tok_is(l, i, "ONLY"))
			i++;
		j = qname(l, i, v->table, sizeof(v->table));
		if (j == i)
			return;
		if (tok_ch(l, j, '*'))
			j++;
		v->kind = ST_ALTER_TABLE;
		v->existing = table_existing(l, v->table);
		/* the actions, at depth 0 between commas */
		{
			size_t b = j;
			int depth = 0;
			for (i = j; i <= l->n; i++) {
				if (i == l->n || (depth == 0 && tok_ch(l, i, ','))) {
					read_action(l, v, b, i);
					b = i + 1;
				} else if (tok_ch(l, i, '(')) {
					depth++;
				} else if (tok_ch(l, i, ')')) {
					depth--;
				}
			}
		}
		return;
	}
	if (tok_is(l, 0, "DROP")) {
		i = 1;
		if (tok_is(l, i, "TEMPORARY"))
			i++;
		if (!tok_is(l, i, "TABLE"))
			return;
		i++;
		if (tok_is(l, i, "IF") && tok_is(l, i + 1, "EXISTS"))
			i += 2;
		v->kind = ST_DROP_TABLE;
		while (v->nnames < MAX_NAMES && (j = qname(l, i, v->names[v->nnames], NAME_LEN)) > i) {
			v->nnames++;
			i = j;
			if (!tok_ch(l, i, ','))
				break;
			i++;
		}
		return;
	}
	if (tok_is(l, 0, "RENAME") && tok_is(l, 1, "TABLE")) {
		i = 2;
		v->kind = ST_RENAME_TABLE;
		while (v->nnames + 2 <= MAX_NAMES && (j = qname(l, i, v->names[v->nnames], NAME_LEN)) > i &&
		       tok_is(l, j, "TO") && qname(l, j + 1, v->names[v->nnames + 1], NAME_LEN) > j + 1) {
			i = qname(l, j + 1, v->names[v->nnames + 1], NAME_LEN);
			v->nnames += 2;
			if (!tok_ch(l, i, ','))
				break;
			i++;
		}
		return;
	}
	if (tok_is(l, 0, "UPDATE")) {
		i = 1;
		while (tok_is(l, i, "ONLY") || tok_is(l, i, "LOW_PRIORITY") || tok_is(l, i, "IGNORE") ||
		       tok_is(l, i, "OR"))
			i += tok_is(l, i, "OR") ? 2 : 1; /* SQLite: UPDATE OR REPLACE */
		if (qname(l, i, v->table, sizeof(v->table)) == i)
			return;
		v->kind = ST_UPDATE;
		v->existing = table_existing(l, v->table);
		v->has_where = find_kw(l, i, l->n, "WHERE") < l->n;
		return;
	}
	if (tok_is(l, 0, "DELETE")) {
		i = 1;
		while (tok_is(l, i, "LOW_PRIORITY") || tok_is(l, i, "QUICK") || tok_is(l, i, "IGNORE"))
			i++;
		if (!tok_is(l, i, "FROM"))
			return; /* MySQL's multi-table DELETE t1 FROM ...: not read */
		i++;
		if (tok_is(l, i, "ONLY"))
			i++;
		if (qname(l, i, v->table, sizeof(v->table)) == i)
			return;
		v->kind = ST_DELETE;
		v->existing = table_existing(l, v->table);
		v->has_where = find_kw(l, i, l->n, "WHERE") < l->n;
		return;
	}
	if (tok_is(l, 0, "PRAGMA")) {
		char name[NAME_LEN];
		if (qname(l, 1, name, sizeof(name)) > 1 && strcmp(name, "foreign_keys") == 0)
			v->kind = ST_PRAGMA;
	}
}

/* ---- findings and ignore comments ------------------------------------------------------ */

enum migrate_result lint_check_config(const struct config *c, struct migrate_error *err)
{
	size_t i;

	for (i = 0; i < c->nlint; i++)
		if (lint_rule_index(c->lint[i].rule) < 0)
			return merr_set(err, MIGRATE_EUSAGE,
					"%s:%d: unknown lint rule '%s' in [lint] (see 'migrate lint --rules')",
					c->path ? c->path : "config", c->lint[i].line, c->lint[i].rule);
	return MIGRATE_OK;
}

static enum migrate_lint_severity severity_of(const struct lint *l, int rule)
{
	return l->severity[rule];
}

static void add_finding_at(struct lint *l, int rule, int line, uint64_t ignored, const char *fmt, ...)
	MIGRATE_PRINTF(5, 6);
static void add_finding_at(struct lint *l, int rule, int line, uint64_t ignored, const char *fmt, ...)
{
	struct migrate_lint_report *rep = l->rep;
	struct migrate_lint_finding *f;
	enum migrate_lint_severity sev = severity_of(l, rule);
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	if (!l->report || sev == MIGRATE_LINT_OFF || (ignored & ((uint64_t)1 << rule)) ||
	    !(rule_dialects[rule] & (1u << l->d)))
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	xgrow(&rep->findings, &l->capfindings, rep->n + 1, sizeof(*rep->findings));
	f = &rep->findings[rep->n++];
	f->path = xstrdup(l->mig->path);
	f->line = line;
	f->version = xstrdup(l->mig->version);
	f->name = xstrdup(l->mig->name);
	f->severity = sev;
	f->rule = xstrdup(rule_info[rule].id);
	f->message = strbuf_detach(&sb);
	f->fix = xstrdup(rule_info[rule].fix);
	if (sev == MIGRATE_LINT_ERROR)
		rep->errors++;
	else
		rep->warnings++;
}

#define add_finding(l, rule, ...) add_finding_at((l), (rule), (l)->line, (l)->ignored, __VA_ARGS__)

/*
 * "-- migrate:lint ignore RULE-ID reason" on the lines right above the
 * statement at section offset off (a run of such lines, each silencing one
 * rule), read back to the end of the previous statement (prev_end), so a
 * line inside a string of the previous statement is never taken for one.
 */
static void read_ignores(struct lint *l, size_t prev_end, size_t off, int line)
{
	const char *s = l->s;
	size_t ls = off, le;

	l->ignored = 0;
	while (ls > 0 && s[ls - 1] != '\n')
		ls--;
	while (ls > prev_end && ls > 0) {
		size_t a, b, p;
		char id[NAME_LEN];

		le = ls - 1; /* the '\n' ending the line above */
		ls = le;
		while (ls > 0 && s[ls - 1] != '\n')
			ls--;
		line--;
		if (ls < prev_end)
			break;
		p = ls;
		while (p < le && (s[p] == ' ' || s[p] == '\t'))
			p++;
		if (le - p < 2 || s[p] != '-' || s[p + 1] != '-')
			break;
		p += 2;
		while (p < le && (s[p] == ' ' || s[p] == '\t'))
			p++;
		if (le - p < 12 || strncasecmp(s + p, "migrate:lint", 12) != 0)
			break;
		p += 12;
		while (p < le && (s[p] == ' ' || s[p] == '\t'))
			p++;
		a = p;
		while (p < le && !isspace((unsigned char)s[p]))
			p++;
		if (p - a != 6 || strncasecmp(s + a, "ignore", 6) != 0) {
			add_finding_at(l, R_IGNORE_UNKNOWN, line, 0,
				       "'-- migrate:lint' must be followed by 'ignore RULE-ID reason': this comment silences nothing");
			continue;
		}
		while (p < le && (s[p] == ' ' || s[p] == '\t'))
			p++;
		a = p;
		while (p < le && !isspace((unsigned char)s[p]))
			p++;
		b = p;
		snprintf(id, sizeof(id), "%.*s", (int)(b - a), s + a);
		while (p < le && isspace((unsigned char)s[p]))
			p++;
		if (lint_rule_index(id) < 0) {
			add_finding_at(l, R_IGNORE_UNKNOWN, line, 0,
				       "'-- migrate:lint ignore' names no rule%s%s%s: this comment silences nothing",
				       b > a ? " ('" : "", id, b > a ? "' is not one)" : "");
		} else if (p >= le) {
			add_finding_at(l, R_IGNORE_NO_REASON, line, 0,
				       "'-- migrate:lint ignore %s' gives no reason, so it silences nothing", id);
		} else {
			l->ignored |= (uint64_t)1 << lint_rule_index(id);
		}
	}
}

/* ---- the server (mysql-inline-references) ------------------------------------------------ */

static int version_row(void *ctx, int ncols, const char *const *values)
{
	char *out = ctx;

	if (ncols > 0 && values[0])
		snprintf(out, 128, "%s", values[0]);
	return 1;
}

/*
 * Does the server ignore a column's inline REFERENCES? MySQL does; MariaDB
 * 10.5 and later make it a foreign key. Asked once, only when connected;
 * else (or when the answer is unclear) lint assumes MySQL and *assumed says so.
 */
static int server_ignores_inline_references(struct lint *l, int *assumed)
{
	*assumed = 0;
	if (!l->server_asked && l->m->conn) {
		char ver[128] = "";
		struct migrate_error e;

		l->server_asked = 1;
		merr_clear(&e);
		if (db_query(l->m, "SELECT VERSION()", 0, NULL, version_row, ver, &e) == MIGRATE_OK && ver[0]) {
			int major = 0, minor = 0;
			sscanf(ver, "%d.%d", &major, &minor);
			if (strstr(ver, "MariaDB") || strstr(ver, "mariadb"))
				l->server = major > 10 || (major == 10 && minor >= 5) ? SERVER_MARIADB_FK : SERVER_MARIADB_OLD;
			else
				l->server = SERVER_MYSQL;
		}
	}
	if (l->server == SERVER_NOT_ASKED)
		*assumed = 1;
	return l->server != SERVER_MARIADB_FK;
}

/* ---- the rules ---------------------------------------------------------------------------- */

typedef void (*rule_fn)(struct lint *l, const struct view *v);

static void rule_pg_index(struct lint *l, const struct view *v)
{
	if (v->kind == ST_CREATE_INDEX && v->existing && !v->concurrently && !v->only)
		add_finding(l, R_PG_INDEX,
			    "CREATE INDEX on existing table '%s' blocks every write to it for the whole build", v->table);
}

static void rule_pg_concurrently_tx(struct lint *l, const struct view *v)
{
	(void)v;
	if (l->tx && !tok_is(l, 0, "REFRESH") && find_kw(l, 0, l->n, "CONCURRENTLY") < l->n)
		add_finding(l, R_PG_CONCURRENTLY_TX,
			    "CONCURRENTLY cannot run inside a transaction block, and this section runs in one: the migration fails");
}

static void rule_add_not_null(struct lint *l, const struct view *v)
{
	size_t i;

	if (v->kind != ST_ALTER_TABLE || !v->existing)
		return;
	for (i = 0; i < v->nact; i++) {
		const struct action *a = &v->act[i];
		if (a->kind != A_ADD_COLUMN || !(a->cd.not_null || a->cd.primary) || a->cd.has_default || a->cd.generates)
			continue;
		add_finding(l, R_ADD_NOT_NULL, "column '%s' is added to existing table '%s' NOT NULL without a default: %s",
			    a->col, v->table,
			    l->d == SQL_DIALECT_MYSQL
			    ? "every existing row gets the type's implicit default (0, ''), which the application cannot tell from a real value"
			    : "the migration fails as soon as the table has a row");
	}
}

static void rule_pg_set_not_null(struct lint *l, const struct view *v)
{
	size_t i;

	if (v->kind != ST_ALTER_TABLE || !v->existing)
		return;
	for (i = 0; i < v->nact; i++)
		if (v->act[i].kind == A_SET_NOT_NULL && !column_checked_not_null(&l->md, v->table, v->act[i].col))
			add_finding(l, R_PG_SET_NOT_NULL,
				    "SET NOT NULL on '%s.%s' scans the whole table under an ACCESS EXCLUSIVE lock (no reads, no writes)",
				    v->table, v->act[i].col);
}

static int varchar_length(const char *type, long *len)
{
	const char *p = NULL;

	*len = -1;
	if (strncmp(type, "varchar", 7) == 0)
		p = type + 7;
	else if (strncmp(type, "character varying", 17) == 0)
		p = type + 17;
	if (!p)
		return strcmp(type, "text") == 0; /* text: unbounded */
	if (*p == '(')
		*len = strtol(p + 1, NULL, 10);
	else if (*p)
		return 0;
	return 1;
}

/* PostgreSQL: a change that rewrites nothing (longer or unbounded varchar, varchar to text). */
static int pg_type_widens(const char *from, const char *to)
{
	long fl, tl;

	if (!*from || !varchar_length(from, &fl) || !varchar_length(to, &tl))
		return 0;
	if (strcmp(from, "text") == 0)
		return strcmp(to, "text") == 0 || (tl < 0 && strncmp(to, "text", 4) != 0);
	return tl < 0 || (fl >= 0 && tl >= fl);
}

static void rule_column_type(struct lint *l, const struct view *v)
{
	struct ltable *t;
	size_t i;

	if (v->kind != ST_ALTER_TABLE || !v->existing)
		return;
	t = table_find(&l->md, v->table);
	for (i = 0; i < v->nact; i++) {
		const struct action *a = &v->act[i];
		const struct lcol *c = col_find(t, a->col);
		if (a->kind == A_ALTER_TYPE && l->d == SQL_DIALECT_POSTGRES) {
			if (c && find_kw(l, a->def, a->e, "USING") == a->e && pg_type_widens(c->type, a->cd.type))
				continue;
			add_finding(l, R_COLUMN_TYPE,
				    "changing the type of '%s.%s' to %s rewrites the table and its indexes under an ACCESS EXCLUSIVE lock",
				    v->table, a->col, a->cd.type);
		} else if (a->kind == A_MODIFY && l->d == SQL_DIALECT_MYSQL && !v->algorithm_online) {
			if (c && c->type[0] && strcmp(c->type, a->cd.type) == 0)
				continue; /* same type: a rename, a default, NULL or NOT NULL (in place) */
			add_finding(l, R_COLUMN_TYPE,
				    "changing the type of '%s.%s'%s%s makes MySQL copy the table (ALGORITHM=COPY), blocking writes",
				    v->table, a->col, a->cd.type[0] ? " to " : "", a->cd.type);
		}
	}
}

static void rule_pg_volatile_default(struct lint *l, const struct view *v)
{
	size_t i;

	if (v->kind != ST_ALTER_TABLE || !v->existing)
		return;
	for (i = 0; i < v->nact; i++) {
		const struct action *a = &v->act[i];
		if (a->kind != A_ADD_COLUMN || !a->cd.rewrites)
			continue;
		add_finding(l, R_PG_VOLATILE_DEFAULT,
			    "column '%s' added to existing table '%s' with %s%s: every row gets its own value, so the table is "
			    "rewritten under an ACCESS EXCLUSIVE lock",
			    a->col, v->table, a->cd.volatile_what[0] ? "the volatile default " : "a value generated per row",
			    a->cd.volatile_what);
	}
}

static void rule_pg_constraints(struct lint *l, const struct view *v)
{
	size_t i;

	if (v->kind != ST_ALTER_TABLE || !v->existing)
		return;
	for (i = 0; i < v->nact; i++) {
		const struct action *a = &v->act[i];
		if (a->kind == A_ADD_CONSTRAINT && a->foreign_key && !a->not_valid)
			add_finding(l, R_PG_FOREIGN_KEY,
				    "a foreign key added to existing table '%s' is checked against every row at once, "
				    "blocking writes to it and to the table it references",
				    v->table);
		else if (a->kind == A_ADD_COLUMN && a->cd.references)
			add_finding(l, R_PG_FOREIGN_KEY,
				    "column '%s' added to existing table '%s' with REFERENCES: the new key is checked against every "
				    "row while the table is locked",
				    a->col, v->table);
		if (a->kind == A_ADD_CONSTRAINT && a->check && !a->not_valid)
			add_finding(l, R_PG_CHECK,
				    "a CHECK constraint added to existing table '%s' scans every row under an ACCESS EXCLUSIVE lock",
				    v->table);
		if ((a->kind == A_ADD_CONSTRAINT && a->unique && !a->using_index) ||
		    (a->kind == A_ADD_COLUMN && (a->cd.unique || a->cd.primary)))
			add_finding(l, R_PG_UNIQUE,
				    "a UNIQUE or PRIMARY KEY constraint added to existing table '%s' builds its index under an "
				    "ACCESS EXCLUSIVE lock (no reads, no writes)",
				    v->table);
	}
}

static void rule_breaking(struct lint *l, const struct view *v)
{
	size_t i;

	if (v->kind == ST_ALTER_TABLE && v->existing) {
		for (i = 0; i < v->nact; i++) {
			const struct action *a = &v->act[i];
			if (a->kind == A_DROP_COLUMN)
				add_finding(l, R_DROP_COLUMN,
					    "dropping '%s.%s' breaks the application version still running, which reads or writes it",
					    v->table, a->col);
			else if (a->kind == A_RENAME_COLUMN || (a->kind == A_MODIFY && a->col2[0] && strcmp(a->col, a->col2)))
				add_finding(l, R_RENAME_COLUMN,
					    "renaming '%s.%s' to '%s' breaks the application version still running, which uses the old name",
					    v->table, a->col, a->col2);
			else if (a->kind == A_RENAME_TABLE)
				add_finding(l, R_RENAME_TABLE,
					    "renaming table '%s' to '%s' breaks the application version still running, which uses the old name",
					    v->table, a->col2);
		}
	} else if (v->kind == ST_RENAME_TABLE) {
		for (i = 0; i + 1 < v->nnames; i += 2)
			if (table_existing(l, v->names[i]))
				add_finding(l, R_RENAME_TABLE,
					    "renaming table '%s' to '%s' breaks the application version still running, which uses the old name",
					    v->names[i], v->names[i + 1]);
	} else if (v->kind == ST_DROP_TABLE) {
		/* decided at the end of the migration: a rebuild makes a table of that name again */
		for (i = 0; i < v->nnames; i++) {
			struct deferred *d;
			if (!table_existing(l, v->names[i]))
				continue;
			xgrow(&l->later, &l->caplater, l->nlater + 1, sizeof(*l->later));
			d = &l->later[l->nlater++];
			d->rule = R_DROP_TABLE;
			d->line = l->line;
			d->ignored = l->ignored;
			snprintf(d->table, sizeof(d->table), "%s", v->names[i]);
		}
	}
}

static void rule_mysql_references(struct lint *l, const struct view *v)
{
	char col[NAME_LEN];
	size_t i, b, j;
	int assumed = 0, depth = 0;

	if (v->kind == ST_ALTER_TABLE) {
		for (i = 0; i < v->nact; i++)
			if (v->act[i].kind == A_ADD_COLUMN && v->act[i].cd.references &&
			    server_ignores_inline_references(l, &assumed))
				add_finding(l, R_MYSQL_REFERENCES,
					    "the inline REFERENCES of column '%s.%s' is ignored by MySQL: no foreign key is made%s",
					    v->table, v->act[i].col,
					    assumed ? " (lint assumed MySQL: the server was not asked; MariaDB 10.5+ honours it)" : "");
		return;
	}
	if (v->kind != ST_CREATE_TABLE || !v->body)
		return;
	/* each column definition between the parentheses */
	for (i = b = v->body + 1; i < l->n; i++) {
		if (tok_ch(l, i, '(')) {
			depth++;
			continue;
		}
		if (depth > 0) {
			if (tok_ch(l, i, ')'))
				depth--;
			continue;
		}
		if (!tok_ch(l, i, ',') && !tok_ch(l, i, ')'))
			continue;
		j = name_part(l, b, col, sizeof(col));
		if (j > b && !tok_is(l, b, "CONSTRAINT") && !tok_is(l, b, "FOREIGN") && find_kw(l, j, i, "REFERENCES") < i &&
		    server_ignores_inline_references(l, &assumed))
			add_finding(l, R_MYSQL_REFERENCES,
				    "the inline REFERENCES of column '%s.%s' is ignored by MySQL: no foreign key is made%s",
				    v->table, col,
				    assumed ? " (lint assumed MySQL: the server was not asked; MariaDB 10.5+ honours it)" : "");
		if (tok_ch(l, i, ')'))
			break;
		b = i + 1;
	}
}

static void rule_mysql_options(struct lint *l, const struct view *v)
{
	if ((v->kind != ST_ALTER_TABLE && v->kind != ST_CREATE_INDEX) || !v->existing)
		return;
	if (v->algorithm_copy)
		add_finding(l, R_MYSQL_COPY,
			    "ALGORITHM=COPY on existing table '%s' copies it row by row and blocks every write until it is done",
			    v->table);
	if (v->lock_blocking)
		add_finding(l, R_MYSQL_LOCK, "the LOCK asked for on existing table '%s' blocks %s for the whole ALTER",
			    v->table, find_kw(l, 0, l->n, "EXCLUSIVE") < l->n ? "reads and writes" : "writes");
}

static void rule_sqlite_pragma(struct lint *l, const struct view *v)
{
	if (v->kind == ST_PRAGMA)
		add_finding(l, R_SQLITE_PRAGMA_FK,
			    "SQLite ignores PRAGMA foreign_keys inside a transaction; migrate turns foreign keys off for this "
			    "section itself and checks them before it commits");
}

static void rule_no_where(struct lint *l, const struct view *v)
{
	if (!v->existing || v->has_where)
		return;
	if (v->kind == ST_UPDATE)
		add_finding(l, R_UPDATE_NO_WHERE,
			    "UPDATE without WHERE rewrites every row of existing table '%s' in one transaction, "
			    "locking them all until it ends",
			    v->table);
	else if (v->kind == ST_DELETE)
		add_finding(l, R_DELETE_NO_WHERE, "DELETE without WHERE removes every row of existing table '%s'",
			    v->table);
}

static void rule_pg_backfill(struct lint *l, const struct view *v)
{
	size_t i;

	if (!l->tx || !v->existing)
		return;
	if (v->kind == ST_UPDATE) {
		struct deferred *d;
		xgrow(&l->later, &l->caplater, l->nlater + 1, sizeof(*l->later));
		d = &l->later[l->nlater++];
		d->rule = R_PG_BACKFILL;
		d->line = l->line;
		d->ignored = l->ignored;
		snprintf(d->table, sizeof(d->table), "%s", v->table);
	} else if (v->kind == ST_ALTER_TABLE || (v->kind == ST_CREATE_INDEX && !v->concurrently)) {
		for (i = 0; i < l->naltered; i++)
			if (strcmp(l->altered[i], v->table) == 0)
				return;
		xgrow(&l->altered, &l->capaltered, l->naltered + 1, sizeof(*l->altered));
		snprintf(l->altered[l->naltered++], NAME_LEN, "%s", v->table);
	}
}

/* Each statement goes through every rule of its dialect, in this order. */
static const struct {
	rule_fn fn;
	unsigned dialects;
} recognisers[] = {
	{ rule_pg_index, D_PG },
	{ rule_pg_concurrently_tx, D_PG },
	{ rule_add_not_null, D_ALL },
	{ rule_pg_set_not_null, D_PG },
	{ rule_column_type, D_PG | D_MYSQL },
	{ rule_pg_volatile_default, D_PG },
	{ rule_pg_constraints, D_PG },
	{ rule_breaking, D_ALL },
	{ rule_mysql_references, D_MYSQL },
	{ rule_mysql_options, D_MYSQL },
	{ rule_sqlite_pragma, D_SQLITE },
	{ rule_no_where, D_ALL },
	{ rule_pg_backfill, D_PG },
};

/* ---- the model follows the statement ---------------------------------------------------- */

static void apply_create_table(struct lint *l, const struct view *v)
{
	struct ltable *t;
	char col[NAME_LEN];
	struct coldef cd;
	size_t i, b, j;
	int depth = 0;

	if (v->if_not_exists && table_find(&l->md, v->table))
		return; /* it was there already: nothing is made */
	t = table_create(&l->md, v->table);
	if (!v->body)
		return;
	for (i = b = v->body + 1; i < l->n; i++) {
		if (tok_ch(l, i, '(')) {
			depth++;
			continue;
		}
		if (depth > 0) {
			if (tok_ch(l, i, ')'))
				depth--;
			continue;
		}
		if (!tok_ch(l, i, ',') && !tok_ch(l, i, ')'))
			continue;
		if (!tok_is(l, b, "CONSTRAINT") && !tok_is(l, b, "PRIMARY") && !tok_is(l, b, "FOREIGN") &&
		    !tok_is(l, b, "CHECK") && !tok_is(l, b, "UNIQUE") && !tok_is(l, b, "KEY") && !tok_is(l, b, "INDEX") &&
		    (j = name_part(l, b, col, sizeof(col))) > b) {
			coldef_read(l, j, i, &cd);
			col_set(t, col, cd.type);
		}
		if (tok_ch(l, i, ')'))
			break;
		b = i + 1;
	}
}

static void apply(struct lint *l, const struct view *v)
{
	struct ltable *t;
	size_t i;

	switch (v->kind) {
	case ST_CREATE_TABLE:
		apply_create_table(l, v);
		break;
	case ST_DROP_TABLE:
		for (i = 0; i < v->nnames; i++)
			table_drop(&l->md, v->names[i]);
		break;
	case ST_RENAME_TABLE:
		for (i = 0; i + 1 < v->nnames; i += 2) {
			t = table_find(&l->md, v->names[i]);
			if (!t) {
				t = table_create(&l->md, v->names[i]);
				t->created = 0;
			}
			table_drop(&l->md, v->names[i + 1]);
			t = table_find(&l->md, v->names[i]);
			snprintf(t->name, sizeof(t->name), "%s", v->names[i + 1]);
		}
		break;
	case ST_ALTER_TABLE:
		t = table_find(&l->md, v->table);
		for (i = 0; i < v->nact; i++) {
			const struct action *a = &v->act[i];
			struct lcheck *k;
			switch (a->kind) {
			case A_ADD_COLUMN:
			case A_ALTER_TYPE:
				col_set(t, a->col, a->cd.type);
				break;
			case A_MODIFY:
				if (a->col2[0])
					col_drop(t, a->col);
				col_set(t, a->col2[0] ? a->col2 : a->col, a->cd.type);
				break;
			case A_DROP_COLUMN:
				col_drop(t, a->col);
				break;
			case A_RENAME_COLUMN: {
				struct lcol *c = col_find(t, a->col);
				if (c)
					snprintf(c->name, sizeof(c->name), "%s", a->col2);
				break;
			}
			case A_RENAME_TABLE:
				if (!t) {
					t = table_create(&l->md, v->table);
					t->created = 0;
				}
				table_drop(&l->md, a->col2);
				t = table_find(&l->md, v->table);
				snprintf(t->name, sizeof(t->name), "%s", a->col2);
				break;
			case A_ADD_CONSTRAINT:
				if (a->check_column[0] && a->col2[0]) {
					xgrow(&l->md.k, &l->md.capk, l->md.nk + 1, sizeof(*l->md.k));
					k = &l->md.k[l->md.nk++];
					snprintf(k->name, sizeof(k->name), "%s", a->col2);
					snprintf(k->table, sizeof(k->table), "%s", v->table);
					snprintf(k->column, sizeof(k->column), "%s", a->check_column);
					k->valid = !a->not_valid;
				}
				break;
			case A_VALIDATE:
				if ((k = check_find(&l->md, a->col2)) != NULL)
					k->valid = 1;
				break;
			default:
				break;
			}
		}
		break;
	default:
		break;
	}
}

/* ---- a migration -------------------------------------------------------------------------- */

/* The findings from first on in line order (stable: one line's findings keep their order). */
static void sort_findings(struct migrate_lint_report *rep, size_t first)
{
	size_t i, j;

	for (i = first + 1; i < rep->n; i++) {
		struct migrate_lint_finding f = rep->findings[i];
		for (j = i; j > first && rep->findings[j - 1].line > f.line; j--)
			rep->findings[j] = rep->findings[j - 1];
		rep->findings[j] = f;
	}
}

static void lint_migration(struct lint *l, const struct migration *mig, int report)
{
	const struct section *sec = &mig->up;
	struct sql_stmts stmts = { NULL, 0, 0 };
	struct sql_tokens toks = { NULL, 0, 0 };
	char errbuf[256];
	size_t i, k, first = l->rep->n;

	if (!sec->present || !mig->text)
		return;
	l->mig = mig;
	l->report = report;
	l->tx = sec->transaction;
	l->nlater = l->naltered = 0;
	for (i = 0; i < l->md.n; i++)
		l->md.t[i].created = 0;
	l->s = mig->text + sec->off;
	if (sqllex_tokens(l->s, sec->len, l->d, sec->line, &stmts, &toks, errbuf, sizeof(errbuf)) == 0) {
		for (i = 0; i < stmts.n; i++) {
			const struct sql_stmt *st = &stmts.v[i];
			struct view v;

			l->t = toks.v + st->tok;
			l->n = st->ntok;
			l->line = st->line;
			l->ignored = 0;
			if (report)
				read_ignores(l, i ? stmts.v[i - 1].off + stmts.v[i - 1].len : 0, st->off, st->line);
			read_view(l, &v);
			for (k = 0; k < sizeof(recognisers) / sizeof(recognisers[0]); k++)
				if (recognisers[k].dialects & (1u << l->d))
					recognisers[k].fn(l, &v);
			apply(l, &v);
		}
	}
	/* what only the whole migration tells */
	for (i = 0; i < l->nlater; i++) {
		const struct deferred *d = &l->later[i];
		if (d->rule == R_DROP_TABLE && !table_find(&l->md, d->table))
			add_finding_at(l, R_DROP_TABLE, d->line, d->ignored,
				       "dropping table '%s' breaks the application version still running, which uses it", d->table);
		if (d->rule == R_PG_BACKFILL) {
			for (k = 0; k < l->naltered; k++)
				if (strcmp(l->altered[k], d->table) == 0)
					break;
			if (k < l->naltered)
				add_finding_at(l, R_PG_BACKFILL, d->line, d->ignored,
					       "this UPDATE of '%s' runs in the same transaction as DDL on it, so the DDL's ACCESS "
					       "EXCLUSIVE lock is held (no reads, no writes) until the whole backfill commits",
					       d->table);
		}
	}
	/* up's gate: what this migration made is new to the rest of the run */
	for (i = 0; l->gate && report && i < l->md.n; i++)
		if (l->md.t[i].created)
			l->md.t[i].run_new = 1;
	sort_findings(l->rep, first);
	sql_stmts_release(&stmts);
	sql_tokens_release(&toks);
}

/*
 * Lints the migrations of m->migs whose want[i] is set, reading all before
 * the last of them. gate: they are one run of 'up', so a table one of them
 * makes is not an existing table to the later ones (no application can be
 * using it yet: an empty database's whole history is one such run).
 */
static void lint_run(migrate *m, const unsigned char *want, int gate, struct migrate_lint_report *rep)
{
	struct lint l;
	size_t i, last = 0;
	int any = 0;

	memset(&l, 0, sizeof(l));
	l.m = m;
	l.d = m->cfg.drv->dialect;
	l.rep = rep;
	l.gate = gate;
	for (i = 0; i < R_COUNT; i++)
		l.severity[i] = rule_info[i].severity;
	for (i = 0; i < m->cfg.nlint; i++) {
		int k = lint_rule_index(m->cfg.lint[i].rule);
		if (k >= 0)
			l.severity[k] = m->cfg.lint[i].severity;
	}
	for (i = 0; i < m->migs.n; i++)
		if (want[i]) {
			last = i;
			any = 1;
			rep->checked++;
		}
	for (i = 0; any && i <= last; i++)
		lint_migration(&l, &m->migs.v[i], want[i]);
	model_release(&l.md);
	free(l.later);
	free(l.altered);
}

/* ---- the entry points ---------------------------------------------------------------------- */

void migrate_lint_report_free(struct migrate_lint_report *rep)
{
	size_t i;

	if (!rep)
		return;
	for (i = 0; i < rep->n; i++) {
		struct migrate_lint_finding *f = &rep->findings[i];
		free(f->path);
		free(f->version);
		free(f->name);
		free(f->rule);
		free(f->message);
		free(f->fix);
	}
	free(rep->findings);
	free(rep);
}

/* The migration a VERSION or FILE argument names, or -1. */
static long find_target(const migrate *m, const char *arg)
{
	const char *base = strrchr(arg, '/') ? strrchr(arg, '/') + 1 : arg;
	size_t i;

	if (*arg && strspn(arg, "0123456789") == strlen(arg)) {
		for (i = 0; i < m->migs.n; i++)
			if (version_cmp(m->migs.v[i].version, arg) == 0)
				return (long)i;
		return -1;
	}
	for (i = 0; i < m->migs.n; i++)
		if (strcmp(m->migs.v[i].path, arg) == 0 || strcmp(m->migs.v[i].filename, base) == 0)
			return (long)i;
	return -1;
}

static int history_row_applied(void *ctx, const struct migration *mig)
{
	const struct history *h = ctx;
	const struct history_row *r = history_find(h, mig->version);

	return r && strcmp(r->status, "applied") == 0;
}

enum migrate_result migrate_lint(migrate *m, const struct migrate_lint_options *opt,
				 struct migrate_lint_report **report, struct migrate_error *err)
{
	struct migrate_lint_options none = { 0, NULL, 0 };
	struct migrate_lint_report *rep;
	unsigned char *want = NULL;
	int opened = 0, ran = 0;
	size_t i;

	merr_clear(err);
	*report = NULL;
	if (!opt)
		opt = &none;
	if (!m || !m->cfg.drv)
		return merr_set(err, MIGRATE_EUSAGE, "no database configured: lint needs the driver, for its dialect");
	if (!m->conn) {
		/* a handle opened without a connection has not read the files yet */
		migration_set_release(&m->migs);
		if (layout_scan(m->cfg.migrations_dir, (enum layout_format)m->cfg.format, m->cfg.drv->dialect,
				m->cfg.drv->name, m->cfg.ignore, &m->migs, err))
			return err->code;
	}
	rep = xcalloc(1, sizeof(*rep));
	want = xcalloc(m->migs.n + 1, 1);
	if (opt->ntargets) {
		rep->scope = "named";
		for (i = 0; i < opt->ntargets; i++) {
			long k = find_target(m, opt->targets[i]);
			if (k < 0) {
				merr_set(err, MIGRATE_EUSAGE, "'%s' names no migration in '%s'", opt->targets[i],
					 m->cfg.migrations_dir);
				goto out;
			}
			want[k] = 1;
		}
	} else if (opt->all) {
		rep->scope = "all";
		memset(want, 1, m->migs.n);
	} else {
		struct migrate_error cerr;
		struct history h = { NULL, 0, 0 };

		rep->scope = "pending";
		merr_clear(&cerr);
		if (!m->conn) {
			/* read-only, as a dry run: lint changes nothing, not even a new SQLite file */
			int dry = m->opt.dry_run;
			m->opt.dry_run = 1;
			if (db_connect(m, &cerr) == MIGRATE_OK)
				opened = 1;
			m->opt.dry_run = dry;
		}
		if (!m->conn) {
			char *w = xasprintf("%s; without the history, lint checks every migration, not only the pending ones",
					    cerr.message);
			emit(m, MIGRATE_EVENT_WARNING, NULL, NULL, w, 0, 0);
			free(w);
			rep->scope = "all";
			memset(want, 1, m->migs.n);
		} else {
			if (history_load(m, &h, err)) {
				history_release(&h);
				goto out;
			}
			for (i = 0; i < m->migs.n; i++)
				want[i] = !history_row_applied(&h, &m->migs.v[i]);
			history_release(&h);
		}
	}
	lint_run(m, want, 0, rep);
	ran = 1;
	if (rep->errors)
		merr_set(err, MIGRATE_EFAIL, "lint: %zu error-level finding%s in %zu migration%s", rep->errors,
			 rep->errors == 1 ? "" : "s", rep->checked, rep->checked == 1 ? "" : "s");
out:
	if (opened)
		db_close(m);
	free(want);
	if (!ran) {
		migrate_lint_report_free(rep);
		return err->code;
	}
	*report = rep;
	return err->code;
}

static char *finding_line(const struct migrate_lint_finding *f)
{
	return xasprintf("%s:%d: %s: %s: %s; %s", f->path, f->line, migrate_lint_severity_name(f->severity), f->rule,
			 f->message, f->fix);
}

enum migrate_result lint_gate(migrate *m, const struct migration *const *todo, size_t ntodo,
			      int no_lint, struct migrate_error *err)
{
	struct migrate_lint_report *rep;
	unsigned char *want;
	const struct migrate_lint_finding *first = NULL;
	char more[96] = "";
	size_t i;

	if (no_lint || ntodo == 0)
		return MIGRATE_OK;
	rep = xcalloc(1, sizeof(*rep));
	want = xcalloc(m->migs.n + 1, 1);
	for (i = 0; i < ntodo; i++)
		want[todo[i] - m->migs.v] = 1;
	lint_run(m, want, 1, rep);
	free(want);
	for (i = 0; i < rep->n; i++) {
		const struct migrate_lint_finding *f = &rep->findings[i];
		if (f->severity == MIGRATE_LINT_ERROR && !first)
			first = f;
		if ((f->severity == MIGRATE_LINT_ERROR || m->opt.dry_run) && m->opt.progress) {
			struct migrate_event ev;
			char *line = finding_line(f);
			memset(&ev, 0, sizeof(ev));
			ev.kind = MIGRATE_EVENT_LINT;
			ev.version = f->version;
			ev.name = f->name;
			ev.message = line;
			ev.finding = f;
			m->opt.progress(m->opt.progress_ctx, &ev);
			free(line);
		}
	}
	if (rep->errors > 1)
		snprintf(more, sizeof(more), " (and %zu more error-level finding%s)", rep->errors - 1,
			 rep->errors == 2 ? "" : "s");
	if (first && m->cfg.lint_enforce)
		merr_set(err, MIGRATE_EFAIL,
			 "lint: %s:%d: %s: %s%s; nothing was applied: write it the safe way (%s), silence it with "
			 "'-- migrate:lint ignore %s REASON' on the line before the statement, or run 'migrate up --no-lint' "
			 "(enforce = false in [lint] makes up only report them)",
			 first->path, first->line, first->rule, first->message, more, first->fix, first->rule);
	migrate_lint_report_free(rep);
	return err->code;
}
