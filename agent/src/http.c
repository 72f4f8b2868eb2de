/* The agent's HTTP client over libcurl (see ag/http.h): the only file that knows
 * curl. One easy handle per client so batches of a sync share a connection; the
 * pinned CA is given to curl as a blob and the system's CA path is switched off,
 * so a certificate from any other authority fails the request. */
#include "ag/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ag/clock.h"
#include "cf/batch.h"
#include "cf/error.h"
#include "cf/uuid.h"

struct ag_http {
    CURL *curl;
    char base_url[512];
    char *ca_pem; /* owned; NULL for http */
    size_t max_body;
    bool sign; /* sign every request as device (ag_http_sign_as) */
    char device[CF_UUID_TEXT_LEN + 1];
    uint8_t key[CF_ED25519_KEY_LEN];
};

struct sink {
    char *buf;
    size_t len, cap;
    bool too_big;
};

/* ==== URL ==== */

static bool loopback_host(const char *host)
{
    struct in_addr v4;
    if (strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
        return true;
    return inet_pton(AF_INET, host, &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

int ag_http_check_url(const char *url, bool *https, char *error, size_t error_size)
{
    char host[256];
    const char *rest;
    size_t len = url ? strlen(url) : 0;
    if (len == 0 || len > 500) {
        snprintf(error, error_size, "the server URL must be 1..500 characters");
        return CF_EINVAL;
    }
    if (strncmp(url, "https://", 8) == 0) {
        *https = true;
        rest = url + 8;
    } else if (strncmp(url, "http://", 7) == 0) {
        *https = false;
        rest = url + 7;
    } else {
        snprintf(error, error_size,
                 "the server URL must start with https:// (or http:// for a "
                 "server on this machine)");
        return CF_EINVAL;
    }
    size_t host_len = rest[0] == '[' ? strcspn(rest, "]") + 1 : strcspn(rest, ":/");
    if (host_len == 0 || host_len >= sizeof host || strcspn(rest, "@?#") < strlen(rest)) {
        snprintf(error, error_size, "the server URL must be scheme://host[:port]");
        return CF_EINVAL;
    }
    memcpy(host, rest, host_len);
    host[host_len] = '\0';
    const char *after = rest + host_len;
    if (*after == ':') {
        char *end = NULL;
        long port = strtol(after + 1, &end, 10);
        if (end == after + 1 || port < 1 || port > 65535) {
            snprintf(error, error_size, "the port in the server URL must be 1..65535");
            return CF_EINVAL;
        }
        after = end;
    }
    if (*after && strcmp(after, "/") != 0) {
        snprintf(error, error_size, "the server URL must have no path: scheme://host[:port]");
        return CF_EINVAL;
    }
    if (!*https && !loopback_host(host)) {
        snprintf(error, error_size,
                 "plain http is allowed only to this machine (127.0.0.1, ::1, localhost); "
                 "use https:// with the server's CA");
        return CF_EINVAL;
    }
    return 0;
}

/* ==== Client ==== */

int ag_http_new(const char *base_url, const char *ca_pem, size_t max_body, struct ag_http **out)
{
    char error[200];
    bool https = false;
    *out = NULL;
    if (ag_http_check_url(base_url, &https, error, sizeof error) || (https && !ca_pem[0]) ||
        max_body < 1024)
        return CF_EINVAL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return CF_ENOMEM;
    struct ag_http *http = calloc(1, sizeof *http);
    if (!http)
        return CF_ENOMEM;
    snprintf(http->base_url, sizeof http->base_url, "%s", base_url);
    size_t n = strlen(http->base_url);
    if (n && http->base_url[n - 1] == '/')
        http->base_url[n - 1] = '\0';
    http->max_body = max_body;
    http->curl = curl_easy_init();
    if (https)
        http->ca_pem = strdup(ca_pem);
    if (!http->curl || (https && !http->ca_pem)) {
        ag_http_free(http);
        return CF_ENOMEM;
    }
    CURL *c = http->curl;
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)AG_HTTP_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)AG_HTTP_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "carefact-agent/1");
    if (https) {
        struct curl_blob blob = {
            .data = http->ca_pem, .len = strlen(http->ca_pem), .flags = CURL_BLOB_COPY};
        /* NOTE: only the pinned CA: no system CA file, no CA path. */
        curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
        curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    }
    *out = http;
    return 0;
}

void ag_http_sign_as(struct ag_http *http, const uint8_t device_id[CF_UUID_LEN],
                     const uint8_t private_key[CF_ED25519_KEY_LEN])
{
    cf_uuid_to_text(device_id, http->device);
    memcpy(http->key, private_key, CF_ED25519_KEY_LEN);
    http->sign = true;
}

void ag_http_free(struct ag_http *http)
{
    if (!http)
        return;
    if (http->curl)
        curl_easy_cleanup(http->curl);
    free(http->ca_pem);
    OPENSSL_cleanse(http->key, sizeof http->key);
    free(http);
}

/* ==== One request ==== */

static size_t on_body(char *data, size_t size, size_t count, void *userdata)
{
    struct sink *s = userdata;
    size_t n = size * count;
    if (s->len + n > s->cap) {
        s->too_big = true;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    if (!s->buf && !(s->buf = malloc(s->cap + 1)))
        return 0;
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    return n;
}

static size_t on_header(char *data, size_t size, size_t count, void *userdata)
{
    struct ag_http_reply *reply = userdata;
    size_t n = size * count;
    char line[128];
    if (n > 5 && n < sizeof line && strncasecmp(data, "Date:", 5) == 0) {
        memcpy(line, data + 5, n - 5);
        line[n - 5] = '\0';
        time_t t = curl_getdate(line, NULL);
        if (t > 0)
            reply->date_ms = (int64_t)t * 1000;
    }
    return n;
}

static int map_curl_error(CURLcode code, const struct sink *s)
{
    if (s->too_big)
        return CF_ETOOBIG;
    switch (code) {
    case CURLE_OUT_OF_MEMORY:
        return CF_ENOMEM;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        return CF_ETLS;
    default:
        return CF_ENETWORK;
    }
}

int ag_http_request(struct ag_http *http, const char *method, const char *path, const char *body,
                    size_t body_len, struct ag_http_reply *reply, char *error, size_t error_size)
{
    char url[1024], curl_error[CURL_ERROR_SIZE] = "";
    struct sink sink = {.cap = http->max_body};
    struct curl_slist *headers = NULL;
    memset(reply, 0, sizeof *reply);
    if (error_size)
        error[0] = '\0';
    if (snprintf(url, sizeof url, "%s%s", http->base_url, path) >= (int)sizeof url)
        return CF_EINVAL;
    CURL *c = http->curl;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_error);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, reply);
    headers = curl_slist_append(headers, "Accept: application/json, application/problem+json");
    if (strcmp(method, "POST") == 0) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        /* No "Expect: 100-continue" round trip before each batch. */
        headers = curl_slist_append(headers, "Expect:");
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    if (http->sign) {
        /* Who is asking, on every request (backend/README.md, "Device authentication"). */
        char sig[CF_REQUEST_SIG_TEXT_LEN + 1], line[160];
        int64_t now = ag_wall_now_ms();
        int rc = cf_request_sign(http->key, http->device, method, path, body, body ? body_len : 0,
                                 now, sig);
        if (rc) {
            curl_slist_free_all(headers);
            return rc;
        }
        snprintf(line, sizeof line, CF_REQUEST_HDR_DEVICE ": %s", http->device);
        headers = curl_slist_append(headers, line);
        snprintf(line, sizeof line, CF_REQUEST_HDR_TIME ": %lld", (long long)now);
        headers = curl_slist_append(headers, line);
        snprintf(line, sizeof line, CF_REQUEST_HDR_SIGNATURE ": %s", sig);
        headers = curl_slist_append(headers, line);
    }
    if (!headers)
        return CF_ENOMEM;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    reply->sent_ms = ag_wall_now_ms();
    CURLcode code = curl_easy_perform(c);
    reply->received_ms = ag_wall_now_ms();
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    if (code != CURLE_OK) {
        int rc = map_curl_error(code, &sink);
        snprintf(error, error_size, "%s", curl_error[0] ? curl_error : curl_easy_strerror(code));
        free(sink.buf);
        memset(reply, 0, sizeof *reply);
        return rc;
    }
    char *type = NULL;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply->status);
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
    snprintf(reply->content_type, sizeof reply->content_type, "%s", type ? type : "");
    if (!sink.buf && !(sink.buf = malloc(1)))
        return CF_ENOMEM;
    sink.buf[sink.len] = '\0';
    reply->body = sink.buf;
    reply->body_len = sink.len;
    return 0;
}

void ag_http_reply_cleanup(struct ag_http_reply *reply)
{
    if (!reply)
        return;
    free(reply->body);
    reply->body = NULL;
    reply->body_len = 0;
}
