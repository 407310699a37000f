/*
 * dp: the data-plane interface (design.md 2.3; strongSwan kernel_ipsec_t,
 * wireguard-tools ipc.h). The IKE core never names TUN, XFRM or netlink; the
 * daemon picks one implementation at start-up and calls it through struct
 * dp_ops with kite's own types.
 *
 * Implementations:
 *   dp_tun   userspace ESP (esp.c) through a TUN device, ESP always
 *            UDP-encapsulated (RFC 3948) on the IKE socket's port; inbound ESP
 *            reaches it through dp_ops.esp_input from the daemon's socket reader.
 *   (dp_xfrm kernel ESP through libnl-xfrm: later)
 *
 * Kernel constraint to remember for MOBIKE (strongSwan kernel_ipsec.h:270): an
 * XFRM state's destination cannot be changed in place; sa_update_addrs must
 * hide "migrate or delete + re-add".
 *
 * Fail closed: while no SA is installed (connecting, reconnecting), packets
 * routed into the tunnel are dropped and counted, never sent in the clear.
 */
#ifndef KITE_DP_H
#define KITE_DP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ike_sa.h"

struct dp;

struct dp_env {
	const char *profile;
	int udp_fd;			/* the IKE socket; ESP-in-UDP is sent on it */
	struct sockaddr_storage gw;	/* gateway address; ESP goes to its port 4500 */
	socklen_t gw_len;
	uint32_t replay_window;
	unsigned outer_mtu;		/* MTU of the path to the gateway (e.g. the uplink's) */
};

struct dp_stats {
	uint64_t bytes_in, bytes_out, packets_in, packets_out;
	uint64_t drop_no_sa;		/* tunnel traffic dropped while no SA was installed */
	uint64_t drop_selector;		/* inbound inner packets outside the traffic selectors */
	uint64_t drop_out_selector;	/* outbound packets the tunnel does not carry */
	uint64_t drop_esp;		/* inbound ESP that failed (malformed, replay, ICV) */
	uint64_t drop_tx;		/* outbound send errors */
};

struct dp_ops {
	const char *name;
	/* Create the device/state. NULL on failure, with one log line naming the cause. */
	struct dp *(*create)(const struct dp_env *env);
	/*
	 * Install a CHILD SA pair (both directions); replaces nothing. Several pairs
	 * live side by side across a rekey (at most DP_MAX_SA): inbound ESP is
	 * matched by SPI against all of them. Outbound traffic moves to the new pair
	 * at once, unless c->out_later is set (kite answered the gateway's rekey) and
	 * another pair carries it: then it moves when that pair is deleted.
	 * Copies the keys (the caller wipes its copy).
	 */
	int (*sa_add)(struct dp *dp, const struct child_sa *c);
	/*
	 * Delete the pair with our inbound SPI. It stops carrying outbound traffic at
	 * once (the newest remaining pair takes over, or none: fail closed); its
	 * inbound side stays for DP_RETIRE_MS, for ESP that was already on its way.
	 */
	int (*sa_del)(struct dp *dp, uint32_t spi_in);
	/*
	 * Volume limits (RFC 4303 3.3.3: the sequence number never cycles): one pair
	 * whose traffic crossed its soft (rekey now) or hard (stop using it) limit
	 * since the last call; 1 with *spi_in and *hard set, 0 when none. Each event
	 * is reported once. Call after input. May be NULL.
	 */
	int (*expired)(struct dp *dp, uint32_t *spi_in, int *hard);
	/* Interface index and name of the tunnel device (for routes and DNS). */
	int (*ifindex)(const struct dp *dp);
	const char *(*ifname)(const struct dp *dp);
	unsigned (*mtu)(const struct dp *dp);
	/* An fd to poll for input (TUN), or -1; call input when it is readable. */
	int (*fd)(const struct dp *dp);
	void (*input)(struct dp *dp);
	/* An ESP packet (starting at the SPI) received on the UDP socket. */
	void (*esp_input)(struct dp *dp, uint8_t *pkt, size_t len);
	void (*stats)(const struct dp *dp, struct dp_stats *st);
	/* Remove the device and every SA. NULL-safe. */
	void (*destroy)(struct dp *dp);
};

#define DP_MAX_SA		8	/* pairs installed at once (live + being deleted) */
#define DP_RETIRE_MS		1000	/* inbound grace of a deleted pair */
/*
 * Volume limits per pair. Without ESN the soft limit leaves half of the 32-bit
 * sequence space for the rekey; the hard one stops just short of the wrap.
 * Bytes count both directions (a backstop: AES-GCM with sequence-number IVs
 * needs no byte limit of its own).
 */
#define DP_SOFT_PACKETS		(1ull << 31)
#define DP_HARD_PACKETS		(0xffffffffull - 1024)
#define DP_SOFT_PACKETS_ESN	(1ull << 62)
#define DP_HARD_PACKETS_ESN	(1ull << 63)
#define DP_SOFT_BYTES		(1ull << 42)
#define DP_HARD_BYTES		(1ull << 43)

extern const struct dp_ops dp_tun_ops;

#endif
