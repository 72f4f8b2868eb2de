-- The statements every connection prepares (db.c, enum be_stmt): the hot paths of
-- ingest, the device check of reference, and the audit row. Embedded at build time
-- (tools/sql_embed.c): "-- name: X" is sql_X in C.

-- name: device_lock
-- $1 device: worker, provider, key (hex), revoked, last seq and digest; locked.
SELECT d.worker_id, w.provider_id, encode(d.public_key, 'hex'), d.status = 'revoked',
       d.last_seq, encode(d.last_digest, 'hex')
FROM devices d JOIN workers w ON w.id = d.worker_id
WHERE d.id = $1::uuid FOR UPDATE OF d

-- name: held_digests
-- $1 device, $2 first seq, $3 last seq: the digests held.
SELECT seq, encode(digest, 'hex') FROM events
WHERE device_id = $1::uuid AND seq BETWEEN $2::bigint AND $3::bigint ORDER BY seq

-- name: ingest_finish
-- $1 device, $2 after seq, $3 last seq, $4 last digest (hex): visits written; on a
-- refusal (a visit of another terminal) the refused seq, its visit, the owner device
SELECT visits, refused_seq, refused_visit, owner_device
FROM ingest_finish($1::uuid, $2::bigint, $3::bigint, decode($4, 'hex'))

-- name: card_check_ins
-- $1 device, $2 after seq, $3 last seq: the appointments its appointment.checked_in
-- events checked in by card (sql/0028)
SELECT appointment_card_check_ins($1::uuid, $2::bigint, $3::bigint)

-- name: device_status
SELECT status FROM devices WHERE id = $1::uuid

-- name: audit
-- $1 actor, $2 action, $3 subject, $4 reason, $5 details (JSON)
INSERT INTO audit_log (actor, action, subject, reason, details)
VALUES ($1, $2, $3, $4, $5::jsonb)

-- The integrity of what uploads changed, judged after their commit (sql/0014_growth.sql,
-- ingest.c judge_integrity): the worker's drain lock (the key visit_integrity_drain
-- takes), one drain in a transaction of its own (the number of uploads judged), the
-- unlock, and whether any upload of the worker is still queued.
-- name: integrity_lock
SELECT pg_try_advisory_lock(hashtextextended('visit_integrity:' || $1::uuid, 0))

-- name: integrity_drain
SELECT visit_integrity_drain($1::uuid)

-- name: integrity_unlock
SELECT pg_advisory_unlock(hashtextextended('visit_integrity:' || $1::uuid, 0))

-- name: integrity_pending
SELECT EXISTS (SELECT 1 FROM visit_integrity_queue WHERE worker_id = $1::uuid)

-- name: upkeep
-- Not prepared: the upkeep's pass (upkeep.c), as '*': the month partitions of events
-- ahead, every queued integrity judgement (what an instance that died left), then the
-- change feed's expired changes (sql/0037)
SELECT events_partitions_ensure(), visit_integrity_drain(), changes_expire()

-- name: serving_role
-- Not prepared: read once at start-up by be_db_check_serving_role. The role, whether it
-- is a superuser or bypasses row-level security, and one public table or view it owns
-- (directly or through a role it belongs to), if any.
SELECT current_user, r.rolsuper, r.rolbypassrls,
       (SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
          AND pg_has_role(current_user, c.relowner, 'USAGE')
        ORDER BY c.relname LIMIT 1)
FROM pg_roles r WHERE r.rolname = current_user

-- name: sdad_reuse
-- $1 SDAD digests (hex, text[]), $2 whether each was accepted (boolean[]), $3 the seq of
-- each event, $4 device: records the accepted ones in card_sdads (sql/0013) and returns
-- (hex) those already there -- a replayed card signature. A concurrent upload of the same
-- digest waits on the unique key, then conflicts: it is returned as reused.
WITH x AS (
    SELECT decode(u.h, 'hex') AS d, u.a, u.s
    FROM unnest($1::text[], $2::boolean[], $3::bigint[]) AS u(h, a, s)
), known AS (
    SELECT c.sdad_digest FROM card_sdads c WHERE c.sdad_digest IN (SELECT d FROM x)
), ins AS (
    INSERT INTO card_sdads (sdad_digest, device_id, seq)
    SELECT x.d, $4::uuid, x.s FROM x
    WHERE x.a AND x.d NOT IN (SELECT sdad_digest FROM known)
    ON CONFLICT DO NOTHING
    RETURNING sdad_digest
)
SELECT encode(x.d, 'hex') FROM x
WHERE x.d IN (SELECT sdad_digest FROM known)
   OR (x.a AND x.d NOT IN (SELECT sdad_digest FROM ins))

-- name: terminal_acts
-- $1 device, $2 the seq held before the upload, $3 its last seq: the upload's act events
-- applied (sql/0032 terminal_acts_apply), how many.
SELECT terminal_acts_apply($1::uuid, $2::bigint, $3::bigint)
