/*
 * route: see route.h. Links, addresses and routes are built with libnl-route
 * objects; the two policy rules and the route lookup are built by hand
 * because libnl 3.7 has no setter for FIB_RULE_INVERT, FRA_SUPPRESS_PREFIXLEN
 * or RTA_MARK on a lookup. Every request goes through nl_exchange(), which
 * keeps the kernel's errno (libnl folds most of them into NLE_FAILURE).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/fib_rules.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <netlink/addr.h>
#include <netlink/attr.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>

#include "kite.h"
#include "log.h"
#include "route.h"

#define ROUTE_TABLE_BASE	(0x4b49u << 16)	/* "KI" */
#define ROUTE_PRIO_BASE		20000u
#define ROUTE_PRIO_SPAN		4000u		/* pairs: 20000 .. 27998 */
#define STALE_MAX		32		/* identical leftovers deleted per rule */

enum route_kind {
	RK_LINK,		/* link state before route_link_up */
	RK_ADDR,
	RK_ROUTE,
	RK_UNREACH,
	RK_RULE_MAIN,		/* prio: from all lookup main suppress_prefixlength 0 */
	RK_RULE_MARK,		/* prio + 1: not from all fwmark MARK lookup TABLE */
};

struct route_rec {
	enum route_kind kind;
	int family;
	int ifindex;
	uint8_t addr[16];
	unsigned plen;
	unsigned old_mtu;	/* RK_LINK */
	int was_up;		/* RK_LINK */
	int mtu_changed;	/* RK_LINK */
};

struct route_state {
	struct nl_sock *sk;
	struct route_ids ids;
	struct route_rec *rec;
	size_t n, cap;
};

/* ---- helpers ---------------------------------------------------------------------------- */

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static const char *fam_str(int family)
{
	return family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" : "?";
}

static const char *addr_str(int family, const uint8_t *a, char *buf, size_t len)
{
	if (!inet_ntop(family, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

/* Host bits cleared: the kernel refuses an IPv4 prefix with host bits set. */
static void prefix_mask(uint8_t *a, size_t alen, unsigned plen)
{
	for (size_t i = 0; i < alen; i++) {
		if (plen >= 8 * (i + 1))
			continue;
		if (plen <= 8 * i)
			a[i] = 0;
		else
			a[i] &= (uint8_t)(0xff00u >> (plen - 8 * i));
	}
}

static const char *if_str(int ifindex, char *buf)
{
	if (!if_indextoname((unsigned)ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "#%d", ifindex);
	return buf;
}

/* ---- one request, one answer ------------------------------------------------------------ */

struct nl_req {
	uint32_t seq;
	int done;
	int error;		/* positive errno from the kernel's NLMSG_ERROR; 0 = ack */
	int (*parse)(struct nlmsghdr *nlh, void *arg);
	void *arg;
};

static int req_seq(struct nl_msg *msg, void *arg)
{
	struct nl_req *r = arg;

	/* Answers to an earlier, abandoned request are skipped, not treated as fatal. */
	return nlmsg_hdr(msg)->nlmsg_seq == r->seq ? NL_OK : NL_SKIP;
}

static int req_valid(struct nl_msg *msg, void *arg)
{
	struct nl_req *r = arg;

	if (r->parse)
		r->parse(nlmsg_hdr(msg), r->arg);
	return NL_OK;
}

static int req_end(struct nl_msg *msg, void *arg)
{
	struct nl_req *r = arg;

	r->done = 1;
	return NL_STOP;
}

static int req_err(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nl_req *r = arg;

	r->error = -e->error;
	r->done = 1;
	return NL_STOP;
}

/*
 * Send msg (consumed) and read until its ACK, error or NLMSG_DONE; data
 * messages go to parse. Requests without NLM_F_DUMP get NLM_F_ACK so that
 * every request ends with exactly one NLMSG_ERROR. Returns 0 or a positive
 * errno (EIO for a transport failure, logged at debug).
 */
static int nl_exchange(struct nl_sock *sk, struct nl_msg *msg,
		       int (*parse)(struct nlmsghdr *, void *), void *arg)
{
	struct nl_req r = { .parse = parse, .arg = arg };
	struct nl_cb *cb;
	int err;

	if (!(nlmsg_hdr(msg)->nlmsg_flags & NLM_F_DUMP))
		nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_ACK;
	if ((cb = nl_cb_alloc(NL_CB_DEFAULT)) == NULL) {
		nlmsg_free(msg);
		return ENOMEM;
	}
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, req_seq, &r);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, req_valid, &r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, req_end, &r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, req_end, &r);
	nl_cb_err(cb, NL_CB_CUSTOM, req_err, &r);

	err = nl_send_auto(sk, msg);
	r.seq = nlmsg_hdr(msg)->nlmsg_seq;
	nlmsg_free(msg);
	if (err < 0) {
		log_debug("netlink send: %s", nl_geterror(err));
		nl_cb_put(cb);
		return EIO;
	}
	while (!r.done) {
		err = nl_recvmsgs(sk, cb);
		if (err < 0 && !r.done) {
			log_debug("netlink receive: %s", nl_geterror(err));
			nl_cb_put(cb);
			return EIO;
		}
	}
	nl_cb_put(cb);
	return r.error;
}

static struct nl_sock *nl_open(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	int err;

	if (!sk) {
		errno = ENOMEM;
		return NULL;
	}
	if ((err = nl_connect(sk, NETLINK_ROUTE)) < 0) {
		log_debug("nl_connect: %s", nl_geterror(err));
		nl_socket_free(sk);
		errno = err == -NLE_PERM ? EPERM : EIO;
		return NULL;
	}
	return sk;
}

/* ---- ids, open, close ------------------------------------------------------------------- */

void route_ids_for(const char *profile, struct route_ids *ids)
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	uint16_t h16;

	for (const unsigned char *p = (const unsigned char *)profile; *p; p++) {
		h ^= *p;
		h *= 16777619u;
	}
	h16 = (uint16_t)(h ^ (h >> 16));
	ids->table = ROUTE_TABLE_BASE | h16;
	ids->mark = ids->table;
	ids->prio = ROUTE_PRIO_BASE + (h16 % ROUTE_PRIO_SPAN) * 2;
}

struct route_state *route_open(const struct route_ids *ids)
{
	struct route_state *rs = calloc(1, sizeof(*rs));

	if (!rs)
		return NULL;
	rs->ids = *ids;
	if ((rs->sk = nl_open()) == NULL) {
		int e = errno;

		free(rs);
		errno = e;
		return NULL;
	}
	return rs;
}

/* Room for one more record, reserved before the kernel is asked: recording cannot fail later. */
static int rec_reserve(struct route_state *rs)
{
	struct route_rec *n;
	size_t cap;

	if (rs->n < rs->cap)
		return 0;
	cap = rs->cap ? rs->cap * 2 : 16;
	if ((n = realloc(rs->rec, cap * sizeof(*n))) == NULL) {
		log_err("out of memory");
		return KITE_ERR_NOMEM;
	}
	rs->rec = n;
	rs->cap = cap;
	return 0;
}

/* ---- policy rules (built by hand: FIB_RULE_INVERT, FRA_SUPPRESS_PREFIXLEN) -------------- */

static struct nl_msg *rule_msg(int cmd, int flags, int family, const struct route_ids *ids,
			       enum route_kind kind)
{
	struct fib_rule_hdr frh = { .family = (uint8_t)family, .action = FR_ACT_TO_TBL };
	struct nl_msg *msg = nlmsg_alloc_simple(cmd, flags);
	uint32_t table = kind == RK_RULE_MAIN ? RT_TABLE_MAIN : ids->table;

	if (!msg)
		return NULL;
	frh.table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	if (kind == RK_RULE_MARK)
		frh.flags = FIB_RULE_INVERT;
	if (nlmsg_append(msg, &frh, sizeof(frh), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(msg, FRA_TABLE, table) < 0)
		goto fail;
	if (kind == RK_RULE_MAIN) {
		if (nla_put_u32(msg, FRA_PRIORITY, ids->prio) < 0 ||
		    nla_put_u32(msg, FRA_SUPPRESS_PREFIXLEN, 0) < 0)
			goto fail;
	} else {
		if (nla_put_u32(msg, FRA_PRIORITY, ids->prio + 1) < 0 ||
		    nla_put_u32(msg, FRA_FWMARK, ids->mark) < 0 ||
		    nla_put_u32(msg, FRA_FWMASK, 0xffffffffu) < 0)
			goto fail;
	}
	return msg;
fail:
	nlmsg_free(msg);
	return NULL;
}

static int rule_do(struct nl_sock *sk, int cmd, int flags, int family,
		   const struct route_ids *ids, enum route_kind kind)
{
	struct nl_msg *msg = rule_msg(cmd, flags, family, ids, kind);

	if (!msg)
		return ENOMEM;
	return nl_exchange(sk, msg, NULL, NULL);
}

static void rule_desc(const struct route_ids *ids, enum route_kind kind, int family,
		      char *buf, size_t len)
{
	if (kind == RK_RULE_MAIN)
		snprintf(buf, len, "%s rule %u (lookup main suppress_prefixlength 0)",
			 fam_str(family), ids->prio);
	else
		snprintf(buf, len, "%s rule %u (not fwmark 0x%x lookup %u)",
			 fam_str(family), ids->prio + 1, ids->mark, ids->table);
}

int route_rules_add(struct route_state *rs, int family)
{
	static const enum route_kind kinds[] = { RK_RULE_MAIN, RK_RULE_MARK };
	char d[96];
	int e;

	if (!rs || !addr_len(family))
		return KITE_ERR_INVAL;
	for (size_t i = 0; i < KITE_ARRAY_SIZE(kinds); i++) {
		if (rec_reserve(rs) != 0)
			return KITE_ERR_NOMEM;
		rule_desc(&rs->ids, kinds[i], family, d, sizeof(d));
		e = rule_do(rs->sk, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, family, &rs->ids, kinds[i]);
		if (e) {
			log_err("cannot add %s: %s%s", d, strerror(e),
				e == EEXIST ? " (left by an earlier run? route_cleanup_stale removes it)" : "");
			errno = e;
			return KITE_ERR_SYS;
		}
		rs->rec[rs->n++] = (struct route_rec){ .kind = kinds[i], .family = family };
		log_debug("added %s", d);
	}
	return 0;
}

/* ---- routes ----------------------------------------------------------------------------- */

static struct rtnl_route *route_obj(uint32_t table, const struct route_rec *r)
{
	struct rtnl_route *route = rtnl_route_alloc();
	struct rtnl_nexthop *nh;
	struct nl_addr *dst;

	if (!route)
		return NULL;
	if ((dst = nl_addr_build(r->family, r->addr, addr_len(r->family))) == NULL)
		goto fail;
	nl_addr_set_prefixlen(dst, (int)r->plen);
	rtnl_route_set_family(route, (uint8_t)r->family);
	rtnl_route_set_table(route, table);
	rtnl_route_set_protocol(route, RTPROT_STATIC);
	if (rtnl_route_set_dst(route, dst) < 0) {
		nl_addr_put(dst);
		goto fail;
	}
	nl_addr_put(dst);
	if (r->kind == RK_UNREACH) {
		rtnl_route_set_type(route, RTN_UNREACHABLE);
		rtnl_route_set_scope(route, RT_SCOPE_UNIVERSE);
		return route;
	}
	rtnl_route_set_type(route, RTN_UNICAST);
	/* a device route: link scope for IPv4; IPv6 routes are always universe */
	rtnl_route_set_scope(route, r->family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE);
	if ((nh = rtnl_route_nh_alloc()) == NULL)
		goto fail;
	rtnl_route_nh_set_ifindex(nh, r->ifindex);
	rtnl_route_add_nexthop(route, nh);	/* the route owns nh now */
	return route;
fail:
	rtnl_route_put(route);
	return NULL;
}

static int route_msg_do(struct nl_sock *sk, uint32_t table, const struct route_rec *r, int add)
{
	struct rtnl_route *route = route_obj(table, r);
	struct nl_msg *msg = NULL;
	int err;

	if (!route)
		return ENOMEM;
	if (add)
		err = rtnl_route_build_add_request(route, NLM_F_CREATE | NLM_F_EXCL, &msg);
	else
		err = rtnl_route_build_del_request(route, 0, &msg);
	rtnl_route_put(route);
	if (err < 0)
		return ENOMEM;
	return nl_exchange(sk, msg, NULL, NULL);
}

static void route_desc(const struct route_rec *r, uint32_t table, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN], ifn[IF_NAMESIZE];

	addr_str(r->family, r->addr, a, sizeof(a));
	if (r->kind == RK_UNREACH)
		snprintf(buf, len, "route unreachable %s/%u table %u", a, r->plen, table);
	else
		snprintf(buf, len, "route %s/%u dev %s table %u", a, r->plen,
			 if_str(r->ifindex, ifn), table);
}

static int route_add_rec(struct route_state *rs, enum route_kind kind, int family,
			 const uint8_t *dst, unsigned plen, int ifindex)
{
	struct route_rec r = { .kind = kind, .family = family, .ifindex = ifindex, .plen = plen };
	size_t alen = addr_len(family);
	char d[128];
	int e;

	if (!rs || !alen || !dst || plen > 8 * alen)
		return KITE_ERR_INVAL;
	memcpy(r.addr, dst, alen);
	prefix_mask(r.addr, alen, plen);
	if (rec_reserve(rs) != 0)
		return KITE_ERR_NOMEM;
	route_desc(&r, rs->ids.table, d, sizeof(d));
	if ((e = route_msg_do(rs->sk, rs->ids.table, &r, 1)) != 0) {
		log_err("cannot add %s: %s", d, strerror(e));
		errno = e;
		return KITE_ERR_SYS;
	}
	rs->rec[rs->n++] = r;
	log_debug("added %s", d);
	return 0;
}

int route_add(struct route_state *rs, int family, const uint8_t *dst, unsigned plen, int ifindex)
{
	if (ifindex <= 0)
		return KITE_ERR_INVAL;
	return route_add_rec(rs, RK_ROUTE, family, dst, plen, ifindex);
}

int route_add_unreachable(struct route_state *rs, int family, const uint8_t *dst, unsigned plen)
{
	return route_add_rec(rs, RK_UNREACH, family, dst, plen, 0);
}

/* ---- addresses -------------------------------------------------------------------------- */

static int addr_msg_do(struct nl_sock *sk, const struct route_rec *r, int add)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local = NULL;
	struct nl_msg *msg = NULL;
	int err = -NLE_NOMEM;

	if (!a)
		return ENOMEM;
	if ((local = nl_addr_build(r->family, r->addr, addr_len(r->family))) == NULL)
		goto out;
	nl_addr_set_prefixlen(local, (int)r->plen);
	rtnl_addr_set_ifindex(a, r->ifindex);
	rtnl_addr_set_family(a, r->family);
	if ((err = rtnl_addr_set_local(a, local)) < 0)
		goto out;
	rtnl_addr_set_prefixlen(a, (int)r->plen);
	/* No duplicate address detection on a tunnel: the address is usable at once. */
	if (r->family == AF_INET6)
		rtnl_addr_set_flags(a, IFA_F_NODAD);
	if (add)
		err = rtnl_addr_build_add_request(a, NLM_F_CREATE | NLM_F_EXCL, &msg);
	else
		err = rtnl_addr_build_delete_request(a, 0, &msg);
out:
	nl_addr_put(local);
	rtnl_addr_put(a);
	if (err < 0)
		return ENOMEM;
	return nl_exchange(sk, msg, NULL, NULL);
}

int route_addr_add(struct route_state *rs, int ifindex, int family, const uint8_t *addr,
		   unsigned prefixlen)
{
	struct route_rec r = { .kind = RK_ADDR, .family = family, .ifindex = ifindex,
			       .plen = prefixlen };
	size_t alen = addr_len(family);
	char a[INET6_ADDRSTRLEN], ifn[IF_NAMESIZE];
	int e;

	if (!rs || !alen || !addr || prefixlen > 8 * alen || ifindex <= 0)
		return KITE_ERR_INVAL;
	memcpy(r.addr, addr, alen);
	if (rec_reserve(rs) != 0)
		return KITE_ERR_NOMEM;
	addr_str(family, r.addr, a, sizeof(a));
	if ((e = addr_msg_do(rs->sk, &r, 1)) != 0) {
		log_err("cannot add address %s/%u on %s: %s", a, prefixlen, if_str(ifindex, ifn),
			strerror(e));
		errno = e;
		return KITE_ERR_SYS;
	}
	rs->rec[rs->n++] = r;
	log_debug("added address %s/%u on %s", a, prefixlen, if_str(ifindex, ifn));
	return 0;
}

/* ---- link ------------------------------------------------------------------------------- */

struct link_info {
	int found;
	unsigned flags;
	unsigned mtu;
};

static int link_parse(struct nlmsghdr *nlh, void *arg)
{
	struct link_info *li = arg;
	struct nlattr *tb[IFLA_MAX + 1];
	struct ifinfomsg *ifi;

	if (nlh->nlmsg_type != RTM_NEWLINK || nlmsg_parse(nlh, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0)
		return 0;
	ifi = nlmsg_data(nlh);
	li->found = 1;
	li->flags = ifi->ifi_flags;
	if (tb[IFLA_MTU])
		li->mtu = nla_get_u32(tb[IFLA_MTU]);
	return 0;
}

static int link_get(struct nl_sock *sk, int ifindex, struct link_info *li)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETLINK, 0);
	int e;

	memset(li, 0, sizeof(*li));
	if (!msg)
		return ENOMEM;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		return ENOMEM;
	}
	if ((e = nl_exchange(sk, msg, link_parse, li)) != 0)
		return e;
	return li->found ? 0 : ENODEV;
}

/* up < 0: leave IFF_UP alone; mtu 0: leave the MTU alone. */
static int link_change(struct nl_sock *sk, int ifindex, int up, unsigned mtu)
{
	struct rtnl_link *orig = rtnl_link_alloc(), *chg = rtnl_link_alloc();
	struct nl_msg *msg = NULL;
	int err = -NLE_NOMEM;

	if (!orig || !chg)
		goto out;
	rtnl_link_set_ifindex(orig, ifindex);
	if (up > 0)
		rtnl_link_set_flags(chg, IFF_UP);
	else if (up == 0)
		rtnl_link_unset_flags(chg, IFF_UP);
	if (mtu)
		rtnl_link_set_mtu(chg, mtu);
	err = rtnl_link_build_change_request(orig, chg, 0, &msg);
out:
	rtnl_link_put(orig);
	rtnl_link_put(chg);
	if (err < 0)
		return ENOMEM;
	return nl_exchange(sk, msg, NULL, NULL);
}

int route_link_up(struct route_state *rs, int ifindex, unsigned mtu)
{
	struct route_rec r = { .kind = RK_LINK, .ifindex = ifindex };
	struct link_info li;
	char ifn[IF_NAMESIZE];
	int e;

	if (!rs || ifindex <= 0)
		return KITE_ERR_INVAL;
	if (rec_reserve(rs) != 0)
		return KITE_ERR_NOMEM;
	if ((e = link_get(rs->sk, ifindex, &li)) != 0) {
		log_err("cannot read link %s: %s", if_str(ifindex, ifn), strerror(e));
		errno = e;
		return KITE_ERR_SYS;
	}
	r.was_up = !!(li.flags & IFF_UP);
	r.old_mtu = li.mtu;
	r.mtu_changed = mtu && mtu != li.mtu;
	if ((e = link_change(rs->sk, ifindex, 1, r.mtu_changed ? mtu : 0)) != 0) {
		log_err("cannot set link %s up with MTU %u: %s", if_str(ifindex, ifn), mtu,
			strerror(e));
		errno = e;
		return KITE_ERR_SYS;
	}
	rs->rec[rs->n++] = r;
	log_debug("link %s up, MTU %u", if_str(ifindex, ifn), mtu ? mtu : li.mtu);
	return 0;
}

/* ---- undo ------------------------------------------------------------------------------- */

/* Already gone is fine: the TUN device's removal takes its routes and addresses with it. */
static int gone(int e)
{
	return e == ENOENT || e == ESRCH || e == ENODEV || e == EADDRNOTAVAIL;
}

static void rec_undo(struct route_state *rs, const struct route_rec *r)
{
	char d[128], a[INET6_ADDRSTRLEN], ifn[IF_NAMESIZE];
	int e = 0;

	switch (r->kind) {
	case RK_LINK:
		snprintf(d, sizeof(d), "link %s (restore %s, MTU %u)", if_str(r->ifindex, ifn),
			 r->was_up ? "up" : "down", r->old_mtu);
		if (!r->was_up || r->mtu_changed)
			e = link_change(rs->sk, r->ifindex, r->was_up ? -1 : 0,
					r->mtu_changed ? r->old_mtu : 0);
		break;
	case RK_ADDR:
		snprintf(d, sizeof(d), "address %s/%u on %s",
			 addr_str(r->family, r->addr, a, sizeof(a)), r->plen, if_str(r->ifindex, ifn));
		e = addr_msg_do(rs->sk, r, 0);
		break;
	case RK_ROUTE:
	case RK_UNREACH:
		route_desc(r, rs->ids.table, d, sizeof(d));
		e = route_msg_do(rs->sk, rs->ids.table, r, 0);
		break;
	case RK_RULE_MAIN:
	case RK_RULE_MARK:
		rule_desc(&rs->ids, r->kind, r->family, d, sizeof(d));
		e = rule_do(rs->sk, RTM_DELRULE, 0, r->family, &rs->ids, r->kind);
		break;
	}
	if (e == 0)
		log_debug("removed %s", d);
	else if (gone(e))
		log_debug("%s: already gone", d);
	else
		log_err("cannot remove %s: %s", d, strerror(e));
}

void route_undo(struct route_state *rs)
{
	if (!rs)
		return;
	while (rs->n > 0)
		rec_undo(rs, &rs->rec[--rs->n]);
}

void route_close(struct route_state *rs)
{
	if (!rs)
		return;
	route_undo(rs);
	nl_socket_free(rs->sk);
	free(rs->rec);
	free(rs);
}

/* ---- stale state after a crash ---------------------------------------------------------- */

struct table_dump {
	uint32_t table;
	struct rtnl_route **routes;
	size_t n, cap;
	int nomem;
};

static int table_parse(struct nlmsghdr *nlh, void *arg)
{
	struct table_dump *td = arg;
	struct rtnl_route *route = NULL;

	if (nlh->nlmsg_type != RTM_NEWROUTE || rtnl_route_parse(nlh, &route) < 0)
		return 0;
	if (rtnl_route_get_table(route) != td->table) {
		rtnl_route_put(route);
		return 0;
	}
	if (td->n == td->cap) {
		size_t cap = td->cap ? td->cap * 2 : 16;
		struct rtnl_route **n = realloc(td->routes, cap * sizeof(*n));

		if (!n) {
			td->nomem = 1;
			rtnl_route_put(route);
			return 0;
		}
		td->routes = n;
		td->cap = cap;
	}
	td->routes[td->n++] = route;
	return 0;
}

/* One dump of the family's routes, keeping those in table (td->routes, caller puts them). */
static int table_dump(struct nl_sock *sk, int family, struct table_dump *td)
{
	struct rtmsg rtm = { .rtm_family = (uint8_t)family };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_DUMP);
	int e;

	if (!msg)
		return ENOMEM;
	if (nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		return ENOMEM;
	}
	if ((e = nl_exchange(sk, msg, table_parse, td)) != 0)
		return e;
	return td->nomem ? ENOMEM : 0;
}

/*
 * Delete every route of one family in table. A dump that the kernel marks
 * NLM_F_DUMP_INTR (the table changed meanwhile) may be incomplete, so dump
 * again until one finds nothing (bounded). Returns 0 or a positive errno.
 */
static int table_flush(struct nl_sock *sk, int family, uint32_t table, unsigned *removed)
{
	int ret = 0;

	for (int pass = 0; pass < 4 && ret == 0; pass++) {
		struct table_dump td = { .table = table };
		int e;

		ret = table_dump(sk, family, &td);
		for (size_t i = 0; i < td.n; i++) {
			struct nl_msg *del = NULL;

			if (ret == 0) {
				if (rtnl_route_build_del_request(td.routes[i], 0, &del) < 0)
					ret = ENOMEM;
				else if ((e = nl_exchange(sk, del, NULL, NULL)) == 0)
					(*removed)++;
				else if (!gone(e))
					ret = e;
			}
			rtnl_route_put(td.routes[i]);
		}
		free(td.routes);
		if (td.n == 0)
			break;
	}
	return ret;
}

int route_cleanup_stale(const struct route_ids *ids)
{
	static const int fams[] = { AF_INET, AF_INET6 };
	static const enum route_kind kinds[] = { RK_RULE_MAIN, RK_RULE_MARK };
	struct nl_sock *sk;
	int ret = 0, e;

	if (!ids)
		return KITE_ERR_INVAL;
	if ((sk = nl_open()) == NULL) {
		log_err("cannot open a netlink socket: %s", strerror(errno));
		return KITE_ERR_SYS;
	}
	for (size_t f = 0; f < KITE_ARRAY_SIZE(fams); f++) {
		unsigned removed = 0;
		char d[96];

		for (size_t k = 0; k < KITE_ARRAY_SIZE(kinds); k++) {
			rule_desc(ids, kinds[k], fams[f], d, sizeof(d));
			for (int i = 0; i < STALE_MAX; i++) {
				e = rule_do(sk, RTM_DELRULE, 0, fams[f], ids, kinds[k]);
				if (e == 0) {
					log_info("removed stale %s", d);
					continue;
				}
				/* EAFNOSUPPORT: IPv6 disabled, so nothing can be left there */
				if (!gone(e) && e != EAFNOSUPPORT) {
					log_err("cannot remove stale %s: %s", d, strerror(e));
					errno = e;
					ret = KITE_ERR_SYS;
				}
				break;
			}
		}
		e = table_flush(sk, fams[f], ids->table, &removed);
		if (e && e != EAFNOSUPPORT) {
			log_err("cannot flush %s routing table %u: %s", fam_str(fams[f]), ids->table,
				strerror(e));
			errno = e;
			ret = KITE_ERR_SYS;
		}
		if (removed)
			log_info("removed %u stale %s route%s from table %u", removed, fam_str(fams[f]),
				 removed == 1 ? "" : "s", ids->table);
	}
	nl_socket_free(sk);
	return ret;
}

/* ---- route lookup (RTM_GETROUTE with RTA_MARK: no libnl helper) ------------------------- */

struct lookup_res {
	int found;
	int family;
	int have_src;
	uint8_t src[16];
	int oif;
};

static int lookup_parse(struct nlmsghdr *nlh, void *arg)
{
	struct lookup_res *lr = arg;
	struct nlattr *tb[RTA_MAX + 1];
	size_t alen = addr_len(lr->family);

	if (nlh->nlmsg_type != RTM_NEWROUTE || nlmsg_parse(nlh, sizeof(struct rtmsg), tb, RTA_MAX,
							     NULL) < 0)
		return 0;
	lr->found = 1;
	if (tb[RTA_OIF])
		lr->oif = (int)nla_get_u32(tb[RTA_OIF]);
	if (tb[RTA_PREFSRC] && (size_t)nla_len(tb[RTA_PREFSRC]) == alen) {
		memcpy(lr->src, nla_data(tb[RTA_PREFSRC]), alen);
		lr->have_src = 1;
	}
	return 0;
}

int route_lookup(const struct route_ids *ids, const struct sockaddr_storage *dst,
		 struct sockaddr_storage *src, int *ifindex)
{
	struct lookup_res lr = { 0 };
	struct rtmsg rtm = { 0 };
	struct nl_sock *sk = NULL;
	struct nl_msg *msg = NULL;
	const uint8_t *a;
	uint32_t scope_id = 0;
	char as[INET6_ADDRSTRLEN];
	int e, ret = KITE_ERR_SYS;
	size_t alen;

	if (src)
		memset(src, 0, sizeof(*src));
	if (ifindex)
		*ifindex = 0;
	if (!ids || !dst || !src || !ifindex)
		return KITE_ERR_INVAL;
	if (dst->ss_family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)dst)->sin_addr;
	} else if (dst->ss_family == AF_INET6) {
		a = (const uint8_t *)&((const struct sockaddr_in6 *)dst)->sin6_addr;
		scope_id = ((const struct sockaddr_in6 *)dst)->sin6_scope_id;
	} else {
		return KITE_ERR_INVAL;
	}
	lr.family = dst->ss_family;
	alen = addr_len(lr.family);
	addr_str(lr.family, a, as, sizeof(as));
	rtm.rtm_family = (uint8_t)lr.family;
	rtm.rtm_dst_len = (uint8_t)(8 * alen);

	if ((sk = nl_open()) == NULL) {
		e = errno;
		log_err("cannot open a netlink socket: %s", strerror(e));
		goto out;
	}
	if ((msg = nlmsg_alloc_simple(RTM_GETROUTE, 0)) == NULL ||
	    nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
	    nla_put(msg, RTA_DST, (int)alen, a) < 0 ||
	    nla_put_u32(msg, RTA_MARK, ids->mark) < 0 ||
	    (scope_id && nla_put_u32(msg, RTA_OIF, scope_id) < 0)) {
		nlmsg_free(msg);
		e = ENOMEM;
		log_err("route lookup towards %s: %s", as, strerror(e));
		goto out;
	}
	if ((e = nl_exchange(sk, msg, lookup_parse, &lr)) != 0) {
		log_debug("no route towards %s (mark 0x%x): %s", as, ids->mark, strerror(e));
		/* an unreachable or prohibit route is "no route" too, for the caller */
		if (e == EHOSTUNREACH || e == EACCES)
			e = ENETUNREACH;
		goto out;
	}
	if (!lr.found || !lr.oif) {
		e = ENETUNREACH;
		log_debug("no route towards %s (mark 0x%x): empty answer", as, ids->mark);
		goto out;
	}
	if (!lr.have_src) {
		e = EADDRNOTAVAIL;
		log_debug("route towards %s (mark 0x%x) has no source address", as, ids->mark);
		goto out;
	}
	src->ss_family = (sa_family_t)lr.family;
	if (lr.family == AF_INET) {
		memcpy(&((struct sockaddr_in *)src)->sin_addr, lr.src, 4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)src;

		memcpy(&s6->sin6_addr, lr.src, 16);
		if (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr))
			s6->sin6_scope_id = (uint32_t)lr.oif;
	}
	*ifindex = lr.oif;
	ret = 0;
	e = 0;
out:
	if (sk)
		nl_socket_free(sk);
	errno = e;
	return ret;
}
