-- Complaints and the provider comparison (complaints.c). The rules (the automatic
-- opening, the due day, overdue, the transitions, the trend alerts, the Wilson bound, the
-- comparison) are sql/0027_complaints.sql's functions.

-- fragment: complaint_json
json_build_object(
    'id', c.id, 'number', c.number, 'has_code', c.code_hash IS NOT NULL,
    'state', c.state, 'source', c.source,
    'cause', c.cause, 'cause_label', cc.label, 'text', c.body, 'rating', c.rating,
    'provider', CASE WHEN c.provider_id IS NULL THEN NULL
                     ELSE json_build_object('id', p.id, 'name', p.name) END,
    'worker', CASE WHEN c.worker_id IS NULL THEN NULL
                   ELSE json_build_object('id', w.id, 'name', w.full_name) END,
    'visit_id', c.visit_id, 'appointment_id', c.appointment_id,
    'office', CASE WHEN c.office_id IS NULL THEN NULL
                   ELSE json_build_object('id', o.id, 'name', o.name) END,
    'person_name', c.person_name, 'phone', c.phone,
    'opened_at', c.opened_at, 'opened_by', c.opened_by, 'due', c.due,
    'overdue', complaint_overdue(c.state, c.due, (now() AT TIME ZONE r.timezone)::date),
    'answer', c.answer, 'answered_at', c.answered_at, 'answered_by', c.answered_by,
    'closed_at', c.closed_at, 'reopened', c.reopened)

-- fragment: complaint_from
complaints c
JOIN complaint_causes cc ON cc.code = c.cause
JOIN regions r ON r.id = c.region_id
LEFT JOIN providers p ON p.id = c.provider_id
LEFT JOIN workers w ON w.id = c.worker_id
LEFT JOIN offices o ON o.id = c.office_id

-- name: complaint_list
-- $1 state or '', $2 provider or '', $3 worker or '', $4 't' for overdue only, $5 limit,
-- $6 before (an opened_at, exclusive) or '': the complaints the caller may see (row-level
-- security), newest first, with the causes for the page's choices.
SELECT json_build_object(
    'items', (SELECT coalesce(json_agg(x.j ORDER BY x.opened_at DESC, x.id DESC), '[]')
              FROM (SELECT {{complaint_json}} AS j, c.opened_at, c.id
                    FROM {{complaint_from}}
                    WHERE ($1 = '' OR c.state = $1)
                      AND ($2 = '' OR c.provider_id = nullif($2, '')::uuid)
                      AND ($3 = '' OR c.worker_id = nullif($3, '')::uuid)
                      AND ($4 <> 't' OR complaint_overdue(c.state, c.due,
                                                         (now() AT TIME ZONE r.timezone)::date))
                      AND ($6 = '' OR c.opened_at < nullif($6, '')::timestamptz)
                    ORDER BY c.opened_at DESC, c.id DESC
                    LIMIT $5::int) x),
    'causes', (SELECT json_agg(json_build_object('code', code, 'label', label)
                               ORDER BY position)
               FROM complaint_causes),
    'response_days', complaint_response_days())::text

-- name: complaint_get
-- $1 complaint: one the caller may see, or no row.
SELECT {{complaint_json}}::text FROM {{complaint_from}} WHERE c.id = $1::uuid

-- name: complaint_open
-- $1 source, $2 cause, $3 text, $4 visit, $5 appointment, $6 provider, $7 worker (each ''
-- for none), $8 person's name, $9 phone, $10 who opened it: the outcome, id, due day.
SELECT outcome, id, due
FROM complaint_open($1, $2, $3, nullif($4, '')::uuid, nullif($5, '')::uuid,
                    nullif($6, '')::uuid, nullif($7, '')::uuid, $8, $9, $10)

-- name: complaint_move
-- $1 complaint, $2 state to, $3 answer, $4 cause or '', $5 actor: the outcome and the state
-- it was in.
SELECT complaint_move($1::uuid, $2, $3, $4, $5),
       coalesce((SELECT state FROM complaints WHERE id = $1::uuid), '')

-- name: complaint_cause_known
-- $1 a cause's code: one row when it is one.
SELECT 1 FROM complaint_causes WHERE code = $1

-- name: complaint_alerts
-- The trend alerts as of now for the providers the caller may see, with names.
SELECT coalesce(json_agg(json_build_object(
    'kind', a.kind,
    'provider', json_build_object('id', p.id, 'name', p.name),
    'worker', CASE WHEN a.worker_id IS NULL THEN NULL
                   ELSE json_build_object('id', w.id, 'name', w.full_name) END,
    'complaints', a.complaints, 'visits', a.visits,
    'per_100_visits', round(a.per_100::numeric, 2),
    'region_per_100_visits', round(a.region_per_100::numeric, 2))
    ORDER BY a.kind DESC, a.complaints DESC, p.name, w.full_name), '[]')::text
FROM complaint_trend_alerts(now()) a
JOIN providers p ON p.id = a.provider_id
LEFT JOIN workers w ON w.id = a.worker_id

-- name: complaint_home_visit
-- $1 application number, $2 hex SHA-256 of its code, $3 the visit's local day or '': the
-- visit the citizen complains about, or NULL.
SELECT complaint_home_visit($1, $2, nullif($3, '')::date)

-- name: appointment_by_secret
-- $1 appointment, $2 its secret: the appointment's id when the secret is its own.
SELECT a.id FROM appointments a
WHERE a.id = $1::uuid AND a.secret_hash = sha256(convert_to($2, 'UTF8'))

-- name: provider_comparison
-- $1 region or '' (the first by name), $2 month 'YYYY-MM' or '' (the last full local
-- month), $3 punctuality in minutes: the region's providers compared (sql/0027's
-- provider_comparison), the regions to choose from; no row for an unknown region.
WITH region AS (
    SELECT r.id, r.name, r.timezone FROM regions r
    WHERE ($1 = '' OR r.id = nullif($1, '')::uuid)
    ORDER BY r.name, r.id LIMIT 1
), period AS MATERIALIZED (
    -- materialised: the month's bounds reach provider_comparison's scans as values, which
    -- row-level security lets into the index conditions; the default month's expression
    -- (now(), to_char: not leakproof) was kept above the policy's filter and the month's
    -- range became a filter over every visit of each provider (10.8 s as carefact_app at a
    -- million visits, 0.25 s materialised)
    SELECT region.*, m AS month,
           (m::timestamp AT TIME ZONE region.timezone) AS from_at,
           ((m + interval '1 month')::timestamp AT TIME ZONE region.timezone) AS to_at
    FROM region,
         LATERAL (SELECT coalesce(nullif($2, '') || '-01',
                                  to_char(date_trunc('month', now() AT TIME ZONE region.timezone)
                                          - interval '1 month', 'YYYY-MM-DD'))::date AS m) mm
)
SELECT json_build_object(
    'region', json_build_object('id', pe.id, 'name', pe.name),
    'regions', (SELECT json_agg(json_build_object('id', r.id, 'name', r.name)
                                ORDER BY r.name, r.id) FROM regions r),
    'month', to_char(pe.month, 'YYYY-MM'), 'from', pe.from_at, 'to', pe.to_at,
    'punctual_minutes', $3::int,
    'providers', (SELECT coalesce(json_agg(json_build_object(
        'id', c.provider_id, 'name', c.provider_name, 'ended', c.ended,
        'confirmed', c.confirmed,
        'confirmed_share', round(c.confirmed::numeric / nullif(c.ended, 0), 4),
        'rated', c.rated, 'satisfied', c.satisfied,
        'satisfied_share', round(c.satisfied::numeric / nullif(c.rated, 0), 4),
        'satisfied_lower', round(c.satisfied_lower::numeric, 4),
        'planned', c.planned, 'punctual', c.punctual,
        'punctual_share', round(c.punctual::numeric / nullif(c.planned, 0), 4))
        ORDER BY c.provider_name, c.provider_id), '[]')
        FROM provider_comparison(pe.id, pe.from_at, pe.to_at, $3::int) c))::text
FROM period pe

-- name: complaint_code_set
-- $1 complaint, $2 its new code (10 digits): the complaint's number, or no row when the
-- caller may not see it. The code is kept as its SHA-256 only (sql/0033).
UPDATE complaints SET code_hash = sha256(convert_to($2, 'UTF8')), updated_at = now()
WHERE id = $1::uuid
RETURNING number

-- name: complaint_public_status
-- $1 number (canonical, "Ж-000042"), $2 code: what the citizen may read, or no row.
SELECT s::text FROM complaint_public_status($1, sha256(convert_to($2, 'UTF8'))) s
WHERE s IS NOT NULL
