/* Terminals: one-time codes issued for a worker, exchanged by the terminal for a device
 * id bound to its Ed25519 public key; the list of terminals, revoking one, deactivating a
 * worker (which revokes theirs). */
#ifndef BE_DEVICES_H
#define BE_DEVICES_H

#include <stddef.h>

#include "be/router.h"

#define BE_ENROLL_CODE_LEN 12

/* Issue a one-time code for worker_id (UUID text) valid for ttl_minutes
 * (1..10080). Only its SHA-256 is stored. code: BE_ENROLL_CODE_LEN + 1 bytes.
 * Returns 0, or -1 with a message for the administrator in error. */
int be_enroll_code_issue(const char *conninfo, const char *worker_id, int ttl_minutes, char *code,
                         char *error, size_t error_size);

/* POST /api/v1/devices (enrolment), GET /api/v1/devices (the list),
 * POST /api/v1/devices/{id}/revoke, POST /api/v1/workers/{id}/deactivate */
extern const struct be_module be_devices_module;

#endif
