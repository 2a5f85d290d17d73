#!/usr/bin/env python3
"""The embedded web UI over HTTP: every file under assets/ byte for byte, gzip when the client
accepts it (Accept-Encoding weights and q=0 honoured), Content-Encoding and Vary, an ETag per
encoding, 304 on If-None-Match for the encoding asked for, HEAD, and no gzip where it would not
make the file smaller."""
import gzip
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import diag, done, is_, ok  # noqa: E402
from tca import ROOT, App  # noqa: E402

ASSETS = os.path.join(ROOT, "assets")
TEXT = (".html", ".css", ".js", ".json", ".svg", ".txt")


def files():
    for d, _, names in os.walk(ASSETS):
        for name in sorted(names):
            if not name.startswith("."):
                path = os.path.join(d, name)
                yield "/" + os.path.relpath(path, ASSETS), open(path, "rb").read()


def get(app, path, accept=None, method="GET", inm=None):
    headers = {}
    if accept is not None:
        headers["Accept-Encoding"] = accept
    if inm is not None:
        headers["If-None-Match"] = inm
    return app.request(method, path, headers=headers)


def gunzip(data):
    try:
        return gzip.decompress(data)
    except (OSError, EOFError) as e:
        return "not gzip: %s" % e


with App() as app:
    identity_bytes = gzip_bytes = 0
    for path, want in files():
        status, h, body = get(app, path)
        ok(status == 200 and body == want and "content-encoding" not in h,
           "%s without Accept-Encoding: the file itself" % path)
        status, h2, body2 = get(app, path, "gzip, deflate, br")
        identity_bytes += len(want)
        if h2.get("content-encoding") == "gzip":
            gzip_bytes += len(body2)
            ok(status == 200 and gunzip(body2) == want and len(body2) < len(want),
               "%s gzipped: %d -> %d bytes, decompresses to the file" % (path, len(want),
                                                                          len(body2)))
            is_(int(h2.get("content-length", -1)), len(body2), "%s: Content-Length" % path)
            ok(h2.get("etag") and h2.get("etag") != h.get("etag"),
               "%s: the gzip encoding has an ETag of its own" % path)
            is_((h.get("vary"), h2.get("vary")), ("Accept-Encoding", "Accept-Encoding"),
                "%s: Vary: Accept-Encoding on both encodings" % path)
        else:
            gzip_bytes += len(body2)
            ok(status == 200 and body2 == want and "content-encoding" not in h2,
               "%s not gzipped: the file itself" % path)
            ok("vary" not in h2, "%s: no Vary for a file with one encoding" % path)
            ok(not path.endswith(TEXT), "%s: only files gzip cannot shrink stay as they are"
               % path)
    diag("all assets: %d bytes as files, %d as sent to a gzip client" % (identity_bytes,
                                                                         gzip_bytes))

    # A file gzip makes bigger (a PNG) is never sent gzipped.
    status, h, body = get(app, "/swagger/favicon-32x32.png", "gzip")
    ok(status == 200 and "content-encoding" not in h and "vary" not in h,
       "a PNG that gzip does not shrink is sent as it is")

    # Accept-Encoding as browsers and other clients write it, q-values included.
    cases = [
        ("gzip", True),
        ("GZIP", True),
        ("deflate, gzip;q=1.0, *;q=0.5", True),
        ("*", True),
        ("gzip;q=0.5, identity;q=0.4", True),
        ("gzip;q=0.001", True),
        ("gzip;q=0.5, *;q=0.5", True),
        ("", False),
        ("identity", False),
        ("br", False),
        ("deflate, br", False),
        ("gzip;q=0", False),
        ("gzip;q=0.0, br", False),
        ("*;q=0", False),
        ("*;q=0, identity", False),
        ("gzip;q=0.5, identity", False),
        ("gzip;q=0.05, *;q=0.1", False),
        ("x-gzip2, gzipped", False),
        ("gzip;q=2", False),
        ("gzip;q=abc", False),
    ]
    want = open(os.path.join(ASSETS, "js", "app.js"), "rb").read()
    for accept, gzipped in cases:
        status, h, body = get(app, "/js/app.js", accept)
        if gzipped:
            ok(status == 200 and h.get("content-encoding") == "gzip" and gunzip(body) == want,
               "Accept-Encoding %r: gzip" % accept)
        else:
            ok(status == 200 and "content-encoding" not in h and body == want,
               "Accept-Encoding %r: not gzip" % accept)
        is_(h.get("vary"), "Accept-Encoding", "Accept-Encoding %r: Vary" % accept)

    # The page itself ("/" is index.html), and 304s per encoding.
    _, plain, page = get(app, "/")
    _, zipped, zpage = get(app, "/", "gzip, deflate")
    is_(zipped.get("content-encoding"), "gzip", "/ is gzipped for a browser")
    is_(gunzip(zpage), page, "/ gzipped is the page")
    is_(zipped.get("content-type"), "text/html; charset=utf-8", "/ keeps its Content-Type")
    etag, zetag = plain.get("etag"), zipped.get("etag")
    ok(etag and zetag and etag != zetag, "/ has one ETag per encoding (%s, %s)" % (etag, zetag))

    status, h, body = get(app, "/", "gzip", inm=zetag)
    is_((status, body), (304, b""), "If-None-Match with the gzip ETag, asking for gzip: 304")
    is_((h.get("etag"), h.get("vary")), (zetag, "Accept-Encoding"), "the 304 names the ETag, Vary")
    ok("content-encoding" not in h or h.get("content-encoding") == "gzip",
       "the 304 carries no other encoding")
    status, _, _ = get(app, "/", None, inm=etag)
    is_(status, 304, "If-None-Match with the plain ETag, asking for no encoding: 304")
    status, _, body = get(app, "/", "gzip", inm=etag)
    ok(status == 200 and gunzip(body) == page,
       "the plain ETag does not validate the gzip encoding: 200")
    status, _, body = get(app, "/", None, inm=zetag)
    ok(status == 200 and body == page, "the gzip ETag does not validate the plain file: 200")
    status, _, _ = get(app, "/", "gzip", inm='"nope", W/%s' % zetag)
    is_(status, 304, "a list with a weak copy of the ETag: 304")
    status, _, _ = get(app, "/", "gzip", inm="*")
    is_(status, 304, "If-None-Match: * : 304")
    status, _, _ = get(app, "/", "gzip", inm=zetag[:-2] + '"')
    is_(status, 200, "a prefix of the ETag does not match")

    status, h, body = get(app, "/css/app.css", "gzip", method="HEAD")
    _, _, zcss = get(app, "/css/app.css", "gzip")
    ok(status == 200 and body == b"" and h.get("content-encoding") == "gzip"
       and int(h.get("content-length", -1)) == len(zcss),
       "HEAD: the gzip encoding's headers and length, no body")
done()
