/*
 * check_driver.c - the conformance suite every driver passes, against a real
 * database: a SQLite file, or a fresh database on the PostgreSQL or MariaDB
 * server that tests/run.sh started. It tests the contract of driver.h.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "../migrate/util.h"
#include "testutil.h"

static char *dir;
static char *url;

static void setup(void)
{
	dir = tmpdir_new();
	test_db_create(dir, &url);
}

static void teardown(void)
{
	test_db_drop();
	rm_rf(dir);
	free(dir);
	free(url);
}

static enum driver_result run(struct driver_conn *c, const char *sql, long long *changes,
			      struct driver_error *err)
{
	err->message[0] = '\0';
	err->offset = -1;
	return test_driver()->exec(c, sql, strlen(sql), changes, err);
}

static void ok(struct driver_conn *c, const char *sql)
{
	struct driver_error err;

	ck_assert_msg(run(c, sql, NULL, &err) == DRIVER_OK, "%s: %s", sql, err.message);
}

START_TEST(connect_sets_conn_driver)
{
	struct driver_conn *c = test_connect();

	ck_assert_ptr_eq(c->drv, test_driver());
	test_driver()->close(c);
	test_driver()->close(NULL); /* a no-op */
}
END_TEST

/* --dry-run's connection: reads work, the database refuses every write, DDL included. */
START_TEST(a_read_only_connection_refuses_writes)
{
	struct driver_conn *c = test_connect(), *ro;
	struct driver_settings s = *test_db_settings();
	struct driver_error err;
	enum driver_result r;
	char *v;

	ok(c, "CREATE TABLE t (id INTEGER PRIMARY KEY)");
	ok(c, "INSERT INTO t (id) VALUES (1)");
	s.read_only = 1;
	ck_assert_msg(test_driver()->connect(&s, &ro, &err) == DRIVER_OK, "read-only connect: %s", err.message);
	v = test_scalar(ro, "SELECT COUNT(*) FROM t");
	ck_assert_str_eq(v, "1");
	free(v);
	r = run(ro, "INSERT INTO t (id) VALUES (2)", NULL, &err);
	ck_assert_msg(r != DRIVER_OK, "a read-only connection inserted a row");
	r = run(ro, "CREATE TABLE u (id INTEGER)", NULL, &err);
	ck_assert_msg(r != DRIVER_OK, "a read-only connection created a table");
	test_driver()->close(ro);
	v = test_scalar(c, "SELECT COUNT(*) FROM t");
	ck_assert_str_eq(v, "1");
	free(v);
	ck_assert_int_eq(db_table_exists("u"), 0);
	test_driver()->close(c);
}
END_TEST

START_TEST(exec_counts_changed_rows)
{
	struct driver_conn *c = test_connect();
	struct driver_error err;
	long long n = -1;

	ok(c, "CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR(20))");
	ck_assert_int_eq(run(c, "INSERT INTO t (id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')", &n, &err), DRIVER_OK);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(run(c, "UPDATE t SET v = 'x' WHERE id > 1", &n, &err), DRIVER_OK);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(run(c, "DELETE FROM t", &n, &err), DRIVER_OK);
	ck_assert_int_eq(n, 3);
	test_driver()->close(c);
}
END_TEST

START_TEST(exec_error_carries_database_message)
{
	struct driver_conn *c = test_connect();
	struct driver_error err;

	ck_assert_int_eq(run(c, "SELECT * FROM no_such_table_here", NULL, &err), DRIVER_ESQL);
	ck_assert_msg(strstr(err.message, "no_such_table_here") != NULL, "message: %s", err.message);
	ck_assert_msg(strchr(err.message, '\n') == NULL, "one line: %s", err.message);
	/* the connection is still usable after a failed statement */
	ok(c, "CREATE TABLE after_error (id INTEGER)");
	test_driver()->close(c);
}
END_TEST

START_TEST(exec_error_offset_points_into_statement)
{
	struct driver_conn *c = test_connect();
	const char *sql = "SELECT 1;\nSELECT nosuchcolumn FROM nosuchtable2";
	struct driver_error err;

	/* only PostgreSQL and SQLite say where; a driver that does not leaves -1 */
	ck_assert_int_eq(run(c, sql + 10, NULL, &err), DRIVER_ESQL);
	ck_assert_msg(err.offset >= -1 && err.offset < (long)strlen(sql + 10), "offset %ld", err.offset);
	test_driver()->close(c);
}
END_TEST

struct rows {
	int n;
	char *v[8][3];
	int nulls;
};

static int collect(void *ctx, int ncols, const char *const *values)
{
	struct rows *r = ctx;
	int i;

	if (r->n >= 8)
		return 1;
	for (i = 0; i < ncols && i < 3; i++) {
		r->v[r->n][i] = values[i] ? xstrdup(values[i]) : NULL;
		if (!values[i])
			r->nulls++;
	}
	r->n++;
	return 0;
}

static void rows_free(struct rows *r)
{
	int i, j;

	for (i = 0; i < r->n; i++)
		for (j = 0; j < 3; j++)
			free(r->v[i][j]);
}

static const char *p(int n)
{
	static char buf[8][8];

	if (test_driver()->params == DRIVER_PARAM_DOLLAR)
		snprintf(buf[n], sizeof(buf[n]), "$%d", n);
	else
		snprintf(buf[n], sizeof(buf[n]), "?");
	return buf[n];
}

START_TEST(query_binds_hostile_values_verbatim)
{
	struct driver_conn *c = test_connect();
	const char *evil = "'); DROP TABLE t; -- \"`\\";
	const char *params[2] = { evil, NULL };
	struct driver_error err;
	struct rows r;
	char sql[256];

	memset(&r, 0, sizeof(r));
	ok(c, "CREATE TABLE t (a VARCHAR(100), b VARCHAR(100))");
	snprintf(sql, sizeof(sql), "INSERT INTO t (a, b) VALUES (%s, %s)", p(1), p(2));
	ck_assert_msg(test_driver()->query(c, sql, 2, params, NULL, NULL, &err) == DRIVER_OK, "%s", err.message);
	ck_assert_msg(test_driver()->query(c, "SELECT a, b FROM t", 0, NULL, collect, &r, &err) == DRIVER_OK,
		      "%s", err.message);
	ck_assert_int_eq(r.n, 1);
	ck_assert_str_eq(r.v[0][0], evil);
	ck_assert_ptr_null(r.v[0][1]);
	ck_assert_int_eq(r.nulls, 1);
	rows_free(&r);
	test_driver()->close(c);
}
END_TEST

START_TEST(query_delivers_rows_in_order_and_can_stop)
{
	struct driver_conn *c = test_connect();
	struct driver_error err;
	struct rows r;
	int i;

	memset(&r, 0, sizeof(r));
	ok(c, "CREATE TABLE t (id INTEGER)");
	for (i = 0; i < 12; i++) {
		char sql[64];
		snprintf(sql, sizeof(sql), "INSERT INTO t (id) VALUES (%d)", i);
		ok(c, sql);
	}
	/* collect() stops after 8 rows; the driver must drain the rest quietly */
	ck_assert_int_eq(test_driver()->query(c, "SELECT id FROM t ORDER BY id", 0, NULL, collect, &r, &err),
			 DRIVER_OK);
	ck_assert_int_eq(r.n, 8);
	ck_assert_str_eq(r.v[0][0], "0");
	ck_assert_str_eq(r.v[7][0], "7");
	rows_free(&r);
	/* and the connection is in a clean state afterwards */
	ok(c, "INSERT INTO t (id) VALUES (99)");
	test_driver()->close(c);
}
END_TEST

START_TEST(table_exists_is_exact)
{
	struct driver_conn *c = test_connect();
	struct driver_error err;
	int exists = -1;

	ck_assert_int_eq(test_driver()->table_exists(c, "schema_migrations", &exists, &err), DRIVER_OK);
	ck_assert_int_eq(exists, 0);
	ok(c, "CREATE TABLE schema_migrations (id INTEGER)");
	ck_assert_int_eq(test_driver()->table_exists(c, "schema_migrations", &exists, &err), DRIVER_OK);
	ck_assert_int_eq(exists, 1);
	ck_assert_int_eq(test_driver()->table_exists(c, "schema_migration", &exists, &err), DRIVER_OK);
	ck_assert_int_eq(exists, 0);
	ck_assert_int_eq(test_driver()->table_exists(c, "x'; DROP TABLE schema_migrations; --", &exists, &err),
			 DRIVER_OK);
	ck_assert_int_eq(exists, 0);
	ck_assert_int_eq(test_driver()->table_exists(c, "schema_migrations", &exists, &err), DRIVER_OK);
	ck_assert_int_eq(exists, 1);
	test_driver()->close(c);
}
END_TEST

START_TEST(lock_excludes_a_second_connection)
{
	struct driver_conn *a = test_connect(), *b = test_connect();
	struct driver_error err;
	long long t0;

	ck_assert_int_eq(test_driver()->lock(a, "schema_migrations", 0, &err), DRIVER_OK);
	ck_assert_int_eq(test_driver()->lock(b, "schema_migrations", 0, &err), DRIVER_ELOCK);
	t0 = now_ms();
	ck_assert_int_eq(test_driver()->lock(b, "schema_migrations", 1, &err), DRIVER_ELOCK);
	ck_assert_msg(now_ms() - t0 >= 900, "waited only %lld ms", now_ms() - t0);
	ck_assert_int_eq(test_driver()->unlock(a, &err), DRIVER_OK);
	ck_assert_int_eq(test_driver()->lock(b, "schema_migrations", 0, &err), DRIVER_OK);
	test_driver()->close(a);
	test_driver()->close(b);
}
END_TEST

START_TEST(lock_is_released_by_close)
{
	struct driver_conn *a = test_connect(), *b = test_connect();
	struct driver_error err;

	ck_assert_int_eq(test_driver()->lock(a, "schema_migrations", 0, &err), DRIVER_OK);
	test_driver()->close(a);
	ck_assert_int_eq(test_driver()->lock(b, "schema_migrations", 2, &err), DRIVER_OK);
	test_driver()->close(b);
}
END_TEST

START_TEST(rollback_undoes_data_and_transactional_ddl)
{
	struct driver_conn *c = test_connect();
	const struct driver *d = test_driver();
	char *v;

	ok(c, "CREATE TABLE t (id INTEGER)");
	ok(c, d->begin_sql);
	ok(c, "INSERT INTO t (id) VALUES (1)");
	if (d->caps & DRIVER_CAP_TRANSACTIONAL_DDL)
		ok(c, "CREATE TABLE made_in_tx (id INTEGER)");
	ok(c, d->rollback_sql);
	v = test_scalar(c, "SELECT COUNT(*) FROM t");
	ck_assert_str_eq(v, "0");
	free(v);
	if (d->caps & DRIVER_CAP_TRANSACTIONAL_DDL) {
		struct driver_error err;
		int exists = 1;
		ck_assert_int_eq(d->table_exists(c, "made_in_tx", &exists, &err), DRIVER_OK);
		ck_assert_int_eq(exists, 0);
	}
	d->close(c);
}
END_TEST

START_TEST(create_and_drop_database_are_idempotent)
{
	const struct driver *d = test_driver();
	struct driver_error err;
	struct driver_conn *c;

	ck_assert(d->caps & DRIVER_CAP_CREATE_DATABASE);
	ck_assert_msg(d->create_database(test_db_settings(), &err) == DRIVER_OK, "%s", err.message);
	c = test_connect();
	ok(c, "CREATE TABLE survives (id INTEGER)");
	d->close(c);
	/* creating one that exists keeps it */
	ck_assert_msg(d->create_database(test_db_settings(), &err) == DRIVER_OK, "%s", err.message);
	ck_assert_int_eq(db_table_exists("survives"), 1);
	ck_assert_msg(d->drop_database(test_db_settings(), &err) == DRIVER_OK, "%s", err.message);
	ck_assert_msg(d->drop_database(test_db_settings(), &err) == DRIVER_OK, "%s", err.message);
	ck_assert_msg(d->create_database(test_db_settings(), &err) == DRIVER_OK, "%s", err.message);
	ck_assert_int_eq(db_table_exists("survives"), 0);
}
END_TEST

START_TEST(connect_failure_is_econnect_without_password)
{
	const struct driver *d = test_driver();
	struct driver_settings s = *test_db_settings();
	struct driver_conn *c = (struct driver_conn *)&s; /* must be reset to NULL */
	struct driver_error err;

	if (d->dialect == SQL_DIALECT_SQLITE) {
		s.database = "/nonexistent-dir-for-migrate-tests/x.db";
	} else {
		s.password = "Wrong-Pa55word-xyz";
	}
	err.message[0] = '\0';
	ck_assert_int_eq(d->connect(&s, &c, &err), DRIVER_ECONNECT);
	ck_assert_ptr_null(c);
	ck_assert_msg(err.message[0] != '\0', "no message");
	ck_assert_msg(strstr(err.message, "Wrong-Pa55word-xyz") == NULL, "password in: %s", err.message);
	if (d->dialect != SQL_DIALECT_SQLITE) {
		/* nobody listening: refused at once */
		s = *test_db_settings();
		s.port = 1;
		s.connect_timeout = 3;
		ck_assert_int_eq(d->connect(&s, &c, &err), DRIVER_ECONNECT);
	}
}
END_TEST

/*
 * A server that takes the TCP connection and never says a word (a listening
 * socket nobody accepts from): connect gives up after connect_timeout
 * rather than hanging. The test's own timeout is only the cap for a hang.
 */
START_TEST(connect_gives_up_on_a_server_that_never_answers)
{
	const struct driver *d = test_driver();
	struct driver_settings s = *test_db_settings();
	struct driver_conn *c = NULL;
	struct driver_error err;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd;

	if (d->dialect == SQL_DIALECT_SQLITE)
		return;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	s.host = "127.0.0.1";
	s.port = ntohs(sa.sin_port);
	s.connect_timeout = 1;
	ck_assert_int_eq(d->connect(&s, &c, &err), DRIVER_ECONNECT);
	ck_assert_ptr_null(c);
	ck_assert_msg(err.message[0] != '\0', "no message");
	close(fd);
}
END_TEST

Suite *driver_suite(void)
{
	Suite *s = suite_create("driver");
	TCase *tc = tcase_create("conformance");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, connect_sets_conn_driver);
	tcase_add_test(tc, exec_counts_changed_rows);
	tcase_add_test(tc, a_read_only_connection_refuses_writes);
	tcase_add_test(tc, exec_error_carries_database_message);
	tcase_add_test(tc, exec_error_offset_points_into_statement);
	tcase_add_test(tc, query_binds_hostile_values_verbatim);
	tcase_add_test(tc, query_delivers_rows_in_order_and_can_stop);
	tcase_add_test(tc, table_exists_is_exact);
	tcase_add_test(tc, lock_excludes_a_second_connection);
	tcase_add_test(tc, lock_is_released_by_close);
	tcase_add_test(tc, rollback_undoes_data_and_transactional_ddl);
	tcase_add_test(tc, create_and_drop_database_are_idempotent);
	tcase_add_test(tc, connect_failure_is_econnect_without_password);
	tcase_add_test(tc, connect_gives_up_on_a_server_that_never_answers);
	suite_add_tcase(s, tc);
	return s;
}
