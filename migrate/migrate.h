/*
 * migrate.h - the public API of libmigrate.
 *
 * A program opens a handle from a config file or a URL, runs commands on
 * it, and closes it. The library never prints and never exits: it reports
 * progress through a callback the caller supplies and errors through a
 * struct migrate_error the caller owns. The first error wins; its message
 * names the file and line where there is one, and never holds a password.
 *
 *     struct migrate_options opt = MIGRATE_OPTIONS_INIT;
 *     struct migrate_error err;
 *     migrate *m;
 *
 *     opt.config_path = "config.ini";
 *     if (migrate_open(&opt, &m, &err) == MIGRATE_OK &&
 *         migrate_up(m, NULL, &err) == MIGRATE_OK)
 *             ...;
 *     migrate_close(m);
 *
 * Every result code is also the exit code the CLI uses for it.
 */
#ifndef MIGRATE_H
#define MIGRATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MIGRATE_VERSION "0.1.0"

enum migrate_result {
	MIGRATE_OK = 0,
	MIGRATE_EFAIL = 1,    /* the work failed: a statement, a validation, a refusal */
	MIGRATE_EUSAGE = 2,   /* usage or configuration error: flags, config, file names */
	MIGRATE_ECONNECT = 3, /* cannot connect: unreachable, authentication, no database */
	MIGRATE_ELOCK = 4,    /* the lock was not acquired within lock_timeout */
	/*
	 * migrate_interrupt() stopped the command: the running statement was
	 * cancelled, what the database can roll back was, a migration that ran
	 * outside a transaction is recorded as failed, and the lock is released.
	 * The CLI exits 130 for SIGINT, 143 for SIGTERM and SIGHUP.
	 */
	MIGRATE_EINTR = 130,
};

struct migrate_error {
	enum migrate_result code; /* MIGRATE_OK when nothing went wrong */
	char message[2048];       /* "file:line: what happened: the database's message" */
};

struct migrate_lint_finding;

/* What the progress callback is told. */
enum migrate_event_kind {
	MIGRATE_EVENT_APPLYING,    /* a migration or seed is about to run */
	MIGRATE_EVENT_APPLIED,     /* it ran; duration_ms is set */
	MIGRATE_EVENT_ROLLING_BACK,
	MIGRATE_EVENT_ROLLED_BACK, /* duration_ms is set */
	MIGRATE_EVENT_SEEDING,
	MIGRATE_EVENT_SEEDED,      /* duration_ms and rows are set */
	MIGRATE_EVENT_WARNING,     /* message is set: worth telling a person, not an error */
	MIGRATE_EVENT_NOTICE,      /* message is set: e.g. "nothing to do" */
	MIGRATE_EVENT_SQL,         /* --dry-run: message is one statement that would run */
	MIGRATE_EVENT_BASELINED,   /* baseline: recorded as applied without running it */
	MIGRATE_EVENT_PROGRESS,    /* a seed is loading: done of total (bytes), rows so far, duration_ms since it began */
	MIGRATE_EVENT_PROBLEM,     /* the history is not sound: version and name say where, message what:
				      "failed", "running", "missing", "changed" or "out_of_order";
				      the error that follows says it all in words */
	MIGRATE_EVENT_LINT,        /* up: a lint finding (finding is set; message is it as one line) */
};

struct migrate_event {
	enum migrate_event_kind kind;
	const char *version; /* the migration's version, or the seed's order; may be NULL */
	const char *name;    /* the migration's or seed's name; may be NULL */
	const char *message;
	long long duration_ms;
	long long rows;
	long long done, total; /* MIGRATE_EVENT_PROGRESS: bytes of the seed read, and its size */
	const struct migrate_lint_finding *finding; /* MIGRATE_EVENT_LINT */
};

/* All pointers in an event are borrowed for the duration of the call. */
typedef void (*migrate_progress_fn)(void *ctx, const struct migrate_event *ev);

struct migrate_options {
	/*
	 * Each NULL (or -1) falls back, in order, to the environment
	 * (MIGRATE_CONFIG, MIGRATE_ENV, DATABASE_URL), the config file, and the
	 * built-in default ("./config.ini", "development", ...).
	 */
	const char *config_path;
	const char *env;
	const char *url;
	const char *migrations_dir; /* relative to the current directory */
	const char *seeds_dir;
	int lock_timeout;           /* seconds; -1: not given */
	int dry_run;                /* print (through MIGRATE_EVENT_SQL) and change nothing */
	/* When set, the database is not needed: only the configuration is read. */
	int no_database;
	/* When set, the connection settings are read and checked, but not used. */
	int no_connect;
	migrate_progress_fn progress;
	void *progress_ctx;
	/*
	 * When set, the database must exist already: opening never creates it
	 * (a SQLite file), and a missing one is MIGRATE_ECONNECT, as on the
	 * servers. For commands that only read (status, validate, version).
	 */
	int existing_only;
	/*
	 * PostgreSQL schema-per-tenant (SPEC section 13): the tracking tables
	 * live in this schema of the database, and the session's search_path
	 * is exactly this schema. NULL: the database's own search_path. A
	 * schema that does not exist is MIGRATE_ECONNECT, as a missing
	 * database is; on another driver it is MIGRATE_EUSAGE.
	 */
	const char *schema;
};

#define MIGRATE_OPTIONS_INIT { NULL, NULL, NULL, NULL, NULL, -1, 0, 0, 0, NULL, NULL, 0, NULL }

typedef struct migrate migrate;

/*
 * Reads the configuration, scans the migrations directory and, unless
 * options->no_database, connects. On MIGRATE_OK *out is a handle for
 * migrate_close(); on failure *out is NULL. options is copied.
 */
enum migrate_result migrate_open(const struct migrate_options *options, migrate **out,
				 struct migrate_error *err);

/* Closes the connection and frees the handle. migrate_close(NULL) is a no-op. */
void migrate_close(migrate *m);

/*
 * Asks the command running on m to stop, as psql and mysql do on Ctrl-C:
 * the statement running on the server is cancelled (PostgreSQL's cancel
 * request, MySQL's KILL QUERY over a second connection, sqlite3_interrupt),
 * no further statement starts, and the command returns MIGRATE_EINTR after
 * rolling back what the database can, recording a migration that ran
 * outside a transaction as failed, and releasing the lock. Call it from
 * another thread while the command runs (not from a signal handler: the
 * MySQL cancel connects to the server); calling it again re-sends the
 * cancel, for a statement that had not reached the server the first time.
 * It must not race with migrate_close(m). Once called, every later command
 * on m returns MIGRATE_EINTR.
 */
void migrate_interrupt(migrate *m);

/* The driver's name ("sqlite", ...) and the connection as a URL with the password as ****. */
const char *migrate_driver_name(const migrate *m);
const char *migrate_display_url(const migrate *m);
const char *migrate_env_name(const migrate *m);
const char *migrate_migrations_dir(const migrate *m);
/*
 * The layout the migrations were read in: "migrate", "golang-migrate",
 * "goose", "flyway" or "dbmate" (the 'format' setting, or with 'auto' the
 * one the files are in); "" when the handle read no migrations.
 */
const char *migrate_migrations_format(const migrate *m);

struct migrate_up_options {
	/*
	 * Apply up to and including this version; NULL: all. Versions here
	 * and everywhere are decimal strings of any length, compared as
	 * numbers ("007" is 7); anything but digits is MIGRATE_EUSAGE.
	 */
	const char *to;
	int out_of_order;        /* allow pending versions below the highest applied one */
	int single_transaction;  /* one transaction for all (transactional DDL only) */
	/*
	 * Skip lint. Otherwise up lints the migrations it is about to apply
	 * and, unless [lint] enforce = false, refuses (MIGRATE_EFAIL, nothing
	 * applied) when any has an error-level finding, telling each through a
	 * MIGRATE_EVENT_LINT. With dry_run every finding is told.
	 */
	int no_lint;
};

struct migrate_down_options {
	long count;       /* roll back this many (default 1) */
	const char *to;   /* roll back every applied version above this one */
	int all;          /* roll back everything */
};

/* Applies pending migrations. Nothing pending is success. */
enum migrate_result migrate_up(migrate *m, const struct migrate_up_options *opt,
			       struct migrate_error *err);
/* Rolls back applied migrations, highest version first. */
enum migrate_result migrate_down(migrate *m, const struct migrate_down_options *opt,
				 struct migrate_error *err);
/* Rolls back the highest applied migration and applies it again. */
enum migrate_result migrate_redo(migrate *m, struct migrate_error *err);

/*
 * Forgets failed and running rows (they become pending again) and records
 * the current checksums of applied migrations whose files changed, telling
 * each change through a MIGRATE_EVENT_NOTICE.
 */
enum migrate_result migrate_repair(migrate *m, struct migrate_error *err);

/*
 * Records every migration up to and including version as applied without
 * running it (adopting an existing database), telling each through a
 * MIGRATE_EVENT_BASELINED. MIGRATE_EUSAGE when version names no migration
 * file; MIGRATE_EFAIL when any migration up to it is already recorded.
 */
enum migrate_result migrate_baseline(migrate *m, const char *version, struct migrate_error *err);

/*
 * Takes over another tool's history in the same database (tool:
 * "golang-migrate", "goose", "flyway" or "dbmate"; table: its history
 * table, NULL for the tool's default name): records the versions it has
 * applied as applied in migrate's table, with the current files'
 * checksums, telling each through a MIGRATE_EVENT_BASELINED. The other
 * table is only read. MIGRATE_EFAIL, with nothing recorded, when that
 * history is dirty or failed, names a version with no file, or migrate's
 * table already has rows; MIGRATE_EUSAGE for an unknown tool, or a table
 * of the same name as migrate's own (set 'table' to another name).
 */
enum migrate_result migrate_baseline_from(migrate *m, const char *tool, const char *table,
					  struct migrate_error *err);

enum migrate_state {
	MIGRATE_STATE_APPLIED,
	MIGRATE_STATE_PENDING,
	MIGRATE_STATE_CHANGED,  /* applied, but its statements changed since */
	MIGRATE_STATE_MISSING,  /* applied, but its file is gone */
	MIGRATE_STATE_FAILED,   /* recorded as failed */
	MIGRATE_STATE_RUNNING,  /* recorded as running: in progress elsewhere, or crashed */
};

const char *migrate_state_name(enum migrate_state s);

struct migrate_status_entry {
	char *version;     /* canonical: decimal, no leading zeros */
	char *name;
	enum migrate_state state;
	char *applied_at;  /* "YYYY-MM-DD HH:MM:SS" UTC, NULL when not applied */
	long long duration_ms;
	char *path;        /* the file, NULL when missing */
	int cosmetic_change; /* applied, and only comments or whitespace changed */
};

struct migrate_seed_entry {
	char *name;        /* the file name, e.g. "01_customers.sql" */
	int applied;
	int changed;       /* applied, and the file changed since */
	int missing;       /* applied, and the file is gone */
	char *applied_at;
	long long rows;
};

struct migrate_status {
	struct migrate_status_entry *entries; /* in version order */
	size_t n;
	struct migrate_seed_entry *seeds;     /* in order */
	size_t nseeds;
	char *current;   /* highest applied version, NULL when none */
};

/* Reads the state of every migration and seed; changes nothing. */
enum migrate_result migrate_status(migrate *m, struct migrate_status **out,
				   struct migrate_error *err);
void migrate_status_free(struct migrate_status *st);

/* Sets *out to the highest applied version (the caller frees), or NULL. */
enum migrate_result migrate_current_version(migrate *m, char **out, struct migrate_error *err);

/*
 * Creates migrations_dir/<UTC timestamp>_<name>.sql from the template and
 * sets *path (the caller frees). Needs no database.
 */
enum migrate_result migrate_new(migrate *m, const char *name, char **path,
				struct migrate_error *err);

struct migrate_seed_options {
	const char *const *names; /* only these seeds (file names or names); NULL: all pending */
	size_t nnames;
	/*
	 * Undo instead of applying: the last `undo` applied seeds (latest
	 * first), or the named ones, or with undo_all every applied seed. An
	 * SQL seed runs its down section; a CSV seed deletes, by primary key,
	 * exactly the rows it inserted.
	 */
	long undo;
	int undo_all;
	/* Undo and apply again the applied seeds whose files changed (or the named ones); apply pending ones. */
	int rerun;
};

/*
 * Applies pending seeds in order (or undoes them, see the options), each
 * in its own transaction together with its row in the seeds table.
 */
enum migrate_result migrate_seed(migrate *m, const struct migrate_seed_options *opt,
				 struct migrate_error *err);

/*
 * Create or drop the configured database (open the handle with no_connect).
 * Creating one that exists, or dropping one that does not, is success.
 */
enum migrate_result migrate_create_database(migrate *m, struct migrate_error *err);
enum migrate_result migrate_drop_database(migrate *m, struct migrate_error *err);

/*
 * Waits until the database accepts connections, up to timeout_s seconds
 * (open the handle with no_connect). MIGRATE_ECONNECT when it never does.
 */
enum migrate_result migrate_wait(migrate *m, int timeout_s, struct migrate_error *err);

/*
 * Checks that every applied migration matches its file, none is missing,
 * failed or running, and no pending one is below the highest applied one.
 * Changes nothing. MIGRATE_EFAIL names what is wrong.
 */
enum migrate_result migrate_validate(migrate *m, struct migrate_error *err);

/*
 * Sets *out to the schema of the database (the caller frees): tables,
 * columns, keys, foreign keys, indexes, views and triggers as text built
 * from the database's own catalogs and sorted, so the same schema always
 * gives the same bytes. The tracking tables are left out. Changes nothing
 * and takes no lock.
 */
enum migrate_result migrate_dump(migrate *m, char **out, struct migrate_error *err);

struct migrate_verify_options {
	/*
	 * Run against this database instead of the handle's (created first
	 * when the driver can). NULL: the config's verify_url, else the
	 * handle's own database.
	 */
	const char *scratch_url;
};

struct migrate_verify_report {
	char *database;   /* the database verified, as a URL with the password as **** */
	size_t checked;   /* migrations whose down section was checked */
	/* on a schema difference (else NULL): */
	char *step;       /* what was being checked, e.g. "rolling back 2 (add_phone) does not ..." */
	char *summary;    /* the first difference, e.g. "table 'orders' is there but should not be" */
	char *diff;       /* a unified diff of the expected (---) and the actual (+++) dump */
};

/*
 * The CI schema check: with the run-wide lock held, applies each pending
 * migration, rolls it back and applies it again, comparing dumps at each
 * step; then rolls back everything it applied (the schema must equal the
 * starting one) and applies it all again (the schema must equal the first
 * time's). MIGRATE_EFAIL names the first difference in err, with the
 * details in the report; an irreversible pending migration fails before
 * anything changes. *report is set whenever the check ran (the caller
 * frees it with migrate_verify_report_free). The handle may be opened with
 * no_connect when a scratch database is named.
 */
enum migrate_result migrate_verify(migrate *m, const struct migrate_verify_options *opt,
				   struct migrate_verify_report **report, struct migrate_error *err);
void migrate_verify_report_free(struct migrate_verify_report *rep);

/* ---- lint (SPEC section 12) ---- */

enum migrate_lint_severity {
	MIGRATE_LINT_OFF = 0,
	MIGRATE_LINT_WARNING,
	MIGRATE_LINT_ERROR,
};

/* "off", "warning" or "error". */
const char *migrate_lint_severity_name(enum migrate_lint_severity s);

struct migrate_lint_finding {
	char *path;       /* the migration file */
	int line;         /* the line of the statement (or of a bad ignore comment) */
	char *version;    /* the migration's version and name */
	char *name;
	enum migrate_lint_severity severity; /* after [lint]; never OFF */
	char *rule;       /* the rule's stable id, e.g. "pg-index-not-concurrent" */
	char *message;    /* what happens */
	char *fix;        /* the safe way to write it */
};

struct migrate_lint_options {
	int all;                    /* the whole history; default: the pending migrations */
	const char *const *targets; /* or only these: versions or migration files */
	size_t ntargets;
};

struct migrate_lint_report {
	struct migrate_lint_finding *findings; /* in file order */
	size_t n;
	size_t checked;   /* migrations linted */
	size_t errors, warnings;
	const char *scope; /* "pending", "all" (also when the database was unreachable) or "named"; static */
};

/*
 * Lints migrations (SPEC section 12): the pending ones (connecting to read
 * the history; when the database cannot be reached, every migration, with
 * a warning saying so), every one with opt->all, or the named ones. Every
 * migration before them is read too, so lint knows which tables existed.
 * Needs no connection otherwise (open the handle with no_connect), and
 * never returns MIGRATE_ECONNECT. *report is set whenever the lint ran (the
 * caller frees it); MIGRATE_EFAIL when any finding is an error.
 */
enum migrate_result migrate_lint(migrate *m, const struct migrate_lint_options *opt,
				 struct migrate_lint_report **report, struct migrate_error *err);
void migrate_lint_report_free(struct migrate_lint_report *rep);

struct migrate_lint_rule {
	const char *id;
	const char *dialects;   /* "postgres", "mysql", "sqlite", or several, comma-separated, or "all" */
	enum migrate_lint_severity severity; /* the default */
	const char *summary;    /* what it finds */
	const char *fix;        /* the safe way to write it */
};

/* Every rule, ending with an entry whose id is NULL. Static. */
const struct migrate_lint_rule *migrate_lint_rules(void);
/*
 * ---- test databases (SPEC section 11) ----
 *
 * migrate_testdb() hands out a new database at the current migrations (and
 * seeds, with seed) for one test, and sets *url_out to its URL (the
 * caller's to free), with no password unless with_password. It comes
 * from a template built once per content hash (the checksum of every
 * migration file and, with seed, seed file, the driver and migrate's
 * version) or, faster, from a warm pool of ready clones (the config's
 * pool = N, default 4) that a detached process refills after the call.
 *
 * Names, on the server or as files in a directory (SQLite): templates
 * <prefix>_tpl_<hash>, test and pool databases <prefix>_<hash>_<n>.
 *
 * One of the other modes instead of a hand-out (*url_out stays NULL):
 * prefill > 0 fills the pool to that many and returns when they are
 * ready; gc removes the test and pool databases and all but the newest
 * keep templates of the prefix; drop_url drops that one database, and is
 * refused (MIGRATE_EUSAGE) when its name is outside the patterns.
 *
 * The handle may be opened with no_connect: testdb never needs the
 * configured database itself, only its server (and, for SQLite, where it
 * would be). When report is not NULL it is filled (release it with
 * migrate_testdb_report_release).
 */
struct migrate_testdb_report {
	char *database;       /* the database handed out (SQLite: the file's path), or NULL */
	char *template_name;  /* its template, or NULL */
	int from_pool;        /* claimed from the warm pool rather than cloned now */
	int template_built;   /* this call built the template */
	long long ms;         /* how long the call took */
	long refill_pid;      /* the detached refill this call started, or 0 */
	long pool_ready;      /* prefill: ready databases in the pool at the end */
	char **removed;       /* gc and drop: the databases removed, in order */
	size_t nremoved;
};

struct migrate_testdb_options {
	int seed;              /* the template has the seeds too */
	const char *prefix;    /* NULL: "migrate_test"; lowercase letters, digits and _ */
	int with_password;     /* put the password in the URL */
	long prefill;          /* > 0: fill the pool to this many; hand out nothing */
	int gc;                /* remove what testdb made (see keep) */
	long keep;             /* gc: keep the newest keep templates */
	const char *drop_url;  /* drop this test database */
	struct migrate_testdb_report *report; /* filled when not NULL */
};

enum migrate_result migrate_testdb(migrate *m, const struct migrate_testdb_options *opt, char **url_out,
				   struct migrate_error *err);
/* Frees what the report holds (not the report itself). NULL is a no-op. */
void migrate_testdb_report_release(struct migrate_testdb_report *rep);

/* ---- drift (SPEC section 13) ---- */

enum migrate_drift_kind {
	MIGRATE_DRIFT_MISSING, /* the migrations make it, the live database lacks it */
	MIGRATE_DRIFT_EXTRA,   /* the live database has it, the migrations do not make it */
	MIGRATE_DRIFT_CHANGED, /* both have it, defined differently */
};

const char *migrate_drift_kind_name(enum migrate_drift_kind k);

struct migrate_drift_item {
	enum migrate_drift_kind kind;
	char *object;   /* "table", "view", "column", "index", "constraint", "trigger", "sequence", ... */
	char *name;     /* "orders", or "orders.total" for what belongs to a table */
	char *expected; /* the migrations' definition (the dump's line), NULL when extra */
	char *actual;   /* the live definition, NULL when missing */
};

struct migrate_drift_report {
	char *database;  /* the live database, password as **** */
	char *scratch;   /* the scratch database compared with, password as **** */
	size_t applied;  /* migrations in the live history (what the scratch database holds) */
	struct migrate_drift_item *items; /* in the dumps' order: tables, their parts, views, ... */
	size_t n;
	size_t replayed;     /* migrations replayed into the scratch database: applied, or 0 when cloned */
	char *template_name; /* the testdb template cloned instead of replaying, or NULL */
};

/*
 * Compares the live schema with the one its applied migrations make: a
 * scratch database named as a test database (<prefix>_<hash>_<n>, which
 * 'migrate testdb --gc' removes when a killed run left one; SQLite: a file
 * in testdb's directory), made and dropped through the driver, that is a
 * clone of the testdb template of the current files (SPEC section 11) when
 * every current migration is applied and that template exists, else the
 * versions in the live history replayed into it from the current files;
 * dumps both (migrate_dump) and lists every difference object by object. MIGRATE_EFAIL when there is
 * any (the report says which), MIGRATE_OK when none. A history that cannot
 * be replayed (a missing file, a failed row, a gap below the highest
 * applied version) is MIGRATE_EFAIL before anything is made. *report is
 * set whenever the comparison ran; free it with migrate_drift_report_free.
 */
enum migrate_result migrate_drift(migrate *m, struct migrate_drift_report **report,
				  struct migrate_error *err);
void migrate_drift_report_free(struct migrate_drift_report *rep);

/* ---- fleets (SPEC section 13) ---- */

enum migrate_fleet_command {
	MIGRATE_FLEET_UP,
	MIGRATE_FLEET_STATUS,
	MIGRATE_FLEET_VALIDATE,
	MIGRATE_FLEET_VERIFY,
	MIGRATE_FLEET_SEED,
	MIGRATE_FLEET_DRIFT,
	MIGRATE_FLEET_LINT,
};

/* What one target did; every pointer is borrowed for the duration of the call. */
struct migrate_fleet_result {
	size_t index;        /* the target's place in the list, from 0 */
	const char *target;  /* a URL with the password as ****, or a schema's name */
	int ran;             /* 0: not run, because a canary failed */
	enum migrate_result code;
	const char *error;   /* the error's message, NULL when code is MIGRATE_OK */
	const char *summary; /* one line: "2 applied", "up to date", "3 differences", ... */
	long long duration_ms;
	/* status: the highest applied version (NULL: none), how many are applied and not;
	   lint: errors in applied, warnings in pending */
	const char *current;
	long long applied, pending;
};

struct migrate_fleet_options {
	const char *targets;  /* NAME of the config's [targets NAME] section */
	enum migrate_fleet_command command;
	/* the command's own options (NULL: its defaults) */
	const struct migrate_up_options *up;
	const struct migrate_seed_options *seed;
	const struct migrate_verify_options *verify;
	const struct migrate_lint_options *lint;
	int status_check;     /* status: a target with anything but applied and clean fails (1) */
	int parallel;         /* targets at a time; <= 0: 4 */
	int canary;           /* run the first N first; when any fails, run no other */
	/*
	 * Told, in the calling thread, each target's events (when the target
	 * has finished, in the order they came) and then its result; each
	 * target once, in the order targets finish. Either may be NULL.
	 */
	void (*on_event)(void *ctx, const struct migrate_fleet_result *target, const struct migrate_event *ev);
	void (*on_result)(void *ctx, const struct migrate_fleet_result *res);
	void *ctx;
};

/*
 * Runs one command on every target of a [targets NAME] section, parallel
 * at a time, in that many worker processes (fork) that each take one
 * target after another: each target is a run of its own, opened with base
 * (the config, environment and flags) and the target's URL or schema, with
 * its own session and lock. A target that is a database has a connection
 * of its own; the PostgreSQL schemas of the environment's database share
 * their worker's connection, reset between two targets as a pooler does
 * (DISCARD ALL, then search_path exactly the next schema), and a
 * connection a target left broken is replaced. A target that fails never
 * stops the others, except a canary. Returns the highest of the targets'
 * codes; a targets section that cannot be read (unknown, a malformed URL:
 * file:line) is MIGRATE_EUSAGE in err before any target runs. err holds
 * the first failing target's error otherwise. The workers are fork()ed
 * from the calling process and end with _exit() (no atexit handler of the
 * caller runs in them); call it where a fork is safe (glibc's malloc is).
 * In a worker, SIGINT, SIGTERM and SIGHUP interrupt its target as
 * migrate_interrupt() does (a second one ends it at once); so does the
 * calling process going away.
 */
enum migrate_result migrate_fleet(const struct migrate_options *base, const struct migrate_fleet_options *opt,
				  struct migrate_error *err);

/*
 * Stops the migrate_fleet() running in this process, as migrate_interrupt()
 * stops one run: no further target starts (each is reported not run), and
 * each running one is interrupted in its worker (its statement cancelled,
 * rolled back, its lock released) and reports MIGRATE_EINTR; the fleet then
 * returns MIGRATE_EINTR or a higher code. Call it from another thread or a
 * signal handler (it sets a flag and writes to a pipe); calling it again
 * sends the cancel again. Called while no fleet runs, it stops the next
 * migrate_fleet() before it starts a target.
 */
void migrate_fleet_interrupt(void);

/* The names of the drivers this build has, NULL-terminated. Static. */
const char *const *migrate_drivers(void);

/*
 * The run-wide lock (SPEC section 10): how it is taken here and who holds
 * it. mode is "advisory" (PostgreSQL advisory lock, MySQL GET_LOCK, SQLite
 * file lock) or "table" (the lease row), mode_why says why (the setting,
 * or what lock_mode auto found). With a lease, held says whether a row is
 * there, with its owner, how long it has been held and how long until it
 * expires (negative: expired). With an advisory lock, held says whether
 * another session holds it, and detail says which where the database tells.
 */
struct migrate_lock_info {
	const char *mode;
	char mode_why[256];
	int held;
	char host[256];
	long pid;
	char run_id[40];
	long long held_ms, expires_in_ms;
	char detail[1024];
};

enum migrate_result migrate_lock_status(migrate *m, struct migrate_lock_info *out,
					struct migrate_error *err);
/*
 * Removes the lease row when it has expired (or, with force, when it has
 * not: its holder is known to be gone); out says whose it was (out->held 0:
 * there was none). A live lease without force is MIGRATE_EFAIL, changing
 * nothing; so is an advisory lock, which ends with its session.
 */
enum migrate_result migrate_lock_release(migrate *m, int force, struct migrate_lock_info *out,
					 struct migrate_error *err);

#ifdef __cplusplus
}
#endif

#endif
