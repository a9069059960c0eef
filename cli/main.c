/*
 * main.c - the migrate command line: a thin user of libmigrate.
 *
 * Global options may stand anywhere (before or after the command). The
 * command table says what each command needs (a database connection, the
 * connection settings only, the config only, nothing); main() parses the
 * globals, the command parses its own options, and cli_open() sets up what
 * the table asked for, so each command does only its own work. Results map
 * to exit codes exactly as SPEC section 7 says: the enum values are the codes.
 */
#define _XOPEN_SOURCE 700
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migrate.h"
#include "output.h"
#include "signals.h"

enum cmd_needs {
	NEEDS_NOTHING,   /* help, drivers */
	NEEDS_CONFIG,    /* new: the config if there is one, no database */
	NEEDS_SETTINGS,  /* create, drop, wait: connection settings, no connection yet */
	NEEDS_DATABASE,  /* everything else */
	NEEDS_EXISTING,  /* status, version, validate, dump: a database that exists (never created) */
};

struct cli {
	struct migrate_options opt;
	char *url;          /* --url's value, copied before argv's copy is blanked */
	char *scratch_url;  /* verify --scratch-url's, likewise */
	int json, quiet, verbose;
	const struct cmd *cmd;
	struct output *out;
	migrate *m;
	struct migrate_error err;
	const char *targets; /* --targets NAME: run the command on each target (fleet.c) */
	int parallel, canary;
};

struct cmd {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
	enum cmd_needs needs;
	const char *usage;   /* after "migrate " */
	const char *summary;
	const char *help;    /* the command's own options, one per line */
	int fleet;           /* takes --targets, --parallel and --canary */
};

static const char global_help[] =
	"global options (before or after the command):\n"
	"  -c, --config FILE       config file (default: $MIGRATE_CONFIG, else ./config.ini)\n"
	"  -e, --env NAME          environment (default: $MIGRATE_ENV, else development)\n"
	"  -u, --url URL           database URL (default: $DATABASE_URL); overrides the config's connection\n"
	"      --migrations-dir DIR\n"
	"      --seeds-dir DIR\n"
	"      --format text|json  output format\n"
	"  -q, --quiet             print only errors\n"
	"  -v, --verbose           print more\n"
	"      --dry-run           print the SQL that would run; change nothing\n"
	"      --lock-timeout SECONDS\n"
	"  -h, --help              this help, or a command's\n"
	"      --version           print migrate's version\n";

static void print_usage(FILE *f);

/* strdup for the CLI, which does not link the library's xmalloc family. */
static char *xstrdup_or_exit(const char *s)
{
	char *d = strdup(s);

	if (!d) {
		fprintf(stderr, "migrate: error: out of memory\n");
		exit(70);
	}
	return d;
}
static void print_cmd_usage(FILE *f, const struct cmd *c);
static const struct cmd *find_cmd(const char *name);

static int usage_error(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(struct cli *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	output_error(c->out, MIGRATE_EUSAGE, msg);
	if (!c->json) {
		if (c->cmd)
			fprintf(stderr, "usage: migrate %s (see 'migrate help %s')\n", c->cmd->usage, c->cmd->name);
		else
			fprintf(stderr, "see 'migrate help'\n");
	}
	return MIGRATE_EUSAGE;
}

/*
 * Overwrites the password of a URL given on the command line, in argv
 * itself, as the mariadb client does for -p, so that ps and
 * /proc/PID/cmdline show "postgres://user:xxxx@host/db". The caller has
 * copied the URL first. Everything from the ':' after the user name to
 * the last '@' is blanked, so a password holding '@', '/' or '?' is
 * covered whatever the parser makes of it; a URL without user:password@
 * is left alone. (Environment variables and the config file never show in
 * ps: they are the safe route.)
 */
static void hide_url_password(char *url)
{
	char *p = strstr(url, "://"), *at, *colon;

	if (!p)
		return;
	p += 3;
	at = strrchr(p, '@');
	if (!at)
		return;
	colon = memchr(p, ':', (size_t)(at - p));
	if (!colon)
		return;
	for (colon++; colon < at; colon++)
		*colon = 'x';
}

/* Reports a library error and returns its exit code. */
static int fail(struct cli *c)
{
	/* interrupted: the code is the signal's (130 for SIGINT, 143 for SIGTERM and SIGHUP) */
	if (c->err.code == MIGRATE_EINTR && signals_exit_code())
		c->err.code = signals_exit_code();
	output_error(c->out, c->err.code, c->err.message);
	return c->err.code;
}

/* ---- --targets: one command on every target of a [targets NAME] section ---- */

struct fleet_tally {
	struct cli *c;
	size_t ok, failed, skipped;
};

static void fleet_result(void *ctx, const struct migrate_fleet_result *res)
{
	struct fleet_tally *t = ctx;

	if (!res->ran)
		t->skipped++;
	else if (res->code)
		t->failed++;
	else
		t->ok++;
	output_fleet_result(t->c->out, res);
}

static void fleet_event(void *ctx, const struct migrate_fleet_result *target, const struct migrate_event *ev)
{
	output_fleet_event(((struct fleet_tally *)ctx)->c->out, target, ev);
}

/* Runs the command (its options in fo) on each target; the exit code is the worst of theirs. */
static int cli_fleet(struct cli *c, const char *name, struct migrate_fleet_options *fo)
{
	struct fleet_tally t = { c, 0, 0, 0 };
	int r;

	fo->targets = c->targets;
	fo->parallel = c->parallel;
	fo->canary = c->canary;
	fo->on_result = fleet_result;
	fo->on_event = fleet_event;
	fo->ctx = &t;
	output_fleet_begin(c->out, name, c->targets);
	signals_watch_fleet(1); /* a signal stops every worker's target, and no other starts */
	r = migrate_fleet(&c->opt, fo, &c->err);
	signals_watch_fleet(0);
	if (r == MIGRATE_EINTR && signals_exit_code())
		r = signals_exit_code();
	if (r && t.ok + t.failed + t.skipped == 0) {
		/* nothing ran: the targets could not be read */
		output_end(c->out, r);
		return fail(c);
	}
	output_fleet_end(c->out, t.ok, t.failed, t.skipped, r);
	if (r && !c->json && signals_exit_code())
		fprintf(stderr, "migrate: error: %s interrupted: %zu of %zu targets failed or were stopped, %zu not started (exit %d)\n",
			name, t.failed, t.ok + t.failed + t.skipped, t.skipped, r);
	else if (r && !c->json)
		fprintf(stderr, "migrate: error: %s on %zu of %zu targets failed%s (exit %d)\n", name, t.failed,
			t.ok + t.failed + t.skipped, t.skipped ? ", the others were not run" : "", r);
	return r;
}

/* Opens what the command's table entry asks for. */
static int cli_open(struct cli *c)
{
	c->opt.no_database = c->cmd->needs == NEEDS_CONFIG;
	c->opt.no_connect = c->cmd->needs == NEEDS_SETTINGS;
	c->opt.existing_only = c->cmd->needs == NEEDS_EXISTING;
	c->opt.progress = output_event;
	c->opt.progress_ctx = c->out;
	if (migrate_open(&c->opt, &c->m, &c->err))
		return fail(c);
	signals_watch(c->m); /* from now on a signal cancels, rolls back and unlocks */
	/* with 'format = auto' the layout was recognised: say which (stderr keeps stdout for the command) */
	if (c->verbose && !c->quiet && !c->json && *migrate_migrations_format(c->m))
		fprintf(stderr, "migrate: migrations in '%s' read in %s layout\n", migrate_migrations_dir(c->m),
			migrate_migrations_format(c->m));
	return MIGRATE_OK;
}

/* The command's own options: getopt_long over argv (argv[0] is the command). */
static int parse_opts(struct cli *c, int argc, char **argv, const char *shorts,
		      const struct option *longs, int (*each)(struct cli *, int, const char *, void *),
		      void *ctx)
{
	int ch;

	optind = 0; /* GNU: start afresh */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		if (ch == '?' || ch == ':') {
			const char *bad = argv[optind - 1] ? argv[optind - 1] : "?";
			if (ch == ':' || (optopt && strchr(shorts, optopt)))
				return usage_error(c, "option '%s' needs a value", bad);
			return usage_error(c, "unknown option '%s'", bad);
		}
		if (each(c, ch, optarg, ctx))
			return MIGRATE_EUSAGE;
	}
	return MIGRATE_OK;
}

static int no_opts(struct cli *c, int ch, const char *arg, void *ctx)
{
	(void)c; (void)ch; (void)arg; (void)ctx;
	return 0;
}

#define SECONDS_MAX (86400 * 365)

static int parse_count(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 1)
		return -1;
	*out = v;
	return 0;
}

/*
 * Seconds given as a flag: digits, 0 to a year (the config file's bound),
 * so a value too big for an int is refused rather than wrapped around
 * (4294967301 must not become 5).
 */
static int parse_seconds_arg(const char *s, int *out)
{
	long v;

	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	if (!isdigit((unsigned char)s[0]) || parse_count(s, &v) || v > SECONDS_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

/* ---- commands ------------------------------------------------------------------- */

struct up_ctx {
	struct migrate_up_options up;
};

static int up_opt(struct cli *c, int ch, const char *arg, void *ctx)
{
	struct up_ctx *u = ctx;

	(void)c;
	switch (ch) {
	case 't':
		u->up.to = arg;
		break;
	case 'o':
		u->up.out_of_order = 1;
		break;
	case 's':
		u->up.single_transaction = 1;
		break;
	case 'n':
		u->up.no_lint = 1;
		break;
	}
	return 0;
}

static int cmd_up(struct cli *c, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "to", required_argument, NULL, 't' },
		{ "out-of-order", no_argument, NULL, 'o' },
		{ "single-transaction", no_argument, NULL, 's' },
		{ "no-lint", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct up_ctx u = { { NULL, 0, 0, 0 } };
	int r;

	if ((r = parse_opts(c, argc, argv, "", longs, up_opt, &u)))
		return r;
	if (optind < argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind]);
	if (c->targets) {
		struct migrate_fleet_options fo = { 0 };
		fo.command = MIGRATE_FLEET_UP;
		fo.up = &u.up;
		return cli_fleet(c, "up", &fo);
	}
	if ((r = cli_open(c)))
		return r;
	output_begin(c->out, "up");
	r = migrate_up(c->m, &u.up, &c->err);
	output_end(c->out, r);
	return r ? fail(c) : 0;
}

static int down_opt(struct cli *c, int ch, const char *arg, void *ctx)
{
	struct migrate_down_options *d = ctx;

	(void)c;
	if (ch == 't')
		d->to = arg;
	else if (ch == 'a')
		d->all = 1;
	return 0;
}

static int cmd_down(struct cli *c, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "to", required_argument, NULL, 't' },
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct migrate_down_options d = { 1, NULL, 0 };
	int r, have_count = 0;

	if ((r = parse_opts(c, argc, argv, "", longs, down_opt, &d)))
		return r;
	if (optind < argc) {
		if (parse_count(argv[optind], &d.count))
			return usage_error(c, "'%s' is not a number of migrations (1 or more)", argv[optind]);
		optind++;
		have_count = 1;
	}
	if (optind < argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind]);
	if (have_count + (d.to != NULL) + d.all > 1)
		return usage_error(c, "%s", "give only one of N, --to VERSION or --all");
	if ((r = cli_open(c)))
		return r;
	output_begin(c->out, "down");
	r = migrate_down(c->m, &d, &c->err);
	output_end(c->out, r);
	return r ? fail(c) : 0;
}

/* Commands that take no options or arguments of their own: checks there are none. */
static int no_args(struct cli *c, int argc, char **argv)
{
	int r;

	if ((r = parse_opts(c, argc, argv, "", (const struct option[]){ { NULL, 0, NULL, 0 } }, no_opts,
			    NULL)))
		return r;
	if (optind < argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* ... and opens what the command needs. */
static int plain_args(struct cli *c, int argc, char **argv)
{
	int r;

	if ((r = no_args(c, argc, argv)))
		return r;
	return cli_open(c);
}

static int cmd_redo(struct cli *c, int argc, char **argv)
{
	int r;

	if ((r = plain_args(c, argc, argv)))
		return r;
	output_begin(c->out, "redo");
	r = migrate_redo(c->m, &c->err);
	output_end(c->out, r);
	return r ? fail(c) : 0;
}

static int check_opt(struct cli *c, int ch, const char *arg, void *ctx)
{
	(void)c; (void)arg;
	if (ch == 'k')
		*(int *)ctx = 1;
	return 0;
}

static int cmd_status(struct cli *c, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "check", no_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	struct migrate_status *st;
	int check = 0, r, clean = 1;
	size_t i;

	if ((r = parse_opts(c, argc, argv, "", longs, check_opt, &check)))
		return r;
	if (optind < argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind]);
	if (c->targets) {
		struct migrate_fleet_options fo = { 0 };
		fo.command = MIGRATE_FLEET_STATUS;
		fo.status_check = check;
		return cli_fleet(c, "status", &fo);
	}
	if ((r = cli_open(c)))
		return r;
	output_begin(c->out, "status");
	if ((r = migrate_status(c->m, &st, &c->err))) {
		output_end(c->out, r);
		return fail(c);
	}
	output_status(c->out, c->m, st);
	for (i = 0; i < st->n; i++)
		if (st->entries[i].state != MIGRATE_STATE_APPLIED)
			clean = 0;
	migrate_status_free(st);
	if (check && !clean) {
		output_set_string(c->out, "check", "failed: not every migration is applied and clean");
		output_end(c->out, MIGRATE_EFAIL);
		if (!c->json && !c->quiet)
			fprintf(stderr, "migrate: status --check: not every migration is applied and clean\n");
		return MIGRATE_EFAIL;
	}
	if (check)
		output_set_string(c->out, "check", "passed");
	output_end(c->out, MIGRATE_OK);
	return 0;
}

static int cmd_version(struct cli *c, int argc, char **argv)
{
	char *v;
	int r;

	if ((r = plain_args(c, argc, argv)))
		return r;
	output_begin(c->out, "version");
	if (migrate_current_version(c->m, &v, &c->err)) {
		output_end(c->out, c->err.code);
		return fail(c);
	}
	output_version(c->out, v);
	output_end(c->out, MIGRATE_OK);
	free(v);
	return 0;
}

static int cmd_new(struct cli *c, int argc, char **argv)
{
	char *path;
	int r;

	if ((r = parse_opts(c, argc, argv, "", (const struct option[]){ { NULL, 0, NULL, 0 } }, no_opts,
			    NULL)))
		return r;
	if (argc - optind != 1)
		return usage_error(c, "%s", argc - optind ? "'new' takes one NAME" : "'new' needs a NAME");
	if ((r = cli_open(c)))
		return r;
	output_begin(c->out, "new");
	if (migrate_new(c->m, argv[optind], &path, &c->err)) {
		output_end(c->out, c->err.code);
		return fail(c);
	}
	output_set_string(c->out, "path", path);
	output_end(c->out, MIGRATE_OK);
	if (!c->json)
		printf("%s\n", path);
	free(path);
	return 0;
}

static int cmd_validate(struct cli *c, int argc, char **argv)
{
	int r;

	if (c->targets) {
		struct migrate_fleet_options fo = { 0 };
		if ((r = no_args(c, argc, argv)))
			return r;
		fo.command = MIGRATE_FLEET_VALIDATE;
		return cli_fleet(c, "validate", &fo);
	}
	if ((r = plain_args(c, argc, argv)))
		return r;
	output_begin(c->out, "validate");
	r = migrate_validate(c->m, &c->err);
	if (r == MIGRATE_OK)
		output_line(c->out, "valid: every applied migration matches its file");
	else
		output_set_string(c->out, "error", c->err.message);
	output_end(c->out, r);
	return r ? fail(c) : 0;
}

static int cmd_repair(struct cli *c, int argc, char **argv)
{
	int r;

	if ((r = plain_args(c, argc, argv)))
		return r;
	output_begin(c->out, "repair");
	r = migrate_repair(c->m, &c->err);
	output_end(c->out, r);
	return r ? fail(c) : 0;
}

struct baseline_ctx {
	const char *from, *table;
};

static int baseline_opt(struct cli *c, int ch, const char *arg, void *ctx)
{
	struct baseline_ctx *b = ctx;

	(void)c;
	if (ch == 'f')
		b->from = arg;
	else if (ch == 't')
		b->table = arg;
	return 0;
}

static int cmd_baseline(struct cli *c, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "table", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct baseline_ctx b = { NULL, NULL };
	int r;

	if ((r = parse_opts(c, argc, argv, "", longs, baseline_opt, &b)))
		return r;
	if (b.table && !b.from)
		return usage_error(c, "'baseline --table' names the other tool's table: it goes with --from TOOL");
	if (b.from && argc - optind)
		return usage_error(c, "'baseline --from' takes no VERSION: the other tool's history says which are applied");
	if (!b.from && argc - optind != 1)
		return usage_error(c, "%s", argc - optind ? "'baseline' takes one VERSION" : "'baseline' needs a VERSION (or --from TOOL)");
	if ((r = cli_open(c)))
		return r;
	output_begin(c->out, "baseline");
	r = b.from ? migrate_baseline_from(c->m, b.from, b.table, &c->err)
		   : migrate_baseline(c->m, argv[optind], &c->err);
	output_end(c->out, r);
	return r ? fail(c) : 0;
}

static int seed_opt(struct cli *c, int ch, const char *arg, void *ctx)
{
	struct migrate_seed_options *so = ctx;

	(void)c;
	if (ch == 'u')
		so->undo = arg ? -1 : 1; /* --undo=N is parsed below */
	else if (ch == 'a')
		so->undo_all = 1;
	else if (ch == 'r')
		so->rerun = 1;
	return 0;
}

static int cmd_seed(struct cli *c, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "undo", no_argument, NULL, 'u' },
		{ "undo-all", no_argument, NULL, 'a' },
		{ "rerun", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct migrate_seed_options so = { NULL, 0, 0, 0, 0 };
	int r;

	if ((r = parse_opts(c, argc, argv, "", longs, seed_opt, &so)))
		return r;
	/* --undo N: a number right after the options is the count, not a seed's name */
	if (so.undo && optind < argc && strspn(argv[optind], "0123456789") == strlen(argv[optind])) {
		if (parse_count(argv[optind], &so.undo))
			return usage_error(c, "'%s' is not a number of seeds (1 or more)", argv[optind]);
		optind++;
	}
	if (so.undo + so.undo_all > 0 && so.rerun)
		return usage_error(c, "%s", "give either --undo (or --undo-all) or --rerun");
	if (so.undo && so.undo_all)
		return usage_error(c, "%s", "give either --undo [N] or --undo-all");
	so.names = (const char *const *)(argv + optind);
	so.nnames = (size_t)(argc - optind);
	if (c->targets) {
		struct migrate_fleet_options fo = { 0 };
		fo.command = MIGRATE_FLEET_SEED;
		fo.seed = &so;
		return cli_fleet(c, "seed", &fo);
	}
	if ((r = cli_open(c)))
		return r;
	output_begin(c->out, "seed");
	r = migrate_seed(c->m, &so, &c->err);
	output_end(c->out, r);
	return r ? fail(c) : 0;
}


/* ---- dump and verify ---- */

static int file_opt(struct cli *c, int ch, const char *arg, void *ctx)
{
	(void)c;
	if (ch == 'o')
		*(const char **)ctx = arg;
	return 0;
}

/*
 * Writes text to path whole or not at all: the text goes to a temporary
 * file beside the target, which is renamed over it only once written and
 * synced, so a full disk leaves the previous dump as it was (a CI check
 * that diffs it must not find it cut short, or gone). Through a symlink the
 * file it names is replaced. A path that is not a regular file
 * (/dev/stdout, a FIFO) is written directly. Returns 0 or an errno.
 */
static int write_whole(const char *path, const char *text)
{
	const char *target = path;
	size_t len = strlen(text), done = 0;
	char *tmp, *real = NULL;
	struct stat st;
	int fd, exists, werr = 0;
	mode_t mask;
	FILE *f;

	exists = stat(path, &st) == 0;
	if (exists && !S_ISREG(st.st_mode)) {
		f = fopen(path, "w");
		if (!f)
			return errno;
		if (fputs(text, f) == EOF)
			werr = errno;
		if (fclose(f) != 0 && !werr)
			werr = errno;
		return werr;
	}
	if (exists && (real = realpath(path, NULL)) != NULL)
		target = real;
	tmp = malloc(strlen(target) + sizeof(".tmp-XXXXXX"));
	if (!tmp)
		abort();
	sprintf(tmp, "%s.tmp-XXXXXX", target);
	fd = mkstemp(tmp);
	if (fd < 0) {
		werr = errno;
		free(tmp);
		free(real);
		return werr;
	}
	/* mkstemp makes it 0600: keep the old file's mode, or the usual one for a new file */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, exists ? st.st_mode & 07777 : 0666 & ~mask) != 0)
		werr = errno;
	while (!werr && done < len) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			werr = n < 0 ? errno : EIO;
		else
			done += (size_t)n;
	}
	if (!werr && fsync(fd) != 0)
		werr = errno;
	if (close(fd) != 0 && !werr)
		werr = errno;
	if (!werr && rename(tmp, target) != 0)
		werr = errno;
	if (werr)
		unlink(tmp);
	free(tmp);
	free(real);
	return werr;
}

static int cmd_dump(struct cli *c, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL;
	char *schema;
	int r;

	if ((r = parse_opts(c, argc, argv, "o:", longs, file_opt, &file)))
		return r;
	if (optind < argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind]);
	if ((r = cli_open(c)))
		return r;
	output_begin(c->out, "dump");
	if (migrate_dump(c->m, &schema, &c->err)) {
		output_end(c->out, c->err.code);
		return fail(c);
	}
	if (file) {
		int werr = write_whole(file, schema);
		if (werr) {
			snprintf(c->err.message, sizeof(c->err.message), "cannot write '%s': %s", file, strerror(werr));
			c->err.code = MIGRATE_EUSAGE;
			free(schema);
			output_end(c->out, c->err.code);
			return fail(c);
		}
	}
	output_dump(c->out, c->m, schema, file);
	output_end(c->out, MIGRATE_OK);
	free(schema);
	return 0;
}

static int scratch_opt(struct cli *c, int ch, const char *arg, void *ctx)
{
	if (ch == 's') {
		free(c->scratch_url);
		c->scratch_url = xstrdup_or_exit(arg);
		hide_url_password((char *)arg); /* arg is argv's */
		((struct migrate_verify_options *)ctx)->scratch_url = c->scratch_url;
	}
	return 0;
}

static int cmd_verify(struct cli *c, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "scratch-url", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct migrate_verify_options vo = { NULL };
	struct migrate_verify_report *rep = NULL;
	int r;

	if ((r = parse_opts(c, argc, argv, "", longs, scratch_opt, &vo)))
		return r;
	if (optind < argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind]);
	if (c->targets) {
		struct migrate_fleet_options fo = { 0 };
		if (vo.scratch_url)
			return usage_error(c, "%s", "--scratch-url names one database: it cannot serve --targets");
		fo.command = MIGRATE_FLEET_VERIFY;
		return cli_fleet(c, "verify", &fo);
	}
	if ((r = cli_open(c)))
		return r;
	output_begin(c->out, "verify");
	r = migrate_verify(c->m, &vo, &rep, &c->err);
	output_verify(c->out, rep, r);
	output_end(c->out, r);
	if (r) {
		fail(c);
		if (!c->json)
			output_verify_diff(c->out, rep);
	}
	migrate_verify_report_free(rep);
	return r;
}

struct lint_ctx {
	struct migrate_lint_options lo;
	int rules;
};

static int lint_opt(struct cli *c, int ch, const char *arg, void *ctx)
{
	struct lint_ctx *l = ctx;

	(void)c; (void)arg;
	if (ch == 'a')
		l->lo.all = 1;
	else if (ch == 'r')
		l->rules = 1;
	return 0;
}

static int cmd_lint(struct cli *c, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "rules", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct lint_ctx l = { { 0, NULL, 0 }, 0 };
	struct migrate_lint_report *rep = NULL;
	int r;

	if ((r = parse_opts(c, argc, argv, "", longs, lint_opt, &l)))
		return r;
	if (l.rules) {
		if (optind < argc || l.lo.all || c->targets)
			return usage_error(c, "%s", "--rules takes nothing else");
		output_begin(c->out, "lint");
		output_lint_rules(c->out, migrate_lint_rules());
		output_end(c->out, MIGRATE_OK);
		return 0;
	}
	if (l.lo.all && optind < argc)
		return usage_error(c, "%s", "give either --all or VERSION|FILE arguments");
	l.lo.targets = (const char *const *)(argv + optind);
	l.lo.ntargets = (size_t)(argc - optind);
	if (c->targets) {
		struct migrate_fleet_options fo = { 0 };
		fo.command = MIGRATE_FLEET_LINT;
		fo.lint = &l.lo;
		return cli_fleet(c, "lint", &fo);
	}
	if ((r = cli_open(c)))
		return r;
	output_begin(c->out, "lint");
	r = migrate_lint(c->m, &l.lo, &rep, &c->err);
	output_lint(c->out, rep);
	output_end(c->out, r);
	migrate_lint_report_free(rep);
	return r ? fail(c) : 0;
}

static int cmd_drift(struct cli *c, int argc, char **argv)
{
	struct migrate_drift_report *rep = NULL;
	int r;

	if ((r = no_args(c, argc, argv)))
		return r;
	if (c->targets) {
		struct migrate_fleet_options fo = { 0 };
		fo.command = MIGRATE_FLEET_DRIFT;
		return cli_fleet(c, "drift", &fo);
	}
	if ((r = cli_open(c)))
		return r;
	output_begin(c->out, "drift");
	r = migrate_drift(c->m, &rep, &c->err);
	output_drift(c->out, rep, r);
	output_end(c->out, r);
	migrate_drift_report_free(rep);
	return r ? fail(c) : 0;
}

static int cmd_create(struct cli *c, int argc, char **argv)
{
	int r;

	if ((r = plain_args(c, argc, argv)))
		return r;
	output_begin(c->out, "create");
	output_set_string(c->out, "database", migrate_display_url(c->m));
	r = migrate_create_database(c->m, &c->err);
	output_end(c->out, r);
	if (r)
		return fail(c);
	output_line(c->out, "created %s", migrate_display_url(c->m));
	return 0;
}

static int yes_opt(struct cli *c, int ch, const char *arg, void *ctx)
{
	(void)c; (void)arg;
	if (ch == 'y')
		*(int *)ctx = 1;
	return 0;
}

static int cmd_drop(struct cli *c, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ NULL, 0, NULL, 0 },
	};
	int yes = 0, r;

	if ((r = parse_opts(c, argc, argv, "", longs, yes_opt, &yes)))
		return r;
	if (optind < argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind]);
	if (!yes)
		return usage_error(c, "%s", "'drop' destroys the database and everything in it: add --yes to confirm");
	if ((r = cli_open(c)))
		return r;
	output_begin(c->out, "drop");
	output_set_string(c->out, "database", migrate_display_url(c->m));
	r = migrate_drop_database(c->m, &c->err);
	output_end(c->out, r);
	if (r)
		return fail(c);
	output_line(c->out, "dropped %s", migrate_display_url(c->m));
	return 0;
}

static int timeout_opt(struct cli *c, int ch, const char *arg, void *ctx)
{
	if (ch == 't' && parse_seconds_arg(arg, ctx))
		return usage_error(c, "--timeout '%s' is not a number of seconds from 0 to %d", arg, SECONDS_MAX);
	return 0;
}

static int cmd_wait(struct cli *c, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	int timeout = 60, r;

	if ((r = parse_opts(c, argc, argv, "", longs, timeout_opt, &timeout)))
		return r;
	if (optind < argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind]);
	if ((r = cli_open(c)))
		return r;
	output_begin(c->out, "wait");
	output_set_string(c->out, "database", migrate_display_url(c->m));
	r = migrate_wait(c->m, timeout, &c->err);
	output_end(c->out, r);
	if (r)
		return fail(c);
	output_line(c->out, "%s accepts connections", migrate_display_url(c->m));
	return 0;
}

static int cmd_drivers(struct cli *c, int argc, char **argv)
{
	const char *const *d = migrate_drivers();
	int r;

	if ((r = parse_opts(c, argc, argv, "", (const struct option[]){ { NULL, 0, NULL, 0 } }, no_opts,
			    NULL)))
		return r;
	if (optind < argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind]);
	output_begin(c->out, "drivers");
	output_set_strings(c->out, "drivers", d);
	output_end(c->out, MIGRATE_OK);
	for (; !c->json && *d; d++)
		printf("%s\n", *d);
	return 0;
}

/* ---- testdb ---- */

struct testdb_ctx {
	struct migrate_testdb_options o;
	int keep_given;
};

static int parse_number(struct cli *c, const char *opt, const char *arg, long min, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v < min)
		return usage_error(c, "%s '%s' is not a number (%ld or more)", opt, arg, min);
	*out = v;
	return 0;
}

static int testdb_opt(struct cli *c, int ch, const char *arg, void *ctx)
{
	struct testdb_ctx *t = ctx;

	switch (ch) {
	case 's':
		t->o.seed = 1;
		break;
	case 'p':
		t->o.prefix = arg;
		break;
	case 'w':
		t->o.with_password = 1;
		break;
	case 'f':
		return parse_number(c, "--prefill", arg, 1, &t->o.prefill);
	case 'g':
		t->o.gc = 1;
		break;
	case 'k':
		t->keep_given = 1;
		return parse_number(c, "--keep", arg, 0, &t->o.keep);
	case 'd':
		t->o.drop_url = arg;
		break;
	}
	return 0;
}

static int cmd_testdb(struct cli *c, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "seed", no_argument, NULL, 's' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "with-password", no_argument, NULL, 'w' },
		{ "prefill", required_argument, NULL, 'f' },
		{ "gc", no_argument, NULL, 'g' },
		{ "keep", required_argument, NULL, 'k' },
		{ "drop", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct testdb_ctx t;
	struct migrate_testdb_report rep;
	char *url = NULL;
	int r;

	memset(&t, 0, sizeof(t));
	if ((r = parse_opts(c, argc, argv, "", longs, testdb_opt, &t)))
		return r;
	if (optind < argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind]);
	if ((t.o.prefill > 0) + t.o.gc + (t.o.drop_url != NULL) > 1)
		return usage_error(c, "%s", "give only one of --prefill, --gc and --drop");
	if (t.keep_given && !t.o.gc)
		return usage_error(c, "%s", "--keep goes with --gc");
	if (cli_open(c))
		return c->err.code;
	t.o.report = &rep;
	output_begin(c->out, "testdb");
	r = migrate_testdb(c->m, &t.o, &url, &c->err);
	if (r == MIGRATE_OK)
		output_testdb(c->out, &rep, url);
	output_end(c->out, r);
	free(url);
	migrate_testdb_report_release(&rep);
	return r ? fail(c) : 0;
}

static int force_opt(struct cli *c, int ch, const char *arg, void *ctx)
{
	(void)c; (void)arg;
	if (ch == 'f')
		*(int *)ctx = 1;
	return 0;
}

/* "12.3 s" of a duration in milliseconds. */
static void secs(char *buf, size_t len, long long ms)
{
	snprintf(buf, len, "%.1f s", (double)(ms < 0 ? -ms : ms) / 1000);
}

/* migrate lock status | release [--force]: the run-wide lock (SPEC section 10). */
static int cmd_lock(struct cli *c, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct migrate_lock_info info;
	const char *sub;
	char held[32], exp[32], pid[32];
	int force = 0, r;

	if ((r = parse_opts(c, argc, argv, "", longs, force_opt, &force)))
		return r;
	if (optind >= argc)
		return usage_error(c, "%s", "'lock' needs 'status' or 'release'");
	sub = argv[optind];
	if (strcmp(sub, "status") != 0 && strcmp(sub, "release") != 0)
		return usage_error(c, "unknown 'lock' command '%s' (status, release)", sub);
	if (optind + 1 < argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind + 1]);
	if (force && strcmp(sub, "release") != 0)
		return usage_error(c, "%s", "--force is an option of 'lock release'");
	if ((r = cli_open(c)))
		return r;
	output_begin(c->out, strcmp(sub, "status") == 0 ? "lock status" : "lock release");
	if (strcmp(sub, "status") == 0)
		r = migrate_lock_status(c->m, &info, &c->err);
	else
		r = migrate_lock_release(c->m, force, &info, &c->err);
	if (info.mode) {
		output_set_string(c->out, "mode", info.mode);
		output_set_string(c->out, "mode_reason", info.mode_why);
		output_set_string(c->out, "held", info.held ? "yes" : "no");
	}
	if (info.held && strcmp(info.mode ? info.mode : "", "table") == 0) {
		snprintf(pid, sizeof(pid), "%ld", info.pid);
		secs(held, sizeof(held), info.held_ms);
		secs(exp, sizeof(exp), info.expires_in_ms);
		output_set_string(c->out, "host", info.host);
		output_set_string(c->out, "pid", pid);
		output_set_string(c->out, "run_id", info.run_id);
		output_set_string(c->out, "since", held);
		output_set_string(c->out, info.expires_in_ms > 0 ? "expires_in" : "expired_ago", exp);
	}
	output_end(c->out, r);
	if (r)
		return fail(c);
	if (!info.held) {
		output_line(c->out, "%s lock (%s) on %s: free", info.mode, info.mode_why, migrate_display_url(c->m));
		return 0;
	}
	if (strcmp(info.mode, "table") != 0) {
		output_line(c->out, "%s lock (%s) on %s: held: %s", info.mode, info.mode_why, migrate_display_url(c->m),
			    info.detail);
		return 0;
	}
	if (strcmp(sub, "status") == 0)
		output_line(c->out, "table lock (%s) on %s: held by host %s pid %ld (run %s) for %s; %s %s",
			    info.mode_why, migrate_display_url(c->m), info.host, info.pid, info.run_id, held,
			    info.expires_in_ms > 0 ? "expires in" : "expired", info.expires_in_ms > 0 ? exp : "");
	else
		output_line(c->out, "released the %s lease of host %s pid %ld (run %s) on %s",
			    info.expires_in_ms > 0 ? "live" : "expired", info.host, info.pid, info.run_id,
			    migrate_display_url(c->m));
	return 0;
}

static int cmd_help(struct cli *c, int argc, char **argv)
{
	const struct cmd *k;

	if (argc < 2) {
		print_usage(stdout);
		return 0;
	}
	k = find_cmd(argv[1]);
	if (!k)
		return usage_error(c, "unknown command '%s'", argv[1]);
	print_cmd_usage(stdout, k);
	return 0;
}

#define FLEET_HELP \
	"  --targets NAME          run on every database of the config's [targets NAME]\n" \
	"  --parallel N            that many targets at a time (default 4)\n" \
	"  --canary N              the first N targets first; when any fails, no other runs\n"

static const struct cmd commands[] = {
	{ "up", cmd_up, NEEDS_DATABASE, "up [--to VERSION] [--out-of-order] [--single-transaction] [--no-lint] [--targets NAME]",
	  "apply pending migrations in version order",
	  "  --to VERSION            apply pending migrations up to and including VERSION\n"
	  "  --out-of-order          allow pending versions below the highest applied one\n"
	  "  --single-transaction    apply them all in one transaction (not on MySQL)\n"
	  "  --no-lint               apply even when lint finds an error-level hazard in them\n" FLEET_HELP, 1 },
	{ "down", cmd_down, NEEDS_DATABASE, "down [N] [--to VERSION] [--all]",
	  "roll back the last N applied migrations (default 1)",
	  "  N                       how many to roll back, highest version first\n"
	  "  --to VERSION            roll back every applied migration above VERSION\n"
	  "  --all                   roll back every applied migration\n", 0 },
	{ "redo", cmd_redo, NEEDS_DATABASE, "redo", "roll back the last applied migration and apply it again", "", 0 },
	{ "status", cmd_status, NEEDS_EXISTING, "status [--check] [--targets NAME]",
	  "list every migration: applied, pending, changed, missing, failed or running",
	  "  --check                 exit 1 unless every migration is applied and clean\n" FLEET_HELP, 1 },
	{ "version", cmd_version, NEEDS_EXISTING, "version", "print the highest applied version, or 'none'", "", 0 },
	{ "new", cmd_new, NEEDS_CONFIG, "new NAME",
	  "create migrations/<UTC timestamp>_<NAME>.sql from a template and print its path",
	  "  NAME                    letters, digits, _, - and . (e.g. add_orders)\n", 0 },
	{ "validate", cmd_validate, NEEDS_EXISTING, "validate [--targets NAME]",
	  "check that applied migrations match their files; change nothing", FLEET_HELP, 1 },
	{ "repair", cmd_repair, NEEDS_DATABASE, "repair",
	  "forget failed migrations and re-record the checksums of changed files", "", 0 },
	{ "baseline", cmd_baseline, NEEDS_DATABASE, "baseline VERSION | baseline --from TOOL [--table NAME]",
	  "record every migration up to VERSION, or those another tool applied, as applied without running them",
	  "  VERSION                 the last migration the existing database already has\n"
	  "  --from TOOL             take over the history of golang-migrate, goose, flyway or dbmate\n"
	  "                          from its own table in the same database (left as it was)\n"
	  "  --table NAME            that tool's history table, if not its default name\n", 0 },
	{ "seed", cmd_seed, NEEDS_DATABASE, "seed [NAME...] [--undo [N] | --undo-all] [--rerun] [--targets NAME]",
	  "apply pending seeds in order (or only the named ones); undo or rerun them",
	  "  NAME                    a seed's file name, with or without .sql/.csv, or its name\n"
	  "  --undo [N]              undo the last N applied seeds (default 1), or the named ones\n"
	  "  --undo-all              undo every applied seed, latest first\n"
	  "  --rerun                 undo and apply again the seeds whose files changed (or the named ones)\n" FLEET_HELP, 1 },
	{ "dump", cmd_dump, NEEDS_EXISTING, "dump [-o FILE]",
	  "print the schema as deterministic text (tracking tables left out), for diffs in CI",
	  "  -o, --output FILE       write it to FILE instead of stdout\n", 0 },
	{ "verify", cmd_verify, NEEDS_SETTINGS, "verify [--scratch-url URL] [--targets NAME]",
	  "check that every pending migration rolls back and applies again to the same schema",
	  "  --scratch-url URL       run on this database instead (created if missing); default:\n"
	  "                          the environment's verify_url, else the configured database\n" FLEET_HELP, 1 },
	{ "lint", cmd_lint, NEEDS_SETTINGS, "lint [--all] [VERSION|FILE...] [--targets NAME] | lint --rules",
	  "check migrations for statements that lock, rewrite or break a live database",
	  "  (none)                  the pending migrations (every one when the database is unreachable)\n"
	  "  --all                   every migration\n"
	  "  VERSION|FILE            only these migrations\n"
	  "  --rules                 list the rules: id, databases, default severity\n" FLEET_HELP, 1 },
	{ "drift", cmd_drift, NEEDS_EXISTING, "drift [--targets NAME]",
	  "compare the live schema with what its applied migrations make, object by object",
	  "  (the migrations' schema: a clone of the 'testdb' template of the current files when\n"
	  "  every one is applied and it exists, else a replay; exit 1 when anything is missing,\n"
	  "  extra or changed)\n" FLEET_HELP, 1 },
	{ "create", cmd_create, NEEDS_SETTINGS, "create", "create the configured database", "", 0 },
	{ "drop", cmd_drop, NEEDS_SETTINGS, "drop --yes", "drop the configured database",
	  "  --yes                   confirm: everything in the database is lost\n", 0 },
	{ "wait", cmd_wait, NEEDS_SETTINGS, "wait [--timeout SECONDS]",
	  "wait until the database accepts connections",
	  "  --timeout SECONDS       give up after this long (default 60): exit 3\n", 0 },
	{ "lock", cmd_lock, NEEDS_DATABASE, "lock status | lock release [--force]",
	  "show who holds the run-wide lock, or remove an expired lease",
	  "  status                  the lock's mode and holder (owner, since, expiry), or that it is free\n"
	  "  release                 remove the lease when it has expired (lock_mode table)\n"
	  "  --force                 release a lease that has not expired (its run must be gone)\n", 0 },
	{ "testdb", cmd_testdb, NEEDS_SETTINGS,
	  "testdb [--seed] [--prefix NAME] [--with-password] | --prefill N | --gc [--keep N] | --drop URL",
	  "hand out a new database at the current migrations, for one test, and print its URL",
	  "  --seed                  the database has the seeds too\n"
	  "  --prefix NAME           name databases NAME_... (default migrate_test)\n"
	  "  --with-password         put the password in the URL (left out by default)\n"
	  "  --prefill N             fill the warm pool to N ready databases and hand out none\n"
	  "  --gc                    drop every test and pool database and template of the prefix\n"
	  "  --keep N                with --gc: keep the newest N templates\n"
	  "  --drop URL              drop that one test database (refused outside the prefix's names)\n", 0 },
	{ "drivers", cmd_drivers, NEEDS_NOTHING, "drivers", "list the drivers this build has", "", 0 },
	{ "help", cmd_help, NEEDS_NOTHING, "help [COMMAND]", "print help for migrate or a command", "", 0 },
	{ NULL, NULL, NEEDS_NOTHING, NULL, NULL, NULL, 0 },
};

static void print_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: migrate [global options] COMMAND [options] [args]\n\ncommands:\n");
	for (i = 0; commands[i].name; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n%s\nexit codes: 0 success, 1 the work failed, 2 usage or configuration error,\n"
		   "            3 cannot connect, 4 lock not acquired in time,\n"
		   "            130/143 interrupted (SIGINT / SIGTERM or SIGHUP)\n"
		   "\n'migrate help COMMAND' tells more about a command.\n", global_help);
}

static void print_cmd_usage(FILE *f, const struct cmd *c)
{
	fprintf(f, "usage: migrate %s\n\n%s\n", c->usage, c->summary);
	if (c->help && *c->help)
		fprintf(f, "\noptions:\n%s", c->help);
	fprintf(f, "\n%s", global_help);
}

static const struct cmd *find_cmd(const char *name)
{
	size_t i;

	for (i = 0; commands[i].name; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* ---- global options ---------------------------------------------------------------- */

struct globals {
	int help, version;
	const char *format;
	const char *lock_timeout;
	const char *parallel, *canary;
};

/* Does argv[i] name a global option? Consumes its value. Returns 1 if taken, -1 on error. */
static int take_global(struct cli *c, struct globals *g, int argc, char **argv, int *i)
{
	static const struct {
		const char *lng;
		char shrt;
		int has_arg;
		int id;
	} opts[] = {
		{ "config", 'c', 1, 'c' }, { "env", 'e', 1, 'e' }, { "url", 'u', 1, 'u' },
		{ "migrations-dir", 0, 1, 'M' }, { "seeds-dir", 0, 1, 'S' }, { "format", 0, 1, 'f' },
		{ "quiet", 'q', 0, 'q' }, { "verbose", 'v', 0, 'v' }, { "dry-run", 0, 0, 'd' },
		{ "lock-timeout", 0, 1, 'l' }, { "help", 'h', 0, 'h' }, { "version", 0, 0, 'V' },
		{ "targets", 0, 1, 'T' }, { "parallel", 0, 1, 'P' }, { "canary", 0, 1, 'C' },
	};
	const char *a = argv[*i], *val = NULL, *eq;
	size_t k, n;

	if (a[0] != '-' || a[1] == '\0')
		return 0;
	for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
		if (a[1] == '-') {
			eq = strchr(a + 2, '=');
			n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			if (strlen(opts[k].lng) != n || strncmp(a + 2, opts[k].lng, n) != 0)
				continue;
			if (eq && !opts[k].has_arg)
				return usage_error(c, "option '--%s' takes no value", opts[k].lng), -1;
			val = eq ? eq + 1 : NULL;
		} else {
			if (!opts[k].shrt || a[1] != opts[k].shrt)
				continue;
			if (a[2] && !opts[k].has_arg)
				continue; /* -qv and friends: not supported, leave to the command */
			val = a[2] ? a + 2 : NULL;
		}
		if (opts[k].has_arg && !val) {
			if (*i + 1 >= argc)
				return usage_error(c, "option '%s' needs a value", a), -1;
			val = argv[++*i];
		}
		switch (opts[k].id) {
		case 'c': c->opt.config_path = val; break;
		case 'e': c->opt.env = val; break;
		case 'u':
			free(c->url);
			c->url = xstrdup_or_exit(val);
			c->opt.url = c->url;
			hide_url_password((char *)val); /* val is argv's */
			break;
		case 'M': c->opt.migrations_dir = val; break;
		case 'S': c->opt.seeds_dir = val; break;
		case 'f': g->format = val; break;
		case 'q': c->quiet = 1; break;
		case 'v': c->verbose = 1; break;
		case 'd': c->opt.dry_run = 1; break;
		case 'l': g->lock_timeout = val; break;
		case 'h': g->help = 1; break;
		case 'V': g->version = 1; break;
		case 'T': c->targets = val; break;
		case 'P': g->parallel = val; break;
		case 'C': g->canary = val; break;
		}
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct migrate_options init = MIGRATE_OPTIONS_INIT;
	struct globals g = { 0, 0, "text", NULL, NULL, NULL };
	struct cli c;
	char **rest = calloc((size_t)argc + 1, sizeof(*rest));
	int nrest = 0, i, r, dashdash = 0;

	if (!rest)
		return 70;
	/* before anything starts a thread, so that every thread blocks them */
	signals_start();
	/*
	 * A reader of stdout that goes away (`migrate up | head -1`, a CI log
	 * collector that dies) must not kill a run between two migrations:
	 * the MySQL client library ignores SIGPIPE anyway, so every driver
	 * does the same, finishes the work and says the output was cut short
	 * (exit 1), rather than dying by the signal on some drivers only.
	 */
	signal(SIGPIPE, SIG_IGN);
	memset(&c, 0, sizeof(c));
	c.opt = init;
	/* a provisional output, so option errors print; replaced once --format is known */
	c.out = output_new(0, 0, 0, 0);
	for (i = 1; i < argc; i++) {
		if (!dashdash && strcmp(argv[i], "--") == 0) {
			dashdash = 1;
			rest[nrest++] = argv[i];
			continue;
		}
		r = dashdash ? 0 : take_global(&c, &g, argc, argv, &i);
		if (r < 0) {
			r = MIGRATE_EUSAGE;
			goto out;
		}
		if (r == 0)
			rest[nrest++] = argv[i];
	}
	if (strcmp(g.format, "json") == 0) {
		c.json = 1;
	} else if (strcmp(g.format, "text") != 0) {
		r = usage_error(&c, "--format '%s' is not text or json", g.format);
		goto out;
	}
	output_free(c.out);
	c.out = output_new(c.json, c.quiet, c.verbose, c.opt.dry_run);
	if (g.lock_timeout) {
		if (parse_seconds_arg(g.lock_timeout, &c.opt.lock_timeout)) {
			r = usage_error(&c, "--lock-timeout '%s' is not a number of seconds from 0 to %d", g.lock_timeout,
					SECONDS_MAX);
			goto out;
		}
	}
	if (g.version) {
		printf("migrate %s\n", MIGRATE_VERSION);
		r = 0;
		goto out;
	}
	if (nrest == 0) {
		print_usage(g.help ? stdout : stderr);
		r = g.help ? 0 : MIGRATE_EUSAGE;
		goto out;
	}
	if (rest[0][0] == '-') {
		r = usage_error(&c, "unknown option '%s' (a command's options go after the command)", rest[0]);
		goto out;
	}
	c.cmd = find_cmd(rest[0]);
	if (!c.cmd) {
		r = usage_error(&c, "unknown command '%s'", rest[0]);
		goto out;
	}
	if (g.help) {
		print_cmd_usage(stdout, c.cmd);
		r = 0;
		goto out;
	}
	if ((c.targets || g.parallel || g.canary) && !c.cmd->fleet) {
		r = usage_error(&c, "'%s' does not take --targets, --parallel or --canary", c.cmd->name);
		goto out;
	}
	if ((g.parallel || g.canary) && !c.targets) {
		r = usage_error(&c, "%s", "--parallel and --canary go with --targets NAME");
		goto out;
	}
	if (c.targets && !*c.targets) {
		r = usage_error(&c, "%s", "--targets needs the NAME of a [targets NAME] section");
		goto out;
	}
	if (g.parallel) {
		long lt;

		if (parse_count(g.parallel, &lt) || lt > 1024) {
			r = usage_error(&c, "--parallel '%s' is not a number from 1 to 1024", g.parallel);
			goto out;
		}
		c.parallel = (int)lt;
	}
	if (g.canary) {
		long lt;

		if (parse_count(g.canary, &lt) || lt > 1000000) {
			r = usage_error(&c, "--canary '%s' is not a number of targets (1 or more)", g.canary);
			goto out;
		}
		c.canary = (int)lt;
	}
	r = c.cmd->fn(&c, nrest, rest);
out:
	/* output cut short (a full disk behind '>') must not pass for success */
	if ((fflush(stdout) != 0 || ferror(stdout)) && r == 0) {
		char msg[256];
		int e = output_stdout_errno();
		snprintf(msg, sizeof(msg), "cannot write to standard output: %s", strerror(e ? e : errno ? errno : EIO));
		output_error(c.out, MIGRATE_EFAIL, msg);
		r = MIGRATE_EFAIL;
	}
	signals_watch(NULL);
	migrate_close(c.m);
	if (signals_exit_code())
		r = signals_exit_code();
	output_free(c.out);
	free(c.url);
	free(c.scratch_url);
	free(rest);
	return r;
}
