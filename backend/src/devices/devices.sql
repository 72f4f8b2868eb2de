-- The devices module's queries (devices.c): one-time enrolment codes and enrolment.
-- Embedded at build time (tools/sql_embed.c): "-- name: X" is sql_X in C.

-- name: code_issue
-- $1 hex SHA-256 of the code, $2 worker (active), $3 minutes it lasts.
INSERT INTO enrollment_codes (code_hash, worker_id, expires_at)
SELECT decode($1, 'hex'), id, now() + make_interval(mins => $3::int)
FROM workers WHERE id = $2::uuid AND active

-- name: code_claim
-- $1 hex SHA-256 of the code: its worker, provider, region's token key, whether it
-- was used or has expired (or its worker was deactivated); locked until the enrolment
-- commits.
SELECT c.worker_id, w.provider_id, encode(r.token_key, 'hex'), c.used_at IS NOT NULL,
       c.expires_at < now() OR NOT w.active
FROM enrollment_codes c JOIN workers w ON w.id = c.worker_id
JOIN providers p ON p.id = w.provider_id JOIN regions r ON r.id = p.region_id
WHERE c.code_hash = decode($1, 'hex') FOR UPDATE OF c

-- name: device_insert
-- $1 device, $2 worker, $3 hex public key, $4 hex SHA-256 of the code (now used).
WITH d AS (INSERT INTO devices (id, worker_id, public_key)
           VALUES ($1::uuid, $2::uuid, decode($3, 'hex')) RETURNING id)
UPDATE enrollment_codes SET used_at = now(), device_id = (SELECT id FROM d)
WHERE code_hash = decode($4, 'hex')

-- name: device_list
-- $1 provider or '' (every one): the terminals with their worker, status and last sync
-- (the later of the last upload and the last reference download), as one JSON array.
SELECT coalesce(json_agg(json_build_object(
           'id', d.id, 'worker_id', d.worker_id, 'worker_name', w.full_name,
           'worker_active', w.active, 'provider_id', w.provider_id, 'status', d.status,
           'enrolled_at', to_char(d.enrolled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           'revoked_at', to_char(d.revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           'last_upload_at', to_char(d.last_upload_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           'last_reference_at', to_char(d.last_reference_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           'last_sync_at', to_char(greatest(d.last_upload_at, d.last_reference_at)
                                   AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
         ORDER BY w.full_name, d.enrolled_at), '[]')
FROM devices d JOIN workers w ON w.id = d.worker_id
WHERE $1 = '' OR w.provider_id = nullif($1, '')::uuid

-- name: device_find
-- $1 device (read under '*'): its provider and status, locked until the revocation commits.
SELECT w.provider_id, d.status FROM devices d JOIN workers w ON w.id = d.worker_id
WHERE d.id = $1::uuid FOR UPDATE OF d

-- name: device_revoke
-- $1 device: revoked now (it is refused from its next request on).
UPDATE devices SET status = 'revoked', revoked_at = now() WHERE id = $1::uuid AND status = 'active'

-- name: worker_find
-- $1 worker (read under '*'): its provider and whether it is active, locked.
SELECT provider_id, active FROM workers WHERE id = $1::uuid FOR UPDATE

-- name: worker_deactivate
-- $1 worker: no longer active; the trigger worker_deactivated (sql/0012) revokes its
-- terminals and voids its unused codes. Answers how many terminals were active.
WITH n AS (SELECT count(*) AS devices FROM devices WHERE worker_id = $1::uuid AND status = 'active')
UPDATE workers SET active = false WHERE id = $1::uuid AND active RETURNING (SELECT devices FROM n)
