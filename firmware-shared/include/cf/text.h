/* Text that people typed and other people read verbatim (a recipient's comment, the
 * reason for a correction, a note on a resolution): one definition of what is
 * acceptable, shared by the event model and the request bodies. */
#ifndef CF_TEXT_H
#define CF_TEXT_H

#include <stddef.h>

/* The length of text in characters when it is strict UTF-8 (no overlong forms, no
 * surrogates, nothing past U+10FFFF) with no control character (C0, DEL, C1) other
 * than newline; -1 otherwise. text is NUL-terminated. */
long cf_text_chars(const char *text);

/* Whether text holds nothing but spaces, tabs and newlines (or nothing at all). */
int cf_text_blank(const char *text);

#endif
