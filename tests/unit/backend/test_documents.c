/* The pure parts of an application's documents (be/documents.h): the sniffer at each of
 * its edges (the magic, the end, markup, bytes after the end, the size cap), the
 * declared type's agreement, the upload's query, the download's Content-Disposition
 * (an ASCII name and an RFC 5987 one, nothing unescaped) and HTML escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "be/documents.h"

static const unsigned char png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
    0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00,
    0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0b, 0x49, 0x44, 0x41, 0x54, 0x78,
    0x9c, 0x63, 0x60, 0x00, 0x02, 0x00, 0x00, 0x05, 0x00, 0x01, 0x7a, 0x5e, 0xab, 0x3f,
    0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
static const unsigned char jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J',  'F',  'I',
                                     'F',  0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01,
                                     0x00, 0x00, 0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9};

static const char *sniff_text(const char *text)
{
    return be_document_sniff((const unsigned char *)text, strlen(text));
}

static void test_sniff_pdf(void **state)
{
    (void)state;
    assert_string_equal(sniff_text("%PDF-1.4\n%%EOF"), "application/pdf");
    assert_string_equal(sniff_text("%PDF-2.0\nbody\n%%EOF\r\n \n"), "application/pdf");
    assert_null(sniff_text("%PDF-1.4\nno end"));
    assert_null(sniff_text("%PDF-1.4\n%%EOF\n<html>")); /* a page after the end */
    assert_null(sniff_text("%PDF-x.4\n%%EOF"));
    assert_null(sniff_text("%PDF-"));
    assert_null(sniff_text("%%EOF"));
    assert_null(sniff_text(" %PDF-1.4\n%%EOF"));
    /* mutant documents.markup-ignored */
    assert_null(sniff_text("%PDF-1.4\n<script>alert(1)</script>\n%%EOF"));
    assert_null(sniff_text("%PDF-1.4\n<SVG onload=x>\n%%EOF")); /* any case */
    assert_null(sniff_text("%PDF-1.4\n<!DocType html>\n%%EOF"));
}

static void test_sniff_jpeg(void **state)
{
    (void)state;
    assert_string_equal(be_document_sniff(jpeg, sizeof jpeg), "image/jpeg");
    unsigned char copy[sizeof jpeg + 8];
    memcpy(copy, jpeg, sizeof jpeg);
    memcpy(copy + sizeof jpeg, "<html>\n", 8); /* bytes after EOI */
    assert_null(be_document_sniff(copy, sizeof copy));
    memcpy(copy, jpeg, sizeof jpeg);
    copy[2] = 0x00;
    assert_null(be_document_sniff(copy, sizeof jpeg));
    memcpy(copy, jpeg, sizeof jpeg);
    copy[3] = 0xFF; /* FF FF is fill, not a marker */
    assert_null(be_document_sniff(copy, sizeof jpeg));
    assert_null(be_document_sniff(jpeg, sizeof jpeg - 1));
    assert_null(be_document_sniff(jpeg, 4));
    static const unsigned char tiny[] = {0xFF, 0xD8, 0xFF, 0xD9};
    assert_null(be_document_sniff(tiny, sizeof tiny));
}

static void test_sniff_png(void **state)
{
    (void)state;
    assert_string_equal(be_document_sniff(png, sizeof png), "image/png");
    unsigned char copy[sizeof png + 16];
    memcpy(copy, png, sizeof png);
    memcpy(copy + sizeof png, "<svg/>", 6); /* mutant documents.png-trailing */
    assert_null(be_document_sniff(copy, sizeof png + 6)); /* a polyglot */
    memcpy(copy, png, sizeof png);
    copy[12] = 'X'; /* the first chunk is not IHDR */
    assert_null(be_document_sniff(copy, sizeof png));
    memcpy(copy, png, sizeof png);
    copy[sizeof png - 1] ^= 1; /* IEND's CRC */
    assert_null(be_document_sniff(copy, sizeof png));
    memcpy(copy, png, sizeof png);
    copy[0] = 0x88;
    assert_null(be_document_sniff(copy, sizeof png));
    assert_null(be_document_sniff(png, 44));
}

static void test_sniff_other(void **state)
{
    (void)state;
    assert_null(be_document_sniff(NULL, 0));
    assert_null(be_document_sniff(png, 0));
    assert_null(sniff_text("<html><body>hi</body></html>"));
    assert_null(sniff_text("<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>"));
    assert_null(sniff_text("GIF89a"));
    assert_null(sniff_text("PK\x03\x04"));
    /* markup past the first 1024 bytes is a browser's no longer */
    char *late = malloc(2100);
    assert_non_null(late);
    memset(late, ' ', 2100);
    memcpy(late, "%PDF-1.4\n", 9);
    memcpy(late + 1030, "<script>", 8);
    memcpy(late + 2100 - 6, "%%EOF\n", 6);
    assert_string_equal(be_document_sniff((unsigned char *)late, 2100), "application/pdf");
    memcpy(late + 1010, "<script>", 8); /* straddling the 1024th byte */
    assert_null(be_document_sniff((unsigned char *)late, 2100));
    free(late);
    /* the size cap: 10 MiB is a document, one byte more is not */
    size_t cap = BE_DOC_BYTES_MAX;
    unsigned char *big = malloc(cap + 1);
    assert_non_null(big);
    memset(big, ' ', cap + 1);
    memcpy(big, "%PDF-1.7\n", 9);
    memcpy(big + cap - 5, "%%EOF", 5);
    assert_string_equal(be_document_sniff(big, cap), "application/pdf");
    memcpy(big + cap - 4, "%%EOF", 5);
    assert_null(be_document_sniff(big, cap + 1)); /* mutant documents.size-cap */
    free(big);
}

static void test_type_agrees(void **state)
{
    (void)state;
    assert_true(be_document_type_agrees("image/png", "image/png"));
    assert_true(be_document_type_agrees("IMAGE/PNG; x=1", "image/png"));
    assert_false(be_document_type_agrees("image/pngx", "image/png"));
    assert_false(be_document_type_agrees("image/jpeg", "image/png"));
    assert_false(be_document_type_agrees(NULL, "image/png"));
    assert_false(be_document_type_agrees("image/png", NULL));
}

static void test_upload_query(void **state)
{
    (void)state;
    struct be_document_upload u;
    struct cf_error_detail d = {0};
    assert_int_equal(
        be_document_upload_read("kind=snils&name=%D0%A1%D0%9D%D0%98%D0%9B%D0%A1.pdf", &u, &d), 0);
    assert_string_equal(u.kind, "snils");
    assert_string_equal(u.name, "СНИЛС.pdf");
    static const char *const bad[][2] = {
        {"name=a.pdf", "kind"},
        {"kind=&name=a.pdf", "kind"},
        {"kind=diploma&name=a.pdf", "kind"},
        {"kind=other", "name"},
        {"kind=other&name=", "name"},
        {"kind=other&name=a%2Fb", "name"},
        {"kind=other&name=a%5Cb", "name"},
        {"kind=other&name=..", "name"},
        {"kind=other&name=%20", "name"},
        {"kind=other&name=a%0Ab", "name"},
        {"kind=other&name=%FF%FE", "name"},
        {"kind=other&name=a&name=b", "name"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&d, 0, sizeof d);
        assert_int_not_equal(be_document_upload_read(bad[i][0], &u, &d), 0);
        assert_string_equal(d.field, bad[i][1]);
    }
    char query[400];
    char name[BE_DOC_NAME_MAX + 2];
    memset(name, 'a', sizeof name);
    name[BE_DOC_NAME_MAX] = '\0';
    snprintf(query, sizeof query, "kind=other&name=%s", name);
    assert_int_equal(be_document_upload_read(query, &u, &d), 0);
    name[BE_DOC_NAME_MAX] = 'a';
    name[BE_DOC_NAME_MAX + 1] = '\0';
    snprintf(query, sizeof query, "kind=other&name=%s", name);
    assert_int_not_equal(be_document_upload_read(query, &u, &d), 0);
    assert_int_not_equal(be_document_upload_read(NULL, &u, &d), 0);
}

static void test_disposition(void **state)
{
    (void)state;
    struct be_buf out;
    be_buf_init(&out, 4096);
    assert_int_equal(be_document_disposition("Паспорт 1.pdf", &out), 0);
    assert_string_equal(out.data, "Content-Disposition: attachment; filename=\"________1.pdf\"; "
                                  "filename*=UTF-8''%D0%9F%D0%B0%D1%81%D0%BF%D0%BE%D1%80%D1%82%201"
                                  ".pdf\r\n");
    be_buf_reset(&out);
    /* quotes, semicolons, CR LF and percent never reach the header as themselves (mutant
     * documents.disposition-raw) */
    assert_int_equal(be_document_disposition("a\"b;c\r\nX: y%.png", &out), 0);
    assert_string_equal(out.data, "Content-Disposition: attachment; filename=\"a_b_c__X__y_.png\"; "
                                  "filename*=UTF-8''a%22b%3Bc%0D%0AX%3A%20y%25.png\r\n");
    be_buf_cleanup(&out);
}

static void test_html_escape(void **state)
{
    (void)state;
    struct be_buf out;
    be_buf_init(&out, 4096);
    /* mutant documents.html-unescaped */
    assert_int_equal(be_html_escape(&out, "<script>alert(\"x\")</script> O'Neil & Co — ок"), 0);
    assert_string_equal(out.data, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; O&#39;Neil "
                                  "&amp; Co — ок");
    be_buf_cleanup(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sniff_pdf),   cmocka_unit_test(test_sniff_jpeg),
        cmocka_unit_test(test_sniff_png),   cmocka_unit_test(test_sniff_other),
        cmocka_unit_test(test_type_agrees), cmocka_unit_test(test_upload_query),
        cmocka_unit_test(test_disposition), cmocka_unit_test(test_html_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
