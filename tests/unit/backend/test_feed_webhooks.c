/* The pure parts of the change feed and webhooks (issue 20): the feed's cursor (only a
 * cursor this server gave out is taken back), the delivery signature (checked against
 * `openssl dgst -sha256 -hmac`, the receiver's recipe of api/WEBHOOKS.md), a
 * subscription's address, and the webhook settings' bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "be/config.h"
#include "be/feed.h"
#include "be/webhooks.h"

static void test_cursor_round_trip(void **state)
{
    (void)state;
    char text[BE_FEED_CURSOR_MAX];
    long long position = -1;
    be_feed_cursor_format(9007199254740993LL, text);
    assert_string_equal(text, "c1.9007199254740993");
    assert_int_equal(be_feed_cursor_parse(text, &position), 0);
    assert_true(position == 9007199254740993LL);
    assert_int_equal(be_feed_cursor_parse("", &position), 0); /* from the beginning */
    assert_true(position == 0);
    assert_int_equal(be_feed_cursor_parse(NULL, &position), 0);
    assert_int_equal(be_feed_cursor_parse("c1.0", &position), 0);
}

static void test_cursor_refuses_what_it_never_gave(void **state)
{
    (void)state;
    long long position = 0;
    const char *bad[] = {
        "12", "c1.", "c1.-1", "c1.+1", "c1. 1", "c1.1x", "c2.5", "C1.5", "c1.99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(be_feed_cursor_parse(bad[i], &position), -1);
}

static void test_signature_is_hmac_of_timestamp_dot_body(void **state)
{
    (void)state;
    char sig[BE_WEBHOOK_SIGNATURE_MAX];
    const char body[] = "{\"a\":1}";
    /* printf '%s' '1796550067.{"a":1}' | openssl dgst -sha256 -hmac "secret-of-..." */
    assert_int_equal(be_webhook_sign("secret-of-thirty-two-bytes-at-least", 1796550067LL, body,
                                     strlen(body), sig),
                     0);
    assert_string_equal(sig, "v1=958eddd6d0c8af167b5dab190c80a809786b40dfa1b10b8892f86d0a58a50805");
    /* Another time, another signature: the timestamp is signed. */
    char other[BE_WEBHOOK_SIGNATURE_MAX];
    assert_int_equal(be_webhook_sign("secret-of-thirty-two-bytes-at-least", 1796550068LL, body,
                                     strlen(body), other),
                     0);
    assert_string_not_equal(sig, other);
}

static void test_subscription_url(void **state)
{
    (void)state;
    assert_true(be_webhook_url_valid("https://register.example.ru/carefact/hook"));
    assert_true(be_webhook_url_valid("http://127.0.0.1:8099/hook?x=1"));
    assert_false(be_webhook_url_valid("ftp://example.ru/"));
    assert_false(be_webhook_url_valid("https://"));
    assert_false(be_webhook_url_valid("https:///path"));
    assert_false(be_webhook_url_valid("https://exa mple.ru/"));
    assert_false(be_webhook_url_valid("https://example.ru/\n"));
    assert_false(be_webhook_url_valid("javascript:alert(1)"));
}

static void test_webhook_settings(void **state)
{
    (void)state;
    struct be_config c;
    char err[256];
    be_config_defaults(&c);
    assert_int_equal(c.webhook_backoff_ms, 10000);
    assert_int_equal(c.webhook_backoff_max_ms, 600000);
    assert_int_equal(c.webhook_disable_after, 20);
    assert_int_equal(be_config_set(&c, "webhook-backoff-ms", "10", err, sizeof err), 0);
    assert_int_equal(c.webhook_backoff_ms, 10);
    assert_int_equal(be_config_set(&c, "webhook-disable-after", "0", err, sizeof err), -1);
    assert_non_null(strstr(err, "webhook-disable-after"));
    assert_int_equal(be_config_set(&c, "webhook-timeout-ms", "10s", err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cursor_round_trip),
        cmocka_unit_test(test_cursor_refuses_what_it_never_gave),
        cmocka_unit_test(test_signature_is_hmac_of_timestamp_dot_body),
        cmocka_unit_test(test_subscription_url),
        cmocka_unit_test(test_webhook_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
