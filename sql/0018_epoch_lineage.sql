-- The database epoch names the data's lineage, not its WAL timeline (issue 18).
--
-- 0001 hashed the timeline into database_epoch(), so every promotion of a replica made a
-- new epoch and every terminal of the region uploaded again. Under Patroni's
-- synchronous_mode a promoted standby holds every acknowledged commit (a commit is
-- answered only once the synchronous standby has it, and only that standby may be
-- promoted): a clean failover loses nothing and must keep the epoch. A restore from a
-- backup (pgBackRest, point in time or not) can lose acknowledged events, and so must make
-- a new one; it comes back with the same db_epoch row, system identifier and, like a
-- failover, a new timeline -- nothing in the restored cluster tells the two apart. So the
-- epoch is now the hash of db_epoch's id and the system identifier only, and whoever
-- restores says so: new_database_epoch(), run as the owner on the restored database
-- before carefactd is let in (tools/cluster restore does it). Loading into another cluster
-- (pg_dump/pg_restore) still changes the system identifier, so the epoch, on its own. A
-- restore that forgets new_database_epoch() is still caught by the sequence check (an
-- acknowledgement's acked_seq lower than the terminal was told before), terminal by
-- terminal (api/PROTOCOL.md section 9).
CREATE OR REPLACE FUNCTION database_epoch() RETURNS uuid
LANGUAGE sql STABLE AS $$
    WITH h AS (
        SELECT encode(sha256(convert_to(e.epoch::text || '/' || s.system_identifier::text,
                   'UTF8')), 'hex') AS x
        FROM db_epoch e, pg_control_system() s
    )
    -- Shaped as a version-8 UUID (RFC 9562: custom), so it is a valid UUID anywhere.
    SELECT (substr(x, 1, 12) || '8' || substr(x, 14, 3)
            || substr('89ab', (('x' || substr(x, 17, 1))::bit(4)::integer % 4) + 1, 1)
            || substr(x, 18, 15))::uuid
    FROM h
$$;

-- A restored database is another lineage: a new id, so a new epoch. The owner's only
-- (carefact_app holds SELECT on db_epoch and nothing on this function).
CREATE FUNCTION new_database_epoch() RETURNS uuid
LANGUAGE sql VOLATILE AS $$
    UPDATE db_epoch SET epoch = gen_random_uuid();
    SELECT database_epoch();
$$;
REVOKE EXECUTE ON FUNCTION new_database_epoch() FROM PUBLIC;
