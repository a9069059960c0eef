/*
 * drivers.c - the list of drivers this build has, and helpers every driver
 * shares. A driver is compiled in when its HAVE_* macro is defined by the
 * Makefile (it is, whenever its client library is found).
 */
#include "driver.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../migrate/util.h"

extern const struct driver sqlite_driver;
#ifdef HAVE_POSTGRES
extern const struct driver postgres_driver;
#endif
#ifdef HAVE_MYSQL
extern const struct driver mysql_driver;
#endif

const struct driver *const driver_list[] = {
	&sqlite_driver,
#ifdef HAVE_POSTGRES
	&postgres_driver,
#endif
#ifdef HAVE_MYSQL
	&mysql_driver,
#endif
	NULL,
};

const struct driver *driver_find(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	if (strcmp(name, "postgresql") == 0)
		name = "postgres";
	else if (strcmp(name, "mariadb") == 0)
		name = "mysql";
	else if (strcmp(name, "sqlite3") == 0)
		name = "sqlite";
	for (i = 0; driver_list[i]; i++)
		if (strcmp(driver_list[i]->name, name) == 0)
			return driver_list[i];
	return NULL;
}

void driver_error_set(struct driver_error *err, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	/* Database messages end in newlines and sometimes span lines; keep one. */
	n = strlen(err->message);
	while (n > 0 && (err->message[n - 1] == '\n' || err->message[n - 1] == ' '))
		err->message[--n] = '\0';
	err->offset = -1;
}

/* ---- schema dump helpers (see driver.h) ---- */

int dump_rows_add(void *ctx, int ncols, const char *const *values)
{
	struct dump_rows *r = ctx;
	size_t i;

	if (r->n == 0 && r->ncols == 0)
		r->ncols = (size_t)ncols;
	xgrow(&r->v, &r->cap, (r->n + 1) * r->ncols, sizeof(*r->v));
	for (i = 0; i < r->ncols; i++)
		r->v[r->n * r->ncols + i] = i < (size_t)ncols ? xstrdup(values[i]) : NULL;
	r->n++;
	return 0;
}

const char *dump_cell(const struct dump_rows *r, size_t row, size_t col)
{
	const char *s = r->v[row * r->ncols + col];

	return s ? s : "";
}

void dump_rows_release(struct dump_rows *r)
{
	size_t i;

	for (i = 0; i < r->n * r->ncols; i++)
		free(r->v[i]);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

void dump_lines_addf(struct dump_lines *l, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	xgrow(&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = strbuf_detach(&sb);
}

static int dump_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void dump_lines_sort(struct dump_lines *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), dump_cmp);
}

void dump_lines_release(struct dump_lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int dump_skipped(const char *const *skip, const char *name)
{
	for (; skip && *skip; skip++)
		if (strcmp(*skip, name) == 0)
			return 1;
	return 0;
}

char *dump_oneline(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	int space = 0;

	for (; s && *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
			space = 1;
			continue;
		}
		if (space && sb.len)
			strbuf_addch(&sb, ' ');
		space = 0;
		strbuf_addch(&sb, *s);
	}
	return strbuf_detach(&sb);
}
