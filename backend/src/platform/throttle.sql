-- The citizen's routes' throttle (throttle.c). Embedded at build time (tools/sql_embed.c).

-- name: public_attempt
-- $1 the kind of request, $2 the client's address, $3 requests before the lock, $4
-- seconds after which the count is forgotten, $5 the longest lock: the seconds to wait,
-- or 0 (sql/0020: the login throttle's mechanism).
SELECT public_attempt($1, $2, $3::int, $4::int, $5::int)
