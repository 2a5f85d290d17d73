/*
 * guard.h — the checks a request's head passes before any handler sees it: framing that a proxy
 * in front of us could read differently (request smuggling), control characters in the path,
 * and the request id a client may send. Pure functions of bytes: the server (server.c) walks
 * the library's headers into them.
 */
#ifndef HTTP_GUARD_H
#define HTTP_GUARD_H

#include <stdbool.h>
#include <stddef.h>

/* A request id: what the client sent if sane, else one we generate; up to 64 characters. */
#define GUARD_REQUEST_ID_MAX 64

/* What guard_framing_field counts over a request's header fields; start from {0}. */
struct guard_framing {
    int content_length, transfer_encoding, host, fields;
    const char *error; /* the first field that is wrong on its own, or NULL */
};

/* Counts one header field (value may be NULL: a field without one); returns false once a field
 * is wrong on its own (f->error says why), after which the rest need not be visited: a name
 * that is not an RFC 9110 token, a value with a control character other than HTAB (NUL
 * included), a Transfer-Encoding other than "chunked". */
bool guard_framing_field(struct guard_framing *f, const char *name, size_t name_len,
                         const char *value, size_t value_len);

/* After every field: why the head is refused, or NULL. Besides f->error: Content-Length together
 * with Transfer-Encoding, either of them twice, more than one Host. */
const char *guard_framing_verdict(const struct guard_framing *f);

/* False for a path with a control character (sent raw, or %-decoded from %00..%1F or %7F). */
bool guard_path_is_sane(const char *path);

/* Rewrites each NUL among the n bytes of a %-decoded string to DEL (0x7f), so that a decoded
 * "%00" cannot end the string early ("/app.js%00.png" arriving as "/app.js") and
 * guard_path_is_sane refuses it. */
void guard_mark_nul(char *s, size_t n);

/* True if an incoming X-Request-Id may be kept: 1..GUARD_REQUEST_ID_MAX characters of
 * [A-Za-z0-9._:-]. */
bool guard_request_id_is_sane(const char *id);

/* A new request id: 16 lower-case hex digits, from a per-thread generator seeded by getrandom. */
void guard_request_id_generate(char out[17]);

#endif
