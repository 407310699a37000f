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

/*
 * Per-profile numbers: table, fwmark and the first rule priority, all from a
 * 16-bit FNV-1a hash H of the profile name: table = mark = 0x4b49HHHH ("KI";
 * never 0 or 253-255), prio = 20000 + 2 * (H % 4000), an even number in
 * 20000..27998 (below the main table's 32766).
 */
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
/*
 * Undo without closing (for a failed connect that retries). Entries that are
 * already gone (ENOENT, ESRCH, ENODEV, EADDRNOTAVAIL: the TUN device's removal
 * takes its addresses and routes along) are skipped quietly; other failures
 * are logged and the walk goes on.
 */
void route_undo(struct route_state *rs);

/*
 * Remove rules and table entries left by a crashed kite for these ids, both
 * families: the two rules exactly as route_rules_add() makes them (a foreign
 * rule that merely shares the priority is left alone) and every route in the
 * table. Idempotent; 0 when nothing was there. Call it before the first add
 * after a crash: the adds use NLM_F_EXCL and fail with EEXIST on leftovers.
 */
int route_cleanup_stale(const struct route_ids *ids);

/*
 * The adds below return 0, KITE_ERR_INVAL (bad argument), KITE_ERR_NOMEM, or
 * KITE_ERR_SYS with errno set (the failure is logged, naming what and why).
 */
/* Link up with MTU (recorded: undo restores the previous up/down state and MTU). mtu 0: keep. */
int route_link_up(struct route_state *rs, int ifindex, unsigned mtu);
/* Address on a link (recorded). family AF_INET/AF_INET6, addr 4/16 bytes; IPv6 gets IFA_F_NODAD. */
int route_addr_add(struct route_state *rs, int ifindex, int family, const uint8_t *addr,
		   unsigned prefixlen);
/* Route dst/plen via ifindex in kite's table (recorded). Host bits of dst are cleared. */
int route_add(struct route_state *rs, int family, const uint8_t *dst, unsigned plen, int ifindex);
/* An unreachable route in kite's table (recorded): blocks a family the tunnel does not carry. */
int route_add_unreachable(struct route_state *rs, int family, const uint8_t *dst, unsigned plen);
/* The two policy rules for a family (recorded). */
int route_rules_add(struct route_state *rs, int family);

/*
 * The kernel's route lookup towards dst (with kite's mark, so the tunnel is
 * bypassed): the source address it would use and the outgoing interface.
 * Opens its own netlink socket (no route_state needed). src gets the family
 * and address (port 0; scope id set for a link-local IPv6 source).
 * Returns 0, or KITE_ERR_SYS when there is no route (errno ENETUNREACH, also
 * for an unreachable/prohibit route), when the route has no source address
 * (errno EADDRNOTAVAIL), or when netlink fails (errno from the kernel, or EIO).
 */
int route_lookup(const struct route_ids *ids, const struct sockaddr_storage *dst,
		 struct sockaddr_storage *src, int *ifindex);

#endif
