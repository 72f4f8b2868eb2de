-- Visit ownership, one rating, and payment only for the provider's certified recipients
-- (issue 13). See api/PROTOCOL.md, "Visit ownership", and backend/README.md, "Visits".
--
--   * A visit belongs to the terminal (device, and so its worker and provider) that
--     opened it: the device of its opening event -- visit.started, visit.cancelled (of a
--     plan never started) or visit.attempt. ingest_finish refuses a batch holding an
--     event for a visit another device's events already name, or a closing event
--     (visit.ended, visit.rated) for a visit this device never opened; carefactd answers
--     409 visit-owned-elsewhere, stores nothing and audits it as tampering. Uploads that
--     touch the same visit are serialised by a transaction advisory lock per visit, so
--     two terminals racing on one new visit cannot both get in.
--   * A visit is rated once: the first visit.rated (by seq) counts; a later one is
--     stored (refusing it would block the terminal's queue: the chain is append-only)
--     and flags the visit rating_amended for a manager.
--   * A card confirms a start or an end only for a recipient of the visit's provider
--     with a certificate there valid on that local date; a binding counts only for such a
--     recipient whoever rebuilds (an authority's scope sees every provider's bindings).
--   * A visit flagged unknown_recipient is never paid: the register excludes it with the
--     reason unknown_recipient.

-- ==== Rules ====

-- The kinds of event that open a visit. visit.ended and visit.rated only continue one.
CREATE FUNCTION visit_opening_kind(p_kind text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT p_kind IN ('visit.started', 'visit.cancelled', 'visit.attempt')
$$;

-- A recipient of the provider with a certificate valid on the (local) day. A table
-- function of one SELECT, so it is inlined where it is used in FROM (LATERAL).
CREATE FUNCTION visit_recipient_certified(p_recipient uuid, p_provider uuid, p_day date)
RETURNS TABLE (certified boolean)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT EXISTS (SELECT 1 FROM recipients rc
                   JOIN certificates ce ON ce.recipient_id = rc.id
                   WHERE rc.id = p_recipient AND rc.provider_id = p_provider
                     AND ce.valid_from <= p_day AND ce.valid_to >= p_day)
$$;

-- visit_flags (0005) with one more verdict at the end: rating_amended (the terminal sent
-- a second rating; the first counts). The new argument defaults to false, so a caller of
-- the seven-argument form still resolves here.
DROP FUNCTION visit_flags(boolean, integer, integer, boolean, integer, boolean, visit_thresholds);
CREATE FUNCTION visit_flags(p_clock_uncertain boolean, p_duration_s integer,
                            p_expected_minutes integer, p_card_mismatch boolean,
                            p_rating integer, p_recipient_known boolean, t visit_thresholds,
                            p_rating_amended boolean DEFAULT false)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_remove(ARRAY[
        CASE WHEN p_clock_uncertain THEN 'clock_uncertain' END,
        CASE WHEN visit_early_leave(p_duration_s, p_expected_minutes, t) THEN 'early_leave' END,
        CASE WHEN visit_overtime(p_duration_s, p_expected_minutes, t) THEN 'overtime' END,
        CASE WHEN p_card_mismatch THEN 'card_mismatch' END,
        CASE WHEN visit_low_rating(p_rating, t) THEN 'low_rating' END,
        CASE WHEN NOT p_recipient_known THEN 'unknown_recipient' END,
        CASE WHEN p_rating_amended THEN 'rating_amended' END
    ], NULL)
$$;

-- 0008's re-judging after a services correction keeps rating_amended as it keeps the
-- other verdicts that come from the events.
CREATE OR REPLACE FUNCTION visit_corrections_rejudge() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE visits v SET
        flags = visit_flags('clock_uncertain' = ANY (v.flags), v.duration_s,
                            (SELECT m.expected_minutes
                             FROM correction_services(NEW.value) k,
                                  visit_expected_minutes(k.codes, k.quantities) m),
                            'card_mismatch' = ANY (v.flags), v.rating,
                            NOT 'unknown_recipient' = ANY (v.flags), t,
                            'rating_amended' = ANY (v.flags)),
        updated_at = now()
    FROM visit_thresholds t
    WHERE v.id = NEW.visit_id;
    RETURN NULL;
END
$$;

-- ==== Rebuilding visits ====
-- As 0005's, with three changes: the visit is its owner device's (the device of its
-- opening event; only that device's events count), the first rating counts (a later
-- one flags rating_amended), and a card binding counts only for a recipient of the
-- visit's provider, confirming only with a certificate valid that day.
CREATE OR REPLACE FUNCTION rebuild_visits(p_keys uuid[]) RETURNS integer
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
               r.rating, r.comment, coalesce(r.ratings > 1, false) AS rating_amended,
               coalesce(c.reason, att.reason) AS reason, c.cancelled_by,
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

-- ==== Ingest ====

-- The end of one ingest transaction, in one round trip, as 0005's, first checking that
-- every visit the new events (p_after, p_last_seq] name is this device's: a visit
-- another device's events name, or a closing event (ended, rated) of a visit this
-- device never opened, refuses the batch. Returns one row: the visits written, and on a
-- refusal the seq of the first refused event, its visit and the device that holds the
-- visit (NULL when no device opened it) -- nothing is rebuilt and the chain head is not
-- moved; carefactd rolls back.
-- NOTE: the advisory locks (one per visit, taken in one order) serialise uploads that
-- touch the same visit, so the check of the second sees the first's events committed
-- (each statement of this VOLATILE function takes a new snapshot in READ COMMITTED).
DROP FUNCTION ingest_finish(uuid, bigint, bigint, bytea);
CREATE FUNCTION ingest_finish(p_device uuid, p_after bigint, p_last_seq bigint,
                              p_last_digest bytea)
RETURNS TABLE (visits integer, refused_seq bigint, refused_visit uuid, owner_device uuid)
LANGUAGE plpgsql AS $$
DECLARE
    keys uuid[];
    bad uuid[];
BEGIN
    visits := 0;
    SELECT array_agg(DISTINCT e.visit_key) INTO keys
    FROM events e
    WHERE e.device_id = p_device AND e.seq > p_after AND e.seq <= p_last_seq
      AND e.kind IN ('visit.started', 'visit.ended', 'visit.rated', 'visit.cancelled',
                     'visit.attempt');
    IF keys IS NOT NULL THEN
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
        visits := rebuild_visits(keys);
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

-- ==== The register ====
-- A visit to an unknown recipient is never paid: the reason unknown_recipient, after
-- not_ended (what happened) and before the proof of the card.
ALTER TABLE register_excluded DROP CONSTRAINT register_excluded_reason_check;
ALTER TABLE register_excluded ADD CONSTRAINT register_excluded_reason_check CHECK (reason IN
    ('cancelled', 'attempted', 'not_ended', 'unknown_recipient', 'start_not_confirmed',
     'end_not_confirmed', 'disputed', 'must_fix'));

CREATE OR REPLACE FUNCTION register_compute(p_provider uuid, p_month date)
RETURNS TABLE (visit_id uuid, visit_at timestamptz, worker_id uuid, recipient_id uuid,
               reason text, late boolean, original_month date, line_no integer,
               service_code text, service_name text, quantity integer, tariff_kopecks bigint)
LANGUAGE sql STABLE ROWS 20000 SET jit = off AS $$
WITH p AS (
    SELECT pr.id, rg.timezone, b.first_month, b.last_month
    FROM providers pr
    JOIN regions rg ON rg.id = pr.region_id
    CROSS JOIN LATERAL (SELECT min(r.month) AS first_month, max(r.month) AS last_month
                        FROM registers r
                        -- earlier months only: while submitting, p_month is stored too
                        WHERE r.provider_id = pr.id AND r.state <> 'draft'
                          AND r.month < p_month) b
    WHERE pr.id = p_provider
), w AS (
    SELECT p.id, p.timezone,
           p_month::timestamp AT TIME ZONE p.timezone AS m_start,
           (p_month + interval '1 month') AT TIME ZONE p.timezone AS m_end,
           -- only the next open month collects late visits, from the first billed month
           CASE WHEN p_month = p.last_month + interval '1 month'
                THEN p.first_month::timestamp AT TIME ZONE p.timezone END AS late_from
    FROM p
), c AS MATERIALIZED (
    SELECT ve.id, ve.sort_at, ve.worker_id, ve.recipient_id,
           ve.effective_service_codes, ve.effective_service_quantities,
           ve.sort_at < w.m_start AS late,
           date_trunc('month', ve.sort_at AT TIME ZONE w.timezone)::date AS own_month,
           CASE WHEN ve.state = 'cancelled' THEN 'cancelled'
                WHEN ve.state = 'attempted' THEN 'attempted'
                WHEN ve.state NOT IN ('ended', 'rated') THEN 'not_ended'
                WHEN 'unknown_recipient' = ANY (ve.flags) THEN 'unknown_recipient'
                WHEN NOT ve.start_confirmed THEN 'start_not_confirmed'
                WHEN NOT ve.end_confirmed THEN 'end_not_confirmed'
                WHEN ve.disputed THEN 'disputed'
                WHEN ve.must_fix_open THEN 'must_fix' END AS reason
    FROM w
    JOIN visit_effective ve ON ve.provider_id = w.id
     AND ve.sort_at >= (SELECT coalesce(w1.late_from, w1.m_start) FROM w w1)
     AND ve.sort_at < (SELECT w1.m_end FROM w w1)
    WHERE NOT EXISTS (SELECT 1 FROM register_lines l WHERE l.visit_id = ve.id)
), billed AS (
    SELECT c.* FROM c
    WHERE NOT (c.late AND c.reason IS NOT NULL
               AND EXISTS (SELECT 1 FROM register_excluded x WHERE x.visit_id = c.id))
)
SELECT b.id, b.sort_at, b.worker_id, b.recipient_id, b.reason, b.late, b.own_month,
       coalesce(s.n, 1)::integer, s.code, sv.name, coalesce(s.quantity, 0),
       coalesce(sv.tariff_kopecks, 0)
FROM billed b
LEFT JOIN LATERAL unnest(b.effective_service_codes, b.effective_service_quantities)
    WITH ORDINALITY s(code, quantity, n) ON b.reason IS NULL
LEFT JOIN services sv ON sv.code = s.code
$$;

