/* PN532 UART frame codec (see sim_frame.h). Pure functions over caller buffers: the
 * emulator's command layer feeds it the raw byte stream from the pseudo-terminal, and
 * the fuzz target feeds it anything. Every length is checked against the bytes at
 * hand before it is used. */
#include "sim_frame.h"

#include <string.h>

uint8_t sim_frame_checksum(const uint8_t *bytes, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + bytes[i]);
    return (uint8_t)(0x100 - sum);
}

/* Index of the first start code "00 FF" in buf, or len when there is none. */
static size_t find_start_code(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        if (buf[i] == 0x00 && buf[i + 1] == 0xFF)
            return i;
    return len;
}

/* Body of an information or error frame: TFI + data + DCS at buf[body], body_len
 * bytes of TFI + data (the LEN field). The caller has checked that body + body_len + 1
 * bytes are present. */
static int decode_body(const uint8_t *buf, size_t body, size_t body_len, bool extended,
                       struct sim_frame *out)
{
    uint8_t sum = 0;
    for (size_t i = 0; i <= body_len; i++)
        sum = (uint8_t)(sum + buf[body + i]);
    if (sum != 0)
        return CF_EMALFORM; /* DCS mismatch */
    uint8_t tfi = buf[body];
    if (tfi == SIM_TFI_ERROR) {
        if (body_len != 1 || extended)
            return CF_EMALFORM;
        out->kind = SIM_FRAME_ERROR;
        return 0;
    }
    if (tfi != SIM_TFI_HOST && tfi != SIM_TFI_CHIP)
        return CF_EMALFORM;
    out->kind = SIM_FRAME_INFO;
    out->extended = extended;
    out->tfi = tfi;
    out->len = body_len - 1;
    memcpy(out->data, buf + body + 1, out->len);
    return 0;
}

int sim_frame_decode(const uint8_t *buf, size_t len, struct sim_frame *out, size_t *consumed)
{
    size_t start = find_start_code(buf, len);
    if (start == len) {
        /* A trailing 00 may be the first half of a start code: keep it. */
        *consumed = (len > 0 && buf[len - 1] == 0x00) ? len - 1 : len;
        return CF_ETRUNC;
    }
    *consumed = start;
    size_t p = start + 2; /* first byte after the start code */
    if (len - p < 2)
        return CF_ETRUNC;
    uint8_t a = buf[p], b = buf[p + 1];
    memset(out, 0, offsetof(struct sim_frame, data));

    if (a == 0x00 && b == 0xFF) {
        out->kind = SIM_FRAME_ACK;
        *consumed = p + 2;
        return 0;
    }
    if (a == 0xFF && b == 0x00) {
        out->kind = SIM_FRAME_NACK;
        *consumed = p + 2;
        return 0;
    }

    bool extended = (a == 0xFF && b == 0xFF);
    size_t body, body_len;
    int rc = 0;
    if (extended) {
        if (len - p < 5)
            return CF_ETRUNC;
        if ((uint8_t)(buf[p + 2] + buf[p + 3] + buf[p + 4]) != 0) {
            rc = CF_EMALFORM; /* LCS mismatch */
            goto bad;
        }
        body_len = (size_t)buf[p + 2] << 8 | buf[p + 3];
        if (body_len == 0) {
            rc = CF_EMALFORM;
            goto bad;
        }
        if (body_len - 1 > SIM_FRAME_MAX_DATA) {
            rc = CF_ETOOBIG;
            goto bad;
        }
        body = p + 5;
    } else {
        if ((uint8_t)(a + b) != 0 || a == 0) {
            rc = CF_EMALFORM; /* LCS mismatch, or LEN 0 that is not an ACK */
            goto bad;
        }
        body_len = a;
        body = p + 2;
    }
    if (len - body < body_len + 1)
        return CF_ETRUNC;
    rc = decode_body(buf, body, body_len, extended, out);
    if (rc)
        goto bad;
    *consumed = body + body_len + 1;
    return 0;

bad:
    /* Drop through the start code only: a real frame may begin inside the bad one. */
    *consumed = start + 2;
    return rc;
}

int sim_frame_encode(uint8_t tfi, const uint8_t *data, size_t len, uint8_t *out, size_t out_size,
                     size_t *out_len)
{
    if (len > SIM_FRAME_MAX_DATA)
        return CF_ETOOBIG;
    bool extended = len > SIM_FRAME_NORMAL_MAX_DATA;
    size_t need = len + (extended ? 11 : 8);
    if (out_size < need)
        return CF_ENOSPACE;
    size_t n = 0;
    out[n++] = 0x00;
    out[n++] = 0x00;
    out[n++] = 0xFF;
    size_t body_len = len + 1;
    if (extended) {
        out[n++] = 0xFF;
        out[n++] = 0xFF;
        out[n++] = (uint8_t)(body_len >> 8);
        out[n++] = (uint8_t)(body_len & 0xFF);
        out[n] = sim_frame_checksum(out + n - 2, 2);
        n++;
    } else {
        out[n++] = (uint8_t)body_len;
        out[n] = sim_frame_checksum(out + n - 1, 1);
        n++;
    }
    size_t body = n;
    out[n++] = tfi;
    if (len)
        memcpy(out + n, data, len);
    n += len;
    out[n] = sim_frame_checksum(out + body, body_len);
    n++;
    out[n++] = 0x00;
    *out_len = n;
    return 0;
}

size_t sim_frame_encode_ack(uint8_t out[SIM_FRAME_ACK_LEN])
{
    static const uint8_t ack[SIM_FRAME_ACK_LEN] = {0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00};
    memcpy(out, ack, sizeof ack);
    return sizeof ack;
}

size_t sim_frame_encode_nack(uint8_t out[SIM_FRAME_ACK_LEN])
{
    static const uint8_t nack[SIM_FRAME_ACK_LEN] = {0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00};
    memcpy(out, nack, sizeof nack);
    return sizeof nack;
}

size_t sim_frame_encode_error(uint8_t out[SIM_FRAME_ERROR_LEN])
{
    static const uint8_t error_frame[SIM_FRAME_ERROR_LEN] = {0x00, 0x00, 0xFF, 0x01,
                                                             0xFF, 0x7F, 0x81, 0x00};
    memcpy(out, error_frame, sizeof error_frame);
    return sizeof error_frame;
}
