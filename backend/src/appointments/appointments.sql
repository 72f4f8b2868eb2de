-- The appointments module's queries (appointments.c). The rules — slots, closures, the
-- horizon, the per-person limit, the legal transitions, no double booking — are in
-- sql/0021_appointments.sql. Embedded at build time (tools/sql_embed.c).

-- fragment: appointment_json
-- One appointment a (its office o) as a JSON object.
json_build_object(
    'id', a.id, 'office', json_build_object('id', o.id, 'name', o.name, 'address', o.address),
    'kind', a.kind, 'state', a.state, 'start', lower(a.during), 'end', upper(a.during),
    'seat', a.seat, 'hold_until', a.hold_until, 'channel', a.channel,
    'person_name', a.person_name, 'phone', a.phone, 'reason', a.reason,
    'rescheduled_to', a.rescheduled_to, 'created_at', a.created_at, 'booked_at', a.booked_at,
    'checked_in_at', a.checked_in_at, 'check_in_level', a.check_in_level,
    'service_started_at', a.service_started_at,
    'finished_at', a.finished_at, 'cancelled_at', a.cancelled_at)

-- name: appointment_slots
-- $1 office, $2 local date: the day's bookable slots with their free seats, why the
-- office is closed that day (or null), or no row when the office takes no appointments.
SELECT json_build_object(
    'office_id', b.office_id, 'date', $2::date, 'slot_minutes', b.slot_minutes,
    'seats', b.seats, 'horizon_days', b.horizon_days,
    'closed', office_closed(b.office_id, $2::date),
    'items', coalesce((
        -- the seats in use: after the slot length changed (sql/0028) one seat may hold
        -- two old appointments within a new slot, and the seats beyond a reduced count
        -- are no longer offered
        SELECT json_agg(json_build_object('start', s.starts, 'end', s.ends,
                                          'free', b.seats - (
            SELECT count(DISTINCT a.seat) FROM appointments a
            WHERE a.office_id = b.office_id AND a.during && tstzrange(s.starts, s.ends, '[)')
              AND a.seat <= b.seats AND appointment_live(a.state, a.hold_until))) ORDER BY s.starts)
        FROM office_slots(b.office_id, $2::date) s
        WHERE appointment_refusal(b.office_id, s.starts) IS NULL), '[]'))::text
FROM office_booking b WHERE b.office_id = $1::uuid

-- name: appointment_take
-- $1 office, $2 start, $3 kind, $4 booked ('t') or a hold ('f'), $5 person key,
-- $6 name, $7 phone, $8 channel, $9 actor, $10 the secret: outcome and id.
SELECT outcome, appointment_id
FROM appointment_take($1::uuid, $2::timestamptz, $3, $4::boolean, $5, $6, $7, $8, $9,
                      sha256(convert_to($10, 'UTF8')))

-- name: appointment_get
-- $1 appointment: it as JSON, or no row (not visible).
SELECT {{appointment_json}}::text
FROM appointments a JOIN offices o ON o.id = a.office_id WHERE a.id = $1::uuid

-- name: appointment_by_secret
-- $1 appointment, $2 its secret: the appointment's id when the secret is its own.
SELECT a.id FROM appointments a
WHERE a.id = $1::uuid AND a.secret_hash = sha256(convert_to($2, 'UTF8'))

-- name: appointment_move
-- $1 appointment, $2 state to, $3 reason: the outcome and the state it was in.
SELECT appointment_move($1::uuid, $2, $3), (SELECT state FROM appointments WHERE id = $1::uuid)

-- name: appointment_state
-- $1 appointment: its state (no row when not visible).
SELECT state FROM appointments WHERE id = $1::uuid

-- name: appointment_confirm
-- $1 hold, $2 person key, $3 name, $4 phone: the outcome and the state it was in.
SELECT appointment_confirm($1::uuid, $2, $3, $4),
       (SELECT state FROM appointments WHERE id = $1::uuid)

-- name: appointment_reschedule
-- $1 appointment, $2 new start, $3 actor: outcome and the new appointment's id.
SELECT outcome, appointment_id FROM appointment_reschedule($1::uuid, $2::timestamptz, $3)

-- name: appointment_day
-- $1 office, $2 local date: the office's appointments of that day (holds past their end
-- and expired ones left out), by start and seat; no row when the office takes none.
SELECT json_build_object('office_id', b.office_id, 'date', $2::date, 'items', coalesce((
    SELECT json_agg({{appointment_json}} ORDER BY lower(a.during), a.seat)
    FROM appointments a JOIN offices o ON o.id = a.office_id
    WHERE a.office_id = b.office_id
      AND lower(a.during) >= ($2::date)::timestamp AT TIME ZONE r.timezone
      AND lower(a.during) < ($2::date + 1)::timestamp AT TIME ZONE r.timezone
      AND a.state <> 'expired' AND (a.state <> 'held' OR appointment_live(a.state, a.hold_until))),
    '[]'))::text
FROM office_booking b JOIN offices ob ON ob.id = b.office_id JOIN regions r ON r.id = ob.region_id
WHERE b.office_id = $1::uuid

-- name: appointment_figures
-- $1 office, $2 local date: the day's counts by outcome, waiting (check-in to service)
-- and service time (service to its end, served only) in seconds: p50 and p90 as
-- observed values (percentile_disc: the smallest value with at least that share at or
-- below it), the share of those called within 15 minutes of checking in.
WITH day AS (
    SELECT a.* FROM appointments a
    JOIN office_booking b ON b.office_id = a.office_id
    JOIN offices o ON o.id = a.office_id JOIN regions r ON r.id = o.region_id
    WHERE a.office_id = $1::uuid
      AND lower(a.during) >= ($2::date)::timestamp AT TIME ZONE r.timezone
      AND lower(a.during) < ($2::date + 1)::timestamp AT TIME ZONE r.timezone),
waits AS (
    SELECT extract(epoch FROM service_started_at - checked_in_at)::bigint AS s
    FROM day WHERE service_started_at IS NOT NULL AND checked_in_at IS NOT NULL),
services AS (
    SELECT extract(epoch FROM finished_at - service_started_at)::bigint AS s
    FROM day WHERE state = 'served')
SELECT json_build_object(
    'office_id', $1::uuid, 'date', $2::date,
    'booked', (SELECT count(*) FROM day WHERE state NOT IN ('held', 'expired')),
    'served', (SELECT count(*) FROM day WHERE state = 'served'),
    'left_unserved', (SELECT count(*) FROM day WHERE state = 'left_unserved'),
    'no_show', (SELECT count(*) FROM day WHERE state = 'no_show'),
    'cancelled', (SELECT count(*) FROM day WHERE state = 'cancelled'),
    'rescheduled', (SELECT count(*) FROM day WHERE state = 'rescheduled'),
    'waited', (SELECT count(*) FROM waits),
    'waiting_p50_s', (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY s) FROM waits),
    'waiting_p90_s', (SELECT percentile_disc(0.9) WITHIN GROUP (ORDER BY s) FROM waits),
    'waiting_within_15min_share', (SELECT round(avg((s <= 900)::integer), 4) FROM waits),
    'service_p50_s', (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY s) FROM services),
    'service_p90_s', (SELECT percentile_disc(0.9) WITHIN GROUP (ORDER BY s) FROM services),
    'service_mean_s', (SELECT round(avg(s), 1) FROM services))::text
FROM office_booking b WHERE b.office_id = $1::uuid

-- name: office_close
-- $1 office, $2 first day, $3 last day (local), $4 reason, $5 actor: the closure's id and
-- how many appointments moved and were cancelled; no row when the office takes none.
SELECT closure_id, moved, cancelled FROM office_close($1::uuid, $2::date, $3::date, $4, $5)

-- name: office_booking_get
-- $1 office: its booking settings and weekly hours as JSON, with takes_appointments
-- false and 0021's defaults when it has none yet; no row when there is no such office.
SELECT json_build_object(
    'office_id', o.id, 'name', o.name, 'takes_appointments', b.office_id IS NOT NULL,
    'seats', coalesce(b.seats, 1), 'slot_minutes', coalesce(b.slot_minutes, 15),
    'horizon_days', coalesce(b.horizon_days, 30), 'person_limit', coalesce(b.person_limit, 2),
    'hold_minutes', coalesce(b.hold_minutes, 15), 'grace_minutes', coalesce(b.grace_minutes, 15),
    'hours', coalesce((
        SELECT json_agg(json_build_object(
            'weekday', h.isodow, 'opens', to_char(h.opens, 'HH24:MI'),
            'closes', CASE WHEN h.closes = time '24:00' THEN '24:00'
                           ELSE to_char(h.closes, 'HH24:MI') END) ORDER BY h.isodow, h.opens)
        FROM office_hours h WHERE h.office_id = o.id), '[]'))::text
FROM offices o LEFT JOIN office_booking b ON b.office_id = o.id
WHERE o.id = $1::uuid

-- name: office_booking_set
-- $1 office, $2 seats, $3 slot minutes, $4 horizon days, $5 person limit, $6 hold
-- minutes, $7 grace minutes, $8 hours (JSON array): 'saved', 'no_office' or the field
-- refused (sql/0028).
SELECT office_booking_set($1::uuid, $2::integer, $3::integer, $4::integer, $5::integer,
                          $6::integer, $7::integer, $8::jsonb)

-- name: appointment_hold
-- $1 office, $2 start, $3 kind, $4 the client's address, $5 the cap of its live holds,
-- $6 the secret: outcome, id, and the seconds to wait when the address is at its cap.
SELECT outcome, appointment_id, retry_after_s
FROM appointment_hold($1::uuid, $2::timestamptz, $3, $4, $5::integer,
                      sha256(convert_to($6, 'UTF8')))
