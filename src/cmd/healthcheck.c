/*
 * healthcheck.c — `TechChallengeApp healthcheck [--live]`: GET /healthcheck/ (readiness: the
 * database answers) or, with --live, /livez/ (liveness: the process serves HTTP; no database)
 * from the configured listener, and exit 0 if it answers 200, 1 otherwise, 2 on a usage error.
 * For container health checks in images without curl. A wildcard ListenHost (0.0.0.0, ::) is
 * reached over loopback.
 */
#include <netdb.h>
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
    size_t got = 0;
    if (write(fd, request, (size_t)n) == n) {
        ssize_t r;
        while (got < sizeof reply - 1 && (r = read(fd, reply + got, sizeof reply - 1 - got)) > 0)
            got += (size_t)r;
    }
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
