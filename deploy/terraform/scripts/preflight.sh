#!/usr/bin/env bash
# preflight.sh — `make deploy-doctor`: check, before anything is paid for, what a deployment of
# this stack needs from the AWS account, GitHub and this machine. Read-only: it creates nothing.
# Prints one line per check and, for each missing thing, the exact command that fixes it; exits
# 1 when anything is missing, 0 when all is in place.
#
#   tools        aws, terraform >= 1.10, the container engine (and gh, dig when needed)
#   AWS          caller identity; the shell's region = aws_region of the variables file
#   state        backend.hcl names a bucket that exists, versioned, encrypted, all public access
#                blocked; locking on (use_lockfile, or a DynamoDB table that exists)
#   IAM          the ECS and Application Auto Scaling service-linked roles agree with
#                create_service_linked_roles (missing when the stack creates them, present
#                when not); a GitHub OIDC provider agrees with create_github_oidc_provider
#   DNS          with domain_name: the Route 53 zone exists and the public DNS delegates to it
#                (the NS answer from dig matches the zone's name servers)
#   GitHub       with github_repository: the environment exists with required reviewers
#   image        the engine builds for the tasks' platform (cpu_architecture)
#
# Settings come from VAR_FILE (default deploy/terraform/env/production.tfvars) and BACKEND_FILE
# (deploy/terraform/backend.hcl). CONTAINER_ENGINE picks docker (default) or podman.
# shellcheck disable=SC2016 # JMESPath literals in backticks
set -uo pipefail

root=$(cd "$(dirname "$0")/../../.." && pwd)
tf_dir=$root/deploy/terraform
VAR_FILE=${VAR_FILE:-$tf_dir/env/production.tfvars}
BACKEND_FILE=${BACKEND_FILE:-$tf_dir/backend.hcl}
ENGINE=${CONTAINER_ENGINE:-docker}
TERRAFORM=${TERRAFORM:-terraform}
tfvar() { "$root/deploy/terraform/scripts/tfvar.sh" "$VAR_FILE" "$@"; }

missing=0
good=0
ok() {
  good=$((good + 1))
  printf '  ok       %s\n' "$1"
}
miss() { # miss WHAT FIX...
  missing=$((missing + 1))
  printf '  MISSING  %s\n' "$1"
  shift
  local fix
  for fix in "$@"; do
    printf '           fix: %s\n' "$fix"
  done
}
skip() { printf '  skipped  %s\n' "$1"; }
have() { command -v "$1" >/dev/null 2>&1; }
backend_value() { # backend_value KEY: a string or bare value from backend.hcl
  sed -n -E "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\"?([^\"[:space:]]*)\"?.*/\\1/p" "$BACKEND_FILE" | tail -n 1
}
words_sorted() { tr '[:upper:]' '[:lower:]' | tr -s '[:blank:]' '\n' | sed 's/\.$//; /^$/d' | sort -u | tr '\n' ' '; }

if [ ! -r "$VAR_FILE" ]; then
  echo "preflight: no variables file '$VAR_FILE' (set VAR_FILE)" >&2
  exit 1
fi
name=$(tfvar name techchallenge)
region=$(tfvar aws_region "")
domain=$(tfvar domain_name "")
zone_id=$(tfvar route53_zone_id "")
certificate=$(tfvar certificate_arn "")
repo=$(tfvar github_repository "")
gh_env=$(tfvar github_environment production)
create_oidc=$(tfvar create_github_oidc_provider true)
create_slr=$(tfvar create_service_linked_roles true)
arch=$(tfvar cpu_architecture X86_64)
platform=linux/amd64
[ "$arch" = ARM64 ] && platform=linux/arm64
echo "preflight: stack '$name' in '${region:-?}' from ${VAR_FILE#"$root"/}"

# --- tools ---------------------------------------------------------------------------------
echo "tools"
if have aws; then ok "aws: $(aws --version 2>&1 | cut -d' ' -f1)"; else
  miss "the AWS CLI v2 (aws)" "install it: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"
fi
if have "$TERRAFORM"; then
  tfv=$("$TERRAFORM" version 2>/dev/null | sed -n '1s/^Terraform v//p')
  if printf '1.10.0\n%s\n' "$tfv" | sort -V -C; then ok "terraform $tfv"; else
    miss "terraform >= 1.10 (found '${tfv:-unknown}'; the S3 lock file needs it)" "install Terraform 1.11: https://developer.hashicorp.com/terraform/install"
  fi
else
  miss "terraform >= 1.10" "install Terraform 1.11: https://developer.hashicorp.com/terraform/install"
fi

# --- AWS identity and region ---------------------------------------------------------------
echo "AWS account"
aws_ok=0
if have aws; then
  if ident=$(aws sts get-caller-identity --query '[Account, Arn]' --output text 2>&1); then
    aws_ok=1
    ok "identity: $(tr '\t' ' ' <<<"$ident")"
  else
    miss "AWS credentials ($(head -n 1 <<<"$ident"))" "aws configure sso && export AWS_PROFILE=<profile>   (or: aws sso login --profile <profile>)"
  fi
  shell_region=${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region 2>/dev/null)}}
  if [ -z "$region" ]; then
    miss "aws_region in ${VAR_FILE#"$root"/}" "add aws_region = \"<region>\" to ${VAR_FILE#"$root"/}"
  elif [ "$shell_region" = "$region" ]; then
    ok "region $region (shell and variables file agree)"
  else
    miss "region: the shell uses '${shell_region:-none}', the stack '$region'" "export AWS_REGION=$region"
  fi
fi

# --- state ---------------------------------------------------------------------------------
echo "Terraform state"
if [ ! -r "$BACKEND_FILE" ] || [ -z "$(backend_value bucket)" ]; then
  miss "remote state (no ${BACKEND_FILE#"$root"/})" "make deploy-bootstrap"
elif [ $aws_ok = 0 ]; then
  skip "state bucket (no AWS identity)"
else
  bucket=$(backend_value bucket)
  bregion=$(backend_value region)
  s3() { aws s3api --region "${bregion:-$region}" "$@"; }
  if out=$(s3 head-bucket --bucket "$bucket" 2>&1); then
    ok "state bucket $bucket"
    v=$(s3 get-bucket-versioning --bucket "$bucket" --query Status --output text 2>&1)
    if [ "$v" = Enabled ]; then ok "state bucket versioning"; else
      miss "state bucket versioning (is '$v')" "make deploy-bootstrap"
    fi
    if s3 get-bucket-encryption --bucket "$bucket" >/dev/null 2>&1; then ok "state bucket encryption"; else
      miss "state bucket default encryption" "make deploy-bootstrap"
    fi
    pab=$(s3 get-public-access-block --bucket "$bucket" --query 'PublicAccessBlockConfiguration.[BlockPublicAcls,IgnorePublicAcls,BlockPublicPolicy,RestrictPublicBuckets]' --output text 2>&1)
    if [ "$(tr -s '\t ' '  ' <<<"$pab")" = "True True True True" ]; then ok "state bucket blocks public access"; else
      miss "state bucket public access block ($(head -n 1 <<<"$pab"))" "make deploy-bootstrap"
    fi
  elif grep -Eq '404|Not Found' <<<"$out"; then
    miss "state bucket $bucket does not exist" "make deploy-bootstrap"
  else
    miss "state bucket $bucket cannot be read ($(head -n 1 <<<"$out"))" "check s3:ListBucket on arn:aws:s3:::$bucket for $(cut -f2 <<<"$ident"), or: make deploy-bootstrap STATE_BUCKET=<another name>"
  fi
  table=$(backend_value dynamodb_table)
  if [ "$(backend_value use_lockfile)" = true ]; then
    ok "state locking: S3 lock file"
  elif [ -n "$table" ] && aws dynamodb describe-table --table-name "$table" >/dev/null 2>&1; then
    ok "state locking: DynamoDB table $table"
  else
    miss "state locking (no use_lockfile = true in ${BACKEND_FILE#"$root"/})" "make deploy-bootstrap"
  fi
fi

# --- IAM -----------------------------------------------------------------------------------
echo "IAM"
if [ $aws_ok = 0 ]; then
  skip "service-linked roles and OIDC provider (no AWS identity)"
else
  # The stack creates both roles when create_service_linked_roles is true (the default): then
  # neither may exist yet. With false, both must exist already.
  present=() absent=()
  for slr in AWSServiceRoleForECS:ecs.amazonaws.com \
    AWSServiceRoleForApplicationAutoScaling_ECSService:ecs.application-autoscaling.amazonaws.com; do
    role=${slr%%:*}
    if out=$(aws iam get-role --role-name "$role" --query Role.Arn --output text 2>&1); then
      present+=("$role")
    elif grep -q NoSuchEntity <<<"$out"; then
      absent+=("$slr")
    else
      miss "service-linked role $role cannot be read ($(head -n 1 <<<"$out"))" "run as a principal with iam:GetRole"
    fi
  done
  if [ "$create_slr" = false ]; then
    for slr in ${absent[@]+"${absent[@]}"}; do
      miss "service-linked role ${slr%%:*} (create_service_linked_roles = false)" \
        "aws iam create-service-linked-role --aws-service-name ${slr#*:}"
    done
    [ ${#present[@]} -eq 0 ] || ok "service-linked roles exist: ${present[*]}"
  elif [ ${#present[@]} -gt 0 ]; then
    fixes=("set create_service_linked_roles = false in ${VAR_FILE#"$root"/}")
    for slr in ${absent[@]+"${absent[@]}"}; do
      fixes+=("aws iam create-service-linked-role --aws-service-name ${slr#*:}")
    done
    miss "service-linked role ${present[*]} already exists, but create_service_linked_roles is true (apply would fail: the name has been taken)" "${fixes[@]}"
  elif [ ${#absent[@]} -eq 2 ]; then
    ok "service-linked roles: the stack creates them"
  fi
  if [ -n "$repo" ]; then
    if providers=$(aws iam list-open-id-connect-providers --query 'OpenIDConnectProviderList[].Arn' --output text 2>&1); then
      if grep -q 'oidc-provider/token.actions.githubusercontent.com' <<<"$providers"; then
        if [ "$create_oidc" = false ]; then ok "GitHub OIDC provider exists; create_github_oidc_provider = false"; else
          miss "the account already has a GitHub OIDC provider, but create_github_oidc_provider is not false (apply would fail: EntityAlreadyExists)" "set create_github_oidc_provider = false in ${VAR_FILE#"$root"/}"
        fi
      elif [ "$create_oidc" = false ]; then
        miss "no GitHub OIDC provider in the account, and create_github_oidc_provider = false" "set create_github_oidc_provider = true in ${VAR_FILE#"$root"/}"
      else
        ok "GitHub OIDC provider: the stack creates it"
      fi
    else
      miss "OIDC providers cannot be listed ($(head -n 1 <<<"$providers"))" "run as a principal with iam:ListOpenIDConnectProviders"
    fi
  fi
fi

# --- DNS -----------------------------------------------------------------------------------
echo "HTTPS and DNS"
if [ -z "$domain" ]; then
  if [ -n "$certificate" ]; then
    miss "certificate_arn without domain_name (the HTTPS probe would not match the certificate)" "set domain_name in ${VAR_FILE#"$root"/}"
  else
    ok "no domain: HTTPS on the CloudFront name with CloudFront's default certificate"
  fi
elif [ -n "$certificate" ]; then
  ok "domain $domain with the certificate $certificate (DNS is yours to point at the stack)"
elif [ -z "$zone_id" ]; then
  miss "domain_name $domain needs route53_zone_id (or certificate_arn)" "aws route53 list-hosted-zones-by-name --dns-name ${domain#*.} --query 'HostedZones[0].Id' --output text   (then set route53_zone_id)"
elif [ $aws_ok = 0 ]; then
  skip "Route 53 zone (no AWS identity)"
elif ! zone=$(aws route53 get-hosted-zone --id "$zone_id" --query 'HostedZone.Name' --output text 2>&1); then
  miss "Route 53 zone $zone_id ($(head -n 1 <<<"$zone"))" "aws route53 create-hosted-zone --name ${domain#*.} --caller-reference \$(date +%s)   (then set route53_zone_id)"
else
  zone=${zone%.}
  if [ "$domain" != "$zone" ] && [[ $domain != *".$zone" ]]; then
    miss "domain_name $domain is not in the zone $zone" "set domain_name to a name under $zone"
  else
    want=$(aws route53 get-hosted-zone --id "$zone_id" --query 'DelegationSet.NameServers' --output text | words_sorted)
    if ! have dig; then
      miss "dig, to check the delegation of $zone" "sudo apt-get install bind9-dnsutils   (or: brew install bind)"
    else
      got=$(dig +short NS "$zone" 2>/dev/null | words_sorted)
      if [ -n "$got" ] && [ "$got" = "$want" ]; then ok "$zone is delegated to its Route 53 zone"; else
        # shellcheck disable=SC2086 # one Name= per server
        miss "$zone is not delegated to the zone $zone_id (public NS: ${got:-none}; zone: $want). ACM would wait 75 minutes and fail" \
          "at the registrar of $zone, set its name servers to: $want" \
          "registered with Route 53: aws route53domains update-domain-nameservers --region us-east-1 --domain-name $zone --nameservers $(printf 'Name=%s ' $want)"
      fi
    fi
  fi
fi

# --- GitHub --------------------------------------------------------------------------------
echo "GitHub"
if [ -z "$repo" ]; then
  ok "no github_repository: no CI roles (deploy by hand)"
elif ! have gh; then
  miss "the GitHub CLI (gh), to check the '$gh_env' environment of $repo" "install it: https://cli.github.com/"
elif ! gh api user --jq .login >/dev/null 2>&1; then
  miss "gh is not logged in" "gh auth login"
elif ! rules=$(gh api "repos/$repo/environments/$gh_env" --jq '[.protection_rules[]?.type] | join(" ")' 2>&1); then
  miss "environment '$gh_env' of $repo ($(head -n 1 <<<"$rules"))" "make deploy-github"
elif [[ " $rules " != *" required_reviewers "* ]]; then
  miss "environment '$gh_env' of $repo has no required reviewers (a private repository needs GitHub Enterprise for them)" "make deploy-github"
else
  ok "environment '$gh_env' of $repo requires a review"
fi

# --- image ---------------------------------------------------------------------------------
echo "image build"
if ! have "$ENGINE"; then
  miss "$ENGINE" "install Docker Engine (or set CONTAINER_ENGINE=podman)"
elif [ "$ENGINE" = podman ]; then
  host=$(podman info --format '{{.Host.OS}}/{{.Host.Arch}}' 2>&1)
  if [ "$host" = "$platform" ] || have "qemu-${platform#*/}-static"; then ok "podman builds $platform"; else
    miss "podman on $host cannot build $platform" "sudo apt-get install qemu-user-static"
  fi
elif ! docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
  miss "a running Docker engine" "start Docker (e.g. sudo systemctl start docker, or open Docker Desktop)"
elif ! docker buildx version >/dev/null 2>&1; then
  miss "docker buildx" "install the buildx plugin (Debian/Ubuntu: sudo apt-get install docker-buildx-plugin)"
elif docker buildx inspect 2>/dev/null | grep -E '^Platforms:' | grep -q "$platform"; then
  ok "docker buildx builds $platform"
else
  miss "docker buildx cannot build $platform (cpu_architecture = $arch)" "docker run --privileged --rm tonistiigi/binfmt --install ${platform#*/}"
fi

echo "preflight: $good ok, $missing missing"
[ "$missing" -eq 0 ]
