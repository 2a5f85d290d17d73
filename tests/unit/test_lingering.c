/* test_lingering.c — the lingering close over real loopback TCP: the peer reads what was sent
 * before the hand-over, then end of stream; what it still sends is dropped, not reset; each
 * bound (bytes, time without input, connections) closes the connection. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/lingering.h"
#include "tap.h"

static int listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
        abort();
    *port = ntohs(sa.sin_port);
    return fd;
}

/* A connected pair: *client is ours to drive, the server side is returned. */
static int connect_pair(int lfd, int port, int *client)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    *client = socket(AF_INET, SOCK_STREAM, 0);
    if (*client < 0 || connect(*client, (struct sockaddr *)&sa, sizeof sa) != 0)
        abort();
    int server = accept(lfd, NULL, NULL);
    if (server < 0)
        abort();
    return server;
}

/* Waits up to ms for the peer to close; returns what recv returned last (0: end of stream). */
static ssize_t wait_closed(int fd, int ms)
{
    char buf[4096];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    ssize_t n = -1;
    while (poll(&p, 1, ms) == 1) {
        n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            return n;
    }
    return n;
}

static void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

int main(void)
{
    char err[256];
    int port, lfd = listener(&port);
    struct lingering *l = lingering_new(3000, 300, 1024 * 1024, 2, err, sizeof err);
    ok(l != NULL, "starts");

    /* The response arrives, then end of stream; input sent meanwhile is dropped, not reset. */
    int client, server = connect_pair(lfd, port, &client);
    if (send(client, "unread request", 14, 0) != 14 || send(server, "HTTP/1.1 413", 12, 0) != 12)
        abort();
    lingering_add(l, server);
    is_int(lingering_count(l), 1, "one connection lingers");
    char big[65536];
    memset(big, 'x', sizeof big);
    size_t sent = 0;
    for (int i = 0; i < 8; i++)
        sent += (size_t)send(client, big, sizeof big, 0);
    is_int(sent, 8 * sizeof big, "the client can go on sending 512 KiB");
    char head[32] = {0};
    is_int(recv(client, head, sizeof head, 0), 12, "and reads the response");
    is_str(head, "HTTP/1.1 413", "byte for byte");
    is_int(recv(client, head, sizeof head, 0), 0, "then end of stream, not a reset");
    close(client);
    sleep_ms(200);
    is_int(lingering_count(l), 0, "the client's close ends the lingering");

    /* The byte bound: past 1 MiB the connection is closed. */
    server = connect_pair(lfd, port, &client);
    lingering_add(l, server);
    size_t total = 0;
    ssize_t n;
    while (total < 8u * 1024 * 1024 && (n = send(client, big, sizeof big, MSG_NOSIGNAL)) > 0)
        total += (size_t)n;
    ok(total >= 1024 * 1024 && total < 8u * 1024 * 1024,
       "a sender that goes on is cut off after the byte bound");
    close(client);

    /* The idle bound: 300 ms without input. */
    server = connect_pair(lfd, port, &client);
    lingering_add(l, server);
    is_int(wait_closed(client, 2000), 0, "a silent peer sees end of stream");
    sleep_ms(500);
    is_int(lingering_count(l), 0, "and is dropped after the idle bound");
    close(client);

    /* The connection bound: a third connection is closed at once. */
    int c1, c2, c3;
    lingering_add(l, connect_pair(lfd, port, &c1));
    lingering_add(l, connect_pair(lfd, port, &c2));
    lingering_add(l, connect_pair(lfd, port, &c3));
    is_int(lingering_count(l), 2, "at most two at once");
    is_int(wait_closed(c3, 1000), 0, "the third is closed at once");
    close(c1);
    close(c2);
    close(c3);

    lingering_free(l);
    close(lfd);
    return done_testing();
}
