/*
 * testdb.c - 'migrate testdb': a new database at the current migrations for
 * each test, as fast as the database allows (SPEC section 11).
 *
 * A template is built once per content hash (every migration file's name
 * and SHA-256, with --seed every seed file's too, the driver, migrate's
 * version, the environment, the tracking tables' names and the
 * [placeholders] values: everything that decides what the files make).
 * A test database is a clone of it by the driver's fastest means
 * (driver.h: clone_database), or better, a ready clone claimed from a warm
 * pool that a detached process refills after the call returns.
 *
 *   <prefix>_tpl_<hash>      the template
 *   <prefix>_<hash>_<n>      a test database, or a pool database
 *
 * The hash is in every name, so a template or pool database made from
 * files that changed since is never used: the new hash names other
 * databases. <n> is the maker's process id times 1000 plus a counter,
 * which is unique on one host; a clash (another host, an old database) is
 * DRIVER_EEXISTS and the next n is tried.
 *
 * Every database is made unsealed and sealed as the last step (driver.h):
 * only a sealed template is cloned, only a sealed pool database is
 * claimed, and the claim unseals it atomically. So a maker killed at any
 * point leaves an unsealed database that is never used and that gc
 * removes, and a build that fails drops what it made at once.
 *
 * Locks, on a connection to the server (driver.h: connect_server):
 *   "testdb:<template>"         building a template: parallel callers wait,
 *                               and look again once they hold it
 *   "testdb-refill:<template>"  the pool's refill: one at a time; a refill
 *                               that finds it taken leaves the work to the
 *                               holder, which looks again after releasing it
 *
 * Divisions: names and the hash; the server; building; clones and the
 * pool; the refill; gc and drop; the entry point.
 */
#define _GNU_SOURCE /* closefrom, pipe2 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

#define TESTDB_PREFIX       "migrate_test"
#define TESTDB_PREFIX_MAX   24
#define TESTDB_HASH_LEN     16
#define TESTDB_NAME_TRIES   1000
#define TESTDB_REFILL_ROUNDS 3

struct testdb {
	migrate *m;
	const struct driver *drv;
	const struct migrate_testdb_options *opt;
	struct migrate_testdb_report *rep;
	struct driver_conn *server;
	char *dir;             /* DRIVER_CAP_DATABASE_FILES: where the files are */
	const char *prefix;
	char hash[TESTDB_HASH_LEN + 1];
	char *tpl;             /* <prefix>_tpl_<hash> */
};

/* ---- names and the hash ----------------------------------------------------------- */

static int is_hex16(const char *s)
{
	size_t i;

	for (i = 0; i < TESTDB_HASH_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int prefix_valid(const char *p)
{
	size_t i, n = strlen(p);

	if (n == 0 || n > TESTDB_PREFIX_MAX || !(p[0] >= 'a' && p[0] <= 'z'))
		return 0;
	for (i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
			return 0;
	return 1;
}

/* Is name <prefix>_tpl_<hash>? Copies the hash to hash (may be NULL). */
static int is_template(const char *prefix, const char *name, char *hash)
{
	size_t n = strlen(prefix);

	if (strncmp(name, prefix, n) != 0 || strncmp(name + n, "_tpl_", 5) != 0)
		return 0;
	name += n + 5;
	if (strlen(name) != TESTDB_HASH_LEN || !is_hex16(name))
		return 0;
	if (hash)
		memcpy(hash, name, TESTDB_HASH_LEN + 1);
	return 1;
}

/* Is name <prefix>_<hash>_<n>? Copies the hash to hash (may be NULL). */
static int is_testdb(const char *prefix, const char *name, char *hash)
{
	size_t n = strlen(prefix), digits;

	if (strncmp(name, prefix, n) != 0 || name[n] != '_')
		return 0;
	name += n + 1;
	if (strlen(name) < TESTDB_HASH_LEN + 2 || !is_hex16(name) || name[TESTDB_HASH_LEN] != '_')
		return 0;
	digits = strlen(name + TESTDB_HASH_LEN + 1);
	if (digits < 1 || digits > 19 || strspn(name + TESTDB_HASH_LEN + 1, "0123456789") != digits)
		return 0;
	if (hash) {
		memcpy(hash, name, TESTDB_HASH_LEN);
		hash[TESTDB_HASH_LEN] = '\0';
	}
	return 1;
}

/* A new test or pool database name for this hash. The caller frees. */
static char *fresh_name(const struct testdb *t)
{
	static atomic_ulong seq;
	unsigned long k = atomic_fetch_add(&seq, 1);

	return xasprintf("%s_%s_%lu", t->prefix, t->hash, (unsigned long)getpid() * 1000UL + k % 1000UL);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Adds "<kind> <file name> <SHA-256 of its bytes>" for every .sql (and
 * with csv, .csv) file of dir, in name order. The bytes, not the parsed
 * files: a hand-out from the pool needs only the hash, and the same bytes
 * always parse the same way, so the files are parsed only to build. This
 * reads every file on every call, so it is lean: each file is opened
 * relative to the directory and read into a buffer on the stack (four
 * system calls, no allocation).
 */
static enum migrate_result hash_dir(const char *dir, const char *kind, int csv, struct strbuf *sb,
				    struct migrate_error *err)
{
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d) {
		if (errno == ENOENT)
			return MIGRATE_OK;
		return merr_set(err, MIGRATE_EUSAGE, "cannot read %s directory '%s': %s", kind, dir, strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 4 ||
		    (strcmp(de->d_name + len - 4, ".sql") != 0 && !(csv && strcmp(de->d_name + len - 4, ".csv") == 0)))
			continue;
		xgrow(&names, &cap, n + 1, sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		char hex[65];
		int r = 0, fd;

		if (!err->code) {
			fd = openat(dirfd(d), names[i], O_RDONLY | O_CLOEXEC);
			r = fd < 0 ? errno : sha256_fd_hex(fd, hex);
			if (fd >= 0)
				close(fd);
		}
		if (r) {
			char *path = path_join(dir, names[i]);

			merr_set(err, MIGRATE_EUSAGE, "cannot read %s '%s': %s", kind, path, strerror(r));
			free(path);
		} else if (!err->code) {
			strbuf_addf(sb, "%s %s %s\n", kind, names[i], hex);
		}
		free(names[i]);
	}
	closedir(d);
	free(names);
	return err->code;
}

static enum migrate_result content_hash(struct testdb *t, struct migrate_error *err)
{
	migrate *m = t->m;
	struct strbuf sb = STRBUF_INIT;
	char hex[65];
	size_t i;

	strbuf_addf(&sb, "migrate %s\ndriver %s\nenv %s\ntable %s\nseeds_table %s\nseed %d\n", MIGRATE_VERSION,
		    m->cfg.drv->name, m->cfg.env, m->cfg.table, m->cfg.seeds_table, t->opt->seed != 0);
	for (i = 0; i < m->cfg.nph; i++)
		strbuf_addf(&sb, "placeholder %s=%s\n", m->cfg.ph_names[i],
			    m->cfg.ph_values[i] ? m->cfg.ph_values[i] : "");
	if (hash_dir(m->cfg.migrations_dir, "migration", 0, &sb, err) ||
	    (t->opt->seed && hash_dir(m->cfg.seeds_dir, "seed", 1, &sb, err))) {
		strbuf_release(&sb);
		return err->code;
	}
	sha256_hex(sb.buf, sb.len, hex);
	memcpy(t->hash, hex, TESTDB_HASH_LEN);
	t->hash[TESTDB_HASH_LEN] = '\0';
	strbuf_release(&sb);
	return MIGRATE_OK;
}

/* The database setting for a name: the name, or a path in the directory. The caller frees. */
static char *db_setting(const struct testdb *t, const char *name)
{
	return t->dir ? path_join(t->dir, name) : xstrdup(name);
}

/* The URL of a database of the configured server. The caller frees. */
static char *db_url_of(const struct testdb *t, const char *name, enum url_password pw)
{
	struct db_url u = t->m->cfg.conn;
	char *setting = db_setting(t, name), *url;

	u.database = setting;
	url = db_url_format(&u, pw);
	free(setting);
	return url;
}

/* ---- the server ------------------------------------------------------------------ */

struct dbent {
	char *name;
	int sealed;
	unsigned long long age;
};

struct dblist {
	struct dbent *v;
	size_t n, cap;
};

static int dblist_add(void *ctx, int ncols, const char *const *values)
{
	struct dblist *l = ctx;

	if (ncols < 3 || !values[0])
		return 0;
	xgrow(&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n].name = xstrdup(values[0]);
	l->v[l->n].sealed = values[1] && strcmp(values[1], "1") == 0;
	l->v[l->n].age = values[2] ? strtoull(values[2], NULL, 10) : 0;
	l->n++;
	return 0;
}

static void dblist_release(struct dblist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static const struct dbent *dblist_find(const struct dblist *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

static enum migrate_result driver_fail(struct migrate_error *err, enum driver_result r, const char *what,
				       const char *name, const struct driver_error *derr)
{
	return merr_set(err, db_map_result(r), "testdb: cannot %s '%s': %s", what, name, derr->message);
}

static enum migrate_result server_connect(struct testdb *t, struct driver_conn **out, struct migrate_error *err)
{
	struct driver_error derr = { "", -1 };
	enum driver_result r = db_server_connect(t->m, t->dir, out, &derr);

	if (r != DRIVER_OK) {
		*out = NULL;
		return merr_set(err, r == DRIVER_ECONNECT ? MIGRATE_ECONNECT : db_map_result(r),
				"testdb: cannot connect to the server of %s: %s", t->m->cfg.display_url, derr.message);
	}
	return MIGRATE_OK;
}

/*
 * The server connection, opened in a thread of its own while the caller
 * hashes the files (the hash needs no connection, the connection no hash):
 * loading the client library, the server's start of a session and the
 * round trips of the authentication then overlap the reading of every
 * migration file instead of following it.
 */
struct connecting {
	pthread_t thread;
	struct testdb *t;          /* read only while the thread runs */
	struct driver_conn *server;
	struct migrate_error err;
};

static void *connecting_run(void *arg)
{
	struct connecting *c = arg;

	server_connect(c->t, &c->server, &c->err);
	return NULL;
}

/* Starts the connection; 0 when no thread could be made (the caller connects itself). */
static int connecting_start(struct connecting *c, struct testdb *t)
{
	memset(c, 0, sizeof(*c));
	c->t = t;
	merr_clear(&c->err);
	return pthread_create(&c->thread, NULL, connecting_run, c) == 0;
}

/*
 * Waits for the connection and keeps it in the handle; an error of the
 * caller's (already in err) comes first, as it would have without the
 * overlap, and the connection is then closed.
 */
static enum migrate_result connecting_end(struct connecting *c, struct migrate_error *err)
{
	pthread_join(c->thread, NULL);
	if (err->code)
		db_server_close(c->t->m, c->server);
	else if (c->err.code)
		*err = c->err;
	else
		c->t->m->testdb_server = c->server;
	return err->code;
}

/* The databases whose names begin with start. */
static enum migrate_result list_dbs_from(struct testdb *t, const char *start, struct dblist *l,
					 struct migrate_error *err)
{
	struct driver_error derr = { "", -1 };
	enum driver_result r;

	dblist_release(l);
	r = db_list_databases(t->m, t->server, start, dblist_add, l, &derr);
	if (r != DRIVER_OK)
		driver_fail(err, r, "list the databases beginning with", start, &derr);
	return err->code;
}

/* The databases whose names begin with "<prefix>_". */
static enum migrate_result list_dbs(struct testdb *t, struct dblist *l, struct migrate_error *err)
{
	char *start = xasprintf("%s_", t->prefix);

	list_dbs_from(t, start, l, err);
	free(start);
	return err->code;
}

static enum migrate_result lock_named(struct testdb *t, const char *kind, int timeout_s, struct migrate_error *err)
{
	struct driver_error derr = { "", -1 };
	char *name = xasprintf("%s:%s", kind, t->tpl);
	enum driver_result r = db_server_lock(t->m, t->server, name, timeout_s, &derr);

	if (r == DRIVER_ELOCK)
		merr_set(err, MIGRATE_ELOCK, "testdb: another migrate holds the lock '%s'; gave up after %d s: %s",
			 name, timeout_s, derr.message);
	else if (r != DRIVER_OK)
		driver_fail(err, r, "take the lock", name, &derr);
	free(name);
	return err->code;
}

static void unlock_server(struct testdb *t)
{
	db_server_unlock(t->m, t->server);
}

static void drop_quietly(struct testdb *t, const char *name)
{
	struct driver_error ignored;

	db_drop_named_database(t->m, t->server, name, &ignored);
}

static enum migrate_result seal(struct testdb *t, const char *name, struct migrate_error *err)
{
	struct driver_error derr = { "", -1 };
	enum driver_result r = db_seal_database(t->m, t->server, name, &derr);

	if (r != DRIVER_OK)
		return driver_fail(err, r, "seal", name, &derr);
	return MIGRATE_OK;
}

/* ---- building -------------------------------------------------------------------- */

/*
 * Runs every migration (and with --seed every seed) in the empty database
 * name, through the handle: its connection, database setting and display
 * URL are swapped for the run and put back after it. The database is new
 * and nobody else knows it yet, so no run-wide lock is taken (the handle
 * counts as holding one), and the run's events are not reported: the
 * output of testdb is the URL.
 */
static enum migrate_result run_history(struct testdb *t, const char *name, struct migrate_error *err)
{
	migrate *m = t->m;
	struct driver_conn *conn = m->conn;
	const char *database = m->cfg.settings.database;
	char *display = m->cfg.display_url;
	migrate_progress_fn progress = m->opt.progress;
	char *setting = db_setting(t, name);
	struct migrate_up_options all = { .to = NULL }; /* as up: lint enforced as configured */
	int locked = m->locked;

	if (api_scan_migrations(m, err)) {
		free(setting);
		return err->code;
	}
	m->conn = NULL;
	m->cfg.settings.database = setting;
	m->cfg.display_url = db_url_of(t, name, URL_PASSWORD_MASK);
	m->opt.progress = NULL;
	if (db_connect(m, err) == MIGRATE_OK) {
		m->locked = 1;
		if (runner_up_locked(m, &all, err) == MIGRATE_OK && t->opt->seed) {
			m->locked = 1;
			migrate_seed(m, NULL, err);
		}
		m->locked = 1;
		db_close(m);
	}
	free(m->cfg.display_url);
	free(setting);
	m->conn = conn;
	m->locked = locked;
	m->cfg.settings.database = database;
	m->cfg.display_url = display;
	m->opt.progress = progress;
	return err->code;
}

/*
 * Makes database name (which must not exist: DRIVER_EEXISTS otherwise)
 * from the migrations, unsealed. A failure drops what it made.
 */
static enum migrate_result build_from_files(struct testdb *t, const char *name, enum driver_result *dr,
					    struct migrate_error *err)
{
	struct driver_error derr = { "", -1 };

	*dr = DRIVER_OK;
	/* every file is read and checked before anything is made */
	if (api_scan_migrations(t->m, err))
		return err->code;
	*dr = db_clone_database(t->m, t->server, NULL, name, &derr);
	if (*dr == DRIVER_EEXISTS)
		return MIGRATE_OK;
	if (*dr != DRIVER_OK)
		return driver_fail(err, *dr, "create", name, &derr);
	if (run_history(t, name, err)) {
		char msg[sizeof(err->message)];
		enum migrate_result code = err->code;

		drop_quietly(t, name);
		snprintf(msg, sizeof(msg), "%s", err->message);
		merr_clear(err);
		return merr_set(err, code, "testdb: building '%s' failed (nothing of it is left): %s", name, msg);
	}
	return MIGRATE_OK;
}

/*
 * Makes sure the sealed template exists: builds it under the build lock
 * when it does not, after looking again (another caller may have built it
 * while this one waited). An unsealed one found then is what a killed
 * build left: it is dropped and built again.
 */
static enum migrate_result ensure_template(struct testdb *t, struct dblist *l, struct migrate_error *err)
{
	const struct dbent *e = dblist_find(l, t->tpl);
	enum driver_result dr;

	if (e && e->sealed)
		return MIGRATE_OK;
	if (lock_named(t, "testdb", t->m->cfg.lock_timeout, err))
		return err->code;
	if (list_dbs(t, l, err) == MIGRATE_OK) {
		e = dblist_find(l, t->tpl);
		if (!e || !e->sealed) {
			if (e)
				drop_quietly(t, t->tpl);
			if (build_from_files(t, t->tpl, &dr, err) == MIGRATE_OK && dr == DRIVER_EEXISTS)
				merr_set(err, MIGRATE_EFAIL, "testdb: '%s' exists and cannot be dropped", t->tpl);
			if (!err->code && seal(t, t->tpl, err))
				drop_quietly(t, t->tpl);
			if (!err->code && t->rep)
				t->rep->template_built = 1;
		}
	}
	unlock_server(t);
	return err->code;
}

/* ---- clones and the pool ------------------------------------------------------------ */

/*
 * Makes a new database of the template under a fresh name (*name, the
 * caller frees): the driver's clone, or, where the driver cannot copy what
 * the template holds, a build from the files. Unsealed.
 */
static enum migrate_result make_clone(struct testdb *t, char **name, struct migrate_error *err)
{
	struct driver_error derr = { "", -1 };
	enum driver_result r = DRIVER_EEXISTS;
	int tries, from_files = 0;

	*name = NULL;
	for (tries = 0; tries < TESTDB_NAME_TRIES && r == DRIVER_EEXISTS; tries++) {
		free(*name);
		*name = fresh_name(t);
		if (from_files) {
			if (build_from_files(t, *name, &r, err))
				break;
			continue;
		}
		r = db_clone_database(t->m, t->server, t->tpl, *name, &derr);
		if (r == DRIVER_EUNSUPPORTED) {
			from_files = 1;
			r = DRIVER_EEXISTS; /* go round again, building from the files */
			tries--;
		}
	}
	if (!err->code && r != DRIVER_OK) {
		if (r == DRIVER_EEXISTS)
			merr_set(err, MIGRATE_EFAIL, "testdb: no free name for a database like '%s'", *name);
		else
			driver_fail(err, r, "clone the template into", *name, &derr);
	}
	if (err->code) {
		free(*name);
		*name = NULL;
	}
	return err->code;
}

/* The sealed pool databases of this hash in l. */
static size_t pool_count(const struct testdb *t, const struct dblist *l)
{
	char hash[TESTDB_HASH_LEN + 1];
	size_t i, n = 0;

	for (i = 0; i < l->n; i++)
		if (l->v[i].sealed && is_testdb(t->prefix, l->v[i].name, hash) && strcmp(hash, t->hash) == 0)
			n++;
	return n;
}

/*
 * Claims a sealed pool database of this hash. Parallel callers start at
 * different places in the list so they seldom race for the same one; a
 * lost race just moves on. *name is NULL when the pool is empty.
 */
static enum migrate_result claim(struct testdb *t, const struct dblist *l, char **name, struct migrate_error *err)
{
	char hash[TESTDB_HASH_LEN + 1];
	size_t k, start;

	*name = NULL;
	if (!l->n)
		return MIGRATE_OK;
	start = (size_t)getpid() % l->n;
	for (k = 0; k < l->n; k++) {
		const struct dbent *e = &l->v[(start + k) % l->n];
		struct driver_error derr = { "", -1 };
		enum driver_result r;
		int claimed = 0;

		if (!e->sealed || !is_testdb(t->prefix, e->name, hash) || strcmp(hash, t->hash) != 0)
			continue;
		r = db_claim_database(t->m, t->server, e->name, &claimed, &derr);
		if (r != DRIVER_OK)
			return driver_fail(err, r, "claim", e->name, &derr);
		if (claimed) {
			*name = xstrdup(e->name);
			return MIGRATE_OK;
		}
	}
	return MIGRATE_OK;
}

/* ---- the refill ------------------------------------------------------------------- */

/*
 * Fills the pool to target sealed databases, one clone at a time, under
 * the refill lock. wait: wait for the lock up to lock_timeout (prefill);
 * else a refill that finds the lock taken returns at once, and the holder
 * looks again after releasing it, so no claim goes unreplaced. Stops when
 * the template is gone (gc) or a clone fails.
 */
static enum migrate_result refill(struct testdb *t, long target, int wait, long *ready, struct migrate_error *err)
{
	struct dblist l = { NULL, 0, 0 };
	int round;

	*ready = 0;
	for (round = 0; round < TESTDB_REFILL_ROUNDS; round++) {
		const struct dbent *e;

		if (lock_named(t, "testdb-refill", wait ? t->m->cfg.lock_timeout : 0, err)) {
			if (err->code == MIGRATE_ELOCK && !wait)
				merr_clear(err); /* another refill is at work */
			break;
		}
		while (list_dbs(t, &l, err) == MIGRATE_OK) {
			char *name;

			e = dblist_find(&l, t->tpl);
			*ready = (long)pool_count(t, &l);
			if (!e || !e->sealed || *ready >= target)
				break;
			if (make_clone(t, &name, err))
				break;
			if (seal(t, name, err)) {
				drop_quietly(t, name);
				free(name);
				break;
			}
			free(name);
		}
		unlock_server(t);
		if (err->code || wait || list_dbs(t, &l, err))
			break;
		e = dblist_find(&l, t->tpl);
		if (!e || !e->sealed || (long)pool_count(t, &l) >= target)
			break;
	}
	dblist_release(&l);
	return err->code;
}

/*
 * Closes every descriptor above keep: closefrom() is one system call where
 * the loop over sysconf(_SC_OPEN_MAX) is one per possible descriptor (20,000
 * with a raised limit, milliseconds of CPU beside the caller's last steps).
 */
static void close_from_3_but(int keep)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	closefrom(keep + 1);
#else
	long fd, maxfd = sysconf(_SC_OPEN_MAX);

	if (maxfd < 0 || maxfd > 65536)
		maxfd = 65536;
	for (fd = keep + 1; fd < maxfd; fd++)
		close((int)fd);
#endif
}

/* The descriptor fd, or a copy of it above 2 when it is 0, 1 or 2 (the caller ran with them closed). */
static int fd_above_2(int fd)
{
	return fd > 2 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

/*
 * The refill is a process of its own that outlives the call: a double
 * fork, so it is nobody's child to wait for, in a session of its own,
 * with stdin, stdout and stderr on /dev/null and every other descriptor
 * closed. A pipe the caller's caller reads ($(migrate testdb)) must see
 * its end as soon as the caller exits, so the middle process moves 0, 1
 * and 2 to /dev/null before it forks: once the caller has waited for it,
 * no other process holds them, however late the refill is scheduled. The
 * refill opens connections of its own and never touches the caller's: it
 * ends with _exit, which closes the inherited ones without a word to their
 * servers.
 *
 * The forks are the slowest step of a hand-out from the pool (copying the
 * page tables of a process that has loaded a client library, twice), so
 * refill_fork() makes them before the claim, where they overlap its round
 * trips, and the refill waits on the "go" pipe until refill_release()
 * closes its other end: a refill that looked at the pool before the claim
 * could find it full and leave the claim unreplaced. The end of the pipe
 * is the signal (the caller closing it, or exiting), never a write, so a
 * refill that is gone can never raise SIGPIPE in the caller.
 */
struct refill_proc {
	pid_t middle;    /* the middle process, to wait for; 0: none */
	int pid_fd;      /* where the middle process writes the refill's process id */
	int go_fd;       /* closing it lets the refill start */
};

static void refill_run(struct testdb *t, int go)
{
	struct migrate_error err;
	long ready;
	char c;

	/* the caller's signal handling is not the refill's: default, and no SIGPIPE */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	if (go != 3 && dup2(go, 3) < 0)
		_exit(1);
	close_from_3_but(3);
	/* until the caller has claimed (or failed to): the end of the pipe */
	for (;;) {
		ssize_t n = read(3, &c, 1);

		if (n == 0 || (n < 0 && errno != EINTR))
			break;
	}
	close(3);
	merr_clear(&err);
	t->m->conn = NULL; /* the caller's, never touched here */
	t->m->opt.progress = NULL;
	if (server_connect(t, &t->server, &err) == MIGRATE_OK)
		refill(t, t->m->cfg.pool, 0, &ready, &err);
	if (t->server)
		db_server_close(t->m, t->server);
	_exit(err.code);
}

/* Forks the refill, which waits for refill_release(). */
static void refill_fork(struct testdb *t, struct refill_proc *rp)
{
	int pids[2], go[2];

	rp->middle = 0;
	rp->pid_fd = rp->go_fd = -1;
	if (pipe2(pids, O_CLOEXEC) != 0)
		return;
	if (pipe2(go, O_CLOEXEC) != 0) {
		close(pids[0]);
		close(pids[1]);
		return;
	}
	fflush(NULL);
	rp->middle = fork();
	if (rp->middle == 0) {
		int null = open("/dev/null", O_RDWR);
		pid_t grandchild;
		long pid;

		close(pids[0]);
		close(go[1]);
		pids[1] = fd_above_2(pids[1]);
		go[0] = fd_above_2(go[0]);
		if (null < 0 || pids[1] < 0 || go[0] < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
		    dup2(null, 2) < 0)
			_exit(1); /* no refill: the process id read is 0 */
		if (null > 2)
			close(null);
		setsid();
		grandchild = fork();
		if (grandchild == 0)
			refill_run(t, go[0]);
		pid = grandchild > 0 ? (long)grandchild : 0;
		if (write(pids[1], &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
			_exit(1);
		_exit(0);
	}
	close(pids[1]);
	close(go[0]);
	if (rp->middle < 0) {
		rp->middle = 0;
		close(pids[0]);
		close(go[1]);
		return;
	}
	rp->pid_fd = pids[0];
	rp->go_fd = go[1];
}

/* Lets the refill start, and returns its process id, or 0. */
static long refill_release(struct refill_proc *rp)
{
	long pid = 0;
	int status;

	if (!rp->middle)
		return 0;
	close(rp->go_fd);
	while (waitpid(rp->middle, &status, 0) < 0 && errno == EINTR)
		;
	if (read(rp->pid_fd, &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
		pid = 0;
	close(rp->pid_fd);
	rp->middle = 0;
	return pid;
}

/* ---- gc and drop ------------------------------------------------------------------- */

static void report_removed(struct testdb *t, const char *name)
{
	struct migrate_testdb_report *rep = t->rep;

	if (!rep)
		return;
	rep->removed = xrealloc(rep->removed, (rep->nremoved + 1) * sizeof(*rep->removed));
	rep->removed[rep->nremoved++] = db_setting(t, name);
}

static enum migrate_result drop_one(struct testdb *t, const char *name, struct migrate_error *err)
{
	struct driver_error derr = { "", -1 };
	enum driver_result r = db_drop_named_database(t->m, t->server, name, &derr);

	if (r != DRIVER_OK)
		return driver_fail(err, r, "drop", name, &derr);
	report_removed(t, name);
	return MIGRATE_OK;
}

static int newest_first(const void *a, const void *b)
{
	const struct dbent *x = a, *y = b;

	if (x->sealed != y->sealed)
		return y->sealed - x->sealed;
	if (x->age != y->age)
		return x->age < y->age ? 1 : -1;
	return strcmp(x->name, y->name);
}

/*
 * Drops every test and pool database of the prefix, and every template but
 * the newest keep sealed ones. Names outside the two patterns are never
 * touched. Goes on after a failure and reports the first.
 */
static enum migrate_result gc(struct testdb *t, long keep, struct migrate_error *err)
{
	struct dblist l = { NULL, 0, 0 }, tpls = { NULL, 0, 0 };
	struct migrate_error one;
	size_t i;

	if (list_dbs(t, &l, err))
		return err->code;
	for (i = 0; i < l.n; i++) {
		merr_clear(&one);
		if (is_testdb(t->prefix, l.v[i].name, NULL)) {
			if (drop_one(t, l.v[i].name, &one) && !err->code)
				*err = one;
		} else if (is_template(t->prefix, l.v[i].name, NULL)) {
			xgrow(&tpls.v, &tpls.cap, tpls.n + 1, sizeof(*tpls.v));
			tpls.v[tpls.n++] = l.v[i];
			l.v[i].name = NULL; /* moved */
		}
	}
	if (tpls.n > 1)
		qsort(tpls.v, tpls.n, sizeof(*tpls.v), newest_first);
	for (i = 0; i < tpls.n; i++) {
		if (tpls.v[i].sealed && (long)i < keep)
			continue;
		merr_clear(&one);
		if (drop_one(t, tpls.v[i].name, &one) && !err->code)
			*err = one;
	}
	for (i = 0; i < l.n; i++)
		free(l.v[i].name);
	free(l.v);
	dblist_release(&tpls);
	return err->code;
}

static int same(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/*
 * Drops the one database url names, after checking that it is of the
 * configured server (or, for SQLite, in the directory of the test files)
 * and that its name is a template's or a test database's of the prefix.
 */
static enum migrate_result drop_url(struct testdb *t, const char *url, struct migrate_error *err)
{
	const struct db_url *cfg = &t->m->cfg.conn;
	struct db_url u;
	char msg[512], *name = NULL, *dir = NULL;
	const struct driver *d;

	memset(&u, 0, sizeof(u));
	if (url_parse(url, &u, msg, sizeof(msg)))
		return merr_set(err, MIGRATE_EUSAGE, "testdb --drop: %s", msg);
	d = driver_find(u.driver);
	if (d != t->drv) {
		merr_set(err, MIGRATE_EUSAGE, "testdb --drop: '%s' is not a %s URL like the configured database's", u.driver,
			 t->drv->name);
		goto out;
	}
	if (t->dir) {
		const char *slash = u.database ? strrchr(u.database, '/') : NULL;
		char *real;

		dir = slash ? xstrndup(u.database, (size_t)(slash - u.database)) : xstrdup(".");
		name = xstrdup(slash ? slash + 1 : u.database ? u.database : "");
		real = realpath(*dir ? dir : "/", NULL);
		if (real) {
			free(dir);
			dir = real;
		}
		if (strcmp(dir, t->dir) != 0) {
			merr_set(err, MIGRATE_EUSAGE, "testdb --drop: '%s' is not in '%s', where the test databases are",
				 u.database ? u.database : "", t->dir);
			goto out;
		}
	} else {
		name = xstrdup(u.database ? u.database : "");
		if (!same(u.host, cfg->host) || u.port != cfg->port || !same(u.socket, cfg->socket)) {
			merr_set(err, MIGRATE_EUSAGE, "testdb --drop: the URL names another server than %s",
				 t->m->cfg.display_url);
			goto out;
		}
	}
	if (!is_testdb(t->prefix, name, NULL) && !is_template(t->prefix, name, NULL)) {
		merr_set(err, MIGRATE_EUSAGE,
			 "testdb --drop: refusing to drop '%s': it is not a test database of prefix '%s' "
			 "(%s_<hash>_<n>, or %s_tpl_<hash>)",
			 name, t->prefix, t->prefix, t->prefix);
		goto out;
	}
	drop_one(t, name, err);
out:
	free(name);
	free(dir);
	db_url_release(&u);
	return err->code;
}

/* ---- the entry point ------------------------------------------------------------------ */

/* The directory of the SQLite files: testdb_dir, else the configured database's. */
static enum migrate_result files_dir(struct testdb *t, struct migrate_error *err)
{
	const char *db = t->m->cfg.settings.database;

	char *abs;

	if (t->m->cfg.testdb_dir) {
		t->dir = xstrdup(t->m->cfg.testdb_dir);
		goto absolute;
	}
	if (!db || strcmp(db, ":memory:") == 0)
		return merr_set(err, MIGRATE_EUSAGE,
				"testdb: an in-memory SQLite database has no directory for test databases: set testdb_dir");
	t->dir = path_dirname(db);
	if (!t->dir[0]) {
		free(t->dir);
		t->dir = xstrdup(".");
	}
absolute:
	/* absolute, so the URLs handed out work from any directory */
	abs = realpath(t->dir, NULL);
	if (!abs)
		return merr_set(err, MIGRATE_EUSAGE, "testdb: directory '%s': %s", t->dir, strerror(errno));
	free(t->dir);
	t->dir = abs;
	return MIGRATE_OK;
}

static enum migrate_result hand_out(struct testdb *t, char **url_out, struct migrate_error *err)
{
	struct migrate_testdb_report *rep = t->rep;
	struct dblist l = { NULL, 0, 0 };
	struct refill_proc rp = { 0, -1, -1 };
	int pool = t->m->cfg.pool > 0 && db_can_claim(t->m);
	char *name = NULL;
	long pid;

	/*
	 * Only the names that matter are listed: this hash's pool, and the
	 * template only when the pool has nothing (a hand-out from a full
	 * pool never reads the names of every test database of the prefix).
	 */
	if (pool) {
		char *start = xasprintf("%s_%s_", t->prefix, t->hash);

		refill_fork(t, &rp);
		if (list_dbs_from(t, start, &l, err) == MIGRATE_OK)
			claim(t, &l, &name, err);
		free(start);
		if (err->code)
			goto out;
	}
	if (rep)
		rep->from_pool = name != NULL;
	if (!name && (list_dbs_from(t, t->tpl, &l, err) || ensure_template(t, &l, err) ||
		      make_clone(t, &name, err)))
		goto out;
	*url_out = db_url_of(t, name, t->opt->with_password ? URL_PASSWORD_SHOW : URL_PASSWORD_OMIT);
	if (rep)
		rep->database = db_setting(t, name);
out:
	/* after a failure too: a refill with nothing to do (no template) ends at once */
	pid = refill_release(&rp);
	if (rep && !err->code)
		rep->refill_pid = pid;
	free(name);
	dblist_release(&l);
	return err->code;
}

static enum migrate_result prefill(struct testdb *t, struct migrate_error *err)
{
	struct dblist l = { NULL, 0, 0 };
	long ready = 0;

	if (list_dbs(t, &l, err) == MIGRATE_OK && ensure_template(t, &l, err) == MIGRATE_OK) {
		if (!db_can_claim(t->m))
			emitf(t->m, MIGRATE_EVENT_NOTICE,
			      "the %s driver has no warm pool (a clone is a file copy): the template is ready",
			      t->drv->name);
		else
			refill(t, t->opt->prefill, 1, &ready, err);
	}
	if (t->rep)
		t->rep->pool_ready = ready;
	dblist_release(&l);
	return err->code;
}

enum migrate_result migrate_testdb(migrate *m, const struct migrate_testdb_options *opt, char **url_out,
				   struct migrate_error *err)
{
	struct migrate_testdb_options none = { 0, NULL, 0, 0, 0, 0, NULL, NULL };
	long long t0 = now_ms();
	struct testdb t;
	int modes;

	merr_clear(err);
	if (url_out)
		*url_out = NULL;
	memset(&t, 0, sizeof(t));
	t.opt = opt ? opt : &none;
	t.rep = t.opt->report;
	if (t.rep)
		memset(t.rep, 0, sizeof(*t.rep));
	if (!m || !m->cfg.drv)
		return merr_set(err, MIGRATE_EUSAGE, "no database configured");
	t.m = m;
	t.drv = m->cfg.drv;
	t.prefix = t.opt->prefix && *t.opt->prefix ? t.opt->prefix : TESTDB_PREFIX;
	modes = (t.opt->prefill > 0) + (t.opt->gc != 0) + (t.opt->drop_url != NULL);
	if (modes > 1)
		return merr_set(err, MIGRATE_EUSAGE, "testdb: give only one of --prefill, --gc and --drop");
	if (!modes && !url_out)
		return merr_set(err, MIGRATE_EUSAGE, "testdb: url_out is NULL");
	if (m->opt.dry_run)
		return merr_set(err, MIGRATE_EUSAGE, "testdb makes databases and cannot run with --dry-run");
	if (!prefix_valid(t.prefix))
		return merr_set(err, MIGRATE_EUSAGE,
				"testdb: prefix '%s' is not 1 to %d lowercase letters, digits and _, starting with a letter",
				t.prefix, TESTDB_PREFIX_MAX);
	if (!db_can_testdb(m))
		return merr_set(err, MIGRATE_EUSAGE, "the %s driver cannot make test databases", t.drv->name);
	if ((t.drv->caps & DRIVER_CAP_DATABASE_FILES) && files_dir(&t, err))
		return err->code;
	if (!t.opt->gc && !t.opt->drop_url) {
		/* a directory of files has no connection to wait for: nothing to overlap */
		struct connecting bg;
		int overlap = !m->testdb_server && !(t.drv->caps & DRIVER_CAP_DATABASE_FILES) &&
			      connecting_start(&bg, &t);

		content_hash(&t, err);
		if ((overlap && connecting_end(&bg, err)) || err->code)
			goto out;
		t.tpl = xasprintf("%s_tpl_%s", t.prefix, t.hash);
		if (t.rep)
			t.rep->template_name = db_setting(&t, t.tpl);
	}
	/* kept in the handle, so a harness's later calls skip the connection's set-up */
	if (!m->testdb_server && server_connect(&t, &m->testdb_server, err))
		goto out;
	t.server = m->testdb_server;
	if (t.opt->gc)
		gc(&t, t.opt->keep, err);
	else if (t.opt->drop_url)
		drop_url(&t, t.opt->drop_url, err);
	else if (t.opt->prefill > 0)
		prefill(&t, err);
	else
		hand_out(&t, url_out, err);
out:
	/* a connection that failed is not kept: the next call makes a new one */
	if (m->testdb_server && (err->code == MIGRATE_ECONNECT || err->code == MIGRATE_EFAIL)) {
		db_server_close(m, m->testdb_server);
		m->testdb_server = NULL;
	}
	if (t.rep)
		t.rep->ms = now_ms() - t0;
	free(t.tpl);
	free(t.dir);
	return err->code;
}

void migrate_testdb_report_release(struct migrate_testdb_report *rep)
{
	size_t i;

	if (!rep)
		return;
	free(rep->database);
	free(rep->template_name);
	for (i = 0; i < rep->nremoved; i++)
		free(rep->removed[i]);
	free(rep->removed);
	memset(rep, 0, sizeof(*rep));
}

/* ---- drift's scratch database ------------------------------------------------------------ */

/*
 * drift (drift.c) needs what the applied migrations make. Its scratch
 * database is named as a test database (<prefix>_<hash>_<n>, the default
 * prefix, the hash of the current migrations without seeds), so one that a
 * drift killed before its clean-up left behind is removed by
 * 'migrate testdb --gc' like any other; it is never sealed, so never
 * claimed from the pool. Where the sealed template of that hash exists it
 * holds exactly what replaying every current migration makes, and the
 * scratch database can be its clone.
 */
_Static_assert(sizeof(((struct testdb_scratch *)0)->hash) == TESTDB_HASH_LEN + 1, "a hash and its NUL");

static enum migrate_result scratch_testdb(migrate *m, struct testdb_scratch *s, struct testdb *t,
					  struct migrate_error *err)
{
	static const struct migrate_testdb_options no_seeds = { 0, NULL, 0, 0, 0, 0, NULL, NULL };

	memset(t, 0, sizeof(*t));
	t->m = m;
	t->drv = m->cfg.drv;
	t->opt = &no_seeds;
	t->prefix = TESTDB_PREFIX;
	if (!db_can_testdb(m))
		return merr_set(err, MIGRATE_EUSAGE, "the %s driver cannot make a scratch database", t->drv->name);
	if (!s->hash[0]) {
		if (((t->drv->caps & DRIVER_CAP_DATABASE_FILES) && files_dir(t, err)) || content_hash(t, err)) {
			free(t->dir);
			t->dir = NULL;
			return err->code;
		}
		s->dir = t->dir;
		memcpy(s->hash, t->hash, sizeof(s->hash));
	}
	t->dir = s->dir; /* borrowed from s */
	memcpy(t->hash, s->hash, sizeof(t->hash));
	if (!m->testdb_server && server_connect(t, &m->testdb_server, err))
		return err->code;
	t->server = m->testdb_server;
	return MIGRATE_OK;
}

enum migrate_result testdb_scratch_find(migrate *m, struct testdb_scratch *s, struct migrate_error *err)
{
	struct dblist l = { NULL, 0, 0 };
	const struct dbent *e;
	struct testdb t;

	free(s->template_name);
	s->template_name = NULL;
	if (scratch_testdb(m, s, &t, err))
		return err->code;
	t.tpl = xasprintf("%s_tpl_%s", t.prefix, t.hash);
	if (list_dbs(&t, &l, err) == MIGRATE_OK && (e = dblist_find(&l, t.tpl)) != NULL && e->sealed) {
		s->template_name = t.tpl;
		t.tpl = NULL;
	}
	free(t.tpl);
	dblist_release(&l);
	return err->code;
}

enum migrate_result testdb_scratch_make(migrate *m, struct testdb_scratch *s, int clone, struct migrate_error *err)
{
	struct driver_error derr = { "", -1 };
	enum driver_result r = DRIVER_EEXISTS;
	const char *from = clone ? s->template_name : NULL;
	struct testdb t;
	int tries;

	if (s->name)
		return merr_set(err, MIGRATE_EUSAGE, "drift: a scratch database is made already");
	if (scratch_testdb(m, s, &t, err))
		return err->code;
	for (tries = 0; tries < TESTDB_NAME_TRIES && r == DRIVER_EEXISTS; tries++) {
		free(s->name);
		s->name = fresh_name(&t);
		r = db_clone_database(m, t.server, from, s->name, &derr);
		if (r == DRIVER_EUNSUPPORTED && from) {
			/* the template holds what this driver's clone cannot copy: an empty one, replayed */
			from = NULL;
			r = DRIVER_EEXISTS;
			tries--;
		}
	}
	if (r != DRIVER_OK) {
		if (r == DRIVER_EEXISTS)
			merr_set(err, MIGRATE_EFAIL, "drift: no free name for a scratch database like '%s'", s->name);
		else
			merr_set(err, db_map_result(r), "drift: cannot make the scratch database '%s': %s", s->name,
				 derr.message);
		free(s->name);
		s->name = NULL;
		return err->code;
	}
	s->cloned = from != NULL;
	s->setting = db_setting(&t, s->name);
	return MIGRATE_OK;
}

enum migrate_result testdb_scratch_drop(migrate *m, struct testdb_scratch *s, struct migrate_error *err)
{
	struct driver_error derr = { "", -1 };
	enum driver_result r;
	struct testdb t;

	if (!s->name)
		return MIGRATE_OK;
	if (scratch_testdb(m, s, &t, err))
		return err->code;
	r = db_drop_named_database(m, t.server, s->name, &derr);
	if (r != DRIVER_OK)
		return merr_set(err, db_map_result(r), "cannot drop '%s': %s", s->setting, derr.message);
	free(s->name);
	free(s->setting);
	s->name = NULL;
	s->setting = NULL;
	s->cloned = 0;
	return MIGRATE_OK;
}

void testdb_scratch_release(struct testdb_scratch *s)
{
	if (!s)
		return;
	free(s->template_name);
	free(s->name);
	free(s->setting);
	free(s->dir);
	memset(s, 0, sizeof(*s));
}
