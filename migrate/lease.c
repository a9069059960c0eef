/*
 * lease.c - the run-wide lock as a lease row (SPEC section 10: lock_mode
 * table), for where a session lock is not one: a Galera/PXC cluster, whose
 * GET_LOCK holds on one node only, and a transaction-pooling proxy, where a
 * session advisory lock lands on whichever server session ran the
 * statement.
 *
 * The lease is one row in <table>_lock, written with the same SQL on every
 * server database: who holds it (host, process id, a random run id), since
 * when and until when, in milliseconds of the server's clock (so the
 * clients' clocks never matter). A run takes it with an INSERT, or takes
 * over an expired one with an UPDATE conditional on the run id it found;
 * either way it holds the lease only when reading the row back shows its
 * own run id, so two runs can never both believe they hold it. While it
 * runs, a thread renews the lease every third of its length from a
 * connection of its own, so a long migration never lets it expire; a run
 * killed with kill -9 stops renewing, and the next run takes the lease
 * over once it has expired, naming whose it was.
 *
 * On a Galera/PXC cluster two runs on two nodes may write the row at the
 * same moment. Each write commits on its own node first and is then
 * certified in the cluster's total order: the later one fails (error 1213,
 * a certification conflict or a brute-force abort, or 1062 once the
 * winner's row is applied on its node), which here is no error but a race
 * lost: the row read back names the winner, and the loser waits for it
 * like any other holder. The driver makes the reads causal
 * (wsrep_sync_wait), so a read on one node sees a lease taken, renewed or
 * released on another (drivers/mysql.c, mydrv_wsrep_session).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define LEASE_NAME    "migrate"
#define LEASE_POLL_MS 200

struct lease {
	char run_id[33];
	char host[256];
	char pid[24];
	char *renew_sql;           /* the thread's UPDATE: lease length, run id, name */
	char *check_sql;           /* the thread's read of the row */
	struct driver_conn *conn;  /* the thread's own connection */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int running, stop;
	int lost;                  /* the renewal found the row gone or another's */
	long long every_ms;
};

char *lease_table(const migrate *m)
{
	return xasprintf("%.58s_lock", m->cfg.table);
}

/* The statement with the lease table's quoted name for each %T. */
static char *lease_sql(const migrate *m, const char *tmpl)
{
	struct strbuf sb = STRBUF_INIT;
	char *table = lease_table(m);
	const char *p;
	int n = 0;

	for (p = tmpl; *p; p++) {
		if (*p == '%' && p[1] == 'T') {
			db_quote_ident(m, &sb, table);
			p++;
		} else if (*p == '%' && p[1] == 'N') {
			strbuf_addstr(&sb, m->cfg.drv->now_ms_sql);
			p++;
		} else if (*p == '?') {
			db_param(m, &sb, ++n);
		} else {
			strbuf_addch(&sb, *p);
		}
	}
	free(table);
	return strbuf_detach(&sb);
}

static void random_hex(char out[33])
{
	unsigned char b[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC), i;
	ssize_t n = fd >= 0 ? read(fd, b, sizeof(b)) : -1;

	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof(b)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		srand((unsigned)(ts.tv_nsec ^ getpid()));
		for (i = 0; i < 16; i++)
			b[i] = (unsigned char)rand();
	}
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

enum migrate_result lease_ensure_table(migrate *m, struct migrate_error *err)
{
	char *sql;
	int exists;
	struct migrate_error ignored;

	{
		char *t = lease_table(m);
		enum migrate_result r = db_table_exists(m, t, &exists, err);
		free(t);
		if (r)
			return r;
	}
	if (exists)
		return MIGRATE_OK;
	sql = lease_sql(m, "CREATE TABLE %T (name VARCHAR(64) NOT NULL PRIMARY KEY, host VARCHAR(255) NOT NULL,"
			   " pid BIGINT NOT NULL, run_id CHAR(32) NOT NULL, taken_at BIGINT NOT NULL,"
			   " expires_at BIGINT NOT NULL)");
	/* two runs may create it at once: the loser's error is no error when the table is there */
	merr_clear(&ignored);
	db_exec_sql(m, sql, &ignored);
	free(sql);
	{
		char *t = lease_table(m);
		enum migrate_result r = db_table_exists(m, t, &exists, err);
		free(t);
		if (r)
			return r;
	}
	if (!exists)
		return merr_set(err, ignored.code ? ignored.code : MIGRATE_EFAIL, "cannot create the lease table: %s",
				ignored.message);
	return MIGRATE_OK;
}

/* The lease row as read: all text, empty when there is none. */
struct lease_row {
	int found;
	char host[256], pid[24], run_id[40], taken_at[24], expires_at[24], now[24];
};

static int lease_row_cb(void *ctx, int ncols, const char *const *v)
{
	struct lease_row *r = ctx;

	if (ncols < 6)
		return 1;
	r->found = 1;
	snprintf(r->host, sizeof(r->host), "%s", v[0] ? v[0] : "");
	snprintf(r->pid, sizeof(r->pid), "%s", v[1] ? v[1] : "");
	snprintf(r->run_id, sizeof(r->run_id), "%s", v[2] ? v[2] : "");
	snprintf(r->taken_at, sizeof(r->taken_at), "%s", v[3] ? v[3] : "");
	snprintf(r->expires_at, sizeof(r->expires_at), "%s", v[4] ? v[4] : "");
	snprintf(r->now, sizeof(r->now), "%s", v[5] ? v[5] : "");
	return 1;
}

static enum migrate_result lease_read(migrate *m, struct lease_row *row, struct migrate_error *err)
{
	const char *params[1] = { LEASE_NAME };
	char *sql = lease_sql(m, "SELECT host, pid, run_id, taken_at, expires_at, %N FROM %T WHERE name = ?");
	enum migrate_result r;

	memset(row, 0, sizeof(*row));
	r = db_query(m, sql, 1, params, lease_row_cb, row, err);
	free(sql);
	return r;
}

/*
 * lease_read while waiting for the lease: a read that ran out of time
 * waiting for a lock or, on Galera, for its node to apply what the cluster
 * committed (a causal read times out with error 1205 while the node applies
 * a long DDL, which under TOI every node runs) is no failure while
 * lock_timeout lasts. *again is then set and the message kept in again_msg,
 * and the caller polls again.
 */
static enum migrate_result lease_poll(migrate *m, struct lease_row *row, int *again, char *again_msg, size_t len,
				      struct migrate_error *err)
{
	*again = 0;
	m->lock_wait_hit = 0;
	if (lease_read(m, row, err) == MIGRATE_OK)
		return MIGRATE_OK;
	if (!m->lock_wait_hit)
		return err->code;
	*again = 1;
	snprintf(again_msg, len, "%s", err->message);
	merr_clear(err);
	return MIGRATE_OK;
}

/* "host example pid 1234 (run 3f2a...)" */
static void describe(const struct lease_row *r, char *out, size_t len)
{
	snprintf(out, len, "host %s pid %s (run %.8s)", r->host, r->pid, r->run_id);
}

static void *renew_loop(void *arg)
{
	migrate *m = arg;
	struct lease *l = m->lease;
	char lease_s[24];
	const char *params[3] = { lease_s, l->run_id, LEASE_NAME };

	snprintf(lease_s, sizeof(lease_s), "%lld", m->cfg.lease_ms);

	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		struct timespec ts;
		struct driver_error derr = { "", -1 };
		struct lease_row row;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += l->every_ms / 1000;
		ts.tv_nsec += (l->every_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (pthread_cond_timedwait(&l->cv, &l->mu, &ts) != ETIMEDOUT || l->stop)
			continue;
		pthread_mutex_unlock(&l->mu);
		/* the row must still be ours after the renewal, or the lease is lost */
		memset(&row, 0, sizeof(row));
		if (db_query_on(m, l->conn, l->renew_sql, 3, params, NULL, NULL, &derr) != DRIVER_OK ||
		    db_query_on(m, l->conn, l->check_sql, 1, params + 2, lease_row_cb, &row, &derr) != DRIVER_OK ||
		    !row.found || strcmp(row.run_id, l->run_id) != 0) {
			pthread_mutex_lock(&l->mu);
			/* a failed renewal may be a blip; a row gone or another's is a lost lease */
			if (derr.message[0] == '\0' && (!row.found || strcmp(row.run_id, l->run_id) != 0))
				l->lost = 1;
			continue;
		}
		pthread_mutex_lock(&l->mu);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

enum migrate_result lease_acquire(migrate *m, struct migrate_error *err)
{
	struct lease *l;
	struct lease_row row;
	const char *ins_params[5];
	char *ins, *upd, lease_s[24], who[400], since[64];
	struct lease_row prev;
	long long deadline = now_ms() + (long long)m->cfg.lock_timeout * 1000;
	int warned = 0, read_warned = 0, again = 0, took_over = 0;
	char again_msg[sizeof(err->message)];
	struct driver_error derr = { "", -1 };

	if (lease_ensure_table(m, err))
		return err->code;
	l = xcalloc(1, sizeof(*l));
	random_hex(l->run_id);
	if (gethostname(l->host, sizeof(l->host) - 1) != 0)
		snprintf(l->host, sizeof(l->host), "unknown");
	snprintf(l->pid, sizeof(l->pid), "%ld", (long)getpid());
	snprintf(lease_s, sizeof(lease_s), "%lld", m->cfg.lease_ms);
	ins_params[0] = LEASE_NAME;
	ins_params[1] = l->host;
	ins_params[2] = l->pid;
	ins_params[3] = l->run_id;
	ins_params[4] = lease_s;
	ins = lease_sql(m, "INSERT INTO %T (name, host, pid, run_id, taken_at, expires_at) VALUES (?, ?, ?, ?, %N, %N + ?)");
	upd = lease_sql(m, "UPDATE %T SET host = ?, pid = ?, run_id = ?, taken_at = %N, expires_at = %N + ?"
			   " WHERE name = ? AND run_id = ? AND expires_at < %N");
	for (;;) {
		struct migrate_error ignored;

		merr_clear(&ignored);
		memset(&prev, 0, sizeof(prev));
		if (lease_poll(m, &row, &again, again_msg, sizeof(again_msg), err))
			goto fail;
		/* a write that fails lost a race (a duplicate key, a Galera conflict): the read back says to whom */
		if (!again && !row.found) {
			db_query(m, ins, 5, ins_params, NULL, NULL, &ignored);
		} else if (!again && strcmp(row.run_id, l->run_id) != 0 && atoll(row.expires_at) < atoll(row.now)) {
			const char *up[6] = { l->host, l->pid, l->run_id, lease_s, LEASE_NAME, row.run_id };
			prev = row;
			db_query(m, upd, 6, up, NULL, NULL, &ignored);
		}
		if (!again && lease_poll(m, &row, &again, again_msg, sizeof(again_msg), err))
			goto fail;
		if (!again && row.found && strcmp(row.run_id, l->run_id) == 0)
			break;
		if (again && !read_warned && m->cfg.lock_timeout > 0) {
			emitf(m, MIGRATE_EVENT_WARNING,
			      "cannot read the migration lease on %s yet, trying again for up to %d s (lock_timeout): %s",
			      m->cfg.display_url, m->cfg.lock_timeout, again_msg);
			read_warned = 1;
		}
		if (row.found && !warned && m->cfg.lock_timeout > 0) {
			describe(&row, who, sizeof(who));
			emitf(m, MIGRATE_EVENT_WARNING,
			      "waiting up to %d s (lock_timeout) for the migration lease on %s: held by %s, expires in %.1f s unless renewed",
			      m->cfg.lock_timeout, m->cfg.display_url, who,
			      (double)(atoll(row.expires_at) - atoll(row.now)) / 1000);
			warned = 1;
		}
		if (db_interrupted(m)) {
			merr_set(err, MIGRATE_EINTR, "interrupted while waiting for the migration lease on %s",
				 m->cfg.display_url);
			goto fail;
		}
		if (now_ms() >= deadline) {
			if (again) {
				merr_set(err, MIGRATE_ELOCK, "cannot read the migration lease on %s within %d s (lock_timeout): %s",
					 m->cfg.display_url, m->cfg.lock_timeout, again_msg);
			} else if (row.found) {
				describe(&row, who, sizeof(who));
				merr_set(err, MIGRATE_ELOCK,
					 "another migrate holds the lease on %s; gave up after %d s (lock_timeout): held by %s",
					 m->cfg.display_url, m->cfg.lock_timeout, who);
			} else {
				merr_set(err, MIGRATE_ELOCK, "cannot take the lease on %s within %d s (lock_timeout)",
					 m->cfg.display_url, m->cfg.lock_timeout);
			}
			goto fail;
		}
		{
			struct timespec ts = { 0, LEASE_POLL_MS * 1000000L };
			while (nanosleep(&ts, &ts) && errno == EINTR)
				;
		}
	}
	/* a race lost on the way (a deadlock error) is no lock wait of a migration's */
	m->lock_wait_hit = 0;
	took_over = prev.found && strcmp(prev.run_id, l->run_id) != 0;
	if (took_over) {
		long long ago = atoll(row.taken_at) - atoll(prev.expires_at);
		describe(&prev, who, sizeof(who));
		snprintf(since, sizeof(since), "%.1f s", (double)(ago > 0 ? ago : 0) / 1000);
		emitf(m, MIGRATE_EVENT_WARNING, "took over the expired migration lease of %s on %s (it expired %s ago without being renewed: that run died or hangs)",
		      who, m->cfg.display_url, since);
	}
	free(ins);
	free(upd);
	/* the renewal's own connection and thread */
	l->renew_sql = lease_sql(m, "UPDATE %T SET expires_at = %N + ? WHERE run_id = ? AND name = ?");
	l->check_sql = lease_sql(m, "SELECT host, pid, run_id, taken_at, expires_at, %N FROM %T WHERE name = ?");
	l->every_ms = m->cfg.lease_ms / 3;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	m->lease = l;
	if (db_connect_other(m, &l->conn, &derr) != DRIVER_OK) {
		merr_set(err, MIGRATE_ECONNECT, "cannot open the lease's renewal connection to %s: %s", m->cfg.display_url,
			 derr.message);
		lease_release(m);
		return err->code;
	}
	if (pthread_create(&l->thread, NULL, renew_loop, m) != 0) {
		merr_set(err, MIGRATE_EFAIL, "cannot start the lease's renewal thread");
		lease_release(m);
		return err->code;
	}
	l->running = 1;
	return MIGRATE_OK;
fail:
	free(ins);
	free(upd);
	free(l);
	return err->code;
}

enum migrate_result lease_check(migrate *m, struct migrate_error *err)
{
	struct lease *l = m->lease;
	int lost;

	if (!l)
		return MIGRATE_OK;
	pthread_mutex_lock(&l->mu);
	lost = l->lost;
	pthread_mutex_unlock(&l->mu);
	if (lost)
		return merr_set(err, MIGRATE_ELOCK,
				"the migration lease on %s was taken over by another run (this run did not renew it in time); stopping before the next migration",
				m->cfg.display_url);
	return MIGRATE_OK;
}

void lease_release(migrate *m)
{
	struct lease *l = m->lease;
	struct migrate_error ignored;
	const char *params[2] = { NULL, LEASE_NAME };
	char *sql;

	if (!l)
		return;
	if (l->running) {
		pthread_mutex_lock(&l->mu);
		l->stop = 1;
		pthread_cond_signal(&l->cv);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->thread, NULL);
	}
	db_close_other(m, l->conn);
	params[0] = l->run_id;
	sql = lease_sql(m, "DELETE FROM %T WHERE run_id = ? AND name = ?");
	merr_clear(&ignored);
	if (m->conn)
		db_query(m, sql, 2, params, NULL, NULL, &ignored);
	free(sql);
	free(l->renew_sql);
	free(l->check_sql);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	free(l);
	m->lease = NULL;
}

/* ---- migrate lock status / release ---------------------------------------------------- */

enum migrate_result migrate_lock_status(migrate *m, struct migrate_lock_info *out, struct migrate_error *err)
{
	struct lease_row row;
	int exists;
	char *t;

	memset(out, 0, sizeof(*out));
	merr_clear(err);
	if (!m || !m->conn)
		return merr_set(err, MIGRATE_EUSAGE, "no database connection");
	out->mode = db_lock_mode(m, out->mode_why, sizeof(out->mode_why));
	if (strcmp(out->mode, "table") != 0)
		return db_advisory_status(m, out, err);
	t = lease_table(m);
	if (db_table_exists(m, t, &exists, err)) {
		free(t);
		return err->code;
	}
	free(t);
	if (!exists || lease_read(m, &row, err))
		return err->code;
	if (!row.found)
		return MIGRATE_OK;
	out->held = 1;
	snprintf(out->host, sizeof(out->host), "%s", row.host);
	out->pid = atol(row.pid);
	snprintf(out->run_id, sizeof(out->run_id), "%s", row.run_id);
	out->held_ms = atoll(row.now) - atoll(row.taken_at);
	out->expires_in_ms = atoll(row.expires_at) - atoll(row.now);
	return MIGRATE_OK;
}

enum migrate_result migrate_lock_release(migrate *m, int force, struct migrate_lock_info *out,
					 struct migrate_error *err)
{
	const char *params[2];
	char *sql;

	if (migrate_lock_status(m, out, err))
		return err->code;
	if (strcmp(out->mode, "table") != 0)
		return merr_set(err, MIGRATE_EFAIL,
				"the lock on %s is %s (%s), which ends with the session holding it: there is no lease to release",
				m->cfg.display_url, out->mode, out->mode_why);
	if (!out->held)
		return MIGRATE_OK;
	if (out->expires_in_ms > 0 && !force)
		return merr_set(err, MIGRATE_EFAIL,
				"the migration lease on %s is live: held by host %s pid %ld (run %.8s), expires in %.1f s unless renewed; release it only when that run is gone, with --force",
				m->cfg.display_url, out->host, out->pid, out->run_id, (double)out->expires_in_ms / 1000);
	params[0] = out->run_id;
	params[1] = LEASE_NAME;
	sql = lease_sql(m, "DELETE FROM %T WHERE run_id = ? AND name = ?");
	db_query(m, sql, 2, params, NULL, NULL, err);
	free(sql);
	return err->code;
}
