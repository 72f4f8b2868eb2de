/* Soname "libcrypto.so": the other name civetweb 1.15 dlopen()s (see be/tls.h).
 * Without it civetweb needs the unversioned libcrypto.so symlink that only
 * Debian's libssl-dev installs; this library depends on the real libcrypto.so.3,
 * through which civetweb's dlsym() finds what it asks for. */
#include <openssl/crypto.h>

int be_crypto_compat_present(void);
int be_crypto_compat_present(void)
{
    return OPENSSL_version_major() >= 3;
}
