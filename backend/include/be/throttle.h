/* The citizen's routes' throttle per client address (the public form, the status page,
 * a complaint, a survey answer): the login throttle's mechanism, public_attempt in
 * sql/0020_programmes.sql, keyed by kind and be_request_remote_addr. */
#ifndef BE_THROTTLE_H
#define BE_THROTTLE_H

#include <stdbool.h>

#include "be/request.h"

#define BE_PUBLIC_LOCK_MAX_S 900 /* the longest wait: 15 minutes */

/* Take one request of kind (a short name: "file", "status", "complaint", "survey") from
 * the client's address before its body is read: after `after` requests within forget_s
 * seconds, each further one waits (1 s doubling, at most BE_PUBLIC_LOCK_MAX_S). Returns
 * false to go ahead; true when answered (429 rate-limited with retry_after_s, or 503). */
bool be_public_throttled(struct be_request *req, const char *kind, int after, int forget_s);

#endif
