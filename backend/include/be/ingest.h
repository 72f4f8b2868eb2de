/* The ingest module: POST /api/v1/devices/{id}/events: a terminal's signed event batch, stored and
 * rebuilt into visits. */
#ifndef BE_INGEST_H
#define BE_INGEST_H

#include "be/router.h"

extern const struct be_module be_ingest_module;

#endif
