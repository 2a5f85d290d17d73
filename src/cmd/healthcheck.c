/*
 * healthcheck.c — `TechChallengeApp healthcheck [--live]`: GET /healthcheck/ (readiness: the
 * database answers) or, with --live, /livez/ (liveness: the process serves HTTP; no database)
 * from the configured listener, and exit 0 if it answers 200, 1 otherwise, 2 on a usage error.
 * For container health checks in images without curl. A wildcard ListenHost (0.0.0.0, ::) is
 * reached over loopback.
 *
 * When the configuration gives the listener TLS (TlsCertFile or TlsSelfSigned), the request
 * goes over TLS (GnuTLS) without verifying the certificate: this checks that the server on
 * this port answers, and its certificate may be self-signed; the connection never leaves the
 * host, or the container.
 */
#include <gnutls/gnutls.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "config/config.h"

#define TIMEOUT_S 3

static const char *reachable_host(const char *listen_host)
{
    if (strcmp(listen_host, "0.0.0.0") == 0 || listen_host[0] == '\0')
        return "127.0.0.1";
    if (strcmp(listen_host, "::") == 0 || strcmp(listen_host, "[::]") == 0)
        return "::1";
    return listen_host;
}

static int connect_to(const char *host, int port)
{
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res;
    if (getaddrinfo(host, service, &hints, &res) != 0)
        return -1;
    int fd = -1;
    struct timeval tv = {TIMEOUT_S, 0};
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

/* Sends the request and reads the reply (at most cap - 1 bytes) in the clear. */
static size_t exchange_plain(int fd, const char *request, size_t len, char *reply, size_t cap)
{
    size_t got = 0;
    ssize_t r;

    if (write(fd, request, len) != (ssize_t)len)
        return 0;
    while (got < cap - 1 && (r = read(fd, reply + got, cap - 1 - got)) > 0)
        got += (size_t)r;
    return got;
}

/* The same over TLS. The socket's timeouts bound every step: a timed-out read or write is
 * GNUTLS_E_AGAIN here, which ends the exchange. */
static size_t exchange_tls(int fd, const char *request, size_t len, char *reply, size_t cap)
{
    gnutls_certificate_credentials_t cred = NULL;
    gnutls_session_t session = NULL;
    size_t got = 0;
    ssize_t r;
    int rc = GNUTLS_E_INTERRUPTED;

    if (gnutls_certificate_allocate_credentials(&cred) < 0)
        return 0;
    if (gnutls_init(&session, GNUTLS_CLIENT) < 0)
        goto out;
    if (gnutls_set_default_priority(session) < 0 ||
        gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred) < 0)
        goto out;
    gnutls_transport_set_int(session, fd);
    gnutls_handshake_set_timeout(session, TIMEOUT_S * 1000);
    for (int tries = 0; tries < 8; tries++) {
        rc = gnutls_handshake(session);
        if (rc != GNUTLS_E_INTERRUPTED)
            break;
    }
    if (rc < 0) {
        fprintf(stderr, "unhealthy: TLS handshake failed: %s\n", gnutls_strerror(rc));
        goto out;
    }
    if (gnutls_record_send(session, request, len) != (ssize_t)len)
        goto out;
    while (got < cap - 1 && (r = gnutls_record_recv(session, reply + got, cap - 1 - got)) > 0)
        got += (size_t)r;
    gnutls_bye(session, GNUTLS_SHUT_WR);

out:
    if (session)
        gnutls_deinit(session);
    gnutls_certificate_free_credentials(cred);
    return got;
}

int cmd_healthcheck(int argc, char **argv, const struct config *cfg)
{
    const char *path = "/healthcheck/";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--live") == 0) {
            path = "/livez/";
        } else {
            fprintf(stderr,
                    "TechChallengeApp: healthcheck: unknown argument '%s' (usage: healthcheck "
                    "[--live])\n",
                    argv[i]);
            return 2;
        }
    }
    const char *host = reachable_host(cfg->listen_host);
    bool tls = cfg->tls_self_signed || (cfg->tls_cert_file && cfg->tls_cert_file[0]);
    int fd = connect_to(host, cfg->listen_port);
    if (fd < 0) {
        fprintf(stderr, "unhealthy: cannot connect to %s:%d\n", host, cfg->listen_port);
        return 1;
    }
    char request[512];
    int n = snprintf(request, sizeof request,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: "
                     "TechChallengeApp-healthcheck\r\nConnection: close\r\n\r\n",
                     path, strchr(host, ':') ? "localhost" : host);
    char reply[256] = "";
    size_t got = tls ? exchange_tls(fd, request, (size_t)n, reply, sizeof reply)
                     : exchange_plain(fd, request, (size_t)n, reply, sizeof reply);
    close(fd);
    reply[got] = '\0';
    char *eol = strpbrk(reply, "\r\n");
    if (eol)
        *eol = '\0';
    if (strncmp(reply, "HTTP/1.1 200 ", 13) == 0) {
        printf("healthy\n");
        return 0;
    }
    fprintf(stderr, "unhealthy: %s\n", got ? reply : "no answer");
    return 1;
}
