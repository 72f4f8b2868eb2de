/* carefactd's configuration (be/config.h): the defaults, each setting by the name its
 * flag has (--threads is "threads"), a config file's lines, the CAREFACT_* environment,
 * and every bad value refused with a message that names it (and the line) while the
 * setting keeps its value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "be/config.h"

static struct be_config config;
static char err[512];

static const char *const env_vars[] = {"CAREFACT_DB",
                                       "CAREFACT_LISTEN",
                                       "CAREFACT_SQL_DIR",
                                       "CAREFACT_TLS_CERT",
                                       "CAREFACT_TLS_KEY",
                                       "CAREFACT_THREADS",
                                       "CAREFACT_BODY_MAX",
                                       "CAREFACT_HEADER_TIMEOUT_MS",
                                       "CAREFACT_BODY_TIMEOUT_MS",
                                       "CAREFACT_BODY_MIN_RATE",
                                       "CAREFACT_ADDRESS_CONNECTIONS",
                                       "CAREFACT_ADDRESS_STREAMS",
                                       "CAREFACT_EMV_CA_KEYS",
                                       "CAREFACT_DB_READ"};

/* Defaults, and none of carefactd's variables in the environment. */
static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof env_vars / sizeof env_vars[0]; i++)
        unsetenv(env_vars[i]);
    be_config_defaults(&config);
    memset(err, 0, sizeof err);
    return 0;
}

/* Load text as a config file named "test.conf". */
static int load_text(const char *text, size_t len)
{
    FILE *f = fmemopen((void *)text, len, "r");
    assert_non_null(f);
    int rc = be_config_load_stream(&config, f, "test.conf", err, sizeof err);
    fclose(f);
    return rc;
}

static int load(const char *text)
{
    return load_text(text, strlen(text));
}

/* Every setting of a equals b's. */
static void expect_same(const struct be_config *a, const struct be_config *b)
{
    assert_string_equal(a->db, b->db);
    assert_string_equal(a->db_read, b->db_read);
    assert_string_equal(a->listen, b->listen);
    assert_string_equal(a->sql_dir, b->sql_dir);
    assert_string_equal(a->tls_cert, b->tls_cert);
    assert_string_equal(a->tls_key, b->tls_key);
    assert_int_equal(a->threads, b->threads);
    assert_int_equal(a->body_max, b->body_max);
    assert_int_equal(a->header_timeout_ms, b->header_timeout_ms);
    assert_int_equal(a->body_timeout_ms, b->body_timeout_ms);
    assert_int_equal(a->body_min_rate, b->body_min_rate);
    assert_int_equal(a->address_connections, b->address_connections);
    assert_int_equal(a->address_streams, b->address_streams);
    assert_int_equal(a->migrate, b->migrate);
}

/* key = value must be refused with exactly message, the setting unchanged. */
static void expect_set_refused(const char *key, const char *value, const char *message)
{
    struct be_config before = config;
    assert_int_equal(be_config_set(&config, key, value, err, sizeof err), -1);
    assert_string_equal(err, message);
    expect_same(&config, &before);
}

static void test_defaults(void **state)
{
    (void)state;
    assert_string_equal(config.db, "");
    assert_string_equal(config.listen, "127.0.0.1:8080");
    assert_string_equal(config.tls_cert, "");
    assert_string_equal(config.tls_key, "");
    assert_int_equal(config.threads, 16);
    assert_int_equal(config.body_max, 8u << 20);
    assert_false(config.migrate);
    assert_string_equal(config.sms_url, ""); /* no outbox sender */
    assert_int_equal(config.outbox_interval_ms, 5000);
    assert_int_equal(config.public_holds_per_address, 5);
    assert_int_equal(config.compare_cache_s, 300);
    size_t len = strlen(config.sql_dir);
    assert_true(len > 4);
    assert_string_equal(config.sql_dir + len - 4, "/sql"); /* the source tree's sql/ */
}

static void test_each_setting(void **state)
{
    (void)state;
    static const char *const text[][2] = {
        {"db", "host=/tmp dbname=carefact"},  {"listen", "0.0.0.0:443"},
        {"sql-dir", "/opt/carefact/sql"},     {"tls-cert", "/etc/carefact/cert.pem"},
        {"tls-key", "/etc/carefact/key.pem"},
    };
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
        assert_int_equal(be_config_set(&config, text[i][0], text[i][1], err, sizeof err), 0);
    assert_string_equal(config.db, "host=/tmp dbname=carefact");
    assert_string_equal(config.listen, "0.0.0.0:443");
    assert_string_equal(config.sql_dir, "/opt/carefact/sql");
    assert_string_equal(config.tls_cert, "/etc/carefact/cert.pem");
    assert_string_equal(config.tls_key, "/etc/carefact/key.pem");
    assert_int_equal(be_config_set(&config, "threads", "1", err, sizeof err), 0);
    assert_int_equal(config.threads, 1);
    assert_int_equal(be_config_set(&config, "threads", "512", err, sizeof err), 0);
    assert_int_equal(config.threads, 512);
    assert_int_equal(be_config_set(&config, "body-max", "1024", err, sizeof err), 0);
    assert_int_equal(config.body_max, 1024);
    assert_int_equal(be_config_set(&config, "body-max", "67108864", err, sizeof err), 0);
    assert_int_equal(config.body_max, 64u << 20);
    assert_int_equal(be_config_set(&config, "migrate", "true", err, sizeof err), 0);
    assert_true(config.migrate);
    assert_int_equal(be_config_set(&config, "migrate", "false", err, sizeof err), 0);
    assert_false(config.migrate);
    assert_int_equal(be_config_set(&config, "sms-url", "https://sms.example/send", err, sizeof err),
                     0);
    assert_string_equal(config.sms_url, "https://sms.example/send");
    assert_int_equal(be_config_set(&config, "outbox-interval-ms", "50", err, sizeof err), 0);
    assert_int_equal(config.outbox_interval_ms, 50);
    assert_int_equal(be_config_set(&config, "public-holds-per-address", "1", err, sizeof err), 0);
    assert_int_equal(config.public_holds_per_address, 1);
    assert_int_equal(be_config_set(&config, "compare-cache-s", "0", err, sizeof err), 0);
    assert_int_equal(config.compare_cache_s, 0); /* off: every request asks the database */
}

static void test_bad_values(void **state)
{
    (void)state;
    expect_set_refused("threads", "0", "threads must be a whole number from 1 to 512, not '0'");
    expect_set_refused("threads", "513", "threads must be a whole number from 1 to 512, not '513'");
    expect_set_refused("threads", "-4", "threads must be a whole number from 1 to 512, not '-4'");
    expect_set_refused("threads", "8x", "threads must be a whole number from 1 to 512, not '8x'");
    expect_set_refused("threads", "", "threads must be a whole number from 1 to 512, not ''");
    expect_set_refused("threads", "99999999999999999999999",
                       "threads must be a whole number from 1 to 512, not "
                       "'99999999999999999999999'");
    expect_set_refused("body-max", "1023",
                       "body-max must be a whole number from 1024 to 67108864, not '1023'");
    expect_set_refused("body-max", "67108865",
                       "body-max must be a whole number from 1024 to 67108864, not '67108865'");
    expect_set_refused("body-max", "1e6",
                       "body-max must be a whole number from 1024 to 67108864, not '1e6'");
    expect_set_refused("migrate", "yes", "migrate must be true or false");
    expect_set_refused("migrate", "TRUE", "migrate must be true or false");
    expect_set_refused("sms-url", "ftp://sms.example",
                       "sms-url must be an http:// or https:// address");
    expect_set_refused("outbox-interval-ms", "10",
                       "outbox-interval-ms must be a whole number from 50 to 3600000, not '10'");
    expect_set_refused("compare-cache-s", "3601",
                       "compare-cache-s must be a whole number from 0 to 3600, not '3601'");
    expect_set_refused("public-holds-per-address", "0",
                       "public-holds-per-address must be a whole number from 1 to 1000, not '0'");
    expect_set_refused("colour", "blue", "unknown setting 'colour'");
    expect_set_refused("--threads", "4", "unknown setting '--threads'");
    /* A long value is quoted only in part. */
    char long_value[100];
    memset(long_value, '7', sizeof long_value - 1);
    long_value[sizeof long_value - 1] = '\0';
    expect_set_refused("threads", long_value,
                       "threads must be a whole number from 1 to 512, not "
                       "'7777777777777777777777777777777777777777'");
}

/* The slow-client limits (issue 18): defaults, ranges, the environment, and the
 * per-address cap that follows the thread count unless set. */
static void test_client_limits(void **state)
{
    (void)state;
    assert_int_equal(config.header_timeout_ms, 5000);
    assert_int_equal(config.body_timeout_ms, 10000);
    assert_int_equal(config.body_min_rate, 1024);
    assert_int_equal(be_config_address_connections(&config), 8); /* 16 threads / 2 */
    assert_int_equal(be_config_address_streams(&config), 6); /* two left for requests */
    assert_int_equal(be_config_set(&config, "threads", "40", err, sizeof err), 0);
    assert_int_equal(be_config_address_connections(&config), 20);
    assert_int_equal(be_config_set(&config, "threads", "4", err, sizeof err), 0);
    assert_int_equal(be_config_address_connections(&config), 6); /* a browser's worth */
    assert_int_equal(be_config_address_streams(&config), 4);
    assert_int_equal(be_config_set(&config, "address-connections", "0", err, sizeof err), 0);
    assert_int_equal(be_config_address_connections(&config), 0); /* no cap */
    assert_int_equal(be_config_address_streams(&config), 2); /* the server's: 4 threads / 2 */
    assert_int_equal(be_config_set(&config, "address-connections", "3", err, sizeof err), 0);
    assert_int_equal(be_config_address_connections(&config), 3);
    assert_int_equal(be_config_set(&config, "header-timeout-ms", "100", err, sizeof err), 0);
    assert_int_equal(config.header_timeout_ms, 100);
    assert_int_equal(be_config_set(&config, "body-min-rate", "0", err, sizeof err), 0);
    assert_int_equal(config.body_min_rate, 0);
    expect_set_refused("header-timeout-ms", "99",
                       "header-timeout-ms must be a whole number from 100 to 600000, not '99'");
    expect_set_refused("body-timeout-ms", "3600001",
                       "body-timeout-ms must be a whole number from 100 to 3600000, not "
                       "'3600001'");
    expect_set_refused("address-connections", "-1",
                       "address-connections must be a whole number from 0 to 512, not '-1'");
    expect_set_refused("address-streams", "0",
                       "address-streams must be a whole number from 1 to 512, not '0'");
    setenv("CAREFACT_BODY_TIMEOUT_MS", "2500", 1);
    setenv("CAREFACT_ADDRESS_STREAMS", "9", 1);
    assert_int_equal(be_config_load_env(&config, err, sizeof err), 0);
    assert_int_equal(config.body_timeout_ms, 2500);
    assert_int_equal(be_config_address_streams(&config), 9);
}

static void test_text_lengths(void **state)
{
    (void)state;
    char value[sizeof config.db + 1];
    memset(value, 'a', sizeof value);
    value[sizeof config.db - 1] = '\0'; /* 1023 bytes: fits */
    assert_int_equal(be_config_set(&config, "db", value, err, sizeof err), 0);
    assert_int_equal(strlen(config.db), sizeof config.db - 1);
    value[sizeof config.db - 1] = 'a'; /* 1024: never cut short, refused */
    value[sizeof config.db] = '\0';
    expect_set_refused("db", value, "db is too long (at most 1023 characters)");
    char listen[sizeof config.listen + 1];
    memset(listen, '1', sizeof listen - 1);
    listen[sizeof listen - 1] = '\0';
    expect_set_refused("listen", listen, "listen is too long (at most 127 characters)");
}

static void test_file_lines(void **state)
{
    (void)state;
    assert_int_equal(load("# carefactd settings\n"
                          "\n"
                          "db = host=/run/postgresql dbname=carefact\n"
                          "   listen\t=\t127.0.0.1:9090   \n"
                          "threads=8\r\n"
                          "  # an indented comment = not a setting\n"
                          "\t\n"
                          "migrate = true\n"
                          "body-max = 65536"), /* no newline at the end */
                     0);
    assert_string_equal(config.db, "host=/run/postgresql dbname=carefact");
    assert_string_equal(config.listen, "127.0.0.1:9090");
    assert_int_equal(config.threads, 8);
    assert_true(config.migrate);
    assert_int_equal(config.body_max, 65536);
    /* An empty file changes nothing. */
    struct be_config before = config;
    assert_int_equal(load(""), 0);
    expect_same(&config, &before);
}

static void test_file_errors(void **state)
{
    (void)state;
    /* The first bad line stops the load; the message names the file and the line. */
    assert_int_equal(load("threads = 4\n# fine\nthreads = 0\nlisten = 1.2.3.4:5\n"), -1);
    assert_string_equal(err,
                        "test.conf line 3: threads must be a whole number from 1 to 512, not '0'");
    assert_int_equal(config.threads, 4);
    assert_string_equal(config.listen, "127.0.0.1:8080");
    assert_int_equal(load("db = x\nlisten 127.0.0.1:80\n"), -1);
    assert_string_equal(err, "test.conf line 2: expected 'key = value'");
    assert_int_equal(load("\n\n\ncolor = red\n"), -1);
    assert_string_equal(err, "test.conf line 4: unknown setting 'color'");
    assert_int_equal(load(" = 5\n"), -1);
    assert_string_equal(err, "test.conf line 1: unknown setting ''");
    assert_int_equal(load("migrate = maybe\n"), -1);
    assert_string_equal(err, "test.conf line 1: migrate must be true or false");

    /* A NUL byte inside a line. */
    static const char nul[] = "threads = 4\ndb = a\0b\n";
    assert_int_equal(load_text(nul, sizeof nul - 1), -1);
    assert_string_equal(err, "test.conf line 2: holds a NUL byte");

    /* 2048 bytes with the newline are a line; 2049 are not. */
    char text[2100];
    int n = snprintf(text, sizeof text, "# ");
    memset(text + n, 'c', 2045 - (size_t)n);
    memcpy(text + 2045, "\n", 2);
    assert_int_equal(strlen(text), 2046);
    assert_int_equal(load(text), 0);
    memcpy(text + 2045, "cc\n", 4); /* 2048 bytes */
    assert_int_equal(load(text), 0);
    memcpy(text + 2047, "c\n", 3); /* 2049 bytes */
    assert_int_equal(load(text), -1);
    assert_string_equal(err, "test.conf line 1: longer than 2048 bytes");
}

static void test_file_on_disk(void **state)
{
    (void)state;
    char path[] = "/tmp/cf-config-test.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char text[] = "listen = [::1]:8443\nthreads = 2\n";
    ssize_t written = write(fd, text, sizeof text - 1);
    close(fd);
    assert_int_equal(written, (ssize_t)(sizeof text - 1));
    int rc = be_config_load_file(&config, path, err, sizeof err);
    unlink(path); /* gone before any check can fail */
    assert_int_equal(rc, 0);
    assert_string_equal(config.listen, "[::1]:8443");
    assert_int_equal(config.threads, 2);
    assert_int_equal(be_config_load_file(&config, path, err, sizeof err), -1);
    char want[128];
    snprintf(want, sizeof want, "cannot open config file %s: No such file or directory", path);
    assert_string_equal(err, want);
}

static void test_environment(void **state)
{
    (void)state;
    struct be_config before = config;
    assert_int_equal(be_config_load_env(&config, err, sizeof err), 0);
    expect_same(&config, &before); /* nothing set: nothing changes */

    setenv("CAREFACT_DB", "dbname=from_env", 1);
    setenv("CAREFACT_LISTEN", "127.0.0.1:7000", 1);
    setenv("CAREFACT_SQL_DIR", "/srv/sql", 1);
    setenv("CAREFACT_TLS_CERT", "/srv/cert.pem", 1);
    setenv("CAREFACT_TLS_KEY", "/srv/key.pem", 1);
    setenv("CAREFACT_THREADS", "3", 1);
    setenv("CAREFACT_BODY_MAX", "2048", 1);
    assert_int_equal(be_config_load_env(&config, err, sizeof err), 0);
    assert_string_equal(config.db, "dbname=from_env");
    assert_string_equal(config.listen, "127.0.0.1:7000");
    assert_string_equal(config.sql_dir, "/srv/sql");
    assert_string_equal(config.tls_cert, "/srv/cert.pem");
    assert_string_equal(config.tls_key, "/srv/key.pem");
    assert_int_equal(config.threads, 3);
    assert_int_equal(config.body_max, 2048);

    /* A bad value is refused by the setting's name. */
    setenv("CAREFACT_BODY_MAX", "12", 1);
    assert_int_equal(be_config_load_env(&config, err, sizeof err), -1);
    assert_string_equal(err, "body-max must be a whole number from 1024 to 67108864, not '12'");
    assert_int_equal(config.body_max, 2048);
    /* Set but empty is a value too, and refused like any other. */
    setenv("CAREFACT_BODY_MAX", "", 1);
    assert_int_equal(be_config_load_env(&config, err, sizeof err), -1);
    assert_string_equal(err, "body-max must be a whole number from 1024 to 67108864, not ''");
}

/* main.c's order: defaults, then the file, then the environment, then flags; each
 * later source overrides only what it sets. */
/* The EMV CA key file (--emv-ca-keys, issue 14): keys and comments read; a bad line,
 * a key twice or an unreadable file stops start-up with a message naming it. */
static int load_keys(const char *text)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(f);
    int rc = be_config_load_ca_keys_stream(&config, f, "ca.keys", err, sizeof err);
    fclose(f);
    return rc;
}

static void test_ca_keys(void **state)
{
    (void)state;
    char mod[257], text[1400];
    memset(mod, 'C', 256);
    mod[256] = '\0';
    assert_int_equal(
        be_config_set(&config, "emv-ca-keys", "/etc/carefact/ca.keys", err, sizeof err), 0);
    assert_string_equal(config.emv_ca_keys, "/etc/carefact/ca.keys");
    snprintf(text, sizeof text,
             "# Mir test keys\n\nA000000658 92 %s 03\n  a000000003 92 %s 010001\n", mod, mod);
    assert_int_equal(load_keys(text), 0);
    assert_int_equal(config.ca_key_count, 2);
    assert_int_equal(config.ca_keys[1].index, 0x92);
    assert_int_equal(config.ca_keys[1].exponent_len, 3);

    snprintf(text, sizeof text, "# ok\nA000000658 92 %s 03\nA000000658 93 %s 07\n", mod, mod);
    assert_int_equal(load_keys(text), -1);
    assert_string_equal(err, "ca.keys line 3: exponent must be 03 or 010001 (expected RID INDEX "
                             "MODULUS_HEX EXPONENT_HEX)");
    snprintf(text, sizeof text, "A000000658 92 %s 03\nA000000658 92 %s 03\n", mod, mod);
    assert_int_equal(load_keys(text), -1);
    assert_string_equal(err, "ca.keys line 2: this RID and index are listed twice");
    assert_int_equal(load_keys("A0000006 92 CC 03\n"), -1);
    assert_string_equal(err, "ca.keys line 1: RID must be 5 bytes in hex (expected RID INDEX "
                             "MODULUS_HEX EXPONENT_HEX)");

    assert_int_equal(be_config_set(&config, "emv-ca-keys", "/nonexistent/ca.keys", err, sizeof err),
                     0);
    assert_int_equal(be_config_load_ca_keys(&config, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot open the EMV CA key file /nonexistent/ca.keys"));
    config.emv_ca_keys[0] = '\0'; /* no file: no keys, no error */
    assert_int_equal(be_config_load_ca_keys(&config, err, sizeof err), 0);
    assert_int_equal(config.ca_key_count, 0);
    setenv("CAREFACT_EMV_CA_KEYS", "/srv/ca.keys", 1);
    assert_int_equal(be_config_load_env(&config, err, sizeof err), 0);
    assert_string_equal(config.emv_ca_keys, "/srv/ca.keys");
}

/* db-read: "" by default (the heavy reads use db), set from a file line or
 * CAREFACT_DB_READ, refused when too long. */
static void test_db_read(void **state)
{
    (void)state;
    assert_string_equal(config.db_read, "");
    assert_int_equal(load("db = host=a\ndb-read = host=a,b target_session_attrs=prefer-standby\n"),
                     0);
    assert_string_equal(config.db, "host=a");
    assert_string_equal(config.db_read, "host=a,b target_session_attrs=prefer-standby");
    setenv("CAREFACT_DB_READ", "host=c", 1);
    assert_int_equal(be_config_load_env(&config, err, sizeof err), 0);
    unsetenv("CAREFACT_DB_READ");
    assert_string_equal(config.db_read, "host=c");
    char long_value[1100];
    memset(long_value, 'x', sizeof long_value - 1);
    long_value[sizeof long_value - 1] = '\0';
    assert_int_equal(be_config_set(&config, "db-read", long_value, err, sizeof err), -1);
    assert_non_null(strstr(err, "db-read is too long"));
}

/* trusted-proxies: addresses only, at most 8; an address is trusted whatever its
 * spelling (mutant config.proxy-any-address). */
static void test_trusted_proxies(void **state)
{
    (void)state;
    assert_false(be_config_proxy_trusted(&config, "127.0.0.1")); /* none by default */
    assert_int_equal(be_config_set(&config, "trusted-proxies", "127.0.0.1, ::1", err, sizeof err),
                     0);
    assert_true(be_config_proxy_trusted(&config, "127.0.0.1"));
    assert_true(be_config_proxy_trusted(&config, "0:0:0:0:0:0:0:1"));
    assert_false(be_config_proxy_trusted(&config, "127.0.0.2"));
    assert_false(be_config_proxy_trusted(&config, "203.0.113.5"));
    assert_false(be_config_proxy_trusted(&config, "not an address"));
    assert_false(be_config_proxy_trusted(&config, ""));
    expect_set_refused("trusted-proxies", "127.0.0.1, proxy.local",
                       "trusted-proxies must be IP addresses separated by commas; 'proxy.local' "
                       "is not one");
    expect_set_refused("trusted-proxies", "10.0.0.1,,10.0.0.2",
                       "trusted-proxies must be IP addresses separated by commas; '' is not one");
    expect_set_refused("trusted-proxies",
                       "1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,"
                       "1.1.1.7,1.1.1.8,1.1.1.9",
                       "trusted-proxies holds at most 8 addresses");
    assert_true(be_config_proxy_trusted(&config, "127.0.0.1")); /* a refusal keeps the last */
    assert_int_equal(be_config_set(&config, "trusted-proxies", "", err, sizeof err), 0);
    assert_false(be_config_proxy_trusted(&config, "127.0.0.1"));
    setenv("CAREFACT_TRUSTED_PROXIES", "10.1.2.3", 1);
    assert_int_equal(be_config_load_env(&config, err, sizeof err), 0);
    unsetenv("CAREFACT_TRUSTED_PROXIES");
    assert_true(be_config_proxy_trusted(&config, "10.1.2.3"));
}

static void test_later_source_wins(void **state)
{
    (void)state;
    assert_int_equal(load("threads = 4\nlisten = 127.0.0.1:1\ndb = dbname=file\n"), 0);
    setenv("CAREFACT_THREADS", "5", 1);
    setenv("CAREFACT_LISTEN", "127.0.0.1:2", 1);
    assert_int_equal(be_config_load_env(&config, err, sizeof err), 0);
    assert_int_equal(be_config_set(&config, "threads", "6", err, sizeof err), 0);
    assert_int_equal(config.threads, 6);
    assert_string_equal(config.listen, "127.0.0.1:2");
    assert_string_equal(config.db, "dbname=file");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, setup),
        cmocka_unit_test_setup(test_each_setting, setup),
        cmocka_unit_test_setup(test_bad_values, setup),
        cmocka_unit_test_setup(test_client_limits, setup),
        cmocka_unit_test_setup(test_text_lengths, setup),
        cmocka_unit_test_setup(test_file_lines, setup),
        cmocka_unit_test_setup(test_file_errors, setup),
        cmocka_unit_test_setup(test_file_on_disk, setup),
        cmocka_unit_test_setup(test_environment, setup),
        cmocka_unit_test_setup(test_later_source_wins, setup),
        cmocka_unit_test_setup(test_ca_keys, setup),
        cmocka_unit_test_setup(test_db_read, setup),
        cmocka_unit_test_setup(test_trusted_proxies, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
