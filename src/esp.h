/*
 * esp: ESP packet encapsulation/decapsulation (RFC 4303) and the inbound
 * anti-replay window, as pure functions over caller buffers: no I/O, no
 * allocation on the per-packet path, no OS networking headers. The UDP
 * encapsulation (RFC 3948) is the caller's: these functions see the ESP packet
 * starting at the SPI.
 *
 * Algorithms through crypto.h: AES-GCM-16 (RFC 4106), ChaCha20-Poly1305
 * (RFC 7634), AES-CBC + HMAC-SHA2 (RFC 3602, RFC 4868). For AEAD the 8-byte IV
 * is the 64-bit sequence number (unique per key, RFC 4106 3.1). With ESN the
 * high 32 bits are authenticated but not sent (RFC 4303 2.2.1, Appendix A;
 * AEAD AAD = SPI || seq_hi || seq_lo, RFC 4106 5).
 */
#ifndef KITE_ESP_H
#define KITE_ESP_H

#include <stddef.h>
#include <stdint.h>

#define ESP_MAX_WINDOW		4096
#define ESP_DEFAULT_WINDOW	64
#define ESP_HDR_LEN		8	/* SPI + sequence number */
#define ESP_MAX_HEADROOM	(ESP_HDR_LEN + 16)	/* + IV (16 for CBC) */
#define ESP_MAX_TAILROOM	(16 + 2 + 32)	/* padding + pad length/next header + ICV */
#define ESP_NH_IPV4		4
#define ESP_NH_IPV6		41
#define ESP_NH_NONE		59	/* dummy packet (RFC 4303 2.6) */

struct crypto_aead;

struct esp_stats {
	uint64_t packets, bytes;	/* good packets and inner bytes */
	uint64_t replayed;		/* duplicate or left of the window */
	uint64_t auth_failed;		/* ICV did not verify */
	uint64_t malformed;		/* short, misaligned, bad padding */
	uint64_t dummy;			/* next header 59, discarded */
};

struct esp_sa {
	uint32_t spi;			/* host order */
	struct crypto_aead *aead;
	int aead_mode;			/* 1: AEAD (IV = seq), 0: CBC + HMAC (random IV) */
	size_t iv_len, icv_len, block_len;
	int esn;
	/* outbound */
	uint64_t seq;			/* last sequence number sent; the first packet gets 1 */
	/* inbound anti-replay (RFC 4303 3.4.3), window bits, 0 = off */
	uint32_t window;
	uint64_t top;			/* highest authenticated sequence number */
	uint64_t bitmap[ESP_MAX_WINDOW / 64];
	struct esp_stats st;
};

/*
 * Set up one direction's SA. enc_key/integ_key as for crypto_aead_new.
 * window: 0 disables replay protection, else 32..ESP_MAX_WINDOW.
 * Returns 0 or a negative enum kite_err.
 */
int esp_sa_init(struct esp_sa *sa, uint32_t spi, uint16_t encr, uint16_t key_bits, uint16_t integ,
		const uint8_t *enc_key, const uint8_t *integ_key, int esn, uint32_t window);
/* Frees the crypto context and wipes the SA. NULL-safe. */
void esp_sa_clear(struct esp_sa *sa);

/* Bytes needed before the inner packet and (at most) after it. */
size_t esp_headroom(const struct esp_sa *sa);
size_t esp_tailroom(const struct esp_sa *sa);

/*
 * Encapsulate in place: inner[0..inner_len) is the IP packet; the caller
 * guarantees esp_headroom() bytes before inner and esp_tailroom() after.
 * On success *out points at the ESP header (inner - esp_headroom()) and
 * *out_len is the ESP packet's length. Fails (KITE_ERR_INVAL) when the
 * sequence number would wrap (RFC 4303 3.3.3: rekey before that).
 */
int esp_encap(struct esp_sa *sa, uint8_t *inner, size_t inner_len, uint8_t next_header,
	      uint8_t **out, size_t *out_len);

/*
 * Decapsulate in place. Order (RFC 4303 3.4): length and alignment checks,
 * replay check, ICV verification (constant time), then the window advances,
 * then padding (must be 1, 2, 3, ...) and next header are checked.
 * On success *inner, *inner_len and *next_header describe the inner packet inside
 * pkt. Returns 0; KITE_ERR_PARSE (malformed), KITE_ERR_VERIFY (bad ICV),
 * KITE_ERR_INVAL (replayed), or 1 for a dummy packet (next header 59) that
 * was authenticated and must be discarded. Counters are updated.
 */
int esp_decap(struct esp_sa *sa, uint8_t *pkt, size_t len, uint8_t **inner,
	      size_t *inner_len, uint8_t *next_header);

/* Peek the SPI of an ESP packet (0 when too short). */
uint32_t esp_spi(const uint8_t *pkt, size_t len);

/*
 * Additions (esp.c):
 * - esp_sa_init refuses SPI 0 and a window outside {0} U [ESP_MIN_WINDOW,
 *   ESP_MAX_WINDOW] (KITE_ERR_INVAL), an encr/integ pair crypto.h does not
 *   implement or an AEAD with an integrity transform (KITE_ERR_UNSUPPORTED),
 *   and ESN with AES-CBC + HMAC (KITE_ERR_UNSUPPORTED: RFC 4303 3.3.2.1 puts
 *   seq_hi after the ciphertext in the ICV input, which crypto_aead_seal
 *   cannot express).
 * - The window also drives ESN seq_hi inference (RFC 4303 Appendix A2.2);
 *   with window 0 and ESN, inference uses a half-space window (2^31).
 * - Sequence number 0 is never accepted (RFC 4303 2.2), window or not.
 * - esp_decap also drops (KITE_ERR_PARSE, st.malformed) a packet whose SPI is
 *   not sa->spi. Next header values other than 59 are returned, not judged:
 *   the caller checks that the inner packet is what the SA carries.
 * - esp_encap: inner_len at most ESP_MAX_INNER, else KITE_ERR_INVAL. With ESN
 *   the last sequence number is 2^64-1, without 2^32-1 (RFC 4303 3.3.3).
 * - Neither function allocates, with one caveat for AES-CBC: keep inner
 *   ESP_INNER_ALIGN-aligned, because wolfSSL 5.5.4's AES-NI CBC encryption
 *   copies an unaligned input through a heap buffer (wolfcrypt/src/aes.c,
 *   wc_AesCbcEncrypt, "check alignment"). AEAD has no such need.
 */
#define ESP_INNER_ALIGN		16
#define ESP_MIN_WINDOW		32	/* RFC 4303 3.4.3 */
#define ESP_MAX_INNER		(40 + 65535)	/* largest IPv6 packet without jumbograms */

#ifdef KITE_TESTING
/*
 * Test hook: esp_encap with an explicit IV of sa->iv_len bytes instead of the
 * sequence number (AEAD) or a random block (CBC), so published example packets
 * (RFC 7634 Appendix A, RFC 3602 4, draft-mcgrew-gcm-test-01 4) can be
 * reproduced byte for byte. Never use it outside tests: an AEAD IV must not
 * repeat under one key.
 */
int esp_encap_iv(struct esp_sa *sa, const uint8_t *iv, uint8_t *inner, size_t inner_len,
		 uint8_t next_header, uint8_t **out, size_t *out_len);
#endif

#endif
