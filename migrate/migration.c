/*
 * migration.c - reading and checking migration and seed files (see migration.h).
 *
 * Divisions: names and versions; marker lines; parsing one file; scanning a
 * directory.
 */
#define _POSIX_C_SOURCE 200809L
#include "migration.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "error.h"
#include "sqllex.h"
#include "util.h"

/* ---- names and versions ------------------------------------------------ */

/*
 * The parts of a version: numbers separated by single dots. Returns the
 * number of parts, or 0 when s[0..len) is not a version.
 */
static size_t version_parts(const char *s, size_t len)
{
	size_t i, parts = 1, run = 0;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (run == 0)
				return 0;
			parts++;
			run = 0;
		} else if (s[i] >= '0' && s[i] <= '9') {
			run++;
		} else {
			return 0;
		}
	}
	return run ? parts : 0;
}

int version_valid(const char *s, size_t len)
{
	return version_parts(s, len) > 0;
}

/* The next part of a version at *s (*len left): its digits without leading zeros; "0" when none is left. */
static void version_next(const char **s, size_t *len, const char **part, size_t *plen)
{
	size_t n = 0;

	if (*len == 0) {
		*part = "0";
		*plen = 1;
		return;
	}
	while (n < *len && (*s)[n] != '.')
		n++;
	*part = *s;
	*plen = n;
	while (*plen > 1 && **part == '0')
		(*part)++, (*plen)--;
	*s += n < *len ? n + 1 : n;
	*len -= n < *len ? n + 1 : n;
}

char *version_canonical(const char *s, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	size_t keep = 0, parts = version_parts(s, len), i;

	if (!parts)
		return NULL;
	/* trailing zero parts go (1.0 is 1, as in Flyway), the first part stays */
	{
		const char *p = s, *part;
		size_t left = len, plen;
		for (i = 0; i < parts; i++) {
			version_next(&p, &left, &part, &plen);
			if (i == 0 || !(plen == 1 && *part == '0'))
				keep = i + 1;
		}
		p = s, left = len;
		for (i = 0; i < keep; i++) {
			version_next(&p, &left, &part, &plen);
			strbuf_addf(&sb, "%s%.*s", i ? "." : "", (int)plen, part);
		}
	}
	return strbuf_detach(&sb);
}

int version_cmpn(const char *a, size_t la, const char *b, size_t lb)
{
	while (la || lb) {
		const char *pa, *pb;
		size_t na, nb;
		int c;

		version_next(&a, &la, &pa, &na);
		version_next(&b, &lb, &pb, &nb);
		if (na != nb)
			return na < nb ? -1 : 1;
		c = memcmp(pa, pb, na);
		if (c)
			return c < 0 ? -1 : 1;
	}
	return 0;
}

int version_cmp(const char *a, const char *b)
{
	return version_cmpn(a, strlen(a), b, strlen(b));
}

int migration_name_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '_' || s[i] == '-' || s[i] == '.'))
			return 0;
	return 1;
}

char *migration_down_text(const struct migration *m)
{
	if (!m->down.present)
		return NULL;
	return xasprintf("-- migrate:down%s%s\n%.*s", m->down.transaction ? "" : " transaction:false",
			 m->down.nothing ? " nothing" : "", (int)m->down.len, m->text + m->down.off);
}

void migration_release(struct migration *m)
{
	if (!m)
		return;
	free(m->up.path);
	free(m->up.blocks);
	free(m->down.path);
	free(m->down.blocks);
	free(m->version);
	free(m->name);
	free(m->filename);
	free(m->path);
	free(m->text);
	memset(m, 0, sizeof(*m));
}

void migration_set_release(struct migration_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		migration_release(&s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

struct migration *migration_find(const struct migration_set *s, const char *version)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (version_cmp(s->v[i].version, version) == 0)
			return &s->v[i];
	return NULL;
}

/* ---- marker lines ------------------------------------------------------- */

enum { SEC_UP, SEC_DOWN };
#define NDIALECTS 4 /* generic, sqlite, postgres, mysql */

struct marker {
	int kind;        /* SEC_UP or SEC_DOWN */
	int dialect;     /* 0 generic, 1 + enum sql_dialect */
	int transaction;
	int nothing;
	long long lock_wait_ms, statement_timeout_ms; /* -1: not given */
	int retries;
	int line;
	size_t body;     /* offset of the line after the marker */
	size_t end;      /* offset of the marker line itself */
};

static int dialect_index(const char *w, size_t n)
{
	static const struct { const char *name; int idx; } names[] = {
		{ "sqlite", 1 + SQL_DIALECT_SQLITE },     { "sqlite3", 1 + SQL_DIALECT_SQLITE },
		{ "postgres", 1 + SQL_DIALECT_POSTGRES }, { "postgresql", 1 + SQL_DIALECT_POSTGRES },
		{ "mysql", 1 + SQL_DIALECT_MYSQL },       { "mariadb", 1 + SQL_DIALECT_MYSQL },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == n && strncmp(names[i].name, w, n) == 0)
			return names[i].idx;
	return -1;
}

/*
 * A marker word key:value for the limits of SPEC section 9 (lock_wait:10s,
 * retries:0, statement_timeout:1m)? Returns 1 when the word is one, with
 * *bad set and msg filled when its value is not valid; 0 otherwise.
 */
static int parse_limit(const char *w, size_t n, struct marker *mk, char *msg, size_t msglen, int *bad)
{
	static const char *const keys[] = { "lock_wait:", "retries:", "statement_timeout:" };
	size_t k, kl, i;
	long long v = 0;

	*bad = 0;
	for (k = 0; k < 3; k++) {
		kl = strlen(keys[k]);
		if (n >= kl && strncmp(w, keys[k], kl) == 0)
			break;
	}
	if (k == 3)
		return 0;
	if (k == 1) {
		*bad = n == kl || n - kl > 4;
		for (i = kl; i < n && !*bad; i++)
			if (w[i] < '0' || w[i] > '9')
				*bad = 1;
			else
				v = v * 10 + (w[i] - '0');
		*bad = *bad || v > 1000;
		if (!*bad)
			mk->retries = (int)v;
	} else {
		*bad = parse_duration_ms(w + kl, n - kl, &v) != 0;
		if (!*bad)
			*(k == 0 ? &mk->lock_wait_ms : &mk->statement_timeout_ms) = v;
	}
	if (*bad)
		snprintf(msg, msglen, "malformed marker: %.*s '%.*s' is not %s", (int)(kl - 1), w,
			 (int)(n - kl > 40 ? 40 : n - kl), w + kl,
			 k == 1 ? "a number of retries from 0 to 1000"
				: "a duration such as 3s, 500ms or 2m (0: no limit)");
	return 1;
}

/*
 * Is the line at s[0..n) a marker? Returns 0 (not one), 1 (filled mk), or
 * -1 with a message (a line that claims to be a marker but is malformed).
 */
static int parse_marker(const char *s, size_t n, struct marker *mk, char *msg, size_t msglen)
{
	size_t i = 0, j;
	int bad = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (n - i < 2 || s[i] != '-' || s[i + 1] != '-')
		return 0;
	i += 2;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (n - i < 8 || strncasecmp(s + i, "migrate:", 8) != 0)
		return 0;
	i += 8;
	j = i;
	while (j < n && !isspace((unsigned char)s[j]))
		j++;
	if (j - i == 4 && strncmp(s + i, "lint", 4) == 0)
		return 0; /* "-- migrate:lint ignore ...": a comment for lint (lint.c), not a marker */
	if (j - i == 2 && strncmp(s + i, "up", 2) == 0) {
		mk->kind = SEC_UP;
	} else if (j - i == 4 && strncmp(s + i, "down", 4) == 0) {
		mk->kind = SEC_DOWN;
	} else {
		snprintf(msg, msglen, "malformed marker '%.*s': expected '-- migrate:up' or '-- migrate:down'",
			 (int)(j > i + 40 ? 40 : j - i + 8), s + i - 8);
		return -1;
	}
	mk->dialect = 0;
	mk->transaction = 1;
	mk->nothing = 0;
	mk->lock_wait_ms = mk->statement_timeout_ms = -1;
	mk->retries = -1;
	for (i = j;;) {
		while (i < n && isspace((unsigned char)s[i]))
			i++;
		if (i >= n)
			break;
		j = i;
		while (j < n && !isspace((unsigned char)s[j]))
			j++;
		if (j - i == 17 && strncmp(s + i, "transaction:false", 17) == 0) {
			mk->transaction = 0;
		} else if (j - i == 16 && strncmp(s + i, "transaction:true", 16) == 0) {
			mk->transaction = 1;
		} else if (j - i == 7 && strncmp(s + i, "nothing", 7) == 0) {
			if (mk->kind != SEC_DOWN) {
				snprintf(msg, msglen,
					 "malformed marker: 'nothing' is an option of '-- migrate:down' (nothing to undo on that database), not of '-- migrate:up'");
				return -1;
			}
			mk->nothing = 1;
		} else if (parse_limit(s + i, j - i, mk, msg, msglen, &bad)) {
			if (bad)
				return -1;
		} else if (dialect_index(s + i, j - i) > 0 && mk->dialect == 0) {
			mk->dialect = dialect_index(s + i, j - i);
		} else {
			snprintf(msg, msglen,
				 "malformed marker: unknown word '%.*s' (expected a dialect: "
				 "postgres, mysql, sqlite; transaction:false; lock_wait:, retries: or statement_timeout:; "
				 "or, on a down marker, nothing)",
				 (int)(j - i > 60 ? 60 : j - i), s + i);
			return -1;
		}
		i = j;
	}
	return 1;
}

/* ---- parsing one file ------------------------------------------------------ */

/*
 * Line endings. The text that runs is the file's bytes, except that CRLF
 * becomes LF where the database's own client does that (the sqlite3 shell
 * and the mysql client read lines and drop the CR; psql keeps it): a lone
 * CR inside a string literal is data, stored as CR by every client. Only the
 * checksum sees every line ending (CRLF, lone CR) as LF. For the markers and
 * line numbers, CRLF, LF and a lone CR each end a line, as they always did.
 */
static size_t crlf_to_lf(char *s, size_t len)
{
	size_t r, w = 0;

	for (r = 0; r < len; r++) {
		if (s[r] == '\r' && r + 1 < len && s[r + 1] == '\n')
			continue;
		s[w++] = s[r];
	}
	s[w] = '\0';
	return w;
}

/* SHA-256 of s with CRLF and lone CR read as LF. */
static void checksum_normalised(const char *s, size_t len, char out[65])
{
	char *copy = xmalloc(len + 1);
	size_t r, w = 0;

	for (r = 0; r < len; r++) {
		if (s[r] == '\r') {
			copy[w++] = '\n';
			if (r + 1 < len && s[r + 1] == '\n')
				r++;
		} else {
			copy[w++] = s[r];
		}
	}
	sha256_hex(copy, w, out);
	free(copy);
}

/* The end of the line at pos (LF, CRLF or a lone CR, or len); *next is where the next line starts. */
static size_t line_end(const char *s, size_t pos, size_t len, size_t *next)
{
	size_t i;

	for (i = pos; i < len; i++) {
		if (s[i] == '\n') {
			*next = i + 1;
			return i;
		}
		if (s[i] == '\r') {
			*next = i + 1 < len && s[i + 1] == '\n' ? i + 2 : i + 1;
			return i;
		}
	}
	*next = len;
	return len;
}

/* A UTF-8 byte-order mark, which editors on Windows put first: not part of the SQL. */
static size_t bom_len(const char *s, size_t len)
{
	return len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

size_t migration_text_prepare(char *s, size_t len, enum sql_dialect dialect)
{
	return dialect == SQL_DIALECT_POSTGRES ? len : crlf_to_lf(s, len);
}

size_t migration_bom_len(const char *s, size_t len)
{
	return bom_len(s, len);
}

static const char *section_label(int kind)
{
	return kind == SEC_UP ? "up" : "down";
}

static enum migrate_result checksum_sections(struct migration *m, const char *path,
					     enum sql_dialect dialect, struct migrate_error *err);

int section_split(const char *text, const struct section *sec, enum sql_dialect dialect,
		  struct sql_stmts *out, struct strbuf *norm, char *errbuf, size_t errlen)
{
	struct sql_stmts tmp = { NULL, 0, 0 };
	size_t at = sec->off, end = sec->off + sec->len, i, b, from;
	int line = sec->line;

	if (!sec->nblocks)
		return sqllex_split(text + sec->off, sec->len, dialect, sec->line, out, norm, errbuf, errlen);
	for (b = 0; b <= sec->nblocks; b++) {
		const struct section_block *blk = b < sec->nblocks ? &sec->blocks[b] : NULL;
		size_t stop = blk ? blk->off : end;

		/* the text between blocks, split as usual */
		from = out->n;
		if (stop > at && sqllex_split(text + at, stop - at, dialect, line, out, norm, errbuf, errlen))
			return -1;
		for (i = from; i < out->n; i++)
			out->v[i].off += at - sec->off;
		if (!blk)
			break;
		/* the block, one statement; its normal form is still the lexer's */
		if (norm && sqllex_split(text + blk->off, blk->len, dialect, blk->line, &tmp, norm, errbuf, errlen)) {
			sql_stmts_release(&tmp);
			return -1;
		}
		tmp.n = 0;
		xgrow(&out->v, &out->cap, out->n + 1, sizeof(*out->v));
		out->v[out->n].off = blk->off - sec->off;
		out->v[out->n].len = blk->len;
		out->v[out->n].line = blk->line;
		out->n++;
		for (i = at; i < blk->off + blk->len; i++)
			line += text[i] == '\n';
		at = blk->off + blk->len;
	}
	sql_stmts_release(&tmp);
	return 0;
}

enum migrate_result migration_checksums(struct migration *m, const char *path,
					enum sql_dialect dialect, struct migrate_error *err)
{
	checksum_normalised(m->text, m->len, m->checksum);
	return checksum_sections(m, path, dialect, err);
}

static enum migrate_result checksum_sections(struct migration *m, const char *path,
					     enum sql_dialect dialect, struct migrate_error *err)
{
	struct strbuf norm = STRBUF_INIT;
	struct sql_stmts stmts = { NULL, 0, 0 };
	const struct section *secs[2] = { &m->up, &m->down };
	char msg[256];
	int k;

	for (k = 0; k < 2; k++) {
		const struct section *sec = secs[k];
		if (!sec->present)
			continue;
		strbuf_addf(&norm, "-- %s%s%s\n", section_label(k), sec->transaction ? "" : " transaction:false",
			    sec->nothing ? " nothing" : "");
		if (section_split(m->text, sec, dialect, &stmts, &norm, msg, sizeof(msg))) {
			strbuf_release(&norm);
			sql_stmts_release(&stmts);
			/* msg is "line N: what"; make it "path:N: what" */
			return merr_set(err, MIGRATE_EUSAGE, "%s:%s", sec->path ? sec->path : path, msg + 5);
		}
		stmts.n = 0;
	}
	sha256_hex(norm.buf ? norm.buf : "", norm.len, m->checksum_sql);
	strbuf_release(&norm);
	sql_stmts_release(&stmts);
	return MIGRATE_OK;
}

/* The 1-based line of offset at in text. */
static int line_of(const char *text, size_t at)
{
	int line = 1;
	size_t i;

	for (i = 0; i < at; i++)
		line += text[i] == '\n';
	return line;
}

enum migrate_result migration_parse(struct migration *m, const char *path, char *text,
				    size_t len, enum sql_dialect dialect, const char *dialect_name,
				    int is_seed, struct migrate_error *err)
{
	struct marker found[2][NDIALECTS];
	int have[2][NDIALECTS];
	struct marker mk, *prev = NULL;
	size_t pos = 0;
	int line = 1, any = 0, want = 1 + (int)dialect, k, other;
	char msg[256];

	memset(have, 0, sizeof(have));
	m->text = text;
	if (memchr(text, '\0', len)) {
		merr_set(err, MIGRATE_EUSAGE, "%s: holds a NUL byte; a migration must be a text file", path);
		goto fail;
	}
	m->len = dialect == SQL_DIALECT_POSTGRES ? len : crlf_to_lf(text, len);
	checksum_normalised(m->text, m->len, m->checksum);
	pos = bom_len(m->text, m->len);

	while (pos < m->len) {
		size_t next, eol = line_end(m->text, pos, m->len, &next);
		int r = parse_marker(m->text + pos, eol - pos, &mk, msg, sizeof(msg));

		if (r < 0) {
			merr_set(err, MIGRATE_EUSAGE, "%s:%d: %s", path, line, msg);
			goto fail;
		}
		if (r > 0) {
			mk.line = line;
			mk.end = pos;
			mk.body = next;
			if (have[mk.kind][mk.dialect]) {
				merr_set(err, MIGRATE_EUSAGE,
					 "%s:%d: a second '-- migrate:%s%s%s' section (the first is at line %d)",
					 path, line, section_label(mk.kind), mk.dialect ? " " : "",
					 mk.dialect ? (mk.dialect == 1 ? "sqlite" : mk.dialect == 2 ? "postgres" : "mysql") : "",
					 found[mk.kind][mk.dialect].line);
				goto fail;
			}
			if (prev)
				prev->end = pos;
			have[mk.kind][mk.dialect] = 1;
			found[mk.kind][mk.dialect] = mk;
			prev = &found[mk.kind][mk.dialect];
			prev->end = m->len;
			any = 1;
		}
		pos = next;
		line++;
	}

	/* a 'nothing' section says there is nothing to run: any text in it is a mistake, on any database */
	for (k = 0; k < NDIALECTS; k++) {
		const struct marker *f = &found[SEC_DOWN][k];
		size_t at;
		if (!have[SEC_DOWN][k] || !f->nothing)
			continue;
		for (at = f->body; at < f->end && isspace((unsigned char)m->text[at]); at++)
			;
		if (at < f->end) {
			merr_set(err, MIGRATE_EUSAGE,
				 "%s:%d: text in a 'nothing' down section (its marker is line %d): 'nothing' says there is nothing to undo, so the section must be empty; remove the text, or the word 'nothing' to run it",
				 path, line_of(m->text, at), f->line);
			goto fail;
		}
	}
	if (!any && is_seed) {
		/* a seed without markers is one up section */
		m->up.present = 1;
		m->up.transaction = 1;
		m->up.off = bom_len(m->text, m->len);
		m->up.len = m->len - m->up.off;
		m->up.line = 1;
		m->up.lock_wait_ms = m->up.statement_timeout_ms = -1;
		m->up.retries = -1;
	} else {
		for (k = 0; k < 2; k++) {
			struct section *sec = k == SEC_UP ? &m->up : &m->down;
			const struct marker *f = have[k][want] ? &found[k][want] : have[k][0] ? &found[k][0] : NULL;
			if (!f)
				continue;
			sec->present = 1;
			sec->transaction = f->transaction;
			sec->nothing = f->nothing;
			sec->lock_wait_ms = f->lock_wait_ms;
			sec->retries = f->retries;
			sec->statement_timeout_ms = f->statement_timeout_ms;
			sec->given = (f->lock_wait_ms >= 0 ? SECTION_GIVES_LOCK_WAIT : 0) |
				     (f->retries >= 0 ? SECTION_GIVES_RETRIES : 0) |
				     (f->statement_timeout_ms >= 0 ? SECTION_GIVES_STATEMENT_TIMEOUT : 0);
			sec->off = f->body;
			sec->len = f->end > f->body ? f->end - f->body : 0;
			sec->line = f->line + 1;
		}
	}
	if (!m->up.present) {
		for (other = 1; other < NDIALECTS; other++)
			if (have[SEC_UP][other])
				break;
		if (other < NDIALECTS)
			merr_set(err, MIGRATE_EUSAGE,
				 "%s: no '-- migrate:up' section for %s (only for other databases); add a generic '-- migrate:up' or a '-- migrate:up %s' section",
				 path, dialect_name, dialect_name);
		else
			merr_set(err, MIGRATE_EUSAGE,
				 "%s: no '-- migrate:up' section; a migration needs one (see 'migrate new')", path);
		goto fail;
	}
	if (checksum_sections(m, path, dialect, err))
		goto fail;
	return MIGRATE_OK;
fail:
	free(m->text);
	m->text = NULL;
	return err ? err->code : MIGRATE_EUSAGE;
}

/* ---- scanning a directory ------------------------------------------------- */

static int cmp_migration(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;
	int c = version_cmp(x->version, y->version);

	return c ? c : strcmp(x->filename, y->filename);
}

static int ends_with_ci(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

int migration_ignored(const char *ignore, const char *fn)
{
	const char *p = ignore;

	while (p && *p) {
		size_t n;
		char *pat;
		int hit;

		p += strspn(p, " \t\r\n");
		n = strcspn(p, " \t\r\n");
		if (n == 0)
			break;
		pat = xstrndup(p, n);
		hit = fnmatch(pat, fn, 0) == 0;
		free(pat);
		if (hit)
			return 1;
		p += n;
	}
	return 0;
}

/*
 * Why fn, a file the scan reads (*.sql, or a seed's *.csv, in any case),
 * is not named <number>_<name>.<ext>, or NULL when it is. num is "version"
 * or "order".
 */
static char *name_problem(const char *fn, const char *ext, const char *num)
{
	size_t n = strlen(fn), stem = n - strlen(ext);
	const char *us = memchr(fn, '_', stem);
	size_t vlen = us ? (size_t)(us - fn) : 0;

	if (!ends_with(fn, ext))
		return xasprintf("it ends in '%s', not '%s'", fn + stem, ext);
	if (!us)
		return xasprintf("no '_' between the %s and the name", num);
	if (vlen == 0)
		return xasprintf("no %s before the '_'", num);
	if (strspn(fn, "0123456789") < vlen)
		return xasprintf("the %s '%.*s' is not digits", num, (int)vlen, fn);
	if (vlen + 1 == stem)
		return xasprintf("no name after the '_'");
	if (!migration_name_valid(us + 1, stem - vlen - 1))
		return xasprintf("the name holds a character other than letters, digits, '_', '-' and '.'");
	return NULL;
}

/* golang-migrate names its files <version>_<name>.up.sql and .down.sql. */
static int golang_migrate_name(const char *fn)
{
	return ends_with(fn, ".up.sql") || ends_with(fn, ".down.sql");
}

static const char golang_migrate_hint[] =
	" (this looks like golang-migrate's layout, a <version>_<name>.up.sql and .down.sql pair;"
	" migrate reads one <version>_<name>.sql per version, with '-- migrate:up' and '-- migrate:down' sections)";

static void merr_add(struct migrate_error *err, const char *text)
{
	size_t n = strlen(err->message);

	snprintf(err->message + n, sizeof(err->message) - n, "%s", text);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads one file the scan found into m (version and names filled in). */
static enum migrate_result scan_one(const char *dir, const char *fn, char *version, int is_seed,
				    enum sql_dialect dialect, const char *dialect_name,
				    struct migration *m, struct migrate_error *err)
{
	const char *what = is_seed ? "seed" : "migration";
	int csv = is_seed && ends_with(fn, ".csv");
	const char *us = strchr(fn, '_');
	char *path = path_join(dir, fn), *text;
	struct stat st;
	size_t len;
	int r;

	memset(m, 0, sizeof(*m));
	/*
	 * Only regular files (or links to them): opening a FIFO would block
	 * the run forever, and a directory or device is never a migration.
	 */
	r = stat(path, &st);
	if (r != 0 || !S_ISREG(st.st_mode)) {
		merr_set(err, MIGRATE_EUSAGE, "cannot read %s '%s': %s", what, path,
			 r != 0 ? strerror(errno) : "not a regular file");
		goto fail;
	}
	if (csv) {
		/* streamed when it runs; only its checksum now */
		m->csv = 1;
		r = sha256_file_hex(path, m->checksum, &m->csv_placeholders);
		if (r) {
			merr_set(err, MIGRATE_EUSAGE, "cannot read %s '%s': %s", what, path, strerror(r));
			goto fail;
		}
	} else {
		r = read_file(path, &text, &len);
		if (r) {
			merr_set(err, MIGRATE_EUSAGE, "cannot read %s '%s': %s", what, path, strerror(r));
			goto fail;
		}
		if (migration_parse(m, path, text, len, dialect, dialect_name, is_seed, err)) {
			if (!is_seed && golang_migrate_name(fn))
				merr_add(err, golang_migrate_hint);
			goto fail;
		}
	}
	m->version = version;
	m->name = xstrndup(us + 1, strlen(us + 1) - 4);
	m->filename = xstrdup(fn);
	m->path = path;
	return MIGRATE_OK;
fail:
	free(path);
	free(version);
	return err->code;
}

/*
 * Every *.sql (and, for seeds, *.csv) in dir must be named <number>_<name>:
 * a file that is not is an error, all of them named at once, unless it
 * matches an 'ignore' pattern; a file silently skipped would let a CI gate
 * pass with a migration never applied. Hidden files and other extensions
 * are not looked at. Names are checked, and duplicate versions found,
 * before any file is read.
 */
static enum migrate_result scan_dir(const char *dir, enum sql_dialect dialect,
				    const char *dialect_name, int is_seed, const char *ignore,
				    struct migration_set *out, struct migrate_error *err)
{
	const char *what = is_seed ? "seed" : "migration";
	struct { char **v; size_t n, cap; } files = { NULL, 0, 0 }, bad = { NULL, 0, 0 };
	struct migration *probe = NULL;
	enum migrate_result res = MIGRATE_OK;
	struct dirent *de;
	DIR *d;
	size_t i;

	memset(out, 0, sizeof(*out));
	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return MIGRATE_OK;
		return merr_set(err, MIGRATE_EUSAGE, "cannot read %s directory '%s': %s", what, dir,
				strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		const char *fn = de->d_name;
		int csv = is_seed && ends_with_ci(fn, ".csv");
		char *why;

		if (fn[0] == '.' || (!ends_with_ci(fn, ".sql") && !csv) || migration_ignored(ignore, fn))
			continue;
		why = name_problem(fn, csv ? ".csv" : ".sql", is_seed ? "order" : "version");
		if (why) {
			xgrow(&bad.v, &bad.cap, bad.n + 1, sizeof(*bad.v));
			bad.v[bad.n++] = xasprintf("'%s/%s' (%s)", dir, fn, why);
			free(why);
			continue;
		}
		xgrow(&files.v, &files.cap, files.n + 1, sizeof(*files.v));
		files.v[files.n++] = xstrdup(fn);
	}
	closedir(d);
	if (bad.n) {
		struct strbuf sb = STRBUF_INIT;

		qsort(bad.v, bad.n, sizeof(*bad.v), cmp_str);
		for (i = 0; i < bad.n; i++)
			strbuf_addf(&sb, "%s%s", i ? ", " : "", bad.v[i]);
		res = merr_set(err, MIGRATE_EUSAGE,
			 "not a %s file: %s; a %s is named %s, the name holding letters, digits, '_', '-' and '.': rename it, or list it in the 'ignore' setting if it is meant to be there",
			 what, strbuf_str(&sb), what,
			 is_seed ? "<order>_<name>.sql or <order>_<table>.csv, the order digits"
				 : "<version>_<name>.sql, the version digits");
		strbuf_release(&sb);
		goto fail;
	}

	/* versions from the names: duplicates are found before any file is read */
	probe = xcalloc(files.n + 1, sizeof(*probe));
	for (i = 0; i < files.n; i++) {
		const char *us = strchr(files.v[i], '_');
		probe[i].filename = files.v[i];
		probe[i].version = version_canonical(files.v[i], (size_t)(us - files.v[i]));
	}
	if (files.n > 1)
		qsort(probe, files.n, sizeof(*probe), cmp_migration);
	for (i = 1; !is_seed && i < files.n; i++) {
		if (version_cmp(probe[i].version, probe[i - 1].version) == 0) {
			res = merr_set(err, MIGRATE_EUSAGE,
				 "%s/%s and %s/%s have the same version %s; give one of them another version",
				 dir, probe[i - 1].filename, dir, probe[i].filename, probe[i].version);
			if (golang_migrate_name(probe[i - 1].filename) && golang_migrate_name(probe[i].filename))
				merr_add(err, golang_migrate_hint);
			goto fail;
		}
	}
	out->v = xcalloc(files.n + 1, sizeof(*out->v));
	out->cap = files.n + 1;
	for (i = 0; i < files.n; i++) {
		char *version = probe[i].version;
		probe[i].version = NULL; /* scan_one owns it now */
		res = scan_one(dir, probe[i].filename, version, is_seed, dialect, dialect_name, &out->v[out->n], err);
		if (res)
			goto fail;
		out->n++;
	}
fail:
	if (probe)
		for (i = 0; i < files.n; i++)
			free(probe[i].version);
	free(probe);
	for (i = 0; i < files.n; i++)
		free(files.v[i]);
	free(files.v);
	for (i = 0; i < bad.n; i++)
		free(bad.v[i]);
	free(bad.v);
	if (res)
		migration_set_release(out);
	return res;
}

enum migrate_result migration_scan(const char *dir, enum sql_dialect dialect,
				   const char *dialect_name, const char *ignore,
				   struct migration_set *out, struct migrate_error *err)
{
	return scan_dir(dir, dialect, dialect_name, 0, ignore, out, err);
}

enum migrate_result seed_scan(const char *dir, enum sql_dialect dialect, const char *dialect_name,
			      const char *ignore, struct migration_set *out, struct migrate_error *err)
{
	return scan_dir(dir, dialect, dialect_name, 1, ignore, out, err);
}

enum migrate_result migration_dir_check(const char *dir, const char *what, const char *fix,
					struct migrate_error *err)
{
	struct stat st;

	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? MIGRATE_OK :
		       merr_set(err, MIGRATE_EUSAGE, "%s directory '%s' is not a directory: %s", what, dir, fix);
	if (errno == ENOENT || errno == ENOTDIR)
		return merr_set(err, MIGRATE_EUSAGE, "%s directory '%s' does not exist: %s", what, dir, fix);
	return merr_set(err, MIGRATE_EUSAGE, "cannot read %s directory '%s': %s", what, dir, strerror(errno));
}
