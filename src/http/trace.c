/* trace.c — see trace.h. */
#include "http/trace.h"

#include <string.h>

static bool is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool is_field_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
}

bool trace_amzn_parse(const char *value, char out[TRACE_AMZN_MAX + 1])
{
    size_t len = value ? strlen(value) : 0;
    out[0] = '\0';
    if (len == 0 || len > TRACE_AMZN_MAX)
        return false;
    /* Each field: one or more key characters, '=', one or more value characters. */
    size_t i = 0;
    while (i < len) {
        size_t key = i;
        while (i < len && is_field_char(value[i]))
            i++;
        if (i == key || i == len || value[i] != '=')
            return false;
        size_t val = ++i;
        while (i < len && is_field_char(value[i]))
            i++;
        if (i == val)
            return false;
        if (i < len && (value[i] != ';' || i + 1 == len))
            return false;
        if (i < len)
            i++;
    }
    memcpy(out, value, len + 1);
    return true;
}

/* Whether s[0..n) is lower-case hex and, if nonzero is set, not all zeros. */
static bool hex_field(const char *s, size_t n, bool nonzero)
{
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (!is_lower_hex(s[i]))
            return false;
        any |= s[i] != '0';
    }
    return any || !nonzero;
}

bool trace_parent_parse(const char *value, char out[TRACE_PARENT_LEN + 1])
{
    size_t len = value ? strlen(value) : 0;
    out[0] = '\0';
    /* 2 + 1 + 32 + 1 + 16 + 1 + 2 */
    if (len < TRACE_PARENT_LEN || value[2] != '-' || value[35] != '-' || value[52] != '-')
        return false;
    if (!hex_field(value, 2, false) || memcmp(value, "ff", 2) == 0 ||
        !hex_field(value + 3, 32, true) || !hex_field(value + 36, 16, true) ||
        !hex_field(value + 53, 2, false))
        return false;
    if (memcmp(value, "00", 2) == 0 ? len != TRACE_PARENT_LEN
                                    : len > TRACE_PARENT_LEN && value[TRACE_PARENT_LEN] != '-')
        return false;
    memcpy(out, value, TRACE_PARENT_LEN);
    out[TRACE_PARENT_LEN] = '\0';
    return true;
}
