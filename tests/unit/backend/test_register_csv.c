/* The payment register's pure parts: register ids and months, roubles text, and the
 * CSV for a Russian-locale spreadsheet (BOM, ';', CRLF, quoting, formula guard, the
 * «Итого» line, reasons in Russian, the cap). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
}

static const char doc_json[] =
    "{\"total_kopecks\":141450,\"included_count\":1,\"included\":["
    "{\"local_date\":\"2026-10-10\",\"local_time\":\"12:00\",\"worker_name\":\"Иванова; Анна\","
    "\"recipient_name\":\"=HYPERLINK(\\\"x\\\")\",\"service_code\":\"HH-05\",\"service_name\":"
    "\"Уборка\\nгенеральная\",\"quantity\":1,\"tariff_kopecks\":123450,\"amount_kopecks\":123450,"
    "\"late\":false,\"original_month\":\"2026-10\"},"
    "{\"local_date\":\"2026-10-10\",\"local_time\":\"12:00\",\"worker_name\":\"Иванова; Анна\","
    "\"recipient_name\":null,\"service_code\":\"MED.02\",\"service_name\":\"Давление\","
    "\"quantity\":2,\"tariff_kopecks\":9000,\"amount_kopecks\":18000,\"late\":true,"
    "\"original_month\":\"2026-09\"}],"
    "\"excluded\":[{\"local_date\":\"2026-10-11\",\"local_time\":\"09:05\",\"worker_name\":\"Б\","
    "\"recipient_name\":\"В\",\"reason\":\"end_not_confirmed\",\"late\":false,"
    "\"original_month\":\"2026-10\"}]}";

static void test_csv(void **state)
{
    (void)state;
    cJSON *doc = cJSON_Parse(doc_json);
    assert_non_null(doc);
    struct be_buf out;
    be_buf_init(&out, 1 << 16);
    assert_int_equal(be_register_csv(doc, &out), 0);
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

    /* the cap: a partial text and CF_ETOOBIG, never an overflow */
    struct be_buf small;
    be_buf_init(&small, 64);
    assert_int_equal(be_register_csv(doc, &small), CF_ETOOBIG);
    be_buf_cleanup(&small);

    /* a document without its members is refused */
    cJSON *bad = cJSON_Parse("{\"included\":[{\"quantity\":\"1\"}],\"excluded\":[],"
                             "\"total_kopecks\":0,\"included_count\":1}");
    be_buf_reset(&out);
    assert_int_equal(be_register_csv(bad, &out), CF_EFIELD_TYPE);
    cJSON_Delete(bad);
    bad = cJSON_Parse("{\"included\":[]}");
    assert_int_equal(be_register_csv(bad, &out), CF_EFIELD_TYPE);
    cJSON_Delete(bad);
    be_buf_cleanup(&out);
    cJSON_Delete(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_roubles),
        cmocka_unit_test(test_csv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
