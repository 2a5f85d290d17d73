/*
 * fuzz_toml.c — libFuzzer target for the conf.toml parser (src/config/toml.c).
 *
 * Besides "does not crash" (ASan, UBSan), it checks the contract of toml.h on every input:
 * items have 1-based, non-decreasing lines and C-string keys and values; integers are in
 * canonical form; an error has a line and a one-line, non-empty message.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct state {
    int last_line;
    size_t items;
};

static int visit(const struct toml_item *item, void *ctx, char *msg, size_t msglen)
{
    struct state *st = ctx;

    (void)msg;
    (void)msglen;
    assert(item->line >= 1 && item->line >= st->last_line);
    st->last_line = item->line;
    assert(item->key && item->value);
    (void)strlen(item->key);
    switch (item->kind) {
    case TOML_STRING:
        (void)strlen(item->value);
        break;
    case TOML_INTEGER:
        assert(item->value[0] != '\0' && item->value[0] != '+');
        assert(strchr(item->value, '_') == NULL);
        break;
    case TOML_BOOL:
        assert(strcmp(item->value, "true") == 0 || strcmp(item->value, "false") == 0);
        break;
    }
    st->items++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct state st = {0, 0};
    struct toml_error err;
    char quoted[64];

    if (toml_parse((const char *)data, size, visit, &st, &err) < 0) {
        assert(err.line >= 1);
        assert(err.msg[0] != '\0' && strchr(err.msg, '\n') == NULL);
    } else {
        assert(err.line == 0);
    }
    toml_quote(quoted, sizeof(quoted), (const char *)data, size);
    assert(strlen(quoted) < sizeof(quoted) && strchr(quoted, '\n') == NULL);
    return 0;
}
