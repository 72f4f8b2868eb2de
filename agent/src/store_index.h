/* What store.c asks of the store's indexes (store_index.c) inside its own
 * transactions. Not a public header. The indexes' public readers and the reference
 * cache are declared in ag/store.h. */
#ifndef AG_STORE_INDEX_H
#define AG_STORE_INDEX_H

#include "store_sqlite.h"

/* Keep the visit index in step with one appended event (inside append's
 * transaction, which the caller holds). */
int ag_store_index_event(struct ag_store *s, const struct cf_event *event);

#endif
