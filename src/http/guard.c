/* guard.c — see guard.h. */
#include "http/guard.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "util/clock.h"

/* RFC 9110 tchar: the characters of a header name. */
static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* name (name_len bytes) is the header name want, compared case-insensitively. */
static bool is_name(const char *name, size_t name_len, const char *want)
{
    return name_len == strlen(want) && strncasecmp(name, want, name_len) == 0;
}

bool guard_framing_field(struct guard_framing *f, const char *name, size_t name_len,
                         const char *value, size_t value_len)
{
    f->fields++;
    if (name_len == 0)
        f->error = "empty header name";
    for (size_t i = 0; i < name_len && !f->error; i++)
        if (!is_tchar((unsigned char)name[i]))
            f->error = "invalid character in a header name";
    for (size_t i = 0; i < value_len && value && !f->error; i++) {
        unsigned char c = (unsigned char)value[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            f->error = "invalid character in a header value";
    }
    if (is_name(name, name_len, "Content-Length"))
        f->content_length++;
    else if (is_name(name, name_len, "Transfer-Encoding")) {
        f->transfer_encoding++;
        if (!value || value_len != 7 || strncasecmp(value, "chunked", 7) != 0)
            f->error = "unsupported Transfer-Encoding";
    } else if (is_name(name, name_len, "Host"))
        f->host++;
    return f->error == NULL;
}

const char *guard_framing_verdict(const struct guard_framing *f)
{
    if (f->error)
        return f->error;
    if (f->content_length && f->transfer_encoding)
        return "both Content-Length and Transfer-Encoding";
    if (f->content_length > 1 || f->transfer_encoding > 1)
        return "repeated Content-Length or Transfer-Encoding";
    if (f->host > 1)
        return "more than one Host header";
    return NULL;
}

bool guard_path_is_sane(const char *path)
{
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

void guard_mark_nul(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\0')
            s[i] = 0x7f;
}

bool guard_request_id_is_sane(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > GUARD_REQUEST_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == ':' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

void guard_request_id_generate(char out[17])
{
    static _Thread_local uint64_t state;
    if (state == 0 && getrandom(&state, sizeof state, 0) != sizeof state)
        state = clock_now_ns() ^ (uint64_t)(uintptr_t)&state;
    state |= 1;
    /* xorshift64* */
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    snprintf(out, 17, "%016llx", (unsigned long long)(state * 2685821657736338717ULL));
}
