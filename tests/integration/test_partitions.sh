#!/usr/bin/env bash
# Integration test of the growth schema (sql/0014_growth.sql, issue 18). Mutants
# growth.exactly-once-race, growth.exactly-once-statement, growth.upkeep-no-drain.
#   1. events is partitioned by the month received, and a device's seq is still stored
#      once: across two months, twice in one statement, and by two transactions racing
#      (the trigger events_exactly_once on the device's head; the primary key alone now
#      holds received_at);
#   2. a month without its partition fails with PostgreSQL's clear error, and carefactd's
#      upkeep creates this month's and the next two at start;
#   3. the queries ingest_finish runs on the batch just stored read one partition
#      (partition pruning in the plans of the real function, through auto_explain);
#   4. an integrity verdict is never lost: an upload committed by a carefactd that died
#      before judging it is judged by the next carefactd's upkeep at start;
#   5. a card binding's resolution finds its events by index, not by a scan of every
#      partition (sql/0034, mutant growth.binding-scan);
#   6. a visit's events are read from the month its key was first received on (sql/0036):
#      a new visit's reads keep this month's partition alone, and a visit opened 40 days
#      ago, a key with only a rating then, and history loaded newest first are still read
#      whole (mutants received.*);
#   7. as carefact_app, the rebuild finds the visit's recipient by key among 20,000 of the
#      provider's (sql/0036, mutant received.rebuild-recipient-by-provider).
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
carefactd="$CF_BINARY_DIR/backend/carefactd"
work=$(mktemp -d /tmp/cfpart.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    "$CF_SOURCE_DIR/tools/pg" destroy "$work" >/dev/null 2>&1 || true
}
trap cleanup EXIT
db=$("$CF_SOURCE_DIR/tools/pg" start "$work" --owner-pid $$)
app_db=$("$CF_SOURCE_DIR/tools/pg" conninfo "$work" --app)
su_db=$("$CF_SOURCE_DIR/tools/pg" conninfo "$work" --superuser)
"$carefactd" migrate --db "$db" >/dev/null 2>&1 || fail "migrate"
"$carefactd" demo-data --db "$db" \
    --token-key-hex 63617265666163742d64656d6f2d726567696f6e2d746f6b656e2d6b65792121 >/dev/null ||
    fail "demo-data"
sql() { psql "$db" -XtAqv ON_ERROR_STOP=1 -c "$1"; }
worker="md5('demo:worker:1')::uuid" provider="md5('demo:provider:1')::uuid"
recipient=$(sql "SELECT id FROM recipients WHERE provider_id = $provider ORDER BY id LIMIT 1")
device() { # a device of worker 1, by name
    sql "INSERT INTO devices (id, worker_id, public_key)
         VALUES (md5('test:device:$1')::uuid, $worker, decode(repeat('00', 32), 'hex'))
         ON CONFLICT DO NOTHING"
    echo "md5('test:device:$1')::uuid"
}
# one event row: device, seq, received_at, kind, visit, wall time, mono_ms
row() {
    echo "($1, $2, decode(repeat('11', 32), 'hex'), '$4', $5, $worker, '$recipient', $6, $7,
           md5('test:boot')::uuid, $3, $provider)"
}
cols="device_id, seq, digest, kind, visit_id, worker_id, recipient_id, wall_time, mono_ms,
      boot_id, received_at, provider_id"

# ==== 1. Partitions and exactly once ====
[ "$(sql "SELECT relkind FROM pg_class WHERE relname = 'events'")" = p ] ||
    fail "events is not a partitioned table"
# history: partitions for the last three months too
sql "SELECT events_partitions_ensure(now() - interval '3 months', now())" >/dev/null
a=$(device a)
sql "INSERT INTO events ($cols) VALUES $(row "$a" 1 "now()" visit.attempt NULL "now()" 1000)"
[ "$(sql "SELECT last_seq FROM devices WHERE id = $a")" = 1 ] || fail "the head did not move"
# the same (device, seq) received in another month: another partition, same seq
out=$(psql "$db" -XtAq -c "INSERT INTO events ($cols)
    VALUES $(row "$a" 1 "now() - interval '40 days'" visit.attempt NULL "now()" 1000)" 2>&1) &&
    fail "(device, seq) stored twice in two months"
grep -q "event (device .*, seq 1) is stored already" <<<"$out" || fail "duplicate refused how? $out"
# twice in one statement, in two months
out=$(psql "$db" -XtAq -c "INSERT INTO events ($cols)
    VALUES $(row "$a" 2 "now()" visit.attempt NULL "now()" 1000),
           $(row "$a" 2 "now() - interval '40 days'" visit.attempt NULL "now()" 1000)" 2>&1) &&
    fail "(device, seq) stored twice in one statement"
grep -q "seq 2) is stored already" <<<"$out" || fail "duplicate in a statement refused how? $out"
# two transactions racing for the same seq, in two months: the second waits, then refuses
b=$(device b)
psql "$db" -XtAq -c "BEGIN" -c "INSERT INTO events ($cols)
    VALUES $(row "$b" 1 "now()" visit.attempt NULL "now()" 1000)" -c "SELECT pg_sleep(1.5)" \
    -c "COMMIT" >/dev/null &
first=$!
sleep 0.5
out=$(psql "$db" -XtAq -c "INSERT INTO events ($cols)
    VALUES $(row "$b" 1 "now() - interval '40 days'" visit.attempt NULL "now()" 1000)" 2>&1) &&
    fail "two racing transactions stored (device, seq) twice"
wait "$first" || fail "the first of the racing transactions failed"
grep -q "is stored already" <<<"$out" || fail "the race refused how? $out"
[ "$(sql "SELECT count(*) FROM events WHERE device_id = $b")" = 1 ] || fail "race: not one row"

# ==== 2. A missing month; partitions ahead ====
out=$(psql "$db" -XtAq -c "INSERT INTO events ($cols)
    VALUES $(row "$a" 3 "'2001-01-15'" visit.attempt NULL "now()" 1000)" 2>&1) &&
    fail "an event was stored in a month without a partition"
grep -q 'no partition of relation "events" found for row' <<<"$out" || fail "missing month: $out"
ahead=("$(sql "SELECT 'events_' || to_char(now() AT TIME ZONE 'UTC' + interval '1 month', 'YYYY_MM')")"
       "$(sql "SELECT 'events_' || to_char(now() AT TIME ZONE 'UTC' + interval '2 months', 'YYYY_MM')")")
for t in "${ahead[@]}"; do sql "DROP TABLE $t"; done

# ==== 4 (set-up). Two overlapping visits of worker 1 on two terminals, their uploads
# committed (as ingest does: events, then ingest_finish) but not judged ====
c=$(device c)
d=$(device d)
upload() { # device, visit, start offset (minutes before now)
    psql "$db" -XtAqv ON_ERROR_STOP=1 -c "BEGIN" -c "INSERT INTO events ($cols) VALUES
        $(row "$1" 1 "now()" visit.started "'$2'" "now() - interval '$3 minutes'" 1000),
        $(row "$1" 2 "now()" visit.ended "'$2'" "now() - interval '$3 minutes' + interval '30 minutes'" 1801000)" \
        -c "SELECT visits FROM ingest_finish($1, 0, 2, decode(repeat('11', 32), 'hex'))" -c "COMMIT" \
        >/dev/null
}
v1=$(sql "SELECT gen_random_uuid()") v2=$(sql "SELECT gen_random_uuid()")
upload "$c" "$v1" 120
upload "$d" "$v2" 110
[ "$(sql "SELECT count(*) FROM visit_integrity_queue")" = 2 ] || fail "the uploads were not queued"
[ "$(sql "SELECT count(*) FROM visits WHERE id IN ('$v1', '$v2') AND state = 'ended'
          AND integrity_flags = '{}'")" = 2 ] || fail "visits judged inside the upload's transaction"

# ==== 3. Pruning in ingest_finish's queries on the batch just stored ====
e=$(device e)
plans=$(psql "$su_db" -XtAq -c "LOAD 'auto_explain'" -c "SET auto_explain.log_min_duration = 0" \
    -c "SET auto_explain.log_nested_statements = on" -c "SET auto_explain.log_level = notice" \
    -c "SET client_min_messages = notice" -c "BEGIN" \
    -c "INSERT INTO events ($cols) VALUES $(row "$e" 1 "now()" visit.attempt NULL "now()" 1000)" \
    -c "SELECT visits FROM ingest_finish($e, 0, 1, decode(repeat('11', 32), 'hex'))" \
    -c "ROLLBACK" 2>&1)
partitions=$(sql "SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass")
[ "$partitions" -ge 4 ] || fail "expected several partitions, found $partitions"
this=$(sql "SELECT 'events_' || to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM')")
# the plans of the two queries that read the batch (its visits, its card bindings)
for q in "SELECT array_agg(DISTINCT e.visit_key)" "INSERT INTO card_bindings"; do
    plan=$(awk -v q="$q" '/NOTICE:  duration:/ { p = 0; buf = "" } { buf = buf "\n" $0 }
                          index($0, q) { p = 1 } p && /Subplans Removed|Seq Scan|Index|Result/ { print buf; buf = "" }' \
        <<<"$plans")
    [ -n "$plan" ] || fail "no plan of \"$q\" in: $plans"
    grep -q "Subplans Removed: $((partitions - 1))" <<<"$plan" ||
        fail "\"$q\" is not pruned to one partition of $partitions: $plan"
    grep -q "$this" <<<"$plan" || fail "\"$q\" does not read this month's partition $this: $plan"
done
# the reads of the batch's visits' events (the ownership check, the rebuild): a new visit's
# first event is this batch's, so only this month's partition is read (sql/0036)
for q in "bool_or(e.device_id <> p_device)" "e.card_proof_level, e.card_proof_failure -- 0013"; do
    plan=$(awk -v q="$q" '/NOTICE:  duration:/ { p = 0 } index($0, q) { p = 1 } p' <<<"$plans")
    [ -n "$plan" ] || fail "no plan of \"$q\" in: $plans"
    read_parts=$(grep -o "on events_[0-9_]*" <<<"$plan" | sort -u | tr '\n' ' ')
    [ "$read_parts" = "on $this " ] ||
        fail "\"$q\" reads partitions '$read_parts', not this month's $this alone: $plan"
done

# ==== 6. A visit's events across months (sql/0036) ====
# The reads start at the month of the key's first receipt: the events of a visit opened
# 40 days ago, or of a key that had only a rating then, are still all read when the rest
# arrives now, with a visit first received now in the same batch.
f=$(device f)
v3=$(sql "SELECT gen_random_uuid()") v4=$(sql "SELECT gen_random_uuid()") v5=$(sql "SELECT gen_random_uuid()")
old="now() - interval '40 days'"
sql "INSERT INTO events ($cols) VALUES
     $(row "$f" 1 "$old" visit.rated "'$v4'" "$old" 1000),
     $(row "$f" 2 "$old" visit.started "'$v3'" "$old" 2000)"
sql "SELECT rebuild_visits(ARRAY['$v3', '$v4']::uuid[])" >/dev/null
[ "$(sql "SELECT state FROM visits WHERE id = '$v3'")" = started ] || fail "v3 not started"
# the rest as ingest stores a batch: the events, then ingest_finish, in one transaction
refused=$(psql "$db" -XtAqv ON_ERROR_STOP=1 -c "BEGIN" -c "INSERT INTO events ($cols) VALUES
     $(row "$f" 3 "now()" visit.ended "'$v3'" "$old + interval '30 minutes'" 1802000),
     $(row "$f" 4 "now()" visit.rated "'$v3'" "$old + interval '31 minutes'" 1862000),
     $(row "$f" 5 "now()" visit.started "'$v4'" "now() - interval '60 minutes'" 5000000),
     $(row "$f" 6 "now()" visit.ended "'$v4'" "now() - interval '30 minutes'" 6800000),
     $(row "$f" 7 "now()" visit.started "'$v5'" "now() - interval '20 minutes'" 7000000),
     $(row "$f" 8 "now()" visit.ended "'$v5'" "now() - interval '5 minutes'" 7900000)" \
    -c "SELECT coalesce(refused_visit::text, 'none') FROM ingest_finish($f, 2, 8, decode(repeat('11', 32), 'hex'))" \
    -c "COMMIT")
[ "$refused" = none ] || fail "the batch was refused for $refused (its opening event 40 days ago not read)"
got=$(sql "SELECT string_agg(state || ' ' || (started_at < now() - interval '39 days'), ',' ORDER BY id = '$v3' DESC, id = '$v4' DESC)
           FROM visits WHERE id IN ('$v3', '$v4', '$v5')")
[ "$got" = "rated true,rated false,ended false" ] ||
    fail "visits across months rebuilt as '$got', not 'rated true,rated false,ended false'"
# history loaded newest first: the first receipt is still the earliest
g=$(device g)
v6=$(sql "SELECT gen_random_uuid()")
sql "INSERT INTO events ($cols) VALUES $(row "$g" 1 "now()" visit.ended "'$v6'" "$old + interval '30 minutes'" 1801000)"
sql "INSERT INTO events ($cols) VALUES $(row "$g" 2 "$old" visit.started "'$v6'" "$old" 1000)"
[ "$(sql "SELECT received_at < now() - interval '39 days' FROM visit_first_received WHERE visit_key = '$v6'")" = t ] ||
    fail "the first receipt of a key loaded newest first is not its earliest"
sql "SELECT rebuild_visits(ARRAY['$v6']::uuid[])" >/dev/null
[ "$(sql "SELECT state FROM visits WHERE id = '$v6'")" = ended ] || fail "v6 not rebuilt from both months"

# ==== 7. The rebuild at a large provider's size, under row-level security (sql/0036) ====
# As carefact_app, in the provider's scope (as ingest runs it), with 20,000 recipients:
# each of the rebuild's look-ups of the visit's recipient is one probe of recipients' key,
# not a read of all the provider's recipients filtered by id (0.8 ms each at 15,000, five
# per visit: ingest into a 3.4 M-event region at 1,100 events/s instead of 5,300).
sql "INSERT INTO recipients (id, provider_id, full_name)
     SELECT md5('test:recipient:' || n)::uuid, $provider, 'Получатель ' || n
     FROM generate_series(1, 20000) n; ANALYZE recipients"
plan=$(psql "$su_db" -XtAq -c "LOAD 'auto_explain'" -c "SET auto_explain.log_min_duration = 0" \
    -c "SET auto_explain.log_nested_statements = on" -c "SET auto_explain.log_level = notice" \
    -c "SET client_min_messages = notice" -c "SET ROLE carefact_app" \
    -c "SELECT set_config('carefact.provider', $provider::text, false)" \
    -c "SELECT rebuild_visits(ARRAY['$v5']::uuid[])" 2>&1 |
    awk '/NOTICE:  duration:/ { p = 0 } /e.card_proof_level, e.card_proof_failure -- 0013/ { p = 1 } p')
[ -n "$plan" ] || fail "no plan of the rebuild as carefact_app"
grep -q "on recipients" <<<"$plan" || fail "the rebuild's plan reads no recipients: $plan"
if grep -q "recipients_provider\|Seq Scan on recipients" <<<"$plan"; then
    fail "the rebuild reads every recipient of the provider to find the visit's: $(grep -B2 -A3 'recipients_provider\|Seq Scan on recipients' <<<"$plan")"
fi

# ==== A card binding's resolution reads events by index (sql/0034) ====
# review.sql's binding_resolve: the visits whose events read the card for the recipient.
# Without events_recipient_card, a scan of every partition (2 s at 10,000,000 events).
plan=$(psql "$db" -XtAq -c "SET enable_seqscan = off" -c "EXPLAIN SELECT array_agg(DISTINCT e.visit_key)
    FROM events e WHERE e.recipient_id = '$recipient' AND e.card_token = 'tok'
    AND e.visit_key IS NOT NULL")
grep -q "recipient_id_card_token" <<<"$plan" && ! grep -q "Seq Scan" <<<"$plan" ||
    fail "a card binding's events are not read by events_recipient_card: $plan"

# ==== carefactd starts: partitions ahead, and the queue judged ====
. "$CF_SOURCE_DIR/tools/lib/port.sh"
p=$(cf_pick_port)
"$carefactd" serve --db "$app_db" --listen "127.0.0.1:$p" 2>"$work/serve.log" &
pids+=($!)
for _ in $(seq 100); do
    [ "$(sql "SELECT count(*) FROM visit_integrity_queue")" = 0 ] &&
        [ -n "$(sql "SELECT to_regclass('${ahead[1]}')")" ] && break
    sleep 0.1
done
for t in "${ahead[@]}"; do
    [ -n "$(sql "SELECT to_regclass('$t')")" ] || fail "carefactd did not create $t at start"
done
[ "$(sql "SELECT count(*) FROM visit_integrity_queue")" = 0 ] || fail "the queue was not drained"
[ "$(sql "SELECT count(*) FROM visits WHERE id IN ('$v1', '$v2')
          AND 'overlap' = ANY (flags)")" = 2 ] || fail "the queued overlap was not judged at start"
[ -z "${SHOW_PLANS:-}" ] || echo "$plans" | grep -B2 -A12 "array_agg(DISTINCT e.visit_key)" | head -40
echo "partitions: exactly once across months and races, partitions ahead, pruning, queue judged"
