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

CREATE TRIGGER visit_corrections_no_change BEFORE UPDATE OR DELETE ON visit_corrections
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
ALTER TABLE visit_corrections ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_provider ON visit_corrections
    USING (provider_id = ANY ((SELECT visible_providers())::uuid[]));
-- Append-only for the server too: no UPDATE, DELETE or TRUNCATE.
GRANT SELECT, INSERT ON visit_corrections TO carefact_app;
GRANT USAGE ON SEQUENCE visit_corrections_id_seq TO carefact_app;

-- A services correction's value as the two arrays a visit keeps (codes, quantities, in
-- the correction's order). A table function of one expression, so it is inlined where
-- it is used (visit_effective, rebuild_visits).
CREATE FUNCTION correction_services(p_value jsonb)
RETURNS TABLE (codes text[], quantities integer[])
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(x->>'code' ORDER BY n), '{}'),
           coalesce(array_agg((x->>'quantity')::integer ORDER BY n), '{}')
    FROM jsonb_array_elements(p_value) WITH ORDINALITY e(x, n)
$$;

-- A correction of the services changes the visit's verdicts (early_leave, overtime):
-- the visit's flags are judged again by visit_flags (0005) on the corrected services,
-- so visits.flags -- what the exception queue, the list and the figures read -- never
-- go stale. The flags that come from the events (clock_uncertain, card_mismatch,
-- unknown_recipient) are kept as the rebuild wrote them; a later rebuild (a late event)
-- judges the corrected services the same way (rebuild_visits reads the latest services
-- correction). As the caller: row-level security applies.
CREATE FUNCTION visit_corrections_rejudge() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE visits v SET
        flags = visit_flags('clock_uncertain' = ANY (v.flags), v.duration_s,
                            (SELECT m.expected_minutes
                             FROM correction_services(NEW.value) k,
                                  visit_expected_minutes(k.codes, k.quantities) m),
                            'card_mismatch' = ANY (v.flags), v.rating,
                            NOT 'unknown_recipient' = ANY (v.flags), t),
        updated_at = now()
    FROM visit_thresholds t
    WHERE v.id = NEW.visit_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER visit_corrections_rejudge AFTER INSERT ON visit_corrections
    FOR EACH ROW WHEN (NEW.field = 'services') EXECUTE FUNCTION visit_corrections_rejudge();

-- A visit with its corrections applied. security_invoker: the caller's row-level
-- security applies through the view (a plain view would read as its owner).
--   disputed      latest 'disputed' correction, else false;
--   services      latest 'services' correction, else the terminal's list;
--   expected_minutes  visit_expected_minutes of those services when they were corrected;
--   flags         visits.flags, already judged on the corrected services (above);
--   corrected     whether any correction exists;
--   must_fix_open an exception of the visit was resolved "must_fix" and no correction
--                 has been made since: the visit waits for its fix and is not paid.
-- correction_services and visit_expected_minutes are inlined (table functions of one
-- SELECT), and a column no caller reads is not computed at all (the view is inlined):
-- the register reads 21,500 visits of a month through here.
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
LEFT JOIN LATERAL (SELECT k.codes, k.quantities, m.expected_minutes
                   FROM correction_services(s.value) k,
                        visit_expected_minutes(k.codes, k.quantities) m) sc
    ON s.value IS NOT NULL;
GRANT SELECT ON visit_effective TO carefact_app;
