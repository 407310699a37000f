/*
 * mobike: the initiator's side of MOBIKE (RFC 4555) inside the protocol core.
 * The daemon decides that the path changed (netmon + route lookup) and moves
 * its socket; this file tells the gateway (UPDATE_SA_ADDRESSES with NAT-D and
 * COOKIE2), checks the answer, and watches NAT mappings in liveness checks.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "ike_sa_int.h"
#include "kite.h"
#include "log.h"

static void addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, a, sizeof(a));
		port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, a, sizeof(a));
		port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	}
	snprintf(buf, len, ss->ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}

/* The address messages go to now: the gateway's, on port 4500 once floated. */
static struct sockaddr_storage current_remote(const struct ike_sa *sa)
{
	struct sockaddr_storage r = sa->p.remote;

	if (sa->natt) {
		if (r.ss_family == AF_INET)
			((struct sockaddr_in *)&r)->sin_port = htons(IKEV2_NATT_PORT);
		else if (r.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&r)->sin6_port = htons(IKEV2_NATT_PORT);
	}
	return r;
}

void mobike_auth_response(struct ike_sa *sa, const struct ike_msg *m)
{
	sa->n_peer_addrs = 0;
	for (unsigned i = 0; i < m->n_notify && sa->n_peer_addrs < KITE_ARRAY_SIZE(sa->peer_addrs); i++) {
		const struct ike_notify *n = &m->notify[i];
		struct sockaddr_storage *ss = &sa->peer_addrs[sa->n_peer_addrs];

		memset(ss, 0, sizeof(*ss));
		if (n->type == IKEV2_N_ADDITIONAL_IP4_ADDRESS && n->data.len == 4) {
			ss->ss_family = AF_INET;
			memcpy(&((struct sockaddr_in *)ss)->sin_addr, n->data.p, 4);
		} else if (n->type == IKEV2_N_ADDITIONAL_IP6_ADDRESS && n->data.len == 16) {
			ss->ss_family = AF_INET6;
			memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr, n->data.p, 16);
		} else {
			continue;
		}
		sa->n_peer_addrs++;
	}
	if (sa->n_peer_addrs)
		log_debug("the gateway announced %u additional address(es)", sa->n_peer_addrs);
}

void ike_mobike_set_addrs(struct ike_sa *sa, const struct sockaddr_storage *addrs, unsigned n)
{
	if (n > KITE_ARRAY_SIZE(sa->my_addrs))
		n = KITE_ARRAY_SIZE(sa->my_addrs);
	memcpy(sa->my_addrs, addrs, n * sizeof(*addrs));
	sa->n_my_addrs = n;
}

/*
 * Our address list (RFC 4555 3.6: always complete): the other addresses when the
 * user allows announcing them, else NO_ADDITIONAL_ADDRESSES (privacy, 5.5).
 */
void mobike_add_addrs(struct ike_sa *sa, struct ike_enc *e)
{
	unsigned sent = 0;

	if (sa->p.prof->mobike_announce) {
		for (unsigned i = 0; i < sa->n_my_addrs; i++) {
			const struct sockaddr_storage *a = &sa->my_addrs[i];

			if (a->ss_family == AF_INET) {
				ikev2_enc_notify(e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_ADDITIONAL_IP4_ADDRESS,
						 (const uint8_t *)&((const struct sockaddr_in *)a)->sin_addr, 4);
				sent++;
			} else if (a->ss_family == AF_INET6) {
				ikev2_enc_notify(e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_ADDITIONAL_IP6_ADDRESS,
						 (const uint8_t *)&((const struct sockaddr_in6 *)a)->sin6_addr, 16);
				sent++;
			}
		}
	}
	if (!sent)
		ikev2_enc_notify(e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_NO_ADDITIONAL_ADDRESSES, NULL, 0);
}

void mobike_add_natd(struct ike_sa *sa, struct ike_enc *e)
{
	struct sockaddr_storage r;
	uint8_t h[20];

	if (!sa->peer_mobike || !sa->natt)
		return;
	r = current_remote(sa);
	if (natd_hash(sa->spi_i, sa->spi_r, &sa->p.local, h) == 0)
		ikev2_enc_notify(e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_NAT_DETECTION_SOURCE_IP, h, 20);
	if (natd_hash(sa->spi_i, sa->spi_r, &r, h) == 0)
		ikev2_enc_notify(e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_NAT_DETECTION_DESTINATION_IP, h, 20);
}

/*
 * NAT-D in an answer: DESTINATION_IP hashes the address the gateway saw us
 * from. A change since the last answer means the NAT mapping changed (RFC
 * 4555 3.8): tell the gateway with an update. Returns 1 if it changed.
 */
static int natd_changed(struct ike_sa *sa, const struct ike_msg *m)
{
	const struct ike_notify *dst = ikev2_msg_notify(m, IKEV2_N_NAT_DETECTION_DESTINATION_IP);
	uint8_t h[20];
	int changed = 0;

	if (!dst || dst->data.len != 20)
		return 0;
	if (sa->natd_seen_valid && memcmp(sa->natd_seen, dst->data.p, 20) != 0)
		changed = 1;
	memcpy(sa->natd_seen, dst->data.p, 20);
	sa->natd_seen_valid = 1;
	sa->nat_local = !(natd_hash(sa->spi_i, sa->spi_r, &sa->p.local, h) == 0 &&
			  !memcmp(h, dst->data.p, 20));
	return changed;
}

void mobike_check_natd(struct ike_sa *sa, const struct ike_msg *m, uint64_t now)
{
	if (!sa->peer_mobike)
		return;
	if (natd_changed(sa, m)) {
		log_info("MOBIKE: the NAT mapping changed (NAT-D in a liveness check): updating the gateway");
		sa->mobike_dirty = 1;
		ike_task_queue(sa, IKE_TASK_MOBIKE, now);
	}
}

int ike_mobike_update(struct ike_sa *sa, const struct sockaddr_storage *local,
		      const struct sockaddr_storage *remote, uint64_t now)
{
	char lb[64];

	if (sa->state != IKE_STATE_ESTABLISHED)
		return KITE_ERR_INVAL;
	if (!sa->peer_mobike)
		return KITE_ERR_UNSUPPORTED;
	sa->p.local = *local;
	if (remote)
		sa->p.remote = *remote;
	sa->mobike_dirty = 1;
	addr_str(local, lb, sizeof(lb));
	log_info("MOBIKE: new path from %s", lb);
	if (sa->req_active) {
		/* RFC 4555 3.5: outstanding requests are retransmitted to the new addresses, now. */
		sa->req_tries = 0;
		sa->req_deadline = now + (sa->p.prof->retransmit_timeout_ms ? sa->p.prof->retransmit_timeout_ms : 1000);
		ike_req_xmit(sa);
	}
	ike_task_queue(sa, IKE_TASK_MOBIKE, now);
	return 0;
}

int mobike_task_start(struct ike_sa *sa, uint64_t now)
{
	struct ike_enc e;
	char lb[64];
	int r;

	if (!sa->peer_mobike)
		return KITE_ERR_UNSUPPORTED;
	if ((r = crypto_random(sa->cookie2, sizeof(sa->cookie2))) != 0)
		return r;
	/* RFC 4555 4.2: INFORMATIONAL { N(UPDATE_SA_ADDRESSES), N(NAT-D)..., N(COOKIE2) } */
	ikev2_enc_init_inner(&e, sa->work, sizeof(sa->work));
	ikev2_enc_notify(&e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_UPDATE_SA_ADDRESSES, NULL, 0);
	mobike_add_natd(sa, &e);
	ikev2_enc_notify(&e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_COOKIE2, sa->cookie2,
			 sizeof(sa->cookie2));
	/* Our other addresses only with mobike_announce = yes (privacy, RFC 4555 5.5). */
	mobike_add_addrs(sa, &e);
	if ((r = ike_req_build(sa, IKEV2_EXCH_INFORMATIONAL, &e)) != 0)
		return r;
	sa->mobike_dirty = 0;
	addr_str(&sa->p.local, lb, sizeof(lb));
	log_info("MOBIKE: sending UPDATE_SA_ADDRESSES from %s (message %u)", lb, sa->req_msgid);
	return ike_req_send(sa, now);
}

void mobike_task_response(struct ike_sa *sa, const struct ike_msg *m, uint64_t now)
{
	const struct ike_notify *c2 = ikev2_msg_notify(m, IKEV2_N_COOKIE2);

	/* Return routability (RFC 4555 3.9): the gateway must echo our COOKIE2. */
	if (!c2 || c2->data.len != sizeof(sa->cookie2) ||
	    !crypto_ct_eq(c2->data.p, sa->cookie2, sizeof(sa->cookie2))) {
		ike_fail(sa, IKE_FAIL_PROTOCOL,
			 "the gateway's answer to UPDATE_SA_ADDRESSES %s COOKIE2 (RFC 4555 3.9): closing",
			 c2 ? "has a wrong" : "lacks the");
		return;
	}
	if (ikev2_msg_notify(m, IKEV2_N_UNACCEPTABLE_ADDRESSES)) {
		/* RFC 4555 3.5: we may try other addresses; the daemon re-evaluates on its next event. */
		log_warn("MOBIKE: the gateway does not accept kite's new address (UNACCEPTABLE_ADDRESSES)");
		return;
	}
	if (ikev2_msg_notify(m, IKEV2_N_UNEXPECTED_NAT_DETECTED))
		log_warn("MOBIKE: the gateway reports an unexpected NAT (kite always allows NAT-T)");
	natd_changed(sa, m);
	sa->mobike_updates++;
	log_info("MOBIKE: the gateway moved the SA to the new path (update %llu)%s",
		 (unsigned long long)sa->mobike_updates, sa->nat_local ? "; kite is behind a NAT" : "");
	if (sa->mobike_dirty)
		ike_task_queue(sa, IKE_TASK_MOBIKE, now);	/* the path changed again meanwhile */
}

void ike_path_resumed(struct ike_sa *sa, uint64_t now)
{
	if (sa->state == IKE_STATE_DOWN || !sa->req_active)
		return;
	sa->req_tries = 0;
	sa->req_deadline = now + (sa->p.prof->retransmit_timeout_ms ? sa->p.prof->retransmit_timeout_ms : 1000);
	ike_req_xmit(sa);
}

int ike_sa_dpd_unanswered(const struct ike_sa *sa)
{
	return sa->state == IKE_STATE_ESTABLISHED && sa->req_active &&
	       sa->task_active == IKE_TASK_DPD && sa->req_tries >= 1;
}

uint64_t ike_sa_last_rx(const struct ike_sa *sa)
{
	return sa->last_rx;
}

int ike_sa_mobike(const struct ike_sa *sa)
{
	return sa->peer_mobike;
}

uint64_t ike_sa_mobike_updates(const struct ike_sa *sa)
{
	return sa->mobike_updates;
}

int ike_sa_roaming(const struct ike_sa *sa)
{
	return (sa->tasks & IKE_TASK_MOBIKE) || sa->task_active == IKE_TASK_MOBIKE;
}

unsigned ike_sa_peer_addrs(const struct ike_sa *sa, struct sockaddr_storage *out, unsigned max)
{
	unsigned n = sa->n_peer_addrs < max ? sa->n_peer_addrs : max;

	memcpy(out, sa->peer_addrs, n * sizeof(*out));
	return n;
}
