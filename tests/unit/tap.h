/*
 * tap.h — the Test Anything Protocol for unit tests, header-only.
 *
 *   int main(void) { ok(1 + 1 == 2, "adds"); is_str(s, "x", "names x"); return done_testing(); }
 *
 * Prints "ok N - name" / "not ok N - name" and, at the end, the plan "1..N"; the exit status
 * is the number of failures (capped at 254), which prove reports.
 */
#ifndef TAP_H
#define TAP_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

static inline bool tap_ok(bool pass, const char *name, const char *file, int line)
{
    tap_count++;
    printf("%sok %d - %s\n", pass ? "" : "not ", tap_count, name);
    if (!pass) {
        tap_failed++;
        printf("#   failed at %s:%d\n", file, line);
    }
    fflush(stdout);
    return pass;
}

#define ok(cond, name) tap_ok((cond), (name), __FILE__, __LINE__)

#define is_int(got, want, name)                                                                    \
    do {                                                                                           \
        long long tap_g = (long long)(got), tap_w = (long long)(want);                             \
        if (!ok(tap_g == tap_w, name))                                                             \
            printf("#   got %lld, want %lld\n", tap_g, tap_w);                                     \
    } while (0)

#define is_str(got, want, name)                                                                    \
    do {                                                                                           \
        const char *tap_g = (got), *tap_w = (want);                                                \
        bool tap_same = tap_g && tap_w ? strcmp(tap_g, tap_w) == 0 : tap_g == tap_w;               \
        if (!ok(tap_same, name))                                                                   \
            printf("#   got '%s', want '%s'\n", tap_g ? tap_g : "(null)",                          \
                   tap_w ? tap_w : "(null)");                                                      \
    } while (0)

static inline void diag(const char *msg)
{
    printf("# %s\n", msg);
}

static inline int done_testing(void)
{
    printf("1..%d\n", tap_count);
    return tap_failed > 254 ? 254 : tap_failed;
}

#endif
