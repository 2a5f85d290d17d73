/*
 * test_toml.c — the conf.toml parser: every accepted form, every rejection with its line.
 */
#include <stdlib.h>
#include <string.h>

#include "config/toml.h"
#include "tap.h"
#include "util/buf.h"

static const char kind_char[] = {'s', 'i', 'b'};

/* Each item as "key=value/kind@line;" */
static int collect(const struct toml_item *item, void *ctx, char *msg, size_t msglen)
{
    struct buf *out = ctx;

    (void)msg;
    (void)msglen;
    buf_printf(out, "%s=%s/%c@%d;", item->key, item->value, kind_char[item->kind], item->line);
    return 0;
}

static struct buf result;

/* The items, or "ERR LINE: message". */
static const char *parse_n(const char *text, size_t len)
{
    struct toml_error err;

    buf_reset(&result);
    buf_puts(&result, "");
    if (toml_parse(text, len, collect, &result, &err) < 0) {
        buf_reset(&result);
        buf_printf(&result, "ERR %d: %s", err.line, err.msg);
    }
    return result.data;
}

static const char *parse(const char *text)
{
    return parse_n(text, strlen(text));
}

static int reject_second(const struct toml_item *item, void *ctx, char *msg, size_t msglen)
{
    int *count = ctx;

    if (++*count == 2) {
        snprintf(msg, msglen, "no second key '%s'", item->key);
        return -1;
    }
    return 0;
}

static void test_original(void)
{
    is_str(parse("\"DbUser\" = \"postgres\"\n"
                 "\"DbPassword\" = \"changeme\"\n"
                 "\"DbName\" = \"app\"\n"
                 "\"DbPort\" = \"5432\"\n"
                 "\"DbHost\" = \"localhost\"\n"
                 "\"ListenHost\" = \"0.0.0.0\"\n"
                 "\"ListenPort\" = \"3000\"\n"),
           "DbUser=postgres/s@1;DbPassword=changeme/s@2;DbName=app/s@3;DbPort=5432/s@4;"
           "DbHost=localhost/s@5;ListenHost=0.0.0.0/s@6;ListenPort=3000/s@7;",
           "the Go original's conf.toml");
}

static void test_accepted(void)
{
    is_str(parse(""), "", "empty input");
    is_str(parse("\n\n  \t\n"), "", "blank lines only");
    is_str(parse("# only a comment"), "", "comment without newline");
    is_str(parse("a = 1"), "a=1/i@1;", "no final newline");
    is_str(parse("  # c\n\ta=\"x\"  # trailing comment \n"), "a=x/s@2;", "comments and indent");
    is_str(parse("Bare_Key-9 = 'v'\n"), "Bare_Key-9=v/s@1;", "bare key characters");
    is_str(parse("1234 = true\n"), "1234=true/b@1;", "all-digit bare key");
    is_str(parse("'lit key' = false\n"), "lit key=false/b@1;", "literal-string key");
    is_str(parse("\"a b\\tc\" = 1\n"), "a b\tc=1/i@1;", "basic-string key with escape");
    is_str(parse("\"\" = 'empty key'\n"), "=empty key/s@1;", "empty quoted key");
    is_str(parse("a=''\nb=\"\"\n"), "a=/s@1;b=/s@2;", "empty strings");
    is_str(parse("a = 'C:\\path\\n'\n"), "a=C:\\path\\n/s@1;", "literal strings keep backslashes");
    is_str(parse("a = \"\\\" \\\\ \\n \\t \\r \\b \\f\"\n"), "a=\" \\ \n \t \r \b \f/s@1;",
           "all short escapes");
    is_str(parse("a = \"\\u00e9\\u20AC\\U0001F600\"\n"),
           "a=\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80/s@1;", "\\u and \\U escapes to UTF-8");
    is_str(parse("a = \"\\u0041\\U0010FFFF\"\n"), "a=A\xf4\x8f\xbf\xbf/s@1;",
           "escape bounds: ASCII and U+10FFFF");
    is_str(parse("a = \"h\xc3\xa9 \xe2\x82\xac\"\n"), "a=h\xc3\xa9 \xe2\x82\xac/s@1;",
           "raw UTF-8 in strings");
    is_str(parse("a = \"tab\there\"\n"), "a=tab\there/s@1;", "raw tab in a string");
    is_str(parse("a = \"# not a comment\"\n"), "a=# not a comment/s@1;", "# inside a string");
    is_str(parse("a = 0\nb = -0\nc = +0\n"), "a=0/i@1;b=0/i@2;c=0/i@3;", "zeros");
    is_str(parse("a = +5432\nb = -17\nc = 1_000_000\n"), "a=5432/i@1;b=-17/i@2;c=1000000/i@3;",
           "signs and underscores");
    is_str(parse("a = 9223372036854775807\nb = -9223372036854775808\n"),
           "a=9223372036854775807/i@1;b=-9223372036854775808/i@2;", "int64 limits");
    is_str(parse("a = true\nb = false #c\n"), "a=true/b@1;b=false/b@2;", "booleans");
    is_str(parse("a\t=\t1\t\n"), "a=1/i@1;", "tabs around =");
    is_str(parse("a=1\r\nb=2\r\n\r\nc=3"), "a=1/i@1;b=2/i@2;c=3/i@4;", "CRLF line ends");
    is_str(parse("\xef\xbb\xbf\"a\" = 1\n"), "a=1/i@1;", "UTF-8 BOM at the start");
    is_str(parse("# caf\xc3\xa9 \t comment\n"), "", "UTF-8 and tab in a comment");
    is_str(parse("a = 1\nA = 2\n"), "a=1/i@1;A=2/i@2;", "keys are case-sensitive in TOML");
    is_str(parse("\"a\" = 1\n'b' = 2\nc = 3\n"), "a=1/i@1;b=2/i@2;c=3/i@3;", "three key forms");
}

static void test_rejected(void)
{
    is_str(parse("a = 1\n[table]\n"), "ERR 2: table headers like '[name]' are not supported",
           "table header");
    is_str(parse("[[arr]]\n"), "ERR 1: table headers like '[name]' are not supported",
           "array of tables");
    is_str(parse("a = 1\nb = 2\n\n\"DbPort\"\n"), "ERR 4: expected '=' after key",
           "missing = on line 4");
    is_str(parse("a 1\n"), "ERR 1: expected '=' after key", "key then value without =");
    is_str(parse("= 1\n"), "ERR 1: missing key before '='", "missing key");
    is_str(parse("a =\n"), "ERR 1: missing value after '='", "missing value");
    is_str(parse("a = # c\n"), "ERR 1: missing value after '='", "comment instead of value");
    is_str(parse("a.b = 1\n"), "ERR 1: dotted keys are not supported", "dotted key");
    is_str(parse("\xc3\xa9 = 1\n"), "ERR 1: expected a key", "non-ASCII bare key");
    is_str(parse("a = 1\na = 2\n"), "ERR 2: duplicate key 'a' (first set on line 1)",
           "duplicate key");
    is_str(parse("\"a\" = 1\n'a' = 2\n"), "ERR 2: duplicate key 'a' (first set on line 1)",
           "duplicate key in other quoting");
    is_str(parse("a = \"x\\q\"\n"), "ERR 1: invalid escape '\\q'", "invalid escape");
    is_str(parse("a = \"\\x41\"\n"), "ERR 1: invalid escape '\\x'", "\\x is not TOML 1.0");
    is_str(parse("a = \"\\ \"\n"), "ERR 1: invalid escape: backslash before byte 0x20",
           "backslash space");
    is_str(parse("a = \"\\u12\"\n"), "ERR 1: invalid escape: \\u needs 4 hex digits", "short \\u");
    is_str(parse("a = \"\\U0000004\"\n"), "ERR 1: invalid escape: \\U needs 8 hex digits",
           "short \\U");
    is_str(parse("a = \"\\u0000\"\n"), "ERR 1: invalid escape: \\u0000 (NUL) not allowed",
           "escaped NUL");
    is_str(parse("a = \"\\uD800\"\n"),
           "ERR 1: invalid escape: U+D800 is not a Unicode scalar value", "escaped surrogate");
    is_str(parse("a = \"\\U00110000\"\n"),
           "ERR 1: invalid escape: U+110000 is not a Unicode scalar value",
           "escape above U+10FFFF");
    is_str(parse("a = 1\nb = \"open\n"), "ERR 2: unterminated string", "unterminated basic");
    is_str(parse("b = 'open"), "ERR 1: unterminated string", "unterminated literal at EOF");
    is_str(parse("b = \"ends in \\"), "ERR 1: unterminated string", "backslash at EOF");
    is_str(parse("\"key = 1\n"), "ERR 1: unterminated string", "unterminated key");
    is_str(parse("a = \"\"\"multi\"\"\"\n"), "ERR 1: multi-line strings are not supported",
           "multi-line basic");
    is_str(parse("a = '''multi'''\n"), "ERR 1: multi-line strings are not supported",
           "multi-line literal");
    is_str(parse("a = \"x\" y\n"), "ERR 1: unexpected text after value", "garbage after string");
    is_str(parse("a = 1 2\n"), "ERR 1: unexpected text after value", "garbage after integer");
    is_str(parse("a = \"x\"\"y\"\n"), "ERR 1: unexpected text after value",
           "string right after string");
    is_str(parse("a = truex\n"),
           "ERR 1: invalid value: expected a string, an integer, true or false", "truex");
    is_str(parse("a = True\n"),
           "ERR 1: invalid value: expected a string, an integer, true or false",
           "True is not a boolean");
    is_str(parse("a = bare\n"),
           "ERR 1: invalid value: expected a string, an integer, true or false", "unquoted string");
    is_str(parse("a = 0123\n"), "ERR 1: invalid integer: leading zeros are not allowed",
           "leading zero");
    is_str(parse("a = 0_1\n"), "ERR 1: invalid integer: leading zeros are not allowed",
           "zero underscore");
    is_str(parse("a = 1__0\n"), "ERR 1: invalid integer", "double underscore");
    is_str(parse("a = 10_\n"), "ERR 1: invalid integer", "trailing underscore");
    is_str(parse("a = _1\n"), "ERR 1: invalid value: expected a string, an integer, true or false",
           "leading underscore");
    is_str(parse("a = +\n"), "ERR 1: invalid value: expected a string, an integer, true or false",
           "lone sign");
    is_str(parse("a = 9223372036854775808\n"), "ERR 1: integer out of range", "int64 overflow");
    is_str(parse("a = -9223372036854775809\n"), "ERR 1: integer out of range", "int64 underflow");
    is_str(parse("a = 1.5\n"), "ERR 1: floats are not supported", "float");
    is_str(parse("a = 1e3\n"), "ERR 1: floats are not supported", "exponent");
    is_str(parse("a = 0x10\n"), "ERR 1: only decimal integers are supported", "hex");
    is_str(parse("a = 1979-05-27\n"), "ERR 1: dates and times are not supported", "date");
    is_str(parse("a = [1]\n"), "ERR 1: arrays are not supported", "array");
    is_str(parse("a = {b = 1}\n"), "ERR 1: inline tables are not supported", "inline table");
    is_str(parse_n("a = 1\nb = \"x\0y\"\n", 15), "ERR 2: NUL byte", "NUL byte in a string");
    is_str(parse_n("a = 1\0\n", 7), "ERR 1: NUL byte", "NUL byte after a value");
    is_str(parse("a = 1\nb = \"\x01\"\n"), "ERR 2: control character 0x01 not allowed",
           "control character in a string");
    is_str(parse("# \x7f\n"), "ERR 1: control character 0x7f not allowed", "DEL in a comment");
    is_str(parse("a = 1\rb = 2\n"), "ERR 1: carriage return not followed by a line feed",
           "bare CR");
    is_str(parse("a = 1\r"), "ERR 1: carriage return not followed by a line feed", "CR at EOF");
    is_str(parse("a = 1\n\n\nb = \"\xff\"\n"), "ERR 4: invalid UTF-8", "invalid byte 0xff");
    is_str(parse("b = \"\xc0\xaf\"\n"), "ERR 1: invalid UTF-8", "overlong encoding");
    is_str(parse("b = \"\xed\xa0\x80\"\n"), "ERR 1: invalid UTF-8", "encoded surrogate");
    is_str(parse("b = \"\xf4\x90\x80\x80\"\n"), "ERR 1: invalid UTF-8", "above U+10FFFF");
    is_str(parse("b = \"\xe2\x82\"\n"), "ERR 1: invalid UTF-8", "truncated sequence");
    is_str(parse("# \xe2\x82"), "ERR 1: invalid UTF-8", "truncated sequence at EOF");
    is_str(parse("\xef\xbb\xbf\xef\xbb\xbf a = 1\n"), "ERR 1: expected a key", "second BOM");
    is_str(parse("a = 1\r\n\r\n[x]\r\n"), "ERR 3: table headers like '[name]' are not supported",
           "line numbers count CRLF lines");
}

static void test_visitor(void)
{
    int count = 0;
    struct toml_error err;
    const char *text = "a = 1\nb = 2\nc = junk\n";

    is_int(toml_parse(text, strlen(text), reject_second, &count, &err), -1,
           "a visitor can stop the parse");
    is_int(err.line, 2, "visitor error carries the item's line");
    is_str(err.msg, "no second key 'b'", "visitor message kept");
    is_int(count, 2, "no item visited after the stop");
    is_int(toml_parse("a = 1\n", 6, NULL, NULL, &err), 0, "NULL visitor only validates");
    is_int(err.line, 0, "no error line on success");
}

static void test_many_keys(void)
{
    struct buf big = BUF_INIT;
    struct toml_error err;

    for (int i = 0; i < TOML_MAX_KEYS; i++)
        buf_printf(&big, "k%d = %d\n", i, i);
    is_int(toml_parse(big.data, big.len, NULL, NULL, &err), 0, "TOML_MAX_KEYS keys are fine");
    buf_puts(&big, "one_more = 1\n");
    is_int(toml_parse(big.data, big.len, NULL, NULL, &err), -1, "one more key is refused");
    is_int(err.line, TOML_MAX_KEYS + 1, "on the line of the extra key");
    buf_release(&big);
}

static void test_quote(void)
{
    char out[16];
    char tiny[4];

    is_str(toml_quote(out, sizeof(out), "abc", 3), "abc", "quote: plain text");
    is_str(toml_quote(out, sizeof(out), "a'b\\c\n", 6), "a\\'b\\\\c\\x0a", "quote: escapes");
    is_str(toml_quote(out, sizeof(out), "0123456789abcdef", 16), "0123456789ab...",
           "quote: cut with ...");
    is_str(toml_quote(out, sizeof(out), "0123456789abcde", 15), "0123456789abcde",
           "quote: exact fit is not cut");
    is_str(toml_quote(tiny, sizeof(tiny), "abcdef", 6), "...", "quote: tiny buffer");
}

int main(void)
{
    test_original();
    test_accepted();
    test_rejected();
    test_visitor();
    test_many_keys();
    test_quote();
    buf_release(&result);
    return done_testing();
}
