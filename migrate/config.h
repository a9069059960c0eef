/*
 * config.h - settings from flags, the environment, config.ini and defaults.
 *
 * Precedence, highest first: the options a caller passes (the CLI's flags),
 * environment variables (MIGRATE_CONFIG, MIGRATE_ENV, DATABASE_URL), the
 * chosen environment's section, the [migrate] section, built-in defaults.
 * Only the sections in use are expanded and checked, so a production
 * section that names an unset ${DB_PASSWORD} does not bother a developer.
 */
#ifndef MIGRATE_CONFIG_H
#define MIGRATE_CONFIG_H

#include "../drivers/driver.h"
#include "migrate.h"

/* A parsed database URL. Every string is owned. */
struct db_url {
	char *driver;   /* canonical: "postgres", "mysql", "sqlite" */
	char *user;
	char *password;
	char *host;
	int port;
	char *database; /* for sqlite, the path or ":memory:" */
	char *socket;
	char *sslmode;
	char *ssl_ca, *ssl_cert, *ssl_key;
	char *options;
	int connect_timeout;
};

/*
 * Parses any URL form of SPEC section 2. Returns 0, or -1 with a message in
 * errbuf that never holds the password.
 */
int url_parse(const char *url, struct db_url *out, char *errbuf, size_t errlen);
void db_url_release(struct db_url *u);

/* Percent-decodes s[0..n) into a new string; NULL if it holds a bad escape. */
char *url_decode(const char *s, size_t n);

/* The expansion's lookup: the value of name, or NULL when unset. */
typedef const char *(*expand_lookup_fn)(void *ctx, const char *name);

/*
 * Expands ${VAR} and ${VAR:-default} (the default used when VAR is unset or
 * empty, and itself expanded); $${ is a literal ${. Returns a new string,
 * or NULL with a message in errbuf naming the variable.
 */
char *expand_vars(const char *value, expand_lookup_fn lookup, void *ctx, char *errbuf,
		  size_t errlen);

struct config {
	char *path;          /* the config file read, NULL when none */
	char *env;           /* the environment's name */
	const struct driver *drv;
	char *driver_name;   /* as configured, even when this build lacks it */

	/* connection; the strings are owned here, settings borrows them */
	struct db_url conn;
	struct driver_settings settings;
	char *display_url;   /* the connection as a URL, password as **** */

	char *migrations_dir;
	char *seeds_dir;
	char *table;
	char *seeds_table;
	char *seeds_undo_table; /* <seeds_table>_undo: what undoing each seed needs */
	char *verify_url;    /* verify's scratch database, NULL when not set */
	char *ignore;        /* glob patterns, separated by whitespace, of files the scans skip; NULL: none */
	char *testdb_dir;    /* testdb's directory of SQLite files, NULL: beside the database */
	int pool;            /* testdb's warm pool: ready clones to keep (default 4, 0: none) */
	int format;          /* the migrations' layout: enum layout_format (layout.h), LAYOUT_AUTO by default */
	int lock_timeout;
	int uuid_version;    /* ${uuid:KEY}: 1 (default), 4 or 7 */
	/* safe apply (SPEC section 9); a migration's marker options override them */
	long long lock_wait_ms;         /* longest wait for one lock per attempt; 0: forever */
	int retries;                    /* further attempts after a lock wait timed out */
	long long statement_timeout_ms; /* longest run of one statement; 0: none */
	/* the run-wide lock on real topologies (SPEC section 10) */
	enum { CONFIG_LOCK_AUTO, CONFIG_LOCK_ADVISORY, CONFIG_LOCK_TABLE } lock_mode;
	long long lease_ms;             /* lock_mode table: how long a lease lasts unrenewed */

	/*
	 * [lint]: enforce (default 1), and RULE-ID = severity lines as written
	 * (lint.c knows the rules and checks the names, with line for messages).
	 */
	int lint_enforce;
	struct config_lint {
		char *rule;
		enum migrate_lint_severity severity;
		int line;
	} *lint;
	size_t nlint;

	/* [placeholders]: names (lowercase, as iniparser keeps keys) and expanded values */
	char **ph_names;
	char **ph_values;
	size_t nph;
};

/*
 * Loads the configuration described by opt (see struct migrate_options).
 * need_database: when 0 (commands like 'new'), a missing config file is
 * fine and no connection settings are required. MIGRATE_EUSAGE on any
 * mistake, with file:line where there is one and what would fix it.
 */
enum migrate_result config_load(const struct migrate_options *opt, int need_database,
				struct config *out, struct migrate_error *err);
void config_release(struct config *c);

/* The entries of a [targets NAME] section (SPEC section 13), each with where it came from. */
struct target_entry {
	char *text;   /* a URL or a PostgreSQL schema's name, as written */
	char *where;  /* "file:line" */
};

struct target_list {
	struct target_entry *v;
	size_t n, cap;
	char *query;       /* urls_query: the SQL to run on the environment's database, else NULL */
	char *query_where; /* its "file:line" */
	char *base_dir;    /* the config file's directory: relative SQLite paths resolve against it */
};

/*
 * Reads [targets NAME] of the config file at path: urls (whitespace
 * separated), urls_file (one a line, '#' comments, relative to the config
 * file's directory) or urls_query (left for the caller to run). ${VAR}
 * expands as in the sections in use. MIGRATE_EUSAGE with file:line on any
 * mistake.
 */
enum migrate_result config_targets(const char *path, const char *name, struct target_list *out,
				   struct migrate_error *err);
void target_list_add(struct target_list *l, const char *text, const char *where);
void target_list_release(struct target_list *l);

/* Builds "driver://user:****@host:port/db" (or "sqlite:path") from u. Caller frees. */
char *db_url_display(const struct db_url *u);
enum url_password {
	URL_PASSWORD_MASK, /* as ****: every message and display */
	URL_PASSWORD_OMIT, /* left out: the URL 'testdb' prints */
	URL_PASSWORD_SHOW, /* percent-encoded: 'testdb --with-password' only */
};

/* The same, with the password as pw says. Caller frees. */
char *db_url_format(const struct db_url *u, enum url_password pw);

#endif
