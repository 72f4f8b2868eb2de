-- Decision -> programme -> plans (issue 15). Approving an application takes the
-- individual programme (ИППСУ) the caseworker drew up: the provider, the services with
-- their volumes and the term, and plan rules (weekdays, time, worker, services). In the
-- approval's one transaction, application_approve creates the recipient, the
-- certificate with its services (0002's registry), the programme and its rules, and
-- the visit plans of the next 14 days; the application records the recipient and the
-- certificate. The provider's manager reads the programme and accepts it. Plans beyond
-- 14 days come from plans_generate_all, run daily by `carefactd plan-visits`. See
-- backend/README.md, "Applications".

-- The caseworker's choices, each checked here by the rule that owns it; the shape of
-- the body (types, ranges, the rules' services among the programme's) is checked in C.

-- ==== Programmes and their plan rules ====

CREATE TABLE programmes (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id uuid NOT NULL UNIQUE REFERENCES applications,
    provider_id uuid NOT NULL REFERENCES providers,
    recipient_id uuid NOT NULL REFERENCES recipients,
    certificate_id uuid NOT NULL UNIQUE REFERENCES certificates,
    valid_from date NOT NULL,
    valid_to date NOT NULL CHECK (valid_to >= valid_from),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    accepted_at timestamptz,
    accepted_by text,
    CHECK ((accepted_at IS NULL) = (accepted_by IS NULL))
);
CREATE INDEX programmes_provider ON programmes (provider_id, created_at DESC, id DESC);
-- Seen by the provider's people (carefact.provider) and by whoever sees the
-- application it decided (the caseworker who approved it; the applications policy
-- applies inside).
ALTER TABLE programmes ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_provider_or_application ON programmes
    USING (provider_id = ANY ((SELECT visible_providers())::uuid[])
           OR EXISTS (SELECT 1 FROM applications a WHERE a.id = application_id));
-- UPDATE: the provider's acceptance only (accepted_at, accepted_by).
GRANT SELECT, INSERT, UPDATE ON programmes TO carefact_app;

-- A rule the visits are planned from: on these ISO weekdays (1 Monday .. 7 Sunday) at
-- this local time, this worker of the programme's provider, these services.
CREATE TABLE plan_rules (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    programme_id uuid NOT NULL REFERENCES programmes,
    provider_id uuid NOT NULL REFERENCES providers,
    worker_id uuid NOT NULL REFERENCES workers,
    recipient_id uuid NOT NULL REFERENCES recipients,
    weekdays smallint[] NOT NULL
        CHECK (cardinality(weekdays) BETWEEN 1 AND 7 AND weekdays <@ '{1,2,3,4,5,6,7}'),
    start_time time NOT NULL,
    service_codes text[] NOT NULL CHECK (cardinality(service_codes) >= 1)
);
CREATE INDEX plan_rules_programme ON plan_rules (programme_id);
ALTER TABLE plan_rules ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_programme ON plan_rules
    USING (EXISTS (SELECT 1 FROM programmes p WHERE p.id = programme_id));
GRANT SELECT, INSERT ON plan_rules TO carefact_app;

-- A plan made from a rule names it; one plan per rule and start, so generating again
-- adds nothing twice (NULLs are distinct: plans made otherwise are not constrained).
ALTER TABLE visit_plans ADD COLUMN rule_id uuid REFERENCES plan_rules;
CREATE UNIQUE INDEX visit_plans_rule_start ON visit_plans (rule_id, planned_start);

-- What the application made.
ALTER TABLE applications ADD COLUMN recipient_id uuid REFERENCES recipients;
ALTER TABLE applications ADD COLUMN certificate_id uuid REFERENCES certificates;

-- The approval creates the recipient, the certificate and its services, and plans.
GRANT INSERT ON recipients TO carefact_app;
GRANT INSERT ON certificates TO carefact_app;
GRANT INSERT ON certificate_services TO carefact_app;
GRANT INSERT ON visit_plans TO carefact_app;

-- ==== Rules ====

-- How many days of plans exist ahead at any time (today and the 13 days after).
CREATE FUNCTION plan_horizon_days() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 14';

-- Is the programme due for renewal on p_today: from 30 days before its term ends (and
-- after it has ended, until renewed).
CREATE FUNCTION programme_renewal_due(p_valid_to date, p_today date) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$ SELECT p_today >= p_valid_to - 30 $$;

-- Make the visit plans of programme p_id's rules for its region's days from today (or
-- the term's start) through p_until (or the term's end); a plan that exists already is
-- left as it is. Returns the number of plans added.
CREATE FUNCTION plans_generate(p_id uuid, p_until date) RETURNS integer
LANGUAGE sql AS $$
    WITH p AS (
        SELECT pr.id, pr.valid_from, pr.valid_to, r.timezone,
               (now() AT TIME ZONE r.timezone)::date AS today
        FROM programmes pr JOIN providers pv ON pv.id = pr.provider_id
             JOIN regions r ON r.id = pv.region_id
        WHERE pr.id = p_id),
    days AS (
        SELECT d::date AS day, p.timezone
        FROM p, generate_series(greatest(p.valid_from, p.today), least(p.valid_to, p_until),
                                interval '1 day') d),
    added AS (
        INSERT INTO visit_plans (id, provider_id, worker_id, recipient_id, planned_start,
                                 service_codes, rule_id)
        SELECT gen_random_uuid(), r.provider_id, r.worker_id, r.recipient_id,
               (d.day + r.start_time) AT TIME ZONE d.timezone, r.service_codes, r.id
        FROM plan_rules r, days d
        WHERE r.programme_id = p_id AND extract(isodow FROM d.day)::smallint = ANY (r.weekdays)
        ON CONFLICT (rule_id, planned_start) DO NOTHING
        RETURNING 1)
    SELECT count(*)::integer FROM added
$$;

-- Every programme still running: plans through the horizon of its region's today. Run
-- daily as the owner by `carefactd plan-visits` (re-runnable: nothing is added twice).
CREATE FUNCTION plans_generate_all() RETURNS integer
LANGUAGE sql AS $$
    SELECT coalesce(sum(plans_generate(pr.id,
                        (now() AT TIME ZONE r.timezone)::date + plan_horizon_days() - 1)), 0)::integer
    FROM programmes pr JOIN providers pv ON pv.id = pr.provider_id
         JOIN regions r ON r.id = pv.region_id
    WHERE pr.valid_to >= (now() AT TIME ZONE r.timezone)::date
$$;

-- Approve application p_id with programme p_programme (checked in shape by the caller):
--   {"provider_id", "valid_from", "valid_to",
--    "services": [{"code", "volume", "period"}],
--    "rules": [{"worker_id", "weekdays": [1..7], "time": "HH:MM", "services": [code]}]}
-- as p_actor with p_role from p_office. The state moves through application_move (the
-- one way a state changes); its outcome other than 'moved' is returned as is. Then,
-- under the programme's provider's scope (set for this transaction only, once the
-- provider is known to be of the application's region): the recipient (the applicant,
-- at the application's address), the certificate (numbered as the application) and its
-- services, the programme, its rules and the plans of the horizon. A choice the data
-- refuses is outcome 'invalid' with field naming it (the caller rolls back):
-- programme.provider_id (not a provider of the application's region),
-- programme.services[i].code (not in the catalogue), programme.rules[i].worker_id (not
-- an active worker of that provider).
CREATE FUNCTION application_approve(p_id uuid, p_programme jsonb, p_actor text, p_role text,
                                    p_office uuid, OUT outcome text, OUT field text,
                                    OUT programme uuid)
LANGUAGE plpgsql AS $$
DECLARE
    a applications;
    v_provider uuid := (p_programme->>'provider_id')::uuid;
    v_recipient uuid := gen_random_uuid();
    v_certificate uuid := gen_random_uuid();
    i integer;
BEGIN
    outcome := application_move(p_id, 'approved', p_actor, p_role, p_office, '');
    IF outcome <> 'moved' THEN
        RETURN;
    END IF;
    SELECT * INTO a FROM applications WHERE id = p_id;
    PERFORM set_config('carefact.provider', v_provider::text, true);
    IF NOT EXISTS (SELECT 1 FROM providers WHERE id = v_provider AND region_id = a.region_id) THEN
        outcome := 'invalid';
        field := 'programme.provider_id';
        RETURN;
    END IF;
    FOR i IN 0 .. jsonb_array_length(p_programme->'services') - 1 LOOP
        IF NOT EXISTS (SELECT 1 FROM services s
                       WHERE s.code = p_programme->'services'->i->>'code') THEN
            outcome := 'invalid';
            field := format('programme.services[%s].code', i);
            RETURN;
        END IF;
    END LOOP;
    FOR i IN 0 .. jsonb_array_length(p_programme->'rules') - 1 LOOP
        IF NOT EXISTS (SELECT 1 FROM workers w
                       WHERE w.id = (p_programme->'rules'->i->>'worker_id')::uuid
                         AND w.provider_id = v_provider AND w.active) THEN
            outcome := 'invalid';
            field := format('programme.rules[%s].worker_id', i);
            RETURN;
        END IF;
    END LOOP;

    INSERT INTO recipients (id, provider_id, full_name, address)
    VALUES (v_recipient, v_provider, a.applicant_name, a.applicant_address);
    INSERT INTO certificates (id, recipient_id, number, valid_from, valid_to)
    VALUES (v_certificate, v_recipient, a.number, (p_programme->>'valid_from')::date,
            (p_programme->>'valid_to')::date);
    INSERT INTO certificate_services (certificate_id, service_code, volume, period)
    SELECT v_certificate, s->>'code', (s->>'volume')::integer, s->>'period'
    FROM jsonb_array_elements(p_programme->'services') s;
    INSERT INTO programmes (application_id, provider_id, recipient_id, certificate_id,
                            valid_from, valid_to, created_by)
    VALUES (p_id, v_provider, v_recipient, v_certificate, (p_programme->>'valid_from')::date,
            (p_programme->>'valid_to')::date, p_actor)
    RETURNING id INTO programme;
    INSERT INTO plan_rules (programme_id, provider_id, worker_id, recipient_id, weekdays,
                            start_time, service_codes)
    SELECT programme, v_provider, (r->>'worker_id')::uuid, v_recipient,
           ARRAY(SELECT jsonb_array_elements_text(r->'weekdays')::smallint),
           (r->>'time')::time, ARRAY(SELECT jsonb_array_elements_text(r->'services'))
    FROM jsonb_array_elements(p_programme->'rules') r;
    UPDATE applications SET recipient_id = v_recipient, certificate_id = v_certificate
    WHERE id = p_id;
    PERFORM plans_generate(programme, region_today(a.region_id) + plan_horizon_days() - 1);
END
$$;

-- ==== Throttling the citizen's pages ====

-- The public form and the status lookup, per client address, by the login throttle's
-- mechanism (sql/0012): a row of login_throttle keyed by the SHA-256 of
-- 'public:<kind> <address>' (a prefix no login key has), locked with
-- login_throttle_row, taken before the request is read. Every request counts; from the
-- p_after-th within p_forget_s seconds of the previous one the address is locked 1 s,
-- 2 s, 4 s ... p_max_s, and a locked request is refused and not counted. Returns the
-- seconds to wait, or 0 to go ahead. Old rows go with login_attempt's clean-up.
CREATE FUNCTION public_attempt(p_kind text, p_address text, p_after int, p_forget_s int,
                               p_max_s int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    t login_throttle := login_throttle_row(
        sha256(convert_to('public:' || p_kind || ' ' || p_address, 'UTF8')));
    wait double precision := coalesce(extract(epoch FROM t.locked_until - now()), 0);
BEGIN
    IF wait > 0 THEN
        RETURN ceil(wait)::int;
    END IF;
    IF t.last_failure_at < now() - p_forget_s * interval '1 second' THEN
        t.failures := 0;
    END IF;
    UPDATE login_throttle
    SET failures = t.failures + 1,
        last_failure_at = now(),
        locked_until = CASE WHEN t.failures + 1 >= p_after
                            THEN now() + least(power(2, least(t.failures + 1 - p_after, 20)),
                                               p_max_s) * interval '1 second'
                            ELSE locked_until END
    WHERE key = t.key;
    RETURN 0;
END
$$;
