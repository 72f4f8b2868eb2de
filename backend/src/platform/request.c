/* The request as handlers see it (see be/request.h): its path parameters by name and
 * what it may ask of its connection, through the transport the server edge filled. */
#include "be/request.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "cf/uuid.h"

const char *be_param(const struct be_request *req, const char *name)
{
    for (size_t i = 0; i < req->param_count; i++)
        if (strcmp(req->params[i].name, name) == 0)
            return req->params[i].value;
    return "";
}

bool be_param_uuid(const struct be_request *req, const char *name, char out[37])
{
    uint8_t id[CF_UUID_LEN];
    if (cf_uuid_from_text(be_param(req, name), id))
        return false;
    cf_uuid_to_text(id, out);
    return true;
}

const char *be_request_header(const struct be_request *req, const char *name)
{
    return req->io ? req->io->header(req->conn, name) : NULL;
}

static const char *peer_addr(const struct be_request *req)
{
    const char *addr = req->io && req->io->remote_addr ? req->io->remote_addr(req->conn) : NULL;
    return addr ? addr : "";
}

const char *be_request_remote_addr(const struct be_request *req)
{
    return req->client_addr[0] ? req->client_addr : peer_addr(req);
}

void be_request_resolve_client(struct be_request *req)
{
    req->client_addr[0] = '\0';
    const char *forwarded = be_request_header(req, "X-Forwarded-For");
    if (!forwarded || !be_config_proxy_trusted(req->config, peer_addr(req)))
        return;
    const char *last = strrchr(forwarded, ',');
    const char *a = last ? last + 1 : forwarded, *b = a + strlen(a);
    while (a < b && (*a == ' ' || *a == '\t'))
        a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
        b--;
    char text[INET6_ADDRSTRLEN];
    unsigned char ip[16];
    if ((size_t)(b - a) >= sizeof text)
        return;
    memcpy(text, a, (size_t)(b - a));
    text[b - a] = '\0';
    /* only an address: a proxy that forwards garbage leaves the peer's */
    if (inet_pton(AF_INET, text, ip) == 1 || inet_pton(AF_INET6, text, ip) == 1)
        snprintf(req->client_addr, sizeof req->client_addr, "%s", text);
}

bool be_request_is_tls(const struct be_request *req)
{
    return req->io && req->io->is_tls(req->conn);
}

/* NOTE: HSTS only under TLS: over plain HTTP it would be ignored by browsers and
 * tell a man in the middle nothing; behind a TLS-terminating proxy the proxy sends it. */
const char *be_request_edge_headers(const struct be_request *req)
{
    bool tls = be_request_is_tls(req);
    if (tls && req->close_connection)
        return "Strict-Transport-Security: max-age=31536000\r\nConnection: close\r\n";
    if (tls)
        return "Strict-Transport-Security: max-age=31536000\r\n";
    return req->close_connection ? "Connection: close\r\n" : "";
}

int be_request_write(const struct be_request *req, const void *data, size_t len)
{
    if (!req->io)
        return -1;
    const char *edge = be_request_edge_headers(req);
    const char *line_end =
        len > 7 && memcmp(data, "HTTP/1.", 7) == 0 && *edge ? memchr(data, '\n', len) : NULL;
    if (!line_end)
        return req->io->write(req->conn, data, len);
    /* One write, as the head was meant to go (see reply.c on Nagle). */
    size_t first = (size_t)(line_end - (const char *)data) + 1, extra = strlen(edge);
    char *head = malloc(len + extra);
    if (!head)
        return -1;
    memcpy(head, data, first);
    memcpy(head + first, edge, extra);
    memcpy(head + first + extra, (const char *)data + first, len - first);
    int n = req->io->write(req->conn, head, len + extra);
    free(head);
    return n == (int)(len + extra) ? (int)len : -1;
}
