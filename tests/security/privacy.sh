#!/usr/bin/env bash
# Privacy: no card number anywhere. Plays two home visits end to end (the real
# carefact-agent reading EMV cards on the PN532 emulator through libnfc, carefactd as
# carefact_app, a private PostgreSQL), a door attempt and a sync, then scans the
# database dump, carefactd's log, everything the agent printed and the agent's SQLite
# store (with its WAL) for the cards' PANs and for any 13-19-digit Luhn-valid number
# (tests/security/pan_scan.mjs). The scanner is first shown a file holding a PAN, so
# a broken scanner fails the test instead of passing it.
set -euo pipefail
case_name=privacy
source "$CF_SOURCE_DIR/tests/e2e/agent_visit_lib.sh"
scan=$CF_SOURCE_DIR/tests/security/pan_scan.mjs
cards=("$transcripts/VisaCardPpse" "$transcripts/MasterCardPpse")

# The scanner must see a PAN when there is one.
printf 'log line {"pan":"4999999999999999"}\n' >"$work/canary.txt"
if node "$scan" --cards "${cards[@]}" --scan "$work/canary.txt" >/dev/null; then
    fail "pan_scan.mjs does not find a PAN in a file that holds one"
fi

agent_log=$work/agent-output.log
logged() { # run the agent, keep all it printed
    agent_ok "$@"
    cat "$work/last.out" "$work/last.err" >>"$agent_log"
}

pg_up
server_up
enroll
cat "$work/last.out" "$work/last.err" >>"$agent_log"
sim_start --transcript "${cards[0]}"
logged read-card --device "pn532_uart:$dev" --token-key-hex "$KEY" --wait 10 --json
logged visit start --plan "$(plan_of 1)" --device "pn532_uart:$dev" --wait 10 --json
logged visit end --device "pn532_uart:$dev" --wait 10 --service MED-BP --json
logged visit rate --rating 4 --comment "Хорошо"
card_of 2
logged visit start --plan "$(plan_of 2)" --device "pn532_uart:$dev" --wait 10 --json
logged visit end --device "pn532_uart:$dev" --wait 10 --service MED-BP --json
logged sync --json
[ "$(server_events)" -ge 5 ] || fail "the server holds $(server_events) events, want >= 5"
logged status

pg_dump_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | head -1)/pg_dump
[ -x "$pg_dump_bin" ] || pg_dump_bin=pg_dump
"$pg_dump_bin" --data-only --inserts "$db" >"$work/dump.sql"
[ -s "$work/dump.sql" ] || fail "pg_dump wrote nothing"
grep -q "visit.started" "$work/dump.sql" || fail "the dump holds no visit events"

node "$scan" --cards "${cards[@]}" --scan "$work/dump.sql" "$work/carefactd.log" "$agent_log" \
    "$CAREFACT_AGENT_STORE" "$CAREFACT_AGENT_STORE-wal" "$CAREFACT_AGENT_STORE-journal" ||
    fail "a card number was found (above)"
echo "privacy: no card number in the dump, the server log, the agent's output or its store"
