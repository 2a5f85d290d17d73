#!/usr/bin/env bash
# tfvar.sh FILE NAME [DEFAULT] — print the value of a top-level `NAME = "string"`, `NAME = true`
# or `NAME = 42` line of a Terraform variables file (env/production.tfvars), or DEFAULT when the
# file or the line is missing. Lists, maps and heredocs are not read: the deployment tools only
# need plain values (name, aws_region, domain_name, ...), and reading them here keeps make, CI and
# the scripts on the one file Terraform reads. Exits 1 when the value is missing and no DEFAULT
# was given.
set -euo pipefail

[ $# -ge 2 ] || {
  echo "usage: $0 FILE NAME [DEFAULT]" >&2
  exit 2
}
file=$1 name=$2
value=
found=0
if [ -r "$file" ]; then
  # The last assignment wins, as in Terraform (which would refuse a duplicate anyway).
  line=$(grep -E "^[[:space:]]*${name}[[:space:]]*=" "$file" | tail -n 1 || true)
  if [ -n "$line" ]; then
    value=${line#*=}
    value=$(printf '%s' "$value" | sed -E 's/^[[:space:]]+//; s/[[:space:]]+(#.*)?$//')
    case "$value" in
    \"*\") value=${value#\"} value=${value%\"} found=1 ;;
    true | false | [0-9]*) found=1 ;;
    *) value= ;;
    esac
  fi
fi
if [ "$found" = 1 ]; then
  printf '%s\n' "$value"
elif [ $# -ge 3 ]; then
  printf '%s\n' "$3"
else
  echo "tfvar: '$name' is not set in '$file'" >&2
  exit 1
fi
