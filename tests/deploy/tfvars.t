#!/usr/bin/env python3
"""tfvars.t -- CI plans what a person planned: the committed variables file is the one source.

deploy/terraform/env/production.tfvars holds every non-secret setting of the deployment; make
and CI (.github/workflows/deploy.yml) pass it with -var-file. This checks, as TAP:
  - every key set (or shown commented) in terraform.tfvars.example, and every key of
    production.tfvars, is a declared variable;
  - every key the example sets reaches CI: set in production.tfvars, or passed by the
    workflow (TF_VAR_* or -var=);
  - the switches an existing account needs are in the file (create_github_oidc_provider,
    create_service_linked_roles), and nothing per-release (image_tag) or secret is;
  - CI's `terraform plan` passes -var-file resolving to that file, and the workflow sets no
    TF_VAR_* the file also sets (the file would silently win, a dead and misleading setting);
  - and, so a pass means something, the same checks reject doctored inputs.
"""
import copy
import os
import re
import shlex
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TF = os.path.join(ROOT, "deploy", "terraform")
VARFILE = os.path.join(TF, "env", "production.tfvars")
EXAMPLE = os.path.join(TF, "terraform.tfvars.example")
WORKFLOW = os.path.join(ROOT, ".github", "workflows", "deploy.yml")

SET_KEY = re.compile(r"^([a-z][a-z0-9_]*)\s*=", re.M)
COMMENTED_KEY = re.compile(r"^#\s*([a-z][a-z0-9_]*)\s*=", re.M)
REQUIRED_SWITCHES = ("create_github_oidc_provider", "create_service_linked_roles")
PER_RELEASE = ("image_tag",)

results = []


def check(desc, cond, detail=""):
    results.append((bool(cond), desc, detail))


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def declared_variables():
    names = set()
    for f in sorted(os.listdir(TF)):
        if f.endswith(".tf"):
            names |= set(re.findall(r'^variable\s+"([a-z0-9_]+)"', read(os.path.join(TF, f)), re.M))
    return names


def ci_path(wf):
    """TF_VAR_* names the workflow sets, and each `terraform plan` with its -var-file/-var args
    resolved against the step's working directory (or -chdir)."""
    tf_vars = set()

    def env_vars(node):
        for k in (node or {}).get("env", {}) or {}:
            if k.startswith("TF_VAR_"):
                tf_vars.add(k[len("TF_VAR_"):])

    env_vars(wf)
    plans = []
    for job in (wf.get("jobs") or {}).values():
        env_vars(job)
        wd_job = ((job.get("defaults") or {}).get("run") or {}).get("working-directory")
        for step in job.get("steps") or []:
            env_vars(step)
            run = step.get("run") or ""
            joined = run.replace("\\\n", " ")
            for line in joined.splitlines():
                if not re.search(r"\bterraform\b.*\bplan\b", line):
                    continue
                args = shlex.split(line, comments=True)
                if "terraform" not in args:
                    continue
                args = args[args.index("terraform") + 1:]
                wd = step.get("working-directory") or wd_job or "."
                wd = re.sub(r"\$\{\{\s*env\.TF_DIR\s*\}\}", (wf.get("env") or {}).get("TF_DIR", ""), wd)
                var_files, cli_vars = [], set()
                for a in args:
                    if a.startswith("-chdir="):
                        wd = a.split("=", 1)[1].replace("$TF_DIR", (wf.get("env") or {}).get("TF_DIR", ""))
                    elif a.startswith("-var-file="):
                        var_files.append(a.split("=", 1)[1])
                    elif a.startswith("-var="):
                        cli_vars.add(a.split("=", 2)[1])
                if "plan" in args:
                    plans.append({
                        "var_files": [os.path.normpath(os.path.join(ROOT, wd, v)) for v in var_files],
                        "vars": cli_vars,
                    })
    return tf_vars, plans


def evaluate(var_text, example_text, wf, declared, label=""):
    """Run every rule; return the list of (ok, description, detail)."""
    out = []

    def c(desc, cond, detail=""):
        out.append((bool(cond), label + desc, detail))

    prod = set(SET_KEY.findall(var_text))
    ex_set = set(SET_KEY.findall(example_text))
    ex_all = ex_set | set(COMMENTED_KEY.findall(example_text))
    tf_vars, plans = ci_path(wf)
    passed_by_ci = tf_vars | set().union(*[p["vars"] for p in plans]) if plans else tf_vars

    c("production.tfvars sets only declared variables", prod and prod <= declared, str(sorted(prod - declared)))
    c("terraform.tfvars.example names only declared variables", ex_all <= declared, str(sorted(ex_all - declared)))
    c("the workflow's TF_VAR_* are declared variables", tf_vars <= declared, str(sorted(tf_vars - declared)))
    missing = sorted(ex_set - prod - passed_by_ci)
    c("every variable the example sets reaches CI (production.tfvars or the workflow)", not missing, str(missing))
    c("the switches an existing account needs are in production.tfvars",
      all(s in prod for s in REQUIRED_SWITCHES), str([s for s in REQUIRED_SWITCHES if s not in prod]))
    c("nothing per-release in production.tfvars (image_tag comes from make/CI)",
      not [k for k in PER_RELEASE if k in prod])
    c("nothing secret-looking in production.tfvars",
      not [k for k in prod if re.search(r"(?i)password|secret|token|access_key", k)])
    c("image_tag reaches CI's plan", "image_tag" in passed_by_ci)
    c("CI runs terraform plan", len(plans) >= 1)
    c("every CI plan passes -var-file=env/production.tfvars (resolved against its directory)",
      plans and all(os.path.normpath(VARFILE) in p["var_files"] for p in plans), str(plans))
    shadowed = sorted(tf_vars & prod)
    c("the workflow sets no TF_VAR_* that production.tfvars also sets (the file would win)", not shadowed, str(shadowed))
    return out


def main():
    declared = declared_variables()
    check("variables declared in deploy/terraform", len(declared) >= 30, str(len(declared)))
    for path in (VARFILE, EXAMPLE, WORKFLOW):
        if not os.path.isfile(path):
            check(f"{os.path.relpath(path, ROOT)} exists", False)
            return
    var_text, example_text = read(VARFILE), read(EXAMPLE)
    wf = yaml.safe_load(read(WORKFLOW))
    for r in evaluate(var_text, example_text, wf, declared):
        results.append(r)

    # The same rules must catch each way the CI path can drift.
    def fails(desc, var_t=var_text, ex_t=example_text, w=wf):
        bad = [r for r in evaluate(var_t, ex_t, w, declared) if not r[0]]
        check(f"rejects {desc}", bad, "no rule failed")

    fails("an example setting CI never sees", ex_t=example_text + "\nnat_gateway_per_az_x = false\n")
    drop = re.sub(r"^create_github_oidc_provider\s*=.*$", "", var_text, flags=re.M)
    fails("production.tfvars without create_github_oidc_provider", var_t=drop,
          ex_t=example_text.replace("create_github_oidc_provider", "create_github_oidc_provider_"))
    fails("an undeclared variable in production.tfvars", var_t=var_text + "\nno_such_variable = 1\n")
    w2 = copy.deepcopy(wf)
    for job in w2["jobs"].values():
        for step in job.get("steps") or []:
            if "run" in step:
                step["run"] = re.sub(r"\s*-var-file=\S+", "", step["run"])
    fails("a CI plan without -var-file", w=w2)
    w3 = copy.deepcopy(wf)
    w3.setdefault("env", {})["TF_VAR_min_tasks"] = "1"
    fails("a TF_VAR_* in the workflow shadowed by the file", w=w3)


main()
for i, (ok, desc, detail) in enumerate(results, 1):
    print(("ok" if ok else "not ok") + f" {i} - {desc}")
    if not ok and detail:
        print("#   " + str(detail))
print(f"1..{len(results)}")
failed = sum(1 for r in results if not r[0])
print(f"# tfvars.t: {len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
