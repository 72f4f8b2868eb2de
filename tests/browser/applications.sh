#!/usr/bin/env bash
# Browser test of the applications pages (issue 15): the real carefactd on a private
# PostgreSQL with the demo data (its offices, providers, workers and catalogue) and
# Debian's Chromium driven headless by Playwright (applications.mjs): the front office's
# intake files an application at the office, the lead returns it with a reason, the
# intake resubmits, the lead verifies, the caseworker takes it and approves it with a
# programme, and the provider's manager sees the certificate and the plans and accepts
# the programme. Then this shell plays the first visit on the terminal: carefact-agent
# enrolled for the programme's worker, the PN532 emulator holding a new card, bound to the
# recipient the approval created (a card.bound event; the manager confirms it in the
# exceptions queue), the visit started on the plan the approval generated for today and
# ended, both with the card, synced. The browser then reads the citizen's status page
# (approved) and the caseworker's funnel: the office's first visit and the days from
# filing to it. Screenshots go to $CF_BINARY_DIR/tests/browser-artifacts.
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
    WORKER="$(worker_id 1)" WORK="$work" OFFICE="$office" \
    MONTH="$(sql "SELECT to_char(now() AT TIME ZONE 'Europe/Moscow', 'YYYY-MM')")" \
    node "$src/tests/browser/applications.mjs" >"$work/browser.log" 2>&1 &
browser_pid=$!
on_cleanup+=("kill -KILL $browser_pid")
browser_failed() {
    cat "$work/browser.log" >&2
    fail "the applications pages did not do what the office did (screenshots in $artifacts)"
}
for _ in $(seq 3000); do
    [ -e "$work/approved" ] && break
    kill -0 "$browser_pid" 2>/dev/null || { wait "$browser_pid" || true; browser_failed; }
    sleep 0.1
done
[ -e "$work/approved" ] || fail "the browser script never approved the application"

# ==== The first visit, on the terminal with the emulated card ====
number=$(head -1 "$work/approved")
recipient=$(sql "SELECT recipient_id FROM applications WHERE number = '$number'")
[ -n "$recipient" ] || fail "application $number made no recipient"
# the plan the approval generated for today (a plan every day: see applications.mjs)
plan=$(sql "SELECT p.id FROM visit_plans p JOIN plan_rules r ON r.id = p.rule_id
            JOIN programmes g ON g.id = r.programme_id JOIN applications a ON a.id = g.application_id
            WHERE a.number = '$number'
              AND (p.planned_start AT TIME ZONE 'Europe/Moscow')::date = (now() AT TIME ZONE 'Europe/Moscow')::date")
[ -n "$plan" ] || fail "the approval generated no plan for today"
enroll # worker 1: the programme's rules name it
sim_start
sim_ctl card uid 04D3C0FE sak 08 # a card no one holds yet: the recipient's new one
agent_ok sync --json # the reference now knows the recipient and today's plan
agent_ok card bind --recipient "$recipient" --device "pn532_uart:$dev" --wait 10 --json
agent_ok sync --json
binding=$(sql "SELECT id FROM card_bindings WHERE recipient_id = '$recipient' AND status = 'pending'")
[ -n "$binding" ] || fail "the card.bound event made no pending binding"
# the provider's manager confirms the card (the exceptions queue)
csrf=$(curl -fsS -c "$work/manager.cookies" -H 'Content-Type: application/json' \
    -d "{\"login\":\"manager1\",\"password\":\"$manager_password\"}" \
    "http://127.0.0.1:$port/api/v1/session" | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d))
        .on("end", () => process.stdout.write(JSON.parse(s).csrf_token))')
curl -fsS -b "$work/manager.cookies" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
    -d '{"action":"confirm","note":"карта получателя"}' \
    "http://127.0.0.1:$port/api/v1/exceptions/card_binding.$binding/resolve" >/dev/null ||
    fail "the manager could not confirm the card"
agent_ok sync --json # the confirmed binding reaches the terminal
agent_ok visit start --plan "$plan" --device "pn532_uart:$dev" --wait 10 --json
agent_ok visit end --device "pn532_uart:$dev" --wait 10 --service HH-SHOP --json
agent_ok sync --json
[ "$(sql "SELECT count(*) FROM visits WHERE recipient_id = '$recipient' AND plan_id = '$plan'
          AND start_confirmed AND end_confirmed AND state IN ('ended', 'rated')")" = 1 ] ||
    fail "no card-confirmed visit of $number's recipient on plan $plan: $(sql "SELECT row_to_json(v) FROM visits v WHERE recipient_id = '$recipient'")"
touch "$work/visited"

wait "$browser_pid" || browser_failed
cat "$work/browser.log"

# What the pages did is in the database: one recipient, one certificate, the plans.
number=$(sed -n 's/^application \(.*\)$/\1/p' "$work/browser.log")
[ -n "$number" ] || fail "the browser script named no application"
[ "$(sql "SELECT count(*) FROM certificates WHERE number = '$number'")" = 1 ] ||
    fail "no certificate $number"
[ "$(sql "SELECT count(*) FROM visit_plans p JOIN applications a ON a.recipient_id = p.recipient_id
          WHERE a.number = '$number'")" = 14 ] || fail "not fourteen plans for $number"
[ "$(sql "SELECT accepted_by FROM programmes p JOIN applications a ON a.id = p.application_id
          WHERE a.number = '$number'")" = manager1 ] || fail "the programme was not accepted by manager1"
