/*
 * migration.h - migration and seed files: discovery, names, sections, checksums.
 *
 * A migration file is migrations/<version>_<name>.sql; a seed is
 * seeds/<order>_<name>.sql or seeds/<order>_<table>.csv. Sections start at marker lines:
 *
 *     -- migrate:up [dialect] [transaction:false] [lock_wait:3s] [retries:5] [statement_timeout:1m]
 *     -- migrate:down [dialect] [transaction:false] [nothing]
 *
 * A dialect-qualified section replaces the generic one on that driver only.
 * 'nothing' says there is nothing to undo (on that database): rolling back
 * removes the row and runs no statement; its body must be empty, whereas
 * an empty down section without it makes the migration irreversible.
 * Parsing picks the sections for one dialect, so everything below describes
 * the file as the chosen database will see it. Files are fully parsed and
 * checked before anything touches the database.
 */
#ifndef MIGRATE_MIGRATION_H
#define MIGRATE_MIGRATION_H

#include <stddef.h>
#include <stdint.h>

#include "../drivers/driver.h"
#include "migrate.h"
#include "sqllex.h"

/* A span of a section's body that runs as one statement, as it is (not split). */
struct section_block {
	size_t off, len;  /* in migration.text */
	int line;         /* the file line of its first character */
};

#define SECTION_GIVES_LOCK_WAIT         (1u << 0)
#define SECTION_GIVES_RETRIES           (1u << 1)
#define SECTION_GIVES_STATEMENT_TIMEOUT (1u << 2)

struct section {
	int present;      /* a marker for it exists */
	int transaction;  /* 0 for transaction:false */
	int nothing;      /* a down section marked 'nothing': nothing to undo on this database */
	size_t off, len;  /* the body, in migration.text */
	int line;         /* the file line of the body's first character */
	/*
	 * Other tools' layouts (layout.c): the file the body is in when it is
	 * not the migration's own path (golang-migrate's .down.sql, Flyway's
	 * U file), NULL otherwise; and the spans the layout says are one
	 * statement each (goose's StatementBegin/StatementEnd), in order.
	 * Both owned by the migration.
	 */
	char *path;
	struct section_block *blocks;
	size_t nblocks;
	int literal;      /* run as written: no ${...} placeholders (the tool that wrote it had none) */
	/*
	 * Options after the marker (SPEC section 9): each value counts only
	 * when its bit is in given (a section made any other way gives none).
	 */
	long long lock_wait_ms;
	int retries;
	long long statement_timeout_ms;
	unsigned given; /* SECTION_GIVES_* */
};

struct migration {
	char *version;         /* canonical decimal, no leading zeros (version_canonical) */
	char *name;            /* the part after the version */
	char *filename;        /* base name */
	char *path;            /* as found: directory joined with filename */
	char *text;            /* the file as it runs (CRLF read as LF, except on PostgreSQL, as the clients do) */
	size_t len;
	char checksum[65];     /* SHA-256 hex of text, every line ending read as LF */
	char checksum_sql[65]; /* SHA-256 hex of the chosen sections' statements, normalised */
	struct section up, down;
	/*
	 * A CSV seed (seeds/<order>_<table>.csv): name is the table, text is
	 * NULL (the file is streamed when it runs), checksum is of its bytes.
	 */
	int csv;
	int csv_placeholders;  /* the file holds "${" */
};

struct migration_set {
	struct migration *v; /* sorted by version */
	size_t n, cap;
	const char *format;  /* the layout the files were read in ("migrate", "goose", ...); static */
};

/*
 * Parses text (a file's whole contents, len bytes, taken over by m) for the
 * given dialect. is_seed: a file with no markers is one up section. Fills
 * everything but the version, name and path fields. On error, returns
 * MIGRATE_EUSAGE with "path:line: ..." in err and m is released.
 */
enum migrate_result migration_parse(struct migration *m, const char *path, char *text,
				    size_t len, enum sql_dialect dialect, const char *dialect_name,
				    int is_seed, struct migrate_error *err);

/*
 * Reads every <version>_<name>.sql in dir, parsed for the dialect, into out
 * (sorted by version). A missing directory is an empty set. A *.sql file
 * whose name does not match (all of them named in one message), duplicate
 * versions, unreadable or malformed files are MIGRATE_EUSAGE, unless the
 * file name matches one of the glob patterns in ignore (separated by
 * whitespace; NULL for none), which are skipped. Hidden files and other
 * extensions are not looked at.
 */
enum migrate_result migration_scan(const char *dir, enum sql_dialect dialect,
				   const char *dialect_name, const char *ignore,
				   struct migration_set *out, struct migrate_error *err);

/*
 * Seeds: <order>_<name>.sql and <order>_<table>.csv in dir, in order
 * (numeric order, then file name), under the same rules: another *.sql or
 * *.csv is an error unless ignored. Unlike migrations, two seeds may share
 * an order number.
 */
enum migrate_result seed_scan(const char *dir, enum sql_dialect dialect, const char *dialect_name,
			      const char *ignore, struct migration_set *out, struct migrate_error *err);

/*
 * MIGRATE_EUSAGE, naming dir, unless it is a directory: a mistyped
 * --migrations-dir or --seeds-dir must not read as "nothing to do" (as in
 * dbmate). what is "migrations" or "seeds"; fix says how to put it right.
 */
enum migrate_result migration_dir_check(const char *dir, const char *what, const char *fix,
					struct migrate_error *err);

/*
 * Versions are numbers of any size (real histories use 20-digit ones), so
 * they are kept as canonical decimal strings: digits, no leading zeros
 * ("0" for zero), compared as numbers by length, then byte by byte.
 * Flyway's dotted versions (1.2.3) are numbers separated by single dots,
 * compared part by part, a missing part counting as 0, as Flyway does:
 * 1.10 > 1.9, and 1.0 is 1. Their canonical form drops leading zeros in
 * each part and trailing .0 parts.
 *
 * version_canonical: the canonical form of s[0..len) (the caller frees),
 * or NULL when it is empty or anything but digits and single inner dots.
 * version_valid: whether it would be one.
 */
char *version_canonical(const char *s, size_t len);
int version_valid(const char *s, size_t len);

/*
 * Compares two versions as numbers: -1, 0 or 1. Leading zeros are
 * ignored, so the arguments need not be canonical, but they must be
 * valid. version_cmpn takes lengths (a seed's order inside its name).
 */
int version_cmp(const char *a, const char *b);
int version_cmpn(const char *a, size_t la, const char *b, size_t lb);

/* A name holds letters, digits, '_', '-' and '.', at least one. */
int migration_name_valid(const char *s, size_t len);

/*
 * The down section as it is stored with an applied migration or seed (the
 * down_sql column): its marker with its options (the dialect left out: it
 * was chosen for this database) and its body. NULL when there is none;
 * the caller frees.
 */
char *migration_down_text(const struct migration *m);

/*
 * Splits a section into the statements a driver runs, as sqllex_split
 * does (statement offsets relative to sec->off, errors "line N: ..."),
 * except that each of the section's blocks is one statement, as it is.
 */
int section_split(const char *text, const struct section *sec, enum sql_dialect dialect,
		  struct sql_stmts *out, struct strbuf *norm, char *errbuf, size_t errlen);

/*
 * For layout.c, which reads other tools' files into the same struct:
 * migration_text_prepare turns a file's text into the text that runs, as
 * migration_parse does (CRLF to LF except on PostgreSQL, in place, s[len]
 * writable), returning the new length; migration_bom_len is the length of
 * a UTF-8 byte-order mark at s (0 or 3), which is not SQL;
 * migration_checksums sets checksum (line endings read as LF) and
 * checksum_sql (of the sections) once the sections are filled,
 * MIGRATE_EUSAGE with path:line for a lexer error.
 */
size_t migration_text_prepare(char *s, size_t len, enum sql_dialect dialect);
size_t migration_bom_len(const char *s, size_t len);
enum migrate_result migration_checksums(struct migration *m, const char *path, enum sql_dialect dialect,
					struct migrate_error *err);

/* Is fn (a base name) one of the 'ignore' setting's patterns (globs separated by whitespace)? */
int migration_ignored(const char *ignore, const char *fn);

void migration_release(struct migration *m);
void migration_set_release(struct migration_set *s);

/* The migration with that (canonical) version, or NULL. */
struct migration *migration_find(const struct migration_set *s, const char *version);

#endif
