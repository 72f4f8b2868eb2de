# Integration tests (label integration): the private-PostgreSQL helper, and carefactd's
# HTTP API over loopback against a real carefactd and a private PostgreSQL (C programs on
# tests/support's harness, seeded with SQL or with signed batches from an enrolled test
# terminal), then the contract check of every exchange they recorded.

# The private-PostgreSQL helper every database test relies on.
cf_add_test(NAME integration.tools.pg LABEL integration TIMEOUT 180
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_pg_helper.sh)

if(NOT TARGET carefactd)
  return()
endif()

# The contract check: the recordings of the tests marked CONTRACT (below, and
# security.auth in security.cmake) are validated against api/openapi.yaml once they have
# all run, and every operation and documented status must have been exchanged; each run
# starts fresh recordings.
add_test(NAME integration.backend.contract_reset
  COMMAND sh -c "rm -f '${CF_CONTRACT_DIR}'/*.jsonl")
set_tests_properties(integration.backend.contract_reset PROPERTIES LABELS integration
  FIXTURES_SETUP contract_recording)
cf_add_test(NAME integration.backend.contract LABEL integration TIMEOUT 120
  COMMAND node ${CMAKE_CURRENT_SOURCE_DIR}/contract/validate.mjs
          ${CMAKE_SOURCE_DIR}/api/openapi.yaml ${CF_CONTRACT_DIR})
set_tests_properties(integration.backend.contract PROPERTIES FIXTURES_REQUIRED contract_recorded)

# Device enrolment and signed event ingest: acknowledgements, replays, tampering, gaps,
# bad input, late and out-of-order arrival, the visit rebuilt, two instances, a database
# restart, the terminal's reference data.
cf_add_server_test(NAME integration.backend.ingest LABEL integration TIMEOUT 300 CONTRACT
                   SOURCE integration/test_ingest.c)
# Visit ownership and payment (issue 13): a visit is its opening terminal's (another
# terminal's event for it is refused 409, audited, never 5xx), one rating, card
# confirmation only for the provider's certified recipient, unknown recipients never
# paid; the forked chain refused (issue 19).
cf_add_server_test(NAME integration.backend.ownership LABEL integration TIMEOUT 180 CONTRACT
                   SOURCE integration/test_ownership.c)
# Visit corrections and the recipient's statement (issue 6).
cf_add_server_test(NAME integration.backend.corrections LABEL integration TIMEOUT 180 CONTRACT
                   SOURCE integration/test_corrections.c)
# Figures per worker, service, provider and day (issue 6).
cf_add_server_test(NAME integration.backend.figures LABEL integration TIMEOUT 180 CONTRACT
                   SOURCE integration/test_figures.c)
# The payment register, its totals compared with an independent computation from the raw
# events (issue 6).
cf_add_server_test(NAME integration.backend.register LABEL integration TIMEOUT 240 CONTRACT
                   SOURCE integration/test_register.c)
# The manager's review: live visits, the exception queue and resolutions (issue 6).
cf_add_server_test(NAME integration.backend.review LABEL integration TIMEOUT 180 CONTRACT
                   SOURCE integration/test_review.c)

# The change feed (issue 20): concurrent writers committing out of order and a consumer
# restarting from its stored cursor see every change once, in order; the real paths'
# changes; the manager's scope.
cf_add_server_test(NAME integration.backend.changes LABEL integration TIMEOUT 240 CONTRACT
                   SOURCE integration/test_changes.c)

# Webhooks (issue 20): a local receiver (tests/support/webhook_receiver.mjs, node) that
# fails, times out, answers slowly and is down for a scaled hour; a carefactd restart; a
# subscription disabled after its failures and enabled by hand; the receiver's recipe.
cf_add_server_test(NAME integration.backend.webhooks LABEL integration TIMEOUT 240 CONTRACT
                   SOURCE integration/test_webhooks.c)

# The comment limit end to end: 1000 characters (2000 bytes of Cyrillic) stored and
# served, 1001 refused naming the field (issue 13).
cf_add_server_test(NAME integration.backend.comment_limit LABEL integration TIMEOUT 120
                   SOURCE integration/test_comment_limit.c)

# Every visit flag at its boundary from signed events (issues 13, 19): the rules of 0005
# and the integrity flags of 0011, with the exception queue and the figures compared.
cf_add_server_test(NAME integration.backend.flags LABEL integration TIMEOUT 240 CONTRACT
                   SOURCE integration/test_flags.c)

# Applications (issue 15): the citizen's form and status page, intake, check, return with
# a reason, assessment and decision, legal transitions by role, working-day deadlines, the
# journal, offices seeing their own.
cf_add_server_test(NAME integration.backend.applications LABEL integration TIMEOUT 180 CONTRACT
                   SOURCE integration/test_applications.c)
# The applications' exchange with the central system (issue 20): exports taking each
# decision once (also four at once), the document fetched again, answers recorded once,
# the journal, applications in the change feed scoped like the applications.
cf_add_server_test(NAME integration.backend.exchange LABEL integration TIMEOUT 180 CONTRACT
                   SOURCE integration/test_exchange.c LIBS Threads::Threads)
# An application's documents and its printable form (issue 15): sniffed uploads and the
# refusals (HTML, SVG, polyglots, a lying Content-Type), the caps, duplicates, download
# headers, removal rules, offices seeing their own, the form escaped.
cf_add_server_test(NAME integration.backend.documents LABEL integration TIMEOUT 180 CONTRACT
                   SOURCE integration/test_documents.c LIBS OpenSSL::Crypto)
# The applications' funnel (issue 15): applications through their states in two offices,
# filings dated back, the approvals' recipients visited through ingest (card at both ends,
# at the start only), counts and days-to-first-visit median/p90 computed independently.
cf_add_server_test(NAME integration.backend.funnel LABEL integration TIMEOUT 180 CONTRACT
                   SOURCE integration/test_funnel.c)
# Appointments (issue 16): slots, holds, one slot booked from 50 concurrent clients gives
# exactly one success, holds expiring, closures, the per-person limit, the state
# machine, rescheduling, offices seeing their own, the day's figures computed apart.
cf_add_server_test(NAME integration.backend.trips LABEL integration TIMEOUT 180 CONTRACT
                   SOURCE integration/test_trips.c)
cf_add_server_test(NAME integration.backend.appointments LABEL integration TIMEOUT 240 CONTRACT
                   SOURCE integration/test_appointments.c LIBS m Threads::Threads)
# Acts recorded offline on a terminal (issues 15, 16; api/PROTOCOL.md 4.6, 11.3): two
# filings, a home-survey act and an aid's hand-over by card in one batch, applied exactly
# once (the batch again stores nothing), the status by the terminal's receipt, the acts
# read by staff (another office 404, no scope no rows), a bad body refused with its field.
cf_add_server_test(NAME integration.backend.acts LABEL integration TIMEOUT 180 CONTRACT
                   SOURCE integration/test_acts.c)
# Satisfaction (issue 16): the Wilson rule's exact cases, seeded providers whose bounds
# and statuses the test computes itself, coverage, low ratings followed up in working
# days, the reproducible follow-up sample and courtesy bias, the citizen's answers.
cf_add_server_test(NAME integration.backend.satisfaction LABEL integration TIMEOUT 180 CONTRACT
                   SOURCE integration/test_satisfaction.c LIBS m)

# The HTTP edge: body caps and roles checked before the body is read, bad query values
# (class 22, cursors) answered 400 not 503, per-route caps.
cf_add_server_test(NAME integration.backend.edge LABEL integration TIMEOUT 180
                   SOURCE integration/test_edge.c)

# `carefactd routes` against api/openapi.yaml; carefactd as an administrator runs it
# (two instances migrating at once, settings, SIGTERM draining).
add_test(NAME integration.backend.routes_match_spec
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_routes_spec.sh)
set_tests_properties(integration.backend.routes_match_spec PROPERTIES LABELS integration
  TIMEOUT 60 ENVIRONMENT "CF_SOURCE_DIR=${CMAKE_SOURCE_DIR};CF_BINARY_DIR=${CMAKE_BINARY_DIR}")
cf_add_test(NAME integration.backend.server_ops LABEL integration TIMEOUT 180
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_server_ops.sh)

# The card proof (issue 14): visits whose confirmations carry EMV offline data
# authentication made by tools/emv-pki for each event's challenge, verified by carefactd
# against a test CA made at test time (--emv-ca-keys): levels, each negative card's
# failure as a must-fix exception, replays, a terminal without the card, the region's
# payable level in the register, the figures' share of dynamic proofs.
if(TARGET emv_pki)
  cf_add_server_test(NAME integration.backend.card_proof LABEL integration TIMEOUT 300 CONTRACT
                     SOURCE integration/test_card_proof.c LIBS emv_pki)
endif()

# carefactd alone against clients that hold connections (issue 18): idle sockets, bodies
# trickling in, one address or person holding live streams; /healthz and a device
# upload answer throughout, the offenders are answered 429/408 and closed in time.
cf_add_server_test(NAME integration.backend.slow_clients LABEL integration TIMEOUT 180
                   SOURCE integration/test_slow_clients.c)

# Growth (issue 18, sql/0014): events partitioned by month with (device, seq) still
# stored once (across months, in a statement, racing), partitions ahead and a missing
# month's error, pruning in ingest_finish's plans, the integrity queue judged at start.
cf_add_test(NAME integration.backend.partitions LABEL integration TIMEOUT 120
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_partitions.sh)
cf_add_server_test(NAME integration.backend.complaints LABEL integration TIMEOUT 180 CONTRACT
                   SOURCE integration/test_complaints.c LIBS m)
