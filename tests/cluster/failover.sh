#!/usr/bin/env bash
# Failover drill (label cluster): terminals upload continuously through nginx to two
# carefactd; the primary's postmaster is killed with kill -9; Patroni promotes the
# synchronous standby; carefactd re-dials (its multi-host string finds the new primary);
# the terminals go on. Afterwards every acknowledged event is in the database exactly
# once, the epoch is the one before (no terminal re-uploads: a clean synchronous failover
# loses nothing, sql/0018_epoch_lineage.sql) and the old primary is back as a standby.
# Then the demo's home visit goes through the failed-over cluster (tools/cluster demo).
#   failover.sh BUILD_DIR
BUILD=$(cd "${1:?usage: failover.sh BUILD_DIR}" && pwd)
source "$(dirname "$0")/lib.sh"

devices=8 events=600
cluster_up
make_terminals $devices
epoch_before=$(sql "SELECT database_epoch()")
old=$(curl -s "http://127.0.0.1:$API1_PORT/primary" -o /dev/null -w '%{http_code}')
[ "$old" = 200 ] && old=1 || old=2
# One of the three etcd members dies before the load starts (so the terminals are still
# uploading when the primary dies below): the other two keep the quorum, so Patroni keeps
# its leader lock and can still fail over (with one member, this alone stopped the cluster).
etcd_pid=$(head -1 "$CLUSTER_DIR/etcd/2/pid")
kill -9 "$etcd_pid"
echo "killed etcd member 2 (pid $etcd_pid)"
# (if it was the leader, the other two elect a new one within a few seconds)
deadline=$((SECONDS + 20))
until curl -fs --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" | grep -q true; do
    [ $SECONDS -lt $deadline ] || fail "etcd lost its quorum with one member of three down"
    sleep 0.5
done

start_terminals $devices $events 10 20
wait_acked $((devices * events / 4))

postmaster=$(head -1 "$CLUSTER_DIR/pg$old/data/postmaster.pid")
before=$(acked_now)
t0=$(date +%s.%N)
kill -9 "$postmaster"
echo "killed the primary pg$old's postmaster (pid $postmaster) at $before acknowledged events"
new=$((3 - old))
api=$(eval echo "\$API${new}_PORT")
deadline=$((SECONDS + 90))
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$api/primary")" = 200 ]; do
    [ $SECONDS -lt $deadline ] || fail "pg$new was not promoted in 90 s"
    sleep 0.2
done
t1=$(date +%s.%N)
wait_acked $((before + devices * 10)) 120
t2=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "figure: promotion %.1f s after the kill; terminals acknowledged again %.1f s after it\n", b - a, c - a }'

wait "$loadgen_pid" || fail "the terminals did not finish: $(tail -3 "$work/loadgen.err")"
loadgen_pid=
cat "$work/loadgen.out"
check_exactly_once $events
read -r changes reuploads < <(awk '{c += $4; r += $5} END {print c + 0, r + 0}' "$work/acked")
[ "$changes" -eq 0 ] || fail "the terminals saw $changes epoch changes over a clean failover"
[ "$reuploads" -eq 0 ] || fail "the terminals re-uploaded $reuploads times over a clean failover"
[ "$(sql "SELECT database_epoch()")" = "$epoch_before" ] || fail "the failover changed the epoch"
[ "$(sql "SELECT count(*) FROM events")" -eq $((devices * events)) ] || fail "events in the database: $(sql "SELECT count(*) FROM events")"

# The old primary rejoins as the new standby (pg_rewind), synchronous again.
deadline=$((SECONDS + 120))
api=$(eval echo "\$API${old}_PORT")
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$api/sync")" = 200 ]; do
    [ $SECONDS -lt $deadline ] || fail "pg$old did not come back as the synchronous standby"
    sleep 1
done
"$root/tools/cluster" status "$CLUSTER_DIR"

# The demo's home visit (agent, emulated reader, HTTPS pinned to the cluster's CA) goes
# through the cluster that just failed over.
"$root/tools/cluster" demo "$CLUSTER_DIR" >"$work/demo.log" 2>&1 ||
    { tail -30 "$work/demo.log" >&2; fail "the demo's visit through the cluster"; }
grep -q "подтверждён картой получателя: в начале да, в конце да" "$work/demo.log" ||
    { tail -30 "$work/demo.log" >&2; fail "the demo's visit was not confirmed through the cluster"; }
grep -q "этот визит — HH-SHOP" "$work/demo.log" || fail "the demo's visit is not in the register"

# The visit list is a heavy read: carefactd serves it from the standby (db-read,
# prefer-standby), and it answers there with what the primary acknowledged.
password=$(sed -n 's/^demo account: login authority password \([^ ]*\).*/\1/p' "$CLUSTER_DIR/demo/demo-data.out")
curl -fsS --cacert "$CLUSTER_CA" -c "$work/cookies" -H 'Content-Type: application/json' \
    -d "{\"login\":\"authority\",\"password\":\"$password\"}" "$CLUSTER_URL/api/v1/session" >/dev/null
for _ in 1 2 3 4; do
    curl -fsS --cacert "$CLUSTER_CA" -b "$work/cookies" "$CLUSTER_URL/api/v1/visits?limit=5" >"$work/list.json" ||
        fail "the visit list through the cluster"
done
grep -q '"items"' "$work/list.json" || fail "the visit list: $(head -c 300 "$work/list.json")"
standby_port=$(eval echo "\$PG${old}_PORT")
standby_db=$(sed "s/host=127.0.0.1,127.0.0.1 port=[0-9,]*/host=127.0.0.1 port=$standby_port/; s/target_session_attrs=read-write/target_session_attrs=any/" <<<"$CLUSTER_DB")
[ "$(psql "$standby_db" -XtAc "SELECT pg_is_in_recovery()")" = t ] || fail "pg$old is not the standby"
readers=$(psql "$standby_db" -XtAc "SELECT count(*) FROM pg_stat_activity WHERE usename = 'carefact_app'")
[ "$readers" -ge 1 ] || fail "no carefactd connection on the standby after the visit list (db-read)"
echo "the visit list was read from the standby pg$old ($readers carefactd connections there)"
echo "PASS: $((devices * events)) events acknowledged, each held once; epoch kept across the failover"
