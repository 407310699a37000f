/*
 * route: host network configuration through libnl-route (the only netlink
 * user besides netmon.c and dp_xfrm.c). Everything added is recorded in a
 * struct route_state and removed by route_undo(), in reverse order, so that
 * disconnect, SIGTERM and a failed connect leave the host as it was
 * (style.md 2.5; iked vroute-netlink.c).
 *
 * Routing model (wg-quick's): tunnel routes live in kite's own routing table
 * `table`; policy rules send every packet that does NOT carry kite's fwmark
 * `mark` to that table, after a rule that consults the main table while
 * ignoring its default route (suppress_prefixlength 0), so local subnets stay
 * local. kite's own IKE/ESP socket carries the mark (SO_MARK), so its packets
 * to the gateway always take the real path, whatever the tunnel routes say.
 * Rule priorities and the table number are derived from the profile, so a
 * crash leaves only things that route_cleanup_stale() can find again.
 */
#ifndef KITE_ROUTE_H
#define KITE_ROUTE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct route_state;

/* Per-profile numbers: table, fwmark and the first rule priority. */
struct route_ids {
	uint32_t table;
	uint32_t mark;
	uint32_t prio;		/* rules use prio and prio + 1 */
};

void route_ids_for(const char *profile, struct route_ids *ids);

/* Open a netlink route socket. NULL on failure (errno set). */
struct route_state *route_open(const struct route_ids *ids);
/* Undo everything recorded (reverse order), then free. NULL-safe. */
void route_close(struct route_state *rs);
/* Undo without closing (for a failed connect that retries). */
void route_undo(struct route_state *rs);

/* Remove rules and table entries left by a crashed kite for these ids. */
int route_cleanup_stale(const struct route_ids *ids);

/* Link up with MTU. */
int route_link_up(struct route_state *rs, int ifindex, unsigned mtu);
/* Address on a link (recorded). family AF_INET/AF_INET6, addr 4/16 bytes. */
int route_addr_add(struct route_state *rs, int ifindex, int family, const uint8_t *addr,
		   unsigned prefixlen);
/* Route dst/plen via ifindex in kite's table (recorded). */
int route_add(struct route_state *rs, int family, const uint8_t *dst, unsigned plen, int ifindex);
/* An unreachable route in kite's table (recorded): blocks a family the tunnel does not carry. */
int route_add_unreachable(struct route_state *rs, int family, const uint8_t *dst, unsigned plen);
/* The two policy rules for a family (recorded). */
int route_rules_add(struct route_state *rs, int family);

/*
 * The kernel's route lookup towards dst (with kite's mark, so the tunnel is
 * bypassed): the source address it would use and the outgoing interface.
 * Returns 0, or KITE_ERR_SYS when there is no route (errno ENETUNREACH).
 */
int route_lookup(const struct route_ids *ids, const struct sockaddr_storage *dst,
		 struct sockaddr_storage *src, int *ifindex);

#endif
