/*
 * config.h — the running configuration: defaults, then conf.toml, then VTT_* variables.
 *
 * Every key is a row of one table in config.c (name, default, parser, secret or not). A key
 * `Foo` is read from conf.toml as `"Foo" = "value"` (quoted or bare keys, string values, as the
 * Go original writes them; numbers and booleans are accepted too) and is overridden by the
 * environment variable VTT_FOO. Values are trimmed of surrounding white space.
 * VTT_DBPASSWORD_FILE names a file whose content (trimmed) is the password; it wins over
 * DbPassword from the file, and it is an error to set both it and VTT_DBPASSWORD.
 *
 * A config is loaded once at start-up and then only read, from any thread.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

enum db_type {
    DB_POSTGRES,
    DB_SQLITE, /* DbType "sqlite", or "boltdb" (the Go original's embedded store) */
};

/* DbPath when neither DbPath nor DbType boltdb says otherwise (ADR 0014). */
#define CONFIG_DEFAULT_DB_PATH "tasks.db"

struct config {
    /* The Go original's keys. */
    char *db_user;        /* DbUser, default "postgres"; masked in config_each, as in /debug */
    char *db_password;    /* DbPassword, default "postgres"; secret */
    char *db_name;        /* DbName, default "postgres" */
    int db_port;          /* DbPort, default 5432, 1..65535 */
    char *db_host;        /* DbHost, default "localhost" */
    enum db_type db_type; /* DbType, default "postgres" */
    char *db_type_name;   /* DbType as written ("postgres", "sqlite", "boltdb") */
    char *listen_host;    /* ListenHost, default "127.0.0.1" */
    int listen_port;      /* ListenPort, default 3000, 1..65535 (0 = any free port, for tests) */

    /* Ours. */
    char *db_path;             /* DbPath: the SQLite file. When not set: "<DbName>.sqlite" with
                                  DbType boltdb (next to the original's BoltDB file), otherwise
                                  CONFIG_DEFAULT_DB_PATH in the working directory (ADR 0014) */
    bool db_path_from_db_name; /* db_path was derived from DbName (boltdb, DbPath not set) */
    char *db_sslmode;          /* DbSslMode: libpq sslmode (disable, allow, prefer, require,
                                verify-ca, verify-full), default "prefer" */
    char *db_sslrootcert;      /* DbSslRootCert: CA bundle for verify-ca/verify-full, default "" */
    int db_pool_size;          /* DbPoolSize: PostgreSQL connections, or SQLite readers (at most
                                  64), default 8, 1..1000 */
    int db_connect_timeout;    /* DbConnectTimeout: seconds, default 5, 1..3600 */
    int db_statement_timeout;  /* DbStatementTimeout: milliseconds, default 5000, 1..3600000 */
    int db_pool_timeout;       /* DbPoolTimeout: ms to wait for a free connection, default 2000,
                                  0..600000 (0: do not wait; SQLite waits 2000 ms then) */
    int threads;        /* Threads: HTTP worker threads, default 0 = two per CPU (min 4), 0..1024 */
    int max_body_bytes; /* MaxBodyBytes: request body limit, default 16384, 256..67108864 */
    int shutdown_timeout; /* ShutdownTimeout: seconds to drain on SIGTERM, default 20, 0..3600 */
    bool debug_endpoint;  /* DebugEndpoint: serve /debug, default true */
    enum log_level log_level;   /* LogLevel: debug|info|warn|error, default info */
    enum log_format log_format; /* LogFormat: auto|json|text, default auto */
    char *tls_cert_file;        /* TlsCertFile: PEM certificate (chain) for HTTPS, default "" */
    char *tls_key_file;         /* TlsKeyFile: PEM private key of TlsCertFile, default "" */
    bool tls_self_signed; /* TlsSelfSigned: HTTPS with a certificate made at start when no files
                             are given, default false */

    /* Where each value came from, for config_each_source; and the VTT_DBPASSWORD_FILE path
     * (NULL when the variable is unset), which the PostgreSQL store re-reads when the server
     * refuses the password (a rotated secret). */
    char **sources;
    char *db_password_file;
};

/* Size of the buffer config_load writes its message into. */
#define CONFIG_ERRMSG_MAX 512

/*
 * Fills cfg from the defaults, the TOML file and the environment, then checks every value.
 * path NULL means "conf.toml" in the working directory, which may be missing; an explicit path
 * must exist. On failure returns -1, leaves cfg released, and writes one line into err, e.g.
 * "conf.toml:3: expected '=' after key" or "invalid ListenPort '70000': must be 1..65535".
 * The message never contains a secret value.
 */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);
void config_release(struct config *cfg);

/* Visits every key in table order with its value as text; secret values come masked as
 * "********". For /debug. */
typedef void (*config_visit_fn)(const char *key, const char *value, void *ctx);
void config_each(const struct config *cfg, config_visit_fn visit, void *ctx);

/* config_each with where each value came from: "default", "conf.toml:LINE" (the file as
 * given), "VTT_<KEY>", "VTT_DBPASSWORD_FILE", or for a DbPath derived from DbName (boltdb)
 * `DbName + ".sqlite" (DbType boltdb)`. Values are masked as in config_each. For the
 * `config` command and the start-up log. */
typedef void (*config_source_fn)(const char *key, const char *value, const char *source, void *ctx);
void config_each_source(const struct config *cfg, config_source_fn visit, void *ctx);

/*
 * Reads a secret file as VTT_DBPASSWORD_FILE is read: at most 64 KiB, no NUL byte, trimmed of
 * surrounding white space. On success *out is the secret (caller frees; zero it first). On
 * failure returns -1 and writes one line naming the path (never the content) into err.
 */
int config_read_secret_file(const char *path, char **out, char *err, size_t errlen);

#endif
