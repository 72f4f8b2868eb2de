/* Mobile brigade trips (issue 16, villages without internet): a day of an office's
 * brigade — settlements visited in order with planned times, members (staff users,
 * workers and so their terminals), partner organisations — planned, announced (published
 * on the public page, the people booked told by SMS), done or cancelled; its appointments
 * and the applications taken on it. The rules (the legal transitions, the notice before
 * announcing, where and when an appointment fits) are in sql/0031_trips.sql; see
 * backend/README.md, "Trips". */
#ifndef BE_TRIPS_H
#define BE_TRIPS_H

#include <stddef.h>

#include "be/appointments.h"
#include "be/router.h"
#include "cf/error.h"

#define BE_TRIP_SETTLEMENTS_MAX 12
#define BE_TRIP_MEMBERS_MAX 20
#define BE_TRIP_PARTNERS_MAX 10
#define BE_TRIP_TITLE_MAX 200 /* characters */
#define BE_TRIP_BOOKING_INFO_MAX 500
#define BE_TRIP_NAME_MAX 200 /* a settlement's, a partner's */
#define BE_TRIP_PLACE_MAX 300 /* a settlement's meeting place, a partner's activity */
#define BE_TRIP_DUTY_MAX 200
#define BE_TRIP_REASON_MAX 1000

struct be_trip_settlement {
    char name[BE_TRIP_NAME_MAX * 4 + 1];
    char place[BE_TRIP_PLACE_MAX * 4 + 1];
    int arrives, leaves; /* minutes after local midnight, arrives < leaves */
};

/* Exactly one of user_id (a staff user) and worker_id (a provider's worker). */
struct be_trip_member {
    char user_id[40], worker_id[40];
    char duty[BE_TRIP_DUTY_MAX * 4 + 1];
};

struct be_trip_partner {
    char name[BE_TRIP_NAME_MAX * 4 + 1];
    char activity[BE_TRIP_PLACE_MAX * 4 + 1];
};

/* A trip as POST and PUT /api/v1/trips carry it: {"office_id" (optional: the front
 * office's own; ignored on PUT), "provider_id" (optional), "day" "YYYY-MM-DD", "title",
 * "booking_info" (optional), "slot_minutes" 10..240 (optional, 30), "settlements": 1..12
 * of {"name", "place" (optional), "arrives" "HH:MM", "leaves" "HH:MM"} in the order
 * visited (each leaves after it arrives, and arrives no earlier than the one before
 * leaves), "members": up to 20 of {"user_id" | "worker_id", "duty" (optional)}, none
 * twice, "partners": up to 10 of {"name", "activity" (optional)}}. ~70 KiB: allocate it. */
struct be_trip {
    char office_id[40], provider_id[40];
    char day[11];
    char title[BE_TRIP_TITLE_MAX * 4 + 1];
    char booking_info[BE_TRIP_BOOKING_INFO_MAX * 4 + 1];
    int slot_minutes;
    size_t settlement_count, member_count, partner_count;
    struct be_trip_settlement settlements[BE_TRIP_SETTLEMENTS_MAX];
    struct be_trip_member members[BE_TRIP_MEMBERS_MAX];
    struct be_trip_partner partners[BE_TRIP_PARTNERS_MAX];
};

/* Read and check a trip body (text of len bytes, borrowed, may be NULL): unknown fields
 * refused, each field checked. Returns 0 or a CF_E... code with *d naming the field
 * ("settlements[1].arrives"). Pure. */
int be_trip_read(const char *text, size_t len, struct be_trip *out, struct cf_error_detail *d);

/* A change of state {"to": "announced" | "done" | "cancelled", "reason" (up to
 * BE_TRIP_REASON_MAX characters; the database requires one to cancel)}. Pure. */
struct be_trip_move {
    char to[16];
    char reason[BE_TRIP_REASON_MAX * 4 + 1];
};
int be_trip_move_read(const char *text, size_t len, struct be_trip_move *out,
                      struct cf_error_detail *d);

/* A booking on a trip by the front office: {"settlement" 1..BE_TRIP_SETTLEMENTS_MAX (its
 * position), "start" (RFC 3339), "kind" "home_survey" | "aid_handover", "person_name",
 * "phone", "person_id" (optional)}; person_key derived as for an office's booking. */
struct be_trip_booking {
    int settlement;
    char start[40];
    char kind[16];
    char person_name[BE_APPT_NAME_MAX * 4 + 1];
    char phone[BE_APPT_PHONE_MAX + 1];
    char person_id[40];
    char person_key[BE_APPT_PERSON_KEY_MAX + 1];
};
int be_trip_booking_read(const char *text, size_t len, struct be_trip_booking *out,
                         struct cf_error_detail *d);

extern const struct be_module be_trips_module;

#endif
