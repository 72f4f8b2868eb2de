-- The exchange's queries (exchange.c). The rules — what an export takes, when an answer
-- is taken, who sees an export — are in sql/0023_application_exchange.sql. Embedded at
-- build time (tools/sql_embed.c).

-- name: export
-- $1 region, $2 limit, $3 actor, $4 role, $5 office or '': the outcome ('exported',
-- 'region', 'nothing'), the export ('' when none) and how many it took.
SELECT r.outcome, coalesce(r.export_id::text, ''), coalesce(r.taken, 0)
FROM application_export($1::uuid, $2::int, $3, $4, nullif($5, '')::uuid) r

-- name: export_document
-- $1 export: its document — what the central system needs of each application: the
-- applicant, the request and the decision (with the programme's term and provider when
-- approved) — or no row (no such export the caller may see).
SELECT json_build_object('id', e.id, 'region_id', e.region_id, 'created_at', e.created_at,
    'created_by', e.created_by, 'application_count', e.application_count,
    'applications', (SELECT coalesce(json_agg(json_build_object(
            'id', a.id, 'number', a.number, 'decision', a.state, 'decided_at', a.decided_at,
            'reason', CASE WHEN a.state = 'refused' THEN a.reason ELSE '' END,
            'office', json_build_object('id', o.id, 'name', o.name), 'channel', a.channel,
            'category', a.category, 'purpose', a.purpose, 'details', a.details,
            'submitted_at', a.submitted_at, 'consent_at', a.consent_at,
            'applicant', json_build_object('name', a.applicant_name,
                'birth_date', a.applicant_birth, 'phone', a.applicant_phone,
                'address', a.applicant_address),
            'representative', CASE WHEN a.representative_name <> '' THEN json_build_object(
                'name', a.representative_name, 'relation', a.representative_relation) END,
            'programme', (SELECT json_build_object('id', p.id, 'provider_id', p.provider_id,
                              'certificate_id', p.certificate_id, 'valid_from', p.valid_from,
                              'valid_to', p.valid_to)
                          FROM programmes p WHERE p.application_id = a.id),
            'exchange', application_exchange_json(a.export_id, a.exported_at, a.answer_outcome,
                a.answer_reference, a.answer_note, a.answer_via, a.answered_at))
            ORDER BY a.decided_at, a.id), '[]')
        FROM applications a JOIN offices o ON o.id = a.office_id
        WHERE a.export_id = e.id))::text
FROM application_exports e WHERE e.id = $1::uuid

-- name: export_list
-- The caller's exports, newest first (at most 100), each with how many were answered:
-- {"items": [...]}.
SELECT json_build_object('items', coalesce(json_agg(json_build_object('id', e.id, 'region_id', e.region_id,
           'created_at', e.created_at, 'created_by', e.created_by,
           'application_count', e.application_count,
           'answered_count', (SELECT count(*) FROM applications a
                              WHERE a.export_id = e.id AND a.answered_at IS NOT NULL))
           ORDER BY e.created_at DESC, e.id DESC), '[]'))::text
FROM (SELECT * FROM application_exports ORDER BY created_at DESC, id DESC LIMIT 100) e

-- name: answer
-- $1 application, $2 outcome, $3 reference, $4 note, $5 actor, $6 role, $7 office or '':
-- application_answer's outcome.
SELECT application_answer($1::uuid, $2, $3, $4, 'api', $5, $6, nullif($7, '')::uuid)

-- name: answer_view
-- $1 application: its number, state and exchange, or no row.
SELECT json_build_object('id', a.id, 'number', a.number, 'state', a.state,
    'exchange', application_exchange_json(a.export_id, a.exported_at, a.answer_outcome,
        a.answer_reference, a.answer_note, a.answer_via, a.answered_at))::text
FROM applications a WHERE a.id = $1::uuid
