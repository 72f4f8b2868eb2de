-- Accounts and terminals under attack (issue 13): login throttling by account and by
-- client address, taken atomically before the password is checked; deactivating a worker
-- revokes their terminals; a device's last sync. See backend/README.md, "Authorisation".

-- ==== Login throttle ====

-- One row per throttled key: sha256 of 'account:<login>', 'pair:<address> <login>' or
-- 'address:<address>'. Logins are hashed whether or not an account has them, so an
-- unknown login is throttled exactly like a known one (no enumeration by status), and a
-- dump shows neither the logins tried nor the addresses.
CREATE TABLE login_throttle (
    key bytea PRIMARY KEY CHECK (length(key) = 32),
    failures integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    last_failure_at timestamptz
);
GRANT SELECT, INSERT, UPDATE, DELETE ON login_throttle TO carefact_app;

-- The failure counters replace the ones on users.
ALTER TABLE users DROP COLUMN failed_logins, DROP COLUMN locked_until;

CREATE FUNCTION login_throttle_key(kind text, p_login text, p_address text) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(convert_to(CASE kind WHEN 'account' THEN 'account:' || p_login
                                       WHEN 'pair' THEN 'pair:' || p_address || ' ' || p_login
                                       ELSE 'address:' || p_address END, 'UTF8'))
$$;

-- Lock one key's row (made when new) and answer it. Rows are always taken in the order
-- account, pair, address: two attempts share the account row, the address row, or all
-- three, so they never wait for each other in a circle.
CREATE FUNCTION login_throttle_row(p_key bytea) RETURNS login_throttle
LANGUAGE sql AS $$
    INSERT INTO login_throttle (key) VALUES (p_key)
    ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key
    RETURNING *
$$;

-- One attempt to sign in as p_login from p_address, taken before the password is looked
-- at: the seconds the attempt must wait (it is refused and not counted), or 0 when it
-- may go ahead — it is then already counted as a failure on all three keys, which
-- login_succeeded takes back. The rows stay locked until the statement ends, so N
-- parallel attempts test at most p_after passwords.
--   pair (login, address): from the p_after-th failure on, locked 1 s, 2 s, 4 s ... p_max_s;
--   address (any login):   the same from the p_address_after-th failure, forgotten after
--                          p_max_s without one (a budget per client);
--   account (any address): the same from the p_account_after-th failure, but it holds
--                          back only addresses that have already failed for this login:
--                          a stranger's failures never lock the owner out of an address
--                          that has not failed.
CREATE FUNCTION login_attempt(p_login text, p_address text, p_after int, p_address_after int,
                              p_account_after int, p_max_s int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    a login_throttle := login_throttle_row(login_throttle_key('account', p_login, p_address));
    p login_throttle := login_throttle_row(login_throttle_key('pair', p_login, p_address));
    d login_throttle := login_throttle_row(login_throttle_key('address', p_login, p_address));
    wait double precision;
BEGIN
    IF d.last_failure_at < now() - p_max_s * interval '1 second'
       AND coalesce(d.locked_until < now(), true) THEN
        d.failures := 0;
    END IF;
    wait := greatest(extract(epoch FROM p.locked_until - now()),
                     extract(epoch FROM d.locked_until - now()),
                     CASE WHEN p.failures > 0 THEN extract(epoch FROM a.locked_until - now()) END,
                     0);
    IF wait > 0 THEN
        RETURN ceil(wait)::int;
    END IF;
    UPDATE login_throttle t
    SET failures = n.failures,
        last_failure_at = now(),
        locked_until = CASE WHEN n.failures >= n.after
                            THEN now() + least(power(2, least(n.failures - n.after, 20)), p_max_s)
                                         * interval '1 second'
                            ELSE t.locked_until END
    FROM (VALUES (a.key, a.failures + 1, p_account_after),
                 (p.key, p.failures + 1, p_after),
                 (d.key, d.failures + 1, p_address_after)) n (key, failures, after)
    WHERE t.key = n.key;
    -- Keys not failed for a day are forgotten now and then (unknown logins add rows).
    IF random() < 0.01 THEN
        DELETE FROM login_throttle
        WHERE last_failure_at < now() - interval '1 day' AND coalesce(locked_until < now(), true);
    END IF;
    RETURN 0;
END
$$;

-- The password was right: the login's failures (account and pair) are forgotten; the
-- address gets back the one failure login_attempt counted ahead.
CREATE FUNCTION login_succeeded(p_login text, p_address text, p_address_after int) RETURNS void
LANGUAGE sql AS $$
    UPDATE login_throttle SET failures = 0, locked_until = NULL
    WHERE key IN (login_throttle_key('account', p_login, p_address),
                  login_throttle_key('pair', p_login, p_address));
    UPDATE login_throttle
    SET failures = greatest(failures - 1, 0),
        locked_until = CASE WHEN failures - 1 < p_address_after THEN NULL ELSE locked_until END
    WHERE key = login_throttle_key('address', p_login, p_address);
$$;

-- ==== Terminals ====

-- The device's last reference download (its last upload is last_upload_at) and when it
-- was revoked.
ALTER TABLE devices ADD COLUMN last_reference_at timestamptz,
                    ADD COLUMN revoked_at timestamptz;

-- Deactivating a worker (workers.active false, by any path) revokes their terminals and
-- voids their unused enrolment codes; carefactd also refuses a device whose worker is not
-- active (device_lookup), so the rule holds even for a row changed before this trigger.
CREATE FUNCTION worker_deactivated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE devices SET status = 'revoked', revoked_at = now()
    WHERE worker_id = NEW.id AND status = 'active';
    UPDATE enrollment_codes SET expires_at = least(expires_at, now())
    WHERE worker_id = NEW.id AND used_at IS NULL;
    RETURN NULL;
END
$$;
CREATE TRIGGER worker_deactivated AFTER UPDATE OF active ON workers
    FOR EACH ROW WHEN (OLD.active AND NOT NEW.active) EXECUTE FUNCTION worker_deactivated();
-- carefactd deactivates workers (POST /api/v1/workers/{id}/deactivate).
GRANT UPDATE ON workers TO carefact_app;
