/* The server as the sync sees it: an ops table of the few exchanges the protocol
 * has (enrol, send a batch, the reference list, a reference fetch), each answering
 * with a status and a body. sync.c and cmd_sync.c decide what an answer means;
 * how it travels is the transport's. The real one is HTTPS to the enrolled server
 * (ag_transport_http_new, transport_http.c over http.c); the unit tests put an
 * in-memory one in its place (ag_sync_options.transport).
 *
 * Status and body are the server's own (HTTP status codes, JSON or problem+json
 * bodies; see api/openapi.yaml), so a fake transport speaks exactly what the server
 * would. */
#ifndef AG_TRANSPORT_H
#define AG_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ag/store.h"

/* One answer. */
struct ag_reply {
    long status; /* the server's status code (200, 409, 413, 503, ...) */
    char *body; /* NUL-terminated, malloc'd; freed by ag_reply_cleanup */
    size_t body_len;
    int64_t date_ms; /* the server's Date as UTC ms, 0 when unknown */
    int64_t sent_ms, received_ms; /* device wall clock around the exchange */
};

struct ag_transport;

/* Each exchange returns 0 when an answer came (whatever its status: the caller
 * decides), or CF_ENETWORK (no connection, timeout, cut before the answer was
 * whole), CF_ETLS (the server's certificate is not the pinned CA's), CF_ETOOBIG
 * (the answer is over the cap), CF_ENOMEM. On failure reply is zeroed and error
 * gets a sentence for the log (English, names what was asked). The JSON bodies
 * are borrowed. */
struct ag_transport_ops {
    /* The one-time enrolment: {"code", "public_key"}; 201 with the identity. */
    int (*enroll)(struct ag_transport *t, const char *request_json, struct ag_reply *reply,
                  char *error, size_t error_size);
    /* A signed batch (cf_batch_to_json) for the device's queue; 200 {"acked_seq",
     * "epoch", "server_time_ms"}, or a problem (409 sequence-gap, 413, ...). */
    int (*send_batch)(struct ag_transport *t, const char *batch_json, struct ag_reply *reply,
                      char *error, size_t error_size);
    /* The (kind, id, version) list of the reference data: 200 {"items": [...]}. */
    int (*reference_list)(struct ag_transport *t, struct ag_reply *reply, char *error,
                          size_t error_size);
    /* Records by key: {"items": [{"kind", "id"}...]}; 200 {"items": [...with body]}. */
    int (*reference_fetch)(struct ag_transport *t, const char *request_json, struct ag_reply *reply,
                           char *error, size_t error_size);
    /* Release the transport (the caller's ag_transport_free). */
    void (*free)(struct ag_transport *t);
};

/* Implementations embed this as their first member. */
struct ag_transport {
    const struct ag_transport_ops *ops;
};

/* HTTPS (or loopback HTTP) to server_url with ca_pem pinned (both copied), every
 * answer capped at max_body. signer NULL: unsigned (enrolment only); else every
 * request is signed as that enrolled device (borrowed for this call only). Returns
 * 0, CF_EINVAL, CF_ENOMEM. Free with ag_transport_free. */
int ag_transport_http_new(const char *server_url, const char *ca_pem, size_t max_body,
                          const struct ag_identity *signer, struct ag_transport **out);

/* Accepts NULL. */
static inline void ag_transport_free(struct ag_transport *t)
{
    if (t)
        t->ops->free(t);
}

/* Frees the body; accepts NULL. */
static inline void ag_reply_cleanup(struct ag_reply *reply)
{
    if (!reply)
        return;
    free(reply->body);
    reply->body = NULL;
    reply->body_len = 0;
}

#endif
