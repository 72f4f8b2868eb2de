-- Satisfaction you can prove (issue 16): survey instruments with versioned question
-- sets, the answers (on the public page after an office visit, by phone follow-up; the
-- terminal's per-visit 1-5 rating stays on visits), and the rules that turn them into
-- figures: the share satisfied with its 95 % Wilson score interval, the status against
-- the 95 % target, coverage, would-recommend, low ratings followed up in time, and the
-- independent follow-up sample that measures courtesy bias. Each rule is one function
-- here, so the complaints and the provider comparison (built apart) reuse them. See
-- backend/README.md, "Satisfaction".

-- ==== Instruments (configuration, by the owner) ====

CREATE TABLE survey_instruments (
    id text PRIMARY KEY CHECK (id ~ '^[a-z_]{1,40}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200)
);
GRANT SELECT ON survey_instruments TO carefact_app;

-- A version is immutable once answered: a new wording is a new version, so every
-- answer is read with the questions it was given.
CREATE TABLE survey_instrument_versions (
    instrument_id text NOT NULL REFERENCES survey_instruments,
    version integer NOT NULL CHECK (version >= 1),
    valid_from date NOT NULL,
    PRIMARY KEY (instrument_id, version)
);
GRANT SELECT ON survey_instrument_versions TO carefact_app;

-- kind: scale5 (an integer 1-5), choice3 ("fully", "partly", "no"), yes_no ("yes",
-- "no"). The one question with satisfaction = true decides whether a response counts
-- as satisfied; the one with recommend = true is the would-recommend answer.
CREATE TABLE survey_questions (
    instrument_id text NOT NULL,
    version integer NOT NULL,
    position integer NOT NULL CHECK (position >= 1),
    code text NOT NULL CHECK (code ~ '^[a-z_]{1,32}$'),
    kind text NOT NULL CHECK (kind IN ('scale5', 'choice3', 'yes_no')),
    text text NOT NULL CHECK (length(text) BETWEEN 1 AND 500),
    required boolean NOT NULL DEFAULT true,
    satisfaction boolean NOT NULL DEFAULT false,
    recommend boolean NOT NULL DEFAULT false,
    PRIMARY KEY (instrument_id, version, code),
    UNIQUE (instrument_id, version, position),
    FOREIGN KEY (instrument_id, version) REFERENCES survey_instrument_versions
);
CREATE UNIQUE INDEX survey_questions_one_satisfaction ON survey_questions (instrument_id, version)
    WHERE satisfaction;
CREATE UNIQUE INDEX survey_questions_one_recommend ON survey_questions (instrument_id, version)
    WHERE recommend;
GRANT SELECT ON survey_questions TO carefact_app;

-- The standard questions of the quality of public services (the citizen's assessment
-- of a provider of state services) and the terminal's per-visit rating.
INSERT INTO survey_instruments (id, name) VALUES
    ('public_service', 'Оценка качества предоставления услуги'),
    ('visit_rating', 'Оценка посещения на терминале');
INSERT INTO survey_instrument_versions (instrument_id, version, valid_from) VALUES
    ('public_service', 1, '2026-01-01'),
    ('visit_rating', 1, '2026-01-01');
INSERT INTO survey_questions (instrument_id, version, position, code, kind, text, required,
                              satisfaction, recommend) VALUES
    ('public_service', 1, 1, 'overall', 'scale5',
     'Насколько вы удовлетворены качеством предоставления услуги в целом? (1 — совсем не удовлетворены, 5 — полностью удовлетворены)',
     true, true, false),
    ('public_service', 1, 2, 'informed', 'choice3',
     'Получили ли вы полную и понятную информацию о порядке предоставления услуги?',
     true, false, false),
    ('public_service', 1, 3, 'premises', 'scale5',
     'Оцените комфортность помещения: место ожидания, чистота, доступность для маломобильных граждан',
     true, false, false),
    ('public_service', 1, 4, 'competence', 'scale5',
     'Оцените компетентность сотрудника, который вас обслуживал',
     true, false, false),
    ('public_service', 1, 5, 'politeness', 'scale5',
     'Оцените вежливость и доброжелательность сотрудника',
     true, false, false),
    ('public_service', 1, 6, 'waiting', 'scale5',
     'Оцените время ожидания приёма',
     true, false, false),
    ('public_service', 1, 7, 'eform', 'choice3',
     'Удобно ли было подать заявление в электронной форме? (если подавали)',
     false, false, false),
    ('public_service', 1, 8, 'recommend', 'yes_no',
     'Порекомендуете ли вы эту организацию родным и знакомым?',
     true, false, true),
    ('visit_rating', 1, 1, 'rating', 'scale5',
     'Оцените посещение (1 — очень плохо, 5 — отлично)',
     true, true, false);

-- ==== The rules ====

-- The target share satisfied (Leningrad region: 95 %) and the coverage below which
-- a figure is flagged (rated ÷ ended visits).
CREATE FUNCTION satisfaction_target() RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$ SELECT 0.95::double precision $$;
CREATE FUNCTION satisfaction_coverage_min() RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$ SELECT 0.80::double precision $$;

-- The normal quantile of the 95 % interval (0.975): the z of every bound below.
CREATE FUNCTION wilson_z() RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 1.959964::double precision $$;

-- One bound of the 95 % Wilson score interval of p_yes successes in p_n trials: the
-- lower with p_sign -1, the upper with +1; [0, 1] for no trials. 20 of 20 give a lower
-- bound of 0.8389; 73 of 73 are the fewest whose lower bound reaches 0.95. A plain
-- expression (no FROM), so PostgreSQL inlines it into the figures' query.
CREATE FUNCTION wilson_bound(p_yes bigint, p_n bigint, p_sign integer) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_n <= 0 THEN (p_sign + 1) / 2.0
           ELSE least(1, greatest(0,
               (p_yes::double precision / p_n + wilson_z() ^ 2 / (2 * p_n)
                + p_sign * wilson_z()
                  * sqrt((p_yes::double precision / p_n) * (1 - p_yes::double precision / p_n) / p_n
                         + wilson_z() ^ 2 / (4 * p_n::double precision * p_n)))
               / (1 + wilson_z() ^ 2 / p_n))) END
$$;

-- Both bounds, for callers that want them together (the complaints, the comparison).
CREATE FUNCTION wilson_bounds(p_yes bigint, p_n bigint,
                              OUT lower_bound double precision, OUT upper_bound double precision)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT wilson_bound(p_yes, p_n, -1), wilson_bound(p_yes, p_n, 1)
$$;

-- met: the lower bound reaches the target; not_met: the upper bound is below it;
-- otherwise not_enough (too few answers to tell).
CREATE FUNCTION satisfaction_status_of(p_lower double precision, p_upper double precision)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_lower >= satisfaction_target() THEN 'met'
                WHEN p_upper < satisfaction_target() THEN 'not_met'
                ELSE 'not_enough' END
$$;
CREATE FUNCTION satisfaction_status(p_yes bigint, p_n bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT satisfaction_status_of(wilson_bound(p_yes, p_n, -1), wilson_bound(p_yes, p_n, 1))
$$;

-- Is one answer of a question of this kind "satisfied"? 4-5, "fully", "yes".
CREATE FUNCTION survey_answer_satisfied(p_kind text, p_answer jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_kind
               WHEN 'scale5' THEN (p_answer #>> '{}')::integer >= 4
               WHEN 'choice3' THEN p_answer #>> '{}' = 'fully'
               WHEN 'yes_no' THEN p_answer #>> '{}' = 'yes' END
$$;

-- Is p_answer a valid answer to a question of this kind?
CREATE FUNCTION survey_answer_valid(p_kind text, p_answer jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_kind
               WHEN 'scale5' THEN jsonb_typeof(p_answer) = 'number'
                                  AND (p_answer #>> '{}') IN ('1', '2', '3', '4', '5')
               WHEN 'choice3' THEN jsonb_typeof(p_answer) = 'string'
                                   AND (p_answer #>> '{}') IN ('fully', 'partly', 'no')
               WHEN 'yes_no' THEN jsonb_typeof(p_answer) = 'string'
                                  AND (p_answer #>> '{}') IN ('yes', 'no')
               ELSE false END
$$;

-- Answers against their instrument's version: NULL when every required question has a
-- valid answer and nothing else is there, else the code of the first wrong one (an
-- unknown code, or the question a required answer is missing for or badly given).
CREATE FUNCTION survey_answers_check(p_instrument text, p_version integer, p_answers jsonb)
RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT k FROM jsonb_object_keys(p_answers) k
         WHERE NOT EXISTS (SELECT 1 FROM survey_questions q
                           WHERE q.instrument_id = p_instrument AND q.version = p_version
                             AND q.code = k)
         ORDER BY k LIMIT 1),
        (SELECT q.code FROM survey_questions q
         WHERE q.instrument_id = p_instrument AND q.version = p_version
           AND CASE WHEN p_answers ? q.code THEN NOT survey_answer_valid(q.kind, p_answers -> q.code)
                    ELSE q.required END
         ORDER BY q.position LIMIT 1))
$$;

-- ==== Responses ====

CREATE TABLE survey_responses (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    instrument_id text NOT NULL,
    version integer NOT NULL,
    channel text NOT NULL CHECK (channel IN ('in_person', 'phone', 'web', 'home_visit')),
    -- after_visit: the person's own answer; sample: the independent follow-up of the
    -- random sample; low_rating: the follow-up of a rating of 3 or less
    purpose text NOT NULL CHECK (purpose IN ('after_visit', 'sample', 'low_rating')),
    visit_id uuid REFERENCES visits,
    appointment_id uuid REFERENCES appointments,
    -- the visit's provider, or the appointment's office (and its region): row-level
    -- security and the figures' groups
    provider_id uuid REFERENCES providers,
    office_id uuid REFERENCES offices,
    region_id uuid NOT NULL REFERENCES regions,
    -- the local month and day of the visit or appointment the answer concerns, its
    -- services (an appointment: its kind) and the terminal's rating of the visit, as they
    -- were when the answer came: the figures group answers by them without reading the
    -- visits again
    subject_month date NOT NULL CHECK (extract(day FROM subject_month) = 1),
    subject_day date NOT NULL CHECK (date_trunc('month', subject_day) = subject_month),
    service_codes text[] NOT NULL,
    visit_rating integer CHECK (visit_rating BETWEEN 1 AND 5),
    answers jsonb NOT NULL CHECK (jsonb_typeof(answers) = 'object'),
    satisfied boolean NOT NULL,
    recommend boolean,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (instrument_id, version) REFERENCES survey_instrument_versions,
    CHECK (num_nonnulls(visit_id, appointment_id) = 1),
    CHECK ((visit_id IS NOT NULL) = (provider_id IS NOT NULL)),
    CHECK ((appointment_id IS NOT NULL) = (office_id IS NOT NULL))
);
-- one answer per subject, channel and purpose: a second is refused, not counted twice
CREATE UNIQUE INDEX survey_responses_once
    ON survey_responses (coalesce(visit_id, appointment_id), channel, purpose);
CREATE INDEX survey_responses_visit ON survey_responses (visit_id) WHERE visit_id IS NOT NULL;
CREATE INDEX survey_responses_provider_month ON survey_responses (provider_id, subject_month)
    WHERE provider_id IS NOT NULL;
CREATE INDEX survey_responses_office_month ON survey_responses (office_id, subject_month)
    WHERE office_id IS NOT NULL;
ALTER TABLE survey_responses ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_provider_or_office ON survey_responses
    USING (provider_id = ANY ((SELECT visible_providers())::uuid[])
           OR (office_id IS NOT NULL AND application_visible(office_id, region_id)));
-- Written only through survey_record; never changed.
GRANT SELECT, INSERT ON survey_responses TO carefact_app;

-- Record one response about a visit or an appointment (exactly one of them), in the
-- caller's scope. Outcomes: recorded (with its id), not_found (no such subject the
-- caller may see), not_served (a visit not ended, an appointment not served),
-- answered (this subject already has an answer by this channel and purpose), invalid
-- (field: the question's code, or "instrument"). A sample follow-up must concern a
-- visit of the sample (outcome not_sampled).
CREATE FUNCTION survey_record(p_instrument text, p_version integer, p_channel text,
                              p_purpose text, p_visit uuid, p_appointment uuid,
                              p_answers jsonb, p_actor text)
RETURNS TABLE (outcome text, response_id uuid, field text)
LANGUAGE plpgsql AS $$
DECLARE
    bad text;
    q_sat survey_questions;
    q_rec survey_questions;
    prov uuid; office uuid; region uuid; day date; served boolean; codes text[]; rating integer;
    new_id uuid;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM survey_instrument_versions
                   WHERE instrument_id = p_instrument AND version = p_version) THEN
        RETURN QUERY SELECT 'invalid'::text, NULL::uuid, 'instrument'::text;
        RETURN;
    END IF;
    IF p_visit IS NOT NULL THEN
        SELECT v.provider_id, p.region_id, (v.sort_at AT TIME ZONE r.timezone)::date,
               v.state IN ('ended', 'rated'), v.service_codes, v.rating
        INTO prov, region, day, served, codes, rating
        FROM visits v JOIN providers p ON p.id = v.provider_id JOIN regions r ON r.id = p.region_id
        WHERE v.id = p_visit;
    ELSE
        SELECT a.office_id, a.region_id, (lower(a.during) AT TIME ZONE r.timezone)::date,
               a.state = 'served', ARRAY[a.kind]
        INTO office, region, day, served, codes
        FROM appointments a JOIN regions r ON r.id = a.region_id
        WHERE a.id = p_appointment;
    END IF;
    IF region IS NULL THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::uuid, NULL::text;
        RETURN;
    END IF;
    IF NOT served THEN
        RETURN QUERY SELECT 'not_served'::text, NULL::uuid, NULL::text;
        RETURN;
    END IF;
    IF p_purpose = 'sample' AND (p_visit IS NULL OR NOT EXISTS (
            SELECT 1 FROM satisfaction_sample(prov, date_trunc('month', day)::date) s
            WHERE s.visit_id = p_visit)) THEN
        RETURN QUERY SELECT 'not_sampled'::text, NULL::uuid, NULL::text;
        RETURN;
    END IF;
    bad := survey_answers_check(p_instrument, p_version, p_answers);
    IF bad IS NOT NULL THEN
        RETURN QUERY SELECT 'invalid'::text, NULL::uuid, bad;
        RETURN;
    END IF;
    SELECT * INTO q_sat FROM survey_questions
    WHERE instrument_id = p_instrument AND version = p_version AND satisfaction;
    SELECT * INTO q_rec FROM survey_questions
    WHERE instrument_id = p_instrument AND version = p_version AND recommend;
    INSERT INTO survey_responses (instrument_id, version, channel, purpose, visit_id,
                                  appointment_id, provider_id, office_id, region_id,
                                  subject_month, subject_day, service_codes, visit_rating,
                                  answers, satisfied, recommend, created_by)
    VALUES (p_instrument, p_version, p_channel, p_purpose, p_visit, p_appointment, prov,
            office, region, date_trunc('month', day)::date, day, codes, rating, p_answers,
            coalesce(survey_answer_satisfied(q_sat.kind, p_answers -> q_sat.code), false),
            CASE WHEN q_rec.code IS NOT NULL AND p_answers ? q_rec.code
                 THEN survey_answer_satisfied(q_rec.kind, p_answers -> q_rec.code) END,
            p_actor)
    ON CONFLICT DO NOTHING
    RETURNING id INTO new_id;
    IF new_id IS NULL THEN
        RETURN QUERY SELECT 'answered'::text, NULL::uuid, NULL::text;
        RETURN;
    END IF;
    RETURN QUERY SELECT 'recorded'::text, new_id, NULL::text;
END
$$;

-- ==== The independent follow-up sample (courtesy bias) ====

-- The share of a provider's ended visits of a month drawn for the department's
-- follow-up call, and the fewest drawn (all of them when there are fewer).
CREATE FUNCTION satisfaction_sample_share() RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$ SELECT 0.05::double precision $$;
CREATE FUNCTION satisfaction_sample_min() RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT 30 $$;

-- The sample of a provider's local month: its ended visits (ended or rated) ranked by
-- a hash of the visit's id and the month — random to everyone who cannot choose visit
-- ids, and the same on every reading — and the first
-- max(ceil(5 % of them), min(30, all of them)) taken.
CREATE FUNCTION satisfaction_sample(p_provider uuid, p_month date)
RETURNS TABLE (visit_id uuid, rank bigint)
LANGUAGE sql STABLE AS $$
    WITH bounds AS (
        SELECT (p_month::timestamp AT TIME ZONE r.timezone) AS lo,
               ((p_month + interval '1 month')::timestamp AT TIME ZONE r.timezone) AS hi
        FROM providers p JOIN regions r ON r.id = p.region_id WHERE p.id = p_provider),
    ended AS (
        SELECT v.id, row_number() OVER (ORDER BY md5(v.id::text || ' ' || p_month::text), v.id) AS rank,
               count(*) OVER () AS n
        FROM visits v, bounds b
        WHERE v.provider_id = p_provider AND v.sort_at >= b.lo AND v.sort_at < b.hi
          -- the month in any time zone as constants, so the index bounds the scan (as
          -- in satisfaction_groups)
          AND v.sort_at >= p_month::timestamp AT TIME ZONE 'UTC' - interval '14 hours'
          AND v.sort_at < (p_month + interval '1 month')::timestamp AT TIME ZONE 'UTC'
                          + interval '12 hours'
          AND v.state IN ('ended', 'rated'))
    SELECT id, rank FROM ended
    WHERE rank <= greatest(ceil(satisfaction_sample_share() * n),
                           least(satisfaction_sample_min()::bigint, n))
$$;

-- ==== The figures ====

-- The month's ended visits of a provider with what the figures count, so they are read
-- by an index-only scan (the heap fetch of 86,000 visits was most of a region's month).
CREATE INDEX visits_satisfaction ON visits (provider_id, sort_at) INCLUDE (id, rating, service_codes)
    WHERE state IN ('ended', 'rated');

-- Per group of a local month: (provider, service) or (office, appointment kind), and
-- channel; and each provider's and office's totals per channel (service NULL), where a
-- visit counts once however many services it had. The terminal's ratings
-- (visits.rating) are channel home_visit, instrument visit_rating; the responses come
-- by their own channel, except the follow-ups of low ratings, which are chosen by
-- their outcome and so are not a measure of satisfaction. For the terminal rows also
-- the visits ended (the coverage's denominator), the ratings of 3 or less, and of
-- those the ones followed up (a low_rating response) by the end of the 2nd working day
-- after the visit's local day (the region's calendar). A visit with several services
-- counts once in each of them. p_provider NULL: every provider (and office) the caller
-- may see.
--
-- Planned for a region's busiest month (1,000,000 visits a year: ~86,000 in a month):
-- the month's visits are read once, by an index-only scan of visits_satisfaction, and
-- counted per provider and set of services (a few hundred groups); only those groups are
-- cut into services; the deadlines are computed once per region and day (not per
-- visit); the answers carry their visit's services, day and rating (no visit read).
CREATE FUNCTION satisfaction_groups(p_month date, p_provider uuid)
RETURNS TABLE (provider_id uuid, office_id uuid, service text, channel text,
               answers bigint, satisfied bigint, recommend_answers bigint, recommend_yes bigint,
               ended bigint, low bigint, low_followed bigint)
LANGUAGE sql STABLE AS $$
    WITH provs AS (
        SELECT p.id, p.region_id, r.timezone,
               (p_month::timestamp AT TIME ZONE r.timezone) AS lo,
               ((p_month + interval '1 month')::timestamp AT TIME ZONE r.timezone) AS hi
        FROM providers p JOIN regions r ON r.id = p.region_id
        WHERE p_provider IS NULL OR p.id = p_provider),
    -- per region, the end of the 2nd working day after each local day of the month
    -- (element i: day i), one lookup per visit instead of a join the planner would loop
    deadlines AS MATERIALIZED (
        SELECT r.region_id,
               array_agg((working_days_add(r.region_id, d::date, 2) + 1)::timestamp
                             AT TIME ZONE r.timezone ORDER BY d) AS due
        FROM (SELECT DISTINCT region_id, timezone FROM provs) r
        CROSS JOIN generate_series(p_month, p_month + interval '1 month' - interval '1 day',
                                   interval '1 day') d
        GROUP BY r.region_id),
    -- the month's ended visits counted per provider and set of services, straight from
    -- the covering index visits_satisfaction (an index-only scan)
    visit_sets AS (
        SELECT v.provider_id, v.service_codes, count(v.rating) AS answers,
               count(*) FILTER (WHERE v.rating >= 4) AS satisfied, count(*) AS ended,
               count(*) FILTER (WHERE v.rating <= 3) AS low
        FROM provs p
        JOIN visits v ON v.provider_id = p.id AND v.sort_at >= p.lo AND v.sort_at < p.hi
            -- the month in any time zone (UTC-12 to UTC+14) as constants, so the index on
            -- sort_at bounds the scan; the line above is the exact local month
            AND v.sort_at >= p_month::timestamp AT TIME ZONE 'UTC' - interval '14 hours'
            AND v.sort_at < (p_month + interval '1 month')::timestamp AT TIME ZONE 'UTC'
                            + interval '12 hours'
        WHERE v.state IN ('ended', 'rated')
        GROUP BY v.provider_id, v.service_codes),
    month_answers AS MATERIALIZED (
        SELECT f.* FROM provs p
        JOIN survey_responses f ON f.provider_id = p.id AND f.subject_month = p_month),
    -- ratings of 3 or less followed up by the deadline, per provider and set of services
    followed_sets AS (
        SELECT f.provider_id, f.service_codes, count(DISTINCT f.visit_id) AS low_followed
        FROM month_answers f JOIN deadlines d ON d.region_id = f.region_id
        WHERE f.purpose = 'low_rating' AND f.visit_rating <= 3
          AND f.created_at < d.due[extract(day FROM f.subject_day)::integer]
        GROUP BY f.provider_id, f.service_codes),
    terminal_sets AS (
        SELECT t.provider_id, t.service_codes, t.answers, t.satisfied, t.ended, t.low,
               coalesce(x.low_followed, 0) AS low_followed
        FROM visit_sets t
        LEFT JOIN followed_sets x ON x.provider_id = t.provider_id
                                 AND x.service_codes = t.service_codes),
    answer_sets AS (
        SELECT f.provider_id, NULL::uuid AS office_id, f.service_codes, f.channel,
               count(*) AS answers, count(*) FILTER (WHERE f.satisfied) AS satisfied,
               count(f.recommend) AS recommend_answers,
               count(*) FILTER (WHERE f.recommend) AS recommend_yes
        FROM month_answers f
        WHERE f.purpose <> 'low_rating'
        GROUP BY f.provider_id, f.service_codes, f.channel
        UNION ALL
        SELECT NULL, f.office_id, f.service_codes, f.channel, count(*),
               count(*) FILTER (WHERE f.satisfied), count(f.recommend),
               count(*) FILTER (WHERE f.recommend)
        FROM survey_responses f
        WHERE p_provider IS NULL AND f.office_id IS NOT NULL AND f.subject_month = p_month
          AND f.purpose <> 'low_rating'
        GROUP BY f.office_id, f.service_codes, f.channel)
    SELECT t.provider_id, NULL::uuid, s.code, 'home_visit', sum(t.answers)::bigint,
           sum(t.satisfied)::bigint, 0::bigint, 0::bigint, sum(t.ended)::bigint,
           sum(t.low)::bigint, sum(t.low_followed)::bigint
    FROM terminal_sets t
    CROSS JOIN LATERAL (SELECT DISTINCT c FROM unnest(CASE WHEN cardinality(t.service_codes) = 0
                                                          THEN ARRAY[''] ELSE t.service_codes END) c) s(code)
    GROUP BY t.provider_id, s.code
    UNION ALL
    SELECT t.provider_id, NULL::uuid, NULL, 'home_visit', sum(t.answers)::bigint,
           sum(t.satisfied)::bigint, 0::bigint, 0::bigint, sum(t.ended)::bigint,
           sum(t.low)::bigint, sum(t.low_followed)::bigint
    FROM terminal_sets t GROUP BY t.provider_id
    UNION ALL
    SELECT a.provider_id, a.office_id, s.code, a.channel, sum(a.answers)::bigint,
           sum(a.satisfied)::bigint, sum(a.recommend_answers)::bigint,
           sum(a.recommend_yes)::bigint, NULL, NULL, NULL
    FROM answer_sets a
    CROSS JOIN LATERAL (SELECT DISTINCT c FROM unnest(CASE WHEN cardinality(a.service_codes) = 0
                                                          THEN ARRAY[''] ELSE a.service_codes END) c) s(code)
    GROUP BY a.provider_id, a.office_id, s.code, a.channel
    UNION ALL
    SELECT a.provider_id, a.office_id, NULL, a.channel, sum(a.answers)::bigint,
           sum(a.satisfied)::bigint, sum(a.recommend_answers)::bigint,
           sum(a.recommend_yes)::bigint, NULL, NULL, NULL
    FROM answer_sets a GROUP BY a.provider_id, a.office_id, a.channel
$$;

-- The independent follow-up of a provider's local month: the sample's size and the
-- answers of it so far (purpose sample), satisfied among them.
CREATE FUNCTION satisfaction_followup(p_month date, p_provider uuid,
                                      OUT answers bigint, OUT satisfied bigint)
LANGUAGE sql STABLE AS $$
    SELECT count(*), count(*) FILTER (WHERE f.satisfied)
    FROM survey_responses f
    WHERE f.provider_id = p_provider AND f.subject_month = p_month AND f.purpose = 'sample'
$$;

-- Courtesy bias per provider and local month: the in-visit share (the terminal's
-- ratings) against the share of the independent follow-up sample's answers; flagged
-- when the first beats the second by more than 5 points (only once the sample has
-- answers). In numeric: 100 % against 95 % is 5 points exactly, not 5.000000000000004.
CREATE FUNCTION satisfaction_bias_points() RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$ SELECT 0.05 $$;

CREATE FUNCTION satisfaction_bias(p_in_yes bigint, p_in_n bigint, p_follow_yes bigint,
                                  p_follow_n bigint) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_in_n > 0 AND p_follow_n > 0
       AND p_in_yes::numeric / p_in_n - p_follow_yes::numeric / p_follow_n
           > satisfaction_bias_points()
$$;
