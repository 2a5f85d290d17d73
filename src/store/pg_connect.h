/*
 * pg_connect.h — reaching PostgreSQL and wording what it says (private to src/store/): the
 * connection settings taken from the config, one connection made with them, a failed
 * statement's message as one masked line, and which failures mean "connection lost" or "try
 * again later". Shared by the pool (store_pg.c) and the schema commands (pg_schema.c).
 */
#ifndef PG_CONNECT_H
#define PG_CONNECT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

struct config;

/* Where and as whom to connect: private copies of the config's strings. */
struct pg_target {
    char *host, *user, *password, *dbname, *sslmode, *sslrootcert;
    int port, connect_timeout, statement_timeout;
};

/* The keyword/value arrays for PQconnectdbParams; values point into a pg_target. */
#define PG_MAX_PARAMS 20
struct pg_params {
    const char *keys[PG_MAX_PARAMS + 1];
    const char *values[PG_MAX_PARAMS + 1];
    int n;
    char port[12], connect_timeout[12], options[64];
};

/* Copies cfg's Db* settings into t; pg_target_release wipes the password and frees them. */
void pg_target_init(struct pg_target *t, const struct config *cfg);
void pg_target_release(struct pg_target *t);

/* Fills p for connecting to database dbname as t says, with options the server-side session
 * settings ("-c statement_timeout=5000"), and the keepalives every connection gets. */
void pg_params_init(struct pg_params *p, const struct pg_target *t, const char *dbname,
                    const char *options);

/* Opens one connection; on failure returns NULL with "cannot connect to PostgreSQL at ...: ..."
 * in err and, if asked is not NULL, whether the server had asked for the password (the failure
 * came at or after authentication, not from the network). Notices go to the debug log. */
PGconn *pg_connect(const struct pg_target *t, const struct pg_params *p, bool *asked, char *err,
                   size_t errlen);

/* msg as one line in dst: white space runs become one space and secret (when 3 bytes or
 * longer) becomes "********"; "unknown error" when msg is NULL or empty. */
void pg_one_line(char *dst, size_t dstlen, const char *msg, const char *secret);

/* One masked line for a failed statement: the server's primary message, or libpq's own
 * (res may be NULL). */
void pg_result_message(char *dst, size_t dstlen, PGconn *pg, const PGresult *res,
                       const char *secret);

/* Whether a failed statement means the connection is gone (libpq's own errors, class 08, the
 * server shutting the session down). */
bool pg_failure_is_lost(PGconn *pg, const PGresult *res);

/* Whether a failure is worth a 503 rather than a 500: statement or lock timeout, lack of
 * resources, serialization failure, deadlock. */
bool pg_failure_is_transient(const PGresult *res);

#endif
