/*
 * assets.c — the embedded web UI (assets_data.h): content type from the extension, a strong
 * ETag with 304 on If-None-Match, "no-cache" so browsers revalidate after an upgrade.
 * Lookup is an exact match in the table, so no path (../, encoded or not) can reach a file
 * that was not embedded. A directory named without its trailing slash ("/swagger") is
 * redirected to it ("/swagger/"), where the page's relative links resolve.
 *
 * A file embedded with a gzip encoding is sent gzipped when the request's Accept-Encoding
 * weighs gzip above zero and no lower than the unencoded file; each encoding has its own ETag,
 * and such a file's responses carry "Vary: Accept-Encoding" so caches keep the two apart.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets_data.h"
#include "handlers/handlers.h"
#include "util/accept.h"
#include "util/array.h"

static const struct {
    const char *ext;
    const char *type;
} content_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".json", "application/json; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".webmanifest", "application/manifest+json"},
    {".txt", "text/plain; charset=utf-8"},
    {".yaml", "text/yaml; charset=utf-8"},
};

static const char *content_type_for(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < ARRAY_SIZE(content_types); i++)
        if (strcmp(dot, content_types[i].ext) == 0)
            return content_types[i].type;
    return "application/octet-stream";
}

static int by_path(const void *key, const void *elem)
{
    return strcmp(key, ((const struct asset *)elem)->path);
}

static const struct asset *asset_find(const char *path)
{
    char index_path[512];
    size_t len = strlen(path);
    if (len > 0 && path[len - 1] == '/') {
        int n = snprintf(index_path, sizeof index_path, "%sindex.html", path);
        if (n < 0 || (size_t)n >= sizeof index_path)
            return NULL;
        path = index_path;
    }
    return bsearch(path, assets_table, assets_count, sizeof assets_table[0], by_path);
}

/* Whether path + "/" names an embedded directory (one with an index.html). */
static bool is_directory(const char *path)
{
    char dir[512];
    int n = snprintf(dir, sizeof dir, "%s/", path);
    return n > 1 && (size_t)n < sizeof dir && path[n - 2] != '/' && asset_find(dir) != NULL;
}

/* The gzip encoding when the client accepts it (a weight above 0) and does not weigh the
 * unencoded file higher ("identity" or "*"), else NULL. Without Accept-Encoding the file goes
 * unencoded, as nginx and most servers do. */
static const struct asset_encoded *choose_encoding(const struct asset *asset, const char *accept)
{
    if (!asset->gzip.data)
        return NULL;
    int gzip = accept_weight(accept, "gzip");
    return gzip > 0 && gzip >= accept_weight(accept, "identity") ? &asset->gzip : NULL;
}

/* Whether the If-None-Match list names etag, by the weak comparison (a W/ prefix does not
 * matter) that RFC 9110 §13.1.2 asks for here, or is "*". */
static bool etag_listed(const char *list, const char *etag)
{
    size_t etag_len = strlen(etag);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        const char *last = end;
        while (last > p && (last[-1] == ' ' || last[-1] == '\t'))
            last--;
        if (last - p == 1 && *p == '*')
            return true;
        if (last - p > 2 && p[0] == 'W' && p[1] == '/')
            p += 2;
        if ((size_t)(last - p) == etag_len && memcmp(p, etag, etag_len) == 0)
            return true;
        p = end;
    }
    return false;
}

void assets_handler(struct http_request *req)
{
    const struct asset *asset = asset_find(req->path);
    if (!asset && is_directory(req->path)) {
        char location[512];
        snprintf(location, sizeof location, "%s/", req->path);
        http_add_header(req, "Location", location);
        http_respond_static(req, HTTP_STATUS_MOVED_PERMANENTLY, NULL, "", 0);
        return;
    }
    if (!asset) {
        http_respond_error(req, HTTP_STATUS_NOT_FOUND, "not found");
        return;
    }
    const struct asset_encoded *enc =
        choose_encoding(asset, http_request_header(req, "Accept-Encoding"));
    const char *etag = enc ? enc->etag : asset->etag;
    http_add_header(req, "ETag", etag);
    http_add_header(req, "Cache-Control", "no-cache");
    if (asset->gzip.data)
        http_add_header(req, "Vary", "Accept-Encoding");
    const char *match = http_request_header(req, "If-None-Match");
    if (match && etag_listed(match, etag)) {
        http_respond_static(req, HTTP_STATUS_NOT_MODIFIED, NULL, "", 0);
        return;
    }
    const char *type = content_type_for(asset->path);
    if (enc) {
        http_add_header(req, "Content-Encoding", "gzip");
        http_respond_static(req, HTTP_STATUS_OK, type, enc->data, enc->len);
        return;
    }
    http_respond_static(req, HTTP_STATUS_OK, type, asset->data, asset->len);
}
