/* Prometheus metrics of one carefactd process (see be/metrics.h). Fixed tables of
 * C11 atomics, so recording never locks or allocates on the request path. */
#include "be/metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUTES_MAX 64
/* One slot per HTTP status 100-599, so every status sent is counted under its own code
 * (a list of the expected ones once put 304 and 429 under "0"); anything else, which
 * would be a bug, under "0". 65 x 501 counters, 260 KB of zeroes until used. */
#define STATUS_FIRST 100
#define STATUS_LAST 599
#define STATUS_SLOTS (STATUS_LAST - STATUS_FIRST + 2) /* the last slot: status "0" */
static const double buckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
#define BUCKETS (sizeof buckets / sizeof buckets[0])
static const char *const reasons[] = {
    "malformed-json",   "malformed-body", "validation",
    "too-large",        "tampering",      "sequence-gap",
    "bad-seal",         "unknown-device", "revoked-device",
    "enrollment-code",  "not-found",      "method-not-allowed",
    "unauthenticated",  "forbidden",      "csrf",
    "login-failed",     "login-locked",   "device-unauthenticated",
    "device-mismatch",  "bad-framing",    "too-slow",
    "too-many-streams", "other"};
#define REASONS (sizeof reasons / sizeof reasons[0])

/* NOTE: static storage is zero-initialised, which is a valid atomic state. */
static atomic_ulong requests[ROUTES_MAX + 1][STATUS_SLOTS];
static atomic_ulong latency_le[BUCKETS + 1];
static atomic_ulong latency_micros_sum;
static atomic_ulong events_ingested;
static atomic_ulong rejections[REASONS];
static atomic_ulong db_errors;
static const char *const connection_reasons[] = {"address-cap", "no-request", "slow-body"};
#define CONNECTION_REASONS (sizeof connection_reasons / sizeof connection_reasons[0])
static atomic_ulong connections_refused[CONNECTION_REASONS];
static atomic_int connections_held;

void be_metrics_request(size_t route_index, int status, double seconds)
{
    size_t r = route_index < ROUTES_MAX ? route_index : ROUTES_MAX;
    size_t s = status >= STATUS_FIRST && status <= STATUS_LAST ? (size_t)(status - STATUS_FIRST)
                                                               : STATUS_SLOTS - 1;
    atomic_fetch_add(&requests[r][s], 1);
    size_t b = BUCKETS;
    for (size_t i = 0; i < BUCKETS; i++)
        if (seconds <= buckets[i]) {
            b = i;
            break;
        }
    atomic_fetch_add(&latency_le[b], 1);
    atomic_fetch_add(&latency_micros_sum, (unsigned long)(seconds * 1e6));
}

void be_metrics_events(unsigned long count)
{
    atomic_fetch_add(&events_ingested, count);
}

void be_metrics_rejection(const char *reason)
{
    size_t i = REASONS - 1;
    for (size_t j = 0; j < REASONS; j++)
        if (strcmp(reasons[j], reason) == 0)
            i = j;
    atomic_fetch_add(&rejections[i], 1);
}

void be_metrics_db_error(void)
{
    atomic_fetch_add(&db_errors, 1);
}

void be_metrics_connection_refused(const char *reason)
{
    for (size_t i = 0; i < CONNECTION_REASONS; i++)
        if (strcmp(connection_reasons[i], reason) == 0)
            atomic_fetch_add(&connections_refused[i], 1);
}

int be_metrics_connections_held(int delta)
{
    return atomic_fetch_add(&connections_held, delta) + delta;
}

struct text {
    char *buf;
    size_t len, cap;
};

static void append(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void append(struct text *t, const char *fmt, ...)
{
    if (!t->buf)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= t->cap - t->len) {
        free(t->buf); /* the fixed cap below is generous; overflow means a bug */
        t->buf = NULL;
        return;
    }
    t->len += (size_t)n;
}

char *be_metrics_render(size_t route_count, be_metrics_route_name route_name, const void *ctx)
{
    struct text t = {.cap = 256 * 1024};
    t.buf = malloc(t.cap);
    append(&t, "# HELP carefact_http_requests_total HTTP requests by route and status.\n"
               "# TYPE carefact_http_requests_total counter\n");
    for (size_t r = 0; r <= ROUTES_MAX; r++) {
        if (r < ROUTES_MAX && r >= route_count)
            continue;
        const char *route = "unmatched", *method = "";
        if (r < route_count)
            route_name(ctx, r, &method, &route);
        for (size_t s = 0; s < STATUS_SLOTS; s++) {
            unsigned long n = atomic_load(&requests[r][s]);
            if (n)
                append(
                    &t,
                    "carefact_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} %lu\n",
                    method, route, s + 1 < STATUS_SLOTS ? (int)s + STATUS_FIRST : 0, n);
        }
    }
    append(&t, "# HELP carefact_http_request_seconds Request latency.\n"
               "# TYPE carefact_http_request_seconds histogram\n");
    unsigned long cumulative = 0;
    for (size_t b = 0; b < BUCKETS; b++) {
        cumulative += atomic_load(&latency_le[b]);
        append(&t, "carefact_http_request_seconds_bucket{le=\"%g\"} %lu\n", buckets[b], cumulative);
    }
    cumulative += atomic_load(&latency_le[BUCKETS]);
    append(&t, "carefact_http_request_seconds_bucket{le=\"+Inf\"} %lu\n", cumulative);
    append(&t, "carefact_http_request_seconds_sum %.6f\n",
           (double)atomic_load(&latency_micros_sum) / 1e6);
    append(&t, "carefact_http_request_seconds_count %lu\n", cumulative);
    append(&t,
           "# HELP carefact_events_ingested_total Events stored from device uploads.\n"
           "# TYPE carefact_events_ingested_total counter\n"
           "carefact_events_ingested_total %lu\n",
           atomic_load(&events_ingested));
    append(&t, "# HELP carefact_rejections_total Refused requests by reason.\n"
               "# TYPE carefact_rejections_total counter\n");
    for (size_t i = 0; i < REASONS; i++)
        append(&t, "carefact_rejections_total{reason=\"%s\"} %lu\n", reasons[i],
               atomic_load(&rejections[i]));
    append(&t,
           "# HELP carefact_db_errors_total Database errors.\n"
           "# TYPE carefact_db_errors_total counter\n"
           "carefact_db_errors_total %lu\n",
           atomic_load(&db_errors));
    append(&t, "# HELP carefact_connections_refused_total Connections refused or closed by the "
               "edge's limits, by reason.\n"
               "# TYPE carefact_connections_refused_total counter\n");
    for (size_t i = 0; i < CONNECTION_REASONS; i++)
        append(&t, "carefact_connections_refused_total{reason=\"%s\"} %lu\n", connection_reasons[i],
               atomic_load(&connections_refused[i]));
    append(&t,
           "# HELP carefact_connections_held Connections held by worker threads now (at the "
           "threads, every answer closes its connection: clients take turns).\n"
           "# TYPE carefact_connections_held gauge\n"
           "carefact_connections_held %d\n",
           atomic_load(&connections_held));
    return t.buf;
}
