-- The session lookup of every people's route (session_auth.c). Embedded at build time
-- (tools/sql_embed.c): "-- name: X" is sql_X in C.

-- name: session_load
-- $1 hex SHA-256 of the cookie's token: the signed-in user, while the session lasts
-- and the account is not disabled.
SELECT u.id, u.login, u.role, u.provider_id, u.worker_id, s.csrf, u.office_id, o.region_id
FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN offices o ON o.id = u.office_id
WHERE s.token_hash = decode($1, 'hex') AND s.expires_at > now() AND u.disabled_at IS NULL
