/*
 * dns: apply the tunnel's DNS servers and domains, and undo it.
 * Back ends, in order of preference:
 *   1. systemd-resolved, when it runs (/run/systemd/resolve/io.systemd.Resolve
 *      exists): per-link DNS on the tunnel device via `resolvectl dns/domain`
 *      (routing domain "~." for a full tunnel, the given domains otherwise);
 *      removed with the device;
 *   2. resolvconf (`resolvconf -a IFACE.kite`, `-d` to undo);
 *   3. /etc/resolv.conf rewritten in place (never renamed over: it may be a
 *      bind mount, e.g. under `ip netns exec`), with the original saved as
 *      /run/kite/NAME.resolv.conf and restored on undo or at the next start
 *      after a crash.
 * Commands are run with fork/exec, never through a shell.
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

/* Apply; on success st records how to undo. run_dir is /run/kite (tests may change it). */
int dns_apply(struct dns_state *st, const char *run_dir, const char *profile, const char *ifname,
	      const struct dns_config *c);
/* Undo what dns_apply did (no-op for DNS_NONE). */
void dns_undo(struct dns_state *st);
/* Restore a resolv.conf left modified by a crashed kite (backup file present). */
void dns_cleanup_stale(const char *run_dir, const char *profile);
const char *dns_backend_name(enum dns_backend b);

#endif
