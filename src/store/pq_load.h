/*
 * pq_load.h — libpq, loaded when the PostgreSQL store first needs it (ADR 0025).
 *
 * The binary is not linked with libpq: with its dependencies (OpenSSL, Kerberos/GSSAPI, LDAP,
 * SASL) it is about half of the shared libraries the process would map, and the embedded store
 * never calls it. pq_load.c defines the PQ* functions the code calls as forwards to the same
 * functions of `libpq.so.5`, opened with dlopen(RTLD_NOW | RTLD_LOCAL); callers include
 * <libpq-fe.h> and call libpq as usual.
 *
 * Call pq_load() before the first PQ* call, where a missing library can become an error
 * message: it opens the library and resolves every function of the forwarding table, once per
 * process (thread-safe; later calls return the first outcome). A PQ* call made without it loads
 * the library itself and, if that fails, prints the reason and aborts. A function not in the
 * table (pq_load.c) is an undefined reference at link time: add it there.
 */
#ifndef PQ_LOAD_H
#define PQ_LOAD_H

#include <stddef.h>

/* The file pq_load opens (the library's soname, found by the dynamic loader's search path). */
#define PQ_LOAD_LIBRARY "libpq.so.5"

/* 0 when libpq is loaded; else -1 with "cannot load 'libpq.so.5': <reason>" in err. */
int pq_load(char *err, size_t errlen);

#endif
