/* People's text: strict UTF-8 without control characters (see cf/text.h). PostgreSQL
 * refuses invalid UTF-8, and a control character shown in a dashboard or printed in a
 * statement is never what a person meant, so both are refused where the text enters. */
#include <string.h>

#include "cf/text.h"

long cf_text_chars(const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    long chars = 0;
    while (*s) {
        unsigned c = *s;
        size_t n;
        unsigned cp;
        chars++;
        if (c < 0x80) {
            if ((c < 0x20 && c != '\n') || c == 0x7f)
                return -1;
            s++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, cp = c & 0x07;
        } else {
            return -1;
        }
        for (size_t i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return -1;
            cp = cp << 6 | (s[i] & 0x3f);
        }
        static const unsigned min_cp[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
            (cp >= 0x80 && cp < 0xa0))
            return -1;
        s += n + 1;
    }
    return chars;
}

int cf_text_blank(const char *text)
{
    return strspn(text, " \t\r\n") == strlen(text);
}
