# Sourced by tools/demo (and tools/cluster demo): the demo's card, data and visit. Each
# step runs what exists in this version of carefact and says plainly what it skipped.
# Expects $root, $var, $build, $pids; $demo_url (default http://$listen) is where the
# terminal and the reader of the result talk to, $demo_ca the CA of an https $demo_url.

# The demo region's card-token key (never a real key: real regions generate theirs).
DEMO_TOKEN_KEY=63617265666163742d64656d6f2d726567696f6e2d746f6b656e2d6b65792121
# The demo card: a synthetic Mir card the project's generator makes (the same bytes on
# every run); demo-data binds it to recipient 1 beside that recipient's Visa card
# (backend/src/demo/demo.c, demo_mir_pan; tests/unit/tools/test_gen_card.c pins it).
DEMO_CARD_OPTIONS=(--scheme mir --seed 35)
DEMO_CARD=$var/demo-card
gen_card=$build/tools/gen-card/carefact-gen-card
sim=$build/tools/pn532-sim/pn532-sim
agent=$build/agent/carefact-agent

# Make the demo card, start pn532-sim with it; sets $sim_dev (pty path) and $sim_ctl
# (a fd writing to its control channel).
demo_start_reader() {
    echo "\$ carefact-gen-card ${DEMO_CARD_OPTIONS[*]} --out $DEMO_CARD"
    "$gen_card" "${DEMO_CARD_OPTIONS[@]}" --out "$DEMO_CARD" ||
        { echo "the demo card could not be made (carefact-gen-card)" >&2; return 1; }
    sed -n 's/^# card: scheme=\([a-z]*\) pan=[0-9]*\([0-9]\{4\}\) expiry=\([0-9-]*\).*/synthetic \1 card •••• \2, valid to \3 (not a real card)/p' "$DEMO_CARD"
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
        # It prints the demo accounts with fresh passwords; the demo reads visits back
        # as the authority and shows both logins for the dashboard.
        "$carefactd" demo-data --db "$db" --token-key-hex "$DEMO_TOKEN_KEY" | tee "$var/demo-data.out"
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
    enroll_code=$("$carefactd" enroll-code --db "$db" --worker "$(psql "$db" -XtAc "SELECT md5('demo:worker:1')::uuid")")
    echo "enrolment code for the terminal of worker Смирнова О. В.: $enroll_code (valid 24 h, one use)"
}

# demo_agent ARGS...: show a command as the worker would type it, then run the agent.
demo_agent() {
    local shown="" a
    for a in "$@"; do
        case "$a" in *" "*) shown+=" \"$a\"" ;; *) shown+=" $a" ;; esac
    done
    echo "\$ carefact-agent$shown"
    "$agent" "$@"
}

# The whole home visit on the terminal of worker 1, with the demo card on the
# emulated reader, then the visit as the backend rebuilt it. The terminal's store is
# made afresh in $var (a new terminal enrolled on each run).
demo_play_visit() {
    export CAREFACT_AGENT_STORE=$var/agent.db
    rm -f "$CAREFACT_AGENT_STORE" "$CAREFACT_AGENT_STORE-wal" "$CAREFACT_AGENT_STORE-shm"
    local url=${demo_url:-http://$listen} reader=pn532_uart:$sim_dev plan visit which
    local tls=()
    [ -z "${demo_ca:-}" ] || tls=(--cacert "$demo_ca")
    local recipient="md5('demo:recipient:1')::uuid"
    plan=$(psql "$db" -XtAc "SELECT id FROM visit_plans WHERE recipient_id = $recipient
           ORDER BY planned_start LIMIT 1")
    which=(--plan "$plan")
    # A demo run on kept data: today's plan is done already, so the visit is unplanned.
    if [ -n "$(psql "$db" -XtAc "SELECT 1 FROM visits WHERE plan_id = '$plan'")" ]; then
        which=(--recipient "$(psql "$db" -XtAc "SELECT $recipient")")
    fi

    say "6. The terminal: enrolment and today's plan (reference data kept for offline work)"
    demo_agent enroll --server "$url" --code "$enroll_code" ${demo_ca:+--ca "$demo_ca"}
    demo_agent plans

    say "7. At the door: the recipient taps their card, the visit starts (offline: nothing is sent yet)"
    demo_agent visit start "${which[@]}" --device "$reader" --wait 10 --lat 59.2215 --lon 39.8921 --accuracy 12

    # The demo does not make you wait for a 52-minute visit: the terminal's monotonic
    # clock is moved on by 52 minutes (the hook the clock tests use), as if they passed.
    export CAREFACT_MONO_OFFSET_MS=$((52 * 60 * 1000))
    say "8. 52 minutes later: services done, the recipient taps again and rates the visit"
    demo_agent visit end --device "$reader" --wait 10 --service HH-SHOP --service MED-BP:2
    demo_agent visit rate --rating 5 --comment "Спасибо, всё хорошо"
    demo_agent status

    say "9. Signal again: one sync sends the signed events"
    demo_agent sync
    unset CAREFACT_MONO_OFFSET_MS

    say "10. The visit as the backend rebuilt it from the recipient-confirmed events"
    visit=$(psql "$db" -XtAc "SELECT id FROM visits WHERE recipient_id = $recipient
            ORDER BY started_at DESC NULLS LAST LIMIT 1")
    local password
    password=$(sed -n 's/^demo account: login authority password \([^ ]*\).*/\1/p' "$var/demo-data.out")
    echo "\$ curl -c cookies -H 'Content-Type: application/json' -d '{\"login\":\"authority\",\"password\":\"…\"}' $url/api/v1/session"
    curl -fsS "${tls[@]}" -c "$var/cookies" -H 'Content-Type: application/json' \
        -d "{\"login\":\"authority\",\"password\":\"$password\"}" "$url/api/v1/session" >/dev/null
    echo "\$ curl -b cookies $url/api/v1/visits/$visit"
    curl -fsS "${tls[@]}" -b "$var/cookies" "$url/api/v1/visits/$visit" | node -e '
        let body = ""; process.stdin.on("data", d => body += d).on("end", () => {
            const v = JSON.parse(body).visit || JSON.parse(body);
            const yes = b => b ? "да" : "нет";
            const states = {started: "идёт", ended: "завершён", rated: "завершён и оценён",
                            cancelled: "отменён", attempted: "не состоялся"};
            console.log(`визит ${v.id}: ${states[v.state] || v.state}`);
            console.log(`длительность ${Math.round(v.duration_s / 60)} мин при норме ${v.expected_minutes} мин`);
            console.log(`услуги: ${v.services.map(s => s.code + " × " + s.quantity).join(", ")}`);
            console.log(`подтверждён картой получателя: в начале ${yes(v.start_confirmed)}, в конце ${yes(v.end_confirmed)}`);
            console.log(`оценка ${v.rating}: «${v.comment}»`);
            console.log(`отметки: ${v.flags.length ? v.flags.join(", ") : "нет"}`);
        });'

    say "11. The payment register of this month (a draft until the month is over): the visit is paid"
    local register
    register=$(psql "$db" -XtAc "SELECT to_char(now() AT TIME ZONE rg.timezone, 'YYYY-MM') || '.' || v.provider_id
               FROM visits v JOIN providers p ON p.id = v.provider_id JOIN regions rg ON rg.id = p.region_id
               WHERE v.id = '$visit'")
    echo "\$ curl -b cookies $url/api/v1/registers/$register"
    curl -fsS "${tls[@]}" -b "$var/cookies" "$url/api/v1/registers/$register" | VISIT=$visit node -e '
        let body = ""; process.stdin.on("data", d => body += d).on("end", () => {
            const g = JSON.parse(body);
            const rub = k => (k / 100).toLocaleString("ru-RU", {minimumFractionDigits: 2}) + " руб.";
            const mine = g.included.filter(l => l.visit_id === process.env.VISIT);
            const states = {draft: "черновик", submitted: "на утверждении", approved: "утверждён"};
            console.log(`реестр ${g.month} (${states[g.state] || g.state}): этот визит — ${mine.length ?
                mine.map(l => `${l.service_code} × ${l.quantity} = ${rub(l.amount_kopecks)}`).join(", ") : "не включён"}`);
            console.log(`всего в реестре: оплачиваемых визитов ${g.included_count}, сумма ${rub(g.total_kopecks)}; исключено визитов: ${g.excluded_count}`);
        });'
    echo
    echo "What you just saw: the recipient's own bank card, read through libnfc's pn532_uart driver,"
    echo "confirmed the start and the end; the terminal kept signed events in its durable queue and"
    echo "sent them in one batch; the backend checked the chain and the seal, rebuilt the visit and"
    echo "checked its length against the services' norms. Only the card's token and last four digits"
    echo "ever left the terminal."
}
