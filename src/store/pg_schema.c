/*
 * pg_schema.c — `updatedb` and `migrate` on PostgreSQL (pg_schema.h): the Go original's table,
 * its index, and the three seeded tasks, each command on a connection of its own.
 */
#include "store/pg_schema.h"

#include <libpq-fe.h>
#include <string.h>

#include "store/pg_connect.h"
#include "store/store_backend.h"
#include "util/array.h"
#include "util/buf.h"
#include "util/errbuf.h"

/* The Go original's table, column for column, so its databases keep working. */
#define TASKS_COLUMNS                                                                              \
    "(id SERIAL PRIMARY KEY, completed boolean NOT NULL, priority integer NOT NULL, "              \
    "title text NOT NULL)"
#define TASKS_INDEX     "tasks_priority_id_idx"
#define TASKS_INDEX_SQL "CREATE INDEX IF NOT EXISTS " TASKS_INDEX " ON tasks (priority, id)"

/* A connection for a schema command: no statement timeout (an index build may be long), but
 * waiting for a lock is bounded by DbStatementTimeout. */
static enum store_status schema_connect(const struct pg_target *t, const char *dbname, PGconn **out,
                                        char *err, size_t errlen)
{
    struct pg_params p;
    char options[64];
    snprintf(options, sizeof options, "-c lock_timeout=%d", t->statement_timeout);
    pg_params_init(&p, t, dbname, options);
    *out = pg_connect(t, &p, NULL, err, errlen);
    return *out ? STORE_OK : STORE_UNAVAILABLE;
}

/* The status and message for a failed schema statement: "cannot <what>: <cause>". */
static enum store_status schema_failed(PGconn *pg, PGresult *res, const struct pg_target *t,
                                       const char *what, char *err, size_t errlen)
{
    char msg[STORE_ERRMSG_MAX];
    bool lost = pg_failure_is_lost(pg, res);
    pg_result_message(msg, sizeof msg, pg, res, t->password);
    errbuf_set(err, errlen, "cannot %s: %s", what, msg);
    PQclear(res);
    return lost ? STORE_UNAVAILABLE : STORE_ERROR;
}

static enum store_status schema_exec(PGconn *pg, const struct pg_target *t, const char *sql,
                                     const char *what, char *err, size_t errlen)
{
    PGresult *res = PQexec(pg, sql);
    ExecStatusType rs = PQresultStatus(res);
    if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK)
        return schema_failed(pg, res, t, what, err, errlen);
    PQclear(res);
    return STORE_OK;
}

/* Whether a relation named name exists (on the search path); -1 with err set on failure. */
static int schema_exists(PGconn *pg, const struct pg_target *t, const char *name, char *err,
                         size_t errlen)
{
    const char *values[1] = {name};
    PGresult *res =
        PQexecParams(pg, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, values, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        schema_failed(pg, res, t, "look up the schema", err, errlen);
        return -1;
    }
    int exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return exists;
}

/*
 * Drops and recreates database t->dbname, connected to the maintenance database "postgres"
 * (or "template1" when the database to recreate is "postgres" itself). The name is quoted with
 * PQescapeIdentifier. The new database is UTF8 from template0 with the server's default locale,
 * so no particular locale (such as the original's en_US.utf8) has to be installed; if that
 * locale cannot hold UTF8, the C locale is used.
 */
static enum store_status recreate_database(const struct pg_target *t, char *err, size_t errlen)
{
    const char *maintenance = strcmp(t->dbname, "postgres") == 0 ? "template1" : "postgres";
    char what[STORE_ERRMSG_MAX];
    PGconn *pg;
    enum store_status st = schema_connect(t, maintenance, &pg, err, errlen);
    if (st != STORE_OK)
        return st;

    struct buf sql = BUF_INIT;
    char *ident = PQescapeIdentifier(pg, t->dbname, strlen(t->dbname));
    if (!ident) {
        char msg[STORE_ERRMSG_MAX];
        pg_one_line(msg, sizeof msg, PQerrorMessage(pg), t->password);
        errbuf_set(err, errlen, "cannot quote database name '%s': %s", t->dbname, msg);
        st = STORE_ERROR;
        goto out;
    }
    buf_printf(&sql, "DROP DATABASE IF EXISTS %s", ident);
    errbuf_set(what, sizeof what, "drop database '%s'", t->dbname);
    st = schema_exec(pg, t, sql.data, what, err, errlen);
    if (st != STORE_OK)
        goto out;

    buf_reset(&sql);
    buf_printf(&sql, "CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8'", ident);
    errbuf_set(what, sizeof what, "create database '%s'", t->dbname);
    PGresult *res = PQexec(pg, sql.data);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && state && strcmp(state, "22023") == 0) {
        /* "encoding UTF8 does not match locale": the server's locale is not a UTF-8 one. */
        PQclear(res);
        buf_puts(&sql, " LC_COLLATE 'C' LC_CTYPE 'C'");
        res = PQexec(pg, sql.data);
    }
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        st = schema_failed(pg, res, t, what, err, errlen);
        goto out;
    }
    PQclear(res);
out:
    PQfreemem(ident);
    buf_release(&sql);
    PQfinish(pg);
    return st;
}

enum store_status pg_updatedb(const struct config *cfg, bool skip_create_db, FILE *out, char *err,
                              size_t errlen)
{
    struct pg_target t;
    PGconn *pg = NULL;
    enum store_status st;

    pg_target_init(&t, cfg);
    if (!skip_create_db) {
        fprintf(out, "Dropping and recreating database: %s\n", t.dbname);
        fflush(out);
        st = recreate_database(&t, err, errlen);
        if (st != STORE_OK)
            goto out;
    }

    st = schema_connect(&t, t.dbname, &pg, err, errlen);
    if (st != STORE_OK)
        goto out;
    fprintf(out, "Dropping and recreating table: tasks\n");
    fflush(out);
    /* One transaction: a failed `updatedb -s` leaves the old table as it was. */
    st = schema_exec(pg, &t,
                     "BEGIN; DROP TABLE IF EXISTS tasks; CREATE TABLE tasks " TASKS_COLUMNS
                     "; " TASKS_INDEX_SQL,
                     "recreate table 'tasks'", err, errlen);
    if (st != STORE_OK)
        goto out;

    fprintf(out, "Seeding table with data\n");
    fflush(out);
    for (size_t i = 0; i < ARRAY_SIZE(store_seed_titles); i++) {
        const char *values[1] = {store_seed_titles[i]};
        PGresult *res =
            PQexecParams(pg, "INSERT INTO tasks (completed, priority, title) VALUES (false, 0, $1)",
                         1, NULL, values, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            st = schema_failed(pg, res, &t, "seed table 'tasks'", err, errlen);
            goto out;
        }
        PQclear(res);
    }
    st = schema_exec(pg, &t, "COMMIT", "commit table 'tasks'", err, errlen);
out:
    PQfinish(pg);
    pg_target_release(&t);
    return st;
}

/* Any number of instances may run `migrate` at once (one-off tasks at deploy time): a
 * transaction-level advisory lock makes them take turns. The key spells "TCAm". */
#define MIGRATE_LOCK_SQL "SELECT pg_advisory_xact_lock(1413693805)"

enum store_status pg_migrate(const struct config *cfg, FILE *out, char *err, size_t errlen)
{
    struct pg_target t;
    PGconn *pg = NULL;
    enum store_status st;
    int exists;

    pg_target_init(&t, cfg);
    st = schema_connect(&t, t.dbname, &pg, err, errlen);
    if (st != STORE_OK)
        goto out;
    st = schema_exec(pg, &t, "BEGIN; " MIGRATE_LOCK_SQL, "lock the schema for migration", err,
                     errlen);
    if (st != STORE_OK)
        goto out;

    st = STORE_ERROR;
    if ((exists = schema_exists(pg, &t, "tasks", err, errlen)) < 0)
        goto out;
    if (exists) {
        fprintf(out, "Table tasks exists: checking its columns\n");
        if ((st = schema_exec(pg, &t, "SELECT id, completed, priority, title FROM tasks LIMIT 0",
                              "use existing table 'tasks'", err, errlen)) != STORE_OK)
            goto out;
    } else {
        fprintf(out, "Creating table: tasks\n");
        if ((st = schema_exec(pg, &t, "CREATE TABLE IF NOT EXISTS tasks " TASKS_COLUMNS,
                              "create table 'tasks'", err, errlen)) != STORE_OK)
            goto out;
    }

    st = STORE_ERROR;
    if ((exists = schema_exists(pg, &t, TASKS_INDEX, err, errlen)) < 0)
        goto out;
    fprintf(out, exists ? "Index %s exists\n" : "Creating index: %s on tasks (priority, id)\n",
            TASKS_INDEX);
    if ((st = schema_exec(pg, &t, TASKS_INDEX_SQL, "create index '" TASKS_INDEX "'", err,
                          errlen)) != STORE_OK)
        goto out;
    st = schema_exec(pg, &t, "COMMIT", "commit the migration", err, errlen);
    if (st == STORE_OK)
        fprintf(out, "Migration complete\n");
out:
    fflush(out);
    PQfinish(pg);
    pg_target_release(&t);
    return st;
}