/* Structured JSON log lines on stderr (see be/log.h). */
#include "be/log.h"

#include <stdio.h>
#include <stdlib.h>

#include "cf/uuid.h"

void be_log(const char *level, const char *msg, cJSON *fields)
{
    char at[32];
    cJSON *line = fields ? fields : cJSON_CreateObject();
    if (!line)
        return;
    if (cf_time_format_utc(cf_time_now_ms(), at, sizeof at) == 0)
        cJSON_AddStringToObject(line, "time", at);
    cJSON_AddStringToObject(line, "level", level);
    cJSON_AddStringToObject(line, "msg", msg);
    char *text = cJSON_PrintUnformatted(line);
    if (text) {
        fprintf(stderr, "%s\n", text);
        free(text);
    }
    cJSON_Delete(line);
}

void be_log_str(const char *level, const char *msg, const char *key, const char *value)
{
    cJSON *fields = cJSON_CreateObject();
    if (fields)
        cJSON_AddStringToObject(fields, key, value ? value : "");
    be_log(level, msg, fields);
}
