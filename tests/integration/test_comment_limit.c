/* The comment limit end to end (api/PROTOCOL.md 4.4): a recipient's comment of 1000
 * characters is accepted whatever bytes they take — 1000 Cyrillic letters are 2000
 * bytes of UTF-8 — stored and served back unchanged; one of 1001 characters is refused
 * with a 422 naming the field, before anything is stored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "api_check.h"
#include "harness.h"
#include "sample_events.h"
#include "terminal.h"

#define PROVIDER "00000000-0000-4000-8000-000000000002"
#define WORKER "20212223-2425-2627-2829-2a2b2c2d2e2f" /* sample_event's worker */
#define RECIPIENT "30313233-3435-3637-3839-3a3b3c3d3e3f"
#define VISIT "40414243-4445-4647-4849-4a4b4c4d4e4f"

static struct cf_harness harness;

static const char seed_sql[] =
    "INSERT INTO regions VALUES ('00000000-0000-4000-8000-000000000001', 'Тестовая область', "
    "  decode(repeat('ab', 32), 'hex'));"
    "INSERT INTO providers VALUES ('" PROVIDER "', '00000000-0000-4000-8000-000000000001', "
    "  'КЦСОН Тестовый');"
    "INSERT INTO workers VALUES ('" WORKER "', '" PROVIDER "', 'Иванова Анна');"
    "INSERT INTO recipients (id, provider_id, full_name) VALUES ('" RECIPIENT "', "
    "  '" PROVIDER "', 'Петров Пётр Петрович');";

static int group_setup(void **state)
{
    (void)state;
    return cf_harness_start(&harness, NULL) || cf_harness_sql(&harness, seed_sql) ||
                   cf_harness_as_authority(&harness)
               ? -1
               : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    cf_harness_stop(&harness);
    return 0;
}

/* n Cyrillic letters "я" (2 bytes each) into comment. */
static void cyrillic(char *comment, size_t size, int n)
{
    assert_true((size_t)n * 2 < size);
    for (int i = 0; i < n; i++)
        memcpy(comment + 2 * i, "я", 2);
    comment[2 * n] = '\0';
}

static void test_comment_of_1000_characters_end_to_end(void **state)
{
    (void)state;
    struct cf_terminal terminal;
    struct cf_event ev[3];
    cf_terminal_enrol(&harness, WORKER, &terminal);
    sample_visit(ev, 50);
    cyrillic(ev[2].comment, sizeof ev[2].comment, 1000);
    assert_int_equal(strlen(ev[2].comment), 2000);
    cf_terminal_upload(&harness, &terminal, ev, 3);
    cJSON *visit = cf_api_json(&harness, "GET", "/api/v1/visits/" VISIT, NULL, 200);
    assert_string_equal(cf_json_str(visit, "comment"), ev[2].comment);
    cJSON_Delete(visit);
}

static void test_comment_of_1001_characters_is_refused(void **state)
{
    (void)state;
    struct cf_terminal terminal;
    struct cf_event ev[3];
    cf_terminal_enrol(&harness, WORKER, &terminal);
    sample_visit(ev, 50);
    sample_fill_id(ev[0].visit_id, 0x41);
    sample_fill_id(ev[1].visit_id, 0x41);
    sample_fill_id(ev[2].visit_id, 0x41);
    cyrillic(ev[2].comment, sizeof ev[2].comment, 1000);
    for (int i = 0; i < 3; i++)
        cf_terminal_chain(&terminal, &ev[i]);
    char *body = cf_terminal_batch(&terminal, ev, 3);
    assert_non_null(body);
    /* One letter more: the text is read (and refused) before its seal is checked. */
    char *at = strstr(body, "\"comment\":\"");
    assert_non_null(at);
    at += strlen("\"comment\":\"");
    size_t head = (size_t)(at - body), len = strlen(body);
    char *longer = malloc(len + 3);
    assert_non_null(longer);
    memcpy(longer, body, head);
    memcpy(longer + head, "я", 2);
    memcpy(longer + head + 2, at, len - head + 1);
    long stored = cf_harness_sql_long(&harness, "SELECT count(*) FROM events");
    cJSON *problem = cf_terminal_send(&harness, &terminal, longer, 422);
    assert_non_null(strstr(cf_json_str(problem, "detail"), "1000 characters"));
    cf_api_expect_problem(problem, "validation", "events[2].comment");
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM events"), stored);
    free(longer);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_comment_of_1000_characters_end_to_end),
        cmocka_unit_test(test_comment_of_1001_characters_is_refused),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
