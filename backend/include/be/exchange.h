/* The applications' exchange with the region's central system (issue 20, with issue 15):
 * the back office exports the decided applications not yet exported (one export, a
 * document that can be fetched again), and the central system's answer is recorded —
 * by the API or in the reply to the webhook that told it of the export. The state of an
 * application stays its decision; the exchange is a track beside it ("exported",
 * "answer_received"), journalled. The rules are in sql/0023_application_exchange.sql;
 * see backend/README.md, "Applications' exchange". */
#ifndef BE_EXCHANGE_H
#define BE_EXCHANGE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "be/router.h"
#include "cf/error.h"

#define BE_EXPORT_LIMIT_DEFAULT 500
#define BE_EXPORT_LIMIT_MAX 1000
#define BE_ANSWER_REFERENCE_MAX 100 /* characters */
#define BE_ANSWER_NOTE_MAX 1000

/* The body of an export: {"region_id": uuid (the back office: its own region, may be
 * left out; an admin: required), "limit": 1..1000 (default 500)}. region_id is ""
 * when left out. Pure. */
struct be_export_request {
    char region_id[40];
    long limit;
};
int be_export_read(const char *text, size_t len, struct be_export_request *out,
                   struct cf_error_detail *d);

/* An answer of the central system: {"outcome": "accepted" | "rejected", "reference": its
 * number for the case (text, optional), "note": text (optional; required with
 * "rejected": the back office must learn why)}. From a JSON object (the answer route's
 * body, or the "answer" member of a webhook reply): be_answer_from_json; from text:
 * be_answer_read. Pure. */
struct be_answer {
    char outcome[12];
    char reference[BE_ANSWER_REFERENCE_MAX * 4 + 1];
    char note[BE_ANSWER_NOTE_MAX * 4 + 1];
};
int be_answer_from_json(const cJSON *object, const char *path, struct be_answer *out,
                        struct cf_error_detail *d);
int be_answer_read(const char *text, size_t len, struct be_answer *out, struct cf_error_detail *d);

/* A webhook receiver's reply body (len bytes, borrowed): 1 with *out filled when it holds
 * an "answer" object, 0 when it holds none (an empty or non-JSON reply, or JSON without
 * "answer": nothing to record), -1 with *d when the answer it holds is not valid. Pure. */
int be_answer_in_reply(const char *text, size_t len, struct be_answer *out,
                       struct cf_error_detail *d);

extern const struct be_module be_exchange_module;

#endif
