#!/usr/bin/env bash
# Browser test of the manager dashboard: the real carefactd on a private PostgreSQL
# with the demo data, the real agent reading the emulated card, and Debian's
# Chromium driven headless by Playwright (dashboard.mjs). The page is opened first;
# then the worker starts a visit and syncs to another carefactd instance on the same
# database, and the page must show it by itself (server-sent events fed by
# LISTEN/NOTIFY, no reload); then the worker ends it after a few seconds and
# the page must show the early-leave flag (the recipient rates it low, and the page must show
# that rating and the worker's figures for the month); the manager corrects a visit of last month, reads the
# recipient's statement, checks the payment register and its CSV/JSON and submits it,
# and the authority approves it (the parts in api/openapi.yaml). Screenshots go to
# $CF_BINARY_DIR/tests/browser-artifacts. The two processes hand over through
# files in the work folder (browser.ready, started, seen, ended).
set -euo pipefail
case_name=dashboard
source "$CF_SOURCE_DIR/tests/e2e/agent_visit_lib.sh"

# What the test needs is installed by tools/deps (tools/check runs it before the
# suite). Missing, the test fails rather than skips: a skipped browser test reads as
# a pass in a summary, and a test must not install anything itself.
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is not installed: run tools/deps"
[ -d "$src/tests/browser/node_modules/playwright-core" ] ||
    fail "playwright-core is missing: run tools/deps (it runs npm ci in tests/browser)"

artifacts=$bin/tests/browser-artifacts
mkdir -p "$artifacts"
rm -f "$artifacts"/dashboard-*.png

# wait_file NAME: the browser's side reached a step (or died trying).
wait_file() {
    for _ in $(seq 600); do
        [ -e "$work/$1" ] && return 0
        if ! kill -0 "$browser_pid" 2>/dev/null; then
            wait "$browser_pid" || true
            cat "$work/browser.log" >&2
            fail "the browser script stopped before '$1'"
        fi
        sleep 0.1
    done
    fail "the browser script never reached '$1'"
}

# second_server: another carefactd on the same database for the browser. The agent
# syncs to the first, so the page can only learn of the visit through the database
# (LISTEN/NOTIFY), as behind a load balancer.
second_server() {
    local pid2
    for _ in $(seq 10); do
        port2=$(cf_pick_port)
        "$carefactd" serve --db "$app_db" --listen "127.0.0.1:$port2" --threads 4 >>"$work/carefactd2.log" 2>&1 &
        pid2=$!
        on_cleanup+=("kill -KILL $pid2")
        for _ in $(seq 100); do
            curl -fsS "http://127.0.0.1:$port2/healthz" >/dev/null 2>&1 && return 0
            kill -0 "$pid2" 2>/dev/null || break
            sleep 0.05
        done
        kill -KILL "$pid2" 2>/dev/null || true
    done
    fail "the second carefactd did not come up"
}

pg_up
server_up
second_server
enroll
sim_start --transcript "$transcripts/VisaCardPpse"

# A visit of last month (the terminal's wall clock set back to the 15th, 40 minutes
# long): a register is submitted only once its month has
# ended, so the register part of the test works on that month. HH-SHOP×1 recorded;
# the page corrects it to 2.
now_ms=$(date +%s%3N)
back=$(($(date -d "$(date +%Y-%m-01) -1 month +14 days 10:00" +%s) * 1000 - now_ms))
# A boot of its own: its monotonic clock, moved on 40 minutes, meets no other visit's.
old_boot=0c7a1e52-3d4b-4f6a-8e9d-1a2b3c4d5e6f
CAREFACT_BOOT_ID=$old_boot CAREFACT_WALL_OFFSET_MS=$back \
    agent_ok visit start --recipient "$(recipient_id 1)" --device "pn532_uart:$dev" --wait 10 --json
old_visit=$(jget "$out" visit_id)
CAREFACT_BOOT_ID=$old_boot CAREFACT_WALL_OFFSET_MS=$((back + 40 * 60000)) CAREFACT_MONO_OFFSET_MS=$((40 * 60000)) \
    agent_ok visit end --device "pn532_uart:$dev" --wait 10 --service HH-SHOP
agent_ok sync --json

# The manager of the demo provider signs in (demo-data printed the password).
manager_password=$(sed -n 's/^demo account: login manager1 password \([^ ]*\).*/\1/p' "$work/demo-data.out")
# The department's account approves the register; the contract says which API parts
# the page must use (dashboard.mjs reads it).
# A spare terminal of the demo provider's second worker, for the devices page to revoke.
spare_device=$(sql "INSERT INTO devices (id, worker_id, public_key) VALUES (gen_random_uuid(),
                    md5('demo:worker:2')::uuid, decode(repeat('00', 32), 'hex')) RETURNING id")
# A webhook subscription of the demo region that the sender disabled (its receiver
# refuses connections), for the integrations page; the administrator enables it again.
hook=$(sql "INSERT INTO webhook_subscriptions (region_id, url, events, secret, created_by, enabled,
                consecutive_failures, disabled_at)
            SELECT region_id, 'http://127.0.0.1:9/hook', '{visit.changed}', repeat('s', 64), 'admin',
                false, 20, now() FROM providers LIMIT 1 RETURNING id")
admin_password=webadmin-$RANDOM$RANDOM
echo "$admin_password" | "$carefactd" user add --db "$db" --role admin webadmin >/dev/null
URL="http://127.0.0.1:$port2" WORK="$work" SPARE_DEVICE="$spare_device" ARTIFACTS="$artifacts" LOGIN=manager1 PASSWORD="$manager_password" \
    HOOK="$hook" ADMIN_LOGIN=webadmin ADMIN_PASSWORD="$admin_password" \
    AUTHORITY_LOGIN=authority AUTHORITY_PASSWORD="$authority_password" SPEC="$src/api/openapi.yaml" OLD_VISIT="$old_visit" \
    DEMO_SQL="$src/sql/demo/demo_data.sql" RATING=2 RATING_COMMENT="Пришла ненадолго" \
    node "$src/tests/browser/dashboard.mjs" >"$work/browser.log" 2>&1 &
browser_pid=$!
on_cleanup+=("kill -KILL $browser_pid")

wait_file browser.ready
agent_ok visit start --plan "$(plan_of 1)" --device "pn532_uart:$dev" --wait 10 --json
visit=$(jget "$out" visit_id)
agent_ok sync --json
echo "$visit" >"$work/started"

wait_file seen
sleep 2 # a visit of seconds against a norm of tens of minutes: an early leave
agent_ok visit end --device "pn532_uart:$dev" --wait 10 --service HH-SHOP
agent_ok visit rate --rating 2 --comment "Пришла ненадолго"
agent_ok sync --json
touch "$work/ended"

if ! wait "$browser_pid"; then
    cat "$work/browser.log" >&2
    fail "the dashboard did not show what the worker did (screenshots in $artifacts)"
fi
cat "$work/browser.log"
