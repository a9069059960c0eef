/*
 * retry.c - safe apply on a live database (SPEC section 9): how long a
 * migration may wait for a lock and run a statement, and running it again
 * when a lock wait ran out.
 *
 * A DDL statement queued behind a long transaction blocks every query that
 * arrives after it, so a migration waits at most lock_wait for each lock
 * and, when that runs out (or it loses a deadlock), gives the lock back and
 * tries again after a back-off, up to retries more times. The runner says
 * what one attempt is (a whole transaction, or the rest of a section that
 * runs outside one); this file is the loop around it, the only one.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

void retry_policy_for(const migrate *m, const struct section *sec, struct retry_policy *out)
{
	out->lim.lock_wait_ms = sec->given & SECTION_GIVES_LOCK_WAIT ? sec->lock_wait_ms : m->cfg.lock_wait_ms;
	out->lim.statement_timeout_ms = sec->given & SECTION_GIVES_STATEMENT_TIMEOUT ? sec->statement_timeout_ms
										    : m->cfg.statement_timeout_ms;
	out->retries = sec->given & SECTION_GIVES_RETRIES ? sec->retries : m->cfg.retries;
}

/* Sleeps ms, in short steps so that an interrupt (migrate_interrupt) ends it at once. */
static int sleep_ms(migrate *m, long long ms)
{
	long long until = now_ms() + ms;

	while (!db_interrupted(m) && now_ms() < until) {
		long long left = until - now_ms(), step = left < 50 ? left : 50;
		struct timespec ts = { 0, (long)step * 1000000L };
		nanosleep(&ts, NULL);
	}
	return db_interrupted(m);
}

enum migrate_result retry_run(migrate *m, const char *what, const struct retry_policy *pol,
			      retry_attempt_fn attempt, void *ctx, int *attempts, struct migrate_error *err)
{
	char wait[32];
	int k;

	format_duration(pol->lim.lock_wait_ms, wait, sizeof(wait));
	for (k = 1;; k++) {
		long long delay;

		*attempts = k;
		m->lock_wait_hit = 0;
		merr_clear(err);
		if (attempt(m, ctx, err) == MIGRATE_OK)
			return MIGRATE_OK;
		/* only a lock wait that ran out (or a deadlock) did nothing and may go again */
		if (!m->lock_wait_hit || m->opt.dry_run || db_interrupted(m))
			return err->code;
		if (k > pol->retries) {
			emitf(m, MIGRATE_EVENT_WARNING, "%s: lock wait timed out (lock_wait %s), attempt %d of %d, no retry left: %s",
			      what, wait, k, pol->retries + 1, err->message);
			err->code = MIGRATE_ELOCK;
			return MIGRATE_ELOCK;
		}
		delay = backoff_ms(k);
		emitf(m, MIGRATE_EVENT_WARNING, "%s: lock wait timed out (lock_wait %s), attempt %d of %d, retrying in %.1f s: %s",
		      what, wait, k, pol->retries + 1, (double)delay / 1000, err->message);
		if (sleep_ms(m, delay)) {
			merr_clear(err);
			return merr_set(err, MIGRATE_EINTR, "%s: interrupted while waiting to try again",
					what);
		}
	}
}

/*
 * Where the database can set the limits for one transaction only (SET
 * LOCAL), a migration in a transaction gets them there and nothing else is
 * needed. Otherwise they are set for the session; where SET LOCAL exists
 * (PostgreSQL, whose session may be a pooled server connection) they are
 * reset right after the migration, elsewhere they stay for the migrations
 * that follow with the same limits and are reset when those change and at
 * the end of the run (limits_leave), which saves two round trips a
 * migration on MySQL.
 */
enum migrate_result limits_enter(migrate *m, const struct driver_limits *lim, int tx, int *local,
				 struct migrate_error *err)
{
	int has_local = db_has_local_limits(m, lim);

	*local = tx && has_local;
	if (*local)
		return MIGRATE_OK;
	if (m->limits_set && memcmp(&m->limits, lim, sizeof(*lim)) == 0)
		return MIGRATE_OK;
	if (db_set_limits(m, DRIVER_LIMITS_SET, lim, err) < 0)
		return err->code;
	m->limits = *lim;
	m->limits_set = has_local ? 2 : 1;
	return MIGRATE_OK;
}

void limits_after(migrate *m, struct migrate_error *err)
{
	if (m->limits_set == 2)
		limits_leave(m, err);
}

void limits_leave(migrate *m, struct migrate_error *err)
{
	struct migrate_error reset_err;

	if (!m->limits_set)
		return;
	m->limits_set = 0;
	merr_clear(&reset_err);
	/* the first error wins; a failed reset matters only when all else went well */
	if (db_set_limits(m, DRIVER_LIMITS_RESET, NULL, &reset_err) < 0 && !err->code)
		*err = reset_err;
}
