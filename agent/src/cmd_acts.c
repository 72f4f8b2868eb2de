/* `carefact-agent apply`, `act home-survey` and `aid hand-over|return`: the acts a
 * brigade records offline (api/PROTOCOL.md 4.6, ag/acts.h). Every argument is checked
 * before the reader or the store is touched, with a sentence in Russian for the worker;
 * the answer is Russian text, or one JSON object with --json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ag/acts.h"
#include "ag/cli.h"
#include "ag/clock.h"
#include "ag/commands.h"
#include "ag/messages.h"
#include "ag/visit.h"

#define N(opts) (sizeof opts / sizeof opts[0])
#define OPT(name, value)                                                                           \
    {                                                                                              \
        name, value, false, 0,                                                                     \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }

static const char common_help[] =
    "  --store FILE         the agent's store (default: CAREFACT_AGENT_STORE)\n"
    "  --json               print one JSON object instead of text\n";

static int moment_now(const struct ag_cli *cli, struct ag_moment *m)
{
    if (ag_moment_now(m))
        return ag_cli_usage_error(cli, "%s", AG_MSG_ACT_NO_CLOCK);
    return 0;
}

/* A refused body: the rule's field in Russian words the worker knows, then the rule. */
static int refused(const struct ag_cli *cli, int rc, const struct cf_error_detail *d)
{
    static const struct {
        const char *field, *option;
    } names[] = {
        {"body.applicant_name", "--name"},
        {"body.applicant_birth", "--birth"},
        {"body.applicant_address", "--address"},
        {"body.applicant_phone", "--phone"},
        {"body.category", "--category"},
        {"body.purpose", "--purpose"},
        {"body.consent", "--consent"},
        {"body.office_id", "--office"},
        {"body.trip_id", "--trip"},
        {"body.note", "--note"},
        {"body.application_number", "--application / --filing"},
        {"body.application_seq", "--filing"},
        {"body.living_conditions", "--conditions"},
        {"body.findings", "--findings"},
        {"body.needs", "--needs"},
        {"body.recommended_services", "--service"},
        {"body.aid_kind", "--aid"},
        {"body.inventory_number", "--inventory"},
        {"body.visit_id", "--visit"},
        {"body.instrument", "--instrument"},
        {"body.version", "--version"},
        {"body", "--answer"},
    };
    if (d && (rc == CF_EFIELD_MISSING || rc == CF_EFIELD_RANGE || rc == CF_EFIELD_TYPE) &&
        !cli->json)
        for (size_t i = 0; i < N(names); i++)
            if (strcmp(d->field, names[i].field) == 0) {
                fprintf(stderr, "carefact-agent %s: ", cli->command);
                fprintf(stderr,
                        rc == CF_EFIELD_MISSING ? AG_MSG_ACT_FIELD_MISSING : AG_MSG_ACT_FIELD_BAD,
                        names[i].option, d->message);
                return AG_EXIT_USAGE;
            }
    return ag_cli_fail(cli, rc, d);
}

/* --application NUMBER or --filing SEQ (this terminal's filing event). */
static int read_target(const struct ag_cli *cli, const struct ag_option *o, size_t n,
                       struct ag_act_target *t)
{
    const char *number = ag_cli_value(o, n, "--application");
    const char *filing = ag_cli_value(o, n, "--filing");
    long seq = 0;
    if (!number == !filing)
        return ag_cli_usage_error(cli, "%s", AG_MSG_ACT_TARGET);
    if (filing && ag_cli_long(cli, "--filing", filing, 1, 999999999999999L, &seq))
        return AG_EXIT_USAGE;
    t->application_number = number;
    t->filing_seq = (uint64_t)seq;
    return 0;
}

/* ==== apply ==== */

static const char apply_usage[] =
    "usage: carefact-agent apply --name TEXT --birth YYYY-MM-DD --address TEXT\n"
    "         --category C --purpose P --consent [options]\n"
    "  Takes an application offline (application.filed). The applicant's secret code is\n"
    "  made here and shown ONCE with the receipt: after the sync the status page takes\n"
    "  the receipt and the code.\n"
    "  --name, --birth, --address   the applicant (address: street, house)\n"
    "  --settlement TEXT     the village\n"
    "  --phone TEXT          the applicant's phone\n"
    "  --representative TEXT --relation TEXT   who applies for them\n"
    "  --category C          elderly | disabled | disabled_child | family | other\n"
    "  --purpose P           home_care | rehab_aid | rehab_course | day_centre | palliative |\n"
    "                        other\n"
    "  --consent             the applicant consented to the processing of personal data\n"
    "  --consent-version V   the consent text read out (default " AG_CONSENT_VERSION ")\n"
    "  --complete            every document was seen\n"
    "  --note TEXT           what the applicant asks for, in words\n"
    "  --office ID           the front office it goes to (default: the region's first)\n"
    "  --trip ID             the brigade's trip\n";

int ag_cmd_apply(int argc, char **argv)
{
    char usage[2048];
    snprintf(usage, sizeof usage, "%s%s", apply_usage, common_help);
    struct ag_option o[] = {
        OPT("--store", true),           OPT("--json", false),          OPT("--name", true),
        OPT("--birth", true),           OPT("--address", true),        OPT("--settlement", true),
        OPT("--phone", true),           OPT("--representative", true), OPT("--relation", true),
        OPT("--category", true),        OPT("--purpose", true),        OPT("--consent", false),
        OPT("--consent-version", true), OPT("--complete", false),      OPT("--note", true),
        OPT("--office", true),          OPT("--trip", true),
    };
    struct ag_cli cli = {"apply", usage, false};
    struct ag_store *store = NULL;
    int rc = ag_cli_parse(&cli, argc, argv, o, N(o));
    if (rc)
        return rc < 0 ? AG_EXIT_OK : rc;
    struct ag_application_form f = {
        .applicant_name = ag_cli_value(o, N(o), "--name"),
        .applicant_birth = ag_cli_value(o, N(o), "--birth"),
        .applicant_address = ag_cli_value(o, N(o), "--address"),
        .applicant_phone = ag_cli_value(o, N(o), "--phone"),
        .representative_name = ag_cli_value(o, N(o), "--representative"),
        .representative_relation = ag_cli_value(o, N(o), "--relation"),
        .settlement = ag_cli_value(o, N(o), "--settlement"),
        .category = ag_cli_value(o, N(o), "--category"),
        .purpose = ag_cli_value(o, N(o), "--purpose"),
        .consent_version = ag_cli_value(o, N(o), "--consent-version"),
        .note = ag_cli_value(o, N(o), "--note"),
        .office_id = ag_cli_value(o, N(o), "--office"),
        .trip_id = ag_cli_value(o, N(o), "--trip"),
        .consent = ag_cli_option(o, N(o), "--consent") != NULL,
        .complete = ag_cli_option(o, N(o), "--complete") != NULL,
    };
    if (!f.consent)
        return ag_cli_usage_error(&cli, "%s", AG_MSG_APPLY_NO_CONSENT);
    struct cf_error_detail d = {0};
    struct ag_act_result r;
    struct ag_moment m;
    /* the body first, with a placeholder code: a mistake is told before the store opens */
    char *body = malloc(CF_ACT_BODY_MAX + 1);
    rc = body ? ag_application_body(&f, "0000000000", body, &d) : CF_ENOMEM;
    free(body);
    if (rc)
        return refused(&cli, rc, &d);
    rc = moment_now(&cli, &m);
    if (!rc)
        rc = ag_cli_open_store(&cli, ag_cli_value(o, N(o), "--store"), &store);
    if (rc)
        goto out;
    rc = ag_application_file(store, &f, &m, &r, &d);
    if (rc) {
        rc = refused(&cli, rc, &d);
        goto out;
    }
    if (cli.json) {
        cJSON *j = cJSON_CreateObject();
        if (j && (!cJSON_AddStringToObject(j, "kind", "application.filed") ||
                  !cJSON_AddNumberToObject(j, "seq", (double)r.seq) ||
                  !cJSON_AddStringToObject(j, "receipt", r.receipt) ||
                  !cJSON_AddStringToObject(j, "code", r.code))) {
            cJSON_Delete(j);
            j = NULL;
        }
        rc = ag_cli_print_json(j);
    } else {
        printf(AG_MSG_APPLICATION_FILED, (unsigned long long)r.seq);
        printf(AG_MSG_APPLICATION_RECEIPT, r.receipt, r.code);
        rc = AG_EXIT_OK;
    }
    OPENSSL_cleanse(r.code, sizeof r.code);
out:
    ag_store_close(store);
    return rc;
}

/* ==== act home-survey ==== */

static const char survey_usage[] =
    "usage: carefact-agent act home-survey (--application NUMBER | --filing SEQ)\n"
    "         --conditions TEXT --findings TEXT [options]\n"
    "  Records a home-survey act on an application: its number,\n"
    "  or the seq of its filing on this terminal (carefact-agent apply prints it).\n"
    "  --conditions TEXT     living conditions\n"
    "  --findings TEXT       the findings\n"
    "  --needs TEXT          what the person needs\n"
    "  --service TEXT        a recommended service (repeatable, up to 32)\n"
    "  --trip ID             the brigade's trip\n";

static int print_act(const struct ag_cli *cli, const char *kind, const struct ag_act_result *r,
                     const char *text)
{
    if (cli->json) {
        cJSON *j = cJSON_CreateObject();
        if (j && (!cJSON_AddStringToObject(j, "kind", kind) ||
                  !cJSON_AddNumberToObject(j, "seq", (double)r->seq))) {
            cJSON_Delete(j);
            j = NULL;
        }
        return ag_cli_print_json(j);
    }
    printf(text, (unsigned long long)r->seq);
    printf(AG_MSG_ACT_SYNC);
    return AG_EXIT_OK;
}

static int act_home_survey(int argc, char **argv)
{
    char usage[2048];
    snprintf(usage, sizeof usage, "%s%s", survey_usage, common_help);
    struct ag_option o[] = {
        OPT("--store", true),       OPT("--json", false),
        OPT("--application", true), OPT("--filing", true),
        OPT("--conditions", true),  OPT("--findings", true),
        OPT("--needs", true),       {"--service", true, true, 0, {0}},
        OPT("--trip", true),
    };
    struct ag_cli cli = {"act home-survey", usage, false};
    struct ag_store *store = NULL;
    struct ag_survey_form f;
    memset(&f, 0, sizeof f);
    int rc = ag_cli_parse(&cli, argc, argv, o, N(o));
    if (rc)
        return rc < 0 ? AG_EXIT_OK : rc;
    if ((rc = read_target(&cli, o, N(o), &f.target)))
        return rc;
    f.living_conditions = ag_cli_value(o, N(o), "--conditions");
    f.findings = ag_cli_value(o, N(o), "--findings");
    f.needs = ag_cli_value(o, N(o), "--needs");
    f.trip_id = ag_cli_value(o, N(o), "--trip");
    const struct ag_option *services = ag_cli_option(o, N(o), "--service");
    for (size_t i = 0; services && i < services->count && i < CF_ACT_ARRAY_MAX; i++)
        f.services[f.service_count++] = services->values[i];
    struct cf_error_detail d = {0};
    struct ag_act_result r;
    struct ag_moment m;
    char *body = malloc(CF_ACT_BODY_MAX + 1);
    rc = body ? ag_survey_body(&f, body, &d) : CF_ENOMEM;
    free(body);
    if (rc)
        return refused(&cli, rc, &d);
    rc = moment_now(&cli, &m);
    if (!rc)
        rc = ag_cli_open_store(&cli, ag_cli_value(o, N(o), "--store"), &store);
    int arc = rc ? 0 : ag_survey_record(store, &f, &m, &r, &d);
    if (arc)
        rc = refused(&cli, arc, &d);
    if (!rc)
        rc = print_act(&cli, "home_survey.recorded", &r, AG_MSG_SURVEY_RECORDED);
    ag_store_close(store);
    return rc;
}

int ag_cmd_act(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "home-survey") == 0)
        return act_home_survey(argc - 1, argv + 1);
    fprintf(stderr, "usage: carefact-agent act home-survey (--application NUMBER | --filing "
                    "SEQ) ...\n");
    return argc >= 2 && strcmp(argv[1], "--help") == 0 ? AG_EXIT_OK : AG_EXIT_USAGE;
}

/* ==== survey answer ==== */

static const char answer_usage[] =
    "usage: carefact-agent survey answer --visit ID --answer CODE=VALUE... [options]\n"
    "  Records the recipient's answers to a satisfaction survey after a visit this\n"
    "  terminal made (survey.answered; counted for the home-visit channel).\n"
    "  --visit ID            the visit (carefact-agent plans shows today's)\n"
    "  --instrument NAME     visit_rating (default) or public_service\n"
    "  --version N           the instrument's version (default 1)\n"
    "  --answer CODE=VALUE   one answer: rating=5, informed=fully, recommend=yes (repeatable)\n"
    "  --trip ID             the brigade's trip\n";

static int survey_answer(int argc, char **argv)
{
    char usage[2048];
    snprintf(usage, sizeof usage, "%s%s", answer_usage, common_help);
    struct ag_option o[] = {
        OPT("--store", true),      OPT("--json", false),   OPT("--visit", true),
        OPT("--instrument", true), OPT("--version", true), {"--answer", true, true, 0, {0}},
        OPT("--trip", true),
    };
    struct ag_cli cli = {"survey answer", usage, false};
    struct ag_store *store = NULL;
    struct ag_answers_form f;
    char pairs[CF_ACT_ARRAY_MAX][64];
    memset(&f, 0, sizeof f);
    int rc = ag_cli_parse(&cli, argc, argv, o, N(o));
    if (rc)
        return rc < 0 ? AG_EXIT_OK : rc;
    f.visit_id = ag_cli_value(o, N(o), "--visit");
    f.instrument = ag_cli_value(o, N(o), "--instrument");
    f.version = ag_cli_value(o, N(o), "--version");
    f.trip_id = ag_cli_value(o, N(o), "--trip");
    const struct ag_option *answers = ag_cli_option(o, N(o), "--answer");
    for (size_t i = 0; answers && i < answers->count && i < CF_ACT_ARRAY_MAX; i++) {
        snprintf(pairs[i], sizeof pairs[i], "%s", answers->values[i]);
        char *eq = strchr(pairs[i], '=');
        if (!eq || eq == pairs[i] || !eq[1])
            return ag_cli_usage_error(&cli, "%s", AG_MSG_ANSWER_FORMAT);
        *eq = '\0';
        f.codes[f.count] = pairs[i];
        f.values[f.count++] = eq + 1;
    }
    struct cf_error_detail d = {0};
    struct ag_act_result r;
    struct ag_moment m;
    char *body = malloc(CF_ACT_BODY_MAX + 1);
    rc = body ? ag_answers_body(&f, body, &d) : CF_ENOMEM;
    free(body);
    if (rc)
        return refused(&cli, rc, &d);
    rc = moment_now(&cli, &m);
    if (!rc)
        rc = ag_cli_open_store(&cli, ag_cli_value(o, N(o), "--store"), &store);
    int arc = rc ? 0 : ag_answers_record(store, &f, &m, &r, &d);
    if (arc)
        rc = refused(&cli, arc, &d);
    if (!rc)
        rc = print_act(&cli, "survey.answered", &r, AG_MSG_ANSWERS_RECORDED);
    ag_store_close(store);
    return rc;
}

int ag_cmd_survey(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "answer") == 0)
        return survey_answer(argc - 1, argv + 1);
    fprintf(stderr, "usage: carefact-agent survey answer --visit ID --answer CODE=VALUE...\n");
    return argc >= 2 && strcmp(argv[1], "--help") == 0 ? AG_EXIT_OK : AG_EXIT_USAGE;
}

/* ==== aid hand-over | return ==== */

static const char aid_usage[] =
    "  Records a rehabilitation aid handed over to (or returned by) the person an\n"
    "  application is about, confirmed by their card (aid.handed_over).\n"
    "  --application NUMBER | --filing SEQ   the application\n"
    "  --aid TEXT            the kind of aid (wheelchair, walker...)\n"
    "  --inventory TEXT      its inventory number\n"
    "  --note TEXT           a note\n"
    "  --trip ID             the brigade's trip\n"
    "  --device CONNSTRING   card reader, e.g. pn532_uart:/dev/ttyUSB0 (default: LIBNFC_DEVICE)\n"
    "  --wait SECONDS        how long to wait for the card, 1..600 (default 30)\n";

static int aid_record(int argc, char **argv, bool returned)
{
    char usage[2048];
    snprintf(usage, sizeof usage,
             "usage: carefact-agent aid %s --aid TEXT --inventory TEXT ...\n%s%s",
             returned ? "return" : "hand-over", aid_usage, common_help);
    struct ag_option o[] = {
        OPT("--store", true),  OPT("--json", false), OPT("--application", true),
        OPT("--filing", true), OPT("--aid", true),   OPT("--inventory", true),
        OPT("--note", true),   OPT("--trip", true),  OPT("--device", true),
        OPT("--wait", true),
    };
    struct ag_cli cli = {returned ? "aid return" : "aid hand-over", usage, false};
    struct ag_store *store = NULL;
    struct ag_aid_form f;
    memset(&f, 0, sizeof f);
    int rc = ag_cli_parse(&cli, argc, argv, o, N(o));
    if (rc)
        return rc < 0 ? AG_EXIT_OK : rc;
    if ((rc = read_target(&cli, o, N(o), &f.target)))
        return rc;
    f.aid_kind = ag_cli_value(o, N(o), "--aid");
    f.inventory_number = ag_cli_value(o, N(o), "--inventory");
    f.note = ag_cli_value(o, N(o), "--note");
    f.trip_id = ag_cli_value(o, N(o), "--trip");
    f.returned = returned;
    long wait = 0;
    const char *w = ag_cli_value(o, N(o), "--wait");
    if (w && ag_cli_long(&cli, "--wait", w, 1, 600, &wait))
        return AG_EXIT_USAGE;
    struct cf_error_detail d = {0};
    char *body = malloc(CF_ACT_BODY_MAX + 1);
    rc = body ? ag_aid_body(&f, body, &d) : CF_ENOMEM;
    free(body);
    if (rc)
        return refused(&cli, rc, &d);
    struct cf_card_assurance *card = calloc(1, sizeof *card);
    struct ag_act_result r;
    struct ag_moment m;
    uint8_t challenge[CF_CHALLENGE_LEN];
    rc = card ? 0 : ag_cli_fail(&cli, CF_ENOMEM, NULL);
    if (!rc)
        rc = ag_cli_open_store(&cli, ag_cli_value(o, N(o), "--store"), &store);
    /* the card signs this event's challenge (no visit id): read it, then append at once */
    bool sign = !rc && ag_card_challenge(store, NULL, challenge) == 0;
    if (!rc)
        rc = ag_cli_read_card(&cli, store, ag_cli_value(o, N(o), "--device"), wait,
                              AG_MSG_CLI_TAP_AID, sign ? challenge : NULL, card);
    if (!rc)
        rc = moment_now(&cli, &m);
    int arc = rc ? 0 : ag_aid_record(store, &f, card, &m, &r, &d);
    if (arc)
        rc = refused(&cli, arc, &d);
    if (!rc) {
        if (!cli.json)
            printf(AG_MSG_AID_CARD, card->last4[0] ? AG_MSG_AID_LAST_DIGITS : "", card->last4);
        rc = print_act(&cli, "aid.handed_over", &r,
                       returned ? AG_MSG_AID_RETURNED : AG_MSG_AID_HANDED_OVER);
    }
    free(card);
    ag_store_close(store);
    return rc;
}

int ag_cmd_aid(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "hand-over") == 0)
        return aid_record(argc - 1, argv + 1, false);
    if (argc >= 2 && strcmp(argv[1], "return") == 0)
        return aid_record(argc - 1, argv + 1, true);
    fprintf(stderr, "usage: carefact-agent aid hand-over|return (--application NUMBER | "
                    "--filing SEQ) --aid TEXT --inventory TEXT [--device CONNSTRING] ...\n");
    return argc >= 2 && strcmp(argv[1], "--help") == 0 ? AG_EXIT_OK : AG_EXIT_USAGE;
}
