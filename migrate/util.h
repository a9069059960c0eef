/*
 * util.h - small helpers shared by the core library, the drivers and the CLI.
 *
 * Allocation failure is fatal (xmalloc and friends abort), so every result
 * code in the library describes a real-world failure, never "out of memory".
 * A strbuf is a growable, always NUL-terminated byte buffer.
 */
#ifndef MIGRATE_UTIL_H
#define MIGRATE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#if defined(__GNUC__)
#define MIGRATE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MIGRATE_PRINTF(f, a)
#endif

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Copies of strings; xstrdup(NULL) returns NULL. The caller frees. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) MIGRATE_PRINTF(1, 2);

/* Grows *arr (of *cap elements of size elem) so it holds at least need. */
void xgrow(void *arr, size_t *cap, size_t need, size_t elem);

struct strbuf {
	char *buf;     /* always NUL-terminated once anything was added */
	size_t len;
	size_t cap;
};

#define STRBUF_INIT { NULL, 0, 0 }

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) MIGRATE_PRINTF(2, 3);
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap) MIGRATE_PRINTF(2, 0);
/* Returns the buffer ("" when empty) and resets sb; the caller frees. */
char *strbuf_detach(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
/* The contents, or "" when nothing was added. Borrowed. */
const char *strbuf_str(const struct strbuf *sb);

/*
 * Reads a whole file into a NUL-terminated buffer the caller frees.
 * Returns 0, or an errno value (and *out is NULL). Files holding a NUL byte
 * are read whole; *len tells the real length.
 */
int read_file(const char *path, char **out, size_t *len);
/* Writes all len bytes to fd, through short writes. Returns 0 or an errno value. */
int write_all(int fd, const void *buf, size_t len);
/*
 * A new anonymous temporary file, open for reading and writing, in $TMPDIR
 * (else /tmp), already unlinked. NULL with errno set when it cannot be made.
 * (tmpfile() ignores TMPDIR.)
 */
FILE *tmpfile_open(void);

/* Joins dir and a relative path; absolute paths are returned as copies. */
char *path_join(const char *dir, const char *path);
/* The directory part of path ("." when it has none). The caller frees. */
char *path_dirname(const char *path);

/* Lowercase hex SHA-256 of data into out (65 bytes with the NUL). */
void sha256_hex(const void *data, size_t len, char out[65]);

/*
 * Lowercase hex SHA-256 of a file's bytes, read in blocks (memory stays
 * flat). *has_placeholder tells whether the file holds "${". Returns 0 or
 * an errno value.
 */
int sha256_file_hex(const char *path, char out[65], int *has_placeholder);

/*
 * Lowercase hex SHA-256 of what is left to read from fd (which the caller
 * closes), through a buffer on the stack: no allocation, no stdio, for
 * hashing many small files. Returns 0 or an errno value.
 */
int sha256_fd_hex(int fd, char out[65]);

/* Milliseconds from a monotonic clock. */
long long now_ms(void);
/* The current UTC time as "YYYY-MM-DD HH:MM:SS" (20 bytes with the NUL). */
void utc_timestamp(char out[20]);

/*
 * A duration as the config and migration options write it: digits with a
 * unit, "500ms", "3s", "2m", "1h" (a bare number is seconds), s[0..n).
 * Returns 0 and sets *ms, or -1 when it is not one (or above a year).
 */
int parse_duration_ms(const char *s, size_t n, long long *ms);
/*
 * The back-off before attempt k + 1 of something that waited in vain, in
 * milliseconds: uniformly 50-150 % of min(2^(k-1), 30) seconds, so that
 * runs which collided do not collide again in step (SPEC section 9).
 */
long long backoff_ms(int k);
/* Writes a duration in milliseconds back in that form ("3s", "500ms", "2m"). */
void format_duration(long long ms, char *out, size_t len);

#endif
