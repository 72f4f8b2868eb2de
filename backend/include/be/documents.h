/* An application's documents (issue 15): attachments sniffed from their bytes (PDF, JPEG,
 * PNG, nothing else), the parameters of an upload, the names they are downloaded under,
 * and the printable application form. The pure parts are here so they can be tested and
 * fuzzed without a database; the routes are be_application_documents_module. */
#ifndef BE_DOCUMENTS_H
#define BE_DOCUMENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "be/buf.h"
#include "be/router.h"
#include "cf/error.h"

#define BE_DOC_BYTES_MAX (10u << 20) /* one document (sql/0024 says the same) */
#define BE_DOC_COUNT_MAX 20 /* documents of one application (sql/0024) */
#define BE_DOC_NAME_MAX 200 /* bytes of a file's name (UTF-8) */
#define BE_DOC_KIND_MAX 15

/* What the bytes of a file are: "application/pdf", "image/jpeg" or "image/png" (static
 * text), or NULL for anything else. A PDF starts "%PDF-" and a version digit and ends
 * "%%EOF" (line ends and spaces after it allowed); a JPEG starts FF D8 FF and a marker and
 * ends FF D9; a PNG is its 8-byte signature, an IHDR chunk, and ends with the IEND chunk.
 * Bytes after the end (a second file appended: a polyglot), or HTML or SVG markup
 * ("<html", "<script", "<svg", "<!doctype", "<?xml"...) in the first 1024 bytes, where
 * a browser's sniffer would look, make it NULL. data (len bytes) is borrowed. Pure. */
const char *be_document_sniff(const unsigned char *data, size_t len);

/* Is declared (a Content-Type header, parameters allowed; may be NULL) the media type
 * sniffed (one of the three above)? */
bool be_document_type_agrees(const char *declared, const char *sniffed);

/* The query of an upload (?kind=passport&name=...). */
struct be_document_upload {
    char kind[BE_DOC_KIND_MAX + 1]; /* passport, snils, medical, income, statement, other */
    char name[BE_DOC_NAME_MAX + 1]; /* strict UTF-8, no control character, '/' or '\' */
};

/* Read an upload's query (borrowed, may be NULL): 0, or a CF_E... code with *d naming
 * kind or name. Pure. */
int be_document_upload_read(const char *query, struct be_document_upload *out,
                            struct cf_error_detail *d);

/* Append to out the Content-Disposition header of a download of a document named name
 * (UTF-8 as stored): "Content-Disposition: attachment; filename=\"<ASCII>\";
 * filename*=UTF-8''<percent-encoded>\r\n", where <ASCII> keeps [A-Za-z0-9._-] and puts
 * '_' for anything else (one per character) and the percent-encoding keeps only
 * RFC 5987's attr-chars. Nothing of name reaches the header unescaped. 0 or -1 (out of
 * memory). Pure. */
int be_document_disposition(const char *name, struct be_buf *out);

/* Append text to out with & < > " ' as character references (HTML text and quoted
 * attributes). 0 or -1. Pure. */
int be_html_escape(struct be_buf *out, const char *text);

extern const struct be_module be_application_documents_module;

#endif
