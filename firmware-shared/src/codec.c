/* Hex and base64url codecs (see cf/codec.h). Strict on input: text from outside
 * that does not decode exactly is refused rather than guessed at. */
#include "cf/codec.h"

#include "cf/error.h"

static const char hex_digits[] = "0123456789abcdef";
static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int cf_hex_encode(const uint8_t *in, size_t len, char *out, size_t out_size)
{
    if (out_size < 2 * len + 1)
        return CF_ENOSPACE;
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex_digits[in[i] >> 4];
        out[2 * i + 1] = hex_digits[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
    return 0;
}

int cf_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int cf_hex_decode(const char *text, size_t text_len, uint8_t *out, size_t out_size, size_t *out_len)
{
    if (text_len % 2)
        return CF_EMALFORM;
    if (out_size < text_len / 2)
        return CF_ENOSPACE;
    for (size_t i = 0; i < text_len; i += 2) {
        int hi = cf_hex_digit(text[i]), lo = cf_hex_digit(text[i + 1]);
        if (hi < 0 || lo < 0)
            return CF_EMALFORM;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    if (out_len)
        *out_len = text_len / 2;
    return 0;
}

size_t cf_base64url_len(size_t len)
{
    return len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
}

int cf_base64url_encode(const uint8_t *in, size_t len, char *out, size_t out_size)
{
    size_t need = cf_base64url_len(len);
    if (out_size < need + 1)
        return CF_ENOSPACE;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        size_t n = len - i < 3 ? len - i : 3;
        if (n > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (n > 2)
            v |= in[i + 2];
        out[o++] = b64url_alphabet[(v >> 18) & 63];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
        if (n > 1)
            out[o++] = b64url_alphabet[(v >> 6) & 63];
        if (n > 2)
            out[o++] = b64url_alphabet[v & 63];
    }
    out[o] = '\0';
    return 0;
}

static int b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int cf_base64url_decode(const char *text, size_t text_len, uint8_t *out, size_t out_size,
                        size_t *out_len)
{
    if (text_len % 4 == 1)
        return CF_EMALFORM;
    size_t need = text_len / 4 * 3 + (text_len % 4 ? text_len % 4 - 1 : 0);
    if (out_size < need)
        return CF_ENOSPACE;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < text_len; i++) {
        int v = b64url_value(text[i]);
        if (v < 0)
            return CF_EMALFORM;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* Leftover bits must be zero, or two texts would decode to the same bytes. */
    if (acc != 0)
        return CF_EMALFORM;
    if (out_len)
        *out_len = o;
    return 0;
}
