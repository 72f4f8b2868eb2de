/* Roles by name and back (see be/principal.h). */
#include "be/principal.h"

#include <string.h>

unsigned be_role_bit(const char *role)
{
    if (strcmp(role, "admin") == 0)
        return BE_ADMIN;
    if (strcmp(role, "authority") == 0)
        return BE_AUTHORITY;
    if (strcmp(role, "manager") == 0)
        return BE_MANAGER;
    if (strcmp(role, "worker") == 0)
        return BE_WORKER;
    if (strcmp(role, "intake") == 0)
        return BE_INTAKE;
    if (strcmp(role, "intake_lead") == 0)
        return BE_INTAKE_LEAD;
    if (strcmp(role, "caseworker") == 0)
        return BE_CASEWORKER;
    return 0;
}

const char *be_role_name(unsigned role)
{
    switch (role) {
    case BE_ADMIN:
        return "admin";
    case BE_AUTHORITY:
        return "authority";
    case BE_MANAGER:
        return "manager";
    case BE_WORKER:
        return "worker";
    case BE_DEVICE:
        return "device";
    case BE_INTAKE:
        return "intake";
    case BE_INTAKE_LEAD:
        return "intake_lead";
    case BE_CASEWORKER:
        return "caseworker";
    default:
        return "anonymous";
    }
}
