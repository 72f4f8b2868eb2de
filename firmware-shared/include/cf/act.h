/* Acts: the structured body an event of the act kinds carries (api/PROTOCOL.md 4.6).
 *
 * An act (an application filed on the terminal, a home-survey act, a hand-over of a
 * rehabilitation aid) has more fields than struct cf_event's fixed ones, and they differ
 * per kind. They travel as one JSON object, "body", held in struct cf_event as its
 * canonical text, which version 3 of the encoding hashes (cf/event.h). The canonical text
 * is the object with no whitespace, its members sorted by name (byte order), each name
 * [a-z0-9_]{1,32} once, each value a string, true, false or an array of strings; a string
 * is strict UTF-8 without control characters but newline, written with only ", \ and the
 * newline escaped (\", \\, \n). At most CF_ACT_BODY_MAX bytes. Any JSON object of that
 * shape has exactly one canonical text, so a decoder canonicalises what it receives and
 * the digest never depends on how the JSON was written. */
#ifndef CF_ACT_H
#define CF_ACT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "cf/error.h"

#define CF_ACT_BODY_MAX 8192 /* bytes of canonical text, excluding NUL */
#define CF_ACT_NAME_MAX 32 /* bytes of a member's name */
#define CF_ACT_ARRAY_MAX 32 /* strings in one array */

struct cf_event;

/* Canonical text of obj (a JSON object of the shape above) into out (out_size bytes,
 * NUL-terminated). path names the object in error details ("events[3].body").
 * Returns 0, or CF_EFIELD_TYPE (not an object, a value of another type), CF_EFIELD_RANGE
 * (a bad name, a name twice, text not UTF-8 or with a control character, more than
 * CF_ACT_ARRAY_MAX strings, over CF_ACT_BODY_MAX bytes or out_size) with *d (may be NULL)
 * naming the member, or CF_ENOMEM. obj: borrowed. */
int cf_act_body_canonical(const cJSON *obj, const char *path, char *out, size_t out_size,
                          struct cf_error_detail *d);

/* Parse a canonical text back into a cJSON object (caller frees with cJSON_Delete), or
 * NULL when text is not canonical (not what cf_act_body_canonical writes for it). */
cJSON *cf_act_body_parse(const char *text);

/* The rules of an event's body (called by cf_event_validate): an act kind must carry a
 * canonical body with the members its kind requires, in their formats; any other kind
 * must carry none. Per kind (api/PROTOCOL.md 4.6):
 *   application.filed      applicant_name, applicant_birth (YYYY-MM-DD), applicant_address,
 *                          category, purpose, consent (true), consent_version, complete
 *                          (true/false), code_sha256 (64 lower-case hex); optional
 *                          applicant_phone, representative_name, representative_relation,
 *                          settlement, note, office_id, trip_id
 *   home_survey.recorded   the application (application_number "YYYY-NNNNNN" or
 *                          application_seq: the seq of this device's application.filed,
 *                          before this event), living_conditions, findings; optional needs,
 *                          recommended_services (array), trip_id
 *   aid.handed_over        the application (as above), aid_kind, inventory_number,
 *                          direction (handed_over | returned); optional note, trip_id
 *   survey.answered        instrument ([a-z0-9_]{1,32}), version (1..999999), visit_id,
 *                          and one or more answers a_<question code>: text of 1..16
 *                          characters; optional trip_id
 * No other member is allowed. Returns 0 or CF_EFIELD_MISSING / CF_EFIELD_RANGE /
 * CF_EFIELD_TYPE / CF_EFIELD_UNKNOWN with *d naming "body" or "body.<member>". */
int cf_act_body_check(const struct cf_event *event, struct cf_error_detail *d);

/* Whether kind (an enum cf_event_kind) carries a body: 1 for the act kinds, else 0. */
int cf_act_kind(int kind);

#endif
