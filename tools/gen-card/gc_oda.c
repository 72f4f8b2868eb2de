/* Offline data authentication on synthetic cards: the certifying build step and the
 * live card that signs (see gc_oda.h). The issuing itself is tools/emv-pki's. */
#include "gc_oda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cf/codec.h"
#include "cf/tlv.h"
#include "emv_pki.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))
#define ODA_RECORD_MAX 240 /* object bytes per certificate record (a 256-byte answer) */
#define ODA_SFI 3 /* the certificate records' file: not signed */
#define DOL_MAX 252

static const char *const kind_names[] = {
    [GC_ODA_SDA] = "sda", [GC_ODA_DDA] = "dda", [GC_ODA_FDDA] = "fdda", [GC_ODA_CDA] = "cda"};

int gc_oda_kind_parse(const char *name, enum gc_oda_kind *kind)
{
    for (size_t i = 1; name && i < COUNT_OF(kind_names); i++)
        if (strcmp(name, kind_names[i]) == 0) {
            *kind = (enum gc_oda_kind)i;
            return 0;
        }
    return CF_EINVAL;
}

const char *gc_oda_kind_name(enum gc_oda_kind kind)
{
    return kind > GC_ODA_NONE && kind <= GC_ODA_CDA ? kind_names[kind] : "none";
}

int gc_oda_fault_parse(const char *name, struct gc_oda_faults *f)
{
    if (!name)
        return CF_EINVAL;
    if (strcmp(name, "issuer_expired") == 0)
        f->issuer_expired = true;
    else if (strcmp(name, "pan_mismatch") == 0)
        f->pan_mismatch = true;
    else if (strcmp(name, "wrong_ca_index") == 0)
        f->wrong_ca_index = true;
    else if (strcmp(name, "ignore_challenge") == 0)
        f->ignore_challenge = true;
    else if (strcmp(name, "replay") == 0)
        f->replay = true;
    else
        return CF_EINVAL;
    return 0;
}

/* ==== Build ==== */

static int add(struct gc_object_list *list, uint32_t tag, const uint8_t *value, size_t len)
{
    if (list->count >= GC_OBJECTS_MAX || len > GC_VALUE_MAX)
        return CF_ETOOBIG;
    struct gc_object *o = &list->items[list->count++];
    o->tag = tag;
    o->len = len;
    memcpy(o->value, value, len);
    return 0;
}

static size_t object_size(uint32_t tag, size_t len)
{
    size_t tag_bytes = tag > 0xFFFF ? 3 : tag > 0xFF ? 2 : 1;
    return tag_bytes + (len > 0xFF ? 3 : len > 0x7F ? 2 : 1) + len;
}

/* Certificate objects go into records of SFI 3, as many as they need. */
struct packer {
    struct gc_card *card;
    struct gc_record *current;
    size_t used;
};

static int pack(struct packer *p, uint32_t tag, const uint8_t *value, size_t len)
{
    if (len == 0)
        return 0;
    size_t size = object_size(tag, len);
    if (!p->current || p->used + size > ODA_RECORD_MAX ||
        p->current->objects.count >= GC_OBJECTS_MAX) {
        if (p->card->record_count >= GC_RECORDS_MAX)
            return CF_ETOOBIG;
        uint8_t number = p->current ? (uint8_t)(p->current->number + 1) : 1;
        p->current = &p->card->records[p->card->record_count++];
        memset(p->current, 0, sizeof *p->current);
        p->current->sfi = ODA_SFI;
        p->current->number = number;
        p->used = 0;
    }
    p->used += size;
    return add(&p->current->objects, tag, value, len);
}

static const uint8_t *find_object(const struct gc_object_list *list, uint32_t tag, size_t *len)
{
    for (size_t i = 0; i < list->count; i++)
        if (list->items[i].tag == tag) {
            *len = list->items[i].len;
            return list->items[i].value;
        }
    return NULL;
}

static const uint8_t *find_in_records(const struct gc_card *card, uint32_t tag, size_t *len)
{
    for (size_t r = 0; r < card->record_count; r++) {
        const uint8_t *v = find_object(&card->records[r].objects, tag, len);
        if (v)
            return v;
    }
    return NULL;
}

/* Book 3 10.3 over the model: the signed records' objects (SFI 1..10: without the
 * template), then the AIP (9F4A = 82). */
static int static_data(const struct gc_card *card, uint8_t *out, size_t size, size_t *len)
{
    size_t n = 0;
    for (size_t r = 0; r < card->record_count; r++) {
        if (!card->records[r].signed_by_oda)
            continue;
        size_t got = 0;
        int rc = gc_record_content(card, r, out + n, size - n, &got);
        if (rc)
            return rc;
        n += got;
    }
    if (size - n < 2)
        return CF_ETOOBIG;
    memcpy(out + n, card->aip, 2);
    *len = n + 2;
    return 0;
}

static void hex(const uint8_t *data, size_t len, char *out, size_t size)
{
    if (cf_hex_encode(data, len, out, size))
        out[0] = '\0';
}

/* The "# live:" line: method, key file, the DOLs the live card finds the UN through. */
static void live_line(struct gc_card *card, const struct gc_oda_options *o)
{
    char pdol[2 * DOL_MAX + 1] = "", cdol1[2 * DOL_MAX + 1] = "";
    size_t len = 0;
    const uint8_t *v = find_object(&card->fci, 0x9F38, &len);
    if (v)
        hex(v, len, pdol, sizeof pdol);
    v = find_in_records(card, 0x8C, &len);
    if (v)
        hex(v, len, cdol1, sizeof cdol1);
    snprintf(card->live, sizeof card->live, "kind=%s key=%s ddol=9f3704%s%s%s%s%s%s",
             gc_oda_kind_name(o->kind), o->key_name ? o->key_name : "", pdol[0] ? " pdol=" : "",
             pdol, cdol1[0] ? " cdol1=" : "", cdol1,
             o->faults.ignore_challenge ? " ignore_challenge" : "",
             o->faults.replay ? " replay" : "");
}

/* fDDA: 9F69 (version 01, a card number, CTQ) and the "recorded" 9F4B in the GPO
 * answer, signed over the UN 00000000, amount 0 and currency 643. */
static int add_fdda(struct gc_card *card, EVP_PKEY *icc)
{
    uint8_t auth[7] = {0x01, 0, 0, 0, 0, 0x00, 0x00};
    for (int i = 0; i < 4; i++)
        auth[1 + i] = (uint8_t)(card->seed >> (8 * i));
    uint8_t terminal[4 + 6 + 2 + sizeof auth] = {0};
    terminal[10] = 0x06;
    terminal[11] = 0x43;
    memcpy(terminal + 12, auth, sizeof auth);
    static const uint8_t dynamic[] = {0x04, 0x00, 0x00, 0x00, 0x01};
    struct pki_bytes *sdad = malloc(sizeof *sdad);
    if (!sdad)
        return CF_ENOMEM;
    int rc = pki_sign_sdad(icc, dynamic, sizeof dynamic, terminal, sizeof terminal, sdad);
    if (!rc)
        rc = add(&card->gpo, 0x9F69, auth, sizeof auth);
    if (!rc)
        rc = add(&card->gpo, 0x9F4B, sdad->data, sdad->len);
    free(sdad);
    return rc;
}

int gc_card_add_oda(struct gc_card *card, const struct gc_oda_options *o, struct cf_error_detail *d)
{
    if (!card || !o || o->kind <= GC_ODA_NONE || o->kind > GC_ODA_CDA || !o->ca || !o->issuer ||
        (o->kind != GC_ODA_SDA && !o->icc))
        return cf_error_set(d, CF_EINVAL, "oda", "--oda needs a method and the keys");
    if (o->kind == GC_ODA_FDDA && (card->layout.gpo_format != 2 || !card->layout.pdol))
        return cf_error_set(d, CF_EINVAL, "layout",
                            "--oda fdda needs gpo=2 and pdol=yes (the UN reaches the card in "
                            "the PDOL, the signature comes back in the GPO answer)");
    static const uint8_t aip_bit[] = {
        [GC_ODA_SDA] = 0x40, [GC_ODA_DDA] = 0x20, [GC_ODA_FDDA] = 0x20, [GC_ODA_CDA] = 0x01};
    card->aip[0] = aip_bit[o->kind];
    for (size_t r = 0; r < card->record_count; r++)
        card->records[r].signed_by_oda = true;

    struct pki_certificate *issuer = calloc(2, sizeof *issuer), *icc = issuer ? issuer + 1 : NULL;
    struct pki_bytes *ssad = malloc(sizeof *ssad);
    uint8_t *sd = malloc(GC_RECORDS_MAX * 258 + 2);
    size_t sd_len = 0;
    int rc = issuer && ssad && sd ? 0 : CF_ENOMEM;
    char issuer_id[7], expiry[16];
    snprintf(issuer_id, sizeof issuer_id, "%.6s", card->pan);
    if (o->faults.pan_mismatch)
        issuer_id[5] = (char)('0' + (issuer_id[5] - '0' + 1) % 10);
    snprintf(expiry, sizeof expiry, "%02d%02d", card->expiry_month % 100, card->expiry_year % 100);
    if (!rc)
        rc = static_data(card, sd, GC_RECORDS_MAX * 258 + 2, &sd_len);
    if (!rc)
        rc = pki_issue_issuer(o->ca, o->issuer, issuer_id,
                              o->faults.issuer_expired ? "0120" : expiry, issuer);
    if (!rc && o->kind == GC_ODA_SDA) {
        static const uint8_t dac[2] = {0xDA, 0xC0};
        rc = pki_sign_ssad(o->issuer, dac, sd, sd_len, ssad);
    } else if (!rc) {
        rc = pki_issue_icc(o->issuer, o->icc, card->pan, expiry, sd, sd_len, icc);
    }
    struct packer p = {card, NULL, 0};
    uint8_t index = (uint8_t)(o->ca_index + (o->faults.wrong_ca_index ? 1 : 0));
    static const uint8_t tag_list[] = {0x82}, ddol[] = {0x9F, 0x37, 0x04};
    if (!rc)
        rc = pack(&p, 0x8F, &index, 1);
    if (!rc)
        rc = pack(&p, 0x9F32, issuer->exp.data, issuer->exp.len);
    if (!rc)
        rc = pack(&p, 0x9F4A, tag_list, sizeof tag_list);
    if (!rc)
        rc = pack(&p, 0x90, issuer->cert.data, issuer->cert.len);
    if (!rc)
        rc = pack(&p, 0x92, issuer->rem.data, issuer->rem.len);
    if (!rc && o->kind == GC_ODA_SDA) {
        rc = pack(&p, 0x93, ssad->data, ssad->len);
    } else if (!rc) {
        rc = pack(&p, 0x9F47, icc->exp.data, icc->exp.len);
        if (!rc && o->kind == GC_ODA_DDA)
            rc = pack(&p, 0x9F49, ddol, sizeof ddol);
        if (!rc)
            rc = pack(&p, 0x9F46, icc->cert.data, icc->cert.len);
        if (!rc)
            rc = pack(&p, 0x9F48, icc->rem.data, icc->rem.len);
    }
    if (!rc && o->kind == GC_ODA_FDDA)
        rc = add_fdda(card, o->icc);
    if (!rc)
        rc = gc_card_finish(card);
    if (!rc && o->kind != GC_ODA_SDA)
        live_line(card, o);
    free(issuer);
    free(ssad);
    free(sd);
    if (rc == CF_ETOOBIG)
        return cf_error_set(d, rc, "oda", "the certificates do not fit the card's records");
    if (rc)
        return cf_error_set(d, rc, "oda", "the card cannot be certified (%s)", cf_strerror(rc));
    return 0;
}

/* ==== The live card ==== */

struct gc_live {
    enum gc_oda_kind kind;
    EVP_PKEY *icc;
    bool ignore_challenge, replay;
    uint8_t ddol[DOL_MAX], pdol[DOL_MAX], cdol1[DOL_MAX];
    size_t ddol_len, pdol_len, cdol1_len;
    uint8_t pdol_data[256]; /* what the last GPO carried */
    size_t pdol_data_len;
    uint32_t counter; /* ICC dynamic number and ATC */
    struct pki_bytes cached; /* replay: the first signature */
    bool have_cached;
};

static int parse_hex_value(const char *text, size_t len, uint8_t *out, size_t size, size_t *n)
{
    return cf_hex_decode(text, len, out, size, n) ? CF_EMALFORM : 0;
}

int gc_live_load(const char *text, size_t len, const char *dir, struct gc_live **out,
                 struct cf_error_detail *d)
{
    static const char marker[] = "# live: ";
    *out = NULL;
    const char *line = NULL;
    for (size_t i = 0; i + sizeof marker - 1 <= len; i++)
        if ((i == 0 || text[i - 1] == '\n') && memcmp(text + i, marker, sizeof marker - 1) == 0) {
            line = text + i + sizeof marker - 1;
            break;
        }
    if (!line)
        return 0;
    const char *end = memchr(line, '\n', len - (size_t)(line - text));
    if (!end)
        end = text + len;
    struct gc_live *live = calloc(1, sizeof *live);
    if (!live)
        return CF_ENOMEM;
    char key[512] = "";
    int rc = 0;
    for (const char *t = line; !rc && t < end;) {
        while (t < end && *t == ' ')
            t++;
        const char *w = t;
        while (t < end && *t != ' ' && *t != '\r')
            t++;
        size_t n = (size_t)(t - w);
        if (t < end && *t == '\r')
            t++;
        if (n == 0)
            continue;
        if (n > 5 && memcmp(w, "kind=", 5) == 0) {
            char name[8];
            snprintf(name, sizeof name, "%.*s", (int)(n - 5), w + 5);
            rc = gc_oda_kind_parse(name, &live->kind) ? CF_EMALFORM : 0;
        } else if (n > 4 && memcmp(w, "key=", 4) == 0 && n - 4 < 256) {
            snprintf(key, sizeof key, "%s/%.*s", dir && dir[0] ? dir : ".", (int)(n - 4), w + 4);
        } else if (n > 5 && memcmp(w, "ddol=", 5) == 0) {
            rc = parse_hex_value(w + 5, n - 5, live->ddol, DOL_MAX, &live->ddol_len);
        } else if (n > 5 && memcmp(w, "pdol=", 5) == 0) {
            rc = parse_hex_value(w + 5, n - 5, live->pdol, DOL_MAX, &live->pdol_len);
        } else if (n > 6 && memcmp(w, "cdol1=", 6) == 0) {
            rc = parse_hex_value(w + 6, n - 6, live->cdol1, DOL_MAX, &live->cdol1_len);
        } else if (n == 16 && memcmp(w, "ignore_challenge", 16) == 0) {
            live->ignore_challenge = true;
        } else if (n == 6 && memcmp(w, "replay", 6) == 0) {
            live->replay = true;
        } else {
            rc = CF_EMALFORM;
        }
    }
    if (!rc && (live->kind == GC_ODA_NONE || live->kind == GC_ODA_SDA || !key[0]))
        rc = CF_EMALFORM;
    if (rc) {
        free(live);
        return cf_error_set(d, CF_EMALFORM, "live",
                            "the '# live:' line must be kind=dda|fdda|cda key=FILE [ddol=HEX] "
                            "[pdol=HEX] [cdol1=HEX] [ignore_challenge] [replay]");
    }
    if (pki_key_read(key, &live->icc)) {
        free(live);
        return cf_error_set(d, CF_ECRYPTO, "live", "the card's key %s cannot be read", key);
    }
    *out = live;
    return 0;
}

void gc_live_free(struct gc_live *live)
{
    if (!live)
        return;
    EVP_PKEY_free(live->icc);
    free(live);
}

void gc_live_reset(struct gc_live *live)
{
    if (live)
        live->pdol_data_len = 0;
}

/* Where tag's value sits in data filled for dol; false when the DOL does not ask for
 * it with length want. */
struct dol_find {
    uint32_t tag;
    size_t want, at, offset;
    bool found;
};

static int dol_find_entry(void *ctx, uint32_t tag, size_t length)
{
    struct dol_find *f = ctx;
    if (tag == f->tag && length == f->want && !f->found) {
        f->offset = f->at;
        f->found = true;
    }
    f->at += length;
    return 0;
}

static bool dol_offset(const uint8_t *dol, size_t dol_len, uint32_t tag, size_t want,
                       size_t data_len, size_t *offset)
{
    struct dol_find f = {tag, want, 0, 0, false};
    if (cf_dol_parse(dol, dol_len, dol_find_entry, &f) || !f.found || f.offset + want > data_len)
        return false;
    *offset = f.offset;
    return true;
}

static void put_tlv(uint8_t *out, size_t *n, uint32_t tag, const uint8_t *value, size_t len)
{
    if (tag > 0xFF)
        out[(*n)++] = (uint8_t)(tag >> 8);
    out[(*n)++] = (uint8_t)tag;
    if (len > 0x7F)
        out[(*n)++] = 0x81;
    out[(*n)++] = (uint8_t)len;
    memcpy(out + *n, value, len);
    *n += len;
}

static long status(uint8_t *out, size_t size, uint16_t sw)
{
    if (size < 2)
        return CF_ENOSPACE;
    out[0] = (uint8_t)(sw >> 8);
    out[1] = (uint8_t)sw;
    return 2;
}

/* Sign icc_dynamic ‖ terminal data, or hand back the first signature (replay). */
static int live_sign(struct gc_live *live, const uint8_t *dynamic, size_t dynamic_len,
                     uint8_t *terminal, size_t terminal_len, size_t un_offset,
                     struct pki_bytes *sdad)
{
    if (live->replay && live->have_cached) {
        *sdad = live->cached;
        return 0;
    }
    if (live->ignore_challenge && un_offset + 4 <= terminal_len)
        memset(terminal + un_offset, 0, 4);
    int rc = pki_sign_sdad(live->icc, dynamic, dynamic_len, terminal, terminal_len, sdad);
    if (!rc && live->replay) {
        live->cached = *sdad;
        live->have_cached = true;
    }
    return rc;
}

static void dynamic_number(struct gc_live *live, uint8_t out[5])
{
    live->counter++;
    out[0] = 0x04;
    for (int i = 0; i < 4; i++)
        out[1 + i] = (uint8_t)(live->counter >> (8 * (3 - i)));
}

/* DDA: INTERNAL AUTHENTICATE, answered in format 1 (80: the SDAD). */
static long answer_internal_authenticate(struct gc_live *live, const uint8_t *apdu, size_t len,
                                         uint8_t *out, size_t size)
{
    if (len < 6 || (size_t)apdu[4] + 5 > len || apdu[4] == 0)
        return status(out, size, 0x6700);
    uint8_t terminal[256], dynamic[5];
    size_t n = apdu[4], un = 0;
    memcpy(terminal, apdu + 5, n);
    if (!dol_offset(live->ddol, live->ddol_len, 0x9F37, 4, n, &un))
        return status(out, size, 0x6A80);
    dynamic_number(live, dynamic);
    struct pki_bytes *sdad = malloc(sizeof *sdad);
    if (!sdad || live_sign(live, dynamic, sizeof dynamic, terminal, n, un, sdad)) {
        free(sdad);
        return status(out, size, 0x6F00);
    }
    size_t k = 0;
    long rc = CF_ENOSPACE;
    if (size >= sdad->len + 5) {
        put_tlv(out, &k, 0x80, sdad->data, sdad->len);
        out[k++] = 0x90;
        out[k++] = 0x00;
        rc = (long)k;
    }
    free(sdad);
    return rc;
}

/* CDA: GENERATE AC with the CDA signature asked for (P1 bit 10): 77 { 9F27, 9F36, 9F4B,
 * 9F10 }, the SDAD over the UN with the transaction data hash code of Book 2 6.6.2. */
static long answer_generate_ac(struct gc_live *live, const uint8_t *apdu, size_t len, uint8_t *out,
                               size_t size)
{
    if (len < 6 || (size_t)apdu[4] + 5 > len)
        return status(out, size, 0x6700);
    if (!(apdu[2] & 0x10))
        return status(out, size, 0x6985); /* this card only answers with CDA */
    const uint8_t *cdol = apdu + 5;
    size_t n = apdu[4], un = 0;
    if (!dol_offset(live->cdol1, live->cdol1_len, 0x9F37, 4, n, &un))
        return status(out, size, 0x6A80);
    uint8_t cid = (uint8_t)(apdu[2] & 0xC0), atc[2], ac[32],
            iad[7] = {0x06, 0x01, 0x0A, 0x03, 0xA0, 0x00, 0x00};
    uint8_t dynamic[5 + 1 + 8 + 20], objects[64], tx[1024], hash[32], terminal[4];
    dynamic_number(live, dynamic);
    atc[0] = (uint8_t)(live->counter >> 8);
    atc[1] = (uint8_t)live->counter;
    unsigned int hl = 0;
    EVP_Digest(cdol, n, ac, &hl, EVP_sha256(), NULL); /* a stand-in cryptogram */
    size_t on = 0, tn = 0;
    put_tlv(objects, &on, 0x9F27, &cid, 1);
    put_tlv(objects, &on, 0x9F36, atc, 2);
    size_t before_sdad = on;
    put_tlv(objects, &on, 0x9F10, iad, sizeof iad);
    memcpy(tx, live->pdol_data, live->pdol_data_len);
    tn = live->pdol_data_len;
    memcpy(tx + tn, cdol, n);
    tn += n;
    memcpy(tx + tn, objects, on);
    tn += on;
    EVP_Digest(tx, tn, hash, &hl, EVP_sha1(), NULL);
    dynamic[5] = cid;
    memcpy(dynamic + 6, ac, 8);
    memcpy(dynamic + 14, hash, 20);
    memcpy(terminal, cdol + un, 4);
    struct pki_bytes *sdad = malloc(sizeof *sdad);
    if (!sdad || live_sign(live, dynamic, sizeof dynamic, terminal, 4, 0, sdad)) {
        free(sdad);
        return status(out, size, 0x6F00);
    }
    uint8_t body[512];
    size_t bn = 0;
    memcpy(body, objects, before_sdad);
    bn = before_sdad;
    put_tlv(body, &bn, 0x9F4B, sdad->data, sdad->len);
    memcpy(body + bn, objects + before_sdad, on - before_sdad);
    bn += on - before_sdad;
    free(sdad);
    size_t k = 0;
    if (size < bn + 5)
        return CF_ENOSPACE;
    put_tlv(out, &k, 0x77, body, bn);
    out[k++] = 0x90;
    out[k++] = 0x00;
    return (long)k;
}

/* fDDA: the transcript's GPO answer with 9F4B signed now over UN ‖ amount ‖ currency ‖
 * 9F69 as the PDOL carried them. */
static long resign_gpo(struct gc_live *live, uint8_t *out, size_t size, long answer)
{
    size_t offset = 0, un = 0, amount = 0, currency = 0;
    struct cf_tlv tpl, item;
    if (answer < 4 || out[answer - 2] != 0x90 ||
        cf_tlv_next(out, (size_t)answer - 2, &offset, &tpl) != 1 || tpl.tag != 0x77)
        return answer;
    const uint8_t *pd = live->pdol_data;
    size_t pl = live->pdol_data_len;
    if (!dol_offset(live->pdol, live->pdol_len, 0x9F37, 4, pl, &un) ||
        !dol_offset(live->pdol, live->pdol_len, 0x9F02, 6, pl, &amount) ||
        !dol_offset(live->pdol, live->pdol_len, 0x5F2A, 2, pl, &currency))
        return status(out, size, 0x6985);
    uint8_t terminal[64], dynamic[5], body[512];
    size_t tn = 0, bn = 0;
    memcpy(terminal, pd + un, 4);
    memcpy(terminal + 4, pd + amount, 6);
    memcpy(terminal + 10, pd + currency, 2);
    tn = 12;
    if (cf_tlv_find(tpl.value, tpl.length, 0x9F69, &item) == 1 && item.length <= 32) {
        memcpy(terminal + tn, item.value, item.length);
        tn += item.length;
    }
    dynamic_number(live, dynamic);
    struct pki_bytes *sdad = malloc(sizeof *sdad);
    if (!sdad || live_sign(live, dynamic, sizeof dynamic, terminal, tn, 0, sdad)) {
        free(sdad);
        return status(out, size, 0x6F00);
    }
    size_t at = 0;
    while (cf_tlv_next(tpl.value, tpl.length, &at, &item) == 1 && bn < 256) {
        if (item.tag == 0x9F4B)
            put_tlv(body, &bn, 0x9F4B, sdad->data, sdad->len);
        else
            put_tlv(body, &bn, item.tag, item.value, item.length);
    }
    free(sdad);
    size_t k = 0;
    if (size < bn + 5 || bn > 255)
        return status(out, size, 0x6F00);
    put_tlv(out, &k, 0x77, body, bn);
    out[k++] = 0x90;
    out[k++] = 0x00;
    return (long)k;
}

long gc_live_answer(struct gc_live *live, struct cf_transcript *transcript, const uint8_t *apdu,
                    size_t apdu_len, uint8_t *out, size_t out_size)
{
    if (!apdu || !out)
        return CF_EINVAL;
    if (live && apdu_len >= 4 && apdu[0] == 0x00 && apdu[1] == 0x88 && live->kind == GC_ODA_DDA)
        return answer_internal_authenticate(live, apdu, apdu_len, out, out_size);
    if (live && apdu_len >= 4 && apdu[0] == 0x80 && apdu[1] == 0xAE && live->kind == GC_ODA_CDA)
        return answer_generate_ac(live, apdu, apdu_len, out, out_size);
    long answer = cf_transcript_answer(transcript, apdu, apdu_len, out, out_size);
    if (live && answer >= 2 && apdu_len >= 7 && apdu[0] == 0x80 && apdu[1] == 0xA8 &&
        apdu[5] == 0x83) {
        size_t at = 7, n = apdu[6];
        if (apdu[6] == 0x81 && apdu_len >= 8) {
            n = apdu[7];
            at = 8;
        }
        live->pdol_data_len = 0;
        if (at + n <= apdu_len && n <= sizeof live->pdol_data) {
            memcpy(live->pdol_data, apdu + at, n);
            live->pdol_data_len = n;
        }
        if (live->kind == GC_ODA_FDDA)
            answer = resign_gpo(live, out, out_size, answer);
    }
    return answer;
}

int gc_live_transceive(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                       size_t resp_size, size_t *resp_len)
{
    struct gc_live_card *card = ctx;
    long n = gc_live_answer(card->live, &card->transcript, cmd, cmd_len, resp, resp_size);
    if (n < 0)
        return CF_ECOMM;
    *resp_len = (size_t)n;
    return 0;
}
