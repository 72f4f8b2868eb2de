-- The satisfaction survey on the terminal's screen (issues 16, 17): the instruments a
-- terminal offers the recipient after a visit travel in its reference data, so the touch
-- UI asks the server's own questions (the version survey_record validates against,
-- sql/0026) offline. The answers come back as one survey.answered event
-- (terminal_survey_answer, sql/0032). See backend/README.md, "Satisfaction".

-- The instruments a terminal offers after a visit: every instrument but the terminal's own
-- per-visit rating (visit_rating: the faces, recorded on the visit itself), in the newest
-- version already valid in the device's region, with its questions in order. id is the
-- instrument; the version is in the body (the terminal sends it back with the answers).
CREATE FUNCTION survey_reference_items(p_device uuid)
RETURNS TABLE (kind text, id text, body jsonb)
LANGUAGE sql STABLE AS $$
    SELECT 'survey', i.id, jsonb_build_object(
        'instrument', i.id, 'version', v.version, 'name', i.name,
        'questions', (SELECT jsonb_agg(jsonb_build_object(
                'position', q.position, 'code', q.code, 'kind', q.kind, 'text', q.text,
                'required', q.required) ORDER BY q.position)
            FROM survey_questions q
            WHERE q.instrument_id = v.instrument_id AND q.version = v.version))
    FROM devices d
    JOIN workers w ON w.id = d.worker_id
    JOIN providers p ON p.id = w.provider_id
    JOIN regions rg ON rg.id = p.region_id
    CROSS JOIN survey_instruments i
    JOIN LATERAL (SELECT sv.instrument_id, sv.version FROM survey_instrument_versions sv
                  WHERE sv.instrument_id = i.id
                    AND sv.valid_from <= (now() AT TIME ZONE rg.timezone)::date
                  ORDER BY sv.version DESC LIMIT 1) v ON true
    WHERE d.id = p_device AND d.status = 'active'
      AND i.id <> 'visit_rating'
      AND EXISTS (SELECT 1 FROM survey_questions q
                  WHERE q.instrument_id = v.instrument_id AND q.version = v.version)
$$;

-- 0031's reference_items with the survey instruments added (the last UNION ALL).
CREATE OR REPLACE FUNCTION reference_items(p_device uuid)
RETURNS TABLE (kind text, id text, body jsonb)
LANGUAGE sql STABLE AS $$
WITH dev AS (
    SELECT d.worker_id, w.provider_id, rg.timezone,
           (now() AT TIME ZONE rg.timezone) AS local_now
    FROM devices d
    JOIN workers w ON w.id = d.worker_id
    JOIN providers p ON p.id = w.provider_id
    JOIN regions rg ON rg.id = p.region_id
    WHERE d.id = p_device AND d.status = 'active'
)
SELECT 'recipient', r.id::text, jsonb_build_object(
    'id', r.id, 'full_name', r.full_name, 'address', r.address,
    'lat_e7', r.lat_e7, 'lon_e7', r.lon_e7, 'guardian_name', r.guardian_name,
    'cards', coalesce((SELECT jsonb_agg(jsonb_build_object('token', b.token, 'method', b.method,
                 'scheme', b.scheme, 'last4', b.last4, 'holder', b.holder,
                 'valid_from', b.valid_from, 'valid_to', b.valid_to) ORDER BY b.token, b.holder)
             FROM card_bindings b WHERE b.recipient_id = r.id AND b.status = 'active'), '[]'),
    'certificates', coalesce((SELECT jsonb_agg(jsonb_build_object('id', c.id, 'number', c.number,
                 'valid_from', c.valid_from, 'valid_to', c.valid_to,
                 'services', coalesce((SELECT jsonb_agg(jsonb_build_object(
                         'code', cs.service_code, 'volume', cs.volume, 'period', cs.period,
                         'remaining', cs.volume - (
                             SELECT coalesce(sum(vs.quantity), 0)
                             FROM visits v, unnest(v.service_codes, v.service_quantities)
                                  vs(code, quantity)
                             WHERE v.recipient_id = r.id AND vs.code = cs.service_code
                               AND v.started_at >= date_trunc(cs.period, dev.local_now)
                                                   AT TIME ZONE dev.timezone))
                         ORDER BY cs.service_code)
                     FROM certificate_services cs WHERE cs.certificate_id = c.id), '[]'))
                 ORDER BY c.valid_from, c.id)
             FROM certificates c
             WHERE c.recipient_id = r.id AND c.valid_to >= dev.local_now::date), '[]'))
FROM recipients r, dev
WHERE r.provider_id = dev.provider_id AND r.deleted_at IS NULL
UNION ALL
SELECT 'service', s.code, jsonb_build_object('code', s.code, 'name', s.name,
    'category', s.category, 'form', s.form, 'norm_minutes', s.norm_minutes,
    'tariff_kopecks', s.tariff_kopecks)
FROM services s WHERE EXISTS (SELECT 1 FROM dev)
UNION ALL
SELECT 'plan', p.id::text, jsonb_build_object('id', p.id, 'recipient_id', p.recipient_id,
    'planned_start', p.planned_start, 'service_codes', p.service_codes)
FROM visit_plans p, dev
WHERE p.worker_id = dev.worker_id
  AND p.planned_start >= date_trunc('day', dev.local_now) AT TIME ZONE dev.timezone
  AND p.planned_start < (date_trunc('day', dev.local_now) + interval '2 days') AT TIME ZONE dev.timezone
UNION ALL
SELECT * FROM trip_reference_items(p_device)
UNION ALL
SELECT * FROM survey_reference_items(p_device)
$$;
