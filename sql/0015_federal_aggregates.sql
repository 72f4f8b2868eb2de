-- The region's side of the federal layer (issue 18): per provider and month, the
-- aggregates a federal reporting database receives from every region by PostgreSQL
-- logical replication (publication `carefact_federal` here, a subscription there:
-- tools/federal, sql/federal/). Counts and sums only: no name, no card token, no id
-- of a recipient or a worker; a provider and a region are organisations.
--
-- Kept current by federal_refresh(), not by the rebuild: ingest is the hot path (its
-- benchmark has a target against raw COPY), and a counter row per provider-month
-- updated by every batch would serialise every concurrent upload of a provider on one
-- row and put a second write in each rebuild. Federal reporting takes minutes of lag;
-- a refresh recomputes whole months from the visits (and the approved registers), so
-- it is idempotent and mends itself, and it writes only the rows whose figures changed,
-- which is all the replication then carries. Run it as the owner every few minutes
-- (`tools/federal refresh`, cron, a systemd timer).

CREATE TABLE federal_provider_months (
    region_id uuid NOT NULL,
    provider_id uuid NOT NULL,
    -- the month, local to the region's time zone, of the visit's sort_at (start, else
    -- end, cancellation or attempt), as the figures and the register count it
    month date NOT NULL CHECK (month = date_trunc('month', month)::date),
    visits integer NOT NULL DEFAULT 0, -- every state
    ended integer NOT NULL DEFAULT 0, -- ended or rated
    confirmed integer NOT NULL DEFAULT 0, -- ended, confirmed by card at start and at end
    cancelled integer NOT NULL DEFAULT 0,
    attempted integer NOT NULL DEFAULT 0,
    -- satisfaction: the ratings distribution (visits rated 1 .. 5)
    rated_1 integer NOT NULL DEFAULT 0,
    rated_2 integer NOT NULL DEFAULT 0,
    rated_3 integer NOT NULL DEFAULT 0,
    rated_4 integer NOT NULL DEFAULT 0,
    rated_5 integer NOT NULL DEFAULT 0,
    -- payments: the provider's approved register of this month (its included visits
    -- and total; late visits of earlier months are paid in it)
    paid_visits integer NOT NULL DEFAULT 0,
    paid_kopecks bigint NOT NULL DEFAULT 0,
    -- the primary key is the replica identity: updates replicate as updates
    PRIMARY KEY (region_id, provider_id, month)
);
ALTER TABLE federal_provider_months ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_provider ON federal_provider_months
    USING (provider_id = ANY ((SELECT visible_providers())::uuid[]));
-- Not carefactd's: nothing is granted to carefact_app. The replication role
-- (carefact_federal, created by tools/federal or the DBA: LOGIN REPLICATION BYPASSRLS)
-- is granted SELECT there, since a role may not exist when this migration runs.

-- Recompute the months touched since p_since: the months of visits written (ingest's
-- rebuild, a correction, the integrity judging all set updated_at) and of registers
-- approved since then, for each provider; write the rows whose figures differ and
-- remove the rows of those months that no longer have any figure. p_since overlaps
-- the previous run on purpose (a transaction still open then sets an updated_at before
-- it): the default looks two days back. '-infinity' recomputes everything. Returns the
-- number of rows written or removed.
CREATE FUNCTION federal_refresh(p_since timestamptz DEFAULT now() - interval '2 days')
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    changed integer;
BEGIN
    -- one refresh at a time: two would compute the same months twice
    PERFORM pg_advisory_xact_lock(hashtext('carefact:federal_refresh'));
    WITH touched AS MATERIALIZED (
        SELECT DISTINCT v.provider_id,
               date_trunc('month', v.sort_at AT TIME ZONE rg.timezone)::date AS month
        FROM visits v
        JOIN providers pr ON pr.id = v.provider_id
        JOIN regions rg ON rg.id = pr.region_id
        WHERE v.updated_at >= p_since
        UNION
        SELECT r.provider_id, r.month FROM registers r
        WHERE r.state = 'approved' AND r.approved_at >= p_since
    ), bounds AS (
        SELECT t.provider_id, t.month, pr.region_id,
               t.month::timestamp AT TIME ZONE rg.timezone AS m_start,
               (t.month + interval '1 month') AT TIME ZONE rg.timezone AS m_end
        FROM touched t
        JOIN providers pr ON pr.id = t.provider_id
        JOIN regions rg ON rg.id = pr.region_id
    ), counted AS (
        SELECT b.region_id, b.provider_id, b.month,
               count(v.id)::integer AS visits,
               count(v.id) FILTER (WHERE v.state IN ('ended', 'rated'))::integer AS ended,
               count(v.id) FILTER (WHERE v.state IN ('ended', 'rated')
                                     AND v.start_confirmed AND v.end_confirmed)::integer
                   AS confirmed,
               count(v.id) FILTER (WHERE v.state = 'cancelled')::integer AS cancelled,
               count(v.id) FILTER (WHERE v.state = 'attempted')::integer AS attempted,
               count(v.id) FILTER (WHERE v.rating = 1)::integer AS rated_1,
               count(v.id) FILTER (WHERE v.rating = 2)::integer AS rated_2,
               count(v.id) FILTER (WHERE v.rating = 3)::integer AS rated_3,
               count(v.id) FILTER (WHERE v.rating = 4)::integer AS rated_4,
               count(v.id) FILTER (WHERE v.rating = 5)::integer AS rated_5
        FROM bounds b
        JOIN visits v ON v.provider_id = b.provider_id
                     AND v.sort_at >= b.m_start AND v.sort_at < b.m_end
        GROUP BY b.region_id, b.provider_id, b.month
    ), paid AS (
        SELECT b.region_id, b.provider_id, b.month, r.included_count AS paid_visits,
               r.total_kopecks AS paid_kopecks
        FROM bounds b
        JOIN registers r ON r.provider_id = b.provider_id AND r.month = b.month
        WHERE r.state = 'approved'
    ), fresh AS MATERIALIZED (
        SELECT coalesce(c.region_id, p.region_id) AS region_id,
               coalesce(c.provider_id, p.provider_id) AS provider_id,
               coalesce(c.month, p.month) AS month,
               coalesce(c.visits, 0) AS visits, coalesce(c.ended, 0) AS ended,
               coalesce(c.confirmed, 0) AS confirmed, coalesce(c.cancelled, 0) AS cancelled,
               coalesce(c.attempted, 0) AS attempted,
               coalesce(c.rated_1, 0) AS rated_1, coalesce(c.rated_2, 0) AS rated_2,
               coalesce(c.rated_3, 0) AS rated_3, coalesce(c.rated_4, 0) AS rated_4,
               coalesce(c.rated_5, 0) AS rated_5,
               coalesce(p.paid_visits, 0) AS paid_visits,
               coalesce(p.paid_kopecks, 0) AS paid_kopecks
        FROM counted c
        FULL JOIN paid p ON p.provider_id = c.provider_id AND p.month = c.month
    ), written AS (
        INSERT INTO federal_provider_months AS f
        SELECT * FROM fresh
        ON CONFLICT (region_id, provider_id, month) DO UPDATE SET
            visits = EXCLUDED.visits, ended = EXCLUDED.ended, confirmed = EXCLUDED.confirmed,
            cancelled = EXCLUDED.cancelled, attempted = EXCLUDED.attempted,
            rated_1 = EXCLUDED.rated_1, rated_2 = EXCLUDED.rated_2, rated_3 = EXCLUDED.rated_3,
            rated_4 = EXCLUDED.rated_4, rated_5 = EXCLUDED.rated_5,
            paid_visits = EXCLUDED.paid_visits, paid_kopecks = EXCLUDED.paid_kopecks
        -- an unchanged row is not written, so nothing is replicated for it
        WHERE (f.visits, f.ended, f.confirmed, f.cancelled, f.attempted, f.rated_1,
               f.rated_2, f.rated_3, f.rated_4, f.rated_5, f.paid_visits, f.paid_kopecks)
              IS DISTINCT FROM
              (EXCLUDED.visits, EXCLUDED.ended, EXCLUDED.confirmed, EXCLUDED.cancelled,
               EXCLUDED.attempted, EXCLUDED.rated_1, EXCLUDED.rated_2, EXCLUDED.rated_3,
               EXCLUDED.rated_4, EXCLUDED.rated_5, EXCLUDED.paid_visits,
               EXCLUDED.paid_kopecks)
        RETURNING 1
    ), removed AS (
        DELETE FROM federal_provider_months f
        USING touched t
        WHERE f.provider_id = t.provider_id AND f.month = t.month
          AND NOT EXISTS (SELECT 1 FROM fresh x
                          WHERE x.provider_id = f.provider_id AND x.month = f.month)
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM written) + (SELECT count(*) FROM removed) INTO changed;
    RETURN changed;
END
$$;

-- What the federal database subscribes to: this table only. A publication may exist
-- before wal_level is `logical` (tools/federal switches it when the region joins), but
-- PostgreSQL warns on every migration of a region that has not joined: quiet here.
SET LOCAL client_min_messages = error;
CREATE PUBLICATION carefact_federal FOR TABLE federal_provider_months;
