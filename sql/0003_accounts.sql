-- Accounts of people (admin, authority, manager, worker) and their sessions. See
-- backend/README.md, "Authorisation".

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
-- Admins and authorities have no provider: visible under '*' only.
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_provider ON users
    USING (coalesce(current_setting('carefact.provider', true), '') = '*'
           OR provider_visible(provider_id));
-- Accounts are made and disabled by the owner (carefactd user add/disable); the server
-- counts failed logins and locks.
GRANT SELECT, UPDATE ON users TO carefact_app;

-- A login session: only the SHA-256 of the cookie's token is kept, so a dump of this
-- table opens no session. csrf is echoed by the client in X-CSRF-Token. A session is
-- visible with its user (the session lookup itself runs under '*').
CREATE TABLE sessions (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id uuid NOT NULL REFERENCES users,
    csrf text NOT NULL CHECK (csrf ~ '^[0-9a-f]{64}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_user ON sessions USING (EXISTS (SELECT 1 FROM users u WHERE u.id = user_id));
GRANT SELECT, INSERT, DELETE ON sessions TO carefact_app;
