/* Fuzz target: one event object through cf_event_from_json. Whatever decodes must be
 * valid (an act's body canonical, within its cap, on an act kind only) and survive the round trip
 * to_json -> text -> parse -> from_json as the very same struct with the same digest, so the device
 * and the server can never disagree about an accepted event. Every refusal must say which code and
 * why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cf/act.h"
#include "cf/batch.h"
#include "cf/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The refusal contract: the code returned is the one in detail, with a message. */
static void check_refusal(int rc, const struct cf_error_detail *detail)
{
    if (rc >= 0 || (rc != CF_ENOMEM && (detail->code != rc || !detail->message[0])))
        abort();
}

/* JSON text of an event, as it goes over the wire (caller frees). */
static char *event_text(const struct cf_event *ev)
{
    cJSON *obj = cf_event_to_json(ev);
    if (!obj)
        abort();
    char *text = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    if (!text)
        abort();
    return text;
}

static void check_round_trip(const struct cf_event *ev, const uint8_t device[CF_UUID_LEN],
                             struct cf_event *again)
{
    struct cf_error_detail detail = {0};
    uint8_t d1[CF_DIGEST_LEN], d2[CF_DIGEST_LEN];
    cJSON *root = NULL;
    if (cf_event_validate(ev, &detail) != 0)
        abort();
    /* an accepted act's body is canonical text within the cap (api/PROTOCOL.md 4.6) */
    if (ev->body[0]) {
        cJSON *body = cf_act_body_parse(ev->body);
        if (!body || strlen(ev->body) > CF_ACT_BODY_MAX || !cf_act_kind(ev->kind))
            abort();
        cJSON_Delete(body);
    } else if (cf_act_kind(ev->kind)) {
        abort();
    }
    char *text = event_text(ev);
    if (cf_json_parse(text, strlen(text), 1 << 16, &root, &detail) != 0 ||
        cf_event_from_json(root, device, "", again, &detail) != 0)
        abort();
    /* Both structs were zeroed before being filled, so padding compares equal too. */
    if (memcmp(ev, again, sizeof *ev) != 0)
        abort();
    if (cf_event_digest(ev, d1) || cf_event_digest(again, d2) || memcmp(d1, d2, sizeof d1) != 0)
        abort();
    char *text2 = event_text(again);
    if (strcmp(text, text2) != 0) /* the encoder is deterministic */
        abort();
    free(text2);
    free(text);
    cJSON_Delete(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The device of tests/support/sample_events.h, so the seeds' digests hold. */
    static const uint8_t device[CF_UUID_LEN] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                                0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
    cJSON *root = NULL;
    struct cf_error_detail detail = {0};
    int rc = cf_json_parse((const char *)data, size, 1 << 16, &root, &detail);
    if (rc) {
        check_refusal(rc, &detail);
        if (root)
            abort();
        return 0;
    }
    struct cf_event *ev = malloc(sizeof *ev), *again = malloc(sizeof *again);
    if (!ev || !again)
        abort();
    memset(&detail, 0, sizeof detail);
    rc = cf_event_from_json(root, device, "", ev, &detail);
    if (rc == 0) {
        check_round_trip(ev, device, again);
    } else {
        static const struct cf_event zero;
        check_refusal(rc, &detail);
        if (memcmp(ev, &zero, sizeof zero) != 0) /* a refused event leaves nothing */
            abort();
    }
    free(ev);
    free(again);
    cJSON_Delete(root);
    return 0;
}
