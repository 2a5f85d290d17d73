#!/usr/bin/env bash
# ci-settings.t — deploy/terraform/scripts/ci-settings.sh, the deploy workflow's first job: it
# passes when the committed variables file and the repository variables agree, and fails on
# each disagreement (no remote state, another bucket, region, repository, environment, a bad
# tag); the workflow passes exactly that file to every plan and sets no TF_VAR_*.
set -uo pipefail
# shellcheck source=tests/deploy/lib.sh
. "$(dirname "$0")/lib.sh"

script=$root/deploy/terraform/scripts/ci-settings.sh
vars=$tmp/production.tfvars
cat >"$vars" <<'EOF2'
name              = "tca"
aws_region        = "eu-west-1"
github_repository = "acme/tca"
tf_state_bucket   = "acme-tca-tfstate"
cpu_architecture  = "ARM64"
EOF2
good=(DEPLOY_VAR_FILE="$vars" TF_STATE_BUCKET=acme-tca-tfstate AWS_REGION=eu-west-1
  GITHUB_REPOSITORY=acme/tca IMAGE_TAG=0123456789abcdef0123456789abcdef01234567)
run() { env -u GITHUB_OUTPUT "${good[@]}" "$@" "$script" >"$tmp/out" 2>&1; }

run; rc=$?
[ $rc -eq 0 ] && grep -qx 'name=tca' "$tmp/out" && grep -qx 'platform=linux/arm64' "$tmp/out"
t "settings agree: passes, hands on the name and platform" $?
run TF_STATE_BUCKET=; rc=$?
[ $rc -ne 0 ] && grep -q 'TF_STATE_BUCKET is not set' "$tmp/out"
t "no remote state: refused" $?
run TF_STATE_BUCKET=other; rc=$?
[ $rc -ne 0 ] && grep -q "tf_state_bucket" "$tmp/out"
t "another state bucket than the file's: refused" $?
run AWS_REGION=us-east-1; rc=$?
[ $rc -ne 0 ] && grep -q 'aws_region' "$tmp/out"
t "another region than the file's: refused" $?
run GITHUB_REPOSITORY=fork/tca; rc=$?
[ $rc -ne 0 ] && grep -q 'github_repository' "$tmp/out"
t "another repository than the file's: refused" $?
run DEPLOY_ENVIRONMENT=staging; rc=$?
[ $rc -ne 0 ] && grep -q 'github_environment' "$tmp/out"
t "another environment than the file's: refused" $?
run IMAGE_TAG='no good'; rc=$?
[ $rc -ne 0 ] && grep -q 'not a valid image tag' "$tmp/out"
t "an invalid image tag: refused" $?
run DEPLOY_VAR_FILE="$tmp/none.tfvars"; rc=$?
[ $rc -ne 0 ] && grep -q 'no variables file' "$tmp/out"
t "no variables file: refused" $?

/usr/bin/python3 - "$root/.github/workflows/deploy.yml" >"$tmp/out" 2>&1 <<'PY'
import os, re, shlex, sys, yaml
wf = yaml.safe_load(open(sys.argv[1]))
problems = []
if wf["env"].get("DEPLOY_VAR_FILE") != "deploy/terraform/env/production.tfvars":
    problems.append("env DEPLOY_VAR_FILE is not deploy/terraform/env/production.tfvars")
for scope in [wf.get("env", {})] + [j.get("env", {}) for j in wf["jobs"].values()]:
    problems += ["sets %s (only the variables file sets variables)" % k for k in scope if k.startswith("TF_VAR_")]
plans = 0
tf_dir = wf["env"]["TF_DIR"]
for name, job in wf["jobs"].items():
    for step in job.get("steps", []):
        wd = step.get("working-directory", ".").replace("${{ env.TF_DIR }}", tf_dir)
        for line in step.get("run", "").replace("\\\n", " ").splitlines():
            if re.search(r"^\s*terraform (plan|apply) |apply-plan\.sh apply", line):
                plans += 1
                files = [os.path.normpath(os.path.join(wd, a.split("=", 1)[1]))
                         for a in shlex.split(line) if a.startswith("-var-file=")]
                if files != [wf["env"]["DEPLOY_VAR_FILE"]]:
                    problems.append("%s: -var-file is not the variables file (%s): %s" % (name, files, line.strip()))
if plans < 2:
    problems.append("found %d plan/apply commands" % plans)
if "retention-days: 30" not in open(sys.argv[1]).read():
    problems.append("plan artifact retention is not 30 days")
inputs = wf[True]["workflow_dispatch"]["inputs"] if True in wf else wf["on"]["workflow_dispatch"]["inputs"]
if "image_tag" not in inputs:
    problems.append("no workflow_dispatch input image_tag")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
t "deploy.yml: every plan and apply gets -var-file of deploy/terraform/env/production.tfvars, no TF_VAR_*, a rollback input, 30-day plan artifacts" $?

done_testing ci-settings.t
