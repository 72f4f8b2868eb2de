-- The accounts module's session queries (session.c): log in, count a failure, start a
-- session, log out (the lookup of every request is platform/session_auth.sql). Embedded at build time (tools/sql_embed.c):
-- "-- name: X" is sql_X in C.

-- name: login_attempt
-- $1 login, $2 client address, $3 failures before a (login, address) lock, $4 before an
-- address lock, $5 before an account lock, $6 the longest lock (s): the attempt taken
-- before the password is checked (sql/0012_accounts_devices.sql): the seconds to wait, or
-- 0 to go ahead.
SELECT login_attempt($1, $2, $3::int, $4::int, $5::int, $6::int)

-- name: login_succeeded
-- $1 login, $2 client address, $3 failures before an address lock.
SELECT login_succeeded($1, $2, $3::int)

-- name: login_user
-- $1 login: the account, its password hash and whether it is disabled.
SELECT u.id, u.login, u.role, u.provider_id, u.worker_id, u.password_hash,
       u.disabled_at IS NOT NULL, u.office_id, o.region_id
FROM users u LEFT JOIN offices o ON o.id = u.office_id WHERE u.login = $1

-- name: session_start
-- $1 hex SHA-256 of the token, $2 user, $3 CSRF token, $4 lifetime (s): the session;
-- answers its expiry.
WITH s AS (INSERT INTO sessions (token_hash, user_id, csrf, expires_at)
           VALUES (decode($1, 'hex'), $2::uuid, $3, now() + $4::int * interval '1 second')
           RETURNING expires_at)
SELECT to_char(expires_at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') FROM s

-- name: session_end
DELETE FROM sessions WHERE token_hash = decode($1, 'hex')
