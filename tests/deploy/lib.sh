# shellcheck shell=bash
# lib.sh — shared by the shell tests of the deploy scripts (sourced): TAP output, a temp dir with
# a bin/ put first on PATH for stand-in commands (aws, gh, docker, curl, dig, terraform) that
# record their arguments in $CALLS, and a throwaway git checkout holding copies of the scripts,
# so a test controls HEAD and the working tree without touching the repository.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin"
export PATH="$tmp/bin:$PATH" CALLS="$tmp/calls"
: >"$CALLS"

n=0
fails=0
# t DESCRIPTION STATUS: one TAP line; on failure, the output and the recorded calls.
t() {
  n=$((n + 1))
  if [ "$2" -eq 0 ]; then echo "ok $n - $1"; else
    fails=$((fails + 1))
    echo "not ok $n - $1"
    { [ -f "$tmp/out" ] && sed 's/^/# out: /' "$tmp/out"; sed 's/^/# call: /' "$CALLS"; } | tail -30
  fi
}
done_testing() { # done_testing NAME
  echo "1..$n"
  echo "# $1: $((n - fails)) passed, $fails failed"
  [ "$fails" -eq 0 ]
}

# stub NAME: install $tmp/bin/NAME from stdin (a bash script body).
stub() {
  { echo '#!/usr/bin/env bash'; cat; } >"$tmp/bin/$1"
  chmod +x "$tmp/bin/$1"
}

# checkout DIR PATH...: a git repository at DIR with copies of the repository's PATHs, committed.
checkout() {
  local dir=$1 p
  shift
  mkdir -p "$dir"
  for p in "$@"; do
    mkdir -p "$dir/$(dirname "$p")"
    cp -p "$root/$p" "$dir/$p"
  done
  git -C "$dir" init -q
  git -C "$dir" add -A
  git -C "$dir" -c user.name=test -c user.email=test@example.invalid commit -q -m test
}

# called PATTERN: some recorded call matches the extended regex.
called() { grep -Eq -- "$1" "$CALLS"; }
