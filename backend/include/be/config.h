/* carefactd configuration loading (struct be_config lives in be/server.h). */
#ifndef BE_CONFIG_H
#define BE_CONFIG_H

#include <stdio.h>

#include "be/server.h"

void be_config_defaults(struct be_config *config);

/* Set one setting by name ("db", "listen", "threads", "sql-dir", "tls-cert",
 * "tls-key", "body-max", "migrate"). Returns 0, or -1 with a message in err. */
int be_config_set(struct be_config *config, const char *key, const char *value, char *err,
                  size_t err_size);
/* `key = value` lines (blank lines and '#' comments skipped) from a file, or from an
 * open stream named name in messages. Returns 0, or -1 with "NAME line N: ..." in
 * err; a line over 2048 bytes or holding a NUL byte is refused. */
int be_config_load_file(struct be_config *config, const char *path, char *err, size_t err_size);
int be_config_load_stream(struct be_config *config, FILE *stream, const char *name, char *err,
                          size_t err_size);
int be_config_load_env(struct be_config *config, char *err, size_t err_size);

#endif
