#!/usr/bin/env bash
# contract.client: a client generated from api/openapi.yaml at test time, driven through
# an integrator's scenario against the real carefactd. A private PostgreSQL with the demo
# data; a terminal of the demo provider's first worker uploads two paid visits through the
# device protocol (carefact-loadgen: events chained, sealed and signed as the agent does);
# then openapi-typescript generates the client's types (schema.d.ts) into the work folder,
# tsc --strict compiles client/scenario.ts against them (a client that does not
# type-check against the contract fails the test), and node runs the scenario as the
# demo department: sign in, list visits, read a visit, its 404, the register of its
# month, the CSV export, sign out. Nothing generated is kept (api/README.md says how to
# generate a client for real use). The npm packages come from tests/contract's lock file
# (tools/deps runs npm ci there); the test installs nothing.
set -euo pipefail
case_name=client
source "$CF_SOURCE_DIR/tests/e2e/agent_visit_lib.sh"
here=$src/tests/contract
modules=$here/node_modules
for tool in openapi-typescript tsc; do
    [ -x "$modules/.bin/$tool" ] || fail "$tool is missing: run tools/deps (npm ci in tests/contract)"
done
[ -d "$modules/openapi-fetch" ] || fail "openapi-fetch is missing: run tools/deps (npm ci in tests/contract)"
loadgen=$bin/tools/loadgen/carefact-loadgen

pg_up
server_up
# Both visits to the demo provider's first recipient, whose card the terminal reads (the
# uid token carefact-loadgen sends, bound here): confirmed at both ends, so the register
# pays them and the CSV has lines.
echo "$(sql "SELECT md5('demo:recipient:1')::uuid")" >"$work/recipients"
sql "INSERT INTO card_bindings (recipient_id, token, method, status)
     VALUES (md5('demo:recipient:1')::uuid, 'AAECAwQFBgcICQoLDA0ODw', 'uid', 'active')" >/dev/null
"$carefactd" enroll-code --db "$db" --worker "$(sql "SELECT md5('demo:worker:1')::uuid")" >"$work/codes"
"$loadgen" --url "http://127.0.0.1:$port" --codes "$work/codes" --recipients "$work/recipients" \
    --devices 1 --events 6 --concurrency 1 >"$work/loadgen.out" 2>&1 ||
    { cat "$work/loadgen.out" >&2; fail "the test terminal's visits were not stored"; }

client=$work/client
mkdir "$client"
"$modules/.bin/openapi-typescript" "$src/api/openapi.yaml" -o "$client/schema.d.ts" >"$work/generate.out" 2>&1 ||
    { cat "$work/generate.out" >&2; fail "openapi-typescript cannot generate a client from api/openapi.yaml"; }
cp "$here/client/scenario.ts" "$here/client/tsconfig.json" "$client/"
echo '{"type": "module"}' >"$client/package.json"
ln -s "$modules" "$client/node_modules"
(cd "$client" && "$modules/.bin/tsc" -p tsconfig.json) ||
    fail "the client generated from api/openapi.yaml does not type-check with the scenario (tsc above)"
URL="http://127.0.0.1:$port" LOGIN=authority PASSWORD="$authority_password" node "$client/out/scenario.js" ||
    fail "the scenario through the generated client failed (checks above)"
