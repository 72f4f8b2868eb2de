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
--
-- The journal is the record; applications.filed_at and verified_at copy its first
-- 'submitted' and 'verified' rows (the trigger application_journal_marks, in the
-- journal's inserting transaction) so that a month's cohort is one index range of
-- applications instead of a journal join and a probe per application (tools/
-- bench-applications: 100,000 applications).

-- ==== The journal's marks on the application ====

ALTER TABLE applications ADD COLUMN filed_at timestamptz;
ALTER TABLE applications ADD COLUMN verified_at timestamptz;

-- A journal row's marks: the first 'submitted' is the filing, the first 'verified' the
-- check (a resubmission fires the trigger too and marks nothing: it is not a filing). SECURITY DEFINER: the application is marked whatever the inserting role's scope
-- (the citizen's filing, a move in another office's scope) — it is the row the journal
-- names, nothing else.
CREATE FUNCTION application_journal_marks() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE applications SET
        filed_at = CASE WHEN NEW.to_state = 'submitted' AND filed_at IS NULL THEN NEW.at
                        ELSE filed_at END,
        verified_at = CASE WHEN NEW.to_state = 'verified' AND verified_at IS NULL THEN NEW.at
                           ELSE verified_at END
    WHERE id = NEW.application_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER application_journal_marks AFTER INSERT ON application_journal
    FOR EACH ROW WHEN (NEW.to_state IN ('submitted', 'resubmitted', 'verified'))
    EXECUTE FUNCTION application_journal_marks();
UPDATE applications a SET filed_at = j.at
FROM (SELECT application_id, min(at) AS at FROM application_journal
      WHERE to_state = 'submitted' GROUP BY application_id) j
WHERE j.application_id = a.id;
UPDATE applications a SET verified_at = j.at
FROM (SELECT application_id, min(at) AS at FROM application_journal
      WHERE to_state = 'verified' GROUP BY application_id) j
WHERE j.application_id = a.id;

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
-- under the policies each of a month's ~8,000 filings cost policy checks (current_setting
-- twice a row; 2 s at 100,000 applications when the cohort came from the journal,
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
        -- the index applications_filed bounds the scan to the month and a day either side
        -- (every time zone); the local month decides
        SELECT a.id, a.office_id, a.state, a.returns, a.recipient_id, a.filed_at,
               a.verified_at IS NOT NULL AS was_verified, r.timezone
        FROM applications a
        JOIN zones r ON r.id = a.region_id
        WHERE a.filed_at >= p_month::timestamptz - interval '1 day'
          AND a.filed_at < p_month::timestamptz + interval '1 month 1 day'
          AND date_trunc('month', a.filed_at AT TIME ZONE r.timezone)::date = p_month
          AND (p_office IS NULL OR a.office_id = p_office)
          -- application_visible's rule (0019), the settings as InitPlans: checked on
          -- each application before its visits are read
          AND ((SELECT s.office FROM scope s) IN ('*', a.office_id::text)
               OR (SELECT s.region FROM scope s) = a.region_id::text)),
    cohort AS (
        SELECT f.*,
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

-- The funnel's cohort: the filings of a month.
CREATE INDEX applications_filed ON applications (filed_at) WHERE filed_at IS NOT NULL;

-- The journal's search (applications.sql, application_list: newest first, with filters)
-- by purpose: a rare purpose walked applications_created nearly whole (165 ms at 100,000
-- applications, tools/bench-applications; 10 ms with this). The number's prefix (LIKE)
-- cannot use an index under row-level security: LIKE is not leakproof, so PostgreSQL
-- checks the policy first, on every row.
CREATE INDEX applications_purpose_created ON applications (purpose, created_at DESC, id DESC);
