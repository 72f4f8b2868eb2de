-- Corrections of visits (issue 6). The events are the facts the terminal signed and are
-- never changed; a correction is a row of its own, made by a person with a reason, and
-- kept for good (append-only, like audit_log). The visit as reviewed and paid is the
-- rebuilt visit with its corrections applied: visit_effective below. Register, figures
-- and the recipient's statement read that view, so one rule decides what a correction
-- changes.
--
-- What can be corrected:
--   services  value: [{"code": "...", "quantity": n}, ...]  the services done (the
--             terminal's list was wrong: a service forgotten, a wrong quantity);
--   disputed  value: true | false  the visit is contested (by the recipient, a guardian,
--             the department); a disputed visit is not paid until undisputed.
-- The latest correction of each field wins; previous holds the value before it, so the
-- history reads "from -> to" without replaying it.

CREATE TABLE visit_corrections (
    id bigserial PRIMARY KEY,
    visit_id uuid NOT NULL REFERENCES visits,
    provider_id uuid NOT NULL REFERENCES providers,
    field text NOT NULL CHECK (field IN ('services', 'disputed')),
    value jsonb NOT NULL,
    previous jsonb NOT NULL,
    reason text NOT NULL CHECK (length(btrim(reason)) BETWEEN 1 AND 2000),
    corrected_by text NOT NULL CHECK (length(corrected_by) BETWEEN 1 AND 200),
    corrected_at timestamptz NOT NULL DEFAULT now(),
    CHECK (field <> 'disputed' OR jsonb_typeof(value) = 'boolean'),
    CHECK (field <> 'services' OR jsonb_typeof(value) = 'array')
);
CREATE INDEX visit_corrections_visit ON visit_corrections (visit_id, field, id DESC);

-- One trigger function for every append-only table (audit_log keeps 0001's own).
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END
$$;
CREATE TRIGGER visit_corrections_no_change BEFORE UPDATE OR DELETE ON visit_corrections
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
REVOKE UPDATE, DELETE, TRUNCATE ON visit_corrections FROM PUBLIC;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'carefact_app') THEN
        EXECUTE 'REVOKE UPDATE, DELETE, TRUNCATE ON visit_corrections FROM carefact_app';
    END IF;
END
$$;

ALTER TABLE visit_corrections ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_provider ON visit_corrections USING (provider_visible(provider_id));

-- A visit with its corrections applied. security_invoker: the caller's row-level
-- security applies through the view (a plain view would read as its owner).
--   disputed      latest 'disputed' correction, else false;
--   services      latest 'services' correction, else the terminal's list;
--   expected_minutes  recomputed from those services when they were corrected;
--   corrected     whether any correction exists;
--   must_fix_open an exception of the visit was resolved "must_fix" and no correction
--                 has been made since: the visit waits for its fix and is not paid.
CREATE VIEW visit_effective WITH (security_invoker = true) AS
SELECT v.*,
       coalesce((d.value)::text::boolean, false) AS disputed,
       CASE WHEN s.value IS NULL THEN v.service_codes ELSE sc.codes END
           AS effective_service_codes,
       CASE WHEN s.value IS NULL THEN v.service_quantities ELSE sc.quantities END
           AS effective_service_quantities,
       CASE WHEN s.value IS NULL THEN v.expected_minutes ELSE sc.expected_minutes END
           AS effective_expected_minutes,
       (d.value IS NOT NULL OR s.value IS NOT NULL) AS corrected,
       EXISTS (SELECT 1 FROM exception_resolutions er
               WHERE er.subject_id = v.id AND er.action = 'must_fix'
                 AND NOT EXISTS (SELECT 1 FROM visit_corrections c
                                 WHERE c.visit_id = v.id AND c.corrected_at > er.resolved_at))
           AS must_fix_open
FROM visits v
LEFT JOIN LATERAL (SELECT c.value FROM visit_corrections c
                   WHERE c.visit_id = v.id AND c.field = 'disputed'
                   ORDER BY c.id DESC LIMIT 1) d ON true
LEFT JOIN LATERAL (SELECT c.value FROM visit_corrections c
                   WHERE c.visit_id = v.id AND c.field = 'services'
                   ORDER BY c.id DESC LIMIT 1) s ON true
LEFT JOIN LATERAL (SELECT coalesce(array_agg(x->>'code' ORDER BY n), '{}') AS codes,
                          coalesce(array_agg((x->>'quantity')::integer ORDER BY n), '{}')
                              AS quantities,
                          coalesce(sum(sv.norm_minutes * (x->>'quantity')::integer), 0)::integer
                              AS expected_minutes
                   FROM jsonb_array_elements(s.value) WITH ORDINALITY e(x, n)
                   LEFT JOIN services sv ON sv.code = x->>'code') sc ON s.value IS NOT NULL;
