-- The applications' funnel (issue 15): per office and month, how many applications filed
-- that month were verified, approved and had their first card-confirmed visit; how many
-- were returned for rework (and how often), refused, withdrawn; and the days from filing
-- to the first confirmed visit (median and p90) — the "10 days to 1" figure. See
-- backend/README.md, "Applications: the funnel".
--
-- The funnel follows a cohort: the applications filed in the month (the region's local
-- month), and how far each has got by now. An application is *filed* when it first
-- moves to 'submitted' (its journal row: 'submitted' is reached only from 'draft', once;
-- a resubmission after a return is 'resubmitted'). Not applications.submitted_at, which
-- a resubmission moves: the citizen's wait starts at the first filing. A web filing is
-- submitted in the transaction that creates it, so for it filed = created; an office's
-- draft is filed when the front office submits it. Drafts never submitted are not in the
-- funnel.

-- ==== Rules ====

-- Is this a card-confirmed visit: ended (or rated after ending) and confirmed by the
-- recipient's card at its start and at its end. The funnel's first visit is the earliest
-- such visit (by its start) of the recipient an approval created.
CREATE FUNCTION visit_card_confirmed(p_state text, p_start_confirmed boolean,
                                     p_end_confirmed boolean) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_state IN ('ended', 'rated') AND p_start_confirmed AND p_end_confirmed
$$;

-- Days from filing to the first visit: the difference of the two local dates in the
-- region's time zone (filed on Monday, visited on Tuesday: 1; the same day: 0).
CREATE FUNCTION application_days_to_visit(p_filed timestamptz, p_visit timestamptz,
                                          p_timezone text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT (p_visit AT TIME ZONE p_timezone)::date - (p_filed AT TIME ZONE p_timezone)::date
$$;

-- The funnel of the applications filed in the local month p_month (its first day), of
-- office p_office (or every office the caller sees when NULL): one row per office and
-- one for all of them together (office_id NULL). days_median and days_p90 are continuous
-- percentiles (linear interpolation between the two nearest, as percentile_cont) of the
-- days to the first visit, NULL with no visited application.
--
-- Who counts: the caller's applications, by the rule of application_visible (0019: the
-- setting carefact.office '*' or the application's office, or carefact.region its
-- region), applied here with the two settings read once. SECURITY DEFINER, because
-- under row-level security the month's 10,000 filings cost a policy check per journal
-- row and per application (current_setting twice a row: 2 s at 100,000 applications,
-- tools/bench-applications), and because the visits read — only those of the
-- recipients the counted applications' approvals created — are of providers the
-- application staff may not see; nothing else leaves the function but counts and days.
CREATE FUNCTION application_funnel(p_month date, p_office uuid)
RETURNS TABLE (office_id uuid, submitted bigint, verified bigint, approved bigint,
               visited bigint, returned bigint, returns bigint, refused bigint,
               withdrawn bigint, days_median double precision, days_p90 double precision)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH scope AS MATERIALIZED (
        SELECT coalesce(current_setting('carefact.office', true), '') AS office,
               coalesce(current_setting('carefact.region', true), '') AS region),
    -- the regions' time zones read once (not an index probe per filing)
    zones AS MATERIALIZED (SELECT id, timezone FROM regions),
    filed AS (
        -- the index application_journal_submitted bounds the scan to the month and a day
        -- either side (every time zone); the local month decides
        SELECT a.id, a.office_id, a.state, a.returns, a.recipient_id, j.at AS filed_at,
               r.timezone
        FROM scope s, application_journal j
        JOIN applications a ON a.id = j.application_id
        JOIN zones r ON r.id = a.region_id
        WHERE j.to_state = 'submitted'
          AND j.at >= p_month::timestamptz - interval '1 day'
          AND j.at < p_month::timestamptz + interval '1 month 1 day'
          AND date_trunc('month', j.at AT TIME ZONE r.timezone)::date = p_month
          AND (p_office IS NULL OR a.office_id = p_office)
          -- application_visible's rule (0019)
          AND (s.office IN ('*', a.office_id::text) OR s.region = a.region_id::text)),
    cohort AS (
        SELECT f.*,
               EXISTS (SELECT 1 FROM application_journal v
                       WHERE v.application_id = f.id AND v.to_state = 'verified') AS was_verified,
               (SELECT min(v.started_at) FROM visits v
                WHERE f.state = 'approved' AND v.recipient_id = f.recipient_id
                  AND visit_card_confirmed(v.state, v.start_confirmed, v.end_confirmed))
                   AS first_visit_at
        FROM filed f)
    SELECT c.office_id, count(*), count(*) FILTER (WHERE c.was_verified),
           count(*) FILTER (WHERE c.state = 'approved'),
           count(c.first_visit_at), count(*) FILTER (WHERE c.returns > 0),
           coalesce(sum(c.returns), 0), count(*) FILTER (WHERE c.state = 'refused'),
           count(*) FILTER (WHERE c.state = 'withdrawn'),
           percentile_cont(0.5) WITHIN GROUP (
               ORDER BY application_days_to_visit(c.filed_at, c.first_visit_at, c.timezone)),
           percentile_cont(0.9) WITHIN GROUP (
               ORDER BY application_days_to_visit(c.filed_at, c.first_visit_at, c.timezone))
    FROM cohort c
    GROUP BY GROUPING SETS ((c.office_id), ())
$$;

-- ==== Indexes ====

-- The funnel's cohort: the filings of a month; and whether each was ever verified, one
-- probe of a small index (one row per verified application) instead of its journal.
CREATE INDEX application_journal_submitted ON application_journal (at)
    WHERE to_state = 'submitted';
CREATE INDEX application_journal_verified ON application_journal (application_id)
    WHERE to_state = 'verified';

-- The journal's search (applications.sql, application_list: newest first, with filters)
-- by purpose: a rare purpose walked applications_created nearly whole (165 ms at 100,000
-- applications, tools/bench-applications; 10 ms with this). The number's prefix (LIKE)
-- cannot use an index under row-level security: LIKE is not leakproof, so PostgreSQL
-- checks the policy first, on every row.
CREATE INDEX applications_purpose_created ON applications (purpose, created_at DESC, id DESC);
