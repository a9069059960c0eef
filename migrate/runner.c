/*
 * runner.c - up, down, redo, status, version and repair.
 *
 * Writers take the run-wide lock first, then create the tracking table and
 * read the history, so two runs can never both see a migration as pending.
 * Where the database has transactional DDL, a migration's statements and
 * its tracking row commit together; elsewhere (MySQL, transaction:false)
 * the row is written 'running' first and set to 'applied' after the last
 * statement, so a crash leaves a trace (SPEC section 4).
 *
 * Divisions: history checks; applying; rolling back; commands; status.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "lint.h"
#include "layout.h"

/* ---- history checks ---------------------------------------------------------- */

static int row_ok(const struct history_row *r)
{
	return strcmp(r->status, "applied") == 0;
}

/* What state is an applied row in, given the files? */
static enum migrate_state row_state(const struct history_row *r, const struct migration *mig,
				    int *cosmetic)
{
	*cosmetic = 0;
	if (strcmp(r->status, "failed") == 0)
		return MIGRATE_STATE_FAILED;
	if (strcmp(r->status, "running") == 0)
		return MIGRATE_STATE_RUNNING;
	if (!mig)
		return MIGRATE_STATE_MISSING;
	if (r->checksum_sql && strcmp(r->checksum_sql, mig->checksum_sql) != 0)
		return MIGRATE_STATE_CHANGED;
	if (r->checksum && strcmp(r->checksum, mig->checksum) != 0)
		*cosmetic = 1;
	return MIGRATE_STATE_APPLIED;
}

static const char *row_label(const struct history_row *r)
{
	return r->name && *r->name ? r->name : "?";
}

/*
 * Refuses to go on when the history is not sound: failed or running rows;
 * and, when full (up, validate), applied migrations whose file is gone or
 * changed and pending migrations below the highest applied one (unless
 * out_of_order). Every problem found is named, not only the first kind,
 * so one 'validate' tells the whole story. Warns of cosmetic edits.
 */
static enum migrate_result check_history(migrate *m, const struct history *h, int full,
					 int out_of_order, struct migrate_error *err)
{
	struct strbuf bad = STRBUF_INIT, msg = STRBUF_INIT;
	const char *highest = NULL;
	int cosmetic;
	size_t i;

#define EACH_ROW_IN_STATE(st, what)                                                        \
	for (i = 0; i < h->n; i++) {                                                           \
		const struct history_row *r = &h->v[i];                                            \
		const struct migration *mig = r->parsed ? migration_find(&m->migs, r->v) : NULL;   \
		if (row_state(r, mig, &cosmetic) != (st))                                          \
			continue;                                                                      \
		strbuf_addf(&bad, "%s%s (%s)", bad.len ? ", " : "", r->version, row_label(r));     \
		emit(m, MIGRATE_EVENT_PROBLEM, r->version, row_label(r), what, 0, 0);              \
	}
#define PROBLEM(...)                                                                       \
	do {                                                                                   \
		if (bad.len) {                                                                     \
			strbuf_addstr(&msg, msg.len ? "; " : "");                                      \
			strbuf_addf(&msg, __VA_ARGS__);                                                \
		}                                                                                  \
		strbuf_release(&bad);                                                              \
	} while (0)

	EACH_ROW_IN_STATE(MIGRATE_STATE_FAILED, "failed")
	PROBLEM("migration %s failed part-way (recorded as failed): put the database right by hand, then run 'migrate repair'",
		bad.buf);
	EACH_ROW_IN_STATE(MIGRATE_STATE_RUNNING, "running")
	PROBLEM("migration %s did not complete (recorded as running: a run crashed or lost its connection part-way): put the database right by hand, then run 'migrate repair'",
		bad.buf);
	/* rolling back needs only a sound history: a gone file has its stored down_sql */
	if (full) {
		EACH_ROW_IN_STATE(MIGRATE_STATE_MISSING, "missing")
		PROBLEM("applied migration %s has no file in '%s': restore it from version control",
			bad.buf, m->cfg.migrations_dir);
		EACH_ROW_IN_STATE(MIGRATE_STATE_CHANGED, "changed")
		PROBLEM("applied migration %s changed since it was applied: undo the edit and put the change in a new migration ('migrate new'), or run 'migrate repair' to accept it",
			bad.buf);
	}
#undef EACH_ROW_IN_STATE
	for (i = 0; i < h->n; i++) {
		const struct history_row *r = &h->v[i];
		const struct migration *mig = r->parsed ? migration_find(&m->migs, r->v) : NULL;
		if (full && row_state(r, mig, &cosmetic) == MIGRATE_STATE_APPLIED && cosmetic) {
			char *w = xasprintf("%s: only comments or whitespace changed since it was applied; run 'migrate repair' to record the new checksum",
					    mig->path);
			emit(m, MIGRATE_EVENT_WARNING, mig->version, mig->name, w, 0, 0);
			free(w);
		}
		if (r->parsed && (!highest || version_cmp(r->v, highest) > 0))
			highest = r->v;
	}
	if (full && highest && !out_of_order) {
		for (i = 0; i < m->migs.n; i++) {
			const struct migration *mig = &m->migs.v[i];
			if (version_cmp(mig->version, highest) < 0 && !history_find(h, mig->version)) {
				strbuf_addf(&bad, "%s%s (%s)", bad.len ? ", " : "", mig->version, mig->name);
				emit(m, MIGRATE_EVENT_PROBLEM, mig->version, mig->name, "out_of_order", 0, 0);
			}
		}
		PROBLEM("pending migration %s has a lower version than the highest applied one (%s): give it a newer version, or run 'migrate up --out-of-order'",
			bad.buf, highest);
	}
#undef PROBLEM
	if (msg.len)
		merr_set(err, MIGRATE_EFAIL, "%s", msg.buf);
	strbuf_release(&bad);
	strbuf_release(&msg);
	return err->code;
}

/* Lock, create the tracking table (not in a dry run), read and check the history. */
static enum migrate_result begin_write(migrate *m, struct history *h, int for_up, int out_of_order,
				       struct migrate_error *err)
{
	memset(h, 0, sizeof(*h));
	if (db_lock(m, err))
		return err->code;
	/* under --dry-run, a missing table's CREATE TABLE is reported, not run */
	if (history_ensure(m, err))
		return err->code;
	if (history_load(m, h, err))
		return err->code;
	return check_history(m, h, for_up, out_of_order, err);
}

/* ---- applying -------------------------------------------------------------------- */

/*
 * A section that ran outside a transaction failed: mark its 'running' row
 * failed. When the connection is gone that write fails too and the row
 * stays 'running'; either way 'up' refuses until 'repair', and the message
 * says which it is.
 */
static void record_failure(migrate *m, const char *version, const char *name, long long t0,
			   struct migrate_error *err)
{
	struct migrate_error ignored;

	merr_clear(&ignored);
	if (history_set_status(m, version, name, "failed", now_ms() - t0, &ignored) == MIGRATE_OK)
		merr_append(err, "; migration %s is recorded as failed: put the database right by hand, then run 'migrate repair'",
			    version);
	else
		merr_append(err, "; migration %s stays recorded as running (recording the failure failed too): put the database right by hand, then run 'migrate repair'",
			    version);
}

static int runs_in_transaction(const migrate *m, const struct section *sec)
{
	return (m->cfg.drv->caps & DRIVER_CAP_TRANSACTIONAL_DDL) && sec->transaction;
}

/* Did the connection go while the error in err happened? */
static int connection_lost(const struct migrate_error *err)
{
	return strstr(err->message, "connection lost") != NULL;
}

/*
 * A transaction around a migration (or its rollback) failed at the tracking
 * row or at COMMIT: say in which state the migration is left.
 */
static void after_failed_transaction(migrate *m, struct db_tx *t, const char *version, const char *name,
				     int at_commit, const char *undone, const char *kept,
				     struct migrate_error *err)
{
	db_tx_rollback(m, t);
	if (at_commit && connection_lost(err))
		merr_append(err, "; the connection was lost during the COMMIT of migration %s (%s), so whether it is %s is unknown: see 'migrate status'",
			    version, name, undone);
	else
		merr_append(err, "; migration %s (%s) was rolled back: it is still %s", version, name, kept);
}

/* One migration's tries under the limits of SPEC section 9 (see retry.c). */
struct attempt {
	const struct migration *mig;
	const struct retry_policy *pol;
	int local;              /* the limits are SET LOCAL inside each transaction */
	long long t0;
	struct section_pos pos; /* outside a transaction: the statement to go on from */
	char *left;             /* what drops a failed statement's leftover, when dropping it failed */
};

/* In its own transaction: all of the migration and its row, or nothing. */
static enum migrate_result attempt_in_transaction(migrate *m, void *ctx, struct migrate_error *err)
{
	struct attempt *a = ctx;
	const struct migration *mig = a->mig;

	struct db_tx t = DB_TX_INIT;

	db_tx_add(m, &t, mig->path, mig->text, &mig->up);
	t.limits = a->local ? &a->pol->lim : NULL;
	if (db_tx_begin(m, &t, 1, err))
		return err->code;
	if (db_run_section(m, mig->path, mig->text, &mig->up, NULL, NULL, NULL, err))
		db_tx_rollback(m, &t);
	else if (history_insert(m, mig, "applied", now_ms() - a->t0, err))
		after_failed_transaction(m, &t, mig->version, mig->name, 0, "applied", "pending", err);
	else if (db_tx_commit(m, &t, err))
		after_failed_transaction(m, &t, mig->version, mig->name, 1, "applied", "pending", err);
	return err->code;
}

/*
 * Drops what the statement that failed left behind (a CREATE INDEX
 * CONCURRENTLY's INVALID index), saying so; when that fails too, keeps the
 * statement that would do it in a->left.
 */
static void drop_leftover(migrate *m, struct attempt *a, struct migrate_error *err)
{
	char *drop = NULL;

	free(a->left);
	a->left = NULL;
	if (db_drop_leftover(m, a->pos.failed, &drop, err) == MIGRATE_OK) {
		if (drop)
			emitf(m, MIGRATE_EVENT_WARNING, "migration %s (%s): the failed statement left an INVALID index behind; dropped it: %s",
			      a->mig->version, a->mig->name, drop);
		free(drop);
	} else {
		a->left = drop;
	}
}

/*
 * Outside a transaction: the section from the statement that failed last
 * time on (the ones before it are done; the one that timed out did
 * nothing).
 */
static enum migrate_result attempt_outside(migrate *m, void *ctx, struct migrate_error *err)
{
	struct attempt *a = ctx;
	struct migrate_error ignored;
	int hit;

	if (a->left) {
		drop_leftover(m, a, err);
		if (err->code)
			return err->code;
	}
	if (db_run_section_at(m, a->mig->path, a->mig->text, &a->mig->up, &a->pos, err) && a->pos.failed) {
		hit = m->lock_wait_hit;
		merr_clear(&ignored);
		drop_leftover(m, a, &ignored);
		m->lock_wait_hit = hit;
	}
	return err->code;
}

/* Says, after the retries ran out, that the lock was never had. */
static void lock_gave_up(struct migrate_error *err, const char *what, int attempts,
			 const struct retry_policy *pol)
{
	struct strbuf sb = STRBUF_INIT;
	char wait[32];

	format_duration(pol->lim.lock_wait_ms, wait, sizeof(wait));
	strbuf_addf(&sb, "%s did not get its locks in %d attempt%s (lock_wait %s, retries %d): %s", what,
		    attempts, attempts == 1 ? "" : "s", wait, pol->retries, err->message);
	snprintf(err->message, sizeof(err->message), "%s", strbuf_str(&sb));
	strbuf_release(&sb);
}

/* Applies one migration; in_outer: inside --single-transaction's transaction. */
static enum migrate_result apply_one(migrate *m, const struct migration *mig, int in_outer,
				     struct migrate_error *err)
{
	int tx = !in_outer && runs_in_transaction(m, &mig->up), attempts = 0;
	struct retry_policy pol;
	struct attempt a;
	struct db_tx t = DB_TX_INIT;
	char *what;

	/* a lease taken over meanwhile (the run stalled): stop before doing more */
	if (lease_check(m, err))
		return err->code;
	emit(m, MIGRATE_EVENT_APPLYING, mig->version, mig->name, mig->path, 0, 0);
	memset(&a, 0, sizeof(a));
	a.t0 = now_ms();
	if (in_outer) {
		/* up_locked set the limits and retries the whole run */
		if (db_run_section(m, mig->path, mig->text, &mig->up, NULL, NULL, NULL, err) ||
		    history_insert(m, mig, "applied", now_ms() - a.t0, err))
			return err->code;
		db_reset_session(m);
		emit(m, MIGRATE_EVENT_APPLIED, mig->version, mig->name, mig->path, now_ms() - a.t0, 0);
		return MIGRATE_OK;
	}
	retry_policy_for(m, &mig->up, &pol);
	a.mig = mig;
	a.pol = &pol;
	what = xasprintf("migration %s (%s)", mig->version, mig->name);
	if (limits_enter(m, &pol.lim, tx, &a.local, err))
		goto out;
	if (tx) {
		if (retry_run(m, what, &pol, attempt_in_transaction, &a, &attempts, err) == MIGRATE_ELOCK) {
			lock_gave_up(err, what, attempts, &pol);
			merr_append(err, "; nothing of it was applied (each attempt was rolled back)");
		}
		goto out;
	}
	db_tx_add(m, &t, mig->path, mig->text, &mig->up);
	if (history_insert(m, mig, "running", 0, err)) {
		merr_append(err, "; none of its statements ran%s",
			    connection_lost(err) ? " (if the row was written before the connection was lost, it shows as running: then run 'migrate repair')" : "");
		goto out;
	}
	if (db_tx_begin(m, &t, 0, err))
		goto out;
	retry_run(m, what, &pol, attempt_outside, &a, &attempts, err);
	db_tx_rollback(m, &t); /* outside a transaction: only puts settings back */
	if (err->code) {
		if (err->code == MIGRATE_ELOCK)
			lock_gave_up(err, what, attempts, &pol);
		if (a.left)
			merr_append(err, "; the failed statement left the INVALID index behind and dropping it failed too: run '%s'",
				    a.left);
		if (err->code == MIGRATE_ELOCK && a.pos.next == 0 && !a.left) {
			struct migrate_error ignored;
			/* not one statement ran: it is simply still pending */
			merr_clear(&ignored);
			if (history_delete(m, mig->version, mig->name, &ignored) == MIGRATE_OK)
				merr_append(err, "; nothing of it was applied: it is still pending");
			else
				record_failure(m, mig->version, mig->name, a.t0, err);
		} else {
			if (err->code == MIGRATE_ELOCK)
				merr_append(err, "; the statements before the one that timed out were applied and stay");
			record_failure(m, mig->version, mig->name, a.t0, err);
		}
		goto out;
	}
	if (history_set_status(m, mig->version, mig->name, "applied", now_ms() - a.t0, err))
		merr_append(err, "; every statement of migration %s ran, but it stays recorded as running: check the database, then run 'migrate repair'",
			    mig->version);
out:
	limits_after(m, err);
	free(what);
	free(a.pos.failed);
	free(a.left);
	if (err->code)
		return err->code;
	/* the next migration starts where this one did, whatever it did to the session */
	db_reset_session(m);
	emit(m, MIGRATE_EVENT_APPLIED, mig->version, mig->name, mig->path, now_ms() - a.t0, 0);
	return MIGRATE_OK;
}

/* --single-transaction: every pending migration in one transaction, tried whole. */
struct batch {
	const struct migration **todo;
	size_t n;
	const struct retry_policy *pol;
	int local;
};

static enum migrate_result attempt_batch(migrate *m, void *ctx, struct migrate_error *err)
{
	struct batch *b = ctx;
	size_t i;

	if (b->local ? db_begin_limited(m, &b->pol->lim, err) : db_begin(m, err))
		return err->code;
	for (i = 0; i < b->n; i++)
		if (apply_one(m, b->todo[i], 1, err))
			break;
	if (err->code || db_commit(m, err)) {
		db_rollback(m);
		merr_append(err, "%s", "; --single-transaction: every migration of this run was rolled back");
	}
	return err->code;
}

/* Sets *out to the canonical form of a version given as an argument (the caller frees). */
static int parse_target(const migrate *m, const char *to, char **out, struct migrate_error *err)
{
	/* dotted versions are Flyway's: elsewhere "2.0" is a typo, not version 2 */
	int dotted = m->migs.format && strcmp(m->migs.format, "flyway") == 0;

	*out = dotted || !strchr(to, '.') ? version_canonical(to, strlen(to)) : NULL;
	if (!*out) {
		merr_set(err, MIGRATE_EUSAGE, "'%s' is not a version (%s)", to,
			 dotted ? "numbers separated by dots, such as 1.2.3" : "digits only");
		return -1;
	}
	return 0;
}

/*
 * The whole batch under the config's limits (a migration's own marker
 * options do not apply inside it) and retries.
 */
static void run_batch(migrate *m, const struct migration **todo, size_t n, struct migrate_error *err)
{
	struct section none;
	struct retry_policy pol;
	struct batch b;
	int attempts = 0;

	memset(&none, 0, sizeof(none)); /* gives no option: the config's */
	retry_policy_for(m, &none, &pol);
	b.todo = todo;
	b.n = n;
	b.pol = &pol;
	if (limits_enter(m, &pol.lim, 1, &b.local, err))
		return;
	if (retry_run(m, "--single-transaction", &pol, attempt_batch, &b, &attempts, err) == MIGRATE_ELOCK)
		lock_gave_up(err, "the --single-transaction run", attempts, &pol);
	limits_after(m, err);
}

/* After the retries ran out: which migrations this run applied, and which not. */
static void say_what_was_applied(struct migrate_error *err, const struct migration **todo, size_t n,
				 size_t failed, int single)
{
	struct strbuf done = STRBUF_INIT, not = STRBUF_INIT;
	size_t i;

	for (i = 0; i < n; i++) {
		struct strbuf *sb = i < failed && !single ? &done : &not;
		strbuf_addf(sb, "%s%s", sb->len ? ", " : "", todo[i]->version);
	}
	merr_append(err, "; applied by this run: %s; not applied: %s", done.len ? done.buf : "none",
		    not.len ? not.buf : "none");
	strbuf_release(&done);
	strbuf_release(&not);
}

static enum migrate_result up_locked(migrate *m, const struct migrate_up_options *opt,
				     struct migrate_error *err)
{
	struct history h;
	const struct migration **todo = NULL;
	size_t ntodo = 0, i;
	char *to = NULL;

	memset(&h, 0, sizeof(h));
	if (opt->to && parse_target(m, opt->to, &to, err))
		return err->code;
	if (begin_write(m, &h, 1, opt->out_of_order, err))
		goto out;
	todo = xcalloc(m->migs.n + 1, sizeof(*todo));
	for (i = 0; i < m->migs.n; i++) {
		const struct migration *mig = &m->migs.v[i];
		if ((!to || version_cmp(mig->version, to) <= 0) && !history_find(&h, mig->version))
			todo[ntodo++] = mig;
	}
	if (ntodo == 0) {
		emit(m, MIGRATE_EVENT_NOTICE, NULL, NULL, "nothing to migrate: the database is up to date", 0, 0);
		goto out;
	}
	/*
	 * A COMMIT in a section migrate wraps in a transaction, and the like: a
	 * file error before any migration runs. Only what is about to run is
	 * checked, so a file applied long ago never blocks a run.
	 */
	for (i = 0; i < ntodo; i++)
		if (db_check_section(m, todo[i]->path, todo[i]->text, &todo[i]->up, "up",
				     opt->single_transaction || runs_in_transaction(m, &todo[i]->up), err))
			goto out;
	/* SPEC section 12: error-level lint findings stop the run before anything is applied */
	if (lint_gate(m, todo, ntodo, opt->no_lint, err))
		goto out;
	if (opt->single_transaction) {
		if (!(m->cfg.drv->caps & DRIVER_CAP_TRANSACTIONAL_DDL)) {
			merr_set(err, MIGRATE_EUSAGE,
				 "--single-transaction needs transactional DDL, which %s does not have; run 'migrate up' without it",
				 m->cfg.drv->name);
			goto out;
		}
		for (i = 0; i < ntodo; i++) {
			struct db_tx t = DB_TX_INIT;
			if (!todo[i]->up.transaction) {
				merr_set(err, MIGRATE_EUSAGE,
					 "%s: its up section is transaction:false, so it cannot run inside --single-transaction",
					 todo[i]->path);
				goto out;
			}
			/* foreign keys can only be off for a whole transaction, not one migration of it */
			db_tx_add(m, &t, todo[i]->path, todo[i]->text, &todo[i]->up);
			if (t.fk_off) {
				merr_set(err, MIGRATE_EUSAGE,
					 "%s turns foreign keys off, which SQLite allows only outside a transaction, so migrate does it for that migration's own transaction; run 'migrate up' without --single-transaction",
					 t.fk_where);
				db_tx_rollback(m, &t);
				goto out;
			}
			db_tx_rollback(m, &t);
		}
		run_batch(m, todo, ntodo, err);
		if (err->code == MIGRATE_ELOCK)
			say_what_was_applied(err, todo, ntodo, 0, 1);
		goto out;
	}
	for (i = 0; i < ntodo; i++)
		if (apply_one(m, todo[i], 0, err))
			break;
	if (err->code == MIGRATE_ELOCK)
		say_what_was_applied(err, todo, ntodo, i, 0);
out:
	limits_leave(m, err);
	free(todo);
	free(to);
	history_release(&h);
	return err->code;
}

/* ---- rolling back ------------------------------------------------------------------ */

/*
 * The migration to roll back a row with: its file, or, when the file is
 * gone, the down section stored when it was applied (into *tmp).
 */
static const struct migration *down_source(migrate *m, const struct history_row *r,
					   struct migration *tmp, struct migrate_error *err)
{
	const struct migration *mig = r->parsed ? migration_find(&m->migs, r->v) : NULL;
	char *text, *label;

	if (mig)
		return mig;
	if (!r->down_sql)
		return NULL;
	memset(tmp, 0, sizeof(*tmp));
	text = xasprintf("-- migrate:up\n%s%s", strncmp(r->down_sql, "-- migrate:down", 15) == 0 ? "" : "-- migrate:down\n",
			 r->down_sql);
	label = xasprintf("%s (stored down_sql)", r->version);
	if (migration_parse(tmp, label, text, strlen(text), m->cfg.drv->dialect, m->cfg.drv->name, 0, err)) {
		free(label);
		return NULL;
	}
	tmp->path = label;
	tmp->name = xstrdup(r->name);
	tmp->version = xstrdup(r->parsed ? r->v : r->version);
	if (db_check_section(m, label, tmp->text, &tmp->down, "down", runs_in_transaction(m, &tmp->down), err))
		return NULL;
	return tmp;
}

static enum migrate_result rollback_one(migrate *m, const struct history_row *r,
					const struct migration *mig, struct migrate_error *err)
{
	/* with nothing to undo only the row goes, and a row is data: one transaction on every database */
	int tx = mig->down.nothing || runs_in_transaction(m, &mig->down);
	long long t0 = now_ms();
	struct db_tx t = DB_TX_INIT;

	emit(m, MIGRATE_EVENT_ROLLING_BACK, r->version, r->name, mig->path, 0, 0);
	db_tx_add(m, &t, mig->path, mig->text, &mig->down);
	if (tx) {
		if (db_tx_begin(m, &t, 1, err))
			return err->code;
		if (db_run_section(m, mig->path, mig->text, &mig->down, NULL, NULL, NULL, err)) {
			db_tx_rollback(m, &t);
			return err->code;
		}
		if (history_delete(m, r->version, r->name, err)) {
			after_failed_transaction(m, &t, r->version, r->name, 0, "rolled back", "applied", err);
			return err->code;
		}
		if (db_tx_commit(m, &t, err)) {
			after_failed_transaction(m, &t, r->version, r->name, 1, "rolled back", "applied", err);
			return err->code;
		}
	} else {
		if (history_set_status(m, r->version, r->name, "running", 0, err)) {
			db_tx_rollback(m, &t);
			merr_append(err, "; none of its down statements ran");
			return err->code;
		}
		if (db_tx_begin(m, &t, 0, err)) {
			db_tx_rollback(m, &t);
			return err->code;
		}
		if (db_run_section(m, mig->path, mig->text, &mig->down, NULL, NULL, NULL, err)) {
			db_tx_rollback(m, &t);
			record_failure(m, r->version, r->name, t0, err);
			return err->code;
		}
		db_tx_rollback(m, &t); /* outside a transaction: only puts settings back */
		if (history_delete(m, r->version, r->name, err)) {
			merr_append(err, "; every down statement of migration %s ran, but it stays recorded as running: check the database, then run 'migrate repair'",
				    r->version);
			return err->code;
		}
	}
	db_reset_session(m);
	emit(m, MIGRATE_EVENT_ROLLED_BACK, r->version, r->name, mig->path, now_ms() - t0, 0);
	return MIGRATE_OK;
}

static enum migrate_result down_locked(migrate *m, const struct migrate_down_options *opt,
				       struct migrate_error *err)
{
	struct history h;
	struct migration *tmp = NULL;
	const struct migration **src = NULL;
	struct history_row **targets = NULL;
	size_t ntargets = 0, i;
	char *to = NULL;
	long count = opt->count > 0 ? opt->count : 1;

	memset(&h, 0, sizeof(h));
	if (opt->to && parse_target(m, opt->to, &to, err))
		return err->code;
	if (begin_write(m, &h, 0, 1, err))
		goto out;
	targets = xcalloc(h.n + 1, sizeof(*targets));
	for (i = h.n; i-- > 0;) {
		struct history_row *r = &h.v[i];
		if (!row_ok(r))
			continue;
		if (opt->all || (to && r->parsed && version_cmp(r->v, to) > 0) ||
		    (!opt->to && !opt->all && (long)ntargets < count))
			targets[ntargets++] = r;
	}
	if (ntargets == 0) {
		emit(m, MIGRATE_EVENT_NOTICE, NULL, NULL, "nothing to roll back", 0, 0);
		goto out;
	}
	/* every target must be reversible before any is touched */
	tmp = xcalloc(ntargets, sizeof(*tmp));
	src = xcalloc(ntargets, sizeof(*src));
	for (i = 0; i < ntargets; i++) {
		const struct history_row *r = targets[i];
		src[i] = down_source(m, r, &tmp[i], err);
		if (err->code)
			goto out;
		if (src[i] && src[i] != &tmp[i] &&
		    db_check_section(m, src[i]->path, src[i]->text, &src[i]->down, "down",
				     runs_in_transaction(m, &src[i]->down), err))
			goto out;
		if (!src[i] || !section_can_undo(m, src[i]->text, &src[i]->down)) {
			const char *why = layout_no_down(m->migs.format);
			if (why) /* another tool's layout: say it in its terms */
				merr_set(err, MIGRATE_EFAIL, "migration %s (%s) is irreversible: %s; nothing was rolled back",
					 r->version, row_label(r), why);
			merr_set(err, MIGRATE_EFAIL,
				 "migration %s (%s) is irreversible: its down section is empty (write '-- migrate:down %s nothing' if there is nothing to undo on %s); nothing was rolled back",
				 r->version, row_label(r), m->cfg.drv->name, m->cfg.drv->name);
			goto out;
		}
		if (src[i] == &tmp[i]) {
			char *msg = xasprintf("migration %s has no file; rolling it back with the down section stored when it was applied",
					      r->version);
			emit(m, MIGRATE_EVENT_WARNING, r->version, r->name, msg, 0, 0);
			free(msg);
		}
	}
	for (i = 0; i < ntargets; i++)
		if (rollback_one(m, targets[i], src[i], err))
			break;
out:
	if (tmp)
		for (i = 0; i < ntargets; i++)
			migration_release(&tmp[i]);
	free(tmp);
	free(src);
	free(targets);
	free(to);
	history_release(&h);
	return err->code;
}

/* ---- commands ------------------------------------------------------------------------ */

static enum migrate_result need_conn(migrate *m, struct migrate_error *err)
{
	merr_clear(err);
	if (!m || !m->conn)
		return merr_set(err, MIGRATE_EUSAGE, "no database connection (opened with no_database)");
	return MIGRATE_OK;
}

enum migrate_result migrate_up(migrate *m, const struct migrate_up_options *opt,
			       struct migrate_error *err)
{
	struct migrate_up_options none = { NULL, 0, 0, 0 };

	if (need_conn(m, err))
		return err->code;
	up_locked(m, opt ? opt : &none, err);
	db_unlock(m);
	return err->code;
}

enum migrate_result migrate_down(migrate *m, const struct migrate_down_options *opt,
				 struct migrate_error *err)
{
	struct migrate_down_options none = { 1, NULL, 0 };

	if (need_conn(m, err))
		return err->code;
	down_locked(m, opt ? opt : &none, err);
	db_unlock(m);
	return err->code;
}

enum migrate_result migrate_redo(migrate *m, struct migrate_error *err)
{
	struct history h;
	const struct history_row *top = NULL;
	const struct migration *mig;
	struct migrate_down_options one = { 1, NULL, 0 };
	size_t i;

	if (need_conn(m, err))
		return err->code;
	if (begin_write(m, &h, 0, 1, err))
		goto out;
	for (i = h.n; i-- > 0;)
		if (row_ok(&h.v[i])) {
			top = &h.v[i];
			break;
		}
	if (!top) {
		emit(m, MIGRATE_EVENT_NOTICE, NULL, NULL, "nothing to redo: no migration is applied", 0, 0);
		goto out;
	}
	mig = top->parsed ? migration_find(&m->migs, top->v) : NULL;
	if (!mig) {
		merr_set(err, MIGRATE_EFAIL, "cannot redo migration %s: its file is gone", top->version);
		goto out;
	}
	if (down_locked(m, &one, err) == MIGRATE_OK)
		apply_one(m, mig, 0, err);
	limits_leave(m, err);
out:
	history_release(&h);
	db_unlock(m);
	return err->code;
}

enum migrate_result migrate_current_version(migrate *m, char **out, struct migrate_error *err)
{
	struct history h;
	size_t i;

	*out = NULL;
	if (need_conn(m, err))
		return err->code;
	if (history_load(m, &h, err))
		return err->code;
	for (i = h.n; i-- > 0;)
		if (row_ok(&h.v[i])) {
			*out = xstrdup(h.v[i].version);
			break;
		}
	history_release(&h);
	return MIGRATE_OK;
}

enum migrate_result migrate_validate(migrate *m, struct migrate_error *err)
{
	struct history h;

	if (need_conn(m, err))
		return err->code;
	if (history_load(m, &h, err))
		return err->code;
	check_history(m, &h, 1, 0, err);
	history_release(&h);
	return err->code;
}

/* Forgets failed and running rows; records new checksums for changed files. */
enum migrate_result migrate_repair(migrate *m, struct migrate_error *err)
{
	struct history h;
	size_t i;
	int changes = 0;

	if (need_conn(m, err))
		return err->code;
	memset(&h, 0, sizeof(h));
	if (db_lock(m, err) || history_ensure(m, err) || history_load(m, &h, err))
		goto out;
	for (i = 0; i < h.n; i++) {
		const struct history_row *r = &h.v[i];
		const struct migration *mig = r->parsed ? migration_find(&m->migs, r->v) : NULL;
		int cosmetic;
		enum migrate_state st = row_state(r, mig, &cosmetic);
		char *msg = NULL;

		if (st == MIGRATE_STATE_FAILED || st == MIGRATE_STATE_RUNNING) {
			if (history_delete(m, r->version, r->name, err))
				break;
			msg = xasprintf("forgot %s migration %s (%s): it is pending again", r->status, r->version,
					row_label(r));
		} else if (st == MIGRATE_STATE_CHANGED || (st == MIGRATE_STATE_APPLIED && cosmetic)) {
			struct strbuf sb = STRBUF_INIT;
			const char *params[3] = { mig->checksum, mig->checksum_sql, r->version };
			long long changed;
			strbuf_addstr(&sb, "UPDATE ");
			db_quote_table(m, &sb, m->cfg.table);
			strbuf_addstr(&sb, " SET ");
			db_quote_ident(m, &sb, "checksum");
			strbuf_addstr(&sb, " = ");
			db_param(m, &sb, 1);
			strbuf_addstr(&sb, ", ");
			db_quote_ident(m, &sb, "checksum_sql");
			strbuf_addstr(&sb, " = ");
			db_param(m, &sb, 2);
			strbuf_addstr(&sb, " WHERE ");
			db_quote_ident(m, &sb, "version");
			strbuf_addstr(&sb, " = ");
			db_param(m, &sb, 3);
			if (db_write(m, strbuf_str(&sb), 3, params, &changed, err) == MIGRATE_OK && changed != 1)
				merr_set(err, MIGRATE_EFAIL,
					 "cannot record the new checksum of migration %s (%s): its row is not there (0 rows changed): the history was changed during the run",
					 r->version, row_label(r));
			strbuf_release(&sb);
			if (err->code)
				break;
			msg = xasprintf("recorded the new checksum of %s (%s)", r->version, mig->path);
		}
		if (msg) {
			emit(m, MIGRATE_EVENT_NOTICE, r->version, r->name, msg, 0, 0);
			free(msg);
			changes++;
		}
	}
	if (!err->code && !changes)
		emit(m, MIGRATE_EVENT_NOTICE, NULL, NULL, "nothing to repair", 0, 0);
out:
	history_release(&h);
	db_unlock(m);
	return err->code;
}

/*
 * Records every migration up to and including version as applied, without
 * running it: adopting a database whose schema was made some other way.
 * Refuses when the version names no migration file or when any migration
 * up to it is already recorded, so it can never hide a real history.
 */
enum migrate_result migrate_baseline(migrate *m, const char *version, struct migrate_error *err)
{
	struct history h;
	struct strbuf seen = STRBUF_INIT;
	char *to = NULL;
	size_t i;
	int tx = 0;

	memset(&h, 0, sizeof(h));
	if (need_conn(m, err))
		return err->code;
	if (!version || parse_target(m, version, &to, err))
		return version ? err->code : merr_set(err, MIGRATE_EUSAGE, "baseline needs a VERSION");
	if (!migration_find(&m->migs, to)) {
		merr_set(err, MIGRATE_EUSAGE, "no migration has version %s in '%s': baseline names the last migration the database already has",
			 version, m->cfg.migrations_dir);
		free(to);
		return err->code;
	}
	if (db_lock(m, err) || history_ensure(m, err) || history_load(m, &h, err))
		goto out;
	for (i = 0; i < h.n; i++)
		if (h.v[i].parsed && version_cmp(h.v[i].v, to) <= 0)
			strbuf_addf(&seen, "%s%s (%s, %s)", seen.len ? ", " : "", h.v[i].version,
				    row_label(&h.v[i]), h.v[i].status);
	if (seen.len) {
		merr_set(err, MIGRATE_EFAIL,
			 "cannot baseline at %s: migration %s is already recorded; baseline is for a database with no history up to that version (see 'migrate status')",
			 version, seen.buf);
		goto out;
	}
	/* the rows are data, so one transaction covers them on every database */
	if (db_begin(m, err))
		goto out;
	tx = 1;
	for (i = 0; i < m->migs.n && version_cmp(m->migs.v[i].version, to) <= 0; i++) {
		const struct migration *mig = &m->migs.v[i];
		if (history_insert(m, mig, "applied", 0, err))
			goto out;
		emit(m, MIGRATE_EVENT_BASELINED, mig->version, mig->name, mig->path, 0, 0);
	}
	if (db_commit(m, err))
		goto out;
	tx = 0;
out:
	if (tx)
		db_rollback(m);
	free(to);
	strbuf_release(&seen);
	history_release(&h);
	db_unlock(m);
	return err->code;
}

/* ---- status -------------------------------------------------------------------------------- */

const char *migrate_state_name(enum migrate_state s)
{
	switch (s) {
	case MIGRATE_STATE_APPLIED:
		return "applied";
	case MIGRATE_STATE_PENDING:
		return "pending";
	case MIGRATE_STATE_CHANGED:
		return "changed";
	case MIGRATE_STATE_MISSING:
		return "missing";
	case MIGRATE_STATE_FAILED:
		return "failed";
	case MIGRATE_STATE_RUNNING:
		return "running";
	}
	return "unknown";
}

static struct migrate_status_entry *add_entry(struct migrate_status *st, size_t *cap)
{
	struct migrate_status_entry *e;

	xgrow(&st->entries, cap, st->n + 1, sizeof(*st->entries));
	e = &st->entries[st->n++];
	memset(e, 0, sizeof(*e));
	return e;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct migrate_status_entry *x = a, *y = b;
	size_t lx = strlen(x->version), ly = strlen(y->version);
	int px = version_valid(x->version, lx);
	int py = version_valid(y->version, ly);
	int c;

	if (px != py)
		return px ? -1 : 1;
	if (px && (c = version_cmpn(x->version, lx, y->version, ly)) != 0)
		return c;
	return strcmp(x->version, y->version);
}

enum migrate_result migrate_status(migrate *m, struct migrate_status **out,
				   struct migrate_error *err)
{
	struct migrate_status *st;
	struct history h;
	size_t cap = 0, i;

	*out = NULL;
	if (need_conn(m, err))
		return err->code;
	if (history_load(m, &h, err))
		return err->code;
	st = xcalloc(1, sizeof(*st));
	for (i = 0; i < h.n; i++) {
		const struct history_row *r = &h.v[i];
		const struct migration *mig = r->parsed ? migration_find(&m->migs, r->v) : NULL;
		struct migrate_status_entry *e = add_entry(st, &cap);
		e->version = xstrdup(r->version);
		e->name = xstrdup(mig ? mig->name : r->name);
		e->state = row_state(r, mig, &e->cosmetic_change);
		e->applied_at = r->applied_at ? xstrdup(r->applied_at) : NULL;
		e->duration_ms = r->duration_ms;
		e->path = mig ? xstrdup(mig->path) : NULL;
		if (row_ok(r)) {
			free(st->current);
			st->current = xstrdup(r->version);
		}
	}
	for (i = 0; i < m->migs.n; i++) {
		const struct migration *mig = &m->migs.v[i];
		struct migrate_status_entry *e;
		if (history_find(&h, mig->version))
			continue;
		e = add_entry(st, &cap);
		e->version = xstrdup(mig->version);
		e->name = xstrdup(mig->name);
		e->state = MIGRATE_STATE_PENDING;
		e->path = xstrdup(mig->path);
	}
	history_release(&h);
	if (st->n > 1)
		qsort(st->entries, st->n, sizeof(*st->entries), cmp_entry);
	if (seed_status(m, st, err)) {
		migrate_status_free(st);
		return err->code;
	}
	*out = st;
	return MIGRATE_OK;
}

void migrate_status_free(struct migrate_status *st)
{
	size_t i;

	if (!st)
		return;
	for (i = 0; i < st->n; i++) {
		free(st->entries[i].version);
		free(st->entries[i].name);
		free(st->entries[i].applied_at);
		free(st->entries[i].path);
	}
	for (i = 0; i < st->nseeds; i++) {
		free(st->seeds[i].name);
		free(st->seeds[i].applied_at);
	}
	free(st->entries);
	free(st->seeds);
	free(st->current);
	free(st);
}

/* ---- for verify (schema.c) ------------------------------------------------------------------ */

/* up and down inside a run that already holds the lock: unlike migrate_up/down, they keep it. */
enum migrate_result runner_up_locked(migrate *m, const struct migrate_up_options *opt,
				     struct migrate_error *err)
{
	return up_locked(m, opt, err);
}

enum migrate_result runner_down_locked(migrate *m, const struct migrate_down_options *opt,
				       struct migrate_error *err)
{
	return down_locked(m, opt, err);
}
