/* Integration test of an application's documents and its printable form (issue 15)
 * against a real carefactd and a private PostgreSQL: uploads sniffed from their bytes
 * (PDF, JPEG, PNG; HTML, SVG, a PNG with a page appended, a declared type that lies,
 * all refused), the size and count caps, a duplicate answered by the document already
 * there, the download's headers (attachment with an RFC 5987 name, nosniff, sandbox),
 * removal only while draft or returned, another office's documents not there, and the
 * form with every value escaped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <openssl/sha.h>

#include "api_check.h"
#include "harness.h"

#define REGION "00000000-0000-4000-8000-000000000001"
#define PROVIDER "00000000-0000-4000-8000-000000000002"
#define OFFICE_A "0f000000-0000-4000-8000-00000000000a"
#define OFFICE_B "0f000000-0000-4000-8000-00000000000b"
#define BACK "0f000000-0000-4000-8000-0000000000bb"
#define PASSWORD "correct horse battery"

static struct cf_harness harness;
static struct cf_session intake_a, lead_a, intake_b, caseworker, manager;

static const char seed_sql[] =
    "INSERT INTO regions VALUES ('" REGION "', 'Тестовая область', decode(repeat('ab', 32), "
    "  'hex'));"
    "INSERT INTO providers VALUES ('" PROVIDER "', '" REGION "', 'КЦСОН Тестовый');"
    "INSERT INTO offices (id, region_id, kind, name, address) VALUES "
    "  ('" OFFICE_A "', '" REGION "', 'mfc', 'МФЦ <Центральный>', 'ул. Ленина, 1'),"
    "  ('" OFFICE_B "', '" REGION "', 'authorised', 'Уполномоченный, д. Луговая', ''),"
    "  ('" BACK "', '" REGION "', 'back_office', 'Департамент соцзащиты', '');";

/* A 1x1 PNG (made with zlib: signature, IHDR, IDAT, IEND). */
static const unsigned char png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
    0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00,
    0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0b, 0x49, 0x44, 0x41, 0x54, 0x78,
    0x9c, 0x63, 0x60, 0x00, 0x02, 0x00, 0x00, 0x05, 0x00, 0x01, 0x7a, 0x5e, 0xab, 0x3f,
    0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
static const unsigned char jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J',  'F',  'I',
                                     'F',  0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01,
                                     0x00, 0x00, 0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9};
static const char pdf[] = "%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF\n";

static void sign_in(const char *login, const char *role, const char *office, struct cf_session *out)
{
    if (office)
        assert_int_equal(cf_harness_staff_account(&harness, login, role, office, PASSWORD), 0);
    else
        assert_int_equal(cf_harness_account(&harness, login, role, PROVIDER, NULL, PASSWORD), 0);
    assert_int_equal(cf_harness_login(&harness, login, PASSWORD, out), 0);
}

static int group_setup(void **state)
{
    (void)state;
    if (cf_harness_start(&harness, NULL) || cf_harness_sql(&harness, seed_sql))
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    cf_harness_stop(&harness);
    return 0;
}

static cJSON *as(struct cf_session *who, const char *method, const char *path, const char *body,
                 long want)
{
    harness.session = who;
    cJSON *out = cf_api_json(&harness, method, path, body, want);
    harness.session = NULL;
    return out;
}

/* An upload of len bytes declared as type (NULL: no Content-Type header at all is not
 * possible with curl, so "" sends an empty one) with the query; the reply in *reply. */
static void upload_raw(struct cf_session *who, const char *app, const char *query, const char *type,
                       const void *data, size_t len, struct cf_http_reply *reply)
{
    char path[300], header[120];
    snprintf(path, sizeof path, "/api/v1/applications/%s/documents?%s", app, query);
    snprintf(header, sizeof header, "Content-Type: %s", type);
    const char *headers[] = {header, NULL};
    harness.session = who;
    assert_int_equal(cf_http_with(&harness, "POST", path, data, len, headers, reply), 0);
    harness.session = NULL;
}

/* An upload that must answer want; the body parsed (a problem is checked for its type). */
static cJSON *upload(struct cf_session *who, const char *app, const char *query, const char *type,
                     const void *data, size_t len, long want)
{
    struct cf_http_reply reply;
    upload_raw(who, app, query, type, data, len, &reply);
    if (reply.status != want)
        fail_msg("upload %s: want %ld, got %ld: %s", query, want, reply.status, reply.body);
    cJSON *body = cJSON_Parse(reply.body);
    assert_non_null(body);
    if (want >= 400)
        assert_string_equal(reply.content_type, "application/problem+json");
    cf_http_reply_cleanup(&reply);
    return body;
}

static void refused(struct cf_session *who, const char *app, const char *query, const char *type,
                    const void *data, size_t len, long want, const char *problem, const char *field)
{
    cf_api_expect_problem(upload(who, app, query, type, data, len, want), problem, field);
}

static void file_application(const char *body, char id[40])
{
    cJSON *filed = as(&intake_a, "POST", "/api/v1/applications", body, 201);
    snprintf(id, 40, "%s", cf_json_str(cJSON_GetObjectItem(filed, "application"), "id"));
    cJSON_Delete(filed);
}

static void move(struct cf_session *who, const char *id, const char *to, const char *reason)
{
    char path[120], body[200];
    snprintf(path, sizeof path, "/api/v1/applications/%s/transitions", id);
    if (reason[0])
        snprintf(body, sizeof body, "{\"to\":\"%s\",\"reason\":\"%s\"}", to, reason);
    else
        snprintf(body, sizeof body, "{\"to\":\"%s\"}", to);
    cJSON_Delete(as(who, "POST", path, body, 200));
}

static const char office_form[] =
    "{\"channel\":\"office\",\"applicant_name\":\"Кузнецов Пётр Семёнович\","
    "\"applicant_birth_date\":\"1950-02-28\",\"applicant_address\":\"д. Луговая, д. 1\","
    "\"category\":\"disabled\",\"purpose\":\"rehab_aid\",\"details\":\"Кресло-коляска\","
    "\"complete\":true,\"consent\":true}";

static void sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(data, len, digest);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

/* Upload, sniffing, refusals, duplicates, the list, the download's headers. */
static void test_upload_and_download(void **state)
{
    (void)state;
    sign_in("intake-a", "intake", OFFICE_A, &intake_a);
    sign_in("lead-a", "intake_lead", OFFICE_A, &lead_a);
    sign_in("intake-b", "intake", OFFICE_B, &intake_b);
    sign_in("caseworker", "caseworker", BACK, &caseworker);
    sign_in("manager", "manager", NULL, &manager);
    char id[40];
    file_application(office_form, id);

    /* a PNG named in Cyrillic (%-encoded in the query) */
    const char *name_q = "kind=passport&name=%D0%9F%D0%B0%D1%81%D0%BF%D0%BE%D1%80%D1%82%20"
                         "%D0%98%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2%D0%B0.png";
    cJSON *doc = upload(&intake_a, id, name_q, "image/png", png, sizeof png, 201);
    char doc_id[40], hex[65];
    snprintf(doc_id, sizeof doc_id, "%s", cf_json_str(doc, "id"));
    sha256_hex(png, sizeof png, hex);
    assert_string_equal(cf_json_str(doc, "media_type"), "image/png");
    assert_string_equal(cf_json_str(doc, "kind"), "passport");
    assert_string_equal(cf_json_str(doc, "file_name"), "Паспорт Иванова.png");
    assert_string_equal(cf_json_str(doc, "sha256"), hex);
    assert_string_equal(cf_json_str(doc, "uploaded_by"), "intake-a");
    assert_int_equal(cf_json_long(doc, "size"), (long)sizeof png);
    cJSON_Delete(doc);
    /* the same bytes again (another name, another kind): the document already there */
    doc = upload(&lead_a, id, "kind=other&name=copy.png", "image/png", png, sizeof png, 200);
    assert_string_equal(cf_json_str(doc, "id"), doc_id);
    assert_string_equal(cf_json_str(doc, "kind"), "passport");
    cJSON_Delete(doc);
    /* a JPEG and a PDF; the declared type may carry parameters */
    cJSON_Delete(
        upload(&lead_a, id, "kind=medical&name=scan.jpg", "image/jpeg", jpeg, sizeof jpeg, 201));
    cJSON_Delete(upload(&caseworker, id, "kind=statement&name=statement.pdf",
                        "application/pdf; name=x", pdf, strlen(pdf), 201));

    /* the declared type must be the bytes' (mutant documents.declared-type-ignored) */
    refused(&intake_a, id, "kind=passport&name=a.jpg", "image/jpeg", png, sizeof png, 422,
            "media-type-mismatch", NULL);
    refused(&intake_a, id, "kind=passport&name=a.pdf", "application/pdf", jpeg, sizeof jpeg, 422,
            "media-type-mismatch", NULL);
    /* only the three types are taken, unread */
    refused(&intake_a, id, "kind=passport&name=a.html", "text/html", "<html></html>", 13, 415,
            "unsupported-media-type", NULL);
    refused(&intake_a, id, "kind=passport&name=a.svg", "image/svg+xml", "<svg/>", 6, 415,
            "unsupported-media-type", NULL);
    refused(&intake_a, id, "kind=passport&name=a.json", "application/json", "{}", 2, 415,
            "unsupported-media-type", NULL);
    /* a page declared as a PNG, an SVG declared as a PDF */
    const char page[] = "<!DOCTYPE html><html><script>alert(1)</script></html>";
    refused(&intake_a, id, "kind=passport&name=a.png", "image/png", page, strlen(page), 415,
            "unsupported-media-type", NULL);
    const char svg[] = "%PDF-1.4\n<svg onload=alert(1)/>\n%%EOF";
    refused(&intake_a, id, "kind=passport&name=a.pdf", "application/pdf", svg, strlen(svg), 415,
            "unsupported-media-type", NULL);
    /* a polyglot: a whole PNG with a page after its end */
    unsigned char poly[sizeof png + 40];
    memcpy(poly, png, sizeof png);
    memcpy(poly + sizeof png, "<html><script>alert(1)</script></html>\n", 40);
    refused(&intake_a, id, "kind=passport&name=p.png", "image/png", poly, sizeof poly, 415,
            "unsupported-media-type", NULL);
    /* a PNG whose text chunk holds a script where a browser's sniffer looks */
    unsigned char scripted[sizeof png + 30];
    memcpy(scripted, png, 33);
    memcpy(scripted + 33, "\0\0\0\x12tEXtc\0<script>x</scr>\0\0\0\0", 30);
    memcpy(scripted + 63, png + 33, sizeof png - 33);
    refused(&intake_a, id, "kind=passport&name=s.png", "image/png", scripted, sizeof scripted, 415,
            "unsupported-media-type", NULL);
    /* an empty file is none */
    refused(&intake_a, id, "kind=passport&name=empty.pdf", "application/pdf", "", 0, 422,
            "validation", NULL);
    /* the query: kind and name required and checked */
    refused(&intake_a, id, "kind=diploma&name=a.png", "image/png", png, sizeof png, 400,
            "validation", "kind");
    refused(&intake_a, id, "name=a.png", "image/png", png, sizeof png, 400, "validation", "kind");
    refused(&intake_a, id, "kind=other", "image/png", png, sizeof png, 400, "validation", "name");
    refused(&intake_a, id, "kind=other&name=..%2Fetc%2Fpasswd", "image/png", png, sizeof png, 400,
            "validation", "name");
    refused(&intake_a, id, "kind=other&name=a.png&extra=1", "image/png", png, sizeof png, 400,
            "validation", NULL);

    /* the list: three documents, oldest first */
    char path[200];
    snprintf(path, sizeof path, "/api/v1/applications/%s/documents", id);
    cJSON *list = as(&caseworker, "GET", path, NULL, 200);
    const cJSON *items = cJSON_GetObjectItem(list, "items");
    assert_int_equal(cJSON_GetArraySize(items), 3);
    assert_string_equal(cf_json_str(cJSON_GetArrayItem(items, 0), "id"), doc_id);
    assert_string_equal(cf_json_str(cJSON_GetArrayItem(items, 2), "media_type"), "application/pdf");
    assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(items, 0), "content"));
    cJSON_Delete(list);

    /* the download: the bytes, the sniffed type, never inline */
    snprintf(path, sizeof path, "/api/v1/applications/%s/documents/%s", id, doc_id);
    struct cf_http_reply reply;
    harness.session = &intake_a;
    assert_int_equal(cf_http(&harness, "GET", path, NULL, 0, &reply), 0);
    harness.session = NULL;
    assert_int_equal(reply.status, 200);
    assert_string_equal(reply.content_type, "image/png");
    assert_int_equal(reply.body_len, sizeof png);
    assert_memory_equal(reply.body, png, sizeof png);
    assert_string_equal(reply.content_disposition,
                        "attachment; filename=\"_______________.png\"; "
                        "filename*=UTF-8''%D0%9F%D0%B0%D1%81%D0%BF%D0%BE%D1%80%D1%82%20"
                        "%D0%98%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2%D0%B0.png");
    assert_non_null(strstr(reply.headers, "X-Content-Type-Options: nosniff\r\n"));
    assert_non_null(strstr(reply.headers, "Content-Security-Policy: sandbox"));
    cf_http_reply_cleanup(&reply);
    /* a document of another application, an unknown one, a bad id */
    char other[40];
    file_application(office_form, other);
    snprintf(path, sizeof path, "/api/v1/applications/%s/documents/%s", other, doc_id);
    cf_api_expect_problem(as(&intake_a, "GET", path, NULL, 404), "not-found", NULL);
    snprintf(path, sizeof path, "/api/v1/applications/%s/documents/not-a-uuid", id);
    cf_api_expect_problem(as(&intake_a, "GET", path, NULL, 404), "not-found", NULL);
    snprintf(path, sizeof path, "/api/v1/applications/not-a-uuid/documents");
    cf_api_expect_problem(as(&intake_a, "GET", path, NULL, 404), "not-found", NULL);

    /* each upload recorded in the audit log, the duplicate not */
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM audit_log WHERE action = 'application.document.add' AND "
             "details->>'application_id' = '%s'",
             id);
    assert_int_equal(cf_harness_sql_long(&harness, sql), 3);
}

/* Another office's application and its documents are not there; people of a provider
 * may not call the routes at all. */
static void test_offices_see_their_own(void **state)
{
    (void)state;
    char id[40], path[200];
    file_application(office_form, id);
    cJSON *doc =
        upload(&intake_a, id, "kind=passport&name=p.png", "image/png", png, sizeof png, 201);
    char doc_id[40];
    snprintf(doc_id, sizeof doc_id, "%s", cf_json_str(doc, "id"));
    cJSON_Delete(doc);
    refused(&intake_b, id, "kind=passport&name=p.pdf", "application/pdf", pdf, strlen(pdf), 404,
            "not-found", NULL);
    snprintf(path, sizeof path, "/api/v1/applications/%s/documents", id);
    cf_api_expect_problem(as(&intake_b, "GET", path, NULL, 404), "not-found", NULL);
    cf_api_expect_problem(as(&manager, "GET", path, NULL, 403), "forbidden", NULL);
    snprintf(path, sizeof path, "/api/v1/applications/%s/documents/%s", id, doc_id);
    /* mutant rls.documents-open */
    cf_api_expect_problem(as(&intake_b, "GET", path, NULL, 404), "not-found", NULL);
    cf_api_expect_problem(as(&intake_b, "DELETE", path, NULL, 404), "not-found", NULL);
    snprintf(path, sizeof path, "/api/v1/applications/%s/form", id);
    cf_api_expect_problem(as(&intake_b, "GET", path, NULL, 404), "not-found", NULL);
    /* the back office of the region sees it */
    struct cf_http_reply reply;
    harness.session = &caseworker;
    assert_int_equal(cf_http(&harness, "GET", path, NULL, 0, &reply), 0);
    harness.session = NULL;
    assert_int_equal(reply.status, 200);
    cf_http_reply_cleanup(&reply);
}

/* Removal while draft or returned only; after submission what was handed in stays. A
 * decided or withdrawn application takes no new document. */
static void test_remove_rules(void **state)
{
    (void)state;
    char id[40], path[200];
    file_application(office_form, id);
    char ids[2][40];
    for (int i = 0; i < 2; i++) {
        char body[80];
        int n = snprintf(body, sizeof body, "%%PDF-1.4\n%% document %d\n%%%%EOF\n", i);
        cJSON *doc = upload(&intake_a, id, "kind=income&name=income.pdf", "application/pdf", body,
                            (size_t)n, 201);
        snprintf(ids[i], sizeof ids[i], "%s", cf_json_str(doc, "id"));
        cJSON_Delete(doc);
    }
    snprintf(path, sizeof path, "/api/v1/applications/%s/documents/%s", id, ids[0]);
    struct cf_http_reply reply;
    harness.session = &intake_a;
    assert_int_equal(cf_http(&harness, "DELETE", path, NULL, 0, &reply), 0);
    harness.session = NULL;
    assert_int_equal(reply.status, 204);
    cf_http_reply_cleanup(&reply);
    cf_api_expect_problem(as(&intake_a, "DELETE", path, NULL, 404), "not-found", NULL);

    move(&intake_a, id, "submitted", "");
    snprintf(path, sizeof path, "/api/v1/applications/%s/documents/%s", id, ids[1]);
    /* mutant documents.removable-after-submit */
    cf_api_expect_problem(as(&lead_a, "DELETE", path, NULL, 409), "document-locked", NULL);
    /* still taken while it is checked */
    cJSON_Delete(upload(&lead_a, id, "kind=other&name=x.png", "image/png", png, sizeof png, 201));
    move(&lead_a, id, "returned", "Нет справки о доходах");
    harness.session = &intake_a;
    assert_int_equal(cf_http(&harness, "DELETE", path, NULL, 0, &reply), 0);
    harness.session = NULL;
    assert_int_equal(reply.status, 204);
    cf_http_reply_cleanup(&reply);
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM audit_log WHERE action = 'application.document.remove' AND "
             "details->>'application_id' = '%s'",
             id);
    assert_int_equal(cf_harness_sql_long(&harness, sql), 2);

    move(&intake_a, id, "withdrawn", "Заявитель передумал");
    refused(&intake_a, id, "kind=other&name=late.pdf", "application/pdf", pdf, strlen(pdf), 409,
            "document-locked", NULL);
    /* a duplicate of what is there is still answered */
    cJSON_Delete(upload(&intake_a, id, "kind=other&name=x.png", "image/png", png, sizeof png, 200));
}

/* The caps: 10 MiB a file (over it: 413 before the body is read), 20 files an
 * application; the database holds both whoever writes. */
static void test_caps(void **state)
{
    (void)state;
    char id[40];
    file_application(office_form, id);
    size_t big = 10u << 20;
    char *file = malloc(big + 1);
    assert_non_null(file);
    memset(file, ' ', big + 1);
    memcpy(file, "%PDF-1.7\n", 9);
    memcpy(file + big - 6, "%%EOF\n", 6);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cJSON *doc =
        upload(&intake_a, id, "kind=medical&name=big.pdf", "application/pdf", file, big, 201);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    print_message("a 10 MiB upload took %.0f ms\n",
                  (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    assert_int_equal(cf_json_long(doc, "size"), (long)big);
    cJSON_Delete(doc);
    memcpy(file + big - 5, "%%EOF\n", 6);
    refused(&intake_a, id, "kind=medical&name=big.pdf", "application/pdf", file, big + 1, 413,
            "too-large", NULL);
    free(file);
    /* 19 more documents, then the 21st refused (mutant documents.count-cap) */
    for (int i = 0; i < 19; i++) {
        char body[80];
        int n = snprintf(body, sizeof body, "%%PDF-1.4\n%% cap %d\n%%%%EOF\n", i);
        cJSON_Delete(upload(&intake_a, id, "kind=other&name=n.pdf", "application/pdf", body,
                            (size_t)n, 201));
    }
    refused(&intake_a, id, "kind=other&name=n.pdf", "application/pdf", pdf, strlen(pdf), 409,
            "too-many-documents", NULL);
    /* the database keeps the caps and the digest whoever inserts (mutant
     * documents.digest-unchecked) */
    char sql[400];
    snprintf(sql, sizeof sql,
             "INSERT INTO application_documents (application_id, kind, file_name, media_type, "
             "size, sha256, content, uploaded_by) VALUES ('%s', 'other', 'x.pdf', "
             "'application/pdf', 3, sha256('abc'), 'abc', 'test')",
             id);
    assert_int_not_equal(cf_harness_sql(&harness, sql), 0);
    char other[40];
    file_application(office_form, other);
    snprintf(sql, sizeof sql,
             "INSERT INTO application_documents (application_id, kind, file_name, media_type, "
             "size, sha256, content, uploaded_by) VALUES ('%s', 'other', 'x.pdf', "
             "'application/pdf', 3, sha256('abd'), 'abc', 'test')",
             other);
    assert_int_not_equal(cf_harness_sql(&harness, sql), 0);
    snprintf(sql, sizeof sql,
             "INSERT INTO application_documents (application_id, kind, file_name, media_type, "
             "size, sha256, content, uploaded_by) VALUES ('%s', 'other', 'x.html', "
             "'text/html', 3, sha256('abc'), 'abc', 'test')",
             other);
    assert_int_not_equal(cf_harness_sql(&harness, sql), 0);
}

/* The printable form: a page of its own (no script may run), every value escaped. */
static void test_form(void **state)
{
    (void)state;
    static const char hostile[] =
        "{\"channel\":\"office\",\"applicant_name\":\"<script>alert(\\\"x\\\")</script> "
        "O'Neil & Co\",\"applicant_birth_date\":\"1950-02-28\","
        "\"applicant_address\":\"<img src=x onerror=alert(1)>\","
        "\"representative_name\":\"Сидоров Иван\",\"representative_relation\":\"сын\","
        "\"category\":\"elderly\",\"purpose\":\"day_centre\",\"details\":\"</td></tr>\","
        "\"consent\":true}";
    char id[40], path[200];
    file_application(hostile, id);
    cJSON_Delete(upload(&intake_a, id, "kind=snils&name=%3Cb%3E%22x%22.pdf", "application/pdf", pdf,
                        strlen(pdf), 201));
    snprintf(path, sizeof path, "/api/v1/applications/%s/form", id);
    struct cf_http_reply reply;
    harness.session = &intake_a;
    assert_int_equal(cf_http(&harness, "GET", path, NULL, 0, &reply), 0);
    harness.session = NULL;
    assert_int_equal(reply.status, 200);
    assert_string_equal(reply.content_type, "text/html; charset=utf-8");
    assert_non_null(strstr(reply.headers, "Content-Security-Policy: default-src 'none'"));
    assert_non_null(strstr(reply.headers, "X-Content-Type-Options: nosniff"));
    const char *page = reply.body;
    assert_null(strstr(page, "<script"));
    assert_null(strstr(page, "<img"));
    assert_null(strstr(page, "<b>"));
    assert_non_null(
        strstr(page, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; O&#39;Neil &amp; Co"));
    assert_non_null(strstr(page, "&lt;img src=x onerror=alert(1)&gt;"));
    assert_non_null(strstr(page, "&lt;/td&gt;&lt;/tr&gt;"));
    assert_non_null(strstr(page, "СНИЛС: &lt;b&gt;&quot;x&quot;.pdf"));
    assert_non_null(strstr(page, "МФЦ &lt;Центральный&gt;"));
    assert_non_null(strstr(page, "полустационарное обслуживание (дневное пребывание)"));
    assert_non_null(strstr(page, "гражданин пожилого возраста"));
    assert_non_null(strstr(page, "Сидоров Иван"));
    assert_non_null(strstr(page, "@page{size:A4"));
    assert_non_null(strstr(page, "подпись заявителя"));
    char sql[200], *number;
    snprintf(sql, sizeof sql, "SELECT number FROM applications WHERE id = '%s'", id);
    number = cf_harness_sql_value(&harness, sql);
    assert_non_null(number);
    assert_non_null(strstr(page, number));
    free(number);
    cf_http_reply_cleanup(&reply);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upload_and_download),
        cmocka_unit_test(test_offices_see_their_own),
        cmocka_unit_test(test_remove_rules),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_form),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
