/* The manager dashboard's server side: the static files of backend/web/ served at
 * `/` and `/web/<name>`, and the live event stream (server-sent events) that tells
 * open dashboards when ingest stored events. The stream goes through PostgreSQL
 * LISTEN/NOTIFY, so a dashboard connected to one carefactd instance hears events
 * ingested by any other instance on the same database. */
#ifndef BE_WEB_H
#define BE_WEB_H

#include <libpq-fe.h>

#include "be/request.h"
#include "be/router.h"

/* The NOTIFY channel ingest announces stored events on. */
#define BE_WEB_CHANNEL "carefact_events"

/* Where the dashboard's files are: CAREFACT_WEB_DIR, else the folder chosen at build
 * time (the source tree's backend/web). Borrowed, static storage. */
const char *be_web_dir(void);

/* GET / (index.html) and GET /web/{id} (one file of the web folder: a plain name
 * with a known extension, never a path). 404 problem for anything else. */

/* GET /api/v1/stream: text/event-stream. Sends `event: ready` at once, then
 * `event: events` with data {"device_id","stored"} whenever a device's events were
 * stored (on any instance) — only the subscriber's: admin and authority hear every
 * provider's, a manager their provider's, a worker their own terminals' — and a comment
 * line as keep-alive every 2 s (how a closed browser is noticed). A stream
 * ends after BE_WEB_STREAM_SECONDS; the browser's EventSource reconnects by itself
 * (`retry:`), which keeps shutdown drains short. At most half the worker threads
 * stream at once, at most BE_WEB_STREAMS_PER_USER for one person and at most
 * be_config_address_streams for one client address (429 problem `too-many-streams`
 * beyond any). */
#define BE_WEB_STREAM_SECONDS 25
#define BE_WEB_STREAMS_PER_USER 2

/* Called by ingest after COMMIT: NOTIFY the stream channel that device_id (text
 * UUID) stored `stored` events. Nothing when stored is 0; a failure is only logged
 * (dashboards re-read everything when their stream reconnects). db is borrowed. */
void be_web_notify_ingest(PGconn *db, const char *device_id, long long stored);

extern const struct be_module be_web_module; /* /, /web/{id}, /api/v1/stream */

#endif
