# Sourced by tests/e2e/agent_visit.sh: the real pieces of an agent end-to-end test,
# each started in a private folder and stopped on every exit path -- a private
# PostgreSQL (tools/pg, destroyed by its watchdog even if this shell is killed),
# carefactd on a free loopback port, the PN532 emulator on a pty (the agent reads
# cards through libnfc's own driver), the fault proxy, and carefact-agent itself.
# Nothing here is faked: the helpers only start things and look at their results.

bin=${CF_BINARY_DIR:?CF_BINARY_DIR must point at the build folder}
src=${CF_SOURCE_DIR:?CF_SOURCE_DIR must point at the source folder}
# shellcheck source=../../tools/lib/port.sh
. "$src/tools/lib/port.sh"
testdata=${CF_TESTDATA:-$src/tests/data} # the project's own card transcripts
agent_bin=$bin/agent/carefact-agent
carefactd=$bin/backend/carefactd
sim_bin=$bin/tools/pn532-sim/pn532-sim
proxy_bin=$bin/tests/fault_proxy
transcripts=$testdata/emv/devnied
# The demo region's token key: demo-data binds the emulator's cards with it.
KEY=63617265666163742d64656d6f2d726567696f6e2d746f6b656e2d6b65792121

work=$(mktemp -d /tmp/cfav.XXXXXX) # short: the PostgreSQL socket lives inside
export CAREFACT_AGENT_STORE=$work/agent.db
export CAREFACT_BOOT_ID=${CAREFACT_BOOT_ID:-6b3c2a10-0d1e-4f2a-9b3c-4d5e6f708192}
unset CAREFACT_WALL_OFFSET_MS CAREFACT_MONO_OFFSET_MS LIBNFC_DEVICE
# carefactd's TLS settings, and curl's for its health check (set by the HTTPS case).
server_tls=() server_curl=() server_scheme=http
db= app_db= port= server_pid= sim_pid= holder_pid= proxy_pid= proxy_port= dev=
case_name=${case_name:-agent}
on_cleanup=() # extra commands (a tmux server, a mount) undone on exit

cleanup() {
    local status=$?
    trap - EXIT
    set +e
    local extra
    for extra in "${on_cleanup[@]}"; do
        eval "$extra" >/dev/null 2>&1
    done
    [ -n "$server_pid" ] && kill -KILL "$server_pid" 2>/dev/null
    [ -n "$proxy_pid" ] && kill -KILL "$proxy_pid" 2>/dev/null
    sim_stop
    if [ $status -ne 0 ]; then
        for f in "$work"/carefactd.log "$work"/sim.err "$work"/proxy.log "$work"/last.out "$work"/last.err \
            "$work"/agentd.err; do
            [ -s "$f" ] && { echo "--- $(basename "$f") (last 25 lines)" >&2; tail -25 "$f" >&2; }
        done
    fi
    "$src/tools/pg" destroy "$work/pg" >/dev/null 2>&1 || true
    rm -rf "$work"
    exit $status
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
    echo "FAIL [$case_name]: $*" >&2
    exit 1
}

# ==== PostgreSQL and carefactd ====

pg_up() {
    db=$("$src/tools/pg" start "$work/pg" --owner-pid $$)
    # carefactd serves as the app role (it refuses the owner); $db is the owner's.
    app_db=$("$src/tools/pg" conninfo "$work/pg" --app)
    "$carefactd" migrate --db "$db" >/dev/null
    # demo-data prints the demo accounts; the authority reads visits back.
    "$carefactd" demo-data --db "$db" --token-key-hex "$KEY" >"$work/demo-data.out"
    authority_password=$(sed -n 's/^demo account: login authority password \([^ ]*\).*/\1/p' \
        "$work/demo-data.out")
}

# sign_in: a session of the demo authority in $work/cookies (made once per server start).
sign_in() {
    if [ ! -s "$work/cookies" ] || ! curl -fsS -b "$work/cookies" \
        "http://127.0.0.1:$port/api/v1/session" >/dev/null 2>&1; then
        curl -fsS -c "$work/cookies" -X POST "http://127.0.0.1:$port/api/v1/session" \
            -H 'Content-Type: application/json' -d "{\"login\":\"authority\",\"password\":\"$authority_password\"}" >/dev/null ||
            fail "cannot sign in as the demo authority"
    fi
}

# api_get PATH: GET as the demo authority.
api_get() {
    sign_in
    curl -fsS -b "$work/cookies" "http://127.0.0.1:$port$1"
}

sql() {
    psql "$db" -XtAq -v ON_ERROR_STOP=1 -c "$1"
}

# server_up: start carefactd on $port (a new free port the first time; the same
# port on a restart, since the agent keeps the server's URL).
server_up() {
    local tries=0
    while :; do
        [ -n "$port" ] || port=$(cf_pick_port)
        "$carefactd" serve --db "$app_db" --listen "127.0.0.1:$port" --threads 4 "${server_tls[@]}" \
            >>"$work/carefactd.log" 2>&1 &
        server_pid=$!
        for _ in $(seq 100); do
            curl -fsS "${server_curl[@]}" "$server_scheme://127.0.0.1:$port/healthz" >/dev/null 2>&1 &&
                return 0
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.05
        done
        kill -KILL "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null || true
        server_pid=
        tries=$((tries + 1))
        [ $tries -lt 10 ] || fail "carefactd did not come up (log: $work/carefactd.log)"
        [ -n "${keep_port:-}" ] || port=
        sleep 0.2
    done
}

# server_down [SIGNAL]: stop carefactd (TERM drains requests; KILL does not).
server_down() {
    [ -n "$server_pid" ] || return 0
    kill "-${1:-TERM}" "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
}

server_restart() {
    keep_port=1 server_up
}

# ==== The fault proxy ====

proxy_up() {
    echo pass >"$work/proxy.mode"
    local tries=0
    while :; do
        [ -n "${keep_proxy_port:-}" ] || proxy_port=$(cf_pick_port)
        coproc PROXY { exec "$proxy_bin" --listen "$proxy_port" --upstream "$port" \
            --mode-file "$work/proxy.mode" --log "$work/proxy.log" 2>>"$work/proxy.err"; }
        proxy_pid=$PROXY_PID
        local line=
        read -r -t 5 -u "${PROXY[0]}" line || true
        [ "$line" = ready ] && return 0
        kill -KILL "$proxy_pid" 2>/dev/null
        proxy_pid=
        tries=$((tries + 1))
        [ $tries -lt 5 ] || fail "fault_proxy did not start"
    done
}

proxy_down() {
    [ -n "$proxy_pid" ] || return 0
    kill -KILL "$proxy_pid" 2>/dev/null || true
    wait "$proxy_pid" 2>/dev/null || true
    proxy_pid=
}

proxy_mode() {
    echo "$*" >"$work/proxy.mode"
}

# ==== The emulated reader ====

# sim_start ARGS...: pn532-sim on a pty, its control channel on a fifo kept open by
# a holder process; sets $dev (the pty).
sim_start() {
    rm -f "$work/sim.ctl" "$work/sim.out"
    mkfifo "$work/sim.ctl"
    sleep 100000 >"$work/sim.ctl" &
    holder_pid=$!
    "$sim_bin" "$@" <"$work/sim.ctl" >"$work/sim.out" 2>>"$work/sim.err" &
    sim_pid=$!
    for _ in $(seq 100); do
        dev=$(head -1 "$work/sim.out" 2>/dev/null || true)
        case "$dev" in /dev/pts/*) return 0 ;; esac
        sleep 0.05
    done
    fail "pn532-sim printed no pty path"
}

sim_stop() {
    local pid
    for pid in $sim_pid $holder_pid; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    sim_pid= holder_pid=
}

# ==== The touch UI's daemon ====

# agentd_up ARGS...: carefact-agentd on the emulated reader (ARGS: its speech options),
# the start URL in $work/ui-url; waits until it is ready and sets $agentd_pid, $ui_url
# (the start URL with the secret), $ui_base (http://127.0.0.1:PORT), $ui_host and
# $ui_secret. Killed on exit if still running.
agentd_up() {
    rm -f "$work/agentd.out"
    "$bin/agent/carefact-agentd" --device "pn532_uart:$dev" --secret-file "$work/ui-url" "$@" \
        >"$work/agentd.out" 2>"$work/agentd.err" &
    agentd_pid=$!
    on_cleanup+=("kill -KILL $agentd_pid")
    for _ in $(seq 100); do
        grep -q '^ready ' "$work/agentd.out" 2>/dev/null && break
        sleep 0.05
    done
    grep -q '^ready ' "$work/agentd.out" || fail "carefact-agentd did not start: $(cat "$work/agentd.err")"
    ui_url=$(cat "$work/ui-url")
    ui_base=${ui_url%%/start*}
    ui_host=${ui_base#http://}
    ui_secret=${ui_url##*k=}
}

# sim_ctl COMMAND...: one control line; waits for the emulator's "ok" answer.
sim_ctl() {
    local before after
    before=$(wc -l <"$work/sim.out")
    echo "$*" >"$work/sim.ctl"
    for _ in $(seq 100); do
        after=$(wc -l <"$work/sim.out")
        [ "$after" -gt "$before" ] && break
        sleep 0.02
    done
    tail -1 "$work/sim.out" | grep -q '^ok' || fail "pn532-sim refused '$*': $(tail -1 "$work/sim.out")"
}

# The demo's cards: recipient 1..6 hold the bank cards of these transcripts, the
# others the UID cards 04 D3 00 nn (backend/src/demo/demo.c; recipient 1 also the demo's Mir card).
card_of() {
    local n=$1
    case $n in
    1) sim_ctl card transcript "$transcripts/VisaCardPpse" ;;
    2) sim_ctl card transcript "$transcripts/MasterCardPpse" ;;
    3) sim_ctl card transcript "$transcripts/MasterCardPpse3" ;;
    4) sim_ctl card transcript "$transcripts/VisaCardAid" ;;
    *) sim_ctl card uid "$(printf '04D300%02X' "$n")" sak 08 ;;
    esac
}

# ==== The agent ====

# agent ARGS...: run carefact-agent (bounded), stdout in $out and $work/last.out,
# exit status in $rc. Never fails the shell by itself.
agent() {
    set +e
    timeout 120 "$agent_bin" "$@" >"$work/last.out" 2>"$work/last.err"
    rc=$?
    set -e
    out=$(cat "$work/last.out")
    err=$(cat "$work/last.err")
    [ $rc -ne 124 ] || fail "carefact-agent $1 hung"
    [ $rc -lt 128 ] || fail "carefact-agent $1 died of signal $((rc - 128))"
}

# agent_ok ARGS...: as agent, and it must succeed.
agent_ok() {
    agent "$@"
    [ $rc -eq 0 ] || fail "carefact-agent $* failed ($rc): $err $out"
}

# jget JSON PATH: a value from JSON text ("a.b.0.c"); "" for null or absent.
jget() {
    node -e '
        let v = JSON.parse(process.argv[1]);
        for (const k of process.argv[2].split(".")) v = v == null ? undefined : v[k];
        process.stdout.write(v === undefined || v === null ? "" : String(v));' "$1" "$2"
}

worker_id() {
    sql "SELECT md5('demo:worker:${1:-1}')::uuid"
}

recipient_id() {
    sql "SELECT md5('demo:recipient:$1')::uuid"
}

plan_of() {
    sql "SELECT id FROM visit_plans WHERE recipient_id = md5('demo:recipient:$1')::uuid
         ORDER BY planned_start LIMIT 1"
}

# enroll [URL]: a fresh code for worker 1 and `carefact-agent enroll`.
enroll() {
    local code
    code=$("$carefactd" enroll-code --db "$db" --worker "$(worker_id 1)")
    agent_ok enroll --server "${1:-http://127.0.0.1:$port}" --code "$code" --json
    device_id=$(jget "$out" device_id)
    [ -n "$device_id" ] || fail "enroll gave no device id: $out"
}

# Events the server holds from this device.
server_events() {
    sql "SELECT count(*) FROM events WHERE device_id = '$device_id'"
}

# The agent's (seq, digest) list and the server's must be the same, in full.
same_chain_as_server() {
    local mine theirs
    mine=$(sqlite3 "$CAREFACT_AGENT_STORE" "SELECT seq || ' ' || lower(hex(digest)) FROM events ORDER BY seq")
    theirs=$(sql "SELECT seq || ' ' || encode(digest, 'hex') FROM events WHERE device_id = '$device_id' ORDER BY seq")
    [ "$mine" = "$theirs" ] || {
        diff <(echo "$mine") <(echo "$theirs") | head -10 >&2 || true
        fail "the server's events differ from the terminal's"
    }
}

status_json() {
    agent_ok status --json
    status=$out
}
