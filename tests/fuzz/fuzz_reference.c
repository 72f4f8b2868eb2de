/* Fuzz target: a reference record as the server (or a damaged store) could hand it to
 * the terminal. The first byte picks the reader (recipient, service, plan, the
 * server-side check of a record under a kind and id, or survey); the rest is the JSON
 * text.
 * Whatever is accepted must hold only bounded, terminated strings; every refusal must
 * be a negative code with a message naming the problem. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ag/reference.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_refusal(int rc, const struct cf_error_detail *detail)
{
    if (rc > 0 || (rc < 0 && rc != CF_ENOMEM && !detail->message[0]))
        abort();
}

static void check_text(const char *text, size_t size)
{
    if (memchr(text, '\0', size) == NULL)
        abort();
}

static void check_recipient(const struct ag_recipient *r)
{
    check_text(r->full_name, sizeof r->full_name);
    check_text(r->address, sizeof r->address);
    if (r->card_count > AG_MAX_CARDS || r->certificate_count > AG_MAX_CERTIFICATES)
        abort();
    for (size_t i = 0; i < r->card_count; i++)
        check_text(r->cards[i].token, sizeof r->cards[i].token);
    for (size_t i = 0; i < r->certificate_count; i++)
        if (r->certificates[i].service_count > CF_MAX_SERVICES)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    struct cf_error_detail detail = {0};
    int rc = 0;
    switch (data[0] % 5) {
    case 0: {
        static struct ag_recipient r;
        memset(&r, 0, sizeof r);
        rc = ag_recipient_parse(text, &r, &detail);
        if (rc == 0)
            check_recipient(&r);
        break;
    }
    case 1: {
        struct ag_service s;
        memset(&s, 0, sizeof s);
        rc = ag_service_parse(text, &s, &detail);
        if (rc == 0 && (check_text(s.name, sizeof s.name), s.norm_minutes < 0))
            abort();
        break;
    }
    case 2: {
        static struct ag_plan p;
        memset(&p, 0, sizeof p);
        rc = ag_plan_parse(text, &p, &detail);
        break;
    }
    case 4: {
        static struct ag_survey sv;
        rc = ag_survey_parse(text, &sv, &detail);
        if (rc == 0) {
            /* what the touch UI asks: named questions of a known kind, in rising order */
            if (!sv.instrument[0] || sv.version < 1 || sv.question_count < 1 ||
                sv.question_count > AG_SURVEY_QUESTIONS_MAX)
                abort();
            check_text(sv.instrument, sizeof sv.instrument);
            check_text(sv.name, sizeof sv.name);
            for (size_t i = 0; i < sv.question_count; i++) {
                check_text(sv.questions[i].code, sizeof sv.questions[i].code);
                check_text(sv.questions[i].text, sizeof sv.questions[i].text);
                if (!sv.questions[i].code[0] || !sv.questions[i].text[0] ||
                    (int)sv.questions[i].kind > AG_QUESTION_YES_NO ||
                    (i > 0 && sv.questions[i].position <= sv.questions[i - 1].position))
                    abort();
            }
        }
        break;
    }
    default: {
        cJSON *body = cJSON_Parse(text);
        if (body) {
            char tokens[AG_MAX_CARDS][CF_TOKEN_TEXT_LEN + 1];
            size_t count = 0;
            static const char *const kinds[] = {"recipient", "service", "plan", "survey", "other"};
            rc = ag_reference_check(kinds[size % 5], "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", body,
                                    tokens, &count, &detail);
            if (count > AG_MAX_CARDS)
                abort();
            for (size_t i = 0; rc == 0 && i < count; i++)
                check_text(tokens[i], sizeof tokens[i]);
            cJSON_Delete(body);
        }
        break;
    }
    }
    check_refusal(rc, &detail);
    free(text);
    return 0;
}
