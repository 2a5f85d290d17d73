/*
 * lingering.h — lingering close: a connection closed after an early error (413, 431, 400 on
 * framing) is not closed at once. Its write side is shut (the client sees the response, then
 * end of stream) and whatever the client still sends is read and thrown away, until the client
 * closes or a time or byte bound is reached; only then is the socket closed. Closing with
 * unread input would make the kernel answer with a TCP reset, and a client still sending its
 * body would then lose the response it has not read yet (nginx's lingering_close).
 *
 * One thread with its own epoll set does the discarding for every such connection, so a slow
 * or endless sender never holds an HTTP worker. The number of lingering connections is bounded
 * too: past it a connection is closed at once.
 */
#ifndef HTTP_LINGERING_H
#define HTTP_LINGERING_H

#include <stddef.h>

struct lingering;

/* Each connection lingers at most max_ms in all, at most idle_ms without receiving anything,
 * and is closed once it has sent max_bytes more. At most max_conns linger at once. Returns
 * NULL with one line in err if the thread cannot start. */
struct lingering *lingering_new(int max_ms, int idle_ms, size_t max_bytes, int max_conns, char *err,
                                size_t errlen);

/* Takes ownership of fd (a connected stream socket whose response has been written): shuts its
 * write side and discards input until one of the bounds. Thread-safe. */
void lingering_add(struct lingering *linger, int fd);

/* The number of connections lingering now. Thread-safe. */
int lingering_count(struct lingering *linger);

/* Stops the thread and closes every lingering connection. NULL is a no-op. */
void lingering_free(struct lingering *linger);

#endif
