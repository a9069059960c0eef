/*
 * check_config.c - unit tests for migrate/config.c: database URLs (SPEC
 * section 2), their display with the password masked, ${VAR} expansion and
 * config_load's precedence and error messages.
 *
 * The config_load tests run with MIGRATE_ENV, MIGRATE_CONFIG, DATABASE_URL
 * and the variables the example config names cleared (a checked fixture saves
 * and restores them, and the working directory), each in a fresh temp dir.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../migrate/config.h"
#include "../migrate/error.h"
#include "../migrate/util.h"
#include "testutil.h"

Suite *config_suite(void);

#define PW "s3cr3t-PW"

/* ---- url_parse ----------------------------------------------------------------- */

START_TEST(url_postgres_full)
{
	struct db_url u;
	char msg[256] = "";

	ck_assert_int_eq(url_parse("postgres://bob:" PW "@db.example.com:5433/app?sslmode=require", &u, msg,
				   sizeof(msg)), 0);
	ck_assert_str_eq(u.driver, "postgres");
	ck_assert_str_eq(u.user, "bob");
	ck_assert_str_eq(u.password, PW);
	ck_assert_str_eq(u.host, "db.example.com");
	ck_assert_int_eq(u.port, 5433);
	ck_assert_str_eq(u.database, "app");
	ck_assert_str_eq(u.sslmode, "require");
	ck_assert_ptr_null(u.socket);
	db_url_release(&u);
	ck_assert_ptr_null(u.driver);
}
END_TEST

START_TEST(url_postgresql_scheme_is_postgres)
{
	struct db_url u;
	char msg[256] = "";

	ck_assert_int_eq(url_parse("postgresql://app:pw@localhost:5432/app_test", &u, msg, sizeof(msg)), 0);
	ck_assert_str_eq(u.driver, "postgres");
	ck_assert_str_eq(u.user, "app");
	ck_assert_str_eq(u.password, "pw");
	ck_assert_str_eq(u.host, "localhost");
	ck_assert_int_eq(u.port, 5432);
	ck_assert_str_eq(u.database, "app_test");
	ck_assert_ptr_null(u.sslmode);
	db_url_release(&u);
}
END_TEST

START_TEST(url_mysql_and_mariadb)
{
	struct db_url u;
	char msg[256] = "";

	ck_assert_int_eq(url_parse("mysql://root:pw@127.0.0.1:3306/shop", &u, msg, sizeof(msg)), 0);
	ck_assert_str_eq(u.driver, "mysql");
	ck_assert_str_eq(u.user, "root");
	ck_assert_str_eq(u.password, "pw");
	ck_assert_str_eq(u.host, "127.0.0.1");
	ck_assert_int_eq(u.port, 3306);
	ck_assert_str_eq(u.database, "shop");
	db_url_release(&u);

	ck_assert_int_eq(url_parse("mariadb://maria@dbhost/shop", &u, msg, sizeof(msg)), 0);
	ck_assert_str_eq(u.driver, "mysql");
	ck_assert_str_eq(u.user, "maria");
	ck_assert_ptr_null(u.password);
	ck_assert_str_eq(u.host, "dbhost");
	ck_assert_int_eq(u.port, 0);
	ck_assert_str_eq(u.database, "shop");
	db_url_release(&u);
}
END_TEST

START_TEST(url_user_and_password_percent_decoded)
{
	struct db_url u;
	char msg[256] = "";

	ck_assert_int_eq(url_parse("postgres://us%20er%2Fx:p%40ss%3Aw@h/d%62", &u, msg, sizeof(msg)), 0);
	ck_assert_str_eq(u.user, "us er/x");
	ck_assert_str_eq(u.password, "p@ss:w");
	ck_assert_str_eq(u.host, "h");
	ck_assert_str_eq(u.database, "db");
	db_url_release(&u);
}
END_TEST

START_TEST(url_raw_at_and_colon_in_password)
{
	struct db_url u;
	char msg[256] = "";

	ck_assert_int_eq(url_parse("postgres://bob:p@ss:w@dbhost:5432/app", &u, msg, sizeof(msg)), 0);
	ck_assert_str_eq(u.user, "bob");
	ck_assert_str_eq(u.password, "p@ss:w");
	ck_assert_str_eq(u.host, "dbhost");
	ck_assert_int_eq(u.port, 5432);
	ck_assert_str_eq(u.database, "app");
	db_url_release(&u);
}
END_TEST

START_TEST(url_ipv6_host)
{
	struct db_url u;
	char msg[256] = "";

	ck_assert_int_eq(url_parse("postgres://u:pw@[::1]:5432/app", &u, msg, sizeof(msg)), 0);
	ck_assert_str_eq(u.host, "::1");
	ck_assert_int_eq(u.port, 5432);
	ck_assert_str_eq(u.user, "u");
	ck_assert_str_eq(u.database, "app");
	db_url_release(&u);

	ck_assert_int_eq(url_parse("postgres://[fe80::1]/app", &u, msg, sizeof(msg)), 0);
	ck_assert_str_eq(u.host, "fe80::1");
	ck_assert_int_eq(u.port, 0);
	ck_assert_ptr_null(u.user);
	ck_assert_ptr_null(u.password);
	db_url_release(&u);
}
END_TEST

START_TEST(url_without_port_has_port_zero)
{
	struct db_url u;
	char msg[256] = "";

	ck_assert_int_eq(url_parse("postgres://u:pw@localhost/app", &u, msg, sizeof(msg)), 0);
	ck_assert_str_eq(u.host, "localhost");
	ck_assert_int_eq(u.port, 0);
	ck_assert_str_eq(u.database, "app");
	db_url_release(&u);

	/* no user, no database */
	ck_assert_int_eq(url_parse("mysql://localhost", &u, msg, sizeof(msg)), 0);
	ck_assert_str_eq(u.host, "localhost");
	ck_assert_ptr_null(u.user);
	ck_assert_ptr_null(u.database);
	db_url_release(&u);
}
END_TEST

START_TEST(url_sqlite_forms)
{
	struct db_url u;
	char msg[256] = "";

	ck_assert_int_eq(url_parse("sqlite:relative/path.db", &u, msg, sizeof(msg)), 0);
	ck_assert_str_eq(u.driver, "sqlite");
	ck_assert_str_eq(u.database, "relative/path.db");
	ck_assert_ptr_null(u.host);
	ck_assert_ptr_null(u.user);
	db_url_release(&u);

	ck_assert_int_eq(url_parse("sqlite:///absolute/path.db", &u, msg, sizeof(msg)), 0);
	ck_assert_str_eq(u.driver, "sqlite");
	ck_assert_str_eq(u.database, "/absolute/path.db");
	db_url_release(&u);

	ck_assert_int_eq(url_parse("sqlite::memory:", &u, msg, sizeof(msg)), 0);
	ck_assert_str_eq(u.driver, "sqlite");
	ck_assert_str_eq(u.database, ":memory:");
	db_url_release(&u);
}
END_TEST

START_TEST(url_query_parameters)
{
	struct db_url u;
	char msg[256] = "";

	ck_assert_int_eq(url_parse("postgres://h/db?sslmode=verify-full&connect_timeout=7&options=-c%20x%3D1",
				   &u, msg, sizeof(msg)), 0);
	ck_assert_str_eq(u.sslmode, "verify-full");
	ck_assert_int_eq(u.connect_timeout, 7);
	ck_assert_str_eq(u.options, "-c x=1");
	db_url_release(&u);
}
END_TEST

/* Checks an URL is refused, with a message holding sub and never the password. */
#define URL_ERR(url, sub)                                                                    \
	do {                                                                                 \
		struct db_url u_;                                                            \
		char m_[512] = "";                                                           \
		ck_assert_int_eq(url_parse((url), &u_, m_, sizeof(m_)), -1);                 \
		ck_assert_msg(strstr(m_, (sub)) != NULL, "'%s': message '%s' lacks '%s'",    \
			      (url), m_, (sub));                                             \
		ck_assert_msg(strstr(m_, PW) == NULL, "'%s': message '%s' shows the password", \
			      (url), m_);                                                    \
		ck_assert_ptr_null(u_.driver);                                               \
		ck_assert_ptr_null(u_.password);                                             \
	} while (0)

START_TEST(url_error_unknown_scheme)
{
	URL_ERR("oracle://app:" PW "@h:1521/db", "unknown URL scheme 'oracle:'");
	URL_ERR("http://app:" PW "@h/db", "unknown URL scheme 'http:'");
	URL_ERR("no-scheme-here", "not a database URL");
}
END_TEST

START_TEST(url_error_missing_slashes)
{
	URL_ERR("mysql:app:" PW "@h/db", "a mysql URL starts mysql://");
}
END_TEST

START_TEST(url_error_bad_port)
{
	/* the port is not echoed: in a mistyped URL it could be part of a password */
	URL_ERR("postgres://app:" PW "@h:0/db", "port is not a number from 1 to 65535");
	URL_ERR("postgres://app:" PW "@h:70000/db", "port is not a number from 1 to 65535");
	URL_ERR("postgres://app:" PW "@h:abc/db", "port is not a number from 1 to 65535");
	URL_ERR("mysql://app:" PW "@h:/db", "port is not a number");
	URL_ERR("postgres://app:" PW "@[::1]:65536/db", "port is not a number");
	URL_ERR("postgres://app:" PW "@[::1]x/db", "unexpected text after the URL's IPv6 host");
	URL_ERR("postgres://app:" PW "@[::1/db", "no closing ']'");
}
END_TEST

START_TEST(url_error_bad_percent_escape)
{
	URL_ERR("postgres://a%zzp:" PW "@h/db", "user name has a bad % escape");
	URL_ERR("postgres://app:" PW "%G1@h/db", "password has a bad % escape");
	URL_ERR("postgres://app:" PW "%4@h/db", "password has a bad % escape");
	URL_ERR("postgres://app:" PW "%00@h/db", "password has a bad % escape");
	URL_ERR("postgres://app:" PW "@h/d%zz", "database name has a bad % escape");
	URL_ERR("postgres://app:" PW "@h/db?sslmode=%x", "'sslmode' has a bad % escape");
	URL_ERR("sqlite:x%zz.db", "bad % escape");
}
END_TEST

START_TEST(url_error_unknown_query_parameter)
{
	URL_ERR("postgres://app:" PW "@h/db?sslmod=require", "unknown URL parameter 'sslmod'");
	URL_ERR("postgres://app:" PW "@h/db?sslmode", "'sslmode' has no value");
	URL_ERR("postgres://app:" PW "@h/db?connect_timeout=soon", "connect_timeout='soon'");
	URL_ERR("sqlite:x.db?cache=shared", "unknown URL parameter 'cache'");
}
END_TEST

START_TEST(url_error_sqlite_with_host)
{
	URL_ERR("sqlite://host/x", "SQLite URL takes no host");
	URL_ERR("sqlite://app:" PW "@host/x.db", "SQLite URL takes no host");
	URL_ERR("sqlite:", "names no database file");
}
END_TEST

START_TEST(url_unencoded_slash_in_password)
{
	struct db_url u;
	char msg[256] = "";

	/* user info ends at the last '@' before the query string */
	ck_assert_int_eq(url_parse("postgres://app:" PW "/x@h:5432/db?sslmode=disable", &u, msg, sizeof(msg)), 0);
	ck_assert_str_eq(u.user, "app");
	ck_assert_str_eq(u.password, PW "/x");
	ck_assert_str_eq(u.host, "h");
	ck_assert_int_eq(u.port, 5432);
	ck_assert_str_eq(u.database, "db");
	ck_assert_str_eq(u.sslmode, "disable");
	db_url_release(&u);
	/* a '?' cannot be told from the query string: refused, without the password */
	URL_ERR("postgres://app:" PW "?x@h/db", "'@' after its '?'");
	/* a '?' in the user name would put the password in the query string, whose errors quote it */
	URL_ERR("postgres://ap?p:" PW "@h/db", "'@' after its '?'");
}
END_TEST

/* ---- url_decode --------------------------------------------------------------- */

START_TEST(url_decode_escapes)
{
	char *s;

	s = url_decode("a%20b%2fc%2F", 12);
	ck_assert_str_eq(s, "a b/c/");
	free(s);
	s = url_decode("abc%41", 3); /* only n bytes */
	ck_assert_str_eq(s, "abc");
	free(s);
	s = url_decode("", 0);
	ck_assert_str_eq(s, "");
	free(s);
	ck_assert_ptr_null(url_decode("%zz", 3));
	ck_assert_ptr_null(url_decode("a%4", 3));
	ck_assert_ptr_null(url_decode("%", 1));
	ck_assert_ptr_null(url_decode("%41", 2)); /* escape cut by n */
	ck_assert_ptr_null(url_decode("x%00y", 5));
}
END_TEST

/* ---- db_url_display ------------------------------------------------------------ */

static char *display_of(const char *url)
{
	struct db_url u;
	char msg[256] = "";
	char *s;

	ck_assert_msg(url_parse(url, &u, msg, sizeof(msg)) == 0, "%s: %s", url, msg);
	s = db_url_display(&u);
	db_url_release(&u);
	return s;
}

#define DISPLAY_IS(url, want)                                                        \
	do {                                                                         \
		char *d_ = display_of(url);                                          \
		ck_assert_str_eq(d_, (want));                                        \
		ck_assert_msg(strstr(d_, PW) == NULL, "display shows the password"); \
		free(d_);                                                            \
	} while (0)

START_TEST(display_masks_password)
{
	DISPLAY_IS("postgres://bob:" PW "@db.example.com:5433/app?sslmode=require",
		   "postgres://bob:****@db.example.com:5433/app?sslmode=require");
	DISPLAY_IS("postgresql://bob:" PW "@h/app", "postgres://bob:****@h/app");
	DISPLAY_IS("mysql://root:" PW "@127.0.0.1:3306/shop", "mysql://root:****@127.0.0.1:3306/shop");
	DISPLAY_IS("mariadb://root@h/shop", "mysql://root@h/shop");
	DISPLAY_IS("postgres://:" PW "@h/app", "postgres://:****@h/app");
	/* a decoded password holding the URL's own characters is still masked */
	DISPLAY_IS("postgres://us%20er:" PW "%40%3A@h/app", "postgres://us%20er:****@h/app");
}
END_TEST

START_TEST(display_ipv6_and_sqlite)
{
	DISPLAY_IS("postgres://u:" PW "@[::1]:5432/app", "postgres://u:****@[::1]:5432/app");
	DISPLAY_IS("sqlite:relative/path.db", "sqlite:relative/path.db");
	DISPLAY_IS("sqlite:///absolute/path.db", "sqlite:///absolute/path.db");
	DISPLAY_IS("sqlite::memory:", "sqlite::memory:");
}
END_TEST

START_TEST(display_of_empty_url_is_none)
{
	struct db_url u;
	char *s;

	memset(&u, 0, sizeof(u));
	s = db_url_display(&u);
	ck_assert_str_eq(s, "(none)");
	free(s);
}
END_TEST

/* ---- expand_vars ---------------------------------------------------------------- */

struct var {
	const char *name, *value;
};

static const struct var vars[] = {
	{ "A", "a" }, { "B", "b" }, { "EMPTY", "" }, { "HOST", "db.internal" }, { NULL, NULL },
};

static const char *table_lookup(void *ctx, const char *name)
{
	const struct var *v;

	for (v = ctx; v->name; v++)
		if (strcmp(v->name, name) == 0)
			return v->value;
	return NULL;
}

#define EXPANDS_TO(in, want)                                                                   \
	do {                                                                                   \
		char e_[256] = "";                                                             \
		char *r_ = expand_vars((in), table_lookup, (void *)vars, e_, sizeof(e_));      \
		ck_assert_msg(r_ != NULL, "'%s' failed: %s", (in), e_);                        \
		ck_assert_str_eq(r_, (want));                                                  \
		free(r_);                                                                      \
	} while (0)

#define EXPAND_FAILS(in, sub)                                                                  \
	do {                                                                                   \
		char e_[256] = "";                                                             \
		char *r_ = expand_vars((in), table_lookup, (void *)vars, e_, sizeof(e_));      \
		ck_assert_msg(r_ == NULL, "'%s' expanded to '%s'", (in), r_ ? r_ : "");        \
		ck_assert_msg(strstr(e_, (sub)) != NULL, "'%s': message '%s' lacks '%s'", (in), \
			      e_, (sub));                                                      \
	} while (0)

START_TEST(expand_plain_variable)
{
	EXPANDS_TO("${A}", "a");
	EXPANDS_TO("${HOST}", "db.internal");
	EXPANDS_TO("${EMPTY}", ""); /* set but empty, no default: empty */
	EXPANDS_TO("no variables at all", "no variables at all");
	EXPANDS_TO("", "");
}
END_TEST

START_TEST(expand_default_when_unset)
{
	EXPANDS_TO("${UNSET:-def}", "def");
	EXPANDS_TO("${UNSET:-127.0.0.1}", "127.0.0.1");
	EXPANDS_TO("${UNSET:-}", "");
}
END_TEST

START_TEST(expand_default_when_empty)
{
	EXPANDS_TO("${EMPTY:-def}", "def");
}
END_TEST

START_TEST(expand_default_ignored_when_set)
{
	EXPANDS_TO("${A:-def}", "a");
	EXPANDS_TO("${HOST:-127.0.0.1}", "db.internal");
}
END_TEST

START_TEST(expand_nested_default)
{
	EXPANDS_TO("${UNSET:-${B}}", "b");
	EXPANDS_TO("${UNSET:-x${B}y}", "xby");
	EXPANDS_TO("${UNSET:-${UNSET2:-deep}}", "deep");
	EXPANDS_TO("${A:-${UNSET}}", "a"); /* the default is not expanded when unused */
	EXPAND_FAILS("${UNSET:-${NOPE}}", "'NOPE'");
}
END_TEST

START_TEST(expand_double_dollar_is_literal)
{
	EXPANDS_TO("$${A}", "${A}");
	EXPANDS_TO("x$${", "x${");
	EXPANDS_TO("$${A}=${A}", "${A}=a");
	EXPANDS_TO("${UNSET:-$${B}}", "${B}");
	/* a lone $ is kept */
	EXPANDS_TO("cost $5 or $$5 $A", "cost $5 or $$5 $A");
}
END_TEST

START_TEST(expand_unset_without_default_names_variable)
{
	EXPAND_FAILS("${DB_PASSWORD_UNSET}", "'DB_PASSWORD_UNSET' is not set");
	EXPAND_FAILS("prefix ${A} ${MISSING} suffix", "'MISSING'");
}
END_TEST

START_TEST(expand_unterminated)
{
	EXPAND_FAILS("${A", "without a closing '}'");
	EXPAND_FAILS("x ${UNSET:-${B}", "without a closing '}'");
}
END_TEST

START_TEST(expand_invalid_name)
{
	/* the text is never quoted: it may be part of a password */
	EXPAND_FAILS("${1A}", "'${' is not followed by a variable name");
	EXPAND_FAILS("${}", "is not followed by a variable name");
	EXPAND_FAILS("${A B}", "is not followed by a variable name");
	EXPAND_FAILS("${A-def}", "is not followed by a variable name");
}
END_TEST

START_TEST(expand_keeps_text_around)
{
	EXPANDS_TO("pre-${A}-mid-${B}-post", "pre-a-mid-b-post");
	EXPANDS_TO("postgres://u@${HOST:-localhost}:5432/${UNSET:-app}",
		   "postgres://u@db.internal:5432/app");
	EXPANDS_TO("${A}${B}", "ab");
	EXPANDS_TO("${A}}", "a}");
}
END_TEST

/* ---- config_load ------------------------------------------------------------------ */

static const char *const saved_names[] = {
	"MIGRATE_ENV", "MIGRATE_CONFIG", "DATABASE_URL", "TEST_DATABASE_URL", "PGHOST",
	"DB_PASSWORD", "CFG_TEST_VAR", NULL,
};
static char *saved_values[8];
static char *saved_cwd;
static char *tmp;   /* this test's directory */
static char *cfg;   /* tmp/config.ini */

static void env_setup(void)
{
	size_t i;

	for (i = 0; saved_names[i]; i++) {
		const char *v = getenv(saved_names[i]);
		saved_values[i] = v ? xstrdup(v) : NULL;
		unsetenv(saved_names[i]);
	}
	saved_cwd = getcwd(NULL, 0);
	tmp = tmpdir_new();
	cfg = path_join(tmp, "config.ini");
}

static void env_teardown(void)
{
	size_t i;

	for (i = 0; saved_names[i]; i++) {
		if (saved_values[i])
			setenv(saved_names[i], saved_values[i], 1);
		else
			unsetenv(saved_names[i]);
		free(saved_values[i]);
		saved_values[i] = NULL;
	}
	if (saved_cwd && chdir(saved_cwd) != 0)
		perror("chdir");
	free(saved_cwd);
	rm_rf(tmp);
	free(tmp);
	free(cfg);
}

/* The example of SPEC section 2, comments after headers and values included. */
static const char example_ini[] =
	"[migrate]                 ; settings shared by every environment\n" /* 1 */
	"migrations_dir = migrations\n"                                      /* 2 */
	"seeds_dir      = seeds\n"                                           /* 3 */
	"table          = schema_migrations\n"                               /* 4 */
	"seeds_table    = schema_seeds\n"                                    /* 5 */
	"lock_timeout   = 60       ; seconds\n"                              /* 6 */
	"\n"                                                                 /* 7 */
	"[development]             ; the default environment\n"              /* 8 */
	"driver   = sqlite\n"                                                /* 9 */
	"database = dev.db\n"                                                /* 10 */
	"\n"                                                                 /* 11 */
	"[test]\n"                                                           /* 12 */
	"url = ${TEST_DATABASE_URL}\n"                                       /* 13 */
	"\n"                                                                 /* 14 */
	"[production]\n"                                                     /* 15 */
	"driver   = postgres\n"                                              /* 16 */
	"host     = ${PGHOST:-127.0.0.1}\n"                                  /* 17 */
	"port     = 5432\n"                                                  /* 18 */
	"user     = app\n"                                                   /* 19 */
	"password = ${DB_PASSWORD}\n"                                        /* 20 */
	"database = app\n"                                                   /* 21 */
	"sslmode  = require\n";                                              /* 22 */

/* In tmp; the caller frees. */
static char *in_tmp(const char *rel)
{
	return path_join(tmp, rel);
}

static enum migrate_result load(const struct migrate_options *opt, int need_database,
				struct config *c, struct migrate_error *err)
{
	merr_clear(err);
	return config_load(opt, need_database, c, err);
}

#define LOAD_OK(opt, need, c, err)                                                         \
	do {                                                                               \
		enum migrate_result r_ = load((opt), (need), (c), (err));                  \
		ck_assert_msg(r_ == MIGRATE_OK, "config_load: %d: %s", (int)r_, (err)->message); \
	} while (0)

#define LOAD_FAILS(opt, need, c, err, sub)                                                 \
	do {                                                                               \
		enum migrate_result r_ = load((opt), (need), (c), (err));                  \
		ck_assert_msg(r_ == MIGRATE_EUSAGE, "config_load gave %d, want MIGRATE_EUSAGE", \
			      (int)r_);                                                    \
		ck_assert_int_eq((err)->code, MIGRATE_EUSAGE);                             \
		ck_assert_msg(strstr((err)->message, (sub)) != NULL,                       \
			      "message '%s' lacks '%s'", (err)->message, (sub));           \
		ck_assert_msg(strstr((err)->message, PW) == NULL,                          \
			      "message '%s' shows the password", (err)->message);          \
	} while (0)

START_TEST(config_example_default_env_is_development)
{
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	struct config c;
	char *want;

	write_file(tmp, "config.ini", example_ini);
	opt.config_path = cfg;
	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_str_eq(c.env, "development");
	ck_assert_str_eq(c.path, cfg);
	ck_assert_str_eq(c.driver_name, "sqlite");
	ck_assert_ptr_nonnull(c.drv);
	ck_assert_str_eq(c.conn.driver, "sqlite");
	want = in_tmp("dev.db");
	ck_assert_str_eq(c.conn.database, want);
	ck_assert_str_eq(c.settings.database, want);
	free(want);
	want = xasprintf("sqlite://%s/dev.db", tmp);
	ck_assert_str_eq(c.display_url, want);
	free(want);
	want = in_tmp("migrations");
	ck_assert_str_eq(c.migrations_dir, want);
	free(want);
	want = in_tmp("seeds");
	ck_assert_str_eq(c.seeds_dir, want);
	free(want);
	ck_assert_str_eq(c.table, "schema_migrations");
	ck_assert_str_eq(c.seeds_table, "schema_seeds");
	ck_assert_int_eq(c.lock_timeout, 60);
	config_release(&c);
}
END_TEST

START_TEST(config_example_production_section)
{
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	struct config c;

	write_file(tmp, "config.ini", example_ini);
	setenv("DB_PASSWORD", PW, 1);
	opt.config_path = cfg;
	opt.env = "production";
	/* need_database 0: this build may lack the postgres driver */
	LOAD_OK(&opt, 0, &c, &err);
	ck_assert_str_eq(c.env, "production");
	ck_assert_str_eq(c.conn.driver, "postgres");
	ck_assert_str_eq(c.driver_name, "postgres");
	ck_assert_str_eq(c.conn.host, "127.0.0.1");
	ck_assert_int_eq(c.conn.port, 5432);
	ck_assert_str_eq(c.conn.user, "app");
	ck_assert_str_eq(c.conn.password, PW);
	ck_assert_str_eq(c.conn.database, "app"); /* not a path: not resolved */
	ck_assert_str_eq(c.conn.sslmode, "require");
	ck_assert_str_eq(c.settings.password, PW);
	ck_assert_int_eq(c.settings.port, 5432);
	ck_assert_str_eq(c.display_url, "postgres://app:****@127.0.0.1:5432/app?sslmode=require");
	config_release(&c);

	setenv("PGHOST", "db.internal", 1);
	LOAD_OK(&opt, 0, &c, &err);
	ck_assert_str_eq(c.conn.host, "db.internal");
	config_release(&c);
}
END_TEST

START_TEST(config_example_test_section_url)
{
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	struct config c;
	char *want;

	write_file(tmp, "config.ini", example_ini);
	setenv("TEST_DATABASE_URL", "sqlite:test.db", 1);
	opt.config_path = cfg;
	opt.env = "test";
	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_str_eq(c.env, "test");
	ck_assert_str_eq(c.conn.driver, "sqlite");
	/* a URL written in the config file is relative to the file too */
	want = in_tmp("test.db");
	ck_assert_str_eq(c.conn.database, want);
	free(want);
	config_release(&c);

	setenv("TEST_DATABASE_URL", "postgres://ci:" PW "@pg:5433/ci_db", 1);
	LOAD_OK(&opt, 0, &c, &err);
	ck_assert_str_eq(c.conn.driver, "postgres");
	ck_assert_str_eq(c.conn.password, PW);
	ck_assert_str_eq(c.display_url, "postgres://ci:****@pg:5433/ci_db");
	config_release(&c);
}
END_TEST

static const char envs_ini[] =
	"[development]\n"
	"driver = sqlite\n"
	"database = dev.db\n"
	"[staging]\n"
	"driver = sqlite\n"
	"database = staging.db\n"
	"[ci]\n"
	"driver = sqlite\n"
	"database = /abs/ci.db\n";

START_TEST(config_env_flag_beats_variable_beats_default)
{
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	struct config c;
	char *want;

	write_file(tmp, "config.ini", envs_ini);
	opt.config_path = cfg;

	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_str_eq(c.env, "development");
	want = in_tmp("dev.db");
	ck_assert_str_eq(c.conn.database, want);
	free(want);
	config_release(&c);

	setenv("MIGRATE_ENV", "staging", 1);
	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_str_eq(c.env, "staging");
	want = in_tmp("staging.db");
	ck_assert_str_eq(c.conn.database, want);
	free(want);
	config_release(&c);

	opt.env = "ci";
	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_str_eq(c.env, "ci");
	ck_assert_str_eq(c.conn.database, "/abs/ci.db"); /* absolute: kept */
	config_release(&c);

	/* names are compared without case, as iniparser does */
	opt.env = "CI";
	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_str_eq(c.env, "ci");
	config_release(&c);

	/* an empty MIGRATE_ENV is not given */
	opt.env = NULL;
	setenv("MIGRATE_ENV", "", 1);
	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_str_eq(c.env, "development");
	config_release(&c);
}
END_TEST

START_TEST(config_path_flag_beats_variable)
{
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	struct config c;
	char *other, *want;

	write_file(tmp, "config.ini", "[development]\ndriver = sqlite\ndatabase = one.db\n");
	write_file(tmp, "sub/other.ini", "[development]\ndriver = sqlite\ndatabase = two.db\n");
	other = in_tmp("sub/other.ini");
	setenv("MIGRATE_CONFIG", other, 1);
	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_str_eq(c.path, other);
	want = in_tmp("sub/two.db");
	ck_assert_str_eq(c.conn.database, want);
	free(want);
	config_release(&c);

	opt.config_path = cfg;
	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_str_eq(c.path, cfg);
	want = in_tmp("one.db");
	ck_assert_str_eq(c.conn.database, want);
	free(want);
	config_release(&c);
	free(other);
}
END_TEST

START_TEST(config_url_flag_beats_variable_beats_section)
{
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	struct config c;
	char *want;

	write_file(tmp, "config.ini",
		   "[development]\ndriver = sqlite\ndatabase = file.db\n");
	opt.config_path = cfg;

	LOAD_OK(&opt, 1, &c, &err);
	want = in_tmp("file.db");
	ck_assert_str_eq(c.conn.database, want);
	free(want);
	config_release(&c);

	setenv("DATABASE_URL", "sqlite:env.db", 1);
	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_str_eq(c.conn.database, "env.db"); /* relative to the cwd: unchanged */
	ck_assert_str_eq(c.display_url, "sqlite:env.db");
	config_release(&c);

	opt.url = "sqlite:flag.db";
	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_str_eq(c.conn.database, "flag.db");
	config_release(&c);

	/* the URL replaces every connection key of the section */
	opt.url = "postgres://u:" PW "@h:6000/d";
	LOAD_OK(&opt, 0, &c, &err);
	ck_assert_str_eq(c.conn.driver, "postgres");
	ck_assert_str_eq(c.conn.database, "d");
	ck_assert_int_eq(c.conn.port, 6000);
	config_release(&c);
}
END_TEST

START_TEST(config_relative_sqlite_path_in_file_vs_url)
{
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	struct config c;
	char *want;

	write_file(tmp, "conf/config.ini",
		   "[development]\ndriver = sqlite\ndatabase = data/dev.db\n"
		   "[memory]\ndriver = sqlite\ndatabase = :memory:\n");
	free(cfg);
	cfg = in_tmp("conf/config.ini");
	opt.config_path = cfg;
	LOAD_OK(&opt, 1, &c, &err);
	want = in_tmp("conf/data/dev.db");
	ck_assert_str_eq(c.conn.database, want);
	free(want);
	config_release(&c);

	opt.env = "memory";
	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_str_eq(c.conn.database, ":memory:");
	config_release(&c);

	opt.env = NULL;
	opt.url = "sqlite:data/dev.db";
	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_str_eq(c.conn.database, "data/dev.db");
	config_release(&c);

	/* a config file named relative to the cwd */
	ck_assert_int_eq(chdir(tmp), 0);
	opt.url = NULL;
	opt.config_path = "conf/config.ini";
	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_str_eq(c.conn.database, "conf/data/dev.db");
	ck_assert_str_eq(c.migrations_dir, "conf/migrations");
	config_release(&c);
}
END_TEST

START_TEST(config_migrations_dir_relative_to_file)
{
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	struct config c;
	char *want;

	write_file(tmp, "config.ini",
		   "[migrate]\nmigrations_dir = db/migrations\nseeds_dir = /abs/seeds\n"
		   "[development]\ndriver = sqlite\ndatabase = dev.db\n");
	opt.config_path = cfg;
	LOAD_OK(&opt, 1, &c, &err);
	want = in_tmp("db/migrations");
	ck_assert_str_eq(c.migrations_dir, want);
	free(want);
	ck_assert_str_eq(c.seeds_dir, "/abs/seeds");
	config_release(&c);

	/* flags are relative to the cwd: kept as given */
	opt.migrations_dir = "m2";
	opt.seeds_dir = "s2";
	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_str_eq(c.migrations_dir, "m2");
	ck_assert_str_eq(c.seeds_dir, "s2");
	config_release(&c);
}
END_TEST

START_TEST(config_unknown_environment_lists_known)
{
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	struct config c;

	write_file(tmp, "config.ini", example_ini);
	opt.config_path = cfg;
	opt.env = "staging";
	LOAD_FAILS(&opt, 1, &c, &err, "unknown environment 'staging'");
	ck_assert_msg(strstr(err.message, "development, test, production") != NULL,
		      "message '%s' does not list the environments", err.message);
	ck_assert_msg(strstr(err.message, "migrate,") == NULL && strstr(err.message, ", migrate") == NULL,
		      "message '%s' lists [migrate] as an environment", err.message);
	ck_assert_ptr_null(c.env); /* released on failure */

	unsetenv("MIGRATE_ENV");
	opt.env = NULL;
	setenv("MIGRATE_ENV", "qa", 1);
	LOAD_FAILS(&opt, 1, &c, &err, "unknown environment 'qa'");
}
END_TEST

START_TEST(config_missing_file_is_error_without_url)
{
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	struct config c;

	ck_assert_int_eq(chdir(tmp), 0);
	LOAD_FAILS(&opt, 1, &c, &err, "config file 'config.ini' not found");

	/* commands that need no database do without it */
	LOAD_OK(&opt, 0, &c, &err);
	ck_assert_ptr_null(c.path);
	ck_assert_str_eq(c.migrations_dir, "migrations");
	config_release(&c);

	/* an explicitly named file that is missing is an error */
	opt.config_path = "nope.ini";
	LOAD_FAILS(&opt, 1, &c, &err, "config file 'nope.ini' not found");
}
END_TEST

START_TEST(config_missing_file_is_fine_with_url)
{
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	struct config c;

	ck_assert_int_eq(chdir(tmp), 0);
	opt.url = "sqlite:x.db";
	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_ptr_null(c.path);
	ck_assert_str_eq(c.env, "development");
	ck_assert_str_eq(c.conn.database, "x.db");
	ck_assert_str_eq(c.migrations_dir, "migrations");
	ck_assert_int_eq(c.lock_timeout, 60);
	config_release(&c);

	opt.url = NULL;
	setenv("DATABASE_URL", "sqlite::memory:", 1);
	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_str_eq(c.conn.database, ":memory:");
	config_release(&c);
}
END_TEST

START_TEST(config_unset_var_in_chosen_section_names_it_and_line)
{
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	struct config c;

	write_file(tmp, "config.ini", example_ini);
	opt.config_path = cfg;
	opt.env = "test";
	LOAD_FAILS(&opt, 1, &c, &err, "config.ini:13:");
	ck_assert_msg(strstr(err.message, "'TEST_DATABASE_URL'") != NULL, "%s", err.message);

	opt.env = "production";
	LOAD_FAILS(&opt, 0, &c, &err, "config.ini:20:");
	ck_assert_msg(strstr(err.message, "'DB_PASSWORD'") != NULL, "%s", err.message);

	/* an empty value is set: not an error, and never silently the default */
	setenv("DB_PASSWORD", "", 1);
	LOAD_OK(&opt, 0, &c, &err);
	ck_assert_str_eq(c.conn.password, "");
	config_release(&c);
}
END_TEST

START_TEST(config_unset_var_in_migrate_section_is_error)
{
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	struct config c;

	write_file(tmp, "config.ini",
		   "; shared\n"
		   "[migrate]\n"
		   "table = schema_migrations\n"
		   "migrations_dir = ${CFG_TEST_VAR}\n"
		   "[development]\n"
		   "driver = sqlite\n"
		   "database = dev.db\n");
	opt.config_path = cfg;
	LOAD_FAILS(&opt, 1, &c, &err, "config.ini:4:");
	ck_assert_msg(strstr(err.message, "'CFG_TEST_VAR'") != NULL, "%s", err.message);

	setenv("CFG_TEST_VAR", "/abs/m", 1);
	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_str_eq(c.migrations_dir, "/abs/m");
	config_release(&c);
}
END_TEST

START_TEST(config_unset_var_in_other_section_is_fine)
{
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	struct config c;

	write_file(tmp, "config.ini", example_ini);
	opt.config_path = cfg;
	/* TEST_DATABASE_URL and DB_PASSWORD are unset: [test] and [production] are not in use */
	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_str_eq(c.env, "development");
	config_release(&c);
}
END_TEST

START_TEST(config_placeholders_section_is_not_an_environment)
{
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	struct config c;

	/* placeholders expand when migrations run, not when the config loads */
	write_file(tmp, "config.ini",
		   "[placeholders]\n"
		   "owner = ${CFG_TEST_VAR}\n"
		   "[development]\n"
		   "driver = sqlite\n"
		   "database = dev.db\n");
	opt.config_path = cfg;
	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_str_eq(c.env, "development");
	config_release(&c);

	opt.env = "nope";
	LOAD_FAILS(&opt, 1, &c, &err, "(known environments: development)");
}
END_TEST

START_TEST(config_unknown_key_names_file_and_line)
{
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	struct config c;

	write_file(tmp, "config.ini",
		   "[development]\n"
		   "driver = sqlite\n"
		   "databse = dev.db\n");
	opt.config_path = cfg;
	LOAD_FAILS(&opt, 1, &c, &err, "config.ini:3: unknown key 'databse' in [development]");

	/* connection keys belong to environments, not to [migrate] */
	write_file(tmp, "config.ini",
		   "[migrate]\n"
		   "table = t\n"
		   "\n"
		   "driver = sqlite\n"
		   "[development]\n"
		   "database = dev.db\n");
	LOAD_FAILS(&opt, 1, &c, &err, "config.ini:4: unknown key 'driver' in [migrate]");
}
END_TEST

START_TEST(config_bad_port_in_file_names_line)
{
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	struct config c;

	write_file(tmp, "config.ini",
		   "[development]\n"
		   "driver = postgres\n"
		   "password = " PW "\n"
		   "port = 99999\n"
		   "[other]\n"
		   "port = 1\n");
	opt.config_path = cfg;
	LOAD_FAILS(&opt, 0, &c, &err, "config.ini:4: port '99999'");

	write_file(tmp, "config.ini",
		   "[development]\n"
		   "url = postgres://u:" PW "@h:70000/d\n");
	LOAD_FAILS(&opt, 0, &c, &err, "config.ini:2: in [development] url: ");
}
END_TEST

START_TEST(config_lock_timeout_default_file_flag)
{
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	struct config c;

	write_file(tmp, "config.ini", "[development]\ndriver = sqlite\ndatabase = dev.db\n");
	opt.config_path = cfg;
	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_int_eq(c.lock_timeout, 60);
	config_release(&c);

	write_file(tmp, "config.ini",
		   "[migrate]\nlock_timeout = 15 ; seconds\n[development]\ndriver = sqlite\ndatabase = dev.db\n");
	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_int_eq(c.lock_timeout, 15);
	config_release(&c);

	/* the environment's section beats [migrate] */
	write_file(tmp, "config.ini",
		   "[migrate]\nlock_timeout = 15\n[development]\ndriver = sqlite\ndatabase = dev.db\n"
		   "lock_timeout = 25\n");
	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_int_eq(c.lock_timeout, 25);
	config_release(&c);

	opt.lock_timeout = 5;
	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_int_eq(c.lock_timeout, 5);
	config_release(&c);

	opt.lock_timeout = 0;
	LOAD_OK(&opt, 1, &c, &err);
	ck_assert_int_eq(c.lock_timeout, 0);
	config_release(&c);
}
END_TEST

START_TEST(config_lock_timeout_invalid)
{
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	struct config c;

	write_file(tmp, "config.ini",
		   "[migrate]\n"
		   "table = t\n"
		   "lock_timeout = soon\n"
		   "[development]\n"
		   "driver = sqlite\n"
		   "database = dev.db\n");
	opt.config_path = cfg;
	LOAD_FAILS(&opt, 1, &c, &err, "config.ini:3: lock_timeout 'soon' is not a number of seconds");

	write_file(tmp, "config.ini",
		   "[migrate]\n"
		   "lock_timeout = -5\n"
		   "[development]\n"
		   "driver = sqlite\n"
		   "database = dev.db\n");
	LOAD_FAILS(&opt, 1, &c, &err, "config.ini:2: lock_timeout '-5'");

	write_file(tmp, "config.ini",
		   "[development]\n"
		   "driver = sqlite\n"
		   "database = dev.db\n"
		   "lock_timeout = 10s\n");
	LOAD_FAILS(&opt, 1, &c, &err, "config.ini:4: lock_timeout '10s'");
}
END_TEST

START_TEST(config_syntax_error_names_line)
{
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	struct config c;

	write_file(tmp, "config.ini",
		   "[development]   ; comment\n"
		   "driver = sqlite\n"
		   "; a comment\n"
		   "\n"
		   "this line is not a key\n"
		   "database = dev.db\n");
	opt.config_path = cfg;
	LOAD_FAILS(&opt, 1, &c, &err, "config.ini:5: syntax error");
	/* the line is not shown: it may hold a password */
	ck_assert_msg(strstr(err.message, "this line is not a key") == NULL, "%s", err.message);
}
END_TEST

START_TEST(config_no_database_configured)
{
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	struct config c;

	write_file(tmp, "config.ini", "[migrate]\ntable = t\n\n[development]\n");
	opt.config_path = cfg;
	LOAD_FAILS(&opt, 1, &c, &err, "config.ini:4: [development] names no database");

	write_file(tmp, "config.ini", "[development]\ndriver = oracle\n");
	LOAD_FAILS(&opt, 1, &c, &err, "unknown driver 'oracle'");

	write_file(tmp, "config.ini", "[development]\ndriver = sqlite\n");
	LOAD_FAILS(&opt, 1, &c, &err, "SQLite needs a database file");
}
END_TEST

START_TEST(config_release_frees_and_is_idempotent)
{
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct migrate_error err;
	struct config c;

	write_file(tmp, "config.ini", example_ini);
	setenv("DB_PASSWORD", PW, 1);
	opt.config_path = cfg;
	opt.env = "production";
	LOAD_OK(&opt, 0, &c, &err);
	config_release(&c);
	ck_assert_ptr_null(c.path);
	ck_assert_ptr_null(c.env);
	ck_assert_ptr_null(c.conn.password);
	ck_assert_ptr_null(c.display_url);
	ck_assert_ptr_null(c.migrations_dir);
	config_release(&c);
	config_release(NULL);
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tu = tcase_create("url");
	TCase *te = tcase_create("expand");
	TCase *tl = tcase_create("load");

	tcase_add_test(tu, url_postgres_full);
	tcase_add_test(tu, url_postgresql_scheme_is_postgres);
	tcase_add_test(tu, url_mysql_and_mariadb);
	tcase_add_test(tu, url_user_and_password_percent_decoded);
	tcase_add_test(tu, url_raw_at_and_colon_in_password);
	tcase_add_test(tu, url_ipv6_host);
	tcase_add_test(tu, url_without_port_has_port_zero);
	tcase_add_test(tu, url_sqlite_forms);
	tcase_add_test(tu, url_query_parameters);
	tcase_add_test(tu, url_error_unknown_scheme);
	tcase_add_test(tu, url_error_missing_slashes);
	tcase_add_test(tu, url_error_bad_port);
	tcase_add_test(tu, url_error_bad_percent_escape);
	tcase_add_test(tu, url_error_unknown_query_parameter);
	tcase_add_test(tu, url_error_sqlite_with_host);
	tcase_add_test(tu, url_unencoded_slash_in_password);
	tcase_add_test(tu, url_decode_escapes);
	tcase_add_test(tu, display_masks_password);
	tcase_add_test(tu, display_ipv6_and_sqlite);
	tcase_add_test(tu, display_of_empty_url_is_none);
	suite_add_tcase(s, tu);

	tcase_add_test(te, expand_plain_variable);
	tcase_add_test(te, expand_default_when_unset);
	tcase_add_test(te, expand_default_when_empty);
	tcase_add_test(te, expand_default_ignored_when_set);
	tcase_add_test(te, expand_nested_default);
	tcase_add_test(te, expand_double_dollar_is_literal);
	tcase_add_test(te, expand_unset_without_default_names_variable);
	tcase_add_test(te, expand_unterminated);
	tcase_add_test(te, expand_invalid_name);
	tcase_add_test(te, expand_keeps_text_around);
	suite_add_tcase(s, te);

	tcase_add_checked_fixture(tl, env_setup, env_teardown);
	tcase_add_test(tl, config_example_default_env_is_development);
	tcase_add_test(tl, config_example_production_section);
	tcase_add_test(tl, config_example_test_section_url);
	tcase_add_test(tl, config_env_flag_beats_variable_beats_default);
	tcase_add_test(tl, config_path_flag_beats_variable);
	tcase_add_test(tl, config_url_flag_beats_variable_beats_section);
	tcase_add_test(tl, config_relative_sqlite_path_in_file_vs_url);
	tcase_add_test(tl, config_migrations_dir_relative_to_file);
	tcase_add_test(tl, config_unknown_environment_lists_known);
	tcase_add_test(tl, config_missing_file_is_error_without_url);
	tcase_add_test(tl, config_missing_file_is_fine_with_url);
	tcase_add_test(tl, config_unset_var_in_chosen_section_names_it_and_line);
	tcase_add_test(tl, config_unset_var_in_migrate_section_is_error);
	tcase_add_test(tl, config_unset_var_in_other_section_is_fine);
	tcase_add_test(tl, config_placeholders_section_is_not_an_environment);
	tcase_add_test(tl, config_unknown_key_names_file_and_line);
	tcase_add_test(tl, config_bad_port_in_file_names_line);
	tcase_add_test(tl, config_lock_timeout_default_file_flag);
	tcase_add_test(tl, config_lock_timeout_invalid);
	tcase_add_test(tl, config_syntax_error_names_line);
	tcase_add_test(tl, config_no_database_configured);
	tcase_add_test(tl, config_release_frees_and_is_idempotent);
	suite_add_tcase(s, tl);
	return s;
}
