-- The applications' funnel (funnel.c). The rule is application_funnel in
-- sql/0025_application_funnel.sql; this shapes its rows as the route's JSON.

-- name: funnel
-- $1 the month's first day, $2 an office or '': the funnel per office (by name) and all
-- of them together, as JSON; the applications counted are the caller's (the settings
-- carefact.office and carefact.region, by application_visible's rule).
WITH f AS (SELECT * FROM application_funnel($1::date, nullif($2, '')::uuid))
SELECT json_build_object(
    'month', to_char($1::date, 'YYYY-MM'),
    'offices', (SELECT coalesce(json_agg(json_build_object(
                    'office', json_build_object('id', o.id, 'kind', o.kind, 'name', o.name),
                    {{funnel_row}}) ORDER BY o.name, o.id), '[]')
                FROM f JOIN offices o ON o.id = f.office_id),
    'total', (SELECT json_build_object({{funnel_row}}) FROM f WHERE f.office_id IS NULL))::text

-- fragment: funnel_row
-- One row f of application_funnel as the members of a JSON object.
'submitted', f.submitted, 'verified', f.verified, 'approved', f.approved,
'first_visit', f.visited, 'returned', f.returned, 'returns', f.returns,
'refused', f.refused, 'withdrawn', f.withdrawn,
'days_to_first_visit', json_build_object('count', f.visited,
                                         'median', round(f.days_median::numeric, 1),
                                         'p90', round(f.days_p90::numeric, 1))
