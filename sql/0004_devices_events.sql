-- Terminals and their signed event log. Every field of the event model
-- (firmware-shared/include/cf/event.h) has its own column, so carefactd loads a batch
-- with one COPY (no JSON parsed by the database) and the canonical digest of any stored
-- event can be recomputed from its row (carefactd does so when it serves a visit's
-- events). See backend/README.md, "Ingest invariants".

CREATE TABLE devices (
    id uuid PRIMARY KEY,
    worker_id uuid NOT NULL REFERENCES workers,
    public_key bytea NOT NULL CHECK (length(public_key) = 32),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    last_seq bigint NOT NULL DEFAULT 0,
    last_digest bytea NOT NULL DEFAULT decode(repeat('00', 32), 'hex') CHECK (length(last_digest) = 32),
    enrolled_at timestamptz NOT NULL DEFAULT now(),
    last_upload_at timestamptz
);
-- A device is its worker's provider's (the workers policy applies inside this one).
ALTER TABLE devices ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_worker ON devices USING (EXISTS (SELECT 1 FROM workers w WHERE w.id = worker_id));
GRANT SELECT, INSERT, UPDATE ON devices TO carefact_app;

-- One-time enrolment codes, stored as SHA-256 so a database dump does not hand them out.
CREATE TABLE enrollment_codes (
    code_hash bytea PRIMARY KEY,
    worker_id uuid NOT NULL REFERENCES workers,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    device_id uuid REFERENCES devices
);
ALTER TABLE enrollment_codes ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_worker ON enrollment_codes
    USING (EXISTS (SELECT 1 FROM workers w WHERE w.id = worker_id));
-- Codes are issued by the owner (carefactd enroll-code) and used by POST /api/v1/devices.
GRANT SELECT, UPDATE ON enrollment_codes TO carefact_app;

-- NOTE: no row-level security: PostgreSQL refuses COPY FROM into a table with row-level
-- security for a role it applies to, and ingest loads events with COPY. Events are read
-- only through a visit (scoped) and with the visit's provider as a filter; provider_id
-- is the provider of the device's worker, set by carefactd.
-- NOTE: no CHECK constraints on the event columns: every event is validated by
-- cf_event_validate (firmware-shared) before it is stored, and a CHECK per column
-- would be paid on every one of millions of rows for no added safety.
CREATE TABLE events (
    device_id uuid NOT NULL REFERENCES devices,
    seq bigint NOT NULL CHECK (seq >= 1),
    digest bytea NOT NULL CHECK (length(digest) = 32),
    kind text NOT NULL,
    visit_id uuid,
    worker_id uuid NOT NULL,
    recipient_id uuid,
    wall_time timestamptz NOT NULL,
    mono_ms bigint NOT NULL,
    boot_id uuid NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    provider_id uuid NOT NULL,
    plan_id uuid,
    card_method text,
    card_token text,
    card_scheme text,
    card_last4 text,
    lat_e7 integer,
    lon_e7 integer,
    accuracy_m integer,
    service_codes text[],
    service_quantities integer[],
    rating smallint,
    comment text,
    reason text,
    cancelled_by text,
    -- The visit an event belongs to: its visit_id, or for a door attempt recorded
    -- without one, a key of its own derived from (device, seq), so every attempt is one
    -- visit.
    visit_key uuid GENERATED ALWAYS AS
        (coalesce(visit_id, md5(device_id::text || '/' || seq::text)::uuid)) STORED,
    PRIMARY KEY (device_id, seq)
);
CREATE INDEX events_visit_key ON events (visit_key);
GRANT SELECT, INSERT ON events TO carefact_app;
