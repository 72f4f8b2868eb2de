/* The reference module: GET /api/v1/devices/{id}/reference and POST .../reference/fetch: the
 * reference data a terminal holds. */
#ifndef BE_REFERENCE_H
#define BE_REFERENCE_H

#include "be/router.h"

extern const struct be_module be_reference_module;

#endif
