-- The review module's queries (review.c): live visits, the exception queue, one
-- exception, and recording a resolution. Embedded at build time (tools/sql_embed.c);
-- a query is "-- name: X" and is sql_X in C, a fragment is taken in with {{X}}.

-- name: live
-- $1 provider or ''. Elapsed time against the norm (the plan's when the visit has none).
SELECT json_build_object('items', coalesce(json_agg(json_build_object(
    'id', v.id, 'provider_id', v.provider_id, 'worker_id', v.worker_id,
    'worker_name', w.full_name, 'recipient_id', v.recipient_id,
    'recipient_name', r.full_name, 'plan_id', v.plan_id, 'started_at', v.started_at,
    'elapsed_s', x.elapsed_s, 'expected_minutes', x.expected,
    'overdue', visit_overtime(x.elapsed_s, x.expected, t),
    'abandoned', visit_abandoned(v.started_at, t),
    'start_confirmed', v.start_confirmed, 'flags', to_json(v.flags))
    ORDER BY v.started_at, v.id), '[]'))::text
FROM visits v CROSS JOIN visit_thresholds t
JOIN workers w ON w.id = v.worker_id LEFT JOIN recipients r ON r.id = v.recipient_id
CROSS JOIN LATERAL (
    SELECT greatest(0, extract(epoch FROM now() - v.started_at))::bigint AS elapsed_s,
           CASE WHEN v.expected_minutes > 0 THEN v.expected_minutes
                ELSE coalesce((SELECT sum(sv.norm_minutes) FROM visit_plans pl
                               JOIN services sv ON sv.code = ANY (pl.service_codes)
                               WHERE pl.id = v.plan_id), 0) END::integer AS expected) x
WHERE v.state = 'started' AND v.started_at IS NOT NULL
AND ($1 = '' OR v.provider_id = $1::uuid)

-- fragment: exceptions
-- $1 provider or '', $2 kind or '', $3 open/resolved/all, $4 subject or ''.
-- Each of the three sources filters on its own and keeps only its newest 500 (the
-- list's length) before they are merged, so at a million visits no source is read
-- whole: flagged visits walk visits_flagged (a provider) or visits_flagged_all (every
-- provider, sql/0005_visits.sql) newest first; abandoned visits and pending cards are
-- small sets found by index (visits_live, card_bindings_pending) plus the resolved
-- ones, as a union rather than an OR (an OR with EXISTS cannot use an index and read
-- every visit). A source whose kind is not asked for is folded away by the planner
-- ($2 is a constant in the plan of an unnamed statement).
WITH flagged AS (
    SELECT f.kind, v.id AS subject_id, v.provider_id, v.worker_id, v.recipient_id,
           v.sort_at AS at,
           json_build_object('state', v.state, 'rating', v.rating, 'comment', v.comment,
                             'duration_s', v.duration_s,
                             'expected_minutes', v.expected_minutes,
                             'start_level', v.start_level,
                             'start_proof_failure', v.start_proof_failure,
                             'end_level', v.end_level,
                             'end_proof_failure', v.end_proof_failure) AS detail
    FROM visits v CROSS JOIN LATERAL unnest(v.flags) f(kind)
    WHERE ($2 = '' OR $2 IN ('low_rating', 'early_leave', 'card_mismatch', 'overlap',
                             'far_from_address', 'impossible_travel', 'card_proof_failed'))
    AND cardinality(v.flags) > 0
    AND f.kind IN ('low_rating', 'early_leave', 'card_mismatch', 'overlap', 'far_from_address',
                   'impossible_travel', 'card_proof_failed')
    AND ($2 = '' OR f.kind = $2) AND ($1 = '' OR v.provider_id = $1::uuid)
    AND ($4 = '' OR v.id = $4::uuid)
    AND ($3 = 'all' OR ($3 = 'open') = NOT EXISTS (SELECT 1 FROM exception_resolutions er
         WHERE er.kind = f.kind AND er.subject_id = v.id))
    ORDER BY v.sort_at DESC, f.kind || '.' || v.id LIMIT 500),
abandoned AS (
    SELECT 'abandoned'::text AS kind, v.id AS subject_id, v.provider_id, v.worker_id,
           v.recipient_id, v.started_at AS at,
           json_build_object('started_at', v.started_at) AS detail
    FROM visits v
    WHERE ($2 = '' OR $2 = 'abandoned')
    AND v.id IN (SELECT a.id FROM visits a CROSS JOIN visit_thresholds t
                 WHERE a.state = 'started' AND visit_abandoned(a.started_at, t)
                 UNION SELECT er.subject_id FROM exception_resolutions er
                 WHERE er.kind = 'abandoned')
    AND ($1 = '' OR v.provider_id = $1::uuid) AND ($4 = '' OR v.id = $4::uuid)
    AND ($3 = 'all' OR ($3 = 'open') = NOT EXISTS (SELECT 1 FROM exception_resolutions er
         WHERE er.kind = 'abandoned' AND er.subject_id = v.id))
    ORDER BY v.started_at DESC, 'abandoned.' || v.id LIMIT 500),
bindings AS (
    SELECT 'card_binding'::text AS kind, b.id AS subject_id, r.provider_id,
           NULL::uuid AS worker_id, b.recipient_id, b.created_at AS at,
           json_build_object('method', b.method, 'scheme', b.scheme, 'last4', b.last4,
                             'holder', b.holder, 'status', b.status,
                             'proof_level', b.proof_level,
                             'proof_failure', b.proof_failure) AS detail
    FROM card_bindings b JOIN recipients r ON r.id = b.recipient_id
    WHERE ($2 = '' OR $2 = 'card_binding')
    AND b.id IN (SELECT p.id FROM card_bindings p WHERE p.status = 'pending'
                 UNION SELECT er.subject_id FROM exception_resolutions er
                 WHERE er.kind = 'card_binding')
    AND ($1 = '' OR r.provider_id = $1::uuid) AND ($4 = '' OR b.id = $4::uuid)
    AND ($3 = 'all' OR ($3 = 'open') = NOT EXISTS (SELECT 1 FROM exception_resolutions er
         WHERE er.kind = 'card_binding' AND er.subject_id = b.id))
    ORDER BY b.created_at DESC, 'card_binding.' || b.id LIMIT 500),
x AS (SELECT * FROM flagged UNION ALL SELECT * FROM abandoned UNION ALL SELECT * FROM bindings)
SELECT x.kind || '.' || x.subject_id AS id, x.at,
       json_build_object('id', x.kind || '.' || x.subject_id, 'kind', x.kind,
           'subject_id', x.subject_id, 'provider_id', x.provider_id,
           'worker_id', x.worker_id, 'recipient_id', x.recipient_id, 'at', x.at,
           'detail', x.detail,
           'status', CASE WHEN er.kind IS NULL THEN 'open' ELSE 'resolved' END,
           'resolution', CASE WHEN er.kind IS NULL THEN NULL
                              ELSE json_build_object('action', er.action,
                                   'resolved_by', er.resolved_by, 'note', er.note,
                                   'resolved_at', er.resolved_at) END) AS j
FROM x LEFT JOIN exception_resolutions er
ON er.kind = x.kind AND er.subject_id = x.subject_id

-- name: exception_list
SELECT json_build_object('items', coalesce(json_agg(j ORDER BY at DESC, id), '[]'))::text
FROM ({{exceptions}}
ORDER BY x.at DESC, 1 LIMIT 500) q

-- name: one_exception
SELECT j::text FROM ({{exceptions}}
) q

-- name: resolution_insert
-- Once per exception: a second resolve inserts nothing (409).
INSERT INTO exception_resolutions (kind, subject_id, action, resolved_by, note)
VALUES ($1, $2::uuid, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1

-- name: binding_resolve
-- $1 binding, $2 'active' | 'revoked'. A confirmed card now confirms the visits it
-- was read on: rebuild them.
WITH b AS (UPDATE card_bindings SET status = $2 WHERE id = $1::uuid AND status = 'pending'
           RETURNING token, recipient_id)
SELECT rebuild_visits(coalesce((
    SELECT array_agg(DISTINCT e.visit_key) FROM events e
    JOIN b ON e.recipient_id = b.recipient_id AND e.card_token = b.token
    WHERE e.visit_key IS NOT NULL), '{}'))
