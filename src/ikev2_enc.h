/*
 * ikev2_enc: ENCODE. Payload builders over a wbuf. A message is the IKE header
 * followed by a chain of payloads; each builder writes the generic payload header,
 * patches the previous payload's Next Payload (or the IKE header's) by offset,
 * and patches its own length when done. Errors are sticky in e->w (wbuf_ok()).
 *
 * The same encoder builds an SK payload's inner chain: ikev2_enc_init_inner()
 * starts a chain with no IKE header; e->first then holds the first payload type,
 * which goes into the SK generic header's Next Payload.
 */
#ifndef KITE_IKEV2_ENC_H
#define KITE_IKEV2_ENC_H

#include <stddef.h>
#include <stdint.h>

#include "kbuf.h"
#include "ikev2_pld.h"

struct ike_enc {
	struct wbuf w;
	size_t next_off;	/* offset of the Next Payload byte to patch; (size_t)-1 for inner first */
	uint8_t first;		/* first payload type of the chain */
	size_t pld_off;		/* offset of the payload being written */
};

/*
 * Start a message: writes hdr (length patched by ikev2_enc_finish). hdr->version
 * is written as given; hdr->next_payload and hdr->length are ignored (patched).
 */
void ikev2_enc_init(struct ike_enc *e, uint8_t *buf, size_t cap, const struct ike_hdr *hdr);
/* Start an inner chain (plaintext of an SK payload). */
void ikev2_enc_init_inner(struct ike_enc *e, uint8_t *buf, size_t cap);

/*
 * Generic payload framing; begin returns the payload header's offset, or
 * (size_t)-1 with the error flag set. After SK/SKF nothing may follow (a later
 * begin sets the error); their own Next Payload (the first inner type) is left
 * 0 for the caller to set with wbuf_set_u8(&e->w, off, first).
 */
size_t ikev2_enc_begin(struct ike_enc *e, uint8_t type, uint8_t flags);
void ikev2_enc_end(struct ike_enc *e, size_t off);

/* Patch the IKE header's length (messages only); returns 0 and *len, or KITE_ERR_INVAL on overflow. */
int ikev2_enc_finish(struct ike_enc *e, size_t *len);

/*
 * Payload builders (RFC 7296 section 3.x). ikev2_enc_sa: a proposal with num 0
 * is numbered by its position (1, 2, ...); key_bits != 0 adds KEY_LENGTH.
 */
void ikev2_enc_sa(struct ike_enc *e, const struct ike_proposal *p, size_t n);
void ikev2_enc_ke(struct ike_enc *e, uint16_t group, const uint8_t *data, size_t len);
void ikev2_enc_nonce(struct ike_enc *e, const uint8_t *data, size_t len);
void ikev2_enc_notify(struct ike_enc *e, uint8_t proto, const uint8_t *spi, size_t spi_len,
		      uint16_t type, const uint8_t *data, size_t len);
void ikev2_enc_id(struct ike_enc *e, uint8_t pld_type, uint8_t id_type,
		  const uint8_t *data, size_t len);
void ikev2_enc_auth(struct ike_enc *e, uint8_t method, const uint8_t *data, size_t len);
void ikev2_enc_ts(struct ike_enc *e, uint8_t pld_type, const struct ike_ts *ts, size_t n);
/* CP: attributes with value.len == 0 are requests for that attribute. */
void ikev2_enc_cp(struct ike_enc *e, uint8_t cfg_type, const struct ike_cfg_attr *a, size_t n);
void ikev2_enc_delete(struct ike_enc *e, uint8_t proto, uint8_t spi_size,
		      const uint8_t *spis, uint16_t n_spi);
void ikev2_enc_vendor(struct ike_enc *e, const uint8_t *data, size_t len);
void ikev2_enc_cert(struct ike_enc *e, uint8_t encoding, const uint8_t *data, size_t len);
void ikev2_enc_certreq(struct ike_enc *e, uint8_t encoding, const uint8_t *data, size_t len);
void ikev2_enc_eap(struct ike_enc *e, const uint8_t *data, size_t len);
/*
 * SK (RFC 7296, 3.14) / SKF (RFC 7383, 2.5) around an already encrypted body
 * (IV || ciphertext || ICV); inner_first goes into the Next Payload field
 * (0 in fragments other than the first). Must be the last payload.
 */
void ikev2_enc_sk(struct ike_enc *e, uint8_t inner_first, const uint8_t *body, size_t len);
void ikev2_enc_skf(struct ike_enc *e, uint8_t inner_first, uint16_t num, uint16_t total,
		   const uint8_t *body, size_t len);

#endif
