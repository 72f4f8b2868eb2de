-- The appointment pieces the desk still lacked (issue 16): an office's booking settings
-- and weekly hours set by route (its intake lead or an admin), and a cap on the live
-- holds of one client address on the citizen's page. See backend/README.md,
-- "Appointments".

-- ==== Settings and hours by route ====

-- Is a slot length sensible? 5 to 240 minutes that divide an hour (5, 6, 10, 12, 15, 20,
-- 30, 60) or are whole quarter hours (45, 75, 90 ... 240), so the slots of a day start at
-- times people can read.
CREATE FUNCTION office_slot_minutes_ok(p_minutes integer) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_minutes BETWEEN 5 AND 240 AND (60 % p_minutes = 0 OR p_minutes % 15 = 0)
$$;

-- Set office p_office's booking settings and replace its weekly hours with p_hours (a
-- JSON array of {"weekday" 1..7, "opens", "closes"} in local time, "HH:MM"). Returns
-- 'saved', 'no_office' (no such office), or the field refused: 'slot_minutes' (not
-- sensible), 'horizon_days' (not 1..90), 'hours' (a period not a whole number of slots,
-- closing before it opens, or overlapping another of its weekday). The bounds of seats,
-- person_limit, hold_minutes and grace_minutes are office_booking's own checks. An office
-- without a row takes appointments from now on. Existing appointments keep their time
-- ranges whatever the slot length becomes: the exclusion constraint compares ranges, not
-- slots, so a new slot that overlaps an old appointment's seat goes to another seat or
-- is full.
CREATE FUNCTION office_booking_set(p_office uuid, p_seats integer, p_slot_minutes integer,
                                   p_horizon_days integer, p_person_limit integer,
                                   p_hold_minutes integer, p_grace_minutes integer,
                                   p_hours jsonb)
RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM offices WHERE id = p_office) THEN
        RETURN 'no_office';
    END IF;
    IF NOT office_slot_minutes_ok(p_slot_minutes) THEN
        RETURN 'slot_minutes';
    END IF;
    IF p_horizon_days NOT BETWEEN 1 AND 90 THEN
        RETURN 'horizon_days';
    END IF;
    IF jsonb_typeof(p_hours) <> 'array' OR EXISTS (
        SELECT 1 FROM jsonb_to_recordset(p_hours) h(weekday integer, opens time, closes time)
        WHERE h.weekday IS NULL OR h.weekday NOT BETWEEN 1 AND 7 OR h.opens IS NULL
           OR h.closes IS NULL OR h.closes <= h.opens
           OR (extract(epoch FROM h.closes - h.opens)::integer / 60) % p_slot_minutes <> 0
           OR extract(epoch FROM h.closes - h.opens)::integer % 60 <> 0) THEN
        RETURN 'hours';
    END IF;
    IF EXISTS (
        SELECT 1
        FROM ROWS FROM (jsonb_to_recordset(p_hours) AS (weekday integer, opens time,
                                                        closes time))
             WITH ORDINALITY a(weekday, opens, closes, n)
        JOIN ROWS FROM (jsonb_to_recordset(p_hours) AS (weekday integer, opens time,
                                                        closes time))
             WITH ORDINALITY b(weekday, opens, closes, n)
          ON a.n < b.n AND a.weekday = b.weekday AND a.opens < b.closes AND b.opens < a.closes)
    THEN
        RETURN 'hours';
    END IF;
    INSERT INTO office_booking (office_id, seats, slot_minutes, horizon_days, person_limit,
                                hold_minutes, grace_minutes)
    VALUES (p_office, p_seats, p_slot_minutes, p_horizon_days, p_person_limit, p_hold_minutes,
            p_grace_minutes)
    ON CONFLICT (office_id) DO UPDATE SET
        seats = excluded.seats, slot_minutes = excluded.slot_minutes,
        horizon_days = excluded.horizon_days, person_limit = excluded.person_limit,
        hold_minutes = excluded.hold_minutes, grace_minutes = excluded.grace_minutes;
    DELETE FROM office_hours WHERE office_id = p_office;
    INSERT INTO office_hours (office_id, isodow, opens, closes)
    SELECT p_office, h.weekday, h.opens, h.closes
    FROM jsonb_to_recordset(p_hours) h(weekday integer, opens time, closes time);
    RETURN 'saved';
END
$$;
GRANT INSERT, UPDATE ON office_booking TO carefact_app;
GRANT INSERT, DELETE ON office_hours TO carefact_app;

-- ==== Live holds per client address ====

-- The client address a public hold came from, as SHA-256('hold-address:' || address) (as
-- the login throttle keeps addresses: never the address itself). NULL for the desk's and
-- the phone's bookings.
ALTER TABLE appointments ADD COLUMN hold_address bytea
    CHECK (hold_address IS NULL OR length(hold_address) = 32);
CREATE INDEX appointments_hold_address ON appointments (hold_address, hold_until)
    WHERE state = 'held' AND hold_address IS NOT NULL;

-- The live holds of an address key in every office, and when the first of them ends.
-- SECURITY DEFINER (past row-level security) as appointment_person_live: the cap is the
-- address's, not an office's. It returns a count and an instant, nothing of the rows.
CREATE FUNCTION appointment_address_holds(p_address bytea)
RETURNS TABLE (live integer, first_end timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT count(*)::integer, min(a.hold_until) FROM appointments a
    WHERE a.hold_address = p_address AND a.state = 'held'
      AND appointment_live(a.state, a.hold_until)
$$;

-- appointment_take again (0022's), with the hold's address key as an 11th argument
-- (default NULL: the desk's, the phone's and 0021's callers unchanged). The key goes in
-- with the row: an UPDATE after the insert is checked by the exclusion constraint again,
-- outside the insert's subtransaction, and two takers of one seat then deadlock the one
-- that had won (503), which 0022 took care to avoid.
DROP FUNCTION appointment_take(uuid, timestamptz, text, boolean, text, text, text, text, text,
                               bytea);
CREATE FUNCTION appointment_take(p_office uuid, p_start timestamptz, p_kind text,
                                 p_booked boolean, p_key text, p_name text, p_phone text,
                                 p_channel text, p_actor text, p_secret_hash bytea,
                                 p_hold_address bytea DEFAULT NULL)
RETURNS TABLE (outcome text, appointment_id uuid) LANGUAGE plpgsql AS $$
DECLARE
    b office_booking;
    refusal text := appointment_refusal(p_office, p_start);
    region uuid;
    new_id uuid;
    s integer := 1;
    deadlocks integer := 0;
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
    WHILE s <= b.seats LOOP
        BEGIN
            INSERT INTO appointments (office_id, region_id, seat, during, kind, state, hold_until,
                                      channel, person_key, person_name, phone, secret_hash,
                                      created_by, booked_at, hold_address)
            VALUES (p_office, region, s,
                    tstzrange(p_start, p_start + make_interval(mins => b.slot_minutes), '[)'),
                    p_kind, CASE WHEN p_booked THEN 'booked' ELSE 'held' END,
                    CASE WHEN p_booked THEN NULL
                         ELSE now() + make_interval(mins => b.hold_minutes) END,
                    p_channel, p_key, p_name, p_phone, p_secret_hash, p_actor,
                    CASE WHEN p_booked THEN now() END, p_hold_address)
            RETURNING id INTO new_id;
            RETURN QUERY SELECT 'taken'::text, new_id;
            RETURN;
        EXCEPTION
            WHEN exclusion_violation THEN
                s := s + 1; -- this seat is taken at that time: the next one
            WHEN deadlock_detected THEN
                -- two takers met in the index: this one's row is gone, the other goes on;
                -- try the same seat again (it waits for the other's commit, then knows)
                deadlocks := deadlocks + 1;
                IF deadlocks > 10 THEN
                    RAISE;
                END IF;
        END;
    END LOOP;
    RETURN QUERY SELECT 'full'::text, NULL::uuid;
END
$$;

-- The citizen's hold of the slot at p_start from client address p_address: refused with
-- 'address_limit' and the seconds until the address's first live hold ends when it
-- already holds p_cap live holds; else appointment_take's hold, marked with the address.
-- One address's holds take turns on an advisory lock, so concurrent holds from it cannot
-- pass the cap together; different addresses never wait for each other here (the
-- exclusion constraint alone still decides between them).
CREATE FUNCTION appointment_hold(p_office uuid, p_start timestamptz, p_kind text,
                                 p_address text, p_cap integer, p_secret_hash bytea)
RETURNS TABLE (outcome text, appointment_id uuid, retry_after_s integer)
LANGUAGE plpgsql AS $$
DECLARE
    addr bytea := sha256(convert_to('hold-address:' || p_address, 'UTF8'));
    held record;
    taken record;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('appointment-address:' || encode(addr, 'hex'),
                                                   0));
    SELECT * INTO held FROM appointment_address_holds(addr);
    IF held.live >= p_cap THEN
        RETURN QUERY SELECT 'address_limit'::text, NULL::uuid,
            greatest(1, ceil(extract(epoch FROM held.first_end - now())))::integer;
        RETURN;
    END IF;
    SELECT * INTO taken FROM appointment_take(p_office, p_start, p_kind, false, '', '', '',
                                              'web', 'citizen', p_secret_hash, addr);
    RETURN QUERY SELECT taken.outcome, taken.appointment_id, NULL::integer;
END
$$;

-- ==== Check-in by the person's card at the desk ====

-- The event that checked an appointment in (an appointment.checked_in a terminal signed:
-- api/PROTOCOL.md 4.2) and the card's assurance level (card_assurance: dynamic, static,
-- uid). NULL for a check-in by the desk's button.
ALTER TABLE appointments ADD COLUMN check_in_device uuid,
                         ADD COLUMN check_in_seq bigint,
                         ADD COLUMN check_in_level text
                             CHECK (check_in_level IN ('none', 'uid', 'static', 'dynamic'));

-- Which booked appointment a card tapped at p_at checks in: the appointment of a person
-- keyed 'person:<recipient>' whose recipient holds the card (an active binding of
-- p_token), booked, whose time is near: from 2 hours before its start to the office's
-- grace period after its end; of several, the one starting nearest p_at. NULL when none
-- (a person booked by phone number only has no card the appointment knows: the desk
-- checks them in by hand). SECURITY DEFINER: the terminal that read the card belongs to
-- a provider, the appointment to an office, and neither's row-level scope sees the other;
-- it returns an id, nothing of the rows.
CREATE FUNCTION appointment_for_card(p_token text, p_at timestamptz) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT a.id
    FROM card_bindings c
    JOIN appointments a ON a.person_key = 'person:' || c.recipient_id::text
    JOIN office_booking b ON b.office_id = a.office_id
    WHERE c.token = p_token AND c.status = 'active'
      AND a.state = 'booked'
      AND p_at >= lower(a.during) - interval '2 hours'
      AND p_at < upper(a.during) + make_interval(mins => b.grace_minutes)
    ORDER BY abs(extract(epoch FROM lower(a.during) - p_at)), a.id
    LIMIT 1
$$;

-- Check in the appointments the appointment.checked_in events of device p_device's upload
-- (seq p_after+1 .. p_last) name by card: each matched appointment moves booked ->
-- checked_in through appointment_move, at the event's time (the device's clock, never
-- later than now), with the event and the card's level kept: as for a visit, the proof's
-- verdict is recorded, not a condition (a failed proof is level none, which the desk
-- sees), since arriving is not paid for. An event that matches nothing is kept all the
-- same (the chain is the terminal's record) and checks nothing in. Called by ingest after ingest_finish, in the upload's transaction, only
-- when the upload holds such events; a replay of stored events finds them checked in
-- already. Returns how many were checked in.
CREATE FUNCTION appointment_card_check_ins(p_device uuid, p_after bigint, p_last bigint)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    e record;
    target uuid;
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
        CONTINUE WHEN target IS NULL;
        IF appointment_move(target, 'checked_in', '') = 'moved' THEN
            UPDATE appointments SET checked_in_at = e.at, check_in_device = p_device,
                                    check_in_seq = e.seq, check_in_level = e.level
            WHERE id = target;
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END
$$;
