-- Mobile brigade trips (issue 16, Leningrad region: villages without internet). A trip is
-- one day of an office's brigade: the settlements it visits in order with planned times,
-- its members (staff users, workers and through them their terminals), the partner
-- organisations that come along, and a state (planned -> announced -> done | cancelled)
-- changed by one function, trip_move, over the table of legal transitions, each change a
-- row of the append-only journal. Announcing publishes the trip on the public page and
-- tells the people booked on it through the outbox; it is refused fewer than the region's
-- trip_notice_days before the day. Appointments (home surveys, aid hand-overs) are booked
-- on a trip, in one of its settlements within its times; applications taken on a trip
-- name it. The terminals of its worker members hold it offline (reference_items). See
-- backend/README.md, "Trips".

-- How many days ahead a trip must be announced (people in villages without internet
-- need time to hear of it). Configuration of the region, by the owner.
ALTER TABLE regions ADD COLUMN trip_notice_days integer NOT NULL DEFAULT 3
    CHECK (trip_notice_days BETWEEN 0 AND 60);

-- A trip's appointments are the trip office's appointments on a seat of their own: the
-- exclusion constraint of 0021 (office, seat, time range) then keeps one appointment at a
-- time per trip, and the office's own desks (seats 1..50) never meet them. Every trip
-- takes the next seat number from 1000 up.
CREATE SEQUENCE trip_seat_seq START 1000;
GRANT USAGE ON SEQUENCE trip_seat_seq TO carefact_app;

-- ==== Trips ====

CREATE TABLE trips (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    region_id uuid NOT NULL REFERENCES regions,
    -- the organising office and, when a provider's workers go, that provider
    office_id uuid NOT NULL REFERENCES offices,
    provider_id uuid REFERENCES providers,
    day date NOT NULL,
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    -- how to book: what the public page says ("по телефону 8 813 64 2-11-11")
    booking_info text NOT NULL DEFAULT '' CHECK (length(booking_info) <= 500),
    -- the length of one appointment on the trip
    slot_minutes integer NOT NULL DEFAULT 30 CHECK (slot_minutes BETWEEN 10 AND 240),
    seat integer NOT NULL UNIQUE DEFAULT nextval('trip_seat_seq') CHECK (seat > 50),
    state text NOT NULL DEFAULT 'planned'
        CHECK (state IN ('planned', 'announced', 'done', 'cancelled')),
    -- the reason of a cancellation: what the people booked are told
    reason text NOT NULL DEFAULT '' CHECK (length(reason) <= 1000),
    announced_at timestamptz,
    done_at timestamptz,
    cancelled_at timestamptz,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX trips_office_day ON trips (office_id, day);
CREATE INDEX trips_region_day ON trips (region_id, day) WHERE state = 'announced';
-- Who sees a trip: its office's front office and its region's back office (the
-- applications' rule, 0019), oversight, and the provider whose workers go.
ALTER TABLE trips ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_office_or_provider ON trips
    USING (application_visible(office_id, region_id)
           OR provider_id = ANY ((SELECT visible_providers())::uuid[]));
-- Changed only through trip_save (its fields) and trip_move (its state).
GRANT SELECT, INSERT, UPDATE ON trips TO carefact_app;

-- The settlements in the order visited, with planned local times on the trip's day.
CREATE TABLE trip_settlements (
    trip_id uuid NOT NULL REFERENCES trips,
    position integer NOT NULL CHECK (position BETWEEN 1 AND 30),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- where people come: "у магазина", "ФАП, ул. Центральная, 3"
    place text NOT NULL DEFAULT '' CHECK (length(place) <= 300),
    arrives time NOT NULL,
    leaves time NOT NULL CHECK (arrives < leaves),
    PRIMARY KEY (trip_id, position)
);
ALTER TABLE trip_settlements ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_trip ON trip_settlements
    USING (EXISTS (SELECT 1 FROM trips t WHERE t.id = trip_id));
GRANT SELECT, INSERT, UPDATE, DELETE ON trip_settlements TO carefact_app;

-- Who goes: a staff user (an office's specialist) or a worker (whose terminals then hold
-- the trip), with what they do on it.
CREATE TABLE trip_members (
    trip_id uuid NOT NULL REFERENCES trips,
    position integer NOT NULL CHECK (position BETWEEN 1 AND 30),
    user_id uuid REFERENCES users,
    worker_id uuid REFERENCES workers,
    duty text NOT NULL DEFAULT '' CHECK (length(duty) <= 200),
    PRIMARY KEY (trip_id, position),
    CHECK ((user_id IS NULL) <> (worker_id IS NULL))
);
CREATE INDEX trip_members_worker ON trip_members (worker_id) WHERE worker_id IS NOT NULL;
ALTER TABLE trip_members ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_trip ON trip_members USING (EXISTS (SELECT 1 FROM trips t WHERE t.id = trip_id));
GRANT SELECT, INSERT, DELETE ON trip_members TO carefact_app;

-- Partner organisations that come along: the district hospital, the pension fund...
CREATE TABLE trip_partners (
    trip_id uuid NOT NULL REFERENCES trips,
    position integer NOT NULL CHECK (position BETWEEN 1 AND 20),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- what they do on the trip: "флюорография", "консультации по пенсиям"
    activity text NOT NULL DEFAULT '' CHECK (length(activity) <= 300),
    PRIMARY KEY (trip_id, position)
);
ALTER TABLE trip_partners ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_trip ON trip_partners USING (EXISTS (SELECT 1 FROM trips t WHERE t.id = trip_id));
GRANT SELECT, INSERT, DELETE ON trip_partners TO carefact_app;

-- Every change of a trip, append-only (trigger and privilege): its creation, each edit
-- and each change of state, who made it and why.
CREATE TABLE trip_journal (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trip_id uuid NOT NULL REFERENCES trips,
    at timestamptz NOT NULL DEFAULT now(),
    change text NOT NULL CHECK (change IN ('created', 'edited', 'moved')),
    from_state text,
    to_state text NOT NULL,
    actor text NOT NULL,
    actor_role text NOT NULL,
    reason text NOT NULL DEFAULT ''
);
CREATE INDEX trip_journal_trip ON trip_journal (trip_id, id);
CREATE TRIGGER trip_journal_append_only BEFORE UPDATE OR DELETE ON trip_journal
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
ALTER TABLE trip_journal ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_trip ON trip_journal USING (EXISTS (SELECT 1 FROM trips t WHERE t.id = trip_id));
GRANT SELECT, INSERT ON trip_journal TO carefact_app;

-- The legal transitions and whether each needs a reason.
CREATE TABLE trip_transitions (
    from_state text NOT NULL,
    to_state text NOT NULL,
    reason_required boolean NOT NULL,
    PRIMARY KEY (from_state, to_state)
);
INSERT INTO trip_transitions VALUES
    ('planned', 'announced', false),
    ('planned', 'cancelled', true),
    ('announced', 'done', false),
    ('announced', 'cancelled', true);
GRANT SELECT ON trip_transitions TO carefact_app;

-- ==== Appointments and applications of a trip ====

-- A trip's appointment: its trip and the settlement (by position) it is in. Only a home
-- survey or an aid hand-over is booked on a trip.
ALTER TABLE appointments ADD COLUMN trip_id uuid REFERENCES trips;
ALTER TABLE appointments ADD COLUMN trip_settlement integer;
ALTER TABLE appointments ADD CONSTRAINT appointments_trip_settlement
    FOREIGN KEY (trip_id, trip_settlement) REFERENCES trip_settlements (trip_id, position);
ALTER TABLE appointments ADD CONSTRAINT appointments_trip_check
    CHECK ((trip_id IS NULL) = (trip_settlement IS NULL)
           AND (trip_id IS NULL OR kind IN ('home_survey', 'aid_handover')));
CREATE INDEX appointments_trip ON appointments (trip_id, lower(during)) WHERE trip_id IS NOT NULL;

-- An application taken on a trip (the terminal's signed filing names it).
ALTER TABLE applications ADD COLUMN trip_id uuid REFERENCES trips;
CREATE INDEX applications_trip ON applications (trip_id) WHERE trip_id IS NOT NULL;

-- The outbox tells people of an announced trip they are booked on, and of a cancelled one.
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('moved', 'cancelled', 'reminder', 'trip'));

-- ==== The rules ====

-- The region's local date today.
CREATE FUNCTION trip_region_today(p_region uuid) RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT (now() AT TIME ZONE r.timezone)::date FROM regions r WHERE r.id = p_region
$$;

-- May a trip of p_day in region p_region still be announced? Only at least the
-- region's trip_notice_days before its day (default 3): announced on Monday, a trip
-- may be on Thursday, not on Wednesday.
CREATE FUNCTION trip_announce_in_time(p_region uuid, p_day date) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT p_day - trip_region_today(p_region) >= r.trip_notice_days
    FROM regions r WHERE r.id = p_region
$$;

-- The region of a worker's provider. SECURITY DEFINER: the front office that plans a
-- trip sees no provider's rows, yet must name the workers who go; it learns only the
-- region, nothing of the worker.
CREATE FUNCTION trip_worker_region(p_worker uuid, OUT region_id uuid, OUT provider_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT p.region_id, p.id FROM workers w JOIN providers p ON p.id = w.provider_id
    WHERE w.id = p_worker AND w.active
$$;

-- A user's existence and office. SECURITY DEFINER for the same reason (users are
-- visible by provider only).
CREATE FUNCTION trip_user_active(p_user uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT EXISTS (SELECT 1 FROM users u WHERE u.id = p_user AND u.disabled_at IS NULL)
$$;

-- Create (p_trip NULL) or replace a planned trip's fields, settlements, members and
-- partners. p_settlements: [{name, place, arrives "HH:MM", leaves}] in order;
-- p_members: [{user_id | worker_id, duty}]; p_partners: [{name, activity}]. Returns the
-- outcome and the trip's id: 'saved', 'not_found' (not visible), 'not_planned' (only a
-- planned trip changes), 'office' (no such office), 'past' (a day before the region's
-- today), 'provider' (not of the office's region), 'order' (a settlement arrives before
-- the previous one leaves), 'member' (an unknown or inactive user or worker, or a
-- worker of another region or provider) with its index, 'booked' (a settlement that
-- has appointments would be removed) with its position.
CREATE FUNCTION trip_save(p_trip uuid, p_office uuid, p_provider uuid, p_day date, p_title text,
                          p_booking_info text, p_slot_minutes integer, p_settlements jsonb,
                          p_members jsonb, p_partners jsonb, p_actor text, p_role text)
RETURNS TABLE (outcome text, trip_id uuid, at_index integer) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    t trips;
    region uuid;
    m record;
    s record;
    last_leaves time;
    w record;
    booked integer;
BEGIN
    IF p_trip IS NOT NULL THEN
        SELECT * INTO t FROM trips WHERE id = p_trip FOR UPDATE;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 'not_found'::text, p_trip, NULL::integer;
            RETURN;
        END IF;
        IF t.state <> 'planned' THEN
            RETURN QUERY SELECT 'not_planned'::text, p_trip, NULL::integer;
            RETURN;
        END IF;
        p_office := t.office_id;
    END IF;
    SELECT o.region_id INTO region FROM offices o WHERE o.id = p_office;
    IF region IS NULL THEN
        RETURN QUERY SELECT 'office'::text, p_trip, NULL::integer;
        RETURN;
    END IF;
    IF p_day < trip_region_today(region) THEN
        RETURN QUERY SELECT 'past'::text, p_trip, NULL::integer;
        RETURN;
    END IF;
    IF p_provider IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM trip_worker_region_of_provider(p_provider) r
                       WHERE r = region) THEN
        RETURN QUERY SELECT 'provider'::text, p_trip, NULL::integer;
        RETURN;
    END IF;
    FOR s IN SELECT e.ordinality::integer AS i, (e.value->>'arrives')::time AS arrives,
                    (e.value->>'leaves')::time AS leaves
             FROM jsonb_array_elements(p_settlements) WITH ORDINALITY e LOOP
        IF s.arrives >= s.leaves OR (last_leaves IS NOT NULL AND s.arrives < last_leaves) THEN
            RETURN QUERY SELECT 'order'::text, p_trip, s.i - 1;
            RETURN;
        END IF;
        last_leaves := s.leaves;
    END LOOP;
    FOR m IN SELECT e.ordinality::integer AS i, (e.value->>'user_id')::uuid AS user_id,
                    (e.value->>'worker_id')::uuid AS worker_id
             FROM jsonb_array_elements(p_members) WITH ORDINALITY e LOOP
        IF m.worker_id IS NOT NULL THEN
            SELECT * INTO w FROM trip_worker_region(m.worker_id);
            IF w.region_id IS DISTINCT FROM region
               OR (p_provider IS NOT NULL AND w.provider_id <> p_provider) THEN
                RETURN QUERY SELECT 'member'::text, p_trip, m.i - 1;
                RETURN;
            END IF;
        ELSIF m.user_id IS NULL OR NOT trip_user_active(m.user_id) THEN
            RETURN QUERY SELECT 'member'::text, p_trip, m.i - 1;
            RETURN;
        END IF;
    END LOOP;
    IF p_trip IS NULL THEN
        INSERT INTO trips (region_id, office_id, provider_id, day, title, booking_info,
                           slot_minutes, created_by)
        VALUES (region, p_office, p_provider, p_day, p_title, p_booking_info, p_slot_minutes,
                p_actor)
        RETURNING * INTO t;
    ELSE
        SELECT min(a.trip_settlement) INTO booked FROM appointments a
        WHERE a.trip_id = p_trip AND a.trip_settlement > jsonb_array_length(p_settlements);
        IF booked IS NOT NULL THEN
            RETURN QUERY SELECT 'booked'::text, p_trip, booked;
            RETURN;
        END IF;
        UPDATE trips SET provider_id = p_provider, day = p_day, title = p_title,
                         booking_info = p_booking_info, slot_minutes = p_slot_minutes,
                         updated_at = now()
        WHERE id = p_trip RETURNING * INTO t;
        DELETE FROM trip_settlements WHERE trip_settlements.trip_id = p_trip
            AND position > jsonb_array_length(p_settlements);
        DELETE FROM trip_members WHERE trip_members.trip_id = p_trip;
        DELETE FROM trip_partners WHERE trip_partners.trip_id = p_trip;
    END IF;
    INSERT INTO trip_settlements (trip_id, position, name, place, arrives, leaves)
    SELECT t.id, e.ordinality, e.value->>'name', coalesce(e.value->>'place', ''),
           (e.value->>'arrives')::time, (e.value->>'leaves')::time
    FROM jsonb_array_elements(p_settlements) WITH ORDINALITY e
    ON CONFLICT (trip_id, position) DO UPDATE SET name = EXCLUDED.name, place = EXCLUDED.place,
        arrives = EXCLUDED.arrives, leaves = EXCLUDED.leaves;
    INSERT INTO trip_members (trip_id, position, user_id, worker_id, duty)
    SELECT t.id, e.ordinality, (e.value->>'user_id')::uuid, (e.value->>'worker_id')::uuid,
           coalesce(e.value->>'duty', '')
    FROM jsonb_array_elements(p_members) WITH ORDINALITY e;
    INSERT INTO trip_partners (trip_id, position, name, activity)
    SELECT t.id, e.ordinality, e.value->>'name', coalesce(e.value->>'activity', '')
    FROM jsonb_array_elements(p_partners) WITH ORDINALITY e;
    INSERT INTO trip_journal (trip_id, change, from_state, to_state, actor, actor_role)
    VALUES (t.id, CASE WHEN p_trip IS NULL THEN 'created' ELSE 'edited' END,
            CASE WHEN p_trip IS NULL THEN NULL ELSE t.state END, t.state, p_actor, p_role);
    RETURN QUERY SELECT 'saved'::text, t.id, NULL::integer;
END
$$;

-- The region of a provider (SECURITY DEFINER as trip_worker_region: the front office
-- names the provider whose workers go but sees none of its rows).
CREATE FUNCTION trip_worker_region_of_provider(p_provider uuid) RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT p.region_id FROM providers p WHERE p.id = p_provider
$$;

-- A trip's members with their names and, for a worker, the terminals that will hold the
-- trip. SECURITY DEFINER: the front office sees no provider's workers or devices. Called
-- only for a trip the caller's query already sees (trip_get); it shows names and device
-- ids, nothing else of a provider.
CREATE FUNCTION trip_member_list(p_trip uuid) RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT coalesce(json_agg(json_build_object(
        'position', m.position, 'user_id', m.user_id, 'login', u.login,
        'worker_id', m.worker_id, 'worker_name', w.full_name, 'duty', m.duty,
        'devices', (SELECT coalesce(json_agg(json_build_object('id', d.id, 'status', d.status)
                                             ORDER BY d.id), '[]')
                    FROM devices d WHERE d.worker_id = m.worker_id))
        ORDER BY m.position), '[]')
    FROM trip_members m
    LEFT JOIN users u ON u.id = m.user_id
    LEFT JOIN workers w ON w.id = m.worker_id
    WHERE m.trip_id = p_trip
$$;

-- The SMS a person booked on an announced trip gets.
CREATE FUNCTION trip_message(p_trip uuid, p_appointment uuid) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('%s: выездная бригада %s, %s. Ваша запись на %s в %s.',
                  o.name, to_char(t.day, 'DD.MM'), s.name,
                  to_char(lower(a.during) AT TIME ZONE r.timezone, 'DD.MM'),
                  to_char(lower(a.during) AT TIME ZONE r.timezone, 'HH24:MI'))
    FROM appointments a
    JOIN trips t ON t.id = a.trip_id
    JOIN offices o ON o.id = t.office_id
    JOIN regions r ON r.id = t.region_id
    JOIN trip_settlements s ON s.trip_id = t.id AND s.position = a.trip_settlement
    WHERE a.id = p_appointment AND t.id = p_trip
$$;

-- Queue the announcement of trip p_trip to every person booked on it (once each: the
-- outbox's unique key; a phoneless booking is skipped by 0030's trigger). Returns how
-- many were queued.
CREATE FUNCTION trip_notify(p_trip uuid) RETURNS integer
LANGUAGE sql AS $$
    WITH queued AS (
        INSERT INTO outbox (office_id, region_id, appointment_id, kind, phone, body)
        SELECT a.office_id, a.region_id, a.id, 'trip', a.phone, trip_message(p_trip, a.id)
        FROM appointments a
        WHERE a.trip_id = p_trip AND a.state = 'booked' AND a.phone <> ''
        ON CONFLICT (appointment_id, kind) DO NOTHING
        RETURNING 1)
    SELECT count(*)::integer FROM queued
$$;

-- Move trip p_trip to p_to. The one way its state changes. Returns the outcome —
-- 'moved', 'not_found', 'illegal', 'reason' (a cancellation needs one), 'too_late'
-- (announced fewer than the region's trip_notice_days before the day), 'too_early'
-- (done before its day) —, the state it was in and how many messages were queued.
-- Announcing tells the people booked; cancelling cancels the trip's live appointments
-- and, when it had been announced, tells them why.
CREATE FUNCTION trip_move(p_trip uuid, p_to text, p_reason text, p_actor text, p_role text)
RETURNS TABLE (outcome text, from_state text, messages integer) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    t trips;
    tr trip_transitions;
    a record;
    queued integer := 0;
BEGIN
    SELECT * INTO t FROM trips WHERE id = p_trip FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::text, 0;
        RETURN;
    END IF;
    SELECT * INTO tr FROM trip_transitions WHERE trip_transitions.from_state = t.state
                                             AND to_state = p_to;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'illegal'::text, t.state, 0;
        RETURN;
    END IF;
    IF tr.reason_required AND btrim(coalesce(p_reason, '')) = '' THEN
        RETURN QUERY SELECT 'reason'::text, t.state, 0;
        RETURN;
    END IF;
    IF p_to = 'announced' AND NOT trip_announce_in_time(t.region_id, t.day) THEN
        RETURN QUERY SELECT 'too_late'::text, t.state, 0;
        RETURN;
    END IF;
    IF p_to = 'done' AND t.day > trip_region_today(t.region_id) THEN
        RETURN QUERY SELECT 'too_early'::text, t.state, 0;
        RETURN;
    END IF;
    UPDATE trips SET state = p_to, updated_at = now(),
        announced_at = CASE WHEN p_to = 'announced' THEN now() ELSE announced_at END,
        done_at = CASE WHEN p_to = 'done' THEN now() ELSE done_at END,
        cancelled_at = CASE WHEN p_to = 'cancelled' THEN now() ELSE cancelled_at END,
        reason = CASE WHEN p_to = 'cancelled' THEN btrim(p_reason) ELSE reason END
    WHERE id = p_trip;
    IF p_to = 'announced' THEN
        queued := trip_notify(p_trip);
    ELSIF p_to = 'cancelled' THEN
        FOR a IN SELECT ap.id, ap.state, ap.phone, ap.office_id, ap.region_id FROM appointments ap
                 WHERE ap.trip_id = p_trip AND ap.state IN ('held', 'booked') LOOP
            PERFORM appointment_move(a.id, 'cancelled', 'Выезд отменён: ' || btrim(p_reason));
            IF t.state = 'announced' AND a.state = 'booked' AND a.phone <> '' THEN
                INSERT INTO outbox (office_id, region_id, appointment_id, kind, phone, body)
                SELECT a.office_id, a.region_id, a.id, 'cancelled', a.phone,
                       format('%s: выезд %s отменён (%s). Ваша запись отменена.',
                              o.name, to_char(t.day, 'DD.MM'), left(btrim(p_reason), 300))
                FROM offices o WHERE o.id = t.office_id
                ON CONFLICT (appointment_id, kind) DO NOTHING;
                queued := queued + 1;
            END IF;
        END LOOP;
    END IF;
    INSERT INTO trip_journal (trip_id, change, from_state, to_state, actor, actor_role, reason)
    VALUES (p_trip, 'moved', t.state, p_to, p_actor, p_role, btrim(coalesce(p_reason, '')));
    RETURN QUERY SELECT 'moved'::text, t.state, queued;
END
$$;

-- Why an appointment of kind p_kind starting at p_start cannot be booked on trip p_trip
-- in its settlement p_settlement, or NULL when it can: 'not_found', 'trip_state' (only a
-- planned or announced trip takes bookings), 'kind' (only home_survey, aid_handover),
-- 'no_settlement', 'outside' (not within the settlement's times on the trip's day, the
-- whole slot), 'past'.
CREATE FUNCTION trip_appointment_refusal(p_trip uuid, p_settlement integer,
                                         p_start timestamptz, p_kind text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    t trips;
    s trip_settlements;
    tz text;
    local_start timestamp;
BEGIN
    SELECT * INTO t FROM trips WHERE id = p_trip;
    IF NOT FOUND THEN
        RETURN 'not_found';
    END IF;
    IF t.state NOT IN ('planned', 'announced') THEN
        RETURN 'trip_state';
    END IF;
    IF p_kind NOT IN ('home_survey', 'aid_handover') THEN
        RETURN 'kind';
    END IF;
    SELECT * INTO s FROM trip_settlements WHERE trip_id = p_trip AND position = p_settlement;
    IF NOT FOUND THEN
        RETURN 'no_settlement';
    END IF;
    SELECT r.timezone INTO tz FROM regions r WHERE r.id = t.region_id;
    local_start := p_start AT TIME ZONE tz;
    IF local_start::date <> t.day OR local_start::time < s.arrives
       OR local_start::time + make_interval(mins => t.slot_minutes) > s.leaves THEN
        RETURN 'outside';
    END IF;
    IF p_start <= now() THEN
        RETURN 'past';
    END IF;
    RETURN NULL;
END
$$;

-- Book a person on trip p_trip (the front office on the phone). The appointment is the
-- trip office's, on the trip's own seat, so 0021's exclusion constraint allows one
-- appointment at a time per trip. The office gets its default booking settings when it
-- has none (without hours it still offers no public slots). An announced trip's booking
-- is told at once. Returns the outcome ('taken', a refusal of trip_appointment_refusal,
-- 'full') and the new appointment's id.
CREATE FUNCTION trip_appointment_take(p_trip uuid, p_settlement integer, p_start timestamptz,
                                      p_kind text, p_key text, p_name text, p_phone text,
                                      p_actor text, p_secret_hash bytea)
RETURNS TABLE (outcome text, appointment_id uuid) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    t trips;
    refusal text := trip_appointment_refusal(p_trip, p_settlement, p_start, p_kind);
    new_id uuid;
BEGIN
    IF refusal IS NOT NULL THEN
        RETURN QUERY SELECT refusal, NULL::uuid;
        RETURN;
    END IF;
    SELECT * INTO t FROM trips WHERE id = p_trip;
    INSERT INTO office_booking (office_id) VALUES (t.office_id) ON CONFLICT DO NOTHING;
    BEGIN
        INSERT INTO appointments (office_id, region_id, seat, during, kind, state, channel,
                                  person_key, person_name, phone, secret_hash, created_by,
                                  booked_at, trip_id, trip_settlement)
        VALUES (t.office_id, t.region_id, t.seat,
                tstzrange(p_start, p_start + make_interval(mins => t.slot_minutes), '[)'),
                p_kind, 'booked', 'phone', p_key, p_name, p_phone, p_secret_hash, p_actor,
                now(), p_trip, p_settlement)
        RETURNING id INTO new_id;
    EXCEPTION WHEN exclusion_violation THEN
        RETURN QUERY SELECT 'full'::text, NULL::uuid;
        RETURN;
    END;
    IF t.state = 'announced' THEN
        PERFORM trip_notify(p_trip);
    END IF;
    RETURN QUERY SELECT 'taken'::text, new_id;
END
$$;

-- ==== What a terminal holds offline ====

-- How many days ahead a terminal holds its worker's trips (today included).
CREATE FUNCTION trip_reference_days() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 7';

-- The trips of the next trip_reference_days() days that device p_device's worker goes
-- on (planned or announced): settlements, times, partners, and the booked appointments
-- (person, time, kind, settlement). SECURITY DEFINER: the terminal's scope is its
-- provider's, the appointments are the office's; the device is the caller's own,
-- checked by the reference route, and only an active device gets anything.
CREATE FUNCTION trip_reference_items(p_device uuid)
RETURNS TABLE (kind text, id text, body jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT 'trip', t.id::text, jsonb_build_object(
        'id', t.id, 'day', t.day, 'title', t.title, 'state', t.state,
        'office', o.name, 'booking_info', t.booking_info,
        'settlements', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'position', s.position, 'name', s.name, 'place', s.place,
                'arrives', to_char(s.arrives, 'HH24:MI'), 'leaves', to_char(s.leaves, 'HH24:MI'))
                ORDER BY s.position) FROM trip_settlements s WHERE s.trip_id = t.id), '[]'),
        'partners', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'name', p.name, 'activity', p.activity) ORDER BY p.position)
                FROM trip_partners p WHERE p.trip_id = t.id), '[]'),
        'appointments', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'id', a.id, 'settlement', a.trip_settlement, 'kind', a.kind,
                'person_name', a.person_name, 'phone', a.phone,
                'time', to_char(lower(a.during) AT TIME ZONE r.timezone, 'HH24:MI'))
                ORDER BY lower(a.during), a.id)
                FROM appointments a WHERE a.trip_id = t.id AND a.state IN ('booked', 'checked_in',
                                                                            'in_service')), '[]'))
    FROM devices d
    JOIN trip_members m ON m.worker_id = d.worker_id
    JOIN trips t ON t.id = m.trip_id
    JOIN offices o ON o.id = t.office_id
    JOIN regions r ON r.id = t.region_id
    WHERE d.id = p_device AND d.status = 'active'
      AND t.state IN ('planned', 'announced')
      AND t.day >= trip_region_today(t.region_id)
      AND t.day < trip_region_today(t.region_id) + trip_reference_days()
$$;

-- 0006's reference_items with the trips added (the lines below the last UNION ALL).
CREATE OR REPLACE FUNCTION reference_items(p_device uuid)
RETURNS TABLE (kind text, id text, body jsonb)
LANGUAGE sql STABLE AS $$
WITH dev AS (
    SELECT d.worker_id, w.provider_id, rg.timezone,
           (now() AT TIME ZONE rg.timezone) AS local_now
    FROM devices d
    JOIN workers w ON w.id = d.worker_id
    JOIN providers p ON p.id = w.provider_id
    JOIN regions rg ON rg.id = p.region_id
    WHERE d.id = p_device AND d.status = 'active'
)
SELECT 'recipient', r.id::text, jsonb_build_object(
    'id', r.id, 'full_name', r.full_name, 'address', r.address,
    'lat_e7', r.lat_e7, 'lon_e7', r.lon_e7, 'guardian_name', r.guardian_name,
    'cards', coalesce((SELECT jsonb_agg(jsonb_build_object('token', b.token, 'method', b.method,
                 'scheme', b.scheme, 'last4', b.last4, 'holder', b.holder,
                 'valid_from', b.valid_from, 'valid_to', b.valid_to) ORDER BY b.token, b.holder)
             FROM card_bindings b WHERE b.recipient_id = r.id AND b.status = 'active'), '[]'),
    'certificates', coalesce((SELECT jsonb_agg(jsonb_build_object('id', c.id, 'number', c.number,
                 'valid_from', c.valid_from, 'valid_to', c.valid_to,
                 'services', coalesce((SELECT jsonb_agg(jsonb_build_object(
                         'code', cs.service_code, 'volume', cs.volume, 'period', cs.period,
                         'remaining', cs.volume - (
                             SELECT coalesce(sum(vs.quantity), 0)
                             FROM visits v, unnest(v.service_codes, v.service_quantities)
                                  vs(code, quantity)
                             WHERE v.recipient_id = r.id AND vs.code = cs.service_code
                               AND v.started_at >= date_trunc(cs.period, dev.local_now)
                                                   AT TIME ZONE dev.timezone))
                         ORDER BY cs.service_code)
                     FROM certificate_services cs WHERE cs.certificate_id = c.id), '[]'))
                 ORDER BY c.valid_from, c.id)
             FROM certificates c
             WHERE c.recipient_id = r.id AND c.valid_to >= dev.local_now::date), '[]'))
FROM recipients r, dev
WHERE r.provider_id = dev.provider_id AND r.deleted_at IS NULL
UNION ALL
SELECT 'service', s.code, jsonb_build_object('code', s.code, 'name', s.name,
    'category', s.category, 'form', s.form, 'norm_minutes', s.norm_minutes,
    'tariff_kopecks', s.tariff_kopecks)
FROM services s WHERE EXISTS (SELECT 1 FROM dev)
UNION ALL
SELECT 'plan', p.id::text, jsonb_build_object('id', p.id, 'recipient_id', p.recipient_id,
    'planned_start', p.planned_start, 'service_codes', p.service_codes)
FROM visit_plans p, dev
WHERE p.worker_id = dev.worker_id
  AND p.planned_start >= date_trunc('day', dev.local_now) AT TIME ZONE dev.timezone
  AND p.planned_start < (date_trunc('day', dev.local_now) + interval '2 days') AT TIME ZONE dev.timezone
UNION ALL
SELECT * FROM trip_reference_items(p_device)
$$;

-- 0021's appointment_remind, with a trip's appointment told where the brigade will be (the
-- settlement and its meeting place) instead of the office's address and desk. The lines
-- that differ are the CASE.
CREATE OR REPLACE FUNCTION appointment_remind(p_now timestamptz) RETURNS integer
LANGUAGE sql AS $$
    WITH due AS (
        INSERT INTO outbox (office_id, region_id, appointment_id, kind, phone, body)
        SELECT a.office_id, a.region_id, a.id, 'reminder', appointment_phone(a.person_key, a.phone),
               o.name || ': напоминаем о записи ' || appointment_when(lower(a.during), a.region_id)
               || CASE WHEN a.trip_id IS NULL
                       THEN coalesce(', ' || nullif(o.address, ''), '') || ', окно ' || a.seat || '.'
                       ELSE ', выездная бригада, ' || s.name
                            || coalesce(' (' || nullif(s.place, '') || ')', '') || '.' END
        FROM appointments a
        JOIN offices o ON o.id = a.office_id
        JOIN regions r ON r.id = a.region_id
        LEFT JOIN trip_settlements s ON s.trip_id = a.trip_id AND s.position = a.trip_settlement
        WHERE a.state = 'booked'
          AND lower(a.during) > p_now AND lower(a.during) < p_now + interval '2 days'
          AND (lower(a.during) AT TIME ZONE r.timezone)::date
              = (p_now AT TIME ZONE r.timezone)::date + 1
          AND (p_now AT TIME ZONE r.timezone)::time >= time '10:00'
        ON CONFLICT (appointment_id, kind) DO NOTHING
        RETURNING 1)
    SELECT count(*)::integer FROM due
$$;
