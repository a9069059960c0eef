/*
 * history.c - the tracking tables (SPEC section 4), written once for every
 * database: identifiers quoted by the driver's rule, values always bound,
 * column types taken from the driver's table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- building statements ---------------------------------------------------- */

/* Appends "col1, col2, ..." with every name quoted. */
static void add_columns(const migrate *m, struct strbuf *sb, const char *const *cols)
{
	int i;

	for (i = 0; cols[i]; i++) {
		if (i)
			strbuf_addstr(sb, ", ");
		db_quote_ident(m, sb, cols[i]);
	}
}

static const char *const mig_cols[] = {
	"version", "name", "checksum", "checksum_sql", "down_sql", "applied_at", "duration_ms", "status", NULL,
};

static const char *const seed_cols[] = {
	"name", "checksum", "applied_at", "duration_ms", "rows", NULL,
};

enum migrate_result history_ensure(migrate *m, struct migrate_error *err)
{
	const struct driver *d = m->cfg.drv;
	struct strbuf sb = STRBUF_INIT;
	enum migrate_result r;
	int exists;

	if (db_tracking_exists(m, m->cfg.table, &exists, err))
		return err->code;
	if (exists)
		return MIGRATE_OK;
	strbuf_addstr(&sb, "CREATE TABLE ");
	db_quote_table(m, &sb, m->cfg.table);
	strbuf_addstr(&sb, " (");
#define COL(name, type) do { db_quote_ident(m, &sb, name); strbuf_addf(&sb, " %s, ", type); } while (0)
	COL("version", "VARCHAR(255) NOT NULL PRIMARY KEY");
	COL("name", "VARCHAR(255) NOT NULL");
	COL("checksum", "CHAR(64) NOT NULL");
	COL("checksum_sql", "CHAR(64) NOT NULL");
	COL("down_sql", d->type_long_text);
	db_quote_ident(m, &sb, "applied_at");
	strbuf_addf(&sb, " %s NOT NULL, ", d->type_timestamp);
	COL("duration_ms", "BIGINT NOT NULL");
	db_quote_ident(m, &sb, "status");
	strbuf_addstr(&sb, " VARCHAR(16) NOT NULL)");
#undef COL
	r = db_exec_sql(m, strbuf_str(&sb), err);
	strbuf_release(&sb);
	return r;
}

/* ---- reading ---------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int add_history_row(void *ctx, int ncols, const char *const *v)
{
	struct history *h = ctx;
	struct history_row *row;

	if (ncols < 8)
		return 1;
	xgrow(&h->v, &h->cap, h->n + 1, sizeof(*h->v));
	row = &h->v[h->n++];
	memset(row, 0, sizeof(*row));
	row->version = xstrdup(v[0] ? v[0] : "");
	row->v = version_canonical(row->version, strlen(row->version));
	row->parsed = row->v != NULL;
	row->name = xstrdup(v[1] ? v[1] : "");
	row->checksum = dup_or_null(v[2]);
	row->checksum_sql = dup_or_null(v[3]);
	row->down_sql = dup_or_null(v[4]);
	row->applied_at = dup_or_null(v[5]);
	row->duration_ms = v[6] ? atoll(v[6]) : 0;
	row->status = xstrdup(v[7] ? v[7] : "applied");
	return 0;
}

static int cmp_row(const void *a, const void *b)
{
	const struct history_row *x = a, *y = b;

	if (x->parsed != y->parsed)
		return x->parsed ? -1 : 1;
	if (x->parsed && version_cmp(x->v, y->v) != 0)
		return version_cmp(x->v, y->v);
	return strcmp(x->version, y->version);
}

/* Do two rows name one version ("03" and "3" do)? */
static int same_version(const struct history_row *x, const struct history_row *y)
{
	if (x->parsed && y->parsed)
		return version_cmp(x->v, y->v) == 0;
	return !x->parsed && !y->parsed && strcmp(x->version, y->version) == 0;
}

/* Rows in version order, the same version's rows by their text. */
static int cmp_canonical(const void *a, const void *b)
{
	const struct history_row *x = *(const struct history_row *const *)a;
	const struct history_row *y = *(const struct history_row *const *)b;
	int c;

	if (x->parsed != y->parsed)
		return x->parsed ? -1 : 1;
	if (x->parsed && (c = version_cmp(x->v, y->v)) != 0)
		return c;
	return strcmp(x->version, y->version);
}

/*
 * A history edited by hand may hold what migrate never writes: a status
 * other than applied, running and failed, a version that is not one
 * ("", " 2", "2 ", "abc": no file can match it, so it would pass for a
 * missing migration and down would run its stored down_sql), or one
 * version twice ("3" and "03"). Acting on it would mean guessing (which row is the real one, is
 * "done" applied?), so every command that reads the history refuses and
 * names the rows.
 */
static enum migrate_result history_check_rows(migrate *m, const struct history *h,
					      struct migrate_error *err)
{
	struct strbuf bad = STRBUF_INIT, table = STRBUF_INIT;
	const struct history_row **by = NULL;
	size_t i, j;

	for (i = 0; i < h->n; i++) {
		const char *st = h->v[i].status;
		if (!h->v[i].parsed)
			strbuf_addf(&bad, "%sversion '%s' (%s) is not a version (digits, or numbers separated by dots)", bad.len ? "; " : "", h->v[i].version,
				    h->v[i].name);
		if (strcmp(st, "applied") && strcmp(st, "running") && strcmp(st, "failed"))
			strbuf_addf(&bad, "%sversion %s (%s) has status '%s', which is not applied, running or failed",
				    bad.len ? "; " : "", h->v[i].version, h->v[i].name, st);
	}
	if (h->n > 1) {
		by = xcalloc(h->n, sizeof(*by));
		for (i = 0; i < h->n; i++)
			by[i] = &h->v[i];
		qsort(by, h->n, sizeof(*by), cmp_canonical);
		for (i = 0; i < h->n; i = j) {
			for (j = i + 1; j < h->n && same_version(by[i], by[j]); j++)
				;
			if (j - i > 1) {
				size_t k;
				strbuf_addf(&bad, "%sone migration is recorded %zu times, as version ", bad.len ? "; " : "", j - i);
				for (k = i; k < j; k++)
					strbuf_addf(&bad, "%s'%s' (%s, %s)", k > i ? (k + 1 < j ? ", " : " and ") : "",
						    by[k]->version, by[k]->name, by[k]->status);
			}
		}
		free(by);
	}
	if (bad.len) {
		db_quote_table(m, &table, m->cfg.table);
		merr_set(err, MIGRATE_EFAIL,
			 "the history in %s holds rows migrate never writes: %s; put them right by hand (migrate never guesses which row is meant)",
			 strbuf_str(&table), strbuf_str(&bad));
	}
	i = bad.len;
	strbuf_release(&bad);
	strbuf_release(&table);
	return i ? MIGRATE_EFAIL : MIGRATE_OK;
}

enum migrate_result history_load(migrate *m, struct history *out, struct migrate_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	enum migrate_result r;
	int exists, i;

	memset(out, 0, sizeof(*out));
	if (db_tracking_exists(m, m->cfg.table, &exists, err))
		return err->code;
	if (!exists)
		return MIGRATE_OK;
	/*
	 * Columns qualified by the table: SQLite reads an unknown "column" as a
	 * string, so another tool's table of the same name (golang-migrate's,
	 * dbmate's) would pass for a history; a qualified name is an error.
	 */
	strbuf_addstr(&sb, "SELECT ");
	for (i = 0; mig_cols[i]; i++) {
		strbuf_addstr(&sb, i ? ", " : "");
		db_quote_ident(m, &sb, m->cfg.table);
		strbuf_addch(&sb, '.');
		db_quote_ident(m, &sb, mig_cols[i]);
	}
	strbuf_addstr(&sb, " FROM ");
	db_quote_table(m, &sb, m->cfg.table);
	r = db_query(m, strbuf_str(&sb), 0, NULL, add_history_row, out, err);
	strbuf_release(&sb);
	if (r) {
		history_release(out);
		explain_foreign_table(m, err);
		return err->code;
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_row);
	if (history_check_rows(m, out, err)) {
		history_release(out);
		return err->code;
	}
	return MIGRATE_OK;
}

void history_release(struct history *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		struct history_row *r = &h->v[i];
		free(r->version);
		free(r->v);
		free(r->name);
		free(r->checksum);
		free(r->checksum_sql);
		free(r->down_sql);
		free(r->applied_at);
		free(r->status);
	}
	free(h->v);
	memset(h, 0, sizeof(*h));
}

struct history_row *history_find(const struct history *h, const char *version)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (h->v[i].parsed && version_cmp(h->v[i].v, version) == 0)
			return &h->v[i];
	return NULL;
}

/* ---- writing ---------------------------------------------------------------- */

/* INSERT INTO t (cols) VALUES (params) */
static void build_insert(const migrate *m, struct strbuf *sb, const char *table,
			 const char *const *cols)
{
	int i;

	strbuf_addstr(sb, "INSERT INTO ");
	db_quote_table(m, sb, table);
	strbuf_addstr(sb, " (");
	add_columns(m, sb, cols);
	strbuf_addstr(sb, ") VALUES (");
	for (i = 0; cols[i]; i++) {
		if (i)
			strbuf_addstr(sb, ", ");
		db_param(m, sb, i + 1);
	}
	strbuf_addch(sb, ')');
}

/*
 * A write to the tracking table failed (local has the database's words),
 * or touched no row: err says which migration, what migrate meant to
 * record, and why it could not.
 */
static enum migrate_result tracking_failed(migrate *m, struct migrate_error *err,
					   const struct migrate_error *local, const char *version,
					   const char *name, const char *status)
{
	struct strbuf t = STRBUF_INIT, what = STRBUF_INIT;
	enum migrate_result r;

	db_quote_table(m, &t, m->cfg.table);
	if (status)
		strbuf_addf(&what, "record migration %s (%s) as %s in", version, name && *name ? name : "?", status);
	else
		strbuf_addf(&what, "remove migration %s (%s) from", version, name && *name ? name : "?");
	if (local->code)
		r = merr_set(err, local->code, "cannot %s %s: %s", strbuf_str(&what), strbuf_str(&t), local->message);
	else
		r = merr_set(err, MIGRATE_EFAIL,
			     "cannot %s %s: its row is not there (0 rows changed): the history was changed during the run",
			     strbuf_str(&what), strbuf_str(&t));
	strbuf_release(&what);
	strbuf_release(&t);
	return r;
}

enum migrate_result history_insert(migrate *m, const struct migration *mig, const char *status,
				   long long duration_ms, struct migrate_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	struct migrate_error local;
	char now[20], dur[24];
	char *down = migration_down_text(mig);
	const char *params[8];
	enum migrate_result r = MIGRATE_OK;
	long long changed;

	utc_timestamp(now);
	snprintf(dur, sizeof(dur), "%lld", duration_ms);
	params[0] = mig->version;
	params[1] = mig->name;
	params[2] = mig->checksum;
	params[3] = mig->checksum_sql;
	params[4] = down;
	params[5] = now;
	params[6] = dur;
	params[7] = status;
	build_insert(m, &sb, m->cfg.table, mig_cols);
	merr_clear(&local);
	if (db_write(m, strbuf_str(&sb), 8, params, &changed, &local) || changed != 1) {
		r = tracking_failed(m, err, &local, mig->version, mig->name, status);
	}
	strbuf_release(&sb);
	free(down);
	return r;
}

enum migrate_result history_set_status(migrate *m, const char *version, const char *name,
				       const char *status, long long duration_ms, struct migrate_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	struct migrate_error local;
	char now[20], dur[24];
	const char *params[4];
	enum migrate_result r = MIGRATE_OK;
	long long changed;

	utc_timestamp(now);
	snprintf(dur, sizeof(dur), "%lld", duration_ms);
	params[0] = status;
	params[1] = dur;
	params[2] = now;
	params[3] = version;
	strbuf_addstr(&sb, "UPDATE ");
	db_quote_table(m, &sb, m->cfg.table);
	strbuf_addstr(&sb, " SET ");
	db_quote_ident(m, &sb, "status");
	strbuf_addstr(&sb, " = ");
	db_param(m, &sb, 1);
	strbuf_addstr(&sb, ", ");
	db_quote_ident(m, &sb, "duration_ms");
	strbuf_addstr(&sb, " = ");
	db_param(m, &sb, 2);
	strbuf_addstr(&sb, ", ");
	db_quote_ident(m, &sb, "applied_at");
	strbuf_addstr(&sb, " = ");
	db_param(m, &sb, 3);
	strbuf_addstr(&sb, " WHERE ");
	db_quote_ident(m, &sb, "version");
	strbuf_addstr(&sb, " = ");
	db_param(m, &sb, 4);
	merr_clear(&local);
	if (db_write(m, strbuf_str(&sb), 4, params, &changed, &local) || changed != 1) {
		r = tracking_failed(m, err, &local, version, name, status);
	}
	strbuf_release(&sb);
	return r;
}

/* DELETE FROM table WHERE col = value; *changed: the rows deleted. */
static enum migrate_result delete_where(migrate *m, const char *table, const char *col,
					const char *value, long long *changed, struct migrate_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	const char *params[1] = { value };
	enum migrate_result r;

	strbuf_addstr(&sb, "DELETE FROM ");
	db_quote_table(m, &sb, table);
	strbuf_addstr(&sb, " WHERE ");
	db_quote_ident(m, &sb, col);
	strbuf_addstr(&sb, " = ");
	db_param(m, &sb, 1);
	r = db_write(m, strbuf_str(&sb), 1, params, changed, err);
	strbuf_release(&sb);
	return r;
}

enum migrate_result history_delete(migrate *m, const char *version, const char *name,
				   struct migrate_error *err)
{
	struct migrate_error local;
	long long changed;

	merr_clear(&local);
	if (delete_where(m, m->cfg.table, "version", version, &changed, &local) || changed != 1)
		return tracking_failed(m, err, &local, version, name, NULL);
	return MIGRATE_OK;
}

/* ---- seeds -------------------------------------------------------------------- */

enum migrate_result seed_history_ensure(migrate *m, struct migrate_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	enum migrate_result r;
	int exists;

	if (db_tracking_exists(m, m->cfg.seeds_table, &exists, err))
		return err->code;
	if (exists)
		return MIGRATE_OK;
	strbuf_addstr(&sb, "CREATE TABLE ");
	db_quote_table(m, &sb, m->cfg.seeds_table);
	strbuf_addstr(&sb, " (");
	db_quote_ident(m, &sb, "name");
	strbuf_addstr(&sb, " VARCHAR(255) NOT NULL PRIMARY KEY, ");
	db_quote_ident(m, &sb, "checksum");
	strbuf_addstr(&sb, " CHAR(64) NOT NULL, ");
	db_quote_ident(m, &sb, "applied_at");
	strbuf_addf(&sb, " %s NOT NULL, ", m->cfg.drv->type_timestamp);
	db_quote_ident(m, &sb, "duration_ms");
	strbuf_addstr(&sb, " BIGINT NOT NULL, ");
	db_quote_ident(m, &sb, "rows");
	strbuf_addstr(&sb, " BIGINT NOT NULL)");
	r = db_exec_sql(m, strbuf_str(&sb), err);
	strbuf_release(&sb);
	return r;
}

static int add_seed_row(void *ctx, int ncols, const char *const *v)
{
	struct seed_history *h = ctx;
	struct seed_row *row;

	if (ncols < 5)
		return 1;
	xgrow(&h->v, &h->cap, h->n + 1, sizeof(*h->v));
	row = &h->v[h->n++];
	row->name = xstrdup(v[0] ? v[0] : "");
	row->checksum = dup_or_null(v[1]);
	row->applied_at = dup_or_null(v[2]);
	row->rows = v[4] ? atoll(v[4]) : 0;
	return 0;
}

enum migrate_result seed_history_load(migrate *m, struct seed_history *out, struct migrate_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	enum migrate_result r;
	int exists;

	memset(out, 0, sizeof(*out));
	if (db_tracking_exists(m, m->cfg.seeds_table, &exists, err))
		return err->code;
	if (!exists)
		return MIGRATE_OK;
	strbuf_addstr(&sb, "SELECT ");
	add_columns(m, &sb, seed_cols);
	strbuf_addstr(&sb, " FROM ");
	db_quote_table(m, &sb, m->cfg.seeds_table);
	r = db_query(m, strbuf_str(&sb), 0, NULL, add_seed_row, out, err);
	strbuf_release(&sb);
	if (r)
		seed_history_release(out);
	return r;
}

void seed_history_release(struct seed_history *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].checksum);
		free(h->v[i].applied_at);
	}
	free(h->v);
	memset(h, 0, sizeof(*h));
}

struct seed_row *seed_history_find(const struct seed_history *h, const char *name)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (strcmp(h->v[i].name, name) == 0)
			return &h->v[i];
	return NULL;
}

enum migrate_result seed_history_insert(migrate *m, const struct migration *seed,
					long long duration_ms, long long rows,
					struct migrate_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	char now[20], dur[24], nrows[24];
	const char *params[5];
	enum migrate_result r;

	utc_timestamp(now);
	snprintf(dur, sizeof(dur), "%lld", duration_ms);
	snprintf(nrows, sizeof(nrows), "%lld", rows);
	params[0] = seed->filename;
	params[1] = seed->checksum;
	params[2] = now;
	params[3] = dur;
	params[4] = nrows;
	build_insert(m, &sb, m->cfg.seeds_table, seed_cols);
	r = db_query(m, strbuf_str(&sb), 5, params, NULL, NULL, err);
	strbuf_release(&sb);
	return r;
}

/* ---- what undoing a seed needs ------------------------------------------------------ */

/*
 * <seeds_table>_undo holds, per applied seed, part 0 (what kind of seed and
 * how to undo it) and parts 1.. (a CSV seed's keys, in blocks), written in
 * the seed's transaction and deleted with its row when it is undone.
 */
enum migrate_result seed_undo_ensure(migrate *m, struct migrate_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	enum migrate_result r;
	int exists;

	if (db_tracking_exists(m, m->cfg.seeds_undo_table, &exists, err))
		return err->code;
	if (exists)
		return MIGRATE_OK;
	strbuf_addstr(&sb, "CREATE TABLE ");
	db_quote_table(m, &sb, m->cfg.seeds_undo_table);
	strbuf_addstr(&sb, " (");
	db_quote_ident(m, &sb, "name");
	strbuf_addstr(&sb, " VARCHAR(255) NOT NULL, ");
	db_quote_ident(m, &sb, "part");
	strbuf_addstr(&sb, " BIGINT NOT NULL, ");
	db_quote_ident(m, &sb, "data");
	strbuf_addf(&sb, " %s NOT NULL, PRIMARY KEY (", m->cfg.drv->type_long_text);
	db_quote_ident(m, &sb, "name");
	strbuf_addstr(&sb, ", ");
	db_quote_ident(m, &sb, "part");
	strbuf_addstr(&sb, "))");
	r = db_exec_sql(m, strbuf_str(&sb), err);
	strbuf_release(&sb);
	return r;
}

static const char *const undo_cols[] = { "name", "part", "data", NULL };

enum migrate_result seed_undo_put(migrate *m, const char *name, long part, const char *data,
				  struct migrate_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	char num[24];
	const char *params[3];
	enum migrate_result r;

	snprintf(num, sizeof(num), "%ld", part);
	params[0] = name;
	params[1] = num;
	params[2] = data;
	build_insert(m, &sb, m->cfg.seeds_undo_table, undo_cols);
	if (m->opt.dry_run && part > 0) {
		/* the keys are data, not a statement anyone needs to read */
		strbuf_release(&sb);
		return MIGRATE_OK;
	}
	r = db_query(m, strbuf_str(&sb), 3, params, NULL, NULL, err);
	strbuf_release(&sb);
	return r;
}

static int keep_first(void *ctx, int ncols, const char *const *v)
{
	char **out = ctx;

	if (ncols > 0 && !*out)
		*out = xstrdup(v[0] ? v[0] : "");
	return 1;
}

enum migrate_result seed_undo_get(migrate *m, const char *name, long part, char **data,
				  struct migrate_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	char num[24];
	const char *params[2];
	enum migrate_result r;
	int exists;

	*data = NULL;
	if (db_tracking_exists(m, m->cfg.seeds_undo_table, &exists, err))
		return err->code;
	if (!exists)
		return MIGRATE_OK;
	snprintf(num, sizeof(num), "%ld", part);
	params[0] = name;
	params[1] = num;
	strbuf_addstr(&sb, "SELECT ");
	db_quote_ident(m, &sb, "data");
	strbuf_addstr(&sb, " FROM ");
	db_quote_table(m, &sb, m->cfg.seeds_undo_table);
	strbuf_addstr(&sb, " WHERE ");
	db_quote_ident(m, &sb, "name");
	strbuf_addstr(&sb, " = ");
	db_param(m, &sb, 1);
	strbuf_addstr(&sb, " AND ");
	db_quote_ident(m, &sb, "part");
	strbuf_addstr(&sb, " = ");
	db_param(m, &sb, 2);
	r = db_query(m, strbuf_str(&sb), 2, params, keep_first, data, err);
	strbuf_release(&sb);
	if (r) {
		free(*data);
		*data = NULL;
	}
	return r;
}

enum migrate_result seed_undo_delete(migrate *m, const char *name, struct migrate_error *err)
{
	long long changed;
	int exists;

	if (db_tracking_exists(m, m->cfg.seeds_undo_table, &exists, err))
		return err->code;
	if (!exists)
		return MIGRATE_OK;
	return delete_where(m, m->cfg.seeds_undo_table, "name", name, &changed, err);
}

enum migrate_result seed_history_delete(migrate *m, const char *name, struct migrate_error *err)
{
	struct strbuf t = STRBUF_INIT;
	long long changed;

	if (delete_where(m, m->cfg.seeds_table, "name", name, &changed, err))
		return err->code;
	if (changed != 1) {
		db_quote_table(m, &t, m->cfg.seeds_table);
		merr_set(err, MIGRATE_EFAIL,
			 "cannot remove the row of seed %s from %s: it is not there (0 rows deleted): the history was changed during the run",
			 name, strbuf_str(&t));
		strbuf_release(&t);
	}
	return err->code;
}
