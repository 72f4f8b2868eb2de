-- tools/lib/gen-region.sql -- the events of a year of a large region, for benchmarks
-- (tools/gen-region runs it as the owner role, then rebuilds the visits with the real
-- rebuild_visits() in chunks). Not demo data: ids are md5('gen:...') so they never meet
-- the demo's md5('demo:...') ones, and every choice below is a hash of the visit number,
-- so two runs with the same parameters make the same rows (bar received_at and now()).
--
-- psql variables: visits (1000000), workers (2000), big_workers (500: the workers of
-- provider 1, the large one), providers (40), per_worker (30: recipients a worker visits),
-- days (365: the span of the history; tools/gen-region --days).
-- Worker w does visit n when w = 1 + (n - 1) % workers; it is its k-th visit,
-- k = (n - 1) / workers, on local day k * days / K of the days that ended yesterday
-- (K = visits / workers): each worker ~1.4 visits a day, provider 1 (big_workers of the
-- workers) ~20,500 a month at the defaults.
--
-- NOTE: digests are random 32-byte values, not a hash chain (seq also skips: three
-- slots per visit). Nothing on the read path checks the chain, but GET
-- /api/v1/visits/{id} reports these events as "verified": false, and a terminal could
-- not continue these devices' chains: this data is for reading, never for ingest.

\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS gen CASCADE;
CREATE SCHEMA gen;

-- A base64url card token (22 characters, 16 bytes) from a seed.
CREATE FUNCTION gen.token(seed text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT translate(encode(substr(decode(md5(seed), 'hex'), 1, 16), 'base64'), '+/=', '-_')
$$;
-- A uniform integer in [0, m) from (n, salt).
CREATE FUNCTION gen.pick(n bigint, salt bigint, m integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT (abs(hashint8extended(n, salt)) % m)::integer
$$;

-- ==== Reference data ====

INSERT INTO regions (id, name, token_key, timezone)
VALUES (md5('gen:region')::uuid, 'Большая область (генератор)', decode(md5('gen:key') || md5('gen:key2'), 'hex'),
        'Europe/Moscow')
ON CONFLICT (id) DO NOTHING;

INSERT INTO providers (id, region_id, name)
SELECT md5('gen:provider:' || p)::uuid, md5('gen:region')::uuid,
       CASE WHEN p = 1 THEN 'КЦСОН «Крупный» (генератор)' ELSE 'Поставщик ' || p || ' (генератор)' END
FROM generate_series(1, :providers) p;

-- The demo catalogue (sql/demo/demo_data.sql), same codes and norms.
INSERT INTO services (code, name, category, form, norm_minutes, tariff_kopecks) VALUES
    ('HH-CLEAN', 'Уборка жилого помещения', 'household', 'home', 60, 42000),
    ('HH-SHOP', 'Покупка и доставка продуктов питания', 'household', 'home', 40, 28000),
    ('HH-COOK', 'Помощь в приготовлении пищи', 'household', 'home', 30, 21000),
    ('HH-PAY', 'Оплата жилищно-коммунальных услуг', 'household', 'home', 20, 14000),
    ('HH-WOOD', 'Доставка дров и воды', 'household', 'home', 45, 31500),
    ('MED-BP', 'Измерение артериального давления', 'medical', 'home', 10, 7000),
    ('MED-MEDS', 'Контроль приёма лекарств', 'medical', 'home', 10, 7000),
    ('MED-ESCORT', 'Сопровождение в поликлинику', 'medical', 'home', 90, 63000),
    ('PSY-TALK', 'Беседа, психологическая поддержка', 'psychological', 'home', 30, 21000),
    ('LEG-DOCS', 'Помощь в оформлении документов', 'legal', 'home', 40, 28000)
ON CONFLICT (code) DO NOTHING;
CREATE TABLE gen.catalogue AS
SELECT (row_number() OVER (ORDER BY code) - 1)::integer AS i, code, norm_minutes FROM services
WHERE code IN ('HH-CLEAN', 'HH-SHOP', 'HH-COOK', 'HH-PAY', 'HH-WOOD', 'MED-BP', 'MED-MEDS',
               'MED-ESCORT', 'PSY-TALK', 'LEG-DOCS');

-- Workers 1..big_workers belong to provider 1, the others round-robin to 2..providers;
-- wl is a worker's index inside its provider.
CREATE TABLE gen.worker AS
SELECT w, md5('gen:worker:' || w)::uuid AS id, md5('gen:device:' || w)::uuid AS device_id,
       CASE WHEN w <= :big_workers THEN 1 ELSE 2 + (w - :big_workers - 1) % (:providers - 1) END AS p,
       CASE WHEN w <= :big_workers THEN w - 1 ELSE (w - :big_workers - 1) / (:providers - 1) END AS wl
FROM generate_series(1, :workers) w;
INSERT INTO workers (id, provider_id, full_name)
SELECT id, md5('gen:provider:' || p)::uuid,
       (ARRAY['Смирнова', 'Кузнецова', 'Попова', 'Васильева', 'Соколова', 'Михайлова'])[1 + w % 6]
       || ' ' || (ARRAY['Ольга', 'Елена', 'Татьяна', 'Светлана', 'Ирина'])[1 + w % 5] || ' №' || w
FROM gen.worker;
INSERT INTO devices (id, worker_id, public_key, enrolled_at)
SELECT device_id, id, decode(md5('gen:pk:' || w) || md5('gen:pk2:' || w), 'hex'), now() - (:days + 35) * interval '1 day'
FROM gen.worker;

-- Recipients: provider 1 has per_worker for each of its workers; every other provider
-- m_other of them, numbered so that number -> provider is a formula.
SELECT (:big_workers * :per_worker) AS big_recipients,
       ((60000 - :big_workers * :per_worker) / (:providers - 1)) AS m_other \gset
CREATE TABLE gen.recipient AS
SELECT r, md5('gen:recipient:' || r)::uuid AS id,
       CASE WHEN r <= :big_recipients THEN 1 ELSE 2 + (r - :big_recipients - 1) % (:providers - 1) END AS p
FROM generate_series(1, :big_recipients + :m_other * (:providers - 1)) r;
INSERT INTO recipients (id, provider_id, full_name, address, lat_e7, lon_e7)
SELECT id, md5('gen:provider:' || p)::uuid,
       (ARRAY['Иванова', 'Петрова', 'Сидорова', 'Морозов', 'Волков', 'Лебедева'])[1 + r % 6] || ' '
       || (ARRAY['Анна', 'Мария', 'Пётр', 'Николай', 'Галина'])[1 + r % 5] || ' №' || r,
       'ул. Генераторная, д. ' || r, 590000000 + (r % 1000) * 3000, 390000000 + (r / 1000) * 3000
FROM gen.recipient;
-- One active card (uid) per recipient, bound since before the year.
INSERT INTO card_bindings (recipient_id, token, method, status, valid_from, created_at)
SELECT id, gen.token('gen:card:' || r), 'uid', 'active', current_date - (:days + 35), now() - (:days + 35) * interval '1 day'
FROM gen.recipient;
-- One certificate per recipient, valid from before the year to well after it (a card
-- confirms a visit only while the recipient holds one: sql/0010).
INSERT INTO certificates (id, recipient_id, number, valid_from, valid_to)
SELECT md5('gen:certificate:' || r)::uuid, id, 'ИППСУ-' || r, current_date - (:days + 35),
       current_date + 400
FROM gen.recipient;
-- A few cards read at the door and waiting for a manager's confirmation.
INSERT INTO card_bindings (recipient_id, token, method, status, created_at)
SELECT id, gen.token('gen:newcard:' || r), 'uid', 'pending', now() - (r % 30) * interval '1 day'
FROM gen.recipient WHERE r % 400 = 7;

-- ==== The visits to make (scratch) ====

-- outcome: 2 % cancelled, 1 % door attempts, 0.05 % started and abandoned, else ended;
-- the last visit of every third worker (w % 10 < 3) is in progress right now. Of the
-- ended: 4 % early leave, 2 % overtime, 0.8 % a card not bound at the end (0.2 % at the
-- start), 0.5 % clock_uncertain (another boot at the end), 93 % rated, 3 % of the ratings
-- low (1-2), some with comments.
SELECT (:visits / :workers) AS per_worker_visits \gset
CREATE UNLOGGED TABLE gen.visit AS
SELECT n, w.w, w.id AS worker_id, w.device_id, w.p, k,
       md5('gen:provider:' || w.p)::uuid AS provider_id,
       md5('gen:visit:' || n)::uuid AS visit_id,
       CASE WHEN w.p = 1 THEN 1 + w.wl * :per_worker + k % :per_worker
            ELSE :big_recipients + (w.p - 1) + (:providers - 1) * ((w.wl * :per_worker + k % :per_worker) % :m_other)
       END AS r,
       CASE WHEN k = :per_worker_visits - 1 AND w.w % 10 < 3 THEN 'live'
            WHEN gen.pick(n, 1, 10000) < 200 THEN 'cancelled'
            WHEN gen.pick(n, 1, 10000) < 300 THEN 'attempt'
            WHEN gen.pick(n, 1, 10000) < 305 THEN 'abandoned'
            ELSE 'ended' END AS outcome,
       CASE WHEN k = :per_worker_visits - 1 AND w.w % 10 < 3
            THEN now() - (5 + (w.w * 7) % 50) * interval '1 minute'
            ELSE ((date_trunc('day', now() AT TIME ZONE 'Europe/Moscow') - :days * interval '1 day'
                   + (k * :days / :per_worker_visits) * interval '1 day' + interval '8 hours'
                   + ((k * 7 + w.w) % 10) * interval '50 minutes'
                   + gen.pick(n, 2, 20) * interval '1 minute') AT TIME ZONE 'Europe/Moscow')
       END AS start_at,
       1 + gen.pick(n, 3, 3) AS service_count, gen.pick(n, 4, 10) AS first_service,
       gen.pick(n, 5, 1000) AS duration_kind, gen.pick(n, 6, 1000) AS card_kind,
       gen.pick(n, 7, 100) AS rated, gen.pick(n, 8, 100) AS rating_kind
FROM generate_series(1, :visits) n
JOIN gen.worker w ON w.w = 1 + (n - 1) % :workers
CROSS JOIN LATERAL (SELECT (n - 1) / :workers AS k) kk;

CREATE UNLOGGED TABLE gen.ended AS
SELECT v.n, s.codes, s.quantities, s.expected,
       (s.expected * 60 * CASE WHEN v.duration_kind < 40 THEN 0.40 + v.duration_kind / 114.0
                                WHEN v.duration_kind < 60 THEN 1.6 + (v.duration_kind - 40) / 33.0
                                ELSE 0.85 + (v.duration_kind - 60) / 1700.0 END)::integer AS duration_s
FROM gen.visit v
CROSS JOIN LATERAL (
    SELECT array_agg(c.code ORDER BY j) AS codes, array_agg(1) AS quantities,
           sum(c.norm_minutes)::integer AS expected
    FROM generate_series(0, v.service_count - 1) j
    JOIN gen.catalogue c ON c.i = (v.first_service + j * 3) % 10
) s
WHERE v.outcome = 'ended';

-- ==== Events ====

-- mono_ms: milliseconds since a weekly reboot of the terminal (boot_id per week).
CREATE FUNCTION gen.mono(t timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
    SELECT (extract(epoch FROM t - date_trunc('week', t)) * 1000)::bigint + 1000
$$;
CREATE FUNCTION gen.boot(w integer, t timestamptz) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
    SELECT md5('gen:boot:' || w || ':' || extract(epoch FROM date_trunc('week', t)))::uuid
$$;

-- events is partitioned by the month received (sql/0014_growth.sql): the months of the
-- history first (the received_at below are at most minutes after the visit's times).
SELECT events_partitions_ensure((SELECT min(start_at) FROM gen.visit), now() + interval '2 months');

INSERT INTO events (device_id, seq, digest, kind, visit_id, worker_id, recipient_id, wall_time,
                    mono_ms, boot_id, received_at, provider_id, card_method, card_token,
                    card_scheme, card_last4, lat_e7, lon_e7, accuracy_m, service_codes,
                    service_quantities, rating, comment, reason, cancelled_by)
SELECT x.* FROM (
    -- visit.started
    SELECT v.device_id, v.k * 3 + 1, decode(md5('gen:d1:' || v.n) || md5('gen:e1:' || v.n), 'hex'),
           'visit.started', v.visit_id, v.worker_id, md5('gen:recipient:' || v.r)::uuid, v.start_at,
           gen.mono(v.start_at), gen.boot(v.w, v.start_at), v.start_at + interval '2 minutes',
           v.provider_id, 'uid',
           CASE WHEN v.card_kind >= 992 AND v.card_kind < 994 THEN gen.token('gen:stray:' || v.n)
                ELSE gen.token('gen:card:' || v.r) END, '', '',
           590000000 + (v.r % 1000) * 3000 + gen.pick(v.n, 9, 200), 390000000 + (v.r / 1000) * 3000,
           5 + gen.pick(v.n, 10, 30), NULL::text[], NULL::integer[], NULL::smallint, NULL::text,
           NULL::text, NULL::text
    FROM gen.visit v WHERE v.outcome IN ('ended', 'live', 'abandoned')
    UNION ALL
    -- visit.ended (the card, the services)
    SELECT v.device_id, v.k * 3 + 2, decode(md5('gen:d2:' || v.n) || md5('gen:e2:' || v.n), 'hex'),
           'visit.ended', v.visit_id, v.worker_id, md5('gen:recipient:' || v.r)::uuid, t.end_at,
           CASE WHEN v.card_kind >= 995 THEN 500000 + e.duration_s * 1000::bigint
                ELSE gen.mono(v.start_at) + e.duration_s * 1000::bigint END,
           CASE WHEN v.card_kind >= 995 THEN md5('gen:reboot:' || v.n)::uuid
                ELSE gen.boot(v.w, v.start_at) END,
           t.end_at + interval '3 minutes', v.provider_id, 'uid',
           CASE WHEN v.card_kind < 8 THEN gen.token('gen:stray:' || v.n)
                ELSE gen.token('gen:card:' || v.r) END, '', '',
           590000000 + (v.r % 1000) * 3000 + gen.pick(v.n, 11, 200), 390000000 + (v.r / 1000) * 3000,
           5 + gen.pick(v.n, 12, 30), e.codes, e.quantities, NULL, NULL, NULL, NULL
    FROM gen.visit v JOIN gen.ended e USING (n)
    CROSS JOIN LATERAL (SELECT v.start_at + e.duration_s * interval '1 second' AS end_at) t
    UNION ALL
    -- visit.rated
    SELECT v.device_id, v.k * 3 + 3, decode(md5('gen:d3:' || v.n) || md5('gen:e3:' || v.n), 'hex'),
           'visit.rated', v.visit_id, v.worker_id, md5('gen:recipient:' || v.r)::uuid, t.at,
           gen.mono(v.start_at) + (e.duration_s + 60) * 1000::bigint, gen.boot(v.w, v.start_at),
           t.at + interval '3 minutes', v.provider_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, NULL,
           (CASE WHEN v.rating_kind < 1 THEN 1 WHEN v.rating_kind < 3 THEN 2 WHEN v.rating_kind < 10 THEN 3
                 WHEN v.rating_kind < 35 THEN 4 ELSE 5 END)::smallint,
           CASE WHEN v.rating_kind < 3 THEN (ARRAY['Опоздала на час', 'Ушла раньше, не убрала',
                                                   'Не купила лекарства'])[1 + v.n % 3]
                WHEN v.rating_kind >= 97 THEN 'Спасибо большое!' END,
           NULL, NULL
    FROM gen.visit v JOIN gen.ended e USING (n)
    CROSS JOIN LATERAL (SELECT v.start_at + (e.duration_s + 60) * interval '1 second' AS at) t
    WHERE v.rated < 93
    UNION ALL
    -- visit.cancelled (before the start)
    SELECT v.device_id, v.k * 3 + 1, decode(md5('gen:d1:' || v.n) || md5('gen:e1:' || v.n), 'hex'),
           'visit.cancelled', v.visit_id, v.worker_id, md5('gen:recipient:' || v.r)::uuid, v.start_at,
           gen.mono(v.start_at), gen.boot(v.w, v.start_at), v.start_at + interval '1 minute',
           v.provider_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           (ARRAY['in_hospital', 'refused', 'worker_ill', 'other', 'in_hospital'])[1 + v.n % 5],
           (ARRAY['recipient', 'recipient', 'worker', 'provider'])[1 + v.n % 4]
    FROM gen.visit v WHERE v.outcome = 'cancelled'
    UNION ALL
    -- visit.attempt (nobody at the door; no visit_id: its key is (device, seq))
    SELECT v.device_id, v.k * 3 + 1, decode(md5('gen:d1:' || v.n) || md5('gen:e1:' || v.n), 'hex'),
           'visit.attempt', NULL, v.worker_id, md5('gen:recipient:' || v.r)::uuid, v.start_at,
           gen.mono(v.start_at), gen.boot(v.w, v.start_at), v.start_at + interval '1 minute',
           v.provider_id, NULL, NULL, NULL, NULL,
           590000000 + (v.r % 1000) * 3000, 390000000 + (v.r / 1000) * 3000, 15,
           NULL, NULL, NULL, NULL, (ARRAY['nobody_home', 'nobody_home', 'refused'])[1 + v.n % 3], NULL
    FROM gen.visit v WHERE v.outcome = 'attempt'
) x
ORDER BY 1, 2;

UPDATE devices d SET last_seq = l.seq, last_digest = l.digest, last_upload_at = now()
FROM (SELECT DISTINCT ON (device_id) device_id, seq, digest FROM events
      WHERE device_id IN (SELECT device_id FROM gen.worker) ORDER BY device_id, seq DESC) l
WHERE d.id = l.device_id;

-- Tomorrow's plans: three per worker.
INSERT INTO visit_plans (id, provider_id, worker_id, recipient_id, planned_start, service_codes)
SELECT md5('gen:plan:' || w.w || ':' || j)::uuid, md5('gen:provider:' || w.p)::uuid, w.id,
       md5('gen:recipient:' || CASE WHEN w.p = 1 THEN 1 + w.wl * :per_worker + j
            ELSE :big_recipients + (w.p - 1) + (:providers - 1) * ((w.wl * :per_worker + j) % :m_other) END)::uuid,
       (date_trunc('day', now() AT TIME ZONE 'Europe/Moscow') + interval '1 day'
        + (8 + j * 3) * interval '1 hour') AT TIME ZONE 'Europe/Moscow',
       ARRAY['HH-SHOP', 'MED-BP']
FROM gen.worker w CROSS JOIN generate_series(0, 2) j;

-- The keys rebuild_visits() is given, in chunks of consecutive visit numbers (so each
-- chunk is a slice of time for every worker).
CREATE UNLOGGED TABLE gen.keys AS
SELECT n, CASE WHEN outcome = 'attempt' THEN md5(device_id::text || '/' || (k * 3 + 1)::text)::uuid
               ELSE visit_id END AS key
FROM gen.visit;
CREATE INDEX ON gen.keys (n);
DROP TABLE gen.ended;
