/* The payment register's pure parts: register ids and months, roubles text, and the
 * CSV for a Russian-locale spreadsheet (BOM, ';', CRLF, quoting, formula guard, the
 * «Итого» line, reasons in Russian, the cap), and the register document written from
 * the same rows (member order, nulls, escaping, the cap). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "be/register.h"
#include "cf/error.h"

static void test_ids(void **state)
{
    (void)state;
    char month[11], provider[37];
    assert_true(
        be_register_id_parse("2026-10.0000000A-0000-4000-8000-000000000002", month, provider));
    assert_string_equal(month, "2026-10-01");
    assert_string_equal(provider, "0000000a-0000-4000-8000-000000000002");
    assert_false(
        be_register_id_parse("2026-13.00000000-0000-4000-8000-000000000002", month, provider));
    assert_false(
        be_register_id_parse("2026-1.00000000-0000-4000-8000-0000000000022", month, provider));
    assert_false(
        be_register_id_parse("2026-10-00000000-0000-4000-8000-000000000002", month, provider));
    assert_false(be_register_id_parse("2026-10.nope", month, provider));
    assert_false(be_register_id_parse("", month, provider));
    assert_true(be_register_month_parse("2000-01", month));
    assert_string_equal(month, "2000-01-01");
    assert_false(be_register_month_parse("1999-12", month));
    assert_false(be_register_month_parse("2026-00", month));
    assert_false(be_register_month_parse("2026-1x", month));
    assert_false(be_register_month_parse("2026-101", month));
}

static void test_roubles(void **state)
{
    (void)state;
    char text[32];
    be_register_roubles(123450, text);
    assert_string_equal(text, "1234,50");
    be_register_roubles(5, text);
    assert_string_equal(text, "0,05");
    be_register_roubles(0, text);
    assert_string_equal(text, "0,00");
    be_register_roubles(-105, text);
    assert_string_equal(text, "-1,05");
    be_register_roubles(INT64_MIN, text);
    assert_string_equal(text, "-92233720368547758,08");
    char number[24];
    be_register_int_text(0, number);
    assert_string_equal(number, "0");
    be_register_int_text(-42, number);
    assert_string_equal(number, "-42");
    be_register_int_text(INT64_MIN, number);
    assert_string_equal(number, "-9223372036854775808");
}

/* The rows of a register as register.c reads them: two lines of one paid visit (the
 * second late, its recipient's name null), one excluded visit. */
static void sample_rows(struct be_register_row rows[3])
{
    memset(rows, 0, 3 * sizeof rows[0]);
    for (int i = 0; i < 3; i++) {
        snprintf(rows[i].local_date, sizeof rows[i].local_date, "%s", "2026-10-10");
        snprintf(rows[i].local_time, sizeof rows[i].local_time, "%s", "12:00");
        snprintf(rows[i].visit_at, sizeof rows[i].visit_at, "%s", "2026-10-10T09:00:00+00:00");
        snprintf(rows[i].original_month, sizeof rows[i].original_month, "%s", "2026-10");
        rows[i].visit_id = "00000000-0000-4000-8000-00000000000a";
        rows[i].worker_name = "Иванова; Анна";
        rows[i].included = true;
    }
    rows[0].recipient_name = "=HYPERLINK(\"x\")";
    rows[0].service_code = "HH-05";
    rows[0].service_name = "Уборка\nгенеральная";
    rows[0].quantity = 1;
    rows[0].tariff_kopecks = rows[0].amount_kopecks = 123450;
    rows[1].service_code = "MED.02";
    rows[1].service_name = "Давление";
    rows[1].quantity = 2;
    rows[1].tariff_kopecks = 9000;
    rows[1].amount_kopecks = 18000;
    rows[1].late = true;
    snprintf(rows[1].original_month, sizeof rows[1].original_month, "%s", "2026-09");
    rows[2].included = false;
    rows[2].visit_id = "00000000-0000-4000-8000-00000000000b";
    snprintf(rows[2].local_date, sizeof rows[2].local_date, "%s", "2026-10-11");
    snprintf(rows[2].local_time, sizeof rows[2].local_time, "%s", "09:05");
    rows[2].worker_name = "Б";
    rows[2].recipient_name = "В";
    rows[2].reason = "end_not_confirmed";
}

static void test_csv(void **state)
{
    (void)state;
    struct be_register_row rows[3];
    sample_rows(rows);
    struct be_register_totals totals;
    assert_int_equal(be_register_totals_of(rows, 3, &totals), 0);
    assert_int_equal(totals.included_count, 1); /* two lines of one visit */
    assert_int_equal(totals.excluded_count, 1);
    assert_int_equal(totals.total_kopecks, 141450);
    /* Amounts whose sum does not fit are corrupt lines, refused, never a wrapped total
     * (fuzz.register found the overflow; mutant register.total-overflow). */
    struct be_register_row huge[3];
    sample_rows(huge);
    huge[1].visit_id = huge[0].visit_id;
    huge[0].amount_kopecks = huge[1].amount_kopecks = INT64_MIN + 5;
    huge[0].included = huge[1].included = true;
    struct be_register_totals spoilt;
    assert_int_equal(be_register_totals_of(huge, 2, &spoilt), CF_ETOOBIG);
    struct be_buf out;
    be_buf_init(&out, 1 << 16);
    assert_int_equal(be_register_csv(&totals, rows, 3, &out), 0);
    static const char want[] =
        "\xEF\xBB\xBF"
        "Дата;Время;Сотрудник;Получатель;Код услуги;Услуга;Количество;Тариф, руб.;Сумма, руб.;"
        "Поздний визит за месяц\r\n"
        "10.10.2026;12:00;\"Иванова; Анна\";\"'=HYPERLINK(\"\"x\"\")\";HH-05;"
        "\"Уборка\nгенеральная\";1;1234,50;1234,50;\r\n"
        "10.10.2026;12:00;\"Иванова; Анна\";;MED.02;Давление;2;90,00;180,00;2026-09\r\n"
        "Итого;визитов: 1;;;;;;;1414,50;\r\n"
        "\r\n"
        "Исключённые визиты\r\n"
        "Дата;Время;Сотрудник;Получатель;Причина;Поздний визит за месяц\r\n"
        "11.10.2026;09:05;Б;В;Окончание не подтверждено картой получателя;\r\n";
    assert_int_equal(out.len, sizeof want - 1);
    assert_memory_equal(out.data, want, sizeof want - 1);

    /* the rows may come interleaved (ordered by visit only): the same file */
    struct be_register_row shuffled[3] = {rows[2], rows[0], rows[1]};
    be_buf_reset(&out);
    assert_int_equal(be_register_csv(&totals, shuffled, 3, &out), 0);
    assert_memory_equal(out.data, want, sizeof want - 1);

    /* the cap: a partial text and CF_ETOOBIG, never an overflow */
    struct be_buf small;
    be_buf_init(&small, 64);
    assert_int_equal(be_register_csv(&totals, rows, 3, &small), CF_ETOOBIG);
    be_buf_cleanup(&small);
    be_buf_cleanup(&out);
}

static void test_document(void **state)
{
    (void)state;
    struct be_register_row rows[3];
    sample_rows(rows);
    struct be_register_head head = {
        .id = "2026-10.00000000-0000-4000-8000-000000000002",
        .provider_id = "00000000-0000-4000-8000-000000000002",
        .provider_name = "КЦСОН \"Тест\"\\1",
        .month = "2026-10",
        .state = "draft",
        .returned_reason = "tab\there\x01",
    };
    assert_int_equal(be_register_totals_of(rows, 3, &head.totals), 0);
    rows[0].worker_id = "00000000-0000-4000-8000-0000000000f1";
    rows[2].original_month[0] = '\0'; /* unknown: null */
    struct be_buf out;
    be_buf_init(&out, 1 << 16);
    assert_int_equal(be_register_json(&head, rows, 3, &out), 0);
    /* members in the order PostgreSQL's jsonb wrote them before (by length, then bytes) */
    static const char want[] =
        "{\"id\":\"2026-10.00000000-0000-4000-8000-000000000002\",\"month\":\"2026-10\","
        "\"state\":\"draft\",\"excluded\":[{\"late\":false,\"reason\":\"end_not_confirmed\","
        "\"visit_at\":\"2026-10-10T09:00:00+00:00\","
        "\"visit_id\":\"00000000-0000-4000-8000-00000000000b\",\"worker_id\":null,"
        "\"local_date\":\"2026-10-11\",\"local_time\":\"09:05\",\"worker_name\":\"Б\","
        "\"recipient_id\":null,\"original_month\":null,\"recipient_name\":\"В\"}],"
        "\"included\":[{\"late\":false,\"quantity\":1,\"visit_at\":\"2026-10-10T09:00:00+00:00\","
        "\"visit_id\":\"00000000-0000-4000-8000-00000000000a\","
        "\"worker_id\":\"00000000-0000-4000-8000-0000000000f1\",\"local_date\":\"2026-10-10\","
        "\"local_time\":\"12:00\",\"worker_name\":\"Иванова; Анна\",\"recipient_id\":null,"
        "\"service_code\":\"HH-05\",\"service_name\":\"Уборка\\nгенеральная\","
        "\"amount_kopecks\":123450,\"original_month\":\"2026-10\","
        "\"recipient_name\":\"=HYPERLINK(\\\"x\\\")\",\"tariff_kopecks\":123450},"
        "{\"late\":true,\"quantity\":2,\"visit_at\":\"2026-10-10T09:00:00+00:00\","
        "\"visit_id\":\"00000000-0000-4000-8000-00000000000a\",\"worker_id\":null,"
        "\"local_date\":\"2026-10-10\",\"local_time\":\"12:00\",\"worker_name\":\"Иванова; Анна\","
        "\"recipient_id\":null,\"service_code\":\"MED.02\",\"service_name\":\"Давление\","
        "\"amount_kopecks\":18000,\"original_month\":\"2026-09\",\"recipient_name\":null,"
        "\"tariff_kopecks\":9000}],"
        "\"approved_at\":null,\"approved_by\":null,"
        "\"provider_id\":\"00000000-0000-4000-8000-000000000002\",\"returned_at\":null,"
        "\"returned_by\":null,\"submitted_at\":null,\"submitted_by\":null,"
        "\"provider_name\":\"КЦСОН \\\"Тест\\\"\\\\1\",\"total_kopecks\":141450,"
        "\"excluded_count\":1,\"included_count\":1,\"returned_reason\":\"tab\\there\\u0001\"}";
    assert_string_equal(out.data, want);
    /* and it is JSON that says the same */
    cJSON *doc = cJSON_Parse(out.data);
    assert_non_null(doc);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(doc, "returned_reason")->valuestring,
                        "tab\there\x01");
    cJSON_Delete(doc);

    struct be_buf small;
    be_buf_init(&small, 100);
    assert_int_equal(be_register_json(&head, rows, 3, &small), CF_ETOOBIG);
    be_buf_cleanup(&small);
    be_buf_cleanup(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_roubles),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
