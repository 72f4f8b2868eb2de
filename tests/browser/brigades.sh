#!/usr/bin/env bash
# Browser test of mobile brigade trips (issue 16): the real carefactd on a private
# PostgreSQL with the demo data and an intake lead of demo office 1. Playwright
# (brigades.mjs) plans a trip five days on in the dashboard's form (two villages, a
# partner), books a person in the first village, announces it, then opens the citizens'
# schedule (/web/trips.html, no sign-in) and finds the trip there without the person's
# name. Here: the announcement queued one SMS to the person booked.
set -euo pipefail
case_name=brigades
source "$CF_SOURCE_DIR/tests/browser/web_lib.sh"
web_demo_data
password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
office=$(psql "$db" -XAtqc "SELECT md5('demo:office:1')::uuid")
echo "$password" | "$carefactd" user add --db "$db" --role intake_lead --office "$office" trips-lead >/dev/null
day=$(psql "$db" -XAtqc "SELECT ((now() AT TIME ZONE 'Europe/Moscow')::date + 5)::text")

web_server_up
URL="http://127.0.0.1:$port" ARTIFACTS="$artifacts" LOGIN=trips-lead PASSWORD="$password" DAY="$day" \
    node "$src/tests/browser/brigades.mjs" || fail "the trip pages (log: see above)"
queued=$(psql "$db" -XAtqc "SELECT count(*) FROM outbox WHERE kind = 'trip'
                            AND body LIKE '%выездная бригада%д. Ивановка. Ваша запись на%10:30.'")
[ "$queued" = 1 ] || fail "the announcement queued $queued messages, want 1"
echo "brigades: a trip planned, booked and announced in the dashboard; on the public schedule; one SMS queued"
