/*
 * mysql_lib.c - the MySQL client library (MariaDB Connector/C), loaded when
 * the mysql driver first connects (see dynlib.h): one trampoline per
 * library function the driver calls.
 */
#include <mysql.h>

#include "dynlib.h"

#ifndef MYDRV_LIBMYSQL
#define MYDRV_LIBMYSQL "libmariadb.so.3"
#endif

struct dynlib mydrv_libmysql = { "the MySQL client library", MYDRV_LIBMYSQL, NULL };

#define MY_FN(ret, name, params, args) DYNLIB_FN(mydrv_libmysql, ret, name, params, args)
#define MY_VOID(name, params, args) DYNLIB_VOID(mydrv_libmysql, name, params, args)

/* the library and connections (mysql_library_init/end are macros for these) */
MY_FN(int, mysql_server_init, (int argc, char **argv, char **groups), (argc, argv, groups))
MY_VOID(mysql_server_end, (void), ())
MY_FN(MYSQL *, mysql_init, (MYSQL *m), (m))
MY_FN(int, mysql_options, (MYSQL *m, enum mysql_option o, const void *a), (m, o, a))
MY_FN(int, mysql_options4, (MYSQL *m, enum mysql_option o, const void *a, const void *b), (m, o, a, b))
MY_FN(MYSQL *, mysql_real_connect,
      (MYSQL *m, const char *host, const char *user, const char *passwd, const char *db,
       unsigned int port, const char *sock, unsigned long flags),
      (m, host, user, passwd, db, port, sock, flags))
MY_VOID(mysql_close, (MYSQL *m), (m))
MY_FN(const char *, mysql_get_ssl_cipher, (MYSQL *m), (m))
MY_FN(unsigned long, mysql_get_server_version, (MYSQL *m), (m))
MY_FN(char *, mysql_get_server_info, (MYSQL *m), (m))
MY_FN(unsigned int, mysql_errno, (MYSQL *m), (m))
MY_FN(unsigned long, mysql_thread_id, (MYSQL *m), (m))
MY_FN(int, mysql_select_db, (MYSQL *m, const char *db), (m, db))
MY_FN(const char *, mysql_error, (MYSQL *m), (m))
MY_FN(const char *, mysql_sqlstate, (MYSQL *m), (m))
MY_FN(const char *, mysql_info, (MYSQL *m), (m))
MY_FN(unsigned int, mysql_warning_count, (MYSQL *m), (m))
MY_FN(unsigned long, mysql_real_escape_string, (MYSQL *m, char *to, const char *from, unsigned long n),
      (m, to, from, n))
MY_VOID(mysql_set_local_infile_handler,
	(MYSQL *m, int (*init)(void **, const char *, void *), int (*rd)(void *, char *, unsigned int),
	 void (*end)(void *), int (*error)(void *, char *, unsigned int), void *data),
	(m, init, rd, end, error, data))
MY_VOID(mysql_set_local_infile_default, (MYSQL *m), (m))

/* text queries and their results */
MY_FN(int, mysql_query, (MYSQL *m, const char *q), (m, q))
MY_FN(int, mysql_real_query, (MYSQL *m, const char *q, unsigned long n), (m, q, n))
MY_FN(MYSQL_RES *, mysql_store_result, (MYSQL *m), (m))
MY_FN(MYSQL_RES *, mysql_use_result, (MYSQL *m), (m))
MY_FN(int, mysql_next_result, (MYSQL *m), (m))
MY_FN(my_bool, mysql_more_results, (MYSQL *m), (m))
MY_FN(unsigned int, mysql_field_count, (MYSQL *m), (m))
MY_FN(my_ulonglong, mysql_affected_rows, (MYSQL *m), (m))
MY_FN(my_ulonglong, mysql_insert_id, (MYSQL *m), (m))
MY_FN(unsigned int, mysql_num_fields, (MYSQL_RES *r), (r))
MY_FN(my_ulonglong, mysql_num_rows, (MYSQL_RES *r), (r))
MY_FN(MYSQL_ROW, mysql_fetch_row, (MYSQL_RES *r), (r))
MY_FN(unsigned long *, mysql_fetch_lengths, (MYSQL_RES *r), (r))
MY_VOID(mysql_free_result, (MYSQL_RES *r), (r))

/* prepared statements */
MY_FN(MYSQL_STMT *, mysql_stmt_init, (MYSQL *m), (m))
MY_FN(int, mysql_stmt_prepare, (MYSQL_STMT *s, const char *q, unsigned long n), (s, q, n))
MY_FN(unsigned long, mysql_stmt_param_count, (MYSQL_STMT *s), (s))
MY_FN(my_bool, mysql_stmt_attr_set, (MYSQL_STMT *s, enum enum_stmt_attr_type t, const void *a), (s, t, a))
MY_FN(my_bool, mysql_stmt_bind_param, (MYSQL_STMT *s, MYSQL_BIND *b), (s, b))
MY_FN(my_bool, mysql_stmt_bind_result, (MYSQL_STMT *s, MYSQL_BIND *b), (s, b))
MY_FN(my_bool, mysql_stmt_send_long_data, (MYSQL_STMT *s, unsigned int p, const char *d, unsigned long n),
      (s, p, d, n))
MY_FN(int, mysql_stmt_execute, (MYSQL_STMT *s), (s))
MY_FN(int, mysql_stmt_store_result, (MYSQL_STMT *s), (s))
MY_FN(int, mysql_stmt_fetch, (MYSQL_STMT *s), (s))
MY_FN(int, mysql_stmt_fetch_column, (MYSQL_STMT *s, MYSQL_BIND *b, unsigned int c, unsigned long o),
      (s, b, c, o))
MY_FN(unsigned int, mysql_stmt_field_count, (MYSQL_STMT *s), (s))
MY_FN(unsigned long long, mysql_stmt_affected_rows, (MYSQL_STMT *s), (s))
MY_FN(int, mysql_stmt_next_result, (MYSQL_STMT *s), (s))
MY_FN(my_bool, mysql_stmt_reset, (MYSQL_STMT *s), (s))
MY_FN(my_bool, mysql_stmt_free_result, (MYSQL_STMT *s), (s))
MY_FN(my_bool, mysql_stmt_close, (MYSQL_STMT *s), (s))
MY_FN(unsigned int, mysql_stmt_errno, (MYSQL_STMT *s), (s))
MY_FN(const char *, mysql_stmt_error, (MYSQL_STMT *s), (s))
