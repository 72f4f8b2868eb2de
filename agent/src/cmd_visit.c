/* `carefact-agent visit start|end|rate|cancel|attempt` and `card bind`: one step of
 * a home visit each, scriptable (the tests drive them), with the card read through
 * the reader (libnfc) at the moment the recipient taps. Every argument is checked
 * before the reader or the store is touched; the answer is Russian text for the
 * worker, or one JSON object with --json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag/cli.h"
#include "ag/clock.h"
#include "ag/commands.h"
#include "ag/messages.h"
#include "ag/visit.h"
#include "ag/visit_commands.h"
#include "ag/visit_output.h"
#include "cf/uuid.h"

#define COMMON_OPTIONS                                                                             \
    {"--store", true, false, 0, {0}},                                                              \
    {                                                                                              \
        "--json", false, false, 0,                                                                 \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }
#define CARD_OPTIONS                                                                               \
    {"--device", true, false, 0, {0}},                                                             \
    {                                                                                              \
        "--wait", true, false, 0,                                                                  \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }
#define PLACE_OPTIONS                                                                              \
    {"--lat", true, false, 0, {0}}, {"--lon", true, false, 0, {0}},                                \
    {                                                                                              \
        "--accuracy", true, false, 0,                                                              \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }
#define N(opts) (sizeof opts / sizeof opts[0])

static const char common_help[] =
    "  --store FILE         the agent's store (default: CAREFACT_AGENT_STORE)\n"
    "  --json               print one JSON object instead of text\n";
static const char card_help[] =
    "  --device CONNSTRING  card reader, e.g. pn532_uart:/dev/ttyUSB0 (default: LIBNFC_DEVICE)\n"
    "  --wait SECONDS       how long to wait for the card, 1..600 (default 30)\n";
static const char place_help[] =
    "  --lat DEG --lon DEG --accuracy M   the terminal's position, when it has one\n";

/* The parts every card-reading step shares. */
struct step {
    struct ag_cli cli;
    struct ag_store *store;
    struct cf_card_assurance card;
    struct cf_location location;
    struct ag_moment moment;
};

/* Read the card; with confirms (the event it will confirm carries its proof) the card
 * signs that event's challenge for visit_id (NULL: none). */
static int read_card_now(struct step *s, const struct ag_option *o, size_t n, const char *prompt,
                         bool confirms, const uint8_t *visit_id)
{
    long wait = 0;
    uint8_t challenge[CF_CHALLENGE_LEN];
    const char *w = ag_cli_value(o, n, "--wait");
    int rc = w ? ag_cli_long(&s->cli, "--wait", w, 1, 600, &wait) : 0;
    if (!rc && confirms && ag_card_challenge(s->store, visit_id, challenge))
        confirms = false; /* no chain head (not enrolled): the step itself says why */
    if (!rc)
        rc = ag_cli_read_card(&s->cli, s->store, ag_cli_value(o, n, "--device"), wait, prompt,
                              confirms ? challenge : NULL, &s->card);
    return rc;
}

/* The clocks at the moment the card was read. */
static int take_moment(struct step *s)
{
    int rc = ag_moment_now(&s->moment);
    if (rc)
        return ag_cli_usage_error(&s->cli, "cannot read the boot id (CAREFACT_BOOT_ID must be "
                                           "a UUID) or a clock offset is malformed");
    return 0;
}

static int place(struct step *s, const struct ag_option *o, size_t n)
{
    return ag_cli_location(&s->cli, ag_cli_value(o, n, "--lat"), ag_cli_value(o, n, "--lon"),
                           ag_cli_value(o, n, "--accuracy"), &s->location);
}

/* Print the outcome of a step: JSON, or the text the caller prints on success. */
static int outcome(struct step *s, int rc, const struct ag_visit_result *r,
                   const struct cf_error_detail *d)
{
    if (rc)
        return ag_cli_fail(&s->cli, rc, d);
    return s->cli.json ? ag_cli_print_json(ag_result_json(r)) : AG_EXIT_OK;
}

static void print_ids(const struct ag_visit_result *r)
{
    char id[CF_UUID_TEXT_LEN + 1];
    cf_uuid_to_text(r->visit_id, id);
    if (!cf_uuid_is_nil(r->visit_id))
        printf(AG_MSG_VISIT_EVENT_SAVED, id, (unsigned long long)r->seq);
    else
        printf(AG_MSG_EVENT_SAVED, (unsigned long long)r->seq);
}

/* ==== visit start ==== */

static const char start_usage_head[] =
    "usage: carefact-agent visit start [--plan ID | --recipient ID] [options]\n"
    "  Waits for the recipient's card, identifies them offline and starts the visit.\n"
    "  --plan ID            a planned visit (carefact-agent plans)\n"
    "  --recipient ID       an unplanned visit to this recipient (or the one a guardian's\n"
    "                       card acts for)\n"
    "  --accept-other-card  start with another recipient's card all the same (recorded;\n"
    "                       the server flags card_mismatch)\n";

static int start_failed(struct step *s, int rc, const struct ag_visit_result *r,
                        const struct cf_error_detail *d)
{
    char names[512];
    ag_candidates_text(r, names, sizeof names);
    if (!s->cli.json && (rc == CF_ECARD_OTHER || rc == CF_ECARD_AMBIGUOUS))
        fprintf(stderr, AG_MSG_CARD_BELONGS_TO, names);
    if (!s->cli.json && rc == CF_ECARD_AMBIGUOUS)
        for (size_t i = 0; i < r->candidate_count; i++)
            fprintf(stderr, "  --recipient %s  (%s)\n", r->candidate_ids[i], r->candidates[i]);
    if (!s->cli.json && rc == CF_EUNKNOWN_CARD)
        fprintf(stderr, AG_MSG_UNRECOGNIZED_SAVED, (unsigned long long)r->seq);
    return ag_cli_fail(&s->cli, rc, d);
}

static int visit_start(int argc, char **argv)
{
    char usage[2048];
    snprintf(usage, sizeof usage, "%s%s%s%s", start_usage_head, card_help, place_help, common_help);
    struct ag_option o[] = {COMMON_OPTIONS,
                            CARD_OPTIONS,
                            PLACE_OPTIONS,
                            {"--plan", true, false, 0, {0}},
                            {"--recipient", true, false, 0, {0}},
                            {"--accept-other-card", false, false, 0, {0}}};
    struct step s = {.cli = {"visit start", usage, false}};
    uint8_t plan[CF_UUID_LEN], recipient[CF_UUID_LEN];
    struct ag_visit_start req;
    memset(&req, 0, sizeof req);
    int rc = ag_cli_parse(&s.cli, argc, argv, o, N(o));
    const char *p = ag_cli_value(o, N(o), "--plan"), *r = ag_cli_value(o, N(o), "--recipient");
    if (!rc && p && !(rc = ag_cli_uuid(&s.cli, "--plan", p, plan)))
        req.plan_id = plan;
    if (!rc && r && !(rc = ag_cli_uuid(&s.cli, "--recipient", r, recipient)))
        req.recipient_id = recipient;
    req.accept_other_card = ag_cli_option(o, N(o), "--accept-other-card") != NULL;
    if (!rc)
        rc = place(&s, o, N(o));
    if (!rc)
        rc = ag_cli_open_store(&s.cli, ag_cli_value(o, N(o), "--store"), &s.store);
    uint8_t visit[CF_UUID_LEN];
    if (!rc && cf_uuid_v7(ag_wall_now_ms(), visit))
        rc = ag_cli_fail(&s.cli, CF_ECRYPTO, NULL);
    if (!rc)
        rc = read_card_now(&s, o, N(o), AG_MSG_CLI_TAP_CARD, true, visit);
    if (!rc)
        rc = take_moment(&s);
    if (rc)
        goto out;
    req.visit_id = visit;
    req.card = s.card;
    req.location = s.location;
    req.moment = s.moment;
    struct ag_visit_result *res = malloc(sizeof *res);
    struct cf_error_detail d = {0};
    int vrc = res ? ag_visit_start(s.store, &req, res, &d) : CF_ENOMEM;
    if (vrc && res)
        rc = start_failed(&s, vrc, res, &d);
    else if (vrc)
        rc = ag_cli_fail(&s.cli, vrc, &d);
    else
        rc = outcome(&s, 0, res, &d);
    if (!vrc && !s.cli.json) {
        printf(AG_MSG_VISIT_STARTED);
        ag_print_view(stdout, &res->view, false);
        print_ids(res);
    }
    free(res);
out:
    ag_store_close(s.store);
    return rc < 0 ? AG_EXIT_OK : rc;
}

/* ==== visit end ==== */

static const char end_usage_head[] =
    "usage: carefact-agent visit end [--visit ID] [--service CODE[:QTY]]... [options]\n"
    "  Waits for the recipient's card again and ends the visit with the services done.\n"
    "  --visit ID           the visit (default: the one in progress)\n"
    "  --service CODE[:QTY] a service done, quantity 1..100 (default 1); repeat for more\n";

static int parse_service(struct ag_cli *cli, const char *text, struct cf_service_done *out)
{
    const char *colon = strchr(text, ':');
    size_t len = colon ? (size_t)(colon - text) : strlen(text);
    long qty = 1;
    if (len == 0 || len > CF_SERVICE_CODE_MAX)
        return ag_cli_usage_error(cli, "--service must be CODE or CODE:QUANTITY, got '%.40s'",
                                  text);
    memcpy(out->code, text, len);
    out->code[len] = '\0';
    int rc =
        colon ? ag_cli_long(cli, "--service quantity", colon + 1, 1, CF_SERVICE_QUANTITY_MAX, &qty)
              : 0;
    out->quantity = (int32_t)qty;
    return rc;
}

static int visit_end(int argc, char **argv)
{
    char usage[2048];
    snprintf(usage, sizeof usage, "%s%s%s%s", end_usage_head, card_help, place_help, common_help);
    struct ag_option o[] = {COMMON_OPTIONS,
                            CARD_OPTIONS,
                            PLACE_OPTIONS,
                            {"--visit", true, false, 0, {0}},
                            {"--service", true, true, 0, {0}}};
    struct step s = {.cli = {"visit end", usage, false}};
    struct ag_visit_end *req = calloc(1, sizeof *req);
    uint8_t visit[CF_UUID_LEN];
    if (!req)
        return AG_EXIT_FAILED;
    int rc = ag_cli_parse(&s.cli, argc, argv, o, N(o));
    const char *v = ag_cli_value(o, N(o), "--visit");
    if (!rc && v && !(rc = ag_cli_uuid(&s.cli, "--visit", v, visit)))
        req->visit_id = visit;
    const struct ag_option *services = ag_cli_option(o, N(o), "--service");
    for (size_t i = 0; !rc && services && i < services->count; i++)
        rc = parse_service(&s.cli, services->values[i], &req->services[req->service_count++]);
    if (!rc)
        rc = place(&s, o, N(o));
    if (!rc)
        rc = ag_cli_open_store(&s.cli, ag_cli_value(o, N(o), "--store"), &s.store);
    uint8_t ending[CF_UUID_LEN];
    bool known = !rc && ag_visit_end_target(s.store, req->visit_id, ag_wall_now_ms(), ending) == 0;
    if (!rc)
        rc = read_card_now(&s, o, N(o), AG_MSG_CLI_TAP_CARD_TO_END, known, ending);
    if (!rc)
        rc = take_moment(&s);
    if (rc)
        goto out;
    req->card = s.card;
    req->location = s.location;
    req->moment = s.moment;
    struct ag_visit_result *res = malloc(sizeof *res);
    struct cf_error_detail d = {0};
    int vrc = res ? ag_visit_end(s.store, req, res, &d) : CF_ENOMEM;
    rc = outcome(&s, vrc, res, &d);
    if (!vrc && !s.cli.json) {
        char duration[32];
        ag_duration_text(res->duration_ms, duration);
        printf(AG_MSG_VISIT_ENDED, res->view.recipient.full_name, duration,
               res->clock_uncertain ? AG_MSG_VISIT_CLOCK_REBOOTED : "");
        if (!res->card_matches)
            printf(AG_MSG_CARD_MISMATCH_WARNING);
        for (size_t i = 0; i < req->service_count; i++)
            printf(AG_MSG_VISIT_SERVICE_LINE, req->services[i].code, req->services[i].quantity);
        print_ids(res);
        printf(AG_MSG_VISIT_ASK_RATING);
    }
    free(res);
out:
    ag_store_close(s.store);
    free(req);
    return rc < 0 ? AG_EXIT_OK : rc;
}

/* ==== visit rate ==== */

static const char rate_usage[] =
    "usage: carefact-agent visit rate --rating 1..5 [--comment TEXT] [--visit ID]\n"
    "                                 [--store FILE] [--json]\n"
    "  The recipient's rating of the visit that just ended (or of --visit).\n";

static int visit_rate(int argc, char **argv)
{
    struct ag_option o[] = {COMMON_OPTIONS,
                            {"--visit", true, false, 0, {0}},
                            {"--rating", true, false, 0, {0}},
                            {"--comment", true, false, 0, {0}}};
    struct step s = {.cli = {"visit rate", rate_usage, false}};
    uint8_t visit[CF_UUID_LEN];
    const uint8_t *visit_id = NULL;
    long rating = 0;
    int rc = ag_cli_parse(&s.cli, argc, argv, o, N(o));
    const char *v = ag_cli_value(o, N(o), "--visit");
    const char *r = ag_cli_value(o, N(o), "--rating");
    const char *comment = ag_cli_value(o, N(o), "--comment");
    if (!rc && v && !(rc = ag_cli_uuid(&s.cli, "--visit", v, visit)))
        visit_id = visit;
    if (!rc && !r)
        rc = ag_cli_usage_error(&s.cli, "--rating is required");
    if (!rc)
        rc = ag_cli_long(&s.cli, "--rating", r, 1, 5, &rating);
    if (!rc && comment && cf_event_check_comment(comment, NULL))
        rc = ag_cli_usage_error(&s.cli, "--comment must be text of at most %d characters",
                                CF_COMMENT_MAX_CHARS);
    if (!rc)
        rc = ag_cli_open_store(&s.cli, ag_cli_value(o, N(o), "--store"), &s.store);
    if (!rc)
        rc = take_moment(&s);
    if (rc)
        goto out;
    struct ag_visit_result res;
    struct cf_error_detail d = {0};
    int vrc = ag_visit_rate(s.store, visit_id, (int)rating, comment, &s.moment, &res, &d);
    rc = outcome(&s, vrc, &res, &d);
    if (!vrc && !s.cli.json) {
        printf(AG_MSG_VISIT_RATED, rating);
        print_ids(&res);
    }
out:
    ag_store_close(s.store);
    return rc < 0 ? AG_EXIT_OK : rc;
}

/* ==== visit cancel ==== */

static const char cancel_usage[] =
    "usage: carefact-agent visit cancel [--visit ID | --plan ID] --reason R --by WHO\n"
    "                                   [--store FILE] [--json]\n"
    "  Cancels the visit in progress (or --visit), or a planned visit not yet started.\n"
    "  --reason R   nobody_home, refused, in_hospital, worker_ill or other\n"
    "  --by WHO     worker, recipient or provider\n";

static int reason_and_actor(struct ag_cli *cli, const char *reason, const char *by,
                            enum cf_reason *r, enum cf_actor *a)
{
    if (!reason)
        return ag_cli_usage_error(cli, "--reason is required");
    if (cf_reason_from_name(reason, r))
        return ag_cli_usage_error(cli, "--reason must be nobody_home, refused, in_hospital, "
                                       "worker_ill or other");
    if (a && !by)
        return ag_cli_usage_error(cli, "--by is required");
    if (a && cf_actor_from_name(by, a))
        return ag_cli_usage_error(cli, "--by must be worker, recipient or provider");
    return 0;
}

static int visit_cancel(int argc, char **argv)
{
    struct ag_option o[] = {COMMON_OPTIONS,
                            {"--visit", true, false, 0, {0}},
                            {"--plan", true, false, 0, {0}},
                            {"--reason", true, false, 0, {0}},
                            {"--by", true, false, 0, {0}}};
    struct step s = {.cli = {"visit cancel", cancel_usage, false}};
    struct ag_visit_cancel req;
    uint8_t visit[CF_UUID_LEN], plan[CF_UUID_LEN];
    memset(&req, 0, sizeof req);
    int rc = ag_cli_parse(&s.cli, argc, argv, o, N(o));
    const char *v = ag_cli_value(o, N(o), "--visit"), *p = ag_cli_value(o, N(o), "--plan");
    if (!rc && v && p)
        rc = ag_cli_usage_error(&s.cli, "give --visit or --plan, not both");
    if (!rc && v && !(rc = ag_cli_uuid(&s.cli, "--visit", v, visit)))
        req.visit_id = visit;
    if (!rc && p && !(rc = ag_cli_uuid(&s.cli, "--plan", p, plan)))
        req.plan_id = plan;
    if (!rc)
        rc = reason_and_actor(&s.cli, ag_cli_value(o, N(o), "--reason"),
                              ag_cli_value(o, N(o), "--by"), &req.reason, &req.cancelled_by);
    if (!rc)
        rc = ag_cli_open_store(&s.cli, ag_cli_value(o, N(o), "--store"), &s.store);
    if (!rc)
        rc = take_moment(&s);
    if (rc)
        goto out;
    req.moment = s.moment;
    struct ag_visit_result res;
    struct cf_error_detail d = {0};
    int vrc = ag_visit_cancel(s.store, &req, &res, &d);
    rc = outcome(&s, vrc, &res, &d);
    if (!vrc && !s.cli.json) {
        printf(AG_MSG_VISIT_CANCELLED, ag_reason_text(req.reason), ag_actor_text(req.cancelled_by));
        if (res.since_start_ms > 0) {
            char since[32];
            ag_duration_text(res.since_start_ms, since);
            printf(AG_MSG_VISIT_SINCE_START, since);
        }
        print_ids(&res);
    }
out:
    ag_store_close(s.store);
    return rc < 0 ? AG_EXIT_OK : rc;
}

/* ==== visit attempt ==== */

static const char attempt_usage_head[] =
    "usage: carefact-agent visit attempt (--plan ID | --recipient ID) --reason R\n"
    "                                    [--card] [options]\n"
    "  Records a visit that could not take place, at the door.\n"
    "  --reason R   nobody_home, refused, in_hospital, worker_ill or other\n"
    "  --card       the recipient confirms with their card (read from the reader)\n";

static int visit_attempt(int argc, char **argv)
{
    char usage[2048];
    snprintf(usage, sizeof usage, "%s%s%s%s", attempt_usage_head, card_help, place_help,
             common_help);
    struct ag_option o[] = {COMMON_OPTIONS,
                            CARD_OPTIONS,
                            PLACE_OPTIONS,
                            {"--plan", true, false, 0, {0}},
                            {"--recipient", true, false, 0, {0}},
                            {"--reason", true, false, 0, {0}},
                            {"--card", false, false, 0, {0}}};
    struct step s = {.cli = {"visit attempt", usage, false}};
    struct ag_visit_attempt req;
    uint8_t plan[CF_UUID_LEN], recipient[CF_UUID_LEN];
    memset(&req, 0, sizeof req);
    int rc = ag_cli_parse(&s.cli, argc, argv, o, N(o));
    const char *p = ag_cli_value(o, N(o), "--plan"), *r = ag_cli_value(o, N(o), "--recipient");
    if (!rc && !p == !r)
        rc = ag_cli_usage_error(&s.cli, "give either --plan or --recipient");
    if (!rc && p && !(rc = ag_cli_uuid(&s.cli, "--plan", p, plan)))
        req.plan_id = plan;
    if (!rc && r && !(rc = ag_cli_uuid(&s.cli, "--recipient", r, recipient)))
        req.recipient_id = recipient;
    if (!rc)
        rc = reason_and_actor(&s.cli, ag_cli_value(o, N(o), "--reason"), NULL, &req.reason, NULL);
    if (!rc)
        rc = place(&s, o, N(o));
    if (!rc)
        rc = ag_cli_open_store(&s.cli, ag_cli_value(o, N(o), "--store"), &s.store);
    if (!rc && ag_cli_option(o, N(o), "--card"))
        rc = read_card_now(&s, o, N(o), AG_MSG_CLI_TAP_CARD_TO_CONFIRM, false, NULL);
    if (!rc)
        rc = take_moment(&s);
    if (rc)
        goto out;
    req.card = s.card;
    req.location = s.location;
    req.moment = s.moment;
    struct ag_visit_result *res = malloc(sizeof *res);
    struct cf_error_detail d = {0};
    int vrc = res ? ag_visit_attempt(s.store, &req, res, &d) : CF_ENOMEM;
    rc = outcome(&s, vrc, res, &d);
    if (!vrc && !s.cli.json) {
        printf(AG_MSG_VISIT_ATTEMPT, res->view.recipient.full_name, ag_reason_text(req.reason));
        if (req.card.method != CF_CARD_NONE)
            printf("%s\n", res->card_matches ? AG_MSG_ATTEMPT_CONFIRMED : AG_MSG_ATTEMPT_MISMATCH);
        print_ids(res);
    }
    free(res);
out:
    ag_store_close(s.store);
    return rc < 0 ? AG_EXIT_OK : rc;
}

/* ==== visit: dispatcher ==== */

static const char visit_usage[] =
    "usage: carefact-agent visit start|end|rate|cancel|attempt [ARGS...]\n"
    "  start    the recipient taps their card: the visit begins\n"
    "  end      the recipient taps again: the visit ends with the services done\n"
    "  rate     the recipient's rating 1..5 and comment\n"
    "  cancel   the visit (or a planned one) is cancelled, with the reason\n"
    "  attempt  at the door, the visit could not take place\n"
    "`carefact-agent visit STEP --help` describes a step's arguments.\n";

int ag_cmd_visit(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } steps[] = {{"start", visit_start},
                 {"end", visit_end},
                 {"rate", visit_rate},
                 {"cancel", visit_cancel},
                 {"attempt", visit_attempt}};
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(visit_usage, stdout);
        return AG_EXIT_OK;
    }
    for (size_t i = 0; argc >= 2 && i < sizeof steps / sizeof steps[0]; i++)
        if (strcmp(argv[1], steps[i].name) == 0)
            return steps[i].run(argc - 1, argv + 1);
    fprintf(stderr, "carefact-agent visit: say which step\n%s", visit_usage);
    return AG_EXIT_USAGE;
}

/* ==== card bind ==== */

static const char bind_usage_head[] =
    "usage: carefact-agent card bind --recipient ID [options]\n"
    "  Binds the card on the reader to the recipient. The binding waits for a manager's\n"
    "  confirmation; until then the card does not identify the recipient.\n";

static int card_bind(int argc, char **argv)
{
    char usage[2048];
    snprintf(usage, sizeof usage, "%s%s%s", bind_usage_head, card_help, common_help);
    struct ag_option o[] = {COMMON_OPTIONS, CARD_OPTIONS, {"--recipient", true, false, 0, {0}}};
    struct step s = {.cli = {"card bind", usage, false}};
    uint8_t recipient[CF_UUID_LEN];
    int rc = ag_cli_parse(&s.cli, argc, argv, o, N(o));
    const char *r = ag_cli_value(o, N(o), "--recipient");
    if (!rc && !r)
        rc = ag_cli_usage_error(&s.cli, "--recipient is required");
    if (!rc)
        rc = ag_cli_uuid(&s.cli, "--recipient", r, recipient);
    if (!rc)
        rc = ag_cli_open_store(&s.cli, ag_cli_value(o, N(o), "--store"), &s.store);
    if (!rc)
        rc = read_card_now(&s, o, N(o), AG_MSG_CLI_TAP_NEW_CARD, true, NULL);
    if (!rc)
        rc = take_moment(&s);
    if (rc)
        goto out;
    struct ag_visit_result *res = malloc(sizeof *res);
    struct cf_error_detail d = {0};
    int vrc = res ? ag_card_bind(s.store, recipient, &s.card, &s.moment, res, &d) : CF_ENOMEM;
    rc = outcome(&s, vrc, res, &d);
    if (!vrc && !s.cli.json) {
        printf(AG_MSG_BIND_CARD, s.card.last4[0] ? AG_MSG_BIND_LAST_DIGITS : "", s.card.last4,
               res->view.recipient.full_name);
        printf(AG_MSG_BIND_PENDING);
        print_ids(res);
    }
    free(res);
out:
    ag_store_close(s.store);
    return rc < 0 ? AG_EXIT_OK : rc;
}

/* ==== card check-in ==== */

static const char check_in_usage_head[] =
    "usage: carefact-agent card check-in [options]\n"
    "  At an office's desk: the person taps their card to say they have come. The server\n"
    "  checks in their booked appointment at this moment when the event is synced.\n";

static int card_check_in(int argc, char **argv)
{
    char usage[2048];
    snprintf(usage, sizeof usage, "%s%s%s", check_in_usage_head, card_help, common_help);
    struct ag_option o[] = {COMMON_OPTIONS, CARD_OPTIONS};
    struct step s = {.cli = {"card check-in", usage, false}};
    int rc = ag_cli_parse(&s.cli, argc, argv, o, N(o));
    if (!rc)
        rc = ag_cli_open_store(&s.cli, ag_cli_value(o, N(o), "--store"), &s.store);
    if (!rc)
        rc = read_card_now(&s, o, N(o), AG_MSG_CLI_TAP_CHECK_IN, true, NULL);
    if (!rc)
        rc = take_moment(&s);
    if (rc)
        goto out;
    struct ag_visit_result *res = malloc(sizeof *res);
    struct cf_error_detail d = {0};
    int vrc = res ? ag_card_check_in(s.store, &s.card, &s.moment, res, &d) : CF_ENOMEM;
    rc = outcome(&s, vrc, res, &d);
    if (!vrc && !s.cli.json) {
        printf(AG_MSG_CHECKED_IN, s.card.last4[0] ? AG_MSG_BIND_LAST_DIGITS : "", s.card.last4);
        printf(AG_MSG_CHECKED_IN_SYNC);
        print_ids(res);
    }
    free(res);
out:
    ag_store_close(s.store);
    return rc < 0 ? AG_EXIT_OK : rc;
}

int ag_cmd_card(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "bind") == 0)
        return card_bind(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "check-in") == 0)
        return card_check_in(argc - 1, argv + 1);
    fprintf(stderr, "usage: carefact-agent card bind --recipient ID [--device CONNSTRING] ...\n"
                    "       carefact-agent card check-in [--device CONNSTRING] ...\n");
    return argc >= 2 && (strcmp(argv[1], "--help") == 0) ? AG_EXIT_OK : AG_EXIT_USAGE;
}
