/*
 * debug.c — GET /debug: the running configuration (secrets masked), host name, time and
 * version, as JSON. No outbound calls (the Go original called a web service on every request).
 * Off when DebugEndpoint = false (404, as if it did not exist).
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "config/config.h"
#include "handlers/handlers.h"
#include "json.h"

static void put_member(struct buf *out, const char *key, const char *value)
{
    if (out->len > 1)
        buf_putc(out, ',');
    json_put_string(out, key, strlen(key));
    buf_putc(out, ':');
    json_put_string(out, value, strlen(value));
}

static void put_config_key(const char *key, const char *value, void *ctx)
{
    put_member(ctx, key, value); /* config_each masks DbUser and DbPassword */
}

void debug_handler(struct http_request *req)
{
    if (!req->app->cfg->debug_endpoint) {
        http_respond_error(req, HTTP_STATUS_NOT_FOUND, "not found");
        return;
    }
    char host[256] = "";
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gethostname(host, sizeof host - 1);
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);

    struct buf *out = &req->out;
    buf_putc(out, '{');
    config_each(req->app->cfg, put_config_key, out);
    put_member(out, "Store", store_backend_name(req->app->store));
    put_member(out, "Hostname", host);
    put_member(out, "Timestamp", stamp);
    put_member(out, "Version", TCA_VERSION);
    put_member(out, "GitRevision", TCA_GIT_REV);
    buf_putc(out, '}');
    http_respond(req, HTTP_STATUS_OK, HTTP_JSON);
}
