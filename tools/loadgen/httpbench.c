/* carefact-httpbench: the latency of GET requests over one reused connection, for
 * tools/bench-review. Each request is timed from the call to its last byte (the
 * body is read and counted, not parsed), one at a time, so a percentile is the time
 * one person waits, not a throughput figure. libcurl with keep-alive rather than curl
 * in a shell loop: a fresh process and TCP connection per request would cost more
 * than the 100 ms being measured. Only 200 answers count; anything else fails the run.
 *
 *   carefact-httpbench --url http://127.0.0.1:8080 [--cookie "cf_session=..."]
 *                      [--requests 200] [--warmup 5] < PATHS
 *
 * PATHS: lines "<name> <path?query>"; prints one line per path:
 *   <name> n=<n> p50_ms=<> p95_ms=<> p99_ms=<> max_ms=<> bytes=<body bytes of the last> */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#define LINE_MAX_LEN 2048
#define REQUESTS_MAX 100000

struct options {
    const char *url, *cookie;
    long requests, warmup;
};

static size_t count_body(char *data, size_t size, size_t n, void *user)
{
    (void)data;
    *(size_t *)user += size * n;
    return size * n;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted values. */
static double percentile(const double *sorted, long n, double p)
{
    long rank = (long)(p / 100.0 * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    return sorted[rank > n ? n - 1 : rank - 1];
}

/* One GET; returns 0 for a 200, else -1 with a message. */
static int get_once(CURL *curl, size_t *bytes, double *ms)
{
    long status = 0;
    *bytes = 0;
    double t0 = now_ms();
    CURLcode rc = curl_easy_perform(curl);
    *ms = now_ms() - t0;
    if (rc != CURLE_OK) {
        fprintf(stderr, "httpbench: %s\n", curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        fprintf(stderr, "httpbench: HTTP %ld\n", status);
        return -1;
    }
    return 0;
}

static int bench_path(CURL *curl, const struct options *o, const char *name, const char *path,
                      double *times)
{
    char url[LINE_MAX_LEN + 256];
    size_t bytes = 0;
    double ms;
    snprintf(url, sizeof url, "%s%s", o->url, path);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &bytes);
    for (long i = 0; i < o->warmup; i++)
        if (get_once(curl, &bytes, &ms))
            goto fail;
    for (long i = 0; i < o->requests; i++)
        if (get_once(curl, &bytes, &times[i]))
            goto fail;
    qsort(times, (size_t)o->requests, sizeof *times, cmp_double);
    printf("%s n=%ld p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f max_ms=%.2f bytes=%zu\n", name,
           o->requests, percentile(times, o->requests, 50), percentile(times, o->requests, 95),
           percentile(times, o->requests, 99), times[o->requests - 1], bytes);
    fflush(stdout);
    return 0;
fail:
    fprintf(stderr, "httpbench: %s failed: GET %s\n", name, path);
    return -1;
}

static int parse_long(const char *text, long min, long max, long *out)
{
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (end == text || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
    *o = (struct options){.url = NULL, .cookie = NULL, .requests = 200, .warmup = 5};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--url"))
            o->url = argv[i + 1];
        else if (!strcmp(argv[i], "--cookie"))
            o->cookie = argv[i + 1];
        else if (!strcmp(argv[i], "--requests")) {
            if (parse_long(argv[i + 1], 1, REQUESTS_MAX, &o->requests))
                return -1;
        } else if (!strcmp(argv[i], "--warmup")) {
            if (parse_long(argv[i + 1], 0, REQUESTS_MAX, &o->warmup))
                return -1;
        } else
            return -1;
    }
    return o->url && argc % 2 == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse_args(argc, argv, &o)) {
        fprintf(stderr, "usage: carefact-httpbench --url URL [--cookie C] [--requests N] "
                        "[--warmup W] < PATHS (lines: name path)\n");
        return 2;
    }
    double *times = malloc(sizeof *times * (size_t)o.requests);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *curl = curl_easy_init();
    int rc = times && curl ? 0 : 1;
    if (!rc) {
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, count_body);
        curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, NULL);
        if (o.cookie)
            curl_easy_setopt(curl, CURLOPT_COOKIE, o.cookie);
    }
    char line[LINE_MAX_LEN];
    while (!rc && fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *space = strchr(line, ' ');
        if (!line[0] || line[0] == '#')
            continue;
        if (!space) {
            fprintf(stderr, "httpbench: a line must be \"name path\": %s\n", line);
            rc = 2;
            break;
        }
        *space = '\0';
        if (bench_path(curl, &o, line, space + 1, times))
            rc = 1;
    }
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    free(times);
    return rc;
}
