/* Unit tests of the worker's message table (ag/messages.h): every text and every
 * outcome's sentence is Russian (has Cyrillic), names are unique, every text the
 * header defines is in the table the tests walk, and no Russian string literal is
 * written anywhere else in agent/src — so a worker-facing string has one home, and
 * an English one slipped into the table fails here. */
#include <ctype.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ag/card_output.h"
#include "ag/messages.h"
#include "cf/error.h"

/* The agent's sources, from this file's own path (tests/unit/agent/). */
static void source_path(const char *relative, char *out, size_t size)
{
    const char *here = __FILE__;
    const char *cut = strstr(here, "tests/unit/agent/");
    assert_non_null(cut);
    snprintf(out, size, "%.*s%s", (int)(cut - here), here, relative);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long len = ftell(f);
    assert_true(len >= 0);
    rewind(f);
    char *text = malloc((size_t)len + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
    text[len] = '\0';
    fclose(f);
    return text;
}

/* Cyrillic letters are U+0400..U+04FF: UTF-8 lead bytes D0..D3. */
static bool has_cyrillic(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; p[0] && p[1]; p++)
        if (p[0] >= 0xD0 && p[0] <= 0xD3 && (p[1] & 0xC0) == 0x80)
            return true;
    return false;
}

/* ==== The table ==== */

static void test_every_text_is_russian(void **state)
{
    (void)state;
    assert_true(ag_text_count > 150);
    for (size_t i = 0; i < ag_text_count; i++) {
        if (!has_cyrillic(ag_texts[i].text))
            fail_msg("%s is not Russian: \"%s\"", ag_texts[i].name, ag_texts[i].text);
        for (size_t j = 0; j < i; j++)
            if (strcmp(ag_texts[i].name, ag_texts[j].name) == 0)
                fail_msg("%s is in the table twice", ag_texts[i].name);
    }
}

static void test_every_outcome_is_russian(void **state)
{
    (void)state;
    for (int code = 0; code >= -100; code--) {
        const char *text = ag_message(code);
        assert_non_null(text);
        if (!has_cyrillic(text))
            fail_msg("ag_message(%d) (%s) is not Russian: \"%s\"", code, cf_error_name(code), text);
        if (!has_cyrillic(ag_read_error_message(code)))
            fail_msg("ag_read_error_message(%d) is not Russian", code);
    }
    /* The sentences the terminal shows for a card of another recipient and a
     * service refused are the table's. */
    assert_string_equal(ag_message(CF_ECARD_OTHER), AG_MSG_ERR_CARD_OTHER);
    assert_non_null(strstr(AG_MSG_CARD_BELONGS_TO, "Карта принадлежит"));
    assert_non_null(strstr(AG_MSG_TERM_SERVICE_REFUSED, "услуга"));
}

/* Every AG_MSG_ the header defines is listed in ag_texts (else it is not tested). */
static void test_header_and_table_agree(void **state)
{
    (void)state;
    char path[1024];
    source_path("agent/include/ag/messages.h", path, sizeof path);
    char *header = read_text(path);
    size_t defined = 0;
    for (const char *p = header; (p = strstr(p, "#define AG_MSG_")) != NULL; p++) {
        char name[80];
        size_t n = 0;
        const char *q = p + strlen("#define ");
        while (n + 1 < sizeof name && (isalnum((unsigned char)q[n]) || q[n] == '_')) {
            name[n] = q[n];
            n++;
        }
        name[n] = '\0';
        bool listed = false;
        for (size_t i = 0; i < ag_text_count && !listed; i++)
            listed = strcmp(ag_texts[i].name, name) == 0;
        if (!listed)
            fail_msg("%s is defined in ag/messages.h but not listed in ag_texts", name);
        defined++;
    }
    assert_int_equal(defined, ag_text_count);
    free(header);
}

/* ==== No worker text outside the table ==== */

/* Blank out comments, so only code is searched. */
static void strip_comments(char *text)
{
    for (char *p = text; *p; p++) {
        if (p[0] == '/' && p[1] == '*') {
            char *end = strstr(p + 2, "*/");
            char *stop = end ? end + 2 : p + strlen(p);
            memset(p, ' ', (size_t)(stop - p));
            p = stop - 1;
        }
    }
}

static void test_no_russian_outside_the_table(void **state)
{
    (void)state;
    char dir_path[1024], path[1300];
    source_path("agent/src", dir_path, sizeof dir_path);
    DIR *dir = opendir(dir_path);
    assert_non_null(dir);
    size_t files = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len < 3 || strcmp(e->d_name + len - 2, ".c") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir_path, e->d_name);
        char *text = read_text(path);
        strip_comments(text);
        if (has_cyrillic(text))
            fail_msg("%s has Russian text of its own: put it in ag/messages.h", e->d_name);
        free(text);
        files++;
    }
    closedir(dir);
    assert_true(files > 10);
}

/* The planted check: the scan does see a literal. */
static void test_scan_sees_a_russian_literal(void **state)
{
    (void)state;
    char code[] = "/* Карта */ say(\"(карта другого получателя)\");";
    char comment_only[] = "/* Карта */ say(\"(the card is another recipient's)\");";
    strip_comments(code);
    strip_comments(comment_only);
    assert_true(has_cyrillic(code));
    assert_false(has_cyrillic(comment_only));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_text_is_russian),
        cmocka_unit_test(test_every_outcome_is_russian),
        cmocka_unit_test(test_header_and_table_agree),
        cmocka_unit_test(test_no_russian_outside_the_table),
        cmocka_unit_test(test_scan_sees_a_russian_literal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
