-- Data growth and the cost of ingest (issue 18):
--   1. the integrity flags (0011) are judged after the upload commits, from a durable
--      queue, instead of inside ingest_finish under a lock on the worker;
--   2. events, the one table that grows with every upload and is never changed, is
--      partitioned by the month it was received.
-- For the integrator: ingest_finish is redefined here with the lines of this migration
-- marked "-- 0014"; everything else in it is 0010's (0011's integrity lines removed).

-- ==== 1. Integrity judged after the commit ====

-- Where a visit stood before a change: enough to find, later, the visits it was a
-- neighbour of (visit_integrity_neighbours_of).
CREATE TYPE visit_integrity_span AS (
    id uuid, worker_id uuid, started_at timestamptz, state text, duration_s integer
);

-- The visits an upload changed, to be judged after its commit: one row per upload that
-- changed a visit, written in the upload's transaction (so it exists exactly when the
-- change does), deleted by visit_integrity_drain in the transaction that writes the
-- verdicts (so a verdict is never lost: a carefactd that dies between the two leaves the
-- row for the next drain -- every instance drains at start and then every few seconds).
-- before: where the changed visits stood before the change, so the visits they no longer
-- overlap are judged again, with their neighbours as they stand at the drain.
CREATE TABLE visit_integrity_queue (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_id uuid NOT NULL,
    worker_id uuid NOT NULL,
    keys uuid[] NOT NULL,
    before visit_integrity_span[] NOT NULL,
    queued_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX visit_integrity_queue_worker ON visit_integrity_queue (worker_id, id);
ALTER TABLE visit_integrity_queue ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_provider ON visit_integrity_queue
    USING (provider_id = ANY ((SELECT visible_providers())::uuid[]));
GRANT SELECT, INSERT, DELETE ON visit_integrity_queue TO carefact_app;

-- The visits whose integrity verdicts depend on visits standing where the spans say: those
-- that started while one lasted, those of the 8 before it still going when it started,
-- and the one just before and just after it (0011's rule, now over spans, so the place a
-- visit left can be looked at after it moved). Index ranges on visits_worker_started.
CREATE FUNCTION visit_integrity_neighbours_of(p_spans visit_integrity_span[]) RETURNS uuid[]
LANGUAGE sql STABLE AS $$
    WITH t AS MATERIALIZED (
        SELECT * FROM visit_thresholds LIMIT 1
    ), a AS MATERIALIZED (
        SELECT s.id, s.worker_id, s.started_at,
               visit_busy_until(s.state, s.started_at, s.duration_s, t) AS busy_until
        FROM unnest(p_spans) s CROSS JOIN t
        WHERE s.started_at IS NOT NULL
    )
    SELECT coalesce(array_agg(DISTINCT n.id), '{}') FROM (
        -- a range of the index per span (OFFSET 0 keeps it one: flattened into a join,
        -- 0011's form was planned as a hash join over a scan of every visit once the
        -- spans were more than a few -- 13-65 ms at 13,000 visits, growing with them)
        SELECT r.id FROM a CROSS JOIN LATERAL (
            SELECT x.id FROM visits x
            WHERE x.worker_id = a.worker_id AND x.started_at IS NOT NULL
              AND x.state IN ('started', 'ended', 'rated')
              AND x.started_at >= a.started_at AND x.started_at < a.busy_until
            OFFSET 0) r
        UNION ALL
        SELECT b.id FROM a CROSS JOIN t CROSS JOIN LATERAL (
            SELECT x.id, x.state, x.started_at, x.duration_s,
                   row_number() OVER (ORDER BY x.started_at DESC, x.id DESC) AS back
            FROM visits x
            WHERE x.worker_id = a.worker_id AND x.started_at IS NOT NULL
              AND x.state IN ('started', 'ended', 'rated')
              AND (x.started_at, x.id) < (a.started_at, a.id)
            ORDER BY x.started_at DESC, x.id DESC LIMIT 8) b
        WHERE b.back = 1
           OR visit_busy_until(b.state, b.started_at, b.duration_s, t) > a.started_at
        UNION ALL
        SELECT q.id FROM a CROSS JOIN LATERAL (
            SELECT x.id FROM visits x
            WHERE x.worker_id = a.worker_id AND x.started_at IS NOT NULL
              AND x.state IN ('started', 'ended', 'rated')
              AND (x.started_at, x.id) > (a.started_at, a.id)
            ORDER BY x.started_at, x.id LIMIT 1) q
    ) n
$$;

-- Where the visits with the given keys stand now.
CREATE FUNCTION visit_integrity_spans(p_keys uuid[]) RETURNS visit_integrity_span[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(ROW(v.id, v.worker_id, v.started_at, v.state,
                                  v.duration_s)::visit_integrity_span), '{}')
    FROM visits v WHERE v.id = ANY (p_keys) AND v.started_at IS NOT NULL
$$;

-- 0011's, as the neighbours of where the visits stand now (one rule, one function).
CREATE OR REPLACE FUNCTION visit_integrity_neighbours(p_keys uuid[]) RETURNS uuid[]
LANGUAGE sql STABLE AS $$
    SELECT visit_integrity_neighbours_of(visit_integrity_spans(p_keys))
$$;

-- 0011's judge, the visits to judge read by their key (the line marked 0014); the rest
-- as 0011 wrote it.
CREATE OR REPLACE FUNCTION visit_integrity_judge(p_keys uuid[], p_also uuid[] DEFAULT '{}')
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    WITH t AS MATERIALIZED (
        SELECT * FROM visit_thresholds LIMIT 1
    ), judged AS (
        SELECT unnest(p_keys) AS id
        UNION SELECT unnest(p_also)
        UNION SELECT unnest(visit_integrity_neighbours(p_keys))
    ), j AS (
        SELECT v.id, v.worker_id, v.started_at, v.state, v.integrity_flags,
               v.start_lat_e7, v.start_lon_e7, v.start_accuracy_m,
               v.end_lat_e7, v.end_lon_e7, v.end_accuracy_m, v.recipient_id, v.provider_id,
               v.started_at IS NOT NULL AND v.state IN ('started', 'ended', 'rated') AS busy,
               visit_busy_until(v.state, v.started_at, v.duration_s, t) AS busy_until
        -- 0014: by the primary key, the judged ids as one array (an InitPlan). As a join,
        -- the planner took "judged" for 30 rows and rescanned it for each of the
        -- worker's visits: 4,070 x 0.4 ms, 2.3 s of a 2.3 s drain in tools/bench-ingest.
        FROM visits v CROSS JOIN t
        WHERE v.id = ANY (ARRAY(SELECT d.id FROM judged d))
    ), verdict AS (
        SELECT j.id, j.integrity_flags AS old, array_remove(ARRAY[
            CASE WHEN j.busy AND (
                -- a visit that started while this one lasted
                EXISTS (
                    SELECT 1 FROM visits x
                    WHERE x.worker_id = j.worker_id AND x.id <> j.id
                      AND x.started_at IS NOT NULL AND x.state IN ('started', 'ended', 'rated')
                      AND x.started_at >= j.started_at AND x.started_at < j.busy_until
                      AND visit_overlap(j.started_at, j.busy_until, x.started_at,
                                        visit_busy_until(x.state, x.started_at, x.duration_s, t)))
                -- or one of the 8 before it, still going when it started
                OR EXISTS (
                    SELECT 1 FROM (
                        SELECT x.state, x.started_at, x.duration_s FROM visits x
                        WHERE x.worker_id = j.worker_id AND x.started_at IS NOT NULL
                          AND x.state IN ('started', 'ended', 'rated')
                          AND (x.started_at, x.id) < (j.started_at, j.id)
                        ORDER BY x.started_at DESC, x.id DESC LIMIT 8) b
                    WHERE visit_overlap(j.started_at, j.busy_until, b.started_at,
                                        visit_busy_until(b.state, b.started_at, b.duration_s, t))))
                THEN 'overlap' END,
            CASE WHEN visit_far_from_address(j.start_lat_e7, j.start_lon_e7,
                                             j.start_accuracy_m, rc.lat_e7, rc.lon_e7,
                                             rg.far_from_address_m)
                   OR visit_far_from_address(j.end_lat_e7, j.end_lon_e7, j.end_accuracy_m,
                                             rc.lat_e7, rc.lon_e7, rg.far_from_address_m)
                THEN 'far_from_address' END,
            CASE WHEN j.busy AND (
                     visit_impossible_travel(p.end_lat_e7, p.end_lon_e7, p.end_accuracy_m,
                                             p.ended_at, j.start_lat_e7, j.start_lon_e7,
                                             j.start_accuracy_m, j.started_at,
                                             rg.travel_max_kmh)
                     OR visit_impossible_travel(j.end_lat_e7, j.end_lon_e7, j.end_accuracy_m,
                                                CASE WHEN j.state IN ('ended', 'rated')
                                                     THEN j.busy_until END,
                                                nx.start_lat_e7, nx.start_lon_e7,
                                                nx.start_accuracy_m, nx.started_at,
                                                rg.travel_max_kmh))
                THEN 'impossible_travel' END
        ], NULL) AS flags
        FROM j CROSS JOIN t
        JOIN providers pr ON pr.id = j.provider_id
        JOIN regions rg ON rg.id = pr.region_id
        LEFT JOIN recipients rc ON rc.id = j.recipient_id AND rc.provider_id = j.provider_id
        -- the worker's visit before and after (only an ended one has an end to leave from)
        LEFT JOIN LATERAL (
            SELECT x.end_lat_e7, x.end_lon_e7, x.end_accuracy_m,
                   CASE WHEN x.state IN ('ended', 'rated')
                        THEN visit_busy_until(x.state, x.started_at, x.duration_s, t) END AS ended_at
            FROM visits x
            WHERE j.busy AND x.worker_id = j.worker_id AND x.started_at IS NOT NULL
              AND x.state IN ('started', 'ended', 'rated')
              AND (x.started_at, x.id) < (j.started_at, j.id)
            ORDER BY x.started_at DESC, x.id DESC LIMIT 1) p ON true
        LEFT JOIN LATERAL (
            SELECT x.start_lat_e7, x.start_lon_e7, x.start_accuracy_m, x.started_at
            FROM visits x
            WHERE j.busy AND x.worker_id = j.worker_id AND x.started_at IS NOT NULL
              AND x.state IN ('started', 'ended', 'rated')
              AND (x.started_at, x.id) > (j.started_at, j.id)
            ORDER BY x.started_at, x.id LIMIT 1) nx ON true
    ), up AS (
        UPDATE visits v SET integrity_flags = verdict.flags, updated_at = now()
        FROM verdict
        WHERE v.id = verdict.id AND verdict.flags IS DISTINCT FROM verdict.old
        RETURNING v.id
    )
    SELECT count(*) FROM up INTO n;
    RETURN n;
END
$$;

-- Judge what the queue holds, for one worker or (NULL) every worker, and delete it, in
-- the caller's transaction; returns the number of queue rows (uploads) judged.
-- A worker's verdicts are judged one drain at a time (a transaction-scoped lock on the
-- worker; for every worker, only those not being drained), each statement after the lock
-- seeing every upload
-- committed before it: two terminals of one worker uploading at once are judged with
-- each other's visits, whichever commits last being judged last. What another drain took
-- and committed is judged already when the lock is granted. As the caller: row-level
-- security applies (carefactd drains an upload's worker in the device's scope, and
-- everything in scope '*'). Its commit need not wait for the disk: lost in a crash, the
-- verdicts go with the deletion of their queue rows, which are judged again.
CREATE FUNCTION visit_integrity_drain(p_worker uuid DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    w uuid;
    k uuid[];
    s visit_integrity_span[];
    taken integer;
    n integer := 0;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    FOR w IN SELECT DISTINCT q.worker_id FROM visit_integrity_queue q
             WHERE p_worker IS NULL OR q.worker_id = p_worker ORDER BY 1 LOOP
        IF p_worker IS NOT NULL THEN
            PERFORM pg_advisory_xact_lock(hashtextextended('visit_integrity:' || w, 0));
        ELSIF NOT pg_try_advisory_xact_lock(hashtextextended('visit_integrity:' || w, 0)) THEN
            -- every worker: one being drained is skipped, not waited for (its drain
            -- looks again before it lets go; what it leaves, the next call finds) --
            -- waiting here, with the locks and rows of the workers judged before it
            -- held, stalled those workers' uploads behind another's drain
            CONTINUE;
        END IF;
        WITH d AS (
            DELETE FROM visit_integrity_queue q WHERE q.worker_id = w
            RETURNING q.keys, q.before
        )
        SELECT array(SELECT DISTINCT x FROM d, unnest(d.keys) x),
               array(SELECT y FROM d, unnest(d.before) y), (SELECT count(*) FROM d)
        INTO k, s, taken;
        IF cardinality(k) > 0 THEN
            PERFORM visit_integrity_judge(k, visit_integrity_neighbours_of(s));
        END IF;
        n := n + taken;
    END LOOP;
    RETURN n;
END
$$;

-- ==== Ingest ====

-- As 0010's (ownership), with the integrity queued rather than judged (the lines marked
-- 0014): no lock on the worker any more, so one worker's terminals upload side by side;
-- where the touched visits stood is read before the rebuild and queued with their keys
-- when the rebuild changed a visit. carefactd drains the worker after the COMMIT
-- (visit_integrity_drain). The events of this batch are those received in this
-- transaction (received_at defaults to now(), the transaction's start): the predicate
-- lets the planner keep one partition of events (0014).
CREATE OR REPLACE FUNCTION ingest_finish(p_device uuid, p_after bigint, p_last_seq bigint,
                                         p_last_digest bytea)
RETURNS TABLE (visits integer, refused_seq bigint, refused_visit uuid, owner_device uuid)
LANGUAGE plpgsql AS $$
DECLARE
    keys uuid[];
    bad uuid[];
    before visit_integrity_span[]; -- 0014
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
        SELECT array_agg(x.visit_key) INTO bad
        FROM (SELECT e.visit_key, bool_or(e.device_id <> p_device) AS foreign_events,
                     bool_or(e.device_id = p_device AND visit_opening_kind(e.kind)) AS opened
              FROM events e WHERE e.visit_key = ANY (keys)
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

-- ==== 2. events partitioned by the month it was received ====

-- Why events and only events. events grows with every upload (about three rows a visit),
-- is written once and never changed, and is read by visit (the rebuild), by device and
-- seq (ingest) and by the batch just stored: a month that has closed is never written
-- again, so it can be vacuumed once, detached and moved to cheaper storage whole. The
-- partition key is received_at, the server's clock (a terminal's wall clock is the
-- terminal's to set, and can be anything). visits is not partitioned: it is a third of
-- the rows, each updated in place as its events arrive (an upsert keyed on its id, which
-- a partitioned table could only keep unique with the month in the key, and a visit's
-- month -- sort_at -- moves when an earlier event arrives late), and every list is a
-- keyset walk that stops after its page (backend/README.md, "Performance"). audit_log
-- grows with refusals and people's actions, a few rows per person per day: small beside
-- events, and read only by the oversight; it stays one table.
--
-- Exactly once. A unique index of a partitioned table must hold the partition key, so
-- the primary key becomes (device_id, seq, received_at) and alone no longer stops a
-- (device, seq) stored twice in two months. The trigger events_exactly_once keeps the
-- guarantee: the events a statement stores must lie above the device's head
-- (devices.last_seq), which it moves to their highest seq under the device's row lock,
-- and must not repeat a seq among themselves. Ingest already stores only events above
-- the head under that lock (the COPY, then ingest_finish moves the head and digest);
-- the trigger makes it a property of the table, whoever inserts.

ALTER TABLE events RENAME TO events_0004;
ALTER INDEX events_pkey RENAME TO events_0004_pkey;
ALTER INDEX events_visit_key RENAME TO events_0004_visit_key;

CREATE TABLE events (LIKE events_0004 INCLUDING DEFAULTS INCLUDING GENERATED
                     INCLUDING CONSTRAINTS)
    PARTITION BY RANGE (received_at);
ALTER TABLE events ADD PRIMARY KEY (device_id, seq, received_at);
ALTER TABLE events ADD FOREIGN KEY (device_id) REFERENCES devices;
CREATE INDEX events_visit_key ON events (visit_key);
GRANT SELECT, INSERT ON events TO carefact_app;

-- The month partitions (UTC months) from p_from's month to p_to's, those missing
-- created; returns how many were. carefactd calls it at start and every few seconds
-- after (it costs a catalogue look-up a month when nothing is missing), so the next two
-- months always exist; a generator that loads history calls it for its range first. As
-- the owner (SECURITY DEFINER: carefact_app may not create tables), at most 1200 months
-- a call. Without a partition, storing an event fails ("no partition of relation
-- "events" found for row", SQLSTATE 23514): carefactd logs it and answers 503, and the
-- terminal sends the batch again after the next call has created it. There is no default
-- partition: a row there would stop its month's partition from being created.
CREATE FUNCTION events_partitions_ensure(p_from timestamptz DEFAULT now(),
                                         p_to timestamptz DEFAULT now() + interval '2 months')
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    m timestamp;
    name text;
    n integer := 0;
BEGIN
    IF p_to < p_from OR p_to > p_from + interval '100 years' THEN
        RAISE EXCEPTION 'events_partitions_ensure: range % .. % refused', p_from, p_to;
    END IF;
    FOR m IN SELECT generate_series(date_trunc('month', p_from AT TIME ZONE 'UTC'),
                                    date_trunc('month', p_to AT TIME ZONE 'UTC'),
                                    interval '1 month') LOOP
        name := 'events_' || to_char(m, 'YYYY_MM');
        CONTINUE WHEN to_regclass(name) IS NOT NULL;
        -- two instances starting together: one creates, the other finds it
        PERFORM pg_advisory_xact_lock(hashtextextended('events_partitions', 0));
        CONTINUE WHEN to_regclass(name) IS NOT NULL;
        EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
                       name, m AT TIME ZONE 'UTC', (m + interval '1 month') AT TIME ZONE 'UTC');
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;

-- The rows of 0004's table move into the partitions of their months.
SELECT events_partitions_ensure(coalesce((SELECT min(received_at) FROM events_0004), now()),
                                greatest(now(), (SELECT max(received_at) FROM events_0004))
                                    + interval '2 months');
INSERT INTO events (device_id, seq, digest, kind, visit_id, worker_id, recipient_id,
                    wall_time, mono_ms, boot_id, received_at, provider_id, plan_id,
                    card_method, card_token, card_scheme, card_last4, lat_e7, lon_e7,
                    accuracy_m, service_codes, service_quantities, rating, comment, reason,
                    cancelled_by, card_proof_kind, card_proof_level, card_proof_failure,
                    card_ca_index, card_sdad_digest, card_body_digest)
SELECT device_id, seq, digest, kind, visit_id, worker_id, recipient_id, wall_time, mono_ms,
       boot_id, received_at, provider_id, plan_id, card_method, card_token, card_scheme,
       card_last4, lat_e7, lon_e7, accuracy_m, service_codes, service_quantities, rating,
       comment, reason, cancelled_by, card_proof_kind, card_proof_level, card_proof_failure,
       card_ca_index, card_sdad_digest, card_body_digest -- 0013's verdicts
FROM events_0004;
DROP TABLE events_0004;

-- (device, seq) stored once (see "Exactly once" above). SECURITY DEFINER: the head is
-- moved whatever the inserting role may see of devices. A statement's rows are checked
-- together (a transition table): one UPDATE per statement, not per row.
CREATE FUNCTION events_exactly_once() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    devs integer;
    moved integer;
    first_seq bigint;
    dev uuid;
BEGIN
    -- a seq twice in the statement, or at or below its device's head
    SELECT n.device_id, n.seq INTO dev, first_seq
    FROM stored n GROUP BY n.device_id, n.seq HAVING count(*) > 1 LIMIT 1;
    IF dev IS NULL THEN
        SELECT n.device_id, min(n.seq) INTO dev, first_seq
        FROM stored n JOIN devices d ON d.id = n.device_id
        WHERE n.seq <= d.last_seq GROUP BY n.device_id LIMIT 1;
    END IF;
    IF dev IS NULL THEN
        SELECT count(DISTINCT n.device_id) INTO devs FROM stored n;
        -- each device's row is locked here (or was, by ingest): a concurrent insert for
        -- the same device waits, then finds the head moved and stores nothing
        WITH s AS (SELECT n.device_id, min(n.seq) AS lo, max(n.seq) AS hi
                   FROM stored n GROUP BY n.device_id),
        up AS (UPDATE devices d SET last_seq = s.hi FROM s
               WHERE d.id = s.device_id AND s.lo > d.last_seq RETURNING d.id)
        SELECT count(*) INTO moved FROM up;
        IF moved = devs THEN
            RETURN NULL;
        END IF;
    END IF;
    RAISE EXCEPTION 'event (device %, seq %) is stored already',
                    coalesce(dev::text, 'being stored concurrently'), first_seq
        USING ERRCODE = 'unique_violation', CONSTRAINT = 'events_exactly_once',
              HINT = 'A device''s events are stored once each, above its head (devices.last_seq).';
END
$$;
CREATE TRIGGER events_exactly_once AFTER INSERT ON events
    REFERENCING NEW TABLE AS stored
    FOR EACH STATEMENT EXECUTE FUNCTION events_exactly_once();
