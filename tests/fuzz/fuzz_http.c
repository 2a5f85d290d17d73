/*
 * fuzz_http.c — libFuzzer target for the whole request path: raw bytes from the fuzzer go over
 * a real TCP connection to the real server (src/http/server.c on libmicrohttpd, the router, the
 * handlers) running in this process on 127.0.0.1 with an SQLite store in a temp dir.
 *
 * Each input is sent on a new connection, the write side is shut, and everything the server
 * says is read until it closes (or falls quiet after answering). Besides ASan/UBSan in the
 * server's own threads, it checks that whatever comes back is an HTTP/1.x response, that no
 * response is a 500 (bad input must never look like our fault), and that after an input that
 * got no answer the server still answers a health check with 200 within 10 s (no hang).
 * Every 1,000 inputs the tasks the fuzzer created are deleted so lists stay small.
 *
 * fuzz_http_stop() drains the server; the replay test (tests/unit/test_fuzz_corpora.c) calls it.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "config/config.h"
#include "handlers/handlers.h"
#include "http/server.h"
#include "log.h"
#include "store/store.h"
#include "util/array.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void fuzz_http_stop(void);

#define HTTP_FUZZ_REPLY_MAX  (4 * 1024 * 1024)
#define HTTP_FUZZ_TIMEOUT_MS 10000
#define HTTP_FUZZ_QUIET_MS   50
#define HTTP_FUZZ_SILENT_MS  1000

static struct {
    bool started;
    struct config cfg;
    struct app app;
    struct http_server *server;
    int port;
    char dir[64];
    char db_path[128];
    unsigned long inputs, silent;
} http_fuzz;

static void http_fuzz_die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_http: %s: %s\n", what, detail);
    abort();
}

static void http_fuzz_start(void)
{
    char err[512], conf[128];
    const char *tmp = getenv("TMPDIR");

    snprintf(http_fuzz.dir, sizeof http_fuzz.dir, "%s/tca-fuzz-http.XXXXXX",
             tmp && strlen(tmp) < 32 ? tmp : "/tmp");
    if (!mkdtemp(http_fuzz.dir))
        http_fuzz_die("mkdtemp", strerror(errno));
    snprintf(http_fuzz.db_path, sizeof http_fuzz.db_path, "%s/tasks.db", http_fuzz.dir);
    snprintf(conf, sizeof conf, "%s/conf.toml", http_fuzz.dir);
    FILE *f = fopen(conf, "w");
    if (!f)
        http_fuzz_die("conf.toml", strerror(errno));
    fclose(f);
    setenv("VTT_DBTYPE", "sqlite", 1);
    setenv("VTT_DBPATH", http_fuzz.db_path, 1);
    setenv("VTT_LISTENHOST", "127.0.0.1", 1);
    setenv("VTT_LISTENPORT", "0", 1);
    setenv("VTT_THREADS", "2", 1);
    setenv("VTT_LOGLEVEL", "error", 1);
    setenv("VTT_LOGFORMAT", "text", 1);
    if (config_load(&http_fuzz.cfg, conf, err, sizeof err) != 0)
        http_fuzz_die("config", err);
    log_init(http_fuzz.cfg.log_level, http_fuzz.cfg.log_format);
    signal(SIGPIPE, SIG_IGN);
    FILE *devnull = fopen("/dev/null", "w");
    if (store_updatedb(&http_fuzz.cfg, false, devnull, err, sizeof err) != STORE_OK)
        http_fuzz_die("updatedb", err);
    fclose(devnull);
    struct store *store;
    if (store_open(&http_fuzz.cfg, &store, err, sizeof err) != STORE_OK)
        http_fuzz_die("store_open", err);
    http_fuzz.app.cfg = &http_fuzz.cfg;
    http_fuzz.app.store = store;
    http_fuzz.app.started = time(NULL);
    handlers_open(&http_fuzz.app);
    struct http_server_options opts = {
        .host = http_fuzz.cfg.listen_host,
        .port = http_fuzz.cfg.listen_port,
        .threads = http_fuzz.cfg.threads,
        .max_body = (size_t)http_fuzz.cfg.max_body_bytes,
        .routes = &app_route_table,
        .app = &http_fuzz.app,
    };
    http_fuzz.server = http_server_start(&opts, err, sizeof err);
    if (!http_fuzz.server)
        http_fuzz_die("http_server_start", err);
    http_fuzz.port = http_server_port(http_fuzz.server);
    http_fuzz.started = true;
}

void fuzz_http_stop(void)
{
    char path[192];

    if (!http_fuzz.started)
        return;
    http_server_quiesce(http_fuzz.server);
    for (int i = 0; i < 500 && http_server_drain_step(http_fuzz.server) > 0; i++)
        nanosleep(&(struct timespec){0, 10 * 1000000}, NULL);
    http_server_stop(http_fuzz.server);
    handlers_close(&http_fuzz.app);
    store_free(http_fuzz.app.store);
    config_release(&http_fuzz.cfg);
    const char *files[] = {"tasks.db", "tasks.db-wal", "tasks.db-shm", "conf.toml"};
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        snprintf(path, sizeof path, "%s/%s", http_fuzz.dir, files[i]);
        unlink(path);
    }
    rmdir(http_fuzz.dir);
    http_fuzz.started = false;
}

/* Deletes what the fuzzer created, behind the server's back (SQLite's locks keep it safe). */
static void http_fuzz_trim(void)
{
    sqlite3 *db;
    if (sqlite3_open(http_fuzz.db_path, &db) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        sqlite3_exec(db, "DELETE FROM tasks WHERE id > 3", NULL, NULL, NULL);
    }
    sqlite3_close(db);
}

static int http_fuzz_connect(void)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)http_fuzz.port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        http_fuzz_die("socket", strerror(errno));
    int rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
    if (rc != 0 && errno == EINTR) {
        /* A signal (libFuzzer's timer) cut the wait short; the connection goes on being made:
         * wait for it, as long as for an answer. */
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int err = ETIMEDOUT;
        socklen_t len = sizeof err;
        for (int tries = 0; tries < 100; tries++) {
            int ready = poll(&pfd, 1, HTTP_FUZZ_TIMEOUT_MS);
            if (ready < 0 && errno == EINTR)
                continue;
            if (ready < 0 || (ready > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0))
                err = errno;
            break; /* ready == 0: err stays ETIMEDOUT */
        }
        rc = err == 0 ? 0 : -1;
        errno = err;
    }
    if (rc != 0)
        http_fuzz_die("connect", strerror(errno));
    return fd;
}

/* Sends what it can: the server may answer and close before it has read everything. */
static void http_fuzz_send(int fd, const uint8_t *data, size_t size)
{
    while (size > 0) {
        ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        data += n;
        size -= (size_t)n;
    }
}

/*
 * Reads until the server closes. Returns the length, or -1 if the server said nothing and kept
 * the connection for HTTP_FUZZ_SILENT_MS. After an answer, HTTP_FUZZ_QUIET_MS of silence ends
 * the read: libmicrohttpd (edge-triggered epoll) does not always notice a half-close that
 * arrives together with the data, and then keeps the connection until its idle timeout.
 */
static long http_fuzz_read(int fd, char *reply, size_t cap)
{
    size_t len = 0;
    bool any = false;
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int rc = poll(&pfd, 1, any ? HTTP_FUZZ_QUIET_MS : HTTP_FUZZ_SILENT_MS);
        if (rc == 0)
            return any ? (long)len : -1;
        if (rc < 0 && errno == EINTR)
            continue;
        char scratch[65536];
        char *into = len < cap ? reply + len : scratch;
        size_t room = len < cap ? cap - len : sizeof scratch;
        ssize_t n = recv(fd, into, room, 0);
        if (n <= 0)
            return (long)len;
        any = true;
        if (into != scratch)
            len += (size_t)n;
    }
}

/* The server must still answer a plain request within HTTP_FUZZ_TIMEOUT_MS. */
static void http_fuzz_check_alive(void)
{
    static const char probe[] =
        "GET /healthcheck/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    char reply[4096];
    int fd = http_fuzz_connect();
    http_fuzz_send(fd, (const uint8_t *)probe, sizeof probe - 1);
    size_t len = 0;
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, HTTP_FUZZ_TIMEOUT_MS) <= 0)
            http_fuzz_die("hang", "the server did not answer a health check within 10 s");
        ssize_t n = recv(fd, reply + len, sizeof reply - 1 - len, 0);
        if (n <= 0 || (len += (size_t)n) == sizeof reply - 1)
            break;
    }
    close(fd);
    reply[len] = '\0';
    if (strncmp(reply, "HTTP/1.1 200 ", 13) != 0) {
        reply[len < 128 ? len : 128] = '\0';
        http_fuzz_die("health check failed", reply);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char reply[HTTP_FUZZ_REPLY_MAX + 1];

    if (!http_fuzz.started)
        http_fuzz_start();
    if (++http_fuzz.inputs % 1000 == 0)
        http_fuzz_trim();

    int fd = http_fuzz_connect();
    http_fuzz_send(fd, data, size);
    /* A moment for the server to read before the FIN comes, so it sees the FIN on its own. */
    struct timespec pause = {0, 1000000};
    nanosleep(&pause, NULL);
    shutdown(fd, SHUT_WR);
    long got = http_fuzz_read(fd, reply, HTTP_FUZZ_REPLY_MAX);
    close(fd);
    if (got <= 0) {
        /* No answer (an incomplete or unparseable request): the server must still be well. */
        if (got < 0 || ++http_fuzz.silent % 100 == 0)
            http_fuzz_check_alive();
        return 0;
    }
    size_t len = (size_t)got;
    reply[len] = '\0';
    if (len < 12 || (memcmp(reply, "HTTP/1.1 ", 9) != 0 && memcmp(reply, "HTTP/1.0 ", 9) != 0)) {
        reply[len < 64 ? len : 64] = '\0';
        http_fuzz_die("not an HTTP response", reply);
    }
    if (memcmp(reply + 9, "500", 3) == 0) {
        reply[len < 512 ? len : 512] = '\0';
        http_fuzz_die("500 answer", reply);
    }
    return 0;
}
