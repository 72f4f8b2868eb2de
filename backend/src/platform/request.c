/* The request as handlers see it (see be/request.h): its path parameters by name and
 * what it may ask of its connection, through the transport the server edge filled. */
#include "be/request.h"

#include <string.h>

const char *be_param(const struct be_request *req, const char *name)
{
    for (size_t i = 0; i < req->param_count; i++)
        if (strcmp(req->params[i].name, name) == 0)
            return req->params[i].value;
    return "";
}

const char *be_request_header(const struct be_request *req, const char *name)
{
    return req->io ? req->io->header(req->conn, name) : NULL;
}

const char *be_request_remote_addr(const struct be_request *req)
{
    const char *addr = req->io && req->io->remote_addr ? req->io->remote_addr(req->conn) : NULL;
    return addr ? addr : "";
}

bool be_request_is_tls(const struct be_request *req)
{
    return req->io && req->io->is_tls(req->conn);
}

int be_request_write(const struct be_request *req, const void *data, size_t len)
{
    return req->io ? req->io->write(req->conn, data, len) : -1;
}
