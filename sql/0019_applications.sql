-- Applications (issue 15): a person's request for social services, from filing to a
-- decision. The front office (a multifunctional centre, the social-protection office, a
-- community unit, an authorised person in a village) takes it in and checks it; the back
-- office (the department) assesses and decides. Every change of state is a row of the
-- append-only journal, made by one function, application_move, from the table of legal
-- transitions: who may make it and whether it needs a reason. Deadlines count working
-- days of the region's calendar. See backend/README.md, "Applications".

-- ==== Offices and the people who work in them ====

-- Where applications are taken in (front offices) and decided (the back office). The
-- same for every provider: configuration of the region, made by the owner.
CREATE TABLE offices (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    region_id uuid NOT NULL REFERENCES regions,
    kind text NOT NULL CHECK (kind IN ('mfc', 'office', 'community', 'authorised', 'back_office')),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    address text NOT NULL DEFAULT '' CHECK (length(address) <= 300),
    UNIQUE (region_id, name)
);
GRANT SELECT ON offices TO carefact_app;

-- Three roles of the application workflow: intake (front office: files and edits),
-- intake_lead (front office: checks and forwards, returns for rework), caseworker (the
-- back office: assesses and decides). Each works in one office; none sees a provider's
-- visits.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'authority', 'manager', 'worker', 'intake', 'intake_lead', 'caseworker'));
ALTER TABLE users DROP CONSTRAINT users_check;
ALTER TABLE users ADD CONSTRAINT users_check
    CHECK (role IN ('admin', 'authority', 'intake', 'intake_lead', 'caseworker')
           OR provider_id IS NOT NULL);
ALTER TABLE users ADD COLUMN office_id uuid REFERENCES offices;
ALTER TABLE users ADD CONSTRAINT users_office_check
    CHECK ((role IN ('intake', 'intake_lead', 'caseworker')) = (office_id IS NOT NULL));
-- Application staff have no provider: visible, like admins, under '*' only.

-- ==== The region's calendar: working days ====

-- A day that differs from the rule "Monday to Friday are working days": a holiday
-- (working = false) or a transferred working Saturday (working = true), loaded per year
-- by the owner (carefactd calendar load).
CREATE TABLE calendar_days (
    region_id uuid NOT NULL REFERENCES regions,
    day date NOT NULL,
    working boolean NOT NULL,
    note text NOT NULL DEFAULT '' CHECK (length(note) <= 200),
    PRIMARY KEY (region_id, day)
);
GRANT SELECT ON calendar_days TO carefact_app;

CREATE FUNCTION is_working_day(p_region uuid, p_day date) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT c.working FROM calendar_days c
                     WHERE c.region_id = p_region AND c.day = p_day),
                    extract(isodow FROM p_day) < 6)
$$;

-- The date n working days after p_from (p_from itself not counted): a request filed on
-- Friday with 5 working days is due the next Friday; a holiday in between moves it.
CREATE FUNCTION working_days_add(p_region uuid, p_from date, p_days integer) RETURNS date
LANGUAGE plpgsql STABLE AS $$
DECLARE
    d date := p_from;
    left_ integer := p_days;
BEGIN
    IF p_days < 0 OR p_days > 366 THEN
        RAISE EXCEPTION 'working_days_add: % working days is out of range', p_days
            USING ERRCODE = '22023';
    END IF;
    WHILE left_ > 0 LOOP
        d := d + 1;
        IF is_working_day(p_region, d) THEN
            left_ := left_ - 1;
        END IF;
    END LOOP;
    RETURN d;
END
$$;

-- ==== Applications ====

CREATE SEQUENCE application_number_seq;
GRANT USAGE ON SEQUENCE application_number_seq TO carefact_app;

CREATE TABLE applications (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- what the applicant quotes: "2026-000123"
    number text NOT NULL UNIQUE CHECK (number ~ '^[0-9]{4}-[0-9]{6,}$'),
    region_id uuid NOT NULL REFERENCES regions,
    office_id uuid NOT NULL REFERENCES offices,
    channel text NOT NULL CHECK (channel IN ('web', 'office', 'phone', 'post', 'terminal')),
    applicant_name text NOT NULL CHECK (length(applicant_name) BETWEEN 1 AND 200),
    applicant_birth date NOT NULL CHECK (applicant_birth >= '1900-01-01'),
    applicant_phone text NOT NULL DEFAULT '' CHECK (length(applicant_phone) <= 40),
    applicant_address text NOT NULL CHECK (length(applicant_address) BETWEEN 1 AND 300),
    representative_name text NOT NULL DEFAULT '' CHECK (length(representative_name) <= 200),
    representative_relation text NOT NULL DEFAULT ''
        CHECK (length(representative_relation) <= 100),
    category text NOT NULL
        CHECK (category IN ('elderly', 'disabled', 'disabled_child', 'family', 'other')),
    purpose text NOT NULL CHECK (purpose IN ('home_care', 'rehab_aid', 'rehab_course',
                                             'day_centre', 'palliative', 'other')),
    details text NOT NULL DEFAULT '' CHECK (length(details) <= 2000),
    complete boolean NOT NULL DEFAULT false,
    -- consent to the processing of personal data: an application is never taken without it
    consent_at timestamptz NOT NULL,
    state text NOT NULL DEFAULT 'draft'
        CHECK (state IN ('draft', 'submitted', 'returned', 'resubmitted', 'verified',
                         'assessment', 'approved', 'refused', 'withdrawn')),
    -- SHA-256 of the applicant's secret code (the status page asks number + code)
    code_hash bytea NOT NULL CHECK (length(code_hash) = 32),
    submitted_at timestamptz,
    decision_due date,
    decided_at timestamptz,
    programme_due date,
    -- the reason of the last return, refusal or withdrawal: what the applicant sees
    reason text NOT NULL DEFAULT '' CHECK (length(reason) <= 1000),
    returns integer NOT NULL DEFAULT 0 CHECK (returns >= 0),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- The journal's keyset (newest first) and its filters.
CREATE INDEX applications_created ON applications (created_at DESC, id DESC);
CREATE INDEX applications_office_state ON applications (office_id, state);
CREATE INDEX applications_due ON applications (decision_due)
    WHERE state IN ('submitted', 'resubmitted', 'verified', 'assessment');

-- Who sees an application: '*' (admin, authority) every one; the front office its own
-- office's (carefact.office); the back office its region's (carefact.region).
CREATE FUNCTION application_visible(p_office uuid, p_region uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('carefact.office', true), '') IN ('*', p_office::text)
        OR coalesce(current_setting('carefact.region', true), '') = p_region::text
$$;
ALTER TABLE applications ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_office ON applications USING (application_visible(office_id, region_id));
-- Changed only through application_move (state) and application_edit (fields).
GRANT SELECT, INSERT, UPDATE ON applications TO carefact_app;

-- Every change of state, append-only (trigger and privilege): who, in which office,
-- from and to which state, and why.
CREATE TABLE application_journal (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id uuid NOT NULL REFERENCES applications,
    at timestamptz NOT NULL DEFAULT now(),
    from_state text,
    to_state text NOT NULL,
    actor text NOT NULL,
    actor_role text NOT NULL,
    office_id uuid REFERENCES offices,
    reason text NOT NULL DEFAULT ''
);
CREATE INDEX application_journal_app ON application_journal (application_id, id);
CREATE TRIGGER application_journal_append_only BEFORE UPDATE OR DELETE ON application_journal
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
ALTER TABLE application_journal ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_application ON application_journal
    USING (EXISTS (SELECT 1 FROM applications a WHERE a.id = application_id));
GRANT SELECT, INSERT ON application_journal TO carefact_app;

-- The legal transitions: from, to, the roles that may make it (the applicant: the
-- public page; admin may make any), whether a reason is required.
CREATE TABLE application_transitions (
    from_state text NOT NULL,
    to_state text NOT NULL,
    roles text[] NOT NULL,
    reason_required boolean NOT NULL,
    PRIMARY KEY (from_state, to_state)
);
INSERT INTO application_transitions VALUES
    ('draft', 'submitted', '{intake,intake_lead,applicant}', false),
    ('submitted', 'verified', '{intake_lead}', false),
    ('submitted', 'returned', '{intake_lead,caseworker}', true),
    ('resubmitted', 'verified', '{intake_lead}', false),
    ('resubmitted', 'returned', '{intake_lead,caseworker}', true),
    ('returned', 'resubmitted', '{intake,intake_lead}', false),
    ('verified', 'assessment', '{caseworker}', false),
    ('verified', 'returned', '{caseworker}', true),
    ('assessment', 'returned', '{caseworker}', true),
    ('assessment', 'approved', '{caseworker}', false),
    ('assessment', 'refused', '{caseworker}', true),
    ('draft', 'withdrawn', '{intake,intake_lead,applicant}', true),
    ('submitted', 'withdrawn', '{intake,intake_lead,applicant}', true),
    ('returned', 'withdrawn', '{intake,intake_lead,applicant}', true),
    ('resubmitted', 'withdrawn', '{intake,intake_lead,applicant}', true),
    ('verified', 'withdrawn', '{intake,intake_lead,caseworker,applicant}', true),
    ('assessment', 'withdrawn', '{caseworker,applicant}', true);
GRANT SELECT ON application_transitions TO carefact_app;

-- The working days the federal rules allow: a decision within 5 working days of the
-- request; the programme within 10 of the decision (2 for palliative care).
CREATE FUNCTION application_decision_days() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 5';
CREATE FUNCTION application_programme_days(p_purpose text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN p_purpose = 'palliative' THEN 2 ELSE 10 END $$;

-- Is the application overdue today (the region's date)? A decision not taken by its due
-- date. The journal's filter and the overdue queue use this one rule.
CREATE FUNCTION application_overdue(p_state text, p_decision_due date, p_today date)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT p_state IN ('submitted', 'resubmitted', 'verified', 'assessment')
       AND p_decision_due IS NOT NULL AND p_decision_due < p_today
$$;

-- The region's local date now.
CREATE FUNCTION region_today(p_region uuid) RETURNS date LANGUAGE sql STABLE AS $$
    SELECT (now() AT TIME ZONE r.timezone)::date FROM regions r WHERE r.id = p_region
$$;

-- Move application p_id to p_to as p_actor (login, or 'applicant') with p_role, from
-- p_office, for p_reason. The one way a state changes. Returns the outcome:
--   'moved', 'not_found' (no such application visible), 'illegal' (no transition from
--   its state to p_to), 'role' (the transition exists, not for this role), 'reason'
--   (the transition needs a reason and none was given).
-- Submitting (and resubmitting) sets the decision's due date; deciding sets the
-- programme's (approval) and decided_at; a return counts and keeps its reason.
CREATE FUNCTION application_move(p_id uuid, p_to text, p_actor text, p_role text,
                                 p_office uuid, p_reason text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    a applications;
    t application_transitions;
    today date;
BEGIN
    SELECT * INTO a FROM applications WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'not_found';
    END IF;
    SELECT * INTO t FROM application_transitions WHERE from_state = a.state AND to_state = p_to;
    IF NOT FOUND THEN
        RETURN 'illegal';
    END IF;
    IF p_role <> 'admin' AND NOT p_role = ANY (t.roles) THEN
        RETURN 'role';
    END IF;
    IF t.reason_required AND btrim(coalesce(p_reason, '')) = '' THEN
        RETURN 'reason';
    END IF;
    today := region_today(a.region_id);
    UPDATE applications SET
        state = p_to,
        updated_at = now(),
        submitted_at = CASE WHEN p_to IN ('submitted', 'resubmitted') THEN now()
                            ELSE submitted_at END,
        decision_due = CASE WHEN p_to = 'submitted' AND decision_due IS NULL
                            THEN working_days_add(a.region_id, today, application_decision_days())
                            ELSE decision_due END,
        decided_at = CASE WHEN p_to IN ('approved', 'refused') THEN now() ELSE decided_at END,
        programme_due = CASE WHEN p_to = 'approved'
                             THEN working_days_add(a.region_id, today,
                                                   application_programme_days(a.purpose))
                             ELSE programme_due END,
        returns = returns + (p_to = 'returned')::integer,
        reason = CASE WHEN t.reason_required THEN btrim(p_reason) ELSE reason END
    WHERE id = p_id;
    INSERT INTO application_journal (application_id, from_state, to_state, actor, actor_role,
                                     office_id, reason)
    VALUES (p_id, a.state, p_to, p_actor, p_role, p_office, btrim(coalesce(p_reason, '')));
    RETURN 'moved';
END
$$;
