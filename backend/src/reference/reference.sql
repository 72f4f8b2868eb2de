-- The reference module's queries (reference.c): what a terminal should hold, from
-- reference_items() in sql/0002_reference.sql; a record's version is a hash of its
-- content. Embedded at build time (tools/sql_embed.c): "-- name: X" is sql_X in C.

-- name: reference_list
-- $1 device: every (kind, id, version) it should hold.
SELECT json_build_object('items', coalesce(json_agg(json_build_object(
    'kind', kind, 'id', id, 'version', left(md5(body::text), 16)) ORDER BY kind, id), '[]'))::text
FROM reference_items($1::uuid)

-- name: reference_fetch
-- $1 device, $2 the wanted [{kind, id}]: their bodies.
SELECT json_build_object('items', coalesce(json_agg(json_build_object(
    'kind', r.kind, 'id', r.id, 'version', left(md5(r.body::text), 16), 'body', r.body)
    ORDER BY r.kind, r.id), '[]'))::text
FROM reference_items($1::uuid) r
JOIN jsonb_to_recordset($2::jsonb) w(kind text, id text) ON w.kind = r.kind AND w.id = r.id

-- name: reference_seen
-- $1 device: its last reference download (the dashboard's last sync), now.
UPDATE devices SET last_reference_at = now() WHERE id = $1::uuid
