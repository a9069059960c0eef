/*
 * schema.c - 'dump' and 'verify': the schema as text, and the CI check that
 * every migration's down section undoes its up section.
 *
 * The text comes from the driver (dump_schema in driver.h), built from the
 * database's own catalogs and sorted, so equal schemas give equal bytes and
 * two dumps can be compared line by line. The tracking tables are left out.
 *
 * verify, holding the run-wide lock from start to end:
 *   1. dump the starting schema;
 *   2. for each pending migration, in order: apply it and dump; roll it
 *      back, and the schema must equal the one before it; apply it again,
 *      and the schema must equal the one after its first run;
 *   3. roll back every migration verify applied: the schema must equal the
 *      starting one; apply them all again: it must equal the schema after
 *      step 2.
 * Step 2 is stricter than SPEC's "up all, down all, up all" and names the
 * migration at fault; step 3 is SPEC's check itself. The first difference
 * fails the run with a sentence naming the object (a table left behind, a
 * column not restored) and a unified diff of the two dumps.
 *
 * Divisions: dump; comparing dumps; verify.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "layout.h"

/* ---- dump ------------------------------------------------------------------------- */

enum migrate_result migrate_dump(migrate *m, char **out, struct migrate_error *err)
{
	merr_clear(err);
	*out = NULL;
	if (!m || !m->conn)
		return merr_set(err, MIGRATE_EUSAGE, "no database connection (opened with no_database)");
	return db_dump_schema(m, out, err);
}

/* ---- comparing dumps ---------------------------------------------------------------- */

struct lines {
	char **v;
	size_t n, cap;
};

/* Splits text into lines (the buffer is modified and borrowed). */
static void split_lines(char *text, struct lines *l)
{
	char *p = text, *nl;

	memset(l, 0, sizeof(*l));
	while (p && *p) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		xgrow(&l->v, &l->cap, l->n + 1, sizeof(*l->v));
		l->v[l->n++] = p;
		p = nl ? nl + 1 : NULL;
	}
}

/* A header line starts an object ("table t", "view v"); details are indented under it. */
static int is_header(const char *line)
{
	return line[0] && line[0] != ' ';
}

/* The header of the object holding line i (i itself when it is one), or NULL. */
static const char *owner(const struct lines *l, size_t i)
{
	for (i++; i-- > 0;)
		if (is_header(l->v[i]))
			return l->v[i];
	return NULL;
}

/* Does l hold the header line head (an object of that name)? */
static int has_object(const struct lines *l, const char *head)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], head) == 0)
			return 1;
	return 0;
}

/* Does l hold line, within the object whose header is head (NULL: before any header)? */
static int object_has(const struct lines *l, const char *head, const char *line)
{
	size_t i;
	int in = head == NULL;

	for (i = 0; i < l->n; i++) {
		if (is_header(l->v[i]))
			in = head && strcmp(l->v[i], head) == 0;
		if (in && strcmp(l->v[i], line) == 0)
			return 1;
	}
	return 0;
}

/*
 * The first line of from[first, end) that other lacks: a header whose
 * object other does not have at all, or a detail its object in other does
 * not hold. Returns end when there is none.
 */
static size_t first_absent(const struct lines *from, size_t first, size_t end, const struct lines *other)
{
	size_t i;

	for (i = first; i < end; i++) {
		const char *line = from->v[i];
		if (!line[0])
			continue;
		if (is_header(line) ? !has_object(other, line) : !object_has(other, owner(from, i), line))
			return i;
	}
	return end;
}

/* "table 't'" from the header "table t". */
static void describe_object(struct strbuf *sb, const char *head)
{
	const char *sp = strchr(head, ' ');

	if (sp)
		strbuf_addf(sb, "%.*s '%s'", (int)(sp - head), head, sp + 1);
	else
		strbuf_addf(sb, "'%s'", head);
}

/* "table 't': 'column c'" for a detail line, or "'c'" when it has no object. */
static void describe_detail(struct strbuf *sb, const struct lines *l, size_t i)
{
	const char *head = owner(l, i);

	if (head) {
		describe_object(sb, head);
		strbuf_addstr(sb, ": ");
	}
	strbuf_addf(sb, "'%s'", l->v[i] + strspn(l->v[i], " "));
}

/*
 * The first difference between two dumps as a sentence, taken from the
 * lines the diff shows (want[first, wend) against got[first, gend)): an
 * object only in one of them ("table 'orders' is there but should not be
 * (left behind)", "table 'orders' is missing"), or a line of an object
 * ("table 'customers': 'column phone TEXT' is missing"). The difference
 * nearest the common beginning wins, so the sentence names the object at
 * the top of the diff's changes.
 */
static void describe_difference(const struct lines *want, const struct lines *got, size_t first,
				size_t wend, size_t gend, struct strbuf *sb)
{
	size_t mi = first_absent(want, first, wend, got);
	size_t ei = first_absent(got, first, gend, want);
	int missing = mi < wend, extra = ei < gend;

	if (missing && extra) {
		/* both at one place: one line of one object replaced by another */
		if (mi == ei && !is_header(want->v[mi]) && !is_header(got->v[ei]) && owner(want, mi) &&
		    owner(got, ei) && strcmp(owner(want, mi), owner(got, ei)) == 0) {
			describe_detail(sb, got, ei);
			strbuf_addf(sb, " is there instead of '%s'", want->v[mi] + strspn(want->v[mi], " "));
			return;
		}
		if (mi - first < ei - first || (mi == ei && is_header(want->v[mi]) && !is_header(got->v[ei])))
			extra = 0;
		else
			missing = 0;
	}
	if (extra && is_header(got->v[ei])) {
		describe_object(sb, got->v[ei]);
		strbuf_addstr(sb, " is there but should not be (left behind)");
	} else if (extra) {
		describe_detail(sb, got, ei);
		strbuf_addstr(sb, " is there but should not be");
	} else if (missing && is_header(want->v[mi])) {
		describe_object(sb, want->v[mi]);
		strbuf_addstr(sb, " is missing");
	} else if (missing) {
		describe_detail(sb, want, mi);
		strbuf_addstr(sb, " is missing");
	} else {
		strbuf_addstr(sb, "the objects are the same but their order differs");
	}
}

#define DIFF_CONTEXT   3
#define DIFF_MAX_LINES 80

/*
 * Compares two dumps. Equal: returns 0. Different: returns 1, sets
 * *summary to a sentence naming the first difference and *diff to a
 * unified diff (one hunk: the lines between the common beginning and the
 * common end, with context, at most DIFF_MAX_LINES of it). Caller frees.
 */
static int schema_compare(const char *want_text, const char *got_text, const char *want_label,
			  const char *got_label, char **summary, char **diff)
{
	char *wbuf, *gbuf;
	struct lines w, g;
	struct strbuf sb = STRBUF_INIT, d = STRBUF_INIT;
	size_t pre = 0, suf = 0, from, wto, gto, i, shown = 0;

	*summary = *diff = NULL;
	if (strcmp(want_text, got_text) == 0)
		return 0;
	wbuf = xstrdup(want_text);
	gbuf = xstrdup(got_text);
	split_lines(wbuf, &w);
	split_lines(gbuf, &g);
	while (pre < w.n && pre < g.n && strcmp(w.v[pre], g.v[pre]) == 0)
		pre++;
	while (suf < w.n - pre && suf < g.n - pre && strcmp(w.v[w.n - 1 - suf], g.v[g.n - 1 - suf]) == 0)
		suf++;
	describe_difference(&w, &g, pre, w.n - suf, g.n - suf, &sb);

	from = pre > DIFF_CONTEXT ? pre - DIFF_CONTEXT : 0;
	wto = w.n - suf + (suf > DIFF_CONTEXT ? DIFF_CONTEXT : suf);
	gto = g.n - suf + (suf > DIFF_CONTEXT ? DIFF_CONTEXT : suf);
	strbuf_addf(&d, "--- %s\n+++ %s\n", want_label, got_label);
	strbuf_addf(&d, "@@ -%zu,%zu +%zu,%zu @@\n", wto > from ? from + 1 : from, wto - from,
		    gto > from ? from + 1 : from, gto - from);
	for (i = from; i < pre && shown < DIFF_MAX_LINES; i++, shown++)
		strbuf_addf(&d, " %s\n", w.v[i]);
	for (i = pre; i < w.n - suf && shown < DIFF_MAX_LINES; i++, shown++)
		strbuf_addf(&d, "-%s\n", w.v[i]);
	for (i = pre; i < g.n - suf && shown < DIFF_MAX_LINES; i++, shown++)
		strbuf_addf(&d, "+%s\n", g.v[i]);
	for (i = w.n - suf; i < wto && shown < DIFF_MAX_LINES; i++, shown++)
		strbuf_addf(&d, " %s\n", w.v[i]);
	if (shown >= DIFF_MAX_LINES)
		strbuf_addstr(&d, "... (diff cut short)\n");

	*summary = strbuf_detach(&sb);
	*diff = strbuf_detach(&d);
	free(w.v);
	free(g.v);
	free(wbuf);
	free(gbuf);
	return 1;
}

/* ---- verify ------------------------------------------------------------------------ */

/* Records a difference in the report and err. Returns MIGRATE_EFAIL. */
static enum migrate_result verify_differs(struct migrate_verify_report *rep, const char *step,
					  const char *want, const char *got, const char *want_label,
					  const char *got_label, struct migrate_error *err)
{
	char *summary, *diff;

	if (!schema_compare(want, got, want_label, got_label, &summary, &diff))
		return MIGRATE_OK;
	merr_set(err, MIGRATE_EFAIL, "verify: %s: %s", step, summary);
	rep->step = xstrdup(step);
	rep->summary = summary;
	rep->diff = diff;
	return MIGRATE_EFAIL;
}

/* The pending migrations, in version order (borrowed from m->migs). */
static enum migrate_result pending_list(migrate *m, const struct migration ***out, size_t *n,
					struct migrate_error *err)
{
	struct history h;
	size_t i;

	*out = NULL;
	*n = 0;
	if (history_load(m, &h, err))
		return err->code;
	*out = xcalloc(m->migs.n + 1, sizeof(**out));
	for (i = 0; i < m->migs.n; i++)
		if (!history_find(&h, m->migs.v[i].version))
			(*out)[(*n)++] = &m->migs.v[i];
	history_release(&h);
	return MIGRATE_OK;
}

static enum migrate_result verify_locked(migrate *m, struct migrate_verify_report *rep,
					 struct migrate_error *err)
{
	const struct migration **todo = NULL;
	char *start = NULL, *before = NULL, *after = NULL, *now = NULL, *start_version = NULL;
	char *step = NULL, *label = NULL;
	size_t ntodo = 0, i;

	if (migrate_current_version(m, &start_version, err) || pending_list(m, &todo, &ntodo, err))
		goto out;
	for (i = 0; i < ntodo; i++) {
		if (!section_can_undo(m, todo[i]->text, &todo[i]->down)) {
			const char *why = layout_no_down(m->migs.format); /* another tool's layout: its terms */
			merr_set(err, MIGRATE_EFAIL,
				 "verify: migration %s (%s) is irreversible: %s, so verify cannot check it; nothing was changed",
				 todo[i]->version, todo[i]->name, why ? why : "its down section is empty");
			goto out;
		}
	}
	if (ntodo == 0) {
		emit(m, MIGRATE_EVENT_NOTICE, NULL, NULL,
		     "nothing to verify: no migration is pending (run it on an empty database, e.g. with --scratch-url)",
		     0, 0);
		goto out;
	}
	if (db_dump_schema(m, &start, err))
		goto out;
	before = xstrdup(start);
	for (i = 0; i < ntodo; i++) {
		const struct migration *mig = todo[i];
		struct migrate_up_options up = { mig->version, 0, 0, 1 };
		struct migrate_down_options one = { 1, NULL, 0 };

		if (runner_up_locked(m, &up, err) || db_dump_schema(m, &after, err))
			goto out;
		if (runner_down_locked(m, &one, err) || db_dump_schema(m, &now, err))
			goto out;
		free(step);
		free(label);
		step = xasprintf("rolling back %s (%s) does not restore the schema it started from", mig->version,
				 mig->name);
		label = xasprintf("before %s (up)", mig->version);
		if (verify_differs(rep, step, before, now, label, "after its down section", err))
			goto out;
		free(now);
		now = NULL;
		if (runner_up_locked(m, &up, err) || db_dump_schema(m, &now, err))
			goto out;
		free(step);
		free(label);
		step = xasprintf("applying %s (%s) again after rolling it back gives a different schema",
				 mig->version, mig->name);
		label = xasprintf("after %s (first up)", mig->version);
		if (verify_differs(rep, step, after, now, label, "after down and up again", err))
			goto out;
		free(now);
		now = NULL;
		free(before);
		before = after;
		after = NULL;
		rep->checked++;
	}
	/* SPEC's check: everything down to where we started, then everything up again */
	{
		struct migrate_down_options back = { 1, start_version, start_version == NULL };
		struct migrate_up_options all = { NULL, 0, 0, 1 };

		if (runner_down_locked(m, &back, err) || db_dump_schema(m, &now, err))
			goto out;
		if (verify_differs(rep, "rolling back every migration verify applied does not restore the starting schema",
				   start, now, "the starting schema", "after down", err))
			goto out;
		free(now);
		now = NULL;
		if (runner_up_locked(m, &all, err) || db_dump_schema(m, &now, err))
			goto out;
		verify_differs(rep, "applying every migration again gives a different schema from the first time", before,
			       now, "after up", "after down and up again", err);
	}
out:
	free(todo);
	free(start);
	free(before);
	free(after);
	free(now);
	free(start_version);
	free(step);
	free(label);
	return err->code;
}

/*
 * Opens the handle verify works on: the scratch database when one is
 * named (created first when the driver can), else m itself, connected.
 */
static enum migrate_result verify_target(migrate *m, const char *scratch, migrate **out,
					 struct migrate_error *err)
{
	struct migrate_options o = m->opt;
	migrate *t = NULL;

	*out = NULL;
	if (!scratch && m->conn) {
		*out = m;
		return MIGRATE_OK;
	}
	o.no_database = 0;
	if (scratch) {
		o.url = scratch;
		o.no_connect = 1;
		if (migrate_open(&o, &t, err))
			return err->code;
		if ((t->cfg.drv->caps & DRIVER_CAP_CREATE_DATABASE) && migrate_create_database(t, err)) {
			migrate_close(t);
			return err->code;
		}
		migrate_close(t);
	}
	o.no_connect = 0;
	return migrate_open(&o, out, err);
}

enum migrate_result migrate_verify(migrate *m, const struct migrate_verify_options *opt,
				   struct migrate_verify_report **report, struct migrate_error *err)
{
	struct migrate_verify_report *rep;
	const char *scratch = opt && opt->scratch_url && *opt->scratch_url ? opt->scratch_url : NULL;
	migrate *t;

	merr_clear(err);
	*report = NULL;
	if (!m || !m->cfg.drv)
		return merr_set(err, MIGRATE_EUSAGE, "no database configured");
	if (m->opt.dry_run)
		return merr_set(err, MIGRATE_EUSAGE, "verify changes the database and cannot run with --dry-run");
	if (!scratch && m->cfg.verify_url && *m->cfg.verify_url)
		scratch = m->cfg.verify_url;
	if (verify_target(m, scratch, &t, err))
		return err->code;
	rep = xcalloc(1, sizeof(*rep));
	rep->database = xstrdup(migrate_display_url(t));
	if (t != m) { /* an interrupt reaches the scratch database's statements too */
		pthread_mutex_lock(&m->mu);
		m->sub = t;
		pthread_mutex_unlock(&m->mu);
		if (db_interrupted(m))
			migrate_interrupt(t);
	}
	if (db_lock(t, err) == MIGRATE_OK)
		verify_locked(t, rep, err);
	db_unlock(t);
	if (t != m) {
		pthread_mutex_lock(&m->mu);
		m->sub = NULL;
		pthread_mutex_unlock(&m->mu);
		migrate_close(t);
	}
	*report = rep;
	return err->code;
}

void migrate_verify_report_free(struct migrate_verify_report *rep)
{
	if (!rep)
		return;
	free(rep->database);
	free(rep->step);
	free(rep->summary);
	free(rep->diff);
	free(rep);
}
