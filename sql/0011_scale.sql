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
