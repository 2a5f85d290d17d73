/*
 * serve.c — `TechChallengeApp serve`: open the store, serve HTTP until SIGTERM or SIGINT,
 * then drain: idle connections are closed at once, requests in flight finish (for at most
 * ShutdownTimeout) and the process exits 0; a second SIGTERM or SIGINT exits at once, with
 * status 1. SIGHUP re-reads the TLS certificate when the listener speaks HTTPS; otherwise it
 * is logged and ignored.
 *
 * Signals are blocked in every thread and taken synchronously by the main thread (sigwait),
 * so no handler runs in signal context.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "cmd/cmd.h"
#include "config/config.h"
#include "handlers/handlers.h"
#include "http/server.h"
#include "http/tls.h"
#include "log.h"
#include "metrics.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/clock.h"

struct start_line {
    struct buf text;
    size_t keys;
};

static void put_key(const char *key, const char *value, const char *source, void *ctx)
{
    struct start_line *line = ctx;
    buf_printf(&line->text, "%s%s=%s (%s)", line->keys++ ? ", " : "", key, value, source);
}

/* The start-up line: version, store, and every key with its value (masked as in /debug) and
 * its source, as `config` prints them. One line, so that a failed start is still two. */
static void log_start(const struct config *cfg)
{
    struct start_line line = {BUF_INIT, 0};
    buf_printf(&line.text,
               "starting TechChallengeApp %s (%s), store %s, configuration: ", TCA_VERSION,
               TCA_GIT_REV, cfg->db_type_name);
    config_each_source(cfg, put_key, &line);
    log_info("%s", line.text.data);
    buf_release(&line.text);
}

/* SIGHUP: the certificate is read again (a failure keeps the current one). */
static void reload_tls(struct http_tls *tls)
{
    char msg[512];

    if (!tls) {
        log_info("SIGHUP received and ignored: configuration is read only at start-up");
        return;
    }
    if (http_tls_reload(tls, msg, sizeof msg) < 0) {
        log_error("SIGHUP: keeping the current TLS certificate: %s", msg);
        return;
    }
    http_tls_describe(tls, msg, sizeof msg);
    log_info("SIGHUP: TLS certificate reloaded: %s", msg);
}

static const char *signal_name(int sig)
{
    return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "SIGHUP";
}

/* Waits until the server has drained or timeout_s has passed. A second SIGTERM or SIGINT
 * meanwhile ends the process at once, with status 1. */
static void drain(struct http_server *server, const sigset_t *signals, int timeout_s)
{
    http_server_quiesce(server);
    struct timespec tick = {0, 10 * 1000000};
    uint64_t deadline = clock_now_ns() + (uint64_t)timeout_s * 1000000000u;
    unsigned open;
    while ((open = http_server_drain_step(server)) > 0 && clock_now_ns() < deadline) {
        int sig = sigtimedwait(signals, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT) {
            log_warn("%s received again: stopping at once (%u connections still open)",
                     signal_name(sig), open);
            log_buffer_stop();
            _exit(1);
        }
    }
}

/* The listener's certificate from cfg, checked and described in the log; *out is NULL when TLS
 * is off. -1 (logged) if it cannot be loaded. */
static int tls_open(const struct config *cfg, struct http_tls **out)
{
    char err[512];
    struct http_tls_options tls_opts = {
        .cert_file = cfg->tls_cert_file,
        .key_file = cfg->tls_key_file,
        .self_signed = cfg->tls_self_signed,
    };
    if (http_tls_new(&tls_opts, out, err, sizeof err) < 0) {
        log_error("%s", err);
        return -1;
    }
    if (*out) {
        char desc[512];
        http_tls_describe(*out, desc, sizeof desc);
        log_info("HTTPS with the certificate %s", desc);
    }
    return 0;
}

/* Returns at SIGTERM or SIGINT (logged), reloading the certificate at each SIGHUP. */
static void wait_for_stop(const sigset_t *signals, struct http_tls *tls, int shutdown_timeout)
{
    for (;;) {
        int sig = 0;
        if (sigwait(signals, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            reload_tls(tls);
            continue;
        }
        log_info("%s received: draining for up to %d s (again: stop at once)", signal_name(sig),
                 shutdown_timeout);
        return;
    }
}

int cmd_serve(int argc, char **argv, const struct config *cfg)
{
    (void)argc; /* NO_ARGS: main.c refused any argument */
    (void)argv;
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, NULL); /* inherited by every thread started below */
    signal(SIGPIPE, SIG_IGN);

    log_start(cfg);
    metrics_init();
    /* The certificate is checked first: a TLS mistake is reported before anything listens. */
    struct http_tls *tls;
    if (tls_open(cfg, &tls) < 0)
        return 1;
    char err[512];
    int rc = 1;
    struct app app = {.cfg = cfg, .started = time(NULL)};
    if (store_open(cfg, &app.store, err, sizeof err) != STORE_OK) {
        log_error("cannot open the store: %s", err);
        app.store = NULL;
        goto out;
    }
    handlers_open(&app);
    struct http_server_options opts = {
        .host = cfg->listen_host,
        .port = cfg->listen_port,
        .threads = cfg->threads,
        .max_body = (size_t)cfg->max_body_bytes,
        .tls = tls,
        .routes = &app_route_table,
        .app = &app,
    };
    struct http_server *server = http_server_start(&opts, err, sizeof err);
    if (!server) {
        log_error("%s", err);
        goto out;
    }

    log_buffer_start(); /* ADR 0008 */
    wait_for_stop(&signals, tls, cfg->shutdown_timeout);
    drain(server, &signals, cfg->shutdown_timeout);
    handlers_finish(&app); /* store calls still running answer their requests */
    int left = http_server_stop(server);
    if (left > 0)
        log_warn("%d requests still in flight at the drain deadline were cut off", left);
    rc = 0;
out: /* each of these does nothing for what was not made */
    handlers_close(&app);
    store_free(app.store);
    http_tls_free(tls);
    if (rc == 0) {
        log_info("stopped");
        log_buffer_stop();
    }
    return rc;
}
