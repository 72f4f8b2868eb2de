/* Who is calling: the roles a route may name and the caller of one request as
 * be_auth_authorise fills it. Pure data and two pure helpers (no database). */
#ifndef BE_PRINCIPAL_H
#define BE_PRINCIPAL_H

/* Roles, as bits of a route's `roles` mask. BE_PUBLIC: no identity needed (health,
 * login, enrolment by one-time code). BE_DEVICE: an enrolled terminal. */
enum be_role {
    BE_ADMIN = 1u << 0,
    BE_AUTHORITY = 1u << 1,
    BE_MANAGER = 1u << 2,
    BE_WORKER = 1u << 3,
    BE_DEVICE = 1u << 4,
    BE_PUBLIC = 1u << 5,
    BE_INTAKE = 1u << 6, /* front office: files and edits applications */
    BE_INTAKE_LEAD = 1u << 7, /* front office: checks and forwards */
    BE_CASEWORKER = 1u << 8, /* back office (the department): assesses and decides */
};
/* The people of the visits: every provider's data through their provider. */
#define BE_PEOPLE (BE_ADMIN | BE_AUTHORITY | BE_MANAGER | BE_WORKER)
/* The people of applications: an office's (or, for caseworkers, a region's). */
#define BE_STAFF (BE_INTAKE | BE_INTAKE_LEAD | BE_CASEWORKER)
#define BE_OVERSIGHT (BE_ADMIN | BE_AUTHORITY) /* every provider */

#define BE_LOGIN_MAX 64
#define BE_UUID_TEXT 37

/* The caller of one request, filled by be_auth_authorise. provider is "" for
 * admin/authority (every provider); worker is set for workers and devices. */
struct be_principal {
    unsigned role; /* one BE_* bit; 0 = anonymous */
    char user_id[BE_UUID_TEXT];
    char login[BE_LOGIN_MAX + 1];
    char provider[BE_UUID_TEXT];
    char worker[BE_UUID_TEXT];
    char device[BE_UUID_TEXT];
    char office[BE_UUID_TEXT]; /* application staff: their office */
    char region[BE_UUID_TEXT]; /* application staff: their office's region */
    char csrf[65];
};

/* "admin", "authority", "manager", "worker", "intake", "intake_lead", "caseworker" ->
 * its BE_* bit; anything else 0. */
unsigned be_role_bit(const char *role);
/* A BE_* bit's name ("device" for BE_DEVICE, "anonymous" for anything else). */
const char *be_role_name(unsigned role);

#endif
