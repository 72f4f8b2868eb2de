-- Issue 20 (with issue 15): a decided application goes out to the region's central system
-- (an export) and its answer comes back, by the API or in the reply to a webhook; and
-- applications join the change feed and the webhooks.
--
-- The exchange is a track beside the state, not more states: an application's state stays
-- its decision (approved or refused) -- what the programme, the deadlines and the reports
-- read -- and the exchange says where it stands with the central system: exported (in
-- which export, when) and answer received (accepted or rejected, the central system's
-- reference, a note, by which way). Both steps are rows of the journal (to_state
-- 'exported' and 'answer_received', from the decision), so the application's history
-- reads as the Vinnytsia workflow does: ... → Перевірено → Вивантажено → Отримано
-- відповідь.

-- ==== Exports ====

-- One export: the decided applications of a region not yet exported, taken at once.
-- Its document (GET /api/v1/application-exports/{id}) can be fetched again at any time:
-- an export that did not reach the central system is sent again, never lost.
CREATE TABLE application_exports (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    region_id uuid NOT NULL REFERENCES regions,
    application_count integer NOT NULL CHECK (application_count >= 1),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX application_exports_region ON application_exports (region_id, created_at DESC);
ALTER TABLE application_exports ENABLE ROW LEVEL SECURITY;
-- The back office of the region (carefact.region), or '*' (admin, authority).
CREATE POLICY by_region ON application_exports
    USING (coalesce(current_setting('carefact.office', true), '') = '*'
           OR coalesce(current_setting('carefact.region', true), '') = region_id::text);
GRANT SELECT, INSERT ON application_exports TO carefact_app;

ALTER TABLE applications
    ADD COLUMN export_id uuid REFERENCES application_exports,
    ADD COLUMN exported_at timestamptz,
    ADD COLUMN answer_outcome text CHECK (answer_outcome IN ('accepted', 'rejected')),
    ADD COLUMN answer_reference text NOT NULL DEFAULT ''
        CHECK (length(answer_reference) <= 100),
    ADD COLUMN answer_note text NOT NULL DEFAULT '' CHECK (length(answer_note) <= 1000),
    ADD COLUMN answer_via text CHECK (answer_via IN ('api', 'webhook')),
    ADD COLUMN answered_at timestamptz,
    ADD CONSTRAINT applications_export_whole CHECK ((export_id IS NULL) = (exported_at IS NULL)),
    ADD CONSTRAINT applications_answer_whole
        CHECK ((answered_at IS NULL) = (answer_outcome IS NULL)
               AND (answered_at IS NULL) = (answer_via IS NULL)),
    ADD CONSTRAINT applications_answer_after_export
        CHECK (answered_at IS NULL OR exported_at IS NOT NULL),
    ADD CONSTRAINT applications_export_decided
        CHECK (export_id IS NULL OR state IN ('approved', 'refused'));
CREATE INDEX applications_export ON applications (export_id) WHERE export_id IS NOT NULL;
-- What the next export takes: decided, not yet exported, oldest decision first.
CREATE INDEX applications_to_export ON applications (region_id, decided_at, id)
    WHERE export_id IS NULL AND state IN ('approved', 'refused');

-- Where the application stands with the central system: NULL (not exported),
-- 'exported', 'answer_received'. The one rule the lists, the feed and the export read.
CREATE FUNCTION application_exchange(p_exported_at timestamptz, p_answered_at timestamptz)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_answered_at IS NOT NULL THEN 'answer_received'
                WHEN p_exported_at IS NOT NULL THEN 'exported' END
$$;

-- Export up to p_limit decided applications of region p_region not yet exported (the
-- caller's row-level security decides what it may take: its region, or every one under
-- '*'), as p_actor with p_role from p_office. Returns the outcome -- 'exported',
-- 'region' (the region is not the caller's), 'nothing' (nothing is waiting) -- the export
-- and how many it holds. Concurrent exports never take one application twice (the rows
-- are locked, and a locked one is left to the export that holds it).
CREATE FUNCTION application_export(p_region uuid, p_limit integer, p_actor text, p_role text,
                                   p_office uuid, OUT outcome text, OUT export_id uuid,
                                   OUT taken integer)
LANGUAGE plpgsql AS $$
DECLARE
    ids uuid[];
BEGIN
    IF NOT (coalesce(current_setting('carefact.office', true), '') = '*'
            OR coalesce(current_setting('carefact.region', true), '') = p_region::text) THEN
        outcome := 'region';
        RETURN;
    END IF;
    SELECT array_agg(id) INTO ids FROM (
        SELECT a.id FROM applications a
        WHERE a.region_id = p_region AND a.export_id IS NULL
          AND a.state IN ('approved', 'refused')
        ORDER BY a.decided_at, a.id
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED) t;
    taken := coalesce(cardinality(ids), 0);
    IF taken = 0 THEN
        outcome := 'nothing';
        RETURN;
    END IF;
    INSERT INTO application_exports (region_id, application_count, created_by)
    VALUES (p_region, taken, p_actor) RETURNING id INTO export_id;
    UPDATE applications SET export_id = application_export.export_id, exported_at = now(),
        updated_at = now()
    WHERE id = ANY (ids);
    INSERT INTO application_journal (application_id, from_state, to_state, actor, actor_role,
                                     office_id, reason)
    SELECT a.id, a.state, 'exported', p_actor, p_role, p_office, ''
    FROM applications a WHERE a.id = ANY (ids);
    outcome := 'exported';
END
$$;

-- Record the central system's answer to exported application p_id: p_outcome
-- ('accepted' or 'rejected'), its reference and a note, arrived by p_via ('api' or
-- 'webhook') from p_actor. Returns 'answered', 'same' (this very answer was recorded
-- already: a retry, nothing changes), 'not_found' (not visible), 'not_exported', or
-- 'answered_before' (a different answer is on record: it stands).
CREATE FUNCTION application_answer(p_id uuid, p_outcome text, p_reference text, p_note text,
                                   p_via text, p_actor text, p_role text, p_office uuid)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    a applications;
BEGIN
    SELECT * INTO a FROM applications WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'not_found';
    END IF;
    IF a.exported_at IS NULL THEN
        RETURN 'not_exported';
    END IF;
    IF a.answered_at IS NOT NULL THEN
        RETURN CASE WHEN a.answer_outcome = p_outcome AND a.answer_reference = btrim(p_reference)
                         AND a.answer_note = btrim(p_note)
                    THEN 'same' ELSE 'answered_before' END;
    END IF;
    UPDATE applications SET answer_outcome = p_outcome, answer_reference = btrim(p_reference),
        answer_note = btrim(p_note), answer_via = p_via, answered_at = now(), updated_at = now()
    WHERE id = p_id;
    INSERT INTO application_journal (application_id, from_state, to_state, actor, actor_role,
                                     office_id, reason)
    VALUES (p_id, a.state, 'answer_received', p_actor, p_role, p_office,
            p_outcome || CASE WHEN btrim(p_reference) <> '' THEN ' ' || btrim(p_reference)
                              ELSE '' END);
    RETURN 'answered';
END
$$;

-- An answer in the reply to webhook delivery p_delivery: recorded when the delivery
-- carried an application's change made by its export (data.exchange = 'exported'), as
-- application_answer with p_via 'webhook'; else 'not_an_export'. Runs on the sender's
-- connection ('*').
CREATE FUNCTION application_answer_reply(p_delivery uuid, p_outcome text, p_reference text,
                                         p_note text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    c changes;
    sub uuid;
BEGIN
    SELECT ch.* INTO c
    FROM webhook_deliveries d JOIN changes ch ON ch.id = d.change_id
    WHERE d.id = p_delivery;
    SELECT d.subscription_id INTO sub FROM webhook_deliveries d WHERE d.id = p_delivery;
    IF c.id IS NULL OR c.kind <> 'application.changed'
       OR c.data ->> 'exchange' IS DISTINCT FROM 'exported' THEN
        RETURN 'not_an_export';
    END IF;
    RETURN application_answer(c.subject_id::uuid, p_outcome, p_reference, p_note, 'webhook',
                              'webhook:' || sub, 'webhook', NULL);
END
$$;

-- ==== Applications in the change feed ====

-- An application's change has no provider: it is scoped like the application, by office
-- and region (application_visible), for the back office and oversight. Every other kind
-- keeps its provider.
ALTER TABLE changes ALTER COLUMN provider_id DROP NOT NULL;
ALTER TABLE changes ADD COLUMN office_id uuid REFERENCES offices;
ALTER TABLE changes DROP CONSTRAINT changes_kind_check;
ALTER TABLE changes ADD CONSTRAINT changes_kind_check CHECK (kind IN ('visit.changed',
    'correction.created', 'register.changed', 'certificate.changed', 'card_binding.changed',
    'application.changed'));
ALTER TABLE changes ADD CONSTRAINT changes_scope
    CHECK (CASE WHEN kind = 'application.changed' THEN provider_id IS NULL AND office_id IS NOT NULL
                ELSE provider_id IS NOT NULL AND office_id IS NULL END);
DROP POLICY by_provider ON changes;
CREATE POLICY by_scope ON changes
    USING (CASE WHEN provider_id IS NULL THEN application_visible(office_id, region_id)
                ELSE provider_id = ANY ((SELECT visible_providers())::uuid[]) END);
-- An application's changes in feed order, for the back office's feed.
CREATE INDEX changes_office_position ON changes (office_id, position) WHERE office_id IS NOT NULL;

ALTER TABLE webhook_subscriptions DROP CONSTRAINT webhook_subscriptions_events_check;
ALTER TABLE webhook_subscriptions ADD CONSTRAINT webhook_subscriptions_events_check
    CHECK (cardinality(events) > 0 AND events <@ ARRAY['visit.changed', 'correction.created',
        'register.changed', 'certificate.changed', 'card_binding.changed',
        'application.changed']);

-- One change of a subject in this transaction, in the scope given: a new row, or the
-- transaction's row of that subject brought up to date (its first op kept: inserted then
-- updated is an insert). The one writer of `changes`.
CREATE FUNCTION change_record_scoped(p_kind text, p_subject text, p_order_key text, p_op text,
                                     p_provider uuid, p_office uuid, p_region uuid,
                                     p_data jsonb) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    INSERT INTO changes (kind, subject_id, order_key, op, provider_id, office_id, region_id, data)
    VALUES (p_kind, p_subject, p_order_key, p_op, p_provider, p_office, p_region, p_data)
    ON CONFLICT (tx, kind, subject_id) DO UPDATE SET data = EXCLUDED.data,
        changed_at = EXCLUDED.changed_at,
        op = CASE WHEN changes.op = 'insert' AND EXCLUDED.op <> 'delete' THEN 'insert'
                  ELSE EXCLUDED.op END
$$;

-- A provider's change (0016's callers): in the provider's region.
CREATE OR REPLACE FUNCTION change_record(p_kind text, p_subject text, p_order_key text,
                                         p_op text, p_provider uuid, p_data jsonb) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT change_record_scoped(p_kind, p_subject, p_order_key, p_op, p_provider, NULL,
                                p.region_id, p_data)
    FROM providers p WHERE p.id = p_provider
$$;

-- What the feed says of an application: where it is and what was decided, never the
-- applicant's personal data (a consumer with the right to it reads the application or
-- the export).
CREATE FUNCTION application_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM change_record_scoped('application.changed', NEW.id::text, 'application:' || NEW.id,
        lower(TG_OP), NULL, NEW.office_id, NEW.region_id,
        jsonb_build_object('number', NEW.number, 'state', NEW.state, 'office_id', NEW.office_id,
            'channel', NEW.channel, 'category', NEW.category, 'purpose', NEW.purpose,
            'complete', NEW.complete, 'submitted_at', NEW.submitted_at,
            'decision_due', NEW.decision_due, 'decided_at', NEW.decided_at,
            'returns', NEW.returns, 'certificate_id', NEW.certificate_id,
            'exchange', application_exchange(NEW.exported_at, NEW.answered_at),
            'export_id', NEW.export_id, 'answer_outcome', NEW.answer_outcome,
            'answer_reference', NULLIF(NEW.answer_reference, '')));
    RETURN NULL;
END
$$;
CREATE TRIGGER applications_changed AFTER INSERT ON applications
    FOR EACH ROW EXECUTE FUNCTION application_changed();
CREATE TRIGGER applications_changed_update AFTER UPDATE ON applications
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION application_changed();

-- An application's exchange as the API shows it: NULL before its export, else where it
-- stands, its export and the answer (once one came). The one shape the application's
-- view, the journal's list and the answer's reply give.
CREATE FUNCTION application_exchange_json(p_export uuid, p_exported_at timestamptz,
                                          p_outcome text, p_reference text, p_note text,
                                          p_via text, p_answered_at timestamptz)
RETURNS json LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_exported_at IS NOT NULL THEN json_build_object(
        'state', application_exchange(p_exported_at, p_answered_at),
        'export_id', p_export, 'exported_at', p_exported_at,
        'answer', CASE WHEN p_answered_at IS NOT NULL THEN json_build_object(
            'outcome', p_outcome, 'reference', p_reference, 'note', p_note, 'via', p_via,
            'answered_at', p_answered_at) END) END
$$;
