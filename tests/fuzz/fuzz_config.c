/* Fuzz target: a carefactd configuration file (`key = value` lines). Any text must be
 * either accepted with every setting within its bounds, or refused with a message
 * naming the line -- never a crash or a setting silently cut short. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *text, size_t size)
{
    if (memchr(text, '\0', size) == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 65536)
        return 0;
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f)
        return 0;
    struct be_config c;
    char err[512] = "";
    be_config_defaults(&c);
    int rc = be_config_load_stream(&c, f, "fuzz.conf", err, sizeof err);
    fclose(f);
    if (rc && strncmp(err, "fuzz.conf line ", 15) != 0)
        abort();
    if (!rc) {
        check_text(c.db, sizeof c.db);
        check_text(c.listen, sizeof c.listen);
        check_text(c.tls_cert, sizeof c.tls_cert);
        if (c.threads < 1)
            abort();
    }
    return 0;
}
