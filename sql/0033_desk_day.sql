-- The desk's day (issue 16): which terminals are an office's desk, people booked by phone
-- checked in by staff (who, and how the person was identified), the check-in exceptions
-- for review, the citizen reading the answer to their complaint (a number and a code), and
-- the comparison page's query served from an index. See backend/README.md,
-- "Appointments" and "Complaints".

-- ==== Desk terminals ====

-- A terminal assigned to an office as its desk: an appointment.checked_in it signs checks
-- in that office's appointments, and only those. One office per device (a terminal stands
-- at one desk); a terminal is any enrolled device (a worker's handset taken to the desk
-- included), assigned by the office's intake lead or an admin.
CREATE TABLE desk_terminals (
    device_id uuid PRIMARY KEY REFERENCES devices,
    office_id uuid NOT NULL REFERENCES offices,
    region_id uuid NOT NULL REFERENCES regions,
    assigned_by text NOT NULL CHECK (length(assigned_by) BETWEEN 1 AND 200),
    assigned_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX desk_terminals_office ON desk_terminals (office_id);
ALTER TABLE desk_terminals ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_office ON desk_terminals USING (application_visible(office_id, region_id));
GRANT SELECT, INSERT, DELETE ON desk_terminals TO carefact_app;

-- Is device p_device a desk of office p_office? The one rule the check-in applies.
CREATE FUNCTION desk_terminal_of(p_device uuid, p_office uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT EXISTS (SELECT 1 FROM desk_terminals d
                   WHERE d.device_id = p_device AND d.office_id = p_office)
$$;

-- Assign device p_device to office p_office as its desk, by p_actor. 'assigned' (or
-- already so), 'no_office', 'no_device' (no active device has this id), 'elsewhere' (the desk of
-- another office: remove it there first). SECURITY DEFINER: the front office sees no
-- provider's devices, and a device's other office is not the caller's to see; it
-- answers an outcome, nothing of the rows. The caller's own office is checked by
-- carefactd (and the insert is the caller's: row-level security applies to it).
CREATE FUNCTION desk_terminal_assign(p_office uuid, p_device uuid, p_actor text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    current uuid;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM offices WHERE id = p_office) THEN
        RETURN 'no_office';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM devices WHERE id = p_device AND status = 'active') THEN
        RETURN 'no_device';
    END IF;
    SELECT office_id INTO current FROM desk_terminals WHERE device_id = p_device;
    IF FOUND THEN
        RETURN CASE WHEN current = p_office THEN 'assigned' ELSE 'elsewhere' END;
    END IF;
    INSERT INTO desk_terminals (device_id, office_id, region_id, assigned_by)
    SELECT p_device, o.id, o.region_id, p_actor FROM offices o WHERE o.id = p_office;
    RETURN 'assigned';
END
$$;

-- ==== Check-in: by card at a desk, by staff at the desk ====

-- How a person was found to be the one booked: 'card' (their card tapped at the office's
-- desk terminal: proof, its level in check_in_level), or by the desk's staff for a person
-- booked by phone with no card the appointment knows: 'passport' (a passport shown),
-- 'document_digits' (the last 4 digits of a document's number, kept), 'known_to_staff'.
-- NULL for check-ins made before 0033 by the desk's button. Who checked them in:
-- check_in_by (the staff's login; NULL for a card).
ALTER TABLE appointments ADD COLUMN check_in_method text
                             CHECK (check_in_method IN ('card', 'passport', 'document_digits',
                                                        'known_to_staff')),
                         ADD COLUMN check_in_by text CHECK (length(check_in_by) <= 200),
                         ADD COLUMN check_in_document_digits text
                             CHECK (check_in_document_digits ~ '^[0-9]{4}$'),
                         ADD CONSTRAINT appointments_check_in_digits
                             CHECK ((check_in_method = 'document_digits')
                                    = (check_in_document_digits IS NOT NULL));
UPDATE appointments SET check_in_method = 'card' WHERE check_in_device IS NOT NULL;

-- Is a staff check-in's identification complete? The method one of the staff's, and
-- the document's last 4 digits given exactly when the method is document_digits.
CREATE FUNCTION check_in_identified(p_method text, p_digits text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(p_method IN ('passport', 'document_digits', 'known_to_staff')
                    AND (p_method = 'document_digits') = (coalesce(p_digits, '') ~ '^[0-9]{4}$')
                    AND (p_method = 'document_digits' OR coalesce(p_digits, '') = ''), false)
$$;

-- Check appointment p_id in at the desk by p_actor, the person identified by p_method
-- (p_digits for document_digits, else ''). appointment_move's outcomes, or
-- 'identification' when check_in_identified refuses it.
CREATE FUNCTION appointment_staff_check_in(p_id uuid, p_method text, p_digits text,
                                           p_actor text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    outcome text;
BEGIN
    IF NOT check_in_identified(p_method, p_digits) THEN
        RETURN 'identification';
    END IF;
    outcome := appointment_move(p_id, 'checked_in', '');
    IF outcome = 'moved' THEN
        UPDATE appointments SET check_in_method = p_method, check_in_by = p_actor,
                                check_in_document_digits = nullif(p_digits, '')
        WHERE id = p_id;
    END IF;
    RETURN outcome;
END
$$;

-- A card tap that checked nothing in and someone must look at: 'not_desk' (it matched a
-- booked appointment, but the terminal is not a desk of that appointment's office: not a
-- check-in — a worker's handset elsewhere, or a terminal moved without being assigned),
-- 'no_appointment' (a desk terminal's tap that matched no booked appointment of the
-- person near that time). Written by appointment_card_check_ins, once per event;
-- resolved by a person: 'accepted' (the not_desk check-in applied as the tap said, by
-- appointment_exception_resolve) or 'dismissed'.
CREATE TABLE desk_check_in_exceptions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    office_id uuid NOT NULL REFERENCES offices,
    region_id uuid NOT NULL REFERENCES regions,
    device_id uuid NOT NULL,
    seq bigint NOT NULL,
    appointment_id uuid REFERENCES appointments,
    reason text NOT NULL CHECK (reason IN ('not_desk', 'no_appointment')),
    tapped_at timestamptz NOT NULL,
    card_level text CHECK (card_level IN ('none', 'uid', 'static', 'dynamic')),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    resolution text CHECK (resolution IN ('accepted', 'dismissed')),
    resolved_by text CHECK (length(resolved_by) <= 200),
    resolved_at timestamptz,
    note text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    UNIQUE (device_id, seq),
    CHECK (reason = 'no_appointment' OR appointment_id IS NOT NULL),
    CHECK ((resolution IS NULL) = (resolved_at IS NULL))
);
CREATE INDEX desk_check_in_exceptions_office ON desk_check_in_exceptions (office_id, tapped_at);
ALTER TABLE desk_check_in_exceptions ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_office ON desk_check_in_exceptions
    USING (application_visible(office_id, region_id));
GRANT SELECT, UPDATE ON desk_check_in_exceptions TO carefact_app;

-- 0028's, with the desk rule: the appointment a card tap matches is checked in only when
-- the tapping device is a desk of that appointment's office (desk_terminal_of); otherwise
-- the tap is a 'not_desk' exception of that office for review. A desk's tap that matches
-- nothing is a 'no_appointment' exception of the desk's office; a tap of a device that is
-- no desk and matches nothing concerns no office (the event stays in the chain). Replays
-- write nothing twice (one exception per event).
CREATE OR REPLACE FUNCTION appointment_card_check_ins(p_device uuid, p_after bigint,
                                                      p_last bigint)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    e record;
    target uuid;
    office uuid;
    n integer := 0;
BEGIN
    FOR e IN SELECT ev.seq, ev.card_token, least(ev.wall_time, now()) AS at,
                    card_assurance(ev.card_method, ev.card_proof_level) AS level
             FROM events ev
             WHERE ev.device_id = p_device AND ev.seq > p_after AND ev.seq <= p_last
               AND ev.received_at = now() -- this upload's: one partition (sql/0014)
               AND ev.kind = 'appointment.checked_in'
             ORDER BY ev.seq
    LOOP
        target := appointment_for_card(e.card_token, e.at);
        IF target IS NULL THEN
            INSERT INTO desk_check_in_exceptions (office_id, region_id, device_id, seq, reason,
                                                  tapped_at, card_level)
            SELECT d.office_id, d.region_id, p_device, e.seq, 'no_appointment', e.at, e.level
            FROM desk_terminals d WHERE d.device_id = p_device
            ON CONFLICT (device_id, seq) DO NOTHING;
            CONTINUE;
        END IF;
        SELECT a.office_id INTO office FROM appointments a WHERE a.id = target;
        IF NOT desk_terminal_of(p_device, office) THEN
            INSERT INTO desk_check_in_exceptions (office_id, region_id, device_id, seq,
                                                  appointment_id, reason, tapped_at, card_level)
            SELECT a.office_id, a.region_id, p_device, e.seq, a.id, 'not_desk', e.at, e.level
            FROM appointments a WHERE a.id = target
            ON CONFLICT (device_id, seq) DO NOTHING;
            CONTINUE;
        END IF;
        IF appointment_move(target, 'checked_in', '') = 'moved' THEN
            UPDATE appointments SET checked_in_at = e.at, check_in_device = p_device,
                                    check_in_seq = e.seq, check_in_level = e.level,
                                    check_in_method = 'card'
            WHERE id = target;
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END
$$;

-- Resolve check-in exception p_id by p_actor: 'accepted' applies a not_desk tap as the
-- check-in it would have been (at the tap's time, by card, with its level; the reviewer
-- vouches for the terminal), 'dismissed' only closes it. Returns 'resolved',
-- 'not_found' (not visible), 'resolved_already', 'not_acceptable' (accepting a tap that
-- matched nothing), or appointment_move's outcome when the appointment cannot be checked
-- in any more (the caller rolls back).
CREATE FUNCTION desk_exception_resolve(p_id uuid, p_resolution text, p_note text,
                                       p_actor text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    x desk_check_in_exceptions;
    moved text;
BEGIN
    SELECT * INTO x FROM desk_check_in_exceptions WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'not_found';
    END IF;
    IF x.resolution IS NOT NULL THEN
        RETURN 'resolved_already';
    END IF;
    IF p_resolution = 'accepted' THEN
        IF x.reason <> 'not_desk' THEN
            RETURN 'not_acceptable';
        END IF;
        moved := appointment_move(x.appointment_id, 'checked_in', '');
        IF moved <> 'moved' THEN
            RETURN moved;
        END IF;
        UPDATE appointments SET checked_in_at = x.tapped_at, check_in_device = x.device_id,
                                check_in_seq = x.seq, check_in_level = x.card_level,
                                check_in_method = 'card', check_in_by = p_actor
        WHERE id = x.appointment_id;
    END IF;
    UPDATE desk_check_in_exceptions SET resolution = p_resolution, resolved_by = p_actor,
                                        resolved_at = now(), note = btrim(coalesce(p_note, ''))
    WHERE id = p_id;
    RETURN 'resolved';
END
$$;

-- ==== The citizen reads the answer to their complaint ====

-- Every complaint has a number people can say on the phone ("Ж-000042"), and the citizen
-- who filed it (the public page), or was told it (the phone desk reads it to them), a
-- secret code of 10 digits kept as SHA-256 (like an application's): number and code
-- together show the complaint's state, due day and answer on the public page. A
-- complaint opened by a low rating has no code until staff issue one.
CREATE SEQUENCE complaint_number_seq;
GRANT USAGE ON SEQUENCE complaint_number_seq TO carefact_app;

-- The number of the n-th complaint: "Ж-" and n in at least 6 digits (Ж-000042,
-- Ж-1234567). carefactd reads what people type back into this form.
CREATE FUNCTION complaint_number(n bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT 'Ж-' || CASE WHEN n < 1000000 THEN lpad(n::text, 6, '0') ELSE n::text END
$$;

ALTER TABLE complaints ADD COLUMN number text, ADD COLUMN code_hash bytea
    CHECK (code_hash IS NULL OR length(code_hash) = 32);
UPDATE complaints c SET number = complaint_number(o.n)
FROM (SELECT id, nextval('complaint_number_seq') AS n
      FROM (SELECT id FROM complaints ORDER BY opened_at, id) ordered) o
WHERE o.id = c.id;
ALTER TABLE complaints
    ALTER COLUMN number SET DEFAULT complaint_number(nextval('complaint_number_seq')),
    ALTER COLUMN number SET NOT NULL,
    ADD CONSTRAINT complaints_number_unique UNIQUE (number);

-- What the citizen with complaint p_number's code (p_code_hash, SHA-256) may read: its
-- state, when it opened, the due day and whether that passed, the cause's label, and
-- the answer once given; nothing of who complained, about whom, or what they wrote.
-- NULL unless both match.
CREATE FUNCTION complaint_public_status(p_number text, p_code_hash bytea) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'number', c.number, 'state', c.state,
        'opened_on', (c.opened_at AT TIME ZONE r.timezone)::date, 'due', c.due,
        'overdue', complaint_overdue(c.state, c.due, (now() AT TIME ZONE r.timezone)::date),
        'cause_label', k.label,
        'answer', CASE WHEN c.state IN ('answered', 'closed') THEN c.answer END,
        'answered_at', CASE WHEN c.state IN ('answered', 'closed') THEN c.answered_at END)
    FROM complaints c
    JOIN regions r ON r.id = c.region_id
    JOIN complaint_causes k ON k.code = c.cause
    WHERE c.number = p_number AND c.code_hash IS NOT NULL AND c.code_hash = p_code_hash
$$;

-- ==== The comparison page without its cache ====

-- provider_comparison reads, for one region's local month, every ended visit's provider,
-- confirmation, rating, start and plan: at a million visits the visits of a month sit on
-- ~80,000 heap pages scattered by sort_at among the year's, and their heap fetches were
-- most of the query. This index holds exactly those columns for the visits it counts, so
-- the month is an index-only range scan (the visibility map is current after autovacuum).
CREATE INDEX visits_comparison ON visits (sort_at)
    INCLUDE (provider_id, start_confirmed, end_confirmed, rating, started_at, plan_id)
    WHERE state IN ('ended', 'rated');

-- 0027's provider_comparison with punctuality compared as instants (started_at within
-- p_minutes of the planned start, both ends included) instead of abs(extract(epoch ...)),
-- a numeric per visit since PostgreSQL 14: the same counts, a sixth less time. The month's
-- rows come from visits_comparison.
CREATE OR REPLACE FUNCTION provider_comparison(p_region uuid, p_from timestamptz,
                                               p_to timestamptz, p_minutes integer)
RETURNS TABLE (provider_id uuid, provider_name text, ended bigint, confirmed bigint,
               rated bigint, satisfied bigint, satisfied_lower double precision,
               planned bigint, punctual bigint)
LANGUAGE sql STABLE AS $$
    WITH v AS (
        SELECT v.provider_id, v.start_confirmed AND v.end_confirmed AS confirmed, v.rating,
               v.started_at, v.plan_id
        FROM visits v JOIN providers p ON p.id = v.provider_id AND p.region_id = p_region
        WHERE v.sort_at >= p_from AND v.sort_at < p_to AND v.state IN ('ended', 'rated')
    ), agg AS (
        SELECT v.provider_id, count(*) AS ended,
               count(*) FILTER (WHERE v.confirmed) AS confirmed,
               count(v.rating) FILTER (WHERE v.confirmed) AS rated,
               count(*) FILTER (WHERE v.confirmed AND v.rating >= 4) AS satisfied,
               count(pl.id) FILTER (WHERE v.confirmed) AS planned,
               count(*) FILTER (WHERE v.confirmed
                   AND v.started_at >= pl.planned_start - make_interval(mins => p_minutes)
                   AND v.started_at <= pl.planned_start + make_interval(mins => p_minutes))
                   AS punctual
        FROM v LEFT JOIN visit_plans pl ON pl.id = v.plan_id
            AND pl.planned_start >= p_from - interval '1 day'
            AND pl.planned_start < p_to + interval '1 day'
        GROUP BY v.provider_id
    )
    SELECT p.id, p.name, coalesce(a.ended, 0), coalesce(a.confirmed, 0), coalesce(a.rated, 0),
           coalesce(a.satisfied, 0), wilson_lower(a.satisfied, a.rated),
           coalesce(a.planned, 0), coalesce(a.punctual, 0)
    FROM providers p LEFT JOIN agg a ON a.provider_id = p.id
    WHERE p.region_id = p_region
    ORDER BY p.name, p.id
$$;
