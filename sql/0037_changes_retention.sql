-- How long the change feed keeps a change (issue 18: what grows without bound). changes
-- gained at least one row per visit for good: 3.1 GB at 10,000,000 events, as large as
-- visits (backend/README.md, "Change feed and webhooks"). A change is kept for the
-- region's changes_keep_days (90 by default: a consumer's longest outage, with margin),
-- and longer while a webhook delivery of it is pending. Then it goes, with its delivered
-- deliveries and their attempts, oldest first and only as an unbroken run from the
-- oldest: changes_expired.through says that every change at or below that position may be
-- gone and every change above it is there. A feed consumer whose cursor is below it has
-- missed changes: it is answered 410 (cursor-expired) and reads the current state again
-- instead of silently skipping what it never saw.

ALTER TABLE regions ADD COLUMN changes_keep_days integer NOT NULL DEFAULT 90
    CHECK (changes_keep_days BETWEEN 1 AND 36500);

-- The feed's horizon: one row. No provider's data (tests/security/catalogue.sh).
CREATE TABLE changes_expired (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    through bigint NOT NULL DEFAULT 0
);
INSERT INTO changes_expired DEFAULT VALUES;
GRANT SELECT ON changes_expired TO carefact_app;

-- A change's deliveries by change: the pending ones pin it, the delivered ones go with it.
CREATE INDEX webhook_deliveries_change ON webhook_deliveries (change_id);

-- Whether a change may go now.
CREATE FUNCTION change_expired(p_changed_at timestamptz, p_keep_days integer, p_pending boolean)
RETURNS boolean
LANGUAGE sql STABLE AS $$ -- now(): the transaction's time
    SELECT NOT p_pending AND p_changed_at < now() - make_interval(days => p_keep_days)
$$;

-- Remove the expired changes from the oldest on, at most p_limit a call, stopping at the
-- first that must stay; returns how many went. carefactd's upkeep calls it every few
-- seconds (a key-ordered look at p_limit rows when nothing is due). One caller at a
-- time (a transaction advisory lock; another instance's call returns 0). As the owner:
-- carefact_app may read changes, never delete them.
CREATE FUNCTION changes_expire(p_limit integer DEFAULT 5000) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    mark bigint;
    last bigint;
    o record;
    n integer;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('carefact.changes_expire')) THEN
        RETURN 0;
    END IF;
    mark := changes_low_water(); -- once: it reads pg_locks
    -- the oldest settled changes (below the feed's low-water mark: committed, numbered),
    -- in order, up to the first that must stay: a pass with nothing due reads only the
    -- oldest (and the loop's prefetch)
    FOR o IN SELECT ch.position,
                    change_expired(ch.changed_at, r.changes_keep_days,
                                   EXISTS (SELECT 1 FROM webhook_deliveries d
                                           WHERE d.change_id = ch.id AND d.status = 'pending'))
                        AS expired
             FROM changes ch JOIN regions r ON r.id = ch.region_id
             WHERE ch.position IS NOT NULL AND ch.position < mark
             ORDER BY ch.position LIMIT p_limit LOOP
        EXIT WHEN NOT o.expired;
        last := o.position;
    END LOOP;
    IF last IS NULL THEN
        RETURN 0;
    END IF;
    DELETE FROM webhook_attempts a USING webhook_deliveries d, changes c
    WHERE a.delivery_id = d.id AND d.change_id = c.id AND c.position <= last;
    DELETE FROM webhook_deliveries d USING changes c
    WHERE d.change_id = c.id AND c.position <= last;
    DELETE FROM changes c WHERE c.position <= last;
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE changes_expired SET through = greatest(through, last);
    RETURN n;
END
$$;
