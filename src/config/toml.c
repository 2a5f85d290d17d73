/*
 * toml.c — the strict TOML subset of toml.h.
 *
 * Two passes. The first checks the bytes as a whole (NUL, control characters, UTF-8), so the
 * second, a line-by-line recursive-descent parser, only sees well-formed text and never has to
 * ask which byte sequences are legal where. Every step is bounded by the input length; nothing
 * recurses.
 */
#include "config/toml.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/errbuf.h"
#include "util/xalloc.h"

struct seen_key {
    char *key;
    int line;
};

struct parser {
    const char *p;   /* next byte */
    const char *end; /* one past the last byte */
    int line;
    struct toml_error *err;
    struct buf key;
    struct buf value;
    struct seen_key *seen;
    size_t nseen;
};

static int fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct parser *ps, const char *fmt, ...)
{
    va_list ap;

    ps->err->line = ps->line;
    va_start(ap, fmt);
    errbuf_vset(ps->err->msg, sizeof ps->err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* The printable form of byte c into piece (up to 4 bytes); returns its length. */
static size_t quote_byte(unsigned char c, char *piece)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;

    if (c < 0x20 || c >= 0x7f) {
        piece[n++] = '\\';
        piece[n++] = 'x';
        piece[n++] = hex[c >> 4];
        piece[n++] = hex[c & 15];
        return n;
    }
    if (c == '\'' || c == '\\')
        piece[n++] = '\\';
    piece[n++] = (char)c;
    return n;
}

char *toml_quote(char *dst, size_t dstlen, const char *s, size_t len)
{
    char piece[4];
    size_t o = 0, need = 0, room;

    if (dstlen < 4) {
        if (dstlen > 0)
            dst[0] = '\0';
        return dst;
    }
    for (size_t i = 0; i < len && need < dstlen; i++)
        need += quote_byte((unsigned char)s[i], piece);
    /* when it does not all fit, keep room for "..." */
    room = need < dstlen ? dstlen - 1 : dstlen - 4;
    for (size_t i = 0; i < len; i++) {
        size_t n = quote_byte((unsigned char)s[i], piece);
        if (o + n > room) {
            memcpy(dst + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(dst + o, piece, n);
        o += n;
    }
    dst[o] = '\0';
    return dst;
}

/* Length of the UTF-8 sequence at p (1..4), or 0 if it is not well formed (overlong forms,
 * surrogates and code points above U+10FFFF included). */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    size_t avail = (size_t)(end - p);
    unsigned char c = p[0];

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return avail >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
        if (avail < 3 || p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80)
            return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
        if (avail < 4 || p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
            return 0;
        return 4;
    }
    return 0;
}

/* Pass one: bytes that are wrong wherever they are. */
static int check_bytes(struct parser *ps)
{
    const unsigned char *p = (const unsigned char *)ps->p, *end = (const unsigned char *)ps->end;

    while (p < end) {
        unsigned char c = *p;
        size_t n;

        if (c == '\n') {
            ps->line++;
            p++;
            continue;
        }
        if (c == '\0')
            return fail(ps, "NUL byte");
        if (c == '\r') {
            if (p + 1 == end || p[1] != '\n')
                return fail(ps, "carriage return not followed by a line feed");
            p++;
            continue;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(ps, "control character 0x%02x not allowed", c);
        n = utf8_len(p, end);
        if (n == 0)
            return fail(ps, "invalid UTF-8");
        p += n;
    }
    ps->line = 1;
    return 0;
}

static bool at_eol(const struct parser *ps)
{
    return ps->p == ps->end || *ps->p == '\n' || *ps->p == '\r';
}

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
        ps->p++;
}

/* After a key-value pair or on an empty line: white space, an optional comment, the line end. */
static int finish_line(struct parser *ps, const char *what)
{
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '#') {
        while (!at_eol(ps))
            ps->p++;
    }
    if (!at_eol(ps))
        return fail(ps, "unexpected text after %s", what);
    if (ps->p < ps->end && *ps->p == '\r')
        ps->p++; /* check_bytes made sure a '\n' follows */
    if (ps->p < ps->end) {
        ps->p++;
        ps->line++;
    }
    return 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void put_utf8(struct buf *b, uint32_t cp)
{
    char out[4];
    size_t n;

    if (cp < 0x80) {
        out[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        out[0] = (char)(0xf0 | (cp >> 18));
        out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    buf_append(b, out, n);
}

/* \uXXXX or \UXXXXXXXX; ps->p is on the 'u' or 'U'. */
static int parse_unicode_escape(struct parser *ps, struct buf *out)
{
    size_t digits = *ps->p == 'u' ? 4 : 8;
    uint32_t cp = 0;

    ps->p++;
    for (size_t i = 0; i < digits; i++) {
        int h = ps->p < ps->end ? hex_value(*ps->p) : -1;
        if (h < 0)
            return fail(ps, "invalid escape: \\%c needs %zu hex digits", digits == 4 ? 'u' : 'U',
                        digits);
        cp = (cp << 4) | (uint32_t)h;
        ps->p++;
    }
    if (cp == 0)
        return fail(ps, "invalid escape: \\u0000 (NUL) not allowed");
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return fail(ps, "invalid escape: U+%04X is not a Unicode scalar value", (unsigned)cp);
    put_utf8(out, cp);
    return 0;
}

/* "basic string" on one line; ps->p is on the opening quote. */
static int parse_basic(struct parser *ps, struct buf *out)
{
    ps->p++;
    for (;;) {
        char c;

        if (at_eol(ps))
            return fail(ps, "unterminated string");
        c = *ps->p;
        if (c == '"') {
            ps->p++;
            return 0;
        }
        if (c != '\\') {
            buf_putc(out, c);
            ps->p++;
            continue;
        }
        ps->p++;
        if (at_eol(ps))
            return fail(ps, "unterminated string");
        c = *ps->p;
        switch (c) {
        case '"':
        case '\\':
            buf_putc(out, c);
            break;
        case 'b':
            buf_putc(out, '\b');
            break;
        case 't':
            buf_putc(out, '\t');
            break;
        case 'n':
            buf_putc(out, '\n');
            break;
        case 'f':
            buf_putc(out, '\f');
            break;
        case 'r':
            buf_putc(out, '\r');
            break;
        case 'u':
        case 'U':
            if (parse_unicode_escape(ps, out) < 0)
                return -1;
            continue;
        default:
            if ((unsigned char)c > 0x20 && (unsigned char)c < 0x7f)
                return fail(ps, "invalid escape '\\%c'", c);
            return fail(ps, "invalid escape: backslash before byte 0x%02x", (unsigned char)c);
        }
        ps->p++;
    }
}

/* 'literal string' on one line: no escapes. */
static int parse_literal(struct parser *ps, struct buf *out)
{
    ps->p++;
    for (;;) {
        if (at_eol(ps))
            return fail(ps, "unterminated string");
        if (*ps->p == '\'') {
            ps->p++;
            return 0;
        }
        buf_putc(out, *ps->p);
        ps->p++;
    }
}

static bool is_bare_key_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static int parse_string(struct parser *ps, struct buf *out)
{
    char q = *ps->p;

    if (ps->end - ps->p >= 3 && ps->p[1] == q && ps->p[2] == q)
        return fail(ps, "multi-line strings are not supported");
    return q == '"' ? parse_basic(ps, out) : parse_literal(ps, out);
}

static int parse_key(struct parser *ps)
{
    char c = *ps->p;

    buf_reset(&ps->key);
    buf_puts(&ps->key, ""); /* data is a C string even for an empty key */
    if (c == '"' || c == '\'') {
        if (parse_string(ps, &ps->key) < 0)
            return -1;
    } else if (is_bare_key_char(c)) {
        const char *start = ps->p;
        while (ps->p < ps->end && is_bare_key_char(*ps->p))
            ps->p++;
        buf_append(&ps->key, start, (size_t)(ps->p - start));
    } else if (c == '=') {
        return fail(ps, "missing key before '='");
    } else {
        return fail(ps, "expected a key");
    }
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '.')
        return fail(ps, "dotted keys are not supported");
    if (ps->p == ps->end || *ps->p != '=')
        return fail(ps, "expected '=' after key");
    ps->p++;
    return 0;
}

/* A value ends at white space, a comment or the line end. */
static bool at_value_end(const struct parser *ps)
{
    return at_eol(ps) || *ps->p == ' ' || *ps->p == '\t' || *ps->p == '#';
}

/* [+-]?(0|[1-9](_?[0-9])*), within int64. */
static int parse_integer(struct parser *ps)
{
    bool negative = false;
    uint64_t magnitude = 0, limit;
    char text[24];

    if (*ps->p == '+' || *ps->p == '-') {
        negative = *ps->p == '-';
        ps->p++;
    }
    limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (ps->p == ps->end || *ps->p < '0' || *ps->p > '9')
        return fail(ps, "invalid value: expected a string, an integer, true or false");
    if (*ps->p == '0') {
        ps->p++;
        if (ps->p < ps->end && ((*ps->p >= '0' && *ps->p <= '9') || *ps->p == '_'))
            return fail(ps, "invalid integer: leading zeros are not allowed");
    } else {
        for (;;) {
            unsigned digit = (unsigned)(*ps->p - '0');
            if (magnitude > (limit - digit) / 10)
                return fail(ps, "integer out of range");
            magnitude = magnitude * 10 + digit;
            ps->p++;
            /* one underscore, and only between two digits */
            if (ps->end - ps->p >= 2 && ps->p[0] == '_' && ps->p[1] >= '0' && ps->p[1] <= '9')
                ps->p++;
            if (ps->p == ps->end || *ps->p < '0' || *ps->p > '9')
                break;
        }
    }
    if (!at_value_end(ps)) {
        if (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E')
            return fail(ps, "floats are not supported");
        if (*ps->p == 'x' || *ps->p == 'o' || *ps->p == 'b')
            return fail(ps, "only decimal integers are supported");
        if (*ps->p == '-' || *ps->p == ':')
            return fail(ps, "dates and times are not supported");
        return fail(ps, "invalid integer");
    }
    if (negative && magnitude != 0)
        snprintf(text, sizeof text, "-%llu", (unsigned long long)magnitude);
    else
        snprintf(text, sizeof text, "%llu", (unsigned long long)magnitude);
    buf_puts(&ps->value, text);
    return 0;
}

static bool match_word(struct parser *ps, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return false;
    ps->p += n;
    if (!at_value_end(ps)) {
        ps->p -= n;
        return false;
    }
    return true;
}

static int parse_value(struct parser *ps, enum toml_kind *kind)
{
    char c;

    buf_reset(&ps->value);
    buf_puts(&ps->value, "");
    skip_ws(ps);
    if (at_eol(ps) || *ps->p == '#')
        return fail(ps, "missing value after '='");
    c = *ps->p;
    if (c == '"' || c == '\'') {
        *kind = TOML_STRING;
        return parse_string(ps, &ps->value);
    }
    if (c == 't' || c == 'f') {
        *kind = TOML_BOOL;
        if (match_word(ps, "true")) {
            buf_puts(&ps->value, "true");
            return 0;
        }
        if (match_word(ps, "false")) {
            buf_puts(&ps->value, "false");
            return 0;
        }
    }
    if ((c >= '0' && c <= '9') || c == '+' || c == '-') {
        *kind = TOML_INTEGER;
        return parse_integer(ps);
    }
    if (c == '[')
        return fail(ps, "arrays are not supported");
    if (c == '{')
        return fail(ps, "inline tables are not supported");
    return fail(ps, "invalid value: expected a string, an integer, true or false");
}

static int remember_key(struct parser *ps)
{
    for (size_t i = 0; i < ps->nseen; i++) {
        if (strcmp(ps->seen[i].key, ps->key.data) == 0) {
            char quoted[96];
            return fail(ps, "duplicate key '%s' (first set on line %d)",
                        toml_quote(quoted, sizeof quoted, ps->key.data, ps->key.len),
                        ps->seen[i].line);
        }
    }
    if (ps->nseen == TOML_MAX_KEYS)
        return fail(ps, "too many keys (more than %d)", TOML_MAX_KEYS);
    if (ps->nseen % 16 == 0)
        ps->seen = xrealloc(ps->seen, (ps->nseen + 16) * sizeof *ps->seen);
    ps->seen[ps->nseen].key = xstrdup(ps->key.data);
    ps->seen[ps->nseen].line = ps->line;
    ps->nseen++;
    return 0;
}

static int parse_lines(struct parser *ps, toml_visit_fn visit, void *ctx)
{
    while (ps->p < ps->end) {
        struct toml_item item;
        enum toml_kind kind = TOML_STRING;

        skip_ws(ps);
        if (at_eol(ps) || *ps->p == '#') {
            if (finish_line(ps, "comment") < 0)
                return -1;
            continue;
        }
        if (*ps->p == '[')
            return fail(ps, "table headers like '[name]' are not supported");
        if (parse_key(ps) < 0 || parse_value(ps, &kind) < 0)
            return -1;
        item.line = ps->line;
        if (remember_key(ps) < 0 || finish_line(ps, "value") < 0)
            return -1;
        item.key = ps->key.data;
        item.value = ps->value.data;
        item.kind = kind;
        if (visit && visit(&item, ctx, ps->err->msg, sizeof ps->err->msg) != 0) {
            ps->err->line = item.line;
            if (ps->err->msg[0] == '\0')
                snprintf(ps->err->msg, sizeof ps->err->msg, "rejected");
            return -1;
        }
    }
    return 0;
}

int toml_parse(const char *text, size_t len, toml_visit_fn visit, void *ctx, struct toml_error *err)
{
    struct parser ps = {
        .p = text,
        .end = text + len,
        .line = 1,
        .err = err,
        .key = BUF_INIT,
        .value = BUF_INIT,
    };
    int rc;

    err->line = 0;
    err->msg[0] = '\0';
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        ps.p += 3;
    rc = check_bytes(&ps);
    if (rc == 0)
        rc = parse_lines(&ps, visit, ctx);

    for (size_t i = 0; i < ps.nseen; i++)
        free(ps.seen[i].key);
    free(ps.seen);
    buf_release(&ps.key);
    buf_release(&ps.value);
    return rc;
}
