/*
 * debug.c — GET /debug: the running configuration (secrets masked), host name, time and
 * version, as JSON. No outbound calls (the Go original called a web service on every request).
 * Off when DebugEndpoint = false (404, as if it did not exist).
 *
 * The document starts with the Go original's members, in its order and with its types, so a
 * script written for the original (`.DB.DbHost`, `.Timestamp` as Unix seconds) reads ours:
 *   {"Assets":"embedded","DB":{"DbUser":"********","DbPassword":"********","DbName":"...",
 *    "DbHost":"...","DbPort":"5432","DbType":"..."},"Hostname":"...","Publicip":"",
 *    "Timestamp":1767605400,
 * then ours: "Config" (every configuration key as text, secrets masked), "Store", "Version",
 * "GitRevision". Publicip stays empty: finding it would take an outbound call.
 */
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "config/config.h"
#include "handlers/handlers.h"
#include "json.h"

#define MASK "********"

/* Writes the members of one JSON object; `first` says whether a comma is due. */
struct object_writer {
    struct buf *out;
    bool first;
};

static void put_key(struct object_writer *w, const char *key)
{
    if (!w->first)
        buf_putc(w->out, ',');
    w->first = false;
    json_put_string(w->out, key, strlen(key));
    buf_putc(w->out, ':');
}

static void put_string(struct object_writer *w, const char *key, const char *value)
{
    put_key(w, key);
    json_put_string(w->out, value, strlen(value));
}

static void put_config_key(const char *key, const char *value, void *ctx)
{
    put_string(ctx, key, value); /* config_each masks DbUser and DbPassword */
}

/* The original's "DB" object: its db.Config, every value a string, user and password masked. */
static void put_db(struct object_writer *w, const struct config *cfg)
{
    char port[16];
    struct object_writer db = {w->out, true};

    snprintf(port, sizeof port, "%d", cfg->db_port);
    put_key(w, "DB");
    buf_putc(w->out, '{');
    put_string(&db, "DbUser", MASK);
    put_string(&db, "DbPassword", MASK);
    put_string(&db, "DbName", cfg->db_name ? cfg->db_name : "");
    put_string(&db, "DbHost", cfg->db_host ? cfg->db_host : "");
    put_string(&db, "DbPort", port);
    put_string(&db, "DbType", cfg->db_type_name ? cfg->db_type_name : "");
    buf_putc(w->out, '}');
}

void debug_handler(struct http_request *req)
{
    const struct config *cfg = req->app->cfg;
    if (!cfg->debug_endpoint) {
        http_respond_error(req, HTTP_STATUS_NOT_FOUND, "not found");
        return;
    }
    char host[256] = "";
    gethostname(host, sizeof host - 1);

    struct buf *out = &req->out;
    struct object_writer w = {out, true};
    buf_putc(out, '{');
    put_string(&w, "Assets", "embedded");
    put_db(&w, cfg);
    put_string(&w, "Hostname", host);
    put_string(&w, "Publicip", "");
    put_key(&w, "Timestamp");
    buf_printf(out, "%lld", (long long)time(NULL));

    struct object_writer conf = {out, true};
    put_key(&w, "Config");
    buf_putc(out, '{');
    config_each(cfg, put_config_key, &conf);
    buf_putc(out, '}');
    put_string(&w, "Store", store_backend_name(req->app->store));
    put_string(&w, "Version", TCA_VERSION);
    put_string(&w, "GitRevision", TCA_GIT_REV);
    buf_putc(out, '}');
    http_respond(req, HTTP_STATUS_OK, HTTP_JSON);
}
