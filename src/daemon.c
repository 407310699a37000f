/*
 * daemon: see daemon.h. Single-threaded: poll() on the IKE socket and a
 * signalfd, with the core's next deadline as the timeout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "daemon.h"
#include "ike_sa.h"
#include "ikev2.h"
#include "kite.h"
#include "log.h"

#define DELETE_WAIT_MS	3000	/* how long a closing DELETE may wait for its answer */

struct conn {
	const struct kite_profile *prof;
	int fd;
	struct sockaddr_storage gw;	/* gateway, port 500 (or configured) */
	socklen_t gw_len;
	struct ike_sa *sa;
	int established;
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

static const char *addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, a, sizeof(a));
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, a, sizeof(a));
	snprintf(buf, len, ss->ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, get_port(ss));
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

static int conn_send(void *ctx, const uint8_t *buf, size_t len, int natt)
{
	struct conn *c = ctx;
	struct sockaddr_storage to = c->gw;
	size_t off = 0;
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
	(void)off;
	n = sendto(c->fd, buf, len, 0, (struct sockaddr *)&to, c->gw_len);
	if (n < 0) {
		/* Treated like a lost packet: the retransmission timer decides (RFC 7296 2.4). */
		log_debug("sendto: %s", strerror(errno));
		return KITE_ERR_SYS;
	}
	return 0;
}

static void conn_state(void *ctx, struct ike_sa *sa, enum ike_state st, const char *reason)
{
	struct conn *c = ctx;

	if (st == IKE_STATE_ESTABLISHED)
		c->established = 1;
}

static int conn_child_up(void *ctx, struct ike_sa *sa, const struct child_sa *ch,
			 const struct ike_cfg_result *cfg)
{
	return 0;
}

static const struct ike_ops conn_ops = {
	.send = conn_send,
	.state = conn_state,
	.child_up = conn_child_up,
};

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
		log_err("cannot resolve gateway '%s': %s (check 'gateway' in %s)", prof->gateway,
			gai_strerror(r), prof->file ? prof->file : "the config");
		return KITE_ERR_SYS;
	}
	memcpy(out, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* Local address the kernel would use towards the gateway (a connected probe socket). */
static int local_addr_for(const struct sockaddr_storage *gw, socklen_t gwlen,
			  struct sockaddr_storage *out)
{
	socklen_t l = sizeof(*out);
	int fd = socket(gw->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int r = KITE_ERR_SYS;

	if (fd < 0)
		return KITE_ERR_SYS;
	if (connect(fd, (const struct sockaddr *)gw, gwlen) == 0 &&
	    getsockname(fd, (struct sockaddr *)out, &l) == 0)
		r = 0;
	close(fd);
	return r;
}

static int open_socket(struct conn *c, struct sockaddr_storage *local)
{
	socklen_t l = sizeof(*local);
	char buf[64];

	if (local_addr_for(&c->gw, c->gw_len, local) != 0) {
		log_err("no route to the gateway %s: %s (is the network up?)",
			addr_str(&c->gw, buf, sizeof(buf)), strerror(errno));
		return KITE_ERR_SYS;
	}
	c->fd = socket(c->gw.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		log_err("socket: %s", strerror(errno));
		return KITE_ERR_SYS;
	}
	set_port(local, 0);
	if (bind(c->fd, (struct sockaddr *)local, local->ss_family == AF_INET ?
		 sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) != 0 ||
	    getsockname(c->fd, (struct sockaddr *)local, &l) != 0) {
		log_err("cannot bind a UDP socket: %s", strerror(errno));
		return KITE_ERR_SYS;
	}
	log_debug("local %s, gateway %s", addr_str(local, buf, sizeof(buf)),
		  addr_str(&c->gw, buf + 32, sizeof(buf) - 32));
	return 0;
}

static int build_params(const struct kite_profile *prof, struct ike_params *p,
			const struct sockaddr_storage *local)
{
	char ab[INET6_ADDRSTRLEN];
	const char *lid = prof->local_id, *rid = prof->remote_id;

	if (!lid) {
		/* Default IDi: the local address (design.md 3). */
		if (local->ss_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)local)->sin_addr, ab, sizeof(ab));
		else
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)local)->sin6_addr, ab, sizeof(ab));
		lid = ab;
	}
	if (ike_id_parse(lid, &p->id_type, p->id, &p->id_len, sizeof(p->id)) != 0) {
		log_err("%s: local_id '%s' is not a usable identity", prof->file, lid);
		return KITE_ERR_CONFIG;
	}
	if (!rid)
		rid = prof->gateway;
	if (ike_id_parse(rid, &p->rid_type, p->rid, &p->rid_len, sizeof(p->rid)) != 0) {
		log_err("%s: remote_id '%s' is not a usable identity", prof->file, rid);
		return KITE_ERR_CONFIG;
	}
	return 0;
}

static int exit_for(enum ike_fail f)
{
	return f == IKE_FAIL_NONE ? KITE_EXIT_OK : KITE_EXIT_CONNECT;
}

int daemon_run(const struct kite_profile *prof, const struct daemon_opts *o)
{
	struct conn c;
	struct ike_params p;
	uint8_t psk[KITE_PSK_MAX];
	size_t psk_len = sizeof(psk);
	int weak = 0, sfd = -1, ret = KITE_EXIT_CONNECT;
	char err[512];
	sigset_t mask;
	uint64_t close_deadline = UINT64_MAX;
	static uint8_t rx[IKEV2_MAX_MSG + 64];

	memset(&c, 0, sizeof(c));
	memset(&p, 0, sizeof(p));
	c.fd = -1;
	c.prof = prof;
	if (prof->auth != KITE_AUTH_PSK) {
		log_err("auth = %s is not available in this build yet; use auth = psk",
			prof->auth == KITE_AUTH_EAP ? "eap" : "cert");
		return KITE_EXIT_USAGE;
	}
	if (config_read_psk(prof->psk_file, psk, &psk_len, &weak, err, sizeof(err)) != 0) {
		log_err("%s", err);
		return errno == EACCES ? KITE_EXIT_PERM : KITE_EXIT_USAGE;
	}
	if (weak)
		log_warn("the PSK in %s is short: anyone who records one connection can guess it "
			 "offline; use 20+ random characters, or EAP/certificates", prof->psk_file);
	if (crypto_init() != 0) {
		log_err("crypto self-test failed; refusing to run");
		goto out;
	}
	if (resolve_gateway(prof, &c.gw, &c.gw_len) != 0 || open_socket(&c, &p.local) != 0)
		goto out;
	p.prof = prof;
	p.remote = c.gw;
	p.psk = psk;
	p.psk_len = psk_len;
	if (build_params(prof, &p, &p.local) != 0) {
		ret = KITE_EXIT_USAGE;
		goto out;
	}
	c.sa = ike_sa_new(&p, &conn_ops, &c);
	crypto_wipe(psk, sizeof(psk));
	if (!c.sa) {
		log_err("out of memory");
		goto out;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	{
		char gb[64];

		log_info("connecting '%s' to %s (%s)", prof->name, prof->gateway,
			 addr_str(&c.gw, gb, sizeof(gb)));
	}
	if (ike_start(c.sa, daemon_now_ms()) != 0)
		goto done;

	while (ike_sa_state(c.sa) != IKE_STATE_DOWN) {
		struct pollfd pfd[2] = { { c.fd, POLLIN, 0 }, { sfd, POLLIN, 0 } };
		uint64_t now = daemon_now_ms(), dl = ike_next_timeout(c.sa);
		int tmo;

		if (close_deadline < dl)
			dl = close_deadline;
		tmo = dl == UINT64_MAX ? -1 : dl <= now ? 0 : (int)(dl - now > 60000 ? 60000 : dl - now);
		if (poll(pfd, 2, tmo) < 0 && errno != EINTR) {
			log_err("poll: %s", strerror(errno));
			break;
		}
		now = daemon_now_ms();
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				log_info("signal %u: closing", si.ssi_signo);
				if (close_deadline == UINT64_MAX)
					close_deadline = now + DELETE_WAIT_MS;
				ike_delete(c.sa, now);
			}
		}
		if (pfd[0].revents & POLLIN) {
			for (int burst = 0; burst < 64; burst++) {
				struct sockaddr_storage from;
				socklen_t fl = sizeof(from);
				ssize_t n = recvfrom(c.fd, rx, sizeof(rx), 0, (struct sockaddr *)&from, &fl);
				uint16_t port;

				if (n < 0)
					break;
				port = get_port(&from);
				if (!same_host(&from, &c.gw)) {
					log_debug("dropped a datagram from a host that is not the gateway");
					continue;
				}
				if (port == IKEV2_NATT_PORT) {
					/* 0xff: NAT keepalive; non-ESP marker: IKE; else ESP (RFC 3948 2.2). */
					if (n == 1 && rx[0] == 0xff)
						continue;
					if (n < 4 || memcmp(rx, "\0\0\0\0", 4) != 0)
						continue;	/* ESP: no data plane in this path yet */
					ike_input(c.sa, rx + 4, (size_t)n - 4, 1, now);
				} else {
					ike_input(c.sa, rx, (size_t)n, 0, now);
				}
			}
		}
		now = daemon_now_ms();
		if (now >= ike_next_timeout(c.sa))
			ike_timeout(c.sa, now);
		if (now >= close_deadline && ike_sa_state(c.sa) != IKE_STATE_DOWN) {
			log_info("the gateway did not answer the DELETE in time; closing anyway");
			break;
		}
	}
done:
	if (ike_sa_fail(c.sa) != IKE_FAIL_NONE)
		log_err("%s", ike_sa_reason(c.sa));
	else
		log_info("'%s' closed", prof->name);
	ret = exit_for(ike_sa_fail(c.sa));
out:
	crypto_wipe(psk, sizeof(psk));
	ike_sa_free(c.sa);
	if (c.fd >= 0)
		close(c.fd);
	if (sfd >= 0)
		close(sfd);
	crypto_fini();
	return ret;
}
