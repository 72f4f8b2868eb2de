-- Issue 20: the change feed (GET /api/v1/changes) and webhooks (subscriptions per region,
-- an outbox of deliveries, a log of attempts). See backend/README.md, "Change feed and
-- webhooks", for why the feed has no gaps.
--
-- Every change to a visit, a correction, a register, a certificate or a card binding
-- writes one row of `changes` in the same transaction (triggers below; several changes
-- to one subject in one transaction are one row, holding the last state). The row's
-- `position` — the feed's order and the consumer's cursor — is handed out at COMMIT by
-- the deferred trigger `changes_seal`, and the transaction then holds a lock naming its
-- position until it has ended. A reader (`changes_page`) hands out only positions below
-- the lowest one still held: a change is never handed out before one that precedes it has
-- committed or rolled back, so "position > cursor" never skips a row that commits later,
-- and commits are not serialised (backend/README.md, "Change feed and webhooks").

-- ==== The feed ====

CREATE SEQUENCE changes_position;

CREATE TABLE changes (
    id bigserial PRIMARY KEY, -- the order rows were written in: NOT the feed's order
    position bigint UNIQUE, -- NULL until the writing transaction commits (changes_seal)
    tx xid8 NOT NULL DEFAULT pg_current_xact_id(),
    kind text NOT NULL CHECK (kind IN ('visit.changed', 'correction.created',
        'register.changed', 'certificate.changed', 'card_binding.changed')),
    subject_id text NOT NULL, -- a uuid; a register's "YYYY-MM.<provider>"
    -- deliveries of one order key go out one after another (a correction's is its
    -- visit's, a certificate's and a card's their recipient's)
    order_key text NOT NULL,
    op text NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    provider_id uuid NOT NULL REFERENCES providers,
    region_id uuid NOT NULL REFERENCES regions,
    data jsonb NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tx, kind, subject_id)
);
-- A provider's feed walks positions in its own rows.
CREATE INDEX changes_provider_position ON changes (provider_id, position);
ALTER TABLE changes ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_provider ON changes
    USING (provider_id = ANY ((SELECT visible_providers())::uuid[]));
-- Read only: rows are written by the triggers below, which run as the owner. The
-- sequence is read (never advanced) by changes_low_water.
GRANT SELECT ON changes TO carefact_app;
GRANT SELECT ON SEQUENCE changes_position TO carefact_app;

-- One change of a subject in this transaction: a new row, or the transaction's row of
-- that subject brought up to date (its first op kept: inserted then updated is an insert).
CREATE FUNCTION change_record(p_kind text, p_subject text, p_order_key text, p_op text,
                              p_provider uuid, p_data jsonb) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    INSERT INTO changes (kind, subject_id, order_key, op, provider_id, region_id, data)
    SELECT p_kind, p_subject, p_order_key, p_op, p_provider, p.region_id, p_data
    FROM providers p WHERE p.id = p_provider
    ON CONFLICT (tx, kind, subject_id) DO UPDATE SET data = EXCLUDED.data,
        changed_at = EXCLUDED.changed_at,
        op = CASE WHEN changes.op = 'insert' AND EXCLUDED.op <> 'delete' THEN 'insert'
                  ELSE EXCLUDED.op END
$$;

-- The lock key of a position in flight: 2^62 + position, a range no other advisory lock of
-- the schema uses (those are int4 hashes: keys from -2^31 to 2^31). changes_low_water reads
-- it back from pg_locks.
CREATE FUNCTION changes_inflight_key(p_position bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
    SELECT (1::bigint << 62) + p_position
$$;

-- At COMMIT (a deferred constraint trigger, fired once per row written; all but the
-- first find nothing to do): take this transaction's positions, a block of consecutive
-- numbers, and hold the lock of the first until the transaction ends. Taking the numbers
-- and the lock is one step under the feed's lock (session-level, released at once, so the
-- commit itself runs unserialised): a reader, which takes the same lock to look, sees
-- every position taken either held (in flight) or its transaction ended (PostgreSQL makes
-- a commit visible before it releases the transaction's locks).
CREATE FUNCTION changes_seal() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    n integer;
    first bigint;
BEGIN
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
CREATE CONSTRAINT TRIGGER changes_seal AFTER INSERT ON changes
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION changes_seal();

-- The feed's low-water mark: every position below it is settled (committed, visible to a
-- statement that starts now, or rolled back for good); the lowest position still held by
-- a transaction in flight, else the next position to be taken. Looked at under the feed's
-- lock (shared), so no writer is between taking its numbers and holding its lock.
CREATE FUNCTION changes_low_water() RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    mark bigint;
BEGIN
    PERFORM pg_advisory_lock_shared(hashtext('carefact.changes'));
    BEGIN
        SELECT min(((l.classid::bigint << 32) | l.objid::bigint) - (1::bigint << 62)) INTO mark
        FROM pg_locks l
        WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid::bigint >= (1::bigint << 30) AND l.classid::bigint < (1::bigint << 31);
        IF mark IS NULL THEN
            SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END INTO mark
            FROM changes_position;
        END IF;
        PERFORM pg_advisory_unlock_shared(hashtext('carefact.changes'));
    EXCEPTION WHEN OTHERS THEN
        PERFORM pg_advisory_unlock_shared(hashtext('carefact.changes'));
        RAISE;
    END;
    RETURN mark;
END
$$;

-- A page of the feed: the changes after p_after, below the low-water mark, in order.
-- NOTE: the rows are read by a statement that starts after the mark was taken (a
-- VOLATILE function's statements each take a fresh snapshot under READ COMMITTED), so
-- every committed position below the mark is visible to it; under REPEATABLE READ the
-- snapshot would be older than the mark, which is refused.
CREATE FUNCTION changes_page(p_after bigint, p_limit integer)
RETURNS SETOF changes
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    mark bigint;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'changes_page needs READ COMMITTED';
    END IF;
    mark := changes_low_water();
    RETURN QUERY
        SELECT c.*
        FROM changes c WHERE c.position > p_after AND c.position < mark
        ORDER BY c.position LIMIT p_limit;
END
$$;

-- ==== What writes changes ====

CREATE FUNCTION visit_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM change_record('visit.changed', NEW.id::text, 'visit:' || NEW.id, lower(TG_OP),
        NEW.provider_id, jsonb_build_object('state', NEW.state, 'flags', NEW.flags,
            'worker_id', NEW.worker_id, 'recipient_id', NEW.recipient_id,
            'started_at', NEW.started_at, 'ended_at', NEW.ended_at, 'rating', NEW.rating));
    RETURN NULL;
END
$$;
-- The rebuild rewrites a visit only when something changed (sql/0010); an UPDATE that
-- changes nothing is no change here either.
CREATE TRIGGER visits_changed AFTER INSERT ON visits
    FOR EACH ROW EXECUTE FUNCTION visit_changed();
CREATE TRIGGER visits_changed_update AFTER UPDATE ON visits
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION visit_changed();

CREATE FUNCTION correction_created() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM change_record('correction.created', NEW.id::text, 'visit:' || NEW.visit_id, 'insert',
        NEW.provider_id, jsonb_build_object('visit_id', NEW.visit_id, 'field', NEW.field,
            'value', NEW.value, 'corrected_at', NEW.corrected_at));
    RETURN NULL;
END
$$;
CREATE TRIGGER visit_corrections_changed AFTER INSERT ON visit_corrections
    FOR EACH ROW EXECUTE FUNCTION correction_created();

CREATE FUNCTION register_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    r registers;
BEGIN
    IF TG_OP = 'DELETE' THEN
        r := OLD;
    ELSE
        r := NEW;
    END IF;
    PERFORM change_record('register.changed', to_char(r.month, 'YYYY-MM') || '.' || r.provider_id,
        'register:' || to_char(r.month, 'YYYY-MM') || '.' || r.provider_id, lower(TG_OP),
        r.provider_id, jsonb_build_object('month', to_char(r.month, 'YYYY-MM'),
            'state', CASE WHEN TG_OP = 'DELETE' THEN 'draft' ELSE r.state END,
            'included_count', r.included_count, 'total_kopecks', r.total_kopecks));
    RETURN NULL;
END
$$;
CREATE TRIGGER registers_changed AFTER INSERT OR UPDATE OR DELETE ON registers
    FOR EACH ROW EXECUTE FUNCTION register_changed();

-- A certificate or a card binding: its recipient's provider's. A card's token never
-- leaves the database (only the last four digits, as the lists show them).
CREATE FUNCTION recipient_thing_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    row_data jsonb := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
    recipient uuid := (row_data ->> 'recipient_id')::uuid;
    provider uuid;
    kind text := CASE TG_TABLE_NAME WHEN 'certificates' THEN 'certificate.changed'
                                    ELSE 'card_binding.changed' END;
BEGIN
    SELECT provider_id INTO provider FROM recipients WHERE id = recipient;
    IF provider IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM change_record(kind, row_data ->> 'id', 'recipient:' || recipient, lower(TG_OP),
        provider, CASE TG_TABLE_NAME
            WHEN 'certificates' THEN jsonb_build_object('recipient_id', recipient,
                'number', row_data -> 'number', 'valid_from', row_data -> 'valid_from',
                'valid_to', row_data -> 'valid_to', 'deleted', TG_OP = 'DELETE')
            ELSE jsonb_build_object('recipient_id', recipient, 'status', row_data -> 'status',
                'holder', row_data -> 'holder', 'method', row_data -> 'method',
                'last4', row_data -> 'last4', 'deleted', TG_OP = 'DELETE') END);
    RETURN NULL;
END
$$;
CREATE TRIGGER certificates_changed AFTER INSERT OR UPDATE OR DELETE ON certificates
    FOR EACH ROW EXECUTE FUNCTION recipient_thing_changed();
CREATE TRIGGER card_bindings_changed AFTER INSERT OR UPDATE OR DELETE ON card_bindings
    FOR EACH ROW EXECUTE FUNCTION recipient_thing_changed();

-- ==== Webhooks ====

-- A region's subscription: where to send which kinds of change, and the secret the
-- deliveries are signed with (HMAC-SHA256; it must be kept to sign, so it is stored as
-- is and shown once, when made). Only admin and authority see them (carefact.provider
-- '*'): a subscription carries every provider's changes of its region.
CREATE TABLE webhook_subscriptions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    region_id uuid NOT NULL REFERENCES regions,
    url text NOT NULL CHECK (url ~ '^https?://[^[:space:]]+$' AND length(url) <= 2000),
    events text[] NOT NULL CHECK (cardinality(events) > 0 AND events <@ ARRAY['visit.changed',
        'correction.created', 'register.changed', 'certificate.changed',
        'card_binding.changed']),
    secret text NOT NULL CHECK (length(secret) >= 32),
    enabled boolean NOT NULL DEFAULT true,
    consecutive_failures integer NOT NULL DEFAULT 0,
    retry_at timestamptz, -- the subscription's back-off after a failure (NULL: now)
    disabled_at timestamptz,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE webhook_subscriptions ENABLE ROW LEVEL SECURITY;
CREATE POLICY oversight_only ON webhook_subscriptions
    USING (coalesce(current_setting('carefact.provider', true), '') = '*');
GRANT SELECT, INSERT, UPDATE ON webhook_subscriptions TO carefact_app;

-- The outbox: one delivery per (subscription, change), written with the change (so in
-- its transaction), also while the subscription is disabled (it resumes where it was
-- when enabled again). The id is the delivery's for good: every attempt sends it.
CREATE TABLE webhook_deliveries (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    subscription_id uuid NOT NULL REFERENCES webhook_subscriptions,
    change_id bigint NOT NULL REFERENCES changes,
    order_key text NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    leased_until timestamptz, -- a sender is sending it until then
    last_attempt_at timestamptz,
    last_status integer,
    last_error text,
    delivered_at timestamptz,
    UNIQUE (subscription_id, change_id)
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (subscription_id, order_key, change_id)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (subscription_id, change_id DESC);
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_subscription ON webhook_deliveries
    USING (EXISTS (SELECT 1 FROM webhook_subscriptions s WHERE s.id = subscription_id));
GRANT SELECT, UPDATE ON webhook_deliveries TO carefact_app;

-- Every attempt: when, the answer's status (NULL: none came), what went wrong.
CREATE TABLE webhook_attempts (
    id bigserial PRIMARY KEY,
    delivery_id uuid NOT NULL REFERENCES webhook_deliveries,
    attempted_at timestamptz NOT NULL DEFAULT now(),
    http_status integer,
    error text,
    duration_ms integer NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
ALTER TABLE webhook_attempts ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_delivery ON webhook_attempts
    USING (EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.id = delivery_id));
GRANT SELECT, INSERT ON webhook_attempts TO carefact_app;
GRANT USAGE ON SEQUENCE webhook_attempts_id_seq TO carefact_app;

-- The outbox is written by the change itself: a delivery for each subscription of the
-- change's region that asked for its kind.
CREATE FUNCTION change_outbox() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO webhook_deliveries (subscription_id, change_id, order_key)
    SELECT s.id, NEW.id, NEW.order_key FROM webhook_subscriptions s
    WHERE s.region_id = NEW.region_id AND NEW.kind = ANY (s.events);
    RETURN NULL;
END
$$;
CREATE TRIGGER changes_outbox AFTER INSERT ON changes
    FOR EACH ROW EXECUTE FUNCTION change_outbox();

-- The back-off after the n-th failure in a row: base · 2^(n-1), at most max (ms).
CREATE FUNCTION webhook_backoff(n integer, base_ms bigint, max_ms bigint) RETURNS interval
LANGUAGE sql IMMUTABLE AS $$
    SELECT make_interval(secs => least(max_ms::numeric,
                                       base_ms * power(2::numeric, greatest(n, 1) - 1)) / 1000)
$$;

-- What a sender may send now, leased to it: for each (subscription, order key) the
-- oldest pending delivery only (so one subject's changes go out in feed order, one at a
-- time), of an enabled subscription out of its back-off, not leased to another sender,
-- at most p_limit. Runs under '*' (the sender's connection).
CREATE FUNCTION webhook_claim(p_limit integer, p_lease_ms bigint)
RETURNS TABLE (delivery_id uuid, subscription_id uuid, url text, secret text, body text)
LANGUAGE sql AS $$
    WITH heads AS (
        SELECT DISTINCT ON (d.subscription_id, d.order_key) d.id
        FROM webhook_deliveries d JOIN changes c ON c.id = d.change_id
        JOIN webhook_subscriptions s ON s.id = d.subscription_id AND s.enabled
        WHERE d.status = 'pending' AND c.position IS NOT NULL
        ORDER BY d.subscription_id, d.order_key, c.position
    ), due AS (
        SELECT d.id FROM heads h JOIN webhook_deliveries d ON d.id = h.id
        JOIN webhook_subscriptions s ON s.id = d.subscription_id
        JOIN changes c ON c.id = d.change_id
        WHERE s.enabled AND (s.retry_at IS NULL OR s.retry_at <= clock_timestamp())
          AND d.next_attempt_at <= clock_timestamp()
          AND (d.leased_until IS NULL OR d.leased_until <= clock_timestamp())
        ORDER BY c.position LIMIT p_limit
    ), leased AS (
        UPDATE webhook_deliveries d
        SET leased_until = clock_timestamp() + make_interval(secs => p_lease_ms / 1000.0)
        FROM due WHERE d.id = due.id AND d.status = 'pending'
          AND (d.leased_until IS NULL OR d.leased_until <= clock_timestamp())
        RETURNING d.id, d.subscription_id, d.change_id
    )
    SELECT l.id, l.subscription_id, s.url, s.secret,
           json_build_object('delivery_id', l.id, 'subscription_id', l.subscription_id,
               'change', json_build_object('position', c.position::text, 'kind', c.kind,
                   'subject_id', c.subject_id, 'op', c.op, 'provider_id', c.provider_id,
                   'region_id', c.region_id,
                   'changed_at', to_char(c.changed_at AT TIME ZONE 'UTC',
                                         'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                   'data', c.data))::text
    FROM leased l JOIN webhook_subscriptions s ON s.id = l.subscription_id
    JOIN changes c ON c.id = l.change_id
    ORDER BY c.position
$$;

-- The outcome of one attempt. Delivered (2xx): done, and the subscription's failures
-- in a row start again from 0. Failed: the delivery and the subscription back off, the
-- failure is counted, and after p_disable_after in a row the subscription is disabled
-- until a person enables it again. Every attempt is logged. Returns whether the
-- subscription is (still) enabled.
CREATE FUNCTION webhook_record(p_delivery uuid, p_ok boolean, p_status integer, p_error text,
                               p_duration_ms integer, p_base_ms bigint, p_max_ms bigint,
                               p_disable_after integer) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    sub uuid;
    tries integer;
    failures integer;
    on_now boolean;
BEGIN
    INSERT INTO webhook_attempts (delivery_id, http_status, error, duration_ms)
    VALUES (p_delivery, p_status, left(p_error, 500), p_duration_ms);
    IF p_ok THEN
        UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(),
            attempts = attempts + 1, last_attempt_at = now(), last_status = p_status,
            last_error = NULL, leased_until = NULL
        WHERE id = p_delivery RETURNING subscription_id INTO sub;
        UPDATE webhook_subscriptions SET consecutive_failures = 0, retry_at = NULL
        WHERE id = sub RETURNING enabled INTO on_now;
        RETURN on_now;
    END IF;
    UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = now(),
        last_status = p_status, last_error = left(p_error, 500), leased_until = NULL
    WHERE id = p_delivery RETURNING subscription_id, attempts INTO sub, tries;
    UPDATE webhook_deliveries
    SET next_attempt_at = clock_timestamp() + webhook_backoff(tries, p_base_ms, p_max_ms)
    WHERE id = p_delivery;
    UPDATE webhook_subscriptions SET consecutive_failures = consecutive_failures + 1
    WHERE id = sub RETURNING consecutive_failures INTO failures;
    UPDATE webhook_subscriptions
    SET retry_at = clock_timestamp() + webhook_backoff(failures, p_base_ms, p_max_ms),
        enabled = enabled AND failures < p_disable_after,
        disabled_at = CASE WHEN enabled AND failures >= p_disable_after THEN now()
                           ELSE disabled_at END
    WHERE id = sub RETURNING enabled INTO on_now;
    RETURN on_now;
END
$$;
