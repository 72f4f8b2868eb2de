-- The visits module's queries (visits.c): GET /api/v1/visits and /api/v1/visits/{id}.
-- Embedded at build time (tools/sql_embed.c): "-- name: X" is sql_X in C, a fragment
-- is taken in with {{X}}.

-- fragment: visit_json
-- A visit as the API shows it, read from visit_effective v (sql/0008_corrections.sql):
-- services and expected_minutes stay the facts, effective_* are after corrections.
json_build_object('id', v.id, 'provider_id', v.provider_id, 'worker_id', v.worker_id,
    'worker_name', (SELECT w.full_name FROM workers w WHERE w.id = v.worker_id),
    'recipient_id', v.recipient_id,
    'recipient_name', (SELECT r.full_name FROM recipients r WHERE r.id = v.recipient_id),
    'plan_id', v.plan_id, 'state', v.state,
    'planned_start', (SELECT pl.planned_start FROM visit_plans pl WHERE pl.id = v.plan_id),
    'started_at', v.started_at, 'ended_at', v.ended_at, 'duration_s', v.duration_s,
    'expected_minutes', v.expected_minutes, 'start_confirmed', v.start_confirmed,
    'end_confirmed', v.end_confirmed, 'start_confirmer', v.start_confirmer,
    'end_confirmer', v.end_confirmer, 'rating', v.rating, 'comment', v.comment,
    'reason', v.reason, 'cancelled_by', v.cancelled_by, 'flags', to_json(v.flags),
    'start_level', v.start_level, 'start_proof_failure', v.start_proof_failure,
    'end_level', v.end_level, 'end_proof_failure', v.end_proof_failure,
    'start_location', CASE WHEN v.start_lat_e7 IS NULL THEN NULL
        ELSE json_build_object('lat_e7', v.start_lat_e7, 'lon_e7', v.start_lon_e7,
                               'accuracy_m', v.start_accuracy_m) END,
    'end_location', CASE WHEN v.end_lat_e7 IS NULL THEN NULL
        ELSE json_build_object('lat_e7', v.end_lat_e7, 'lon_e7', v.end_lon_e7,
                               'accuracy_m', v.end_accuracy_m) END,
    'updated_at', v.updated_at,
    'services', coalesce((SELECT json_agg(json_build_object('code', s.code,
                                                            'quantity', s.quantity)
                                          ORDER BY s.n)
                          FROM unnest(v.service_codes, v.service_quantities)
                               WITH ORDINALITY s(code, quantity, n)), '[]'),
    'disputed', v.disputed, 'corrected', v.corrected, 'must_fix_open', v.must_fix_open,
    'effective_expected_minutes', v.effective_expected_minutes,
    'effective_services', coalesce((SELECT json_agg(json_build_object('code', s.code,
                                                                      'quantity', s.quantity)
                                                    ORDER BY s.n)
                                    FROM unnest(v.effective_service_codes,
                                                v.effective_service_quantities)
                                         WITH ORDINALITY s(code, quantity, n)), '[]'))

-- fragment: plan_json
-- A plan not started yet (pl), shaped as a visit in state "planned".
json_build_object('id', pl.id, 'provider_id', pl.provider_id, 'worker_id', pl.worker_id,
    'worker_name', (SELECT w.full_name FROM workers w WHERE w.id = pl.worker_id),
    'recipient_id', pl.recipient_id,
    'recipient_name', (SELECT r.full_name FROM recipients r WHERE r.id = pl.recipient_id),
    'plan_id', pl.id, 'state', 'planned', 'planned_start', pl.planned_start,
    'started_at', NULL, 'ended_at', NULL, 'duration_s', NULL,
    'expected_minutes', (SELECT coalesce(sum(sv.norm_minutes), 0) FROM services sv
                         WHERE sv.code = ANY (pl.service_codes)),
    'start_confirmed', false, 'end_confirmed', false, 'start_confirmer', NULL,
    'end_confirmer', NULL, 'rating', NULL, 'comment', NULL, 'reason', NULL,
    'cancelled_by', NULL, 'flags', '[]'::json, 'start_level', NULL,
    'start_proof_failure', NULL, 'end_level', NULL, 'end_proof_failure', NULL,
    'start_location', NULL,
    'end_location', NULL, 'updated_at', NULL, 'services', '[]'::json,
    'disputed', false, 'corrected', false, 'must_fix_open', false,
    'effective_expected_minutes', (SELECT coalesce(sum(sv.norm_minutes), 0) FROM services sv
                                   WHERE sv.code = ANY (pl.service_codes)),
    'effective_services', '[]'::json)

-- name: visit_get
-- $1 id, $2 provider or '' (every provider), $3 worker or ''. Another provider's (or,
-- for a worker, another worker's) visit does not exist. A plan no visit has started
-- yet is listed as a visit in state "planned".
SELECT {{visit_json}}::text, v.provider_id
FROM visit_effective v
WHERE v.id = $1::uuid AND ($2 = '' OR v.provider_id = $2::uuid)
AND ($3 = '' OR v.worker_id = $3::uuid)
UNION ALL
SELECT {{plan_json}}::text, pl.provider_id
FROM visit_plans pl
WHERE pl.id = $1::uuid AND ($2 = '' OR pl.provider_id = $2::uuid)
AND ($3 = '' OR pl.worker_id = $3::uuid)
AND NOT EXISTS (SELECT 1 FROM visits x WHERE x.id = pl.id)
AND NOT EXISTS (SELECT 1 FROM visits x WHERE x.plan_id = pl.id)

-- name: visit_list
-- $1 provider, $2 worker, $3 recipient, $4 state, $5 flag, $6 from, $7 to, $8 cursor's
-- microseconds, $9 cursor's id, $10 limit, $11 list visits, $12 list plans ('' = no
-- filter). Keyset pagination over (sort time DESC, id DESC): visits sort by their start
-- (or end, cancellation, attempt), plans by their planned start. Each half is limited
-- on its own (each walks an index: visits_*_sort, visit_plans_*_start), then merged.
-- "No visit of this plan" is two NOT EXISTS, not one with an OR: the OR cannot use
-- visits_plan and the primary key and read every visit once per plan on the page.
WITH v AS (
    SELECT v.sort_at, v.id, {{visit_json}} AS j
    FROM visit_effective v
    WHERE $11::boolean
    AND ($1 = '' OR v.provider_id = $1::uuid) AND ($2 = '' OR v.worker_id = $2::uuid)
    AND ($3 = '' OR v.recipient_id = $3::uuid) AND ($4 = '' OR v.state = $4)
    AND ($5 = '' OR (v.flags @> ARRAY[$5] AND cardinality(v.flags) > 0))
    AND ($6 = '' OR v.sort_at >= $6::timestamptz)
    AND ($7 = '' OR v.sort_at < $7::timestamptz)
    AND ($8 = '' OR (v.sort_at, v.id) < (timestamptz 'epoch' + $8::bigint * interval '1 microsecond',
                                         $9::text::uuid))
    ORDER BY v.sort_at DESC, v.id DESC LIMIT $10::int),
p AS (
    SELECT pl.planned_start AS sort_at, pl.id, {{plan_json}} AS j
    FROM visit_plans pl
    WHERE $12::boolean AND ($1 = '' OR pl.provider_id = $1::uuid)
    AND ($2 = '' OR pl.worker_id = $2::uuid) AND ($3 = '' OR pl.recipient_id = $3::uuid)
    AND ($6 = '' OR pl.planned_start >= $6::timestamptz)
    AND ($7 = '' OR pl.planned_start < $7::timestamptz)
    AND ($8 = '' OR (pl.planned_start, pl.id) < (timestamptz 'epoch' + $8::bigint * interval '1 microsecond',
                                                 $9::text::uuid))
    AND NOT EXISTS (SELECT FROM visits x WHERE x.plan_id = pl.id)
    AND NOT EXISTS (SELECT FROM visits x WHERE x.id = pl.id)
    ORDER BY pl.planned_start DESC, pl.id DESC LIMIT $10::int),
page AS (SELECT * FROM (SELECT * FROM v UNION ALL SELECT * FROM p) u
         ORDER BY sort_at DESC, id DESC LIMIT $10::int)
SELECT json_build_object(
    'items', coalesce((SELECT json_agg(j ORDER BY sort_at DESC, id DESC) FROM page), '[]'),
    'next_cursor', (SELECT CASE WHEN count(*) = $10::int THEN
                        (SELECT (extract(epoch FROM q.sort_at) * 1000000)::bigint || '_' || q.id
                         FROM page q ORDER BY q.sort_at ASC, q.id ASC LIMIT 1) END
                    FROM page))::text
