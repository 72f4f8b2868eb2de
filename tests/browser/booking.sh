#!/usr/bin/env bash
# Browser test of the citizen's booking page (issue 16): the real carefactd on a private
# PostgreSQL with the demo data (demo office 1 takes appointments), Debian's Chromium
# driven headless by Playwright (booking.mjs): a citizen chooses the office and a day,
# holds a time, confirms it with name and phone, and cancels it; the free seats the
# server reports move with each step. Then the office's lead changes the office's slot
# length and hours in the dashboard's form (#/office-booking). Screenshots go to $CF_BINARY_DIR/tests/browser-artifacts.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
src=$CF_SOURCE_DIR
carefactd=$CF_BINARY_DIR/backend/carefactd
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is not installed: run tools/deps"
[ -d "$src/tests/browser/node_modules/playwright-core" ] ||
    fail "playwright-core is missing: run tools/deps (it runs npm ci in tests/browser)"
work=$(mktemp -d /tmp/cfbook.XXXXXX)
server_pid=
cleanup() {
    [ -z "$server_pid" ] || kill -KILL "$server_pid" 2>/dev/null || true
    "$src/tools/pg" destroy "$work/pg" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
artifacts=$CF_BINARY_DIR/tests/browser-artifacts
mkdir -p "$artifacts"
rm -f "$artifacts"/booking-*.png

db=$("$src/tools/pg" start "$work/pg" --owner-pid $$)
app_db=$("$src/tools/pg" conninfo "$work/pg" --app)
"$carefactd" migrate --db "$db" >/dev/null
"$carefactd" demo-data --db "$db" --token-key-hex "$(printf '%064d' 7)" >/dev/null
for _ in $(seq 10); do
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$carefactd" serve --db "$app_db" --listen "127.0.0.1:$port" --threads 4 >>"$work/carefactd.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do
        curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break 2
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    server_pid=
done
[ -n "$server_pid" ] || fail "carefactd did not come up: $(tail -5 "$work/carefactd.log")"
office=$(psql "$db" -XAtqc "SELECT md5('demo:office:1')::uuid")
# The office's lead, who sets its booking settings and hours in the dashboard.
lead_password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
echo "$lead_password" | "$carefactd" user add --db "$db" --role intake_lead --office "$office" lead1 \
    >/dev/null || fail "cannot add the office's lead"
URL="http://127.0.0.1:$port" OFFICE="$office" ARTIFACTS="$artifacts" LEAD_PASSWORD="$lead_password" \
    node "$src/tests/browser/booking.mjs" || fail "the booking page (log: see above)"
echo "booking page: held, confirmed and cancelled a time at demo office 1; the lead changed its settings"
