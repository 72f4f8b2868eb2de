/* `carefact-agent recipients` and `plans`: what the terminal holds for offline work,
 * as the worker needs it -- who, where, which certificate, which services are left,
 * and today's planned visits with what became of each on this terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag/cli.h"
#include "ag/clock.h"
#include "ag/commands.h"
#include "ag/lists.h"
#include "ag/messages.h"
#include "ag/visit.h"
#include "ag/visit_commands.h"
#include "ag/visit_output.h"
#include "cf/uuid.h"

#define N(opts) (sizeof opts / sizeof opts[0])

/* ==== Collecting (ag/lists.h) ==== */

struct collect {
    struct ag_store *store;
    int64_t now_ms;
    struct ag_plan_entry *plans;
    size_t count, cap;
    int error;
};

const char *ag_plan_status_text(enum ag_visit_state state)
{
    switch (state) {
    case AG_VISIT_STARTED:
        return AG_MSG_STATE_STARTED;
    case AG_VISIT_ENDED:
        return AG_MSG_STATE_ENDED;
    case AG_VISIT_RATED:
        return AG_MSG_STATE_RATED;
    case AG_VISIT_CANCELLED:
        return AG_MSG_STATE_CANCELLED;
    case AG_VISIT_ATTEMPT:
        return AG_MSG_STATE_ATTEMPT;
    default:
        return AG_MSG_STATE_PLANNED;
    }
}

static int collect_plan(void *ctx, const char *id, const char *body, uint64_t basis_seq)
{
    struct collect *c = ctx;
    (void)id;
    (void)basis_seq;
    if (c->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct ag_plan_entry *grown = realloc(c->plans, cap * sizeof *grown);
        if (!grown)
            return CF_ENOMEM;
        c->plans = grown;
        c->cap = cap;
    }
    struct ag_plan_entry *e = &c->plans[c->count];
    memset(e, 0, sizeof *e);
    if (ag_plan_parse(body, &e->plan, NULL))
        return 0; /* a damaged record is skipped here; status --verify reports the store */
    struct ag_visit_row row;
    if (ag_store_visit_find(c->store, AG_FIND_PLAN, e->plan.id, &row) == 0)
        e->state = row.state;
    struct ag_recipient *r = malloc(sizeof *r);
    char rid[CF_UUID_TEXT_LEN + 1], *rbody = NULL;
    cf_uuid_to_text(e->plan.recipient_id, rid);
    if (r && ag_store_ref_get(c->store, "recipient", rid, &rbody, NULL) == 0 && rbody &&
        ag_recipient_parse(rbody, r, NULL) == 0)
        snprintf(e->recipient_name, sizeof e->recipient_name, "%s", r->full_name);
    else
        snprintf(e->recipient_name, sizeof e->recipient_name, AG_MSG_LIST_NOT_IN_REFERENCE);
    free(rbody);
    free(r);
    c->count++;
    return 0;
}

static int by_start(const void *a, const void *b)
{
    const struct ag_plan_entry *x = a, *y = b;
    return x->plan.planned_start_ms < y->plan.planned_start_ms   ? -1
           : x->plan.planned_start_ms > y->plan.planned_start_ms ? 1
                                                                 : 0;
}

int ag_plans_collect(struct ag_store *store, struct ag_plan_entry **out, size_t *count)
{
    struct collect c = {.store = store};
    *out = NULL;
    *count = 0;
    int rc = ag_store_ref_each(store, "plan", collect_plan, &c);
    if (rc) {
        free(c.plans);
        return rc;
    }
    if (c.count)
        qsort(c.plans, c.count, sizeof *c.plans, by_start);
    *out = c.plans;
    *count = c.count;
    return 0;
}

static int collect_id(void *ctx, const char *id, const char *body, uint64_t basis_seq)
{
    struct ag_id_list *list = ctx;
    (void)body;
    (void)basis_seq;
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 32;
        char(*grown)[CF_UUID_TEXT_LEN + 1] = realloc(list->ids, cap * sizeof *grown);
        if (!grown)
            return CF_ENOMEM;
        list->ids = grown;
        list->cap = cap;
    }
    snprintf(list->ids[list->count++], CF_UUID_TEXT_LEN + 1, "%s", id);
    return 0;
}

int ag_recipient_ids(struct ag_store *store, struct ag_id_list *out)
{
    memset(out, 0, sizeof *out);
    int rc = ag_store_ref_each(store, "recipient", collect_id, out);
    if (rc) {
        free(out->ids);
        memset(out, 0, sizeof *out);
    }
    return rc;
}

/* ==== recipients ==== */

static const char recipients_usage[] =
    "usage: carefact-agent recipients [--store FILE] [--json]\n"
    "  The recipients this terminal knows, with their certificates and the services left.\n";

int ag_cmd_recipients(int argc, char **argv)
{
    struct ag_option o[] = {{"--store", true, false, 0, {0}}, {"--json", false, false, 0, {0}}};
    struct ag_cli cli = {"recipients", recipients_usage, false};
    struct ag_store *store = NULL;
    struct ag_id_list ids = {0};
    struct ag_recipient_view *view = malloc(sizeof *view);
    int rc = view ? ag_cli_parse(&cli, argc, argv, o, N(o)) : AG_EXIT_FAILED;
    if (!rc)
        rc = ag_cli_open_store(&cli, ag_cli_value(o, N(o), "--store"), &store);
    int src = rc ? 0 : ag_recipient_ids(store, &ids);
    if (src)
        rc = ag_cli_fail(&cli, src, NULL);
    if (rc)
        goto out;
    cJSON *root = cli.json ? cJSON_CreateObject() : NULL;
    cJSON *list = root ? cJSON_AddArrayToObject(root, "recipients") : NULL;
    if (!cli.json)
        printf(AG_MSG_LIST_RECIPIENTS, ids.count);
    int64_t now = ag_wall_now_ms();
    for (size_t i = 0; i < ids.count; i++) {
        uint8_t id[CF_UUID_LEN];
        if (cf_uuid_from_text(ids.ids[i], id) || ag_recipient_view(store, id, now, view))
            continue;
        if (cli.json) {
            cJSON *item = ag_view_json(view);
            if (item && list)
                cJSON_AddItemToArray(list, item);
            else
                cJSON_Delete(item);
        } else {
            printf("\n[%s]\n", ids.ids[i]);
            ag_print_view(stdout, view, false);
        }
    }
    rc = cli.json ? ag_cli_print_json(root) : AG_EXIT_OK;
out:
    free(ids.ids);
    free(view);
    ag_store_close(store);
    return rc < 0 ? AG_EXIT_OK : rc;
}

/* ==== plans ==== */

static const char plans_usage[] = "usage: carefact-agent plans [--store FILE] [--json]\n"
                                  "  The planned visits of today and tomorrow, in time order.\n";

int ag_cmd_plans(int argc, char **argv)
{
    struct ag_option o[] = {{"--store", true, false, 0, {0}}, {"--json", false, false, 0, {0}}};
    struct ag_cli cli = {"plans", plans_usage, false};
    struct ag_store *store = NULL;
    struct ag_plan_entry *plans = NULL;
    size_t count = 0;
    int rc = ag_cli_parse(&cli, argc, argv, o, N(o));
    if (!rc)
        rc = ag_cli_open_store(&cli, ag_cli_value(o, N(o), "--store"), &store);
    int src = rc ? 0 : ag_plans_collect(store, &plans, &count);
    if (src)
        rc = ag_cli_fail(&cli, src, NULL);
    if (rc)
        goto out;
    cJSON *root = cli.json ? cJSON_CreateObject() : NULL;
    cJSON *list = root ? cJSON_AddArrayToObject(root, "plans") : NULL;
    if (!cli.json)
        printf(AG_MSG_LIST_PLANS, count);
    for (size_t i = 0; i < count; i++) {
        const struct ag_plan_entry *e = &plans[i];
        char id[CF_UUID_TEXT_LEN + 1], rid[CF_UUID_TEXT_LEN + 1], when[32], date[11], at[6];
        cf_uuid_to_text(e->plan.id, id);
        cf_uuid_to_text(e->plan.recipient_id, rid);
        cf_time_format_utc(e->plan.planned_start_ms, when, sizeof when);
        ag_local_date(e->plan.planned_start_ms, date);
        ag_local_time(e->plan.planned_start_ms, at);
        if (cli.json) {
            cJSON *item = cJSON_CreateObject();
            cJSON *codes = item ? cJSON_AddArrayToObject(item, "service_codes") : NULL;
            for (size_t k = 0; codes && k < e->plan.service_count; k++)
                cJSON_AddItemToArray(codes, cJSON_CreateString(e->plan.service_codes[k]));
            cJSON_AddStringToObject(item, "id", id);
            cJSON_AddStringToObject(item, "planned_start", when);
            cJSON_AddStringToObject(item, "recipient_id", rid);
            cJSON_AddStringToObject(item, "recipient_name", e->recipient_name);
            cJSON_AddStringToObject(item, "status",
                                    e->state ? ag_visit_state_name(e->state) : "planned");
            if (!list || !cJSON_AddItemToArray(list, item))
                cJSON_Delete(item);
        } else {
            printf(AG_MSG_LIST_PLAN_LINE, date, at, e->recipient_name,
                   ag_plan_status_text(e->state), id);
        }
    }
    rc = cli.json ? ag_cli_print_json(root) : AG_EXIT_OK;
out:
    free(plans);
    ag_store_close(store);
    return rc < 0 ? AG_EXIT_OK : rc;
}

const char *ag_visit_state_name(enum ag_visit_state state)
{
    switch (state) {
    case AG_VISIT_STARTED:
        return "started";
    case AG_VISIT_ENDED:
        return "ended";
    case AG_VISIT_RATED:
        return "rated";
    case AG_VISIT_CANCELLED:
        return "cancelled";
    case AG_VISIT_ATTEMPT:
        return "attempted";
    default:
        return "planned";
    }
}
