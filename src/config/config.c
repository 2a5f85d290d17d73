/*
 * config.c — the table of configuration keys, and loading them.
 *
 * Each key is one row of keys[]: its name, its default as text, how its text becomes a value
 * (string, integer in a range, boolean, one of a list) and where in struct config it goes.
 * Loading collects one text per key — the default, then conf.toml, then VTT_<KEY>, then
 * VTT_DBPASSWORD_FILE — and converts every text once at the end, so a bad value is reported
 * with the place it came from, whichever that was.
 */
#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/toml.h"
#include "util/array.h"
#include "util/errbuf.h"
#include "util/file.h"
#include "util/xalloc.h"

#define DEFAULT_PATH   "conf.toml"
#define MAX_FILE_BYTES (1024 * 1024)
#define MASK           "********"
#define NO_FIELD       ((size_t)-1)
#define DB_NAME_SUFFIX ".sqlite"

enum key_kind {
    KIND_STRING,
    KIND_INT,
    KIND_BOOL,
    KIND_ENUM,
};

enum key_flags {
    KEY_SECRET = 1,   /* never shown: masked in config_each, not echoed in errors */
    KEY_MASKED = 2,   /* masked in config_each (as the original's /debug does) */
    KEY_NONEMPTY = 4, /* the empty string is not a valid value */
};

struct choice {
    const char *name; /* lower case; matched case-insensitively */
    int value;
};

struct config_key {
    const char *name;
    const char *def;
    enum key_kind kind;
    unsigned flags;
    size_t field;      /* char *, int, bool or enum field; NO_FIELD for none */
    size_t name_field; /* KIND_ENUM: char * field that gets the choice's name, or NO_FIELD;
                          unused by other kinds */
    long long min, max;
    const struct choice *choices; /* KIND_ENUM: ends with a NULL name */
};

_Static_assert(sizeof(enum db_type) == sizeof(int), "enum fields are stored as int");
_Static_assert(sizeof(enum log_level) == sizeof(int), "enum fields are stored as int");
_Static_assert(sizeof(enum log_format) == sizeof(int), "enum fields are stored as int");

static const struct choice db_types[] = {
    {"postgres", DB_POSTGRES},
    {"sqlite", DB_SQLITE},
    {"boltdb", DB_SQLITE},
    {NULL, 0},
};

static const struct choice ssl_modes[] = {
    {"disable", 0},   {"allow", 0},       {"prefer", 0}, {"require", 0},
    {"verify-ca", 0}, {"verify-full", 0}, {NULL, 0},
};

static const struct choice log_levels[] = {
    {"debug", LOG_DEBUG}, {"info", LOG_INFO}, {"warn", LOG_WARN}, {"error", LOG_ERROR}, {NULL, 0},
};

static const struct choice log_formats[] = {
    {"auto", LOG_FORMAT_AUTO},
    {"json", LOG_FORMAT_JSON},
    {"text", LOG_FORMAT_TEXT},
    {NULL, 0},
};

/* Rows of keys[]; omitted members are 0 (NO_FIELD is set where it matters). */
/* clang-format off */
#define FIELD(f) offsetof(struct config, f)
#define STRING(n, d, f, fl) \
    {.name = n, .def = d, .kind = KIND_STRING, .flags = fl, .field = FIELD(f), \
     .name_field = NO_FIELD}
#define INT(n, d, f, lo, hi) \
    {.name = n, .def = d, .kind = KIND_INT, .field = FIELD(f), .name_field = NO_FIELD, \
     .min = lo, .max = hi}
#define BOOL(n, d, f) \
    {.name = n, .def = d, .kind = KIND_BOOL, .field = FIELD(f), .name_field = NO_FIELD}
#define ENUM(n, d, f, nf, c) \
    {.name = n, .def = d, .kind = KIND_ENUM, .field = f, .name_field = nf, .choices = c}

static const struct config_key keys[] = {
    STRING("DbUser",          "postgres",  db_user,          KEY_MASKED | KEY_NONEMPTY),
    STRING("DbPassword",      "postgres",  db_password,      KEY_SECRET),
    STRING("DbName",          "postgres",  db_name,          KEY_NONEMPTY),
    INT("DbPort",             "5432",      db_port,          1, 65535),
    STRING("DbHost",          "localhost", db_host,          KEY_NONEMPTY),
    ENUM("DbType",            "postgres",  FIELD(db_type),   FIELD(db_type_name), db_types),
    STRING("ListenHost",      "127.0.0.1", listen_host,      KEY_NONEMPTY),
    INT("ListenPort",         "3000",      listen_port,      0, 65535),
    STRING("DbPath",          "",          db_path,          0),
    ENUM("DbSslMode",         "prefer",    NO_FIELD,         FIELD(db_sslmode), ssl_modes),
    STRING("DbSslRootCert",   "",          db_sslrootcert,   0),
    INT("DbPoolSize",         "8",         db_pool_size,     1, 1000),
    INT("DbConnectTimeout",   "5",         db_connect_timeout, 1, 3600),
    INT("DbStatementTimeout", "5000",      db_statement_timeout, 1, 3600000),
    INT("DbPoolTimeout",      "2000",      db_pool_timeout,  0, 600000),
    INT("Threads",            "0",         threads,          0, 1024),
    INT("MaxBodyBytes",       "16384",     max_body_bytes,   256, 64 * 1024 * 1024),
    INT("ShutdownTimeout",    "20",        shutdown_timeout, 0, 3600),
    BOOL("DebugEndpoint",     "true",      debug_endpoint),
    ENUM("LogLevel",          "info",      FIELD(log_level), NO_FIELD, log_levels),
    ENUM("LogFormat",         "auto",      FIELD(log_format), NO_FIELD, log_formats),
    STRING("TlsCertFile",     "",          tls_cert_file,    0),
    STRING("TlsKeyFile",      "",          tls_key_file,     0),
    BOOL("TlsSelfSigned",     "false",     tls_self_signed),
};
/* clang-format on */

#define NKEYS ARRAY_SIZE(keys)

enum source {
    FROM_DEFAULT,
    FROM_FILE,
    FROM_ENV,
    FROM_PASSWORD_FILE,
};

/* The text each key will get, and where it came from (for messages). */
struct raw {
    char *text; /* owned; NULL means the default */
    enum source from;
    int line;
    char *file_key; /* FROM_FILE: the key as spelled in the file */
};

struct loader {
    const char *path;          /* for messages */
    const char *password_file; /* VTT_DBPASSWORD_FILE, if it was read */
    struct raw raw[NKEYS];
};

static char *quote(char *dst, size_t dstlen, const char *s)
{
    return toml_quote(dst, dstlen, s, strlen(s));
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static char *trimmed_dup(const char *s, size_t len)
{
    while (len > 0 && is_space(s[0]))
        s++, len--;
    while (len > 0 && is_space(s[len - 1]))
        len--;
    return xstrndup(s, len);
}

static void set_raw(struct raw *r, char *text, enum source from, int line)
{
    free(r->text);
    r->text = text;
    r->from = from;
    r->line = line;
}

static const struct config_key *find_key(const char *name, size_t *index)
{
    for (size_t i = 0; i < NKEYS; i++) {
        if (strcasecmp(keys[i].name, name) == 0) {
            *index = i;
            return &keys[i];
        }
    }
    return NULL;
}

static void env_name(const struct config_key *k, char *out, size_t outlen)
{
    size_t o = (size_t)snprintf(out, outlen, "VTT_");

    for (const char *p = k->name; *p && o + 1 < outlen; p++)
        out[o++] = (char)toupper((unsigned char)*p);
    out[o] = '\0';
}

static int file_item(const struct toml_item *item, void *ctx, char *msg, size_t msglen)
{
    struct loader *ld = ctx;
    size_t i;
    const struct config_key *k = find_key(item->key, &i);
    struct raw *r;

    if (!k)
        return 0; /* unknown keys are ignored, as the original does */
    r = &ld->raw[i];
    if (r->from == FROM_FILE) {
        char quoted[96];
        snprintf(msg, msglen, "duplicate key '%s' (%s is already set on line %d)",
                 quote(quoted, sizeof quoted, item->key), k->name, r->line);
        return -1;
    }
    set_raw(r, trimmed_dup(item->value, strlen(item->value)), FROM_FILE, item->line);
    return 0;
}

static int load_file(struct loader *ld, const char *path, bool must_exist, char *err, size_t errlen)
{
    char qpath[256];
    char *text;
    size_t len;
    struct toml_error terr;

    quote(qpath, sizeof qpath, path);
    if (file_read_all(path, MAX_FILE_BYTES, &text, &len) < 0) {
        if (errno == ENOENT && !must_exist)
            return 0;
        if (errno == EFBIG)
            errbuf_set(err, errlen, "cannot read '%s': larger than %d bytes", qpath,
                       MAX_FILE_BYTES);
        else
            errbuf_set(err, errlen, "cannot read '%s': %s", qpath, strerror(errno));
        return -1;
    }
    if (toml_parse(text, len, file_item, ld, &terr) < 0) {
        errbuf_set(err, errlen, "%s:%d: %s", qpath, terr.line, terr.msg);
        free(text);
        return -1;
    }
    free(text);
    return 0;
}

static void load_env(struct loader *ld)
{
    for (size_t i = 0; i < NKEYS; i++) {
        char name[64];
        const char *value;

        env_name(&keys[i], name, sizeof name);
        value = getenv(name);
        /* an empty variable counts as unset, as in the original (viper) */
        if (value && value[0] != '\0')
            set_raw(&ld->raw[i], trimmed_dup(value, strlen(value)), FROM_ENV, 0);
    }
}

int config_read_secret_file(const char *path, char **out, char *err, size_t errlen)
{
    char qpath[256];
    char *text;
    size_t len;

    *out = NULL;
    quote(qpath, sizeof qpath, path);
    if (file_read_all(path, 64 * 1024, &text, &len) < 0) {
        if (errno == EFBIG)
            errbuf_set(err, errlen, "cannot read VTT_DBPASSWORD_FILE '%s': larger than 65536 bytes",
                       qpath);
        else
            errbuf_set(err, errlen, "cannot read VTT_DBPASSWORD_FILE '%s': %s", qpath,
                       strerror(errno));
        return -1;
    }
    if (memchr(text, '\0', len)) {
        errbuf_set(err, errlen,
                   "invalid DbPassword in VTT_DBPASSWORD_FILE '%s': contains a NUL byte", qpath);
        explicit_bzero(text, len);
        free(text);
        return -1;
    }
    *out = trimmed_dup(text, len);
    explicit_bzero(text, len);
    free(text);
    return 0;
}

static int load_password_file(struct loader *ld, char *err, size_t errlen)
{
    const char *path = getenv("VTT_DBPASSWORD_FILE");
    const char *direct = getenv("VTT_DBPASSWORD");
    char *secret;
    size_t i = 0;

    if (!path || path[0] == '\0')
        return 0;
    if (direct && direct[0] != '\0') {
        errbuf_set(err, errlen,
                   "VTT_DBPASSWORD and VTT_DBPASSWORD_FILE are both set; set only one");
        return -1;
    }
    if (config_read_secret_file(path, &secret, err, errlen) < 0)
        return -1;
    find_key("DbPassword", &i);
    set_raw(&ld->raw[i], secret, FROM_PASSWORD_FILE, 0);
    ld->password_file = path;
    return 0;
}

/* Writes "invalid KEY 'VALUE' <where>: why" (the value left out for secrets). */
static void value_error(const struct loader *ld, size_t i, const char *why, char *err,
                        size_t errlen)
{
    const struct config_key *k = &keys[i];
    const struct raw *r = &ld->raw[i];
    const char *text = r->text ? r->text : k->def;
    char qvalue[128], qpath[256], env[64], shown[140];

    if (k->flags & KEY_SECRET)
        shown[0] = '\0';
    else
        snprintf(shown, sizeof shown, " '%s'", quote(qvalue, sizeof qvalue, text));
    switch (r->from) {
    case FROM_FILE:
        errbuf_set(err, errlen, "%s:%d: invalid %s%s: %s", quote(qpath, sizeof qpath, ld->path),
                   r->line, k->name, shown, why);
        break;
    case FROM_ENV:
        env_name(k, env, sizeof env);
        errbuf_set(err, errlen, "invalid %s%s in %s: %s", k->name, shown, env, why);
        break;
    case FROM_PASSWORD_FILE:
        errbuf_set(err, errlen, "invalid %s%s in VTT_DBPASSWORD_FILE: %s", k->name, shown, why);
        break;
    case FROM_DEFAULT:
        errbuf_set(err, errlen, "invalid %s%s: %s", k->name, shown, why);
        break;
    }
}

static void choice_list(const struct choice *c, char *out, size_t outlen)
{
    size_t o = 0, n = 0;

    while (c[n].name)
        n++;
    out[0] = '\0';
    for (size_t j = 0; j < n && o < outlen; j++) {
        const char *sep = j == 0 ? "" : j + 1 == n ? " or " : ", ";
        int w = snprintf(out + o, outlen - o, "%s%s", sep, c[j].name);
        if (w < 0)
            break;
        o += (size_t)w;
    }
}

static bool parse_int(const char *text, long long *out)
{
    char *end;

    if (text[0] == '\0' || is_space(text[0]))
        return false;
    errno = 0;
    *out = strtoll(text, &end, 10);
    return errno == 0 && *end == '\0';
}

static bool parse_bool(const char *text, bool *out)
{
    static const struct choice bools[] = {
        {"true", 1}, {"false", 0}, {"1", 1}, {"0", 0}, {"yes", 1}, {"no", 0},
    };

    for (size_t j = 0; j < ARRAY_SIZE(bools); j++) {
        if (strcasecmp(text, bools[j].name) == 0) {
            *out = bools[j].value;
            return true;
        }
    }
    return false;
}

/* Converts the text of key i into its field. */
static int apply(struct config *cfg, const struct loader *ld, size_t i, char *err, size_t errlen)
{
    const struct config_key *k = &keys[i];
    const char *text = ld->raw[i].text ? ld->raw[i].text : k->def;
    char *base = (char *)cfg;
    char why[160];
    long long n;
    bool b;

    switch (k->kind) {
    case KIND_STRING:
        if ((k->flags & KEY_NONEMPTY) && text[0] == '\0') {
            value_error(ld, i, "must not be empty", err, errlen);
            return -1;
        }
        *(char **)(base + k->field) = xstrdup(text);
        return 0;
    case KIND_INT:
        if (!parse_int(text, &n)) {
            snprintf(why, sizeof why, "not an integer (must be %lld..%lld)", k->min, k->max);
            value_error(ld, i, why, err, errlen);
            return -1;
        }
        if (n < k->min || n > k->max) {
            snprintf(why, sizeof why, "must be %lld..%lld", k->min, k->max);
            value_error(ld, i, why, err, errlen);
            return -1;
        }
        *(int *)(base + k->field) = (int)n;
        return 0;
    case KIND_BOOL:
        if (!parse_bool(text, &b)) {
            value_error(ld, i, "must be true, false, yes, no, 1 or 0", err, errlen);
            return -1;
        }
        *(bool *)(base + k->field) = b;
        return 0;
    case KIND_ENUM:
        for (const struct choice *c = k->choices; c->name; c++) {
            if (strcasecmp(text, c->name) != 0)
                continue;
            if (k->field != NO_FIELD)
                memcpy(base + k->field, &c->value, sizeof(int));
            if (k->name_field != NO_FIELD)
                *(char **)(base + k->name_field) = xstrdup(c->name);
            return 0;
        }
        memcpy(why, "must be ", 9);
        choice_list(k->choices, why + 8, sizeof why - 8);
        value_error(ld, i, why, err, errlen);
        return -1;
    }
    return -1;
}

/*
 * DbPath not set (or empty): the embedded store's file follows the original's configuration.
 * With DbType boltdb the original kept its data in the file DbName names, on the volume a
 * deployment mounts there, so ours goes next to it as "<DbName>.sqlite" (never the BoltDB file
 * itself); otherwise "tasks.db" in the working directory, as before. (ADR 0014.)
 */
static int resolve_db_path(struct config *cfg, const struct loader *ld, char *err, size_t errlen)
{
    size_t name_len = strlen(cfg->db_name);
    size_t i = 0;

    if (cfg->db_path[0] != '\0')
        return 0;
    free(cfg->db_path);
    cfg->db_path = NULL;
    if (strcmp(cfg->db_type_name, "boltdb") != 0) {
        cfg->db_path = xstrdup(CONFIG_DEFAULT_DB_PATH);
        return 0;
    }
    if (cfg->db_name[name_len - 1] == '/') {
        find_key("DbName", &i);
        value_error(ld, i, "with DbType boltdb and no DbPath it names a file, not a directory", err,
                    errlen);
        return -1;
    }
    cfg->db_path = xmalloc(name_len + sizeof(DB_NAME_SUFFIX));
    memcpy(cfg->db_path, cfg->db_name, name_len);
    memcpy(cfg->db_path + name_len, DB_NAME_SUFFIX, sizeof(DB_NAME_SUFFIX));
    cfg->db_path_from_db_name = true;
    return 0;
}

/* Where key i's value came from, as config_each_source says it (allocated). */
static char *source_text(const struct loader *ld, size_t i)
{
    const struct raw *r = &ld->raw[i];
    char text[320], qpath[256], env[64];

    if (!r->text)
        return xstrdup("default");
    switch (r->from) {
    case FROM_FILE:
        snprintf(text, sizeof text, "%s:%d", quote(qpath, sizeof qpath, ld->path), r->line);
        return xstrdup(text);
    case FROM_ENV:
        env_name(&keys[i], env, sizeof env);
        return xstrdup(env);
    case FROM_PASSWORD_FILE:
        return xstrdup("VTT_DBPASSWORD_FILE");
    case FROM_DEFAULT:
        break;
    }
    return xstrdup("default");
}

static void loader_release(struct loader *ld)
{
    for (size_t i = 0; i < NKEYS; i++)
        free(ld->raw[i].text);
}

int config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
    struct loader ld;
    int rc = -1;

    memset(cfg, 0, sizeof *cfg);
    memset(&ld, 0, sizeof ld);
    ld.path = path ? path : DEFAULT_PATH;
    if (errlen > 0)
        err[0] = '\0';

    if (load_file(&ld, ld.path, path != NULL, err, errlen) < 0)
        goto out;
    load_env(&ld);
    if (load_password_file(&ld, err, errlen) < 0)
        goto out;
    for (size_t i = 0; i < NKEYS; i++) {
        if (apply(cfg, &ld, i, err, errlen) < 0)
            goto out;
    }
    if (resolve_db_path(cfg, &ld, err, errlen) < 0)
        goto out;
    cfg->sources = xcalloc(NKEYS, sizeof *cfg->sources);
    for (size_t i = 0; i < NKEYS; i++)
        cfg->sources[i] = source_text(&ld, i);
    if (cfg->db_path_from_db_name) {
        size_t i = 0;
        find_key("DbPath", &i);
        free(cfg->sources[i]);
        cfg->sources[i] = xstrdup("DbName + \".sqlite\" (DbType boltdb)");
    }
    if (ld.password_file)
        cfg->db_password_file = xstrdup(ld.password_file);
    rc = 0;

out:
    loader_release(&ld);
    if (rc < 0)
        config_release(cfg);
    return rc;
}

void config_release(struct config *cfg)
{
    char *base = (char *)cfg;

    for (size_t i = 0; i < NKEYS; i++) {
        const struct config_key *k = &keys[i];
        if (k->kind == KIND_STRING)
            free(*(char **)(base + k->field));
        if (k->kind == KIND_ENUM && k->name_field != NO_FIELD)
            free(*(char **)(base + k->name_field));
        if (cfg->sources)
            free(cfg->sources[i]);
    }
    free(cfg->sources);
    free(cfg->db_password_file);
    memset(cfg, 0, sizeof *cfg);
}

/* The value of key k as text; may point into cfg, a choice or buf. */
static const char *value_text(const struct config *cfg, const struct config_key *k, char *buf,
                              size_t buflen)
{
    const char *base = (const char *)cfg;
    const char *s;
    int v;

    switch (k->kind) {
    case KIND_STRING:
        s = *(char *const *)(base + k->field);
        return s ? s : "";
    case KIND_INT:
        snprintf(buf, buflen, "%d", *(const int *)(base + k->field));
        return buf;
    case KIND_BOOL:
        return *(const bool *)(base + k->field) ? "true" : "false";
    case KIND_ENUM:
        if (k->name_field != NO_FIELD) {
            s = *(char *const *)(base + k->name_field);
            return s ? s : "";
        }
        memcpy(&v, base + k->field, sizeof(int));
        for (const struct choice *c = k->choices; c->name; c++) {
            if (c->value == v)
                return c->name;
        }
        return "";
    }
    return "";
}

void config_each_source(const struct config *cfg, config_source_fn visit, void *ctx)
{
    for (size_t i = 0; i < NKEYS; i++) {
        char buf[32];
        const struct config_key *k = &keys[i];
        const char *source = cfg->sources && cfg->sources[i] ? cfg->sources[i] : "default";

        if (k->flags & (KEY_SECRET | KEY_MASKED))
            visit(k->name, MASK, source, ctx);
        else
            visit(k->name, value_text(cfg, k, buf, sizeof buf), source, ctx);
    }
}

struct without_source {
    config_visit_fn visit;
    void *ctx;
};

static void drop_source(const char *key, const char *value, const char *source, void *ctx)
{
    const struct without_source *w = ctx;

    (void)source;
    w->visit(key, value, w->ctx);
}

void config_each(const struct config *cfg, config_visit_fn visit, void *ctx)
{
    struct without_source w = {visit, ctx};

    config_each_source(cfg, drop_source, &w);
}
