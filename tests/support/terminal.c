/* The test terminal (see terminal.h). */
#include "terminal.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api_check.h"
#include "cf/codec.h"

void cf_terminal_enrol(struct cf_harness *h, const char *worker, struct cf_terminal *t)
{
    char code[32], key[64], body[256];
    const char *args[] = {"enroll-code", "--worker", worker, NULL};
    memset(t, 0, sizeof *t);
    assert_int_equal(cf_harness_carefactd(h, args, code, sizeof code), 0);
    assert_int_equal(cf_ed25519_generate(t->private_key, t->public_key), 0);
    assert_int_equal(cf_base64url_encode(t->public_key, sizeof t->public_key, key, sizeof key), 0);
    snprintf(body, sizeof body, "{\"code\":\"%s\",\"public_key\":\"%s\"}", code, key);
    const struct cf_session *session = h->session;
    h->session = NULL; /* a terminal has no person's session */
    cJSON *reply = cf_api_json(h, "POST", "/api/v1/devices", body, 201);
    h->session = session;
    snprintf(t->id_text, sizeof t->id_text, "%s", cf_json_str(reply, "device_id"));
    snprintf(t->token_key_hex, sizeof t->token_key_hex, "%s", cf_json_str(reply, "token_key_hex"));
    assert_string_equal(cf_json_str(reply, "worker_id"), worker);
    cJSON_Delete(reply);
    assert_int_equal(cf_uuid_from_text(t->id_text, t->id), 0);
    cf_harness_device_key(h, t->id_text, t->private_key);
}

void cf_terminal_chain(struct cf_terminal *t, struct cf_event *ev)
{
    memcpy(ev->device_id, t->id, CF_UUID_LEN);
    ev->seq = ++t->last_seq;
    memcpy(ev->prev_digest, t->last_digest, CF_DIGEST_LEN);
    assert_int_equal(cf_event_digest(ev, t->last_digest), 0);
}

char *cf_terminal_batch(const struct cf_terminal *t, const struct cf_event *events, size_t count)
{
    struct cf_batch batch;
    assert_int_equal(cf_batch_build(t->id, events, count, t->private_key, &batch), 0);
    char *json = cf_batch_to_json(&batch);
    cf_batch_cleanup(&batch);
    assert_non_null(json);
    return json;
}

cJSON *cf_terminal_send(struct cf_harness *h, const struct cf_terminal *t, const char *body,
                        long want)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/devices/%s/events", t->id_text);
    const struct cf_session *session = h->session;
    h->session = NULL;
    cJSON *reply = cf_api_json(h, "POST", path, body, want);
    h->session = session;
    return reply;
}

void cf_terminal_upload(struct cf_harness *h, struct cf_terminal *t, struct cf_event *events,
                        size_t count)
{
    for (size_t i = 0; i < count; i++)
        cf_terminal_chain(t, &events[i]);
    char *json = cf_terminal_batch(t, events, count);
    cJSON *ack = cf_terminal_send(h, t, json, 200);
    free(json);
    assert_int_equal(cf_json_long(ack, "acked_seq"), (long)t->last_seq);
    cJSON_Delete(ack);
}
