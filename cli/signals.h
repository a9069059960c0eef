/*
 * signals.h - the command line's answer to SIGINT, SIGTERM and SIGHUP
 * (SPEC section 5): the first one cancels the running statement through
 * migrate_interrupt() and lets the command clean up (roll back, record a
 * failure, release the lock); a second one exits at once.
 */
#ifndef MIGRATE_SIGNALS_H
#define MIGRATE_SIGNALS_H

#include "migrate.h"

/*
 * Blocks the three signals in this thread and every thread started after
 * it, and starts the thread that waits for them. Call it first in main,
 * before anything else starts a thread. Returns -1 when the thread cannot
 * start (the signals then keep their default action).
 */
int signals_start(void);

/*
 * The handle a signal interrupts from now on; NULL before migrate_close().
 * With no handle, a signal exits at once (nothing has been changed yet).
 */
void signals_watch(migrate *m);

/*
 * While on is 1, a migrate_fleet() runs: a signal stops it through
 * migrate_fleet_interrupt() (each worker cancels and rolls back its target)
 * rather than ending the process.
 */
void signals_watch_fleet(int on);

/* 130 after a SIGINT, 143 after a SIGTERM or SIGHUP, 0 when none came. */
int signals_exit_code(void);

#endif
