#!/usr/bin/env bash
# The federal layer (issue 18, label cluster): two regional PostgreSQL clusters, each
# migrated, loaded with the demo region (the second moved to its own region id and time
# zone) and served by its own carefactd, and one federal database subscribed to both by
# logical replication (tools/federal). Terminals simulated by carefact-loadgen upload
# signed visits through each region's carefactd (the real ingest path); each provider's
# register of last month is approved. After tools/federal refresh in each region, the
# federal database must hold exactly each region's figures per provider and month,
# computed here independently from the region's visits and registers, and its monthly
# totals must be the sums of the regions'; a second round of uploads must reach it too,
# and a refresh with nothing new writes nothing. The federal database has no column of
# personal data, and the regions publish the aggregate table only.
set -euo pipefail
src=${CF_SOURCE_DIR:?}
bin=${CF_BINARY_DIR:?}
carefactd=$bin/backend/carefactd
loadgen=$bin/tools/loadgen/carefact-loadgen
pg=$src/tools/pg
federal=$src/tools/federal
. "$src/tools/lib/port.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }
work=$(mktemp -d /tmp/cffed.XXXXXX)
servers=()
cleanup() {
    local pid
    for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
    "$federal" down "$work/fed" >/dev/null 2>&1 || true
    "$pg" destroy "$work/fed/db" >/dev/null 2>&1 || true
    "$pg" destroy "$work/a" >/dev/null 2>&1 || true
    "$pg" destroy "$work/b" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

owner() { "$pg" conninfo "$work/$1"; }
sql() { psql "$(owner "$1")" -XAtq -v ON_ERROR_STOP=1 -c "$2"; }
fed_sql() { psql "$("$pg" conninfo "$work/fed/db" --superuser) dbname=federal" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

# ==== Two regions ====

key=63617265666163742d64656d6f2d726567696f6e2d746f6b656e2d6b65792121
token=AAECAwQFBgcICQoLDA0ODw # the card every carefact-loadgen terminal reads
start_region() {
    local name=$1 port
    "$pg" start "$work/$name" --owner-pid $$ >/dev/null
    "$carefactd" migrate --db "$(owner "$name")" --sql-dir "$src/sql" >"$work/$name.migrate.log" 2>&1 ||
        fail "migrate $name: $(cat "$work/$name.migrate.log")"
    "$carefactd" demo-data --db "$(owner "$name")" --token-key-hex "$key" >/dev/null
    # Half of each provider's recipients hold the terminals' card: their visits are
    # confirmed at both ends, the others' are not (and stay out of the register).
    sql "$name" "INSERT INTO card_bindings (recipient_id, token, method, status)
                 SELECT id, '$token', 'uid', 'active' FROM recipients WHERE get_byte(decode(md5(id::text), 'hex'), 0) % 2 = 0"
    for _ in $(seq 10); do
        port=$(cf_pick_port)
        "$carefactd" serve --db "$("$pg" conninfo "$work/$name" --app)" --listen "127.0.0.1:$port" \
            --sql-dir "$src/sql" 2>>"$work/$name.carefactd.log" &
        servers+=($!)
        for _ in $(seq 100); do
            curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && { echo "$port" >"$work/$name.port"; return 0; }
            kill -0 "${servers[-1]}" 2>/dev/null || break
            sleep 0.05
        done
    done
    fail "carefactd for region $name did not come up"
}
start_region a
start_region b
# Region b is another region: its own id and time zone (months end at its midnight).
sql b "INSERT INTO regions (id, name, token_key, timezone)
       SELECT md5('federal-test:region-b')::uuid, name || ' (Б)', token_key, 'Asia/Yekaterinburg'
       FROM regions WHERE id = md5('demo:region')::uuid;
       UPDATE providers SET region_id = md5('federal-test:region-b')::uuid"

# upload REGION PROVIDER WORKERS EVENTS: one terminal per worker (demo:worker:N), each
# uploading EVENTS events (a visit every 2 hours, the last a day ago) through carefactd.
upload() {
    local name=$1 provider=$2 workers=$3 events=$4 w
    : >"$work/codes"
    for w in $workers; do
        "$carefactd" enroll-code --db "$(owner "$name")" --worker "$(sql "$name" "SELECT md5('demo:worker:$w')::uuid")" >>"$work/codes"
    done
    sql "$name" "SELECT id FROM recipients WHERE provider_id = md5('demo:provider:$provider')::uuid ORDER BY id" >"$work/recipients"
    "$loadgen" --url "http://127.0.0.1:$(cat "$work/$name.port")" --codes "$work/codes" \
        --recipients "$work/recipients" --devices "$(wc -w <<<"$workers")" --events "$events" \
        --batch 100 --concurrency 2 >"$work/loadgen.out" 2>"$work/loadgen.err" ||
        fail "carefact-loadgen into region $name: $(cat "$work/loadgen.err" "$work/loadgen.out")"
    grep -q " failures=0 " "$work/loadgen.out" ||
        fail "carefact-loadgen reported failures: $(cat "$work/loadgen.out")"
}

# approve REGION: last month's register of every provider submitted and approved.
approve() {
    local name=$1 provider month result
    for provider in $(sql "$name" "SELECT id FROM providers ORDER BY id"); do
        month=$(sql "$name" "SELECT date_trunc('month', (now() AT TIME ZONE rg.timezone) - interval '1 month')::date
                             FROM providers pr JOIN regions rg ON rg.id = pr.region_id WHERE pr.id = '$provider'")
        result=$(sql "$name" "SELECT register_submit('$provider', '$month', 'federal-test')")
        [ "$result" = ok ] || fail "register_submit $name $provider $month: $result"
        result=$(sql "$name" "SELECT register_approve('$provider', '$month', 'federal-test')")
        [ "$result" = ok ] || fail "register_approve $name $provider $month: $result"
    done
}

# ==== The federal database ====

"$federal" up "$work/fed" "$work/a" "$work/b" >"$work/federal-up.log" 2>&1 ||
    fail "tools/federal up: $(cat "$work/federal-up.log")"

# Each terminal uploads 1,080 events (360 visits, 30 days): last month always has some.
upload a 1 "1 2 3" 1080
upload b 1 "1 2" 1080
upload b 2 "4 5" 1080
approve a
approve b
[ "$(sql a "SELECT count(*) FROM visits")" -ge 1080 ] || fail "region a holds too few visits"
for name in a b; do
    [ "$(sql $name "SELECT count(*) FROM registers WHERE state = 'approved' AND total_kopecks > 0")" -ge 1 ] ||
        fail "no payment in region $name's approved registers: the test would prove nothing about payments"
    [ "$(sql $name "SELECT count(*) FILTER (WHERE start_confirmed AND end_confirmed) > 0
                       AND count(*) FILTER (WHERE NOT (start_confirmed AND end_confirmed)) > 0 FROM visits")" = t ] ||
        fail "region $name's visits are not a mix of confirmed and unconfirmed ones"
done

# What a region's figures are, per provider and month, computed here from its visits and
# registers (not by federal_refresh): region|provider|month|visits|ended|confirmed|
# cancelled|attempted|rated_1..5|paid_visits|paid_kopecks.
region_rows() {
    sql "$1" "WITH v AS (
        SELECT pr.region_id, v.provider_id,
               to_char(v.sort_at AT TIME ZONE rg.timezone, 'YYYY-MM-01') AS month, v.state,
               v.start_confirmed AND v.end_confirmed AS by_card, v.rating
        FROM visits v JOIN providers pr ON pr.id = v.provider_id JOIN regions rg ON rg.id = pr.region_id
    ), c AS (
        SELECT region_id, provider_id, month, count(*) AS visits,
               sum((state IN ('ended', 'rated'))::int) AS ended,
               sum((state IN ('ended', 'rated') AND by_card)::int) AS confirmed,
               sum((state = 'cancelled')::int) AS cancelled, sum((state = 'attempted')::int) AS attempted,
               sum((rating = 1)::int) AS r1, sum((rating = 2)::int) AS r2, sum((rating = 3)::int) AS r3,
               sum((rating = 4)::int) AS r4, sum((rating = 5)::int) AS r5
        FROM v GROUP BY 1, 2, 3
    ), p AS (
        SELECT pr.region_id, r.provider_id, to_char(r.month, 'YYYY-MM-DD') AS month,
               r.included_count, r.total_kopecks
        FROM registers r JOIN providers pr ON pr.id = r.provider_id WHERE r.state = 'approved'
    )
    SELECT concat_ws('|', coalesce(c.region_id, p.region_id), coalesce(c.provider_id, p.provider_id),
                     coalesce(c.month, p.month), coalesce(c.visits, 0), coalesce(c.ended, 0),
                     coalesce(c.confirmed, 0), coalesce(c.cancelled, 0), coalesce(c.attempted, 0),
                     coalesce(c.r1, 0), coalesce(c.r2, 0), coalesce(c.r3, 0), coalesce(c.r4, 0),
                     coalesce(c.r5, 0), coalesce(p.included_count, 0), coalesce(p.total_kopecks, 0))
    FROM c FULL JOIN p ON p.provider_id = c.provider_id AND p.month = c.month"
}
federal_rows() {
    fed_sql "SELECT concat_ws('|', region_id, provider_id, to_char(month, 'YYYY-MM-DD'), visits, ended,
                              confirmed, cancelled, attempted, rated_1, rated_2, rated_3, rated_4,
                              rated_5, paid_visits, paid_kopecks)
             FROM federal_provider_months"
}

# The federal rows are the regions' rows, and its monthly totals their sums.
compare() {
    local when=$1
    { region_rows a; region_rows b; } | sort >"$work/expected"
    federal_rows | sort >"$work/federal"
    [ -s "$work/expected" ] || fail "$when: the regions hold no figures"
    diff "$work/expected" "$work/federal" >"$work/diff" ||
        fail "$when: the federal rows differ from the regions' (< regions, > federal):
$(cat "$work/diff")"
    awk -F'|' '{ m = $3; for (i = 4; i <= 15; i++) s[m, i] += $i; seen[m] = 1 }
               END { for (m in seen) { line = m; for (i = 4; i <= 15; i++) line = line "|" s[m, i]; print line } }' \
        "$work/expected" | sort >"$work/expected-months"
    fed_sql "SELECT concat_ws('|', to_char(month, 'YYYY-MM-DD'), visits, ended, confirmed, cancelled,
                              attempted, rated_1, rated_2, rated_3, rated_4, rated_5, paid_visits,
                              paid_kopecks) FROM federal_months" | sort >"$work/federal-months"
    diff "$work/expected-months" "$work/federal-months" >"$work/diff" ||
        fail "$when: the federal monthly totals are not the sums of the regions':
$(cat "$work/diff")"
    [ "$(fed_sql "SELECT count(DISTINCT region_id) FROM federal_provider_months")" = 2 ] ||
        fail "$when: the federal database does not hold both regions"
    echo "$when: $(wc -l <"$work/federal") provider-months, $(wc -l <"$work/federal-months") months, federal = regions"
}

"$federal" refresh "$work/a" >/dev/null
"$federal" refresh "$work/b" >/dev/null
"$federal" wait "$work/fed" 60
compare "first round"

# Nothing new: a refresh writes no row (nothing to replicate).
[ "$("$federal" refresh "$work/a")" = 0 ] || fail "a refresh with nothing new wrote rows"

# A second round: more visits in region a, replicated as updates.
before=$(fed_sql "SELECT sum(visits) FROM federal_provider_months")
upload a 1 "1 2" 300
"$federal" refresh "$work/a" >/dev/null
"$federal" wait "$work/fed" 60
compare "second round"
after=$(fed_sql "SELECT sum(visits) FROM federal_provider_months")
[ "$after" -eq $((before + 200)) ] || fail "second round: federal visits $before -> $after, want +200"

# ==== No personal data in the federal database ====

columns=$(fed_sql "SELECT string_agg(c, ' ' ORDER BY c COLLATE \"C\")
                   FROM (SELECT DISTINCT column_name::text AS c FROM information_schema.columns
                         WHERE table_schema = 'public' AND table_name <> 'federal_schema') x")
want="attempted cancelled confirmed ended month paid_kopecks paid_visits provider_id providers rated_1 rated_2 rated_3 rated_4 rated_5 region_id regions visits"
[ "$columns" = "$want" ] || fail "the federal database's columns are not the aggregates':
  got:  $columns
  want: $want"
relations=$(fed_sql "SELECT string_agg(relname, ' ' ORDER BY relname) FROM pg_class
                     WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'v', 'm', 'p')")
[ "$relations" = "federal_months federal_provider_months federal_region_months federal_schema" ] ||
    fail "unexpected relations in the federal database: $relations"
for name in a b; do
    published=$(sql "$name" "SELECT string_agg(schemaname || '.' || tablename, ' ') FROM pg_publication_tables
                             WHERE pubname = 'carefact_federal'")
    [ "$published" = "public.federal_provider_months" ] || fail "region $name publishes: $published"
done
echo "no personal data: the federal columns are the aggregates only"
fed_sql "SELECT 'federal totals: ' || concat_ws(' ', 'visits=' || sum(visits), 'confirmed=' || sum(confirmed),
                 'rated_5=' || sum(rated_5), 'paid_visits=' || sum(paid_visits), 'paid_kopecks=' || sum(paid_kopecks))
         FROM federal_provider_months"
echo "PASS"
