#!/usr/bin/env bash
# The static checks as part of the suite: clang-format, cppcheck, clang-tidy (make lint).
cd "$(dirname "$0")/../.." || exit 1
echo "1..1"
if out=$(make -s --no-print-directory lint 2>&1); then
  echo "ok 1 - make lint (clang-format, cppcheck, clang-tidy) is clean"
else
  echo "not ok 1 - make lint (clang-format, cppcheck, clang-tidy) is clean"
  printf '%s\n' "$out" | tail -40 | sed 's/^/# /'
fi
