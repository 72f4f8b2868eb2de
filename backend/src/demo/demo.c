/* carefactd demo-data: loads sql/demo/demo_data.sql with card tokens computed here
 * from the demo region's key (cf_token_from_pan / cf_token_from_uid), so the demo
 * recipients' cards are exactly the ones the PN532 emulator presents. The PANs are
 * the (masked, public) numbers of the EMV transcripts in tests/data/emv/devnied and
 * the synthetic Mir card tools/demo taps (carefact-gen-card --scheme mir --seed 35);
 * they exist here only to derive tokens and are never stored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "be/session.h"
#include "be/demo.h"
#include "be/db.h"
#include "cf/codec.h"
#include "cf/token.h"

#define DEMO_RECIPIENTS 50

/* Recipient n (1-based) -> the card the emulator can present for them. */
static const struct {
    const char *pan, *scheme, *transcript;
} demo_cards[] = {
    {"4999999999999999", "visa", "VisaCardPpse"},
    {"5599999999999999", "mastercard", "MasterCardPpse"},
    {"5200000000000000", "mastercard", "MasterCardPpse3"},
    {"4000000000000000", "visa", "VisaCardAid"},
    {"5772829193253472", "mastercard", "FailPpseVisaAid"},
    {"4979670123453600", "visa", "VisaCardPse"},
};
#define DEMO_EMV_CARDS (sizeof demo_cards / sizeof demo_cards[0])

/* Recipient 1's second card: the synthetic Mir card tools/demo-visit.sh generates and
 * taps (its PAN and expiry are pinned by tests/unit/tools/test_gen_card.c). */
static const char demo_mir_pan[] = "2202589086670936";
#define DEMO_MIR_RECIPIENT 1
#define DEMO_BINDINGS (DEMO_RECIPIENTS + 1)

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = malloc(1u << 20);
    size_t n = text ? fread(text, 1, (1u << 20) - 1, f) : 0;
    fclose(f);
    if (text)
        text[n] = '\0';
    return text;
}

/* Postgres text[] literal of n values (tokens, schemes... contain no quotes). */
static void array_literal(char *out, size_t size, char values[][24], size_t n)
{
    size_t o = (size_t)snprintf(out, size, "{");
    for (size_t i = 0; i < n && o < size; i++)
        o += (size_t)snprintf(out + o, size - o, "%s\"%s\"", i ? "," : "", values[i]);
    if (o < size)
        snprintf(out + o, size - o, "}");
}

/* PostgreSQL wants exactly as many parameters as the highest $N a statement uses;
 * "--" comment lines do not count. */
static int highest_param(const char *stmt)
{
    int highest = 0;
    for (const char *line = stmt; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        size_t lead = strspn(line, " \t");
        if (strncmp(line + lead, "--", 2) != 0)
            for (size_t k = 0; k + 1 < len; k++)
                if (line[k] == '$' && line[k + 1] >= '1' && line[k + 1] <= '9' &&
                    line[k + 1] - '0' > highest)
                    highest = line[k + 1] - '0';
        line = end ? end + 1 : NULL;
    }
    return highest;
}

void be_demo_uid(int n, uint8_t uid[4])
{
    uid[0] = 0x04;
    uid[1] = 0xD3;
    uid[2] = (uint8_t)(n >> 8);
    uid[3] = (uint8_t)n;
}

int be_demo_data_load(const char *conninfo, const char *sql_dir, const char *key_hex, FILE *log)
{
    uint8_t key[CF_TOKEN_KEY_MAX];
    size_t key_len = 0;
    /* One binding per recipient, then recipient 1's Mir card. */
    static char tokens[DEMO_BINDINGS][24], methods[DEMO_BINDINGS][24], schemes[DEMO_BINDINGS][24],
        last4[DEMO_BINDINGS][24], holders[DEMO_BINDINGS][24];
    if (cf_hex_decode(key_hex, strlen(key_hex), key, sizeof key, &key_len) ||
        key_len < CF_TOKEN_KEY_MIN) {
        fprintf(log, "demo-data: --token-key-hex must be 32 to 128 hex digits\n");
        return -1;
    }
    for (int n = 1; n <= DEMO_RECIPIENTS; n++) {
        size_t i = (size_t)n - 1;
        snprintf(holders[i], 24, "%d", n);
        if (i < DEMO_EMV_CARDS) {
            cf_token_from_pan(key, key_len, demo_cards[i].pan, tokens[i]);
            snprintf(methods[i], 24, "emv");
            snprintf(schemes[i], 24, "%s", demo_cards[i].scheme);
            snprintf(last4[i], 24, "%s", demo_cards[i].pan + strlen(demo_cards[i].pan) - 4);
        } else {
            uint8_t uid[4];
            be_demo_uid(n, uid);
            cf_token_from_uid(key, key_len, uid, sizeof uid, tokens[i]);
            snprintf(methods[i], 24, "uid");
        }
    }
    size_t mir = DEMO_RECIPIENTS;
    snprintf(holders[mir], 24, "%d", DEMO_MIR_RECIPIENT);
    cf_token_from_pan(key, key_len, demo_mir_pan, tokens[mir]);
    snprintf(methods[mir], 24, "emv");
    snprintf(schemes[mir], 24, "mir");
    snprintf(last4[mir], 24, "%s", demo_mir_pan + sizeof demo_mir_pan - 5);
    char path[1200], a_tokens[2048], a_methods[1024], a_schemes[1024], a_last4[1024],
        a_holders[1024];
    snprintf(path, sizeof path, "%s/demo/demo_data.sql", sql_dir);
    char *sql = read_text(path);
    if (!sql) {
        fprintf(log, "demo-data: cannot read %s\n", path);
        return -1;
    }
    array_literal(a_tokens, sizeof a_tokens, tokens, DEMO_BINDINGS);
    array_literal(a_methods, sizeof a_methods, methods, DEMO_BINDINGS);
    array_literal(a_schemes, sizeof a_schemes, schemes, DEMO_BINDINGS);
    array_literal(a_last4, sizeof a_last4, last4, DEMO_BINDINGS);
    array_literal(a_holders, sizeof a_holders, holders, DEMO_BINDINGS);
    const char *params[6] = {key_hex, a_tokens, a_methods, a_schemes, a_last4, a_holders};
    static const Oid text_types[6] = {25, 25, 25, 25, 25, 25}; /* all parameters are text */
    int rc = -1;
    PGconn *db = PQconnectdb(conninfo);
    if (PQstatus(db) == CONNECTION_OK) {
        /* Parameters need one statement at a time: split on ";\n" (the file has no
         * semicolons inside its statements' text). */
        PGresult *begin = PQexec(db, "BEGIN");
        rc = PQresultStatus(begin) == PGRES_COMMAND_OK ? 0 : -1;
        PQclear(begin);
        for (char *stmt = sql, *next; !rc && stmt && *stmt; stmt = next) {
            next = strstr(stmt, ";\n");
            if (next) {
                *next = '\0';
                next += 2;
            }
            int uses = highest_param(stmt);
            PGresult *res = PQexecParams(db, stmt, uses, text_types, params, NULL, NULL, 0);
            ExecStatusType st = PQresultStatus(res);
            if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
                fprintf(log, "demo-data: %s", PQerrorMessage(db));
                rc = -1;
            }
            PQclear(res);
        }
        PGresult *end = PQexec(db, rc ? "ROLLBACK" : "COMMIT");
        if (PQresultStatus(end) != PGRES_COMMAND_OK)
            rc = -1;
        PQclear(end);
    } else {
        fprintf(log, "demo-data: cannot connect: %s", PQerrorMessage(db));
    }
    PQfinish(db);
    free(sql);
    if (!rc)
        fprintf(log,
                "demo-data: 1 region, 2 providers, 5 workers, %d recipients with cards "
                "(%zu bank cards of the EMV transcripts in tests/data, a synthetic Mir card "
                "as recipient 1's second card, the rest UID cards), "
                "10 services, certificates, 20 plans for today\n",
                DEMO_RECIPIENTS, DEMO_EMV_CARDS);
    if (!rc)
        rc = be_demo_accounts(conninfo, log);
    return rc;
}
