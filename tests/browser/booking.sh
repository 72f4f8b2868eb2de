#!/usr/bin/env bash
# Browser test of the citizen's booking page (issue 16): the real carefactd on a private
# PostgreSQL with the demo data (demo office 1 takes appointments), Debian's Chromium
# driven headless by Playwright (booking.mjs): a citizen chooses the office and a day,
# holds a time, confirms it with name and phone, and cancels it; the free seats the
# server reports move with each step. Then the office's lead changes the office's slot
# length and hours in the dashboard's form (#/office-booking). Screenshots go to $CF_BINARY_DIR/tests/browser-artifacts.
set -euo pipefail
case_name=booking
source "$CF_SOURCE_DIR/tests/browser/web_lib.sh"
web_demo_data
web_server_up
office=$(psql "$db" -XAtqc "SELECT md5('demo:office:1')::uuid")
# The office's lead, who sets its booking settings and hours in the dashboard.
lead_password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
echo "$lead_password" | "$carefactd" user add --db "$db" --role intake_lead --office "$office" lead1 \
    >/dev/null || fail "cannot add the office's lead"
URL="http://127.0.0.1:$port" OFFICE="$office" ARTIFACTS="$artifacts" LEAD_PASSWORD="$lead_password" \
    node "$src/tests/browser/booking.mjs" || fail "the booking page (log: see above)"
echo "booking page: held, confirmed and cancelled a time at demo office 1; the lead changed its settings"
