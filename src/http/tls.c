/*
 * tls.c — see tls.h.
 *
 * A certificate (the parsed chain and key) is loaded and checked once and then never changed:
 * struct tls_cert. libmicrohttpd calls tls_retrieve at each handshake (GnuTLS's certificate
 * callback); it copies the current tls_cert into that session's own GnuTLS objects and hands
 * them over with GNUTLS_CERT_RETR_DEINIT_ALL, so GnuTLS frees them when the session ends. A
 * reload builds a new tls_cert and swaps the pointer under the same mutex; the old one can be
 * freed at once, because no session points into it. The copy costs about 30 us for a P-256
 * key and one certificate (ADR 0017), and the mutex also keeps GnuTLS from ever reading one
 * certificate object from two threads at once.
 */
#include "http/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util/file.h"
#include "util/xalloc.h"

/*
 * TLS 1.2 and 1.3 only; in TLS 1.2 only ECDHE key exchange (forward secrecy) and AEAD ciphers
 * (AES-GCM, ChaCha20-Poly1305): no CBC (MAC-then-encrypt, the padding oracles of Lucky13 and
 * POODLE's descendants), no RSA key transport, no finite-field DHE. Every TLS client of the
 * last decade offers one of these. The server's order wins.
 */
#define PRIORITIES                                                                                 \
    "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:"         \
    "+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE"
/* A PEM file larger than this is not a certificate chain or a key. */
#define MAX_PEM_BYTES (1024 * 1024)
/* The self-signed certificate: valid from an hour ago (clocks differ) for a year. */
#define SELF_SIGNED_BACKDATE_S 3600
#define SELF_SIGNED_DAYS       365
#define MAX_CHAIN              16

struct tls_cert {
    gnutls_x509_crt_t chain[MAX_CHAIN]; /* the server's certificate first */
    unsigned chain_len;
    gnutls_x509_privkey_t key;
    char desc[320]; /* subject, fingerprint, expiry: for the log */
};

struct http_tls {
    char *cert_file, *key_file; /* "" when self-signed */
    pthread_mutex_t lock;       /* guards current, and every use of it */
    struct tls_cert *current;
    struct MHD_OptionItem options[3];
};

/* The one instance: the certificate callback has no user pointer. */
static struct http_tls *the_tls;

static struct MHD_OptionItem no_options[] = {{MHD_OPTION_END, 0, NULL}};

static void cert_free(struct tls_cert *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < c->chain_len; i++)
        gnutls_x509_crt_deinit(c->chain[i]);
    if (c->key)
        gnutls_x509_privkey_deinit(c->key);
    free(c);
}

/* Fills c->desc from the server's certificate:
 * "subject 'CN=x', SHA-256 AB:CD:..., expires 2027-12-01T11:29:36Z". */
static void cert_describe(struct tls_cert *c, gnutls_x509_crt_t crt)
{
    char dn[160] = "?", fp_hex[3 * 32] = "", when[32] = "?";
    size_t dn_len = sizeof dn;
    unsigned char fp[32];
    size_t fp_len = sizeof fp;

    if (gnutls_x509_crt_get_dn(crt, dn, &dn_len) < 0)
        snprintf(dn, sizeof dn, "?");
    if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fp, &fp_len) == 0) {
        for (size_t i = 0; i < fp_len && i < sizeof fp; i++)
            snprintf(fp_hex + 3 * i, sizeof fp_hex - 3 * i, i + 1 < fp_len ? "%02X:" : "%02X",
                     fp[i]);
    }
    time_t expires = gnutls_x509_crt_get_expiration_time(crt);
    struct tm tm;
    if (expires != (time_t)-1 && gmtime_r(&expires, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(c->desc, sizeof c->desc, "subject '%s', SHA-256 %s, expires %s", dn, fp_hex, when);
}

/* Reads a whole PEM file of at most MAX_PEM_BYTES. Returns 0, or -1 with errno set. */
static int read_whole(const char *path, gnutls_datum_t *out)
{
    char *data;
    size_t n;

    if (file_read_all(path, MAX_PEM_BYTES, &data, &n) < 0)
        return -1;
    out->data = (unsigned char *)data;
    out->size = (unsigned)n;
    return 0;
}

static int read_pem(const char *key, const char *path, gnutls_datum_t *out, char *err,
                    size_t errlen)
{
    if (read_whole(path, out) == 0)
        return 0;
    if (errno == EFBIG)
        snprintf(err, errlen, "%s '%s': larger than %d bytes", key, path, MAX_PEM_BYTES);
    else
        snprintf(err, errlen, "%s '%s': %s", key, path, strerror(errno));
    return -1;
}

static void wipe_free(gnutls_datum_t *d)
{
    if (!d->data)
        return;
    gnutls_memset(d->data, 0, d->size); /* not optimised away, unlike memset */
    free(d->data);
    d->data = NULL;
}

/* The SHA-256 key id of a certificate's public key and of a private key: equal if they match. */
static bool key_matches(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
    unsigned char a[64], b[64];
    size_t alen = sizeof a, blen = sizeof b;

    if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, a, &alen) < 0 ||
        gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, b, &blen) < 0)
        return false;
    return alen == blen && memcmp(a, b, alen) == 0;
}

/* A new tls_cert that takes over the n certificates of crts and key. */
static struct tls_cert *cert_new(gnutls_x509_crt_t *crts, unsigned n, gnutls_x509_privkey_t key)
{
    struct tls_cert *c = xcalloc(1, sizeof *c);

    for (unsigned i = 0; i < n; i++)
        c->chain[c->chain_len++] = crts[i];
    c->key = key;
    cert_describe(c, crts[0]);
    return c;
}

/* Loads TlsCertFile and TlsKeyFile, checks they belong together. NULL with err on failure. */
static struct tls_cert *cert_load(const char *cert_file, const char *key_file, char *err,
                                  size_t errlen)
{
    gnutls_datum_t cert_pem = {NULL, 0}, key_pem = {NULL, 0};
    gnutls_x509_crt_t *crts = NULL;
    unsigned n = 0;
    gnutls_x509_privkey_t key = NULL;
    struct tls_cert *c = NULL;
    int rc;

    if (read_pem("TlsCertFile", cert_file, &cert_pem, err, errlen) < 0 ||
        read_pem("TlsKeyFile", key_file, &key_pem, err, errlen) < 0)
        goto out;
    rc = gnutls_x509_crt_list_import2(&crts, &n, &cert_pem, GNUTLS_X509_FMT_PEM,
                                      GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
    if (rc == GNUTLS_E_CERTIFICATE_LIST_UNSORTED) {
        snprintf(err, errlen,
                 "TlsCertFile '%s': the certificates are out of order (the server's own "
                 "certificate first, then each issuer)",
                 cert_file);
        goto out;
    }
    if (rc < 0 || n == 0) {
        snprintf(err, errlen, "TlsCertFile '%s': no PEM certificate in it (%s)", cert_file,
                 rc < 0 ? gnutls_strerror(rc) : "empty");
        goto out;
    }
    if (n > MAX_CHAIN) {
        snprintf(err, errlen, "TlsCertFile '%s': %u certificates, at most %d", cert_file, n,
                 MAX_CHAIN);
        goto out;
    }
    if (gnutls_x509_privkey_init(&key) < 0) {
        snprintf(err, errlen, "TlsKeyFile '%s': out of memory", key_file);
        goto out;
    }
    rc = gnutls_x509_privkey_import2(key, &key_pem, GNUTLS_X509_FMT_PEM, NULL, 0);
    if (rc < 0) {
        snprintf(err, errlen, "TlsKeyFile '%s': no unencrypted PEM private key in it (%s)",
                 key_file, gnutls_strerror(rc));
        goto out;
    }
    if (!key_matches(crts[0], key)) {
        snprintf(err, errlen, "TlsKeyFile '%s': does not match the certificate in TlsCertFile '%s'",
                 key_file, cert_file);
        goto out;
    }
    c = cert_new(crts, n, key);
    if (gnutls_x509_crt_get_expiration_time(crts[0]) < time(NULL))
        log_warn("TlsCertFile '%s': the certificate has expired (%s)", cert_file, c->desc);
    n = 0; /* the certificates and the key are c's now */
    key = NULL;

out:
    for (unsigned i = 0; i < n; i++)
        gnutls_x509_crt_deinit(crts[i]);
    gnutls_free(crts);
    if (key)
        gnutls_x509_privkey_deinit(key);
    wipe_free(&key_pem);
    free(cert_pem.data);
    return c;
}

/* The host name for the self-signed certificate's subject and SAN. */
static void host_name(char *out, size_t outlen)
{
    if (gethostname(out, outlen) != 0 || out[0] == '\0' || strlen(out) >= 64)
        snprintf(out, outlen, "localhost");
    out[outlen - 1] = '\0';
}

/* Makes a self-signed ECDSA P-256 certificate for this host. NULL with err on failure. */
static struct tls_cert *cert_self_signed(char *err, size_t errlen)
{
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    unsigned char serial[16];
    char host[256];
    time_t now = time(NULL);
    int rc;

    host_name(host, sizeof host);
    if ((rc = gnutls_x509_privkey_init(&key)) < 0 ||
        (rc = gnutls_x509_privkey_generate(
             key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0 ||
        (rc = gnutls_x509_crt_init(&crt)) < 0 ||
        (rc = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial)) < 0)
        goto fail;
    serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x01); /* positive, 16 bytes long */
    if ((rc = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
        (rc = gnutls_x509_crt_set_serial(crt, serial, sizeof serial)) < 0 ||
        (rc = gnutls_x509_crt_set_activation_time(crt, now - SELF_SIGNED_BACKDATE_S)) < 0 ||
        (rc = gnutls_x509_crt_set_expiration_time(crt, now + SELF_SIGNED_DAYS * 86400L)) < 0 ||
        (rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, host,
                                            (unsigned)strlen(host))) < 0 ||
        (rc = gnutls_x509_crt_set_subject_alt_name(
             crt, GNUTLS_SAN_DNSNAME, host, (unsigned)strlen(host), GNUTLS_FSAN_APPEND)) < 0 ||
        (rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
                                                   GNUTLS_FSAN_APPEND)) < 0 ||
        (rc = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
        (rc = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
        (rc = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
        (rc = gnutls_x509_crt_set_key(crt, key)) < 0 ||
        (rc = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0)
        goto fail;
    return cert_new(&crt, 1, key);

fail:
    snprintf(err, errlen, "TlsSelfSigned: cannot make a certificate: %s", gnutls_strerror(rc));
    if (crt)
        gnutls_x509_crt_deinit(crt);
    if (key)
        gnutls_x509_privkey_deinit(key);
    return NULL;
}

static struct tls_cert *cert_get(const struct http_tls *tls, char *err, size_t errlen)
{
    if (tls->cert_file[0] == '\0')
        return cert_self_signed(err, errlen);
    return cert_load(tls->cert_file, tls->key_file, err, errlen);
}

/*
 * GnuTLS's certificate callback (through libmicrohttpd), on a worker thread, once per
 * handshake: this session's own copies of the current chain and key, which GnuTLS frees with
 * the session (GNUTLS_CERT_RETR_DEINIT_ALL).
 */
static int tls_retrieve(gnutls_session_t session, const struct gnutls_cert_retr_st *info,
                        gnutls_pcert_st **certs, unsigned *certs_len, gnutls_ocsp_data_st **ocsp,
                        unsigned *ocsp_len, gnutls_privkey_t *privkey, unsigned *flags)
{
    struct http_tls *tls = the_tls;
    gnutls_pcert_st *pcerts = NULL;
    gnutls_x509_privkey_t xkey = NULL;
    gnutls_privkey_t key = NULL;
    unsigned done = 0, n;
    (void)session;
    (void)info;

    *ocsp = NULL;
    *ocsp_len = 0;
    if (!tls)
        return -1;
    pthread_mutex_lock(&tls->lock);
    const struct tls_cert *c = tls->current;
    n = c->chain_len;
    pcerts = gnutls_malloc(n * sizeof *pcerts);
    if (!pcerts)
        goto fail;
    for (; done < n; done++)
        if (gnutls_pcert_import_x509(&pcerts[done], c->chain[done], 0) < 0)
            goto fail;
    if (gnutls_x509_privkey_init(&xkey) < 0 || gnutls_x509_privkey_cpy(xkey, c->key) < 0 ||
        gnutls_privkey_init(&key) < 0 ||
        gnutls_privkey_import_x509(key, xkey, GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE) < 0)
        goto fail;
    pthread_mutex_unlock(&tls->lock);
    *certs = pcerts;
    *certs_len = n;
    *privkey = key;
    *flags = GNUTLS_CERT_RETR_DEINIT_ALL;
    return 0;

fail:
    pthread_mutex_unlock(&tls->lock);
    if (key)
        gnutls_privkey_deinit(key); /* not xkey's owner unless the import succeeded */
    if (xkey)
        gnutls_x509_privkey_deinit(xkey);
    for (unsigned i = 0; i < done; i++)
        gnutls_pcert_deinit(&pcerts[i]);
    gnutls_free(pcerts);
    return -1;
}

/* libmicrohttpd takes the callback through a void * in MHD_OPTION_ARRAY. */
static void *retrieve_as_pointer(void)
{
    union {
        gnutls_certificate_retrieve_function3 *fn;
        void *ptr;
    } u = {.fn = tls_retrieve};
    return u.ptr;
}

static int check_library(char *err, size_t errlen)
{
    gnutls_priority_t prio;
    const char *where = NULL;

    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES ||
        MHD_is_feature_supported(MHD_FEATURE_HTTPS_CERT_CALLBACK2) != MHD_YES) {
        snprintf(err, errlen, "TLS is configured but this libmicrohttpd has no TLS support");
        return -1;
    }
    int rc = gnutls_priority_init(&prio, PRIORITIES, &where);
    if (rc < 0) {
        snprintf(err, errlen, "the TLS cipher list is not accepted by this GnuTLS at '%s': %s",
                 where ? where : "?", gnutls_strerror(rc));
        return -1;
    }
    gnutls_priority_deinit(prio);
    return 0;
}

int http_tls_new(const struct http_tls_options *opts, struct http_tls **out, char *err,
                 size_t errlen)
{
    const char *cert_file = opts->cert_file ? opts->cert_file : "";
    const char *key_file = opts->key_file ? opts->key_file : "";

    *out = NULL;
    if (cert_file[0] == '\0' && key_file[0] == '\0' && !opts->self_signed)
        return 0;
    if (cert_file[0] == '\0' && key_file[0] != '\0') {
        snprintf(err, errlen, "TlsKeyFile '%s' is set but TlsCertFile is not: set both or neither",
                 key_file);
        return -1;
    }
    if (key_file[0] == '\0' && cert_file[0] != '\0') {
        snprintf(err, errlen, "TlsCertFile '%s' is set but TlsKeyFile is not: set both or neither",
                 cert_file);
        return -1;
    }
    if (the_tls) {
        snprintf(err, errlen, "TLS is already set up in this process");
        return -1;
    }
    if (check_library(err, errlen) < 0)
        return -1;

    struct http_tls *tls = xcalloc(1, sizeof *tls);
    tls->cert_file = xstrdup(cert_file);
    tls->key_file = xstrdup(key_file);
    tls->current = cert_get(tls, err, errlen);
    if (!tls->current) {
        free(tls->cert_file);
        free(tls->key_file);
        free(tls);
        return -1;
    }
    pthread_mutex_init(&tls->lock, NULL);
    tls->options[0] =
        (struct MHD_OptionItem){MHD_OPTION_HTTPS_CERT_CALLBACK2, 0, retrieve_as_pointer()};
    tls->options[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)PRIORITIES};
    tls->options[2] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    the_tls = tls;
    *out = tls;
    return 0;
}

void http_tls_prepare_listener(const struct http_tls *tls, int fd)
{
    int one = 1;

    if (tls && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        log_warn("cannot set TCP_NODELAY on the listener: %s", strerror(errno));
}

unsigned http_tls_daemon_flags(const struct http_tls *tls)
{
    return tls ? MHD_USE_TLS : 0;
}

struct MHD_OptionItem *http_tls_daemon_options(struct http_tls *tls)
{
    return tls ? tls->options : no_options;
}

int http_tls_reload(struct http_tls *tls, char *err, size_t errlen)
{
    struct tls_cert *fresh = cert_get(tls, err, errlen);
    if (!fresh)
        return -1;
    pthread_mutex_lock(&tls->lock);
    struct tls_cert *old = tls->current;
    tls->current = fresh;
    pthread_mutex_unlock(&tls->lock);
    cert_free(old); /* no session points into it: each has its own copy */
    return 0;
}

void http_tls_describe(struct http_tls *tls, char *out, size_t outlen)
{
    pthread_mutex_lock(&tls->lock);
    snprintf(out, outlen, "%s", tls->current->desc);
    pthread_mutex_unlock(&tls->lock);
}

void http_tls_free(struct http_tls *tls)
{
    if (!tls)
        return;
    if (the_tls == tls)
        the_tls = NULL;
    pthread_mutex_destroy(&tls->lock);
    cert_free(tls->current);
    free(tls->cert_file);
    free(tls->key_file);
    free(tls);
}
