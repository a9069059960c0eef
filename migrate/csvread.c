/*
 * csvread.c - streaming CSV records with their file lines (see csvread.h).
 *
 * libcsv parses what it is given and calls back per field and per record,
 * but knows nothing of lines. So the file is fed to it one line at a time
 * (split with memchr inside large blocks): a record that starts while the
 * parser is between records starts on the line being fed, and one that is
 * still open (a quoted line break) carries its first line along.
 */
#define _POSIX_C_SOURCE 200809L
#include "csvread.h"

#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

#define CSVREAD_BLOCK (256u << 10)

struct reader {
	csvread_row_fn row;
	void *ctx;
	/* the record being built: fields copied into one buffer */
	char *buf;
	size_t len, cap;
	size_t *offs, *lens;
	char **fields;
	unsigned char *null;
	size_t n, fcap;
	long line;       /* the line being fed */
	long start;      /* the line the current record started on */
	int stopped;     /* the row callback's result, or -1 for a bad field */
	char *msg;
	size_t msglen;
	long errline;
};

int csvread_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str, *end = s + len;

	while (s < end) {
		unsigned c = *s;
		size_t n, i;
		unsigned long cp;

		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if ((size_t)(end - s) <= n)
			return 0;
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		/* overlong forms, surrogates, beyond U+10FFFF */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		s += n + 1;
	}
	return 1;
}

/* Is the field free of NUL bytes and valid UTF-8? ASCII, the common case, in one pass. */
static int field_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0)
			return 0;
		if (c >= 0x80)
			return !memchr(s + i, '\0', len - i) && csvread_utf8_valid(s + i, len - i);
	}
	return 1;
}

static void on_field(void *s, size_t len, void *data)
{
	struct reader *r = data;

	if (r->stopped)
		return;
	if (s && !field_ok(s, len)) {
		snprintf(r->msg, r->msglen, "line %ld: field %zu %s", r->start, r->n + 1,
			 memchr(s, '\0', len) ? "holds a NUL byte" : "is not valid UTF-8");
		r->errline = r->start;
		r->stopped = -1;
		return;
	}
	if (r->n + 1 > r->fcap) {
		xgrow(&r->offs, &r->fcap, r->n + 1, sizeof(*r->offs));
		r->lens = xrealloc(r->lens, r->fcap * sizeof(*r->lens));
		r->fields = xrealloc(r->fields, r->fcap * sizeof(*r->fields));
		r->null = xrealloc(r->null, r->fcap);
	}
	if (r->len + len + 1 > r->cap) {
		r->cap = (r->len + len + 1) * 2;
		r->buf = xrealloc(r->buf, r->cap);
	}
	r->offs[r->n] = r->len;
	r->lens[r->n] = len;
	r->null[r->n] = s == NULL;
	if (len)
		memcpy(r->buf + r->len, s, len);
	r->buf[r->len + len] = '\0';
	r->len += len + 1;
	r->n++;
}

static void on_record(int term, void *data)
{
	struct reader *r = data;
	size_t i;

	(void)term;
	if (!r->stopped) {
		for (i = 0; i < r->n; i++)
			r->fields[i] = r->null[i] ? NULL : r->buf + r->offs[i];
		r->stopped = r->row(r->ctx, r->start, r->n, r->fields, r->lens);
	}
	r->n = 0;
	r->len = 0;
}

/* Spaces are data in PostgreSQL's CSV: libcsv must trim nothing. */
static int no_space(unsigned char c)
{
	(void)c;
	return 0;
}

/* Feeds one line (or the tail of the file) to the parser. */
static int feed(struct csv_parser *p, struct reader *r, const char *s, size_t len)
{
	if (p->pstate == 0) /* ROW_NOT_BEGUN: a record starting here starts on this line */
		r->start = r->line;
	if (csv_parse(p, s, len, on_field, on_record, r) != len) {
		snprintf(r->msg, r->msglen,
			 "line %ld: malformed CSV: a quote inside an unquoted field, or text after a closing quote (inside a quoted field, write a quote as \"\")",
			 r->line);
		r->errline = r->line;
		return -1;
	}
	if (r->stopped)
		return r->stopped;
	if (csv_get_buffer_size(p) > CSVREAD_MAX_FIELD) {
		snprintf(r->msg, r->msglen, "line %ld: a field longer than %u MiB: is a quote not closed?",
			 r->start, CSVREAD_MAX_FIELD >> 20);
		r->errline = r->start;
		return -1;
	}
	return 0;
}

int csvread_file(const char *path, csvread_row_fn row, csvread_progress_fn progress, void *ctx,
		 long *errline, char *msg, size_t msglen)
{
	struct csv_parser p;
	struct reader r;
	struct stat st;
	char *block;
	long long done = 0, total = 0;
	size_t n;
	int res = 0, first = 1;
	FILE *f;

	*errline = 0;
	msg[0] = '\0';
	f = fopen(path, "rb");
	if (!f) {
		snprintf(msg, msglen, "cannot read: %s", strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) == 0)
		total = (long long)st.st_size;
	memset(&r, 0, sizeof(r));
	r.row = row;
	r.ctx = ctx;
	r.line = 1;
	r.start = 1;
	r.msg = msg;
	r.msglen = msglen;
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL)) {
		fclose(f);
		snprintf(msg, msglen, "cannot start the CSV parser");
		return -1;
	}
	csv_set_space_func(&p, no_space);
	/* records end at LF or CR: libcsv's own terminators, without a call per byte */
	block = xmalloc(CSVREAD_BLOCK);
	while (!res && (n = fread(block, 1, CSVREAD_BLOCK, f)) > 0) {
		const char *s = block, *end = block + n;

		if (first && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
			s += 3;
		first = 0;
		while (!res && s < end) {
			const char *nl = memchr(s, '\n', (size_t)(end - s));
			size_t len = nl ? (size_t)(nl - s) + 1 : (size_t)(end - s);

			res = feed(&p, &r, s, len);
			s += len;
			if (nl)
				r.line++;
		}
		done += (long long)n;
		if (!res && progress)
			progress(ctx, done, total);
	}
	if (!res && ferror(f)) {
		snprintf(msg, msglen, "cannot read: %s", strerror(errno));
		res = -1;
	}
	if (!res) {
		if (p.pstate == 0)
			r.start = r.line;
		if (csv_fini(&p, on_field, on_record, &r) != 0) {
			snprintf(msg, msglen, "line %ld: a quoted field is never closed (the file ends inside it)",
				 r.start);
			r.errline = r.start;
			res = -1;
		} else if (r.stopped) {
			res = r.stopped;
		}
	}
	*errline = r.errline;
	csv_free(&p);
	free(block);
	free(r.buf);
	free(r.offs);
	free(r.lens);
	free(r.fields);
	free(r.null);
	fclose(f);
	return res;
}
