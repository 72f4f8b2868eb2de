#!/usr/bin/env bash
# Browser test of the desk's day (issue 16, sql/0033): the real carefactd on a private
# PostgreSQL with the demo data (demo office 1 takes appointments); today's appointments of
# the office written as the owner (the rules themselves are integration.backend.
# appointments'): a person booked by phone only (no card), one checked in by their card at
# the desk 7 minutes ago, one in service, one served; and a card tap on a terminal that is
# no desk of the office. Playwright (desk.mjs) signs in as the office's intake worker,
# opens «Приём: день», sees the states, the live waiting time and the figures, checks the
# phone-booked person in by the last 4 digits of a document, calls in and serves the
# card-checked one, marks the one in service as left unserved with a reason, and accepts
# the exception; the figures then tell card check-ins (proof) from the desk's word.
set -euo pipefail
case_name=desk
source "$CF_SOURCE_DIR/tests/browser/web_lib.sh"
web_demo_data
office=$(sql "SELECT md5('demo:office:1')::uuid")
day=$(sql "SELECT (now() AT TIME ZONE 'Europe/Moscow')::date")
password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
echo "$password" | "$carefactd" user add --db "$db" --role intake --office "$office" desk1 \
    >/dev/null || fail "cannot add the office's intake worker"

# Today's appointments (local 09:00 and 09:15 at the demo office, Moscow time); the
# people's times of arrival, call and end relative to now.
at() { echo "('$day'::date + time '$1') AT TIME ZONE 'Europe/Moscow'"; }
add() { # seat, local start, name, person key, state, then the columns' values after
    sql "INSERT INTO appointments (office_id, region_id, seat, during, kind, state, channel, person_key,
           person_name, phone, secret_hash, created_by, booked_at, checked_in_at, service_started_at,
           finished_at, check_in_method, check_in_level, check_in_by)
         SELECT o.id, o.region_id, $1, tstzrange($(at "$2"), $(at "$2") + interval '15 minutes'),
                'consultation', '$5', 'phone', '$4', '$3', '+7 900 000-00-0$1', sha256('x'), 'test',
                now() - interval '1 day', $6
         FROM offices o WHERE o.id = '$office' RETURNING id"
}
add 1 09:00 'Телефонов Пётр' 'tel:79000000001' booked "NULL, NULL, NULL, NULL, NULL, NULL" >/dev/null
add 2 09:00 'Картова Анна' "person:$(sql "SELECT md5('demo:recipient:1')::uuid")" checked_in \
    "now() - interval '7 minutes', NULL, NULL, 'card', 'static', NULL" >/dev/null
add 3 09:00 'Сервисов Иван' 'tel:79000000003' in_service \
    "now() - interval '20 minutes', now() - interval '5 minutes', NULL, 'passport', NULL, 'desk1'" >/dev/null
add 1 09:15 'Готовая Мария' 'tel:79000000004' served \
    "now() - interval '60 minutes', now() - interval '50 minutes', now() - interval '43 minutes', 'known_to_staff', NULL, 'desk1'" >/dev/null
stranger=$(add 2 09:15 'Чужой Терминал' 'person:00000000-0000-4000-8000-0000000000ee' booked \
    "NULL, NULL, NULL, NULL, NULL, NULL")
# A card tapped on a worker's handset that is no desk of the office (sql/0033: not_desk).
sql "INSERT INTO desk_check_in_exceptions (office_id, region_id, device_id, seq, appointment_id,
       reason, tapped_at, card_level)
     SELECT o.id, o.region_id, gen_random_uuid(), 7, '$stranger', 'not_desk', $(at 09:10), 'static'
     FROM offices o WHERE o.id = '$office'" >/dev/null

web_server_up
URL="http://127.0.0.1:$port" OFFICE="$office" DAY="$day" ARTIFACTS="$artifacts" PASSWORD="$password" \
    node "$src/tests/browser/desk.mjs" || fail "the desk's day page (log: see above)"
# what the page did is what the server holds
[ "$(sql "SELECT check_in_method || ' ' || check_in_document_digits || ' ' || check_in_by
          FROM appointments WHERE person_name = 'Телефонов Пётр'")" = "document_digits 0457 desk1" ] ||
    fail "the phone-booked person's check-in is not on the server as the page made it"
[ "$(sql "SELECT state || ' ' || check_in_method FROM appointments WHERE id = '$stranger'")" = "checked_in card" ] ||
    fail "the accepted exception did not check the person in"
echo "desk day: checked in by document digits, called in, served, left unserved, an exception accepted; figures by card and by staff"
