/* The outbox sender (issue 16): messages to people (a closure moved or cancelled their
 * appointment) are rows of `outbox`, written in the transaction that decided them
 * (sql/0021_appointments.sql); a thread of `carefactd serve` sends the due ones through a
 * transport and marks each sent in the same transaction that claimed it. See
 * backend/README.md, "Appointments". */
#ifndef BE_OUTBOX_H
#define BE_OUTBOX_H

#include <stddef.h>

#include <libpq-fe.h>

/* One message: its outbox id (the gateway's idempotency key), the phone, the text.
 * Borrowed for the duration of a send. */
struct be_sms {
    const char *id;
    const char *phone;
    const char *text;
};

/* How messages leave: send returns 0 when the gateway took the message (it will reach
 * the person), else -1 with a reason in err. A transport must let the gateway drop a
 * repeat of an id it already took: after a crash between its answer and our COMMIT, the
 * same message is sent again under the same id. */
struct be_sms_transport {
    int (*send)(void *ctx, const struct be_sms *msg, char *err, size_t err_size);
    void *ctx;
};

/* The HTTP SMS gateway adapter: POST url with {"id", "phone", "text"} (JSON) and the
 * header Idempotency-Key: carefact-outbox-<id>; any 2xx is taken. url is borrowed and
 * must outlive the transport. */
void be_sms_http_transport(struct be_sms_transport *t, const char *url);

/* The JSON body the HTTP adapter sends for msg, malloc'd (caller frees), or NULL. Pure. */
char *be_sms_json(const struct be_sms *msg);

/* One pass over db (a connection whose scope sees every office): write the reminders
 * due now (appointment_remind, sql/0021), then claim up to limit due
 * messages (FOR UPDATE SKIP LOCKED, so instances share the work), send each through t,
 * mark it sent (or count the attempt and retry later: 30 s, doubling, up to 1 h; failed
 * after 10 attempts), COMMIT. Returns the number sent, or -1 on a database error
 * (logged; nothing is marked). */
int be_outbox_pass(PGconn *db, const struct be_sms_transport *t, int limit);

/* Start the sender thread for `serve`: every interval_ms, a pass on its own connection
 * to conninfo (re-dialled when lost). Returns 0 or -1. be_outbox_stop ends it (waits
 * for the pass in flight). Both borrowed strings must outlive the thread. */
int be_outbox_start(const char *conninfo, const char *url, int interval_ms);
void be_outbox_stop(void);

#endif
