-- The cost of ingest (issue 18, "Performance"): what an upload's transaction pays per visit
-- it writes, measured with tools/bench-ingest --profile (pg_stat_statements and
-- track_functions). Behaviour is unchanged: the same rows of `changes`, the same positions
-- handed out at COMMIT, the same deliveries; only the number of statements run per row.
--
--   1. changes_seal (0016) is a deferred constraint trigger, so it fires once per row of
--      `changes` at COMMIT, and every firing counted the transaction's unsealed rows: with
--      67 changes per batch, 67 counts per batch, each a scan of `changes` when the planner
--      did not know the table (0.94 ms mean, growing with the table: 27.7 of 45 s of the
--      database's time in a 40,000-event run). Now a firing whose row is sealed already
--      (by the first firing of its transaction) returns after one primary-key probe, and
--      the transaction's unsealed rows are found by a partial index holding only those.
--   2. A visit's change (0016's visit_changed, a row trigger calling two SECURITY DEFINER
--      functions with their own search_path, so none was inlined: 0.4 ms per visit) is
--      written by statement triggers over the statement's transition tables: one INSERT
--      into `changes` per statement of the rebuild instead of three function calls and an
--      INSERT per visit. The same for the webhook outbox (0016's change_outbox).

-- ==== 1. The seal: once per transaction ====

-- The rows not sealed yet: only those of transactions in flight (and their dead versions
-- until vacuum), whatever the size of `changes`.
CREATE INDEX changes_unsealed ON changes (tx) WHERE position IS NULL;

-- 0016's, with the early return marked 0034.
CREATE OR REPLACE FUNCTION changes_seal() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    n integer;
    first bigint;
BEGIN
    -- 0034: sealed with its transaction's other rows by an earlier firing (a row written
    -- after that firing -- by a later deferred trigger -- is not, and seals itself)
    IF EXISTS (SELECT 1 FROM changes WHERE id = NEW.id AND position IS NOT NULL) THEN
        RETURN NULL;
    END IF;
    SELECT count(*) INTO n FROM changes WHERE tx = pg_current_xact_id() AND position IS NULL;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    BEGIN
        PERFORM pg_advisory_lock(hashtext('carefact.changes'));
        first := nextval('changes_position');
        IF n > 1 THEN
            PERFORM setval('changes_position', first + n - 1);
        END IF;
        PERFORM pg_advisory_xact_lock(changes_inflight_key(first));
        PERFORM pg_advisory_unlock(hashtext('carefact.changes'));
    EXCEPTION WHEN OTHERS THEN
        PERFORM pg_advisory_unlock(hashtext('carefact.changes'));
        RAISE;
    END;
    UPDATE changes c SET position = first + s.rank - 1
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS rank FROM changes
          WHERE tx = pg_current_xact_id() AND position IS NULL) s
    WHERE c.id = s.id;
    RETURN NULL;
END
$$;

-- ==== 2. Changes written a statement at a time ====

-- One change of a subject, as change_record_many takes it.
CREATE TYPE change_item AS (
    subject_id text, order_key text, provider_id uuid, office_id uuid, region_id uuid,
    data jsonb
);

-- Changes of one kind and op in this transaction, one per subject (each subject at most
-- once in p_items): a new row each, or the transaction's row of that subject brought up to
-- date (its first op kept: inserted then updated is an insert). The one writer of
-- `changes` (0023's change_record_scoped now calls it with one item).
CREATE FUNCTION change_record_many(p_kind text, p_op text, p_items change_item[])
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    INSERT INTO changes (kind, subject_id, order_key, op, provider_id, office_id, region_id, data)
    SELECT p_kind, i.subject_id, i.order_key, p_op, i.provider_id, i.office_id, i.region_id,
           i.data
    FROM unnest(p_items) WITH ORDINALITY i
    ORDER BY i.ordinality
    ON CONFLICT (tx, kind, subject_id) DO UPDATE SET data = EXCLUDED.data,
        changed_at = EXCLUDED.changed_at,
        op = CASE WHEN changes.op = 'insert' AND EXCLUDED.op <> 'delete' THEN 'insert'
                  ELSE EXCLUDED.op END
$$;

CREATE OR REPLACE FUNCTION change_record_scoped(p_kind text, p_subject text, p_order_key text,
                                                p_op text, p_provider uuid, p_office uuid,
                                                p_region uuid, p_data jsonb) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT change_record_many(p_kind, p_op, ARRAY[ROW(p_subject, p_order_key, p_provider,
                                                      p_office, p_region,
                                                      p_data)::change_item])
$$;

-- What the feed says of a visit (0016's visit_changed's object).
CREATE FUNCTION visit_change_data(v visits) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('state', v.state, 'flags', v.flags, 'worker_id', v.worker_id,
        'recipient_id', v.recipient_id, 'started_at', v.started_at, 'ended_at', v.ended_at,
        'rating', v.rating)
$$;

-- The visits a statement inserted, or changed (an UPDATE that changes nothing is no change:
-- 0016's WHEN (OLD.* IS DISTINCT FROM NEW.*)), in the order it wrote them.
CREATE FUNCTION visits_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    items change_item[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(ROW(n.id::text, 'visit:' || n.id, n.provider_id, NULL, p.region_id,
                             visit_change_data(n))::change_item)
        INTO items
        FROM changed_new n JOIN providers p ON p.id = n.provider_id;
    ELSE
        -- NOTE: EXECUTE, planned for the rows at hand: a plan kept from a statement of one
        -- row joins old and new by a nested loop, whose filter compared every old row with
        -- every new one whole (10 ms for 68 visits, quadratic in a large rebuild)
        EXECUTE $q$
            SELECT array_agg(ROW(n.id::text, 'visit:' || n.id, n.provider_id, NULL,
                                 p.region_id, visit_change_data(n))::change_item)
            FROM changed_new n JOIN changed_old o ON o.id = n.id
            JOIN providers p ON p.id = n.provider_id
            WHERE o IS DISTINCT FROM n
        $q$ INTO items;
    END IF;
    IF items IS NOT NULL THEN
        PERFORM change_record_many('visit.changed', lower(TG_OP), items);
    END IF;
    RETURN NULL;
END
$$;
DROP TRIGGER visits_changed ON visits;
DROP TRIGGER visits_changed_update ON visits;
DROP FUNCTION visit_changed();
CREATE TRIGGER visits_changed AFTER INSERT ON visits
    REFERENCING NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION visits_changed();
CREATE TRIGGER visits_changed_update AFTER UPDATE ON visits
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION visits_changed();

-- 0016's outbox, a statement at a time: a delivery for each subscription of each new
-- change's region that asked for its kind.
CREATE OR REPLACE FUNCTION change_outbox() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO webhook_deliveries (subscription_id, change_id, order_key)
    SELECT s.id, c.id, c.order_key
    FROM written c JOIN webhook_subscriptions s
      ON s.region_id = c.region_id AND c.kind = ANY (s.events)
    ORDER BY c.id, s.id;
    RETURN NULL;
END
$$;
DROP TRIGGER changes_outbox ON changes;
CREATE TRIGGER changes_outbox AFTER INSERT ON changes
    REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION change_outbox();

-- ==== 3. A card binding's visits found by index (the 10,000,000-event region) ====

-- Resolving a pending card binding (review.sql, binding_resolve) rebuilds the visits whose
-- events read that card for that recipient. events had no index on either, so the read
-- was a scan of every monthly partition: 2.0 s at 10,000,000 events (tools/bench-review
-- --visits 3500000 --days 1278), growing with the history. A partial index of the events
-- that carry a card (starts and ends, about two thirds of them); the month is not known, so
-- every partition's index is probed once.
CREATE INDEX events_recipient_card ON events (recipient_id, card_token)
    WHERE card_token IS NOT NULL;
