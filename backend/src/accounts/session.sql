-- The accounts module's session queries (session.c): log in, count a failure, start a
-- session, log out (the lookup of every request is platform/session_auth.sql). Embedded at build time (tools/sql_embed.c):
-- "-- name: X" is sql_X in C.

-- name: login_user
-- $1 login: the account, its password hash, whether it is disabled, and the seconds
-- it stays locked (0 when not).
SELECT id, login, role, provider_id, worker_id, password_hash, disabled_at IS NOT NULL,
       greatest(0, ceil(extract(epoch FROM coalesce(locked_until, now()) - now())))::int
FROM users WHERE login = $1

-- name: login_failure
-- $1 user, $2 failures before a lock, $3 the longest lock (s): from the $2-th failure
-- on, the login is locked for a doubling time (1 s, 2 s, 4 s ... up to $3).
UPDATE users SET failed_logins = failed_logins + 1,
    locked_until = CASE WHEN failed_logins + 1 >= $2::int
                        THEN now() + least(power(2, least(failed_logins + 1 - $2::int, 20)),
                                           $3::int) * interval '1 second'
                        ELSE locked_until END
WHERE id = $1::uuid

-- name: session_start
-- $1 hex SHA-256 of the token, $2 user, $3 CSRF token, $4 lifetime (s): the session,
-- the failures forgotten; answers its expiry.
WITH s AS (INSERT INTO sessions (token_hash, user_id, csrf, expires_at)
           VALUES (decode($1, 'hex'), $2::uuid, $3, now() + $4::int * interval '1 second')
           RETURNING expires_at),
u AS (UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $2::uuid)
SELECT to_char(expires_at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') FROM s

-- name: session_end
DELETE FROM sessions WHERE token_hash = decode($1, 'hex')
