/* Structured logs: one JSON object per line on stderr, built with cJSON so any
 * text from outside (a database message, a path) is escaped. */
#ifndef BE_LOG_H
#define BE_LOG_H

#include <cjson/cJSON.h>

/* Log level + message, with optional extra fields (taken; may be NULL). */
void be_log(const char *level, const char *msg, cJSON *fields);

/* Shorthand: one extra string field. */
void be_log_str(const char *level, const char *msg, const char *key, const char *value);

#endif
