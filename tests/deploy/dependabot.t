#!/usr/bin/env python3
"""dependabot.t: .github/dependabot.yml covers every dependency manifest of the repository:
github-actions for the workflows, npm for each package.json outside node_modules, docker for
each directory with a Dockerfile, each with a schedule. Prints TAP."""

import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
n = failed = 0


def ok(cond, desc):
    global n, failed
    n += 1
    failed += 0 if cond else 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, desc), flush=True)


def manifests(name_test):
    found = set()
    for top, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in ("node_modules", ".git", "build") and not d.startswith("build-")]
        if any(name_test(f) for f in files):
            rel = os.path.relpath(top, ROOT)
            found.add("/" if rel == "." else "/" + rel)
    return found


path = os.path.join(ROOT, ".github", "dependabot.yml")
try:
    cfg = yaml.safe_load(open(path, encoding="utf-8"))
except OSError as e:
    cfg = None
    print("# %s" % e)
ok(isinstance(cfg, dict) and cfg.get("version") == 2, ".github/dependabot.yml exists (version 2)")
updates = (cfg or {}).get("updates", [])


def listed(ecosystem):
    dirs = set()
    for u in updates:
        if u.get("package-ecosystem") == ecosystem:
            dirs.update(u.get("directories", []))
            if "directory" in u:
                dirs.add(u["directory"])
    return {d.rstrip("/") or "/" for d in dirs}


ok("/" in listed("github-actions"), "github-actions: the workflows (directory /)")
want = manifests(lambda f: f == "package.json")
ok(want and want <= listed("npm"), "npm: every package.json directory %s" % sorted(want - listed("npm")) if want - listed("npm")
   else "npm: every package.json directory (%d)" % len(want))
want = manifests(lambda f: f == "Dockerfile" or f.startswith("Dockerfile."))
ok(want and want <= listed("docker"), "docker: every Dockerfile directory (%d)%s"
   % (len(want), "" if want <= listed("docker") else ", missing %s" % sorted(want - listed("docker"))))
ok(updates and all(u.get("schedule", {}).get("interval") for u in updates), "every entry has a schedule")

print("1..%d" % n)
print("# dependabot.t: %d passed, %d failed" % (n - failed, failed))
sys.exit(1 if failed else 0)
