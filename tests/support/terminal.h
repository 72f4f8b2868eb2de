/* A test terminal for the server tests (cmocka): enrolled with a one-time code as a
 * real terminal is, it keeps its Ed25519 key and its event chain, signs batches and
 * uploads them, and reads the server's answer. One helper for every test that needs
 * signed events from a device (integration and security). Each failed step fails the
 * running cmocka test (test, setup or teardown). */
#ifndef CF_TEST_TERMINAL_H
#define CF_TEST_TERMINAL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "cf/batch.h"
#include "cf/event.h"
#include "cf/uuid.h"
#include "harness.h"

struct cf_terminal {
    uint8_t id[CF_UUID_LEN];
    char id_text[CF_UUID_TEXT_LEN + 1];
    uint8_t private_key[CF_ED25519_KEY_LEN], public_key[CF_ED25519_KEY_LEN];
    char token_key_hex[65]; /* the card-token key the enrolment answered with */
    uint8_t last_digest[CF_DIGEST_LEN]; /* of the last event chained (zero before any) */
    uint64_t last_seq; /* 0 before any event */
};

/* Enrol a terminal for worker (UUID text, borrowed): a one-time code from
 * `carefactd enroll-code --worker`, a fresh key pair, POST /api/v1/devices without a
 * session, which must answer 201 for that worker. From then on cf_http signs requests
 * to /api/v1/devices/<id>/... with its key, as the agent does (cf_harness_device_key).
 * h->session is unchanged. */
void cf_terminal_enrol(struct cf_harness *h, const char *worker, struct cf_terminal *t);

/* Append ev to t's chain: ev gets t's device id, the next seq and the previous digest;
 * t keeps ev's digest as the new last one. */
void cf_terminal_chain(struct cf_terminal *t, struct cf_event *ev);

/* The JSON body of a batch of count chained events signed with t's key (caller frees
 * with free()). */
char *cf_terminal_batch(const struct cf_terminal *t, const struct cf_event *events, size_t count);

/* POST body to /api/v1/devices/<t's id>/events without a session; the answer must have
 * status want (an error as problem+json). Returns the parsed answer (caller frees with
 * cJSON_Delete). h->session is unchanged. */
cJSON *cf_terminal_send(struct cf_harness *h, const struct cf_terminal *t, const char *body,
                        long want);

/* Chain count events, sign them as one batch and upload it: the server must answer 200
 * acknowledging up to the last of them. */
void cf_terminal_upload(struct cf_harness *h, struct cf_terminal *t, struct cf_event *events,
                        size_t count);

#endif
