/*
 * harness.c - a test harness that gives each test a database of its own,
 * fully migrated, with libmigrate's migrate_testdb(): no process per
 * database, and no migration replayed per test.
 *
 *   harness [CONFIG_FILE] [TESTS] [WORK_MS] [keep]
 *
 * It reads CONFIG_FILE (default: MIGRATE_CONFIG, else ./config.ini, with
 * the environment from MIGRATE_ENV) and runs TESTS tests (default 3), each
 * working WORK_MS milliseconds on its database (default 0). Each
 * test takes a new database (from the warm pool, or cloned from the
 * template), does its work on it, and drops it (with "keep", leaves it for
 * 'migrate testdb --gc' after the suite). Here the "work" is to open
 * the database with libmigrate and read its version; a real suite would
 * hand the URL to its own database client.
 *
 * The handle is opened with no_connect: testdb needs the server (or, for
 * SQLite, the directory), not the configured database itself.
 *
 * Build it like embed.c (see Makefile):
 *
 *   cc -o harness harness.c $(pkg-config --cflags --static --libs migrate)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <migrate.h>

/* One test: its own database, at the current migrations. */
static int run_test(int n, const char *url, const struct migrate_testdb_report *rep, long work_ms)
{
	struct timespec work = { work_ms / 1000, (work_ms % 1000) * 1000000L };
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	char *version = NULL;
	migrate *db;
	int ok;

	opt.url = url;
	if (migrate_open(&opt, &db, &err) != MIGRATE_OK) {
		fprintf(stderr, "harness: test %d: %s\n", n, err.message);
		return 0;
	}
	ok = migrate_current_version(db, &version, &err) == MIGRATE_OK && version;
	nanosleep(&work, NULL); /* the test's own work */
	if (ok)
		printf("harness: test %d: %s at version %s (%s, %lld ms)\n", n, rep->database, version,
		       rep->from_pool ? "from the pool" : "cloned", rep->ms);
	else
		fprintf(stderr, "harness: test %d: %s\n", n, version ? err.message : "the database has no migrations");
	free(version);
	migrate_close(db);
	return ok;
}

int main(int argc, char **argv)
{
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	int tests = argc > 2 ? atoi(argv[2]) : 3, n, failed = 0;
	long work_ms = argc > 3 ? atol(argv[3]) : 0;
	int keep = argc > 4 && strcmp(argv[4], "keep") == 0;
	migrate *m;

	opt.config_path = argc > 1 ? argv[1] : NULL;
	opt.no_connect = 1;
	if (migrate_open(&opt, &m, &err) != MIGRATE_OK) {
		fprintf(stderr, "harness: %s\n", err.message);
		return err.code;
	}
	for (n = 1; n <= tests; n++) {
		struct migrate_testdb_report rep;
		struct migrate_testdb_options take = { 0 };
		struct migrate_testdb_options drop = { 0 };
		char *url = NULL;

		take.with_password = 1; /* in-process: the URL is never printed */
		take.report = &rep;
		if (migrate_testdb(m, &take, &url, &err) != MIGRATE_OK) {
			fprintf(stderr, "harness: test %d: no database: %s\n", n, err.message);
			failed++;
			continue;
		}
		if (!run_test(n, url, &rep, work_ms))
			failed++;
		drop.drop_url = url;
		if (!keep && migrate_testdb(m, &drop, NULL, &err) != MIGRATE_OK) {
			fprintf(stderr, "harness: test %d: cannot drop its database: %s\n", n, err.message);
			failed++;
		}
		migrate_testdb_report_release(&rep);
		free(url);
	}
	migrate_close(m);
	printf("harness: %d tests, %d failed\n", tests, failed);
	return failed ? 1 : 0;
}
