/* Sample events for tests: one valid event of each kind, with fixed ids and
 * times, so tests can change one field and check what happens. Header-only so
 * unit tests and fuzz seed generators can include it without a library. */
#ifndef CF_TEST_SAMPLE_EVENTS_H
#define CF_TEST_SAMPLE_EVENTS_H

#include <stdio.h>
#include <string.h>

#include "cf/event.h"

static inline void sample_fill_id(uint8_t id[CF_UUID_LEN], uint8_t seed)
{
    for (int i = 0; i < CF_UUID_LEN; i++)
        id[i] = (uint8_t)(seed + i);
}

/* A valid event of the given kind: seq 1, prev all zero, device 0x10.., worker
 * 0x20.., recipient 0x30.., visit 0x40.., boot 0x50.., 2026-11-22T09:00:00Z. */
static inline void sample_event(struct cf_event *ev, enum cf_event_kind kind)
{
    memset(ev, 0, sizeof *ev);
    sample_fill_id(ev->device_id, 0x10);
    ev->seq = 1;
    ev->kind = kind;
    sample_fill_id(ev->worker_id, 0x20);
    ev->wall_ms = INT64_C(1795338000000);
    ev->mono_ms = 5000000;
    sample_fill_id(ev->boot_id, 0x50);
    if (kind != CF_EV_CARD_UNRECOGNIZED && kind != CF_EV_VISIT_ATTEMPT &&
        kind != CF_EV_CARD_BOUND && kind != CF_EV_APPOINTMENT_CHECKED_IN &&
        kind < CF_EV_APPLICATION_FILED)
        sample_fill_id(ev->visit_id, 0x40);
    if (kind != CF_EV_CARD_UNRECOGNIZED && kind != CF_EV_VISIT_RATED &&
        kind != CF_EV_VISIT_CANCELLED)
        sample_fill_id(ev->recipient_id, 0x30);
    if (kind == CF_EV_VISIT_STARTED || kind == CF_EV_VISIT_ENDED ||
        kind == CF_EV_CARD_UNRECOGNIZED || kind == CF_EV_CARD_BOUND ||
        kind == CF_EV_APPOINTMENT_CHECKED_IN || kind == CF_EV_AID_HANDED_OVER) {
        ev->card.method = CF_CARD_EMV;
        memcpy(ev->card.token, "AAECAwQFBgcICQoLDA0ODw", CF_TOKEN_TEXT_LEN + 1);
        memcpy(ev->card.scheme, "mir", 4);
        memcpy(ev->card.last4, "5678", 5);
        ev->location.present = true;
        ev->location.lat_e7 = 557558000;
        ev->location.lon_e7 = 376173000;
        ev->location.accuracy_m = 12;
    }
    if (kind == CF_EV_VISIT_ENDED) {
        ev->service_count = 2;
        memcpy(ev->services[0].code, "HH-01", 6);
        ev->services[0].quantity = 1;
        memcpy(ev->services[1].code, "MED.02", 7);
        ev->services[1].quantity = 2;
    }
    if (kind == CF_EV_VISIT_RATED) {
        ev->rating = 5;
        memcpy(ev->comment, "Спасибо, всё сделано", sizeof "Спасибо, всё сделано");
    }
    if (kind == CF_EV_VISIT_CANCELLED) {
        ev->reason = CF_REASON_IN_HOSPITAL;
        ev->cancelled_by = CF_ACTOR_WORKER;
    }
    if (kind == CF_EV_VISIT_ATTEMPT)
        ev->reason = CF_REASON_NOBODY_HOME;
    /* the acts' bodies, as canonical text (api/PROTOCOL.md 4.6) */
    if (kind == CF_EV_APPLICATION_FILED)
        snprintf(ev->body, sizeof ev->body, "%s",
                 "{\"applicant_address\":\"д. Заречье, 3\",\"applicant_birth\":\"1941-03-08\","
                 "\"applicant_name\":\"Петрова Анна\",\"category\":\"elderly\",\"code_sha256\":"
                 "\"0000000000000000000000000000000000000000000000000000000000000000\","
                 "\"complete\":false,\"consent\":true,\"consent_version\":\"2026-01\","
                 "\"purpose\":\"home_care\"}");
    if (kind == CF_EV_HOME_SURVEY_RECORDED)
        snprintf(ev->body, sizeof ev->body, "%s",
                 "{\"application_number\":\"2026-000001\",\"findings\":\"Нужна помощь\\nпо "
                 "дому\",\"living_conditions\":\"Дом\"}");
    if (kind == CF_EV_SURVEY_ANSWERED)
        snprintf(ev->body, sizeof ev->body, "%s",
                 "{\"a_rating\":\"5\",\"instrument\":\"visit_rating\",\"version\":\"1\","
                 "\"visit_id\":\"40414243-4445-4647-4849-4a4b4c4d4e4f\"}");
    if (kind == CF_EV_AID_HANDED_OVER)
        snprintf(ev->body, sizeof ev->body, "%s",
                 "{\"aid_kind\":\"Ходунки\",\"application_number\":\"2026-000001\","
                 "\"direction\":\"handed_over\",\"inventory_number\":\"ТСР-1\"}");
}

/* Fill one proof byte field with n bytes of a pattern starting at first. */
static inline void sample_proof_bytes(struct cf_proof_bytes *f, uint8_t first, size_t n)
{
    f->len = n;
    for (size_t i = 0; i < n; i++)
        f->data[i] = (uint8_t)(first + i);
}

/* A proof of the given kind with every field its kind requires filled with pattern
 * bytes of a plausible length (the shape only: nothing here verifies). */
static inline void sample_proof(struct cf_card_proof *p, enum cf_proof_kind kind)
{
    static const uint8_t aid[] = {0xa0, 0x00, 0x00, 0x06, 0x58, 0x10, 0x10};
    memset(p, 0, sizeof *p);
    p->kind = kind;
    memcpy(p->aid.data, aid, sizeof aid);
    p->aid.len = sizeof aid;
    p->aip.len = 2;
    p->aip.data[0] = kind == CF_PROOF_SDA ? 0x40 : kind == CF_PROOF_CDA ? 0x01 : 0x20;
    if (kind == CF_PROOF_NONE || kind == CF_PROOF_ABSENT)
        return;
    sample_proof_bytes(&p->ca_index, 0x92, 1);
    sample_proof_bytes(&p->issuer_cert, 0x6a, 128);
    sample_proof_bytes(&p->issuer_exp, 0x03, 1);
    sample_proof_bytes(&p->issuer_rem, 0x20, 36);
    p->static_data.len = 40;
    for (size_t i = 0; i < p->static_data.len; i++)
        p->static_data.data[i] = (uint8_t)(0x5a + i);
    if (kind == CF_PROOF_SDA) {
        sample_proof_bytes(&p->ssad, 0x6a, 128);
        return;
    }
    sample_proof_bytes(&p->icc_cert, 0x6a, 112);
    sample_proof_bytes(&p->icc_exp, 0x03, 1);
    sample_proof_bytes(&p->sdad, 0x6a, 112);
    sample_proof_bytes(&p->terminal_data, 0xc0, kind == CF_PROOF_FDDA ? 16 : 4);
    if (kind == CF_PROOF_DDA) {
        static const uint8_t ddol[] = {0x9f, 0x37, 0x04};
        memcpy(p->ddol.data, ddol, sizeof ddol);
        p->ddol.len = sizeof ddol;
    }
    if (kind == CF_PROOF_CDA)
        sample_proof_bytes(&p->tx_data, 0x9f, 48);
}

/* A whole visit of the sample events: started (card), ended `minutes` later with HH-01 x1
 * and MED.02 x2, rated 5 half a minute after that. Not yet chained. */
static inline void sample_visit(struct cf_event ev[3], int64_t minutes)
{
    sample_event(&ev[0], CF_EV_VISIT_STARTED);
    sample_event(&ev[1], CF_EV_VISIT_ENDED);
    sample_event(&ev[2], CF_EV_VISIT_RATED);
    ev[1].mono_ms = ev[0].mono_ms + minutes * 60000;
    ev[1].wall_ms = ev[0].wall_ms + minutes * 60000;
    ev[2].mono_ms = ev[1].mono_ms + 30000;
    ev[2].wall_ms = ev[1].wall_ms + 30000;
}

#endif
