-- Reference data a terminal keeps for offline work, compared by (kind, id, version):
-- its provider's recipients (active cards, certificates still valid with the volume
-- left this period), the service catalogue, and its worker's plans for today and
-- tomorrow -- days and periods in the region's local time. version (computed by
-- carefactd) is a hash of the record's content, so any change to a card, a
-- certificate or a used volume gives a new version without triggers; a record that
-- is no longer listed (deleted recipient, revoked card's recipient changes version,
-- revoked device lists nothing) is one the device must drop.
CREATE FUNCTION reference_items(p_device uuid)
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
$$;
