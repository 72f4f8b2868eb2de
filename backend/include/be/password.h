/* People's passwords: scrypt (OpenSSL EVP_PBE_scrypt), stored as
 * "scrypt$N$r$p$salthex$keyhex". Pure code (OpenSSL only). */
#ifndef BE_PASSWORD_H
#define BE_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define BE_PASSWORD_MIN 10
#define BE_PASSWORD_MAX 256

/* scrypt (N=2^14, r=8, p=1, 16-byte random salt, 32-byte key) as
 * "scrypt$N$r$p$salthex$keyhex". Returns 0 or CF_ECRYPTO/CF_ENOSPACE. */
int be_password_hash(const char *password, char *out, size_t out_size);
/* Does password match the stored hash (constant-time compare)? */
bool be_password_verify(const char *password, const char *stored);

#endif
