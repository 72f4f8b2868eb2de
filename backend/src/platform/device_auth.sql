-- Device authentication's query (device_auth.c). Embedded at build time
-- (tools/sql_embed.c).

-- name: device_lookup
-- $1 device: its enrolled key (hex), status, provider and worker.
SELECT encode(d.public_key, 'hex'), d.status, w.provider_id, d.worker_id
FROM devices d JOIN workers w ON w.id = d.worker_id
WHERE d.id = $1::uuid
