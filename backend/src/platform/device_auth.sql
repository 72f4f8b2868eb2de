-- Device authentication's query (device_auth.c). Embedded at build time
-- (tools/sql_embed.c).

-- name: device_lookup
-- $1 device: its enrolled key (hex), status ('revoked' too when its worker is no longer
-- active: sql/0012), provider and worker.
SELECT encode(d.public_key, 'hex'), CASE WHEN w.active THEN d.status ELSE 'revoked' END,
       w.provider_id, d.worker_id
FROM devices d JOIN workers w ON w.id = d.worker_id
WHERE d.id = $1::uuid
