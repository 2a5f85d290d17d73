/* lingering.c — see lingering.h. */
#include "http/lingering.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/xalloc.h"

/* How often the thread looks for connections past their bounds, at the latest. */
#define TICK_MS 100
/* What one recv may throw away (MSG_TRUNC on a TCP socket discards without copying), and what
 * one connection may throw away before the others get their turn. */
#define DISCARD_CHUNK (256 * 1024)
#define DISCARD_TURN  (4 * 1024 * 1024)

/* Never written to (MSG_TRUNC), so it costs no memory; a valid buffer keeps checkers quiet. */
static char scratch[DISCARD_CHUNK];

struct lingerer {
    int fd;
    uint64_t start_ns, last_ns;
    size_t bytes;
    struct lingerer *prev, *next;
};

struct lingering {
    pthread_t thread;
    pthread_mutex_t lock;
    int epoll_fd, wake_fd;
    bool stopping;
    uint64_t max_ns, idle_ns;
    size_t max_bytes;
    int max_conns, count;
    struct lingerer *head;
};

/* Unlinks and closes one connection. Called with the lock held. */
static void drop(struct lingering *linger, struct lingerer *l)
{
    epoll_ctl(linger->epoll_fd, EPOLL_CTL_DEL, l->fd, NULL);
    close(l->fd);
    if (l->prev)
        l->prev->next = l->next;
    else
        linger->head = l->next;
    if (l->next)
        l->next->prev = l->prev;
    linger->count--;
    free(l);
}

/* Reads and drops what has arrived, at most DISCARD_TURN bytes a turn so that one fast sender
 * does not starve the others (epoll reports it again). Touches only l's own counters, so it
 * runs without the lock. True while the connection should go on lingering. */
static bool discard(const struct lingering *linger, struct lingerer *l, uint64_t now)
{
    for (size_t turn = 0; turn < DISCARD_TURN;) {
        ssize_t n = recv(l->fd, scratch, DISCARD_CHUNK, MSG_TRUNC | MSG_DONTWAIT);
        if (n > 0) {
            l->bytes += (size_t)n;
            l->last_ns = now;
            turn += (size_t)n;
            if (l->bytes >= linger->max_bytes)
                return false;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
    return true;
}

static void *lingering_main(void *arg)
{
    struct lingering *linger = arg;
    struct epoll_event events[64];
    struct lingerer *done[64];
    for (;;) {
        int n = epoll_wait(linger->epoll_fd, events, 64, TICK_MS);
        uint64_t now = clock_now_ns();
        int n_done = 0;
        for (int i = 0; i < n; i++) {
            struct lingerer *l = events[i].data.ptr;
            if (l == NULL) { /* the wake-up descriptor */
                uint64_t v;
                if (read(linger->wake_fd, &v, sizeof v) < 0) {
                    /* nothing to do: it is only a wake-up */
                }
            } else if (!discard(linger, l, now)) {
                done[n_done++] = l;
            }
        }
        pthread_mutex_lock(&linger->lock);
        if (linger->stopping) {
            pthread_mutex_unlock(&linger->lock);
            return NULL;
        }
        for (int i = 0; i < n_done; i++)
            drop(linger, done[i]);
        /* Read the clock again under the lock: a connection added since the one above has
         * later times, and the differences below must not wrap. */
        now = clock_now_ns();
        for (struct lingerer *l = linger->head, *next; l; l = next) {
            next = l->next;
            if (now - l->start_ns >= linger->max_ns || now - l->last_ns >= linger->idle_ns)
                drop(linger, l);
        }
        pthread_mutex_unlock(&linger->lock);
    }
}

struct lingering *lingering_new(int max_ms, int idle_ms, size_t max_bytes, int max_conns, char *err,
                                size_t errlen)
{
    struct lingering *linger = xcalloc(1, sizeof *linger);
    linger->max_ns = (uint64_t)max_ms * 1000000u;
    linger->idle_ns = (uint64_t)idle_ms * 1000000u;
    linger->max_bytes = max_bytes;
    linger->max_conns = max_conns;
    linger->wake_fd = -1;
    pthread_mutex_init(&linger->lock, NULL);
    linger->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (linger->epoll_fd < 0)
        goto fail;
    linger->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (linger->wake_fd < 0)
        goto fail;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(linger->epoll_fd, EPOLL_CTL_ADD, linger->wake_fd, &ev) != 0)
        goto fail;
    int rc = pthread_create(&linger->thread, NULL, lingering_main, linger);
    if (rc != 0) {
        errno = rc;
        goto fail;
    }
    return linger;

fail:
    snprintf(err, errlen, "cannot start the lingering-close thread: %s", strerror(errno));
    if (linger->wake_fd >= 0)
        close(linger->wake_fd);
    if (linger->epoll_fd >= 0)
        close(linger->epoll_fd);
    pthread_mutex_destroy(&linger->lock);
    free(linger);
    return NULL;
}

void lingering_add(struct lingering *linger, int fd)
{
    /* The response is written: end the stream so the client knows it has all of it. */
    shutdown(fd, SHUT_WR);
    pthread_mutex_lock(&linger->lock);
    if (linger->stopping || linger->count >= linger->max_conns) {
        pthread_mutex_unlock(&linger->lock);
        close(fd);
        return;
    }
    struct lingerer *l = xcalloc(1, sizeof *l);
    l->fd = fd;
    l->start_ns = l->last_ns = clock_now_ns();
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = l};
    if (epoll_ctl(linger->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        pthread_mutex_unlock(&linger->lock);
        close(fd);
        free(l);
        return;
    }
    l->next = linger->head;
    if (l->next)
        l->next->prev = l;
    linger->head = l;
    linger->count++;
    pthread_mutex_unlock(&linger->lock);
}

int lingering_count(struct lingering *linger)
{
    pthread_mutex_lock(&linger->lock);
    int n = linger->count;
    pthread_mutex_unlock(&linger->lock);
    return n;
}

void lingering_free(struct lingering *linger)
{
    if (!linger)
        return;
    pthread_mutex_lock(&linger->lock);
    linger->stopping = true;
    pthread_mutex_unlock(&linger->lock);
    uint64_t one = 1;
    if (write(linger->wake_fd, &one, sizeof one) < 0) {
        /* the thread still sees stopping within one tick */
    }
    pthread_join(linger->thread, NULL);
    for (struct lingerer *l = linger->head, *next; l; l = next) {
        next = l->next;
        close(l->fd);
        free(l);
    }
    close(linger->wake_fd);
    close(linger->epoll_fd);
    pthread_mutex_destroy(&linger->lock);
    free(linger);
}
