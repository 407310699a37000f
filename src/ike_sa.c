/*
 * ike_sa: IKEv2 initiator core (RFC 7296). See ike_sa.h for the contract.
 *
 * Every datagram is copied into sa->rx, parsed (ikev2_pld) into facts, and
 * only then acted on. Anything that does not verify is dropped and counted,
 * and the retransmission timer keeps running (reliability.md "Drop").
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "eap.h"
#include "frag.h"
#include "ike_sa.h"
#include "ike_sa_int.h"
#include "ikev2.h"
#include "ikev2_enc.h"
#include "ikev2_pld.h"
#include "kbuf.h"
#include "kite.h"
#include "log.h"
#include "x509.h"



void ike_set_state(struct ike_sa *sa, enum ike_state st, const char *reason);

const char *ike_state_name(enum ike_state st)
{
	switch (st) {
	case IKE_STATE_IDLE: return "idle";
	case IKE_STATE_INIT_SENT: return "init-sent";
	case IKE_STATE_AUTH_SENT: return "auth-sent";
	case IKE_STATE_ESTABLISHED: return "established";
	case IKE_STATE_DELETING: return "deleting";
	case IKE_STATE_DOWN: return "down";
	}
	return "unknown";
}

/* ---- identities ---- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ike_id_parse(const char *s, uint8_t *type, uint8_t *out, size_t *len, size_t cap)
{
	const char *hex = NULL;
	size_t n;

	if (!s || !*s)
		return KITE_ERR_INVAL;
	if (strncmp(s, "keyid:", 6) == 0)
		hex = s + 6;
	else if (strncmp(s, "@#", 2) == 0)
		hex = s + 2;
	if (hex) {
		size_t hl = strlen(hex);

		if (hl == 0 || hl % 2 || hl / 2 > cap)
			return KITE_ERR_INVAL;
		for (n = 0; n < hl / 2; n++) {
			int hi = hexval(hex[2 * n]), lo = hexval(hex[2 * n + 1]);

			if (hi < 0 || lo < 0)
				return KITE_ERR_INVAL;
			out[n] = (uint8_t)(hi << 4 | lo);
		}
		*type = IKEV2_ID_KEY_ID;
		*len = n;
		return 0;
	}
	if (cap >= 16 && inet_pton(AF_INET, s, out) == 1) {
		*type = IKEV2_ID_IPV4_ADDR;
		*len = 4;
		return 0;
	}
	if (cap >= 16 && inet_pton(AF_INET6, s, out) == 1) {
		*type = IKEV2_ID_IPV6_ADDR;
		*len = 16;
		return 0;
	}
	if (s[0] == '@') {
		s++;
		*type = IKEV2_ID_FQDN;
	} else if (strchr(s, '@')) {
		*type = IKEV2_ID_RFC822_ADDR;
	} else {
		*type = IKEV2_ID_FQDN;
	}
	n = strlen(s);
	if (n == 0 || n > cap)
		return KITE_ERR_INVAL;
	memcpy(out, s, n);
	*len = n;
	return 0;
}

const char *ike_id_str(uint8_t type, const uint8_t *data, size_t len, char *buf, size_t buflen)
{
	size_t i, o;

	if (!buflen)
		return buf;
	buf[0] = '\0';
	switch (type) {
	case IKEV2_ID_IPV4_ADDR:
		if (len == 4)
			inet_ntop(AF_INET, data, buf, (socklen_t)buflen);
		return buf;
	case IKEV2_ID_IPV6_ADDR:
		if (len == 16)
			inet_ntop(AF_INET6, data, buf, (socklen_t)buflen);
		return buf;
	case IKEV2_ID_FQDN:
	case IKEV2_ID_RFC822_ADDR:
		for (i = 0, o = 0; i < len && o + 1 < buflen; i++)
			buf[o++] = (data[i] >= 0x20 && data[i] < 0x7f) ? (char)data[i] : '?';
		buf[o] = '\0';
		return buf;
	default:
		o = (size_t)snprintf(buf, buflen, "%s:", type == IKEV2_ID_KEY_ID ? "keyid" : "id");
		for (i = 0; i < len && o + 3 < buflen; i++, o += 2)
			snprintf(buf + o, buflen - o, "%02x", data[i]);
		return buf;
	}
}

/* ---- helpers ---- */

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static const char *encr_str(uint16_t encr, uint16_t bits, char *buf, size_t len)
{
	switch (encr) {
	case IKEV2_ENCR_AES_GCM_16:
		snprintf(buf, len, "AES_GCM_16_%u", bits);
		break;
	case IKEV2_ENCR_AES_CBC:
		snprintf(buf, len, "AES_CBC_%u", bits);
		break;
	case IKEV2_ENCR_CHACHA20_POLY1305:
		snprintf(buf, len, "CHACHA20_POLY1305");
		break;
	default:
		snprintf(buf, len, "ENCR_%u", encr);
	}
	return buf;
}

static const char *integ_str(uint16_t integ)
{
	switch (integ) {
	case IKEV2_INTEG_HMAC_SHA2_256_128: return "HMAC_SHA2_256_128";
	case IKEV2_INTEG_HMAC_SHA2_384_192: return "HMAC_SHA2_384_192";
	case IKEV2_INTEG_HMAC_SHA2_512_256: return "HMAC_SHA2_512_256";
	}
	return "INTEG_?";
}

static const char *prf_str(uint16_t prf)
{
	switch (prf) {
	case IKEV2_PRF_HMAC_SHA2_256: return "PRF_HMAC_SHA2_256";
	case IKEV2_PRF_HMAC_SHA2_384: return "PRF_HMAC_SHA2_384";
	case IKEV2_PRF_HMAC_SHA2_512: return "PRF_HMAC_SHA2_512";
	}
	return "PRF_?";
}

const char *ike_dh_str(uint16_t dh)
{
	switch (dh) {
	case IKEV2_DH_MODP_2048: return "MODP_2048";
	case IKEV2_DH_MODP_3072: return "MODP_3072";
	case IKEV2_DH_ECP_256: return "ECP_256";
	case IKEV2_DH_ECP_384: return "ECP_384";
	case IKEV2_DH_CURVE25519: return "CURVE_25519";
	}
	return "DH_?";
}

/* Fail the SA: remember why and go DOWN (no message is sent). */
void ike_fail(struct ike_sa *sa, enum ike_fail why, const char *fmt, ...)
{
	va_list ap;

	if (sa->state == IKE_STATE_DOWN)
		return;
	va_start(ap, fmt);
	vsnprintf(sa->reason, sizeof(sa->reason), fmt, ap);
	va_end(ap);
	sa->fail = why;
	sa->req_active = 0;
	ike_set_state(sa, IKE_STATE_DOWN, sa->reason);
}

void ike_set_state(struct ike_sa *sa, enum ike_state st, const char *reason)
{
	if (sa->state == st)
		return;
	log_debug("%s -> %s%s%s", ike_state_name(sa->state), ike_state_name(st),
		  reason ? ": " : "", reason ? reason : "");
	sa->state = st;
	if (sa->ops->state)
		sa->ops->state(sa->ctx, sa, st, reason);
}

int ike_send_raw(struct ike_sa *sa, const uint8_t *buf, size_t len, int natt)
{
	sa->st.tx_msgs++;
	return sa->ops->send(sa->ctx, buf, len, natt);
}

static uint64_t ike_backoff(const struct ike_sa *sa, unsigned tries)
{
	uint64_t t = sa->p.prof->retransmit_timeout_ms ? sa->p.prof->retransmit_timeout_ms : 1000;

	while (tries-- && t < IKE_MAX_BACKOFF_MS)
		t *= 2;
	return t < IKE_MAX_BACKOFF_MS ? t : IKE_MAX_BACKOFF_MS;
}

/* Send sa->req as a new request and arm the retransmission timer. */
int ike_req_send(struct ike_sa *sa, uint64_t now)
{
	sa->req_active = 1;
	sa->req_first = now;
	sa->req_tries = 0;
	sa->pending_fail = 0;
	sa->req_deadline = now + ike_backoff(sa, 0);
	return ike_req_xmit(sa);
}

/* ---- NAT detection (RFC 7296 2.23) ---- */

int natd_hash(const uint8_t spi_i[8], const uint8_t spi_r[8],
		     const struct sockaddr_storage *ss, uint8_t out[20])
{
	uint8_t buf[16 + 16 + 2];
	size_t n = 0;

	memcpy(buf, spi_i, 8);
	memcpy(buf + 8, spi_r, 8);
	n = 16;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		memcpy(buf + n, &s4->sin_addr, 4);
		n += 4;
		memcpy(buf + n, &s4->sin_port, 2);
		n += 2;
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		memcpy(buf + n, &s6->sin6_addr, 16);
		n += 16;
		memcpy(buf + n, &s6->sin6_port, 2);
		n += 2;
	} else {
		return KITE_ERR_INVAL;
	}
	return crypto_sha1(buf, n, NULL, 0, out);
}

/* ---- IKE_SA_INIT ---- */

static size_t build_ike_proposals(const struct ike_sa *sa, struct ike_proposal *pr, size_t max)
{
	const struct kite_profile *prof = sa->p.prof;
	size_t n = 0;

	for (unsigned i = 0; i < prof->n_ike && n < max; i++) {
		const struct kite_proposal *kp = &prof->ike[i];
		struct ike_proposal *p = &pr[n];
		unsigned x = 0;

		memset(p, 0, sizeof(*p));
		p->num = (uint8_t)(n + 1);
		p->proto = IKEV2_PROTO_IKE;
		for (unsigned j = 0; j < kp->n_encr && x < IKE_MAX_TRANSFORMS; j++)
			p->xf[x++] = (struct ike_transform){ IKEV2_XFORM_ENCR, kp->encr[j],
							     kp->encr_bits[j] };
		for (unsigned j = 0; j < kp->n_prf && x < IKE_MAX_TRANSFORMS; j++)
			p->xf[x++] = (struct ike_transform){ IKEV2_XFORM_PRF, kp->prf[j], 0 };
		for (unsigned j = 0; j < kp->n_integ && x < IKE_MAX_TRANSFORMS; j++)
			p->xf[x++] = (struct ike_transform){ IKEV2_XFORM_INTEG, kp->integ[j], 0 };
		for (unsigned j = 0; j < kp->n_dh && x < IKE_MAX_TRANSFORMS; j++)
			if (crypto_dh_supported(kp->dh[j]))
				p->xf[x++] = (struct ike_transform){ IKEV2_XFORM_DH, kp->dh[j], 0 };
		p->n_xf = (uint8_t)x;
		n++;
	}
	return n;
}

size_t build_esp_proposals(const struct ike_sa *sa, struct ike_proposal *pr, size_t max)
{
	const struct kite_profile *prof = sa->p.prof;
	size_t n = 0;
	uint32_t spi = htonl(sa->child_spi_in);

	for (unsigned i = 0; i < prof->n_esp && n < max; i++) {
		const struct kite_proposal *kp = &prof->esp[i];
		struct ike_proposal *p = &pr[n];
		unsigned x = 0;

		memset(p, 0, sizeof(*p));
		p->num = (uint8_t)(n + 1);
		p->proto = IKEV2_PROTO_ESP;
		p->spi_size = 4;
		memcpy(p->spi, &spi, 4);
		for (unsigned j = 0; j < kp->n_encr && x < IKE_MAX_TRANSFORMS; j++)
			p->xf[x++] = (struct ike_transform){ IKEV2_XFORM_ENCR, kp->encr[j],
							     kp->encr_bits[j] };
		for (unsigned j = 0; j < kp->n_integ && x < IKE_MAX_TRANSFORMS; j++)
			p->xf[x++] = (struct ike_transform){ IKEV2_XFORM_INTEG, kp->integ[j], 0 };
		/* No DH in IKE_AUTH: the first CHILD SA uses the IKE SA's key exchange (RFC 7296 1.2). */
		if (kp->esn != 1 && x < IKE_MAX_TRANSFORMS)
			p->xf[x++] = (struct ike_transform){ IKEV2_XFORM_ESN, IKEV2_ESN_NO, 0 };
		if (kp->esn >= 1 && x < IKE_MAX_TRANSFORMS)
			p->xf[x++] = (struct ike_transform){ IKEV2_XFORM_ESN, IKEV2_ESN_YES, 0 };
		p->n_xf = (uint8_t)x;
		n++;
	}
	return n;
}

/* The DH group kite sends a KE for first: the first group of the first proposal. */
static uint16_t first_dh_group(const struct ike_sa *sa)
{
	const struct kite_profile *prof = sa->p.prof;

	for (unsigned i = 0; i < prof->n_ike; i++)
		for (unsigned j = 0; j < prof->ike[i].n_dh; j++)
			if (crypto_dh_supported(prof->ike[i].dh[j]))
				return prof->ike[i].dh[j];
	return 0;
}

static int group_offered(const struct ike_sa *sa, uint16_t group)
{
	const struct kite_profile *prof = sa->p.prof;

	for (unsigned i = 0; i < prof->n_ike; i++)
		for (unsigned j = 0; j < prof->ike[i].n_dh; j++)
			if (prof->ike[i].dh[j] == group)
				return crypto_dh_supported(group);
	return 0;
}

static int ike_build_init(struct ike_sa *sa)
{
	struct ike_proposal props[KITE_MAX_PROPOSALS];
	uint8_t pub[CRYPTO_MAX_DH_PUB], hash[20];
	struct ike_hdr hdr;
	struct ike_enc e;
	size_t n, publen = sizeof(pub), len;
	uint8_t zero[8] = { 0 };

	if (crypto_dh_pub(sa->dh, pub, &publen) != 0)
		return KITE_ERR_CRYPTO;
	n = build_ike_proposals(sa, props, KITE_ARRAY_SIZE(props));
	memset(&hdr, 0, sizeof(hdr));
	memcpy(hdr.spi_i, sa->spi_i, 8);
	hdr.version = IKEV2_VERSION;
	hdr.exchange = IKEV2_EXCH_IKE_SA_INIT;
	hdr.flags = IKEV2_FLAG_INITIATOR;
	hdr.msgid = 0;
	ikev2_enc_init(&e, sa->req, sizeof(sa->req), &hdr);
	/* A COOKIE goes first (RFC 7296 2.6). */
	if (sa->cookie_len)
		ikev2_enc_notify(&e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_COOKIE,
				 sa->cookie, sa->cookie_len);
	ikev2_enc_sa(&e, props, n);
	ikev2_enc_ke(&e, sa->dh_group, pub, publen);
	ikev2_enc_nonce(&e, sa->ni, sizeof(sa->ni));
	if (natd_hash(sa->spi_i, zero, &sa->p.local, hash) == 0) {
		ikev2_enc_notify(&e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_NAT_DETECTION_SOURCE_IP,
				 hash, 20);
		if (natd_hash(sa->spi_i, zero, &sa->p.remote, hash) == 0)
			ikev2_enc_notify(&e, IKEV2_PROTO_NONE, NULL, 0,
					 IKEV2_N_NAT_DETECTION_DESTINATION_IP, hash, 20);
		sa->natd_sent = 1;
	}
	if (sa->p.prof->fragmentation)
		ikev2_enc_notify(&e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED,
				 NULL, 0);
	if (sa->p.prof->auth != KITE_AUTH_PSK) {
		/* RFC 7427 4: the hashes kite accepts in signature AUTH (SHA-2 only). */
		uint8_t sh[8];
		size_t shl = x509_sig_hash_notify(sh);

		ikev2_enc_notify(&e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_SIGNATURE_HASH_ALGORITHMS, sh, shl);
	}
	if (ikev2_enc_finish(&e, &len) != 0 || !wbuf_ok(&e.w))
		return KITE_ERR_INVAL;
	sa->req_len = len;
	frag_set_clear(&sa->req_frags);	/* IKE_SA_INIT is never fragmented (RFC 7383 2.5.3) */
	sa->req_natt = sa->natt;	/* rekey hook: 1 only for a reauthentication (ike_child.c) */
	sa->req_exch = IKEV2_EXCH_IKE_SA_INIT;
	sa->req_msgid = 0;
	/* RealMessage1 is the last IKE_SA_INIT request sent (with the cookie, if any). */
	free(sa->msg1);
	sa->msg1 = malloc(len);
	if (!sa->msg1)
		return KITE_ERR_NOMEM;
	memcpy(sa->msg1, sa->req, len);
	sa->msg1_len = len;
	return 0;
}

static int ike_new_dh(struct ike_sa *sa, uint16_t group)
{
	crypto_dh_free(sa->dh);
	sa->dh = crypto_dh_new(group);
	if (!sa->dh)
		return KITE_ERR_CRYPTO;
	sa->dh_group = group;
	return 0;
}

int ike_start(struct ike_sa *sa, uint64_t now)
{
	int r;

	if (sa->p.start_natt)
		sa->natt = 1;	/* IKE_SA_INIT on 4500 with the non-ESP marker (RFC 3948 2.2) */

	if (sa->state != IKE_STATE_IDLE)
		return KITE_ERR_INVAL;
	sa->dh_group = first_dh_group(sa);
	if (!sa->dh_group) {
		ike_fail(sa, IKE_FAIL_PROPOSAL, "no supported key exchange group in 'ike'");
		return KITE_ERR_PROPOSAL;
	}
	if ((r = ike_new_dh(sa, sa->dh_group)) != 0 || (r = ike_build_init(sa)) != 0) {
		ike_fail(sa, IKE_FAIL_INTERNAL, "cannot build IKE_SA_INIT: %s", kite_strerror(r));
		return r;
	}
	ike_set_state(sa, IKE_STATE_INIT_SENT, NULL);
	sa->t_start = now;
	log_info("initiating IKE_SA_INIT (KE %s)", ike_dh_str(sa->dh_group));
	ike_req_send(sa, now);
	return 0;
}

/* Find our proposal by number. */
static const struct ike_proposal *our_proposal(const struct ike_proposal *ours, size_t n, uint8_t num)
{
	for (size_t i = 0; i < n; i++)
		if (ours[i].num == num)
			return &ours[i];
	return NULL;
}

static int xf_offered(const struct ike_proposal *p, const struct ike_transform *t)
{
	for (unsigned i = 0; i < p->n_xf; i++)
		if (p->xf[i].type == t->type && p->xf[i].id == t->id &&
		    p->xf[i].key_bits == t->key_bits)
			return 1;
	return 0;
}


/*
 * Verify the single proposal the gateway chose against what we offered: one
 * proposal, each transform type once, every transform one we offered in that
 * proposal (downgrade guard, RFC 7296 2.7 / reliability.md C21).
 */
int check_chosen(const struct ike_view sa_pld, const struct ike_proposal *ours, size_t n_ours,
			uint8_t proto, uint8_t spi_size, struct chosen *c, char *why, size_t whylen)
{
	struct ike_proposal got[2];
	const struct ike_proposal *mine;
	size_t n = 0;

	memset(c, 0, sizeof(*c));
	if (ikev2_pld_parse_sa(sa_pld, got, KITE_ARRAY_SIZE(got), &n) != 0 || n != 1) {
		snprintf(why, whylen, "gateway's SA payload must hold exactly one proposal");
		return KITE_ERR_PARSE;
	}
	mine = our_proposal(ours, n_ours, got[0].num);
	if (!mine || got[0].proto != proto) {
		snprintf(why, whylen, "gateway chose proposal #%u which kite did not offer", got[0].num);
		return KITE_ERR_PROPOSAL;
	}
	if (got[0].spi_size != spi_size ||
	    (spi_size && !memcmp(got[0].spi, (uint8_t[8]){ 0 }, spi_size))) {
		snprintf(why, whylen, "gateway's %s proposal has a %u-byte%s SPI (want %u bytes)",
			 proto == IKEV2_PROTO_ESP ? "ESP" : "IKE", got[0].spi_size,
			 got[0].spi_size == spi_size ? " zero" : "", spi_size);
		return KITE_ERR_PARSE;
	}
	memcpy(c->spi, got[0].spi, sizeof(c->spi));
	c->spi_size = got[0].spi_size;
	for (unsigned i = 0; i < got[0].n_xf; i++) {
		const struct ike_transform *t = &got[0].xf[i];
		int dup = 0;

		if (!xf_offered(mine, t)) {
			snprintf(why, whylen, "gateway chose a transform kite did not offer (type %u id %u)",
				 t->type, t->id);
			return KITE_ERR_PROPOSAL;
		}
		switch (t->type) {
		case IKEV2_XFORM_ENCR:
			dup = c->encr != 0;
			c->encr = t->id;
			c->encr_bits = t->key_bits;
			break;
		case IKEV2_XFORM_PRF:
			dup = c->has_prf;
			c->has_prf = 1;
			c->prf = t->id;
			break;
		case IKEV2_XFORM_INTEG:
			dup = c->has_integ;
			c->has_integ = 1;
			c->integ = t->id;
			break;
		case IKEV2_XFORM_DH:
			dup = c->has_dh;
			c->has_dh = 1;
			c->dh = t->id;
			break;
		case IKEV2_XFORM_ESN:
			dup = c->has_esn;
			c->has_esn = 1;
			c->esn = t->id;
			break;
		default:
			dup = 1;
		}
		if (dup) {
			snprintf(why, whylen, "gateway chose two transforms of type %u", t->type);
			return KITE_ERR_PROPOSAL;
		}
	}
	if (!c->encr) {
		snprintf(why, whylen, "gateway's proposal has no encryption algorithm");
		return KITE_ERR_PROPOSAL;
	}
	if (crypto_encr_is_aead(c->encr) ? (c->has_integ && c->integ != IKEV2_INTEG_NONE)
					  : !c->has_integ) {
		snprintf(why, whylen, "gateway's proposal combines %s with %s integrity",
			 ikev2_encr_name(c->encr), c->has_integ ? "an" : "no");
		return KITE_ERR_PROPOSAL;
	}
	if (proto == IKEV2_PROTO_IKE && (!c->has_prf || !c->has_dh || c->dh == IKEV2_DH_NONE)) {
		snprintf(why, whylen, "gateway's IKE proposal lacks a %s", c->has_prf ? "DH group" : "PRF");
		return KITE_ERR_PROPOSAL;
	}
	return 0;
}

/* SKEYSEED and the IKE SA keys (RFC 7296 2.14). */
static int ike_derive_keys(struct ike_sa *sa, const uint8_t *gir, size_t gir_len)
{
	uint8_t skeyseed[CRYPTO_MAX_PRF_LEN], seed[IKEV2_NONCE_LEN + IKEV2_NONCE_MAX + 16];
	uint8_t keymat[3 * CRYPTO_MAX_PRF_LEN + 2 * CRYPTO_MAX_KEY + 2 * 64];
	size_t ekey = crypto_aead_enc_key_len(sa->encr, sa->encr_bits);
	size_t akey = crypto_encr_is_aead(sa->encr) ? 0 : crypto_aead_integ_key_len(sa->integ);
	size_t pl = crypto_prf_len(sa->prf), need, off = 0, slen = 0;
	int r = KITE_ERR_CRYPTO;

	if (!ekey || !pl || (!crypto_encr_is_aead(sa->encr) && !akey))
		return KITE_ERR_UNSUPPORTED;
	sa->prf_len = pl;
	memcpy(seed, sa->ni, sizeof(sa->ni));
	slen = sizeof(sa->ni);
	memcpy(seed + slen, sa->nr, sa->nr_len);
	slen += sa->nr_len;
	/* SKEYSEED = prf(Ni | Nr, g^ir) */
	if (crypto_prf(sa->prf, seed, slen, gir, gir_len, NULL, 0, skeyseed) != 0)
		goto out;
	memcpy(seed + slen, sa->spi_i, 8);
	memcpy(seed + slen + 8, sa->spi_r, 8);
	slen += 16;
	/* {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) */
	need = 3 * pl + 2 * akey + 2 * ekey;
	if (need > sizeof(keymat))
		goto out;
	if (crypto_prf_plus(sa->prf, skeyseed, pl, seed, slen, keymat, need) != 0)
		goto out;
	memcpy(sa->sk_d, keymat, pl);
	off = pl;
	{
		const uint8_t *ai = keymat + off, *ar = keymat + off + akey;
		const uint8_t *ei = keymat + off + 2 * akey, *er = ei + ekey;

		crypto_aead_free(sa->sk_out);
		crypto_aead_free(sa->sk_in);
		sa->sk_out = crypto_aead_new(sa->encr, sa->encr_bits, sa->integ, ei, akey ? ai : NULL);
		sa->sk_in = crypto_aead_new(sa->encr, sa->encr_bits, sa->integ, er, akey ? ar : NULL);
		off += 2 * akey + 2 * ekey;
	}
	memcpy(sa->sk_pi, keymat + off, pl);
	memcpy(sa->sk_pr, keymat + off + pl, pl);
	r = (sa->sk_out && sa->sk_in) ? 0 : KITE_ERR_CRYPTO;
out:
	crypto_wipe(skeyseed, sizeof(skeyseed));
	crypto_wipe(keymat, sizeof(keymat));
	return r;
}

static int ike_send_auth(struct ike_sa *sa, uint64_t now);

/*
 * An unauthenticated IKE_SA_INIT answer refused us. Keep retransmitting: a
 * genuine reply may still come (RFC 7296 2.21.1). The same refusal twice (the
 * gateway answering our retransmission) or the end of the budget makes it final.
 */
static void ike_init_refused(struct ike_sa *sa, enum ike_fail code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void ike_init_refused(struct ike_sa *sa, enum ike_fail code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sa->pending_reason, sizeof(sa->pending_reason), fmt, ap);
	va_end(ap);
	sa->pending_code = code;
	if (++sa->pending_fail >= 2 && sa->req_tries > 0) {
		ike_fail(sa, code, "%s", sa->pending_reason);
		return;
	}
	log_info("%s (unauthenticated; waiting for another answer)", sa->pending_reason);
}

static void ike_handle_init_resp(struct ike_sa *sa, struct ike_msg *m, uint64_t now)
{
	struct ike_proposal ours[KITE_MAX_PROPOSALS];
	struct chosen c;
	uint8_t gir[CRYPTO_MAX_DH_SECRET];
	size_t gir_len = sizeof(gir), n_ours;
	const struct ike_notify *nt;
	char why[160];
	int r;

	/* COOKIE (RFC 7296 2.6): retry with it first, everything else the same. */
	if ((nt = ikev2_msg_notify(m, IKEV2_N_COOKIE)) != NULL && !m->sa.p) {
		if (ikev2_notify_check(nt) != 0)
			goto drop;
		if (++sa->init_retries > IKE_MAX_INIT_RETRIES) {
			ike_fail(sa, IKE_FAIL_PROTOCOL, "gateway keeps demanding cookies; giving up after %u rounds",
				 IKE_MAX_INIT_RETRIES);
			return;
		}
		memcpy(sa->cookie, nt->data.p, nt->data.len);
		sa->cookie_len = nt->data.len;
		log_info("gateway demands a COOKIE (%zu bytes); retrying IKE_SA_INIT", sa->cookie_len);
		if (ike_build_init(sa) != 0) {
			ike_fail(sa, IKE_FAIL_INTERNAL, "cannot rebuild IKE_SA_INIT");
			return;
		}
		ike_req_send(sa, now);
		return;
	}
	/* INVALID_KE_PAYLOAD (RFC 7296 1.2): retry with the requested group, same proposals. */
	if ((nt = ikev2_msg_notify(m, IKEV2_N_INVALID_KE_PAYLOAD)) != NULL && !m->sa.p) {
		uint16_t g;

		if (ikev2_notify_check(nt) != 0)
			goto drop;
		g = (uint16_t)(nt->data.p[0] << 8 | nt->data.p[1]);
		if (!group_offered(sa, g) || g == sa->dh_group) {
			ike_init_refused(sa, IKE_FAIL_PROPOSAL,
					 "gateway asks for key exchange group %s (%u), which 'ike' does not offer",
					 ikev2_dh_name(g), g);
			return;
		}
		if (++sa->init_retries > IKE_MAX_INIT_RETRIES) {
			ike_fail(sa, IKE_FAIL_PROTOCOL, "too many INVALID_KE_PAYLOAD/COOKIE rounds");
			return;
		}
		log_info("gateway answered INVALID_KE_PAYLOAD: retrying with %s", ike_dh_str(g));
		if (ike_new_dh(sa, g) != 0 || ike_build_init(sa) != 0) {
			ike_fail(sa, IKE_FAIL_INTERNAL, "cannot rebuild IKE_SA_INIT for group %u", g);
			return;
		}
		ike_req_send(sa, now);
		return;
	}
	/* Other errors are unauthenticated (RFC 7296 2.21.1): remember, keep waiting briefly. */
	for (unsigned i = 0; i < m->n_notify; i++) {
		if (m->notify[i].type <= IKEV2_N_ERROR_MAX && !m->sa.p) {
			char offered[160] = "";

			if (m->notify[i].type == IKEV2_N_NO_PROPOSAL_CHOSEN)
				config_proposals_str(sa->p.prof->ike, sa->p.prof->n_ike, offered,
						     sizeof(offered));
			ike_init_refused(sa, m->notify[i].type == IKEV2_N_NO_PROPOSAL_CHOSEN ?
					 IKE_FAIL_PROPOSAL : IKE_FAIL_PROTOCOL,
					 "gateway refused IKE_SA_INIT with %s%s%s%s",
					 ikev2_notify_name(m->notify[i].type),
					 offered[0] ? ": it accepts none of kite's 'ike' proposals (" : "",
					 offered, offered[0] ? "); ask the gateway's admin for its proposals" : "");
			return;
		}
	}
	if (!m->sa.p || !m->ke.p || !m->nonce.p) {
		log_debug("IKE_SA_INIT response without %s", !m->sa.p ? "SA" : !m->ke.p ? "KE" : "Nr");
		goto drop;
	}
	if (!memcmp(m->hdr.spi_r, (uint8_t[8]){ 0 }, 8)) {
		log_debug("IKE_SA_INIT response with SPIr 0");
		goto drop;
	}
	n_ours = build_ike_proposals(sa, ours, KITE_ARRAY_SIZE(ours));
	if ((r = check_chosen(m->sa, ours, n_ours, IKEV2_PROTO_IKE, 0, &c, why, sizeof(why))) != 0) {
		/* Downgrade guard (RFC 7296 2.7); unauthenticated, so treated like a refusal. */
		ike_init_refused(sa, IKE_FAIL_PROPOSAL, "%s", why);
		return;
	}
	/* Unauthenticated: a stale answer (to a request replaced after INVALID_KE) or a forgery. */
	if (c.dh != sa->dh_group || m->ke_group != sa->dh_group ||
	    m->ke.len != crypto_dh_pub_len(sa->dh_group) || m->nonce.len > sizeof(sa->nr)) {
		log_debug("IKE_SA_INIT response with KE %u (%zu bytes) for our %s: dropped",
			  m->ke_group, m->ke.len, ike_dh_str(sa->dh_group));
		goto drop;
	}
	if ((r = crypto_dh_shared(sa->dh, m->ke.p, m->ke.len, gir, &gir_len)) != 0) {
		log_debug("gateway's %s public value is invalid (%s): dropped", ike_dh_str(sa->dh_group),
			  kite_strerror(r));
		goto drop;
	}
	memcpy(sa->spi_r, m->hdr.spi_r, 8);
	memcpy(sa->nr, m->nonce.p, m->nonce.len);
	sa->nr_len = m->nonce.len;
	sa->encr = c.encr;
	sa->encr_bits = c.encr_bits;
	sa->prf = c.prf;
	sa->integ = c.has_integ ? c.integ : IKEV2_INTEG_NONE;
	r = ike_derive_keys(sa, gir, gir_len);
	crypto_wipe(gir, sizeof(gir));
	crypto_dh_free(sa->dh);
	sa->dh = NULL;
	if (r != 0) {
		ike_fail(sa, IKE_FAIL_INTERNAL, "key derivation failed: %s", kite_strerror(r));
		return;
	}
	{
		char eb[32];

		if (crypto_encr_is_aead(sa->encr))
			snprintf(sa->proposal, sizeof(sa->proposal), "%s/%s/%s",
				 encr_str(sa->encr, sa->encr_bits, eb, sizeof(eb)), prf_str(sa->prf),
				 ike_dh_str(sa->dh_group));
		else
			snprintf(sa->proposal, sizeof(sa->proposal), "%s/%s/%s/%s",
				 encr_str(sa->encr, sa->encr_bits, eb, sizeof(eb)), integ_str(sa->integ),
				 prf_str(sa->prf), ike_dh_str(sa->dh_group));
	}
	/* NAT detection: mismatching hashes mean a NAT on that side. */
	{
		const struct ike_notify *src = ikev2_msg_notify(m, IKEV2_N_NAT_DETECTION_SOURCE_IP);
		const struct ike_notify *dst = ikev2_msg_notify(m, IKEV2_N_NAT_DETECTION_DESTINATION_IP);
		uint8_t h[20];

		if (src && dst && ikev2_notify_check(src) == 0 && ikev2_notify_check(dst) == 0) {
			sa->nat_remote = 1;
			for (unsigned i = 0; i < m->n_notify; i++) {
				if (m->notify[i].type == IKEV2_N_NAT_DETECTION_SOURCE_IP &&
				    m->notify[i].data.len == 20 &&
				    natd_hash(sa->spi_i, sa->spi_r, &sa->p.remote, h) == 0 &&
				    !memcmp(h, m->notify[i].data.p, 20))
					sa->nat_remote = 0;
			}
			sa->nat_local = !(natd_hash(sa->spi_i, sa->spi_r, &sa->p.local, h) == 0 &&
					  !memcmp(h, dst->data.p, 20));
			/* Both sides support NAT-T: float to 4500 (RFC 7296 2.23; RFC 4555 3.3). */
			sa->natt = 1;
			if (sa->nat_local || sa->nat_remote)
				log_info("NAT detected (%s%s%s)", sa->nat_local ? "in front of kite" : "",
					 sa->nat_local && sa->nat_remote ? ", " : "",
					 sa->nat_remote ? "in front of the gateway" : "");
		}
	}
	/* RFC 7383 2.3: fragments only when both sides said so. */
	sa->frag_ok = sa->p.prof->fragmentation &&
		      ikev2_msg_notify(m, IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED) != NULL;
	/* RealMessage2 */
	free(sa->msg2);
	sa->msg2 = malloc(m->raw.len);
	if (!sa->msg2) {
		ike_fail(sa, IKE_FAIL_INTERNAL, "out of memory");
		return;
	}
	memcpy(sa->msg2, m->raw.p, m->raw.len);
	sa->msg2_len = m->raw.len;
	sa->req_active = 0;
	log_info("IKE_SA_INIT done: %s", sa->proposal);
	if (ike_send_auth(sa, now) != 0)
		ike_fail(sa, IKE_FAIL_INTERNAL, "cannot build IKE_AUTH");
	return;
drop:
	sa->st.rx_dropped++;
}

/* ---- SK payload (RFC 7296 3.14) ---- */

/*
 * Build an encrypted message into out: header + SK{inner}. first is the inner
 * chain's first payload type.
 */
/*
 * Build an encrypted message: header + SK{inner}, or one fragment of it,
 * header + SKF{chunk} (RFC 7383 2.5: Fragment Number and Total Fragments sit
 * between the generic header and the IV, and are authenticated).
 */
static int seal_sk(struct ike_sa *sa, uint8_t exch, int response, uint32_t msgid, uint8_t first,
		   const uint8_t *inner, size_t inner_len, uint8_t *out, size_t cap, size_t *out_len,
		   uint16_t frag_num, uint16_t frag_total)
{
	size_t ivl = crypto_aead_iv_len(sa->sk_out), icvl = crypto_aead_icv_len(sa->sk_out);
	size_t bl = crypto_aead_block_len(sa->sk_out), pad = 0, pt, total;
	size_t hl = frag_num ? FRAG_SKF_HDR_LEN : IKEV2_PLD_HDR_LEN;
	struct ike_hdr hdr;
	struct ike_enc e;
	size_t sk_off, len;

	if (bl > 1)
		pad = (bl - (inner_len + 1) % bl) % bl;
	pt = inner_len + pad + 1;
	total = IKEV2_HDR_LEN + hl + ivl + pt + icvl;
	if (total > cap || total > IKEV2_MAX_MSG)
		return KITE_ERR_INVAL;
	memset(&hdr, 0, sizeof(hdr));
	memcpy(hdr.spi_i, sa->spi_i, 8);
	memcpy(hdr.spi_r, sa->spi_r, 8);
	hdr.version = IKEV2_VERSION;
	hdr.exchange = exch;
	/* rekey hook: after the gateway rekeyed the IKE SA kite is its original responder */
	hdr.flags = (sa->orig_resp ? 0 : IKEV2_FLAG_INITIATOR) | (response ? IKEV2_FLAG_RESPONSE : 0);
	hdr.msgid = msgid;
	ikev2_enc_init(&e, out, cap, &hdr);
	sk_off = ikev2_enc_begin(&e, frag_num ? IKEV2_PLD_SKF : IKEV2_PLD_SK, 0);
	/* The SK header's Next Payload is the first inner payload (fragment 1 only for SKF). */
	wbuf_set_u8(&e.w, sk_off, frag_num > 1 ? 0 : first);
	if (frag_num) {
		wbuf_put_u16(&e.w, frag_num);
		wbuf_put_u16(&e.w, frag_total);
	}
	wbuf_reserve(&e.w, ivl + pt + icvl);
	ikev2_enc_end(&e, sk_off);
	if (ikev2_enc_finish(&e, &len) != 0 || !wbuf_ok(&e.w) || len != total)
		return KITE_ERR_INVAL;
	{
		uint8_t *iv = out + sk_off + hl;
		uint8_t *p = iv + ivl;

		if (crypto_encr_is_aead(sa->encr)) {
			/* AEAD IVs must never repeat under a key (RFC 5282 3): a counter. */
			put_be64(iv, ++sa->iv_ctr);
		} else if (crypto_random(iv, ivl) != 0) {
			return KITE_ERR_CRYPTO;
		}
		memcpy(p, inner, inner_len);
		memset(p + inner_len, 0, pad);
		p[inner_len + pad] = (uint8_t)pad;
		if (crypto_aead_seal(sa->sk_out, iv, out, sk_off + hl, p, pt, p + pt) != 0)
			return KITE_ERR_CRYPTO;
	}
	*out_len = total;
	return 0;
}

int ike_seal_msg(struct ike_sa *sa, uint8_t exch, int response, uint32_t msgid,
		 uint8_t first, const uint8_t *inner, size_t inner_len,
		 uint8_t *out, size_t cap, size_t *out_len)
{
	return seal_sk(sa, exch, response, msgid, first, inner, inner_len, out, cap, out_len, 0, 0);
}

/*
 * A request too large for one datagram, as SKF fragments (RFC 7383 2.5) kept
 * in sa->req_frags; all of them go out together on every retransmission.
 * Returns 1 when fragmented, 0 when the message fits in one datagram.
 */
static int ike_fragment(struct ike_sa *sa, uint8_t exch, uint32_t msgid, uint8_t first,
			const uint8_t *inner, size_t inner_len)
{
	size_t ivl = crypto_aead_iv_len(sa->sk_out), icvl = crypto_aead_icv_len(sa->sk_out);
	size_t bl = crypto_aead_block_len(sa->sk_out);
	size_t ovh = (sa->p.remote.ss_family == AF_INET6 ? FRAG_IPV6_OVERHEAD : FRAG_IPV4_OVERHEAD) +
		     (sa->natt ? FRAG_NATT_MARKER : 0);
	size_t fsz = sa->p.prof->fragment_size ? sa->p.prof->fragment_size : FRAG_DEFAULT_SIZE;
	size_t whole = IKEV2_HDR_LEN + IKEV2_PLD_HDR_LEN + ivl + inner_len + bl + icvl;
	struct frag_plan plan;
	uint8_t buf[IKE_BUF];

	frag_set_clear(&sa->req_frags);
	if (!sa->frag_ok || !frag_needed(whole, ovh, fsz))
		return 0;
	if (frag_plan(&plan, inner_len, fsz, ovh, ivl, icvl, bl) != 0)
		return 0;
	for (unsigned n = 1; n <= plan.total; n++) {
		size_t off, len, out;

		if (frag_chunk(&plan, n, &off, &len) != 0 ||
		    seal_sk(sa, exch, 0, msgid, first, inner + off, len, buf, sizeof(buf), &out,
			    (uint16_t)n, (uint16_t)plan.total) != 0 ||
		    frag_set_add(&sa->req_frags, buf, out) != 0) {
			frag_set_clear(&sa->req_frags);
			return KITE_ERR_INVAL;
		}
	}
	log_info("%s request %u sent as %u fragments (RFC 7383)", ikev2_exchange_name(exch), msgid, plan.total);
	return 1;
}

int ike_req_xmit(struct ike_sa *sa)
{
	int r = 0;

	if (!sa->req_frags.n)
		return ike_send_raw(sa, sa->req, sa->req_len, sa->req_natt);
	for (unsigned i = 0; i < sa->req_frags.n; i++)
		if (ike_send_raw(sa, sa->req_frags.pkt[i], sa->req_frags.len[i], sa->req_natt) != 0)
			r = KITE_ERR_SYS;
	return r;
}

/*
 * Decrypt m's SK payload in place (m->raw must be writable: it is sa->rx) and
 * parse the inner chain. Returns KITE_ERR_VERIFY for a bad ICV (drop),
 * KITE_ERR_PARSE for bad framing, or the inner parse result.
 */
static int ike_open_msg(struct ike_sa *sa, struct ike_msg *m)
{
	size_t ivl, icvl, bl, ctl;
	uint8_t *body, *ct;
	uint8_t padl;

	if (!m->has_sk || !sa->sk_in || (m->is_skf && !sa->frag_ok))
		return KITE_ERR_PARSE;
	/* After IKE_SA_INIT everything that means something must be inside SK (reliability.md B19). */
	if (m->sa.p || m->ke.p || m->nonce.p || m->idi.data.p || m->idr.data.p || m->auth.p ||
	    m->tsi.p || m->tsr.p || m->cp.p || m->eap.p || m->n_notify || m->n_delete ||
	    m->n_cert || m->n_certreq) {
		log_debug("payloads outside the SK payload: dropped");
		return KITE_ERR_PARSE;
	}
	ivl = crypto_aead_iv_len(sa->sk_in);
	icvl = crypto_aead_icv_len(sa->sk_in);
	bl = crypto_aead_block_len(sa->sk_in);
	if (m->sk_body.len < ivl + icvl + 1)
		return KITE_ERR_PARSE;
	ctl = m->sk_body.len - ivl - icvl;
	if (bl > 1 && ctl % bl)
		return KITE_ERR_PARSE;
	/* sk_body points into sa->rx, which we own. */
	body = sa->rx + (m->sk_body.p - sa->rx);
	ct = body + ivl;
	/* AAD: every byte before the IV (for SKF that includes the fragment numbers). */
	if (crypto_aead_open(sa->sk_in, body, sa->rx, (size_t)(m->sk_body.p - sa->rx), ct, ctl,
			     ct + ctl) != 0) {
		sa->st.rx_bad_icv++;
		return KITE_ERR_VERIFY;
	}
	padl = ct[ctl - 1];
	if ((size_t)padl + 1 > ctl)
		return KITE_ERR_PARSE;
	if (m->is_skf) {
		/* One authenticated fragment (RFC 7383 2.6): reassemble, then parse the whole. */
		uint8_t *whole = NULL, first = 0;
		size_t wl = 0;
		enum frag_status fs = frag_add(&sa->frag_rx, m->hdr.msgid, m->frag_num, m->frag_total,
					       m->sk_first, ct, ctl - padl - 1, sa->now, &whole, &wl,
					       &first);

		if (fs == FRAG_INCOMPLETE || fs == FRAG_DUPLICATE)
			return 1;
		if (fs != FRAG_DONE)
			return KITE_ERR_PARSE;
		log_info("%s message %u reassembled from %u fragments (RFC 7383)",
			 ikev2_exchange_name(m->hdr.exchange), m->hdr.msgid, m->frag_total);
		free(sa->frag_whole);
		sa->frag_whole = whole;
		m->is_skf = 0;
		return ikev2_pld_parse_inner(m, first, whole, wl);
	}
	return ikev2_pld_parse_inner(m, m->sk_first, ct, ctl - padl - 1);
}

/* ---- IKE_AUTH ---- */

/* AUTH for PSK (RFC 7296 2.15): prf(prf(PSK, "Key Pad for IKEv2"), msg | nonce | prf(SK_p, ID)). */
/*
 * Signed octets (RFC 7296 2.15): msg | nonce | prf(SK_p, ID body). Returns a
 * malloc'd buffer the caller wipes and frees, or NULL.
 */
static uint8_t *signed_octets(struct ike_sa *sa, const uint8_t *msg, size_t msg_len,
			      const uint8_t *nonce, size_t nonce_len, const uint8_t *skp,
			      const uint8_t *id_body, size_t id_len, size_t *len)
{
	uint8_t macid[CRYPTO_MAX_PRF_LEN];
	size_t n = msg_len + nonce_len + sa->prf_len;
	uint8_t *octets = malloc(n);

	if (!octets)
		return NULL;
	if (crypto_prf(sa->prf, skp, sa->prf_len, id_body, id_len, NULL, 0, macid) != 0) {
		free(octets);
		return NULL;
	}
	memcpy(octets, msg, msg_len);
	memcpy(octets + msg_len, nonce, nonce_len);
	memcpy(octets + msg_len + nonce_len, macid, sa->prf_len);
	*len = n;
	return octets;
}

static int key_auth(struct ike_sa *sa, const uint8_t *key, size_t key_len,
		    const uint8_t *msg, size_t msg_len, const uint8_t *nonce, size_t nonce_len,
		    const uint8_t *skp, const uint8_t *id_body, size_t id_len, uint8_t *out);

static int psk_auth(struct ike_sa *sa, const uint8_t *msg, size_t msg_len,
		    const uint8_t *nonce, size_t nonce_len, const uint8_t *skp,
		    const uint8_t *id_body, size_t id_len, uint8_t *out)
{
	return key_auth(sa, sa->psk, sa->p.psk_len, msg, msg_len, nonce, nonce_len, skp, id_body,
			id_len, out);
}

/* AUTH = prf(prf(key, "Key Pad for IKEv2"), signed octets); key: the PSK or the EAP MSK (RFC 7296 2.15, 2.16). */
static int key_auth(struct ike_sa *sa, const uint8_t *key, size_t key_len,
		    const uint8_t *msg, size_t msg_len, const uint8_t *nonce, size_t nonce_len,
		    const uint8_t *skp, const uint8_t *id_body, size_t id_len, uint8_t *out)
{
	static const char pad[] = "Key Pad for IKEv2";
	uint8_t k[CRYPTO_MAX_PRF_LEN], macid[CRYPTO_MAX_PRF_LEN];
	uint8_t *octets = NULL;
	size_t n = msg_len + nonce_len + sa->prf_len;
	int r = KITE_ERR_CRYPTO;

	if ((octets = malloc(n)) == NULL)
		return KITE_ERR_NOMEM;
	if (crypto_prf(sa->prf, skp, sa->prf_len, id_body, id_len, NULL, 0, macid) != 0)
		goto out;
	memcpy(octets, msg, msg_len);
	memcpy(octets + msg_len, nonce, nonce_len);
	memcpy(octets + msg_len + nonce_len, macid, sa->prf_len);
	if (crypto_prf(sa->prf, key, key_len, (const uint8_t *)pad, sizeof(pad) - 1,
		       NULL, 0, k) != 0)
		goto out;
	if (crypto_prf(sa->prf, k, sa->prf_len, octets, n, NULL, 0, out) != 0)
		goto out;
	r = 0;
out:
	crypto_wipe(k, sizeof(k));
	crypto_wipe(octets, n);
	free(octets);
	return r;
}

static int ike_send_auth(struct ike_sa *sa, uint64_t now)
{
	struct ike_proposal esp[KITE_MAX_PROPOSALS];
	struct ike_cfg_attr req[5];
	struct ike_ts ts[2];
	uint8_t idbody[4 + sizeof(sa->p.id)], auth[CRYPTO_MAX_PRF_LEN];
	struct ike_enc e;
	size_t n, len;
	int r;

	/* Our inbound CHILD SPI; 1..255 are reserved (RFC 4303 2.1). */
	do {
		if (crypto_random(&sa->child_spi_in, sizeof(sa->child_spi_in)) != 0)
			return KITE_ERR_CRYPTO;
	} while (sa->child_spi_in < 256);

	ikev2_enc_init_inner(&e, sa->work, sizeof(sa->work));
	ikev2_enc_id(&e, IKEV2_PLD_IDi, sa->p.id_type, sa->p.id, sa->p.id_len);
	if (!sa->reauth)	/* rekey hook: the old IKE SA must survive a reauthentication */
		ikev2_enc_notify(&e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_INITIAL_CONTACT, NULL, 0);
	if (sa->p.rid_type)
		ikev2_enc_id(&e, IKEV2_PLD_IDr, sa->p.rid_type, sa->p.rid, sa->p.rid_len);
	/* The ID payload body: type, 3 reserved bytes, data. */
	idbody[0] = sa->p.id_type;
	memset(idbody + 1, 0, 3);
	memcpy(idbody + 4, sa->p.id, sa->p.id_len);
	if (sa->p.prof->auth == KITE_AUTH_PSK) {
		if ((r = psk_auth(sa, sa->msg1, sa->msg1_len, sa->nr, sa->nr_len, sa->sk_pi, idbody,
				  4 + sa->p.id_len, auth)) != 0)
			return r;
		ikev2_enc_auth(&e, IKEV2_AUTH_SHARED_KEY_MIC, auth, sa->prf_len);
		crypto_wipe(auth, sizeof(auth));
	} else if (sa->p.prof->auth == KITE_AUTH_CERT) {
		/* Our certificate(s), then AUTH signed with our key (RFC 7427). */
		uint8_t kh[20 * X509_KEYHASH_LEN], sig[X509_MAX_AUTH], method = 0;
		size_t khl = 0, sl = 0, so_len = 0;
		char reason[X509_REASON_LEN];
		uint8_t *so;

		for (size_t i = 0; i < sa->p.n_my_certs; i++) {
			size_t dl;
			const uint8_t *der = x509_cert_der(sa->p.my_certs[i], &dl);

			ikev2_enc_cert(&e, IKEV2_CERT_X509_SIG, der, dl);
		}
		if (sa->p.ca && x509_ca_keyhash(sa->p.ca, kh, sizeof(kh), &khl) == 0)
			ikev2_enc_certreq(&e, IKEV2_CERT_X509_SIG, kh, khl);
		so = signed_octets(sa, sa->msg1, sa->msg1_len, sa->nr, sa->nr_len, sa->sk_pi, idbody,
				   4 + sa->p.id_len, &so_len);
		if (!so)
			return KITE_ERR_NOMEM;
		r = x509_sign_auth(sa->p.my_key, 0, so, so_len, &method, sig, sizeof(sig), &sl, reason,
				   sizeof(reason));
		crypto_wipe(so, so_len);
		free(so);
		if (r != 0) {
			log_err("cannot sign AUTH with the client key: %s", reason);
			return r;
		}
		ikev2_enc_auth(&e, method, sig, sl);
	} else if (sa->p.ca) {
		/*
		 * No AUTH: EAP follows (RFC 7296 2.16). Ask for a certificate from our
		 * trust anchors (CERTREQ with their key hashes, RFC 7296 3.7); a large
		 * system store is sent as an empty CERTREQ instead.
		 */
		uint8_t kh[20 * X509_KEYHASH_LEN];
		size_t khl = 0;

		if (x509_ca_keyhash(sa->p.ca, kh, sizeof(kh), &khl) != 0)
			khl = 0;
		ikev2_enc_certreq(&e, IKEV2_CERT_X509_SIG, kh, khl);
	}
	memcpy(sa->idi_body, idbody, 4 + sa->p.id_len);
	sa->idi_body_len = 4 + sa->p.id_len;
	memset(req, 0, sizeof(req));
	req[0].type = IKEV2_CFG_INTERNAL_IP4_ADDRESS;
	if (sa->reauth && sa->cfg.has_vip4)	/* rekey hook: ask for the address we have */
		req[0].value = (struct ike_view){ sa->cfg.vip4, 4 };
	req[1].type = IKEV2_CFG_INTERNAL_IP4_DNS;
	req[2].type = IKEV2_CFG_INTERNAL_IP6_ADDRESS;
	req[3].type = IKEV2_CFG_INTERNAL_IP6_DNS;
	req[4].type = IKEV2_CFG_INTERNAL_DNS_DOMAIN;
	ikev2_enc_cp(&e, IKEV2_CFG_REQUEST, req, 5);
	n = build_esp_proposals(sa, esp, KITE_ARRAY_SIZE(esp));
	ikev2_enc_sa(&e, esp, n);
	memset(ts, 0, sizeof(ts));
	ts[0].type = IKEV2_TS_IPV4_ADDR_RANGE;
	ts[0].port_end = 65535;
	memset(ts[0].end, 0xff, 4);
	ts[1].type = IKEV2_TS_IPV6_ADDR_RANGE;
	ts[1].port_end = 65535;
	memset(ts[1].end, 0xff, 16);
	ikev2_enc_ts(&e, IKEV2_PLD_TSi, ts, 2);
	ikev2_enc_ts(&e, IKEV2_PLD_TSr, ts, 2);
	if (sa->p.prof->mobike) {
		ikev2_enc_notify(&e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_MOBIKE_SUPPORTED, NULL, 0);
		/* RFC 4555 3.4: additional addresses MAY go in IKE_AUTH; only when allowed */
		if (sa->p.prof->mobike_announce && sa->n_my_addrs)
			mobike_add_addrs(sa, &e);
	}
	if (!wbuf_ok(&e.w))
		return KITE_ERR_INVAL;
	sa->msgid_next = 1;
	if ((r = ike_fragment(sa, IKEV2_EXCH_IKE_AUTH, sa->msgid_next, e.first, sa->work, e.w.len)) < 0)
		return r;
	len = 0;
	if (r == 0 && (r = ike_seal_msg(sa, IKEV2_EXCH_IKE_AUTH, 0, sa->msgid_next, e.first, sa->work,
					e.w.len, sa->req, sizeof(sa->req), &len)) != 0)
		return r;
	crypto_wipe(sa->work, e.w.len);
	sa->req_len = len;
	sa->req_natt = sa->natt;
	sa->req_exch = IKEV2_EXCH_IKE_AUTH;
	sa->req_msgid = sa->msgid_next++;
	ike_set_state(sa, IKE_STATE_AUTH_SENT, NULL);
	ike_req_send(sa, now);
	return 0;
}

static int id_matches(const struct ike_sa *sa, const struct ike_id *id)
{
	if (!sa->p.rid_type)
		return 1;
	return id->type == sa->p.rid_type && id->data.len == sa->p.rid_len &&
	       !memcmp(id->data.p, sa->p.rid, sa->p.rid_len);
}

static void parse_cfg_reply(struct ike_sa *sa, const struct ike_msg *m)
{
	struct ike_cfg_attr attrs[IKE_MAX_CFG_ATTR];
	struct ike_cfg_result *c = &sa->cfg;
	size_t n = 0;

	memset(c, 0, sizeof(*c));
	if (!m->cp.p || m->cp_type != IKEV2_CFG_REPLY)
		return;
	if (ikev2_pld_parse_cfg(m->cp, attrs, KITE_ARRAY_SIZE(attrs), &n) != 0) {
		log_warn("ignoring a malformed configuration payload");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ike_view *v = &attrs[i].value;

		switch (attrs[i].type) {
		case IKEV2_CFG_INTERNAL_IP4_ADDRESS:
			if (v->len == 4 && !c->has_vip4) {
				memcpy(c->vip4, v->p, 4);
				c->has_vip4 = 1;
			}
			break;
		case IKEV2_CFG_INTERNAL_IP6_ADDRESS:
			if (v->len == 17 && !c->has_vip6) {
				memcpy(c->vip6, v->p, 16);
				c->vip6_prefix = v->p[16] <= 128 ? v->p[16] : 128;
				c->has_vip6 = 1;
			}
			break;
		case IKEV2_CFG_INTERNAL_IP4_DNS:
			if (v->len == 4 && c->n_dns4 < IKE_MAX_DNS)
				memcpy(c->dns4[c->n_dns4++], v->p, 4);
			break;
		case IKEV2_CFG_INTERNAL_IP6_DNS:
			if ((v->len == 16 || v->len == 17) && c->n_dns6 < IKE_MAX_DNS)
				memcpy(c->dns6[c->n_dns6++], v->p, 16);
			break;
		case IKEV2_CFG_INTERNAL_DNS_DOMAIN: {
			/* RFC 8598: a domain name; keep only host-name characters. */
			size_t o = strlen(c->domains);

			if (v->len == 0 || o + v->len + 2 > sizeof(c->domains))
				break;
			if (o)
				c->domains[o++] = ' ';
			for (size_t k = 0; k < v->len; k++) {
				char ch = (char)v->p[k];

				if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
				    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_')
					c->domains[o++] = ch;
			}
			c->domains[o] = '\0';
			break;
		}
		default:
			break;
		}
	}
}

static int ike_send_delete(struct ike_sa *sa, uint64_t now);
static void ike_auth_done(struct ike_sa *sa, struct ike_msg *m, uint64_t now);
static void ike_auth_eap_step(struct ike_sa *sa, struct ike_msg *m, uint64_t now);

/* The CHILD SA from the IKE_AUTH response (RFC 7296 1.2, 2.17). */
static int ike_setup_child(struct ike_sa *sa, const struct ike_msg *m, char *why, size_t whylen)
{
	struct ike_proposal ours[KITE_MAX_PROPOSALS];
	struct child_sa *ch = &sa->child;
	struct chosen c;
	uint8_t keymat[4 * 64], seed[IKEV2_NONCE_LEN + IKEV2_NONCE_MAX];
	size_t n_ours, ek, ak, need;
	int r;

	for (unsigned i = 0; i < m->n_notify; i++) {
		uint16_t t = m->notify[i].type;

		if (t <= IKEV2_N_ERROR_MAX) {
			char offered[160] = "";

			if (t == IKEV2_N_NO_PROPOSAL_CHOSEN)
				config_proposals_str(sa->p.prof->esp, sa->p.prof->n_esp, offered + 2,
						     sizeof(offered) - 2);
			if (offered[2]) {
				memcpy(offered, ": ", 2);
				snprintf(why, whylen, "gateway refused the tunnel (CHILD SA) with NO_PROPOSAL_CHOSEN: "
					 "it accepts none of kite's 'esp' proposals (%.80s)", offered + 2);
				return KITE_ERR_PROPOSAL;
			}
			snprintf(why, whylen, "gateway refused the tunnel (CHILD SA) with %s%s",
				 ikev2_notify_name(t),
				 t == IKEV2_N_NO_PROPOSAL_CHOSEN ? ": none of the 'esp' proposals is acceptable" :
				 t == IKEV2_N_TS_UNACCEPTABLE ? ": traffic selectors not acceptable" :
				 t == IKEV2_N_INTERNAL_ADDRESS_FAILURE ? ": no virtual IP available" : "");
			return KITE_ERR_PROPOSAL;
		}
	}
	if (!m->sa.p || !m->tsi.p || !m->tsr.p) {
		snprintf(why, whylen, "gateway's IKE_AUTH response carries no CHILD SA");
		return KITE_ERR_PROPOSAL;
	}
	n_ours = build_esp_proposals(sa, ours, KITE_ARRAY_SIZE(ours));
	if ((r = check_chosen(m->sa, ours, n_ours, IKEV2_PROTO_ESP, 4, &c, why, whylen)) != 0)
		return r;
	if (c.has_dh) {
		snprintf(why, whylen, "gateway put a DH group in the first CHILD SA");
		return KITE_ERR_PROPOSAL;
	}
	memset(ch, 0, sizeof(*ch));
	if (ikev2_pld_parse_ts(m->tsi, ch->tsi, IKE_MAX_TS, &ch->n_tsi) != 0 ||
	    ikev2_pld_parse_ts(m->tsr, ch->tsr, IKE_MAX_TS, &ch->n_tsr) != 0 ||
	    !ch->n_tsi || !ch->n_tsr) {
		snprintf(why, whylen, "gateway's traffic selectors are malformed");
		return KITE_ERR_PARSE;
	}
	ch->spi_in = sa->child_spi_in;
	ch->spi_out = (uint32_t)c.spi[0] << 24 | (uint32_t)c.spi[1] << 16 | (uint32_t)c.spi[2] << 8 | c.spi[3];
	ch->encr = c.encr;
	ch->encr_bits = c.encr_bits;
	ch->integ = c.has_integ ? c.integ : IKEV2_INTEG_NONE;
	ch->esn = c.has_esn && c.esn == IKEV2_ESN_YES;
	ek = crypto_aead_enc_key_len(ch->encr, ch->encr_bits);
	ak = crypto_encr_is_aead(ch->encr) ? 0 : crypto_aead_integ_key_len(ch->integ);
	if (!ek || ek > sizeof(ch->enc_in) || ak > sizeof(ch->integ_in)) {
		snprintf(why, whylen, "ESP algorithm not supported");
		return KITE_ERR_UNSUPPORTED;
	}
	/* KEYMAT = prf+(SK_d, Ni | Nr); initiator->responder keys first (RFC 7296 2.17). */
	memcpy(seed, sa->ni, sizeof(sa->ni));
	memcpy(seed + sizeof(sa->ni), sa->nr, sa->nr_len);
	need = 2 * (ek + ak);
	if (crypto_prf_plus(sa->prf, sa->sk_d, sa->prf_len, seed, sizeof(sa->ni) + sa->nr_len,
			    keymat, need) != 0) {
		snprintf(why, whylen, "CHILD SA key derivation failed");
		return KITE_ERR_CRYPTO;
	}
	memcpy(ch->enc_out, keymat, ek);
	memcpy(ch->integ_out, keymat + ek, ak);
	memcpy(ch->enc_in, keymat + ek + ak, ek);
	memcpy(ch->integ_in, keymat + 2 * ek + ak, ak);
	ch->enc_len = ek;
	ch->integ_len = ak;
	crypto_wipe(keymat, sizeof(keymat));
	return 0;
}

static void ike_handle_auth_resp(struct ike_sa *sa, struct ike_msg *m, uint64_t now)
{
	uint8_t idbody[4 + 256], expect[CRYPTO_MAX_PRF_LEN];
	const struct ike_notify *nt;
	char idb[300];

	if ((nt = ikev2_msg_notify(m, IKEV2_N_AUTHENTICATION_FAILED)) != NULL) {
		ike_fail(sa, IKE_FAIL_AUTH_LOCAL,
			 "authentication failed: the gateway rejected kite's credentials "
			 "(AUTHENTICATION_FAILED); check %s and local_id",
			 sa->p.prof->auth == KITE_AUTH_EAP ? "username and password" :
			 sa->p.prof->auth == KITE_AUTH_CERT ? "cert and key" : "psk_file");
		return;
	}
	if (sa->gw_verified) {
		/* EAP rounds after the gateway proved itself: no IDr any more. */
		ike_auth_eap_step(sa, m, now);
		return;
	}
	if (!m->idr.data.p || !m->auth.p) {
		for (unsigned i = 0; i < m->n_notify; i++) {
			if (m->notify[i].type <= IKEV2_N_ERROR_MAX) {
				ike_fail(sa, IKE_FAIL_PROTOCOL, "gateway refused IKE_AUTH with %s",
					 ikev2_notify_name(m->notify[i].type));
				return;
			}
		}
		ike_fail(sa, IKE_FAIL_PROTOCOL, "gateway's IKE_AUTH response lacks %s",
			 !m->idr.data.p ? "IDr" : "AUTH");
		return;
	}
	if (m->idr.data.p && m->idr.body.len <= sizeof(sa->idr_body)) {
		memcpy(sa->idr_body, m->idr.body.p, m->idr.body.len);
		sa->idr_body_len = m->idr.body.len;
		sa->idr_type = m->idr.type;
	}
	if (!id_matches(sa, &m->idr)) {
		ike_fail(sa, IKE_FAIL_AUTH_PEER,
			 "authentication failed: the gateway identified as '%s', expected remote_id '%s'",
			 ike_id_str(m->idr.type, m->idr.data.p, m->idr.data.len, idb, sizeof(idb)),
			 sa->p.prof->remote_id ? sa->p.prof->remote_id : sa->p.prof->gateway);
		return;
	}
	if (sa->p.prof->auth != KITE_AUTH_PSK) {
		ike_auth_eap_step(sa, m, now);
		return;
	}
	if (m->auth_method != IKEV2_AUTH_SHARED_KEY_MIC) {
		ike_fail(sa, IKE_FAIL_AUTH_PEER,
			 "authentication failed: the gateway used auth method %u, but auth = psk expects a PSK",
			 m->auth_method);
		return;
	}
	if (m->idr.body.len > sizeof(idbody)) {
		ike_fail(sa, IKE_FAIL_PROTOCOL, "gateway's IDr is too long");
		return;
	}
	memcpy(idbody, m->idr.body.p, m->idr.body.len);
	if (psk_auth(sa, sa->msg2, sa->msg2_len, sa->ni, sizeof(sa->ni), sa->sk_pr, idbody,
		     m->idr.body.len, expect) != 0) {
		ike_fail(sa, IKE_FAIL_INTERNAL, "cannot compute the expected AUTH");
		return;
	}
	if (m->auth.len != sa->prf_len || !crypto_ct_eq(expect, m->auth.p, sa->prf_len)) {
		crypto_wipe(expect, sizeof(expect));
		ike_fail(sa, IKE_FAIL_AUTH_PEER,
			 "authentication failed: the gateway's AUTH does not verify with kite's PSK "
			 "(the gateway has a different key, or is not who it claims to be)");
		return;
	}
	crypto_wipe(expect, sizeof(expect));
	ike_auth_done(sa, m, now);
}

/* The gateway is authenticated and IKE_AUTH is complete: MOBIKE, CP, the CHILD SA. */
static void ike_auth_done(struct ike_sa *sa, struct ike_msg *m, uint64_t now)
{
	char why[200], idb[300];
	int r;

	sa->peer_mobike = sa->p.prof->mobike && ikev2_msg_notify(m, IKEV2_N_MOBIKE_SUPPORTED) != NULL;
	mobike_auth_response(sa, m);
	sa->req_active = 0;
	/* The gateway is authenticated: from here on its payloads can be trusted. */
	parse_cfg_reply(sa, m);
	if ((r = ike_setup_child(sa, m, why, sizeof(why))) != 0) {
		log_err("%s", why);
		sa->fail = IKE_FAIL_CHILD;
		snprintf(sa->reason, sizeof(sa->reason), "%s", why);
		/* The IKE SA is up but useless without its CHILD SA: close it politely. */
		sa->task_active = IKE_TASK_DELETE;
		ike_send_delete(sa, now);
		return;
	}
	{
		char spi_i[17], spi_r[17], vip[64] = "none";

		for (int i = 0; i < 8; i++) {
			snprintf(spi_i + 2 * i, 3, "%02x", sa->spi_i[i]);
			snprintf(spi_r + 2 * i, 3, "%02x", sa->spi_r[i]);
		}
		if (sa->cfg.has_vip4)
			inet_ntop(AF_INET, sa->cfg.vip4, vip, sizeof(vip));
		if (sa->cfg.has_vip6) {
			size_t o = sa->cfg.has_vip4 ? strlen(vip) : 0;

			if (o)
				vip[o++] = ',';
			inet_ntop(AF_INET6, sa->cfg.vip6, vip + o, (socklen_t)(sizeof(vip) - o));
		}
		sa->t_established = now;
		log_info("IKE SA established in %llu ms: spi_i=%s spi_r=%s proposal=%s gateway=%s "
			 "virtual_ip=%s mobike=%s; CHILD SA %08x/%08x %s",
			 (unsigned long long)(now - sa->t_start), spi_i, spi_r, sa->proposal,
			 ike_id_str(sa->idr_type, sa->idr_body + 4, sa->idr_body_len - 4, idb, sizeof(idb)),
			 vip, sa->peer_mobike ? "yes" : "no", sa->child.spi_in, sa->child.spi_out,
			 ikev2_encr_name(sa->child.encr));
	}
	ike_set_state(sa, IKE_STATE_ESTABLISHED, NULL);
	ike_child_added(sa, &sa->child, now);
	ike_child_auth_done(sa, m, now);	/* rekey hook: AUTH_LIFETIME (RFC 4478) */
	if (sa->ops->child_up && sa->ops->child_up(sa->ctx, sa, &sa->child, &sa->cfg) != 0) {
		sa->fail = IKE_FAIL_INTERNAL;
		snprintf(sa->reason, sizeof(sa->reason), "cannot install the CHILD SA");
		ike_task_queue(sa, IKE_TASK_DELETE, now);
	}
	crypto_wipe(sa->child.enc_in, sizeof(sa->child.enc_in));
	crypto_wipe(sa->child.enc_out, sizeof(sa->child.enc_out));
	crypto_wipe(sa->child.integ_in, sizeof(sa->child.integ_in));
	crypto_wipe(sa->child.integ_out, sizeof(sa->child.integ_out));
}

/*
 * Certificate-authenticated gateway, then EAP (RFC 7296 2.16). The first
 * response must prove the gateway (certificate chain to `ca`, identity in the
 * certificate and equal to remote_id, AUTH signature) before kite sends any
 * EAP response; then EAP rounds; then our AUTH from the MSK, and the
 * gateway's second AUTH (from the MSK too) before the CHILD SA is used.
 */
static int eap_send(struct ike_sa *sa, uint8_t pld, const uint8_t *data, size_t len, uint8_t method,
		    uint64_t now)
{
	struct ike_enc e;
	int r;

	ikev2_enc_init_inner(&e, sa->work, sizeof(sa->work));
	if (pld == IKEV2_PLD_EAP)
		ikev2_enc_eap(&e, data, len);
	else
		ikev2_enc_auth(&e, method, data, len);
	if ((r = ike_req_build(sa, IKEV2_EXCH_IKE_AUTH, &e)) != 0)
		return r;
	crypto_wipe(sa->work, e.w.len);
	return ike_req_send(sa, now);
}

static int gw_cert_verify(struct ike_sa *sa, struct ike_msg *m)
{
	const uint8_t *certs[IKE_MAX_CERT];
	size_t lens[IKE_MAX_CERT], n = 0, so_len = 0;
	struct x509_cert *ee = NULL;
	char reason[X509_REASON_LEN], idb[300] = "";
	uint8_t *so;
	int r;

	if (!sa->p.ca) {
		ike_fail(sa, IKE_FAIL_AUTH_PEER, "no 'ca' configured to verify the gateway's certificate");
		return KITE_ERR_VERIFY;
	}
	for (unsigned i = 0; i < m->n_cert && n < IKE_MAX_CERT; i++) {
		if (m->cert[i].len > 1 && m->cert[i].p[0] == IKEV2_CERT_X509_SIG) {
			certs[n] = m->cert[i].p + 1;
			lens[n++] = m->cert[i].len - 1;
		}
	}
	if (!n) {
		ike_fail(sa, IKE_FAIL_AUTH_PEER,
			 "authentication failed: the gateway sent no certificate (it must authenticate with one)");
		return KITE_ERR_VERIFY;
	}
	if (x509_verify_chain(sa->p.ca, certs, lens, n, time(NULL), &ee, reason, sizeof(reason)) != 0) {
		ike_fail(sa, IKE_FAIL_AUTH_PEER, "the gateway's certificate is not trusted: %s", reason);
		return KITE_ERR_VERIFY;
	}
	if (x509_id_match(ee, m->idr.type, m->idr.data.p, m->idr.data.len, reason, sizeof(reason)) != 0) {
		x509_cert_free(ee);
		ike_fail(sa, IKE_FAIL_AUTH_PEER, "the gateway's certificate does not match its identity '%s': %s",
			 ike_id_str(m->idr.type, m->idr.data.p, m->idr.data.len, idb, sizeof(idb)), reason);
		return KITE_ERR_VERIFY;
	}
	so = signed_octets(sa, sa->msg2, sa->msg2_len, sa->ni, sizeof(sa->ni), sa->sk_pr,
			   m->idr.body.p, m->idr.body.len, &so_len);
	if (!so) {
		x509_cert_free(ee);
		ike_fail(sa, IKE_FAIL_INTERNAL, "out of memory");
		return KITE_ERR_NOMEM;
	}
	r = x509_verify_auth(ee, m->auth_method, m->auth.p, m->auth.len, so, so_len, reason, sizeof(reason));
	free(so);
	x509_cert_free(ee);
	if (r != 0) {
		ike_fail(sa, IKE_FAIL_AUTH_PEER,
			 "authentication failed: the gateway's signature does not verify: %s", reason);
		return KITE_ERR_VERIFY;
	}
	log_info("gateway '%s' authenticated by certificate", idb[0] ? idb :
		 ike_id_str(m->idr.type, m->idr.data.p, m->idr.data.len, idb, sizeof(idb)));
	sa->gw_verified = 1;
	return 0;
}

static void ike_auth_eap_step(struct ike_sa *sa, struct ike_msg *m, uint64_t now)
{
	uint8_t resp[EAP_MAX_RESPONSE], auth[CRYPTO_MAX_PRF_LEN];
	size_t rl = 0;
	enum eap_status st;

	if (!sa->gw_verified) {
		if (m->auth_method == IKEV2_AUTH_SHARED_KEY_MIC) {
			/* RFC 7296 2.16: a PSK-authenticated gateway is acceptable only with auth = psk. */
			ike_fail(sa, IKE_FAIL_AUTH_PEER, "the gateway authenticated with a PSK, but auth = %s "
				 "requires a gateway certificate (RFC 7296 2.16)",
				 sa->p.prof->auth == KITE_AUTH_EAP ? "eap" : "cert");
			return;
		}
		if (gw_cert_verify(sa, m) != 0)
			return;
	}
	if (sa->p.prof->auth == KITE_AUTH_CERT) {
		sa->req_active = 0;
		ike_auth_done(sa, m, now);
		return;
	}
	if (sa->eap_done) {
		/* The gateway's AUTH with the MSK over its IKE_SA_INIT response (RFC 7296 2.16). */
		if (!m->auth.p || m->auth_method != IKEV2_AUTH_SHARED_KEY_MIC ||
		    key_auth(sa, sa->msk, sa->msk_len, sa->msg2, sa->msg2_len, sa->ni, sizeof(sa->ni),
			     sa->sk_pr, sa->idr_body, sa->idr_body_len, auth) != 0 ||
		    m->auth.len != sa->prf_len || !crypto_ct_eq(auth, m->auth.p, sa->prf_len)) {
			ike_fail(sa, IKE_FAIL_AUTH_PEER,
				 "authentication failed: the gateway's final AUTH does not match the EAP key");
			return;
		}
		crypto_wipe(sa->msk, sizeof(sa->msk));
		sa->req_active = 0;
		ike_auth_done(sa, m, now);
		return;
	}
	if (!m->eap.p) {
		ike_fail(sa, IKE_FAIL_PROTOCOL, "the gateway sent no EAP request (is EAP enabled for kite's identity?)");
		return;
	}
	if (!sa->eap) {
		sa->eap = eap_new(sa->p.prof->eap_method == KITE_EAP_MD5 ? EAP_TYPE_MD5 : EAP_TYPE_MSCHAPV2,
				  sa->p.prof->username ? sa->p.prof->username : "", sa->psk, sa->p.psk_len);
		if (!sa->eap) {
			ike_fail(sa, IKE_FAIL_INTERNAL, "cannot start EAP");
			return;
		}
	}
	st = eap_input(sa->eap, m->eap.p, m->eap.len, resp, sizeof(resp), &rl);
	sa->req_active = 0;
	switch (st) {
	case EAP_CONTINUE:
		if (eap_send(sa, IKEV2_PLD_EAP, resp, rl, 0, now) != 0)
			ike_fail(sa, IKE_FAIL_INTERNAL, "cannot build the EAP response");
		crypto_wipe(resp, sizeof(resp));
		return;
	case EAP_SUCCESS:
		sa->msk_len = sizeof(sa->msk);
		if (eap_msk(sa->eap, sa->msk, &sa->msk_len) != 0) {
			/* A method without keys: SK_pi / SK_pr stand in (RFC 7296 2.16). */
			log_warn("EAP method derives no key: the gateway is authenticated by its certificate only");
			memcpy(sa->msk, sa->sk_pi, sa->prf_len);
			sa->msk_len = sa->prf_len;
			sa->msk_is_skp = 1;
		}
		eap_free(sa->eap);
	frag_set_clear(&sa->req_frags);
	frag_reset(&sa->frag_rx);
	free(sa->frag_whole);
		sa->eap = NULL;
		sa->eap_done = 1;
		log_info("EAP authentication succeeded");
		if (key_auth(sa, sa->msk, sa->msk_len, sa->msg1, sa->msg1_len, sa->nr, sa->nr_len,
			     sa->sk_pi, sa->idi_body, sa->idi_body_len, auth) != 0 ||
		    eap_send(sa, IKEV2_PLD_AUTH, auth, sa->prf_len, IKEV2_AUTH_SHARED_KEY_MIC, now) != 0)
			ike_fail(sa, IKE_FAIL_INTERNAL, "cannot build the final AUTH");
		crypto_wipe(auth, sizeof(auth));
		if (sa->msk_is_skp) {
			memcpy(sa->msk, sa->sk_pr, sa->prf_len);
		}
		return;
	default:
		ike_fail(sa, IKE_FAIL_AUTH_LOCAL, "EAP authentication failed: %s (check username and password)",
			 eap_reason(sa->eap));
		return;
	}
}

/* ---- INFORMATIONAL ---- */

int ike_req_build(struct ike_sa *sa, uint8_t exch, const struct ike_enc *e)
{
	size_t len;
	int r;

	if (!wbuf_ok(&e->w))
		return KITE_ERR_INVAL;
	r = ike_fragment(sa, exch, sa->msgid_next, e->first, e->w.p, e->w.len);
	if (r < 0)
		return r;
	len = 0;
	if (r == 0 && (r = ike_seal_msg(sa, exch, 0, sa->msgid_next, e->first, e->w.p, e->w.len,
					sa->req, sizeof(sa->req), &len)) != 0)
		return r;
	sa->req_len = len;
	sa->req_natt = sa->natt;
	sa->req_exch = exch;
	sa->req_msgid = sa->msgid_next++;
	return 0;
}

static int ike_send_delete(struct ike_sa *sa, uint64_t now)
{
	struct ike_enc e;

	ikev2_enc_init_inner(&e, sa->work, sizeof(sa->work));
	ikev2_enc_delete(&e, IKEV2_PROTO_IKE, 0, NULL, 0);
	if (ike_req_build(sa, IKEV2_EXCH_INFORMATIONAL, &e) != 0) {
		ike_fail(sa, IKE_FAIL_INTERNAL, "cannot build DELETE");
		return KITE_ERR_INVAL;
	}
	ike_set_state(sa, IKE_STATE_DELETING, NULL);
	log_info("sending DELETE for the IKE SA");
	return ike_req_send(sa, now);
}

/* A liveness check: an empty INFORMATIONAL request (RFC 7296 1.4, 2.4). */
static int ike_send_dpd(struct ike_sa *sa, uint64_t now)
{
	struct ike_enc e;
	int r;

	ikev2_enc_init_inner(&e, sa->work, sizeof(sa->work));
	mobike_add_natd(sa, &e);
	if ((r = ike_req_build(sa, IKEV2_EXCH_INFORMATIONAL, &e)) != 0)
		return r;
	log_debug("liveness check (message %u)", sa->req_msgid);
	return ike_req_send(sa, now);
}

static int ike_task_start(struct ike_sa *sa, unsigned task, uint64_t now)
{
	switch (task) {
	case IKE_TASK_DELETE:
		return ike_send_delete(sa, now);
	case IKE_TASK_DPD:
		return ike_send_dpd(sa, now);
	case IKE_TASK_IKE_REKEY:
	case IKE_TASK_CHILD_REKEY:
		return ike_child_task_start(sa, task, now);
	case IKE_TASK_MOBIKE:
		return mobike_task_start(sa, now);
	default:
		return KITE_ERR_INVAL;
	}
}

/* Start queued work while no request is outstanding, highest priority (lowest bit) first. */
static void ike_task_next(struct ike_sa *sa, uint64_t now)
{
	while (!sa->req_active && sa->tasks &&
	       (sa->state == IKE_STATE_ESTABLISHED || sa->state == IKE_STATE_DELETING)) {
		unsigned t = sa->tasks & (~sa->tasks + 1);

		sa->tasks &= ~t;
		if (sa->state == IKE_STATE_DELETING && t != IKE_TASK_DELETE)
			continue;	/* closing: nothing else is worth starting */
		sa->task_active = t;
		if (ike_task_start(sa, t, now) != 0 || !sa->req_active)
			sa->task_active = 0;
	}
}

void ike_task_queue(struct ike_sa *sa, unsigned task, uint64_t now)
{
	sa->tasks |= task;
	ike_task_next(sa, now);
}

int ike_delete(struct ike_sa *sa, uint64_t now)
{
	switch (sa->state) {
	case IKE_STATE_ESTABLISHED:
		/* One request at a time: an outstanding one is answered (or given up) first. */
		ike_task_queue(sa, IKE_TASK_DELETE, now);
		return 0;
	case IKE_STATE_DELETING:
	case IKE_STATE_DOWN:
		return 0;
	default:
		sa->fail = IKE_FAIL_NONE;
		snprintf(sa->reason, sizeof(sa->reason), "closed before established");
		sa->req_active = 0;
		ike_set_state(sa, IKE_STATE_DOWN, sa->reason);
		return 0;
	}
}

int ike_dpd(struct ike_sa *sa, uint64_t now)
{
	if (sa->state != IKE_STATE_ESTABLISHED)
		return KITE_ERR_INVAL;
	ike_task_queue(sa, IKE_TASK_DPD, now);
	return 0;
}

/* Answer a request from the gateway (INFORMATIONAL, CREATE_CHILD_SA). */
static void ike_handle_request(struct ike_sa *sa, struct ike_msg *m, int natt, uint64_t now)
{
	struct ike_enc e;
	size_t len;
	int deleted = 0, r;
	uint32_t msgid = m->hdr.msgid;

	if (sa->resp_valid && msgid + 1 == sa->peer_msgid_next) {
		/* Retransmitted request: the cached answer, never rebuilt (RFC 7296 2.1). */
		log_debug("retransmitted request %u: resending the cached response", msgid);
		ike_send_raw(sa, sa->resp, sa->resp_len, sa->resp_natt);
		return;
	}
	if (msgid != sa->peer_msgid_next) {
		log_debug("request with message ID %u, expected %u: dropped", msgid, sa->peer_msgid_next);
		sa->st.rx_dropped++;
		return;
	}
	if ((r = ike_open_msg(sa, m)) > 0)
		return;		/* a fragment: the rest is still to come */
	if (r != 0) {
		log_debug("request %u dropped: %s", msgid, kite_strerror(r));
		sa->st.rx_dropped++;
		return;
	}
	sa->last_rx = now;
	ikev2_enc_init_inner(&e, sa->work, sizeof(sa->work));
	if (m->hdr.exchange == IKEV2_EXCH_INFORMATIONAL) {
		for (unsigned i = 0; i < m->n_delete; i++) {
			if (m->del[i].proto == IKEV2_PROTO_IKE)
				deleted = 1;
		}
		if (!deleted)
			ike_child_handle_delete(sa, m, &e, now);
		if (m->n_delete == 0 && m->n_notify == 0)
			log_debug("liveness check from the gateway answered");
	} else if (m->hdr.exchange == IKEV2_EXCH_CREATE_CHILD_SA) {
		ike_child_handle_request(sa, m, &e, now);
	}
	if (!wbuf_ok(&e.w) ||
	    ike_seal_msg(sa, m->hdr.exchange, 1, msgid, e.first, sa->work, e.w.len, sa->resp,
			 sizeof(sa->resp), &len) != 0) {
		sa->st.rx_dropped++;
		return;
	}
	sa->resp_len = len;
	sa->resp_valid = 1;
	sa->resp_natt = natt;
	sa->peer_msgid_next = msgid + 1;
	ike_send_raw(sa, sa->resp, sa->resp_len, natt);
	if (deleted)
		ike_fail(sa, IKE_FAIL_DELETED, "the gateway closed the connection (DELETE)");
}

void ike_input(struct ike_sa *sa, const uint8_t *buf, size_t len, int natt, uint64_t now)
{
	struct ike_msg m;
	int r;

	sa->now = now;

	if (ike_child_divert(sa, buf, len, natt, now))	/* rekey hook: old IKE SAs, reauthentication */
		return;
	sa->st.rx_msgs++;
	if (sa->state == IKE_STATE_DOWN || sa->state == IKE_STATE_IDLE || len > sizeof(sa->rx)) {
		sa->st.rx_dropped++;
		return;
	}
	memcpy(sa->rx, buf, len);
	r = ikev2_pld_parse(sa->rx, len, &m);
	if (r != 0) {
		log_debug("dropped a malformed message (%zu bytes): %s", len, kite_strerror(r));
		sa->st.rx_dropped++;
		return;
	}
	/* rekey hook: the gateway sets the Initiator flag once it is the original initiator */
	if (memcmp(m.hdr.spi_i, sa->spi_i, 8) != 0 ||
	    !(m.hdr.flags & IKEV2_FLAG_INITIATOR) != !sa->orig_resp) {
		log_debug("dropped: unknown SPIi or initiator flag set");
		sa->st.rx_dropped++;
		return;
	}
	if (!(m.hdr.flags & IKEV2_FLAG_RESPONSE)) {
		/* A request from the gateway: only once we are established. */
		if ((sa->state != IKE_STATE_ESTABLISHED && sa->state != IKE_STATE_DELETING) ||
		    memcmp(m.hdr.spi_r, sa->spi_r, 8) != 0 ||
		    (m.hdr.exchange != IKEV2_EXCH_INFORMATIONAL &&
		     m.hdr.exchange != IKEV2_EXCH_CREATE_CHILD_SA)) {
			log_debug("dropped a %s request in state %s", ikev2_exchange_name(m.hdr.exchange),
				  ike_state_name(sa->state));
			sa->st.rx_dropped++;
			return;
		}
		ike_handle_request(sa, &m, natt, now);
		ike_child_request_done(sa, now);	/* rekey hook: a gateway IKE rekey takes effect */
		return;
	}
	/* A response: must answer our outstanding request. */
	if (!sa->req_active || m.hdr.msgid != sa->req_msgid || m.hdr.exchange != sa->req_exch) {
		log_debug("dropped a response (%s, ID %u) that answers nothing outstanding",
			  ikev2_exchange_name(m.hdr.exchange), m.hdr.msgid);
		sa->st.rx_dropped++;
		return;
	}
	if (sa->req_exch == IKEV2_EXCH_IKE_SA_INIT) {
		if (m.has_sk) {
			sa->st.rx_dropped++;
			return;
		}
		ike_handle_init_resp(sa, &m, now);
		return;
	}
	if (memcmp(m.hdr.spi_r, sa->spi_r, 8) != 0) {
		sa->st.rx_dropped++;
		return;
	}
	r = ike_open_msg(sa, &m);
	if (r > 0)
		return;		/* a fragment: the rest is still to come */
	if (r == KITE_ERR_VERIFY || (r != 0 && !m.encrypted)) {
		/* Bad ICV or framing: drop; a genuine copy may follow (reliability.md F41). */
		log_debug("dropped a response: %s", kite_strerror(r));
		sa->st.rx_dropped++;
		return;
	}
	if (r != 0) {
		/* Authenticated but malformed inside: the SA cannot continue (RFC 7296 2.21). */
		ike_fail(sa, IKE_FAIL_PROTOCOL, "gateway sent a malformed %s response",
			 ikev2_exchange_name(m.hdr.exchange));
		return;
	}
	sa->last_rx = now;
	if (sa->req_exch == IKEV2_EXCH_IKE_AUTH) {
		ike_handle_auth_resp(sa, &m, now);
		ike_task_next(sa, now);
		return;
	}
	{
		unsigned t = sa->task_active;

		sa->req_active = 0;
		sa->task_active = 0;
		switch (t) {
		case IKE_TASK_DELETE:
			if (sa->fail == IKE_FAIL_NONE)
				snprintf(sa->reason, sizeof(sa->reason), "closed");
			ike_set_state(sa, IKE_STATE_DOWN, sa->reason);
			return;
		case IKE_TASK_DPD:
			log_debug("the gateway answered the liveness check");
			mobike_check_natd(sa, &m, now);
			break;
		case IKE_TASK_MOBIKE:
			mobike_task_response(sa, &m, now);
			break;
		case IKE_TASK_IKE_REKEY:
		case IKE_TASK_CHILD_REKEY:
			ike_child_task_response(sa, t, &m, now);
			break;
		default:
			break;
		}
	}
	ike_task_next(sa, now);
}

void ike_timeout(struct ike_sa *sa, uint64_t now)
{
	unsigned max = sa->p.prof->retransmit_tries;

	if (sa->state == IKE_STATE_ESTABLISHED) {
		ike_child_timeout(sa, now);
		ike_task_next(sa, now);
	}
	if (!sa->req_active || now < sa->req_deadline)
		return;
	if (sa->req_tries >= max) {
		if (sa->pending_fail) {
			ike_fail(sa, sa->pending_code, "%s", sa->pending_reason);
			return;
		}
		if (sa->state == IKE_STATE_DELETING) {
			if (sa->fail == IKE_FAIL_NONE)
				snprintf(sa->reason, sizeof(sa->reason), "closed (the gateway did not answer the DELETE)");
			sa->req_active = 0;
			ike_set_state(sa, IKE_STATE_DOWN, sa->reason);
			return;
		}
		if (sa->state == IKE_STATE_ESTABLISHED) {
			ike_fail(sa, IKE_FAIL_TIMEOUT, "the gateway stopped answering (%u tries over %llu s)",
				 max + 1, (unsigned long long)((now - sa->req_first) / 1000));
			return;
		}
		ike_fail(sa, IKE_FAIL_TIMEOUT,
			 "no response from the gateway after %u tries: is it reachable and running IKEv2 on UDP port %u?",
			 max + 1, sa->req_natt ? IKEV2_NATT_PORT : sa->p.prof->gateway_port);
		return;
	}
	sa->req_tries++;
	sa->st.retransmits++;
	sa->req_deadline = now + ike_backoff(sa, sa->req_tries);
	log_debug("retransmitting %s request %u (try %u of %u)", ikev2_exchange_name(sa->req_exch),
		  sa->req_msgid, sa->req_tries + 1, max + 1);
	ike_req_xmit(sa);
}

uint64_t ike_next_timeout(const struct ike_sa *sa)
{
	uint64_t t = UINT64_MAX, c;

	if (sa->state == IKE_STATE_DOWN)
		return UINT64_MAX;
	if (sa->req_active)
		t = sa->req_deadline;
	if (sa->state == IKE_STATE_ESTABLISHED && (c = ike_child_next_timeout(sa)) < t)
		t = c;
	return t;
}

/* ---- lifecycle ---- */

struct ike_sa *ike_sa_new(const struct ike_params *p, const struct ike_ops *ops, void *ctx)
{
	struct ike_sa *sa;

	if (!p || !p->prof || !ops || !ops->send)
		return NULL;
	if ((sa = calloc(1, sizeof(*sa))) == NULL)
		return NULL;
	sa->p = *p;
	sa->ops = ops;
	sa->ctx = ctx;
	if (p->psk_len) {
		if ((sa->psk = malloc(p->psk_len)) == NULL) {
			free(sa);
			return NULL;
		}
		memcpy(sa->psk, p->psk, p->psk_len);
	}
	sa->p.psk = NULL;
	frag_init(&sa->frag_rx, FRAG_MAX_BYTES, FRAG_TIMEOUT_MS);
	if (crypto_random(sa->spi_i, sizeof(sa->spi_i)) != 0 ||
	    crypto_random(sa->ni, sizeof(sa->ni)) != 0) {
		ike_sa_free(sa);
		return NULL;
	}
	return sa;
}

void ike_sa_free(struct ike_sa *sa)
{
	if (!sa)
		return;
	ike_child_free(sa);	/* rekey hook: old IKE SAs, reauthentication, DH contexts */
	crypto_dh_free(sa->dh);
	crypto_aead_free(sa->sk_out);
	crypto_aead_free(sa->sk_in);
	eap_free(sa->eap);
	if (sa->psk) {
		crypto_wipe(sa->psk, sa->p.psk_len);
		free(sa->psk);
	}
	free(sa->msg1);
	free(sa->msg2);
	crypto_wipe(sa, sizeof(*sa));
	free(sa);
}

enum ike_state ike_sa_state(const struct ike_sa *sa)
{
	return sa->state;
}

enum ike_fail ike_sa_fail(const struct ike_sa *sa)
{
	return sa->fail;
}

const char *ike_sa_reason(const struct ike_sa *sa)
{
	return sa->reason;
}

const struct ike_stats *ike_sa_stats(const struct ike_sa *sa)
{
	return &sa->st;
}

void ike_sa_spis(const struct ike_sa *sa, uint8_t spi_i[8], uint8_t spi_r[8])
{
	memcpy(spi_i, sa->spi_i, 8);
	memcpy(spi_r, sa->spi_r, 8);
}

const char *ike_sa_proposal(const struct ike_sa *sa)
{
	return sa->proposal;
}

int ike_sa_nat_local(const struct ike_sa *sa)
{
	return sa->nat_local;
}

int ike_sa_nat_remote(const struct ike_sa *sa)
{
	return sa->nat_remote;
}

int ike_sa_natt(const struct ike_sa *sa)
{
	return sa->natt;
}
