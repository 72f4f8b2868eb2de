/* Unit tests for the synthetic card generator (tools/gen-card/gen_card.h): the same
 * options give the same bytes; the PAN is Luhn-valid, 16..19 digits, with the
 * scheme's IIN; and every scheme in every layout reads back through firmware-shared's
 * own EMV reader (cf_emv_read over cf_transcript_transceive) with the PAN, expiry,
 * scheme and AID the card model holds. Bad options are refused with a clear message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cf/codec.h"
#include "cf/emv.h"
#include "cf/transcript.h"
#include "gen_card.h"

#define TEXT_MAX (64u * 1024u)

/* ==== Helpers ==== */

static struct gc_card *build(enum gc_scheme scheme, const char *layout, uint64_t seed)
{
    struct gc_options o = {.scheme = scheme, .seed = seed};
    struct cf_error_detail detail = {0};
    if (gc_layout_parse(layout, &o.layout, &detail))
        fail_msg("layout %s refused: %s", layout, detail.message);
    struct gc_card *card = calloc(1, sizeof *card);
    assert_non_null(card);
    if (gc_card_build(&o, card, &detail))
        fail_msg("build refused: %s", detail.message);
    return card;
}

static char *render(const struct gc_card *card, size_t *len)
{
    char *text = malloc(TEXT_MAX);
    assert_non_null(text);
    assert_int_equal(gc_card_render(card, "test", text, TEXT_MAX, len), 0);
    assert_int_equal(strlen(text), *len);
    return text;
}

/* Read the rendered card as the agent does; returns cf_emv_read's code. */
static int read_back(const char *text, size_t len, struct cf_emv_card *read)
{
    struct cf_transcript t;
    struct cf_error_detail detail = {0};
    if (cf_transcript_parse(text, len, &t, &detail))
        fail_msg("the transcript does not parse: %s\n%s", detail.message, text);
    struct cf_emv_terminal terminal;
    cf_emv_terminal_defaults(&terminal, 1767225600000); /* 2026-01-01 */
    int rc = cf_emv_read(cf_transcript_transceive, &t, &terminal, read);
    cf_transcript_cleanup(&t);
    return rc;
}

static const char *const scheme_names[GC_SCHEME_COUNT] = {"mir", "visa", "mastercard", "maestro",
                                                          "unionpay"};
static const char *const aids[GC_SCHEME_COUNT] = {
    "a0000006581010", "a0000000031010", "a0000000041010", "a0000000043060", "a000000333010101"};

/* The scheme's IINs, written out independently of the generator's table. */
static bool iin_matches(enum gc_scheme scheme, const char *pan)
{
    int four = (int)strtol((char[5]){pan[0], pan[1], pan[2], pan[3], '\0'}, NULL, 10);
    switch (scheme) {
    case GC_SCHEME_MIR:
        return four >= 2200 && four <= 2204;
    case GC_SCHEME_VISA:
        return pan[0] == '4';
    case GC_SCHEME_MASTERCARD:
        return (four >= 5100 && four <= 5599) || (four >= 2221 && four <= 2720);
    case GC_SCHEME_MAESTRO:
        return four == 5018 || four == 5020 || four == 5038 || four == 5893 || four == 6304 ||
               four == 6759 || (four >= 6761 && four <= 6763);
    case GC_SCHEME_UNIONPAY:
        return pan[0] == '6' && pan[1] == '2';
    default:
        return false;
    }
}

/* An independent Luhn check (not gc_luhn_valid). */
static bool luhn(const char *pan)
{
    int sum = 0, len = (int)strlen(pan);
    for (int i = 0; i < len; i++) {
        int d = pan[len - 1 - i] - '0';
        sum += i % 2 ? (d * 2 > 9 ? d * 2 - 9 : d * 2) : d;
    }
    return sum % 10 == 0;
}

/* ==== Tests ==== */

static const char *const layouts[] = {
    "",
    "pan=record,gpo=2,pdol=yes,records=1",
    "pan=record,gpo=1,pdol=no,records=5",
    "pan=record,gpo=1,pdol=yes,records=8,lengths=long",
    "pan=track2,gpo=2,pdol=no,records=1",
    "pan=track2,gpo=2,pdol=yes,records=3,lengths=long",
    "pan=record,gpo=2,pdol=no,records=4,lengths=long",
};

/* Every scheme x layout x a few seeds reads back with the model's values. */
static void test_every_layout_reads_back(void **state)
{
    (void)state;
    for (int s = 0; s < GC_SCHEME_COUNT; s++) {
        for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
            for (uint64_t seed = 0; seed < 6; seed++) {
                struct gc_card *card = build((enum gc_scheme)s, layouts[l], seed * 7919 + l);
                size_t len;
                char *text = render(card, &len);
                struct cf_emv_card read;
                int rc = read_back(text, len, &read);
                if (rc)
                    fail_msg("%s %s seed %llu: cf_emv_read gave %s\n%s", scheme_names[s],
                             layouts[l], (unsigned long long)seed, cf_error_name(rc), text);
                assert_string_equal(read.pan, card->pan);
                assert_int_equal(read.expiry_year, card->expiry_year);
                assert_int_equal(read.expiry_month, card->expiry_month);
                assert_string_equal(cf_scheme_name(read.scheme), scheme_names[s]);
                char aid_hex[40];
                cf_hex_encode(read.aid, read.aid_len, aid_hex, sizeof aid_hex);
                assert_string_equal(aid_hex, aids[s]);

                size_t pan_len = strlen(card->pan);
                if (pan_len < 16 || pan_len > 19 || !luhn(card->pan) ||
                    !iin_matches((enum gc_scheme)s, card->pan))
                    fail_msg("%s: PAN %s is not a valid %s number", layouts[l], card->pan,
                             scheme_names[s]);
                assert_true(card->expiry_year >= 2027 && card->expiry_year <= 2032);
                cf_emv_card_wipe(&read);
                free(text);
                free(card);
            }
        }
    }
}

/* Same options, same bytes; another seed, another card. */
static void test_deterministic(void **state)
{
    (void)state;
    struct gc_card *a = build(GC_SCHEME_MAESTRO, "pan=track2,records=3", 42);
    struct gc_card *b = build(GC_SCHEME_MAESTRO, "pan=track2,records=3", 42);
    struct gc_card *c = build(GC_SCHEME_MAESTRO, "pan=track2,records=3", 43);
    size_t la, lb, lc;
    char *ta = render(a, &la), *tb = render(b, &lb), *tc = render(c, &lc);
    assert_int_equal(la, lb);
    assert_memory_equal(ta, tb, la);
    assert_string_not_equal(a->pan, c->pan);
    assert_string_not_equal(ta, tc);
    free(ta);
    free(tb);
    free(tc);
    free(a);
    free(b);
    free(c);
}

/* Pinned outputs: the demo card (tools/demo-visit.sh, backend/src/demo/demo.c) and a
 * seed of each scheme. A change to the generator that moves them breaks the demo's
 * binding of recipient 1 and every transcript made before: it must be deliberate. */
static void test_pinned_cards(void **state)
{
    (void)state;
    static const struct {
        enum gc_scheme scheme;
        uint64_t seed;
        const char *pan;
        int year, month;
    } pinned[] = {
        {GC_SCHEME_MIR, 35, "2202589086670936", 2032, 5},
        {GC_SCHEME_MIR, 7, "22020619832264748", 2027, 10},
        {GC_SCHEME_VISA, 3, "4697035488398294", 2028, 7},
        {GC_SCHEME_UNIONPAY, 9, "6209900455914043433", 2032, 5},
    };
    for (size_t i = 0; i < sizeof pinned / sizeof pinned[0]; i++) {
        struct gc_card *card = build(pinned[i].scheme, "", pinned[i].seed);
        assert_string_equal(card->pan, pinned[i].pan);
        assert_int_equal(card->expiry_year, pinned[i].year);
        assert_int_equal(card->expiry_month, pinned[i].month);
        free(card);
    }
}

/* --pan and --expiry are taken as given; the other values stay those of the seed. */
static void test_given_pan_and_expiry(void **state)
{
    (void)state;
    struct gc_options o = {.scheme = GC_SCHEME_MIR,
                           .seed = 5,
                           .pan = "2200000000000004",
                           .expiry_year = 2031,
                           .expiry_month = 2};
    gc_layout_default(&o.layout);
    struct gc_card *card = calloc(1, sizeof *card), *seeded = build(GC_SCHEME_MIR, "", 5);
    assert_int_equal(gc_card_build(&o, card, NULL), 0);
    size_t len;
    char *text = render(card, &len);
    struct cf_emv_card read;
    assert_int_equal(read_back(text, len, &read), 0);
    assert_string_equal(read.pan, "2200000000000004");
    assert_int_equal(read.expiry_year, 2031);
    assert_int_equal(read.expiry_month, 2);
    /* The GPO answer (cryptogram, counter) does not depend on the PAN. */
    assert_memory_equal(&card->gpo, &seeded->gpo, sizeof card->gpo);
    cf_emv_card_wipe(&read);
    free(text);
    free(card);
    free(seeded);
}

/* The layout is visible in the bytes: format 1 vs 2, long lengths, PDOL, the PAN's place. */
static void test_layout_shapes(void **state)
{
    (void)state;
    size_t len;
    struct gc_card *card = build(GC_SCHEME_VISA, "gpo=1,pdol=no,records=3,lengths=long", 1);
    char *text = render(card, &len);
    assert_non_null(strstr(
        text, "send: 80 A8 00 00 02 83 00 00\nresp: 80 81 0A 00 80 08 01 02 00 10 01 01 00"));
    assert_non_null(strstr(text, "resp: 70 81 "));
    assert_null(strstr(text, "9F 38"));
    assert_null(strstr(text, "send:\n"));
    free(text);
    free(card);

    card = build(GC_SCHEME_MIR, "pan=track2", 1);
    text = render(card, &len);
    assert_non_null(strstr(text, "send:\nresp: 77 "));
    assert_non_null(strstr(text, "9F 38 18 9F 66 04"));
    /* The PAN is only in 57: no 5A, no 5F24. */
    for (size_t r = 0; r < card->record_count; r++)
        for (size_t i = 0; i < card->records[r].objects.count; i++)
            assert_true(card->records[r].objects.items[i].tag != 0x5A &&
                        card->records[r].objects.items[i].tag != 0x5F24);
    assert_int_equal(card->gpo.items[2].tag, 0x57);
    free(text);
    free(card);
}

static void expect_layout_error(const char *layout, const char *part)
{
    struct gc_layout l;
    struct cf_error_detail detail = {0};
    assert_int_equal(gc_layout_parse(layout, &l, &detail), CF_EINVAL);
    if (!strstr(detail.message, part))
        fail_msg("layout '%s': message '%s' does not say '%s'", layout, detail.message, part);
}

static void expect_pan_error(enum gc_scheme scheme, const char *pan, const char *part)
{
    struct gc_options o = {.scheme = scheme, .pan = pan};
    gc_layout_default(&o.layout);
    struct gc_card *card = calloc(1, sizeof *card);
    struct cf_error_detail detail = {0};
    assert_int_equal(gc_card_build(&o, card, &detail), CF_EINVAL);
    if (!strstr(detail.message, part))
        fail_msg("pan '%s': message '%s' does not say '%s'", pan, detail.message, part);
    free(card);
}

static void test_bad_options(void **state)
{
    (void)state;
    expect_layout_error("pan=track2,gpo=1", "pan=track2 needs gpo=2");
    expect_layout_error("records=0", "records=1..8");
    expect_layout_error("records=9", "records=1..8");
    expect_layout_error("gpo=3", "gpo=1|2");
    expect_layout_error("pdol", "pdol=yes|no");
    expect_layout_error("pan=record,,gpo=1", "empty item");
    expect_layout_error("gpo=1,", "ends with a comma");
    expect_pan_error(GC_SCHEME_MIR, "4111111111111111", "IIN of mir");
    expect_pan_error(GC_SCHEME_MIR, "2200000000000001", "Luhn");
    expect_pan_error(GC_SCHEME_VISA, "411111111111", "16..19 digits");
    expect_pan_error(GC_SCHEME_VISA, "41111111111111x1", "16..19 digits");
    enum gc_scheme scheme;
    assert_int_equal(gc_scheme_parse("amex", &scheme), CF_EINVAL);
    assert_int_equal(gc_scheme_parse("unionpay", &scheme), 0);
    assert_int_equal(scheme, GC_SCHEME_UNIONPAY);
    struct gc_options o = {.scheme = GC_SCHEME_VISA, .expiry_year = 2031, .expiry_month = 13};
    gc_layout_default(&o.layout);
    struct gc_card *card = calloc(1, sizeof *card);
    assert_int_equal(gc_card_build(&o, card, NULL), CF_EINVAL);
    free(card);
}

/* The AFL follows the records: an added record (as offline data authentication will
 * add certificate records) is announced by gc_card_finish without other changes. */
static void test_afl_follows_records(void **state)
{
    (void)state;
    struct gc_card *card = build(GC_SCHEME_MASTERCARD, "records=2", 11);
    struct gc_record *extra = &card->records[card->record_count++];
    extra->sfi = 3;
    extra->number = 1;
    extra->signed_by_oda = true;
    extra->objects.count = 1;
    extra->objects.items[0] = (struct gc_object){.tag = 0x9F4A, .len = 1, .value = {0x82}};
    assert_int_equal(gc_card_finish(card), 0);
    assert_int_equal(card->gpo.items[1].tag, 0x94);
    static const uint8_t afl[] = {0x08, 0x01, 0x02, 0x00, 0x18, 0x01, 0x01, 0x01};
    assert_int_equal(card->gpo.items[1].len, sizeof afl);
    assert_memory_equal(card->gpo.items[1].value, afl, sizeof afl);
    size_t len;
    char *text = render(card, &len);
    assert_non_null(strstr(text, "send: 00 B2 01 1C 00\nresp: 70 04 9F 4A 01 82 90 00"));
    struct cf_emv_card read;
    assert_int_equal(read_back(text, len, &read), 0);
    assert_string_equal(read.pan, card->pan);
    cf_emv_card_wipe(&read);
    free(text);
    free(card);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_layout_reads_back),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_pinned_cards),
        cmocka_unit_test(test_given_pan_and_expiry),
        cmocka_unit_test(test_layout_shapes),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_afl_follows_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
