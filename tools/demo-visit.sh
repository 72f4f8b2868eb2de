# Sourced by tools/demo: the demo's card, data and visit. Each step runs what exists
# in this version of carefact and says plainly what it skipped. Expects $root,
# $var, $build, $pids from tools/demo.

# The demo region's card-token key (never a real key: real regions generate theirs).
DEMO_TOKEN_KEY=63617265666163742d64656d6f2d726567696f6e2d746f6b656e2d6b65792121
DEMO_CARD=${CF_SHARED_TESTDATA:-$root/../shared/testdata}/emv/devnied/VisaCardPpse
sim=$build/tools/pn532-sim/pn532-sim
agent=$build/agent/carefact-agent

# Start pn532-sim with the demo card; sets $sim_dev (pty path) and $sim_ctl (a fd
# writing to its control channel).
demo_start_reader() {
    [ -f "$DEMO_CARD" ] || { echo "demo card transcript not found: $DEMO_CARD" >&2; return 1; }
    mkfifo "$var/sim.ctl" 2>/dev/null || true
    "$sim" --transcript "$DEMO_CARD" <"$var/sim.ctl" >"$var/sim.out" 2>"$var/sim.err" &
    pids+=($!)
    exec {sim_ctl}>"$var/sim.ctl"
    for _ in $(seq 50); do
        sim_dev=$(head -1 "$var/sim.out" 2>/dev/null)
        [ -n "$sim_dev" ] && break
        sleep 0.1
    done
    [ -n "$sim_dev" ] || { cat "$var/sim.err" >&2; echo "pn532-sim did not start" >&2; return 1; }
    echo "emulated PN532 reader on $sim_dev (libnfc connstring pn532_uart:$sim_dev)"
}

demo_read_card() {
    demo_start_reader
    echo "$ carefact-agent read-card --device pn532_uart:$sim_dev --token-key-hex <demo key> --json"
    card_json=$("$agent" read-card --device "pn532_uart:$sim_dev" --token-key-hex "$DEMO_TOKEN_KEY" --wait 10 --json)
    echo "$card_json"
    card_token=$(sed -n 's/.*"token":"\([A-Za-z0-9_-]*\)".*/\1/p' <<<"$card_json")
    echo "(the card number itself was only in the agent's memory: only the token and the last four digits leave it)"
}

demo_load_data() {
    if "$carefactd" help 2>&1 | grep -q demo-data; then
        "$carefactd" demo-data --db "$db" --token-key-hex "$DEMO_TOKEN_KEY"
    else
        echo "demo data: not available in this version"
    fi
}

# Who is this card? The backend's own data answers, by token.
demo_identify() {
    local who
    who=$(psql "$db" -XtAc "SELECT r.full_name || ' (' || r.address || ')' FROM card_bindings b
          JOIN recipients r ON r.id = b.recipient_id
          WHERE b.token = '$card_token' AND b.status = 'active'")
    echo "card token $card_token belongs to: ${who:-nobody (unknown card)}"
    local code
    code=$("$carefactd" enroll-code --db "$db" --worker "$(psql "$db" -XtAc "SELECT md5('demo:worker:1')::uuid")")
    echo "enrolment code for the terminal of worker Смирнова О. В.: $code (valid 24 h, one use)"
}

demo_play_visit() {
    if ! "$agent" help 2>&1 | grep -q '^  visit'; then
        echo "agent: the visit workflow (issue 5) is not in this version, so no visit is played"
        return 0
    fi
}
