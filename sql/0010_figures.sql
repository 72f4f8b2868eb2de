-- Figures (issue 6): per-visit lookups that GET /api/v1/figures makes through
-- visit_effective.
--
-- visit_effective decides must_fix_open with a correlated EXISTS on
-- exception_resolutions by subject_id; the table's key is (kind, subject_id), which
-- cannot serve a lookup by subject alone, so every visit of a figures period scanned
-- the whole table (a provider-month of 19,500 visits against 4,000 resolutions: 5.7 s,
-- 97 % of it in that scan). Only must_fix rows matter, so the index holds only them.
CREATE INDEX exception_resolutions_must_fix ON exception_resolutions (subject_id, resolved_at)
    WHERE action = 'must_fix';
