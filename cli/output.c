/*
 * output.c - text and JSON output of the CLI (see output.h).
 *
 * JSON documents carry "format_version": 1; fields are only ever added.
 */
#define _POSIX_C_SOURCE 200809L
#include "output.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JSON_FORMAT_VERSION 1

struct output {
	int json, quiet, verbose, dry_run;
	int color_out, color_err;
	json_t *doc;     /* JSON mode: the document being built */
	json_t *events;  /* JSON mode: applied / rolled back / seeded items */
	json_t *warnings;
	json_t *problems; /* JSON mode: what is wrong with the history */
	json_t *findings; /* JSON mode: lint findings (lint, and up when lint stops it) */
	json_t *sql;     /* JSON mode with --dry-run: the statements */
	json_t *plan;    /* JSON mode with --dry-run: one step per migration or seed, with its statements */
	json_t *step;    /* the step being filled (borrowed from plan), NULL between steps */
	const char *events_key; /* where events go: "migrations", "seeds" or NULL */
	int bar_tty;     /* stderr is a terminal: a progress bar may be drawn there */
	int sql_tty;     /* stdout is a terminal: --dry-run's SQL is shown with term_text */
	int bar_shown;   /* a bar is on the screen and must be cleared */
	long long bar_after_ms; /* how long a seed runs before its bar is drawn */
};

#define BAR_AFTER_MS 500 /* see bar_draw */

static int want_color(int fd)
{
	const char *nc = getenv("NO_COLOR");

	return isatty(fd) && !(nc && *nc) && !(getenv("TERM") && strcmp(getenv("TERM"), "dumb") == 0);
}

struct output *output_new(int json, int quiet, int verbose, int dry_run)
{
	struct output *o = calloc(1, sizeof(*o));
	const char *delay;

	if (!o)
		abort();
	o->json = json;
	o->quiet = quiet;
	o->verbose = verbose;
	o->dry_run = dry_run;
	o->color_out = want_color(STDOUT_FILENO);
	o->color_err = want_color(STDERR_FILENO);
	o->bar_tty = isatty(STDERR_FILENO);
	o->sql_tty = isatty(STDOUT_FILENO);
	o->bar_after_ms = BAR_AFTER_MS;
	delay = getenv("MIGRATE_PROGRESS_DELAY");
	if (delay && *delay) {
		char *end;
		long long ms;

		errno = 0;
		ms = strtoll(delay, &end, 10);
		if (!errno && !*end && ms >= 0)
			o->bar_after_ms = ms;
	}
	return o;
}

void output_free(struct output *o)
{
	if (!o)
		return;
	json_decref(o->doc);
	json_decref(o->events);
	json_decref(o->warnings);
	json_decref(o->problems);
	json_decref(o->findings);
	json_decref(o->sql);
	json_decref(o->plan);
	free(o);
}

/*
 * The length (1 to 4) of the valid UTF-8 character at s[0..avail), or 0 when
 * none starts there (a stray or truncated byte, an overlong form, a
 * surrogate, beyond U+10FFFF).
 */
static size_t utf8_char_len(const char *str, size_t avail)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned long cp;
	size_t n, i;

	if (avail == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * Names, versions and messages carry user input: file names, rows of a
 * history table anyone may have edited, the database's own messages. On a
 * terminal a control character in one (ESC [2J clears the screen, a CR
 * overwrites the line) would act instead of showing, so term() shows each
 * C0 control, DEL, C1 control (U+0080 to U+009F) and every byte that is not
 * UTF-8 as \xNN (after git's quote_path). A newline is kept only where
 * lines are expected (the database's DETAIL lines in a message); in a name
 * it is \x0a too. A few recent results are kept in a ring, so a printf may
 * take several; the CLI has one thread.
 */
#define TERM_RING 8

static char *term_ring[TERM_RING];
static unsigned term_next;

static const char *term_text(const char *s, int keep_newline)
{
	static const char hex[] = "0123456789abcdef";
	size_t len, i, n, o = 0;
	char *buf, **slot;

	if (!s)
		return "";
	len = strlen(s);
	buf = malloc(len * 4 + 1);
	if (!buf)
		abort();
	for (i = 0; i < len; i += n) {
		unsigned char c = (unsigned char)s[i];
		n = utf8_char_len(s + i, len - i);
		if (n == 0 || (n == 1 && ((c < 0x20 && c != '\t' && !(c == '\n' && keep_newline)) || c == 0x7f)) ||
		    (n == 2 && c == 0xc2 && (unsigned char)s[i + 1] < 0xa0)) {
			size_t k, bad = n ? n : 1;
			for (k = 0; k < bad; k++) {
				unsigned char b = (unsigned char)s[i + k];
				buf[o++] = '\\';
				buf[o++] = 'x';
				buf[o++] = hex[b >> 4];
				buf[o++] = hex[b & 15];
			}
			n = bad;
			continue;
		}
		memcpy(buf + o, s + i, n);
		o += n;
	}
	buf[o] = '\0';
	slot = &term_ring[term_next++ % TERM_RING];
	free(*slot);
	*slot = buf;
	return buf;
}

/* A name or version on one line of text output. */
static const char *term(const char *s)
{
	return term_text(s, 0);
}

/*
 * A JSON string; jansson refuses text that is not UTF-8 (json_string
 * returns NULL, and the field, or the whole document, would be lost), so
 * each byte that is not part of a UTF-8 character becomes U+FFFD.
 */
static json_t *jstr(const char *s)
{
	json_t *j;
	size_t len, i, n;
	char *buf, *o;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j)
		return j;
	len = strlen(s);
	buf = malloc(len * 3 + 1);
	if (!buf)
		abort();
	for (i = 0, o = buf; i < len; i += n) {
		n = utf8_char_len(s + i, len - i);
		if (n == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			n = 1;
			continue;
		}
		memcpy(o, s + i, n);
		o += n;
	}
	j = json_stringn(buf, (size_t)(o - buf));
	free(buf);
	return j ? j : json_null();
}

static int stdout_errno;

/* Flushes stdout, keeping the errno of the first failure for main's message. */
static void stdout_flush(void)
{
	if (fflush(stdout) != 0 && !stdout_errno)
		stdout_errno = errno ? errno : EIO;
}

int output_stdout_errno(void)
{
	return stdout_errno;
}

static const char *paint(int on, const char *code)
{
	return on ? code : "";
}

#define GREEN "\033[32m"
#define YELLOW "\033[33m"
#define RED "\033[31m"
#define DIM "\033[2m"
#define BOLD "\033[1m"
#define RESET "\033[0m"

void output_line(const struct output *o, const char *fmt, ...)
{
	va_list ap;
	char *line;
	int n;

	if (o->quiet || o->json)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	line = malloc((size_t)n + 1);
	if (!line)
		abort();
	va_start(ap, fmt);
	vsnprintf(line, (size_t)n + 1, fmt, ap);
	va_end(ap);
	printf("%s\n", term_text(line, 1));
	free(line);
}

static void json_event(struct output *o, const char *action, const struct migrate_event *ev)
{
	json_t *item = json_object();

	if (!o->events)
		o->events = json_array();
	json_object_set_new(item, "action", jstr(action));
	json_object_set_new(item, "version", jstr(ev->version));
	json_object_set_new(item, "name", jstr(ev->name));
	json_object_set_new(item, "duration_ms", json_integer(ev->duration_ms));
	if (ev->kind == MIGRATE_EVENT_SEEDED)
		json_object_set_new(item, "rows", json_integer(ev->rows));
	json_array_append_new(o->events, item);
}

static void add_finding(struct output *o, const struct migrate_lint_finding *f)
{
	if (!o->findings)
		o->findings = json_array();
	json_array_append_new(o->findings,
		json_pack("{s:o,s:i,s:o,s:o,s:s,s:s,s:o,s:o}", "file", jstr(f->path), "line", f->line, "version",
			  jstr(f->version), "name", jstr(f->name), "severity", migrate_lint_severity_name(f->severity),
			  "rule", f->rule, "message", jstr(f->message), "fix", jstr(f->fix)));
}

/* --dry-run in JSON: a step of the plan, to which the statements that follow belong. */
static void plan_step(struct output *o, const char *action, const char *version, const char *name)
{
	json_t *step = json_object();

	if (!o->plan)
		o->plan = json_array();
	json_object_set_new(step, "action", jstr(action));
	json_object_set_new(step, "version", jstr(version));
	json_object_set_new(step, "name", jstr(name));
	json_object_set_new(step, "sql", json_array());
	json_array_append_new(o->plan, step);
	o->step = step;
}

/*
 * The progress bar of a long seed: on stderr, on a terminal only, never
 * with -q or JSON, and only once a seed has run for half a second
 * (MIGRATE_PROGRESS_DELAY milliseconds, like git's GIT_PROGRESS_DELAY), so
 * quick seeds print nothing extra. Redrawn in place; cleared before the
 * next line.
 */
#define BAR_WIDTH 30

static void bar_clear(struct output *o)
{
	if (!o->bar_shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	o->bar_shown = 0;
}

static void bar_draw(struct output *o, const struct migrate_event *ev)
{
	char bar[BAR_WIDTH + 1];
	int i, fill, pct;

	if (o->quiet || o->json || o->dry_run || !o->bar_tty || ev->duration_ms < o->bar_after_ms || ev->total <= 0)
		return;
	pct = (int)(ev->done * 100 / ev->total);
	if (pct > 100)
		pct = 100;
	fill = pct * BAR_WIDTH / 100;
	for (i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	fprintf(stderr, "\r\033[Kseeding %s [%s] %3d%% %lld rows %llds", term(ev->name), bar, pct,
		ev->rows, ev->duration_ms / 1000);
	fflush(stderr);
	o->bar_shown = 1;
}

void output_event(void *ctx, const struct migrate_event *ev)
{
	struct output *o = ctx;
	const char *ver, *name;

	if (ev->kind == MIGRATE_EVENT_PROGRESS) {
		bar_draw(o, ev);
		return;
	}
	ver = term(ev->version);
	name = term(ev->name);
	bar_clear(o);
	switch (ev->kind) {
	case MIGRATE_EVENT_PROGRESS:
		break;
	case MIGRATE_EVENT_APPLYING:
	case MIGRATE_EVENT_ROLLING_BACK:
	case MIGRATE_EVENT_SEEDING:
		if (o->dry_run && o->json)
			plan_step(o, ev->kind == MIGRATE_EVENT_APPLYING ? "up" : ev->kind == MIGRATE_EVENT_SEEDING ? "seed" : "down",
				  ev->version, ev->name);
		else if (o->dry_run && !o->json && !o->quiet)
			printf("-- %s %s %s\n",
			       ev->kind == MIGRATE_EVENT_APPLYING ? "up" : ev->kind == MIGRATE_EVENT_SEEDING ? "seed" : "down",
			       ver, name);
		else if (o->verbose && !o->json && !o->quiet)
			printf("%s%s %s %s ...%s\n", paint(o->color_out, DIM),
			       ev->kind == MIGRATE_EVENT_APPLYING ? "applying" : ev->kind == MIGRATE_EVENT_SEEDING ? "seeding" : "rolling back",
			       ver, name, paint(o->color_out, RESET));
		break;
	case MIGRATE_EVENT_APPLIED:
		o->step = NULL;
		if (o->json)
			json_event(o, "applied", ev);
		else if (!o->quiet && !o->dry_run)
			printf("%sapplied%s     %s %s (%lld ms)\n", paint(o->color_out, GREEN),
			       paint(o->color_out, RESET), ver, name, ev->duration_ms);
		break;
	case MIGRATE_EVENT_ROLLED_BACK:
		o->step = NULL;
		if (o->json)
			json_event(o, "rolled_back", ev);
		else if (!o->quiet && !o->dry_run)
			printf("%srolled back%s %s %s (%lld ms)\n", paint(o->color_out, YELLOW),
			       paint(o->color_out, RESET), ver, name, ev->duration_ms);
		break;
	case MIGRATE_EVENT_SEEDED:
		o->step = NULL;
		if (o->json)
			json_event(o, "seeded", ev);
		else if (!o->quiet && !o->dry_run)
			printf("%sseeded%s      %s (%lld rows, %lld ms)\n", paint(o->color_out, GREEN),
			       paint(o->color_out, RESET), name, ev->rows, ev->duration_ms);
		break;
	case MIGRATE_EVENT_WARNING:
		if (o->json) {
			if (!o->warnings)
				o->warnings = json_array();
			json_array_append_new(o->warnings, jstr(ev->message));
		}
		/* warnings matter to people even in JSON mode; stderr keeps stdout clean */
		if (!o->quiet)
			fprintf(stderr, "%smigrate: warning:%s %s\n", paint(o->color_err, YELLOW),
				paint(o->color_err, RESET), term_text(ev->message, 1));
		break;
	case MIGRATE_EVENT_NOTICE:
		if (o->json) {
			if (o->doc)
				json_object_set_new(o->doc, "message", jstr(ev->message));
		} else if (!o->quiet) {
			printf("%s\n", term_text(ev->message, 1));
		}
		break;
	case MIGRATE_EVENT_SQL:
		if (o->json) {
			if (!o->sql)
				o->sql = json_array();
			json_array_append_new(o->sql, jstr(ev->message));
			/* outside any migration: the tracking table, --single-transaction BEGIN/COMMIT */
			if (!o->step)
				plan_step(o, "other", NULL, NULL);
			json_array_append_new(json_object_get(o->step, "sql"), jstr(ev->message));
		} else {
			/* the SQL as it would run; on a terminal, what it holds cannot act on it */
			printf("%s\n", o->sql_tty ? term_text(ev->message, 1) : ev->message ? ev->message : "");
		}
		break;
	case MIGRATE_EVENT_BASELINED:
		if (o->json)
			json_event(o, "baselined", ev);
		else if (!o->quiet && !o->dry_run)
			printf("%srecorded%s    %s %s (as applied, not run)\n", paint(o->color_out, GREEN),
			       paint(o->color_out, RESET), ver, name);
		break;
	case MIGRATE_EVENT_LINT:
		if (o->json) {
			if (ev->finding)
				add_finding(o, ev->finding);
		} else if (!o->quiet || (ev->finding && ev->finding->severity == MIGRATE_LINT_ERROR)) {
			fprintf(stderr, "%s\n", term_text(ev->message, 1));
		}
		break;
	case MIGRATE_EVENT_PROBLEM:
		/* text mode: the error that follows names them all */
		if (o->json) {
			json_t *p = json_object();

			json_object_set_new(p, "version", jstr(ev->version));
			json_object_set_new(p, "name", jstr(ev->name));
			json_object_set_new(p, "problem", jstr(ev->message));
			if (!o->problems)
				o->problems = json_array();
			json_array_append_new(o->problems, p);
		}
		break;
	}
	stdout_flush();
}

void output_begin(struct output *o, const char *command)
{
	if (!o->json)
		return;
	o->doc = json_object();
	json_object_set_new(o->doc, "format_version", json_integer(JSON_FORMAT_VERSION));
	json_object_set_new(o->doc, "command", jstr(command));
	if (strcmp(command, "seed") == 0)
		o->events_key = "seeds";
	else if (strcmp(command, "up") == 0 || strcmp(command, "down") == 0 || strcmp(command, "redo") == 0 ||
		 strcmp(command, "baseline") == 0)
		o->events_key = "migrations";
	if (o->dry_run)
		json_object_set_new(o->doc, "dry_run", json_true());
}

void output_set_string(struct output *o, const char *key, const char *value)
{
	if (o->json && o->doc)
		json_object_set_new(o->doc, key, jstr(value));
}

void output_set_strings(struct output *o, const char *key, const char *const *list)
{
	json_t *a;

	if (!o->json || !o->doc)
		return;
	a = json_array();
	for (; list && *list; list++)
		json_array_append_new(a, jstr(*list));
	json_object_set_new(o->doc, key, a);
}

void output_testdb(struct output *o, const struct migrate_testdb_report *rep, const char *url)
{
	size_t i;

	if (!o->json) {
		if (url)
			printf("%s\n", url); /* the result itself, so even -q prints it */
		for (i = 0; i < rep->nremoved; i++)
			output_line(o, "dropped %s", rep->removed[i]);
		return;
	}
	if (!o->doc)
		return;
	if (url) {
		json_object_set_new(o->doc, "url", jstr(url));
		json_object_set_new(o->doc, "database", jstr(rep->database));
		json_object_set_new(o->doc, "from_pool", json_boolean(rep->from_pool));
		json_object_set_new(o->doc, "refill_pid", rep->refill_pid ? json_integer(rep->refill_pid) : json_null());
	}
	if (rep->template_name) {
		json_object_set_new(o->doc, "template", jstr(rep->template_name));
		json_object_set_new(o->doc, "template_built", json_boolean(rep->template_built));
	}
	if (!url && rep->template_name)
		json_object_set_new(o->doc, "pool_ready", json_integer(rep->pool_ready));
	if (!rep->template_name) {
		json_t *a = json_array();
		for (i = 0; i < rep->nremoved; i++)
			json_array_append_new(a, jstr(rep->removed[i]));
		json_object_set_new(o->doc, "removed", a);
	}
	json_object_set_new(o->doc, "ms", json_integer(rep->ms));
}

void output_end(struct output *o, enum migrate_result r)
{
	if (!o->json || !o->doc)
		return;
	json_object_set_new(o->doc, "ok", json_boolean(r == MIGRATE_OK));
	if (o->events_key)
		json_object_set_new(o->doc, o->events_key, o->events ? json_incref(o->events) : json_array());
	if (o->warnings)
		json_object_set(o->doc, "warnings", o->warnings);
	if (o->problems)
		json_object_set(o->doc, "problems", o->problems);
	if (o->findings)
		json_object_set(o->doc, "findings", o->findings);
	if (o->sql)
		json_object_set(o->doc, "sql", o->sql);
	if (o->dry_run)
		json_object_set_new(o->doc, "plan", o->plan ? json_incref(o->plan) : json_array());
	json_dumpf(o->doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	stdout_flush();
}

void output_error(const struct output *o, enum migrate_result code, const char *message)
{
	if (o && o->bar_shown) {
		fputs("\r\033[K", stderr);
		((struct output *)o)->bar_shown = 0;
	}
	if (o && o->json) {
		json_t *e = json_pack("{s:{s:i,s:o}}", "error", "code", (int)code, "message", jstr(message));
		json_dumpf(e, stderr, JSON_COMPACT);
		fputc('\n', stderr);
		json_decref(e);
		return;
	}
	fprintf(stderr, "%smigrate: error:%s %s\n", paint(o && o->color_err, RED),
		paint(o && o->color_err, RESET), term_text(message, 1));
}

static const char *state_color(const struct output *o, enum migrate_state s)
{
	if (!o->color_out)
		return "";
	switch (s) {
	case MIGRATE_STATE_APPLIED:
		return GREEN;
	case MIGRATE_STATE_PENDING:
		return YELLOW;
	default:
		return RED;
	}
}

void output_status(struct output *o, const migrate *m, const struct migrate_status *st)
{
	size_t i, counts[6] = { 0 }, width = 14;

	for (i = 0; i < st->n; i++)
		counts[st->entries[i].state]++;
	if (o->json) {
		json_t *migs = json_array(), *seeds = json_array();
		for (i = 0; i < st->n; i++) {
			const struct migrate_status_entry *e = &st->entries[i];
			json_array_append_new(migs, json_pack("{s:o,s:o,s:s,s:o,s:I,s:o,s:b}",
				"version", jstr(e->version), "name", jstr(e->name), "state", migrate_state_name(e->state),
				"applied_at", jstr(e->applied_at), "duration_ms", (json_int_t)e->duration_ms,
				"path", jstr(e->path), "cosmetic_change", e->cosmetic_change));
		}
		for (i = 0; i < st->nseeds; i++) {
			const struct migrate_seed_entry *e = &st->seeds[i];
			const char *state = e->missing ? "missing" : e->changed ? "changed" : e->applied ? "applied" : "pending";
			json_array_append_new(seeds, json_pack("{s:o,s:s,s:o,s:I}", "name", jstr(e->name), "state", state,
				"applied_at", jstr(e->applied_at), "rows", (json_int_t)e->rows));
		}
		json_object_set_new(o->doc, "env", jstr(migrate_env_name(m)));
		json_object_set_new(o->doc, "driver", jstr(migrate_driver_name(m)));
		json_object_set_new(o->doc, "database", jstr(migrate_display_url(m)));
		json_object_set_new(o->doc, "current", jstr(st->current));
		json_object_set_new(o->doc, "migrations", migs);
		json_object_set_new(o->doc, "seeds", seeds);
		return;
	}
	if (o->quiet)
		return;
	printf("%sdatabase%s %s (%s)\n", paint(o->color_out, BOLD), paint(o->color_out, RESET),
	       term(migrate_display_url(m)), term(migrate_env_name(m)));
	if (st->n == 0)
		printf("no migrations in %s\n", term(migrate_migrations_dir(m)));
	/* the version column fits the longest version (pop's are 20 digits) */
	for (i = 0; i < st->n; i++)
		if (strlen(term(st->entries[i].version)) > width)
			width = strlen(term(st->entries[i].version));
	for (i = 0; i < st->n; i++) {
		const struct migrate_status_entry *e = &st->entries[i];
		printf("  %s%-8s%s %-*s %-32s %s%s\n", state_color(o, e->state), migrate_state_name(e->state),
		       paint(o->color_out, RESET), (int)width, term(e->version), term(e->name), term(e->applied_at),
		       e->cosmetic_change ? "  (comments or whitespace edited)" : "");
	}
	if (st->nseeds) {
		printf("%sseeds%s\n", paint(o->color_out, BOLD), paint(o->color_out, RESET));
		for (i = 0; i < st->nseeds; i++) {
			const struct migrate_seed_entry *e = &st->seeds[i];
			const char *state = e->missing ? "missing" : e->changed ? "changed" : e->applied ? "applied" : "pending";
			printf("  %-8s %-47s %s\n", state, term(e->name), term(e->applied_at));
		}
	}
	printf("current version: %s (%zu applied, %zu pending", st->current ? term(st->current) : "none",
	       counts[MIGRATE_STATE_APPLIED], counts[MIGRATE_STATE_PENDING]);
	if (counts[MIGRATE_STATE_CHANGED])
		printf(", %zu changed", counts[MIGRATE_STATE_CHANGED]);
	if (counts[MIGRATE_STATE_MISSING])
		printf(", %zu missing", counts[MIGRATE_STATE_MISSING]);
	if (counts[MIGRATE_STATE_FAILED] + counts[MIGRATE_STATE_RUNNING])
		printf(", %zu failed", counts[MIGRATE_STATE_FAILED] + counts[MIGRATE_STATE_RUNNING]);
	printf(")\n");
}

void output_version(struct output *o, const char *version)
{
	if (o->json) {
		json_object_set_new(o->doc, "version", jstr(version));
		return;
	}
	printf("%s\n", version ? term(version) : "none");
}

/* ---- dump and verify ---- */

void output_dump(struct output *o, const migrate *m, const char *schema, const char *file)
{
	if (o->json) {
		json_object_set_new(o->doc, "driver", jstr(migrate_driver_name(m)));
		json_object_set_new(o->doc, "database", jstr(migrate_display_url(m)));
		json_object_set_new(o->doc, "file", jstr(file));
		json_object_set_new(o->doc, "schema", jstr(schema));
		return;
	}
	if (file)
		output_line(o, "wrote the schema of %s to %s", migrate_display_url(m), file);
	else
		fputs(schema, stdout);
}

void output_verify(struct output *o, const struct migrate_verify_report *rep, enum migrate_result r)
{
	if (!rep)
		return;
	if (o->json) {
		json_object_set_new(o->doc, "database", jstr(rep->database));
		json_object_set_new(o->doc, "checked", json_integer((json_int_t)rep->checked));
		if (rep->step)
			json_object_set_new(o->doc, "difference",
					    json_pack("{s:s,s:o,s:o}", "step", rep->step, "summary",
						      jstr(rep->summary ? rep->summary : ""), "diff",
						      jstr(rep->diff ? rep->diff : "")));
		return;
	}
	if (r == MIGRATE_OK && rep->checked)
		output_line(o, "verified %s: %zu migration%s roll back and apply again to the same schema",
			    rep->database, rep->checked, rep->checked == 1 ? "" : "s");
}

void output_verify_diff(const struct output *o, const struct migrate_verify_report *rep)
{
	/* the details of the error just printed: on stderr with it, even when quiet */
	if (rep && rep->diff && !o->json)
		fprintf(stderr, "%s", term_text(rep->diff, 1));
}

/* ---- lint ---- */

void output_lint(struct output *o, const struct migrate_lint_report *rep)
{
	const char *what;
	size_t i;

	if (!rep)
		return;
	what = strcmp(rep->scope, "pending") == 0 ? "pending " : "";
	if (o->json) {
		json_object_set_new(o->doc, "scope", jstr(rep->scope));
		json_object_set_new(o->doc, "checked", json_integer((json_int_t)rep->checked));
		json_object_set_new(o->doc, "errors", json_integer((json_int_t)rep->errors));
		json_object_set_new(o->doc, "warnings", json_integer((json_int_t)rep->warnings));
		if (!o->findings)
			o->findings = json_array();
		for (i = 0; i < rep->n; i++)
			add_finding(o, &rep->findings[i]);
		return;
	}
	for (i = 0; i < rep->n; i++) {
		const struct migrate_lint_finding *f = &rep->findings[i];
		if (o->quiet && f->severity != MIGRATE_LINT_ERROR)
			continue;
		printf("%s:%d: %s%s%s: %s: %s; %s\n", term(f->path), f->line,
		       paint(o->color_out, f->severity == MIGRATE_LINT_ERROR ? RED : YELLOW),
		       migrate_lint_severity_name(f->severity), paint(o->color_out, RESET), f->rule, term_text(f->message, 1),
		       term_text(f->fix, 1));
	}
	if (rep->checked == 0)
		output_line(o, "nothing to lint: no %smigrations", what);
	else if (rep->n == 0)
		output_line(o, "no findings in %zu %smigration%s", rep->checked, what, rep->checked == 1 ? "" : "s");
	else
		output_line(o, "%zu error%s, %zu warning%s in %zu %smigration%s", rep->errors, rep->errors == 1 ? "" : "s",
			    rep->warnings, rep->warnings == 1 ? "" : "s", rep->checked, what, rep->checked == 1 ? "" : "s");
	stdout_flush();
}

void output_lint_rules(struct output *o, const struct migrate_lint_rule *rules)
{
	json_t *a;

	if (o->json) {
		a = json_array();
		for (; rules->id; rules++)
			json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:s}", "id", rules->id, "dialects",
							   rules->dialects, "severity", migrate_lint_severity_name(rules->severity),
							   "summary", rules->summary, "fix", rules->fix));
		json_object_set_new(o->doc, "rules", a);
		return;
	}
	for (; rules->id; rules++)
		printf("%-37s %-16s %-8s %s\n", rules->id, rules->dialects, migrate_lint_severity_name(rules->severity),
		       rules->summary);
}

/* ---- drift ---------------------------------------------------------------------- */

void output_drift(struct output *o, const struct migrate_drift_report *rep, enum migrate_result r)
{
	size_t i;

	if (!rep)
		return;
	if (o->json) {
		json_t *a = json_array();

		json_object_set_new(o->doc, "database", json_string(rep->database));
		json_object_set_new(o->doc, "applied", json_integer((json_int_t)rep->applied));
		json_object_set_new(o->doc, "replayed", json_integer((json_int_t)rep->replayed));
		json_object_set_new(o->doc, "template", jstr(rep->template_name));
		for (i = 0; i < rep->n; i++) {
			const struct migrate_drift_item *it = &rep->items[i];
			json_t *d = json_object();
			json_object_set_new(d, "kind", json_string(migrate_drift_kind_name(it->kind)));
			json_object_set_new(d, "object", json_string(it->object));
			json_object_set_new(d, "name", json_string(it->name));
			json_object_set_new(d, "expected", jstr(it->expected));
			json_object_set_new(d, "actual", jstr(it->actual));
			json_array_append_new(a, d);
		}
		json_object_set_new(o->doc, "differences", a);
		return;
	}
	/* the differences are the command's result: on stdout even when they fail it */
	for (i = 0; i < rep->n; i++) {
		const struct migrate_drift_item *it = &rep->items[i];
		const char *color = it->kind == MIGRATE_DRIFT_MISSING ? RED : it->kind == MIGRATE_DRIFT_EXTRA ? YELLOW : BOLD;
		printf("%s%-8s%s %s '%s'", paint(o->color_out, color), migrate_drift_kind_name(it->kind),
		       paint(o->color_out, RESET), it->object, it->name);
		if (it->kind == MIGRATE_DRIFT_CHANGED)
			printf(": migrations make '%s', the database has '%s'", it->expected, it->actual);
		else if (strcmp(it->object, "constraint") == 0)
			printf(": '%s'", it->expected ? it->expected : it->actual);
		putchar('\n');
	}
	if (r == MIGRATE_OK && rep->template_name)
		output_line(o, "no drift: %s matches its %zu applied migration%s (cloned template %s)", rep->database,
			    rep->applied, rep->applied == 1 ? "" : "s", rep->template_name);
	else if (r == MIGRATE_OK)
		output_line(o, "no drift: %s matches its %zu applied migration%s (replayed %zu migration%s)",
			    rep->database, rep->applied, rep->applied == 1 ? "" : "s", rep->replayed,
			    rep->replayed == 1 ? "" : "s");
}

/* ---- fleets ---------------------------------------------------------------------- */

void output_fleet_begin(struct output *o, const char *command, const char *targets)
{
	output_begin(o, command);
	o->events_key = NULL;
	if (o->json) {
		json_object_set_new(o->doc, "targets_name", json_string(targets));
		json_object_set_new(o->doc, "targets", json_array());
	}
}

void output_fleet_event(void *ctx, const struct migrate_fleet_result *t, const struct migrate_event *ev)
{
	struct output *o = ctx;
	static const char *const kinds[] = {
		[MIGRATE_EVENT_APPLYING] = "applying", [MIGRATE_EVENT_APPLIED] = "applied",
		[MIGRATE_EVENT_ROLLING_BACK] = "rolling_back", [MIGRATE_EVENT_ROLLED_BACK] = "rolled_back",
		[MIGRATE_EVENT_SEEDING] = "seeding", [MIGRATE_EVENT_SEEDED] = "seeded",
		[MIGRATE_EVENT_WARNING] = "warning", [MIGRATE_EVENT_NOTICE] = "notice",
		[MIGRATE_EVENT_SQL] = "sql", [MIGRATE_EVENT_BASELINED] = "baselined",
		[MIGRATE_EVENT_PROGRESS] = "progress", [MIGRATE_EVENT_PROBLEM] = "problem",
	};
	const char *kind = (size_t)ev->kind < sizeof(kinds) / sizeof(kinds[0]) ? kinds[ev->kind] : "event";

	if (ev->kind == MIGRATE_EVENT_APPLYING || ev->kind == MIGRATE_EVENT_SEEDING ||
	    ev->kind == MIGRATE_EVENT_ROLLING_BACK || ev->kind == MIGRATE_EVENT_PROGRESS)
		return;
	if (o->json) {
		json_t *e = json_object();
		if (!o->events)
			o->events = json_array();
		json_object_set_new(e, "event", json_string(kind));
		json_object_set_new(e, "version", jstr(ev->version));
		json_object_set_new(e, "name", jstr(ev->name));
		json_object_set_new(e, "message", jstr(ev->message));
		if (ev->kind == MIGRATE_EVENT_APPLIED || ev->kind == MIGRATE_EVENT_SEEDED ||
		    ev->kind == MIGRATE_EVENT_ROLLED_BACK)
			json_object_set_new(e, "duration_ms", json_integer(ev->duration_ms));
		json_array_append_new(o->events, e);
		return;
	}
	/* text: one line per target; warnings (to stderr) and, with -v, what each did */
	if (ev->kind == MIGRATE_EVENT_WARNING && !o->quiet)
		fprintf(stderr, "%smigrate: warning:%s %s: %s\n", paint(o->color_err, YELLOW),
			paint(o->color_err, RESET), t->target, ev->message ? ev->message : "");
	else if (o->verbose && !o->quiet && ev->kind == MIGRATE_EVENT_SQL)
		printf("  %s: %s\n", t->target, ev->message ? ev->message : "");
	else if (o->verbose && !o->quiet && ev->kind == MIGRATE_EVENT_PROBLEM)
		printf("  %s: %s%s%s\n", t->target, ev->version ? ev->version : "", ev->version ? " " : "",
		       ev->message ? ev->message : "");
	else if (o->verbose && !o->quiet)
		printf("  %s: %s%s%s%s%s%s\n", t->target, kind, ev->version ? " " : "", ev->version ? ev->version : "",
		       ev->name ? " " : "", ev->name ? ev->name : "", ev->message && !ev->version ? ": " : "");
}

void output_fleet_result(struct output *o, const struct migrate_fleet_result *res)
{
	if (o->json) {
		json_t *t = json_object();
		json_object_set_new(t, "index", json_integer((json_int_t)res->index));
		json_object_set_new(t, "target", json_string(res->target));
		json_object_set_new(t, "result", json_string(!res->ran ? "skipped" : res->code ? "failed" : "ok"));
		json_object_set_new(t, "exit", json_integer(res->code));
		json_object_set_new(t, "summary", jstr(res->summary));
		json_object_set_new(t, "error", jstr(res->error));
		json_object_set_new(t, "duration_ms", json_integer(res->duration_ms));
		if (res->ran && res->code != MIGRATE_EUSAGE && res->code != MIGRATE_ECONNECT)
			json_object_set_new(t, "current", jstr(res->current));
		if (o->doc && json_object_get(o->doc, "command") && res->ran) {
			const char *cmd = json_string_value(json_object_get(o->doc, "command"));
			if (strcmp(cmd, "status") == 0) {
				json_object_set_new(t, "applied", json_integer(res->applied));
				json_object_set_new(t, "pending", json_integer(res->pending));
			} else if (strcmp(cmd, "lint") == 0) {
				json_object_set_new(t, "errors", json_integer(res->applied));
				json_object_set_new(t, "warnings", json_integer(res->pending));
			}
		}
		json_object_set_new(t, "events", o->events ? o->events : json_array());
		o->events = NULL;
		json_array_append_new(json_object_get(o->doc, "targets"), t);
		return;
	}
	if (o->quiet && res->code == MIGRATE_OK)
		return;
	if (!res->ran)
		printf("%sskipped%s  %s: %s\n", paint(o->color_out, DIM), paint(o->color_out, RESET), res->target,
		       res->summary ? res->summary : "");
	else if (res->code == MIGRATE_OK)
		printf("%sok%s       %s: %s (%lld ms)\n", paint(o->color_out, GREEN), paint(o->color_out, RESET),
		       res->target, res->summary ? res->summary : "", res->duration_ms);
	else {
		/* the error names the target; the line already does */
		const char *msg = res->summary ? res->summary : res->error ? res->error : "";
		size_t tl = strlen(res->target);
		if (!res->summary && strncmp(msg, res->target, tl) == 0 && strncmp(msg + tl, ": ", 2) == 0)
			msg += tl + 2;
		printf("%sfailed%s   %s: exit %d: %s\n", paint(o->color_out, RED), paint(o->color_out, RESET),
		       res->target, res->code, msg);
	}
	fflush(stdout);
}

void output_fleet_end(struct output *o, size_t ok, size_t failed, size_t skipped, enum migrate_result worst)
{
	if (o->json) {
		json_object_set_new(o->doc, "summary", json_pack("{s:i,s:i,s:i,s:i,s:i}", "targets",
								 (int)(ok + failed + skipped), "ok", (int)ok, "failed",
								 (int)failed, "skipped", (int)skipped, "exit", (int)worst));
		output_end(o, worst);
		return;
	}
	if (!o->quiet || worst)
		printf("%zu target%s: %zu ok, %zu failed, %zu skipped\n", ok + failed + skipped,
		       ok + failed + skipped == 1 ? "" : "s", ok, failed, skipped);
}
