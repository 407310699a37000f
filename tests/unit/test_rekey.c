/*
 * test_rekey: rekeying, lifetimes and gateway-initiated exchanges (issue #4)
 * between the real protocol core (ike_sa.c, ike_child.c) and the scripted
 * responder (responder.c), one datagram at a time, on a fake clock.
 *
 * The harness is test_exch's, plus a model of the data plane's SA rules
 * (dp.h): child_up installs a pair, outbound moves to it unless out_later is
 * set and another pair carries it; child_down removes a pair, and outbound
 * falls back to the newest remaining one. So "inbound on the old SA until it is
 * deleted, outbound on the new one once installed" is checked on every case.
 *
 * RFC 7296 1.3, 2.8, 2.8.1 (collisions), 2.17, 2.18 (IKE SA rekey keys),
 * 2.25 (exchange collisions); RFC 4478 (reauthentication).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "crypto.h"
#include "ike_sa.h"
#include "ikev2.h"
#include "ikev2_pld.h"
#include "kite.h"
#include "log.h"
#include "responder.h"

#define H_MAX_SENT	256
#define H_MAX_QUEUE	16
#define H_MAX_SA	32

static const uint8_t h_psk[] = "kite-rekey-test-psk-0123456789abc";

struct h_dgram {
	uint8_t buf[RESP_BUF];
	size_t len;
	int natt;
	uint64_t t;
};

/* One pair as the modelled data plane holds it. */
struct h_sa {
	struct child_sa c;		/* with keys */
	int live;
	unsigned order;
	uint64_t t_up, t_down;
	int with_cfg;
};

static struct harness {
	struct kite_config cfg;
	const struct kite_profile *prof;
	struct ike_params p;
	struct ike_ops ops;
	struct ike_sa *sa;
	struct resp r;
	uint64_t now;
	struct h_dgram sent[H_MAX_SENT];
	unsigned n_sent, n_fed;
	struct h_dgram q[H_MAX_QUEUE];
	unsigned n_q;
	unsigned n_rejected;
	enum resp_result last_rr;
	/* data plane model */
	struct h_sa dp[H_MAX_SA];
	unsigned n_dp, order;
	int out;			/* index carrying outbound traffic, -1 none */
	unsigned n_up, n_down;
	enum ike_state last_state;
} H;

/* ---- mock ops ---- */

static int h_send(void *ctx, const uint8_t *buf, size_t len, int natt)
{
	struct h_dgram *d;

	if (H.n_sent >= H_MAX_SENT || len > sizeof(d->buf))
		fail_msg("kite sent too much");
	d = &H.sent[H.n_sent++];
	memcpy(d->buf, buf, len);
	d->len = len;
	d->natt = natt;
	d->t = H.now;
	return 0;
}

static void h_state_cb(void *ctx, struct ike_sa *sa, enum ike_state st, const char *reason)
{
	H.last_state = st;
}

static int h_newest_live(void)
{
	int best = -1;

	for (unsigned i = 0; i < H.n_dp; i++)
		if (H.dp[i].live && (best < 0 || H.dp[i].order > H.dp[best].order))
			best = (int)i;
	return best;
}

static int h_child_up(void *ctx, struct ike_sa *sa, const struct child_sa *c,
		      const struct ike_cfg_result *cfg)
{
	struct h_sa *s;

	if (H.n_dp >= H_MAX_SA)
		fail_msg("too many CHILD SAs");
	for (unsigned i = 0; i < H.n_dp; i++)
		if (H.dp[i].live && H.dp[i].c.spi_in == c->spi_in)
			fail_msg("CHILD SA %08x installed twice", c->spi_in);
	s = &H.dp[H.n_dp];
	memset(s, 0, sizeof(*s));
	s->c = *c;
	s->live = 1;
	s->order = ++H.order;
	s->t_up = H.now;
	s->with_cfg = cfg != NULL;
	if (!c->out_later || H.out < 0)
		H.out = (int)H.n_dp;
	H.n_dp++;
	H.n_up++;
	return 0;
}

static void h_child_down(void *ctx, struct ike_sa *sa, uint32_t spi_in)
{
	for (unsigned i = 0; i < H.n_dp; i++) {
		if (!H.dp[i].live || H.dp[i].c.spi_in != spi_in)
			continue;
		H.dp[i].live = 0;
		H.dp[i].t_down = H.now;
		H.n_down++;
		if (H.out == (int)i)
			H.out = h_newest_live();
		return;
	}
	fail_msg("child_down for unknown CHILD SA %08x", spi_in);
}

static struct h_sa *h_dp_in(uint32_t spi_in)
{
	for (unsigned i = 0; i < H.n_dp; i++)
		if (H.dp[i].c.spi_in == spi_in)
			return &H.dp[i];
	return NULL;
}

static unsigned h_dp_live(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < H.n_dp; i++)
		n += H.dp[i].live != 0;
	return n;
}

static uint32_t h_out_spi_in(void)
{
	return H.out >= 0 ? H.dp[H.out].c.spi_in : 0;
}

/* ---- harness ---- */

static void h_begin(const char *ike, const char *esp, const char *extra)
{
	struct sockaddr_in *l = (struct sockaddr_in *)&H.p.local;
	struct sockaddr_in *g = (struct sockaddr_in *)&H.p.remote;
	char ini[1024], err[256] = "";
	int rc;

	memset(&H, 0, sizeof(H));
	H.out = -1;
	snprintf(ini, sizeof(ini),
		 "[test]\n"
		 "gateway = 198.51.100.1\n"
		 "local_id = rw@kite.test\n"
		 "remote_id = gw.kite.test\n"
		 "auth = psk\n"
		 "psk_file = /dev/null\n"
		 "ike = %s\n"
		 "esp = %s\n"
		 "retransmit_timeout = 1s\n"
		 "retransmit_tries = 3\n"
		 "%s", ike, esp, extra ? extra : "");
	rc = config_load_string(&H.cfg, "test_rekey.ini", ini, err, sizeof(err));
	if (rc != 0)
		print_error("config: %s\n", err);
	assert_int_equal(rc, 0);
	H.prof = config_profile(&H.cfg, NULL, err, sizeof(err));
	assert_non_null(H.prof);
	H.p.prof = H.prof;
	H.p.psk = h_psk;
	H.p.psk_len = sizeof(h_psk) - 1;
	l->sin_family = AF_INET;
	l->sin_port = htons(500);
	inet_pton(AF_INET, "198.51.100.10", &l->sin_addr);
	g->sin_family = AF_INET;
	g->sin_port = htons(500);
	inet_pton(AF_INET, "198.51.100.1", &g->sin_addr);
	assert_int_equal(ike_id_parse("rw@kite.test", &H.p.id_type, H.p.id, &H.p.id_len,
				      sizeof(H.p.id)), 0);
	assert_int_equal(ike_id_parse("gw.kite.test", &H.p.rid_type, H.p.rid, &H.p.rid_len,
				      sizeof(H.p.rid)), 0);
	H.ops.send = h_send;
	H.ops.state = h_state_cb;
	H.ops.child_up = h_child_up;
	H.ops.child_down = h_child_down;
	H.sa = ike_sa_new(&H.p, &H.ops, &H);
	assert_non_null(H.sa);
	resp_init(&H.r, h_psk, sizeof(h_psk) - 1, 0x72656b65792d7465ull);
}

static int h_end(void **state)
{
	ike_sa_free(H.sa);
	H.sa = NULL;
	resp_free(&H.r);
	config_free(&H.cfg);
	return 0;
}

static void h_queue(const uint8_t *buf, size_t len, int natt)
{
	if (H.n_q >= H_MAX_QUEUE)
		fail_msg("responder queue overflow");
	memcpy(H.q[H.n_q].buf, buf, len);
	H.q[H.n_q].len = len;
	H.q[H.n_q].natt = natt;
	H.q[H.n_q].t = H.now;
	H.n_q++;
}

static void h_to_resp(void)
{
	while (H.n_fed < H.n_sent) {
		const struct h_dgram *d = &H.sent[H.n_fed++];

		H.last_rr = resp_input(&H.r, d->buf, d->len);
		if (H.last_rr == RESP_REJECTED) {
			H.n_rejected++;
			print_message("responder rejected kite's message %u: %s\n", H.n_fed - 1, H.r.err);
		}
		for (unsigned i = 0; i < H.r.n_out; i++)
			h_queue(H.r.out[i].buf, H.r.out[i].len, d->natt);
	}
}

static void h_take_resp_out(void)
{
	for (unsigned i = 0; i < H.r.n_out; i++)
		h_queue(H.r.out[i].buf, H.r.out[i].len, ike_sa_natt(H.sa));
}

static void h_to_kite(void)
{
	static struct h_dgram q[H_MAX_QUEUE];
	unsigned n = H.n_q;

	memcpy(q, H.q, n * sizeof(q[0]));
	H.n_q = 0;
	for (unsigned i = 0; i < n; i++)
		ike_input(H.sa, q[i].buf, q[i].len, q[i].natt, H.now);
}

static void h_run(void)
{
	for (int guard = 0; guard < 100; guard++) {
		h_to_resp();
		if (!H.n_q)
			return;
		h_to_kite();
	}
	fail_msg("exchange does not settle");
}

/* Move the clock to t, firing ike_timeout() at each deadline, without delivering anything. */
static void h_clock(uint64_t t)
{
	uint64_t d;
	int guard = 0;

	while ((d = ike_next_timeout(H.sa)) <= t) {
		if (++guard > 1000)
			fail_msg("timer does not advance (deadline %llu)", (unsigned long long)d);
		if (d > H.now)
			H.now = d;
		ike_timeout(H.sa, H.now);
	}
	if (t > H.now)
		H.now = t;
}

/* Advance to the first deadline (<= limit) at which kite sends something; nothing delivered. */
static void h_until_sent(uint64_t limit)
{
	unsigned n0 = H.n_sent;
	uint64_t d;

	for (int guard = 0; guard < 1000 && H.n_sent == n0; guard++) {
		d = ike_next_timeout(H.sa);
		if (d > limit)
			fail_msg("kite sent nothing by %llu", (unsigned long long)limit);
		if (d > H.now)
			H.now = d;
		ike_timeout(H.sa, H.now);
	}
}

/* Hand kite's datagram i to the responder; its answers are queued for kite. */
static void h_feed(unsigned i)
{
	assert_true(i < H.n_sent);
	H.last_rr = resp_input(&H.r, H.sent[i].buf, H.sent[i].len);
	if (H.last_rr == RESP_REJECTED) {
		H.n_rejected++;
		print_message("responder rejected kite's message %u: %s\n", i, H.r.err);
	}
	for (unsigned k = 0; k < H.r.n_out; k++)
		h_queue(H.r.out[k].buf, H.r.out[k].len, H.sent[i].natt);
}

/* Exchanges and timers together until t (a live network). */
static void h_live(uint64_t t)
{
	uint64_t d;

	for (int guard = 0; guard < 5000; guard++) {
		h_run();
		d = ike_next_timeout(H.sa);
		if (d > t)
			break;
		if (d > H.now)
			H.now = d;
		ike_timeout(H.sa, H.now);
	}
	h_run();
	if (t > H.now)
		H.now = t;
}

/* Hand the responder's own request (r->out) to kite, then kite's answer back. */
static void h_resp_request(enum resp_req what)
{
	int rc = resp_request(&H.r, what);

	if (rc != 0)
		fail_msg("resp_request(%d) failed: %d", what, rc);
	h_take_resp_out();
	h_run();
}

static void h_establish(const char *ike, const char *esp, const char *extra)
{
	h_begin(ike, esp, extra);
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_run();
	assert_int_equal(H.n_rejected, 0);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_ESTABLISHED);
	assert_int_equal(H.n_up, 1);
	assert_true(H.dp[0].with_cfg);
}

/* Decrypt kite's datagram i with the responder's current (or old: use_old) keys. */
static void h_open_sent(unsigned i, struct ike_msg *m)
{
	static uint8_t scratch[RESP_BUF];

	assert_true(i < H.n_sent);
	assert_int_equal(resp_open(&H.r, H.sent[i].buf, H.sent[i].len, scratch, sizeof(scratch), m), 0);
}

/* kite's keys for a pair equal what the responder derived (RFC 7296 2.17). */
static void h_keys_match(const struct child_sa *c, const struct resp_child *rc)
{
	assert_non_null(rc);
	assert_int_equal(c->spi_in, rc->spi_i);
	assert_int_equal(c->spi_out, rc->spi_r);
	assert_int_equal(c->enc_len, rc->enc_len);
	assert_memory_equal(c->enc_out, rc->k2g_enc, rc->enc_len);
	assert_memory_equal(c->enc_in, rc->g2k_enc, rc->enc_len);
	if (rc->integ_len) {
		assert_memory_equal(c->integ_out, rc->k2g_integ, rc->integ_len);
		assert_memory_equal(c->integ_in, rc->g2k_integ, rc->integ_len);
	}
}

/* A liveness check each way works on the current IKE SA (keys, SPIs, message IDs, flags). */
static void h_both_ways_alive(void)
{
	unsigned n0 = H.r.n_peer_resp, i0 = H.r.n_info_rx;

	h_resp_request(RESP_REQ_LIVENESS);
	assert_int_equal(H.r.n_peer_resp, n0 + 1);
	assert_int_equal(ike_dpd(H.sa, H.now), 0);
	h_run();
	assert_int_equal(H.r.n_info_rx, i0 + 1);
	assert_int_equal(H.n_rejected, 0);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_ESTABLISHED);
}

#define IKE_X	"aes256gcm16-prfsha384-x25519"
#define ESP_G	"aes256gcm16"

/* ---- the gateway rekeys a CHILD SA (kite responds) ---- */

static void h_gateway_child_rekey(uint16_t group)
{
	uint32_t old_in;
	struct resp_child *nc;
	struct h_sa *ns;

	h_establish(IKE_X, ESP_G, NULL);
	old_in = H.dp[0].c.spi_in;
	H.now = 10000;
	H.r.rq_group = group;
	h_resp_request(RESP_REQ_REKEY_CHILD);
	assert_int_equal(H.n_rejected, 0);
	assert_int_equal(H.r.peer_resp_notify, 0);
	/* a second pair, keys as the responder derived them, PFS when asked */
	assert_int_equal(H.n_up, 2);
	ns = &H.dp[1];
	assert_null(ns->with_cfg ? ns : NULL);
	nc = resp_child_by_i(&H.r, ns->c.spi_in);
	h_keys_match(&ns->c, nc);
	assert_int_equal(nc->dh, group);
	assert_int_equal(ns->c.dh, group);
	/* kite answered the gateway: inbound on both, outbound stays on the old one */
	assert_true(ns->c.out_later);
	assert_int_equal(h_dp_live(), 2);
	assert_int_equal(h_out_spi_in(), old_in);
	/* the gateway deletes the old pair: kite answers with its inbound SPI, outbound moves */
	H.r.rq_spi = H.dp[0].c.spi_out;
	h_resp_request(RESP_REQ_DELETE_CHILD);
	assert_int_equal(H.r.peer_resp_n_del, 1);
	assert_int_equal(H.r.peer_resp_del[0], old_in);
	assert_false(H.dp[0].live);
	assert_int_equal(h_dp_live(), 1);
	assert_int_equal(h_out_spi_in(), ns->c.spi_in);
	{
		struct ike_sa_lifetimes lt;

		ike_sa_lifetimes(H.sa, H.now, &lt);
		assert_int_equal(lt.child_rekeys, 1);
		assert_int_equal(lt.child_age, 0);
		assert_true(lt.child_rekey_in > 0);
	}
	h_both_ways_alive();
}

static void test_gateway_child_rekey_with_pfs_old_inbound_until_deleted(void **state)
{
	h_gateway_child_rekey(IKEV2_DH_CURVE25519);
}

static void test_gateway_child_rekey_without_pfs_accepted(void **state)
{
	h_gateway_child_rekey(0);
}

static void test_gateway_child_rekey_ecp256_pfs_accepted_from_ike_groups(void **state)
{
	/* no PFS group in 'esp': the 'ike' groups are acceptable */
	h_establish("aes256gcm16-prfsha384-x25519-ecp256", ESP_G, NULL);
	H.now = 10000;
	H.r.rq_group = IKEV2_DH_ECP_256;
	h_resp_request(RESP_REQ_REKEY_CHILD);
	assert_int_equal(H.r.peer_resp_notify, 0);
	assert_int_equal(H.n_up, 2);
	h_keys_match(&H.dp[1].c, resp_child_by_i(&H.r, H.dp[1].c.spi_in));
}

static void test_gateway_child_rekey_retransmission_answered_from_cache_not_rebuilt(void **state)
{
	unsigned n0;

	h_establish(IKE_X, ESP_G, NULL);
	H.now = 10000;
	H.r.rq_group = IKEV2_DH_CURVE25519;
	assert_int_equal(resp_request(&H.r, RESP_REQ_REKEY_CHILD), 0);
	h_take_resp_out();
	n0 = H.n_sent;
	h_to_kite();
	assert_int_equal(H.n_sent, n0 + 1);
	assert_int_equal(H.n_up, 2);
	/* the answer is lost; the gateway retransmits the same request */
	H.n_fed = H.n_sent;
	H.now = 11000;
	assert_int_equal(resp_resend_request(&H.r), 0);
	h_take_resp_out();
	h_to_kite();
	assert_int_equal(H.n_sent, n0 + 2);
	assert_memory_equal(H.sent[n0].buf, H.sent[n0 + 1].buf, H.sent[n0].len);
	assert_int_equal(H.n_up, 2);		/* no second SA */
	assert_int_equal(resp_input(&H.r, H.sent[n0 + 1].buf, H.sent[n0 + 1].len), RESP_ABSORBED);
	h_keys_match(&H.dp[1].c, resp_child_by_i(&H.r, H.dp[1].c.spi_in));
}

static void test_gateway_replaced_child_not_deleted_kite_deletes_after_wait(void **state)
{
	unsigned n0;

	h_establish(IKE_X, ESP_G, NULL);
	H.now = 10000;
	h_resp_request(RESP_REQ_REKEY_CHILD);
	assert_int_equal(h_dp_live(), 2);
	n0 = H.r.n_child_del_rx;
	/* the gateway never deletes the old pair: kite does, 10 s later */
	h_live(19000);
	assert_int_equal(H.r.n_child_del_rx, n0);
	h_live(21000);
	assert_int_equal(H.r.n_child_del_rx, n0 + 1);
	assert_int_equal(H.r.child_del_rx[0], H.dp[0].c.spi_in);
	assert_false(H.dp[0].live);
	assert_int_equal(h_out_spi_in(), H.dp[1].c.spi_in);
}

static void test_gateway_additional_child_refused_no_additional_sas(void **state)
{
	h_establish(IKE_X, ESP_G, NULL);
	H.now = 10000;
	H.r.rq_bad = RESP_BAD_REKEY_SPI;
	H.r.rq_spi = 0;
	/* a rekey naming an unknown SPI */
	h_resp_request(RESP_REQ_CCS_BAD);
	assert_int_equal(H.r.peer_resp_notify, IKEV2_N_CHILD_SA_NOT_FOUND);
	assert_int_equal(H.n_up, 1);
	assert_int_equal(h_dp_live(), 1);
	h_both_ways_alive();
}

/* ---- malformed CREATE_CHILD_SA from the gateway: refused without harm ---- */

static void h_bad_ccs(int bad, uint16_t group, uint16_t want_notify)
{
	uint32_t out0;

	h_establish(IKE_X, ESP_G, NULL);
	out0 = h_out_spi_in();
	H.now = 10000;
	H.r.rq_bad = bad;
	H.r.rq_group = group;
	h_resp_request(RESP_REQ_CCS_BAD);
	assert_int_equal(H.n_rejected, 0);
	assert_int_equal(H.r.peer_resp_notify, want_notify);
	assert_int_equal(H.n_up, 1);
	assert_int_equal(h_dp_live(), 1);
	assert_int_equal(h_out_spi_in(), out0);
	/* the SA carries on: the next, well-formed rekey works */
	H.r.rq_group = 0;
	h_resp_request(RESP_REQ_REKEY_CHILD);
	assert_int_equal(H.r.peer_resp_notify, 0);
	assert_int_equal(H.n_up, 2);
	h_both_ways_alive();
}

static void test_malformed_ccs_without_nonce_refused_invalid_syntax(void **state)
{
	h_bad_ccs(RESP_BAD_NO_NONCE, 0, IKEV2_N_INVALID_SYNTAX);
}

static void test_malformed_ccs_wrong_ke_group_refused_invalid_ke(void **state)
{
	/* SA offers x25519, KE is ecp256 (which 'ike' does not offer) */
	h_bad_ccs(RESP_BAD_KE_GROUP, IKEV2_DH_CURVE25519, IKEV2_N_INVALID_KE_PAYLOAD);
}

static void test_malformed_ccs_unknown_rekey_spi_refused_child_sa_not_found(void **state)
{
	h_bad_ccs(RESP_BAD_REKEY_SPI, 0, IKEV2_N_CHILD_SA_NOT_FOUND);
}

static void test_ccs_before_ike_auth_completed_dropped(void **state)
{
	h_begin(IKE_X, ESP_G, NULL);
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_to_resp();
	h_to_kite();
	H.r.drop_n = 1;		/* kite's IKE_AUTH is lost */
	h_to_resp();
	H.r.have_sa = 1;
	H.r.child_spi_r = 0x1234;
	memset(H.r.children, 0, sizeof(H.r.children));
	H.r.children[0].alive = 1;
	H.r.children[0].spi_r = 0x1234;
	assert_int_equal(resp_request(&H.r, RESP_REQ_REKEY_CHILD), 0);
	h_take_resp_out();
	h_to_kite();
	assert_int_equal(H.n_sent, 2);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_AUTH_SENT);
	assert_int_equal(ike_sa_stats(H.sa)->rx_dropped, 1);
	assert_int_equal(H.n_up, 0);
}

/* ---- kite rekeys the CHILD SA ---- */

static void h_kite_child_rekey(const char *esp, uint16_t want_group)
{
	struct ike_msg m;
	uint32_t old_in;
	unsigned n0;
	struct h_sa *ns;

	h_establish(IKE_X, esp, "child_rekey = 60s\nike_rekey = 1h\n");
	old_in = H.dp[0].c.spi_in;
	n0 = H.n_sent;
	/* soft lifetime: 60 s minus up to 10 % */
	h_clock(53999);
	assert_int_equal(H.n_sent, n0);
	h_until_sent(60000);
	assert_int_equal(H.n_sent, n0 + 1);
	assert_true(H.sent[n0].t >= 54000 && H.sent[n0].t <= 60000);
	h_open_sent(n0, &m);
	assert_int_equal(m.hdr.exchange, IKEV2_EXCH_CREATE_CHILD_SA);
	assert_int_equal(m.hdr.msgid, 2);
	h_run();
	assert_int_equal(H.n_rejected, 0);
	/* the request: REKEY_SA naming kite's old inbound SPI, PFS by default */
	assert_true(H.r.ccs_has_rekey_sa);
	assert_int_equal(H.r.ccs_rekey_spi, old_in);
	assert_int_equal(H.r.ccs_ke_group, want_group);
	assert_int_equal(H.r.ccs_proposal_dh, want_group);
	/* installed with outbound at once; the old one deleted by kite */
	assert_int_equal(H.n_up, 2);
	ns = &H.dp[1];
	assert_false(ns->c.out_later);
	h_keys_match(&ns->c, resp_child_by_i(&H.r, ns->c.spi_in));
	assert_int_equal(ns->c.dh, want_group);
	assert_int_equal(H.r.n_child_del_rx, 1);
	assert_int_equal(H.r.child_del_rx[0], old_in);
	assert_false(H.dp[0].live);
	assert_true(H.dp[0].t_down >= ns->t_up);	/* make before break */
	assert_int_equal(h_out_spi_in(), ns->c.spi_in);
	assert_null(resp_child_by_i(&H.r, old_in));
	h_both_ways_alive();
}

static void test_kite_child_rekey_soft_lifetime_pfs_with_ike_group(void **state)
{
	h_kite_child_rekey(ESP_G, IKEV2_DH_CURVE25519);
}

static void test_kite_child_rekey_pfs_uses_esp_group(void **state)
{
	h_kite_child_rekey("aes256gcm16-ecp256", IKEV2_DH_ECP_256);
}

static void test_kite_child_rekeys_repeatedly_new_pair_each_time(void **state)
{
	struct ike_sa_lifetimes lt;

	h_establish(IKE_X, ESP_G, "child_rekey = 10s\nike_rekey = 1h\n");
	h_live(101000);
	assert_int_equal(H.n_rejected, 0);
	ike_sa_lifetimes(H.sa, H.now, &lt);
	assert_true(lt.child_rekeys >= 10 && lt.child_rekeys <= 12);
	assert_int_equal(h_dp_live(), 1);
	assert_int_equal(resp_children_alive(&H.r), 1);
	assert_int_equal(h_out_spi_in(), resp_child_newest(&H.r)->spi_i);
	h_both_ways_alive();
}

static void test_kite_child_rekey_pfs_refused_falls_back_without_pfs(void **state)
{
	h_establish(IKE_X, ESP_G, "child_rekey = 60s\n");
	H.r.ccs_refuse_pfs = 1;
	h_live(61000);
	assert_int_equal(H.n_rejected, 0);
	assert_int_equal(H.r.n_ccs_rx, 2);
	assert_int_equal(H.r.ccs_ke_group, 0);
	assert_int_equal(H.n_up, 2);
	assert_int_equal(H.dp[1].c.dh, 0);
	h_keys_match(&H.dp[1].c, resp_child_by_i(&H.r, H.dp[1].c.spi_in));
}

static void test_kite_child_rekey_invalid_ke_retries_with_requested_group(void **state)
{
	h_establish("aes256gcm16-prfsha384-x25519-ecp256", ESP_G, "child_rekey = 60s\n");
	H.r.ccs_notify = IKEV2_N_INVALID_KE_PAYLOAD;
	H.r.ccs_notify_group = IKEV2_DH_ECP_256;
	h_live(61000);
	assert_int_equal(H.n_rejected, 0);
	assert_int_equal(H.r.n_ccs_rx, 2);
	assert_int_equal(H.r.ccs_ke_group, IKEV2_DH_ECP_256);
	assert_int_equal(H.n_up, 2);
	assert_int_equal(H.dp[1].c.dh, IKEV2_DH_ECP_256);
	h_keys_match(&H.dp[1].c, resp_child_by_i(&H.r, H.dp[1].c.spi_in));
}

static void test_kite_child_rekey_temporary_failure_retried_old_sa_kept(void **state)
{
	uint64_t t1;
	unsigned n0;

	h_establish(IKE_X, ESP_G, "child_rekey = 60s\n");
	H.r.ccs_notify = IKEV2_N_TEMPORARY_FAILURE;
	n0 = H.n_sent;
	/* the soft lifetime is jittered (up to 10 % early): step until the first attempt */
	while (H.r.n_ccs_rx < 1 && H.now < 61000)
		h_live(H.now + 100);
	assert_int_equal(H.r.n_ccs_rx, 1);
	assert_int_equal(H.n_up, 1);
	assert_int_equal(h_dp_live(), 1);
	t1 = H.sent[n0].t;
	/* tried again 5..15 s later, and then it works */
	h_live(t1 + 4999);
	assert_int_equal(H.r.n_ccs_rx, 1);
	h_live(t1 + 15001);
	assert_int_equal(H.r.n_ccs_rx, 2);
	assert_int_equal(H.n_up, 2);
	assert_int_equal(h_dp_live(), 1);
}

static void test_kite_child_hard_lifetime_removes_sa_when_rekeys_fail(void **state)
{
	/* every rekey refused (the notify is re-armed each second) */
	h_establish(IKE_X, ESP_G, "child_rekey = 60s\n");
	while (H.now < 89000) {
		/* re-armed often enough that no retry (near the hard lifetime: 1 s apart) slips through */
		H.r.ccs_notify = IKEV2_N_NO_ADDITIONAL_SAS;
		h_live(H.now + 100);
	}
	assert_true(H.dp[0].live);
	assert_true(H.r.n_ccs_rx >= 3);
	/* hard lifetime 60 s + 30 s: the pair leaves the data plane (fail closed) and is deleted */
	H.r.ccs_notify = IKEV2_N_NO_ADDITIONAL_SAS;
	h_live(90001);
	assert_false(H.dp[0].live);
	assert_int_equal(H.r.n_child_del_rx, 1);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_ESTABLISHED);
}

static void test_data_plane_soft_limit_rekeys_hard_limit_deletes(void **state)
{
	uint32_t first;

	h_establish(IKE_X, ESP_G, NULL);
	first = H.dp[0].c.spi_in;
	H.now = 5000;
	ike_child_expire(H.sa, first, 0, H.now);
	h_run();
	assert_int_equal(H.r.n_ccs_rx, 1);
	assert_int_equal(H.n_up, 2);
	assert_false(H.dp[0].live);
	/* hard limit on the new pair: out of the data plane at once, then deleted */
	H.now = 6000;
	ike_child_expire(H.sa, H.dp[1].c.spi_in, 1, H.now);
	assert_false(H.dp[1].live);
	assert_int_equal(H.out, -1);
	h_run();
	/* no CHILD SA left: kite creates one (CREATE_CHILD_SA without REKEY_SA) */
	h_live(7000);
	assert_int_equal(H.r.n_ccs_rx, 2);
	assert_false(H.r.ccs_has_rekey_sa);
	assert_int_equal(h_dp_live(), 1);
	assert_int_equal(H.n_up, 3);
	assert_int_equal(h_out_spi_in(), H.dp[2].c.spi_in);
	h_keys_match(&H.dp[2].c, resp_child_by_i(&H.r, H.dp[2].c.spi_in));
}

/* ---- CHILD SA rekey collisions (RFC 7296 2.8.1) ---- */

/*
 * kite's rekey and the gateway's cross. zero: which of the gateway's nonces is
 * all zero (the lowest of the four): 1 its own request's Ni (its exchange made
 * the redundant SA: kite wins), 2 its answer's Nr (kite's exchange: kite loses).
 */
static void h_child_collision(int zero)
{
	uint32_t old_in, old_out, k_in, g_in;
	unsigned nk;
	struct ike_sa_lifetimes lt;

	h_establish(IKE_X, ESP_G, "child_rekey = 60s\n");
	old_in = H.dp[0].c.spi_in;
	old_out = H.dp[0].c.spi_out;
	nk = H.n_sent;
	h_until_sent(60000);
	assert_int_equal(H.n_sent, nk + 1);	/* kite's request, held on the wire */
	/* the gateway's request crosses it; kite answers (a second new pair) */
	H.r.zero_nonce = zero == 1;
	H.r.rq_group = IKEV2_DH_CURVE25519;
	assert_int_equal(resp_request(&H.r, RESP_REQ_REKEY_CHILD), 0);
	h_take_resp_out();
	H.n_fed = nk + 1;	/* kite's request stays held */
	h_to_kite();
	assert_int_equal(H.n_up, 2);
	g_in = H.dp[1].c.spi_in;
	assert_true(H.dp[1].c.out_later);
	/* now both reach the gateway: it answers kite's request and takes kite's answer */
	H.r.zero_nonce = zero == 2;
	h_feed(nk);
	H.r.zero_nonce = 0;
	k_in = H.r.child_spi_i;		/* the one the gateway just made: kite's exchange */
	h_feed(nk + 1);
	H.n_fed = H.n_sent;
	assert_int_equal(H.n_rejected, 0);
	assert_int_equal(H.r.peer_resp_notify, 0);
	assert_int_equal(resp_children_alive(&H.r), 3);
	h_to_kite();		/* kite's answer arrives: the collision is resolved */
	ike_sa_lifetimes(H.sa, H.now, &lt);
	assert_int_equal(lt.collisions, 1);
	h_to_resp();		/* kite's DELETE */
	assert_int_equal(H.r.n_child_del_rx, 1);
	if (zero == 1) {
		/* kite won: its new pair carries outbound traffic, it deletes the old one */
		assert_int_equal(H.n_up, 3);
		assert_int_equal(H.dp[2].c.spi_in, k_in);
		assert_int_equal(h_out_spi_in(), k_in);
		assert_int_equal(H.r.child_del_rx[0], old_in);
		h_to_kite();
		assert_false(h_dp_in(old_in)->live);
		/* the gateway (loser) deletes its redundant pair */
		H.r.rq_spi = h_dp_in(g_in)->c.spi_out;
		h_resp_request(RESP_REQ_DELETE_CHILD);
		assert_false(h_dp_in(g_in)->live);
		assert_int_equal(h_out_spi_in(), k_in);
	} else {
		/* kite lost: its pair was never used; it deletes it, the gateway deletes the old one */
		assert_int_equal(H.n_up, 2);
		assert_null(h_dp_in(k_in));
		assert_int_equal(H.r.child_del_rx[0], k_in);
		h_to_kite();
		assert_int_equal(h_out_spi_in(), old_in);	/* until the old one is deleted */
		H.r.rq_spi = old_out;
		h_resp_request(RESP_REQ_DELETE_CHILD);
		assert_false(h_dp_in(old_in)->live);
		assert_int_equal(h_out_spi_in(), g_in);
	}
	/* exactly one pair survives on both sides, and they agree */
	assert_int_equal(h_dp_live(), 1);
	assert_int_equal(resp_children_alive(&H.r), 1);
	assert_int_equal(h_out_spi_in(), resp_child_newest(&H.r)->spi_i);
	assert_int_equal(H.n_rejected, 0);
	h_both_ways_alive();
}

static void test_child_rekey_collision_kite_wins_deletes_old(void **state)
{
	h_child_collision(1);
}

static void test_child_rekey_collision_kite_loses_deletes_its_redundant_pair(void **state)
{
	h_child_collision(2);
}

static void test_child_rekey_collision_gateway_refuses_kites_its_rekey_stands(void **state)
{
	uint32_t old_in, old_out, g_in;
	unsigned nk;

	h_establish(IKE_X, ESP_G, "child_rekey = 60s\n");
	old_in = H.dp[0].c.spi_in;
	old_out = H.dp[0].c.spi_out;
	nk = H.n_sent;
	h_until_sent(60000);
	assert_int_equal(resp_request(&H.r, RESP_REQ_REKEY_CHILD), 0);
	h_take_resp_out();
	H.n_fed = nk + 1;
	h_to_kite();
	g_in = H.dp[1].c.spi_in;
	/* the gateway had completed its rekey first: TEMPORARY_FAILURE (RFC 7296 2.25.1) */
	H.r.ccs_notify = IKEV2_N_TEMPORARY_FAILURE;
	H.n_fed = nk;
	h_to_resp();
	h_to_kite();
	assert_int_equal(H.n_up, 2);
	assert_int_equal(h_out_spi_in(), old_in);
	H.r.rq_spi = old_out;
	h_resp_request(RESP_REQ_DELETE_CHILD);
	assert_int_equal(h_dp_live(), 1);
	assert_int_equal(h_out_spi_in(), g_in);
	/* nothing left to delete, nothing retried */
	h_live(H.now + 20000);
	assert_int_equal(H.r.n_ccs_rx, 1);
	assert_int_equal(H.r.n_child_del_rx, 0);
	h_both_ways_alive();
}

static void test_gateway_rekey_of_child_kite_is_deleting_gets_temporary_failure(void **state)
{
	uint32_t old_out;
	unsigned nk;

	h_establish(IKE_X, ESP_G, "child_rekey = 60s\n");
	old_out = H.dp[0].c.spi_out;
	nk = H.n_sent;
	h_until_sent(60000);
	/* kite's rekey completes; its DELETE of the old pair is still on the wire */
	h_feed(nk);
	h_to_kite();
	H.n_fed = H.n_sent;
	assert_int_equal(H.n_up, 2);
	/* the gateway's own rekey of the old pair crosses it: refused (RFC 7296 2.25.1) */
	H.r.rq_spi = old_out;
	assert_int_equal(resp_request(&H.r, RESP_REQ_REKEY_CHILD), 0);
	h_take_resp_out();
	h_to_kite();
	h_feed(H.n_sent - 1);
	assert_int_equal(H.last_rr, RESP_ABSORBED);
	assert_int_equal(H.r.peer_resp_notify, IKEV2_N_TEMPORARY_FAILURE);
	assert_int_equal(H.n_up, 2);
	h_feed(nk + 1);		/* now kite's DELETE */
	h_to_kite();
	H.n_fed = H.n_sent;
	assert_int_equal(h_dp_live(), 1);
	assert_int_equal(H.n_rejected, 0);
	h_both_ways_alive();
}

/* ---- a DELETE crossing a rekey ---- */

static void test_gateway_deletes_child_kite_is_rekeying_then_new_child_created(void **state)
{
	uint32_t old_in, old_out;
	unsigned nk;

	h_establish(IKE_X, ESP_G, "child_rekey = 60s\n");
	old_in = H.dp[0].c.spi_in;
	old_out = H.dp[0].c.spi_out;
	nk = H.n_sent;
	h_until_sent(60000);
	/* the gateway closes the CHILD SA while kite's rekey request is on the wire */
	H.r.rq_spi = old_out;
	assert_int_equal(resp_request(&H.r, RESP_REQ_DELETE_CHILD), 0);
	h_take_resp_out();
	h_to_kite();
	/* answered as usual, with a Delete payload (RFC 7296 2.25.1) */
	h_feed(nk + 1);
	assert_int_equal(H.last_rr, RESP_ABSORBED);
	assert_int_equal(H.r.peer_resp_n_del, 1);
	assert_int_equal(H.r.peer_resp_del[0], old_in);
	assert_false(H.dp[0].live);
	assert_int_equal(H.out, -1);		/* fail closed meanwhile */
	/* kite's rekey now reaches the gateway, which no longer knows the SA */
	h_feed(nk);
	H.n_fed = H.n_sent;
	assert_int_equal(H.r.n_ccs_rx, 1);
	h_to_kite();
	/* kite creates a fresh CHILD SA (no REKEY_SA); the tunnel carries on */
	h_run();
	assert_int_equal(H.r.n_ccs_rx, 2);
	assert_false(H.r.ccs_has_rekey_sa);
	assert_int_equal(h_dp_live(), 1);
	assert_int_equal(H.n_up, 2);
	h_keys_match(&H.dp[1].c, resp_child_by_i(&H.r, H.dp[1].c.spi_in));
	assert_int_equal(h_out_spi_in(), H.dp[1].c.spi_in);
	assert_int_equal(H.n_rejected, 0);
}

/* ---- IKE SA rekey ---- */

static void test_kite_ike_rekey_new_spis_keys_msgids_old_ike_sa_deleted(void **state)
{
	uint8_t si0[8], sr0[8], si[8], sr[8];
	struct ike_msg m;
	unsigned nk, down0;
	struct ike_sa_lifetimes lt;

	h_establish(IKE_X, ESP_G, "ike_rekey = 120s\nchild_rekey = 1h\n");
	ike_sa_spis(H.sa, si0, sr0);
	nk = H.n_sent;
	down0 = H.n_down;
	h_until_sent(120000);
	assert_int_equal(H.n_sent, nk + 1);
	h_open_sent(nk, &m);
	assert_int_equal(m.hdr.exchange, IKEV2_EXCH_CREATE_CHILD_SA);
	assert_true(m.sa.p && m.ke.p && m.nonce.p);
	h_run();
	assert_int_equal(H.n_rejected, 0);
	assert_true(H.r.ccs_was_ike);
	/* new SPIs on both sides, the same */
	ike_sa_spis(H.sa, si, sr);
	assert_memory_not_equal(si, si0, 8);
	assert_memory_equal(si, H.r.spi_i, 8);
	assert_memory_equal(sr, H.r.spi_r, 8);
	/* the old IKE SA is deleted by kite, under its old SPIs and keys */
	assert_true(H.r.old_deleted);
	assert_false(H.r.old.valid);
	{
		struct ike_hdr h;

		assert_int_equal(ikev2_pld_parse_hdr(H.sent[nk + 1].buf, H.sent[nk + 1].len, &h), 0);
		assert_int_equal(h.exchange, IKEV2_EXCH_INFORMATIONAL);
		assert_memory_equal(h.spi_i, si0, 8);
		assert_memory_equal(h.spi_r, sr0, 8);
		assert_int_equal(h.msgid, 3);
	}
	/* CHILD SAs stay; message IDs restart at 0 on the new SA; both ways work */
	assert_int_equal(H.n_down, down0);
	assert_int_equal(h_dp_live(), 1);
	assert_int_equal(ike_next_timeout(H.sa) > H.now, 1);
	h_both_ways_alive();
	assert_int_equal(H.r.peer_resp_msgid, 0);
	ike_sa_lifetimes(H.sa, H.now, &lt);
	assert_int_equal(lt.ike_rekeys, 1);
	/* a CHILD rekey afterwards uses the new SK_d: keys still agree */
	H.r.rq_group = 0;
	h_resp_request(RESP_REQ_REKEY_CHILD);
	h_keys_match(&H.dp[1].c, resp_child_by_i(&H.r, H.dp[1].c.spi_in));
}

static void test_gateway_ike_rekey_kite_becomes_original_responder(void **state)
{
	uint8_t si0[8], sr0[8], si[8], sr[8];
	unsigned nk;

	h_establish(IKE_X, ESP_G, NULL);
	ike_sa_spis(H.sa, si0, sr0);
	H.now = 30000;
	nk = H.n_sent;
	h_resp_request(RESP_REQ_REKEY_IKE);
	assert_int_equal(H.r.peer_resp_notify, 0);
	assert_true(H.r.orig_init);
	ike_sa_spis(H.sa, si, sr);
	/* the gateway's SPI is SPIi of the new SA, kite's SPIr (RFC 7296 2.18) */
	assert_memory_equal(si, H.r.rq_spi8, 8);
	assert_memory_equal(si, H.r.spi_i, 8);
	assert_memory_equal(sr, H.r.spi_r, 8);
	{
		struct ike_hdr h;

		/* kite's answer went out on the old SA, as original initiator */
		assert_int_equal(ikev2_pld_parse_hdr(H.sent[nk].buf, H.sent[nk].len, &h), 0);
		assert_memory_equal(h.spi_i, si0, 8);
		assert_true(h.flags & IKEV2_FLAG_INITIATOR);
	}
	/* the gateway deletes the old IKE SA; kite answers there */
	h_resp_request(RESP_REQ_DELETE_OLD_IKE);
	assert_true(H.r.old_deleted);
	assert_int_equal(H.n_rejected, 0);
	/* on the new SA kite's messages have the Initiator flag clear */
	nk = H.n_sent;
	h_both_ways_alive();
	{
		struct ike_hdr h;

		assert_int_equal(ikev2_pld_parse_hdr(H.sent[nk].buf, H.sent[nk].len, &h), 0);
		assert_false(h.flags & IKEV2_FLAG_INITIATOR);
		assert_memory_equal(h.spi_i, si, 8);
	}
	/* kite's own rekeys on the new SA use its keys and IDs */
	h_resp_request(RESP_REQ_REKEY_CHILD);
	h_keys_match(&H.dp[1].c, resp_child_by_i(&H.r, H.dp[1].c.spi_in));
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_ESTABLISHED);
}

static void test_gateway_ike_rekey_old_sa_not_deleted_kite_deletes_it(void **state)
{
	h_establish(IKE_X, ESP_G, NULL);
	H.now = 30000;
	h_resp_request(RESP_REQ_REKEY_IKE);
	assert_true(H.r.old.valid);
	h_live(59000);
	assert_true(H.r.old.valid);
	h_live(61000);
	assert_false(H.r.old.valid);
	assert_true(H.r.old_deleted);
	h_both_ways_alive();
}

static void test_gateway_ike_rekey_retransmitted_on_old_sa_gets_cached_answer(void **state)
{
	unsigned n0;

	h_establish(IKE_X, ESP_G, NULL);
	H.now = 30000;
	assert_int_equal(resp_request(&H.r, RESP_REQ_REKEY_IKE), 0);
	h_take_resp_out();
	n0 = H.n_sent;
	h_to_kite();
	assert_int_equal(H.n_sent, n0 + 1);
	/* the answer is lost; the gateway retransmits on the old SA */
	assert_int_equal(resp_resend_request(&H.r), 0);
	h_take_resp_out();
	h_to_kite();
	assert_int_equal(H.n_sent, n0 + 2);
	assert_memory_equal(H.sent[n0].buf, H.sent[n0 + 1].buf, H.sent[n0].len);
	h_feed(n0 + 1);
	H.n_fed = H.n_sent;
	assert_int_equal(H.last_rr, RESP_ABSORBED);
	h_resp_request(RESP_REQ_DELETE_OLD_IKE);
	assert_true(H.r.old_deleted);
	h_both_ways_alive();
}

static void test_gateway_ike_rekey_while_kite_request_outstanding_temporary_failure(void **state)
{
	unsigned nd;

	h_establish(IKE_X, ESP_G, NULL);
	H.now = 30000;
	nd = H.n_sent;
	assert_int_equal(ike_dpd(H.sa, H.now), 0);	/* kite's request, held */
	assert_int_equal(resp_request(&H.r, RESP_REQ_REKEY_IKE), 0);
	h_take_resp_out();
	h_to_kite();
	h_feed(H.n_sent - 1);
	assert_int_equal(H.last_rr, RESP_ABSORBED);
	assert_int_equal(H.r.peer_resp_notify, IKEV2_N_TEMPORARY_FAILURE);
	assert_false(H.r.orig_init);
	h_feed(nd);
	H.n_fed = H.n_sent;
	h_run();
	h_both_ways_alive();
}

/* IKE rekey collision: zero as in h_child_collision. */
static void h_ike_collision(int zero)
{
	uint8_t si0[8], sr0[8], si[8], sr[8], k_i[8];
	unsigned nk;
	struct ike_sa_lifetimes lt;

	h_establish(IKE_X, ESP_G, "ike_rekey = 120s\nchild_rekey = 1h\n");
	ike_sa_spis(H.sa, si0, sr0);
	nk = H.n_sent;
	h_until_sent(120000);
	assert_int_equal(H.n_sent, nk + 1);
	/* the gateway's IKE rekey crosses kite's */
	H.r.zero_nonce = zero == 1;
	assert_int_equal(resp_request(&H.r, RESP_REQ_REKEY_IKE), 0);
	H.r.zero_nonce = 0;
	h_take_resp_out();
	H.n_fed = nk + 1;
	h_to_kite();
	ike_sa_spis(H.sa, si, sr);
	assert_memory_equal(si, si0, 8);	/* undecided: nothing swapped yet */
	/* the gateway answers kite's rekey (switching to it) and takes kite's answer */
	H.r.zero_nonce = zero == 2;
	H.n_fed = nk;
	h_to_resp();
	H.r.zero_nonce = 0;
	assert_int_equal(H.n_rejected, 0);
	assert_true(H.r.alt.valid);	/* its own rekey's SA */
	memcpy(k_i, H.r.spi_i, 8);	/* kite's rekey's SA (the gateway's current) */
	if (zero == 2)
		resp_promote_alt(&H.r);	/* the gateway also sees that kite lost */
	h_to_kite();
	ike_sa_lifetimes(H.sa, H.now, &lt);
	assert_int_equal(lt.collisions, 1);
	assert_int_equal(lt.ike_rekeys, 1);
	ike_sa_spis(H.sa, si, sr);
	if (zero == 1) {
		/* kite won: its rekey's SA is current; it deletes the old one */
		assert_memory_equal(si, k_i, 8);
		h_run();
		assert_true(H.r.old_deleted);
		/* the gateway deletes its redundant one */
		h_resp_request(RESP_REQ_DELETE_ALT_IKE);
		assert_true(H.r.alt_deleted);
	} else {
		/* kite lost: the gateway's rekey's SA is current; kite deletes its own new one */
		assert_memory_equal(si, H.r.spi_i, 8);
		assert_memory_equal(si, H.r.rq_spi8, 8);
		h_run();
		assert_true(H.r.alt_deleted);
		h_resp_request(RESP_REQ_DELETE_OLD_IKE);
		assert_true(H.r.old_deleted);
	}
	assert_false(H.r.old.valid);
	assert_false(H.r.alt.valid);
	assert_int_equal(H.n_rejected, 0);
	assert_int_equal(h_dp_live(), 1);
	h_both_ways_alive();
	/* and its SK_d is right */
	h_resp_request(RESP_REQ_REKEY_CHILD);
	h_keys_match(&H.dp[1].c, resp_child_by_i(&H.r, H.dp[1].c.spi_in));
}

static void test_ike_rekey_collision_kite_wins(void **state)
{
	h_ike_collision(1);
}

static void test_ike_rekey_collision_kite_loses(void **state)
{
	h_ike_collision(2);
}

/* ---- reauthentication (RFC 4478) ---- */

static void test_auth_lifetime_reauthenticates_make_before_break(void **state)
{
	uint8_t si0[8], sr0[8], si[8], sr[8];
	uint32_t old_in;
	struct h_sa *ns;
	struct ike_sa_lifetimes lt;
	unsigned nk;

	h_begin(IKE_X, ESP_G, NULL);
	H.r.auth_lifetime = 100;
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_run();
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_ESTABLISHED);
	assert_true(H.r.auth_initial_contact);
	ike_sa_spis(H.sa, si0, sr0);
	old_in = H.dp[0].c.spi_in;
	ike_sa_lifetimes(H.sa, H.now, &lt);
	assert_true(lt.ike_rekey_in > 80000 && lt.ike_rekey_in <= 90000);
	H.r.auth_lifetime = 0;
	nk = H.n_sent;
	h_clock(89999);
	assert_int_equal(H.n_sent, nk);
	h_clock(90000);
	assert_int_equal(H.n_sent, nk + 1);	/* a new IKE_SA_INIT, next to the old SA */
	h_run();
	assert_int_equal(H.n_rejected, 0);
	/* no INITIAL_CONTACT (that would close the old SA), the same address asked for */
	assert_int_equal(H.r.n_auth, 2);
	assert_false(H.r.auth_initial_contact);
	assert_true(H.r.auth_cp_has_addr);
	assert_memory_equal(H.r.auth_cp_addr, ((const uint8_t[4]){ 10, 3, 0, 1 }), 4);
	/* the new pair went in before the old IKE SA (and its pair) went away */
	assert_int_equal(H.n_up, 2);
	ns = &H.dp[1];
	assert_false(ns->with_cfg);
	assert_int_equal(h_out_spi_in(), ns->c.spi_in);
	h_keys_match(&ns->c, resp_child_by_i(&H.r, ns->c.spi_in));
	assert_true(H.r.old_deleted);
	assert_false(h_dp_in(old_in)->live);
	assert_true(h_dp_in(old_in)->t_down >= ns->t_up);
	ike_sa_spis(H.sa, si, sr);
	assert_memory_not_equal(si, si0, 8);
	assert_memory_equal(si, H.r.spi_i, 8);
	ike_sa_lifetimes(H.sa, H.now, &lt);
	assert_int_equal(lt.reauths, 1);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_ESTABLISHED);
	h_both_ways_alive();
}

/* ---- a rekey crossing a MOBIKE update ---- */

static void test_gateway_child_rekey_crossing_kites_mobike_update(void **state)
{
	struct sockaddr_storage nl;
	struct sockaddr_in *l = (struct sockaddr_in *)&nl;
	unsigned nk;

	h_begin(IKE_X, ESP_G, NULL);
	H.r.mobike = 1;
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_run();
	assert_true(ike_sa_mobike(H.sa));
	H.now = 20000;
	memset(&nl, 0, sizeof(nl));
	l->sin_family = AF_INET;
	l->sin_port = htons(500);
	inet_pton(AF_INET, "198.51.100.20", &l->sin_addr);
	nk = H.n_sent;
	assert_int_equal(ike_mobike_update(H.sa, &nl, NULL, H.now), 0);
	assert_int_equal(H.n_sent, nk + 1);	/* UPDATE_SA_ADDRESSES, held */
	/* the gateway rekeys the CHILD SA meanwhile (as libipsec does after a roam) */
	assert_int_equal(resp_request(&H.r, RESP_REQ_REKEY_CHILD), 0);
	h_take_resp_out();
	H.n_fed = nk + 1;
	h_to_kite();
	assert_int_equal(H.n_up, 2);
	H.n_fed = nk;
	h_run();
	assert_int_equal(H.r.n_update_sa_rx, 1);
	assert_int_equal(H.r.peer_resp_notify, 0);
	assert_int_equal(ike_sa_mobike_updates(H.sa), 1);
	H.r.rq_spi = H.dp[0].c.spi_out;
	h_resp_request(RESP_REQ_DELETE_CHILD);
	assert_int_equal(h_dp_live(), 1);
	assert_int_equal(h_out_spi_in(), H.dp[1].c.spi_in);
	h_both_ways_alive();
}

/* ---- status ---- */

static void test_status_lifetimes_ages_next_rekey_and_counters(void **state)
{
	struct ike_sa_lifetimes lt;

	h_establish(IKE_X, ESP_G, "child_rekey = 100s\nike_rekey = 1000s\n");
	H.now = 30000;
	ike_sa_lifetimes(H.sa, H.now, &lt);
	assert_int_equal(lt.ike_age, 30000);
	assert_int_equal(lt.child_age, 30000);
	assert_true(lt.child_rekey_in > 60000 && lt.child_rekey_in <= 70000);
	assert_true(lt.ike_rekey_in > 870000 && lt.ike_rekey_in <= 970000);
	assert_int_equal(lt.child_rekeys, 0);
	assert_int_equal(lt.ike_rekeys, 0);
	h_live(101000);
	ike_sa_lifetimes(H.sa, H.now, &lt);
	assert_int_equal(lt.child_rekeys, 1);
	assert_true(lt.child_age <= 11000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_teardown(f, h_end)
		T(test_gateway_child_rekey_with_pfs_old_inbound_until_deleted),
		T(test_gateway_child_rekey_without_pfs_accepted),
		T(test_gateway_child_rekey_ecp256_pfs_accepted_from_ike_groups),
		T(test_gateway_child_rekey_retransmission_answered_from_cache_not_rebuilt),
		T(test_gateway_replaced_child_not_deleted_kite_deletes_after_wait),
		T(test_gateway_additional_child_refused_no_additional_sas),
		T(test_malformed_ccs_without_nonce_refused_invalid_syntax),
		T(test_malformed_ccs_wrong_ke_group_refused_invalid_ke),
		T(test_malformed_ccs_unknown_rekey_spi_refused_child_sa_not_found),
		T(test_ccs_before_ike_auth_completed_dropped),
		T(test_kite_child_rekey_soft_lifetime_pfs_with_ike_group),
		T(test_kite_child_rekey_pfs_uses_esp_group),
		T(test_kite_child_rekeys_repeatedly_new_pair_each_time),
		T(test_kite_child_rekey_pfs_refused_falls_back_without_pfs),
		T(test_kite_child_rekey_invalid_ke_retries_with_requested_group),
		T(test_kite_child_rekey_temporary_failure_retried_old_sa_kept),
		T(test_kite_child_hard_lifetime_removes_sa_when_rekeys_fail),
		T(test_data_plane_soft_limit_rekeys_hard_limit_deletes),
		T(test_child_rekey_collision_kite_wins_deletes_old),
		T(test_child_rekey_collision_kite_loses_deletes_its_redundant_pair),
		T(test_child_rekey_collision_gateway_refuses_kites_its_rekey_stands),
		T(test_gateway_rekey_of_child_kite_is_deleting_gets_temporary_failure),
		T(test_gateway_deletes_child_kite_is_rekeying_then_new_child_created),
		T(test_kite_ike_rekey_new_spis_keys_msgids_old_ike_sa_deleted),
		T(test_gateway_ike_rekey_kite_becomes_original_responder),
		T(test_gateway_ike_rekey_old_sa_not_deleted_kite_deletes_it),
		T(test_gateway_ike_rekey_retransmitted_on_old_sa_gets_cached_answer),
		T(test_gateway_ike_rekey_while_kite_request_outstanding_temporary_failure),
		T(test_ike_rekey_collision_kite_wins),
		T(test_ike_rekey_collision_kite_loses),
		T(test_auth_lifetime_reauthenticates_make_before_break),
		T(test_gateway_child_rekey_crossing_kites_mobike_update),
		T(test_status_lifetimes_ages_next_rekey_and_counters),
#undef T
	};
	const char *dbg = getenv("KITE_TEST_DEBUG");
	int rc;

	log_init("test_rekey", 0, dbg && *dbg ? LOG_LVL_DEBUG : LOG_LVL_ERR);
	if (crypto_init() != 0) {
		fprintf(stderr, "crypto_init failed\n");
		return 1;
	}
	rc = cmocka_run_group_tests_name("rekey", tests, NULL, NULL);
	crypto_fini();
	return rc;
}
