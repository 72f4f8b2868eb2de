-- Events as typed columns and visits rebuilt set-wise.
--
-- 0001 kept each event as a jsonb payload and rebuilt visits one at a time in
-- PL/pgSQL; that cost most of the ingest time. Here every field of the event model
-- (firmware-shared/include/cf/event.h) gets its own column, so:
--   * carefactd loads a batch with one COPY (no JSON parsed by the database),
--   * the canonical digest of any stored event can be recomputed from its row
--     (carefactd does so when it serves a visit's events),
--   * all visits a batch touches are rebuilt by one set-based statement.
-- Also: a door attempt is a visit of its own (state 'attempted'); visits carry
-- sort_at (never NULL) for keyset pagination; an unknown recipient no longer blocks
-- ingest (the visit is flagged instead: refusing a signed fact would stall the
-- terminal's queue forever); events carry provider_id for row-level security.

-- ==== Regions: local time ====

-- "Today's plans" and the dates of card bindings and certificates are local dates
-- of the region, not UTC ones.
CREATE FUNCTION is_time_zone(p_name text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = p_name)
$$;
ALTER TABLE regions ADD COLUMN timezone text NOT NULL DEFAULT 'Europe/Moscow'
    CHECK (is_time_zone(timezone));

-- ==== Events ====

ALTER TABLE events
    ADD COLUMN provider_id uuid,
    ADD COLUMN plan_id uuid,
    ADD COLUMN card_method text,
    ADD COLUMN card_token text,
    ADD COLUMN card_scheme text,
    ADD COLUMN card_last4 text,
    ADD COLUMN lat_e7 integer,
    ADD COLUMN lon_e7 integer,
    ADD COLUMN accuracy_m integer,
    ADD COLUMN service_codes text[],
    ADD COLUMN service_quantities integer[],
    ADD COLUMN rating smallint,
    ADD COLUMN comment text,
    ADD COLUMN reason text,
    ADD COLUMN cancelled_by text;

-- Rows stored by 0001's ingest: move the payload into the columns.
UPDATE events e SET
    provider_id = w.provider_id,
    plan_id = nullif(e.payload->>'plan_id', '00000000-0000-0000-0000-000000000000')::uuid,
    card_method = e.payload->'card'->>'method',
    card_token = e.payload->'card'->>'token',
    card_scheme = CASE WHEN e.payload ? 'card' THEN coalesce(e.payload->'card'->>'scheme', '') END,
    card_last4 = CASE WHEN e.payload ? 'card' THEN coalesce(e.payload->'card'->>'last4', '') END,
    lat_e7 = (e.payload->'location'->>'lat_e7')::integer,
    lon_e7 = (e.payload->'location'->>'lon_e7')::integer,
    accuracy_m = (e.payload->'location'->>'accuracy_m')::integer,
    service_codes = (SELECT array_agg(x->>'code' ORDER BY o)
                     FROM jsonb_array_elements(e.payload->'services') WITH ORDINALITY s(x, o)),
    service_quantities = (SELECT array_agg((x->>'quantity')::integer ORDER BY o)
                          FROM jsonb_array_elements(e.payload->'services') WITH ORDINALITY s(x, o)),
    rating = nullif((e.payload->>'rating')::smallint, 0),
    comment = nullif(e.payload->>'comment', ''),
    reason = nullif(e.payload->>'reason', ''),
    cancelled_by = nullif(e.payload->>'cancelled_by', '')
FROM workers w
WHERE w.id = e.worker_id;

DROP TABLE door_attempts;
ALTER TABLE events DROP COLUMN payload;
ALTER TABLE events ALTER COLUMN provider_id SET NOT NULL;

-- NOTE: no CHECK constraints on the event columns: every event is validated by
-- cf_event_validate (firmware-shared) before it is stored, and a CHECK per column
-- would be paid on every one of millions of rows for no added safety.

-- The visit an event belongs to: its visit_id, or for a door attempt recorded without
-- one, a key of its own derived from (device, seq), so every attempt is one visit.
ALTER TABLE events ADD COLUMN visit_key uuid
    GENERATED ALWAYS AS (coalesce(visit_id, md5(device_id::text || '/' || seq::text)::uuid)) STORED;
DROP INDEX events_visit;
CREATE INDEX events_visit_key ON events (visit_key);

-- ==== Devices, cards ====

ALTER TABLE devices ADD COLUMN last_upload_at timestamptz;

-- A card.bound event adds a binding waiting for a manager's confirmation.
ALTER TABLE card_bindings
    ADD COLUMN source_device uuid,
    ADD COLUMN source_seq bigint;

-- ==== Visits ====

ALTER TABLE visits DROP CONSTRAINT visits_recipient_id_fkey;
ALTER TABLE visits DROP CONSTRAINT visits_state_check;
ALTER TABLE visits ADD CONSTRAINT visits_state_check
    CHECK (state IN ('started', 'ended', 'rated', 'cancelled', 'attempted'));
ALTER TABLE visits RENAME COLUMN cancel_reason TO reason;
ALTER TABLE visits
    ADD COLUMN sort_at timestamptz,
    ADD COLUMN start_confirmer text CHECK (start_confirmer IN ('recipient', 'guardian')),
    ADD COLUMN end_confirmer text CHECK (end_confirmer IN ('recipient', 'guardian')),
    ADD COLUMN start_lat_e7 integer,
    ADD COLUMN start_lon_e7 integer,
    ADD COLUMN start_accuracy_m integer,
    ADD COLUMN end_lat_e7 integer,
    ADD COLUMN end_lon_e7 integer,
    ADD COLUMN end_accuracy_m integer,
    ADD COLUMN service_codes text[] NOT NULL DEFAULT '{}',
    ADD COLUMN service_quantities integer[] NOT NULL DEFAULT '{}';
UPDATE visits SET sort_at = coalesce(started_at, ended_at, updated_at);
ALTER TABLE visits ALTER COLUMN sort_at SET NOT NULL;

-- The services done are two arrays of the visit row (codes and quantities, in the
-- order of the end event) rather than rows of their own: rewriting two extra rows
-- per visit on every rebuild was 40 % of the rebuild's cost. visit_services, now a
-- view, still reads as a table.
UPDATE visits v SET service_codes = s.codes, service_quantities = s.quantities
FROM (SELECT visit_id, array_agg(service_code ORDER BY service_code) AS codes,
             array_agg(quantity ORDER BY service_code) AS quantities
      FROM visit_services GROUP BY visit_id) s
WHERE s.visit_id = v.id;
DROP TABLE visit_services;
CREATE VIEW visit_services AS
    SELECT v.id AS visit_id, s.code AS service_code, s.quantity
    FROM visits v, unnest(v.service_codes, v.service_quantities) s(code, quantity);

-- Keyset pagination walks (sort_at DESC, id DESC) within each filter; sort_at is
-- never NULL, so these indexes serve the ORDER BY directly (1,000,000 visits and more).
DROP INDEX visits_provider_started;
DROP INDEX visits_worker_started;
DROP INDEX visits_recipient_started;
CREATE INDEX visits_sort ON visits (sort_at DESC, id DESC);
CREATE INDEX visits_provider_sort ON visits (provider_id, sort_at DESC, id DESC);
CREATE INDEX visits_worker_sort ON visits (worker_id, sort_at DESC, id DESC);
CREATE INDEX visits_recipient_sort ON visits (recipient_id, sort_at DESC, id DESC);
CREATE INDEX visits_live ON visits (provider_id, sort_at DESC, id DESC) WHERE state = 'started';
-- Flagged visits of a provider, newest first (the list's flag filter adds
-- "cardinality(flags) > 0" so this partial index serves it); cheaper to keep than
-- 0001's GIN index, and most visits carry no flag at all.
DROP INDEX visits_flags;
CREATE INDEX visits_flagged ON visits (provider_id, sort_at DESC, id DESC)
    WHERE cardinality(flags) > 0;
CREATE INDEX visits_plan ON visits (plan_id) WHERE plan_id IS NOT NULL;
CREATE INDEX visit_plans_provider_start ON visit_plans (provider_id, planned_start);
CREATE INDEX visit_plans_recipient_start ON visit_plans (recipient_id, planned_start);

-- Readable views over what 0001 kept in tables of their own.
CREATE VIEW door_attempts AS
    SELECT id AS visit_id, provider_id, worker_id, recipient_id, plan_id, sort_at AS at, reason
    FROM visits WHERE state = 'attempted';
CREATE VIEW visit_cancellations AS
    SELECT id AS visit_id, provider_id, worker_id, recipient_id, plan_id, sort_at AS at, reason,
           cancelled_by
    FROM visits WHERE state = 'cancelled';

-- ==== Rebuilding visits ====

DROP FUNCTION rebuild_visit(uuid);

-- Rebuild the visits with the given keys from ALL their events. The result is a pure
-- function of the events held (plus the catalogue, the card bindings and the
-- thresholds), so it never depends on the order in which terminals delivered them:
--   * the visit belongs to the provider of its earliest event that is not a rating;
--     events of other providers' workers under the same key are ignored;
--   * of each kind the earliest event counts (the latest for ratings), ties broken by
--     (device, seq);
--   * state: rated (ended + rated) > ended > cancelled > started > attempted;
--   * duration from the monotonic clock when start and end share a boot id, else from
--     the wall clock and flagged clock_uncertain;
--   * expected minutes = sum of norm_minutes x quantity of the services done;
--   * a card confirms an end when it is actively bound to the visit's recipient on
--     that local date (by the recipient, or by a guardian acting for them).
-- Returns the number of visits written (unchanged ones are not rewritten).
CREATE FUNCTION rebuild_visits(p_keys uuid[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    WITH t AS (
        SELECT * FROM visit_thresholds LIMIT 1
    ), ev AS MATERIALIZED (
        SELECT e.visit_key, e.kind, e.device_id, e.seq, e.provider_id, e.worker_id,
               e.recipient_id, e.plan_id, e.wall_time, e.mono_ms, e.boot_id, e.card_token,
               e.lat_e7, e.lon_e7, e.accuracy_m, e.service_codes, e.service_quantities,
               e.rating, e.comment, e.reason, e.cancelled_by
        FROM events e
        WHERE e.visit_key = ANY (p_keys)
          AND e.kind IN ('visit.started', 'visit.ended', 'visit.rated', 'visit.cancelled',
                         'visit.attempt')
    ), anchor AS (
        SELECT DISTINCT ON (visit_key) visit_key, provider_id
        FROM ev WHERE kind <> 'visit.rated'
        ORDER BY visit_key, wall_time, device_id, seq
    ), own AS MATERIALIZED (
        SELECT ev.* FROM ev JOIN anchor a USING (visit_key, provider_id)
    ), s AS (
        SELECT DISTINCT ON (visit_key) * FROM own WHERE kind = 'visit.started'
        ORDER BY visit_key, wall_time, device_id, seq
    ), en AS (
        SELECT DISTINCT ON (visit_key) * FROM own WHERE kind = 'visit.ended'
        ORDER BY visit_key, wall_time, device_id, seq
    ), r AS (
        SELECT DISTINCT ON (visit_key) * FROM own WHERE kind = 'visit.rated'
        ORDER BY visit_key, wall_time DESC, device_id DESC, seq DESC
    ), c AS (
        SELECT DISTINCT ON (visit_key) * FROM own WHERE kind = 'visit.cancelled'
        ORDER BY visit_key, wall_time, device_id, seq
    ), att AS (
        SELECT DISTINCT ON (visit_key) * FROM own WHERE kind = 'visit.attempt'
        ORDER BY visit_key, wall_time, device_id, seq
    ), base AS (
        SELECT a.visit_key AS id, a.provider_id, rg.timezone,
               coalesce(s.worker_id, en.worker_id, c.worker_id, att.worker_id) AS worker_id,
               coalesce(s.recipient_id, en.recipient_id, c.recipient_id, att.recipient_id)
                   AS recipient_id,
               coalesce(s.plan_id, en.plan_id, c.plan_id, att.plan_id, r.plan_id) AS plan_id,
               CASE WHEN en.seq IS NOT NULL AND r.seq IS NOT NULL THEN 'rated'
                    WHEN en.seq IS NOT NULL THEN 'ended'
                    WHEN c.seq IS NOT NULL THEN 'cancelled'
                    WHEN s.seq IS NOT NULL THEN 'started'
                    ELSE 'attempted' END AS state,
               s.wall_time AS started_at, en.wall_time AS ended_at,
               coalesce(s.wall_time, en.wall_time, c.wall_time, att.wall_time) AS sort_at,
               CASE WHEN s.seq IS NULL OR en.seq IS NULL THEN NULL
                    WHEN s.boot_id = en.boot_id THEN greatest(0, (en.mono_ms - s.mono_ms) / 1000)
                    ELSE greatest(0, floor(extract(epoch FROM en.wall_time - s.wall_time)))
                END::integer AS duration_s,
               s.seq IS NOT NULL AND en.seq IS NOT NULL AND s.boot_id <> en.boot_id
                   AS clock_uncertain,
               s.card_token AS start_token, s.wall_time AS start_at,
               en.card_token AS end_token, en.wall_time AS end_at,
               en.service_codes, en.service_quantities,
               r.rating, r.comment, coalesce(c.reason, att.reason) AS reason, c.cancelled_by,
               s.lat_e7 AS start_lat_e7, s.lon_e7 AS start_lon_e7,
               s.accuracy_m AS start_accuracy_m, en.lat_e7 AS end_lat_e7,
               en.lon_e7 AS end_lon_e7, en.accuracy_m AS end_accuracy_m
        FROM anchor a
        JOIN providers p ON p.id = a.provider_id
        JOIN regions rg ON rg.id = p.region_id
        LEFT JOIN s USING (visit_key)
        LEFT JOIN en USING (visit_key)
        LEFT JOIN r USING (visit_key)
        LEFT JOIN c USING (visit_key)
        LEFT JOIN att USING (visit_key)
    ), v AS (
        SELECT b.*,
               x.expected_minutes, sc.holder AS start_confirmer, ec.holder AS end_confirmer,
               EXISTS (SELECT 1 FROM recipients rc
                       WHERE rc.id = b.recipient_id AND rc.provider_id = b.provider_id)
                   AS recipient_known
        FROM base b
        CROSS JOIN LATERAL (
            SELECT coalesce(sum(sv.norm_minutes * q.quantity), 0)::integer AS expected_minutes
            FROM unnest(b.service_codes, b.service_quantities) q(code, quantity)
            JOIN services sv ON sv.code = q.code
        ) x
        LEFT JOIN LATERAL (
            SELECT cb.holder FROM card_bindings cb
            WHERE cb.token = b.start_token AND cb.recipient_id = b.recipient_id
              AND cb.status = 'active'
              AND (cb.valid_from IS NULL OR cb.valid_from <= (b.start_at AT TIME ZONE b.timezone)::date)
              AND (cb.valid_to IS NULL OR cb.valid_to >= (b.start_at AT TIME ZONE b.timezone)::date)
            ORDER BY cb.holder = 'recipient' DESC LIMIT 1
        ) sc ON true
        LEFT JOIN LATERAL (
            SELECT cb.holder FROM card_bindings cb
            WHERE cb.token = b.end_token AND cb.recipient_id = b.recipient_id
              AND cb.status = 'active'
              AND (cb.valid_from IS NULL OR cb.valid_from <= (b.end_at AT TIME ZONE b.timezone)::date)
              AND (cb.valid_to IS NULL OR cb.valid_to >= (b.end_at AT TIME ZONE b.timezone)::date)
            ORDER BY cb.holder = 'recipient' DESC LIMIT 1
        ) ec ON true
    ), f AS (
        SELECT v.*,
               array_remove(ARRAY[
                   CASE WHEN v.clock_uncertain THEN 'clock_uncertain' END,
                   CASE WHEN v.expected_minutes > 0 AND v.duration_s IS NOT NULL
                             AND v.duration_s < t.early_leave_ratio * v.expected_minutes * 60
                        THEN 'early_leave' END,
                   CASE WHEN v.expected_minutes > 0 AND v.duration_s IS NOT NULL
                             AND v.duration_s > t.overtime_ratio * v.expected_minutes * 60
                        THEN 'overtime' END,
                   CASE WHEN (v.start_token IS NOT NULL AND v.start_confirmer IS NULL)
                          OR (v.end_token IS NOT NULL AND v.end_confirmer IS NULL)
                        THEN 'card_mismatch' END,
                   CASE WHEN v.rating IS NOT NULL AND v.rating <= t.low_rating_max
                        THEN 'low_rating' END,
                   CASE WHEN NOT v.recipient_known THEN 'unknown_recipient' END
               ], NULL) AS flags
        FROM v CROSS JOIN t
    ), up AS (
        INSERT INTO visits AS x (id, provider_id, worker_id, recipient_id, plan_id, state,
                                 started_at, ended_at, sort_at, duration_s, expected_minutes,
                                 start_confirmed, end_confirmed, start_confirmer, end_confirmer,
                                 rating, comment, reason, cancelled_by, flags,
                                 start_lat_e7, start_lon_e7, start_accuracy_m,
                                 end_lat_e7, end_lon_e7, end_accuracy_m, service_codes,
                                 service_quantities, updated_at)
        SELECT f.id, f.provider_id, f.worker_id, f.recipient_id, f.plan_id, f.state,
               f.started_at, f.ended_at, f.sort_at, f.duration_s, f.expected_minutes,
               f.start_confirmer IS NOT NULL, f.end_confirmer IS NOT NULL,
               f.start_confirmer, f.end_confirmer, f.rating, f.comment, f.reason,
               f.cancelled_by, f.flags, f.start_lat_e7, f.start_lon_e7, f.start_accuracy_m,
               f.end_lat_e7, f.end_lon_e7, f.end_accuracy_m,
               coalesce(f.service_codes, '{}'), coalesce(f.service_quantities, '{}'), now()
        FROM f
        ON CONFLICT (id) DO UPDATE SET
            provider_id = EXCLUDED.provider_id, worker_id = EXCLUDED.worker_id,
            recipient_id = EXCLUDED.recipient_id, plan_id = EXCLUDED.plan_id,
            state = EXCLUDED.state, started_at = EXCLUDED.started_at,
            ended_at = EXCLUDED.ended_at, sort_at = EXCLUDED.sort_at,
            duration_s = EXCLUDED.duration_s, expected_minutes = EXCLUDED.expected_minutes,
            start_confirmed = EXCLUDED.start_confirmed, end_confirmed = EXCLUDED.end_confirmed,
            start_confirmer = EXCLUDED.start_confirmer, end_confirmer = EXCLUDED.end_confirmer,
            rating = EXCLUDED.rating, comment = EXCLUDED.comment, reason = EXCLUDED.reason,
            cancelled_by = EXCLUDED.cancelled_by, flags = EXCLUDED.flags,
            start_lat_e7 = EXCLUDED.start_lat_e7, start_lon_e7 = EXCLUDED.start_lon_e7,
            start_accuracy_m = EXCLUDED.start_accuracy_m, end_lat_e7 = EXCLUDED.end_lat_e7,
            end_lon_e7 = EXCLUDED.end_lon_e7, end_accuracy_m = EXCLUDED.end_accuracy_m,
            service_codes = EXCLUDED.service_codes,
            service_quantities = EXCLUDED.service_quantities, updated_at = now()
        -- A late event that changes nothing (a replayed rating...) rewrites nothing.
        WHERE (x.provider_id, x.worker_id, x.recipient_id, x.plan_id, x.state, x.started_at,
               x.ended_at, x.sort_at, x.duration_s, x.expected_minutes, x.start_confirmer,
               x.end_confirmer, x.rating, x.comment, x.reason, x.cancelled_by, x.flags,
               x.start_lat_e7, x.start_lon_e7, x.start_accuracy_m, x.end_lat_e7, x.end_lon_e7,
               x.end_accuracy_m, x.service_codes, x.service_quantities)
              IS DISTINCT FROM
              (EXCLUDED.provider_id, EXCLUDED.worker_id, EXCLUDED.recipient_id,
               EXCLUDED.plan_id, EXCLUDED.state, EXCLUDED.started_at, EXCLUDED.ended_at,
               EXCLUDED.sort_at, EXCLUDED.duration_s, EXCLUDED.expected_minutes,
               EXCLUDED.start_confirmer, EXCLUDED.end_confirmer, EXCLUDED.rating,
               EXCLUDED.comment, EXCLUDED.reason, EXCLUDED.cancelled_by, EXCLUDED.flags,
               EXCLUDED.start_lat_e7, EXCLUDED.start_lon_e7, EXCLUDED.start_accuracy_m,
               EXCLUDED.end_lat_e7, EXCLUDED.end_lon_e7, EXCLUDED.end_accuracy_m,
               EXCLUDED.service_codes, EXCLUDED.service_quantities)
        RETURNING x.id
    )
    SELECT count(*) FROM up
    INTO n;
    RETURN n;
END
$$;

-- The end of one ingest transaction, in one round trip: rebuild the visits touched by
-- the device's events (p_after, p_last_seq], record card.bound events as bindings
-- waiting for confirmation, and move the device's chain head. Returns the number of
-- visits written.
CREATE FUNCTION ingest_finish(p_device uuid, p_after bigint, p_last_seq bigint,
                              p_last_digest bytea) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    keys uuid[];
    n integer := 0;
BEGIN
    SELECT array_agg(DISTINCT e.visit_key) INTO keys
    FROM events e
    WHERE e.device_id = p_device AND e.seq > p_after AND e.seq <= p_last_seq
      AND e.kind IN ('visit.started', 'visit.ended', 'visit.rated', 'visit.cancelled',
                     'visit.attempt');
    IF keys IS NOT NULL THEN
        n := rebuild_visits(keys);
    END IF;
    INSERT INTO card_bindings (recipient_id, token, method, scheme, last4, status,
                               source_device, source_seq)
    SELECT e.recipient_id, e.card_token, e.card_method, coalesce(e.card_scheme, ''),
           coalesce(e.card_last4, ''), 'pending', e.device_id, e.seq
    FROM events e
    JOIN recipients r ON r.id = e.recipient_id AND r.provider_id = e.provider_id
    WHERE e.device_id = p_device AND e.seq > p_after AND e.seq <= p_last_seq
      AND e.kind = 'card.bound'
    ON CONFLICT DO NOTHING;
    UPDATE devices SET last_seq = p_last_seq, last_digest = p_last_digest,
                       last_upload_at = now()
    WHERE id = p_device;
    RETURN n;
END
$$;

-- Visits of rows stored before this migration, rebuilt by the new rules.
SELECT rebuild_visits(array_agg(DISTINCT visit_key)) FROM events
WHERE kind IN ('visit.started', 'visit.ended', 'visit.rated', 'visit.cancelled', 'visit.attempt');
