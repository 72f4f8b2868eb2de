/* What the agent's unit tests share: a store file in a fresh temporary folder (and
 * removing the folder), and the smallest valid event. Header-only, so each test
 * stays one file that the glob in tests/unit.cmake registers. */
#ifndef AG_TEST_SUPPORT_H
#define AG_TEST_SUPPORT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cf/event.h"

/* mkdtemp "/tmp/ag-<tag>-test.XXXXXX" into dir, and dir + "/agent.db" into path.
 * Returns 0 or -1 (a cmocka setup's answer). */
static inline int ag_test_temp_store(const char *tag, char *dir, size_t dir_size, char *path,
                                     size_t path_size)
{
    snprintf(dir, dir_size, "/tmp/ag-%s-test.XXXXXX", tag);
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, path_size, "%s/agent.db", dir);
    return 0;
}

/* rm -rf dir. Returns 0 or -1. */
static inline int ag_test_remove_dir(const char *dir)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A door attempt at wall_ms (worker A1…, recipient C1…, boot E1…): the smallest
 * valid event. */
static inline struct cf_event ag_test_attempt_event(int64_t wall_ms)
{
    struct cf_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = CF_EV_VISIT_ATTEMPT;
    memset(ev.worker_id, 0xA1, sizeof ev.worker_id);
    memset(ev.recipient_id, 0xC1, sizeof ev.recipient_id);
    memset(ev.boot_id, 0xE1, sizeof ev.boot_id);
    ev.wall_ms = wall_ms;
    ev.mono_ms = 1000;
    ev.reason = CF_REASON_NOBODY_HOME;
    return ev;
}

#endif
