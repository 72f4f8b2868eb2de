-- Acts recorded offline on a terminal (issues 15 and 16): an application filed in a village
-- without signal, a home-survey act, the hand-over or return of a rehabilitation aid
-- confirmed by the recipient's card. Each is a signed event of the device's chain with a
-- body (api/PROTOCOL.md 4.6), stored in events like every other event; in the upload's
-- transaction terminal_acts_apply turns the upload's new act events into rows here, once
-- per event: the chain stores each event once (events_exactly_once, sql/0014), and the
-- unique keys below say the same again. See backend/README.md, "Terminal acts".

-- ==== The event's body ====

-- The act's body as the device signed it: canonical text (api/PROTOCOL.md 4.6), kept
-- verbatim so the digest can be recomputed. NULL for every other kind.
ALTER TABLE events ADD COLUMN act_body text;

-- ==== Applications filed on a terminal ====

-- The filing event (device, seq) of an application the terminal took, the receipt
-- reference the terminal printed from it (the first 8 hex digits of the device id in upper
-- case, '-', the seq: "01939F2A-4"), the version of the consent text read to the
-- applicant, and the settlement. The brigade's trip it was taken on is 0031's
-- applications.trip_id.
ALTER TABLE applications ADD COLUMN filing_device uuid;
ALTER TABLE applications ADD COLUMN filing_seq bigint;
ALTER TABLE applications ADD COLUMN receipt text;
ALTER TABLE applications ADD COLUMN consent_version text NOT NULL DEFAULT ''
    CHECK (length(consent_version) <= 32);
ALTER TABLE applications ADD COLUMN settlement text NOT NULL DEFAULT ''
    CHECK (length(settlement) <= 200);
ALTER TABLE applications ADD CONSTRAINT applications_filing_once UNIQUE (filing_device, filing_seq);
ALTER TABLE applications ADD CONSTRAINT applications_filing_check
    CHECK ((filing_device IS NULL) = (filing_seq IS NULL)
           AND (filing_device IS NULL) = (receipt IS NULL));
-- The status page's lookup by receipt (not unique: two devices may share 8 hex digits;
-- the secret code tells them apart).
CREATE INDEX applications_receipt ON applications (receipt) WHERE receipt IS NOT NULL;

-- The terminal's worker moves its own filing draft → submitted: the role 'terminal' (no
-- account has it: users_role_check) added to that one transition, so application_move
-- stays the one way a state changes and its journal row says who.
UPDATE application_transitions SET roles = roles || '{terminal}'::text[]
WHERE from_state = 'draft' AND to_state = 'submitted';

-- ==== Acts on an application ====

-- A home-survey act or an aid's hand-over/return, from one event (device, seq). The
-- application it names (by number, or by its filing event on the same terminal) is NULL
-- when none was found: the act is kept, visible to its provider, never lost.
CREATE TABLE application_acts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id uuid REFERENCES applications,
    kind text NOT NULL CHECK (kind IN ('home_survey', 'aid_handover')),
    device_id uuid NOT NULL,
    seq bigint NOT NULL,
    worker_id uuid NOT NULL REFERENCES workers,
    provider_id uuid NOT NULL REFERENCES providers,
    trip_id uuid REFERENCES trips, -- a brigade's trip (terminal_trip: a known one or none)
    at timestamptz NOT NULL,
    -- what the act names its application by, as written: a number or 'seq:<n>'
    application_ref text NOT NULL CHECK (length(application_ref) BETWEEN 1 AND 40),
    -- home_survey: living_conditions, needs, findings, recommended_services;
    -- aid_handover: aid_kind, inventory_number, direction, note (the event's body)
    body jsonb NOT NULL,
    -- aid_handover: the recipient's card, its level as for visits (card_assurance)
    direction text CHECK (direction IN ('handed_over', 'returned')),
    card_method text,
    card_level text CHECK (card_level IN ('none', 'uid', 'static', 'dynamic')),
    CHECK ((kind = 'aid_handover') = (direction IS NOT NULL AND card_level IS NOT NULL)),
    UNIQUE (device_id, seq),
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX application_acts_application ON application_acts (application_id, at)
    WHERE application_id IS NOT NULL;
-- Who sees an act: who sees its application, and the provider whose worker recorded it.
ALTER TABLE application_acts ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_application_or_provider ON application_acts
    USING (EXISTS (SELECT 1 FROM applications a WHERE a.id = application_id)
           OR provider_id = ANY ((SELECT visible_providers())::uuid[]));
GRANT SELECT ON application_acts TO carefact_app;

-- The journal's row of an act (from and to the application's state: no move).
ALTER TABLE application_journal ADD COLUMN act_id uuid REFERENCES application_acts;

-- ==== Rules ====

-- The office an application filed on device p_device goes to: the office the body names
-- when it is one of the device's region's, else the region's first front office (in the
-- order of the public list: front offices first, by name). NULL when the region has none.
CREATE FUNCTION terminal_act_office(p_device uuid, p_named text) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH r AS (SELECT p.region_id FROM devices d JOIN workers w ON w.id = d.worker_id
               JOIN providers p ON p.id = w.provider_id WHERE d.id = p_device)
    SELECT coalesce(
        (SELECT o.id FROM offices o, r WHERE o.region_id = r.region_id
            AND o.id::text = p_named AND o.kind <> 'back_office'),
        (SELECT o.id FROM offices o, r WHERE o.region_id = r.region_id
            AND o.kind <> 'back_office' ORDER BY o.name, o.id LIMIT 1))
$$;

-- The receipt reference of a filing: the first 8 hex digits of the device id in upper
-- case, '-', the seq (api/PROTOCOL.md 4.6).
CREATE FUNCTION terminal_receipt(p_device uuid, p_seq bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT upper(left(p_device::text, 8)) || '-' || p_seq::text
$$;

-- The brigade trip an act names, when carefact knows it (0031's trips); an unknown id links
-- nothing rather than refusing the terminal's whole upload (the event keeps the id in
-- events.act_body).
CREATE FUNCTION terminal_trip(p_body jsonb) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT t.id FROM trips t WHERE t.id = (p_body ->> 'trip_id')::uuid
$$;

-- The application an act of device p_device names: by number (in the device's region),
-- or by application_seq, the device's own filing. NULL when none.
CREATE FUNCTION terminal_act_application(p_device uuid, p_body jsonb) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT CASE
        WHEN p_body ? 'application_seq' THEN
            (SELECT a.id FROM applications a WHERE a.filing_device = p_device
                AND a.filing_seq = (p_body ->> 'application_seq')::bigint)
        ELSE
            (SELECT a.id FROM applications a
                JOIN providers p ON p.region_id = a.region_id
                JOIN workers w ON w.provider_id = p.id
                JOIN devices d ON d.worker_id = w.id
             WHERE d.id = p_device AND a.number = p_body ->> 'application_number')
    END
$$;

-- One application.filed event: the application (channel terminal, its office, the code's
-- hash as the terminal made it), its first journal row and the move to submitted, as the
-- device's worker ('worker:<id>', role 'terminal'). Returns the application, or NULL when
-- the region has no front office (the event is kept; nothing else happens).
CREATE FUNCTION terminal_application_file(p_device uuid, p_seq bigint, p_worker uuid,
                                          p_at timestamptz, p_body jsonb) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_office uuid := terminal_act_office(p_device, p_body ->> 'office_id');
    v_id uuid;
    v_actor text := 'worker:' || p_worker::text;
BEGIN
    IF v_office IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO applications (number, region_id, office_id, channel, applicant_name,
                              applicant_birth, applicant_phone, applicant_address,
                              representative_name, representative_relation, category,
                              purpose, details, complete, consent_at, code_hash, created_by,
                              filing_device, filing_seq, receipt, trip_id, consent_version,
                              settlement)
    SELECT to_char(now(), 'YYYY') || '-' || lpad(nextval('application_number_seq')::text, 6, '0'),
           o.region_id, o.id, 'terminal', p_body ->> 'applicant_name',
           (p_body ->> 'applicant_birth')::date, coalesce(p_body ->> 'applicant_phone', ''),
           p_body ->> 'applicant_address', coalesce(p_body ->> 'representative_name', ''),
           coalesce(p_body ->> 'representative_relation', ''), p_body ->> 'category',
           p_body ->> 'purpose', coalesce(p_body ->> 'note', ''),
           (p_body ->> 'complete')::boolean, p_at, decode(p_body ->> 'code_sha256', 'hex'),
           v_actor, p_device, p_seq, terminal_receipt(p_device, p_seq),
           terminal_trip(p_body), p_body ->> 'consent_version',
           coalesce(p_body ->> 'settlement', '')
    FROM offices o WHERE o.id = v_office
    RETURNING id INTO v_id;
    INSERT INTO application_journal (application_id, from_state, to_state, actor, actor_role,
                                     office_id)
    VALUES (v_id, NULL, 'draft', v_actor, 'terminal', v_office);
    IF application_move(v_id, 'submitted', v_actor, 'terminal', v_office, '') <> 'moved' THEN
        RAISE EXCEPTION 'terminal_application_file: draft % did not move to submitted', v_id;
    END IF;
    RETURN v_id;
END
$$;

-- One act event (home_survey.recorded, aid.handed_over): its row, and when it names an
-- application, that application's journal row (its state unchanged; the reason says what
-- was recorded, in Russian: the staff read it). Returns the act's id.
CREATE FUNCTION terminal_act_record(p_device uuid, p_seq bigint, p_kind text, p_worker uuid,
                                    p_provider uuid, p_at timestamptz, p_body jsonb,
                                    p_card_method text, p_card_level text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_app uuid := terminal_act_application(p_device, p_body);
    v_kind text := CASE p_kind WHEN 'home_survey.recorded' THEN 'home_survey'
                               ELSE 'aid_handover' END;
    v_id uuid;
    a applications;
BEGIN
    INSERT INTO application_acts (application_id, kind, device_id, seq, worker_id, provider_id,
                                  trip_id, at, application_ref, body, direction, card_method,
                                  card_level)
    VALUES (v_app, v_kind, p_device, p_seq, p_worker, p_provider, terminal_trip(p_body),
            p_at, coalesce(p_body ->> 'application_number',
                           'seq:' || (p_body ->> 'application_seq')),
            p_body - 'application_number' - 'application_seq' - 'trip_id',
            CASE WHEN v_kind = 'aid_handover' THEN p_body ->> 'direction' END,
            CASE WHEN v_kind = 'aid_handover' THEN p_card_method END,
            CASE WHEN v_kind = 'aid_handover' THEN p_card_level END)
    RETURNING id INTO v_id;
    IF v_app IS NOT NULL THEN
        SELECT * INTO a FROM applications WHERE id = v_app FOR UPDATE;
        INSERT INTO application_journal (application_id, from_state, to_state, actor,
                                         actor_role, office_id, reason, act_id)
        VALUES (v_app, a.state, a.state, 'worker:' || p_worker::text, 'terminal', a.office_id,
                CASE v_kind
                    WHEN 'home_survey' THEN 'Записан акт обследования на дому'
                    WHEN 'aid_handover' THEN
                        CASE p_body ->> 'direction'
                            WHEN 'handed_over' THEN 'Выдано ТСР: '
                            ELSE 'Возвращено ТСР: ' END
                        || (p_body ->> 'aid_kind') || ', инв. № '
                        || (p_body ->> 'inventory_number')
                END,
                v_id);
    END IF;
    RETURN v_id;
END
$$;

-- One survey.answered event: the answers ("a_<code>": text) as the satisfaction module's
-- answers (a scale's "1".."5" as a number, other answers as text), recorded through
-- survey_record (sql/0026: checked against the instrument, once per visit, channel and
-- purpose) with channel home_visit, purpose after_visit, by 'worker:<id>' -- about a visit
-- this device opened. Returns survey_record's outcome, or 'not_found' (no such visit of
-- this device): the event is kept either way.
CREATE FUNCTION terminal_survey_answer(p_device uuid, p_worker uuid, p_body jsonb)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_visit uuid := (p_body ->> 'visit_id')::uuid;
    v_version integer := (p_body ->> 'version')::integer;
    v_answers jsonb;
    v_outcome text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM events e WHERE e.visit_key = v_visit
                   AND e.device_id = p_device AND e.kind = 'visit.started') THEN
        RETURN 'not_found';
    END IF;
    SELECT coalesce(jsonb_object_agg(substr(b.key, 3),
               CASE WHEN q.kind = 'scale5' AND b.value #>> '{}' ~ '^[1-5]$'
                    THEN to_jsonb((b.value #>> '{}')::integer) ELSE b.value END), '{}')
    INTO v_answers
    FROM jsonb_each(p_body) b
    LEFT JOIN survey_questions q ON q.instrument_id = p_body ->> 'instrument'
                                AND q.version = v_version AND q.code = substr(b.key, 3)
    WHERE b.key LIKE 'a\_%';
    SELECT r.outcome INTO v_outcome
    FROM survey_record(p_body ->> 'instrument', v_version, 'home_visit', 'after_visit', v_visit,
                       NULL, v_answers, 'worker:' || p_worker::text) r;
    RETURN v_outcome;
END
$$;

-- The act events of device p_device's upload (seq in (p_after, p_last], stored by this
-- transaction) applied in seq order, so an act may name a filing of the same upload.
-- Called by ingest after ingest_finish, in the upload's transaction. Returns how many.
CREATE FUNCTION terminal_acts_apply(p_device uuid, p_after bigint, p_last bigint)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    e record;
    n integer := 0;
BEGIN
    FOR e IN SELECT ev.seq, ev.kind, ev.worker_id, ev.provider_id, ev.act_body::jsonb AS body,
                    least(ev.wall_time, now()) AS at, ev.card_method,
                    card_assurance(ev.card_method, ev.card_proof_level) AS level
             FROM events ev
             WHERE ev.device_id = p_device AND ev.seq > p_after AND ev.seq <= p_last
               AND ev.received_at = now() -- this upload's: one partition (sql/0014)
               AND ev.act_body IS NOT NULL
             ORDER BY ev.seq
    LOOP
        IF e.kind = 'application.filed' THEN
            PERFORM terminal_application_file(p_device, e.seq, e.worker_id, e.at, e.body);
        ELSIF e.kind = 'survey.answered' THEN
            PERFORM terminal_survey_answer(p_device, e.worker_id, e.body);
        ELSE
            PERFORM terminal_act_record(p_device, e.seq, e.kind, e.worker_id, e.provider_id,
                                        e.at, e.body, e.card_method, e.level);
        END IF;
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
