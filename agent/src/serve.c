/* `carefact-agent serve`: the agent as a local daemon for the touch UI (agent/ui/,
 * shown by the terminal's kiosk browser). It owns the reader, the store and sync as
 * the command line does -- the same visit library (visit.c), the same card tap
 * (card_tap.c), the same sync (sync.c) -- and answers a small JSON API on 127.0.0.1.
 *
 * Security model (agent/README.md, "The touch UI"):
 *  - bound to 127.0.0.1 only; every answer checks the Host header is exactly
 *    127.0.0.1:PORT (a DNS-rebinding page names its own host);
 *  - a secret made at every start (32 random bytes) is written, inside the start URL,
 *    to a file only the user can read (0600); GET /start?k=SECRET sets it as an
 *    HttpOnly, SameSite=Strict cookie and every /api call must carry it;
 *  - an Origin header, when sent, must be this daemon's own origin; a browser's
 *    Sec-Fetch-Site, when sent, must be same-origin; every POST must be JSON with
 *    the X-Carefact-UI header -- a page of another origin can send neither without
 *    a CORS preflight, which is never answered (no CORS headers at all);
 *  - no inline script (Content-Security-Policy default-src 'self'), no framing.
 *
 * Threads: civetweb's workers answer; one lock guards the store handle they share,
 * another the reader (a card wait never holds the store). A sync thread runs the
 * command line's `carefact-agent sync --auto` as a child process after each step,
 * when due, and when a link comes up: the daemon itself links no HTTP or TLS code
 * (built as carefact-agentd with --as-needed; `carefact-agent serve` execs it). */
#include <civetweb.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ag/acts.h"
#include "ag/card_tap.h"
#include "ag/cli.h"
#include "ag/clock.h"
#include "ag/commands.h"
#include "ag/lists.h"
#include "ag/messages.h"
#include "ag/reader.h"
#include "ag/reference.h"
#include "ag/sync.h"
#include "ag/trips.h"
#include "ag/visit.h"
#include "ag/visit_commands.h"
#include "cf/uuid.h"

#define N(opts) (sizeof opts / sizeof opts[0])
#define SECRET_BYTES 32
#define TAP_ID_BYTES 16
#define TAP_TTL_MS 120000 /* a tap not used within two minutes is forgotten */
#define TAP_WAIT_MS_MAX 5000 /* one /api/tap call waits at most this long */
#define BODY_MAX 8192
#define SAY_MAX 600
#define IDLE_TICK_MS 15000
#define UI_FILE_MAX (256 * 1024)

extern char **environ;

struct tap {
    char id[TAP_ID_BYTES * 2 + 1]; /* "" = none */
    struct cf_card_assurance card;
    struct ag_moment moment;
    int64_t at_mono_ms;
    uint8_t visit_id[CF_UUID_LEN]; /* the visit the card's challenge was made for */
    bool has_visit_id;
};

struct daemon {
    struct ag_store *store; /* the workers' handle, under store_lock */
    pthread_mutex_t store_lock, reader_lock, tap_lock, sync_lock, wake_lock;
    pthread_cond_t sync_wake;
    bool sync_now, stopping;
    char store_path[1024];
    char agent_path[1024]; /* carefact-agent, for the sync */
    char device[256];
    uint8_t token_key[64];
    size_t token_key_len;
    char secret[SECRET_BYTES * 2 + 1];
    char host[32], origin[48];
    char ui_dir[1024];
    struct tap tap;
    /* speech */
    bool speech_on;
    char speech_command[256], speech_wav_dir[1024], speech_log[1024];
    unsigned speech_count;
    pthread_mutex_t speech_lock;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void hex(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static bool same_secret(const char *a, const char *b)
{
    size_t n = strlen(b);
    return strlen(a) == n && CRYPTO_memcmp(a, b, n) == 0;
}

/* ==== Answers ==== */

static const char security_headers[] =
    "Cache-Control: no-store\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "X-Frame-Options: DENY\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'; form-action 'none'; "
    "base-uri 'none'\r\n";

static int send_text(struct mg_connection *c, int status, const char *type, const char *body,
                     size_t len, const char *extra)
{
    mg_printf(c,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s"
              "Connection: close\r\n\r\n",
              status, mg_get_response_code_text(c, status), type, len, security_headers,
              extra ? extra : "");
    if (len)
        mg_write(c, body, len);
    return status;
}

static int send_json(struct mg_connection *c, int status, cJSON *obj)
{
    char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    if (!text)
        return send_text(c, 500, "application/json", "{\"error\":\"nomem\"}", 17, NULL);
    int rc = send_text(c, status, "application/json; charset=utf-8", text, strlen(text), NULL);
    free(text);
    return rc;
}

/* An outcome of a step for the worker: its name and its Russian sentence. */
static cJSON *outcome(int rc)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", rc == 0);
    if (rc) {
        cJSON_AddStringToObject(o, "error", cf_error_name(rc));
        cJSON_AddStringToObject(o, "message", ag_message(rc));
    }
    return o;
}

/* ==== The checks every request passes ==== */

static bool header_is(struct mg_connection *c, const char *name, const char *want)
{
    const char *v = mg_get_header(c, name);
    return v && strcmp(v, want) == 0;
}

/* Host always; for /api also the cookie, Origin, Sec-Fetch-Site and, for a POST,
 * the JSON content type and the X-Carefact-UI header. */
static bool allowed(struct mg_connection *c, struct daemon *d, bool api, bool post)
{
    if (!header_is(c, "Host", d->host))
        return false;
    const char *origin = mg_get_header(c, "Origin");
    if (origin && strcmp(origin, d->origin) != 0)
        return false;
    if (!api)
        return true;
    const char *site = mg_get_header(c, "Sec-Fetch-Site");
    if (site && strcmp(site, "same-origin") != 0)
        return false;
    const char *cookies = mg_get_header(c, "Cookie");
    char value[SECRET_BYTES * 2 + 2];
    if (!cookies || mg_get_cookie(cookies, "cf_ui", value, sizeof value) <= 0 ||
        !same_secret(value, d->secret))
        return false;
    if (post) {
        const char *type = mg_get_header(c, "Content-Type");
        if (!type || strncmp(type, "application/json", 16) != 0 ||
            !header_is(c, "X-Carefact-UI", "1"))
            return false;
    }
    return true;
}

static int refuse(struct mg_connection *c)
{
    static const char body[] = "{\"error\":\"forbidden\"}";
    return send_text(c, 403, "application/json", body, sizeof body - 1, NULL);
}

/* ==== Speech ==== */

/* Speak text (UTF-8, checked by the caller) with espeak-ng in Russian, without
 * waiting for it: into DIR/NNNN.wav when --speech-wav is given (tests, no sound
 * card), else to the sound device. Each text is also appended to --speech-log. */
static void speak(struct daemon *d, const char *text)
{
    pthread_mutex_lock(&d->speech_lock);
    bool on = d->speech_on;
    unsigned n = ++d->speech_count;
    if (on && d->speech_log[0]) {
        FILE *f = fopen(d->speech_log, "a");
        if (f) {
            fprintf(f, "%s\n", text);
            fclose(f);
        }
    }
    pthread_mutex_unlock(&d->speech_lock);
    if (!on || !d->speech_command[0])
        return;
    char wav[1100];
    char *argv[8];
    size_t a = 0;
    argv[a++] = d->speech_command;
    argv[a++] = "-v";
    argv[a++] = "ru";
    if (d->speech_wav_dir[0]) {
        snprintf(wav, sizeof wav, "%s/%04u.wav", d->speech_wav_dir, n);
        argv[a++] = "-w";
        argv[a++] = wav;
    }
    argv[a++] = "--";
    argv[a++] = (char *)text;
    argv[a] = NULL;
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&pid, d->speech_command, &fa, NULL, argv, environ) != 0)
        fprintf(stderr, "carefact-agent serve: cannot run %s\n", d->speech_command);
    posix_spawn_file_actions_destroy(&fa);
}

/* ==== Reading the request ==== */

static cJSON *read_body(struct mg_connection *c)
{
    const struct mg_request_info *ri = mg_get_request_info(c);
    if (ri->content_length < 0 || ri->content_length > BODY_MAX)
        return NULL;
    char *buf = malloc((size_t)ri->content_length + 1);
    if (!buf)
        return NULL;
    size_t got = 0;
    while (got < (size_t)ri->content_length) {
        int n = mg_read(c, buf + got, (size_t)ri->content_length - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    cJSON *j = got == (size_t)ri->content_length ? cJSON_Parse(buf) : NULL;
    free(buf);
    if (j && !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        j = NULL;
    }
    return j;
}

static const char *jstr(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool juuid(const cJSON *o, const char *name, uint8_t out[CF_UUID_LEN])
{
    const char *s = jstr(o, name);
    return s && cf_uuid_from_text(s, out) == 0;
}

static long jint(const cJSON *o, const char *name, long dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) ? (long)v->valuedouble : dflt;
}

/* Take the tap named in the body (it is used once; keep = leave it for a second
 * step, as after a card of another recipient); visit_id (may be NULL) receives the
 * visit its card's challenge was made for, when there is one. Returns false when it is
 * unknown or older than TAP_TTL_MS. */
static bool take_tap(struct daemon *d, const cJSON *body, bool keep, struct cf_card_assurance *card,
                     struct ag_moment *moment, uint8_t *visit_id)
{
    const char *id = jstr(body, "tap");
    bool ok = false;
    pthread_mutex_lock(&d->tap_lock);
    if (id && d->tap.id[0] && same_secret(id, d->tap.id) &&
        mono_ms() - d->tap.at_mono_ms <= TAP_TTL_MS) {
        *card = d->tap.card;
        *moment = d->tap.moment;
        if (visit_id && d->tap.has_visit_id)
            memcpy(visit_id, d->tap.visit_id, CF_UUID_LEN);
        ok = true;
        if (!keep)
            OPENSSL_cleanse(&d->tap, sizeof d->tap);
    }
    pthread_mutex_unlock(&d->tap_lock);
    return ok;
}

/* ==== Views ==== */

static void add_uuid(cJSON *o, const char *name, const uint8_t id[CF_UUID_LEN])
{
    char text[CF_UUID_TEXT_LEN + 1];
    cf_uuid_to_text(id, text);
    cJSON_AddStringToObject(o, name, text);
}

static cJSON *view_json(const struct ag_recipient_view *v)
{
    cJSON *o = cJSON_CreateObject();
    add_uuid(o, "recipient_id", v->recipient.id);
    cJSON_AddStringToObject(o, "recipient", v->recipient.full_name);
    cJSON_AddBoolToObject(o, "certificate_valid", v->certificate_valid);
    cJSON_AddStringToObject(o, "certificate", v->certificate_number);
    cJSON_AddStringToObject(o, "valid_to", v->valid_to);
    cJSON *list = cJSON_AddArrayToObject(o, "services");
    for (size_t i = 0; i < v->available_count; i++) {
        const struct ag_available *a = &v->available[i];
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "code", a->code);
        cJSON_AddStringToObject(s, "name", a->name);
        cJSON_AddNumberToObject(s, "volume", (double)a->volume);
        cJSON_AddNumberToObject(s, "remaining", (double)a->remaining);
        cJSON_AddNumberToObject(s, "norm_minutes", a->norm_minutes);
        cJSON_AddItemToArray(list, s);
    }
    return o;
}

static void add_candidates(cJSON *o, const struct ag_visit_result *r)
{
    cJSON *list = cJSON_AddArrayToObject(o, "card_of");
    for (size_t i = 0; i < r->candidate_count; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "recipient_id", r->candidate_ids[i]);
        cJSON_AddStringToObject(c, "recipient", r->candidates[i]);
        cJSON_AddItemToArray(list, c);
    }
}

static void add_sync_state(cJSON *o, struct ag_store *s)
{
    struct ag_queue_stats q;
    struct ag_sync_state st;
    cJSON *j = cJSON_AddObjectToObject(o, "sync");
    if (ag_store_queue_stats(s, &q) || ag_store_sync_get(s, &st))
        return;
    cJSON_AddNumberToObject(j, "waiting", (double)q.waiting);
    cJSON_AddNumberToObject(j, "oldest_waiting_ms", (double)q.oldest_waiting_ms);
    cJSON_AddNumberToObject(j, "last_sync_ms", (double)st.last_sync_ms);
    cJSON_AddBoolToObject(j, "held", st.held);
    cJSON_AddBoolToObject(j, "offline",
                          st.failures > 0 &&
                              (st.last_error == CF_ENETWORK || st.last_error == CF_ESERVER ||
                               st.last_error == CF_ETLS));
    cJSON_AddStringToObject(j, "message", st.failures || st.held ? st.last_message : "");
}

/* The open visit: who, since when, how long (the monotonic clock on one boot) and
 * what the certificate still allows. */
static void add_open_visit(cJSON *o, struct ag_store *s)
{
    struct ag_visit_row row;
    struct ag_moment now;
    if (ag_moment_now(&now) || ag_store_visit_find(s, AG_FIND_OPEN, NULL, &row) ||
        now.wall_ms - row.started_wall_ms > AG_VISIT_ABANDON_MS)
        return;
    struct ag_recipient_view *v = malloc(sizeof *v);
    if (v && ag_recipient_view(s, row.recipient_id, now.wall_ms, v) == 0) {
        cJSON *j = view_json(v);
        add_uuid(j, "visit_id", row.visit_id);
        cJSON_AddNumberToObject(j, "started_ms", (double)row.started_wall_ms);
        bool same = memcmp(row.start_boot_id, now.boot_id, CF_UUID_LEN) == 0;
        int64_t ms = same ? now.mono_ms - row.started_mono_ms : now.wall_ms - row.started_wall_ms;
        cJSON_AddNumberToObject(j, "minutes", (double)((ms < 0 ? 0 : ms) / 60000));
        cJSON_AddItemToObject(o, "open", j);
    }
    free(v);
}

static void add_unrated(cJSON *o, struct ag_store *s)
{
    struct ag_visit_row row;
    if (ag_store_visit_find(s, AG_FIND_UNRATED, NULL, &row))
        return;
    struct ag_recipient_view *v = malloc(sizeof *v);
    if (v && ag_recipient_view(s, row.recipient_id, row.ended_wall_ms, v) == 0) {
        cJSON *j = cJSON_CreateObject();
        add_uuid(j, "visit_id", row.visit_id);
        cJSON_AddStringToObject(j, "recipient", v->recipient.full_name);
        cJSON_AddNumberToObject(j, "ended_ms", (double)row.ended_wall_ms);
        cJSON_AddItemToObject(o, "unrated", j);
    }
    free(v);
}

static void add_plans(cJSON *o, struct ag_store *s)
{
    struct ag_plan_entry *plans = NULL;
    size_t count = 0;
    cJSON *list = cJSON_AddArrayToObject(o, "plans");
    if (ag_plans_collect(s, &plans, &count))
        return;
    for (size_t i = 0; i < count; i++) {
        cJSON *p = cJSON_CreateObject();
        add_uuid(p, "plan_id", plans[i].plan.id);
        add_uuid(p, "recipient_id", plans[i].plan.recipient_id);
        cJSON_AddStringToObject(p, "recipient", plans[i].recipient_name);
        cJSON_AddNumberToObject(p, "planned_ms", (double)plans[i].plan.planned_start_ms);
        cJSON_AddStringToObject(
            p, "state",
            plans[i].state == AG_VISIT_NONE ? "planned" : ag_visit_state_name(plans[i].state));
        cJSON_AddItemToArray(list, p);
    }
    free(plans);
}

/* The brigade trips held (issue 16): the plan screen shows them under the day's plan. */
static void add_trips(cJSON *o, struct ag_store *s)
{
    struct ag_trip *trips[AG_TRIPS_HELD_MAX];
    size_t count = 0;
    cJSON *list = cJSON_AddArrayToObject(o, "trips");
    if (ag_trips_collect(s, trips, &count))
        return;
    for (size_t i = 0; list && i < count; i++) {
        cJSON *t = ag_trip_to_json(trips[i]);
        if (t && !cJSON_AddItemToArray(list, t))
            cJSON_Delete(t);
    }
    ag_trips_free(trips, count);
}

/* The survey offered after a visit (issues 16, 17): the first instrument held in the
 * reference data (sql/0035 sends the ones a terminal offers). 0 with *out, or CF_ENO_VISIT
 * when none is held (the page then skips the survey). */
static int first_survey(void *ctx, const char *id, const char *body, uint64_t basis_seq)
{
    struct cf_error_detail d = {0};
    (void)id;
    (void)basis_seq;
    return ag_survey_parse(body, ctx, &d) == 0 ? 1 : 0; /* a damaged one: the next */
}

static int survey_held(struct ag_store *s, struct ag_survey *out)
{
    int rc = ag_store_ref_each(s, "survey", first_survey, out);
    return rc == 1 ? 0 : rc ? rc : CF_ENO_VISIT;
}

static void add_survey(cJSON *o, struct ag_store *s)
{
    struct ag_survey *sv = malloc(sizeof *sv);
    cJSON *j = sv && survey_held(s, sv) == 0 ? cJSON_AddObjectToObject(o, "survey") : NULL;
    if (j) {
        cJSON_AddStringToObject(j, "instrument", sv->instrument);
        cJSON_AddNumberToObject(j, "version", sv->version);
        cJSON_AddStringToObject(j, "name", sv->name);
        cJSON *list = cJSON_AddArrayToObject(j, "questions");
        for (size_t i = 0; list && i < sv->question_count; i++) {
            const struct ag_survey_question *q = &sv->questions[i];
            cJSON *qj = cJSON_CreateObject();
            cJSON_AddStringToObject(qj, "code", q->code);
            cJSON_AddStringToObject(qj, "kind", ag_question_kind_name(q->kind));
            cJSON_AddStringToObject(qj, "text", q->text);
            cJSON_AddBoolToObject(qj, "required", q->required);
            if (!cJSON_AddItemToArray(list, qj))
                cJSON_Delete(qj);
        }
    }
    free(sv);
}

/* ==== API ==== */

static cJSON *api_state(struct daemon *d)
{
    cJSON *o = cJSON_CreateObject();
    add_plans(o, d->store);
    add_trips(o, d->store);
    add_open_visit(o, d->store);
    add_unrated(o, d->store);
    add_survey(o, d->store);
    add_sync_state(o, d->store);
    cJSON_AddBoolToObject(o, "speech", d->speech_on);
    cJSON_AddNumberToObject(o, "now_ms", (double)ag_wall_now_ms());
    return o;
}

static cJSON *api_recipients(struct daemon *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(o, "recipients");
    struct ag_id_list ids = {0};
    struct ag_recipient_view *v = malloc(sizeof *v);
    int64_t now = ag_wall_now_ms();
    if (v && ag_recipient_ids(d->store, &ids) == 0)
        for (size_t i = 0; i < ids.count; i++) {
            uint8_t id[CF_UUID_LEN];
            if (cf_uuid_from_text(ids.ids[i], id) || ag_recipient_view(d->store, id, now, v))
                continue;
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "recipient_id", ids.ids[i]);
            cJSON_AddStringToObject(r, "recipient", v->recipient.full_name);
            cJSON_AddItemToArray(list, r);
        }
    free(ids.ids);
    free(v);
    return o;
}

/* The challenge (api/PROTOCOL.md 4.5) of the event the tap will confirm, "for" in the
 * body: "start" (a visit id made now, kept with the tap for the start), "end" (the
 * visit in progress), "bind" or "checkin" (no visit); the card signs it, so its proof belongs to
 * that event. Anything else (a door attempt) asks no proof. Returns true with the
 * challenge made. */
static bool tap_challenge(struct daemon *d, const char *what, struct tap *t,
                          uint8_t challenge[CF_CHALLENGE_LEN])
{
    int rc = -1;
    t->has_visit_id = false;
    if (!what)
        return false;
    pthread_mutex_lock(&d->store_lock);
    if (strcmp(what, "start") == 0)
        rc = cf_uuid_v7(ag_wall_now_ms(), t->visit_id);
    else if (strcmp(what, "end") == 0)
        rc = ag_visit_end_target(d->store, NULL, ag_wall_now_ms(), t->visit_id);
    else if (strcmp(what, "bind") == 0 || strcmp(what, "checkin") == 0)
        rc = 0; /* no visit: a binding, a check-in at an office's desk */
    t->has_visit_id = !rc && strcmp(what, "bind") != 0 && strcmp(what, "checkin") != 0;
    if (!rc)
        rc = ag_card_challenge(d->store, t->has_visit_id ? t->visit_id : NULL, challenge);
    pthread_mutex_unlock(&d->store_lock);
    return rc == 0;
}

/* One card read on a thread of its own: civetweb's worker threads have small stacks, and
 * an EMV read with its proof (certificates, the static data, the signature) is deep --
 * under AddressSanitizer it overflowed one. TAP_STACK_BYTES is address space; only the
 * pages the read touches are memory. */
#define TAP_STACK_BYTES (4u << 20)

struct tap_job {
    const struct daemon *d;
    int wait_ms;
    const uint8_t *challenge;
    struct cf_card_assurance *card;
    int rc;
};

static void *tap_job_run(void *arg)
{
    struct tap_job *j = arg;
    j->rc = ag_card_tap_key(j->d->device, j->d->token_key, j->d->token_key_len, j->wait_ms,
                            j->challenge, j->card);
    return NULL;
}

static int tap_on_own_stack(const struct daemon *d, int wait_ms, const uint8_t *challenge,
                            struct cf_card_assurance *card)
{
    struct tap_job job = {d, wait_ms, challenge, card, CF_ENOMEM};
    pthread_attr_t attr;
    pthread_t thread;
    if (pthread_attr_init(&attr))
        return CF_ENOMEM;
    int rc = pthread_attr_setstacksize(&attr, TAP_STACK_BYTES) ||
             pthread_create(&thread, &attr, tap_job_run, &job);
    pthread_attr_destroy(&attr);
    if (rc)
        return CF_ENOMEM;
    pthread_join(thread, NULL);
    return job.rc;
}

/* Wait a little for a card (the page asks again while it shows "tap the card"). */
static cJSON *api_tap(struct daemon *d, const cJSON *body)
{
    long wait = jint(body, "wait_ms", 1500);
    if (wait < 1 || wait > TAP_WAIT_MS_MAX)
        wait = 1500;
    struct cf_card_assurance card;
    struct ag_moment moment;
    struct tap made;
    uint8_t challenge[CF_CHALLENGE_LEN];
    memset(&made, 0, sizeof made);
    bool proof = tap_challenge(d, jstr(body, "for"), &made, challenge);
    pthread_mutex_lock(&d->reader_lock);
    int rc = tap_on_own_stack(d, (int)wait, proof ? challenge : NULL, &card);
    pthread_mutex_unlock(&d->reader_lock);
    if (!rc)
        rc = ag_moment_now(&moment);
    cJSON *o = outcome(rc);
    if (rc)
        return o;
    uint8_t raw[TAP_ID_BYTES];
    if (RAND_bytes(raw, sizeof raw) != 1) {
        cJSON_Delete(o);
        return outcome(CF_ECRYPTO);
    }
    pthread_mutex_lock(&d->tap_lock);
    hex(raw, sizeof raw, d->tap.id);
    d->tap.card = card;
    d->tap.moment = moment;
    d->tap.at_mono_ms = mono_ms();
    memcpy(d->tap.visit_id, made.visit_id, CF_UUID_LEN);
    d->tap.has_visit_id = made.has_visit_id;
    cJSON_AddStringToObject(o, "tap", d->tap.id);
    pthread_mutex_unlock(&d->tap_lock);
    OPENSSL_cleanse(&card, sizeof card);
    return o;
}

static void wake_sync(struct daemon *d)
{
    pthread_mutex_lock(&d->wake_lock);
    d->sync_now = true;
    pthread_cond_signal(&d->sync_wake);
    pthread_mutex_unlock(&d->wake_lock);
}

static cJSON *api_start(struct daemon *d, const cJSON *body)
{
    struct ag_visit_start req;
    uint8_t plan[CF_UUID_LEN], recipient[CF_UUID_LEN], visit[CF_UUID_LEN];
    memset(&req, 0, sizeof req);
    if (juuid(body, "plan_id", plan))
        req.plan_id = plan;
    if (juuid(body, "recipient_id", recipient))
        req.recipient_id = recipient;
    req.accept_other_card =
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "accept_other_card"));
    memset(visit, 0, sizeof visit);
    if (!take_tap(d, body, true, &req.card, &req.moment, visit))
        return outcome(CF_ENO_CARD);
    static const uint8_t nil[CF_UUID_LEN];
    if (memcmp(visit, nil, sizeof nil) != 0)
        req.visit_id = visit; /* the id the card's challenge was made with */
    struct ag_visit_result *r = malloc(sizeof *r);
    if (!r)
        return outcome(CF_ENOMEM);
    int rc = ag_visit_start(d->store, &req, r, NULL);
    cJSON *o = outcome(rc);
    if (rc == CF_ECARD_OTHER || rc == CF_ECARD_AMBIGUOUS || rc == CF_EUNKNOWN_CARD)
        add_candidates(o, r);
    else
        take_tap(d, body, false, &req.card, &req.moment, NULL); /* used: forget it */
    if (r->have_view || rc == 0)
        cJSON_AddItemToObject(o, "view", view_json(&r->view));
    if (rc == 0) {
        add_uuid(o, "visit_id", r->visit_id);
        cJSON_AddBoolToObject(o, "card_matches", r->card_matches);
    }
    free(r);
    OPENSSL_cleanse(&req.card, sizeof req.card);
    return o;
}

static cJSON *api_end(struct daemon *d, const cJSON *body)
{
    struct ag_visit_end *req = calloc(1, sizeof *req);
    struct ag_visit_result *r = malloc(sizeof *r);
    struct cf_error_detail detail = {0};
    if (!req || !r) {
        free(req);
        free(r);
        return outcome(CF_ENOMEM);
    }
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(body, "services"), *s;
    int rc = cJSON_IsArray(list) ? 0 : CF_EFIELD_MISSING;
    cJSON_ArrayForEach(s, list)
    {
        const char *code = jstr(s, "code");
        long qty = jint(s, "quantity", 1);
        if (!code || strlen(code) > CF_SERVICE_CODE_MAX || qty < 1 ||
            qty > CF_SERVICE_QUANTITY_MAX || req->service_count == CF_MAX_SERVICES) {
            rc = CF_EFIELD_RANGE;
            break;
        }
        struct cf_service_done *done = &req->services[req->service_count++];
        snprintf(done->code, sizeof done->code, "%s", code);
        done->quantity = (int32_t)qty;
    }
    if (!rc && !take_tap(d, body, false, &req->card, &req->moment, NULL))
        rc = CF_ENO_CARD;
    if (!rc)
        rc = ag_visit_end(d->store, req, r, &detail);
    cJSON *o = outcome(rc);
    if (rc == CF_ESERVICE_NOT_ALLOWED)
        cJSON_AddStringToObject(o, "service", detail.field);
    if (rc == 0) {
        add_uuid(o, "visit_id", r->visit_id);
        cJSON_AddNumberToObject(o, "minutes", (double)(r->duration_ms / 60000));
        cJSON_AddBoolToObject(o, "card_matches", r->card_matches);
        cJSON_AddBoolToObject(o, "clock_uncertain", r->clock_uncertain);
        add_candidates(o, r);
        cJSON_AddItemToObject(o, "view", view_json(&r->view));
    }
    OPENSSL_cleanse(req, sizeof *req);
    free(req);
    free(r);
    return o;
}

static cJSON *api_rate(struct daemon *d, const cJSON *body)
{
    uint8_t visit[CF_UUID_LEN];
    struct ag_visit_result r;
    struct ag_moment m;
    const char *comment = jstr(body, "comment");
    int rc = ag_moment_now(&m);
    if (!rc)
        rc = ag_visit_rate(d->store, juuid(body, "visit_id", visit) ? visit : NULL,
                           (int)jint(body, "rating", 0), comment && comment[0] ? comment : NULL, &m,
                           &r, NULL);
    return outcome(rc);
}

/* The recipient's answers to the survey held (issues 16, 17): {visit_id, answers:
 * {code: "value" | 1..5}} about a visit this terminal ended, checked against the held
 * instrument (its version goes with them), recorded as one survey.answered event by the
 * command line's own ag_answers_record. */
static cJSON *api_survey(struct daemon *d, const cJSON *body)
{
    uint8_t visit[CF_UUID_LEN];
    char visit_text[CF_UUID_TEXT_LEN + 1];
    const cJSON *answers = cJSON_GetObjectItemCaseSensitive(body, "answers"), *a;
    struct ag_survey *sv = malloc(sizeof *sv);
    struct ag_answers_form f;
    char values[AG_SURVEY_QUESTIONS_MAX][8], version[16];
    struct ag_visit_row row;
    struct cf_error_detail detail = {0};
    memset(&f, 0, sizeof f);
    int rc = sv ? 0 : CF_ENOMEM;
    if (!rc && (!juuid(body, "visit_id", visit) || !cJSON_IsObject(answers)))
        rc = CF_EFIELD_MISSING;
    if (!rc)
        rc = ag_store_visit_find(d->store, AG_FIND_ID, visit, &row);
    if (!rc && row.state != AG_VISIT_ENDED && row.state != AG_VISIT_RATED)
        rc = CF_EVISIT_STATE;
    if (!rc)
        rc = survey_held(d->store, sv);
    cJSON_ArrayForEach(a, answers)
    {
        if (rc)
            break;
        if (f.count == AG_SURVEY_QUESTIONS_MAX) {
            rc = CF_EFIELD_RANGE;
            break;
        }
        if (cJSON_IsNumber(a) && a->valuedouble >= 1 && a->valuedouble <= 5 &&
            a->valuedouble == (double)(int)a->valuedouble)
            snprintf(values[f.count], sizeof values[f.count], "%d", (int)a->valuedouble);
        else if (cJSON_IsString(a) && strlen(a->valuestring) < sizeof values[f.count])
            snprintf(values[f.count], sizeof values[f.count], "%s", a->valuestring);
        else {
            rc = CF_EFIELD_RANGE;
            break;
        }
        f.codes[f.count] = a->string;
        f.values[f.count] = values[f.count];
        f.count++;
    }
    if (!rc)
        rc = ag_survey_answers_check(sv, f.codes, f.values, f.count, &detail);
    struct ag_moment m;
    struct ag_act_result r;
    if (!rc)
        rc = ag_moment_now(&m);
    if (!rc) {
        snprintf(version, sizeof version, "%d", sv->version);
        cf_uuid_to_text(visit, visit_text);
        f.visit_id = visit_text;
        f.instrument = sv->instrument;
        f.version = version;
        rc = ag_answers_record(d->store, &f, &m, &r, &detail);
    }
    cJSON *o = outcome(rc);
    if (rc == CF_EFIELD_RANGE || rc == CF_EFIELD_MISSING)
        cJSON_AddStringToObject(o, "question", detail.field);
    if (!rc)
        cJSON_AddNumberToObject(o, "seq", (double)r.seq);
    free(sv);
    return o;
}

static bool parse_reason(const char *s, enum cf_reason *out)
{
    static const struct {
        const char *name;
        enum cf_reason reason;
    } reasons[] = {{"nobody_home", CF_REASON_NOBODY_HOME},
                   {"refused", CF_REASON_REFUSED},
                   {"in_hospital", CF_REASON_IN_HOSPITAL},
                   {"worker_ill", CF_REASON_WORKER_ILL},
                   {"other", CF_REASON_OTHER}};
    for (size_t i = 0; s && i < N(reasons); i++)
        if (strcmp(s, reasons[i].name) == 0) {
            *out = reasons[i].reason;
            return true;
        }
    return false;
}

static cJSON *api_cancel(struct daemon *d, const cJSON *body)
{
    struct ag_visit_cancel req;
    struct ag_visit_result r;
    uint8_t plan[CF_UUID_LEN];
    memset(&req, 0, sizeof req);
    if (juuid(body, "plan_id", plan))
        req.plan_id = plan;
    const char *by = jstr(body, "by");
    req.cancelled_by = by && strcmp(by, "worker") == 0     ? CF_ACTOR_WORKER
                       : by && strcmp(by, "provider") == 0 ? CF_ACTOR_PROVIDER
                                                           : CF_ACTOR_RECIPIENT;
    int rc = parse_reason(jstr(body, "reason"), &req.reason) ? 0 : CF_EFIELD_MISSING;
    if (!rc)
        rc = ag_moment_now(&req.moment);
    if (!rc)
        rc = ag_visit_cancel(d->store, &req, &r, NULL);
    return outcome(rc);
}

static cJSON *api_attempt(struct daemon *d, const cJSON *body)
{
    struct ag_visit_attempt req;
    struct ag_visit_result *r = malloc(sizeof *r);
    uint8_t plan[CF_UUID_LEN], recipient[CF_UUID_LEN];
    memset(&req, 0, sizeof req);
    if (!r)
        return outcome(CF_ENOMEM);
    if (juuid(body, "plan_id", plan))
        req.plan_id = plan;
    if (juuid(body, "recipient_id", recipient))
        req.recipient_id = recipient;
    int rc = parse_reason(jstr(body, "reason"), &req.reason) ? 0 : CF_EFIELD_MISSING;
    if (!rc && jstr(body, "tap")) {
        if (!take_tap(d, body, false, &req.card, &req.moment, NULL))
            rc = CF_ENO_CARD;
    } else if (!rc) {
        rc = ag_moment_now(&req.moment);
    }
    if (!rc)
        rc = ag_visit_attempt(d->store, &req, r, NULL);
    free(r);
    return outcome(rc);
}

static cJSON *api_bind(struct daemon *d, const cJSON *body)
{
    uint8_t recipient[CF_UUID_LEN];
    struct cf_card_assurance card;
    struct ag_moment m;
    struct ag_visit_result *r = malloc(sizeof *r);
    int rc = r ? 0 : CF_ENOMEM;
    if (!rc && !juuid(body, "recipient_id", recipient))
        rc = CF_EFIELD_MISSING;
    if (!rc && !take_tap(d, body, false, &card, &m, NULL))
        rc = CF_ENO_CARD;
    if (!rc)
        rc = ag_card_bind(d->store, recipient, &card, &m, r, NULL);
    cJSON *o = outcome(rc);
    if (!rc)
        cJSON_AddStringToObject(o, "recipient", r->view.recipient.full_name);
    free(r);
    return o;
}

/* The person's card at an office's desk (issue 16): appointment.checked_in with the tap's
 * card and proof; the server finds the appointment when the event is synced. */
static cJSON *api_check_in(struct daemon *d, const cJSON *body)
{
    struct cf_card_assurance card;
    struct ag_moment m;
    struct ag_visit_result *r = malloc(sizeof *r);
    int rc = r ? 0 : CF_ENOMEM;
    if (!rc && !take_tap(d, body, false, &card, &m, NULL))
        rc = CF_ENO_CARD;
    if (!rc)
        rc = ag_card_check_in(d->store, &card, &m, r, NULL);
    cJSON *o = outcome(rc);
    if (!rc)
        cJSON_AddStringToObject(o, "last4", card.last4);
    free(r);
    return o;
}

/* Sync is the command line's own `carefact-agent sync`, run as a child process: the
 * daemon links no HTTP or TLS code (its memory stays small; a network library that
 * hangs or crashes takes only that run with it), and the sync is exactly the CLI's.
 * Returns the child's exit status (-1: it did not run); its JSON answer in out. */
static int run_sync(struct daemon *d, bool automatic, char *out, size_t size)
{
    char *argv[8];
    size_t a = 0;
    argv[a++] = d->agent_path;
    argv[a++] = "sync";
    if (automatic)
        argv[a++] = "--auto";
    argv[a++] = "--json";
    argv[a++] = "--store";
    argv[a++] = d->store_path;
    argv[a] = NULL;
    int fds[2];
    out[0] = '\0';
    if (pipe(fds))
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, d->agent_path, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    size_t got = 0;
    ssize_t n = 0;
    while (rc == 0 && (n = read(fds[0], out + got, size - 1 - got)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        got += (size_t)n;
        if (got == size - 1) {
            char drain[256];
            while (read(fds[0], drain, sizeof drain) > 0) {
            }
            break;
        }
    }
    out[got] = '\0';
    close(fds[0]);
    int status = 0;
    if (rc != 0)
        return -1;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A sync the worker asked for (not automatic: it also runs when backing off). */
static cJSON *api_sync(struct daemon *d)
{
    char out[4096];
    pthread_mutex_lock(&d->sync_lock);
    int status = run_sync(d, false, out, sizeof out);
    pthread_mutex_unlock(&d->sync_lock);
    cJSON *answer = cJSON_Parse(out);
    const char *message = jstr(answer, "message");
    cJSON *o = outcome(status == 0 ? 0 : CF_ENETWORK);
    if (status != 0 && message)
        cJSON_ReplaceItemInObject(o, "message", cJSON_CreateString(message));
    const cJSON *up = cJSON_GetObjectItemCaseSensitive(answer, "uploaded");
    cJSON_AddNumberToObject(o, "uploaded", cJSON_IsNumber(up) ? up->valuedouble : 0);
    cJSON_Delete(answer);
    return o;
}

static cJSON *api_speech(struct daemon *d, const cJSON *body)
{
    const cJSON *on = cJSON_GetObjectItemCaseSensitive(body, "on");
    pthread_mutex_lock(&d->speech_lock);
    if (cJSON_IsBool(on))
        d->speech_on = cJSON_IsTrue(on);
    pthread_mutex_unlock(&d->speech_lock);
    cJSON *o = outcome(0);
    cJSON_AddBoolToObject(o, "speech", d->speech_on);
    return o;
}

static cJSON *api_say(struct daemon *d, const cJSON *body)
{
    const char *text = jstr(body, "text");
    if (!text || !text[0] || strlen(text) > SAY_MAX || cf_event_check_comment(text, NULL))
        return outcome(CF_EFIELD_RANGE);
    for (const char *p = text; *p; p++)
        if ((unsigned char)*p < 0x20)
            return outcome(CF_EFIELD_RANGE);
    speak(d, text);
    return outcome(0);
}

/* ==== Static files ==== */

static int serve_file(struct mg_connection *c, struct daemon *d, const char *name, const char *type)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", d->ui_dir, name);
    FILE *f = fopen(path, "rb");
    char *buf = malloc(UI_FILE_MAX);
    size_t len = f && buf ? fread(buf, 1, UI_FILE_MAX, f) : 0;
    int rc = f && buf && len < UI_FILE_MAX
                 ? send_text(c, 200, type, buf, len, NULL)
                 : send_text(c, 404, "text/plain; charset=utf-8", "not found\n", 10, NULL);
    if (f)
        fclose(f);
    free(buf);
    return rc;
}

static int handle(struct mg_connection *c, void *data)
{
    struct daemon *d = data;
    const struct mg_request_info *ri = mg_get_request_info(c);
    const char *uri = ri->local_uri ? ri->local_uri : "";
    bool post = strcmp(ri->request_method, "POST") == 0;
    bool get = strcmp(ri->request_method, "GET") == 0;
    bool api = strncmp(uri, "/api/", 5) == 0;
    if (!allowed(c, d, api, post) || (!post && !get))
        return refuse(c);
    if (!api) {
        if (!get)
            return refuse(c);
        if (strcmp(uri, "/start") == 0) {
            char k[SECRET_BYTES * 2 + 2];
            const char *q = ri->query_string ? ri->query_string : "";
            if (mg_get_var(q, strlen(q), "k", k, sizeof k) <= 0 || !same_secret(k, d->secret))
                return refuse(c);
            char extra[256];
            snprintf(extra, sizeof extra,
                     "Set-Cookie: cf_ui=%s; Path=/; HttpOnly; SameSite=Strict\r\nLocation: /\r\n",
                     d->secret);
            return send_text(c, 303, "text/plain", "", 0, extra);
        }
        if (strcmp(uri, "/") == 0)
            return serve_file(c, d, "index.html", "text/html; charset=utf-8");
        if (strcmp(uri, "/app.js") == 0)
            return serve_file(c, d, "app.js", "text/javascript; charset=utf-8");
        if (strcmp(uri, "/favicon.ico") == 0) /* the browser asks; there is none */
            return send_text(c, 204, "text/plain", "", 0, NULL);
        if (strcmp(uri, "/style.css") == 0)
            return serve_file(c, d, "style.css", "text/css; charset=utf-8");
        return send_text(c, 404, "text/plain; charset=utf-8", "not found\n", 10, NULL);
    }
    if (get && strcmp(uri, "/api/state") == 0) {
        pthread_mutex_lock(&d->store_lock);
        cJSON *o = api_state(d);
        pthread_mutex_unlock(&d->store_lock);
        return send_json(c, 200, o);
    }
    if (get && strcmp(uri, "/api/recipients") == 0) {
        pthread_mutex_lock(&d->store_lock);
        cJSON *o = api_recipients(d);
        pthread_mutex_unlock(&d->store_lock);
        return send_json(c, 200, o);
    }
    if (!post)
        return send_json(c, 404, outcome(CF_EINVAL));
    cJSON *body = read_body(c);
    if (!body)
        return send_json(c, 400, outcome(CF_EINVAL));
    static const struct {
        const char *uri;
        cJSON *(*run)(struct daemon *, const cJSON *);
        bool store, step; /* under the store lock; a step appends: sync after it */
    } routes[] = {
        {"/api/visit/start", api_start, true, true},
        {"/api/visit/end", api_end, true, true},
        {"/api/visit/rate", api_rate, true, true},
        {"/api/survey", api_survey, true, true},
        {"/api/visit/cancel", api_cancel, true, true},
        {"/api/visit/attempt", api_attempt, true, true},
        {"/api/card/bind", api_bind, true, true},
        {"/api/card/check-in", api_check_in, true, true},
        {"/api/speech", api_speech, false, false},
        {"/api/say", api_say, false, false},
    };
    cJSON *o = NULL;
    if (strcmp(uri, "/api/tap") == 0)
        o = api_tap(d, body);
    else if (strcmp(uri, "/api/sync") == 0)
        o = api_sync(d);
    for (size_t i = 0; !o && i < N(routes); i++)
        if (strcmp(uri, routes[i].uri) == 0) {
            if (routes[i].store)
                pthread_mutex_lock(&d->store_lock);
            o = routes[i].run(d, body);
            if (routes[i].store)
                pthread_mutex_unlock(&d->store_lock);
            if (routes[i].step && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "ok")))
                wake_sync(d);
        }
    cJSON_Delete(body);
    return o ? send_json(c, 200, o) : send_json(c, 404, outcome(CF_EINVAL));
}

/* ==== The sync thread ==== */

/* Syncs after each step (unless backing off or held), every IDLE_TICK_MS when due,
 * and at once when a network link comes up; reaps the speech processes. */
static void *sync_thread(void *arg)
{
    struct daemon *d = arg;
    unsigned long link = ag_link_signature();
    for (;;) {
        pthread_mutex_lock(&d->wake_lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += IDLE_TICK_MS / 1000;
        if (!d->sync_now && !d->stopping)
            pthread_cond_timedwait(&d->sync_wake, &d->wake_lock, &until);
        bool stop = d->stopping, now = d->sync_now;
        d->sync_now = false;
        pthread_mutex_unlock(&d->wake_lock);
        if (stop)
            break;
        unsigned long sig = ag_link_signature();
        struct ag_sync_state st;
        pthread_mutex_lock(&d->store_lock);
        if ((now || (sig && sig != link)) && ag_store_sync_get(d->store, &st) == 0 && !st.held &&
            (!now || st.failures == 0)) {
            st.next_attempt_ms = 0; /* a step just made, or the link is back */
            ag_store_sync_put(d->store, &st);
        }
        pthread_mutex_unlock(&d->store_lock);
        link = sig;
        char out[4096];
        pthread_mutex_lock(&d->sync_lock);
        (void)run_sync(d, true, out, sizeof out);
        while (waitpid(-1, NULL, WNOHANG) > 0) {
            /* a finished speech process */
        }
        pthread_mutex_unlock(&d->sync_lock);
    }
    return NULL;
}

/* ==== Start-up ==== */

/* The start URL (with the secret) into a file only this user can read. */
static int write_secret_file(const char *path, const char *url)
{
    (void)unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    size_t len = strlen(url);
    bool ok = fchmod(fd, 0600) == 0 && write(fd, url, len) == (ssize_t)len &&
              write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    return close(fd) == 0 && ok ? 0 : -1;
}

static const char serve_usage[] =
    "usage: carefact-agent serve [--device CONNSTRING] [--port N] [--secret-file FILE]\n"
    "                            [--ui DIR] [--speech on|off] [--speech-wav DIR]\n"
    "                            [--speech-log FILE] [--speech-command CMD] [--store FILE]\n"
    "                            [--agent PATH]\n"
    "  The agent as a local daemon for the touch UI, on 127.0.0.1 only.\n"
    "  At every start a new secret is made; the start URL holding it is written to\n"
    "  --secret-file (mode 0600; default: the store's path + \".ui-url\"), and the first\n"
    "  stdout line is \"ready http://127.0.0.1:PORT/\" (without the secret).\n"
    "  --device CONNSTRING  card reader (default: LIBNFC_DEVICE)\n"
    "  --port N             port on 127.0.0.1 (default 0: any free port)\n"
    "  --ui DIR             the UI's files (default: " CF_AGENT_UI_DIR ")\n"
    "  --speech on|off      speak every prompt with espeak-ng -v ru (default on)\n"
    "  --speech-wav DIR     write the speech as DIR/NNNN.wav instead of playing it\n"
    "  --speech-log FILE    append every spoken text to FILE\n"
    "  --speech-command CMD the speech program (default espeak-ng)\n"
    "  --store FILE         the agent's store (default: CAREFACT_AGENT_STORE)\n"
    "  --agent PATH         carefact-agent, run for each sync (default: next to this program)\n";

static int copy_opt(const struct ag_cli *cli, const char *name, const char *value, char *out,
                    size_t size)
{
    if (!value)
        return 0;
    if (strlen(value) >= size)
        return ag_cli_usage_error(cli, "%s is too long", name);
    snprintf(out, size, "%s", value);
    return 0;
}

/* The options into d (defaults first); *port and secret_file as given or defaulted.
 * Returns 0 or the usage exit status (printed). */
static int serve_options(struct ag_cli *cli, const struct ag_option *o, size_t n, struct daemon *d,
                         long *port, char *secret_file, size_t secret_size)
{
    int rc = 0;
    const char *v;
    d->speech_on = true;
    snprintf(d->ui_dir, sizeof d->ui_dir, "%s", CF_AGENT_UI_DIR);
    snprintf(d->speech_command, sizeof d->speech_command, "espeak-ng");
    const char *device = ag_cli_value(o, n, "--device");
    if (!device || !device[0])
        device = getenv("LIBNFC_DEVICE");
    if (!device || !device[0])
        rc = ag_cli_usage_error(cli, "no reader: give --device CONNSTRING or set LIBNFC_DEVICE");
    if (!rc)
        rc = copy_opt(cli, "--device", device, d->device, sizeof d->device);
    if (!rc && (v = ag_cli_value(o, n, "--port")))
        rc = ag_cli_long(cli, "--port", v, 0, 65535, port);
    if (!rc && (v = ag_cli_value(o, n, "--speech")) && strcmp(v, "on") && strcmp(v, "off"))
        rc = ag_cli_usage_error(cli, "--speech is on or off");
    if (!rc && v && strcmp(v, "off") == 0)
        d->speech_on = false;
    if (!rc)
        rc = copy_opt(cli, "--ui", ag_cli_value(o, n, "--ui"), d->ui_dir, sizeof d->ui_dir);
    if (!rc)
        rc = copy_opt(cli, "--speech-wav", ag_cli_value(o, n, "--speech-wav"), d->speech_wav_dir,
                      sizeof d->speech_wav_dir);
    if (!rc)
        rc = copy_opt(cli, "--speech-log", ag_cli_value(o, n, "--speech-log"), d->speech_log,
                      sizeof d->speech_log);
    if (!rc)
        rc = copy_opt(cli, "--speech-command", ag_cli_value(o, n, "--speech-command"),
                      d->speech_command, sizeof d->speech_command);
    const char *store = ag_cli_value(o, n, "--store");
    if (!store || !store[0])
        store = getenv("CAREFACT_AGENT_STORE");
    if (!rc && (!store || !store[0]))
        rc = ag_cli_usage_error(cli, "no store: give --store FILE or set CAREFACT_AGENT_STORE");
    if (!rc)
        rc = copy_opt(cli, "--store", store, d->store_path, sizeof d->store_path);
    if (!rc && (v = ag_cli_value(o, n, "--agent")))
        rc = copy_opt(cli, "--agent", v, d->agent_path, sizeof d->agent_path);
    if (!rc && !d->agent_path[0]) {
        char self[900];
        ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
        char *slash = len > 0 ? (self[len] = '\0', strrchr(self, '/')) : NULL;
        if (slash)
            *slash = '\0';
        snprintf(d->agent_path, sizeof d->agent_path, "%s/carefact-agent", slash ? self : ".");
    }
    v = ag_cli_value(o, n, "--secret-file");
    if (!rc && v)
        rc = copy_opt(cli, "--secret-file", v, secret_file, secret_size);
    else if (!rc)
        snprintf(secret_file, secret_size, "%s.ui-url", d->store_path);
    return rc;
}

/* The store opened, the region's token key read from it, this start's secret made. */
static int serve_open(const struct ag_cli *cli, struct daemon *d)
{
    int rc = ag_cli_open_store(cli, d->store_path, &d->store);
    struct ag_identity *id = rc ? NULL : malloc(sizeof *id);
    if (!rc && (!id || ag_store_identity_get(d->store, id)))
        rc = ag_cli_fail(cli, CF_ENOT_ENROLLED, NULL);
    if (!rc) {
        memcpy(d->token_key, id->token_key, id->token_key_len);
        d->token_key_len = id->token_key_len;
    }
    ag_identity_wipe(id);
    free(id);
    uint8_t raw[SECRET_BYTES];
    if (!rc && RAND_bytes(raw, sizeof raw) != 1)
        rc = ag_cli_fail(cli, CF_ECRYPTO, NULL);
    if (!rc)
        hex(raw, sizeof raw, d->secret);
    OPENSSL_cleanse(raw, sizeof raw);
    return rc;
}

/* Listen, write the start URL, answer until SIGTERM or SIGINT, then stop the sync
 * thread and remove the start URL. */
static int serve_run(struct daemon *d, long port, const char *secret_file)
{
    pthread_mutex_init(&d->store_lock, NULL);
    pthread_mutex_init(&d->reader_lock, NULL);
    pthread_mutex_init(&d->tap_lock, NULL);
    pthread_mutex_init(&d->sync_lock, NULL);
    pthread_mutex_init(&d->wake_lock, NULL);
    pthread_mutex_init(&d->speech_lock, NULL);
    pthread_cond_init(&d->sync_wake, NULL);
    d->sync_now = true; /* a first sync at start, as the text terminal does */
    char ports[32];
    snprintf(ports, sizeof ports, "127.0.0.1:%ld", port);
    const char *options[] = {
        "listening_ports",   ports, "num_threads", "3", "request_timeout_ms", "20000",
        "enable_keep_alive", "no",  NULL};
    struct mg_callbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    mg_init_library(0);
    struct mg_context *ctx = mg_start(&callbacks, d, options);
    struct mg_server_port sp[2];
    if (!ctx || mg_get_server_ports(ctx, 2, sp) < 1) {
        fprintf(stderr, "carefact-agent serve: cannot listen on %s\n", ports);
        if (ctx)
            mg_stop(ctx);
        return AG_EXIT_FAILED;
    }
    snprintf(d->host, sizeof d->host, "127.0.0.1:%d", sp[0].port);
    snprintf(d->origin, sizeof d->origin, "http://%s", d->host);
    char url[160];
    snprintf(url, sizeof url, "%s/start?k=%s", d->origin, d->secret);
    int rc = write_secret_file(secret_file, url);
    OPENSSL_cleanse(url, sizeof url);
    if (rc) {
        fprintf(stderr, "carefact-agent serve: cannot write %s\n", secret_file);
        mg_stop(ctx);
        return AG_EXIT_FAILED;
    }
    mg_set_request_handler(ctx, "/", handle, d);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    pthread_t syncer;
    bool syncing = pthread_create(&syncer, NULL, sync_thread, d) == 0;
    printf("ready %s/ secret-file %s\n", d->origin, secret_file);
    fflush(stdout);
    while (!stop_requested)
        sleep(1);
    mg_stop(ctx);
    if (syncing) {
        pthread_mutex_lock(&d->wake_lock);
        d->stopping = true;
        pthread_cond_signal(&d->sync_wake);
        pthread_mutex_unlock(&d->wake_lock);
        pthread_join(syncer, NULL);
    }
    (void)unlink(secret_file);
    return AG_EXIT_OK;
}

int ag_cmd_serve(int argc, char **argv)
{
    struct ag_option o[] = {
        {"--device", true, false, 0, {0}},      {"--port", true, false, 0, {0}},
        {"--secret-file", true, false, 0, {0}}, {"--ui", true, false, 0, {0}},
        {"--speech", true, false, 0, {0}},      {"--speech-wav", true, false, 0, {0}},
        {"--speech-log", true, false, 0, {0}},  {"--speech-command", true, false, 0, {0}},
        {"--store", true, false, 0, {0}},       {"--agent", true, false, 0, {0}},
    };
    struct ag_cli cli = {"serve", serve_usage, false};
    int rc = ag_cli_parse(&cli, argc, argv, o, N(o));
    if (rc)
        return rc < 0 ? AG_EXIT_OK : rc;
    struct daemon *d = calloc(1, sizeof *d);
    if (!d)
        return AG_EXIT_FAILED;
    long port = 0;
    char secret_file[1100];
    rc = serve_options(&cli, o, N(o), d, &port, secret_file, sizeof secret_file);
    if (!rc)
        rc = serve_open(&cli, d);
    if (!rc)
        rc = serve_run(d, port, secret_file);
    ag_store_close(d->store);
    OPENSSL_cleanse(d, sizeof *d);
    free(d);
    return rc;
}
