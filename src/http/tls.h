/*
 * tls.h — HTTPS on the listener (docs/adr/0017-listener-tls.md).
 *
 * The certificate comes from TlsCertFile + TlsKeyFile (PEM; the server's certificate first,
 * then its intermediates), or, with TlsSelfSigned and no files, is made at start (ECDSA P-256,
 * self-signed, for a load balancer that does not verify its targets). http_tls_new loads and
 * checks it before anything listens: a missing or unreadable file, a file without a PEM
 * certificate or key, or a key that is not the certificate's is one line naming the key and
 * the path. libmicrohttpd (GnuTLS underneath) then asks this module for the certificate at
 * every handshake; http_tls_reload (SIGHUP) replaces it for the handshakes that follow, while
 * connections already open keep theirs. TLS 1.2 and 1.3 only, AEAD ciphers only, forward
 * secrecy only; ALPN offers http/1.1 (libmicrohttpd's own).
 *
 * One per process: GnuTLS's certificate callback carries no user pointer, so the current
 * certificate is this module's state. Handshakes on the worker threads may run while
 * http_tls_reload replaces the certificate: each handshake gets its own copy.
 */
#ifndef HTTP_TLS_H
#define HTTP_TLS_H

#include <stdbool.h>
#include <stddef.h>

struct http_tls;
struct MHD_OptionItem;

/* What http_tls_new is told (by serve, from the configuration); the strings are copied. */
struct http_tls_options {
    const char *cert_file; /* TlsCertFile; NULL or "": not set */
    const char *key_file;  /* TlsKeyFile; NULL or "": not set */
    bool self_signed;      /* TlsSelfSigned */
};

/*
 * Loads the certificate opts names (or makes one). Returns 0 with *out NULL when opts ask for
 * plain HTTP (no TlsCertFile, no TlsKeyFile, TlsSelfSigned false), 0 with *out set, or -1
 * with one line in err, e.g. "TlsKeyFile '/x/key.pem': does not match the certificate in
 * TlsCertFile '/x/cert.pem'". Only one may exist at a time.
 */
int http_tls_new(const struct http_tls_options *opts, struct http_tls **out, char *err,
                 size_t errlen);

/* Sets the listening socket up for TLS: TCP_NODELAY, which accepted connections inherit (a
 * TLS 1.3 handshake's last flight and the first response would otherwise wait for a delayed
 * ACK, about 40 ms each). Nothing for tls NULL. */
void http_tls_prepare_listener(const struct http_tls *tls, int fd);

/* The flags to add to MHD_start_daemon's (MHD_USE_TLS), and the options to pass with
 * MHD_OPTION_ARRAY (the certificate callback and the cipher priorities), valid while tls
 * lives. For tls NULL (plain HTTP): 0, and an array holding only MHD_OPTION_END. */
unsigned http_tls_daemon_flags(const struct http_tls *tls);
struct MHD_OptionItem *http_tls_daemon_options(struct http_tls *tls);

/*
 * Reads the files again (or makes a new self-signed certificate) and, if all is well, serves
 * the new certificate from the next handshake on. On failure returns -1 with one line in err
 * and keeps serving the current one.
 */
int http_tls_reload(struct http_tls *tls, char *err, size_t errlen);

/* One line on the current certificate for the log: subject, SHA-256 fingerprint, expiry. */
void http_tls_describe(struct http_tls *tls, char *out, size_t outlen);

/* Frees tls; call after the server has stopped. NULL is fine. */
void http_tls_free(struct http_tls *tls);

#endif
