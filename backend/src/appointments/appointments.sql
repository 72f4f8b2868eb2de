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
    'check_in_method', a.check_in_method, 'check_in_by', a.check_in_by,
    'check_in_document_digits', a.check_in_document_digits,
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
    '[]'),
    -- the day's card taps that checked nothing in (sql/0033), for the desk to decide
    'exceptions', coalesce((
        SELECT json_agg(json_build_object(
            'id', x.id, 'reason', x.reason, 'device_id', x.device_id, 'seq', x.seq,
            'tapped_at', x.tapped_at, 'card_level', x.card_level,
            'appointment_id', x.appointment_id, 'person_name', ap.person_name,
            'start', lower(ap.during), 'state', ap.state, 'resolution', x.resolution,
            'resolved_by', x.resolved_by, 'resolved_at', x.resolved_at, 'note', x.note)
            ORDER BY x.tapped_at, x.id)
        FROM desk_check_in_exceptions x LEFT JOIN appointments ap ON ap.id = x.appointment_id
        WHERE x.office_id = b.office_id
          AND x.tapped_at >= ($2::date)::timestamp AT TIME ZONE r.timezone
          AND x.tapped_at < ($2::date + 1)::timestamp AT TIME ZONE r.timezone), '[]'))::text
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
    SELECT extract(epoch FROM service_started_at - checked_in_at)::bigint AS s,
           coalesce(check_in_method = 'card', false) AS card
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
    -- how the day's people were checked in (sql/0033): a card at the desk is proof of
    -- arrival, the desk's word (a person booked by phone, identified by staff) is not
    'checked_in_card', (SELECT count(*) FROM day WHERE checked_in_at IS NOT NULL
                                                    AND check_in_method = 'card'),
    'checked_in_staff', (SELECT count(*) FROM day WHERE checked_in_at IS NOT NULL
                                                     AND check_in_method <> 'card'),
    'checked_in_by', (SELECT json_build_object(
        'card', count(*) FILTER (WHERE check_in_method = 'card'),
        'passport', count(*) FILTER (WHERE check_in_method = 'passport'),
        'document_digits', count(*) FILTER (WHERE check_in_method = 'document_digits'),
        'known_to_staff', count(*) FILTER (WHERE check_in_method = 'known_to_staff'),
        'unrecorded', count(*) FILTER (WHERE check_in_method IS NULL))
        FROM day WHERE checked_in_at IS NOT NULL),
    'waited_card', (SELECT count(*) FROM waits WHERE card),
    'waiting_card_p50_s', (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY s) FROM waits
                           WHERE card),
    'waiting_card_p90_s', (SELECT percentile_disc(0.9) WITHIN GROUP (ORDER BY s) FROM waits
                           WHERE card),
    'waiting_card_within_15min_share', (SELECT round(avg((s <= 900)::integer), 4) FROM waits
                                        WHERE card),
    'service_5_10min_share', (SELECT round(avg((s BETWEEN 300 AND 600)::integer), 4)
                              FROM services),
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
        FROM office_hours h WHERE h.office_id = o.id), '[]'),
    -- the terminals whose card taps check in this office's appointments (sql/0033)
    'desk_terminals', coalesce((
        SELECT json_agg(json_build_object('device_id', d.device_id, 'assigned_by', d.assigned_by,
                                          'assigned_at', d.assigned_at)
                        ORDER BY d.assigned_at, d.device_id)
        FROM desk_terminals d WHERE d.office_id = o.id), '[]'))::text
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

-- name: appointment_staff_check_in
-- $1 appointment, $2 how the person was identified, $3 the document's last 4 digits or '',
-- $4 the staff's login: the outcome (sql/0033) and the state it was in.
SELECT appointment_staff_check_in($1::uuid, $2, $3, $4),
       (SELECT state FROM appointments WHERE id = $1::uuid)

-- name: desk_terminal_assign
-- $1 office, $2 device, $3 actor: 'assigned', 'no_office', 'no_device' or 'elsewhere'.
SELECT desk_terminal_assign($1::uuid, $2::uuid, $3)

-- name: desk_terminal_remove
-- $1 office, $2 device: 'removed', or 'not_desk' when it is no desk of the office.
WITH gone AS (DELETE FROM desk_terminals WHERE office_id = $1::uuid AND device_id = $2::uuid
              RETURNING 1)
SELECT CASE WHEN count(*) > 0 THEN 'removed' ELSE 'not_desk' END FROM gone

-- name: desk_exception_resolve
-- $1 exception, $2 accepted | dismissed, $3 note, $4 actor: the outcome (sql/0033).
SELECT desk_exception_resolve($1::uuid, $2, $3, $4)
