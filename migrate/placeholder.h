/*
 * placeholder.h - ${...} placeholders in migrations and seeds (SPEC section 6).
 *
 *   ${NAME}       a value from the config's [placeholders] section
 *   ${env}        the environment's name
 *   ${driver}     the driver's name: sqlite, postgres, mysql
 *   ${uuid:KEY}   a UUID made once per run for each KEY: the same at every
 *                 use of KEY in that run, in every file, so rows link
 *   $${           a literal ${
 *
 * Placeholders are expanded per statement after the lexer has split a
 * section (so file lines stay right: no expansion holds a newline), and in
 * each CSV cell. Checksums are always of the raw text, so a run's new UUIDs
 * never look like a changed file.
 */
#ifndef MIGRATE_PLACEHOLDER_H
#define MIGRATE_PLACEHOLDER_H

#include <stddef.h>
#include <stdint.h>

struct placeholder_uuid {
	char *key;
	char uuid[37];
};

struct placeholders {
	/* borrowed from the config, which outlives this */
	const char *env;
	const char *driver;
	char *const *names;  /* [placeholders] names, lowercase (iniparser's) */
	char *const *values;
	size_t n;
	int uuid_version;    /* 1 (time-based, the default), 4 (random) or 7 (Unix time, sortable) */

	/* the run's UUIDs, made on first use */
	struct placeholder_uuid *uuids;
	size_t nuuids, cap;
	uint64_t v7_ms;      /* monotonic v7: the last millisecond used and its counter */
	unsigned v7_seq;
};

/* Is there anything to expand (a "${") in s[0..len)? */
int placeholder_any(const char *s, size_t len);

/*
 * Expands s[0..len), which starts on file line `line`. Returns a new
 * NUL-terminated string the caller frees, with *out_len its length; or
 * NULL with a message in msg ("unknown placeholder '${x}' ...") and *errline
 * the file line of the bad placeholder.
 */
char *placeholder_expand(struct placeholders *ph, const char *s, size_t len, size_t *out_len,
			 int line, int *errline, char *msg, size_t msglen);

/* Writes a new UUID of ph->uuid_version, as 36 characters and a NUL. */
void placeholder_new_uuid(struct placeholders *ph, char out[37]);

/* Frees the run's UUIDs (not the borrowed strings). */
void placeholders_release(struct placeholders *ph);

#endif
