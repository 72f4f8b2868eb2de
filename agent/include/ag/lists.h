/* The cached lists the worker chooses from, shared by `recipients`, `plans` and the
 * terminal UI: planned visits in time order with what became of each on this
 * terminal, and the ids of the recipients held. */
#ifndef AG_LISTS_H
#define AG_LISTS_H

#include <stddef.h>

#include "ag/reference.h"
#include "ag/store.h"
#include "cf/uuid.h"

struct ag_plan_entry {
    struct ag_plan plan;
    enum ag_visit_state state; /* AG_VISIT_NONE: not begun on this terminal */
    char recipient_name[AG_NAME_MAX + 1];
};

/* Every cached plan, sorted by planned start. *out is malloc'd (caller frees;
 * NULL when count is 0). */
int ag_plans_collect(struct ag_store *store, struct ag_plan_entry **out, size_t *count);

struct ag_id_list {
    char (*ids)[CF_UUID_TEXT_LEN + 1]; /* malloc'd; caller frees ids */
    size_t count, cap;
};

/* Ids of every cached recipient, in id order. */
int ag_recipient_ids(struct ag_store *store, struct ag_id_list *out);

/* Russian status of a plan for the worker ("запланирован", "идёт", ...). */
const char *ag_plan_status_text(enum ag_visit_state state);

/* Stable English name ("planned", "started", "ended", "rated", "cancelled",
 * "attempted"). */
const char *ag_visit_state_name(enum ag_visit_state state);

#endif
