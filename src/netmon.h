/*
 * netmon: watches the kernel's address, link and route changes (rtnetlink
 * multicast groups through libnl) on the daemon's poll loop, never blocking.
 * It only reports *that* something changed and whether an address went away;
 * the daemon then asks the kernel's own route lookup which path to take
 * (route_lookup), so netmon keeps no copy of the routing state.
 */
#ifndef KITE_NETMON_H
#define KITE_NETMON_H

#include <stdint.h>
#include <sys/socket.h>

enum netmon_event {
	NETMON_CHANGE = 1u << 0,	/* an address, link or route changed */
	NETMON_ADDR_DEL = 1u << 1,	/* an address was removed (see netmon_read's deleted list) */
	NETMON_LINK_DOWN = 1u << 2,	/* a link went down or away */
};

struct netmon;

/* Subscribe to link, IPv4/IPv6 address and route events. NULL on failure (errno set). */
struct netmon *netmon_open(void);
void netmon_close(struct netmon *nm);
int netmon_fd(const struct netmon *nm);

/*
 * Read everything pending. Events about ignore_ifindex (kite's own tunnel
 * device) and routes in ignore_table (kite's own table) are skipped. Removed
 * addresses are copied to deleted (at most max); returns enum netmon_event bits.
 */
unsigned netmon_read(struct netmon *nm, int ignore_ifindex, uint32_t ignore_table,
		     struct sockaddr_storage *deleted, unsigned max, unsigned *n_deleted);

#endif
