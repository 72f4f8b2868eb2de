/* Webhooks: a region's subscriptions (URL, kinds of change, a secret), managed by the
 * admin and read by the authority; the outbox of deliveries that sql/0016 writes in the
 * transaction of each change; and the sender, a background thread of carefactd serve that
 * delivers them at least once, in order per subject, signed, with back-off, disabling a
 * subscription after repeated failures (backend/README.md, "Change feed and webhooks";
 * the receiver's side: api/WEBHOOKS.md). */
#ifndef BE_WEBHOOKS_H
#define BE_WEBHOOKS_H

#include <stddef.h>

#include "be/config.h"
#include "be/router.h"

#define BE_WEBHOOK_SIGNATURE_MAX 72 /* "v1=" + 64 hex digits + NUL, rounded */

/* The signature header's value for a delivery: "v1=" and the lowercase hex
 * HMAC-SHA256, keyed with secret, of the decimal Unix time in seconds, ".", and the body
 * (body_len bytes, borrowed). Returns 0, or -1 when OpenSSL fails. Pure. */
int be_webhook_sign(const char *secret, long long timestamp_s, const char *body, size_t body_len,
                    char out[BE_WEBHOOK_SIGNATURE_MAX]);

/* Whether url is one a subscription may name: http:// or https://, a host, at most 2,000
 * bytes, no spaces or control characters. Pure. */
int be_webhook_url_valid(const char *url);

/* Start the sender thread for `carefactd serve` (its own database connection, scoped to
 * every provider; libcurl). config is borrowed and must outlive the thread. Returns 0
 * or -1 (logged). */
int be_webhook_sender_start(const struct be_config *config);
/* Ask the sender to stop and wait for it: an attempt in flight is finished (at most the
 * configured timeout) and recorded. A delivery sent but not recorded when the process
 * dies is sent again, with the same id, once its lease has passed. */
void be_webhook_sender_stop(void);

extern const struct be_module be_webhooks_module;

#endif
