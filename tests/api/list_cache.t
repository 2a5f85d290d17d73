#!/usr/bin/env python3
"""GET /api/task/ on the embedded store shares its last body while the tasks are unchanged
(handlers/task_list.c, ADR 0026), and reads stay linearizable: under concurrent list load, a GET
list that starts after a write was acknowledged contains it — a POST, a PATCH, a DELETE answered
by this instance, a POST answered by a second instance serving the same file, and rows written
by the sqlite3 shell (another process that never talks to either server). Bounded: fixed
iteration counts, every wait has a deadline."""
import http.client
import json
import os
import subprocess
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import diag, done, is_, ok  # noqa: E402
from tca import App, KeepAliveClient, run_readers_writers  # noqa: E402

READERS = 8
WRITERS = 4
ROUNDS = 30
SHELL_ROUNDS = 20
DEADLINE_S = 90


class Client(KeepAliveClient):
    """A keep-alive connection that reads the list as {id: task}."""

    def tasks(self):
        status, body = self.request("GET", "/api/task/")
        if status != 200:
            raise ValueError("GET list: %d %r" % (status, body[:200]))
        return {t["id"]: t for t in json.loads(body)}


def shell(db, sql):
    """sqlite3, another process: its commit is done when it exits."""
    r = subprocess.run(["sqlite3", "-cmd", ".timeout 5000", db, sql], capture_output=True,
                       text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError("sqlite3: %s" % r.stderr)
    return r.stdout.strip()


def main(a, b):
    db = a.env["VTT_DBPATH"]
    stop = threading.Event()
    lock = threading.Lock()
    reader_stats = {"ok": 0, "bad": 0}
    reader_errors = []

    def reader(app):
        c = Client(app)
        while not stop.is_set():
            try:
                c.tasks()
                good = True
            except (OSError, http.client.HTTPException, ValueError) as e:
                good = False
                with lock:
                    if len(reader_errors) < 5:
                        reader_errors.append(repr(e))
            with lock:
                reader_stats["ok" if good else "bad"] += 1

    failures = []
    checks = [0]

    def check(cond, what):
        with lock:
            checks[0] += 1
            if not cond:
                failures.append(what)

    def writer(index):
        ca, cb = Client(a), Client(b)
        for i in range(ROUNDS):
            if stop.is_set():
                return
            title = "w%d-%d" % (index, i)
            # Odd rounds write through the second instance: a's next list must see it too.
            mine = ca if i % 2 == 0 else cb
            try:
                status, body = mine.request("POST", "/api/task/", {"title": title})
                if status != 200:
                    failures.append("POST %s: %d" % (title, status))
                    continue
                task_id = json.loads(body)["id"]
                check(ca.tasks().get(task_id, {}).get("title") == title,
                      "%s not in a GET list after its POST" % title)
                status, _ = ca.request("PATCH", "/api/task/%d/" % task_id,
                                       {"title": title + "+", "priority": 7})
                check(status == 200, "PATCH %s: %d" % (title, status))
                t = ca.tasks().get(task_id, {})
                check(t.get("title") == title + "+" and t.get("priority") == 7,
                      "%s: a GET list after its PATCH shows %r" % (title, t))
                status, _ = mine.request("DELETE", "/api/task/%d/" % task_id)
                check(status == 204, "DELETE %s: %d" % (title, status))
                check(task_id not in ca.tasks(), "%s still in a GET list after its DELETE" % title)
            except (OSError, http.client.HTTPException, ValueError, KeyError) as e:
                failures.append("%s: %r" % (title, e))

    def shell_writer():
        c = Client(a)
        for i in range(SHELL_ROUNDS):
            if stop.is_set():
                return
            title = "shell-%d" % i
            try:
                c.tasks()  # the body is kept now, at the version before the write
                task_id = int(shell(db, "INSERT INTO tasks (completed, priority, title) "
                                        "VALUES (0, 3, '%s') RETURNING id" % title))
                check(c.tasks().get(task_id, {}).get("title") == title,
                      "%s (sqlite3 shell) not in the next GET list" % title)
                shell(db, "UPDATE tasks SET completed = 1 WHERE id = %d" % task_id)
                check(c.tasks().get(task_id, {}).get("complete") is True,
                      "%s: the shell's UPDATE not in the next GET list" % title)
                shell(db, "DELETE FROM tasks WHERE id = %d" % task_id)
                check(task_id not in c.tasks(),
                      "%s: still in the next GET list after the shell's DELETE" % title)
            except (OSError, http.client.HTTPException, ValueError, RuntimeError) as e:
                failures.append("%s: %r" % (title, e))

    lists_before = a.metric("tca_store_operations_total", ['op="list"'])
    readers = [threading.Thread(target=reader, args=(a if i % 4 else b,)) for i in range(READERS)]
    writers = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    writers.append(threading.Thread(target=shell_writer))
    run_readers_writers(readers, writers, stop, DEADLINE_S)

    for f in failures[:10]:
        diag(f)
    is_(len(failures), 0, "every GET list after an acknowledged write (POST, PATCH, DELETE on "
        "either instance; the sqlite3 shell) sees it, under list load (%d checks)" % checks[0])
    want = WRITERS * ROUNDS * 5 + SHELL_ROUNDS * 3
    is_(checks[0], want, "all %d checks ran before the deadline" % want)
    for e in reader_errors:
        diag(e)
    ok(reader_stats["bad"] == 0 and reader_stats["ok"] > 0,
       "concurrent readers always got a list (%(ok)d ok, %(bad)d failed)" % reader_stats)
    ok(a.metric("tca_store_operations_total", ['op="list"']) > lists_before,
       "lists are counted as store list operations")

    # Unchanged tasks: every list is the same bytes; a write changes them at once.
    bodies = {a.request("GET", "/api/task/")[2] for _ in range(5)}
    is_(len(bodies), 1, "five lists of unchanged tasks: the same bytes")
    status, _, _ = b.request("POST", "/api/task/", {"title": "last"})
    is_(status, 200, "a POST on the second instance")
    status, _, body = a.request("GET", "/api/task/")
    ok(status == 200 and "last" in {t["title"] for t in json.loads(body)},
       "the next list on the first instance has it")


with App() as first:
    with App(env={"VTT_DBPATH": first.env["VTT_DBPATH"]}, seed=False) as second:
        main(first, second)
done()
