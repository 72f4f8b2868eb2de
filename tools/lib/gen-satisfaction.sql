-- tools/lib/gen-satisfaction.sql -- a year of a large region's visits and survey
-- answers, for tools/bench-satisfaction (not demo data). The satisfaction figures read
-- only visits (state, rating, services, sort_at) and survey_responses, so the visits are
-- written as rows directly (1,000,000 in about a minute) instead of as events rebuilt by
-- rebuild_visits (tools/gen-region: ~10 minutes), with the shape of tools/gen-region:
-- one region, 40 providers (provider 1 the large one, ~20,000 visits a month), 2,000
-- workers, ten services, twelve months ending last month. Every choice is a hash of the
-- visit number: two runs make the same rows. Ids are md5('sat:...') so they never meet
-- another generator's. Runs as the owner role.
--
-- psql variables: visits (1000000), workers (2000), big_workers (500), providers (40).
-- Of the visits: 3 % cancelled, 7 % ended without a rating, 90 % rated (5: 70 %, 4: 25 %,
-- 3: 3 %, 2: 1.5 %, 1: 0.5 %); one or two services each. Answers: the independent sample
-- of every provider-month answered by phone (satisfied 88 %), four in five low ratings
-- followed up (purpose low_rating, within 0-4 days), 2 % of visits answered after the
-- visit by phone.

\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS gensat CASCADE;
CREATE SCHEMA gensat;
CREATE FUNCTION gensat.pick(n bigint, salt bigint, m integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT (abs(hashint8extended(n, salt)) % m)::integer
$$;

INSERT INTO regions (id, name, token_key, timezone)
VALUES (md5('sat:region')::uuid, 'Область (генератор удовлетворённости)',
        decode(md5('sat:key') || md5('sat:key2'), 'hex'), 'Europe/Moscow');
INSERT INTO providers (id, region_id, name)
SELECT md5('sat:provider:' || p)::uuid, md5('sat:region')::uuid,
       CASE WHEN p = 1 THEN 'КЦСОН «Крупный»' ELSE 'Поставщик ' || p END
FROM generate_series(1, :providers) p;
-- worker w: provider 1 for the first big_workers, then the others in turn
INSERT INTO workers (id, provider_id, full_name)
SELECT md5('sat:worker:' || w)::uuid,
       md5('sat:provider:' || CASE WHEN w <= :big_workers THEN 1
                                   ELSE 2 + (w - :big_workers - 1) % (:providers - 1) END)::uuid,
       'Работник ' || w
FROM generate_series(1, :workers) w;
INSERT INTO services (code, name, category, form, norm_minutes, tariff_kopecks)
SELECT 'SAT-' || i, 'Услуга ' || i, 'household', 'home', 30, 20000 FROM generate_series(0, 9) i
ON CONFLICT (code) DO NOTHING;

-- Visit n by worker 1 + (n - 1) % workers, spread evenly over the 365 days before the
-- first of this month, at a local hour between 8 and 18.
CREATE TABLE gensat.v AS
SELECT n, 1 + (n - 1) % :workers AS w,
       (date_trunc('month', now() AT TIME ZONE 'Europe/Moscow') - interval '365 days'
        + ((n - 1) / :workers) * (interval '365 days' / (:visits / :workers))
        + interval '8 hours' + gensat.pick(n, 1, 600) * interval '1 minute')
           AT TIME ZONE 'Europe/Moscow' AS at,
       gensat.pick(n, 2, 1000) AS r
FROM generate_series(1, :visits) n;

-- NOTE: without the change feed's trigger (sql/0016): a million feed rows in one
-- transaction, each with its deferred seal, are the slow part of loading and nothing the
-- figures read; it is enabled again below.
ALTER TABLE visits DISABLE TRIGGER visits_changed;
INSERT INTO visits (id, provider_id, worker_id, state, started_at, ended_at, sort_at, duration_s,
                    expected_minutes, rating, service_codes, service_quantities)
SELECT md5('sat:visit:' || v.n)::uuid, wk.provider_id, wk.id,
       CASE WHEN v.r < 30 THEN 'cancelled' WHEN v.r < 100 THEN 'ended' ELSE 'rated' END,
       CASE WHEN v.r >= 30 THEN v.at END, CASE WHEN v.r >= 30 THEN v.at + interval '40 minutes' END,
       v.at, CASE WHEN v.r >= 30 THEN 2400 END, 30,
       CASE WHEN v.r < 100 THEN NULL WHEN v.r < 730 THEN 5 WHEN v.r < 955 THEN 4
            WHEN v.r < 982 THEN 3 WHEN v.r < 995 THEN 2 ELSE 1 END,
       CASE WHEN v.r < 30 THEN '{}'::text[]
            WHEN gensat.pick(v.n, 3, 3) = 0 THEN ARRAY['SAT-' || gensat.pick(v.n, 4, 5),
                                                      'SAT-' || (5 + gensat.pick(v.n, 5, 5))]
            ELSE ARRAY['SAT-' || gensat.pick(v.n, 4, 10)] END,
       CASE WHEN v.r < 30 THEN '{}'::integer[] WHEN gensat.pick(v.n, 3, 3) = 0 THEN '{1,1}'
            ELSE '{1}' END
FROM gensat.v v JOIN workers wk ON wk.id = md5('sat:worker:' || v.w)::uuid;
ALTER TABLE visits ENABLE TRIGGER visits_changed;
ANALYZE visits;

-- The answers, as survey_record would store them (the owner writes them directly).
CREATE TABLE gensat.months AS
SELECT DISTINCT date_trunc('month', sort_at AT TIME ZONE 'Europe/Moscow')::date AS month
FROM visits WHERE provider_id = md5('sat:provider:1')::uuid;
INSERT INTO survey_responses (instrument_id, version, channel, purpose, visit_id, provider_id,
                              region_id, subject_month, subject_day, service_codes, visit_rating,
                              answers, satisfied, created_by, created_at)
SELECT 'visit_rating', 1, 'phone', 'sample', s.visit_id, p.id, p.region_id, m.month,
       (v.sort_at AT TIME ZONE 'Europe/Moscow')::date, v.service_codes, v.rating,
       jsonb_build_object('rating', CASE WHEN gensat.pick(s.rank, 7, 100) < 88 THEN 5 ELSE 3 END),
       gensat.pick(s.rank, 7, 100) < 88, 'gen', m.month + interval '40 days'
FROM providers p CROSS JOIN gensat.months m
CROSS JOIN LATERAL satisfaction_sample(p.id, m.month) s
JOIN visits v ON v.id = s.visit_id
WHERE p.region_id = md5('sat:region')::uuid;
INSERT INTO survey_responses (instrument_id, version, channel, purpose, visit_id, provider_id,
                              region_id, subject_month, subject_day, service_codes, visit_rating,
                              answers, satisfied, recommend, created_by, created_at)
SELECT 'public_service', 1, 'phone', CASE WHEN v.rating <= 3 THEN 'low_rating' ELSE 'after_visit' END,
       v.id, v.provider_id, md5('sat:region')::uuid,
       date_trunc('month', v.sort_at AT TIME ZONE 'Europe/Moscow')::date,
       (v.sort_at AT TIME ZONE 'Europe/Moscow')::date, v.service_codes, v.rating,
       jsonb_build_object('overall', v.rating, 'informed', 'fully', 'premises', 4, 'competence', 5,
                          'politeness', 5, 'waiting', 4, 'recommend', 'yes'),
       v.rating >= 4, true, 'gen', v.sort_at + gensat.pick(g.n, 8, 5) * interval '1 day'
FROM gensat.v g JOIN visits v ON v.id = md5('sat:visit:' || g.n)::uuid
WHERE v.state = 'rated' AND ((v.rating <= 3 AND gensat.pick(g.n, 9, 5) < 4)
                             OR (v.rating > 3 AND gensat.pick(g.n, 9, 50) = 0))
ON CONFLICT DO NOTHING;
DROP SCHEMA gensat CASCADE;
VACUUM (ANALYZE) visits;
VACUUM (ANALYZE) survey_responses;
