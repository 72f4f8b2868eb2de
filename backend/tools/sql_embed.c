/* sql_embed: a module's .sql file of named queries into a C header of char arrays,
 * run by the build (backend/CMakeLists.txt) before carefactd is compiled, so the
 * server's SQL is read and reviewed as SQL and compiled in without string literals
 * (C11 promises only 4,095 bytes per literal).
 *
 *   sql_embed IN.sql OUT.h
 *
 * IN.sql: lines before the first marker are the file's comment. "-- name: NAME"
 * starts a query, emitted as `static const char sql_NAME[]` (NUL-terminated);
 * "-- fragment: NAME" starts a piece of text that queries (or other fragments) take
 * in with {{NAME}} and that is not emitted itself. Lines that are only a "--" comment,
 * and blank lines, are dropped; the rest is kept as written. NAME: [a-z0-9_]+, each
 * once. Errors (an unknown or circular fragment, a name given twice, a file too large)
 * print "IN.sql:LINE: why" and exit 1, which fails the build. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCKS_MAX 128
#define NAME_MAX_LEN 63
#define TEXT_MAX (1u << 20) /* bytes of one expanded query */

struct block {
    char name[NAME_MAX_LEN + 1];
    int is_fragment;
    int line; /* where it starts, for messages */
    char *text; /* as written (comment and blank lines dropped) */
    size_t len;
    int expanding; /* cycle guard */
};

static struct block blocks[BLOCKS_MAX];
static size_t block_count;
static const char *in_path;

static void die(int line, const char *why, const char *what)
{
    fprintf(stderr, "%s:%d: %s%s%s\n", in_path, line, why, what ? ": " : "", what ? what : "");
    exit(1);
}

static int valid_name(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n <= NAME_MAX_LEN && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static struct block *find(const char *name)
{
    for (size_t i = 0; i < block_count; i++)
        if (strcmp(blocks[i].name, name) == 0)
            return &blocks[i];
    return NULL;
}

static void append(char **text, size_t *len, size_t *cap, const char *data, size_t n, int line)
{
    if (*len + n + 1 > TEXT_MAX)
        die(line, "query too large", NULL);
    if (*len + n + 1 > *cap) {
        size_t want = (*len + n + 1) * 2;
        char *bigger = realloc(*text, want);
        if (!bigger)
            die(line, "out of memory", NULL);
        *text = bigger;
        *cap = want;
    }
    memcpy(*text + *len, data, n);
    *len += n;
    (*text)[*len] = '\0';
}

/* A marker line "-- name: X" / "-- fragment: X": 1 (filled), 0 (not a marker). */
static int marker(const char *line, int lineno, struct block *b)
{
    const char *rest;
    if (strncmp(line, "-- name:", 8) == 0) {
        rest = line + 8;
        b->is_fragment = 0;
    } else if (strncmp(line, "-- fragment:", 12) == 0) {
        rest = line + 12;
        b->is_fragment = 1;
    } else {
        return 0;
    }
    while (*rest == ' ')
        rest++;
    size_t n = strcspn(rest, " \t\r\n");
    if (n == 0 || n > NAME_MAX_LEN)
        die(lineno, "a marker needs a name", line);
    memcpy(b->name, rest, n);
    b->name[n] = '\0';
    if (!valid_name(b->name))
        die(lineno, "a name is [a-z0-9_]+", b->name);
    if (find(b->name))
        die(lineno, "name given twice", b->name);
    b->line = lineno;
    return 1;
}

static int skippable(const char *line)
{
    const char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    return *p == '\0' || *p == '\n' || *p == '\r' || strncmp(p, "--", 2) == 0;
}

static void read_blocks(FILE *in)
{
    char line[8192];
    size_t cap = 0;
    int lineno = 0;
    struct block *cur = NULL;
    while (fgets(line, sizeof line, in)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(in))
            die(lineno, "line longer than 8 KiB", NULL);
        struct block next = {0};
        if (marker(line, lineno, &next)) {
            if (block_count == BLOCKS_MAX)
                die(lineno, "too many queries in one file", NULL);
            blocks[block_count] = next;
            cur = &blocks[block_count++];
            cap = 0;
            continue;
        }
        if (!cur || skippable(line))
            continue;
        append(&cur->text, &cur->len, &cap, line, strlen(line), lineno);
    }
}

/* b's text with every {{fragment}} replaced, appended to out. */
static void expand(struct block *b, char **out, size_t *len, size_t *cap)
{
    if (b->expanding)
        die(b->line, "fragment takes itself in", b->name);
    b->expanding = 1;
    const char *p = b->text ? b->text : "";
    for (;;) {
        const char *open = strstr(p, "{{");
        if (!open) {
            append(out, len, cap, p, strlen(p), b->line);
            break;
        }
        append(out, len, cap, p, (size_t)(open - p), b->line);
        const char *close = strstr(open, "}}");
        char name[NAME_MAX_LEN + 1];
        size_t n = close ? (size_t)(close - open - 2) : 0;
        if (!close || n == 0 || n > NAME_MAX_LEN)
            die(b->line, "unclosed {{ in", b->name);
        memcpy(name, open + 2, n);
        name[n] = '\0';
        struct block *f = find(name);
        if (!f || !f->is_fragment)
            die(b->line, "unknown fragment", name);
        expand(f, out, len, cap); /* ends with its newline: a "--" in it ends there */
        p = close + 2;
    }
    b->expanding = 0;
}

static void write_query(FILE *out, struct block *b)
{
    char *text = NULL;
    size_t len = 0, cap = 0;
    expand(b, &text, &len, &cap);
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    if (len == 0)
        die(b->line, "empty query", b->name);
    fprintf(out, "\nstatic const char sql_%s[] = {", b->name);
    for (size_t i = 0; i <= len; i++)
        fprintf(out, "%s0x%02x,", i % 16 ? " " : "\n    ", i < len ? (unsigned char)text[i] : 0);
    fprintf(out, "\n};\n");
    free(text);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: sql_embed IN.sql OUT.h\n");
        return 2;
    }
    in_path = argv[1];
    FILE *in = fopen(argv[1], "r");
    if (!in) {
        perror(argv[1]);
        return 1;
    }
    read_blocks(in);
    fclose(in);
    FILE *out = fopen(argv[2], "w");
    if (!out) {
        perror(argv[2]);
        return 1;
    }
    const char *base = strrchr(argv[1], '/');
    fprintf(out, "/* Generated from %s by backend/tools/sql_embed.c: do not edit. */\n",
            base ? base + 1 : argv[1]);
    for (size_t i = 0; i < block_count; i++)
        if (!blocks[i].is_fragment)
            write_query(out, &blocks[i]);
    for (size_t i = 0; i < block_count; i++)
        free(blocks[i].text);
    if (fclose(out)) {
        perror(argv[2]);
        return 1;
    }
    return 0;
}
