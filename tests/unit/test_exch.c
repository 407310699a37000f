/*
 * test_exch: whole IKE_SA_INIT + IKE_AUTH (+ INFORMATIONAL) exchanges between
 * the real protocol core (ike_sa.c) and the scripted responder
 * (responder.c), one datagram at a time, on a fake clock.
 *
 * The harness (H) owns the SA, the responder and the clock:
 *  - ops.send appends to H.sent[] (with the time and the natt flag);
 *  - h_to_resp() hands kite's new datagrams to the responder and queues its
 *    answers; h_to_kite() delivers the queue to ike_input(); h_run() loops
 *    both until nothing moves;
 *  - h_clock(t) moves the clock to t and calls ike_timeout() at each deadline
 *    ike_next_timeout() returns on the way (at exactly that deadline).
 * Cases follow reliability.md (A-F) and RFC 7296; each is named after what it checks.
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

#define H_MAX_SENT	64
#define H_MAX_QUEUE	16
#define H_MAX_STATES	16

static const uint8_t h_psk[] = "kite-exchange-test-psk-0123456789";

struct h_dgram {
	uint8_t buf[RESP_BUF];
	size_t len;
	int natt;
	uint64_t t;
};

struct h_state {
	enum ike_state st;
	char reason[256];
	uint64_t t;
};

static struct harness {
	struct kite_config cfg;
	const struct kite_profile *prof;
	struct ike_params p;
	struct ike_ops ops;
	struct ike_sa *sa;
	struct resp r;
	uint64_t now;
	/* kite -> responder */
	struct h_dgram sent[H_MAX_SENT];
	unsigned n_sent, n_fed, sent_overflow;
	/* responder -> kite */
	struct h_dgram q[H_MAX_QUEUE];
	unsigned n_q;
	unsigned n_rejected;		/* responder found fault with what kite sent */
	enum resp_result last_rr;
	/* callbacks */
	struct h_state states[H_MAX_STATES];
	unsigned n_states;
	int ever_established;
	struct child_sa child;
	struct ike_cfg_result cfgres;
	unsigned n_child_up;
} H;

/* ---- mock ops ---- */

static int h_send(void *ctx, const uint8_t *buf, size_t len, int natt)
{
	struct harness *h = ctx;
	struct h_dgram *d;

	if (h->n_sent >= H_MAX_SENT || len > sizeof(d->buf)) {
		h->sent_overflow++;
		return 0;
	}
	d = &h->sent[h->n_sent++];
	memcpy(d->buf, buf, len);
	d->len = len;
	d->natt = natt;
	d->t = h->now;
	return 0;
}

static void h_state_cb(void *ctx, struct ike_sa *sa, enum ike_state st, const char *reason)
{
	struct harness *h = ctx;

	if (st == IKE_STATE_ESTABLISHED)
		h->ever_established = 1;
	if (h->n_states >= H_MAX_STATES)
		return;
	h->states[h->n_states].st = st;
	h->states[h->n_states].t = h->now;
	snprintf(h->states[h->n_states].reason, sizeof(h->states[0].reason), "%s",
		 reason ? reason : "");
	h->n_states++;
}

static int h_child_up(void *ctx, struct ike_sa *sa, const struct child_sa *c,
		      const struct ike_cfg_result *cfg)
{
	struct harness *h = ctx;

	/* The core wipes the keys after we return: keep a copy. */
	h->child = *c;
	h->cfgres = *cfg;
	h->n_child_up++;
	return 0;
}

/* ---- harness ---- */

static void h_begin(const char *ike, const char *esp)
{
	struct sockaddr_in *l = (struct sockaddr_in *)&H.p.local;
	struct sockaddr_in *g = (struct sockaddr_in *)&H.p.remote;
	char ini[1024], err[256] = "";
	int rc;

	memset(&H, 0, sizeof(H));
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
		 "retransmit_tries = 3\n", ike, esp);
	rc = config_load_string(&H.cfg, "test_exch.ini", ini, err, sizeof(err));
	if (rc != 0)
		print_error("config: %s\n", err);
	assert_int_equal(rc, 0);
	H.prof = config_profile(&H.cfg, NULL, err, sizeof(err));
	if (!H.prof)
		print_error("config_profile: %s\n", err);
	assert_non_null(H.prof);
	assert_int_equal(H.prof->retransmit_timeout_ms, 1000);
	assert_int_equal(H.prof->retransmit_tries, 3);

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
	H.sa = ike_sa_new(&H.p, &H.ops, &H);
	assert_non_null(H.sa);
	resp_init(&H.r, h_psk, sizeof(h_psk) - 1, 0x6b6974652d746573ull);
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

/* Kite's datagrams not yet seen by the responder go to it; its answers are queued. */
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

/* The responder's output (r->out of its last call) goes into the queue. */
static void h_take_resp_out(int natt)
{
	for (unsigned i = 0; i < H.r.n_out; i++)
		h_queue(H.r.out[i].buf, H.r.out[i].len, natt);
}

/* Deliver everything queued for kite, in order. */
static void h_to_kite(void)
{
	static struct h_dgram q[H_MAX_QUEUE];
	unsigned n = H.n_q;

	memcpy(q, H.q, n * sizeof(q[0]));
	H.n_q = 0;
	for (unsigned i = 0; i < n; i++)
		ike_input(H.sa, q[i].buf, q[i].len, q[i].natt, H.now);
}

/* Drop what is queued for kite (lost on the wire). */
static void h_lose_queue(void)
{
	H.n_q = 0;
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

/* Move the clock to t, firing ike_timeout() at each deadline on the way. */
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

/* Run exchanges and timers together until t (a live network with the clock running). */
static void h_live(uint64_t t)
{
	uint64_t d;

	for (int guard = 0; guard < 1000; guard++) {
		h_run();
		d = ike_next_timeout(H.sa);
		if (d > t)
			break;
		if (d > H.now)
			H.now = d;
		ike_timeout(H.sa, H.now);
	}
	if (t > H.now)
		H.now = t;
}

static void h_parse_sent(unsigned i, struct ike_msg *m)
{
	assert_true(i < H.n_sent);
	assert_int_equal(ikev2_pld_parse(H.sent[i].buf, H.sent[i].len, m), 0);
}

static int h_same_sent(unsigned a, unsigned b)
{
	return H.sent[a].len == H.sent[b].len && !memcmp(H.sent[a].buf, H.sent[b].buf, H.sent[a].len);
}

static void h_assert_state(enum ike_state st)
{
	if (ike_sa_state(H.sa) != st)
		print_error("state %s (%d), want %s (%d); last reason: %s\n",
			    ike_state_name(ike_sa_state(H.sa)), ike_sa_state(H.sa), ike_state_name(st), st,
			    H.n_states ? H.states[H.n_states - 1].reason : "");
	assert_int_equal(ike_sa_state(H.sa), st);
}

static void h_assert_down(enum ike_fail why)
{
	if (ike_sa_state(H.sa) != IKE_STATE_DOWN || ike_sa_fail(H.sa) != why)
		print_error("state %s fail %d (want down, %d); last reason: %s\n",
			    ike_state_name(ike_sa_state(H.sa)), ike_sa_fail(H.sa), why,
			    H.n_states ? H.states[H.n_states - 1].reason : "");
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_DOWN);
	assert_int_equal(ike_sa_fail(H.sa), why);
	assert_false(H.ever_established);
	assert_int_equal(H.n_child_up, 0);
	assert_int_equal(ike_next_timeout(H.sa), UINT64_MAX);
}

static unsigned h_count_exch(uint8_t exch)
{
	unsigned n = 0;

	for (unsigned i = 0; i < H.n_sent; i++) {
		struct ike_hdr h;

		if (ikev2_pld_parse_hdr(H.sent[i].buf, H.sent[i].len, &h) == 0 && h.exchange == exch)
			n++;
	}
	return n;
}

static void h_establish(const char *ike, const char *esp)
{
	h_begin(ike, esp);
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_run();
	assert_int_equal(H.n_rejected, 0);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_ESTABLISHED);
}

/* ---- established ---- */

static void h_check_established(const char *proposal)
{
	static const uint8_t vip[4] = { 10, 3, 0, 1 }, dns[4] = { 10, 1, 0, 53 };
	static const uint8_t net[4] = { 10, 1, 0, 0 }, bcast[4] = { 10, 1, 0, 255 };
	uint8_t spi_i[8], spi_r[8];
	struct ike_msg m;

	assert_int_equal(H.n_rejected, 0);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_ESTABLISHED);
	assert_int_equal(ike_sa_fail(H.sa), IKE_FAIL_NONE);
	/* INIT_SENT -> AUTH_SENT -> ESTABLISHED, nothing else */
	assert_int_equal(H.n_states, 3);
	assert_int_equal(H.states[0].st, IKE_STATE_INIT_SENT);
	assert_int_equal(H.states[1].st, IKE_STATE_AUTH_SENT);
	assert_int_equal(H.states[2].st, IKE_STATE_ESTABLISHED);
	/* no retransmission pending: the next deadline is a rekey, minutes away */
	assert_true(ike_next_timeout(H.sa) > H.now + 60000);
	assert_int_equal(H.n_sent, 2);
	h_parse_sent(1, &m);
	assert_int_equal(m.hdr.exchange, IKEV2_EXCH_IKE_AUTH);
	assert_int_equal(m.hdr.msgid, 1);
	assert_int_equal(m.hdr.flags & (IKEV2_FLAG_INITIATOR | IKEV2_FLAG_RESPONSE), IKEV2_FLAG_INITIATOR);
	assert_true(m.has_sk);
	/* no NAT between 198.51.100.10 and 198.51.100.1 */
	assert_false(ike_sa_nat_local(H.sa));
	assert_false(ike_sa_nat_remote(H.sa));

	/* the responder verified kite's AUTH, and saw our IDi */
	assert_true(H.r.auth_ok);
	assert_false(H.r.auth_bad);
	assert_int_equal(H.r.idi_type, IKEV2_ID_RFC822_ADDR);
	assert_int_equal(H.r.idi_len, strlen("rw@kite.test"));
	assert_memory_equal(H.r.idi, "rw@kite.test", H.r.idi_len);

	ike_sa_spis(H.sa, spi_i, spi_r);
	assert_memory_equal(spi_i, H.r.spi_i, 8);
	assert_memory_equal(spi_r, H.r.spi_r, 8);
	assert_string_equal(ike_sa_proposal(H.sa), proposal);

	/* CHILD SA: SPIs, algorithms, and keys = the responder's own KEYMAT (RFC 7296 2.17) */
	assert_int_equal(H.n_child_up, 1);
	assert_true(H.r.child_up);
	assert_int_equal(H.child.spi_in, H.r.child_spi_i);
	assert_int_equal(H.child.spi_out, H.r.child_spi_r);
	assert_int_equal(H.child.encr, H.r.esp.encr);
	assert_int_equal(H.child.encr_bits, H.r.esp.encr_bits);
	assert_int_equal(H.child.integ, H.r.esp.integ);
	assert_int_equal(H.child.dh, 0);
	assert_int_equal(H.child.enc_len, H.r.child_enc_len);
	assert_int_equal(H.child.integ_len, H.r.child_integ_len);
	assert_memory_equal(H.child.enc_out, H.r.keymat_ei, H.r.child_enc_len);
	assert_memory_equal(H.child.enc_in, H.r.keymat_er, H.r.child_enc_len);
	if (H.r.child_integ_len) {
		assert_memory_equal(H.child.integ_out, H.r.keymat_ai, H.r.child_integ_len);
		assert_memory_equal(H.child.integ_in, H.r.keymat_ar, H.r.child_integ_len);
	}
	assert_memory_not_equal(H.child.enc_out, H.child.enc_in, H.child.enc_len);

	/* traffic selectors: TSi narrowed to the VIP, TSr the gateway's network */
	assert_int_equal(H.child.n_tsi, 1);
	assert_int_equal(H.child.tsi[0].type, IKEV2_TS_IPV4_ADDR_RANGE);
	assert_memory_equal(H.child.tsi[0].start, vip, 4);
	assert_memory_equal(H.child.tsi[0].end, vip, 4);
	assert_int_equal(H.child.n_tsr, 1);
	assert_memory_equal(H.child.tsr[0].start, net, 4);
	assert_memory_equal(H.child.tsr[0].end, bcast, 4);

	/* CP reply */
	assert_true(H.cfgres.has_vip4);
	assert_memory_equal(H.cfgres.vip4, vip, 4);
	assert_int_equal(H.cfgres.n_dns4, 1);
	assert_memory_equal(H.cfgres.dns4[0], dns, 4);
	assert_false(H.cfgres.has_vip6);
}

static void test_established_aes256gcm16_prfsha384_x25519(void **state)
{
	h_establish("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	h_check_established("AES_GCM_16_256/PRF_HMAC_SHA2_384/CURVE_25519");
	assert_int_equal(H.child.encr, IKEV2_ENCR_AES_GCM_16);
	assert_int_equal(H.child.encr_bits, 256);
	assert_int_equal(H.child.enc_len, 36);	/* key + 4-byte salt (RFC 4106 8.1) */
	assert_int_equal(H.child.integ_len, 0);
}

static void test_established_aes128_sha256_modp2048(void **state)
{
	h_establish("aes128-sha256-modp2048", "aes128-sha256");
	h_check_established("AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048");
	assert_int_equal(H.child.encr, IKEV2_ENCR_AES_CBC);
	assert_int_equal(H.child.encr_bits, 128);
	assert_int_equal(H.child.integ, IKEV2_INTEG_HMAC_SHA2_256_128);
	assert_int_equal(H.child.enc_len, 16);
	assert_int_equal(H.child.integ_len, 32);
}

static void test_established_chacha20poly1305_prfsha256_ecp256(void **state)
{
	h_establish("chacha20poly1305-prfsha256-ecp256", "chacha20poly1305");
	h_check_established("CHACHA20_POLY1305/PRF_HMAC_SHA2_256/ECP_256");
	assert_int_equal(H.child.encr, IKEV2_ENCR_CHACHA20_POLY1305);
	assert_int_equal(H.child.enc_len, 36);	/* key + 4-byte salt (RFC 7634 2) */
}

/* ---- retransmission (RFC 7296 2.1, 2.4) ---- */

static void test_retransmit_init_bitwise_identical_doubling_then_established(void **state)
{
	h_begin("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	H.r.drop_n = 2;
	assert_int_equal(ike_start(H.sa, 0), 0);
	assert_int_equal(H.n_sent, 1);
	assert_int_equal(ike_next_timeout(H.sa), 1000);
	h_to_resp();
	assert_int_equal(H.last_rr, RESP_DROPPED);

	h_clock(999);
	assert_int_equal(H.n_sent, 1);
	h_clock(1000);
	assert_int_equal(H.n_sent, 2);
	assert_int_equal(H.sent[1].t, 1000);
	assert_true(h_same_sent(0, 1));
	assert_int_equal(ike_next_timeout(H.sa), 1000 + 2000);
	h_to_resp();
	assert_int_equal(H.last_rr, RESP_DROPPED);

	h_clock(2999);
	assert_int_equal(H.n_sent, 2);
	h_clock(3000);
	assert_int_equal(H.n_sent, 3);
	assert_int_equal(H.sent[2].t, 3000);
	assert_true(h_same_sent(0, 2));
	assert_int_equal(ike_next_timeout(H.sa), 3000 + 4000);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_INIT_SENT);

	h_run();
	assert_int_equal(H.r.n_dropped, 2);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_ESTABLISHED);
	assert_int_equal(ike_sa_stats(H.sa)->retransmits, 2);
	assert_true(H.r.auth_ok);
	assert_int_equal(H.n_child_up, 1);
}

static void test_retransmit_auth_bitwise_identical_then_established(void **state)
{
	h_begin("aes128-sha256-modp2048", "aes128-sha256");
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_to_resp();
	H.now = 100;
	h_to_kite();
	h_assert_state(IKE_STATE_AUTH_SENT);
	assert_int_equal(H.n_sent, 2);
	/* a fresh budget for the new request */
	assert_int_equal(ike_next_timeout(H.sa), 100 + 1000);
	H.r.drop_n = 1;
	h_to_resp();
	assert_int_equal(H.last_rr, RESP_DROPPED);
	h_clock(1099);
	assert_int_equal(H.n_sent, 2);
	h_clock(1100);
	assert_int_equal(H.n_sent, 3);
	assert_true(h_same_sent(1, 2));
	assert_int_equal(ike_next_timeout(H.sa), 1100 + 2000);
	h_run();
	assert_int_equal(H.n_rejected, 0);
	h_assert_state(IKE_STATE_ESTABLISHED);
	assert_true(H.r.auth_ok);
	assert_int_equal(H.n_child_up, 1);
	assert_true(ike_next_timeout(H.sa) > H.now + 60000);
}

static void test_retransmit_all_dropped_down_timeout_after_15s(void **state)
{
	static const uint64_t send_at[] = { 0, 1000, 3000, 7000 };

	h_begin("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	H.r.drop_n = 1000;
	assert_int_equal(ike_start(H.sa, 0), 0);
	for (unsigned i = 1; i < 4; i++) {
		assert_int_equal(ike_next_timeout(H.sa), send_at[i]);
		h_clock(send_at[i] - 1);
		assert_int_equal(H.n_sent, i);
		h_clock(send_at[i]);
		assert_int_equal(H.n_sent, i + 1);
		assert_int_equal(H.sent[i].t, send_at[i]);
		assert_true(h_same_sent(0, i));
		h_to_resp();
	}
	/* retransmit_tries = 3: 4 sends, then give up after the last wait of 8 s */
	assert_int_equal(ike_next_timeout(H.sa), 15000);
	h_clock(14999);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_INIT_SENT);
	h_clock(15000);
	h_assert_down(IKE_FAIL_TIMEOUT);
	assert_int_equal(H.states[H.n_states - 1].t, 15000);
	assert_int_equal(H.n_sent, 4);
	assert_int_equal(ike_sa_stats(H.sa)->retransmits, 3);
	h_clock(600000);
	assert_int_equal(H.n_sent, 4);
}

/* ---- COOKIE (RFC 7296 2.6) ---- */

static void test_cookie_retry_carries_cookie_first_msgid0_and_establishes(void **state)
{
	struct ike_msg m0, m1, c;

	h_begin("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	H.r.cookie_len = 24;
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_to_resp();
	assert_int_equal(H.r.n_cookie_sent, 1);
	assert_int_equal(H.n_q, 1);
	assert_int_equal(ikev2_pld_parse(H.q[0].buf, H.q[0].len, &c), 0);
	assert_int_equal(c.notify[0].type, IKEV2_N_COOKIE);
	h_to_kite();
	assert_int_equal(H.n_sent, 2);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_INIT_SENT);

	h_parse_sent(0, &m0);
	h_parse_sent(1, &m1);
	assert_int_equal(m1.hdr.msgid, 0);
	assert_int_equal(m1.hdr.exchange, IKEV2_EXCH_IKE_SA_INIT);
	assert_memory_equal(m1.hdr.spi_i, m0.hdr.spi_i, 8);
	assert_int_equal(m1.hdr.next_payload, IKEV2_PLD_NOTIFY);
	assert_true(m1.n_notify >= 1);
	assert_int_equal(m1.notify[0].type, IKEV2_N_COOKIE);
	assert_int_equal(m1.notify[0].data.len, 24);
	assert_memory_equal(m1.notify[0].data.p, c.notify[0].data.p, 24);
	/* everything else as before */
	assert_int_equal(m1.sa.len, m0.sa.len);
	assert_memory_equal(m1.sa.p, m0.sa.p, m0.sa.len);
	assert_int_equal(m1.ke_group, m0.ke_group);

	h_run();
	assert_int_equal(H.r.n_cookie_ok, 1);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_ESTABLISHED);
	/* RealMessage1 in kite's AUTH is the request with the cookie */
	assert_true(H.r.auth_ok);
}

static void test_cookie_longer_than_64_bytes_dropped(void **state)
{
	/* RFC 7296 2.6: COOKIE is 1..64 bytes (reliability E36) */
	h_begin("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	H.r.cookie_len = 65;
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_to_resp();
	assert_int_equal(H.r.n_cookie_sent, 1);
	H.now = 10;
	h_to_kite();
	h_assert_state(IKE_STATE_INIT_SENT);
	assert_int_equal(H.n_sent, 1);
	assert_int_equal(ike_sa_stats(H.sa)->rx_dropped, 1);
	assert_int_equal(ike_next_timeout(H.sa), 1000);
}

static void test_cookie_pingpong_gives_up_after_5_retries(void **state)
{
	h_begin("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	H.r.cookie_len = 8;
	H.r.imp = RESP_IMP_COOKIE_ALWAYS;
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_run();
	assert_true(H.n_sent <= 1 + 5);
	assert_true(H.n_sent >= 2);
	h_assert_down(IKE_FAIL_PROTOCOL);	/* gave up on the bound, not on a timeout */
	h_clock(600000);
	assert_true(H.n_sent <= 1 + 5);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_DOWN);
	assert_false(H.ever_established);
}

/* ---- INVALID_KE_PAYLOAD (RFC 7296 1.2, reliability D32-D33) ---- */

static void test_invalid_ke_retry_uses_requested_group_with_same_sa(void **state)
{
	struct ike_msg m0, m1;

	h_begin("aes256gcm16-prfsha384-x25519-ecp256", "aes256gcm16");
	H.r.want_group = IKEV2_DH_ECP_256;
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_to_resp();
	assert_int_equal(H.r.n_invalid_ke_sent, 1);
	h_to_kite();
	assert_int_equal(H.n_sent, 2);

	h_parse_sent(0, &m0);
	h_parse_sent(1, &m1);
	assert_int_equal(m0.ke_group, IKEV2_DH_CURVE25519);
	assert_int_equal(m1.ke_group, IKEV2_DH_ECP_256);
	assert_int_equal(m1.ke.len, 64);
	assert_int_equal(m1.hdr.msgid, 0);
	assert_memory_equal(m1.hdr.spi_i, m0.hdr.spi_i, 8);
	/* still proposes its full list (anti-downgrade) */
	assert_int_equal(m1.sa.len, m0.sa.len);
	assert_memory_equal(m1.sa.p, m0.sa.p, m0.sa.len);

	h_run();
	assert_int_equal(H.n_rejected, 0);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_ESTABLISHED);
	assert_string_equal(ike_sa_proposal(H.sa), "AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_256");
	assert_true(H.r.auth_ok);
}

static void test_invalid_ke_unoffered_group_fails_without_second_ke(void **state)
{
	h_begin("aes256gcm16-prfsha384-x25519-ecp256", "aes256gcm16");
	H.r.want_group = IKEV2_DH_MODP_1024;
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_run();
	assert_int_equal(H.r.n_invalid_ke_sent, 1);
	h_clock(600000);
	h_assert_down(IKE_FAIL_PROPOSAL);
	/* at most retransmissions of the first request: never a KE for MODP-1024 */
	for (unsigned i = 0; i < H.n_sent; i++) {
		struct ike_msg m;

		h_parse_sent(i, &m);
		assert_int_not_equal(m.ke_group, IKEV2_DH_MODP_1024);
		assert_true(h_same_sent(0, i));
	}
}

static void test_invalid_ke_pingpong_gives_up_after_5_retries(void **state)
{
	h_begin("aes256gcm16-prfsha384-x25519-ecp256", "aes256gcm16");
	H.r.want_group = IKEV2_DH_ECP_256;
	H.r.alt_group = IKEV2_DH_CURVE25519;
	H.r.imp = RESP_IMP_KE_PINGPONG;
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_run();
	h_assert_down(IKE_FAIL_PROTOCOL);	/* gave up on the bound, not on a timeout */
	h_clock(600000);
	assert_true(H.r.n_invalid_ke_sent >= 2);
	assert_true(H.n_sent <= 1 + 5);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_DOWN);
	assert_false(H.ever_established);
}

static void test_cookie_then_invalid_ke_retry_keeps_cookie_first(void **state)
{
	struct ike_msg m;

	h_begin("aes256gcm16-prfsha384-x25519-ecp256", "aes256gcm16");
	H.r.cookie_len = 16;
	H.r.want_group = IKEV2_DH_ECP_256;
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_run();
	assert_int_equal(H.n_rejected, 0);
	assert_int_equal(H.r.n_cookie_sent, 1);
	assert_int_equal(H.r.n_invalid_ke_sent, 1);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_ESTABLISHED);
	h_parse_sent(2, &m);
	assert_int_equal(m.hdr.exchange, IKEV2_EXCH_IKE_SA_INIT);
	assert_int_equal(m.hdr.next_payload, IKEV2_PLD_NOTIFY);
	assert_int_equal(m.notify[0].type, IKEV2_N_COOKIE);
	assert_int_equal(m.ke_group, IKEV2_DH_ECP_256);
	assert_true(H.r.auth_ok);
}

static void test_spoofed_invalid_ke_then_stale_genuine_response_not_fatal(void **state)
{
	/*
	 * An unauthenticated INVALID_KE(ECP-256) races the genuine X25519 answer.
	 * Kite retries with ECP-256; the genuine answer to the first request is
	 * then stale and must be dropped like any unverifiable response (RFC 7296
	 * 2.21.1), and the answer to the retry establishes.
	 */
	static const uint8_t g19[2] = { 0, IKEV2_DH_ECP_256 };
	uint8_t spoof[256];
	struct ike_msg m;
	size_t n;

	h_begin("aes256gcm16-prfsha384-x25519-ecp256", "aes256gcm16");
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_to_resp();		/* genuine answer for X25519 waits in the queue */
	n = resp_build_init_notify(&H.r, H.sent[0].buf, H.sent[0].len, IKEV2_N_INVALID_KE_PAYLOAD,
				   g19, 2, spoof, sizeof(spoof));
	assert_true(n > 0);
	H.now = 5;
	ike_input(H.sa, spoof, n, 0, H.now);
	assert_int_equal(H.n_sent, 2);
	h_parse_sent(1, &m);
	assert_int_equal(m.ke_group, IKEV2_DH_ECP_256);
	H.now = 10;
	h_to_kite();
	h_assert_state(IKE_STATE_INIT_SENT);
	h_run();
	h_assert_state(IKE_STATE_ESTABLISHED);
	assert_string_equal(ike_sa_proposal(H.sa), "AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_256");
}

/* ---- authentication ---- */

static void test_gateway_rejects_our_psk_down_auth_local(void **state)
{
	static const uint8_t other[] = "the-gateway-has-another-psk-42";

	h_begin("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	memcpy(H.r.psk, other, sizeof(other) - 1);
	H.r.psk_len = sizeof(other) - 1;
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_run();
	assert_true(H.r.auth_bad);
	h_assert_down(IKE_FAIL_AUTH_LOCAL);
}

static void test_authentication_failed_notify_down_auth_local(void **state)
{
	h_begin("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	H.r.imp = RESP_IMP_AUTH_FAILED;
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_run();
	assert_true(H.r.auth_ok);
	h_assert_down(IKE_FAIL_AUTH_LOCAL);
}

static void test_gateway_auth_with_other_psk_down_auth_peer(void **state)
{
	h_begin("aes128-sha256-modp2048", "aes128-sha256");
	H.r.imp = RESP_IMP_WRONG_PSK;
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_run();
	assert_true(H.r.auth_ok);
	h_assert_down(IKE_FAIL_AUTH_PEER);
}

static void test_gateway_idr_other_identity_down_auth_peer(void **state)
{
	h_begin("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	H.r.imp = RESP_IMP_OTHER_ID;
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_run();
	h_assert_down(IKE_FAIL_AUTH_PEER);
}

static void test_auth_response_without_auth_payload_never_established(void **state)
{
	h_begin("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	H.r.imp = RESP_IMP_NO_AUTH;
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_run();
	h_assert_down(IKE_FAIL_PROTOCOL);
}

static void test_auth_response_without_idr_never_established(void **state)
{
	h_begin("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	H.r.imp = RESP_IMP_NO_IDR;
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_run();
	h_assert_down(IKE_FAIL_PROTOCOL);
}

/* ---- downgrade guard (RFC 7296 2.7, reliability C21-C22) ---- */

static void h_downgrade(uint32_t imp, uint8_t xf_type, uint16_t xf_id)
{
	h_begin("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	H.r.imp = imp;
	H.r.imp_xf_type = xf_type;
	H.r.imp_xf_id = xf_id;
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_run();
	h_clock(600000);
	/* ike_sa.c check_chosen(): every downgrade is IKE_FAIL_PROPOSAL */
	h_assert_down(IKE_FAIL_PROPOSAL);
	assert_int_equal(h_count_exch(IKEV2_EXCH_IKE_AUTH), 0);
}

static void test_downgrade_two_proposals_down_proposal(void **state)
{
	h_downgrade(RESP_IMP_TWO_PROPOSALS, 0, 0);
}

static void test_downgrade_unoffered_3des_down_proposal(void **state)
{
	h_downgrade(RESP_IMP_UNOFFERED, IKEV2_XFORM_ENCR, IKEV2_ENCR_3DES);
}

static void test_downgrade_unoffered_modp1024_down_proposal(void **state)
{
	h_downgrade(RESP_IMP_UNOFFERED, IKEV2_XFORM_DH, IKEV2_DH_MODP_1024);
}

static void test_downgrade_ike_proposal_without_dh_down_proposal(void **state)
{
	h_downgrade(RESP_IMP_NO_DH, 0, 0);
}

static void test_esp_unoffered_transform_refuses_child_and_deletes_ike(void **state)
{
	struct ike_msg m;
	static uint8_t scratch[RESP_BUF];

	h_begin("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	H.r.imp = RESP_IMP_UNOFFERED;
	H.r.imp_xf_esp = 1;
	H.r.imp_xf_type = IKEV2_XFORM_ENCR;
	H.r.imp_xf_id = IKEV2_ENCR_3DES;
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_run();
	assert_false(H.ever_established);
	assert_int_equal(H.n_child_up, 0);
	/* the IKE SA is closed politely with a DELETE */
	assert_int_equal(H.n_sent, 3);
	assert_int_equal(resp_open(&H.r, H.sent[2].buf, H.sent[2].len, scratch, sizeof(scratch), &m), 0);
	assert_int_equal(m.hdr.exchange, IKEV2_EXCH_INFORMATIONAL);
	assert_int_equal(m.n_delete, 1);
	assert_int_equal(m.del[0].proto, IKEV2_PROTO_IKE);
	assert_true(H.r.ike_deleted);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_DOWN);
	assert_int_equal(ike_sa_fail(H.sa), IKE_FAIL_CHILD);
}

/* ---- malformed responses are dropped (reliability A, D, E, F) ---- */

/*
 * The IKE_SA_INIT response goes out with wire impairment imp: kite must drop
 * it without a state change, with the retransmit timer unchanged; the genuine
 * response (re-sent by the responder on kite's retransmission) then establishes.
 */
static void h_init_response_dropped(uint32_t imp)
{
	uint64_t deadline;
	uint64_t dropped;

	h_begin("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	H.r.imp = imp;
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_to_resp();
	H.r.imp = 0;
	assert_int_equal(H.n_q, 1);
	deadline = ike_next_timeout(H.sa);
	assert_int_equal(deadline, 1000);
	dropped = ike_sa_stats(H.sa)->rx_dropped;
	H.now = 10;
	h_to_kite();
	h_assert_state(IKE_STATE_INIT_SENT);
	assert_int_equal(ike_next_timeout(H.sa), deadline);
	assert_int_equal(H.n_sent, 1);
	assert_int_equal(H.n_states, 1);
	assert_true(ike_sa_stats(H.sa)->rx_dropped > dropped);

	h_clock(1000);
	assert_int_equal(H.n_sent, 2);
	assert_true(h_same_sent(0, 1));
	h_run();
	assert_int_equal(H.last_rr, RESP_ANSWERED);
	assert_int_equal(H.r.n_resent, 1);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_ESTABLISHED);
	assert_true(H.r.auth_ok);
}

static void test_drop_init_response_wrong_msgid(void **state)
{
	h_init_response_dropped(RESP_IMP_WRONG_MSGID);
}

static void test_drop_init_response_flag_clear(void **state)
{
	h_init_response_dropped(RESP_IMP_NO_RFLAG);
}

static void test_drop_init_response_unknown_spi_i(void **state)
{
	h_init_response_dropped(RESP_IMP_BAD_SPI_I);
}

static void test_drop_init_response_ke_wrong_length(void **state)
{
	h_init_response_dropped(RESP_IMP_KE_LEN);
}

static void test_drop_init_response_nonce_8_bytes(void **state)
{
	h_init_response_dropped(RESP_IMP_SHORT_NR);
}

static void test_drop_init_response_without_nonce(void **state)
{
	h_init_response_dropped(RESP_IMP_NO_NR);
}

static void test_drop_init_response_unknown_critical_payload(void **state)
{
	h_init_response_dropped(RESP_IMP_CRITICAL);
}

/*
 * The IKE_AUTH response goes out with wire impairment imp: dropped, AUTH_SENT
 * and the timer unchanged; then a good copy is accepted (reliability F41).
 */
static void h_auth_response_dropped(uint32_t imp, int bad_icv)
{
	uint64_t deadline, dropped, icv;

	h_begin("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_to_resp();
	h_to_kite();
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_AUTH_SENT);
	H.r.imp = imp;
	h_to_resp();
	H.r.imp = 0;
	assert_int_equal(H.last_rr, RESP_ANSWERED);
	assert_int_equal(H.n_q, 1);
	deadline = ike_next_timeout(H.sa);
	assert_int_equal(deadline, 1000);
	dropped = ike_sa_stats(H.sa)->rx_dropped;
	icv = ike_sa_stats(H.sa)->rx_bad_icv;
	H.now = 10;
	h_to_kite();
	h_assert_state(IKE_STATE_AUTH_SENT);
	assert_int_equal(ike_next_timeout(H.sa), deadline);
	assert_int_equal(H.n_sent, 2);
	assert_int_equal(H.n_child_up, 0);
	assert_true(ike_sa_stats(H.sa)->rx_dropped > dropped);
	if (bad_icv)
		assert_int_equal(ike_sa_stats(H.sa)->rx_bad_icv, icv + 1);

	/* the genuine response, as the responder cached it */
	H.now = 20;
	h_queue(H.r.last_resp.buf, H.r.last_resp.len, H.sent[1].natt);
	h_to_kite();
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_ESTABLISHED);
	assert_int_equal(H.n_child_up, 1);
	assert_int_equal(H.n_sent, 2);
}

static void test_drop_auth_response_corrupted_icv_then_good_copy_accepted(void **state)
{
	h_auth_response_dropped(RESP_IMP_CORRUPT_ICV, 1);
}

static void test_drop_auth_response_wrong_msgid(void **state)
{
	h_auth_response_dropped(RESP_IMP_WRONG_MSGID, 0);
}

static void test_drop_auth_response_flag_clear(void **state)
{
	h_auth_response_dropped(RESP_IMP_NO_RFLAG, 0);
}

static void test_drop_auth_response_unknown_spi_i(void **state)
{
	h_auth_response_dropped(RESP_IMP_BAD_SPI_I, 0);
}

static void test_auth_response_unknown_critical_payload_fails_protocol(void **state)
{
	/* authenticated but unprocessable (RFC 7296 2.5, 2.21): the SA cannot continue */
	h_begin("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_to_resp();
	h_to_kite();
	H.r.imp = RESP_IMP_CRITICAL;
	h_run();
	h_assert_down(IKE_FAIL_PROTOCOL);
}

static void test_duplicated_init_response_processed_once(void **state)
{
	h_begin("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	H.r.imp = RESP_IMP_DUPLICATE;
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_to_resp();
	H.r.imp = 0;
	assert_int_equal(H.n_q, 2);
	h_to_kite();
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_AUTH_SENT);
	assert_int_equal(H.n_sent, 2);		/* one IKE_AUTH, not two */
	assert_int_equal(ike_sa_stats(H.sa)->rx_dropped, 1);
	h_run();
	h_check_established("AES_GCM_16_256/PRF_HMAC_SHA2_384/CURVE_25519");
}

static void test_duplicated_auth_response_processed_once(void **state)
{
	h_begin("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_to_resp();
	h_to_kite();
	H.r.imp = RESP_IMP_DUPLICATE;
	h_to_resp();
	H.r.imp = 0;
	assert_int_equal(H.n_q, 2);
	h_to_kite();
	h_check_established("AES_GCM_16_256/PRF_HMAC_SHA2_384/CURVE_25519");
	assert_int_equal(ike_sa_stats(H.sa)->rx_dropped, 1);
}

/* ---- unauthenticated errors (RFC 7296 2.21.1, reliability E39) ---- */

static void test_gateway_no_proposal_chosen_down_proposal_within_budget(void **state)
{
	h_begin("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	H.r.imp = RESP_IMP_NO_PROPOSAL;
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_live(15000);
	h_assert_down(IKE_FAIL_PROPOSAL);
	assert_true(H.n_sent <= 4);
	assert_int_equal(h_count_exch(IKEV2_EXCH_IKE_AUTH), 0);
}

static void test_spoofed_no_proposal_chosen_then_genuine_response_establishes(void **state)
{
	uint8_t spoof[256];
	size_t n;

	h_begin("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_to_resp();		/* the genuine answer waits in the queue */
	n = resp_build_init_notify(&H.r, H.sent[0].buf, H.sent[0].len, IKEV2_N_NO_PROPOSAL_CHOSEN,
				   NULL, 0, spoof, sizeof(spoof));
	assert_true(n > 0);
	H.now = 10;
	ike_input(H.sa, spoof, n, 0, H.now);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_INIT_SENT);
	assert_int_equal(H.n_states, 1);
	H.now = 500;
	h_to_kite();
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_AUTH_SENT);
	h_run();
	h_clock(600000);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_ESTABLISHED);
	assert_int_equal(H.n_child_up, 1);
}

static void test_spoofed_no_proposal_chosen_keeps_retransmitting_until_genuine(void **state)
{
	/*
	 * reliability.md E39: keep waiting for a genuine reply until the
	 * retransmit budget ends. The genuine answer to the first send is lost,
	 * so only a retransmission can bring it.
	 */
	uint8_t spoof[256];
	size_t n;

	h_begin("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_to_resp();
	h_lose_queue();
	n = resp_build_init_notify(&H.r, H.sent[0].buf, H.sent[0].len, IKEV2_N_NO_PROPOSAL_CHOSEN,
				   NULL, 0, spoof, sizeof(spoof));
	assert_true(n > 0);
	H.now = 10;
	ike_input(H.sa, spoof, n, 0, H.now);
	h_clock(1000);
	h_assert_state(IKE_STATE_INIT_SENT);
	assert_int_equal(H.n_sent, 2);
	h_run();
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_ESTABLISHED);
}

/* ---- NAT detection (RFC 7296 2.23) ---- */

static void test_nat_in_front_of_kite_detected_auth_floats_to_4500(void **state)
{
	h_begin("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	/* the gateway sees us at 203.0.113.7:31000 */
	memcpy(H.r.peer_ip, (const uint8_t[4]){ 203, 0, 113, 7 }, 4);
	H.r.peer_port = 31000;
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_run();
	h_assert_state(IKE_STATE_ESTABLISHED);
	assert_true(ike_sa_nat_local(H.sa));
	assert_false(ike_sa_nat_remote(H.sa));
	assert_true(ike_sa_natt(H.sa));
	assert_int_equal(H.sent[0].natt, 0);
	assert_int_equal(H.sent[1].natt, 1);
}

/* ---- after ESTABLISHED: INFORMATIONAL (RFC 7296 1.4, 2.1) ---- */

static void test_liveness_request_answered_encrypted_empty_echoing_msgid(void **state)
{
	struct ike_msg m;
	unsigned n0;

	h_establish("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	n0 = H.n_sent;
	H.now = 30000;
	assert_int_equal(resp_request(&H.r, RESP_REQ_LIVENESS), 0);
	h_take_resp_out(ike_sa_natt(H.sa));
	h_to_kite();
	assert_int_equal(H.n_sent, n0 + 1);
	h_parse_sent(n0, &m);
	assert_int_equal(m.hdr.exchange, IKEV2_EXCH_INFORMATIONAL);
	assert_int_equal(m.hdr.flags & (IKEV2_FLAG_RESPONSE | IKEV2_FLAG_INITIATOR),
			 IKEV2_FLAG_RESPONSE | IKEV2_FLAG_INITIATOR);
	assert_int_equal(m.hdr.msgid, 0);
	assert_true(m.has_sk);
	assert_int_equal(H.sent[n0].natt, ike_sa_natt(H.sa));
	h_to_resp();
	assert_int_equal(H.last_rr, RESP_ABSORBED);
	assert_int_equal(H.r.n_peer_resp, 1);
	assert_int_equal(H.r.peer_resp_msgid, 0);
	assert_int_equal(H.r.peer_resp_inner_len, 0);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_ESTABLISHED);

	/* the next one gets message ID 1 */
	assert_int_equal(resp_request(&H.r, RESP_REQ_LIVENESS), 0);
	h_take_resp_out(ike_sa_natt(H.sa));
	h_run();
	assert_int_equal(H.r.n_peer_resp, 2);
	assert_int_equal(H.r.peer_resp_msgid, 1);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_ESTABLISHED);
}

static void test_liveness_retransmitted_request_gets_identical_cached_response(void **state)
{
	unsigned n0;

	h_establish("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	n0 = H.n_sent;
	H.now = 30000;
	assert_int_equal(resp_request(&H.r, RESP_REQ_LIVENESS), 0);
	h_take_resp_out(ike_sa_natt(H.sa));
	h_to_kite();
	assert_int_equal(H.n_sent, n0 + 1);
	/* that response is lost; the responder retransmits its request */
	H.n_fed = H.n_sent;
	H.now = 32000;
	assert_int_equal(resp_resend_request(&H.r), 0);
	h_take_resp_out(ike_sa_natt(H.sa));
	h_to_kite();
	assert_int_equal(H.n_sent, n0 + 2);
	assert_true(h_same_sent(n0, n0 + 1));
	assert_int_equal(resp_input(&H.r, H.sent[n0 + 1].buf, H.sent[n0 + 1].len), RESP_ABSORBED);
	assert_int_equal(H.r.peer_resp_inner_len, 0);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_ESTABLISHED);
}

static void test_liveness_request_with_bad_icv_dropped_then_good_copy_answered(void **state)
{
	struct resp_pkt bad;
	unsigned n0;

	h_establish("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	n0 = H.n_sent;
	H.now = 30000;
	assert_int_equal(resp_request(&H.r, RESP_REQ_LIVENESS), 0);
	bad = H.r.out[0];
	bad.buf[bad.len - 1] ^= 0x01;
	ike_input(H.sa, bad.buf, bad.len, 1, H.now);
	assert_int_equal(H.n_sent, n0);
	assert_int_equal(ike_sa_stats(H.sa)->rx_bad_icv, 1);
	h_assert_state(IKE_STATE_ESTABLISHED);
	/* the good copy is answered as the first request (message ID 0) */
	h_take_resp_out(1);
	h_run();
	assert_int_equal(H.n_sent, n0 + 1);
	assert_int_equal(H.r.n_peer_resp, 1);
	assert_int_equal(H.r.peer_resp_msgid, 0);
	h_assert_state(IKE_STATE_ESTABLISHED);
}

static void test_gateway_request_before_established_dropped(void **state)
{
	h_begin("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	assert_int_equal(ike_start(H.sa, 0), 0);
	h_to_resp();
	h_to_kite();
	h_assert_state(IKE_STATE_AUTH_SENT);
	H.r.drop_n = 1;		/* kite's IKE_AUTH is lost */
	h_to_resp();
	/* the responder has keys: a request from it (here a DELETE) must be ignored */
	assert_int_equal(resp_request(&H.r, RESP_REQ_DELETE_IKE), 0);
	h_take_resp_out(1);
	h_to_kite();
	assert_int_equal(H.n_sent, 2);
	h_assert_state(IKE_STATE_AUTH_SENT);
	assert_int_equal(ike_sa_stats(H.sa)->rx_dropped, 1);
	assert_int_equal(ike_next_timeout(H.sa), 1000);
}

static void test_peer_delete_ike_answered_then_down_deleted(void **state)
{
	struct ike_msg m;
	unsigned n0;

	h_establish("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	n0 = H.n_sent;
	H.now = 40000;
	assert_int_equal(resp_request(&H.r, RESP_REQ_DELETE_IKE), 0);
	h_take_resp_out(ike_sa_natt(H.sa));
	h_to_kite();
	assert_int_equal(H.n_sent, n0 + 1);
	h_parse_sent(n0, &m);
	assert_int_equal(m.hdr.exchange, IKEV2_EXCH_INFORMATIONAL);
	assert_true(m.hdr.flags & IKEV2_FLAG_RESPONSE);
	assert_int_equal(m.hdr.msgid, 0);
	h_to_resp();
	assert_int_equal(H.last_rr, RESP_ABSORBED);
	assert_int_equal(H.r.peer_resp_inner_len, 0);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_DOWN);
	assert_int_equal(ike_sa_fail(H.sa), IKE_FAIL_DELETED);
	assert_int_equal(ike_next_timeout(H.sa), UINT64_MAX);
}

static void test_ike_delete_sends_d_ike_and_goes_down_on_response(void **state)
{
	static uint8_t scratch[RESP_BUF];
	struct ike_msg m;
	unsigned n0;

	h_establish("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	n0 = H.n_sent;
	H.now = 50000;
	assert_int_equal(ike_delete(H.sa, H.now), 0);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_DELETING);
	assert_int_equal(H.n_sent, n0 + 1);
	assert_int_equal(resp_open(&H.r, H.sent[n0].buf, H.sent[n0].len, scratch, sizeof(scratch), &m), 0);
	assert_int_equal(m.hdr.exchange, IKEV2_EXCH_INFORMATIONAL);
	assert_int_equal(m.hdr.flags & (IKEV2_FLAG_RESPONSE | IKEV2_FLAG_INITIATOR), IKEV2_FLAG_INITIATOR);
	assert_int_equal(m.hdr.msgid, 2);
	assert_int_equal(m.n_delete, 1);
	assert_int_equal(m.del[0].proto, IKEV2_PROTO_IKE);
	assert_int_equal(ike_next_timeout(H.sa), 51000);
	h_run();
	assert_true(H.r.ike_deleted);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_DOWN);
	assert_int_equal(ike_sa_fail(H.sa), IKE_FAIL_NONE);
	assert_int_equal(ike_next_timeout(H.sa), UINT64_MAX);
}

static void test_ike_delete_unanswered_down_after_retransmit_budget(void **state)
{
	unsigned n0;

	h_establish("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	n0 = H.n_sent;
	H.r.drop_n = 1000;
	H.now = 50000;
	assert_int_equal(ike_delete(H.sa, H.now), 0);
	assert_int_equal(ike_next_timeout(H.sa), 51000);
	h_clock(50000 + 14999);
	h_to_resp();
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_DELETING);
	assert_int_equal(H.n_sent, n0 + 4);
	for (unsigned i = 1; i < 4; i++)
		assert_true(h_same_sent(n0, n0 + i));
	assert_int_equal(H.sent[n0 + 3].t, 50000 + 7000);
	h_clock(50000 + 15000);
	assert_int_equal(ike_sa_state(H.sa), IKE_STATE_DOWN);
	assert_int_equal(H.states[H.n_states - 1].t, 65000);
	assert_int_equal(H.n_sent, n0 + 4);
	assert_int_equal(ike_next_timeout(H.sa), UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_teardown(f, h_end)
		T(test_established_aes256gcm16_prfsha384_x25519),
		T(test_established_aes128_sha256_modp2048),
		T(test_established_chacha20poly1305_prfsha256_ecp256),
		T(test_retransmit_init_bitwise_identical_doubling_then_established),
		T(test_retransmit_auth_bitwise_identical_then_established),
		T(test_retransmit_all_dropped_down_timeout_after_15s),
		T(test_cookie_retry_carries_cookie_first_msgid0_and_establishes),
		T(test_cookie_longer_than_64_bytes_dropped),
		T(test_cookie_pingpong_gives_up_after_5_retries),
		T(test_invalid_ke_retry_uses_requested_group_with_same_sa),
		T(test_invalid_ke_unoffered_group_fails_without_second_ke),
		T(test_invalid_ke_pingpong_gives_up_after_5_retries),
		T(test_cookie_then_invalid_ke_retry_keeps_cookie_first),
		T(test_spoofed_invalid_ke_then_stale_genuine_response_not_fatal),
		T(test_gateway_rejects_our_psk_down_auth_local),
		T(test_authentication_failed_notify_down_auth_local),
		T(test_gateway_auth_with_other_psk_down_auth_peer),
		T(test_gateway_idr_other_identity_down_auth_peer),
		T(test_auth_response_without_auth_payload_never_established),
		T(test_auth_response_without_idr_never_established),
		T(test_downgrade_two_proposals_down_proposal),
		T(test_downgrade_unoffered_3des_down_proposal),
		T(test_downgrade_unoffered_modp1024_down_proposal),
		T(test_downgrade_ike_proposal_without_dh_down_proposal),
		T(test_esp_unoffered_transform_refuses_child_and_deletes_ike),
		T(test_drop_init_response_wrong_msgid),
		T(test_drop_init_response_flag_clear),
		T(test_drop_init_response_unknown_spi_i),
		T(test_drop_init_response_ke_wrong_length),
		T(test_drop_init_response_nonce_8_bytes),
		T(test_drop_init_response_without_nonce),
		T(test_drop_init_response_unknown_critical_payload),
		T(test_drop_auth_response_corrupted_icv_then_good_copy_accepted),
		T(test_drop_auth_response_wrong_msgid),
		T(test_drop_auth_response_flag_clear),
		T(test_drop_auth_response_unknown_spi_i),
		T(test_auth_response_unknown_critical_payload_fails_protocol),
		T(test_duplicated_init_response_processed_once),
		T(test_duplicated_auth_response_processed_once),
		T(test_gateway_no_proposal_chosen_down_proposal_within_budget),
		T(test_spoofed_no_proposal_chosen_then_genuine_response_establishes),
		T(test_spoofed_no_proposal_chosen_keeps_retransmitting_until_genuine),
		T(test_nat_in_front_of_kite_detected_auth_floats_to_4500),
		T(test_liveness_request_answered_encrypted_empty_echoing_msgid),
		T(test_liveness_retransmitted_request_gets_identical_cached_response),
		T(test_liveness_request_with_bad_icv_dropped_then_good_copy_answered),
		T(test_gateway_request_before_established_dropped),
		T(test_peer_delete_ike_answered_then_down_deleted),
		T(test_ike_delete_sends_d_ike_and_goes_down_on_response),
		T(test_ike_delete_unanswered_down_after_retransmit_budget),
#undef T
	};
	const char *dbg = getenv("KITE_TEST_DEBUG");
	int rc;

	log_init("test_exch", 0, dbg && *dbg ? LOG_LVL_DEBUG : LOG_LVL_ERR);
	if (crypto_init() != 0) {
		fprintf(stderr, "crypto_init failed\n");
		return 1;
	}
	rc = cmocka_run_group_tests_name("exch", tests, NULL, NULL);
	crypto_fini();
	return rc;
}
