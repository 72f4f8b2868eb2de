/* HTTPS set-up for civetweb (see be/tls.h): TLS 1.2 or later, ECDHE with AEAD only
 * under TLS 1.2. */
#include "be/tls.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "be/log.h"

/* Is name already loaded, and does it export symbol? civetweb's own dlopen(name)
 * then gets that same library. */
static int loaded_with(const char *name, const char *symbol)
{
    void *lib = dlopen(name, RTLD_LAZY | RTLD_NOLOAD);
    if (!lib)
        return 0;
    int ok = dlsym(lib, symbol) != NULL;
    dlclose(lib);
    return ok;
}

/* TLS 1.2 suites: forward secrecy (ECDHE) and AEAD only — no static-RSA key exchange
 * (a stolen key would decrypt every recorded session), no CBC with SHA-1 (Lucky 13 and
 * its kin). TLS 1.3's suites, all of that kind, stay OpenSSL's defaults. */
#define TLS12_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL"

/* Load chain and key into ctx; on failure err gets OpenSSL's reason. */
static int load_files(SSL_CTX *ctx, const struct be_config *c, char *err, size_t err_size)
{
    const char *key = c->tls_key[0] ? c->tls_key : c->tls_cert;
    const char *what = NULL;
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
        what = "TLS 1.2 cannot be required";
    else if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1)
        what = "the TLS 1.2 cipher suites cannot be set";
    else if (SSL_CTX_use_certificate_chain_file(ctx, c->tls_cert) != 1)
        what = "the certificate (--tls-cert) cannot be loaded";
    else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
        what = "the private key (--tls-key) cannot be loaded";
    else if (SSL_CTX_check_private_key(ctx) != 1)
        what = "the private key does not belong to the certificate";
    if (what) {
        char reason[256];
        ERR_error_string_n(ERR_get_error(), reason, sizeof reason);
        ERR_clear_error();
        snprintf(err, err_size, "HTTPS: %s (%s)", what, reason);
        return -1;
    }
    return 0;
}

int be_tls_check(const struct be_config *config, char *err, size_t err_size)
{
    if (!loaded_with("libssl.so", "SSL_get_peer_certificate") ||
        !loaded_with("libcrypto.so", "OPENSSL_version_major")) {
        snprintf(err, err_size,
                 "HTTPS: this carefactd was started without its OpenSSL 3 compatibility "
                 "libraries (backend/tlscompat, found through the binary's RUNPATH); "
                 "civetweb 1.15 would crash on the first HTTPS connection");
        return -1;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, err_size, "HTTPS: OpenSSL cannot make a context");
        return -1;
    }
    int rc = load_files(ctx, config, err, err_size);
    SSL_CTX_free(ctx);
    return rc;
}

int be_tls_init_ssl(void *ssl_ctx, void *user_data)
{
    char err[400];
    if (load_files(ssl_ctx, user_data, err, sizeof err)) {
        be_log_str("error", "HTTPS set-up failed", "error", err);
        return -1;
    }
    return 1;
}
