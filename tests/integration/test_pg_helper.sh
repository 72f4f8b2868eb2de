#!/usr/bin/env bash
# Integration test of tools/pg: a private cluster starts, serves the application
# role (not a superuser), survives stop/start with its data, and is removed by the
# watchdog once its owner process dies. Run as root it also runs the helper as an
# ordinary user (nobody), the other way it must work.
set -euo pipefail
pg="$CF_SOURCE_DIR/tools/pg"
fail() { echo "FAIL: $*" >&2; exit 1; }
dirs=()
trap 'for d in "${dirs[@]}"; do "$pg" destroy "$d" >/dev/null 2>&1 || true; done' EXIT

dir=$(mktemp -d /tmp/cfpg.XXXXXX); dirs+=("$dir")
conn=$("$pg" start "$dir")
[ "$conn" = "host=$dir port=5432 dbname=carefact user=carefact" ] || fail "unexpected conninfo: $conn"
[ "$(psql "$conn" -XtAc 'SELECT current_user')" = carefact ] || fail "not connected as carefact"
[ "$(psql "$conn" -XtAc "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")" = f ] ||
    fail "application role must not be a superuser"
psql "$conn" -Xqc "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('после перезапуска')"
"$pg" stop "$dir"
psql "$conn" -XtAc 'SELECT 1' >/dev/null 2>&1 && fail "server still answers after stop"
"$pg" start "$dir" >/dev/null
[ "$(psql "$conn" -XtAc 'SELECT v FROM kept')" = "после перезапуска" ] || fail "data lost across restart"
[ "$("$pg" conninfo "$dir" --superuser)" = "host=$dir port=5432 dbname=carefact user=postgres" ] ||
    fail "superuser conninfo wrong"

# Two clusters side by side do not collide.
dir2=$(mktemp -d /tmp/cfpg.XXXXXX); dirs+=("$dir2")
conn2=$("$pg" start "$dir2")
psql "$conn2" -XtAc 'SELECT 1' >/dev/null || fail "second cluster not reachable"
psql "$conn2" -XtAc 'SELECT 1 FROM kept' >/dev/null 2>&1 && fail "second cluster sees the first one's data"

# Watchdog: the cluster goes away once the owner process exits.
sleep 30 & owner=$!
dir3=$(mktemp -d /tmp/cfpg.XXXXXX); dirs+=("$dir3")
"$pg" start "$dir3" --owner-pid "$owner" >/dev/null
kill "$owner"; wait "$owner" 2>/dev/null || true
for _ in $(seq 30); do [ -d "$dir3" ] || break; sleep 0.5; done
[ ! -d "$dir3" ] || fail "watchdog did not remove the cluster of a dead owner"

if [ "$(id -u)" -eq 0 ]; then
    dir4=$(mktemp -d /tmp/cfpg.XXXXXX); dirs+=("$dir4")
    chown nobody: "$dir4"
    conn4=$(setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=/tmp "$pg" start "$dir4")
    psql "$conn4" -XtAc 'SELECT 1' >/dev/null || fail "cluster started by an ordinary user not reachable"
    owner_uid=$(stat -c %u "$dir4/data")
    [ "$owner_uid" = "$(id -u nobody)" ] || fail "ordinary user's cluster not owned by that user"
    setpriv --reuid=nobody --regid=nogroup --clear-groups "$pg" stop "$dir4"
fi
echo "tools/pg: all checks passed"
