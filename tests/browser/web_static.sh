#!/usr/bin/env bash
# How carefactd serves the dashboard's files and its live stream, checked with curl
# against the real server: content types, the ETag/304 cache validation, the
# security headers, a configurable web folder (CAREFACT_WEB_DIR), and that no URL --
# dot segments, encoded slashes, hidden names, symlinks, oversized files -- reads a
# file outside the folder. Then the event stream: `ready`, a notification arriving
# as `event: events`, and the cap on concurrent streams (429 problem beyond it).
set -euo pipefail
case_name=web_static
source "$CF_SOURCE_DIR/tests/e2e/agent_visit_lib.sh"

expect() { # expect WHAT GOT WANT
    [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# get PATH [CURL ARGS...]: status in $code, headers in $work/h, body in $work/b.
get() {
    local path=$1
    shift
    rm -f "$work/b" "$work/h"
    code=$(curl -sS --path-as-is -o "$work/b" -D "$work/h" -w '%{http_code}' "$@" "http://127.0.0.1:$port$path")
}
header() {
    grep -i "^$1:" "$work/h" | head -1 | cut -d' ' -f2- | tr -d '\r'
}

# A web folder of our own: a copy of the dashboard, a symlink out of it, a file
# over the size cap and a hidden file.
mkdir -p "$work/web"
cp "$src"/backend/web/* "$work/web/"
ln -s /etc/passwd "$work/web/passwd.js"
head -c $((3 << 20)) /dev/zero >"$work/web/big.js"
echo secret >"$work/web/.env.js"
export CAREFACT_WEB_DIR=$work/web

pg_up
server_up

get /
expect "GET / status" "$code" 200
expect "GET / type" "$(header Content-Type)" "text/html; charset=utf-8"
expect "GET / cache" "$(header Cache-Control)" "no-cache"
expect "GET / nosniff" "$(header X-Content-Type-Options)" "nosniff"
header Content-Security-Policy | grep -q "default-src 'self'" || fail "no Content-Security-Policy on /"
cmp -s "$work/b" "$src/backend/web/index.html" || fail "GET / is not index.html"
etag=$(header ETag)
[ -n "$etag" ] || fail "no ETag on /"
get / -H "If-None-Match: $etag"
expect "revalidation" "$code" 304
[ ! -s "$work/b" ] || fail "a 304 carried a body"
echo "changed" >>"$work/web/index.html"
get / -H "If-None-Match: $etag"
expect "changed file after revalidation" "$code" 200

for f in app.js:text/javascript charts.js:text/javascript style.css:text/css; do
    get "/web/${f%%:*}"
    expect "GET /web/${f%%:*}" "$code" 200
    expect "type of ${f%%:*}" "$(header Content-Type)" "${f#*:}; charset=utf-8"
done

for path in /web/../../../../etc/passwd /web/..%2f..%2f..%2fetc%2fpasswd /web/%2e%2e%2fbackend%2fsrc%2fweb.c \
    /web/passwd.js /web/big.js /web/.env.js /web/APP.JS /web/missing.js /web/app.sh \
    /web/ /web/..%5c..%5cetc%5cpasswd /../../etc/passwd /index.html%2f..%2f..%2fetc%2fpasswd; do
    get "$path"
    case "$code" in 404 | 400) ;; *) fail "$path: status $code, want 404" ;; esac
    ! grep -q "root:\|secret\|#include" "$work/b" || fail "$path served a file from outside the web folder"
    [ "$code" = 400 ] || expect "$path problem type" "$(header Content-Type)" "application/problem+json"
done
# civetweb decodes %00 before routing, which cuts the name at the NUL: the request
# can only name a file of the folder, served as what it is.
get /web/app.js%00.html
[ "$code" = 404 ] || expect "app.js%00.html type" "$(header Content-Type)" "text/javascript; charset=utf-8"
get / -X POST
expect "POST /" "$code" 405

# The stream is for signed-in people only.
get /api/v1/stream --max-time 4
expect "stream without a session" "$code" 401
sign_in
# The stream: ready at once, a NOTIFY from the database as an event.
curl -sN --max-time 4 -b "$work/cookies" "http://127.0.0.1:$port/api/v1/stream" >"$work/s1" 2>/dev/null &
s1=$!
for _ in $(seq 50); do grep -q "event: ready" "$work/s1" && break; sleep 0.05; done
grep -q "event: ready" "$work/s1" || fail "the stream sent no ready event"
sql "SELECT pg_notify('carefact_events', '{\"device_id\":\"d\",\"stored\":3}')" >/dev/null
for _ in $(seq 50); do grep -q "event: events" "$work/s1" && break; sleep 0.05; done
grep -q '^data: {"device_id":"d","stored":3}$' "$work/s1" || fail "the notification did not reach the stream: $(cat "$work/s1")"

# --threads 4: at most 2 streams; the third is refused with a problem, not hung.
curl -sN --max-time 4 -b "$work/cookies" "http://127.0.0.1:$port/api/v1/stream" >"$work/s2" 2>/dev/null &
s2=$!
for _ in $(seq 50); do grep -q "event: ready" "$work/s2" && break; sleep 0.05; done
get /api/v1/stream -b "$work/cookies" --max-time 4
expect "third stream" "$code" 429
expect "third stream type" "$(header Content-Type)" "application/problem+json"
wait "$s1" "$s2" || true
# The server notices a closed stream at its next keep-alive writes (every 2 s).
for _ in $(seq 20); do
    get /api/v1/stream -b "$work/cookies" --max-time 1 || true
    [ "$code" = 429 ] || break
    sleep 0.5
done
expect "a slot is free again after streams end" "$(grep -c 'event: ready' "$work/b")" 1
echo "web files, cache validation, traversal refusals and the live stream behave"
