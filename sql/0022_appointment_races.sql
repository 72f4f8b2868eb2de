-- Concurrent takers of one slot no longer get a 503 (issue 16).
--
-- An exclusion constraint is checked after the row is in the index: two takers inserting
-- the same seat and time at once each find the other's row and wait for the other's
-- transaction -- a deadlock, which PostgreSQL breaks by failing one of them (40P01).
-- 0021's appointment_take caught only exclusion_violation, so the victim's deadlock went up
-- to carefactd as a database error and the client got 503 "unavailable" (one of fifty in
-- integration.backend.appointments, now and then). The victim's subtransaction is rolled
-- back, taking its row with it, so trying the same seat again is safe: it now waits for
-- the other taker's commit and gets the exclusion_violation it should have had. The
-- constraint is still the only thing that decides (no lock is added around it).
CREATE OR REPLACE FUNCTION appointment_take(p_office uuid, p_start timestamptz, p_kind text,
                                 p_booked boolean, p_key text, p_name text, p_phone text,
                                 p_channel text, p_actor text, p_secret_hash bytea)
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
