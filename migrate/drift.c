/*
 * drift.c - 'drift': does the live schema still match what its migrations
 * make? (SPEC section 13)
 *
 * What the migrations the live history lists make is a scratch database
 * that testdb.c names and makes (struct testdb_scratch): a clone of the
 * testdb template of the current files when the live database has every
 * one of them applied and that template exists (it is that replay, made
 * once), else an empty database they are replayed into from the current
 * files. Its name is a test database's, so one that a killed drift left
 * behind is what 'migrate testdb --gc' removes; an interrupt (SIGINT)
 * cancels the replay and drops it. Both databases are dumped with the
 * driver's dump_schema (the text 'migrate dump' prints), and the two dumps
 * are compared object by object: a header line ("table t", "view v")
 * starts an object, its indented lines are its parts. A table's columns,
 * indexes and triggers are parts with names (so one defined differently is
 * 'changed'); its keys and checks have no name of their own in every
 * database's catalog, so they are 'missing' or 'extra' by their text. A
 * view's or a sequence's definition is the object's own, so a different
 * one makes the object 'changed'.
 *
 * Divisions: the scratch database; reading a dump; comparing.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

const char *migrate_drift_kind_name(enum migrate_drift_kind k)
{
	switch (k) {
	case MIGRATE_DRIFT_MISSING:
		return "missing";
	case MIGRATE_DRIFT_EXTRA:
		return "extra";
	case MIGRATE_DRIFT_CHANGED:
		return "changed";
	}
	return "?";
}

/* ---- the scratch database ------------------------------------------------ */

/*
 * The live history must be one the files can replay: every applied version
 * has its file, none failed or running, and no file is pending below the
 * highest applied version (replaying would make it too). Sets *to to the
 * highest applied version (NULL: none; the caller frees), *count to the
 * applied ones, and *all when every current migration is applied (so the
 * testdb template of the current files is that replay).
 */
static enum migrate_result replayable(migrate *m, char **to, size_t *count, int *all, struct migrate_error *err)
{
	struct migrate_status *st;
	size_t i;
	const char *gap = NULL;

	*to = NULL;
	*count = 0;
	*all = 0;
	if (migrate_status(m, &st, err))
		return err->code;
	for (i = 0; i < st->n && !err->code; i++) {
		const struct migrate_status_entry *e = &st->entries[i];
		switch (e->state) {
		case MIGRATE_STATE_MISSING:
			merr_set(err, MIGRATE_EFAIL,
				 "drift: migration %s (%s) is applied but its file is gone, so the migrations cannot be replayed",
				 e->version, e->name);
			break;
		case MIGRATE_STATE_FAILED:
		case MIGRATE_STATE_RUNNING:
			merr_set(err, MIGRATE_EFAIL,
				 "drift: migration %s (%s) is recorded as %s; put the database right and run 'migrate repair' first",
				 e->version, e->name, migrate_state_name(e->state));
			break;
		case MIGRATE_STATE_PENDING:
			if (!gap)
				gap = e->version;
			break;
		default:
			if (gap) {
				merr_set(err, MIGRATE_EFAIL,
					 "drift: migration %s is pending below the applied %s, so replaying would make what the live database never ran; apply it first (up --out-of-order)",
					 gap, e->version);
				break;
			}
			(*count)++;
		}
	}
	if (!err->code) {
		*to = xstrdup(st->current);
		*all = gap == NULL;
	}
	migrate_status_free(st);
	return err->code;
}

static int first_value(void *ctx, int ncols, const char *const *values);

/*
 * MySQL: a column without its own character set takes the database's, and
 * the dump shows the collation, so the scratch database gets the live
 * one's defaults; else every text column would read 'changed'.
 */
static enum migrate_result same_defaults(migrate *m, migrate *t, struct migrate_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	char *cs = NULL, *coll = NULL;

	if (m->cfg.drv->dialect != SQL_DIALECT_MYSQL)
		return MIGRATE_OK;
	if (db_query(m, "SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()",
		     0, NULL, first_value, &cs, err) ||
	    db_query(m, "SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()",
		     0, NULL, first_value, &coll, err))
		goto out;
	if (cs && coll) {
		strbuf_addstr(&sb, "ALTER DATABASE ");
		db_quote_ident(t, &sb, t->cfg.conn.database);
		strbuf_addstr(&sb, " CHARACTER SET ");
		db_quote_ident(t, &sb, cs);
		strbuf_addstr(&sb, " COLLATE ");
		db_quote_ident(t, &sb, coll);
		db_exec_sql(t, strbuf_str(&sb), err);
	}
out:
	strbuf_release(&sb);
	free(cs);
	free(coll);
	return err->code;
}

/*
 * Can the template stand for the replay? Its tables were made with its own
 * defaults, so on MySQL it must have the live database's character set
 * and collation (see same_defaults); elsewhere a database's defaults do not
 * show in the dump.
 */
static enum migrate_result template_fits(migrate *m, const char *tpl, int *fits, struct migrate_error *err)
{
	const char *params[1] = { tpl };
	char *n = NULL;

	*fits = 1;
	if (m->cfg.drv->dialect != SQL_DIALECT_MYSQL)
		return MIGRATE_OK;
	if (db_query(m, "SELECT COUNT(*) FROM information_schema.SCHEMATA a JOIN information_schema.SCHEMATA b"
			" ON b.DEFAULT_CHARACTER_SET_NAME = a.DEFAULT_CHARACTER_SET_NAME"
			" AND b.DEFAULT_COLLATION_NAME = a.DEFAULT_COLLATION_NAME"
			" WHERE a.SCHEMA_NAME = DATABASE() AND b.SCHEMA_NAME = ?",
		     1, params, first_value, &n, err) == MIGRATE_OK)
		*fits = n && strcmp(n, "1") == 0;
	if (!err->code && !*fits)
		emitf(m, MIGRATE_EVENT_NOTICE,
		      "drift: template '%s' has another character set or collation than the database: replaying", tpl);
	free(n);
	return err->code;
}

/*
 * Opens a handle like m's on a new scratch database (testdb.c names and
 * makes it, see struct testdb_scratch): same config, same migrations,
 * another database. It is a clone of the testdb template of the current
 * migrations when every one of them is applied (all) and that template
 * exists and fits; else it is empty, for the caller to replay into.
 * *out is set once the handle is open, to be closed by scratch_close.
 */
static enum migrate_result scratch_open(migrate *m, int all, struct testdb_scratch *s, migrate **out,
					struct migrate_error *err)
{
	struct migrate_options o = m->opt;
	int clone = 0;
	migrate *t;

	*out = NULL;
	o.progress = NULL;
	o.progress_ctx = NULL;
	o.dry_run = 0;
	o.schema = NULL;
	o.existing_only = 0;
	o.no_connect = 1;
	o.no_database = 0;
	if (migrate_open(&o, &t, err))
		return err->code;
	*out = t;
	if (all && (testdb_scratch_find(m, s, err) ||
		    (s->template_name && template_fits(m, s->template_name, &clone, err))))
		return err->code;
	if (testdb_scratch_make(m, s, clone, err))
		return err->code;
	free(t->cfg.conn.database);
	t->cfg.conn.database = xstrdup(s->setting);
	t->cfg.settings.database = t->cfg.conn.database;
	free(t->cfg.display_url);
	t->cfg.display_url = db_url_display(&t->cfg.conn);
	/* an interrupt reaches the scratch database's statements too */
	pthread_mutex_lock(&m->mu);
	m->sub = t;
	pthread_mutex_unlock(&m->mu);
	if (db_interrupted(m))
		return merr_set(err, MIGRATE_EINTR, "drift: interrupted");
	if (db_connect(t, err) || (!s->cloned && same_defaults(m, t, err)))
		return err->code;
	if (s->cloned)
		return MIGRATE_OK;
	return migration_scan(t->cfg.migrations_dir, t->cfg.drv->dialect, t->cfg.drv->name, t->cfg.ignore, &t->migs,
			      err);
}

/*
 * Drops the scratch database. A server ends a closed session's backend a
 * moment after the client has gone, and refuses to drop a database a
 * session is still in, so the drop is tried again for a while; one that
 * never succeeds is a warning naming the database, never a silent leftover
 * ('migrate testdb --gc' removes it: it has a test database's name).
 */
static void scratch_close(migrate *m, migrate *t, struct testdb_scratch *s)
{
	struct migrate_error err;
	long long until = now_ms() + 10000;
	struct timespec pause = { 0, 50 * 1000 * 1000 };

	merr_clear(&err);
	pthread_mutex_lock(&m->mu);
	m->sub = NULL;
	pthread_mutex_unlock(&m->mu);
	if (t)
		db_close(t);
	while (s->name) {
		merr_clear(&err);
		if (testdb_scratch_drop(m, s, &err) == MIGRATE_OK || now_ms() > until)
			break;
		nanosleep(&pause, NULL);
	}
	if (s->name)
		emitf(m, MIGRATE_EVENT_WARNING,
		      "drift: the scratch database was left behind (migrate testdb --gc removes it): %s", err.message);
	migrate_close(t);
}

static int first_value(void *ctx, int ncols, const char *const *values)
{
	char **out = ctx;

	if (ncols > 0 && values[0] && !*out)
		*out = xstrdup(values[0]);
	return 0;
}

/*
 * PostgreSQL's catalog functions (pg_get_indexdef, pg_get_triggerdef)
 * qualify a table with its schema, which differs between the live
 * database (a tenant's schema) and the scratch one (public): the current
 * schema's prefix is taken off both, so the same index reads the same.
 */
static enum migrate_result unqualify(migrate *m, char **text, struct migrate_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	char *prefix = NULL, *q;
	const char *p;
	size_t pl;

	if (m->cfg.drv->dialect != SQL_DIALECT_POSTGRES)
		return MIGRATE_OK;
	if (db_query(m, "SELECT pg_catalog.quote_ident(pg_catalog.current_schema())", 0, NULL, first_value, &prefix,
		     err))
		return err->code;
	if (!prefix)
		return MIGRATE_OK;
	q = xasprintf("%s.", prefix);
	pl = strlen(q);
	for (p = *text; *p;) {
		int boundary = p == *text || !(isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == '"' || p[-1] == '.');
		if (boundary && strncmp(p, q, pl) == 0) {
			p += pl;
			continue;
		}
		strbuf_addch(&sb, *p++);
	}
	free(*text);
	*text = strbuf_detach(&sb);
	free(q);
	free(prefix);
	return MIGRATE_OK;
}

/* ---- reading a dump --------------------------------------------------------------- */

struct part {
	char *key;    /* "column a", "index t_a", "trigger tr"; NULL: an unnamed part (a key, a check, a definition) */
	char *kind;   /* "column", "index", "trigger", "constraint", "definition" */
	char *name;
	char *line;   /* the dump's line, unindented */
};

struct object {
	char *head;   /* "table t" */
	char *kind;   /* "table", "view", "materialized view", "sequence", ... */
	char *name;
	struct part *parts;
	size_t n, cap;
};

struct dump {
	struct object *v;
	size_t n, cap;
};

static const char *const object_kinds[] = { "materialized view", "table", "view", "sequence", NULL };

static void object_init(struct object *o, const char *head)
{
	size_t i, kl;

	memset(o, 0, sizeof(*o));
	o->head = xstrdup(head);
	for (i = 0; object_kinds[i]; i++) {
		kl = strlen(object_kinds[i]);
		if (strncmp(head, object_kinds[i], kl) == 0 && head[kl] == ' ') {
			o->kind = xstrdup(object_kinds[i]);
			o->name = xstrdup(head + kl + 1);
			return;
		}
	}
	kl = strcspn(head, " ");
	o->kind = xstrndup(head, kl);
	o->name = xstrdup(head[kl] ? head + kl + 1 : head);
}

/* A table's named parts: "column NAME ...", "index NAME[: ...| (...)]", "trigger NAME: ...". */
static void part_init(struct part *p, const struct object *o, const char *line)
{
	static const char *const named[] = { "column", "index", "trigger", NULL };
	size_t i;

	memset(p, 0, sizeof(*p));
	p->line = xstrdup(line);
	for (i = 0; named[i]; i++) {
		size_t kl = strlen(named[i]);
		if (strncmp(line, named[i], kl) == 0 && line[kl] == ' ') {
			const char *nm = line + kl + 1;
			size_t nl = strcspn(nm, strcmp(named[i], "column") == 0 ? " " : ": (");
			if (nl && nm[nl - 1] == ':')
				nl--;
			p->kind = xstrdup(named[i]);
			p->name = xstrndup(nm, nl);
			p->key = xasprintf("%s %s", named[i], p->name);
			return;
		}
	}
	p->kind = xstrdup(strcmp(o->kind, "table") == 0 ? "constraint" : "definition");
}

static void dump_parse(const char *text, struct dump *d)
{
	const char *p = text, *e;

	memset(d, 0, sizeof(*d));
	for (; *p; p = *e ? e + 1 : e) {
		char *line;
		e = p + strcspn(p, "\n");
		if (e == p)
			continue;
		line = xstrndup(p, (size_t)(e - p));
		if (line[0] != ' ') {
			xgrow(&d->v, &d->cap, d->n + 1, sizeof(*d->v));
			object_init(&d->v[d->n++], line);
		} else if (d->n) {
			struct object *o = &d->v[d->n - 1];
			xgrow(&o->parts, &o->cap, o->n + 1, sizeof(*o->parts));
			part_init(&o->parts[o->n++], o, line + strspn(line, " "));
		}
		free(line);
	}
}

static void dump_free(struct dump *d)
{
	size_t i, j;

	for (i = 0; i < d->n; i++) {
		struct object *o = &d->v[i];
		for (j = 0; j < o->n; j++) {
			free(o->parts[j].key);
			free(o->parts[j].kind);
			free(o->parts[j].name);
			free(o->parts[j].line);
		}
		free(o->parts);
		free(o->head);
		free(o->kind);
		free(o->name);
	}
	free(d->v);
}

static const struct object *find_object(const struct dump *d, const char *head)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->v[i].head, head) == 0)
			return &d->v[i];
	return NULL;
}

static const struct part *find_part(const struct object *o, const struct part *like)
{
	size_t i;

	for (i = 0; i < o->n; i++) {
		const struct part *p = &o->parts[i];
		if (like->key ? p->key && strcmp(p->key, like->key) == 0
			      : !p->key && strcmp(p->line, like->line) == 0)
			return p;
	}
	return NULL;
}

/* ---- comparing --------------------------------------------------------------------- */

static void add_item(struct migrate_drift_report *rep, size_t *cap, enum migrate_drift_kind kind,
		     const char *object, const char *name, const char *expected, const char *actual)
{
	struct migrate_drift_item *it;

	xgrow(&rep->items, cap, rep->n + 1, sizeof(*rep->items));
	it = &rep->items[rep->n++];
	it->kind = kind;
	it->object = xstrdup(object);
	it->name = xstrdup(name);
	it->expected = xstrdup(expected);
	it->actual = xstrdup(actual);
}

/* The object's text: its unnamed parts, one a line. */
static char *unnamed_text(const struct object *o)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < o->n; i++)
		if (!o->parts[i].key)
			strbuf_addf(&sb, "%s%s", sb.len ? "\n" : "", o->parts[i].line);
	return strbuf_detach(&sb);
}

static char *part_name(const struct object *o, const struct part *p)
{
	return p->name ? xasprintf("%s.%s", o->name, p->name) : xstrdup(o->name);
}

/* The parts of one object both dumps have. want: the migrations', got: the live one's. */
static void compare_object(struct migrate_drift_report *rep, size_t *cap, const struct object *want,
			   const struct object *got)
{
	int is_table = strcmp(want->kind, "table") == 0;
	size_t i;

	if (!is_table) {
		/* a view's definition is the view: a different one changes it */
		char *a = unnamed_text(want), *b = unnamed_text(got);
		if (strcmp(a, b) != 0)
			add_item(rep, cap, MIGRATE_DRIFT_CHANGED, want->kind, want->name, a, b);
		free(a);
		free(b);
	}
	for (i = 0; i < want->n; i++) {
		const struct part *p = &want->parts[i], *q;
		char *name;
		if (!is_table && !p->key)
			continue;
		q = find_part(got, p);
		name = part_name(want, p);
		if (!q)
			add_item(rep, cap, MIGRATE_DRIFT_MISSING, p->kind, name, p->line, NULL);
		else if (strcmp(p->line, q->line) != 0)
			add_item(rep, cap, MIGRATE_DRIFT_CHANGED, p->kind, name, p->line, q->line);
		free(name);
	}
	for (i = 0; i < got->n; i++) {
		const struct part *p = &got->parts[i];
		char *name;
		if ((!is_table && !p->key) || find_part(want, p))
			continue;
		name = part_name(got, p);
		add_item(rep, cap, MIGRATE_DRIFT_EXTRA, p->kind, name, NULL, p->line);
		free(name);
	}
}

static void drift_compare(const char *want_text, const char *got_text, struct migrate_drift_report *rep)
{
	struct dump want, got;
	size_t i, cap = 0;

	dump_parse(want_text, &want);
	dump_parse(got_text, &got);
	for (i = 0; i < want.n; i++) {
		const struct object *o = find_object(&got, want.v[i].head);
		if (o)
			compare_object(rep, &cap, &want.v[i], o);
		else
			add_item(rep, &cap, MIGRATE_DRIFT_MISSING, want.v[i].kind, want.v[i].name, want.v[i].head, NULL);
	}
	for (i = 0; i < got.n; i++)
		if (!find_object(&want, got.v[i].head))
			add_item(rep, &cap, MIGRATE_DRIFT_EXTRA, got.v[i].kind, got.v[i].name, NULL, got.v[i].head);
	dump_free(&want);
	dump_free(&got);
}

enum migrate_result migrate_drift(migrate *m, struct migrate_drift_report **report, struct migrate_error *err)
{
	struct migrate_drift_report *rep;
	struct testdb_scratch s;
	char *to = NULL, *want = NULL, *got = NULL;
	size_t count;
	int all;
	migrate *t = NULL;

	merr_clear(err);
	*report = NULL;
	memset(&s, 0, sizeof(s));
	if (!m || !m->conn)
		return merr_set(err, MIGRATE_EUSAGE, "no database connection (opened with no_database)");
	if (replayable(m, &to, &count, &all, err))
		return err->code;
	if (db_dump_schema(m, &got, err) || unqualify(m, &got, err))
		goto out;
	if (scratch_open(m, all, &s, &t, err))
		goto out;
	if (to && !s.cloned) {
		struct migrate_up_options up = { to, 0, 0, 1 }; /* it ran already: lint has no say */
		if (migrate_up(t, &up, err))
			goto out;
	}
	if (db_interrupted(m)) {
		merr_set(err, MIGRATE_EINTR, "drift: interrupted");
		goto out;
	}
	if (db_dump_schema(t, &want, err) || unqualify(t, &want, err))
		goto out;
	rep = xcalloc(1, sizeof(*rep));
	rep->database = xstrdup(migrate_display_url(m));
	rep->scratch = xstrdup(migrate_display_url(t));
	rep->applied = count;
	rep->replayed = s.cloned ? 0 : count;
	rep->template_name = s.cloned ? xstrdup(s.template_name) : NULL;
	drift_compare(want, got, rep);
	*report = rep;
	if (rep->n && rep->template_name)
		merr_set(err, MIGRATE_EFAIL, "drift: %s differs from its migrations in %zu object%s (cloned template %s)",
			 rep->database, rep->n, rep->n == 1 ? "" : "s", rep->template_name);
	else if (rep->n)
		merr_set(err, MIGRATE_EFAIL, "drift: %s differs from its migrations in %zu object%s (replayed %zu migration%s)",
			 rep->database, rep->n, rep->n == 1 ? "" : "s", rep->replayed, rep->replayed == 1 ? "" : "s");
out:
	if (t || s.name)
		scratch_close(m, t, &s);
	testdb_scratch_release(&s);
	free(to);
	free(want);
	free(got);
	return err->code;
}

void migrate_drift_report_free(struct migrate_drift_report *rep)
{
	size_t i;

	if (!rep)
		return;
	for (i = 0; i < rep->n; i++) {
		free(rep->items[i].object);
		free(rep->items[i].name);
		free(rep->items[i].expected);
		free(rep->items[i].actual);
	}
	free(rep->items);
	free(rep->database);
	free(rep->scratch);
	free(rep->template_name);
	free(rep);
}
