/*
 * route_drv: test driver for src/route.c and src/dns.c, built and run by
 * tests/interop/t_route_dns.sh inside a network namespace (never in the root
 * namespace: it changes routes, rules and /etc/resolv.conf).
 *
 *   route_drv ids PROFILE
 *       print "TABLE MARK PRIO" (decimal) from route_ids_for()
 *   route_drv lookup PROFILE ADDR
 *       route_lookup(): "src=ADDR oif=IFNAME" or "error=ERRNO-NAME"; exit 0 either way
 *   route_drv cleanup PROFILE RUN_DIR
 *       route_cleanup_stale() + dns_cleanup_stale(); exit status 0 when both were fine
 *   route_drv hold PROFILE [--tun NAME] [--lookup ADDR]... [--dns RUN_DIR] [--no-route]
 *                          [--close-tun-first]
 *       create TUN device NAME; unless --no-route: link up (MTU 1400), 10.3.0.2/32 and
 *       fd00:6b69::2/128 on it, routes 0.0.0.0/0 and 10.1.0.0/24 via it, unreachable ::/0,
 *       rules for both families; print "lookup ADDR src=... oif=..." for each --lookup;
 *       with --dns apply 10.1.0.53 10.1.0.54 fd00::53 fd00::54, domains
 *       "corp.example -bad lab.example b@d" (full tunnel). Then print "READY" and wait
 *       for SIGTERM/SIGINT: undo (after closing the TUN device first with
 *       --close-tun-first), print "DONE", exit 0. Exit 1 when a step failed.
 *
 * Safety: --dns refuses to run unless /etc/resolv.conf is the very file named by
 * $KITE_TEST_RESOLV_FILE (/etc/netns/NS/resolv.conf, bind-mounted by ip netns exec):
 * same device and inode.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dns.h"
#include "kite.h"
#include "log.h"
#include "route.h"

#define MAX_LOOKUPS 8

static int usage(void)
{
	fprintf(stderr, "usage: route_drv ids|lookup|cleanup|hold PROFILE ... (see the source)\n");
	return 2;
}

static int parse_addr(const char *s, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		return 0;
	}
	return -1;
}

static const char *ss_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void *a = ss->ss_family == AF_INET ?
		(const void *)&((const struct sockaddr_in *)ss)->sin_addr :
		(const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;

	if (ss->ss_family != AF_INET && ss->ss_family != AF_INET6)
		return "none";
	return inet_ntop(ss->ss_family, a, buf, (socklen_t)len) ? buf : "?";
}

static const char *errno_name(int e)
{
	switch (e) {
	case ENETUNREACH: return "ENETUNREACH";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case EINVAL: return "EINVAL";
	case EPERM: return "EPERM";
	default: return "other";
	}
}

static int do_lookup(const struct route_ids *ids, const char *addr)
{
	struct sockaddr_storage dst, src;
	char buf[INET6_ADDRSTRLEN], ifn[IF_NAMESIZE];
	int ifindex;

	if (parse_addr(addr, &dst) != 0) {
		fprintf(stderr, "route_drv: bad address %s\n", addr);
		return -1;
	}
	if (route_lookup(ids, &dst, &src, &ifindex) != 0) {
		printf("lookup %s error=%s (%s)\n", addr, errno_name(errno), strerror(errno));
		return 1;
	}
	if (!if_indextoname((unsigned)ifindex, ifn))
		snprintf(ifn, sizeof(ifn), "#%d", ifindex);
	printf("lookup %s src=%s oif=%s\n", addr, ss_str(&src, buf, sizeof(buf)), ifn);
	return 0;
}

static int tun_open(const char *name, int *ifindex)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		perror("route_drv: /dev/net/tun");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
		perror("route_drv: TUNSETIFF");
		close(fd);
		return -1;
	}
	*ifindex = (int)if_nametoindex(ifr.ifr_name);
	return fd;
}

/* /etc/resolv.conf is the test's private file (ip netns exec bind-mounts it there). */
static int resolv_is_test_copy(void)
{
	const char *path = getenv("KITE_TEST_RESOLV_FILE");
	struct stat a, b;

	if (!path || strncmp(path, "/etc/netns/", 11) != 0)
		return 0;
	if (stat("/etc/resolv.conf", &a) != 0 || stat(path, &b) != 0)
		return 0;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int setup_routes(struct route_state *rs, int ifindex)
{
	static const uint8_t vip4[4] = { 10, 3, 0, 2 }, any4[4] = { 0 }, lan4[4] = { 10, 1, 0, 0 };
	static const uint8_t vip6[16] = { 0xfd, 0x00, 0x6b, 0x69, [15] = 2 }, any6[16] = { 0 };

	return route_link_up(rs, ifindex, 1400) ||
	       route_addr_add(rs, ifindex, AF_INET, vip4, 32) ||
	       route_addr_add(rs, ifindex, AF_INET6, vip6, 128) ||
	       route_add(rs, AF_INET, any4, 0, ifindex) ||
	       route_add(rs, AF_INET, lan4, 24, ifindex) ||
	       route_add_unreachable(rs, AF_INET6, any6, 0) ||
	       route_rules_add(rs, AF_INET) ||
	       route_rules_add(rs, AF_INET6);
}

static int do_hold(const struct route_ids *ids, const char *profile, int argc, char **argv)
{
	const char *tun = "kt-drv", *dns_dir = NULL, *lookups[MAX_LOOKUPS];
	int n_lookups = 0, no_route = 0, close_first = 0, ifindex = 0, fd, sig, ret = 1;
	struct route_state *rs = NULL;
	struct dns_state dns;
	int dns_applied = 0;
	sigset_t set;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--tun") && i + 1 < argc)
			tun = argv[++i];
		else if (!strcmp(argv[i], "--lookup") && i + 1 < argc && n_lookups < MAX_LOOKUPS)
			lookups[n_lookups++] = argv[++i];
		else if (!strcmp(argv[i], "--dns") && i + 1 < argc)
			dns_dir = argv[++i];
		else if (!strcmp(argv[i], "--no-route"))
			no_route = 1;
		else if (!strcmp(argv[i], "--close-tun-first"))
			close_first = 1;
		else
			return usage();
	}
	if (dns_dir && !resolv_is_test_copy()) {
		fprintf(stderr, "route_drv: /etc/resolv.conf is not the test's copy; refusing --dns\n");
		return 3;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);

	if ((fd = tun_open(tun, &ifindex)) < 0)
		return 1;
	if (!no_route) {
		if ((rs = route_open(ids)) == NULL) {
			fprintf(stderr, "route_drv: route_open: %s\n", strerror(errno));
			goto out;
		}
		if (setup_routes(rs, ifindex) != 0) {
			printf("SETUP-FAILED\n");
			goto out;
		}
	}
	for (int i = 0; i < n_lookups; i++)
		if (do_lookup(ids, lookups[i]) < 0)
			goto out;
	if (dns_dir) {
		struct dns_config c = {
			.v4 = { { 10, 1, 0, 53 }, { 10, 1, 0, 54 } }, .n_v4 = 2,
			.v6 = { { 0xfd, [15] = 0x53 }, { 0xfd, [15] = 0x54 } }, .n_v6 = 2,
			.domains = "corp.example -bad lab.example b@d",
			.full_tunnel = 1,
		};

		if (dns_apply(&dns, dns_dir, profile, tun, &c) != 0) {
			printf("DNS-FAILED\n");
			goto out;
		}
		dns_applied = 1;
		printf("dns backend=%s\n", dns_backend_name(dns.backend));
	}
	printf("READY ifindex=%d\n", ifindex);
	fflush(stdout);
	if (sigwait(&set, &sig) != 0)
		goto out;
	ret = 0;
out:
	if (close_first && fd >= 0) {
		close(fd);
		fd = -1;
	}
	if (dns_applied)
		dns_undo(&dns);
	route_close(rs);
	if (fd >= 0)
		close(fd);
	printf(ret == 0 ? "DONE\n" : "FAILED\n");
	return ret;
}

int main(int argc, char **argv)
{
	struct route_ids ids;

	setvbuf(stdout, NULL, _IOLBF, 0);
	log_init("route_drv", 0, LOG_LVL_DEBUG);
	if (argc < 3)
		return usage();
	route_ids_for(argv[2], &ids);
	if (!strcmp(argv[1], "ids")) {
		printf("%u %u %u\n", ids.table, ids.mark, ids.prio);
		return 0;
	}
	if (!strcmp(argv[1], "lookup") && argc == 4)
		return do_lookup(&ids, argv[3]) < 0 ? 1 : 0;
	if (!strcmp(argv[1], "cleanup") && argc == 4) {
		int r = route_cleanup_stale(&ids);

		dns_cleanup_stale(argv[3], argv[2]);
		printf("cleanup %s\n", r == 0 ? "ok" : kite_strerror(r));
		return r == 0 ? 0 : 1;
	}
	if (!strcmp(argv[1], "hold"))
		return do_hold(&ids, argv[2], argc - 3, argv + 3);
	return usage();
}
