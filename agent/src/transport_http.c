/* The real transport (see ag/transport.h): the protocol's exchanges as requests to
 * the server's routes (api/openapi.yaml) through http.c, signed as the enrolled
 * device. The routes live here and nowhere else in the agent. */
#include "ag/transport.h"

#include <stdio.h>
#include <string.h>

#include "ag/http.h"
#include "cf/error.h"
#include "cf/uuid.h"

struct http_transport {
    struct ag_transport base; /* first: the ops table */
    struct ag_http *http;
    char device[CF_UUID_TEXT_LEN + 1]; /* "" before enrolment */
};

/* One request; the answer moved into reply, failures worded with what was asked. */
static int exchange(struct ag_transport *t, const char *method, const char *path, const char *body,
                    struct ag_reply *reply, char *error, size_t error_size)
{
    struct http_transport *h = (struct http_transport *)t;
    struct ag_http_reply answer;
    char words[256] = "";
    memset(reply, 0, sizeof *reply);
    int rc = ag_http_request(h->http, method, path, body, body ? strlen(body) : 0, &answer, words,
                             sizeof words);
    if (rc) {
        snprintf(error, error_size, "%s %s: %s", method, path,
                 rc == CF_ETOOBIG ? "the answer is larger than the agent accepts" : words);
        return rc;
    }
    reply->status = answer.status;
    reply->body = answer.body;
    reply->body_len = answer.body_len;
    reply->date_ms = answer.date_ms;
    reply->sent_ms = answer.sent_ms;
    reply->received_ms = answer.received_ms;
    return 0;
}

static int http_enroll(struct ag_transport *t, const char *request_json, struct ag_reply *reply,
                       char *error, size_t error_size)
{
    return exchange(t, "POST", "/api/v1/devices", request_json, reply, error, error_size);
}

static int http_send_batch(struct ag_transport *t, const char *batch_json, struct ag_reply *reply,
                           char *error, size_t error_size)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/devices/%s/events", ((struct http_transport *)t)->device);
    return exchange(t, "POST", path, batch_json, reply, error, error_size);
}

static int http_reference_list(struct ag_transport *t, struct ag_reply *reply, char *error,
                               size_t error_size)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/devices/%s/reference",
             ((struct http_transport *)t)->device);
    return exchange(t, "GET", path, NULL, reply, error, error_size);
}

static int http_reference_fetch(struct ag_transport *t, const char *request_json,
                                struct ag_reply *reply, char *error, size_t error_size)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/devices/%s/reference/fetch",
             ((struct http_transport *)t)->device);
    return exchange(t, "POST", path, request_json, reply, error, error_size);
}

static void http_free(struct ag_transport *t)
{
    struct http_transport *h = (struct http_transport *)t;
    ag_http_free(h->http);
    free(h);
}

static const struct ag_transport_ops http_ops = {
    .enroll = http_enroll,
    .send_batch = http_send_batch,
    .reference_list = http_reference_list,
    .reference_fetch = http_reference_fetch,
    .free = http_free,
};

int ag_transport_http_new(const char *server_url, const char *ca_pem, size_t max_body,
                          const struct ag_identity *signer, struct ag_transport **out)
{
    struct http_transport *h = calloc(1, sizeof *h);
    *out = NULL;
    if (!h)
        return CF_ENOMEM;
    h->base.ops = &http_ops;
    int rc = ag_http_new(server_url, ca_pem, max_body, &h->http);
    if (rc) {
        free(h);
        return rc;
    }
    if (signer) {
        ag_http_sign_as(h->http, signer->device_id, signer->private_key);
        cf_uuid_to_text(signer->device_id, h->device);
    }
    *out = &h->base;
    return 0;
}
