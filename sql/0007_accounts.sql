-- Accounts of people (admin, authority, manager, worker) and their sessions, the
-- privileges of the server's own database role (carefact_app: not the owner, so the
-- row-level security below applies to it), the append-only audit log by privilege,
-- and row-level security on provider-scoped tables keyed on the setting
-- carefact.provider ('*' = every provider; unset or '' = none). See backend/README.md,
-- "Authorisation".

CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    login text NOT NULL UNIQUE CHECK (login ~ '^[a-z0-9._-]{3,64}$'),
    role text NOT NULL CHECK (role IN ('admin', 'authority', 'manager', 'worker')),
    provider_id uuid REFERENCES providers,
    worker_id uuid REFERENCES workers,
    -- "scrypt$N$r$p$<salt hex>$<key hex>" (OpenSSL EVP_PBE_scrypt)
    password_hash text NOT NULL CHECK (password_hash ~ '^scrypt\$[0-9]+\$[0-9]+\$[0-9]+\$[0-9a-f]{32}\$[0-9a-f]{64}$'),
    disabled_at timestamptz,
    failed_logins integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (role IN ('admin', 'authority') OR provider_id IS NOT NULL),
    CHECK (role <> 'worker' OR worker_id IS NOT NULL)
);

-- A login session: only the SHA-256 of the cookie's token is kept, so a dump of this
-- table opens no session. csrf is echoed by the client in X-CSRF-Token.
CREATE TABLE sessions (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id uuid NOT NULL REFERENCES users,
    csrf text NOT NULL CHECK (csrf ~ '^[0-9a-f]{64}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- ==== Row-level security ====
-- carefactd sets carefact.provider at the start of every request from the caller's
-- identity; a manager's request sees only the rows of their provider even if a query
-- in C forgets to filter. The owner (migrations, demo-data) is not subject to it.
CREATE FUNCTION provider_visible(p uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('carefact.provider', true), '') IN ('*', p::text)
$$;

DO $$
DECLARE t text;
BEGIN
    -- Not events: PostgreSQL refuses COPY FROM into a table with row-level security,
    -- and ingest loads events with COPY. They are read only through a visit (which is
    -- scoped here) and with the visit's provider as a filter.
    FOREACH t IN ARRAY ARRAY['providers', 'workers', 'recipients', 'visit_plans', 'visits',
                             'users'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY by_provider ON %I USING (provider_visible(%s))', t,
                       CASE t WHEN 'providers' THEN 'id' ELSE 'provider_id' END);
    END LOOP;
END
$$;
-- Admins and authorities have no provider: visible under '*' only.
ALTER POLICY by_provider ON users
    USING (coalesce(current_setting('carefact.provider', true), '') = '*'
           OR provider_visible(provider_id));

-- ==== The server's role ====
-- tools/pg creates carefact_app (LOGIN, not the owner); production does the same.
-- It may read and write what the API needs, never change or erase the audit log.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'carefact_app') THEN
        EXECUTE 'GRANT USAGE ON SCHEMA public TO carefact_app';
        EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO carefact_app';
        EXECUTE 'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO carefact_app';
        EXECUTE 'REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM carefact_app';
        EXECUTE 'REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON schema_migrations, db_epoch FROM carefact_app';
        -- Tables later migrations create are the server's to use as well.
        EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO carefact_app';
        EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO carefact_app';
    END IF;
END
$$;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
