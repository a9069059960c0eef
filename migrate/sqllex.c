/*
 * sqllex.c - the statement splitter and normaliser (see sqllex.h).
 *
 * The scanner walks the text once. Quoted things (strings, identifiers,
 * dollar quotes, comments) are skipped whole, so a ';' or '--' inside them
 * never ends a statement. Where else a ';' does not end a statement is each
 * database's own client's rule, so a file splits as it would there:
 *
 *   sqlite    sqlite3_complete(), which the sqlite3 shell uses: in a
 *             CREATE [TEMP] TRIGGER, only "; END ;" ends the statement.
 *   postgres  psql's lexer: not inside parentheses (CREATE RULE ... DO
 *             (a; b)), and in CREATE [OR REPLACE] FUNCTION/PROCEDURE not
 *             inside BEGIN ... END (BEGIN ATOMIC; CASE counts inside it).
 *   mysql     the mysql client: with a DELIMITER other than ';', the
 *             delimiter alone. With ';', migrate goes further than the
 *             client, so routines work without DELIMITER: inside CREATE
 *             TRIGGER/PROCEDURE/FUNCTION/EVENT, BEGIN and CASE open a block
 *             and END closes one (END IF, END LOOP, END WHILE, END REPEAT
 *             and END FOR close blocks never counted), unless the word is
 *             a column there (NEW.end, SET end = ..., a, end).
 *
 * A line ends at LF, CRLF or a lone CR, as the markers read it.
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
	int parens;         /* open parentheses (PostgreSQL) */
	int trigger;        /* SQLite trigger: 1 in it, 2 after a ';', 3 after "; END" */
	char prev[8];       /* the last significant token, upper-cased ("" for none) */

	struct strbuf *norm;
	int gap;            /* whitespace or a comment since the last token */
	struct sql_tokens *toks; /* NULL unless sqllex_tokens */
	size_t stmt_tok;    /* the current statement's first token */
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

/* A line break at s[i]: LF, or a CR that is not the first half of CRLF. */
static int is_newline(const char *s, size_t i, size_t len)
{
	return s[i] == '\n' || (s[i] == '\r' && (i + 1 >= len || s[i + 1] != '\n'));
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
	/* line endings inside a token read as LF, so checksum_sql never depends on them */
	for (; from < to; from++) {
		if (lx->s[from] != '\r')
			strbuf_addch(nb, lx->s[from]);
		else if (from + 1 >= to || lx->s[from + 1] != '\n')
			strbuf_addch(nb, '\n');
	}
}

static void tok_emit(struct lexer *lx, size_t from, int line, enum sql_token_kind kind)
{
	struct sql_tokens *t = lx->toks;

	if (!t || from >= lx->i)
		return;
	xgrow(&t->v, &t->cap, t->n + 1, sizeof(*t->v));
	t->v[t->n].off = from;
	t->v[t->n].len = lx->i - from;
	t->v[t->n].line = line;
	t->v[t->n].kind = kind;
	t->n++;
}

static void count_lines(struct lexer *lx, size_t from, size_t to)
{
	size_t k;

	for (k = from; k < to; k++)
		if (is_newline(lx->s, k, lx->len))
			lx->line++;
}

static void reset_stmt(struct lexer *lx)
{
	lx->start = -1;
	lx->stmt_tok = lx->toks ? lx->toks->n : 0;
	lx->words = lx->deciding = lx->definer = lx->routine = 0;
	lx->depth = lx->pending_end = 0;
	lx->parens = lx->trigger = 0;
	lx->prev[0] = '\0';
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
		st->tok = st->ntok = 0;
		if (lx->toks) {
			st->tok = lx->stmt_tok;
			st->ntok = lx->toks->n - lx->stmt_tok;
		}
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

/* Is w one of the words in list (NULL-terminated)? */
static int word_in(const char *w, size_t n, const char *const *list)
{
	for (; *list; list++)
		if (word_is(w, n, *list))
			return 1;
	return 0;
}

/*
 * After CREATE: the object's kind is the first word past OR REPLACE, TEMP,
 * CONSTRAINT, AGGREGATE and a DEFINER = user@host clause. Only then does
 * "CREATE TABLE event (begin TEXT)" stay a plain statement. Each dialect
 * counts blocks only where its client does (see the top of the file).
 */
static void decide_kind(struct lexer *lx, const char *w, size_t n)
{
	static const char *const modifiers[] = {
		"OR", "REPLACE", "TEMP", "TEMPORARY", "CONSTRAINT", "AGGREGATE", NULL,
	};
	static const char *const pg_modifiers[] = { "OR", "REPLACE", NULL };
	static const char *const routines[] = { "TRIGGER", "PROCEDURE", "FUNCTION", "EVENT", NULL };
	static const char *const pg_routines[] = { "PROCEDURE", "FUNCTION", NULL };

	if (lx->d == SQL_DIALECT_SQLITE) {
		if (word_is(w, n, "TRIGGER"))
			lx->trigger = 1;
		if (!word_is(w, n, "TEMP") && !word_is(w, n, "TEMPORARY"))
			lx->deciding = 0;
		return;
	}
	if (lx->d == SQL_DIALECT_POSTGRES) {
		/* psql: CREATE [OR REPLACE] FUNCTION|PROCEDURE, nothing else */
		if (word_in(w, n, pg_routines))
			lx->routine = 1;
		if (!word_in(w, n, pg_modifiers) || lx->words > 3)
			lx->deciding = 0;
		return;
	}
	if (word_in(w, n, routines)) {
		lx->routine = 1;
		lx->deciding = 0;
		return;
	}
	if (word_is(w, n, "DEFINER")) {
		lx->definer = 1; /* the user and host that follow are not the kind */
		return;
	}
	if (word_in(w, n, modifiers))
		return;
	if (!lx->definer || word_is(w, n, "VIEW") || lx->words > 16)
		lx->deciding = 0; /* TABLE, INDEX, VIEW, ...: not a routine */
}

/*
 * MySQL: is a BEGIN, END or CASE here a name rather than a keyword? After
 * '.', ',', '(' or an operator, or after a word that a name follows, it is
 * a column (NEW.end, SET end = 1, WHERE end > 0, (a, end)); a keyword never
 * stands there. ELSE BEGIN and THEN BEGIN open blocks, so those two words
 * make only END a name.
 */
static int mysql_name_here(const struct lexer *lx, const char *w, size_t n)
{
	static const char *const before_name[] = {
		"SET", "SELECT", "WHERE", "AND", "OR", "NOT", "ON", "BY", "AS", "LIKE", "IS", "IN", "INTO",
		"FROM", "JOIN", "UPDATE", "TABLE", "DISTINCT", "HAVING", "RETURN", "DECLARE", "BETWEEN",
		"WHEN", "XOR", "DIV", "MOD", NULL,
	};
	const char *p = lx->prev;

	if (!*p)
		return 0;
	if (p[0] == '.')
		return 1;
	if (word_is(w, n, "CASE"))
		return 0; /* CASE after '=', '(' or SET is the CASE expression */
	if (!p[1] && (p[0] == ',' || p[0] == '(' || (is_op_char((unsigned char)p[0]) && p[0] != ':')))
		return 1; /* "lbl: BEGIN" is a labelled block */
	if (word_in(p, strlen(p), before_name))
		return !(word_is(w, n, "BEGIN") && strcmp(p, "AS") == 0); /* MariaDB's Oracle mode: AS BEGIN */
	return word_is(w, n, "END") && (strcmp(p, "THEN") == 0 || strcmp(p, "ELSE") == 0);
}

static void on_word(struct lexer *lx, const char *w, size_t n)
{
	int handled = 0, pg = lx->d == SQL_DIALECT_POSTGRES;

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
	if (lx->trigger >= 2) /* SQLite: "; END" then ';' ends the trigger */
		lx->trigger = lx->trigger == 2 && word_is(w, n, "END") ? 3 : 1;
	if (!handled && lx->routine && pg) {
		/* psql: outside parentheses; CASE only inside a BEGIN; END never waits for IF */
		if (lx->parens == 0) {
			if (word_is(w, n, "BEGIN") || (word_is(w, n, "CASE") && lx->depth > 0))
				lx->depth++;
			else if (word_is(w, n, "END") && lx->depth > 0)
				lx->depth--;
		}
	} else if (!handled && lx->routine && !mysql_name_here(lx, w, n)) {
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

/* Remembers the last significant token, for mysql_name_here. */
static void set_prev(struct lexer *lx, const char *t, size_t n)
{
	size_t k;

	if (n >= sizeof(lx->prev))
		n = 0; /* a long word is never one that matters */
	for (k = 0; k < n; k++)
		lx->prev[k] = (char)toupper((unsigned char)t[k]);
	lx->prev[n] = '\0';
	if (n == 0)
		memcpy(lx->prev, "'", 2); /* some other token: a string, a long word */
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
	return k == 0 || lx->s[k - 1] == '\n' || lx->s[k - 1] == '\r';
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
	while (j < lx->len && lx->s[j] != '\n' && lx->s[j] != '\r')
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

static int scan(const char *text, size_t len, enum sql_dialect dialect, int first_line,
		struct sql_stmts *out, struct strbuf *norm, struct sql_tokens *toks, char *errbuf,
		size_t errlen)
{
	struct lexer lx;
	int mysql = dialect == SQL_DIALECT_MYSQL;

	memset(&lx, 0, sizeof(lx));
	lx.toks = toks;
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
		int matched, from_line = lx.line;
		enum sql_token_kind kind = SQL_TOKEN_OTHER;

		if (is_newline(lx.s, lx.i, lx.len)) {
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
			while (lx.i < lx.len && lx.s[lx.i] != '\n' && lx.s[lx.i] != '\r')
				lx.i++;
			lx.gap = 1;
			continue;
		}
		if (mysql && c == '#') {
			while (lx.i < lx.len && lx.s[lx.i] != '\n' && lx.s[lx.i] != '\r')
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
			int ends;
			if (!custom_delimiter(&lx))
				resolve_end(&lx);
			if (custom_delimiter(&lx))
				ends = 1;
			else if (lx.trigger)
				ends = lx.trigger == 3;
			else
				ends = lx.depth == 0 && lx.parens == 0;
			if (ends) {
				lx.i += lx.dlen;
				end_stmt(&lx, out);
				continue;
			}
			if (lx.trigger)
				lx.trigger = 2;
		} else if (lx.trigger >= 2 && !is_word_start(c)) {
			lx.trigger = 1; /* sqlite3_complete: any other token */
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
			kind = SQL_TOKEN_STRING;
		} else if (c == '"') {
			resolve_end(&lx);
			if (skip_quoted(&lx, '"', '"', mysql))
				return -1;
			kind = mysql ? SQL_TOKEN_STRING : SQL_TOKEN_IDENT;
		} else if (c == '`' && dialect != SQL_DIALECT_POSTGRES) {
			resolve_end(&lx);
			if (skip_quoted(&lx, '`', '`', 0))
				return -1;
			kind = SQL_TOKEN_IDENT;
		} else if (c == '[' && dialect == SQL_DIALECT_SQLITE) {
			resolve_end(&lx);
			if (skip_quoted(&lx, '[', ']', 0))
				return -1;
			kind = SQL_TOKEN_IDENT;
		} else if (c == '$' && dialect == SQL_DIALECT_POSTGRES && dollar_tag(&lx, lx.i, &taglen)) {
			resolve_end(&lx);
			if (skip_dollar(&lx, taglen))
				return -1;
			kind = SQL_TOKEN_STRING;
		} else if (c == '/' && c1 == '*') {
			/* MySQL's executable comment: code, kept whole */
			resolve_end(&lx);
			if (skip_block_comment(&lx))
				return -1;
			kind = SQL_TOKEN_CODE;
		} else if (is_word_start(c)) {
			kind = SQL_TOKEN_WORD;
			size_t j = lx.i;
			while (j < lx.len && is_word_char((unsigned char)lx.s[j])) {
				if (custom_delimiter(&lx) && j + lx.dlen <= lx.len &&
				    memcmp(lx.s + j, lx.delim, lx.dlen) == 0)
					break; /* END$$ with DELIMITER $$ */
				j++;
			}
			on_word(&lx, lx.s + lx.i, j - lx.i);
			set_prev(&lx, lx.s + lx.i, j - lx.i);
			lx.i = j;
		} else {
			resolve_end(&lx);
			if (dialect == SQL_DIALECT_POSTGRES && c == '(')
				lx.parens++;
			else if (dialect == SQL_DIALECT_POSTGRES && c == ')' && lx.parens > 0)
				lx.parens--;
			lx.i++;
		}
		if (!is_word_start(c))
			set_prev(&lx, lx.s + from, lx.i - from == 1 ? 1 : 0);
		lx.sig_end = lx.i;
		tok_emit(&lx, from, from_line, kind);
		norm_emit(&lx, from, lx.i);
	}
	end_stmt(&lx, out);
	return 0;
}

int sqllex_split(const char *text, size_t len, enum sql_dialect dialect, int first_line,
		 struct sql_stmts *out, struct strbuf *norm, char *errbuf, size_t errlen)
{
	return scan(text, len, dialect, first_line, out, norm, NULL, errbuf, errlen);
}

int sqllex_tokens(const char *text, size_t len, enum sql_dialect dialect, int first_line,
		  struct sql_stmts *out, struct sql_tokens *toks, char *errbuf, size_t errlen)
{
	return scan(text, len, dialect, first_line, out, NULL, toks, errbuf, errlen);
}

void sql_tokens_release(struct sql_tokens *t)
{
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

void sql_stmts_release(struct sql_stmts *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

/* ---- classifying a statement ---------------------------------------------- */

struct token {
	const char *p;
	size_t n;
	int word;    /* a bare word */
};

/* The next token of stmt at *pos, past blanks and comments; n is 0 at the end. */
static struct token next_token(const char *s, size_t len, size_t *pos, enum sql_dialect d)
{
	struct token t = { s + len, 0, 0 };
	size_t i = *pos;

	for (;;) {
		while (i < len && isspace((unsigned char)s[i]))
			i++;
		if (i + 1 < len && s[i] == '-' && s[i + 1] == '-') {
			while (i < len && s[i] != '\n' && s[i] != '\r')
				i++;
		} else if (d == SQL_DIALECT_MYSQL && i < len && s[i] == '#') {
			while (i < len && s[i] != '\n' && s[i] != '\r')
				i++;
		} else if (i + 1 < len && s[i] == '/' && s[i + 1] == '*' &&
			   !(d == SQL_DIALECT_MYSQL && i + 2 < len && s[i + 2] == '!')) {
			const char *e = NULL;
			size_t k;
			for (k = i + 2; k + 1 < len; k++)
				if (s[k] == '*' && s[k + 1] == '/') {
					e = s + k + 2;
					break;
				}
			i = e ? (size_t)(e - s) : len;
		} else {
			break;
		}
	}
	if (i >= len) {
		*pos = len;
		return t;
	}
	t.p = s + i;
	if (is_word_start((unsigned char)s[i])) {
		while (i < len && is_word_char((unsigned char)s[i]))
			i++;
		t.word = 1;
	} else if (s[i] == '\'' || s[i] == '"') {
		char q = s[i++];
		while (i < len && s[i] != q)
			i++;
		if (i < len)
			i++;
	} else {
		i++;
	}
	t.n = (size_t)(s + i - t.p);
	*pos = i;
	return t;
}

static int tok_is(struct token t, const char *kw)
{
	return t.word && word_is(t.p, t.n, kw);
}

/* what = the text from the first token to the end of last. */
static void set_what(char *what, size_t whatlen, struct token first, struct token last)
{
	if (what && whatlen)
		snprintf(what, whatlen, "%.*s", (int)(last.p + last.n - first.p), first.p);
}

/* A PRAGMA's value: the word or quoted string after '=' or '('. */
static int pragma_truth(struct token v)
{
	static const char *const off[] = { "OFF", "0", "FALSE", "NO", NULL };
	static const char *const on[] = { "ON", "1", "TRUE", "YES", NULL };
	const char *p = v.p;
	size_t n = v.n;

	if (n >= 2 && (p[0] == '\'' || p[0] == '"')) {
		p++;
		n -= 2;
	}
	if (word_in(p, n, off))
		return 0;
	if (word_in(p, n, on))
		return 1;
	return -1;
}

static enum sql_stmt_kind classify_pragma(const char *s, size_t len, size_t pos, struct token first,
					  char *what, size_t whatlen)
{
	struct token name = next_token(s, len, &pos, SQL_DIALECT_SQLITE), t;

	t = next_token(s, len, &pos, SQL_DIALECT_SQLITE);
	if (t.n == 1 && t.p[0] == '.') { /* schema.name */
		name = next_token(s, len, &pos, SQL_DIALECT_SQLITE);
		t = next_token(s, len, &pos, SQL_DIALECT_SQLITE);
	}
	if (!name.word)
		return SQL_STMT_OTHER;
	if (tok_is(name, "wal_checkpoint")) {
		set_what(what, whatlen, first, name);
		return SQL_STMT_NO_TX;
	}
	if (t.n != 1 || (t.p[0] != '=' && t.p[0] != '('))
		return SQL_STMT_OTHER; /* reading the value works anywhere */
	if (tok_is(name, "journal_mode") || tok_is(name, "synchronous")) {
		set_what(what, whatlen, first, name);
		return SQL_STMT_NO_TX;
	}
	if (tok_is(name, "foreign_keys")) {
		int on = pragma_truth(next_token(s, len, &pos, SQL_DIALECT_SQLITE));
		if (on < 0)
			return SQL_STMT_OTHER;
		set_what(what, whatlen, first, name);
		return on ? SQL_STMT_FK_ON : SQL_STMT_FK_OFF;
	}
	return SQL_STMT_OTHER;
}

/*
 * PostgreSQL's statements that "cannot run inside a transaction block":
 * CREATE [UNIQUE] INDEX CONCURRENTLY, DROP INDEX CONCURRENTLY, REINDEX ...
 * CONCURRENTLY, REINDEX DATABASE/SYSTEM, CREATE/DROP DATABASE and
 * TABLESPACE, ALTER SYSTEM. The server refuses them itself; finding them
 * first means no migration of the run has run yet.
 */
static enum sql_stmt_kind classify_pg_no_tx(const char *stmt, size_t len, size_t pos, struct token first,
					    char *what, size_t whatlen)
{
	struct token t = next_token(stmt, len, &pos, SQL_DIALECT_POSTGRES), u;
	int create = tok_is(first, "CREATE"), drop = tok_is(first, "DROP");

	if (((create || drop) && (tok_is(t, "DATABASE") || tok_is(t, "TABLESPACE"))) ||
	    (tok_is(first, "ALTER") && tok_is(t, "SYSTEM")) ||
	    (tok_is(first, "REINDEX") && (tok_is(t, "DATABASE") || tok_is(t, "SYSTEM")))) {
		set_what(what, whatlen, first, t);
		return SQL_STMT_NO_TX;
	}
	if (create && tok_is(t, "UNIQUE"))
		t = next_token(stmt, len, &pos, SQL_DIALECT_POSTGRES);
	if (t.n == 1 && t.p[0] == '(' && tok_is(first, "REINDEX")) { /* REINDEX (options) */
		while (t.n && !(t.n == 1 && t.p[0] == ')'))
			t = next_token(stmt, len, &pos, SQL_DIALECT_POSTGRES);
		t = next_token(stmt, len, &pos, SQL_DIALECT_POSTGRES);
	}
	if (((create || drop) && tok_is(t, "INDEX")) ||
	    (tok_is(first, "REINDEX") && (tok_is(t, "INDEX") || tok_is(t, "TABLE") || tok_is(t, "SCHEMA")))) {
		u = next_token(stmt, len, &pos, SQL_DIALECT_POSTGRES);
		if (tok_is(u, "CONCURRENTLY")) {
			set_what(what, whatlen, first, u);
			return SQL_STMT_NO_TX;
		}
	}
	return SQL_STMT_OTHER;
}

static enum sql_stmt_kind classify_no_tx(const char *stmt, size_t len, enum sql_dialect dialect, size_t pos,
					 struct token first, char *what, size_t whatlen)
{
	int pg = dialect == SQL_DIALECT_POSTGRES, lite = dialect == SQL_DIALECT_SQLITE;

	if (lite && tok_is(first, "PRAGMA"))
		return classify_pragma(stmt, len, pos, first, what, whatlen);
	if ((lite || pg) && tok_is(first, "VACUUM")) {
		set_what(what, whatlen, first, first);
		return SQL_STMT_NO_TX;
	}
	if (pg)
		return classify_pg_no_tx(stmt, len, pos, first, what, whatlen);
	return SQL_STMT_OTHER;
}

static enum sql_stmt_kind classify_tx(const char *stmt, size_t len, enum sql_dialect dialect, size_t pos,
				      struct token first, char *what, size_t whatlen)
{
	struct token t;
	int pg = dialect == SQL_DIALECT_POSTGRES, lite = dialect == SQL_DIALECT_SQLITE;

	if (tok_is(first, "COMMIT") || ((pg || lite) && tok_is(first, "END")) || (pg && tok_is(first, "ABORT"))) {
		set_what(what, whatlen, first, first);
		return SQL_STMT_TX_CONTROL;
	}
	if (tok_is(first, "BEGIN")) {
		t = next_token(stmt, len, &pos, dialect);
		/* MySQL: BEGIN NOT ATOMIC ... END is a block; BEGIN [WORK] starts a transaction */
		if (dialect == SQL_DIALECT_MYSQL && t.n && !tok_is(t, "WORK"))
			return SQL_STMT_OTHER;
		set_what(what, whatlen, first, first);
		return SQL_STMT_TX_CONTROL;
	}
	if (!lite && tok_is(first, "START")) {
		t = next_token(stmt, len, &pos, dialect);
		if (!tok_is(t, "TRANSACTION"))
			return SQL_STMT_OTHER;
		set_what(what, whatlen, first, t);
		return SQL_STMT_TX_CONTROL;
	}
	if (pg && tok_is(first, "PREPARE")) {
		t = next_token(stmt, len, &pos, dialect);
		if (!tok_is(t, "TRANSACTION"))
			return SQL_STMT_OTHER;
		set_what(what, whatlen, first, t);
		return SQL_STMT_TX_CONTROL;
	}
	if (tok_is(first, "ROLLBACK")) {
		t = next_token(stmt, len, &pos, dialect);
		if (tok_is(t, "WORK") || tok_is(t, "TRANSACTION"))
			t = next_token(stmt, len, &pos, dialect);
		if (tok_is(t, "TO"))
			return SQL_STMT_OTHER; /* ROLLBACK TO SAVEPOINT: stays inside the transaction */
		set_what(what, whatlen, first, first);
		return SQL_STMT_TX_CONTROL;
	}
	return SQL_STMT_OTHER;
}

enum sql_stmt_kind sqllex_classify(const char *stmt, size_t len, enum sql_dialect dialect,
				   char *what, size_t whatlen)
{
	size_t pos = 0;
	struct token first = next_token(stmt, len, &pos, dialect);
	enum sql_stmt_kind k;

	if (what && whatlen)
		what[0] = '\0';
	if (!first.word)
		return SQL_STMT_OTHER;
	k = classify_tx(stmt, len, dialect, pos, first, what, whatlen);
	return k != SQL_STMT_OTHER ? k : classify_no_tx(stmt, len, dialect, pos, first, what, whatlen);
}
