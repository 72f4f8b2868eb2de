/* The router and the failure mapping, without civetweb or a database: path patterns
 * with several named parameters, the segment rules, route lookup (404 / 405) and
 * per-route body caps, the dispatch order (a body over the route's cap is refused
 * before a byte of it is read) through a fake transport, and SQLSTATE -> status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "be/db.h"
#include "be/reply.h"
#include "be/router.h"

/* ==== Matching ==== */

static void test_match_several_params(void **state)
{
    (void)state;
    struct be_path_param p[BE_PATH_PARAMS_MAX];
    int n = be_route_match("/api/v1/applications/{id}/documents/{doc}",
                           "/api/v1/applications/42/documents/passport.pdf", p, 4);
    assert_int_equal(n, 2);
    assert_string_equal(p[0].name, "id");
    assert_string_equal(p[0].value, "42");
    assert_string_equal(p[1].name, "doc");
    assert_string_equal(p[1].value, "passport.pdf");
    struct be_request req = {.params = {p[0], p[1]}, .param_count = 2};
    assert_string_equal(be_param(&req, "doc"), "passport.pdf");
    assert_string_equal(be_param(&req, "id"), "42");
    assert_string_equal(be_param(&req, "other"), "");
    /* no parameters: an exact match only */
    assert_int_equal(be_route_match("/healthz", "/healthz", p, 4), 0);
    assert_int_equal(be_route_match("/healthz", "/healthz/", p, 4), -1);
    assert_int_equal(be_route_match("/healthz", "/health", p, 4), -1);
}

static void test_segment_rules(void **state)
{
    (void)state;
    struct be_path_param p[BE_PATH_PARAMS_MAX];
    const char *pattern = "/a/{id}/b/{doc}";
    /* empty segments, a '/' inside, missing or extra segments */
    assert_int_equal(be_route_match(pattern, "/a//b/x", p, 4), -1);
    assert_int_equal(be_route_match(pattern, "/a/1/b/", p, 4), -1);
    assert_int_equal(be_route_match(pattern, "/a/1/2/b/x", p, 4), -1);
    assert_int_equal(be_route_match(pattern, "/a/1/b/x/y", p, 4), -1);
    assert_int_equal(be_route_match(pattern, "/a/1/b", p, 4), -1);
    /* a value of BE_PATH_PARAM_MAX bytes is taken, one more is not */
    char path[256], value[BE_PATH_PARAM_MAX + 2];
    memset(value, 'v', sizeof value);
    value[BE_PATH_PARAM_MAX] = '\0';
    snprintf(path, sizeof path, "/a/%s/b/x", value);
    assert_int_equal(be_route_match(pattern, path, p, 4), 2);
    assert_int_equal(strlen(p[0].value), BE_PATH_PARAM_MAX);
    value[BE_PATH_PARAM_MAX] = 'v';
    value[BE_PATH_PARAM_MAX + 1] = '\0';
    snprintf(path, sizeof path, "/a/%s/b/x", value);
    assert_int_equal(be_route_match(pattern, path, p, 4), -1);
    /* more parameters than room, a name too long, an unclosed brace */
    assert_int_equal(be_route_match(pattern, "/a/1/b/2", p, 1), -1);
    assert_int_equal(be_route_match("/a/{a_name_longer_than_15}", "/a/1", p, 4), -1);
    assert_int_equal(be_route_match("/a/{id", "/a/1", p, 4), -1);
}

/* ==== Lookup and caps ==== */

static int handled;
static void handle(struct be_request *req)
{
    (void)req;
    handled++;
}

static const struct be_route doc_routes[] = {
    {"GET", "/api/v1/applications/{id}/documents/{doc}", handle, false, BE_PUBLIC, BE_BODY_NONE},
    {"POST", "/api/v1/applications/{id}/documents", handle, false, BE_PUBLIC, BE_BODY_CONFIG},
};
static const struct be_route form_routes[] = {
    {"POST", "/api/v1/session", handle, false, BE_PUBLIC, BE_BODY_SMALL},
    {"GET", "/closed", handle, false, 0, BE_BODY_NONE},
};
static const struct be_module docs = BE_MODULE("docs", doc_routes);
static const struct be_module forms = BE_MODULE("forms", form_routes);
static const struct be_module *const modules[] = {&docs, &forms};
static const struct be_route_table table = {modules, 2};

static void test_find_and_caps(void **state)
{
    (void)state;
    struct be_path_param p[BE_PATH_PARAMS_MAX];
    size_t n = 0, index = 99;
    bool known = false;
    struct be_config config = {.body_max = 8u << 20};
    assert_int_equal(be_route_count(&table), 4);
    assert_ptr_equal(be_route_at(&table, 2), &form_routes[0]);
    assert_null(be_route_at(&table, 4));
    const struct be_route *r =
        be_route_find(&table, "GET", "/api/v1/applications/7/documents/d1", p, &n, &index, &known);
    assert_ptr_equal(r, &doc_routes[0]);
    assert_int_equal(n, 2);
    assert_int_equal(index, 0);
    assert_int_equal(be_route_body_max(r, &config), 0);
    r = be_route_find(&table, "POST", "/api/v1/applications/7/documents", p, &n, &index, &known);
    assert_ptr_equal(r, &doc_routes[1]);
    assert_int_equal(be_route_body_max(r, &config), 8u << 20); /* the server's --body-max */
    r = be_route_find(&table, "POST", "/api/v1/session", p, &n, &index, &known);
    assert_int_equal(index, 2);
    assert_int_equal(be_route_body_max(r, &config), 4096);
    /* 405: the path is served with another method; 404: not at all */
    assert_null(be_route_find(&table, "DELETE", "/api/v1/session", p, &n, &index, &known));
    assert_true(known);
    assert_null(be_route_find(&table, "GET", "/nowhere", p, &n, &index, &known));
    assert_false(known);
}

/* ==== Dispatch through a fake transport ==== */

struct fake_conn {
    long long content_length;
    const char *content_type; /* NULL: application/json */
    const char *body;
    size_t body_pos, bytes_read;
    char written[4096];
    size_t written_len;
};

static const char *fake_header(void *conn, const char *name)
{
    struct fake_conn *c = conn;
    if (strcasecmp(name, "Content-Type") == 0)
        return c->content_type ? c->content_type : "application/json";
    if (strcasecmp(name, "Transfer-Encoding") == 0)
        return c->content_length < 0 ? "chunked" : NULL;
    return NULL;
}
static bool fake_is_tls(void *conn)
{
    (void)conn;
    return false;
}
static int fake_write(void *conn, const void *data, size_t len)
{
    struct fake_conn *c = conn;
    size_t room = sizeof c->written - 1 - c->written_len;
    size_t n = len < room ? len : room;
    memcpy(c->written + c->written_len, data, n);
    c->written_len += n;
    c->written[c->written_len] = '\0';
    return (int)len;
}
static int fake_read(void *conn, void *buf, size_t len)
{
    struct fake_conn *c = conn;
    size_t left = strlen(c->body) - c->body_pos;
    size_t n = len < left ? len : left;
    memcpy(buf, c->body + c->body_pos, n);
    c->body_pos += n;
    c->bytes_read += n;
    return (int)n;
}
static long long fake_content_length(void *conn)
{
    return ((struct fake_conn *)conn)->content_length;
}
static const struct be_transport fake = {fake_header, fake_is_tls,         fake_write,
                                         fake_read,   fake_content_length, NULL};

static int dispatch(const char *method, const char *path, struct fake_conn *c)
{
    static const struct be_config config = {.body_max = 8u << 20};
    struct be_request req = {
        .config = &config, .method = method, .path = path, .io = &fake, .conn = c};
    size_t index;
    be_dispatch(&table, &req, &index);
    return req.status;
}

static void test_dispatch_caps_before_reading(void **state)
{
    (void)state;
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    /* over the cap by Content-Length: 413, nothing read, no handler */
    struct fake_conn c = {.content_length = 4999, .body = big};
    handled = 0;
    assert_int_equal(dispatch("POST", "/api/v1/session", &c), 413);
    assert_int_equal(c.bytes_read, 0);
    assert_int_equal(handled, 0);
    assert_non_null(strstr(c.written, "too-large"));
    /* chunked (no length): refused once cap + 1 bytes have come */
    struct fake_conn chunked = {.content_length = -1, .body = big};
    assert_int_equal(dispatch("POST", "/api/v1/session", &chunked), 413);
    assert_int_equal(chunked.bytes_read, 4097);
    assert_int_equal(handled, 0);
    /* within the cap: read and handled */
    struct fake_conn small = {.content_length = 2, .body = "{}"};
    dispatch("POST", "/api/v1/session", &small);
    assert_int_equal(handled, 1);
    assert_int_equal(small.bytes_read, 2);
    /* a body that is not JSON (a cross-site form could send one): 415, nothing read */
    handled = 0;
    struct fake_conn form = {.content_length = 2, .body = "{}", .content_type = "text/plain"};
    assert_int_equal(dispatch("POST", "/api/v1/session", &form), 415);
    assert_int_equal(form.bytes_read, 0);
    assert_int_equal(handled, 0);
    struct fake_conn json_utf8 = {
        .content_length = 2, .body = "{}", .content_type = "Application/JSON; charset=utf-8"};
    dispatch("POST", "/api/v1/session", &json_utf8);
    assert_int_equal(handled, 1);
    /* a route without roles is refused to everyone, before its body */
    struct fake_conn closed = {.content_length = 3, .body = "abc"};
    assert_int_equal(dispatch("GET", "/closed", &closed), 403);
    assert_int_equal(closed.bytes_read, 0);
    struct fake_conn none = {.content_length = 0, .body = ""};
    assert_int_equal(dispatch("PUT", "/api/v1/session", &none), 405);
    assert_int_equal(dispatch("GET", "/nowhere", &none), 404);
}

/* A file route (BE_BODY_FILE): its own cap, a body declared PDF, JPEG or PNG only (JSON,
 * HTML or a form refused 415 unread); a JSON route takes no file. */
static const struct be_route file_routes[] = {
    {"POST", "/files", handle, false, BE_PUBLIC, BE_BODY_FILE(100)},
};
static const struct be_module files = BE_MODULE("files", file_routes);
static const struct be_module *const file_modules[] = {&files, &forms};
static const struct be_route_table file_table = {file_modules, 2};

static int dispatch_file(const char *method, const char *path, struct fake_conn *c)
{
    static const struct be_config config = {.body_max = 8u << 20};
    struct be_request req = {
        .config = &config, .method = method, .path = path, .io = &fake, .conn = c};
    size_t index;
    be_dispatch(&file_table, &req, &index);
    return req.status;
}

static void test_dispatch_file_route(void **state)
{
    (void)state;
    static const struct be_config config = {.body_max = 8u << 20};
    assert_int_equal(be_route_body_max(&file_routes[0], &config), 100);
    assert_true(be_route_body_file(&file_routes[0]));
    assert_false(be_route_body_file(&doc_routes[1])); /* BE_BODY_CONFIG: an upload of JSON */
    assert_false(be_route_body_file(&form_routes[0]));
    static const char *const taken[] = {"image/png", "image/jpeg", "application/pdf",
                                        "Application/PDF; name=a.pdf"};
    for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++) {
        handled = 0;
        struct fake_conn c = {.content_length = 4, .body = "abcd", .content_type = taken[i]};
        dispatch_file("POST", "/files", &c);
        assert_int_equal(handled, 1);
        assert_int_equal(c.bytes_read, 4);
    }
    /* mutant router.file-any-type */
    static const char *const refused[] = {"application/json",
                                          "text/html",
                                          "image/svg+xml",
                                          "text/plain",
                                          "multipart/form-data; boundary=x",
                                          "image/pngx",
                                          "application/x-www-form-urlencoded"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        handled = 0;
        struct fake_conn c = {.content_length = 4, .body = "abcd", .content_type = refused[i]};
        assert_int_equal(dispatch_file("POST", "/files", &c), 415);
        assert_int_equal(c.bytes_read, 0);
        assert_int_equal(handled, 0);
        assert_non_null(strstr(c.written, "unsupported-media-type"));
    }
    char big[200];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    struct fake_conn over = {.content_length = 101, .body = big, .content_type = "image/png"};
    assert_int_equal(dispatch_file("POST", "/files", &over), 413);
    assert_int_equal(over.bytes_read, 0);
    struct fake_conn chunked = {.content_length = -1, .body = big, .content_type = "image/png"};
    assert_int_equal(dispatch_file("POST", "/files", &chunked), 413);
    /* a JSON route does not take a file */
    handled = 0;
    struct fake_conn png = {.content_length = 4, .body = "abcd", .content_type = "image/png"};
    assert_int_equal(dispatch_file("POST", "/api/v1/session", &png), 415);
    assert_int_equal(handled, 0);
}

/* ==== Failures ==== */

static void test_sqlstate_status(void **state)
{
    (void)state;
    assert_int_equal(be_db_status_of("22P02"), 400); /* invalid text representation */
    assert_int_equal(be_db_status_of("22007"), 400); /* invalid datetime format */
    assert_int_equal(be_db_status_of("22008"), 400); /* datetime field overflow */
    assert_int_equal(be_db_status_of("22003"), 400); /* numeric value out of range */
    assert_int_equal(be_db_status_of("08006"), 503); /* connection failure */
    assert_int_equal(be_db_status_of("40001"), 503); /* serialization failure */
    assert_int_equal(be_db_status_of("23505"), 503); /* unique violation: ours */
    assert_int_equal(be_db_status_of(""), 503);
    assert_int_equal(be_db_status_of(NULL), 503);
    assert_int_equal(be_db_status_of("22"), 503);
    const char *names[4] = {"from", "to", NULL, "cursor"};
    const char *values[4] = {"", "2026-01-01T00:00:00-23:59", "x", "1-2-3"};
    assert_string_equal(
        be_db_field_of("ERROR:  invalid input syntax for type bigint: \"1-2-3\"", names, values, 4),
        "cursor");
    assert_string_equal(be_db_field_of("ERROR:  time zone displacement out of range: "
                                       "\"2026-01-01T00:00:00-23:59\"",
                                       names, values, 4),
                        "to");
    /* a value quoted only in part, an unnamed parameter, no quote at all */
    assert_null(be_db_field_of("ERROR: bad: \"1-2-3x\"", names, values, 4));
    assert_null(be_db_field_of("ERROR: bad: \"x\"", names, values, 4));
    assert_null(be_db_field_of("ERROR: out of range", names, values, 4));
}

static void test_server_fault_is_503_not_db(void **state)
{
    (void)state;
    struct fake_conn c = {.content_length = 0, .body = ""};
    struct be_request req = {.method = "POST", .route = "/x", .io = &fake, .conn = &c};
    be_reply_server_fault(&req, "test: crypto");
    assert_int_equal(req.status, 503);
    assert_non_null(strstr(c.written, "\"unavailable\"") ? c.written
                                                         : strstr(c.written, "unavailable"));
    assert_null(strstr(c.written, "database"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_several_params),
        cmocka_unit_test(test_segment_rules),
        cmocka_unit_test(test_find_and_caps),
        cmocka_unit_test(test_dispatch_caps_before_reading),
        cmocka_unit_test(test_dispatch_file_route),
        cmocka_unit_test(test_sqlstate_status),
        cmocka_unit_test(test_server_fault_is_503_not_db),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
