#!/usr/bin/env python3
"""Static checks of the container set-up (fast, no containers): shellcheck on its scripts,
yamllint and `docker-compose config -q` on the compose files, `haproxy -c` on the stack's
haproxy.cfg, and the Dockerfile's promises (multi-stage, non-root, exec-form entrypoint,
HEALTHCHECK through the binary, port 3000, VTT_LISTENHOST=0.0.0.0). Prints TAP."""

import os
import re
import subprocess
import sys
import tempfile

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
n = 0
failed = 0


def ok(cond, desc, output=""):
    global n, failed
    n += 1
    if not cond:
        failed += 1
        for line in output.splitlines()[:30]:
            print("# " + line)
    print(("ok" if cond else "not ok") + " %d - %s" % (n, desc), flush=True)


def run(cmd, env=None):
    p = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, env=env, timeout=120)
    return p.returncode, p.stdout


scripts = ["scripts/podman-base.sh", "deploy/stack/stack.sh", "deploy/compose/postgres/entrypoint.sh",
           "tests/container/lib.sh", "tests/container/image.sh", "tests/container/compose.sh"]
rc, out = run(["shellcheck", "-x"] + scripts)
ok(rc == 0, "shellcheck: " + " ".join(scripts), out)

yamls = ["docker-compose.yml", "tests/container/compose.podman.yml"]
rc, out = run(["yamllint", "-d", "{extends: default, rules: {line-length: {max: 100}, document-start: disable, truthy: {check-keys: false}}}"] + yamls)
ok(rc == 0, "yamllint: " + " ".join(yamls), out)

env = dict(os.environ, DOCKER_HOST="unix:///nonexistent.sock")
rc, out = run(["docker-compose", "-f", "docker-compose.yml", "config", "-q"], env)
ok(rc == 0, "docker-compose config -q accepts docker-compose.yml", out)
compose = open(os.path.join(REPO, "docker-compose.yml")).read()

# As compose v2 reads it: it builds every service that has `build:` at once, so two services
# building one tag collide ("image already exists"); `docker-compose config` cannot see that.
services = yaml.safe_load(compose)["services"]
builders = {}
for svc_name, svc in services.items():
    if "build" in svc:
        builders.setdefault(svc.get("image", svc_name), []).append(svc_name)
ok(all(len(v) == 1 for v in builders.values()),
   "docker-compose.yml: one service builds each image (%s)" % builders)
for svc_name, svc in services.items():
    if "build" not in svc and svc.get("image") in builders:
        ok(svc.get("pull_policy") == "never",
           "docker-compose.yml: %s runs the image %s builds and never pulls it"
           % (svc_name, builders[svc["image"]][0]))
ok((services["migrate"].get("healthcheck") or {}).get("disable") is True,
   "docker-compose.yml: the migrate job does not inherit the image's HEALTHCHECK")
ok(services["app"].get("healthcheck", {}).get("test", [])[-2:] == ["healthcheck", "--live"],
   "docker-compose.yml: the app's health check is the liveness check")
ok(not re.search(r"^(name|version):", compose, re.M), "no top-level name: or version: in docker-compose.yml")
ok("127.0.0.1:${TCA_PORT:-3000}:3000" in compose, "the app is published on 127.0.0.1 only")

with tempfile.TemporaryDirectory() as tmp:
    env = dict(os.environ, STACK_DIR=tmp, STACK_BIND="127.0.0.1:8080", APP1_ADDR="127.0.0.1:3001",
               APP2_ADDR="127.0.0.1:3002")
    rc, out = run(["haproxy", "-c", "-f", "deploy/stack/haproxy.cfg"], env)
ok(rc == 0, "haproxy -c accepts deploy/stack/haproxy.cfg", out)

df = open(os.path.join(REPO, "Dockerfile")).read()
final = df[df.rindex("\nFROM "):]
checks = [
    (len(re.findall(r"^FROM ", df, re.M)) == 2, "Dockerfile: two stages"),
    (re.search(r"^FROM \$\{DEBIAN_IMAGE\}$", final, re.M) and "ARG DEBIAN_IMAGE=debian:bookworm-slim" in df,
     "Dockerfile: runtime stage on debian:bookworm-slim"),
    ("-dev" not in final, "Dockerfile: no -dev packages in the runtime stage"),
    (re.search(r"^USER 10001:10001$", final, re.M), "Dockerfile: runs as a non-root user"),
    (re.search(r'^ENTRYPOINT \["/usr/local/bin/TechChallengeApp"\]$', final, re.M), "Dockerfile: exec-form ENTRYPOINT"),
    (re.search(r'CMD \["/usr/local/bin/TechChallengeApp", "healthcheck", "--live"\]', final),
     "Dockerfile: HEALTHCHECK is the binary's liveness check (never the database)"),
    (re.search(r"^EXPOSE 3000$", final, re.M), "Dockerfile: EXPOSE 3000"),
    ("VTT_LISTENHOST=0.0.0.0" in final, "Dockerfile: VTT_LISTENHOST=0.0.0.0"),
    (not re.search(r"curl|wget", final), "Dockerfile: no curl or wget in the image"),
]
for cond, desc in checks:
    ok(bool(cond), desc)

rules = [l.strip() for l in open(os.path.join(REPO, ".dockerignore")) if l.strip() and not l.startswith("#")]
ok(rules[0] == "*" and not any(r.startswith("!") and ("database.env" in r or "conf.toml" in r) for r in rules),
   ".dockerignore: everything excluded by default (database.env, conf.toml, .git stay out)")

print("1..%d" % n)
sys.exit(1 if failed else 0)
