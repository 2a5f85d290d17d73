/*
 * pq_load.c — opens libpq on first use and forwards the PQ* functions the code calls to it
 * (contract in pq_load.h; why, ADR 0025).
 *
 * One table, PQ_FUNCTIONS, lists each function as (return type, name, parameters, arguments);
 * it expands into the function pointers, the dlsym calls that fill them, and forwards with
 * libpq's own prototypes, so the compiler checks every line against <libpq-fe.h>. The forwards are
 * not exported (the binary is not linked with -rdynamic), so libpq's calls to its own functions
 * stay inside libpq.
 */
#include "store/pq_load.h"

#include <dlfcn.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* clang-format off */
#define PQ_FUNCTIONS(X, V)                                                                          \
    /* connections */                                                                               \
    X(PGconn *, PQconnectdbParams,                                                                  \
      (const char *const *keywords, const char *const *values, int expand_dbname),                  \
      (keywords, values, expand_dbname))                                                            \
    X(PGconn *, PQconnectStartParams,                                                               \
      (const char *const *keywords, const char *const *values, int expand_dbname),                  \
      (keywords, values, expand_dbname))                                                            \
    X(PGconn *, PQconnectStart, (const char *conninfo), (conninfo))                                 \
    X(PostgresPollingStatusType, PQconnectPoll, (PGconn *conn), (conn))                             \
    X(int, PQresetStart, (PGconn *conn), (conn))                                                    \
    X(PostgresPollingStatusType, PQresetPoll, (PGconn *conn), (conn))                               \
    V(PQfinish, (PGconn *conn), (conn))                                                             \
    X(ConnStatusType, PQstatus, (const PGconn *conn), (conn))                                       \
    X(PGTransactionStatusType, PQtransactionStatus, (const PGconn *conn), (conn))                   \
    X(char *, PQerrorMessage, (const PGconn *conn), (conn))                                         \
    X(int, PQconnectionUsedPassword, (const PGconn *conn), (conn))                                  \
    X(int, PQsocket, (const PGconn *conn), (conn))                                                  \
    X(PQnoticeProcessor, PQsetNoticeProcessor,                                                      \
      (PGconn *conn, PQnoticeProcessor proc, void *arg), (conn, proc, arg))                         \
    X(PGnotify *, PQnotifies, (PGconn *conn), (conn))                                               \
    X(char *, PQescapeIdentifier, (PGconn *conn, const char *str, size_t len), (conn, str, len))    \
    V(PQfreemem, (void *ptr), (ptr))                                                                \
    /* blocking queries */                                                                          \
    X(PGresult *, PQexec, (PGconn *conn, const char *query), (conn, query))                         \
    X(PGresult *, PQexecParams,                                                                     \
      (PGconn *conn, const char *command, int nParams, const Oid *paramTypes,                       \
       const char *const *paramValues, const int *paramLengths, const int *paramFormats,            \
       int resultFormat),                                                                           \
      (conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats, resultFormat))  \
    X(PGresult *, PQexecPrepared,                                                                   \
      (PGconn *conn, const char *stmtName, int nParams, const char *const *paramValues,             \
       const int *paramLengths, const int *paramFormats, int resultFormat),                         \
      (conn, stmtName, nParams, paramValues, paramLengths, paramFormats, resultFormat))             \
    /* asynchronous queries and pipeline mode */                                                    \
    X(int, PQsendPrepare,                                                                           \
      (PGconn *conn, const char *stmtName, const char *query, int nParams,                          \
       const Oid *paramTypes),                                                                      \
      (conn, stmtName, query, nParams, paramTypes))                                                 \
    X(int, PQsendQueryParams,                                                                       \
      (PGconn *conn, const char *command, int nParams, const Oid *paramTypes,                       \
       const char *const *paramValues, const int *paramLengths, const int *paramFormats,            \
       int resultFormat),                                                                           \
      (conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats, resultFormat))  \
    X(int, PQsendQueryPrepared,                                                                     \
      (PGconn *conn, const char *stmtName, int nParams, const char *const *paramValues,             \
       const int *paramLengths, const int *paramFormats, int resultFormat),                         \
      (conn, stmtName, nParams, paramValues, paramLengths, paramFormats, resultFormat))             \
    X(PGresult *, PQgetResult, (PGconn *conn), (conn))                                              \
    X(int, PQisBusy, (PGconn *conn), (conn))                                                        \
    X(int, PQconsumeInput, (PGconn *conn), (conn))                                                  \
    X(int, PQsetnonblocking, (PGconn *conn, int arg), (conn, arg))                                  \
    X(int, PQisnonblocking, (const PGconn *conn), (conn))                                           \
    X(int, PQflush, (PGconn *conn), (conn))                                                         \
    X(int, PQsetSingleRowMode, (PGconn *conn), (conn))                                              \
    X(int, PQenterPipelineMode, (PGconn *conn), (conn))                                             \
    X(int, PQexitPipelineMode, (PGconn *conn), (conn))                                              \
    X(int, PQpipelineSync, (PGconn *conn), (conn))                                                  \
    X(int, PQsendFlushRequest, (PGconn *conn), (conn))                                              \
    X(PGpipelineStatus, PQpipelineStatus, (const PGconn *conn), (conn))                             \
    /* results */                                                                                   \
    X(ExecStatusType, PQresultStatus, (const PGresult *res), (res))                                 \
    X(char *, PQresultErrorMessage, (const PGresult *res), (res))                                   \
    X(char *, PQresultErrorField, (const PGresult *res, int fieldcode), (res, fieldcode))           \
    X(int, PQntuples, (const PGresult *res), (res))                                                 \
    X(int, PQnfields, (const PGresult *res), (res))                                                 \
    X(char *, PQgetvalue, (const PGresult *res, int tup_num, int field_num),                        \
      (res, tup_num, field_num))                                                                    \
    X(int, PQgetlength, (const PGresult *res, int tup_num, int field_num),                          \
      (res, tup_num, field_num))                                                                    \
    X(int, PQgetisnull, (const PGresult *res, int tup_num, int field_num),                          \
      (res, tup_num, field_num))                                                                    \
    X(char *, PQcmdTuples, (PGresult *res), (res))                                                  \
    X(PGresult *, PQmakeEmptyPGresult, (PGconn *conn, ExecStatusType status), (conn, status))       \
    V(PQclear, (PGresult *res), (res))
/* clang-format on */

#define POINTER(type, name, params, args) type(*name) params;
#define POINTER_VOID(name, params, args)  void(*name) params;
static struct pq_table {
    PQ_FUNCTIONS(POINTER, POINTER_VOID)
} fn;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static atomic_bool loaded;
static char load_error[512];

/* Stores name's address in the function pointer at slot (POSIX: a dlsym result converts). */
static bool resolve(void *lib, const char *name, void *slot)
{
    void *sym = dlsym(lib, name);
    if (sym)
        memcpy(slot, &sym, sizeof sym);
    return sym != NULL;
}

#define RESOLVE(type, name, params, args) &&resolve(lib, #name, &fn.name)
#define RESOLVE_VOID(name, params, args)  &&resolve(lib, #name, &fn.name)
static void load(void)
{
    /* RTLD_LOCAL: libpq's own dependencies (OpenSSL, Kerberos) do not join the global scope. */
    void *lib = dlopen(PQ_LOAD_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (!lib || !(true PQ_FUNCTIONS(RESOLVE, RESOLVE_VOID))) {
        snprintf(load_error, sizeof load_error, "cannot load '%s': %s", PQ_LOAD_LIBRARY, dlerror());
        if (lib)
            dlclose(lib);
        return;
    }
    atomic_store_explicit(&loaded, true, memory_order_release); /* stays open until exit */
}

int pq_load(char *err, size_t errlen)
{
    pthread_once(&once, load);
    if (atomic_load_explicit(&loaded, memory_order_acquire))
        return 0;
    snprintf(err, errlen, "%s", load_error);
    return -1;
}

/* The table for a forward: loaded already, or now; a caller that skipped pq_load and hits a
 * missing library has no error path, so this ends the process with the reason. */
static const struct pq_table *table(void)
{
    if (!atomic_load_explicit(&loaded, memory_order_acquire)) {
        char err[sizeof load_error];
        if (pq_load(err, sizeof err) != 0) {
            fprintf(stderr, "TechChallengeApp: %s\n", err);
            abort();
        }
    }
    return &fn;
}

#define FORWARD(type, name, params, args)                                                          \
    type name params                                                                               \
    {                                                                                              \
        return table()->name args;                                                                 \
    }
#define FORWARD_VOID(name, params, args)                                                           \
    void name params                                                                               \
    {                                                                                              \
        table()->name args;                                                                        \
    }
PQ_FUNCTIONS(FORWARD, FORWARD_VOID)
