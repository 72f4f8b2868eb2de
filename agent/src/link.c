/* Network links as the terminal and the daemon watch them (declared in ag/sync.h):
 * kept apart from sync.c so the daemon, which runs the sync as a child process,
 * links no HTTP code. */
#include <ifaddrs.h>
#include <net/if.h>

#include "ag/sync.h"

/* A cheap fingerprint of the network interfaces that are up and running (loopback
 * aside): a change to a non-zero value means a link came up. */
unsigned long ag_link_signature(void)
{
    struct ifaddrs *list = NULL, *i;
    unsigned long sig = 0;
    if (getifaddrs(&list) != 0)
        return 0;
    for (i = list; i; i = i->ifa_next)
        if (i->ifa_addr && (i->ifa_flags & IFF_UP) && (i->ifa_flags & IFF_RUNNING) &&
            !(i->ifa_flags & IFF_LOOPBACK))
            for (const char *p = i->ifa_name; p && *p; p++)
                sig = sig * 131 + (unsigned char)*p + 1;
    freeifaddrs(list);
    return sig;
}
