#!/usr/bin/env bash
# End-to-end: the card's proof (issue 14, api/PROTOCOL.md 4.5) through the real path —
# carefact-agent, libnfc's pn532_uart driver, tools/pn532-sim playing synthetic cards
# that sign (carefact-gen-card --oda, certified by a test CA made here with
# carefact-emv-pki) — into the agent's store and on to carefactd. Checks, from the
# stored events alone: each card gives a proof of its method's kind on visit.started,
# visit.ended and card.bound; the proof's fields are what the card sent (the
# transcript's certificates, the AID, the CA index); the signed terminal data holds this
# event's challenge, recomputed here from device id, seq, prev and visit id; no PAN in
# the store in any form; the server takes the batch. A public recording (VisaCardPpse)
# never carries a fresh signature, a UID card no proof.
#
# levels: carefactd given the test CA (--emv-ca-keys, here by CAREFACT_EMV_CA_KEYS) judges
# visits played with each card: dynamic at both ends for DDA, fDDA and CDA, static for
# SDA, each negative card its own failure, a replaying card's second tap a reused
# signature, the public recording never dynamic, a UID card uid.
#
#   agent_proof.sh cards | recorded | levels
set -euo pipefail
case_name=${1:?usage: agent_proof.sh cards|recorded|levels|daemon}
source "$(dirname "$0")/agent_visit_lib.sh"
gen_card=$bin/tools/gen-card/carefact-gen-card
emv_pki=$bin/tools/emv-pki/carefact-emv-pki
# The demo's Mir card (carefact-gen-card --scheme mir --seed 35): recipient 1's.
MIR_SEED=35
MIR_PAN=2202589086670936

expect() { # expect WHAT GOT WANT
    [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

store_sql() {
    sqlite3 "$CAREFACT_AGENT_STORE" "$1"
}

# The test CA, one key for the three RIDs (what carefactd --emv-ca-keys would be given).
make_ca() {
    local rid
    for rid in A000000658 A000000003 A000000004; do
        if [ ! -f "$work/ca.pem" ]; then
            "$emv_pki" ca --key "$work/ca.pem" --rid $rid --index 92 >>"$work/emv-ca-keys"
        else
            "$emv_pki" ca-line --key "$work/ca.pem" --rid $rid --index 92 >>"$work/emv-ca-keys"
        fi
    done
    [ "$(wc -l <"$work/emv-ca-keys")" -eq 3 ] || fail "no CA key lines"
}

# card NAME gen-card-args...: a certified synthetic card in $work/NAME (+ its keys).
card() {
    local name=$1
    shift
    "$gen_card" "$@" --ca-key "$work/ca.pem" --out "$work/$name" ||
        fail "carefact-gen-card $* failed"
    grep -q '^# live: ' "$work/$name" || [[ " $* " == *" sda "* ]] ||
        fail "$name: the generator wrote no live line"
}

# check_proof SEQ KIND CARDFILE: the stored event SEQ carries a proof of KIND whose fields
# are the card's and whose signed terminal data holds the event's challenge.
check_proof() {
    local seq=$1 kind=$2 file=$3 payload
    payload=$(store_sql "SELECT payload FROM events WHERE seq = $seq")
    [ -n "$payload" ] || fail "no event $seq in the store"
    node - "$payload" "$kind" "$file" "$device_id" <<'EOF' || fail "event $seq: proof check failed"
const crypto = require('node:crypto');
const fs = require('node:fs');
const [payload, kind, file, device] = process.argv.slice(2);
const ev = JSON.parse(payload);
const p = ev.card && ev.card.proof;
const die = (m) => { console.error(`event ${ev.seq} (${ev.kind}): ${m}`); process.exit(1); };
if (!p) die('no proof');
if (p.kind !== kind) die(`proof kind ${p.kind}, want ${kind}`);
// What the card sent: every value of these tags in the transcript's answers.
const text = fs.readFileSync(file, 'latin1');
const answers = text.split('\n').filter((l) => l.startsWith('resp:'))
    .map((l) => l.slice(5).replace(/\s/g, '').toLowerCase()).join('');
const sent = (tagHex, value) => {
    const len = value.length / 2;
    const head = tagHex + (len > 0x7f ? '81' : '') + len.toString(16).padStart(2, '0');
    return answers.includes(head + value);
};
if (!answers.includes(p.aid)) die('aid is not the card\'s');
if (!sent('8f', p.ca_index)) die('ca_index is not the card\'s 8F');
if (!sent('90', p.issuer_cert)) die('issuer_cert is not the card\'s 90');
if (!sent('9f32', p.issuer_exp)) die('issuer_exp is not the card\'s 9F32');
if (p.issuer_rem && !sent('92', p.issuer_rem)) die('issuer_rem is not the card\'s 92');
if (kind === 'sda') {
    if (!sent('93', p.ssad)) die('ssad is not the card\'s 93');
} else {
    if (!sent('9f46', p.icc_cert)) die('icc_cert is not the card\'s 9F46');
    if (p.icc_rem && !sent('9f48', p.icc_rem)) die('icc_rem is not the card\'s 9F48');
    // The challenge: SHA-256("carefact.card-challenge.v1" NUL | device | seq | prev | visit).
    const seq = Buffer.alloc(8);
    seq.writeBigUInt64BE(BigInt(ev.seq));
    const uuid = (u) => Buffer.from((u || '00000000-0000-0000-0000-000000000000').replace(/-/g, ''), 'hex');
    const un = crypto.createHash('sha256').update(Buffer.concat([
        Buffer.from('carefact.card-challenge.v1\0'), uuid(device), seq,
        Buffer.from(ev.prev, 'hex'), uuid(ev.visit_id)])).digest().subarray(0, 4).toString('hex');
    // dda with the DDOL 9F37 04, fdda (UN first) and cda (the UN itself) all start with it.
    if (!p.terminal_data.startsWith(un)) die(`terminal_data ${p.terminal_data} does not start with the challenge ${un}`);
    if (kind === 'dda' && p.ddol !== '9f3704') die(`ddol ${p.ddol}`);
    if (kind === 'cda' && !p.tx_data) die('no tx_data');
    if (!p.sdad || p.sdad.length < 128) die('no signature');
}
// The static data holds the record with 5A, its value masked.
const masked = [...p.static_data.matchAll(/5a(0[6-9a])/g)].some((m) =>
    m.index % 2 === 0 &&
    p.static_data.substr(m.index + 4, 2 * parseInt(m[1], 16)) === 'f'.repeat(2 * parseInt(m[1], 16)));
if (!masked) die('5A in static_data is not masked');
EOF
}

no_pan_in_store() {
    local pan=$1 bcd
    bcd=$(printf '%s' "$pan" | tr -d '\n')
    if grep -qa "$pan" "$CAREFACT_AGENT_STORE" "$work"/*.out 2>/dev/null; then
        fail "the card number reached the store or the output"
    fi
    # As hex text (how the proof would carry it) and as bytes.
    if store_sql "SELECT payload FROM events" | grep -qi "$bcd"; then
        fail "the card number is in a stored payload"
    fi
    if grep -qaP "$(printf '%s' "$bcd" | sed 's/../\\x&/g')" "$CAREFACT_AGENT_STORE"; then
        fail "the card number is in the store as BCD"
    fi
}

case_cards() {
    pg_up
    server_up
    enroll
    agent_ok sync --json
    make_ca
    local r1 r2 d
    r1=$(recipient_id 1)
    r2=$(recipient_id 2)
    # Recipient 1's Mir card, once per method (same PAN, so it identifies them).
    card mir-dda --scheme mir --seed $MIR_SEED --oda dda
    card mir-fdda --scheme mir --seed $MIR_SEED --oda fdda
    card mir-cda --scheme mir --seed $MIR_SEED --oda cda --layout records=3
    card mir-sda --scheme mir --seed $MIR_SEED --oda sda
    sim_start
    d=pn532_uart:$dev
    local kind seq
    for kind in dda fdda cda sda; do
        sim_ctl card transcript "$work/mir-$kind"
        agent_ok visit start --recipient "$r1" --device "$d" --wait 10 --json
        seq=$(store_sql "SELECT max(seq) FROM events")
        expect "$kind start" "$(store_sql "SELECT kind FROM events WHERE seq = $seq")" visit.started
        check_proof "$seq" "$kind" "$work/mir-$kind"
        agent_ok visit end --device "$d" --wait 10 --json
        seq=$(store_sql "SELECT max(seq) FROM events")
        check_proof "$seq" "$kind" "$work/mir-$kind"
    done
    # read-card --proof: the kind, and nothing more without the flag (output unchanged).
    sim_ctl card transcript "$work/mir-cda"
    agent_ok read-card --device "$d" --token-key-hex "$KEY" --wait 10 --json --proof
    expect "read-card --proof" "$(jget "$out" proof)" cda
    agent_ok read-card --device "$d" --token-key-hex "$KEY" --wait 10 --json
    [[ "$out" != *proof* ]] || fail "read-card without --proof printed a proof: $out"
    # New cards of other schemes bound to recipient 2: card.bound carries the proof.
    card visa-fdda --scheme visa --seed 71 --oda fdda
    card mc-cda --scheme mastercard --seed 72 --oda cda
    card mc-dda --scheme mastercard --seed 73 --oda dda --layout gpo=1,pdol=no,lengths=long
    for kind in visa-fdda mc-cda mc-dda; do
        sim_ctl card transcript "$work/$kind"
        agent_ok card bind --recipient "$r2" --device "$d" --wait 10 --json
        seq=$(store_sql "SELECT max(seq) FROM events")
        check_proof "$seq" "${kind#*-}" "$work/$kind"
    done
    # Negative cards still give a proof of their kind (the server judges them).
    card neg-ignore --scheme mir --seed 74 --oda dda --fault ignore_challenge
    card neg-expired --scheme visa --seed 75 --oda fdda --fault issuer_expired
    card neg-ca --scheme mastercard --seed 76 --oda cda --fault wrong_ca_index
    card neg-pan --scheme mir --seed 77 --oda dda --fault pan_mismatch
    card neg-replay --scheme mir --seed 78 --oda dda --fault replay
    for kind in neg-ignore:dda neg-expired:fdda neg-ca:cda neg-pan:dda neg-replay:dda neg-replay:dda; do
        sim_ctl card transcript "$work/${kind%%:*}"
        agent_ok card bind --recipient "$r2" --device "$d" --wait 10 --json
        seq=$(store_sql "SELECT max(seq) FROM events")
        [ "${kind%%:*}" = neg-ignore ] || check_proof "$seq" "${kind#*:}" "$work/${kind%%:*}"
    done
    # The ignoring card signed 00000000: its terminal data is the challenge all the same
    # (the card was sent it), the signature is what gives it away on the server.
    agent_ok status --verify
    agent_ok sync --json
    expect "waiting" "$(jget "$out" waiting)" 0
    same_chain_as_server
    no_pan_in_store "$MIR_PAN"
    echo "cards: every method's proof stored and sent; fields the card's, challenge the event's"
}

case_recorded() {
    pg_up
    server_up
    enroll
    agent_ok sync --json
    local r1 seq kind
    r1=$(recipient_id 1)
    sim_start --transcript "$transcripts/VisaCardPpse"
    agent_ok visit start --recipient "$r1" --device "pn532_uart:$dev" --wait 10 --json
    seq=$(store_sql "SELECT max(seq) FROM events")
    kind=$(store_sql "SELECT json_extract(payload, '\$.card.proof.kind') FROM events WHERE seq = $seq")
    # A recording cannot answer a signing command; what it replays was signed for
    # another unpredictable number.
    case "$kind" in none | fdda | sda | '') ;; *) fail "a recording gave a $kind proof" ;; esac
    agent_ok visit end --device "pn532_uart:$dev" --wait 10 --json
    # A UID card has no proof.
    sim_ctl card uid 04D30007 sak 08
    agent visit start --recipient "$(recipient_id 7)" --device "pn532_uart:$dev" --wait 10 --json
    seq=$(store_sql "SELECT max(seq) FROM events")
    expect "uid proof" "$(store_sql "SELECT json_extract(payload, '\$.card.proof') FROM events WHERE seq = $seq")" ""
    agent_ok sync --json
    expect "waiting" "$(jget "$out" waiting)" 0
    same_chain_as_server
    echo "recorded: the recording's proof is '$kind' (never a fresh signature), the UID card none"
}

# levels_of VISIT: "start_level/start_failure/end_level/end_failure" as carefactd says.
levels_of() {
    local v
    v=$(api_get "/api/v1/visits/$1")
    echo "$(jget "$v" start_level)/$(jget "$v" start_proof_failure)/$(jget "$v" end_level)/$(jget "$v" end_proof_failure)"
}

# play CARDFILE: a whole visit of recipient 1 with the card in the field; prints the visit id.
play() {
    sim_ctl card transcript "$1"
    agent_ok visit start --recipient "$(recipient_id 1)" --device "pn532_uart:$dev" --wait 10 --json
    local visit
    visit=$(jget "$out" visit_id)
    agent_ok visit end --device "pn532_uart:$dev" --wait 10 --json
    echo "$visit"
}

# carefactd judging proofs with the test CA, an enrolled terminal holding the reference,
# the emulator with an empty field.
judged_terminal_up() {
    pg_up
    make_ca
    export CAREFACT_EMV_CA_KEYS=$work/emv-ca-keys
    server_up
    enroll
    agent_ok sync --json
    sim_start
}

case_levels() {
    judged_terminal_up
    # Recipient 1's Mir card (its PAN gives the demo's token) with each method and fault.
    local name spec
    local -a cards=(dda:"--oda dda" fdda:"--oda fdda" cda:"--oda cda --layout records=3"
        sda:"--oda sda" ignore:"--oda dda --fault ignore_challenge"
        expired:"--oda fdda --fault issuer_expired" ca:"--oda cda --fault wrong_ca_index"
        pan:"--oda dda --fault pan_mismatch" replay:"--oda dda --fault replay")
    declare -A visit
    for spec in "${cards[@]}"; do
        name=${spec%%:*}
        # shellcheck disable=SC2086
        card "mir-$name" --scheme mir --seed $MIR_SEED ${spec#*:}
        visit[$name]=$(play "$work/mir-$name")
    done
    visit[recorded]=$(play "$transcripts/VisaCardPpse")
    sim_ctl card uid 04D30007 sak 08
    agent_ok visit start --recipient "$(recipient_id 7)" --device "pn532_uart:$dev" --wait 10 --json
    visit[uid]=$(jget "$out" visit_id)
    agent_ok visit end --device "pn532_uart:$dev" --wait 10 --json
    agent_ok sync --json
    expect "waiting" "$(jget "$out" waiting)" 0
    same_chain_as_server
    expect "dda" "$(levels_of "${visit[dda]}")" "dynamic//dynamic/"
    expect "fdda" "$(levels_of "${visit[fdda]}")" "dynamic//dynamic/"
    expect "cda" "$(levels_of "${visit[cda]}")" "dynamic//dynamic/"
    expect "sda" "$(levels_of "${visit[sda]}")" "static//static/"
    expect "ignore_challenge" "$(levels_of "${visit[ignore]}")" "none/bad_signature/none/bad_signature"
    expect "issuer_expired" "$(levels_of "${visit[expired]}")" "none/expired/none/expired"
    expect "wrong_ca_index" "$(levels_of "${visit[ca]}")" "none/unknown_ca_key/none/unknown_ca_key"
    expect "pan_mismatch" "$(levels_of "${visit[pan]}")" "none/pan_mismatch/none/pan_mismatch"
    expect "replay" "$(levels_of "${visit[replay]}")" "dynamic//none/reused_signature"
    expect "uid" "$(levels_of "${visit[uid]}")" "uid//uid/"
    local recorded
    recorded=$(levels_of "${visit[recorded]}")
    case "$recorded" in dynamic* | */dynamic/) fail "the recording came out $recorded" ;; esac
    # carefactd keeps no proof and no PAN.
    if pg_dump "$db" 2>/dev/null | grep -q "$MIR_PAN"; then
        fail "the card number is in the database"
    fi
    echo "levels: dda/fdda/cda dynamic, sda static, each negative its failure,"         "replay reused, the recording '$recorded', uid uid"
}

# The touch UI's path: carefact-agentd (the daemon the kiosk page drives) taps the same
# signing cards through its own API, as the page does (POST /api/tap "for" start or end,
# then /api/visit/start and /api/visit/end with the tap), and carefactd given the test CA
# judges them: the daemon makes each tap's challenge from the event it will confirm, so
# DDA and CDA come out dynamic at both ends there too.
case_daemon() {
    judged_terminal_up
    agentd_up --speech off
    ui() { # ui PATH BODY: the page's POST; prints the answer
        curl -fsS -b "cf_ui=$ui_secret" -H 'Content-Type: application/json' -H 'X-Carefact-UI: 1' \
            -H 'Sec-Fetch-Site: same-origin' -d "$2" "$ui_base$1" || fail "agentd $1 $2 failed"
    }
    local name answer tap
    declare -A visit
    for name in dda cda; do
        # shellcheck disable=SC2046
        card "mir-$name" --scheme mir --seed $MIR_SEED --oda $name $([ $name = cda ] && echo --layout records=3)
        sim_ctl card transcript "$work/mir-$name"
        tap=$(jget "$(ui /api/tap '{"for":"start","wait_ms":5000}')" tap)
        [ -n "$tap" ] || fail "$name: the daemon read no card at the start"
        answer=$(ui /api/visit/start "{\"recipient_id\":\"$(recipient_id 1)\",\"tap\":\"$tap\"}")
        visit[$name]=$(jget "$answer" visit_id)
        [ -n "${visit[$name]}" ] || fail "$name: the daemon started no visit: $answer"
        tap=$(jget "$(ui /api/tap '{"for":"end","wait_ms":5000}')" tap)
        answer=$(ui /api/visit/end "{\"tap\":\"$tap\",\"services\":[]}")
        [ "$(jget "$answer" ok)" = true ] || fail "$name: the daemon did not end the visit: $answer"
    done
    answer=$(ui /api/sync '{}')
    [ "$(jget "$answer" ok)" = true ] || fail "the daemon's sync failed: $answer"
    same_chain_as_server
    expect "dda through the daemon" "$(levels_of "${visit[dda]}")" "dynamic//dynamic/"
    expect "cda through the daemon" "$(levels_of "${visit[cda]}")" "dynamic//dynamic/"
    echo "daemon: dda and cda dynamic at both ends"
}

"case_$case_name"
echo "ok: $case_name"
