/* Fuzz target: the bodies people send to carefactd's review and application routes,
 * through the same readers the handlers use. The first byte picks the reader (a
 * correction, a visit exception's or a card binding's resolution, a register's return or
 * submit; an application's public or office form, a transition, a status lookup; an
 * appointment's hold, the desk's booking, a confirmation, a cancellation, a transition,
 * a reschedule; an export of decided applications, the central system's answer by the API
 * or in a webhook's reply; an application's document as the sniffer sees it, a document
 * upload's query string; an office's booking settings and hours, a closure; a survey
 * answer from the citizen's page or from staff; a complaint from the desk or the citizen, a
 * complaint's transition; a brigade trip, its transition, a booking on it; a desk's
 * decision on a check-in exception, the citizen's look-up of a complaint by number and
 * code); the rest is
 * the body. An accepted body must come out as the
 * handler will use it
 * (canonical JSON value, a known action, plain text within its cap); a refusal must be
 * one of the documented codes with a sentence for the person. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "be/applications.h"
#include "be/appointments.h"
#include "be/complaints.h"
#include "be/corrections.h"
#include "be/documents.h"
#include "be/exchange.h"
#include "be/register.h"
#include "be/review.h"
#include "be/satisfaction.h"
#include "be/trips.h"
#include "cf/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *text, size_t max_chars, int required)
{
    long chars = cf_text_chars(text);
    if (chars < 0 || (size_t)chars > max_chars || (required && cf_text_blank(text)))
        abort();
}

static void check_refusal(int rc, const struct cf_error_detail *d)
{
    switch (rc) {
    case CF_EJSON:
    case CF_ETOOBIG:
    case CF_ENOMEM:
    case CF_EFIELD_MISSING:
    case CF_EFIELD_TYPE:
    case CF_EFIELD_RANGE:
    case CF_EFIELD_UNKNOWN:
        break;
    default:
        abort();
    }
    if (!d->message[0])
        abort();
}

static void correction(const char *body, size_t len)
{
    struct be_correction_body c;
    struct cf_error_detail d = {0};
    int rc = be_correction_read(body, len, &c, &d);
    if (rc) {
        check_refusal(rc, &d);
        return;
    }
    cJSON *value = cJSON_Parse(c.value);
    bool services = strcmp(c.field, "services") == 0;
    if (!value || (services ? !cJSON_IsArray(value) || cJSON_GetArraySize(value) > 32
                            : strcmp(c.field, "disputed") || !cJSON_IsBool(value)))
        abort();
    check_text(c.reason, BE_CORRECTION_REASON_MAX, 1);
    cJSON_Delete(value);
    be_correction_body_cleanup(&c);
}

static void resolution(const char *body, size_t len, const char *kind)
{
    static struct be_resolution_body r; /* 8 KB: off the fuzzer's stack */
    struct cf_error_detail d = {0};
    int rc = be_resolution_read(body, len, kind, &r, &d);
    if (rc) {
        check_refusal(rc, &d);
        return;
    }
    static const char *const actions[] = {"must_fix", "acknowledge", "confirm", "reject"};
    size_t i = 0;
    while (i < 4 && strcmp(r.action, actions[i]))
        i++;
    if (i == 4 || (strcmp(kind, "card_binding") == 0) != (i >= 2))
        abort();
    check_text(r.note, BE_NOTE_MAX, 0);
}

static void register_change(const char *body, size_t len, bool wants_reason)
{
    static char reason[BE_REGISTER_REASON_MAX * 4 + 1];
    struct cf_error_detail d = {0};
    int rc = be_register_body_read(body, len, wants_reason, reason, sizeof reason, &d);
    if (rc) {
        check_refusal(rc, &d);
        return;
    }
    if (wants_reason)
        check_text(reason, BE_REGISTER_REASON_MAX, 1);
    else if (reason[0])
        abort();
}

static bool one_of(const char *value, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(value, *list) == 0)
            return true;
    return false;
}

static void application_form(const char *body, size_t len, enum be_application_source source)
{
    static struct be_application_form f; /* 20 KB: off the fuzzer's stack */
    static const char *const office_channels[] = {"office", "phone", "post", NULL};
    struct cf_error_detail d = {0};
    int rc = be_application_read(body, len, source, "2026-12-06", &f, &d);
    if (rc) {
        check_refusal(rc, &d);
        return;
    }
    if (source == BE_APP_PUBLIC ? strcmp(f.channel, "web") != 0
                                : !one_of(f.channel, office_channels))
        abort();
    if (strlen(f.applicant_birth_date) != 10 || strcmp(f.applicant_birth_date, "2026-12-06") > 0)
        abort();
    check_text(f.applicant_name, BE_APP_NAME_MAX, 1);
    check_text(f.applicant_address, BE_APP_ADDRESS_MAX, 1);
    check_text(f.details, BE_APP_DETAILS_MAX, 0);
}

static void application_move(const char *body, size_t len)
{
    static struct be_application_move m;
    struct cf_error_detail d = {0};
    int rc = be_application_move_read(body, len, &m, &d);
    if (rc) {
        check_refusal(rc, &d);
        return;
    }
    if (!m.to[0] || strcmp(m.to, "draft") == 0)
        abort();
    /* a programme exactly with an approval */
    if ((m.programme != NULL) != (strcmp(m.to, "approved") == 0))
        abort();
    check_text(m.reason, BE_APP_REASON_MAX, 0);
    be_application_move_cleanup(&m);
}

static void application_lookup(const char *body, size_t len)
{
    struct be_application_lookup l;
    struct cf_error_detail d = {0};
    int rc = be_application_lookup_read(body, len, &l, &d);
    if (rc) {
        check_refusal(rc, &d);
        return;
    }
    if (strlen(l.code) != BE_APP_CODE_DIGITS || strspn(l.code, "0123456789") != strlen(l.code))
        abort();
    /* a number "2026-000123", or a terminal's receipt "01939F2A-4" in upper case (as the
     * database keeps it: api/PROTOCOL.md 4.6) */
    size_t n = strlen(l.number);
    bool number = n >= 11 && l.number[4] == '-' && strspn(l.number, "0123456789") == 4 &&
                  strspn(l.number + 5, "0123456789") == n - 5;
    bool receipt = n >= 10 && n <= 24 && l.number[8] == '-' &&
                   strspn(l.number, "0123456789ABCDEF") == 8 && l.number[9] != '0' &&
                   strspn(l.number + 9, "0123456789") == n - 9;
    if (!number && !receipt)
        abort();
}

/* An accepted person key is exactly "tel:7" and 10 digits, or "person:" and a uuid. */
static void check_person_key(const char *key)
{
    if (strncmp(key, "tel:7", 5) == 0) {
        if (strlen(key) != 15 || strspn(key + 5, "0123456789") != 10)
            abort();
    } else if (strncmp(key, "person:", 7) != 0 || strlen(key) != 43) {
        abort();
    }
}

static void appointment_take(const char *body, size_t len, enum be_appointment_source source)
{
    static struct be_appointment_take t;
    static const char *const kinds[] = {"document_check", "consultation", "home_survey",
                                        "aid_handover",   "aid_return",   NULL};
    struct cf_error_detail d = {0};
    int rc = be_appointment_take_read(body, len, source, &t, &d);
    if (rc) {
        check_refusal(rc, &d);
        return;
    }
    if (!one_of(t.kind, kinds) || !t.start[0] || (source == BE_APPT_PUBLIC && !t.office_id[0]))
        abort();
    if (source == BE_APPT_PUBLIC && t.person_key[0]) /* a hold names nobody */
        abort();
    if (source == BE_APPT_STAFF) {
        check_person_key(t.person_key);
        check_text(t.person_name, BE_APPT_NAME_MAX, 1);
    }
}

static void appointment_public(const char *body, size_t len, enum be_appointment_public_kind kind)
{
    static struct be_appointment_public p;
    struct cf_error_detail d = {0};
    int rc = be_appointment_public_read(body, len, kind, &p, &d);
    if (rc) {
        check_refusal(rc, &d);
        return;
    }
    if (strlen(p.secret) != BE_APPT_SECRET_HEX)
        abort();
    if (kind == BE_APPT_CONFIRM) {
        check_person_key(p.person_key);
        check_text(p.person_name, BE_APPT_NAME_MAX, 1);
    } else {
        check_text(p.reason, BE_APPT_REASON_MAX, 0);
    }
}

static void appointment_move(const char *body, size_t len, bool reschedule)
{
    static struct be_appointment_move m;
    char start[40];
    struct cf_error_detail d = {0};
    int rc = reschedule ? be_appointment_start_read(body, len, start, &d)
                        : be_appointment_move_read(body, len, &m, &d);
    if (rc) {
        check_refusal(rc, &d);
        return;
    }
    if (reschedule ? !start[0] : (!m.to[0] || strcmp(m.to, "booked") == 0))
        abort();
    if (reschedule)
        return;
    /* a check-in says how the person was identified; the document's 4 digits exactly with
     * document_digits; neither with another move */
    bool check_in = strcmp(m.to, "checked_in") == 0;
    bool by_digits = strcmp(m.identified_by, "document_digits") == 0;
    if (check_in && strcmp(m.identified_by, "passport") != 0 && !by_digits &&
        strcmp(m.identified_by, "known_to_staff") != 0)
        abort();
    if (!check_in && m.identified_by[0])
        abort();
    if (by_digits ? strlen(m.document_digits) != BE_APPT_DOC_DIGITS ||
                        strspn(m.document_digits, "0123456789") != BE_APPT_DOC_DIGITS
                  : m.document_digits[0] != '\0')
        abort();
}

/* An accepted review of a desk's check-in exception is accepted or dismissed, its note
 * valid text within its length. */
static void desk_exception_resolve(const char *body, size_t len)
{
    static struct be_desk_exception_resolve r;
    struct cf_error_detail d = {0};
    int rc = be_desk_exception_resolve_read(body, len, &r, &d);
    if (rc) {
        check_refusal(rc, &d);
        return;
    }
    if (strcmp(r.resolution, "accepted") != 0 && strcmp(r.resolution, "dismissed") != 0)
        abort();
    check_text(r.note, BE_APPT_REASON_MAX, false);
}

/* An accepted complaint look-up holds the canonical number ("Ж-" and 6 or more digits, no
 * leading zero beyond the padding) and a code of exactly 10 digits. */
static void complaint_lookup(const char *body, size_t len)
{
    struct be_complaint_lookup l;
    struct cf_error_detail d = {0};
    int rc = be_complaint_lookup_read(body, len, &l, &d);
    if (rc) {
        check_refusal(rc, &d);
        return;
    }
    const char *digits = l.number + strlen("\xd0\x96-");
    size_t n = strlen(digits);
    if (strncmp(l.number, "\xd0\x96-", strlen("\xd0\x96-")) != 0 || n < 6 || n > 12 ||
        strspn(digits, "0123456789") != n || (n > 6 && digits[0] == '0'))
        abort();
    if (strlen(l.code) != BE_COMPLAINT_CODE_DIGITS ||
        strspn(l.code, "0123456789") != BE_COMPLAINT_CODE_DIGITS)
        abort();
    char again[BE_COMPLAINT_NUMBER_MAX + 1]; /* the canonical form reads as itself */
    if (be_complaint_number_canonical(l.number, again) || strcmp(again, l.number) != 0)
        abort();
}

/* An accepted export names a region (canonical lowercase uuid) or none, and a limit in
 * range. */
static void export_request(const char *body, size_t len)
{
    struct be_export_request e;
    struct cf_error_detail d = {0};
    int rc = be_export_read(body, len, &e, &d);
    if (rc) {
        check_refusal(rc, &d);
        return;
    }
    if (e.limit < 1 || e.limit > BE_EXPORT_LIMIT_MAX)
        abort();
    if (e.region_id[0] &&
        (strlen(e.region_id) != 36 || strspn(e.region_id, "0123456789abcdef-") != 36))
        abort();
}

/* An accepted answer is accepted or rejected, its texts plain and within their caps, a
 * rejection with a note. */
static void check_answer(const struct be_answer *a)
{
    bool rejected = strcmp(a->outcome, "rejected") == 0;
    if (!rejected && strcmp(a->outcome, "accepted") != 0)
        abort();
    check_text(a->reference, BE_ANSWER_REFERENCE_MAX, 0);
    check_text(a->note, BE_ANSWER_NOTE_MAX, rejected);
}

static void answer(const char *body, size_t len)
{
    struct be_answer a;
    struct cf_error_detail d = {0};
    int rc = be_answer_read(body, len, &a, &d);
    if (rc) {
        check_refusal(rc, &d);
        return;
    }
    check_answer(&a);
}

/* A reply holds a valid answer (1), none (0), or one refused with a sentence (-1). */
static void answer_in_reply(const char *body, size_t len)
{
    struct be_answer a;
    struct cf_error_detail d = {0};
    int found = be_answer_in_reply(body, len, &a, &d);
    if (found == 1)
        check_answer(&a);
    else if (found == -1 ? !d.message[0] : found != 0)
        abort();
}

/* A document's bytes: what the sniffer names must be what the bytes are, independently
 * checked here (the magic, the end, no markup where a browser would look, the cap). */
static void document_sniff(const char *body, size_t len)
{
    const unsigned char *b = (const unsigned char *)body;
    const char *type = be_document_sniff(b, len);
    if (!type)
        return;
    if (len == 0 || len > BE_DOC_BYTES_MAX || !be_document_type_agrees(type, type))
        abort();
    size_t head = len < 1024 ? len : 1024;
    static const char *const markup[] = {"<svg", "<html", "<script", "<!doctype", "<?xml"};
    for (size_t i = 0; i < head; i++)
        for (size_t t = 0; b[i] == '<' && t < sizeof markup / sizeof markup[0]; t++)
            if (i + strlen(markup[t]) <= len &&
                strncasecmp(body + i, markup[t], strlen(markup[t])) == 0)
                abort();
    if (strcmp(type, "application/pdf") == 0) {
        size_t end = len;
        while (end && (b[end - 1] == '\n' || b[end - 1] == '\r' || b[end - 1] == ' '))
            end--;
        if (memcmp(b, "%PDF-", 5) != 0 || end < 10 || memcmp(b + end - 5, "%%EOF", 5) != 0)
            abort();
    } else if (strcmp(type, "image/jpeg") == 0) {
        if (b[0] != 0xFF || b[1] != 0xD8 || b[2] != 0xFF || b[len - 2] != 0xFF ||
            b[len - 1] != 0xD9)
            abort();
    } else if (strcmp(type, "image/png") == 0) {
        if (len < 45 || memcmp(b, "\x89PNG\r\n\x1a\n", 8) != 0 ||
            memcmp(b + len - 8, "IEND\xae\x42\x60\x82", 8) != 0)
            abort();
    } else {
        abort();
    }
}

/* An upload's query: an accepted one names a known kind and a plain name, and the
 * download's Content-Disposition and the form's HTML made from that name hold nothing
 * that could end the header or the markup. */
static void document_query(const char *body, size_t len)
{
    char *query = malloc(len + 1);
    if (!query)
        return;
    memcpy(query, body, len);
    query[len] = '\0';
    struct be_document_upload u;
    struct cf_error_detail d = {0};
    int rc = be_document_upload_read(query, &u, &d);
    free(query);
    if (rc) {
        /* a query's refusals: those of a body, or a bad %-escape; naming kind, name, or
         * (an unknown parameter) none */
        if (rc == CF_EMALFORM)
            rc = CF_EFIELD_RANGE;
        check_refusal(rc, &d);
        if (d.field[0] && strcmp(d.field, "kind") && strcmp(d.field, "name"))
            abort();
        return;
    }
    static const char *const kinds[] = {"passport", "snils",     "medical",
                                        "income",   "statement", "other"};
    size_t k = 0;
    while (k < 6 && strcmp(u.kind, kinds[k]))
        k++;
    if (k == 6 || !u.name[0] || strlen(u.name) > BE_DOC_NAME_MAX || cf_text_chars(u.name) < 0 ||
        strpbrk(u.name, "/\\\n"))
        abort();
    struct be_buf out;
    be_buf_init(&out, 4096);
    if (be_document_disposition(u.name, &out))
        abort();
    /* one line, printable ASCII, ending CRLF; exactly the two quotes of filename="" */
    size_t quotes = 0;
    for (size_t i = 0; i + 2 < out.len; i++) {
        unsigned char c = (unsigned char)out.data[i];
        if (c < 0x20 || c > 0x7E)
            abort();
        quotes += c == '"';
    }
    if (quotes != 2 || out.len < 2 || strcmp(out.data + out.len - 2, "\r\n") != 0)
        abort();
    be_buf_reset(&out);
    if (be_html_escape(&out, u.name) || strpbrk(out.data ? out.data : "", "<>\"'"))
        abort();
    be_buf_cleanup(&out);
}

/* An accepted office's settings hold every rule office_booking_set checks again: the
 * bounds, a sensible slot length, periods of whole slots within the day, none
 * overlapping another of its weekday. */
static void office_booking(const char *body, size_t len)
{
    static struct be_office_booking b;
    struct cf_error_detail d = {0};
    int rc = be_office_booking_read(body, len, &b, &d);
    if (rc) {
        check_refusal(rc, &d);
        return;
    }
    if (b.seats < 1 || b.seats > 50 || b.horizon_days < 1 || b.horizon_days > 90 ||
        b.person_limit < 1 || b.person_limit > 20 || b.hold_minutes < 1 || b.hold_minutes > 60 ||
        b.grace_minutes < 0 || b.grace_minutes > 120 ||
        !be_office_slot_minutes_ok(b.slot_minutes) || b.period_count > BE_OFFICE_PERIODS_MAX)
        abort();
    for (size_t i = 0; i < b.period_count; i++) {
        const struct be_office_period *p = &b.periods[i];
        if (p->weekday < 1 || p->weekday > 7 || p->opens < 0 || p->closes > 24 * 60 ||
            p->opens >= p->closes || (p->closes - p->opens) % b.slot_minutes != 0)
            abort();
        for (size_t j = 0; j < i; j++)
            if (b.periods[j].weekday == p->weekday && b.periods[j].opens < p->closes &&
                p->opens < b.periods[j].closes)
                abort();
    }
}

/* An accepted closure names real days, from today on, at most 31 of them, and a reason. */
static void office_closure(const char *body, size_t len)
{
    static struct be_office_closure c;
    struct cf_error_detail d = {0};
    int rc = be_office_closure_read(body, len, "2026-12-06", &c, &d);
    if (rc) {
        check_refusal(rc, &d);
        return;
    }
    if (strlen(c.from) != 10 || strlen(c.to) != 10 || strcmp(c.from, "2026-12-06") < 0 ||
        strcmp(c.to, c.from) < 0)
        abort();
    check_text(c.reason, BE_APPT_CLOSURE_REASON_MAX, 1);
}

/* An accepted survey answer: a code and a version, exactly one subject (staff) or the
 * secret (public), and answers that are a compact JSON object of at most
 * BE_SURVEY_ANSWERS_MAX codes, each a mark 1-5 or a known word. */
static void survey_answer(const char *body, size_t len, enum be_survey_source source)
{
    static struct be_survey_answer s;
    static const char *const purposes[] = {"after_visit", "sample", "low_rating", NULL};
    static const char *const words[] = {"fully", "partly", "no", "yes", NULL};
    struct cf_error_detail d = {0};
    int rc = be_survey_answer_read(body, len, source, &s, &d);
    if (rc) {
        check_refusal(rc, &d);
        return;
    }
    if (!s.instrument[0] ||
        strspn(s.instrument, "abcdefghijklmnopqrstuvwxyz_") != strlen(s.instrument) ||
        s.version < 1 || s.version > 1000 || !one_of(s.purpose, purposes))
        abort();
    if (source == BE_SURVEY_PUBLIC
            ? strlen(s.secret) != BE_SURVEY_SECRET_HEX || s.visit_id[0] || s.appointment_id[0] ||
                  strcmp(s.purpose, "after_visit") != 0
            : !s.visit_id[0] == !s.appointment_id[0])
        abort();
    cJSON *answers = cJSON_Parse(s.answers);
    if (!cJSON_IsObject(answers) || cJSON_GetArraySize(answers) > BE_SURVEY_ANSWERS_MAX)
        abort();
    const cJSON *a;
    cJSON_ArrayForEach(a, answers)
    {
        bool ok = cJSON_IsNumber(a) ? a->valuedouble >= 1 && a->valuedouble <= 5 &&
                                          a->valuedouble == (int)a->valuedouble
                                    : cJSON_IsString(a) && one_of(a->valuestring, words);
        if (!ok || !a->string[0] || strlen(a->string) > 32)
            abort();
    }
    char *again = cJSON_PrintUnformatted(answers);
    if (!again || strcmp(again, s.answers) != 0) /* compact, as stored */
        abort();
    cJSON_free(again);
    cJSON_Delete(answers);
}

/* An accepted cause is a code of [a-z_] (the database says whether it is one). */
static void check_cause(const char *cause, bool required)
{
    if ((required && !cause[0]) || strspn(cause, "abcdefghijklmnopqrstuvwxyz_") != strlen(cause))
        abort();
}

/* An accepted id is canonical (36 characters) or absent. */
static void check_id(const char *id)
{
    if (id[0] && strlen(id) != 36)
        abort();
}

static void complaint_new(const char *body, size_t len, enum be_complaint_channel channel)
{
    static struct be_complaint_new c;
    struct cf_error_detail d = {0};
    int rc = be_complaint_new_read(body, len, channel, &c, &d);
    if (rc) {
        check_refusal(rc, &d);
        return;
    }
    check_cause(c.cause, true);
    check_text(c.text, BE_COMPLAINT_TEXT_MAX, 1);
    check_text(c.person_name, BE_COMPLAINT_NAME_MAX, 0);
    if (strspn(c.phone, "0123456789 +()-") != strlen(c.phone))
        abort();
    check_id(c.visit_id);
    check_id(c.provider_id);
    check_id(c.worker_id);
    check_id(c.appointment_id);
    if (channel == BE_COMPLAINT_STAFF) {
        /* a visit alone, or a provider (and maybe its worker); never the citizen's proofs */
        if ((strcmp(c.source, "phone") != 0 && strcmp(c.source, "follow_up") != 0) ||
            !c.visit_id[0] == !c.provider_id[0] || (c.visit_id[0] && c.worker_id[0]) ||
            c.appointment_id[0] || c.secret[0] || c.number[0] || c.code[0])
            abort();
    } else if (strcmp(c.about, "office") == 0) {
        if (strcmp(c.source, "public") != 0 || !c.appointment_id[0] ||
            strlen(c.secret) != BE_COMPLAINT_SECRET_HEX || c.number[0] || c.visit_id[0] ||
            c.provider_id[0])
            abort();
    } else if (strcmp(c.about, "home") != 0 || strcmp(c.source, "public") != 0 ||
               strlen(c.code) != BE_COMPLAINT_CODE_DIGITS || !c.number[0] || c.appointment_id[0] ||
               c.provider_id[0] || c.visit_id[0] ||
               (c.visit_date[0] && strlen(c.visit_date) != 10)) {
        abort();
    }
}

static void complaint_move(const char *body, size_t len)
{
    static struct be_complaint_move m;
    struct cf_error_detail d = {0};
    int rc = be_complaint_move_read(body, len, &m, &d);
    if (rc) {
        check_refusal(rc, &d);
        return;
    }
    bool answered = strcmp(m.to, "answered") == 0;
    if (!answered && strcmp(m.to, "closed") != 0 && strcmp(m.to, "open") != 0)
        abort();
    check_text(m.answer, BE_COMPLAINT_TEXT_MAX, answered);
    check_cause(m.cause, false);
}

/* An accepted trip holds every rule trip_save relies on: a real day, a title, 1..12
 * settlements each leaving after it arrives and none arriving before the one before
 * leaves, members each exactly one canonical id and none twice, named partners. */
static void trip(const char *body, size_t len)
{
    static struct be_trip t; /* ~70 KB: off the fuzzer's stack */
    struct cf_error_detail d = {0};
    int rc = be_trip_read(body, len, &t, &d);
    if (rc) {
        check_refusal(rc, &d);
        return;
    }
    if (strlen(t.day) != 10 || t.slot_minutes < 10 || t.slot_minutes > 240 ||
        t.settlement_count < 1 || t.settlement_count > BE_TRIP_SETTLEMENTS_MAX ||
        t.member_count > BE_TRIP_MEMBERS_MAX || t.partner_count > BE_TRIP_PARTNERS_MAX)
        abort();
    check_id(t.office_id);
    check_id(t.provider_id);
    check_text(t.title, BE_TRIP_TITLE_MAX, 1);
    check_text(t.booking_info, BE_TRIP_BOOKING_INFO_MAX, 0);
    for (size_t i = 0; i < t.settlement_count; i++) {
        const struct be_trip_settlement *s = &t.settlements[i];
        if (s->arrives < 0 || s->leaves > 24 * 60 || s->arrives >= s->leaves ||
            (i && s->arrives < t.settlements[i - 1].leaves))
            abort();
        check_text(s->name, BE_TRIP_NAME_MAX, 1);
        check_text(s->place, BE_TRIP_PLACE_MAX, 0);
    }
    for (size_t i = 0; i < t.member_count; i++) {
        const struct be_trip_member *m = &t.members[i];
        if (!m->user_id[0] == !m->worker_id[0] || strlen(m->user_id) + strlen(m->worker_id) != 36)
            abort();
        check_text(m->duty, BE_TRIP_DUTY_MAX, 0);
        for (size_t j = 0; j < i; j++)
            if (strcmp(t.members[j].user_id, m->user_id) == 0 &&
                strcmp(t.members[j].worker_id, m->worker_id) == 0)
                abort();
    }
    for (size_t i = 0; i < t.partner_count; i++) {
        check_text(t.partners[i].name, BE_TRIP_NAME_MAX, 1);
        check_text(t.partners[i].activity, BE_TRIP_PLACE_MAX, 0);
    }
}

static void trip_move(const char *body, size_t len)
{
    static struct be_trip_move m;
    static const char *const states[] = {"announced", "done", "cancelled", NULL};
    struct cf_error_detail d = {0};
    int rc = be_trip_move_read(body, len, &m, &d);
    if (rc) {
        check_refusal(rc, &d);
        return;
    }
    if (!one_of(m.to, states))
        abort();
    check_text(m.reason, BE_TRIP_REASON_MAX, 0);
}

static void trip_booking(const char *body, size_t len)
{
    static struct be_trip_booking b;
    static const char *const kinds[] = {"home_survey", "aid_handover", NULL};
    struct cf_error_detail d = {0};
    int rc = be_trip_booking_read(body, len, &b, &d);
    if (rc) {
        check_refusal(rc, &d);
        return;
    }
    if (b.settlement < 1 || b.settlement > BE_TRIP_SETTLEMENTS_MAX || !one_of(b.kind, kinds) ||
        !strchr(b.start, 'T'))
        abort();
    check_person_key(b.person_key);
    check_text(b.person_name, BE_APPT_NAME_MAX, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1 << 17)
        return 0;
    /* The handlers get bodies that are not NUL-terminated: so does the fuzzer. */
    char *body = malloc(size - 1 ? size - 1 : 1);
    if (!body)
        return 0;
    memcpy(body, data + 1, size - 1);
    switch (data[0] % 32) {
    case 0:
        correction(body, size - 1);
        break;
    case 1:
        resolution(body, size - 1, "early_leave");
        break;
    case 2:
        resolution(body, size - 1, "card_binding");
        break;
    case 3:
        register_change(body, size - 1, true);
        break;
    case 4:
        register_change(body, size - 1, false);
        break;
    case 5:
        application_form(body, size - 1, BE_APP_PUBLIC);
        break;
    case 6:
        application_form(body, size - 1, BE_APP_OFFICE);
        break;
    case 7:
        application_move(body, size - 1);
        break;
    case 8:
        application_lookup(body, size - 1);
        break;
    case 9:
        appointment_take(body, size - 1, BE_APPT_PUBLIC);
        break;
    case 10:
        appointment_take(body, size - 1, BE_APPT_STAFF);
        break;
    case 11:
        appointment_public(body, size - 1, BE_APPT_CONFIRM);
        break;
    case 12:
        appointment_public(body, size - 1, BE_APPT_CANCEL);
        break;
    case 13:
        appointment_move(body, size - 1, false);
        break;
    case 14:
        appointment_move(body, size - 1, true);
        break;
    case 15:
        export_request(body, size - 1);
        break;
    case 16:
        answer(body, size - 1);
        break;
    case 17:
        answer_in_reply(body, size - 1);
        break;
    case 18:
        document_sniff(body, size - 1);
        break;
    case 19:
        document_query(body, size - 1);
        break;
    case 20:
        office_booking(body, size - 1);
        break;
    case 21:
        office_closure(body, size - 1);
        break;
    case 22:
        survey_answer(body, size - 1, BE_SURVEY_PUBLIC);
        break;
    case 23:
        survey_answer(body, size - 1, BE_SURVEY_STAFF);
        break;
    case 24:
        complaint_new(body, size - 1, BE_COMPLAINT_STAFF);
        break;
    case 25:
        complaint_new(body, size - 1, BE_COMPLAINT_PUBLIC);
        break;
    case 26:
        complaint_move(body, size - 1);
        break;
    case 27:
        trip(body, size - 1);
        break;
    case 28:
        trip_move(body, size - 1);
        break;
    case 29:
        trip_booking(body, size - 1);
        break;
    case 30:
        desk_exception_resolve(body, size - 1);
        break;
    default:
        complaint_lookup(body, size - 1);
    }
    free(body);
    return 0;
}
