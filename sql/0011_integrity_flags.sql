-- Integrity flags (issue 13): verdicts on a visit that need more than its own events --
-- its worker's other visits or the recipient's address:
--   overlap            the same worker in two visits at once (across all their terminals);
--   far_from_address   a start or end position farther from the recipient's address than
--                      the region allows, the reported accuracy taken into account;
--   impossible_travel  from one visit's end to the worker's next visit's start faster than
--                      the region allows, the accuracies taken into account.
-- Positions are those the terminal records at a visit's start and end (visit.started,
-- visit.ended): the terminal takes no position between visits, and the server neither
-- asks for nor keeps one. No position is not a flag; a recipient without coordinates
-- is not judged for distance.
--
-- Where they live. visits.integrity_flags holds these verdicts and is written only by
-- visit_integrity_judge below; visits.flags, which every reader uses (the visit list,
-- the exception queue, the figures), is always visit_flags' verdicts followed by these:
-- the trigger visits_integrity_merge keeps it so, whoever writes flags (rebuild_visits,
-- a services correction's re-judging in 0008) or integrity_flags. So a rebuild or a
-- correction never wipes an integrity flag, and no reader has a second column to union.

-- ==== Thresholds ====

-- Per region: how far from the address a position may be, and how fast a worker can
-- travel between visits (on the road, door to door).
ALTER TABLE regions
    ADD COLUMN far_from_address_m integer NOT NULL DEFAULT 500 CHECK (far_from_address_m > 0),
    ADD COLUMN travel_max_kmh numeric NOT NULL DEFAULT 120 CHECK (travel_max_kmh > 0);

-- ==== Rules ====

-- Great-circle distance in metres between two positions in degrees x 1e7 (haversine on
-- the mean Earth radius; within 0.5 % of the ellipsoid, far below a GPS accuracy).
-- NULL if any coordinate is NULL: STRICT, because least() ignores a NULL and would make
-- a missing position half the Earth away.
CREATE FUNCTION geo_distance_m(p_lat1_e7 integer, p_lon1_e7 integer, p_lat2_e7 integer,
                               p_lon2_e7 integer) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT 2 * 6371008.8 * asin(least(1, sqrt(
        sin(radians((p_lat2_e7::float8 - p_lat1_e7) / 2e7::float8)) ^ 2
        + cos(radians(p_lat1_e7 / 1e7::float8)) * cos(radians(p_lat2_e7 / 1e7::float8))
          * sin(radians((p_lon2_e7::float8 - p_lon1_e7) / 2e7::float8)) ^ 2)))
$$;

-- The interval a visit occupies its worker, [started_at, this): for an ended visit its
-- start plus its duration (from the monotonic clock when start and end share a boot, so a
-- wall clock that jumped during the visit does not stretch it; ended_at is the end's wall
-- clock); a visit in progress is open until now or until it counts as abandoned, whichever
-- is sooner; a cancelled visit or an attempt occupies nothing (NULL). STABLE: reads the
-- clock.
CREATE FUNCTION visit_busy_until(p_state text, p_started_at timestamptz,
                                 p_duration_s integer, t visit_thresholds)
RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_state IN ('ended', 'rated')
                    THEN p_started_at + make_interval(secs => p_duration_s)
                WHEN p_state = 'started' THEN least(now(), p_started_at + t.abandoned_after)
           END
$$;

-- Overlap: two half-open intervals [start, end) share a moment (touching is not
-- overlapping: one visit may end at the very millisecond the next starts).
CREATE FUNCTION visit_overlap(p_start1 timestamptz, p_end1 timestamptz,
                              p_start2 timestamptz, p_end2 timestamptz) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(p_start1 < p_end2 AND p_start2 < p_end1, false)
$$;

-- Far from the address: the position, less its reported accuracy, farther from the
-- recipient's address than the region's threshold. No position, or an address without
-- coordinates, is not judged (false).
CREATE FUNCTION visit_far_from_address(p_lat_e7 integer, p_lon_e7 integer,
                                       p_accuracy_m integer, p_home_lat_e7 integer,
                                       p_home_lon_e7 integer, p_threshold_m integer)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(geo_distance_m(p_lat_e7, p_lon_e7, p_home_lat_e7, p_home_lon_e7)
                    - coalesce(p_accuracy_m, 0) > p_threshold_m, false)
$$;

-- Impossible travel: from the end of one visit (position, accuracy, time) to the start of
-- the next, the distance less both accuracies is more than the region's speed allows in
-- the time between them. Judged only when the next starts at or after the end (an earlier
-- start is an overlap) and both positions are known.
CREATE FUNCTION visit_impossible_travel(p_from_lat_e7 integer, p_from_lon_e7 integer,
                                        p_from_accuracy_m integer, p_from_at timestamptz,
                                        p_to_lat_e7 integer, p_to_lon_e7 integer,
                                        p_to_accuracy_m integer, p_to_at timestamptz,
                                        p_max_kmh numeric) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(p_to_at >= p_from_at
                    AND geo_distance_m(p_from_lat_e7, p_from_lon_e7, p_to_lat_e7, p_to_lon_e7)
                        - coalesce(p_from_accuracy_m, 0) - coalesce(p_to_accuracy_m, 0)
                        > p_max_kmh::float8 / 3.6
                          * extract(epoch FROM p_to_at - p_from_at)::float8, false)
$$;

-- ==== Where the verdicts are kept ====

ALTER TABLE visits ADD COLUMN integrity_flags text[] NOT NULL DEFAULT '{}';

-- flags = the rule flags as written (less any integrity flag they carry) followed by the
-- integrity flags. Fires only when there is something to merge (the WHEN is evaluated
-- without calling the function), so the rebuild of an unflagged visit pays nothing.
-- NOTE: the rebuild's "changes nothing, rewrites nothing" test compares flags without
-- the integrity flags, so rebuilding a visit that carries one rewrites its row (with the
-- same content): integrity-flagged visits are few.
CREATE FUNCTION visits_integrity_merge() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.flags := array(SELECT f FROM unnest(NEW.flags) WITH ORDINALITY u(f, i)
                       WHERE f NOT IN ('overlap', 'far_from_address', 'impossible_travel')
                       ORDER BY i) || NEW.integrity_flags;
    RETURN NEW;
END
$$;
CREATE TRIGGER visits_integrity_merge BEFORE UPDATE ON visits FOR EACH ROW
    WHEN (cardinality(NEW.integrity_flags) > 0 OR cardinality(OLD.integrity_flags) > 0)
    EXECUTE FUNCTION visits_integrity_merge();

-- A worker's visits that occupy time, by start: the neighbours of a visit are found here
-- (a range, or a few steps either side), never by reading the worker's history.
CREATE INDEX visits_worker_started ON visits (worker_id, started_at, id)
    WHERE started_at IS NOT NULL AND state IN ('started', 'ended', 'rated');

-- ==== Judging ====

-- How far back an overlap is looked for: a visit is compared with every visit of its
-- worker that started while it lasted, and with the 8 that started last before it -- not
-- the worker's history (an earlier visit still going after 8 others began is itself
-- flagged by them). The one just before is also its travel neighbour.

-- The visits whose integrity verdicts depend on the visits with the given keys as they
-- stand: those that started while one lasted, those of the 8 before it still going when
-- it started, and the one just before and just after it. ingest_finish takes them before
-- the rebuild (what the touched visits overlapped until now), visit_integrity_judge after
-- it (what they overlap now). Index ranges on visits_worker_started only.
CREATE FUNCTION visit_integrity_neighbours(p_keys uuid[]) RETURNS uuid[]
LANGUAGE sql STABLE AS $$
    WITH t AS MATERIALIZED (
        SELECT * FROM visit_thresholds LIMIT 1
    ), a AS MATERIALIZED (
        SELECT v.id, v.worker_id, v.started_at,
               visit_busy_until(v.state, v.started_at, v.duration_s, t) AS busy_until
        FROM visits v CROSS JOIN t
        WHERE v.id = ANY (p_keys) AND v.started_at IS NOT NULL
    )
    SELECT coalesce(array_agg(DISTINCT n.id), '{}') FROM (
        SELECT x.id FROM a JOIN visits x
            ON x.worker_id = a.worker_id AND x.started_at IS NOT NULL
           AND x.state IN ('started', 'ended', 'rated')
           AND x.started_at >= a.started_at AND x.started_at < a.busy_until
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

-- Judge the integrity of the visits with the given keys, of p_also (the neighbours they
-- had before a change: visit_integrity_neighbours) and of their neighbours now, and write
-- the verdicts that changed into integrity_flags. As the caller: row-level security
-- applies. Returns the number of visits whose integrity flags changed. After changing a
-- region's thresholds, judge the visits it should apply to
-- (SELECT visit_integrity_judge(array_agg(id)) FROM visits WHERE ..., as the owner).
CREATE FUNCTION visit_integrity_judge(p_keys uuid[], p_also uuid[] DEFAULT '{}')
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
        FROM judged d JOIN visits v ON v.id = d.id CROSS JOIN t
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

-- ==== Ingest ====

-- As 0010's, with the integrity judged around the rebuild (the lines marked 0011). The
-- batches of one worker's terminals take their turn here (a transaction-scoped lock on
-- the worker, taken before 0010's per-visit locks, so the locks are always taken in one
-- order): two terminals' visits uploaded at once then see each other, and never lock
-- each other's rows in opposite order. The neighbours the touched visits had are taken
-- before the rebuild; they, the touched visits and their neighbours now are judged after
-- it. A batch 0010 refuses is refused before any of this.
CREATE OR REPLACE FUNCTION ingest_finish(p_device uuid, p_after bigint, p_last_seq bigint,
                                         p_last_digest bytea)
RETURNS TABLE (visits integer, refused_seq bigint, refused_visit uuid, owner_device uuid)
LANGUAGE plpgsql AS $$
DECLARE
    keys uuid[];
    bad uuid[];
    before uuid[]; -- 0011
BEGIN
    visits := 0;
    SELECT array_agg(DISTINCT e.visit_key) INTO keys
    FROM events e
    WHERE e.device_id = p_device AND e.seq > p_after AND e.seq <= p_last_seq
      AND e.kind IN ('visit.started', 'visit.ended', 'visit.rated', 'visit.cancelled',
                     'visit.attempt');
    IF keys IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('visit_integrity:' || d.worker_id, 0))
        FROM devices d WHERE d.id = p_device; -- 0011, before 0010's visit locks
        -- 0x0f0010: this migration's lock class; hashes in ascending order (no deadlock)
        PERFORM pg_advisory_xact_lock(983056, h)
        FROM unnest((SELECT array_agg(DISTINCT hashtext(k::text) ORDER BY hashtext(k::text))
                     FROM unnest(keys) k)) h;
        -- "visit_key = ANY (keys)", as the rebuild reads them: an index scan of
        -- events_visit_key. (A join with unnest(keys) here halved tools/bench-ingest.)
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
              AND e.visit_key = ANY (bad)
            ORDER BY e.seq LIMIT 1;
            SELECT o.device_id INTO owner_device
            FROM events o WHERE o.visit_key = refused_visit AND o.device_id <> p_device
            ORDER BY visit_opening_kind(o.kind) DESC, o.received_at, o.device_id, o.seq
            LIMIT 1;
            RETURN NEXT;
            RETURN;
        END IF;
        before := visit_integrity_neighbours(keys); -- 0011
        visits := rebuild_visits(keys);
        IF visits > 0 THEN -- 0011: no visit changed (a replay), no verdict can
            PERFORM visit_integrity_judge(keys, before);
        END IF;
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
    RETURN NEXT;
END
$$;

-- ==== The exception queue ====

-- An integrity flag is an exception of its own kind, resolved like the others.
ALTER TABLE exception_resolutions DROP CONSTRAINT exception_resolutions_kind_check;
ALTER TABLE exception_resolutions ADD CONSTRAINT exception_resolutions_kind_check
    CHECK (kind IN ('low_rating', 'early_leave', 'card_mismatch', 'abandoned',
                    'card_binding', 'overlap', 'far_from_address', 'impossible_travel'));
