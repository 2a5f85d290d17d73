#!/usr/bin/env python3
"""The documentation checked against the repository: every relative link in the Markdown files
points at a file (and heading) that exists; the version in the Makefile is the CHANGELOG's newest
release and the OpenAPI document's info.version; every ADR has Status and Date lines; no
document refers to files outside the repository or to internal work tracking; every metric a
document names is one src/metrics.c exports; the docs index lists every ADR."""
import glob
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import diag, done, is_, ok  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.chdir(ROOT)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def slug(heading):
    """GitHub's anchor for a heading."""
    h = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return h.replace(" ", "-")


tracked = subprocess.run(["git", "ls-files", "*.md"], capture_output=True, text=True,
                         check=True).stdout.split()
docs = [p for p in tracked if "node_modules" not in p and not p.startswith("assets/")]
ok(len(docs) >= 20, "%d Markdown files" % len(docs))

broken = []
for path in docs:
    for target in re.findall(r"\]\(([^)\s]+)\)", read(path)):
        if re.match(r"^[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part \
            else path
        if not os.path.exists(dest):
            broken.append("%s -> %s" % (path, target))
        elif anchor and dest.endswith(".md"):
            heads = [slug(h) for h in re.findall(r"^#+ (.*)$", read(dest), re.M)]
            if anchor not in heads:
                broken.append("%s -> %s (no such heading)" % (path, target))
if not ok(not broken, "every relative link resolves (%d broken)" % len(broken)):
    for b in broken:
        diag(b)

version = re.search(r"^VERSION := (\S+)$", read("Makefile"), re.M).group(1)
releases = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", read("CHANGELOG.md"), re.M)
ok(releases and releases[0][0] == version,
   "CHANGELOG.md's newest release is the Makefile's VERSION %s (%s)"
   % (version, releases[0] if releases else "none"))
ok("## [Unreleased]" in read("CHANGELOG.md"), "CHANGELOG.md keeps an Unreleased section")
is_(json.loads(read("assets/swagger/swagger.json"))["info"]["version"], version,
    "the OpenAPI document's info.version is the Makefile's VERSION")

adrs = sorted(glob.glob("docs/adr/[0-9][0-9][0-9][0-9]-*.md"))
index = read("docs/README.md")
for adr in adrs:
    head = read(adr).split("\n")[:6]
    ok(any(re.match(r"^Status: \S", line) for line in head) and
       any(re.match(r"^Date: \d{4}-\d{2}-\d{2}$", line) for line in head),
       "%s has Status and Date lines" % adr)
    ok(os.path.basename(adr) in index, "docs/README.md lists %s" % os.path.basename(adr))

tracking = re.compile(r"\b(issues? ?#?\d+|the (performance|reliability|config|core) issue|"
                      r"sessions? ?\d|this session|the lead\b|\(lead\))|\.\./shared|"
                      r"MEASUREMENTS\.md|DESIGN\.md|STYLE\.md|TESTING\.md", re.I)
found = ["%s:%d: %s" % (p, n, line.strip()[:100]) for p in docs
         for n, line in enumerate(read(p).split("\n"), 1) if tracking.search(line)]
if not ok(not found, "no references to work tracking or files outside the repository"):
    for f in found:
        diag(f)

exported = set()
for src in ("src/metrics.c", "src/http/stats.c"):  # the renderer, and the HTTP layer's counters
    exported |= set(re.findall(r"\b((?:tca|process)_[a-z_]+)[{ ]", read(src)))
exported |= {m + s for m in exported for s in ("_bucket", "_sum", "_count")}
named = set()
for path in ["README.md", "docs/operations.md", "docs/troubleshooting.md", "docs/backup.md",
             "docs/upgrading.md", "docs/postgresql.md"]:
    named |= set(re.findall(r"`((?:tca_(?:http|store|db|build)|process)_[a-z_]+)", read(path)))
unknown = sorted(named - exported)
ok(named and not unknown, "the %d metrics the operator docs name are exported (unknown: %s)"
   % (len(named), ", ".join(unknown) or "none"))
done()
