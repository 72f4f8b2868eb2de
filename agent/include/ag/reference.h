/* The reference records a terminal keeps for offline work, as plain structs: a
 * recipient (name, address, the cards that identify them, certificates with the
 * services and volumes they allow), a catalogue service, a planned visit. The
 * server sends them as JSON bodies (sql/0006_reference.sql, reference_items);
 * these readers validate a body strictly enough that nothing malformed reaches the
 * store (types, lengths, dates, tokens), yet ignore fields a newer server adds.
 * Pure functions over cJSON: no store, no I/O. */
#ifndef AG_REFERENCE_H
#define AG_REFERENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "cf/act.h"
#include "cf/error.h"
#include "cf/event.h"

#define AG_NAME_MAX 255 /* bytes of UTF-8 */
#define AG_ADDRESS_MAX 511
#define AG_CERT_NUMBER_MAX 63
#define AG_MAX_CARDS 16
#define AG_MAX_CERTIFICATES 8
#define AG_MAX_PLAN_SERVICES CF_MAX_SERVICES
#define AG_DATE_LEN 10 /* "YYYY-MM-DD" */

struct ag_card_binding {
    char token[CF_TOKEN_TEXT_LEN + 1];
    enum cf_card_method method;
    char last4[5]; /* "" for uid cards */
    bool guardian; /* the guardian's own card, acting for the recipient */
    char valid_from[AG_DATE_LEN + 1]; /* "" = no limit */
    char valid_to[AG_DATE_LEN + 1];
};

struct ag_cert_service {
    char code[CF_SERVICE_CODE_MAX + 1];
    long volume; /* per period */
    bool yearly; /* period "year", else "month" */
    long remaining; /* volume left this period when the record was made */
};

struct ag_certificate {
    char number[AG_CERT_NUMBER_MAX + 1];
    char valid_from[AG_DATE_LEN + 1];
    char valid_to[AG_DATE_LEN + 1];
    size_t service_count;
    struct ag_cert_service services[CF_MAX_SERVICES];
};

struct ag_recipient {
    uint8_t id[CF_UUID_LEN];
    char full_name[AG_NAME_MAX + 1];
    char address[AG_ADDRESS_MAX + 1];
    bool has_location;
    int32_t lat_e7, lon_e7;
    size_t card_count;
    struct ag_card_binding cards[AG_MAX_CARDS];
    size_t certificate_count;
    struct ag_certificate certificates[AG_MAX_CERTIFICATES];
};

struct ag_service {
    char code[CF_SERVICE_CODE_MAX + 1];
    char name[AG_NAME_MAX + 1];
    char category[32];
    int norm_minutes;
    int64_t tariff_kopecks;
};

struct ag_plan {
    uint8_t id[CF_UUID_LEN];
    uint8_t recipient_id[CF_UUID_LEN];
    int64_t planned_start_ms;
    size_t service_count;
    char service_codes[AG_MAX_PLAN_SERVICES][CF_SERVICE_CODE_MAX + 1];
};

/* A mobile brigade trip the worker goes on (issue 16): its day, settlements in order with
 * local times, partner organisations and the appointments booked on it, as
 * sql/0031's trip_reference_items builds it. ~40 KiB: allocate it. */
#define AG_TRIP_SETTLEMENTS_MAX 12
#define AG_TRIP_PARTNERS_MAX 10
#define AG_TRIP_APPOINTMENTS_MAX 64
struct ag_trip_settlement {
    int position;
    char name[AG_NAME_MAX + 1];
    char place[AG_ADDRESS_MAX + 1];
    char arrives[6], leaves[6]; /* "HH:MM" local */
};
struct ag_trip_partner {
    char name[AG_NAME_MAX + 1];
    char activity[AG_ADDRESS_MAX + 1];
};
struct ag_trip_appointment {
    int settlement; /* a settlement's position */
    char time[6]; /* "HH:MM" local */
    char kind[16]; /* home_survey | aid_handover */
    char person_name[AG_NAME_MAX + 1];
    char phone[48];
};
struct ag_trip {
    uint8_t id[CF_UUID_LEN];
    char day[11]; /* "YYYY-MM-DD" */
    char title[AG_NAME_MAX + 1];
    char state[16]; /* planned | announced */
    char office[AG_NAME_MAX + 1];
    char booking_info[AG_ADDRESS_MAX + 1];
    size_t settlement_count, partner_count, appointment_count;
    struct ag_trip_settlement settlements[AG_TRIP_SETTLEMENTS_MAX];
    struct ag_trip_partner partners[AG_TRIP_PARTNERS_MAX];
    struct ag_trip_appointment appointments[AG_TRIP_APPOINTMENTS_MAX];
};

/* A satisfaction survey the terminal offers the recipient after a visit (issues 16, 17):
 * the server's instrument in the version it validates answers against, its questions in
 * order, as sql/0035's survey_reference_items builds it. ~35 KiB: allocate it. */
#define AG_SURVEY_QUESTIONS_MAX CF_ACT_ARRAY_MAX /* one event holds that many answers */
#define AG_SURVEY_ID_MAX 40 /* [a-z_], survey_instruments.id */
#define AG_SURVEY_CODE_MAX (CF_ACT_NAME_MAX - 2) /* the event's member is "a_<code>" */
#define AG_SURVEY_TEXT_MAX 1023 /* 500 characters of Cyrillic, bytes of UTF-8 */
enum ag_question_kind {
    AG_QUESTION_SCALE5, /* "1".."5" */
    AG_QUESTION_CHOICE3, /* "fully", "partly", "no" */
    AG_QUESTION_YES_NO, /* "yes", "no" */
};
struct ag_survey_question {
    int position;
    char code[AG_SURVEY_CODE_MAX + 1];
    enum ag_question_kind kind;
    char text[AG_SURVEY_TEXT_MAX + 1];
    bool required;
};
struct ag_survey {
    char instrument[AG_SURVEY_ID_MAX + 1];
    int version;
    char name[AG_NAME_MAX + 1];
    size_t question_count;
    struct ag_survey_question questions[AG_SURVEY_QUESTIONS_MAX];
};

/* Read one body (a cJSON object, borrowed). Return 0 or a CF_EFIELD_... code with
 * detail naming the field (e.g. "certificates[0].valid_to"). */
int ag_recipient_from_json(const cJSON *body, struct ag_recipient *out,
                           struct cf_error_detail *detail);
int ag_service_from_json(const cJSON *body, struct ag_service *out, struct cf_error_detail *detail);
int ag_plan_from_json(const cJSON *body, struct ag_plan *out, struct cf_error_detail *detail);
int ag_trip_from_json(const cJSON *body, struct ag_trip *out, struct cf_error_detail *detail);
int ag_survey_from_json(const cJSON *body, struct ag_survey *out, struct cf_error_detail *detail);

/* The same from stored text (bodies in the store were validated when they came,
 * but the file may have been damaged since): CF_EJSON for text that is not JSON. */
int ag_recipient_parse(const char *text, struct ag_recipient *out, struct cf_error_detail *detail);
int ag_service_parse(const char *text, struct ag_service *out, struct cf_error_detail *detail);
int ag_plan_parse(const char *text, struct ag_plan *out, struct cf_error_detail *detail);
int ag_trip_parse(const char *text, struct ag_trip *out, struct cf_error_detail *detail);
int ag_survey_parse(const char *text, struct ag_survey *out, struct cf_error_detail *detail);

/* The kind's name ("scale5", "choice3", "yes_no"). */
const char *ag_question_kind_name(enum ag_question_kind kind);

/* Are these answers (count pairs of question code and answer text, borrowed) what survey
 * asks: each a question of it, once, with an answer of its kind ("1".."5"; "fully",
 * "partly", "no"; "yes", "no"), and every required question answered? The server's rule
 * (sql/0026 survey_answers_check), kept on the terminal so a refused answer never
 * becomes a signed event. Returns 0, CF_EFIELD_RANGE (an unknown code, a repeated one,
 * a wrong answer) or CF_EFIELD_MISSING (a required question), detail naming the code. */
int ag_survey_answers_check(const struct ag_survey *survey, const char *const codes[],
                            const char *const values[], size_t count,
                            struct cf_error_detail *detail);

/* Validate a record from the server before it is stored: kind is "recipient",
 * "service", "plan", "trip" or "survey" (its id: the instrument); the body must read as that kind
 * and name the same id as the record (id; for a service its code). For a recipient, the tokens of
 * its cards are copied into tokens (room for AG_MAX_CARDS) and *token_count set. Returns 0,
 * CF_EFIELD_..., CF_EKIND (unknown kind). */
int ag_reference_check(const char *kind, const char *id, const cJSON *body,
                       char tokens[][CF_TOKEN_TEXT_LEN + 1], size_t *token_count,
                       struct cf_error_detail *detail);

/* Is the date "YYYY-MM-DD" within [from, to] ("" = open end)? */
bool ag_date_within(const char *date, const char *from, const char *to);

#endif
