/* Fuzz target: the payment register's parsers and writer. The input is tried as a
 * register id from the URL path ("<YYYY-MM>.<uuid>") and as a month ("YYYY-MM"): an
 * accepted one must come out canonical. Parsed as JSON, it goes through the CSV
 * writer, which must either refuse it with a documented code or write a file that
 * starts with the BOM and ends with CRLF, within its cap. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "be/register.h"
#include "cf/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_canonical(const char month[11], const char provider[37])
{
    if (strlen(month) != 10 || memcmp(month + 7, "-01", 3) != 0)
        abort();
    for (int i = 0; i < 4; i++)
        if (!isdigit((unsigned char)month[i]))
            abort();
    if (provider && strlen(provider) != 36)
        abort();
    for (size_t i = 0; provider && i < 36; i++)
        if (isupper((unsigned char)provider[i]))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char month[11], provider[37];
    if (be_register_id_parse(text, month, provider))
        check_canonical(month, provider);
    if (be_register_month_parse(text, month))
        check_canonical(month, NULL);

    cJSON *doc = cJSON_ParseWithLength(text, size);
    if (doc) {
        struct be_buf out;
        be_buf_init(&out, 1 << 20);
        int rc = be_register_csv(doc, &out);
        if (rc == 0) {
            if (out.len < 5 || memcmp(out.data, "\xEF\xBB\xBF", 3) != 0 ||
                memcmp(out.data + out.len - 2, "\r\n", 2) != 0)
                abort();
        } else if (rc != CF_EFIELD_TYPE && rc != CF_ETOOBIG && rc != CF_ENOMEM) {
            abort();
        }
        be_buf_cleanup(&out);
        cJSON_Delete(doc);
    }
    free(text);
    return 0;
}
