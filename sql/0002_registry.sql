-- The registry: regions, providers, their workers and recipients, the cards bound to
-- recipients (tokens only, never card numbers), the service catalogue, certificates with
-- their service volumes, and visit plans. Each provider-scoped table has row-level
-- security by provider (0001's conventions); regions and the catalogue are the same for
-- every provider.

-- "Today's plans" and the dates of card bindings and certificates are local dates of
-- the region, not UTC ones.
CREATE FUNCTION is_time_zone(p_name text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = p_name)
$$;

CREATE TABLE regions (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    token_key bytea NOT NULL CHECK (length(token_key) BETWEEN 16 AND 64),
    timezone text NOT NULL DEFAULT 'Europe/Moscow' CHECK (is_time_zone(timezone))
);
GRANT SELECT ON regions TO carefact_app;

CREATE TABLE providers (
    id uuid PRIMARY KEY,
    region_id uuid NOT NULL REFERENCES regions,
    name text NOT NULL
);
ALTER TABLE providers ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_provider ON providers USING (provider_visible(id));
-- UPDATE only for row locks: a provider's row is locked FOR UPDATE by the register's
-- state changes and FOR SHARE by a correction, which need it.
GRANT SELECT, UPDATE ON providers TO carefact_app;

CREATE TABLE workers (
    id uuid PRIMARY KEY,
    provider_id uuid NOT NULL REFERENCES providers,
    full_name text NOT NULL,
    active boolean NOT NULL DEFAULT true
);
ALTER TABLE workers ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_provider ON workers
    USING (provider_id = ANY ((SELECT visible_providers())::uuid[]));
GRANT SELECT ON workers TO carefact_app;

CREATE TABLE recipients (
    id uuid PRIMARY KEY,
    provider_id uuid NOT NULL REFERENCES providers,
    full_name text NOT NULL,
    address text NOT NULL DEFAULT '',
    lat_e7 integer CHECK (lat_e7 BETWEEN -900000000 AND 900000000),
    lon_e7 integer CHECK (lon_e7 BETWEEN -1800000000 AND 1800000000),
    guardian_name text,
    version bigint NOT NULL DEFAULT 1,
    deleted_at timestamptz
);
CREATE INDEX recipients_provider ON recipients (provider_id);
ALTER TABLE recipients ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_provider ON recipients
    USING (provider_id = ANY ((SELECT visible_providers())::uuid[]));
GRANT SELECT ON recipients TO carefact_app;

-- A card bound to a recipient (or to a guardian acting for them). Only the token and
-- the last four digits: never a card number. A card.bound event from a terminal adds
-- a binding waiting for a manager's confirmation (status pending, source_device/seq).
CREATE TABLE card_bindings (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    recipient_id uuid NOT NULL REFERENCES recipients,
    token text NOT NULL CHECK (token ~ '^[A-Za-z0-9_-]{22}$'),
    method text NOT NULL CHECK (method IN ('emv', 'uid')),
    scheme text NOT NULL DEFAULT '',
    last4 text NOT NULL DEFAULT '' CHECK (last4 ~ '^([0-9]{4})?$'),
    holder text NOT NULL DEFAULT 'recipient' CHECK (holder IN ('recipient', 'guardian')),
    status text NOT NULL CHECK (status IN ('active', 'pending', 'revoked')),
    valid_from date,
    valid_to date,
    created_at timestamptz NOT NULL DEFAULT now(),
    source_device uuid,
    source_seq bigint
);
CREATE UNIQUE INDEX card_bindings_live ON card_bindings (token, recipient_id) WHERE status <> 'revoked';
CREATE INDEX card_bindings_recipient ON card_bindings (recipient_id);
-- Pending cards, for the exception queue.
CREATE INDEX card_bindings_pending ON card_bindings (created_at) WHERE status = 'pending';
-- A card is its recipient's provider's: visible when the recipient is (the recipients
-- policy applies inside this one).
ALTER TABLE card_bindings ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_recipient ON card_bindings
    USING (EXISTS (SELECT 1 FROM recipients r WHERE r.id = recipient_id));
GRANT SELECT, INSERT, UPDATE ON card_bindings TO carefact_app;

CREATE TABLE services (
    code text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9._-]{1,32}$'),
    name text NOT NULL,
    category text NOT NULL CHECK (category IN ('household', 'medical', 'psychological',
        'pedagogical', 'labour', 'legal', 'urgent', 'disability', 'social_support')),
    form text NOT NULL CHECK (form IN ('home', 'day_centre', 'residential')),
    norm_minutes integer NOT NULL CHECK (norm_minutes > 0),
    tariff_kopecks bigint NOT NULL CHECK (tariff_kopecks >= 0),
    version bigint NOT NULL DEFAULT 1
);
GRANT SELECT ON services TO carefact_app;

-- Social certificate / individual programme: validity and the services with volumes.
CREATE TABLE certificates (
    id uuid PRIMARY KEY,
    recipient_id uuid NOT NULL REFERENCES recipients,
    number text NOT NULL,
    valid_from date NOT NULL,
    valid_to date NOT NULL CHECK (valid_to >= valid_from),
    version bigint NOT NULL DEFAULT 1
);
CREATE INDEX certificates_recipient ON certificates (recipient_id);
ALTER TABLE certificates ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_recipient ON certificates
    USING (EXISTS (SELECT 1 FROM recipients r WHERE r.id = recipient_id));
GRANT SELECT ON certificates TO carefact_app;

CREATE TABLE certificate_services (
    certificate_id uuid NOT NULL REFERENCES certificates ON DELETE CASCADE,
    service_code text NOT NULL REFERENCES services,
    volume integer NOT NULL CHECK (volume > 0),
    period text NOT NULL CHECK (period IN ('month', 'year')),
    PRIMARY KEY (certificate_id, service_code)
);
ALTER TABLE certificate_services ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_certificate ON certificate_services
    USING (EXISTS (SELECT 1 FROM certificates c WHERE c.id = certificate_id));
GRANT SELECT ON certificate_services TO carefact_app;

CREATE TABLE visit_plans (
    id uuid PRIMARY KEY,
    provider_id uuid NOT NULL REFERENCES providers,
    worker_id uuid NOT NULL REFERENCES workers,
    recipient_id uuid NOT NULL REFERENCES recipients,
    planned_start timestamptz NOT NULL,
    service_codes text[] NOT NULL DEFAULT '{}',
    version bigint NOT NULL DEFAULT 1
);
CREATE INDEX visit_plans_worker_day ON visit_plans (worker_id, planned_start);
CREATE INDEX visit_plans_provider_start ON visit_plans (provider_id, planned_start);
CREATE INDEX visit_plans_recipient_start ON visit_plans (recipient_id, planned_start);
-- Plans not started yet are the other half of GET /api/v1/visits: newest first, by
-- provider or for every provider, with the id as the keyset's tie-break, so the page
-- walks the index and stops after `limit` plans that have no visit, instead of reading
-- and sorting every plan.
CREATE INDEX visit_plans_sort ON visit_plans (planned_start DESC, id DESC);
CREATE INDEX visit_plans_provider_sort ON visit_plans (provider_id, planned_start DESC, id DESC);
ALTER TABLE visit_plans ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_provider ON visit_plans
    USING (provider_id = ANY ((SELECT visible_providers())::uuid[]));
GRANT SELECT ON visit_plans TO carefact_app;
