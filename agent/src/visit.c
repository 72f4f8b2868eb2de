/* The visit workflow (see ag/visit.h): checks a worker can act on, then exactly one
 * event appended to the store per step. Identification is offline, from the
 * reference cache's card index; the services offered are those of a certificate
 * valid today, less what this terminal recorded since the record came. */
#include "ag/visit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cf/uuid.h"

/* ==== Loading from the cache ==== */

static int load_recipient(struct ag_store *s, const uint8_t id[CF_UUID_LEN],
                          struct ag_recipient *out, uint64_t *basis_seq)
{
    char text[CF_UUID_TEXT_LEN + 1], *body = NULL;
    cf_uuid_to_text(id, text);
    int rc = ag_store_ref_get(s, "recipient", text, &body, basis_seq);
    if (!rc && !body)
        rc = CF_EUNKNOWN_RECIPIENT;
    if (!rc && ag_recipient_parse(body, out, NULL))
        rc = CF_ESTORE_DAMAGED;
    free(body);
    return rc;
}

int ag_plan_load(struct ag_store *store, const uint8_t plan_id[CF_UUID_LEN], struct ag_plan *out)
{
    char text[CF_UUID_TEXT_LEN + 1], *body = NULL;
    cf_uuid_to_text(plan_id, text);
    int rc = ag_store_ref_get(store, "plan", text, &body, NULL);
    if (!rc && !body)
        rc = CF_EUNKNOWN_PLAN;
    if (!rc && ag_plan_parse(body, out, NULL))
        rc = CF_ESTORE_DAMAGED;
    free(body);
    return rc;
}

static void service_info(struct ag_store *s, struct ag_available *a)
{
    char *body = NULL;
    struct ag_service service;
    snprintf(a->name, sizeof a->name, "%s", a->code);
    if (ag_store_ref_get(s, "service", a->code, &body, NULL) == 0 && body &&
        ag_service_parse(body, &service, NULL) == 0) {
        snprintf(a->name, sizeof a->name, "%s", service.name);
        a->norm_minutes = service.norm_minutes;
    }
    free(body);
}

/* Services of every certificate valid today (first certificate wins for a code). */
static int fill_available(struct ag_store *s, struct ag_recipient_view *v, uint64_t basis_seq,
                          const char *today)
{
    for (size_t c = 0; c < v->recipient.certificate_count; c++) {
        const struct ag_certificate *cert = &v->recipient.certificates[c];
        if (!ag_date_within(today, cert->valid_from, cert->valid_to))
            continue;
        if (!v->certificate_valid) {
            v->certificate_valid = true;
            snprintf(v->certificate_number, sizeof v->certificate_number, "%s", cert->number);
            memcpy(v->valid_from, cert->valid_from, sizeof v->valid_from);
            memcpy(v->valid_to, cert->valid_to, sizeof v->valid_to);
        }
        for (size_t i = 0; i < cert->service_count && v->available_count < CF_MAX_SERVICES; i++) {
            const struct ag_cert_service *cs = &cert->services[i];
            bool listed = false;
            for (size_t k = 0; k < v->available_count; k++)
                listed = listed || strcmp(v->available[k].code, cs->code) == 0;
            if (listed)
                continue;
            struct ag_available *a = &v->available[v->available_count++];
            memset(a, 0, sizeof *a);
            memcpy(a->code, cs->code, sizeof a->code);
            a->volume = cs->volume;
            long used = 0;
            int rc = ag_store_services_used(s, v->recipient.id, cs->code, basis_seq, &used);
            if (rc)
                return rc;
            a->remaining = cs->remaining - used < 0 ? 0 : cs->remaining - used;
            service_info(s, a);
        }
    }
    return 0;
}

int ag_recipient_view(struct ag_store *store, const uint8_t recipient_id[CF_UUID_LEN],
                      int64_t wall_ms, struct ag_recipient_view *out)
{
    char today[AG_DATE_LEN + 1];
    uint64_t basis_seq = 0;
    memset(out, 0, sizeof *out);
    int rc = load_recipient(store, recipient_id, &out->recipient, &basis_seq);
    ag_local_date(wall_ms, today);
    if (!rc)
        rc = fill_available(store, out, basis_seq, today);
    return rc;
}

/* ==== Common parts ==== */

static int worker_of(struct ag_store *s, uint8_t worker_id[CF_UUID_LEN])
{
    struct ag_identity *id = malloc(sizeof *id);
    if (!id)
        return CF_ENOMEM;
    int rc = ag_store_identity_get(s, id);
    if (!rc)
        memcpy(worker_id, id->worker_id, CF_UUID_LEN);
    ag_identity_wipe(id);
    free(id);
    return rc;
}

/* A fresh event of kind at moment, by this terminal's worker. */
static int new_event(struct ag_store *s, enum cf_event_kind kind, const struct ag_moment *m,
                     struct cf_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    ev->wall_ms = m->wall_ms;
    ev->mono_ms = m->mono_ms;
    memcpy(ev->boot_id, m->boot_id, CF_UUID_LEN);
    return worker_of(s, ev->worker_id);
}

static int append(struct ag_store *s, struct cf_event *ev, struct ag_visit_result *result,
                  struct cf_error_detail *d)
{
    int rc = ag_store_append(s, ev, NULL, d);
    if (!rc) {
        result->kind = ev->kind;
        result->seq = ev->seq;
        memcpy(result->visit_id, ev->visit_id, CF_UUID_LEN);
    }
    return rc;
}

static bool has_card(const struct cf_card_assurance *card)
{
    return card->method != CF_CARD_NONE && card->token[0];
}

/* Does token identify recipient id (in the card index)? Fills the candidates. */
static int identify(struct ag_store *s, const char *token, struct ag_visit_result *result)
{
    char ids[AG_MAX_CANDIDATES][AG_REF_ID_MAX + 1];
    size_t count = 0;
    int rc = ag_store_ref_by_token(s, token, ids, AG_MAX_CANDIDATES, &count);
    result->candidate_count = 0;
    for (size_t i = 0; !rc && i < count && i < AG_MAX_CANDIDATES; i++) {
        uint8_t id[CF_UUID_LEN];
        struct ag_recipient *r = malloc(sizeof *r);
        if (!r)
            return CF_ENOMEM;
        if (cf_uuid_from_text(ids[i], id) == 0 && load_recipient(s, id, r, NULL) == 0) {
            size_t k = result->candidate_count++;
            snprintf(result->candidates[k], sizeof result->candidates[k], "%s", r->full_name);
            cf_uuid_to_text(id, result->candidate_ids[k]); /* canonical, as is_candidate compares */
        }
        free(r);
    }
    return rc;
}

static bool is_candidate(const struct ag_visit_result *result, const uint8_t id[CF_UUID_LEN])
{
    char text[CF_UUID_TEXT_LEN + 1];
    cf_uuid_to_text(id, text);
    for (size_t i = 0; i < result->candidate_count; i++)
        if (strcmp(result->candidate_ids[i], text) == 0)
            return true;
    return false;
}

/* The visit in progress, unless it is so old that it was abandoned. */
static int open_visit(struct ag_store *s, int64_t now_ms, struct ag_visit_row *row)
{
    int rc = ag_store_visit_find(s, AG_FIND_OPEN, NULL, row);
    if (!rc && now_ms - row->started_wall_ms > AG_VISIT_ABANDON_MS)
        rc = CF_ENO_VISIT;
    return rc;
}

/* ==== Card challenge ==== */

int ag_card_challenge(struct ag_store *store, const uint8_t *visit_id,
                      uint8_t challenge[CF_CHALLENGE_LEN])
{
    static const uint8_t nil[CF_UUID_LEN];
    uint8_t digest[CF_DIGEST_LEN], device[CF_UUID_LEN];
    uint64_t seq = 0;
    int rc = ag_store_head(store, &seq, digest, device);
    if (!rc)
        rc = cf_card_challenge(device, seq + 1, digest, visit_id ? visit_id : nil, challenge);
    return rc;
}

int ag_visit_end_target(struct ag_store *store, const uint8_t *visit_id, int64_t now_ms,
                        uint8_t out[CF_UUID_LEN])
{
    struct ag_visit_row row;
    int rc = visit_id ? ag_store_visit_find(store, AG_FIND_ID, visit_id, &row)
                      : open_visit(store, now_ms, &row);
    if (!rc)
        memcpy(out, row.visit_id, CF_UUID_LEN);
    return rc;
}

/* The proof belongs to the event its challenge was made for: another event carries
 * none. */
static void drop_proof(struct cf_card_assurance *card)
{
    memset(&card->proof, 0, sizeof card->proof);
}

/* ==== Start ==== */

static int record_unrecognized(struct ag_store *s, const struct ag_visit_start *req,
                               struct ag_visit_result *result, struct cf_error_detail *d)
{
    struct cf_event *ev = malloc(sizeof *ev);
    if (!ev)
        return CF_ENOMEM;
    int rc = new_event(s, CF_EV_CARD_UNRECOGNIZED, &req->moment, ev);
    if (!rc) {
        ev->card = req->card;
        drop_proof(&ev->card);
        ev->location = req->location;
        if (req->plan_id)
            memcpy(ev->plan_id, req->plan_id, CF_UUID_LEN);
        rc = append(s, ev, result, d);
    }
    free(ev);
    return rc ? rc : cf_error_set(d, CF_EUNKNOWN_CARD, "card", "the card identifies nobody");
}

/* Which recipient the start is for: the plan's, the chosen one, or the card's. */
static int start_target(struct ag_store *s, const struct ag_visit_start *req,
                        uint8_t target[CF_UUID_LEN], bool *chosen, struct cf_error_detail *d)
{
    *chosen = false;
    if (req->plan_id) {
        struct ag_plan plan;
        struct ag_visit_row row;
        int rc = ag_plan_load(s, req->plan_id, &plan);
        if (rc)
            return cf_error_set(d, rc, "plan", "the plan is not in the terminal's data");
        rc = ag_store_visit_find(s, AG_FIND_PLAN, req->plan_id, &row);
        if (!rc && row.state != AG_VISIT_ATTEMPT)
            return cf_error_set(d, CF_EVISIT_STATE, "plan",
                                "this planned visit was already started or cancelled");
        if (rc && rc != CF_ENO_VISIT)
            return rc;
        if (req->recipient_id && memcmp(req->recipient_id, plan.recipient_id, CF_UUID_LEN))
            return cf_error_set(d, CF_EINVAL, "recipient", "the plan is for another recipient");
        memcpy(target, plan.recipient_id, CF_UUID_LEN);
        *chosen = true;
    } else if (req->recipient_id) {
        memcpy(target, req->recipient_id, CF_UUID_LEN);
        *chosen = true;
    }
    return 0;
}

int ag_visit_start(struct ag_store *store, const struct ag_visit_start *req,
                   struct ag_visit_result *result, struct cf_error_detail *d)
{
    struct ag_visit_row row;
    uint8_t target[CF_UUID_LEN] = {0};
    bool chosen = false;
    memset(result, 0, sizeof *result);
    if (!has_card(&req->card))
        return cf_error_set(d, CF_EINVAL, "card", "a visit starts with the recipient's card");
    int rc = open_visit(store, req->moment.wall_ms, &row);
    if (!rc) {
        memcpy(result->visit_id, row.visit_id, CF_UUID_LEN);
        return cf_error_set(d, CF_EVISIT_OPEN, "visit", "a visit is in progress");
    }
    if (rc != CF_ENO_VISIT)
        return rc;
    rc = start_target(store, req, target, &chosen, d);
    if (!rc && chosen &&
        (rc = ag_recipient_view(store, target, req->moment.wall_ms, &result->view)) != 0)
        return cf_error_set(d, rc, "recipient", "the recipient is not in the terminal's data");
    if (!rc)
        rc = identify(store, req->card.token, result);
    if (rc)
        return rc;
    if (result->candidate_count == 0)
        return record_unrecognized(store, req, result, d);
    result->card_matches = !chosen || is_candidate(result, target);
    if (!result->card_matches && !req->accept_other_card)
        return cf_error_set(d, CF_ECARD_OTHER, "card", "the card is another recipient's");
    if (!chosen && result->candidate_count > 1)
        return cf_error_set(d, CF_ECARD_AMBIGUOUS, "recipient",
                            "the card acts for several recipients: choose one");
    if (!chosen && cf_uuid_from_text(result->candidate_ids[0], target))
        return CF_ESTORE_DAMAGED;
    rc = ag_recipient_view(store, target, req->moment.wall_ms, &result->view);
    if (rc)
        return cf_error_set(d, rc, "recipient", "the recipient is not in the terminal's data");
    result->have_view = true;

    struct cf_event *ev = malloc(sizeof *ev);
    if (!ev)
        return CF_ENOMEM;
    rc = new_event(store, CF_EV_VISIT_STARTED, &req->moment, ev);
    if (!rc && req->visit_id)
        memcpy(ev->visit_id, req->visit_id, CF_UUID_LEN);
    else if (!rc)
        rc = cf_uuid_v7(req->moment.wall_ms, ev->visit_id);
    if (!rc) {
        memcpy(ev->recipient_id, target, CF_UUID_LEN);
        if (req->plan_id)
            memcpy(ev->plan_id, req->plan_id, CF_UUID_LEN);
        ev->card = req->card;
        ev->location = req->location;
        rc = append(store, ev, result, d);
    }
    free(ev);
    return rc;
}

/* ==== End ==== */

/* Every service must be one the certificate allows, within the volume left. */
static int check_services(const struct ag_recipient_view *v, const struct ag_visit_end *req,
                          struct cf_error_detail *d)
{
    for (size_t i = 0; i < req->service_count; i++) {
        const struct cf_service_done *s = &req->services[i];
        const struct ag_available *a = NULL;
        for (size_t k = 0; k < v->available_count && !a; k++)
            if (strcmp(v->available[k].code, s->code) == 0)
                a = &v->available[k];
        if (!a)
            return cf_error_set(d, CF_ESERVICE_NOT_ALLOWED, s->code,
                                "service %s is not in a certificate valid today", s->code);
        if (s->quantity > a->remaining)
            return cf_error_set(d, CF_ESERVICE_NOT_ALLOWED, s->code,
                                "service %s: %d asked, %ld left this period", s->code, s->quantity,
                                a->remaining);
    }
    return 0;
}

int ag_visit_end(struct ag_store *store, const struct ag_visit_end *req,
                 struct ag_visit_result *result, struct cf_error_detail *d)
{
    struct ag_visit_row row;
    memset(result, 0, sizeof *result);
    if (!has_card(&req->card))
        return cf_error_set(d, CF_EINVAL, "card", "a visit ends with the recipient's card");
    if (req->service_count > CF_MAX_SERVICES)
        return cf_error_set(d, CF_EFIELD_RANGE, "services", "too many services");
    int rc = req->visit_id ? ag_store_visit_find(store, AG_FIND_ID, req->visit_id, &row)
                           : open_visit(store, req->moment.wall_ms, &row);
    if (rc)
        return cf_error_set(d, rc, "visit", "no such visit in progress");
    if (row.state != AG_VISIT_STARTED)
        return cf_error_set(d, CF_EVISIT_STATE, "visit", "the visit is not in progress");
    rc = ag_recipient_view(store, row.recipient_id, req->moment.wall_ms, &result->view);
    if (rc)
        return cf_error_set(d, rc, "recipient", "the recipient is not in the terminal's data");
    result->have_view = true;
    rc = check_services(&result->view, req, d);
    if (!rc)
        rc = identify(store, req->card.token, result);
    if (rc)
        return rc;
    /* NOTE: another card does not block the end: the backend flags card_mismatch. */
    result->card_matches = is_candidate(result, row.recipient_id);

    struct cf_event *ev = malloc(sizeof *ev);
    if (!ev)
        return CF_ENOMEM;
    rc = new_event(store, CF_EV_VISIT_ENDED, &req->moment, ev);
    if (!rc) {
        memcpy(ev->visit_id, row.visit_id, CF_UUID_LEN);
        memcpy(ev->recipient_id, row.recipient_id, CF_UUID_LEN);
        memcpy(ev->plan_id, row.plan_id, CF_UUID_LEN);
        ev->card = req->card;
        ev->location = req->location;
        ev->service_count = req->service_count;
        memcpy(ev->services, req->services, req->service_count * sizeof req->services[0]);
        rc = append(store, ev, result, d);
    }
    free(ev);
    if (rc)
        return rc;
    bool same_boot = memcmp(row.start_boot_id, req->moment.boot_id, CF_UUID_LEN) == 0;
    result->clock_uncertain = !same_boot;
    result->duration_ms = same_boot ? req->moment.mono_ms - row.started_mono_ms
                                    : req->moment.wall_ms - row.started_wall_ms;
    return 0;
}

/* ==== Rating ==== */

int ag_visit_rate(struct ag_store *store, const uint8_t *visit_id, int rating, const char *comment,
                  const struct ag_moment *moment, struct ag_visit_result *result,
                  struct cf_error_detail *d)
{
    struct ag_visit_row row;
    memset(result, 0, sizeof *result);
    if (rating < 1 || rating > 5)
        return cf_error_set(d, CF_EFIELD_RANGE, "rating", "the rating is a number from 1 to 5");
    int rc = comment ? cf_event_check_comment(comment, d) : 0;
    if (rc)
        return rc;
    rc = visit_id ? ag_store_visit_find(store, AG_FIND_ID, visit_id, &row)
                  : ag_store_visit_find(store, AG_FIND_UNRATED, NULL, &row);
    if (rc)
        return cf_error_set(d, rc, "visit", "no ended visit to rate");
    if (row.state != AG_VISIT_ENDED)
        return cf_error_set(d, CF_EVISIT_STATE, "visit",
                            row.state == AG_VISIT_RATED ? "the visit is rated already"
                                                        : "the visit has not ended");
    struct cf_event *ev = malloc(sizeof *ev);
    if (!ev)
        return CF_ENOMEM;
    rc = new_event(store, CF_EV_VISIT_RATED, moment, ev);
    if (!rc) {
        memcpy(ev->visit_id, row.visit_id, CF_UUID_LEN);
        memcpy(ev->recipient_id, row.recipient_id, CF_UUID_LEN);
        memcpy(ev->plan_id, row.plan_id, CF_UUID_LEN);
        ev->rating = rating;
        snprintf(ev->comment, sizeof ev->comment, "%s", comment ? comment : "");
        rc = append(store, ev, result, d);
    }
    free(ev);
    return rc;
}

/* ==== Cancellation ==== */

/* Which visit a cancellation is about: row->state NONE means a plan not started. */
static int cancel_target(struct ag_store *s, const struct ag_visit_cancel *req,
                         struct ag_visit_row *row, struct cf_error_detail *d)
{
    memset(row, 0, sizeof *row);
    if (req->visit_id) {
        int rc = ag_store_visit_find(s, AG_FIND_ID, req->visit_id, row);
        return rc ? cf_error_set(d, rc, "visit", "no such visit") : 0;
    }
    if (!req->plan_id) {
        int rc = open_visit(s, req->moment.wall_ms, row);
        return rc ? cf_error_set(d, rc, "visit", "no visit in progress") : 0;
    }
    struct ag_plan plan;
    int rc = ag_plan_load(s, req->plan_id, &plan);
    if (rc)
        return cf_error_set(d, rc, "plan", "the plan is not in the terminal's data");
    rc = ag_store_visit_find(s, AG_FIND_PLAN, req->plan_id, row);
    if (rc == CF_ENO_VISIT || (!rc && row->state == AG_VISIT_ATTEMPT)) {
        memset(row, 0, sizeof *row);
        memcpy(row->recipient_id, plan.recipient_id, CF_UUID_LEN);
        memcpy(row->plan_id, req->plan_id, CF_UUID_LEN);
        return cf_uuid_v7(req->moment.wall_ms, row->visit_id);
    }
    return rc;
}

int ag_visit_cancel(struct ag_store *store, const struct ag_visit_cancel *req,
                    struct ag_visit_result *result, struct cf_error_detail *d)
{
    struct ag_visit_row row;
    memset(result, 0, sizeof *result);
    int rc = cancel_target(store, req, &row, d);
    if (rc)
        return rc;
    if (row.state != AG_VISIT_NONE && row.state != AG_VISIT_STARTED)
        return cf_error_set(d, CF_EVISIT_STATE, "visit",
                            "the visit has ended or was cancelled already");
    struct cf_event *ev = malloc(sizeof *ev);
    if (!ev)
        return CF_ENOMEM;
    rc = new_event(store, CF_EV_VISIT_CANCELLED, &req->moment, ev);
    if (!rc) {
        memcpy(ev->visit_id, row.visit_id, CF_UUID_LEN);
        memcpy(ev->recipient_id, row.recipient_id, CF_UUID_LEN);
        memcpy(ev->plan_id, row.plan_id, CF_UUID_LEN);
        ev->reason = req->reason;
        ev->cancelled_by = req->cancelled_by;
        rc = append(store, ev, result, d);
    }
    free(ev);
    if (!rc && row.state == AG_VISIT_STARTED)
        result->since_start_ms = memcmp(row.start_boot_id, req->moment.boot_id, CF_UUID_LEN) == 0
                                     ? req->moment.mono_ms - row.started_mono_ms
                                     : req->moment.wall_ms - row.started_wall_ms;
    return rc;
}

/* ==== Door attempt ==== */

int ag_visit_attempt(struct ag_store *store, const struct ag_visit_attempt *req,
                     struct ag_visit_result *result, struct cf_error_detail *d)
{
    uint8_t recipient[CF_UUID_LEN];
    memset(result, 0, sizeof *result);
    int rc = 0;
    if (req->plan_id) {
        struct ag_plan plan;
        struct ag_visit_row row;
        rc = ag_plan_load(store, req->plan_id, &plan);
        if (rc)
            return cf_error_set(d, rc, "plan", "the plan is not in the terminal's data");
        rc = ag_store_visit_find(store, AG_FIND_PLAN, req->plan_id, &row);
        if (!rc && row.state != AG_VISIT_ATTEMPT)
            return cf_error_set(d, CF_EVISIT_STATE, "plan",
                                "this planned visit was already started or cancelled");
        if (rc && rc != CF_ENO_VISIT)
            return rc;
        memcpy(recipient, plan.recipient_id, CF_UUID_LEN);
    } else if (req->recipient_id) {
        memcpy(recipient, req->recipient_id, CF_UUID_LEN);
    } else {
        return cf_error_set(d, CF_EINVAL, "recipient", "say which plan or recipient");
    }
    rc = ag_recipient_view(store, recipient, req->moment.wall_ms, &result->view);
    if (rc)
        return cf_error_set(d, rc, "recipient", "the recipient is not in the terminal's data");
    result->have_view = true;
    if (has_card(&req->card)) {
        rc = identify(store, req->card.token, result);
        if (rc)
            return rc;
        result->card_matches = is_candidate(result, recipient);
    }
    struct cf_event *ev = malloc(sizeof *ev);
    if (!ev)
        return CF_ENOMEM;
    rc = new_event(store, CF_EV_VISIT_ATTEMPT, &req->moment, ev);
    if (!rc) {
        memcpy(ev->recipient_id, recipient, CF_UUID_LEN);
        if (req->plan_id)
            memcpy(ev->plan_id, req->plan_id, CF_UUID_LEN);
        ev->reason = req->reason;
        if (has_card(&req->card)) {
            ev->card = req->card;
            drop_proof(&ev->card);
        }
        ev->location = req->location;
        rc = append(store, ev, result, d);
    }
    free(ev);
    return rc;
}

/* ==== Card binding ==== */

int ag_card_bind(struct ag_store *store, const uint8_t recipient_id[CF_UUID_LEN],
                 const struct cf_card_assurance *card, const struct ag_moment *moment,
                 struct ag_visit_result *result, struct cf_error_detail *d)
{
    memset(result, 0, sizeof *result);
    if (!has_card(card))
        return cf_error_set(d, CF_EINVAL, "card", "binding needs the card");
    int rc = ag_recipient_view(store, recipient_id, moment->wall_ms, &result->view);
    if (rc)
        return cf_error_set(d, rc, "recipient", "the recipient is not in the terminal's data");
    result->have_view = true;
    struct cf_event *ev = malloc(sizeof *ev);
    if (!ev)
        return CF_ENOMEM;
    rc = new_event(store, CF_EV_CARD_BOUND, moment, ev);
    if (!rc) {
        memcpy(ev->recipient_id, recipient_id, CF_UUID_LEN);
        ev->card = *card;
        rc = append(store, ev, result, d);
    }
    free(ev);
    return rc;
}

/* ==== Check-in at an office's desk ==== */

int ag_card_check_in(struct ag_store *store, const struct cf_card_assurance *card,
                     const struct ag_moment *moment, struct ag_visit_result *result,
                     struct cf_error_detail *d)
{
    memset(result, 0, sizeof *result);
    if (!has_card(card))
        return cf_error_set(d, CF_EINVAL, "card", "a check-in needs the person's card");
    struct cf_event *ev = malloc(sizeof *ev);
    if (!ev)
        return CF_ENOMEM;
    int rc = new_event(store, CF_EV_APPOINTMENT_CHECKED_IN, moment, ev);
    if (!rc) {
        ev->card = *card; /* with its proof: read with this event's challenge */
        rc = append(store, ev, result, d);
    }
    free(ev);
    return rc;
}
