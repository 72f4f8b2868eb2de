# shellcheck shell=bash
# Sourced by the cluster drills (tests/cluster/*.sh): brings tools/cluster up in a
# short temporary folder, tears it down on exit (whatever happened), and gives the
# drills enrolment codes and terminals. Expects $BUILD (the build tree).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d /tmp/cf-cl.XXXXXX)
chmod 755 "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
cleanup() {
    local rc=$?
    set +e
    [ -z "${loadgen_pid:-}" ] || kill "$loadgen_pid" 2>/dev/null
    [ -z "${slow_pid:-}" ] || kill "$slow_pid" 2>/dev/null
    if [ $rc -ne 0 ] && [ -d "$work/c" ]; then
        "$root/tools/cluster" status "$work/c" >&2 || true
        tail -n 20 "$work"/c/pg*/patroni.log "$work"/c/app*/carefactd.log "$work"/c/restore/server.log >&2 2>/dev/null || true
    fi
    "$root/tools/cluster" destroy "$work/c" >/dev/null 2>&1 || true
    rm -rf "$work"
    exit $rc
}
trap cleanup EXIT

cluster_up() {
    "$root/tools/cluster" up "$work/c" --build-dir "$BUILD" --offline --demo-data >"$work/up.log" 2>&1 ||
        { cat "$work/up.log" >&2; fail "tools/cluster up"; }
    eval "$("$root/tools/cluster" env "$work/c")"
}

sql() { psql "$CLUSTER_DB" -XtAc "$1"; }

# make_terminals N: N enrolment codes (workers 1-3 of provider 1) and its recipients.
make_terminals() {
    local n=$1 i
    # Not recipient 1: the demo's visit (tools/cluster demo) needs their certificate's volume.
    sql "SELECT id FROM recipients WHERE provider_id = md5('demo:provider:1')::uuid
         AND id <> md5('demo:recipient:1')::uuid" >"$work/recipients"
    for i in $(seq "$n"); do
        "$BUILD/backend/carefactd" enroll-code --db "$CLUSTER_DB" \
            --worker "$(sql "SELECT md5('demo:worker:$(((i - 1) % 3 + 1))')::uuid")"
    done >"$work/codes"
}

# start_terminals DEVICES EVENTS BATCH PAUSE_MS: patient terminals through nginx, in the
# background ($loadgen_pid); their acknowledgements go to $work/acked.
start_terminals() {
    "$BUILD/tools/loadgen/carefact-loadgen" --url "$CLUSTER_URL" --cacert "$CLUSTER_CA" \
        --codes "$work/codes" --recipients "$work/recipients" --devices "$1" --events "$2" \
        --batch "$3" --pause-ms "$4" --concurrency "$1" --retry-seconds 240 \
        --acked "$work/acked" >"$work/loadgen.out" 2>"$work/loadgen.err" &
    loadgen_pid=$!
}

# acked_now: events the terminals were acknowledged so far (their progress line).
acked_now() { tr '\r' '\n' <"$work/loadgen.err" | sed -n 's/^loadgen: \([0-9]*\) \/.*/\1/p' | tail -1; }

wait_acked() {
    local want=$1 deadline=$((SECONDS + ${2:-120}))
    until [ "$(acked_now || echo 0)" -ge "$want" ] 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || fail "terminals acknowledged only $(acked_now) events (want $want)"
        kill -0 "$loadgen_pid" 2>/dev/null || fail "loadgen ended early: $(cat "$work/loadgen.err")"
        sleep 0.5
    done
}

# Every acknowledged event is in the database exactly once, and every terminal finished.
check_exactly_once() {
    local events=$1 id max last changes reuploads held distinct top
    while read -r id max last changes reuploads; do
        [ "$last" -eq "$events" ] || fail "terminal $id ended at seq $last of $events"
        read -r held distinct top < <(sql "SELECT count(*), count(DISTINCT seq), coalesce(max(seq), 0)
            FROM events WHERE device_id = '$id'" | tr '|' ' ')
        [ "$held" -eq "$events" ] && [ "$distinct" -eq "$events" ] && [ "$top" -eq "$events" ] ||
            fail "terminal $id: the database holds $held events ($distinct seqs, top $top), acknowledged $max"
    done <"$work/acked"
}
