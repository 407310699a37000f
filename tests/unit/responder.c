/*
 * responder: a scripted IKEv2 responder for exchange tests. See responder.h.
 *
 * Every message is parsed with ikev2_pld (so the responder also checks what
 * kite sends) and built with ikev2_enc; the SK payload is laid out here, as
 * RFC 7296 3.14 draws it, because the encoder has no SK builder:
 *
 *   IKE header | SK generic header | IV | ciphertext(inner | pad | pad length) | ICV
 *   AAD (AEAD) / MAC input prefix (CBC+HMAC) = IKE header .. end of the SK generic header
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "ikev2.h"
#include "ikev2_enc.h"
#include "ikev2_pld.h"
#include "kbuf.h"
#include "kite.h"
#include "responder.h"

#define RESP_UNKNOWN_PLD	120	/* unassigned payload type (RFC 7296 3.2: 54-127) */

static const char resp_other_id[] = "evil.kite.test";
static const uint8_t resp_wrong_psk[] = "not-the-right-psk-0123456789";

/* ---- helpers ---- */

static void resp_errf(struct resp *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void resp_errf(struct resp *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
}

/* splitmix64: repeatable nonces, SPIs and IVs. */
static uint64_t resp_rng_next(struct resp *r)
{
	uint64_t z = (r->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void resp_rng_bytes(struct resp *r, uint8_t *out, size_t n)
{
	while (n) {
		uint64_t v = resp_rng_next(r);

		for (int i = 0; i < 8 && n; i++, n--) {
			*out++ = (uint8_t)v;
			v >>= 8;
		}
	}
}

static void resp_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t resp_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void resp_out_add(struct resp *r, const uint8_t *buf, size_t len)
{
	if (r->n_out >= RESP_MAX_OUT || len > sizeof(r->out[0].buf))
		return;
	memcpy(r->out[r->n_out].buf, buf, len);
	r->out[r->n_out].len = len;
	r->n_out++;
}

/* SHA-1(SPIi | SPIr | IPv4 | port) (RFC 7296 2.23). */
static int resp_natd(const uint8_t spi_i[8], const uint8_t spi_r[8], const uint8_t ip[4],
		     uint16_t port, uint8_t out[20])
{
	uint8_t spis[16], ap[6];

	memcpy(spis, spi_i, 8);
	memcpy(spis + 8, spi_r, 8);
	memcpy(ap, ip, 4);
	ap[4] = (uint8_t)(port >> 8);
	ap[5] = (uint8_t)port;
	return crypto_sha1(spis, sizeof(spis), ap, sizeof(ap), out);
}

void resp_init(struct resp *r, const uint8_t *psk, size_t psk_len, uint64_t seed)
{
	static const char id[] = "gw.kite.test";

	memset(r, 0, sizeof(*r));
	if (psk_len > sizeof(r->psk))
		psk_len = sizeof(r->psk);
	memcpy(r->psk, psk, psk_len);
	r->psk_len = psk_len;
	r->id_type = IKEV2_ID_FQDN;
	memcpy(r->id, id, sizeof(id) - 1);
	r->id_len = sizeof(id) - 1;
	memcpy(r->self_ip, (const uint8_t[4]){ 198, 51, 100, 1 }, 4);
	memcpy(r->peer_ip, (const uint8_t[4]){ 198, 51, 100, 10 }, 4);
	r->self_port = IKEV2_PORT;
	r->peer_port = IKEV2_PORT;
	r->rng = seed;
}

static void resp_ctx_free(struct resp_ikectx *c)
{
	crypto_aead_free(c->aead_i);
	crypto_aead_free(c->aead_r);
	c->aead_i = c->aead_r = NULL;
	c->valid = 0;
}

static void resp_drop_sa(struct resp *r)
{
	crypto_aead_free(r->aead_i);
	crypto_aead_free(r->aead_r);
	crypto_dh_free(r->dh);
	crypto_dh_free(r->rq_dh);
	r->aead_i = r->aead_r = NULL;
	r->dh = NULL;
	r->rq_dh = NULL;
	r->have_sa = 0;
	r->orig_init = 0;
	resp_ctx_free(&r->old);
	resp_ctx_free(&r->alt);
	memset(r->children, 0, sizeof(r->children));
}

void resp_free(struct resp *r)
{
	if (!r)
		return;
	resp_drop_sa(r);
	crypto_wipe(r, sizeof(*r));
}

/* ---- proposal selection (RFC 7296 2.7) ---- */

static int resp_has_dh(const struct ike_proposal *p, uint16_t group)
{
	for (unsigned i = 0; i < p->n_xf; i++)
		if (p->xf[i].type == IKEV2_XFORM_DH && p->xf[i].id == group)
			return 1;
	return 0;
}

/*
 * The first supported transform of each type in p; for IKE, DH = dh if
 * non-zero (and offered), else the first supported group. 1 if acceptable.
 */
static int resp_pick(const struct ike_proposal *p, int is_esp, uint16_t dh, struct resp_suite *s)
{
	int has_encr = 0, has_integ = 0, has_prf = 0, has_dh = 0, aead;

	memset(s, 0, sizeof(*s));
	s->num = p->num;
	for (unsigned i = 0; i < p->n_xf; i++) {
		const struct ike_transform *t = &p->xf[i];

		switch (t->type) {
		case IKEV2_XFORM_ENCR:
			if (!has_encr && crypto_aead_enc_key_len(t->id, t->key_bits)) {
				has_encr = 1;
				s->encr = t->id;
				s->encr_bits = t->key_bits;
			}
			break;
		case IKEV2_XFORM_PRF:
			if (!has_prf && crypto_prf_len(t->id)) {
				has_prf = 1;
				s->prf = t->id;
			}
			break;
		case IKEV2_XFORM_INTEG:
			if (!has_integ && t->id != IKEV2_INTEG_NONE && crypto_aead_integ_key_len(t->id)) {
				has_integ = 1;
				s->integ = t->id;
			}
			break;
		case IKEV2_XFORM_DH:
			if (!has_dh && (!dh || t->id == dh) && crypto_dh_supported(t->id)) {
				has_dh = 1;
				s->dh = t->id;
			}
			break;
		case IKEV2_XFORM_ESN:
			if (!s->has_esn) {
				s->has_esn = 1;
				s->esn = t->id;
			}
			break;
		}
	}
	if (!has_encr)
		return 0;
	aead = crypto_encr_is_aead(s->encr);
	if (aead)
		s->integ = IKEV2_INTEG_NONE;
	else if (!has_integ)
		return 0;
	if (is_esp)
		return 1;
	return has_prf && has_dh;
}

/* The one proposal we answer with (plus impairments). */
static size_t resp_suite_proposals(const struct resp *r, const struct resp_suite *s, int is_esp,
				   const uint8_t *spi, struct ike_proposal *out)
{
	struct ike_proposal *p = &out[0];
	unsigned x = 0;
	int replaced = 0;

	memset(p, 0, sizeof(*p));
	p->num = s->num;
	p->proto = is_esp ? IKEV2_PROTO_ESP : IKEV2_PROTO_IKE;
	if (is_esp) {
		p->spi_size = 4;
		memcpy(p->spi, spi, 4);
	}
	p->xf[x++] = (struct ike_transform){ IKEV2_XFORM_ENCR, s->encr, s->encr_bits };
	if (!is_esp)
		p->xf[x++] = (struct ike_transform){ IKEV2_XFORM_PRF, s->prf, 0 };
	if (!crypto_encr_is_aead(s->encr))
		p->xf[x++] = (struct ike_transform){ IKEV2_XFORM_INTEG, s->integ, 0 };
	if (!is_esp && !(r->imp & RESP_IMP_NO_DH))
		p->xf[x++] = (struct ike_transform){ IKEV2_XFORM_DH, s->dh, 0 };
	if (is_esp && s->has_esn)
		p->xf[x++] = (struct ike_transform){ IKEV2_XFORM_ESN, s->esn, 0 };
	p->n_xf = (uint8_t)x;
	if ((r->imp & RESP_IMP_UNOFFERED) && !r->imp_xf_esp == !is_esp) {
		for (unsigned i = 0; i < p->n_xf; i++) {
			if (p->xf[i].type == r->imp_xf_type) {
				p->xf[i].id = r->imp_xf_id;
				p->xf[i].key_bits = 0;
				replaced = 1;
			}
		}
		if (!replaced && p->n_xf < IKE_MAX_TRANSFORMS)
			p->xf[p->n_xf++] = (struct ike_transform){ r->imp_xf_type, r->imp_xf_id, 0 };
	}
	if (r->imp & RESP_IMP_TWO_PROPOSALS) {
		out[1] = out[0];
		out[1].num = (uint8_t)(p->num + 1);
		return 2;
	}
	return 1;
}

/* ---- SK payload ---- */

/*
 * Seal inner (first payload type 'first') into out as a complete message.
 * Wire impairments in imp apply. Returns the length, 0 on error.
 */
static size_t resp_seal(struct resp *r, uint32_t imp, uint8_t exch, uint8_t flags, uint32_t msgid,
			uint8_t first, const uint8_t *inner, size_t inner_len, uint8_t *out, size_t cap)
{
	size_t ivl = crypto_aead_iv_len(r->aead_r), icvl = crypto_aead_icv_len(r->aead_r);
	size_t bl = crypto_aead_block_len(r->aead_r), pad = 0, pt, total, hdr_len;
	uint8_t spi_i[8];
	struct wbuf w;

	if (bl > 1)
		pad = (bl - (inner_len + 1) % bl) % bl;
	pt = inner_len + pad + 1;
	hdr_len = IKEV2_HDR_LEN + IKEV2_PLD_HDR_LEN;
	total = hdr_len + ivl + pt + icvl;
	if (total > cap)
		return 0;
	memcpy(spi_i, r->spi_i, 8);
	if (imp & RESP_IMP_BAD_SPI_I)
		spi_i[7] ^= 0x01;
	if (r->orig_init)	/* after our own IKE SA rekey (RFC 7296 2.18) */
		flags |= IKEV2_FLAG_INITIATOR;
	if (imp & RESP_IMP_NO_RFLAG)
		flags &= (uint8_t)~IKEV2_FLAG_RESPONSE;
	if (imp & RESP_IMP_WRONG_MSGID)
		msgid++;
	wbuf_init(&w, out, cap);
	wbuf_put_bytes(&w, spi_i, 8);
	wbuf_put_bytes(&w, r->spi_r, 8);
	wbuf_put_u8(&w, IKEV2_PLD_SK);
	wbuf_put_u8(&w, IKEV2_VERSION);
	wbuf_put_u8(&w, exch);
	wbuf_put_u8(&w, flags);
	wbuf_put_u32(&w, msgid);
	wbuf_put_u32(&w, (uint32_t)total);
	wbuf_put_u8(&w, first);
	wbuf_put_u8(&w, 0);
	wbuf_put_u16(&w, (uint16_t)(total - IKEV2_HDR_LEN));
	wbuf_reserve(&w, ivl + pt + icvl);
	if (!wbuf_ok(&w) || w.len != total)
		return 0;
	{
		uint8_t *iv = out + hdr_len, *ct = iv + ivl;

		resp_rng_bytes(r, iv, ivl);
		iv[0] = ++r->iv_ctr;	/* distinct IVs even if the seed repeats */
		memcpy(ct, inner, inner_len);
		memset(ct + inner_len, 0, pad);
		ct[inner_len + pad] = (uint8_t)pad;
		if (crypto_aead_seal(r->aead_r, iv, out, hdr_len, ct, pt, ct + pt) != 0)
			return 0;
	}
	if (imp & RESP_IMP_CORRUPT_ICV)
		out[total - 1] ^= 0x01;
	return total;
}

static int resp_open_inner(struct resp *r, const uint8_t *buf, size_t len, uint8_t *scratch,
			   size_t cap, struct ike_msg *m, size_t *inner_len)
{
	size_t ivl, icvl, bl, ctl, boff;
	uint8_t *iv, *ct, padl;
	int rc;

	if (!r->aead_i || len > cap)
		return KITE_ERR_PARSE;
	memcpy(scratch, buf, len);
	if ((rc = ikev2_pld_parse(scratch, len, m)) != 0)
		return rc;
	if (!m->has_sk || m->is_skf)
		return KITE_ERR_PARSE;
	ivl = crypto_aead_iv_len(r->aead_i);
	icvl = crypto_aead_icv_len(r->aead_i);
	bl = crypto_aead_block_len(r->aead_i);
	if (m->sk_body.len < ivl + icvl + 1)
		return KITE_ERR_PARSE;
	ctl = m->sk_body.len - ivl - icvl;
	if (bl > 1 && ctl % bl)
		return KITE_ERR_PARSE;
	boff = (size_t)(m->sk_body.p - scratch);
	iv = scratch + boff;
	ct = iv + ivl;
	if (crypto_aead_open(r->aead_i, iv, scratch, m->sk_off + IKEV2_PLD_HDR_LEN, ct, ctl,
			     ct + ctl) != 0)
		return KITE_ERR_VERIFY;
	padl = ct[ctl - 1];
	if ((size_t)padl + 1 > ctl)
		return KITE_ERR_PARSE;
	*inner_len = ctl - padl - 1;
	return ikev2_pld_parse_inner(m, m->sk_first, ct, *inner_len);
}

int resp_open(struct resp *r, const uint8_t *buf, size_t len, uint8_t *scratch, size_t cap,
	      struct ike_msg *m)
{
	size_t inner_len = 0;

	return resp_open_inner(r, buf, len, scratch, cap, m, &inner_len);
}

/* ---- keys (RFC 7296 2.14, 2.15, 2.17) ---- */

static int resp_derive_ike(struct resp *r)
{
	uint8_t seed[2 * IKEV2_NONCE_MAX + 16], skeyseed[CRYPTO_MAX_PRF_LEN];
	uint8_t km[3 * CRYPTO_MAX_PRF_LEN + 4 * CRYPTO_MAX_KEY];
	size_t sl = 0, off = 0, need;
	int aead = crypto_encr_is_aead(r->ike.encr);

	r->prf_len = crypto_prf_len(r->ike.prf);
	r->enc_len = crypto_aead_enc_key_len(r->ike.encr, r->ike.encr_bits);
	r->integ_len = aead ? 0 : crypto_aead_integ_key_len(r->ike.integ);
	if (!r->prf_len || !r->enc_len || (!aead && !r->integ_len))
		return KITE_ERR_UNSUPPORTED;
	memcpy(seed, r->ni, r->ni_len);
	sl = r->ni_len;
	memcpy(seed + sl, r->nr, r->nr_len);
	sl += r->nr_len;
	/* SKEYSEED = prf(Ni | Nr, g^ir) */
	if (crypto_prf(r->ike.prf, seed, sl, r->shared, r->shared_len, NULL, 0, skeyseed) != 0)
		return KITE_ERR_CRYPTO;
	memcpy(seed + sl, r->spi_i, 8);
	memcpy(seed + sl + 8, r->spi_r, 8);
	sl += 16;
	/* {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) */
	need = 3 * r->prf_len + 2 * r->integ_len + 2 * r->enc_len;
	if (need > sizeof(km) ||
	    crypto_prf_plus(r->ike.prf, skeyseed, r->prf_len, seed, sl, km, need) != 0)
		return KITE_ERR_CRYPTO;
	memcpy(r->sk_d, km + off, r->prf_len);
	off += r->prf_len;
	memcpy(r->sk_ai, km + off, r->integ_len);
	off += r->integ_len;
	memcpy(r->sk_ar, km + off, r->integ_len);
	off += r->integ_len;
	memcpy(r->sk_ei, km + off, r->enc_len);
	off += r->enc_len;
	memcpy(r->sk_er, km + off, r->enc_len);
	off += r->enc_len;
	memcpy(r->sk_pi, km + off, r->prf_len);
	off += r->prf_len;
	memcpy(r->sk_pr, km + off, r->prf_len);
	crypto_wipe(km, sizeof(km));
	crypto_wipe(skeyseed, sizeof(skeyseed));
	crypto_aead_free(r->aead_i);
	crypto_aead_free(r->aead_r);
	r->aead_i = crypto_aead_new(r->ike.encr, r->ike.encr_bits, r->ike.integ, r->sk_ei,
				    aead ? NULL : r->sk_ai);
	r->aead_r = crypto_aead_new(r->ike.encr, r->ike.encr_bits, r->ike.integ, r->sk_er,
				    aead ? NULL : r->sk_ar);
	return r->aead_i && r->aead_r ? 0 : KITE_ERR_CRYPTO;
}

/* AUTH = prf(prf(PSK, "Key Pad for IKEv2"), msg | nonce | prf(SK_p, ID body)) (RFC 7296 2.15). */
static int resp_psk_auth(const struct resp *r, const uint8_t *psk, size_t psk_len,
			 const uint8_t *msg, size_t msg_len, const uint8_t *nonce, size_t nonce_len,
			 const uint8_t *sk_p, const uint8_t *id_body, size_t id_len, uint8_t *out)
{
	static const char pad[] = "Key Pad for IKEv2";
	uint8_t k[CRYPTO_MAX_PRF_LEN], tail[IKEV2_NONCE_MAX + CRYPTO_MAX_PRF_LEN];
	uint16_t prf = r->ike.prf;

	if (nonce_len > IKEV2_NONCE_MAX)
		return KITE_ERR_INVAL;
	memcpy(tail, nonce, nonce_len);
	if (crypto_prf(prf, sk_p, r->prf_len, id_body, id_len, NULL, 0, tail + nonce_len) != 0 ||
	    crypto_prf(prf, psk, psk_len, (const uint8_t *)pad, sizeof(pad) - 1, NULL, 0, k) != 0 ||
	    crypto_prf(prf, k, r->prf_len, msg, msg_len, tail, nonce_len + r->prf_len, out) != 0)
		return KITE_ERR_CRYPTO;
	crypto_wipe(k, sizeof(k));
	return 0;
}

static int resp_derive_child(struct resp *r)
{
	uint8_t seed[2 * IKEV2_NONCE_MAX], km[4 * CRYPTO_MAX_KEY];
	size_t ek = crypto_aead_enc_key_len(r->esp.encr, r->esp.encr_bits);
	size_t ak = crypto_encr_is_aead(r->esp.encr) ? 0 : crypto_aead_integ_key_len(r->esp.integ);

	if (!ek || ek > CRYPTO_MAX_KEY || ak > CRYPTO_MAX_KEY)
		return KITE_ERR_UNSUPPORTED;
	memcpy(seed, r->ni, r->ni_len);
	memcpy(seed + r->ni_len, r->nr, r->nr_len);
	/* KEYMAT = prf+(SK_d, Ni | Nr): initiator->responder enc, integ, then responder->initiator */
	if (crypto_prf_plus(r->ike.prf, r->sk_d, r->prf_len, seed, r->ni_len + r->nr_len, km,
			    2 * (ek + ak)) != 0)
		return KITE_ERR_CRYPTO;
	memcpy(r->keymat_ei, km, ek);
	memcpy(r->keymat_ai, km + ek, ak);
	memcpy(r->keymat_er, km + ek + ak, ek);
	memcpy(r->keymat_ar, km + 2 * ek + ak, ak);
	r->child_enc_len = ek;
	r->child_integ_len = ak;
	crypto_wipe(km, sizeof(km));
	return 0;
}

/* Record the CHILD SA in the legacy "latest" fields (child_spi_*, keymat_*). */
static void resp_child_record(struct resp *r, uint16_t dh)
{
	struct resp_child *c = NULL;

	for (unsigned i = 0; i < RESP_MAX_CHILDREN && !c; i++)
		if (!r->children[i].alive)
			c = &r->children[i];
	if (!c)
		return;
	memset(c, 0, sizeof(*c));
	c->alive = 1;
	c->spi_i = r->child_spi_i;
	c->spi_r = r->child_spi_r;
	c->dh = dh;
	memcpy(c->k2g_enc, r->keymat_ei, sizeof(c->k2g_enc));
	memcpy(c->k2g_integ, r->keymat_ai, sizeof(c->k2g_integ));
	memcpy(c->g2k_enc, r->keymat_er, sizeof(c->g2k_enc));
	memcpy(c->g2k_integ, r->keymat_ar, sizeof(c->g2k_integ));
	c->enc_len = r->child_enc_len;
	c->integ_len = r->child_integ_len;
}

/* ---- building responses ---- */

static void resp_hdr(const struct resp *r, struct ike_hdr *h, const uint8_t *spi_i,
		     const uint8_t *spi_r, uint8_t exch, uint32_t msgid, uint32_t imp)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->spi_i, spi_i, 8);
	if (spi_r)
		memcpy(h->spi_r, spi_r, 8);
	if (imp & RESP_IMP_BAD_SPI_I)
		h->spi_i[7] ^= 0x01;
	h->version = IKEV2_VERSION;
	h->exchange = exch;
	h->flags = (imp & RESP_IMP_NO_RFLAG) ? 0 : IKEV2_FLAG_RESPONSE;
	h->msgid = msgid + ((imp & RESP_IMP_WRONG_MSGID) ? 1 : 0);
}

static void resp_enc_critical(struct ike_enc *e)
{
	size_t off = ikev2_enc_begin(e, RESP_UNKNOWN_PLD, IKEV2_PLD_CRITICAL);

	wbuf_put_u32(&e->w, 0xdeadbeef);
	ikev2_enc_end(e, off);
}

/* An unprotected IKE_SA_INIT response with one notify (SPIr 0: no state kept). */
static size_t resp_init_notify(const struct resp *r, uint32_t imp, const uint8_t *spi_i,
			       uint16_t type, const uint8_t *data, size_t dlen, uint8_t *out, size_t cap)
{
	static const uint8_t zero[8];
	struct ike_hdr h;
	struct ike_enc e;
	size_t len = 0;

	resp_hdr(r, &h, spi_i, zero, IKEV2_EXCH_IKE_SA_INIT, 0, imp);
	ikev2_enc_init(&e, out, cap, &h);
	ikev2_enc_notify(&e, IKEV2_PROTO_NONE, NULL, 0, type, data, dlen);
	if (ikev2_enc_finish(&e, &len) != 0 || !wbuf_ok(&e.w))
		return 0;
	return len;
}

size_t resp_build_init_notify(struct resp *r, const uint8_t *req, size_t req_len,
			      uint16_t type, const uint8_t *data, size_t data_len,
			      uint8_t *out, size_t cap)
{
	struct ike_hdr h;

	if (ikev2_pld_parse_hdr(req, req_len, &h) != 0)
		return 0;
	return resp_init_notify(r, 0, h.spi_i, type, data, data_len, out, cap);
}

/* The IKE_SA_INIT response from the state in r (imp: the impairments for this copy). */
static size_t resp_build_init(struct resp *r, uint32_t imp, uint8_t *out, size_t cap)
{
	struct ike_proposal props[2];
	struct ike_hdr h;
	struct ike_enc e;
	uint8_t hash[20];
	size_t n, len = 0;

	resp_hdr(r, &h, r->spi_i, r->spi_r, IKEV2_EXCH_IKE_SA_INIT, 0, imp);
	ikev2_enc_init(&e, out, cap, &h);
	n = resp_suite_proposals(r, &r->ike, 0, NULL, props);
	ikev2_enc_sa(&e, props, n);
	ikev2_enc_ke(&e, r->ike.dh, r->ke_r, r->ke_r_len - ((imp & RESP_IMP_KE_LEN) ? 1 : 0));
	if (!(imp & RESP_IMP_NO_NR))
		ikev2_enc_nonce(&e, r->nr, (imp & RESP_IMP_SHORT_NR) ? 8 : r->nr_len);
	if (resp_natd(r->spi_i, r->spi_r, r->self_ip, r->self_port, hash) == 0)
		ikev2_enc_notify(&e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_NAT_DETECTION_SOURCE_IP, hash, 20);
	if (resp_natd(r->spi_i, r->spi_r, r->peer_ip, r->peer_port, hash) == 0)
		ikev2_enc_notify(&e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_NAT_DETECTION_DESTINATION_IP,
				 hash, 20);
	if (imp & RESP_IMP_CRITICAL)
		resp_enc_critical(&e);
	if (ikev2_enc_finish(&e, &len) != 0 || !wbuf_ok(&e.w))
		return 0;
	return len;
}

/*
 * Send a response to the current request: the genuine one is cached (for
 * retransmissions) and, without wire impairments, also sent; with them, the
 * impaired copy is sent. build(r, imp, out, cap) makes one copy.
 */
typedef size_t (*resp_builder)(struct resp *r, uint32_t imp, uint8_t *out, size_t cap);

static int resp_answer(struct resp *r, resp_builder build, uint32_t msgid,
		       const uint8_t *req, size_t req_len)
{
	uint8_t wire[RESP_BUF];
	size_t len, wlen;

	len = build(r, r->imp & ~RESP_IMP_WIRE, r->last_resp.buf, sizeof(r->last_resp.buf));
	if (!len) {
		resp_errf(r, "cannot build the response to message %u", msgid);
		return -1;
	}
	r->last_resp.len = len;
	r->have_last = 1;
	r->last_msgid = msgid;
	memcpy(r->last_req, req, req_len);
	r->last_req_len = req_len;
	if (r->imp & RESP_IMP_WIRE) {
		wlen = build(r, r->imp, wire, sizeof(wire));
		if (!wlen) {
			resp_errf(r, "cannot build the impaired response to message %u", msgid);
			return -1;
		}
		resp_out_add(r, wire, wlen);
	} else {
		resp_out_add(r, r->last_resp.buf, len);
	}
	if (r->imp & RESP_IMP_DUPLICATE)
		resp_out_add(r, r->out[0].buf, r->out[0].len);
	return 0;
}

/* ---- IKE_SA_INIT ---- */

static void resp_cookie_value(const struct resp *r, const uint8_t spi_i[8], unsigned salt,
			      uint8_t *out)
{
	for (size_t i = 0; i < r->cookie_len; i++)
		out[i] = (uint8_t)(spi_i[i % 8] ^ (0xa5 + i) ^ salt);
}

static void resp_ctx_swap(struct resp *r, struct resp_ikectx *c);

static enum resp_result resp_sa_init(struct resp *r, const uint8_t *buf, size_t len)
{
	struct ike_proposal props[IKE_MAX_PROPOSALS];
	struct resp_suite s;
	struct ike_msg m;
	const struct ike_proposal *chosen = NULL;
	size_t n = 0, olen;
	uint16_t group;
	int rc;

	if ((rc = ikev2_pld_parse(buf, len, &m)) != 0) {
		resp_errf(r, "IKE_SA_INIT request does not parse (%s)", kite_strerror(rc));
		return RESP_REJECTED;
	}
	if (!(m.hdr.flags & IKEV2_FLAG_INITIATOR) || m.hdr.msgid != 0 ||
	    memcmp(m.hdr.spi_r, (const uint8_t[8]){ 0 }, 8) != 0) {
		resp_errf(r, "IKE_SA_INIT request with flags %#x, message ID %u or SPIr set",
			  m.hdr.flags, m.hdr.msgid);
		return RESP_REJECTED;
	}
	/* RFC 7296 2.1: a retransmission gets the cached response. */
	if (r->have_sa && r->have_last && r->last_msgid == 0 && len == r->last_req_len &&
	    !memcmp(buf, r->last_req, len)) {
		r->n_resent++;
		resp_out_add(r, r->last_resp.buf, r->last_resp.len);
		return RESP_RESENT;
	}
	if (!m.sa.p || !m.ke.p || !m.nonce.p) {
		resp_errf(r, "IKE_SA_INIT request without %s", !m.sa.p ? "SA" : !m.ke.p ? "KE" : "Ni");
		return RESP_REJECTED;
	}
	/* COOKIE (RFC 7296 2.6): required as the first payload. */
	if (r->cookie_len > RESP_COOKIE_MAX) {
		resp_errf(r, "cookie_len %zu > %d", r->cookie_len, RESP_COOKIE_MAX);
		return RESP_REJECTED;
	}
	if (r->cookie_len) {
		uint8_t want[RESP_COOKIE_MAX];

		resp_cookie_value(r, m.hdr.spi_i, 0, want);
		if ((r->imp & RESP_IMP_COOKIE_ALWAYS) || m.hdr.next_payload != IKEV2_PLD_NOTIFY ||
		    !m.n_notify || m.notify[0].type != IKEV2_N_COOKIE ||
		    m.notify[0].data.len != r->cookie_len ||
		    memcmp(m.notify[0].data.p, want, r->cookie_len) != 0) {
			if (r->imp & RESP_IMP_COOKIE_ALWAYS)
				resp_cookie_value(r, m.hdr.spi_i, r->n_cookie_sent + 1, want);
			olen = resp_init_notify(r, r->imp & RESP_IMP_WIRE, m.hdr.spi_i, IKEV2_N_COOKIE,
						want, r->cookie_len, r->out[0].buf, sizeof(r->out[0].buf));
			if (!olen)
				return RESP_REJECTED;
			r->out[0].len = olen;
			r->n_out = 1;
			r->n_cookie_sent++;
			return RESP_ANSWERED;
		}
		r->n_cookie_ok++;
	}
	if (r->imp & RESP_IMP_NO_PROPOSAL)
		goto no_proposal;
	if ((rc = ikev2_pld_parse_sa(m.sa, props, IKE_MAX_PROPOSALS, &n)) != 0) {
		resp_errf(r, "initiator's SA payload does not parse (%s)", kite_strerror(rc));
		return RESP_REJECTED;
	}
	/* First acceptable proposal; with want_group, the first one that holds it. */
	for (size_t i = 0; i < n && !chosen; i++)
		if (props[i].proto == IKEV2_PROTO_IKE && r->want_group &&
		    resp_has_dh(&props[i], r->want_group) && resp_pick(&props[i], 0, r->want_group, &s))
			chosen = &props[i];
	for (size_t i = 0; i < n && !chosen; i++)
		if (props[i].proto == IKEV2_PROTO_IKE && resp_pick(&props[i], 0, 0, &s))
			chosen = &props[i];
	if (!chosen)
		goto no_proposal;
	if (r->want_group)
		group = r->want_group;
	else if (resp_has_dh(chosen, m.ke_group) && crypto_dh_supported(m.ke_group))
		group = m.ke_group;
	else
		group = s.dh;
	if (m.ke_group != group) {
		/* INVALID_KE_PAYLOAD with the group we want (RFC 7296 1.2, 3.10.1). */
		uint8_t g[2] = { (uint8_t)(group >> 8), (uint8_t)group };

		olen = resp_init_notify(r, r->imp & RESP_IMP_WIRE, m.hdr.spi_i,
					IKEV2_N_INVALID_KE_PAYLOAD, g, 2, r->out[0].buf,
					sizeof(r->out[0].buf));
		if (!olen)
			return RESP_REJECTED;
		r->out[0].len = olen;
		r->n_out = 1;
		r->n_invalid_ke_sent++;
		if (r->imp & RESP_IMP_KE_PINGPONG) {
			uint16_t t = r->want_group;

			r->want_group = r->alt_group;
			r->alt_group = t;
		}
		return RESP_ANSWERED;
	}
	if (!resp_has_dh(chosen, group)) {
		resp_errf(r, "initiator sent a KE for group %u that its SA does not offer", group);
		goto no_proposal;
	}
	s.dh = group;

	/* A new IKE SA: forget any previous one, except an established one (kite
	 * reauthenticates, RFC 4478): that stays as r->old until kite deletes it. */
	if (r->have_sa && r->child_up && r->auth_ok) {
		resp_ctx_free(&r->old);
		resp_ctx_swap(r, &r->old);
		r->old.valid = 1;
		r->old_deleted = 0;
		crypto_dh_free(r->dh);
		r->dh = NULL;
		r->have_sa = 0;
		r->auth_ok = 0;
		r->child_up = 0;
	} else {
		resp_drop_sa(r);
	}
	r->ike = s;
	memcpy(r->spi_i, m.hdr.spi_i, 8);
	do
		resp_rng_bytes(r, r->spi_r, 8);
	while (!memcmp(r->spi_r, (const uint8_t[8]){ 0 }, 8));
	if (m.nonce.len > sizeof(r->ni)) {
		resp_errf(r, "Ni of %zu bytes", m.nonce.len);
		return RESP_REJECTED;
	}
	memcpy(r->ni, m.nonce.p, m.nonce.len);
	r->ni_len = m.nonce.len;
	r->nr_len = 32;
	resp_rng_bytes(r, r->nr, r->nr_len);
	r->dh = crypto_dh_new(group);
	r->ke_r_len = sizeof(r->ke_r);
	if (!r->dh || crypto_dh_pub(r->dh, r->ke_r, &r->ke_r_len) != 0) {
		resp_errf(r, "cannot make a key pair for group %u", group);
		return RESP_REJECTED;
	}
	r->shared_len = sizeof(r->shared);
	if ((rc = crypto_dh_shared(r->dh, m.ke.p, m.ke.len, r->shared, &r->shared_len)) != 0) {
		resp_errf(r, "initiator's KE (group %u, %zu bytes) rejected: %s", group, m.ke.len,
			  kite_strerror(rc));
		return RESP_REJECTED;
	}
	if ((rc = resp_derive_ike(r)) != 0) {
		resp_errf(r, "IKE key derivation failed: %s", kite_strerror(rc));
		return RESP_REJECTED;
	}
	memcpy(r->init_req, buf, len);
	r->init_req_len = len;
	if (resp_answer(r, resp_build_init, 0, buf, len) != 0)
		return RESP_REJECTED;
	/* RealMessage2 is the genuine response. */
	memcpy(r->init_resp, r->last_resp.buf, r->last_resp.len);
	r->init_resp_len = r->last_resp.len;
	r->have_sa = 1;
	r->next_req_msgid = 1;
	r->my_msgid = 0;
	r->my_req_pending = 0;
	r->old_deleted = 0;
	return RESP_ANSWERED;

no_proposal:
	olen = resp_init_notify(r, r->imp & RESP_IMP_WIRE, m.hdr.spi_i, IKEV2_N_NO_PROPOSAL_CHOSEN,
				NULL, 0, r->out[0].buf, sizeof(r->out[0].buf));
	if (!olen)
		return RESP_REJECTED;
	r->out[0].len = olen;
	r->n_out = 1;
	return RESP_ANSWERED;
}

/* ---- IKE_AUTH ---- */

static size_t resp_build_auth(struct resp *r, uint32_t imp, uint8_t *out, size_t cap)
{
	uint8_t inner[RESP_BUF], idbody[4 + 64], auth[CRYPTO_MAX_PRF_LEN], spi[4];
	struct ike_proposal props[2];
	struct ike_cfg_attr cp[2];
	struct ike_ts tsi, tsr;
	struct ike_enc e;
	const uint8_t *id = r->id;
	size_t id_len = r->id_len, n;

	ikev2_enc_init_inner(&e, inner, sizeof(inner));
	if (r->bld_auth_failed) {
		ikev2_enc_notify(&e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_AUTHENTICATION_FAILED, NULL, 0);
		goto seal;
	}
	if (imp & RESP_IMP_OTHER_ID) {
		id = (const uint8_t *)resp_other_id;
		id_len = sizeof(resp_other_id) - 1;
	}
	if (!(imp & RESP_IMP_NO_IDR))
		ikev2_enc_id(&e, IKEV2_PLD_IDr, r->id_type, id, id_len);
	if (!(imp & RESP_IMP_NO_AUTH)) {
		/* ResponderSignedOctets = RealMessage2 | Ni | prf(SK_pr, IDr body) */
		const uint8_t *psk = r->psk;
		size_t psk_len = r->psk_len;

		if (imp & RESP_IMP_WRONG_PSK) {
			psk = resp_wrong_psk;
			psk_len = sizeof(resp_wrong_psk) - 1;
		}
		idbody[0] = r->id_type;
		memset(idbody + 1, 0, 3);
		memcpy(idbody + 4, id, id_len);
		if (resp_psk_auth(r, psk, psk_len, r->init_resp, r->init_resp_len, r->ni, r->ni_len,
				  r->sk_pr, idbody, 4 + id_len, auth) != 0)
			return 0;
		ikev2_enc_auth(&e, IKEV2_AUTH_SHARED_KEY_MIC, auth, r->prf_len);
	}
	if (r->bld_child_failed) {
		ikev2_enc_notify(&e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		goto crit;
	}
	if (r->bld_want_cp) {
		memset(cp, 0, sizeof(cp));
		cp[0].type = IKEV2_CFG_INTERNAL_IP4_ADDRESS;
		cp[0].value = (struct ike_view){ (const uint8_t[4]){ 10, 3, 0, 1 }, 4 };
		cp[1].type = IKEV2_CFG_INTERNAL_IP4_DNS;
		cp[1].value = (struct ike_view){ (const uint8_t[4]){ 10, 1, 0, 53 }, 4 };
		ikev2_enc_cp(&e, IKEV2_CFG_REPLY, cp, 2);
	}
	resp_be32(spi, r->child_spi_r);
	n = resp_suite_proposals(r, &r->esp, 1, spi, props);
	ikev2_enc_sa(&e, props, n);
	memset(&tsi, 0, sizeof(tsi));
	tsi.type = IKEV2_TS_IPV4_ADDR_RANGE;
	tsi.port_end = 65535;
	memcpy(tsi.start, (const uint8_t[4]){ 10, 3, 0, 1 }, 4);
	memcpy(tsi.end, (const uint8_t[4]){ 10, 3, 0, 1 }, 4);
	tsr = tsi;
	memcpy(tsr.start, (const uint8_t[4]){ 10, 1, 0, 0 }, 4);
	memcpy(tsr.end, (const uint8_t[4]){ 10, 1, 0, 255 }, 4);
	ikev2_enc_ts(&e, IKEV2_PLD_TSi, &tsi, 1);
	ikev2_enc_ts(&e, IKEV2_PLD_TSr, &tsr, 1);
	if (r->mobike)
		ikev2_enc_notify(&e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_MOBIKE_SUPPORTED, NULL, 0);
	if (r->auth_lifetime) {
		uint8_t lt[4];

		resp_be32(lt, r->auth_lifetime);
		ikev2_enc_notify(&e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_AUTH_LIFETIME, lt, 4);
	}
crit:
	if (imp & RESP_IMP_CRITICAL)
		resp_enc_critical(&e);
seal:
	if (!wbuf_ok(&e.w))
		return 0;
	return resp_seal(r, imp, IKEV2_EXCH_IKE_AUTH, IKEV2_FLAG_RESPONSE, r->bld_msgid,
			 e.first, inner, e.w.len, out, cap);
}

static enum resp_result resp_ike_auth(struct resp *r, const uint8_t *buf, size_t len,
				      const struct ike_hdr *h)
{
	static uint8_t scratch[RESP_BUF];
	struct ike_proposal props[IKE_MAX_PROPOSALS];
	uint8_t expect[CRYPTO_MAX_PRF_LEN];
	struct ike_msg m;
	size_t inner_len = 0, n = 0;
	int rc;

	if ((rc = resp_open_inner(r, buf, len, scratch, sizeof(scratch), &m, &inner_len)) != 0) {
		resp_errf(r, "IKE_AUTH request does not open/parse (%s)", kite_strerror(rc));
		return RESP_REJECTED;
	}
	r->bld_auth_failed = r->bld_child_failed = r->bld_want_cp = r->bld_del_esp = 0;
	r->bld_msgid = h->msgid;
	if (!m.idi.body.p || !m.auth.p || !m.sa.p || !m.tsi.p || !m.tsr.p) {
		resp_errf(r, "IKE_AUTH request without IDi, AUTH, SA, TSi or TSr");
		return RESP_REJECTED;
	}
	if (m.idi.data.len > sizeof(r->idi)) {
		resp_errf(r, "IDi too long");
		return RESP_REJECTED;
	}
	r->idi_type = m.idi.type;
	memcpy(r->idi, m.idi.data.p, m.idi.data.len);
	r->idi_len = m.idi.data.len;
	r->n_auth++;
	r->auth_initial_contact = ikev2_msg_notify(&m, IKEV2_N_INITIAL_CONTACT) != NULL;
	r->auth_cp_has_addr = 0;
	if (m.cp.p) {
		struct ike_cfg_attr attrs[IKE_MAX_CFG_ATTR];
		size_t na = 0;

		if (ikev2_pld_parse_cfg(m.cp, attrs, IKE_MAX_CFG_ATTR, &na) == 0)
			for (size_t i = 0; i < na; i++)
				if (attrs[i].type == IKEV2_CFG_INTERNAL_IP4_ADDRESS && attrs[i].value.len == 4) {
					memcpy(r->auth_cp_addr, attrs[i].value.p, 4);
					r->auth_cp_has_addr = 1;
				}
	}
	/* InitiatorSignedOctets = RealMessage1 | Nr | prf(SK_pi, IDi body) */
	if (m.auth_method != IKEV2_AUTH_SHARED_KEY_MIC ||
	    resp_psk_auth(r, r->psk, r->psk_len, r->init_req, r->init_req_len, r->nr, r->nr_len,
			  r->sk_pi, m.idi.body.p, m.idi.body.len, expect) != 0 ||
	    m.auth.len != r->prf_len || !crypto_ct_eq(expect, m.auth.p, r->prf_len)) {
		r->auth_bad = 1;
		resp_errf(r, "initiator's AUTH (method %u, %zu bytes) does not verify",
			  m.auth_method, m.auth.len);
		r->bld_auth_failed = 1;
	} else {
		r->auth_ok = 1;
	}
	if (r->imp & RESP_IMP_AUTH_FAILED)
		r->bld_auth_failed = 1;
	if (!r->bld_auth_failed) {
		const struct ike_proposal *chosen = NULL;

		if ((rc = ikev2_pld_parse_sa(m.sa, props, IKE_MAX_PROPOSALS, &n)) != 0) {
			resp_errf(r, "initiator's ESP SA does not parse (%s)", kite_strerror(rc));
			return RESP_REJECTED;
		}
		for (size_t i = 0; i < n && !chosen; i++)
			if (props[i].proto == IKEV2_PROTO_ESP && props[i].spi_size == 4 &&
			    resp_pick(&props[i], 1, 0, &r->esp))
				chosen = &props[i];
		if (!chosen) {
			r->bld_child_failed = 1;
		} else {
			r->child_spi_i = resp_get_be32(chosen->spi);
			do
				r->child_spi_r = (uint32_t)resp_rng_next(r);
			while (r->child_spi_r < 256);
			if ((rc = resp_derive_child(r)) != 0) {
				resp_errf(r, "CHILD key derivation failed: %s", kite_strerror(rc));
				return RESP_REJECTED;
			}
			r->child_up = 1;
			resp_child_record(r, 0);
		}
		r->bld_want_cp = m.cp.p != NULL && m.cp_type == IKEV2_CFG_REQUEST;
	}
	if (resp_answer(r, resp_build_auth, h->msgid, buf, len) != 0)
		return RESP_REJECTED;
	r->next_req_msgid = h->msgid + 1;
	return RESP_ANSWERED;
}

/* ---- INFORMATIONAL ---- */

static size_t resp_build_info(struct resp *r, uint32_t imp, uint8_t *out, size_t cap)
{
	uint8_t inner[128], spi[4 * RESP_MAX_CHILDREN];
	struct ike_enc e;

	ikev2_enc_init_inner(&e, inner, sizeof(inner));
	if (r->bld_n_del) {
		for (unsigned i = 0; i < r->bld_n_del; i++)
			resp_be32(spi + 4 * i, r->bld_del_spis[i]);
		ikev2_enc_delete(&e, IKEV2_PROTO_ESP, 4, spi, (uint16_t)r->bld_n_del);
	} else if (r->bld_del_esp) {
		resp_be32(spi, r->child_spi_r);
		ikev2_enc_delete(&e, IKEV2_PROTO_ESP, 4, spi, 1);
	}
	if (r->bld_cookie2_len)
		ikev2_enc_notify(&e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_COOKIE2, r->bld_cookie2,
				 r->bld_cookie2_len);
	if (imp & RESP_IMP_CRITICAL)
		resp_enc_critical(&e);
	if (!wbuf_ok(&e.w))
		return 0;
	return resp_seal(r, imp, IKEV2_EXCH_INFORMATIONAL, IKEV2_FLAG_RESPONSE, r->bld_msgid,
			 e.first, inner, e.w.len, out, cap);
}

static enum resp_result resp_info(struct resp *r, const uint8_t *buf, size_t len,
				  const struct ike_hdr *h)
{
	static uint8_t scratch[RESP_BUF];
	struct ike_msg m;
	size_t inner_len = 0;
	int rc;

	if ((rc = resp_open_inner(r, buf, len, scratch, sizeof(scratch), &m, &inner_len)) != 0) {
		resp_errf(r, "INFORMATIONAL request does not open/parse (%s)", kite_strerror(rc));
		return RESP_REJECTED;
	}
	r->n_info_rx++;
	r->bld_auth_failed = r->bld_child_failed = r->bld_want_cp = r->bld_del_esp = 0;
	r->bld_n_del = 0;
	r->bld_msgid = h->msgid;
	for (unsigned i = 0; i < m.n_delete; i++) {
		if (m.del[i].proto == IKEV2_PROTO_IKE) {
			if (r->in_old)
				r->routed_deleted = 1;
			else
				r->ike_deleted = 1;
		} else if (m.del[i].proto == IKEV2_PROTO_ESP && m.del[i].spi_size == 4) {
			/* kite names its inbound SPIs; we answer with ours (RFC 7296 1.4.1) */
			r->n_child_del_rx++;
			r->n_child_del_rx_spis = 0;
			for (unsigned k = 0; k < m.del[i].n_spi; k++) {
				uint32_t spi = resp_get_be32(m.del[i].spis.p + 4 * k);
				struct resp_child *c = resp_child_by_i(r, spi);

				if (r->n_child_del_rx_spis < 8)
					r->child_del_rx[r->n_child_del_rx_spis++] = spi;
				if (c && r->bld_n_del < RESP_MAX_CHILDREN) {
					r->bld_del_spis[r->bld_n_del++] = c->spi_r;
					c->alive = 0;
				}
			}
		}
	}
	if (r->ike_deleted || r->routed_deleted)
		r->bld_n_del = 0;
	r->bld_cookie2_len = 0;
	{
		const struct ike_notify *c2 = ikev2_msg_notify(&m, IKEV2_N_COOKIE2);

		if (ikev2_msg_notify(&m, IKEV2_N_UPDATE_SA_ADDRESSES))
			r->n_update_sa_rx++;
		if (c2 && c2->data.len <= sizeof(r->bld_cookie2)) {
			memcpy(r->bld_cookie2, c2->data.p, c2->data.len);
			r->bld_cookie2_len = c2->data.len;
		}
	}
	if (resp_answer(r, resp_build_info, h->msgid, buf, len) != 0)
		return RESP_REJECTED;
	r->next_req_msgid = h->msgid + 1;
	return RESP_ANSWERED;
}

static enum resp_result resp_absorb_ccs(struct resp *r, const struct ike_msg *m);

/* A response to one of our own requests. */
static enum resp_result resp_absorb(struct resp *r, const uint8_t *buf, size_t len,
				    const struct ike_hdr *h)
{
	static uint8_t scratch[RESP_BUF];
	struct ike_msg m;
	size_t inner_len = 0;
	int rc;

	if (!r->have_sa || !r->my_req_pending || h->msgid != r->my_msgid) {
		resp_errf(r, "unexpected response with message ID %u (ours: %u, %s)", h->msgid,
			  r->my_msgid, r->my_req_pending ? "pending" : "none pending");
		return RESP_REJECTED;
	}
	if ((rc = resp_open_inner(r, buf, len, scratch, sizeof(scratch), &m, &inner_len)) != 0) {
		resp_errf(r, "response to our request %u does not open/parse (%s)", h->msgid,
			  kite_strerror(rc));
		return RESP_REJECTED;
	}
	r->n_peer_resp++;
	r->peer_resp_msgid = h->msgid;
	r->peer_resp_inner_len = inner_len;
	r->my_req_pending = 0;
	r->my_msgid++;
	r->peer_resp_notify = 0;
	r->peer_resp_n_del = 0;
	for (unsigned i = 0; i < m.n_notify && !r->peer_resp_notify; i++)
		if (m.notify[i].type <= IKEV2_N_ERROR_MAX)
			r->peer_resp_notify = m.notify[i].type;
	for (unsigned i = 0; i < m.n_delete; i++)
		for (unsigned k = 0; k < m.del[i].n_spi && m.del[i].spi_size == 4 &&
				     r->peer_resp_n_del < 8; k++)
			r->peer_resp_del[r->peer_resp_n_del++] = resp_get_be32(m.del[i].spis.p + 4 * k);
	return resp_absorb_ccs(r, &m);
}

/* ---- rekeying (RFC 7296 1.3, 2.8, 2.17, 2.18) ---- */

#define SWAPV(a, b) do { __typeof__(a) t_ = (a); (a) = (b); (b) = t_; } while (0)

static void resp_swap_bytes(void *a, void *b, size_t n)
{
	uint8_t *x = a, *y = b;

	for (size_t i = 0; i < n; i++) {
		uint8_t t = x[i];

		x[i] = y[i];
		y[i] = t;
	}
}

/* Exchange the current IKE SA's wire state with c's. */
static void resp_ctx_swap(struct resp *r, struct resp_ikectx *c)
{
	resp_swap_bytes(r->spi_i, c->spi_i, 8);
	resp_swap_bytes(r->spi_r, c->spi_r, 8);
	SWAPV(r->orig_init, c->orig_init);
	SWAPV(r->ike, c->ike);
	SWAPV(r->prf_len, c->prf_len);
	SWAPV(r->enc_len, c->enc_len);
	SWAPV(r->integ_len, c->integ_len);
	resp_swap_bytes(r->sk_d, c->sk_d, sizeof(r->sk_d));
	SWAPV(r->aead_i, c->aead_i);
	SWAPV(r->aead_r, c->aead_r);
	SWAPV(r->next_req_msgid, c->next_req_msgid);
	SWAPV(r->have_last, c->have_last);
	SWAPV(r->last_msgid, c->last_msgid);
	resp_swap_bytes(r->last_req, c->last_req, sizeof(r->last_req));
	SWAPV(r->last_req_len, c->last_req_len);
	resp_swap_bytes(&r->last_resp, &c->last_resp, sizeof(r->last_resp));
	SWAPV(r->my_msgid, c->my_msgid);
	SWAPV(r->my_req_pending, c->my_req_pending);
	resp_swap_bytes(&r->my_req, &c->my_req, sizeof(r->my_req));
	SWAPV(r->my_req_kind, c->my_req_kind);
}

void resp_promote_alt(struct resp *r)
{
	if (r->alt.valid)
		resp_ctx_swap(r, &r->alt);
}

int resp_nonce_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

struct resp_child *resp_child_by_i(struct resp *r, uint32_t spi_i)
{
	for (unsigned i = 0; i < RESP_MAX_CHILDREN; i++)
		if (r->children[i].alive && r->children[i].spi_i == spi_i)
			return &r->children[i];
	return NULL;
}

struct resp_child *resp_child_by_r(struct resp *r, uint32_t spi_r)
{
	for (unsigned i = 0; i < RESP_MAX_CHILDREN; i++)
		if (r->children[i].alive && r->children[i].spi_r == spi_r)
			return &r->children[i];
	return NULL;
}

struct resp_child *resp_child_newest(struct resp *r)
{
	struct resp_child *c = NULL;

	/* children[] fills in order; the highest alive slot is the newest */
	for (unsigned i = 0; i < RESP_MAX_CHILDREN; i++)
		if (r->children[i].alive && r->children[i].spi_r == r->child_spi_r)
			return &r->children[i];
	for (unsigned i = 0; i < RESP_MAX_CHILDREN; i++)
		if (r->children[i].alive)
			c = &r->children[i];
	return c;
}

unsigned resp_children_alive(const struct resp *r)
{
	unsigned n = 0;

	for (unsigned i = 0; i < RESP_MAX_CHILDREN; i++)
		n += r->children[i].alive != 0;
	return n;
}

static void resp_nonce(struct resp *r, uint8_t *out, size_t len)
{
	if (r->zero_nonce)
		memset(out, 0, len);
	else
		resp_rng_bytes(r, out, len);
}

/*
 * A new CHILD SA's KEYMAT = prf+(SK_d, [g^ir |] Ni | Nr) (RFC 7296 2.17) into
 * the legacy "latest" fields and r->children; gw_initiated: the first keys
 * are ours (gateway -> kite).
 */
static int resp_new_child(struct resp *r, const struct resp_suite *s, const uint8_t *gir,
			  size_t gir_len, const uint8_t *ni, size_t ni_len, const uint8_t *nr,
			  size_t nr_len, int gw_initiated, uint32_t spi_i, uint32_t spi_r, uint16_t dh)
{
	uint8_t seed[CRYPTO_MAX_DH_SECRET + 2 * IKEV2_NONCE_MAX], km[4 * CRYPTO_MAX_KEY];
	size_t ek = crypto_aead_enc_key_len(s->encr, s->encr_bits);
	size_t ak = crypto_encr_is_aead(s->encr) ? 0 : crypto_aead_integ_key_len(s->integ), sl = 0;
	const uint8_t *i2r, *r2i;

	if (!ek || ek > CRYPTO_MAX_KEY || ak > CRYPTO_MAX_KEY)
		return KITE_ERR_UNSUPPORTED;
	memcpy(seed, gir, gir_len);
	sl = gir_len;
	memcpy(seed + sl, ni, ni_len);
	sl += ni_len;
	memcpy(seed + sl, nr, nr_len);
	sl += nr_len;
	if (crypto_prf_plus(r->ike.prf, r->sk_d, r->prf_len, seed, sl, km, 2 * (ek + ak)) != 0)
		return KITE_ERR_CRYPTO;
	i2r = km;
	r2i = km + ek + ak;
	r->esp = *s;
	memcpy(r->keymat_ei, gw_initiated ? r2i : i2r, ek);
	memcpy(r->keymat_ai, (gw_initiated ? r2i : i2r) + ek, ak);
	memcpy(r->keymat_er, gw_initiated ? i2r : r2i, ek);
	memcpy(r->keymat_ar, (gw_initiated ? i2r : r2i) + ek, ak);
	r->child_enc_len = ek;
	r->child_integ_len = ak;
	r->child_spi_i = spi_i;
	r->child_spi_r = spi_r;
	crypto_wipe(km, sizeof(km));
	resp_child_record(r, dh);
	return 0;
}

/*
 * New IKE SA keys after a rekey (RFC 7296 2.18), with the old SA's PRF for
 * both steps as strongSwan does; the current SA moves to r->old and the new
 * one becomes current with message IDs 0. we_init: we initiated the rekey.
 */
static int resp_ike_switch(struct resp *r, const struct resp_suite *s, const uint8_t *gir,
			   size_t gir_len, const uint8_t *ni, size_t ni_len, const uint8_t *nr,
			   size_t nr_len, const uint8_t spi_i[8], const uint8_t spi_r[8], int we_init,
			   int into_alt)
{
	struct resp_ikectx nc;

	uint8_t seed[CRYPTO_MAX_DH_SECRET + 2 * IKEV2_NONCE_MAX + 16], skeyseed[CRYPTO_MAX_PRF_LEN];
	uint8_t km[3 * CRYPTO_MAX_PRF_LEN + 4 * CRYPTO_MAX_KEY];
	size_t pl = crypto_prf_len(s->prf), ek = crypto_aead_enc_key_len(s->encr, s->encr_bits);
	size_t ak = crypto_encr_is_aead(s->encr) ? 0 : crypto_aead_integ_key_len(s->integ);
	uint16_t old_prf = r->ike.prf;
	size_t old_pl = r->prf_len, sl;
	const uint8_t *ai, *ar, *ei, *er;
	struct crypto_aead *in, *out;

	if (!pl || !ek)
		return KITE_ERR_UNSUPPORTED;
	memcpy(seed, gir, gir_len);
	memcpy(seed + gir_len, ni, ni_len);
	memcpy(seed + gir_len + ni_len, nr, nr_len);
	if (crypto_prf(old_prf, r->sk_d, old_pl, seed, gir_len + ni_len + nr_len, NULL, 0,
		       skeyseed) != 0)
		return KITE_ERR_CRYPTO;
	memcpy(seed, ni, ni_len);
	memcpy(seed + ni_len, nr, nr_len);
	memcpy(seed + ni_len + nr_len, spi_i, 8);
	memcpy(seed + ni_len + nr_len + 8, spi_r, 8);
	sl = ni_len + nr_len + 16;
	if (crypto_prf_plus(old_prf, skeyseed, old_pl, seed, sl, km, 3 * pl + 2 * ak + 2 * ek) != 0)
		return KITE_ERR_CRYPTO;
	ai = km + pl;
	ar = ai + ak;
	ei = ar + ak;
	er = ei + ek;
	/* aead_i opens kite's messages, aead_r seals ours */
	in = crypto_aead_new(s->encr, s->encr_bits, s->integ, we_init ? er : ei,
			     ak ? (we_init ? ar : ai) : NULL);
	out = crypto_aead_new(s->encr, s->encr_bits, s->integ, we_init ? ei : er,
			      ak ? (we_init ? ai : ar) : NULL);
	if (!in || !out) {
		crypto_aead_free(in);
		crypto_aead_free(out);
		return KITE_ERR_CRYPTO;
	}
	memset(&nc, 0, sizeof(nc));
	nc.valid = 1;
	memcpy(nc.spi_i, spi_i, 8);
	memcpy(nc.spi_r, spi_r, 8);
	nc.orig_init = we_init;
	nc.ike = *s;
	nc.prf_len = pl;
	nc.enc_len = ek;
	nc.integ_len = ak;
	memcpy(nc.sk_d, km, pl);
	nc.aead_i = in;
	nc.aead_r = out;
	if (into_alt) {
		resp_ctx_free(&r->alt);
		r->alt = nc;
		r->alt_deleted = 0;
	} else {
		resp_ctx_free(&r->old);
		resp_ctx_swap(r, &r->old);	/* current -> old; r now holds the freed one's zeros */
		r->old.valid = 1;
		r->old_deleted = 0;
		resp_ctx_swap(r, &nc);		/* new -> current */
	}
	crypto_wipe(km, sizeof(km));
	crypto_wipe(skeyseed, sizeof(skeyseed));
	return 0;
}

static size_t resp_build_ccs(struct resp *r, uint32_t imp, uint8_t *out, size_t cap)
{
	return resp_seal(r, imp, IKEV2_EXCH_CREATE_CHILD_SA, IKEV2_FLAG_RESPONSE, r->bld_msgid,
			 r->bld_first, r->bld_inner, r->bld_inner_len, out, cap);
}

/* kite's CREATE_CHILD_SA: rekey or create a CHILD SA, or rekey the IKE SA. */
static enum resp_result resp_ccs(struct resp *r, const uint8_t *buf, size_t len,
				 const struct ike_hdr *h)
{
	static uint8_t scratch[RESP_BUF];
	struct ike_proposal props[IKE_MAX_PROPOSALS], ans[2];
	const struct ike_proposal *chosen = NULL;
	const struct ike_notify *rn;
	struct resp_suite s;
	struct ike_msg m;
	struct ike_enc e;
	struct crypto_dh *dh = NULL;
	uint8_t nr[32], pub[CRYPTO_MAX_DH_PUB], gir[CRYPTO_MAX_DH_SECRET], spi[8];
	size_t inner_len = 0, n = 0, publen = sizeof(pub), gir_len = 0;
	int rc, is_ike;
	int switch_ike = 0;
	uint8_t new_spi_i[8];

	if ((rc = resp_open_inner(r, buf, len, scratch, sizeof(scratch), &m, &inner_len)) != 0) {
		resp_errf(r, "CREATE_CHILD_SA request does not open/parse (%s)", kite_strerror(rc));
		return RESP_REJECTED;
	}
	r->n_ccs_rx++;
	r->bld_msgid = h->msgid;
	r->ccs_has_rekey_sa = 0;
	r->ccs_rekey_spi = 0;
	r->ccs_ke_group = m.ke.p ? m.ke_group : 0;
	r->ccs_proposal_dh = 0;
	r->ccs_ni_len = r->ccs_nr_len = 0;
	if ((rn = ikev2_msg_notify(&m, IKEV2_N_REKEY_SA)) != NULL) {
		r->ccs_has_rekey_sa = 1;
		r->ccs_rekey_spi = resp_get_be32(rn->spi.p);
	}
	if (m.nonce.p && m.nonce.len <= sizeof(r->ccs_ni)) {
		memcpy(r->ccs_ni, m.nonce.p, m.nonce.len);
		r->ccs_ni_len = m.nonce.len;
	}
	if (!m.sa.p || !m.nonce.p || ikev2_pld_parse_sa(m.sa, props, IKE_MAX_PROPOSALS, &n) != 0 || !n) {
		resp_errf(r, "CREATE_CHILD_SA request without a usable SA or Ni");
		return RESP_REJECTED;
	}
	for (unsigned i = 0; i < props[0].n_xf && !r->ccs_proposal_dh; i++)
		if (props[0].xf[i].type == IKEV2_XFORM_DH)
			r->ccs_proposal_dh = props[0].xf[i].id;
	is_ike = props[0].proto == IKEV2_PROTO_IKE;
	r->ccs_was_ike = is_ike;
	ikev2_enc_init_inner(&e, r->bld_inner, sizeof(r->bld_inner));
	if (r->ccs_notify) {
		uint8_t g[2] = { (uint8_t)(r->ccs_notify_group >> 8), (uint8_t)r->ccs_notify_group };

		ikev2_enc_notify(&e, IKEV2_PROTO_NONE, NULL, 0, r->ccs_notify,
				 r->ccs_notify == IKEV2_N_INVALID_KE_PAYLOAD ? g : NULL,
				 r->ccs_notify == IKEV2_N_INVALID_KE_PAYLOAD ? 2 : 0);
		r->ccs_notify = 0;	/* one-shot */
		goto answer;
	}
	if (!is_ike && r->ccs_refuse_pfs && r->ccs_proposal_dh) {
		ikev2_enc_notify(&e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		goto answer;
	}
	for (size_t i = 0; i < n && !chosen; i++)
		if (props[i].proto == (is_ike ? IKEV2_PROTO_IKE : IKEV2_PROTO_ESP) &&
		    props[i].spi_size == (is_ike ? 8 : 4) &&
		    resp_pick(&props[i], !is_ike, r->ccs_ke_group, &s))
			chosen = &props[i];
	if (!chosen) {
		ikev2_enc_notify(&e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		goto answer;
	}
	if (s.dh && (!m.ke.p || m.ke_group != s.dh)) {
		uint8_t g[2] = { (uint8_t)(s.dh >> 8), (uint8_t)s.dh };

		ikev2_enc_notify(&e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_INVALID_KE_PAYLOAD, g, 2);
		goto answer;
	}
	if (!is_ike && r->ccs_has_rekey_sa && !resp_child_by_i(r, r->ccs_rekey_spi)) {
		ikev2_enc_notify(&e, IKEV2_PROTO_ESP, rn->spi.p, 4, IKEV2_N_CHILD_SA_NOT_FOUND, NULL, 0);
		goto answer;
	}
	if (s.dh) {
		gir_len = sizeof(gir);
		if ((dh = crypto_dh_new(s.dh)) == NULL || crypto_dh_pub(dh, pub, &publen) != 0 ||
		    crypto_dh_shared(dh, m.ke.p, m.ke.len, gir, &gir_len) != 0) {
			crypto_dh_free(dh);
			resp_errf(r, "kite's KE (group %u) rejected", s.dh);
			return RESP_REJECTED;
		}
		crypto_dh_free(dh);
	}
	resp_nonce(r, nr, sizeof(nr));
	memcpy(r->ccs_nr, nr, sizeof(nr));
	r->ccs_nr_len = sizeof(nr);
	if (is_ike) {
		do
			resp_rng_bytes(r, spi, 8);
		while (!memcmp(spi, (const uint8_t[8]){ 0 }, 8));
		memcpy(new_spi_i, chosen->spi, 8);
		resp_suite_proposals(r, &s, 0, NULL, ans);
		ans[0].spi_size = 8;
		memcpy(ans[0].spi, spi, 8);
		ikev2_enc_sa(&e, ans, 1);
		ikev2_enc_nonce(&e, nr, sizeof(nr));
		ikev2_enc_ke(&e, s.dh, pub, publen);
		switch_ike = 1;
	} else {
		struct ike_ts tsi[IKE_MAX_TS], tsr[IKE_MAX_TS];
		size_t ni_ts = 0, nr_ts = 0;
		uint32_t spi_r, spi_i = resp_get_be32(chosen->spi);
		size_t np;

		if (!m.tsi.p || !m.tsr.p || ikev2_pld_parse_ts(m.tsi, tsi, IKE_MAX_TS, &ni_ts) != 0 ||
		    ikev2_pld_parse_ts(m.tsr, tsr, IKE_MAX_TS, &nr_ts) != 0) {
			resp_errf(r, "CREATE_CHILD_SA without usable TSi/TSr");
			return RESP_REJECTED;
		}
		do
			spi_r = (uint32_t)resp_rng_next(r);
		while (spi_r < 256 || resp_child_by_r(r, spi_r));
		resp_be32(spi, spi_r);
		np = resp_suite_proposals(r, &s, 1, spi, ans);
		if (s.dh && ans[0].n_xf < IKE_MAX_TRANSFORMS)
			ans[0].xf[ans[0].n_xf++] = (struct ike_transform){ IKEV2_XFORM_DH, s.dh, 0 };
		ikev2_enc_sa(&e, ans, np > 1 ? 1 : np);
		ikev2_enc_nonce(&e, nr, sizeof(nr));
		if (s.dh)
			ikev2_enc_ke(&e, s.dh, pub, publen);
		ikev2_enc_ts(&e, IKEV2_PLD_TSi, tsi, ni_ts);
		ikev2_enc_ts(&e, IKEV2_PLD_TSr, tsr, nr_ts);
		if ((rc = resp_new_child(r, &s, gir, gir_len, m.nonce.p, m.nonce.len, nr, sizeof(nr), 0,
					 spi_i, spi_r, s.dh)) != 0) {
			resp_errf(r, "CHILD key derivation failed: %s", kite_strerror(rc));
			return RESP_REJECTED;
		}
	}
answer:
	if (!wbuf_ok(&e.w)) {
		resp_errf(r, "cannot build the CREATE_CHILD_SA response");
		return RESP_REJECTED;
	}
	r->bld_inner_len = e.w.len;
	r->bld_first = e.first;
	if (resp_answer(r, resp_build_ccs, h->msgid, buf, len) != 0)
		return RESP_REJECTED;
	r->next_req_msgid = h->msgid + 1;
	if (switch_ike &&
	    (rc = resp_ike_switch(r, &s, gir, gir_len, m.nonce.p, m.nonce.len, nr, sizeof(nr),
				  new_spi_i, spi, 0, 0)) != 0) {
		resp_errf(r, "IKE rekey derivation failed: %s", kite_strerror(rc));
		return RESP_REJECTED;
	}
	crypto_wipe(gir, sizeof(gir));
	return RESP_ANSWERED;
}

/* Our CREATE_CHILD_SA request (RESP_REQ_REKEY_CHILD / REKEY_IKE / CCS_BAD) into e. */
static int resp_build_ccs_request(struct resp *r, enum resp_req what, struct ike_enc *e)
{
	struct ike_proposal props[2];
	struct resp_suite s;
	uint8_t pub[CRYPTO_MAX_DH_PUB], spi[4];
	size_t publen = sizeof(pub);
	uint16_t group = r->rq_group, ke_group;

	crypto_dh_free(r->rq_dh);
	r->rq_dh = NULL;
	resp_nonce(r, r->rq_ni, sizeof(r->rq_ni));
	if (what == RESP_REQ_REKEY_IKE) {
		if (!group)
			group = r->ike.dh;
		do
			resp_rng_bytes(r, r->rq_spi8, 8);
		while (!memcmp(r->rq_spi8, (const uint8_t[8]){ 0 }, 8));
		s = r->ike;
		s.dh = group;
		resp_suite_proposals(r, &s, 0, NULL, props);
		props[0].spi_size = 8;
		memcpy(props[0].spi, r->rq_spi8, 8);
		if ((r->rq_dh = crypto_dh_new(group)) == NULL || crypto_dh_pub(r->rq_dh, pub, &publen) != 0)
			return KITE_ERR_CRYPTO;
		ikev2_enc_sa(e, props, 1);
		ikev2_enc_nonce(e, r->rq_ni, sizeof(r->rq_ni));
		ikev2_enc_ke(e, group, pub, publen);
		return 0;
	}
	{
		struct resp_child *c = r->rq_spi ? resp_child_by_r(r, r->rq_spi) : resp_child_newest(r);
		struct ike_ts tsi, tsr;
		uint32_t old = c ? c->spi_r : 0x0bad0bad;

		if (!c && what != RESP_REQ_CCS_BAD)
			return KITE_ERR_INVAL;
		if (what == RESP_REQ_CCS_BAD && r->rq_bad == RESP_BAD_REKEY_SPI)
			old = 0xdeadbeef;
		do
			r->rq_new_spi = (uint32_t)resp_rng_next(r);
		while (r->rq_new_spi < 256 || resp_child_by_r(r, r->rq_new_spi));
		resp_be32(spi, old);
		ikev2_enc_notify(e, IKEV2_PROTO_ESP, spi, 4, IKEV2_N_REKEY_SA, NULL, 0);
		s = r->esp;
		resp_be32(spi, r->rq_new_spi);
		resp_suite_proposals(r, &s, 1, spi, props);
		if (group && props[0].n_xf < IKE_MAX_TRANSFORMS)
			props[0].xf[props[0].n_xf++] = (struct ike_transform){ IKEV2_XFORM_DH, group, 0 };
		ikev2_enc_sa(e, props, 1);
		if (!(what == RESP_REQ_CCS_BAD && r->rq_bad == RESP_BAD_NO_NONCE))
			ikev2_enc_nonce(e, r->rq_ni, sizeof(r->rq_ni));
		ke_group = group;
		if (what == RESP_REQ_CCS_BAD && r->rq_bad == RESP_BAD_KE_GROUP)
			ke_group = group == IKEV2_DH_CURVE25519 ? IKEV2_DH_ECP_256 : IKEV2_DH_CURVE25519;
		if (ke_group) {
			if ((r->rq_dh = crypto_dh_new(ke_group)) == NULL ||
			    crypto_dh_pub(r->rq_dh, pub, &publen) != 0)
				return KITE_ERR_CRYPTO;
			ikev2_enc_ke(e, ke_group, pub, publen);
		}
		/* Ours first: TSi = the gateway's side, TSr = kite's virtual IP. */
		memset(&tsi, 0, sizeof(tsi));
		tsi.type = IKEV2_TS_IPV4_ADDR_RANGE;
		tsi.port_end = 65535;
		memcpy(tsi.start, (const uint8_t[4]){ 10, 1, 0, 0 }, 4);
		memcpy(tsi.end, (const uint8_t[4]){ 10, 1, 0, 255 }, 4);
		tsr = tsi;
		memcpy(tsr.start, (const uint8_t[4]){ 10, 3, 0, 1 }, 4);
		memcpy(tsr.end, (const uint8_t[4]){ 10, 3, 0, 1 }, 4);
		ikev2_enc_ts(e, IKEV2_PLD_TSi, &tsi, 1);
		ikev2_enc_ts(e, IKEV2_PLD_TSr, &tsr, 1);
	}
	return 0;
}

/* kite's answer to our CREATE_CHILD_SA: derive what it derived. */
static enum resp_result resp_absorb_ccs(struct resp *r, const struct ike_msg *m)
{
	struct ike_proposal props[2];
	struct resp_suite s;
	uint8_t gir[CRYPTO_MAX_DH_SECRET];
	size_t n = 0, gir_len = 0;
	int kind = r->my_req_kind, rc;

	if ((kind == RESP_REQ_DELETE_OLD_IKE || kind == RESP_REQ_DELETE_ALT_IKE) && r->in_old)
		r->routed_deleted = 1;
	if (kind == RESP_REQ_DELETE_CHILD && resp_child_by_r(r, r->rq_spi))
		resp_child_by_r(r, r->rq_spi)->alive = 0;
	if (kind != RESP_REQ_REKEY_CHILD && kind != RESP_REQ_REKEY_IKE)
		return RESP_ABSORBED;
	r->rq_nr_len = 0;
	if (r->peer_resp_notify || !m->sa.p || !m->nonce.p || m->nonce.len > sizeof(r->rq_nr))
		goto out;
	memcpy(r->rq_nr, m->nonce.p, m->nonce.len);
	r->rq_nr_len = m->nonce.len;
	if (ikev2_pld_parse_sa(m->sa, props, 2, &n) != 0 || n != 1) {
		resp_errf(r, "kite's CREATE_CHILD_SA answer has %zu proposals", n);
		return RESP_REJECTED;
	}
	if (!resp_pick(&props[0], kind == RESP_REQ_REKEY_CHILD, 0, &s)) {
		resp_errf(r, "kite chose an unusable proposal");
		return RESP_REJECTED;
	}
	if (r->rq_dh) {
		gir_len = sizeof(gir);
		if (!m->ke.p || crypto_dh_shared(r->rq_dh, m->ke.p, m->ke.len, gir, &gir_len) != 0) {
			resp_errf(r, "kite's CREATE_CHILD_SA answer has no usable KE");
			return RESP_REJECTED;
		}
	}
	if (kind == RESP_REQ_REKEY_CHILD) {
		rc = resp_new_child(r, &s, gir, gir_len, r->rq_ni, sizeof(r->rq_ni), m->nonce.p,
				    m->nonce.len, 1, resp_get_be32(props[0].spi), r->rq_new_spi,
				    r->rq_dh ? crypto_dh_group(r->rq_dh) : 0);
	} else {
		s.dh = r->rq_dh ? crypto_dh_group(r->rq_dh) : 0;
		/* Answered on the old SA while we already switched to kite's rekey: a collision. */
		rc = resp_ike_switch(r, &s, gir, gir_len, r->rq_ni, sizeof(r->rq_ni), m->nonce.p,
				     m->nonce.len, r->rq_spi8, props[0].spi, 1, r->in_old);
	}
	crypto_wipe(gir, sizeof(gir));
	if (rc != 0) {
		resp_errf(r, "key derivation for kite's answer failed: %s", kite_strerror(rc));
		return RESP_REJECTED;
	}
out:
	crypto_dh_free(r->rq_dh);
	r->rq_dh = NULL;
	return RESP_ABSORBED;
}

enum resp_result resp_input(struct resp *r, const uint8_t *buf, size_t len)
{
	struct ike_hdr h;
	int rc;

	r->n_out = 0;
	r->err[0] = '\0';
	r->n_rx++;
	if (len > RESP_BUF || (rc = ikev2_pld_parse_hdr(buf, len, &h)) != 0) {
		resp_errf(r, "IKE header does not parse");
		return RESP_REJECTED;
	}
	for (int k = 0; k < 2 && !r->in_old; k++) {
		/* For the IKE SA before the last rekey or reauthentication, or a collision's other one. */
		struct resp_ikectx *c = k ? &r->alt : &r->old;
		enum resp_result res;

		if (!c->valid || memcmp(h.spi_i, c->spi_i, 8) || memcmp(h.spi_r, c->spi_r, 8))
			continue;
		resp_ctx_swap(r, c);
		r->in_old = 1;
		r->routed_deleted = 0;
		r->n_rx--;
		res = resp_input(r, buf, len);
		r->in_old = 0;
		resp_ctx_swap(r, c);
		if (r->routed_deleted) {
			resp_ctx_free(c);
			if (k)
				r->alt_deleted = 1;
			else
				r->old_deleted = 1;
		}
		return res;
	}
	/* kite sets the Initiator flag while it is the original initiator (RFC 7296 2.18) */
	if (!(h.flags & IKEV2_FLAG_INITIATOR) != !!r->orig_init) {
		resp_errf(r, "message from kite with the Initiator flag %s",
			  (h.flags & IKEV2_FLAG_INITIATOR) ? "set" : "clear");
		return RESP_REJECTED;
	}
	if (h.flags & IKEV2_FLAG_RESPONSE)
		return resp_absorb(r, buf, len, &h);
	if (r->drop_n) {
		r->drop_n--;
		r->n_dropped++;
		return RESP_DROPPED;
	}
	if (h.exchange == IKEV2_EXCH_IKE_SA_INIT)
		return resp_sa_init(r, buf, len);
	if (!r->have_sa || memcmp(h.spi_i, r->spi_i, 8) != 0 || memcmp(h.spi_r, r->spi_r, 8) != 0) {
		resp_errf(r, "%s request for an unknown IKE SA", ikev2_exchange_name(h.exchange));
		return RESP_REJECTED;
	}
	/* RFC 7296 2.1: a retransmitted request gets the cached response, bit for bit. */
	if (r->have_last && h.msgid == r->last_msgid && len == r->last_req_len &&
	    !memcmp(buf, r->last_req, len)) {
		r->n_resent++;
		resp_out_add(r, r->last_resp.buf, r->last_resp.len);
		return RESP_RESENT;
	}
	if (h.msgid != r->next_req_msgid) {
		resp_errf(r, "request with message ID %u, expected %u", h.msgid, r->next_req_msgid);
		return RESP_REJECTED;
	}
	switch (h.exchange) {
	case IKEV2_EXCH_IKE_AUTH:
		return resp_ike_auth(r, buf, len, &h);
	case IKEV2_EXCH_INFORMATIONAL:
		return resp_info(r, buf, len, &h);
	case IKEV2_EXCH_CREATE_CHILD_SA:
		return resp_ccs(r, buf, len, &h);
	default:
		resp_errf(r, "unexpected %s request", ikev2_exchange_name(h.exchange));
		return RESP_REJECTED;
	}
}

/* ---- our own requests ---- */

int resp_request(struct resp *r, enum resp_req what)
{
	static uint8_t inner[RESP_BUF];
	uint8_t exch = IKEV2_EXCH_INFORMATIONAL;
	struct ike_enc e;
	size_t len;
	int rc;

	r->n_out = 0;
	if (what == RESP_REQ_DELETE_OLD_IKE || what == RESP_REQ_DELETE_ALT_IKE) {
		struct resp_ikectx *c = what == RESP_REQ_DELETE_OLD_IKE ? &r->old : &r->alt;

		if (!c->valid)
			return KITE_ERR_INVAL;
		resp_ctx_swap(r, c);
		r->in_old = 1;
		rc = resp_request(r, RESP_REQ_DELETE_IKE);
		r->my_req_kind = what;
		r->in_old = 0;
		resp_ctx_swap(r, c);
		return rc;
	}
	if (!r->have_sa || !r->aead_r)
		return KITE_ERR_INVAL;
	ikev2_enc_init_inner(&e, inner, sizeof(inner));
	switch (what) {
	case RESP_REQ_DELETE_IKE:
		ikev2_enc_delete(&e, IKEV2_PROTO_IKE, 0, NULL, 0);
		break;
	case RESP_REQ_DELETE_CHILD: {
		uint8_t spi[4];

		resp_be32(spi, r->rq_spi);
		ikev2_enc_delete(&e, IKEV2_PROTO_ESP, 4, spi, 1);
		break;
	}
	case RESP_REQ_REKEY_CHILD:
	case RESP_REQ_REKEY_IKE:
	case RESP_REQ_CCS_BAD:
		if ((rc = resp_build_ccs_request(r, what, &e)) != 0)
			return rc;
		exch = IKEV2_EXCH_CREATE_CHILD_SA;
		break;
	default:
		break;
	}
	if (!wbuf_ok(&e.w))
		return KITE_ERR_INVAL;
	/* Requests from the original responder: Initiator and Response flags clear. */
	len = resp_seal(r, 0, exch, 0, r->my_msgid, e.first, inner, e.w.len,
			r->my_req.buf, sizeof(r->my_req.buf));
	if (!len)
		return KITE_ERR_INVAL;
	r->my_req.len = len;
	r->my_req_pending = 1;
	r->my_req_kind = what;
	resp_out_add(r, r->my_req.buf, len);
	return 0;
}

int resp_resend_request(struct resp *r)
{
	r->n_out = 0;
	if (!r->my_req_pending)
		return KITE_ERR_INVAL;
	resp_out_add(r, r->my_req.buf, r->my_req.len);
	return 0;
}
