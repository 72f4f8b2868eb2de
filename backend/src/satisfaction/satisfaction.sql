-- The satisfaction module's queries (satisfaction.c). The rules — the instruments'
-- check, the Wilson interval, the status, the sample, the groups — are functions of
-- sql/0026_satisfaction.sql. Embedded at build time (tools/sql_embed.c).

-- name: survey_form
-- $1 instrument: its newest version in force today with its questions, or no row.
SELECT json_build_object(
    'instrument', i.id, 'name', i.name, 'version', v.version,
    'questions', (SELECT json_agg(json_build_object('code', q.code, 'kind', q.kind,
                                                    'text', q.text, 'required', q.required)
                                  ORDER BY q.position)
                  FROM survey_questions q
                  WHERE q.instrument_id = v.instrument_id AND q.version = v.version))::text
FROM survey_instruments i
JOIN LATERAL (SELECT * FROM survey_instrument_versions x
              WHERE x.instrument_id = i.id AND x.valid_from <= current_date
              ORDER BY x.version DESC LIMIT 1) v ON true
WHERE i.id = $1

-- name: survey_appointment_by_secret
-- $1 appointment, $2 its secret: a row when the secret is the appointment's own.
SELECT a.id FROM appointments a
WHERE a.id = $1::uuid AND a.secret_hash = sha256(convert_to($2, 'UTF8'))

-- name: survey_record
-- $1 instrument, $2 version, $3 channel, $4 purpose, $5 visit or '', $6 appointment
-- or '', $7 answers, $8 actor: the outcome, the new response's id, the field at fault.
SELECT outcome, response_id, field
FROM survey_record($1, $2::integer, $3, $4, nullif($5, '')::uuid, nullif($6, '')::uuid,
                   $7::jsonb, $8)

-- fragment: figure_json
-- One group g with its Wilson bounds w as JSON.
json_build_object(
    'provider_id', g.provider_id, 'office_id', g.office_id,
    'name', coalesce(p.name, o.name),
    'service', nullif(g.service, ''), 'channel', g.channel,
    'answers', g.answers, 'satisfied', g.satisfied,
    'share', CASE WHEN g.answers > 0 THEN round((g.satisfied::numeric / g.answers), 4) END,
    'lower', round(w.lower_bound::numeric, 4), 'upper', round(w.upper_bound::numeric, 4),
    'status', satisfaction_status_of(w.lower_bound, w.upper_bound),
    'recommend_answers', g.recommend_answers,
    'recommend_share', CASE WHEN g.recommend_answers > 0
                            THEN round(g.recommend_yes::numeric / g.recommend_answers, 4) END,
    'ended', g.ended,
    'coverage', CASE WHEN g.ended > 0 THEN round(g.answers::numeric / g.ended, 4) END,
    'coverage_low', CASE WHEN g.ended > 0
                         THEN g.answers::double precision / g.ended < satisfaction_coverage_min() END,
    'low', g.low, 'low_followed', g.low_followed,
    'low_followed_share', CASE WHEN g.low > 0 THEN round(g.low_followed::numeric / g.low, 4) END)

-- name: satisfaction_figures
-- $1 the month's first day, $2 a provider or '' (every one the caller sees), $3 a
-- channel or '': the groups, each provider's totals per channel, the courtesy bias.
WITH g AS MATERIALIZED (
    SELECT * FROM satisfaction_groups($1::date, nullif($2, '')::uuid) g
    WHERE $3 = '' OR g.channel = $3),
bias AS (
    SELECT g.provider_id, g.answers AS in_answers, g.satisfied AS in_satisfied,
           f.answers AS follow_answers, f.satisfied AS follow_satisfied
    FROM g CROSS JOIN LATERAL satisfaction_followup($1::date, g.provider_id) f
    WHERE g.service IS NULL AND g.channel = 'home_visit' AND g.provider_id IS NOT NULL)
SELECT json_build_object(
    'month', to_char($1::date, 'YYYY-MM'), 'target', satisfaction_target(),
    'coverage_min', satisfaction_coverage_min(),
    'groups', coalesce((
        SELECT json_agg({{figure_json}} ORDER BY coalesce(p.name, o.name), g.service, g.channel)
        FROM g CROSS JOIN LATERAL (SELECT wilson_bound(g.satisfied, g.answers, -1) AS lower_bound,
                                          wilson_bound(g.satisfied, g.answers, 1) AS upper_bound) w
        LEFT JOIN providers p ON p.id = g.provider_id LEFT JOIN offices o ON o.id = g.office_id
        WHERE g.service IS NOT NULL), '[]'),
    'totals', coalesce((
        SELECT json_agg({{figure_json}} ORDER BY coalesce(p.name, o.name), g.channel)
        FROM g CROSS JOIN LATERAL (SELECT wilson_bound(g.satisfied, g.answers, -1) AS lower_bound,
                                          wilson_bound(g.satisfied, g.answers, 1) AS upper_bound) w
        LEFT JOIN providers p ON p.id = g.provider_id LEFT JOIN offices o ON o.id = g.office_id
        WHERE g.service IS NULL), '[]'),
    'bias', coalesce((
        SELECT json_agg(json_build_object(
            'provider_id', b.provider_id, 'name', p.name,
            'in_visit_answers', b.in_answers,
            'in_visit_share', CASE WHEN b.in_answers > 0
                                   THEN round(b.in_satisfied::numeric / b.in_answers, 4) END,
            'followup_answers', b.follow_answers,
            'followup_share', CASE WHEN b.follow_answers > 0
                                   THEN round(b.follow_satisfied::numeric / b.follow_answers, 4) END,
            'flagged', satisfaction_bias(b.in_satisfied, b.in_answers, b.follow_satisfied,
                                         b.follow_answers)) ORDER BY p.name)
        FROM bias b JOIN providers p ON p.id = b.provider_id), '[]'))::text

-- name: satisfaction_followups
-- $1 the month's first day, $2 a provider or '': the follow-up sample of each
-- provider's month (the department calls them), answered or not.
SELECT json_build_object(
    'month', to_char($1::date, 'YYYY-MM'),
    'items', coalesce(json_agg(json_build_object(
        'visit_id', v.id, 'provider_id', p.id, 'provider_name', p.name,
        'recipient_id', v.recipient_id, 'recipient_name', r.full_name,
        'address', r.address, 'started_at', v.started_at, 'service_codes', v.service_codes,
        'answered', EXISTS (SELECT 1 FROM survey_responses f
                            WHERE f.visit_id = v.id AND f.purpose = 'sample'))
        ORDER BY p.name, s.rank), '[]'))::text
FROM providers p
CROSS JOIN LATERAL satisfaction_sample(p.id, $1::date) s
JOIN visits v ON v.id = s.visit_id
LEFT JOIN recipients r ON r.id = v.recipient_id
WHERE $2 = '' OR p.id = nullif($2, '')::uuid
