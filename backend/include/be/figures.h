/* Figures (issue 6): GET /api/v1/figures, per worker, service, provider or local day
 * over a period, computed by one SQL statement over visit_effective (so corrections
 * and must-fix resolutions count, and row-level security applies). */
#ifndef BE_FIGURES_H
#define BE_FIGURES_H

#include "be/request.h"
#include "be/router.h"

/* GET /api/v1/figures?group=worker|service|provider|day&from=&to=&provider=&worker=
 * Managers are held to their provider, workers to their own visits (a filter naming
 * another is 403); bad parameters are a 400 problem naming the field. */

extern const struct be_module be_figures_module; /* GET /api/v1/figures */

#endif
