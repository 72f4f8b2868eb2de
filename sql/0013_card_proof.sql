-- Issue 14: proof that the card was there. The server verifies each confirmation's EMV
-- offline data authentication (firmware-shared cf/oda.h, in carefactd at ingest) and keeps
-- the verdict, never the proof: the certificates hold the PAN recoverably (anyone with the
-- scheme's public key recovers it), so neither they nor the PAN are stored. What is kept,
-- per event (columns of events, written by ingest's COPY):
--   card_proof_kind     none | sda | dda | fdda | cda (NULL: the event carried no proof)
--   card_proof_level    dynamic | static | none (none when the proof failed)
--   card_proof_failure  why it failed (unknown_ca_key ... malformed), NULL when it did not
--   card_ca_index       the CA key index the card named
--   card_sdad_digest    SHA-256 of the signed dynamic data (9F4B), whatever the verdict
--   card_body_digest    the v1 digest of the event without its proof: the stored row is
--                       checked against it when the event is served (its signed v2 digest
--                       stays in events.digest, but cannot be recomputed without the proof)
-- and card_sdads: the digest of every SDAD accepted, unique, so a replayed signature is
-- refused (reused_signature) on any terminal of any provider.
--
-- Levels, ordered: none < uid < static < dynamic. A confirmation without a proof has the
-- level its card method gives (card_assurance): an EMV card without proof material (an
-- agent before issue 14, or a card that offers none) is static, a UID card uid, no card
-- none. Each region names the lowest payable level (regions.payable_level, default static
-- so existing cards keep being paid; a region can require dynamic). The register excludes
-- a visit whose proof failed at either end ('proof_failed') or whose level at either end
-- is below the region's ('below_policy'); a failed proof also flags the visit
-- card_proof_failed, an exception of the review queue. A failed proof is never a refused
-- upload: the events are signed facts and are stored.

-- ==== Levels ====

-- The level of a confirmation: the verified proof's, else what the card method gives.
-- NULL when there is no confirmation (no such event).
CREATE FUNCTION card_assurance(p_method text, p_level text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(p_level, CASE p_method WHEN 'emv' THEN 'static' WHEN 'uid' THEN 'uid'
                                           WHEN 'none' THEN 'none' END)
$$;

-- Whether a confirmation's level reaches the payable level (NULL level: no confirmation,
-- which the register judges elsewhere: not_ended / *_not_confirmed).
CREATE FUNCTION card_assurance_payable(p_level text, p_payable text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT p_level IS NULL
        OR array_position(ARRAY['none', 'uid', 'static', 'dynamic'], p_level)
           >= array_position(ARRAY['none', 'uid', 'static', 'dynamic'], p_payable)
$$;

-- The lowest level a region pays. The default, uid, pays every card that confirmed visits
-- before proofs existed (an EMV card without a proof is static, a social card uid); a
-- region raises it to static (no clonable UID-only card) or dynamic (card-signed only).
ALTER TABLE regions ADD COLUMN payable_level text NOT NULL DEFAULT 'uid'
    CHECK (payable_level IN ('none', 'uid', 'static', 'dynamic'));

-- ==== What ingest stores ====

ALTER TABLE events
    ADD COLUMN card_proof_kind text,
    ADD COLUMN card_proof_level text,
    ADD COLUMN card_proof_failure text,
    ADD COLUMN card_ca_index smallint,
    ADD COLUMN card_sdad_digest bytea,
    ADD COLUMN card_body_digest bytea;

-- NOTE: no row-level security (tests/security/catalogue.sh says why): a replayed card
-- signature must be found whichever provider's terminal sent it first, and a row holds
-- only a digest and the event it came with, nothing of a provider's data.
CREATE TABLE card_sdads (
    sdad_digest bytea PRIMARY KEY CHECK (length(sdad_digest) = 32),
    device_id uuid NOT NULL,
    seq bigint NOT NULL,
    accepted_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT ON card_sdads TO carefact_app;

ALTER TABLE card_bindings
    ADD COLUMN proof_level text CHECK (proof_level IN ('none', 'uid', 'static', 'dynamic')),
    ADD COLUMN proof_failure text;

-- ==== Visits ====

ALTER TABLE visits
    ADD COLUMN start_level text CHECK (start_level IN ('none', 'uid', 'static', 'dynamic')),
    ADD COLUMN start_proof_failure text,
    ADD COLUMN end_level text CHECK (end_level IN ('none', 'uid', 'static', 'dynamic')),
    ADD COLUMN end_proof_failure text;

-- visit_effective (0008) is "v.*" as its columns were then: made again to carry the new
-- ones (register_compute and the figures read the levels through it).
DROP VIEW visit_effective;
CREATE VIEW visit_effective WITH (security_invoker = true) AS
SELECT v.*,
       coalesce((d.value)::text::boolean, false) AS disputed,
       CASE WHEN s.value IS NULL THEN v.service_codes ELSE sc.codes END
           AS effective_service_codes,
       CASE WHEN s.value IS NULL THEN v.service_quantities ELSE sc.quantities END
           AS effective_service_quantities,
       CASE WHEN s.value IS NULL THEN v.expected_minutes ELSE sc.expected_minutes END
           AS effective_expected_minutes,
       (d.value IS NOT NULL OR s.value IS NOT NULL) AS corrected,
       EXISTS (SELECT 1 FROM exception_resolutions er
               WHERE er.subject_id = v.id AND er.action = 'must_fix'
                 AND NOT EXISTS (SELECT 1 FROM visit_corrections c
                                 WHERE c.visit_id = v.id AND c.corrected_at > er.resolved_at))
           AS must_fix_open
FROM visits v
LEFT JOIN LATERAL (SELECT c.value FROM visit_corrections c
                   WHERE c.visit_id = v.id AND c.field = 'disputed'
                   ORDER BY c.id DESC LIMIT 1) d ON true
LEFT JOIN LATERAL (SELECT c.value FROM visit_corrections c
                   WHERE c.visit_id = v.id AND c.field = 'services'
                   ORDER BY c.id DESC LIMIT 1) s ON true
LEFT JOIN LATERAL (SELECT k.codes, k.quantities, m.expected_minutes
                   FROM correction_services(s.value) k,
                        visit_expected_minutes(k.codes, k.quantities) m) sc
    ON s.value IS NOT NULL;
GRANT SELECT ON visit_effective TO carefact_app;

-- A failed proof at either end flags the visit card_proof_failed (after every other flag),
-- whoever writes flags (the rebuild, a services correction's re-judging, the integrity
-- judge's merge, which fires first: triggers run in name order). Fires only for a visit
-- with a failure, so other visits pay nothing.
CREATE FUNCTION visits_proof_merge() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.flags := array(SELECT f FROM unnest(NEW.flags) WITH ORDINALITY u(f, i)
                       WHERE f <> 'card_proof_failed' ORDER BY i) || '{card_proof_failed}'::text[];
    RETURN NEW;
END
$$;
CREATE TRIGGER visits_proof_merge BEFORE INSERT OR UPDATE ON visits FOR EACH ROW
    WHEN (NEW.start_proof_failure IS NOT NULL OR NEW.end_proof_failure IS NOT NULL)
    EXECUTE FUNCTION visits_proof_merge();

-- rebuild_visits as 0010 defines it, with each confirmation's level and proof failure
-- from the counted start and end events (card_assurance).
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
               e.rating, e.comment, e.reason, e.cancelled_by, e.card_method,
               e.card_proof_level, e.card_proof_failure -- 0013
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


-- ==== Ingest ====

-- ingest_finish as 0011 defines it; a card.bound's binding keeps its proof's level and
-- failure (shown with the pending binding in the review queue).
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
                               source_device, source_seq, proof_level, proof_failure)
    SELECT e.recipient_id, e.card_token, e.card_method, coalesce(e.card_scheme, ''),
           coalesce(e.card_last4, ''), 'pending', e.device_id, e.seq,
           card_assurance(e.card_method, e.card_proof_level), e.card_proof_failure -- 0013
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


-- ==== The exception queue and the register ====

ALTER TABLE exception_resolutions DROP CONSTRAINT exception_resolutions_kind_check;
ALTER TABLE exception_resolutions ADD CONSTRAINT exception_resolutions_kind_check
    CHECK (kind IN ('low_rating', 'early_leave', 'card_mismatch', 'abandoned',
                    'card_binding', 'overlap', 'far_from_address', 'impossible_travel',
                    'card_proof_failed'));
-- the proof after the confirmation it proves, before a person's hold
ALTER TABLE register_excluded DROP CONSTRAINT register_excluded_reason_check;
ALTER TABLE register_excluded ADD CONSTRAINT register_excluded_reason_check CHECK (reason IN
    ('cancelled', 'attempted', 'not_ended', 'unknown_recipient', 'start_not_confirmed',
     'end_not_confirmed', 'proof_failed', 'below_policy', 'disputed', 'must_fix'));

-- register_compute as 0010 defines it, with the two reasons of the proof.
CREATE OR REPLACE FUNCTION register_compute(p_provider uuid, p_month date)
RETURNS TABLE (visit_id uuid, visit_at timestamptz, worker_id uuid, recipient_id uuid,
               reason text, late boolean, original_month date, line_no integer,
               service_code text, service_name text, quantity integer, tariff_kopecks bigint)
LANGUAGE sql STABLE ROWS 20000 SET jit = off AS $$
WITH p AS (
    SELECT pr.id, rg.timezone, rg.payable_level, b.first_month, b.last_month
    FROM providers pr
    JOIN regions rg ON rg.id = pr.region_id
    CROSS JOIN LATERAL (SELECT min(r.month) AS first_month, max(r.month) AS last_month
                        FROM registers r
                        -- earlier months only: while submitting, p_month is stored too
                        WHERE r.provider_id = pr.id AND r.state <> 'draft'
                          AND r.month < p_month) b
    WHERE pr.id = p_provider
), w AS (
    SELECT p.id, p.timezone, p.payable_level,
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
                -- 0013: the proof of the card, after the confirmation it proves
                WHEN ve.start_proof_failure IS NOT NULL OR ve.end_proof_failure IS NOT NULL
                    THEN 'proof_failed'
                WHEN NOT card_assurance_payable(ve.start_level, w.payable_level)
                  OR NOT card_assurance_payable(ve.end_level, w.payable_level)
                    THEN 'below_policy'
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
