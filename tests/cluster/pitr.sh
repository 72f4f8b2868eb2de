#!/usr/bin/env bash
# Point-in-time restore drill (label cluster): terminals upload through nginx; the
# database is restored by pgBackRest (full backup + WAL archive) to a moment in the
# middle of their uploads, while they keep trying. The restored database has a new epoch
# (tools/cluster restore runs new_database_epoch()); the terminals see it, find the
# server holds less than it acknowledged and upload that again. Afterwards every event
# is in the database exactly once.
#   pitr.sh BUILD_DIR
BUILD=$(cd "${1:?usage: pitr.sh BUILD_DIR}" && pwd)
source "$(dirname "$0")/lib.sh"

devices=4 events=1200
cluster_up
make_terminals $devices
epoch_before=$(sql "SELECT database_epoch()")
start_terminals $devices $events 5 150
wait_acked $((devices * events / 5))
target=$(sql "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")
at_target=$(sql "SELECT count(*) FROM events")
wait_acked $((devices * events * 2 / 5))
before_restore=$(acked_now)
echo "restore point $target with $at_target events held; restoring at $before_restore acknowledged"
t0=$SECONDS
"$root/tools/cluster" restore "$CLUSTER_DIR" --to "$target" >"$work/restore.log" 2>&1 ||
    { cat "$work/restore.log" >&2; fail "tools/cluster restore"; }
echo "figure: restore (stop, pgBackRest restore, replay, new epoch, new standby, full backup) took $((SECONDS - t0)) s"
epoch_after=$(sql "SELECT database_epoch()")
[ "$epoch_after" != "$epoch_before" ] || fail "the restore kept the epoch $epoch_before"

wait "$loadgen_pid" || fail "the terminals did not finish: $(tail -3 "$work/loadgen.err")"
loadgen_pid=
cat "$work/loadgen.out"
check_exactly_once $events
while read -r id max last changes reuploads; do
    [ "$changes" -ge 1 ] || fail "terminal $id did not see the new epoch"
    [ "$reuploads" -ge 1 ] || fail "terminal $id did not upload again what the restore lost"
done <"$work/acked"
echo "PASS: restored to $target (held $at_target events then); every terminal saw epoch $epoch_after and re-uploaded; $((devices * events)) events held once each"
