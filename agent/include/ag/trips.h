/* The mobile brigade trips a terminal holds (issue 16): read from the reference cache
 * (kind "trip") for `carefact-agent trip` and the touch UI's plan screen. */
#ifndef AG_TRIPS_H
#define AG_TRIPS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "ag/reference.h"
#include "ag/store.h"

#define AG_TRIPS_HELD_MAX 32

/* Every trip held, by day then title, into list (up to AG_TRIPS_HELD_MAX, each malloc'd:
 * free with ag_trips_free); a stored record that no longer reads is skipped. Returns 0 or
 * the store's error code. */
int ag_trips_collect(struct ag_store *store, struct ag_trip *list[AG_TRIPS_HELD_MAX],
                     size_t *count);
void ag_trips_free(struct ag_trip *list[], size_t count);

/* Print the trips (count of them) in Russian on stdout: a count line, then each trip's
 * day, title and state, its settlements with the people booked in each, its partners. */
void ag_trips_print(struct ag_trip *const list[], size_t count);

/* A trip as JSON (id, day, title, state, office, booking_info, settlements, appointments,
 * partners); caller frees with cJSON_Delete; NULL when out of memory. */
cJSON *ag_trip_to_json(const struct ag_trip *trip);

#endif
