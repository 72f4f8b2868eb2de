/* `carefact-agent enroll`, `sync` and `status`: the terminal's relation with the
 * server. Enrolment makes the Ed25519 key pair here (the private key never leaves
 * the store), sync runs ag_sync_run with progress for the worker, and status says
 * in plain Russian how many events wait and since when, when the last sync that
 * succeeded was, and how far the terminal's clock is from the server's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ag/cli.h"
#include "ag/clock.h"
#include "ag/commands.h"
#include "ag/http.h"
#include "ag/messages.h"
#include "ag/sync.h"
#include "ag/transport.h"
#include "ag/visit_commands.h"
#include "cf/batch.h"
#include "cf/codec.h"
#include "cf/json.h"
#include "cf/uuid.h"

#define N(opts) (sizeof opts / sizeof opts[0])
#define CODE_MAX 12

static void print_progress(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "%s\n", line);
}

/* "через 40 с" / "2 мин назад" for a moment relative to now. */
static void relative_text(int64_t when_ms, int64_t now_ms, char *out, size_t size)
{
    char d[32];
    ag_duration_text(when_ms > now_ms ? when_ms - now_ms : now_ms - when_ms, d);
    snprintf(out, size, when_ms > now_ms ? AG_MSG_WHEN_IN : AG_MSG_WHEN_AGO, d);
}

/* ==== enroll ==== */

static const char enroll_usage[] =
    "usage: carefact-agent enroll --server URL --code CODE [--ca FILE] [--store FILE] [--json]\n"
    "  Registers this terminal with the server using the one-time code a manager issued,\n"
    "  then loads the reference data (recipients, services, today's plans).\n"
    "  --server URL   https://host[:port] (http:// only for a server on this machine)\n"
    "  --code CODE    the enrolment code (up to 12 letters and digits)\n"
    "  --ca FILE      the server's CA certificate (PEM), pinned: required for https\n"
    "  --store FILE   the agent's store (default: CAREFACT_AGENT_STORE)\n"
    "  --json         print one JSON object instead of text\n";

static int read_ca(struct ag_cli *cli, const char *path, char *out, size_t out_size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ag_cli_usage_error(cli, "--ca: cannot read %.200s", path);
    size_t n = fread(out, 1, out_size - 1, f);
    bool more = fgetc(f) != EOF;
    fclose(f);
    out[n] = '\0';
    if (more)
        return ag_cli_usage_error(cli, "--ca: the file is larger than %zu bytes", out_size - 1);
    if (!strstr(out, "-----BEGIN CERTIFICATE-----"))
        return ag_cli_usage_error(cli, "--ca must be a PEM certificate (-----BEGIN CERTIFICATE)");
    return 0;
}

static int check_code(struct ag_cli *cli, const char *code, char out[CODE_MAX + 1])
{
    size_t len = strlen(code);
    if (len == 0 || len > CODE_MAX)
        return ag_cli_usage_error(cli, "--code must be 1..%d letters and digits", CODE_MAX);
    for (size_t i = 0; i <= len; i++) {
        char c = code[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c && !((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return ag_cli_usage_error(cli, "--code must be letters and digits only");
        out[i] = c;
    }
    return 0;
}

/* The server's 201 body into the identity. */
static int read_enrollment(const struct ag_reply *reply, struct ag_identity *id,
                           char epoch[AG_EPOCH_TEXT_MAX + 1], struct cf_error_detail *d)
{
    cJSON *root = NULL;
    char key_hex[129];
    uint8_t epoch_id[CF_UUID_LEN];
    int rc = cf_json_parse(reply->body, reply->body_len, 8192, &root, d);
    if (!rc)
        rc = cf_json_get_uuid(root, "device_id", "", true, id->device_id, d);
    if (!rc)
        rc = cf_json_get_uuid(root, "worker_id", "", true, id->worker_id, d);
    if (!rc)
        rc = cf_json_get_uuid(root, "provider_id", "", true, id->provider_id, d);
    if (!rc)
        rc = cf_json_get_uuid(root, "epoch", "", true, epoch_id, d);
    if (!rc)
        rc = cf_json_get_string(root, "token_key_hex", "", true, 128, key_hex, sizeof key_hex, d);
    if (!rc && (strlen(key_hex) < 32 || cf_hex_decode(key_hex, strlen(key_hex), id->token_key,
                                                      sizeof id->token_key, &id->token_key_len)))
        rc = cf_error_set(d, CF_EFIELD_RANGE, "token_key_hex", "token_key_hex is not 16..64 bytes");
    if (!rc)
        cf_uuid_to_text(epoch_id, epoch);
    cJSON_Delete(root);
    OPENSSL_cleanse(key_hex, sizeof key_hex);
    return rc;
}

static int enroll_request(struct ag_cli *cli, struct ag_identity *id, const char *code,
                          char epoch[AG_EPOCH_TEXT_MAX + 1])
{
    char public_text[64], error[256] = "", body[160];
    struct ag_transport *transport = NULL;
    struct ag_reply reply = {0};
    struct cf_error_detail d = {0};
    cf_base64url_encode(id->public_key, CF_ED25519_KEY_LEN, public_text, sizeof public_text);
    snprintf(body, sizeof body, "{\"code\":\"%s\",\"public_key\":\"%s\"}", code, public_text);
    int rc = ag_transport_http_new(id->server_url, id->ca_pem, 1u << 20, NULL, &transport);
    if (!rc)
        rc = transport->ops->enroll(transport, body, &reply, error, sizeof error);
    if (rc) {
        snprintf(d.message, sizeof d.message, "%s", error);
    } else if (reply.status == 201) {
        if (read_enrollment(&reply, id, epoch, &d))
            rc = CF_EBAD_ANSWER;
    } else {
        cJSON *problem = cJSON_ParseWithLength(reply.body, reply.body_len);
        const cJSON *detail = cJSON_GetObjectItemCaseSensitive(problem, "detail");
        snprintf(d.message, sizeof d.message, "HTTP %ld: %s", reply.status,
                 cJSON_IsString(detail) ? detail->valuestring : "no explanation");
        cJSON_Delete(problem);
        rc = reply.status == 403 ? CF_EDEVICE_REFUSED
             : reply.status >= 500 || reply.status == 408 || reply.status == 429 ? CF_ESERVER
             : reply.status == 400 || reply.status == 422                        ? CF_EREJECTED
                                                                                 : CF_EBAD_ANSWER;
        if (reply.status == 403 && !cli->json)
            fprintf(stderr, AG_MSG_ENROLL_CODE_REFUSED);
    }
    ag_reply_cleanup(&reply);
    ag_transport_free(transport);
    return rc ? ag_cli_fail(cli, rc, &d) : 0;
}

int ag_cmd_enroll(int argc, char **argv)
{
    struct ag_option o[] = {{"--server", true, false, 0, {0}},
                            {"--code", true, false, 0, {0}},
                            {"--ca", true, false, 0, {0}},
                            {"--store", true, false, 0, {0}},
                            {"--json", false, false, 0, {0}}};
    struct ag_cli cli = {"enroll", enroll_usage, false};
    struct ag_identity *id = calloc(1, sizeof *id);
    struct ag_store *store = NULL;
    char code[CODE_MAX + 1], error[256], epoch[AG_EPOCH_TEXT_MAX + 1];
    bool https = false;
    if (!id)
        return AG_EXIT_FAILED;
    int rc = ag_cli_parse(&cli, argc, argv, o, N(o));
    const char *server = ag_cli_value(o, N(o), "--server");
    const char *code_arg = ag_cli_value(o, N(o), "--code");
    const char *ca = ag_cli_value(o, N(o), "--ca");
    if (!rc && (!server || !code_arg))
        rc = ag_cli_usage_error(&cli, "--server and --code are required");
    if (!rc && ag_http_check_url(server, &https, error, sizeof error))
        rc = ag_cli_usage_error(&cli, "--server: %s", error);
    if (!rc && https && !ca)
        rc = ag_cli_usage_error(&cli, "--ca FILE is required for https: the server's CA is "
                                      "pinned");
    if (!rc && !https && ca)
        rc = ag_cli_usage_error(&cli, "--ca applies to https servers only");
    if (!rc && ca)
        rc = read_ca(&cli, ca, id->ca_pem, sizeof id->ca_pem);
    if (!rc)
        rc = check_code(&cli, code_arg, code);
    if (!rc)
        rc = ag_cli_open_store(&cli, ag_cli_value(o, N(o), "--store"), &store);
    struct ag_identity existing;
    if (!rc && ag_store_identity_get(store, &existing) == 0)
        rc = ag_cli_fail(&cli, CF_EENROLLED, NULL);
    ag_identity_wipe(&existing);
    if (!rc && cf_ed25519_generate(id->private_key, id->public_key))
        rc = ag_cli_fail(&cli, CF_ECRYPTO, NULL);
    if (rc)
        goto out;
    snprintf(id->server_url, sizeof id->server_url, "%s", server);
    if (strlen(id->server_url) && id->server_url[strlen(id->server_url) - 1] == '/')
        id->server_url[strlen(id->server_url) - 1] = '\0';
    rc = enroll_request(&cli, id, code, epoch);
    if (rc)
        goto out;
    id->enrolled_ms = ag_wall_now_ms();
    int src = ag_store_identity_set(store, id);
    if (!src)
        src = ag_store_mark_acked(store, 0, epoch);
    if (src) {
        rc = ag_cli_fail(&cli, src, NULL);
        goto out;
    }
    char device[CF_UUID_TEXT_LEN + 1], worker[CF_UUID_TEXT_LEN + 1];
    cf_uuid_to_text(id->device_id, device);
    cf_uuid_to_text(id->worker_id, worker);
    if (!cli.json)
        printf(AG_MSG_ENROLL_DONE, device, worker);
    struct ag_sync_options opt = {.progress = cli.json ? NULL : print_progress};
    struct ag_sync_report rep;
    ag_sync_run(store, &opt, &rep);
    if (cli.json) {
        cJSON *obj = cJSON_CreateObject();
        cJSON_AddStringToObject(obj, "device_id", device);
        cJSON_AddStringToObject(obj, "worker_id", worker);
        cJSON_AddStringToObject(obj, "epoch", epoch);
        cJSON_AddNumberToObject(obj, "reference_fetched", (double)rep.ref_fetched);
        cJSON_AddStringToObject(obj, "reference_error", rep.error ? cf_error_name(rep.error) : "");
        rc = ag_cli_print_json(obj);
    } else if (rep.error) {
        printf(AG_MSG_ENROLL_REFERENCE_FAILED, rep.message);
    } else {
        printf(
            AG_MSG_ENROLL_REFERENCE_LOADED, rep.ref_fetched,
            ag_plural(rep.ref_fetched, AG_MSG_RECORD_ONE, AG_MSG_RECORD_FEW, AG_MSG_RECORD_MANY));
    }
out:
    ag_store_close(store);
    ag_identity_wipe(id);
    free(id);
    return rc < 0 ? AG_EXIT_OK : rc;
}

/* ==== sync ==== */

static const char sync_usage[] =
    "usage: carefact-agent sync [--auto] [--upload-only] [--batch N] [--store FILE] [--json]\n"
    "  Sends the events waiting in the terminal and updates the reference data.\n"
    "  --auto          as the timer does: respects the back-off after failures and does\n"
    "                  not retry a refusal a person must look at\n"
    "  --upload-only   send events, skip the reference data\n"
    "  --batch N       events per upload, 1..1000 (default 100; halved on 413)\n";

static cJSON *report_json(const struct ag_sync_report *rep)
{
    cJSON *obj = cJSON_CreateObject();
    if (!obj)
        return NULL;
    cJSON_AddBoolToObject(obj, "ok", rep->error == 0);
    if (rep->error) {
        cJSON_AddStringToObject(obj, "error", cf_error_name(rep->error));
        cJSON_AddStringToObject(obj, "message", rep->message);
        cJSON_AddStringToObject(obj, "detail", rep->detail);
    }
    cJSON_AddNumberToObject(obj, "uploaded", (double)rep->uploaded);
    cJSON_AddNumberToObject(obj, "acked_seq", (double)rep->acked_seq);
    cJSON_AddNumberToObject(obj, "waiting", (double)rep->waiting);
    cJSON_AddBoolToObject(obj, "epoch_changed", rep->epoch_changed);
    cJSON_AddNumberToObject(obj, "reuploaded_from", (double)rep->reuploaded_from);
    cJSON *ref = cJSON_AddObjectToObject(obj, "reference");
    if (ref) {
        cJSON_AddBoolToObject(ref, "done", rep->reference_done);
        cJSON_AddNumberToObject(ref, "fetched", (double)rep->ref_fetched);
        cJSON_AddNumberToObject(ref, "dropped", (double)rep->ref_dropped);
        cJSON_AddNumberToObject(ref, "refused", (double)rep->ref_refused);
        cJSON_AddStringToObject(ref, "problem", rep->ref_problem);
    }
    if (rep->skew_known)
        cJSON_AddNumberToObject(obj, "skew_ms", (double)rep->skew_ms);
    else
        cJSON_AddNullToObject(obj, "skew_ms");
    cJSON_AddBoolToObject(obj, "held", rep->held);
    cJSON_AddNumberToObject(obj, "next_attempt_ms", (double)rep->next_attempt_ms);
    return obj;
}

static void print_report(const struct ag_sync_report *rep)
{
    char when[48];
    if (rep->error) {
        fprintf(stderr, "%s\n", rep->message);
        if (rep->detail[0])
            fprintf(stderr, "(%s)\n", rep->detail);
        relative_text(rep->next_attempt_ms, ag_wall_now_ms(), when, sizeof when);
        if (rep->held)
            fprintf(stderr, AG_MSG_SYNC_HELD);
        else if (rep->next_attempt_ms)
            fprintf(stderr, AG_MSG_SYNC_NEXT_ATTEMPT, when);
    } else {
        printf(AG_MSG_SYNC_DONE);
    }
    printf(AG_MSG_SYNC_SENT_WAITING, (unsigned long long)rep->uploaded,
           (unsigned long long)rep->waiting);
    if (rep->reuploaded_from)
        printf(AG_MSG_SYNC_REUPLOADED, (unsigned long long)rep->reuploaded_from);
    if (rep->reference_done)
        printf(AG_MSG_SYNC_REFERENCE_COUNTS, rep->ref_fetched, rep->ref_dropped);
    if (rep->ref_refused)
        printf(AG_MSG_SYNC_REFERENCE_REFUSED, rep->ref_refused, rep->ref_problem);
    if (rep->skew_known)
        printf(AG_MSG_CLOCK_SKEW, (long long)(rep->skew_ms / 1000));
}

int ag_cmd_sync(int argc, char **argv)
{
    struct ag_option o[] = {{"--auto", false, false, 0, {0}},
                            {"--upload-only", false, false, 0, {0}},
                            {"--batch", true, false, 0, {0}},
                            {"--store", true, false, 0, {0}},
                            {"--json", false, false, 0, {0}}};
    struct ag_cli cli = {"sync", sync_usage, false};
    struct ag_store *store = NULL;
    long batch = AG_SYNC_BATCH;
    int rc = ag_cli_parse(&cli, argc, argv, o, N(o));
    const char *b = ag_cli_value(o, N(o), "--batch");
    if (!rc && b)
        rc = ag_cli_long(&cli, "--batch", b, 1, CF_BATCH_MAX_EVENTS, &batch);
    if (!rc)
        rc = ag_cli_open_store(&cli, ag_cli_value(o, N(o), "--store"), &store);
    if (rc)
        goto out;
    struct ag_sync_options opt = {.automatic = ag_cli_option(o, N(o), "--auto") != NULL,
                                  .skip_reference = ag_cli_option(o, N(o), "--upload-only") != NULL,
                                  .batch_max = (size_t)batch,
                                  .progress = cli.json ? NULL : print_progress};
    struct ag_sync_report rep;
    int src = ag_sync_run(store, &opt, &rep);
    if (cli.json)
        ag_cli_print_json(report_json(&rep));
    else if (src == CF_EBACKOFF && !rep.held) {
        char when[48];
        relative_text(rep.next_attempt_ms, ag_wall_now_ms(), when, sizeof when);
        printf(AG_MSG_SYNC_NOT_DUE, when);
    } else
        print_report(&rep);
    rc = src == 0 || (src == CF_EBACKOFF && !rep.held) ? AG_EXIT_OK : AG_EXIT_FAILED;
out:
    ag_store_close(store);
    return rc < 0 ? AG_EXIT_OK : rc;
}

/* ==== status ==== */

static const char status_usage[] =
    "usage: carefact-agent status [--verify] [--store FILE] [--json]\n"
    "  How many events wait and since when, the last successful sync, the clock skew.\n"
    "  --verify   also check the whole store and its chain of events\n";

struct ref_counts {
    long recipients, services, plans;
};

static int count_one(void *ctx, const char *id, const char *body, uint64_t basis_seq)
{
    (void)id;
    (void)body;
    (void)basis_seq;
    (*(long *)ctx)++;
    return 0;
}

static void count_reference(struct ag_store *store, struct ref_counts *c)
{
    memset(c, 0, sizeof *c);
    ag_store_ref_each(store, "recipient", count_one, &c->recipients);
    ag_store_ref_each(store, "service", count_one, &c->services);
    ag_store_ref_each(store, "plan", count_one, &c->plans);
}

static void print_status_text(const struct ag_identity *id, bool enrolled,
                              const struct ag_queue_stats *q, const struct ag_sync_state *st,
                              const struct ref_counts *refs)
{
    int64_t now = ag_wall_now_ms();
    char text[48], at[8];
    if (!enrolled) {
        printf(AG_MSG_STATUS_NOT_ENROLLED);
    } else {
        char device[CF_UUID_TEXT_LEN + 1];
        cf_uuid_to_text(id->device_id, device);
        printf(AG_MSG_STATUS_TERMINAL, device, id->server_url);
    }
    if (q->waiting) {
        relative_text(q->oldest_waiting_ms, now, text, sizeof text);
        ag_local_time(q->oldest_waiting_ms, at);
        printf(AG_MSG_STATUS_WAITING, (unsigned long long)q->waiting,
               ag_plural(q->waiting, AG_MSG_EVENT_ONE, AG_MSG_EVENT_FEW, AG_MSG_EVENT_MANY), text,
               at);
    } else if (q->last_seq) {
        printf(AG_MSG_STATUS_ALL_SENT, (unsigned long long)q->last_seq);
    } else {
        printf(AG_MSG_STATUS_NO_EVENTS);
    }
    if (st->last_sync_ms) {
        relative_text(st->last_sync_ms, now, text, sizeof text);
        ag_local_time(st->last_sync_ms, at);
        printf(AG_MSG_STATUS_LAST_SYNC, at, text);
    } else {
        printf(AG_MSG_STATUS_NEVER_SYNCED);
    }
    if (st->skew_known)
        printf(AG_MSG_CLOCK_SKEW, (long long)(st->skew_ms / 1000));
    else
        printf(AG_MSG_STATUS_SKEW_UNKNOWN);
    if (st->last_error) {
        printf(AG_MSG_STATUS_LAST_FAILURE, st->last_message);
        relative_text(st->next_attempt_ms, now, text, sizeof text);
        if (st->held)
            printf(AG_MSG_SYNC_HELD);
        else
            printf(AG_MSG_SYNC_NEXT_ATTEMPT, text);
    } else if (st->last_message[0]) {
        printf("%s\n", st->last_message);
    }
    printf(AG_MSG_STATUS_REFERENCE, refs->recipients, refs->services, refs->plans);
}

static cJSON *status_json(const struct ag_identity *id, bool enrolled,
                          const struct ag_queue_stats *q, const struct ag_sync_state *st,
                          const struct ref_counts *refs)
{
    char device[CF_UUID_TEXT_LEN + 1];
    int64_t now = ag_wall_now_ms();
    cJSON *obj = cJSON_CreateObject();
    cJSON *events = cJSON_AddObjectToObject(obj, "events");
    cJSON *sync = cJSON_AddObjectToObject(obj, "sync");
    cJSON *ref = cJSON_AddObjectToObject(obj, "reference");
    if (!events || !sync || !ref) {
        cJSON_Delete(obj);
        return NULL;
    }
    cJSON_AddBoolToObject(obj, "enrolled", enrolled);
    if (enrolled) {
        cf_uuid_to_text(id->device_id, device);
        cJSON_AddStringToObject(obj, "device_id", device);
        cJSON_AddStringToObject(obj, "server", id->server_url);
    }
    cJSON_AddNumberToObject(events, "last_seq", (double)q->last_seq);
    cJSON_AddNumberToObject(events, "acked_seq", (double)q->acked_seq);
    cJSON_AddNumberToObject(events, "waiting", (double)q->waiting);
    cJSON_AddNumberToObject(events, "oldest_waiting_ms", (double)q->oldest_waiting_ms);
    cJSON_AddNumberToObject(events, "oldest_age_s",
                            q->waiting ? (double)((now - q->oldest_waiting_ms) / 1000) : 0);
    cJSON_AddNumberToObject(sync, "last_sync_ms", (double)st->last_sync_ms);
    cJSON_AddStringToObject(sync, "epoch", st->epoch);
    if (st->skew_known)
        cJSON_AddNumberToObject(sync, "skew_ms", (double)st->skew_ms);
    else
        cJSON_AddNullToObject(sync, "skew_ms");
    cJSON_AddStringToObject(sync, "last_error",
                            st->last_error ? cf_error_name(st->last_error) : "");
    cJSON_AddStringToObject(sync, "message", st->last_message);
    cJSON_AddBoolToObject(sync, "held", st->held);
    cJSON_AddNumberToObject(sync, "failures", st->failures);
    cJSON_AddNumberToObject(sync, "next_attempt_ms", (double)st->next_attempt_ms);
    cJSON_AddNumberToObject(ref, "recipients", (double)refs->recipients);
    cJSON_AddNumberToObject(ref, "services", (double)refs->services);
    cJSON_AddNumberToObject(ref, "plans", (double)refs->plans);
    cJSON_AddNumberToObject(ref, "updated_ms", (double)st->reference_ms);
    return obj;
}

int ag_cmd_status(int argc, char **argv)
{
    struct ag_option o[] = {{"--verify", false, false, 0, {0}},
                            {"--store", true, false, 0, {0}},
                            {"--json", false, false, 0, {0}}};
    struct ag_cli cli = {"status", status_usage, false};
    struct ag_store *store = NULL;
    struct ag_identity *id = calloc(1, sizeof *id);
    if (!id)
        return AG_EXIT_FAILED;
    int rc = ag_cli_parse(&cli, argc, argv, o, N(o));
    if (!rc)
        rc = ag_cli_open_store(&cli, ag_cli_value(o, N(o), "--store"), &store);
    if (rc)
        goto out;
    struct ag_queue_stats q;
    struct ag_sync_state st;
    struct ref_counts refs;
    int src = ag_store_queue_stats(store, &q);
    if (!src)
        src = ag_store_sync_get(store, &st);
    if (src) {
        rc = ag_cli_fail(&cli, src, NULL);
        goto out;
    }
    bool enrolled = ag_store_identity_get(store, id) == 0;
    count_reference(store, &refs);
    struct ag_verify_report vr = {0};
    struct cf_error_detail d = {0};
    int vrc = ag_cli_option(o, N(o), "--verify") ? ag_store_verify(store, &vr, &d) : 1;
    if (cli.json) {
        cJSON *obj = status_json(id, enrolled, &q, &st, &refs);
        cJSON *verify = vrc != 1 && obj ? cJSON_AddObjectToObject(obj, "verify") : NULL;
        if (verify) {
            cJSON_AddBoolToObject(verify, "ok", vrc == 0);
            cJSON_AddNumberToObject(verify, "events", (double)vr.events);
            cJSON_AddNumberToObject(verify, "bad_seq", (double)vr.bad_seq);
            cJSON_AddStringToObject(verify, "error", vrc ? cf_error_name(vrc) : "");
            cJSON_AddStringToObject(verify, "detail", d.message);
        }
        rc = ag_cli_print_json(obj);
    } else {
        print_status_text(id, enrolled, &q, &st, &refs);
        if (vrc == 0)
            printf(AG_MSG_STATUS_VERIFIED, (unsigned long long)vr.events);
        else if (vrc != 1)
            printf(AG_MSG_STATUS_DAMAGED, ag_message(vrc), d.message);
    }
    if (vrc != 0 && vrc != 1)
        rc = AG_EXIT_FAILED;
out:
    ag_store_close(store);
    ag_identity_wipe(id);
    free(id);
    return rc < 0 ? AG_EXIT_OK : rc;
}
