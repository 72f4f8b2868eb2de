/* carefact-gen-card: write a synthetic EMV contactless card as a transcript that
 * tools/pn532-sim replays (see README.md). The same options always give the same
 * file. Exit status: 0 written, 1 the file cannot be written, 2 bad options. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emv_pki.h"
#include "gc_oda.h"
#include "gen_card.h"

#define TRANSCRIPT_MAX (64u * 1024u)

static const char usage[] =
    "usage: carefact-gen-card --scheme SCHEME [--layout ITEM,...] [--seed N] [--pan DIGITS]\n"
    "                         [--expiry YYYY-MM] [--out FILE]\n"
    "  --scheme   mir | visa | mastercard | maestro | unionpay\n"
    "  --layout   comma-separated items over the default pan=record,gpo=2,pdol=yes,\n"
    "             records=2,lengths=short:\n"
    "               pan=record|track2   PAN in 5A + 5F24 in a record, or only in track 2\n"
    "                                   equivalent data 57 in the GPO answer\n"
    "               gpo=1|2             GPO answer format 1 (tag 80) or 2 (tag 77)\n"
    "               pdol=yes|no         the application asks for a PDOL\n"
    "               records=1..8        records in the AFL (over SFI 1 and 2 from 3 on)\n"
    "               lengths=short|long  template lengths in long form (81 xx)\n"
    "  --seed     0..18446744073709551615 (default 1): the card's random values\n"
    "  --pan      16..19 digits, Luhn-valid, with an IIN of the scheme (default: from\n"
    "             the seed)\n"
    "  --expiry   YYYY-MM (default: from the seed, 2027..2032)\n"
    "  --out      the transcript file (default: standard output)\n"
    "  --oda      sda | dda | fdda | cda: certify the card for offline data\n"
    "             authentication (needs --out and --ca-key). The issuer and card keys are\n"
    "             FILE.issuer.pem and FILE.icc.pem next to --out: made when absent, reused\n"
    "             when present (the same keys give the same bytes); pn532-sim signs with\n"
    "             FILE.icc.pem (the transcript's '# live:' line names it)\n"
    "  --ca-key   the scheme CA's private key (PEM, carefact-emv-pki ca --key)\n"
    "  --ca-index the CA key's index, two hex digits (default 92)\n"
    "  --fault    a negative card, repeatable: issuer_expired | pan_mismatch |\n"
    "             wrong_ca_index | ignore_challenge | replay\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "carefact-gen-card: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(carefact-gen-card --help lists the options)\n");
    return 2;
}

static int parse_seed(const char *text, uint64_t *seed)
{
    if (text[0] < '0' || text[0] > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno || *end)
        return -1;
    *seed = value;
    return 0;
}

static int parse_expiry(const char *text, int *year, int *month)
{
    if (strlen(text) != 7 || text[4] != '-' || strspn(text, "0123456789") != 4 ||
        strspn(text + 5, "0123456789") != 2)
        return -1;
    *year = (int)strtol(text, NULL, 10);
    *month = (int)strtol(text + 5, NULL, 10);
    return *year >= 2000 && *year <= 2099 && *month >= 1 && *month <= 12 ? 0 : -1;
}

/* The options as given, for the transcript's header (so a file says how to make it
 * again). */
static void command_line(int argc, char **argv, char *out, size_t size)
{
    size_t len = (size_t)snprintf(out, size, "carefact-gen-card");
    for (int i = 1; i < argc && len < size; i++) {
        if (strcmp(argv[i], "--out") == 0) {
            i++; /* where it was written is not part of the card */
            continue;
        }
        len += (size_t)snprintf(out + len, size - len, " %s", argv[i]);
    }
    /* It becomes a "#" comment line: a control character (a newline in an argument)
     * must not end it. */
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7F)
            *p = '?';
}

static int write_file(const char *path, const char *text, size_t len)
{
    FILE *f = path ? fopen(path, "wb") : stdout;
    if (!f) {
        fprintf(stderr, "carefact-gen-card: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    int ok = fwrite(text, 1, len, f) == len;
    ok = (path ? fclose(f) : fflush(f)) == 0 && ok;
    if (!ok) {
        fprintf(stderr, "carefact-gen-card: cannot write %s: %s\n", path ? path : "stdout",
                strerror(errno));
        return 1;
    }
    return 0;
}

/* The key at path, or a new one of bits written there. */
static int key_at(const char *path, unsigned bits, EVP_PKEY **key)
{
    FILE *f = fopen(path, "rb");
    if (f) {
        fclose(f);
        return pki_key_read(path, key);
    }
    int rc = pki_key_generate(bits, key);
    if (!rc && (rc = pki_key_write(*key, path)) != 0) {
        EVP_PKEY_free(*key);
        *key = NULL;
    }
    return rc;
}

/* --oda: the keys (CA given; issuer and card next to the transcript) and the build step. */
static int certify(struct gc_card *card, struct gc_oda_options *oda, const char *ca_path,
                   const char *out_path)
{
    char issuer_path[4096], icc_path[4096];
    const char *base = strrchr(out_path, '/');
    base = base ? base + 1 : out_path;
    snprintf(issuer_path, sizeof issuer_path, "%s.issuer.pem", out_path);
    snprintf(icc_path, sizeof icc_path, "%s.icc.pem", out_path);
    char key_name[512];
    snprintf(key_name, sizeof key_name, "%s.icc.pem", base);
    oda->key_name = key_name;
    struct cf_error_detail detail = {0};
    int rc = pki_key_read(ca_path, &oda->ca);
    if (rc) {
        fprintf(stderr, "carefact-gen-card: cannot read the CA key %s\n", ca_path);
        return 1;
    }
    /* Issuer 1152 and card 1024 bits under a CA of 1408 (emv-pki's defaults for tests):
     * both certificates then need a remainder, and every record fits 256 bytes. */
    rc = key_at(issuer_path, 1152, &oda->issuer);
    if (!rc)
        rc = key_at(icc_path, 1024, &oda->icc);
    if (rc) {
        fprintf(stderr, "carefact-gen-card: cannot make or read %s / %s\n", issuer_path, icc_path);
        return 1;
    }
    rc = gc_card_add_oda(card, oda, &detail);
    if (rc == CF_EINVAL)
        return usage_error("%s", detail.message);
    if (rc) {
        fprintf(stderr, "carefact-gen-card: %s\n", detail.message);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct gc_options options = {.seed = 1};
    struct gc_oda_options oda = {.ca_index = 0x92};
    const char *scheme = NULL, *layout = NULL, *out_path = NULL, *ca_path = NULL;
    struct cf_error_detail detail = {0};
    gc_layout_default(&options.layout);
    for (int i = 1; i < argc; i++) {
        const char *name = argv[i];
        if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (strcmp(name, "--scheme") && strcmp(name, "--layout") && strcmp(name, "--seed") &&
            strcmp(name, "--pan") && strcmp(name, "--expiry") && strcmp(name, "--out") &&
            strcmp(name, "--oda") && strcmp(name, "--ca-key") && strcmp(name, "--ca-index") &&
            strcmp(name, "--fault"))
            return usage_error("unknown argument '%s'", name);
        if (i + 1 >= argc)
            return usage_error("%s needs a value", name);
        const char *value = argv[++i];
        if (strcmp(name, "--scheme") == 0) {
            scheme = value;
        } else if (strcmp(name, "--layout") == 0) {
            layout = value;
        } else if (strcmp(name, "--seed") == 0) {
            if (parse_seed(value, &options.seed))
                return usage_error("--seed must be a whole number 0..18446744073709551615, "
                                   "not '%s'",
                                   value);
        } else if (strcmp(name, "--pan") == 0) {
            options.pan = value;
        } else if (strcmp(name, "--expiry") == 0) {
            if (parse_expiry(value, &options.expiry_year, &options.expiry_month))
                return usage_error("--expiry must be YYYY-MM between 2000-01 and 2099-12, "
                                   "not '%s'",
                                   value);
        } else if (strcmp(name, "--oda") == 0) {
            if (gc_oda_kind_parse(value, &oda.kind))
                return usage_error("--oda must be sda, dda, fdda or cda, not '%s'", value);
        } else if (strcmp(name, "--ca-key") == 0) {
            ca_path = value;
        } else if (strcmp(name, "--ca-index") == 0) {
            char *end;
            unsigned long index = strtoul(value, &end, 16);
            if (strlen(value) != 2 || *end || index > 0xFF)
                return usage_error("--ca-index must be two hex digits, not '%s'", value);
            oda.ca_index = (uint8_t)index;
        } else if (strcmp(name, "--fault") == 0) {
            if (gc_oda_fault_parse(value, &oda.faults))
                return usage_error("--fault must be issuer_expired, pan_mismatch, "
                                   "wrong_ca_index, ignore_challenge or replay, not '%s'",
                                   value);
        } else {
            out_path = value;
        }
    }
    if (oda.kind != GC_ODA_NONE && (!out_path || !ca_path))
        return usage_error("%s", "--oda needs --out (the keys go next to it) and --ca-key");
    if (oda.kind == GC_ODA_NONE &&
        (ca_path || oda.faults.issuer_expired || oda.faults.pan_mismatch ||
         oda.faults.wrong_ca_index || oda.faults.ignore_challenge || oda.faults.replay))
        return usage_error("%s", "--ca-key and --fault belong to --oda");
    if (!scheme)
        return usage_error("%s", "--scheme is required");
    if (gc_scheme_parse(scheme, &options.scheme))
        return usage_error("--scheme '%s' is not one of mir, visa, mastercard, maestro, unionpay",
                           scheme);
    if (layout && gc_layout_parse(layout, &options.layout, &detail))
        return usage_error("%s", detail.message);

    struct gc_card *card = calloc(1, sizeof *card);
    char *text = malloc(TRANSCRIPT_MAX);
    char line[512];
    size_t len = 0;
    int status = 1;
    if (!card || !text) {
        fprintf(stderr, "carefact-gen-card: out of memory\n");
        goto out;
    }
    if (gc_card_build(&options, card, &detail)) {
        status = usage_error("%s", detail.message);
        goto out;
    }
    if (oda.kind != GC_ODA_NONE && (status = certify(card, &oda, ca_path, out_path)) != 0)
        goto out;
    status = 1;
    command_line(argc, argv, line, sizeof line);
    int rc = gc_card_render(card, line, text, TRANSCRIPT_MAX, &len);
    if (rc) {
        fprintf(stderr, "carefact-gen-card: cannot render the card: %s\n", cf_strerror(rc));
        goto out;
    }
    status = write_file(out_path, text, len);
out:
    EVP_PKEY_free(oda.ca);
    EVP_PKEY_free(oda.issuer);
    EVP_PKEY_free(oda.icc);
    free(text);
    free(card);
    return status;
}
