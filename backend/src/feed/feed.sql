-- The change feed's query (feed.c). Embedded at build time (tools/sql_embed.c).

-- name: changes_page
-- $1 the last position the consumer holds, $2 how many: the next changes in the feed's
-- order below the low-water mark (changes_page in sql/0016: nothing handed out can be
-- overtaken by a lower position committing later); row-level security keeps a manager to
-- their provider's. Sent outside a transaction (READ COMMITTED), as it must be.
SELECT position, kind, subject_id, op, provider_id, region_id,
       to_char(changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), data
FROM changes_page($1::bigint, $2::int)

-- name: changes_expired_through
-- Every change at or below this position may have been removed (sql/0037): a cursor below
-- it has missed changes. Read after the page, so a removal racing the page is seen.
SELECT through FROM changes_expired
