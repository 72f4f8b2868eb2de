/* Unit tests for how card reads are shown (agent ag/card_output.h): the exact JSON
 * object scripts parse, null fields for UID cards, one stable name and a Russian
 * message per error, and the reader's refusal of bad arguments before any I/O. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ag/card_output.h"
#include "ag/reader.h"

static struct ag_card_read emv_read(void)
{
    struct ag_card_read r;
    memset(&r, 0, sizeof r);
    r.card.method = CF_CARD_EMV;
    snprintf(r.card.scheme, sizeof r.card.scheme, "%s", "mir");
    snprintf(r.card.last4, sizeof r.card.last4, "%s", "5678");
    snprintf(r.card.token, sizeof r.card.token, "%s", "AAECAwQFBgcICQoLDA0ODw");
    r.expiry_year = 2027;
    r.expiry_month = 12;
    return r;
}

static void test_emv_json_is_exact(void **state)
{
    (void)state;
    struct ag_card_read r = emv_read();
    char out[256];
    assert_int_equal(ag_card_read_json(&r, out, sizeof out), 0);
    assert_string_equal(out, "{\"method\":\"emv\",\"scheme\":\"mir\",\"last4\":\"5678\","
                             "\"expiry\":\"2027-12\",\"token\":\"AAECAwQFBgcICQoLDA0ODw\"}");
}

static void test_uid_json_has_nulls(void **state)
{
    (void)state;
    struct ag_card_read r;
    memset(&r, 0, sizeof r);
    r.card.method = CF_CARD_UID;
    snprintf(r.card.token, sizeof r.card.token, "%s", "uiduiduiduiduiduiduidu");
    char out[256];
    assert_int_equal(ag_card_read_json(&r, out, sizeof out), 0);
    assert_string_equal(out, "{\"method\":\"uid\",\"scheme\":null,\"last4\":null,"
                             "\"expiry\":null,\"token\":\"uiduiduiduiduiduiduidu\"}");
}

static void test_json_too_small(void **state)
{
    (void)state;
    struct ag_card_read r = emv_read();
    char out[40];
    assert_int_equal(ag_card_read_json(&r, out, sizeof out), CF_ENOSPACE);
}

static void test_expiry_text(void **state)
{
    (void)state;
    struct ag_card_read r = emv_read();
    char text[8];
    ag_card_expiry_text(&r, text);
    assert_string_equal(text, "2027-12");
    r.expiry_month = 13;
    ag_card_expiry_text(&r, text);
    assert_string_equal(text, "");
    r.expiry_month = 0;
    r.expiry_year = 0;
    ag_card_expiry_text(&r, text);
    assert_string_equal(text, "");

    /* No expiry: JSON says null rather than an invented date. */
    char out[256];
    assert_int_equal(ag_card_read_json(&r, out, sizeof out), 0);
    assert_non_null(strstr(out, "\"expiry\":null"));
}

static void test_error_names_are_distinct(void **state)
{
    (void)state;
    const int codes[] = {CF_ENO_CARD,        CF_ECARD_REMOVED, CF_EREADER_NOT_FOUND,
                         CF_EREADER_STOPPED, CF_ECARD_LOCKED,  CF_ECARD_UNKNOWN,
                         CF_ENOT_PAYMENT,    CF_ENO_PAN,       CF_ECOMM};
    const char *names[] = {
        "no_card",           "card_removed", "reader_not_found", "reader_not_responding",
        "card_locked",       "unknown_card", "not_payment_card", "no_card_number",
        "card_communication"};
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(ag_read_error_name(codes[i]), names[i]);
        const char *message = ag_read_error_message(codes[i]);
        /* Russian for the worker: Cyrillic UTF-8 starts with D0 or D1. */
        assert_true((unsigned char)message[0] == 0xD0 || (unsigned char)message[0] == 0xD1);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(message, ag_read_error_message(codes[j]));
    }
}

static void test_error_json(void **state)
{
    (void)state;
    char out[512];
    assert_int_equal(ag_read_error_json(CF_ECARD_LOCKED, out, sizeof out), 0);
    const char *prefix = "{\"error\":\"card_locked\",\"message\":\"";
    assert_memory_equal(out, prefix, strlen(prefix));
    assert_non_null(strstr(out, ag_read_error_message(CF_ECARD_LOCKED)));
    assert_int_equal(out[strlen(out) - 1], '}');
}

static void test_text_output(void **state)
{
    (void)state;
    struct ag_card_read r = emv_read();
    char out[512];
    assert_int_equal(ag_card_read_text(&r, out, sizeof out), 0);
    assert_string_equal(out, "Карта прочитана: Мир •••• 5678, действует до 12/2027.\n"
                             "Токен карты: AAECAwQFBgcICQoLDA0ODw\n");
    char small[16];
    assert_int_equal(ag_card_read_text(&r, small, sizeof small), CF_ENOSPACE);
}

static void test_reader_refuses_bad_arguments(void **state)
{
    (void)state;
    struct ag_reader *reader = (struct ag_reader *)0x1;
    assert_int_equal(ag_reader_open(NULL, &reader), CF_EINVAL);
    assert_null(reader);
    assert_int_equal(ag_reader_open("", &reader), CF_EINVAL);

    uint8_t key[16] = {0};
    struct ag_card_read out;
    memset(&out, 0x55, sizeof out);
    assert_int_equal(ag_reader_read_card(NULL, key, sizeof key, 1000, NULL, &out), CF_EINVAL);
    assert_int_equal(out.card.method, CF_CARD_NONE); /* cleared on every error */
    assert_int_equal(out.card.token[0], '\0');
    ag_reader_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emv_json_is_exact),
        cmocka_unit_test(test_uid_json_has_nulls),
        cmocka_unit_test(test_json_too_small),
        cmocka_unit_test(test_expiry_text),
        cmocka_unit_test(test_error_names_are_distinct),
        cmocka_unit_test(test_error_json),
        cmocka_unit_test(test_text_output),
        cmocka_unit_test(test_reader_refuses_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
