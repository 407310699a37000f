/*
 * daemon: see daemon.h. Single-threaded: poll() on the IKE socket, the TUN
 * device, the control socket and a signalfd, with the core's next deadline as
 * the timeout. Everything installed on the host is undone on every way out.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "ctl.h"
#include "daemon.h"
#include "dns.h"
#include "dp.h"
#include "ike_sa.h"
#include "ikev2.h"
#include "kite.h"
#include "log.h"
#include "netmon.h"
#include "route.h"
#include "x509.h"

#define DELETE_WAIT_MS	3000	/* how long a closing DELETE may wait for its answer */
#define MAX_WAITERS	8
#define HOOK_TIMEOUT_MS	10000
#define SECRET_WAIT_MS	120000	/* how long a daemon waits for its EAP password */
#define OLD_PATH_GRACE_MS	2000	/* receive on the previous path this long after a move */
#define ROAM_DEBOUNCE_MS	20	/* coalescing of other network changes (strongSwan: 100 ms) */

struct conn {
	const struct kite_profile *prof;
	const struct daemon_opts *o;
	int fd;				/* IKE + ESP-in-UDP socket */
	struct sockaddr_storage gw;	/* gateway, IKE port */
	socklen_t gw_len;
	struct sockaddr_storage local;
	struct ike_sa *sa;
	const struct dp_ops *dpo;
	struct dp *dp;
	struct route_ids ids;
	struct route_state *rs;
	struct dns_state dns;
	int dns_applied;
	int ctl_fd;
	int waiters[MAX_WAITERS];
	int n_waiters;
	int report_fd;
	int up;				/* tunnel installed */
	uint64_t up_since;
	uint64_t next_keepalive;
	struct child_sa child;		/* without keys */
	struct ike_cfg_result cfg;
	/* roaming and reconnecting (design.md 5) */
	struct ike_params params;	/* for new IKE SAs (reconnect); psk lives in the SA */
	uint8_t *psk;
	size_t psk_len;
	struct netmon *nm;
	struct x509_store *ca;
	struct ike_sa *probe;		/* a new IKE SA tried while the current one's liveness check goes unanswered */
	uint64_t roam_at;		/* evaluate the path at this time (debounced), UINT64_MAX: no */
	int no_path;			/* no route to the gateway: SA held, traffic blocked */
	int roam_again;			/* look once more shortly after acting on a removal */
	int old_fd;			/* the socket of the previous path, still received on briefly */
	uint64_t old_fd_until;
	uint64_t reconnect_at;		/* start a new IKE SA at this time, UINT64_MAX: no */
	unsigned backoff_s;
	uint64_t reconnects;
	uint64_t mobike_updates;	/* of earlier IKE SAs */
	int closing;
	uint64_t last_activity;		/* last authenticated IKE message or ESP packet from the gateway */
	uint64_t last_pkts_in;
	int64_t boot_delta;		/* CLOCK_BOOTTIME - CLOCK_MONOTONIC, to see suspends */
	char last_event[160];
	uint8_t txbuf[IKEV2_MAX_MSG + 8];
};

uint64_t daemon_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static uint16_t get_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static const char *ip_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	buf[0] = '\0';
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, buf, (socklen_t)len);
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, buf, (socklen_t)len);
	return buf;
}

/* "addr:port" / "[addr]:port" for logs and status. */
static const char *addr_str(const struct sockaddr_storage *ss, uint16_t port, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	ip_str(ss, a, sizeof(a));
	snprintf(buf, len, ss->ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
	return buf;
}

static int same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return !memcmp(&((const struct sockaddr_in *)a)->sin_addr,
			       &((const struct sockaddr_in *)b)->sin_addr, 4);
	return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		       &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
}

/* ---- the updown hook (vpnc-script-like environment) ---- */

static void env_add(char **env, int *n, int max, const char *k, const char *v)
{
	size_t l;

	if (*n >= max - 1 || !v)
		return;
	l = strlen(k) + strlen(v) + 2;
	if ((env[*n] = malloc(l)) == NULL)
		return;
	snprintf(env[*n], l, "%s=%s", k, v);
	(*n)++;
	env[*n] = NULL;
}

/* Convert an address range into CIDR prefixes (at most max); returns the count. */
static int range_to_prefixes(const uint8_t *start, const uint8_t *end, int alen,
			     uint8_t out[][16], unsigned *plen, int max)
{
	uint8_t cur[16];
	int n = 0;

	memcpy(cur, start, (size_t)alen);
	while (n < max && memcmp(cur, end, (size_t)alen) <= 0) {
		int bits = alen * 8, p;
		uint8_t last[16];

		/* The largest aligned block starting at cur that ends <= end. */
		for (p = 0; p <= bits; p++) {
			int ok = 1, i;

			/* cur must have zero host bits for prefix p */
			for (i = p; i < bits && ok; i++)
				if (cur[i / 8] & (0x80 >> (i % 8)))
					ok = 0;
			if (!ok)
				continue;
			memcpy(last, cur, (size_t)alen);
			for (i = p; i < bits; i++)
				last[i / 8] |= (uint8_t)(0x80 >> (i % 8));
			if (memcmp(last, end, (size_t)alen) <= 0)
				break;
		}
		if (p > bits)
			break;
		memcpy(out[n], cur, (size_t)alen);
		plen[n] = (unsigned)p;
		n++;
		/* cur = last + 1, stop on overflow */
		{
			int i = alen - 1;

			while (i >= 0 && ++last[i] == 0)
				i--;
			if (i < 0)
				break;
			memcpy(cur, last, (size_t)alen);
		}
	}
	return n;
}

static void run_hook(struct conn *c, const char *reason)
{
	char *env[64] = { NULL };
	int n = 0, max = 64, nsplit = 0;
	char buf[256], key[64];
	char dns[256] = "", ab[INET6_ADDRSTRLEN];
	pid_t pid;

	if (!c->prof->updown)
		return;
	env_add(env, &n, max, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	env_add(env, &n, max, "reason", reason);
	env_add(env, &n, max, "KITE_PROFILE", c->prof->name);
	if (c->dp)
		env_add(env, &n, max, "TUNDEV", c->dpo->ifname(c->dp));
	env_add(env, &n, max, "VPNGATEWAY", ip_str(&c->gw, buf, sizeof(buf)));
	if (c->cfg.has_vip4) {
		inet_ntop(AF_INET, c->cfg.vip4, buf, sizeof(buf));
		env_add(env, &n, max, "INTERNAL_IP4_ADDRESS", buf);
		env_add(env, &n, max, "INTERNAL_IP4_NETMASK", "255.255.255.255");
	}
	if (c->dp) {
		snprintf(buf, sizeof(buf), "%u", c->dpo->mtu(c->dp));
		env_add(env, &n, max, "INTERNAL_IP4_MTU", buf);
	}
	for (unsigned i = 0; i < c->cfg.n_dns4; i++) {
		size_t o = strlen(dns);

		inet_ntop(AF_INET, c->cfg.dns4[i], ab, sizeof(ab));
		snprintf(dns + o, sizeof(dns) - o, "%s%s", o ? " " : "", ab);
	}
	if (dns[0])
		env_add(env, &n, max, "INTERNAL_IP4_DNS", dns);
	if (c->cfg.has_vip6) {
		char a[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, c->cfg.vip6, a, sizeof(a));
		env_add(env, &n, max, "INTERNAL_IP6_ADDRESS", a);
		snprintf(buf, sizeof(buf), "%s/%u", a, c->cfg.vip6_prefix);
		env_add(env, &n, max, "INTERNAL_IP6_NETMASK", buf);
	}
	dns[0] = '\0';
	for (unsigned i = 0; i < c->cfg.n_dns6; i++) {
		size_t o = strlen(dns);

		inet_ntop(AF_INET6, c->cfg.dns6[i], ab, sizeof(ab));
		snprintf(dns + o, sizeof(dns) - o, "%s%s", o ? " " : "", ab);
	}
	if (dns[0])
		env_add(env, &n, max, "INTERNAL_IP6_DNS", dns);
	if (c->cfg.domains[0])
		env_add(env, &n, max, "CISCO_DEF_DOMAIN", c->cfg.domains);
	for (size_t i = 0; i < c->child.n_tsr && nsplit < 16; i++) {
		uint8_t pfx[8][16];
		unsigned pl[8];
		const struct ike_ts *t = &c->child.tsr[i];
		int k, cnt;

		if (t->type != IKEV2_TS_IPV4_ADDR_RANGE)
			continue;
		cnt = range_to_prefixes(t->start, t->end, 4, pfx, pl, 8);
		for (k = 0; k < cnt && nsplit < 16; k++, nsplit++) {
			uint32_t mask = pl[k] ? htonl(0xffffffffu << (32 - pl[k])) : 0;

			inet_ntop(AF_INET, pfx[k], buf, sizeof(buf));
			snprintf(key, sizeof(key), "CISCO_SPLIT_INC_%d_ADDR", nsplit);
			env_add(env, &n, max, key, buf);
			inet_ntop(AF_INET, &mask, buf, sizeof(buf));
			snprintf(key, sizeof(key), "CISCO_SPLIT_INC_%d_MASK", nsplit);
			env_add(env, &n, max, key, buf);
			snprintf(buf, sizeof(buf), "%u", pl[k]);
			snprintf(key, sizeof(key), "CISCO_SPLIT_INC_%d_MASKLEN", nsplit);
			env_add(env, &n, max, key, buf);
		}
	}
	snprintf(buf, sizeof(buf), "%d", nsplit);
	env_add(env, &n, max, "CISCO_SPLIT_INC", buf);

	pid = fork();
	if (pid == 0) {
		char *argv[] = { c->prof->updown, (char *)(uintptr_t)reason, NULL };
		int dn = open("/dev/null", O_RDWR);

		if (dn >= 0) {
			dup2(dn, 0);
			if (!c->o->foreground) {
				dup2(dn, 1);
				dup2(dn, 2);
			}
		}
		execve(c->prof->updown, argv, env);
		_exit(127);
	}
	if (pid > 0) {
		int st = 0;
		uint64_t dl = daemon_now_ms() + HOOK_TIMEOUT_MS;

		while (waitpid(pid, &st, WNOHANG) == 0) {
			if (daemon_now_ms() > dl) {
				log_warn("updown script %s did not finish in %d s: killed", c->prof->updown,
					 HOOK_TIMEOUT_MS / 1000);
				kill(pid, SIGKILL);
				waitpid(pid, &st, 0);
				break;
			}
			usleep(10000);
		}
		if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
			log_warn("updown script %s %s exited with %d", c->prof->updown, reason,
				 WEXITSTATUS(st));
	}
	for (int i = 0; i < n; i++)
		free(env[i]);
}

static void conn_event(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * kite's other usable addresses (global scope, not the tunnel's, not the one in
 * use) for mobike_announce = yes.
 */
static void conn_announce_addrs(struct conn *c)
{
	struct sockaddr_storage out[8];
	struct ifaddrs *ifa = NULL;
	unsigned n = 0;

	if (!c->sa || !c->prof->mobike_announce || getifaddrs(&ifa) != 0)
		return;
	for (struct ifaddrs *i = ifa; i && n < KITE_ARRAY_SIZE(out); i = i->ifa_next) {
		struct sockaddr_storage ss;

		if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
			continue;
		if (c->dp && !strcmp(i->ifa_name, c->dpo->ifname(c->dp)))
			continue;
		memset(&ss, 0, sizeof(ss));
		if (i->ifa_addr->sa_family == AF_INET)
			memcpy(&ss, i->ifa_addr, sizeof(struct sockaddr_in));
		else if (i->ifa_addr->sa_family == AF_INET6 &&
			 !IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr))
			memcpy(&ss, i->ifa_addr, sizeof(struct sockaddr_in6));
		else
			continue;
		if (same_host(&ss, &c->local))
			continue;
		out[n++] = ss;
	}
	freeifaddrs(ifa);
	ike_mobike_set_addrs(c->sa, out, n);
}

/* ---- IKE callbacks ---- */

static int conn_send(void *ctx, const uint8_t *buf, size_t len, int natt)
{
	struct conn *c = ctx;
	struct sockaddr_storage to = c->gw;
	ssize_t n;

	if (natt) {
		/* Non-ESP marker (RFC 3948 2.2) in front of IKE on port 4500. */
		if (len + 4 > sizeof(c->txbuf))
			return KITE_ERR_INVAL;
		memset(c->txbuf, 0, 4);
		memcpy(c->txbuf + 4, buf, len);
		buf = c->txbuf;
		len += 4;
		set_port(&to, IKEV2_NATT_PORT);
	}
	n = sendto(c->fd, buf, len, 0, (struct sockaddr *)&to, c->gw_len);
	if (n < 0) {
		/* Treated like a lost packet: the retransmission timer decides (RFC 7296 2.4). */
		log_debug("sendto: %s", strerror(errno));
		return KITE_ERR_SYS;
	}
	return 0;
}

static void conn_report(struct conn *c, const char *line)
{
	if (c->report_fd < 0)
		return;
	if (write(c->report_fd, line, strlen(line)) < 0)
		log_debug("report: %s", strerror(errno));
	close(c->report_fd);
	c->report_fd = -1;
}

static void conn_state(void *ctx, struct ike_sa *sa, enum ike_state st, const char *reason)
{
	(void)ctx;
	(void)sa;
	(void)st;
	(void)reason;
}

/* Install routes for the tunnel: TSr via the device, and block what the tunnel does not carry. */
static int install_routes(struct conn *c)
{
	int ifindex = c->dpo->ifindex(c->dp), fam4 = 0, fam6 = 0, r = 0;

	for (size_t i = 0; i < c->child.n_tsr && r == 0; i++) {
		const struct ike_ts *t = &c->child.tsr[i];
		int v6 = t->type == IKEV2_TS_IPV6_ADDR_RANGE, alen = v6 ? 16 : 4, cnt;
		uint8_t pfx[32][16];
		unsigned pl[32];

		cnt = range_to_prefixes(t->start, t->end, alen, pfx, pl, 32);
		for (int k = 0; k < cnt && r == 0; k++)
			r = route_add(c->rs, v6 ? AF_INET6 : AF_INET, pfx[k], pl[k], ifindex);
		if (v6)
			fam6 = 1;
		else
			fam4 = 1;
	}
	if (r)
		return r;
	if (!fam6 && c->prof->ipv6_leak_block) {
		static const uint8_t any[16];

		/* The tunnel carries no IPv6: make IPv6 unreachable instead of leaking it. */
		if ((r = route_add_unreachable(c->rs, AF_INET6, any, 0)) != 0)
			return r;
		fam6 = 1;
		log_info("IPv6 blocked while connected (the tunnel carries IPv4 only; ipv6_leak_block = no to allow)");
	}
	if (fam4 && (r = route_rules_add(c->rs, AF_INET)) != 0)
		return r;
	if (fam6 && (r = route_rules_add(c->rs, AF_INET6)) != 0)
		return r;
	return 0;
}

static int conn_child_up(void *ctx, struct ike_sa *sa, const struct child_sa *ch,
			 const struct ike_cfg_result *cfg)
{
	struct conn *c = ctx;

	if (sa == c->probe && c->sa) {
		/*
		 * The gateway answered a brand-new IKE SA while ignoring the liveness check
		 * of the current one: it has lost our SA (restarted). Switch now.
		 */
		conn_event(c, "the gateway forgot kite's IKE SA (restarted?): switched to a new IKE SA");
		if (c->child.spi_in)
			c->dpo->sa_del(c->dp, c->child.spi_in);
		c->mobike_updates += ike_sa_mobike_updates(c->sa);
		ike_sa_free(c->sa);
		c->sa = sa;
		c->probe = NULL;
		c->reconnects++;
	}
	int ifindex = c->dpo->ifindex(c->dp), r;

	if (ike_sa_natt(sa)) {
		/*
		 * From here on everything goes to the gateway's port 4500: a connected socket
		 * lets the kernel cache the route instead of looking it up (through kite's
		 * policy rules) for every ESP packet.
		 */
		struct sockaddr_storage to = c->gw;

		set_port(&to, IKEV2_NATT_PORT);
		if (connect(c->fd, (struct sockaddr *)&to, c->gw_len) != 0)
			log_debug("connect to the gateway's port 4500: %s", strerror(errno));
	}
	if ((r = c->dpo->sa_add(c->dp, ch)) != 0)
		return r;
	if (c->up && !cfg) {
		/* A rekey: the new SA pair is installed; the host configuration stays. */
		c->child.spi_in = ch->spi_in;
		c->child.spi_out = ch->spi_out;
		return 0;
	}
	if (c->up) {
		/* Reconnected: keep the device, routes and DNS when nothing changed (no gap, no leak). */
		int same = cfg->has_vip4 == c->cfg.has_vip4 && !memcmp(cfg->vip4, c->cfg.vip4, 4) &&
			   cfg->has_vip6 == c->cfg.has_vip6 && !memcmp(cfg->vip6, c->cfg.vip6, 16) &&
			   ch->n_tsr == c->child.n_tsr &&
			   !memcmp(ch->tsr, c->child.tsr, ch->n_tsr * sizeof(ch->tsr[0]));

		c->child.spi_in = ch->spi_in;
		c->child.spi_out = ch->spi_out;
		c->backoff_s = 0;
		if (same) {
			log_info("reconnected: tunnel %s unchanged", c->dpo->ifname(c->dp));
			snprintf(c->last_event, sizeof(c->last_event), "reconnected");
			run_hook(c, "reconnect");
			return 0;
		}
		log_info("reconnected with a different virtual IP or traffic selectors: reconfiguring %s",
			 c->dpo->ifname(c->dp));
		route_undo(c->rs);
	}
	c->child = *ch;
	crypto_wipe(c->child.enc_in, sizeof(c->child.enc_in));
	crypto_wipe(c->child.enc_out, sizeof(c->child.enc_out));
	crypto_wipe(c->child.integ_in, sizeof(c->child.integ_in));
	crypto_wipe(c->child.integ_out, sizeof(c->child.integ_out));
	c->cfg = *cfg;
	if ((r = route_link_up(c->rs, ifindex, c->dpo->mtu(c->dp))) != 0)
		goto fail;
	if (cfg->has_vip4 && (r = route_addr_add(c->rs, ifindex, AF_INET, cfg->vip4, 32)) != 0)
		goto fail;
	if (cfg->has_vip6 && (r = route_addr_add(c->rs, ifindex, AF_INET6, cfg->vip6, 128)) != 0)
		goto fail;
	if ((r = install_routes(c)) != 0)
		goto fail;
	if (c->prof->dns && (cfg->n_dns4 || cfg->n_dns6)) {
		struct dns_config d;
		int full = 0;

		memset(&d, 0, sizeof(d));
		memcpy(d.v4, cfg->dns4, sizeof(d.v4));
		d.n_v4 = cfg->n_dns4;
		memcpy(d.v6, cfg->dns6, sizeof(d.v6));
		d.n_v6 = cfg->n_dns6;
		d.domains = cfg->domains;
		for (size_t i = 0; i < ch->n_tsr; i++) {
			static const uint8_t zero[16];

			if (!memcmp(ch->tsr[i].start, zero, ch->tsr[i].type == IKEV2_TS_IPV6_ADDR_RANGE ? 16 : 4))
				full = 1;
		}
		d.full_tunnel = full;
		if (dns_apply(&c->dns, KITE_RUN_DIR, c->prof->name, c->dpo->ifname(c->dp), &d) == 0) {
			c->dns_applied = 1;
			log_info("DNS servers applied (%s)", dns_backend_name(c->dns.backend));
		} else {
			log_warn("could not apply the tunnel's DNS servers; continuing without them");
		}
	}
	{
		int again = c->up;

		c->up = 1;
		c->backoff_s = 0;
		if (!again)
			c->up_since = daemon_now_ms();
		run_hook(c, again ? "reconnect" : "connect");
	}
	{
		char vip[INET6_ADDRSTRLEN] = "";

		if (cfg->has_vip4)
			inet_ntop(AF_INET, cfg->vip4, vip, sizeof(vip));
		log_info("tunnel up on %s (mtu %u)%s%s", c->dpo->ifname(c->dp), c->dpo->mtu(c->dp),
			 vip[0] ? ", virtual IP " : "", vip);
	}
	conn_report(c, "up\n");
	if (ike_sa_mobike(sa))
		ike_dpd(sa, daemon_now_ms());	/* NAT-D baseline for mapping changes (RFC 4555 3.8) */
	return 0;
fail:
	log_err("cannot configure the tunnel device: %s", kite_strerror(r));
	c->dpo->sa_del(c->dp, ch->spi_in);
	return r;
}

static void conn_child_down(void *ctx, struct ike_sa *sa, uint32_t spi_in)
{
	struct conn *c = ctx;

	if (c->dp && c->dpo->sa_del(c->dp, spi_in) == 0)
		log_debug("CHILD SA %08x removed from the data plane", spi_in);
}

static const struct ike_ops conn_ops = {
	.send = conn_send,
	.state = conn_state,
	.child_up = conn_child_up,
	.child_down = conn_child_down,
};

/* ---- set-up ---- */

static int resolve_gateway(const struct kite_profile *prof, struct sockaddr_storage *out,
			   socklen_t *len)
{
	struct addrinfo hints, *res = NULL;
	char port[8];
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_protocol = IPPROTO_UDP;
	snprintf(port, sizeof(port), "%u", prof->gateway_port ? prof->gateway_port : IKEV2_PORT);
	r = getaddrinfo(prof->gateway, port, &hints, &res);
	if (r != 0 || !res) {
		log_err("cannot resolve gateway '%s': %s (check 'gateway' in %s, and DNS)", prof->gateway,
			gai_strerror(r), prof->file ? prof->file : "the config");
		return KITE_ERR_SYS;
	}
	memcpy(out, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static unsigned link_mtu(int ifindex)
{
	struct ifreq ifr;
	unsigned mtu = 1500;
	int fd;

	memset(&ifr, 0, sizeof(ifr));
	if (ifindex <= 0 || !if_indextoname((unsigned)ifindex, ifr.ifr_name))
		return mtu;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu >= 576)
		mtu = (unsigned)ifr.ifr_mtu;
	if (fd >= 0)
		close(fd);
	return mtu;
}

/*
 * A UDP socket from the address the kernel's route lookup picks towards the
 * gateway (with kite's mark: the tunnel is bypassed). When c->fd is already
 * open the new socket takes over its descriptor number (dup2), so the data
 * plane keeps using the same fd. to4500: connect it to the gateway's port
 * 4500 (after NAT-T floating) so the kernel caches the route.
 */
static int conn_socket(struct conn *c, int to4500, unsigned *outer_mtu)
{
	struct sockaddr_storage local;
	socklen_t l = sizeof(local);
	int ifindex = 0, fd, sz = 4 << 20;
	char buf[80];

	if (route_lookup(&c->ids, &c->gw, &local, &ifindex) != 0) {
		log_err("no route to the gateway %s: %s (is the network up?)",
			ip_str(&c->gw, buf, sizeof(buf)), strerror(errno));
		return KITE_ERR_SYS;
	}
	if (outer_mtu)
		*outer_mtu = link_mtu(ifindex);
	fd = socket(c->gw.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		log_err("socket: %s", strerror(errno));
		return KITE_ERR_SYS;
	}
	/* kite's own packets carry the mark so the tunnel routes never capture them (route.h). */
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &c->ids.mark, sizeof(c->ids.mark)) != 0) {
		log_err("cannot mark the IKE socket (SO_MARK): %s (needs CAP_NET_ADMIN)", strerror(errno));
		close(fd);
		return KITE_ERR_SYS;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
	set_port(&local, 0);
	if (bind(fd, (struct sockaddr *)&local, local.ss_family == AF_INET ?
		 sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&local, &l) != 0) {
		log_err("cannot bind a UDP socket: %s", strerror(errno));
		close(fd);
		return KITE_ERR_SYS;
	}
	if (to4500) {
		struct sockaddr_storage to = c->gw;

		set_port(&to, IKEV2_NATT_PORT);
		if (connect(fd, (struct sockaddr *)&to, c->gw_len) != 0)
			log_debug("connect to the gateway's port 4500: %s", strerror(errno));
	}
	if (c->fd >= 0) {
		/*
		 * Make-before-break: the gateway may still send on the old path until it
		 * has moved its SAs; keep receiving there for a moment.
		 */
		if (c->old_fd >= 0)
			close(c->old_fd);
		c->old_fd = dup(c->fd);
		c->old_fd_until = daemon_now_ms() + OLD_PATH_GRACE_MS;
		if (dup2(fd, c->fd) < 0) {
			log_err("dup2: %s", strerror(errno));
			close(fd);
			return KITE_ERR_SYS;
		}
		close(fd);
	} else {
		c->fd = fd;
	}
	c->local = local;
	log_debug("socket from %s to %s", addr_str(&c->local, get_port(&c->local), buf, 40),
		  addr_str(&c->gw, get_port(&c->gw), buf + 40, 40));
	return 0;
}

static int build_params(const struct kite_profile *prof, struct ike_params *p,
			const struct sockaddr_storage *local)
{
	char ab[INET6_ADDRSTRLEN];
	const char *lid = prof->local_id, *rid = prof->remote_id;

	if (!lid && prof->auth == KITE_AUTH_CERT && p->my_certs && p->n_my_certs) {
		/* default IDi with a certificate: its subject DN (RFC 7296 3.5) */
		size_t dl;
		const uint8_t *dn = x509_cert_subject(p->my_certs[0], &dl);

		if (dn && dl <= sizeof(p->id)) {
			p->id_type = IKEV2_ID_DER_ASN1_DN;
			memcpy(p->id, dn, dl);
			p->id_len = dl;
			goto remote;
		}
	}
	if (!lid)
		lid = ip_str(local, ab, sizeof(ab));	/* default IDi: the local address */
	if (ike_id_parse(lid, &p->id_type, p->id, &p->id_len, sizeof(p->id)) != 0) {
		log_err("%s: local_id '%s' is not a usable identity", prof->file, lid);
		return KITE_ERR_CONFIG;
	}
remote:
	if (!rid)
		rid = prof->gateway;
	if (ike_id_parse(rid, &p->rid_type, p->rid, &p->rid_len, sizeof(p->rid)) != 0) {
		log_err("%s: remote_id '%s' is not a usable identity", prof->file, rid);
		return KITE_ERR_CONFIG;
	}
	return 0;
}

/* ---- status ---- */

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static const char *conn_state_name(const struct conn *c)
{
	if (!c->sa)
		return c->reconnect_at != UINT64_MAX ? "reconnecting" : "down";
	switch (ike_sa_state(c->sa)) {
	case IKE_STATE_ESTABLISHED:
		if (!c->up)
			return "connecting";
		if (c->no_path || ike_sa_roaming(c->sa))
			return "roaming";
		return "established";
	case IKE_STATE_DELETING:
	case IKE_STATE_DOWN:
		return "down";
	default:
		return c->up ? "reconnecting" : "connecting";
	}
}

/* ms -> whole seconds, rounded up; -1 stays -1 (rekey hook) */
static long long secs_or(int64_t ms)
{
	return ms < 0 ? -1 : (ms + 999) / 1000;
}

static void conn_status(struct conn *c, int json, char *out, size_t len)
{
	uint8_t si[8], sr[8];
	char spi_i[17], spi_r[17], local[64], gw[64], vip[2][INET6_ADDRSTRLEN];
	struct dp_stats st;
	int nv = 0, natt = c->sa ? ike_sa_natt(c->sa) : 0;
	uint64_t up = c->up ? (daemon_now_ms() - c->up_since) / 1000 : 0;
	char eb[40], ev[200];
	struct ike_sa_lifetimes lt;	/* rekey hook: ages, next rekey, counters (ike_child.c) */

	memset(&lt, 0, sizeof(lt));
	lt.ike_rekey_in = lt.child_rekey_in = -1;
	if (c->sa)
		ike_sa_lifetimes(c->sa, daemon_now_ms(), &lt);
	/* last_event is kite's own text; keep JSON safe anyway */
	{
		size_t o = 0;

		for (const char *q = c->last_event; *q && o + 1 < sizeof(ev); q++)
			ev[o++] = (*q == '"' || *q == '\\' || (unsigned char)*q < 0x20) ? '\'' : *q;
		ev[o] = '\0';
	}
	memset(&st, 0, sizeof(st));
	memset(si, 0, sizeof(si));
	memset(sr, 0, sizeof(sr));
	if (c->dp)
		c->dpo->stats(c->dp, &st);
	if (c->sa)
		ike_sa_spis(c->sa, si, sr);
	hex(si, 8, spi_i);
	hex(sr, 8, spi_r);
	addr_str(&c->local, get_port(&c->local), local, sizeof(local));
	addr_str(&c->gw, natt ? IKEV2_NATT_PORT : get_port(&c->gw), gw, sizeof(gw));
	if (c->cfg.has_vip4)
		inet_ntop(AF_INET, c->cfg.vip4, vip[nv++], INET6_ADDRSTRLEN);
	if (c->cfg.has_vip6)
		inet_ntop(AF_INET6, c->cfg.vip6, vip[nv++], INET6_ADDRSTRLEN);
	if (c->child.encr == IKEV2_ENCR_CHACHA20_POLY1305)
		snprintf(eb, sizeof(eb), "CHACHA20_POLY1305");
	else if (c->child.encr == IKEV2_ENCR_AES_GCM_16)
		snprintf(eb, sizeof(eb), "AES_GCM_16_%u", c->child.encr_bits);
	else if (c->child.encr == IKEV2_ENCR_AES_CBC)
		snprintf(eb, sizeof(eb), "AES_CBC_%u/%s", c->child.encr_bits,
			 ikev2_integ_name(c->child.integ));
	else
		eb[0] = '\0';
	if (json) {
		snprintf(out, len,
			 "{\"name\":\"%s\",\"state\":\"%s\",\"dataplane\":\"%s\",\"interface\":\"%s\","
			 "\"local\":\"%s\",\"gateway\":\"%s\",\"virtual_ip\":[%s%s%s%s%s%s],"
			 "\"ike\":{\"spi_i\":\"%s\",\"spi_r\":\"%s\",\"proposal\":\"%s\","
			 "\"age_s\":%llu,\"rekey_in_s\":%lld,\"rekeys\":%u,\"reauths\":%u},"
			 "\"child\":{\"spi_in\":\"%08x\",\"spi_out\":\"%08x\",\"proposal\":\"%s\","
			 "\"bytes_in\":%llu,\"bytes_out\":%llu,\"packets_in\":%llu,\"packets_out\":%llu,"
			 "\"dropped_in\":%llu,\"dropped_no_sa\":%llu,"
			 "\"age_s\":%llu,\"rekey_in_s\":%lld,\"rekeys\":%u,\"collisions\":%u},"
			 "\"mobike\":{\"enabled\":%s,\"updates\":%llu},\"reconnects\":%llu,"
			 "\"established_for_s\":%llu,\"last_event\":\"%s\"}\n",
			 c->prof->name, conn_state_name(c), c->dpo->name,
			 c->dp ? c->dpo->ifname(c->dp) : "", local, gw,
			 nv > 0 ? "\"" : "", nv > 0 ? vip[0] : "", nv > 0 ? "\"" : "",
			 nv > 1 ? ",\"" : "", nv > 1 ? vip[1] : "", nv > 1 ? "\"" : "",
			 spi_i, spi_r, c->sa ? ike_sa_proposal(c->sa) : "",
			 (unsigned long long)(lt.ike_age / 1000), (long long)secs_or(lt.ike_rekey_in),
			 lt.ike_rekeys, lt.reauths,
			 c->child.spi_in, c->child.spi_out, eb,
			 (unsigned long long)st.bytes_in, (unsigned long long)st.bytes_out,
			 (unsigned long long)st.packets_in, (unsigned long long)st.packets_out,
			 (unsigned long long)(st.drop_esp + st.drop_selector),
			 (unsigned long long)st.drop_no_sa,
			 (unsigned long long)(lt.child_age / 1000), (long long)secs_or(lt.child_rekey_in),
			 lt.child_rekeys, lt.collisions,
			 c->sa && ike_sa_mobike(c->sa) ? "true" : "false",
			 (unsigned long long)(c->mobike_updates + (c->sa ? ike_sa_mobike_updates(c->sa) : 0)),
			 (unsigned long long)c->reconnects, (unsigned long long)up, ev);
	} else {
		snprintf(out, len,
			 "%s: %s\n"
			 "  gateway      %s (%s)\n"
			 "  local        %s\n"
			 "  interface    %s (%s data plane, mtu %u)\n"
			 "  virtual IP   %s%s%s\n"
			 "  IKE SA       %s/%s %s\n"
			 "               age %llus, next rekey in %llds, %u rekeys, %u reauthentications\n"
			 "  CHILD SA     in %08x, out %08x %s\n"
			 "               age %llus, next rekey in %llds, %u rekeys, %u collisions\n"
			 "  traffic      in %llu bytes (%llu packets), out %llu bytes (%llu packets)\n"
			 "  dropped      %llu inbound, %llu while no SA\n"
			 "  up for       %llus\n"
			 "  mobike       %s, %llu updates; %llu reconnects%s%s\n",
			 c->prof->name, conn_state_name(c), c->prof->gateway, gw, local,
			 c->dp ? c->dpo->ifname(c->dp) : "-", c->dpo->name, c->dp ? c->dpo->mtu(c->dp) : 0,
			 nv > 0 ? vip[0] : "none", nv > 1 ? ", " : "", nv > 1 ? vip[1] : "",
			 spi_i, spi_r, c->sa ? ike_sa_proposal(c->sa) : "",
			 (unsigned long long)(lt.ike_age / 1000), (long long)secs_or(lt.ike_rekey_in),
			 lt.ike_rekeys, lt.reauths,
			 c->child.spi_in, c->child.spi_out, eb,
			 (unsigned long long)(lt.child_age / 1000), (long long)secs_or(lt.child_rekey_in),
			 lt.child_rekeys, lt.collisions,
			 (unsigned long long)st.bytes_in, (unsigned long long)st.packets_in,
			 (unsigned long long)st.bytes_out, (unsigned long long)st.packets_out,
			 (unsigned long long)(st.drop_esp + st.drop_selector),
			 (unsigned long long)st.drop_no_sa, (unsigned long long)up,
			 c->sa && ike_sa_mobike(c->sa) ? "on" : "off",
			 (unsigned long long)(c->mobike_updates + (c->sa ? ike_sa_mobike_updates(c->sa) : 0)),
			 (unsigned long long)c->reconnects, ev[0] ? "; last: " : "", ev);
	}
}

static void ctl_handle(struct conn *c, uint64_t now, uint64_t *close_deadline)
{
	char req[64], out[4096];
	int fd = accept4(c->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
	ssize_t n;
	struct pollfd p;

	if (fd < 0)
		return;
	p.fd = fd;
	p.events = POLLIN;
	/* Requests are one short line; a client that sends nothing in 1 s is dropped. */
	if (poll(&p, 1, 1000) <= 0 || (n = read(fd, req, sizeof(req) - 1)) <= 0) {
		close(fd);
		return;
	}
	req[n] = '\0';
	req[strcspn(req, "\r\n")] = '\0';
	if (!strcmp(req, "status") || !strcmp(req, "status-json")) {
		conn_status(c, req[6] == '-', out, sizeof(out));
		if (write(fd, out, strlen(out)) < 0)
			log_debug("status: %s", strerror(errno));
		close(fd);
	} else if (!strcmp(req, "check")) {
		/* NetworkManager hook / user: re-check the path and the gateway now. */
		const char *ok = "ok\n";

		if (c->sa && ike_sa_state(c->sa) == IKE_STATE_ESTABLISHED) {
			c->roam_at = now;
			ike_dpd(c->sa, now);
		}
		if (write(fd, ok, strlen(ok)) < 0)
			log_debug("check: %s", strerror(errno));
		close(fd);
	} else if (!strcmp(req, "disconnect")) {
		if (c->n_waiters < MAX_WAITERS)
			c->waiters[c->n_waiters++] = fd;
		else
			close(fd);
		log_info("disconnect requested");
		c->closing = 1;
		c->reconnect_at = UINT64_MAX;
		if (*close_deadline == UINT64_MAX)
			*close_deadline = now + DELETE_WAIT_MS;
		if (c->sa)
			ike_delete(c->sa, now);
	} else {
		const char *e = "error unknown request\n";

		if (write(fd, e, strlen(e)) < 0)
			log_debug("ctl: %s", strerror(errno));
		close(fd);
	}
}

/* ---- main loop ---- */

static void conn_teardown(struct conn *c)
{
	if (c->up)
		run_hook(c, "disconnect");
	if (c->dns_applied)
		dns_undo(&c->dns);
	c->dns_applied = 0;
	route_close(c->rs);
	c->rs = NULL;
	if (c->dp)
		c->dpo->destroy(c->dp);
	c->dp = NULL;
	c->up = 0;
}

static int64_t boot_delta(void)
{
	struct timespec b, m;

	clock_gettime(CLOCK_BOOTTIME, &b);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return ((int64_t)b.tv_sec - m.tv_sec) * 1000 + ((int64_t)b.tv_nsec - m.tv_nsec) / 1000000;
}

static void conn_event(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->last_event, sizeof(c->last_event), fmt, ap);
	va_end(ap);
	log_info("%s", c->last_event);
}

/*
 * The SA went down. Before the first success the caller reports the failure;
 * afterwards (reconnect = yes) a new IKE SA follows with back-off (1, 2, 4 ...
 * 60 s, with jitter) while the tunnel device, routes and DNS stay in place, so
 * tunnel traffic is dropped, never sent in the clear (design.md 5).
 * Returns 1 when the daemon goes on.
 */
static int conn_lost(struct conn *c, uint64_t now)
{
	uint32_t jitter = 0;
	unsigned delay;

	if (!c->up || !c->prof->reconnect || c->closing) {
		ike_sa_free(c->probe);
		c->probe = NULL;
		return 0;
	}
	conn_event(c, "connection lost: %s", ike_sa_reason(c->sa));
	if (c->child.spi_in)
		c->dpo->sa_del(c->dp, c->child.spi_in);
	c->mobike_updates += ike_sa_mobike_updates(c->sa);
	ike_sa_free(c->sa);
	c->sa = NULL;
	if (c->probe && ike_sa_state(c->probe) != IKE_STATE_DOWN) {
		/* The new IKE SA already under way becomes the connection. */
		c->sa = c->probe;
		c->probe = NULL;
		c->reconnects++;
		return 1;
	}
	ike_sa_free(c->probe);
	c->probe = NULL;
	c->no_path = 0;
	delay = c->backoff_s;
	c->backoff_s = c->backoff_s ? (c->backoff_s * 2 > 60 ? 60 : c->backoff_s * 2) : 1;
	crypto_random(&jitter, sizeof(jitter));
	c->reconnect_at = now + delay * 1000ull + (delay ? jitter % (delay * 200 + 1) : jitter % 50);
	log_info("reconnecting in %.1f s", (double)(c->reconnect_at - now) / 1000);
	return 1;
}

static void conn_reconnect(struct conn *c, uint64_t now)
{
	struct sockaddr_storage gw;
	socklen_t gl;

	c->reconnect_at = UINT64_MAX;
	c->reconnects++;
	/* The gateway's name may point elsewhere now. */
	if (resolve_gateway(c->prof, &gw, &gl) == 0) {
		c->gw = gw;
		c->gw_len = gl;
	}
	if (conn_socket(c, 0, NULL) != 0) {
		c->reconnect_at = now + (c->backoff_s ? c->backoff_s : 1) * 1000ull;
		c->backoff_s = c->backoff_s ? (c->backoff_s * 2 > 60 ? 60 : c->backoff_s * 2) : 1;
		return;
	}
	c->params.local = c->local;
	c->params.remote = c->gw;
	c->sa = ike_sa_new(&c->params, &conn_ops, c);
	conn_announce_addrs(c);
	if (!c->sa || ike_start(c->sa, now) != 0) {
		log_err("cannot start a new IKE SA");
		c->reconnect_at = now + 5000;
		return;
	}
	log_info("reconnecting '%s' (attempt %llu)", c->prof->name, (unsigned long long)c->reconnects);
}

/*
 * A route to addr that does not go through kite's own tunnel (a source that is
 * the virtual IP, or the tunnel device, means the real routes are gone).
 */
static int path_usable(struct conn *c, const struct sockaddr_storage *addr,
		       struct sockaddr_storage *src, int *ifindex)
{
	if (route_lookup(&c->ids, addr, src, ifindex) != 0)
		return 0;
	if (c->dp && *ifindex == c->dpo->ifindex(c->dp))
		return 0;
	if (src->ss_family == AF_INET && c->cfg.has_vip4 &&
	    !memcmp(&((struct sockaddr_in *)src)->sin_addr, c->cfg.vip4, 4))
		return 0;
	if (src->ss_family == AF_INET6 && c->cfg.has_vip6 &&
	    !memcmp(&((struct sockaddr_in6 *)src)->sin6_addr, c->cfg.vip6, 16))
		return 0;
	return 1;
}

/* Is addr inside the tunnel's own traffic selectors (e.g. the gateway's LAN address)? */
static int in_tunnel(const struct conn *c, const struct sockaddr_storage *addr)
{
	int v6 = addr->ss_family == AF_INET6;
	const uint8_t *a = v6 ? (const uint8_t *)&((const struct sockaddr_in6 *)addr)->sin6_addr :
				(const uint8_t *)&((const struct sockaddr_in *)addr)->sin_addr;
	size_t alen = v6 ? 16 : 4;

	for (size_t i = 0; i < c->child.n_tsr; i++) {
		const struct ike_ts *t = &c->child.tsr[i];

		if ((t->type == IKEV2_TS_IPV6_ADDR_RANGE) != v6)
			continue;
		if (memcmp(a, t->start, alen) >= 0 && memcmp(a, t->end, alen) <= 0)
			return 1;
	}
	return 0;
}

/*
 * No route to the gateway's current address: try its other addresses (its
 * ADDITIONAL_IP4/6_ADDRESS list, RFC 4555 3.4, then the name's addresses),
 * also in the other family. On success c->gw is switched and src/ifindex set.
 */
static int gateway_alternative(struct conn *c, struct sockaddr_storage *src, int *ifindex)
{
	struct sockaddr_storage cand[16];
	unsigned n = 0;
	struct addrinfo hints, *res = NULL;
	char port[8], b[64];

	if (c->sa)
		n = ike_sa_peer_addrs(c->sa, cand, 8);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	snprintf(port, sizeof(port), "%u", get_port(&c->gw));
	if (getaddrinfo(c->prof->gateway, port, &hints, &res) == 0) {
		for (struct addrinfo *ai = res; ai && n < KITE_ARRAY_SIZE(cand); ai = ai->ai_next) {
			memset(&cand[n], 0, sizeof(cand[n]));
			memcpy(&cand[n++], ai->ai_addr, ai->ai_addrlen);
		}
		freeaddrinfo(res);
	}
	for (unsigned i = 0; i < n; i++) {
		set_port(&cand[i], get_port(&c->gw));
		if (same_host(&cand[i], &c->gw) || in_tunnel(c, &cand[i]))
			continue;
		if (!path_usable(c, &cand[i], src, ifindex))
			continue;
		conn_event(c, "roam: the gateway's address %s is unreachable; using its address %s",
			   ip_str(&c->gw, b, 32), ip_str(&cand[i], b + 32, 32));
		c->gw = cand[i];
		c->gw_len = cand[i].ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
							   sizeof(struct sockaddr_in);
		return 1;
	}
	return 0;
}

/*
 * The MOBIKE ladder (RFC 4555 3.5; design.md 5), each step logged: no route
 * at all -> hold; the current path still valid -> check liveness on it; a new
 * local address -> move the socket, then UPDATE_SA_ADDRESSES; no MOBIKE ->
 * reconnect.
 */
static void conn_roam(struct conn *c, uint64_t now)
{
	struct sockaddr_storage src;
	int ifindex = 0;
	char b[64];

	c->roam_at = UINT64_MAX;
	if (!c->sa || ike_sa_state(c->sa) != IKE_STATE_ESTABLISHED)
		return;
	if (c->roam_again) {
		/* Routes go some time after their address: look once more in a moment. */
		c->roam_again = 0;
		c->roam_at = now + 50;
	}
	if (!path_usable(c, &c->gw, &src, &ifindex) && !gateway_alternative(c, &src, &ifindex)) {
		if (!c->no_path)
			conn_event(c, "roam: no route to the gateway: SA held, tunnel traffic blocked until a network appears");
		c->no_path = 1;
		return;
	}
	if (same_host(&src, &c->local)) {
		if (c->no_path) {
			c->no_path = 0;
			conn_event(c, "roam: the path from %s is back", ip_str(&src, b, sizeof(b)));
			ike_path_resumed(c->sa, now);
		} else {
			log_debug("roam: the current path still works; checking the gateway's liveness on it");
		}
		ike_dpd(c->sa, now);
		return;
	}
	c->no_path = 0;
	if (!ike_sa_mobike(c->sa)) {
		conn_event(c, "roam: new local address %s, but the gateway does not support MOBIKE: reconnecting",
			   ip_str(&src, b, sizeof(b)));
		ike_delete(c->sa, now);
		c->backoff_s = 0;
		/* the DELETE goes out on the old socket; the SA is then replaced */
		ike_sa_free(c->sa);
		c->sa = NULL;
		if (c->child.spi_in)
			c->dpo->sa_del(c->dp, c->child.spi_in);
		c->reconnect_at = now;
		return;
	}
	if (conn_socket(c, ike_sa_natt(c->sa), NULL) != 0) {
		c->roam_at = now + 1000;
		return;
	}
	conn_event(c, "roam: moving to %s", addr_str(&c->local, get_port(&c->local), b, sizeof(b)));
	conn_announce_addrs(c);
	ike_mobike_update(c->sa, &c->local, &c->gw, now);
}

static void conn_netmon(struct conn *c, uint64_t now)
{
	struct sockaddr_storage del[16];
	unsigned nd = 0, ev;

	ev = netmon_read(c->nm, c->dp ? c->dpo->ifindex(c->dp) : -1, c->ids.table, del, 16, &nd);
	if (!ev || !c->up)
		return;
	for (unsigned i = 0; i < nd; i++) {
		if (same_host(&del[i], &c->local)) {
			/* The address in use went away: act at once. */
			log_debug("netmon: the local address in use was removed");
			c->roam_at = now;
			c->roam_again = 1;
			return;
		}
	}
	/* Held without a path: any change may bring one back, look at once. */
	if (c->no_path) {
		c->roam_at = now;
		return;
	}
	/* Other changes come in bursts: coalesce them briefly. */
	if (c->roam_at == UINT64_MAX)
		c->roam_at = now + ROAM_DEBOUNCE_MS;
}

static void conn_timers(struct conn *c, uint64_t now)
{
	int64_t bd = boot_delta();
	struct dp_stats st;

	if (bd - c->boot_delta > 2000) {
		/* CLOCK_BOOTTIME ran ahead of CLOCK_MONOTONIC: the machine was suspended. */
		conn_event(c, "resumed after %lld s of suspend: checking the path and the gateway",
			   (long long)((bd - c->boot_delta) / 1000));
		if (c->sa && ike_sa_state(c->sa) == IKE_STATE_ESTABLISHED)
			ike_dpd(c->sa, now);
		c->roam_at = now;
	}
	c->boot_delta = bd;
	if (now >= c->reconnect_at)
		conn_reconnect(c, now);
	if (now >= c->roam_at)
		conn_roam(c, now);
	if (!c->sa || !c->up || ike_sa_state(c->sa) != IKE_STATE_ESTABLISHED)
		return;
	/*
	 * A liveness check unanswered once: try a new IKE SA next to the current one. A
	 * restarted gateway answers it at once although it ignores the old SA; then the
	 * new SA takes over (conn_child_up) instead of waiting out the retransmissions.
	 */
	if (!c->probe && c->prof->reconnect && !c->no_path && ike_sa_dpd_unanswered(c->sa)) {
		struct ike_params pp = c->params;

		pp.local = c->local;
		pp.remote = c->gw;
		pp.start_natt = ike_sa_natt(c->sa);
		if ((c->probe = ike_sa_new(&pp, &conn_ops, c)) != NULL && ike_start(c->probe, now) != 0) {
			ike_sa_free(c->probe);
			c->probe = NULL;
		}
		if (c->probe)
			log_info("the gateway does not answer the liveness check: trying a new IKE SA meanwhile");
	}
	if (c->probe && (ike_sa_state(c->probe) == IKE_STATE_DOWN ||
			 (ike_sa_state(c->sa) == IKE_STATE_ESTABLISHED && !ike_sa_dpd_unanswered(c->sa) &&
			  ike_sa_state(c->probe) != IKE_STATE_ESTABLISHED))) {
		/* the old SA answered after all, or the probe failed: drop it */
		if (ike_sa_state(c->probe) != IKE_STATE_DOWN)
			ike_delete(c->probe, now);
		ike_sa_free(c->probe);
		c->probe = NULL;
	}
	/* Liveness (DPD): after dpd seconds without anything authenticated from the gateway. */
	c->dpo->stats(c->dp, &st);
	if (st.packets_in != c->last_pkts_in || ike_sa_last_rx(c->sa) > c->last_activity) {
		c->last_pkts_in = st.packets_in;
		c->last_activity = now;
	}
	if (c->last_activity == 0)
		c->last_activity = now;
	if (c->prof->dpd_s && !c->no_path && now >= c->last_activity + c->prof->dpd_s * 1000ull) {
		ike_dpd(c->sa, now);
		c->last_activity = now;
	}
	if (ike_sa_nat_local(c->sa) && now >= c->next_keepalive) {
		/* NAT-T keepalive (RFC 3948 2.3) to keep the NAT mapping alive. */
		struct sockaddr_storage to = c->gw;
		uint8_t ka = 0xff;

		set_port(&to, IKEV2_NATT_PORT);
		if (c->next_keepalive && sendto(c->fd, &ka, 1, 0, (struct sockaddr *)&to, c->gw_len) < 0)
			log_debug("keepalive: %s", strerror(errno));
		c->next_keepalive = now + (uint64_t)(c->prof->keepalive_s ? c->prof->keepalive_s : 20) * 1000;
	}
}

/* The IKE SA a message belongs to, by its SPIi: the current one or the probe. */
static struct ike_sa *conn_sa_for(struct conn *c, const uint8_t *msg, size_t len)
{
	uint8_t si[8], sr[8];

	if (c->probe && len >= 8) {
		ike_sa_spis(c->probe, si, sr);
		if (!memcmp(msg, si, 8))
			return c->probe;
	}
	return c->sa;
}

/* Datagrams from the gateway on fd: IKE (port 500, or 4500 with the zero marker) or ESP. */
static void conn_recv(struct conn *c, int fd, uint64_t now)
{
	static uint8_t rx[65536 + 64];

	for (int burst = 0; burst < 256; burst++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, rx, sizeof(rx), 0, (struct sockaddr *)&from, &fl);

		if (n < 0)
			break;
		if (!same_host(&from, &c->gw) || !c->sa) {
			log_debug("dropped a datagram from a host that is not the gateway");
			continue;
		}
		if (get_port(&from) == IKEV2_NATT_PORT) {
			/* 0xff: NAT keepalive; zero marker: IKE; else ESP (RFC 3948 2.2). */
			if (n == 1 && rx[0] == 0xff)
				continue;
			if (n >= 4 && !memcmp(rx, "\0\0\0\0", 4))
				ike_input(conn_sa_for(c, rx + 4, (size_t)n - 4), rx + 4, (size_t)n - 4, 1, now);
			else
				c->dpo->esp_input(c->dp, rx, (size_t)n);
		} else {
			ike_input(conn_sa_for(c, rx, (size_t)n), rx, (size_t)n, 0, now);
		}
	}
}

/*
 * auth = eap started without a terminal: wait (bounded) for "password SECRET"
 * on the control socket before IKE starts. The secret is kept in a static
 * buffer wiped at exit; *psk points at it.
 */
static uint8_t secret_buf[KITE_PSK_MAX];

static int wait_secret(struct conn *c, const uint8_t **psk, size_t *psk_len)
{
	uint64_t until = daemon_now_ms() + SECRET_WAIT_MS;

	log_info("waiting for the EAP password on the control socket ('kite password %s')", c->prof->name);
	while (daemon_now_ms() < until) {
		struct pollfd p = { c->ctl_fd, POLLIN, 0 };
		char req[KITE_PSK_MAX + 32];
		ssize_t n;
		int fd;

		if (poll(&p, 1, 1000) <= 0)
			continue;
		if ((fd = accept4(c->ctl_fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		p.fd = fd;
		if (poll(&p, 1, 1000) > 0 && (n = read(fd, req, sizeof(req) - 1)) > 0) {
			size_t l;

			req[n] = '\0';
			req[strcspn(req, "\r\n")] = '\0';
			l = strlen(req);
			if (l > 9 && !strncmp(req, "password ", 9) && l - 9 <= sizeof(secret_buf)) {
				memcpy(secret_buf, req + 9, l - 9);
				*psk = secret_buf;
				*psk_len = l - 9;
				crypto_wipe(req, sizeof(req));
				if (write(fd, "ok\n", 3) < 0)
					log_debug("password: %s", strerror(errno));
				close(fd);
				return 0;
			}
			if (!strncmp(req, "status", 6)) {
				const char *w = "waiting for the password\n";

				if (write(fd, w, strlen(w)) < 0)
					log_debug("status: %s", strerror(errno));
			}
			crypto_wipe(req, sizeof(req));
		}
		close(fd);
	}
	log_err("no password arrived on the control socket within %d s; give it with 'kite password %s', "
		"or set password_file", SECRET_WAIT_MS / 1000, c->prof->name);
	return KITE_ERR_TIMEOUT;
}

int daemon_run(const struct kite_profile *prof, const struct daemon_opts *o,
	       const uint8_t *psk, size_t psk_len)
{
	struct conn c;
	struct ike_params p;
	struct dp_env env;
	int sfd = -1, ret = KITE_EXIT_CONNECT;
	sigset_t mask;
	uint64_t close_deadline = UINT64_MAX;
	unsigned outer_mtu = 1500;
	char path[128], gb[80];
	struct rlimit nocore = { 0, 0 };

	memset(&c, 0, sizeof(c));
	memset(&p, 0, sizeof(p));
	c.fd = c.ctl_fd = c.old_fd = -1;
	c.prof = prof;
	c.o = o;
	c.report_fd = o->report_fd;
	c.dpo = &dp_tun_ops;
	/* Keys live in this process: no core dumps, not ptrace-able by other users. */
	prctl(PR_SET_DUMPABLE, 0);
	setrlimit(RLIMIT_CORE, &nocore);
	signal(SIGPIPE, SIG_IGN);

	if (crypto_init() != 0) {
		log_err("crypto self-test failed; refusing to run");
		goto out;
	}
	if ((c.ctl_fd = ctl_listen(prof->name)) < 0) {
		ctl_path(prof->name, path, sizeof(path));
		log_err(errno == EADDRINUSE ? "'%s' is already connected (see 'kite status %s')" :
			"cannot create the control socket for '%s': %s", prof->name,
			errno == EADDRINUSE ? prof->name : strerror(errno));
		goto out;
	}
	route_ids_for(prof->name, &c.ids);
	/* After a crash (kill -9): remove what the previous run left behind. */
	route_cleanup_stale(&c.ids);
	dns_cleanup_stale(KITE_RUN_DIR, prof->name);
	if (resolve_gateway(prof, &c.gw, &c.gw_len) != 0 || conn_socket(&c, 0, &outer_mtu) != 0)
		goto out;
	if ((c.rs = route_open(&c.ids)) == NULL) {
		log_err("cannot open a netlink socket: %s", strerror(errno));
		goto out;
	}
	if (prof->dataplane == KITE_DP_XFRM) {
		log_err("dataplane = xfrm is not available in this build; use dataplane = tun or auto");
		ret = KITE_EXIT_USAGE;
		goto out;
	}
	memset(&env, 0, sizeof(env));
	env.profile = prof->name;
	env.udp_fd = c.fd;
	env.gw = c.gw;
	env.gw_len = c.gw_len;
	env.replay_window = prof->replay_window;
	env.outer_mtu = outer_mtu;
	if (prof->dataplane == KITE_DP_AUTO)
		log_info("data plane: tun (userspace ESP; kernel XFRM support is not built in yet)");
	if ((c.dp = c.dpo->create(&env)) == NULL)
		goto out;
	p.prof = prof;
	p.remote = c.gw;
	p.local = c.local;
	p.psk = psk;
	p.psk_len = psk_len;
	p.my_key = o->key;
	p.my_certs = o->certs;
	p.n_my_certs = o->n_certs;
	if (build_params(prof, &p, &c.local) != 0) {
		ret = KITE_EXIT_USAGE;
		goto out;
	}
	if (prof->auth != KITE_AUTH_PSK) {
		char reason[320];

		if (x509_store_load(&c.ca, prof->ca, reason, sizeof(reason)) != 0) {
			log_err("%s: ca = %s: %s", prof->file, prof->ca ? prof->ca : "(none)", reason);
			ret = KITE_EXIT_USAGE;
			goto out;
		}
		p.ca = c.ca;
	}
	if (o->await_secret && wait_secret(&c, &psk, &psk_len) != 0)
		goto out;
	/* The daemon keeps its own copy of the PSK for reconnections (wiped at exit). */
	if ((c.psk = malloc(psk_len ? psk_len : 1)) == NULL) {
		log_err("out of memory");
		goto out;
	}
	memcpy(c.psk, psk, psk_len);
	c.psk_len = psk_len;
	p.psk = c.psk;
	p.psk_len = psk_len;
	c.params = p;
	if ((c.sa = ike_sa_new(&p, &conn_ops, &c)) == NULL) {
		log_err("out of memory");
		goto out;
	}
	c.nm = netmon_open();
	if (!c.nm)
		log_warn("cannot watch network changes (netlink: %s): roaming is detected only by liveness checks",
			 strerror(errno));
	c.roam_at = c.reconnect_at = UINT64_MAX;
	c.boot_delta = boot_delta();
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	log_info("connecting '%s' to %s (%s)", prof->name, prof->gateway,
		 addr_str(&c.gw, get_port(&c.gw), gb, sizeof(gb)));
	conn_announce_addrs(&c);
	if (ike_start(c.sa, daemon_now_ms()) != 0)
		goto done;

	for (;;) {
		struct pollfd pfd[6] = {
			{ c.fd, POLLIN, 0 }, { sfd, POLLIN, 0 }, { c.ctl_fd, POLLIN, 0 },
			{ c.dpo->fd(c.dp), POLLIN, 0 }, { c.nm ? netmon_fd(c.nm) : -1, POLLIN, 0 },
			{ c.old_fd, POLLIN, 0 },
		};
		uint64_t now = daemon_now_ms(), dl;
		int tmo;

		if (c.sa && ike_sa_state(c.sa) == IKE_STATE_DOWN) {
			if (!conn_lost(&c, now))
				break;
		}
		if (!c.sa && c.reconnect_at == UINT64_MAX)
			break;
		dl = c.sa && !c.no_path ? ike_next_timeout(c.sa) : UINT64_MAX;
		if (close_deadline < dl)
			dl = close_deadline;
		if (c.probe && ike_next_timeout(c.probe) < dl)
			dl = ike_next_timeout(c.probe);
		if (c.roam_at < dl)
			dl = c.roam_at;
		if (c.reconnect_at < dl)
			dl = c.reconnect_at;
		if (c.up && c.sa && ike_sa_nat_local(c.sa) && c.next_keepalive < dl)
			dl = c.next_keepalive;
		if (c.up && c.sa && prof->dpd_s && c.last_activity + prof->dpd_s * 1000ull < dl)
			dl = c.last_activity + prof->dpd_s * 1000ull;
		if (c.old_fd >= 0 && c.old_fd_until < dl)
			dl = c.old_fd_until;
		tmo = dl == UINT64_MAX ? 60000 : dl <= now ? 0 : (int)(dl - now > 60000 ? 60000 : dl - now);
		if (poll(pfd, 6, tmo) < 0 && errno != EINTR) {
			log_err("poll: %s", strerror(errno));
			break;
		}
		now = daemon_now_ms();
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				log_info("signal %u: closing", si.ssi_signo);
				c.closing = 1;
				if (close_deadline == UINT64_MAX)
					close_deadline = now + DELETE_WAIT_MS;
				if (c.sa)
					ike_delete(c.sa, now);
				c.reconnect_at = UINT64_MAX;
			}
		}
		if (pfd[2].revents & POLLIN)
			ctl_handle(&c, now, &close_deadline);
		if (pfd[3].revents & POLLIN)
			c.dpo->input(c.dp);
		if (pfd[4].revents & POLLIN)
			conn_netmon(&c, now);
		if (pfd[0].revents & POLLIN)
			conn_recv(&c, c.fd, now);
		if (pfd[5].revents & POLLIN)
			conn_recv(&c, c.old_fd, now);
		if (c.old_fd >= 0 && now >= c.old_fd_until) {
			close(c.old_fd);
			c.old_fd = -1;
		}
		now = daemon_now_ms();
		{
			/* rekey hook: the data plane's volume limits (ike_child.c rekeys or deletes) */
			uint32_t xspi;
			int xhard;

			while (c.dp && c.dpo->expired && c.dpo->expired(c.dp, &xspi, &xhard))
				if (c.sa)
					ike_child_expire(c.sa, xspi, xhard, now);
		}
		conn_timers(&c, now);
		if (c.sa && !c.no_path && now >= ike_next_timeout(c.sa))
			ike_timeout(c.sa, now);
		if (c.probe && now >= ike_next_timeout(c.probe))
			ike_timeout(c.probe, now);
		if (now >= close_deadline && (!c.sa || ike_sa_state(c.sa) != IKE_STATE_DOWN)) {
			log_info("the gateway did not answer the DELETE in time; closing anyway");
			break;
		}
	}
done:
	if (c.sa && ike_sa_fail(c.sa) != IKE_FAIL_NONE && !c.closing) {
		char line[300];

		log_err("%s", ike_sa_reason(c.sa));
		snprintf(line, sizeof(line), "fail %d %s\n", KITE_EXIT_CONNECT, ike_sa_reason(c.sa));
		conn_report(&c, line);
		ret = KITE_EXIT_CONNECT;
	} else {
		log_info("'%s' closed", prof->name);
		ret = KITE_EXIT_OK;
	}
out:
	conn_teardown(&c);
	if (c.report_fd >= 0) {
		char line[300];

		snprintf(line, sizeof(line), "fail %d %s\n", ret ? ret : KITE_EXIT_CONNECT,
			 log_last_error()[0] ? log_last_error() :
			 "the connection could not be set up (see the log: journalctl -t kite)");
		conn_report(&c, line);
	}
	ike_sa_free(c.sa);
	if (c.fd >= 0)
		close(c.fd);
	if (c.old_fd >= 0)
		close(c.old_fd);
	if (sfd >= 0)
		close(sfd);
	if (c.ctl_fd >= 0) {
		ctl_path(prof->name, path, sizeof(path));
		unlink(path);
		close(c.ctl_fd);
	}
	for (int i = 0; i < c.n_waiters; i++) {
		if (write(c.waiters[i], "closed\n", 7) < 0)
			log_debug("waiter: %s", strerror(errno));
		close(c.waiters[i]);
	}
	netmon_close(c.nm);
	ike_sa_free(c.probe);
	x509_store_free(c.ca);
	x509_key_free(o->key);
	for (size_t i = 0; i < o->n_certs; i++)
		x509_cert_free(o->certs[i]);
	if (c.psk) {
		crypto_wipe(c.psk, c.psk_len);
		free(c.psk);
	}
	crypto_wipe(secret_buf, sizeof(secret_buf));
	crypto_fini();
	return ret;
}
