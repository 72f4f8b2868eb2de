#!/usr/bin/env bash
# End-to-end and fault tests of the agent's visit, store and sync: the real
# carefact-agent, the real carefactd on a private PostgreSQL with the demo data, the
# PN532 emulator read through libnfc, and (where an answer must go wrong) the fault
# proxy between them. One case per run (ctest registers each, see
# tests/e2e.cmake and tests/fault.cmake):
#
#   agent_visit.sh full_visit | offline_day | lost_response | backend_restart |
#                  clock | full_disk | epoch_change | damaged_store | wrong_answers |
#                  bad_reference | terminal | unknown_card | https_pinned
#   agent_visit.sh kill_appends N | kill_sync N     (kill -9 at random points, N times)
set -euo pipefail
case_name=${1:?usage: agent_visit.sh CASE [ITERATIONS]}
iterations=${2:-20}
source "$(dirname "$0")/agent_visit_lib.sh"

MIN=60000 # ms

# visit_json VISIT_ID: the backend's view of a visit.
visit_json() {
    api_get "/api/v1/visits/$1"
}

expect() { # expect WHAT GOT WANT
    [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# ==== A whole visit, as the worker does it ====

case_full_visit() {
    pg_up
    server_up
    enroll
    sim_start --transcript "$transcripts/VisaCardPpse"
    local plan
    plan=$(plan_of 1)
    agent_ok plans --json
    grep -q "\"id\":\"$plan\"" <<<"$out" || fail "plan $plan not listed: $out"
    agent_ok visit start --plan "$plan" --device "pn532_uart:$dev" --wait 10 \
        --lat 59.2215 --lon 39.8921 --accuracy 12 --json
    local visit
    visit=$(jget "$out" visit_id)
    expect "recipient" "$(jget "$out" recipient.name)" "Иванов Иван Петрович"
    expect "certificate" "$(jget "$out" certificate.valid)" true
    expect "HH-SHOP left" "$(node -e 'const o=JSON.parse(process.argv[1]);
        process.stdout.write(String(o.available.find(a => a.code === "HH-SHOP").remaining))' "$out")" 8
    agent_ok visit end --device "pn532_uart:$dev" --wait 10 --service HH-SHOP --service MED-BP:2
    grep -q "ВИЗИТ ЗАВЕРШЁН: Иванов Иван Петрович" <<<"$out" || fail "end text: $out"
    agent_ok visit rate --rating 5 --comment "Спасибо, всё хорошо"
    grep -q "Оценка 5 записана" <<<"$out" || fail "rate text: $out"
    agent_ok status
    grep -q "Ожидают отправки: 3 события" <<<"$out" || fail "status before sync: $out"
    agent_ok sync --json
    expect "uploaded" "$(jget "$out" uploaded)" 3
    expect "waiting" "$(jget "$out" waiting)" 0
    local v
    v=$(visit_json "$visit")
    expect "state" "$(jget "$v" state)" rated
    expect "rating" "$(jget "$v" rating)" 5
    expect "comment" "$(jget "$v" comment)" "Спасибо, всё хорошо"
    expect "start confirmed" "$(jget "$v" start_confirmed)" true
    expect "end confirmed" "$(jget "$v" end_confirmed)" true
    expect "plan" "$(jget "$v" plan_id)" "$plan"
    expect "expected minutes" "$(jget "$v" expected_minutes)" 60
    same_chain_as_server
    agent_ok status
    grep -q "Все события отправлены и подтверждены сервером" <<<"$out" || fail "status: $out"
    # The same visit cannot be rated twice; the plan cannot start again.
    agent visit rate --rating 1 --visit "$visit"
    [ $rc -eq 1 ] && grep -q "невозможен" <<<"$err" || fail "second rating: $rc $err"
    # No card number anywhere: not in the store, not in any output.
    if grep -qa "4999999999999999" "$CAREFACT_AGENT_STORE" "$work"/*.out 2>/dev/null; then
        fail "the card number reached the store or the output"
    fi
    [ "$(stat -c %a "$CAREFACT_AGENT_STORE")" = 600 ] || fail "the store is not private"
}

# ==== A day without network ====

case_offline_day() {
    pg_up
    server_up
    enroll
    server_down
    sim_start --transcript "$transcripts/VisaCardPpse"
    local d=pn532_uart:$dev
    # Visit 1, planned: 50 minutes for 40 + 10 minutes of services.
    agent_ok visit start --plan "$(plan_of 1)" --device "$d" --json
    local v1
    v1=$(jget "$out" visit_id)
    CAREFACT_WALL_OFFSET_MS=$((50 * MIN)) CAREFACT_MONO_OFFSET_MS=$((50 * MIN)) \
        agent_ok visit end --device "$d" --service HH-SHOP --service MED-BP
    agent_ok visit rate --rating 5
    # Visit 2, planned: 5 minutes for 40 minutes of service: early leave.
    card_of 2
    export CAREFACT_WALL_OFFSET_MS=$((60 * MIN)) CAREFACT_MONO_OFFSET_MS=$((60 * MIN))
    agent_ok visit start --plan "$(plan_of 2)" --device "$d" --json
    local v2
    v2=$(jget "$out" visit_id)
    CAREFACT_WALL_OFFSET_MS=$((65 * MIN)) CAREFACT_MONO_OFFSET_MS=$((65 * MIN)) \
        agent_ok visit end --device "$d" --service HH-SHOP
    agent_ok visit rate --rating 4
    # Visit 3, unplanned, ended with someone else's card, rated low.
    card_of 7
    export CAREFACT_WALL_OFFSET_MS=$((70 * MIN)) CAREFACT_MONO_OFFSET_MS=$((70 * MIN))
    agent_ok visit start --recipient "$(recipient_id 7)" --device "$d" --json
    local v3
    v3=$(jget "$out" visit_id)
    card_of 8
    export CAREFACT_WALL_OFFSET_MS=$((100 * MIN)) CAREFACT_MONO_OFFSET_MS=$((100 * MIN))
    agent_ok visit end --device "$d" --service HH-CLEAN
    grep -q "ВНИМАНИЕ: приложена не карта получателя" <<<"$out" || fail "no mismatch warning"
    agent_ok visit rate --rating 2 --comment "Опоздала"
    # A door attempt and a cancellation.
    export CAREFACT_WALL_OFFSET_MS=$((110 * MIN)) CAREFACT_MONO_OFFSET_MS=$((110 * MIN))
    agent_ok visit attempt --plan "$(plan_of 3)" --reason nobody_home
    export CAREFACT_WALL_OFFSET_MS=$((120 * MIN)) CAREFACT_MONO_OFFSET_MS=$((120 * MIN))
    agent_ok visit cancel --plan "$(plan_of 4)" --reason worker_ill --by worker --json
    local v5
    v5=$(jget "$out" visit_id)
    unset CAREFACT_WALL_OFFSET_MS CAREFACT_MONO_OFFSET_MS
    # No network: the sync fails, says so, and nothing is lost.
    agent sync
    [ $rc -eq 1 ] || fail "sync without a server succeeded?"
    grep -q "Нет связи с сервером" <<<"$err" || fail "sync error text: $err"
    agent_ok status
    grep -q "Ожидают отправки: 11 событий" <<<"$out" || fail "status offline: $out"
    # The backend comes up: one sync.
    server_restart
    agent_ok sync --json
    expect "uploaded" "$(jget "$out" uploaded)" 11
    expect "server events" "$(server_events)" 11
    same_chain_as_server
    local v
    v=$(visit_json "$v1")
    expect "v1 state" "$(jget "$v" state)" rated
    expect "v1 flags" "$(jget "$v" flags)" ""
    local dur
    dur=$(jget "$v" duration_s)
    [ "$dur" -ge 3000 ] && [ "$dur" -le 3060 ] || fail "v1 duration $dur, want about 3000 s"
    v=$(visit_json "$v2")
    expect "v2 flags" "$(jget "$v" flags)" early_leave
    v=$(visit_json "$v3")
    expect "v3 state" "$(jget "$v" state)" rated
    expect "v3 flags" "$(jget "$v" flags)" "early_leave,card_mismatch,low_rating"
    expect "v3 end confirmed" "$(jget "$v" end_confirmed)" false
    v=$(visit_json "$v5")
    expect "v5 state" "$(jget "$v" state)" cancelled
    expect "v5 reason" "$(jget "$v" reason)" worker_ill
    expect "v5 by" "$(jget "$v" cancelled_by)" worker
    expect "attempts" "$(sql "SELECT reason FROM door_attempts WHERE recipient_id = '$(recipient_id 3)'")" nobody_home
    agent_ok status --json
    expect "waiting after sync" "$(jget "$out" events.waiting)" 0
}

# ==== The answer lost after COMMIT ====

case_lost_response() {
    pg_up
    server_up
    proxy_up
    enroll "http://127.0.0.1:$proxy_port"
    for r in 7 8 9 10 11; do
        agent_ok visit attempt --recipient "$(recipient_id $r)" --reason refused
    done
    proxy_mode drop
    agent sync --upload-only
    [ $rc -eq 1 ] || fail "a sync whose answer was lost succeeded"
    expect "committed on the server" "$(server_events)" 5
    agent_ok status --json
    expect "still waiting" "$(jget "$out" events.waiting)" 5
    grep -q dropped-after-answer "$work/proxy.log" || fail "the proxy dropped nothing"
    proxy_mode pass
    agent_ok sync --json
    expect "acknowledged" "$(jget "$out" acked_seq)" 5
    expect "server events" "$(server_events)" 5
    same_chain_as_server
}

# ==== carefactd killed in the middle of uploads ====

case_backend_restart() {
    pg_up
    server_up
    enroll
    for i in $(seq 150); do
        agent_ok visit attempt --recipient "$(recipient_id $((7 + i % 20)))" --reason nobody_home
    done
    local round
    for round in 1 2 3; do
        "$agent_bin" sync --upload-only --batch 10 >"$work/bg.out" 2>&1 &
        local pid=$!
        sleep "0.0$((RANDOM % 9 + 1))"
        server_down KILL
        wait "$pid" || true
        server_restart
        [ "$(server_events)" -le 150 ] || fail "more events than made"
    done
    agent_ok sync --json
    expect "acknowledged" "$(jget "$out" acked_seq)" 150
    expect "server events" "$(server_events)" 150
    same_chain_as_server
}

# ==== The terminal's clock ====

case_clock() {
    pg_up
    server_up
    enroll
    sim_start --transcript "$transcripts/VisaCardPpse"
    local d=pn532_uart:$dev
    # The wall clock jumps 3 hours during a 30-minute visit: the monotonic clock counts.
    agent_ok visit start --plan "$(plan_of 1)" --device "$d" --json
    local v1
    v1=$(jget "$out" visit_id)
    CAREFACT_WALL_OFFSET_MS=$((180 * MIN)) CAREFACT_MONO_OFFSET_MS=$((30 * MIN)) \
        agent_ok visit end --device "$d" --service MED-BP --json
    local dur
    dur=$(jget "$out" duration_s)
    [ "$dur" -ge 1800 ] && [ "$dur" -le 1830 ] || fail "local duration $dur"
    # The clock moved back 2 hours during another visit.
    card_of 2
    agent_ok visit start --plan "$(plan_of 2)" --device "$d"
    CAREFACT_WALL_OFFSET_MS=$((-120 * MIN)) CAREFACT_MONO_OFFSET_MS=$((20 * MIN)) \
        agent_ok visit end --device "$d" --service MED-BP --json
    local v2
    v2=$(jget "$out" visit_id)
    # A reboot in the middle of a third visit: only the wall clock is left.
    card_of 3
    agent_ok visit start --plan "$(plan_of 3)" --device "$d" --json
    local v3
    v3=$(jget "$out" visit_id)
    CAREFACT_BOOT_ID=0f0e0d0c-0b0a-4908-8706-050403020100 CAREFACT_WALL_OFFSET_MS=$((15 * MIN)) \
        agent_ok visit end --device "$d" --service MED-BP --json
    expect "local clock_uncertain" "$(jget "$out" clock_uncertain)" true
    # The terminal's clock is 2 hours slow: the skew is recorded and shown.
    CAREFACT_WALL_OFFSET_MS=$((-120 * MIN)) agent_ok sync --json
    local skew
    skew=$(jget "$out" skew_ms)
    [ "$skew" -ge 7195000 ] && [ "$skew" -le 7205000 ] || fail "skew $skew, want about 7200000"
    CAREFACT_WALL_OFFSET_MS=$((-120 * MIN)) agent_ok status
    # The skew is measured (request round trip included): about two hours, in seconds.
    grep -Eq "расходятся с сервером на \+(719[5-9]|720[0-5]) с" <<<"$out" || fail "status skew: $out"
    local v
    v=$(visit_json "$v1")
    dur=$(jget "$v" duration_s)
    [ "$dur" -ge 1800 ] && [ "$dur" -le 1830 ] || fail "server duration $dur, want 1800"
    # v2 started (wall clock) during v1's 30 minutes, by the same worker: an overlap too
    expect "v1 flags" "$(jget "$v" flags)" "overtime,overlap"
    v=$(visit_json "$v2")
    dur=$(jget "$v" duration_s)
    [ "$dur" -ge 1200 ] && [ "$dur" -le 1230 ] || fail "v2 duration $dur, want 1200"
    v=$(visit_json "$v3")
    grep -q clock_uncertain <<<"$(jget "$v" flags)" || fail "v3 flags: $(jget "$v" flags)"
    dur=$(jget "$v" duration_s)
    [ "$dur" -ge 900 ] && [ "$dur" -le 930 ] || fail "v3 wall duration $dur, want 900"
}

# ==== A full disk ====

case_full_disk() {
    if [ "$(id -u)" -ne 0 ] || ! mkdir -p "$work/small" ||
        ! mount -t tmpfs -o size=768k tmpfs "$work/small" 2>/dev/null; then
        echo "SKIP: needs root to mount a small tmpfs"
        exit 77
    fi
    on_cleanup+=("umount -l '$work/small'")
    export CAREFACT_AGENT_STORE=$work/small/agent.db
    pg_up
    server_up
    enroll
    agent_ok visit attempt --recipient "$(recipient_id 7)" --reason nobody_home
    dd if=/dev/zero of="$work/small/filler" bs=4k 2>/dev/null || true
    local tries=0
    while :; do
        agent visit attempt --recipient "$(recipient_id 8)" --reason nobody_home
        [ $rc -eq 0 ] || break
        tries=$((tries + 1))
        [ $tries -lt 200 ] || fail "the disk never filled"
    done
    [ $rc -eq 1 ] || fail "append on a full disk: exit $rc"
    grep -q "Нет места на устройстве" <<<"$err" || fail "full-disk message: $err"
    local before=$((tries + 1))
    # Still full: the other commands answer clearly (or work), never crash.
    agent status
    [ $rc -eq 0 ] || grep -q "Нет места на устройстве\|Не удаётся открыть" <<<"$err" ||
        fail "status on a full disk: $rc $err"
    rm -f "$work/small/filler"
    agent_ok status --verify
    grep -q "цепочка событий цела ($before)" <<<"$out" || fail "after full disk: $out"
    agent_ok visit attempt --recipient "$(recipient_id 9)" --reason refused --json
    expect "next seq" "$(jget "$out" seq)" $((before + 1))
    agent_ok sync
    expect "server events" "$(server_events)" $((before + 1))
    same_chain_as_server
}

# ==== The server's database restored from an older backup ====

case_epoch_change() {
    pg_up
    server_up
    enroll
    for r in 7 8 9 10 11; do
        agent_ok visit attempt --recipient "$(recipient_id $r)" --reason nobody_home
    done
    agent_ok sync --upload-only
    pg_dump -Fc -f "$work/backup.dump" "$db"
    for r in 12 13 14 15 16; do
        agent_ok visit attempt --recipient "$(recipient_id $r)" --reason refused
    done
    agent_ok sync --upload-only
    expect "before restore" "$(server_events)" 10
    server_down
    pg_restore --clean --if-exists --single-transaction -d "$db" "$work/backup.dump"
    server_restart
    expect "after restore" "$(server_events)" 5
    # Nothing waits on the terminal, yet one sync notices and uploads again.
    agent_ok sync --upload-only --json
    expect "re-uploaded from" "$(jget "$out" reuploaded_from)" 6
    expect "acknowledged" "$(jget "$out" acked_seq)" 10
    expect "server events" "$(server_events)" 10
    same_chain_as_server
    # A new database (another epoch): the terminal notices and records it.
    local epoch
    epoch=$(sql "UPDATE db_epoch SET epoch = gen_random_uuid(); SELECT database_epoch()")
    agent_ok visit attempt --recipient "$(recipient_id 17)" --reason other
    agent_ok sync --upload-only --json
    expect "epoch changed" "$(jget "$out" epoch_changed)" true
    agent_ok status --json
    expect "epoch" "$(jget "$out" sync.epoch)" "$epoch"
    expect "server events" "$(server_events)" 11
}

# ==== A damaged store ====

case_damaged_store() {
    pg_up
    server_up
    enroll
    for r in 7 8 9; do
        agent_ok visit attempt --recipient "$(recipient_id $r)" --reason nobody_home
    done
    cp "$CAREFACT_AGENT_STORE" "$work/good.db"
    # An event's payload changed behind the agent's back.
    sqlite3 "$CAREFACT_AGENT_STORE" \
        "UPDATE events SET payload = replace(payload, 'nobody_home', 'refused') WHERE seq = 2"
    agent status --verify
    [ $rc -eq 1 ] || fail "verify of a tampered store: exit $rc"
    grep -q "ХРАНИЛИЩЕ ПОВРЕЖДЕНО" <<<"$out" && grep -q "event 2" <<<"$out" ||
        fail "verify text: $out"
    agent sync --json
    [ $rc -eq 1 ] || fail "sync of a tampered store succeeded"
    expect "sync error" "$(jget "$out" error)" store_damaged
    expect "nothing sent" "$(server_events)" 0
    # Garbage over the middle of the file.
    cp "$work/good.db" "$CAREFACT_AGENT_STORE"
    local size
    size=$(stat -c %s "$CAREFACT_AGENT_STORE")
    dd if=/dev/urandom of="$CAREFACT_AGENT_STORE" bs=1 seek=$((size / 3)) count=$((size / 3)) \
        conv=notrunc 2>/dev/null
    local sum
    sum=$(sha256sum <"$CAREFACT_AGENT_STORE")
    for cmd in status "visit attempt --recipient $(recipient_id 9) --reason other" sync; do
        # shellcheck disable=SC2086
        agent $cmd
        [ $rc -eq 1 ] || fail "'$cmd' on a damaged store: exit $rc"
        grep -q "Файл хранилища повреждён" <<<"$err" || fail "'$cmd' message: $err"
    done
    expect "the damaged file is left as it was" "$(sha256sum <"$CAREFACT_AGENT_STORE")" "$sum"
    # Cut short; and a file that is some other program's database.
    head -c 5000 "$work/good.db" >"$CAREFACT_AGENT_STORE"
    agent status
    [ $rc -eq 1 ] && grep -q "повреждён" <<<"$err" || fail "truncated store: $rc $err"
    rm -f "$CAREFACT_AGENT_STORE"
    sqlite3 "$CAREFACT_AGENT_STORE" "CREATE TABLE photos (id INTEGER)"
    agent status
    [ $rc -eq 1 ] && grep -q "не хранилище carefact" <<<"$err" || fail "foreign file: $rc $err"
    # The good copy still works: nothing was lost.
    cp "$work/good.db" "$CAREFACT_AGENT_STORE"
    agent_ok sync
    expect "server events" "$(server_events)" 3
}

# ==== Answers that are not the protocol's ====

case_wrong_answers() {
    pg_up
    server_up
    proxy_up
    enroll "http://127.0.0.1:$proxy_port"
    for i in $(seq 60); do
        agent_ok visit attempt --recipient "$(recipient_id $((7 + i % 20)))" --reason nobody_home
    done
    local mode
    for mode in portal redirect; do
        proxy_mode "$mode"
        agent sync --json
        [ $rc -eq 1 ] || fail "$mode: sync succeeded"
        expect "$mode error" "$(jget "$out" error)" bad_answer
        expect "$mode waiting" "$(jget "$out" waiting)" 60
    done
    # A server error: retried later, with back-off; --auto waits for it.
    proxy_mode status 503
    agent sync --json
    expect "503 error" "$(jget "$out" error)" server_unavailable
    expect "503 held" "$(jget "$out" held)" false
    local lines
    lines=$(wc -l <"$work/proxy.log")
    agent_ok sync --auto
    grep -q "следующая попытка" <<<"$out" || fail "auto sync did not wait: $out"
    expect "no request while backing off" "$(wc -l <"$work/proxy.log")" "$lines"
    # An acknowledgement of events never made: refused, held for a person.
    proxy_mode ack-ahead
    agent sync --json
    expect "ack-ahead error" "$(jget "$out" error)" conflict
    expect "ack-ahead held" "$(jget "$out" held)" true
    expect "ack-ahead waiting" "$(jget "$out" waiting)" 60
    # 403 and 409: never retried by themselves.
    for mode in "status 403" "status 409"; do
        proxy_mode "$mode"
        agent sync --json
        expect "$mode held" "$(jget "$out" held)" true
        lines=$(wc -l <"$work/proxy.log")
        agent sync --auto
        [ $rc -eq 1 ] || fail "$mode: auto sync of a held refusal succeeded"
        expect "$mode: no automatic retry" "$(wc -l <"$work/proxy.log")" "$lines"
    done
    agent_ok status
    grep -q "остановлена до ручного запуска" <<<"$out" || fail "status held: $out"
    # Bodies over a limit get 413: batches are halved until they pass.
    proxy_mode limit 6000
    agent_ok sync --upload-only --json
    expect "uploaded through 413s" "$(jget "$out" acked_seq)" 60
    grep -q limit-413 "$work/proxy.log" || fail "no 413 was answered"
    expect "server events" "$(server_events)" 60
    same_chain_as_server
}

# ==== Reference records the agent must refuse ====

case_bad_reference() {
    pg_up
    sql "UPDATE recipients SET full_name = repeat('Я', 300) WHERE id = '$(recipient_id 5)'"
    sql "UPDATE recipients SET address = repeat('x', 70000) WHERE id = '$(recipient_id 6)'"
    server_up
    enroll
    agent_ok sync --json
    expect "refused" "$(jget "$out" reference.refused)" 2
    grep -q "full_name" <<<"$(jget "$out" reference.problem)" ||
        fail "problem: $(jget "$out" reference.problem)"
    agent_ok sync
    grep -q "записей справочника отклонено: 2" <<<"$out" || fail "sync text: $out"
    agent_ok status --json
    expect "recipients kept" "$(jget "$out" reference.recipients)" 28
    sql "UPDATE recipients SET full_name = 'Волкова Зинаида Ивановна' WHERE id = '$(recipient_id 5)'"
    agent_ok sync --json
    expect "refused after the fix" "$(jget "$out" reference.refused)" 1
    agent_ok status --json
    expect "recipients" "$(jget "$out" reference.recipients)" 29
}

# ==== The interactive terminal, through tmux ====

tmux_screen() {
    tmux -L "$tsock" capture-pane -p -t ui
}

tmux_wait_for() {
    local text=$1
    for _ in $(seq 150); do
        tmux_screen | grep -q "$text" && return 0
        sleep 0.1
    done
    tmux_screen >&2
    fail "the terminal never showed '$text'"
}

tmux_keys() {
    tmux -L "$tsock" send-keys -t ui "$1" Enter
}

case_terminal() {
    pg_up
    server_up
    enroll
    sim_start --transcript "$transcripts/VisaCardPpse"
    tsock=cfav$$
    tmux -L "$tsock" new-session -d -s ui -x 120 -y 60 \
        "CAREFACT_AGENT_STORE=$CAREFACT_AGENT_STORE CAREFACT_BOOT_ID=$CAREFACT_BOOT_ID \
         $agent_bin terminal --device pn532_uart:$dev --wait 10; echo TERMINAL-EXIT \$?; sleep 60"
    on_cleanup+=("tmux -L '$tsock' kill-server")
    tmux_wait_for "Нажмите цифру и Enter"
    tmux_keys 1
    tmux_wait_for "ПЛАНОВЫЕ ВИЗИТЫ"
    tmux_screen | grep -q " 1  09:00  Иванов Иван Петрович" || { tmux_screen >&2; fail "plan list"; }
    tmux_keys 1
    tmux_wait_for "ВИЗИТ НАЧАТ"
    tmux_wait_for "ИДЁТ ВИЗИТ: Иванов Иван Петрович"
    tmux_keys 3
    tmux_wait_for "Введите номера оказанных услуг"
    tmux_keys "3 4*2"
    tmux_wait_for "ВИЗИТ ЗАВЕРШЁН"
    tmux_wait_for "Нажмите цифру от 1 до 5"
    tmux_keys 9
    tmux_wait_for "Введите цифру от 0 до 5"
    tmux_keys 5
    tmux_wait_for "Комментарий"
    tmux_keys "Всё хорошо"
    tmux_wait_for "СПАСИБО! Оценка 5 записана"
    # The terminal sent the events by itself after the step.
    tmux_wait_for "Все события отправлены"
    # Another recipient's plan, Иванов's card: refused, in Russian, saying whose it is.
    tmux_keys 1
    tmux_wait_for "Номер визита:"
    tmux_keys 1
    tmux_wait_for "Карта принадлежит другому получателю"
    tmux_wait_for "Карта принадлежит: Иванов Иван Петрович"
    ! tmux_screen | grep -q "another recipient" || { tmux_screen >&2; fail "English on the terminal"; }
    tmux_keys 0
    tmux_wait_for "TERMINAL-EXIT 0"
    local visit
    visit=$(sql "SELECT id FROM visits WHERE plan_id = '$(plan_of 1)'")
    local v
    v=$(visit_json "$visit")
    expect "state" "$(jget "$v" state)" rated
    expect "rating" "$(jget "$v" rating)" 5
    expect "comment" "$(jget "$v" comment)" "Всё хорошо"
    expect "services" "$(jget "$v" services.1.quantity)" 2
    same_chain_as_server
}

# ==== An unknown card, and binding it ====

case_unknown_card() {
    pg_up
    server_up
    enroll
    sim_start --uid 04AABBCC --sak 08
    agent visit start --device "pn532_uart:$dev" --wait 10
    [ $rc -eq 1 ] || fail "an unknown card started a visit"
    grep -q "Карта не распознана" <<<"$err" || fail "message: $err"
    agent visit start --device "pn532_uart:$dev" --wait 10 --json
    expect "error name" "$(jget "$out" error)" card_unrecognized
    agent_ok card bind --recipient "$(recipient_id 9)" --device "pn532_uart:$dev" --wait 10
    grep -q "ждёт подтверждения руководителя" <<<"$out" || fail "bind text: $out"
    # Still pending: the card does not identify anyone yet.
    agent visit start --device "pn532_uart:$dev" --wait 10 --json
    expect "after binding" "$(jget "$out" error)" card_unrecognized
    agent_ok sync
    expect "kinds on the server" \
        "$(sql "SELECT string_agg(kind, ',' ORDER BY seq) FROM events WHERE device_id = '$device_id'")" \
        "card.unrecognized,card.unrecognized,card.bound,card.unrecognized"
    expect "bound to" \
        "$(sql "SELECT recipient_id FROM events WHERE kind = 'card.bound'")" "$(recipient_id 9)"
    # On the backend the binding waits for a manager: pending, never active by itself.
    expect "binding on the server" \
        "$(sql "SELECT recipient_id || ' ' || status FROM card_bindings WHERE source_device = '$device_id'")" \
        "$(recipient_id 9) pending"
}

# ==== HTTPS with the server's CA pinned ====

# make_ca NAME: a CA key and certificate in $work/NAME-ca.{key,pem}.
make_ca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=carefact test $1 CA" -keyout "$work/$1-ca.key" -out "$work/$1-ca.pem" 2>/dev/null
}

case_https_pinned() {
    make_ca good
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\n' >"$work/san.ext"
    openssl x509 -req -in "$work/server.csr" -CA "$work/good-ca.pem" -CAkey "$work/good-ca.key" \
        -CAcreateserial -days 2 -extfile "$work/san.ext" -out "$work/server.pem" 2>/dev/null
    make_ca other
    pg_up
    # carefactd serves HTTPS itself with the certificate of the region's CA.
    server_tls=(--tls-cert "$work/server.pem" --tls-key "$work/server.key")
    server_curl=(--cacert "$work/good-ca.pem") server_scheme=https
    server_up
    local url=https://127.0.0.1:$port code
    # Plain http to another machine, and https without a CA, are refused up front.
    agent enroll --server http://192.0.2.10:8080 --code ABCDEFGHJKLM
    [ $rc -eq 2 ] && grep -q "plain http is allowed only to this machine" <<<"$err" ||
        fail "http to another host: $rc $err"
    agent enroll --server "$url" --code ABCDEFGHJKLM
    [ $rc -eq 2 ] && grep -q "ca FILE is required" <<<"$err" || fail "https without --ca: $rc $err"
    # A server whose certificate is not from the pinned CA: nothing is sent.
    code=$("$carefactd" enroll-code --db "$db" --worker "$(worker_id 1)")
    agent enroll --server "$url" --code "$code" --ca "$work/other-ca.pem" --json
    [ $rc -eq 1 ] || fail "enrolment against the wrong CA succeeded"
    expect "wrong CA" "$(jget "$out" error)" tls
    expect "the code is still unused" "$(sql "SELECT count(*) FROM enrollment_codes WHERE used_at IS NULL")" 1
    # The right CA: enrolment, a visit fact and a sync over TLS.
    agent_ok enroll --server "$url" --code "$code" --ca "$work/good-ca.pem" --json
    device_id=$(jget "$out" device_id)
    agent_ok visit attempt --recipient "$(recipient_id 7)" --reason nobody_home
    agent_ok sync --json
    expect "server events over TLS" "$(server_events)" 1
    # Someone else answers on that address with a certificate of another CA: the
    # sync refuses to talk to it.
    server_down
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
        -keyout "$work/rogue.key" -out "$work/rogue.pem" 2>/dev/null
    server_tls=(--tls-cert "$work/rogue.pem" --tls-key "$work/rogue.key") server_curl=(-k)
    server_restart
    agent_ok visit attempt --recipient "$(recipient_id 8)" --reason refused
    agent sync --json
    [ $rc -eq 1 ] || fail "sync to a server with another certificate succeeded"
    expect "rogue certificate" "$(jget "$out" error)" tls
    expect "still waiting" "$(jget "$out" waiting)" 1
    expect "server events" "$(server_events)" 1
}

# ==== kill -9 at random points ====

case_kill_appends() {
    pg_up
    server_up
    enroll
    local i done_file=$work/done.txt
    local -a who=()
    for i in $(seq 0 9); do who+=("$(recipient_id $((7 + i)))"); done
    : >"$done_file"
    for i in $(seq "$iterations"); do
        "$agent_bin" visit attempt --recipient "${who[$((i % 10))]}" \
            --reason nobody_home --json >"$work/k.out" 2>"$work/k.err" &
        local pid=$!
        # A whole run takes about 20 ms (most of it the fsync of the commit): kill it
        # anywhere from start-up to just after it finished.
        sleep "$(printf '0.%03d' $((RANDOM % 30)))"
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null && grep -o '"seq":[0-9]*' "$work/k.out" | cut -d: -f2 >>"$done_file" || true
        if [ $((i % 25)) -eq 0 ]; then
            agent_ok status --verify
        fi
    done
    agent_ok status --verify
    grep -q "цепочка событий цела" <<<"$out" || fail "after kills: $out"
    local last
    last=$(sqlite3 "$CAREFACT_AGENT_STORE" "SELECT coalesce(max(seq), 0) FROM events")
    # Every append that said it was done is there.
    local seq
    while read -r seq; do
        [ "$(sqlite3 "$CAREFACT_AGENT_STORE" "SELECT kind FROM events WHERE seq = $seq")" = visit.attempt ] ||
            fail "event $seq was reported stored but is missing"
    done <"$done_file"
    echo "kill_appends: $iterations kills, $(wc -l <"$done_file") appends finished, $last events kept"
    agent_ok sync --upload-only
    expect "server events" "$(server_events)" "$last"
    same_chain_as_server
}

case_kill_sync() {
    pg_up
    server_up
    enroll
    for i in $(seq 30); do
        agent_ok visit attempt --recipient "$(recipient_id $((7 + i % 20)))" --reason refused
    done
    local i killed=0 someone
    someone=$(recipient_id 12)
    for i in $(seq "$iterations"); do
        if [ $((i % 4)) -eq 0 ]; then
            agent_ok visit attempt --recipient "$someone" --reason other
        fi
        "$agent_bin" sync --upload-only --batch 3 >"$work/k.out" 2>&1 &
        local pid=$!
        sleep "$(printf '0.%03d' $((RANDOM % 100)))"
        kill -KILL "$pid" 2>/dev/null && killed=$((killed + 1)) || true
        wait "$pid" 2>/dev/null || true
        # The server never holds an event the terminal does not, nor a different one.
        local held
        held=$(server_events)
        [ "$held" -le "$(sqlite3 "$CAREFACT_AGENT_STORE" "SELECT max(seq) FROM events")" ] ||
            fail "the server holds more events than were made"
    done
    agent_ok status --verify
    agent_ok sync --upload-only --json
    local last
    last=$(sqlite3 "$CAREFACT_AGENT_STORE" "SELECT max(seq) FROM events")
    expect "acknowledged" "$(jget "$out" acked_seq)" "$last"
    expect "server events" "$(server_events)" "$last"
    same_chain_as_server
    echo "kill_sync: $iterations runs, $killed killed mid-way, $last events, all on the server once"
}

"case_$case_name"
echo "ok: $case_name"
