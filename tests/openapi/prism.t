#!/usr/bin/env python3
"""An independent validator of the OpenAPI document: Stoplight Prism's proxy (npm
@stoplight/prism-cli, tests/openapi/package.json) in front of the real binary, with every request
of the conformance suite (conformance.test.mjs: every route, every error case) sent through it.
Prism checks each request and each response against assets/swagger/swagger.json and reports
violations in an sl-violations header; the harness (lib/harness.mjs) records them. Passes when
the suite passes through the proxy, no response violates the document, and no request the server
accepted (2xx) violates it either. Requests Prism cannot forward unchanged (paths the document
does not list, such as the forms without the trailing slash; bodies that are not JSON or repeat a
key, which Prism answers itself or re-serialises; headers over its own 16 KiB limit) go to the
app directly, and their count is printed. First, a control: Prism in front of a stub that answers with
the wrong shapes must report response violations, so a silent Prism cannot pass."""
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from tap import diag, done, ok  # noqa: E402

subprocess.run(["bash", "-c", ". lib/ensure-npm.sh"], cwd=HERE, check=False,
               stdout=sys.stderr)
PRISM = os.path.join(HERE, "node_modules", ".bin", "prism")
if not os.access(PRISM, os.X_OK):
    print("1..1\nnot ok 1 - prism installed (npm ci in tests/openapi)")
    sys.exit(1)

NODE_CONTROL = r"""
import { viaPrism, request } from './lib/harness.mjs';
const [upstreamPort, dir] = process.argv.slice(1);
const app = { port: 0, stop: async () => {} };
await viaPrism(app, dir, `http://127.0.0.1:${upstreamPort}`);
for (const p of ['/api/task/', '/api/task/1/', '/healthcheck/']) {
    await app.request('GET', p);
}
await app.stop();
"""


class WrongShapes(http.server.BaseHTTPRequestHandler):
    """Answers like a broken server: a list of wrong objects, a task without its keys, a JSON
    health check body."""
    BODIES = {"/api/task/": (200, "application/json", b'[{"id":"1","name":"x"}]'),
              "/api/task/1/": (200, "application/json", b'{"id":1}'),
              "/healthcheck/": (200, "application/json", b'{"ok":true}')}

    def do_GET(self):
        status, ctype, body = self.BODIES.get(self.path, (500, "text/plain", b"?"))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def read_report(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def response_violations(rows):
    return [(r, v) for r in rows for v in r["violations"] if v.get("location", [""])[0] == "response"]


with tempfile.TemporaryDirectory(prefix="tca-prism.") as tmp:
    # --- control: Prism must see a wrong response ---
    stub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), WrongShapes)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    report = os.path.join(tmp, "control.jsonl")
    env = dict(os.environ, TCA_PRISM_REPORT=report)
    r = subprocess.run(["node", "--input-type=module", "-e", NODE_CONTROL,
                        str(stub.server_address[1]), tmp], cwd=HERE, env=env,
                       capture_output=True, text=True, timeout=180)
    stub.shutdown()
    rows = read_report(report) if os.path.exists(report) else []
    bad = {r_["path"] for r_, _ in response_violations(rows)}
    if not ok(r.returncode == 0 and bad == {"/api/task/", "/api/task/1/", "/healthcheck/"},
              "control: Prism reports the stub's three wrong responses as violations"):
        diag(r.stdout + r.stderr)
        diag(json.dumps(rows)[:2000])

    # --- the conformance suite through Prism ---
    report = os.path.join(tmp, "suite.jsonl")
    env = dict(os.environ, TCA_OPENAPI_PROXY="prism", TCA_PRISM_REPORT=report)
    r = subprocess.run(["node", "--test", "--test-reporter=../lib/tap-reporter.mjs",
                        "--test-concurrency=1", "conformance.test.mjs"], cwd=HERE, env=env,
                       capture_output=True, text=True, timeout=900)
    results = [line for line in r.stdout.splitlines()
               if line.startswith("ok ") or line.startswith("not ok ")]
    failed = [line for line in results if line.startswith("not ok ") and "# TODO" not in line]
    if not ok(r.returncode == 0 and results and not failed,
              "conformance.test.mjs through Prism: %d tests, %d failed"
              % (len(results), len(failed))):
        for line in r.stdout.splitlines():
            if line.startswith("not ok") or line.startswith("#"):
                diag(line[:400])
        diag(r.stderr[-2000:])
    rows = read_report(report) if os.path.exists(report) else []
    bypassed = {}
    for row in rows:
        if row.get("bypassed"):
            bypassed[row["bypassed"]] = bypassed.get(row["bypassed"], 0) + 1
    rows = [row for row in rows if not row.get("bypassed")]
    ok(len(rows) >= 60, "Prism validated %d exchanges; sent directly: %s" % (
        len(rows), ", ".join("%d (%s)" % (n, why) for why, n in sorted(bypassed.items()))
        or "none"))
    resp = response_violations(rows)
    if not ok(not resp, "no response violates the document (%d violations)" % len(resp)):
        for row, v in resp[:40]:
            diag("%s %s -> %s: %s %s" % (row["method"], row["path"], row["status"],
                                         ".".join(map(str, v.get("location", []))),
                                         v.get("message")))
    accepted = [(row, v) for row in rows if 200 <= row["status"] < 300
                for v in row["violations"] if v.get("message") != "Selected route not found"]
    if not ok(not accepted, "no request the server accepted violates the document (%d)"
              % len(accepted)):
        for row, v in accepted[:40]:
            diag("%s %s -> %s: %s %s" % (row["method"], row["path"], row["status"],
                                         ".".join(map(str, v.get("location", []))),
                                         v.get("message")))
    unmatched = sorted({row["path"] for row in rows for v in row["violations"]
                        if v.get("message") == "Selected route not found"})
    ok(not unmatched, "every request sent through Prism matched an operation (%s)"
       % " ".join(unmatched)[:500])
done()
