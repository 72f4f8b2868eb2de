/* EMV offline data authentication (EMV 4.4 Book 2), the verifying side: the one
 * implementation the server (the authority on assurance levels) and the agent (warnings
 * to the worker only) share.
 *
 * Given the scheme CA public keys and a card's proof material, cf_oda_verify recovers the
 * issuer public key from its certificate (format 02), the ICC public key from its
 * certificate (format 04) and checks the signed dynamic application data (format 05: DDA,
 * fDDA, CDA) over the terminal's data, which must carry the expected challenge; or, for
 * SDA, the signed static application data (format 03). It reports an assurance level or
 * the first reason the proof fails, and hands the card number (recovered from the ICC
 * certificate, or for SDA from the signed static data) to the caller in a buffer the
 * caller wipes (OPENSSL_cleanse) as soon as it has derived the token. Everything else it
 * recovers is wiped before return. Pure: no files, no globals, no allocation the caller
 * sees. */
#ifndef CF_ODA_H
#define CF_ODA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cf/error.h"

#define CF_ODA_RID_LEN 5
#define CF_ODA_MODULUS_MAX 248 /* bytes: the largest key Book 2 allows (1984 bits) */
#define CF_ODA_MODULUS_MIN 64 /* below this no certificate format fits */
#define CF_ODA_EXPONENT_MAX 3 /* 3 or 65537 */
#define CF_ODA_PAN_MAX 19
#define CF_ODA_CHALLENGE_LEN 4
#define CF_ODA_SDAD_DIGEST_LEN 32 /* SHA-256 of the SDAD bytes: what a reuse check keeps */

/* One certification authority public key (the `--emv-ca-keys` file, one per line). */
struct cf_oda_ca_key {
    uint8_t rid[CF_ODA_RID_LEN];
    uint8_t index;
    uint8_t modulus[CF_ODA_MODULUS_MAX];
    size_t modulus_len;
    uint8_t exponent[CF_ODA_EXPONENT_MAX];
    size_t exponent_len;
};

/* Parse one line `RID INDEX MODULUS_HEX EXPONENT_HEX` (spaces or tabs between the four,
 * hex either case; RID 5 bytes, INDEX 1 byte, modulus 64..248 bytes with its top byte
 * non-zero, exponent 03 or 010001). A line that is empty, only blanks or starts (after
 * blanks) with '#' is no key. line: borrowed, len bytes, no NUL needed; a trailing '\r' or
 * '\n' is ignored. Returns 1 with *out filled, 0 for no key, or CF_EMALFORM with
 * detail->message saying what is wrong (detail may be NULL). */
int cf_oda_ca_key_parse(const char *line, size_t len, struct cf_oda_ca_key *out,
                        struct cf_error_detail *detail);

/* The key with this RID and index, or NULL. keys: borrowed, count entries. */
const struct cf_oda_ca_key *cf_oda_ca_find(const struct cf_oda_ca_key *keys, size_t count,
                                           const uint8_t rid[CF_ODA_RID_LEN], uint8_t index);

/* The proof kinds; the numbers are those of the canonical encoding (PROOF14 / PROTOCOL 5). */
enum cf_oda_kind {
    CF_ODA_KIND_NONE = 1, /* an EMV card without ODA material: cannot sign */
    CF_ODA_KIND_SDA = 2,
    CF_ODA_KIND_DDA = 3,
    CF_ODA_KIND_FDDA = 4,
    CF_ODA_KIND_CDA = 5,
};

/* Assurance levels, ordered: a higher value is a stronger proof. */
enum cf_oda_level {
    CF_ODA_LEVEL_NONE = 0, /* no card */
    CF_ODA_LEVEL_UID = 1, /* a UID-only card (can be cloned) */
    CF_ODA_LEVEL_STATIC = 2, /* SDA verified, or an EMV card that cannot sign */
    CF_ODA_LEVEL_DYNAMIC = 3, /* the card signed this event's challenge */
};

/* Why a proof failed; CF_ODA_OK when it did not. token_mismatch and reused_signature are
 * decided by the caller (it holds the token key and the store of used SDADs); they are
 * here so that every component names them alike. */
enum cf_oda_reason {
    CF_ODA_OK = 0,
    CF_ODA_UNKNOWN_CA_KEY,
    CF_ODA_BAD_ISSUER_CERTIFICATE,
    CF_ODA_BAD_ICC_CERTIFICATE,
    CF_ODA_EXPIRED,
    CF_ODA_PAN_MISMATCH,
    CF_ODA_TOKEN_MISMATCH,
    CF_ODA_BAD_SIGNATURE,
    CF_ODA_CHALLENGE_MISMATCH,
    CF_ODA_REUSED_SIGNATURE,
    CF_ODA_MALFORMED,
};

/* "dynamic", "static", "uid", "none"; never NULL. */
const char *cf_oda_level_name(enum cf_oda_level level);
/* Level by name; returns 0 or CF_EINVAL for an unknown name. */
int cf_oda_level_parse(const char *name, enum cf_oda_level *out);
/* "unknown_ca_key", ..., "malformed"; "" for CF_ODA_OK; never NULL. */
const char *cf_oda_reason_name(enum cf_oda_reason reason);
/* "dda", "fdda", "cda", "sda", "none"; "" for a value outside the enum. */
const char *cf_oda_kind_name(enum cf_oda_kind kind);

/* A byte string borrowed from the caller; len 0 means absent. */
struct cf_oda_bytes {
    const uint8_t *data;
    size_t len;
};

/* The proof material as the event carries it (see PROOF14 / api/PROTOCOL.md), borrowed. */
struct cf_oda_proof {
    enum cf_oda_kind kind;
    struct cf_oda_bytes aid; /* its first 5 bytes are the RID */
    struct cf_oda_bytes ca_index; /* 1 byte (8F) */
    struct cf_oda_bytes issuer_cert, issuer_exp, issuer_rem; /* 90, 9F32, 92 */
    struct cf_oda_bytes icc_cert, icc_exp, icc_rem; /* 9F46, 9F47, 9F48 */
    struct cf_oda_bytes static_data; /* exactly the bytes hashed as static data */
    struct cf_oda_bytes ssad; /* 93, SDA */
    struct cf_oda_bytes sdad; /* 9F4B, DDA / fDDA / CDA */
    struct cf_oda_bytes ddol; /* DDA: the DDOL used (locates 9F37 in terminal_data) */
    struct cf_oda_bytes terminal_data; /* what the card signed besides its own data */
    struct cf_oda_bytes tx_data; /* CDA: what the transaction data hash code covers */
};

/* What verification found. pan is the caller's buffer: wipe it with OPENSSL_cleanse (or
 * cf_oda_result_wipe) as soon as the token is derived, on every path. */
struct cf_oda_result {
    enum cf_oda_level level; /* meaningful when reason == CF_ODA_OK */
    enum cf_oda_reason reason;
    char pan[CF_ODA_PAN_MAX + 1]; /* recovered PAN digits, "" when none */
    uint8_t sdad_digest[CF_ODA_SDAD_DIGEST_LEN]; /* SHA-256(SDAD) when has_sdad_digest */
    bool has_sdad_digest;
};

/* Verification date: the certificates must not have expired before this month. */
struct cf_oda_date {
    int year; /* e.g. 2026 */
    int month; /* 1..12 */
};

/* Verify proof against keys (borrowed, count entries), the challenge the terminal had to
 * use (the event's cf_card_challenge) and the date. On return *result holds the level
 * (dynamic for a verified DDA/fDDA/CDA, static for a verified SDA or kind none) or the
 * first failure reason, in this order: malformed (a field missing, of a wrong length or an
 * unknown kind), unknown_ca_key, bad_issuer_certificate, bad_icc_certificate, pan_mismatch
 * (the issuer identifier is not the PAN's leading digits, or a PAN (5A) in the static data
 * is not the certified one), expired (issuer or ICC certificate),
 * challenge_mismatch (terminal_data does not carry challenge), bad_signature. result->pan
 * is filled whenever the PAN was recovered, also when a later check fails.
 * Returns 0 (the verdict is in *result), CF_EINVAL for NULL arguments or CF_ECRYPTO /
 * CF_ENOMEM when OpenSSL fails (then result->reason is malformed and no PAN is kept). */
int cf_oda_verify(const struct cf_oda_proof *proof, const struct cf_oda_ca_key *keys, size_t count,
                  const uint8_t challenge[CF_ODA_CHALLENGE_LEN], struct cf_oda_date date,
                  struct cf_oda_result *result);

/* Wipe the PAN (and everything else) of a result; accepts NULL. */
void cf_oda_result_wipe(struct cf_oda_result *result);

/* Book 2 raw RSA recovery: signature^exponent mod modulus into out (modulus_len bytes,
 * left-padded). Returns 0, CF_EMALFORM (signature length is not the modulus length, or
 * the value is not below the modulus) or CF_ECRYPTO. Exposed for the issuing tool's tests. */
int cf_oda_rsa_recover(const uint8_t *modulus, size_t modulus_len, const uint8_t *exponent,
                       size_t exponent_len, const uint8_t *signature, size_t signature_len,
                       uint8_t *out);

#endif
