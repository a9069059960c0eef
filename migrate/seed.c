/*
 * seed.c - applying, undoing and reporting seeds (SPEC section 6).
 *
 * Divisions: finding seeds; placeholders; SQL seeds; CSV seeds (load,
 * keys, bad rows); undo; the command; status.
 *
 * A seed runs once, in order, in its own transaction together with its row
 * in the seeds table and its undo record in <seeds_table>_undo:
 *
 *   SQL seed   part 0 is "sql" and the run's ${uuid:KEY} values, so the
 *              down section deletes the very rows the up section made;
 *              part 1 is the down section as applied, for when the file
 *              is gone.
 *   CSV seed   part 0 is "csv", the table and its key columns; parts 1..
 *              are the keys of the rows it inserted, as lines of
 *              tab-separated escaped values ("k\t...") or, for runs of
 *              consecutive generated integers, ranges ("r\tFIRST\tLAST"). Keys come
 *              from the CSV (after placeholders) when the table's primary
 *              key is among its columns, else from the database (a column
 *              it generates). They are spooled to a temporary file during
 *              the load (PostgreSQL's COPY holds the connection) and
 *              stored after it, in blocks, so memory stays flat.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvread.h"
#include "internal.h"

#define SEED_KEYS_PART   (256 << 10) /* bytes of keys per undo part */
#define SEED_DELETE_KEYS 1000        /* keys per DELETE */
#define SEED_PROGRESS_MS 100

/* ---- finding seeds ---------------------------------------------------------- */

static enum migrate_result scan_seeds(migrate *m, struct migration_set *seeds,
				      struct migrate_error *err)
{
	return seed_scan(m->cfg.seeds_dir, m->cfg.drv->dialect, m->cfg.drv->name, m->cfg.ignore, seeds, err);
}

/* Does a NAME given on the command line mean this seed file name? */
static int name_matches(const char *filename, const char *want)
{
	const char *us = strchr(filename, '_');
	size_t n = strlen(filename) - 4; /* without ".sql" or ".csv" */

	return strcmp(want, filename) == 0 ||
	       (strlen(want) == n && strncmp(want, filename, n) == 0) ||
	       (us && strlen(want) == (size_t)(filename + n - us - 1) && strncmp(want, us + 1, strlen(want)) == 0);
}

static int wanted(const struct migrate_seed_options *opt, const char *filename)
{
	size_t i;

	if (!opt || !opt->nnames)
		return 1;
	for (i = 0; i < opt->nnames; i++)
		if (name_matches(filename, opt->names[i]))
			return 1;
	return 0;
}

/* ---- escaping keys: tab-separated, backslash escapes ------------------------ */

static void key_escape(struct strbuf *sb, const char *s, size_t len)
{
	const char *end = s + len;

	for (; s < end; s++) {
		switch (*s) {
		case '\\': strbuf_add(sb, "\\\\", 2); break;
		case '\t': strbuf_add(sb, "\\t", 2); break;
		case '\n': strbuf_add(sb, "\\n", 2); break;
		case '\r': strbuf_add(sb, "\\r", 2); break;
		default: strbuf_addch(sb, *s); break;
		}
	}
}

/* Splits one line (without its newline) into unescaped fields, in place. */
static size_t key_split(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *r = line, *w = line;

	fields[n++] = w;
	for (; *r; r++) {
		if (*r == '\t' && n < max) {
			*w++ = '\0';
			fields[n++] = w;
		} else if (*r == '\\' && r[1]) {
			r++;
			*w++ = *r == 't' ? '\t' : *r == 'n' ? '\n' : *r == 'r' ? '\r' : *r;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return n;
}

/* ---- placeholders ---------------------------------------------------------------- */

struct ph_check {
	migrate *m;
	const struct migration *s;
	struct migrate_error *err;
};

static int check_csv_row(void *ctx, long line, size_t n, char *const *fields, const size_t *lens)
{
	struct ph_check *c = ctx;
	char msg[1024];
	size_t i;
	int errline;

	for (i = 0; i < n; i++) {
		char *x;
		if (!fields[i] || !placeholder_any(fields[i], lens[i]))
			continue;
		x = placeholder_expand(&c->m->ph, fields[i], lens[i], NULL, (int)line, &errline, msg, sizeof(msg));
		if (!x) {
			merr_set(c->err, MIGRATE_EUSAGE, "%s:%d: %s", c->s->path, errline, msg);
			return 1;
		}
		free(x);
	}
	return 0;
}

/* An unknown placeholder anywhere in the seeds about to run is an error before any runs. */
static enum migrate_result check_placeholders(migrate *m, const struct migration *s,
					      struct migrate_error *err)
{
	struct ph_check c = { m, s, err };
	char msg[512];
	long line;
	int r;

	if (!s->csv)
		return db_check_placeholders(m, s->path, s->text, &s->up, err) ||
		       db_check_placeholders(m, s->path, s->text, &s->down, err) ? err->code : MIGRATE_OK;
	if (!s->csv_placeholders)
		return MIGRATE_OK;
	r = csvread_file(s->path, check_csv_row, NULL, &c, &line, msg, sizeof(msg));
	if (r < 0)
		return merr_set(err, MIGRATE_EUSAGE, "%s:%s", s->path, msg + 5);
	return err->code;
}

/* ---- SQL seeds ---------------------------------------------------------------- */

/* Part 0 of an SQL seed: "sql", then "KEY\tUUID" for each ${uuid:KEY} of the run. */
static char *sql_undo_record(const migrate *m)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	strbuf_addstr(&sb, "sql\n");
	for (i = 0; i < m->ph.nuuids; i++) {
		key_escape(&sb, m->ph.uuids[i].key, strlen(m->ph.uuids[i].key));
		strbuf_addf(&sb, "\t%s\n", m->ph.uuids[i].uuid);
	}
	return strbuf_detach(&sb);
}

/*
 * Tells the progress callback how far seed s has got, at most every
 * SEED_PROGRESS_MS (*last is when it last did) and always at the end.
 */
static void seed_progress(migrate *m, const struct migration *s, long long t0, long long *last,
			  long long rows, long long done, long long total)
{
	long long now = now_ms();
	struct migrate_event ev;

	/* the end is always told: the database may take a while to finish after it */
	if (!m->opt.progress || (now - *last < SEED_PROGRESS_MS && done < total))
		return;
	*last = now;
	memset(&ev, 0, sizeof(ev));
	ev.kind = MIGRATE_EVENT_PROGRESS;
	ev.version = s->version;
	ev.name = s->filename;
	ev.duration_ms = now - t0;
	ev.rows = rows;
	ev.done = done;
	ev.total = total;
	m->opt.progress(m->opt.progress_ctx, &ev);
}

/* An SQL seed's progress: statements run, as bytes of its up section. */
struct sql_progress {
	migrate *m;
	const struct migration *s;
	long long t0, last;
};

static void sql_progress(void *ctx, long long done, long long total, long long rows)
{
	struct sql_progress *P = ctx;

	seed_progress(P->m, P->s, P->t0, &P->last, rows, done, total);
}

/*
 * Recording a seed (its undo record, its row, the COMMIT) failed, so the
 * error is the database's and names no seed (a deferred foreign key, a full
 * disk at COMMIT): say which seed and what is left of it. Inside seed
 * --rerun's transaction (outer) the rerun says it for all of them.
 */
static void seed_not_recorded(const struct migration *s, int outer, int transactional,
			      struct migrate_error *err)
{
	if (outer)
		return;
	if (!transactional)
		merr_append(err, "; seed %s is not recorded as applied, but its statements ran outside a transaction (transaction:false) and were kept",
			    s->path);
	else if (strstr(err->message, "connection lost"))
		merr_append(err, "; the connection was lost while seed %s was recorded, so whether it is applied is unknown: see 'migrate status'",
			    s->path);
	else
		merr_append(err, "; seed %s was rolled back: none of its rows were kept and it is still pending", s->path);
}

/* outer: inside seed --rerun's transaction, which the caller begins and ends */
static enum migrate_result apply_sql(migrate *m, const struct migration *s, long long t0,
				     int outer, struct migrate_error *err)
{
	struct sql_progress P = { m, s, t0, t0 };
	/* seeds are data: a transaction covers them on every database, MySQL too */
	struct db_tx t = DB_TX_INIT;
	long long rows = 0;
	char *rec = NULL, *down = NULL;

	if (!outer) {
		db_tx_add(m, &t, s->path, s->text, &s->up);
		if (db_tx_begin(m, &t, s->up.transaction, err))
			return err->code;
	}
	if (db_run_section(m, s->path, s->text, &s->up, &rows, sql_progress, &P, err))
		goto fail;
	rec = sql_undo_record(m);
	down = migration_down_text(s);
	if (seed_undo_put(m, s->filename, 0, rec, err) || (down && seed_undo_put(m, s->filename, 1, down, err)) ||
	    seed_history_insert(m, s, now_ms() - t0, rows, err) || (!outer && db_tx_commit(m, &t, err))) {
		seed_not_recorded(s, outer, s->up.transaction, err);
		goto fail;
	}
	free(rec);
	free(down);
	emit(m, MIGRATE_EVENT_SEEDED, s->version, s->filename, s->path, now_ms() - t0, rows);
	return MIGRATE_OK;
fail:
	if (!outer)
		db_tx_rollback(m, &t);
	free(rec);
	free(down);
	return err->code;
}

/* ---- CSV seeds ---------------------------------------------------------------- */

/* Where a row's line differs from the one after the previous row's (quoted line breaks, blank lines). */
struct line_mark {
	long long row;
	long line;
};

struct load {
	migrate *m;
	const struct migration *s;
	struct migrate_error *err;
	char **cols;
	size_t ncols;
	char **pk;            /* the table's primary key */
	size_t npk;
	int *keyidx;          /* where each key column is in the CSV, when all are */
	const char *gen_key;  /* the key column the database fills, or NULL */
	struct driver_load *ld;
	FILE *keys;           /* spooled key lines */
	int keys_errno;       /* the first failed write to keys, or 0 */
	long long nkeylines;
	int range_open;       /* a run of consecutive integer keys not yet written */
	long long lo, hi;
	long long rows;
	struct line_mark *marks;
	size_t nmarks, capmarks;
	long long t0, last_progress;
	/* the row being handed over, with placeholders expanded */
	const char **vals;
	size_t *lens;
	char **owned;
	struct strbuf sb;
};

static long row_line(const struct load *L, long long row)
{
	size_t i;

	for (i = L->nmarks; i > 0; i--)
		if (L->marks[i - 1].row <= row)
			return L->marks[i - 1].line + (long)(row - L->marks[i - 1].row);
	return (long)row + 1;
}

/* Notes the first failed write to the spool (a full temporary directory). */
static void spool_check(struct load *L, int ok)
{
	if (!ok && !L->keys_errno)
		L->keys_errno = errno ? errno : EIO;
}

static void spool_range(struct load *L)
{
	if (!L->range_open)
		return;
	spool_check(L, fprintf(L->keys, "r\t%lld\t%lld\n", L->lo, L->hi) > 0);
	L->nkeylines++;
	L->range_open = 0;
}

/* The error for a spool that could not be written: the keys are the undo, so nothing is applied. */
static int spool_failed(struct load *L)
{
	const char *dir = getenv("TMPDIR");

	merr_set(L->err, MIGRATE_EFAIL,
		 "%s: cannot write the keys of the loaded rows (its undo record) to a temporary file in '%s': %s; nothing was applied",
		 L->s->path, dir && *dir ? dir : "/tmp", strerror(L->keys_errno));
	return 1;
}

/* A plain decimal integer (no sign games, no leading zeros) that fits. */
static int as_integer(const char *s, long long *out)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (!*p || (*p == '0' && p[1]) || strspn(p, "0123456789") != strlen(p) || strlen(p) > 18)
		return 0;
	*out = strtoll(s, NULL, 10);
	return 1;
}

/*
 * Records one inserted row's key (n values). Runs become ranges only for
 * keys the database generated, which are integers: a CSV's key column may
 * be text, where '1' <= key <= '3' would also match '10'.
 */
static void spool_key(struct load *L, size_t n, const char *const *v)
{
	long long k;
	size_t i;

	if (n == 1 && L->gen_key && as_integer(v[0], &k)) {
		if (L->range_open && k == L->hi + 1) {
			L->hi = k;
			return;
		}
		spool_range(L);
		L->range_open = 1;
		L->lo = L->hi = k;
		return;
	}
	spool_range(L);
	L->sb.len = 0;
	strbuf_addch(&L->sb, 'k');
	for (i = 0; i < n; i++) {
		strbuf_addch(&L->sb, '\t');
		key_escape(&L->sb, v[i], strlen(v[i]));
	}
	strbuf_addch(&L->sb, '\n');
	spool_check(L, fwrite(L->sb.buf, 1, L->sb.len, L->keys) == L->sb.len);
	L->nkeylines++;
}

static int generated_key(void *ctx, int ncols, const char *const *values)
{
	struct load *L = ctx;

	if (ncols >= 1 && values[0])
		spool_key(L, 1, values);
	return 0;
}

static void progress(void *ctx, long long done, long long total)
{
	struct load *L = ctx;

	seed_progress(L->m, L->s, L->t0, &L->last_progress, L->rows, done, total);
}

/* The failure of a load call, with the CSV line of the row the database names. */
static int load_failed(struct load *L, enum driver_result r, const struct driver_error *derr,
		       long fallback_line)
{
	long line = derr->offset > 0 ? row_line(L, derr->offset) : fallback_line;

	const char *why = db_interrupted(L->m) ? "interrupted: the load was cancelled: " : "";

	if (line > 0)
		merr_set(L->err, db_fail_code(L->m, r), "%s:%ld: %s%s", L->s->path, line, why, derr->message);
	else
		merr_set(L->err, db_fail_code(L->m, r), "%s: %s%s", L->s->path, why, derr->message);
	return 1;
}

static int header(struct load *L, long line, size_t n, char *const *fields)
{
	struct driver_error derr = { "", -1 };
	enum driver_result r;
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (!fields[i] || !*fields[i]) {
			merr_set(L->err, MIGRATE_EUSAGE, "%s:%ld: column %zu of the header has no name", L->s->path,
				 line, i + 1);
			return 1;
		}
		for (j = 0; j < i; j++)
			if (strcmp(fields[i], fields[j]) == 0) {
				merr_set(L->err, MIGRATE_EUSAGE, "%s:%ld: the header names column '%s' twice",
					 L->s->path, line, fields[i]);
				return 1;
			}
	}
	L->ncols = n;
	L->cols = xcalloc(n + 1, sizeof(*L->cols));
	for (i = 0; i < n; i++)
		L->cols[i] = xstrdup(fields[i]);
	L->vals = xcalloc(n, sizeof(*L->vals));
	L->lens = xcalloc(n, sizeof(*L->lens));
	L->owned = xcalloc(n, sizeof(*L->owned));
	if (L->m->opt.dry_run)
		return 0;

	{
		int exists;
		if (db_table_exists(L->m, L->s->name, &exists, L->err))
			return 1;
		if (!exists) {
			merr_set(L->err, MIGRATE_EFAIL,
				 "%s: table '%s' does not exist (a CSV seed <order>_<table>.csv loads into <table>; run 'migrate up' first?)",
				 L->s->path, L->s->name);
			return 1;
		}
	}
	/* how this load will be undone: by the table's key, from the CSV or from the database */
	r = db_primary_key(L->m, L->s->name, &L->pk, &derr);
	if (r != DRIVER_OK)
		return load_failed(L, r, &derr, 0);
	for (L->npk = 0; L->pk[L->npk]; L->npk++)
		;
	if (L->npk) {
		L->keyidx = xcalloc(L->npk, sizeof(*L->keyidx));
		for (i = 0; i < L->npk; i++) {
			L->keyidx[i] = -1;
			for (j = 0; j < n; j++)
				if (strcmp(L->pk[i], L->cols[j]) == 0)
					L->keyidx[i] = (int)j;
			if (L->keyidx[i] < 0)
				break;
		}
		if (i < L->npk) {
			if (L->npk > 1) {
				merr_set(L->err, MIGRATE_EUSAGE,
					 "%s:%ld: the table's primary key has column '%s', which the CSV lacks; "
					 "a CSV seed names every column of a composite key, so its undo can find its rows",
					 L->s->path, line, L->pk[i]);
				return 1;
			}
			free(L->keyidx);
			L->keyidx = NULL;
			L->gen_key = L->pk[0];
		}
	} else {
		char *msg = xasprintf("%s: table '%s' has no primary key, so 'seed --undo' cannot remove these rows",
				      L->s->path, L->s->name);
		emit(L->m, MIGRATE_EVENT_WARNING, L->s->version, L->s->filename, msg, 0, 0);
		free(msg);
	}
	L->keys = L->npk ? tmpfile_open() : NULL; /* no key, nothing to spool */
	if (L->npk && !L->keys) {
		L->keys_errno = errno;
		return spool_failed(L);
	}
	r = db_load_begin(L->m, L->s->name, (const char *const *)L->cols, (int)n, L->gen_key, generated_key, L,
			  &L->ld, &derr);
	if (r != DRIVER_OK) {
		L->ld = NULL;
		return load_failed(L, r, &derr, line);
	}
	return 0;
}

static int csv_row(void *ctx, long line, size_t n, char *const *fields, const size_t *lens)
{
	struct load *L = ctx;
	struct driver_error derr = { "", -1 };
	enum driver_result r;
	char msg[1024];
	size_t i;
	int errline;

	if (!L->cols)
		return header(L, line, n, fields);
	if (db_interrupted(L->m)) {
		merr_set(L->err, MIGRATE_EINTR, "%s:%ld: interrupted: the load stopped before this row", L->s->path,
			 line);
		return 1;
	}
	if (n != L->ncols) {
		merr_set(L->err, MIGRATE_EFAIL, "%s:%ld: %zu field%s, but the header names %zu column%s",
			 L->s->path, line, n, n == 1 ? "" : "s", L->ncols, L->ncols == 1 ? "" : "s");
		return 1;
	}
	L->rows++;
	if (line != row_line(L, L->rows)) {
		xgrow(&L->marks, &L->capmarks, L->nmarks + 1, sizeof(*L->marks));
		L->marks[L->nmarks].row = L->rows;
		L->marks[L->nmarks++].line = line;
	}
	for (i = 0; i < n; i++) {
		L->vals[i] = fields[i];
		L->lens[i] = lens[i];
		if (fields[i] && L->s->csv_placeholders && placeholder_any(fields[i], lens[i])) {
			L->owned[i] = placeholder_expand(&L->m->ph, fields[i], lens[i], &L->lens[i], (int)line,
							 &errline, msg, sizeof(msg));
			if (!L->owned[i]) {
				merr_set(L->err, MIGRATE_EUSAGE, "%s:%d: %s", L->s->path, errline, msg);
				return 1;
			}
			L->vals[i] = L->owned[i];
		}
	}
	if (L->ld) {
		if (L->keyidx) {
			const char *k[16];
			size_t j;
			for (j = 0; j < L->npk && j < 16; j++) {
				k[j] = L->vals[L->keyidx[j]];
				if (!k[j]) {
					merr_set(L->err, MIGRATE_EFAIL, "%s:%ld: key column '%s' is empty (NULL)",
						 L->s->path, line, L->pk[j]);
					return 1;
				}
			}
			spool_key(L, j, k);
		}
		if (L->keys_errno)
			return spool_failed(L);
		r = db_load_row(L->m, L->ld, L->vals, L->lens, &derr);
		if (r != DRIVER_OK)
			return load_failed(L, r, &derr, line);
	}
	for (i = 0; i < n; i++) {
		free(L->owned[i]);
		L->owned[i] = NULL;
	}
	return 0;
}

/* Writes the spooled keys as undo parts 1.., in blocks cut at line ends; sets *nparts. */
static enum migrate_result store_keys(struct load *L, long *nparts)
{
	struct strbuf part = STRBUF_INIT;
	char *big = NULL;
	size_t cap = 0;
	ssize_t got;

	*nparts = 0;
	spool_range(L);
	if (!L->keys)
		return MIGRATE_OK;
	spool_check(L, fflush(L->keys) == 0 && !ferror(L->keys));
	if (L->keys_errno) {
		spool_failed(L);
		return L->err->code;
	}
	rewind(L->keys);
	errno = 0;
	while ((got = getline(&big, &cap, L->keys)) > 0) {
		strbuf_add(&part, big, (size_t)got);
		if (part.len >= SEED_KEYS_PART) {
			if (seed_undo_put(L->m, L->s->filename, ++*nparts, part.buf, L->err))
				break;
			part.len = 0;
		}
	}
	if (!L->err->code && ferror(L->keys))
		merr_set(L->err, MIGRATE_EFAIL, "%s: cannot read back the keys of the loaded rows from a temporary file: %s; nothing was applied",
			 L->s->path, strerror(errno ? errno : EIO));
	if (!L->err->code && part.len)
		seed_undo_put(L->m, L->s->filename, ++*nparts, part.buf, L->err);
	free(big);
	strbuf_release(&part);
	return L->err->code;
}

static void load_release(struct load *L)
{
	size_t i;

	if (L->ld)
		db_load_abort(L->m, L->ld);
	for (i = 0; L->cols && i < L->ncols; i++) {
		free(L->cols[i]);
		free(L->owned[i]);
	}
	for (i = 0; L->pk && L->pk[i]; i++)
		free(L->pk[i]);
	free(L->pk);
	free(L->cols);
	free(L->owned);
	free(L->vals);
	free(L->lens);
	free(L->keyidx);
	free(L->marks);
	if (L->keys)
		fclose(L->keys);
	strbuf_release(&L->sb);
}

static enum migrate_result apply_csv(migrate *m, const struct migration *s, long long t0,
				     int outer, struct migrate_error *err)
{
	struct load L;
	struct driver_error derr = { "", -1 };
	struct strbuf rec = STRBUF_INIT;
	enum driver_result r;
	long long rows = 0;
	long line, nparts = 0;
	char msg[512];
	size_t i;
	int res;

	if (!db_can_load(m))
		return merr_set(err, MIGRATE_EUSAGE, "%s: the %s driver cannot load CSV seeds", s->path, m->cfg.drv->name);
	memset(&L, 0, sizeof(L));
	L.m = m;
	L.s = s;
	L.err = err;
	L.t0 = L.last_progress = t0;
	if (!outer && db_begin(m, err))
		return err->code;
	/* from the first row to the end of the load, an interrupt cancels it on the server */
	if (db_cancelable_begin(m)) {
		merr_set(err, MIGRATE_EINTR, "%s: interrupted before the load began", s->path);
		goto fail;
	}
	res = csvread_file(s->path, csv_row, progress, &L, &line, msg, sizeof(msg));
	if (res < 0) {
		merr_set(err, line ? MIGRATE_EFAIL : MIGRATE_EUSAGE, "%s:%s", s->path, line ? msg + 5 : msg);
		goto fail;
	}
	if (res)
		goto fail;
	if (!L.cols) {
		merr_set(err, MIGRATE_EUSAGE, "%s: empty: a CSV seed starts with a header row naming the columns", s->path);
		goto fail;
	}
	if (m->opt.dry_run) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "-- load %lld row%s of %s into ", L.rows, L.rows == 1 ? "" : "s", s->path);
		db_quote_ident(m, &sb, s->name);
		strbuf_addstr(&sb, " (");
		for (i = 0; i < L.ncols; i++) {
			if (i)
				strbuf_addstr(&sb, ", ");
			db_quote_ident(m, &sb, L.cols[i]);
		}
		strbuf_addstr(&sb, ")");
		emit(m, MIGRATE_EVENT_SQL, NULL, NULL, strbuf_str(&sb), 0, 0);
		strbuf_release(&sb);
		rows = L.rows;
	} else {
		r = db_load_end(m, L.ld, &rows, &derr);
		L.ld = NULL;
		if (r != DRIVER_OK) {
			load_failed(&L, r, &derr, 0);
			goto fail;
		}
	}
	db_cancelable_end(m);
	if (db_interrupted(m)) {
		merr_set(err, MIGRATE_EINTR, "%s: interrupted", s->path);
		goto fail;
	}
	if (L.keys_errno) {
		spool_failed(&L);
		goto fail;
	}
	if (store_keys(&L, &nparts))
		goto fail;
	strbuf_addstr(&rec, "csv\n");
	key_escape(&rec, s->name, strlen(s->name));
	strbuf_addch(&rec, '\n');
	for (i = 0; i < L.npk; i++) {
		if (i)
			strbuf_addch(&rec, '\t');
		key_escape(&rec, L.pk[i], strlen(L.pk[i]));
	}
	strbuf_addf(&rec, "\n%ld\n", nparts);
	if (seed_undo_put(m, s->filename, 0, rec.buf, err) ||
	    seed_history_insert(m, s, now_ms() - t0, rows, err) || (!outer && db_commit(m, err))) {
		seed_not_recorded(s, outer, 1, err);
		goto fail;
	}
	strbuf_release(&rec);
	load_release(&L);
	emit(m, MIGRATE_EVENT_SEEDED, s->version, s->filename, s->path, now_ms() - t0, rows);
	return MIGRATE_OK;
fail:
	db_cancelable_end(m);
	if (L.ld) {
		db_load_abort(m, L.ld);
		L.ld = NULL;
	}
	if (!outer)
		db_rollback(m);
	strbuf_release(&rec);
	load_release(&L);
	return err->code;
}

static enum migrate_result apply_seed(migrate *m, const struct migration *s, int outer,
				      struct migrate_error *err)
{
	long long t0 = now_ms();

	emit(m, MIGRATE_EVENT_SEEDING, s->version, s->filename, s->path, 0, 0);
	return s->csv ? apply_csv(m, s, t0, outer, err) : apply_sql(m, s, t0, outer, err);
}

/* ---- undo ----------------------------------------------------------------------- */

/* Deletes the rows whose keys are in one undo part. */
static enum migrate_result delete_keys(migrate *m, const char *table, char **pk, size_t npk,
				       char *data, struct migrate_error *err)
{
	struct strbuf sql = STRBUF_INIT;
	const char **params = xcalloc(SEED_DELETE_KEYS * npk + 2, sizeof(*params));
	char *line, *next, *f[18];
	size_t nkeys = 0, np = 0, i;
	enum migrate_result r = MIGRATE_OK;

#define FLUSH() do { if (nkeys) { if (npk == 1) strbuf_addch(&sql, ')'); \
	r = db_query(m, strbuf_str(&sql), (int)np, params, NULL, NULL, err); nkeys = np = 0; } } while (0)
	for (line = data; !r && line && *line; line = next) {
		size_t n;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		n = key_split(line, f, 18);
		if (f[0][0] == 'r' && n == 3 && npk == 1) {
			FLUSH();
			if (r)
				break;
			sql.len = 0;
			strbuf_addstr(&sql, "DELETE FROM ");
			db_quote_ident(m, &sql, table);
			strbuf_addstr(&sql, " WHERE ");
			db_quote_ident(m, &sql, pk[0]);
			strbuf_addstr(&sql, " >= ");
			db_param(m, &sql, 1);
			strbuf_addstr(&sql, " AND ");
			db_quote_ident(m, &sql, pk[0]);
			strbuf_addstr(&sql, " <= ");
			db_param(m, &sql, 2);
			params[0] = f[1];
			params[1] = f[2];
			r = db_query(m, strbuf_str(&sql), 2, params, NULL, NULL, err);
			continue;
		}
		if (f[0][0] != 'k' || n != npk + 1)
			continue;
		if (nkeys == 0) {
			sql.len = 0;
			strbuf_addstr(&sql, "DELETE FROM ");
			db_quote_ident(m, &sql, table);
			strbuf_addstr(&sql, " WHERE ");
			if (npk == 1) {
				db_quote_ident(m, &sql, pk[0]);
				strbuf_addstr(&sql, " IN (");
			}
		} else {
			strbuf_addstr(&sql, npk == 1 ? ", " : " OR ");
		}
		if (npk == 1) {
			/* one key column: an IN list, which every database reads as index lookups */
			params[np] = f[1];
			db_param(m, &sql, (int)++np);
		} else {
			strbuf_addch(&sql, '(');
			for (i = 0; i < npk; i++) {
				if (i)
					strbuf_addstr(&sql, " AND ");
				db_quote_ident(m, &sql, pk[i]);
				strbuf_addstr(&sql, " = ");
				params[np] = f[i + 1];
				db_param(m, &sql, (int)++np);
			}
			strbuf_addch(&sql, ')');
		}
		if (++nkeys == SEED_DELETE_KEYS)
			FLUSH();
	}
	if (!r)
		FLUSH();
#undef FLUSH
	free(params);
	strbuf_release(&sql);
	return r;
}

static enum migrate_result undo_csv(migrate *m, const char *name, char *rec, struct migrate_error *err)
{
	char *lines[4] = { NULL, NULL, NULL, NULL }, *p = rec, *table, *pk[17];
	size_t npk = 0, i;
	long nparts, part;

	for (i = 0; i < 4 && p; i++) {
		lines[i] = p;
		p = strchr(p, '\n');
		if (p)
			*p++ = '\0';
	}
	if (!lines[3])
		return merr_set(err, MIGRATE_EFAIL, "seed %s: its undo record is damaged", name);
	table = lines[1];
	key_split(table, &table, 1);
	if (*lines[2])
		npk = key_split(lines[2], pk, 16);
	nparts = atol(lines[3]);
	if (npk == 0)
		return merr_set(err, MIGRATE_EFAIL,
				"seed %s cannot be undone: table '%s' had no primary key when it was loaded",
				name, table);
	for (part = 1; part <= nparts; part++) {
		char *data;
		if (seed_undo_get(m, name, part, &data, err))
			return err->code;
		if (!data)
			return merr_set(err, MIGRATE_EFAIL, "seed %s: part %ld of its keys is missing", name, part);
		if (delete_keys(m, table, pk, npk, data, err)) {
			free(data);
			return err->code;
		}
		free(data);
	}
	return MIGRATE_OK;
}

/*
 * Runs an SQL seed's down section: from its file when there is one, else
 * as stored, with ${uuid:KEY} as they were when it was applied.
 */
static enum migrate_result undo_sql(migrate *m, const char *name, const struct migration *file,
				    char *rec, struct db_tx *t, int outer, struct migrate_error *err)
{
	struct placeholders saved = m->ph, run = m->ph;
	struct migration stored;
	const struct migration *s = file;
	char *line, *next, *f[2], *down = NULL, *label;
	enum migrate_result r;

	memset(&stored, 0, sizeof(stored));
	run.uuids = NULL;
	run.nuuids = run.cap = 0;
	for (line = rec ? strchr(rec, '\n') : NULL; line && *++line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next = '\0';
		if (key_split(line, f, 2) == 2 && strlen(f[1]) == 36) {
			struct placeholder_uuid *u;
			xgrow(&run.uuids, &run.cap, run.nuuids + 1, sizeof(*run.uuids));
			u = &run.uuids[run.nuuids++];
			u->key = xstrdup(f[0]);
			memcpy(u->uuid, f[1], 37);
		}
		if (!next)
			break;
	}
	if (!s) {
		if (seed_undo_get(m, name, 1, &down, err))
			goto out;
		if (down) {
			char *text = xasprintf("-- migrate:up\n%s", down);
			if (migration_parse(&stored, name, text, strlen(text), m->cfg.drv->dialect,
					    m->cfg.drv->name, 0, err))
				goto out;
			s = &stored;
		}
	}
	if (!s || !section_can_undo(m, s->text, &s->down)) {
		merr_set(err, MIGRATE_EFAIL, "seed %s cannot be undone: it has no down section%s", name,
			 s ? "" : " (and its file is gone)");
		goto out;
	}
	label = xstrdup(file ? file->path : name);
	if (!file && db_check_section(m, label, s->text, &s->down, "down", s->down.transaction, err)) {
		free(label);
		goto out;
	}
	if (!outer) {
		db_tx_add(m, t, label, s->text, &s->down);
		if (db_tx_begin(m, t, s->down.transaction, err)) {
			free(label);
			goto out;
		}
	}
	m->ph = run;
	db_run_section(m, label, s->text, &s->down, NULL, NULL, NULL, err);
	run = m->ph;
	m->ph = saved;
	free(label);
out:
	placeholders_release(&run);
	migration_release(&stored);
	free(down);
	r = err->code;
	return r;
}

static enum migrate_result undo_seed(migrate *m, const char *name, const struct migration *file,
				     int outer, struct migrate_error *err)
{
	long long t0 = now_ms();
	char *rec = NULL;
	struct db_tx t = DB_TX_INIT;
	int in_tx;

	emit(m, MIGRATE_EVENT_ROLLING_BACK, file ? file->version : NULL, name, file ? file->path : NULL, 0, 0);
	if (seed_undo_get(m, name, 0, &rec, err))
		return err->code;
	if ((rec && strncmp(rec, "csv\n", 4) == 0) || (!rec && file && file->csv)) {
		if (!rec) {
			merr_set(err, MIGRATE_EFAIL, "seed %s cannot be undone: no record of the rows it inserted", name);
			goto fail;
		}
		if (!outer && db_tx_begin(m, &t, 1, err))
			goto fail;
		if (undo_csv(m, name, rec, err))
			goto fail;
	} else {
		if (undo_sql(m, name, file && !file->csv ? file : NULL, rec, &t, outer, err))
			goto fail;
	}
	in_tx = t.in_tx;
	if (seed_undo_delete(m, name, err) || seed_history_delete(m, name, err) ||
	    (!outer && db_tx_commit(m, &t, err))) {
		if (!outer && !in_tx)
			merr_append(err, "; seed %s is still recorded as applied, but its undo ran outside a transaction (transaction:false) and was kept",
				    name);
		else if (!outer && strstr(err->message, "connection lost"))
			merr_append(err, "; the connection was lost while the undo of seed %s was recorded, so whether it is still applied is unknown: see 'migrate status'",
				    name);
		else if (!outer)
			merr_append(err, "; the undo of seed %s was rolled back: its rows are kept and it is still applied",
				    name);
		goto fail;
	}
	free(rec);
	emit(m, MIGRATE_EVENT_ROLLED_BACK, file ? file->version : NULL, name, file ? file->path : NULL,
	     now_ms() - t0, 0);
	return MIGRATE_OK;
fail:
	if (!outer)
		db_tx_rollback(m, &t);
	free(rec);
	return err->code;
}

/* ---- seed --rerun ----------------------------------------------------------------- */

static const struct migration *find_file(const struct migration_set *seeds, const char *filename)
{
	size_t i;

	for (i = 0; i < seeds->n; i++)
		if (strcmp(seeds->v[i].filename, filename) == 0)
			return &seeds->v[i];
	return NULL;
}


/*
 * A rerun is all-or-nothing. Seeds are data, so where every section it
 * runs can run in a transaction (no transaction:false), every undo and
 * every load of the run go in one transaction: a bad new file (a short CSV
 * row, a rejected value) rolls the undo back too, and the old rows, the
 * seeds' records and their undo records are as they were. Elsewhere the
 * new files are checked whole before anything is undone.
 */
static int rerun_atomic(struct seed_row *const *undo_rows, size_t nundo,
			const struct migration_set *seeds, const struct migration *const *todo, size_t ntodo)
{
	size_t i;

	for (i = 0; i < nundo; i++) {
		const struct migration *s = find_file(seeds, undo_rows[i]->name);
		if (s && !s->csv && s->down.present && !s->down.transaction)
			return 0;
	}
	for (i = 0; i < ntodo; i++)
		if (!todo[i]->csv && !todo[i]->up.transaction)
			return 0;
	return 1;
}

static void rerun_in_one_transaction(migrate *m, struct seed_row *const *undo_rows, size_t nundo,
				     const struct migration_set *seeds, const struct migration *const *todo,
				     size_t ntodo, struct migrate_error *err)
{
	struct db_tx t = DB_TX_INIT;
	size_t i, n;

	for (i = 0; i < nundo; i++) {
		const struct migration *s = find_file(seeds, undo_rows[i]->name);
		if (s && !s->csv)
			db_tx_add(m, &t, s->path, s->text, &s->down);
	}
	for (i = 0; i < ntodo; i++)
		if (!todo[i]->csv)
			db_tx_add(m, &t, todo[i]->path, todo[i]->text, &todo[i]->up);
	if (db_tx_begin(m, &t, 1, err))
		return;
	for (i = 0; i < nundo && !err->code; i++)
		undo_seed(m, undo_rows[i]->name, find_file(seeds, undo_rows[i]->name), 1, err);
	for (i = 0; i < ntodo && !err->code; i++)
		apply_seed(m, todo[i], 1, err);
	if (!err->code)
		db_tx_commit(m, &t, err);
	else
		db_tx_rollback(m, &t);
	if (err->code) {
		n = strlen(err->message);
		snprintf(err->message + n, sizeof(err->message) - n,
			 "; seed --rerun undoes and applies in one transaction, so it was all rolled back: every seed and its rows are as they were");
	}
}

/* A CSV row's width against its header's, for validate_seed. */
struct csv_shape {
	const struct migration *s;
	struct migrate_error *err;
	size_t ncols;
};

static int csv_shape_row(void *ctx, long line, size_t n, char *const *fields, const size_t *lens)
{
	struct csv_shape *c = ctx;

	(void)fields;
	(void)lens;
	if (!c->ncols) {
		c->ncols = n;
		return 0;
	}
	if (n != c->ncols) {
		merr_set(c->err, MIGRATE_EFAIL, "%s:%ld: %zu field%s, but the header names %zu column%s", c->s->path,
			 line, n, n == 1 ? "" : "s", c->ncols, c->ncols == 1 ? "" : "s");
		return 1;
	}
	return 0;
}

/* Checks a seed file whole without running it: its statements split, a CSV's every row parses. */
static enum migrate_result validate_seed(migrate *m, const struct migration *s, struct migrate_error *err)
{
	struct csv_shape c = { s, err, 0 };
	char msg[512];
	long line;
	int r;

	if (!s->csv)
		return MIGRATE_OK; /* parsed and split when it was read; placeholders checked */
	r = csvread_file(s->path, csv_shape_row, NULL, &c, &line, msg, sizeof(msg));
	if (r < 0)
		return merr_set(err, line ? MIGRATE_EFAIL : MIGRATE_EUSAGE, "%s:%s", s->path, line ? msg + 5 : msg);
	if (!err->code && !c.ncols)
		merr_set(err, MIGRATE_EUSAGE, "%s: empty: a CSV seed starts with a header row naming the columns", s->path);
	(void)m;
	return err->code;
}

/* ---- the command ---------------------------------------------------------------- */

/* Applied seeds, latest first: by applied_at, then seed order, both descending. */
static int cmp_latest(const void *a, const void *b)
{
	const struct seed_row *x = a, *y = b;
	size_t ox = strspn(x->name, "0123456789"), oy = strspn(y->name, "0123456789");
	int c = strcmp(y->applied_at ? y->applied_at : "", x->applied_at ? x->applied_at : "");

	if (c)
		return c;
	if (ox && oy && (c = version_cmpn(y->name, oy, x->name, ox)) != 0)
		return c;
	return strcmp(y->name, x->name);
}

enum migrate_result migrate_seed(migrate *m, const struct migrate_seed_options *opt,
				 struct migrate_error *err)
{
	struct migration_set seeds;
	struct seed_history h;
	size_t i, k, done = 0;
	int undo = opt && (opt->undo > 0 || opt->undo_all), rerun = opt && opt->rerun;
	char *redo = NULL; /* rerun: which seeds are undone, to apply again */
	struct seed_row **undo_rows = NULL;
	const struct migration **todo = NULL;
	size_t nundo = 0, ntodo = 0;

	merr_clear(err);
	memset(&h, 0, sizeof(h));
	memset(&seeds, 0, sizeof(seeds));
	if (!m || !m->conn)
		return merr_set(err, MIGRATE_EUSAGE, "no database connection");
	/*
	 * Seeds to apply come from the directory, so a mistyped --seeds-dir
	 * must not read as "every seed is applied"; an undo works from the
	 * records in the database and needs no file.
	 */
	if (!undo && migration_dir_check(m->cfg.seeds_dir, "seeds",
					 "create it, or point --seeds-dir or seeds_dir at the right one", err))
		return err->code;
	if (scan_seeds(m, &seeds, err))
		return err->code;
	if (db_lock(m, err) || seed_history_ensure(m, err) || seed_history_load(m, &h, err))
		goto out;
	for (k = 0; opt && k < opt->nnames; k++) {
		int found = 0;
		for (i = 0; i < seeds.n && !found; i++)
			found = name_matches(seeds.v[i].filename, opt->names[k]);
		/* an applied seed whose file is gone can still be undone by name */
		for (i = 0; undo && i < h.n && !found; i++)
			found = name_matches(h.v[i].name, opt->names[k]);
		if (!found) {
			merr_set(err, MIGRATE_EUSAGE, "no seed named '%s' in '%s'%s", opt->names[k],
				 m->cfg.seeds_dir, undo ? " or applied" : "");
			goto out;
		}
	}
	/* a COMMIT in a seed about to run, and the like: a file error, found before anything runs */
	for (i = 0; i < seeds.n; i++) {
		const struct migration *s = &seeds.v[i];
		const struct seed_row *row = seed_history_find(&h, s->filename);
		int up = !undo && wanted(opt, s->filename) && (!row || rerun);
		int down = row && (undo || rerun) && wanted(opt, s->filename);
		if (!s->csv && ((up && db_check_section(m, s->path, s->text, &s->up, "up", s->up.transaction, err)) ||
				(down && db_check_section(m, s->path, s->text, &s->down, "down", s->down.transaction, err))))
			goto out;
	}
	/* every placeholder of what is about to run is checked before anything runs */
	for (i = 0; !undo && i < seeds.n; i++) {
		const struct migration *s = &seeds.v[i];
		const struct seed_row *row = seed_history_find(&h, s->filename);
		if (!wanted(opt, s->filename) || (row && !rerun))
			continue;
		if (check_placeholders(m, s, err))
			goto out;
	}
	if (!m->opt.dry_run && seed_undo_ensure(m, err))
		goto out;

	if (undo) {
		long n = opt->undo_all || opt->nnames ? (long)h.n : opt->undo;
		if (h.n > 1)
			qsort(h.v, h.n, sizeof(*h.v), cmp_latest);
		for (i = 0; i < h.n && n > 0; i++) {
			if (!wanted(opt, h.v[i].name))
				continue;
			if (undo_seed(m, h.v[i].name, find_file(&seeds, h.v[i].name), 0, err))
				goto out;
			done++;
			n--;
		}
		if (!done)
			emit(m, MIGRATE_EVENT_NOTICE, NULL, NULL, "nothing to undo: no seed is applied", 0, 0);
		goto out;
	}

	/* seed --rerun: undo, latest first, the applied seeds whose files changed (or the named ones) */
	redo = xcalloc(seeds.n + 1, 1);
	undo_rows = xcalloc(h.n + 1, sizeof(*undo_rows));
	if (rerun) {
		if (h.n > 1)
			qsort(h.v, h.n, sizeof(*h.v), cmp_latest);
		for (i = 0; i < h.n; i++) {
			const struct migration *s = find_file(&seeds, h.v[i].name);
			int changed = s && h.v[i].checksum && strcmp(h.v[i].checksum, s->checksum) != 0;
			if (!s || !(opt->nnames ? wanted(opt, s->filename) : changed))
				continue;
			undo_rows[nundo++] = &h.v[i];
			redo[s - seeds.v] = 1;
		}
	}
	/* ... then apply, in order, those and the pending ones */
	todo = xcalloc(seeds.n + 1, sizeof(*todo));
	for (i = 0; i < seeds.n; i++) {
		const struct migration *s = &seeds.v[i];
		const struct seed_row *row = seed_history_find(&h, s->filename);
		if (!wanted(opt, s->filename) && !redo[i])
			continue;
		if (row && !redo[i]) {
			if (row->checksum && strcmp(row->checksum, s->checksum) != 0) {
				char *msg = xasprintf("%s changed since it was applied; it is not applied again "
						      "('seed --rerun' undoes and applies it)", s->path);
				emit(m, MIGRATE_EVENT_WARNING, s->version, s->filename, msg, 0, 0);
				free(msg);
			}
			continue;
		}
		todo[ntodo++] = s;
	}
	if (nundo) {
		if (rerun_atomic(undo_rows, nundo, &seeds, todo, ntodo)) {
			rerun_in_one_transaction(m, undo_rows, nundo, &seeds, todo, ntodo, err);
			done = err->code ? 0 : ntodo;
			goto out;
		}
		/* a section runs outside a transaction: check each new file whole before undoing anything */
		for (i = 0; i < ntodo; i++)
			if (validate_seed(m, todo[i], err))
				goto out;
		for (i = 0; i < nundo; i++)
			if (undo_seed(m, undo_rows[i]->name, find_file(&seeds, undo_rows[i]->name), 0, err))
				goto out;
	}
	for (i = 0; i < ntodo; i++) {
		if (apply_seed(m, todo[i], 0, err))
			goto out;
		done++;
	}
	if (!done && !err->code)
		emit(m, MIGRATE_EVENT_NOTICE, NULL, NULL, "nothing to seed: every seed is applied", 0, 0);
out:
	free(redo);
	free(undo_rows);
	free(todo);
	db_unlock(m);
	seed_history_release(&h);
	migration_set_release(&seeds);
	return err->code;
}

/* ---- status ---------------------------------------------------------------------- */

enum migrate_result seed_status(migrate *m, struct migrate_status *st, struct migrate_error *err)
{
	struct migration_set seeds;
	struct seed_history h;
	size_t i, cap = 0;

	if (scan_seeds(m, &seeds, err))
		return err->code;
	if (seed_history_load(m, &h, err)) {
		migration_set_release(&seeds);
		return err->code;
	}
#define ADD_SEED(e) do { xgrow(&st->seeds, &cap, st->nseeds + 1, sizeof(*st->seeds)); \
	e = &st->seeds[st->nseeds++]; memset(e, 0, sizeof(*e)); } while (0)
	for (i = 0; i < seeds.n; i++) {
		const struct migration *s = &seeds.v[i];
		const struct seed_row *row = seed_history_find(&h, s->filename);
		struct migrate_seed_entry *e;
		ADD_SEED(e);
		e->name = xstrdup(s->filename);
		if (row) {
			e->applied = 1;
			e->changed = row->checksum && strcmp(row->checksum, s->checksum) != 0;
			e->applied_at = row->applied_at ? xstrdup(row->applied_at) : NULL;
			e->rows = row->rows;
		}
	}
	for (i = 0; i < h.n; i++) {
		struct migrate_seed_entry *e;
		size_t j;
		for (j = 0; j < seeds.n; j++)
			if (strcmp(seeds.v[j].filename, h.v[i].name) == 0)
				break;
		if (j < seeds.n)
			continue;
		ADD_SEED(e);
		e->name = xstrdup(h.v[i].name);
		e->applied = e->missing = 1;
		e->applied_at = h.v[i].applied_at ? xstrdup(h.v[i].applied_at) : NULL;
		e->rows = h.v[i].rows;
	}
#undef ADD_SEED
	seed_history_release(&h);
	migration_set_release(&seeds);
	return MIGRATE_OK;
}
