/* The change feed (GET /api/v1/changes): every change to visits, corrections,
 * registers, certificates and card bindings in commit order, read with an opaque cursor
 * the consumer stores (sql/0016_changes_webhooks.sql writes and numbers the changes;
 * backend/README.md, "Change feed and webhooks", says why there are no gaps). The cursor
 * helpers are pure. */
#ifndef BE_FEED_H
#define BE_FEED_H

#include <stddef.h>

#include "be/router.h"

#define BE_FEED_CURSOR_MAX 32 /* bytes of a cursor's text, NUL included */

/* A cursor's text ("" or NULL: from the beginning) -> the last position the consumer
 * holds (0 from the beginning). Returns 0, or -1 when the text is not a cursor this
 * server gave out. Pure. */
int be_feed_cursor_parse(const char *text, long long *position);
/* The cursor for "everything up to position" into out (BE_FEED_CURSOR_MAX bytes). */
void be_feed_cursor_format(long long position, char out[BE_FEED_CURSOR_MAX]);

extern const struct be_module be_feed_module;

#endif
