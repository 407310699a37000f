/*
 * dp_tun: userspace ESP through a TUN device (see dp.h). The per-packet path
 * reads a batch from TUN into preallocated buffers with headroom, seals in
 * place and sends the batch with one sendmmsg; inbound ESP is opened in place
 * and written to TUN. Nothing on these paths allocates.
 *
 * Several SA pairs live side by side across a rekey (dp.h): inbound ESP finds
 * its pair by SPI (the last match is tried first), outbound uses dp->out. A
 * deleted pair "retires": it carries no outbound traffic, and its inbound side
 * is cleared lazily once DP_RETIRE_MS have passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "dp.h"
#include "esp.h"
#include "ikev2.h"
#include "kite.h"
#include "log.h"

#define TUN_BATCH	32
/* Inner packets start 32 bytes in: 16-byte aligned (wolfSSL's AES-NI CBC copies unaligned input). */
#define TUN_HEAD	32
#define TUN_BUF		((TUN_HEAD + 65536 + ESP_MAX_TAILROOM + 63) & ~63)
#define TUN_MAX_MTU	9000

struct dp {
	struct dp_env env;
	int fd;
	int ifindex;
	char ifname[IFNAMSIZ];
	unsigned mtu;
	struct tun_sa {
		int state;		/* enum tun_sa_state */
		struct esp_sa out, in;
		struct ike_ts tsi[IKE_MAX_TS], tsr[IKE_MAX_TS];
		size_t n_tsi, n_tsr;
		uint64_t gen;		/* install order */
		uint64_t retire_at;	/* TUN_RETIRING: clear after this (ms, CLOCK_MONOTONIC) */
		uint64_t bytes;		/* inner bytes, both directions */
		uint64_t soft_pkts, hard_pkts;
		int ev_soft, ev_hard;	/* limit crossed: 1 pending, 2 reported */
	} sa[DP_MAX_SA];
	int out;			/* index of the pair carrying outbound traffic, -1 none */
	int last_in;			/* index of the last inbound match */
	uint64_t gen;
	int ev_pending;
	struct sockaddr_storage to;	/* gateway, port 4500 */
	int connected;			/* udp_fd is connected to it: send without an address */
	struct dp_stats st;
	uint8_t *bufs;			/* TUN_BATCH buffers of TUN_BUF bytes */
	struct mmsghdr msgs[TUN_BATCH];
	struct iovec iov[TUN_BATCH];
};

enum tun_sa_state { TUN_FREE = 0, TUN_LIVE, TUN_RETIRING };

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void tun_slot_clear(struct tun_sa *s)
{
	esp_sa_clear(&s->out);
	esp_sa_clear(&s->in);
	crypto_wipe(s, sizeof(*s));
}

static void tun_name_for(const char *profile, char *out)
{
	size_t n = strlen(profile);

	if (n <= IFNAMSIZ - 1 - 3) {
		snprintf(out, IFNAMSIZ, "kt-%s", profile);
	} else {
		unsigned h = 5381;

		for (size_t i = 0; i < n; i++)
			h = h * 33 + (unsigned char)profile[i];
		snprintf(out, IFNAMSIZ, "kt-%.8s%04x", profile, h & 0xffff);
	}
}

static struct dp *tun_create(const struct dp_env *env)
{
	struct dp *dp;
	struct ifreq ifr;

	if ((dp = calloc(1, sizeof(*dp))) == NULL)
		return NULL;
	dp->env = *env;
	dp->fd = -1;
	dp->out = -1;
	dp->bufs = aligned_alloc(64, (size_t)TUN_BATCH * TUN_BUF);
	if (!dp->bufs)
		goto fail;
	dp->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (dp->fd < 0) {
		log_err("cannot open /dev/net/tun: %s%s", strerror(errno),
			errno == ENOENT ? " (load the 'tun' kernel module: modprobe tun)" :
			errno == EACCES || errno == EPERM ? " (run kite as root)" : "");
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	tun_name_for(env->profile, ifr.ifr_name);
	if (ioctl(dp->fd, TUNSETIFF, &ifr) != 0) {
		log_err("cannot create tunnel device %s: %s%s", ifr.ifr_name, strerror(errno),
			errno == EBUSY ? " (is another kite running for this profile?)" :
			errno == EPERM ? " (needs root or CAP_NET_ADMIN)" : "");
		goto fail;
	}
	memcpy(dp->ifname, ifr.ifr_name, IFNAMSIZ);
	dp->ifname[IFNAMSIZ - 1] = '\0';
	dp->ifindex = (int)if_nametoindex(dp->ifname);
	dp->to = env->gw;
	if (dp->to.ss_family == AF_INET)
		((struct sockaddr_in *)&dp->to)->sin_port = htons(IKEV2_NATT_PORT);
	else
		((struct sockaddr_in6 *)&dp->to)->sin6_port = htons(IKEV2_NATT_PORT);
	dp->mtu = 1280;
	{
		/*
		 * No IPv6 link-local address on the tunnel: it would only send router
		 * solicitations into it. A virtual IPv6 address is added explicitly.
		 */
		char path[96];
		int fd;

		snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/addr_gen_mode", dp->ifname);
		if ((fd = open(path, O_WRONLY | O_CLOEXEC)) >= 0) {
			if (write(fd, "1", 1) != 1)
				log_debug("%s: %s", path, strerror(errno));
			close(fd);
		}
	}
	log_debug("created %s (ifindex %d)", dp->ifname, dp->ifindex);
	return dp;
fail:
	if (dp->fd >= 0)
		close(dp->fd);
	free(dp->bufs);
	free(dp);
	return NULL;
}

/* Largest inner packet that fits the outer MTU after IP, UDP and ESP overhead (RFC 4303 2.4). */
static unsigned tun_mtu_for(const struct dp *dp, const struct esp_sa *out)
{
	unsigned outer = dp->env.outer_mtu ? dp->env.outer_mtu : 1500;
	unsigned ip = dp->to.ss_family == AF_INET6 ? 40 : 20;
	unsigned block = (unsigned)out->block_len, avail, inner;

	if (block < 4)
		block = 4;
	if (outer < ip + 8 + 200)
		return 576;
	avail = outer - ip - 8 - ESP_HDR_LEN - (unsigned)out->iv_len - (unsigned)out->icv_len;
	inner = avail / block * block - 2;
	if (inner > TUN_MAX_MTU)
		inner = TUN_MAX_MTU;
	return inner < 576 ? 576 : inner;
}

/* Clear retired pairs whose grace is over. */
static void tun_reap(struct dp *dp, uint64_t now)
{
	for (int i = 0; i < DP_MAX_SA; i++)
		if (dp->sa[i].state == TUN_RETIRING && now >= dp->sa[i].retire_at)
			tun_slot_clear(&dp->sa[i]);
}

/* The newest live pair, -1 for none. */
static int tun_newest(const struct dp *dp)
{
	int best = -1;

	for (int i = 0; i < DP_MAX_SA; i++)
		if (dp->sa[i].state == TUN_LIVE && (best < 0 || dp->sa[i].gen > dp->sa[best].gen))
			best = i;
	return best;
}

static void tun_set_out(struct dp *dp, int i)
{
	if (dp->out == i)
		return;
	dp->out = i;
	if (i >= 0) {
		dp->mtu = tun_mtu_for(dp, &dp->sa[i].out);
		log_debug("outbound traffic on SPI %08x", dp->sa[i].out.spi);
	}
}

static int tun_sa_add(struct dp *dp, const struct child_sa *c)
{
	uint64_t now = mono_ms();
	struct tun_sa *s = NULL;
	int r, idx = -1;

	tun_reap(dp, now);
	for (int i = 0; i < DP_MAX_SA && idx < 0; i++)
		if (dp->sa[i].state != TUN_FREE && dp->sa[i].in.spi == c->spi_in)
			idx = i;	/* the same pair again: replace it */
	for (int i = 0; i < DP_MAX_SA && idx < 0; i++)
		if (dp->sa[i].state == TUN_FREE)
			idx = i;
	if (idx < 0) {
		/* All taken: the oldest retiring pair gives way. */
		for (int i = 0; i < DP_MAX_SA; i++)
			if (dp->sa[i].state == TUN_RETIRING && (idx < 0 || dp->sa[i].gen < dp->sa[idx].gen))
				idx = i;
	}
	if (idx < 0) {
		log_err("cannot install CHILD SA %08x: %d pairs already installed", c->spi_in, DP_MAX_SA);
		return KITE_ERR_NOMEM;
	}
	if (dp->out == idx)
		dp->out = -1;
	if (dp->last_in == idx)
		dp->last_in = 0;
	s = &dp->sa[idx];
	tun_slot_clear(s);
	r = esp_sa_init(&s->out, c->spi_out, c->encr, c->encr_bits, c->integ, c->enc_out,
			c->integ_len ? c->integ_out : NULL, c->esn, 0);
	if (r == 0)
		r = esp_sa_init(&s->in, c->spi_in, c->encr, c->encr_bits, c->integ, c->enc_in,
				c->integ_len ? c->integ_in : NULL, c->esn, dp->env.replay_window);
	if (r != 0) {
		tun_slot_clear(s);
		log_err("cannot set up ESP: %s", kite_strerror(r));
		if (dp->out < 0)
			tun_set_out(dp, tun_newest(dp));
		return r;
	}
	memcpy(s->tsi, c->tsi, sizeof(s->tsi));
	memcpy(s->tsr, c->tsr, sizeof(s->tsr));
	s->n_tsi = c->n_tsi;
	s->n_tsr = c->n_tsr;
	s->soft_pkts = c->esn ? DP_SOFT_PACKETS_ESN : DP_SOFT_PACKETS;
	s->hard_pkts = c->esn ? DP_HARD_PACKETS_ESN : DP_HARD_PACKETS;
	s->gen = ++dp->gen;
	s->state = TUN_LIVE;
	{
		struct sockaddr_storage peer;
		socklen_t pl = sizeof(peer);

		dp->connected = getpeername(dp->env.udp_fd, (struct sockaddr *)&peer, &pl) == 0;
	}
	if (!c->out_later || dp->out < 0)
		tun_set_out(dp, idx);
	return 0;
}

static int tun_sa_del(struct dp *dp, uint32_t spi_in)
{
	uint64_t now = mono_ms();

	for (int i = 0; i < DP_MAX_SA; i++) {
		struct tun_sa *s = &dp->sa[i];

		if (s->state != TUN_LIVE || s->in.spi != spi_in)
			continue;
		s->state = TUN_RETIRING;
		s->retire_at = now + DP_RETIRE_MS;
		esp_sa_clear(&s->out);	/* never sent on again */
		if (dp->out == i)
			tun_set_out(dp, tun_newest(dp));
		tun_reap(dp, now);
		return 0;
	}
	return KITE_ERR_INVAL;
}

static int tun_expired(struct dp *dp, uint32_t *spi_in, int *hard)
{
	if (!dp->ev_pending)
		return 0;
	for (int i = 0; i < DP_MAX_SA; i++) {
		struct tun_sa *s = &dp->sa[i];

		if (s->state != TUN_LIVE)
			continue;
		if (s->ev_hard == 1 || s->ev_soft == 1) {
			*hard = s->ev_hard == 1;
			if (*hard)
				s->ev_hard = 2;
			else
				s->ev_soft = 2;
			*spi_in = s->in.spi;
			return 1;
		}
	}
	dp->ev_pending = 0;
	return 0;
}

/* Soft/hard volume limits, on the packet path: two compares. */
static inline int tun_limits(struct dp *dp, struct tun_sa *s, uint64_t seq)
{
	if (seq < s->soft_pkts && s->bytes < DP_SOFT_BYTES)
		return 0;
	if (!s->ev_soft) {
		s->ev_soft = 1;
		dp->ev_pending = 1;
	}
	if (seq < s->hard_pkts && s->bytes < DP_HARD_BYTES)
		return 0;
	if (!s->ev_hard) {
		s->ev_hard = 1;
		dp->ev_pending = 1;
	}
	return -1;
}

static int tun_ifindex(const struct dp *dp)
{
	return dp->ifindex;
}

static const char *tun_ifname(const struct dp *dp)
{
	return dp->ifname;
}

static unsigned tun_mtu(const struct dp *dp)
{
	return dp->mtu;
}

static int tun_fd(const struct dp *dp)
{
	return dp->fd;
}

/* Is the address (4 or 16 bytes) inside one of the selectors' address ranges? */
static int ts_match(const struct ike_ts *ts, size_t n, int v6, const uint8_t *addr)
{
	size_t alen = v6 ? 16 : 4;
	uint8_t type = v6 ? IKEV2_TS_IPV6_ADDR_RANGE : IKEV2_TS_IPV4_ADDR_RANGE;

	for (size_t i = 0; i < n; i++) {
		if (ts[i].type != type)
			continue;
		if (memcmp(addr, ts[i].start, alen) >= 0 && memcmp(addr, ts[i].end, alen) <= 0)
			return 1;
	}
	return 0;
}

/* Version and the source/destination addresses of an IP packet; 0 if not IP. */
static int ip_addrs(const uint8_t *p, size_t len, const uint8_t **src, const uint8_t **dst)
{
	if (len >= 20 && (p[0] >> 4) == 4) {
		*src = p + 12;
		*dst = p + 16;
		return 4;
	}
	if (len >= 40 && (p[0] >> 4) == 6) {
		*src = p + 8;
		*dst = p + 24;
		return 6;
	}
	return 0;
}

static void tun_input(struct dp *dp)
{
	unsigned n = 0;
	size_t head = TUN_HEAD;
	struct tun_sa *s = dp->out >= 0 ? &dp->sa[dp->out] : NULL;

	for (int round = 0; round < 4; round++) {
		n = 0;
		while (n < TUN_BATCH) {
			uint8_t *buf = dp->bufs + (size_t)n * TUN_BUF;
			ssize_t len = read(dp->fd, buf + head, TUN_BUF - head - ESP_MAX_TAILROOM);
			const uint8_t *src, *dst;
			uint8_t *out;
			size_t out_len;
			int ver;

			if (len <= 0)
				break;
			if (!s) {
				dp->st.drop_no_sa++;
				continue;
			}
			ver = ip_addrs(buf + head, (size_t)len, &src, &dst);
			if (!ver || !ts_match(s->tsr, s->n_tsr, ver == 6, dst)) {
				dp->st.drop_out_selector++;
				continue;
			}
			s->bytes += (uint64_t)len;
			if (tun_limits(dp, s, s->out.seq) != 0) {
				/* hard limit: the pair must not be used any more (fail closed) */
				dp->st.drop_no_sa++;
				continue;
			}
			if (esp_encap(&s->out, buf + head, (size_t)len,
				      ver == 6 ? ESP_NH_IPV6 : ESP_NH_IPV4, &out, &out_len) != 0) {
				dp->st.drop_tx++;
				continue;
			}
			dp->iov[n].iov_base = out;
			dp->iov[n].iov_len = out_len;
			memset(&dp->msgs[n].msg_hdr, 0, sizeof(dp->msgs[n].msg_hdr));
			if (!dp->connected) {
				dp->msgs[n].msg_hdr.msg_name = &dp->to;
				dp->msgs[n].msg_hdr.msg_namelen = dp->env.gw_len;
			}
			dp->msgs[n].msg_hdr.msg_iov = &dp->iov[n];
			dp->msgs[n].msg_hdr.msg_iovlen = 1;
			dp->st.packets_out++;
			dp->st.bytes_out += (uint64_t)len;
			n++;
		}
		if (n) {
			unsigned sent = 0;

			while (sent < n) {
				int r = sendmmsg(dp->env.udp_fd, dp->msgs + sent, n - sent, 0);

				if (r <= 0) {
					dp->st.drop_tx += n - sent;
					break;
				}
				sent += (unsigned)r;
			}
		}
		if (n < TUN_BATCH)
			break;
	}
}

static void tun_esp_input(struct dp *dp, uint8_t *pkt, size_t len)
{
	uint8_t *inner, nh;
	size_t inner_len;
	const uint8_t *src, *dst;
	uint32_t spi = esp_spi(pkt, len);
	struct tun_sa *s = &dp->sa[dp->last_in];
	int r, ver;

	if (s->state == TUN_FREE || s->in.spi != spi) {
		s = NULL;
		for (int i = 0; i < DP_MAX_SA; i++) {
			if (dp->sa[i].state != TUN_FREE && dp->sa[i].in.spi == spi) {
				s = &dp->sa[i];
				dp->last_in = i;
				break;
			}
		}
	}
	if (!s || spi == 0) {
		dp->st.drop_esp++;
		return;
	}
	if (s->state == TUN_RETIRING && mono_ms() >= s->retire_at) {
		tun_slot_clear(s);
		dp->st.drop_esp++;
		return;
	}
	r = esp_decap(&s->in, pkt, len, &inner, &inner_len, &nh);
	if (r != 0) {
		if (r < 0)
			dp->st.drop_esp++;
		return;
	}
	ver = ip_addrs(inner, inner_len, &src, &dst);
	/* Inbound selector check (RFC 4301 5.2): source in TSr, destination in TSi. */
	if (!ver || (nh == ESP_NH_IPV4) != (ver == 4) ||
	    !ts_match(s->tsr, s->n_tsr, ver == 6, src) ||
	    !ts_match(s->tsi, s->n_tsi, ver == 6, dst)) {
		dp->st.drop_selector++;
		return;
	}
	if (s->state == TUN_LIVE) {
		s->bytes += inner_len;
		tun_limits(dp, s, s->out.seq);
	}
	if (write(dp->fd, inner, inner_len) < 0) {
		dp->st.drop_tx++;
		return;
	}
	dp->st.packets_in++;
	dp->st.bytes_in += inner_len;
}

static void tun_stats(const struct dp *dp, struct dp_stats *st)
{
	*st = dp->st;
}

static void tun_destroy(struct dp *dp)
{
	if (!dp)
		return;
	for (int i = 0; i < DP_MAX_SA; i++)
		tun_slot_clear(&dp->sa[i]);
	if (dp->fd >= 0)
		close(dp->fd);
	if (dp->bufs) {
		crypto_wipe(dp->bufs, (size_t)TUN_BATCH * TUN_BUF);
		free(dp->bufs);
	}
	free(dp);
}

const struct dp_ops dp_tun_ops = {
	.name = "tun",
	.create = tun_create,
	.sa_add = tun_sa_add,
	.sa_del = tun_sa_del,
	.ifindex = tun_ifindex,
	.ifname = tun_ifname,
	.mtu = tun_mtu,
	.fd = tun_fd,
	.input = tun_input,
	.esp_input = tun_esp_input,
	.stats = tun_stats,
	.expired = tun_expired,
	.destroy = tun_destroy,
};
