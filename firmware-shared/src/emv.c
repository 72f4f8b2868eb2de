/* EMV contactless card reading over an abstract transceive function (see
 * cf/emv.h): application selection (PPSE, PSE, partial and full AIDs), GET
 * PROCESSING OPTIONS with the PDOL filled, READ RECORD over the AFL, and the PAN
 * and expiry picked from what the card gave.
 *
 * Every byte of every answer is controlled by whoever holds the card to the
 * reader: lengths are checked before use, every loop has a hard cap (commands,
 * GET RESPONSE chaining, resends, records, candidates), and the whole working
 * state — answers, records, PAN candidates — lives in one struct that is wiped
 * with OPENSSL_cleanse before cf_emv_read returns, on success and on error. */
#include "cf/emv.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cf/event.h"
#include "cf/tlv.h"
#include "cf/uuid.h"

/* ==== Limits ==== */

#define EMV_RAW_MAX 300 /* one transceive answer: 256 data + SW1 SW2, and slack */
#define EMV_DATA_MAX 1024 /* one answer assembled over 61 xx chaining */
#define EMV_COMMAND_MAX 261 /* short APDU: header, Lc, 255 data bytes, Le */
#define EMV_MAX_COMMANDS 200 /* transceive calls per cf_emv_read, all included */
#define EMV_MAX_GET_RESPONSE 8 /* 61 xx answers followed per command */
#define EMV_MAX_RESENDS 2 /* 6C xx answers followed per command */
#define EMV_MAX_RECORDS 32 /* READ RECORD commands per application */
#define EMV_MAX_CANDIDATES 16 /* applications taken from one directory */
#define EMV_MAX_NEXT 8 /* "next occurrence" SELECTs per partial AID */
#define EMV_MAX_PSE_RECORDS 8 /* records read from a contact PSE directory */
#define EMV_MAX_TRIED 64 /* AIDs remembered so fallbacks do not repeat them */
#define EMV_PDOL_DATA_MAX 252 /* 83 81 L + data must fit Lc = 255 */
#define EMV_AFL_MAX 252
#define EMV_AID_MIN 5
#define EMV_AID_MAX 16
#define EMV_PAN_MIN 12
#define EMV_PAN_MAX 19

/* Outcome of one application attempt that is not fatal: the application is not
 * on the card. The others are CF_ECARD_LOCKED, CF_ENOT_PAYMENT and CF_ENO_PAN. */
#define EMV_NOT_FOUND 1

/* ==== Application table ==== */

struct known_aid {
    uint8_t aid[8];
    uint8_t len;
    enum cf_scheme scheme;
    uint8_t rank; /* lower is preferred */
};

/* Selection preference: Mir, Visa, Mastercard, Maestro, UnionPay, then the
 * other international schemes, then CB (a French domestic scheme that is always
 * co-badged with Visa or Mastercard on the same card, so the international
 * application is the one to use). */
static const struct known_aid known_aids[] = {
    {{0xA0, 0x00, 0x00, 0x06, 0x58, 0x10, 0x10}, 7, CF_SCHEME_MIR, 0},
    {{0xA0, 0x00, 0x00, 0x06, 0x58, 0x10, 0x11}, 7, CF_SCHEME_MIR, 0},
    {{0xA0, 0x00, 0x00, 0x06, 0x58, 0x20, 0x10}, 7, CF_SCHEME_MIR, 0},
    {{0xA0, 0x00, 0x00, 0x00, 0x03, 0x10, 0x10}, 7, CF_SCHEME_VISA, 1},
    {{0xA0, 0x00, 0x00, 0x00, 0x03, 0x20, 0x10}, 7, CF_SCHEME_VISA, 1}, /* Electron */
    {{0xA0, 0x00, 0x00, 0x00, 0x03, 0x20, 0x20}, 7, CF_SCHEME_VISA, 1}, /* V Pay */
    {{0xA0, 0x00, 0x00, 0x00, 0x04, 0x10, 0x10}, 7, CF_SCHEME_MASTERCARD, 2},
    {{0xA0, 0x00, 0x00, 0x00, 0x04, 0x30, 0x60}, 7, CF_SCHEME_MAESTRO, 3},
    {{0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x01}, 8, CF_SCHEME_UNIONPAY, 4},
    {{0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x02}, 8, CF_SCHEME_UNIONPAY, 4},
    {{0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x03}, 8, CF_SCHEME_UNIONPAY, 4},
    {{0xA0, 0x00, 0x00, 0x00, 0x25, 0x01}, 6, CF_SCHEME_AMEX, 5},
    {{0xA0, 0x00, 0x00, 0x00, 0x65, 0x10, 0x10}, 7, CF_SCHEME_JCB, 5},
    {{0xA0, 0x00, 0x00, 0x02, 0x77, 0x10, 0x10}, 7, CF_SCHEME_INTERAC, 5},
    {{0xA0, 0x00, 0x00, 0x00, 0x42, 0x10, 0x10}, 7, CF_SCHEME_OTHER, 6}, /* CB */
};

struct known_rid {
    uint8_t rid[5];
    enum cf_scheme scheme;
    uint8_t rank;
};

/* Registered application provider identifiers, for partial selection and for
 * applications whose full AID is not in the table above. */
static const struct known_rid known_rids[] = {
    {{0xA0, 0x00, 0x00, 0x06, 0x58}, CF_SCHEME_MIR, 0},
    {{0xA0, 0x00, 0x00, 0x00, 0x03}, CF_SCHEME_VISA, 1},
    {{0xA0, 0x00, 0x00, 0x00, 0x04}, CF_SCHEME_MASTERCARD, 2},
    {{0xA0, 0x00, 0x00, 0x03, 0x33}, CF_SCHEME_UNIONPAY, 4},
    {{0xA0, 0x00, 0x00, 0x00, 0x25}, CF_SCHEME_AMEX, 5},
    {{0xA0, 0x00, 0x00, 0x00, 0x65}, CF_SCHEME_JCB, 5},
    {{0xA0, 0x00, 0x00, 0x02, 0x77}, CF_SCHEME_INTERAC, 5},
    {{0xA0, 0x00, 0x00, 0x00, 0x42}, CF_SCHEME_OTHER, 6},
};

#define EMV_RANK_UNKNOWN 100

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ==== Working state ==== */

struct candidate {
    uint8_t aid[EMV_AID_MAX];
    size_t aid_len;
    unsigned rank; /* 2 * table rank for a known AID, + 1 for a known RID only */
    unsigned priority; /* 87 low nibble 1..15; 16 when absent or 0 */
    unsigned order; /* position in the directory */
    char label[17];
};

struct candidate_list {
    struct candidate items[EMV_MAX_CANDIDATES];
    size_t count;
};

enum { PAN_5A, PAN_57, PAN_9F6B, PAN_56, PAN_SOURCES };
enum { EXP_5F24, EXP_57, EXP_9F6B, EXP_56, EXP_SOURCES };

/* What one application gave, per source, first occurrence kept. SECRET. */
struct found {
    char pan[PAN_SOURCES][EMV_PAN_MAX + 1]; /* "" when the source gave no valid PAN */
    int year[EXP_SOURCES];
    int month[EXP_SOURCES]; /* 0 when the source gave no valid expiry */
};

/* The offline data authentication material of the application being read (only when
 * a proof is asked for): what the card gave, the static data as it is assembled, and
 * what the terminal sent that the card signs over. Reset for each application. */
struct oda_read {
    struct cf_card_proof *proof; /* the caller's; filled by oda_finish */
    char *note; /* the caller's, note_size bytes: why no dynamic proof */
    size_t note_size;
    uint8_t aip[2];
    bool have_aip;
    bool static_bad; /* the static data cannot be assembled (Book 3 10.3) */
    uint8_t pdol_data[EMV_PDOL_DATA_MAX]; /* as sent in the GPO (CDA hashes it) */
    size_t pdol_data_len;
    struct cf_proof_bytes tag_list; /* 9F4A */
    struct cf_proof_bytes card_auth; /* 9F69, fDDA */
    struct cf_proof_bytes cdol1; /* 8C, CDA */
    struct cf_proof_bytes ddol; /* 9F49 */
};

struct emv_session {
    cf_transceive_fn transceive;
    void *ctx;
    const struct cf_emv_terminal *terminal;
    unsigned commands; /* transceive calls so far */
    uint16_t sw; /* status word of the last exchange */
    size_t len; /* bytes in data */
    uint8_t command[EMV_COMMAND_MAX];
    uint8_t raw[EMV_RAW_MAX];
    uint8_t data[EMV_DATA_MAX];
    /* FCI of the application found by the last successful partial SELECT,
     * still the current one on the card (see try_partial_aids). */
    bool fci_valid;
    uint8_t fci_aid[EMV_AID_MAX];
    size_t fci_aid_len;
    size_t fci_len;
    uint8_t fci[EMV_DATA_MAX];
    struct candidate_list list;
    uint8_t tried[EMV_MAX_TRIED][EMV_AID_MAX];
    size_t tried_len[EMV_MAX_TRIED];
    size_t tried_count;
    struct found found;
    struct oda_read *oda; /* NULL: identification only (cf_emv_read) */
};

/* ==== Small helpers ==== */

static bool sw_success(uint16_t sw)
{
    /* 62 85 "selected file in termination state" is answered by live cards
     * (InteractPpse) on a SELECT that otherwise works. */
    return sw == 0x9000 || sw == 0x6285;
}

static bool sw_locked(uint16_t sw)
{
    return sw == 0x6985 || sw == 0x6A81 || sw == 0x6283;
}

static bool starts_with(const uint8_t *data, size_t len, const uint8_t *prefix, size_t prefix_len)
{
    return len >= prefix_len && memcmp(data, prefix, prefix_len) == 0;
}

static void classify_aid(const uint8_t *aid, size_t aid_len, enum cf_scheme *scheme, unsigned *rank)
{
    for (size_t i = 0; i < COUNT_OF(known_aids); i++) {
        if (starts_with(aid, aid_len, known_aids[i].aid, known_aids[i].len)) {
            *scheme = known_aids[i].scheme;
            *rank = 2u * known_aids[i].rank;
            return;
        }
    }
    for (size_t i = 0; i < COUNT_OF(known_rids); i++) {
        if (starts_with(aid, aid_len, known_rids[i].rid, sizeof known_rids[i].rid)) {
            *scheme = known_rids[i].scheme;
            *rank = 2u * known_rids[i].rank + 1;
            return;
        }
    }
    *scheme = CF_SCHEME_OTHER;
    *rank = EMV_RANK_UNKNOWN;
}

/* Scheme from the issuer identification number, for applications whose AID does
 * not name one (CB, unknown AIDs). */
static enum cf_scheme scheme_from_pan(const char *pan)
{
    int two = (pan[0] - '0') * 10 + (pan[1] - '0');
    int four = two * 100 + (pan[2] - '0') * 10 + (pan[3] - '0');
    if (four >= 2200 && four <= 2204)
        return CF_SCHEME_MIR;
    if (four >= 2221 && four <= 2720)
        return CF_SCHEME_MASTERCARD;
    if (two == 34 || two == 37)
        return CF_SCHEME_AMEX;
    if (four >= 3528 && four <= 3589)
        return CF_SCHEME_JCB;
    if (pan[0] == '4')
        return CF_SCHEME_VISA;
    if (two >= 51 && two <= 55)
        return CF_SCHEME_MASTERCARD;
    if (two == 62)
        return CF_SCHEME_UNIONPAY;
    if (two == 50 || (two >= 56 && two <= 58) || two == 63 || two == 67)
        return CF_SCHEME_MAESTRO;
    return CF_SCHEME_OTHER;
}

/* Printable ASCII copy of an application label, others shown as '?'. */
static void copy_label(char out[17], const uint8_t *text, size_t len)
{
    if (len > 16)
        len = 16;
    for (size_t i = 0; i < len; i++)
        out[i] = text[i] >= 0x20 && text[i] <= 0x7E ? (char)text[i] : '?';
    out[len] = '\0';
}

/* cf_tlv_find with malformed card data reported as CF_ECOMM. */
static int find_tag(const uint8_t *data, size_t len, uint32_t tag, struct cf_tlv *out)
{
    int rc = cf_tlv_find(data, len, tag, out);
    return rc < 0 ? CF_ECOMM : rc;
}

/* ==== APDU exchange ==== */

/* Send s->command (cmd_len bytes, always ending with Le) and assemble the answer
 * in s->data / s->len with its status word in s->sw. 61 xx is followed by GET
 * RESPONSE and 6C xx by the same command with Le = xx, both capped. Returns 0
 * (whatever the status word) or a fatal code. */
static int exchange(struct emv_session *s, size_t cmd_len)
{
    uint8_t get_response[5] = {0x00, 0xC0, 0x00, 0x00, 0x00};
    uint8_t *cmd = s->command;
    size_t len = cmd_len;
    unsigned chained = 0;
    unsigned resends = 0;
    s->len = 0;
    s->sw = 0;
    for (;;) {
        if (s->commands >= EMV_MAX_COMMANDS)
            return CF_ECOMM;
        s->commands++;
        size_t n = 0;
        int rc = s->transceive(s->ctx, cmd, len, s->raw, sizeof s->raw, &n);
        if (rc)
            return rc < 0 ? rc : CF_ECOMM;
        if (n < 2 || n > sizeof s->raw)
            return CF_ECOMM;
        uint8_t sw1 = s->raw[n - 2];
        uint8_t sw2 = s->raw[n - 1];
        if (sw1 == 0x6C) {
            if (++resends > EMV_MAX_RESENDS)
                return CF_ECOMM;
            cmd[len - 1] = sw2;
            continue;
        }
        size_t body = n - 2;
        if (body > sizeof s->data - s->len)
            return CF_ECOMM;
        memcpy(s->data + s->len, s->raw, body);
        s->len += body;
        if (sw1 == 0x61) {
            if (++chained > EMV_MAX_GET_RESPONSE)
                return CF_ECOMM;
            get_response[4] = sw2;
            cmd = get_response;
            len = sizeof get_response;
            continue;
        }
        s->sw = (uint16_t)(sw1 << 8 | sw2);
        return 0;
    }
}

static int send_select(struct emv_session *s, const uint8_t *name, size_t name_len, bool next)
{
    uint8_t *c = s->command;
    c[0] = 0x00;
    c[1] = 0xA4;
    c[2] = 0x04;
    c[3] = next ? 0x02 : 0x00;
    c[4] = (uint8_t)name_len;
    memcpy(c + 5, name, name_len);
    c[5 + name_len] = 0x00;
    return exchange(s, 6 + name_len);
}

static int send_read_record(struct emv_session *s, unsigned sfi, unsigned record)
{
    uint8_t *c = s->command;
    c[0] = 0x00;
    c[1] = 0xB2;
    c[2] = (uint8_t)record;
    c[3] = (uint8_t)(sfi << 3 | 0x04);
    c[4] = 0x00;
    return exchange(s, 5);
}

static int send_gpo(struct emv_session *s, const uint8_t *pdol_data, size_t len)
{
    uint8_t *c = s->command;
    size_t p = 0;
    c[p++] = 0x80;
    c[p++] = 0xA8;
    c[p++] = 0x00;
    c[p++] = 0x00;
    c[p++] = (uint8_t)(len < 0x80 ? len + 2 : len + 3);
    c[p++] = 0x83;
    if (len >= 0x80)
        c[p++] = 0x81;
    c[p++] = (uint8_t)len;
    if (len)
        memcpy(c + p, pdol_data, len);
    p += len;
    c[p++] = 0x00;
    return exchange(s, p);
}

/* ==== Candidates ==== */

static bool was_tried(const struct emv_session *s, const uint8_t *aid, size_t aid_len)
{
    for (size_t i = 0; i < s->tried_count; i++)
        if (s->tried_len[i] == aid_len && memcmp(s->tried[i], aid, aid_len) == 0)
            return true;
    return false;
}

static void mark_tried(struct emv_session *s, const uint8_t *aid, size_t aid_len)
{
    if (s->tried_count < EMV_MAX_TRIED && !was_tried(s, aid, aid_len)) {
        memcpy(s->tried[s->tried_count], aid, aid_len);
        s->tried_len[s->tried_count++] = aid_len;
    }
}

static void add_candidate(struct candidate_list *list, const uint8_t *aid, size_t aid_len,
                          unsigned priority_byte, const uint8_t *label, size_t label_len)
{
    if (aid_len < EMV_AID_MIN || aid_len > EMV_AID_MAX || list->count >= EMV_MAX_CANDIDATES)
        return;
    for (size_t i = 0; i < list->count; i++)
        if (list->items[i].aid_len == aid_len && memcmp(list->items[i].aid, aid, aid_len) == 0)
            return;
    struct candidate *c = &list->items[list->count];
    memset(c, 0, sizeof *c);
    memcpy(c->aid, aid, aid_len);
    c->aid_len = aid_len;
    enum cf_scheme scheme;
    classify_aid(aid, aid_len, &scheme, &c->rank);
    c->priority = (priority_byte & 0x0F) ? (priority_byte & 0x0F) : 16;
    c->order = (unsigned)list->count;
    copy_label(c->label, label, label_len);
    list->count++;
}

static bool candidate_before(const struct candidate *a, const struct candidate *b)
{
    if (a->rank != b->rank)
        return a->rank < b->rank;
    if (a->priority != b->priority)
        return a->priority < b->priority;
    return a->order < b->order;
}

static void sort_candidates(struct candidate_list *list)
{
    for (size_t i = 1; i < list->count; i++) {
        struct candidate item = list->items[i];
        size_t j = i;
        while (j > 0 && candidate_before(&item, &list->items[j - 1])) {
            list->items[j] = list->items[j - 1];
            j--;
        }
        list->items[j] = item;
    }
}

/* One directory entry (template 61): 4F AID, 87 priority, 50 label. */
static int add_directory_entry(struct candidate_list *list, const uint8_t *entry, size_t len)
{
    struct cf_tlv aid, priority, label;
    int rc = find_tag(entry, len, 0x4F, &aid);
    if (rc <= 0)
        return rc;
    rc = find_tag(entry, len, 0x87, &priority);
    if (rc < 0)
        return rc;
    unsigned priority_byte = rc == 1 && priority.length == 1 ? priority.value[0] : 0;
    rc = find_tag(entry, len, 0x50, &label);
    if (rc < 0)
        return rc;
    add_candidate(list, aid.value, aid.length, priority_byte, rc == 1 ? label.value : NULL,
                  rc == 1 ? label.length : 0);
    return 0;
}

static int add_directory_entries(struct candidate_list *list, const uint8_t *data, size_t len)
{
    size_t offset = 0;
    struct cf_tlv entry;
    int rc;
    while ((rc = cf_tlv_next(data, len, &offset, &entry)) == 1) {
        if (entry.tag != 0x61)
            continue;
        rc = add_directory_entry(list, entry.value, entry.length);
        if (rc)
            return rc;
    }
    return rc < 0 ? CF_ECOMM : 0;
}

/* SELECT "2PAY.SYS.DDF01": the contactless directory (FCI 6F / A5 / BF0C / 61). */
static int read_ppse(struct emv_session *s)
{
    static const uint8_t ppse[] = "2PAY.SYS.DDF01";
    int rc = send_select(s, ppse, sizeof ppse - 1, false);
    if (rc || !sw_success(s->sw))
        return rc;
    struct cf_tlv directory;
    rc = find_tag(s->data, s->len, 0xBF0C, &directory);
    if (rc <= 0)
        return rc;
    return add_directory_entries(&s->list, directory.value, directory.length);
}

/* SELECT "1PAY.SYS.DDF01": the contact directory, whose entries are in the
 * records (template 70) of the SFI its FCI names in tag 88. */
static int read_pse(struct emv_session *s)
{
    static const uint8_t pse[] = "1PAY.SYS.DDF01";
    int rc = send_select(s, pse, sizeof pse - 1, false);
    if (rc || !sw_success(s->sw))
        return rc;
    struct cf_tlv sfi_tlv;
    rc = find_tag(s->data, s->len, 0x88, &sfi_tlv);
    if (rc <= 0)
        return rc;
    if (sfi_tlv.length != 1 || sfi_tlv.value[0] < 1 || sfi_tlv.value[0] > 30)
        return 0;
    unsigned sfi = sfi_tlv.value[0];
    for (unsigned record = 1; record <= EMV_MAX_PSE_RECORDS; record++) {
        rc = send_read_record(s, sfi, record);
        if (rc || !sw_success(s->sw))
            return rc;
        size_t offset = 0;
        struct cf_tlv tpl;
        rc = cf_tlv_next(s->data, s->len, &offset, &tpl);
        if (rc < 0)
            return CF_ECOMM;
        if (rc == 1 && tpl.tag == 0x70) {
            rc = add_directory_entries(&s->list, tpl.value, tpl.length);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* ==== Card data: PAN and expiry ==== */

static int nibble(const uint8_t *v, size_t i)
{
    return i % 2 ? v[i / 2] & 0x0F : v[i / 2] >> 4;
}

static void set_expiry(struct found *f, int source, int yy, int mm)
{
    if (f->month[source] == 0 && yy >= 0 && yy <= 99 && mm >= 1 && mm <= 12) {
        f->year[source] = 2000 + yy;
        f->month[source] = mm;
    }
}

/* Keep pan (NUL-terminated digits) for source when it is a valid PAN and the
 * source has none yet. */
static void set_pan(struct found *f, int source, const char *pan, size_t len)
{
    if (f->pan[source][0] == '\0' && len >= EMV_PAN_MIN && len <= EMV_PAN_MAX) {
        memcpy(f->pan[source], pan, len);
        f->pan[source][len] = '\0';
    }
}

/* 5A: BCD digits, padded with F. */
static void take_pan_5a(struct found *f, const uint8_t *v, size_t len)
{
    char pan[EMV_PAN_MAX + 1];
    size_t count = 0;
    bool padding = false;
    bool ok = len <= 10;
    for (size_t i = 0; ok && i < 2 * len; i++) {
        int d = nibble(v, i);
        if (d <= 9 && !padding && count < EMV_PAN_MAX)
            pan[count++] = (char)('0' + d);
        else if (d == 0x0F)
            padding = true;
        else
            ok = false;
    }
    if (ok)
        set_pan(f, PAN_5A, pan, count);
    OPENSSL_cleanse(pan, sizeof pan);
}

/* 57 and 9F6B (track 2): PAN digits, separator D, YYMM, service code, data. */
static void take_track2(struct found *f, int pan_source, int exp_source, const uint8_t *v,
                        size_t len)
{
    char pan[EMV_PAN_MAX + 1];
    size_t count = 0;
    size_t nibbles = 2 * (len > 19 ? 0 : len);
    size_t i = 0;
    bool ok = true;
    for (; i < nibbles; i++) {
        int d = nibble(v, i);
        if (d == 0x0D)
            break;
        if (d > 9 || count >= EMV_PAN_MAX) {
            ok = false;
            break;
        }
        pan[count++] = (char)('0' + d);
    }
    if (ok && i < nibbles) {
        set_pan(f, pan_source, pan, count);
        if (nibbles - i - 1 >= 4) {
            int digits[4];
            bool numeric = true;
            for (size_t k = 0; k < 4; k++) {
                digits[k] = nibble(v, i + 1 + k);
                numeric = numeric && digits[k] <= 9;
            }
            if (numeric)
                set_expiry(f, exp_source, digits[0] * 10 + digits[1], digits[2] * 10 + digits[3]);
        }
    }
    OPENSSL_cleanse(pan, sizeof pan);
}

static bool ascii_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* 56 (track 1, ASCII): [%]B PAN ^ NAME ^ YYMM service code ... */
static void take_track1(struct found *f, const uint8_t *v, size_t len)
{
    char pan[EMV_PAN_MAX + 1];
    size_t count = 0;
    size_t i = 0;
    bool ok = true;
    if (i < len && v[i] == '%')
        i++;
    if (i < len && (v[i] == 'B' || v[i] == 'b'))
        i++;
    for (; i < len && v[i] != '^'; i++) {
        if (v[i] == ' ')
            continue;
        if (!ascii_digit(v[i]) || count >= EMV_PAN_MAX)
            ok = false;
        else
            pan[count++] = (char)v[i];
    }
    if (i < len) {
        if (ok)
            set_pan(f, PAN_56, pan, count);
        i++;
        while (i < len && v[i] != '^')
            i++;
        if (i < len && len - i - 1 >= 4 && ascii_digit(v[i + 1]) && ascii_digit(v[i + 2]) &&
            ascii_digit(v[i + 3]) && ascii_digit(v[i + 4]))
            set_expiry(f, EXP_56, (v[i + 1] - '0') * 10 + (v[i + 2] - '0'),
                       (v[i + 3] - '0') * 10 + (v[i + 4] - '0'));
    }
    OPENSSL_cleanse(pan, sizeof pan);
}

/* 5F24: YYMMDD in BCD. */
static void take_expiry_5f24(struct found *f, const uint8_t *v, size_t len)
{
    if (len != 3)
        return;
    for (size_t i = 0; i < 4; i++)
        if (nibble(v, i) > 9)
            return;
    set_expiry(f, EXP_5F24, nibble(v, 0) * 10 + nibble(v, 1), nibble(v, 2) * 10 + nibble(v, 3));
}

/* Take the card data objects from a GPO format 2 answer or a record. */
static int collect(struct found *f, const uint8_t *data, size_t len)
{
    struct cf_tlv tlv;
    int rc;
    if ((rc = find_tag(data, len, 0x5A, &tlv)) < 0)
        return rc;
    if (rc == 1)
        take_pan_5a(f, tlv.value, tlv.length);
    if ((rc = find_tag(data, len, 0x57, &tlv)) < 0)
        return rc;
    if (rc == 1)
        take_track2(f, PAN_57, EXP_57, tlv.value, tlv.length);
    if ((rc = find_tag(data, len, 0x9F6B, &tlv)) < 0)
        return rc;
    if (rc == 1)
        take_track2(f, PAN_9F6B, EXP_9F6B, tlv.value, tlv.length);
    if ((rc = find_tag(data, len, 0x56, &tlv)) < 0)
        return rc;
    if (rc == 1)
        take_track1(f, tlv.value, tlv.length);
    if ((rc = find_tag(data, len, 0x5F24, &tlv)) < 0)
        return rc;
    if (rc == 1)
        take_expiry_5f24(f, tlv.value, tlv.length);
    OPENSSL_cleanse(&tlv, sizeof tlv);
    return 0;
}

static const char *chosen_pan(const struct found *f)
{
    for (int source = 0; source < PAN_SOURCES; source++)
        if (f->pan[source][0])
            return f->pan[source];
    return NULL;
}

/* Nothing later can change the result: a PAN (the same from every source) and
 * the expiry of first preference. */
static bool have_everything(const struct found *f)
{
    return chosen_pan(f) && f->month[EXP_5F24] != 0;
}

/* ==== PDOL ==== */

struct pdol_fill {
    const struct cf_emv_terminal *terminal;
    uint8_t *out;
    size_t len;
};

static void put_bcd(uint64_t value, uint8_t *out, size_t bytes)
{
    for (size_t i = bytes; i-- > 0;) {
        unsigned low = (unsigned)(value % 10);
        value /= 10;
        unsigned high = (unsigned)(value % 10);
        value /= 10;
        out[i] = (uint8_t)(high << 4 | low);
    }
}

static unsigned clamp_unsigned(int value, int low, int high)
{
    return (unsigned)(value < low ? low : value > high ? high : value);
}

/* The terminal's value of tag in v (natural length returned, 0 when the tag is not
 * one we know) and whether it is numeric (format n: right-aligned when the card
 * asks for another length, EMV Book 3 section 5.4). */
static size_t terminal_value(const struct cf_emv_terminal *t, uint32_t tag, uint8_t v[8],
                             bool *numeric)
{
    *numeric = true;
    switch (tag) {
    case 0x9F66: /* terminal transaction qualifiers */
        *numeric = false;
        memcpy(v, t->ttq, 4);
        return 4;
    case 0x9F02: /* amount, authorised */
        put_bcd(t->amount_minor > 999999999999ull ? 999999999999ull : t->amount_minor, v, 6);
        return 6;
    case 0x9F1A: /* terminal country code */
        put_bcd(t->country_code % 1000, v, 2);
        return 2;
    case 0x5F2A: /* transaction currency code */
        put_bcd(t->currency_code % 1000, v, 2);
        return 2;
    case 0x9A: /* transaction date YYMMDD */
        put_bcd(clamp_unsigned(t->year, 0, 9999) % 100, v, 1);
        put_bcd(clamp_unsigned(t->month, 0, 12), v + 1, 1);
        put_bcd(clamp_unsigned(t->day, 0, 31), v + 2, 1);
        return 3;
    case 0x9C: /* transaction type: goods and services */
        v[0] = 0x00;
        return 1;
    case 0x9F37: /* unpredictable number */
        *numeric = false;
        memcpy(v, t->unpredictable, 4);
        return 4;
    case 0x9F35: /* terminal type: attended, offline with online capability */
        v[0] = 0x22;
        return 1;
    case 0x9F33: /* terminal capabilities: no CVM required, CDA */
        *numeric = false;
        v[0] = 0x60;
        v[1] = 0x08;
        v[2] = 0x08;
        return 3;
    case 0x9F39: /* POS entry mode: contactless chip */
        v[0] = 0x07;
        return 1;
    default:
        return 0; /* 9F03 amount other, 95 TVR, 9F21 time, ... are zeros */
    }
}

static int pdol_entry(void *ctx, uint32_t tag, size_t length)
{
    struct pdol_fill *fill = ctx;
    if (length > EMV_PDOL_DATA_MAX - fill->len)
        return CF_ECOMM;
    uint8_t *dst = fill->out + fill->len;
    uint8_t v[8];
    bool numeric;
    size_t natural = terminal_value(fill->terminal, tag, v, &numeric);
    memset(dst, 0, length);
    size_t n = natural < length ? natural : length;
    if (numeric)
        memcpy(dst + (length - n), v + (natural - n), n);
    else
        memcpy(dst, v, n);
    fill->len += length;
    return 0;
}

static int fill_pdol(const struct cf_emv_terminal *terminal, const uint8_t *pdol, size_t pdol_len,
                     uint8_t out[EMV_PDOL_DATA_MAX], size_t *out_len)
{
    struct pdol_fill fill = {.terminal = terminal, .out = out, .len = 0};
    int rc = cf_dol_parse(pdol, pdol_len, pdol_entry, &fill);
    *out_len = fill.len;
    return rc ? CF_ECOMM : 0;
}

/* ==== One application ==== */

/* Offline data authentication, below: what GPO and the records give towards a proof. */
static int oda_collect(struct oda_read *o, const uint8_t *data, size_t len);
static void oda_bad_static(struct oda_read *o, const char *why);
static void oda_add_static(struct oda_read *o, unsigned sfi, const struct cf_tlv *tpl,
                           const uint8_t *record, size_t record_len);

struct application {
    uint8_t aid[EMV_AID_MAX];
    size_t aid_len;
    char label[17];
    uint8_t pdol[EMV_PDOL_DATA_MAX];
    size_t pdol_len;
    uint8_t afl[EMV_AFL_MAX];
    size_t afl_len;
};

/* FCI of a selected application: 6F { 84 DF name, A5 { 50 label, 9F38 PDOL } }. */
static int read_fci(const uint8_t *fci, size_t fci_len, const struct candidate *c,
                    struct application *app)
{
    size_t offset = 0;
    struct cf_tlv tpl, tlv;
    int rc = cf_tlv_next(fci, fci_len, &offset, &tpl);
    if (rc < 0)
        return CF_ECOMM;
    if (rc == 0 || tpl.tag != 0x6F)
        return CF_ENOT_PAYMENT;
    memcpy(app->aid, c->aid, c->aid_len);
    app->aid_len = c->aid_len;
    /* The DF name is the full AID when we selected by a prefix of it; a card
     * naming another application than the one asked for (VisaCardNullTransaction)
     * keeps the AID we selected. */
    if ((rc = find_tag(tpl.value, tpl.length, 0x84, &tlv)) < 0)
        return rc;
    if (rc == 1 && tlv.length <= EMV_AID_MAX &&
        starts_with(tlv.value, tlv.length, c->aid, c->aid_len)) {
        memcpy(app->aid, tlv.value, tlv.length);
        app->aid_len = tlv.length;
    }
    if ((rc = find_tag(tpl.value, tpl.length, 0x50, &tlv)) < 0)
        return rc;
    if (rc == 1)
        copy_label(app->label, tlv.value, tlv.length);
    else
        memcpy(app->label, c->label, sizeof app->label);
    if ((rc = find_tag(tpl.value, tpl.length, 0x9F38, &tlv)) < 0)
        return rc;
    if (rc == 1) {
        if (tlv.length > sizeof app->pdol)
            return CF_ECOMM;
        memcpy(app->pdol, tlv.value, tlv.length);
        app->pdol_len = tlv.length;
    }
    return 0;
}

static int take_afl(struct application *app, const uint8_t *afl, size_t len)
{
    if (len % 4 || len > sizeof app->afl)
        return CF_ECOMM;
    for (size_t i = 0; i < len; i += 4) {
        unsigned sfi = afl[i] >> 3;
        if (sfi < 1 || sfi > 30 || afl[i + 1] == 0 || afl[i + 2] < afl[i + 1])
            return CF_ECOMM;
    }
    memcpy(app->afl, afl, len);
    app->afl_len = len;
    return 0;
}

/* GET PROCESSING OPTIONS, retried once with an empty PDOL on 67 00, and its
 * answer: format 1 (80: AIP + AFL) or format 2 (77, or 70 as InteractPpse
 * answers: card data objects, AFL in 94). */
static int run_gpo(struct emv_session *s, struct application *app)
{
    uint8_t pdol_data[EMV_PDOL_DATA_MAX];
    size_t pdol_data_len = 0;
    int rc = fill_pdol(s->terminal, app->pdol, app->pdol_len, pdol_data, &pdol_data_len);
    if (rc)
        goto out;
    rc = send_gpo(s, pdol_data, pdol_data_len);
    if (!rc && s->sw == 0x6700 && pdol_data_len > 0) {
        pdol_data_len = 0;
        rc = send_gpo(s, NULL, 0);
    }
    if (rc)
        goto out;
    if (s->oda) {
        memcpy(s->oda->pdol_data, pdol_data, pdol_data_len);
        s->oda->pdol_data_len = pdol_data_len;
    }
    if (sw_locked(s->sw)) {
        rc = CF_ECARD_LOCKED;
        goto out;
    }
    if (!sw_success(s->sw)) {
        rc = CF_ENOT_PAYMENT;
        goto out;
    }
    size_t offset = 0;
    struct cf_tlv tpl, afl;
    rc = cf_tlv_next(s->data, s->len, &offset, &tpl);
    if (rc < 0) {
        rc = CF_ECOMM;
    } else if (rc == 0) {
        rc = CF_ENOT_PAYMENT;
    } else if (tpl.tag == 0x80) {
        rc = tpl.length < 2 ? CF_ECOMM : take_afl(app, tpl.value + 2, tpl.length - 2);
        if (!rc && s->oda) {
            memcpy(s->oda->aip, tpl.value, 2);
            s->oda->have_aip = true;
        }
    } else if (tpl.tag == 0x77 || tpl.tag == 0x70) {
        rc = collect(&s->found, tpl.value, tpl.length);
        if (!rc && (rc = find_tag(tpl.value, tpl.length, 0x94, &afl)) == 1)
            rc = take_afl(app, afl.value, afl.length);
        if (rc >= 0 && s->oda)
            rc = oda_collect(s->oda, tpl.value, tpl.length);
    } else {
        rc = CF_ENOT_PAYMENT;
    }
out:
    OPENSSL_cleanse(pdol_data, sizeof pdol_data);
    return rc;
}

/* READ RECORD over the AFL, at most EMV_MAX_RECORDS commands. A record the card
 * refuses or that is not a record template is skipped (recordings and real cards
 * both list records they then do not return); malformed TLV ends the read. */
/* One record once the identification is settled (a proof asked for, PAN and expiry
 * known): only its ODA objects count, and whatever goes wrong with it costs the proof, not
 * the identification — the card is identified exactly as cf_emv_read would. Returns 0 to
 * go on, 1 to stop reading. */
static int settled_record(struct emv_session *s, int rc, const struct cf_tlv *tpl)
{
    if (rc < 0) {
        oda_bad_static(s->oda, "a record after the card number is malformed or missing");
        return 1;
    }
    if (rc == 1 && (tpl->tag == 0x70 || tpl->tag == 0x77) &&
        oda_collect(s->oda, tpl->value, tpl->length) < 0) {
        oda_bad_static(s->oda, "a record after the card number is malformed");
        return 1;
    }
    return 0;
}

static int read_records(struct emv_session *s, const struct application *app)
{
    unsigned reads = 0;
    for (size_t i = 0; i < app->afl_len; i += 4) {
        unsigned sfi = app->afl[i] >> 3;
        for (unsigned record = app->afl[i + 1]; record <= app->afl[i + 2]; record++) {
            /* With a proof asked for, every record is read: the ODA material and the
             * signed records may come after the PAN. */
            bool settled = have_everything(&s->found);
            if ((!s->oda && settled) || reads >= EMV_MAX_RECORDS)
                return 0;
            reads++;
            bool signed_record = record - app->afl[i + 1] < app->afl[i + 3];
            int rc = send_read_record(s, sfi, record);
            if (rc && s->oda && settled) {
                oda_bad_static(s->oda, "the card stopped answering after its card number");
                return 0;
            }
            if (rc)
                return rc;
            if (!sw_success(s->sw)) {
                if (s->oda && signed_record)
                    oda_bad_static(s->oda, "a record signed for ODA was refused");
                continue;
            }
            size_t offset = 0;
            struct cf_tlv tpl;
            rc = cf_tlv_next(s->data, s->len, &offset, &tpl);
            bool template70 = rc == 1 && tpl.tag == 0x70;
            if (s->oda && settled) {
                if (settled_record(s, rc, &tpl))
                    return 0;
            } else {
                if (rc < 0)
                    return CF_ECOMM;
                if (rc == 1 && (tpl.tag == 0x70 || tpl.tag == 0x77)) {
                    rc = collect(&s->found, tpl.value, tpl.length);
                    if (!rc && s->oda)
                        rc = oda_collect(s->oda, tpl.value, tpl.length);
                    if (rc)
                        return rc;
                }
            }
            if (s->oda && signed_record)
                oda_add_static(s->oda, sfi, template70 ? &tpl : NULL, s->data, s->len);
        }
    }
    return 0;
}

/* ==== Offline data authentication material ==== */

static void oda_note(struct oda_read *o, const char *text)
{
    if (o->note && o->note_size && !o->note[0])
        snprintf(o->note, o->note_size, "%s", text);
}

static void oda_bad_static(struct oda_read *o, const char *why)
{
    o->static_bad = true;
    oda_note(o, why);
}

static bool take_bytes(struct cf_proof_bytes *f, const uint8_t *v, size_t len)
{
    if (f->len || len > sizeof f->data)
        return false;
    memcpy(f->data, v, len);
    f->len = len;
    return true;
}

/* The ODA objects of one template (GPO answer or record): the first occurrence of each
 * is kept; a value too long for the proof is a card we cannot make a proof of. */
static int oda_collect(struct oda_read *o, const uint8_t *data, size_t len)
{
    struct cf_card_proof *p = o->proof;
    const struct {
        uint32_t tag;
        struct cf_proof_bytes *to;
    } wanted[] = {
        {0x8F, &p->ca_index},   {0x90, &p->issuer_cert}, {0x9F32, &p->issuer_exp},
        {0x92, &p->issuer_rem}, {0x9F46, &p->icc_cert},  {0x9F47, &p->icc_exp},
        {0x9F48, &p->icc_rem},  {0x93, &p->ssad},        {0x9F4B, &p->sdad},
        {0x9F49, &o->ddol},     {0x9F4A, &o->tag_list},  {0x9F69, &o->card_auth},
        {0x8C, &o->cdol1},
    };
    struct cf_tlv tlv;
    for (size_t i = 0; i < COUNT_OF(wanted); i++) {
        int rc = find_tag(data, len, wanted[i].tag, &tlv);
        if (rc < 0)
            return rc;
        if (rc == 1 && !wanted[i].to->len && !take_bytes(wanted[i].to, tlv.value, tlv.length))
            oda_bad_static(o, "an ODA object is longer than a proof field");
    }
    if (!o->have_aip && find_tag(data, len, 0x82, &tlv) == 1 && tlv.length == 2) {
        memcpy(o->aip, tlv.value, 2);
        o->have_aip = true;
    }
    return 0;
}

/* Book 3 10.3: a record of SFI 1..10 counts with its template 70 and length left out
 * (and must be a 70); of SFI 11..30 as it came, whole. */
static void oda_add_static(struct oda_read *o, unsigned sfi, const struct cf_tlv *tpl,
                           const uint8_t *record, size_t record_len)
{
    struct cf_proof_static *sd = &o->proof->static_data;
    const uint8_t *from = record;
    size_t n = record_len;
    if (sfi <= 10) {
        if (!tpl) {
            oda_bad_static(o, "a record signed for ODA is not a template 70");
            return;
        }
        from = tpl->value;
        n = tpl->length;
    }
    if (n > sizeof sd->data - sd->len) {
        oda_bad_static(o, "the static data to authenticate is over 2048 bytes");
        return;
    }
    memcpy(sd->data + sd->len, from, n);
    sd->len += n;
}

/* Terminal values for a DOL (CDOL1, DDOL), as for the PDOL. */
static int fill_dol(const struct cf_emv_terminal *t, const struct cf_proof_bytes *dol,
                    uint8_t out[EMV_PDOL_DATA_MAX], size_t *out_len)
{
    return fill_pdol(t, dol->data, dol->len, out, out_len);
}

static int send_proprietary(struct emv_session *s, uint8_t cla, uint8_t ins, uint8_t p1,
                            const uint8_t *data, size_t len)
{
    uint8_t *c = s->command;
    if (len > 255)
        return CF_ECOMM;
    c[0] = cla;
    c[1] = ins;
    c[2] = p1;
    c[3] = 0x00;
    c[4] = (uint8_t)len;
    memcpy(c + 5, data, len);
    c[5 + len] = 0x00;
    return exchange(s, 6 + len);
}

/* The SDAD of an INTERNAL AUTHENTICATE / GENERATE AC answer: format 1 (80: the SDAD
 * itself, INTERNAL AUTHENTICATE only) or format 2 (77 with 9F4B). 1 found, 0 not. */
static int answer_sdad(struct emv_session *s, bool format1_ok, struct cf_tlv *tpl,
                       struct cf_proof_bytes *sdad)
{
    size_t offset = 0;
    struct cf_tlv t;
    if (!sw_success(s->sw) || cf_tlv_next(s->data, s->len, &offset, tpl) != 1)
        return 0;
    if (tpl->tag == 0x80 && format1_ok)
        return take_bytes(sdad, tpl->value, tpl->length);
    if (tpl->tag != 0x77 || find_tag(tpl->value, tpl->length, 0x9F4B, &t) != 1)
        return 0;
    return take_bytes(sdad, t.value, t.length);
}

/* DDA: INTERNAL AUTHENTICATE with the DDOL data (the card's 9F49, or 9F37 04). */
static int oda_dda(struct emv_session *s)
{
    struct oda_read *o = s->oda;
    struct cf_card_proof *p = o->proof;
    static const uint8_t default_ddol[] = {0x9F, 0x37, 0x04};
    struct cf_tlv tpl;
    if (!o->ddol.len)
        take_bytes(&o->ddol, default_ddol, sizeof default_ddol);
    uint8_t data[EMV_PDOL_DATA_MAX];
    size_t len = 0;
    if (fill_dol(s->terminal, &o->ddol, data, &len) || len == 0) {
        oda_note(o, "the card's DDOL cannot be filled");
        return 0;
    }
    int rc = send_proprietary(s, 0x00, 0x88, 0x00, data, len);
    if (rc)
        return rc;
    p->sdad.len = 0;
    if (!answer_sdad(s, true, &tpl, &p->sdad)) {
        oda_note(o, "INTERNAL AUTHENTICATE gave no signature");
        return 0;
    }
    p->kind = CF_PROOF_DDA;
    take_bytes(&p->ddol, o->ddol.data, o->ddol.len);
    take_bytes(&p->terminal_data, data, len);
    return 0;
}

/* CDA: GENERATE AC asking for an ARQC with the CDA signature (P1 90), zero amount; the
 * cryptogram goes nowhere. tx_data is what Book 2 6.6.2 hashes: PDOL values, CDOL1
 * values, then the answer's objects but 9F4B as they came. */
static int oda_cda(struct emv_session *s)
{
    struct oda_read *o = s->oda;
    struct cf_card_proof *p = o->proof;
    uint8_t data[EMV_PDOL_DATA_MAX];
    size_t len = 0;
    struct cf_tlv tpl, item;
    if (fill_dol(s->terminal, &o->cdol1, data, &len)) {
        oda_note(o, "the card's CDOL1 cannot be filled");
        return 0;
    }
    int rc = send_proprietary(s, 0x80, 0xAE, 0x90, data, len);
    if (rc)
        return rc;
    p->sdad.len = 0;
    if (!answer_sdad(s, false, &tpl, &p->sdad)) {
        oda_note(o, "GENERATE AC gave no CDA signature");
        return 0;
    }
    struct cf_proof_bytes *tx = &p->tx_data;
    tx->len = 0;
    if (o->pdol_data_len + len > sizeof tx->data)
        return 0;
    memcpy(tx->data, o->pdol_data, o->pdol_data_len);
    memcpy(tx->data + o->pdol_data_len, data, len);
    tx->len = o->pdol_data_len + len;
    size_t offset = 0;
    for (;;) {
        while (offset < tpl.length && (tpl.value[offset] == 0x00 || tpl.value[offset] == 0xFF))
            offset++; /* padding between objects is not an object */
        if (offset >= tpl.length) {
            rc = 0;
            break;
        }
        size_t start = offset;
        rc = cf_tlv_parse_one(tpl.value, tpl.length, &offset, &item);
        if (rc < 0)
            break;
        size_t whole = offset - start; /* this object with its tag and length */
        if (item.tag == 0x9F4B)
            continue;
        if (whole > sizeof tx->data - tx->len) {
            tx->len = 0;
            return 0;
        }
        memcpy(tx->data + tx->len, tpl.value + start, whole);
        tx->len += whole;
    }
    if (rc < 0) {
        tx->len = 0;
        oda_note(o, "the GENERATE AC answer is malformed");
        return 0;
    }
    p->kind = CF_PROOF_CDA;
    take_bytes(&p->terminal_data, s->terminal->unpredictable, 4);
    return 0;
}

/* fDDA: the SDAD came with the GPO answer or a record; the card signed the UN, amount
 * and currency the PDOL carried, and its 9F69. */
static void oda_fdda(struct emv_session *s)
{
    struct oda_read *o = s->oda;
    struct cf_card_proof *p = o->proof;
    uint8_t v[8];
    bool numeric;
    struct cf_proof_bytes *td = &p->terminal_data;
    td->len = 0;
    memcpy(td->data, s->terminal->unpredictable, 4);
    td->len = 4;
    size_t n = terminal_value(s->terminal, 0x9F02, v, &numeric);
    memcpy(td->data + td->len, v, n);
    td->len += n;
    n = terminal_value(s->terminal, 0x5F2A, v, &numeric);
    memcpy(td->data + td->len, v, n);
    td->len += n;
    memcpy(td->data + td->len, o->card_auth.data, o->card_auth.len);
    td->len += o->card_auth.len;
    p->kind = CF_PROOF_FDDA;
}

/* Only the fields of the kind chosen stay (cf_event_validate's rules). */
static void oda_trim(struct cf_card_proof *p)
{
    if (p->kind == CF_PROOF_NONE) {
        struct cf_card_proof keep;
        memset(&keep, 0, sizeof keep);
        keep.kind = CF_PROOF_NONE;
        keep.aid = p->aid;
        keep.aip = p->aip;
        *p = keep;
        return;
    }
    if (p->kind != CF_PROOF_SDA)
        p->ssad.len = 0;
    if (p->kind == CF_PROOF_SDA) {
        p->icc_cert.len = p->icc_exp.len = p->icc_rem.len = p->sdad.len = 0;
        p->ddol.len = p->terminal_data.len = 0;
    }
    if (p->kind != CF_PROOF_DDA)
        p->ddol.len = 0;
    if (p->kind != CF_PROOF_CDA)
        p->tx_data.len = 0;
}

/* After the records: the static data's tail (9F4A), the PAN masked, then a signature
 * over the challenge by the method the card offers. A card that offers none, or whose
 * answers do not make a proof — a failed link during the signing command included —
 * gives kind none with a note. Always returns 0. */
static int oda_finish(struct emv_session *s, const struct application *app, const char *pan)
{
    struct oda_read *o = s->oda;
    struct cf_card_proof *p = o->proof;
    take_bytes(&p->aid, app->aid, app->aid_len);
    if (!o->have_aip) {
        oda_note(o, "the card gave no application interchange profile (82)");
        memset(p, 0, sizeof *p); /* no proof at all */
        return 0;
    }
    take_bytes(&p->aip, o->aip, 2);
    struct cf_proof_static *sd = &p->static_data;
    if (o->tag_list.len) {
        if (o->tag_list.len == 1 && o->tag_list.data[0] == 0x82 && sd->len + 2 <= sizeof sd->data) {
            memcpy(sd->data + sd->len, o->aip, 2);
            sd->len += 2;
        } else {
            oda_bad_static(o, "the static data tag list (9F4A) names more than the AIP");
        }
    }
    cf_static_data_mask_pan(sd->data, sd->len);
    if (cf_static_data_holds_pan(sd->data, sd->len, pan))
        oda_bad_static(o, "the static data holds the card number outside tag 5A");
    bool issuer = p->ca_index.len == 1 && p->issuer_cert.len && p->issuer_exp.len;
    bool icc = issuer && p->icc_cert.len && p->icc_exp.len && !o->static_bad;
    int rc = 0;
    p->kind = CF_PROOF_NONE;
    if (icc && p->sdad.len) {
        oda_fdda(s);
    } else if (icc && (o->aip[0] & 0x20)) {
        rc = oda_dda(s);
        if (!rc && p->kind == CF_PROOF_NONE && (o->aip[0] & 0x01) && o->cdol1.len)
            rc = oda_cda(s);
    } else if (icc && (o->aip[0] & 0x01) && o->cdol1.len) {
        rc = oda_cda(s);
    }
    if (rc) {
        /* The PAN is read: a link lost during the signing command costs the proof only. */
        oda_note(o, "the card stopped answering during the signing command");
        p->kind = CF_PROOF_NONE;
        rc = 0;
    }
    if (p->kind == CF_PROOF_NONE && issuer && !o->static_bad && (o->aip[0] & 0x40) && p->ssad.len)
        p->kind = CF_PROOF_SDA;
    oda_trim(p);
    if (p->kind != CF_PROOF_NONE && cf_card_proof_check(p, NULL) != 0) {
        /* What the event model would refuse (an exponent of 4 bytes, ...) is no proof. */
        oda_note(o, "the card's ODA objects have impossible lengths");
        p->kind = CF_PROOF_NONE;
        oda_trim(p);
    }
    if (p->kind == CF_PROOF_NONE)
        oda_note(o, (o->aip[0] & 0x61) ? "the card's ODA material is incomplete"
                                       : "the card offers no offline data authentication");
    if (cf_card_proof_check(p, NULL) != 0)
        memset(p, 0, sizeof *p); /* not even an AID the event model takes: no proof */
    return rc;
}

static int fill_card(const struct found *f, const struct application *app, struct cf_emv_card *card)
{
    const char *pan = chosen_pan(f);
    if (!pan)
        return CF_ENO_PAN;
    memset(card, 0, sizeof *card);
    memcpy(card->pan, pan, strlen(pan) + 1);
    memcpy(card->aid, app->aid, app->aid_len);
    card->aid_len = app->aid_len;
    memcpy(card->label, app->label, sizeof card->label);
    unsigned rank;
    classify_aid(app->aid, app->aid_len, &card->scheme, &rank);
    if (card->scheme == CF_SCHEME_OTHER)
        card->scheme = scheme_from_pan(card->pan);
    for (int source = 0; source < EXP_SOURCES; source++) {
        if (f->month[source]) {
            card->expiry_year = f->year[source];
            card->expiry_month = f->month[source];
            break;
        }
    }
    return 0;
}

/* Select (unless the card's current application is this one, see
 * try_partial_aids), GPO, records. Returns 0 with *card filled, an outcome
 * (EMV_NOT_FOUND, CF_ECARD_LOCKED, CF_ENOT_PAYMENT, CF_ENO_PAN) or a fatal code. */
static int try_candidate(struct emv_session *s, const struct candidate *c, struct cf_emv_card *card)
{
    struct application app;
    memset(&app, 0, sizeof app);
    OPENSSL_cleanse(&s->found, sizeof s->found);
    if (s->oda) {
        struct oda_read keep = {
            .proof = s->oda->proof, .note = s->oda->note, .note_size = s->oda->note_size};
        OPENSSL_cleanse(s->oda, sizeof *s->oda);
        *s->oda = keep;
        memset(keep.proof, 0, sizeof *keep.proof);
        if (keep.note && keep.note_size)
            keep.note[0] = '\0';
    }
    mark_tried(s, c->aid, c->aid_len);
    bool current =
        s->fci_valid && s->fci_aid_len == c->aid_len && memcmp(s->fci_aid, c->aid, c->aid_len) == 0;
    s->fci_valid = false;
    int rc;
    if (current) {
        rc = read_fci(s->fci, s->fci_len, c, &app);
    } else {
        rc = send_select(s, c->aid, c->aid_len, false);
        if (rc)
            goto out;
        if (sw_locked(s->sw)) {
            rc = CF_ECARD_LOCKED;
            goto out;
        }
        if (!sw_success(s->sw)) {
            rc = EMV_NOT_FOUND;
            goto out;
        }
        rc = read_fci(s->data, s->len, c, &app);
    }
    if (rc)
        goto out;
    rc = run_gpo(s, &app);
    if (rc)
        goto out;
    rc = read_records(s, &app);
    if (rc)
        goto out;
    rc = fill_card(&s->found, &app, card);
    if (!rc && s->oda)
        rc = oda_finish(s, &app, card->pan);
out:
    OPENSSL_cleanse(&app, sizeof app);
    return rc;
}

static bool is_outcome(int rc)
{
    return rc == EMV_NOT_FOUND || rc == CF_ECARD_LOCKED || rc == CF_ENOT_PAYMENT ||
           rc == CF_ENO_PAN;
}

/* Which failure to report when no application could be read: the one that got
 * furthest (a payment application without a PAN, then a blocked one, then one
 * that is not for payment, then nothing at all). */
static int outcome_weight(int rc)
{
    switch (rc) {
    case CF_ENO_PAN:
        return 4;
    case CF_ECARD_LOCKED:
        return 3;
    case CF_ENOT_PAYMENT:
        return 2;
    default:
        return 1;
    }
}

static bool settled(int best)
{
    return best == CF_ENO_PAN || best == CF_ECARD_LOCKED;
}

/* Try the candidates of s->list in preference order. Returns 0 on success, a
 * fatal code, or EMV_NOT_FOUND with *best updated. */
static int try_list(struct emv_session *s, int *best, struct cf_emv_card *card)
{
    sort_candidates(&s->list);
    for (size_t i = 0; i < s->list.count; i++) {
        int rc = try_candidate(s, &s->list.items[i], card);
        if (rc == 0 || !is_outcome(rc))
            return rc;
        if (outcome_weight(rc) > outcome_weight(*best))
            *best = rc;
    }
    return EMV_NOT_FOUND;
}

static void stash_fci(struct emv_session *s, const uint8_t *aid, size_t aid_len)
{
    memcpy(s->fci, s->data, s->len);
    s->fci_len = s->len;
    memcpy(s->fci_aid, aid, aid_len);
    s->fci_aid_len = aid_len;
    s->fci_valid = true;
}

/* Applications whose AID starts with rid: SELECT by the prefix (P2 00), then
 * "next occurrence" (P2 02) until the card says no. The application found last
 * is the card's current one, so trying it needs no new SELECT — which matters:
 * a card that only answers partial selection (VisaCardAid) may refuse its full
 * AID. This assumes, as ISO 7816-4 cards do, that a failed SELECT leaves the
 * current application selected. */
static int enumerate_rid(struct emv_session *s, const uint8_t *rid, size_t rid_len, int *best)
{
    memset(&s->list, 0, sizeof s->list);
    for (unsigned i = 0; i <= EMV_MAX_NEXT; i++) {
        int rc = send_select(s, rid, rid_len, i > 0);
        if (rc)
            return rc;
        if (sw_locked(s->sw) && outcome_weight(CF_ECARD_LOCKED) > outcome_weight(*best))
            *best = CF_ECARD_LOCKED;
        if (!sw_success(s->sw))
            return 0;
        size_t offset = 0;
        struct cf_tlv tpl, name;
        rc = cf_tlv_next(s->data, s->len, &offset, &tpl);
        if (rc < 0)
            return CF_ECOMM;
        if (rc == 0 || tpl.tag != 0x6F)
            continue;
        if ((rc = find_tag(tpl.value, tpl.length, 0x84, &name)) < 0)
            return rc;
        if (rc == 0 || name.length < EMV_AID_MIN || name.length > EMV_AID_MAX ||
            !starts_with(name.value, name.length, rid, rid_len))
            continue;
        struct cf_tlv priority, label;
        int has_priority = find_tag(tpl.value, tpl.length, 0x87, &priority);
        int has_label = find_tag(tpl.value, tpl.length, 0x50, &label);
        if (has_priority < 0 || has_label < 0)
            return CF_ECOMM;
        size_t before = s->list.count;
        add_candidate(&s->list, name.value, name.length,
                      has_priority && priority.length == 1 ? priority.value[0] : 0,
                      has_label ? label.value : NULL, has_label ? label.length : 0);
        if (s->list.count == before)
            break; /* the card repeats itself or the list is full */
        stash_fci(s, name.value, name.length);
    }
    return 0;
}

/* Fallback when no directory led to an application: partial selection by each
 * known RID in preference order, then each known full AID not yet tried. */
static int try_known_aids(struct emv_session *s, int *best, struct cf_emv_card *card)
{
    for (size_t i = 0; i < COUNT_OF(known_rids) && !settled(*best); i++) {
        int rc = enumerate_rid(s, known_rids[i].rid, sizeof known_rids[i].rid, best);
        if (rc)
            return rc;
        rc = try_list(s, best, card);
        if (rc != EMV_NOT_FOUND)
            return rc;
    }
    for (size_t i = 0; i < COUNT_OF(known_aids) && !settled(*best); i++) {
        if (was_tried(s, known_aids[i].aid, known_aids[i].len))
            continue;
        memset(&s->list, 0, sizeof s->list);
        add_candidate(&s->list, known_aids[i].aid, known_aids[i].len, 0, NULL, 0);
        int rc = try_list(s, best, card);
        if (rc != EMV_NOT_FOUND)
            return rc;
    }
    return EMV_NOT_FOUND;
}

/* The whole selection: directories first, then the fallback. */
static int read_card(struct emv_session *s, struct cf_emv_card *card)
{
    int best = EMV_NOT_FOUND;
    int rc = read_ppse(s);
    if (!rc && s->list.count == 0)
        rc = read_pse(s);
    if (rc)
        return rc;
    rc = try_list(s, &best, card);
    if (rc != EMV_NOT_FOUND)
        return rc;
    if (!settled(best)) {
        rc = try_known_aids(s, &best, card);
        if (rc != EMV_NOT_FOUND)
            return rc;
    }
    return best == EMV_NOT_FOUND ? CF_ECARD_UNKNOWN : best;
}

/* ==== Public API ==== */

const char *cf_scheme_name(enum cf_scheme scheme)
{
    switch (scheme) {
    case CF_SCHEME_MIR:
        return "mir";
    case CF_SCHEME_VISA:
        return "visa";
    case CF_SCHEME_MASTERCARD:
        return "mastercard";
    case CF_SCHEME_MAESTRO:
        return "maestro";
    case CF_SCHEME_UNIONPAY:
        return "unionpay";
    case CF_SCHEME_AMEX:
        return "amex";
    case CF_SCHEME_JCB:
        return "jcb";
    case CF_SCHEME_INTERAC:
        return "interac";
    case CF_SCHEME_OTHER:
        return "other";
    case CF_SCHEME_UNKNOWN:
    default:
        return "unknown";
    }
}

void cf_emv_terminal_defaults(struct cf_emv_terminal *terminal, int64_t now_utc_ms)
{
    if (!terminal)
        return;
    memset(terminal, 0, sizeof *terminal);
    terminal->ttq[0] = 0x36;
    terminal->ttq[1] = 0x00;
    terminal->ttq[2] = 0x40;
    terminal->ttq[3] = 0x00;
    terminal->amount_minor = 0;
    terminal->country_code = 643;
    terminal->currency_code = 643;
    if (now_utc_ms < 0)
        now_utc_ms = 0;
    cf_time_civil_date(now_utc_ms, &terminal->year, &terminal->month, &terminal->day);
}

int cf_emv_read(cf_transceive_fn transceive, void *ctx, const struct cf_emv_terminal *terminal,
                struct cf_emv_card *card)
{
    return cf_emv_read_proof(transceive, ctx, terminal, card, NULL, NULL, 0);
}

int cf_emv_read_proof(cf_transceive_fn transceive, void *ctx,
                      const struct cf_emv_terminal *terminal, struct cf_emv_card *card,
                      struct cf_card_proof *proof, char *note, size_t note_size)
{
    if (proof)
        memset(proof, 0, sizeof *proof);
    if (note && note_size)
        note[0] = '\0';
    if (!card)
        return CF_EINVAL;
    cf_emv_card_wipe(card);
    if (!transceive)
        return CF_EINVAL;
    struct cf_emv_terminal defaults;
    if (!terminal) {
        cf_emv_terminal_defaults(&defaults, 0);
        terminal = &defaults;
    }
    /* About 6 KiB: kept on the stack so a read allocates nothing. */
    struct emv_session s;
    memset(&s, 0, sizeof s);
    s.transceive = transceive;
    s.ctx = ctx;
    s.terminal = terminal;
    if (proof) {
        s.oda = malloc(sizeof *s.oda);
        if (!s.oda)
            return CF_ENOMEM;
        memset(s.oda, 0, sizeof *s.oda);
        s.oda->proof = proof;
        s.oda->note = note;
        s.oda->note_size = note_size;
    }
    int rc = read_card(&s, card);
    if (s.oda) {
        OPENSSL_cleanse(s.oda, sizeof *s.oda);
        free(s.oda);
    }
    OPENSSL_cleanse(&s, sizeof s);
    if (rc) {
        cf_emv_card_wipe(card);
        if (proof)
            memset(proof, 0, sizeof *proof);
    }
    return rc;
}

void cf_emv_card_wipe(struct cf_emv_card *card)
{
    if (card)
        OPENSSL_cleanse(card, sizeof *card);
}
