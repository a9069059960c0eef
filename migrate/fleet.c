/*
 * fleet.c - one command on many databases: [targets NAME] (SPEC section 13).
 *
 * The fleet runner is a scheduler over the library's own commands: for
 * each target it opens a handle through migrate_open() with the
 * environment's options and the target's URL (or PostgreSQL schema), runs
 * migrate_up(), migrate_status(), ... on it, and reports what the
 * command's events and result said. It knows nothing of how a command
 * works.
 *
 * Each target runs in a child process of its own (fork), never in a
 * thread: a worker shares no state with the others (the config loader's
 * iniparser error hook, the drivers' lazily loaded client libraries, the
 * MySQL client's one-time library set-up, signal masks), a crash or a leak
 * in one target cannot touch another, and the run-wide lock of each target
 * is held by a process that the database sees die if it dies. A child
 * writes its events and its result to a pipe, as length-prefixed fields;
 * the parent reads every pipe as data comes (poll), so no child blocks on a
 * full pipe, and hands each target's events and result to the caller when
 * the target has finished.
 *
 * Divisions: the targets; the wire between child and parent; a child's
 * work; the scheduler.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

#define FLEET_DEFAULT_PARALLEL 4

struct target {
	char *url;       /* what migrate_open gets (with the password); NULL for a schema */
	char *schema;    /* a PostgreSQL schema in the environment's database, or NULL */
	char *display;   /* the URL with the password as ****, or the schema's name */
	const struct driver *drv; /* NULL when this build lacks it (the worker says so) */
};

struct fleet {
	const struct migrate_options *base;
	const struct migrate_fleet_options *opt;
	struct target *t;
	size_t n;
};

/* ---- the targets ------------------------------------------------------------------ */

static int is_url(const char *s)
{
	return strstr(s, "://") != NULL || strncasecmp(s, "sqlite:", 7) == 0 || strncasecmp(s, "sqlite3:", 8) == 0;
}

/* "sqlite:" and a path, its '%' and '?' escaped so the URL reads back the same path. */
static char *sqlite_url(const char *path, const char *query)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "sqlite:");
	if (path[0] == '/')
		strbuf_addstr(&sb, "//");
	for (; *path; path++) {
		if (*path == '%' || *path == '?')
			strbuf_addf(&sb, "%%%02X", (unsigned char)*path);
		else
			strbuf_addch(&sb, *path);
	}
	if (query)
		strbuf_addstr(&sb, query);
	return strbuf_detach(&sb);
}

/* Checks one entry and makes it a target; MIGRATE_EUSAGE naming its file:line. */
static enum migrate_result target_make(migrate *env, const struct target_list *l, const struct target_entry *e,
				       struct target *t, struct migrate_error *err)
{
	char msg[512];
	struct db_url u;

	memset(t, 0, sizeof(*t));
	if (is_url(e->text)) {
		if (url_parse(e->text, &u, msg, sizeof(msg)))
			return merr_set(err, MIGRATE_EUSAGE, "%s: target is not a valid database URL: %s", e->where, msg);
		if (strcmp(u.driver, "sqlite") == 0 && u.database && u.database[0] != '/' &&
		    strcmp(u.database, ":memory:") != 0) {
			/* relative to the config file, as the database key is */
			char *abs = path_join(l->base_dir, u.database);
			free(u.database);
			u.database = abs;
			t->url = sqlite_url(abs, strchr(e->text, '?'));
		} else {
			t->url = xstrdup(e->text);
		}
		t->display = db_url_display(&u);
		t->drv = driver_find(u.driver);
		db_url_release(&u);
		return MIGRATE_OK;
	}
	if (!env->cfg.drv || env->cfg.drv->dialect != SQL_DIALECT_POSTGRES)
		return merr_set(err, MIGRATE_EUSAGE,
				"%s: target '%s' is not a URL (it has no '://' and does not start with 'sqlite:'), and a schema name needs a PostgreSQL environment ([%s] is %s)",
				e->where, e->text, env->cfg.env, env->cfg.driver_name ? env->cfg.driver_name : "not configured");
	t->schema = xstrdup(e->text);
	t->display = xstrdup(e->text);
	t->drv = env->cfg.drv;
	return MIGRATE_OK;
}

static void target_release(struct target *t)
{
	free(t->url);
	free(t->schema);
	free(t->display);
}

struct query_rows {
	struct target_list *l;
	const char *where;
	long row;
};

static int query_row(void *ctx, int ncols, const char *const *values)
{
	struct query_rows *q = ctx;
	char *where;

	q->row++;
	if (ncols < 1 || !values[0] || !*values[0])
		return 0;
	where = xasprintf("%s (urls_query row %ld)", q->where, q->row);
	target_list_add(q->l, values[0], where);
	free(where);
	return 0;
}

/* urls_query: one target a row (its first column), from the environment's own database. */
static enum migrate_result targets_query(const struct migrate_options *base, struct target_list *l,
					 struct migrate_error *err)
{
	struct migrate_options o = *base;
	struct query_rows q = { l, l->query_where, 0 };
	migrate *m;

	o.progress = NULL;
	o.schema = NULL;
	o.no_connect = 0;
	o.no_database = 0;
	if (migrate_open(&o, &m, err))
		return err->code;
	if (db_query(m, l->query, 0, NULL, query_row, &q, err))
		merr_set(err, err->code, "%s: urls_query", l->query_where);
	migrate_close(m);
	if (!err->code && l->n == 0)
		merr_set(err, MIGRATE_EUSAGE, "%s: urls_query returned no target", l->query_where);
	return err->code;
}

static enum migrate_result fleet_targets(struct fleet *f, struct migrate_error *err)
{
	struct migrate_options o = *f->base;
	struct target_list l;
	migrate *env;
	size_t i;

	/* the config and the migrations, read and checked once before any target is touched */
	o.progress = NULL;
	o.no_connect = 1;
	o.no_database = 0;
	o.schema = NULL;
	if (migrate_open(&o, &env, err))
		return err->code;
	if (f->opt->command == MIGRATE_FLEET_VERIFY && env->cfg.verify_url) {
		merr_set(err, MIGRATE_EUSAGE,
			 "verify_url names one scratch database, which cannot serve a fleet: verify --targets runs on each target");
		goto out;
	}
	if (config_targets(env->cfg.path, f->opt->targets, &l, err))
		goto out;
	if (l.query && targets_query(f->base, &l, err))
		goto out_list;
	f->t = xcalloc(l.n ? l.n : 1, sizeof(*f->t));
	for (i = 0; i < l.n; i++) {
		if (target_make(env, &l, &l.v[i], &f->t[i], err))
			goto out_list;
		f->n++;
	}
out_list:
	target_list_release(&l);
out:
	migrate_close(env);
	return err->code;
}

/* ---- the wire between child and parent -------------------------------------------- */

/*
 * A record is a type byte ('E' an event, 'R' the result) and its fields,
 * each "~" (NULL) or "<length>:<bytes>".
 */
static void wire_str(struct strbuf *sb, const char *s)
{
	if (!s)
		strbuf_addch(sb, '~');
	else
		strbuf_addf(sb, "%zu:%s", strlen(s), s);
}

static void wire_num(struct strbuf *sb, long long v)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", v);
	wire_str(sb, num);
}

/* Reads one field at *p (of end); returns a new string, or NULL for "~"; *bad on garbage. */
static char *wire_take(const char **p, const char *end, int *bad)
{
	char *num_end;
	unsigned long long n;
	char *s;

	if (*p >= end) {
		*bad = 1;
		return NULL;
	}
	if (**p == '~') {
		(*p)++;
		return NULL;
	}
	errno = 0;
	n = strtoull(*p, &num_end, 10);
	if (errno || num_end >= end || *num_end != ':' || n > (unsigned long long)(end - num_end - 1)) {
		*bad = 1;
		return NULL;
	}
	s = xstrndup(num_end + 1, (size_t)n);
	*p = num_end + 1 + n;
	return s;
}

static long long wire_take_num(const char **p, const char *end, int *bad)
{
	char *s = wire_take(p, end, bad);
	long long v = s ? strtoll(s, NULL, 10) : 0;

	free(s);
	return v;
}

/* ---- a child's work ----------------------------------------------------------------- */

struct child {
	struct strbuf out;    /* the records, written to the pipe at the end */
	long long applied;    /* MIGRATE_EVENT_APPLIED / SEEDED seen */
};

static void child_event(void *ctx, const struct migrate_event *ev)
{
	struct child *c = ctx;

	if (ev->kind == MIGRATE_EVENT_APPLIED || ev->kind == MIGRATE_EVENT_SEEDED)
		c->applied++;
	if (ev->kind == MIGRATE_EVENT_PROGRESS)
		return; /* a progress bar has no place in a fleet's report */
	strbuf_addch(&c->out, 'E');
	wire_num(&c->out, ev->kind);
	wire_str(&c->out, ev->version);
	wire_str(&c->out, ev->name);
	wire_str(&c->out, ev->message);
	wire_num(&c->out, ev->duration_ms);
	wire_num(&c->out, ev->rows);
}

/* A summary of a drift report: the number, and the first few differences. */
static void drift_summary(migrate *m, const struct migrate_drift_report *rep, struct strbuf *sb)
{
	size_t i;

	if (!rep->n) {
		if (rep->template_name)
			strbuf_addf(sb, "no drift (template %s cloned)", rep->template_name);
		else
			strbuf_addf(sb, "no drift (%zu migrations replayed)", rep->replayed);
		return;
	}
	strbuf_addf(sb, "%zu difference%s:", rep->n, rep->n == 1 ? "" : "s");
	for (i = 0; i < rep->n; i++) {
		const struct migrate_drift_item *it = &rep->items[i];
		char *msg = xasprintf("%s %s '%s'", migrate_drift_kind_name(it->kind), it->object, it->name);

		if (i < 3)
			strbuf_addf(sb, "%s %s", i ? "," : "", msg);
		else if (i == 3)
			strbuf_addstr(sb, ", ...");
		emit(m, MIGRATE_EVENT_PROBLEM, NULL, it->name, msg, 0, 0);
		free(msg);
	}
}

/* Runs the command on one target; the result record ends c->out. */
static enum migrate_result child_work(const struct fleet *f, const struct target *t, struct child *c)
{
	struct migrate_options o = *f->base;
	struct migrate_error err;
	struct strbuf summary = STRBUF_INIT;
	char *current = NULL;
	long long applied = 0, pending = 0;
	migrate *m = NULL;

	merr_clear(&err);
	if (t->url)
		o.url = t->url;
	o.schema = t->schema;
	o.progress = child_event;
	o.progress_ctx = c;
	/* lint connects itself, and lints every migration when it cannot */
	o.no_connect = f->opt->command == MIGRATE_FLEET_LINT;
	o.no_database = 0;
	/* what only reads never creates a database (a SQLite file), as the single commands do */
	o.existing_only = f->opt->command == MIGRATE_FLEET_STATUS || f->opt->command == MIGRATE_FLEET_VALIDATE ||
			  f->opt->command == MIGRATE_FLEET_DRIFT;
	if (migrate_open(&o, &m, &err))
		goto out;
	switch (f->opt->command) {
	case MIGRATE_FLEET_UP:
		if (migrate_up(m, f->opt->up, &err) == MIGRATE_OK && migrate_current_version(m, &current, &err) == MIGRATE_OK) {
			if (c->applied)
				strbuf_addf(&summary, "applied %lld, now at %s", c->applied, current ? current : "none");
			else
				strbuf_addf(&summary, "up to date at %s", current ? current : "none");
		}
		break;
	case MIGRATE_FLEET_STATUS: {
		struct migrate_status *st;
		long long other = 0;
		size_t i;

		if (migrate_status(m, &st, &err))
			break;
		for (i = 0; i < st->n; i++) {
			if (st->entries[i].state == MIGRATE_STATE_APPLIED)
				applied++;
			else if (st->entries[i].state == MIGRATE_STATE_PENDING)
				pending++;
			else {
				other++;
				emit(m, MIGRATE_EVENT_PROBLEM, st->entries[i].version, st->entries[i].name,
				     migrate_state_name(st->entries[i].state), 0, 0);
			}
		}
		current = xstrdup(st->current);
		strbuf_addf(&summary, "%lld applied, %lld pending", applied, pending);
		if (other)
			strbuf_addf(&summary, ", %lld changed, missing or failed", other);
		strbuf_addf(&summary, "; at %s", current ? current : "none");
		migrate_status_free(st);
		if (f->opt->status_check && (pending || other))
			merr_set(&err, MIGRATE_EFAIL, "status --check: not every migration is applied and clean");
		break;
	}
	case MIGRATE_FLEET_VALIDATE:
		if (migrate_validate(m, &err) == MIGRATE_OK)
			strbuf_addstr(&summary, "valid");
		break;
	case MIGRATE_FLEET_VERIFY: {
		struct migrate_verify_options vo = { NULL };
		struct migrate_verify_report *rep = NULL;

		if (migrate_verify(m, &vo, &rep, &err) == MIGRATE_OK)
			strbuf_addf(&summary, "verified %zu migration%s", rep ? rep->checked : 0,
				    rep && rep->checked == 1 ? "" : "s");
		migrate_verify_report_free(rep);
		break;
	}
	case MIGRATE_FLEET_SEED:
		if (migrate_seed(m, f->opt->seed, &err) == MIGRATE_OK)
			strbuf_addf(&summary, c->applied ? "seeded %lld" : "nothing to seed", c->applied);
		break;
	case MIGRATE_FLEET_LINT: {
		static const struct migrate_lint_options none = { 0, NULL, 0 };
		struct migrate_lint_report *rep = NULL;
		size_t i;

		migrate_lint(m, f->opt->lint ? f->opt->lint : &none, &rep, &err);
		if (!rep)
			break;
		for (i = 0; i < rep->n; i++) {
			const struct migrate_lint_finding *fd = &rep->findings[i];
			char *msg = xasprintf("%s:%d: %s: %s: %s", fd->path, fd->line,
					      migrate_lint_severity_name(fd->severity), fd->rule, fd->message);
			emit(m, fd->severity == MIGRATE_LINT_ERROR ? MIGRATE_EVENT_PROBLEM : MIGRATE_EVENT_WARNING,
			     fd->version, fd->name, msg, 0, 0);
			free(msg);
		}
		applied = (long long)rep->errors;
		pending = (long long)rep->warnings;
		strbuf_addf(&summary, "%zu error%s, %zu warning%s in %zu %smigration%s", rep->errors,
			    rep->errors == 1 ? "" : "s", rep->warnings, rep->warnings == 1 ? "" : "s", rep->checked,
			    strcmp(rep->scope, "pending") == 0 ? "pending " : "", rep->checked == 1 ? "" : "s");
		migrate_lint_report_free(rep);
		break;
	}
	case MIGRATE_FLEET_DRIFT: {
		struct migrate_drift_report *rep = NULL;

		migrate_drift(m, &rep, &err);
		if (rep)
			drift_summary(m, rep, &summary);
		migrate_drift_report_free(rep);
		break;
	}
	}
out:
	migrate_close(m);
	strbuf_addch(&c->out, 'R');
	wire_num(&c->out, err.code);
	wire_str(&c->out, err.code ? err.message : NULL);
	wire_str(&c->out, summary.len ? strbuf_str(&summary) : NULL);
	wire_str(&c->out, current);
	wire_num(&c->out, applied);
	wire_num(&c->out, pending);
	strbuf_release(&summary);
	free(current);
	return err.code;
}

/* In the child: never returns. */
static void child_main(const struct fleet *f, size_t i, int fd)
{
	struct child c = { STRBUF_INIT, 0 };
	sigset_t set;
	int code;

	/*
	 * The parent may block these for a thread of its own that the child
	 * does not have: here they take their default action, so a Ctrl-C
	 * reaches every worker of the process group and each database rolls
	 * back its open transaction when the connection goes.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	code = child_work(f, &f->t[i], &c);
	if (write_all(fd, c.out.buf, c.out.len))
		code = MIGRATE_EFAIL;
	close(fd);
	_exit(code);
}

/* ---- the scheduler ------------------------------------------------------------------ */

struct slot {
	pid_t pid;
	int fd;
	size_t index;
	long long started;
	struct strbuf in;
};

static void deliver(const struct fleet *f, struct slot *s, int status)
{
	struct migrate_fleet_result res;
	const char *p = s->in.buf ? s->in.buf : "", *end = p + s->in.len;
	char *error = NULL, *summary = NULL, *current = NULL, *made = NULL;
	int bad = 0, got_result = 0;

	memset(&res, 0, sizeof(res));
	res.index = s->index;
	res.target = f->t[s->index].display;
	res.ran = 1;
	res.duration_ms = now_ms() - s->started;
	while (p < end && !bad && !got_result) {
		char type = *p++;
		if (type == 'E') {
			struct migrate_event ev;
			char *version, *name, *message;
			memset(&ev, 0, sizeof(ev));
			ev.kind = (enum migrate_event_kind)wire_take_num(&p, end, &bad);
			version = wire_take(&p, end, &bad);
			name = wire_take(&p, end, &bad);
			message = wire_take(&p, end, &bad);
			ev.duration_ms = wire_take_num(&p, end, &bad);
			ev.rows = wire_take_num(&p, end, &bad);
			ev.version = version;
			ev.name = name;
			ev.message = message;
			if (!bad && f->opt->on_event)
				f->opt->on_event(f->opt->ctx, &res, &ev);
			free(version);
			free(name);
			free(message);
		} else if (type == 'R') {
			res.code = (enum migrate_result)wire_take_num(&p, end, &bad);
			error = wire_take(&p, end, &bad);
			summary = wire_take(&p, end, &bad);
			current = wire_take(&p, end, &bad);
			res.applied = wire_take_num(&p, end, &bad);
			res.pending = wire_take_num(&p, end, &bad);
			got_result = !bad;
		} else {
			bad = 1;
		}
	}
	if (!got_result) {
		res.code = MIGRATE_EFAIL;
		if (WIFSIGNALED(status))
			made = xasprintf("%s: the worker was ended by signal %d", res.target, WTERMSIG(status));
		else
			made = xasprintf("%s: the worker ended (status %d) without a result", res.target,
					 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		free(error);
		error = NULL;
	} else if (error && !strstr(error, res.target)) {
		/* every error names its target (the URL's password masked) */
		made = xasprintf("%s: %s", res.target, error);
	}
	res.error = made ? made : error;
	res.summary = summary;
	res.current = current;
	if (f->opt->on_result)
		f->opt->on_result(f->opt->ctx, &res);
	free(error);
	free(summary);
	free(current);
	free(made);
}

static void report_skipped(const struct fleet *f, size_t i)
{
	struct migrate_fleet_result res;

	memset(&res, 0, sizeof(res));
	res.index = i;
	res.target = f->t[i].display;
	res.summary = "skipped: a canary failed";
	if (f->opt->on_result)
		f->opt->on_result(f->opt->ctx, &res);
}

/* A target whose worker could not start (no process or pipe left): it failed, and says why. */
static void report_unstarted(const struct fleet *f, size_t i, const char *what, int e)
{
	struct migrate_fleet_result res;
	char *msg = xasprintf("%s: cannot start a worker: %s: %s", f->t[i].display, what, strerror(e));

	memset(&res, 0, sizeof(res));
	res.index = i;
	res.target = f->t[i].display;
	res.ran = 1;
	res.code = MIGRATE_EFAIL;
	res.error = msg;
	if (f->opt->on_result)
		f->opt->on_result(f->opt->ctx, &res);
	free(msg);
}

/* Runs targets [from, to), parallel at a time. Returns the highest code. */
static enum migrate_result run_range(const struct fleet *f, size_t from, size_t to, int parallel,
				     struct migrate_error *err)
{
	struct slot *slots = xcalloc((size_t)parallel, sizeof(*slots));
	struct pollfd *pfd = xcalloc((size_t)parallel, sizeof(*pfd));
	enum migrate_result worst = MIGRATE_OK;
	size_t next = from;
	int active = 0, k;

	for (k = 0; k < parallel; k++)
		slots[k].fd = -1;
	while (next < to || active > 0) {
		/* fill free slots */
		for (k = 0; k < parallel && next < to; k++) {
			int fds[2];
			pid_t pid;

			if (slots[k].fd >= 0)
				continue;
			if (pipe(fds) != 0) {
				report_unstarted(f, next++, "pipe", errno);
				worst = MIGRATE_EFAIL;
				continue;
			}
			fflush(NULL);
			pid = fork();
			if (pid < 0) {
				int e = errno;
				close(fds[0]);
				close(fds[1]);
				report_unstarted(f, next++, "fork", e);
				worst = MIGRATE_EFAIL;
				continue;
			}
			if (pid == 0) {
				close(fds[0]);
				child_main(f, next, fds[1]);
			}
			close(fds[1]);
			slots[k].pid = pid;
			slots[k].fd = fds[0];
			slots[k].index = next++;
			slots[k].started = now_ms();
			memset(&slots[k].in, 0, sizeof(slots[k].in));
			active++;
		}
		if (active == 0)
			break;
		for (k = 0; k < parallel; k++) {
			pfd[k].fd = slots[k].fd;
			pfd[k].events = POLLIN;
			pfd[k].revents = 0;
		}
		if (poll(pfd, (nfds_t)parallel, -1) < 0) {
			if (errno == EINTR)
				continue;
			merr_set(err, MIGRATE_EFAIL, "poll: %s", strerror(errno));
			break;
		}
		for (k = 0; k < parallel; k++) {
			char buf[8192];
			ssize_t n;
			int status = 0;

			if (slots[k].fd < 0 || !(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(slots[k].fd, buf, sizeof(buf));
			if (n > 0) {
				strbuf_add(&slots[k].in, buf, (size_t)n);
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			/* end of the records: the child has finished */
			close(slots[k].fd);
			slots[k].fd = -1;
			while (waitpid(slots[k].pid, &status, 0) < 0 && errno == EINTR)
				;
			deliver(f, &slots[k], status);
			strbuf_release(&slots[k].in);
			active--;
			{
				/* the code the child exited with is the one it reported, or a failure */
				int code = WIFEXITED(status) ? WEXITSTATUS(status) : MIGRATE_EFAIL;
				if (code > (int)worst)
					worst = (enum migrate_result)code;
			}
		}
	}
	free(slots);
	free(pfd);
	return worst;
}

/* Keeps the first failing target's error for the caller. */
struct first_error {
	const struct migrate_fleet_options *user;
	struct migrate_error *err;
};

static void first_error_result(void *ctx, const struct migrate_fleet_result *res)
{
	struct first_error *fe = ctx;

	if (res->code && res->error)
		merr_set(fe->err, res->code, "%s", res->error);
	if (fe->user->on_result)
		fe->user->on_result(fe->user->ctx, res);
}

static void first_error_event(void *ctx, const struct migrate_fleet_result *t, const struct migrate_event *ev)
{
	struct first_error *fe = ctx;

	if (fe->user->on_event)
		fe->user->on_event(fe->user->ctx, t, ev);
}

enum migrate_result migrate_fleet(const struct migrate_options *base, const struct migrate_fleet_options *opt,
				  struct migrate_error *err)
{
	struct migrate_options none = MIGRATE_OPTIONS_INIT;
	struct migrate_fleet_options o;
	struct first_error fe;
	struct fleet f;
	enum migrate_result worst = MIGRATE_OK, r;
	size_t i, canary;
	int parallel;

	merr_clear(err);
	if (!opt || !opt->targets || !*opt->targets)
		return merr_set(err, MIGRATE_EUSAGE, "no targets named");
	o = *opt;
	fe.user = opt;
	fe.err = err;
	o.on_result = first_error_result;
	o.on_event = first_error_event;
	o.ctx = &fe;
	memset(&f, 0, sizeof(f));
	f.base = base ? base : &none;
	f.opt = &o;
	if (fleet_targets(&f, err))
		goto out;
	/*
	 * The client libraries, loaded once here rather than once per worker:
	 * dlopen() of libpq and what it pulls in cost more than a status.
	 */
	for (i = 0; i < f.n; i++) {
		size_t j;
		for (j = 0; j < i && f.t[j].drv != f.t[i].drv; j++)
			;
		if (j == i)
			db_preload(f.t[i].drv);
	}
	parallel = opt->parallel > 0 ? opt->parallel : FLEET_DEFAULT_PARALLEL;
	canary = opt->canary > 0 ? (size_t)opt->canary : 0;
	if (canary > f.n)
		canary = f.n;
	if (canary) {
		worst = run_range(&f, 0, canary, parallel < (int)canary ? parallel : (int)canary, err);
		if (worst != MIGRATE_OK) {
			for (i = canary; i < f.n; i++)
				report_skipped(&f, i);
			goto out;
		}
	}
	if ((size_t)parallel > f.n - canary && f.n > canary)
		parallel = (int)(f.n - canary);
	if (f.n > canary) {
		r = run_range(&f, canary, f.n, parallel, err);
		if (r > worst)
			worst = r;
	}
out:
	for (i = 0; i < f.n; i++)
		target_release(&f.t[i]);
	free(f.t);
	if (err->code > worst)
		worst = err->code;
	return worst;
}
