/*
 * ikev2_enc: ENCODE; see ikev2_enc.h. Every length and Next Payload field is
 * patched by offset into e->w, never through a saved pointer. Diagrams are
 * from RFC 7296 (section noted at each builder).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kite.h"
#include "kbuf.h"
#include "ikev2.h"
#include "ikev2_pld.h"
#include "ikev2_enc.h"

#define ENC_INNER_FIRST	((size_t)-1)	/* inner chain, no payload yet */
#define ENC_CLOSED	((size_t)-2)	/* SK/SKF written: it must be last */

#define HDR_NEXT_OFF	16		/* Next Payload in the IKE header */
#define HDR_LEN_OFF	24		/* Length in the IKE header */

static void enc_fail(struct ike_enc *e)
{
	e->w.err = 1;
}

/*
 * IKE header (3.1):
 *   IKE SA Initiator's SPI (8) | IKE SA Responder's SPI (8)
 *   Next Payload | MjVer|MnVer | Exchange Type | Flags
 *   Message ID (4) | Length (4)
 * hdr->next_payload and hdr->length are not copied: the encoder patches them.
 */
void ikev2_enc_init(struct ike_enc *e, uint8_t *buf, size_t cap,
    const struct ike_hdr *hdr)
{
	memset(e, 0, sizeof(*e));
	wbuf_init(&e->w, buf, cap);
	wbuf_put_bytes(&e->w, hdr->spi_i, sizeof(hdr->spi_i));
	wbuf_put_bytes(&e->w, hdr->spi_r, sizeof(hdr->spi_r));
	wbuf_put_u8(&e->w, IKEV2_PLD_NONE);
	wbuf_put_u8(&e->w, hdr->version);
	wbuf_put_u8(&e->w, hdr->exchange);
	wbuf_put_u8(&e->w, hdr->flags);
	wbuf_put_u32(&e->w, hdr->msgid);
	wbuf_put_u32(&e->w, 0);
	e->next_off = HDR_NEXT_OFF;
	e->first = IKEV2_PLD_NONE;
	e->pld_off = (size_t)-1;
}

void ikev2_enc_init_inner(struct ike_enc *e, uint8_t *buf, size_t cap)
{
	memset(e, 0, sizeof(*e));
	wbuf_init(&e->w, buf, cap);
	e->next_off = ENC_INNER_FIRST;
	e->first = IKEV2_PLD_NONE;
	e->pld_off = (size_t)-1;
}

/*
 * Generic payload header (3.2):
 *   Next Payload |C| RESERVED | Payload Length (2)
 */
size_t ikev2_enc_begin(struct ike_enc *e, uint8_t type, uint8_t flags)
{
	size_t off;

	/* Encrypted payloads must be last (3.14; RFC 7383, 2.5). */
	if (e->next_off == ENC_CLOSED) {
		enc_fail(e);
		return (size_t)-1;
	}
	if ((off = wbuf_reserve(&e->w, IKEV2_PLD_HDR_LEN)) == (size_t)-1)
		return off;
	wbuf_set_u8(&e->w, off + 1, flags);
	if (e->first == IKEV2_PLD_NONE)
		e->first = type;
	if (e->next_off != ENC_INNER_FIRST)
		wbuf_set_u8(&e->w, e->next_off, type);
	/* SK/SKF's own Next Payload is the first inner type, set by the caller. */
	if (type == IKEV2_PLD_SK || type == IKEV2_PLD_SKF)
		e->next_off = ENC_CLOSED;
	else
		e->next_off = off;
	e->pld_off = off;
	return off;
}

void ikev2_enc_end(struct ike_enc *e, size_t off)
{
	size_t len;

	if (!wbuf_ok(&e->w))
		return;
	if (off > e->w.len || e->w.len - off < IKEV2_PLD_HDR_LEN) {
		enc_fail(e);
		return;
	}
	len = e->w.len - off;
	if (len > UINT16_MAX) {
		enc_fail(e);
		return;
	}
	wbuf_set_u16(&e->w, off + 2, (uint16_t)len);
}

int ikev2_enc_finish(struct ike_enc *e, size_t *len)
{
	*len = 0;
	if (!wbuf_ok(&e->w) || e->w.len < IKEV2_HDR_LEN ||
	    (uint64_t)e->w.len > UINT32_MAX)
		return KITE_ERR_INVAL;
	wbuf_set_u32(&e->w, HDR_LEN_OFF, (uint32_t)e->w.len);
	if (!wbuf_ok(&e->w))
		return KITE_ERR_INVAL;
	*len = e->w.len;
	return 0;
}

/* Patch a substructure length written at off + 2 (proposal, transform). */
static void enc_sublen(struct wbuf *w, size_t off)
{
	if (!wbuf_ok(w))
		return;
	if (w->len - off > UINT16_MAX) {
		w->err = 1;
		return;
	}
	wbuf_set_u16(w, off + 2, (uint16_t)(w->len - off));
}

/*
 * Transform substructure (3.3.2):
 *   Last Substruc (0/3) | RESERVED | Transform Length (2)
 *   Transform Type | RESERVED | Transform ID (2)
 *   Transform Attributes: |A| Attribute Type (15) | Attribute Value (2) (3.3.5)
 */
static void enc_transform(struct wbuf *w, const struct ike_transform *xf, int last)
{
	wbuf_put_u8(w, last ? 0 : 3);
	wbuf_put_u8(w, 0);
	wbuf_put_u16(w, xf->key_bits != 0 ? 12 : 8);
	wbuf_put_u8(w, xf->type);
	wbuf_put_u8(w, 0);
	wbuf_put_u16(w, xf->id);
	if (xf->key_bits != 0) {
		wbuf_put_u16(w, IKEV2_ATTR_TV | IKEV2_ATTR_KEY_LENGTH);
		wbuf_put_u16(w, xf->key_bits);
	}
}

/*
 * Proposal substructure (3.3.1):
 *   Last Substruc (0/2) | RESERVED | Proposal Length (2)
 *   Proposal Num | Protocol ID | SPI Size | Num Transforms
 *   SPI (variable) | Transforms
 */
static void enc_proposal(struct wbuf *w, const struct ike_proposal *p,
    unsigned num, int last)
{
	size_t off = w->len;
	unsigned i;

	if (p->n_xf > IKE_MAX_TRANSFORMS || p->spi_size > sizeof(p->spi)) {
		w->err = 1;
		return;
	}
	wbuf_put_u8(w, last ? 0 : 2);
	wbuf_put_u8(w, 0);
	wbuf_put_u16(w, 0);
	wbuf_put_u8(w, p->num != 0 ? p->num : (uint8_t)num);
	wbuf_put_u8(w, p->proto);
	wbuf_put_u8(w, p->spi_size);
	wbuf_put_u8(w, p->n_xf);
	wbuf_put_bytes(w, p->spi, p->spi_size);
	for (i = 0; i < p->n_xf; i++)
		enc_transform(w, &p->xf[i], i + 1 == p->n_xf);
	enc_sublen(w, off);
}

/* Security Association payload (3.3): Proposals */
void ikev2_enc_sa(struct ike_enc *e, const struct ike_proposal *p, size_t n)
{
	size_t off, i;

	if (n == 0 || n > 255) {
		enc_fail(e);
		return;
	}
	off = ikev2_enc_begin(e, IKEV2_PLD_SA, 0);
	for (i = 0; i < n; i++)
		enc_proposal(&e->w, &p[i], (unsigned)(i + 1), i + 1 == n);
	ikev2_enc_end(e, off);
}

/*
 * Key Exchange payload (3.4):
 *   Diffie-Hellman Group Num (2) | RESERVED (2)
 *   Key Exchange Data (variable)
 */
void ikev2_enc_ke(struct ike_enc *e, uint16_t group, const uint8_t *data, size_t len)
{
	size_t off = ikev2_enc_begin(e, IKEV2_PLD_KE, 0);

	wbuf_put_u16(&e->w, group);
	wbuf_put_u16(&e->w, 0);
	wbuf_put_bytes(&e->w, data, len);
	ikev2_enc_end(e, off);
}

/* Nonce payload (3.9): Nonce Data (16..256) */
void ikev2_enc_nonce(struct ike_enc *e, const uint8_t *data, size_t len)
{
	size_t off = ikev2_enc_begin(e, IKEV2_PLD_NONCE, 0);

	wbuf_put_bytes(&e->w, data, len);
	ikev2_enc_end(e, off);
}

/*
 * Notify payload (3.10):
 *   Protocol ID | SPI Size | Notify Message Type (2)
 *   SPI (variable) | Notification Data (variable)
 */
void ikev2_enc_notify(struct ike_enc *e, uint8_t proto, const uint8_t *spi,
    size_t spi_len, uint16_t type, const uint8_t *data, size_t len)
{
	size_t off;

	if (spi_len > UINT8_MAX) {
		enc_fail(e);
		return;
	}
	off = ikev2_enc_begin(e, IKEV2_PLD_NOTIFY, 0);
	wbuf_put_u8(&e->w, proto);
	wbuf_put_u8(&e->w, (uint8_t)spi_len);
	wbuf_put_u16(&e->w, type);
	wbuf_put_bytes(&e->w, spi, spi_len);
	wbuf_put_bytes(&e->w, data, len);
	ikev2_enc_end(e, off);
}

/*
 * Identification payload (3.5):
 *   ID Type | RESERVED (3)
 *   Identification Data (variable)
 */
void ikev2_enc_id(struct ike_enc *e, uint8_t pld_type, uint8_t id_type,
    const uint8_t *data, size_t len)
{
	size_t off;

	if (pld_type != IKEV2_PLD_IDi && pld_type != IKEV2_PLD_IDr) {
		enc_fail(e);
		return;
	}
	off = ikev2_enc_begin(e, pld_type, 0);
	wbuf_put_u8(&e->w, id_type);
	wbuf_put_zero(&e->w, 3);
	wbuf_put_bytes(&e->w, data, len);
	ikev2_enc_end(e, off);
}

/*
 * Authentication payload (3.8):
 *   Auth Method | RESERVED (3)
 *   Authentication Data (variable)
 */
void ikev2_enc_auth(struct ike_enc *e, uint8_t method, const uint8_t *data, size_t len)
{
	size_t off = ikev2_enc_begin(e, IKEV2_PLD_AUTH, 0);

	wbuf_put_u8(&e->w, method);
	wbuf_put_zero(&e->w, 3);
	wbuf_put_bytes(&e->w, data, len);
	ikev2_enc_end(e, off);
}

/*
 * Traffic Selector payload (3.13):
 *   Number of TSs | RESERVED (3) | Traffic Selectors
 * Traffic Selector (3.13.1):
 *   TS Type | IP Protocol ID | Selector Length (2)
 *   Start Port (2) | End Port (2)
 *   Starting Address (4/16) | Ending Address (4/16)
 */
void ikev2_enc_ts(struct ike_enc *e, uint8_t pld_type, const struct ike_ts *ts,
    size_t n)
{
	size_t off, i, alen;

	if ((pld_type != IKEV2_PLD_TSi && pld_type != IKEV2_PLD_TSr) ||
	    n == 0 || n > UINT8_MAX) {
		enc_fail(e);
		return;
	}
	off = ikev2_enc_begin(e, pld_type, 0);
	wbuf_put_u8(&e->w, (uint8_t)n);
	wbuf_put_zero(&e->w, 3);
	for (i = 0; i < n; i++) {
		if (ts[i].type == IKEV2_TS_IPV4_ADDR_RANGE)
			alen = 4;
		else if (ts[i].type == IKEV2_TS_IPV6_ADDR_RANGE)
			alen = 16;
		else {
			enc_fail(e);
			return;
		}
		wbuf_put_u8(&e->w, ts[i].type);
		wbuf_put_u8(&e->w, ts[i].ip_proto);
		wbuf_put_u16(&e->w, (uint16_t)(8 + 2 * alen));
		wbuf_put_u16(&e->w, ts[i].port_start);
		wbuf_put_u16(&e->w, ts[i].port_end);
		wbuf_put_bytes(&e->w, ts[i].start, alen);
		wbuf_put_bytes(&e->w, ts[i].end, alen);
	}
	ikev2_enc_end(e, off);
}

/*
 * Configuration payload (3.15):
 *   CFG Type | RESERVED (3) | Configuration Attributes
 * Configuration attribute (3.15.1):
 *   |R| Attribute Type (15) | Length (2) | Value (0 or more)
 */
void ikev2_enc_cp(struct ike_enc *e, uint8_t cfg_type, const struct ike_cfg_attr *a,
    size_t n)
{
	size_t off = ikev2_enc_begin(e, IKEV2_PLD_CP, 0);
	size_t i;

	wbuf_put_u8(&e->w, cfg_type);
	wbuf_put_zero(&e->w, 3);
	for (i = 0; i < n; i++) {
		if (a[i].value.len > UINT16_MAX) {
			enc_fail(e);
			return;
		}
		wbuf_put_u16(&e->w, a[i].type & 0x7fff);
		wbuf_put_u16(&e->w, (uint16_t)a[i].value.len);
		wbuf_put_bytes(&e->w, a[i].value.p, a[i].value.len);
	}
	ikev2_enc_end(e, off);
}

/*
 * Delete payload (3.11):
 *   Protocol ID | SPI Size | Num of SPIs (2)
 *   Security Parameter Index(es) (variable)
 */
void ikev2_enc_delete(struct ike_enc *e, uint8_t proto, uint8_t spi_size,
    const uint8_t *spis, uint16_t n_spi)
{
	size_t off = ikev2_enc_begin(e, IKEV2_PLD_DELETE, 0);

	wbuf_put_u8(&e->w, proto);
	wbuf_put_u8(&e->w, spi_size);
	wbuf_put_u16(&e->w, n_spi);
	wbuf_put_bytes(&e->w, spis, (size_t)n_spi * spi_size);
	ikev2_enc_end(e, off);
}

/* Vendor ID payload (3.12): Vendor ID (variable) */
void ikev2_enc_vendor(struct ike_enc *e, const uint8_t *data, size_t len)
{
	size_t off = ikev2_enc_begin(e, IKEV2_PLD_VENDOR, 0);

	wbuf_put_bytes(&e->w, data, len);
	ikev2_enc_end(e, off);
}

/* Certificate payload (3.6): Cert Encoding | Certificate Data (variable) */
void ikev2_enc_cert(struct ike_enc *e, uint8_t encoding, const uint8_t *data, size_t len)
{
	size_t off = ikev2_enc_begin(e, IKEV2_PLD_CERT, 0);

	wbuf_put_u8(&e->w, encoding);
	wbuf_put_bytes(&e->w, data, len);
	ikev2_enc_end(e, off);
}

/* Certificate Request payload (3.7): Cert Encoding | Certification Authority */
void ikev2_enc_certreq(struct ike_enc *e, uint8_t encoding, const uint8_t *data,
    size_t len)
{
	size_t off = ikev2_enc_begin(e, IKEV2_PLD_CERTREQ, 0);

	wbuf_put_u8(&e->w, encoding);
	wbuf_put_bytes(&e->w, data, len);
	ikev2_enc_end(e, off);
}

/* EAP payload (3.16): EAP Message (Code | Identifier | Length | ...) */
void ikev2_enc_eap(struct ike_enc *e, const uint8_t *data, size_t len)
{
	size_t off = ikev2_enc_begin(e, IKEV2_PLD_EAP, 0);

	wbuf_put_bytes(&e->w, data, len);
	ikev2_enc_end(e, off);
}

/*
 * Encrypted payload (3.14):
 *   Next Payload (first inner) |C| RESERVED | Payload Length (2)
 *   Initialization Vector | Encrypted IKE Payloads | Padding | Pad Length
 *   Integrity Checksum Data
 */
void ikev2_enc_sk(struct ike_enc *e, uint8_t inner_first, const uint8_t *body,
    size_t len)
{
	size_t off = ikev2_enc_begin(e, IKEV2_PLD_SK, 0);

	if (off == (size_t)-1)
		return;
	wbuf_set_u8(&e->w, off, inner_first);
	wbuf_put_bytes(&e->w, body, len);
	ikev2_enc_end(e, off);
}

/*
 * Encrypted Fragment payload (RFC 7383, 2.5):
 *   Next Payload (first inner, or 0) |C| RESERVED | Payload Length (2)
 *   Fragment Number (2) | Total Fragments (2)
 *   Initialization Vector | Encrypted content | Padding | Pad Length | ICV
 */
void ikev2_enc_skf(struct ike_enc *e, uint8_t inner_first, uint16_t num,
    uint16_t total, const uint8_t *body, size_t len)
{
	size_t off = ikev2_enc_begin(e, IKEV2_PLD_SKF, 0);

	if (off == (size_t)-1)
		return;
	wbuf_set_u8(&e->w, off, inner_first);
	wbuf_put_u16(&e->w, num);
	wbuf_put_u16(&e->w, total);
	wbuf_put_bytes(&e->w, body, len);
	ikev2_enc_end(e, off);
}
