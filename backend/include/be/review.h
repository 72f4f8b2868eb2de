/* Manager review API (issue 6): live visits, the exception queue and its
 * resolutions. Handlers over struct be_request, like visits.c. */
#ifndef BE_REVIEW_H
#define BE_REVIEW_H

#include <stddef.h>

#include "be/request.h"
#include "be/router.h"
#include "cf/error.h"

#define BE_NOTE_MAX 2000 /* characters of a resolution's note */

/* What a person decides about one exception. */
struct be_resolution_body {
    char action[16]; /* must_fix | acknowledge (a visit), confirm | reject (a card) */
    char note[BE_NOTE_MAX * 4 + 1]; /* "" when none */
};

/* The body of POST /api/v1/exceptions/{id}/resolve (text of len bytes, borrowed; may
 * be NULL) for an exception of kind: {"action", "note"?}, nothing else; the note is a
 * person's text (cf/text.h). Fills *out. Returns 0, or a CF_E... code with *d naming
 * the field (CF_EJSON / CF_ETOOBIG for the whole body). Pure. */
int be_resolution_read(const char *text, size_t len, const char *kind,
                       struct be_resolution_body *out, struct cf_error_detail *d);

extern const struct be_module be_review_module; /* live, exceptions, resolve */

#endif
