/* Appointments (issue 16): a booked time at an office instead of the walk-in queue —
 * the citizen's free slots, hold, confirmation and cancellation (public, the hold's
 * secret proves), the front office's booking for a caller on the phone, check-in,
 * service, the outcome, rescheduling, an office's day and its figures (waiting and
 * service times). The rules (slots, closures, the horizon, the per-person limit, the
 * legal transitions, no double booking) are in sql/0021_appointments.sql; see
 * backend/README.md, "Appointments". */
#ifndef BE_APPOINTMENTS_H
#define BE_APPOINTMENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "be/router.h"
#include "cf/error.h"

#define BE_APPT_NAME_MAX 200 /* characters */
#define BE_APPT_PHONE_MAX 40 /* bytes */
#define BE_APPT_REASON_MAX 1000 /* characters */
#define BE_APPT_SECRET_HEX 32 /* the hold's secret: 16 random bytes as hex */
#define BE_APPT_PERSON_KEY_MAX 48 /* "tel:7XXXXXXXXXX" or "person:<uuid>" */

/* The person key of a phone number: its digits, a Russian number in any usual writing
 * ("+7 (912) 345-67-89", "8 912 345 67 89", "9123456789") as "tel:79123456789" into
 * out (at least BE_APPT_PERSON_KEY_MAX + 1 bytes). Returns 0, or CF_EFIELD_RANGE when
 * it holds anything but digits, spaces and "+()-", or is not 10 digits or 11 starting
 * with 7 or 8. Pure. */
int be_appointment_phone_key(const char *phone, char *out, size_t out_size);

/* What a booking names: {"office_id", "start", "kind"} and, from the front office,
 * "person_name", "phone" (required) and "person_id" (a recipient's id, optional: then
 * the limit counts by it). start is RFC 3339 ("2026-12-07T09:00:00+03:00"). */
struct be_appointment_take {
    char office_id[40]; /* "" when left out (the front office: its own) */
    char start[40];
    char kind[16]; /* document_check | consultation | home_survey | aid_handover | aid_return */
    char person_name[BE_APPT_NAME_MAX * 4 + 1];
    char phone[BE_APPT_PHONE_MAX + 1];
    char person_id[40];
    char person_key[BE_APPT_PERSON_KEY_MAX + 1]; /* derived: person_id, else the phone */
};

/* Who sends it: the citizen's page (a hold: office_id, start, kind only) or the front
 * office (a booking for a person). */
enum be_appointment_source { BE_APPT_PUBLIC, BE_APPT_STAFF };

/* Read and check a booking body (text of len bytes, borrowed, may be NULL): unknown
 * fields refused, each field checked. Returns 0 or a CF_E... code with *d naming the
 * field. Pure. */
int be_appointment_take_read(const char *text, size_t len, enum be_appointment_source source,
                             struct be_appointment_take *out, struct cf_error_detail *d);

/* The citizen's confirmation {"secret", "person_name", "phone"} and cancellation
 * {"secret", "reason" (optional)}; reason and person_key as above. Pure. */
struct be_appointment_public {
    char secret[BE_APPT_SECRET_HEX + 1];
    char person_name[BE_APPT_NAME_MAX * 4 + 1];
    char phone[BE_APPT_PHONE_MAX + 1];
    char person_key[BE_APPT_PERSON_KEY_MAX + 1];
    char reason[BE_APPT_REASON_MAX * 4 + 1];
};
enum be_appointment_public_kind { BE_APPT_CONFIRM, BE_APPT_CANCEL };
int be_appointment_public_read(const char *text, size_t len, enum be_appointment_public_kind kind,
                               struct be_appointment_public *out, struct cf_error_detail *d);

/* The front office's transition {"to", "reason", "identified_by", "document_digits"} (to:
 * checked_in, in_service, served, left_unserved, no_show, cancelled) and reschedule
 * {"start"}. A check-in at the desk (to checked_in) says how the person was identified:
 * identified_by passport, document_digits (then document_digits, the last 4 digits of the
 * document's number, required) or known_to_staff; neither field is taken with another
 * "to" (sql/0033 check_in_identified is the same rule). Pure. */
#define BE_APPT_DOC_DIGITS 4
struct be_appointment_move {
    char to[16];
    char reason[BE_APPT_REASON_MAX * 4 + 1];
    char identified_by[16]; /* "" unless to is checked_in */
    char document_digits[BE_APPT_DOC_DIGITS + 1];
};
int be_appointment_move_read(const char *text, size_t len, struct be_appointment_move *out,
                             struct cf_error_detail *d);
int be_appointment_start_read(const char *text, size_t len, char start[40],
                              struct cf_error_detail *d);

/* An office's closure {"from", "to" (local dates, both included), "reason" (what people
 * are told)}: dates "YYYY-MM-DD", from not before today ("YYYY-MM-DD"), to not before
 * from and at most BE_APPT_CLOSURE_DAYS_MAX days on; the reason required, at most
 * BE_APPT_CLOSURE_REASON_MAX characters. Pure. */
#define BE_APPT_CLOSURE_DAYS_MAX 31
#define BE_APPT_CLOSURE_REASON_MAX 300
struct be_office_closure {
    char from[11], to[11];
    char reason[BE_APPT_CLOSURE_REASON_MAX * 4 + 1];
};
int be_office_closure_read(const char *text, size_t len, const char *today,
                           struct be_office_closure *out, struct cf_error_detail *d);

/* An office's booking settings and weekly hours, as GET and PUT
 * /api/v1/offices/{id}/booking carry them: {"seats" 1..50, "slot_minutes", "horizon_days"
 * 1..90, "person_limit" 1..20, "hold_minutes" 1..60, "grace_minutes" 0..120, "hours":
 * [{"weekday" 1..7 (Monday 1), "opens" "HH:MM", "closes" "HH:MM" or "24:00"}, at most
 * BE_OFFICE_PERIODS_MAX]}, every field required (a PUT replaces them all). slot_minutes
 * must be sensible (be_office_slot_minutes_ok); each period closes after it opens, is a
 * whole number of slots and overlaps no other period of its weekday (a lunch break is
 * two periods). The same rules are sql/0028's office_booking_set. */
#define BE_OFFICE_PERIODS_MAX 28
struct be_office_period {
    int weekday; /* 1 Monday .. 7 Sunday */
    int opens, closes; /* minutes after local midnight; closes up to 1440 */
};
struct be_office_booking {
    int seats, slot_minutes, horizon_days, person_limit, hold_minutes, grace_minutes;
    size_t period_count;
    struct be_office_period periods[BE_OFFICE_PERIODS_MAX];
};

/* A slot length people can read: 5..240 minutes that divide an hour (5, 6, 10, 12, 15,
 * 20, 30, 60) or are whole quarter hours (45, 75, 90, ... 240). Pure. */
bool be_office_slot_minutes_ok(int minutes);

/* Read and check a booking-settings body (text of len bytes, borrowed, may be NULL).
 * Returns 0 or a CF_E... code with *d naming the field ("hours[2].closes"). Pure. */
int be_office_booking_read(const char *text, size_t len, struct be_office_booking *out,
                           struct cf_error_detail *d);

/* The review of a desk check-in exception {"resolution": "accepted" | "dismissed", "note"
 * (optional, at most BE_APPT_REASON_MAX characters)}. Pure. */
struct be_desk_exception_resolve {
    char resolution[12];
    char note[BE_APPT_REASON_MAX * 4 + 1];
};
int be_desk_exception_resolve_read(const char *text, size_t len,
                                   struct be_desk_exception_resolve *out,
                                   struct cf_error_detail *d);

extern const struct be_module be_appointments_module;

#endif
