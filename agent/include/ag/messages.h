/* What the worker is told: one Russian sentence per outcome of the store, the visit
 * workflow, sync and the reader, saying what happened and what to do. Stable
 * machine names come from cf_error_name (cf/error.h). */
#ifndef AG_MESSAGES_H
#define AG_MESSAGES_H

/* Never NULL; a code without its own sentence gets a general one. */
const char *ag_message(int code);

/* The Russian word form for a count: ag_plural(n, "событие", "события", "событий")
 * gives "событие" for 1, 21..., "события" for 2-4, 22-24..., "событий" otherwise. */
const char *ag_plural(unsigned long long n, const char *one, const char *few, const char *many);

#endif
