-- The trips module's queries (trips.c); the rules are sql/0031_trips.sql. Embedded at
-- build time (tools/sql_embed.c): "-- name: X" is sql_X in C.

-- fragment: trip_head
-- t: a trip; its fields, settlements and partners as every answer shows them.
'id', t.id, 'day', t.day, 'title', t.title, 'state', t.state, 'reason', t.reason,
'office_id', t.office_id, 'region_id', t.region_id, 'provider_id', t.provider_id,
'office', (SELECT o.name FROM offices o WHERE o.id = t.office_id),
'booking_info', t.booking_info, 'slot_minutes', t.slot_minutes,
'settlements', coalesce((SELECT json_agg(json_build_object(
        'position', s.position, 'name', s.name, 'place', s.place,
        'arrives', to_char(s.arrives, 'HH24:MI'), 'leaves', to_char(s.leaves, 'HH24:MI'))
        ORDER BY s.position) FROM trip_settlements s WHERE s.trip_id = t.id), '[]'),
'partners', coalesce((SELECT json_agg(json_build_object('name', p.name, 'activity', p.activity)
        ORDER BY p.position) FROM trip_partners p WHERE p.trip_id = t.id), '[]')

-- name: trip_list
-- $1 the first day ('' = the trip's region's today), $2 state ('' = any): the trips the
-- caller sees from that day on, by day, at most 200.
SELECT json_build_object('trips', coalesce(json_agg(json_build_object(
    {{trip_head}},
    'appointments', (SELECT count(*) FROM appointments a
                     WHERE a.trip_id = t.id AND a.state IN ('booked', 'checked_in',
                                                            'in_service', 'served'))
    ) ORDER BY t.day, t.title, t.id), '[]'))::text
FROM (SELECT * FROM trips t
      WHERE t.day >= coalesce(nullif($1, '')::date, trip_region_today(t.region_id))
        AND ($2 = '' OR t.state = $2)
      ORDER BY t.day, t.title, t.id LIMIT 200) t

-- name: trip_get
-- $1 trip: the trip's day — everything, its members (with names), its appointments,
-- the applications taken on it and its journal. No row when the caller cannot see it.
SELECT json_build_object(
    {{trip_head}},
    'created_by', t.created_by, 'created_at', t.created_at, 'announced_at', t.announced_at,
    'done_at', t.done_at, 'cancelled_at', t.cancelled_at,
    'members', trip_member_list(t.id),
    'appointments', coalesce((SELECT json_agg(json_build_object(
            'id', a.id, 'settlement', a.trip_settlement, 'kind', a.kind, 'state', a.state,
            'start', lower(a.during), 'end', upper(a.during),
            'person_name', a.person_name, 'phone', a.phone)
            ORDER BY lower(a.during), a.id)
            FROM appointments a WHERE a.trip_id = t.id), '[]'),
    'applications', coalesce((SELECT json_agg(json_build_object(
            'id', ap.id, 'number', ap.number, 'applicant_name', ap.applicant_name,
            'purpose', ap.purpose, 'state', ap.state, 'created_at', ap.created_at)
            ORDER BY ap.created_at, ap.id)
            FROM applications ap WHERE ap.trip_id = t.id), '[]'),
    'journal', coalesce((SELECT json_agg(json_build_object(
            'at', j.at, 'change', j.change, 'from', j.from_state, 'to', j.to_state,
            'actor', j.actor, 'role', j.actor_role, 'reason', j.reason) ORDER BY j.id)
            FROM trip_journal j WHERE j.trip_id = t.id), '[]'))::text
FROM trips t WHERE t.id = $1::uuid

-- name: trip_office_of
-- $1 trip: its office, if the caller sees it.
SELECT office_id::text FROM trips WHERE id = $1::uuid

-- name: trip_save
-- $1 trip ('' = a new one) ... see sql/0031 trip_save.
SELECT outcome, coalesce(trip_id::text, ''), coalesce(at_index, -1)
FROM trip_save(nullif($1, '')::uuid, nullif($2, '')::uuid, nullif($3, '')::uuid, $4::date, $5,
               $6, $7::integer, $8::jsonb, $9::jsonb, $10::jsonb, $11, $12)

-- name: trip_move
-- $1 trip, $2 to, $3 reason, $4 actor, $5 role.
SELECT outcome, coalesce(from_state, ''), messages FROM trip_move($1::uuid, $2, $3, $4, $5)

-- name: trip_appointment_take
-- $1 trip, $2 settlement, $3 start, $4 kind, $5 person key, $6 name, $7 phone, $8 actor,
-- $9 the secret (hex; nobody holds it: a desk booking is cancelled by the desk).
SELECT outcome, coalesce(appointment_id::text, '')
FROM trip_appointment_take($1::uuid, $2::integer, $3::timestamptz, $4, $5, $6, $7, $8,
                           sha256(decode($9, 'hex')))

-- name: trip_public
-- $1 region ('' = the first by name): its announced trips from today on, as the public
-- page shows them (no members, no appointments).
WITH rg AS (SELECT r.id, r.name FROM regions r
            WHERE r.id = coalesce(nullif($1, '')::uuid,
                                  (SELECT id FROM regions ORDER BY name, id LIMIT 1)))
SELECT json_build_object(
    'region', (SELECT json_build_object('id', rg.id, 'name', rg.name) FROM rg),
    'trips', coalesce(json_agg(json_build_object(
        'id', t.id, 'day', t.day, 'title', t.title,
        'office', o.name, 'office_address', o.address, 'booking_info', t.booking_info,
        'settlements', coalesce((SELECT json_agg(json_build_object(
                'name', s.name, 'place', s.place,
                'arrives', to_char(s.arrives, 'HH24:MI'), 'leaves', to_char(s.leaves, 'HH24:MI'))
                ORDER BY s.position) FROM trip_settlements s WHERE s.trip_id = t.id), '[]'),
        'partners', coalesce((SELECT json_agg(json_build_object('name', p.name,
                'activity', p.activity) ORDER BY p.position)
                FROM trip_partners p WHERE p.trip_id = t.id), '[]'))
        ORDER BY t.day, t.title, t.id), '[]'))::text
FROM trips t JOIN offices o ON o.id = t.office_id
WHERE t.region_id = (SELECT id FROM rg) AND t.state = 'announced'
  AND t.day >= trip_region_today(t.region_id)
