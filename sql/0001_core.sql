-- carefact core schema: reference data (regions, providers, workers, recipients, cards,
-- catalogue, certificates, plans), devices and their signed event log, and the visits
-- rebuilt from those events. Money is bigint kopecks; times are timestamptz.

CREATE TABLE regions (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    token_key bytea NOT NULL CHECK (length(token_key) BETWEEN 16 AND 64)
);

CREATE TABLE providers (
    id uuid PRIMARY KEY,
    region_id uuid NOT NULL REFERENCES regions,
    name text NOT NULL
);

CREATE TABLE workers (
    id uuid PRIMARY KEY,
    provider_id uuid NOT NULL REFERENCES providers,
    full_name text NOT NULL,
    active boolean NOT NULL DEFAULT true
);

CREATE TABLE recipients (
    id uuid PRIMARY KEY,
    provider_id uuid NOT NULL REFERENCES providers,
    full_name text NOT NULL,
    address text NOT NULL DEFAULT '',
    lat_e7 integer CHECK (lat_e7 BETWEEN -900000000 AND 900000000),
    lon_e7 integer CHECK (lon_e7 BETWEEN -1800000000 AND 1800000000),
    guardian_name text,
    version bigint NOT NULL DEFAULT 1,
    deleted_at timestamptz
);
CREATE INDEX recipients_provider ON recipients (provider_id);

-- A card bound to a recipient (or to a guardian acting for them). Only the token and
-- the last four digits: never a card number.
CREATE TABLE card_bindings (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    recipient_id uuid NOT NULL REFERENCES recipients,
    token text NOT NULL CHECK (token ~ '^[A-Za-z0-9_-]{22}$'),
    method text NOT NULL CHECK (method IN ('emv', 'uid')),
    scheme text NOT NULL DEFAULT '',
    last4 text NOT NULL DEFAULT '' CHECK (last4 ~ '^([0-9]{4})?$'),
    holder text NOT NULL DEFAULT 'recipient' CHECK (holder IN ('recipient', 'guardian')),
    status text NOT NULL CHECK (status IN ('active', 'pending', 'revoked')),
    valid_from date,
    valid_to date,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX card_bindings_live ON card_bindings (token, recipient_id) WHERE status <> 'revoked';
CREATE INDEX card_bindings_recipient ON card_bindings (recipient_id);

CREATE TABLE services (
    code text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9._-]{1,32}$'),
    name text NOT NULL,
    category text NOT NULL CHECK (category IN ('household', 'medical', 'psychological',
        'pedagogical', 'labour', 'legal', 'urgent', 'disability', 'social_support')),
    form text NOT NULL CHECK (form IN ('home', 'day_centre', 'residential')),
    norm_minutes integer NOT NULL CHECK (norm_minutes > 0),
    tariff_kopecks bigint NOT NULL CHECK (tariff_kopecks >= 0),
    version bigint NOT NULL DEFAULT 1
);

-- Social certificate / individual programme: validity and the services with volumes.
CREATE TABLE certificates (
    id uuid PRIMARY KEY,
    recipient_id uuid NOT NULL REFERENCES recipients,
    number text NOT NULL,
    valid_from date NOT NULL,
    valid_to date NOT NULL CHECK (valid_to >= valid_from),
    version bigint NOT NULL DEFAULT 1
);
CREATE INDEX certificates_recipient ON certificates (recipient_id);

CREATE TABLE certificate_services (
    certificate_id uuid NOT NULL REFERENCES certificates ON DELETE CASCADE,
    service_code text NOT NULL REFERENCES services,
    volume integer NOT NULL CHECK (volume > 0),
    period text NOT NULL CHECK (period IN ('month', 'year')),
    PRIMARY KEY (certificate_id, service_code)
);

CREATE TABLE visit_plans (
    id uuid PRIMARY KEY,
    provider_id uuid NOT NULL REFERENCES providers,
    worker_id uuid NOT NULL REFERENCES workers,
    recipient_id uuid NOT NULL REFERENCES recipients,
    planned_start timestamptz NOT NULL,
    service_codes text[] NOT NULL DEFAULT '{}',
    version bigint NOT NULL DEFAULT 1
);
CREATE INDEX visit_plans_worker_day ON visit_plans (worker_id, planned_start);

-- ==== Devices and their event log ====

CREATE TABLE devices (
    id uuid PRIMARY KEY,
    worker_id uuid NOT NULL REFERENCES workers,
    public_key bytea NOT NULL CHECK (length(public_key) = 32),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    last_seq bigint NOT NULL DEFAULT 0,
    last_digest bytea NOT NULL DEFAULT decode(repeat('00', 32), 'hex') CHECK (length(last_digest) = 32),
    enrolled_at timestamptz NOT NULL DEFAULT now()
);

-- One-time enrolment codes, stored as SHA-256 so a database dump does not hand them out.
CREATE TABLE enrollment_codes (
    code_hash bytea PRIMARY KEY,
    worker_id uuid NOT NULL REFERENCES workers,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    device_id uuid REFERENCES devices
);

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
    payload jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, seq)
);
CREATE INDEX events_visit ON events (visit_id) WHERE visit_id IS NOT NULL;

-- ==== Visits, rebuilt from events ====

-- Thresholds for flags (configuration, one row).
CREATE TABLE visit_thresholds (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    early_leave_ratio numeric NOT NULL DEFAULT 0.8,
    overtime_ratio numeric NOT NULL DEFAULT 1.5,
    low_rating_max integer NOT NULL DEFAULT 2,
    abandoned_after interval NOT NULL DEFAULT '12 hours'
);
INSERT INTO visit_thresholds DEFAULT VALUES;

CREATE TABLE visits (
    id uuid PRIMARY KEY,
    provider_id uuid NOT NULL REFERENCES providers,
    worker_id uuid NOT NULL REFERENCES workers,
    recipient_id uuid REFERENCES recipients,
    plan_id uuid,
    state text NOT NULL CHECK (state IN ('started', 'ended', 'rated', 'cancelled')),
    started_at timestamptz,
    ended_at timestamptz,
    duration_s integer,
    expected_minutes integer NOT NULL DEFAULT 0,
    start_confirmed boolean NOT NULL DEFAULT false,
    end_confirmed boolean NOT NULL DEFAULT false,
    rating integer CHECK (rating BETWEEN 1 AND 5),
    comment text,
    cancel_reason text,
    cancelled_by text,
    flags text[] NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX visits_provider_started ON visits (provider_id, started_at DESC, id);
CREATE INDEX visits_worker_started ON visits (worker_id, started_at DESC, id);
CREATE INDEX visits_recipient_started ON visits (recipient_id, started_at DESC, id);
CREATE INDEX visits_flags ON visits USING gin (flags);

CREATE TABLE visit_services (
    visit_id uuid NOT NULL REFERENCES visits ON DELETE CASCADE,
    service_code text NOT NULL,
    quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 100),
    PRIMARY KEY (visit_id, service_code)
);

-- Door attempts (no visit happened) are facts of their own.
CREATE TABLE door_attempts (
    device_id uuid NOT NULL,
    seq bigint NOT NULL,
    worker_id uuid NOT NULL,
    recipient_id uuid NOT NULL,
    reason text NOT NULL,
    at timestamptz NOT NULL,
    PRIMARY KEY (device_id, seq),
    FOREIGN KEY (device_id, seq) REFERENCES events
);

-- Is this card token bound (active) to that recipient at that time?
CREATE FUNCTION card_is_bound(p_token text, p_recipient uuid, p_at timestamptz) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM card_bindings
                   WHERE token = p_token AND recipient_id = p_recipient AND status = 'active'
                     AND (valid_from IS NULL OR valid_from <= p_at::date)
                     AND (valid_to IS NULL OR valid_to >= p_at::date))
$$;

-- Rebuild one visit from all of its events. A pure function of the events held, so
-- the result never depends on the order in which devices delivered them.
CREATE FUNCTION rebuild_visit(p_visit uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    s events; e events; r events; c events;
    t visit_thresholds;
    v_state text; v_duration integer; v_expected integer := 0;
    v_flags text[] := '{}';
    v_start_ok boolean := false; v_end_ok boolean := false;
    v_recipient uuid; v_provider uuid;
BEGIN
    SELECT * INTO s FROM events WHERE visit_id = p_visit AND kind = 'visit.started'
        ORDER BY wall_time, device_id, seq LIMIT 1;
    SELECT * INTO e FROM events WHERE visit_id = p_visit AND kind = 'visit.ended'
        ORDER BY wall_time, device_id, seq LIMIT 1;
    SELECT * INTO r FROM events WHERE visit_id = p_visit AND kind = 'visit.rated'
        ORDER BY wall_time DESC, device_id DESC, seq DESC LIMIT 1;
    SELECT * INTO c FROM events WHERE visit_id = p_visit AND kind = 'visit.cancelled'
        ORDER BY wall_time, device_id, seq LIMIT 1;
    IF s.seq IS NULL AND c.seq IS NULL AND e.seq IS NULL THEN
        RETURN; -- only a rating so far: the visit appears when its start arrives
    END IF;
    SELECT * INTO t FROM visit_thresholds;
    v_recipient := coalesce(s.recipient_id, e.recipient_id, c.recipient_id);
    SELECT provider_id INTO v_provider FROM workers
        WHERE id = coalesce(s.worker_id, e.worker_id, c.worker_id);

    v_state := CASE WHEN e.seq IS NOT NULL AND r.seq IS NOT NULL THEN 'rated'
                    WHEN e.seq IS NOT NULL THEN 'ended'
                    WHEN c.seq IS NOT NULL THEN 'cancelled'
                    ELSE 'started' END;

    IF s.seq IS NOT NULL AND e.seq IS NOT NULL THEN
        IF s.boot_id = e.boot_id THEN
            v_duration := greatest(0, (e.mono_ms - s.mono_ms) / 1000);
        ELSE
            v_duration := greatest(0, extract(epoch FROM e.wall_time - s.wall_time)::integer);
            v_flags := array_append(v_flags, 'clock_uncertain');
        END IF;
        SELECT coalesce(sum(sv.norm_minutes * (x->>'quantity')::integer), 0) INTO v_expected
            FROM jsonb_array_elements(coalesce(e.payload->'services', '[]')) x
            JOIN services sv ON sv.code = x->>'code';
        IF v_expected > 0 AND v_duration < t.early_leave_ratio * v_expected * 60 THEN
            v_flags := array_append(v_flags, 'early_leave');
        ELSIF v_expected > 0 AND v_duration > t.overtime_ratio * v_expected * 60 THEN
            v_flags := array_append(v_flags, 'overtime');
        END IF;
    END IF;

    IF s.payload ? 'card' THEN
        v_start_ok := card_is_bound(s.payload->'card'->>'token', v_recipient, s.wall_time);
    END IF;
    IF e.payload ? 'card' THEN
        v_end_ok := card_is_bound(e.payload->'card'->>'token', v_recipient, e.wall_time);
    END IF;
    IF (s.payload ? 'card' AND NOT v_start_ok) OR (e.payload ? 'card' AND NOT v_end_ok) THEN
        v_flags := array_append(v_flags, 'card_mismatch');
    END IF;
    IF r.seq IS NOT NULL AND (r.payload->>'rating')::integer <= t.low_rating_max THEN
        v_flags := array_append(v_flags, 'low_rating');
    END IF;

    INSERT INTO visits AS v (id, provider_id, worker_id, recipient_id, plan_id, state, started_at,
                             ended_at, duration_s, expected_minutes, start_confirmed,
                             end_confirmed, rating, comment, cancel_reason, cancelled_by, flags,
                             updated_at)
    VALUES (p_visit, v_provider, coalesce(s.worker_id, e.worker_id, c.worker_id), v_recipient,
            (s.payload->>'plan_id')::uuid, v_state, s.wall_time, e.wall_time, v_duration,
            v_expected, v_start_ok, v_end_ok, (r.payload->>'rating')::integer,
            r.payload->>'comment', c.payload->>'reason', c.payload->>'cancelled_by', v_flags,
            now())
    ON CONFLICT (id) DO UPDATE SET
        provider_id = EXCLUDED.provider_id, worker_id = EXCLUDED.worker_id,
        recipient_id = EXCLUDED.recipient_id, plan_id = EXCLUDED.plan_id, state = EXCLUDED.state,
        started_at = EXCLUDED.started_at, ended_at = EXCLUDED.ended_at,
        duration_s = EXCLUDED.duration_s, expected_minutes = EXCLUDED.expected_minutes,
        start_confirmed = EXCLUDED.start_confirmed, end_confirmed = EXCLUDED.end_confirmed,
        rating = EXCLUDED.rating, comment = EXCLUDED.comment,
        cancel_reason = EXCLUDED.cancel_reason, cancelled_by = EXCLUDED.cancelled_by,
        flags = EXCLUDED.flags, updated_at = now();

    DELETE FROM visit_services WHERE visit_id = p_visit;
    IF e.seq IS NOT NULL THEN
        INSERT INTO visit_services (visit_id, service_code, quantity)
        SELECT p_visit, x->>'code', (x->>'quantity')::integer
        FROM jsonb_array_elements(coalesce(e.payload->'services', '[]')) x;
    END IF;
END
$$;

-- ==== Epoch and audit ====

-- A random id made once per database. A restore from an older backup brings back the
-- old database with a seq lower than devices were told: devices compare the epoch and
-- their acknowledged seq with the answer, and re-upload (see backend/README.md).
CREATE TABLE db_epoch (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    epoch uuid NOT NULL DEFAULT gen_random_uuid()
);
INSERT INTO db_epoch DEFAULT VALUES;

-- Append-only record of every change made by a person (issue 7 fills it from the API).
CREATE TABLE audit_log (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL,
    action text NOT NULL,
    subject text NOT NULL,
    reason text NOT NULL DEFAULT '',
    details jsonb NOT NULL DEFAULT '{}'
);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
