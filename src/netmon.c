/* netmon: see netmon.h. */
#include <errno.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdlib.h>
#include <string.h>

#include "kite.h"
#include "log.h"
#include "netmon.h"

struct netmon {
	struct nl_sock *sk;
	/* filled by the callback during one netmon_read */
	int ignore_ifindex;
	uint32_t ignore_table;
	unsigned events;
	struct sockaddr_storage *deleted;
	unsigned max, n;
};

static void note_addr(struct netmon *nm, int family, const void *addr)
{
	struct sockaddr_storage *ss;

	if (nm->n >= nm->max)
		return;
	ss = &nm->deleted[nm->n++];
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = (sa_family_t)family;
	if (family == AF_INET)
		memcpy(&((struct sockaddr_in *)ss)->sin_addr, addr, 4);
	else
		memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr, addr, 16);
}

static int on_msg(struct nl_msg *msg, void *arg)
{
	struct netmon *nm = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);

	switch (h->nlmsg_type) {
	case RTM_NEWADDR:
	case RTM_DELADDR: {
		struct ifaddrmsg *ifa;
		struct nlattr *tb[IFA_MAX + 1];

		if (nlmsg_parse(h, sizeof(*ifa), tb, IFA_MAX, NULL) < 0)
			return NL_SKIP;
		ifa = nlmsg_data(h);
		if ((int)ifa->ifa_index == nm->ignore_ifindex)
			return NL_SKIP;
		nm->events |= NETMON_CHANGE;
		if (h->nlmsg_type == RTM_DELADDR) {
			struct nlattr *a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
			size_t want = ifa->ifa_family == AF_INET ? 4 : 16;

			nm->events |= NETMON_ADDR_DEL;
			if (a && (size_t)nla_len(a) == want)
				note_addr(nm, ifa->ifa_family, nla_data(a));
		}
		break;
	}
	case RTM_NEWROUTE:
	case RTM_DELROUTE: {
		struct rtmsg *rt;
		struct nlattr *tb[RTA_MAX + 1];
		uint32_t table;

		if (nlmsg_parse(h, sizeof(*rt), tb, RTA_MAX, NULL) < 0)
			return NL_SKIP;
		rt = nlmsg_data(h);
		table = tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE]) : rt->rtm_table;
		if (table == nm->ignore_table || table == RT_TABLE_LOCAL)
			return NL_SKIP;
		if (tb[RTA_OIF] && (int)nla_get_u32(tb[RTA_OIF]) == nm->ignore_ifindex)
			return NL_SKIP;
		nm->events |= NETMON_CHANGE;
		break;
	}
	case RTM_NEWLINK:
	case RTM_DELLINK: {
		struct ifinfomsg *ifi;

		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
			return NL_SKIP;
		ifi = nlmsg_data(h);
		if (ifi->ifi_index == nm->ignore_ifindex)
			return NL_SKIP;
		nm->events |= NETMON_CHANGE;
		if (h->nlmsg_type == RTM_DELLINK || !(ifi->ifi_flags & IFF_UP) ||
		    !(ifi->ifi_flags & IFF_RUNNING))
			nm->events |= NETMON_LINK_DOWN;
		break;
	}
	default:
		break;
	}
	return NL_OK;
}

struct netmon *netmon_open(void)
{
	struct netmon *nm = calloc(1, sizeof(*nm));

	if (!nm)
		return NULL;
	if ((nm->sk = nl_socket_alloc()) == NULL)
		goto fail;
	nl_socket_disable_seq_check(nm->sk);
	nl_socket_modify_cb(nm->sk, NL_CB_VALID, NL_CB_CUSTOM, on_msg, nm);
	if (nl_connect(nm->sk, NETLINK_ROUTE) < 0 ||
	    nl_socket_add_memberships(nm->sk, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR,
				      RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, 0) < 0 ||
	    nl_socket_set_nonblocking(nm->sk) < 0) {
		errno = EIO;
		goto fail;
	}
	/* A burst of changes must not overflow the socket: a lost event is a missed roam. */
	nl_socket_set_buffer_size(nm->sk, 1 << 20, 0);
	return nm;
fail:
	if (nm->sk)
		nl_socket_free(nm->sk);
	free(nm);
	return NULL;
}

void netmon_close(struct netmon *nm)
{
	if (!nm)
		return;
	nl_socket_free(nm->sk);
	free(nm);
}

int netmon_fd(const struct netmon *nm)
{
	return nl_socket_get_fd(nm->sk);
}

unsigned netmon_read(struct netmon *nm, int ignore_ifindex, uint32_t ignore_table,
		     struct sockaddr_storage *deleted, unsigned max, unsigned *n_deleted)
{
	int r, rounds = 0;

	nm->ignore_ifindex = ignore_ifindex;
	nm->ignore_table = ignore_table;
	nm->events = 0;
	nm->deleted = deleted;
	nm->max = deleted ? max : 0;
	nm->n = 0;
	do {
		r = nl_recvmsgs_default(nm->sk);
	} while (r >= 0 && ++rounds < 64);
	if (r < 0 && r != -NLE_AGAIN) {
		/* Overrun (ENOBUFS) or error: events were lost, so assume everything changed. */
		log_debug("netlink: %s", nl_geterror(r));
		nm->events |= NETMON_CHANGE;
	}
	if (n_deleted)
		*n_deleted = nm->n;
	return nm->events;
}
