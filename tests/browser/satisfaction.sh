#!/usr/bin/env bash
# Browser test of satisfaction (issue 16): the real carefactd on a private PostgreSQL
# with three providers seeded so that one has met the 95 % target, one has not and one
# has too few answers, and a served appointment at an office. Playwright
# (satisfaction.mjs) answers the survey on the citizen's public page with the
# appointment's link, then signs in as the authority and reads the satisfaction page:
# each status (met / not met / not enough answers), n and the bounds, against bounds
# the test computes itself. Screenshots go to $CF_BINARY_DIR/tests/browser-artifacts.
set -euo pipefail
case_name=satisfaction
source "$CF_SOURCE_DIR/tests/browser/web_lib.sh"
secret=00112233445566778899aabbccddeeff
appointment=0a000000-0000-4000-8000-000000000001
# October 2026 (Moscow): А 80 of 80 satisfied (met), Б 30 of 40 (not met), В 20 of 20
# (not enough answers); the office's appointment served.
psql "$db" -XqAt -v ON_ERROR_STOP=1 >/dev/null <<SQL
INSERT INTO regions VALUES ('00000000-0000-4000-8000-000000000001', 'Тестовая область',
  decode(repeat('ab', 32), 'hex'));
INSERT INTO providers VALUES
  ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-000000000001', 'А: Забота'),
  ('00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-000000000001', 'Б: Участие'),
  ('00000000-0000-4000-8000-0000000000a3', '00000000-0000-4000-8000-000000000001', 'В: Милосердие');
INSERT INTO workers SELECT md5(id::text)::uuid, id, 'Работник' FROM providers;
INSERT INTO services (code, name, category, form, norm_minutes, tariff_kopecks)
  VALUES ('S1', 'Уборка', 'household', 'home', 30, 10000);
INSERT INTO visits (id, provider_id, worker_id, state, started_at, ended_at, sort_at, duration_s,
                    rating, service_codes, service_quantities)
SELECT md5(p || n)::uuid, p::uuid, md5(p)::uuid, 'rated', at, at + interval '30 min', at, 1800,
       CASE WHEN n > good THEN 2 ELSE 5 END, '{S1}', '{1}'
FROM (VALUES ('00000000-0000-4000-8000-0000000000a1', 80, 80),
             ('00000000-0000-4000-8000-0000000000a2', 40, 30),
             ('00000000-0000-4000-8000-0000000000a3', 20, 20)) AS x(p, total, good),
     generate_series(1, total) n,
     LATERAL (SELECT '2026-10-05 10:00+03'::timestamptz + n * interval '1 hour' AS at) t;
INSERT INTO offices (id, region_id, kind, name) VALUES
  ('0f000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-000000000001', 'mfc',
   'МФЦ Центральный');
INSERT INTO office_booking (office_id) VALUES ('0f000000-0000-4000-8000-00000000000a');
INSERT INTO appointments (id, office_id, region_id, seat, during, kind, state, channel,
                          secret_hash, created_by)
VALUES ('$appointment', '0f000000-0000-4000-8000-00000000000a',
        '00000000-0000-4000-8000-000000000001', 1,
        tstzrange('2026-10-07 10:00+03', '2026-10-07 10:15+03'), 'consultation', 'served', 'web',
        sha256('$secret'), 'test');
SQL
password=authority-$RANDOM$RANDOM
echo "$password" | "$carefactd" user add --db "$db" --role authority dept >/dev/null
web_server_up
URL="http://127.0.0.1:$port" APPOINTMENT="$appointment" SECRET="$secret" LOGIN=dept \
    PASSWORD="$password" ARTIFACTS="$artifacts" \
    node "$src/tests/browser/satisfaction.mjs" || fail "the survey or the satisfaction page (log: see above)"
echo "satisfaction: a survey answered on the public page; met / not met / not enough answers read back"
