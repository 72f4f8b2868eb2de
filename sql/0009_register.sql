-- The monthly payment register (issue 6): per provider per month (the month in the
-- region's local time), the visits paid and the visits excluded with their reason.
-- A draft is not stored: register_compute() derives it from visit_effective (0008) on
-- every read. Submitting snapshots it into register_lines / register_excluded with the
-- tariffs of that moment; approving keeps exactly that snapshot, and an approved
-- register never changes (triggers below). See backend/README.md, "Payment register".
--
-- Billing month. A visit counts in the register of its own local month, unless that
-- month's register was already submitted or approved: then a visit not claimed by any
-- stored register (it arrived, ended, was confirmed or undisputed after the snapshot)
-- goes to the next open month, greatest(own month, month after the provider's latest
-- submitted/approved register), marked late with its own month. A visit claimed by a
-- stored register (one of its included lines) is never paid again; a visit listed as
-- excluded by a stored register and still excluded is not listed again. A provider's
-- registers are submitted month after month; months before its first submitted one
-- are not billed here (history before the register was used is not swept in).

CREATE TABLE registers (
    provider_id uuid NOT NULL REFERENCES providers,
    month date NOT NULL CHECK (month = date_trunc('month', month)::date),
    state text NOT NULL CHECK (state IN ('draft', 'submitted', 'approved')),
    included_count integer NOT NULL DEFAULT 0,
    excluded_count integer NOT NULL DEFAULT 0,
    total_kopecks bigint NOT NULL DEFAULT 0,
    submitted_at timestamptz,
    submitted_by text,
    approved_at timestamptz,
    approved_by text,
    returned_at timestamptz,
    returned_by text,
    returned_reason text CHECK (length(returned_reason) <= 2000),
    PRIMARY KEY (provider_id, month),
    CHECK (state = 'draft' OR (submitted_at IS NOT NULL AND submitted_by IS NOT NULL)),
    CHECK (state <> 'approved' OR (approved_at IS NOT NULL AND approved_by IS NOT NULL))
);

-- One line per service of an included visit (a visit with no services: one line with
-- no service and amount 0). Tariff and name as they were at submission.
CREATE TABLE register_lines (
    provider_id uuid NOT NULL,
    month date NOT NULL,
    visit_id uuid NOT NULL REFERENCES visits,
    line_no integer NOT NULL,
    visit_at timestamptz NOT NULL,
    worker_id uuid NOT NULL,
    recipient_id uuid,
    service_code text,
    service_name text,
    quantity integer NOT NULL,
    tariff_kopecks bigint NOT NULL,
    amount_kopecks bigint NOT NULL CHECK (amount_kopecks = quantity * tariff_kopecks),
    late boolean NOT NULL,
    original_month date NOT NULL,
    PRIMARY KEY (provider_id, month, visit_id, line_no),
    FOREIGN KEY (provider_id, month) REFERENCES registers
);
CREATE INDEX register_lines_visit ON register_lines (visit_id);

CREATE TABLE register_excluded (
    provider_id uuid NOT NULL,
    month date NOT NULL,
    visit_id uuid NOT NULL REFERENCES visits,
    visit_at timestamptz NOT NULL,
    worker_id uuid NOT NULL,
    recipient_id uuid,
    reason text NOT NULL CHECK (reason IN ('cancelled', 'attempted', 'not_ended',
        'start_not_confirmed', 'end_not_confirmed', 'disputed', 'must_fix')),
    late boolean NOT NULL,
    original_month date NOT NULL,
    PRIMARY KEY (provider_id, month, visit_id),
    FOREIGN KEY (provider_id, month) REFERENCES registers
);
CREATE INDEX register_excluded_visit ON register_excluded (visit_id);

-- ==== Immutability ====

-- An approved register and its lines never change. Lines are written only while their
-- register is submitted (the snapshot) and removed only from a submitted register being
-- returned to draft; no line is ever updated.
CREATE FUNCTION register_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.state = 'approved' THEN
        RAISE EXCEPTION 'register %/% is approved and cannot change', OLD.provider_id, OLD.month;
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER registers_approved_frozen BEFORE UPDATE OR DELETE ON registers
    FOR EACH ROW EXECUTE FUNCTION register_guard();

CREATE FUNCTION register_line_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record := CASE TG_OP WHEN 'INSERT' THEN NEW ELSE OLD END;
    s text;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION '% rows are never updated', TG_TABLE_NAME;
    END IF;
    SELECT state INTO s FROM registers WHERE provider_id = r.provider_id AND month = r.month;
    IF s IS DISTINCT FROM 'submitted' THEN
        RAISE EXCEPTION '% of register %/% (%) cannot change', TG_TABLE_NAME, r.provider_id,
            r.month, coalesce(s, 'missing');
    END IF;
    RETURN r;
END
$$;
CREATE TRIGGER register_lines_guard BEFORE INSERT OR UPDATE OR DELETE ON register_lines
    FOR EACH ROW EXECUTE FUNCTION register_line_guard();
CREATE TRIGGER register_excluded_guard BEFORE INSERT OR UPDATE OR DELETE ON register_excluded
    FOR EACH ROW EXECUTE FUNCTION register_line_guard();
CREATE TRIGGER registers_no_truncate BEFORE TRUNCATE ON registers
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER register_lines_no_truncate BEFORE TRUNCATE ON register_lines
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER register_excluded_no_truncate BEFORE TRUNCATE ON register_excluded
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- ==== Row-level security ====

ALTER TABLE registers ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_provider ON registers USING (provider_visible(provider_id));
ALTER TABLE register_lines ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_provider ON register_lines USING (provider_visible(provider_id));
ALTER TABLE register_excluded ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_provider ON register_excluded USING (provider_visible(provider_id));
-- The server keeps no UPDATE on lines (never updated) and no TRUNCATE anywhere (the
-- triggers refuse it too).
GRANT SELECT, INSERT, UPDATE ON registers TO carefact_app;
GRANT SELECT, INSERT, DELETE ON register_lines TO carefact_app;
GRANT SELECT, INSERT, DELETE ON register_excluded TO carefact_app;

-- ==== The register as it would be now ====

-- The visits billed to (provider, month) that no stored register holds, one row per
-- service of an included visit (reason NULL) and one row per excluded visit (reason
-- set, no service). Reasons, the first that applies: cancelled, attempted, not_ended
-- (started, never ended), start_not_confirmed, end_not_confirmed (by the recipient's
-- own bound card, or a guardian's), disputed, must_fix (0008's must_fix_open) -- what
-- happened first, then the proof, then a person's hold. Services and the two holds
-- come from visit_effective, so corrections count. Reads under the caller's row-level
-- security (not SECURITY DEFINER).
--
-- How it is planned matters at a busy provider-month (21,500 visits, 42,000 lines; see
-- backend/README.md, "Performance"): the month's bounds are uncorrelated sub-SELECTs
-- (InitPlans, computed first), so they bound the scan of visits_provider_sort instead of
-- filtering all the provider's visits; c is MATERIALIZED, so the reason (with
-- visit_effective's must_fix_open probe) is computed once per visit, not once per line;
-- ROWS 20000 is the size of such a month, so callers join the names of workers and
-- recipients by hash and sort in memory — ROWS counts only when the function is not
-- inlined, and its SET clause (JIT off, which carefactd's queries never want) is what
-- keeps PostgreSQL from inlining it. No caller filters its rows, so inlining gains nothing.
CREATE FUNCTION register_compute(p_provider uuid, p_month date)
RETURNS TABLE (visit_id uuid, visit_at timestamptz, worker_id uuid, recipient_id uuid,
               reason text, late boolean, original_month date, line_no integer,
               service_code text, service_name text, quantity integer, tariff_kopecks bigint)
LANGUAGE sql STABLE ROWS 20000 SET jit = off AS $$
WITH p AS (
    SELECT pr.id, rg.timezone, b.first_month, b.last_month
    FROM providers pr
    JOIN regions rg ON rg.id = pr.region_id
    CROSS JOIN LATERAL (SELECT min(r.month) AS first_month, max(r.month) AS last_month
                        FROM registers r
                        -- earlier months only: while submitting, p_month is stored too
                        WHERE r.provider_id = pr.id AND r.state <> 'draft'
                          AND r.month < p_month) b
    WHERE pr.id = p_provider
), w AS (
    SELECT p.id, p.timezone,
           p_month::timestamp AT TIME ZONE p.timezone AS m_start,
           (p_month + interval '1 month') AT TIME ZONE p.timezone AS m_end,
           -- only the next open month collects late visits, from the first billed month
           CASE WHEN p_month = p.last_month + interval '1 month'
                THEN p.first_month::timestamp AT TIME ZONE p.timezone END AS late_from
    FROM p
), c AS MATERIALIZED (
    SELECT ve.id, ve.sort_at, ve.worker_id, ve.recipient_id,
           ve.effective_service_codes, ve.effective_service_quantities,
           ve.sort_at < w.m_start AS late,
           date_trunc('month', ve.sort_at AT TIME ZONE w.timezone)::date AS own_month,
           CASE WHEN ve.state = 'cancelled' THEN 'cancelled'
                WHEN ve.state = 'attempted' THEN 'attempted'
                WHEN ve.state NOT IN ('ended', 'rated') THEN 'not_ended'
                WHEN NOT ve.start_confirmed THEN 'start_not_confirmed'
                WHEN NOT ve.end_confirmed THEN 'end_not_confirmed'
                WHEN ve.disputed THEN 'disputed'
                WHEN ve.must_fix_open THEN 'must_fix' END AS reason
    FROM w
    JOIN visit_effective ve ON ve.provider_id = w.id
     AND ve.sort_at >= (SELECT coalesce(w1.late_from, w1.m_start) FROM w w1)
     AND ve.sort_at < (SELECT w1.m_end FROM w w1)
    WHERE NOT EXISTS (SELECT 1 FROM register_lines l WHERE l.visit_id = ve.id)
), billed AS (
    SELECT c.* FROM c
    WHERE NOT (c.late AND c.reason IS NOT NULL
               AND EXISTS (SELECT 1 FROM register_excluded x WHERE x.visit_id = c.id))
)
SELECT b.id, b.sort_at, b.worker_id, b.recipient_id, b.reason, b.late, b.own_month,
       coalesce(s.n, 1)::integer, s.code, sv.name, coalesce(s.quantity, 0),
       coalesce(sv.tariff_kopecks, 0)
FROM billed b
LEFT JOIN LATERAL unnest(b.effective_service_codes, b.effective_service_quantities)
    WITH ORDINALITY s(code, quantity, n) ON b.reason IS NULL
LEFT JOIN services sv ON sv.code = s.code
$$;

-- Totals of a computed register.
CREATE FUNCTION register_totals(p_provider uuid, p_month date,
                                OUT included_count integer, OUT excluded_count integer,
                                OUT total_kopecks bigint)
LANGUAGE sql STABLE AS $$
    SELECT count(DISTINCT c.visit_id) FILTER (WHERE c.reason IS NULL)::integer,
           count(*) FILTER (WHERE c.reason IS NOT NULL)::integer,
           coalesce(sum(c.quantity::bigint * c.tariff_kopecks) FILTER (WHERE c.reason IS NULL), 0)::bigint
    FROM register_compute(p_provider, p_month) c
$$;

-- ==== State changes ====
-- Each returns 'ok' or why not: 'state:<current state>', 'month-open' (the month has not
-- ended in the region's time), 'order:<YYYY-MM>' (registers go month after month:
-- submit the month after the latest submitted one, named; return the latest, named,
-- first), 'missing' (no such
-- provider visible to the caller). The provider's row is locked, so two changes of one
-- provider's registers are serialised; the snapshot is one statement (one view of the
-- data). The caller writes the audit row in the same transaction.

CREATE FUNCTION register_submit(p_provider uuid, p_month date, p_by text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    tz text;
    cur text;
    last_month date;
BEGIN
    SELECT rg.timezone INTO tz FROM providers pr JOIN regions rg ON rg.id = pr.region_id
    WHERE pr.id = p_provider FOR UPDATE OF pr;
    IF NOT FOUND THEN
        RETURN 'missing';
    END IF;
    SELECT state INTO cur FROM registers WHERE provider_id = p_provider AND month = p_month;
    IF coalesce(cur, 'draft') <> 'draft' THEN
        RETURN 'state:' || cur;
    END IF;
    IF (p_month + interval '1 month') AT TIME ZONE tz > now() THEN
        RETURN 'month-open';
    END IF;
    SELECT max(month) INTO last_month FROM registers
    WHERE provider_id = p_provider AND state <> 'draft';
    IF last_month IS NOT NULL AND p_month <> last_month + interval '1 month' THEN
        RETURN 'order:' || to_char(last_month, 'YYYY-MM');
    END IF;
    INSERT INTO registers (provider_id, month, state, submitted_at, submitted_by)
    VALUES (p_provider, p_month, 'submitted', now(), p_by)
    ON CONFLICT (provider_id, month) DO UPDATE SET
        state = 'submitted', submitted_at = now(), submitted_by = p_by,
        returned_at = NULL, returned_by = NULL, returned_reason = NULL;
    WITH c AS MATERIALIZED (
        SELECT * FROM register_compute(p_provider, p_month)
    ), li AS (
        INSERT INTO register_lines (provider_id, month, visit_id, line_no, visit_at, worker_id,
                                    recipient_id, service_code, service_name, quantity,
                                    tariff_kopecks, amount_kopecks, late, original_month)
        SELECT p_provider, p_month, c.visit_id, c.line_no, c.visit_at, c.worker_id,
               c.recipient_id, c.service_code, c.service_name, c.quantity, c.tariff_kopecks,
               c.quantity::bigint * c.tariff_kopecks, c.late, c.original_month
        FROM c WHERE c.reason IS NULL
    ), ex AS (
        INSERT INTO register_excluded (provider_id, month, visit_id, visit_at, worker_id,
                                       recipient_id, reason, late, original_month)
        SELECT p_provider, p_month, c.visit_id, c.visit_at, c.worker_id, c.recipient_id,
               c.reason, c.late, c.original_month
        FROM c WHERE c.reason IS NOT NULL
    )
    UPDATE registers r SET
        included_count = t.inc, excluded_count = t.exc, total_kopecks = t.total
    FROM (SELECT count(DISTINCT c.visit_id) FILTER (WHERE c.reason IS NULL)::integer AS inc,
                 count(*) FILTER (WHERE c.reason IS NOT NULL)::integer AS exc,
                 coalesce(sum(c.quantity::bigint * c.tariff_kopecks)
                          FILTER (WHERE c.reason IS NULL), 0)::bigint AS total
          FROM c) t
    WHERE r.provider_id = p_provider AND r.month = p_month;
    RETURN 'ok';
END
$$;

CREATE FUNCTION register_approve(p_provider uuid, p_month date, p_by text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    cur text;
BEGIN
    PERFORM 1 FROM providers WHERE id = p_provider FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'missing';
    END IF;
    SELECT state INTO cur FROM registers WHERE provider_id = p_provider AND month = p_month;
    IF coalesce(cur, 'draft') <> 'submitted' THEN
        RETURN 'state:' || coalesce(cur, 'draft');
    END IF;
    UPDATE registers SET state = 'approved', approved_at = now(), approved_by = p_by
    WHERE provider_id = p_provider AND month = p_month;
    RETURN 'ok';
END
$$;

CREATE FUNCTION register_return(p_provider uuid, p_month date, p_by text, p_reason text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    cur text;
    later date;
BEGIN
    PERFORM 1 FROM providers WHERE id = p_provider FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'missing';
    END IF;
    SELECT state INTO cur FROM registers WHERE provider_id = p_provider AND month = p_month;
    IF coalesce(cur, 'draft') <> 'submitted' THEN
        RETURN 'state:' || coalesce(cur, 'draft');
    END IF;
    SELECT max(month) INTO later FROM registers
    WHERE provider_id = p_provider AND month > p_month AND state <> 'draft';
    IF later IS NOT NULL THEN
        RETURN 'order:' || to_char(later, 'YYYY-MM');
    END IF;
    DELETE FROM register_lines WHERE provider_id = p_provider AND month = p_month;
    DELETE FROM register_excluded WHERE provider_id = p_provider AND month = p_month;
    UPDATE registers SET state = 'draft', included_count = 0, excluded_count = 0,
        total_kopecks = 0, submitted_at = NULL, submitted_by = NULL, returned_at = now(),
        returned_by = p_by, returned_reason = p_reason
    WHERE provider_id = p_provider AND month = p_month;
    RETURN 'ok';
END
$$;
