-- The register's speed (issue 6: a month's register for a provider with 20,000 visits
-- under 1 s). What changes is how register_compute is planned, not what it computes.
--
-- 0011's function was inlined into the caller's query with its CTE c inlined too, into
-- the join with unnest() of the services: the reason CASE (and in it visit_effective's
-- must_fix_open sub-plan, a probe of exception_resolutions per row) was evaluated once
-- per LINE (41,000 of them for the large provider's month) instead of once per visit.
-- c is MATERIALIZED now: the per-visit part is computed once per visit, and the
-- lines are the unnest of those rows. ROWS 20000 is the size of a busy provider-month
-- (the planner's guess from the inlined body was 19-21 rows for 42,000), so that the
-- caller joins the names of workers and recipients by hash, not by 42,000 index probes
-- (and sorts in memory what it expects to be large). ROWS is only used when the function
-- is not inlined; the SET clause (a no-op: 0011 turned JIT off for the database) is
-- what keeps PostgreSQL from inlining it. Nothing gained by inlining is lost: no caller
-- filters its rows (the document, register_totals and the snapshot of register_submit
-- read all of them).
-- Same columns, same rows, same order of evaluation of the rules.
CREATE OR REPLACE FUNCTION register_compute(p_provider uuid, p_month date)
RETURNS TABLE (visit_id uuid, visit_at timestamptz, worker_id uuid, recipient_id uuid,
               reason text, late boolean, original_month date, line_no integer,
               service_code text, service_name text, quantity integer, tariff_kopecks bigint)
LANGUAGE sql STABLE ROWS 20000 SET jit = off AS $$
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
), c AS MATERIALIZED (
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
