/*
 * signals.c - SIGINT, SIGTERM and SIGHUP for the command line (signals.h).
 *
 * No signal handler runs: the signals are blocked in every thread, and one
 * thread of ours takes them with sigwait(), so it may do what a handler
 * may not (lock a mutex, connect to MySQL to send KILL QUERY). The first
 * signal calls migrate_interrupt(); while the command cleans up, the
 * cancel is sent again each second (a statement that had not reached the
 * server the first time is stopped too); a second signal ends the process
 * at once with the first one's exit code. During a fleet (--targets) the
 * fleet is stopped instead (migrate_fleet_interrupt): its workers cancel
 * their targets, and the cancel is sent again each second too.
 */
#define _POSIX_C_SOURCE 200809L
#include "signals.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t watch_mu = PTHREAD_MUTEX_INITIALIZER;
static migrate *watched;      /* under watch_mu */
static int fleet_watched;     /* under watch_mu: a migrate_fleet() runs */
static atomic_int first_code; /* 0 until a signal came */
static sigset_t watched_set;

static int code_for(int sig)
{
	return sig == SIGINT ? 130 : 143;
}

static void interrupt_watched(int exit_if_none)
{
	pthread_mutex_lock(&watch_mu);
	if (!watched && !fleet_watched && exit_if_none)
		_exit(atomic_load(&first_code));
	if (watched)
		migrate_interrupt(watched);
	if (fleet_watched)
		migrate_fleet_interrupt();
	pthread_mutex_unlock(&watch_mu);
}

/*
 * No fork() happens before the thread runs: a fleet fork()s workers and
 * testdb its refill, and a fork while this thread is still being set up
 * can copy a lock it holds (the sanitizers' allocator, for one) into a
 * child that then waits for it forever. Running, it holds none. The wait
 * is in a pthread_atfork() handler, not in signals_start(), so a command
 * that never forks never waits for the thread to be scheduled (on a busy
 * machine, milliseconds: as long as a whole 'migrate testdb' on SQLite).
 */
static pthread_mutex_t start_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t start_cv = PTHREAD_COND_INITIALIZER;
static int started;

static void *signals_thread(void *arg)
{
	struct timespec second = { 1, 0 };
	int sig;

	(void)arg;
	pthread_mutex_lock(&start_mu);
	started = 1;
	pthread_cond_signal(&start_cv);
	pthread_mutex_unlock(&start_mu);
	while (sigwait(&watched_set, &sig) != 0)
		;
	atomic_store(&first_code, code_for(sig));
	interrupt_watched(1);
	for (;;) {
		if (sigtimedwait(&watched_set, NULL, &second) > 0)
			_exit(atomic_load(&first_code));
		interrupt_watched(0);
	}
	return NULL;
}

static void wait_started(void)
{
	pthread_mutex_lock(&start_mu);
	while (!started)
		pthread_cond_wait(&start_cv, &start_mu);
	pthread_mutex_unlock(&start_mu);
}

int signals_start(void)
{
	pthread_attr_t attr;
	pthread_t t;
	int r;

	sigemptyset(&watched_set);
	sigaddset(&watched_set, SIGINT);
	sigaddset(&watched_set, SIGTERM);
	sigaddset(&watched_set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &watched_set, NULL) != 0)
		return -1;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&t, &attr, signals_thread, NULL);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		pthread_sigmask(SIG_UNBLOCK, &watched_set, NULL);
		return -1;
	}
	if (pthread_atfork(wait_started, NULL, NULL) != 0)
		wait_started(); /* no handler: wait now, as a fork may follow */
	return 0;
}

void signals_watch(migrate *m)
{
	pthread_mutex_lock(&watch_mu);
	watched = m;
	pthread_mutex_unlock(&watch_mu);
}

void signals_watch_fleet(int on)
{
	pthread_mutex_lock(&watch_mu);
	fleet_watched = on;
	pthread_mutex_unlock(&watch_mu);
}

int signals_exit_code(void)
{
	return atomic_load(&first_code);
}
