-- Scale (issue 6): what a year of a large region (1,000,000 visits, tools/gen-region)
-- needed for the lists and filters to answer under 100 ms at p95 as carefactd's role
-- (row-level security on). Measured with tools/bench-review; see backend/README.md,
-- "Performance", for which change serves which endpoint.

-- ==== Row-level security the planner can estimate ====
-- 0007's policies call provider_visible(provider_id), an SQL function the planner
-- inlines into "coalesce(current_setting(...), '') = ANY (ARRAY['*', provider_id::text])":
-- an expression over a column it has no statistics for, estimated to keep 0.5 % of the
-- rows. For the authority ('*') it keeps all of them, so every filtered list ("state =
-- cancelled", "flag = low_rating") was planned as "few rows: read them all and sort"
-- instead of "walk visits_sort newest first and stop after 50": 270-380 ms instead of
-- 3-7 ms at a million visits. The policies below compare provider_id with the array of
-- visible providers, computed once per query (an InitPlan: the sub-SELECT has no outer
-- reference) instead of once per row; "= ANY (array)" over a column is estimated from
-- its statistics, is cheap per row, and uuid equality is leakproof, so the planner may
-- use it inside an index scan. Same meaning: '*' every provider, else the one named,
-- unset or '' none. The providers table keeps provider_visible (the function below
-- reads providers, whose own policy must not call it) and users keeps 0007's policy.
CREATE FUNCTION visible_providers() RETURNS uuid[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    setting text := coalesce(current_setting('carefact.provider', true), '');
BEGIN
    IF setting = '*' THEN
        RETURN coalesce((SELECT array_agg(id) FROM providers), '{}');
    END IF;
    RETURN ARRAY(SELECT id FROM providers WHERE id::text = setting);
END
$$;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['workers', 'recipients', 'visit_plans', 'visits',
                             'visit_corrections'] LOOP
        EXECUTE format('ALTER POLICY by_provider ON %I '
                       'USING (provider_id = ANY ((SELECT visible_providers())::uuid[]))', t);
    END LOOP;
END
$$;

-- ==== No JIT for this database ====
-- PostgreSQL compiles a query to machine code with LLVM when its estimated cost passes
-- jit_above_cost (100,000). The review queries (live, exceptions, the lists with their
-- per-row sub-SELECTs) pass it at a million visits although they run in milliseconds, and
-- the compilation then takes 300-900 ms of every request (GET /api/v1/live for the
-- authority: 906 ms, of which JIT 830 ms; 33 ms without). carefactd's queries are all
-- short index walks where JIT can only lose, so it is off for the database (new sessions;
-- a reporting session may still SET jit = on for itself).
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
END
$$;

-- The one-row configuration table is never analyzed by autovacuum (50 changed rows are
-- needed first), so the planner guessed 720 rows for it and multiplied every estimate
-- that joins it (live, exceptions) by that; with statistics it counts one.
ANALYZE visit_thresholds;

-- ==== Indexes ====

-- Flagged visits of every provider, newest first: the authority's exception queue
-- (GET /api/v1/exceptions reads its newest 500 flagged visits from here instead of
-- filtering visits_sort, where 9 in 10 visits carry no flag) and the authority's list
-- filtered by flag (?flag=clock_uncertain: 1 visit in 200). 0003's visits_flagged
-- serves the same for one provider.
CREATE INDEX visits_flagged_all ON visits (sort_at DESC, id DESC) WHERE cardinality(flags) > 0;

-- Plans not started yet are the other half of GET /api/v1/visits: newest first, by
-- provider or for every provider, with the id as the keyset's tie-break, so the page
-- walks the index and stops after `limit` plans that have no visit, instead of reading
-- and sorting every plan (0003's visit_plans_provider_start has no id and the
-- authority had no index at all).
CREATE INDEX visit_plans_sort ON visit_plans (planned_start DESC, id DESC);
CREATE INDEX visit_plans_provider_sort ON visit_plans (provider_id, planned_start DESC, id DESC);

-- ==== The register reads one month, not the provider's year ====
-- 0009's register_compute joined visit_effective on "sort_at >= coalesce(w.late_from,
-- w.m_start) AND sort_at < w.m_end", bounds taken from a join with regions; the planner
-- joined visits before regions, so the bounds could not bound the index scan and every
-- visit of the provider was read and then filtered (250,000 rows for the 21,500 of the
-- large provider's month: 520 ms of each computation, and a draft is computed twice per
-- document, for its totals and its lines). The same function with the bounds as
-- uncorrelated sub-SELECTs (InitPlans, computed first) scans only the month (plus the
-- late window) on visits_provider_sort: 200-300 ms. Nothing else changes.
CREATE OR REPLACE FUNCTION register_compute(p_provider uuid, p_month date)
RETURNS TABLE (visit_id uuid, visit_at timestamptz, worker_id uuid, recipient_id uuid,
               reason text, late boolean, original_month date, line_no integer,
               service_code text, service_name text, quantity integer, tariff_kopecks bigint)
LANGUAGE sql STABLE AS $$
WITH p AS (
    SELECT pr.id, rg.timezone, b.first_month, b.last_month
    FROM providers pr
    JOIN regions rg ON rg.id = pr.region_id
    CROSS JOIN LATERAL (SELECT min(r.month) AS first_month, max(r.month) AS last_month
                        FROM registers r
                        -- earlier months only: while submitting, p_month is stored too
                        WHERE r.provider_id = pr.id AND r.state <> 'draft'
                          AND r.month < p_month) b
    WHERE pr.id = p_provider
), w AS (
    SELECT p.id, p.timezone,
           p_month::timestamp AT TIME ZONE p.timezone AS m_start,
           (p_month + interval '1 month') AT TIME ZONE p.timezone AS m_end,
           -- only the next open month collects late visits, from the first billed month
           CASE WHEN p_month = p.last_month + interval '1 month'
                THEN p.first_month::timestamp AT TIME ZONE p.timezone END AS late_from
    FROM p
), c AS (
    SELECT ve.id, ve.sort_at, ve.worker_id, ve.recipient_id,
           ve.effective_service_codes, ve.effective_service_quantities,
           ve.sort_at < w.m_start AS late,
           date_trunc('month', ve.sort_at AT TIME ZONE w.timezone)::date AS own_month,
           CASE WHEN ve.state = 'cancelled' THEN 'cancelled'
                WHEN ve.state = 'attempted' THEN 'attempted'
                WHEN ve.state NOT IN ('ended', 'rated') THEN 'not_ended'
                WHEN NOT ve.start_confirmed THEN 'start_not_confirmed'
                WHEN NOT ve.end_confirmed THEN 'end_not_confirmed'
                WHEN ve.disputed THEN 'disputed'
                WHEN ve.must_fix_open THEN 'must_fix' END AS reason
    FROM w
    JOIN visit_effective ve ON ve.provider_id = w.id
     AND ve.sort_at >= (SELECT coalesce(w1.late_from, w1.m_start) FROM w w1)
     AND ve.sort_at < (SELECT w1.m_end FROM w w1)
    WHERE NOT EXISTS (SELECT 1 FROM register_lines l WHERE l.visit_id = ve.id)
), billed AS (
    SELECT c.* FROM c
    WHERE NOT (c.late AND c.reason IS NOT NULL
               AND EXISTS (SELECT 1 FROM register_excluded x WHERE x.visit_id = c.id))
)
SELECT b.id, b.sort_at, b.worker_id, b.recipient_id, b.reason, b.late, b.own_month,
       coalesce(s.n, 1)::integer, s.code, sv.name, coalesce(s.quantity, 0),
       coalesce(sv.tariff_kopecks, 0)
FROM billed b
LEFT JOIN LATERAL unnest(b.effective_service_codes, b.effective_service_quantities)
    WITH ORDINALITY s(code, quantity, n) ON b.reason IS NULL
LEFT JOIN services sv ON sv.code = s.code
$$;
