-- The corrections module's queries (corrections.c): storing one correction of a visit
-- and listing a visit's corrections. The view visit_effective (sql/0008_corrections.sql)
-- applies them. Embedded at build time (tools/sql_embed.c): "-- name: X" is sql_X in C.

-- name: visit_lock
-- $1 visit, $2 provider scope or '': lock the visit's row (two corrections of one
-- visit are serialised, so each one's previous is the value the other left).
SELECT v.provider_id FROM visits v
WHERE v.id = $1::uuid AND ($2 = '' OR v.provider_id = $2::uuid) FOR UPDATE

-- name: plan_exists
SELECT 1 FROM visit_plans pl WHERE pl.id = $1::uuid AND ($2 = '' OR pl.provider_id = $2::uuid)

-- name: unknown_code
-- $1 the services (JSON): the 1-based position of the first code not in the catalogue
-- (0: all known).
SELECT coalesce(min(n), 0) FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY e(x, n)
WHERE NOT EXISTS (SELECT 1 FROM services s WHERE s.code = e.x->>'code')

-- name: provider_share_lock
SELECT 1 FROM providers WHERE id = $1::uuid FOR SHARE

-- name: visit_in_submitted_register
-- $1 visit: a row when a submitted register holds it (as a line or as excluded).
SELECT 1 FROM registers r
WHERE r.state = 'submitted'
AND EXISTS (SELECT 1 FROM register_lines l WHERE l.visit_id = $1::uuid
            AND (l.provider_id, l.month) = (r.provider_id, r.month)
            UNION ALL
            SELECT 1 FROM register_excluded x WHERE x.visit_id = $1::uuid
            AND (x.provider_id, x.month) = (r.provider_id, r.month))

-- name: correction_current
-- The current effective value of the field ($2) of visit $1, and whether the new
-- value ($3) equals it: services compare as a set of (code, quantity), order aside.
SELECT p.previous::text,
       CASE WHEN $2 = 'services'
            THEN (SELECT coalesce(jsonb_agg(e ORDER BY e->>'code'), '[]')
                  FROM jsonb_array_elements(p.previous) e)
                 = (SELECT coalesce(jsonb_agg(e ORDER BY e->>'code'), '[]')
                    FROM jsonb_array_elements($3::jsonb) e)
            ELSE p.previous = $3::jsonb END
FROM visit_effective v CROSS JOIN LATERAL (
    SELECT CASE WHEN $2 = 'services'
                THEN coalesce((SELECT jsonb_agg(jsonb_build_object('code', s.code,
                                                                   'quantity', s.quantity)
                                                ORDER BY s.n)
                               FROM unnest(v.effective_service_codes,
                                           v.effective_service_quantities)
                                    WITH ORDINALITY s(code, quantity, n)), '[]'::jsonb)
                ELSE to_jsonb(v.disputed) END AS previous) p
WHERE v.id = $1::uuid

-- name: correction_insert
INSERT INTO visit_corrections (visit_id, provider_id, field, value, previous, reason,
                               corrected_by)
VALUES ($1::uuid, $2::uuid, $3, $4::jsonb, $5::jsonb, $6, $7)
RETURNING json_build_object('id', id, 'visit_id', visit_id, 'field', field, 'value', value,
                            'previous', previous, 'reason', reason,
                            'corrected_by', corrected_by, 'corrected_at', corrected_at)::text

-- name: correction_history
-- $1 visit, $2 provider scope or '', $3 a worker's own id or '': the visit (or a plan,
-- which has none yet) must be one the caller may see.
SELECT json_build_object('items', coalesce((
    SELECT json_agg(json_build_object('id', c.id, 'field', c.field, 'value', c.value,
                                      'previous', c.previous, 'reason', c.reason,
                                      'corrected_by', c.corrected_by,
                                      'corrected_at', c.corrected_at) ORDER BY c.id)
    FROM visit_corrections c WHERE c.visit_id = x.id AND c.provider_id = x.provider_id),
    '[]'))::text
FROM (SELECT v.id, v.provider_id FROM visits v
      WHERE v.id = $1::uuid AND ($2 = '' OR v.provider_id = $2::uuid)
      AND ($3 = '' OR v.worker_id = $3::uuid)
      UNION ALL
      SELECT pl.id, pl.provider_id FROM visit_plans pl
      WHERE pl.id = $1::uuid AND ($2 = '' OR pl.provider_id = $2::uuid)
      AND ($3 = '' OR pl.worker_id = $3::uuid)
      LIMIT 1) x
