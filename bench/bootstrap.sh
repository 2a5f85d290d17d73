#!/usr/bin/env bash
# bootstrap.sh — install what `make bench` needs (bench/apt-bench.txt), the way
# scripts/bootstrap.sh does for building and testing: apt-get as root, otherwise print the command.
set -euo pipefail
cd "$(dirname "$0")"

mapfile -t wanted < <(sed 's/#.*//' apt-bench.txt | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "bench/bootstrap.sh: missing Debian packages; run as root:" >&2
  echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "bench/bootstrap.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
