/*
 * assets_data.h — the web UI files embedded in the binary at build time.
 *
 * tools/embed generates the table (build/gen/assets_data.c) from every file under assets/:
 * path is the URL path ("/index.html", "/js/app.js"), sorted by strcmp so it can be searched
 * with bsearch; etag is a strong validator computed from the bytes ("\"<16 hex digits>\"").
 * gzip is the same file gzipped at build time, present (data not NULL) only when smaller than
 * the file, with an ETag of its own ("\"<16 hex digits>-gzip\"").
 */
#ifndef ASSETS_DATA_H
#define ASSETS_DATA_H

#include <stddef.h>

struct asset_encoded {
    const unsigned char *data; /* NULL: this encoding is not embedded */
    size_t len;
    const char *etag;
};

struct asset {
    const char *path;
    const unsigned char *data;
    size_t len;
    const char *etag;
    struct asset_encoded gzip;
};

extern const struct asset assets_table[];
extern const size_t assets_count;

#endif
