-- Visits, rebuilt from their events, and the rules that judge them. Each rule is one
-- SQL function here, and every reader uses it: the rebuild (rebuild_visits), the visit
-- after its corrections (visit_effective, 0008), the figures and the exception queue
-- (which read the flags written through visit_flags), the payment register (0009, over
-- visit_effective). See backend/README.md, "Visits".

-- Thresholds for flags (configuration, one row). NOTE: flags are written when a visit
-- is rebuilt (after every event of it and every correction of its services); after
-- changing a threshold or a norm, rebuild the visits it should apply to.
CREATE TABLE visit_thresholds (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    early_leave_ratio numeric NOT NULL DEFAULT 0.8,
    overtime_ratio numeric NOT NULL DEFAULT 1.5,
    low_rating_max integer NOT NULL DEFAULT 2,
    abandoned_after interval NOT NULL DEFAULT '12 hours'
);
INSERT INTO visit_thresholds DEFAULT VALUES;
-- The one-row configuration table is never analyzed by autovacuum (50 changed rows are
-- needed first), so the planner guessed 720 rows for it and multiplied every estimate
-- that joins it (live, exceptions) by that; with statistics it counts one.
ANALYZE visit_thresholds;
GRANT SELECT ON visit_thresholds TO carefact_app;

-- A visit as its events make it (rebuild_visits below): the terminal's facts
-- (services, expected_minutes from them, times, cards, rating) and the flags, which
-- are the verdicts on the visit as it stands, with corrections of its services
-- applied (see visit_flags).
CREATE TABLE visits (
    id uuid PRIMARY KEY,
    provider_id uuid NOT NULL REFERENCES providers,
    worker_id uuid NOT NULL REFERENCES workers,
    -- no foreign key: a visit to an unknown recipient is kept and flagged (refusing a
    -- signed fact would stall the terminal's queue forever)
    recipient_id uuid,
    plan_id uuid,
    state text NOT NULL CHECK (state IN ('started', 'ended', 'rated', 'cancelled', 'attempted')),
    started_at timestamptz,
    ended_at timestamptz,
    duration_s integer,
    expected_minutes integer NOT NULL DEFAULT 0,
    start_confirmed boolean NOT NULL DEFAULT false,
    end_confirmed boolean NOT NULL DEFAULT false,
    rating integer CHECK (rating BETWEEN 1 AND 5),
    comment text,
    reason text,
    cancelled_by text,
    flags text[] NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- start, else end, cancellation or attempt: never NULL, the keyset's sort key
    sort_at timestamptz NOT NULL,
    start_confirmer text CHECK (start_confirmer IN ('recipient', 'guardian')),
    end_confirmer text CHECK (end_confirmer IN ('recipient', 'guardian')),
    start_lat_e7 integer,
    start_lon_e7 integer,
    start_accuracy_m integer,
    end_lat_e7 integer,
    end_lon_e7 integer,
    end_accuracy_m integer,
    -- The services done are two arrays of the visit row (codes and quantities, in the
    -- order of the end event) rather than rows of their own: rewriting two extra rows
    -- per visit on every rebuild was 40 % of the rebuild's cost.
    service_codes text[] NOT NULL DEFAULT '{}',
    service_quantities integer[] NOT NULL DEFAULT '{}'
);
-- Keyset pagination walks (sort_at DESC, id DESC) within each filter; sort_at is
-- never NULL, so these indexes serve the ORDER BY directly (1,000,000 visits and more).
CREATE INDEX visits_sort ON visits (sort_at DESC, id DESC);
CREATE INDEX visits_provider_sort ON visits (provider_id, sort_at DESC, id DESC);
CREATE INDEX visits_worker_sort ON visits (worker_id, sort_at DESC, id DESC);
CREATE INDEX visits_recipient_sort ON visits (recipient_id, sort_at DESC, id DESC);
CREATE INDEX visits_live ON visits (provider_id, sort_at DESC, id DESC) WHERE state = 'started';
-- Flagged visits of a provider, newest first (the list's flag filter adds
-- "cardinality(flags) > 0" so this partial index serves it); most visits carry no flag.
CREATE INDEX visits_flagged ON visits (provider_id, sort_at DESC, id DESC)
    WHERE cardinality(flags) > 0;
-- Flagged visits of every provider, newest first: the authority's exception queue
-- (GET /api/v1/exceptions reads its newest 500 flagged visits from here instead of
-- filtering visits_sort, where 9 in 10 visits carry no flag) and the authority's list
-- filtered by flag (?flag=clock_uncertain: 1 visit in 200).
CREATE INDEX visits_flagged_all ON visits (sort_at DESC, id DESC) WHERE cardinality(flags) > 0;
CREATE INDEX visits_plan ON visits (plan_id) WHERE plan_id IS NOT NULL;
ALTER TABLE visits ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_provider ON visits
    USING (provider_id = ANY ((SELECT visible_providers())::uuid[]));
-- Written only by rebuild_visits (ingest, a confirmed card) and by a services
-- correction's re-judging of the flags (0008).
GRANT SELECT, INSERT, UPDATE ON visits TO carefact_app;

-- Readable views: the services done as rows, door attempts, cancellations.
-- security_invoker: the caller's row-level security applies through them.
CREATE VIEW visit_services WITH (security_invoker = true) AS
    SELECT v.id AS visit_id, s.code AS service_code, s.quantity
    FROM visits v, unnest(v.service_codes, v.service_quantities) s(code, quantity);
CREATE VIEW door_attempts WITH (security_invoker = true) AS
    SELECT id AS visit_id, provider_id, worker_id, recipient_id, plan_id, sort_at AS at, reason
    FROM visits WHERE state = 'attempted';
CREATE VIEW visit_cancellations WITH (security_invoker = true) AS
    SELECT id AS visit_id, provider_id, worker_id, recipient_id, plan_id, sort_at AS at, reason,
           cancelled_by
    FROM visits WHERE state = 'cancelled';
GRANT SELECT ON visit_services, door_attempts, visit_cancellations TO carefact_app;

-- ==== Rules ====
-- One function per rule. The small ones are single expressions (no FROM), so PostgreSQL
-- inlines them into the query that calls them: a rule costs what the expression costs;
-- visit_expected_minutes reads the catalogue and is a one-row table function, inlined
-- where it is used in FROM.

-- Expected time of a visit: the sum of norm_minutes x quantity of the services done
-- (a code not in the catalogue counts 0). One row, used in FROM (LATERAL): a table
-- function of one SELECT is inlined into its caller's plan, where a scalar SQL function
-- with a FROM would be called (and started) once per row -- 25 us a visit, +10 ms on a
-- provider-month of visit_effective with 2 % of it corrected.
CREATE FUNCTION visit_expected_minutes(p_codes text[], p_quantities integer[])
RETURNS TABLE (expected_minutes integer)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(sum(sv.norm_minutes * q.quantity), 0)::integer
    FROM unnest(p_codes, p_quantities) q(code, quantity)
    JOIN services sv ON sv.code = q.code
$$;

-- Left early: under early_leave_ratio of the expected time. Only a visit with an
-- expected time and a duration (started and ended) is judged.
CREATE FUNCTION visit_early_leave(p_duration_s integer, p_expected_minutes integer,
                                  t visit_thresholds) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(p_expected_minutes > 0
                    AND p_duration_s < t.early_leave_ratio * p_expected_minutes * 60, false)
$$;

-- Overtime: over overtime_ratio of the expected time (a finished visit's duration, or a
-- visit in progress's elapsed time: GET /api/v1/live's "overdue").
CREATE FUNCTION visit_overtime(p_duration_s bigint, p_expected_minutes integer,
                               t visit_thresholds) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(p_expected_minutes > 0
                    AND p_duration_s > t.overtime_ratio * p_expected_minutes * 60, false)
$$;

-- Abandoned: a visit started (and neither ended nor cancelled) longer ago than
-- abandoned_after; the caller picks the started visits (GET /api/v1/live, the exception
-- queue). STABLE: it reads the clock.
CREATE FUNCTION visit_abandoned(p_started_at timestamptz, t visit_thresholds) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT p_started_at < now() - t.abandoned_after
$$;

-- Low rating: at or under low_rating_max (the dashboard lists the visits flagged so).
CREATE FUNCTION visit_low_rating(p_rating integer, t visit_thresholds) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(p_rating <= t.low_rating_max, false)
$$;

-- The flags of a visit, in this order: clock_uncertain (start and end on different
-- boots: duration from the wall clock), early_leave / overtime (of the expected time of
-- the services as corrected), card_mismatch (a card not actively bound to the
-- recipient), low_rating, unknown_recipient. Written by rebuild_visits and, after a
-- correction of the services, by 0008's visit_corrections_rejudge, both through this
-- function; the list, the exception queue and the figures read them from visits.flags.
CREATE FUNCTION visit_flags(p_clock_uncertain boolean, p_duration_s integer,
                            p_expected_minutes integer, p_card_mismatch boolean,
                            p_rating integer, p_recipient_known boolean, t visit_thresholds)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_remove(ARRAY[
        CASE WHEN p_clock_uncertain THEN 'clock_uncertain' END,
        CASE WHEN visit_early_leave(p_duration_s, p_expected_minutes, t) THEN 'early_leave' END,
        CASE WHEN visit_overtime(p_duration_s, p_expected_minutes, t) THEN 'overtime' END,
        CASE WHEN p_card_mismatch THEN 'card_mismatch' END,
        CASE WHEN visit_low_rating(p_rating, t) THEN 'low_rating' END,
        CASE WHEN NOT p_recipient_known THEN 'unknown_recipient' END
    ], NULL)
$$;

-- ==== Rebuilding visits ====

-- Rebuild the visits with the given keys from ALL their events. The result is a pure
-- function of the events held (plus the catalogue, the card bindings, the thresholds
-- and the corrections of the services), so it never depends on the order in which
-- terminals delivered them:
--   * the visit belongs to the provider of its earliest event that is not a rating;
--     events of other providers' workers under the same key are ignored;
--   * of each kind the earliest event counts (the latest for ratings), ties broken by
--     (device, seq);
--   * state: rated (ended + rated) > ended > cancelled > started > attempted;
--   * duration from the monotonic clock when start and end share a boot id, else from
--     the wall clock and flagged clock_uncertain;
--   * expected_minutes: visit_expected_minutes of the services done; the flags judge
--     the services as corrected (visit_corrections, 0008: the latest services
--     correction, read at run time), so a correction and the flags never disagree;
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
        SELECT b.*, x.expected_minutes,
               coalesce(cs.expected_minutes, x.expected_minutes) AS effective_expected_minutes,
               sc.holder AS start_confirmer, ec.holder AS end_confirmer,
               EXISTS (SELECT 1 FROM recipients rc
                       WHERE rc.id = b.recipient_id AND rc.provider_id = b.provider_id)
                   AS recipient_known
        FROM base b
        CROSS JOIN LATERAL visit_expected_minutes(b.service_codes, b.service_quantities) x
        -- the latest correction of the services, if any (0008; read at run time)
        LEFT JOIN LATERAL (
            SELECT m.expected_minutes
            FROM visit_corrections vc, correction_services(vc.value) k,
                 visit_expected_minutes(k.codes, k.quantities) m
            WHERE vc.visit_id = b.id AND vc.field = 'services'
            ORDER BY vc.id DESC LIMIT 1
        ) cs ON true
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
               visit_flags(v.clock_uncertain, v.duration_s, v.effective_expected_minutes,
                           (v.start_token IS NOT NULL AND v.start_confirmer IS NULL)
                               OR (v.end_token IS NOT NULL AND v.end_confirmer IS NULL),
                           v.rating, v.recipient_known, t) AS flags
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
