/* A growable byte buffer with a hard cap (curl's dynbuf idea): COPY data, response
 * bodies, metrics text. Appends fail cleanly instead of growing without bound. */
#ifndef BE_BUF_H
#define BE_BUF_H

#include <stddef.h>

struct be_buf {
    char *data; /* owned; NUL-terminated after every successful append */
    size_t len;
    size_t cap;
    size_t max; /* hard cap on len */
};

/* Empty buffer that may hold up to max bytes. Nothing is allocated yet. */
void be_buf_init(struct be_buf *buf, size_t max);

/* Make room for extra more bytes now (one allocation for a text whose size is known
 * roughly). Returns 0, CF_ETOOBIG (past the cap; nothing changes) or CF_ENOMEM. */
int be_buf_reserve(struct be_buf *buf, size_t extra);

/* Append len bytes. Returns 0, CF_ETOOBIG (the cap would be passed; nothing is
 * appended) or CF_ENOMEM. */
int be_buf_append(struct be_buf *buf, const void *data, size_t len);

/* Append NUL-terminated text. Same returns. */
int be_buf_puts(struct be_buf *buf, const char *text);

/* Append formatted text. Same returns. */
int be_buf_printf(struct be_buf *buf, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Append text (NUL-terminated, UTF-8, borrowed) as a JSON string: quoted, with '"',
 * '\\' and the control characters escaped as PostgreSQL's and cJSON's writers do
 * (\b \f \n \r \t, else \u00XX); NULL appends null. Same returns. */
int be_buf_json_string(struct be_buf *buf, const char *text);

/* Forget the contents, keep the memory. */
void be_buf_reset(struct be_buf *buf);

/* Free the memory and empty the buffer. Accepts NULL. */
void be_buf_cleanup(struct be_buf *buf);

#endif
