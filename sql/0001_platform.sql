-- carefact platform: what every feature's migration builds on. The database epoch, the
-- append-only audit log, the helpers of row-level security, and the rules for the
-- server's role.
--
-- Conventions every later migration follows (tests/security/catalogue.sh checks them):
--   * Every table that holds a provider's data has row-level security enabled and a
--     policy, keyed on the setting carefact.provider ('*' = every provider; unset or ''
--     = none), which carefactd sets at the start of every request (backend/README.md,
--     "Authorisation"). The owner (migrations, demo-data, the CLI) is not subject to it;
--     carefactd serves as carefact_app, which is not the owner, so the policies apply.
--   * carefact_app holds exactly the privileges the migrations grant it, table by table,
--     one "GRANT ... ON ... TO carefact_app;" line each. There are no default
--     privileges: a new table is closed to the server until its migration says otherwise.
--   * Money is bigint kopecks; times are timestamptz.
--
-- carefact_app must exist before migrating (tools/pg creates it; production likewise:
-- CREATE ROLE carefact_app LOGIN); a migration that grants to it fails otherwise.

GRANT USAGE ON SCHEMA public TO carefact_app;
-- /healthz reports the newest migration (migrate.c creates the table before the first one).
GRANT SELECT ON schema_migrations TO carefact_app;

-- ==== No JIT for this database ====
-- PostgreSQL compiles a query to machine code with LLVM when its estimated cost passes
-- jit_above_cost (100,000). The review queries (live, exceptions, the lists with their
-- per-row sub-SELECTs) pass it at a million visits although they run in milliseconds, and
-- the compilation then takes 300-900 ms of every request (GET /api/v1/live for the
-- authority: 906 ms, of which JIT 830 ms; 33 ms without). carefactd's queries are all
-- short index walks where JIT can only lose, so it is off for the database (new sessions;
-- a reporting session may still SET jit = on for itself).
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
END
$$;

-- ==== Append-only tables ====

-- One trigger function for every append-only table (audit_log, visit_corrections, the
-- register's TRUNCATE guards).
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END
$$;

-- ==== Epoch ====

-- A random id made once per database. A restore from a backup brings that same row
-- back, so on its own it detects nothing; what a terminal is told is database_epoch():
-- a hash of that id, the cluster's system identifier and its current WAL timeline. It
-- changes when the data is loaded into another cluster (pg_dump/pg_restore: new system
-- identifier), after point-in-time recovery and after a replica is promoted (new
-- timeline) -- the cases where acknowledged events can be missing. A restore that copies
-- the data folder back changes none of these; that case (and every other) is caught by
-- the sequence check: each acknowledgement carries the highest seq the server holds for
-- the device, and a device that hears a lower number than it was told before re-uploads
-- from there (backend/README.md, "Restores").
CREATE TABLE db_epoch (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    epoch uuid NOT NULL DEFAULT gen_random_uuid()
);
INSERT INTO db_epoch DEFAULT VALUES;
GRANT SELECT ON db_epoch TO carefact_app;

CREATE FUNCTION database_epoch() RETURNS uuid
LANGUAGE sql VOLATILE AS $$
    WITH h AS (
        SELECT encode(sha256(convert_to(e.epoch::text || '/' || s.system_identifier::text
                   || '/' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8), 'UTF8')),
                   'hex') AS x
        FROM db_epoch e, pg_control_system() s
    )
    -- Shaped as a version-8 UUID (RFC 9562: custom), so it is a valid UUID anywhere.
    SELECT (substr(x, 1, 12) || '8' || substr(x, 14, 3)
            || substr('89ab', (('x' || substr(x, 17, 1))::bit(4)::integer % 4) + 1, 1)
            || substr(x, 18, 15))::uuid
    FROM h
$$;

-- ==== Row-level security helpers ====

-- Whether the request may see provider p: carefact.provider is '*' or p. Used by the
-- providers table's own policy (visible_providers() below reads providers, so that
-- policy must not call it) and by users'.
CREATE FUNCTION provider_visible(p uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('carefact.provider', true), '') IN ('*', p::text)
$$;

-- The providers the request may see, for the policies of every other provider-scoped
-- table: "provider_id = ANY ((SELECT visible_providers()))". Written as a sub-SELECT
-- with no outer reference it is an InitPlan, computed once per query instead of once
-- per row; "= ANY (array)" over a column is estimated from the column's statistics, is
-- cheap per row, and uuid equality is leakproof, so the planner may use it inside an
-- index scan. (provider_visible(provider_id) instead is inlined into an expression over
-- current_setting() that the planner estimates to keep 0.5 % of the rows: for the
-- authority it keeps all of them, and every filtered list was planned as "few rows:
-- read them all and sort" instead of "walk visits_sort newest first and stop after 50",
-- 270-380 ms instead of 3-7 ms at a million visits; backend/README.md, "Performance".)
-- PL/pgSQL, so it may be created before the providers table it reads.
CREATE FUNCTION visible_providers() RETURNS uuid[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    setting text := coalesce(current_setting('carefact.provider', true), '');
BEGIN
    IF setting = '*' THEN
        RETURN coalesce((SELECT array_agg(id) FROM providers), '{}');
    END IF;
    RETURN ARRAY(SELECT id FROM providers WHERE id::text = setting);
END
$$;

-- ==== Audit ====

-- Append-only record of every change made by a person, twice over: the trigger refuses
-- UPDATE and DELETE, and carefact_app has neither privilege (nor TRUNCATE). Every role
-- writes it; only the oversight ('*': authority, admin) reads it, as GET /api/v1/audit.
CREATE TABLE audit_log (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL,
    action text NOT NULL,
    subject text NOT NULL,
    reason text NOT NULL DEFAULT '',
    details jsonb NOT NULL DEFAULT '{}'
);
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_read ON audit_log FOR SELECT
    USING (coalesce(current_setting('carefact.provider', true), '') = '*');
CREATE POLICY audit_append ON audit_log FOR INSERT WITH CHECK (true);
GRANT SELECT, INSERT ON audit_log TO carefact_app;
GRANT USAGE ON SEQUENCE audit_log_id_seq TO carefact_app;
