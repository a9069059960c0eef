/*
 * adopt.c - 'baseline --from TOOL': taking over another tool's history
 * (SPEC section 14).
 *
 * The other tool's history table, in the same database, says which
 * versions are applied; they are recorded as applied in migrate's table,
 * with the current files' checksums, in one transaction. Everything is
 * read and checked first: a dirty or failed history, a version with no
 * file, or a migrate history that already has rows change nothing. The
 * other tool's table is only read, never written. The tables, as each
 * tool creates them (checked against their sources):
 *
 *   golang-migrate  schema_migrations (version bigint, dirty boolean): one
 *                   row, the current version; every version up to it is
 *                   applied; dirty means a migration failed half-way.
 *   goose           goose_db_version (id, version_id, is_applied, tstamp):
 *                   the latest row (highest id) of a version decides;
 *                   version 0 is goose's own first row.
 *   Flyway          flyway_schema_history (installed_rank, version, ...,
 *                   type, script, ..., success): rows in installed_rank
 *                   order; SQL (and JDBC, ...) applies a version, UNDO_*
 *                   and DELETE take it back, BASELINE applies every
 *                   version up to its own (those need no file); a row with
 *                   success false is a failed migration.
 *   dbmate          schema_migrations (version): a row per applied version.
 *
 * golang-migrate's and dbmate's tables have migrate's default name, so
 * migrate then needs 'table' set to another name; explain_foreign_table
 * says so wherever migrate finds such a table under its own name.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

struct tool {
	const char *name;
	const char *table;   /* its default history table */
	const char *label;   /* for messages */
};

static const struct tool tools[] = {
	{ "golang-migrate", "schema_migrations", "golang-migrate" },
	{ "goose", "goose_db_version", "goose" },
	{ "flyway", "flyway_schema_history", "Flyway" },
	{ "dbmate", "schema_migrations", "dbmate" },
};

enum { T_GOLANG, T_GOOSE, T_FLYWAY, T_DBMATE };

/* One version the other tool's history speaks of. */
struct seen {
	char *version;   /* canonical */
	char *raw;       /* as stored */
	int applied;
};

struct foreign {
	int tool;
	struct seen *v;
	size_t n, cap;
	char *upto;      /* golang-migrate's current version, Flyway's baseline: every version up to it */
	int upto_needs_file;
	size_t rows;
	struct strbuf problem; /* why the history cannot be taken over */
};

static int truthy(const char *s)
{
	return s && (strcasecmp(s, "t") == 0 || strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0 ||
		     strcasecmp(s, "y") == 0 || strcasecmp(s, "yes") == 0 || strcasecmp(s, "on") == 0);
}

static struct seen *seen_get(struct foreign *f, const char *canon, const char *raw)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (version_cmp(f->v[i].version, canon) == 0)
			return &f->v[i];
	xgrow(&f->v, &f->cap, f->n + 1, sizeof(*f->v));
	f->v[f->n].version = xstrdup(canon);
	f->v[f->n].raw = xstrdup(raw);
	f->v[f->n].applied = 0;
	return &f->v[f->n++];
}

static void problem(struct foreign *f, const char *fmt, ...) MIGRATE_PRINTF(2, 3);

static void problem(struct foreign *f, const char *fmt, ...)
{
	va_list ap;

	if (f->problem.len)
		return; /* the first one is what matters */
	va_start(ap, fmt);
	strbuf_vaddf(&f->problem, fmt, ap);
	va_end(ap);
}

/* The canonical version of a stored one, or NULL (and a problem) when it is not one. */
static char *canon_or_problem(struct foreign *f, const char *raw)
{
	char *c = raw ? version_canonical(raw, strlen(raw)) : NULL;

	if (!c)
		problem(f, "it holds the version '%s', which is not a version", raw ? raw : "NULL");
	return c;
}

static int golang_row(void *ctx, int ncols, const char *const *v)
{
	struct foreign *f = ctx;
	char *c;

	if (ncols < 2)
		return 1;
	f->rows++;
	if (truthy(v[1])) {
		problem(f, "it is dirty at version %s: a migration failed part-way; put the database right and clear the flag with golang-migrate's 'force VERSION'",
			v[0] ? v[0] : "NULL");
		return 0;
	}
	if (f->rows > 1) {
		problem(f, "it holds more than one row (golang-migrate keeps one, the current version)");
		return 0;
	}
	if ((c = canon_or_problem(f, v[0])) != NULL) {
		free(f->upto);
		f->upto = c;
		f->upto_needs_file = 1;
	}
	return 0;
}

static int goose_row(void *ctx, int ncols, const char *const *v)
{
	struct foreign *f = ctx;
	char *c;

	if (ncols < 3)
		return 1;
	f->rows++;
	if (v[1] && strcmp(v[1], "0") == 0)
		return 0; /* goose's own first row */
	if ((c = canon_or_problem(f, v[1])) != NULL) {
		seen_get(f, c, v[1])->applied = truthy(v[2]); /* ordered by id: the latest row decides */
		free(c);
	}
	return 0;
}

static int flyway_row(void *ctx, int ncols, const char *const *v)
{
	struct foreign *f = ctx;
	const char *version = v[1], *type = v[2] ? v[2] : "";
	char *c;

	if (ncols < 5)
		return 1;
	f->rows++;
	if (!truthy(v[3])) {
		problem(f, "it records a failed migration: %s (version %s); fix the database, then run 'flyway repair'",
			v[4] ? v[4] : "?", version ? version : "none");
		return 0;
	}
	if (strcmp(type, "SCHEMA") == 0 || !version || !*version)
		return 0; /* Flyway's schema creation mark, repeatable migrations */
	if (!(c = canon_or_problem(f, version)))
		return 0;
	if (strcmp(type, "BASELINE") == 0) {
		if (!f->upto || version_cmp(c, f->upto) > 0) {
			free(f->upto);
			f->upto = c;
			c = NULL;
		}
	} else {
		/* UNDO_SQL and the other undo types, and DELETE (repair's mark for a removed migration) take it back */
		seen_get(f, c, version)->applied = !(strncmp(type, "UNDO_", 5) == 0 || strcmp(type, "DELETE") == 0);
	}
	free(c);
	return 0;
}

static int dbmate_row(void *ctx, int ncols, const char *const *v)
{
	struct foreign *f = ctx;
	char *c;

	if (ncols < 1)
		return 1;
	f->rows++;
	if ((c = canon_or_problem(f, v[0])) != NULL) {
		seen_get(f, c, v[0])->applied = 1;
		free(c);
	}
	return 0;
}

/*
 * SELECT cols FROM table [ORDER BY order], every identifier quoted; own:
 * the table is migrate's tracking table, in the schema it was found in
 */
static char *select_sql(const migrate *m, const char *const *cols, const char *table, const char *order, int own)
{
	struct strbuf sb = STRBUF_INIT;
	int i;

	/* qualified: SQLite reads an unknown bare "column" as a string */
	strbuf_addstr(&sb, "SELECT ");
	for (i = 0; cols[i]; i++) {
		if (i)
			strbuf_addstr(&sb, ", ");
		db_quote_ident(m, &sb, table);
		strbuf_addch(&sb, '.');
		db_quote_ident(m, &sb, cols[i]);
	}
	strbuf_addstr(&sb, " FROM ");
	if (own)
		db_quote_table(m, &sb, table);
	else
		db_quote_ident(m, &sb, table);
	if (order) {
		strbuf_addstr(&sb, " ORDER BY ");
		db_quote_ident(m, &sb, table);
		strbuf_addch(&sb, '.');
		db_quote_ident(m, &sb, order);
	}
	return strbuf_detach(&sb);
}

static enum migrate_result read_foreign(migrate *m, const char *table, struct foreign *f,
					struct migrate_error *err)
{
	static const char *const golang_cols[] = { "version", "dirty", NULL };
	static const char *const goose_cols[] = { "id", "version_id", "is_applied", NULL };
	static const char *const flyway_cols[] = { "installed_rank", "version", "type", "success", "script", NULL };
	static const char *const dbmate_cols[] = { "version", NULL };
	static const struct {
		const char *const *cols;
		const char *order;
		driver_row_fn fn;
	} q[] = {
		[T_GOLANG] = { golang_cols, NULL, golang_row },
		[T_GOOSE] = { goose_cols, "id", goose_row },
		[T_FLYWAY] = { flyway_cols, "installed_rank", flyway_row },
		[T_DBMATE] = { dbmate_cols, NULL, dbmate_row },
	};
	struct migrate_error qerr;
	char *sql = select_sql(m, q[f->tool].cols, table, q[f->tool].order, 0);
	enum migrate_result r;

	merr_clear(&qerr);
	r = db_query(m, sql, 0, NULL, q[f->tool].fn, f, &qerr);
	free(sql);
	if (r)
		return merr_set(err, r, "cannot read %s's history table '%s' (is it %s's?): %s", tools[f->tool].label,
				table, tools[f->tool].label, qerr.message);
	return MIGRATE_OK;
}

static void foreign_release(struct foreign *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->v[i].version);
		free(f->v[i].raw);
	}
	free(f->v);
	free(f->upto);
	strbuf_release(&f->problem);
}

enum migrate_result migrate_baseline_from(migrate *m, const char *tool, const char *table,
					  struct migrate_error *err)
{
	struct foreign f;
	struct history h;
	struct strbuf nofile = STRBUF_INIT;
	const struct migration **todo = NULL;
	size_t ntodo = 0, i, j;
	int exists, tx = 0, t;

	merr_clear(err);
	memset(&f, 0, sizeof(f));
	memset(&h, 0, sizeof(h));
	if (!m || !m->conn)
		return merr_set(err, MIGRATE_EUSAGE, "no database connection (opened with no_database)");
	for (t = 0; t < (int)(sizeof(tools) / sizeof(tools[0])); t++)
		if (tool && strcmp(tool, tools[t].name) == 0)
			break;
	if (t == (int)(sizeof(tools) / sizeof(tools[0])))
		return merr_set(err, MIGRATE_EUSAGE, "baseline --from '%s': migrate takes over golang-migrate, goose, flyway or dbmate",
				tool ? tool : "");
	f.tool = t;
	if (!table || !*table)
		table = tools[t].table;
	if (strcasecmp(table, m->cfg.table) == 0)
		return merr_set(err, MIGRATE_EUSAGE,
				"'%s' is %s's history table and migrate's own table has the same name: set 'table' in [migrate] to another name (e.g. migrate_migrations), then run this again; %s's table is left as it is",
				table, tools[t].label, tools[t].label);

	if (db_lock(m, err))
		goto out;
	if (db_table_exists(m, table, &exists, err))
		goto out;
	if (!exists) {
		merr_set(err, MIGRATE_EFAIL, "no %s history in %s: there is no table '%s' (name it with --table)",
			 tools[t].label, m->cfg.display_url, table);
		goto out;
	}
	if (read_foreign(m, table, &f, err))
		goto out;
	if (f.problem.len) {
		merr_set(err, MIGRATE_EFAIL, "cannot take over %s's history in '%s': %s; nothing was recorded",
			 tools[t].label, table, f.problem.buf);
		goto out;
	}
	if (history_load(m, &h, err))
		goto out;
	if (h.n) {
		merr_set(err, MIGRATE_EFAIL,
			 "migrate's table '%s' already holds %zu migration%s; baseline --from is for a database migrate has not run on (see 'migrate status')",
			 m->cfg.table, h.n, h.n == 1 ? "" : "s");
		goto out;
	}

	/* every version the history names needs its file; a baseline's own version need not have one */
	for (i = 0; i < f.n; i++)
		if (f.v[i].applied && !migration_find(&m->migs, f.v[i].version))
			strbuf_addf(&nofile, "%s%s", nofile.len ? ", " : "", f.v[i].raw);
	if (f.upto && f.upto_needs_file && !migration_find(&m->migs, f.upto))
		strbuf_addf(&nofile, "%s%s", nofile.len ? ", " : "", f.upto);
	if (nofile.len) {
		merr_set(err, MIGRATE_EFAIL,
			 "%s's history in '%s' has applied version %s, with no migration file in '%s'; nothing was recorded (restore the file, or point --migrations-dir at the right directory)",
			 tools[t].label, table, nofile.buf, m->cfg.migrations_dir);
		goto out;
	}
	todo = xcalloc(m->migs.n + 1, sizeof(*todo));
	for (i = 0; i < m->migs.n; i++) {
		const struct migration *mig = &m->migs.v[i];
		int applied = f.upto && version_cmp(mig->version, f.upto) <= 0;

		for (j = 0; !applied && j < f.n; j++)
			applied = f.v[j].applied && version_cmp(f.v[j].version, mig->version) == 0;
		if (applied)
			todo[ntodo++] = mig;
	}
	if (!ntodo) {
		emitf(m, MIGRATE_EVENT_NOTICE, "nothing to record: %s's history in '%s' has no applied migration",
		      tools[t].label, table);
		goto out;
	}

	if (history_ensure(m, err))
		goto out;
	/* the rows are data, so one transaction covers them on every database */
	if (db_begin(m, err))
		goto out;
	tx = 1;
	for (i = 0; i < ntodo; i++) {
		if (history_insert(m, todo[i], "applied", 0, err))
			goto out;
		emit(m, MIGRATE_EVENT_BASELINED, todo[i]->version, todo[i]->name, todo[i]->path, 0, 0);
	}
	if (db_commit(m, err))
		goto out;
	tx = 0;
	emitf(m, MIGRATE_EVENT_NOTICE, "%s %zu migration%s from %s's '%s' (left as it was)",
	      m->opt.dry_run ? "would take over" : "took over", ntodo, ntodo == 1 ? "" : "s", tools[t].label, table);
out:
	if (tx)
		db_rollback(m);
	free(todo);
	strbuf_release(&nofile);
	history_release(&h);
	foreign_release(&f);
	db_unlock(m);
	return err->code;
}

/* Does the query run (a scratch error: a failure here is an answer, not an error)? */
static int runs(migrate *m, const char *table, const char *col)
{
	const char *const cols[] = { col, NULL };
	struct migrate_error e;
	char *sql = select_sql(m, cols, table, NULL, 1), *lim = xasprintf("%s WHERE 1 = 0", sql);
	int ok;

	merr_clear(&e);
	ok = db_query(m, lim, 0, NULL, NULL, NULL, &e) == MIGRATE_OK;
	free(sql);
	free(lim);
	return ok;
}

void explain_foreign_table(migrate *m, struct migrate_error *err)
{
	const char *t = m->cfg.table, *who;

	if (!err->code || m->opt.dry_run || runs(m, t, "checksum") || !runs(m, t, "version"))
		return;
	who = runs(m, t, "dirty") ? "golang-migrate's history (columns version and dirty)"
				  : "dbmate's history (one column, version)";
	err->code = MIGRATE_EUSAGE;
	snprintf(err->message, sizeof(err->message),
		 "table '%s' is %s, not migrate's: set 'table' in [migrate] to another name (e.g. migrate_migrations), then take its history over with 'migrate baseline --from %s'; that table is left as it is",
		 t, who, who[0] == 'g' ? "golang-migrate" : "dbmate");
}
