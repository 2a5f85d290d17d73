/*
 * toml.h — a small, strict parser for the subset of TOML that conf.toml uses.
 *
 * Accepted: `key = value` lines, blank lines and `#` comments; bare keys (A-Z a-z 0-9 _ -) and
 * quoted keys ("basic" or 'literal'); values that are basic strings (escapes \" \\ \b \t \n \f
 * \r \uXXXX \UXXXXXXXX), literal strings, decimal integers (optional sign, single underscores
 * between digits, no leading zeros, 64-bit) and true/false; LF or CRLF line ends; a UTF-8 BOM at
 * the very start.
 *
 * Rejected, each with the line it happens on: table headers, dotted keys, arrays, inline
 * tables, floats, dates, multi-line strings, duplicate keys, invalid escapes (and \u0000, so
 * every key and value is a C string), unterminated strings, control characters, NUL bytes,
 * invalid UTF-8, and anything after a value but a comment.
 *
 * The input is a byte range, not a C string, and may hold anything: the parser is fuzzed
 * (tests/fuzz/fuzz_toml.c).
 */
#ifndef TOML_H
#define TOML_H

#include <stddef.h>

/* More keys than this is an error: it keeps the duplicate check cheap on hostile input. */
#define TOML_MAX_KEYS 1024

enum toml_kind {
    TOML_STRING,
    TOML_INTEGER,
    TOML_BOOL,
};

/* One `key = value` pair. key and value are NUL-terminated and valid during the visit only.
 * value is the decoded string, the integer in canonical decimal ("-12", "5432"), or "true" /
 * "false". */
struct toml_item {
    const char *key;
    const char *value;
    enum toml_kind kind;
    int line; /* 1-based */
};

#define TOML_ERRMSG_MAX 160

struct toml_error {
    int line;                  /* 1-based line the error is on; 0 if there was no error */
    char msg[TOML_ERRMSG_MAX]; /* one line, lower case, e.g. "expected '=' after key" */
};

/* Called for each pair in file order. Returns 0 to go on; anything else stops the parse, and
 * the visitor should then have written a message into msg (msglen bytes). */
typedef int (*toml_visit_fn)(const struct toml_item *item, void *ctx, char *msg, size_t msglen);

/* Parses text[0..len). Returns 0, or -1 with err filled (err may not be NULL). Items before an
 * error have already been visited. */
int toml_parse(const char *text, size_t len, toml_visit_fn visit, void *ctx,
               struct toml_error *err);

/* Writes s[0..len) into dst (dstlen bytes, NUL-terminated) as printable one-line text for a
 * message: control characters and bytes >= 0x7f become \xHH, ' and \ get a backslash, and
 * text that does not fit is cut and ends in "...". Returns dst. */
char *toml_quote(char *dst, size_t dstlen, const char *s, size_t len);

#endif
