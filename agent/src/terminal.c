/* `carefact-agent terminal`: the interactive text UI for a worker in a hurry and an
 * elderly recipient -- large plain prompts in Russian, one digit to choose, 1-5 to
 * rate. It drives the same visit library as the command line, reads cards through
 * the same reader, and syncs by itself: every few minutes while idle (respecting
 * the back-off) and at once when a network link comes up. Plain stdin/stdout, so it
 * runs on a console, over ssh or in tmux (which is how it is tested). */
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ag/cli.h"
#include "ag/clock.h"
#include "ag/commands.h"
#include "ag/lists.h"
#include "ag/messages.h"
#include "ag/sync.h"
#include "ag/trips.h"
#include "ag/visit.h"
#include "ag/visit_commands.h"
#include "ag/visit_output.h"
#include "cf/uuid.h"

#define N(opts) (sizeof opts / sizeof opts[0])
#define LINE_MAX_LEN 1024
#define IDLE_TICK_MS 15000 /* how often an idle terminal looks at the link and the timer */
#define MAX_CHOICES 99

struct ui {
    struct ag_cli cli;
    struct ag_store *store;
    const char *device;
    long wait_s;
    /* bytes read, not yet a whole line: room for the longest comment (1000 characters
     * of up to 4 bytes each) and a line more */
    char pending[CF_COMMENT_MAX_BYTES + LINE_MAX_LEN];
    size_t pending_len;
    bool eof;
    unsigned long link_signature;
};

/* ==== Input ==== */

/* One line from stdin (without the newline), waiting up to timeout_ms (-1: for
 * ever). Returns 1 line, 0 timeout, -1 end of input. A line longer than out holds is
 * cut to its first size - 1 bytes, so a caller whose out is one byte longer than the
 * longest valid answer sees it is too long (never the line's tail as an answer). */
static int read_line(struct ui *ui, char *out, size_t size, int timeout_ms)
{
    bool cut = false; /* out holds the start of a line longer than pending */
    for (;;) {
        char *nl = memchr(ui->pending, '\n', ui->pending_len);
        if (nl && cut) {
            size_t len = (size_t)(nl - ui->pending);
            memmove(ui->pending, nl + 1, ui->pending_len - len - 1);
            ui->pending_len -= len + 1;
            return 1;
        }
        if (nl) {
            size_t len = (size_t)(nl - ui->pending);
            size_t copy = len < size - 1 ? len : size - 1;
            memcpy(out, ui->pending, copy);
            out[copy] = '\0';
            if (copy && out[copy - 1] == '\r')
                out[copy - 1] = '\0';
            memmove(ui->pending, nl + 1, ui->pending_len - len - 1);
            ui->pending_len -= len + 1;
            return 1;
        }
        if (ui->eof)
            return -1;
        if (ui->pending_len == sizeof ui->pending) {
            /* an absurdly long line: keep its start, drop the rest up to its newline */
            if (!cut) {
                size_t copy = ui->pending_len < size - 1 ? ui->pending_len : size - 1;
                memcpy(out, ui->pending, copy);
                out[copy] = '\0';
                cut = true;
            }
            ui->pending_len = 0;
        }
        struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
        int ready = poll(&p, 1, timeout_ms);
        if (ready == 0)
            return 0;
        if (ready < 0)
            continue; /* EINTR */
        ssize_t n =
            read(STDIN_FILENO, ui->pending + ui->pending_len, sizeof ui->pending - ui->pending_len);
        if (n <= 0)
            ui->eof = true;
        else
            ui->pending_len += (size_t)n;
    }
}

static void say(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

/* Ask for a number 0..max. Returns it, or -1 at end of input. */
static int ask_number(struct ui *ui, const char *prompt, int max)
{
    char line[LINE_MAX_LEN];
    for (;;) {
        say("\n%s ", prompt);
        int got = read_line(ui, line, sizeof line, -1);
        if (got < 0)
            return -1;
        char *end = NULL;
        long v = strtol(line, &end, 10);
        if (end != line && *end == '\0' && v >= 0 && v <= max)
            return (int)v;
        say(AG_MSG_TERM_DIGIT_RANGE, max);
    }
}

/* ==== Status line and sync ==== */

static void show_status(struct ui *ui)
{
    struct ag_queue_stats q;
    struct ag_sync_state st;
    struct ag_visit_row row;
    char at[6];
    if (ag_store_queue_stats(ui->store, &q) || ag_store_sync_get(ui->store, &st))
        return;
    if (q.waiting) {
        ag_local_time(q.oldest_waiting_ms, at);
        say(AG_MSG_TERM_WAITING, (unsigned long long)q.waiting, at);
    } else {
        say(AG_MSG_TERM_ALL_SENT);
    }
    if (st.held)
        say(AG_MSG_TERM_SYNC_HELD, st.last_message);
    if (ag_store_visit_find(ui->store, AG_FIND_OPEN, NULL, &row) == 0) {
        struct ag_recipient_view *v = malloc(sizeof *v);
        if (v && ag_recipient_view(ui->store, row.recipient_id, row.started_wall_ms, v) == 0) {
            ag_local_time(row.started_wall_ms, at);
            say(AG_MSG_TERM_VISIT_OPEN, v->recipient.full_name, at);
        }
        free(v);
    }
}

static void print_sync_line(void *ctx, const char *line)
{
    (void)ctx;
    say(" %s\n", line);
}

static void run_sync(struct ui *ui, bool automatic)
{
    struct ag_sync_options opt = {.automatic = automatic, .progress = print_sync_line};
    struct ag_sync_report rep;
    if (!automatic)
        say(AG_MSG_TERM_SYNCING);
    int rc = ag_sync_run(ui->store, &opt, &rep);
    if (rc == CF_EBACKOFF && automatic)
        return;
    if (rc)
        say(AG_MSG_TERM_SYNC_FAILED, rep.message);
    else
        say(AG_MSG_TERM_SYNC_DONE, (unsigned long long)rep.uploaded,
            (unsigned long long)rep.waiting);
}

/* After a step, send its event now unless the sync is backing off or held. */
static void sync_after_action(struct ui *ui)
{
    struct ag_sync_state st;
    if (ag_store_sync_get(ui->store, &st) || st.held || st.failures)
        return;
    st.next_attempt_ms = 0;
    if (ag_store_sync_put(ui->store, &st) == 0)
        run_sync(ui, true);
}

/* Idle: sync when due, and at once when a link comes up. */
static void idle_tick(struct ui *ui)
{
    unsigned long sig = ag_link_signature();
    if (sig && sig != ui->link_signature) {
        struct ag_sync_state st;
        if (ag_store_sync_get(ui->store, &st) == 0 && !st.held) {
            st.next_attempt_ms = 0; /* the link is back: do not wait out the back-off */
            ag_store_sync_put(ui->store, &st);
        }
    }
    ui->link_signature = sig;
    run_sync(ui, true);
}

/* ==== Steps ==== */

/* With confirms, the card signs the challenge of the event it confirms (visit_id: that
 * event's visit, NULL for none). */
static bool read_card(struct ui *ui, const char *prompt, struct cf_card_assurance *card,
                      struct ag_moment *moment, bool confirms, const uint8_t *visit_id)
{
    uint8_t challenge[CF_CHALLENGE_LEN];
    if (confirms && ag_card_challenge(ui->store, visit_id, challenge))
        confirms = false;
    say("\n>>> %s <<<\n", prompt);
    if (ag_cli_read_card(&ui->cli, ui->store, ui->device, ui->wait_s, AG_MSG_TERM_WAITING_FOR_CARD,
                         confirms ? challenge : NULL, card))
        return false;
    if (ag_moment_now(moment)) {
        say(AG_MSG_TERM_NO_CLOCK);
        return false;
    }
    return true;
}

/* An outcome for the worker: its sentence, and which service a refused one was.
 * NOTE: the detail's message is English, for logs and the command line's --json;
 * it never reaches this screen. */
static void report(int rc, const struct cf_error_detail *d)
{
    say("\n%s\n", ag_message(rc));
    if (d && rc == CF_ESERVICE_NOT_ALLOWED && d->field[0])
        say(AG_MSG_TERM_SERVICE_REFUSED, d->field);
}

/* Plans not yet begun (or only attempted), numbered; returns the choice or NULL. */
static const struct ag_plan_entry *choose_plan(struct ui *ui, struct ag_plan_entry *plans,
                                               size_t count)
{
    const struct ag_plan_entry *shown[MAX_CHOICES];
    int n = 0;
    say(AG_MSG_TERM_PLANS_HEAD);
    for (size_t i = 0; i < count && n < MAX_CHOICES; i++) {
        if (plans[i].state != AG_VISIT_NONE && plans[i].state != AG_VISIT_ATTEMPT)
            continue;
        char at[6];
        ag_local_time(plans[i].plan.planned_start_ms, at);
        shown[n++] = &plans[i];
        say(" %2d  %s  %s%s\n", n, at, plans[i].recipient_name,
            plans[i].state == AG_VISIT_ATTEMPT ? AG_MSG_TERM_PLAN_ATTEMPTED : "");
    }
    if (n == 0) {
        say(AG_MSG_TERM_NO_PLANS);
        return NULL;
    }
    say(AG_MSG_TERM_BACK);
    int choice = ask_number(ui, AG_MSG_TERM_ASK_PLAN, n);
    return choice > 0 ? shown[choice - 1] : NULL;
}

static void start_visit(struct ui *ui, bool planned)
{
    struct ag_plan_entry *plans = NULL;
    size_t count = 0;
    struct ag_visit_start req;
    memset(&req, 0, sizeof req);
    if (planned) {
        if (ag_plans_collect(ui->store, &plans, &count))
            return;
        const struct ag_plan_entry *e = choose_plan(ui, plans, count);
        if (!e) {
            free(plans);
            return;
        }
        req.plan_id = e->plan.id;
    }
    struct ag_visit_result *r = malloc(sizeof *r);
    struct cf_error_detail d = {0};
    uint8_t visit[CF_UUID_LEN];
    req.visit_id = visit;
    if (r && !cf_uuid_v7(ag_wall_now_ms(), visit) &&
        read_card(ui, AG_MSG_TERM_TAP_CARD, &req.card, &req.moment, true, visit)) {
        int rc = ag_visit_start(ui->store, &req, r, &d);
        uint8_t chosen[CF_UUID_LEN];
        if (rc == CF_ECARD_AMBIGUOUS) {
            say(AG_MSG_TERM_GUARDIAN_CARD);
            for (size_t i = 0; i < r->candidate_count; i++)
                say(" %2zu  %s\n", i + 1, r->candidates[i]);
            int c = ask_number(ui, AG_MSG_TERM_ASK_RECIPIENT_OR_CANCEL, (int)r->candidate_count);
            if (c > 0 && !cf_uuid_from_text(r->candidate_ids[c - 1], chosen)) {
                req.recipient_id = chosen;
                memset(&d, 0, sizeof d);
                rc = ag_visit_start(ui->store, &req, r, &d);
            }
        }
        if (rc == CF_ECARD_OTHER) {
            /* the worker chooses: start with this card (recorded; the backend flags
             * card_mismatch) or go back with nothing recorded */
            char names[512];
            ag_candidates_text(r, names, sizeof names);
            report(rc, &d);
            say(AG_MSG_CARD_BELONGS_TO, names);
            say(AG_MSG_TERM_OTHER_CARD_CHOICE);
            if (ask_number(ui, AG_MSG_TERM_ASK_CHOICE, 1) == 1) {
                req.accept_other_card = true;
                memset(&d, 0, sizeof d);
                rc = ag_visit_start(ui->store, &req, r, &d);
            }
        }
        if (rc == CF_ECARD_OTHER) {
            /* shown above; the worker went back */
        } else if (rc) {
            report(rc, &d);
        } else {
            say(AG_MSG_TERM_VISIT_STARTED);
            ag_print_view(stdout, &r->view, false);
            if (!r->card_matches)
                say(AG_MSG_CARD_MISMATCH_WARNING);
        }
    }
    free(r);
    free(plans);
}

/* Services done: numbers from the list, "2*3" for a quantity. */
static int ask_services(struct ui *ui, const struct ag_recipient_view *v, struct ag_visit_end *req)
{
    char line[LINE_MAX_LEN];
    ag_print_view(stdout, v, true);
    say(AG_MSG_TERM_ASK_SERVICES);
    if (read_line(ui, line, sizeof line, -1) < 0)
        return -1;
    req->service_count = 0;
    for (char *p = line; *p;) {
        char *end = NULL;
        long num = strtol(p, &end, 10), qty = 1;
        if (end == p)
            return 0; /* not a number: ask again */
        p = end;
        if (*p == '*' || *p == 'x' || *p == 'X') {
            qty = strtol(p + 1, &end, 10);
            if (end == p + 1 || qty < 1 || qty > CF_SERVICE_QUANTITY_MAX)
                return 0;
            p = end;
        }
        while (*p == ' ' || *p == ',')
            p++;
        if (num == 0)
            continue;
        if (num < 1 || (size_t)num > v->available_count || req->service_count == CF_MAX_SERVICES)
            return 0;
        struct cf_service_done *s = &req->services[req->service_count++];
        snprintf(s->code, sizeof s->code, "%s", v->available[num - 1].code);
        s->quantity = (int32_t)qty;
    }
    return 1;
}

static void rate_visit(struct ui *ui)
{
    char comment[CF_COMMENT_MAX_BYTES + 2]; /* one byte more: a longer line is refused */
    struct ag_visit_result r;
    struct ag_visit_row row;
    struct ag_moment m;
    struct cf_error_detail d = {0};
    if (ag_store_visit_find(ui->store, AG_FIND_UNRATED, NULL, &row)) {
        say(AG_MSG_TERM_NOTHING_TO_RATE);
        return;
    }
    say(AG_MSG_TERM_RATE_HEAD);
    int rating = 0;
    while (rating < 1) {
        rating = ask_number(ui, AG_MSG_TERM_ASK_RATING, 5);
        if (rating < 0)
            return;
    }
    say(AG_MSG_TERM_ASK_COMMENT);
    if (read_line(ui, comment, sizeof comment, -1) < 0)
        comment[0] = '\0';
    if (ag_moment_now(&m))
        return;
    int rc = ag_visit_rate(ui->store, NULL, rating, comment, &m, &r, &d);
    if (rc)
        report(rc, &d);
    else
        say(AG_MSG_TERM_RATED, rating);
}

static void end_visit(struct ui *ui)
{
    struct ag_visit_row row;
    struct ag_visit_end *req = calloc(1, sizeof *req);
    struct ag_visit_result *r = malloc(sizeof *r);
    struct ag_recipient_view *v = malloc(sizeof *v);
    struct cf_error_detail d = {0};
    struct ag_moment now;
    int got = 0;
    if (!req || !r || !v || ag_moment_now(&now))
        goto out;
    if (ag_store_visit_find(ui->store, AG_FIND_OPEN, NULL, &row) ||
        ag_recipient_view(ui->store, row.recipient_id, now.wall_ms, v)) {
        report(CF_ENO_VISIT, NULL);
        goto out;
    }
    while ((got = ask_services(ui, v, req)) == 0)
        say(AG_MSG_TERM_NOT_UNDERSTOOD);
    if (got < 0 ||
        !read_card(ui, AG_MSG_TERM_TAP_CARD_TO_END, &req->card, &req->moment, true, row.visit_id))
        goto out;
    int rc = ag_visit_end(ui->store, req, r, &d);
    if (rc) {
        report(rc, &d);
        goto out;
    }
    char duration[32];
    ag_duration_text(r->duration_ms, duration);
    say(AG_MSG_TERM_VISIT_ENDED, duration);
    if (!r->card_matches)
        say(AG_MSG_CARD_MISMATCH_WARNING);
    rate_visit(ui);
out:
    free(req);
    free(r);
    free(v);
}

static int ask_reason(struct ui *ui)
{
    static const enum cf_reason reasons[] = {CF_REASON_NOBODY_HOME, CF_REASON_REFUSED,
                                             CF_REASON_IN_HOSPITAL, CF_REASON_WORKER_ILL,
                                             CF_REASON_OTHER};
    say(AG_MSG_TERM_REASON_HEAD);
    for (size_t i = 0; i < 5; i++)
        say(" %zu  %s\n", i + 1, ag_reason_text(reasons[i]));
    int c = ask_number(ui, AG_MSG_TERM_ASK_REASON, 5);
    return c > 0 ? (int)reasons[c - 1] : 0;
}

static void door_attempt(struct ui *ui)
{
    struct ag_plan_entry *plans = NULL;
    size_t count = 0;
    struct ag_visit_attempt req;
    struct ag_visit_result *r = malloc(sizeof *r);
    struct cf_error_detail d = {0};
    memset(&req, 0, sizeof req);
    if (!r || ag_plans_collect(ui->store, &plans, &count))
        goto out;
    const struct ag_plan_entry *e = choose_plan(ui, plans, count);
    int reason = e ? ask_reason(ui) : 0;
    if (!reason)
        goto out;
    req.plan_id = e->plan.id;
    req.reason = (enum cf_reason)reason;
    say(AG_MSG_TERM_CONFIRM_BY_CARD);
    int confirm = ask_number(ui, AG_MSG_TERM_ASK_CHOICE, 1);
    if (confirm < 0)
        goto out;
    if (confirm == 1 ? !read_card(ui, AG_MSG_TERM_TAP_CARD, &req.card, &req.moment, false, NULL)
                     : ag_moment_now(&req.moment) != 0)
        goto out;
    int rc = ag_visit_attempt(ui->store, &req, r, &d);
    if (rc)
        report(rc, &d);
    else
        say(AG_MSG_TERM_ATTEMPT_RECORDED, r->view.recipient.full_name, ag_reason_text(req.reason));
out:
    free(r);
    free(plans);
}

static void cancel_visit(struct ui *ui)
{
    struct ag_plan_entry *plans = NULL;
    size_t count = 0;
    struct ag_visit_cancel req;
    struct ag_visit_row row;
    struct ag_visit_result r;
    struct cf_error_detail d = {0};
    memset(&req, 0, sizeof req);
    if (ag_store_visit_find(ui->store, AG_FIND_OPEN, NULL, &row) != 0) {
        if (ag_plans_collect(ui->store, &plans, &count))
            return;
        const struct ag_plan_entry *e = choose_plan(ui, plans, count);
        if (!e)
            goto out;
        req.plan_id = e->plan.id;
    } else {
        say(AG_MSG_TERM_CANCELLING_OPEN);
    }
    int reason = ask_reason(ui);
    if (!reason)
        goto out;
    req.reason = (enum cf_reason)reason;
    say(AG_MSG_TERM_WHO_CANCELLED);
    int who = ask_number(ui, AG_MSG_TERM_ASK_WHO, 3);
    if (who <= 0 || ag_moment_now(&req.moment))
        goto out;
    req.cancelled_by = (enum cf_actor)who;
    int rc = ag_visit_cancel(ui->store, &req, &r, &d);
    if (rc)
        report(rc, &d);
    else
        say(AG_MSG_TERM_VISIT_CANCELLED, ag_reason_text(req.reason));
out:
    free(plans);
}

static void bind_card(struct ui *ui)
{
    struct ag_id_list ids;
    struct ag_recipient_view *v = malloc(sizeof *v);
    struct ag_visit_result *r = malloc(sizeof *r);
    struct cf_card_assurance card;
    struct ag_moment m;
    struct cf_error_detail d = {0};
    int64_t now = ag_wall_now_ms();
    if (!v || !r || ag_recipient_ids(ui->store, &ids)) {
        free(v);
        free(r);
        return;
    }
    uint8_t id[MAX_CHOICES][CF_UUID_LEN];
    int n = 0;
    say(AG_MSG_TERM_BIND_HEAD);
    for (size_t i = 0; i < ids.count && n < MAX_CHOICES; i++)
        if (!cf_uuid_from_text(ids.ids[i], id[n]) && !ag_recipient_view(ui->store, id[n], now, v))
            say(" %2d  %s\n", ++n, v->recipient.full_name);
    int c = n ? ask_number(ui, AG_MSG_TERM_ASK_RECIPIENT_OR_BACK, n) : 0;
    if (c > 0 && read_card(ui, AG_MSG_TERM_TAP_NEW_CARD, &card, &m, true, NULL)) {
        int rc = ag_card_bind(ui->store, id[c - 1], &card, &m, r, &d);
        if (rc)
            report(rc, &d);
        else
            say(AG_MSG_TERM_BINDING, r->view.recipient.full_name);
    }
    free(ids.ids);
    free(v);
    free(r);
}

/* The brigade trips held (issue 16), from the store: offline. */
static void show_trips(struct ui *ui)
{
    struct ag_trip *trips[AG_TRIPS_HELD_MAX];
    size_t count = 0;
    if (ag_trips_collect(ui->store, trips, &count))
        say(AG_MSG_TERM_TRIPS_UNREADABLE);
    else
        ag_trips_print(trips, count);
    ag_trips_free(trips, count);
}

/* ==== The loop ==== */

static void show_menu(struct ui *ui)
{
    say(AG_MSG_TERM_BANNER);
    show_status(ui);
    say(AG_MSG_TERM_MENU);
}

static const char terminal_usage[] =
    "usage: carefact-agent terminal [--device CONNSTRING] [--wait SECONDS] [--store FILE]\n"
    "  The interactive terminal in Russian: digits to choose, the card on the reader.\n"
    "  Syncs by itself every few minutes and when the network comes back.\n"
    "  --device CONNSTRING  card reader (default: LIBNFC_DEVICE)\n"
    "  --wait SECONDS       how long to wait for a card, 1..600 (default 30)\n"
    "  --store FILE         the agent's store (default: CAREFACT_AGENT_STORE)\n";

int ag_cmd_terminal(int argc, char **argv)
{
    struct ag_option o[] = {{"--device", true, false, 0, {0}},
                            {"--wait", true, false, 0, {0}},
                            {"--store", true, false, 0, {0}}};
    struct ui *ui = calloc(1, sizeof *ui);
    if (!ui)
        return AG_EXIT_FAILED;
    ui->cli = (struct ag_cli){"terminal", terminal_usage, false};
    int rc = ag_cli_parse(&ui->cli, argc, argv, o, N(o));
    const char *w = ag_cli_value(o, N(o), "--wait");
    if (!rc && w)
        rc = ag_cli_long(&ui->cli, "--wait", w, 1, 600, &ui->wait_s);
    if (!rc)
        rc = ag_cli_open_store(&ui->cli, ag_cli_value(o, N(o), "--store"), &ui->store);
    struct ag_identity *id = rc ? NULL : malloc(sizeof *id);
    if (!rc && (!id || ag_store_identity_get(ui->store, id)))
        rc = ag_cli_fail(&ui->cli, CF_ENOT_ENROLLED, NULL);
    ag_identity_wipe(id);
    free(id);
    if (rc)
        goto out;
    ui->device = ag_cli_value(o, N(o), "--device");
    ui->link_signature = ag_link_signature();
    run_sync(ui, true);
    for (bool shown = false;;) {
        char line[LINE_MAX_LEN];
        if (!shown)
            show_menu(ui);
        shown = true;
        int got = read_line(ui, line, sizeof line, IDLE_TICK_MS);
        if (got < 0)
            break;
        if (got == 0) {
            idle_tick(ui);
            continue;
        }
        shown = false;
        if (strcmp(line, "0") == 0)
            break;
        else if (strcmp(line, "1") == 0)
            start_visit(ui, true);
        else if (strcmp(line, "2") == 0)
            start_visit(ui, false);
        else if (strcmp(line, "3") == 0)
            end_visit(ui);
        else if (strcmp(line, "4") == 0)
            rate_visit(ui);
        else if (strcmp(line, "5") == 0)
            door_attempt(ui);
        else if (strcmp(line, "6") == 0)
            cancel_visit(ui);
        else if (strcmp(line, "7") == 0)
            bind_card(ui);
        else if (strcmp(line, "8") == 0)
            run_sync(ui, false);
        else if (strcmp(line, "9") == 0)
            show_trips(ui);
        else
            say(AG_MSG_TERM_MENU_DIGIT);
        if (strcmp(line, "8") != 0)
            sync_after_action(ui);
    }
    say(AG_MSG_TERM_GOODBYE);
out:
    ag_store_close(ui->store);
    free(ui);
    return rc < 0 ? AG_EXIT_OK : rc;
}
