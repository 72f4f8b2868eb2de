-- Complaints and the provider comparison (issue 16). A complaint is about a home visit
-- (its provider and worker), an office visit (an appointment) or a provider at large;
-- it is opened by a low rating with a comment (automatically, at the upload that brings
-- the rating: "по горячим следам"), by the citizen's public page, by the phone desk, or
-- by a follow-up call; it moves open -> answered -> closed, and may be reopened. Every
-- change of state is made by one function, complaint_move, from the table of legal
-- transitions. The answer is due complaint_response_days() working days after it
-- opened (the region's calendar, 0019's working_days_add). Trend alerts and the public
-- comparison of providers are one function each. See backend/README.md, "Complaints".

-- ==== Rules ====

-- A visit's rating opens a complaint when it is 2 or lower and the recipient wrote
-- something: a bare low rating is a figure (visit_low_rating, the flag), words are a
-- complaint someone must answer.
CREATE FUNCTION complaint_opens_from_rating(p_rating integer, p_comment text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(p_rating <= 2 AND btrim(coalesce(p_comment, '')) <> '', false)
$$;

-- The answer is due 5 working days after the day the complaint opened (that day not
-- counted): a complaint of Friday is due the next Friday, a holiday between moves it.
-- Shorter than the 30 days of 59-FZ on purpose: a complaint about a home visit is about
-- someone who is visited again next week.
CREATE FUNCTION complaint_response_days() RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT 5 $$;

-- The day the answer is due for a complaint of the region opened at p_at (the region's
-- local day).
CREATE FUNCTION complaint_due(p_region uuid, p_at timestamptz) RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT working_days_add(p_region, (p_at AT TIME ZONE r.timezone)::date,
                            complaint_response_days())
    FROM regions r WHERE r.id = p_region
$$;

-- Overdue: still open (never answered, or reopened) after its due day, as the region's
-- local day p_today sees it.
CREATE FUNCTION complaint_overdue(p_state text, p_due date, p_today date) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$ SELECT p_state = 'open' AND p_today > p_due $$;

-- The 95 % Wilson score lower bound of a share of successes out of n: the satisfaction
-- figures' bound (wilson_bound, sql/0026: one formula), NULL when there is nothing to
-- bound (n is 0, or the counts are not a share).
CREATE FUNCTION wilson_lower(successes bigint, n bigint) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN n > 0 AND successes BETWEEN 0 AND n THEN wilson_bound(successes, n, -1) END
$$;

-- ==== Causes (configuration: codes with the labels people read) ====

CREATE TABLE complaint_causes (
    code text PRIMARY KEY CHECK (code ~ '^[a-z_]{1,32}$'),
    label text NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
    position integer NOT NULL
);
GRANT SELECT ON complaint_causes TO carefact_app;
INSERT INTO complaint_causes (code, label, position) VALUES
    ('unspecified', 'Причина не указана', 0),
    ('lateness', 'Опоздание', 1),
    ('no_show', 'Работник не пришёл', 2),
    ('rudeness', 'Грубость, неуважение', 3),
    ('service_not_done', 'Услуга не оказана', 4),
    ('short_visit', 'Визит короче положенного', 5),
    ('quality', 'Качество услуги', 6),
    ('office_waiting', 'Долгое ожидание в офисе', 7),
    ('other', 'Другое', 8);

-- ==== Complaints ====

CREATE TABLE complaints (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    region_id uuid NOT NULL REFERENCES regions,
    -- the provider complained about; NULL for an office visit (no provider's data then:
    -- only admin and authority see it)
    provider_id uuid REFERENCES providers,
    worker_id uuid REFERENCES workers,
    visit_id uuid REFERENCES visits,
    appointment_id uuid REFERENCES appointments,
    office_id uuid REFERENCES offices,
    source text NOT NULL CHECK (source IN ('low_rating', 'public', 'phone', 'follow_up')),
    cause text NOT NULL REFERENCES complaint_causes,
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    rating integer CHECK (rating BETWEEN 1 AND 5), -- the visit's, for source low_rating
    person_name text NOT NULL DEFAULT '' CHECK (length(person_name) <= 200),
    phone text NOT NULL DEFAULT '' CHECK (length(phone) <= 40),
    state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'answered', 'closed')),
    opened_at timestamptz NOT NULL DEFAULT now(),
    opened_by text NOT NULL,
    due date NOT NULL,
    answer text NOT NULL DEFAULT '' CHECK (length(answer) <= 4000),
    answered_at timestamptz,
    answered_by text NOT NULL DEFAULT '',
    closed_at timestamptz,
    reopened integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (provider_id IS NOT NULL OR office_id IS NOT NULL),
    CHECK (state = 'open' OR answer <> '')
);
-- one automatic complaint per visit, whatever the rebuild does later
CREATE UNIQUE INDEX complaints_one_per_rating ON complaints (visit_id) WHERE source = 'low_rating';
CREATE INDEX complaints_provider_opened ON complaints (provider_id, opened_at DESC, id DESC);
CREATE INDEX complaints_opened ON complaints (opened_at DESC, id DESC);
CREATE INDEX complaints_worker_opened ON complaints (worker_id, opened_at) WHERE worker_id IS NOT NULL;
ALTER TABLE complaints ENABLE ROW LEVEL SECURITY;
-- A manager sees their provider's; admin and authority (scope '*') every one, the office
-- visits' (no provider) included.
CREATE POLICY by_provider ON complaints
    USING (provider_id = ANY ((SELECT visible_providers())::uuid[])
           OR (provider_id IS NULL AND provider_visible(NULL)));
GRANT SELECT, INSERT, UPDATE ON complaints TO carefact_app;

-- The legal transitions: answered needs the answer text; reopening (from answered or
-- closed) sets a new due day from the reopening day.
CREATE TABLE complaint_transitions (
    from_state text NOT NULL,
    to_state text NOT NULL,
    PRIMARY KEY (from_state, to_state)
);
GRANT SELECT ON complaint_transitions TO carefact_app;
INSERT INTO complaint_transitions VALUES
    ('open', 'answered'), ('answered', 'closed'), ('answered', 'open'), ('closed', 'open');

-- The one function that changes a complaint's state: 'moved', 'not_found', 'illegal' or
-- 'answer' (answered without the answer's text). p_cause ('' keeps it) may be set with
-- the answer.
CREATE FUNCTION complaint_move(p_id uuid, p_to text, p_answer text, p_cause text, p_actor text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    c complaints;
BEGIN
    SELECT * INTO c FROM complaints WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'not_found';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM complaint_transitions t
                   WHERE t.from_state = c.state AND t.to_state = p_to) THEN
        RETURN 'illegal';
    END IF;
    IF p_to = 'answered' AND btrim(coalesce(p_answer, '')) = '' THEN
        RETURN 'answer';
    END IF;
    UPDATE complaints SET
        state = p_to,
        answer = CASE WHEN p_to = 'answered' THEN btrim(p_answer) ELSE answer END,
        answered_at = CASE WHEN p_to = 'answered' THEN now() ELSE answered_at END,
        answered_by = CASE WHEN p_to = 'answered' THEN p_actor ELSE answered_by END,
        cause = CASE WHEN p_to = 'answered' AND coalesce(p_cause, '') <> '' THEN p_cause
                     ELSE cause END,
        closed_at = CASE WHEN p_to = 'closed' THEN now() ELSE closed_at END,
        reopened = reopened + (p_to = 'open')::integer,
        due = CASE WHEN p_to = 'open' THEN complaint_due(region_id, now()) ELSE due END,
        updated_at = now()
    WHERE id = p_id;
    RETURN 'moved';
END
$$;

-- Opening a complaint by a person (the phone desk, a follow-up call, the citizen's
-- page), as the caller (row-level security applies: a manager opens only their
-- provider's). About a visit (its provider and worker), an appointment (its office), or a
-- provider (and maybe one of its workers). The outcome: 'opened' with the id and the due
-- day, or the field that names nothing the caller may see ('cause', 'visit_id',
-- 'appointment_id', 'provider_id', 'worker_id').
CREATE FUNCTION complaint_open(p_source text, p_cause text, p_body text, p_visit uuid,
                               p_appointment uuid, p_provider uuid, p_worker uuid,
                               p_name text, p_phone text, p_actor text)
RETURNS TABLE (outcome text, id uuid, due date)
LANGUAGE plpgsql AS $$
DECLARE
    v_region uuid;
    v_provider uuid := p_provider;
    v_worker uuid := p_worker;
    v_office uuid;
    v_id uuid;
    v_due date;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM complaint_causes c WHERE c.code = p_cause) THEN
        RETURN QUERY SELECT 'cause', NULL::uuid, NULL::date;
        RETURN;
    END IF;
    IF p_visit IS NOT NULL THEN
        SELECT v.provider_id, v.worker_id INTO v_provider, v_worker
        FROM visits v WHERE v.id = p_visit;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 'visit_id', NULL::uuid, NULL::date;
            RETURN;
        END IF;
    ELSIF p_appointment IS NOT NULL THEN
        SELECT a.office_id, a.region_id INTO v_office, v_region
        FROM appointments a WHERE a.id = p_appointment;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 'appointment_id', NULL::uuid, NULL::date;
            RETURN;
        END IF;
        v_provider := NULL;
        v_worker := NULL;
    END IF;
    IF v_office IS NULL THEN
        SELECT p.region_id INTO v_region FROM providers p WHERE p.id = v_provider;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 'provider_id', NULL::uuid, NULL::date;
            RETURN;
        END IF;
        IF v_worker IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM workers w WHERE w.id = v_worker AND w.provider_id = v_provider) THEN
            RETURN QUERY SELECT 'worker_id', NULL::uuid, NULL::date;
            RETURN;
        END IF;
    END IF;
    v_due := complaint_due(v_region, now());
    INSERT INTO complaints (region_id, provider_id, worker_id, visit_id, appointment_id,
                           office_id, source, cause, body, person_name, phone, opened_by, due)
    VALUES (v_region, v_provider, v_worker, p_visit, p_appointment, v_office, p_source,
            p_cause, btrim(p_body), coalesce(p_name, ''), coalesce(p_phone, ''), p_actor, v_due)
    RETURNING complaints.id INTO v_id;
    RETURN QUERY SELECT 'opened', v_id, v_due;
END
$$;

-- The home visit a citizen complains about, found by what they hold: their application's
-- number and code (the status page's; SHA-256 of the code as hex). The recipient's
-- latest ended visit, on that local day when p_day is given; NULL when none.
CREATE FUNCTION complaint_home_visit(p_number text, p_code_hash text, p_day date)
RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT v.id
    FROM applications a
    JOIN visits v ON v.recipient_id = a.recipient_id AND v.state IN ('ended', 'rated')
    JOIN providers p ON p.id = v.provider_id
    JOIN regions r ON r.id = p.region_id
    WHERE a.number = p_number AND a.code_hash = decode(p_code_hash, 'hex')
      AND a.recipient_id IS NOT NULL
      AND (p_day IS NULL OR (v.started_at AT TIME ZONE r.timezone)::date = p_day)
    ORDER BY v.sort_at DESC, v.id DESC
    LIMIT 1
$$;

-- ==== Opened by a low rating, the same day ====

-- Runs as the owner: ingest's scope is the device's provider, and the complaint is that
-- provider's anyway; the definer only spares the policy check a lookup of the region.
CREATE FUNCTION complaint_from_rating() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO complaints (region_id, provider_id, worker_id, visit_id, source, cause, body,
                            rating, opened_by, due)
    SELECT p.region_id, NEW.provider_id, NEW.worker_id, NEW.id, 'low_rating', 'unspecified',
           left(btrim(NEW.comment), 4000), NEW.rating, 'system', complaint_due(p.region_id, now())
    FROM providers p WHERE p.id = NEW.provider_id
    ON CONFLICT (visit_id) WHERE source = 'low_rating' DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER visits_complaint AFTER INSERT OR UPDATE OF rating, comment ON visits
    FOR EACH ROW WHEN (complaint_opens_from_rating(NEW.rating, NEW.comment))
    EXECUTE FUNCTION complaint_from_rating();

-- ==== Trend alerts ====

-- As of p_now, over the 30 days before it: a worker with 2 or more complaints (any
-- source, any state), and a provider whose complaints per 100 ended visits are above its
-- region's by more than half again (rate > 1.5 x the region's) with at least 3
-- complaints (fewer is noise). Security definer: the region's rate counts every
-- provider, which a manager may not see; it returns only counts, and only the rows of
-- providers the caller may see (visible_providers() reads the caller's setting, which a
-- definer keeps).
CREATE FUNCTION complaint_trend_alerts(p_now timestamptz)
RETURNS TABLE (kind text, provider_id uuid, worker_id uuid, complaints bigint,
               visits bigint, per_100 double precision, region_per_100 double precision)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH c AS (
        SELECT c.provider_id, c.worker_id, c.region_id FROM complaints c
        WHERE c.opened_at > p_now - interval '30 days' AND c.opened_at <= p_now
          AND c.provider_id IS NOT NULL
    ), v AS (
        SELECT v.provider_id, count(*) AS visits FROM visits v
        WHERE v.sort_at > p_now - interval '30 days' AND v.sort_at <= p_now
          AND v.state IN ('ended', 'rated')
        GROUP BY v.provider_id
    ), per_provider AS (
        SELECT p.id AS provider_id, p.region_id,
               (SELECT count(*) FROM c WHERE c.provider_id = p.id) AS complaints,
               coalesce(v.visits, 0) AS visits
        FROM providers p LEFT JOIN v ON v.provider_id = p.id
    ), per_region AS (
        SELECT region_id, 100.0 * sum(complaints) / nullif(sum(visits), 0) AS per_100
        FROM per_provider GROUP BY region_id
    )
    SELECT 'worker', w.provider_id, c.worker_id, count(*), NULL::bigint, NULL::double precision,
           NULL::double precision
    FROM c JOIN workers w ON w.id = c.worker_id
    WHERE w.provider_id = ANY (visible_providers())
    GROUP BY w.provider_id, c.worker_id
    HAVING count(*) >= 2
    UNION ALL
    SELECT 'provider', pp.provider_id, NULL, pp.complaints, pp.visits,
           100.0 * pp.complaints / nullif(pp.visits, 0), r.per_100
    FROM per_provider pp JOIN per_region r ON r.region_id = pp.region_id
    WHERE pp.provider_id = ANY (visible_providers()) AND pp.complaints >= 3
      AND 100.0 * pp.complaints / nullif(pp.visits, 0) > 1.5 * coalesce(r.per_100, 0)
$$;

-- ==== The providers compared, for citizens ====

-- Each provider of the region over one local month [p_from, p_to) by the visit's start:
-- ended visits, of them card-confirmed at both ends (the share the citizen sees), and,
-- of the confirmed ones only, the ratings (satisfied: 4-5; the share's Wilson lower
-- bound) and punctuality (a visit of a plan started within p_minutes of the planned
-- start, early or late). A provider with no ended visit that month is listed with zeros.
-- Confirmed visits only: an unconfirmed visit's rating may have been given by anyone.
-- A visit's plan is looked for among the plans starting within a day of the month (an
-- index range of visit_plans_sort, not a scan of every plan: at a million visits the scan
-- was two thirds of the query); a visit begun more than a day from its plan would not be
-- punctual anyway, and is counted as without a plan.
CREATE FUNCTION provider_comparison(p_region uuid, p_from timestamptz, p_to timestamptz,
                                    p_minutes integer)
RETURNS TABLE (provider_id uuid, provider_name text, ended bigint, confirmed bigint,
               rated bigint, satisfied bigint, satisfied_lower double precision,
               planned bigint, punctual bigint)
LANGUAGE sql STABLE AS $$
    WITH v AS (
        SELECT v.provider_id, v.start_confirmed AND v.end_confirmed AS confirmed, v.rating,
               v.started_at, v.plan_id
        FROM visits v JOIN providers p ON p.id = v.provider_id AND p.region_id = p_region
        WHERE v.sort_at >= p_from AND v.sort_at < p_to AND v.state IN ('ended', 'rated')
    ), agg AS (
        SELECT v.provider_id, count(*) AS ended,
               count(*) FILTER (WHERE v.confirmed) AS confirmed,
               count(v.rating) FILTER (WHERE v.confirmed) AS rated,
               count(*) FILTER (WHERE v.confirmed AND v.rating >= 4) AS satisfied,
               count(pl.id) FILTER (WHERE v.confirmed) AS planned,
               count(*) FILTER (WHERE v.confirmed AND abs(extract(epoch FROM
                   v.started_at - pl.planned_start)) <= p_minutes * 60) AS punctual
        FROM v LEFT JOIN visit_plans pl ON pl.id = v.plan_id
            AND pl.planned_start >= p_from - interval '1 day'
            AND pl.planned_start < p_to + interval '1 day'
        GROUP BY v.provider_id
    )
    SELECT p.id, p.name, coalesce(a.ended, 0), coalesce(a.confirmed, 0), coalesce(a.rated, 0),
           coalesce(a.satisfied, 0), wilson_lower(a.satisfied, a.rated),
           coalesce(a.planned, 0), coalesce(a.punctual, 0)
    FROM providers p LEFT JOIN agg a ON a.provider_id = p.id
    WHERE p.region_id = p_region
    ORDER BY p.name, p.id
$$;
