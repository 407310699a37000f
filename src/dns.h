/*
 * dns: apply the tunnel's DNS servers and domains, and undo it.
 * Back ends, in order of preference:
 *   1. systemd-resolved, when it runs (/run/systemd/resolve/io.systemd.Resolve
 *      exists) and resolvectl is installed: per-link DNS on the tunnel device
 *      via `resolvectl dns/domain` (routing domain "~." for a full tunnel, the
 *      given domains otherwise), plus `resolvectl default-route` (yes for a
 *      full tunnel, no for a split tunnel with domains); `resolvectl revert` on
 *      undo, and removed with the device anyway;
 *   2. resolvconf (/sbin or /usr/sbin): `resolvconf -a IFACE.kite` with the
 *      lines on stdin, `-d` to undo. Like wg-quick, the record name gets the
 *      first "name*" pattern of /etc/resolvconf/interface-order as a prefix
 *      (normally "tun.IFACE.kite"), so it sorts with the tunnels, before the LAN;
 *   3. /etc/resolv.conf rewritten in place (never renamed over: it may be a
 *      bind mount, e.g. under `ip netns exec`), with the original saved as
 *      RUN_DIR/NAME.resolv.conf (created complete or not at all) and restored
 *      on undo or at the next start after a crash. The new file holds the
 *      header "# written by kite for NAME; restored on disconnect", at most 3
 *      nameserver lines (glibc reads no more), a search line (at most 6
 *      domains) and the original's "options" lines. The restore writes the
 *      file only while it still starts with that header (or is empty); if
 *      another program rewrote it meanwhile, its newer content is kept.
 * Domains are checked again here: only 1..253 characters of [A-Za-z0-9._-],
 * not starting with '-' or '.'; others are dropped with a warning.
 * Commands are run with fork/execve (absolute path, fixed PATH and LC_ALL=C,
 * never through a shell), output discarded unless logging at debug level,
 * and killed after 5 s.
 *
 * KITE_DNS_BACKEND (environment; for tests): "file", "resolvconf" or
 * "resolved" forces that back end (the latter two only when installed)
 * instead of detecting one.
 */
#ifndef KITE_DNS_H
#define KITE_DNS_H

#include <stdint.h>

struct dns_config {
	uint8_t v4[4][4];
	unsigned n_v4;
	uint8_t v6[4][16];
	unsigned n_v6;
	const char *domains;	/* space separated, may be empty */
	int full_tunnel;	/* route all DNS queries to these servers */
};

enum dns_backend { DNS_NONE = 0, DNS_RESOLVED, DNS_RESOLVCONF, DNS_FILE };

struct dns_state {
	enum dns_backend backend;
	char ifname[32];
	char profile[40];
	char backup[128];	/* saved resolv.conf (DNS_FILE) */
};

/*
 * Apply; on success st records how to undo (st->backend DNS_NONE when there
 * was nothing to apply: no servers). run_dir is /run/kite (tests may change
 * it; created 0700 if missing). Returns 0, KITE_ERR_INVAL (bad names),
 * KITE_ERR_TIMEOUT (a command hung) or KITE_ERR_SYS (logged).
 */
int dns_apply(struct dns_state *st, const char *run_dir, const char *profile, const char *ifname,
	      const struct dns_config *c);
/* Undo what dns_apply did (no-op for DNS_NONE). */
void dns_undo(struct dns_state *st);
/* Restore a resolv.conf left modified by a crashed kite (backup file present). */
void dns_cleanup_stale(const char *run_dir, const char *profile);
const char *dns_backend_name(enum dns_backend b);

#endif
