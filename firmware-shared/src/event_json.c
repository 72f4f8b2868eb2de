/* JSON form of one event (see cf/batch.h): strict decoding of outside input and
 * the matching encoder. Every refusal names the field at fault and says what is
 * expected, because a device developer or an operator reads these messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cf/act.h"
#include "cf/batch.h"
#include "cf/codec.h"
#include "cf/json.h"
#include "cf/uuid.h"

/* Field path "prefix.name" for error details. */
static void path_join(char *out, size_t size, const char *prefix, const char *name)
{
    if (prefix && prefix[0])
        snprintf(out, size, "%s.%s", prefix, name);
    else
        snprintf(out, size, "%s", name);
}

/* A name from the input that may be quoted back in a message: lower-case letters,
 * digits, '.', '_' and '-' only, so no quote or newline reaches a log line. */
static bool is_plain_name(const char *name)
{
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' ||
              *c == '-'))
            return false;
    return true;
}

/* ==== Event ==== */

/* card.proof (api/PROTOCOL.md 4.5): the kind, then each byte field as hex of either
 * case, "" or absent for empty. Which fields a kind needs is cf_event_validate's. */
static int proof_from_json(const cJSON *card, const char *path, struct cf_card_proof *proof,
                           struct cf_error_detail *d)
{
    static const char *const allowed[] = {
        "kind",       "aid",      "aip",           "ca_index", "issuer_cert", "issuer_exp",
        "issuer_rem", "icc_cert", "icc_exp",       "icc_rem",  "static_data", "ssad",
        "sdad",       "ddol",     "terminal_data", "tx_data",  NULL};
    char p[112], kind[8], f[144];
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(card, "proof");
    if (!obj)
        return 0;
    path_join(p, sizeof p, path, "proof");
    int rc = cf_json_check_fields(obj, allowed, p, d);
    if (!rc)
        rc = cf_json_get_string(obj, "kind", p, true, sizeof kind - 1, kind, sizeof kind, d);
    if (!rc && cf_proof_kind_from_name(kind, &proof->kind)) {
        path_join(f, sizeof f, p, "kind");
        rc = cf_error_set(d, CF_EFIELD_RANGE, f, "%s must be none, sda, dda, fdda or cda", f);
    }
    char *text = rc ? NULL : malloc(2 * CF_PROOF_STATIC_MAX + 1);
    if (!rc && !text)
        rc = CF_ENOMEM;
    for (size_t i = 0; !rc && i < CF_PROOF_FIELDS; i++) {
        uint8_t *data = NULL;
        size_t *len = NULL, cap = 0;
        const char *name = cf_card_proof_field_mut(proof, i, &data, &len, &cap);
        rc = cf_json_get_string(obj, name, p, false, 2 * cap, text, 2 * cap + 1, d);
        if (!rc && cf_hex_decode(text, strlen(text), data, cap, len)) {
            path_join(f, sizeof f, p, name);
            rc = cf_error_set(d, CF_EFIELD_RANGE, f, "%s must be hex digits, at most %zu bytes", f,
                              cap);
        }
    }
    free(text);
    return rc;
}

static int card_from_json(const cJSON *event, const char *path, struct cf_card_assurance *card,
                          struct cf_error_detail *d)
{
    static const char *const allowed[] = {"method", "token", "scheme", "last4", "proof", NULL};
    char p[96], method[8];
    memset(card, 0, sizeof *card);
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(event, "card");
    if (!obj)
        return 0;
    path_join(p, sizeof p, path, "card");
    int rc = cf_json_check_fields(obj, allowed, p, d);
    if (!rc)
        rc = cf_json_get_string(obj, "method", p, true, 3, method, sizeof method, d);
    if (!rc && cf_card_method_from_name(method, &card->method)) {
        char f[112];
        path_join(f, sizeof f, p, "method");
        rc = cf_error_set(d, CF_EFIELD_RANGE, f, "%s must be emv or uid", f);
    }
    if (!rc)
        rc = cf_json_get_string(obj, "token", p, true, CF_TOKEN_TEXT_LEN, card->token,
                                sizeof card->token, d);
    if (!rc)
        rc = cf_json_get_string(obj, "scheme", p, false, CF_SCHEME_MAX, card->scheme,
                                sizeof card->scheme, d);
    if (!rc)
        rc = cf_json_get_string(obj, "last4", p, false, 4, card->last4, sizeof card->last4, d);
    if (!rc)
        rc = proof_from_json(obj, p, &card->proof, d);
    return rc;
}

static int location_from_json(const cJSON *event, const char *path, struct cf_location *loc,
                              struct cf_error_detail *d)
{
    static const char *const allowed[] = {"lat_e7", "lon_e7", "accuracy_m", NULL};
    char p[96];
    int64_t lat = 0, lon = 0, acc = 0;
    memset(loc, 0, sizeof *loc);
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(event, "location");
    if (!obj)
        return 0;
    path_join(p, sizeof p, path, "location");
    int rc = cf_json_check_fields(obj, allowed, p, d);
    if (!rc)
        rc = cf_json_get_int(obj, "lat_e7", p, true, -900000000, 900000000, &lat, d);
    if (!rc)
        rc = cf_json_get_int(obj, "lon_e7", p, true, -1800000000, 1800000000, &lon, d);
    if (!rc)
        rc = cf_json_get_int(obj, "accuracy_m", p, true, 0, 100000, &acc, d);
    if (rc)
        return rc;
    loc->present = true;
    loc->lat_e7 = (int32_t)lat;
    loc->lon_e7 = (int32_t)lon;
    loc->accuracy_m = (int32_t)acc;
    return 0;
}

static int services_from_json(const cJSON *event, const char *path, struct cf_event *ev,
                              struct cf_error_detail *d)
{
    static const char *const allowed[] = {"code", "quantity", NULL};
    char p[96];
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(event, "services");
    ev->service_count = 0;
    if (!arr)
        return 0;
    path_join(p, sizeof p, path, "services");
    if (!cJSON_IsArray(arr))
        return cf_error_set(d, CF_EFIELD_TYPE, p, "%s must be an array", p);
    size_t i = 0;
    for (const cJSON *item = arr->child; item; item = item->next, i++) {
        char ip[112];
        int64_t quantity = 0;
        if (i >= CF_MAX_SERVICES)
            return cf_error_set(d, CF_EFIELD_RANGE, p, "%s holds more than %d services", p,
                                CF_MAX_SERVICES);
        snprintf(ip, sizeof ip, "%s[%zu]", p, i);
        struct cf_service_done *s = &ev->services[i];
        int rc = cf_json_check_fields(item, allowed, ip, d);
        if (!rc)
            rc = cf_json_get_string(item, "code", ip, true, CF_SERVICE_CODE_MAX, s->code,
                                    sizeof s->code, d);
        if (!rc)
            rc = cf_json_get_int(item, "quantity", ip, true, 1, CF_SERVICE_QUANTITY_MAX, &quantity,
                                 d);
        if (rc)
            return rc;
        s->quantity = (int32_t)quantity;
        ev->service_count = i + 1;
    }
    return 0;
}

static int enum_from_json(const cJSON *event, const char *name, const char *path,
                          int (*from_name)(const char *, void *), void *out, const char *expected,
                          struct cf_error_detail *d)
{
    char text[32], field[96];
    if (!cJSON_GetObjectItemCaseSensitive(event, name))
        return 0;
    int rc = cf_json_get_string(event, name, path, true, sizeof text - 1, text, sizeof text, d);
    if (rc || !text[0]) /* "" is the empty value: same as absent */
        return rc;
    if (from_name(text, out)) {
        path_join(field, sizeof field, path, name);
        return cf_error_set(d, CF_EFIELD_RANGE, field, "%s must be one of %s", field, expected);
    }
    return 0;
}

static int reason_from_name(const char *name, void *out)
{
    return cf_reason_from_name(name, out);
}

static int actor_from_name(const char *name, void *out)
{
    return cf_actor_from_name(name, out);
}

/* Decoding in field order; the first failure wins. Kept as one piece so the list
 * of fields reads top to bottom like the wire format in cf/batch.h. */
int cf_event_from_json(const cJSON *obj, const uint8_t device_id[CF_UUID_LEN], const char *path,
                       struct cf_event *ev, struct cf_error_detail *d)
{
    static const char *const allowed[] = {
        "seq",     "kind",    "prev",    "digest",       "visit_id", "worker_id", "recipient_id",
        "plan_id", "wall_ms", "mono_ms", "boot_id",      "card",     "location",  "services",
        "rating",  "comment", "reason",  "cancelled_by", "body",     NULL};
    char kind[32], field[96];
    int64_t seq = 0, wall = 0, mono = 0, rating = 0;
    uint8_t claimed[CF_DIGEST_LEN];
    memset(ev, 0, sizeof *ev);
    int rc = cf_json_check_fields(obj, allowed, path, d);
    if (!rc)
        rc = cf_json_get_int(obj, "seq", path, true, 1, CF_JSON_INT_MAX, &seq, d);
    if (!rc)
        rc = cf_json_get_string(obj, "kind", path, true, sizeof kind - 1, kind, sizeof kind, d);
    if (!rc && !(ev->kind = cf_event_kind_from_name(kind))) {
        path_join(field, sizeof field, path, "kind");
        rc = cf_error_set(d, CF_EKIND, field,
                          "%s '%s' is unknown: expected visit.started, visit.ended, visit.rated, "
                          "visit.cancelled, visit.attempt, card.unrecognized, card.bound, "
                          "appointment.checked_in, application.filed, home_survey.recorded, "
                          "aid.handed_over or survey.answered",
                          field, is_plain_name(kind) ? kind : "?");
    }
    if (!rc)
        rc = cf_json_get_hex(obj, "prev", path, true, ev->prev_digest, CF_DIGEST_LEN, d);
    if (!rc)
        rc = cf_json_get_hex(obj, "digest", path, false, claimed, CF_DIGEST_LEN, d);
    if (!rc)
        rc = cf_json_get_uuid(obj, "visit_id", path, false, ev->visit_id, d);
    if (!rc)
        rc = cf_json_get_uuid(obj, "worker_id", path, false, ev->worker_id, d);
    if (!rc)
        rc = cf_json_get_uuid(obj, "recipient_id", path, false, ev->recipient_id, d);
    if (!rc)
        rc = cf_json_get_uuid(obj, "plan_id", path, false, ev->plan_id, d);
    if (!rc)
        rc = cf_json_get_int(obj, "wall_ms", path, true, 0, CF_JSON_INT_MAX, &wall, d);
    if (!rc)
        rc = cf_json_get_int(obj, "mono_ms", path, true, 0, CF_JSON_INT_MAX, &mono, d);
    if (!rc)
        rc = cf_json_get_uuid(obj, "boot_id", path, true, ev->boot_id, d);
    if (!rc)
        rc = card_from_json(obj, path, &ev->card, d);
    if (!rc)
        rc = location_from_json(obj, path, &ev->location, d);
    if (!rc)
        rc = services_from_json(obj, path, ev, d);
    /* 0 is the empty value of rating, allowed where a rating does not apply. */
    if (!rc)
        rc = cf_json_get_int(obj, "rating", path, false, ev->kind == CF_EV_VISIT_RATED ? 1 : 0, 5,
                             &rating, d);
    if (!rc)
        rc = cf_json_get_text(obj, "comment", path, false, CF_COMMENT_MAX_CHARS, "", ev->comment,
                              sizeof ev->comment, d);
    if (!rc)
        rc = enum_from_json(obj, "reason", path, reason_from_name, &ev->reason,
                            "nobody_home, refused, in_hospital, worker_ill, other", d);
    if (!rc)
        rc = enum_from_json(obj, "cancelled_by", path, actor_from_name, &ev->cancelled_by,
                            "worker, recipient, provider", d);
    if (!rc && cJSON_GetObjectItemCaseSensitive(obj, "body")) {
        /* canonicalised here: the digest covers the canonical text, not the JSON as sent */
        path_join(field, sizeof field, path, "body");
        rc = cf_act_body_canonical(cJSON_GetObjectItemCaseSensitive(obj, "body"), field, ev->body,
                                   sizeof ev->body, d);
    }
    if (rc)
        goto fail;
    memcpy(ev->device_id, device_id, CF_UUID_LEN);
    ev->seq = (uint64_t)seq;
    ev->wall_ms = wall;
    ev->mono_ms = mono;
    ev->rating = (int32_t)rating;
    rc = cf_event_validate(ev, d);
    if (rc) {
        /* Prefix the validator's field with this event's path. */
        if (d && path && path[0]) {
            char inner[sizeof d->field];
            snprintf(inner, sizeof inner, "%s", d->field);
            if (inner[0])
                path_join(d->field, sizeof d->field, path, inner);
            else
                snprintf(d->field, sizeof d->field, "%s", path);
        }
        goto fail;
    }
    if (cJSON_GetObjectItemCaseSensitive(obj, "digest")) {
        uint8_t actual[CF_DIGEST_LEN];
        rc = cf_event_digest(ev, actual);
        if (!rc && memcmp(actual, claimed, CF_DIGEST_LEN) != 0) {
            path_join(field, sizeof field, path, "digest");
            rc = cf_error_set(d, CF_EDIGEST, field,
                              "%s does not match the event's content: the device and the "
                              "server encode events differently, or the event was altered",
                              field);
        }
        if (rc)
            goto fail;
    }
    return 0;
fail:
    memset(ev, 0, sizeof *ev);
    return rc;
}

static bool add_uuid(cJSON *obj, const char *name, const uint8_t id[CF_UUID_LEN])
{
    char text[CF_UUID_TEXT_LEN + 1];
    if (cf_uuid_is_nil(id))
        return true;
    cf_uuid_to_text(id, text);
    return cJSON_AddStringToObject(obj, name, text) != NULL;
}

static bool add_hex(cJSON *obj, const char *name, const uint8_t *bytes, size_t len)
{
    char text[2 * CF_DIGEST_LEN + 1];
    return cf_hex_encode(bytes, len, text, sizeof text) == 0 &&
           cJSON_AddStringToObject(obj, name, text) != NULL;
}

/* Empty fields are left out (the decoder reads absent as empty). */
static bool add_proof(cJSON *card, const struct cf_card_proof *proof)
{
    const char *kind = cf_proof_kind_name(proof->kind);
    if (!kind)
        return proof->kind == CF_PROOF_ABSENT;
    cJSON *p = cJSON_AddObjectToObject(card, "proof");
    char *text = malloc(2 * CF_PROOF_STATIC_MAX + 1);
    bool ok = p && text && cJSON_AddStringToObject(p, "kind", kind);
    for (size_t i = 0; ok && i < CF_PROOF_FIELDS; i++) {
        const uint8_t *data = NULL;
        size_t len = 0, cap = 0;
        const char *name = cf_card_proof_field(proof, i, &data, &len, &cap);
        if (len)
            ok = len <= cap && cf_hex_encode(data, len, text, 2 * CF_PROOF_STATIC_MAX + 1) == 0 &&
                 cJSON_AddStringToObject(p, name, text);
    }
    free(text);
    return ok;
}

static bool add_card(cJSON *obj, const struct cf_card_assurance *card)
{
    if (card->method == CF_CARD_NONE)
        return true;
    cJSON *c = cJSON_AddObjectToObject(obj, "card");
    return c && cJSON_AddStringToObject(c, "method", cf_card_method_name(card->method)) &&
           cJSON_AddStringToObject(c, "token", card->token) &&
           (!card->scheme[0] || cJSON_AddStringToObject(c, "scheme", card->scheme)) &&
           (!card->last4[0] || cJSON_AddStringToObject(c, "last4", card->last4)) &&
           add_proof(c, &card->proof);
}

/* The act's body as a JSON object (api/PROTOCOL.md 4.6); "" adds nothing. */
static bool add_body(cJSON *obj, const char *body)
{
    if (!body[0])
        return true;
    cJSON *b = cf_act_body_parse(body);
    if (b && cJSON_AddItemToObject(obj, "body", b))
        return true;
    cJSON_Delete(b);
    return false;
}

static bool add_extras(cJSON *obj, const struct cf_event *ev)
{
    if (ev->location.present) {
        cJSON *l = cJSON_AddObjectToObject(obj, "location");
        if (!l || !cJSON_AddNumberToObject(l, "lat_e7", ev->location.lat_e7) ||
            !cJSON_AddNumberToObject(l, "lon_e7", ev->location.lon_e7) ||
            !cJSON_AddNumberToObject(l, "accuracy_m", ev->location.accuracy_m))
            return false;
    }
    if (ev->service_count) {
        cJSON *arr = cJSON_AddArrayToObject(obj, "services");
        if (!arr)
            return false;
        for (size_t i = 0; i < ev->service_count && i < CF_MAX_SERVICES; i++) {
            cJSON *s = cJSON_CreateObject();
            if (!s || !cJSON_AddItemToArray(arr, s)) {
                cJSON_Delete(s); /* not attached: still ours */
                return false;
            }
            if (!cJSON_AddStringToObject(s, "code", ev->services[i].code) ||
                !cJSON_AddNumberToObject(s, "quantity", ev->services[i].quantity))
                return false;
        }
    }
    return (!ev->rating || cJSON_AddNumberToObject(obj, "rating", ev->rating)) &&
           (!ev->comment[0] || cJSON_AddStringToObject(obj, "comment", ev->comment)) &&
           (!cf_reason_name(ev->reason) ||
            cJSON_AddStringToObject(obj, "reason", cf_reason_name(ev->reason))) &&
           (!cf_actor_name(ev->cancelled_by) ||
            cJSON_AddStringToObject(obj, "cancelled_by", cf_actor_name(ev->cancelled_by))) &&
           add_body(obj, ev->body);
}

cJSON *cf_event_to_json(const struct cf_event *ev)
{
    uint8_t digest[CF_DIGEST_LEN];
    const char *kind = cf_event_kind_name(ev->kind);
    /* Refuse rather than print a number cJSON would round (see CF_JSON_INT_MAX). */
    if (!kind || ev->seq > (uint64_t)CF_JSON_INT_MAX || ev->wall_ms > CF_JSON_INT_MAX ||
        ev->wall_ms < -CF_JSON_INT_MAX || ev->mono_ms > CF_JSON_INT_MAX ||
        ev->mono_ms < -CF_JSON_INT_MAX || cf_event_digest(ev, digest))
        return NULL;
    cJSON *obj = cJSON_CreateObject();
    bool ok =
        obj && cJSON_AddNumberToObject(obj, "seq", (double)ev->seq) &&
        cJSON_AddStringToObject(obj, "kind", kind) &&
        add_hex(obj, "prev", ev->prev_digest, CF_DIGEST_LEN) &&
        add_hex(obj, "digest", digest, CF_DIGEST_LEN) && add_uuid(obj, "visit_id", ev->visit_id) &&
        add_uuid(obj, "worker_id", ev->worker_id) &&
        add_uuid(obj, "recipient_id", ev->recipient_id) && add_uuid(obj, "plan_id", ev->plan_id) &&
        cJSON_AddNumberToObject(obj, "wall_ms", (double)ev->wall_ms) &&
        cJSON_AddNumberToObject(obj, "mono_ms", (double)ev->mono_ms) &&
        add_uuid(obj, "boot_id", ev->boot_id) && add_card(obj, &ev->card) && add_extras(obj, ev);
    if (!ok) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}
