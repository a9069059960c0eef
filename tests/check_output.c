/*
 * check_output.c - what the CLI prints for people (output.c and the usage
 * texts of main.c), through the built binary on a SQLite file.
 *
 * Colour is checked both ways: on a pseudo-terminal without NO_COLOR the
 * escape codes must appear (so the test can tell), and with NO_COLOR set,
 * with TERM=dumb, or on a pipe, not one may. Runs in the unit run: SQLite is
 * always built, and no server is needed.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../migrate/util.h"
#include "testutil.h"

static char *proj;

static const char one[] = "-- migrate:up\nCREATE TABLE one (id INTEGER PRIMARY KEY);\n"
			  "-- migrate:down\nDROP TABLE one;\n";
static const char two[] = "-- migrate:up\nCREATE TABLE two (id INTEGER PRIMARY KEY);\n"
			  "-- migrate:down\nDROP TABLE two;\n";

static const char zero[] = "-- migrate:up\nCREATE TABLE zero (id INTEGER PRIMARY KEY);\n"
			   "-- migrate:down\nDROP TABLE zero;\n";
static const char zero_edited[] = "-- the first table\n-- migrate:up\nCREATE TABLE zero (id INTEGER PRIMARY KEY);\n"
				  "-- migrate:down\nDROP TABLE zero;\n";

static void setup(void)
{
	struct run r;

	proj = tmpdir_new();
	write_file(proj, "config.ini", "[development]\nurl = sqlite:app.db\n");
	write_file(proj, "migrations/1_one.sql", one);
	write_file(proj, "migrations/2_two.sql", two);
	/* migration 0 applied, then a comment added to it: 'up' warns on stderr */
	write_file(proj, "migrations/0_zero.sql", zero);
	r = run_migrate(proj, NULL, (const char *const[]){ "up", "--to", "0", NULL });
	expect(&r, 0, "up --to 0");
	run_free(&r);
	write_file(proj, "migrations/0_zero.sql", zero_edited);
}

static void teardown(void)
{
	rm_rf(proj);
	free(proj);
}

#define CLI(...) run_migrate(proj, NULL, (const char *const[]){ __VA_ARGS__, NULL })
#define CLI_ENV(env, ...) run_migrate(proj, (const char *const[]){ env, NULL }, (const char *const[]){ __VA_ARGS__, NULL })

static void expect_no_escape(const char *text, const char *where)
{
	ck_assert_msg(text && !strchr(text, '\033'), "%s holds an escape code:\n%s", where, text ? text : "(null)");
}

/*
 * Runs $MIGRATE_BIN in proj with stdout and stderr on a new pseudo-terminal,
 * with TERM=xterm and NO_COLOR unset unless env says otherwise ("NAME=value",
 * "NAME=" unsets). Returns everything the terminal received (caller frees).
 */
static char *run_on_terminal(const char *const *env, const char *const *argv, int *status)
{
	const char *bin = getenv("MIGRATE_BIN");
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	int master, st;
	size_t n = 0, i;
	char **args;
	pid_t pid;

	ck_assert_msg(bin && *bin, "MIGRATE_BIN is not set (run the tests through tests/run.sh)");
	while (argv[n])
		n++;
	args = xcalloc(n + 2, sizeof(*args));
	args[0] = (char *)bin;
	for (i = 0; i < n; i++)
		args[i + 1] = (char *)argv[i];
	master = posix_openpt(O_RDWR | O_NOCTTY);
	ck_assert_msg(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0, "no pseudo-terminal: %s",
		      strerror(errno));
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		int slave, null;
		setsid();
		slave = open(ptsname(master), O_RDWR);
		null = open("/dev/null", O_RDONLY);
		if (slave < 0 || null < 0 || chdir(proj) != 0)
			_exit(126);
		dup2(null, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		close(master);
		unsetenv("NO_COLOR");
		unsetenv("DATABASE_URL");
		unsetenv("MIGRATE_ENV");
		unsetenv("MIGRATE_CONFIG");
		setenv("TERM", "xterm", 1);
		for (i = 0; env && env[i]; i++) {
			const char *eq = strchr(env[i], '=');
			char *name = xstrndup(env[i], (size_t)(eq - env[i]));
			if (eq[1])
				setenv(name, eq + 1, 1);
			else
				unsetenv(name);
			free(name);
		}
		execv(bin, args);
		_exit(127);
	}
	for (;;) {
		ssize_t k = read(master, buf, sizeof(buf));
		if (k > 0)
			strbuf_add(&sb, buf, (size_t)k);
		else if (k < 0 && errno == EINTR)
			continue;
		else
			break; /* EIO: the last holder of the terminal is gone */
	}
	close(master);
	ck_assert(waitpid(pid, &st, 0) == pid);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	free(args);
	return strbuf_detach(&sb);
}

#define TTY(env, status, ...) run_on_terminal(env, (const char *const[]){ __VA_ARGS__, NULL }, status)

START_TEST(colour_on_a_terminal)
{
	static const char *const empty_no_color[] = { "NO_COLOR=", NULL };
	int status;
	char *out;

	out = TTY(NULL, &status, "up", "--to", "1");
	ck_assert_msg(status == 0, "up exited %d:\n%s", status, out);
	expect_in(out, "\033[32mapplied\033[0m", "up on a terminal");
	free(out);
	out = TTY(NULL, &status, "status");
	expect_in(out, "\033[", "status on a terminal");
	free(out);
	out = TTY(NULL, &status, "bogus");
	ck_assert_int_eq(status, 2);
	expect_in(out, "\033[31mmigrate: error:\033[0m unknown command 'bogus'", "an error on a terminal");
	free(out);
	/* NO_COLOR set but empty does not count (no-color.org) */
	out = TTY(empty_no_color, &status, "status");
	expect_in(out, "\033[", "status on a terminal with an empty NO_COLOR");
	free(out);
}
END_TEST

START_TEST(no_colour_with_NO_COLOR_or_a_dumb_terminal)
{
	static const char *const no_color[] = { "NO_COLOR=1", NULL };
	static const char *const dumb[] = { "TERM=dumb", NULL };
	const char *const *envs[] = { no_color, dumb };
	int status;
	size_t i;
	char *out;

	for (i = 0; i < 2; i++) {
		out = TTY(envs[i], &status, "up", "--to", "1");
		ck_assert_msg(status == 0, "up exited %d:\n%s", status, out);
		expect_in(out, "applied", envs[i][0]);
		expect_in(out, "warning", envs[i][0]);
		expect_no_escape(out, envs[i][0]);
		free(out);
		out = TTY(envs[i], &status, "status");
		expect_in(out, "pending", envs[i][0]);
		expect_no_escape(out, envs[i][0]);
		free(out);
		out = TTY(envs[i], &status, "-v", "down");
		expect_in(out, "rolled back", envs[i][0]);
		expect_no_escape(out, envs[i][0]);
		free(out);
		out = TTY(envs[i], &status, "bogus");
		ck_assert_int_eq(status, 2);
		expect_in(out, "migrate: error:", envs[i][0]);
		expect_no_escape(out, envs[i][0]);
		free(out);
	}
}
END_TEST

START_TEST(no_colour_on_a_pipe)
{
	/* NO_COLOR unset, a colour terminal type, but stdout and stderr are pipes */
	static const char *const env[] = { "NO_COLOR=", "TERM=xterm-256color", NULL };
	const char *const *const cmds[] = {
		(const char *const[]){ "up", NULL },
		(const char *const[]){ "status", NULL },
		(const char *const[]){ "-v", "down", NULL },
		(const char *const[]){ "status", "--check", NULL },
		(const char *const[]){ "bogus", NULL },
		(const char *const[]){ "up", "--to", NULL },
	};
	struct run r;
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		r = run_migrate(proj, env, cmds[i]);
		ck_assert_msg(*r.out || *r.err, "%s printed nothing", cmds[i][0]);
		expect_no_escape(r.out, "stdout on a pipe");
		expect_no_escape(r.err, "stderr on a pipe");
		run_free(&r);
	}
}
END_TEST

START_TEST(quiet_prints_only_errors_and_verbose_more)
{
	struct run r;

	r = CLI("-q", "up", "--to", "1");
	expect(&r, 0, "-q up");
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(r.err, ""); /* not even the warning about 0_zero.sql's comment */
	run_free(&r);
	r = CLI("status", "--quiet");
	expect(&r, 0, "status --quiet");
	ck_assert_str_eq(r.out, "");
	run_free(&r);
	r = CLI("up", "-q", "--to", "nope");
	ck_assert_msg(r.status != 0, "up --to nope exited 0");
	expect_in(r.err, "migrate: error:", "-q still prints errors");
	run_free(&r);

	r = CLI("up");
	expect(&r, 0, "up");
	ck_assert_ptr_null(strstr(r.out, "applying"));
	expect_in(r.out, "applied     2 two", "up");
	run_free(&r);
	r = CLI("down", "-v");
	expect(&r, 0, "down -v");
	expect_in(r.out, "rolling back 2 two ...", "down -v");
	expect_in(r.out, "rolled back 2 two", "down -v");
	run_free(&r);
	r = CLI("--verbose", "up");
	expect(&r, 0, "--verbose up");
	expect_in(r.out, "applying 2 two ...", "up --verbose");
	run_free(&r);
	/* results that are the point of a command still print with -q */
	r = CLI("-q", "version");
	expect(&r, 0, "-q version");
	ck_assert_str_eq(r.out, "2\n");
	run_free(&r);
}
END_TEST

/* Undoes the seeds, seeds again on a terminal (with flag, if any) and expects no bar. */
static void seed_without_a_bar(const char *const *env, const char *flag, const char *why)
{
	struct run r = CLI("seed", "--undo-all");
	int status;
	char *out;

	expect(&r, 0, "undo");
	run_free(&r);
	out = flag ? TTY(env, &status, flag, "seed") : TTY(env, &status, "seed");
	ck_assert_msg(status == 0, "seed exited %d:\n%s", status, out);
	ck_assert_msg(strstr(out, "seeding") == NULL, "a bar %s:\n%s", why, out);
	free(out);
}

/*
 * A seed that runs longer than MIGRATE_PROGRESS_DELAY (0 here, so every
 * seed does) draws a bar on a terminal's stderr, CSV and SQL seeds alike,
 * and clears it before the next line; never with -q, never on a pipe.
 */
START_TEST(a_long_seed_draws_a_progress_bar_on_a_terminal_only)
{
	static const char *const now[] = { "MIGRATE_PROGRESS_DELAY=0", NULL };
	static const char *const never[] = { "MIGRATE_PROGRESS_DELAY=3600000", NULL };
	struct run r;
	int status;
	char *out;

	write_file(proj, "migrations/4_t.sql", "-- migrate:up\nCREATE TABLE t (x INTEGER);\n");
	write_file(proj, "seeds/01_t.csv", "x\n1\n2\n3\n");
	write_file(proj, "seeds/02_more.sql", "-- migrate:up\nINSERT INTO t VALUES (4);\nINSERT INTO t VALUES (5);\n"
					      "-- migrate:down\nDELETE FROM t WHERE x > 3;\n");
	r = CLI("-q", "up");
	expect(&r, 0, "up");
	run_free(&r);

	out = TTY(now, &status, "seed");
	ck_assert_msg(status == 0, "seed exited %d:\n%s", status, out);
	expect_in(out, "\r\033[Kseeding 01_t.csv [##############################] 100% 3 rows", "a CSV seed's bar");
	expect_in(out, "\r\033[Kseeding 02_more.sql [##############################] 100% 2 rows",
		  "an SQL seed's bar");
	{
		/* the seconds it took are whatever the machine makes them */
		const char *p = strstr(out, "100% 2 rows ");

		ck_assert_msg(p != NULL, "no finished bar for the SQL seed:\n%s", out);
		p += strlen("100% 2 rows ");
		while (*p >= '0' && *p <= '9')
			p++;
		ck_assert_msg(strncmp(p, "s\r\033[K", 5) == 0, "the bar is not cleared before the next line:\n%s", out);
	}
	free(out);

	seed_without_a_bar(now, "-q", "with -q");
	seed_without_a_bar(never, NULL, "before the delay");
	r = CLI("seed", "--undo-all");
	expect(&r, 0, "undo");
	run_free(&r);
	r = run_migrate(proj, now, (const char *const[]){ "seed", NULL });
	expect(&r, 0, "seed on a pipe");
	ck_assert_msg(strstr(r.err, "seeding") == NULL, "a bar on a pipe:\n%s", r.err);
	run_free(&r);
}
END_TEST

/* The command names listed by 'migrate help'. */
static size_t list_commands(char names[][32], size_t max)
{
	struct run r = CLI("help");
	const char *p;
	size_t n = 0;

	expect(&r, 0, "help");
	p = strstr(r.out, "\ncommands:\n");
	ck_assert_msg(p != NULL, "'migrate help' has no commands: section:\n%s", r.out);
	p += strlen("\ncommands:\n");
	while (n < max && p[0] == ' ' && p[1] == ' ' && p[2] != ' ') {
		size_t len = strcspn(p + 2, " \n");
		ck_assert(len > 0 && len < 32);
		memcpy(names[n], p + 2, len);
		names[n][len] = '\0';
		n++;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	run_free(&r);
	return n;
}

START_TEST(every_command_has_usage_from_help_and_dash_dash_help)
{
	char names[64][32], *want;
	size_t n = list_commands(names, 64), i;
	struct run a, b;

	ck_assert_msg(n >= 10, "only %zu commands listed by 'migrate help'", n);
	for (i = 0; i < n; i++) {
		a = CLI("help", names[i]);
		expect(&a, 0, names[i]);
		want = xasprintf("usage: migrate %s", names[i]);
		ck_assert_msg(strncmp(a.out, want, strlen(want)) == 0, "'help %s' starts:\n%s", names[i], a.out);
		free(want);
		expect_in(a.out, "global options", "help");
		ck_assert_str_eq(a.err, "");
		b = CLI(names[i], "--help");
		expect(&b, 0, names[i]);
		ck_assert_msg(strcmp(a.out, b.out) == 0, "'help %s' and '%s --help' differ:\n%s\n---\n%s", names[i],
			      names[i], a.out, b.out);
		run_free(&b);
		b = CLI("-h", names[i]);
		expect(&b, 0, names[i]);
		ck_assert_str_eq(a.out, b.out);
		run_free(&b);
		run_free(&a);
	}
	a = CLI("help", "bogus");
	expect(&a, 2, "help bogus");
	expect_in(a.err, "unknown command 'bogus'", "help bogus");
	run_free(&a);
	a = CLI("--help");
	expect(&a, 0, "--help");
	expect_in(a.out, "usage: migrate [global options] COMMAND", "--help");
	expect_in(a.out, "exit codes:", "--help");
	run_free(&a);
	a = CLI(NULL);
	expect(&a, 2, "no command");
	expect_in(a.err, "usage: migrate", "no command");
	run_free(&a);
	/* a usage error names the command's usage */
	a = CLI("down", "--bogus");
	expect(&a, 2, "down --bogus");
	expect_in(a.err, "usage: migrate down", "down --bogus");
	run_free(&a);
}
END_TEST

Suite *output_suite(void)
{
	Suite *s = suite_create("output");
	TCase *tc = tcase_create("people");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, colour_on_a_terminal);
	tcase_add_test(tc, no_colour_with_NO_COLOR_or_a_dumb_terminal);
	tcase_add_test(tc, no_colour_on_a_pipe);
	tcase_add_test(tc, quiet_prints_only_errors_and_verbose_more);
	tcase_add_test(tc, a_long_seed_draws_a_progress_bar_on_a_terminal_only);
	tcase_add_test(tc, every_command_has_usage_from_help_and_dash_dash_help);
	suite_add_tcase(s, tc);
	return s;
}
