/* Soname "libssl.so": what Debian 12's civetweb 1.15 dlopen()s for TLS (see
 * be/tls.h). It depends on the real libssl.so.3, so civetweb's dlsym() finds every
 * OpenSSL function through it, plus the one OpenSSL 3 dropped. */
#include <openssl/ssl.h>

/* OpenSSL 3 turned the name into a macro; the symbol civetweb asks for must exist. */
#undef SSL_get_peer_certificate
X509 *SSL_get_peer_certificate(const SSL *ssl);

/* Same contract as in OpenSSL 1.1: the caller owns a reference (civetweb frees it). */
X509 *SSL_get_peer_certificate(const SSL *ssl)
{
    return SSL_get1_peer_certificate(ssl);
}

int be_ssl_compat_present(void);
int be_ssl_compat_present(void)
{
    return 1;
}
