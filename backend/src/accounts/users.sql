-- The accounts module's CLI queries (users.c): `carefactd user add|disable` and the
-- demo accounts, each change with its audit_log row. Embedded at build time
-- (tools/sql_embed.c): "-- name: X" is sql_X in C.

-- name: user_add
-- $1 login, $2 role, $3 provider or '', $4 worker or '', $5 password hash, $6 actor,
-- $7 office or '' (application staff).
WITH u AS (INSERT INTO users (login, role, provider_id, worker_id, password_hash, office_id)
           VALUES ($1, $2, nullif($3, '')::uuid, nullif($4, '')::uuid, $5, nullif($7, '')::uuid)
           RETURNING id)
INSERT INTO audit_log (actor, action, subject, details)
SELECT $6, 'user.add', 'user:' || $1,
       json_build_object('role', $2, 'provider_id', nullif($3, ''), 'office_id', nullif($7, ''),
                         'user_id', u.id)
FROM u

-- name: user_disable
-- $1 login, $2 actor: the account disabled, its sessions closed.
WITH u AS (UPDATE users SET disabled_at = now() WHERE login = $1 RETURNING id),
s AS (DELETE FROM sessions WHERE user_id IN (SELECT id FROM u))
INSERT INTO audit_log (actor, action, subject)
SELECT $2, 'user.disable', 'user:' || $1 FROM u RETURNING id

-- name: demo_account
-- $1 login, $2 role, $3 the demo provider's seed or '', $4 password hash, $5 the demo
-- office's seed or '' (application staff).
INSERT INTO users (login, role, provider_id, password_hash, office_id)
VALUES ($1, $2, CASE WHEN $3 = '' THEN NULL ELSE md5($3)::uuid END, $4,
        CASE WHEN $5 = '' THEN NULL ELSE md5($5)::uuid END)
ON CONFLICT (login) DO UPDATE SET password_hash = EXCLUDED.password_hash, disabled_at = NULL
