/*
 * sqllex.h - splits a section of SQL into statements, by each database's rules.
 *
 * One scanner serves two purposes, so they can never disagree: it finds the
 * statements a driver runs one at a time, and it writes their normalised
 * form (comments dropped, whitespace between tokens reduced to what matters)
 * that the checksum_sql column hashes.
 *
 * Rules per dialect:
 *   all       '...' strings with '' doubling; -- line and slash-star comments;
 *             CREATE TRIGGER / PROCEDURE / FUNCTION / EVENT bodies with
 *             BEGIN ... END and CASE ... END blocks hold inner semicolons.
 *   sqlite    "..." `...` [...] identifiers.
 *   postgres  "..." identifiers; E'...' strings with backslash escapes;
 *             $$ and $tag$ dollar quotes; nested block comments.
 *   mysql     "..." strings and `...` identifiers, both with backslash
 *             escapes; # comments; "-- " needs a space after it; a slash-star-bang
 *             comment is code, not a comment; DELIMITER lines as the mysql client
 *             reads them.
 */
#ifndef MIGRATE_SQLLEX_H
#define MIGRATE_SQLLEX_H

#include <stddef.h>

#include "../drivers/driver.h"
#include "util.h"

struct sql_stmt {
	size_t off;  /* into the scanned text */
	size_t len;  /* without the terminator and trailing blanks */
	int line;    /* 1-based line of the statement's first character */
	size_t tok, ntok; /* its tokens in the sql_tokens given to sqllex_tokens (else 0) */
};

struct sql_stmts {
	struct sql_stmt *v;
	size_t n, cap;
};

/*
 * Appends the statements of text[0..len) to out and, when norm is not NULL,
 * their normalised form to norm. first_line is the line number of text[0]
 * in its file. Returns 0, or -1 with a message in errbuf (naming the line)
 * for an unterminated string, quoted identifier, dollar quote or comment,
 * or a DELIMITER line without a delimiter.
 */
int sqllex_split(const char *text, size_t len, enum sql_dialect dialect, int first_line,
		 struct sql_stmts *out, struct strbuf *norm, char *errbuf, size_t errlen);

void sql_stmts_release(struct sql_stmts *s);

/* What a statement is, for the checks on the transaction migrate runs a section in. */
enum sql_stmt_kind {
	SQL_STMT_OTHER,
	/*
	 * Transaction control: BEGIN (SQLite, PostgreSQL; MySQL's BEGIN [WORK],
	 * not BEGIN NOT ATOMIC), START TRANSACTION, COMMIT, END (SQLite,
	 * PostgreSQL), ROLLBACK (not ROLLBACK TO a savepoint), ABORT and
	 * PREPARE TRANSACTION (PostgreSQL). SAVEPOINT and RELEASE are not.
	 */
	SQL_STMT_TX_CONTROL,
	/*
	 * The database refuses or silently ignores it inside a transaction.
	 * SQLite: VACUUM, PRAGMA journal_mode = ..., PRAGMA synchronous = ...,
	 * PRAGMA wal_checkpoint. PostgreSQL: VACUUM, CREATE/DROP INDEX
	 * CONCURRENTLY, REINDEX ... CONCURRENTLY, REINDEX DATABASE/SYSTEM,
	 * CREATE/DROP DATABASE and TABLESPACE, ALTER SYSTEM.
	 */
	SQL_STMT_NO_TX,
	SQL_STMT_FK_OFF, /* SQLite: PRAGMA foreign_keys = OFF (0, false, no) */
	SQL_STMT_FK_ON,  /* SQLite: PRAGMA foreign_keys = ON (1, true, yes) */
};

/*
 * Classifies one statement as sqllex_split found it (stmt[0..len)). When it
 * is not SQL_STMT_OTHER, what (whatlen bytes) is set to its leading words
 * as written, for messages ("COMMIT", "PRAGMA journal_mode").
 */
enum sql_stmt_kind sqllex_classify(const char *stmt, size_t len, enum sql_dialect dialect,
				   char *what, size_t whatlen);

/*
 * The significant tokens the scanner saw, for tools that read statements
 * (lint): comments are never tokens, and a string or a quoted identifier is
 * one token of its own kind, so a keyword inside one is never a word.
 */
enum sql_token_kind {
	SQL_TOKEN_WORD,   /* a keyword or an unquoted identifier */
	SQL_TOKEN_IDENT,  /* a quoted identifier: "x" (not MySQL), `x`, [x] */
	SQL_TOKEN_STRING, /* '...', E'...', $tag$...$tag$, MySQL "..." */
	SQL_TOKEN_CODE,   /* MySQL's executable comment, kept whole */
	SQL_TOKEN_OTHER,  /* one character of anything else: digits, ( ) , . = ... */
};

struct sql_token {
	size_t off, len;  /* into the scanned text */
	int line;
	enum sql_token_kind kind;
};

struct sql_tokens {
	struct sql_token *v;
	size_t n, cap;
};

/*
 * sqllex_split, also appending every significant token to toks and setting
 * each statement's tok/ntok range. The statements are exactly
 * sqllex_split's.
 */
int sqllex_tokens(const char *text, size_t len, enum sql_dialect dialect, int first_line,
		  struct sql_stmts *out, struct sql_tokens *toks, char *errbuf, size_t errlen);

void sql_tokens_release(struct sql_tokens *t);

#endif
