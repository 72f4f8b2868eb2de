-- visit_effective (0008) decides must_fix_open per visit with
--   EXISTS (SELECT 1 FROM exception_resolutions WHERE subject_id = v.id AND action = 'must_fix' ...)
-- but exception_resolutions' only index is its primary key (kind, subject_id), which
-- cannot serve a lookup by subject alone: every visit of a list page scanned the whole
-- table (400,000 visits and 20,000 resolutions: 2 ms a visit, 100 ms for a page of 50,
-- growing with every resolution). This partial index makes it one index probe.
CREATE INDEX exception_resolutions_must_fix ON exception_resolutions (subject_id)
    WHERE action = 'must_fix';
