#!/usr/bin/env bash
# The vendored Swagger UI under assets/swagger/ is exactly what `make swagger-ui` (mk/openapi.mk)
# makes from the swagger-ui-dist version locked in tests/openapi/package-lock.json: nothing was
# edited by hand, and a version bump was not half done.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/openapi/lib/ensure-npm.sh
(cd tests/openapi && . lib/ensure-npm.sh) || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
files=(swagger-ui-bundle.js swagger-ui.css favicon-32x32.png swagger-ui-bundle.js.LICENSE.txt
  swagger-ui-LICENSE.txt)
echo "1..$((${#files[@]} + 1))"
locked=$(node -p 'require("./tests/openapi/package-lock.json").packages["node_modules/swagger-ui-dist"].version')
installed=$(node -p 'require("./tests/openapi/node_modules/swagger-ui-dist/package.json").version')
if [ "$locked" = "$installed" ]; then
  echo "ok 1 - swagger-ui-dist $installed installed is the locked version"
else
  echo "not ok 1 - swagger-ui-dist installed $installed, locked $locked: run npm ci in tests/openapi"
fi
make -s --no-print-directory swagger-ui SWAGGER_UI_OUT="$tmp" >/dev/null
n=2
for f in "${files[@]}"; do
  if cmp -s "$tmp/$f" "assets/swagger/$f"; then
    echo "ok $n - assets/swagger/$f is as make swagger-ui makes it"
  else
    echo "not ok $n - assets/swagger/$f differs from make swagger-ui's copy"
  fi
  n=$((n + 1))
done
