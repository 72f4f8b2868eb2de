#!/usr/bin/env bash
# Browser test of mobile brigade trips (issue 16): the real carefactd on a private
# PostgreSQL with the demo data and an intake lead of demo office 1. Playwright
# (brigades.mjs) plans a trip five days on in the dashboard's form (two villages, a
# partner), books a person in the first village, announces it, then opens the citizens'
# schedule (/web/trips.html, no sign-in) and finds the trip there without the person's
# name. Here: the announcement queued one SMS to the person booked.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
src=$CF_SOURCE_DIR
carefactd=$CF_BINARY_DIR/backend/carefactd
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is not installed: run tools/deps"
[ -d "$src/tests/browser/node_modules/playwright-core" ] ||
    fail "playwright-core is missing: run tools/deps (it runs npm ci in tests/browser)"
work=$(mktemp -d /tmp/cftrips.XXXXXX)
server_pid=
cleanup() {
    [ -z "$server_pid" ] || kill -KILL "$server_pid" 2>/dev/null || true
    "$src/tools/pg" destroy "$work/pg" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
artifacts=$CF_BINARY_DIR/tests/browser-artifacts
mkdir -p "$artifacts"
rm -f "$artifacts"/brigades-*.png

db=$("$src/tools/pg" start "$work/pg" --owner-pid $$)
app_db=$("$src/tools/pg" conninfo "$work/pg" --app)
"$carefactd" migrate --db "$db" >/dev/null
"$carefactd" demo-data --db "$db" --token-key-hex "$(printf '%064d' 7)" >/dev/null
password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
office=$(psql "$db" -XAtqc "SELECT md5('demo:office:1')::uuid")
echo "$password" | "$carefactd" user add --db "$db" --role intake_lead --office "$office" trips-lead >/dev/null
day=$(psql "$db" -XAtqc "SELECT ((now() AT TIME ZONE 'Europe/Moscow')::date + 5)::text")

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
URL="http://127.0.0.1:$port" ARTIFACTS="$artifacts" LOGIN=trips-lead PASSWORD="$password" DAY="$day" \
    node "$src/tests/browser/brigades.mjs" || fail "the trip pages (log: see above)"
queued=$(psql "$db" -XAtqc "SELECT count(*) FROM outbox WHERE kind = 'trip'
                            AND body LIKE '%выездная бригада%д. Ивановка. Ваша запись на%10:30.'")
[ "$queued" = 1 ] || fail "the announcement queued $queued messages, want 1"
echo "brigades: a trip planned, booked and announced in the dashboard; on the public schedule; one SMS queued"
