/* The event model (see cf/event.h): wire names, semantic validation, the canonical
 * binary encoding and its SHA-256 digest, and the per-device chain check.
 *
 * The device and the server both run cf_event_digest on the decoded struct, never
 * on JSON text, so whitespace or key order in transit cannot change a digest. */
#include "cf/event.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cf/act.h"
#include "cf/codec.h"
#include "cf/json.h"
#include "cf/text.h"
#include "cf/uuid.h"

#define WALL_MS_MIN INT64_C(946684800000) /* 2000-01-01T00:00:00Z */
#define WALL_MS_END INT64_C(4133980800000) /* 2101-01-01T00:00:00Z, first ms refused */
#define DIGEST_DOMAIN "carefact.event.v1"
#define DIGEST_DOMAIN_V2 "carefact.event.v2"
#define DIGEST_DOMAIN_V3 "carefact.event.v3"
#define CHALLENGE_DOMAIN "carefact.card-challenge.v1"

/* ==== Names ==== */

static const char *const kind_names[] = {
    [CF_EV_VISIT_STARTED] = "visit.started",
    [CF_EV_VISIT_ENDED] = "visit.ended",
    [CF_EV_VISIT_RATED] = "visit.rated",
    [CF_EV_VISIT_CANCELLED] = "visit.cancelled",
    [CF_EV_VISIT_ATTEMPT] = "visit.attempt",
    [CF_EV_CARD_UNRECOGNIZED] = "card.unrecognized",
    [CF_EV_CARD_BOUND] = "card.bound",
    [CF_EV_APPOINTMENT_CHECKED_IN] = "appointment.checked_in",
    [CF_EV_APPLICATION_FILED] = "application.filed",
    [CF_EV_HOME_SURVEY_RECORDED] = "home_survey.recorded",
    [CF_EV_AID_HANDED_OVER] = "aid.handed_over",
    [CF_EV_SURVEY_ANSWERED] = "survey.answered",
};
static const char *const method_names[] = {[CF_CARD_EMV] = "emv", [CF_CARD_UID] = "uid"};
static const char *const reason_names[] = {
    [CF_REASON_NOBODY_HOME] = "nobody_home",
    [CF_REASON_REFUSED] = "refused",
    [CF_REASON_IN_HOSPITAL] = "in_hospital",
    [CF_REASON_WORKER_ILL] = "worker_ill",
    [CF_REASON_OTHER] = "other",
};
static const char *const actor_names[] = {[CF_ACTOR_WORKER] = "worker",
                                          [CF_ACTOR_RECIPIENT] = "recipient",
                                          [CF_ACTOR_PROVIDER] = "provider"};
static const char *const proof_kind_names[] = {[CF_PROOF_NONE] = "none",
                                               [CF_PROOF_SDA] = "sda",
                                               [CF_PROOF_DDA] = "dda",
                                               [CF_PROOF_FDDA] = "fdda",
                                               [CF_PROOF_CDA] = "cda"};
static const char *const scheme_names[] = {"mir",  "visa", "mastercard", "maestro", "unionpay",
                                           "amex", "jcb",  "interac",    "other"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_at(const char *const *names, size_t count, int value)
{
    if (value <= 0 || (size_t)value >= count)
        return NULL;
    return names[value];
}

static int index_of(const char *const *names, size_t count, const char *name)
{
    if (!name)
        return 0;
    for (size_t i = 1; i < count; i++)
        if (names[i] && strcmp(names[i], name) == 0)
            return (int)i;
    return 0;
}

const char *cf_event_kind_name(enum cf_event_kind kind)
{
    return name_at(kind_names, COUNT(kind_names), (int)kind);
}

enum cf_event_kind cf_event_kind_from_name(const char *name)
{
    return (enum cf_event_kind)index_of(kind_names, COUNT(kind_names), name);
}

const char *cf_card_method_name(enum cf_card_method method)
{
    return method == CF_CARD_NONE ? "" : name_at(method_names, COUNT(method_names), (int)method);
}

int cf_card_method_from_name(const char *name, enum cf_card_method *out)
{
    int i = index_of(method_names, COUNT(method_names), name);
    if (!i)
        return CF_EFIELD_RANGE;
    *out = (enum cf_card_method)i;
    return 0;
}

const char *cf_reason_name(enum cf_reason reason)
{
    return name_at(reason_names, COUNT(reason_names), (int)reason);
}

int cf_reason_from_name(const char *name, enum cf_reason *out)
{
    int i = index_of(reason_names, COUNT(reason_names), name);
    if (!i)
        return CF_EFIELD_RANGE;
    *out = (enum cf_reason)i;
    return 0;
}

const char *cf_actor_name(enum cf_actor actor)
{
    return name_at(actor_names, COUNT(actor_names), (int)actor);
}

int cf_actor_from_name(const char *name, enum cf_actor *out)
{
    int i = index_of(actor_names, COUNT(actor_names), name);
    if (!i)
        return CF_EFIELD_RANGE;
    *out = (enum cf_actor)i;
    return 0;
}

const char *cf_proof_kind_name(enum cf_proof_kind kind)
{
    return name_at(proof_kind_names, COUNT(proof_kind_names), (int)kind);
}

int cf_proof_kind_from_name(const char *name, enum cf_proof_kind *out)
{
    int i = index_of(proof_kind_names, COUNT(proof_kind_names), name);
    if (!i)
        return CF_EFIELD_RANGE;
    *out = (enum cf_proof_kind)i;
    return 0;
}

/* ==== The card proof ==== */

#define PROOF_FIELD(name)                                                                          \
    {                                                                                              \
#name, offsetof(struct cf_card_proof, name),                                               \
            sizeof(((struct cf_card_proof *)0)->name.data)                                         \
    }

/* In encoding order (api/PROTOCOL.md 5, field 27). Every entry is a struct whose
 * first member is size_t len and second the data array (cf_proof_bytes or
 * cf_proof_static), so one offset finds both. */
static const struct {
    const char *name;
    size_t offset;
    size_t cap;
} proof_fields[CF_PROOF_FIELDS] = {
    PROOF_FIELD(aid),         PROOF_FIELD(aip),           PROOF_FIELD(ca_index),
    PROOF_FIELD(issuer_cert), PROOF_FIELD(issuer_exp),    PROOF_FIELD(issuer_rem),
    PROOF_FIELD(icc_cert),    PROOF_FIELD(icc_exp),       PROOF_FIELD(icc_rem),
    PROOF_FIELD(static_data), PROOF_FIELD(ssad),          PROOF_FIELD(sdad),
    PROOF_FIELD(ddol),        PROOF_FIELD(terminal_data), PROOF_FIELD(tx_data),
};

_Static_assert(offsetof(struct cf_proof_bytes, data) == offsetof(struct cf_proof_static, data),
               "proof fields share one layout");

const char *cf_card_proof_field_mut(struct cf_card_proof *proof, size_t index, uint8_t **data,
                                    size_t **len, size_t *cap)
{
    if (!proof || index >= CF_PROOF_FIELDS)
        return NULL;
    uint8_t *base = (uint8_t *)proof + proof_fields[index].offset;
    *len = (size_t *)(void *)base;
    *data = base + offsetof(struct cf_proof_bytes, data);
    *cap = proof_fields[index].cap;
    return proof_fields[index].name;
}

const char *cf_card_proof_field(const struct cf_card_proof *proof, size_t index,
                                const uint8_t **data, size_t *len, size_t *cap)
{
    uint8_t *d = NULL;
    size_t *l = NULL;
    const char *name = cf_card_proof_field_mut((struct cf_card_proof *)proof, index, &d, &l, cap);
    if (name) {
        *data = d;
        *len = *l;
    }
    return name;
}

int cf_card_challenge(const uint8_t device_id[16], uint64_t seq, const uint8_t prev_digest[32],
                      const uint8_t visit_id[16], uint8_t challenge[CF_CHALLENGE_LEN])
{
    if (!device_id || !prev_digest || !visit_id || !challenge)
        return CF_EINVAL;
    uint8_t seq_be[8], digest[CF_DIGEST_LEN];
    for (int i = 7; i >= 0; i--) {
        seq_be[i] = (uint8_t)(seq & 0xff);
        seq >>= 8;
    }
    unsigned int out_len = 0;
    int rc = CF_ECRYPTO;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md)
        return CF_ENOMEM;
    if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
        EVP_DigestUpdate(md, CHALLENGE_DOMAIN, sizeof CHALLENGE_DOMAIN) == 1 && /* with NUL */
        EVP_DigestUpdate(md, device_id, CF_UUID_LEN) == 1 &&
        EVP_DigestUpdate(md, seq_be, sizeof seq_be) == 1 &&
        EVP_DigestUpdate(md, prev_digest, CF_DIGEST_LEN) == 1 &&
        EVP_DigestUpdate(md, visit_id, CF_UUID_LEN) == 1 &&
        EVP_DigestFinal_ex(md, digest, &out_len) == 1 && out_len == CF_DIGEST_LEN) {
        memcpy(challenge, digest, CF_CHALLENGE_LEN);
        rc = 0;
    }
    EVP_MD_CTX_free(md);
    return rc;
}

/* ==== Validation ==== */

static bool is_digits(const char *s, size_t len)
{
    if (strlen(s) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool is_service_code(const char *code)
{
    size_t len = strlen(code);
    if (len == 0 || len > CF_SERVICE_CODE_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = code[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

static bool is_known_scheme(const char *scheme)
{
    for (size_t i = 0; i < COUNT(scheme_names); i++)
        if (strcmp(scheme, scheme_names[i]) == 0)
            return true;
    return false;
}

static int validate_proof(const struct cf_card_assurance *card, struct cf_error_detail *d);

static int validate_card(const struct cf_card_assurance *card, bool required,
                         struct cf_error_detail *d)
{
    if (card->method == CF_CARD_NONE) {
        if (required)
            return cf_error_set(d, CF_EFIELD_MISSING, "card",
                                "card is required for this kind of event");
        if (card->token[0] || card->scheme[0] || card->last4[0] ||
            card->proof.kind != CF_PROOF_ABSENT)
            return cf_error_set(d, CF_EFIELD_RANGE, "card",
                                "card details given without a card method");
        return 0;
    }
    if (card->method != CF_CARD_EMV && card->method != CF_CARD_UID)
        return cf_error_set(d, CF_EFIELD_RANGE, "card.method", "card.method must be emv or uid");
    uint8_t raw[16];
    size_t raw_len = 0;
    if (strlen(card->token) != CF_TOKEN_TEXT_LEN ||
        cf_base64url_decode(card->token, CF_TOKEN_TEXT_LEN, raw, sizeof raw, &raw_len) ||
        raw_len != 16)
        return cf_error_set(d, CF_EFIELD_RANGE, "card.token",
                            "card.token must be 22 base64url characters (16 bytes)");
    if (card->method == CF_CARD_EMV) {
        if (!is_digits(card->last4, 4))
            return cf_error_set(d, CF_EFIELD_RANGE, "card.last4",
                                "card.last4 must be the last four digits of the card number");
        if (!is_known_scheme(card->scheme))
            return cf_error_set(d, CF_EFIELD_RANGE, "card.scheme",
                                "card.scheme must be one of mir, visa, mastercard, maestro, "
                                "unionpay, amex, jcb, interac, other");
    } else if (card->last4[0]) {
        return cf_error_set(d, CF_EFIELD_RANGE, "card.last4",
                            "card.last4 must be empty for a uid card (it has no card number)");
    } else if (card->scheme[0]) {
        return cf_error_set(d, CF_EFIELD_RANGE, "card.scheme",
                            "card.scheme must be empty for a uid card (it has no payment scheme)");
    }
    return validate_proof(card, d);
}

/* Which proof fields each kind requires (R), allows (O) or forbids (-), in the order
 * of proof_fields: aid aip ca_index issuer_cert issuer_exp issuer_rem icc_cert icc_exp
 * icc_rem static_data ssad sdad ddol terminal_data tx_data. */
static const char *const proof_rules[] = {
    [CF_PROOF_NONE] = "RR-------------", [CF_PROOF_SDA] = "RRRRRO---OR----",
    [CF_PROOF_DDA] = "RRRRRORROO-RRR-",  [CF_PROOF_FDDA] = "RRRRRORROO-R-R-",
    [CF_PROOF_CDA] = "RRRRRORROO-R-RR",
};

static int validate_proof(const struct cf_card_assurance *card, struct cf_error_detail *d)
{
    const struct cf_card_proof *p = &card->proof;
    if (p->kind == CF_PROOF_ABSENT) {
        for (size_t i = 0; i < CF_PROOF_FIELDS; i++) {
            const uint8_t *data;
            size_t len, cap;
            cf_card_proof_field(p, i, &data, &len, &cap);
            if (len)
                return cf_error_set(d, CF_EFIELD_RANGE, "card.proof",
                                    "card.proof values given without a proof kind");
        }
        return 0;
    }
    if (!cf_proof_kind_name(p->kind))
        return cf_error_set(d, CF_EFIELD_RANGE, "card.proof.kind",
                            "card.proof.kind must be none, sda, dda, fdda or cda");
    if (card->method != CF_CARD_EMV)
        return cf_error_set(d, CF_EFIELD_RANGE, "card.proof",
                            "card.proof belongs to an emv card only (a uid card cannot sign)");
    return cf_card_proof_check(p, d);
}

int cf_card_proof_check(const struct cf_card_proof *p, struct cf_error_detail *d)
{
    if (!p || !cf_proof_kind_name(p->kind))
        return cf_error_set(d, CF_EFIELD_RANGE, "card.proof.kind",
                            "card.proof.kind must be none, sda, dda, fdda or cda");
    const char *rule = proof_rules[p->kind];
    for (size_t i = 0; i < CF_PROOF_FIELDS; i++) {
        const uint8_t *data;
        size_t len, cap;
        char field[48];
        const char *name = cf_card_proof_field(p, i, &data, &len, &cap);
        snprintf(field, sizeof field, "card.proof.%s", name);
        if (len > cap)
            return cf_error_set(d, CF_EFIELD_RANGE, field, "%s is at most %zu bytes", field, cap);
        if (rule[i] == 'R' && !len)
            return cf_error_set(d, CF_EFIELD_MISSING, field,
                                "%s is required for a proof of kind %s", field,
                                cf_proof_kind_name(p->kind));
        if (rule[i] == '-' && len)
            return cf_error_set(d, CF_EFIELD_RANGE, field,
                                "%s does not belong to a proof of kind %s", field,
                                cf_proof_kind_name(p->kind));
    }
    if (p->aid.len < 5 || p->aid.len > 16)
        return cf_error_set(d, CF_EFIELD_RANGE, "card.proof.aid",
                            "card.proof.aid must be 5 to 16 bytes (an EMV application id)");
    if (p->aip.len != 2)
        return cf_error_set(d, CF_EFIELD_RANGE, "card.proof.aip",
                            "card.proof.aip must be 2 bytes (tag 82)");
    if (p->kind != CF_PROOF_NONE && p->ca_index.len != 1)
        return cf_error_set(d, CF_EFIELD_RANGE, "card.proof.ca_index",
                            "card.proof.ca_index must be 1 byte (tag 8F)");
    if (p->issuer_exp.len > 3)
        return cf_error_set(d, CF_EFIELD_RANGE, "card.proof.issuer_exp",
                            "card.proof.issuer_exp must be 1 to 3 bytes (tag 9F32)");
    if (p->icc_exp.len > 3)
        return cf_error_set(d, CF_EFIELD_RANGE, "card.proof.icc_exp",
                            "card.proof.icc_exp must be 1 to 3 bytes (tag 9F47)");
    return 0;
}

static int validate_location(const struct cf_location *loc, struct cf_error_detail *d)
{
    if (!loc->present) {
        if (loc->lat_e7 || loc->lon_e7 || loc->accuracy_m)
            return cf_error_set(d, CF_EFIELD_RANGE, "location", "location values without a fix");
        return 0;
    }
    if (loc->lat_e7 < -900000000 || loc->lat_e7 > 900000000)
        return cf_error_set(d, CF_EFIELD_RANGE, "location.lat_e7",
                            "location.lat_e7 must be between -900000000 and 900000000");
    if (loc->lon_e7 < -1800000000 || loc->lon_e7 > 1800000000)
        return cf_error_set(d, CF_EFIELD_RANGE, "location.lon_e7",
                            "location.lon_e7 must be between -1800000000 and 1800000000");
    if (loc->accuracy_m < 0 || loc->accuracy_m > 100000)
        return cf_error_set(d, CF_EFIELD_RANGE, "location.accuracy_m",
                            "location.accuracy_m must be between 0 and 100000 metres");
    return 0;
}

static int validate_services(const struct cf_event *ev, struct cf_error_detail *d)
{
    if (ev->service_count > CF_MAX_SERVICES)
        return cf_error_set(d, CF_EFIELD_RANGE, "services", "at most %d services per visit",
                            CF_MAX_SERVICES);
    if (ev->service_count && ev->kind != CF_EV_VISIT_ENDED)
        return cf_error_set(d, CF_EFIELD_RANGE, "services",
                            "services are recorded only with visit.ended");
    for (size_t i = 0; i < ev->service_count; i++) {
        char field[48];
        const struct cf_service_done *s = &ev->services[i];
        if (!is_service_code(s->code)) {
            snprintf(field, sizeof field, "services[%zu].code", i);
            return cf_error_set(d, CF_EFIELD_RANGE, field,
                                "%s must be 1-32 characters of A-Z a-z 0-9 . _ -", field);
        }
        if (s->quantity < 1 || s->quantity > CF_SERVICE_QUANTITY_MAX) {
            snprintf(field, sizeof field, "services[%zu].quantity", i);
            return cf_error_set(d, CF_EFIELD_RANGE, field, "%s must be between 1 and %d", field,
                                CF_SERVICE_QUANTITY_MAX);
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(ev->services[j].code, s->code) == 0) {
                snprintf(field, sizeof field, "services[%zu].code", i);
                return cf_error_set(d, CF_EFIELD_RANGE, field,
                                    "%s: service %s is listed twice; give one entry with its "
                                    "quantity",
                                    field, s->code);
            }
    }
    return 0;
}

int cf_event_check_comment(const char *comment, struct cf_error_detail *d)
{
    /* Over the bytes first: a text cut inside a character is too long, not malformed. */
    long chars =
        strlen(comment) > CF_COMMENT_MAX_BYTES ? CF_COMMENT_MAX_CHARS + 1 : cf_text_chars(comment);
    if (chars < 0)
        return cf_error_set(d, CF_EFIELD_RANGE, "comment",
                            "comment must be UTF-8 text without control characters");
    if (chars > CF_COMMENT_MAX_CHARS)
        return cf_error_set(d, CF_EFIELD_RANGE, "comment", "comment is at most %d characters",
                            CF_COMMENT_MAX_CHARS);
    return 0;
}

/* Programmer error, not bad input: every string of the struct must end inside its
 * array, or strlen would read past it. */
static bool strings_terminated(const struct cf_event *ev)
{
    bool ok = memchr(ev->comment, '\0', sizeof ev->comment) &&
              memchr(ev->card.token, '\0', sizeof ev->card.token) &&
              memchr(ev->card.scheme, '\0', sizeof ev->card.scheme) &&
              memchr(ev->card.last4, '\0', sizeof ev->card.last4) &&
              memchr(ev->body, '\0', sizeof ev->body);
    for (size_t i = 0; ok && i < ev->service_count && i < CF_MAX_SERVICES; i++)
        ok = memchr(ev->services[i].code, '\0', sizeof ev->services[i].code) != NULL;
    return ok;
}

static int require_id(const uint8_t id[CF_UUID_LEN], const char *field, struct cf_error_detail *d)
{
    if (cf_uuid_is_nil(id))
        return cf_error_set(d, CF_EFIELD_MISSING, field, "%s is required for this kind of event",
                            field);
    return 0;
}

/* Which fields each kind requires (worker_id and boot_id: every kind, since every
 * event is made on a worker's terminal and carries its monotonic clock). */
struct kind_rule {
    bool visit_id, recipient_id, card_required, reason, rating;
    bool no_visit; /* visit_id must be absent: the event belongs to no visit */
};

static const struct kind_rule kind_rules[] = {
    [CF_EV_VISIT_STARTED] = {.visit_id = true, .recipient_id = true, .card_required = true},
    [CF_EV_VISIT_ENDED] = {.visit_id = true, .recipient_id = true, .card_required = true},
    [CF_EV_VISIT_RATED] = {.visit_id = true, .rating = true},
    [CF_EV_VISIT_CANCELLED] = {.visit_id = true, .reason = true},
    [CF_EV_VISIT_ATTEMPT] = {.recipient_id = true, .reason = true},
    [CF_EV_CARD_UNRECOGNIZED] = {.card_required = true},
    [CF_EV_CARD_BOUND] = {.recipient_id = true, .card_required = true},
    [CF_EV_APPOINTMENT_CHECKED_IN] = {.card_required = true, .no_visit = true},
    [CF_EV_APPLICATION_FILED] = {.no_visit = true},
    [CF_EV_HOME_SURVEY_RECORDED] = {.no_visit = true},
    [CF_EV_AID_HANDED_OVER] = {.card_required = true, .no_visit = true},
    [CF_EV_SURVEY_ANSWERED] = {.no_visit = true}, /* the visit is named in the body */
};

static int validate_kind_fields(const struct cf_event *ev, struct cf_error_detail *d)
{
    const struct kind_rule *rule = &kind_rules[ev->kind];
    int rc = require_id(ev->worker_id, "worker_id", d);
    if (!rc && rule->visit_id)
        rc = require_id(ev->visit_id, "visit_id", d);
    if (!rc && rule->recipient_id)
        rc = require_id(ev->recipient_id, "recipient_id", d);
    if (rc)
        return rc;
    if (rule->no_visit && !cf_uuid_is_nil(ev->visit_id))
        return cf_error_set(d, CF_EFIELD_RANGE, "visit_id",
                            "visit_id belongs to no %s: it is not a visit",
                            cf_event_kind_name(ev->kind));
    if (rule->rating && (ev->rating < 1 || ev->rating > 5))
        return cf_error_set(d, ev->rating ? CF_EFIELD_RANGE : CF_EFIELD_MISSING, "rating",
                            "rating must be a whole number from 1 to 5");
    if (!rule->rating && ev->rating)
        return cf_error_set(d, CF_EFIELD_RANGE, "rating", "rating belongs to visit.rated only");
    if (rule->reason && !cf_reason_name(ev->reason))
        return cf_error_set(d, ev->reason == CF_REASON_NONE ? CF_EFIELD_MISSING : CF_EFIELD_RANGE,
                            "reason",
                            "reason is required: nobody_home, refused, in_hospital, "
                            "worker_ill or other");
    if (!rule->reason && ev->reason != CF_REASON_NONE)
        return cf_error_set(d, CF_EFIELD_RANGE, "reason",
                            "reason belongs to visit.cancelled and visit.attempt only");
    bool cancelled = ev->kind == CF_EV_VISIT_CANCELLED;
    if (cancelled && !cf_actor_name(ev->cancelled_by))
        return cf_error_set(
            d, ev->cancelled_by == CF_ACTOR_NONE ? CF_EFIELD_MISSING : CF_EFIELD_RANGE,
            "cancelled_by", "cancelled_by is required: worker, recipient or provider");
    if (!cancelled && ev->cancelled_by != CF_ACTOR_NONE)
        return cf_error_set(d, CF_EFIELD_RANGE, "cancelled_by",
                            "cancelled_by belongs to visit.cancelled only");
    return validate_card(&ev->card, rule->card_required, d);
}

int cf_event_validate(const struct cf_event *ev, struct cf_error_detail *d)
{
    if (!ev)
        return CF_EINVAL;
    if (!cf_event_kind_name(ev->kind))
        return cf_error_set(d, CF_EKIND, "kind", "unknown event kind");
    if (ev->seq < 1 || ev->seq > (uint64_t)CF_JSON_INT_MAX)
        return cf_error_set(d, CF_EFIELD_RANGE, "seq", "seq must be between 1 and %lld",
                            (long long)CF_JSON_INT_MAX);
    if (ev->wall_ms < WALL_MS_MIN || ev->wall_ms >= WALL_MS_END)
        return cf_error_set(d, CF_EFIELD_RANGE, "wall_ms",
                            "wall_ms must be a UTC time in ms between the years 2000 and 2100");
    if (ev->mono_ms < 0 || ev->mono_ms > CF_JSON_INT_MAX)
        return cf_error_set(d, CF_EFIELD_RANGE, "mono_ms",
                            "mono_ms must be between 0 and %lld milliseconds",
                            (long long)CF_JSON_INT_MAX);
    if (cf_uuid_is_nil(ev->boot_id))
        return cf_error_set(d, CF_EFIELD_MISSING, "boot_id", "boot_id is required");
    if (!strings_terminated(ev))
        return cf_error_set(d, CF_EINVAL, "", "a text field of the event is not NUL-terminated");
    int rc = cf_event_check_comment(ev->comment, d);
    if (!rc)
        rc = validate_kind_fields(ev, d);
    if (!rc)
        rc = validate_location(&ev->location, d);
    if (!rc)
        rc = validate_services(ev, d);
    if (!rc)
        rc = cf_act_body_check(ev, d);
    return rc;
}

/* ==== Canonical encoding ==== */

struct writer {
    uint8_t *out; /* NULL: only count */
    size_t size;
    size_t pos;
    bool overflow;
};

static void put_bytes(struct writer *w, const void *bytes, size_t len)
{
    if (w->out && !w->overflow) {
        if (w->size - w->pos < len)
            w->overflow = true;
        else
            memcpy(w->out + w->pos, bytes, len);
    }
    w->pos += len;
}

static void put_u64(struct writer *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 7; i >= 0; i--) {
        b[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
    put_bytes(w, b, sizeof b);
}

static void put_int(struct writer *w, int64_t v)
{
    put_u64(w, (uint64_t)v);
}

static void put_u32(struct writer *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put_bytes(w, b, sizeof b);
}

/* Length-prefixed, so moving bytes from one string to the next changes the encoding.
 * Every string field is bounded far below 2^32 by its array in struct cf_event. */
static void put_str(struct writer *w, const char *s, size_t cap)
{
    size_t len = strnlen(s, cap); /* cap: an unterminated array is not read past its end */
    put_u32(w, (uint32_t)len); /* the prefix: where this string ends */
    put_bytes(w, s, len);
}

/* Field 27 of version 2: the kind, then every byte field length-prefixed. */
static int put_proof(struct writer *w, const struct cf_card_proof *p)
{
    put_int(w, p->kind);
    for (size_t i = 0; i < CF_PROOF_FIELDS; i++) {
        const uint8_t *data;
        size_t len, cap;
        cf_card_proof_field(p, i, &data, &len, &cap);
        if (len > cap)
            return CF_EINVAL;
        put_u32(w, (uint32_t)len);
        put_bytes(w, data, len);
    }
    return 0;
}

long cf_event_encode(const struct cf_event *ev, uint8_t *out, size_t out_size)
{
    if (!ev || ev->service_count > CF_MAX_SERVICES)
        return CF_EINVAL;
    struct writer w = {.out = out, .size = out_size};
    const size_t body_len = strnlen(ev->body, sizeof ev->body);
    const bool with_body = body_len > 0;
    const bool with_proof = ev->card.proof.kind != CF_PROOF_ABSENT || with_body;
    const uint8_t version = with_body ? 3 : with_proof ? 2 : 1;
    if (body_len > CF_BODY_MAX_BYTES)
        return CF_EINVAL;
    put_bytes(&w, &version, 1);
    put_bytes(&w, ev->device_id, CF_UUID_LEN);
    put_u64(&w, ev->seq);
    put_bytes(&w, ev->prev_digest, CF_DIGEST_LEN);
    put_int(&w, ev->kind);
    put_bytes(&w, ev->visit_id, CF_UUID_LEN);
    put_bytes(&w, ev->worker_id, CF_UUID_LEN);
    put_bytes(&w, ev->recipient_id, CF_UUID_LEN);
    put_bytes(&w, ev->plan_id, CF_UUID_LEN);
    put_int(&w, ev->wall_ms);
    put_int(&w, ev->mono_ms);
    put_bytes(&w, ev->boot_id, CF_UUID_LEN);
    put_int(&w, ev->card.method);
    put_str(&w, ev->card.token, sizeof ev->card.token);
    put_str(&w, ev->card.scheme, sizeof ev->card.scheme);
    put_str(&w, ev->card.last4, sizeof ev->card.last4);
    const uint8_t present = ev->location.present ? 1 : 0;
    put_bytes(&w, &present, 1);
    put_int(&w, ev->location.lat_e7);
    put_int(&w, ev->location.lon_e7);
    put_int(&w, ev->location.accuracy_m);
    put_u32(&w, (uint32_t)ev->service_count);
    for (size_t i = 0; i < ev->service_count; i++) {
        put_str(&w, ev->services[i].code, sizeof ev->services[i].code);
        put_int(&w, ev->services[i].quantity);
    }
    put_int(&w, ev->rating);
    put_str(&w, ev->comment, sizeof ev->comment);
    put_int(&w, ev->reason);
    put_int(&w, ev->cancelled_by);
    if (with_proof && put_proof(&w, &ev->card.proof))
        return CF_EINVAL;
    if (with_body) { /* field 28 of version 3: the act's canonical body */
        put_u32(&w, (uint32_t)body_len);
        put_bytes(&w, ev->body, body_len);
    }
    if (out && w.overflow)
        return CF_ENOSPACE;
    return (long)w.pos;
}

int cf_event_digest(const struct cf_event *ev, uint8_t digest[CF_DIGEST_LEN])
{
    /* The largest event without a proof (32 services of 32 bytes, a comment of 1000
     * characters = at most 4000 bytes) encodes to under 6 KiB; with a proof (16 KiB of
     * fields at most) it goes to the heap. */
    uint8_t stack_buf[8192];
    uint8_t *buf = stack_buf;
    long len = cf_event_encode(ev, NULL, 0);
    if (len < 0)
        return (int)len;
    if ((size_t)len > sizeof stack_buf && !(buf = malloc((size_t)len)))
        return CF_ENOMEM;
    len = cf_event_encode(ev, buf, (size_t)len);
    int rc = CF_ECRYPTO;
    unsigned int out_len = 0;
    const char *domain = DIGEST_DOMAIN;
    size_t domain_len = sizeof DIGEST_DOMAIN;
    if (len > 0 && buf[0] == 2)
        domain = DIGEST_DOMAIN_V2, domain_len = sizeof DIGEST_DOMAIN_V2;
    else if (len > 0 && buf[0] == 3)
        domain = DIGEST_DOMAIN_V3, domain_len = sizeof DIGEST_DOMAIN_V3;
    EVP_MD_CTX *md = len < 0 ? NULL : EVP_MD_CTX_new();
    if (len < 0)
        rc = (int)len;
    else if (!md)
        rc = CF_ENOMEM;
    else if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(md, domain, domain_len) == 1 &&
             EVP_DigestUpdate(md, buf, (size_t)len) == 1 && /* domains include their NUL */
             EVP_DigestFinal_ex(md, digest, &out_len) == 1 && out_len == CF_DIGEST_LEN)
        rc = 0;
    EVP_MD_CTX_free(md);
    if (buf != stack_buf)
        free(buf);
    return rc;
}

int cf_event_chain_check(const struct cf_event *ev, uint64_t prev_seq,
                         const uint8_t prev_digest_expected[CF_DIGEST_LEN])
{
    if (!ev || !prev_digest_expected)
        return CF_EINVAL;
    if (prev_seq >= UINT64_MAX || ev->seq != prev_seq + 1)
        return CF_ECHAIN;
    if (memcmp(ev->prev_digest, prev_digest_expected, CF_DIGEST_LEN) != 0)
        return CF_ECHAIN;
    return 0;
}
