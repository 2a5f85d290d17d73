/*
 * startup.c — exec -> first 200: spawns a command (the app, with its environment) and polls
 * 127.0.0.1:PORT with GET PATH until a response starts with "HTTP/1.1 200"; prints the elapsed
 * milliseconds and the child's pid on stdout, then leaves the child running (bench.py stops
 * it). Gives up (exit 1) after 15 s. With "-" for PORT and PATH: exec -> exit of COMMAND (the
 * reference: what exec and the dynamic loader cost a trivial program), the milliseconds, its
 * exit status and the CPU milliseconds it used (user + system).
 *
 *   startup PORT PATH COMMAND [ARGS...]
 *   startup - - COMMAND [ARGS...]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int try_get(int port, const char *req)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = 0;
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        write(fd, req, strlen(req)) == (ssize_t)strlen(req)) {
        char buf[16] = {0};
        ssize_t n = read(fd, buf, sizeof buf - 1);
        ok = n >= 12 && strncmp(buf, "HTTP/1.1 200", 12) == 0;
    }
    if (fd >= 0)
        close(fd);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: startup PORT PATH COMMAND [ARGS...]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    char req[512];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n", argv[2]);
    double t0 = now_ms();
    pid_t pid;
    if (posix_spawn(&pid, argv[3], NULL, NULL, argv + 3, environ) != 0) {
        perror("posix_spawn");
        return 1;
    }
    if (strcmp(argv[1], "-") == 0) {
        int status;
        struct rusage ru;
        if (wait4(pid, &status, 0, &ru) != pid) {
            perror("wait4");
            return 1;
        }
        double ms = now_ms() - t0;
        double cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                     (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
        printf("%.3f %d %.3f\n", ms, WIFEXITED(status) ? WEXITSTATUS(status) : -1, cpu);
        return 0;
    }
    while (now_ms() - t0 < 15000) {
        if (try_get(port, req)) {
            printf("%.3f %d\n", now_ms() - t0, (int)pid);
            return 0;
        }
        struct timespec pause = {0, 50000};
        nanosleep(&pause, NULL);
    }
    printf("timeout %d\n", (int)pid);
    return 1;
}
