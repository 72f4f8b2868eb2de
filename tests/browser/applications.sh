#!/usr/bin/env bash
# Browser test of the applications pages (issue 15): the real carefactd on a private
# PostgreSQL with the demo data (its offices, providers, workers and catalogue) and
# Debian's Chromium driven headless by Playwright (applications.mjs): the front office's
# intake files an application at the office, the lead returns it with a reason, the
# intake resubmits, the lead verifies, the caseworker takes it and approves it with a
# programme, and the provider's manager sees the certificate and the plans and accepts
# the programme. Screenshots go to $CF_BINARY_DIR/tests/browser-artifacts.
set -euo pipefail
case_name=applications
source "$CF_SOURCE_DIR/tests/e2e/agent_visit_lib.sh"

[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is not installed: run tools/deps"
[ -d "$src/tests/browser/node_modules/playwright-core" ] ||
    fail "playwright-core is missing: run tools/deps (it runs npm ci in tests/browser)"

artifacts=$bin/tests/browser-artifacts
mkdir -p "$artifacts"
rm -f "$artifacts"/applications-*.png

pg_up
server_up

# The front office of demo office 1 and the department's caseworker.
staff_password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
office=$(sql "SELECT md5('demo:office:1')::uuid")
back=$(sql "SELECT md5('demo:office:back')::uuid")
for account in "intake1 intake $office" "lead1 intake_lead $office" "case1 caseworker $back"; do
    read -r login role where <<<"$account"
    echo "$staff_password" | "$carefactd" user add --db "$db" --role "$role" --office "$where" "$login" \
        >/dev/null || fail "cannot add $login"
done
manager_password=$(sed -n 's/^demo account: login manager1 password \([^ ]*\).*/\1/p' "$work/demo-data.out")

URL="http://127.0.0.1:$port" ARTIFACTS="$artifacts" STAFF_PASSWORD="$staff_password" \
    MANAGER_PASSWORD="$manager_password" PROVIDER="$(sql "SELECT md5('demo:provider:1')::uuid")" \
    WORKER="$(sql "SELECT md5('demo:worker:1')::uuid")" \
    node "$src/tests/browser/applications.mjs" >"$work/browser.log" 2>&1 || {
    cat "$work/browser.log" >&2
    fail "the applications pages did not do what the office did (screenshots in $artifacts)"
}
cat "$work/browser.log"

# What the pages did is in the database: one recipient, one certificate, the plans.
number=$(sed -n 's/^application \(.*\)$/\1/p' "$work/browser.log")
[ -n "$number" ] || fail "the browser script named no application"
[ "$(sql "SELECT count(*) FROM certificates WHERE number = '$number'")" = 1 ] ||
    fail "no certificate $number"
[ "$(sql "SELECT count(*) FROM visit_plans p JOIN applications a ON a.recipient_id = p.recipient_id
          WHERE a.number = '$number'")" = 8 ] || fail "not eight plans for $number"
[ "$(sql "SELECT accepted_by FROM programmes p JOIN applications a ON a.id = p.application_id
          WHERE a.number = '$number'")" = manager1 ] || fail "the programme was not accepted by manager1"
