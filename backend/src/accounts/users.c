/* `carefactd user add|disable`: accounts of people from the shell, so the first
 * admin exists before anyone can sign in. The password is read from stdin (one
 * line), never from the command line where `ps` would show it. Every change is
 * written to audit_log as actor "cli:<unix user>". */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "be/password.h"
#include "be/principal.h"
#include "be/session.h"
#include "be/db.h"
#include "cf/codec.h"
#include "sql/users_sql.h"

static int usage(void)
{
    fprintf(
        stderr,
        "usage: carefactd user add --db CONNINFO --role admin|authority|manager|worker|\n"
        "                          intake|intake_lead|caseworker\n"
        "                          [--provider ID] [--worker ID] [--office ID] LOGIN   (password "
        "on stdin)\n"
        "       carefactd user disable --db CONNINFO LOGIN\n");
    return 2;
}

/* One line from stdin into out (newline removed). Returns 0 or -1. */
static int read_password(char *out, size_t size)
{
    if (!fgets(out, (int)size, stdin))
        return -1;
    size_t n = strcspn(out, "\r\n");
    if (out[n] == '\0' && n == size - 1)
        return -1; /* longer than the cap */
    out[n] = '\0';
    return 0;
}

static int run(PGconn *db, const char *sql, int n, const char *const *params, const char *what)
{
    PGresult *res = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
    if (rc)
        fprintf(stderr, "carefactd: %s: %s", what, PQerrorMessage(db));
    else if (st == PGRES_TUPLES_OK && PQntuples(res) == 0) {
        fprintf(stderr, "carefactd: %s: no such account\n", what);
        rc = -1;
    }
    PQclear(res);
    return rc;
}

struct account {
    const char *login, *role, *provider, *worker, *office;
};

static int user_add(PGconn *db, const char *actor, const struct account *a)
{
    char password[BE_PASSWORD_MAX + 2], hash[160];
    if (read_password(password, sizeof password) || strlen(password) < BE_PASSWORD_MIN) {
        fprintf(stderr, "carefactd: the password (one line on stdin) must be %d to %d characters\n",
                BE_PASSWORD_MIN, BE_PASSWORD_MAX);
        return 2;
    }
    int rc = be_password_hash(password, hash, sizeof hash);
    OPENSSL_cleanse(password, sizeof password);
    if (rc) {
        fprintf(stderr, "carefactd: cannot hash the password\n");
        return 1;
    }
    const char *params[7] = {a->login, a->role, a->provider, a->worker, hash, actor, a->office};
    rc = run(db, sql_user_add, 7, params, "user add");
    if (!rc)
        printf("user %s (%s) added\n", a->login, a->role);
    return rc ? 1 : 0;
}

static int user_disable(PGconn *db, const char *actor, const char *login)
{
    const char *params[2] = {login, actor};
    int rc = run(db, sql_user_disable, 2, params, "user disable");
    if (!rc)
        printf("user %s disabled; its sessions are closed\n", login);
    return rc ? 1 : 0;
}

int be_user_main(int argc, char **argv, const char *db_default)
{
    const char *sub = argc > 2 ? argv[2] : "", *conninfo = db_default;
    struct account acc = {.login = NULL, .role = "", .provider = "", .worker = "", .office = ""};
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--db") == 0 && has_value)
            conninfo = argv[++i];
        else if (strcmp(a, "--role") == 0 && has_value)
            acc.role = argv[++i];
        else if (strcmp(a, "--provider") == 0 && has_value)
            acc.provider = argv[++i];
        else if (strcmp(a, "--worker") == 0 && has_value)
            acc.worker = argv[++i];
        else if (strcmp(a, "--office") == 0 && has_value)
            acc.office = argv[++i];
        else if (a[0] != '-' && !acc.login)
            acc.login = a;
        else
            return usage();
    }
    bool add = strcmp(sub, "add") == 0;
    const char *login = acc.login;
    if ((!add && strcmp(sub, "disable") != 0) || !login || !conninfo || !conninfo[0])
        return usage();
    size_t login_len = strlen(login);
    if (login_len < 3 || login_len > BE_LOGIN_MAX ||
        strspn(login, "abcdefghijklmnopqrstuvwxyz0123456789._-") != login_len) {
        fprintf(stderr,
                "carefactd: LOGIN must be 3 to %d characters of a-z, 0-9, '.', '_', "
                "'-'\n",
                BE_LOGIN_MAX);
        return 2;
    }
    if (add && !be_role_bit(acc.role)) {
        fprintf(stderr, "carefactd: --role must be admin, authority, manager, worker, intake, "
                        "intake_lead or caseworker\n");
        return 2;
    }
    char actor[96];
    const char *unix_user = getenv("USER");
    snprintf(actor, sizeof actor, "cli:%s", unix_user && unix_user[0] ? unix_user : "unknown");
    PGconn *db = PQconnectdb(conninfo);
    int rc;
    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "carefactd: cannot connect: %s", PQerrorMessage(db));
        rc = 1;
    } else {
        /* Accounts of every provider: the shell is trusted like the database owner. */
        PQclear(PQexec(db, "SELECT set_config('carefact.provider', '*', false)"));
        rc = add ? user_add(db, actor, &acc) : user_disable(db, actor, login);
    }
    PQfinish(db);
    return rc;
}

/* The demo's accounts, with fresh random passwords on every run (printed): a provider's
 * manager, the department, and the application staff of the demo's front office and
 * back office (tools/demo walks an application through them). */
int be_demo_accounts(const char *conninfo, FILE *out)
{
    static const struct {
        const char *login, *role, *provider_seed, *office_seed, *what;
    } accounts[] = {
        {"manager1", "manager", "demo:provider:1", "", "manager of the first demo provider"},
        {"authority", "authority", "", "", "regional department (every provider)"},
        {"office-intake", "intake", "", "demo:office:1", "front office: takes applications"},
        {"office-lead", "intake_lead", "", "demo:office:1", "front office: checks and forwards"},
        {"dept-case", "caseworker", "", "demo:office:back", "department: decides applications"},
    };
    PGconn *db = PQconnectdb(conninfo);
    int rc = PQstatus(db) == CONNECTION_OK ? 0 : -1;
    for (size_t i = 0; !rc && i < sizeof accounts / sizeof accounts[0]; i++) {
        uint8_t raw[9];
        char password[16], hash[160];
        if (RAND_bytes(raw, sizeof raw) != 1 ||
            cf_base64url_encode(raw, sizeof raw, password, sizeof password) ||
            be_password_hash(password, hash, sizeof hash)) {
            rc = -1;
            break;
        }
        const char *params[5] = {accounts[i].login, accounts[i].role, accounts[i].provider_seed,
                                 hash, accounts[i].office_seed};
        rc = run(db, sql_demo_account, 5, params, "demo account");
        if (!rc)
            fprintf(out, "demo account: login %s password %s (%s)\n", accounts[i].login, password,
                    accounts[i].what);
    }
    if (PQstatus(db) != CONNECTION_OK)
        fprintf(out, "demo accounts: cannot connect: %s", PQerrorMessage(db));
    PQfinish(db);
    return rc;
}
