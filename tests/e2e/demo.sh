#!/usr/bin/env bash
# End-to-end: tools/demo --no-wait on this build, in a private folder and port. It
# must come up, show the card read through the emulated reader (token and last four
# digits, never the card number), keep its files to its owner (0600) and stop
# everything it started. --offline: a test installs nothing and needs no network
# (tools/check runs tools/deps first).
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
var=$(mktemp -d /tmp/cfdemo.XXXXXX)
recorders=$(mktemp -d /tmp/cfdemo-installers.XXXXXX) # installers that record a call, outside the demo's folder
trap '"$CF_SOURCE_DIR/tools/pg" destroy "$var/pg" >/dev/null 2>&1 || true; rm -rf "$var" "$recorders"' EXIT
. "$CF_SOURCE_DIR/tools/lib/port.sh"
port=$(cf_pick_port)
# Installers on PATH that only record being called: the demo run must call none.
for tool in npm npx apt-get apt pip pip3; do
    printf '#!/bin/sh\necho "%s $*" >>"%s"\nexit 1\n' "$tool" "$recorders/installs" >"$recorders/$tool"
    chmod +x "$recorders/$tool"
done
out=$(PATH=$recorders:$PATH timeout 300 "$CF_SOURCE_DIR/tools/demo" --no-wait --offline --var "$var" --build-dir "$CF_BINARY_DIR" \
      --listen "127.0.0.1:$port" 2>&1) && rc=0 || rc=$?
echo "$out"
[ ! -s "$recorders/installs" ] || fail "the demo tried to install: $(cat "$recorders/installs")"
[ "$rc" -eq 0 ] || fail "tools/demo failed"
grep -q "database: host=$var/pg" <<<"$out" || fail "demo did not report its private database"
# The demo card is the synthetic Mir card carefact-gen-card makes for recipient 1.
grep -q '"method":"emv","scheme":"mir","last4":"0936","expiry":"2032-05"' <<<"$out" ||
    fail "demo did not read the demo card"
if [ -x "$CF_BINARY_DIR/backend/carefactd" ]; then
    grep -q "belongs to: Иванов Иван" <<<"$out" || fail "demo did not identify the card's recipient"
    grep -Eq "enrolment code for the terminal .*: [A-Z2-9]{12}" <<<"$out" || fail "no enrolment code"
    # The visit played on the terminal reached the backend: rated, 52 minutes against a
    # 60-minute norm, confirmed by the recipient's card at both ends, no flag.
    grep -q "Терминал зарегистрирован" <<<"$out" || fail "the terminal was not enrolled"
    grep -q "ВИЗИТ НАЧАТ" <<<"$out" || fail "the visit did not start"
    grep -q "ВИЗИТ ЗАВЕРШЁН: Иванов Иван Петрович, длительность 52 мин" <<<"$out" || fail "the visit did not end"
    grep -q "Отправлено событий: 3 из 3" <<<"$out" || fail "the sync did not send the 3 events"
    v=$(sed -n '/^визит /,/^отметки/p' <<<"$out")
    grep -q ": завершён и оценён" <<<"$v" || fail "backend's visit state: $v"
    grep -q "^длительность 52 мин при норме 60 мин" <<<"$v" || fail "backend's duration: $v"
    grep -q "^подтверждён картой получателя: в начале да, в конце да" <<<"$v" || fail "card confirmation: $v"
    grep -q "^оценка 5: «Спасибо, всё хорошо»" <<<"$v" || fail "rating: $v"
    grep -q "^отметки: нет" <<<"$v" || fail "flags: $v"
    # ... and this month's draft payment register pays it: HH-SHOP once, MED-BP twice.
    r=$(grep "^реестр " <<<"$out") || fail "demo did not show the payment register"
    grep -Eq "\(черновик\): этот визит — HH-SHOP × 1 = [0-9 ]+,[0-9]{2} руб\., MED-BP × 2 = " <<<"$r" ||
        fail "the visit is not paid in the draft register: $r"
    grep -Eq "demo account: login manager1 password [A-Za-z0-9_-]{12} " <<<"$out" ||
        fail "demo did not print the manager's login"
    grep -Eq "demo account: login authority password [A-Za-z0-9_-]{12} " <<<"$out" ||
        fail "demo did not print the authority's login"
    # ... and a citizen's application went from the public form to an approved programme.
    grep -Eq "^заявление № [0-9]{4}-[0-9]{6} подано; код для страницы статуса: [0-9]+ " <<<"$out" ||
        fail "the demo filed no application"
    grep -Eq "^заявление № [0-9-]+: одобрено; сертификат выдан" <<<"$out" || fail "the application was not approved"
    grep -Eq "^визиты запланированы на 14 дней: [1-9]" <<<"$out" || fail "the approval planned no visits"
    grep -q "^путь: формируется → передано на проверку → проверено, передано в департамент → рассматривается в департаменте → одобрено$" <<<"$out" ||
        fail "the status page did not show the application's path"
    grep -Eq "demo account: login dept-case password [A-Za-z0-9_-]{12} " <<<"$out" ||
        fail "demo did not print the caseworker's login"
    grep -Eq "sign in as manager1, password [A-Za-z0-9_-]{12} — " <<<"$out" ||
        fail "demo did not show how to sign in to the dashboard"
fi
# What the demo writes under var/ holds passwords (demo-data.out), a session cookie
# (cookies), the terminal's key (agent.db): readable by its owner only.
[ -f "$var/demo-data.out" ] || [ ! -x "$CF_BINARY_DIR/backend/carefactd" ] || fail "no demo-data.out"
[ -f "$var/cookies" ] || [ ! -x "$CF_BINARY_DIR/backend/carefactd" ] || fail "no cookies file"
loose=$(find "$var" -path "$var/pg" -prune -o ! -type d -perm /077 -printf '%m %p\n')
[ -z "$loose" ] || fail "demo files readable by others: $loose"
if grep -q "2202589086670936" <<<"$out"; then fail "the card number appeared in the demo output"; fi
grep -q "demo: stopped" <<<"$out" || fail "demo did not stop cleanly"
# Nothing the demo started may be left: no process holding its files, no server.
if fuser "$var"/sim.out "$var"/*.log >/dev/null 2>&1 || [ -e "$var/pg/data/postmaster.pid" ]; then
    fail "demo left processes running"
fi
echo "demo: ok"
