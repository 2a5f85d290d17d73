#!/usr/bin/env python3
"""The alerting rules (deploy/observability/alerts.yml): `promtool check rules`, `promtool test
rules` on alerts.test.yml, a unit test for every alert that both fires and stays quiet, and every
metric the rules use is exported by the real binary's /metrics (PostgreSQL pool metrics
included, from a test cluster). promtool comes from Debian's `prometheus` package
(deps/apt-openapi.txt)."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from pgcluster import PgCluster  # noqa: E402
from tap import diag, done, ok  # noqa: E402
from tca import ROOT, App  # noqa: E402

import yaml  # noqa: E402  (python3-yaml, deps/apt-openapi.txt)

OBS = os.path.join(ROOT, "deploy", "observability")
RULES = os.path.join(OBS, "alerts.yml")
TESTS = os.path.join(OBS, "alerts.test.yml")
PROMTOOL = shutil.which("promtool")


def run(argv):
    return subprocess.run(argv, cwd=OBS, capture_output=True, text=True, timeout=120)


if not PROMTOOL:
    print("1..1")
    print("not ok 1 - promtool on PATH (Debian's prometheus package: run 'make test', which "
          "installs deps/apt-openapi.txt)")
    sys.exit(1)

for path, max_len in ((RULES, 100), (TESTS, 240)):
    r = run(["yamllint", "-f", "parsable", "-d",
             "{extends: default, rules: {line-length: {max: %d}}}" % max_len, path])
    if not ok(r.returncode == 0, "yamllint %s" % os.path.basename(path)):
        diag(r.stdout + r.stderr)

r = run([PROMTOOL, "check", "rules", RULES])
if not ok(r.returncode == 0 and "SUCCESS" in r.stdout, "promtool check rules alerts.yml"):
    diag(r.stdout + r.stderr)

r = run([PROMTOOL, "test", "rules", TESTS])
if not ok(r.returncode == 0 and "SUCCESS" in r.stdout, "promtool test rules alerts.test.yml"):
    diag(r.stdout + r.stderr)

with open(RULES) as f:
    rules = [rule for g in yaml.safe_load(f)["groups"] for rule in g["rules"]]
with open(TESTS) as f:
    tests = yaml.safe_load(f)["tests"]
ok(len(rules) >= 8, "alerts.yml has %d alerts" % len(rules))
for rule in rules:
    name = rule["alert"]
    cases = [c for t in tests for c in t.get("alert_rule_test", []) if c["alertname"] == name]
    fires = any(c.get("exp_alerts") for c in cases)
    quiet = any(not c.get("exp_alerts") for c in cases)
    ok(fires and quiet, "%s: a unit test where it fires and one where it does not" % name)
    ok(rule.get("labels", {}).get("severity") in ("critical", "warning") and
       rule.get("annotations", {}).get("summary"), "%s: severity and summary" % name)

# Every metric a rule uses exists in the binary's /metrics (a renamed metric would leave the
# rule and its unit test agreeing with each other, and silent in production).
used = set()
for rule in rules:
    used.update(m for m in re.findall(r"\b((?:tca|process)_[a-z_]+)", rule["expr"]))
with PgCluster() as pg:
    with App(env=pg.app_env()) as app:
        app.request("GET", "/api/task/")
        _, _, body = app.request("GET", "/metrics")
exported = set()
for line in body.decode().splitlines():
    if line and not line.startswith("#"):
        exported.add(re.split(r"[{ ]", line, 1)[0])
for metric in sorted(used):
    ok(metric in exported, "the rules' metric %s is exported by the binary" % metric)
ok(any(r_["expr"].startswith("up{") for r_ in rules), "an alert on up (the scrape itself)")
done()
