-- Appointments (issue 16): a booked time at an office instead of the walk-in queue. The
-- offices are 0019's; each office that takes appointments has its booking settings
-- (seats, slot length, horizon, per-person limit), opening hours per weekday and
-- closures. Double booking is impossible by construction: an exclusion constraint over
-- (office, seat, time range) for the live states. Every change of state is made by one
-- function, appointment_move, from the table of legal transitions. See
-- backend/README.md, "Appointments".

-- The exclusion constraint compares uuid and integer with = inside a GiST index.
-- btree_gist is a trusted extension (PostgreSQL 13+): the database's owner, who
-- migrates, may create it; the app role never needs to.
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- ==== An office's booking settings, hours and closures (configuration, by the owner) ====

CREATE TABLE office_booking (
    office_id uuid PRIMARY KEY REFERENCES offices,
    seats integer NOT NULL DEFAULT 1 CHECK (seats BETWEEN 1 AND 50), -- desks serving at once
    slot_minutes integer NOT NULL DEFAULT 15 CHECK (slot_minutes BETWEEN 5 AND 240),
    horizon_days integer NOT NULL DEFAULT 30 CHECK (horizon_days BETWEEN 1 AND 366),
    -- live appointments one person may hold at once (across offices)
    person_limit integer NOT NULL DEFAULT 2 CHECK (person_limit BETWEEN 1 AND 20),
    hold_minutes integer NOT NULL DEFAULT 15 CHECK (hold_minutes BETWEEN 1 AND 60),
    -- a booked person not checked in this long after the start may be marked no-show
    grace_minutes integer NOT NULL DEFAULT 15 CHECK (grace_minutes BETWEEN 0 AND 120)
);
GRANT SELECT ON office_booking TO carefact_app;

-- Opening hours in the region's local time; a lunch break is two rows of one weekday.
CREATE TABLE office_hours (
    office_id uuid NOT NULL REFERENCES office_booking,
    isodow integer NOT NULL CHECK (isodow BETWEEN 1 AND 7), -- 1 Monday .. 7 Sunday
    opens time NOT NULL,
    closes time NOT NULL CHECK (opens < closes),
    PRIMARY KEY (office_id, isodow, opens)
);
GRANT SELECT ON office_hours TO carefact_app;

-- Days an office is closed (repairs, a power cut), with the reason people are told. A
-- holiday of the region's calendar (0019's calendar_days, working = false) closes every
-- office of the region too.
CREATE TABLE office_closures (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    office_id uuid NOT NULL REFERENCES office_booking,
    days daterange NOT NULL CHECK (NOT isempty(days) AND NOT lower_inf(days)
                                   AND NOT upper_inf(days)),
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 300),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX office_closures_office ON office_closures USING gist (office_id, days);
GRANT SELECT, INSERT ON office_closures TO carefact_app;

-- The slots of an office on a local day: every opening period cut into slot_minutes,
-- as instants in the region's time zone. No row when the office takes no appointments
-- or is not open that weekday.
CREATE FUNCTION office_slots(p_office uuid, p_day date)
RETURNS TABLE (starts timestamptz, ends timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT (p_day + h.opens + i * make_interval(mins => b.slot_minutes)) AT TIME ZONE r.timezone,
           (p_day + h.opens + (i + 1) * make_interval(mins => b.slot_minutes)) AT TIME ZONE r.timezone
    FROM office_booking b
    JOIN offices o ON o.id = b.office_id
    JOIN regions r ON r.id = o.region_id
    JOIN office_hours h ON h.office_id = b.office_id AND h.isodow = extract(isodow FROM p_day)
    CROSS JOIN LATERAL generate_series(
        0, (extract(epoch FROM h.closes - h.opens)::integer / 60) / b.slot_minutes - 1) i
    WHERE b.office_id = p_office
    ORDER BY 1
$$;

-- Why an office is closed on a local day (a closure's reason, or the region's holiday),
-- or NULL when it is not.
CREATE FUNCTION office_closed(p_office uuid, p_day date) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT c.reason FROM office_closures c
         WHERE c.office_id = p_office AND c.days @> p_day ORDER BY c.created_at LIMIT 1),
        (SELECT coalesce(nullif(d.note, ''), 'праздничный день')
         FROM calendar_days d JOIN offices o ON o.region_id = d.region_id
         WHERE o.id = p_office AND d.day = p_day AND NOT d.working))
$$;

-- ==== Appointments ====

CREATE TABLE appointments (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    office_id uuid NOT NULL REFERENCES office_booking,
    region_id uuid NOT NULL REFERENCES regions,
    seat integer NOT NULL CHECK (seat >= 1),
    during tstzrange NOT NULL CHECK (NOT isempty(during) AND lower_inc(during)
                                     AND NOT upper_inc(during)),
    kind text NOT NULL CHECK (kind IN ('document_check', 'consultation', 'home_survey',
                                       'aid_handover', 'aid_return')),
    state text NOT NULL CHECK (state IN ('held', 'booked', 'checked_in', 'in_service', 'served',
                                         'left_unserved', 'no_show', 'cancelled',
                                         'rescheduled', 'expired')),
    hold_until timestamptz, -- a hold's end (state held)
    channel text NOT NULL CHECK (channel IN ('web', 'phone', 'desk')),
    -- the person: 'tel:7XXXXXXXXXX' (a normalised phone) or 'person:<uuid>'; '' on a hold
    person_key text NOT NULL DEFAULT '' CHECK (person_key ~ '^(|tel:[0-9]{11}|person:[0-9a-f-]{36})$'),
    person_name text NOT NULL DEFAULT '' CHECK (length(person_name) <= 200),
    phone text NOT NULL DEFAULT '' CHECK (length(phone) <= 40),
    -- SHA-256 of the secret the citizen's page holds (cancel, confirm)
    secret_hash bytea NOT NULL CHECK (length(secret_hash) = 32),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    booked_at timestamptz,
    checked_in_at timestamptz,
    service_started_at timestamptz,
    finished_at timestamptz,
    cancelled_at timestamptz,
    reason text NOT NULL DEFAULT '' CHECK (length(reason) <= 1000),
    rescheduled_to uuid REFERENCES appointments,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((state = 'held') = (hold_until IS NOT NULL)),
    -- Double booking is impossible: two live appointments of one seat of one office
    -- never overlap in time. The predicate cannot use now(), so a hold past its end
    -- still occupies its seat until appointment_expire_holds marks it expired — which
    -- appointment_take calls first, in the same transaction, for the office it books.
    CONSTRAINT appointments_no_double_booking EXCLUDE USING gist
        (office_id WITH =, seat WITH =, during WITH &&)
        WHERE (state IN ('held', 'booked', 'checked_in', 'in_service'))
);
CREATE INDEX appointments_office_day ON appointments (office_id, lower(during));
CREATE INDEX appointments_held ON appointments (office_id, hold_until) WHERE state = 'held';
CREATE INDEX appointments_person ON appointments (person_key) WHERE person_key <> '';
-- Who sees an appointment: the same rule as an application (0019): oversight every one,
-- the front office its office's, the back office its region's.
ALTER TABLE appointments ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_office ON appointments USING (application_visible(office_id, region_id));
-- Changed only through appointment_take, appointment_confirm, appointment_move.
GRANT SELECT, INSERT, UPDATE ON appointments TO carefact_app;

-- Does an appointment in this state occupy its seat now? A hold only until its end.
-- The free slots, the per-person limit and the expiry use this one rule.
CREATE FUNCTION appointment_live(p_state text, p_hold_until timestamptz) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT p_state IN ('booked', 'checked_in', 'in_service')
        OR (p_state = 'held' AND p_hold_until > now())
$$;

-- Mark the office's holds past their end expired (they stop counting for the exclusion
-- constraint). Called before every booking of the office; the count it returns is for
-- the log.
CREATE FUNCTION appointment_expire_holds(p_office uuid) RETURNS integer
LANGUAGE sql AS $$
    WITH gone AS (
        UPDATE appointments SET state = 'expired', hold_until = NULL, updated_at = now()
        WHERE office_id = p_office AND state = 'held' AND NOT appointment_live(state, hold_until)
        RETURNING 1)
    SELECT count(*)::integer FROM gone
$$;

-- The live appointments of a person still to come, across every office. SECURITY
-- DEFINER (as the owner, past row-level security) because the limit is the person's,
-- not the office's: an intake booking on the phone sees only its office's rows, yet
-- must count the person's others. It returns a count, nothing of the rows.
CREATE FUNCTION appointment_person_live(p_key text) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT count(*)::integer FROM appointments a
    WHERE a.person_key = p_key AND appointment_live(a.state, a.hold_until)
      AND upper(a.during) > now()
$$;

-- Why the slot starting at p_start cannot be booked at office p_office, or NULL when it
-- can: 'no_office' (no booking there), 'not_a_slot' (not a start of the day's slots),
-- 'past', 'beyond_horizon' (later than horizon_days after the region's today), 'closed'.
CREATE FUNCTION appointment_refusal(p_office uuid, p_start timestamptz) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    b office_booking;
    tz text;
    day date;
BEGIN
    SELECT * INTO b FROM office_booking WHERE office_id = p_office;
    IF NOT FOUND THEN
        RETURN 'no_office';
    END IF;
    SELECT r.timezone INTO tz FROM offices o JOIN regions r ON r.id = o.region_id
    WHERE o.id = p_office;
    day := (p_start AT TIME ZONE tz)::date;
    IF NOT EXISTS (SELECT 1 FROM office_slots(p_office, day) s WHERE s.starts = p_start) THEN
        RETURN 'not_a_slot';
    END IF;
    IF p_start <= now() THEN
        RETURN 'past';
    END IF;
    IF day > (now() AT TIME ZONE tz)::date + b.horizon_days THEN
        RETURN 'beyond_horizon';
    END IF;
    IF office_closed(p_office, day) IS NOT NULL THEN
        RETURN 'closed';
    END IF;
    RETURN NULL;
END
$$;

-- Take the slot at p_start of office p_office: a hold (p_booked false, for the office's
-- hold_minutes) or a booking for the person p_key (a phone call, the desk). The lowest
-- free seat; the exclusion constraint decides between concurrent takers (the loser's
-- insert waits for the winner's commit, then fails and tries the next seat). Returns
-- the outcome — 'taken', a refusal of appointment_refusal, 'limit' (the person holds
-- person_limit live appointments), 'full' — and the new appointment's id.
CREATE FUNCTION appointment_take(p_office uuid, p_start timestamptz, p_kind text,
                                 p_booked boolean, p_key text, p_name text, p_phone text,
                                 p_channel text, p_actor text, p_secret_hash bytea)
RETURNS TABLE (outcome text, appointment_id uuid) LANGUAGE plpgsql AS $$
DECLARE
    b office_booking;
    refusal text := appointment_refusal(p_office, p_start);
    region uuid;
    new_id uuid;
BEGIN
    IF refusal IS NOT NULL THEN
        RETURN QUERY SELECT refusal, NULL::uuid;
        RETURN;
    END IF;
    SELECT * INTO b FROM office_booking WHERE office_id = p_office;
    SELECT o.region_id INTO region FROM offices o WHERE o.id = p_office;
    PERFORM appointment_expire_holds(p_office);
    IF p_key <> '' THEN
        -- one person's bookings take turns, so two at once cannot both pass the limit
        PERFORM pg_advisory_xact_lock(hashtextextended('appointment-person:' || p_key, 0));
        IF appointment_person_live(p_key) >= b.person_limit THEN
            RETURN QUERY SELECT 'limit'::text, NULL::uuid;
            RETURN;
        END IF;
    END IF;
    FOR s IN 1 .. b.seats LOOP
        BEGIN
            INSERT INTO appointments (office_id, region_id, seat, during, kind, state, hold_until,
                                      channel, person_key, person_name, phone, secret_hash,
                                      created_by, booked_at)
            VALUES (p_office, region, s,
                    tstzrange(p_start, p_start + make_interval(mins => b.slot_minutes), '[)'),
                    p_kind, CASE WHEN p_booked THEN 'booked' ELSE 'held' END,
                    CASE WHEN p_booked THEN NULL
                         ELSE now() + make_interval(mins => b.hold_minutes) END,
                    p_channel, p_key, p_name, p_phone, p_secret_hash, p_actor,
                    CASE WHEN p_booked THEN now() END)
            RETURNING id INTO new_id;
            RETURN QUERY SELECT 'taken'::text, new_id;
            RETURN;
        EXCEPTION WHEN exclusion_violation THEN
            NULL; -- this seat is taken at that time: the next one
        END;
    END LOOP;
    RETURN QUERY SELECT 'full'::text, NULL::uuid;
END
$$;

-- The legal transitions of an appointment and whether each needs a reason. A hold is
-- confirmed (booked) by appointment_confirm, which names the person.
CREATE TABLE appointment_transitions (
    from_state text NOT NULL,
    to_state text NOT NULL,
    reason_required boolean NOT NULL,
    PRIMARY KEY (from_state, to_state)
);
INSERT INTO appointment_transitions VALUES
    ('held', 'booked', false),
    ('held', 'cancelled', false),
    ('booked', 'checked_in', false),
    ('booked', 'cancelled', true),
    ('booked', 'no_show', false),
    ('booked', 'rescheduled', false),
    ('checked_in', 'in_service', false),
    ('checked_in', 'left_unserved', false),
    ('in_service', 'served', false),
    ('in_service', 'left_unserved', false);
GRANT SELECT ON appointment_transitions TO carefact_app;

-- Move appointment p_id to p_to for p_reason. The one way its state changes. Returns
-- 'moved', 'not_found' (not visible), 'expired' (a hold past its end), 'illegal' (no
-- such transition), 'reason' (one is required), 'too_early' (a no-show before the start
-- plus the office's grace). Sets the time of each step (waiting = service_started_at -
-- checked_in_at; service = finished_at - service_started_at).
CREATE FUNCTION appointment_move(p_id uuid, p_to text, p_reason text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    a appointments;
    t appointment_transitions;
    grace integer;
BEGIN
    SELECT * INTO a FROM appointments WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'not_found';
    END IF;
    IF a.state = 'held' AND NOT appointment_live(a.state, a.hold_until) THEN
        RETURN 'expired';
    END IF;
    SELECT * INTO t FROM appointment_transitions WHERE from_state = a.state AND to_state = p_to;
    IF NOT FOUND THEN
        RETURN 'illegal';
    END IF;
    IF t.reason_required AND btrim(coalesce(p_reason, '')) = '' THEN
        RETURN 'reason';
    END IF;
    SELECT b.grace_minutes INTO grace FROM office_booking b WHERE b.office_id = a.office_id;
    IF p_to = 'no_show' AND now() < lower(a.during) + make_interval(mins => grace) THEN
        RETURN 'too_early';
    END IF;
    UPDATE appointments SET
        state = p_to,
        hold_until = NULL,
        updated_at = now(),
        booked_at = CASE WHEN p_to = 'booked' THEN now() ELSE booked_at END,
        checked_in_at = CASE WHEN p_to = 'checked_in' THEN now() ELSE checked_in_at END,
        service_started_at = CASE WHEN p_to = 'in_service' THEN now() ELSE service_started_at END,
        finished_at = CASE WHEN p_to IN ('served', 'left_unserved') THEN now() ELSE finished_at END,
        cancelled_at = CASE WHEN p_to = 'cancelled' THEN now() ELSE cancelled_at END,
        reason = CASE WHEN btrim(coalesce(p_reason, '')) <> '' THEN btrim(p_reason) ELSE reason END
    WHERE id = p_id;
    RETURN 'moved';
END
$$;

-- Confirm hold p_id with the person (p_key, name, phone): the per-person limit, then
-- the move to booked. Returns appointment_move's outcomes, or 'limit'.
CREATE FUNCTION appointment_confirm(p_id uuid, p_key text, p_name text, p_phone text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    lim integer;
    outcome text;
BEGIN
    SELECT b.person_limit INTO lim FROM appointments a JOIN office_booking b
        ON b.office_id = a.office_id WHERE a.id = p_id;
    IF NOT FOUND THEN
        RETURN 'not_found';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('appointment-person:' || p_key, 0));
    IF appointment_person_live(p_key) >= lim THEN
        RETURN 'limit';
    END IF;
    outcome := appointment_move(p_id, 'booked', '');
    IF outcome = 'moved' THEN
        UPDATE appointments SET person_key = p_key, person_name = p_name, phone = p_phone
        WHERE id = p_id;
    END IF;
    RETURN outcome;
END
$$;

-- Move booked appointment p_id to the slot at p_start (same office, kind, person and
-- secret): the old one becomes 'rescheduled' and links to the new one. Returns
-- appointment_move's or appointment_take's outcome and the new id; the caller rolls
-- back unless the outcome is 'taken'.
CREATE FUNCTION appointment_reschedule(p_id uuid, p_start timestamptz, p_actor text)
RETURNS TABLE (outcome text, appointment_id uuid) LANGUAGE plpgsql AS $$
DECLARE
    a appointments;
    moved text;
    taken record;
BEGIN
    SELECT * INTO a FROM appointments WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::uuid;
        RETURN;
    END IF;
    moved := appointment_move(p_id, 'rescheduled', '');
    IF moved <> 'moved' THEN
        RETURN QUERY SELECT moved, NULL::uuid;
        RETURN;
    END IF;
    SELECT * INTO taken FROM appointment_take(a.office_id, p_start, a.kind, true, a.person_key,
                                              a.person_name, a.phone, a.channel, p_actor,
                                              a.secret_hash);
    IF taken.outcome = 'taken' THEN
        UPDATE appointments SET rescheduled_to = taken.appointment_id WHERE id = p_id;
    END IF;
    RETURN QUERY SELECT taken.outcome, taken.appointment_id;
END
$$;

-- ==== Closures move appointments; people are told through the outbox ====

-- Messages to people (SMS), written in the transaction that decided them and sent after
-- it by carefactd's sender (src/appointments/outbox.c) through a pluggable transport.
-- A message is claimed with FOR UPDATE SKIP LOCKED, sent, and marked sent in the same
-- transaction, with its id as the gateway's idempotency key: a crash between the
-- gateway's answer and the COMMIT sends it again under the same id, which the gateway
-- (and the tests' receiver) takes once. One message per appointment and kind.
CREATE TABLE outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    office_id uuid NOT NULL REFERENCES office_booking,
    region_id uuid NOT NULL REFERENCES regions,
    appointment_id uuid NOT NULL REFERENCES appointments,
    kind text NOT NULL CHECK (kind IN ('moved', 'cancelled', 'reminder')),
    phone text NOT NULL CHECK (length(phone) BETWEEN 1 AND 40),
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 1000),
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    last_error text NOT NULL DEFAULT '' CHECK (length(last_error) <= 500),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (appointment_id, kind)
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at, id) WHERE state = 'pending';
ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_office ON outbox USING (application_visible(office_id, region_id));
GRANT SELECT, INSERT, UPDATE ON outbox TO carefact_app;

-- The phone a message goes to: the normalised number when the person is keyed by it.
CREATE FUNCTION appointment_phone(p_key text, p_phone text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_key LIKE 'tel:%' THEN '+' || substr(p_key, 5) ELSE p_phone END
$$;

-- An appointment's start as people read it: "07.12 в 09:00", the region's local time.
CREATE FUNCTION appointment_when(p_start timestamptz, p_region uuid) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT to_char(p_start AT TIME ZONE r.timezone, 'DD.MM "в" HH24:MI')
    FROM regions r WHERE r.id = p_region
$$;

-- Close office p_office from p_from to p_to (local dates, both included) for p_reason.
-- Each booked appointment of those days moves to the first free slot after the closure
-- (within the horizon; the person, kind and secret kept, appointment_reschedule), or is
-- cancelled when there is none; holds of those days are cancelled (nobody to tell yet).
-- Each person is told through the outbox. Returns the closure's id and the counts.
CREATE FUNCTION office_close(p_office uuid, p_from date, p_to date, p_reason text, p_actor text)
RETURNS TABLE (closure_id uuid, moved integer, cancelled integer)
LANGUAGE plpgsql AS $$
DECLARE
    b office_booking;
    tz text;
    region uuid;
    c uuid;
    a appointments;
    cand timestamptz;
    r record;
    done boolean;
    n_moved integer := 0;
    n_cancelled integer := 0;
    office_name text;
BEGIN
    SELECT * INTO b FROM office_booking WHERE office_id = p_office;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT rg.timezone, o.region_id, o.name INTO tz, region, office_name
    FROM offices o JOIN regions rg ON rg.id = o.region_id WHERE o.id = p_office;
    INSERT INTO office_closures (office_id, days, reason)
    VALUES (p_office, daterange(p_from, p_to, '[]'), btrim(p_reason)) RETURNING id INTO c;
    PERFORM appointment_expire_holds(p_office);
    UPDATE appointments SET state = 'cancelled', hold_until = NULL, cancelled_at = now(),
                            reason = btrim(p_reason), updated_at = now()
    WHERE office_id = p_office AND state = 'held'
      AND lower(during) >= p_from::timestamp AT TIME ZONE tz
      AND lower(during) < (p_to + 1)::timestamp AT TIME ZONE tz;
    FOR a IN SELECT * FROM appointments
             WHERE office_id = p_office AND state = 'booked'
               AND lower(during) >= p_from::timestamp AT TIME ZONE tz
               AND lower(during) < (p_to + 1)::timestamp AT TIME ZONE tz
             ORDER BY lower(during), seat FOR UPDATE
    LOOP
        done := false;
        FOR cand IN
            SELECT s.starts
            FROM generate_series(p_to + 1, (now() AT TIME ZONE tz)::date + b.horizon_days,
                                 interval '1 day') d,
                 office_slots(p_office, d::date) s
            WHERE appointment_refusal(p_office, s.starts) IS NULL
              AND (SELECT count(*) FROM appointments x
                   WHERE x.office_id = p_office
                     AND x.during && tstzrange(s.starts, s.ends, '[)')
                     AND appointment_live(x.state, x.hold_until)) < b.seats
            ORDER BY s.starts LIMIT 10
        LOOP
            BEGIN
                SELECT * INTO r FROM appointment_reschedule(a.id, cand, p_actor);
                IF r.outcome <> 'taken' THEN
                    RAISE EXCEPTION 'slot gone' USING ERRCODE = 'P0001'; -- undo, try the next
                END IF;
                INSERT INTO outbox (office_id, region_id, appointment_id, kind, phone, body)
                VALUES (p_office, region, a.id, 'moved', appointment_phone(a.person_key, a.phone),
                        office_name || ': ' || p_reason || '. Ваша запись на '
                        || appointment_when(lower(a.during), region) || ' перенесена на '
                        || appointment_when(cand, region) || '.');
                done := true;
                n_moved := n_moved + 1;
                EXIT;
            EXCEPTION WHEN raise_exception THEN
                NULL;
            END;
        END LOOP;
        IF NOT done THEN
            PERFORM appointment_move(a.id, 'cancelled', p_reason);
            INSERT INTO outbox (office_id, region_id, appointment_id, kind, phone, body)
            VALUES (p_office, region, a.id, 'cancelled', appointment_phone(a.person_key, a.phone),
                    office_name || ': ' || p_reason || '. Ваша запись на '
                    || appointment_when(lower(a.during), region)
                    || ' отменена: свободного времени нет, запишитесь снова.');
            n_cancelled := n_cancelled + 1;
        END IF;
    END LOOP;
    RETURN QUERY SELECT c, n_moved, n_cancelled;
END
$$;

-- ==== Reminders the day before ====

CREATE INDEX appointments_booked_start ON appointments (lower(during)) WHERE state = 'booked';

-- Write the reminders due at p_now: one per booked appointment of the next local day of
-- its region, from 10:00 local time the day before (one booked after that is reminded at
-- the next pass). Once per appointment (the outbox's unique key); a rescheduled
-- appointment's new one has its own. The outbox sender calls it before every pass.
-- Returns how many it wrote.
CREATE FUNCTION appointment_remind(p_now timestamptz) RETURNS integer
LANGUAGE sql AS $$
    WITH due AS (
        INSERT INTO outbox (office_id, region_id, appointment_id, kind, phone, body)
        SELECT a.office_id, a.region_id, a.id, 'reminder', appointment_phone(a.person_key, a.phone),
               o.name || ': напоминаем о записи ' || appointment_when(lower(a.during), a.region_id)
               || coalesce(', ' || nullif(o.address, ''), '') || ', окно ' || a.seat || '.'
        FROM appointments a
        JOIN offices o ON o.id = a.office_id
        JOIN regions r ON r.id = a.region_id
        WHERE a.state = 'booked'
          AND lower(a.during) > p_now AND lower(a.during) < p_now + interval '2 days'
          AND (lower(a.during) AT TIME ZONE r.timezone)::date
              = (p_now AT TIME ZONE r.timezone)::date + 1
          AND (p_now AT TIME ZONE r.timezone)::time >= time '10:00'
        ON CONFLICT (appointment_id, kind) DO NOTHING
        RETURNING 1)
    SELECT count(*)::integer FROM due
$$;
