-- The register module's queries (register.c): the list, a register's head and rows,
-- the state changes. The rules themselves are SQL functions in sql/0009_register.sql.
-- Embedded at build time (tools/sql_embed.c): "-- name: X" is sql_X in C, a fragment
-- is taken in with {{X}}.

-- name: register_list
-- $1 month (YYYY-MM-01), $2 provider or '' (row-level security scopes it further).
-- A stored (submitted/approved) register's totals come from its row; a draft's are
-- computed (the one-time filter skips the computation for stored ones).
SELECT json_build_object('items', coalesce(json_agg(h.j ORDER BY h.name, h.id), '[]'))::text
FROM (SELECT p.name, p.id,
             json_build_object('id', to_char($1::date, 'YYYY-MM') || '.' || p.id,
                 'provider_id', p.id, 'provider_name', p.name,
                 'month', to_char($1::date, 'YYYY-MM'),
                 'state', coalesce(r.state, 'draft'),
                 'included_count', coalesce(t.included_count, r.included_count),
                 'excluded_count', coalesce(t.excluded_count, r.excluded_count),
                 'total_kopecks', coalesce(t.total_kopecks, r.total_kopecks),
                 'submitted_at', r.submitted_at, 'submitted_by', r.submitted_by,
                 'approved_at', r.approved_at, 'approved_by', r.approved_by,
                 'returned_at', r.returned_at, 'returned_by', r.returned_by,
                 'returned_reason', r.returned_reason) AS j
      FROM providers p JOIN regions rg ON rg.id = p.region_id
      LEFT JOIN registers r ON r.provider_id = p.id AND r.month = $1::date
      LEFT JOIN LATERAL (SELECT * FROM register_totals(p.id, $1::date)
                         WHERE coalesce(r.state, 'draft') = 'draft') t ON true
      WHERE ($2 = '' OR p.id = $2::uuid)) h

-- name: register_head
-- $1 month, $2 provider: the head, or no row (no such provider for the caller), as
-- the columns of enum head_col. The totals are the stored register's; NULL for a
-- draft, whose totals are its rows'.
SELECT to_char($1::date, 'YYYY-MM') || '.' || p.id, p.id, p.name,
       to_char($1::date, 'YYYY-MM'), coalesce(r.state, 'draft'),
       CASE WHEN r.state <> 'draft' THEN r.included_count END,
       CASE WHEN r.state <> 'draft' THEN r.excluded_count END,
       CASE WHEN r.state <> 'draft' THEN r.total_kopecks END,
       to_json(r.submitted_at) #>> '{}', r.submitted_by, to_json(r.approved_at) #>> '{}',
       r.approved_by, to_json(r.returned_at) #>> '{}', r.returned_by, r.returned_reason
FROM providers p JOIN regions rg ON rg.id = p.region_id
LEFT JOIN registers r ON r.provider_id = p.id AND r.month = $1::date
WHERE p.id = $2::uuid

-- name: register_lines
-- $1 month, $2 provider: the included lines (by visit_at, visit_id, line_no), then the
-- excluded visits (by visit_at, visit_id), as the columns of enum line_col. Stored
-- lines and computed ones are a UNION: a stored register has no computed part (the
-- one-time filter on h.stored) and a draft no stored lines (returning deletes them).
-- Instants come as text (TimeZone UTC, DateStyle ISO) and the local time as one
-- timestamp: cut in C, that costs a third of what to_char and to_json cost per line.
WITH h AS (SELECT rg.timezone, coalesce(r.state, 'draft') <> 'draft' AS stored
           FROM providers p JOIN regions rg ON rg.id = p.region_id
           LEFT JOIN registers r ON r.provider_id = p.id AND r.month = $1::date
           WHERE p.id = $2::uuid),
c AS (SELECT * FROM register_compute($2::uuid, $1::date)
      WHERE NOT coalesce((SELECT stored FROM h), true)),
l AS (SELECT true AS included, l.visit_id, l.line_no, l.visit_at, l.worker_id,
             l.recipient_id, l.service_code, l.service_name, l.quantity, l.tariff_kopecks,
             l.amount_kopecks, l.late, l.original_month, NULL::text AS reason
      FROM register_lines l WHERE l.provider_id = $2::uuid AND l.month = $1::date
      UNION ALL
      SELECT c.reason IS NULL, c.visit_id, c.line_no, c.visit_at, c.worker_id,
             c.recipient_id, c.service_code, c.service_name, c.quantity, c.tariff_kopecks,
             c.quantity::bigint * c.tariff_kopecks, c.late, c.original_month, c.reason
      FROM c
      UNION ALL
      SELECT false, x.visit_id, 1, x.visit_at, x.worker_id, x.recipient_id, NULL, NULL,
             NULL, NULL, NULL, x.late, x.original_month, x.reason
      FROM register_excluded x WHERE x.provider_id = $2::uuid AND x.month = $1::date)
SELECT l.included, l.visit_id, l.visit_at::text, (l.visit_at AT TIME ZONE h.timezone)::text,
       l.worker_id, w.full_name, l.recipient_id, rc.full_name, l.late, l.original_month::text,
       l.service_code, l.service_name, l.quantity, l.tariff_kopecks, l.amount_kopecks, l.reason
FROM l CROSS JOIN h LEFT JOIN workers w ON w.id = l.worker_id
LEFT JOIN recipients rc ON rc.id = l.recipient_id
ORDER BY l.visit_at, l.visit_id, l.line_no

-- name: register_submit
-- $1 provider, $2 month, $3 who: 'ok' or why not (sql/0009_register.sql)
SELECT register_submit($1::uuid, $2::date, $3)

-- name: register_approve
SELECT register_approve($1::uuid, $2::date, $3)

-- name: register_return
-- $4 the reason
SELECT register_return($1::uuid, $2::date, $3, $4)

-- name: register_totals_json
-- $1 provider, $2 month: the stored register's state and totals, for the audit row.
SELECT json_build_object('state', state, 'included_count', included_count,
                         'excluded_count', excluded_count, 'total_kopecks', total_kopecks)::text
FROM registers WHERE provider_id = $1::uuid AND month = $2::date
