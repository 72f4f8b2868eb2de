/* The issuing side of EMV offline data authentication, for tests and synthetic cards only:
 * make RSA keys (a test scheme CA, an issuer, a card), issue the Book 2 certificates (issuer
 * format 02, ICC format 04), sign static data (SSAD, format 03) and dynamic data (SDAD,
 * format 05, for DDA, fDDA and CDA), and assemble a card's whole proof for a challenge,
 * with knobs for the negative cards. The verifying side is firmware-shared's cf/oda.h;
 * this library exists so that tests and tools/pn532-sim produce what the verifier checks.
 *
 * Keys are OpenSSL EVP_PKEY (RSA, public exponent 3), kept in PEM files. Every function
 * returns 0 or a negative CF_E... code (cf/error.h). */
#ifndef EMV_PKI_H
#define EMV_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "cf/oda.h"

#define PKI_FIELD_MAX 1024
#define PKI_STATIC_MAX 2048
#define PKI_CA_LINE_MAX 640

/* A byte string the library fills. */
struct pki_bytes {
    uint8_t data[PKI_FIELD_MAX];
    size_t len;
};

/* Make an RSA key of bits (512..1984, a multiple of 8) with exponent 3. *out: caller frees
 * with EVP_PKEY_free. Returns 0, CF_EINVAL or CF_ECRYPTO. */
int pki_key_generate(unsigned bits, EVP_PKEY **out);
/* PEM (unencrypted PKCS#8) to and from path. read: *out caller frees. Returns 0, CF_EINVAL
 * or CF_ECRYPTO (file missing or not a key). */
int pki_key_write(EVP_PKEY *key, const char *path);
int pki_key_read(const char *path, EVP_PKEY **out);
/* The public modulus and exponent, big-endian without leading zeros. */
int pki_key_public(EVP_PKEY *key, uint8_t *modulus, size_t *modulus_len, uint8_t *exponent,
                   size_t *exponent_len);
/* The `--emv-ca-keys` line `RID INDEX MODULUS_HEX EXPONENT_HEX` (upper-case hex, no
 * newline) into line (room for PKI_CA_LINE_MAX). */
int pki_ca_line(EVP_PKEY *ca, const uint8_t rid[CF_ODA_RID_LEN], uint8_t index, char *line,
                size_t line_size);

/* A certificate as the card carries it: the signed block (90 or 9F46), the remainder (92
 * or 9F48, empty when the key fits) and the exponent (9F32 or 9F47). */
struct pki_certificate {
    struct pki_bytes cert, rem, exp;
};

/* Issuer certificate (format 02) signed by ca for issuer's key. issuer_id: 3..8 digits
 * (the PANs' leading digits). expiry: "MMYY". */
int pki_issue_issuer(EVP_PKEY *ca, EVP_PKEY *issuer, const char *issuer_id, const char *expiry,
                     struct pki_certificate *out);
/* ICC certificate (format 04) signed by issuer for icc's key, over pan (12..19 digits) and
 * the static data to be authenticated. */
int pki_issue_icc(EVP_PKEY *issuer, EVP_PKEY *icc, const char *pan, const char *expiry,
                  const uint8_t *static_data, size_t static_len, struct pki_certificate *out);
/* SSAD (format 03) by issuer over static data, data authentication code dac. */
int pki_sign_ssad(EVP_PKEY *issuer, const uint8_t dac[2], const uint8_t *static_data,
                  size_t static_len, struct pki_bytes *out);
/* SDAD (format 05) by icc: ICC dynamic data and the terminal dynamic data it is hashed with. */
int pki_sign_sdad(EVP_PKEY *icc, const uint8_t *icc_dynamic, size_t icc_dynamic_len,
                  const uint8_t *terminal_data, size_t terminal_len, struct pki_bytes *out);

/* ==== A whole synthetic card ==== */

/* The negative knobs (all false: a good card). */
struct pki_faults {
    bool issuer_expired; /* the issuer certificate expired in 01/20 */
    bool icc_expired; /* the ICC certificate expired in 01/20 */
    bool pan_mismatch; /* the issuer identifier is not the PAN's leading digits */
    bool wrong_ca_index; /* the card names a CA index one above the one that signed */
    bool ignore_challenge; /* the card signs 00 00 00 00 whatever the terminal sends */
    bool corrupt_issuer_cert; /* one bit of the issuer certificate flipped */
    bool corrupt_icc_cert; /* one bit of the ICC certificate flipped */
};

/* A card's keys and what it was issued: borrowed keys (the caller frees them). */
struct pki_card {
    EVP_PKEY *ca, *issuer, *icc;
    uint8_t rid[CF_ODA_RID_LEN];
    uint8_t ca_index;
    uint8_t aid[16];
    size_t aid_len;
    char pan[CF_ODA_PAN_MAX + 1];
    char expiry[5]; /* MMYY of both certificates unless a fault says otherwise */
    struct pki_faults faults;
};

/* A proof as the event carries it (PROOF14), with byte fields. */
struct pki_proof {
    enum cf_oda_kind kind;
    struct pki_bytes aid, aip, ca_index;
    struct pki_bytes issuer_cert, issuer_exp, issuer_rem;
    struct pki_bytes icc_cert, icc_exp, icc_rem;
    uint8_t static_data[PKI_STATIC_MAX];
    size_t static_len;
    struct pki_bytes ssad, sdad, ddol, terminal_data, tx_data;
};

/* The card's proof of kind for challenge: certificates issued now (so the knobs apply), the
 * static data a record with 5A (the PAN) and 5F24, the SDAD over the kind's terminal data
 * (DDA: DDOL 9F37 04; fDDA: UN, amount 0, currency 0643, 9F69; CDA: UN, and a transaction
 * data hash code over a fixed CDOL1/response image carrying the UN). seq varies the ICC
 * dynamic number. */
int pki_card_proof(const struct pki_card *card, enum cf_oda_kind kind,
                   const uint8_t challenge[CF_ODA_CHALLENGE_LEN], uint32_t seq,
                   struct pki_proof *out);

/* The same card's proof of the same dynamic kind for another challenge: proof (made by
 * pki_card_proof) keeps its certificates and static data; only the terminal data and the
 * signature are made again (one private-key operation: what a card does per tap). */
int pki_proof_resign(const struct pki_card *card, const uint8_t challenge[CF_ODA_CHALLENGE_LEN],
                     uint32_t seq, struct pki_proof *proof);

/* Borrowed view of a proof for cf_oda_verify. */
void pki_proof_view(const struct pki_proof *proof, struct cf_oda_proof *view);

#endif
