#!/usr/bin/env bash
# Browser test of complaints and the citizens' comparison of providers (issue 16): the real
# carefactd on a private PostgreSQL with the demo data; a visit of demo provider 1 rated 2
# with a comment is written as the owner (the upload path itself is
# integration.backend.complaints'), which opens its complaint by the trigger; and a month of
# confirmed visits of both demo providers, last month, with ratings and plans. Playwright
# (complaints.mjs) signs in as a manager of provider 1, finds the complaint in «Жалобы» with
# its due day (counted by the test itself: 5 working days), answers it, then opens the public
# comparison page and checks every figure against what it computes from the seeded visits.
set -euo pipefail
case_name=complaints
source "$CF_SOURCE_DIR/tests/browser/web_lib.sh"
web_demo_data
password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
provider=$(psql "$db" -XAtqc "SELECT md5('demo:provider:1')::uuid")
echo "$password" | "$carefactd" user add --db "$db" --role manager --provider "$provider" complaints-mgr >/dev/null

# The low rating: a visit of demo worker 1 that ended today, rated 2 with words.
sql "INSERT INTO visits (id, provider_id, worker_id, recipient_id, state, started_at, ended_at,
       sort_at, rating, comment)
     VALUES (gen_random_uuid(), md5('demo:provider:1')::uuid, md5('demo:worker:1')::uuid,
             md5('demo:recipient:1')::uuid, 'rated', now() - interval '2 hours',
             now() - interval '1 hour', now() - interval '2 hours', 2,
             'Опоздала на полтора часа, продукты не принесла')"

# Last month (Moscow): for each demo provider, visits i = 0..n-1, each a day's hour apart;
# confirmed unless i % 5 = 4; rated (5 if i % 3 <> 0, else 2; none when i % 7 = 6); a plan
# for even i, started i % 4 = 0 ? 10 : 25 minutes after it. The page's figures are checked
# against the same rule computed in complaints.mjs.
for p in 1:40 2:23; do
    n=${p#*:}
    p=${p%:*}
    sql "WITH m AS (SELECT (date_trunc('month', now() AT TIME ZONE 'Europe/Moscow')
                            - interval '1 month') AT TIME ZONE 'Europe/Moscow' AS first),
         v AS (SELECT i, gen_random_uuid() AS id, gen_random_uuid() AS plan,
                      m.first + interval '9 hours' + (i % 25) * interval '1 day' + (i / 25) * interval '1 hour' AS planned
               FROM m, generate_series(0, $n - 1) i),
         pl AS (INSERT INTO visit_plans (id, provider_id, worker_id, recipient_id, planned_start)
                SELECT plan, md5('demo:provider:$p')::uuid, md5('demo:worker:$p')::uuid,
                       md5('demo:recipient:1')::uuid, planned FROM v WHERE i % 2 = 0)
         INSERT INTO visits (id, provider_id, worker_id, plan_id, state, started_at, ended_at, sort_at,
                             start_confirmed, end_confirmed, rating)
         SELECT id, md5('demo:provider:$p')::uuid, md5('demo:worker:$p')::uuid,
                CASE WHEN i % 2 = 0 THEN plan END, CASE WHEN i % 7 = 6 THEN 'ended' ELSE 'rated' END,
                planned + (CASE WHEN i % 4 = 0 THEN 10 ELSE 25 END) * interval '1 minute',
                planned + interval '1 hour', planned + (CASE WHEN i % 4 = 0 THEN 10 ELSE 25 END) * interval '1 minute',
                i % 5 <> 4, i % 5 <> 4,
                CASE WHEN i % 7 = 6 THEN NULL WHEN i % 3 <> 0 THEN 5 ELSE 2 END
         FROM v"
done

# An office visit the citizen complains about on the public page: a served appointment at
# demo office 1 with its secret (what the booking page gave them).
secret=0123456789abcdef0123456789abcdef
appointment=$(sql "INSERT INTO appointments (office_id, region_id, seat, during, kind, state, channel,
                     person_key, person_name, secret_hash, created_by, booked_at)
                   SELECT o.id, o.region_id, 1, tstzrange(now() - interval '3 hours',
                          now() - interval '2 hours 45 minutes'), 'consultation', 'served', 'web',
                          'tel:79000000077', 'Жалобщица', sha256(convert_to('$secret', 'UTF8')),
                          'test', now() - interval '1 day'
                   FROM offices o WHERE o.id = md5('demo:office:1')::uuid RETURNING id")

web_server_up
URL="http://127.0.0.1:$port" ARTIFACTS="$artifacts" LOGIN=complaints-mgr PASSWORD="$password" \
    APPOINTMENT="$appointment" SECRET="$secret" \
    PROVIDERS="$provider,$(psql "$db" -XAtqc "SELECT md5('demo:provider:2')::uuid")" \
    node "$src/tests/browser/complaints.mjs" || fail "the complaints pages (log: see above)"
echo "complaints: the low rating's complaint with its due day answered in the dashboard; the comparison page's figures"
