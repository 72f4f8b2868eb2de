-- Manager review: resolutions of the exception queue. An exception is not stored: it is
-- derived from visits (their flags, or started longer ago than abandoned_after) and
-- pending card bindings; a resolution records what a person decided about one (kind,
-- subject) once. Every resolution is also written to the append-only audit_log.

CREATE TABLE exception_resolutions (
    kind text NOT NULL CHECK (kind IN ('low_rating', 'early_leave', 'card_mismatch',
        'abandoned', 'card_binding')),
    subject_id uuid NOT NULL,
    action text NOT NULL CHECK (action IN ('must_fix', 'acknowledge', 'confirm', 'reject')),
    resolved_by text NOT NULL CHECK (length(resolved_by) BETWEEN 1 AND 200),
    note text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    resolved_at timestamptz NOT NULL DEFAULT now(),
    -- the subject's provider, filled in by the trigger below (for row-level security)
    provider_id uuid NOT NULL REFERENCES providers,
    PRIMARY KEY (kind, subject_id)
);
-- visit_effective (0008) decides must_fix_open with a correlated EXISTS by subject_id;
-- the key (kind, subject_id) cannot serve a lookup by subject alone, so without this
-- every visit of a figures period scanned the whole table (a provider-month of 19,500
-- visits against 4,000 resolutions: 5.7 s, 97 % of it in that scan). Only must_fix
-- rows matter, so the index holds only them.
CREATE INDEX exception_resolutions_must_fix ON exception_resolutions (subject_id, resolved_at)
    WHERE action = 'must_fix';

-- The provider of a resolution is its subject's: the visit's, or the card binding's
-- recipient's. Looked up as the caller (row-level security applies), so a subject the
-- caller cannot see leaves it NULL and the insert fails.
CREATE FUNCTION exception_resolution_provider() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.provider_id IS NULL THEN
        IF NEW.kind = 'card_binding' THEN
            SELECT r.provider_id INTO NEW.provider_id
            FROM card_bindings b JOIN recipients r ON r.id = b.recipient_id
            WHERE b.id = NEW.subject_id;
        ELSE
            SELECT v.provider_id INTO NEW.provider_id FROM visits v WHERE v.id = NEW.subject_id;
        END IF;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER exception_resolutions_provider BEFORE INSERT ON exception_resolutions
    FOR EACH ROW EXECUTE FUNCTION exception_resolution_provider();

ALTER TABLE exception_resolutions ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_provider ON exception_resolutions
    USING (provider_id = ANY ((SELECT visible_providers())::uuid[]));
GRANT SELECT, INSERT ON exception_resolutions TO carefact_app;
