/* Test harness for integration and end-to-end tests: a private PostgreSQL (tools/pg,
 * destroyed by its watchdog even if the test crashes), the real carefactd on a free
 * loopback port, SQL helpers and an HTTP client (libcurl). */
#ifndef CF_TEST_HARNESS_H
#define CF_TEST_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

/* A signed-in person: the session cookie and the CSRF token to send back. */
struct cf_session {
    char cookie[160]; /* "cf_session=..." */
    char csrf[80];
};

/* An enrolled test device whose requests the harness signs. */
#define CF_HARNESS_DEVICES 64
struct cf_harness_device {
    char id[40];
    unsigned char key[32];
};

struct cf_harness {
    char pg_dir[64];
    char conninfo[256]; /* the owner role (migrations, test SQL) */
    char app_conninfo[300]; /* carefact_app: the role carefactd serves as */
    char base_url[64];
    pid_t server;
    int port;
    const struct cf_session *session; /* sent by cf_http when set (NULL = anonymous) */
    struct cf_harness_device devices[CF_HARNESS_DEVICES];
    size_t device_count;
};

struct cf_http_reply {
    long status;
    char content_type[96];
    char *body; /* NUL-terminated, caller frees with cf_http_reply_cleanup */
    size_t body_len;
    char set_cookie[256]; /* the first Set-Cookie header, "" when none */
    char content_disposition[256]; /* the Content-Disposition header, "" when none */
    char etag[96]; /* the ETag header, "" when none */
    char headers[2048]; /* every header line as received (CRLF-ended), cut at the size */
    char retry_after[16]; /* the Retry-After header, "" when none */
};

/* Start PostgreSQL, migrate, start carefactd (extra_args: NULL-terminated list of
 * additional serve flags, may be NULL) and wait for /healthz. Returns 0 or -1. */
int cf_harness_start(struct cf_harness *h, const char *const *extra_args);
void cf_harness_stop(struct cf_harness *h);

/* Stop / start only carefactd (the database keeps running). */
void cf_harness_stop_server(struct cf_harness *h);
int cf_harness_start_server(struct cf_harness *h, const char *const *extra_args);

/* Stop or start the private PostgreSQL itself ("stop" / "start"); carefactd stays up.
 * Returns 0 or -1. */
int cf_harness_pg(struct cf_harness *h, const char *action);

/* Run SQL as the application role; returns 0 or -1 (error printed). */
int cf_harness_sql(struct cf_harness *h, const char *sql);
/* First column of the first row as a malloc'd string ("" for no row); NULL on error. */
char *cf_harness_sql_value(struct cf_harness *h, const char *sql);
long cf_harness_sql_long(struct cf_harness *h, const char *sql);

/* Run carefactd with arguments (NULL-terminated) and capture its first stdout line. */
int cf_harness_carefactd(struct cf_harness *h, const char *const *args, char *out, size_t out_size);

/* Create an account with `carefactd user add` (provider/worker may be NULL). 0 or -1. */
int cf_harness_account(struct cf_harness *h, const char *login, const char *role,
                       const char *provider, const char *worker, const char *password);
/* The same for application staff (intake, intake_lead, caseworker) of an office. */
int cf_harness_staff_account(struct cf_harness *h, const char *login, const char *role,
                             const char *office, const char *password);
/* POST /api/v1/session; on 201 fills *out and returns 0, else -1. */
int cf_harness_login(struct cf_harness *h, const char *login, const char *password,
                     struct cf_session *out);
/* Create an authority account "harness-authority" once, sign it in and make cf_http
 * send its session from now on (tests that read what devices sent). 0 or -1. */
int cf_harness_as_authority(struct cf_harness *h);

/* From now on, cf_http signs requests to /api/v1/devices/<id>/... with this device's
 * enrolled private key (cf_request_sign), as the agent does. */
void cf_harness_device_key(struct cf_harness *h, const char *id, const unsigned char key[32]);
/* ... and no longer (for a test that signs this device's requests by hand). */
void cf_harness_device_forget(struct cf_harness *h, const char *id);

/* One HTTP request to the server; body may be NULL. Returns 0 (any status) or -1
 * when no HTTP answer came. */
int cf_http(struct cf_harness *h, const char *method, const char *path, const char *body,
            size_t body_len, struct cf_http_reply *reply);
/* The same with extra request headers ("Name: value", NULL-terminated list; may be
 * NULL), e.g. a session cookie and X-CSRF-Token. */
int cf_http_with(struct cf_harness *h, const char *method, const char *path, const char *body,
                 size_t body_len, const char *const *headers, struct cf_http_reply *reply);
void cf_http_reply_cleanup(struct cf_http_reply *reply);

/* With CF_CONTRACT_LOG set (cf_contract_record), append one exchange to the recording
 * the contract check validates. cf_http records its own; a test that speaks HTTP some
 * other way (a stream read over a raw socket) records with this. */
void cf_contract_note(const char *method, const char *path, const struct cf_http_reply *reply);

#endif
