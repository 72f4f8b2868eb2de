#!/usr/bin/env bash
# End-to-end tests of `carefact-agent read-card`: the real agent binary, libnfc's own
# pn532_uart driver, and tools/pn532-sim on a pseudo-terminal as the reader. Nothing
# is faked on the agent's side. One case per run (ctest registers each):
#
#   agent_read_card.sh transcript NAME   EMV card replaying tests/data/emv/devnied/NAME
#   agent_read_card.sh generated SCHEME LAYOUT SEED
#                                        a synthetic card made by carefact-gen-card
#   agent_read_card.sh CASE              uid_classic, uid_ultralight_placed_later,
#                                        uid_iso_dep_no_app, no_card, removed_mid_read,
#                                        extended_frame,
#                                        fault_checksum_once, fault_checksum_always,
#                                        fault_error_frame_once, fault_error_frame_always,
#                                        fault_slow_tolerated, fault_slow_timeout,
#                                        fault_silence, fault_silence_at_open,
#                                        reader_not_found, libnfc_device_env, text_output,
#                                        bad_arguments
#
# Expected PANs and expiries come from the table in tests/data/emv/README.md;
# expected tokens are computed here with openssl, independently of firmware-shared.
# Every agent run is under `timeout`: exit status 124 (the agent hung) fails the case.
# The emulator is stopped on every exit path (trap).
set -euo pipefail

case_name=${1:?usage: agent_read_card.sh CASE [NAME]}
bin=${CF_BINARY_DIR:?CF_BINARY_DIR must point at the build folder}
src=${CF_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
# The project's own card transcripts (tests/data/emv); CF_TESTDATA may point elsewhere.
testdata=${CF_TESTDATA:-$src/tests/data}
sim_bin=$bin/tools/pn532-sim/pn532-sim
agent=$bin/agent/carefact-agent
gen=$bin/tools/gen-card/carefact-gen-card
transcripts=$testdata/emv/devnied
readme=$testdata/emv/README.md
key=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
wait_s=3
# The agent's own bound: the wait, its 10 s read budget, closing the reader.
limit_s=$((wait_s + 15))

work=$(mktemp -d)
sim_started=0
sim_pid=

cleanup() {
    local status=$? job
    for job in $(jobs -p); do # an agent still running in the background
        kill "$job" 2>/dev/null || true
    done
    if [ "$sim_started" = 1 ]; then
        # EOF on its control channel stops the emulator; a signal if that fails.
        [ -n "${SIM[1]:-}" ] && eval "exec ${SIM[1]}>&-"
        kill "$sim_pid" 2>/dev/null || true
        wait "$sim_pid" 2>/dev/null || true
    fi
    if [ $status -ne 0 ] && [ -s "$work/sim.log" ]; then
        echo "--- pn532-sim log (last 30 lines)" >&2
        tail -30 "$work/sim.log" >&2
    fi
    rm -rf "$work"
    exit $status
}
trap cleanup EXIT
trap 'exit 1' INT TERM
# shellcheck source=../support/emulated.sh
. "$src/tests/support/emulated.sh"
emulated "$work" sim_bin agent gen

fail() {
    echo "FAIL [$case_name]: $*" >&2
    for f in out err; do
        [ -s "$work/$f" ] && { echo "--- agent $f:" >&2; cat "$work/$f" >&2; }
    done
    exit 1
}

# ==== The emulator ====

# start_sim ARGS...: start pn532-sim, read its pty path into $dev.
start_sim() {
    coproc SIM { exec "$sim_bin" "$@" 2>"$work/sim.log"; }
    sim_pid=$SIM_PID
    sim_started=1
    read -r -t 5 -u "${SIM[0]}" dev || fail "pn532-sim printed no pty path"
    case "$dev" in /dev/pts/*) ;; *) fail "pn532-sim's first line is '$dev', not a pty path" ;; esac
}

# ctl COMMAND...: send one control line, expect "ok ..."; the answer is in $reply.
ctl() {
    echo "$*" >&"${SIM[1]}"
    read -r -t 5 -u "${SIM[0]}" reply || fail "pn532-sim did not answer '$*'"
    case "$reply" in ok*) ;; *) fail "pn532-sim answered '$*' with '$reply'" ;; esac
}

# sim_status FIELD: $value = that field of the status line ("apdus", "faults-fired").
# (No $(...) around it: bash closes coprocess descriptors in subshells.)
sim_status() {
    ctl status
    local -a words
    local i
    read -r -a words <<<"$reply"
    for ((i = 1; i + 1 < ${#words[@]}; i += 2)); do
        [ "${words[$i]}" = "$1" ] && { value=${words[$((i + 1))]}; return; }
    done
    fail "no '$1' in status line '$reply'"
}

# ==== The agent ====

# run_agent ARGS...: carefact-agent under timeout; sets $status and $elapsed_ms.
run_agent() {
    local start end
    start=$(date +%s%N)
    set +e
    timeout "$limit_s" "$agent" "$@" >"$work/out" 2>"$work/err"
    status=$?
    set -e
    end=$(date +%s%N)
    elapsed_ms=$(((end - start) / 1000000))
    [ $status -ne 124 ] || fail "the agent hung: killed by timeout after ${limit_s}s"
}

read_card() {
    run_agent read-card --device "pn532_uart:$dev" --token-key-hex "$key" --wait "$wait_s" \
        --json "$@"
}

token_of() { # token_of MESSAGE: base64url(HMAC-SHA256(key, MESSAGE)[0..16))
    printf '%s' "$1" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary |
        head -c 16 | base64 | tr '+/' '-_' | tr -d '=\n'
}

expect_output() { # expect_output EXACT_JSON_LINE
    [ $status -eq 0 ] || fail "exit status $status, expected 0"
    [ "$(cat "$work/out")" = "$1" ] || fail "output differs; expected: $1"
}

expect_error() { # expect_error NAME: JSON error object with that name, exit 1
    [ $status -eq 1 ] || fail "exit status $status, expected 1 (error $1)"
    grep -q "^{\"error\":\"$1\",\"message\":\"[^\"]\+\"}\$" "$work/out" ||
        fail "expected error '$1'"
}

# The PAN must appear nowhere the agent writes, not even as hex bytes in a log.
expect_no_pan() {
    local pan=$1 f
    for f in out err; do
        if tr -d ' \t\n' <"$work/$f" | grep -qi -- "$pan"; then
            fail "the PAN appears in the agent's std$f"
        fi
    done
}

expect_uid_card() { # expect_uid_card UID_HEX_UPPER
    expect_output "{\"method\":\"uid\",\"scheme\":null,\"last4\":null,\"expiry\":null,\"token\":\"$(token_of "uid:$1")\"}"
}

# ==== EMV transcripts ====

# The scheme each transcript's card presents (from its AIDs: A0000000031010 Visa,
# A0000000041010 Mastercard, A0000002771010 Interac), and the outcome of the files
# the README does not give a PAN for. A file listed nowhere fails the test.
scheme_of() {
    case "$1" in
    Visa* | FailPpseVisaAid) echo visa ;;
    MasterCard*) echo mastercard ;;
    InteractPpse) echo interac ;;
    *) echo "" ;;
    esac
}
error_of() {
    case "$1" in
    LockedCard | FailErrorCard) echo card_locked ;;
    UnknownCard) echo unknown_card ;;
    GeldKartePpse) echo not_payment_card ;;
    # Only a partial SELECT is recorded: 61 33 is followed by a GET RESPONSE the file
    # spells "00 0C", so no application is ever selected...
    wrapperTestSW_61) echo unknown_card ;;
    # ...and here the application is selected (6C 01, resend with Le) but there is no
    # GPO to answer: not a payment application as far as the reader can tell.
    wrapperTestSW_6C) echo not_payment_card ;;
    *) echo "" ;;
    esac
}

# PAN and expiry (MM/YYYY) of a transcript from the README table, or nothing.
readme_row() {
    awk -F'|' -v name="$1" '
        { gsub(/^ +| +$/, "", $2) }
        $2 == name {
            pan = $4; expiry = $5
            gsub(/ /, "", pan); sub(/^ +/, "", expiry); split(expiry, e, " ")
            if (pan ~ /^[0-9]+$/) print pan, e[1]
        }' "$readme"
}

case_transcript() {
    local name=$1 file=$transcripts/$1
    [ -f "$file" ] || fail "no transcript $file"
    local row pan expiry scheme error
    row=$(readme_row "$name")
    # VisaCardPpseNoCplc is VisaCardPpse without its CPLC record: the same card.
    [ -z "$row" ] && [ "$name" = VisaCardPpseNoCplc ] && row=$(readme_row VisaCardPpse)
    error=$(error_of "$name")
    [ -n "$row" ] || [ -n "$error" ] || fail "no expected outcome for transcript $name"

    start_sim --transcript "$file"
    # libnfc's most verbose log must not leak the PAN either: the agent turns it off.
    LIBNFC_LOG_LEVEL=3 read_card
    if [ -n "$error" ]; then
        expect_error "$error"
        sim_status apdus
        [ "$value" -gt 0 ] || fail "the card was never asked anything"
        return
    fi
    read -r pan expiry <<<"$row"
    scheme=$(scheme_of "$name")
    [ -n "$scheme" ] || fail "no expected scheme for $name"
    local mm=${expiry%%/*} yyyy=${expiry##*/}
    expect_output "{\"method\":\"emv\",\"scheme\":\"$scheme\",\"last4\":\"${pan: -4}\",\"expiry\":\"$yyyy-$mm\",\"token\":\"$(token_of "$pan")\"}"
    expect_no_pan "$pan"
}

# A READ RECORD answer of 256 data bytes + SW: over 252 bytes the PN532 answers with an
# extended frame, which libnfc must read back. Synthetic card, Visa AID, no PDOL.
case_extended_frame() {
    local filler
    filler=$(printf '00 %.0s' $(seq 232))
    cat >"$work/big_record" <<EOT
# SELECT PPSE
send: 00 A4 04 00 0E 32 50 41 59 2E 53 59 53 2E 44 44 46 30 31 00
resp: 6F 23 84 0E 32 50 41 59 2E 53 59 53 2E 44 44 46 30 31 A5 11 BF 0C 0E 61 0C 4F 07 A0 00 00 00 03 10 10 87 01 01 90 00
# SELECT Visa
send: 00 A4 04 00 07 A0 00 00 00 03 10 10 00
resp: 6F 14 84 07 A0 00 00 00 03 10 10 A5 09 50 04 56 49 53 41 87 01 01 90 00
# GPO: AIP 0080, AFL SFI 1 record 1
send:
resp: 80 06 00 80 08 01 01 00 90 00
# READ RECORD 1 of SFI 1: 70 82 00 FC, PAN 5A, expiry 5F24, filler DF01 of 232 bytes
send: 00 B2 01 0C 00
resp: 70 82 00 FC 5A 08 41 11 11 11 11 11 11 11 5F 24 03 29 12 31 DF 01 81 E8 $filler 90 00
EOT
    start_sim --transcript "$work/big_record"
    read_card
    expect_output "{\"method\":\"emv\",\"scheme\":\"visa\",\"last4\":\"1111\",\"expiry\":\"2029-12\",\"token\":\"$(token_of 4111111111111111)\"}"
    expect_no_pan 4111111111111111
}

# ==== Generated cards ====

luhn_ok() { # luhn_ok DIGITS: the Luhn check, written here apart from the generator's
    local digits=$1 sum=0 i d
    for ((i = 0; i < ${#digits}; i++)); do
        d=${digits:$((${#digits} - 1 - i)):1}
        ((i % 2)) && { d=$((d * 2)); ((d > 9)) && d=$((d - 9)); }
        sum=$((sum + d))
    done
    ((sum % 10 == 0))
}

iin_ok() { # iin_ok SCHEME PAN: the PAN starts with an IIN of the scheme
    local four=$((10#${2:0:4}))
    case $1 in
    mir) ((four >= 2200 && four <= 2204)) ;;
    visa) [ "${2:0:1}" = 4 ] ;;
    mastercard) ((four >= 5100 && four <= 5599)) || ((four >= 2221 && four <= 2720)) ;;
    maestro) case $four in 5018 | 5020 | 5038 | 5893 | 6304 | 6759 | 676[123]) ;; *) false ;; esac ;;
    unionpay) [ "${2:0:2}" = 62 ] ;;
    *) false ;;
    esac
}

# A card made by carefact-gen-card for the scheme, layout and seed, read through the
# real path: the agent must report the PAN and expiry the file's "# card:" line
# states, and that PAN must be a Luhn-valid 16..19-digit number of the scheme
# (checked here, not taken on the generator's word).
case_generated() {
    local scheme=$1 layout=$2 seed=$3 file=$work/card line pan expiry
    "$gen" --scheme "$scheme" --layout "$layout" --seed "$seed" --out "$file" ||
        fail "carefact-gen-card refused --scheme $scheme --layout $layout --seed $seed"
    line=$(grep '^# card: ' "$file") || fail "no '# card:' line in the generated card"
    pan=$(sed -n 's/.* pan=\([0-9]*\) .*/\1/p' <<<"$line")
    expiry=$(sed -n 's/.* expiry=\([0-9]\{4\}-[0-9]\{2\}\) .*/\1/p' <<<"$line")
    [ ${#pan} -ge 16 ] && [ ${#pan} -le 19 ] || fail "the generated PAN has ${#pan} digits"
    luhn_ok "$pan" || fail "the generated PAN fails the Luhn check"
    iin_ok "$scheme" "$pan" || fail "the generated PAN ${pan:0:4}... is not in $scheme's IIN range"
    [ -n "$expiry" ] || fail "no expiry in '$line'"
    start_sim --transcript "$file"
    read_card
    expect_output "{\"method\":\"emv\",\"scheme\":\"$scheme\",\"last4\":\"${pan: -4}\",\"expiry\":\"$expiry\",\"token\":\"$(token_of "$pan")\"}"
    expect_no_pan "$pan"
}

# ==== Other cards, no card ====

case_uid_classic() {
    start_sim --uid 01A2B3C4 --sak 08
    read_card
    expect_uid_card 01A2B3C4
}

# The field is empty when the agent starts waiting; the card comes a second later.
case_uid_ultralight_placed_later() {
    start_sim
    (
        read_card
        echo "$status $(date +%s%N)" >"$work/result"
    ) &
    local agent_job=$!
    sleep 1
    local placed_ns
    placed_ns=$(date +%s%N)
    ctl card uid 04a2243b5c6d80 sak 00
    wait $agent_job || fail "the agent run failed"
    local done_ns
    read -r status done_ns <"$work/result"
    expect_uid_card 04A2243B5C6D80
    # The answer came after the card did (measured against the moment it was placed, not
    # against the agent's start, which a loaded machine may delay).
    [ "$done_ns" -ge "$placed_ns" ] || fail "identified $(((placed_ns - done_ns) / 1000000)) ms before the card came"
}

# ISO 14443-4 but no application at all (a transport or access card).
case_uid_iso_dep_no_app() {
    start_sim --uid 08112233 --sak 20
    read_card
    expect_error unknown_card
}

case_no_card() {
    start_sim
    read_card
    expect_error no_card
    [ $elapsed_ms -ge $((wait_s * 1000)) ] || fail "gave up after ${elapsed_ms} ms, before --wait"
    [ $elapsed_ms -lt $((wait_s * 1000 + 5000)) ] || fail "took ${elapsed_ms} ms for --wait $wait_s"
}

case_removed_mid_read() {
    start_sim --transcript "$transcripts/VisaCardPpse"
    ctl remove-after 2
    read_card
    expect_error card_removed
    sim_status apdus
    [ "$value" = 2 ] || fail "the card was not removed in the middle of the read"
    expect_no_pan 4999999999999999
}

# ==== Injected faults ====

visa_ok() {
    expect_output "{\"method\":\"emv\",\"scheme\":\"visa\",\"last4\":\"9999\",\"expiry\":\"2015-09\",\"token\":\"$(token_of 4999999999999999)\"}"
}

# One spoiled frame costs a retry, not the read.
case_fault_checksum_once() {
    start_sim --transcript "$transcripts/VisaCardPpse"
    ctl fault checksum at-apdu 2
    read_card
    visa_ok
    sim_status faults-fired
    [ "$value" = 1 ] || fail "the fault was not injected"
}

case_fault_checksum_always() {
    start_sim --transcript "$transcripts/VisaCardPpse"
    ctl fault checksum at-apdu 2 count 0
    read_card
    expect_error reader_not_responding
    expect_no_pan 4999999999999999
}

case_fault_error_frame_once() {
    start_sim --transcript "$transcripts/VisaCardPpse"
    ctl fault error-frame at-apdu 3
    read_card
    visa_ok
    sim_status faults-fired
    [ "$value" = 1 ] || fail "the fault was not injected"
}

case_fault_error_frame_always() {
    start_sim --transcript "$transcripts/VisaCardPpse"
    ctl fault error-frame at-apdu 1 count 0
    read_card
    expect_error reader_not_responding
}

# Answers 400 ms late are within the agent's 1.5 s per APDU: the read succeeds.
case_fault_slow_tolerated() {
    start_sim --transcript "$transcripts/VisaCardPpse"
    ctl fault slow 400 at-apdu 1
    read_card
    visa_ok
    sim_status faults-fired
    [ "$value" -ge 4 ] || fail "the answers were not slowed down"
    [ $elapsed_ms -ge 1600 ] || fail "4 APDUs 400 ms late each took only ${elapsed_ms} ms"
}

case_fault_slow_timeout() {
    start_sim --transcript "$transcripts/VisaCardPpse"
    ctl fault slow 8000 at-apdu 2
    read_card
    expect_error reader_not_responding
    [ $elapsed_ms -lt 8000 ] || fail "the agent waited ${elapsed_ms} ms for an 8 s answer"
}

case_fault_silence() {
    start_sim --transcript "$transcripts/VisaCardPpse"
    ctl fault silence at-apdu 2
    read_card
    expect_error reader_not_responding
}

# A reader that never answers is not found, whatever is in its field.
case_fault_silence_at_open() {
    start_sim --transcript "$transcripts/VisaCardPpse"
    ctl fault silence
    read_card
    expect_error reader_not_found
}

# ==== Reader and arguments ====

case_reader_not_found() {
    dev=$work/no-such-port
    read_card
    expect_error reader_not_found
}

case_libnfc_device_env() {
    start_sim --transcript "$transcripts/MasterCardPpse"
    LIBNFC_DEVICE="pn532_uart:$dev" run_agent read-card --token-key-hex "$key" --json
    expect_output "{\"method\":\"emv\",\"scheme\":\"mastercard\",\"last4\":\"9999\",\"expiry\":\"2015-09\",\"token\":\"$(token_of 5599999999999999)\"}"
}

case_text_output() {
    start_sim --transcript "$transcripts/VisaCardPpse"
    run_agent read-card --device "pn532_uart:$dev" --token-key-hex "$key"
    [ $status -eq 0 ] || fail "exit status $status"
    grep -q "Карта прочитана: Visa •••• 9999, действует до 09/2015\." "$work/out" ||
        fail "no Russian summary line"
    grep -q "Токен карты: $(token_of 4999999999999999)" "$work/out" || fail "no token line"
    expect_no_pan 4999999999999999
    ctl remove
    run_agent read-card --device "pn532_uart:$dev" --token-key-hex "$key" --wait 1
    [ $status -eq 1 ] || fail "exit status $status with no card"
    grep -q "Карта не приложена" "$work/err" || fail "no Russian no-card message"
}

# expect_usage MESSAGE_PART ARGS...: exit 2 and the message names the problem.
expect_usage() {
    local part=$1
    shift
    run_agent read-card "$@"
    [ $status -eq 2 ] || fail "exit status $status for '$*', expected 2"
    grep -qF -- "$part" "$work/err" || fail "message for '$*' does not say '$part'"
}

case_bad_arguments() {
    local d=pn532_uart:/dev/null
    expect_usage "--token-key-hex must be 32..128 hex digits" --device $d --token-key-hex 0011
    expect_usage "--token-key-hex must be 32..128 hex digits" --device $d --token-key-hex \
        "$key$key$key"
    expect_usage "only hex digits" --device $d --token-key-hex "zz${key:2}"
    expect_usage "--token-key-hex is required" --device $d
    expect_usage "--wait must be a whole number of seconds, 1..600" --device $d \
        --token-key-hex "$key" --wait 0
    expect_usage "--wait must be a whole number of seconds, 1..600" --device $d \
        --token-key-hex "$key" --wait 601
    expect_usage "--wait must be a whole number of seconds, 1..600" --device $d \
        --token-key-hex "$key" --wait 5s
    expect_usage "--wait needs a value" --device $d --token-key-hex "$key" --wait
    expect_usage "--device is given twice" --device $d --device $d --token-key-hex "$key"
    expect_usage "unknown argument '--pan'" --pan 1 --device $d --token-key-hex "$key"
    expect_usage "--device must be a libnfc connstring" --device "" --token-key-hex "$key"
    LIBNFC_DEVICE="" expect_usage "give --device CONNSTRING or set LIBNFC_DEVICE" \
        --token-key-hex "$key"
    # With --json the refusal is also one JSON object on stdout.
    run_agent read-card --json --device $d --token-key-hex 00
    [ $status -eq 2 ] && grep -q '^{"error":"invalid_argument","message":"--token-key-hex' \
        "$work/out" || fail "no JSON refusal"
    run_agent read-card --json '--"quote\' --device $d
    [ $status -eq 2 ] && grep -qF '"message":"unknown argument '"'"'--\"quote\\'"'"'"}' \
        "$work/out" || fail "the JSON refusal does not escape the argument"
    run_agent no-such-command
    [ $status -eq 2 ] && grep -q "unknown command" "$work/err" || fail "unknown command accepted"
}

if [ "$case_name" = transcript ]; then
    case_transcript "${2:?transcript NAME}"
elif [ "$case_name" = generated ]; then
    case_generated "${2:?generated SCHEME LAYOUT SEED}" "${3:?LAYOUT}" "${4:?SEED}"
else
    declare -F "case_$case_name" >/dev/null || fail "unknown case '$case_name'"
    "case_$case_name"
fi
echo "ok [$case_name${2:+ $2}${3:+ $3}${4:+ $4}]"
