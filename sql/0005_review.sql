-- Manager review (issue 6): resolutions of the exception queue. An exception is not
-- stored: it is derived from visits (flags, abandoned) and pending card bindings; a
-- resolution records what a person decided about one (kind, subject) once. Every
-- resolution is also written to the append-only audit_log.
CREATE TABLE exception_resolutions (
    kind text NOT NULL CHECK (kind IN ('low_rating', 'early_leave', 'card_mismatch',
        'abandoned', 'card_binding')),
    subject_id uuid NOT NULL,
    action text NOT NULL CHECK (action IN ('must_fix', 'acknowledge', 'confirm', 'reject')),
    resolved_by text NOT NULL CHECK (length(resolved_by) BETWEEN 1 AND 200),
    note text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    resolved_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, subject_id)
);

-- Live and flagged visits use 0003's visits_live and visits_flagged; pending cards:
CREATE INDEX card_bindings_pending ON card_bindings (created_at) WHERE status = 'pending';
