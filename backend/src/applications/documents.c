/* An application's documents and its printable form (issue 15), the applications
 * module's second route fragment. A document is a PDF, JPEG or PNG told by its bytes
 * (be_document_sniff), never by what the client declares: the declared type must agree
 * with the bytes, and anything else — HTML, SVG, a file with a second one appended — is
 * refused. The bytes are kept in PostgreSQL (sql/0024_application_documents.sql), seen
 * through the application's row-level security, and are only ever served as a download
 * (attachment, nosniff, a sandboxing Content-Security-Policy) with the sniffed type. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "be/audit.h"
#include "be/auth.h"
#include "be/db.h"
#include "be/documents.h"
#include "be/query.h"
#include "be/reply.h"
#include "cf/text.h"
#include "cf/uuid.h"
#include "sql/documents_sql.h"

static const char *const kinds[] = {"passport",  "snils", "medical", "income",
                                    "statement", "other", NULL};

/* ==== Sniffing (pure) ==== */

static bool starts(const unsigned char *data, size_t len, const char *prefix, size_t n)
{
    return len >= n && memcmp(data, prefix, n) == 0;
}

/* Markup a browser's sniffer or an SVG renderer would act on, in the first 1024 bytes. */
static bool has_markup(const unsigned char *data, size_t len)
{
    static const char *const tags[] = {"<html",  "<script", "<svg",    "<!doctype", "<?xml",
                                       "<body",  "<head",   "<iframe", "<object",   "<embed",
                                       "<title", "<img",    "<div",    "<style",    NULL};
    size_t n = len < 1024 ? len : 1024;
    for (size_t i = 0; i < n; i++) {
        if (data[i] != '<')
            continue;
        for (size_t t = 0; tags[t]; t++) {
            size_t k = strlen(tags[t]);
            if (i + k <= len && strncasecmp((const char *)data + i, tags[t], k) == 0)
                return true;
        }
    }
    return false;
}

static bool pdf_ok(const unsigned char *data, size_t len)
{
    if (!starts(data, len, "%PDF-", 5) || len < 8 || data[5] < '1' || data[5] > '9')
        return false;
    size_t end = len;
    while (end > 0 && (data[end - 1] == '\n' || data[end - 1] == '\r' || data[end - 1] == ' '))
        end--;
    return end >= 5 + 5 && memcmp(data + end - 5, "%%EOF", 5) == 0;
}

static bool jpeg_ok(const unsigned char *data, size_t len)
{
    /* SOI, then a marker (FF xx, xx neither 00 nor FF); the last two bytes EOI */
    return len >= 6 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF && data[3] != 0x00 &&
           data[3] != 0xFF && data[len - 2] == 0xFF && data[len - 1] == 0xD9;
}

static bool png_ok(const unsigned char *data, size_t len)
{
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
    /* the signature, IHDR (length 13) first, IEND (empty, with its CRC) last */
    return len >= 8 + 25 + 12 && memcmp(data, signature, 8) == 0 &&
           memcmp(data + 8, "\0\0\0\rIHDR", 8) == 0 && memcmp(data + len - 12, iend, 12) == 0;
}

const char *be_document_sniff(const unsigned char *data, size_t len)
{
    if (!data || len == 0 || len > BE_DOC_BYTES_MAX || has_markup(data, len))
        return NULL;
    if (pdf_ok(data, len))
        return "application/pdf";
    if (jpeg_ok(data, len))
        return "image/jpeg";
    if (png_ok(data, len))
        return "image/png";
    return NULL;
}

bool be_document_type_agrees(const char *declared, const char *sniffed)
{
    if (!declared || !sniffed)
        return false;
    size_t n = strlen(sniffed);
    if (strncasecmp(declared, sniffed, n) != 0)
        return false;
    char next = declared[n];
    return next == '\0' || next == ';' || next == ' ' || next == '\t';
}

/* ==== The upload's query (pure) ==== */

int be_document_upload_read(const char *query, struct be_document_upload *out,
                            struct cf_error_detail *d)
{
    memset(out, 0, sizeof *out);
    struct be_query_param params[] = {
        {"kind", out->kind, sizeof out->kind},
        {"name", out->name, sizeof out->name},
    };
    int rc = be_query_parse(query, params, sizeof params / sizeof params[0], d);
    bool known = false;
    for (size_t i = 0; !rc && kinds[i]; i++)
        known = known || strcmp(out->kind, kinds[i]) == 0;
    if (!rc && !known)
        rc = cf_error_set(d, out->kind[0] ? CF_EFIELD_RANGE : CF_EFIELD_MISSING, "kind",
                          "kind must be one of passport, snils, medical, income, statement, "
                          "other (вид документа)");
    if (!rc && (!out->name[0] || cf_text_chars(out->name) < 0 || strchr(out->name, '\n') ||
                strpbrk(out->name, "/\\") || strspn(out->name, " .") == strlen(out->name)))
        rc = cf_error_set(d, out->name[0] ? CF_EFIELD_RANGE : CF_EFIELD_MISSING, "name",
                          "name must be the file's name (имя файла), up to %d bytes of text "
                          "without / or \\",
                          BE_DOC_NAME_MAX);
    return rc;
}

/* ==== Names and escaping (pure) ==== */

int be_document_disposition(const char *name, struct be_buf *out)
{
    static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
    /* RFC 5987 attr-char: ALPHA DIGIT ! # $ & + - . ^ _ ` | ~ */
    static const char attr[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                               "!#$&+-.^_`|~";
    int rc = be_buf_puts(out, "Content-Disposition: attachment; filename=\"");
    for (const unsigned char *p = (const unsigned char *)name; !rc && *p; p++) {
        if ((*p & 0xC0) == 0x80)
            continue; /* a continuation byte: its character has its '_' already */
        char c = *p < 0x80 && strchr(plain, *p) ? (char)*p : '_';
        rc = be_buf_append(out, &c, 1);
    }
    if (!rc)
        rc = be_buf_puts(out, "\"; filename*=UTF-8''");
    for (const unsigned char *p = (const unsigned char *)name; !rc && *p; p++)
        rc = *p < 0x80 && strchr(attr, *p) ? be_buf_append(out, p, 1)
                                           : be_buf_printf(out, "%%%02X", *p);
    if (!rc)
        rc = be_buf_puts(out, "\r\n");
    return rc;
}

int be_html_escape(struct be_buf *out, const char *text)
{
    int rc = 0;
    for (const char *p = text; !rc && *p; p++) {
        switch (*p) {
        case '&':
            rc = be_buf_puts(out, "&amp;");
            break;
        case '<':
            rc = be_buf_puts(out, "&lt;");
            break;
        case '>':
            rc = be_buf_puts(out, "&gt;");
            break;
        case '"':
            rc = be_buf_puts(out, "&quot;");
            break;
        case '\'':
            rc = be_buf_puts(out, "&#39;");
            break;
        default:
            rc = be_buf_append(out, p, 1);
        }
    }
    return rc;
}

/* ==== Routes ==== */

static void reply_no_application(struct be_request *req)
{
    be_reply_problem(req, 404, "not-found", "No such application",
                     "No application you may see has this id.", NULL, NULL);
}

static void reply_no_document(struct be_request *req)
{
    be_reply_problem(req, 404, "not-found", "No such document",
                     "Документ не найден: no document of this application has this id.", NULL,
                     NULL);
}

/* A path parameter that must be a uuid, canonical into out; false when it is not. */
static bool read_uuid(struct be_request *req, const char *name, char out[CF_UUID_TEXT_LEN + 1])
{
    uint8_t id[CF_UUID_LEN];
    if (cf_uuid_from_text(be_param(req, name), id))
        return false;
    cf_uuid_to_text(id, out);
    return true;
}

/* One document's JSON by id with status, or 503. */
static void reply_document(struct be_request *req, const char *doc, int status)
{
    const char *params[1] = {doc};
    PGresult *res = PQexecParams(req->db, sql_document_get_json, 1, NULL, params, NULL, NULL, 0);
    cJSON *body = NULL;
    if (be_db_check(req, res, PGRES_TUPLES_OK) && PQntuples(res) == 1)
        body = cJSON_Parse(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!body)
        be_reply_db_error(req, req->db, "document");
    else
        be_reply_json(req, status, body);
}

struct upload {
    char app[CF_UUID_TEXT_LEN + 1];
    char doc[CF_UUID_TEXT_LEN + 1];
    struct be_document_upload query;
    const char *media_type;
    char outcome[16];
};

static int upload_tx(struct be_request *req, void *ctx)
{
    struct upload *x = ctx;
    const char *params[6] = {x->app,        x->query.kind, x->query.name,
                             x->media_type, req->body,     req->who.login};
    int lengths[6] = {0, 0, 0, 0, (int)req->body_len, 0};
    int formats[6] = {0, 0, 0, 0, 1, 0};
    PGresult *res = PQexecParams(req->db, sql_document_add, 6, NULL, params, lengths, formats, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        PQclear(res);
        return BE_TX_FAILED;
    }
    snprintf(x->outcome, sizeof x->outcome, "%s", PQgetvalue(res, 0, 0));
    snprintf(x->doc, sizeof x->doc, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    if (strcmp(x->outcome, "added") != 0)
        return BE_TX_ROLLBACK;
    char details[160];
    snprintf(details, sizeof details, "{\"application_id\":\"%s\",\"kind\":\"%s\",\"size\":%zu}",
             x->app, x->query.kind, req->body_len);
    return be_audit(req, "application.document.add", x->doc, "", details) ? BE_TX_FAILED
                                                                          : BE_TX_COMMIT;
}

/* POST /api/v1/applications/{id}/documents?kind=K&name=N, the file as the body. */
static void handle_upload(struct be_request *req)
{
    struct upload x;
    struct cf_error_detail d = {0};
    memset(&x, 0, sizeof x);
    if (!read_uuid(req, "id", x.app)) {
        reply_no_application(req);
        return;
    }
    if (be_document_upload_read(req->query, &x.query, &d)) {
        be_reply_query_invalid(req, &d);
        return;
    }
    /* NOTE: the route's cap (BE_BODY_FILE) already refused a larger body unread; this
     * is the same rule again for a body that arrived another way. */
    if (req->body_len == 0 || req->body_len > BE_DOC_BYTES_MAX) {
        be_reply_problem(req, req->body_len ? 413 : 422, req->body_len ? "too-large" : "validation",
                         "The file is empty or too large",
                         "Файл пуст или больше 10 МиБ: send one PDF, JPEG or PNG of 1 byte to "
                         "10 MiB as the body.",
                         NULL, NULL);
        return;
    }
    x.media_type = be_document_sniff((const unsigned char *)req->body, req->body_len);
    if (!x.media_type) {
        be_reply_problem(req, 415, "unsupported-media-type", "The file is not a PDF, JPEG or PNG",
                         "Файл не является документом PDF, изображением JPEG или PNG (или "
                         "содержит что-то ещё): only whole PDF, JPEG and PNG files are taken.",
                         NULL, NULL);
        return;
    }
    if (!be_document_type_agrees(be_request_header(req, "Content-Type"), x.media_type)) {
        char detail[240];
        snprintf(detail, sizeof detail,
                 "Тип файла не совпадает с заявленным: the bytes are %s, the request says "
                 "otherwise.",
                 x.media_type);
        be_reply_problem(req, 422, "media-type-mismatch", "The file is not what it says", detail,
                         NULL, NULL);
        return;
    }
    int rc = be_db_transaction(req, NULL, "document upload", upload_tx, &x);
    if (rc == BE_TX_COMMIT)
        reply_document(req, x.doc, 201);
    else if (rc == BE_TX_ROLLBACK && strcmp(x.outcome, "existing") == 0)
        reply_document(req, x.doc, 200);
    else if (rc == BE_TX_ROLLBACK && strcmp(x.outcome, "closed") == 0)
        be_reply_problem(req, 409, "document-locked", "The application is closed",
                         "Заявление уже решено или отозвано: документы к нему не добавляются.",
                         NULL, NULL);
    else if (rc == BE_TX_ROLLBACK && strcmp(x.outcome, "full") == 0) {
        char detail[200];
        snprintf(detail, sizeof detail,
                 "К заявлению приложено максимальное число документов (%d): remove one first.",
                 BE_DOC_COUNT_MAX);
        be_reply_problem(req, 409, "too-many-documents", "Too many documents", detail, NULL, NULL);
    } else if (rc == BE_TX_ROLLBACK)
        reply_no_application(req);
}

/* GET /api/v1/applications/{id}/documents */
static void handle_list(struct be_request *req)
{
    char app[CF_UUID_TEXT_LEN + 1];
    if (!read_uuid(req, "id", app)) {
        reply_no_application(req);
        return;
    }
    const char *params[1] = {app};
    PGresult *res = PQexecParams(req->db, sql_document_list, 1, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1)
        be_reply_db_error(req, req->db, "documents");
    else if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
        reply_no_application(req);
    else
        be_reply_json(req, 200, cJSON_Parse(PQgetvalue(res, 0, 1)));
    PQclear(res);
}

/* The headers of every document served: a download under its name, never rendered by
 * the browser (nosniff: the sniffed type is final; sandbox: a document opened anyway
 * runs no script and has no origin). */
static const char document_security_headers[] =
    "X-Content-Type-Options: nosniff\r\n"
    "Content-Security-Policy: sandbox; default-src 'none'\r\n"
    "X-Frame-Options: DENY\r\n";

/* GET /api/v1/applications/{id}/documents/{doc} */
static void handle_download(struct be_request *req)
{
    char app[CF_UUID_TEXT_LEN + 1], doc[CF_UUID_TEXT_LEN + 1];
    if (!read_uuid(req, "id", app) || !read_uuid(req, "doc", doc)) {
        reply_no_document(req);
        return;
    }
    const char *params[2] = {app, doc};
    PGresult *res = PQexecParams(req->db, sql_document_content, 2, NULL, params, NULL, NULL, 1);
    if (!be_db_check(req, res, PGRES_TUPLES_OK)) {
        PQclear(res);
        be_reply_db_error(req, req->db, "document");
        return;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        reply_no_document(req);
        return;
    }
    /* binary results: text columns are their bytes, not NUL-terminated by contract */
    char name[BE_DOC_NAME_MAX + 1], type[32];
    snprintf(name, sizeof name, "%.*s", PQgetlength(res, 0, 0), PQgetvalue(res, 0, 0));
    snprintf(type, sizeof type, "%.*s", PQgetlength(res, 0, 1), PQgetvalue(res, 0, 1));
    const char *content = PQgetvalue(res, 0, 2);
    size_t len = (size_t)PQgetlength(res, 0, 2);
    /* the type served is the sniffed one, checked again against the bytes served */
    const char *sniffed = be_document_sniff((const unsigned char *)content, len);
    struct be_buf headers;
    be_buf_init(&headers, 2048);
    if (!sniffed || strcmp(sniffed, type) != 0 || be_document_disposition(name, &headers) ||
        be_buf_puts(&headers, document_security_headers))
        be_reply_server_fault(req, "document: stored bytes or name");
    else
        be_reply_with_headers(req, 200, sniffed, headers.data, content, len);
    be_buf_cleanup(&headers);
    PQclear(res);
}

struct removal {
    char app[CF_UUID_TEXT_LEN + 1], doc[CF_UUID_TEXT_LEN + 1];
    char outcome[16];
};

static int remove_tx(struct be_request *req, void *ctx)
{
    struct removal *x = ctx;
    const char *params[2] = {x->app, x->doc};
    PGresult *res = PQexecParams(req->db, sql_document_remove, 2, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        PQclear(res);
        return BE_TX_FAILED;
    }
    snprintf(x->outcome, sizeof x->outcome, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (strcmp(x->outcome, "removed") != 0)
        return BE_TX_ROLLBACK;
    char details[80];
    snprintf(details, sizeof details, "{\"application_id\":\"%s\"}", x->app);
    return be_audit(req, "application.document.remove", x->doc, "", details) ? BE_TX_FAILED
                                                                             : BE_TX_COMMIT;
}

/* DELETE /api/v1/applications/{id}/documents/{doc}: while draft or returned. */
static void handle_remove(struct be_request *req)
{
    struct removal x;
    memset(&x, 0, sizeof x);
    if (!read_uuid(req, "id", x.app) || !read_uuid(req, "doc", x.doc)) {
        reply_no_document(req);
        return;
    }
    int rc = be_db_transaction(req, NULL, "document removal", remove_tx, &x);
    if (rc == BE_TX_COMMIT)
        be_reply_text(req, 204, "text/plain", "");
    else if (rc == BE_TX_ROLLBACK && strcmp(x.outcome, "locked") == 0)
        be_reply_problem(req, 409, "document-locked", "The document is on record",
                         "Документ можно удалить только пока заявление формируется или "
                         "возвращено на доработку.",
                         NULL, NULL);
    else if (rc == BE_TX_ROLLBACK)
        reply_no_document(req);
}

/* ==== The printable form ==== */

static const char *word(const char *key, const char *const *pairs)
{
    for (size_t i = 0; pairs[i]; i += 2)
        if (strcmp(key, pairs[i]) == 0)
            return pairs[i + 1];
    return key;
}

static const char *const category_words[] = {"elderly",
                                             "гражданин пожилого возраста",
                                             "disabled",
                                             "инвалид",
                                             "disabled_child",
                                             "ребёнок-инвалид",
                                             "family",
                                             "семья с детьми",
                                             "other",
                                             "иное",
                                             NULL};
static const char *const purpose_words[] = {"home_care",
                                            "социальное обслуживание на дому",
                                            "rehab_aid",
                                            "прокат технических средств реабилитации",
                                            "rehab_course",
                                            "курс реабилитации",
                                            "day_centre",
                                            "полустационарное обслуживание (дневное пребывание)",
                                            "palliative",
                                            "паллиативная помощь",
                                            "other",
                                            "иное",
                                            NULL};
static const char *const kind_words[] = {"passport",  "паспорт",
                                         "snils",     "СНИЛС",
                                         "medical",   "медицинское заключение",
                                         "income",    "сведения о доходах",
                                         "statement", "заявление",
                                         "other",     "иной документ",
                                         NULL};
static const char *const channel_words[] = {
    "web",  "портал", "office",   "личный приём",     "phone", "телефон",
    "post", "почта",  "terminal", "выездная бригада", NULL};

static const char form_head[] =
    "<!DOCTYPE html>\n<html lang=\"ru\"><head><meta charset=\"utf-8\">"
    "<title>Заявление о предоставлении социальных услуг</title><style>"
    "@page{size:A4;margin:20mm 15mm 20mm 25mm}"
    "body{font-family:'Times New Roman',serif;font-size:12pt;line-height:1.4;color:#000;"
    "max-width:170mm;margin:0 auto}"
    "h1{font-size:14pt;text-align:center;margin:0 0 4mm}"
    ".to{margin-left:85mm;margin-bottom:6mm}"
    "table{width:100%;border-collapse:collapse;margin:3mm 0}"
    "th,td{border:1px solid #000;padding:1.5mm 2mm;text-align:left;vertical-align:top}"
    "th{width:38%;font-weight:normal}"
    ".sign{display:flex;gap:8mm;margin-top:14mm}"
    ".line{flex:1;border-top:1px solid #000;text-align:center;font-size:9pt;"
    "padding-top:1mm}"
    ".note{font-size:10pt}"
    "@media print{.noprint{display:none}}"
    "</style></head><body>\n"
    "<p class=\"noprint\">Напечатайте страницу (Ctrl+P) на листе A4 и дайте заявителю "
    "подписать.</p>\n";

/* One row of the form's table: label (trusted) and value (escaped). */
static int form_row(struct be_buf *out, const char *label, const char *value)
{
    int rc = be_buf_printf(out, "<tr><th>%s</th><td>", label);
    if (!rc)
        rc = be_html_escape(out, value && value[0] ? value : "—");
    return rc ? rc : be_buf_puts(out, "</td></tr>\n");
}

/* The form's page from the rows of application_form (f) and application_form_documents
 * (docs). Every value from the database goes through be_html_escape. */
static int form_page(struct be_buf *out, const PGresult *f, const PGresult *docs)
{
    const char *v[15];
    for (int i = 0; i < 15; i++)
        v[i] = PQgetvalue(f, 0, i);
    int rc = be_buf_puts(out, form_head);
    if (!rc)
        rc = be_buf_puts(out, "<p class=\"to\">В ");
    if (!rc)
        rc = be_html_escape(out, v[12]);
    if (!rc && v[13][0]) {
        rc = be_buf_puts(out, "<br>");
        if (!rc)
            rc = be_html_escape(out, v[13]);
    }
    if (!rc)
        rc = be_buf_puts(out, "</p>\n<h1>Заявление о предоставлении социальных услуг<br>№ ");
    if (!rc)
        rc = be_html_escape(out, v[0]);
    if (!rc)
        rc = be_buf_puts(out, "</h1>\n<table>\n");
    if (!rc)
        rc = form_row(out, "Заявитель (фамилия, имя, отчество)", v[2]);
    if (!rc)
        rc = form_row(out, "Дата рождения", v[3]);
    if (!rc)
        rc = form_row(out, "Телефон", v[4]);
    if (!rc)
        rc = form_row(out, "Адрес, по которому нужны услуги", v[5]);
    if (!rc)
        rc = form_row(out, "Представитель", v[6]);
    if (!rc)
        rc = form_row(out, "Кем приходится заявителю", v[7]);
    if (!rc)
        rc = form_row(out, "Категория", word(v[8], category_words));
    if (!rc)
        rc = form_row(out, "Прошу предоставить", word(v[9], purpose_words));
    if (!rc)
        rc = form_row(out, "Обстоятельства, что нужно", v[10]);
    if (!rc)
        rc = form_row(out, "Способ подачи", word(v[14], channel_words));
    if (!rc)
        rc = form_row(out, "Согласие на обработку персональных данных дано", v[11]);
    if (!rc)
        rc = be_buf_puts(out, "</table>\n<p>Приложенные документы:</p>\n");
    int n = PQntuples(docs);
    if (!rc && n == 0)
        rc = be_buf_puts(out, "<p>нет</p>\n");
    if (!rc && n > 0)
        rc = be_buf_puts(out, "<ol>\n");
    for (int i = 0; !rc && i < n; i++) {
        rc = be_buf_puts(out, "<li>");
        if (!rc)
            rc = be_html_escape(out, word(PQgetvalue(docs, i, 0), kind_words));
        if (!rc)
            rc = be_buf_puts(out, ": ");
        if (!rc)
            rc = be_html_escape(out, PQgetvalue(docs, i, 1));
        if (!rc)
            rc = be_buf_printf(out, " (%ld КБ)</li>\n",
                               (strtol(PQgetvalue(docs, i, 2), NULL, 10) + 1023) / 1024);
    }
    if (!rc && n > 0)
        rc = be_buf_puts(out, "</ol>\n");
    if (!rc)
        rc = be_buf_puts(
            out, "<p class=\"note\">Сведения, указанные в заявлении, достоверны. С порядком "
                 "предоставления социальных услуг ознакомлен(а). Согласие на обработку "
                 "персональных данных подтверждаю.</p>\n"
                 "<div class=\"sign\"><div class=\"line\">подпись заявителя (представителя)</div>"
                 "<div class=\"line\">расшифровка подписи</div>"
                 "<div class=\"line\">дата</div></div>\n"
                 "<div class=\"sign\"><div class=\"line\">заявление принял (подпись)</div>"
                 "<div class=\"line\">расшифровка подписи</div>"
                 "<div class=\"line\">дата</div></div>\n</body></html>\n");
    return rc;
}

/* The printable page may style itself, nothing else: no script, no request, no form
 * (a value that escaped the escaping would still run nothing). */
static const char form_security_headers[] =
    "X-Content-Type-Options: nosniff\r\n"
    "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'\r\n";

/* GET /api/v1/applications/{id}/form: the application as a page to print and sign. */
static void handle_form(struct be_request *req)
{
    char app[CF_UUID_TEXT_LEN + 1];
    if (!read_uuid(req, "id", app)) {
        reply_no_application(req);
        return;
    }
    const char *params[1] = {app};
    PGresult *f = PQexecParams(req->db, sql_application_form, 1, NULL, params, NULL, NULL, 0);
    PGresult *docs = NULL;
    if (be_db_check(req, f, PGRES_TUPLES_OK) && PQntuples(f) == 1)
        docs =
            PQexecParams(req->db, sql_application_form_documents, 1, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, f, PGRES_TUPLES_OK)) {
        be_reply_db_error(req, req->db, "application form");
    } else if (PQntuples(f) != 1) {
        reply_no_application(req);
    } else if (!be_db_check(req, docs, PGRES_TUPLES_OK)) {
        be_reply_db_error(req, req->db, "application form documents");
    } else {
        struct be_buf page;
        be_buf_init(&page, 256u << 10);
        if (form_page(&page, f, docs))
            be_reply_server_fault(req, "application form: page");
        else
            be_reply_with_headers(req, 200, "text/html; charset=utf-8", form_security_headers,
                                  page.data, page.len);
        be_buf_cleanup(&page);
    }
    PQclear(docs);
    PQclear(f);
}

#define STAFF_READ (BE_STAFF | BE_OVERSIGHT)
#define STAFF_WRITE (BE_STAFF | BE_ADMIN)

static const struct be_route routes[] = {
    {"POST", "/api/v1/applications/{id}/documents", handle_upload, true, STAFF_WRITE,
     BE_BODY_FILE(BE_DOC_BYTES_MAX)},
    {"GET", "/api/v1/applications/{id}/documents", handle_list, true, STAFF_READ, BE_BODY_NONE},
    {"GET", "/api/v1/applications/{id}/documents/{doc}", handle_download, true, STAFF_READ,
     BE_BODY_NONE},
    {"DELETE", "/api/v1/applications/{id}/documents/{doc}", handle_remove, true, STAFF_WRITE,
     BE_BODY_NONE},
    {"GET", "/api/v1/applications/{id}/form", handle_form, true, STAFF_READ, BE_BODY_NONE},
};
const struct be_module be_application_documents_module = BE_MODULE("application-documents", routes);
