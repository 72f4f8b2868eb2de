/* Visit outcomes for people and scripts (see ag/visit_output.h). */
#include "ag/visit_output.h"

#include <string.h>

#include "ag/clock.h"
#include "ag/messages.h"
#include "cf/uuid.h"

void ag_print_view(FILE *out, const struct ag_recipient_view *v, bool numbered)
{
    const struct ag_recipient *r = &v->recipient;
    fprintf(out, AG_MSG_VIEW_RECIPIENT, r->full_name);
    if (r->address[0])
        fprintf(out, AG_MSG_VIEW_ADDRESS, r->address);
    if (v->certificate_valid)
        fprintf(out, AG_MSG_VIEW_CERTIFICATE,
                v->certificate_number[0] ? v->certificate_number : AG_MSG_VIEW_NO_NUMBER,
                v->valid_from, v->valid_to);
    else
        fprintf(out, AG_MSG_VIEW_NO_CERTIFICATE);
    if (!v->available_count)
        return;
    fprintf(out, AG_MSG_VIEW_AVAILABLE_HEAD);
    for (size_t i = 0; i < v->available_count; i++) {
        const struct ag_available *a = &v->available[i];
        char norm[32] = "";
        if (a->norm_minutes)
            snprintf(norm, sizeof norm, AG_MSG_VIEW_NORM, a->norm_minutes);
        if (numbered)
            fprintf(out, AG_MSG_VIEW_SERVICE_NUMBERED, i + 1, a->name, a->code, norm, a->remaining,
                    a->volume);
        else
            fprintf(out, AG_MSG_VIEW_SERVICE, a->code, a->name, norm, a->remaining, a->volume);
    }
}

cJSON *ag_view_json(const struct ag_recipient_view *v)
{
    char id[CF_UUID_TEXT_LEN + 1];
    cJSON *obj = cJSON_CreateObject();
    cJSON *who = cJSON_AddObjectToObject(obj, "recipient");
    cJSON *cert = cJSON_AddObjectToObject(obj, "certificate");
    cJSON *list = cJSON_AddArrayToObject(obj, "available");
    if (!who || !cert || !list) {
        cJSON_Delete(obj);
        return NULL;
    }
    cf_uuid_to_text(v->recipient.id, id);
    cJSON_AddStringToObject(who, "id", id);
    cJSON_AddStringToObject(who, "name", v->recipient.full_name);
    cJSON_AddStringToObject(who, "address", v->recipient.address);
    cJSON_AddBoolToObject(cert, "valid", v->certificate_valid);
    cJSON_AddStringToObject(cert, "number", v->certificate_number);
    cJSON_AddStringToObject(cert, "valid_from", v->valid_from);
    cJSON_AddStringToObject(cert, "valid_to", v->valid_to);
    for (size_t i = 0; i < v->available_count; i++) {
        const struct ag_available *a = &v->available[i];
        cJSON *item = cJSON_CreateObject();
        if (!item || !cJSON_AddItemToArray(list, item)) {
            cJSON_Delete(item);
            cJSON_Delete(obj);
            return NULL;
        }
        cJSON_AddStringToObject(item, "code", a->code);
        cJSON_AddStringToObject(item, "name", a->name);
        cJSON_AddNumberToObject(item, "remaining", (double)a->remaining);
        cJSON_AddNumberToObject(item, "volume", (double)a->volume);
        cJSON_AddNumberToObject(item, "norm_minutes", a->norm_minutes);
    }
    return obj;
}

cJSON *ag_result_json(const struct ag_visit_result *r)
{
    char id[CF_UUID_TEXT_LEN + 1];
    cJSON *obj = r->have_view ? ag_view_json(&r->view) : cJSON_CreateObject();
    if (!obj)
        return NULL;
    const char *kind = cf_event_kind_name(r->kind);
    cJSON_AddStringToObject(obj, "event", kind ? kind : "");
    cJSON_AddNumberToObject(obj, "seq", (double)r->seq);
    if (!cf_uuid_is_nil(r->visit_id)) {
        cf_uuid_to_text(r->visit_id, id);
        cJSON_AddStringToObject(obj, "visit_id", id);
    }
    if (r->kind == CF_EV_VISIT_ENDED || r->kind == CF_EV_VISIT_ATTEMPT)
        cJSON_AddBoolToObject(obj, "card_matches", r->card_matches);
    if (r->kind == CF_EV_VISIT_ENDED) {
        cJSON_AddNumberToObject(obj, "duration_s", (double)(r->duration_ms / 1000));
        cJSON_AddBoolToObject(obj, "clock_uncertain", r->clock_uncertain);
    }
    if (r->kind == CF_EV_VISIT_CANCELLED)
        cJSON_AddNumberToObject(obj, "since_start_s", (double)(r->since_start_ms / 1000));
    return obj;
}

void ag_candidates_text(const struct ag_visit_result *r, char *out, size_t out_size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < r->candidate_count && used < out_size; i++) {
        int n = snprintf(out + used, out_size - used, "%s%s", i ? ", " : "", r->candidates[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}
