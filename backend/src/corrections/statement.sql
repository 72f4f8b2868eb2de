-- The recipient's statement (statement.c): one month of a recipient's visits with the
-- corrections applied and listed. Embedded at build time (tools/sql_embed.c): "-- name:
-- X" is sql_X in C, a fragment is taken in with {{X}}.

-- fragment: named_value
-- A correction's value x.value in plain terms: services (jsonb [{code, quantity}]) with
-- each code's catalogue name, anything else as it is. c is the correction.
CASE WHEN c.field = 'services'
     THEN (SELECT coalesce(jsonb_agg(jsonb_build_object('code', e.x->>'code', 'name', sv.name,
                                         'quantity', (e.x->>'quantity')::integer)
                                     ORDER BY e.n), '[]')
           FROM jsonb_array_elements(x.value) WITH ORDINALITY e(x, n)
           LEFT JOIN services sv ON sv.code = e.x->>'code')
     ELSE x.value END

-- fragment: statement_visit_json
json_build_object('id', v.id,
    'date', to_char(v.sort_at AT TIME ZONE b.timezone, 'YYYY-MM-DD'),
    'start_time', to_char(v.started_at AT TIME ZONE b.timezone, 'HH24:MI'),
    'end_time', to_char(v.ended_at AT TIME ZONE b.timezone, 'HH24:MI'),
    'started_at', v.started_at, 'ended_at', v.ended_at, 'state', v.state,
    'reason', v.reason, 'worker_name', w.full_name,
    'services', coalesce((SELECT json_agg(json_build_object('code', s.code, 'name', sv.name,
                                                            'quantity', s.quantity)
                                          ORDER BY s.n)
                          FROM unnest(v.effective_service_codes,
                                      v.effective_service_quantities)
                               WITH ORDINALITY s(code, quantity, n)
                          LEFT JOIN services sv ON sv.code = s.code), '[]'),
    'duration_minutes', round(v.duration_s / 60.0)::integer,
    'expected_minutes', v.effective_expected_minutes,
    'start_confirmed', v.start_confirmed, 'start_confirmed_by', v.start_confirmer,
    'end_confirmed', v.end_confirmed, 'end_confirmed_by', v.end_confirmer,
    'rating', v.rating, 'comment', v.comment, 'disputed', v.disputed,
    'corrected', v.corrected,
    'corrections', coalesce((SELECT json_agg(json_build_object('field', c.field,
                                 'from', f.named, 'to', t.named,
                                 'reason', c.reason, 'corrected_by', c.corrected_by,
                                 'corrected_at', c.corrected_at) ORDER BY c.id)
                             FROM visit_corrections c
                             CROSS JOIN LATERAL (SELECT {{named_value}} AS named
                                                 FROM (SELECT c.previous AS value) x) f
                             CROSS JOIN LATERAL (SELECT {{named_value}} AS named
                                                 FROM (SELECT c.value AS value) x) t
                             WHERE c.visit_id = v.id), '[]'))

-- name: statement
-- $1 recipient, $2 provider scope ('' = every provider), $3 month YYYY-MM.
WITH b AS (SELECT r.id, r.full_name, r.guardian_name, r.provider_id, p.name AS provider_name,
                  rg.timezone,
                  (($3 || '-01')::timestamp AT TIME ZONE rg.timezone) AS from_at,
                  ((($3 || '-01')::timestamp + interval '1 month') AT TIME ZONE rg.timezone) AS to_at
           FROM recipients r JOIN providers p ON p.id = r.provider_id
           JOIN regions rg ON rg.id = p.region_id
           WHERE r.id = $1::uuid AND ($2 = '' OR r.provider_id = $2::uuid)),
m AS (SELECT v.sort_at, v.id, v.duration_s, {{statement_visit_json}} AS j
      FROM b JOIN visit_effective v ON v.recipient_id = b.id AND v.provider_id = b.provider_id
      AND v.sort_at >= b.from_at AND v.sort_at < b.to_at
      JOIN workers w ON w.id = v.worker_id)
SELECT json_build_object(
    'recipient', json_build_object('id', b.id, 'full_name', b.full_name,
                                   'guardian_name', b.guardian_name),
    'provider', json_build_object('id', b.provider_id, 'name', b.provider_name),
    'month', $3, 'timezone', b.timezone, 'from', b.from_at, 'to', b.to_at,
    'visits', coalesce((SELECT json_agg(m.j ORDER BY m.sort_at, m.id) FROM m), '[]'),
    'totals', (SELECT json_build_object('visits', count(*),
                      'minutes', coalesce(sum(round(m.duration_s / 60.0)), 0)::integer)
               FROM m))::text
FROM b
