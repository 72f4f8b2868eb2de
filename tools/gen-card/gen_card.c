/* Synthetic EMV contactless cards: options -> card model (lists of data objects) ->
 * transcript text. See gen_card.h for the contract and README.md for what the cards
 * look like. Pure C over caller-owned buffers: no files, no clock, no globals. */
#include "gen_card.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ==== Schemes ==== */

struct iin_range {
    int low, high; /* first four digits of the PAN, inclusive */
};

struct scheme_info {
    const char *name;
    uint8_t aid[8];
    size_t aid_len;
    const char *label; /* application label 50 */
    struct iin_range iins[10];
    int min_len, max_len; /* PAN lengths the seed chooses from */
};

/* IINs: Mir 2200-2204; Visa 4; Mastercard 51-55 and 2221-2720; Maestro's common
 * ranges (5018, 5020, 5038, 5893, 6304, 6759, 6761-6763); UnionPay 62. */
static const struct scheme_info schemes[GC_SCHEME_COUNT] = {
    [GC_SCHEME_MIR] =
        {"mir", {0xA0, 0x00, 0x00, 0x06, 0x58, 0x10, 0x10}, 7, "MIR", {{2200, 2204}}, 16, 19},
    [GC_SCHEME_VISA] = {"visa",
                        {0xA0, 0x00, 0x00, 0x00, 0x03, 0x10, 0x10},
                        7,
                        "VISA DEBIT",
                        {{4000, 4999}},
                        16,
                        16},
    [GC_SCHEME_MASTERCARD] = {"mastercard",
                              {0xA0, 0x00, 0x00, 0x00, 0x04, 0x10, 0x10},
                              7,
                              "Mastercard",
                              {{5100, 5599}, {2221, 2720}},
                              16,
                              16},
    [GC_SCHEME_MAESTRO] = {"maestro",
                           {0xA0, 0x00, 0x00, 0x00, 0x04, 0x30, 0x60},
                           7,
                           "Maestro",
                           {{5018, 5018},
                            {5020, 5020},
                            {5038, 5038},
                            {5893, 5893},
                            {6304, 6304},
                            {6759, 6759},
                            {6761, 6763}},
                           16,
                           19},
    [GC_SCHEME_UNIONPAY] = {"unionpay",
                            {0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x01},
                            8,
                            "UnionPay Debit",
                            {{6200, 6299}},
                            16,
                            19},
};

int gc_scheme_parse(const char *name, enum gc_scheme *scheme)
{
    for (size_t i = 0; name && i < COUNT_OF(schemes); i++) {
        if (strcmp(name, schemes[i].name) == 0) {
            *scheme = (enum gc_scheme)i;
            return 0;
        }
    }
    return CF_EINVAL;
}

const char *gc_scheme_name(enum gc_scheme scheme)
{
    return (unsigned)scheme < COUNT_OF(schemes) ? schemes[scheme].name : "unknown";
}

/* ==== Layout ==== */

void gc_layout_default(struct gc_layout *layout)
{
    layout->pan_place = GC_PAN_RECORD;
    layout->gpo_format = 2;
    layout->pdol = true;
    layout->records = 2;
    layout->long_lengths = false;
}

/* One "key=value" item of a layout (len bytes at item). */
static int layout_item(const char *item, size_t len, struct gc_layout *layout,
                       struct cf_error_detail *detail)
{
    char text[64];
    if (len >= sizeof text)
        return cf_error_set(detail, CF_EINVAL, "layout", "--layout item '%.*s...' is too long", 20,
                            item);
    memcpy(text, item, len);
    text[len] = '\0';
    char *value = strchr(text, '=');
    if (value)
        *value++ = '\0';
    if (value && strcmp(text, "pan") == 0 && strcmp(value, "record") == 0)
        layout->pan_place = GC_PAN_RECORD;
    else if (value && strcmp(text, "pan") == 0 && strcmp(value, "track2") == 0)
        layout->pan_place = GC_PAN_TRACK2;
    else if (value && strcmp(text, "gpo") == 0 &&
             (strcmp(value, "1") == 0 || strcmp(value, "2") == 0))
        layout->gpo_format = value[0] - '0';
    else if (value && strcmp(text, "pdol") == 0 &&
             (strcmp(value, "yes") == 0 || strcmp(value, "no") == 0))
        layout->pdol = value[0] == 'y';
    else if (value && strcmp(text, "lengths") == 0 &&
             (strcmp(value, "short") == 0 || strcmp(value, "long") == 0))
        layout->long_lengths = value[0] == 'l';
    else if (value && strcmp(text, "records") == 0 && value[0] >= '1' &&
             value[0] <= '0' + GC_LAYOUT_RECORDS_MAX && value[1] == '\0')
        layout->records = value[0] - '0';
    else
        return cf_error_set(detail, CF_EINVAL, "layout",
                            "--layout item '%s%s%s' is not one of pan=record|track2, gpo=1|2, "
                            "pdol=yes|no, records=1..%d, lengths=short|long",
                            text, value ? "=" : "", value ? value : "", GC_LAYOUT_RECORDS_MAX);
    return 0;
}

int gc_layout_parse(const char *text, struct gc_layout *layout, struct cf_error_detail *detail)
{
    if (!text || !layout)
        return cf_error_set(detail, CF_EINVAL, "layout", "no layout given");
    gc_layout_default(layout);
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, ",");
        if (len == 0)
            return cf_error_set(detail, CF_EINVAL, "layout", "--layout has an empty item");
        int rc = layout_item(p, len, layout, detail);
        if (rc)
            return rc;
        p += len;
        if (*p == ',' && *++p == '\0')
            return cf_error_set(detail, CF_EINVAL, "layout", "--layout ends with a comma");
    }
    if (layout->pan_place == GC_PAN_TRACK2 && layout->gpo_format == 1)
        return cf_error_set(detail, CF_EINVAL, "layout",
                            "--layout pan=track2 needs gpo=2: a format 1 answer (tag 80) holds "
                            "only the AIP and the AFL");
    return 0;
}

void gc_layout_format(const struct gc_layout *layout, char *out, size_t size)
{
    snprintf(out, size, "pan=%s,gpo=%d,pdol=%s,records=%d,lengths=%s",
             layout->pan_place == GC_PAN_TRACK2 ? "track2" : "record", layout->gpo_format,
             layout->pdol ? "yes" : "no", layout->records, layout->long_lengths ? "long" : "short");
}

/* ==== Randomness ==== */

/* splitmix64: small, fast, and the same on every platform. Not for secrets: these
 * cards are test data. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static unsigned random_below(uint64_t *state, unsigned bound)
{
    return (unsigned)(next_random(state) % bound);
}

static void random_bytes(uint64_t *state, uint8_t *out, size_t len)
{
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)next_random(state);
}

/* ==== PAN ==== */

bool gc_luhn_valid(const char *digits)
{
    size_t len = strlen(digits);
    unsigned sum = 0;
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = digits[len - 1 - i];
        if (c < '0' || c > '9')
            return false;
        unsigned d = (unsigned)(c - '0');
        if (i % 2 == 1) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return sum % 10 == 0;
}

/* The check digit that makes digits (without it) Luhn-valid. */
static char luhn_check_digit(const char *digits)
{
    size_t len = strlen(digits);
    unsigned sum = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(digits[len - 1 - i] - '0');
        if (i % 2 == 0) { /* doubled: the check digit will be position 0 */
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return (char)('0' + (10 - sum % 10) % 10);
}

static bool iin_of_scheme(const struct scheme_info *info, const char *pan)
{
    int four = 0;
    for (int i = 0; i < 4; i++)
        four = four * 10 + (pan[i] - '0');
    for (size_t i = 0; i < COUNT_OF(info->iins) && info->iins[i].low; i++)
        if (four >= info->iins[i].low && four <= info->iins[i].high)
            return true;
    return false;
}

static int check_pan(const struct scheme_info *info, const char *pan,
                     struct cf_error_detail *detail)
{
    size_t len = strlen(pan);
    if (len < 16 || len > GC_PAN_MAX || strspn(pan, "0123456789") != len)
        return cf_error_set(detail, CF_EINVAL, "pan", "--pan must be 16..19 digits");
    if (!gc_luhn_valid(pan))
        return cf_error_set(detail, CF_EINVAL, "pan", "--pan fails the Luhn check");
    if (!iin_of_scheme(info, pan))
        return cf_error_set(detail, CF_EINVAL, "pan",
                            "--pan does not start with an IIN of %s (its first four digits %.4s)",
                            info->name, pan);
    return 0;
}

static void make_pan(const struct scheme_info *info, uint64_t *rng, char pan[GC_PAN_MAX + 1])
{
    size_t ranges = 0;
    while (ranges < COUNT_OF(info->iins) && info->iins[ranges].low)
        ranges++;
    const struct iin_range *r = &info->iins[random_below(rng, (unsigned)ranges)];
    int four = r->low + (int)random_below(rng, (unsigned)(r->high - r->low + 1));
    size_t len =
        (size_t)info->min_len + random_below(rng, (unsigned)(info->max_len - info->min_len + 1));
    snprintf(pan, GC_PAN_MAX + 1, "%04d", four);
    for (size_t i = 4; i + 1 < len; i++)
        pan[i] = (char)('0' + random_below(rng, 10));
    pan[len - 1] = '\0';
    pan[len - 1] = luhn_check_digit(pan);
    pan[len] = '\0';
}

/* ==== Building the model ==== */

static uint8_t bcd(int two_digits)
{
    return (uint8_t)((two_digits / 10) << 4 | two_digits % 10);
}

static int add_object(struct gc_object_list *list, uint32_t tag, const uint8_t *value, size_t len)
{
    if (list->count >= GC_OBJECTS_MAX || len > GC_VALUE_MAX)
        return CF_ETOOBIG;
    struct gc_object *o = &list->items[list->count++];
    o->tag = tag;
    o->len = len;
    if (len)
        memcpy(o->value, value, len);
    return 0;
}

static int add_text(struct gc_object_list *list, uint32_t tag, const char *text)
{
    return add_object(list, tag, (const uint8_t *)text, strlen(text));
}

static void remove_tag(struct gc_object_list *list, uint32_t tag)
{
    size_t kept = 0;
    for (size_t i = 0; i < list->count; i++)
        if (list->items[i].tag != tag)
            list->items[kept++] = list->items[i];
    list->count = kept;
}

/* PAN as compressed numeric (5A): BCD, padded with F. */
static size_t pan_bcd(const char *pan, uint8_t *out)
{
    size_t len = strlen(pan), n = 0;
    for (size_t i = 0; i < len; i += 2) {
        int hi = pan[i] - '0';
        int lo = i + 1 < len ? pan[i + 1] - '0' : 0xF;
        out[n++] = (uint8_t)(hi << 4 | lo);
    }
    return n;
}

/* Track 2 equivalent data (57): PAN, separator D, YYMM, service code 201
 * (international, chip), discretionary data, padded with F to whole bytes. */
static size_t track2(const struct gc_card *card, uint64_t *rng, uint8_t *out)
{
    char nibbles[48];
    int n = snprintf(nibbles, sizeof nibbles, "%sD%02d%02d201", card->pan, card->expiry_year % 100,
                     card->expiry_month);
    for (int i = 0; i < 5; i++)
        nibbles[n++] = (char)('0' + random_below(rng, 10));
    nibbles[n++] = 'F'; /* pad, dropped below when the count is already even */
    size_t len = (size_t)(n - 1) + (size_t)((n - 1) % 2);
    size_t bytes = 0;
    for (size_t i = 0; i < len; i += 2) {
        int hi = nibbles[i] == 'D' ? 0xD : nibbles[i] == 'F' ? 0xF : nibbles[i] - '0';
        int lo = nibbles[i + 1] == 'D' ? 0xD : nibbles[i + 1] == 'F' ? 0xF : nibbles[i + 1] - '0';
        out[bytes++] = (uint8_t)(hi << 4 | lo);
    }
    return bytes;
}

/* The PDOL terminals meet on contactless cards: TTQ, amounts, country, TVR,
 * currency, date, type, unpredictable number. */
static const uint8_t pdol_bytes[] = {0x9F, 0x66, 0x04, 0x9F, 0x02, 0x06, 0x9F, 0x03,
                                     0x06, 0x9F, 0x1A, 0x02, 0x95, 0x05, 0x5F, 0x2A,
                                     0x02, 0x9A, 0x03, 0x9C, 0x01, 0x9F, 0x37, 0x04};

static int build_directory_and_fci(struct gc_card *card, const struct scheme_info *info)
{
    static const uint8_t priority[] = {0x01};
    int rc = add_object(&card->ppse_entry, 0x4F, card->aid, card->aid_len);
    if (!rc)
        rc = add_text(&card->ppse_entry, 0x50, info->label);
    if (!rc)
        rc = add_object(&card->ppse_entry, 0x87, priority, 1);
    if (!rc)
        rc = add_text(&card->fci, 0x50, info->label);
    if (!rc)
        rc = add_object(&card->fci, 0x87, priority, 1);
    if (!rc && card->layout.pdol)
        rc = add_object(&card->fci, 0x9F38, pdol_bytes, sizeof pdol_bytes);
    if (!rc)
        rc = add_text(&card->fci, 0x5F2D, "ruen");
    return rc;
}

/* The GPO answer's own objects (format 2): application transaction counter,
 * cryptogram information, application cryptogram, issuer application data, and
 * the track 2 equivalent when the layout keeps the PAN there. */
static int build_gpo(struct gc_card *card, uint64_t *rng)
{
    uint8_t value[64];
    int rc = 0;
    if (card->layout.pan_place == GC_PAN_TRACK2)
        rc = add_object(&card->gpo, 0x57, value, track2(card, rng, value));
    random_bytes(rng, value, 2);
    if (!rc)
        rc = add_object(&card->gpo, 0x9F36, value, 2);
    value[0] = 0x80; /* ARQC */
    if (!rc)
        rc = add_object(&card->gpo, 0x9F27, value, 1);
    random_bytes(rng, value, 8);
    if (!rc)
        rc = add_object(&card->gpo, 0x9F26, value, 8);
    random_bytes(rng, value, 18);
    value[0] = 0x06;
    if (!rc)
        rc = add_object(&card->gpo, 0x9F10, value, 18);
    return rc;
}

/* The objects a card keeps in its records, in groups that stay together (a group
 * is one or more objects; the PAN group is 5A, 5F24, 5F25, 5F34). */
struct record_group {
    struct gc_object_list objects;
};

static int build_groups(struct gc_card *card, uint64_t *rng, struct record_group *groups,
                        size_t *count, size_t *pan_group)
{
    uint8_t v[GC_VALUE_MAX];
    size_t n = 0;
    int rc = 0;
    *pan_group = SIZE_MAX;
    if (card->layout.pan_place == GC_PAN_RECORD) {
        struct gc_object_list *g = &groups[n].objects;
        *pan_group = n++;
        rc = add_object(g, 0x5A, v, pan_bcd(card->pan, v));
        uint8_t expiry[3] = {bcd(card->expiry_year % 100), bcd(card->expiry_month), 0x31};
        static const uint8_t days[13] = {0,    0x31, 0x28, 0x31, 0x30, 0x31, 0x30,
                                         0x31, 0x31, 0x30, 0x31, 0x30, 0x31};
        expiry[2] = days[card->expiry_month];
        if (!rc)
            rc = add_object(g, 0x5F24, expiry, 3);
        uint8_t effective[3] = {bcd((card->expiry_year - 5) % 100), bcd(card->expiry_month), 0x01};
        if (!rc)
            rc = add_object(g, 0x5F25, effective, 3);
        v[0] = 0x01;
        if (!rc)
            rc = add_object(g, 0x5F34, v, 1);
    }
    static const uint8_t country[] = {0x06, 0x43}, usage_control[] = {0xFF, 0x00},
                         version[] = {0x00, 0x02},
                         cdol1[] = {0x9F, 0x02, 0x06, 0x9F, 0x03, 0x06, 0x9F,
                                    0x1A, 0x02, 0x95, 0x05, 0x5F, 0x2A, 0x02,
                                    0x9A, 0x03, 0x9C, 0x01, 0x9F, 0x37, 0x04},
                         cdol2[] = {0x8A, 0x02, 0x91, 0x0A, 0x95, 0x05, 0x9F, 0x37, 0x04},
                         cvm[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                  0x00, 0x42, 0x03, 0x1E, 0x03, 0x1F, 0x03};
    if (!rc)
        rc = add_object(&groups[n++].objects, 0x5F28, country, sizeof country);
    if (!rc)
        rc = add_object(&groups[n++].objects, 0x9F07, usage_control, sizeof usage_control);
    if (!rc)
        rc = add_object(&groups[n++].objects, 0x9F08, version, sizeof version);
    if (!rc)
        rc = add_object(&groups[n++].objects, 0x8C, cdol1, sizeof cdol1);
    if (!rc)
        rc = add_object(&groups[n++].objects, 0x8D, cdol2, sizeof cdol2);
    if (!rc)
        rc = add_object(&groups[n++].objects, 0x8E, cvm, sizeof cvm);
    for (uint32_t tag = 0x9F0D; !rc && tag <= 0x9F0F; tag++) { /* issuer action codes */
        random_bytes(rng, v, 5);
        rc = add_object(&groups[n++].objects, tag, v, 5);
    }
    if (!rc)
        rc = add_text(&groups[n++].objects, 0x5F20, "CARDHOLDER/SYNTHETIC");
    *count = n;
    return rc;
}

/* Spread the groups over the layout's records: SFI 1 holds the first half (rounded
 * up), SFI 2 the rest when there are three or more, each file numbered from 1. The
 * PAN group goes to a record the seed picks. */
static int build_records(struct gc_card *card, uint64_t *rng)
{
    struct record_group *groups = calloc(GC_LAYOUT_RECORDS_MAX + 6, sizeof *groups);
    if (!groups)
        return CF_ENOMEM;
    size_t count = 0, pan_group = 0;
    int rc = build_groups(card, rng, groups, &count, &pan_group);
    size_t records = (size_t)card->layout.records;
    size_t first_file = records >= 3 ? (records + 1) / 2 : records;
    for (size_t r = 0; r < records; r++) {
        struct gc_record *rec = &card->records[r];
        rec->sfi = r < first_file ? 1 : 2;
        rec->number = (uint8_t)(r < first_file ? r + 1 : r - first_file + 1);
    }
    card->record_count = records;
    size_t pan_record = random_below(rng, (unsigned)records);
    for (size_t g = 0, next = 0; !rc && g < count; g++) {
        size_t r = g == pan_group ? pan_record : next++ % records;
        for (size_t i = 0; !rc && i < groups[g].objects.count; i++) {
            const struct gc_object *o = &groups[g].objects.items[i];
            rc = add_object(&card->records[r].objects, o->tag, o->value, o->len);
        }
    }
    free(groups);
    return rc;
}

int gc_card_finish(struct gc_card *card)
{
    uint8_t afl[4 * GC_RECORDS_MAX];
    size_t afl_len = 0;
    for (size_t r = 0; r < card->record_count; r++) {
        const struct gc_record *rec = &card->records[r];
        uint8_t *last = afl_len ? &afl[afl_len - 4] : NULL;
        if (last && last[0] == (uint8_t)(rec->sfi << 3) && last[2] + 1 == rec->number) {
            last[2] = rec->number;
            last[3] = (uint8_t)(last[3] + rec->signed_by_oda);
            continue;
        }
        afl[afl_len++] = (uint8_t)(rec->sfi << 3);
        afl[afl_len++] = rec->number;
        afl[afl_len++] = rec->number;
        afl[afl_len++] = rec->signed_by_oda;
    }
    remove_tag(&card->gpo, 0x82);
    remove_tag(&card->gpo, 0x94);
    /* AIP and AFL lead the template, as cards send them. */
    if (card->gpo.count + 2 > GC_OBJECTS_MAX)
        return CF_ETOOBIG;
    memmove(&card->gpo.items[2], &card->gpo.items[0], card->gpo.count * sizeof card->gpo.items[0]);
    card->gpo.count += 2;
    card->gpo.items[0] = (struct gc_object){.tag = 0x82, .len = 2};
    memcpy(card->gpo.items[0].value, card->aip, 2);
    card->gpo.items[1] = (struct gc_object){.tag = 0x94, .len = afl_len};
    memcpy(card->gpo.items[1].value, afl, afl_len);
    return 0;
}

int gc_card_build(const struct gc_options *options, struct gc_card *card,
                  struct cf_error_detail *detail)
{
    if (!options || !card || (unsigned)options->scheme >= GC_SCHEME_COUNT)
        return cf_error_set(detail, CF_EINVAL, "scheme", "no such scheme");
    const struct scheme_info *info = &schemes[options->scheme];
    const struct gc_layout *layout = &options->layout;
    if (layout->records < 1 || layout->records > GC_LAYOUT_RECORDS_MAX ||
        (layout->gpo_format != 1 && layout->gpo_format != 2) ||
        (layout->pan_place == GC_PAN_TRACK2 && layout->gpo_format != 2))
        return cf_error_set(detail, CF_EINVAL, "layout", "inconsistent layout");
    if ((options->expiry_year || options->expiry_month) &&
        (options->expiry_year < 2000 || options->expiry_year > 2099 || options->expiry_month < 1 ||
         options->expiry_month > 12))
        return cf_error_set(detail, CF_EINVAL, "expiry",
                            "--expiry must be YYYY-MM between 2000-01 and 2099-12");
    if (options->pan) {
        int rc = check_pan(info, options->pan, detail);
        if (rc)
            return rc;
    }
    memset(card, 0, sizeof *card);
    card->scheme = options->scheme;
    card->layout = *layout;
    card->seed = options->seed;
    /* Each part draws from its own stream, so giving --pan or --expiry changes
     * nothing else on the card. */
    uint64_t pan_rng = options->seed ^ 0x50414E0000000000ull;
    uint64_t expiry_rng = options->seed ^ 0x4558500000000000ull;
    uint64_t rng = options->seed;
    if (options->pan)
        snprintf(card->pan, sizeof card->pan, "%s", options->pan);
    else
        make_pan(info, &pan_rng, card->pan);
    if (options->expiry_year) {
        card->expiry_year = options->expiry_year;
        card->expiry_month = options->expiry_month;
    } else {
        card->expiry_year = 2027 + (int)random_below(&expiry_rng, 6);
        card->expiry_month = 1 + (int)random_below(&expiry_rng, 12);
    }
    memcpy(card->aid, info->aid, info->aid_len);
    card->aid_len = info->aid_len;
    card->aip[0] = 0x00; /* no offline data authentication (SDA 40, DDA 20, CDA 01) */
    card->aip[1] = 0x80; /* EMV mode */
    int rc = build_directory_and_fci(card, info);
    if (!rc && layout->gpo_format == 2)
        rc = build_gpo(card, &rng);
    if (!rc)
        rc = build_records(card, &rng);
    if (!rc)
        rc = gc_card_finish(card);
    if (rc == CF_ENOMEM)
        return cf_error_set(detail, rc, "card", "out of memory");
    if (rc)
        return cf_error_set(detail, rc, "card", "the card does not fit the model's limits");
    return 0;
}

/* ==== Rendering ==== */

/* Room for one response APDU: 256 data bytes and SW1 SW2. */
struct bytes {
    uint8_t data[258];
    size_t len;
    bool overflow;
};

static void put(struct bytes *b, const uint8_t *data, size_t len)
{
    if (len > sizeof b->data - b->len) {
        b->overflow = true;
        return;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

static void put_header(struct bytes *b, uint32_t tag, size_t len, bool long_form)
{
    uint8_t h[8];
    size_t n = 0;
    for (int shift = 24; shift >= 0; shift -= 8)
        if ((tag >> shift) & 0xFF || n)
            h[n++] = (uint8_t)(tag >> shift);
    if (len > 0xFF) {
        h[n++] = 0x82;
        h[n++] = (uint8_t)(len >> 8);
    } else if (len > 0x7F || long_form) {
        h[n++] = 0x81;
    }
    h[n++] = (uint8_t)len;
    put(b, h, n);
}

static void put_objects(struct bytes *b, const struct gc_object_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        put_header(b, list->items[i].tag, list->items[i].len, false);
        put(b, list->items[i].value, list->items[i].len);
    }
}

/* Wrap the content in a template of the given tag. */
static void put_template(struct bytes *b, uint32_t tag, const struct bytes *content, bool long_form)
{
    if (content->overflow)
        b->overflow = true;
    put_header(b, tag, content->len, long_form);
    put(b, content->data, content->len);
}

int gc_record_content(const struct gc_card *card, size_t r, uint8_t *out, size_t size, size_t *len)
{
    if (!card || !out || !len || r >= card->record_count)
        return CF_EINVAL;
    struct bytes *b = calloc(1, sizeof *b);
    if (!b)
        return CF_ENOMEM;
    put_objects(b, &card->records[r].objects);
    int rc = b->overflow || b->len > size ? CF_ENOSPACE : 0;
    if (!rc) {
        memcpy(out, b->data, b->len);
        *len = b->len;
    }
    free(b);
    return rc;
}

struct text {
    char *out;
    size_t size, len;
    bool overflow;
};

static void text_add(struct text *t, const char *fmt, const char *s)
{
    int n = snprintf(t->out + t->len, t->size - t->len, fmt, s);
    if (n < 0 || (size_t)n >= t->size - t->len) {
        t->overflow = true;
        return;
    }
    t->len += (size_t)n;
}

static void text_hex_line(struct text *t, const char *prefix, const uint8_t *data, size_t len)
{
    static const char digits[] = "0123456789ABCDEF";
    text_add(t, "%s", prefix);
    for (size_t i = 0; i < len && !t->overflow; i++) {
        char byte[4] = {' ', digits[data[i] >> 4], digits[data[i] & 15], '\0'};
        text_add(t, "%s", byte);
    }
    text_add(t, "%s", "\n");
}

static void text_step(struct text *t, const char *comment, const uint8_t *command,
                      size_t command_len, struct bytes *answer)
{
    static const uint8_t ok[] = {0x90, 0x00};
    if (answer->len > 256) /* the data an APDU response carries */
        answer->overflow = true;
    put(answer, ok, 2);
    text_add(t, "# %s\n", comment);
    if (command)
        text_hex_line(t, "send:", command, command_len);
    else
        text_add(t, "%s", "send:\n");
    text_hex_line(t, "resp:", answer->data, answer->len);
}

static size_t select_command(uint8_t *c, const uint8_t *name, size_t len)
{
    c[0] = 0x00;
    c[1] = 0xA4;
    c[2] = 0x04;
    c[3] = 0x00;
    c[4] = (uint8_t)len;
    memcpy(c + 5, name, len);
    c[5 + len] = 0x00;
    return 6 + len;
}

static void render_header(struct text *t, const struct gc_card *card, const char *command_line)
{
    char line[256], layout[96];
    gc_layout_format(&card->layout, layout, sizeof layout);
    text_add(t, "%s",
             "# Synthetic EMV contactless card made by carefact-gen-card (tools/gen-card).\n"
             "# Not a real card: the PAN is random but Luhn-valid in the scheme's IIN range.\n");
    if (command_line)
        text_add(t, "# %s\n", command_line);
    snprintf(line, sizeof line, "scheme=%s pan=%s expiry=%04d-%02d layout=%s seed=%llu",
             gc_scheme_name(card->scheme), card->pan, card->expiry_year, card->expiry_month, layout,
             (unsigned long long)card->seed);
    text_add(t, "# card: %s\n", line);
    if (card->live[0])
        text_add(t, "# live: %s\n", card->live);
}

/* One piece on purpose: it reads as the session itself, step by step in the order a
 * reader asks (PPSE, application, GPO, records), each answer built from the model's
 * object lists into the same four scratch buffers. */
int gc_card_render(const struct gc_card *card, const char *command_line, char *out, size_t size,
                   size_t *len)
{
    if (!card || !out || size == 0 || !len)
        return CF_EINVAL;
    static const uint8_t ppse[] = "2PAY.SYS.DDF01";
    bool long_form = card->layout.long_lengths;
    struct text t = {out, size, 0, false};
    struct bytes *b = calloc(4, sizeof *b); /* answer, and three levels of nesting */
    if (!b)
        return CF_ENOMEM;
    struct bytes *answer = &b[0], *inner = &b[1], *middle = &b[2], *outer = &b[3];
    uint8_t command[32];
    bool too_big = false;
    render_header(&t, card, command_line);

    /* SELECT PPSE: 6F { 84 name, A5 { BF0C { 61 { entry } } } } */
    put_objects(inner, &card->ppse_entry);
    put_template(middle, 0x61, inner, long_form);
    inner->len = 0;
    put_template(inner, 0xBF0C, middle, long_form);
    put_header(outer, 0x84, sizeof ppse - 1, false);
    put(outer, ppse, sizeof ppse - 1);
    put_template(outer, 0xA5, inner, long_form);
    put_template(answer, 0x6F, outer, long_form);
    text_step(&t, "SELECT PPSE 2PAY.SYS.DDF01", command,
              select_command(command, ppse, sizeof ppse - 1), answer);
    too_big |= answer->overflow;

    /* SELECT the application: 6F { 84 AID, A5 { FCI objects } } */
    memset(b, 0, 4 * sizeof *b);
    put_objects(inner, &card->fci);
    put_header(outer, 0x84, card->aid_len, false);
    put(outer, card->aid, card->aid_len);
    put_template(outer, 0xA5, inner, long_form);
    put_template(answer, 0x6F, outer, long_form);
    text_step(&t, "SELECT the application", command,
              select_command(command, card->aid, card->aid_len), answer);
    too_big |= answer->overflow;

    /* GET PROCESSING OPTIONS */
    memset(b, 0, 4 * sizeof *b);
    if (card->layout.gpo_format == 1) {
        struct bytes *content = inner;
        for (size_t i = 0; i < card->gpo.count; i++)
            if (card->gpo.items[i].tag == 0x82 || card->gpo.items[i].tag == 0x94)
                put(content, card->gpo.items[i].value, card->gpo.items[i].len);
        put_template(answer, 0x80, content, long_form);
    } else {
        put_objects(inner, &card->gpo);
        put_template(answer, 0x77, inner, long_form);
    }
    static const uint8_t gpo_empty_pdol[] = {0x80, 0xA8, 0x00, 0x00, 0x02, 0x83, 0x00, 0x00};
    text_step(&t,
              card->layout.pdol ? "GET PROCESSING OPTIONS (any: the PDOL values vary per terminal)"
                                : "GET PROCESSING OPTIONS (no PDOL)",
              card->layout.pdol ? NULL : gpo_empty_pdol, sizeof gpo_empty_pdol, answer);
    too_big |= answer->overflow;

    /* READ RECORD, one step per record */
    for (size_t r = 0; r < card->record_count; r++) {
        const struct gc_record *rec = &card->records[r];
        char comment[48];
        snprintf(comment, sizeof comment, "READ RECORD %u of SFI %u", rec->number, rec->sfi);
        memset(b, 0, 4 * sizeof *b);
        put_objects(inner, &rec->objects);
        put_template(answer, 0x70, inner, long_form);
        uint8_t read_record[5] = {0x00, 0xB2, rec->number, (uint8_t)(rec->sfi << 3 | 0x04), 0x00};
        text_step(&t, comment, read_record, sizeof read_record, answer);
        too_big |= answer->overflow;
    }
    free(b);
    *len = t.len;
    if (too_big)
        return CF_ETOOBIG;
    return t.overflow ? CF_ENOSPACE : 0;
}
