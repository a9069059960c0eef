/*
 * api.c - opening and closing a handle, 'new', and the small accessors.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "lint.h"
#include "layout.h"

void emit(migrate *m, enum migrate_event_kind kind, const char *version, const char *name,
	  const char *message, long long duration_ms, long long rows)
{
	struct migrate_event ev;

	if (!m->opt.progress)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.version = version;
	ev.name = name;
	ev.message = message;
	ev.duration_ms = duration_ms;
	ev.rows = rows;
	m->opt.progress(m->opt.progress_ctx, &ev);
}

void emitf(migrate *m, enum migrate_event_kind kind, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	emit(m, kind, NULL, NULL, strbuf_str(&sb), 0, 0);
	strbuf_release(&sb);
}

enum migrate_result api_scan_migrations(migrate *m, struct migrate_error *err)
{
	size_t i;

	if (m->migs_scanned)
		return MIGRATE_OK;
	/*
	 * A missing directory is an error, as in dbmate: a mistyped
	 * --migrations-dir must not read as "nothing to migrate".
	 */
	if (migration_dir_check(m->cfg.migrations_dir, "migrations",
				"create it ('migrate new NAME' does), or point --migrations-dir or migrations_dir at the right one",
				err))
		return err->code;
	/* in the configured layout, or the one the files are in (layout.c) */
	if (layout_scan(m->cfg.migrations_dir, (enum layout_format)m->cfg.format, m->cfg.drv->dialect,
			m->cfg.drv->name, m->cfg.ignore, &m->migs, err))
		return err->code;
	/* placeholders included: an unknown one is a file error, found before anything runs */
	for (i = 0; i < m->migs.n; i++)
		if (db_check_placeholders(m, m->migs.v[i].path, m->migs.v[i].text, &m->migs.v[i].up, err) ||
		    db_check_placeholders(m, m->migs.v[i].path, m->migs.v[i].text, &m->migs.v[i].down, err))
			return err->code;
	m->migs_scanned = 1;
	return MIGRATE_OK;
}

enum migrate_result migrate_open(const struct migrate_options *options, migrate **out,
				 struct migrate_error *err)
{
	return api_open(options, NULL, out, err);
}

enum migrate_result api_open(const struct migrate_options *options, struct driver_conn **conn, migrate **out,
			     struct migrate_error *err)
{
	struct migrate_options none = MIGRATE_OPTIONS_INIT;
	migrate *m;

	merr_clear(err);
	*out = NULL;
	m = xcalloc(1, sizeof(*m));
	pthread_mutex_init(&m->mu, NULL);
	atomic_init(&m->interrupted, 0);
	if (conn) {
		m->reuse = *conn;
		*conn = NULL;
	}
	m->opt = options ? *options : none;
	if (config_load(&m->opt, !m->opt.no_database, &m->cfg, err) || lint_check_config(&m->cfg, err))
		goto fail;
	m->ph.env = m->cfg.env;
	m->ph.driver = m->cfg.driver_name;
	m->ph.names = m->cfg.ph_names;
	m->ph.values = m->cfg.ph_values;
	m->ph.n = m->cfg.nph;
	m->ph.uuid_version = m->cfg.uuid_version;
	if (!m->opt.no_database && !m->opt.no_connect) {
		/* every file is read and checked before the database is touched */
		if (api_scan_migrations(m, err) || db_connect(m, err))
			goto fail;
	}
	*out = m;
	return MIGRATE_OK;
fail:
	if (conn) /* the caller's again, for the next run */
		*conn = db_detach(m);
	migrate_close(m);
	return err->code;
}

void migrate_close(migrate *m)
{
	if (!m)
		return;
	db_close(m);
	db_server_close(m, m->testdb_server);
	migration_set_release(&m->migs);
	placeholders_release(&m->ph);
	config_release(&m->cfg);
	free(m->schema);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

const char *migrate_driver_name(const migrate *m)
{
	return m->cfg.driver_name ? m->cfg.driver_name : "";
}

const char *migrate_display_url(const migrate *m)
{
	return m->cfg.display_url ? m->cfg.display_url : "";
}

const char *migrate_env_name(const migrate *m)
{
	return m->cfg.env;
}

const char *migrate_migrations_dir(const migrate *m)
{
	return m->cfg.migrations_dir;
}

const char *migrate_migrations_format(const migrate *m)
{
	return m->migs.format ? m->migs.format : "";
}

const char *const *migrate_drivers(void)
{
	static const char *names[8];
	size_t i;

	if (!names[0])
		for (i = 0; driver_list[i] && i < 7; i++)
			names[i] = driver_list[i]->name;
	return names;
}

static int mkdir_p(const char *dir)
{
	char *p = xstrdup(dir), *s;
	int r = 0;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) && errno != EEXIST)
			r = -1;
		*s = '/';
	}
	if (mkdir(p, 0777) && errno != EEXIST)
		r = -1;
	else
		r = 0;
	free(p);
	return r;
}

/* Is there a file named <version>_* in dir already, its version the number stamp (0 padding or not)? */
static int version_taken(const char *dir, const char *stamp)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int taken = 0;

	if (!d)
		return 0;
	while (!taken && (de = readdir(d)) != NULL) {
		size_t k = strspn(de->d_name, "0123456789");
		taken = k && de->d_name[k] == '_' && version_cmpn(de->d_name, k, stamp, strlen(stamp)) == 0;
	}
	closedir(d);
	return taken;
}

/* Writes a new file (it must not exist) with text; on failure nothing is left behind. */
static enum migrate_result write_new(const char *p, const char *text, struct migrate_error *err)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0666), werr;
	FILE *f;

	if (fd < 0)
		return merr_set(err, MIGRATE_EUSAGE, "cannot create '%s': %s", p, strerror(errno));
	f = fdopen(fd, "w");
	werr = !f || fputs(text, f) == EOF ? errno : 0;
	if (f && fclose(f) != 0 && !werr)
		werr = errno;
	if (werr) {
		merr_set(err, MIGRATE_EUSAGE, "cannot write '%s': %s", p, strerror(werr));
		if (!f)
			close(fd);
		/* an empty or cut file would be a malformed migration for every later run */
		unlink(p);
		return err->code;
	}
	return MIGRATE_OK;
}

enum migrate_result migrate_new(migrate *m, const char *name, char **path,
				struct migrate_error *err)
{
	struct layout_new files[2];
	enum layout_format f;
	char stamp[16], *p[2] = { NULL, NULL };
	struct tm tm;
	time_t t = time(NULL);
	size_t n, i;

	merr_clear(err);
	*path = NULL;
	if (!name || !migration_name_valid(name, strlen(name)))
		return merr_set(err, MIGRATE_EUSAGE,
				"migration name '%s' is not valid: use letters, digits, '_', '-' and '.' (e.g. add_orders)",
				name ? name : "");
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
	if (version_taken(m->cfg.migrations_dir, stamp))
		return merr_set(err, MIGRATE_EUSAGE,
				"a migration with version %s already exists in '%s'; wait a second and try again",
				stamp, m->cfg.migrations_dir);
	/* in the directory's own layout, so a golang-migrate or goose project stays one */
	if (layout_detect(m->cfg.migrations_dir, (enum layout_format)m->cfg.format, m->cfg.ignore, &f, err))
		return err->code;
	if (mkdir_p(m->cfg.migrations_dir))
		return merr_set(err, MIGRATE_EUSAGE, "cannot create directory '%s': %s", m->cfg.migrations_dir,
				strerror(errno));
	n = layout_new_files(f, stamp, name, files);
	for (i = 0; i < n; i++) {
		p[i] = path_join(m->cfg.migrations_dir, files[i].filename);
		free(files[i].filename);
	}
	for (i = 0; i < n; i++) {
		if (write_new(p[i], files[i].text, err)) {
			if (i) /* the up file of a pair without its down file */
				unlink(p[0]);
			free(p[0]);
			free(p[1]);
			return err->code;
		}
	}
	free(p[1]);
	*path = p[0];
	return MIGRATE_OK;
}

static enum migrate_result need_settings(migrate *m, struct migrate_error *err)
{
	merr_clear(err);
	if (!m || !m->cfg.drv)
		return merr_set(err, MIGRATE_EUSAGE, "no database configured");
	return MIGRATE_OK;
}

enum migrate_result migrate_create_database(migrate *m, struct migrate_error *err)
{
	if (need_settings(m, err))
		return err->code;
	return db_create_database(m, err);
}

enum migrate_result migrate_drop_database(migrate *m, struct migrate_error *err)
{
	if (need_settings(m, err))
		return err->code;
	return db_drop_database(m, err);
}

enum migrate_result migrate_wait(migrate *m, int timeout_s, struct migrate_error *err)
{
	long long deadline = now_ms() + (long long)timeout_s * 1000;
	struct driver_error derr = { "", -1 };
	struct timespec pause = { 0, 250 * 1000000L };

	if (need_settings(m, err))
		return err->code;
	for (;;) {
		enum driver_result r;

		if (db_interrupted(m))
			return merr_set(err, MIGRATE_EINTR, "interrupted while waiting for %s", m->cfg.display_url);
		r = db_try_connect(m, &derr);
		if (r == DRIVER_OK)
			return MIGRATE_OK;
		if (r != DRIVER_ECONNECT) /* settings that can never work: no use waiting */
			return merr_set(err, db_map_result(r), "cannot connect to %s: %s", m->cfg.display_url,
					derr.message);
		if (now_ms() >= deadline)
			return merr_set(err, MIGRATE_ECONNECT, "%s did not accept connections within %d s: %s",
					m->cfg.display_url, timeout_s, derr.message);
		nanosleep(&pause, NULL);
	}
}
