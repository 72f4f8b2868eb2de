-- The webhooks module's queries (webhooks.c). Embedded at build time (tools/sql_embed.c).

-- name: subscription_list
-- Every subscription (the caller's scope is '*': only admin and authority reach here),
-- without its secret, with what waits and the last delivery, as one JSON array.
SELECT coalesce(json_agg(json_build_object(
           'id', s.id, 'region_id', s.region_id, 'url', s.url, 'events', s.events,
           'enabled', s.enabled, 'consecutive_failures', s.consecutive_failures,
           'disabled_at', to_char(s.disabled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           'created_by', s.created_by,
           'created_at', to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           'pending', (SELECT count(*) FROM webhook_deliveries d
                       WHERE d.subscription_id = s.id AND d.status = 'pending'),
           'last_delivered_at', (SELECT to_char(max(d.delivered_at) AT TIME ZONE 'UTC',
                                                'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                                 FROM webhook_deliveries d WHERE d.subscription_id = s.id))
         ORDER BY s.created_at, s.id), '[]')
FROM webhook_subscriptions s

-- name: region_exists
-- $1 region
SELECT 1 FROM regions WHERE id = $1::uuid

-- name: subscription_insert
-- $1 region, $2 url, $3 events (a text[] literal), $4 secret, $5 who
INSERT INTO webhook_subscriptions (region_id, url, events, secret, created_by)
VALUES ($1::uuid, $2, $3::text[], $4, $5)
RETURNING id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')

-- name: subscription_enable
-- $1 subscription: enabled again, its failures forgotten; answers whether it was disabled
-- (no row: no such subscription).
UPDATE webhook_subscriptions s SET enabled = true, consecutive_failures = 0, retry_at = NULL,
    disabled_at = NULL
FROM (SELECT id, enabled FROM webhook_subscriptions WHERE id = $1::uuid FOR UPDATE) old
WHERE s.id = old.id
RETURNING NOT old.enabled

-- name: delivery_log
-- $1 subscription, $2 how many: its deliveries, newest change first, each with its
-- attempts; NULL when there is no such subscription.
SELECT CASE WHEN EXISTS (SELECT 1 FROM webhook_subscriptions WHERE id = $1::uuid) THEN
  coalesce((SELECT json_agg(x ORDER BY x.position DESC) FROM (
    SELECT d.id, c.position::text AS position, c.kind, c.subject_id, d.status, d.attempts,
           to_char(c.changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS changed_at,
           to_char(d.next_attempt_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
               AS next_attempt_at,
           to_char(d.delivered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS delivered_at,
           d.last_status, d.last_error,
           (SELECT coalesce(json_agg(json_build_object(
                       'at', to_char(a.attempted_at AT TIME ZONE 'UTC',
                                     'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                       'http_status', a.http_status, 'error', a.error,
                       'duration_ms', a.duration_ms) ORDER BY a.id), '[]')
            FROM webhook_attempts a WHERE a.delivery_id = d.id) AS attempt_log
    FROM webhook_deliveries d JOIN changes c ON c.id = d.change_id
    WHERE d.subscription_id = $1::uuid
    ORDER BY d.change_id DESC LIMIT $2::int) x), '[]')
END
