/*
 * benchrun.c - time two or more commands, interleaved, in one run.
 *
 *   benchrun [-n REPS] [-w WARMUP] [-p PREP] -- NAME ARG... [::: NAME ARG...]...
 *
 * Each command is NAME (a label) followed by its argv, exec'd directly (no
 * shell in the timed part, so a 3 ms command is not measured with a shell's
 * start-up on top). Commands are separated by ":::". Every repetition runs
 * each command once; the order turns around on every other repetition
 * (ABBA...), so a drift in the machine's speed weighs on all of them alike.
 *
 * PREP is a shell command run (untimed) before every timed run, with
 * BENCH_NAME set to the label of the command about to run; it resets the
 * database for a workload that changes it. WARMUP repetitions run first and
 * are not counted.
 *
 * Wall time is taken around fork/exec/wait; CPU time and peak memory are the child's
 * rusage from wait4() (ru_maxrss in KiB is what GNU time's %M reports). The child's
 * stdout goes to /dev/null, its stderr is kept; a command that fails stops
 * the run (exit 1).
 *
 * Output, one line per command, tab-separated, for bench.sh to format:
 *
 *   NAME  median_ms  min_ms  max_ms  peak_rss_kib  runs  median_cpu_ms
 *
 * The CPU time (the child's user + system time) is the client's own work,
 * which a busy machine disturbs less than the wall time; the wall time
 * includes the server's work and every wait.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct bench_cmd {
	const char *name;
	char **argv;
	double *ms;    /* one per counted run */
	double *cpu;   /* user + system CPU ms of each counted run */
	long peak_kib; /* highest ru_maxrss seen */
};

static double bench_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void bench_die(const char *msg)
{
	fprintf(stderr, "benchrun: error: %s\n", msg);
	exit(2);
}

static int bench_prep(const char *prep, const char *name)
{
	pid_t pid;
	int status;

	if (!prep)
		return 0;
	pid = fork();
	if (pid < 0)
		bench_die("fork failed");
	if (pid == 0) {
		setenv("BENCH_NAME", name, 1);
		execl("/bin/sh", "sh", "-c", prep, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "benchrun: error: the preparation before '%s' failed: %s\n", name, prep);
		return -1;
	}
	return 0;
}

/*
 * Runs one command; returns its wall time in ms, or -1 when it failed, and
 * its CPU time (user + system) in *cpu.
 */
static double bench_run(struct bench_cmd *c, double *cpu)
{
	struct rusage ru;
	double t0, t1;
	pid_t pid;
	int status, devnull;

	t0 = bench_now_ms();
	pid = fork();
	if (pid < 0)
		bench_die("fork failed");
	if (pid == 0) {
		devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, STDOUT_FILENO);
		execvp(c->argv[0], c->argv);
		fprintf(stderr, "benchrun: cannot run '%s': %s\n", c->argv[0], strerror(errno));
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0)
		bench_die("wait4 failed");
	t1 = bench_now_ms();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "benchrun: error: '%s' failed (status %d)\n", c->name,
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -1;
	}
	if (ru.ru_maxrss > c->peak_kib)
		c->peak_kib = ru.ru_maxrss;
	*cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	return t1 - t0;
}

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	struct bench_cmd cmds[8];
	const char *prep = NULL;
	int reps = 30, warmup = 1, ncmds = 0, i, r, k, opt;

	while ((opt = getopt(argc, argv, "+n:w:p:")) != -1) {
		switch (opt) {
		case 'n':
			reps = atoi(optarg);
			break;
		case 'w':
			warmup = atoi(optarg);
			break;
		case 'p':
			prep = optarg;
			break;
		default:
			bench_die("usage: benchrun [-n REPS] [-w WARMUP] [-p PREP] -- NAME ARG... [::: NAME ARG...]");
		}
	}
	if (reps < 1 || warmup < 0)
		bench_die("-n must be 1 or more and -w 0 or more");
	/* split the rest at ":::" into commands, in place */
	for (i = optind; i < argc;) {
		int start = i;

		if (ncmds == (int)(sizeof(cmds) / sizeof(cmds[0])))
			bench_die("too many commands");
		while (i < argc && strcmp(argv[i], ":::") != 0)
			i++;
		if (i - start < 2)
			bench_die("each command needs a NAME and a program");
		argv[i < argc ? i : argc] = NULL;
		cmds[ncmds].name = argv[start];
		cmds[ncmds].argv = &argv[start + 1];
		cmds[ncmds].ms = calloc((size_t)reps, sizeof(double));
		cmds[ncmds].cpu = calloc((size_t)reps, sizeof(double));
		cmds[ncmds].peak_kib = 0;
		if (!cmds[ncmds].ms || !cmds[ncmds].cpu)
			bench_die("out of memory");
		ncmds++;
		i++;
	}
	if (ncmds < 1)
		bench_die("no command given");
	for (r = -warmup; r < reps; r++) {
		for (k = 0; k < ncmds; k++) {
			/* ABBA: every other repetition runs the commands in reverse */
			struct bench_cmd *c = &cmds[(r & 1) ? ncmds - 1 - k : k];
			double ms, cpu = 0;

			if (bench_prep(prep, c->name))
				return 1;
			ms = bench_run(c, &cpu);
			if (ms < 0)
				return 1;
			if (r >= 0) {
				c->ms[r] = ms;
				c->cpu[r] = cpu;
			}
		}
	}
	for (k = 0; k < ncmds; k++) {
		double med = bench_median(cmds[k].ms, reps);
		double cpu = bench_median(cmds[k].cpu, reps);
		printf("%s\t%.2f\t%.2f\t%.2f\t%ld\t%d\t%.2f\n", cmds[k].name, med, cmds[k].ms[0],
		       cmds[k].ms[reps - 1], cmds[k].peak_kib, reps, cpu);
		free(cmds[k].ms);
		free(cmds[k].cpu);
	}
	return 0;
}
