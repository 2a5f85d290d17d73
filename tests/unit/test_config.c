/*
 * test_config.c — config_load: defaults, conf.toml, VTT_* overrides, VTT_DBPASSWORD_FILE,
 * validation and its messages, and config_each's masking. Runs in its own temp directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "tap.h"
#include "util/array.h"
#include "util/buf.h"

static const char *const env_vars[] = {
    "VTT_DBUSER",           "VTT_DBPASSWORD",
    "VTT_DBNAME",           "VTT_DBPORT",
    "VTT_DBHOST",           "VTT_DBTYPE",
    "VTT_LISTENHOST",       "VTT_LISTENPORT",
    "VTT_DBPATH",           "VTT_DBSSLMODE",
    "VTT_DBSSLROOTCERT",    "VTT_DBPOOLSIZE",
    "VTT_DBCONNECTTIMEOUT", "VTT_DBSTATEMENTTIMEOUT",
    "VTT_DBPOOLTIMEOUT",    "VTT_THREADS",
    "VTT_MAXBODYBYTES",     "VTT_SHUTDOWNTIMEOUT",
    "VTT_DEBUGENDPOINT",    "VTT_LOGLEVEL",
    "VTT_LOGFORMAT",        "VTT_DBPASSWORD_FILE",
};

static char err[CONFIG_ERRMSG_MAX];

static void clear_env(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(env_vars); i++)
        unsetenv(env_vars[i]);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(254);
    }
}

/* Loads from conf.toml with the given text (NULL: no file) and returns err ("" on success). */
static const char *load_text(struct config *cfg, const char *text)
{
    unlink("conf.toml");
    if (text)
        write_file("conf.toml", text);
    if (config_load(cfg, NULL, err, sizeof(err)) == 0)
        return "";
    return err;
}

/* The error for text, with cfg released either way. */
static const char *load_err(const char *text)
{
    struct config cfg;
    const char *e = load_text(&cfg, text);

    config_release(&cfg);
    return e;
}

static void each_collect(const char *key, const char *value, void *ctx)
{
    buf_printf(ctx, "%s=%s;", key, value);
}

static void test_defaults(void)
{
    struct config cfg;
    struct buf each = BUF_INIT;

    is_str(load_text(&cfg, NULL), "", "no conf.toml, no env: loads");
    is_str(cfg.db_user, "postgres", "DbUser default");
    is_str(cfg.db_password, "postgres", "DbPassword default");
    is_str(cfg.db_name, "postgres", "DbName default");
    is_int(cfg.db_port, 5432, "DbPort default");
    is_str(cfg.db_host, "localhost", "DbHost default");
    is_int(cfg.db_type, DB_POSTGRES, "DbType default");
    is_str(cfg.db_type_name, "postgres", "DbType name default");
    is_str(cfg.listen_host, "127.0.0.1", "ListenHost default");
    is_int(cfg.listen_port, 3000, "ListenPort default");
    is_str(cfg.db_path, "tasks.db", "DbPath default");
    is_str(cfg.db_sslmode, "prefer", "DbSslMode default");
    is_str(cfg.db_sslrootcert, "", "DbSslRootCert default");
    is_int(cfg.db_pool_size, 8, "DbPoolSize default");
    is_int(cfg.db_connect_timeout, 5, "DbConnectTimeout default");
    is_int(cfg.db_statement_timeout, 5000, "DbStatementTimeout default");
    is_int(cfg.db_pool_timeout, 2000, "DbPoolTimeout default");
    is_int(cfg.threads, 0, "Threads default");
    is_int(cfg.max_body_bytes, 16384, "MaxBodyBytes default");
    is_int(cfg.shutdown_timeout, 20, "ShutdownTimeout default");
    ok(cfg.debug_endpoint, "DebugEndpoint default");
    is_int(cfg.log_level, LOG_INFO, "LogLevel default");
    is_int(cfg.log_format, LOG_FORMAT_AUTO, "LogFormat default");

    config_each(&cfg, each_collect, &each);
    is_str(each.data,
           "DbUser=********;DbPassword=********;DbName=postgres;DbPort=5432;DbHost=localhost;"
           "DbType=postgres;ListenHost=127.0.0.1;ListenPort=3000;DbPath=tasks.db;"
           "DbSslMode=prefer;DbSslRootCert=;DbPoolSize=8;DbConnectTimeout=5;"
           "DbStatementTimeout=5000;DbPoolTimeout=2000;Threads=0;MaxBodyBytes=16384;"
           "ShutdownTimeout=20;DebugEndpoint=true;LogLevel=info;LogFormat=auto;TlsCertFile=;"
           "TlsKeyFile=;TlsSelfSigned=false;",
           "config_each: every key in table order, DbUser and DbPassword masked");
    buf_release(&each);
    config_release(&cfg);
    ok(cfg.db_user == NULL && cfg.db_port == 0, "config_release clears the struct");
}

static void test_original_file(void)
{
    struct config cfg;
    struct buf each = BUF_INIT;

    is_str(load_text(&cfg, "\"DbUser\" = \"postgres\"\n"
                           "\"DbPassword\" = \"changeme\"\n"
                           "\"DbName\" = \"app\"\n"
                           "\"DbPort\" = \"5432\"\n"
                           "\"DbHost\" = \"localhost\"\n"
                           "\"ListenHost\" = \"0.0.0.0\"\n"
                           "\"ListenPort\" = \"3000\"\n"),
           "", "the Go original's conf.toml loads");
    is_str(cfg.db_password, "changeme", "DbPassword from the file");
    is_str(cfg.db_name, "app", "DbName from the file");
    is_str(cfg.listen_host, "0.0.0.0", "ListenHost from the file");
    is_int(cfg.listen_port, 3000, "ListenPort from a string");
    config_each(&cfg, each_collect, &each);
    ok(strstr(each.data, "changeme") == NULL, "config_each never shows the password");
    ok(strstr(each.data, "DbName=app;") != NULL, "config_each shows DbName");
    buf_release(&each);
    config_release(&cfg);
}

static void test_file_forms(void)
{
    struct config cfg;

    is_str(load_text(&cfg, "\xef\xbb\xbf# ours\r\ndbport = 6543\r\nLISTENPORT = 0\r\n"
                           "DebugEndpoint = false\r\nThreads = '4'\r\nunknown = 'ignored'\r\n"
                           "DbHost = '  db.internal  '\r\nDbType = 'BoltDB'\r\n"
                           "DbSslMode = \"Verify-Full\"\r\nLogLevel = \"warn\"\r\n"
                           "LogFormat = 'TEXT'\r\nMaxBodyBytes = 1_048_576\r\n"),
           "", "bare keys, any case, integers, booleans, CRLF, BOM, unknown key");
    is_int(cfg.db_port, 6543, "dbport matched case-insensitively, integer value");
    is_int(cfg.listen_port, 0, "ListenPort 0 is allowed (any free port)");
    ok(!cfg.debug_endpoint, "TOML boolean false");
    is_int(cfg.threads, 4, "number in a literal string");
    is_str(cfg.db_host, "db.internal", "file values are trimmed");
    is_int(cfg.db_type, DB_SQLITE, "boltdb selects the embedded store");
    is_str(cfg.db_type_name, "boltdb", "DbType name as written, lower case");
    is_str(cfg.db_sslmode, "verify-full", "DbSslMode canonical");
    is_int(cfg.log_level, LOG_WARN, "LogLevel warn");
    is_int(cfg.log_format, LOG_FORMAT_TEXT, "LogFormat text");
    is_int(cfg.max_body_bytes, 1048576, "integer with underscores");
    config_release(&cfg);

    is_str(load_text(&cfg, "DbType = 'sqlite'\nDebugEndpoint = 'no'\n"), "", "sqlite, 'no'");
    is_int(cfg.db_type, DB_SQLITE, "sqlite selects the embedded store");
    ok(!cfg.debug_endpoint, "'no' is false");
    config_release(&cfg);
}

static void test_file_errors(void)
{
    is_str(load_err("a = 1\nb = 2\n\"DbPort\"\n"), "conf.toml:3: expected '=' after key",
           "parse error with path and line");
    is_str(load_err("[database]\n"), "conf.toml:1: table headers like '[name]' are not supported",
           "table header");
    is_str(load_err("DbPort = 1\ndbport = 2\n"),
           "conf.toml:2: duplicate key 'dbport' (DbPort is already set on line 1)",
           "case-insensitive duplicate");
    is_str(load_err("DbPort = '1'\nDbPort = '1'\n"),
           "conf.toml:2: duplicate key 'DbPort' (first set on line 1)", "exact duplicate");
    is_str(load_err("x = 1\n\"ListenPort\" = \"70000\"\n"),
           "conf.toml:2: invalid ListenPort '70000': must be 0..65535", "port out of range");
    is_str(load_err("DbPort = 0\n"), "conf.toml:1: invalid DbPort '0': must be 1..65535",
           "DbPort 0 refused");
    is_str(load_err("DbPort = '54x'\n"),
           "conf.toml:1: invalid DbPort '54x': not an integer (must be 1..65535)", "not a number");
    is_str(load_err("DbPort = ''\n"),
           "conf.toml:1: invalid DbPort '': not an integer (must be 1..65535)", "empty number");
    is_str(load_err("DbPort = 99999999999999999999\n"), "conf.toml:1: integer out of range",
           "integer beyond int64");
    is_str(load_err("DbPort = 9999999999\n"),
           "conf.toml:1: invalid DbPort '9999999999': must be 1..65535", "integer beyond int");
    is_str(load_err("DbPort = true\n"),
           "conf.toml:1: invalid DbPort 'true': not an integer (must be 1..65535)",
           "boolean for a number");
    is_str(load_err("DbType = 'mysql'\n"),
           "conf.toml:1: invalid DbType 'mysql': must be postgres, sqlite or boltdb",
           "DbType lists valid values");
    is_str(load_err("DbSslMode = 'on'\n"),
           "conf.toml:1: invalid DbSslMode 'on': must be disable, allow, prefer, require, "
           "verify-ca or verify-full",
           "DbSslMode lists valid values");
    is_str(load_err("LogLevel = 'trace'\n"),
           "conf.toml:1: invalid LogLevel 'trace': must be debug, info, warn or error",
           "LogLevel lists valid values");
    is_str(load_err("LogFormat = 'xml'\n"),
           "conf.toml:1: invalid LogFormat 'xml': must be auto, json or text", "LogFormat");
    is_str(load_err("DebugEndpoint = 'maybe'\n"),
           "conf.toml:1: invalid DebugEndpoint 'maybe': must be true, false, yes, no, 1 or 0",
           "bad boolean");
    is_str(load_err("DbHost = '   '\n"), "conf.toml:1: invalid DbHost '': must not be empty",
           "blank DbHost after trimming");
    is_str(load_err("DbPoolSize = 1001\n"),
           "conf.toml:1: invalid DbPoolSize '1001': must be 1..1000", "DbPoolSize range");
    is_str(load_err("DbConnectTimeout = 0\n"),
           "conf.toml:1: invalid DbConnectTimeout '0': must be 1..3600", "DbConnectTimeout range");
    is_str(load_err("DbStatementTimeout = 3600001\n"),
           "conf.toml:1: invalid DbStatementTimeout '3600001': must be 1..3600000",
           "DbStatementTimeout range");
    is_str(load_err("DbPoolTimeout = -1\n"),
           "conf.toml:1: invalid DbPoolTimeout '-1': must be 0..600000", "DbPoolTimeout range");
    is_str(load_err("Threads = 1025\n"), "conf.toml:1: invalid Threads '1025': must be 0..1024",
           "Threads range");
    is_str(load_err("MaxBodyBytes = 100\n"),
           "conf.toml:1: invalid MaxBodyBytes '100': must be 256..67108864", "MaxBodyBytes range");
    is_str(load_err("ShutdownTimeout = 3601\n"),
           "conf.toml:1: invalid ShutdownTimeout '3601': must be 0..3600", "ShutdownTimeout range");
    is_str(load_err("DbName = \"a\\u0001b\"\nDbPort = \"x\\ny\"\n"),
           "conf.toml:2: invalid DbPort 'x\\x0ay': not an integer (must be 1..65535)",
           "control characters in an echoed value are escaped");
}

static void test_env(void)
{
    struct config cfg;

    setenv("VTT_DBPORT", " 6000 ", 1);
    setenv("VTT_DBPASSWORD", "\tfrom-env\n", 1);
    setenv("VTT_DBTYPE", "SQLite", 1);
    setenv("VTT_DBHOST", "", 1); /* empty: as if unset */
    setenv("VTT_LOGLEVEL", "debug", 1);
    setenv("VTT_DEBUGENDPOINT", "0", 1);
    is_str(load_text(&cfg, "DbPort = 5000\nDbPassword = 'file'\nDbHost = 'filehost'\n"), "",
           "env overrides load");
    is_int(cfg.db_port, 6000, "VTT_DBPORT wins over the file, trimmed");
    is_str(cfg.db_password, "from-env", "VTT_DBPASSWORD wins, trimmed");
    is_int(cfg.db_type, DB_SQLITE, "VTT_DBTYPE case-insensitive");
    is_str(cfg.db_type_name, "sqlite", "VTT_DBTYPE name lower case");
    is_str(cfg.db_host, "filehost", "an empty VTT_DBHOST counts as unset");
    is_int(cfg.log_level, LOG_DEBUG, "VTT_LOGLEVEL");
    ok(!cfg.debug_endpoint, "VTT_DEBUGENDPOINT=0");
    config_release(&cfg);
    clear_env();

    setenv("VTT_LISTENPORT", "70000", 1);
    is_str(load_err(NULL), "invalid ListenPort '70000' in VTT_LISTENPORT: must be 0..65535",
           "env error names the variable");
    clear_env();
    setenv("VTT_DBPOOLSIZE", "lots", 1);
    is_str(load_err("DbPoolSize = 'not checked: env wins'\n"),
           "invalid DbPoolSize 'lots' in VTT_DBPOOLSIZE: not an integer (must be 1..1000)",
           "only the winning value is checked");
    clear_env();
    setenv("VTT_DBTYPE", "boltdb ", 1);
    is_str(load_err(NULL), "", "VTT_DBTYPE=boltdb works");
    clear_env();
}

static void test_password_file(const char *dir)
{
    struct config cfg;
    char path[512], missing[512];

    snprintf(path, sizeof(path), "%s/secret", dir);
    snprintf(missing, sizeof(missing), "%s/no-such-secret", dir);
    write_file(path, "  s3cr3t with spaces\n\n");
    setenv("VTT_DBPASSWORD_FILE", path, 1);
    is_str(load_text(&cfg, "DbPassword = 'from file'\n"), "", "VTT_DBPASSWORD_FILE loads");
    is_str(cfg.db_password, "s3cr3t with spaces", "password file content trimmed, wins");
    config_release(&cfg);

    setenv("VTT_DBPASSWORD", "other", 1);
    is_str(load_err(NULL), "VTT_DBPASSWORD and VTT_DBPASSWORD_FILE are both set; set only one",
           "both password variables: error");
    unsetenv("VTT_DBPASSWORD");

    setenv("VTT_DBPASSWORD_FILE", missing, 1);
    {
        char want[600];
        snprintf(want, sizeof(want),
                 "cannot read VTT_DBPASSWORD_FILE '%s': No such file or directory", missing);
        is_str(load_err(NULL), want, "unreadable password file: error with path");
    }
    setenv("VTT_DBPASSWORD_FILE", dir, 1);
    {
        char want[600];
        snprintf(want, sizeof(want), "cannot read VTT_DBPASSWORD_FILE '%s': Is a directory", dir);
        is_str(load_err(NULL), want, "password file that is a directory");
    }
    write_file(path, "");
    setenv("VTT_DBPASSWORD_FILE", path, 1);
    is_str(load_text(&cfg, NULL), "", "empty password file loads");
    is_str(cfg.db_password, "", "empty password");
    config_release(&cfg);
    clear_env();
}

static void test_paths(const char *dir)
{
    struct config cfg;
    char path[512], want[600];

    snprintf(path, sizeof(path), "%s/other.toml", dir);
    write_file(path, "DbName = 'other'\nDbPort = 'bad'\n");
    unlink("conf.toml");
    is_int(config_load(&cfg, path, err, sizeof(err)), -1, "explicit path is read");
    snprintf(want, sizeof(want), "%s:2: invalid DbPort 'bad': not an integer (must be 1..65535)",
             path);
    is_str(err, want, "errors name the explicit path");
    write_file(path, "DbName = 'other'\n");
    is_int(config_load(&cfg, path, err, sizeof(err)), 0, "explicit path loads");
    is_str(cfg.db_name, "other", "value from the explicit path");
    config_release(&cfg);

    snprintf(path, sizeof(path), "%s/missing.toml", dir);
    is_int(config_load(&cfg, path, err, sizeof(err)), -1, "missing explicit path fails");
    snprintf(want, sizeof(want), "cannot read '%s': No such file or directory", path);
    is_str(err, want, "missing explicit path message");
    is_str(load_err(NULL), "", "missing default conf.toml is fine");

    mkdir("conf.toml", 0700);
    {
        struct config c2;
        is_int(config_load(&c2, NULL, err, sizeof(err)), -1, "conf.toml that is a directory");
        is_str(err, "cannot read 'conf.toml': Is a directory", "directory message with strerror");
    }
    rmdir("conf.toml");

    {
        struct buf big = BUF_INIT;
        while (big.len <= 1024 * 1024)
            buf_puts(&big, "# padding padding padding padding padding padding padding\n");
        write_file("conf.toml", big.data);
        buf_release(&big);
        is_int(config_load(&cfg, NULL, err, sizeof(err)), -1, "over 1 MiB is refused");
        is_str(err, "cannot read 'conf.toml': larger than 1048576 bytes", "size limit message");
        unlink("conf.toml");
    }
}

static void test_secret_never_echoed(void)
{
    struct config cfg;
    const char *e;

    /* DbPassword accepts any text; make it fail through a parse error and through a duplicate */
    e = load_text(&cfg, "DbPassword = 'hunter2'\ndbpassword = 'hunter3'\n");
    ok(strstr(e, "hunter") == NULL, "duplicate DbPassword: message has no password");
    is_str(e, "conf.toml:2: duplicate key 'dbpassword' (DbPassword is already set on line 1)",
           "duplicate DbPassword message");
    config_release(&cfg);
    e = load_text(&cfg, "DbPassword = \"hunter2\\q\"\n");
    ok(strstr(e, "hunter") == NULL, "bad escape in DbPassword: message has no password");
    config_release(&cfg);
}

/* Where the embedded store's file goes when DbPath is not set (ADR 0014). */
static void test_store_location(void)
{
    struct config cfg;

    setenv("VTT_DBTYPE", "boltdb", 1);
    setenv("VTT_DBNAME", "/data/tasks.db", 1);
    is_str(load_text(&cfg, NULL), "", "boltdb with DbName only: loads");
    is_str(cfg.db_path, "/data/tasks.db.sqlite", "  the SQLite file goes next to DbName");
    ok(cfg.db_path_from_db_name, "  and says it was derived");
    config_release(&cfg);

    unsetenv("VTT_DBNAME");
    is_str(load_text(&cfg, "\"DbType\" = \"BoltDB\"\n\"DbName\" = \"vol/my db\"\n"), "",
           "boltdb from conf.toml, relative DbName");
    is_str(cfg.db_path, "vol/my db.sqlite", "  relative to the working directory, as the original");
    config_release(&cfg);

    is_str(load_text(&cfg, NULL), "", "boltdb with the default DbName");
    is_str(cfg.db_path, "postgres.sqlite", "  next to the original's file 'postgres'");
    config_release(&cfg);

    setenv("VTT_DBNAME", "/data/tasks.db", 1);
    setenv("VTT_DBPATH", "/elsewhere/t.db", 1);
    is_str(load_text(&cfg, NULL), "", "boltdb with DbPath set");
    is_str(cfg.db_path, "/elsewhere/t.db", "  DbPath wins");
    ok(!cfg.db_path_from_db_name, "  and is not derived");
    config_release(&cfg);

    setenv("VTT_DBPATH", "", 1);
    is_str(load_text(&cfg, "\"DbPath\" = \"\"\n"), "", "an empty DbPath counts as not set");
    is_str(cfg.db_path, "/data/tasks.db.sqlite", "  so DbName decides");
    config_release(&cfg);
    unsetenv("VTT_DBPATH");

    setenv("VTT_DBTYPE", "sqlite", 1);
    is_str(load_text(&cfg, NULL), "", "sqlite with DbName set and no DbPath");
    is_str(cfg.db_path, "tasks.db", "  keeps tasks.db in the working directory");
    ok(!cfg.db_path_from_db_name, "  not derived");
    config_release(&cfg);

    setenv("VTT_DBTYPE", "boltdb", 1);
    setenv("VTT_DBNAME", "/data/", 1);
    is_str(load_err(NULL),
           "invalid DbName '/data/' in VTT_DBNAME: with DbType boltdb and no DbPath it names a "
           "file, not a directory",
           "boltdb with a directory as DbName is refused");
    unsetenv("VTT_DBNAME");
    unsetenv("VTT_DBTYPE");
}

int main(void)
{
    char dir[] = "/tmp/test_config.XXXXXX";
    char old[4096];

    if (!mkdtemp(dir) || !getcwd(old, sizeof(old)) || chdir(dir) != 0) {
        perror("temp dir");
        return 254;
    }
    clear_env();
    test_defaults();
    test_original_file();
    test_file_forms();
    test_file_errors();
    test_env();
    test_password_file(dir);
    test_paths(dir);
    test_secret_never_echoed();
    test_store_location();

    unlink("conf.toml");
    {
        char path[600];
        snprintf(path, sizeof(path), "%s/secret", dir);
        unlink(path);
        snprintf(path, sizeof(path), "%s/other.toml", dir);
        unlink(path);
    }
    if (chdir(old) != 0 || rmdir(dir) != 0)
        perror("cleanup");
    return done_testing();
}
