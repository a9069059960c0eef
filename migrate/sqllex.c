/*
 * sqllex.c - the statement splitter and normaliser (see sqllex.h).
 *
 * The scanner walks the text once. Quoted things (strings, identifiers,
 * dollar quotes, comments) are skipped whole, so a ';' or '--' inside them
 * never ends a statement. Words are looked at only to recognise routine
 * bodies: inside CREATE TRIGGER/PROCEDURE/FUNCTION/EVENT, BEGIN and CASE
 * open a block and END closes one (END IF, END LOOP, END WHILE, END REPEAT
 * and END FOR close blocks that were never counted), and ';' ends the
 * statement only outside every block. With a DELIMITER other than ';'
 * (MySQL), the delimiter alone ends statements, as in the mysql client.
 */
#include "sqllex.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct lexer {
	const char *s;
	size_t len;
	size_t i;
	int line;
	enum sql_dialect d;
	char delim[32];
	size_t dlen;
	char *err;
	size_t errlen;

	/* the statement being read */
	long start;         /* offset of its first significant character, -1 before */
	int start_line;
	size_t sig_end;     /* offset just past its last significant character */
	int words;
	int deciding;       /* a CREATE whose kind of object is not known yet */
	int definer;        /* ... with a MySQL DEFINER clause being skipped */
	int routine;        /* a CREATE of a trigger, procedure, function or event */
	int depth;          /* open BEGIN/CASE blocks */
	int pending_end;    /* saw END, waiting for the next token */

	struct strbuf *norm;
	int gap;            /* whitespace or a comment since the last token */
};

static int is_word_start(unsigned char c)
{
	return isalpha(c) || c == '_' || c >= 0x80;
}

static int is_word_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

static int is_op_char(unsigned char c)
{
	return c && strchr("+-*/<>=~!@#%^&|?:.", c) != NULL;
}

static int lex_error(struct lexer *lx, int line, const char *what)
{
	snprintf(lx->err, lx->errlen, "line %d: %s", line, what);
	return -1;
}

/* Appends s[from..to) to the normalised output, with a space where it matters. */
static void norm_emit(struct lexer *lx, size_t from, size_t to)
{
	struct strbuf *nb = lx->norm;
	unsigned char prev, next;

	if (!nb || from >= to)
		return;
	if (lx->gap && nb->len > 0) {
		prev = (unsigned char)nb->buf[nb->len - 1];
		next = (unsigned char)lx->s[from];
		if (prev != '\n' &&
		    ((is_word_char(prev) && (is_word_char(next) || next == '\'' || next == '"')) ||
		     (is_op_char(prev) && is_op_char(next)) || prev == next))
			strbuf_addch(nb, ' ');
	}
	lx->gap = 0;
	strbuf_add(nb, lx->s + from, to - from);
}

static void count_lines(struct lexer *lx, size_t from, size_t to)
{
	size_t k;

	for (k = from; k < to; k++)
		if (lx->s[k] == '\n')
			lx->line++;
}

static void reset_stmt(struct lexer *lx)
{
	lx->start = -1;
	lx->words = lx->deciding = lx->definer = lx->routine = 0;
	lx->depth = lx->pending_end = 0;
}

static void end_stmt(struct lexer *lx, struct sql_stmts *out)
{
	struct sql_stmt *st;

	if (lx->start >= 0) {
		xgrow(&out->v, &out->cap, out->n + 1, sizeof(*out->v));
		st = &out->v[out->n++];
		st->off = (size_t)lx->start;
		st->len = lx->sig_end - (size_t)lx->start;
		st->line = lx->start_line;
		if (lx->norm) {
			strbuf_addstr(lx->norm, ";\n");
			lx->gap = 0;
		}
	}
	reset_stmt(lx);
}

/* A word at i, compared without case. */
static int word_is(const char *w, size_t wlen, const char *kw)
{
	return strlen(kw) == wlen && strncasecmp(w, kw, wlen) == 0;
}

static void resolve_end(struct lexer *lx)
{
	if (lx->pending_end) {
		lx->pending_end = 0;
		if (lx->depth > 0)
			lx->depth--;
	}
}

/*
 * After CREATE: the object's kind is the first word past OR REPLACE, TEMP,
 * CONSTRAINT, AGGREGATE and a DEFINER = user@host clause. Only then does
 * "CREATE TABLE event (begin TEXT)" stay a plain statement.
 */
static void decide_kind(struct lexer *lx, const char *w, size_t n)
{
	static const char *const modifiers[] = {
		"OR", "REPLACE", "TEMP", "TEMPORARY", "CONSTRAINT", "AGGREGATE", NULL,
	};
	size_t k;

	if (word_is(w, n, "TRIGGER") || word_is(w, n, "PROCEDURE") || word_is(w, n, "FUNCTION") ||
	    word_is(w, n, "EVENT")) {
		lx->routine = 1;
		lx->deciding = 0;
		return;
	}
	if (word_is(w, n, "DEFINER")) {
		lx->definer = 1; /* the user and host that follow are not the kind */
		return;
	}
	for (k = 0; modifiers[k]; k++)
		if (word_is(w, n, modifiers[k]))
			return;
	if (!lx->definer || word_is(w, n, "VIEW") || lx->words > 16)
		lx->deciding = 0; /* TABLE, INDEX, VIEW, ...: not a routine */
}

static void on_word(struct lexer *lx, const char *w, size_t n)
{
	int handled = 0;

	if (lx->pending_end) {
		lx->pending_end = 0;
		if (word_is(w, n, "IF") || word_is(w, n, "LOOP") || word_is(w, n, "WHILE") ||
		    word_is(w, n, "REPEAT") || word_is(w, n, "FOR")) {
			handled = 1; /* closes a block that was never counted */
		} else {
			if (lx->depth > 0)
				lx->depth--;
			if (word_is(w, n, "CASE"))
				handled = 1; /* MySQL's END CASE */
		}
	}
	if (!handled && lx->routine) {
		if (word_is(w, n, "BEGIN") || word_is(w, n, "CASE"))
			lx->depth++;
		else if (word_is(w, n, "END"))
			lx->pending_end = 1;
	}
	lx->words++;
	if (lx->words == 1)
		lx->deciding = word_is(w, n, "CREATE");
	else if (lx->deciding)
		decide_kind(lx, w, n);
}

/* Skips a quoted run opened by s[i] == q; doubled q is a literal q. */
static int skip_quoted(struct lexer *lx, char q, char close, int backslash)
{
	size_t i = lx->i + 1;
	int line = lx->line;

	while (i < lx->len) {
		char c = lx->s[i];
		if (backslash && c == '\\' && i + 1 < lx->len) {
			i += 2;
			continue;
		}
		if (c == close) {
			if (close == q && i + 1 < lx->len && lx->s[i + 1] == close) {
				i += 2;
				continue;
			}
			count_lines(lx, lx->i, i + 1);
			lx->i = i + 1;
			return 0;
		}
		i++;
	}
	switch (q) {
	case '\'':
		return lex_error(lx, line, "unterminated string");
	case '[':
	case '`':
	case '"':
		return lex_error(lx, line, lx->d == SQL_DIALECT_MYSQL && q == '"'
				 ? "unterminated string" : "unterminated quoted identifier");
	default:
		return lex_error(lx, line, "unterminated quote");
	}
}

/* PostgreSQL: is there a dollar-quote opening tag at i? Sets *taglen (with both $). */
static int dollar_tag(const struct lexer *lx, size_t i, size_t *taglen)
{
	size_t j = i + 1;

	if (i > 0 && is_word_char((unsigned char)lx->s[i - 1]))
		return 0; /* part of an identifier like a$b */
	if (j < lx->len && lx->s[j] == '$') {
		*taglen = 2;
		return 1;
	}
	if (j >= lx->len || !is_word_start((unsigned char)lx->s[j]))
		return 0;
	while (j < lx->len && (isalnum((unsigned char)lx->s[j]) || lx->s[j] == '_' ||
			       (unsigned char)lx->s[j] >= 0x80))
		j++;
	if (j < lx->len && lx->s[j] == '$') {
		*taglen = j - i + 1;
		return 1;
	}
	return 0;
}

static int skip_dollar(struct lexer *lx, size_t taglen)
{
	const char *tag = lx->s + lx->i;
	size_t i = lx->i + taglen;

	for (; i + taglen <= lx->len; i++) {
		if (lx->s[i] == '$' && memcmp(lx->s + i, tag, taglen) == 0) {
			count_lines(lx, lx->i, i + taglen);
			lx->i = i + taglen;
			return 0;
		}
	}
	return lex_error(lx, lx->line, "unterminated dollar-quoted string");
}

static int skip_block_comment(struct lexer *lx)
{
	size_t i = lx->i + 2;
	int depth = 1;
	int line = lx->line;

	while (i < lx->len) {
		if (lx->s[i] == '*' && i + 1 < lx->len && lx->s[i + 1] == '/') {
			i += 2;
			if (--depth == 0) {
				count_lines(lx, lx->i, i);
				lx->i = i;
				return 0;
			}
			continue;
		}
		if (lx->d == SQL_DIALECT_POSTGRES && lx->s[i] == '/' && i + 1 < lx->len &&
		    lx->s[i + 1] == '*') {
			depth++;
			i += 2;
			continue;
		}
		i++;
	}
	return lex_error(lx, line, "unterminated /* comment");
}

static int at_line_start(const struct lexer *lx)
{
	size_t k = lx->i;

	while (k > 0 && (lx->s[k - 1] == ' ' || lx->s[k - 1] == '\t'))
		k--;
	return k == 0 || lx->s[k - 1] == '\n';
}

/* MySQL: "DELIMITER x" on a line of its own, between statements. */
static int try_delimiter(struct lexer *lx, int *matched)
{
	size_t i = lx->i, j;

	*matched = 0;
	if (lx->len - i < 10 || strncasecmp(lx->s + i, "DELIMITER", 9) != 0 ||
	    (lx->s[i + 9] != ' ' && lx->s[i + 9] != '\t'))
		return 0;
	*matched = 1;
	i += 9;
	while (i < lx->len && (lx->s[i] == ' ' || lx->s[i] == '\t'))
		i++;
	j = i;
	while (j < lx->len && !isspace((unsigned char)lx->s[j]))
		j++;
	if (j == i)
		return lex_error(lx, lx->line, "DELIMITER needs a delimiter after it");
	if (j - i >= sizeof(lx->delim))
		return lex_error(lx, lx->line, "DELIMITER is too long");
	memcpy(lx->delim, lx->s + i, j - i);
	lx->dlen = j - i;
	lx->delim[lx->dlen] = '\0';
	while (j < lx->len && lx->s[j] != '\n')
		j++;
	lx->i = j;
	return 0;
}

static int at_delimiter(const struct lexer *lx)
{
	return lx->i + lx->dlen <= lx->len && memcmp(lx->s + lx->i, lx->delim, lx->dlen) == 0;
}

static int custom_delimiter(const struct lexer *lx)
{
	return !(lx->dlen == 1 && lx->delim[0] == ';');
}

static void mark_start(struct lexer *lx)
{
	if (lx->start < 0) {
		lx->start = (long)lx->i;
		lx->start_line = lx->line;
	}
}

int sqllex_split(const char *text, size_t len, enum sql_dialect dialect, int first_line,
		 struct sql_stmts *out, struct strbuf *norm, char *errbuf, size_t errlen)
{
	struct lexer lx;
	int mysql = dialect == SQL_DIALECT_MYSQL;

	memset(&lx, 0, sizeof(lx));
	lx.s = text;
	lx.len = len;
	lx.line = first_line;
	lx.d = dialect;
	lx.delim[0] = ';';
	lx.dlen = 1;
	lx.err = errbuf;
	lx.errlen = errlen;
	lx.norm = norm;
	reset_stmt(&lx);

	while (lx.i < lx.len) {
		unsigned char c = (unsigned char)lx.s[lx.i];
		unsigned char c1 = lx.i + 1 < lx.len ? (unsigned char)lx.s[lx.i + 1] : 0;
		size_t from = lx.i, taglen;
		int matched;

		if (c == '\n') {
			lx.line++;
			lx.i++;
			lx.gap = 1;
			continue;
		}
		if (isspace(c)) {
			lx.i++;
			lx.gap = 1;
			continue;
		}
		if (mysql && lx.start < 0 && (c == 'd' || c == 'D') && at_line_start(&lx)) {
			if (try_delimiter(&lx, &matched))
				return -1;
			if (matched)
				continue;
		}
		if (c == '-' && c1 == '-' &&
		    (!mysql || lx.i + 2 >= lx.len || isspace((unsigned char)lx.s[lx.i + 2]) ||
		     iscntrl((unsigned char)lx.s[lx.i + 2]))) {
			while (lx.i < lx.len && lx.s[lx.i] != '\n')
				lx.i++;
			lx.gap = 1;
			continue;
		}
		if (mysql && c == '#') {
			while (lx.i < lx.len && lx.s[lx.i] != '\n')
				lx.i++;
			lx.gap = 1;
			continue;
		}
		if (c == '/' && c1 == '*' && !(mysql && lx.i + 2 < lx.len && lx.s[lx.i + 2] == '!')) {
			if (skip_block_comment(&lx))
				return -1;
			lx.gap = 1;
			continue;
		}
		if (at_delimiter(&lx)) {
			if (!custom_delimiter(&lx))
				resolve_end(&lx);
			if (custom_delimiter(&lx) || lx.depth == 0) {
				lx.i += lx.dlen;
				end_stmt(&lx, out);
				continue;
			}
		}

		/* a significant token */
		mark_start(&lx);
		if (c == '\'') {
			int bs = mysql;
			if (dialect == SQL_DIALECT_POSTGRES && lx.i > 0 &&
			    (lx.s[lx.i - 1] == 'E' || lx.s[lx.i - 1] == 'e') &&
			    (lx.i < 2 || !is_word_char((unsigned char)lx.s[lx.i - 2])))
				bs = 1;
			resolve_end(&lx);
			if (skip_quoted(&lx, '\'', '\'', bs))
				return -1;
		} else if (c == '"') {
			resolve_end(&lx);
			if (skip_quoted(&lx, '"', '"', mysql))
				return -1;
		} else if (c == '`' && dialect != SQL_DIALECT_POSTGRES) {
			resolve_end(&lx);
			if (skip_quoted(&lx, '`', '`', 0))
				return -1;
		} else if (c == '[' && dialect == SQL_DIALECT_SQLITE) {
			resolve_end(&lx);
			if (skip_quoted(&lx, '[', ']', 0))
				return -1;
		} else if (c == '$' && dialect == SQL_DIALECT_POSTGRES && dollar_tag(&lx, lx.i, &taglen)) {
			resolve_end(&lx);
			if (skip_dollar(&lx, taglen))
				return -1;
		} else if (c == '/' && c1 == '*') {
			/* MySQL's executable comment: code, kept whole */
			resolve_end(&lx);
			if (skip_block_comment(&lx))
				return -1;
		} else if (is_word_start(c)) {
			size_t j = lx.i;
			while (j < lx.len && is_word_char((unsigned char)lx.s[j])) {
				if (custom_delimiter(&lx) && j + lx.dlen <= lx.len &&
				    memcmp(lx.s + j, lx.delim, lx.dlen) == 0)
					break; /* END$$ with DELIMITER $$ */
				j++;
			}
			on_word(&lx, lx.s + lx.i, j - lx.i);
			lx.i = j;
		} else {
			resolve_end(&lx);
			lx.i++;
		}
		lx.sig_end = lx.i;
		norm_emit(&lx, from, lx.i);
	}
	end_stmt(&lx, out);
	return 0;
}

void sql_stmts_release(struct sql_stmts *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}
