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
 * The targets run in --parallel worker processes (fork), never in
 * threads: a worker shares no state with the others (the config loader's
 * iniparser error hook, the drivers' lazily loaded client libraries, the
 * MySQL client's one-time library set-up, signal masks), a crash or a leak
 * in one cannot touch another, and the run-wide lock of each target is
 * held by a process that the database sees die if it dies. The parent
 * hands each worker one target at a time over a socket pair; the worker
 * runs it as a run of its own (its own handle, session and lock) and sends
 * back its events and result as length-prefixed fields. The parent reads
 * every worker as data comes (poll), so none blocks on a full socket, and
 * hands each target's events and result to the caller when the target has
 * finished.
 *
 * A worker keeps one connection to the environment's own database for the
 * PostgreSQL schemas in it (schema-per-tenant): a backend start and, over
 * TCP, a SCRAM exchange cost more than a status, so paying them once per
 * worker rather than once per schema is most of a fleet's speed. Between
 * two schemas the connection is reset as a pooler resets it between two
 * clients (driver reset_connection: DISCARD ALL), then the next schema's
 * search_path is set and its own lock taken; a connection a target left
 * broken is replaced. A target that is a database has a connection of its
 * own, closed when it ends.
 *
 * Interrupts: migrate_fleet_interrupt() (the CLI's signal thread calls it)
 * stops handing out targets and sends each busy worker "stop"; the worker's
 * control thread calls migrate_interrupt() on the running target, which
 * cancels, rolls back and unlocks as a single run does. A worker takes
 * SIGINT, SIGTERM and SIGHUP itself too, and stops when the parent goes.
 *
 * Divisions: the targets; the wire; a worker's work; a worker process; the
 * scheduler.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
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

/* ---- the wire ------------------------------------------------------------------------ */

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

/* ---- a worker's work --------------------------------------------------------------- */

struct child {
	struct strbuf out;    /* the records, sent to the parent when the target ends */
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

/*
 * A worker: its main thread runs one target after another; its control
 * thread reads what the parent sends (the next target, or "stop") and
 * takes the signals, and interrupts the running target's handle.
 */
struct worker_ctl {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fd;             /* the worker's end of its socket pair with the parent */
	sigset_t signals;   /* what the control thread takes: SIGINT, SIGTERM, SIGHUP */
	/* under mu: */
	migrate *current;   /* the running target's handle, or NULL */
	int running;        /* a target is taken and not finished */
	int stopping;       /* stop the running target, and take no other */
	int gone;           /* the parent's end is closed: no further target comes */
	int have_next;
	size_t next;        /* the next target, when have_next */
};

/* The handle the control thread interrupts from now on (NULL: none); interrupted at once when stopping. */
static void worker_enter(struct worker_ctl *w, migrate *m)
{
	pthread_mutex_lock(&w->mu);
	w->current = m;
	if (m && w->stopping)
		migrate_interrupt(m);
	pthread_mutex_unlock(&w->mu);
}

static int worker_stopping(struct worker_ctl *w)
{
	int stopping;

	pthread_mutex_lock(&w->mu);
	stopping = w->stopping;
	pthread_mutex_unlock(&w->mu);
	return stopping;
}

/*
 * Runs the command on one target; the result record ends c->out. *pool is
 * the worker's connection to the environment's database, which a schema
 * target takes and hands back (NULL: none yet, or it was dropped).
 */
static enum migrate_result child_work(const struct fleet *f, const struct target *t, struct worker_ctl *w,
				      struct driver_conn **pool, struct child *c)
{
	struct driver_conn **share;
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
	/*
	 * The schemas of the environment's database share the worker's
	 * connection: same server, database and login, one backend start and
	 * authentication for them all. Each is still a session of its own:
	 * db_connect resets the connection (DISCARD ALL) before it sets the
	 * schema's search_path, and the schema's lock is its own.
	 */
	share = t->schema && !o.no_connect ? pool : NULL;
	if (worker_stopping(w)) {
		merr_set(&err, MIGRATE_EINTR, "%s: interrupted before it started", t->display);
		goto out;
	}
	if (api_open(&o, share, &m, &err))
		goto out;
	worker_enter(w, m);
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
	worker_enter(w, NULL);
	if (m && share)
		*share = db_detach(m);
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

/* ---- a worker process ------------------------------------------------------------------ */

/*
 * The wire between a worker and the parent is a socket pair (send with
 * MSG_NOSIGNAL: a peer that is gone is an error, never a SIGPIPE, whatever
 * the caller does with that signal). The parent sends lines: "T<index>"
 * runs that target, "S" stops the running one (again: the cancel is sent
 * again). The worker answers each target with one frame: 'F', or 'L' when
 * it ends after this one (it was stopped), then the records as one field.
 */
static int send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * A worker's signals: the handler, which runs in the control thread (the
 * only one where they are not blocked), writes the signal's number to a
 * pipe the control thread polls, so a signal that comes just before the
 * poll is not missed.
 */
static int worker_sig_pipe[2] = { -1, -1 };

static void worker_on_signal(int sig)
{
	int saved = errno;
	char b = (char)sig;

	if (write(worker_sig_pipe[1], &b, 1) < 0) {
		/* full: the control thread has signals to read already */
	}
	errno = saved;
}

/* Stops the running target (again), and takes no other. */
static void worker_stop(struct worker_ctl *w)
{
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	if (w->current)
		migrate_interrupt(w->current);
	pthread_mutex_unlock(&w->mu);
}

/*
 * The control thread: the only reader of the socket, and the only thread
 * where the three signals are open, so a signal never breaks a statement's
 * wait in the main thread. The first signal stops the running target as a
 * single run's first signal does; a second ends the worker at once. The
 * parent gone (its end closed: it exited, or was killed) stops the running
 * target too: nobody is left to report to.
 */
static void *worker_control(void *arg)
{
	struct worker_ctl *w = arg;
	char buf[256];
	size_t have = 0;
	int signals = 0, running;

	pthread_sigmask(SIG_UNBLOCK, &w->signals, NULL);
	for (;;) {
		struct pollfd pfd[2];
		ssize_t n;
		char *nl;

		pfd[0].fd = w->fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = worker_sig_pipe[0];
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents & POLLIN) {
			char sig;

			while (read(worker_sig_pipe[0], &sig, 1) == 1) {
				if (++signals > 1)
					_exit(sig == SIGINT ? 130 : 143);
				/* an idle worker has nothing to stop: the parent decides what runs next */
				pthread_mutex_lock(&w->mu);
				running = w->running;
				pthread_mutex_unlock(&w->mu);
				if (running)
					worker_stop(w);
			}
		}
		if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = recv(w->fd, buf + have, sizeof(buf) - 1 - have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		while ((nl = strchr(buf, '\n')) != NULL) {
			*nl = '\0';
			if (buf[0] == 'T') {
				pthread_mutex_lock(&w->mu);
				w->next = (size_t)strtoull(buf + 1, NULL, 10);
				w->have_next = 1;
				pthread_cond_signal(&w->cv);
				pthread_mutex_unlock(&w->mu);
			} else if (buf[0] == 'S') {
				worker_stop(w);
			}
			have -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, have + 1);
		}
		if (have == sizeof(buf) - 1) /* no line in it: not the parent's */
			break;
	}
	pthread_mutex_lock(&w->mu);
	w->gone = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	worker_stop(w);
	return NULL;
}

/* In the worker: never returns. */
static void worker_main(const struct fleet *f, int fd)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct driver_conn *pool = NULL;
	struct worker_ctl w;
	struct sigaction sa;
	pthread_t control;
	size_t k;

	memset(&w, 0, sizeof(w));
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	w.fd = fd;
	/*
	 * The signals: blocked in this thread (a wait in libpq or the MySQL
	 * client is never broken by one), taken by the control thread. The
	 * caller may have blocked them for a thread of its own (the CLI does);
	 * a worker takes them itself. Without the pipe they stay blocked, and
	 * the parent's "stop" is what stops a target.
	 */
	sigemptyset(&w.signals);
	for (k = 0; k < sizeof(sigs) / sizeof(sigs[0]); k++)
		sigaddset(&w.signals, sigs[k]);
	pthread_sigmask(SIG_BLOCK, &w.signals, NULL);
	if (pipe(worker_sig_pipe) == 0) {
		fcntl(worker_sig_pipe[0], F_SETFL, fcntl(worker_sig_pipe[0], F_GETFL) | O_NONBLOCK);
		fcntl(worker_sig_pipe[1], F_SETFL, fcntl(worker_sig_pipe[1], F_GETFL) | O_NONBLOCK);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = worker_on_signal;
		sigemptyset(&sa.sa_mask);
		for (k = 0; k < sizeof(sigs) / sizeof(sigs[0]); k++)
			sigaction(sigs[k], &sa, NULL);
	} else {
		sigemptyset(&w.signals);
	}
	if (pthread_create(&control, NULL, worker_control, &w) != 0)
		_exit(MIGRATE_EFAIL); /* the parent reports the target it sent as ended without a result */
	for (;;) {
		struct child c = { STRBUF_INIT, 0 };
		struct strbuf frame = STRBUF_INIT;
		size_t i;
		int last;

		pthread_mutex_lock(&w.mu);
		while (!w.have_next && !w.gone)
			pthread_cond_wait(&w.cv, &w.mu);
		if (!w.have_next) {
			pthread_mutex_unlock(&w.mu);
			break;
		}
		i = w.next;
		w.have_next = 0;
		w.running = 1;
		pthread_mutex_unlock(&w.mu);
		if (i >= f->n)
			break;
		child_work(f, &f->t[i], &w, &pool, &c);
		pthread_mutex_lock(&w.mu);
		w.running = 0;
		last = w.stopping;
		pthread_mutex_unlock(&w.mu);
		strbuf_addch(&frame, last ? 'L' : 'F');
		wire_str(&frame, strbuf_str(&c.out));
		/* the parent may be gone: then the result has nobody to go to */
		if (send_all(fd, frame.buf, frame.len) != 0)
			last = 1;
		strbuf_release(&frame);
		strbuf_release(&c.out);
		if (last)
			break;
	}
	if (pool)
		pool->drv->close(pool);
	_exit(0);
}

/* ---- the scheduler ------------------------------------------------------------------ */

/*
 * migrate_fleet_interrupt() and the scheduler: a count of the calls, and a
 * pipe whose read end the scheduler polls, made once and kept, so the
 * interrupt (which may run in a signal handler) never writes to a closed
 * descriptor.
 */
static atomic_int fleet_stops;
static atomic_int fleet_wake_w = -1;
static int fleet_wake_r = -1;
static pthread_mutex_t fleet_wake_mu = PTHREAD_MUTEX_INITIALIZER;

void migrate_fleet_interrupt(void)
{
	int fd = atomic_load(&fleet_wake_w);
	char b = 1;

	atomic_fetch_add(&fleet_stops, 1);
	if (fd >= 0 && write(fd, &b, 1) < 0) {
		/* full: the scheduler has a wake-up to read already */
	}
}

static void fleet_wake_init(void)
{
	int fds[2];

	pthread_mutex_lock(&fleet_wake_mu);
	if (fleet_wake_r < 0 && pipe(fds) == 0) {
		fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
		fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
		fcntl(fds[0], F_SETFD, FD_CLOEXEC);
		fcntl(fds[1], F_SETFD, FD_CLOEXEC);
		fleet_wake_r = fds[0];
		atomic_store(&fleet_wake_w, fds[1]);
	}
	pthread_mutex_unlock(&fleet_wake_mu);
}

struct worker {
	pid_t pid;            /* 0: no worker in this slot */
	int fd;               /* the parent's end of the socket pair; -1: none */
	int busy;             /* a target was sent and its frame has not come */
	size_t index;         /* that target */
	long long started;
	struct strbuf in;     /* what the worker sent, up to a whole frame */
};

/* The scheduler's state across the canary's range and the rest. */
struct crew {
	struct worker *w;
	int n;
	int stops_seen;       /* fleet_stops when last looked at */
	int stopping;         /* interrupted: no target starts any more */
};

/* Forks the worker of slot k; -1 with *what and errno when it cannot. */
static int worker_start(const struct fleet *f, struct crew *cr, int k, const char **what)
{
	int sv[2], j;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		*what = "socketpair";
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		errno = e;
		*what = "fork";
		return -1;
	}
	if (pid == 0) {
		/* only its own end: a worker sees the parent go when the parent's ends close */
		close(sv[0]);
		for (j = 0; j < cr->n; j++)
			if (cr->w[j].fd >= 0)
				close(cr->w[j].fd);
		if (fleet_wake_r >= 0) {
			close(fleet_wake_r);
			close(atomic_load(&fleet_wake_w));
		}
		worker_main(f, sv[1]);
	}
	close(sv[1]);
	cr->w[k].pid = pid;
	cr->w[k].fd = sv[0];
	cr->w[k].busy = 0;
	memset(&cr->w[k].in, 0, sizeof(cr->w[k].in));
	return 0;
}

/* Ends the worker of a slot: its end closed, the process reaped; *status how it ended. */
static void worker_end(struct worker *w, int *status)
{
	int st = 0;

	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->pid > 0)
		while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
			;
	w->pid = 0;
	w->busy = 0;
	strbuf_release(&w->in);
	if (status)
		*status = st;
}

static int worker_send(struct worker *w, const char *line)
{
	return send_all(w->fd, line, strlen(line));
}

/*
 * Hands a target's events and result to the caller: rec (len bytes) is the
 * worker's records; lost says the worker ended (status) without them all.
 */
static enum migrate_result deliver(const struct fleet *f, size_t index, long long started, const char *rec,
				   size_t len, int lost, int status)
{
	struct migrate_fleet_result res;
	const char *p = rec ? rec : "", *end = p + len;
	char *error = NULL, *summary = NULL, *current = NULL, *made = NULL;
	int bad = 0, got_result = 0;

	memset(&res, 0, sizeof(res));
	res.index = index;
	res.target = f->t[index].display;
	res.ran = 1;
	res.duration_ms = now_ms() - started;
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
		if (lost && WIFSIGNALED(status))
			made = xasprintf("%s: the worker was ended by signal %d", res.target, WTERMSIG(status));
		else
			made = xasprintf("%s: the worker ended (status %d) without a result", res.target,
					 lost && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
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
	return res.code;
}

static void report_skipped(const struct fleet *f, size_t i, const char *why)
{
	struct migrate_fleet_result res;

	memset(&res, 0, sizeof(res));
	res.index = i;
	res.target = f->t[i].display;
	res.summary = why;
	if (f->opt->on_result)
		f->opt->on_result(f->opt->ctx, &res);
}

/* A target whose worker could not start (no process or socket left): it failed, and says why. */
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

/* Has migrate_fleet_interrupt() been called since last seen? Then the running targets are stopped (again). */
static void check_stop(struct crew *cr)
{
	int stops = atomic_load(&fleet_stops), k;

	if (stops == cr->stops_seen)
		return;
	cr->stops_seen = stops;
	cr->stopping = 1;
	for (k = 0; k < cr->n; k++)
		if (cr->w[k].busy)
			worker_send(&cr->w[k], "S\n"); /* one that is gone shows as its end of file */
}

/*
 * Takes the frames a worker sent; each is a finished target. Returns the
 * highest code among them.
 */
static enum migrate_result take_frames(const struct fleet *f, struct worker *w, int *busy)
{
	enum migrate_result worst = MIGRATE_OK, r;

	while (w->busy && w->in.len > 0) {
		const char *p = w->in.buf + 1, *end = w->in.buf + w->in.len;
		char *num_end;
		unsigned long long n;
		int last = w->in.buf[0] == 'L';

		if (w->in.buf[0] != 'F' && w->in.buf[0] != 'L')
			break; /* garbage: the worker's end of file reports it */
		errno = 0;
		n = strtoull(p, &num_end, 10);
		if (num_end >= end || (unsigned long long)(end - num_end - 1) < n)
			break; /* not all there yet */
		if (errno || *num_end != ':')
			break;
		r = deliver(f, w->index, w->started, num_end + 1, (size_t)n, 0, 0);
		if (r > worst)
			worst = r;
		w->busy = 0;
		(*busy)--;
		{
			size_t used = (size_t)(num_end + 1 + n - w->in.buf);
			memmove(w->in.buf, w->in.buf + used, w->in.len - used + 1); /* its NUL too */
			w->in.len -= used;
		}
		if (last)
			worker_end(w, NULL);
	}
	return worst;
}

/*
 * Runs targets [from, to) on the first parallel workers. Returns the
 * highest code; *next is the first target not started (to, unless the
 * fleet was interrupted).
 */
static enum migrate_result run_range(const struct fleet *f, struct crew *cr, size_t from, size_t to, int parallel,
				     size_t *next_out, struct migrate_error *err)
{
	struct pollfd *pfd = xcalloc((size_t)parallel + 1, sizeof(*pfd));
	enum migrate_result worst = MIGRATE_OK;
	size_t next = from;
	int busy = 0, k;

	for (;;) {
		check_stop(cr);
		/* hand the next targets to the idle workers, starting one where a slot has none */
		for (k = 0; k < parallel && next < to && !cr->stopping; k++) {
			struct worker *w = &cr->w[k];
			const char *what = "send";
			char line[40];

			if (w->busy)
				continue;
			if (w->fd < 0 && worker_start(f, cr, k, &what) != 0) {
				report_unstarted(f, next++, what, errno);
				worst = worst > MIGRATE_EFAIL ? worst : MIGRATE_EFAIL;
				continue;
			}
			snprintf(line, sizeof(line), "T%zu\n", next);
			if (worker_send(w, line) != 0) {
				/* it ended while idle: a new one takes the target */
				worker_end(w, NULL);
				if (worker_start(f, cr, k, &what) != 0 || worker_send(w, line) != 0) {
					int e = errno;
					worker_end(w, NULL);
					report_unstarted(f, next++, what, e);
					worst = worst > MIGRATE_EFAIL ? worst : MIGRATE_EFAIL;
					continue;
				}
			}
			w->busy = 1;
			w->index = next++;
			w->started = now_ms();
			busy++;
		}
		if (busy == 0) {
			if (next < to && !cr->stopping)
				continue; /* every slot failed to start its target: on to the next ones */
			break;
		}
		for (k = 0; k < parallel; k++) {
			pfd[k].fd = cr->w[k].busy ? cr->w[k].fd : -1;
			pfd[k].events = POLLIN;
			pfd[k].revents = 0;
		}
		pfd[parallel].fd = fleet_wake_r;
		pfd[parallel].events = POLLIN;
		pfd[parallel].revents = 0;
		if (poll(pfd, (nfds_t)parallel + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			merr_set(err, MIGRATE_EFAIL, "poll: %s", strerror(errno));
			break;
		}
		if (pfd[parallel].revents & POLLIN) {
			char drain[64];
			while (read(fleet_wake_r, drain, sizeof(drain)) > 0)
				;
		}
		for (k = 0; k < parallel; k++) {
			struct worker *w = &cr->w[k];
			char buf[8192];
			ssize_t n;
			enum migrate_result r;

			if (pfd[k].fd < 0 || !(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = recv(w->fd, buf, sizeof(buf), 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n > 0) {
				strbuf_add(&w->in, buf, (size_t)n);
				r = take_frames(f, w, &busy);
				if (r > worst)
					worst = r;
				continue;
			}
			/* the worker ended in the middle of its target: a crash, a kill */
			{
				int status = 0;
				size_t index = w->index;
				long long started = w->started;
				char *got = NULL;
				size_t got_len = 0;

				if (w->in.len > 1) { /* what came of its frame, for the events */
					const char *colon = memchr(w->in.buf, ':', w->in.len);
					if (colon) {
						got_len = w->in.len - (size_t)(colon + 1 - w->in.buf);
						got = xstrndup(colon + 1, got_len);
					}
				}
				worker_end(w, &status);
				busy--;
				r = deliver(f, index, started, got, got_len, 1, status);
				free(got);
				if (r > worst)
					worst = r;
			}
		}
	}
	free(pfd);
	*next_out = next;
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
	struct crew cr;
	enum migrate_result worst = MIGRATE_OK, r;
	size_t i, canary, next;
	int parallel, k;

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
	if ((size_t)parallel > f.n)
		parallel = f.n ? (int)f.n : 1;
	canary = opt->canary > 0 ? (size_t)opt->canary : 0;
	if (canary > f.n)
		canary = f.n;
	fleet_wake_init();
	memset(&cr, 0, sizeof(cr));
	cr.n = parallel;
	cr.w = xcalloc((size_t)parallel, sizeof(*cr.w));
	for (k = 0; k < parallel; k++)
		cr.w[k].fd = -1;
	/* an interrupt that came before: no target starts */
	cr.stopping = atomic_load(&fleet_stops) > 0;
	cr.stops_seen = atomic_load(&fleet_stops);
	next = 0;
	if (canary && !cr.stopping) {
		worst = run_range(&f, &cr, 0, canary, parallel < (int)canary ? parallel : (int)canary, &next, err);
		if (worst != MIGRATE_OK && !cr.stopping) {
			for (i = canary; i < f.n; i++)
				report_skipped(&f, i, "skipped: a canary failed");
			goto out_crew;
		}
	}
	if (f.n > canary && !cr.stopping) {
		r = run_range(&f, &cr, canary, f.n, parallel, &next, err);
		if (r > worst)
			worst = r;
	}
	if (cr.stopping) {
		size_t unstarted = f.n - next;
		for (i = next; i < f.n; i++)
			report_skipped(&f, i, "skipped: interrupted before it started");
		merr_set(err, MIGRATE_EINTR, "interrupted: %zu of %zu targets not started", unstarted, f.n);
		if (worst < MIGRATE_EINTR)
			worst = MIGRATE_EINTR;
	}
out_crew:
	/* the idle workers see their end close, close their connections and exit */
	for (k = 0; k < cr.n; k++)
		worker_end(&cr.w[k], NULL);
	free(cr.w);
	atomic_store(&fleet_stops, 0);
out:
	for (i = 0; i < f.n; i++)
		target_release(&f.t[i]);
	free(f.t);
	if (err->code > worst)
		worst = err->code;
	return worst;
}
