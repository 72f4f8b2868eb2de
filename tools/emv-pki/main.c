/* carefact-emv-pki: the test PKI for EMV offline data authentication on the command line
 * (README.md). Keys are PEM files; certificates and signatures are printed as hex.
 * Exit status: 0 done, 1 a key or file cannot be made or read, 2 bad options. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cf/codec.h"
#include "emv_pki.h"

static const char usage[] =
    "usage: carefact-emv-pki COMMAND [OPTIONS]\n"
    "  ca      --key FILE --rid HEX --index HEX [--bits N]   make a CA key (default 1408\n"
    "          bits), print its --emv-ca-keys line\n"
    "  ca-line --key FILE --rid HEX --index HEX             the line of an existing CA key\n"
    "  key     --key FILE [--bits N]                        make an issuer or card key\n"
    "  issuer-cert --ca FILE --issuer FILE --issuer-id DIGITS --expiry MMYY\n"
    "  icc-cert    --issuer FILE --icc FILE --pan DIGITS --expiry MMYY --static-data HEX\n"
    "  ssad        --issuer FILE --static-data HEX [--dac HEX]\n"
    "  sdad        --icc FILE --dynamic HEX --terminal-data HEX\n"
    "  proof   --ca FILE --issuer FILE [--icc FILE] --rid HEX --index HEX --aid HEX\n"
    "          --pan DIGITS --expiry MMYY --kind dda|fdda|cda|sda|none --challenge HEX\n"
    "          [--seq N] [--fault issuer_expired|icc_expired|pan_mismatch|wrong_ca_index|\n"
    "          ignore_challenge|corrupt_issuer_cert|corrupt_icc_cert]...\n"
    "          print the card's proof as the event's card.proof JSON\n";

struct options {
    const char *key, *ca, *issuer, *icc, *rid, *index, *issuer_id, *expiry, *pan, *aid;
    const char *static_data, *dac, *dynamic, *terminal_data, *kind, *challenge;
    unsigned bits;
    unsigned long seq;
    struct pki_faults faults;
};

static int bad(const char *what, const char *arg)
{
    fprintf(stderr, "carefact-emv-pki: %s%s%s\n%s", what, arg ? ": " : "", arg ? arg : "", usage);
    return 2;
}

static int set_fault(struct pki_faults *f, const char *name)
{
    struct {
        const char *name;
        bool *flag;
    } all[] = {{"issuer_expired", &f->issuer_expired},
               {"icc_expired", &f->icc_expired},
               {"pan_mismatch", &f->pan_mismatch},
               {"wrong_ca_index", &f->wrong_ca_index},
               {"ignore_challenge", &f->ignore_challenge},
               {"corrupt_issuer_cert", &f->corrupt_issuer_cert},
               {"corrupt_icc_cert", &f->corrupt_icc_cert}};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(all[i].name, name) == 0) {
            *all[i].flag = true;
            return 0;
        }
    }
    return -1;
}

static int parse_number(const char *text, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || !end || *end || end == text || v > max || text[0] == '-')
        return -1;
    *out = v;
    return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    struct {
        const char *name;
        const char **slot;
    } strings[] = {{"--key", &o->key},
                   {"--ca", &o->ca},
                   {"--issuer", &o->issuer},
                   {"--icc", &o->icc},
                   {"--rid", &o->rid},
                   {"--index", &o->index},
                   {"--issuer-id", &o->issuer_id},
                   {"--expiry", &o->expiry},
                   {"--pan", &o->pan},
                   {"--aid", &o->aid},
                   {"--static-data", &o->static_data},
                   {"--dac", &o->dac},
                   {"--dynamic", &o->dynamic},
                   {"--terminal-data", &o->terminal_data},
                   {"--kind", &o->kind},
                   {"--challenge", &o->challenge}};
    for (int i = 2; i < argc; i += 2) {
        if (i + 1 >= argc)
            return bad("option without a value", argv[i]);
        const char *value = argv[i + 1];
        bool known = false;
        for (size_t k = 0; k < sizeof strings / sizeof strings[0]; k++) {
            if (strcmp(argv[i], strings[k].name) == 0) {
                *strings[k].slot = value;
                known = true;
            }
        }
        unsigned long n;
        if (strcmp(argv[i], "--bits") == 0) {
            if (parse_number(value, 1984, &n))
                return bad("--bits must be 512..1984", value);
            o->bits = (unsigned)n;
            known = true;
        } else if (strcmp(argv[i], "--seq") == 0) {
            if (parse_number(value, 0xFFFFFFFFul, &n))
                return bad("--seq must be 0..4294967295", value);
            o->seq = n;
            known = true;
        } else if (strcmp(argv[i], "--fault") == 0) {
            if (set_fault(&o->faults, value))
                return bad("unknown fault", value);
            known = true;
        }
        if (!known)
            return bad("unknown option", argv[i]);
    }
    return 0;
}

/* Hex option into out; required or not. */
static int hex_option(const char *name, const char *text, uint8_t *out, size_t cap, size_t *len,
                      size_t want)
{
    if (!text)
        return bad("missing option", name);
    if (cf_hex_decode(text, strlen(text), out, cap, len) || (want && *len != want))
        return bad("bad hex value of", name);
    return 0;
}

static int load(const char *name, const char *path, EVP_PKEY **key)
{
    if (!path)
        return bad("missing option", name);
    if (pki_key_read(path, key)) {
        fprintf(stderr, "carefact-emv-pki: cannot read the key %s\n", path);
        return 1;
    }
    return 0;
}

static void print_hex(const char *label, const uint8_t *data, size_t len)
{
    char text[2 * PKI_STATIC_MAX + 1];
    cf_hex_encode(data, len, text, sizeof text);
    if (label)
        printf("%s %s\n", label, text);
    else
        printf("%s", text);
}

static void print_certificate(const struct pki_certificate *c)
{
    print_hex("cert", c->cert.data, c->cert.len);
    print_hex("rem", c->rem.data, c->rem.len);
    print_hex("exp", c->exp.data, c->exp.len);
}

static int cmd_key(const struct options *o, bool ca, bool generate)
{
    EVP_PKEY *key = NULL;
    uint8_t rid[CF_ODA_RID_LEN], index[1];
    size_t n;
    int rc;
    if (!o->key)
        return bad("missing option", "--key");
    if (ca && ((rc = hex_option("--rid", o->rid, rid, sizeof rid, &n, sizeof rid)) ||
               (rc = hex_option("--index", o->index, index, 1, &n, 1))))
        return rc;
    if (generate) {
        unsigned bits = o->bits ? o->bits : (ca ? 1408 : 1024);
        if (pki_key_generate(bits, &key) || pki_key_write(key, o->key)) {
            fprintf(stderr, "carefact-emv-pki: cannot make the key %s\n", o->key);
            EVP_PKEY_free(key);
            return 1;
        }
    } else if ((rc = load("--key", o->key, &key))) {
        return rc;
    }
    rc = 0;
    if (ca) {
        char line[PKI_CA_LINE_MAX];
        rc = pki_ca_line(key, rid, index[0], line, sizeof line) ? 1 : 0;
        if (!rc)
            printf("%s\n", line);
    }
    EVP_PKEY_free(key);
    return rc;
}

static int cmd_certificate(const struct options *o, bool icc)
{
    EVP_PKEY *signer = NULL, *subject = NULL;
    static uint8_t static_data[PKI_STATIC_MAX];
    static struct pki_certificate cert;
    size_t static_len = 0;
    int rc = icc ? load("--issuer", o->issuer, &signer) : load("--ca", o->ca, &signer);
    if (!rc)
        rc = icc ? load("--icc", o->icc, &subject) : load("--issuer", o->issuer, &subject);
    if (!rc && icc)
        rc = hex_option("--static-data", o->static_data, static_data, sizeof static_data,
                        &static_len, 0);
    if (!rc && !o->expiry)
        rc = bad("missing option", "--expiry");
    if (!rc && !(icc ? o->pan : o->issuer_id))
        rc = bad("missing option", icc ? "--pan" : "--issuer-id");
    if (!rc) {
        int made =
            icc ? pki_issue_icc(signer, subject, o->pan, o->expiry, static_data, static_len, &cert)
                : pki_issue_issuer(signer, subject, o->issuer_id, o->expiry, &cert);
        rc = made ? bad("cannot issue the certificate (check digits and MMYY)", NULL) : 0;
    }
    if (!rc)
        print_certificate(&cert);
    EVP_PKEY_free(subject);
    EVP_PKEY_free(signer);
    return rc;
}

static int cmd_sign(const struct options *o, bool dynamic)
{
    EVP_PKEY *signer = NULL;
    static uint8_t data[PKI_STATIC_MAX], extra[PKI_FIELD_MAX];
    static struct pki_bytes out;
    size_t len = 0, extra_len = 0;
    uint8_t dac[2] = {0xDA, 0xC1};
    int rc = dynamic ? load("--icc", o->icc, &signer) : load("--issuer", o->issuer, &signer);
    if (!rc && dynamic)
        rc = hex_option("--dynamic", o->dynamic, data, 255, &len, 0);
    if (!rc && dynamic)
        rc = hex_option("--terminal-data", o->terminal_data, extra, sizeof extra, &extra_len, 0);
    if (!rc && !dynamic)
        rc = hex_option("--static-data", o->static_data, data, sizeof data, &len, 0);
    if (!rc && !dynamic && o->dac)
        rc = hex_option("--dac", o->dac, dac, sizeof dac, &extra_len, 2);
    if (!rc) {
        int made = dynamic ? pki_sign_sdad(signer, data, len, extra, extra_len, &out)
                           : pki_sign_ssad(signer, dac, data, len, &out);
        rc = made ? bad("cannot sign (data longer than the key allows?)", NULL) : 0;
    }
    if (!rc)
        print_hex(NULL, out.data, out.len), printf("\n");
    EVP_PKEY_free(signer);
    return rc;
}

static int parse_kind(const char *name, enum cf_oda_kind *kind)
{
    static const enum cf_oda_kind all[] = {CF_ODA_KIND_NONE, CF_ODA_KIND_SDA, CF_ODA_KIND_DDA,
                                           CF_ODA_KIND_FDDA, CF_ODA_KIND_CDA};
    for (size_t i = 0; name && i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(name, cf_oda_kind_name(all[i])) == 0) {
            *kind = all[i];
            return 0;
        }
    }
    return -1;
}

static void print_proof(const struct pki_proof *p)
{
    struct {
        const char *name;
        const struct pki_bytes *b;
    } fields[] = {{"aid", &p->aid},
                  {"aip", &p->aip},
                  {"ca_index", &p->ca_index},
                  {"issuer_cert", &p->issuer_cert},
                  {"issuer_exp", &p->issuer_exp},
                  {"issuer_rem", &p->issuer_rem},
                  {"icc_cert", &p->icc_cert},
                  {"icc_exp", &p->icc_exp},
                  {"icc_rem", &p->icc_rem},
                  {"ssad", &p->ssad},
                  {"sdad", &p->sdad},
                  {"ddol", &p->ddol},
                  {"terminal_data", &p->terminal_data},
                  {"tx_data", &p->tx_data}};
    printf("{\"kind\":\"%s\"", cf_oda_kind_name(p->kind));
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        bool always = i < 2;
        if (p->kind == CF_ODA_KIND_NONE && !always)
            break;
        if (strcmp(fields[i].name, "ssad") == 0) {
            printf(",\"static_data\":\"");
            print_hex(NULL, p->static_data, p->static_len);
            printf("\"");
        }
        if (!always && fields[i].b->len == 0 && strcmp(fields[i].name, "issuer_rem") &&
            strcmp(fields[i].name, "icc_rem"))
            continue;
        if (strncmp(fields[i].name, "icc_", 4) == 0 && p->kind == CF_ODA_KIND_SDA)
            continue;
        printf(",\"%s\":\"", fields[i].name);
        print_hex(NULL, fields[i].b->data, fields[i].b->len);
        printf("\"");
    }
    printf("}\n");
}

static int cmd_proof(const struct options *o)
{
    static struct pki_card card;
    static struct pki_proof proof;
    uint8_t challenge[CF_ODA_CHALLENGE_LEN], index[1];
    size_t n;
    enum cf_oda_kind kind;
    int rc;
    memset(&card, 0, sizeof card);
    card.faults = o->faults;
    if (parse_kind(o->kind, &kind))
        return bad("--kind must be dda, fdda, cda, sda or none", o->kind);
    if ((rc = hex_option("--challenge", o->challenge, challenge, sizeof challenge, &n,
                         sizeof challenge)) ||
        (rc = hex_option("--aid", o->aid, card.aid, sizeof card.aid, &card.aid_len, 0)))
        return rc;
    if (kind != CF_ODA_KIND_NONE &&
        ((rc = hex_option("--rid", o->rid, card.rid, sizeof card.rid, &n, sizeof card.rid)) ||
         (rc = hex_option("--index", o->index, index, 1, &n, 1)) ||
         (rc = load("--ca", o->ca, &card.ca)) || (rc = load("--issuer", o->issuer, &card.issuer))))
        goto out;
    card.ca_index = index[0];
    bool dynamic = kind == CF_ODA_KIND_DDA || kind == CF_ODA_KIND_FDDA || kind == CF_ODA_KIND_CDA;
    if (dynamic && (rc = load("--icc", o->icc, &card.icc)))
        goto out;
    if (!o->pan || strlen(o->pan) > CF_ODA_PAN_MAX || !o->expiry || strlen(o->expiry) != 4) {
        rc = bad("--pan (12..19 digits) and --expiry MMYY are required", NULL);
        goto out;
    }
    snprintf(card.pan, sizeof card.pan, "%s", o->pan);
    snprintf(card.expiry, sizeof card.expiry, "%s", o->expiry);
    if (pki_card_proof(&card, kind, challenge, (uint32_t)o->seq, &proof)) {
        rc = bad("cannot make the proof (check the PAN, expiry and key sizes)", NULL);
        goto out;
    }
    print_proof(&proof);
out:
    EVP_PKEY_free(card.icc);
    EVP_PKEY_free(card.issuer);
    EVP_PKEY_free(card.ca);
    OPENSSL_cleanse(&card, sizeof card);
    return rc;
}

int main(int argc, char **argv)
{
    struct options o;
    memset(&o, 0, sizeof o);
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    int rc = parse_options(argc, argv, &o);
    if (rc)
        return rc;
    const char *cmd = argv[1];
    if (strcmp(cmd, "ca") == 0)
        return cmd_key(&o, true, true);
    if (strcmp(cmd, "ca-line") == 0)
        return cmd_key(&o, true, false);
    if (strcmp(cmd, "key") == 0)
        return cmd_key(&o, false, true);
    if (strcmp(cmd, "issuer-cert") == 0)
        return cmd_certificate(&o, false);
    if (strcmp(cmd, "icc-cert") == 0)
        return cmd_certificate(&o, true);
    if (strcmp(cmd, "ssad") == 0)
        return cmd_sign(&o, false);
    if (strcmp(cmd, "sdad") == 0)
        return cmd_sign(&o, true);
    if (strcmp(cmd, "proof") == 0)
        return cmd_proof(&o);
    return bad("unknown command", cmd);
}
