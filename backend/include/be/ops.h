/* The operational routes: /healthz (the database answers now) and /metrics. */
#ifndef BE_OPS_H
#define BE_OPS_H

#include "be/router.h"

extern const struct be_module be_ops_module;

#endif
