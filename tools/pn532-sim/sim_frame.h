/* PN532 UART frames: a pure decoder and encoder, no I/O and no state.
 *
 * Wire forms (PN532 user manual, section 6.2; libnfc 1.8 pn532_uart reads them so):
 *   information  [00] 00 FF LEN LCS TFI PD0..PDn DCS [00]       LEN = 1 + n + 1 <= 255
 *   extended     [00] 00 FF FF FF LENm LENl LCS TFI PD0..PDn DCS [00]
 *   ACK          00 00 FF 00 FF 00
 *   NACK         00 00 FF FF 00 00
 *   error        00 00 FF 01 FF 7F 81 00   (application-level error from the chip)
 * LCS makes LEN (+ LENm + LENl) sum to 0 mod 256; DCS makes TFI + PD0..PDn + DCS sum
 * to 0. TFI is D4 from host to chip and D5 from chip to host. Preamble and postamble
 * bytes are optional on input: anything before a start code "00 FF" is skipped, which
 * also swallows the HSU wake-up preamble "55 55 00 00 ..." libnfc sends. */
#ifndef SIM_FRAME_H
#define SIM_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cf/error.h"

/* Data bytes after TFI (command code + parameters). 265 is the PN532's own limit for
 * an extended frame; libnfc never sends or expects more than 264. */
#define SIM_FRAME_MAX_DATA 265
/* Longest frame on the wire: 00 00 FF FF FF LENm LENl LCS TFI data DCS 00. */
#define SIM_FRAME_MAX_WIRE (SIM_FRAME_MAX_DATA + 11)
/* Longest data that still fits a normal frame (LEN = TFI + data <= 255). */
#define SIM_FRAME_NORMAL_MAX_DATA 254
#define SIM_FRAME_ACK_LEN 6
#define SIM_FRAME_ERROR_LEN 8

#define SIM_TFI_HOST 0xD4 /* host to PN532 */
#define SIM_TFI_CHIP 0xD5 /* PN532 to host */
#define SIM_TFI_ERROR 0x7F /* the error frame's only data byte */

enum sim_frame_kind {
    SIM_FRAME_INFO = 1, /* information frame, normal or extended */
    SIM_FRAME_ACK,
    SIM_FRAME_NACK,
    SIM_FRAME_ERROR, /* application-level error frame */
};

struct sim_frame {
    enum sim_frame_kind kind;
    bool extended; /* INFO only: the extended length form was used */
    uint8_t tfi; /* INFO only: D4 or D5 */
    size_t len; /* INFO only: bytes in data (0 is possible: a frame with TFI only) */
    uint8_t data[SIM_FRAME_MAX_DATA]; /* PD0 (command code) .. PDn */
};

/* Decode the first frame of a byte stream buf[0..len). *consumed is always set.
 * Returns
 *   0           a frame was decoded into *out; *consumed bytes (skipped junk, the
 *               frame, and a postamble 00 if already present) are used up;
 *   CF_ETRUNC   no complete frame yet: read more; the first *consumed bytes are junk
 *               that can be dropped now (they cannot start a frame);
 *   CF_EMALFORM a start code is followed by a broken frame (bad LCS, bad DCS, TFI not
 *               D4/D5, an error frame with a wrong body, extended LEN 0); drop
 *               *consumed bytes (through the start code) and decode again to resync;
 *   CF_ETOOBIG  an extended frame announces more than SIM_FRAME_MAX_DATA bytes;
 *               *consumed as for CF_EMALFORM.
 * Never reads outside buf. out may be written on error. */
int sim_frame_decode(const uint8_t *buf, size_t len, struct sim_frame *out, size_t *consumed);

/* Encode an information frame with TFI tfi and data[0..len), with preamble and
 * postamble: the normal form when len <= SIM_FRAME_NORMAL_MAX_DATA, the extended form
 * otherwise. Returns 0 with *out_len set, CF_ETOOBIG when len > SIM_FRAME_MAX_DATA,
 * CF_ENOSPACE when out_size is too small (SIM_FRAME_MAX_WIRE always suffices). */
int sim_frame_encode(uint8_t tfi, const uint8_t *data, size_t len, uint8_t *out, size_t out_size,
                     size_t *out_len);

/* The fixed frames; each returns the bytes written (6, 6, 8). */
size_t sim_frame_encode_ack(uint8_t out[SIM_FRAME_ACK_LEN]);
size_t sim_frame_encode_nack(uint8_t out[SIM_FRAME_ACK_LEN]);
size_t sim_frame_encode_error(uint8_t out[SIM_FRAME_ERROR_LEN]);

/* Checksum byte that makes the sum of bytes[0..len) plus itself 0 mod 256. */
uint8_t sim_frame_checksum(const uint8_t *bytes, size_t len);

#endif
