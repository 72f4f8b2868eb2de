-- The figures module's query (figures.c): GET /api/v1/figures. Embedded at build time
-- (tools/sql_embed.c): "-- name: X" is sql_X in C.

-- name: figures
-- $1 group, $2 from, $3 to, $4 provider or '', $5 worker or ''. from/to: '' (the
-- defaults), a date (local midnight in the region's time zone) or an RFC 3339 time.
-- The time zone is the provider's region's, else the first region's. Answers one row:
-- the JSON text and whether the period is not empty (to after from).
WITH z AS (SELECT coalesce((SELECT rg.timezone FROM providers pr JOIN regions rg
  ON rg.id = pr.region_id WHERE $4 <> '' AND pr.id = $4::uuid),
  (SELECT timezone FROM regions ORDER BY id LIMIT 1), 'UTC') AS tz),
a AS (SELECT tz,
  CASE WHEN $2 = '' THEN date_trunc('month', now() AT TIME ZONE tz) AT TIME ZONE tz
    WHEN length($2) = 10 THEN $2::date::timestamp AT TIME ZONE tz
    ELSE $2::timestamptz END AS f,
  CASE WHEN $3 = '' THEN now()
    WHEN length($3) = 10 THEN $3::date::timestamp AT TIME ZONE tz
    ELSE $3::timestamptz END AS t FROM z),
-- at most 400 days: a longer period is cut (the answer says which one was used)
p AS MATERIALIZED (SELECT tz, f, least(t, f + interval '400 days') AS t, t > f AS ok
  FROM a),
-- The visits of the period as visit_effective has them (sql/0008_corrections.sql), read in
-- two parts (issue 18): visit_effective itself for the few visits with a correction or a
-- must-fix resolution (fx), and visits for the rest, for which visit_effective's
-- effective_* are the visit's own columns and must_fix_open is false by its definition.
-- visit_effective for every visit costs three index probes a visit: 1.0 of the 1.9 s of
-- the authority's month at 1,000,000 visits (86,000 in the month).
fx AS MATERIALIZED (SELECT v.id, v.effective_expected_minutes, v.effective_service_codes,
  v.must_fix_open FROM visit_effective v
  WHERE v.id IN (SELECT c.visit_id FROM visit_corrections c
                 UNION SELECT r.subject_id FROM exception_resolutions r WHERE r.action = 'must_fix')
  AND v.sort_at >= (SELECT f FROM p) AND v.sort_at < (SELECT t FROM p)
  AND ($4 = '' OR v.provider_id = $4::uuid) AND ($5 = '' OR v.worker_id = $5::uuid)),
b AS MATERIALIZED (SELECT v.provider_id, v.worker_id, v.state, v.duration_s, v.rating,
  v.reason, v.flags,
  CASE WHEN fx.id IS NULL THEN v.expected_minutes ELSE fx.effective_expected_minutes END
    AS expected,
  CASE WHEN fx.id IS NULL THEN v.service_codes ELSE fx.effective_service_codes END AS codes,
  v.state IN ('ended', 'rated') AS ended,
  v.start_confirmed AND v.end_confirmed AND NOT coalesce(fx.must_fix_open, false) AS compliant,
  v.start_level, v.end_level, v.start_proof_failure, v.end_proof_failure,
  (v.sort_at AT TIME ZONE (SELECT tz FROM p))::date AS day
  FROM visits v LEFT JOIN fx ON fx.id = v.id
  WHERE v.sort_at >= (SELECT f FROM p) AND v.sort_at < (SELECT t FROM p)
  AND ($4 = '' OR v.provider_id = $4::uuid) AND ($5 = '' OR v.worker_id = $5::uuid)),
-- the group key; a visit counts once for every distinct service it includes
k AS (SELECT CASE $1 WHEN 'worker' THEN b.worker_id::text
  WHEN 'provider' THEN b.provider_id::text ELSE b.day::text END AS key, b.*
  FROM b WHERE $1 <> 'service'
  -- each distinct code once: its first place in the array (a DISTINCT per visit was a
  -- hash aggregate per visit, 0.4 s a month at 1,000,000 visits)
  UNION ALL SELECT s.code, b.* FROM b
  CROSS JOIN LATERAL unnest(b.codes) WITH ORDINALITY s(code, i)
  WHERE $1 = 'service' AND s.code <> ALL (b.codes[1:s.i - 1])),
g AS (SELECT k.key, count(*) AS visits, count(*) FILTER (WHERE ended) AS ended,
  avg(duration_s) FILTER (WHERE ended)::float8 AS mean_duration_s,
  avg(expected) FILTER (WHERE ended)::float8 AS mean_expected_minutes,
  avg(duration_s / (expected * 60.0)) FILTER (WHERE ended AND expected > 0)::float8
    AS mean_duration_ratio,
  -- the verdicts rebuild_visits wrote (sql/0005_visits.sql, visit_flags), on the
  -- services as corrected: what the exception queue reads too
  count(*) FILTER (WHERE ended AND 'early_leave' = ANY (flags))::float8
    / nullif(count(*) FILTER (WHERE ended), 0) AS early_leave_share,
  count(*) FILTER (WHERE ended AND 'overtime' = ANY (flags))::float8
    / nullif(count(*) FILTER (WHERE ended), 0) AS overtime_share,
  avg(rating)::float8 AS mean_rating, count(rating) AS ratings,
  count(*) FILTER (WHERE 'low_rating' = ANY (flags)) AS low_ratings,
  -- the integrity flags (sql/0011_integrity_flags.sql), in the same flags
  count(*) FILTER (WHERE 'overlap' = ANY (flags)) AS overlaps,
  count(*) FILTER (WHERE 'far_from_address' = ANY (flags)) AS far_from_address,
  count(*) FILTER (WHERE 'impossible_travel' = ANY (flags)) AS impossible_travel,
  count(*) FILTER (WHERE state = 'cancelled') AS cancelled,
  coalesce((SELECT json_object_agg(r, n ORDER BY r) FROM (SELECT r, count(*) AS n
    FROM unnest(array_agg(coalesce(reason, 'unspecified'))
    FILTER (WHERE state = 'cancelled')) r GROUP BY r) x), '{}')
    AS cancellations_by_reason,
  count(*) FILTER (WHERE state = 'attempted') AS attempts,
  coalesce((SELECT json_object_agg(r, n ORDER BY r) FROM (SELECT r, count(*) AS n
    FROM unnest(array_agg(coalesce(reason, 'unspecified'))
    FILTER (WHERE state = 'attempted')) r GROUP BY r) x), '{}') AS attempts_by_reason,
  count(*) FILTER (WHERE ended AND compliant)::float8
    / nullif(count(*) FILTER (WHERE ended), 0) AS compliance,
  -- the card proofs (sql/0013): of the confirmations (start and end) of ended visits,
  -- the share the card signed for the event (dynamic); visits with a failed proof
  count(*) FILTER (WHERE ended AND start_level = 'dynamic')
    + count(*) FILTER (WHERE ended AND end_level = 'dynamic') AS dynamic_proofs,
  (count(*) FILTER (WHERE ended AND start_level = 'dynamic')
    + count(*) FILTER (WHERE ended AND end_level = 'dynamic'))::float8
    / nullif(2 * count(*) FILTER (WHERE ended), 0) AS dynamic_share,
  count(*) FILTER (WHERE start_proof_failure IS NOT NULL OR end_proof_failure IS NOT NULL)
    AS proof_failures
  FROM k GROUP BY k.key),
items AS (SELECT CASE $1
  WHEN 'worker' THEN json_build_object('worker_id', g.key, 'worker_name', w.full_name)
  WHEN 'service' THEN json_build_object('service_code', g.key, 'service_name', s.name,
    'norm_minutes', s.norm_minutes)
  WHEN 'provider' THEN json_build_object('provider_id', g.key, 'provider_name', pr.name)
  ELSE json_build_object('day', g.key) END::jsonb || (to_jsonb(g) - 'key') AS j,
  CASE $1 WHEN 'worker' THEN w.full_name WHEN 'provider' THEN pr.name
    ELSE g.key END AS o1, g.key AS o2
  FROM g LEFT JOIN workers w ON $1 = 'worker' AND w.id::text = g.key
  LEFT JOIN services s ON $1 = 'service' AND s.code = g.key
  LEFT JOIN providers pr ON $1 = 'provider' AND pr.id::text = g.key)
SELECT json_build_object('group', $1, 'from', p.f, 'to', p.t, 'thresholds',
  (SELECT json_build_object('early_leave_ratio', t.early_leave_ratio, 'overtime_ratio',
    t.overtime_ratio, 'low_rating_max', t.low_rating_max) FROM visit_thresholds t),
  'items', coalesce((SELECT json_agg(j ORDER BY o1, o2) FROM items), '[]'))::text,
  p.ok FROM p
