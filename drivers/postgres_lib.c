/*
 * postgres_lib.c - libpq, loaded when the postgres driver first connects
 * (see dynlib.h): one trampoline per libpq function the driver calls.
 */
#include <libpq-fe.h>
#include <stddef.h>

#include "dynlib.h"

#ifndef PGDRV_LIBPQ
#define PGDRV_LIBPQ "libpq.so.5"
#endif

struct dynlib pgdrv_libpq = { "libpq", PGDRV_LIBPQ, NULL };

#define PQ_FN(ret, name, params, args) DYNLIB_FN(pgdrv_libpq, ret, name, params, args)
#define PQ_VOID(name, params, args) DYNLIB_VOID(pgdrv_libpq, name, params, args)

/* connections */
PQ_FN(PGconn *, PQconnectdbParams, (const char *const *k, const char *const *v, int x), (k, v, x))
PQ_VOID(PQfinish, (PGconn *c), (c))
PQ_FN(ConnStatusType, PQstatus, (const PGconn *c), (c))
PQ_FN(PGTransactionStatusType, PQtransactionStatus, (const PGconn *c), (c))
PQ_FN(const char *, PQparameterStatus, (const PGconn *c, const char *p), (c, p))
PQ_FN(int, PQserverVersion, (const PGconn *c), (c))
PQ_FN(char *, PQerrorMessage, (const PGconn *c), (c))
PQ_FN(int, PQsetClientEncoding, (PGconn *c, const char *e), (c, e))
PQ_FN(PGcancel *, PQgetCancel, (PGconn *c), (c))
PQ_VOID(PQfreeCancel, (PGcancel *c), (c))
PQ_FN(int, PQcancel, (PGcancel *c, char *b, int n), (c, b, n))
PQ_FN(PQnoticeProcessor, PQsetNoticeProcessor, (PGconn *c, PQnoticeProcessor p, void *a), (c, p, a))

/* queries */
PQ_FN(PGresult *, PQexec, (PGconn *c, const char *q), (c, q))
PQ_FN(PGresult *, PQexecParams,
      (PGconn *c, const char *q, int n, const Oid *t, const char *const *v, const int *l,
       const int *f, int rf),
      (c, q, n, t, v, l, f, rf))
PQ_FN(int, PQsendQuery, (PGconn *c, const char *q), (c, q))
PQ_FN(int, PQsendQueryParams,
      (PGconn *c, const char *q, int n, const Oid *t, const char *const *v, const int *l,
       const int *f, int rf),
      (c, q, n, t, v, l, f, rf))
PQ_FN(int, PQsetSingleRowMode, (PGconn *c), (c))
PQ_FN(PGresult *, PQgetResult, (PGconn *c), (c))
PQ_FN(int, PQflush, (PGconn *c), (c))
PQ_FN(int, PQisBusy, (PGconn *c), (c))
PQ_FN(int, PQconsumeInput, (PGconn *c), (c))
PQ_FN(int, PQsocket, (const PGconn *c), (c))
PQ_FN(int, PQbackendPID, (const PGconn *c), (c))
#ifdef LIBPQ_HAS_PIPELINING
PQ_FN(int, PQenterPipelineMode, (PGconn *c), (c))
PQ_FN(int, PQexitPipelineMode, (PGconn *c), (c))
PQ_FN(int, PQpipelineSync, (PGconn *c), (c))
#endif

/* COPY */
PQ_FN(int, PQputCopyData, (PGconn *c, const char *b, int n), (c, b, n))
PQ_FN(int, PQputCopyEnd, (PGconn *c, const char *e), (c, e))
PQ_FN(int, PQgetCopyData, (PGconn *c, char **b, int a), (c, b, a))

/* results */
PQ_FN(ExecStatusType, PQresultStatus, (const PGresult *r), (r))
PQ_FN(char *, PQresultErrorMessage, (const PGresult *r), (r))
PQ_FN(char *, PQresultErrorField, (const PGresult *r, int f), (r, f))
PQ_FN(int, PQntuples, (const PGresult *r), (r))
PQ_FN(int, PQnfields, (const PGresult *r), (r))
PQ_FN(char *, PQfname, (const PGresult *r, int f), (r, f))
PQ_FN(char *, PQgetvalue, (const PGresult *r, int t, int f), (r, t, f))
PQ_FN(int, PQgetlength, (const PGresult *r, int t, int f), (r, t, f))
PQ_FN(int, PQgetisnull, (const PGresult *r, int t, int f), (r, t, f))
PQ_FN(char *, PQcmdStatus, (PGresult *r), (r))
PQ_FN(char *, PQcmdTuples, (PGresult *r), (r))
PQ_VOID(PQclear, (PGresult *r), (r))

/* strings */
PQ_FN(char *, PQescapeIdentifier, (PGconn *c, const char *s, size_t n), (c, s, n))
PQ_FN(char *, PQescapeLiteral, (PGconn *c, const char *s, size_t n), (c, s, n))
PQ_VOID(PQfreemem, (void *p), (p))
