/*
 * pg_connect.c — connection settings, connecting, and PostgreSQL's messages and failure classes
 * (pg_connect.h).
 *
 * Settings go to libpq as keyword/value arrays (never a conninfo string built from config
 * values), and every message that leaves here is one line with the password masked.
 */
#include "store/pg_connect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "log.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/errbuf.h"
#include "util/xalloc.h"

/* ---- messages ---- */

/*
 * Copies a libpq message into dst as one line: white space runs (libpq's messages end in a
 * newline and indent their hints) become one space, and the password, should it ever appear,
 * becomes "********". Passwords shorter than 3 bytes are not masked: they would mask letters.
 */
void pg_one_line(char *dst, size_t dstlen, const char *msg, const char *secret)
{
    struct buf b = BUF_INIT;
    size_t slen = secret ? strlen(secret) : 0;
    bool space = false;

    for (const char *p = msg ? msg : ""; *p;) {
        if (slen >= 3 && strncmp(p, secret, slen) == 0) {
            if (space)
                buf_putc(&b, ' ');
            space = false;
            buf_puts(&b, "********");
            p += slen;
        } else if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            space = b.len > 0;
            p++;
        } else {
            if (space)
                buf_putc(&b, ' ');
            space = false;
            buf_putc(&b, *p++);
        }
    }
    errbuf_set(dst, dstlen, "%s", b.len ? b.data : "unknown error");
    buf_release(&b);
}

/* One line for a failed statement: the server's primary message, or libpq's own message when
 * the failure happened on our side of the wire (there is no SQLSTATE then). */
void pg_result_message(char *dst, size_t dstlen, PGconn *pg, const PGresult *res,
                       const char *secret)
{
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg || !*msg)
        msg = res ? PQresultErrorMessage(res) : NULL;
    if (!msg || !*msg)
        msg = PQerrorMessage(pg);
    pg_one_line(dst, dstlen, msg, secret);
}

static void connect_message(char *dst, size_t dstlen, const struct pg_target *t, PGconn *pg)
{
    char msg[STORE_ERRMSG_MAX];
    pg_one_line(msg, sizeof msg, PQerrorMessage(pg), t->password);
    errbuf_set(dst, dstlen, "cannot connect to PostgreSQL at %s:%d: %s",
               *t->host ? t->host : "local", t->port, msg);
}

/* Server notices (e.g. "relation already exists, skipping", or the FATAL an idle connection
 * receives when the server shuts down) go to the debug log, not to libpq's default stderr. */
static void on_notice(void *arg, const char *message)
{
    char line[STORE_ERRMSG_MAX];
    (void)arg;
    if (!log_enabled(LOG_DEBUG))
        return;
    pg_one_line(line, sizeof line, message, NULL);
    log_debug("PostgreSQL notice: %s", line);
}

/* ---- connection settings ---- */

void pg_target_init(struct pg_target *t, const struct config *cfg)
{
    t->host = xstrdup(cfg->db_host ? cfg->db_host : "");
    t->user = xstrdup(cfg->db_user ? cfg->db_user : "");
    t->password = xstrdup(cfg->db_password ? cfg->db_password : "");
    t->dbname = xstrdup(cfg->db_name ? cfg->db_name : "");
    t->sslmode = xstrdup(cfg->db_sslmode ? cfg->db_sslmode : "");
    t->sslrootcert = xstrdup(cfg->db_sslrootcert ? cfg->db_sslrootcert : "");
    t->port = cfg->db_port;
    t->connect_timeout = cfg->db_connect_timeout;
    t->statement_timeout = cfg->db_statement_timeout;
}

void pg_target_release(struct pg_target *t)
{
    explicit_bzero(t->password, strlen(t->password));
    free(t->host);
    free(t->user);
    free(t->password);
    free(t->dbname);
    free(t->sslmode);
    free(t->sslrootcert);
}

static void params_add(struct pg_params *p, const char *key, const char *value)
{
    if (!value || !*value)
        return; /* libpq's default (or PG* environment variable) applies */
    p->keys[p->n] = key;
    p->values[p->n] = value;
    p->n++;
    p->keys[p->n] = NULL;
    p->values[p->n] = NULL;
}

/*
 * Fills p for connecting to database dbname. options is the server-side session settings
 * ("-c statement_timeout=5000"). Keepalives and tcp_user_timeout make a silently dead network
 * (a failed-over RDS instance, a dropped route) an error within seconds instead of the kernel's
 * default two hours.
 */
void pg_params_init(struct pg_params *p, const struct pg_target *t, const char *dbname,
                    const char *options)
{
    p->n = 0;
    p->keys[0] = NULL;
    p->values[0] = NULL;
    snprintf(p->port, sizeof p->port, "%d", t->port);
    snprintf(p->connect_timeout, sizeof p->connect_timeout, "%d", t->connect_timeout);
    snprintf(p->options, sizeof p->options, "%s", options);
    params_add(p, "host", t->host);
    params_add(p, "port", p->port);
    params_add(p, "user", t->user);
    params_add(p, "password", t->password);
    params_add(p, "dbname", dbname);
    params_add(p, "sslmode", t->sslmode);
    params_add(p, "sslrootcert", t->sslrootcert);
    params_add(p, "connect_timeout", p->connect_timeout);
    params_add(p, "gssencmode", "disable");
    params_add(p, "keepalives", "1");
    params_add(p, "keepalives_idle", "10");
    params_add(p, "keepalives_interval", "5");
    params_add(p, "keepalives_count", "3");
    params_add(p, "tcp_user_timeout", "10000");
    params_add(p, "application_name", "TechChallengeApp");
    params_add(p, "options", p->options);
}

/* Opens one connection; on failure returns NULL with the message in err and, if asked is not
 * NULL, whether the server had asked for the password (the failure came at or after
 * authentication, not from the network). */
PGconn *pg_connect(const struct pg_target *t, const struct pg_params *p, bool *asked, char *err,
                   size_t errlen)
{
    /* expand_dbname = 0: a DbName is a name, never a connection string. */
    PGconn *pg = PQconnectdbParams(p->keys, p->values, 0);
    if (asked)
        *asked = false;
    if (PQstatus(pg) != CONNECTION_OK) {
        connect_message(err, errlen, t, pg);
        if (asked)
            *asked = PQconnectionUsedPassword(pg) != 0;
        PQfinish(pg);
        return NULL;
    }
    PQsetNoticeProcessor(pg, on_notice, NULL);
    return pg;
}

/* ---- failures ---- */

/* Whether a failed statement means the connection is gone: libpq's own errors (no SQLSTATE),
 * class 08 (connection exception) and the server shutting the session down. */
bool pg_failure_is_lost(PGconn *pg, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (PQstatus(pg) != CONNECTION_OK || !state)
        return true;
    return strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
           strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0;
}

/* Failures worth a 503 (try again later) rather than a 500: the statement timeout (57014),
 * lock timeouts, lack of resources (class 53), serialization failures and deadlocks. */
bool pg_failure_is_transient(const PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (!state)
        return false;
    return strcmp(state, "57014") == 0 || strcmp(state, "55P03") == 0 ||
           strncmp(state, "53", 2) == 0 || strcmp(state, "40001") == 0 ||
           strcmp(state, "40P01") == 0;
}
