"""tap.py — the Test Anything Protocol for Python test scripts (stdlib only).

    from tap import ok, is_, done
    ok(1 + 1 == 2, "adds")
    is_(got, want, "same")
    done()            # prints the plan and exits with the number of failures
"""
import sys
import traceback

_count = 0
_failed = 0


def ok(cond, name):
    global _count, _failed
    _count += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (_count, name), flush=True)
    if not cond:
        _failed += 1
        frame = traceback.extract_stack()[-3 if _caller_is_helper() else -2]
        print("#   failed at %s:%d" % (frame.filename, frame.lineno), flush=True)
    return bool(cond)


def _caller_is_helper():
    return traceback.extract_stack()[-3].name in ("is_", "like")


def is_(got, want, name):
    if not ok(got == want, name):
        diag("got:  %r" % (got,))
        diag("want: %r" % (want,))


def like(got, fragment, name):
    if not ok(fragment in (got or ""), name):
        diag("got: %r" % (got,))
        diag("does not contain: %r" % (fragment,))


def diag(msg):
    for line in str(msg).splitlines() or [""]:
        print("# " + line, flush=True)


def bail(msg):
    print("Bail out! " + msg, flush=True)
    sys.exit(255)


def done():
    print("1..%d" % _count, flush=True)
    sys.exit(min(_failed, 254))
