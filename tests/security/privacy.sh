#!/usr/bin/env bash
# Privacy: no card number anywhere. Plays two home visits end to end (the real
# carefact-agent reading EMV cards on the PN532 emulator through libnfc, carefactd as
# carefact_app, a private PostgreSQL), a door attempt and a sync, then scans the
# database dump, carefactd's log, everything the agent printed and the agent's SQLite
# store (with its WAL) for the cards' PANs and for any Luhn-valid card number, as
# digits, packed BCD (EMV tags 5A/57), base64 or hex (tests/security/pan_scan.mjs).
# The scanner is first shown to work: a random Luhn-valid canary PAN (no transcript
# holds it, so only the generic detectors can find it) is planted in each form, and in
# a copy of the agent's real store, and each must be found as what it is; a file that
# cannot be read must fail the scan. Only then does a clean real scan mean something.
set -euo pipefail
case_name=privacy
source "$CF_SOURCE_DIR/tests/e2e/agent_visit_lib.sh"
scan=$CF_SOURCE_DIR/tests/security/pan_scan.mjs
cards=("$transcripts/VisaCardPpse" "$transcripts/MasterCardPpse")

# ==== The scanner, shown to work first ====

# A canary: 15 random digits in the Visa range and the Luhn check digit.
canary=$(node -e '
    const crypto = require("node:crypto");
    let d = "4" + [...crypto.randomBytes(14)].map((b) => b % 10).join("");
    for (let c = 0; c < 10; c++) {
        const s = d + c;
        let sum = 0;
        for (let i = 0; i < s.length; i++) {
            let v = s.charCodeAt(s.length - 1 - i) - 48;
            if (i % 2) { v *= 2; if (v > 9) v -= 9; }
            sum += v;
        }
        if (sum % 10 === 0) { process.stdout.write(s); break; }
    }')
[ ${#canary} -eq 16 ] || fail "no canary PAN: '$canary'"
# The first transcript's own PAN (Luhn-invalid, as test cards often are).
card_pan=4999999999999999

# expect_found FILE HOW WHAT: the scan of FILE must exit 1 and report WHAT stored as HOW.
expect_found() {
    local got st=0
    got=$(node "$scan" --cards "${cards[@]}" --scan "$1") || st=$?
    [ $st -eq 1 ] || fail "pan_scan.mjs exit $st on $(basename "$1"), want 1 (found): $got"
    grep -q "^FOUND $1: $2: $3" <<<"$got" ||
        fail "pan_scan.mjs did not report '$2: $3' in $(basename "$1"): $got"
}

bytes_hex() { # FILE HEX...: write the bytes
    local f=$1
    shift
    printf '%s' "$*" | xxd -r -p >"$f"
}

printf 'log line {"pan":"%s"}\n' "$canary" >"$work/plant-ascii.txt"
expect_found "$work/plant-ascii.txt" ascii "a Luhn-valid 16-digit number"
printf 'card %s %s-%s %s\n' "${canary:0:4}" "${canary:4:4}" "${canary:8:4}" "${canary:12:4}" \
    >"$work/plant-grouped.txt"
expect_found "$work/plant-grouped.txt" ascii "a Luhn-valid 16-digit number"
# BCD in an application PAN tag, between random bytes (as in a card's record).
noise() { head -c "$1" /dev/urandom | xxd -p | tr -d '\n'; }
bytes_hex "$work/plant-bcd.bin" "$(noise 40)" 5A08 "$canary" 5F2403251231 "$(noise 40)"
expect_found "$work/plant-bcd.bin" bcd "a Luhn-valid 16-digit PAN in EMV tag 5A"
bytes_hex "$work/plant-track2.bin" "$(noise 20)" 5713 "$canary" D2512201000000000000 "$(noise 20)"
expect_found "$work/plant-track2.bin" bcd "a Luhn-valid 16-digit PAN in EMV tag 57"
# Base64 of JSON, glued to text in front; base64 and hex of the BCD tag.
printf 'token=%s\n' "$(printf '{"pan":"%s"}' "$canary" | base64 -w0)" >"$work/plant-b64.txt"
expect_found "$work/plant-b64.txt" "base64>ascii" "a Luhn-valid 16-digit number"
printf 'blob:%s\n' "$(printf '%s' "5A08${canary}" | xxd -r -p | base64 -w0 | tr '+/' '-_')" \
    >"$work/plant-b64url.txt"
expect_found "$work/plant-b64url.txt" "base64>bcd" "a Luhn-valid 16-digit PAN in EMV tag 5A"
printf 'x %s\n' "$(printf '%s' "$canary" | xxd -p | tr -d '\n')" >"$work/plant-hex.txt"
expect_found "$work/plant-hex.txt" "hex>ascii" "a Luhn-valid 16-digit number"
# The transcript card's own PAN as bare BCD: found though it fails the Luhn check.
bytes_hex "$work/plant-card.bin" "$(noise 30)" "$card_pan" "$(noise 30)"
expect_found "$work/plant-card.bin" bcd "the transcript card 4999"
# A file that cannot be read is a failure, not a clean file; so is a missing one
# (only --optional files may be absent).
mkdir "$work/plant-dir"
st=0
got=$(node "$scan" --cards "${cards[@]}" --scan "$work/plant-ascii.txt.missing") || st=$?
[ $st -eq 2 ] && grep -q "^UNREADABLE" <<<"$got" || fail "a missing file: exit $st: $got"
st=0
got=$(node "$scan" --cards "${cards[@]}" --scan "$work/plant-dir") || st=$?
[ $st -eq 2 ] && grep -q "^UNREADABLE .*EISDIR" <<<"$got" || fail "a folder: exit $st: $got"
if [ "$(id -u)" -ne 0 ]; then # root reads a mode-000 file anyway
    cp "$work/plant-ascii.txt" "$work/plant-private.txt"
    chmod 000 "$work/plant-private.txt"
    st=0
    got=$(node "$scan" --cards "${cards[@]}" --scan "$work/plant-private.txt") || st=$?
    [ $st -eq 2 ] && grep -q "^UNREADABLE .*EACCES" <<<"$got" || fail "a private file: exit $st: $got"
fi
st=0
got=$(node "$scan" --cards "${cards[@]}" --scan "$work/plant-ascii.txt" --optional "$work/none-wal") || st=$?
[ $st -eq 1 ] || fail "an absent --optional file: exit $st: $got"

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

# The canary in a copy of the real store (as text and as a BCD blob): found there too.
cp "$CAREFACT_AGENT_STORE" "$work/plant-store.db"
sqlite3 "$work/plant-store.db" "CREATE TABLE canary (note TEXT, raw BLOB);
    INSERT INTO canary VALUES ('pan $canary', NULL), (NULL, x'5A08${canary}')"
expect_found "$work/plant-store.db" ascii "a Luhn-valid 16-digit number"
expect_found "$work/plant-store.db" bcd "a Luhn-valid 16-digit PAN in EMV tag 5A"

# The real scan: nothing.
node "$scan" --cards "${cards[@]}" --scan "$work/dump.sql" "$work/carefactd.log" "$agent_log" \
    "$CAREFACT_AGENT_STORE" --optional "$CAREFACT_AGENT_STORE-wal" "$CAREFACT_AGENT_STORE-journal" ||
    fail "a card number was found, or a file could not be read (above)"
echo "privacy: no card number in the dump, the server log, the agent's output or its store"
