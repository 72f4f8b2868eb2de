/* Device request signatures: every request to /api/v1/devices/{id}/... is signed by
 * the key enrolled for that device (cf_request_sign). Checked in two steps so that a
 * request that can be refused from its head is refused before its body is read. */
#ifndef BE_DEVICE_AUTH_H
#define BE_DEVICE_AUTH_H

#include <stdbool.h>

#include "be/request.h"

/* How far a device's signed time may be from the server's. Wide, because terminals'
 * clocks drift by hours (the agent measures and reports the skew); the signature
 * proves who asks, and replaying a captured request within the window (over TLS)
 * repeats an idempotent upload or a read. */
#define BE_DEVICE_CLOCK_WINDOW_MS (12LL * 3600 * 1000)

/* Before the body: the signing headers are there, the time is within the window, the
 * device is the path's {id}, it is enrolled (404 `unknown-device`) and not revoked
 * (403 `revoked-device`). Keeps the device's key in req for be_device_verify. Returns
 * true to go on; otherwise the problem has been sent. */
bool be_device_check_head(struct be_request *req);

/* After the body: the signature over method, path, query, body and time verifies
 * (401 `device-unauthenticated`); then req->who is the device and the connection is
 * scoped to its provider. Returns true when the handler may run. */
bool be_device_verify(struct be_request *req);

#endif
