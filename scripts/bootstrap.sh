#!/usr/bin/env bash
# bootstrap.sh — install what building (or testing) needs on a fresh Debian 12 machine.
#
#   scripts/bootstrap.sh build   Debian packages from deps/apt-build.txt
#   scripts/bootstrap.sh test    also every deps/apt-*.txt, and `npm ci` in each tests/*/ that
#                                has a package-lock.json
#
# Installs with apt-get when run as root; otherwise prints the exact command and fails.
# Quick when everything is already there (one dpkg-query).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-build}
case "$mode" in
build) lists=(deps/apt-build.txt) ;;
test) mapfile -t lists < <(ls deps/apt-*.txt) ;;
*) echo "usage: $0 build|test" >&2; exit 2 ;;
esac

mapfile -t wanted < <(cat "${lists[@]}" | sed 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$pkg")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: missing Debian packages; run as root:" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "bootstrap: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$mode" = test ]; then
  for lock in tests/*/package-lock.json; do
    [ -e "$lock" ] || continue
    dir=$(dirname "$lock")
    if [ ! -d "$dir/node_modules" ] || [ "$lock" -nt "$dir/node_modules" ]; then
      echo "bootstrap: npm ci in $dir" >&2
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
      touch "$dir/node_modules"
    fi
  done
fi
