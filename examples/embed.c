/*
 * embed.c - a program that brings its own database up to date at start-up,
 * with libmigrate instead of the migrate command.
 *
 *   embed [URL | CONFIG_FILE] [MIGRATIONS_DIR]
 *
 * With a URL (postgres://..., mysql://..., sqlite:app.db) it connects there;
 * with a file name it reads that config.ini (environment from MIGRATE_ENV,
 * else "development"); with nothing, it does what 'migrate up' does: the
 * config from MIGRATE_CONFIG or ./config.ini, DATABASE_URL if set. The
 * migrations come from MIGRATIONS_DIR, else the config's migrations_dir,
 * else ./migrations.
 *
 * The library prints nothing: the progress callback below prints the
 * program's own lines, and a failure is a result code plus one message,
 * which the program prints before it exits with that code.
 *
 * Build it against an installed libmigrate with pkg-config (see Makefile):
 *
 *   cc -o embed embed.c $(pkg-config --cflags --static --libs migrate)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <migrate.h>

/* Called by the library for each step; everything in ev is borrowed. */
static void progress(void *ctx, const struct migrate_event *ev)
{
	const char *prog = ctx;

	switch (ev->kind) {
	case MIGRATE_EVENT_APPLYING:
		printf("%s: migrating to %s (%s)\n", prog, ev->version, ev->name);
		break;
	case MIGRATE_EVENT_APPLIED:
		printf("%s: migrated to %s in %lld ms\n", prog, ev->version, ev->duration_ms);
		break;
	case MIGRATE_EVENT_WARNING:
		fprintf(stderr, "%s: warning: %s\n", prog, ev->message);
		break;
	case MIGRATE_EVENT_NOTICE:
		printf("%s: %s\n", prog, ev->message);
		break;
	default:
		break;
	}
	fflush(stdout);
}

static int looks_like_url(const char *s)
{
	return strstr(s, "://") != NULL || strncmp(s, "sqlite:", 7) == 0;
}

int main(int argc, char **argv)
{
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	migrate *m = NULL;
	enum migrate_result r;
	char *version = NULL;

	if (argc > 3 || (argc > 1 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: embed [URL | CONFIG_FILE] [MIGRATIONS_DIR]\n");
		return MIGRATE_EUSAGE;
	}
	if (argc > 1) {
		if (looks_like_url(argv[1]))
			opt.url = argv[1];
		else
			opt.config_path = argv[1];
	}
	if (argc > 2)
		opt.migrations_dir = argv[2];
	opt.progress = progress;
	opt.progress_ctx = "embed";

	r = migrate_open(&opt, &m, &err);
	if (r == MIGRATE_OK)
		r = migrate_up(m, NULL, &err);
	if (r == MIGRATE_OK)
		r = migrate_current_version(m, &version, &err);
	if (r != MIGRATE_OK) {
		/* err.message never holds a password; the code is the CLI's exit code */
		fprintf(stderr, "embed: cannot migrate the database: %s\n", err.message);
		migrate_close(m);
		return r;
	}
	printf("embed: database %s is at version %s; starting\n", migrate_display_url(m),
	       version ? version : "none");
	/* version was allocated by the library for the caller: free it with the C library */
	free(version);
	migrate_close(m);
	return 0;
}
