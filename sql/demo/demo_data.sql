-- Demo data for carefact (loaded by `carefactd demo-data`, which computes the card
-- tokens with the demo region's key and passes them as parameters):
--   $1 region token key (hex), $2 card tokens (text[], one per binding), $3 methods,
--   $4 schemes, $5 last four digits, $6 the recipient number (1..50) holding each card
--   (all text[] of the same length: one card per recipient, then recipient 1's Mir card).
-- Ids are derived from names (md5 -> uuid), so loading twice changes nothing.

INSERT INTO regions (id, name, token_key)
VALUES (md5('demo:region')::uuid, 'Вологодская область (демо)', decode($1, 'hex'))
ON CONFLICT (id) DO NOTHING;

INSERT INTO providers (id, region_id, name)
VALUES (md5('demo:provider:1')::uuid, md5('demo:region')::uuid, 'КЦСОН «Забота», г. Вологда'),
       (md5('demo:provider:2')::uuid, md5('demo:region')::uuid, 'КЦСОН Сокольского округа')
ON CONFLICT (id) DO NOTHING;

-- Where applications are taken in (issue 15): a multifunctional centre, a village's
-- authorised person, and the department's back office.
INSERT INTO offices (id, region_id, kind, name, address)
VALUES (md5('demo:office:1')::uuid, md5('demo:region')::uuid, 'mfc', 'МФЦ «Мои документы», г. Вологда',
        'г. Вологда, ул. Предтеченская, д. 19'),
       (md5('demo:office:2')::uuid, md5('demo:region')::uuid, 'authorised',
        'Уполномоченный по соцвопросам, д. Кубенское', 'д. Кубенское, ул. Центральная, д. 3'),
       (md5('demo:office:back')::uuid, md5('demo:region')::uuid, 'back_office',
        'Департамент социальной защиты населения', 'г. Вологда, ул. Герцена, д. 27')
ON CONFLICT (id) DO NOTHING;

-- Appointments at the centre (issue 16): three desks, 15-minute slots, open Monday to
-- Saturday 08:00-20:00 (Saturday to 17:00).
INSERT INTO office_booking (office_id, seats, slot_minutes)
VALUES (md5('demo:office:1')::uuid, 3, 15)
ON CONFLICT (office_id) DO NOTHING;
INSERT INTO office_hours (office_id, isodow, opens, closes)
SELECT md5('demo:office:1')::uuid, d, '08:00', CASE WHEN d = 6 THEN time '17:00' ELSE '20:00' END
FROM generate_series(1, 6) d
ON CONFLICT DO NOTHING;

INSERT INTO workers (id, provider_id, full_name)
SELECT md5('demo:worker:' || n)::uuid, md5('demo:provider:' || (CASE WHEN n <= 3 THEN 1 ELSE 2 END))::uuid,
       (ARRAY['Смирнова Ольга Викторовна', 'Кузнецова Татьяна Ивановна', 'Попова Елена Сергеевна',
              'Васильева Наталья Петровна', 'Соколова Ирина Николаевна'])[n]
FROM generate_series(1, 5) n
ON CONFLICT (id) DO NOTHING;

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

WITH names AS (
    SELECT n,
           (ARRAY['Иванов', 'Петров', 'Сидоров', 'Морозов', 'Волков', 'Лебедев', 'Козлов',
                  'Новиков', 'Зайцев', 'Павлов'])[1 + (n - 1) % 10] AS surname,
           (ARRAY['Иван', 'Пётр', 'Николай', 'Алексей', 'Михаил'])[1 + (n - 1) % 5] AS male,
           (ARRAY['Анна', 'Мария', 'Валентина', 'Галина', 'Зинаида'])[1 + (n - 1) % 5] AS female
    FROM generate_series(1, 50) n
)
INSERT INTO recipients (id, provider_id, full_name, address, lat_e7, lon_e7)
SELECT md5('demo:recipient:' || n)::uuid,
       md5('demo:provider:' || (CASE WHEN n <= 30 THEN 1 ELSE 2 END))::uuid,
       CASE WHEN n % 2 = 0 THEN surname || 'а ' || female || ' ' || (ARRAY['Ивановна', 'Петровна', 'Николаевна'])[1 + n % 3]
            ELSE surname || ' ' || male || ' ' || (ARRAY['Иванович', 'Петрович', 'Николаевич'])[1 + n % 3] END,
       CASE WHEN n <= 30 THEN 'г. Вологда, ул. Ленина, д. ' || n ELSE 'д. Литега, д. ' || (n - 30) END,
       592200000 + n * 1500, 398900000 + n * 2100
FROM names
ON CONFLICT (id) DO NOTHING;

INSERT INTO card_bindings (recipient_id, token, method, scheme, last4, status)
SELECT md5('demo:recipient:' || c.n)::uuid, c.token, c.method, c.scheme, c.last4, 'active'
FROM unnest($6::text[], $2::text[], $3::text[], $4::text[], $5::text[])
     AS c(n, token, method, scheme, last4)
ON CONFLICT DO NOTHING;

INSERT INTO certificates (id, recipient_id, number, valid_from, valid_to)
-- Dates are the region's local dates (as the terminals and the register see them), not
-- UTC's: from 21:00 UTC Moscow is already in the next day.
SELECT md5('demo:certificate:' || n)::uuid, md5('demo:recipient:' || n)::uuid,
       'ИППСУ-35-' || lpad(n::text, 5, '0'), date_trunc('year', rg.today)::date,
       (date_trunc('year', rg.today) + interval '1 year - 1 day')::date
FROM generate_series(1, 50) n,
     (SELECT (now() AT TIME ZONE timezone)::date AS today FROM regions
      WHERE id = md5('demo:region')::uuid) rg
ON CONFLICT (id) DO NOTHING;

INSERT INTO certificate_services (certificate_id, service_code, volume, period)
SELECT md5('demo:certificate:' || n)::uuid, code, volume, 'month'
FROM generate_series(1, 50) n,
     LATERAL (VALUES ('HH-CLEAN', 4), ('HH-SHOP', 8), ('MED-BP', 8),
                     (CASE WHEN n % 3 = 0 THEN 'MED-ESCORT' ELSE 'HH-COOK' END, 4)) s(code, volume)
ON CONFLICT DO NOTHING;

-- Today's plans (the region's today): each worker visits the recipients of their
-- provider in turn, from 09:00 UTC every 90 minutes.
INSERT INTO visit_plans (id, provider_id, worker_id, recipient_id, planned_start, service_codes)
SELECT md5('demo:plan:' || rg.today || ':' || w || ':' || k)::uuid,
       md5('demo:provider:' || (CASE WHEN w <= 3 THEN 1 ELSE 2 END))::uuid,
       md5('demo:worker:' || w)::uuid,
       md5('demo:recipient:' || (CASE WHEN w <= 3 THEN (w - 1) * 4 + k ELSE 30 + (w - 4) * 4 + k END))::uuid,
       (rg.today + interval '9 hours' + (k - 1) * interval '90 minutes') AT TIME ZONE 'UTC',
       ARRAY['HH-SHOP', 'MED-BP']
FROM generate_series(1, 5) w, generate_series(1, 4) k,
     (SELECT (now() AT TIME ZONE timezone)::date AS today FROM regions
      WHERE id = md5('demo:region')::uuid) rg
ON CONFLICT (id) DO NOTHING;
