/*
 * seed.c - applying seeds and reporting their state.
 *
 * A seed is seeds/<order>_<name>.sql in the migration file format (a file
 * without markers is one up section). Each runs once, in order, in its own
 * transaction together with its row in the seeds table.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static enum migrate_result scan_seeds(migrate *m, struct migration_set *seeds,
				      struct migrate_error *err)
{
	return seed_scan(m->cfg.seeds_dir, m->cfg.drv->dialect, m->cfg.drv->name, seeds,
			 emit_warning_cb, m, err);
}

/* Does a NAME given on the command line mean this seed? */
static int seed_matches(const struct migration *s, const char *want)
{
	size_t n = strlen(s->filename) - 4; /* without ".sql" */

	return strcmp(want, s->filename) == 0 || strcmp(want, s->name) == 0 ||
	       (strlen(want) == n && strncmp(want, s->filename, n) == 0);
}

static int wanted(const struct migrate_seed_options *opt, const struct migration *s)
{
	size_t i;

	if (!opt || !opt->nnames)
		return 1;
	for (i = 0; i < opt->nnames; i++)
		if (seed_matches(s, opt->names[i]))
			return 1;
	return 0;
}

static enum migrate_result apply_seed(migrate *m, const struct migration *s,
				      struct migrate_error *err)
{
	/* seeds are data: a transaction covers them on every database, MySQL too */
	int tx = s->up.transaction;
	long long t0 = now_ms(), rows = 0;

	emit(m, MIGRATE_EVENT_SEEDING, s->version_str, s->filename, s->path, 0, 0);
	if (tx && db_begin(m, err))
		return err->code;
	if (db_run_section(m, s->path, s->text, &s->up, &rows, err) ||
	    seed_history_insert(m, s, now_ms() - t0, rows, err) || (tx && db_commit(m, err))) {
		if (tx)
			db_rollback(m);
		return err->code;
	}
	emit(m, MIGRATE_EVENT_SEEDED, s->version_str, s->filename, s->path, now_ms() - t0, rows);
	return MIGRATE_OK;
}

enum migrate_result migrate_seed(migrate *m, const struct migrate_seed_options *opt,
				 struct migrate_error *err)
{
	struct migration_set seeds;
	struct seed_history h;
	size_t i, k, done = 0;

	merr_clear(err);
	memset(&h, 0, sizeof(h));
	memset(&seeds, 0, sizeof(seeds));
	if (!m || !m->conn)
		return merr_set(err, MIGRATE_EUSAGE, "no database connection");
	if (scan_seeds(m, &seeds, err))
		return err->code;
	for (k = 0; opt && k < opt->nnames; k++) {
		for (i = 0; i < seeds.n; i++)
			if (seed_matches(&seeds.v[i], opt->names[k]))
				break;
		if (i == seeds.n) {
			merr_set(err, MIGRATE_EUSAGE, "no seed named '%s' in '%s'", opt->names[k],
				 m->cfg.seeds_dir);
			goto out;
		}
	}
	if (db_lock(m, err) || seed_history_ensure(m, err) ||
	    seed_history_load(m, &h, err))
		goto out;
	for (i = 0; i < seeds.n; i++) {
		const struct migration *s = &seeds.v[i];
		const struct seed_row *row = seed_history_find(&h, s->filename);
		if (!wanted(opt, s))
			continue;
		if (row) {
			if (row->checksum && strcmp(row->checksum, s->checksum) != 0) {
				char *msg = xasprintf("%s changed since it was applied; it is not applied again", s->path);
				emit(m, MIGRATE_EVENT_WARNING, s->version_str, s->filename, msg, 0, 0);
				free(msg);
			}
			continue;
		}
		if (apply_seed(m, s, err))
			goto out;
		done++;
	}
	if (!done)
		emit(m, MIGRATE_EVENT_NOTICE, NULL, NULL, "nothing to seed: every seed is applied", 0, 0);
out:
	db_unlock(m);
	seed_history_release(&h);
	migration_set_release(&seeds);
	return err->code;
}

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
