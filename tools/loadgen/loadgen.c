/* carefact-loadgen: simulates N enrolled terminals, each uploading M events (home
 * visits: started, ended with services, rated) in signed batches, and prints the
 * ingest rate and the latency percentiles of a batch. Events are built and sealed
 * with firmware-shared exactly as the agent does; acknowledgements are checked.
 *
 *   carefact-loadgen --url http://127.0.0.1:8080 --codes FILE --recipients FILE
 *                    [--devices N] [--events M] [--batch B] [--concurrency C]
 *                    [--proofs DIR] [--cacert PEM] [--retry-seconds S] [--pause-ms P]
 *                    [--acked FILE]
 *
 * --retry-seconds: a terminal's patience, as the agent's (the failover and restore drills
 * of tools/cluster): a batch that gets no acknowledgement (no answer, 429, 5xx) is sent
 * again until S seconds pass without progress; an acknowledgement or a sequence-gap that
 * says the server holds less than it acknowledged before (a restore: new epoch) makes the
 * terminal upload again from there. Without it, the first refusal ends the device's run.
 * --pause-ms: a pause between a device's batches (a steady trickle instead of a burst).
 * --acked FILE: per device, "device_id highest_seq_ever_acknowledged last_acked_seq
 * epoch_changes reuploads" (what the drills count the database against).
 *
 * --codes: one enrolment code per line (carefactd enroll-code), one per device;
 * --recipients: recipient ids of the codes' provider, one per line;
 * --proofs: a folder with ca.pem, issuer.pem and icc.pem (carefact-emv-pki): every start
 * and end is then confirmed by an EMV card that signs the event's challenge (fDDA at the
 * start, CDA at the end; the certificates made once, one signature per event, as a card
 * does), with the token of its PAN under the device's token key (issue 14). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "cf/batch.h"
#include "cf/codec.h"
#include "cf/token.h"
#include "cf/uuid.h"
#include "emv_pki.h"

#define MAX_DEVICES 1000
#define MAX_RECIPIENTS 10000

struct device {
    uint8_t id[CF_UUID_LEN], worker[CF_UUID_LEN];
    char id_text[CF_UUID_TEXT_LEN + 1];
    uint8_t private_key[32], public_key[32], last_digest[32];
    uint64_t last_seq;
    char code[32];
    uint8_t token_key[CF_TOKEN_KEY_MAX];
    size_t token_key_len;
    char card_token[CF_TOKEN_TEXT_LEN + 1]; /* --proofs: the card's token for this device */
    struct pki_proof *proofs[2]; /* --proofs: fDDA and CDA, re-signed for each event */
    /* --retry-seconds: every event kept (a restore may ask for them again). */
    struct cf_event *kept;
    uint64_t acked, max_acked;
    char epoch[64];
    unsigned long epoch_changes, reuploads;
};

struct run {
    const char *url;
    long retry_seconds, pause_ms;
    struct device *devices;
    size_t device_count, events_per_device, batch, concurrency;
    uint8_t (*recipients)[CF_UUID_LEN];
    size_t recipient_count;
    pthread_mutex_t lock;
    double *latencies; /* seconds per batch */
    size_t latency_count, latency_cap;
    unsigned long events_acked, failures, retries;
    size_t next_device;
    double finished_at; /* when the last worker ran out of devices */
    int64_t first_wall_ms; /* the wall clock of every device's first event */
    struct pki_card *card; /* --proofs, else NULL */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ==== HTTP ==== */

struct sink {
    char buf[4096];
    size_t len;
};

static size_t on_data(char *data, size_t size, size_t count, void *userdata)
{
    struct sink *s = userdata;
    size_t n = size * count, room = sizeof s->buf - 1 - s->len;
    memcpy(s->buf + s->len, data, n < room ? n : room);
    s->len += n < room ? n : room;
    s->buf[s->len] = '\0';
    return n;
}

/* POST body to url; signed as dev (cf_request_sign, as the agent does) when dev is
 * given. */
static const char *cacert;

static long post(CURL *curl, const char *url, const char *body, const struct device *dev,
                 struct sink *reply)
{
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    long status = 0;
    const char *path = strstr(url, "/api/v1/");
    if (dev && path) {
        struct timespec now;
        char sig[CF_REQUEST_SIG_TEXT_LEN + 1], line[160];
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
        if (cf_request_sign(dev->private_key, dev->id_text, "POST", path, body, strlen(body), ms,
                            sig) == 0) {
            snprintf(line, sizeof line, CF_REQUEST_HDR_DEVICE ": %s", dev->id_text);
            headers = curl_slist_append(headers, line);
            snprintf(line, sizeof line, CF_REQUEST_HDR_TIME ": %lld", (long long)ms);
            headers = curl_slist_append(headers, line);
            snprintf(line, sizeof line, CF_REQUEST_HDR_SIGNATURE ": %s", sig);
            headers = curl_slist_append(headers, line);
        }
    }
    reply->len = 0;
    reply->buf[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, reply);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    if (cacert)
        curl_easy_setopt(curl, CURLOPT_CAINFO, cacert);
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    return status;
}

static int enroll(CURL *curl, const char *base, struct device *dev)
{
    char url[512], body[256], key[64];
    struct sink reply;
    if (cf_ed25519_generate(dev->private_key, dev->public_key))
        return -1;
    cf_base64url_encode(dev->public_key, 32, key, sizeof key);
    snprintf(body, sizeof body, "{\"code\":\"%s\",\"public_key\":\"%s\"}", dev->code, key);
    snprintf(url, sizeof url, "%s/api/v1/devices", base);
    if (post(curl, url, body, NULL, &reply) != 201) {
        fprintf(stderr, "loadgen: enrolment with code %s refused: %s\n", dev->code, reply.buf);
        return -1;
    }
    cJSON *json = cJSON_Parse(reply.buf);
    const cJSON *id = cJSON_GetObjectItem(json, "device_id");
    const cJSON *worker = cJSON_GetObjectItem(json, "worker_id");
    const cJSON *token_key = cJSON_GetObjectItem(json, "token_key_hex");
    if (cJSON_IsString(token_key) &&
        cf_hex_decode(token_key->valuestring, strlen(token_key->valuestring), dev->token_key,
                      sizeof dev->token_key, &dev->token_key_len))
        dev->token_key_len = 0;
    int rc = cJSON_IsString(id) && cJSON_IsString(worker) &&
                     !cf_uuid_from_text(id->valuestring, dev->id) &&
                     !cf_uuid_from_text(worker->valuestring, dev->worker)
                 ? 0
                 : -1;
    cf_uuid_to_text(dev->id, dev->id_text);
    cJSON_Delete(json);
    return rc;
}

/* ==== Events ==== */

static void put_bytes(struct cf_proof_bytes *dst, const struct pki_bytes *src)
{
    memcpy(dst->data, src->data, src->len);
    dst->len = src->len;
}

/* --proofs: the card confirms ev, signing its challenge (seq and prev as they will be). */
static void sign_card(struct run *run, struct device *dev, struct cf_event *ev)
{
    struct pki_proof *p = dev->proofs[ev->kind == CF_EV_VISIT_STARTED ? 0 : 1];
    uint8_t challenge[CF_CHALLENGE_LEN];
    ev->card.method = CF_CARD_EMV;
    memcpy(ev->card.token, dev->card_token, sizeof dev->card_token);
    snprintf(ev->card.scheme, sizeof ev->card.scheme, "mir");
    snprintf(ev->card.last4, sizeof ev->card.last4, "9019");
    if (cf_card_challenge(dev->id, dev->last_seq + 1, dev->last_digest, ev->visit_id, challenge) ||
        pki_proof_resign(run->card, challenge, (uint32_t)dev->last_seq, p)) {
        fprintf(stderr, "loadgen: cannot sign a card proof\n");
        exit(1);
    }
    struct cf_card_proof *q = &ev->card.proof;
    q->kind = (enum cf_proof_kind)p->kind;
    put_bytes(&q->aid, &p->aid);
    put_bytes(&q->aip, &p->aip);
    put_bytes(&q->ca_index, &p->ca_index);
    put_bytes(&q->issuer_cert, &p->issuer_cert);
    put_bytes(&q->issuer_exp, &p->issuer_exp);
    put_bytes(&q->issuer_rem, &p->issuer_rem);
    put_bytes(&q->icc_cert, &p->icc_cert);
    put_bytes(&q->icc_exp, &p->icc_exp);
    put_bytes(&q->icc_rem, &p->icc_rem);
    memcpy(q->static_data.data, p->static_data, p->static_len);
    q->static_data.len = p->static_len;
    put_bytes(&q->sdad, &p->sdad);
    put_bytes(&q->terminal_data, &p->terminal_data);
    put_bytes(&q->tx_data, &p->tx_data);
}

/* --proofs: the test card (keys from DIR), and each device's token of it and its
 * certificates, made once. */
static int load_card(struct run *run, const char *dir)
{
    static struct pki_card card;
    char path[1024];
    const char *names[3] = {"ca.pem", "issuer.pem", "icc.pem"};
    EVP_PKEY **keys[3] = {&card.ca, &card.issuer, &card.icc};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (pki_key_read(path, keys[i])) {
            fprintf(stderr, "loadgen: cannot read the key %s\n", path);
            return -1;
        }
    }
    memcpy(card.rid, "\xA0\x00\x00\x06\x58", 5);
    card.ca_index = 0x92;
    memcpy(card.aid, "\xA0\x00\x00\x06\x58\x10\x10", 7);
    card.aid_len = 7;
    snprintf(card.pan, sizeof card.pan, "2200123456789019");
    snprintf(card.expiry, sizeof card.expiry, "1230");
    run->card = &card;
    for (size_t d = 0; d < run->device_count; d++) {
        struct device *dev = &run->devices[d];
        static const uint8_t zero[CF_CHALLENGE_LEN];
        if (cf_token_from_pan(dev->token_key, dev->token_key_len, card.pan, dev->card_token))
            return -1;
        for (int k = 0; k < 2; k++) {
            dev->proofs[k] = malloc(sizeof *dev->proofs[k]);
            if (!dev->proofs[k] || pki_card_proof(&card, k ? CF_ODA_KIND_CDA : CF_ODA_KIND_FDDA,
                                                  zero, 0, dev->proofs[k]))
                return -1;
        }
    }
    return 0;
}

static void make_event(struct run *run, struct device *dev, uint64_t n, struct cf_event *ev)
{
    static const enum cf_event_kind cycle[3] = {CF_EV_VISIT_STARTED, CF_EV_VISIT_ENDED,
                                                CF_EV_VISIT_RATED};
    uint64_t visit = n / 3;
    memset(ev, 0, sizeof *ev);
    ev->kind = cycle[n % 3];
    memcpy(ev->device_id, dev->id, CF_UUID_LEN);
    memcpy(ev->worker_id, dev->worker, CF_UUID_LEN);
    memcpy(ev->boot_id, dev->id, CF_UUID_LEN); /* one boot per simulated terminal */
    /* The visit id: the device id with the visit number in its last 8 bytes. */
    memcpy(ev->visit_id, dev->id, CF_UUID_LEN);
    for (int i = 0; i < 8; i++)
        ev->visit_id[15 - i] ^= (uint8_t)(visit >> (8 * i));
    /* A visit every 2 hours, 40 minutes long, rated 40 minutes after it ended; the wall
     * clock moves with the monotonic one, as on a real terminal (a wall clock that moved
     * 1 s per event made every 40-minute visit overlap the next thousand of its worker). */
    ev->mono_ms = (int64_t)visit * 7200000 + (int64_t)(n % 3) * 2400000;
    ev->wall_ms = run->first_wall_ms + ev->mono_ms;
    if (ev->kind != CF_EV_VISIT_RATED)
        memcpy(ev->recipient_id, run->recipients[visit % run->recipient_count], CF_UUID_LEN);
    if (ev->kind != CF_EV_VISIT_RATED) {
        ev->card.method = CF_CARD_UID;
        memcpy(ev->card.token, "AAECAwQFBgcICQoLDA0ODw", CF_TOKEN_TEXT_LEN + 1);
    }
    if (ev->kind == CF_EV_VISIT_ENDED) {
        ev->service_count = 2;
        snprintf(ev->services[0].code, sizeof ev->services[0].code, "HH-SHOP");
        ev->services[0].quantity = 1;
        snprintf(ev->services[1].code, sizeof ev->services[1].code, "MED-BP");
        ev->services[1].quantity = 1;
    }
    if (ev->kind == CF_EV_VISIT_RATED)
        ev->rating = 1 + (int32_t)(visit % 5);
    if (run->card && ev->kind != CF_EV_VISIT_RATED)
        sign_card(run, dev, ev);
    ev->seq = ++dev->last_seq;
    memcpy(ev->prev_digest, dev->last_digest, 32);
    cf_event_digest(ev, dev->last_digest);
}

static void record(struct run *run, double latency, size_t events, int ok)
{
    pthread_mutex_lock(&run->lock);
    if (ok) {
        if (run->latency_count == run->latency_cap) {
            size_t cap = run->latency_cap ? run->latency_cap * 2 : 1024;
            double *grown = realloc(run->latencies, cap * sizeof *grown);
            if (grown) {
                run->latencies = grown;
                run->latency_cap = cap;
            }
        }
        if (run->latency_count < run->latency_cap)
            run->latencies[run->latency_count++] = latency;
        run->events_acked += events;
    } else {
        run->failures++;
    }
    pthread_mutex_unlock(&run->lock);
}

/* Upload all events of one device, batch by batch, checking each acknowledgement. */
static void drive_device(struct run *run, CURL *curl, struct device *dev)
{
    struct cf_event *events = calloc(run->batch, sizeof *events);
    char url[512];
    snprintf(url, sizeof url, "%s/api/v1/devices/%s/events", run->url, dev->id_text);
    for (size_t done = 0; events && done < run->events_per_device;) {
        size_t n =
            run->events_per_device - done < run->batch ? run->events_per_device - done : run->batch;
        for (size_t i = 0; i < n; i++)
            make_event(run, dev, done + i, &events[i]);
        struct cf_batch batch;
        if (cf_batch_build(dev->id, events, n, dev->private_key, &batch))
            break;
        char *body = cf_batch_to_json(&batch);
        cf_batch_cleanup(&batch);
        struct sink reply;
        double t0 = now_s();
        long status = body ? post(curl, url, body, dev, &reply) : 0;
        double latency = now_s() - t0;
        free(body);
        cJSON *json = status == 200 ? cJSON_Parse(reply.buf) : NULL;
        const cJSON *acked = cJSON_GetObjectItem(json, "acked_seq");
        int ok = cJSON_IsNumber(acked) && (uint64_t)acked->valuedouble == dev->last_seq;
        cJSON_Delete(json);
        record(run, latency, n, ok);
        if (!ok) {
            fprintf(stderr, "loadgen: device %s batch refused (%ld): %.300s\n", dev->id_text,
                    status, reply.buf);
            break;
        }
        done += n;
    }
    free(events);
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* --retry-seconds: upload every event of one device, as a patient terminal would. */
static void drive_device_patiently(struct run *run, CURL *curl, struct device *dev)
{
    size_t total = run->events_per_device;
    dev->kept = calloc(total, sizeof *dev->kept);
    if (!dev->kept) {
        record(run, 0, 0, 0);
        return;
    }
    for (size_t i = 0; i < total; i++)
        make_event(run, dev, i, &dev->kept[i]);
    char url[512];
    snprintf(url, sizeof url, "%s/api/v1/devices/%s/events", run->url, dev->id_text);
    double last_progress = now_s();
    while (dev->acked < total) {
        size_t from = (size_t)dev->acked, n = total - from < run->batch ? total - from : run->batch;
        struct cf_batch batch;
        if (cf_batch_build(dev->id, dev->kept + from, n, dev->private_key, &batch))
            break;
        char *body = cf_batch_to_json(&batch);
        cf_batch_cleanup(&batch);
        struct sink reply;
        double t0 = now_s();
        long status = body ? post(curl, url, body, dev, &reply) : 0;
        double latency = now_s() - t0;
        free(body);
        cJSON *json = (status == 200 || status == 409) ? cJSON_Parse(reply.buf) : NULL;
        const cJSON *acked = cJSON_GetObjectItem(json, "acked_seq");
        const cJSON *expected = cJSON_GetObjectItem(json, "expected_seq");
        const cJSON *epoch = cJSON_GetObjectItem(json, "epoch");
        long long held = -1;
        if (status == 200 && cJSON_IsNumber(acked))
            held = (long long)acked->valuedouble;
        else if (status == 409 && cJSON_IsNumber(expected))
            held = (long long)expected->valuedouble - 1;
        if (cJSON_IsString(epoch)) {
            if (dev->epoch[0] && strcmp(dev->epoch, epoch->valuestring))
                dev->epoch_changes++;
            snprintf(dev->epoch, sizeof dev->epoch, "%s", epoch->valuestring);
        }
        cJSON_Delete(json);
        if (held >= 0 && (uint64_t)held <= total) {
            if ((uint64_t)held < dev->acked)
                dev->reuploads++; /* the server lost what it acknowledged: again from there */
            if (status == 200) {
                record(run, latency, (uint64_t)held > dev->acked ? (size_t)held - dev->acked : 0,
                       1);
                if ((uint64_t)held > dev->max_acked)
                    dev->max_acked = (uint64_t)held;
            }
            if ((uint64_t)held != dev->acked)
                last_progress = now_s();
            dev->acked = (uint64_t)held;
            if (run->pause_ms)
                sleep_ms(run->pause_ms);
            continue;
        }
        int transient = status == 0 || status == 429 || status >= 500;
        if (!transient || now_s() - last_progress > (double)run->retry_seconds) {
            record(run, latency, 0, 0);
            fprintf(stderr, "loadgen: device %s batch refused (%ld): %.300s\n", dev->id_text,
                    status, reply.buf);
            break;
        }
        pthread_mutex_lock(&run->lock);
        run->retries++;
        pthread_mutex_unlock(&run->lock);
        sleep_ms(200);
    }
}

static void *worker_thread(void *arg)
{
    struct run *run = arg;
    CURL *curl = curl_easy_init();
    for (;;) {
        pthread_mutex_lock(&run->lock);
        size_t i = run->next_device++;
        pthread_mutex_unlock(&run->lock);
        if (i >= run->device_count || !curl)
            break;
        if (run->retry_seconds)
            drive_device_patiently(run, curl, &run->devices[i]);
        else
            drive_device(run, curl, &run->devices[i]);
    }
    double t = now_s();
    pthread_mutex_lock(&run->lock);
    if (t > run->finished_at)
        run->finished_at = t;
    pthread_mutex_unlock(&run->lock);
    curl_easy_cleanup(curl);
    return NULL;
}

/* ==== Main ==== */

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(const double *sorted, size_t n, double p)
{
    if (!n)
        return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return sorted[i < n ? i : n - 1];
}

static size_t read_lines(const char *path, char (*lines)[64], size_t max)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;
    if (!f)
        return 0;
    while (n < max && fgets(lines[n], 64, f)) {
        lines[n][strcspn(lines[n], "\r\n")] = '\0';
        if (lines[n][0])
            n++;
    }
    fclose(f);
    return n;
}

static long parse_count(const char *text, long min, long max, const char *name)
{
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (!end || *end || v < min || v > max) {
        fprintf(stderr, "loadgen: %s must be a number from %ld to %ld\n", name, min, max);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    static char codes[MAX_DEVICES][64], recipients_text[MAX_RECIPIENTS][64];
    static uint8_t recipients[MAX_RECIPIENTS][CF_UUID_LEN];
    const char *codes_file = NULL, *recipients_file = NULL, *proofs_dir = NULL;
    const char *acked_file = NULL;
    struct run run = {
        .url = NULL, .device_count = 10, .events_per_device = 1000, .batch = 100, .concurrency = 8};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--url"))
            run.url = argv[i + 1];
        else if (!strcmp(argv[i], "--codes"))
            codes_file = argv[i + 1];
        else if (!strcmp(argv[i], "--recipients"))
            recipients_file = argv[i + 1];
        else if (!strcmp(argv[i], "--devices"))
            run.device_count = (size_t)parse_count(argv[i + 1], 1, MAX_DEVICES, "--devices");
        else if (!strcmp(argv[i], "--events"))
            run.events_per_device = (size_t)parse_count(argv[i + 1], 1, 10000000, "--events");
        else if (!strcmp(argv[i], "--batch"))
            run.batch = (size_t)parse_count(argv[i + 1], 1, CF_BATCH_MAX_EVENTS, "--batch");
        else if (!strcmp(argv[i], "--proofs"))
            proofs_dir = argv[i + 1];
        else if (!strcmp(argv[i], "--cacert"))
            cacert = argv[i + 1];
        else if (!strcmp(argv[i], "--acked"))
            acked_file = argv[i + 1];
        else if (!strcmp(argv[i], "--retry-seconds"))
            run.retry_seconds = parse_count(argv[i + 1], 1, 3600, "--retry-seconds");
        else if (!strcmp(argv[i], "--pause-ms"))
            run.pause_ms = parse_count(argv[i + 1], 0, 60000, "--pause-ms");
        else if (!strcmp(argv[i], "--concurrency"))
            run.concurrency = (size_t)parse_count(argv[i + 1], 1, 256, "--concurrency");
        else {
            fprintf(stderr, "loadgen: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!run.url || !codes_file || !recipients_file) {
        fprintf(stderr, "usage: carefact-loadgen --url URL --codes FILE --recipients FILE "
                        "[--devices N] [--events M] [--batch B] [--concurrency C] "
                        "[--proofs DIR] [--cacert PEM] [--retry-seconds S] [--pause-ms P] "
                        "[--acked FILE]\n");
        return 2;
    }
    size_t code_count = read_lines(codes_file, codes, MAX_DEVICES);
    run.recipient_count = read_lines(recipients_file, recipients_text, MAX_RECIPIENTS);
    if (code_count < run.device_count || run.recipient_count == 0) {
        fprintf(stderr, "loadgen: need %zu codes (have %zu) and at least one recipient\n",
                run.device_count, code_count);
        return 2;
    }
    for (size_t i = 0; i < run.recipient_count; i++)
        if (cf_uuid_from_text(recipients_text[i], recipients[i])) {
            fprintf(stderr, "loadgen: bad recipient id on line %zu\n", i + 1);
            return 2;
        }
    run.recipients = recipients;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    run.devices = calloc(run.device_count, sizeof *run.devices);
    CURL *curl = curl_easy_init();
    for (size_t i = 0; i < run.device_count; i++) {
        snprintf(run.devices[i].code, sizeof run.devices[i].code, "%s", codes[i]);
        if (enroll(curl, run.url, &run.devices[i]))
            return 1;
    }
    curl_easy_cleanup(curl);
    if (proofs_dir && load_card(&run, proofs_dir))
        return 1;
    fprintf(stderr,
            "loadgen: %zu devices enrolled; uploading %zu events each in batches of %zu, "
            "%zu at a time\n",
            run.device_count, run.events_per_device, run.batch, run.concurrency);
    /* Every visit in the past: the last one ends a day before now. */
    run.first_wall_ms =
        cf_time_now_ms() - 86400000 - (int64_t)(run.events_per_device / 3 + 1) * 7200000;
    pthread_mutex_init(&run.lock, NULL);
    pthread_t threads[256];
    double t0 = now_s();
    for (size_t i = 0; i < run.concurrency; i++)
        pthread_create(&threads[i], NULL, worker_thread, &run);
    for (;;) {
        struct timespec pause = {1, 0};
        nanosleep(&pause, NULL);
        pthread_mutex_lock(&run.lock);
        unsigned long acked = run.events_acked;
        int finished = run.next_device >= run.device_count + run.concurrency;
        pthread_mutex_unlock(&run.lock);
        fprintf(stderr, "\rloadgen: %lu / %zu events acknowledged", acked,
                run.device_count * run.events_per_device);
        if (finished)
            break;
    }
    for (size_t i = 0; i < run.concurrency; i++)
        pthread_join(threads[i], NULL);
    /* NOTE: not now_s(): the progress loop above sleeps in whole seconds. */
    double elapsed = run.finished_at - t0;
    fprintf(stderr, "\n");
    qsort(run.latencies, run.latency_count, sizeof *run.latencies, compare_double);
    printf("loadgen: events=%lu batches=%zu failures=%lu seconds=%.2f events_per_s=%.0f "
           "batch_ms_p50=%.1f p95=%.1f p99=%.1f\n",
           run.events_acked, run.latency_count, run.failures, elapsed,
           (double)run.events_acked / elapsed,
           1000 * percentile(run.latencies, run.latency_count, 0.5),
           1000 * percentile(run.latencies, run.latency_count, 0.95),
           1000 * percentile(run.latencies, run.latency_count, 0.99));
    if (run.retry_seconds) {
        unsigned long changes = 0, reuploads = 0;
        FILE *f = acked_file ? fopen(acked_file, "w") : NULL;
        for (size_t i = 0; i < run.device_count; i++) {
            const struct device *d = &run.devices[i];
            changes += d->epoch_changes;
            reuploads += d->reuploads;
            if (f)
                fprintf(f, "%s %llu %llu %lu %lu\n", d->id_text, (unsigned long long)d->max_acked,
                        (unsigned long long)d->acked, d->epoch_changes, d->reuploads);
        }
        if (f && fclose(f)) {
            fprintf(stderr, "loadgen: cannot write %s\n", acked_file);
            run.failures++;
        }
        printf("loadgen: retries=%lu epoch_changes=%lu reuploads=%lu\n", run.retries, changes,
               reuploads);
    }
    for (size_t i = 0; i < run.device_count; i++)
        free(run.devices[i].kept);
    free(run.latencies);
    free(run.devices);
    return run.failures ? 1 : 0;
}
