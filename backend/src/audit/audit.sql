-- The audit module's query (audit.c). Embedded at build time (tools/sql_embed.c).

-- name: audit_list
-- $1 limit, $2 before this id or '': newest first.
SELECT json_build_object('items', coalesce(json_agg(json_build_object(
    'id', a.id, 'at', a.at, 'actor', a.actor, 'action', a.action, 'subject', a.subject,
    'reason', a.reason, 'details', a.details) ORDER BY a.id DESC), '[]'))::text
FROM (SELECT * FROM audit_log WHERE ($2 = '' OR id < $2::bigint)
      ORDER BY id DESC LIMIT $1::int) a
