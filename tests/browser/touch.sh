#!/usr/bin/env bash
# Browser test of the touch UI (agent/ui, served by carefact-agentd): the real agent
# daemon reading cards through libnfc's pn532_uart driver from tools/pn532-sim (a
# "card tap" is the emulator's control channel putting the card in the field), the
# real carefactd and PostgreSQL, and Debian's Chromium driven headless by Playwright
# (touch.mjs) at phone size. A full day offline -- three planned visits, a door
# attempt, a cancellation, a card of another recipient, an unplanned visit, a rating
# by faces, a skipped rating, a survey answered on the recipient's screen and surveys
# skipped, a new card bound -- then carefactd comes back, the
# worker syncs, and the manager's dashboard must show every visit. Before the day,
# pages of other origins in the same browser try to drive the daemon and must change
# nothing. Screenshots of every screen (360×640 and 720×1280) go to
# $CF_BINARY_DIR/tests/browser-artifacts/touch-*.png; axe-core runs on every screen.
# The processes hand over through files in the work folder (day.done, server.up).
set -euo pipefail
case_name=touch
source "$CF_SOURCE_DIR/tests/e2e/agent_visit_lib.sh"

[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is not installed: run tools/deps"
[ -d "$src/tests/browser/node_modules/playwright-core" ] ||
    fail "playwright-core is missing: run tools/deps (it runs npm ci in tests/browser)"
[ -f "$src/tests/browser/node_modules/axe-core/axe.min.js" ] ||
    fail "axe-core is missing: run tools/deps (it runs npm ci in tests/browser)"
command -v espeak-ng >/dev/null || fail "espeak-ng is not installed: run tools/deps"
agentd=$bin/agent/carefact-agentd
[ -x "$agentd" ] || fail "carefact-agentd is not built"

artifacts=$bin/tests/browser-artifacts
mkdir -p "$artifacts"
rm -f "$artifacts"/touch-*.png

wait_file() {
    for _ in $(seq 1800); do
        [ -e "$work/$1" ] && return 0
        if ! kill -0 "$browser_pid" 2>/dev/null; then
            wait "$browser_pid" || true
            cat "$work/browser.log" >&2
            fail "the browser script stopped before '$1'"
        fi
        sleep 0.1
    done
    fail "the browser script never reached '$1'"
}

pg_up
# A fifth plan today for the demo's worker 1 (the demo gives four: recipients 1-4), so
# the day has three visits, a door attempt and a cancellation on plans of their own.
sql "INSERT INTO visit_plans (id, provider_id, worker_id, recipient_id, planned_start, service_codes)
     SELECT md5('touch:plan:5')::uuid, provider_id, worker_id, md5('demo:recipient:9')::uuid,
            planned_start + interval '6 hours', service_codes
     FROM visit_plans WHERE worker_id = md5('demo:worker:1')::uuid ORDER BY planned_start LIMIT 1"
server_up
enroll
sim_start # an empty field: the test puts each card down

# The demo's cards by recipient id, as emulator commands (backend/src/demo/demo.c: the
# first six hold the bank cards of these transcripts, the others UID cards 04 D3 00 nn).
cards="{"
for n in $(seq 12); do
    case $n in
    1) c="card transcript $transcripts/VisaCardPpse" ;;
    2) c="card transcript $transcripts/MasterCardPpse" ;;
    3) c="card transcript $transcripts/MasterCardPpse3" ;;
    4) c="card transcript $transcripts/VisaCardAid" ;;
    5) c="card transcript $transcripts/FailPpseVisaAid" ;;
    6) c="card transcript $transcripts/VisaCardPse" ;;
    *) c="card uid $(printf '04D300%02X' "$n") sak 08" ;;
    esac
    cards+="\"$(recipient_id "$n")\":\"$c\","
done
cards+="\"new\":\"card uid 04D3C0FE sak 08\"}"

# The day is offline: carefactd goes away after enrolment.
server_down KILL

mkdir -p "$work/speech"
agentd_up --speech-wav "$work/speech" --speech-log "$work/speech.log"
[ "$(stat -c %a "$work/ui-url")" = 600 ] || fail "the start URL file is not owner-only"

manager_password=$(sed -n 's/^demo account: login manager1 password \([^ ]*\).*/\1/p' "$work/demo-data.out")
START_URL="$ui_url" WORK="$work" ARTIFACTS="$artifacts" CARDS="$cards" \
    SIM_CTL="$work/sim.ctl" SIM_OUT="$work/sim.out" SPEECH_LOG="$work/speech.log" \
    AXE="$src/tests/browser/node_modules/axe-core/axe.min.js" \
    DASHBOARD="http://127.0.0.1:$port" LOGIN=manager1 PASSWORD="$manager_password" \
    node "$src/tests/browser/touch.mjs" >"$work/browser.log" 2>&1 &
browser_pid=$!
on_cleanup+=("kill -KILL $browser_pid")

wait_file day.done
# Offline all day: the server holds none of the day's events yet.
[ "$(server_events)" -le 1 ] || fail "events reached the server during the offline day"
server_restart
touch "$work/server.up"
wait_file synced
same_chain_as_server

# What the server made of the day: every visit of this terminal, written for the
# browser to find on the dashboard, and the facts checked here.
mine="id IN (SELECT visit_key FROM events WHERE device_id = '$device_id')"
sql "SELECT id FROM visits WHERE $mine" >"$work/visits"
# plans 1-3, the attempt, the cancellation, the unplanned visit
[ "$(wc -l <"$work/visits")" = 6 ] || fail "the server holds $(wc -l <"$work/visits") visits of the day, not 6"
got() { sql "SELECT count(*) FROM visits WHERE $mine AND $1"; }
[ "$(got "state = 'ended' AND plan_id IS NOT NULL")" -ge 1 ] || fail "no ended, unrated planned visit"
[ "$(got "rating = 4 AND comment = 'Всё хорошо, спасибо'")" = 1 ] || fail "the rating by faces is not on the server"
[ "$(got "state = 'attempted' AND reason = 'nobody_home'")" = 1 ] || fail "the door attempt is not on the server"
[ "$(got "state = 'cancelled' AND reason = 'refused'")" = 1 ] || fail "the cancellation is not on the server"
[ "$(got "'card_mismatch' = ANY (flags)")" = 1 ] || fail "the card of another recipient is not flagged card_mismatch"
[ "$(got "plan_id IS NULL AND state IN ('ended', 'rated')")" = 1 ] || fail "the unplanned visit is not on the server"
[ "$(got "plan_id IS NULL AND service_codes = '{MED-BP}' AND service_quantities = '{2}'")" = 1 ] ||
    fail "the unplanned visit's two blood pressure measurements (the stepper) are not on the server"
[ "$(sql "SELECT count(*) FROM card_bindings WHERE status = 'pending'")" -ge 1 ] ||
    fail "the new card's binding is not waiting for the manager"
[ "$(sql "SELECT count(*) FROM events WHERE device_id = '$device_id' AND kind = 'appointment.checked_in'
          AND card_token IS NOT NULL")" = 1 ] || fail "the check-in at the desk is not on the server"
# The survey answered on the recipient's screen after the visit rated 4: exactly one
# response of this terminal's visits, by the home-visit channel, with the answers tapped
# (touch.mjs wrote them); the surveys skipped left nothing.
expected=$(cat "$work/survey.expected")
answered="visit_id IN (SELECT visit_key FROM events WHERE device_id = '$device_id')"
[ "$(sql "SELECT count(*) FROM survey_responses WHERE $answered")" = 1 ] ||
    fail "the server holds $(sql "SELECT count(*) FROM survey_responses WHERE $answered") survey responses of the day, not 1"
[ "$(sql "SELECT count(*) FROM survey_responses s JOIN visits v ON v.id = s.visit_id
          WHERE s.$answered AND v.rating = 4 AND s.channel = 'home_visit' AND s.purpose = 'after_visit'
            AND s.instrument_id = 'public_service' AND s.version = 1
            AND s.answers = '$expected'::jsonb")" = 1 ] ||
    fail "the survey on the server is not the answers tapped ($expected): $(sql "SELECT answers FROM survey_responses WHERE $answered")"
cp "$work/visits" "$work/visits.list"
touch "$work/checked"

if ! wait "$browser_pid"; then
    cat "$work/browser.log" >&2
    fail "the touch UI test failed (screenshots in $artifacts)"
fi
cat "$work/browser.log"
# Every prompt was spoken into files (no sound card): one WAV per prompt.
[ "$(find "$work/speech" -name '*.wav' -size +1k | wc -l)" -ge 10 ] || fail "espeak-ng wrote too few prompts"
grep -q 'Как прошёл визит' "$work/speech.log" || fail "the rating prompt was not spoken"
