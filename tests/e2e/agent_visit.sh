#!/usr/bin/env bash
# End-to-end and fault tests of the agent's visit, store and sync: the real
# carefact-agent, the real carefactd on a private PostgreSQL with the demo data, the
# PN532 emulator read through libnfc, and (where an answer must go wrong) the fault
# proxy between them. One case per run (ctest registers each, see
# tests/e2e.cmake and tests/fault.cmake):
#
#   agent_visit.sh full_visit | offline_day | lost_response | backend_restart |
#                  clock | full_disk | epoch_change | damaged_store | wrong_answers |
#                  bad_reference | terminal | unknown_card | https_pinned | durable
#   agent_visit.sh kill_appends N | kill_sync N     (kill -9 at calibrated random
#                  moments, N times; see "kill -9 at a calibrated random moment")
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
        local pid=$! st=0
        sleep "0.0$((RANDOM % 9 + 1))"
        server_down KILL
        wait "$pid" || st=$?
        # Done before the kill, or "no connection": anything else (a crash) fails.
        [ $st -le 1 ] || fail "sync while carefactd was killed ended with $st: $(cat "$work/bg.out")"
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
    # Into an emptied schema: "pg_restore --clean" cannot drop the primary key of a
    # partition of events (sql/0014: "cannot drop inherited constraint"), so a logical
    # restore replaces the schema whole (backend/README.md, "Performance"), and the
    # federal publication with it (sql/0015: a database's object, not the schema's).
    psql "$db" -XqAv ON_ERROR_STOP=1 -c "DROP PUBLICATION IF EXISTS carefact_federal" \
        -c "DROP SCHEMA public CASCADE" -c "CREATE SCHEMA public" >/dev/null 2>&1
    pg_restore --single-transaction -d "$db" "$work/backup.dump"
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
    # 1000 characters, 1999 bytes: the longest comment is taken whole (api/PROTOCOL.md 4.4;
    # the terminal once kept 1000 bytes of a line).
    local comment
    comment="Всё хорошо$(printf 'я%.0s' $(seq 990))"
    tmux_keys "$comment"
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
    # The worker chooses: back, with nothing recorded (starting with the card is the
    # touch UI's browser test and test_visit's), then leaves.
    tmux_wait_for "Начать визит с этой картой"
    local events_before
    events_before=$(sqlite3 "$CAREFACT_AGENT_STORE" "SELECT count(*) FROM events")
    tmux_keys 0
    tmux_wait_for "Нажмите цифру и Enter"
    expect "events after going back" "$(sqlite3 "$CAREFACT_AGENT_STORE" "SELECT count(*) FROM events")" "$events_before"
    tmux_keys 0
    tmux_wait_for "TERMINAL-EXIT 0"
    # The command line's choice: start with the other card all the same; the server
    # flags the visit card_mismatch.
    agent visit start --plan "$(plan_of 2)" --device "pn532_uart:$dev" --wait 10 --json
    [ $rc -ne 0 ] || fail "another recipient's card started a visit without --accept-other-card"
    agent_ok visit start --plan "$(plan_of 2)" --accept-other-card --device "pn532_uart:$dev" --wait 10 --json
    agent_ok sync --json
    expect "card_mismatch flagged" \
        "$(sql "SELECT 'card_mismatch' = ANY (flags) FROM visits WHERE plan_id = '$(plan_of 2)'")" t
    local visit
    visit=$(sql "SELECT id FROM visits WHERE plan_id = '$(plan_of 1)'")
    local v
    v=$(visit_json "$visit")
    expect "state" "$(jget "$v" state)" rated
    expect "rating" "$(jget "$v" rating)" 5
    expect "comment" "$(jget "$v" comment)" "$comment"
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

# ==== Check-in by card at an office's desk (issue 16) ====

case_desk_check_in() {
    pg_up
    server_up
    enroll
    sim_start --transcript "$transcripts/VisaCardPpse"
    local office appointment
    office=$(sql "SELECT md5('demo:office:1')::uuid")
    # Recipient 1 (the Visa card) booked at demo office 1 in ten minutes; made by the owner:
    # the slot rules are integration.backend.appointments'.
    appointment=$(sql "INSERT INTO appointments (office_id, region_id, seat, during, kind, state,
                         channel, person_key, person_name, secret_hash, created_by, booked_at)
                       SELECT o.id, o.region_id, 1, tstzrange(now() + interval '10 minutes',
                              now() + interval '25 minutes'), 'consultation', 'booked', 'phone',
                              'person:' || md5('demo:recipient:1')::uuid, 'Иванов Иван Петрович',
                              sha256('x'), 'e2e', now()
                       FROM offices o WHERE o.id = '$office' RETURNING id")
    # this terminal is the office's desk (sql/0033): only a desk's tap checks in
    sql "INSERT INTO desk_terminals (device_id, office_id, region_id, assigned_by)
         SELECT '$device_id', o.id, o.region_id, 'e2e' FROM offices o WHERE o.id = '$office'" >/dev/null
    agent_ok card check-in --device "pn532_uart:$dev" --wait 10
    grep -q "Приход отмечен картой" <<<"$out" || fail "check-in text: $out"
    expect "before sync" "$(sql "SELECT state FROM appointments WHERE id = '$appointment'")" booked
    agent_ok sync --json
    expect "uploaded" "$(jget "$out" uploaded)" 1
    expect "kind on the server" \
        "$(sql "SELECT kind FROM events WHERE device_id = '$device_id'")" appointment.checked_in
    expect "after sync" "$(sql "SELECT state || ' ' || (check_in_device = '$device_id')
                                 || ' ' || (checked_in_at <= now()) FROM appointments
                                 WHERE id = '$appointment'")" "checked_in true true"
    [ -n "$(sql "SELECT check_in_level FROM appointments WHERE id = '$appointment'")" ] ||
        fail "no card level recorded"
    same_chain_as_server
}

# ==== A mobile brigade trip held offline (issue 16) ====

# make_trip: a trip of demo office 1 tomorrow that worker 1 goes on (two settlements, a
# partner), made by the owner (the planning rules are integration.backend.trips'); prints
# its id.
make_trip() {
    local office provider settlements trip
    office=$(sql "SELECT md5('demo:office:1')::uuid")
    provider=$(sql "SELECT provider_id FROM workers WHERE id = '$(worker_id 1)'")
    settlements='[{"name":"д. Ивановка","place":"у магазина","arrives":"10:00","leaves":"12:00"},
                  {"name":"с. Алёхово","place":"","arrives":"13:00","leaves":"15:00"}]'
    trip=$(sql "SELECT trip_id FROM trip_save(NULL, '$office', '$provider',
                  (SELECT (now() AT TIME ZONE timezone)::date + 1 FROM regions r
                   JOIN offices o ON o.region_id = r.id WHERE o.id = '$office'),
                  'Выезд в Ивановку', 'Запись по телефону 8 813 64 2-11-11', 30,
                  '$settlements', '[{\"worker_id\":\"$(worker_id 1)\",\"duty\":\"соцработник\"}]',
                  '[{\"name\":\"Лодейнопольская ЦРБ\",\"activity\":\"флюорография\"}]',
                  'e2e', 'admin')")
    [ -n "$trip" ] || fail "no trip made"
    echo "$trip"
}

# A trip of demo office 1 tomorrow that worker 1 goes on, with a booking, comes down with
# the reference data; with carefactd stopped, `carefact-agent trip` still shows its
# settlements, times, partner and the person booked.
case_brigade_trip() {
    pg_up
    server_up
    enroll
    local trip
    trip=$(make_trip)
    [ "$(sql "SELECT outcome FROM trip_appointment_take('$trip', 2,
               (SELECT ((t.day + time '13:30') AT TIME ZONE r.timezone) FROM trips t
                JOIN regions r ON r.id = t.region_id WHERE t.id = '$trip'),
               'aid_handover', 'tel:79120000001', 'Смирнова Вера Ивановна', '+79120000001',
               'e2e', sha256('x'))")" = taken ] || fail "booking on the trip refused"
    agent_ok sync --json
    server_down
    agent_ok trip
    for want in "Выезды бригады: 1" "Выезд в Ивановку (запланирован)" "Пункт 1: 10:00–12:00 д. Ивановка (у магазина)" \
        "Пункт 2: 13:00–15:00 с. Алёхово" "13:30 Смирнова Вера Ивановна, тел. +79120000001 — выдача средства реабилитации" \
        "Партнёр: Лодейнопольская ЦРБ — флюорография"; do
        grep -qF "$want" <<<"$out" || fail "trip: '$want' not shown: $out"
    done
    agent_ok trip --json
    expect "trip id" "$(jget "$out" trips.0.id)" "$trip"
    expect "booked in" "$(jget "$out" trips.0.appointments.0.settlement)" 2
    # The touch UI's plan screen reads the same trips from the daemon's state, offline too.
    sim_start --transcript "$transcripts/VisaCardPpse"
    # ... and the text terminal's menu item 9.
    agent terminal --device "pn532_uart:$dev" <<<$'9\n0'
    grep -qF "9  Выезды бригады" <<<"$out" || fail "terminal menu: $out"
    grep -qF "Пункт 2: 13:00–15:00 с. Алёхово" <<<"$out" || fail "terminal trips: $out"
    agentd_up --speech off
    local state
    state=$(curl -fsS -b "cf_ui=$ui_secret" "$ui_base/api/state") || fail "no state from carefact-agentd"
    expect "touch UI trip" "$(jget "$state" trips.0.title)" "Выезд в Ивановку"
    expect "touch UI booking" "$(jget "$state" trips.0.appointments.0.person_name)" "Смирнова Вера Ивановна"
    kill -TERM "$agentd_pid"
}

# ==== A brigade's day offline: applications, a home-survey act, an aid by card ====

# brigade_day: the terminal synced once in town, then carefactd is NOT running all day:
# two applications taken in a village (each with its receipt and the applicant's code
# shown once), a home-survey act on the first by its filing event, a wheelchair handed
# over to the second's applicant confirmed by their card through libnfc pn532_uart and
# pn532-sim, a bad act refused before it is signed, a visit and the recipient's survey
# answers after it. Back in signal: the sync stores each
# act once, a second sync stores nothing, and the server holds two applications (channel
# terminal, submitted), one home-survey act, one hand-over with the card's level (uid), and
# the status page answers the receipt and the code, the answers count for home visits.
case_brigade_day() {
    pg_up
    server_up
    enroll
    agent_ok sync --json
    server_down
    sim_start --uid 04D30007 --sak 08
    local trip first second receipt code
    trip=$(make_trip) # the day's trip: the acts name it, the server links them to it
    agent_ok apply --name "Петрова Анна Ивановна" --birth 1941-03-08 --address "ул. Лесная, 3" \
        --settlement "д. Заречье" --phone "+79005550101" --category elderly --purpose rehab_aid \
        --consent --complete --note "Нужна коляска" --trip "$trip" --json
    first=$(jget "$out" seq)
    receipt=$(jget "$out" receipt)
    code=$(jget "$out" code)
    [[ "$receipt" =~ ^[0-9A-F]{8}-$first$ ]] || fail "receipt: $receipt"
    [[ "$code" =~ ^[0-9]{10}$ ]] || fail "code: $code"
    # the code is shown, never kept: not in the store in any form but its SHA-256
    [ "$(sqlite3 "$CAREFACT_AGENT_STORE" "SELECT count(*) FROM events WHERE payload LIKE '%$code%'")" = 0 ] ||
        fail "the applicant's code is in the store"
    agent_ok apply --name "Сидоров Пётр Ильич" --birth 1950-11-02 --address "ул. Речная, 8" \
        --settlement "д. Заречье" --representative "Сидорова Мария" --relation "дочь" \
        --category disabled --purpose rehab_aid --consent
    grep -q "Квитанция: " <<<"$out" || fail "apply text: $out"
    second=$(sqlite3 "$CAREFACT_AGENT_STORE" "SELECT max(seq) FROM events")
    # no consent: refused in Russian before anything is stored
    agent apply --name "Без согласия" --birth 1950-01-01 --address "x" --category other \
        --purpose other
    [ $rc -eq 2 ] || fail "an application without consent was taken ($rc)"
    grep -q "согласия" <<<"$err" || fail "no-consent message: $err"
    agent act home-survey --filing "$first" --findings "ф"
    [ $rc -eq 2 ] || fail "an act without living conditions was taken ($rc)"
    grep -q "обязательное поле" <<<"$err" || fail "missing-field message: $err"
    agent_ok act home-survey --filing "$first" --conditions "Частный дом, печное отопление" \
        --findings "Нуждается в помощи по дому и в кресле-коляске" --needs "Уборка" \
        --service "Уборка" --service "Покупка продуктов" --trip "$trip"
    grep -q "Акт обследования на дому записан" <<<"$out" || fail "survey text: $out"
    agent_ok aid hand-over --filing "$second" --aid "Кресло-коляска" --inventory "ТСР-000417" \
        --device "pn532_uart:$dev" --wait 10
    grep -q "Выдача ТСР записана" <<<"$out" || fail "hand-over text: $out"
    # a visit to recipient 7 (the UID card on the reader), and their answers after it
    local visit
    agent_ok visit start --recipient "$(recipient_id 7)" --device "pn532_uart:$dev" --wait 10 --json
    visit=$(jget "$out" visit_id)
    [ -n "$visit" ] || fail "visit start gave no visit id: $out"
    agent_ok visit end --device "pn532_uart:$dev" --wait 10
    agent_ok survey answer --visit "$visit" --answer rating=5
    grep -q "Ответы на опрос записаны" <<<"$out" || fail "survey text: $out"
    local last
    last=$(sqlite3 "$CAREFACT_AGENT_STORE" "SELECT max(seq) FROM events")
    server_restart
    agent_ok sync --json
    agent_ok sync --json
    expect "second sync uploads nothing" "$(jget "$out" uploaded)" 0
    expect "events on the server" "$(server_events)" "$last"
    same_chain_as_server
    expect "applications" "$(sql "SELECT count(*) || ' ' || count(*) FILTER (WHERE channel =
        'terminal' AND state = 'submitted') FROM applications WHERE filing_device = '$device_id'")" "2 2"
    expect "acts" "$(sql "SELECT string_agg(kind || ':' || coalesce(card_level, '-'), ',' ORDER BY seq)
        FROM application_acts WHERE device_id = '$device_id'")" "home_survey:-,aid_handover:uid"
    expect "the survey's application" "$(sql "SELECT a.filing_seq || ' ' || (t.trip_id = '$trip')
        FROM application_acts t JOIN applications a ON a.id = t.application_id
        WHERE t.kind = 'home_survey'")" "$first true"
    expect "the hand-over's application" "$(sql "SELECT a.filing_seq FROM application_acts t
        JOIN applications a ON a.id = t.application_id WHERE t.kind = 'aid_handover'")" "$second"
    expect "survey answers" "$(sql "SELECT count(*) || ' ' || min(channel) || ' ' ||
        min(answers ->> 'rating') FROM survey_responses WHERE visit_id = '$visit'")" "1 home_visit 5"
    local status
    status=$(curl -fsS -X POST "http://127.0.0.1:$port/api/v1/public/applications/status" \
        -H 'Content-Type: application/json' -d "{\"number\":\"$receipt\",\"code\":\"$code\"}") ||
        fail "the status page does not know the receipt"
    expect "status by receipt" "$(jget "$status" state)" submitted
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

# ==== Durable when it says so: a power cut checked without one ====

# tests/support/sync_shim.c, preloaded into the agent, follows every write and fsync of
# the store (the database, its WAL or journal, and its folder for files created). When
# the agent first prints, it logs whether anything written was still unsynced and
# writes what a power cut at that moment would leave of the store (each file as of its
# last sync) into $work/image: the test boots that image and looks for what the agent
# said it had recorded.
shim_lib=$bin/tests/cf_sync_shim.so

# store_facts FILE: what the store holds that a told user relies on: the terminal's
# identity, the events (seq and digest) and how many reference records.
store_facts() {
    sqlite3 -readonly "$1" "SELECT 'identity ' || coalesce((SELECT lower(hex(device_id)) FROM identity), '-');
        SELECT 'event ' || seq || ' ' || lower(hex(digest)) FROM events ORDER BY seq;
        SELECT 'reference ' || count(*) FROM reference"
}

# synced_run ARGS...: carefact-agent ARGS under the shim. It must succeed and print;
# it must never print while a write to its store is unsynced; the shim must have seen
# writes and syncs of the store (else it checked nothing); and the power-cut image
# taken at its first output, opened by the agent as after a reboot, must hold all the
# store holds now (the command writes nothing after it speaks).
synced_run() {
    rm -rf "$work/sync.log" "$work/image"
    set +e
    timeout 120 env CF_SYNC_SHIM_STORE="$CAREFACT_AGENT_STORE" CF_SYNC_SHIM_LOG="$work/sync.log" \
        CF_SYNC_SHIM_IMAGE="$work/image" LD_PRELOAD="$shim_lib" \
        "$agent_bin" "$@" >"$work/last.out" 2>"$work/last.err"
    rc=$?
    set -e
    out=$(cat "$work/last.out")
    err=$(cat "$work/last.err")
    [ $rc -eq 0 ] || fail "carefact-agent $1 under the sync shim failed ($rc): $err $out"
    [ -s "$work/sync.log" ] || fail "the sync shim logged nothing (not loaded?)"
    local reports dirty summary
    reports=$(grep -c '^report ' "$work/sync.log" || true)
    dirty=$(grep '^report dirty' "$work/sync.log" | head -1 || true)
    summary=$(grep '^summary ' "$work/sync.log" || true)
    [ "$reports" -ge 1 ] || fail "carefact-agent $1 printed nothing the shim saw: $(cat "$work/sync.log")"
    # summary db W/S wal W/S journal W/S dir S
    local -a f
    read -r -a f <<<"${summary//\// }"
    [ ${#f[@]} -eq 12 ] || fail "sync shim summary: '$summary'"
    [ $((f[2] + f[5] + f[8])) -ge 1 ] && [ $((f[3] + f[6] + f[9])) -ge 1 ] ||
        fail "the sync shim saw no write or no sync of the store ($summary): it checked nothing"
    # Boot the power-cut image: the agent recovers it and finds its chain whole.
    local image=$work/image/${CAREFACT_AGENT_STORE##*/} live said_out=$out said_err=$err
    [ -f "$image" ] || fail "a power cut when carefact-agent $1 spoke would leave no store"
    CAREFACT_AGENT_STORE=$image agent status --verify
    [ $rc -eq 0 ] || fail "the store a power cut leaves when carefact-agent $1 speaks" \
        "does not open: $err $out"
    live=$(store_facts "$CAREFACT_AGENT_STORE")
    [ "$(store_facts "$image")" = "$live" ] || {
        diff <(echo "$live") <(store_facts "$image") | head -10 >&2 || true
        fail "a power cut when carefact-agent $1 spoke would lose what it said it recorded" \
            "(${dirty:-no unsynced writes when it spoke})"
    }
    [ -z "$dirty" ] || fail "carefact-agent $1 told its user before its store was on disk:" \
        "$dirty ($summary)"
    out=$said_out err=$said_err
    echo "durable: $1 $2: $reports outputs, all after the store was synced; the power-cut" \
        "image holds $(grep -c '^event' <<<"$live") events ($summary)"
}

case_durable() {
    [ -f "$shim_lib" ] || fail "no $shim_lib (built by tests/e2e.cmake)"
    pg_up
    server_up
    # Enrolment creates the store and writes the terminal's keys and reference data.
    local code
    code=$("$carefactd" enroll-code --db "$db" --worker "$(worker_id 1)")
    synced_run enroll --server "http://127.0.0.1:$port" --code "$code" --json
    device_id=$(jget "$out" device_id)
    [ -n "$device_id" ] || fail "enroll gave no device id: $out"
    # Facts: each one is on disk before the worker is told it is recorded.
    local r
    for r in 7 8 9; do
        synced_run visit attempt --recipient "$(recipient_id $r)" --reason nobody_home
        grep -q "сохранено" <<<"$out" || fail "attempt text: $out"
    done
    synced_run visit cancel --plan "$(plan_of 4)" --reason worker_ill --by worker
    agent_ok sync
    expect "server events" "$(server_events)" 4
    same_chain_as_server
}

# ==== kill -9 at a calibrated random moment ====
#
# Most of an agent run is the dynamic loader and library start-up (libcurl and its
# dependencies); its work on the store is a few milliseconds at the end. A kill at a
# random moment of the whole run therefore mostly lands before the store is touched.
# So each run is watched (a builtin loop over /proc/PID/fd, no fork) until it has the
# store open, and that moment is the origin: unkilled runs of the very command give
# the calibration (from the store being opened to the end of the process), and each
# killed run gets SIGKILL at a moment drawn uniformly from 0 .. 1.2 x that time after
# its origin -- anywhere from opening the store to just after the process ended.
# Every run must end in exit 0 or death by SIGKILL: anything else (a crash, an abort,
# exit 1) fails with the agent's stderr. The cases count runs that finished and runs
# killed with the store open, and fail unless each count reaches its minimum: a loop
# whose kills all came too early or too late has tested nothing. The minimums are
# fractions of the iterations, chosen from runs on the loaded 2-core build machine
# (agent/README.md, "Tests and measures").

# clock_us: the wall clock in microseconds, in $usec (no fork: this is on the timed path).
clock_us() {
    usec=${EPOCHREALTIME/[.,]/}
}

# nap_us N: sleep N microseconds without starting a process (a read with a timeout on
# a fifo nobody writes to), so the kill moment is not a fork's latency late.
nap_us() {
    [ "$1" -gt 0 ] || return 0
    local secs
    printf -v secs '%d.%06d' $(($1 / 1000000)) $(($1 % 1000000))
    read -r -t "$secs" -u "$nap_fd" _ || true
}

nap_open() {
    mkfifo "$work/nap.fifo"
    exec {nap_fd}<>"$work/nap.fifo"
}

# store_sql SQL: a read-only look at the store. Read-only, so it leaves a killed run's
# WAL as it was: the next agent run must recover the store by itself (a read-write
# sqlite3 would recover it first and hide an agent that cannot).
store_sql() {
    sqlite3 -readonly "$CAREFACT_AGENT_STORE" "$1"
}

# store_open_by PID: does the process hold the store's file open now?
store_open_by() {
    local f
    for f in /proc/"$1"/fd/*; do
        [ "$f" -ef "$CAREFACT_AGENT_STORE" ] && return 0
    done
    return 1
}

# await_store PID: poll (every 0.2 ms) until the process has the store open or has
# ended; $origin_us is when the store was first seen open, or 0 if it never was.
await_store() {
    origin_us=0
    local deadline
    clock_us
    deadline=$((usec + 60000000))
    while [ -e /proc/"$1"/exe ]; do # a process that ended (a zombie) has no exe
        if store_open_by "$1"; then
            clock_us
            origin_us=$usec
            return 0
        fi
        nap_us 200
        clock_us
        [ "$usec" -lt "$deadline" ] || fail "the agent never opened its store"
    done
}

# calibrate_add US: one unkilled run's duration joins the window (the last 7); the
# calibration is the window's median, so it follows the machine's load as it changes
# and one slow run does not stretch the kill range by itself.
calib_window=()
calibrate_add() {
    calib_window+=("$1")
    [ ${#calib_window[@]} -le 7 ] || calib_window=("${calib_window[@]:1}")
    local -a sorted
    mapfile -t sorted < <(printf '%s\n' "${calib_window[@]}" | sort -n)
    calib_us=${sorted[$((${#sorted[@]} / 2))]}
}

# timed_run CMD...: run CMD unkilled, watched as a killed run is; it must exit 0. The
# time from its store being opened to its end joins the calibration.
timed_run() {
    local pid st=0
    "$@" >"$work/k.out" 2>"$work/k.err" &
    pid=$!
    await_store "$pid"
    wait "$pid" 2>/dev/null || st=$?
    clock_us
    [ $st -eq 0 ] || fail "unkilled run of '$*' ended with $st: $(cat "$work/k.err")"
    [ "$origin_us" -eq 0 ] || calibrate_add $((usec - origin_us))
    [ ${#calib_window[@]} -gt 0 ] || fail "an unkilled run ended before its store was seen open"
}

# kill_run CMD...: run CMD and kill -9 it at a uniform random moment in
# 0 .. 1.2 x calibration after its store was opened. Sets run_outcome: finished
# (exit 0), open (killed with the store open) or closed (killed after it closed the
# store, while exiting). Any other end fails the case.
kill_run() {
    local pid st=0 at open=0
    at=$((((RANDOM << 15) | RANDOM) % (calib_us * 12 / 10 + 1)))
    "$@" >"$work/k.out" 2>"$work/k.err" &
    pid=$!
    await_store "$pid"
    if [ "$origin_us" -ne 0 ]; then
        clock_us
        nap_us $((origin_us + at - usec))
        store_open_by "$pid" && open=1
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || st=$?
    case $st in
    0) run_outcome=finished ;;
    137) run_outcome=$([ $open -eq 1 ] && echo open || echo closed) ;;
    *)
        [ $st -gt 128 ] && st="$st (died of signal $((st - 128)))"
        fail "'$*' ended with status $st: only exit 0 or death by SIGKILL is acceptable;" \
            "stderr: $(cat "$work/k.err")"
        ;;
    esac
}

# need_at_least WHAT GOT MIN
need_at_least() {
    [ "$2" -ge "$3" ] || fail "$1: $2, want at least $3 (kills landed outside the work:" \
        "calibration $((calib_us / 1000)) ms)"
}

# queue_consistent: the store's own bookkeeping agrees with its rows: the head is the
# last event, seqs have no holes, exactly the events up to acked_seq are marked
# acknowledged, and the head digest is the last event's.
queue_consistent() {
    local got
    got=$(store_sql "
        SELECT m.last_seq = coalesce((SELECT max(seq) FROM events), 0)
           AND (SELECT count(*) FROM events) =
               coalesce((SELECT max(seq) - min(seq) + 1 FROM events), 0)
           AND m.acked_seq <= m.last_seq
           AND NOT EXISTS (SELECT 1 FROM events WHERE (seq <= m.acked_seq) <> (acked = 1))
           AND (m.last_seq = 0 OR m.last_digest =
                (SELECT digest FROM events ORDER BY seq DESC LIMIT 1))
        FROM meta m")
    [ "$got" = 1 ] || fail "the queue is inconsistent: $(store_sql \
        "SELECT 'last_seq ' || last_seq || ', acked_seq ' || acked_seq FROM meta") ;" \
        "events $(store_sql "SELECT min(seq) || '..' || max(seq) || ' (' || count(*) || '), acked ' || sum(acked) FROM events")"
}

# server_agrees: every event the terminal marked acknowledged is on the server, once,
# with the same digest; the server holds no event the terminal did not make.
server_agrees() {
    store_sql "SELECT seq || ' ' || lower(hex(digest)) FROM events" |
        sort >"$work/mine.txt"
    store_sql \
        "SELECT seq || ' ' || lower(hex(digest)) FROM events WHERE acked = 1" | sort >"$work/acked.txt"
    sql "SELECT seq || ' ' || encode(digest, 'hex') FROM events WHERE device_id = '$device_id'" |
        sort >"$work/theirs.txt"
    local dup lost alien
    dup=$(cut -d' ' -f1 "$work/theirs.txt" | uniq -d | head -3)
    [ -z "$dup" ] || fail "the server stores event(s) $dup more than once"
    lost=$(comm -23 "$work/acked.txt" "$work/theirs.txt" | head -3)
    [ -z "$lost" ] || fail "acknowledged on the terminal but not on the server: $lost"
    alien=$(comm -13 "$work/mine.txt" "$work/theirs.txt" | head -3)
    [ -z "$alien" ] || fail "the server holds events the terminal did not make: $alien"
}

case_kill_appends() {
    pg_up
    server_up
    enroll
    nap_open
    local i seq before after done_file=$work/done.txt
    local finished=0 open_before=0 open_after=0 closed_kept=0 closed_none=0 timed=0
    local -a who=()
    for i in $(seq 0 9); do who+=("$(recipient_id $((7 + i)))"); done
    : >"$done_file"
    local -a cmd=("$agent_bin" visit attempt --reason nobody_home --json --recipient)
    # Calibration: seven unkilled appends (each one is an append like any other).
    for i in 1 2 3 4 5 6 7; do
        timed_run "${cmd[@]}" "${who[$i]}"
        grep -o '"seq":[0-9]*' "$work/k.out" | cut -d: -f2 >>"$done_file"
        timed=$((timed + 1))
    done
    echo "kill_appends: calibration ${calib_window[*]} us"
    for i in $(seq "$iterations"); do
        before=$(store_sql "SELECT last_seq FROM meta")
        kill_run "${cmd[@]}" "${who[$((i % 10))]}"
        after=$(store_sql "SELECT last_seq FROM meta")
        case $run_outcome in
        finished)
            finished=$((finished + 1))
            seq=$(grep -o '"seq":[0-9]*' "$work/k.out" | cut -d: -f2)
            [ -n "$seq" ] || fail "an append exited 0 without saying its seq: $(cat "$work/k.out")"
            echo "$seq" >>"$done_file"
            [ "$after" = "$seq" ] || fail "append said seq $seq, the store's head is $after"
            ;;
        open) # killed with the store open: before or after its commit
            if [ "$after" -eq "$before" ]; then
                open_before=$((open_before + 1))
            else
                open_after=$((open_after + 1))
            fi
            ;;
        closed) # killed while the store was not open: still exiting, or not yet in it
            if [ "$after" -eq "$before" ]; then
                closed_none=$((closed_none + 1))
            else
                closed_kept=$((closed_kept + 1))
            fi
            ;;
        esac
        [ "$after" -le $((before + 1)) ] || fail "one append made $((after - before)) events"
        queue_consistent
        # Recalibrate as the load changes; verify the whole chain now and then.
        if [ $((i % 10)) -eq 0 ]; then
            timed_run "${cmd[@]}" "${who[$((i % 10))]}"
            grep -o '"seq":[0-9]*' "$work/k.out" | cut -d: -f2 >>"$done_file"
            timed=$((timed + 1))
            agent_ok status --verify
        fi
    done
    agent_ok status --verify
    grep -q "цепочка событий цела" <<<"$out" || fail "after kills: $out"
    local last
    last=$(store_sql "SELECT coalesce(max(seq), 0) FROM events")
    # Every append that said it was done is there, as what it said.
    while read -r seq; do
        [ "$(store_sql "SELECT kind FROM events WHERE seq = $seq")" = visit.attempt ] ||
            fail "event $seq was reported stored but is missing"
    done <"$done_file"
    expect "events kept" "$last" $((timed + finished + open_after + closed_kept))
    echo "kill_appends: $iterations kill runs: $finished finished;" \
        "killed with the store open: $open_before before the commit, $open_after after it;" \
        "killed with the store not open: $closed_kept after the commit, $closed_none before it;" \
        "$timed unkilled; $last events kept; calibration now $((calib_us / 1000)) ms" \
        "(store opened .. process ended)"
    need_at_least "appends that finished before the kill" "$finished" $((iterations / 50 + 1))
    need_at_least "appends killed with the store open before their commit" "$open_before" $((iterations / 6))
    agent_ok sync --upload-only
    expect "server events" "$(server_events)" "$last"
    same_chain_as_server
}

# backlog_to N: append events until N wait to be sent (the agent run directly: this
# is most of the case's time).
backlog_to() {
    local waiting
    waiting=$(store_sql "SELECT count(*) FROM events WHERE acked = 0")
    while [ "$waiting" -lt "$1" ]; do
        "$agent_bin" visit attempt --recipient "${who[$((waiting % 10))]}" --reason refused \
            >/dev/null 2>"$work/last.err" || fail "append for the backlog failed: $(cat "$work/last.err")"
        waiting=$((waiting + 1))
    done
}

case_kill_sync() {
    pg_up
    server_up
    enroll
    nap_open
    # Every killed sync starts with 6 events waiting, sent one to a batch: six
    # requests, six acknowledgements -- a kill can land between any of them.
    local backlog=6 i made held_before held_after
    local -a who=()
    for i in $(seq 0 9); do who+=("$(recipient_id $((7 + i)))"); done
    local finished=0 killed=0 none=0 partly=0 all=0 timed=0
    local -a cmd=("$agent_bin" sync --upload-only --batch 1)
    for i in 1 2 3 4 5 6 7; do
        backlog_to $backlog
        timed_run "${cmd[@]}"
        timed=$((timed + 1))
    done
    echo "kill_sync: calibration ${calib_window[*]} us"
    for i in $(seq "$iterations"); do
        backlog_to $backlog
        made=$(store_sql "SELECT last_seq FROM meta")
        held_before=$(server_events)
        kill_run "${cmd[@]}"
        held_after=$(server_events)
        if [ "$run_outcome" = finished ]; then
            finished=$((finished + 1))
            expect "held after a finished sync" "$held_after" "$made"
        else
            killed=$((killed + 1))
            # How far the upload got when the kill came.
            if [ "$held_after" -eq "$held_before" ]; then
                none=$((none + 1))
            elif [ "$held_after" -lt "$made" ]; then
                partly=$((partly + 1))
            else
                all=$((all + 1))
            fi
        fi
        queue_consistent
        server_agrees
        if [ $((i % 10)) -eq 0 ]; then
            backlog_to $backlog
            timed_run "${cmd[@]}"
            timed=$((timed + 1))
        fi
    done
    agent_ok status --verify
    agent_ok sync --upload-only --json
    local last
    last=$(store_sql "SELECT max(seq) FROM events")
    expect "acknowledged" "$(jget "$out" acked_seq)" "$last"
    expect "server events" "$(server_events)" "$last"
    queue_consistent
    server_agrees
    same_chain_as_server
    echo "kill_sync: $iterations kill runs, each with a $backlog-event backlog sent one event" \
        "a batch: $finished finished; $killed killed: $none before the server stored any of" \
        "the backlog, $partly mid-upload, $all after the server stored it all;" \
        "$timed unkilled; $last events, all on the server once;" \
        "calibration now $((calib_us / 1000)) ms (store opened .. process ended)"
    need_at_least "syncs that finished before the kill" "$finished" $((iterations / 40 + 1))
    need_at_least "syncs killed mid-upload" "$partly" $((iterations / 8))
}

"case_$case_name"
echo "ok: $case_name"
