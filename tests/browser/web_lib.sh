# Sourced by the browser tests of the dashboard's and the citizens' pages that need no
# terminal (booking, satisfaction, complaints, brigades, desk): checks Chromium and
# Playwright are there, makes a private folder and PostgreSQL (tools/pg, destroyed on every
# exit path) migrated as the owner, and starts carefactd as carefact_app on a free loopback
# port when asked. Set case_name (the screenshots' prefix: $artifacts/$case_name-*.png)
# before sourcing. Nothing is faked: these only start the real pieces.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
src=$CF_SOURCE_DIR
carefactd=$CF_BINARY_DIR/backend/carefactd
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is not installed: run tools/deps"
[ -d "$src/tests/browser/node_modules/playwright-core" ] ||
    fail "playwright-core is missing: run tools/deps (it runs npm ci in tests/browser)"
work=$(mktemp -d "/tmp/cf${case_name:?set case_name before sourcing web_lib.sh}.XXXXXX")
server_pid=
web_cleanup() {
    [ -z "$server_pid" ] || kill -KILL "$server_pid" 2>/dev/null || true
    "$src/tools/pg" destroy "$work/pg" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap web_cleanup EXIT
artifacts=$CF_BINARY_DIR/tests/browser-artifacts
mkdir -p "$artifacts"
rm -f "$artifacts/$case_name"-*.png

db=$("$src/tools/pg" start "$work/pg" --owner-pid $$)
app_db=$("$src/tools/pg" conninfo "$work/pg" --app)
"$carefactd" migrate --db "$db" >/dev/null
sql() { psql "$db" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

# web_demo_data: the demo's region, offices, providers, workers and catalogue.
web_demo_data() {
    "$carefactd" demo-data --db "$db" --token-key-hex "$(printf '%064d' 7)" >/dev/null
}

# web_server_up: carefactd serving on a free loopback port (a port taken between the pick
# and the bind is tried again); sets $port and $server_pid.
web_server_up() {
    for _ in $(seq 10); do
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        "$carefactd" serve --db "$app_db" --listen "127.0.0.1:$port" --threads 4 >>"$work/carefactd.log" 2>&1 &
        server_pid=$!
        for _ in $(seq 100); do
            curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.05
        done
        kill -KILL "$server_pid" 2>/dev/null || true
        server_pid=
    done
    fail "carefactd did not come up: $(tail -5 "$work/carefactd.log")"
}
