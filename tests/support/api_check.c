/* Checks shared by the HTTP API tests (see api_check.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api_check.h"

cJSON *cf_api_json(struct cf_harness *h, const char *method, const char *path, const char *body,
                   long want)
{
    struct cf_http_reply reply;
    assert_int_equal(cf_http(h, method, path, body, body ? strlen(body) : 0, &reply), 0);
    if (reply.status != want)
        fail_msg("%s %s: status %ld, want %ld: %s", method, path, reply.status, want, reply.body);
    if (want >= 400)
        assert_string_equal(reply.content_type, "application/problem+json");
    cJSON *json = cJSON_Parse(reply.body);
    if (!json)
        fail_msg("%s %s: the body is not JSON: %s", method, path, reply.body);
    cf_http_reply_cleanup(&reply);
    return json;
}

void cf_api_expect_problem(cJSON *problem, const char *type, const char *field)
{
    char want[128];
    snprintf(want, sizeof want, "https://carefact.example/problems/%s", type);
    assert_string_equal(cf_json_str(problem, "type"), want);
    if (field)
        assert_string_equal(cf_json_str(problem, "field"), field);
    if (strlen(cf_json_str(problem, "detail")) < 10)
        fail_msg("problem %s has no detail a person could act on", type);
    cJSON_Delete(problem);
}

const char *cf_json_str(const cJSON *obj, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(item) ? item->valuestring : "";
}

double cf_json_num(const cJSON *obj, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNumber(item) ? item->valuedouble : -1;
}

long cf_json_long(const cJSON *obj, const char *name)
{
    return (long)cf_json_num(obj, name);
}

bool cf_json_true(const cJSON *obj, const char *name)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, name));
}
