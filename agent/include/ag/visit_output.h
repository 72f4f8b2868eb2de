/* How visit outcomes are shown, shared by the command line and the terminal UI:
 * the recipient's view (name, certificate, services left) as Russian text, and
 * every step's result as a JSON object for scripts. */
#ifndef AG_VISIT_OUTPUT_H
#define AG_VISIT_OUTPUT_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "ag/visit.h"

/* Lines for the worker: who, the certificate, the services still available
 * (numbered from 1 when numbered is true, for the terminal's menus). */
void ag_print_view(FILE *out, const struct ag_recipient_view *view, bool numbered);

/* {"recipient":{"id","name","address"},"certificate":{"valid","number","valid_from",
 *  "valid_to"},"available":[{"code","name","remaining","volume","norm_minutes"}]}
 * NULL on out of memory; caller frees with cJSON_Delete. */
cJSON *ag_view_json(const struct ag_recipient_view *view);

/* {"event":"visit.started","seq":1,"visit_id":"...", ...view fields..., and as they
 * apply "card_matches", "duration_s", "clock_uncertain", "since_start_s"}. */
cJSON *ag_result_json(const struct ag_visit_result *result);

/* The full names of the recipients a card belongs to, comma-separated, into out. */
void ag_candidates_text(const struct ag_visit_result *result, char *out, size_t out_size);

#endif
