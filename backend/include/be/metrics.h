/* Process metrics in Prometheus text format: requests by route and status, a latency
 * histogram, events ingested, rejections by reason, database errors. Lock-free
 * counters; per process by nature (Prometheus sums instances). */
#ifndef BE_METRICS_H
#define BE_METRICS_H

#include <stddef.h>

void be_metrics_request(size_t route_index, int status, double seconds);
void be_metrics_events(unsigned long count);
void be_metrics_rejection(const char *reason); /* a problem type name */
void be_metrics_db_error(void);
/* A connection refused or closed by the edge's limits: "address-cap" (answered 429 at
 * once: its address held its share of the threads), "no-request" (closed without a
 * whole request head: the header deadline, or a client that left), "slow-body" (closed
 * after 408: the body's progress deadline). */
void be_metrics_connection_refused(const char *reason);
/* Connections held by worker threads now (+1 when a worker takes one, -1 when it is
 * closed); returns the count after the change. The edge takes turns when it reaches the
 * threads (http.c). */
int be_metrics_connections_held(int delta);

/* The method and pattern of route i of the table the metrics are rendered for. */
typedef void (*be_metrics_route_name)(const void *ctx, size_t i, const char **method,
                                      const char **pattern);

/* Render into a new string (caller frees); NULL on ENOMEM. route_count routes, named
 * by route_name(ctx, i, ...): the metrics know no route table (the router's index). */
char *be_metrics_render(size_t route_count, be_metrics_route_name route_name, const void *ctx);

#endif
