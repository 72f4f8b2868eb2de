/* Acts recorded offline (see ag/acts.h): the bodies built from the worker's forms, the
 * applicant's code made on the terminal, and the events appended to the chain. The body
 * is checked with the server's own rules (cf_act_body_check) before it is stored, so a
 * refused act is never signed. */
#include "ag/acts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "cf/codec.h"
#include "cf/json.h"
#include "cf/uuid.h"

/* ==== Bodies ==== */

static bool given(const char *s)
{
    return s && s[0];
}

/* Add name: value when value is given; false only when out of memory. */
static bool add_text(cJSON *obj, const char *name, const char *value)
{
    return !given(value) || cJSON_AddStringToObject(obj, name, value) != NULL;
}

static bool add_target(cJSON *obj, const struct ag_act_target *t)
{
    char seq[24];
    if (t->filing_seq == 0)
        return add_text(obj, "application_number", t->application_number);
    snprintf(seq, sizeof seq, "%llu", (unsigned long long)t->filing_seq);
    return cJSON_AddStringToObject(obj, "application_seq", seq) != NULL;
}

/* Canonical text of obj (taken) checked as kind's body of an event after the filing it
 * names. */
static int finish_body(cJSON *obj, bool ok, enum cf_event_kind kind, char *body,
                       struct cf_error_detail *d)
{
    int rc =
        ok && obj ? cf_act_body_canonical(obj, "body", body, CF_ACT_BODY_MAX + 1, d) : CF_ENOMEM;
    cJSON_Delete(obj);
    if (rc)
        return rc;
    struct cf_event *ev = calloc(1, sizeof *ev);
    if (!ev)
        return CF_ENOMEM;
    ev->kind = kind;
    ev->seq = (uint64_t)CF_JSON_INT_MAX; /* after any filing: the chain gives the real one */
    snprintf(ev->body, sizeof ev->body, "%s", body);
    rc = cf_act_body_check(ev, d);
    free(ev);
    return rc;
}

int ag_application_body(const struct ag_application_form *f, const char *code, char *body,
                        struct cf_error_detail *d)
{
    uint8_t digest[SHA256_DIGEST_LENGTH];
    char hash[2 * SHA256_DIGEST_LENGTH + 1];
    SHA256((const uint8_t *)code, strlen(code), digest);
    cf_hex_encode(digest, sizeof digest, hash, sizeof hash);
    cJSON *o = cJSON_CreateObject();
    bool ok = o && add_text(o, "applicant_name", f->applicant_name) &&
              add_text(o, "applicant_birth", f->applicant_birth) &&
              add_text(o, "applicant_address", f->applicant_address) &&
              add_text(o, "applicant_phone", f->applicant_phone) &&
              add_text(o, "representative_name", f->representative_name) &&
              add_text(o, "representative_relation", f->representative_relation) &&
              add_text(o, "settlement", f->settlement) && add_text(o, "category", f->category) &&
              add_text(o, "purpose", f->purpose) &&
              add_text(o, "consent_version",
                       given(f->consent_version) ? f->consent_version : AG_CONSENT_VERSION) &&
              add_text(o, "note", f->note) && add_text(o, "office_id", f->office_id) &&
              add_text(o, "trip_id", f->trip_id) && add_text(o, "code_sha256", hash) &&
              cJSON_AddBoolToObject(o, "consent", f->consent) &&
              cJSON_AddBoolToObject(o, "complete", f->complete);
    OPENSSL_cleanse(digest, sizeof digest);
    return finish_body(o, ok, CF_EV_APPLICATION_FILED, body, d);
}

int ag_survey_body(const struct ag_survey_form *f, char *body, struct cf_error_detail *d)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o && add_target(o, &f->target) &&
              add_text(o, "living_conditions", f->living_conditions) &&
              add_text(o, "needs", f->needs) && add_text(o, "findings", f->findings) &&
              add_text(o, "trip_id", f->trip_id);
    if (ok && f->service_count) {
        cJSON *arr = cJSON_AddArrayToObject(o, "recommended_services");
        for (size_t i = 0; ok && i < f->service_count && i < CF_ACT_ARRAY_MAX; i++) {
            cJSON *s = arr ? cJSON_CreateString(f->services[i]) : NULL;
            ok = s && cJSON_AddItemToArray(arr, s);
            if (!ok)
                cJSON_Delete(s);
        }
    }
    return finish_body(o, ok, CF_EV_HOME_SURVEY_RECORDED, body, d);
}

int ag_aid_body(const struct ag_aid_form *f, char *body, struct cf_error_detail *d)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o && add_target(o, &f->target) && add_text(o, "aid_kind", f->aid_kind) &&
              add_text(o, "inventory_number", f->inventory_number) &&
              add_text(o, "direction", f->returned ? "returned" : "handed_over") &&
              add_text(o, "note", f->note) && add_text(o, "trip_id", f->trip_id);
    return finish_body(o, ok, CF_EV_AID_HANDED_OVER, body, d);
}

int ag_answers_body(const struct ag_answers_form *f, char *body, struct cf_error_detail *d)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o && add_text(o, "visit_id", f->visit_id) &&
              add_text(o, "instrument", given(f->instrument) ? f->instrument : "visit_rating") &&
              add_text(o, "version", given(f->version) ? f->version : "1") &&
              add_text(o, "trip_id", f->trip_id);
    for (size_t i = 0; ok && i < f->count && i < CF_ACT_ARRAY_MAX; i++) {
        char name[CF_ACT_NAME_MAX + 8];
        snprintf(name, sizeof name, "a_%s", f->codes[i]);
        ok = cJSON_AddStringToObject(o, name, f->values[i]) != NULL;
    }
    return finish_body(o, ok, CF_EV_SURVEY_ANSWERED, body, d);
}

/* ==== Appending ==== */

void ag_receipt(const uint8_t device_id[CF_UUID_LEN], uint64_t seq, char out[AG_RECEIPT_MAX])
{
    char text[CF_UUID_TEXT_LEN + 1];
    cf_uuid_to_text(device_id, text);
    for (int i = 0; i < 8; i++)
        if (text[i] >= 'a' && text[i] <= 'f')
            text[i] = (char)(text[i] - 'a' + 'A');
    snprintf(out, AG_RECEIPT_MAX, "%.8s-%llu", text, (unsigned long long)seq);
}

/* A fresh code of AG_APP_CODE_DIGITS decimal digits, each equally likely. */
static int new_code(char code[AG_APP_CODE_DIGITS + 1])
{
    size_t n = 0;
    while (n < AG_APP_CODE_DIGITS) {
        unsigned char bytes[16];
        if (RAND_bytes(bytes, sizeof bytes) != 1)
            return CF_ECRYPTO;
        for (size_t i = 0; i < sizeof bytes && n < AG_APP_CODE_DIGITS; i++)
            if (bytes[i] < 250) /* 250 = 25 x 10 */
                code[n++] = (char)('0' + bytes[i] % 10);
        OPENSSL_cleanse(bytes, sizeof bytes);
    }
    code[n] = '\0';
    return 0;
}

/* Append an event of kind with body (and card, may be NULL) at moment; out->seq. */
static int append_act(struct ag_store *store, enum cf_event_kind kind, const char *body,
                      const struct cf_card_assurance *card, const struct ag_moment *m,
                      struct ag_act_result *out, struct cf_error_detail *d)
{
    struct cf_event *ev = calloc(1, sizeof *ev);
    struct ag_identity *id = calloc(1, sizeof *id);
    int rc = ev && id ? ag_store_identity_get(store, id) : CF_ENOMEM;
    if (!rc) {
        ev->kind = kind;
        ev->wall_ms = m->wall_ms;
        ev->mono_ms = m->mono_ms;
        memcpy(ev->boot_id, m->boot_id, CF_UUID_LEN);
        memcpy(ev->worker_id, id->worker_id, CF_UUID_LEN);
        if (card)
            ev->card = *card; /* with its proof: read with this event's challenge */
        snprintf(ev->body, sizeof ev->body, "%s", body);
        rc = ag_store_append(store, ev, NULL, d);
    }
    if (!rc) {
        out->seq = ev->seq;
        if (kind == CF_EV_APPLICATION_FILED)
            ag_receipt(ev->device_id, ev->seq, out->receipt);
    }
    if (id)
        ag_identity_wipe(id);
    free(id);
    free(ev);
    return rc;
}

int ag_application_file(struct ag_store *store, const struct ag_application_form *form,
                        const struct ag_moment *moment, struct ag_act_result *out,
                        struct cf_error_detail *d)
{
    memset(out, 0, sizeof *out);
    char *body = malloc(CF_ACT_BODY_MAX + 1);
    int rc = body ? new_code(out->code) : CF_ENOMEM;
    if (!rc)
        rc = ag_application_body(form, out->code, body, d);
    if (!rc)
        rc = append_act(store, CF_EV_APPLICATION_FILED, body, NULL, moment, out, d);
    if (rc)
        OPENSSL_cleanse(out->code, sizeof out->code);
    free(body);
    return rc;
}

int ag_survey_record(struct ag_store *store, const struct ag_survey_form *form,
                     const struct ag_moment *moment, struct ag_act_result *out,
                     struct cf_error_detail *d)
{
    memset(out, 0, sizeof *out);
    char *body = malloc(CF_ACT_BODY_MAX + 1);
    int rc = body ? ag_survey_body(form, body, d) : CF_ENOMEM;
    if (!rc)
        rc = append_act(store, CF_EV_HOME_SURVEY_RECORDED, body, NULL, moment, out, d);
    free(body);
    return rc;
}

int ag_answers_record(struct ag_store *store, const struct ag_answers_form *form,
                      const struct ag_moment *moment, struct ag_act_result *out,
                      struct cf_error_detail *d)
{
    memset(out, 0, sizeof *out);
    char *body = malloc(CF_ACT_BODY_MAX + 1);
    int rc = body ? ag_answers_body(form, body, d) : CF_ENOMEM;
    if (!rc)
        rc = append_act(store, CF_EV_SURVEY_ANSWERED, body, NULL, moment, out, d);
    free(body);
    return rc;
}

int ag_aid_record(struct ag_store *store, const struct ag_aid_form *form,
                  const struct cf_card_assurance *card, const struct ag_moment *moment,
                  struct ag_act_result *out, struct cf_error_detail *d)
{
    memset(out, 0, sizeof *out);
    if (!card || card->method == CF_CARD_NONE || !card->token[0])
        return cf_error_set(d, CF_EINVAL, "card", "a hand-over needs the recipient's card");
    char *body = malloc(CF_ACT_BODY_MAX + 1);
    int rc = body ? ag_aid_body(form, body, d) : CF_ENOMEM;
    if (!rc)
        rc = append_act(store, CF_EV_AID_HANDED_OVER, body, card, moment, out, d);
    free(body);
    return rc;
}
