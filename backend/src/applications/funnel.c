/* The applications' funnel (issue 15): per office and month, the applications filed, how
 * many were verified, approved and had their first card-confirmed visit, returns,
 * refusals and withdrawals, and the days from filing to the first visit (median, p90).
 * The rule is one SQL function, application_funnel (sql/0025_application_funnel.sql);
 * who counts is the applications' row-level security (the front office its office, the
 * back office its region, oversight all). See backend/README.md, "Applications: the
 * funnel". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be/applications.h"
#include "be/db.h"
#include "be/query.h"
#include "be/register.h"
#include "be/reply.h"
#include "cf/json.h"
#include "cf/uuid.h"
#include "sql/funnel_sql.h"

bool be_funnel_month_valid(const char *month)
{
    char first_day[11];
    return be_register_month_parse(month, first_day); /* the registers' months: one rule */
}

struct funnel {
    char first_day[11]; /* YYYY-MM-01 */
    char office[CF_UUID_TEXT_LEN + 1]; /* "" for every office in scope */
    char *json; /* the answer (heap) */
};

/* application_funnel reads the visits of the counted applications' recipients itself
 * (security definer: staff see no provider); the applications are the caller's. */
static int funnel_tx(struct be_request *req, void *ctx)
{
    struct funnel *x = ctx;
    const char *params[2] = {x->first_day, x->office};
    PGresult *res = PQexecParams(req->db, sql_funnel, 2, NULL, params, NULL, NULL, 0);
    if (!be_db_check(req, res, PGRES_TUPLES_OK) || PQntuples(res) != 1) {
        PQclear(res);
        return BE_TX_FAILED;
    }
    x->json = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return x->json ? BE_TX_COMMIT : BE_TX_FAILED;
}

void be_applications_handle_funnel(struct be_request *req)
{
    char month[16] = "", office[48] = "";
    struct be_query_param params[] = {{"month", month, sizeof month},
                                      {"office", office, sizeof office}};
    struct cf_error_detail d = {0};
    struct funnel x = {.json = NULL};
    uint8_t id[CF_UUID_LEN];
    int rc = be_query_parse(req->query, params, 2, &d);
    if (!rc && !month[0])
        rc = cf_error_set(&d, CF_EFIELD_MISSING, "month",
                          "month is required: the month the applications were filed, like "
                          "2026-12");
    else if (!rc && !be_funnel_month_valid(month))
        rc = cf_error_set(&d, CF_EFIELD_RANGE, "month", "month must be a month like 2026-12");
    if (!rc && office[0] && cf_uuid_from_text(office, id))
        rc = cf_error_set(&d, CF_EFIELD_RANGE, "office", "office must be an office's id");
    if (rc) {
        be_reply_query_invalid(req, &d);
        return;
    }
    snprintf(x.first_day, sizeof x.first_day, "%s-01", month);
    if (office[0])
        cf_uuid_to_text(id, x.office);
    if (be_db_transaction(req, "BEGIN READ ONLY", "application funnel", funnel_tx, &x) ==
        BE_TX_COMMIT)
        be_reply_json(req, 200, cJSON_Parse(x.json));
    free(x.json);
}
