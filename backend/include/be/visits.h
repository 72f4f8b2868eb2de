/* The visits module: GET /api/v1/visits, GET /api/v1/visits/{id}: visits as managers, the authority
 * and workers read them. */
#ifndef BE_VISITS_H
#define BE_VISITS_H

#include "be/router.h"

extern const struct be_module be_visits_module;

#endif
