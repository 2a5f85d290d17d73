/*
 * delay_proxy.c — puts a TCP server "over there" for benchmarks: a proxy between a listen
 * address and an upstream (PostgreSQL) that holds every chunk of bytes it forwards, in either
 * direction, for a fixed one-way delay before writing it on. With --delay-us 500 every round
 * trip through it costs about 1 ms more, as an RDS primary in another availability zone does;
 * `tc netem` does not work on the kernels we bench on, so `make bench-remote` brings its own.
 *
 * One thread, one epoll set, non-blocking sockets, edge-triggered. Each connection is two
 * flows (client -> upstream, upstream -> client); a flow is a FIFO of chunks stamped with the
 * time they may leave. Because the delay is the same for every chunk, the order in which
 * chunks are read is also the order in which they fall due: one global FIFO of not-yet-due
 * chunks drives one timerfd (absolute CLOCK_MONOTONIC), and each expiry releases a prefix of
 * it. Due chunks leave in one sendmsg() per flow, so the delay adds latency, not a throughput
 * cap: while one chunk waits, the next ones are read behind it.
 *
 * Memory is bounded per flow: a flow whose queue holds --max-queue bytes or more stops reading
 * its source until the destination takes some (TCP back-pressure on the sender). EOF travels
 * as a chunk of its own, so a half-close reaches the other side after the data before it and
 * after the same delay; a connection ends when both directions have been shut down, or at once
 * on any socket error. SIGTERM or SIGINT: close everything, print the counters, exit 0.
 *
 * No dependencies beyond libc and Linux; not part of the app (built by mk/bench.mk).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define PROG              "delay_proxy"
#define READ_SIZE         (64 * 1024) /* one recv() at most; a chunk never holds more */
#define MAX_IOV           64          /* due chunks gathered into one sendmsg() */
#define MAX_EVENTS        256
#define DEFAULT_MAX_QUEUE (1024 * 1024)
#define MAX_DELAY_US      (60 * 1000 * 1000)

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* ---- intrusive doubly linked lists (every list here is a FIFO) ---- */

struct link {
    struct link *prev, *next;
};

static void link_init(struct link *l)
{
    l->prev = l->next = l;
}

static bool link_empty(const struct link *l)
{
    return l->next == l;
}

static void link_append(struct link *head, struct link *l)
{
    l->prev = head->prev;
    l->next = head;
    head->prev->next = l;
    head->prev = l;
}

static void link_remove(struct link *l)
{
    l->prev->next = l->next;
    l->next->prev = l->prev;
    link_init(l);
}

/* Moves every element of from to the end of to; from is left empty. */
static void link_splice(struct link *to, struct link *from)
{
    if (link_empty(from))
        return;
    from->next->prev = to->prev;
    to->prev->next = from->next;
    from->prev->next = to;
    to->prev = from->prev;
    link_init(from);
}

/* ---- the objects ---- */

struct conn;

/* Bytes read at one moment from one side, to be written to the other once due. */
struct chunk {
    struct link qlink; /* in its flow's queue */
    struct link tlink; /* in the proxy's timer FIFO while not yet due (empty otherwise) */
    struct flow *flow;
    uint64_t due_ns;
    size_t len, off; /* len 0: the source's EOF, forwarded as shutdown(SHUT_WR) */
    unsigned char data[];
};

/* One direction of a connection: reads from conn->end[dir], writes to conn->end[!dir]. */
struct flow {
    struct conn *conn;
    int dir;
    struct link queue;
    size_t queued; /* bytes in queue not yet written */
    bool eof;      /* the source said EOF; its chunk is queued */
    bool shut;     /* that EOF has reached the destination */
};

/* One socket of a connection, as epoll sees it. */
struct end {
    struct conn *conn;
    int fd;
    bool readable, writable; /* edge-triggered: true until a call says EAGAIN */
    bool hangup;             /* epoll saw the peer's FIN or an error: read on to the end */
};

enum { END_CLIENT, END_UPSTREAM };

struct conn {
    struct link all;        /* in proxy.conns while open */
    struct conn *next_dead; /* in proxy.dead once closed */
    struct link ready;      /* in proxy.ready while it has work without a new event */
    struct end end[2];
    struct flow flow[2]; /* flow[END_CLIENT] carries client -> upstream */
    bool connected;      /* the upstream connect() has completed */
    bool closed;
};

struct stats {
    uint64_t accepted, connect_failed, closed_on_error;
    uint64_t bytes[2]; /* forwarded, per flow direction */
    size_t peak_queue;
    uint64_t released, late_ns_sum, late_ns_max; /* chunks the timer let go, and how late */
};

struct proxy {
    int ep, listen_fd, timer_fd, signal_fd;
    struct addrinfo *upstream;
    uint64_t delay_ns;
    size_t max_queue;
    uint64_t now_ns;   /* CLOCK_MONOTONIC when the current epoll_wait returned */
    uint64_t armed_ns; /* what timer_fd is set to, 0 if nothing or already expired */
    bool accept_paused;
    bool stop;
    struct link conns, ready, timers;
    struct conn *dead; /* closed, freed at the end of the loop iteration */
    struct stats stats;
    unsigned char scratch[READ_SIZE];
};

/* epoll data for the proxy's own descriptors; a connection's end is a struct end pointer. */
static struct end listen_tag, timer_tag, signal_tag;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        fprintf(stderr, PROG ": out of memory (%zu bytes)\n", n);
        abort();
    }
    return p;
}

static int epoll_add(int ep, int fd, uint32_t events, void *tag)
{
    struct epoll_event ev = {.events = events, .data.ptr = tag};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* ---- chunks and flows ---- */

static void chunk_free(struct chunk *ch)
{
    link_remove(&ch->qlink);
    if (!link_empty(&ch->tlink))
        link_remove(&ch->tlink);
    free(ch);
}

static void flow_enqueue(struct proxy *p, struct flow *f, const void *data, size_t len)
{
    struct chunk *ch = xmalloc(sizeof(*ch) + len);
    if (len)
        memcpy(ch->data, data, len);
    ch->len = len;
    ch->off = 0;
    ch->flow = f;
    /* now_ns is when epoll_wait returned, at or after the bytes arrived: never less than the
     * delay from their arrival, and the same stamp for everything read in one wake-up. */
    ch->due_ns = p->now_ns + p->delay_ns;
    link_init(&ch->tlink);
    link_append(&f->queue, &ch->qlink);
    if (p->delay_ns)
        link_append(&p->timers, &ch->tlink);
    f->queued += len;
    if (f->queued > p->stats.peak_queue)
        p->stats.peak_queue = f->queued;
}

static struct chunk *flow_head(struct flow *f)
{
    return link_empty(&f->queue) ? NULL : container_of(f->queue.next, struct chunk, qlink);
}

static void flow_clear(struct flow *f)
{
    struct link *l = f->queue.next;
    while (l != &f->queue) {
        struct link *next = l->next;
        chunk_free(container_of(l, struct chunk, qlink));
        l = next;
    }
    f->queued = 0;
}

/* Reads the flow's source until it would block, says EOF, or the queue is full.
 * Returns -1 on a socket error (the connection must close), else 0. */
static int flow_read(struct proxy *p, struct flow *f)
{
    struct end *src = &f->conn->end[f->dir];

    while (src->readable && !f->eof && f->queued < p->max_queue) {
        ssize_t n = recv(src->fd, p->scratch, sizeof(p->scratch), 0);
        if (n > 0) {
            flow_enqueue(p, f, p->scratch, (size_t)n);
            /* A short read emptied the socket; more data brings a new edge, so skip the recv
             * that would only say EAGAIN (a quarter of the syscalls per query). A FIN that
             * came with the data brings none: then read on to the 0. */
            if ((size_t)n < sizeof(p->scratch) && !src->hangup)
                src->readable = false;
        } else if (n == 0) {
            f->eof = true;
            flow_enqueue(p, f, NULL, 0);
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            src->readable = false;
        } else if (errno != EINTR) {
            return -1;
        }
    }
    return 0;
}

/* Writes the flow's due chunks to its destination until none is due or it would block.
 * Returns -1 on a socket error (the connection must close), else 0. */
static int flow_write(struct proxy *p, struct flow *f)
{
    struct end *dst = &f->conn->end[!f->dir]; /* the upstream is writable once connected */

    while (dst->writable && !f->shut) {
        struct iovec iov[MAX_IOV];
        int n_iov = 0;
        struct chunk *first = flow_head(f);
        if (!first || first->due_ns > p->now_ns)
            return 0;
        if (first->len == 0) {
            /* Everything before the EOF is written: pass the half-close on. */
            chunk_free(first);
            f->shut = true;
            if (shutdown(dst->fd, SHUT_WR) < 0 && errno != ENOTCONN)
                return -1;
            return 0;
        }
        for (struct link *l = f->queue.next; l != &f->queue && n_iov < MAX_IOV; l = l->next) {
            struct chunk *ch = container_of(l, struct chunk, qlink);
            if (ch->len == 0 || ch->due_ns > p->now_ns)
                break;
            iov[n_iov].iov_base = ch->data + ch->off;
            iov[n_iov].iov_len = ch->len - ch->off;
            n_iov++;
        }
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n_iov};
        ssize_t sent = sendmsg(dst->fd, &msg, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                dst->writable = false;
                return 0;
            }
            if (errno == EINTR)
                continue;
            return -1;
        }
        p->stats.bytes[f->dir] += (uint64_t)sent;
        f->queued -= (size_t)sent;
        size_t left = (size_t)sent;
        struct link *l = f->queue.next;
        while (left && l != &f->queue) {
            struct link *next = l->next;
            struct chunk *ch = container_of(l, struct chunk, qlink);
            size_t rest = ch->len - ch->off;
            if (left < rest) {
                ch->off += left;
                left = 0;
            } else {
                left -= rest;
                chunk_free(ch);
            }
            l = next;
        }
    }
    return 0;
}

/* True when the flow can make progress without a new epoll event. */
static bool flow_has_work(const struct proxy *p, struct flow *f)
{
    const struct conn *c = f->conn;
    if (c->end[f->dir].readable && !f->eof && f->queued < p->max_queue)
        return true;
    struct chunk *head = flow_head(f);
    return head && head->due_ns <= p->now_ns && c->end[!f->dir].writable && !f->shut;
}

/* ---- connections ---- */

static void listen_resume(struct proxy *p);

static void conn_close(struct proxy *p, struct conn *c, bool on_error)
{
    if (c->closed)
        return;
    c->closed = true;
    if (on_error)
        p->stats.closed_on_error++;
    for (int i = 0; i < 2; i++) {
        if (c->end[i].fd >= 0)
            close(c->end[i].fd); /* also leaves the epoll set */
        c->end[i].fd = -1;
        flow_clear(&c->flow[i]);
    }
    if (!link_empty(&c->ready))
        link_remove(&c->ready);
    /* Freed at the end of the loop iteration: this iteration's events may still name it. */
    link_remove(&c->all);
    c->next_dead = p->dead;
    p->dead = c;
    listen_resume(p);
}

/* Moves bytes both ways as far as they go now; closes the connection when it is over. */
static void conn_pump(struct proxy *p, struct conn *c)
{
    if (c->closed)
        return;
    for (int i = 0; i < 2; i++)
        if (flow_write(p, &c->flow[i]) < 0)
            goto fail;
    for (int i = 0; i < 2; i++)
        if (flow_read(p, &c->flow[i]) < 0)
            goto fail;
    if (!p->delay_ns)
        for (int i = 0; i < 2; i++)
            if (flow_write(p, &c->flow[i]) < 0)
                goto fail;
    if (c->flow[0].shut && c->flow[1].shut) {
        conn_close(p, c, false);
        return;
    }
    if ((flow_has_work(p, &c->flow[0]) || flow_has_work(p, &c->flow[1])) && link_empty(&c->ready))
        link_append(&p->ready, &c->ready);
    return;
fail:
    conn_close(p, c, true);
}

static void set_nodelay(int fd)
{
    int one = 1;
    /* Without it Nagle meets delayed ACKs and small query messages wait tens of ms. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void conn_open(struct proxy *p, int client_fd)
{
    const struct addrinfo *ai = p->upstream;
    int up = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (up < 0) {
        fprintf(stderr, PROG ": cannot create a socket: %s\n", strerror(errno));
        goto close_client;
    }
    set_nodelay(client_fd);
    set_nodelay(up);
    if (connect(up, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
        fprintf(stderr, PROG ": cannot connect upstream: %s\n", strerror(errno));
        p->stats.connect_failed++;
        goto close_up;
    }

    struct conn *c = xmalloc(sizeof(*c));
    memset(c, 0, sizeof(*c));
    link_init(&c->ready);
    link_append(&p->conns, &c->all);
    int fds[2] = {client_fd, up};
    for (int i = 0; i < 2; i++) {
        c->end[i] = (struct end){.conn = c, .fd = fds[i]};
        c->flow[i] = (struct flow){.conn = c, .dir = i};
        link_init(&c->flow[i].queue);
    }
    /* Registering reports each socket's state at once. The client may speak first
     * (PostgreSQL's startup packet): that is read and queued while the upstream connects. */
    for (int i = 0; i < 2; i++) {
        if (epoll_add(p->ep, fds[i], EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, &c->end[i]) < 0) {
            fprintf(stderr, PROG ": epoll_ctl: %s\n", strerror(errno));
            conn_close(p, c, true);
            return;
        }
    }
    p->stats.accepted++;
    return;

close_up:
    close(up);
close_client:
    close(client_fd);
}

/* The upstream socket reported writable or an error: did connect() work? */
static bool conn_check_connect(struct proxy *p, struct conn *c)
{
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(c->end[END_UPSTREAM].fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err) {
        fprintf(stderr, PROG ": cannot connect upstream: %s\n", strerror(err));
        p->stats.connect_failed++;
        conn_close(p, c, true);
        return false;
    }
    c->connected = true;
    return true;
}

static void end_event(struct proxy *p, struct end *e, uint32_t events)
{
    struct conn *c = e->conn;
    if (c->closed)
        return;
    bool upstream = e == &c->end[END_UPSTREAM];
    if (upstream && !c->connected) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) || !conn_check_connect(p, c))
            return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        e->readable = true;
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        e->hangup = true;
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
        e->writable = true;
    conn_pump(p, c);
}

/* ---- the listener, the timer, signals ---- */

static void listen_pause(struct proxy *p)
{
    if (!p->accept_paused && epoll_ctl(p->ep, EPOLL_CTL_DEL, p->listen_fd, NULL) == 0)
        p->accept_paused = true;
}

static void listen_resume(struct proxy *p)
{
    if (p->accept_paused && epoll_add(p->ep, p->listen_fd, EPOLLIN, &listen_tag) == 0)
        p->accept_paused = false;
}

static void listen_event(struct proxy *p)
{
    for (int i = 0; i < 64; i++) { /* level-triggered: the rest come on the next wake-up */
        int fd = accept4(p->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            conn_open(p, fd);
            continue;
        }
        if (errno == EMFILE || errno == ENFILE) {
            /* Out of descriptors: wait for a connection to close instead of spinning. */
            fprintf(stderr, PROG ": cannot accept: %s; pausing\n", strerror(errno));
            listen_pause(p);
        }
        return;
    }
}

static void timer_event(struct proxy *p)
{
    uint64_t expirations;
    if (read(p->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
        fprintf(stderr, PROG ": timerfd read: %s\n", strerror(errno));
    p->armed_ns = 0;
    while (!link_empty(&p->timers)) {
        struct chunk *ch = container_of(p->timers.next, struct chunk, tlink);
        if (ch->due_ns > p->now_ns)
            break;
        struct conn *c = ch->flow->conn;
        uint64_t late = p->now_ns - ch->due_ns;
        p->stats.released++;
        p->stats.late_ns_sum += late;
        if (late > p->stats.late_ns_max)
            p->stats.late_ns_max = late;
        link_remove(&ch->tlink);
        conn_pump(p, c); /* may free this chunk and others, even the connection */
    }
}

static void timer_arm(struct proxy *p)
{
    if (link_empty(&p->timers))
        return;
    uint64_t due = container_of(p->timers.next, struct chunk, tlink)->due_ns;
    if (due == p->armed_ns)
        return;
    struct itimerspec its = {
        .it_value = {.tv_sec = (time_t)(due / 1000000000u), .tv_nsec = (long)(due % 1000000000u)}};
    if (timerfd_settime(p->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
        fprintf(stderr, PROG ": timerfd_settime: %s\n", strerror(errno));
        p->stop = true;
        return;
    }
    p->armed_ns = due;
}

static void signal_event(struct proxy *p)
{
    struct signalfd_siginfo si;
    if (read(p->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        p->stop = true;
}

/* Connections with work left over from earlier (a full queue that drained, a burst cut short
 * for fairness) get one more pass; new work they find queues them again for the next loop. */
static void run_ready(struct proxy *p)
{
    struct link batch;
    link_init(&batch);
    link_splice(&batch, &p->ready);
    while (!link_empty(&batch)) {
        struct conn *c = container_of(batch.next, struct conn, ready);
        link_remove(&c->ready);
        conn_pump(p, c);
    }
}

static void free_dead(struct proxy *p)
{
    while (p->dead) {
        struct conn *c = p->dead;
        p->dead = c->next_dead;
        free(c);
    }
}

static int proxy_run(struct proxy *p)
{
    struct epoll_event events[MAX_EVENTS];

    while (!p->stop) {
        int n = epoll_wait(p->ep, events, MAX_EVENTS, link_empty(&p->ready) ? -1 : 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, PROG ": epoll_wait: %s\n", strerror(errno));
            return -1;
        }
        p->now_ns = now_ns();
        for (int i = 0; i < n; i++) {
            struct end *tag = events[i].data.ptr;
            if (tag == &listen_tag)
                listen_event(p);
            else if (tag == &timer_tag)
                timer_event(p);
            else if (tag == &signal_tag)
                signal_event(p);
            else
                end_event(p, tag, events[i].events);
        }
        run_ready(p);
        timer_arm(p);
        free_dead(p);
    }
    return 0;
}

/* ---- set-up ---- */

/* "HOST:PORT" or "[V6]:PORT" -> addrinfo (caller frees with freeaddrinfo), or NULL. */
static struct addrinfo *resolve(const char *spec, bool passive)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || (size_t)(colon - spec) >= sizeof(host) || !colon[1])
        goto bad;
    size_t hlen = (size_t)(colon - spec);
    memcpy(host, spec, hlen);
    host[hlen] = '\0';
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        memmove(host, host + 1, hlen - 2);
        host[hlen - 2] = '\0';
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0)};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, PROG ": cannot resolve '%s': %s\n", spec, gai_strerror(rc));
        return NULL;
    }
    return res;
bad:
    fprintf(stderr, PROG ": '%s' is not HOST:PORT\n", spec);
    return NULL;
}

static int listen_on(const char *spec)
{
    struct addrinfo *ai = resolve(spec, true);
    if (!ai)
        return -1;
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        goto fail;
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0)
        goto fail_fd;
    freeaddrinfo(ai);
    return fd;
fail_fd:
    close(fd);
fail:
    fprintf(stderr, PROG ": cannot listen on '%s': %s\n", spec, strerror(errno));
    freeaddrinfo(ai);
    return -1;
}

/* Prints "listening on HOST:PORT" on stdout (the port is the kernel's choice for port 0). */
static int announce(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    memset(&ss, 0, sizeof(ss));
    char host[NI_MAXHOST], port[NI_MAXSERV];
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
        getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port, sizeof(port),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return -1;
    printf(ss.ss_family == AF_INET6 ? "listening on [%s]:%s\n" : "listening on %s:%s\n", host,
           port);
    return fflush(stdout) == 0 ? 0 : -1;
}

/* A connection is two descriptors: take what the hard limit allows (c=256 and more). */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Safe to release whatever this returns. */
static int proxy_init(struct proxy *p, const char *listen_spec, const char *upstream_spec)
{
    link_init(&p->conns);
    link_init(&p->ready);
    link_init(&p->timers);
    p->ep = p->listen_fd = p->timer_fd = p->signal_fd = -1;
    if (!(p->upstream = resolve(upstream_spec, false)))
        return -1;

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
        return -1;
    (void)signal(SIGPIPE, SIG_IGN);
    /* The default 50 us of timer slack would be a tenth of a 500 us delay. */
    (void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    raise_nofile();
    /* Chunks of up to 64 KiB come and go at memory speed: keep freed heap for the next ones
     * instead of giving it back and faulting fresh zeroed pages in (measured: 6x the CPU per byte).
     */
    (void)mallopt(M_TRIM_THRESHOLD, 64 << 20);
    (void)mallopt(M_MMAP_THRESHOLD, 1 << 20);

    if ((p->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        (p->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0 ||
        (p->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
        fprintf(stderr, PROG ": cannot set up the event loop: %s\n", strerror(errno));
        return -1;
    }
    if ((p->listen_fd = listen_on(listen_spec)) < 0)
        return -1;
    if (epoll_add(p->ep, p->listen_fd, EPOLLIN, &listen_tag) < 0 ||
        epoll_add(p->ep, p->timer_fd, EPOLLIN, &timer_tag) < 0 ||
        epoll_add(p->ep, p->signal_fd, EPOLLIN, &signal_tag) < 0) {
        fprintf(stderr, PROG ": epoll_ctl: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

static void proxy_release(struct proxy *p)
{
    while (!link_empty(&p->conns))
        conn_close(p, container_of(p->conns.next, struct conn, all), false);
    free_dead(p);
    int fds[] = {p->listen_fd, p->signal_fd, p->timer_fd, p->ep};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    if (p->upstream)
        freeaddrinfo(p->upstream);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " --upstream HOST:PORT [--listen HOST:PORT] [--delay-us N]\n"
            "                   [--max-queue BYTES]\n"
            "  --upstream HOST:PORT  where to forward (e.g. PostgreSQL at 127.0.0.1:5432)\n"
            "  --listen HOST:PORT    where to accept (default 127.0.0.1:0, a free port);\n"
            "                        prints 'listening on HOST:PORT' on stdout when ready\n"
            "  --delay-us N          one-way delay added to every chunk, each direction\n"
            "                        (default 0; a round trip costs 2 N more)\n"
            "  --max-queue BYTES     per direction and connection, stop reading beyond this\n"
            "                        (default %d)\n"
            "SIGTERM or SIGINT: exit 0, printing the counters on stderr.\n",
            DEFAULT_MAX_QUEUE);
}

static bool parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v > max)
        return false;
    *out = v;
    return true;
}

enum opt {
    OPT_UPSTREAM = 'u',
    OPT_LISTEN = 'l',
    OPT_DELAY = 'd',
    OPT_MAX_QUEUE = 'q',
    OPT_HELP = 'h'
};

static const struct option options[] = {
    {"upstream", required_argument, NULL, OPT_UPSTREAM},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"delay-us", required_argument, NULL, OPT_DELAY},
    {"max-queue", required_argument, NULL, OPT_MAX_QUEUE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

int main(int argc, char **argv)
{
    static struct proxy proxy; /* the scratch buffer is large: not on the stack */
    struct proxy *p = &proxy;
    const char *listen_spec = "127.0.0.1:0", *upstream_spec = NULL;
    unsigned long delay_us = 0, max_queue = DEFAULT_MAX_QUEUE;
    int opt, rc = 1;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case OPT_UPSTREAM:
            upstream_spec = optarg;
            break;
        case OPT_LISTEN:
            listen_spec = optarg;
            break;
        case OPT_DELAY:
            if (!parse_ulong(optarg, MAX_DELAY_US, &delay_us)) {
                fprintf(stderr, PROG ": --delay-us '%s': want 0..%d\n", optarg, MAX_DELAY_US);
                return 2;
            }
            break;
        case OPT_MAX_QUEUE:
            if (!parse_ulong(optarg, SIZE_MAX / 2, &max_queue) || max_queue == 0) {
                fprintf(stderr, PROG ": --max-queue '%s': want a positive number\n", optarg);
                return 2;
            }
            break;
        case OPT_HELP:
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!upstream_spec || optind != argc) {
        usage(stderr);
        return 2;
    }

    p->delay_ns = (uint64_t)delay_us * 1000u;
    p->max_queue = max_queue;
    if (proxy_init(p, listen_spec, upstream_spec) < 0 || announce(p->listen_fd) < 0)
        goto out;
    if (proxy_run(p) == 0)
        rc = 0;
    fprintf(stderr,
            PROG ": %" PRIu64 " connections (%" PRIu64 " upstream connects failed, %" PRIu64
                 " closed on errors), %" PRIu64 " bytes to upstream, %" PRIu64
                 " bytes back, peak queue %zu bytes; timer late by %.1f us on average, at most"
                 " %.1f us\n",
            p->stats.accepted, p->stats.connect_failed, p->stats.closed_on_error,
            p->stats.bytes[END_CLIENT], p->stats.bytes[END_UPSTREAM], p->stats.peak_queue,
            p->stats.released ? (double)p->stats.late_ns_sum / (double)p->stats.released / 1e3
                              : 0.0,
            (double)p->stats.late_ns_max / 1e3);
out:
    proxy_release(p);
    return rc;
}
