/*
 * mhd_errors.h — the error responses libmicrohttpd makes by itself, replaced by ours.
 *
 * libmicrohttpd 0.9.75 answers a request it cannot parse (a bad request line, a bad header
 * line, HTTP/1.1 without Host, a bad Content-Length or chunk size, an unsupported version, a
 * head too large for its connection memory) before any callback of ours runs, with a fixed
 * HTML page. It has no option to change that page. But every such page goes through one
 * internal function, which calls the library's own exported functions through its PLT:
 * MHD_create_response_from_buffer, then MHD_queue_response, then MHD_destroy_response. A call
 * through the PLT binds to the first definition in the process's global scope, and the
 * executable comes first. So this module defines MHD_queue_response itself; the linker exports
 * it from the executable because the library defines the same name. The library's error path
 * then calls our definition, which queues the answer set with mhd_errors_init instead of the
 * library's page (docs/adr/0027-library-error-pages.md).
 *
 * Contract:
 * - In this program, MHD_queue_response means the interposer. Our own responses go through
 *   mhd_errors_queue, the library's real function, so every call that reaches the interposer
 *   comes from inside the library: its error path (or its authentication-failure helpers,
 *   which this program does not use).
 * - The answer callback runs on the library's thread for that connection, with the library's
 *   page still queued nowhere. It writes its whole response at once with mhd_errors_send and
 *   returns MHD_ERRORS_SENT; the interposer then tells the library that queueing failed, and the
 *   library closes the connection having sent nothing itself. (Queueing a response there
 *   instead would not do: when the library refuses a request after its header block — no Host,
 *   a bad Content-Length — libmicrohttpd 0.9.75 sends the head of whatever is queued twice.)
 *   MHD_ERRORS_DECLINED lets the library's page go out.
 * - If the library binds the call inside itself (built with -Bsymbolic, or a version whose
 *   error path no longer calls the exported function), the interposer is never reached and the
 *   library's pages come back. Nothing here can detect that; tests/reliability/badinput.t does,
 *   by checking the headers of every such answer.
 */
#ifndef HTTP_MHD_ERRORS_H
#define HTTP_MHD_ERRORS_H

#include <microhttpd.h>
#include <stdbool.h>

/* What the answer callback did with a library error. */
enum mhd_errors_answer {
    MHD_ERRORS_DECLINED, /* nothing: the library's page goes out */
    MHD_ERRORS_SENT,     /* wrote a whole response itself (mhd_errors_send): the library closes
                          * the connection without sending anything */
};

typedef enum mhd_errors_answer (*mhd_errors_answer_fn)(void *cls, struct MHD_Connection *conn,
                                                       unsigned status);

/* Routes the library's error pages to answer(cls, conn, status). Call once, before the daemon
 * starts; answer NULL restores the library's own pages. Returns false if the process's
 * MHD_queue_response is not the interposer (the executable does not export it, e.g. a static
 * or differently linked build): the library's pages then stay. A true return does not prove
 * that the library calls it (see above). */
bool mhd_errors_init(mhd_errors_answer_fn answer, void *cls);

/* Writes len bytes on conn's socket now — through its TLS session if it has one — waiting at
 * most timeout_ms for room. For a response the library is not sending (above). */
bool mhd_errors_send(struct MHD_Connection *conn, const void *data, size_t len, int timeout_ms);

/* The library's own MHD_queue_response (looked up with dlsym(RTLD_NEXT) once). Aborts if the
 * library has none: that would be a broken installation. */
enum MHD_Result mhd_errors_queue(struct MHD_Connection *conn, unsigned status,
                                 struct MHD_Response *resp);

#endif
