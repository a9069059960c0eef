/*
 * db.c - the core's only door to the drivers (see internal.h).
 *
 * Every call through struct driver happens here, so the mapping of driver
 * results to migrate results, the file:line of a failing statement, and
 * --dry-run (report writes instead of running them) are each done once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sqllex.h"

enum migrate_result db_map_result(enum driver_result r)
{
	switch (r) {
	case DRIVER_OK:
		return MIGRATE_OK;
	case DRIVER_ECONNECT:
		return MIGRATE_ECONNECT;
	case DRIVER_ELOCK:
		return MIGRATE_ELOCK;
	case DRIVER_ECONFIG:
		return MIGRATE_EUSAGE;
	case DRIVER_ESQL:
	case DRIVER_ELOCKWAIT: /* retry.c decides whether it is retried, or exit 4 */
	case DRIVER_EUNSUPPORTED:
	default:
		return MIGRATE_EFAIL;
	}
}

/* ---- interrupts ---------------------------------------------------------------- */

int db_interrupted(migrate *m)
{
	return atomic_load(&m->interrupted);
}

int db_cancelable_begin(migrate *m)
{
	int r = 0;

	pthread_mutex_lock(&m->mu);
	if (atomic_load(&m->interrupted))
		r = -1;
	else
		m->in_statement = 1;
	pthread_mutex_unlock(&m->mu);
	return r;
}

void db_cancelable_end(migrate *m)
{
	pthread_mutex_lock(&m->mu);
	m->in_statement = 0;
	pthread_mutex_unlock(&m->mu);
}

enum migrate_result db_fail_code(migrate *m, enum driver_result r)
{
	if (db_interrupted(m))
		return MIGRATE_EINTR;
	return r == DRIVER_ECONNECT ? MIGRATE_EFAIL : db_map_result(r);
}

void migrate_interrupt(migrate *m)
{
	struct driver_error derr = { "", -1 };

	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	atomic_store(&m->interrupted, 1);
	/* only a user's statement is cancelled, never migrate's own tracking writes */
	if (m->in_statement && m->conn && m->cfg.drv->cancel)
		m->cfg.drv->cancel(m->conn, &derr);
	if (m->sub)
		migrate_interrupt(m->sub);
	pthread_mutex_unlock(&m->mu);
}

/* ---- connecting ------------------------------------------------------------------ */

enum migrate_result db_connect(migrate *m, struct migrate_error *err)
{
	struct driver_error derr = { "", -1 };
	struct driver_conn *conn = NULL;
	enum driver_result r;

	m->cfg.settings.read_only = m->opt.dry_run;
	m->cfg.settings.must_exist = m->opt.existing_only;
	/* a connection handed on (api_open): reset as a pooler does; one that is not sound is replaced */
	conn = m->reuse;
	m->reuse = NULL;
	if (conn && (conn->drv != m->cfg.drv || !m->cfg.drv->reset_connection ||
		     m->cfg.drv->reset_connection(conn, &m->cfg.settings, &derr) != DRIVER_OK)) {
		conn->drv->close(conn);
		conn = NULL;
		derr = (struct driver_error){ "", -1 };
	}
	r = conn ? DRIVER_OK : m->cfg.drv->connect(&m->cfg.settings, &conn, &derr);
	if (r != DRIVER_OK)
		return merr_set(err, r == DRIVER_ECONNECT ? MIGRATE_ECONNECT : db_map_result(r),
				"cannot connect to %s: %s", m->cfg.display_url, derr.message);
	pthread_mutex_lock(&m->mu);
	m->conn = conn;
	pthread_mutex_unlock(&m->mu);
	/* a schema target: its search_path first, so its tracking tables are found there */
	if (m->opt.schema && db_enter_schema(m, err))
		return err->code;
	/* where the tracking tables are, whatever a migration does to its session later */
	free(m->schema);
	m->schema = NULL;
	if (m->cfg.drv->current_schema) {
		r = m->cfg.drv->current_schema(m->conn, m->cfg.table, &m->schema, &derr);
		if (r != DRIVER_OK)
			return merr_set(err, r == DRIVER_ECONNECT ? MIGRATE_ECONNECT : db_map_result(r),
					"cannot tell the current schema of %s: %s", m->cfg.display_url, derr.message);
	}
	return MIGRATE_OK;
}

static int schema_row(void *ctx, int ncols, const char *const *values)
{
	(void)ncols;
	(void)values;
	*(int *)ctx = 1;
	return 0;
}

/* SET search_path TO exactly the schema of a schema target, quoted. */
static enum driver_result set_search_path(migrate *m, struct driver_error *derr)
{
	struct strbuf sb = STRBUF_INIT;
	enum driver_result r;

	strbuf_addstr(&sb, "SET search_path TO ");
	db_quote_ident(m, &sb, m->opt.schema);
	r = m->cfg.drv->query(m->conn, strbuf_str(&sb), 0, NULL, NULL, NULL, derr);
	strbuf_release(&sb);
	return r;
}

/*
 * Schema-per-tenant (SPEC section 13): the session's search_path becomes
 * exactly the schema, so the migrations and the tracking tables both live
 * there. A session setting, not a write: it is made under --dry-run too.
 */
enum migrate_result db_enter_schema(migrate *m, struct migrate_error *err)
{
	struct driver_error derr = { "", -1 };
	const char *params[1] = { m->opt.schema };
	enum driver_result r;
	int found = 0;

	if (m->cfg.drv->dialect != SQL_DIALECT_POSTGRES)
		return merr_set(err, MIGRATE_EUSAGE, "schema '%s': a schema target needs a PostgreSQL database, not %s",
				m->opt.schema, m->cfg.display_url);
	r = m->cfg.drv->query(m->conn, "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", 1, params,
			      schema_row, &found, &derr);
	if (r == DRIVER_OK && !found)
		return merr_set(err, MIGRATE_ECONNECT, "schema '%s' does not exist in %s", m->opt.schema,
				m->cfg.display_url);
	if (r == DRIVER_OK)
		r = set_search_path(m, &derr);
	if (r != DRIVER_OK)
		return merr_set(err, db_map_result(r), "schema '%s' in %s: %s", m->opt.schema, m->cfg.display_url,
				derr.message);
	return MIGRATE_OK;
}

void db_preload(const struct driver *drv)
{
	struct driver_error ignored = { "", -1 };

	if (drv && drv->preload)
		drv->preload(&ignored);
}

enum migrate_result db_lock(migrate *m, struct migrate_error *err)
{
	struct driver_error derr = { "", -1 };
	enum driver_result r;
	char *lock_name;

	/*
	 * A dry run writes nothing, so it needs no lock: it never waits behind
	 * a deploy, never holds one up, and leaves no lock file behind.
	 */
	if (m->locked || m->opt.dry_run || !(m->cfg.drv->caps & DRIVER_CAP_LOCK))
		return MIGRATE_OK;
	if (strcmp(db_lock_mode(m, NULL, 0), "table") == 0) {
		if (lease_acquire(m, err))
			return err->code;
		m->locked = 1;
		return MIGRATE_OK;
	}
	if (db_cancelable_begin(m))
		return merr_set(err, MIGRATE_EINTR, "interrupted before the migration lock was taken");
	/*
	 * One try first, so that a run that has to wait says so, and whom it
	 * waits for, rather than hanging silently for lock_timeout seconds.
	 */
	/* each tenant schema has a lock of its own, so a fleet of them runs side by side */
	lock_name = m->opt.schema ? xasprintf("%s.%s", m->opt.schema, m->cfg.table) : xstrdup(m->cfg.table);
	r = m->cfg.drv->lock(m->conn, lock_name, 0, &derr);
	if (r == DRIVER_ELOCK && m->cfg.lock_timeout > 0 && !db_interrupted(m)) {
		emitf(m, MIGRATE_EVENT_WARNING, "waiting up to %d s (lock_timeout) for the migration lock on %s: %s",
		      m->cfg.lock_timeout, m->cfg.display_url, derr.message);
		derr = (struct driver_error){ "", -1 };
		r = m->cfg.drv->lock(m->conn, lock_name, m->cfg.lock_timeout, &derr);
	}
	free(lock_name);
	db_cancelable_end(m);
	if (r != DRIVER_OK && db_interrupted(m))
		return merr_set(err, MIGRATE_EINTR, "interrupted while waiting for the migration lock: %s",
				derr.message);
	if (r == DRIVER_ELOCK)
		return merr_set(err, MIGRATE_ELOCK,
				"another migrate holds the lock on %s; gave up after %d s (lock_timeout): %s",
				m->cfg.display_url, m->cfg.lock_timeout, derr.message);
	if (r != DRIVER_OK)
		return merr_set(err, db_map_result(r), "cannot take the migration lock: %s", derr.message);
	m->locked = 1;
	return MIGRATE_OK;
}

const char *db_lock_mode(migrate *m, char *why, size_t len)
{
	const struct driver *d = m->cfg.drv;

	if (!m->lock_mode) {
		m->lock_mode = "advisory";
		if (!d->now_ms_sql) {
			snprintf(m->lock_mode_why, sizeof(m->lock_mode_why), "the %s driver's own lock", d->name);
		} else if (m->cfg.lock_mode == CONFIG_LOCK_TABLE) {
			m->lock_mode = "table";
			snprintf(m->lock_mode_why, sizeof(m->lock_mode_why), "lock_mode = table");
		} else if (m->cfg.lock_mode == CONFIG_LOCK_ADVISORY) {
			snprintf(m->lock_mode_why, sizeof(m->lock_mode_why), "lock_mode = advisory");
		} else if (d->lock_unsound && m->conn &&
			   d->lock_unsound(m->conn, m->lock_mode_why + 18, sizeof(m->lock_mode_why) - 18)) {
			m->lock_mode = "table";
			memcpy(m->lock_mode_why, "lock_mode = auto: ", 18);
		} else {
			snprintf(m->lock_mode_why, sizeof(m->lock_mode_why), "lock_mode = auto");
		}
	}
	if (why)
		snprintf(why, len, "%s", m->lock_mode_why);
	return m->lock_mode;
}

enum migrate_result db_advisory_status(migrate *m, struct migrate_lock_info *out, struct migrate_error *err)
{
	struct driver_error derr = { "", -1 };
	enum driver_result r;

	if (m->locked || !(m->cfg.drv->caps & DRIVER_CAP_LOCK))
		return MIGRATE_OK;
	r = m->cfg.drv->lock(m->conn, m->cfg.table, 0, &derr);
	if (r == DRIVER_OK) {
		m->cfg.drv->unlock(m->conn, &derr);
		return MIGRATE_OK;
	}
	if (r != DRIVER_ELOCK)
		return merr_set(err, db_map_result(r), "cannot look at the migration lock: %s", derr.message);
	out->held = 1;
	snprintf(out->detail, sizeof(out->detail), "%s", derr.message);
	return MIGRATE_OK;
}

enum driver_result db_connect_other(migrate *m, struct driver_conn **out, struct driver_error *derr)
{
	*out = NULL;
	return m->cfg.drv->connect(&m->cfg.settings, out, derr);
}

enum driver_result db_query_on(migrate *m, struct driver_conn *conn, const char *sql, int nparams,
			       const char *const *params, driver_row_fn fn, void *ctx, struct driver_error *derr)
{
	return m->cfg.drv->query(conn, sql, nparams, params, fn, ctx, derr);
}

void db_close_other(migrate *m, struct driver_conn *conn)
{
	if (conn)
		m->cfg.drv->close(conn);
}

void db_unlock(migrate *m)
{
	struct driver_error derr = { "", -1 };

	if (m->lease) {
		lease_release(m);
		m->locked = 0;
		return;
	}
	if (m->locked && m->conn)
		m->cfg.drv->unlock(m->conn, &derr);
	m->locked = 0;
}

void db_quote_ident(const migrate *m, struct strbuf *sb, const char *name)
{
	char q = m->cfg.drv->ident_quote;

	strbuf_addch(sb, q);
	for (; *name; name++) {
		if (*name == q)
			strbuf_addch(sb, q);
		strbuf_addch(sb, *name);
	}
	strbuf_addch(sb, q);
}

void db_quote_table(const migrate *m, struct strbuf *sb, const char *table)
{
	if (m->schema) {
		db_quote_ident(m, sb, m->schema);
		strbuf_addch(sb, '.');
	}
	db_quote_ident(m, sb, table);
}

void db_reset_session(migrate *m)
{
	struct driver_error derr = { "", -1 };

	/* a failure shows in the next statement, with its own message */
	if (m->conn && !m->opt.dry_run && m->cfg.drv->reset_session) {
		m->cfg.drv->reset_session(m->conn, &derr);
		/* a schema target's session goes back to its schema, not the server's default */
		if (m->opt.schema)
			set_search_path(m, &derr);
	}
}

void db_param(const migrate *m, struct strbuf *sb, int n)
{
	if (m->cfg.drv->params == DRIVER_PARAM_DOLLAR)
		strbuf_addf(sb, "$%d", n);
	else
		strbuf_addch(sb, '?');
}

/* --dry-run: the statement, with its parameters shown after it. */
static void report_sql(migrate *m, const char *sql, size_t len, int nparams,
		       const char *const *params)
{
	struct strbuf sb = STRBUF_INIT;
	int i;

	strbuf_add(&sb, sql, len);
	strbuf_addch(&sb, ';');
	if (nparams > 0) {
		strbuf_addstr(&sb, " -- (");
		for (i = 0; i < nparams; i++) {
			const char *p = params[i];
			if (i)
				strbuf_addstr(&sb, ", ");
			if (!p) {
				strbuf_addstr(&sb, "NULL");
				continue;
			}
			strbuf_addch(&sb, '\'');
			for (; *p; p++) {
				if (*p == '\n') {
					strbuf_addstr(&sb, "\\n");
					continue;
				}
				if (*p == '\'')
					strbuf_addch(&sb, '\'');
				strbuf_addch(&sb, *p);
			}
			strbuf_addch(&sb, '\'');
		}
		strbuf_addch(&sb, ')');
	}
	emit(m, MIGRATE_EVENT_SQL, NULL, NULL, strbuf_str(&sb), 0, 0);
	strbuf_release(&sb);
}

/*
 * What one of migrate's own statements does, for a message: its verb and
 * the table it names ("INSERT INTO "schema_migrations""), never its
 * columns, values or parameter list.
 */
static void sql_summary(struct strbuf *sb, const char *sql)
{
	static const char *const kw[] = { " INTO ", " FROM ", "UPDATE ", " TABLE ", NULL };
	size_t verb = strcspn(sql, " ");
	const char *t = NULL;
	size_t i;

	for (i = 0; kw[i] && !t; i++)
		if ((t = strstr(sql, kw[i])) != NULL)
			t += strlen(kw[i]);
	strbuf_add(sb, sql, verb > 20 ? 20 : verb);
	if (t && strncmp(sql, "UPDATE ", 7) != 0) {
		const char *k = t - 1;
		while (k > sql && k[-1] != ' ')
			k--;
		strbuf_addch(sb, ' ');
		strbuf_add(sb, k, (size_t)(t - 1 - k));
	}
	if (t)
		strbuf_addf(sb, " %.*s", (int)(strcspn(t, " (") > 140 ? 140 : strcspn(t, " (")), t);
}

/*
 * The database's message first, then which of migrate's statements it was
 * about, in a few words: never the SQL's column or parameter lists.
 */
static enum migrate_result query_failed(migrate *m, enum driver_result r, const char *sql,
					const struct driver_error *derr, struct migrate_error *err)
{
	struct strbuf what = STRBUF_INIT;
	enum migrate_result res;

	if (r == DRIVER_ELOCKWAIT)
		m->lock_wait_hit = 1; /* a retry may succeed (retry.c) */
	sql_summary(&what, sql);
	res = merr_set(err, db_fail_code(m, r), "%s%s (in migrate's own %s)",
		       r == DRIVER_ECONNECT && strncmp(derr->message, "connection lost", 15) != 0
			       ? "connection lost: " : "",
		       derr->message, strbuf_str(&what));
	strbuf_release(&what);
	return res;
}

enum migrate_result db_query(migrate *m, const char *sql, int nparams, const char *const *params,
			     driver_row_fn fn, void *ctx, struct migrate_error *err)
{
	struct driver_error derr = { "", -1 };
	enum driver_result r;

	if (m->opt.dry_run && !fn) {
		report_sql(m, sql, strlen(sql), nparams, params);
		return MIGRATE_OK;
	}
	r = m->cfg.drv->query(m->conn, sql, nparams, params, fn, ctx, &derr);
	if (r != DRIVER_OK)
		return query_failed(m, r, sql, &derr, err);
	return MIGRATE_OK;
}

enum migrate_result db_write(migrate *m, const char *sql, int nparams, const char *const *params,
			     long long *changed, struct migrate_error *err)
{
	struct driver_error derr = { "", -1 };
	enum driver_result r;

	*changed = 0;
	if (m->opt.dry_run) {
		report_sql(m, sql, strlen(sql), nparams, params);
		*changed = 1; /* what a real run would have done */
		return MIGRATE_OK;
	}
	r = m->cfg.drv->query(m->conn, sql, nparams, params, NULL, NULL, &derr);
	if (r != DRIVER_OK)
		return query_failed(m, r, sql, &derr, err);
	*changed = m->cfg.drv->changes(m->conn);
	return MIGRATE_OK;
}

enum migrate_result db_exec_sql(migrate *m, const char *sql, struct migrate_error *err)
{
	return db_query(m, sql, 0, NULL, NULL, NULL, err);
}

struct first_row {
	int seen;
};

static int saw_row(void *ctx, int ncols, const char *const *values)
{
	(void)ncols;
	(void)values;
	((struct first_row *)ctx)->seen = 1;
	return 1;
}

enum migrate_result db_table_exists(migrate *m, const char *table, int *exists,
				    struct migrate_error *err)
{
	struct driver_error derr = { "", -1 };
	enum driver_result r;

	*exists = 0;
	r = m->cfg.drv->table_exists(m->conn, table, exists, &derr);
	if (r != DRIVER_OK)
		return merr_set(err, db_map_result(r), "cannot look for table '%s': %s", table, derr.message);
	return MIGRATE_OK;
}

enum migrate_result db_tracking_exists(migrate *m, const char *table, int *exists,
				       struct migrate_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	const char *params[2] = { m->schema, table };
	struct first_row fr = { 0 };
	enum migrate_result res;

	if (!m->schema)
		return db_table_exists(m, table, exists, err);
	/* in the schema resolved at connect, wherever the session looks now */
	*exists = 0;
	strbuf_addstr(&sb, "SELECT 1 FROM information_schema.tables WHERE table_schema = ");
	db_param(m, &sb, 1);
	strbuf_addstr(&sb, " AND table_name = ");
	db_param(m, &sb, 2);
	res = db_query(m, strbuf_str(&sb), 2, params, saw_row, &fr, err);
	strbuf_release(&sb);
	*exists = fr.seen;
	return res;
}

enum migrate_result db_begin(migrate *m, struct migrate_error *err)
{
	return db_exec_sql(m, m->cfg.drv->begin_sql, err);
}

enum migrate_result db_commit(migrate *m, struct migrate_error *err)
{
	return db_exec_sql(m, m->cfg.drv->commit_sql, err);
}

void db_rollback(migrate *m)
{
	struct migrate_error ignored;

	/* After a failure the first error is what matters; a failed ROLLBACK adds nothing. */
	merr_clear(&ignored);
	db_exec_sql(m, m->cfg.drv->rollback_sql, &ignored);
}

/* The file line of a byte offset within a statement. */
static int offset_line(const char *stmt, size_t len, long offset, int line)
{
	long i;

	if (offset < 0)
		return line;
	for (i = 0; i < offset && (size_t)i < len; i++) /* LF, CRLF or a lone CR, as the lexer counts */
		if (stmt[i] == '\n' || (stmt[i] == '\r' && ((size_t)i + 1 >= len || stmt[i + 1] != '\n')))
			line++;
	return line;
}

enum migrate_result db_check_placeholders(migrate *m, const char *label, const char *text,
					  const struct section *sec, struct migrate_error *err)
{
	struct sql_stmts stmts = { NULL, 0, 0 };
	enum migrate_result res = MIGRATE_OK;
	char msg[1024];
	size_t i;

	if (!sec->present || sec->literal || !placeholder_any(text + sec->off, sec->len))
		return MIGRATE_OK;
	if (sec->path) /* the section is in a file of its own (layout.c) */
		label = sec->path;
	if (section_split(text, sec, m->cfg.drv->dialect, &stmts, NULL, msg, sizeof(msg)))
		return MIGRATE_OK; /* running it reports the lexer's error */
	for (i = 0; i < stmts.n && !res; i++) {
		const struct sql_stmt *st = &stmts.v[i];
		int errline;
		char *x = placeholder_expand(&m->ph, text + sec->off + st->off, st->len, NULL, st->line,
					     &errline, msg, sizeof(msg));
		if (!x)
			res = merr_set(err, MIGRATE_EUSAGE, "%s:%d: %s", label, errline, msg);
		free(x);
	}
	sql_stmts_release(&stmts);
	return res;
}

enum migrate_result db_check_section(migrate *m, const char *label, const char *text,
				     const struct section *sec, const char *which, int in_tx,
				     struct migrate_error *err)
{
	struct sql_stmts stmts = { NULL, 0, 0 };
	enum migrate_result res = MIGRATE_OK;
	char msg[256], what[64];
	int goose = m->migs.format && strcmp(m->migs.format, "goose") == 0;
	size_t i;

	if (!sec->present || !in_tx)
		return MIGRATE_OK;
	if (sec->path) /* the section is in a file of its own (layout.c) */
		label = sec->path;
	if (section_split(text, sec, m->cfg.drv->dialect, &stmts, NULL, msg, sizeof(msg)))
		return MIGRATE_OK; /* running it reports the lexer's error */
	for (i = 0; i < stmts.n && !res; i++) {
		const struct sql_stmt *st = &stmts.v[i];
		switch (sqllex_classify(text + sec->off + st->off, st->len, m->cfg.drv->dialect, what,
					sizeof(what))) {
		case SQL_STMT_TX_CONTROL:
			if (goose) /* in goose's terms: its files have no markers of migrate's */
				res = merr_set(err, MIGRATE_EUSAGE,
					       "%s:%d: '%s' in a migration that runs in a transaction: migrate begins and commits that transaction itself, and this would end it part-way; remove it, or add '-- +goose NO TRANSACTION' to the file to manage transactions yourself",
					       label, st->line, what);
			res = merr_set(err, MIGRATE_EUSAGE,
				       "%s:%d: '%s' in a section that runs in a transaction: migrate begins and commits that transaction itself, and this would end it part-way; remove it, or mark the section '-- migrate:%s transaction:false' to manage transactions yourself",
				       label, st->line, what, which);
			break;
		case SQL_STMT_NO_TX:
			if (goose)
				res = merr_set(err, MIGRATE_EUSAGE,
					       "%s:%d: '%s' does not work inside a transaction (%s refuses or ignores it there); add '-- +goose NO TRANSACTION' to the file",
					       label, st->line, what, m->cfg.drv->name);
			res = merr_set(err, MIGRATE_EUSAGE,
				       "%s:%d: '%s' does not work inside a transaction (%s refuses or ignores it there); put it in a section marked '-- migrate:%s transaction:false'",
				       label, st->line, what, m->cfg.drv->name, which);
			break;
		default:
			break;
		}
	}
	sql_stmts_release(&stmts);
	return res;
}

/* ---- transactions and the settings around them --------------------------- */

void db_tx_add(migrate *m, struct db_tx *tx, const char *label, const char *text,
	       const struct section *sec)
{
	struct sql_stmts stmts = { NULL, 0, 0 };
	char msg[256];
	size_t i;

	if (!(m->cfg.drv->caps & DRIVER_CAP_FK_PRAGMA) || !sec->present)
		return;
	if (section_split(text, sec, m->cfg.drv->dialect, &stmts, NULL, msg, sizeof(msg)))
		return;
	for (i = 0; i < stmts.n; i++) {
		const struct sql_stmt *st = &stmts.v[i];
		enum sql_stmt_kind k = sqllex_classify(text + sec->off + st->off, st->len, m->cfg.drv->dialect,
						       NULL, 0);
		if (k == SQL_STMT_FK_OFF && !tx->fk_off) {
			tx->fk_off = 1;
			tx->fk_where = xasprintf("%s:%d", label, st->line);
		}
		if (k == SQL_STMT_FK_OFF || k == SQL_STMT_FK_ON)
			tx->fk_touch = 1;
	}
	sql_stmts_release(&stmts);
}

static int fk_read(void *ctx, int ncols, const char *const *values)
{
	*(int *)ctx = ncols >= 1 && values[0] && atoi(values[0]) != 0;
	return 1;
}

enum migrate_result db_tx_begin(migrate *m, struct db_tx *tx, int in_tx, struct migrate_error *err)
{
	if (tx->fk_touch) {
		if (db_query(m, "PRAGMA foreign_keys", 0, NULL, fk_read, &tx->fk_was, err))
			return err->code;
		if (tx->fk_was < 0)
			tx->fk_was = 0;
		if (in_tx && tx->fk_off && tx->fk_was) {
			if (db_exec_sql(m, "PRAGMA foreign_keys = OFF", err))
				return err->code;
			tx->fk_check = 1;
		}
	}
	if (in_tx) {
		if (tx->limits ? db_begin_limited(m, tx->limits, err) : db_begin(m, err)) {
			db_tx_rollback(m, tx);
			return err->code;
		}
		tx->in_tx = 1;
	}
	return MIGRATE_OK;
}

struct fk_violations {
	long long rows;
	struct strbuf tables; /* "'child' (N rows, referencing 'parent')" for the first few */
	char child[128], parent[128];
	long long n;
	int listed;
};

static void fk_flush(struct fk_violations *v)
{
	if (!v->n)
		return;
	if (v->listed++ < 5)
		strbuf_addf(&v->tables, "%s'%s' (%lld row%s referencing '%s')", v->tables.len ? ", " : "",
			    v->child, v->n, v->n == 1 ? "" : "s", v->parent);
	v->n = 0;
}

/* PRAGMA foreign_key_check: table, rowid, parent, fkid; grouped by table and parent. */
static int fk_violation(void *ctx, int ncols, const char *const *values)
{
	struct fk_violations *v = ctx;
	const char *child = ncols > 0 && values[0] ? values[0] : "?";
	const char *parent = ncols > 2 && values[2] ? values[2] : "?";

	if (v->n && (strcmp(child, v->child) != 0 || strcmp(parent, v->parent) != 0))
		fk_flush(v);
	if (!v->n) {
		snprintf(v->child, sizeof(v->child), "%s", child);
		snprintf(v->parent, sizeof(v->parent), "%s", parent);
	}
	v->n++;
	v->rows++;
	return 0;
}

/* Puts foreign keys back as they were; the first error, if any, is already in err. */
static void fk_restore(migrate *m, struct db_tx *tx)
{
	struct migrate_error ignored;

	if (tx->fk_touch && tx->fk_was >= 0) {
		merr_clear(&ignored);
		db_exec_sql(m, tx->fk_was ? "PRAGMA foreign_keys = ON" : "PRAGMA foreign_keys = OFF", &ignored);
	}
	free(tx->fk_where);
	tx->fk_where = NULL;
	tx->fk_touch = tx->fk_off = tx->fk_check = 0;
	tx->fk_was = -1;
}

enum migrate_result db_tx_commit(migrate *m, struct db_tx *tx, struct migrate_error *err)
{
	if (tx->in_tx && tx->fk_check && !m->opt.dry_run) {
		struct fk_violations v;
		memset(&v, 0, sizeof(v));
		if (db_query(m, "PRAGMA foreign_key_check", 0, NULL, fk_violation, &v, err)) {
			strbuf_release(&v.tables);
			db_tx_rollback(m, tx);
			return err->code;
		}
		fk_flush(&v);
		if (v.rows) {
			merr_set(err, MIGRATE_EFAIL,
				 "%s: the section turns foreign keys off, and PRAGMA foreign_key_check before its commit finds %lld row%s whose parent row is missing: %s%s; it was rolled back",
				 tx->fk_where, v.rows, v.rows == 1 ? "" : "s", strbuf_str(&v.tables),
				 v.listed > 5 ? ", ..." : "");
			strbuf_release(&v.tables);
			db_tx_rollback(m, tx);
			return err->code;
		}
		strbuf_release(&v.tables);
	} else if (tx->in_tx && tx->fk_check) {
		db_exec_sql(m, "PRAGMA foreign_key_check", err);
	}
	if (tx->in_tx && db_commit(m, err)) {
		db_tx_rollback(m, tx);
		return err->code;
	}
	tx->in_tx = 0;
	fk_restore(m, tx);
	return MIGRATE_OK;
}

void db_tx_rollback(migrate *m, struct db_tx *tx)
{
	if (tx->in_tx)
		db_rollback(m);
	tx->in_tx = 0;
	fk_restore(m, tx);
}

int section_has_statements(const migrate *m, const char *text, const struct section *sec)
{
	struct sql_stmts stmts = { NULL, 0, 0 };
	char msg[256];
	int any;

	if (!sec->present)
		return 0;
	if (section_split(text, sec, m->cfg.drv->dialect, &stmts, NULL, msg, sizeof(msg)))
		return 1; /* let running it report the error */
	any = stmts.n > 0;
	sql_stmts_release(&stmts);
	return any;
}

int section_can_undo(const migrate *m, const char *text, const struct section *sec)
{
	return sec->present && (sec->nothing || section_has_statements(m, text, sec));
}

void db_close(migrate *m)
{
	struct driver_conn *conn = db_detach(m);

	if (conn)
		conn->drv->close(conn);
}

struct driver_conn *db_detach(migrate *m)
{
	struct driver_conn *conn;

	if (m->conn)
		db_unlock(m);
	pthread_mutex_lock(&m->mu);
	conn = m->conn ? m->conn : m->reuse;
	if (m->conn && m->reuse) /* cannot be: db_connect takes it */
		m->reuse->drv->close(m->reuse);
	m->conn = NULL;
	m->reuse = NULL;
	pthread_mutex_unlock(&m->mu);
	return conn;
}

/* create (1) or drop (0) the configured database */
static enum migrate_result db_server_database(migrate *m, int create, struct migrate_error *err)
{
	const struct driver *d = m->cfg.drv;
	struct driver_error derr = { "", -1 };
	enum driver_result r;

	if (!(d->caps & DRIVER_CAP_CREATE_DATABASE) || !(create ? d->create_database : d->drop_database))
		return merr_set(err, MIGRATE_EUSAGE, "the %s driver cannot %s databases", d->name,
				create ? "create" : "drop");
	r = (create ? d->create_database : d->drop_database)(&m->cfg.settings, &derr);
	if (r != DRIVER_OK)
		return merr_set(err, db_map_result(r), "cannot %s %s: %s", create ? "create" : "drop",
				m->cfg.display_url, derr.message);
	return MIGRATE_OK;
}

enum migrate_result db_create_database(migrate *m, struct migrate_error *err)
{
	return db_server_database(m, 1, err);
}

enum migrate_result db_drop_database(migrate *m, struct migrate_error *err)
{
	return db_server_database(m, 0, err);
}

enum driver_result db_try_connect(migrate *m, struct driver_error *derr)
{
	struct driver_conn *conn = NULL;
	enum driver_result r = m->cfg.drv->connect(&m->cfg.settings, &conn, derr);

	if (r == DRIVER_OK)
		m->cfg.drv->close(conn);
	return r;
}

int db_can_load(const migrate *m)
{
	return (m->cfg.drv->caps & DRIVER_CAP_BULK_LOAD) && m->cfg.drv->load_begin;
}

enum driver_result db_primary_key(migrate *m, const char *table, char ***cols, struct driver_error *derr)
{
	return m->cfg.drv->primary_key(m->conn, table, cols, derr);
}

enum driver_result db_load_begin(migrate *m, const char *table, const char *const *cols, int ncols,
				 const char *key, driver_row_fn key_fn, void *key_ctx,
				 struct driver_load **out, struct driver_error *derr)
{
	return m->cfg.drv->load_begin(m->conn, table, cols, ncols, key, key_fn, key_ctx, out, derr);
}

enum driver_result db_load_row(migrate *m, struct driver_load *ld, const char *const *values,
			       const size_t *lens, struct driver_error *derr)
{
	return m->cfg.drv->load_row(ld, values, lens, derr);
}

enum driver_result db_load_end(migrate *m, struct driver_load *ld, long long *rows,
			       struct driver_error *derr)
{
	return m->cfg.drv->load_end(ld, rows, derr);
}

void db_load_abort(migrate *m, struct driver_load *ld)
{
	m->cfg.drv->load_abort(ld);
}

static enum migrate_result run_section(migrate *m, const char *label, const char *text,
				       const struct section *sec, long long *changes,
				       db_section_progress_fn progress, void *progress_ctx,
				       struct section_pos *pos, struct migrate_error *err);

enum migrate_result db_run_section(migrate *m, const char *label, const char *text,
				   const struct section *sec, long long *changes,
				   db_section_progress_fn progress, void *progress_ctx,
				   struct migrate_error *err)
{
	return run_section(m, label, text, sec, changes, progress, progress_ctx, NULL, err);
}

enum migrate_result db_run_section_at(migrate *m, const char *label, const char *text,
				      const struct section *sec, struct section_pos *pos,
				      struct migrate_error *err)
{
	free(pos->failed);
	pos->failed = NULL;
	return run_section(m, label, text, sec, NULL, NULL, NULL, pos, err);
}

static enum migrate_result run_section(migrate *m, const char *label, const char *text,
				       const struct section *sec, long long *changes,
				       db_section_progress_fn progress, void *progress_ctx,
				       struct section_pos *pos, struct migrate_error *err)
{
	long long total_changes = 0;
	struct sql_stmts stmts = { NULL, 0, 0 };
	struct driver_error derr;
	enum migrate_result res = MIGRATE_OK;
	char msg[1024];
	size_t i;

	if (!sec->present)
		return MIGRATE_OK;
	if (sec->path) /* the section is in a file of its own (layout.c) */
		label = sec->path;
	if (section_split(text, sec, m->cfg.drv->dialect, &stmts, NULL, msg, sizeof(msg)))
		return merr_set(err, MIGRATE_EUSAGE, "%s:%s", label, msg + 5);
	for (i = pos ? pos->next : 0; i < stmts.n; i++) {
		const struct sql_stmt *st = &stmts.v[i];
		const char *sql = text + sec->off + st->off;
		size_t len = st->len;
		char *expanded = NULL;
		long long n = 0;
		enum driver_result r;
		int errline;

		/* placeholders per statement, after the split, so lines stay right */
		if (!sec->literal && placeholder_any(sql, len)) {
			expanded = placeholder_expand(&m->ph, sql, len, &len, st->line, &errline, msg, sizeof(msg));
			if (!expanded) {
				res = merr_set(err, MIGRATE_EUSAGE, "%s:%d: %s", label, errline, msg);
				break;
			}
			sql = expanded;
		}
		if (m->opt.dry_run) {
			report_sql(m, sql, len, 0, NULL);
			free(expanded);
			continue;
		}
		derr.message[0] = '\0';
		derr.offset = -1;
		if (db_cancelable_begin(m)) {
			res = merr_set(err, MIGRATE_EINTR, "%s:%d: interrupted before this statement ran", label,
				       st->line);
			free(expanded);
			break;
		}
		r = m->cfg.drv->exec(m->conn, sql, len, &n, &derr);
		db_cancelable_end(m);
		if (r != DRIVER_OK) {
			if (r == DRIVER_ELOCKWAIT)
				m->lock_wait_hit = 1;
			res = merr_set(err, db_fail_code(m, r), "%s:%d: %s%s", label,
				       offset_line(sql, len, derr.offset, st->line),
				       db_interrupted(m) ? "interrupted: the statement was cancelled: " : "",
				       derr.message);
			if (pos)
				pos->failed = xstrndup(sql, len);
			free(expanded);
			break;
		}
		free(expanded);
		if (db_interrupted(m)) {
			/* it ended anyway (MySQL's GET_LOCK returns NULL when killed): stop here */
			res = merr_set(err, MIGRATE_EINTR, "%s:%d: interrupted during this statement", label,
				       st->line);
			break;
		}
		total_changes += n;
		if (changes)
			*changes += n;
		if (progress) /* the last statement ends the section, whatever follows it */
			progress(progress_ctx, i + 1 == stmts.n ? (long long)sec->len : (long long)(st->off + st->len),
				 (long long)sec->len, total_changes);
	}
	if (pos)
		pos->next = i;
	sql_stmts_release(&stmts);
	return res;
}

/* Runs a statement the driver wrote, through exec(): the simple protocol, several in one. */
static enum migrate_result exec_driver_sql(migrate *m, const char *sql, struct migrate_error *err)
{
	struct driver_error derr = { "", -1 };
	enum driver_result r;

	if (m->opt.dry_run) {
		report_sql(m, sql, strlen(sql), 0, NULL);
		return MIGRATE_OK;
	}
	r = m->cfg.drv->exec(m->conn, sql, strlen(sql), NULL, &derr);
	if (r == DRIVER_ELOCKWAIT)
		m->lock_wait_hit = 1;
	if (r != DRIVER_OK)
		return merr_set(err, db_fail_code(m, r), "%s: %s", sql, derr.message);
	return MIGRATE_OK;
}

int db_set_limits(migrate *m, enum driver_limits_how how, const struct driver_limits *lim,
		  struct migrate_error *err)
{
	struct driver_limits none = { 0, 0 };
	struct driver_sql_list list;
	int i;

	if (!m->cfg.drv->set_limits)
		return 0;
	list.n = 0;
	m->cfg.drv->set_limits(m->conn, how, lim ? lim : &none, &list);
	for (i = 0; i < list.n; i++)
		if (exec_driver_sql(m, list.v[i], err))
			return -1;
	return list.n;
}

enum migrate_result db_begin_limited(migrate *m, const struct driver_limits *lim, struct migrate_error *err)
{
	struct driver_sql_list list;
	struct strbuf sb = STRBUF_INIT;
	enum migrate_result r;
	int i;

	list.n = 0;
	if (m->cfg.drv->set_limits)
		m->cfg.drv->set_limits(m->conn, DRIVER_LIMITS_LOCAL, lim, &list);
	if (list.n == 0)
		return db_begin(m, err);
	/* one round trip: the transaction's limits go with its BEGIN */
	strbuf_addstr(&sb, m->cfg.drv->begin_sql);
	for (i = 0; i < list.n; i++)
		strbuf_addf(&sb, "; %s", list.v[i]);
	r = exec_driver_sql(m, strbuf_str(&sb), err);
	strbuf_release(&sb);
	return r;
}

int db_has_local_limits(migrate *m, const struct driver_limits *lim)
{
	struct driver_sql_list list;

	if (!m->cfg.drv->set_limits)
		return 0;
	list.n = 0;
	m->cfg.drv->set_limits(m->conn, DRIVER_LIMITS_LOCAL, lim, &list);
	return list.n > 0;
}

enum migrate_result db_drop_leftover(migrate *m, const char *sql, char **drop,
				     struct migrate_error *err)
{
	struct driver_error derr = { "", -1 };
	enum driver_result r;

	*drop = NULL;
	if (!m->cfg.drv->leftover || !sql || m->opt.dry_run)
		return MIGRATE_OK;
	r = m->cfg.drv->leftover(m->conn, sql, strlen(sql), drop, &derr);
	if (r != DRIVER_OK)
		return merr_set(err, db_map_result(r), "cannot look for what the failed statement left: %s",
				derr.message);
	if (!*drop)
		return MIGRATE_OK;
	return exec_driver_sql(m, *drop, err);
}

enum migrate_result db_dump_schema(migrate *m, char **out, struct migrate_error *err)
{
	char *lease = lease_table(m);
	const char *skip[5] = { m->cfg.table, m->cfg.seeds_table, m->cfg.seeds_undo_table, lease, NULL };
	struct driver_error derr = { "", -1 };
	enum driver_result r;

	*out = NULL;
	if (!m->cfg.drv->dump_schema)
		return merr_set(err, MIGRATE_EFAIL, "the %s driver cannot dump a schema", m->cfg.drv->name);
	r = m->cfg.drv->dump_schema(m->conn, skip, out, &derr);
	free(lease);
	if (r != DRIVER_OK) {
		*out = NULL;
		return merr_set(err, r == DRIVER_ECONNECT ? MIGRATE_EFAIL : db_map_result(r),
				"cannot dump the schema of %s: %s", m->cfg.display_url, derr.message);
	}
	return MIGRATE_OK;
}

/* ---- test databases (testdb.c): the server-level operations of driver.h ---- */

int db_can_testdb(const migrate *m)
{
	const struct driver *d = m->cfg.drv;

	return d->connect_server && d->list_databases && d->clone_database && d->seal_database &&
	       d->drop_named_database && d->lock && d->unlock;
}

int db_can_claim(const migrate *m)
{
	return m->cfg.drv->claim_database != NULL;
}

enum driver_result db_server_connect(migrate *m, const char *dir, struct driver_conn **out,
				     struct driver_error *derr)
{
	*out = NULL;
	return m->cfg.drv->connect_server(&m->cfg.settings, dir, out, derr);
}

void db_server_close(migrate *m, struct driver_conn *server)
{
	if (server)
		m->cfg.drv->close(server);
}

enum driver_result db_server_lock(migrate *m, struct driver_conn *server, const char *name, int timeout_s,
				  struct driver_error *derr)
{
	return m->cfg.drv->lock(server, name, timeout_s, derr);
}

void db_server_unlock(migrate *m, struct driver_conn *server)
{
	struct driver_error ignored;

	m->cfg.drv->unlock(server, &ignored);
}

enum driver_result db_list_databases(migrate *m, struct driver_conn *server, const char *prefix,
				     driver_row_fn fn, void *ctx, struct driver_error *derr)
{
	return m->cfg.drv->list_databases(server, prefix, fn, ctx, derr);
}

enum driver_result db_clone_database(migrate *m, struct driver_conn *server, const char *from, const char *to,
				     struct driver_error *derr)
{
	return m->cfg.drv->clone_database(server, from, to, derr);
}

enum driver_result db_seal_database(migrate *m, struct driver_conn *server, const char *name,
				    struct driver_error *derr)
{
	return m->cfg.drv->seal_database(server, name, derr);
}

enum driver_result db_claim_database(migrate *m, struct driver_conn *server, const char *name, int *claimed,
				     struct driver_error *derr)
{
	*claimed = 0;
	if (!m->cfg.drv->claim_database) {
		driver_error_set(derr, "the %s driver has no warm pool", m->cfg.drv->name);
		return DRIVER_EUNSUPPORTED;
	}
	return m->cfg.drv->claim_database(server, name, claimed, derr);
}

enum driver_result db_drop_named_database(migrate *m, struct driver_conn *server, const char *name,
					  struct driver_error *derr)
{
	return m->cfg.drv->drop_named_database(server, name, derr);
}
