#!/usr/bin/env bash
# contract.lint: api/openapi.yaml under Redocly CLI's recommended rules and the project's
# stricter ones (api/redocly.yaml) -- 0 errors and 0 warnings, or the test fails -- then
# examples.mjs (every body's example valid by the contract check's own validator, the
# problem catalogue whole). Redocly is the npm package pinned in tests/contract's lock file
# (tools/deps runs npm ci there); the test installs nothing and sends no telemetry.
# Mutants contract.flow-comma and contract.problem-status are here for it.
set -euo pipefail
src=${CF_SOURCE_DIR:?CF_SOURCE_DIR must point at the source folder}
here=$src/tests/contract
redocly=$here/node_modules/.bin/redocly
[ -x "$redocly" ] || { echo "FAIL: @redocly/cli is missing: run tools/deps (npm ci in tests/contract)" >&2; exit 1; }
# Redocly CLI 2.77 runs on Node.js 20.19 or later (Debian 12's own nodejs is 18).
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' ||
    { echo "FAIL: Redocly CLI needs Node.js 20.19 or later; this is $(node --version)" >&2; exit 1; }
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_COLOR=1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# --max-problems: every problem listed, not the first 100.
status=0
"$redocly" lint "$src/api/openapi.yaml" --config "$src/api/redocly.yaml" --format=stylish \
    --max-problems 10000 >"$out" 2>&1 || status=$?
grep -v '[║╔╚]' "$out" | sed '/^ *$/d'
[ $status -eq 0 ] || { echo "FAIL: redocly lint found errors in api/openapi.yaml" >&2; exit 1; }
# Warnings do not fail redocly's exit status; they fail this test.
if grep -Eq '^ +[0-9]+:[0-9]+ +warning |You have [0-9]+ warnings?' "$out"; then
    echo "FAIL: redocly lint warns about api/openapi.yaml (the contract must be clean)" >&2
    exit 1
fi
node "$here/examples.mjs" "$src/api/openapi.yaml"
