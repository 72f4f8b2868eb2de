/* `carefact-agent trip`: the mobile brigade trips this terminal holds for offline work
 * (issue 16; sql/0031 trip_reference_items sends the trips of the next days its worker
 * goes on): the day, the settlements in order with their times and who is booked in
 * each (time, person, phone, what for), the partner organisations coming along. Read
 * from the store only: it works with the server out of reach. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag/cli.h"
#include "ag/commands.h"
#include "ag/messages.h"
#include "ag/reference.h"
#include "ag/trips.h"
#include "ag/visit_commands.h"
#include "cf/uuid.h"

#define N(opts) (sizeof opts / sizeof opts[0])

struct trips {
    struct ag_trip **list;
    size_t count;
};

static int collect_trip(void *ctx, const char *id, const char *body, uint64_t basis_seq)
{
    struct trips *c = ctx;
    struct cf_error_detail d = {0};
    (void)id;
    (void)basis_seq;
    if (c->count == AG_TRIPS_HELD_MAX)
        return 0; /* more than a month of trips: the first by id are shown */
    struct ag_trip *t = malloc(sizeof *t);
    if (!t)
        return CF_ENOMEM;
    if (ag_trip_parse(body, t, &d)) { /* damaged since it was checked: skipped */
        free(t);
        return 0;
    }
    c->list[c->count++] = t;
    return 0;
}

static int by_day(const void *a, const void *b)
{
    const struct ag_trip *x = *(const struct ag_trip *const *)a;
    const struct ag_trip *y = *(const struct ag_trip *const *)b;
    int c = strcmp(x->day, y->day);
    return c ? c : strcmp(x->title, y->title);
}

int ag_trips_collect(struct ag_store *store, struct ag_trip *list[AG_TRIPS_HELD_MAX], size_t *count)
{
    struct trips c = {list, 0};
    int rc = ag_store_ref_each(store, "trip", collect_trip, &c);
    if (rc) {
        ag_trips_free(list, c.count);
        c.count = 0;
    }
    qsort(list, c.count, sizeof list[0], by_day);
    *count = c.count;
    return rc;
}

void ag_trips_free(struct ag_trip *list[], size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(list[i]);
}

static const char *kind_text(const char *kind)
{
    return strcmp(kind, "aid_handover") == 0 ? AG_MSG_TRIP_KIND_AID : AG_MSG_TRIP_KIND_SURVEY;
}

static void print_trip(const struct ag_trip *t)
{
    printf(AG_MSG_TRIP_HEAD, t->day + 8, t->day + 5, t->day, t->title,
           strcmp(t->state, "announced") == 0 ? AG_MSG_TRIP_ANNOUNCED : AG_MSG_TRIP_PLANNED);
    if (t->office[0] || t->booking_info[0])
        printf(AG_MSG_TRIP_OFFICE, t->office, t->booking_info);
    for (size_t i = 0; i < t->settlement_count; i++) {
        const struct ag_trip_settlement *s = &t->settlements[i];
        printf(AG_MSG_TRIP_SETTLEMENT, s->position, s->arrives, s->leaves, s->name,
               s->place[0] ? " (" : "", s->place, s->place[0] ? ")" : "");
        for (size_t k = 0; k < t->appointment_count; k++) {
            const struct ag_trip_appointment *a = &t->appointments[k];
            if (a->settlement == s->position)
                printf(AG_MSG_TRIP_APPOINTMENT, a->time, a->person_name, a->phone,
                       kind_text(a->kind));
        }
    }
    for (size_t i = 0; i < t->partner_count; i++)
        printf(AG_MSG_TRIP_PARTNER, t->partners[i].name, t->partners[i].activity[0] ? " — " : "",
               t->partners[i].activity);
}

cJSON *ag_trip_to_json(const struct ag_trip *t)
{
    char id[CF_UUID_TEXT_LEN + 1];
    cf_uuid_to_text(t->id, id);
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "day", t->day);
    cJSON_AddStringToObject(o, "title", t->title);
    cJSON_AddStringToObject(o, "state", t->state);
    cJSON_AddStringToObject(o, "office", t->office);
    cJSON_AddStringToObject(o, "booking_info", t->booking_info);
    cJSON *settlements = cJSON_AddArrayToObject(o, "settlements");
    for (size_t i = 0; settlements && i < t->settlement_count; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddNumberToObject(s, "position", t->settlements[i].position);
        cJSON_AddStringToObject(s, "name", t->settlements[i].name);
        cJSON_AddStringToObject(s, "place", t->settlements[i].place);
        cJSON_AddStringToObject(s, "arrives", t->settlements[i].arrives);
        cJSON_AddStringToObject(s, "leaves", t->settlements[i].leaves);
        cJSON_AddItemToArray(settlements, s);
    }
    cJSON *appointments = cJSON_AddArrayToObject(o, "appointments");
    for (size_t i = 0; appointments && i < t->appointment_count; i++) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddNumberToObject(a, "settlement", t->appointments[i].settlement);
        cJSON_AddStringToObject(a, "time", t->appointments[i].time);
        cJSON_AddStringToObject(a, "kind", t->appointments[i].kind);
        cJSON_AddStringToObject(a, "person_name", t->appointments[i].person_name);
        cJSON_AddStringToObject(a, "phone", t->appointments[i].phone);
        cJSON_AddItemToArray(appointments, a);
    }
    cJSON *partners = cJSON_AddArrayToObject(o, "partners");
    for (size_t i = 0; partners && i < t->partner_count; i++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "name", t->partners[i].name);
        cJSON_AddStringToObject(p, "activity", t->partners[i].activity);
        cJSON_AddItemToArray(partners, p);
    }
    return o;
}

void ag_trips_print(struct ag_trip *const list[], size_t count)
{
    printf(AG_MSG_TRIP_COUNT, count);
    for (size_t i = 0; i < count; i++)
        print_trip(list[i]);
    fflush(stdout);
}

static const char trip_usage[] =
    "usage: carefact-agent trip [--store FILE] [--json]\n"
    "  The mobile brigade trips of the next days this terminal's worker goes on: settlements\n"
    "  and times, who is booked where, the partner organisations. Works offline.\n";

int ag_cmd_trip(int argc, char **argv)
{
    struct ag_option o[] = {{"--store", true, false, 0, {0}}, {"--json", false, false, 0, {0}}};
    struct ag_cli cli = {"trip", trip_usage, false};
    struct ag_store *store = NULL;
    struct ag_trip *list[AG_TRIPS_HELD_MAX];
    size_t count = 0;
    int rc = ag_cli_parse(&cli, argc, argv, o, N(o));
    if (!rc)
        rc = ag_cli_open_store(&cli, ag_cli_value(o, N(o), "--store"), &store);
    int src = rc ? 0 : ag_trips_collect(store, list, &count);
    if (src)
        rc = ag_cli_fail(&cli, src, NULL);
    if (rc)
        goto out;
    if (cli.json) {
        cJSON *root = cJSON_CreateObject();
        cJSON *trips = root ? cJSON_AddArrayToObject(root, "trips") : NULL;
        for (size_t i = 0; trips && i < count; i++)
            cJSON_AddItemToArray(trips, ag_trip_to_json(list[i]));
        rc = ag_cli_print_json(root);
        goto out;
    }
    ag_trips_print(list, count);
    rc = AG_EXIT_OK;
out:
    ag_trips_free(list, count);
    ag_store_close(store);
    return rc < 0 ? AG_EXIT_OK : rc;
}
