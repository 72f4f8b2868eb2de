/* carefactd's HTTP server (http.c, the only file that knows civetweb): listens,
 * hands each request to the router (be/router.h) and drains on SIGTERM. */
#ifndef BE_HTTP_H
#define BE_HTTP_H

#include "be/config.h"

/* Start serving; blocks until SIGTERM/SIGINT, then drains. Returns a process exit code. */
int be_serve(const struct be_config *config);

#endif
