/* Webhooks end to end (issue 20): a subscription made by the admin, changes made in the
 * database, carefactd's sender delivering them to a local receiver
 * (tests/support/webhook_receiver.mjs, which checks each delivery by api/WEBHOOKS.md's
 * recipe) that answers 503, times out, answers slowly and is down for "an hour"; a
 * carefactd restart in the middle; a subscription disabled after its failures and
 * enabled again by hand. In the end: no change lost, each subject's changes in order,
 * a repeated delivery always with the same id and body, every signature verified, and the
 * recipe refusing a bad signature and a timestamp outside its window.
 *
 * The clock: carefactd runs with the back-off in milliseconds instead of seconds
 * (--webhook-backoff-ms 10 --webhook-backoff-max-ms 600: the production schedule, 10 s
 * doubling to 10 min, scaled 1:1000), so the receiver's "hour" down is 3.6 s. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "api_check.h"
#include "harness.h"

#define REGION "00000000-0000-4000-8000-000000000001"
#define OTHER_REGION "00000000-0000-4000-8000-0000000000f1"
#define PROVIDER "00000000-0000-4000-8000-000000000002"
#define PASSWORD "correct horse battery"
#define SUBJECTS 5

static struct cf_harness harness;
static struct cf_session admin, authority, manager;
static pid_t receiver;
static int hook_port, control_port;
static char subscription[40], secret[80];
static int change_counter;

static const char *const serve_args[] = {"--webhook-backoff-ms",
                                         "10",
                                         "--webhook-backoff-max-ms",
                                         "600",
                                         "--webhook-timeout-ms",
                                         "1000",
                                         "--webhook-poll-ms",
                                         "20",
                                         NULL};
static const char *const serve_args_disable_soon[] = {"--webhook-backoff-ms",
                                                      "10",
                                                      "--webhook-backoff-max-ms",
                                                      "600",
                                                      "--webhook-timeout-ms",
                                                      "1000",
                                                      "--webhook-poll-ms",
                                                      "20",
                                                      "--webhook-disable-after",
                                                      "3",
                                                      NULL};

/* Certificates "c0000000-...-0s" of recipients of PROVIDER, and one in another region
 * (a subscription of REGION never hears of it). */
static const char seed_sql[] =
    "INSERT INTO regions VALUES ('" REGION "', 'Тестовая область', decode(repeat('ab', 32), "
    "  'hex')), ('" OTHER_REGION "', 'Другая область', decode(repeat('cd', 32), 'hex'));"
    "INSERT INTO providers VALUES ('" PROVIDER "', '" REGION "', 'КЦСОН Первый'), "
    "  ('00000000-0000-4000-8000-0000000000f2', '" OTHER_REGION "', 'КЦСОН Другой');"
    "INSERT INTO recipients (id, provider_id, full_name) SELECT "
    "  format('b0000000-0000-4000-8000-0000000000%s', to_char(s, 'FM00'))::uuid, "
    "  CASE WHEN s < 5 THEN '" PROVIDER "'::uuid "
    "       ELSE '00000000-0000-4000-8000-0000000000f2'::uuid END, "
    "  'Получатель ' || s FROM generate_series(0, 5) s;"
    "INSERT INTO certificates (id, recipient_id, number, valid_from, valid_to) SELECT "
    "  format('c0000000-0000-4000-8000-0000000000%s', to_char(s, 'FM00'))::uuid, "
    "  format('b0000000-0000-4000-8000-0000000000%s', to_char(s, 'FM00'))::uuid, "
    "  'start', '2026-01-01', '2026-12-31' FROM generate_series(0, 5) s;";

/* ==== The receiver ==== */

static size_t collect(char *data, size_t size, size_t n, void *user)
{
    struct {
        char *text;
        size_t len;
    } *out = user;
    char *grown = realloc(out->text, out->len + size * n + 1);
    assert_non_null(grown);
    memcpy(grown + out->len, data, size * n);
    out->text = grown;
    out->len += size * n;
    out->text[out->len] = '\0';
    return size * n;
}

/* GET on the receiver's control port; the body (caller frees). */
static char *control(const char *path)
{
    struct {
        char *text;
        size_t len;
    } out = {NULL, 0};
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", control_port, path);
    CURL *curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
    assert_int_equal(curl_easy_perform(curl), CURLE_OK);
    curl_easy_cleanup(curl);
    return out.text ? out.text : strdup("");
}

static void set_mode(const char *mode)
{
    char path[160];
    snprintf(path, sizeof path, "/mode?set=%s", mode);
    free(control(path));
}

static cJSON *receiver_log(void)
{
    char *text = control("/log");
    cJSON *log = cJSON_Parse(text);
    free(text);
    assert_non_null(log);
    return log;
}

static int start_receiver(void)
{
    char ports[128], script[512];
    snprintf(ports, sizeof ports, "%s/receiver.ports", harness.pg_dir);
    snprintf(script, sizeof script, "%s/tests/support/webhook_receiver.mjs",
             getenv("CF_SOURCE_DIR") ? getenv("CF_SOURCE_DIR") : ".");
    receiver = fork();
    if (receiver == 0) {
        execlp("node", "node", script, ports, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        FILE *f = fopen(ports, "r");
        if (f) {
            int n = fscanf(f, "%d %d", &hook_port, &control_port);
            fclose(f);
            if (n == 2)
                return 0;
        }
        struct timespec pause = {0, 20 * 1000000L};
        nanosleep(&pause, NULL);
    }
    fprintf(stderr, "webhook receiver did not start\n");
    return -1;
}

static int group_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (cf_harness_start(&harness, serve_args) || cf_harness_sql(&harness, seed_sql) ||
        cf_harness_account(&harness, "hook-admin", "admin", NULL, NULL, PASSWORD) ||
        cf_harness_account(&harness, "hook-authority", "authority", NULL, NULL, PASSWORD) ||
        cf_harness_account(&harness, "hook-manager", "manager", PROVIDER, NULL, PASSWORD) ||
        cf_harness_login(&harness, "hook-admin", PASSWORD, &admin) ||
        cf_harness_login(&harness, "hook-authority", PASSWORD, &authority) ||
        cf_harness_login(&harness, "hook-manager", PASSWORD, &manager))
        return -1;
    return start_receiver();
}

static int group_teardown(void **state)
{
    (void)state;
    if (receiver > 0) {
        kill(receiver, SIGTERM);
        waitpid(receiver, NULL, 0);
    }
    cf_harness_stop(&harness);
    return 0;
}

/* ==== Changes and waiting ==== */

/* One committed change to subject s (its own transaction): certificate number "s-N". */
static void change(int s)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "UPDATE certificates SET number = '%d-%03d' "
             "WHERE id = 'c0000000-0000-4000-8000-0000000000%02d'",
             s, ++change_counter, s);
    assert_int_equal(cf_harness_sql(&harness, sql), 0);
}

static long pending(void)
{
    return cf_harness_sql_long(&harness,
                               "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'");
}

static void sleep_ms(long ms)
{
    struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&pause, NULL);
}

/* Until nothing is pending (at most limit_ms). */
static void wait_all_delivered(long limit_ms)
{
    for (long waited = 0; pending() > 0; waited += 50) {
        if (waited > limit_ms)
            fail_msg("%ld deliveries still pending after %ld ms", pending(), limit_ms);
        sleep_ms(50);
    }
}

static cJSON *subscription_row(void)
{
    harness.session = &authority;
    cJSON *list = cf_api_json(&harness, "GET", "/api/v1/webhooks", NULL, 200);
    cJSON *found = NULL;
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(list, "subscriptions"))
    {
        if (strcmp(cf_json_str(s, "id"), subscription) == 0)
            found = cJSON_Duplicate(s, true);
    }
    cJSON_Delete(list);
    assert_non_null(found);
    return found;
}

/* ==== What the receiver saw ==== */

/* Every change of the subscription's region was received and answered 200 at least once
 * (no event lost); a repeated id always came with the same change; each subject's
 * changes arrived in order (a repeat of the one before allowed: at least once); every
 * signature verified. Returns how many arrivals repeated an id. */
static int check_log(void)
{
    cJSON *log = receiver_log();
    int repeats = 0, n = cJSON_GetArraySize(log);
    long long last_position[SUBJECTS] = {0};
    for (int i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(log, i);
        const char *id = cf_json_str(e, "id");
        if (strncmp(id, "recipe-", 7) == 0) /* the recipe's own cases, below */
            continue;
        assert_true(cf_json_true(e, "verified"));
        assert_string_equal(cf_json_str(e, "body_id"), id);
        const char *subject = cf_json_str(e, "subject_id");
        int s = (int)strtol(subject + strlen(subject) - 2, NULL, 10);
        assert_true(s >= 0 && s < SUBJECTS); /* never the other region's */
        long long position = strtoll(cf_json_str(e, "position"), NULL, 10);
        assert_true(position >= last_position[s]);
        last_position[s] = position;
        for (int j = 0; j < i; j++) {
            const cJSON *before = cJSON_GetArrayItem(log, j);
            if (strcmp(cf_json_str(before, "id"), id) == 0) {
                assert_string_equal(cf_json_str(before, "position"), cf_json_str(e, "position"));
                repeats++;
                break;
            }
        }
    }
    /* Each delivery the database holds came, and was answered 200 at least once. */
    char *ids = cf_harness_sql_value(
        &harness, "SELECT string_agg(d.id::text, ' ') FROM webhook_deliveries d");
    assert_non_null(ids);
    for (char *id = ids; *id; id += id[36] ? 37 : 36) {
        bool ok = false;
        for (int i = 0; i < n && !ok; i++) {
            const cJSON *e = cJSON_GetArrayItem(log, i);
            ok = strncmp(cf_json_str(e, "id"), id, 36) == 0 && cf_json_long(e, "answered") == 200;
        }
        if (!ok)
            fail_msg("delivery %.36s never answered 200", id);
        if (!id[36])
            break;
    }
    /* ... and every change of the region's subjects became one delivery. */
    assert_int_equal(
        cf_harness_sql_long(&harness, "SELECT count(*) FROM webhook_deliveries"),
        cf_harness_sql_long(&harness, "SELECT count(*) FROM changes c WHERE c.region_id = '" REGION
                                      "' AND c.id > (SELECT min(change_id) - 1 FROM "
                                      "webhook_deliveries)"));
    free(ids);
    cJSON_Delete(log);
    return repeats;
}

/* ==== The cases, in order (one subscription through every weather) ==== */

static void test_subscribe(void **state)
{
    (void)state;
    harness.session = &admin;
    char body[512];
    snprintf(body, sizeof body,
             "{\"region_id\":\"" REGION "\",\"url\":\"http://127.0.0.1:%d/hook\","
             "\"events\":[\"certificate.changed\",\"visit.changed\"]}",
             hook_port);
    cJSON *made = cf_api_json(&harness, "POST", "/api/v1/webhooks", body, 201);
    snprintf(subscription, sizeof subscription, "%s", cf_json_str(made, "id"));
    snprintf(secret, sizeof secret, "%s", cf_json_str(made, "secret"));
    assert_int_equal(strlen(secret), 64);
    assert_true(cf_json_true(made, "enabled"));
    cJSON_Delete(made);
    char path[160];
    snprintf(path, sizeof path, "/mode?set=ok&secret=%s", secret);
    free(control(path));
    /* The secret is shown once: never in the list. */
    cJSON *row = subscription_row();
    assert_null(cJSON_GetObjectItem(row, "secret"));
    cJSON_Delete(row);
    /* Audited, without the secret. */
    char *audit = cf_harness_sql_value(
        &harness, "SELECT details::text FROM audit_log WHERE action = 'webhook.create'");
    assert_non_null(audit);
    assert_null(strstr(audit, secret));
    free(audit);
}

static void test_delivered_in_order_signed(void **state)
{
    (void)state;
    for (int round = 0; round < 4; round++)
        for (int s = 0; s < SUBJECTS; s++)
            change(s);
    /* Another region's change is not this subscription's. */
    cf_harness_sql(&harness, "UPDATE certificates SET number = 'elsewhere' WHERE id = "
                             "'c0000000-0000-4000-8000-000000000005'");
    wait_all_delivered(10000);
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM webhook_deliveries"), 20);
    check_log();
}

static void test_receiver_failing_then_back(void **state)
{
    (void)state;
    set_mode("fail");
    for (int s = 0; s < SUBJECTS; s++)
        change(s), change(s);
    sleep_ms(400);
    long failed = cf_harness_sql_long(&harness, "SELECT count(*) FROM webhook_attempts "
                                                "WHERE http_status = 503");
    assert_true(failed >= 2);
    /* The delivery log shows the 503s. */
    harness.session = &authority;
    char path[160];
    snprintf(path, sizeof path, "/api/v1/webhooks/%s/deliveries?limit=50", subscription);
    cJSON *log = cf_api_json(&harness, "GET", path, NULL, 200);
    char *text = cJSON_PrintUnformatted(log);
    assert_non_null(strstr(text, "\"http_status\":503"));
    assert_non_null(strstr(text, "\"status\":\"pending\""));
    cJSON_free(text);
    cJSON_Delete(log);
    set_mode("ok");
    wait_all_delivered(10000);
    check_log();
}

static void test_receiver_timing_out_gives_same_id_twice(void **state)
{
    (void)state;
    set_mode("timeout");
    change(0);
    change(0);
    sleep_ms(1300); /* the first attempt (1 s) given up, at least one more */
    set_mode("ok");
    wait_all_delivered(10000);
    assert_true(check_log() >= 1); /* the timed-out one came again, with its id */
}

static void test_receiver_slow(void **state)
{
    (void)state;
    set_mode("slow");
    for (int s = 0; s < SUBJECTS; s++)
        change(s);
    wait_all_delivered(15000);
    set_mode("ok");
    assert_int_equal(cf_harness_sql_long(&harness,
                                         "SELECT count(*) FROM webhook_attempts a JOIN "
                                         "webhook_deliveries d ON d.id = a.delivery_id WHERE "
                                         "d.status = 'delivered' AND a.http_status = 200 AND "
                                         "a.duration_ms >= 200"),
                     SUBJECTS);
    check_log();
}

static void test_receiver_down_for_an_hour(void **state)
{
    (void)state;
    set_mode("down");
    for (int round = 0; round < 2; round++)
        for (int s = 0; s < SUBJECTS; s++)
            change(s);
    sleep_ms(3600); /* an hour at 1:1000 */
    cJSON *row = subscription_row();
    long failures = cf_json_long(row, "consecutive_failures");
    printf("down for an hour: %ld failures in a row, still enabled: %d\n", failures,
           cf_json_true(row, "enabled"));
    /* 10, 20, ... 320 ms, then every 600 ms: about 11, one per round (not one per subject
     * waiting), far from the 20 that disable a subscription. */
    assert_true(failures >= 6 && failures < 20);
    assert_true(cf_json_true(row, "enabled"));
    cJSON_Delete(row);
    set_mode("ok");
    wait_all_delivered(10000);
    check_log();
}

static void test_restart_in_the_middle(void **state)
{
    (void)state;
    int repeats_before = check_log();
    cJSON *before = receiver_log();
    int seen = cJSON_GetArraySize(before);
    cJSON_Delete(before);
    set_mode("slow"); /* 200 ms each, one after another: 5 s for these 25 */
    for (int round = 0; round < 5; round++)
        for (int s = 0; s < SUBJECTS; s++)
            change(s);
    for (int i = 0; i < 200; i++) { /* the first of them on its way */
        cJSON *log = receiver_log();
        int now = cJSON_GetArraySize(log);
        cJSON_Delete(log);
        if (now > seen)
            break;
        sleep_ms(10);
    }
    cf_harness_stop_server(&harness);
    long left = pending();
    printf("restart: %ld deliveries pending when carefactd stopped\n", left);
    assert_true(left > 0);
    assert_int_equal(cf_harness_start_server(&harness, serve_args_disable_soon), 0);
    wait_all_delivered(15000);
    set_mode("ok");
    /* Stopped with SIGTERM, the sender finished and recorded its attempt: nothing twice. */
    assert_int_equal(check_log(), repeats_before);
}

/* carefactd killed mid-attempt (no chance to record it): the delivery the receiver got
 * comes again after the lease (timeout + 5 s), with the same id; nothing else twice. */
static void test_killed_mid_attempt(void **state)
{
    (void)state;
    int repeats_before = check_log();
    cJSON *before = receiver_log();
    int seen = cJSON_GetArraySize(before);
    cJSON_Delete(before);
    set_mode("slow");
    for (int s = 0; s < SUBJECTS; s++)
        change(s);
    for (int i = 0; i < 500; i++) { /* the first is at the receiver, not yet answered */
        cJSON *log = receiver_log();
        int now = cJSON_GetArraySize(log);
        cJSON_Delete(log);
        if (now > seen)
            break;
        sleep_ms(5);
    }
    kill(harness.server, SIGKILL);
    waitpid(harness.server, NULL, 0);
    harness.server = 0;
    assert_int_equal(cf_harness_start_server(&harness, serve_args_disable_soon), 0);
    wait_all_delivered(20000);
    set_mode("ok");
    int repeats = check_log();
    printf("killed mid-attempt: %d repeated id(s) after the restart\n", repeats - repeats_before);
    assert_int_equal(repeats, repeats_before + 1);
}

static void test_disabled_after_failures_enabled_by_hand(void **state)
{
    (void)state;
    set_mode("fail");
    change(1);
    cJSON *row = NULL;
    for (int i = 0; i < 200; i++) {
        cJSON_Delete(row);
        row = subscription_row();
        if (!cf_json_true(row, "enabled"))
            break;
        sleep_ms(20);
    }
    assert_false(cf_json_true(row, "enabled")); /* after 3 in a row (--webhook-disable-after) */
    assert_int_equal(cf_json_long(row, "consecutive_failures"), 3);
    assert_true(cf_json_str(row, "disabled_at")[0] != '\0');
    cJSON_Delete(row);
    /* Disabled: the outbox keeps what happens, nothing is sent. */
    long attempts = cf_harness_sql_long(&harness, "SELECT count(*) FROM webhook_attempts");
    change(1);
    change(2);
    sleep_ms(300);
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM webhook_attempts"),
                     attempts);
    assert_int_equal(pending(), 3);
    set_mode("ok");
    /* Only the admin enables, with a reason. */
    char path[160];
    snprintf(path, sizeof path, "/api/v1/webhooks/%s/enable", subscription);
    harness.session = &authority;
    cf_api_expect_problem(cf_api_json(&harness, "POST", path, "{\"reason\":\"x\"}", 403),
                          "forbidden", NULL);
    harness.session = &admin;
    cf_api_expect_problem(cf_api_json(&harness, "POST", path, "{}", 422), "validation", "reason");
    cJSON *on = cf_api_json(&harness, "POST", path, "{\"reason\":\"Приёмник починили\"}", 200);
    assert_true(cf_json_true(on, "was_disabled"));
    cJSON_Delete(on);
    wait_all_delivered(10000);
    row = subscription_row();
    assert_true(cf_json_true(row, "enabled"));
    assert_int_equal(cf_json_long(row, "consecutive_failures"), 0);
    cJSON_Delete(row);
    harness.session = &admin;
    on = cf_api_json(&harness, "POST", path, "{\"reason\":\"ещё раз\"}", 200);
    assert_false(cf_json_true(on, "was_disabled"));
    cJSON_Delete(on);
    assert_int_equal(cf_harness_sql_long(&harness, "SELECT count(*) FROM audit_log WHERE action = "
                                                   "'webhook.enable'"),
                     1);
    check_log();
}

/* ==== The receiver's recipe (api/WEBHOOKS.md) ==== */

/* POST to the receiver's hook as the sender would, signed with key at time ts. */
static long post_hook(const char *id, long long ts, const char *key)
{
    static const char body[] = "{\"delivery_id\":\"recipe\",\"change\":{}}";
    char message[128], sig[80] = "v1=", h_id[96], h_ts[64], h_sig[128], url[96];
    uint8_t mac[32];
    unsigned int mac_len = 0;
    snprintf(message, sizeof message, "%lld.%s", ts, body);
    assert_non_null(HMAC(EVP_sha256(), key, (int)strlen(key), (const uint8_t *)message,
                         strlen(message), mac, &mac_len));
    for (unsigned i = 0; i < mac_len; i++)
        snprintf(sig + 3 + 2 * i, sizeof sig - 3 - 2 * i, "%02x", mac[i]);
    snprintf(h_id, sizeof h_id, "X-Carefact-Delivery: %s", id);
    snprintf(h_ts, sizeof h_ts, "X-Carefact-Timestamp: %lld", ts);
    snprintf(h_sig, sizeof h_sig, "X-Carefact-Signature: %s", sig);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", hook_port);
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    headers = curl_slist_append(headers, h_id);
    headers = curl_slist_append(headers, h_ts);
    headers = curl_slist_append(headers, h_sig);
    CURL *curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
    assert_int_equal(curl_easy_perform(curl), CURLE_OK);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    return status;
}

static void test_recipe_refuses_bad_signature_and_old_timestamp(void **state)
{
    (void)state;
    set_mode("ok");
    long long now = (long long)time(NULL);
    assert_int_equal(post_hook("recipe-good", now, secret), 200);
    assert_int_equal(post_hook("recipe-edge", now - 290, secret), 200);
    assert_int_equal(post_hook("recipe-bad-key", now, "not the secret at all, 32 bytes.."), 401);
    assert_int_equal(post_hook("recipe-old", now - 301, secret), 401);
    assert_int_equal(post_hook("recipe-future", now + 301, secret), 401);
}

/* ==== The routes' refusals ==== */

static void test_refusals(void **state)
{
    (void)state;
    char body[512], path[160];
    harness.session = &admin;
    cf_api_expect_problem(cf_api_json(&harness, "POST", "/api/v1/webhooks",
                                      "{\"region_id\":\"" REGION
                                      "\",\"url\":\"ftp://x\",\"events\":[\"visit.changed\"]}",
                                      422),
                          "validation", "url");
    cf_api_expect_problem(cf_api_json(&harness, "POST", "/api/v1/webhooks",
                                      "{\"region_id\":\"" REGION
                                      "\",\"url\":\"http://x/\",\"events\":[\"visit.gone\"]}",
                                      422),
                          "validation", "events[0]");
    cf_api_expect_problem(cf_api_json(&harness, "POST", "/api/v1/webhooks",
                                      "{\"region_id\":\"" REGION "\",\"url\":\"http://x/\","
                                      "\"events\":[\"visit.changed\",\"visit.changed\"]}",
                                      422),
                          "validation", "events[1]");
    snprintf(body, sizeof body, "%s",
             "{\"region_id\":\"00000000-0000-4000-8000-00000000ffff\",\"url\":\"http://x/\","
             "\"events\":[\"visit.changed\"]}");
    cf_api_expect_problem(cf_api_json(&harness, "POST", "/api/v1/webhooks", body, 422),
                          "validation", "region_id");
    cf_api_expect_problem(
        cf_api_json(&harness, "POST",
                    "/api/v1/webhooks/00000000-0000-4000-8000-00000000ffff/enable",
                    "{\"reason\":\"x\"}", 404),
        "not-found", NULL);
    cf_api_expect_problem(
        cf_api_json(&harness, "GET",
                    "/api/v1/webhooks/00000000-0000-4000-8000-00000000ffff/deliveries", NULL, 404),
        "not-found", NULL);
    snprintf(path, sizeof path, "/api/v1/webhooks/%s/deliveries?limit=0", subscription);
    cf_api_expect_problem(cf_api_json(&harness, "GET", path, NULL, 400), "validation", "limit");
    cf_api_expect_problem(cf_api_json(&harness, "POST", "/api/v1/webhooks", "{\"url\":", 400),
                          "malformed-json", NULL);
    /* Not JSON: 415, unread (backend/README.md, Dispatch). */
    static const char *const plain[] = {"Content-Type: text/plain", NULL};
    struct cf_http_reply reply = {0};
    assert_int_equal(cf_http_with(&harness, "POST", "/api/v1/webhooks", "x", 1, plain, &reply), 0);
    assert_int_equal(reply.status, 415);
    cf_http_reply_cleanup(&reply);
    harness.session = &authority;
    cf_api_expect_problem(cf_api_json(&harness, "POST", "/api/v1/webhooks",
                                      "{\"region_id\":\"" REGION "\",\"url\":\"http://x/\","
                                      "\"events\":[\"visit.changed\"]}",
                                      403),
                          "forbidden", NULL);
    harness.session = &manager;
    cf_api_expect_problem(cf_api_json(&harness, "GET", "/api/v1/webhooks", NULL, 403), "forbidden",
                          NULL);
    harness.session = NULL;
    cf_api_expect_problem(cf_api_json(&harness, "GET", "/api/v1/webhooks", NULL, 401),
                          "unauthenticated", NULL);
}

/* ==== The central system's answer in the reply (sql/0023, be/exchange.h) ==== */

#define BACK_OFFICE "0f000000-0000-4000-8000-0000000000bb"

/* A decided application of REGION, number 2026-90000n, made in SQL (the exchange starts
 * from a decision; the way to one is integration.backend.applications'). */
static void decided_application(int n, const char *state)
{
    char sql[900];
    snprintf(sql, sizeof sql,
             "INSERT INTO applications (number, region_id, office_id, channel, applicant_name, "
             "applicant_birth, applicant_address, category, purpose, consent_at, state, "
             "code_hash, submitted_at, decided_at, reason, created_by) VALUES "
             "('2026-90000%d', '" REGION "', '" BACK_OFFICE "', 'office', 'Заявитель %d', "
             "'1940-01-01', 'д. Луговая, %d', 'elderly', 'home_care', now(), '%s', "
             "sha256('%d'), now(), now() + interval '%d seconds', '%s', 'test')",
             n, n, n, state, n, n, strcmp(state, "refused") == 0 ? "не наш случай" : "");
    assert_int_equal(cf_harness_sql(&harness, sql), 0);
}

static long answered(const char *number, const char *via)
{
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM applications WHERE number = '%s' AND answer_via = '%s'", number,
             via);
    return cf_harness_sql_long(&harness, sql);
}

/* A receiver that answers an export in its reply: the answer is recorded (via webhook,
 * journalled as answer_received by the subscription), and an answer that is not valid is
 * not taken -- the delivery is delivered, the attempt's log says why. */
static void test_answer_in_reply(void **state)
{
    (void)state;
    struct cf_session caseworker;
    assert_int_equal(cf_harness_sql(&harness, "INSERT INTO offices (id, region_id, kind, name) "
                                              "VALUES ('" BACK_OFFICE "', '" REGION "', "
                                              "'back_office', 'Департамент')"),
                     0);
    assert_int_equal(
        cf_harness_staff_account(&harness, "hook-caseworker", "caseworker", BACK_OFFICE, PASSWORD),
        0);
    assert_int_equal(cf_harness_login(&harness, "hook-caseworker", PASSWORD, &caseworker), 0);
    harness.session = &admin;
    char body[512], path[160];
    snprintf(body, sizeof body,
             "{\"region_id\":\"" REGION "\",\"url\":\"http://127.0.0.1:%d/hook\","
             "\"events\":[\"application.changed\"]}",
             hook_port);
    cJSON *made = cf_api_json(&harness, "POST", "/api/v1/webhooks", body, 201);
    snprintf(path, sizeof path, "/mode?set=answer&secret=%s", cf_json_str(made, "secret"));
    free(control(path));
    cJSON_Delete(made);

    decided_application(1, "approved");
    decided_application(2, "refused");
    harness.session = &caseworker;
    cJSON_Delete(cf_api_json(&harness, "POST", "/api/v1/application-exports", "{}", 201));
    for (int waited = 0;
         answered("2026-900001", "webhook") + answered("2026-900002", "webhook") < 2;
         waited += 50) {
        if (waited > 10000)
            fail_msg("the answers in the replies were not recorded in 10 s");
        sleep_ms(50);
    }
    char *id =
        cf_harness_sql_value(&harness, "SELECT id FROM applications WHERE number = '2026-900002'");
    snprintf(path, sizeof path, "/api/v1/applications/%s", id);
    free(id);
    cJSON *got = cf_api_json(&harness, "GET", path, NULL, 200);
    const cJSON *exchange =
        cJSON_GetObjectItem(cJSON_GetObjectItem(got, "application"), "exchange");
    assert_string_equal(cf_json_str(exchange, "state"), "answer_received");
    const cJSON *answer = cJSON_GetObjectItem(exchange, "answer");
    assert_string_equal(cf_json_str(answer, "outcome"), "accepted");
    assert_string_equal(cf_json_str(answer, "reference"), "ЦР-2026-900002");
    assert_string_equal(cf_json_str(answer, "via"), "webhook");
    cJSON_Delete(got);
    assert_int_equal(cf_harness_sql_long(&harness,
                                         "SELECT count(*) FROM application_journal j JOIN "
                                         "webhook_subscriptions s ON j.actor = 'webhook:' || s.id "
                                         "WHERE j.to_state = 'answer_received'"),
                     2);

    /* Not a valid answer: delivered, not taken, the log says why. */
    snprintf(path, sizeof path, "/mode?set=bad-answer");
    free(control(path));
    decided_application(3, "approved");
    cJSON_Delete(cf_api_json(&harness, "POST", "/api/v1/application-exports", "{}", 201));
    harness.session = NULL;
    wait_all_delivered(10000);
    assert_int_equal(answered("2026-900003", "webhook"), 0);
    assert_int_equal(cf_harness_sql_long(&harness,
                                         "SELECT count(*) FROM webhook_attempts a JOIN "
                                         "webhook_deliveries d ON d.id = a.delivery_id "
                                         "WHERE d.status = 'delivered' AND a.error LIKE "
                                         "'%answer.outcome must be accepted or rejected%'"),
                     1);
    free(control("/mode?set=ok"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subscribe),
        cmocka_unit_test(test_delivered_in_order_signed),
        cmocka_unit_test(test_receiver_failing_then_back),
        cmocka_unit_test(test_receiver_timing_out_gives_same_id_twice),
        cmocka_unit_test(test_receiver_slow),
        cmocka_unit_test(test_receiver_down_for_an_hour),
        cmocka_unit_test(test_restart_in_the_middle),
        cmocka_unit_test(test_killed_mid_attempt),
        cmocka_unit_test(test_disabled_after_failures_enabled_by_hand),
        cmocka_unit_test(test_recipe_refuses_bad_signature_and_old_timestamp),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_answer_in_reply),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
