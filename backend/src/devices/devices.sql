-- The devices module's queries (devices.c): one-time enrolment codes and enrolment.
-- Embedded at build time (tools/sql_embed.c): "-- name: X" is sql_X in C.

-- name: code_issue
-- $1 hex SHA-256 of the code, $2 worker (active), $3 minutes it lasts.
INSERT INTO enrollment_codes (code_hash, worker_id, expires_at)
SELECT decode($1, 'hex'), id, now() + make_interval(mins => $3::int)
FROM workers WHERE id = $2::uuid AND active

-- name: code_claim
-- $1 hex SHA-256 of the code: its worker, provider, region's token key, whether it
-- was used or has expired; locked until the enrolment commits.
SELECT c.worker_id, w.provider_id, encode(r.token_key, 'hex'), c.used_at IS NOT NULL,
       c.expires_at < now()
FROM enrollment_codes c JOIN workers w ON w.id = c.worker_id
JOIN providers p ON p.id = w.provider_id JOIN regions r ON r.id = p.region_id
WHERE c.code_hash = decode($1, 'hex') FOR UPDATE OF c

-- name: device_insert
-- $1 device, $2 worker, $3 hex public key, $4 hex SHA-256 of the code (now used).
WITH d AS (INSERT INTO devices (id, worker_id, public_key)
           VALUES ($1::uuid, $2::uuid, decode($3, 'hex')) RETURNING id)
UPDATE enrollment_codes SET used_at = now(), device_id = (SELECT id FROM d)
WHERE code_hash = decode($4, 'hex')
