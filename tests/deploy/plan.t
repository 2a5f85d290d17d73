#!/usr/bin/env python3
"""plan.t -- a real `terraform plan` of deploy/terraform against empty state, offline, as TAP.

The AWS provider runs with fake keys, skip_credentials_validation / skip_requesting_account_id /
skip_metadata_api_check, and its STS and EC2 endpoints pointed at a small HTTP stub on
127.0.0.1 (this file) that answers the only calls such a plan makes: STS GetCallerIdentity,
EC2 DescribeAvailabilityZones and (CloudFront path) DescribeManagedPrefixLists +
GetManagedPrefixListEntries, and Step Functions ValidateStateMachineDefinition (the provider
validates a known definition at plan time; the stub checks its shape). Any other call is
answered with an error and fails the test, so a new data source or plan-time check that needs
AWS shows up here. The stub's provider settings are an override
file written into a temp copy of the stack, never into the repository.

Two plans, both with the committed env/production.tfvars (what make and CI pass): as committed
(no domain: CloudFront in front), and with a domain and certificate. `terraform show -json`
of each is checked: the resource set, all creates, and the key attributes a plan knows. A
third plan starts from a state with the addresses an existing stack has (moved.tf) and checks
Terraform carries each to its new address (a moved block, not a destroy of the old address).
(Attributes computed by AWS, such as the task definitions' JSON that embeds the secret's ARN,
are unknown in a plan; `terraform test` checks them with a mocked provider.)
"""
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SRC = os.path.join(ROOT, "deploy", "terraform")
ACCOUNT = "123456789012"
REGION = "ap-southeast-2"
TAG = "0123456789abcdef0123456789abcdef01234567"
TIMEOUT = 900

results = []
calls = []
unknown_calls = []


def check(desc, cond, detail=""):
    results.append((bool(cond), desc, detail))


def finish():
    for i, (ok, desc, detail) in enumerate(results, 1):
        print(("ok" if ok else "not ok") + f" {i} - {desc}")
        if not ok and detail:
            for line in str(detail).splitlines()[-40:]:
                print("#   " + line)
    print(f"1..{len(results)}")
    failed = sum(1 for r in results if not r[0])
    print(f"# plan.t: {len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"


def az_item(suffix, zone_id):
    return (f"<item><zoneName>{REGION}{suffix}</zoneName><zoneState>available</zoneState>"
            f"<regionName>{REGION}</regionName><zoneId>{zone_id}</zoneId>"
            "<optInStatus>opt-in-not-required</optInStatus><zoneType>availability-zone</zoneType>"
            f"<groupName>{REGION}</groupName><networkBorderGroup>{REGION}</networkBorderGroup></item>")


ANSWERS = {
    "GetCallerIdentity": (
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<GetCallerIdentityResult><Arn>arn:aws:iam::{ACCOUNT}:user/plan-stub</Arn>"
        f"<UserId>AIDAPLANSTUB</UserId><Account>{ACCOUNT}</Account></GetCallerIdentityResult>"
        "<ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000001</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>"),
    "DescribeAvailabilityZones": (
        f'<DescribeAvailabilityZonesResponse xmlns="{EC2_NS}"><requestId>1</requestId>'
        "<availabilityZoneInfo>" + az_item("a", "apse2-az3") + az_item("b", "apse2-az1")
        + az_item("c", "apse2-az2") + "</availabilityZoneInfo></DescribeAvailabilityZonesResponse>"),
    "DescribeManagedPrefixLists": (
        f'<DescribeManagedPrefixListsResponse xmlns="{EC2_NS}"><requestId>1</requestId><prefixListSet><item>'
        "<prefixListId>pl-b8a742d1</prefixListId><addressFamily>IPv4</addressFamily>"
        "<state>create-complete</state>"
        f"<prefixListArn>arn:aws:ec2:{REGION}:aws:prefix-list/pl-b8a742d1</prefixListArn>"
        "<prefixListName>com.amazonaws.global.cloudfront.origin-facing</prefixListName>"
        "<maxEntries>55</maxEntries><version>1</version><ownerId>AWS</ownerId>"
        "</item></prefixListSet></DescribeManagedPrefixListsResponse>"),
    "GetManagedPrefixListEntries": (
        f'<GetManagedPrefixListEntriesResponse xmlns="{EC2_NS}"><requestId>1</requestId><entrySet>'
        "<item><cidr>120.52.22.96/27</cidr></item><item><cidr>205.251.249.0/24</cidr></item>"
        "</entrySet></GetManagedPrefixListEntriesResponse>"),
}


def validate_state_machine(request):
    """A small stand-in for SFN's validation: the definition parses, StartAt names a state, each
    Task has a Resource and every state ends or goes to a known state."""
    problems = []
    try:
        definition = json.loads(request.get("definition", ""))
        states = definition.get("States") or {}
        if definition.get("StartAt") not in states:
            problems.append("StartAt names no state")
        for name, st in states.items():
            if st.get("Type") == "Task" and not st.get("Resource"):
                problems.append(f"{name}: Task without Resource")
            if not st.get("End") and st.get("Next") not in states and st.get("Type") not in ("Succeed", "Fail", "Choice"):
                problems.append(f"{name}: neither End nor a known Next")
    except ValueError as err:
        problems.append(f"definition is not JSON: {err}")
    return json.dumps({"result": "FAIL" if problems else "OK",
                       "diagnostics": [{"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": p}
                                       for p in problems]})


class Stub(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        length = min(int(self.headers.get("Content-Length", "0")), 1 << 20)
        raw = self.rfile.read(length).decode("utf-8", "replace")
        target = self.headers.get("X-Amz-Target", "")
        if target:  # JSON protocol (Step Functions)
            action = target.rsplit(".", 1)[-1]
            calls.append(action)
            if action == "ValidateStateMachineDefinition":
                data = validate_state_machine(json.loads(raw or "{}")).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            unknown_calls.append(action)
            data = json.dumps({"__type": "UnknownOperationException", "message": f"plan stub: {action}"}).encode()
            self.send_response(400)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        form = urllib.parse.parse_qs(raw)
        action = (form.get("Action") or [""])[0]
        calls.append(action)
        body = ANSWERS.get(action)
        status = 200
        if body is None:
            unknown_calls.append(action or self.path)
            status = 400
            body = ("<Response><Errors><Error><Code>UnsupportedOperation</Code>"
                    f"<Message>plan stub: {action}</Message></Error></Errors>"
                    "<RequestID>1</RequestID></Response>")
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def find_mirror():
    env = os.environ.get("TF_PROVIDER_MIRROR")
    if env:
        return env
    for top in sorted(os.listdir("/")):
        if top in ("proc", "sys", "dev"):
            continue
        base = os.path.join("/", top)
        for dirpath, dirnames, _ in os.walk(base):
            if dirpath.count(os.sep) - base.count(os.sep) >= 4:
                dirnames[:] = []
            if dirpath.endswith(os.path.join("registry.terraform.io", "hashicorp", "aws")):
                return dirpath[: -len("/registry.terraform.io/hashicorp/aws")]
    return None


def tf(args, cwd, env, log):
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.run(["terraform"] + args, cwd=cwd, env=env, stdout=out,
                              stderr=subprocess.STDOUT, timeout=TIMEOUT, check=False)
    return proc.returncode


def tail(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return "".join(f.readlines()[-40:])


def changes(plan):
    by_addr = {}
    for rc in plan.get("resource_changes", []):
        if rc.get("mode") == "managed":
            by_addr[rc["address"]] = rc
    return by_addr


def after(rcs, addr):
    rc = rcs.get(addr)
    return (rc or {}).get("change", {}).get("after") or {}


def of_type(rcs, rtype):
    return [a for a, rc in rcs.items() if rc["type"] == rtype]


def common_checks(label, rcs, config_resources):
    actions = {tuple(rc["change"]["actions"]) for rc in rcs.values()}
    check(f"{label}: every change is a create against empty state", actions == {("create",)}, str(actions))
    expect = {
        "aws_vpc": 1, "aws_subnet": 6, "aws_nat_gateway": 2, "aws_lb": 1, "aws_lb_target_group": 1,
        "aws_ecs_cluster": 1, "aws_ecs_service": 1, "aws_ecs_task_definition": 2, "aws_db_instance": 1,
        "aws_secretsmanager_secret_rotation": 1, "aws_sfn_state_machine": 1, "aws_cloudwatch_event_rule": 2,
        "aws_sns_topic": 1, "aws_iam_policy": 1, "aws_iam_service_linked_role": 2, "aws_s3_bucket": 1,
        "aws_s3_bucket_lifecycle_configuration": 1, "aws_s3_bucket_public_access_block": 1,
        "aws_ecr_repository": 1, "aws_flow_log": 1, "aws_appautoscaling_target": 1, "aws_vpc_endpoint": 1,
    }
    counts = {t: len(of_type(rcs, t)) for t in expect}
    check(f"{label}: resource set ({len(rcs)} resources) has the stack's core",
          counts == expect, json.dumps({t: c for t, c in counts.items() if c != expect[t]}))
    alarms = of_type(rcs, "aws_cloudwatch_metric_alarm")
    check(f"{label}: 7 CloudWatch alarms", len(alarms) == 7, str(alarms))
    db = after(rcs, "aws_db_instance.main")
    check(f"{label}: RDS Multi-AZ, encrypted, not public, deletion-protected",
          db.get("multi_az") is True and db.get("storage_encrypted") is True
          and db.get("publicly_accessible") is False and db.get("deletion_protection") is True, json.dumps(db)[:400])
    check(f"{label}: RDS password managed by RDS, none in the plan",
          db.get("manage_master_user_password") is True and not db.get("password"))
    check(f"{label}: RDS Performance Insights, Enhanced Monitoring, Extended Support off",
          db.get("performance_insights_enabled") is True and db.get("monitoring_interval") == 60
          and db.get("engine_lifecycle_support") == "open-source-rds-extended-support-disabled")
    rot = after(rcs, "aws_secretsmanager_secret_rotation.db")
    check(f"{label}: no rotation during the first apply", rot.get("rotate_immediately") is False, json.dumps(rot))
    subnets = [after(rcs, a) for a in of_type(rcs, "aws_subnet")]
    check(f"{label}: no subnet maps public IPs", subnets and all(s.get("map_public_ip_on_launch") is False for s in subnets))
    svc = after(rcs, "aws_ecs_service.app")
    net = (svc.get("network_configuration") or [{}])[0]
    check(f"{label}: tasks without public IPs", net.get("assign_public_ip") is False, json.dumps(net))
    check(f"{label}: ECS deployment alarms roll back",
          (svc.get("alarms") or [{}])[0].get("rollback") is True
          and (svc.get("alarms") or [{}])[0].get("alarm_names") == ["techchallenge-target-5xx"], json.dumps(svc.get("alarms")))
    tg = after(rcs, "aws_lb_target_group.app")
    hc = (tg.get("health_check") or [{}])[0]
    check(f"{label}: ALB readiness on /healthcheck/, {hc.get('interval')} s x {hc.get('unhealthy_threshold')} >= 120 s",
          hc.get("path") == "/healthcheck/" and hc.get("interval", 0) * hc.get("unhealthy_threshold", 0) >= 120)
    lb = after(rcs, "aws_lb.app")
    check(f"{label}: ALB access logs on", (lb.get("access_logs") or [{}])[0].get("enabled") is True)
    sse = after(rcs, "aws_s3_bucket_server_side_encryption_configuration.alb_logs")
    check(f"{label}: access-log bucket encrypted",
          json.dumps(sse).count('"sse_algorithm": "AES256"') == 1, json.dumps(sse))
    role_addrs = [a for a in of_type(rcs, "aws_iam_role") if "github" not in a]
    refs = {r["address"]: r.get("expressions", {}).get("permissions_boundary", {}).get("references", [])
            for r in config_resources}
    unbounded = [a for a in role_addrs
                 if "aws_iam_policy.boundary.arn" not in refs.get(re.sub(r"\[\d+\]$", "", a), [])
                 or not rcs[a]["change"].get("after_unknown", {}).get("permissions_boundary")]
    check(f"{label}: every runtime role gets the boundary policy as permissions boundary ({len(role_addrs)} roles)",
          role_addrs and not unbounded, str(unbounded))
    attach = [after(rcs, a).get("policy_arn", "") for a in of_type(rcs, "aws_iam_role_policy_attachment")]
    check(f"{label}: no PowerUserAccess / ReadOnlyAccess attached",
          not [p for p in attach if p.endswith(("PowerUserAccess", "/ReadOnlyAccess", "AdministratorAccess"))], str(attach))


OLD_ADDRESSES = {
    # address in an existing stack -> address now, and the resource's type and name
    "aws_lb_listener.https": "aws_lb_listener.https[0]",
    "aws_vpc_security_group_ingress_rule.alb_https": 'aws_vpc_security_group_ingress_rule.alb_https["0.0.0.0/0"]',
    "aws_vpc_security_group_ingress_rule.alb_http": 'aws_vpc_security_group_ingress_rule.alb_http["0.0.0.0/0"]',
}


def existing_stack(stack, env, tmp, args):
    """Plan (without refresh) from a state holding the old, un-indexed addresses."""
    resources = []
    for old in OLD_ADDRESSES:
        rtype, name = old.split(".")
        port = 443 if name.endswith("https") else 80
        attrs = {"id": f"{name}-id", "arn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:{name}", "tags": {}, "tags_all": {}}
        if rtype == "aws_lb_listener":
            attrs.update({"port": 443, "protocol": "HTTPS", "load_balancer_arn": "arn:aws:elasticloadbalancing:x",
                          "default_action": [], "timeouts": None})
        else:
            attrs.update({"cidr_ipv4": "0.0.0.0/0", "ip_protocol": "tcp", "from_port": port, "to_port": port,
                          "security_group_id": "sg-0123"})
        resources.append({"mode": "managed", "type": rtype, "name": name,
                          "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
                          "instances": [{"schema_version": 0, "attributes": attrs}]})
    state = {"version": 4, "terraform_version": "1.11.4", "serial": 1, "lineage": "plan-t-existing",
             "outputs": {}, "resources": resources}
    state_path = os.path.join(tmp, "existing.tfstate")
    with open(state_path, "w", encoding="utf-8") as f:
        json.dump(state, f)
    log = os.path.join(tmp, "plan-existing.log")
    rc = tf(["plan", "-no-color", "-refresh=false", f"-state={state_path}", "-out=tfplan-existing"] + args,
            stack, env, log)
    check("existing stack: terraform plan from a state with the old addresses exits 0", rc == 0, tail(log))
    if rc != 0:
        return
    out = subprocess.run(["terraform", "show", "-json", "tfplan-existing"], cwd=stack, env=env,
                         capture_output=True, text=True, timeout=TIMEOUT, check=False)
    rcs = changes(json.loads(out.stdout or "{}"))
    moved = {rc.get("previous_address"): a for a, rc in rcs.items() if rc.get("previous_address")}
    check("existing stack: the HTTPS listener and the ALB ingress rules are moved to their new addresses",
          all(moved.get(old) == new for old, new in OLD_ADDRESSES.items()), json.dumps(moved))


def main():
    if shutil.which("terraform") is None:
        # As tests/lib/terraform.sh: skipped visibly on a machine without Terraform (not a
        # Debian package), a failure where CI requires it.
        hint = "install Terraform >= 1.10 (HashiCorp's build, not a Debian package) on PATH"
        if os.environ.get("TCA_REQUIRE_TERRAFORM") != "1":
            print("1..0 # SKIP terraform not on PATH: %s (TCA_REQUIRE_TERRAFORM=1 makes this "
                  "a failure)" % hint)
            sys.exit(0)
        check("terraform is on PATH (TCA_REQUIRE_TERRAFORM=1: %s)" % hint, False)
        finish()
    tmp = tempfile.mkdtemp(prefix="plan-t-")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        mirror = find_mirror()
        cli = os.path.join(tmp, "cli.tfrc")
        with open(cli, "w", encoding="utf-8") as f:
            f.write("disable_checkpoint = true\n")
            if mirror:
                f.write('provider_installation {\n  filesystem_mirror {\n'
                        f'    path    = "{mirror}"\n    include = ["registry.terraform.io/hashicorp/*"]\n  }}\n'
                        '  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n}\n')
        env = dict(os.environ, TF_CLI_CONFIG_FILE=cli, TF_IN_AUTOMATION="1", TF_INPUT="0",
                   CHECKPOINT_DISABLE="1", NO_COLOR="1", AWS_EC2_METADATA_DISABLED="true",
                   AWS_CONFIG_FILE=os.path.join(tmp, "none"), AWS_SHARED_CREDENTIALS_FILE=os.path.join(tmp, "none"))
        for k in ("TF_DATA_DIR", "TF_WORKSPACE", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                  "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION"):
            env.pop(k, None)
        stack = os.path.join(tmp, "stack")
        shutil.copytree(SRC, stack, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "backend_s3.tf", "terraform.tfvars"))
        with open(os.path.join(stack, "plan_stub_override.tf"), "w", encoding="utf-8") as f:
            f.write('provider "aws" {\n'
                    '  access_key                  = "plan-stub"\n'
                    '  secret_key                  = "plan-stub"\n'
                    '  skip_credentials_validation = true\n'
                    '  skip_requesting_account_id  = true\n'
                    '  skip_metadata_api_check     = true\n'
                    f'  endpoints {{\n    sts = "{endpoint}"\n    ec2 = "{endpoint}"\n    sfn = "{endpoint}"\n  }}\n'
                    '}\n')
        log = os.path.join(tmp, "init.log")
        rc = tf(["init", "-backend=false", "-input=false", "-lockfile=readonly"], stack, env, log)
        check("terraform init (provider from the committed lock file)", rc == 0, tail(log))
        if rc != 0:
            return
        common = ["-input=false", "-lock=false", "-var-file=env/production.tfvars", f"-var=image_tag={TAG}",
                  "-var=github_repository=example/techchallengeapp"]
        plans = {
            "no domain": [],
            "domain": ["-var=domain_name=todo.example.com",
                       f"-var=certificate_arn=arn:aws:acm:{REGION}:{ACCOUNT}:certificate/plan-stub"],
        }
        for label, extra in plans.items():
            log = os.path.join(tmp, "plan.log")
            before = len(calls)
            rc = tf(["plan", "-no-color", "-out=tfplan"] + common + extra, stack, env, log)
            check(f"{label}: terraform plan against the stub exits 0", rc == 0, tail(log))
            if rc != 0:
                continue
            made = sorted(set(calls[before:]))
            check(f"{label}: the plan called only stubbed AWS APIs ({', '.join(made)})", not unknown_calls, str(unknown_calls))
            with open(os.path.join(tmp, "plan.json"), "w", encoding="utf-8") as out:
                rc = subprocess.run(["terraform", "show", "-json", "tfplan"], cwd=stack, env=env, stdout=out,
                                    stderr=subprocess.DEVNULL, timeout=TIMEOUT, check=False).returncode
            check(f"{label}: terraform show -json", rc == 0)
            if rc != 0:
                continue
            with open(os.path.join(tmp, "plan.json"), encoding="utf-8") as f:
                plan = json.load(f)
            rcs = changes(plan)
            common_checks(label, rcs, plan.get("configuration", {}).get("root_module", {}).get("resources", []))
            port80 = after(rcs, "aws_lb_listener.http")
            if label == "no domain":
                cf = after(rcs, "aws_cloudfront_distribution.app[0]")
                check("no domain: CloudFront with its default certificate, HTTPS only to viewers",
                      (cf.get("viewer_certificate") or [{}])[0].get("cloudfront_default_certificate") is True
                      and (cf.get("default_cache_behavior") or [{}])[0].get("viewer_protocol_policy") == "redirect-to-https",
                      json.dumps(cf)[:600])
                check("no domain: no HTTPS listener on the ALB; port 80 refuses (403) what lacks the origin header",
                      "aws_lb_listener.https[0]" not in rcs
                      and (port80.get("default_action") or [{}])[0].get("type") == "fixed-response"
                      and "aws_lb_listener_rule.from_cloudfront[0]" in rcs)
                ingress = [after(rcs, a) for a in of_type(rcs, "aws_vpc_security_group_ingress_rule")]
                check("no domain: nothing open to 0.0.0.0/0; the ALB admits CloudFront's prefix list",
                      not [r for r in ingress if r.get("cidr_ipv4") == "0.0.0.0/0"]
                      and [r for r in ingress if r.get("prefix_list_id") == "pl-b8a742d1" and r.get("from_port") == 80])
            else:
                https = after(rcs, "aws_lb_listener.https[0]")
                check("domain: HTTPS listener on 443 with a TLS 1.3/1.2 policy and the certificate",
                      https.get("protocol") == "HTTPS" and https.get("port") == 443
                      and str(https.get("ssl_policy", "")).startswith("ELBSecurityPolicy-TLS13-1-2-")
                      and https.get("certificate_arn", "").endswith("certificate/plan-stub"), json.dumps(https)[:400])
                check("domain: HSTS header set by the listener",
                      https.get("routing_http_response_strict_transport_security_header_value") == "max-age=31536000; includeSubDomains")
                check("domain: port 80 only redirects to HTTPS",
                      (port80.get("default_action") or [{}])[0].get("type") == "redirect")
                check("domain: no CloudFront", not of_type(rcs, "aws_cloudfront_distribution"))
        existing_stack(stack, env, tmp, common + plans["domain"])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


main()
finish()
