/*
 * ikev2_pld: DECODE; see ikev2_pld.h. Each payload has a validate step (fixed
 * header present, declared lengths within the bytes left) and then a parse step
 * that records facts in struct ike_msg. All bytes are reached through kbuf.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kite.h"
#include "log.h"
#include "kbuf.h"
#include "ikev2.h"
#include "ikev2_pld.h"

/* Generic payload header (RFC 7296, 3.2) */
struct pld_gen {
	uint8_t next;
	uint8_t flags;
	uint16_t len;
};

#define PROP_HDR_LEN	8	/* RFC 7296, 3.3.1 */
#define XFORM_HDR_LEN	8	/* RFC 7296, 3.3.2 */
#define ATTR_HDR_LEN	4	/* RFC 7296, 3.3.5 */
#define TS_PLD_HDR_LEN	4	/* RFC 7296, 3.13 */
#define TS_HDR_LEN	8	/* type, proto, length, ports */
#define TS_V4_LEN	16	/* RFC 7296, 3.13.1 */
#define TS_V6_LEN	40
#define CFG_ATTR_HDR_LEN 4	/* RFC 7296, 3.15.1 */
#define EAP_HDR_LEN	4	/* RFC 3748, 4 */
#define PROP_MORE	2	/* RFC 7296, 3.3.1 Last Substruc */
#define XFORM_MORE	3	/* RFC 7296, 3.3.2 Last Substruc */

static void view_rest(struct kbuf *b, struct ike_view *v)
{
	const uint8_t *p = NULL;
	size_t n = kbuf_left(b);

	/* Cannot fail: asks for exactly what is left. */
	(void)kbuf_get_view(b, &p, n);
	v->p = p;
	v->len = n;
}

/*
 * SA payload body (RFC 7296, 3.3). With out == NULL only the syntax is checked
 * (ikev2_pld_parse); otherwise up to max proposals are stored.
 */

static int sa_attrs(struct kbuf *ab, struct ike_transform *xf)
{
	uint16_t at, val;
	int seen = 0;

	while (kbuf_left(ab) > 0) {
		if (kbuf_left(ab) < ATTR_HDR_LEN) {
			log_debug("attribute: %zu bytes left < header %d",
			    kbuf_left(ab), ATTR_HDR_LEN);
			return KITE_ERR_PARSE;
		}
		if (kbuf_get_u16(ab, &at) != 0 || kbuf_get_u16(ab, &val) != 0)
			return KITE_ERR_PARSE;
		/* Only KEY_LENGTH is defined, and only in TV format (3.3.5). */
		if (!(at & IKEV2_ATTR_TV)) {
			log_debug("attribute %u: TLV format not allowed (length %u, "
			    "%zu bytes left)", at & 0x7fff, val, kbuf_left(ab));
			return KITE_ERR_PARSE;
		}
		at &= 0x7fff;
		if (at != IKEV2_ATTR_KEY_LENGTH) {
			log_debug("attribute %u: unknown", at);
			return KITE_ERR_PARSE;
		}
		if (seen) {
			log_debug("attribute KEY_LENGTH repeated (%u, then %u)",
			    xf->key_bits, val);
			return KITE_ERR_PARSE;
		}
		/* key_bits 0 means "absent"; a zero key length is malformed. */
		if (val == 0) {
			log_debug("attribute KEY_LENGTH 0");
			return KITE_ERR_PARSE;
		}
		seen = 1;
		xf->key_bits = val;
	}
	return 0;
}

static int sa_transform(struct kbuf *pb, struct ike_transform *xf, unsigned idx,
    unsigned n_xf)
{
	struct kbuf ab;
	uint8_t more, res, type, res2;
	uint16_t tlen, id;
	int r;

	if (kbuf_left(pb) < XFORM_HDR_LEN) {
		log_debug("transform %u of %u: %zu bytes left < header %d",
		    idx + 1, n_xf, kbuf_left(pb), XFORM_HDR_LEN);
		return KITE_ERR_PARSE;
	}
	if (kbuf_get_u8(pb, &more) != 0 || kbuf_get_u8(pb, &res) != 0 ||
	    kbuf_get_u16(pb, &tlen) != 0 || kbuf_get_u8(pb, &type) != 0 ||
	    kbuf_get_u8(pb, &res2) != 0 || kbuf_get_u16(pb, &id) != 0)
		return KITE_ERR_PARSE;
	if (tlen < XFORM_HDR_LEN) {
		log_debug("transform %u: length %u < header %d", idx + 1, tlen,
		    XFORM_HDR_LEN);
		return KITE_ERR_PARSE;
	}
	if ((size_t)tlen - XFORM_HDR_LEN > kbuf_left(pb)) {
		log_debug("transform %u: length %u > %zu bytes left", idx + 1,
		    tlen, kbuf_left(pb) + XFORM_HDR_LEN);
		return KITE_ERR_PARSE;
	}
	/* "Last Substruc": 0 on the last transform, 3 on the others. */
	if (more != (idx + 1 == n_xf ? 0 : XFORM_MORE)) {
		log_debug("transform %u of %u: last/more %u", idx + 1, n_xf,
		    more);
		return KITE_ERR_PARSE;
	}
	if (type < IKEV2_XFORM_ENCR || type > IKEV2_XFORM_ESN) {
		log_debug("transform %u: unknown type %u", idx + 1, type);
		return KITE_ERR_PARSE;
	}
	if (kbuf_get_sub(pb, &ab, tlen - XFORM_HDR_LEN) != 0)
		return KITE_ERR_PARSE;
	memset(xf, 0, sizeof(*xf));
	xf->type = type;
	xf->id = id;
	if ((r = sa_attrs(&ab, xf)) != 0)
		return r;
	return 0;
}

static int sa_proposal(struct kbuf *b, struct ike_proposal *p, unsigned idx)
{
	struct kbuf pb;
	uint8_t more, res, num, proto, spi_size, n_xf;
	uint16_t plen;
	unsigned i;
	int r;

	if (kbuf_left(b) < PROP_HDR_LEN) {
		log_debug("proposal %u: %zu bytes left < header %d", idx + 1,
		    kbuf_left(b), PROP_HDR_LEN);
		return KITE_ERR_PARSE;
	}
	if (kbuf_get_u8(b, &more) != 0 || kbuf_get_u8(b, &res) != 0 ||
	    kbuf_get_u16(b, &plen) != 0 || kbuf_get_u8(b, &num) != 0 ||
	    kbuf_get_u8(b, &proto) != 0 || kbuf_get_u8(b, &spi_size) != 0 ||
	    kbuf_get_u8(b, &n_xf) != 0)
		return KITE_ERR_PARSE;
	if (plen < PROP_HDR_LEN) {
		log_debug("proposal %u: length %u < header %d", idx + 1, plen,
		    PROP_HDR_LEN);
		return KITE_ERR_PARSE;
	}
	if ((size_t)plen - PROP_HDR_LEN > kbuf_left(b)) {
		log_debug("proposal %u: length %u > %zu bytes left", idx + 1,
		    plen, kbuf_left(b) + PROP_HDR_LEN);
		return KITE_ERR_PARSE;
	}
	if (kbuf_get_sub(b, &pb, plen - PROP_HDR_LEN) != 0)
		return KITE_ERR_PARSE;
	/* "Last Substruc": 0 on the last proposal, 2 when more follow. */
	if (more != (kbuf_left(b) == 0 ? 0 : PROP_MORE)) {
		log_debug("proposal %u: last/more %u with %zu bytes after it",
		    idx + 1, more, kbuf_left(b));
		return KITE_ERR_PARSE;
	}
	/* SPI Size: 0 or 8 for IKE, 4 for AH and ESP (3.3.1). */
	switch (proto) {
	case IKEV2_PROTO_IKE:
		r = spi_size == 0 || spi_size == 8;
		break;
	case IKEV2_PROTO_AH:
	case IKEV2_PROTO_ESP:
		r = spi_size == 4;
		break;
	default:
		log_debug("proposal %u: unknown protocol %u", idx + 1, proto);
		return KITE_ERR_PARSE;
	}
	if (!r) {
		log_debug("proposal %u: SPI size %u for protocol %u", idx + 1,
		    spi_size, proto);
		return KITE_ERR_PARSE;
	}
	if (n_xf == 0 || n_xf > IKE_MAX_TRANSFORMS) {
		log_debug("proposal %u: %u transforms (1..%d)", idx + 1, n_xf,
		    IKE_MAX_TRANSFORMS);
		return KITE_ERR_PARSE;
	}
	memset(p, 0, sizeof(*p));
	p->num = num;
	p->proto = proto;
	p->spi_size = spi_size;
	if (kbuf_get_bytes(&pb, p->spi, spi_size) != 0) {
		log_debug("proposal %u: SPI size %u > %zu bytes left", idx + 1,
		    spi_size, kbuf_left(&pb));
		return KITE_ERR_PARSE;
	}
	for (i = 0; i < n_xf; i++) {
		if (kbuf_left(&pb) == 0) {
			log_debug("proposal %u: %u transforms declared, %u present",
			    idx + 1, n_xf, i);
			return KITE_ERR_PARSE;
		}
		if ((r = sa_transform(&pb, &p->xf[i], i, n_xf)) != 0)
			return r;
	}
	if (kbuf_left(&pb) != 0) {
		log_debug("proposal %u: %zu bytes after %u transforms "
		    "(length %u)", idx + 1, kbuf_left(&pb), n_xf, plen);
		return KITE_ERR_PARSE;
	}
	p->n_xf = n_xf;
	return 0;
}

static int sa_walk(struct ike_view sa, struct ike_proposal *out, size_t max,
    size_t *n)
{
	struct ike_proposal tmp;
	struct kbuf b;
	unsigned i, first_num = 0;
	int r;

	*n = 0;
	kbuf_init(&b, sa.p, sa.len);
	for (i = 0; kbuf_left(&b) > 0; i++) {
		if (out != NULL && i >= max) {
			log_debug("more than %zu proposals", max);
			return KITE_ERR_PARSE;
		}
		if ((r = sa_proposal(&b, &tmp, i)) != 0)
			return r;
		/*
		 * RFC 7296, 3.3.1: offered proposals are numbered 1, 2, ...;
		 * an accepted proposal keeps the number it was offered under,
		 * so a lone proposal may carry any number but 0.
		 */
		if (i == 0)
			first_num = tmp.num;
		if (tmp.num == 0 || (i > 0 && (first_num != 1 || tmp.num != i + 1))) {
			log_debug("proposal %u: number %u (first %u)", i + 1,
			    tmp.num, first_num);
			return KITE_ERR_PARSE;
		}
		if (out != NULL)
			out[i] = tmp;
	}
	if (i == 0) {
		log_debug("SA payload without proposals (%zu bytes)", sa.len);
		return KITE_ERR_PARSE;
	}
	*n = i;
	return 0;
}

int ikev2_pld_parse_sa(struct ike_view sa, struct ike_proposal *out, size_t max,
    size_t *n)
{
	size_t cnt = 0;
	int r;

	*n = 0;
	if (out == NULL)
		return KITE_ERR_INVAL;
	if ((r = sa_walk(sa, out, max, &cnt)) != 0)
		return r;
	*n = cnt;
	return 0;
}

/* TS payload body (RFC 7296, 3.13). out == NULL: syntax only. */
static int ts_walk(struct ike_view ts, struct ike_ts *out, size_t max, size_t *n)
{
	struct kbuf b, tb;
	struct ike_ts t;
	uint8_t n_ts, alen;
	uint16_t tlen, want;
	unsigned i;

	*n = 0;
	kbuf_init(&b, ts.p, ts.len);
	if (kbuf_left(&b) < TS_PLD_HDR_LEN) {
		log_debug("TS payload: %zu bytes < header %d", kbuf_left(&b),
		    TS_PLD_HDR_LEN);
		return KITE_ERR_PARSE;
	}
	if (kbuf_get_u8(&b, &n_ts) != 0 || kbuf_skip(&b, 3) != 0)
		return KITE_ERR_PARSE;
	if (n_ts == 0) {
		log_debug("TS payload: no selectors (%zu bytes follow)",
		    kbuf_left(&b));
		return KITE_ERR_PARSE;
	}
	if (out != NULL && n_ts > max) {
		log_debug("TS payload: %u selectors > %zu", n_ts, max);
		return KITE_ERR_PARSE;
	}
	for (i = 0; i < n_ts; i++) {
		if (kbuf_left(&b) < TS_HDR_LEN) {
			log_debug("selector %u of %u: %zu bytes left < header %d",
			    i + 1, n_ts, kbuf_left(&b), TS_HDR_LEN);
			return KITE_ERR_PARSE;
		}
		memset(&t, 0, sizeof(t));
		if (kbuf_get_u8(&b, &t.type) != 0 ||
		    kbuf_get_u8(&b, &t.ip_proto) != 0 ||
		    kbuf_get_u16(&b, &tlen) != 0)
			return KITE_ERR_PARSE;
		switch (t.type) {
		case IKEV2_TS_IPV4_ADDR_RANGE:
			want = TS_V4_LEN;
			alen = 4;
			break;
		case IKEV2_TS_IPV6_ADDR_RANGE:
			want = TS_V6_LEN;
			alen = 16;
			break;
		default:
			log_debug("selector %u: unknown type %u", i + 1, t.type);
			return KITE_ERR_PARSE;
		}
		if (tlen != want) {
			log_debug("selector %u: length %u != %u", i + 1, tlen, want);
			return KITE_ERR_PARSE;
		}
		if (kbuf_get_sub(&b, &tb, tlen - 4) != 0) {
			log_debug("selector %u: length %u > %zu bytes left", i + 1,
			    tlen, kbuf_left(&b) + 4);
			return KITE_ERR_PARSE;
		}
		if (kbuf_get_u16(&tb, &t.port_start) != 0 ||
		    kbuf_get_u16(&tb, &t.port_end) != 0 ||
		    kbuf_get_bytes(&tb, t.start, alen) != 0 ||
		    kbuf_get_bytes(&tb, t.end, alen) != 0)
			return KITE_ERR_PARSE;
		if (out != NULL)
			out[i] = t;
	}
	if (kbuf_left(&b) != 0) {
		log_debug("TS payload: %zu bytes after %u selectors",
		    kbuf_left(&b), n_ts);
		return KITE_ERR_PARSE;
	}
	*n = n_ts;
	return 0;
}

int ikev2_pld_parse_ts(struct ike_view ts, struct ike_ts *out, size_t max, size_t *n)
{
	size_t cnt = 0;
	int r;

	*n = 0;
	if (out == NULL)
		return KITE_ERR_INVAL;
	if ((r = ts_walk(ts, out, max, &cnt)) != 0)
		return r;
	*n = cnt;
	return 0;
}

/* Configuration attributes (RFC 7296, 3.15.1). out == NULL: syntax only. */
static int cfg_walk(struct ike_view cp, struct ike_cfg_attr *out, size_t max,
    size_t *n)
{
	struct kbuf b;
	uint16_t type, len;
	const uint8_t *v;
	size_t i;

	*n = 0;
	kbuf_init(&b, cp.p, cp.len);
	for (i = 0; kbuf_left(&b) > 0; i++) {
		if (kbuf_left(&b) < CFG_ATTR_HDR_LEN) {
			log_debug("attribute %zu: %zu bytes left < header %d",
			    i + 1, kbuf_left(&b), CFG_ATTR_HDR_LEN);
			return KITE_ERR_PARSE;
		}
		if (kbuf_get_u16(&b, &type) != 0 || kbuf_get_u16(&b, &len) != 0)
			return KITE_ERR_PARSE;
		if (kbuf_get_view(&b, &v, len) != 0) {
			log_debug("attribute %zu (type %u): length %u > %zu bytes "
			    "left", i + 1, type & 0x7fff, len, kbuf_left(&b));
			return KITE_ERR_PARSE;
		}
		if (out == NULL)
			continue;
		if (i >= max) {
			log_debug("more than %zu attributes", max);
			return KITE_ERR_PARSE;
		}
		/* The top bit is reserved (3.15.1): ignore it. */
		out[i].type = type & 0x7fff;
		out[i].value.p = v;
		out[i].value.len = len;
	}
	*n = i;
	return 0;
}

int ikev2_pld_parse_cfg(struct ike_view cp, struct ike_cfg_attr *out, size_t max,
    size_t *n)
{
	size_t cnt = 0;
	int r;

	*n = 0;
	if (out == NULL)
		return KITE_ERR_INVAL;
	if ((r = cfg_walk(cp, out, max, &cnt)) != 0)
		return r;
	*n = cnt;
	return 0;
}

int ikev2_notify_check(const struct ike_notify *n)
{
	size_t len = n->data.len;
	int ok = 1;

	switch (n->type) {
	case IKEV2_N_NAT_DETECTION_SOURCE_IP:
	case IKEV2_N_NAT_DETECTION_DESTINATION_IP:
		ok = len == 20;				/* SHA-1, RFC 7296 2.23 */
		break;
	case IKEV2_N_COOKIE:
		ok = len >= 1 && len <= IKEV2_COOKIE_MAX;	/* RFC 7296 2.6 */
		break;
	case IKEV2_N_INVALID_KE_PAYLOAD:
		ok = len == 2;				/* RFC 7296 1.3 */
		break;
	case IKEV2_N_ADDITIONAL_IP4_ADDRESS:
		ok = len == 4;				/* RFC 4555 4.2.2 */
		break;
	case IKEV2_N_ADDITIONAL_IP6_ADDRESS:
		ok = len == 16;
		break;
	case IKEV2_N_AUTH_LIFETIME:
		ok = len == 4;				/* RFC 4478 3 */
		break;
	case IKEV2_N_COOKIE2:
		ok = len >= 8 && len <= 64;		/* RFC 4555 4.2.5 */
		break;
	case IKEV2_N_REKEY_SA:
		/* Names the Child SA being rekeyed (RFC 7296 1.3.3). */
		ok = (n->proto == IKEV2_PROTO_ESP || n->proto == IKEV2_PROTO_AH) &&
		    n->spi_size == 4 && n->spi.len == 4;
		break;
	case IKEV2_N_SIGNATURE_HASH_ALGORITHMS:
		ok = len % 2 == 0;			/* 16-bit IDs, RFC 7427 4 */
		break;
	case IKEV2_N_MOBIKE_SUPPORTED:
	case IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED:
	default:
		break;
	}
	if (!ok) {
		log_debug("notify %s: data length %zu, protocol %u, SPI size %u",
		    ikev2_notify_name(n->type), len, n->proto, n->spi_size);
		return KITE_ERR_PARSE;
	}
	return 0;
}

const struct ike_notify *ikev2_msg_notify(const struct ike_msg *m, uint16_t type)
{
	unsigned i;

	for (i = 0; i < m->n_notify && i < IKE_MAX_NOTIFY; i++)
		if (m->notify[i].type == type)
			return &m->notify[i];
	return NULL;
}

int ikev2_msg_has_plain(const struct ike_msg *m)
{
	if (m->has_sk)
		return m->sk_off > IKEV2_HDR_LEN;
	return m->hdr.next_payload != IKEV2_PLD_NONE;
}

/* Payloads. b is bounded to one payload body. */

static int pld_dup(const char *what)
{
	log_debug("duplicate %s payload", what);
	return KITE_ERR_PARSE;
}

static int pld_sa(struct ike_msg *m, struct kbuf *b)
{
	struct ike_view v;
	size_t n;
	int r;

	if (m->sa.p != NULL)
		return pld_dup("SA");
	view_rest(b, &v);
	if ((r = sa_walk(v, NULL, 0, &n)) != 0)
		return r;
	m->sa = v;
	return 0;
}

/* Key Exchange payload (RFC 7296, 3.4): group(2) reserved(2) data */
static int pld_ke(struct ike_msg *m, struct kbuf *b)
{
	uint16_t group;

	if (m->ke.p != NULL)
		return pld_dup("KE");
	if (kbuf_left(b) < 4) {
		log_debug("KE: %zu bytes < header 4", kbuf_left(b));
		return KITE_ERR_PARSE;
	}
	if (kbuf_get_u16(b, &group) != 0 || kbuf_skip(b, 2) != 0)
		return KITE_ERR_PARSE;
	if (kbuf_left(b) == 0) {
		log_debug("KE: group %u without key exchange data", group);
		return KITE_ERR_PARSE;
	}
	m->ke_group = group;
	view_rest(b, &m->ke);
	return 0;
}

/* Nonce payload (RFC 7296, 3.9): 16..256 bytes */
static int pld_nonce(struct ike_msg *m, struct kbuf *b)
{
	if (m->nonce.p != NULL)
		return pld_dup("Nonce");
	if (kbuf_left(b) < IKEV2_NONCE_MIN || kbuf_left(b) > IKEV2_NONCE_MAX) {
		log_debug("Nonce: %zu bytes, want %d..%d", kbuf_left(b),
		    IKEV2_NONCE_MIN, IKEV2_NONCE_MAX);
		return KITE_ERR_PARSE;
	}
	view_rest(b, &m->nonce);
	return 0;
}

/* Identification payload (RFC 7296, 3.5): type(1) reserved(3) data */
static int pld_id(struct ike_msg *m, struct kbuf *b, uint8_t type)
{
	struct ike_id *id = type == IKEV2_PLD_IDi ? &m->idi : &m->idr;
	struct ike_view body;

	if (id->body.p != NULL)
		return pld_dup(ikev2_payload_name(type));
	if (kbuf_left(b) < 5) {
		log_debug("%s: %zu bytes < 5 (header 4 + data)",
		    ikev2_payload_name(type), kbuf_left(b));
		return KITE_ERR_PARSE;
	}
	body.p = kbuf_cur(b);
	body.len = kbuf_left(b);
	if (kbuf_get_u8(b, &id->type) != 0 || kbuf_skip(b, 3) != 0)
		return KITE_ERR_PARSE;
	view_rest(b, &id->data);
	id->body = body;
	return 0;
}

/* Certificate / Certificate Request (RFC 7296, 3.6, 3.7): encoding(1) data */
static int pld_cert(struct ike_msg *m, struct kbuf *b, uint8_t type)
{
	int req = type == IKEV2_PLD_CERTREQ;
	unsigned *cnt = req ? &m->n_certreq : &m->n_cert;
	unsigned max = req ? IKE_MAX_CERTREQ : IKE_MAX_CERT;
	/* A CERTREQ may carry an empty CA list; a CERT needs its data. */
	size_t min = req ? 1 : 2;
	struct ike_view *slot;

	if (kbuf_left(b) < min) {
		log_debug("%s: %zu bytes < %zu", ikev2_payload_name(type),
		    kbuf_left(b), min);
		return KITE_ERR_PARSE;
	}
	if (*cnt >= max) {
		log_debug("%s: more than %u", ikev2_payload_name(type), max);
		return KITE_ERR_PARSE;
	}
	slot = req ? &m->certreq[*cnt] : &m->cert[*cnt];
	view_rest(b, slot);
	(*cnt)++;
	return 0;
}

/* Authentication payload (RFC 7296, 3.8): method(1) reserved(3) data */
static int pld_auth(struct ike_msg *m, struct kbuf *b)
{
	if (m->auth.p != NULL)
		return pld_dup("AUTH");
	if (kbuf_left(b) < 5) {
		log_debug("AUTH: %zu bytes < 5 (header 4 + data)", kbuf_left(b));
		return KITE_ERR_PARSE;
	}
	if (kbuf_get_u8(b, &m->auth_method) != 0 || kbuf_skip(b, 3) != 0)
		return KITE_ERR_PARSE;
	view_rest(b, &m->auth);
	return 0;
}

/* Notify payload (RFC 7296, 3.10): proto(1) spi_size(1) type(2) spi data */
static int pld_notify(struct ike_msg *m, struct kbuf *b)
{
	struct ike_notify n;
	int r;

	if (kbuf_left(b) < 4) {
		log_debug("Notify: %zu bytes < header 4", kbuf_left(b));
		return KITE_ERR_PARSE;
	}
	memset(&n, 0, sizeof(n));
	if (kbuf_get_u8(b, &n.proto) != 0 || kbuf_get_u8(b, &n.spi_size) != 0 ||
	    kbuf_get_u16(b, &n.type) != 0)
		return KITE_ERR_PARSE;
	if (n.spi_size != 0 && n.spi_size != 4 && n.spi_size != 8) {
		log_debug("Notify %s: SPI size %u", ikev2_notify_name(n.type),
		    n.spi_size);
		return KITE_ERR_PARSE;
	}
	if (kbuf_get_view(b, &n.spi.p, n.spi_size) != 0) {
		log_debug("Notify %s: SPI size %u > %zu bytes left",
		    ikev2_notify_name(n.type), n.spi_size, kbuf_left(b));
		return KITE_ERR_PARSE;
	}
	n.spi.len = n.spi_size;
	view_rest(b, &n.data);
	/* Meaning right after syntax: sizes fixed by the RFCs. */
	if ((r = ikev2_notify_check(&n)) != 0)
		return r;
	if (m->n_notify >= IKE_MAX_NOTIFY) {
		log_debug("Notify: more than %d", IKE_MAX_NOTIFY);
		return KITE_ERR_PARSE;
	}
	m->notify[m->n_notify++] = n;
	return 0;
}

/* Delete payload (RFC 7296, 3.11): proto(1) spi_size(1) n_spi(2) spis */
static int pld_delete(struct ike_msg *m, struct kbuf *b)
{
	struct ike_delete d;
	int ok;

	if (kbuf_left(b) < 4) {
		log_debug("Delete: %zu bytes < header 4", kbuf_left(b));
		return KITE_ERR_PARSE;
	}
	memset(&d, 0, sizeof(d));
	if (kbuf_get_u8(b, &d.proto) != 0 || kbuf_get_u8(b, &d.spi_size) != 0 ||
	    kbuf_get_u16(b, &d.n_spi) != 0)
		return KITE_ERR_PARSE;
	/* IKE SA: no SPIs (they are in the header); AH/ESP: 4-byte SPIs. */
	switch (d.proto) {
	case IKEV2_PROTO_IKE:
		ok = d.spi_size == 0;
		break;
	case IKEV2_PROTO_AH:
	case IKEV2_PROTO_ESP:
		ok = d.spi_size == 4;
		break;
	default:
		ok = 0;
		break;
	}
	if (!ok) {
		log_debug("Delete: protocol %u with SPI size %u", d.proto,
		    d.spi_size);
		return KITE_ERR_PARSE;
	}
	/* Both factors are at most 16 bits: the product cannot overflow. */
	if ((size_t)d.n_spi * d.spi_size != kbuf_left(b)) {
		log_debug("Delete: %u SPIs of %u bytes != %zu bytes left",
		    d.n_spi, d.spi_size, kbuf_left(b));
		return KITE_ERR_PARSE;
	}
	if (m->n_delete >= IKE_MAX_DELETE) {
		log_debug("Delete: more than %d", IKE_MAX_DELETE);
		return KITE_ERR_PARSE;
	}
	view_rest(b, &d.spis);
	m->del[m->n_delete++] = d;
	return 0;
}

/* Vendor ID (RFC 7296, 3.12): counted, not kept. */
static int pld_vendor(struct ike_msg *m, struct kbuf *b)
{
	if (m->n_vid >= IKE_MAX_VID) {
		log_debug("Vendor ID: more than %d", IKE_MAX_VID);
		return KITE_ERR_PARSE;
	}
	m->n_vid++;
	return kbuf_skip(b, kbuf_left(b)) == 0 ? 0 : KITE_ERR_PARSE;
}

static int pld_ts(struct ike_msg *m, struct kbuf *b, uint8_t type)
{
	struct ike_view *ts = type == IKEV2_PLD_TSi ? &m->tsi : &m->tsr;
	struct ike_view v;
	size_t n;
	int r;

	if (ts->p != NULL)
		return pld_dup(ikev2_payload_name(type));
	view_rest(b, &v);
	if ((r = ts_walk(v, NULL, 0, &n)) != 0)
		return r;
	*ts = v;
	return 0;
}

/* Configuration payload (RFC 7296, 3.15): type(1) reserved(3) attributes */
static int pld_cp(struct ike_msg *m, struct kbuf *b)
{
	struct ike_view v;
	uint8_t type;
	size_t n;
	int r;

	if (m->cp.p != NULL)
		return pld_dup("CP");
	if (kbuf_left(b) < 4) {
		log_debug("CP: %zu bytes < header 4", kbuf_left(b));
		return KITE_ERR_PARSE;
	}
	if (kbuf_get_u8(b, &type) != 0 || kbuf_skip(b, 3) != 0)
		return KITE_ERR_PARSE;
	view_rest(b, &v);
	if ((r = cfg_walk(v, NULL, 0, &n)) != 0)
		return r;
	m->cp_type = type;
	m->cp = v;
	return 0;
}

/* EAP payload (RFC 7296, 3.16): one EAP message whose Length covers it all. */
static int pld_eap(struct ike_msg *m, struct kbuf *b)
{
	struct kbuf hb = *b;
	uint16_t elen;

	if (m->eap.p != NULL)
		return pld_dup("EAP");
	if (kbuf_left(b) < EAP_HDR_LEN) {
		log_debug("EAP: %zu bytes < header %d", kbuf_left(b), EAP_HDR_LEN);
		return KITE_ERR_PARSE;
	}
	if (kbuf_skip(&hb, 2) != 0 || kbuf_get_u16(&hb, &elen) != 0)
		return KITE_ERR_PARSE;
	if (elen != kbuf_left(b)) {
		log_debug("EAP: length field %u != payload data %zu", elen,
		    kbuf_left(b));
		return KITE_ERR_PARSE;
	}
	view_rest(b, &m->eap);
	return 0;
}

/*
 * Encrypted (RFC 7296, 3.14) and Encrypted Fragment (RFC 7383, 2.5) payloads.
 * off is the offset of the generic header within the message.
 */
static int pld_sk(struct ike_msg *m, struct kbuf *b, uint8_t type,
    const struct pld_gen *g, size_t off)
{
	const char *name = ikev2_payload_name(type);

	if (m->has_sk)
		return pld_dup(name);
	if (type == IKEV2_PLD_SKF) {
		/* Fragment Number and Total Fragments (Cisco CVE-2016-1287). */
		if (kbuf_left(b) < 4) {
			log_debug("SKF: length %u < 8", g->len);
			return KITE_ERR_PARSE;
		}
		if (kbuf_get_u16(b, &m->frag_num) != 0 ||
		    kbuf_get_u16(b, &m->frag_total) != 0)
			return KITE_ERR_PARSE;
		if (m->frag_num == 0 || m->frag_total == 0 ||
		    m->frag_num > m->frag_total ||
		    m->frag_total > IKE_MAX_FRAGMENTS) {
			log_debug("SKF: fragment %u of %u (max %d)", m->frag_num,
			    m->frag_total, IKE_MAX_FRAGMENTS);
			return KITE_ERR_PARSE;
		}
	}
	if (kbuf_left(b) == 0) {
		log_debug("%s: empty body (length %u)", name, g->len);
		return KITE_ERR_PARSE;
	}
	m->has_sk = 1;
	m->is_skf = type == IKEV2_PLD_SKF;
	m->sk_first = g->next;
	m->sk_off = off;
	view_rest(b, &m->sk_body);
	return 0;
}

/* Unknown payload types, IKEv1 ones included (RFC 7296, 2.5; CVE-2015-3991). */
static int pld_unknown(struct ike_msg *m, uint8_t type, const struct pld_gen *g)
{
	if (g->flags & IKEV2_PLD_CRITICAL) {
		log_debug("unknown payload %u is critical (length %u)", type,
		    g->len);
		m->unsupported_critical = type;
		return KITE_ERR_CRITICAL;
	}
	if (m->n_unknown >= IKE_MAX_UNKNOWN) {
		log_debug("more than %d unknown payloads", IKE_MAX_UNKNOWN);
		return KITE_ERR_PARSE;
	}
	m->n_unknown++;
	log_debug("skipping unknown payload %u (length %u)", type, g->len);
	return 0;
}

/*
 * Walk a payload chain starting with type first. b is positioned at the first
 * generic header; its offsets are message offsets for the outer chain.
 */
static int pld_chain(struct ike_msg *m, struct kbuf *b, uint8_t first, int inner)
{
	struct pld_gen g;
	struct kbuf body;
	uint8_t type = first;
	size_t off;
	int r;

	while (type != IKEV2_PLD_NONE) {
		off = b->off;
		/* We need at least the generic header. */
		if (kbuf_left(b) < IKEV2_PLD_HDR_LEN) {
			log_debug("%s: %zu bytes left < generic header %d",
			    ikev2_payload_name(type), kbuf_left(b),
			    IKEV2_PLD_HDR_LEN);
			return KITE_ERR_PARSE;
		}
		if (kbuf_get_u8(b, &g.next) != 0 || kbuf_get_u8(b, &g.flags) != 0 ||
		    kbuf_get_u16(b, &g.len) != 0)
			return KITE_ERR_PARSE;
		if (g.len < IKEV2_PLD_HDR_LEN) {
			log_debug("%s: payload length %u < %d",
			    ikev2_payload_name(type), g.len, IKEV2_PLD_HDR_LEN);
			return KITE_ERR_PARSE;
		}
		if ((size_t)g.len - IKEV2_PLD_HDR_LEN > kbuf_left(b)) {
			log_debug("%s: payload length %u > %zu bytes left",
			    ikev2_payload_name(type), g.len,
			    kbuf_left(b) + IKEV2_PLD_HDR_LEN);
			return KITE_ERR_PARSE;
		}
		if (kbuf_get_sub(b, &body, g.len - IKEV2_PLD_HDR_LEN) != 0)
			return KITE_ERR_PARSE;

		/* The critical bit is ignored for known types (2.5). */
		switch (type) {
		case IKEV2_PLD_SA:
			r = pld_sa(m, &body);
			break;
		case IKEV2_PLD_KE:
			r = pld_ke(m, &body);
			break;
		case IKEV2_PLD_IDi:
		case IKEV2_PLD_IDr:
			r = pld_id(m, &body, type);
			break;
		case IKEV2_PLD_CERT:
		case IKEV2_PLD_CERTREQ:
			r = pld_cert(m, &body, type);
			break;
		case IKEV2_PLD_AUTH:
			r = pld_auth(m, &body);
			break;
		case IKEV2_PLD_NONCE:
			r = pld_nonce(m, &body);
			break;
		case IKEV2_PLD_NOTIFY:
			r = pld_notify(m, &body);
			break;
		case IKEV2_PLD_DELETE:
			r = pld_delete(m, &body);
			break;
		case IKEV2_PLD_VENDOR:
			r = pld_vendor(m, &body);
			break;
		case IKEV2_PLD_TSi:
		case IKEV2_PLD_TSr:
			r = pld_ts(m, &body, type);
			break;
		case IKEV2_PLD_CP:
			r = pld_cp(m, &body);
			break;
		case IKEV2_PLD_EAP:
			r = pld_eap(m, &body);
			break;
		case IKEV2_PLD_SK:
		case IKEV2_PLD_SKF:
			if (inner) {
				log_debug("%s inside SK", ikev2_payload_name(type));
				return KITE_ERR_PARSE;
			}
			if ((r = pld_sk(m, &body, type, &g, off)) != 0)
				return r;
			/*
			 * Encrypted payloads must appear last (3.14; RFC 7383,
			 * 2.5); their Next Payload names the first inner one.
			 */
			if (kbuf_left(b) != 0) {
				log_debug("%zu bytes after %s (length %u)",
				    kbuf_left(b), ikev2_payload_name(type), g.len);
				return KITE_ERR_PARSE;
			}
			return 0;
		default:
			r = pld_unknown(m, type, &g);
			break;
		}
		if (r != 0)
			return r;
		type = g.next;
	}
	if (kbuf_left(b) != 0) {
		log_debug("%zu bytes after the last payload", kbuf_left(b));
		return KITE_ERR_PARSE;
	}
	return 0;
}

int ikev2_pld_parse_hdr(const uint8_t *buf, size_t len, struct ike_hdr *hdr)
{
	struct kbuf b;

	memset(hdr, 0, sizeof(*hdr));
	if (buf == NULL || len < IKEV2_HDR_LEN) {
		log_debug("message %zu bytes < header %d", buf ? len : 0,
		    IKEV2_HDR_LEN);
		return KITE_ERR_PARSE;
	}
	if (len > IKEV2_MAX_MSG) {
		log_debug("message %zu bytes > %d", len, IKEV2_MAX_MSG);
		return KITE_ERR_PARSE;
	}
	kbuf_init(&b, buf, len);
	if (kbuf_get_bytes(&b, hdr->spi_i, sizeof(hdr->spi_i)) != 0 ||
	    kbuf_get_bytes(&b, hdr->spi_r, sizeof(hdr->spi_r)) != 0 ||
	    kbuf_get_u8(&b, &hdr->next_payload) != 0 ||
	    kbuf_get_u8(&b, &hdr->version) != 0 ||
	    kbuf_get_u8(&b, &hdr->exchange) != 0 ||
	    kbuf_get_u8(&b, &hdr->flags) != 0 ||
	    kbuf_get_u32(&b, &hdr->msgid) != 0 ||
	    kbuf_get_u32(&b, &hdr->length) != 0)
		return KITE_ERR_PARSE;
	if (hdr->length != len) {
		log_debug("header length %u != datagram length %zu",
		    hdr->length, len);
		return KITE_ERR_PARSE;
	}
	/* Major version 2; the minor version is ignored (RFC 7296, 2.5). */
	if ((hdr->version >> 4) != (IKEV2_VERSION >> 4)) {
		log_debug("major version %u", hdr->version >> 4);
		return KITE_ERR_PARSE;
	}
	return 0;
}

int ikev2_pld_parse(const uint8_t *buf, size_t len, struct ike_msg *m)
{
	struct kbuf b;
	int r;

	memset(m, 0, sizeof(*m));
	if ((r = ikev2_pld_parse_hdr(buf, len, &m->hdr)) != 0)
		return r;
	m->raw.p = buf;
	m->raw.len = len;
	kbuf_init(&b, buf, len);
	if (kbuf_skip(&b, IKEV2_HDR_LEN) != 0)
		return KITE_ERR_PARSE;
	return pld_chain(m, &b, m->hdr.next_payload, 0);
}

int ikev2_pld_parse_inner(struct ike_msg *m, uint8_t first, const uint8_t *buf,
    size_t len)
{
	struct kbuf b;

	m->encrypted = 1;
	kbuf_init(&b, buf, len);
	return pld_chain(m, &b, first, 1);
}
