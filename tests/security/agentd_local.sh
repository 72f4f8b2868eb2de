#!/usr/bin/env bash
# carefact-agentd's local security model, one rule at a time over curl (the browser
# test, tests/browser/touch.mjs, shows a page of another origin cannot drive it; here
# each check is shown to hold on its own, so a planted bug in any one fails):
#   bound to 127.0.0.1 only; the start URL file owner-only and new at every start;
#   /start takes only the secret; every /api call needs the cookie; the Host header
#   must be the daemon's own; a foreign Origin or a cross-site Sec-Fetch-Site is
#   refused even with the cookie; a POST must be JSON and carry X-Carefact-UI; no
#   answer carries a CORS header; a refused step leaves the store as it was.
set -euo pipefail
case_name=agentd_local
source "$CF_SOURCE_DIR/tests/e2e/agent_visit_lib.sh"
agentd=$bin/agent/carefact-agentd
[ -x "$agentd" ] || fail "carefact-agentd is not built"

expect() { # expect WHAT GOT WANT
    [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

pg_up
server_up
enroll
server_down KILL
sim_start

stop_agentd() {
    kill -TERM "$agentd_pid"
    wait "$agentd_pid" || fail "carefact-agentd did not stop cleanly on SIGTERM"
}

agentd_up --speech off
expect "start URL file mode" "$(stat -c %a "$work/ui-url")" 600
expect "secret length" "${#ui_secret}" 64
grep -q "$ui_secret" "$work/agentd.out" "$work/agentd.err" && fail "the secret was printed"
# Listening on 127.0.0.1 only.
listening=$(ss -Hltn "sport = :${ui_host#*:}" | awk '{print $4}')
expect "listening address" "$listening" "$ui_host"

# code [CURL ARGS...] URL: the status of one request.
code() { curl -s -o "$work/body" -D "$work/headers" -w '%{http_code}' "$@"; }
api_post() { # api_post PATH BODY [CURL ARGS...]
    local path=$1 body=$2
    shift 2
    code -b "cf_ui=$ui_secret" -H 'Content-Type: application/json' -H 'X-Carefact-UI: 1' -d "$body" "$@" "$ui_base$path"
}

expect "start with a wrong secret" "$(code "$ui_base/start?k=$(printf '0%.0s' $(seq 64))")" 403
expect "start without a secret" "$(code "$ui_base/start")" 403
expect "start with the secret" "$(code "$ui_url")" 303
grep -qi '^set-cookie: cf_ui=.*HttpOnly; SameSite=Strict' "$work/headers" || fail "the cookie is not HttpOnly and SameSite=Strict"
expect "state without the cookie" "$(code "$ui_base/api/state")" 403
# the secret with its last digit changed (to 1 if it was 0, else to 0)
wrong=${ui_secret%?}$([ "${ui_secret: -1}" = 0 ] && echo 1 || echo 0)
expect "state with a wrong cookie" "$(code -b "cf_ui=$wrong" "$ui_base/api/state")" 403
expect "state with the cookie" "$(code -b "cf_ui=$ui_secret" "$ui_base/api/state")" 200
grep -qi '^access-control-' "$work/headers" && fail "an answer carries a CORS header"
grep -qi "^content-security-policy: default-src 'self'" "$work/headers" || fail "no Content-Security-Policy"
expect "another Host" "$(code -b "cf_ui=$ui_secret" -H "Host: localhost:${ui_host#*:}" "$ui_base/api/state")" 403
expect "another Host, the page" "$(code -H "Host: evil.example" "$ui_base/")" 403
expect "a foreign Origin" "$(code -b "cf_ui=$ui_secret" -H "Origin: http://127.0.0.1:1" "$ui_base/api/state")" 403
expect "the own Origin" "$(code -b "cf_ui=$ui_secret" -H "Origin: $ui_base" "$ui_base/api/state")" 200
expect "a cross-site fetch" "$(code -b "cf_ui=$ui_secret" -H "Sec-Fetch-Site: cross-site" "$ui_base/api/state")" 403
expect "a same-site fetch" "$(code -b "cf_ui=$ui_secret" -H "Sec-Fetch-Site: same-site" "$ui_base/api/state")" 403
expect "the page's own fetch" "$(code -b "cf_ui=$ui_secret" -H "Sec-Fetch-Site: same-origin" "$ui_base/api/state")" 200

plan=$(plan_of 1)
attempt="{\"plan_id\":\"$plan\",\"reason\":\"nobody_home\"}"
waiting() { sqlite3 "$CAREFACT_AGENT_STORE" "SELECT count(*) FROM events WHERE acked = 0"; }
before=$(waiting)
expect "a POST without X-Carefact-UI" \
    "$(code -b "cf_ui=$ui_secret" -H 'Content-Type: application/json' -d "$attempt" "$ui_base/api/visit/attempt")" 403
expect "a POST as text/plain" \
    "$(code -b "cf_ui=$ui_secret" -H 'Content-Type: text/plain' -H 'X-Carefact-UI: 1' -d "$attempt" "$ui_base/api/visit/attempt")" 403
expect "a POST as a form" \
    "$(code -b "cf_ui=$ui_secret" -H 'X-Carefact-UI: 1' --data-urlencode "x=$attempt" "$ui_base/api/visit/attempt")" 403
expect "a POST from a foreign Origin" "$(api_post /api/visit/attempt "$attempt" -H 'Origin: http://127.0.0.1:1')" 403
expect "a GET of a step" "$(code -b "cf_ui=$ui_secret" "$ui_base/api/visit/attempt")" 404
survey="{\"visit_id\":\"$plan\",\"answers\":{\"overall\":5}}"
expect "a survey from a foreign Origin" "$(api_post /api/survey "$survey" -H 'Origin: http://127.0.0.1:1')" 403
expect "a survey about no visit of this terminal" "$(api_post /api/survey "$survey")" 200
grep -q '"error":"no_visit"' "$work/body" || fail "a survey about no visit was not refused: $(cat "$work/body")"
expect "events after the refused steps" "$(waiting)" "$before"
expect "the step itself" "$(api_post /api/visit/attempt "$attempt")" 200
grep -q '"ok":true' "$work/body" || fail "the attempt was not recorded: $(cat "$work/body")"
expect "events after the step" "$(waiting)" "$((before + 1))"
expect "a body that is not JSON" "$(api_post /api/visit/attempt 'not json')" 400
expect "an unknown route" "$(api_post /api/visit/nothing '{}')" 404
expect "a tap id never issued" "$(api_post /api/visit/start "{\"plan_id\":\"$(plan_of 2)\",\"tap\":\"00\"}")" 200
grep -q '"error":"no_card"' "$work/body" || fail "a start with a made-up tap was not refused: $(cat "$work/body")"

# A new secret at every start: the old one no longer opens anything.
old=$ui_secret
stop_agentd
[ -e "$work/ui-url" ] && fail "the start URL file outlived the daemon"
agentd_up --speech off
[ "$ui_secret" != "$old" ] || fail "the secret did not change at the restart"
expect "the old secret after a restart" "$(code -b "cf_ui=$old" "$ui_base/api/state")" 403
expect "the new secret" "$(code -b "cf_ui=$ui_secret" "$ui_base/api/state")" 200
echo "agentd_local: every rule holds"
