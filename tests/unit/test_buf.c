/*
 * test_buf.c — the growable byte buffer (util/buf.h): always NUL-terminated once written,
 * growth across its boundaries, formatted output of every length near the capacity, reset,
 * detach.
 */
#include <stdlib.h>

#include "tap.h"
#include "util/buf.h"

/* Whether b holds exactly the len bytes of want, followed by a NUL. */
static bool holds(const struct buf *b, const char *want, size_t len)
{
    return b->len == len && b->data && memcmp(b->data, want, len) == 0 && b->data[len] == '\0' &&
           b->cap > len;
}

int main(void)
{
    struct buf b = BUF_INIT;
    ok(b.data == NULL && b.len == 0 && b.cap == 0, "BUF_INIT is empty and owns no memory");
    buf_append(&b, "", 0);
    ok(holds(&b, "", 0), "appending nothing still gives a NUL-terminated empty string");
    buf_release(&b);
    ok(b.data == NULL && b.len == 0 && b.cap == 0, "release leaves it as BUF_INIT");

    /* Byte by byte across several growths: the content and the terminator at every step. */
    char want[1000];
    bool all = true;
    for (size_t i = 0; i < sizeof want; i++) {
        want[i] = (char)('a' + i % 26);
        buf_putc(&b, want[i]);
        all = all && holds(&b, want, i + 1);
    }
    ok(all, "1,000 putc: content and terminator right after each");

    char *old = b.data;
    size_t cap = b.cap;
    buf_reset(&b);
    ok(holds(&b, "", 0) && b.data == old && b.cap == cap, "reset empties but keeps the memory");

    buf_append(&b, "a\0b", 3);
    ok(holds(&b, "a\0b", 3), "append copies NUL bytes too");
    buf_puts(&b, "cd");
    ok(holds(&b, "a\0bcd", 5), "puts appends after them");
    buf_release(&b);

    /* printf output of every length around the first capacity (64) and its doublings: the
     * first vsnprintf may be cut short and must be redone whole. */
    all = true;
    for (int len = 0; len <= 300; len++) {
        struct buf p = BUF_INIT;
        buf_puts(&p, "xy");
        buf_printf(&p, "%0*d", len, 0);
        char expect[304] = "xy";
        memset(expect + 2, '0', (size_t)len);
        if (len == 0)
            expect[2] = '0'; /* %0*d of 0 with width 0 is "0" */
        size_t n = 2 + (size_t)(len ? len : 1);
        if (!holds(&p, expect, n)) {
            printf("#   width %d: got %zu bytes\n", len, p.len);
            all = false;
        }
        buf_release(&p);
    }
    ok(all, "printf of 1..300 bytes after 2 others, across the growth boundaries");

    buf_printf(&b, "%s=%d;", "k", 42);
    buf_printf(&b, "%s", "");
    buf_printf(&b, "%.3s", "abcdef");
    ok(holds(&b, "k=42;abc", 8), "printf appends and formats as printf does");

    size_t len = 99;
    char *taken = buf_detach(&b, &len);
    is_str(taken, "k=42;abc", "detach hands over the bytes");
    is_int(len, 8, "and their length");
    ok(b.data == NULL && b.len == 0 && b.cap == 0, "and leaves the buffer empty");
    free(taken);

    taken = buf_detach(&b, &len);
    ok(taken && taken[0] == '\0' && len == 0, "detaching an empty buffer gives \"\", never NULL");
    free(taken);

    buf_grow(&b, 1000);
    ok(b.cap >= 1001 && b.len == 0, "grow makes room for that many bytes and the terminator");
    cap = b.cap;
    buf_grow(&b, 10);
    ok(b.cap == cap, "and does nothing when there is room");
    buf_release(&b);
    return done_testing();
}
