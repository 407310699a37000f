/*
 * ike_child: CHILD SA bookkeeping, CREATE_CHILD_SA in both roles, IKE SA
 * rekeying and reauthentication (RFC 7296 1.3, 2.8, 2.8.1, 2.9, 2.18, 2.25;
 * RFC 4478). See ike_sa_int.h for how it plugs into the core.
 *
 * CHILD SAs. Each one is tracked in sa->children (state machine below); keys
 * go to the data plane through ops->child_up (cfg NULL: a rekey) and are
 * wiped here. A rekey installs the new pair first and removes the old one only
 * once it is deleted, so inbound traffic on the old SA is accepted until then.
 * Outbound moves at once when kite initiated the rekey; when kite answered the
 * gateway's rekey (child_sa.out_later) it moves when the old SA is deleted,
 * because the gateway installs its inbound side only when it reads our answer.
 *
 *   INSTALLED --our rekey sent--> REKEYING --answer--> DELETING (we delete it)
 *   INSTALLED --gateway's rekey answered--> REPLACED (the gateway deletes it;
 *             after REPLACED_WAIT_MS we do)
 *   any --gateway's DELETE--> gone;  DELETING --our DELETE answered--> gone
 *
 * Collisions (2.8.1): when the gateway rekeys the CHILD SA we are rekeying, both
 * exchanges complete; the exchange holding the lowest of the four nonces made
 * the redundant SA and its initiator deletes it, the other side deletes the old
 * one. A rekey request for an SA we are deleting gets TEMPORARY_FAILURE, one for
 * an unknown SPI CHILD_SA_NOT_FOUND (2.25.1).
 *
 * IKE SA rekey (2.18): SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), keys
 * from prf+(SKEYSEED, Ni | Nr | SPIi | SPIr), with i = the rekey's initiator,
 * who becomes the new SA's original initiator (so after the gateway rekeys,
 * kite is the original responder: sa->orig_resp). The old PRF is used for both
 * steps, as strongSwan does (keymat_v2.c); the PRF does not change in practice.
 * The new keys replace the old ones in struct ike_sa in place (CHILD SAs,
 * configuration and counters stay); the old IKE SA lives on as a "zombie", a
 * minimal struct ike_sa that only finishes the DELETE of the old SA (ours, or
 * the gateway's) and answers retransmissions there. Datagrams are steered to it
 * by SPI (ike_child_divert).
 *
 * Reauthentication (RFC 4478 AUTH_LIFETIME, make-before-break): a fresh IKE SA
 * (the "successor", a full struct ike_sa with IKE_SA_INIT + IKE_AUTH, without
 * INITIAL_CONTACT, asking for the same virtual IP, straight to port 4500 when
 * NAT-T is in use) is set up next to the old one. Its CHILD SA goes to the data
 * plane as a rekey would (same device, routes and address), then the two structs
 * swap contents, so the daemon's pointer now holds the new IKE SA, and the old
 * one becomes a zombie that deletes itself (and with it its CHILD SAs).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "ike_sa_int.h"
#include "ikev2.h"
#include "kite.h"
#include "log.h"

enum child_op { CHILD_OP_NONE = 0, CHILD_OP_REKEY, CHILD_OP_CREATE, CHILD_OP_DELETE };
enum ike_op { IKE_OP_NONE = 0, IKE_OP_REKEY };

#define REPLACED_WAIT_MS	10000	/* the gateway deletes what its rekey replaced by then */
#define ZOMBIE_WAIT_MS		30000	/* ... and the old IKE SA after its IKE rekey */
#define RETRY_MIN_MS		5000	/* after TEMPORARY_FAILURE & co (strongSwan: 5..15 s) */
#define RETRY_SPAN_MS		10000
#define REAUTH_RETRY_MS		10000
#define MAX_KE_ROUNDS		3	/* INVALID_KE_PAYLOAD / PFS fallback per rekey */
#define HARD_MARGIN_MS		30000	/* hard lifetime: at least this after the soft one */

static const struct ike_ops zombie_ops;
static const struct ike_ops succ_ops;

static int is_zombie(const struct ike_sa *sa)
{
	return sa->ops == &zombie_ops;
}

static int is_succ(const struct ike_sa *sa)
{
	return sa->ops == &succ_ops;
}

/* ---- small helpers ---- */

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A random value in [0, span]. */
static uint64_t rnd(uint64_t span)
{
	uint32_t r = 0;

	if (!span || crypto_random(&r, sizeof(r)) != 0)
		return 0;
	return (uint64_t)r % (span + 1);
}

static uint64_t retry_delay(void)
{
	return RETRY_MIN_MS + rnd(RETRY_SPAN_MS);
}

/* Nonce order for collisions: bytes first, then length (strongSwan chunk_compare_prefix). */
static int nonce_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

static void lower_nonce(const uint8_t *a, size_t al, const uint8_t *b, size_t bl,
			uint8_t *out, size_t *ol)
{
	if (nonce_cmp(a, al, b, bl) <= 0) {
		memcpy(out, a, al);
		*ol = al;
	} else {
		memcpy(out, b, bl);
		*ol = bl;
	}
}

static void spi_hex(const uint8_t spi[8], char out[17])
{
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", spi[i]);
}

/* ---- CHILD SA table ---- */

static struct ike_child *child_in(struct ike_sa *sa, uint32_t spi_in)
{
	for (unsigned i = 0; i < IKE_MAX_CHILDREN; i++)
		if (sa->children[i].state != IKE_CHILD_NONE && sa->children[i].spi_in == spi_in)
			return &sa->children[i];
	return NULL;
}

static struct ike_child *child_out(struct ike_sa *sa, uint32_t spi_out)
{
	for (unsigned i = 0; i < IKE_MAX_CHILDREN; i++)
		if (sa->children[i].state != IKE_CHILD_NONE && sa->children[i].spi_out == spi_out)
			return &sa->children[i];
	return NULL;
}

static int child_usable(const struct ike_child *ch)
{
	return ch->state == IKE_CHILD_INSTALLED || ch->state == IKE_CHILD_REKEYING;
}

static unsigned n_usable(const struct ike_sa *sa)
{
	unsigned n = 0;

	for (unsigned i = 0; i < IKE_MAX_CHILDREN; i++)
		n += child_usable(&sa->children[i]);
	return n;
}

/* The newest CHILD SA in use (the one kite status reports). */
static const struct ike_child *child_newest(const struct ike_sa *sa)
{
	const struct ike_child *best = NULL;

	for (unsigned i = 0; i < IKE_MAX_CHILDREN; i++) {
		const struct ike_child *ch = &sa->children[i];

		if (child_usable(ch) && (!best || ch->created >= best->created))
			best = ch;
	}
	return best;
}

/* Our new inbound SPI: random, 1..255 reserved (RFC 4303 2.1), unique among ours. */
static int fresh_spi(struct ike_sa *sa, uint32_t *spi)
{
	for (int tries = 0; tries < 64; tries++) {
		uint32_t v;

		if (crypto_random(&v, sizeof(v)) != 0)
			return KITE_ERR_CRYPTO;
		if (v >= 256 && !child_in(sa, v) && v != sa->rk.child_new) {
			*spi = v;
			return 0;
		}
	}
	return KITE_ERR_CRYPTO;
}

static void child_schedule(const struct ike_sa *sa, struct ike_child *ch, uint64_t now)
{
	uint64_t l = (uint64_t)sa->p.prof->child_rekey_s * 1000;

	ch->created = now;
	ch->rekey_due = 0;
	if (!l) {
		ch->rekey_at = ch->expire_at = 0;
		return;
	}
	/* Soft: up to 10 % early, so both ends rarely start at once; hard: later by
	 * 10 %, at least HARD_MARGIN_MS (time for retransmissions and retries). */
	ch->rekey_at = now + l - rnd(l / 10);
	ch->expire_at = now + l + (l / 10 > HARD_MARGIN_MS ? l / 10 : HARD_MARGIN_MS);
}

static struct ike_child *child_track(struct ike_sa *sa, const struct child_sa *c, int installed,
				     uint64_t now)
{
	for (unsigned i = 0; i < IKE_MAX_CHILDREN; i++) {
		struct ike_child *ch = &sa->children[i];

		if (ch->state != IKE_CHILD_NONE)
			continue;
		memset(ch, 0, sizeof(*ch));
		ch->state = IKE_CHILD_INSTALLED;
		ch->spi_in = c->spi_in;
		ch->spi_out = c->spi_out;
		ch->encr = c->encr;
		ch->encr_bits = c->encr_bits;
		ch->integ = c->integ;
		ch->dh = c->dh;
		ch->esn = c->esn;
		ch->installed = installed;
		child_schedule(sa, ch, now);
		return ch;
	}
	log_warn("no room to track CHILD SA %08x", c->spi_in);
	return NULL;
}

/* Take a CHILD SA out of the data plane (inbound stops being accepted). */
static void child_remove(struct ike_sa *sa, struct ike_child *ch)
{
	if (ch->installed && sa->ops->child_down)
		sa->ops->child_down(sa->ctx, sa, ch->spi_in);
	ch->installed = 0;
}

static void child_forget(struct ike_sa *sa, struct ike_child *ch)
{
	child_remove(sa, ch);
	memset(ch, 0, sizeof(*ch));
}

static void wipe_child_keys(struct child_sa *c)
{
	crypto_wipe(c->enc_in, sizeof(c->enc_in));
	crypto_wipe(c->enc_out, sizeof(c->enc_out));
	crypto_wipe(c->integ_in, sizeof(c->integ_in));
	crypto_wipe(c->integ_out, sizeof(c->integ_out));
}

/* Hand a new pair to the data plane (cfg NULL: not the first one); keys are wiped. */
static int child_install(struct ike_sa *sa, struct child_sa *c)
{
	int r = 0;

	if (sa->ops->child_up)
		r = sa->ops->child_up(sa->ctx, sa, c, NULL);
	wipe_child_keys(c);
	if (r == 0) {
		/* sa->child: the latest pair, without keys (its selectors seed the next rekey) */
		sa->child = *c;
	}
	return r;
}

/* Is there CHILD work for the request channel (IKE_TASK_CHILD_REKEY)? */
static int child_work_pending(const struct ike_sa *sa, uint64_t now)
{
	for (unsigned i = 0; i < IKE_MAX_CHILDREN; i++) {
		const struct ike_child *ch = &sa->children[i];

		if (ch->state == IKE_CHILD_DELETING && !ch->del_sent)
			return 1;
		if (ch->state == IKE_CHILD_INSTALLED && ch->rekey_due)
			return 1;
	}
	return sa->rk.need_create && now >= sa->rk.create_at;
}

static void child_kick(struct ike_sa *sa, uint64_t now)
{
	if (!is_zombie(sa) && !is_succ(sa) && sa->state == IKE_STATE_ESTABLISHED &&
	    child_work_pending(sa, now))
		ike_task_queue(sa, IKE_TASK_CHILD_REKEY, now);
}

/* No CHILD SA left and none on the way: create one (the tunnel's routes stay). */
static void child_check_empty(struct ike_sa *sa, uint64_t now)
{
	if (is_zombie(sa) || is_succ(sa) || sa->state != IKE_STATE_ESTABLISHED || n_usable(sa))
		return;
	if (sa->req_active && sa->task_active == IKE_TASK_CHILD_REKEY &&
	    (sa->rk.child_op == CHILD_OP_REKEY || sa->rk.child_op == CHILD_OP_CREATE))
		return;		/* the answer brings one */
	if (!sa->rk.need_create) {
		log_warn("no CHILD SA left: creating a new one");
		sa->rk.need_create = 1;
		sa->rk.create_at = now;
	}
}

/* ---- IKE SA lifetimes ---- */

static void ike_schedule(struct ike_sa *sa, uint64_t now)
{
	uint64_t l = (uint64_t)sa->p.prof->ike_rekey_s * 1000;

	sa->rk.ike_created = now;
	sa->rk.ike_due = 0;
	sa->rk.ike_tries = 0;
	if (!l) {
		sa->rk.ike_rekey_at = sa->rk.ike_expire_at = 0;
		return;
	}
	sa->rk.ike_rekey_at = now + l - rnd(l / 10);
	sa->rk.ike_expire_at = now + l + (l / 10 > HARD_MARGIN_MS ? l / 10 : HARD_MARGIN_MS);
}

/* RFC 4478: reauthenticate before the gateway's AUTH_LIFETIME runs out. */
static void set_auth_lifetime(struct ike_sa *sa, uint32_t secs, uint64_t now)
{
	uint64_t life = (uint64_t)secs * 1000, margin = life / 10;

	if (margin < 1000)
		margin = 1000;
	if (margin > 300000)
		margin = 300000;
	sa->rk.auth_expire_at = now + life;
	sa->rk.reauth_at = life > margin ? now + life - margin : now;
	sa->rk.reauth_due = 0;
	log_info("the gateway requires reauthentication within %u s (AUTH_LIFETIME): "
		 "reauthenticating in %llu s", secs,
		 (unsigned long long)((sa->rk.reauth_at - now) / 1000));
}

static void auth_lifetime_notify(struct ike_sa *sa, const struct ike_msg *m, uint64_t now)
{
	const struct ike_notify *n = ikev2_msg_notify(m, IKEV2_N_AUTH_LIFETIME);

	if (n && n->data.len == 4)
		set_auth_lifetime(sa, get_be32(n->data.p), now);
}

/* ---- proposals ---- */

/*
 * PFS groups kite offers for a CHILD SA: the 'esp' proposal's groups when
 * given, else the IKE SA's group and the other 'ike' groups. first: put first.
 */
static size_t pfs_groups(const struct ike_sa *sa, const struct kite_proposal *kp, uint16_t first,
			 uint16_t *out, size_t max)
{
	const struct kite_profile *prof = sa->p.prof;
	size_t n = 0;

#define ADD_GROUP(g) do { \
		uint16_t g_ = (g); int dup_ = 0; \
		for (size_t k_ = 0; k_ < n; k_++) \
			dup_ |= out[k_] == g_; \
		if (!dup_ && n < max && crypto_dh_supported(g_)) \
			out[n++] = g_; \
	} while (0)
	if (first)
		ADD_GROUP(first);
	if (kp && kp->n_dh) {
		for (unsigned j = 0; j < kp->n_dh; j++)
			ADD_GROUP(kp->dh[j]);
		return n;
	}
	ADD_GROUP(sa->dh_group);
	for (unsigned i = 0; i < prof->n_ike; i++)
		for (unsigned j = 0; j < prof->ike[i].n_dh; j++)
			ADD_GROUP(prof->ike[i].dh[j]);
#undef ADD_GROUP
	return n;
}

/* Our ESP proposals with a new SPI, plus DH transforms for PFS (RFC 7296 1.3.1). */
static size_t child_proposals(struct ike_sa *sa, uint32_t spi, uint16_t pfs_group,
			      struct ike_proposal *pr, size_t max)
{
	const struct kite_profile *prof = sa->p.prof;
	uint32_t save = sa->child_spi_in;
	size_t n;

	sa->child_spi_in = spi;
	n = build_esp_proposals(sa, pr, max);
	sa->child_spi_in = save;
	if (!pfs_group)
		return n;
	for (size_t i = 0; i < n && i < prof->n_esp; i++) {
		struct ike_proposal *p = &pr[i];
		uint16_t g[KITE_MAX_ALGS + 8];
		size_t ng = pfs_groups(sa, &prof->esp[i], pfs_group, g, KITE_ARRAY_SIZE(g));

		for (size_t j = 0; j < ng && p->n_xf < IKE_MAX_TRANSFORMS; j++)
			p->xf[p->n_xf++] = (struct ike_transform){ IKEV2_XFORM_DH, g[j], 0 };
	}
	return n;
}

/* The group kite sends a KE for when rekeying a CHILD SA. */
static uint16_t child_pfs_group(const struct ike_sa *sa)
{
	const struct kite_profile *prof = sa->p.prof;

	for (unsigned i = 0; i < prof->n_esp; i++)
		for (unsigned j = 0; j < prof->esp[i].n_dh; j++)
			if (crypto_dh_supported(prof->esp[i].dh[j]))
				return prof->esp[i].dh[j];
	return sa->dh_group;
}

/* PFS groups kite accepts from the gateway: the 'esp' groups, else the 'ike' ones. */
static int pfs_group_ok(const struct ike_sa *sa, uint16_t g)
{
	const struct kite_profile *prof = sa->p.prof;
	int any = 0;

	if (!crypto_dh_supported(g))
		return 0;
	for (unsigned i = 0; i < prof->n_esp; i++)
		for (unsigned j = 0; j < prof->esp[i].n_dh; j++) {
			any = 1;
			if (prof->esp[i].dh[j] == g)
				return 1;
		}
	if (any)
		return 0;
	for (unsigned i = 0; i < prof->n_ike; i++)
		for (unsigned j = 0; j < prof->ike[i].n_dh; j++)
			if (prof->ike[i].dh[j] == g)
				return 1;
	return g == sa->dh_group;
}

static size_t ike_proposals(const struct ike_sa *sa, const uint8_t spi[8], struct ike_proposal *pr,
			    size_t max)
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
		p->spi_size = 8;
		memcpy(p->spi, spi, 8);
		for (unsigned j = 0; j < kp->n_encr && x < IKE_MAX_TRANSFORMS; j++)
			p->xf[x++] = (struct ike_transform){ IKEV2_XFORM_ENCR, kp->encr[j], kp->encr_bits[j] };
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

static int ike_group_offered(const struct ike_sa *sa, uint16_t g)
{
	const struct kite_profile *prof = sa->p.prof;

	for (unsigned i = 0; i < prof->n_ike; i++)
		for (unsigned j = 0; j < prof->ike[i].n_dh; j++)
			if (prof->ike[i].dh[j] == g)
				return crypto_dh_supported(g);
	return 0;
}

/* The KE group for our IKE rekey: the current one if still offered, else the first. */
static uint16_t ike_rekey_group(const struct ike_sa *sa)
{
	const struct kite_profile *prof = sa->p.prof;

	if (ike_group_offered(sa, sa->dh_group))
		return sa->dh_group;
	for (unsigned i = 0; i < prof->n_ike; i++)
		for (unsigned j = 0; j < prof->ike[i].n_dh; j++)
			if (crypto_dh_supported(prof->ike[i].dh[j]))
				return prof->ike[i].dh[j];
	return 0;
}

static int xf_in(const struct kite_proposal *kp, uint8_t type, uint16_t id, uint16_t bits)
{
	switch (type) {
	case IKEV2_XFORM_ENCR:
		for (unsigned i = 0; i < kp->n_encr; i++)
			if (kp->encr[i] == id && kp->encr_bits[i] == bits)
				return 1;
		return 0;
	case IKEV2_XFORM_PRF:
		for (unsigned i = 0; i < kp->n_prf; i++)
			if (kp->prf[i] == id)
				return 1;
		return 0;
	case IKEV2_XFORM_INTEG:
		for (unsigned i = 0; i < kp->n_integ; i++)
			if (kp->integ[i] == id)
				return 1;
		return 0;
	default:
		return 0;
	}
}

/*
 * Pick from the gateway's proposal p a suite that our proposal kp allows
 * (responder role). DH: the KE's group if acceptable, else the first
 * acceptable one of p (the caller answers INVALID_KE_PAYLOAD then); a
 * proposal without DH (no PFS) is accepted as well (RFC 7296 1.3.1).
 * is_ike: an IKE SA rekey (PRF and DH required).
 */
static int pick_suite(const struct ike_sa *sa, const struct ike_proposal *p,
		      const struct kite_proposal *kp, int is_ike, uint16_t ke_group,
		      struct chosen *c)
{
	int aead, esn_no = 0, esn_yes = 0, any_esn = 0;

	memset(c, 0, sizeof(*c));
	for (unsigned i = 0; i < p->n_xf; i++) {
		const struct ike_transform *t = &p->xf[i];

		switch (t->type) {
		case IKEV2_XFORM_ENCR:
			if (!c->encr && xf_in(kp, t->type, t->id, t->key_bits) &&
			    crypto_aead_enc_key_len(t->id, t->key_bits)) {
				c->encr = t->id;
				c->encr_bits = t->key_bits;
			}
			break;
		case IKEV2_XFORM_PRF:
			if (!c->has_prf && xf_in(kp, t->type, t->id, 0) && crypto_prf_len(t->id)) {
				c->has_prf = 1;
				c->prf = t->id;
			}
			break;
		case IKEV2_XFORM_INTEG:
			if (!c->has_integ && t->id != IKEV2_INTEG_NONE && xf_in(kp, t->type, t->id, 0) &&
			    crypto_aead_integ_key_len(t->id)) {
				c->has_integ = 1;
				c->integ = t->id;
			}
			break;
		case IKEV2_XFORM_DH:
			if (t->id == IKEV2_DH_NONE)
				break;
			if (is_ike ? !ike_group_offered(sa, t->id) : !pfs_group_ok(sa, t->id))
				break;
			if (!c->has_dh || t->id == ke_group) {
				c->has_dh = 1;
				c->dh = t->id;
			}
			break;
		case IKEV2_XFORM_ESN:
			any_esn = 1;
			if (t->id == IKEV2_ESN_NO)
				esn_no = 1;
			else if (t->id == IKEV2_ESN_YES)
				esn_yes = 1;
			break;
		}
	}
	if (!c->encr)
		return 0;
	aead = crypto_encr_is_aead(c->encr);
	if (aead) {
		c->has_integ = 0;
		c->integ = IKEV2_INTEG_NONE;
	} else if (!c->has_integ) {
		return 0;
	}
	if (is_ike)
		return c->has_prf && c->has_dh;
	/* A DH offered but none acceptable: not this proposal. */
	for (unsigned i = 0; i < p->n_xf && !c->has_dh; i++)
		if (p->xf[i].type == IKEV2_XFORM_DH && p->xf[i].id != IKEV2_DH_NONE)
			return 0;
	if (any_esn) {
		c->has_esn = 1;
		if (kp->esn == 1 ? esn_yes : kp->esn == 2 ? (esn_no || esn_yes) : esn_no)
			c->esn = (kp->esn == 1 || (kp->esn == 2 && !esn_no)) ? IKEV2_ESN_YES : IKEV2_ESN_NO;
		else
			return 0;
	}
	return 1;
}

/* Our answer's single proposal for a picked suite. */
static void answer_proposal(const struct ike_proposal *theirs, const struct chosen *c, int is_ike,
			    const uint8_t *spi, struct ike_proposal *out)
{
	unsigned x = 0;

	memset(out, 0, sizeof(*out));
	out->num = theirs->num;
	out->proto = is_ike ? IKEV2_PROTO_IKE : IKEV2_PROTO_ESP;
	out->spi_size = is_ike ? 8 : 4;
	memcpy(out->spi, spi, out->spi_size);
	out->xf[x++] = (struct ike_transform){ IKEV2_XFORM_ENCR, c->encr, c->encr_bits };
	if (is_ike)
		out->xf[x++] = (struct ike_transform){ IKEV2_XFORM_PRF, c->prf, 0 };
	if (c->has_integ)
		out->xf[x++] = (struct ike_transform){ IKEV2_XFORM_INTEG, c->integ, 0 };
	if (c->has_dh)
		out->xf[x++] = (struct ike_transform){ IKEV2_XFORM_DH, c->dh, 0 };
	if (!is_ike && c->has_esn)
		out->xf[x++] = (struct ike_transform){ IKEV2_XFORM_ESN, c->esn, 0 };
	out->n_xf = (uint8_t)x;
}

/* ---- key derivation ---- */

/*
 * KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr) (RFC 7296 2.17): the
 * exchange initiator's outbound keys come first.
 */
static int child_keys(struct ike_sa *sa, struct child_sa *c, const uint8_t *gir, size_t gir_len,
		      const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
		      int we_initiated)
{
	uint8_t seed[CRYPTO_MAX_DH_SECRET + 2 * IKEV2_NONCE_MAX], km[4 * 64];
	size_t ek = crypto_aead_enc_key_len(c->encr, c->encr_bits);
	size_t ak = crypto_encr_is_aead(c->encr) ? 0 : crypto_aead_integ_key_len(c->integ);
	size_t sl = 0;
	const uint8_t *i2r, *r2i;
	int r;

	if (!ek || ek > sizeof(c->enc_in) || ak > sizeof(c->integ_in) ||
	    gir_len > CRYPTO_MAX_DH_SECRET || ni_len > IKEV2_NONCE_MAX || nr_len > IKEV2_NONCE_MAX)
		return KITE_ERR_UNSUPPORTED;
	if (gir_len) {
		memcpy(seed, gir, gir_len);
		sl = gir_len;
	}
	memcpy(seed + sl, ni, ni_len);
	sl += ni_len;
	memcpy(seed + sl, nr, nr_len);
	sl += nr_len;
	r = crypto_prf_plus(sa->prf, sa->sk_d, sa->prf_len, seed, sl, km, 2 * (ek + ak));
	crypto_wipe(seed, sizeof(seed));
	if (r != 0)
		return r;
	i2r = km;
	r2i = km + ek + ak;
	memcpy(we_initiated ? c->enc_out : c->enc_in, i2r, ek);
	memcpy(we_initiated ? c->integ_out : c->integ_in, i2r + ek, ak);
	memcpy(we_initiated ? c->enc_in : c->enc_out, r2i, ek);
	memcpy(we_initiated ? c->integ_in : c->integ_out, r2i + ek, ak);
	c->enc_len = ek;
	c->integ_len = ak;
	crypto_wipe(km, sizeof(km));
	return 0;
}

static void keys_clear(struct ike_keys *k)
{
	crypto_aead_free(k->in);
	crypto_aead_free(k->out);
	crypto_wipe(k, sizeof(*k));
}

/*
 * New IKE SA keys (RFC 7296 2.18): SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr);
 * {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr).
 * k's algorithms, SPIs and orig_resp are set by the caller.
 */
static int ike_keys_derive(const struct ike_sa *sa, struct ike_keys *k, const uint8_t *gir,
			   size_t gir_len, const uint8_t *ni, size_t ni_len, const uint8_t *nr,
			   size_t nr_len)
{
	uint8_t seed[CRYPTO_MAX_DH_SECRET + 2 * IKEV2_NONCE_MAX + 16], skeyseed[CRYPTO_MAX_PRF_LEN];
	uint8_t km[3 * CRYPTO_MAX_PRF_LEN + 2 * CRYPTO_MAX_KEY + 2 * 64];
	size_t ek = crypto_aead_enc_key_len(k->encr, k->encr_bits);
	size_t ak = crypto_encr_is_aead(k->encr) ? 0 : crypto_aead_integ_key_len(k->integ);
	size_t pl = crypto_prf_len(k->prf), sl, need, off;
	const uint8_t *ai, *ar, *ei, *er;
	int r = KITE_ERR_CRYPTO;

	if (!ek || !pl || (!crypto_encr_is_aead(k->encr) && !ak) ||
	    gir_len > CRYPTO_MAX_DH_SECRET || ni_len > IKEV2_NONCE_MAX || nr_len > IKEV2_NONCE_MAX)
		return KITE_ERR_UNSUPPORTED;
	k->prf_len = pl;
	memcpy(seed, gir, gir_len);
	memcpy(seed + gir_len, ni, ni_len);
	memcpy(seed + gir_len + ni_len, nr, nr_len);
	if (crypto_prf(sa->prf, sa->sk_d, sa->prf_len, seed, gir_len + ni_len + nr_len, NULL, 0,
		       skeyseed) != 0)
		goto out;
	memcpy(seed, ni, ni_len);
	memcpy(seed + ni_len, nr, nr_len);
	memcpy(seed + ni_len + nr_len, k->spi_i, 8);
	memcpy(seed + ni_len + nr_len + 8, k->spi_r, 8);
	sl = ni_len + nr_len + 16;
	need = 3 * pl + 2 * ak + 2 * ek;
	if (need > sizeof(km) ||
	    crypto_prf_plus(sa->prf, skeyseed, sa->prf_len, seed, sl, km, need) != 0)
		goto out;
	memcpy(k->sk_d, km, pl);
	off = pl;
	ai = km + off;
	ar = ai + ak;
	ei = ar + ak;
	er = ei + ek;
	off += 2 * ak + 2 * ek;
	memcpy(k->sk_pi, km + off, pl);
	memcpy(k->sk_pr, km + off + pl, pl);
	crypto_aead_free(k->in);
	crypto_aead_free(k->out);
	/* The original initiator sends with SK_ei/SK_ai. */
	k->out = crypto_aead_new(k->encr, k->encr_bits, k->integ, k->orig_resp ? er : ei,
				 ak ? (k->orig_resp ? ar : ai) : NULL);
	k->in = crypto_aead_new(k->encr, k->encr_bits, k->integ, k->orig_resp ? ei : er,
				ak ? (k->orig_resp ? ai : ar) : NULL);
	r = (k->in && k->out) ? 0 : KITE_ERR_CRYPTO;
out:
	crypto_wipe(seed, sizeof(seed));
	crypto_wipe(skeyseed, sizeof(skeyseed));
	crypto_wipe(km, sizeof(km));
	return r;
}

static void proposal_name(const struct ike_keys *k, char *out, size_t len)
{
	char e[40];

	if (k->encr == IKEV2_ENCR_AES_GCM_16 || k->encr == IKEV2_ENCR_AES_CBC)
		snprintf(e, sizeof(e), "%s_%u", ikev2_encr_name(k->encr), k->encr_bits);
	else
		snprintf(e, sizeof(e), "%s", ikev2_encr_name(k->encr));
	if (crypto_encr_is_aead(k->encr))
		snprintf(out, len, "%s/PRF_%s/%s", e, ikev2_prf_name(k->prf), ike_dh_str(k->dh));
	else
		snprintf(out, len, "%s/%s/PRF_%s/%s", e, ikev2_integ_name(k->integ),
			 ikev2_prf_name(k->prf), ike_dh_str(k->dh));
}

/* ---- old IKE SAs ("zombies") ---- */

/*
 * A minimal IKE SA that only finishes the old SA's DELETE: SPIs, keys (moved
 * from src), message IDs and the cached answer. It reports through zombie_ops.
 */
static struct ike_sa *zombie_new(struct ike_sa *sa)
{
	struct ike_sa *z = calloc(1, sizeof(*z));

	if (!z)
		return NULL;
	z->p = sa->p;
	z->ops = &zombie_ops;
	z->ctx = sa;
	z->state = IKE_STATE_ESTABLISHED;
	z->natt = sa->natt;
	z->nat_local = sa->nat_local;
	z->nat_remote = sa->nat_remote;
	return z;
}

/* The current IKE SA's wire state moves into a zombie (sa keeps nothing of it). */
static struct ike_sa *zombie_from_current(struct ike_sa *sa)
{
	struct ike_sa *z = zombie_new(sa);

	if (!z)
		return NULL;
	memcpy(z->spi_i, sa->spi_i, 8);
	memcpy(z->spi_r, sa->spi_r, 8);
	z->orig_resp = sa->orig_resp;
	z->encr = sa->encr;
	z->encr_bits = sa->encr_bits;
	z->prf = sa->prf;
	z->integ = sa->integ;
	z->prf_len = sa->prf_len;
	memcpy(z->sk_d, sa->sk_d, sizeof(z->sk_d));
	z->sk_in = sa->sk_in;
	z->sk_out = sa->sk_out;
	sa->sk_in = sa->sk_out = NULL;
	z->iv_ctr = sa->iv_ctr;
	z->msgid_next = sa->msgid_next;
	z->peer_msgid_next = sa->peer_msgid_next;
	if (sa->resp_valid) {
		memcpy(z->resp, sa->resp, sa->resp_len);
		z->resp_len = sa->resp_len;
		z->resp_valid = 1;
		z->resp_natt = sa->resp_natt;
	}
	memcpy(z->proposal, sa->proposal, sizeof(z->proposal));
	return z;
}

static struct ike_sa *zombie_from_keys(struct ike_sa *sa, struct ike_keys *k)
{
	struct ike_sa *z = zombie_new(sa);

	if (!z)
		return NULL;
	memcpy(z->spi_i, k->spi_i, 8);
	memcpy(z->spi_r, k->spi_r, 8);
	z->orig_resp = k->orig_resp;
	z->encr = k->encr;
	z->encr_bits = k->encr_bits;
	z->prf = k->prf;
	z->integ = k->integ;
	z->prf_len = k->prf_len;
	z->sk_in = k->in;
	z->sk_out = k->out;
	k->in = k->out = NULL;
	keys_clear(k);
	return z;
}

/* Keep a zombie: we_delete: send its DELETE now; else wait for the gateway's. */
static void zombie_add(struct ike_sa *sa, struct ike_sa *z, int we_delete, uint64_t now)
{
	unsigned i;
	char si[17], sr[17];

	if (!z)
		return;
	for (i = 0; i < IKE_MAX_ZOMBIES && sa->rk.zombie[i]; i++)
		;
	if (i == IKE_MAX_ZOMBIES) {
		log_warn("too many old IKE SAs; dropping one without its DELETE");
		ike_sa_free(z);
		return;
	}
	spi_hex(z->spi_i, si);
	spi_hex(z->spi_r, sr);
	sa->rk.zombie[i] = z;
	sa->rk.zombie_deadline[i] = we_delete ? 0 : now + ZOMBIE_WAIT_MS;
	if (we_delete) {
		log_info("deleting the old IKE SA %s/%s", si, sr);
		ike_task_queue(z, IKE_TASK_DELETE, now);
	} else {
		log_debug("old IKE SA %s/%s kept until the gateway deletes it", si, sr);
	}
}

/* Free zombies that are done; their CHILD SAs (reauthentication) leave the data plane. */
static void zombies_reap(struct ike_sa *sa)
{
	for (unsigned i = 0; i < IKE_MAX_ZOMBIES; i++) {
		struct ike_sa *z = sa->rk.zombie[i];

		if (!z || z->state != IKE_STATE_DOWN)
			continue;
		for (unsigned j = 0; j < IKE_MAX_CHILDREN; j++)
			if (z->children[j].state != IKE_CHILD_NONE)
				child_forget(z, &z->children[j]);
		log_debug("old IKE SA gone (%s)", z->reason[0] ? z->reason : "deleted");
		sa->rk.zombie[i] = NULL;
		ike_sa_free(z);
	}
}

static int zombie_send(void *ctx, const uint8_t *buf, size_t len, int natt)
{
	struct ike_sa *sa = ctx;

	return sa->ops->send(sa->ctx, buf, len, natt);
}

static void zombie_state(void *ctx, struct ike_sa *z, enum ike_state st, const char *reason)
{
}

static int zombie_child_up(void *ctx, struct ike_sa *z, const struct child_sa *c,
			   const struct ike_cfg_result *cfg)
{
	struct ike_sa *sa = ctx;

	return sa->ops->child_up ? sa->ops->child_up(sa->ctx, sa, c, NULL) : 0;
}

static void zombie_child_down(void *ctx, struct ike_sa *z, uint32_t spi_in)
{
	struct ike_sa *sa = ctx;

	if (sa->ops->child_down)
		sa->ops->child_down(sa->ctx, sa, spi_in);
}

static const struct ike_ops zombie_ops = {
	.send = zombie_send,
	.state = zombie_state,
	.child_up = zombie_child_up,
	.child_down = zombie_child_down,
};

/* ---- swapping new IKE SA keys in ---- */

/*
 * The IKE SA is rekeyed: k's keys and SPIs replace the current ones in sa, and
 * the old ones go to a zombie that deletes itself (we_delete) or waits for the
 * gateway's DELETE. CHILD SAs, configuration and queued work stay with sa.
 */
static void ike_swap_in(struct ike_sa *sa, struct ike_keys *k, int we_delete, uint64_t now)
{
	struct ike_sa *z = zombie_from_current(sa);
	char si[17], sr[17];

	if (!z) {
		log_warn("out of memory: the old IKE SA is dropped without its DELETE");
		crypto_aead_free(sa->sk_in);
		crypto_aead_free(sa->sk_out);
		sa->sk_in = sa->sk_out = NULL;
	}
	memcpy(sa->spi_i, k->spi_i, 8);
	memcpy(sa->spi_r, k->spi_r, 8);
	sa->orig_resp = k->orig_resp;
	sa->encr = k->encr;
	sa->encr_bits = k->encr_bits;
	sa->prf = k->prf;
	sa->integ = k->integ;
	sa->prf_len = k->prf_len;
	sa->dh_group = k->dh;
	memcpy(sa->sk_d, k->sk_d, sizeof(sa->sk_d));
	memcpy(sa->sk_pi, k->sk_pi, sizeof(sa->sk_pi));
	memcpy(sa->sk_pr, k->sk_pr, sizeof(sa->sk_pr));
	sa->sk_in = k->in;
	sa->sk_out = k->out;
	k->in = k->out = NULL;
	proposal_name(k, sa->proposal, sizeof(sa->proposal));
	keys_clear(k);
	/* RFC 7296 2.18: the new IKE SA starts its message IDs at 0. */
	sa->iv_ctr = 0;
	sa->msgid_next = 0;
	sa->peer_msgid_next = 0;
	sa->resp_valid = 0;
	sa->resp_len = 0;
	sa->rk.ike_rekeys++;
	ike_schedule(sa, now);
	spi_hex(sa->spi_i, si);
	spi_hex(sa->spi_r, sr);
	log_info("IKE SA rekeyed: spi_i=%s spi_r=%s proposal=%s (%s)", si, sr, sa->proposal,
		 sa->orig_resp ? "the gateway's rekey" : "kite's rekey");
	zombie_add(sa, z, we_delete, now);
}

/* ---- kite's requests: CHILD SA rekey, create, delete ---- */

static int child_send_delete(struct ike_sa *sa, uint64_t now)
{
	uint8_t spis[IKE_MAX_CHILDREN * 4];
	uint16_t n = 0;
	struct ike_enc e;
	int r;

	for (unsigned i = 0; i < IKE_MAX_CHILDREN; i++) {
		struct ike_child *ch = &sa->children[i];

		if (ch->state != IKE_CHILD_DELETING || ch->del_sent)
			continue;
		put_be32(spis + 4 * n++, ch->spi_in);
		ch->del_sent = 1;
	}
	if (!n)
		return KITE_ERR_INVAL;
	ikev2_enc_init_inner(&e, sa->work, sizeof(sa->work));
	ikev2_enc_delete(&e, IKEV2_PROTO_ESP, 4, spis, n);
	if ((r = ike_req_build(sa, IKEV2_EXCH_INFORMATIONAL, &e)) != 0)
		return r;
	sa->rk.child_op = CHILD_OP_DELETE;
	sa->task_active = IKE_TASK_CHILD_REKEY;
	log_info("sending DELETE for %u CHILD SA%s (first %08x)", n, n > 1 ? "s" : "", get_be32(spis));
	ike_req_send(sa, now);	/* a send error is a lost packet: retransmission handles it */
	return 0;
}

/* CREATE_CHILD_SA: [N(REKEY_SA)], SA, Ni, [KEi], TSi, TSr (RFC 7296 1.3.1, 1.3.3). */
static int child_send_create(struct ike_sa *sa, struct ike_child *old, uint64_t now)
{
	struct ike_proposal props[KITE_MAX_PROPOSALS];
	struct rekey_ts { struct ike_ts tsi[IKE_MAX_TS], tsr[IKE_MAX_TS]; size_t ni, nr; } ts;
	struct ike_rekey_state *rk = &sa->rk;
	uint8_t pub[CRYPTO_MAX_DH_PUB];
	size_t n, publen = sizeof(pub);
	uint16_t group = 0;
	int pfs = !rk->no_pfs, r;
	struct ike_enc e;

	if (!rk->child_new || !rk->child_tries) {
		if ((r = fresh_spi(sa, &rk->child_new)) != 0)
			return r;
	}
	if (crypto_random(rk->child_ni, sizeof(rk->child_ni)) != 0)
		return KITE_ERR_CRYPTO;
	if (pfs) {
		group = rk->child_dh ? crypto_dh_group(rk->child_dh) : child_pfs_group(sa);
		if (!rk->child_dh || crypto_dh_group(rk->child_dh) != group) {
			crypto_dh_free(rk->child_dh);
			rk->child_dh = crypto_dh_new(group);
		}
		if (!rk->child_dh || crypto_dh_pub(rk->child_dh, pub, &publen) != 0)
			return KITE_ERR_CRYPTO;
	} else {
		crypto_dh_free(rk->child_dh);
		rk->child_dh = NULL;
	}
	n = child_proposals(sa, rk->child_new, pfs ? group : 0, props, KITE_ARRAY_SIZE(props));
	/* Traffic selectors: the pair in use (RFC 7296 2.9: kite asks for everything in IKE_AUTH). */
	memset(&ts, 0, sizeof(ts));
	memcpy(ts.tsi, sa->child.tsi, sizeof(ts.tsi));
	memcpy(ts.tsr, sa->child.tsr, sizeof(ts.tsr));
	ts.ni = sa->child.n_tsi;
	ts.nr = sa->child.n_tsr;
	if (!ts.ni || !ts.nr)
		return KITE_ERR_INVAL;
	ikev2_enc_init_inner(&e, sa->work, sizeof(sa->work));
	if (old) {
		uint8_t spi[4];

		put_be32(spi, old->spi_in);
		ikev2_enc_notify(&e, IKEV2_PROTO_ESP, spi, 4, IKEV2_N_REKEY_SA, NULL, 0);
	}
	ikev2_enc_sa(&e, props, n);
	ikev2_enc_nonce(&e, rk->child_ni, sizeof(rk->child_ni));
	if (pfs)
		ikev2_enc_ke(&e, group, pub, publen);
	ikev2_enc_ts(&e, IKEV2_PLD_TSi, ts.tsi, ts.ni);
	ikev2_enc_ts(&e, IKEV2_PLD_TSr, ts.tsr, ts.nr);
	if ((r = ike_req_build(sa, IKEV2_EXCH_CREATE_CHILD_SA, &e)) != 0)
		return r;
	rk->child_op = old ? CHILD_OP_REKEY : CHILD_OP_CREATE;
	rk->child_old = old ? old->spi_in : 0;
	sa->task_active = IKE_TASK_CHILD_REKEY;	/* also when re-sent from an answer */
	if (old)
		old->state = IKE_CHILD_REKEYING;
	if (old)
		log_info("rekeying CHILD SA %08x/%08x%s%s", old->spi_in, old->spi_out,
			 pfs ? " with PFS " : " without PFS", pfs ? ike_dh_str(group) : "");
	else
		log_info("creating a CHILD SA%s%s", pfs ? " with PFS " : "", pfs ? ike_dh_str(group) : "");
	ike_req_send(sa, now);	/* a send error is a lost packet: retransmission handles it */
	return 0;
}

static void child_rekey_later(struct ike_sa *sa, struct ike_child *old, uint64_t now);
static void child_create_later(struct ike_sa *sa, uint64_t now);

static int child_work_start(struct ike_sa *sa, uint64_t now)
{
	struct ike_child *due = NULL;

	/* Deletes first: a replaced SA must not linger. */
	for (unsigned i = 0; i < IKE_MAX_CHILDREN; i++)
		if (sa->children[i].state == IKE_CHILD_DELETING && !sa->children[i].del_sent)
			return child_send_delete(sa, now);
	for (unsigned i = 0; i < IKE_MAX_CHILDREN; i++) {
		struct ike_child *ch = &sa->children[i];

		if (ch->state == IKE_CHILD_INSTALLED && ch->rekey_due && (!due || ch->created < due->created))
			due = ch;
	}
	sa->rk.child_tries = 0;
	sa->rk.child_new = 0;
	if (due) {
		int r = child_send_create(sa, due, now);

		if (r != 0) {
			log_warn("cannot build the CHILD SA rekey: %s", kite_strerror(r));
			child_rekey_later(sa, due, now);
		}
		return r;
	}
	if (sa->rk.need_create && now >= sa->rk.create_at) {
		int r = child_send_create(sa, NULL, now);

		if (r != 0) {
			log_warn("cannot build CREATE_CHILD_SA: %s", kite_strerror(r));
			child_create_later(sa, now);
		}
		return r;
	}
	return KITE_ERR_INVAL;
}

/* Our rekey failed for now: keep the old SA, try again later (before its hard lifetime). */
static void child_rekey_later(struct ike_sa *sa, struct ike_child *old, uint64_t now)
{
	if (!old)
		return;
	old->state = IKE_CHILD_INSTALLED;
	old->rekey_due = 0;
	old->rekey_at = now + retry_delay();
	if (old->expire_at && old->rekey_at >= old->expire_at)
		old->rekey_at = old->expire_at > now + 1000 ? old->expire_at - 1000 : now + 1;
	log_info("CHILD SA %08x: rekeying again in %llu s", old->spi_in,
		 (unsigned long long)((old->rekey_at - now + 999) / 1000));
}

static void child_create_later(struct ike_sa *sa, uint64_t now)
{
	sa->rk.create_at = now + retry_delay();
}

static void child_response(struct ike_sa *sa, const struct ike_msg *m, uint64_t now)
{
	struct ike_rekey_state *rk = &sa->rk;
	struct ike_proposal ours[KITE_MAX_PROPOSALS];
	struct ike_child *old = rk->child_old ? child_in(sa, rk->child_old) : NULL;
	struct child_sa c;
	struct chosen ch;
	uint8_t gir[CRYPTO_MAX_DH_SECRET];
	size_t gir_len = 0, n;
	char why[200];
	int op = rk->child_op, lost = 0, r;

	rk->child_op = CHILD_OP_NONE;
	if (op == CHILD_OP_DELETE) {
		/* Whatever the gateway lists, the pairs we named are gone (RFC 7296 1.4.1). */
		for (unsigned i = 0; i < IKE_MAX_CHILDREN; i++) {
			struct ike_child *x = &sa->children[i];

			if (x->state == IKE_CHILD_DELETING && x->del_sent) {
				log_debug("CHILD SA %08x/%08x deleted", x->spi_in, x->spi_out);
				child_forget(sa, x);
			}
		}
		child_check_empty(sa, now);
		return;
	}
	if (old && old->state != IKE_CHILD_REKEYING)
		old = NULL;		/* deleted or replaced meanwhile */
	/* Errors (RFC 7296 1.3: the notify replaces the answer's payloads). */
	for (unsigned i = 0; i < m->n_notify; i++) {
		uint16_t t = m->notify[i].type;

		if (t > IKEV2_N_ERROR_MAX)
			continue;
		if (rk->coll_old && rk->coll_old == rk->child_old) {
			/* The gateway rekeyed the same SA and refused ours: its rekey stands. */
			log_info("CHILD SA rekey collision: the gateway's rekey stands (%s)",
				 ikev2_notify_name(t));
			rk->collisions++;
			if (old) {
				old->state = IKE_CHILD_REPLACED;
				old->wait_until = now + REPLACED_WAIT_MS;
			}
			rk->coll_old = rk->coll_new = 0;
			goto done;
		}
		switch (t) {
		case IKEV2_N_INVALID_KE_PAYLOAD: {
			const struct ike_notify *nt = &m->notify[i];
			uint16_t g = nt->data.len == 2 ? (uint16_t)(nt->data.p[0] << 8 | nt->data.p[1]) : 0;

			if (rk->no_pfs || !pfs_group_ok(sa, g) || ++rk->child_tries >= MAX_KE_ROUNDS ||
			    (rk->child_dh && crypto_dh_group(rk->child_dh) == g)) {
				log_warn("the gateway wants key exchange group %s (%u) for the CHILD SA, "
					 "which kite does not offer", ikev2_dh_name(g), g);
				break;
			}
			log_info("the gateway answered INVALID_KE_PAYLOAD: retrying with %s", ike_dh_str(g));
			crypto_dh_free(rk->child_dh);
			rk->child_dh = crypto_dh_new(g);
			if (child_send_create(sa, old, now) == 0)
				return;
			break;
		}
		case IKEV2_N_NO_PROPOSAL_CHOSEN:
			if (!rk->no_pfs && rk->child_tries < MAX_KE_ROUNDS) {
				/*
				 * The gateway's ESP proposals have no DH group. Its answer is
				 * authenticated (inside SK), so this is its policy, not a
				 * downgrade by a third party: rekey without PFS from now on.
				 */
				log_warn("the gateway refused a CHILD SA rekey with PFS; rekeying without "
					 "a fresh key exchange (add a DH group to its esp_proposals for PFS)");
				rk->no_pfs = 1;
				rk->child_tries++;
				if (child_send_create(sa, old, now) == 0)
					return;
			}
			log_warn("the gateway refused the CHILD SA: NO_PROPOSAL_CHOSEN");
			break;
		case IKEV2_N_CHILD_SA_NOT_FOUND:
			if (old) {
				log_warn("the gateway does not know CHILD SA %08x/%08x any more: removing it",
					 old->spi_in, old->spi_out);
				child_forget(sa, old);
				old = NULL;
			}
			break;
		case IKEV2_N_TEMPORARY_FAILURE:
			log_info("the gateway answered TEMPORARY_FAILURE");
			break;
		default:
			log_warn("the gateway refused the CHILD SA %s: %s", old ? "rekey" : "creation",
				 ikev2_notify_name(t));
			break;
		}
		if (old)
			child_rekey_later(sa, old, now);
		else if (op == CHILD_OP_CREATE)
			child_create_later(sa, now);
		goto done;
	}
	/* Success: SA, Nr, [KEr], TSi, TSr. */
	if (!m->sa.p || !m->nonce.p || !m->tsi.p || !m->tsr.p ||
	    m->nonce.len < IKEV2_NONCE_MIN || m->nonce.len > IKEV2_NONCE_MAX) {
		log_warn("the gateway's CREATE_CHILD_SA answer lacks SA, Nr or TS");
		goto fail;
	}
	n = child_proposals(sa, rk->child_new, rk->child_dh ? crypto_dh_group(rk->child_dh) : 0, ours,
			    KITE_ARRAY_SIZE(ours));
	if (check_chosen(m->sa, ours, n, IKEV2_PROTO_ESP, 4, &ch, why, sizeof(why)) != 0) {
		log_warn("CREATE_CHILD_SA answer refused: %s", why);
		goto fail;
	}
	if (rk->child_dh) {
		uint16_t g = crypto_dh_group(rk->child_dh);

		/* We offered PFS only: an answer without it would be a downgrade. */
		if (!ch.has_dh || ch.dh != g || !m->ke.p || m->ke_group != g ||
		    m->ke.len != crypto_dh_pub_len(g)) {
			log_warn("the gateway's CREATE_CHILD_SA answer lacks the %s key exchange", ike_dh_str(g));
			goto fail;
		}
		gir_len = sizeof(gir);
		if ((r = crypto_dh_shared(rk->child_dh, m->ke.p, m->ke.len, gir, &gir_len)) != 0) {
			log_warn("the gateway's KE is invalid: %s", kite_strerror(r));
			goto fail;
		}
	} else if (ch.has_dh && ch.dh != IKEV2_DH_NONE) {
		log_warn("the gateway chose a DH group kite did not offer");
		goto fail;
	}
	memset(&c, 0, sizeof(c));
	if (ikev2_pld_parse_ts(m->tsi, c.tsi, IKE_MAX_TS, &c.n_tsi) != 0 ||
	    ikev2_pld_parse_ts(m->tsr, c.tsr, IKE_MAX_TS, &c.n_tsr) != 0 || !c.n_tsi || !c.n_tsr) {
		log_warn("the gateway's traffic selectors are malformed");
		goto fail;
	}
	c.spi_in = rk->child_new;
	c.spi_out = get_be32(ch.spi);
	c.encr = ch.encr;
	c.encr_bits = ch.encr_bits;
	c.integ = ch.has_integ ? ch.integ : IKEV2_INTEG_NONE;
	c.dh = rk->child_dh ? crypto_dh_group(rk->child_dh) : 0;
	c.esn = ch.has_esn && ch.esn == IKEV2_ESN_YES;
	r = child_keys(sa, &c, gir, gir_len, rk->child_ni, sizeof(rk->child_ni), m->nonce.p,
		       m->nonce.len, 1);
	crypto_wipe(gir, sizeof(gir));
	crypto_dh_free(rk->child_dh);
	rk->child_dh = NULL;
	if (r != 0) {
		log_warn("CHILD SA key derivation failed: %s", kite_strerror(r));
		goto fail;
	}
	if (rk->coll_old && rk->coll_old == rk->child_old) {
		/* RFC 7296 2.8.1: the exchange with the lowest nonce made the redundant SA. */
		uint8_t lo[IKEV2_NONCE_MAX];
		size_t lol;

		lower_nonce(rk->child_ni, sizeof(rk->child_ni), m->nonce.p, m->nonce.len, lo, &lol);
		lost = nonce_cmp(lo, lol, rk->coll_nonce, rk->coll_nonce_len) < 0;
		rk->collisions++;
	}
	if (lost) {
		/* Ours is redundant: never used, deleted by us; the gateway deletes the old one. */
		struct ike_child *k = child_track(sa, &c, 0, now);

		wipe_child_keys(&c);
		log_info("CHILD SA rekey collision lost: deleting the redundant %08x/%08x, keeping "
			 "the gateway's %08x", c.spi_in, c.spi_out, rk->coll_new);
		if (k)
			k->state = IKE_CHILD_DELETING;
		if (old) {
			old->state = IKE_CHILD_REPLACED;
			old->wait_until = now + REPLACED_WAIT_MS;
		}
	} else {
		struct ike_child *g = rk->coll_old && rk->coll_old == rk->child_old ?
				      child_in(sa, rk->coll_new) : NULL;

		c.out_later = 0;
		if ((r = child_install(sa, &c)) != 0) {
			/* The gateway has it installed: delete it again, keep the old one. */
			struct ike_child *k = child_track(sa, &c, 0, now);

			log_warn("cannot install the new CHILD SA: %s", kite_strerror(r));
			if (k)
				k->state = IKE_CHILD_DELETING;
			if (old)
				child_rekey_later(sa, old, now);
			goto done;
		}
		child_track(sa, &c, 1, now);
		rk->child_rekeys += op == CHILD_OP_REKEY;
		if (rk->coll_old && rk->coll_old == rk->child_old)
			log_info("CHILD SA rekey collision won: keeping %08x/%08x, the gateway deletes "
				 "its %08x", c.spi_in, c.spi_out, rk->coll_new);
		else
			log_info("CHILD SA %s: %08x/%08x %s%s%s", op == CHILD_OP_REKEY ? "rekeyed" : "created",
				 c.spi_in, c.spi_out, ikev2_encr_name(c.encr), c.dh ? " PFS " : "",
				 c.dh ? ike_dh_str(c.dh) : "");
		if (g) {
			g->state = IKE_CHILD_REPLACED;
			g->wait_until = now + REPLACED_WAIT_MS;
		}
		if (old)
			old->state = IKE_CHILD_DELETING;
		rk->need_create = 0;
	}
	rk->coll_old = rk->coll_new = 0;
	goto done;
fail:
	crypto_wipe(gir, sizeof(gir));
	if (old)
		child_rekey_later(sa, old, now);
	else if (op == CHILD_OP_CREATE)
		child_create_later(sa, now);
done:
	crypto_dh_free(rk->child_dh);
	rk->child_dh = NULL;
	rk->child_old = 0;
	rk->child_new = 0;
	if (rk->coll_old && !child_in(sa, rk->coll_old))
		rk->coll_old = rk->coll_new = 0;
	child_check_empty(sa, now);
}

/* ---- kite's requests: IKE SA rekey, reauthentication ---- */

static int ike_send_rekey(struct ike_sa *sa, uint64_t now)
{
	struct ike_proposal props[KITE_MAX_PROPOSALS];
	struct ike_rekey_state *rk = &sa->rk;
	uint8_t pub[CRYPTO_MAX_DH_PUB];
	size_t n, publen = sizeof(pub);
	uint16_t group;
	struct ike_enc e;
	int r;

	if (!rk->ike_tries) {
		do {
			if (crypto_random(rk->ike_spi, 8) != 0)
				return KITE_ERR_CRYPTO;
		} while (!memcmp(rk->ike_spi, (uint8_t[8]){ 0 }, 8));
		crypto_dh_free(rk->ike_dh);
		rk->ike_dh = NULL;
	}
	group = rk->ike_dh ? crypto_dh_group(rk->ike_dh) : ike_rekey_group(sa);
	if (!rk->ike_dh)
		rk->ike_dh = crypto_dh_new(group);
	if (!rk->ike_dh || crypto_dh_pub(rk->ike_dh, pub, &publen) != 0 ||
	    crypto_random(rk->ike_ni, sizeof(rk->ike_ni)) != 0)
		return KITE_ERR_CRYPTO;
	n = ike_proposals(sa, rk->ike_spi, props, KITE_ARRAY_SIZE(props));
	/* CREATE_CHILD_SA for the IKE SA: SA, Ni, KEi (RFC 7296 1.3.2). */
	ikev2_enc_init_inner(&e, sa->work, sizeof(sa->work));
	ikev2_enc_sa(&e, props, n);
	ikev2_enc_nonce(&e, rk->ike_ni, sizeof(rk->ike_ni));
	ikev2_enc_ke(&e, group, pub, publen);
	if ((r = ike_req_build(sa, IKEV2_EXCH_CREATE_CHILD_SA, &e)) != 0)
		return r;
	rk->ike_op = IKE_OP_REKEY;
	sa->task_active = IKE_TASK_IKE_REKEY;	/* also when re-sent from an answer */
	log_info("rekeying the IKE SA (KE %s)", ike_dh_str(group));
	ike_req_send(sa, now);	/* a send error is a lost packet: retransmission handles it */
	return 0;
}

static void ike_rekey_later(struct ike_sa *sa, uint64_t now)
{
	struct ike_rekey_state *rk = &sa->rk;

	rk->ike_due = 0;
	rk->ike_tries = 0;
	rk->ike_rekey_at = now + retry_delay();
	if (rk->ike_expire_at && rk->ike_rekey_at >= rk->ike_expire_at)
		rk->ike_rekey_at = rk->ike_expire_at > now + 1000 ? rk->ike_expire_at - 1000 : now + 1;
}

/* The gateway's IKE rekey we answered while ours was outstanding takes effect (2.8.2). */
static void ike_peer_wins(struct ike_sa *sa, uint64_t now)
{
	if (sa->rk.peer_ike.valid)
		ike_swap_in(sa, &sa->rk.peer_ike, 0, now);
}

static void ike_response(struct ike_sa *sa, const struct ike_msg *m, uint64_t now)
{
	struct ike_rekey_state *rk = &sa->rk;
	struct ike_proposal ours[KITE_MAX_PROPOSALS];
	struct ike_keys k;
	struct chosen ch;
	uint8_t gir[CRYPTO_MAX_DH_SECRET];
	size_t gir_len = sizeof(gir), n;
	char why[200];
	int r;

	rk->ike_op = IKE_OP_NONE;
	memset(&k, 0, sizeof(k));
	for (unsigned i = 0; i < m->n_notify; i++) {
		uint16_t t = m->notify[i].type;

		if (t > IKEV2_N_ERROR_MAX)
			continue;
		if (rk->peer_ike.valid) {
			log_info("IKE SA rekey collision: the gateway's rekey stands (%s)", ikev2_notify_name(t));
			rk->collisions++;
			ike_peer_wins(sa, now);
			goto done;
		}
		if (t == IKEV2_N_INVALID_KE_PAYLOAD && m->notify[i].data.len == 2) {
			uint16_t g = (uint16_t)(m->notify[i].data.p[0] << 8 | m->notify[i].data.p[1]);

			if (ike_group_offered(sa, g) && rk->ike_dh && crypto_dh_group(rk->ike_dh) != g &&
			    ++rk->ike_tries < MAX_KE_ROUNDS) {
				log_info("the gateway answered INVALID_KE_PAYLOAD: retrying the IKE rekey with %s",
					 ike_dh_str(g));
				crypto_dh_free(rk->ike_dh);
				rk->ike_dh = crypto_dh_new(g);
				if (ike_send_rekey(sa, now) == 0)
					return;
			}
		}
		log_info("the gateway refused the IKE SA rekey: %s; trying again later",
			 ikev2_notify_name(t));
		ike_rekey_later(sa, now);
		goto done;
	}
	n = ike_proposals(sa, rk->ike_spi, ours, KITE_ARRAY_SIZE(ours));
	if (!m->sa.p || !m->nonce.p || !m->ke.p || m->nonce.len < IKEV2_NONCE_MIN ||
	    m->nonce.len > IKEV2_NONCE_MAX) {
		log_warn("the gateway's IKE rekey answer lacks SA, Nr or KE");
		goto fail;
	}
	if (check_chosen(m->sa, ours, n, IKEV2_PROTO_IKE, 8, &ch, why, sizeof(why)) != 0) {
		log_warn("IKE rekey answer refused: %s", why);
		goto fail;
	}
	if (!rk->ike_dh || ch.dh != crypto_dh_group(rk->ike_dh) || m->ke_group != ch.dh ||
	    m->ke.len != crypto_dh_pub_len(ch.dh) ||
	    crypto_dh_shared(rk->ike_dh, m->ke.p, m->ke.len, gir, &gir_len) != 0) {
		log_warn("the gateway's IKE rekey answer has a bad key exchange");
		goto fail;
	}
	/* We initiated the rekey: we are the new SA's original initiator. */
	memcpy(k.spi_i, rk->ike_spi, 8);
	memcpy(k.spi_r, ch.spi, 8);
	k.orig_resp = 0;
	k.encr = ch.encr;
	k.encr_bits = ch.encr_bits;
	k.prf = ch.prf;
	k.integ = ch.has_integ ? ch.integ : IKEV2_INTEG_NONE;
	k.dh = ch.dh;
	r = ike_keys_derive(sa, &k, gir, gir_len, rk->ike_ni, sizeof(rk->ike_ni), m->nonce.p,
			    m->nonce.len);
	crypto_wipe(gir, sizeof(gir));
	if (r != 0) {
		log_warn("IKE SA key derivation failed: %s", kite_strerror(r));
		keys_clear(&k);
		goto fail;
	}
	k.valid = 1;
	if (rk->peer_ike.valid) {
		uint8_t lo[IKEV2_NONCE_MAX];
		size_t lol;

		rk->collisions++;
		lower_nonce(rk->ike_ni, sizeof(rk->ike_ni), m->nonce.p, m->nonce.len, lo, &lol);
		if (nonce_cmp(lo, lol, rk->peer_ike.lo_nonce, rk->peer_ike.lo_len) < 0) {
			/* Ours holds the lowest nonce: redundant; we delete it, the gateway the old one. */
			log_info("IKE SA rekey collision lost: deleting the redundant new IKE SA");
			zombie_add(sa, zombie_from_keys(sa, &k), 1, now);
			ike_peer_wins(sa, now);
			goto done;
		}
		log_info("IKE SA rekey collision won: the gateway deletes its redundant IKE SA");
		{
			struct ike_keys g = rk->peer_ike;

			memset(&rk->peer_ike, 0, sizeof(rk->peer_ike));
			ike_swap_in(sa, &k, 1, now);
			zombie_add(sa, zombie_from_keys(sa, &g), 0, now);
		}
		goto done;
	}
	ike_swap_in(sa, &k, 1, now);
	goto done;
fail:
	crypto_wipe(gir, sizeof(gir));
	if (rk->peer_ike.valid)
		ike_peer_wins(sa, now);
	else
		ike_rekey_later(sa, now);
done:
	crypto_dh_free(rk->ike_dh);
	rk->ike_dh = NULL;
	rk->ike_tries = 0;
	if (rk->peer_ike.valid)
		keys_clear(&rk->peer_ike);
}

/* ---- reauthentication: a second IKE SA, make-before-break (RFC 4478) ---- */

static int succ_send(void *ctx, const uint8_t *buf, size_t len, int natt)
{
	struct ike_sa *sa = ctx;

	return sa->ops->send(sa->ctx, buf, len, natt);
}

static void succ_state(void *ctx, struct ike_sa *succ, enum ike_state st, const char *reason)
{
	if (st == IKE_STATE_ESTABLISHED)
		log_info("reauthentication: the new IKE SA is established");
}

static int succ_child_up(void *ctx, struct ike_sa *succ, const struct child_sa *c,
			 const struct ike_cfg_result *cfg)
{
	struct ike_sa *sa = ctx;
	struct child_sa c2 = *c;
	int r = 0;

	if (cfg && ((sa->cfg.has_vip4 && (!cfg->has_vip4 || memcmp(cfg->vip4, sa->cfg.vip4, 4))) ||
		    (sa->cfg.has_vip6 && (!cfg->has_vip6 || memcmp(cfg->vip6, sa->cfg.vip6, 16))))) {
		/* The tunnel's address would change: keep the old IKE SA (see the report). */
		log_err("reauthentication: the gateway assigned a different virtual IP; keeping the "
			"old IKE SA until it expires");
		crypto_wipe(&c2, sizeof(c2));
		return KITE_ERR_PROPOSAL;
	}
	c2.out_later = 0;
	if (sa->ops->child_up)
		r = sa->ops->child_up(sa->ctx, sa, &c2, NULL);
	crypto_wipe(&c2, sizeof(c2));
	if (r == 0)
		sa->rk.succ_up = 1;
	return r;
}

static void succ_child_down(void *ctx, struct ike_sa *succ, uint32_t spi_in)
{
	struct ike_sa *sa = ctx;

	if (sa->ops->child_down)
		sa->ops->child_down(sa->ctx, sa, spi_in);
}

static const struct ike_ops succ_ops = {
	.send = succ_send,
	.state = succ_state,
	.child_up = succ_child_up,
	.child_down = succ_child_down,
};

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static int reauth_start(struct ike_sa *sa, uint64_t now)
{
	struct ike_params p = sa->p;
	struct ike_sa *succ;
	int r;

	p.psk = sa->psk;
	if (sa->natt)
		set_port(&p.remote, IKEV2_NATT_PORT);	/* the path is known: straight to 4500 */
	if ((succ = ike_sa_new(&p, &succ_ops, sa)) == NULL)
		return KITE_ERR_NOMEM;
	succ->reauth = 1;
	succ->natt = sa->natt;
	succ->cfg = sa->cfg;		/* ask for the same virtual IP */
	sa->rk.succ = succ;
	sa->rk.succ_up = 0;
	log_info("reauthenticating: setting up a new IKE SA next to the current one");
	if ((r = ike_start(succ, now)) != 0) {
		sa->rk.succ = NULL;
		ike_sa_free(succ);
		return r;
	}
	return 0;
}

static int swap_struct(struct ike_sa *a, struct ike_sa *b)
{
	struct ike_sa *t = malloc(sizeof(*t));

	if (!t)
		return KITE_ERR_NOMEM;
	memcpy(t, a, sizeof(*t));
	memcpy(a, b, sizeof(*a));
	memcpy(b, t, sizeof(*b));
	crypto_wipe(t, sizeof(*t));
	free(t);
	return 0;
}

/*
 * The successor's CHILD SA is in the data plane: it becomes the IKE SA the
 * daemon holds, and the old one a zombie that deletes itself.
 */
static void reauth_promote(struct ike_sa *sa, uint64_t now)
{
	struct ike_sa *succ = sa->rk.succ, *old;
	struct ike_sa *zombies[IKE_MAX_ZOMBIES];
	uint64_t deadlines[IKE_MAX_ZOMBIES];
	struct ike_stats st = sa->st;
	uint32_t crk = sa->rk.child_rekeys, irk = sa->rk.ike_rekeys, ra = sa->rk.reauths;
	uint32_t col = sa->rk.collisions;
	unsigned tasks = sa->tasks & ~(IKE_TASK_IKE_REKEY | IKE_TASK_CHILD_REKEY);
	int no_pfs = sa->rk.no_pfs;
	const struct ike_ops *ops = sa->ops;
	void *ctx = sa->ctx;
	char si[17], sr[17];

	memcpy(zombies, sa->rk.zombie, sizeof(zombies));
	memcpy(deadlines, sa->rk.zombie_deadline, sizeof(deadlines));
	memset(sa->rk.zombie, 0, sizeof(sa->rk.zombie));
	sa->rk.succ = NULL;
	if (swap_struct(sa, succ) != 0) {
		memcpy(sa->rk.zombie, zombies, sizeof(zombies));
		sa->rk.succ = succ;	/* try again at the next timer */
		return;
	}
	old = succ;		/* now holds the old IKE SA */
	sa->ops = ops;
	sa->ctx = ctx;
	sa->reauth = 0;
	old->ops = &zombie_ops;
	old->ctx = sa;
	old->tasks = 0;
	/* The old SA's own rekey work ends here; its CHILD SAs go with its DELETE. */
	crypto_dh_free(old->rk.child_dh);
	crypto_dh_free(old->rk.ike_dh);
	old->rk.child_dh = old->rk.ike_dh = NULL;
	keys_clear(&old->rk.peer_ike);
	memcpy(sa->rk.zombie, zombies, sizeof(zombies));
	memcpy(sa->rk.zombie_deadline, deadlines, sizeof(deadlines));
	sa->st.rx_dropped += st.rx_dropped;
	sa->st.rx_bad_icv += st.rx_bad_icv;
	sa->st.retransmits += st.retransmits;
	sa->st.rx_msgs += st.rx_msgs;
	sa->st.tx_msgs += st.tx_msgs;
	sa->rk.child_rekeys += crk;
	sa->rk.ike_rekeys += irk;
	sa->rk.reauths += ra + 1;
	sa->rk.collisions += col;
	sa->rk.no_pfs = no_pfs;
	sa->tasks |= tasks;
	spi_hex(sa->spi_i, si);
	spi_hex(sa->spi_r, sr);
	log_info("reauthenticated: IKE SA spi_i=%s spi_r=%s; CHILD SA %08x/%08x carries the traffic",
		 si, sr, sa->child.spi_in, sa->child.spi_out);
	zombie_add(sa, old, 1, now);
}

/* After the successor ran: promote it, or drop it when it failed. */
static void succ_check(struct ike_sa *sa, uint64_t now)
{
	struct ike_sa *succ = sa->rk.succ;

	if (!succ)
		return;
	if (sa->rk.succ_up && succ->state == IKE_STATE_ESTABLISHED) {
		reauth_promote(sa, now);
		return;
	}
	if (succ->state == IKE_STATE_DOWN || (sa->rk.succ_up && succ->state != IKE_STATE_ESTABLISHED)) {
		log_warn("reauthentication failed: %s; %s", succ->reason[0] ? succ->reason : "down",
			 sa->rk.auth_expire_at && now + REAUTH_RETRY_MS >= sa->rk.auth_expire_at ?
			 "the gateway will close the old IKE SA soon" : "retrying later");
		for (unsigned j = 0; j < IKE_MAX_CHILDREN; j++)
			if (succ->children[j].state != IKE_CHILD_NONE)
				child_forget(succ, &succ->children[j]);
		if (succ->state == IKE_STATE_ESTABLISHED || succ->state == IKE_STATE_DELETING) {
			/* Established but unusable: let it say goodbye as a zombie. */
			sa->rk.succ = NULL;
			succ->ops = &zombie_ops;
			zombie_add(sa, succ, 1, now);
		} else {
			sa->rk.succ = NULL;
			ike_sa_free(succ);
		}
		sa->rk.succ_up = 0;
		sa->rk.reauth_due = 0;
		sa->rk.reauth_at = now + REAUTH_RETRY_MS;
	}
}

static int ike_work_start(struct ike_sa *sa, uint64_t now)
{
	struct ike_rekey_state *rk = &sa->rk;

	if (rk->reauth_due && !rk->succ) {
		rk->reauth_due = 0;
		rk->ike_due = 0;	/* the reauthentication replaces the rekey */
		if (reauth_start(sa, now) != 0) {
			log_warn("cannot start reauthentication; retrying later");
			rk->reauth_at = now + REAUTH_RETRY_MS;
		}
		return KITE_ERR_INVAL;	/* nothing on this SA's request channel */
	}
	if (rk->ike_due && !rk->succ) {
		int r;

		rk->ike_tries = 0;
		if ((r = ike_send_rekey(sa, now)) != 0) {
			log_warn("cannot build the IKE SA rekey: %s", kite_strerror(r));
			ike_rekey_later(sa, now);
		}
		return r;
	}
	rk->ike_due = 0;
	return KITE_ERR_INVAL;
}

/* ---- the core's entry points ---- */

void ike_child_added(struct ike_sa *sa, const struct child_sa *c, uint64_t now)
{
	if (child_track(sa, c, 1, now) == NULL)
		return;
	if (!sa->rk.ike_rekey_at && !sa->rk.ike_expire_at)
		ike_schedule(sa, now);
}

void ike_child_auth_done(struct ike_sa *sa, const struct ike_msg *m, uint64_t now)
{
	auth_lifetime_notify(sa, m, now);
}

int ike_child_task_start(struct ike_sa *sa, unsigned task, uint64_t now)
{
	if (is_zombie(sa) || is_succ(sa))
		return KITE_ERR_INVAL;
	if (task == IKE_TASK_CHILD_REKEY)
		return child_work_start(sa, now);
	if (task == IKE_TASK_IKE_REKEY)
		return ike_work_start(sa, now);
	return KITE_ERR_INVAL;
}

void ike_child_task_response(struct ike_sa *sa, unsigned task, const struct ike_msg *m, uint64_t now)
{
	if (task == IKE_TASK_CHILD_REKEY)
		child_response(sa, m, now);
	else if (task == IKE_TASK_IKE_REKEY && sa->rk.ike_op == IKE_OP_REKEY)
		ike_response(sa, m, now);
	child_kick(sa, now);
}

/* ---- the gateway's requests ---- */

static void refuse(struct ike_enc *e, uint16_t type, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void refuse(struct ike_enc *e, uint16_t type, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_info("%s: answered %s", msg, ikev2_notify_name(type));
	ikev2_enc_notify(e, IKEV2_PROTO_NONE, NULL, 0, type, NULL, 0);
}

static void refuse_invalid_ke(struct ike_enc *e, uint16_t group)
{
	uint8_t g[2] = { (uint8_t)(group >> 8), (uint8_t)group };

	log_info("the gateway's KE is not for %s: answered INVALID_KE_PAYLOAD", ike_dh_str(group));
	ikev2_enc_notify(e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_INVALID_KE_PAYLOAD, g, 2);
}

/* The gateway rekeys a CHILD SA (RFC 7296 1.3.3). */
static void child_respond(struct ike_sa *sa, const struct ike_msg *m, struct ike_proposal *props,
			  size_t np, struct ike_enc *e, uint64_t now)
{
	struct ike_rekey_state *rk = &sa->rk;
	const struct ike_notify *rn = ikev2_msg_notify(m, IKEV2_N_REKEY_SA);
	const struct ike_proposal *pick = NULL;
	struct ike_proposal ans;
	struct ike_ts tsi[IKE_MAX_TS], tsr[IKE_MAX_TS];
	size_t n_tsi = 0, n_tsr = 0;
	struct ike_child *old, *g;
	struct crypto_dh *dh = NULL;
	struct child_sa c;
	struct chosen ch;
	uint8_t nr[IKEV2_NONCE_LEN], pub[CRYPTO_MAX_DH_PUB], gir[CRYPTO_MAX_DH_SECRET], spi[4];
	size_t publen = sizeof(pub), gir_len = 0;
	uint32_t old_spi;
	int collision;

	if (!rn) {
		/* RFC 7296 1.3: a road warrior wants no extra CHILD SAs from the gateway. */
		refuse(e, IKEV2_N_NO_ADDITIONAL_SAS, "the gateway asked for an additional CHILD SA");
		return;
	}
	old_spi = get_be32(rn->spi.p);
	old = child_out(sa, old_spi);
	if (!old) {
		log_info("the gateway asked to rekey unknown CHILD SA %08x: answered CHILD_SA_NOT_FOUND",
			 old_spi);
		ikev2_enc_notify(e, IKEV2_PROTO_ESP, rn->spi.p, 4, IKEV2_N_CHILD_SA_NOT_FOUND, NULL, 0);
		return;
	}
	if (old->state == IKE_CHILD_DELETING || old->state == IKE_CHILD_REPLACED) {
		refuse(e, IKEV2_N_TEMPORARY_FAILURE, "the gateway asked to rekey CHILD SA %08x, which is "
		       "being deleted", old->spi_in);
		return;
	}
	if (sa->req_active && sa->task_active == IKE_TASK_IKE_REKEY) {
		refuse(e, IKEV2_N_TEMPORARY_FAILURE, "CHILD SA rekey while kite rekeys the IKE SA");
		return;
	}
	if (!m->tsi.p || !m->tsr.p ||
	    ikev2_pld_parse_ts(m->tsi, tsi, IKE_MAX_TS, &n_tsi) != 0 ||
	    ikev2_pld_parse_ts(m->tsr, tsr, IKE_MAX_TS, &n_tsr) != 0 || !n_tsi || !n_tsr) {
		refuse(e, IKEV2_N_TS_UNACCEPTABLE, "the gateway's CHILD SA rekey has no usable selectors");
		return;
	}
	for (size_t i = 0; i < np && !pick; i++) {
		if (props[i].proto != IKEV2_PROTO_ESP || props[i].spi_size != 4)
			continue;
		for (unsigned j = 0; j < sa->p.prof->n_esp && !pick; j++)
			if (pick_suite(sa, &props[i], &sa->p.prof->esp[j], 0, m->ke.p ? m->ke_group : 0, &ch))
				pick = &props[i];
	}
	if (!pick) {
		refuse(e, IKEV2_N_NO_PROPOSAL_CHOSEN, "none of the gateway's ESP proposals for the "
		       "rekey is acceptable");
		return;
	}
	if (ch.has_dh) {
		if (!m->ke.p || m->ke_group != ch.dh) {
			refuse_invalid_ke(e, ch.dh);
			return;
		}
		if (m->ke.len != crypto_dh_pub_len(ch.dh)) {
			refuse(e, IKEV2_N_INVALID_SYNTAX, "the gateway's KE has %zu bytes", m->ke.len);
			return;
		}
		gir_len = sizeof(gir);
		if ((dh = crypto_dh_new(ch.dh)) == NULL || crypto_dh_pub(dh, pub, &publen) != 0 ||
		    crypto_dh_shared(dh, m->ke.p, m->ke.len, gir, &gir_len) != 0) {
			crypto_dh_free(dh);
			crypto_wipe(gir, sizeof(gir));
			refuse(e, IKEV2_N_INVALID_SYNTAX, "the gateway's KE public value is invalid");
			return;
		}
		crypto_dh_free(dh);
	}
	memset(&c, 0, sizeof(c));
	if (crypto_random(nr, sizeof(nr)) != 0 || fresh_spi(sa, &c.spi_in) != 0) {
		crypto_wipe(gir, sizeof(gir));
		refuse(e, IKEV2_N_TEMPORARY_FAILURE, "no randomness");
		return;
	}
	c.spi_out = get_be32(pick->spi);
	c.encr = ch.encr;
	c.encr_bits = ch.encr_bits;
	c.integ = ch.has_integ ? ch.integ : IKEV2_INTEG_NONE;
	c.dh = ch.has_dh ? ch.dh : 0;
	c.esn = ch.has_esn && ch.esn == IKEV2_ESN_YES;
	/* The gateway's TSi is its side: kite's TSr, and the other way round. */
	memcpy(c.tsi, tsr, sizeof(c.tsi));
	c.n_tsi = n_tsr;
	memcpy(c.tsr, tsi, sizeof(c.tsr));
	c.n_tsr = n_tsi;
	c.out_later = 1;
	if (child_keys(sa, &c, gir, gir_len, m->nonce.p, m->nonce.len, nr, sizeof(nr), 0) != 0) {
		crypto_wipe(gir, sizeof(gir));
		wipe_child_keys(&c);
		refuse(e, IKEV2_N_NO_PROPOSAL_CHOSEN, "CHILD SA key derivation failed");
		return;
	}
	crypto_wipe(gir, sizeof(gir));
	if (child_install(sa, &c) != 0) {
		refuse(e, IKEV2_N_TEMPORARY_FAILURE, "cannot install the gateway's new CHILD SA");
		return;
	}
	g = child_track(sa, &c, 1, now);
	put_be32(spi, c.spi_in);
	answer_proposal(pick, &ch, 0, spi, &ans);
	ikev2_enc_sa(e, &ans, 1);
	ikev2_enc_nonce(e, nr, sizeof(nr));
	if (ch.has_dh)
		ikev2_enc_ke(e, ch.dh, pub, publen);
	ikev2_enc_ts(e, IKEV2_PLD_TSi, tsi, n_tsi);
	ikev2_enc_ts(e, IKEV2_PLD_TSr, tsr, n_tsr);
	collision = old->state == IKE_CHILD_REKEYING && rk->child_op == CHILD_OP_REKEY &&
		    rk->child_old == old->spi_in;
	log_info("the gateway rekeyed CHILD SA %08x/%08x: new %08x/%08x %s%s%s%s", old->spi_in,
		 old->spi_out, c.spi_in, c.spi_out, ikev2_encr_name(c.encr), c.dh ? " PFS " : " no PFS",
		 c.dh ? ike_dh_str(c.dh) : "", collision ? " (collides with kite's rekey)" : "");
	if (collision) {
		rk->coll_old = old->spi_in;
		rk->coll_new = c.spi_in;
		lower_nonce(m->nonce.p, m->nonce.len, nr, sizeof(nr), rk->coll_nonce, &rk->coll_nonce_len);
	} else {
		old->state = IKE_CHILD_REPLACED;
		old->wait_until = now + REPLACED_WAIT_MS;
	}
	if (g)
		rk->child_rekeys++;
	rk->need_create = 0;
}

/* The gateway rekeys the IKE SA (RFC 7296 1.3.2, 2.18). */
static void ike_respond(struct ike_sa *sa, const struct ike_msg *m, struct ike_proposal *props,
			size_t np, struct ike_enc *e, uint64_t now)
{
	struct ike_rekey_state *rk = &sa->rk;
	const struct ike_proposal *pick = NULL;
	struct ike_proposal ans;
	struct crypto_dh *dh = NULL;
	struct ike_keys k;
	struct chosen ch;
	uint8_t nr[IKEV2_NONCE_LEN], pub[CRYPTO_MAX_DH_PUB], gir[CRYPTO_MAX_DH_SECRET];
	size_t publen = sizeof(pub), gir_len = sizeof(gir);
	int r;

	if (sa->req_active && sa->task_active != IKE_TASK_IKE_REKEY) {
		/* RFC 7296 2.25.2: not while one of our exchanges is under way. */
		refuse(e, IKEV2_N_TEMPORARY_FAILURE, "the gateway asked to rekey the IKE SA while "
		       "kite's request is outstanding");
		return;
	}
	if (rk->succ || rk->peer_ike.valid) {
		refuse(e, IKEV2_N_TEMPORARY_FAILURE, "the gateway asked to rekey the IKE SA during "
		       "reauthentication");
		return;
	}
	for (size_t i = 0; i < np && !pick; i++) {
		if (props[i].proto != IKEV2_PROTO_IKE || props[i].spi_size != 8 ||
		    !memcmp(props[i].spi, (uint8_t[8]){ 0 }, 8))
			continue;
		for (unsigned j = 0; j < sa->p.prof->n_ike && !pick; j++)
			if (pick_suite(sa, &props[i], &sa->p.prof->ike[j], 1, m->ke.p ? m->ke_group : 0, &ch))
				pick = &props[i];
	}
	if (!pick) {
		refuse(e, IKEV2_N_NO_PROPOSAL_CHOSEN, "none of the gateway's IKE proposals for the "
		       "rekey is acceptable");
		return;
	}
	if (!m->ke.p || m->ke_group != ch.dh) {
		refuse_invalid_ke(e, ch.dh);
		return;
	}
	if (m->ke.len != crypto_dh_pub_len(ch.dh) || (dh = crypto_dh_new(ch.dh)) == NULL ||
	    crypto_dh_pub(dh, pub, &publen) != 0 ||
	    crypto_dh_shared(dh, m->ke.p, m->ke.len, gir, &gir_len) != 0) {
		crypto_dh_free(dh);
		refuse(e, IKEV2_N_INVALID_SYNTAX, "the gateway's KE for the IKE rekey is invalid");
		return;
	}
	crypto_dh_free(dh);
	memset(&k, 0, sizeof(k));
	do {
		if (crypto_random(k.spi_r, 8) != 0 || crypto_random(nr, sizeof(nr)) != 0) {
			crypto_wipe(gir, sizeof(gir));
			refuse(e, IKEV2_N_TEMPORARY_FAILURE, "no randomness");
			return;
		}
	} while (!memcmp(k.spi_r, (uint8_t[8]){ 0 }, 8));
	/* The gateway initiated the rekey: it is the new SA's original initiator. */
	memcpy(k.spi_i, pick->spi, 8);
	k.orig_resp = 1;
	k.encr = ch.encr;
	k.encr_bits = ch.encr_bits;
	k.prf = ch.prf;
	k.integ = ch.has_integ ? ch.integ : IKEV2_INTEG_NONE;
	k.dh = ch.dh;
	r = ike_keys_derive(sa, &k, gir, gir_len, m->nonce.p, m->nonce.len, nr, sizeof(nr));
	crypto_wipe(gir, sizeof(gir));
	if (r != 0) {
		keys_clear(&k);
		refuse(e, IKEV2_N_NO_PROPOSAL_CHOSEN, "IKE SA key derivation failed");
		return;
	}
	lower_nonce(m->nonce.p, m->nonce.len, nr, sizeof(nr), k.lo_nonce, &k.lo_len);
	k.msgid = m->hdr.msgid;
	k.valid = 1;
	rk->peer_ike = k;
	answer_proposal(pick, &ch, 1, k.spi_r, &ans);
	ikev2_enc_sa(e, &ans, 1);
	ikev2_enc_nonce(e, nr, sizeof(nr));
	ikev2_enc_ke(e, ch.dh, pub, publen);
	log_info("the gateway rekeys the IKE SA%s",
		 sa->req_active && rk->ike_op == IKE_OP_REKEY ? " (collides with kite's rekey)" : "");
}

void ike_child_handle_request(struct ike_sa *sa, const struct ike_msg *m, struct ike_enc *e, uint64_t now)
{
	struct ike_proposal props[IKE_MAX_PROPOSALS];
	size_t np = 0;

	if (is_zombie(sa) || sa->state != IKE_STATE_ESTABLISHED) {
		/* RFC 7296 2.25.2: this IKE SA is being replaced or closed. */
		refuse(e, IKEV2_N_TEMPORARY_FAILURE, "CREATE_CHILD_SA on an IKE SA being deleted");
		return;
	}
	if (!m->sa.p || !m->nonce.p || m->nonce.len < IKEV2_NONCE_MIN || m->nonce.len > IKEV2_NONCE_MAX ||
	    ikev2_pld_parse_sa(m->sa, props, KITE_ARRAY_SIZE(props), &np) != 0 || !np) {
		refuse(e, IKEV2_N_INVALID_SYNTAX, "malformed CREATE_CHILD_SA request (SA or nonce)");
		return;
	}
	if (props[0].proto == IKEV2_PROTO_IKE)
		ike_respond(sa, m, props, np, e, now);
	else
		child_respond(sa, m, props, np, e, now);
}

void ike_child_request_done(struct ike_sa *sa, uint64_t now)
{
	struct ike_rekey_state *rk = &sa->rk;

	if (!rk->peer_ike.valid)
		return;
	if (!sa->resp_valid || sa->peer_msgid_next != rk->peer_ike.msgid + 1) {
		keys_clear(&rk->peer_ike);	/* the answer did not go out */
		return;
	}
	if (sa->req_active && sa->task_active == IKE_TASK_IKE_REKEY && rk->ike_op == IKE_OP_REKEY)
		return;		/* collision: decided when our own answer arrives */
	/* Our answer went out under the old keys: from here on the new SA is the one. */
	ike_swap_in(sa, &rk->peer_ike, 0, now);
}

void ike_child_handle_delete(struct ike_sa *sa, const struct ike_msg *m, struct ike_enc *e, uint64_t now)
{
	uint8_t mine[IKE_MAX_CHILDREN * 4];
	uint16_t n = 0;

	if (!is_zombie(sa))
		auth_lifetime_notify(sa, m, now);	/* RFC 4478 3: may come in INFORMATIONAL too */
	for (unsigned i = 0; i < m->n_delete; i++) {
		const struct ike_delete *d = &m->del[i];

		if (d->proto != IKEV2_PROTO_ESP || d->spi_size != 4)
			continue;
		for (unsigned k = 0; k < d->n_spi; k++) {
			struct ike_child *ch = child_out(sa, get_be32(d->spis.p + 4 * k));

			if (!ch)
				continue;	/* unknown SPIs are ignored (RFC 7296 1.4.1) */
			if (ch->state == IKE_CHILD_DELETING) {
				/* We are deleting it as well: answer without it (RFC 7296 2.25.1). */
				log_debug("the gateway deleted CHILD SA %08x, which kite deletes too", ch->spi_in);
			} else {
				log_info("the gateway deleted CHILD SA %08x/%08x%s", ch->spi_in, ch->spi_out,
					 ch->state == IKE_CHILD_REPLACED ? " (replaced)" :
					 ch->state == IKE_CHILD_REKEYING ? " while kite rekeys it" : "");
				if (n < IKE_MAX_CHILDREN)
					put_be32(mine + 4 * n++, ch->spi_in);
			}
			child_forget(sa, ch);
		}
	}
	/* Answer with the inbound SPIs of the pairs deleted (RFC 7296 1.4.1). */
	if (n)
		ikev2_enc_delete(e, IKEV2_PROTO_ESP, 4, mine, n);
	if (!is_zombie(sa)) {
		child_check_empty(sa, now);
		child_kick(sa, now);
	}
}

/* ---- timers ---- */

static uint64_t tmin(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t ike_child_next_timeout(const struct ike_sa *sa)
{
	const struct ike_rekey_state *rk = &sa->rk;
	uint64_t t = UINT64_MAX;

	if (is_zombie(sa) || is_succ(sa))
		return UINT64_MAX;
	for (unsigned i = 0; i < IKE_MAX_ZOMBIES; i++) {
		if (!rk->zombie[i])
			continue;
		t = tmin(t, ike_next_timeout(rk->zombie[i]));
		if (rk->zombie_deadline[i])
			t = tmin(t, rk->zombie_deadline[i]);
	}
	if (rk->succ)
		t = tmin(t, ike_next_timeout(rk->succ));
	for (unsigned i = 0; i < IKE_MAX_CHILDREN; i++) {
		const struct ike_child *ch = &sa->children[i];

		if (ch->state == IKE_CHILD_NONE)
			continue;
		if (ch->expire_at && ch->state != IKE_CHILD_DELETING)
			t = tmin(t, ch->expire_at);
		if (ch->state == IKE_CHILD_INSTALLED && ch->rekey_at && !ch->rekey_due)
			t = tmin(t, ch->rekey_at);
		if (ch->state == IKE_CHILD_REPLACED && ch->wait_until)
			t = tmin(t, ch->wait_until);
	}
	if (rk->need_create && rk->create_at > 0 && !(sa->tasks & IKE_TASK_CHILD_REKEY))
		t = tmin(t, rk->create_at);
	if (rk->ike_expire_at && !rk->succ)
		t = tmin(t, rk->ike_expire_at);
	if (rk->ike_rekey_at && !rk->ike_due && !rk->succ)
		t = tmin(t, rk->ike_rekey_at);
	if (rk->reauth_at && !rk->reauth_due && !rk->succ)
		t = tmin(t, rk->reauth_at);
	return t;
}

void ike_child_timeout(struct ike_sa *sa, uint64_t now)
{
	struct ike_rekey_state *rk = &sa->rk;

	if (is_zombie(sa) || is_succ(sa))
		return;
	for (unsigned i = 0; i < IKE_MAX_ZOMBIES; i++) {
		struct ike_sa *z = rk->zombie[i];

		if (!z)
			continue;
		if (rk->zombie_deadline[i] && now >= rk->zombie_deadline[i]) {
			/* The gateway did not delete its old IKE SA: we do. */
			rk->zombie_deadline[i] = 0;
			if (z->state == IKE_STATE_ESTABLISHED)
				ike_task_queue(z, IKE_TASK_DELETE, now);
		}
		if (now >= ike_next_timeout(z))
			ike_timeout(z, now);
	}
	zombies_reap(sa);
	if (rk->succ) {
		if (now >= ike_next_timeout(rk->succ))
			ike_timeout(rk->succ, now);
		succ_check(sa, now);
	}
	for (unsigned i = 0; i < IKE_MAX_CHILDREN; i++) {
		struct ike_child *ch = &sa->children[i];

		if (ch->state == IKE_CHILD_NONE)
			continue;
		if (ch->expire_at && now >= ch->expire_at && ch->state != IKE_CHILD_DELETING) {
			/* Hard lifetime: stop using it at once, then delete it. */
			log_warn("CHILD SA %08x/%08x reached its hard lifetime", ch->spi_in, ch->spi_out);
			child_remove(sa, ch);
			ch->expire_at = 0;
			ch->state = IKE_CHILD_DELETING;
			ch->del_sent = 0;
			continue;
		}
		if (ch->state == IKE_CHILD_INSTALLED && ch->rekey_at && now >= ch->rekey_at && !ch->rekey_due)
			ch->rekey_due = 1;
		if (ch->state == IKE_CHILD_REPLACED && ch->wait_until && now >= ch->wait_until) {
			log_info("the gateway did not delete the replaced CHILD SA %08x: kite does",
				 ch->spi_in);
			ch->state = IKE_CHILD_DELETING;
			ch->del_sent = 0;
		}
	}
	child_check_empty(sa, now);
	if (rk->ike_expire_at && now >= rk->ike_expire_at && !rk->succ) {
		ike_fail(sa, IKE_FAIL_TIMEOUT, "the IKE SA reached its hard lifetime without being rekeyed");
		return;
	}
	if (rk->reauth_at && now >= rk->reauth_at && !rk->reauth_due && !rk->succ) {
		rk->reauth_due = 1;
		ike_task_queue(sa, IKE_TASK_IKE_REKEY, now);
	}
	if (rk->ike_rekey_at && now >= rk->ike_rekey_at && !rk->ike_due && !rk->succ) {
		rk->ike_due = 1;
		ike_task_queue(sa, IKE_TASK_IKE_REKEY, now);
	}
	child_kick(sa, now);
}

/* ---- steering datagrams to old IKE SAs and the successor ---- */

int ike_child_divert(struct ike_sa *sa, const uint8_t *buf, size_t len, int natt, uint64_t now)
{
	struct ike_rekey_state *rk = &sa->rk;

	if (len < 16 || is_zombie(sa))
		return 0;
	for (unsigned i = 0; i < IKE_MAX_ZOMBIES; i++) {
		struct ike_sa *z = rk->zombie[i];

		if (z && !memcmp(buf, z->spi_i, 8) && !memcmp(buf + 8, z->spi_r, 8)) {
			ike_input(z, buf, len, natt, now);
			zombies_reap(sa);
			return 1;
		}
	}
	if (rk->succ && !memcmp(buf, rk->succ->spi_i, 8)) {
		ike_input(rk->succ, buf, len, natt, now);
		succ_check(sa, now);
		return 1;
	}
	return 0;
}

/* ---- data-plane expiry, status, cleanup ---- */

void ike_child_expire(struct ike_sa *sa, uint32_t spi_in, int hard, uint64_t now)
{
	struct ike_child *ch = child_in(sa, spi_in);

	if (!ch || sa->state != IKE_STATE_ESTABLISHED)
		return;
	if (hard) {
		if (ch->state == IKE_CHILD_DELETING)
			return;
		log_warn("CHILD SA %08x/%08x reached its hard volume limit", ch->spi_in, ch->spi_out);
		child_remove(sa, ch);
		ch->state = IKE_CHILD_DELETING;
		ch->del_sent = 0;
		child_check_empty(sa, now);
	} else if (ch->state == IKE_CHILD_INSTALLED && !ch->rekey_due) {
		log_info("CHILD SA %08x/%08x reached its soft volume limit: rekeying", ch->spi_in,
			 ch->spi_out);
		ch->rekey_due = 1;
	}
	child_kick(sa, now);
}

void ike_sa_lifetimes(const struct ike_sa *sa, uint64_t now, struct ike_sa_lifetimes *out)
{
	const struct ike_rekey_state *rk = &sa->rk;
	const struct ike_child *ch = child_newest(sa);
	uint64_t next = UINT64_MAX;

	memset(out, 0, sizeof(*out));
	out->ike_age = now > rk->ike_created ? now - rk->ike_created : 0;
	if (rk->ike_rekey_at)
		next = rk->ike_rekey_at;
	if (rk->reauth_at && rk->reauth_at < next)
		next = rk->reauth_at;
	out->ike_rekey_in = next == UINT64_MAX ? -1 : next > now ? (int64_t)(next - now) : 0;
	out->ike_rekeys = rk->ike_rekeys;
	out->reauths = rk->reauths;
	out->child_rekeys = rk->child_rekeys;
	out->collisions = rk->collisions;
	out->child_rekey_in = -1;
	if (ch) {
		out->child_age = now > ch->created ? now - ch->created : 0;
		if (ch->rekey_at)
			out->child_rekey_in = ch->rekey_due || ch->rekey_at <= now ? 0 :
					      (int64_t)(ch->rekey_at - now);
	}
}

void ike_child_free(struct ike_sa *sa)
{
	struct ike_rekey_state *rk = &sa->rk;

	/* Closing: tell the gateway about IKE SAs it would otherwise keep (best effort). */
	for (unsigned i = 0; i < IKE_MAX_ZOMBIES; i++) {
		if (rk->zombie[i]) {
			if (rk->zombie[i]->state == IKE_STATE_ESTABLISHED && !rk->zombie[i]->req_active)
				ike_task_queue(rk->zombie[i], IKE_TASK_DELETE, 0);
			ike_sa_free(rk->zombie[i]);
			rk->zombie[i] = NULL;
		}
	}
	if (rk->succ) {
		if (rk->succ->state == IKE_STATE_ESTABLISHED && !rk->succ->req_active) {
			rk->succ->ops = &zombie_ops;	/* its DELETE goes out, nothing else */
			ike_task_queue(rk->succ, IKE_TASK_DELETE, 0);
		}
		ike_sa_free(rk->succ);
		rk->succ = NULL;
	}
	crypto_dh_free(rk->child_dh);
	crypto_dh_free(rk->ike_dh);
	rk->child_dh = rk->ike_dh = NULL;
	keys_clear(&rk->peer_ike);
	/* Pairs the daemon does not track (rekeyed ones) leave the data plane with the SA. */
	for (unsigned i = 0; i < IKE_MAX_CHILDREN; i++)
		if (sa->children[i].state != IKE_CHILD_NONE && sa->children[i].installed &&
		    sa->ops && sa->ops->child_down)
			child_forget(sa, &sa->children[i]);
}
