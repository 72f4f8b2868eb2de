-- The applications module's queries (applications.c). The rules — legal transitions,
-- deadlines, who sees what — are in sql/0019_applications.sql. Embedded at build time
-- (tools/sql_embed.c): a query is "-- name: X" and is sql_X in C, a fragment is taken in
-- with {{X}}.

-- fragment: application_json
-- One application a (with its office o) as a JSON object; t is the region's date today.
json_build_object(
    'id', a.id, 'number', a.number, 'state', a.state,
    'office', json_build_object('id', o.id, 'kind', o.kind, 'name', o.name),
    'channel', a.channel,
    'applicant_name', a.applicant_name, 'applicant_birth_date', a.applicant_birth,
    'applicant_phone', a.applicant_phone, 'applicant_address', a.applicant_address,
    'representative_name', a.representative_name,
    'representative_relation', a.representative_relation,
    'category', a.category, 'purpose', a.purpose, 'details', a.details,
    'complete', a.complete, 'consent_at', a.consent_at,
    'submitted_at', a.submitted_at, 'decision_due', a.decision_due,
    'decided_at', a.decided_at, 'programme_due', a.programme_due,
    'overdue', application_overdue(a.state, a.decision_due, region_today(a.region_id)),
    'reason', a.reason, 'returns', a.returns,
    'created_by', a.created_by, 'created_at', a.created_at, 'updated_at', a.updated_at,
    'recipient_id', a.recipient_id, 'certificate_id', a.certificate_id,
    'terminal', CASE WHEN a.receipt IS NOT NULL THEN json_build_object(
                    'receipt', a.receipt, 'device_id', a.filing_device, 'seq', a.filing_seq,
                    'trip_id', a.trip_id, 'consent_version', a.consent_version,
                    'settlement', a.settlement) END,
    'exchange', application_exchange_json(a.export_id, a.exported_at, a.answer_outcome,
        a.answer_reference, a.answer_note, a.answer_via, a.answered_at),
    'programme', (SELECT json_build_object(
                      'id', p.id, 'provider_id', p.provider_id, 'valid_from', p.valid_from,
                      'valid_to', p.valid_to, 'accepted_at', p.accepted_at,
                      'accepted_by', p.accepted_by,
                      'renewal_due', programme_renewal_due(p.valid_to, region_today(a.region_id)))
                  FROM programmes p WHERE p.application_id = a.id))

-- name: office_list
-- Every office, for the public form's choice and the staff's filters.
SELECT coalesce(json_agg(json_build_object('id', o.id, 'kind', o.kind, 'name', o.name,
                                           'address', o.address)
                         ORDER BY o.kind = 'back_office', o.name, o.id), '[]')::text
FROM offices o

-- name: application_insert
-- $1 office, $2 channel, $3 name, $4 birth date, $5 phone, $6 address,
-- $7 representative, $8 relation, $9 category, $10 purpose, $11 details, $12 complete,
-- $13 hex SHA-256 of the secret code, $14 who files it (a login or 'applicant'),
-- $15 their role (unused here: see application_journal_first). A draft in the office's
-- region, numbered. No row when the office is unknown (or, under row-level security, not
-- the caller's).
WITH o AS (SELECT id, region_id FROM offices WHERE id = $1::uuid),
a AS (
    INSERT INTO applications (number, region_id, office_id, channel, applicant_name,
                              applicant_birth, applicant_phone, applicant_address,
                              representative_name, representative_relation, category,
                              purpose, details, complete, consent_at, code_hash, created_by)
    SELECT to_char(now(), 'YYYY') || '-' || lpad(nextval('application_number_seq')::text, 6, '0'),
           o.region_id, o.id, $2, $3, $4::date, $5, $6, $7, $8, $9, $10, $11, $12::boolean,
           now(), decode($13, 'hex'), $14
    FROM o
    RETURNING id, number, office_id)
SELECT a.id, a.number, $15 FROM a

-- name: application_journal_first
-- $1 application, $2 who filed it, $3 their role: the journal's first row. (A statement
-- of its own: in the insert's statement the application is not yet visible to the
-- journal's row-level security.)
INSERT INTO application_journal (application_id, from_state, to_state, actor, actor_role,
                                 office_id)
SELECT a.id, NULL, 'draft', $2, $3, a.office_id FROM applications a WHERE a.id = $1::uuid

-- name: application_move
-- $1 application, $2 state to, $3 actor, $4 role, $5 office or '', $6 reason: the outcome
-- ('moved', 'not_found', 'illegal', 'role', 'reason') and the state it was in.
SELECT application_move($1::uuid, $2, $3, $4, nullif($5, '')::uuid, $6),
       (SELECT state FROM applications WHERE id = $1::uuid)

-- name: application_approve
-- $1 application, $2 the programme (JSON, checked in shape), $3 actor, $4 role, $5 office
-- or '': application_approve's outcome (application_move's, or 'invalid'), the state it
-- was in, the field refused ('' if none), the programme made ('' if none).
SELECT r.outcome, (SELECT state FROM applications WHERE id = $1::uuid),
       coalesce(r.field, ''), coalesce(r.programme::text, '')
FROM application_approve($1::uuid, $2::jsonb, $3, $4, nullif($5, '')::uuid) r

-- name: application_get
-- $1 application, $2 the caller's role: it, its journal (oldest first) and the
-- transitions from its state that role may make (an admin any), or no row.
SELECT json_build_object('application', {{application_json}},
    'transitions', (SELECT coalesce(json_agg(json_build_object(
                        'to', t.to_state, 'reason_required', t.reason_required)
                        ORDER BY t.to_state), '[]')
                    FROM application_transitions t
                    WHERE t.from_state = a.state AND ($2 = 'admin' OR $2 = ANY (t.roles))),
    'journal', (SELECT coalesce(json_agg(json_build_object(
                    'at', j.at, 'from', j.from_state, 'to', j.to_state, 'actor', j.actor,
                    'role', j.actor_role, 'office_id', j.office_id, 'reason', j.reason)
                    ORDER BY j.id), '[]')
                FROM application_journal j WHERE j.application_id = a.id))::text
FROM applications a JOIN offices o ON o.id = a.office_id
WHERE a.id = $1::uuid

-- name: application_list
-- The journal's search, newest first: $1 state, $2 purpose, $3 complete ('t'/'f'/''),
-- $4 office, $5 overdue ('t' or ''), $6 number's start, $7 cursor's microseconds and
-- $8 its id, $9 limit. Row-level security narrows it to the caller's office or region.
WITH page AS (
    SELECT a.* FROM applications a
    WHERE ($1 = '' OR a.state = $1)
      AND ($2 = '' OR a.purpose = $2)
      AND ($3 = '' OR a.complete = ($3 = 't'))
      AND ($4 = '' OR a.office_id = $4::uuid)
      AND ($5 = '' OR application_overdue(a.state, a.decision_due, region_today(a.region_id)))
      -- the number's start as a byte-wise range: leakproof, so an index serves it under
      -- row-level security (sql/0029), where LIKE cannot
      AND ($6 = '' OR (a.number ~>=~ $6 AND a.number ~<~ ($6 || chr(1114111))))
      AND ($7 = '' OR (a.created_at, a.id) < (timestamptz 'epoch' + $7::bigint * interval '1 microsecond',
                                              $8::text::uuid))
    ORDER BY a.created_at DESC, a.id DESC
    LIMIT $9::int)
SELECT json_build_object(
    'items', coalesce((SELECT json_agg({{application_json}} ORDER BY a.created_at DESC, a.id DESC)
                       FROM page a JOIN offices o ON o.id = a.office_id), '[]'),
    'next_cursor', (SELECT CASE WHEN count(*) = $9::int THEN
                        (SELECT (extract(epoch FROM q.created_at) * 1000000)::bigint || '_' || q.id
                         FROM page q ORDER BY q.created_at ASC, q.id ASC LIMIT 1) END
                    FROM page))::text

-- name: application_status
-- $1 number, or the receipt a terminal printed (sql/0032), $2 hex SHA-256 of the code:
-- what the applicant may see — state, dates, the reason of a return or refusal, the office,
-- the moves of its journal (not its acts' rows) — or no row.
SELECT json_build_object('number', a.number, 'state', a.state,
                         'office', o.name, 'submitted_at', a.submitted_at,
                         'decision_due', a.decision_due, 'decided_at', a.decided_at,
                         'programme_due', a.programme_due,
                         'reason', CASE WHEN a.state IN ('returned', 'refused', 'withdrawn')
                                        THEN a.reason ELSE '' END,
                         'journal', (SELECT coalesce(json_agg(json_build_object(
                                         'at', j.at, 'to', j.to_state) ORDER BY j.id), '[]')
                                     FROM application_journal j
                                     WHERE j.application_id = a.id AND j.act_id IS NULL))::text
FROM applications a JOIN offices o ON o.id = a.office_id
WHERE (a.number = $1 OR a.receipt = $1) AND a.code_hash = decode($2, 'hex')
ORDER BY a.created_at LIMIT 1

-- name: application_acts
-- $1 application: whether the caller sees it, and its acts recorded on terminals (home-survey
-- acts, aids handed over or returned: sql/0032), oldest first.
SELECT EXISTS (SELECT 1 FROM applications WHERE id = $1::uuid),
       json_build_object('items', coalesce(json_agg(json_build_object(
           'id', t.id, 'kind', t.kind, 'at', t.at, 'recorded_at', t.recorded_at,
           'worker_id', t.worker_id, 'device_id', t.device_id, 'seq', t.seq,
           'trip_id', t.trip_id, 'direction', t.direction, 'card_level', t.card_level,
           'body', t.body) ORDER BY t.at, t.seq), '[]'))::text
FROM application_acts t WHERE t.application_id = $1::uuid

-- name: programme_list
-- The programmes the caller may see (a manager: their provider's; row-level security),
-- newest first: $1 accepted ('t', 'f' or ''), $2 limit, $3 one programme's id or ''. Each
-- with the recipient, the certificate (numbered as the application) and its services, the
-- rules and the plans made. (A manager does not see the application itself.)
SELECT coalesce(json_agg(json_build_object(
    'id', p.id, 'application_id', p.application_id,
    'provider', json_build_object('id', pv.id, 'name', pv.name),
    'recipient', json_build_object('id', r.id, 'full_name', r.full_name, 'address', r.address),
    'certificate', json_build_object(
        'id', c.id, 'number', c.number, 'valid_from', c.valid_from, 'valid_to', c.valid_to,
        'services', (SELECT coalesce(json_agg(json_build_object(
                         'code', cs.service_code, 'name', s.name, 'volume', cs.volume,
                         'period', cs.period) ORDER BY cs.service_code), '[]')
                     FROM certificate_services cs JOIN services s ON s.code = cs.service_code
                     WHERE cs.certificate_id = c.id)),
    'rules', (SELECT coalesce(json_agg(json_build_object(
                  'id', pr.id, 'worker', json_build_object('id', w.id, 'full_name', w.full_name),
                  'weekdays', pr.weekdays, 'time', to_char(pr.start_time, 'HH24:MI'),
                  'services', pr.service_codes) ORDER BY pr.start_time, pr.id), '[]')
              FROM plan_rules pr JOIN workers w ON w.id = pr.worker_id
              WHERE pr.programme_id = p.id),
    'plans', (SELECT count(*) FROM visit_plans vp JOIN plan_rules pr ON pr.id = vp.rule_id
              WHERE pr.programme_id = p.id),
    'next_plan_at', (SELECT min(vp.planned_start) FROM visit_plans vp
                     JOIN plan_rules pr ON pr.id = vp.rule_id
                     WHERE pr.programme_id = p.id AND vp.planned_start >= now()),
    'renewal_due', programme_renewal_due(p.valid_to, (now() AT TIME ZONE rg.timezone)::date),
    'accepted_at', p.accepted_at, 'accepted_by', p.accepted_by,
    'created_by', p.created_by, 'created_at', p.created_at)
    ORDER BY p.created_at DESC, p.id DESC), '[]')::text
FROM (SELECT * FROM programmes
      WHERE ($1 = '' OR (accepted_at IS NOT NULL) = ($1 = 't'))
        AND ($3 = '' OR id = $3::uuid)
      ORDER BY created_at DESC, id DESC LIMIT $2::int) p
JOIN providers pv ON pv.id = p.provider_id
JOIN regions rg ON rg.id = pv.region_id
JOIN recipients r ON r.id = p.recipient_id
JOIN certificates c ON c.id = p.certificate_id

-- name: programme_accept
-- $1 programme, $2 the manager's login: accepted now, or no row (not visible, or
-- accepted already: programme_accepted tells which).
UPDATE programmes SET accepted_at = now(), accepted_by = $2
WHERE id = $1::uuid AND accepted_at IS NULL
RETURNING id

-- name: programme_accepted
-- $1 programme: who accepted it and when, or no row when the caller may not see it.
SELECT accepted_by, accepted_at FROM programmes WHERE id = $1::uuid

-- name: plans_generate_all
-- carefactd plan-visits (as the owner): every running programme's plans through the
-- horizon; the number added.
SELECT plans_generate_all()

-- name: programme_choices
-- $1 application (visible to the caller): what its programme may name — the providers of
-- its region with their active workers, and the catalogue. Run under the provider scope
-- '*' set for the transaction (staff see no provider otherwise); no row when the
-- application is not visible.
SELECT json_build_object(
    'providers', (SELECT coalesce(json_agg(json_build_object(
                      'id', pv.id, 'name', pv.name,
                      'workers', (SELECT coalesce(json_agg(json_build_object(
                                      'id', w.id, 'full_name', w.full_name)
                                      ORDER BY w.full_name, w.id), '[]')
                                  FROM workers w WHERE w.provider_id = pv.id AND w.active))
                      ORDER BY pv.name, pv.id), '[]')
                  FROM providers pv WHERE pv.region_id = a.region_id),
    'services', (SELECT coalesce(json_agg(json_build_object(
                     'code', s.code, 'name', s.name, 'norm_minutes', s.norm_minutes)
                     ORDER BY s.code), '[]')
                 FROM services s))::text
FROM applications a WHERE a.id = $1::uuid
