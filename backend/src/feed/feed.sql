-- The change feed's query (feed.c). Embedded at build time (tools/sql_embed.c).

-- name: changes_page
-- $1 the last position the consumer holds, $2 how many: the next changes in the feed's
-- order (row-level security keeps a manager to their provider's). A row numbered by
-- changes_seal (sql/0016) is visible only with every lower position committed before it,
-- so nothing read here can be overtaken by a lower position committing later.
SELECT position, kind, subject_id, op, provider_id, region_id,
       to_char(changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), data
FROM changes WHERE position > $1::bigint ORDER BY position LIMIT $2::int
