/* The route table of carefactd: one line per feature module, each of which owns its
 * route fragment (its routes, roles and body caps). `carefactd routes` prints the
 * routes in this order; a test compares them with the paths of api/openapi.yaml so
 * the contract and the server cannot drift apart. A new module adds one line here. */
#include "be/applications.h"
#include "be/appointments.h"
#include "be/audit.h"
#include "be/complaints.h"
#include "be/corrections.h"
#include "be/devices.h"
#include "be/exchange.h"
#include "be/documents.h"
#include "be/feed.h"
#include "be/figures.h"
#include "be/ingest.h"
#include "be/ops.h"
#include "be/reference.h"
#include "be/register.h"
#include "be/review.h"
#include "be/router.h"
#include "be/satisfaction.h"
#include "be/session.h"
#include "be/trips.h"
#include "be/visits.h"
#include "be/web.h"
#include "be/webhooks.h"

static const struct be_module *const modules[] = {
    &be_ops_module, /* /healthz, /metrics */
    &be_accounts_module, /* /api/v1/session */
    &be_audit_module, /* /api/v1/audit */
    &be_devices_module, /* enrolment */
    &be_ingest_module, /* a terminal's event batches */
    &be_reference_module, /* a terminal's reference data */
    &be_visits_module, /* /api/v1/visits */
    &be_web_module, /* the dashboard and its live stream */
    &be_review_module, /* live, exceptions, resolve */
    &be_figures_module, /* /api/v1/figures */
    &be_register_module, /* the payment register */
    &be_corrections_module, /* corrections and the recipient's statement */
    &be_applications_module, /* applications: the public form, intake, decision */
    &be_exchange_module, /* applications' exports to the central system and its answers */
    &be_application_documents_module, /* an application's documents, its printable form */
    &be_feed_module, /* /api/v1/changes */
    &be_webhooks_module, /* /api/v1/webhooks: subscriptions and their delivery log */
    &be_appointments_module, /* appointments: slots, holds, the desk, figures */
    &be_satisfaction_module, /* surveys and the satisfaction figures */
    &be_complaints_module, /* complaints and the public comparison of providers */
    &be_trips_module, /* mobile brigade trips: plan, book, announce, the public page */
};

const struct be_route_table be_route_table = {modules, sizeof modules / sizeof modules[0]};
