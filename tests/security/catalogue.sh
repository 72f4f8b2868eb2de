#!/usr/bin/env bash
# Row-level security and the app role's privileges by construction (issue 12), checked
# on the catalogue of a freshly migrated database:
#   1. every table in the public schema has row-level security enabled and at least one
#      policy, except the tables allowed below, each with its reason;
#   2. every view is security_invoker (a plain view reads as its owner, past RLS);
#   3. carefact_app holds exactly the privileges the migrations grant it, as their
#      "GRANT ... ON ... TO carefact_app;" lines say: nothing more (no default privileges,
#      no grant from elsewhere, no column grant), nothing less;
#   4. carefact_app is subject to RLS (not a superuser, no BYPASSRLS, owns nothing).
# A new table without a policy, or a privilege no migration declares, fails here.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
carefactd="$CF_BINARY_DIR/backend/carefactd"
work=$(mktemp -d /tmp/cfcat.XXXXXX)
trap '"$CF_SOURCE_DIR/tools/pg" destroy "$work" >/dev/null 2>&1 || true' EXIT
db=$("$CF_SOURCE_DIR/tools/pg" start "$work" --owner-pid $$)
"$carefactd" migrate --db "$db" --sql-dir "$CF_SOURCE_DIR/sql" >"$work/migrate.log" 2>&1 ||
    fail "migrate: $(cat "$work/migrate.log")"
sql() { psql "$db" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

# Tables without row-level security, and why. Nothing else may be on this list without
# a reason a reviewer accepts.
allowed=(
    # ingest loads events with COPY, and PostgreSQL refuses COPY FROM into a table with
    # RLS for a role it applies to ("COPY FROM not supported with row-level security");
    # events are read only through a visit (scoped) and filtered by the visit's provider
    "events"
    # carefactd migrate's own bookkeeping: names of migration files, no provider data
    "schema_migrations"
    # the region's configuration (name, time zone, card-token key): one per deployment,
    # read by every request; no provider's data
    "regions"
    # the service catalogue (codes, norms, tariffs): the same for every provider
    "services"
    # the flag thresholds: one configuration row
    "visit_thresholds"
    # the database epoch: one random id
    "db_epoch"
    # login throttling (sql/0012): hashes of login texts and client addresses, written
    # before anyone is known (no provider to scope by); no provider's data
    "login_throttle"
    # card signatures already accepted (sql/0013): SHA-256 digests of card-signed data and
    # the event they came with, nothing of a provider's data; a replayed signature must be
    # found whichever provider's terminal sent it first, which a provider's scope would hide
    "card_sdads"
    # the region's offices (sql/0019): where applications are taken in and decided; the
    # public form lists them; no provider's or applicant's data
    "offices"
    # the region's calendar of holidays and transferred working days (sql/0019)
    "calendar_days"
    # the legal transitions of an application (sql/0019): rules, not data
    "application_transitions"
    # an office's booking settings, opening hours and closures (sql/0021): configuration
    # of the region, the public slot page reads them; no provider's or person's data
    "office_booking"
    "office_hours"
    "office_closures"
    # the legal transitions of an appointment (sql/0021): rules, not data
    "appointment_transitions"
    # survey instruments, their versions and questions (sql/0026): the same questions for
    # every provider and office, read by the public survey page; no provider's or
    # person's data (the answers, survey_responses, have row-level security)
    "survey_instruments"
    "survey_instrument_versions"
    "survey_questions"
    # complaint causes (codes and their Russian labels) and the legal transitions of a
    # complaint (sql/0027): rules, not data
    "complaint_causes"
    "complaint_transitions"
    # the legal transitions of a mobile brigade's trip (sql/0031): rules, not data
    "trip_transitions"
    # when each visit key's first event was received (sql/0036): a key and a time, what
    # bounds a read of the key's events to the months since; written by a trigger on
    # events (as the owner), read by the rebuild, which a provider's scope must not narrow
    "visit_first_received"
    # the change feed's horizon (sql/0037): one position, below which changes may be gone
    "changes_expired"
)
allowed_sql=$(printf "'%s'," "${allowed[@]}")
allowed_sql=${allowed_sql%,}

# 1. Tables without RLS or without a policy.
open=$(sql "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
              -- a partition (of events, sql/0014) is read and written through its parent,
              -- whose rules apply; carefact_app holds no privilege on it directly
              AND NOT c.relispartition
              AND (NOT c.relrowsecurity
                   OR NOT EXISTS (SELECT 1 FROM pg_policies p
                                  WHERE p.schemaname = 'public' AND p.tablename = c.relname))
              AND c.relname NOT IN ($allowed_sql)
            ORDER BY 1")
[ -z "$open" ] || fail "tables without row-level security and a policy (add them, or to the allow-list with a reason): $open"
# An allowed table that has RLS after all should leave the list.
for t in "${allowed[@]}"; do
    [ "$(sql "SELECT count(*) FROM pg_class WHERE relname = '$t' AND relnamespace = 'public'::regnamespace")" = 1 ] ||
        fail "allow-list names '$t', which is not a table of the schema"
done

# 2. Views read as the caller.
definer=$(sql "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'public' AND c.relkind = 'v'
                 AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false)
               ORDER BY 1")
[ -z "$definer" ] || fail "views that read as their owner, past row-level security: $definer"

# 3. carefact_app's privileges: held (catalogue) against declared (the migrations).
sql "SELECT c.relname || ' ' || a.privilege_type
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
          aclexplode(c.relacl) a
     WHERE n.nspname = 'public' AND a.grantee = 'carefact_app'::regrole" | sort >"$work/held"
# GRANT p1, p2 ON [TABLE|SEQUENCE] t1, t2 TO carefact_app;  (one line each, schema grants aside)
grep -h '^GRANT .* TO carefact_app;$' "$CF_SOURCE_DIR"/sql/[0-9][0-9][0-9][0-9]_*.sql |
    grep -v ' ON SCHEMA ' |
    sed -E 's/^GRANT (.*) ON (TABLE |SEQUENCE )?(.*) TO carefact_app;$/\1|\3/' |
    while IFS='|' read -r privileges tables; do
        IFS=', ' read -ra ps <<<"$privileges"
        IFS=', ' read -ra ts <<<"$tables"
        for t in "${ts[@]}"; do for p in "${ps[@]}"; do [ -n "$t" ] && [ -n "$p" ] && echo "$t $p"; done; done
    done | sort -u >"$work/declared"
[ -s "$work/declared" ] || fail "no GRANT ... TO carefact_app lines found in sql/"
if ! diff -u "$work/declared" "$work/held" >"$work/diff"; then
    cat "$work/diff" >&2
    fail "carefact_app's privileges differ from what the migrations grant (+ held, not declared; - declared, not held)"
fi
[ "$(sql "SELECT count(*) FROM pg_default_acl")" = 0 ] ||
    fail "default privileges are set: new tables must be closed until a migration grants them"
columns=$(sql "SELECT a.attrelid::regclass || '.' || a.attname FROM pg_attribute a, aclexplode(a.attacl) x
               WHERE x.grantee = 'carefact_app'::regrole")
[ -z "$columns" ] || fail "column privileges not declared as table grants: $columns"

# 4. The app role is one row-level security applies to.
[ "$(sql "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = 'carefact_app'")" = f ] ||
    fail "carefact_app is a superuser or bypasses RLS"
owned=$(sql "SELECT relname FROM pg_class WHERE relowner = 'carefact_app'::regrole")
[ -z "$owned" ] || fail "carefact_app owns $owned"

echo "catalogue: $(wc -l <"$work/held") privileges of carefact_app, all declared; every provider table has RLS and a policy"
