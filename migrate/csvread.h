/*
 * csvread.h - reading CSV seed files as a stream, with the file line of
 * every record.
 *
 * The rules are PostgreSQL's CSV format: comma-separated, '"' quotes, a
 * doubled quote inside a quoted field is one quote, quoted fields may hold
 * commas and line breaks, an unquoted empty field is NULL and a quoted
 * empty field ("") is an empty string. Spaces are data (nothing is
 * trimmed). Records end at LF or CRLF; blank lines are skipped. A UTF-8
 * byte-order mark at the start is skipped; every field must be valid UTF-8
 * without NUL bytes.
 *
 * The file is read in blocks through libcsv, so memory holds one record
 * (and one block) however large the file is; a single field is limited to
 * CSVREAD_MAX_FIELD bytes, so a quote that is never closed fails early
 * instead of swallowing the file.
 */
#ifndef MIGRATE_CSVREAD_H
#define MIGRATE_CSVREAD_H

#include <stddef.h>

#define CSVREAD_MAX_FIELD (64u << 20)

/*
 * Called for each record, the header first. line is the file line where
 * the record starts; fields[i] is NUL-terminated (lens[i] bytes), or NULL
 * for an unquoted empty field. Everything is borrowed for the call. Return
 * 0 to go on; anything else stops the read and is csvread_file's result.
 */
typedef int (*csvread_row_fn)(void *ctx, long line, size_t nfields, char *const *fields,
			      const size_t *lens);

/* Called after each block read: bytes so far and the file's size. */
typedef void (*csvread_progress_fn)(void *ctx, long long done, long long total);

/*
 * Reads path. Returns 0 when every record was read; the row callback's
 * non-zero result when it stopped the read; or -1 with "line N: what" in
 * msg for a file that cannot be read or is not valid CSV (*errline is N,
 * 0 when no line applies).
 */
int csvread_file(const char *path, csvread_row_fn row, csvread_progress_fn progress, void *ctx,
		 long *errline, char *msg, size_t msglen);

/* Is s[0..len) valid UTF-8? */
int csvread_utf8_valid(const char *s, size_t len);

#endif
