/* HTTPS for carefactd through civetweb.
 *
 * Debian 12's civetweb 1.15 loads OpenSSL at run time by the names "libssl.so" and
 * "libcrypto.so" and looks up SSL_get_peer_certificate, which OpenSSL 3 no longer
 * exports (it became a macro for SSL_get1_peer_certificate): civetweb's worker then
 * calls a NULL pointer on the first HTTPS connection. carefactd therefore ships two
 * tiny libraries (backend/tlscompat) whose sonames are exactly those names: the
 * loader finds them already loaded when civetweb asks, and they supply the missing
 * function on top of the real OpenSSL 3. be_tls_check refuses HTTPS at start-up if
 * they are not what civetweb would load, so a build without them fails clearly
 * instead of crashing later. */
#ifndef BE_TLS_H
#define BE_TLS_H

#include <stddef.h>

#include "be/config.h"

/* Before serving HTTPS: the compatibility libraries are in place, and the
 * certificate chain (config->tls_cert) and private key (config->tls_key, or the key
 * inside tls_cert when empty) load and match. Returns 0, or -1 with a sentence for
 * the administrator in err. */
int be_tls_check(const struct be_config *config, char *err, size_t err_size);

/* civetweb's init_ssl callback (user_data: the struct be_config): loads the chain
 * and key into the SSL_CTX and requires TLS 1.2 or later. Returns 1 (certificate
 * set up) or -1. */
int be_tls_init_ssl(void *ssl_ctx, void *user_data);

/* Provided by backend/tlscompat (linked into carefactd only): carefactd's main
 * calls them so the linker always records both libraries as needed. */
int be_ssl_compat_present(void);
int be_crypto_compat_present(void);

#endif
