#!/usr/bin/env python3
"""Which shared libraries a server maps (ADR 0025): on the embedded store, not libpq nor what
it pulls in (OpenSSL, Kerberos/GSSAPI, LDAP) — not even with a broken libpq.so.5 first on the
search path; on PostgreSQL, libpq, loaded when the store opens. A libpq that cannot be loaded
stops `serve`, `updatedb` and `migrate` on PostgreSQL with a message naming the file and the
reason, and a non-zero exit. (That PostgreSQL works is tasks_pg.t's and pg_ops.t's job.)"""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import diag, done, is_, like, ok  # noqa: E402
from tca import App, free_port, refused, run  # noqa: E402

# What libpq brings along and nothing else in the binary uses (GnuTLS is libmicrohttpd's).
PG_ONLY = ("libpq.so", "libssl.so", "libcrypto.so", "libgssapi_krb5.so", "libkrb5.so",
           "libldap", "liblber", "libsasl2.so")


def mapped_objects(pid):
    """Paths of the shared objects mapped into process pid."""
    with open("/proc/%d/maps" % pid) as f:
        return sorted({line.split()[5] for line in f
                       if len(line.split()) >= 6 and re.search(r"\.so[.\d]*$", line.split()[5])})


def pg_only(objects):
    return [o for o in objects if any(name in os.path.basename(o) for name in PG_ONLY)]


with App() as app:
    is_(app.request("GET", "/api/task/")[0], 200, "embedded store: serves")
    objects = mapped_objects(app.proc.pid)
    ok(any("libsqlite3.so" in o for o in objects), "embedded store: /proc/PID/maps lists SQLite")
    if not ok(pg_only(objects) == [], "embedded store: no libpq, OpenSSL, GSSAPI or LDAP mapped"):
        diag("mapped: " + " ".join(objects))
    sqlite_lib = next(o for o in objects if "libsqlite3.so" in o)

# The port of a database that is not there: the server still starts (the pool fills in the
# background, ADR 0022), so its maps can be read.
pg_env = {"VTT_DBTYPE": "postgres", "VTT_DBHOST": "127.0.0.1", "VTT_DBPORT": str(free_port()),
          "VTT_DBCONNECTTIMEOUT": "1"}
with App(env=pg_env, seed=False) as app:
    is_(app.request("GET", "/livez/")[0], 200, "PostgreSQL store, database down: serves /livez/")
    objects = mapped_objects(app.proc.pid)
    ok(any("libpq.so.5" in os.path.basename(o) for o in objects),
       "PostgreSQL store: libpq is mapped once the store opens")

with tempfile.TemporaryDirectory() as d:
    bad = os.path.join(d, "libpq.so.5")
    with open(bad, "wb") as f:
        f.write(b"not a shared object\n")
    broken = {"LD_LIBRARY_PATH": d}

    with App(env=broken) as app:
        is_(app.request("GET", "/api/task/")[0], 200,
            "embedded store with a broken libpq.so.5 first on the search path: serves (never opened)")

    good, r = refused(dict(pg_env, **broken), want="cannot load 'libpq.so.5'")
    if not ok(good, "PostgreSQL store, unloadable libpq: serve exits non-zero before listening"):
        diag("exit %s, stderr %r" % (getattr(r, "returncode", "timeout"), r.stderr))
    like(r.stderr, "%s: " % bad, "... and says which file and why (the loader's reason)")

    for cmd in (["updatedb"], ["migrate"]):
        r = run(cmd, env=dict(pg_env, **broken), cwd=d)
        ok(r.returncode != 0 and "cannot load 'libpq.so.5'" in r.stderr,
           "PostgreSQL store, unloadable libpq: %s exits non-zero with the message" % cmd[0])

    # A library that loads but lacks libpq's functions: the first missing one is named.
    os.unlink(bad)
    os.symlink(sqlite_lib, bad)
    good, r = refused(dict(pg_env, **broken), want="cannot load 'libpq.so.5'")
    ok(good and "undefined symbol: PQ" in r.stderr,
       "PostgreSQL store, a libpq.so.5 without libpq's functions: refused, the function named")
    if not good:
        diag("exit %s, stderr %r" % (getattr(r, "returncode", "timeout"), r.stderr))

done()
