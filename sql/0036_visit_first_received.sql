-- A visit's events read from the months since its first one was received (issue 18,
-- "Performance"). events is partitioned by the month received (0014), and the rebuild
-- read a visit's events by visit_key alone: an index probe of every month kept online,
-- 45 in the 10,000,000-event region, where ingest ran 5.5 times slower than into a fresh
-- database (backend/README.md, "Performance"). Every event of a visit is received at or
-- after its first one, so the month of that first one bounds the read: a new visit reads
-- this month's partition only, one uploaded over a month's turn two.
--
-- The first receipt is kept per visit key, not on visits: a key can have events and no
-- visit (ratings only make none, 0005), and its later start must still find them.
-- For the integrator: rebuild_visits (0013's) and ingest_finish (0014's) are redefined
-- here with the lines of this migration marked "-- 0036"; everything else is theirs.

-- When the first event of each visit key was received: the keys of the visit events
-- (the five kinds) and of every event naming a visit (visit_id), which are the events
-- read by visit_key. Kept by a statement trigger on events, so every writer (ingest's
-- COPY, a generator, a test) keeps it true. No personal data, no provider: not under
-- row-level security (tests/security/catalogue.sh).
CREATE TABLE visit_first_received (
    visit_key uuid PRIMARY KEY,
    received_at timestamptz NOT NULL
);
GRANT SELECT ON visit_first_received TO carefact_app;

CREATE FUNCTION visit_first_received_keep() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO visit_first_received AS f (visit_key, received_at)
    SELECT n.visit_key, min(n.received_at) FROM stored n
    WHERE n.visit_id IS NOT NULL
       OR n.kind IN ('visit.started', 'visit.ended', 'visit.rated', 'visit.cancelled',
                     'visit.attempt')
    GROUP BY n.visit_key
    ORDER BY n.visit_key -- two statements storing the same keys lock them in one order
    ON CONFLICT (visit_key) DO UPDATE SET received_at = EXCLUDED.received_at
        WHERE EXCLUDED.received_at < f.received_at; -- history loaded in any order
    RETURN NULL;
END
$$;
CREATE TRIGGER events_first_received AFTER INSERT ON events
    REFERENCING NEW TABLE AS stored
    FOR EACH STATEMENT EXECUTE FUNCTION visit_first_received_keep();

INSERT INTO visit_first_received (visit_key, received_at)
SELECT e.visit_key, min(e.received_at) FROM events e
WHERE e.visit_id IS NOT NULL
   OR e.kind IN ('visit.started', 'visit.ended', 'visit.rated', 'visit.cancelled',
                 'visit.attempt')
GROUP BY e.visit_key;

-- The earliest first receipt of the keys: what a read of their events may start from
-- (received_at >= it). A key without a row -- no event of it is stored -- makes it
-- -infinity, every month read: never fewer events than there are.
CREATE FUNCTION visit_events_since(p_keys uuid[]) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN bool_and(f.received_at IS NOT NULL) THEN min(f.received_at)
                ELSE '-infinity' END
    FROM unnest(p_keys) k LEFT JOIN visit_first_received f ON f.visit_key = k
$$;

-- 0013's rebuild, its events read from the months since the keys' first receipt (the lines
-- marked 0036): since is a parameter of the plan, so even a cached generic plan keeps
-- only those partitions (pruned as the executor starts).
-- And base materialised (0036). Inlined, its recipient_id reached the lookups of
-- recipients below as coalesce(s.recipient_id, en.recipient_id, ...), an expression
-- PostgreSQL does not take for leakproof: under row-level security (carefact_app) it may
-- not go into an index condition before the policy's, so each lookup read every recipient
-- of the provider by recipients_provider and filtered by id -- 5 lookups per visit,
-- 0.8 ms each at 15,000 recipients: 137 of a 138 ms rebuild of 34 visits, and ingest into
-- a region of 3.4 M events at 1,100 events/s (5,300 with it). As a materialised row the
-- value is a plain column, and each lookup is one probe of the primary key.
CREATE OR REPLACE FUNCTION rebuild_visits(p_keys uuid[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
    since timestamptz := visit_events_since(p_keys); -- 0036
BEGIN
    WITH t AS (
        SELECT * FROM visit_thresholds LIMIT 1
    ), ev AS MATERIALIZED (
        SELECT e.visit_key, e.kind, e.device_id, e.seq, e.provider_id, e.worker_id,
               e.recipient_id, e.plan_id, e.wall_time, e.mono_ms, e.boot_id, e.card_token,
               e.lat_e7, e.lon_e7, e.accuracy_m, e.service_codes, e.service_quantities,
               e.rating, e.comment, e.reason, e.cancelled_by, e.card_method,
               e.card_proof_level, e.card_proof_failure -- 0013
        FROM events e
        WHERE e.visit_key = ANY (p_keys)
          AND e.received_at >= since -- 0036
          AND e.kind IN ('visit.started', 'visit.ended', 'visit.rated', 'visit.cancelled',
                         'visit.attempt')
    ), anchor AS (
        -- the owner: the device of the opening event (ingest lets no other device's
        -- event in; this only decides for events stored before 0010). As in 0005, a key
        -- with ratings only makes no visit.
        SELECT DISTINCT ON (visit_key) visit_key, device_id, provider_id
        FROM ev WHERE kind <> 'visit.rated'
        ORDER BY visit_key, NOT visit_opening_kind(kind), wall_time, device_id, seq
    ), own AS MATERIALIZED (
        SELECT ev.* FROM ev JOIN anchor a USING (visit_key, device_id)
    ), s AS (
        SELECT DISTINCT ON (visit_key) * FROM own WHERE kind = 'visit.started'
        ORDER BY visit_key, wall_time, device_id, seq
    ), en AS (
        SELECT DISTINCT ON (visit_key) * FROM own WHERE kind = 'visit.ended'
        ORDER BY visit_key, wall_time, device_id, seq
    ), r AS (
        -- the first rating the terminal signed counts; a later one only flags the visit
        SELECT DISTINCT ON (visit_key) *,
               count(*) OVER (PARTITION BY visit_key) AS ratings
        FROM own WHERE kind = 'visit.rated'
        ORDER BY visit_key, seq
    ), c AS (
        SELECT DISTINCT ON (visit_key) * FROM own WHERE kind = 'visit.cancelled'
        ORDER BY visit_key, wall_time, device_id, seq
    ), att AS (
        SELECT DISTINCT ON (visit_key) * FROM own WHERE kind = 'visit.attempt'
        ORDER BY visit_key, wall_time, device_id, seq
    ), base AS MATERIALIZED ( -- 0036: its recipient_id a plain value below (see above)
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
               r.rating, r.comment, coalesce(r.ratings > 1, false) AS rating_amended,
               coalesce(c.reason, att.reason) AS reason, c.cancelled_by,
               s.lat_e7 AS start_lat_e7, s.lon_e7 AS start_lon_e7,
               s.accuracy_m AS start_accuracy_m, en.lat_e7 AS end_lat_e7,
               en.lon_e7 AS end_lon_e7, en.accuracy_m AS end_accuracy_m,
               -- 0013: each confirmation's assurance level and proof failure
               card_assurance(s.card_method, s.card_proof_level) AS start_level,
               s.card_proof_failure AS start_proof_failure,
               card_assurance(en.card_method, en.card_proof_level) AS end_level,
               en.card_proof_failure AS end_proof_failure
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
               sc.holder AS start_holder, ec.holder AS end_holder,
               CASE WHEN scert.certified THEN sc.holder END AS start_confirmer,
               CASE WHEN ecert.certified THEN ec.holder END AS end_confirmer,
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
        -- a binding counts only for a recipient of the visit's provider, whoever
        -- rebuilds (an authority's scope sees every provider's bindings)
        LEFT JOIN LATERAL (
            SELECT cb.holder FROM card_bindings cb
            JOIN recipients rc ON rc.id = cb.recipient_id AND rc.provider_id = b.provider_id
            WHERE cb.token = b.start_token AND cb.recipient_id = b.recipient_id
              AND cb.status = 'active'
              AND (cb.valid_from IS NULL OR cb.valid_from <= (b.start_at AT TIME ZONE b.timezone)::date)
              AND (cb.valid_to IS NULL OR cb.valid_to >= (b.start_at AT TIME ZONE b.timezone)::date)
            ORDER BY cb.holder = 'recipient' DESC LIMIT 1
        ) sc ON true
        LEFT JOIN LATERAL (
            SELECT cb.holder FROM card_bindings cb
            JOIN recipients rc ON rc.id = cb.recipient_id AND rc.provider_id = b.provider_id
            WHERE cb.token = b.end_token AND cb.recipient_id = b.recipient_id
              AND cb.status = 'active'
              AND (cb.valid_from IS NULL OR cb.valid_from <= (b.end_at AT TIME ZONE b.timezone)::date)
              AND (cb.valid_to IS NULL OR cb.valid_to >= (b.end_at AT TIME ZONE b.timezone)::date)
            ORDER BY cb.holder = 'recipient' DESC LIMIT 1
        ) ec ON true
        CROSS JOIN LATERAL visit_recipient_certified(
            b.recipient_id, b.provider_id, (b.start_at AT TIME ZONE b.timezone)::date) scert
        CROSS JOIN LATERAL visit_recipient_certified(
            b.recipient_id, b.provider_id, (b.end_at AT TIME ZONE b.timezone)::date) ecert
    ), f AS (
        SELECT v.*,
               visit_flags(v.clock_uncertain, v.duration_s, v.effective_expected_minutes,
                           (v.start_token IS NOT NULL AND v.start_holder IS NULL)
                               OR (v.end_token IS NOT NULL AND v.end_holder IS NULL),
                           v.rating, v.recipient_known, t, v.rating_amended) AS flags
        FROM v CROSS JOIN t
    ), up AS (
        INSERT INTO visits AS x (id, provider_id, worker_id, recipient_id, plan_id, state,
                                 started_at, ended_at, sort_at, duration_s, expected_minutes,
                                 start_confirmed, end_confirmed, start_confirmer, end_confirmer,
                                 rating, comment, reason, cancelled_by, flags,
                                 start_lat_e7, start_lon_e7, start_accuracy_m,
                                 end_lat_e7, end_lon_e7, end_accuracy_m, service_codes,
                                 service_quantities, updated_at, start_level,
                                 start_proof_failure, end_level, end_proof_failure)
        SELECT f.id, f.provider_id, f.worker_id, f.recipient_id, f.plan_id, f.state,
               f.started_at, f.ended_at, f.sort_at, f.duration_s, f.expected_minutes,
               f.start_confirmer IS NOT NULL, f.end_confirmer IS NOT NULL,
               f.start_confirmer, f.end_confirmer, f.rating, f.comment, f.reason,
               f.cancelled_by, f.flags, f.start_lat_e7, f.start_lon_e7, f.start_accuracy_m,
               f.end_lat_e7, f.end_lon_e7, f.end_accuracy_m,
               coalesce(f.service_codes, '{}'), coalesce(f.service_quantities, '{}'), now(),
               f.start_level, f.start_proof_failure, f.end_level, f.end_proof_failure
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
            service_quantities = EXCLUDED.service_quantities, updated_at = now(),
            start_level = EXCLUDED.start_level,
            start_proof_failure = EXCLUDED.start_proof_failure,
            end_level = EXCLUDED.end_level, end_proof_failure = EXCLUDED.end_proof_failure
        -- A late event that changes nothing (a replayed rating...) rewrites nothing.
        WHERE (x.provider_id, x.worker_id, x.recipient_id, x.plan_id, x.state, x.started_at,
               x.ended_at, x.sort_at, x.duration_s, x.expected_minutes, x.start_confirmer,
               x.end_confirmer, x.rating, x.comment, x.reason, x.cancelled_by, x.flags,
               x.start_lat_e7, x.start_lon_e7, x.start_accuracy_m, x.end_lat_e7, x.end_lon_e7,
               x.end_accuracy_m, x.service_codes, x.service_quantities, x.start_level,
               x.start_proof_failure, x.end_level, x.end_proof_failure)
              IS DISTINCT FROM
              (EXCLUDED.provider_id, EXCLUDED.worker_id, EXCLUDED.recipient_id,
               EXCLUDED.plan_id, EXCLUDED.state, EXCLUDED.started_at, EXCLUDED.ended_at,
               EXCLUDED.sort_at, EXCLUDED.duration_s, EXCLUDED.expected_minutes,
               EXCLUDED.start_confirmer, EXCLUDED.end_confirmer, EXCLUDED.rating,
               EXCLUDED.comment, EXCLUDED.reason, EXCLUDED.cancelled_by, EXCLUDED.flags,
               EXCLUDED.start_lat_e7, EXCLUDED.start_lon_e7, EXCLUDED.start_accuracy_m,
               EXCLUDED.end_lat_e7, EXCLUDED.end_lon_e7, EXCLUDED.end_accuracy_m,
               EXCLUDED.service_codes, EXCLUDED.service_quantities, EXCLUDED.start_level,
               EXCLUDED.start_proof_failure, EXCLUDED.end_level, EXCLUDED.end_proof_failure)
        RETURNING x.id
    )
    SELECT count(*) FROM up
    INTO n;
    RETURN n;
END
$$;

-- 0014's ingest_finish, the ownership check's read of the batch's visits' events and the
-- owner's look-up bounded as the rebuild's (the lines marked 0036).
CREATE OR REPLACE FUNCTION ingest_finish(p_device uuid, p_after bigint, p_last_seq bigint,
                                         p_last_digest bytea)
RETURNS TABLE (visits integer, refused_seq bigint, refused_visit uuid, owner_device uuid)
LANGUAGE plpgsql AS $$
DECLARE
    keys uuid[];
    bad uuid[];
    before visit_integrity_span[]; -- 0014
    since timestamptz; -- 0036
BEGIN
    visits := 0;
    SELECT array_agg(DISTINCT e.visit_key) INTO keys
    FROM events e
    WHERE e.device_id = p_device AND e.seq > p_after AND e.seq <= p_last_seq
      AND e.received_at = now() -- 0014
      AND e.kind IN ('visit.started', 'visit.ended', 'visit.rated', 'visit.cancelled',
                     'visit.attempt');
    IF keys IS NOT NULL THEN
        -- 0x0f0010: 0010's lock class; hashes in ascending order (no deadlock)
        PERFORM pg_advisory_xact_lock(983056, h)
        FROM unnest((SELECT array_agg(DISTINCT hashtext(k::text) ORDER BY hashtext(k::text))
                     FROM unnest(keys) k)) h;
        since := visit_events_since(keys); -- 0036
        SELECT array_agg(x.visit_key) INTO bad
        FROM (SELECT e.visit_key, bool_or(e.device_id <> p_device) AS foreign_events,
                     bool_or(e.device_id = p_device AND visit_opening_kind(e.kind)) AS opened
              FROM events e WHERE e.visit_key = ANY (keys)
                AND e.received_at >= since -- 0036
              GROUP BY e.visit_key) x
        WHERE x.foreign_events OR NOT x.opened;
        IF bad IS NOT NULL THEN
            SELECT e.seq, e.visit_key INTO refused_seq, refused_visit
            FROM events e
            WHERE e.device_id = p_device AND e.seq > p_after AND e.seq <= p_last_seq
              AND e.received_at = now() -- 0014
              AND e.visit_key = ANY (bad)
            ORDER BY e.seq LIMIT 1;
            SELECT o.device_id INTO owner_device
            FROM events o WHERE o.visit_key = refused_visit AND o.device_id <> p_device
              AND o.received_at >= since -- 0036
            ORDER BY visit_opening_kind(o.kind) DESC, o.received_at, o.device_id, o.seq
            LIMIT 1;
            RETURN NEXT;
            RETURN;
        END IF;
        before := visit_integrity_spans(keys); -- 0014
        visits := rebuild_visits(keys);
        IF visits > 0 THEN -- 0014: no visit changed (a replay), no verdict can
            INSERT INTO visit_integrity_queue (provider_id, worker_id, keys, before)
            SELECT w.provider_id, w.id, keys, before
            FROM devices d JOIN workers w ON w.id = d.worker_id WHERE d.id = p_device;
        END IF;
    END IF;
    INSERT INTO card_bindings (recipient_id, token, method, scheme, last4, status,
                               source_device, source_seq, proof_level, proof_failure)
    SELECT e.recipient_id, e.card_token, e.card_method, coalesce(e.card_scheme, ''),
           coalesce(e.card_last4, ''), 'pending', e.device_id, e.seq,
           card_assurance(e.card_method, e.card_proof_level), e.card_proof_failure -- 0013
    FROM events e
    JOIN recipients r ON r.id = e.recipient_id AND r.provider_id = e.provider_id
    WHERE e.device_id = p_device AND e.seq > p_after AND e.seq <= p_last_seq
      AND e.received_at = now() -- 0014
      AND e.kind = 'card.bound'
    ON CONFLICT DO NOTHING;
    UPDATE devices SET last_seq = p_last_seq, last_digest = p_last_digest,
                       last_upload_at = now()
    WHERE id = p_device;
    RETURN NEXT;
END
$$;
