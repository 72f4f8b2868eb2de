/* Capped growable buffer (see be/buf.h). */
#include "be/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cf/error.h"

void be_buf_init(struct be_buf *buf, size_t max)
{
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    buf->max = max;
}

static int reserve(struct be_buf *buf, size_t extra)
{
    if (extra > buf->max - buf->len)
        return CF_ETOOBIG;
    size_t need = buf->len + extra + 1; /* + NUL */
    if (need <= buf->cap)
        return 0;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *grown = realloc(buf->data, cap);
    if (!grown)
        return CF_ENOMEM;
    buf->data = grown;
    buf->cap = cap;
    return 0;
}

int be_buf_reserve(struct be_buf *buf, size_t extra)
{
    return reserve(buf, extra);
}

int be_buf_append(struct be_buf *buf, const void *data, size_t len)
{
    int rc = reserve(buf, len);
    if (rc)
        return rc;
    if (len)
        memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
    return 0;
}

int be_buf_puts(struct be_buf *buf, const char *text)
{
    return be_buf_append(buf, text, strlen(text));
}

int be_buf_printf(struct be_buf *buf, const char *fmt, ...)
{
    /* Format straight into the free space; only a line longer than it is formatted
     * a second time (this sits on the ingest path: one call per column). */
    int rc = reserve(buf, 64 < buf->max - buf->len ? 64 : buf->max - buf->len);
    if (rc)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf->data + buf->len, buf->cap - buf->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return CF_EINVAL;
    if ((size_t)n >= buf->cap - buf->len) {
        rc = reserve(buf, (size_t)n);
        if (rc) {
            buf->data[buf->len] = '\0';
            return rc;
        }
        va_start(ap, fmt);
        vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    if ((size_t)n > buf->max - buf->len) {
        buf->data[buf->len] = '\0';
        return CF_ETOOBIG;
    }
    buf->len += (size_t)n;
    return 0;
}

void be_buf_reset(struct be_buf *buf)
{
    buf->len = 0;
    if (buf->data)
        buf->data[0] = '\0';
}

void be_buf_cleanup(struct be_buf *buf)
{
    if (!buf)
        return;
    free(buf->data);
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
}

int be_buf_json_string(struct be_buf *buf, const char *text)
{
    if (!text)
        return be_buf_append(buf, "null", 4);
    int rc = be_buf_append(buf, "\"", 1);
    /* Runs of plain bytes go in one append; the register document is mostly those. */
    const char *run = text;
    for (const char *p = text; !rc && *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc = be_buf_append(buf, run, (size_t)(p - run));
        run = p + 1;
        if (rc)
            break;
        switch (c) {
        case '"':
            rc = be_buf_append(buf, "\\\"", 2);
            break;
        case '\\':
            rc = be_buf_append(buf, "\\\\", 2);
            break;
        case '\b':
            rc = be_buf_append(buf, "\\b", 2);
            break;
        case '\f':
            rc = be_buf_append(buf, "\\f", 2);
            break;
        case '\n':
            rc = be_buf_append(buf, "\\n", 2);
            break;
        case '\r':
            rc = be_buf_append(buf, "\\r", 2);
            break;
        case '\t':
            rc = be_buf_append(buf, "\\t", 2);
            break;
        default:
            rc = be_buf_printf(buf, "\\u%04x", c);
            break;
        }
    }
    if (!rc)
        rc = be_buf_append(buf, run, strlen(run));
    if (!rc)
        rc = be_buf_append(buf, "\"", 1);
    return rc;
}
