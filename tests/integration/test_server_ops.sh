#!/usr/bin/env bash
# Integration test of carefactd as an administrator runs it: two instances migrating
# one database at once, settings from a config file and the environment (and a bad
# value refused by name), HTTPS (ECDHE+AEAD suites only under TLS 1.2, HSTS) and a
# clear refusal of unusable TLS files (see below), and SIGTERM draining
# a request still in flight (the client gets its whole answer, the process exits 0).
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
carefactd="$CF_BINARY_DIR/backend/carefactd"
work=$(mktemp -d /tmp/cfops.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    "$CF_SOURCE_DIR/tools/pg" destroy "$work" >/dev/null 2>&1 || true
}
trap cleanup EXIT
db=$("$CF_SOURCE_DIR/tools/pg" start "$work" --owner-pid $$)
app_db=$("$CF_SOURCE_DIR/tools/pg" conninfo "$work" --app) # carefactd serves as the app role
. "$CF_SOURCE_DIR/tools/lib/port.sh"
port() { cf_pick_port; }
wait_healthy() {
    for _ in $(seq 100); do curl -fsk "$1/healthz" >/dev/null 2>&1 && return 0; sleep 0.1; done
    return 1
}

# Two instances migrating together: both succeed, each migration applied once.
"$carefactd" migrate --db "$db" 2>"$work/m1" & m1=$!
"$carefactd" migrate --db "$db" 2>"$work/m2" & m2=$!
wait "$m1" || fail "first concurrent migrate failed: $(cat "$work/m1")"
wait "$m2" || fail "second concurrent migrate failed: $(cat "$work/m2")"
applied=$(psql "$db" -XtAc "SELECT count(*) FROM schema_migrations")
files=$(ls "$CF_SOURCE_DIR"/sql/[0-9][0-9][0-9][0-9]_*.sql | wc -l)
[ "$applied" = "$files" ] || fail "schema_migrations has $applied rows for $files files"

# carefactd refuses to serve as a role row-level security does not apply to: the
# tables' owner, a superuser and a BYPASSRLS role (issue 12), naming the role and the app role to use;
# and serve --migrate (the app role cannot migrate).
su_db=$("$CF_SOURCE_DIR/tools/pg" conninfo "$work" --superuser)
psql "$su_db" -XqAc "CREATE ROLE cf_bypass LOGIN BYPASSRLS" || fail "cannot create a BYPASSRLS role"
bypass_db="${app_db/user=carefact_app/user=cf_bypass}"
for who in "$db:carefact:owns the tables" "$su_db:postgres:is a superuser" \
    "$bypass_db:cf_bypass:has BYPASSRLS"; do
    conn=${who%%:*} rest=${who#*:}
    if out=$("$carefactd" serve --db "$conn" --listen 127.0.0.1:1 2>&1); then
        fail "carefactd served as ${rest%%:*}"
    fi
    grep -q "database role '${rest%%:*}' ${rest#*:}" <<<"$out" || fail "refusal of ${rest%%:*}: $out"
    grep -q "serve as the app role carefact_app (tools/pg conninfo DIR --app)" <<<"$out" ||
        fail "refusal of ${rest%%:*} does not name the app role: $out"
done
if out=$("$carefactd" serve --db "$app_db" --listen 127.0.0.1:1 --migrate 2>&1); then
    fail "serve --migrate was accepted"
fi
grep -q "run carefactd migrate --db OWNER-CONNINFO first" <<<"$out" || fail "serve --migrate: $out"

# Settings from a config file and the environment.
p=$(port)
printf '# carefactd settings\nlisten = 127.0.0.1:%s\nthreads = 3\n' "$p" >"$work/carefactd.conf"
CAREFACT_DB="$app_db" "$carefactd" serve --config "$work/carefactd.conf" 2>"$work/conf.log" &
pids+=($!)
wait_healthy "http://127.0.0.1:$p" || fail "carefactd did not serve with settings from file + env"
newest=$(basename "$(ls "$CF_SOURCE_DIR"/sql/[0-9][0-9][0-9][0-9]_*.sql | tail -1)")
curl -fsS "http://127.0.0.1:$p/healthz" | grep -q "\"schema\":\"$newest\"" ||
    fail "healthz does not report the newest migration $newest: $(curl -sS "http://127.0.0.1:$p/healthz")"
# HSTS is for TLS only: a plain-HTTP answer does not carry it.
if curl -sS -D - -o /dev/null "http://127.0.0.1:$p/healthz" | grep -qi '^strict-transport-security'; then
    fail "Strict-Transport-Security sent over plain HTTP"
fi
kill -TERM "${pids[-1]}"; wait "${pids[-1]}" || fail "carefactd did not exit 0 on SIGTERM"
printf 'threads = many\n' >"$work/bad.conf"
if out=$("$carefactd" serve --db "$app_db" --config "$work/bad.conf" 2>&1); then
    fail "a bad config value was accepted"
fi
grep -q "line 1: threads must be a whole number" <<<"$out" || fail "bad config message: $out"
# The EMV CA key file (issue 14): a bad line stops start-up naming the file and the line,
# by flag and by the configuration key alike.
printf '# test keys\nA000000658 92 C0FFEE 03\n' >"$work/bad-ca.keys"
if out=$("$carefactd" serve --db "$app_db" --emv-ca-keys "$work/bad-ca.keys" 2>&1); then
    fail "a bad EMV CA key line was accepted"
fi
grep -q "bad-ca.keys line 2: modulus must be" <<<"$out" || fail "bad CA key message: $out"
printf 'emv-ca-keys = %s\n' "$work/bad-ca.keys" >"$work/ca.conf"
if out=$("$carefactd" serve --db "$app_db" --config "$work/ca.conf" 2>&1); then
    fail "a bad EMV CA key line (config key) was accepted"
fi
grep -q "bad-ca.keys line 2: modulus must be" <<<"$out" || fail "bad CA key message: $out"

# HTTPS: a local CA signs the server's certificate; carefactd serves TLS (civetweb
# through backend/tlscompat), a client pinning that CA gets answers, including a
# problem+json for a bad body; unusable certificate settings are refused at start.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=carefact test CA" \
    -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
# An RSA server key: with it a client could ask for the static-RSA suites (no forward
# secrecy) that must not be offered.
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$work/san.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
    -days 2 -extfile "$work/san.ext" -out "$work/server.pem" 2>/dev/null
p=$(port)
"$carefactd" serve --db "$app_db" --listen "127.0.0.1:$p" --tls-cert "$work/server.pem" \
    --tls-key "$work/server.key" 2>"$work/tls.log" &
pids+=($!)
for _ in $(seq 100); do
    curl -fsS --cacert "$work/ca.pem" "https://127.0.0.1:$p/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
out=$(curl -sS --cacert "$work/ca.pem" "https://127.0.0.1:$p/healthz") || fail "HTTPS healthz: $(cat "$work/tls.log")"
grep -q '"status":"ok"' <<<"$out" || fail "HTTPS healthz body: $out"
out=$(curl -sS --cacert "$work/ca.pem" -o /dev/null -w '%{http_code} %{content_type}' \
      -H 'Content-Type: application/json' --data '{"code":' "https://127.0.0.1:$p/api/v1/devices")
[ "$out" = "400 application/problem+json" ] || fail "HTTPS bad body: $out"
if curl -fsS "https://127.0.0.1:$p/healthz" >/dev/null 2>&1; then
    fail "a client without the CA trusted the server"
fi
# Every answer under TLS carries HSTS, also the dashboard's files (their own heads).
for path in /healthz /web/app.js /nowhere; do
    curl -sS --cacert "$work/ca.pem" -D - -o /dev/null "https://127.0.0.1:$p$path" |
        grep -qi '^strict-transport-security: max-age=31536000' ||
        fail "no Strict-Transport-Security on HTTPS $path"
done
# TLS 1.2: ECDHE with AEAD only. Static RSA key exchange (no forward secrecy) and CBC
# suites fail the handshake; TLS 1.3 keeps OpenSSL's defaults; TLS 1.1 is refused.
handshake() { openssl s_client -connect "127.0.0.1:$p" -CAfile "$work/ca.pem" "$@" </dev/null >"$work/s_client.out" 2>&1; }
for suite in AES128-SHA AES256-SHA AES128-GCM-SHA256 AES256-GCM-SHA384 AES128-SHA256 \
             ECDHE-RSA-AES128-SHA ECDHE-RSA-AES256-SHA384 DHE-RSA-AES128-GCM-SHA256; do
    if handshake -tls1_2 -cipher "$suite"; then
        fail "TLS 1.2 suite $suite was accepted: $(grep -m1 'Cipher' "$work/s_client.out")"
    fi
done
for suite in ECDHE-RSA-AES128-GCM-SHA256 ECDHE-RSA-AES256-GCM-SHA384 ECDHE-RSA-CHACHA20-POLY1305; do
    handshake -tls1_2 -cipher "$suite" || fail "TLS 1.2 suite $suite refused: $(tail -5 "$work/s_client.out")"
    grep -q "Cipher is $suite" "$work/s_client.out" || fail "not $suite: $(grep -m1 Cipher "$work/s_client.out")"
done
handshake -tls1_3 || fail "TLS 1.3 refused: $(tail -5 "$work/s_client.out")"
if handshake -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'; then
    fail "TLS 1.1 was accepted"
fi
kill -0 "${pids[-1]}" || fail "carefactd died serving HTTPS: $(cat "$work/tls.log")"
kill -TERM "${pids[-1]}"; wait "${pids[-1]}" || fail "HTTPS carefactd did not exit 0 on SIGTERM"
: >"$work/empty.pem"
if out=$("$carefactd" serve --db "$app_db" --listen 127.0.0.1:1 --tls-cert "$work/empty.pem" 2>&1); then
    fail "an empty certificate file was accepted"
fi
grep -q "the certificate (--tls-cert) cannot be loaded" <<<"$out" || fail "bad certificate message: $out"
if out=$("$carefactd" serve --db "$app_db" --listen 127.0.0.1:1 --tls-cert "$work/server.pem" \
         --tls-key "$work/ca.key" 2>&1); then
    fail "a key of another certificate was accepted"
fi
grep -Eq "key values mismatch|does not belong to the certificate" <<<"$out" || fail "wrong key message: $out"

# SIGTERM while a slow client is still sending its body: the request is answered in
# full, then the server exits 0.
p=$(port)
"$carefactd" serve --db "$app_db" --listen "127.0.0.1:$p" 2>"$work/drain.log" &
server=$!
pids+=($server)
wait_healthy "http://127.0.0.1:$p" || fail "carefactd did not start"
{ printf '{"code":"NOSUCHCODE22","public_key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}'
  head -c 300000 /dev/zero | tr '\0' ' '; } >"$work/slow-body.json"
curl -s --limit-rate 150k -o "$work/slow.out" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary @"$work/slow-body.json" "http://127.0.0.1:$p/api/v1/devices" >"$work/slow.status" &
client=$!
sleep 0.7
kill -TERM "$server"
wait "$client" || fail "the in-flight request was cut off"
# (300 kB is over the enrolment body's 4 KiB cap: the whole answer is that problem.)
[ "$(cat "$work/slow.status")" = 413 ] || fail "in-flight request got $(cat "$work/slow.status"), want 413"
grep -q '"type":"https://carefact.example/problems/too-large"' "$work/slow.out" ||
    fail "in-flight request's answer incomplete: $(cat "$work/slow.out")"
wait "$server" || fail "carefactd did not exit 0 after draining"
echo "server operations: all checks passed"
