-- The federal reporting database (issue 18): each region's per-provider, per-month
-- aggregates, received by logical replication from the region's publication
-- `carefact_federal` (sql/0015_federal_aggregates.sql). One subscription per region
-- (tools/federal add) writes into the same table: the rows are keyed by region, so the
-- regions never collide. Counts and sums only — no name, no card token, no id of a
-- recipient or a worker (tests/cluster/federal.sh checks every column here).
--
-- The table matches the regions' one column for column (logical replication matches
-- by schema, table and column names). Applied by `tools/federal up` as the superuser,
-- each file once, recorded in federal_schema.

CREATE TABLE federal_provider_months (
    region_id uuid NOT NULL,
    provider_id uuid NOT NULL,
    month date NOT NULL CHECK (month = date_trunc('month', month)::date),
    visits integer NOT NULL DEFAULT 0,
    ended integer NOT NULL DEFAULT 0,
    confirmed integer NOT NULL DEFAULT 0,
    cancelled integer NOT NULL DEFAULT 0,
    attempted integer NOT NULL DEFAULT 0,
    rated_1 integer NOT NULL DEFAULT 0,
    rated_2 integer NOT NULL DEFAULT 0,
    rated_3 integer NOT NULL DEFAULT 0,
    rated_4 integer NOT NULL DEFAULT 0,
    rated_5 integer NOT NULL DEFAULT 0,
    paid_visits integer NOT NULL DEFAULT 0,
    paid_kopecks bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (region_id, provider_id, month)
);

-- The federal figures: per region and month, and per month over every region.
CREATE VIEW federal_region_months AS
SELECT region_id, month, count(*) AS providers,
       sum(visits) AS visits, sum(ended) AS ended, sum(confirmed) AS confirmed,
       sum(cancelled) AS cancelled, sum(attempted) AS attempted,
       sum(rated_1) AS rated_1, sum(rated_2) AS rated_2, sum(rated_3) AS rated_3,
       sum(rated_4) AS rated_4, sum(rated_5) AS rated_5,
       sum(paid_visits) AS paid_visits, sum(paid_kopecks) AS paid_kopecks
FROM federal_provider_months
GROUP BY region_id, month;

CREATE VIEW federal_months AS
SELECT month, count(DISTINCT region_id) AS regions, count(*) AS providers,
       sum(visits) AS visits, sum(ended) AS ended, sum(confirmed) AS confirmed,
       sum(cancelled) AS cancelled, sum(attempted) AS attempted,
       sum(rated_1) AS rated_1, sum(rated_2) AS rated_2, sum(rated_3) AS rated_3,
       sum(rated_4) AS rated_4, sum(rated_5) AS rated_5,
       sum(paid_visits) AS paid_visits, sum(paid_kopecks) AS paid_kopecks
FROM federal_provider_months
GROUP BY month;
