/* Replies and RFC 7807 problems (see be/reply.h), written through the request's
 * transport: the same code answers over civetweb and in unit tests. */
#include "be/reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "be/buf.h"
#include "be/log.h"
#include "be/metrics.h"

static const char *status_text(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

#define SEPARATE_BODY_BYTES (256u * 1024)

static void write_all(struct be_request *req, const char *data, size_t len)
{
    if (req->io)
        (void)req->io->write(req->conn, data, len);
}

/* NOTE: head and body (up to 256 KiB) go out in one write: two small writes on one
 * TCP connection meet Nagle's algorithm and the peer's delayed ACK, which stalls every
 * answer by ~40 ms (tcp_nodelay is set too). Date lets terminals measure their clock
 * skew. */
static void send_reply(struct be_request *req, int status, const char *content_type,
                       const char *extra_headers, const char *body, size_t len)
{
    char date[64];
    struct tm tm;
    time_t now = time(NULL);
    if (!gmtime_r(&now, &tm) || !strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm))
        date[0] = '\0';
    /* A large body (a register: 23 MB) is written after the head instead of being
     * copied behind it: its writes fill whole segments, so Nagle does not hold them. */
    bool separate = len > SEPARATE_BODY_BYTES;
    struct be_buf out;
    be_buf_init(&out, (separate ? 0 : len) + 512);
    req->status = status;
    if (be_buf_printf(&out,
                      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                      "Date: %s\r\nCache-Control: no-store\r\n%s%s%s%s%s\r\n",
                      status, status_text(status), content_type, len, date,
                      be_request_edge_headers(req), req->set_cookie ? "Set-Cookie: " : "",
                      req->set_cookie ? req->set_cookie : "", req->set_cookie ? "\r\n" : "",
                      extra_headers ? extra_headers : "") ||
        (!separate && be_buf_append(&out, body, len))) {
        static const char fallback[] =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
        be_buf_cleanup(&out);
        write_all(req, fallback, sizeof fallback - 1);
        req->status = 503;
        return;
    }
    write_all(req, out.data, out.len);
    if (separate)
        write_all(req, body, len);
    be_buf_cleanup(&out);
}

static void send_body(struct be_request *req, int status, const char *content_type,
                      const char *body, size_t len)
{
    send_reply(req, status, content_type, NULL, body, len);
}

void be_reply_text(struct be_request *req, int status, const char *content_type, const char *text)
{
    send_body(req, status, content_type, text, strlen(text));
}

void be_reply_with_headers(struct be_request *req, int status, const char *content_type,
                           const char *extra_headers, const char *body, size_t len)
{
    send_reply(req, status, content_type, extra_headers, body, len);
}

void be_reply_attachment(struct be_request *req, const char *content_type, const char *filename,
                         const char *body, size_t len)
{
    /* The name goes into a header: anything but a plain name would let a caller's text
     * split the header, so it is refused here rather than trusted. */
    char header[160];
    size_t n = strlen(filename);
    if (n == 0 || n > 100 ||
        strspn(filename, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
            n) {
        be_reply_problem(req, 503, "unavailable", "Cannot name the file",
                         "The export could not be named; try again.", NULL, NULL);
        return;
    }
    snprintf(header, sizeof header, "Content-Disposition: attachment; filename=\"%s\"\r\n",
             filename);
    send_reply(req, 200, content_type, header, body, len);
}

static void reply_cjson_with(struct be_request *req, int status, const char *type, cJSON *body,
                             const char *extra_headers)
{
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    if (!text) {
        static const char fallback[] = "{\"type\":\"" BE_PROBLEM_BASE "unavailable\",\"title\":"
                                       "\"Out of memory\",\"status\":503}";
        send_body(req, 503, "application/problem+json", fallback, sizeof fallback - 1);
        return;
    }
    send_reply(req, status, type, extra_headers, text, strlen(text));
    free(text);
}

static void reply_cjson(struct be_request *req, int status, const char *type, cJSON *body)
{
    reply_cjson_with(req, status, type, body, NULL);
}

void be_reply_json(struct be_request *req, int status, cJSON *body)
{
    reply_cjson(req, status, "application/json", body);
}

void be_reply_problem(struct be_request *req, int status, const char *type, const char *title,
                      const char *detail, const char *field, cJSON *extra)
{
    char uri[128];
    snprintf(uri, sizeof uri, BE_PROBLEM_BASE "%s", type);
    cJSON *body = extra ? extra : cJSON_CreateObject();
    if (body) {
        cJSON_AddStringToObject(body, "type", uri);
        cJSON_AddStringToObject(body, "title", title);
        cJSON_AddNumberToObject(body, "status", status);
        cJSON_AddStringToObject(body, "detail", detail);
        if (field && field[0])
            cJSON_AddStringToObject(body, "field", field);
    }
    if (status != 503)
        be_metrics_rejection(type);
    /* A 429 that says when to come back says it in Retry-After too (RFC 9110 10.2.3),
     * which HTTP clients and proxies read without knowing the problem's members. */
    char retry[48] = "";
    const cJSON *after = body ? cJSON_GetObjectItemCaseSensitive(body, "retry_after_s") : NULL;
    if (status == 429 && cJSON_IsNumber(after) && after->valuedouble >= 0 &&
        after->valuedouble < 1e9)
        snprintf(retry, sizeof retry, "Retry-After: %ld\r\n", (long)after->valuedouble);
    reply_cjson_with(req, status, "application/problem+json", body, retry[0] ? retry : NULL);
}

void be_reply_invalid(struct be_request *req, const struct cf_error_detail *detail)
{
    if (detail->code == CF_EJSON)
        be_reply_problem(req, 400, "malformed-json", "The body is not valid JSON", detail->message,
                         NULL, NULL);
    else if (detail->code == CF_ETOOBIG)
        be_reply_problem(req, 413, "too-large", "The body is too large", detail->message, NULL,
                         NULL);
    else
        be_reply_problem(req, 422, "validation", "A field is not valid", detail->message,
                         detail->field, NULL);
}

void be_reply_query_invalid(struct be_request *req, const struct cf_error_detail *detail)
{
    be_reply_problem(req, 400, "validation", "A query parameter is not valid", detail->message,
                     detail->field, NULL);
}

void be_reply_server_fault(struct be_request *req, const char *what)
{
    cJSON *fields = cJSON_CreateObject();
    if (fields) {
        cJSON_AddStringToObject(fields, "route", req->route ? req->route : "");
        cJSON_AddStringToObject(fields, "what", what);
    }
    be_log("error", "server fault", fields);
    be_reply_problem(req, 503, "unavailable", "The server cannot answer now",
                     "An internal step of the server failed; nothing was stored. Try again in a "
                     "moment.",
                     NULL, NULL);
}
