/* esp: see esp.h. Layout follows strongSwan's esp_packet.c (RFC 4303 2). */
#include <string.h>

#include "kite.h"
#include "ikev2.h"
#include "crypto.h"
#include "log.h"
#include "esp.h"

#define ESP_TRAILER_LEN	2	/* pad length + next header */
#define ESP_PAD_ALIGN	4	/* RFC 4303 2.4: ciphertext ends on a 4-byte boundary */
#define ESP_AAD_MAX	12	/* SPI || seq_hi || seq_lo (RFC 4106 5) */
#define ESP_WIN_MASK	((uint64_t)ESP_MAX_WINDOW - 1)

_Static_assert((ESP_MAX_WINDOW & (ESP_MAX_WINDOW - 1)) == 0 && ESP_MAX_WINDOW % 64 == 0,
	       "the replay bitmap is a ring indexed by seq mod ESP_MAX_WINDOW");
_Static_assert(CRYPTO_MAX_IV <= ESP_MAX_HEADROOM - ESP_HDR_LEN, "ESP_MAX_HEADROOM");
_Static_assert(15 + ESP_TRAILER_LEN + CRYPTO_MAX_ICV <= ESP_MAX_TAILROOM, "ESP_MAX_TAILROOM");
_Static_assert(ESP_MAX_INNER + ESP_MAX_TAILROOM < UINT32_MAX, "crypto lengths are 32-bit");

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int
esp_sa_init(struct esp_sa *sa, uint32_t spi, uint16_t encr, uint16_t key_bits, uint16_t integ,
	    const uint8_t *enc_key, const uint8_t *integ_key, int esn, uint32_t window)
{
	int aead;

	if (sa == NULL)
		return KITE_ERR_INVAL;
	memset(sa, 0, sizeof(*sa));
	if (spi == 0 || enc_key == NULL ||
	    (window != 0 && (window < ESP_MIN_WINDOW || window > ESP_MAX_WINDOW))) {
		log_debug("SPI %08x: bad arguments (window %u)", spi, window);
		return KITE_ERR_INVAL;
	}
	aead = crypto_encr_is_aead(encr);
	if (crypto_aead_enc_key_len(encr, key_bits) == 0 ||
	    (aead && integ != IKEV2_INTEG_NONE) ||
	    (!aead && crypto_aead_integ_key_len(integ) == 0)) {
		log_debug("SPI %08x: encr %u/%u integ %u not supported", spi, encr, key_bits,
			  integ);
		return KITE_ERR_UNSUPPORTED;
	}
	if (!aead && integ_key == NULL)
		return KITE_ERR_INVAL;
	if (!aead && esn) {
		/* RFC 4303 3.3.2.1: the ICV input would be SPI|seq|IV|ct|seq_hi */
		log_debug("SPI %08x: ESN with AES-CBC + HMAC is not supported", spi);
		return KITE_ERR_UNSUPPORTED;
	}
	if ((sa->aead = crypto_aead_new(encr, key_bits, integ, enc_key, integ_key)) == NULL)
		return KITE_ERR_CRYPTO;
	sa->spi = spi;
	sa->aead_mode = aead;
	sa->iv_len = crypto_aead_iv_len(sa->aead);
	sa->icv_len = crypto_aead_icv_len(sa->aead);
	sa->block_len = crypto_aead_block_len(sa->aead);
	sa->esn = esn ? 1 : 0;
	sa->window = window;
	if (sa->iv_len > CRYPTO_MAX_IV || sa->icv_len > CRYPTO_MAX_ICV ||
	    sa->icv_len == 0 || (sa->block_len != 1 && sa->block_len != 16) ||
	    (aead && sa->iv_len != 8)) {
		log_err("SPI %08x: unexpected crypto geometry", spi);
		esp_sa_clear(sa);
		return KITE_ERR_CRYPTO;
	}
	return 0;
}

void
esp_sa_clear(struct esp_sa *sa)
{
	if (sa == NULL)
		return;
	crypto_aead_free(sa->aead);
	crypto_wipe(sa, sizeof(*sa));
}

size_t
esp_headroom(const struct esp_sa *sa)
{
	return sa == NULL ? ESP_MAX_HEADROOM : ESP_HDR_LEN + sa->iv_len;
}

static size_t
esp_align(const struct esp_sa *sa)
{
	return sa->block_len > ESP_PAD_ALIGN ? sa->block_len : ESP_PAD_ALIGN;
}

size_t
esp_tailroom(const struct esp_sa *sa)
{
	if (sa == NULL)
		return ESP_MAX_TAILROOM;
	return esp_align(sa) - 1 + ESP_TRAILER_LEN + sa->icv_len;
}

uint32_t
esp_spi(const uint8_t *pkt, size_t len)
{
	if (pkt == NULL || len < ESP_HDR_LEN)
		return 0;
	return get32(pkt);
}

/*
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |               Security Parameters Index (SPI)                 |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      Sequence Number                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    IV (8 AEAD, 16 CBC)                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                 Payload Data (the inner packet)               ~
 * +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |               |     Padding (0-255 bytes: 1, 2, 3, ...)       |
 * +-+-+-+-+-+-+-+-+               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                               |  Pad Length   | Next Header   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                Integrity Check Value (ICV)                    ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *                                          RFC 4303 2, RFC 4106 3
 */

/* AAD for AEAD (RFC 4106 5, RFC 7634 2.1); for CBC it is the 8-byte header. */
static size_t
esp_aad(const struct esp_sa *sa, const uint8_t *hdr, uint64_t seq, uint8_t aad[ESP_AAD_MAX])
{
	if (!sa->esn) {
		memcpy(aad, hdr, ESP_HDR_LEN);
		return ESP_HDR_LEN;
	}
	memcpy(aad, hdr, 4);
	put32(aad + 4, (uint32_t)(seq >> 32));
	memcpy(aad + 8, hdr + 4, 4);
	return ESP_AAD_MAX;
}

static int
esp_encap_with(struct esp_sa *sa, const uint8_t *fixed_iv, uint8_t *inner, size_t inner_len,
	       uint8_t next_header, uint8_t **out, size_t *out_len)
{
	uint8_t aad[ESP_AAD_MAX], *hdr, *iv, *tr;
	size_t align, pad, ct_len, aad_len, i;
	uint64_t seq;
	int r;

	if (out != NULL)
		*out = NULL;
	if (out_len != NULL)
		*out_len = 0;
	if (sa == NULL || sa->aead == NULL || inner == NULL || out == NULL || out_len == NULL ||
	    inner_len > ESP_MAX_INNER)
		return KITE_ERR_INVAL;
	/* RFC 4303 3.3.3: the counter never cycles; rekey before it would. */
	if (sa->esn ? sa->seq == UINT64_MAX : sa->seq >= UINT32_MAX) {
		log_debug("SPI %08x: sequence numbers exhausted, rekey", sa->spi);
		return KITE_ERR_INVAL;
	}
	/* Consumed even if sealing fails below: an IV is never offered twice. */
	seq = ++sa->seq;

	hdr = inner - esp_headroom(sa);
	iv = hdr + ESP_HDR_LEN;
	put32(hdr, sa->spi);
	put32(hdr + 4, (uint32_t)seq);
	if (fixed_iv != NULL) {
		memcpy(iv, fixed_iv, sa->iv_len);
	} else if (sa->aead_mode) {
		/* RFC 4106 3.1: the sequence number is a unique IV under this key */
		put32(iv, (uint32_t)(seq >> 32));
		put32(iv + 4, (uint32_t)seq);
	} else if ((r = crypto_random(iv, sa->iv_len)) != 0) {
		return r;	/* RFC 3602 2.1: CBC IVs must be unpredictable */
	}

	align = esp_align(sa);
	pad = (align - (inner_len + ESP_TRAILER_LEN) % align) % align;
	tr = inner + inner_len;
	for (i = 0; i < pad; i++)
		tr[i] = (uint8_t)(i + 1);	/* RFC 4303 2.4 */
	tr[pad] = (uint8_t)pad;
	tr[pad + 1] = next_header;
	ct_len = inner_len + pad + ESP_TRAILER_LEN;

	aad_len = esp_aad(sa, hdr, seq, aad);
	r = crypto_aead_seal(sa->aead, iv, aad, aad_len, inner, ct_len, inner + ct_len);
	if (r != 0) {
		log_debug("SPI %08x: seal failed: %s", sa->spi, kite_strerror(r));
		return r;
	}
	*out = hdr;
	*out_len = ESP_HDR_LEN + sa->iv_len + ct_len + sa->icv_len;
	return 0;
}

int
esp_encap(struct esp_sa *sa, uint8_t *inner, size_t inner_len, uint8_t next_header,
	  uint8_t **out, size_t *out_len)
{
	return esp_encap_with(sa, NULL, inner, inner_len, next_header, out, out_len);
}

#ifdef KITE_TESTING
int
esp_encap_iv(struct esp_sa *sa, const uint8_t *iv, uint8_t *inner, size_t inner_len,
	     uint8_t next_header, uint8_t **out, size_t *out_len)
{
	if (iv == NULL) {
		if (out != NULL)
			*out = NULL;
		if (out_len != NULL)
			*out_len = 0;
		return KITE_ERR_INVAL;
	}
	return esp_encap_with(sa, iv, inner, inner_len, next_header, out, out_len);
}
#endif

/* ---- inbound anti-replay (RFC 4303 3.4.3) ---- */

/*
 * Full sequence number from the 32 bits on the wire. Without ESN that is the
 * number itself. With ESN, RFC 4303 Appendix A2.2: seq_hi is the top's, or
 * one more when the low bits fall below the window, or one less when the
 * window straddles 2^32 and the low bits sit in its older part. Returns 0
 * when there is no valid full number (0 itself, or past 2^64 - 1).
 */
static int
esp_seq_infer(const struct esp_sa *sa, uint32_t seq_lo, uint64_t *seq)
{
	uint32_t tl = (uint32_t)sa->top, th = (uint32_t)(sa->top >> 32);
	uint32_t w = sa->window != 0 ? sa->window : UINT32_C(1) << 31;
	uint32_t hi;

	if (!sa->esn) {
		*seq = seq_lo;
		return seq_lo != 0;
	}
	if (tl >= w - 1) {
		/* Case A: the window lies within one 2^32 subspace */
		if (seq_lo >= tl - w + 1) {
			hi = th;
		} else {
			if (th == UINT32_MAX)
				return 0;
			hi = th + 1;
		}
	} else {
		/* Case B: the window spans two subspaces; tl - w + 1 wraps */
		if (seq_lo >= (uint32_t)(tl - w + 1) && th > 0)
			hi = th - 1;
		else
			hi = th;
	}
	*seq = (uint64_t)hi << 32 | seq_lo;
	return *seq != 0;
}

static int
esp_replay_ok(const struct esp_sa *sa, uint64_t seq)
{
	uint64_t bit = seq & ESP_WIN_MASK;

	if (sa->window == 0 || seq > sa->top)
		return 1;
	if (sa->top - seq >= sa->window)
		return 0;
	return !(sa->bitmap[bit / 64] >> (bit % 64) & 1);
}

/* Clear the ring bits of count sequence numbers starting at from. */
static void
esp_bits_clear(uint64_t *bm, uint64_t from, uint64_t count)
{
	uint64_t idx, n, mask;

	if (count >= ESP_MAX_WINDOW) {
		memset(bm, 0, ESP_MAX_WINDOW / 8);
		return;
	}
	while (count > 0) {
		idx = from & ESP_WIN_MASK;
		n = 64 - idx % 64;
		if (n > count)
			n = count;
		mask = n == 64 ? ~UINT64_C(0) : ((UINT64_C(1) << n) - 1) << (idx % 64);
		bm[idx / 64] &= ~mask;
		from += n;
		count -= n;
	}
}

/* Only called once the ICV has verified (RFC 4303 3.4.3, strongSwan set_authenticated_seqno). */
static void
esp_replay_update(struct esp_sa *sa, uint64_t seq)
{
	uint64_t bit = seq & ESP_WIN_MASK;

	if (seq > sa->top) {
		esp_bits_clear(sa->bitmap, sa->top + 1, seq - sa->top);
		sa->top = seq;
	}
	sa->bitmap[bit / 64] |= UINT64_C(1) << (bit % 64);
}

int
esp_decap(struct esp_sa *sa, uint8_t *pkt, size_t len, uint8_t **inner,
	  size_t *inner_len, uint8_t *next_header)
{
	uint8_t aad[ESP_AAD_MAX], *iv, *ct, pad_len, nh;
	size_t overhead, ct_len, aad_len, plain_len, i;
	uint32_t spi, seq_lo;
	uint64_t seq;
	int r;

	if (inner != NULL)
		*inner = NULL;
	if (inner_len != NULL)
		*inner_len = 0;
	if (next_header != NULL)
		*next_header = 0;
	if (sa == NULL || sa->aead == NULL || pkt == NULL || inner == NULL ||
	    inner_len == NULL || next_header == NULL)
		return KITE_ERR_INVAL;

	/* Length and alignment first (RFC 4303 3.4.2; strongSwan esp_packet.c). */
	overhead = ESP_HDR_LEN + sa->iv_len + sa->icv_len;
	if (len < overhead || len - overhead < ESP_TRAILER_LEN ||
	    len - overhead > ESP_MAX_INNER + ESP_MAX_TAILROOM ||
	    (len - overhead) % sa->block_len != 0) {
		sa->st.malformed++;
		log_debug("SPI %08x: %zu-byte packet has a bad length", sa->spi, len);
		return KITE_ERR_PARSE;
	}
	ct_len = len - overhead;
	spi = get32(pkt);
	seq_lo = get32(pkt + 4);
	iv = pkt + ESP_HDR_LEN;
	ct = iv + sa->iv_len;
	if (spi != sa->spi) {
		sa->st.malformed++;
		log_debug("SPI %08x: packet for SPI %08x", sa->spi, spi);
		return KITE_ERR_PARSE;
	}

	/* Replay check before spending work on the ICV (RFC 4303 3.4.3). */
	if (!esp_seq_infer(sa, seq_lo, &seq) || !esp_replay_ok(sa, seq)) {
		sa->st.replayed++;
		log_debug("SPI %08x: replayed or stale sequence number %u", sa->spi, seq_lo);
		return KITE_ERR_INVAL;
	}

	aad_len = esp_aad(sa, pkt, seq, aad);
	if ((r = crypto_aead_open(sa->aead, iv, aad, aad_len, ct, ct_len, ct + ct_len)) != 0) {
		/* a backend failure is no better than a bad ICV: the packet is unverified */
		sa->st.auth_failed++;
		log_debug("SPI %08x: seq %u: %s", sa->spi, seq_lo, kite_strerror(r));
		return KITE_ERR_VERIFY;
	}
	esp_replay_update(sa, seq);

	pad_len = ct[ct_len - 2];
	nh = ct[ct_len - 1];
	if ((size_t)pad_len > ct_len - ESP_TRAILER_LEN) {
		sa->st.malformed++;
		log_debug("SPI %08x: pad length %u exceeds the payload", sa->spi, pad_len);
		return KITE_ERR_PARSE;
	}
	plain_len = ct_len - ESP_TRAILER_LEN - pad_len;
	for (i = 0; i < pad_len; i++) {
		if (ct[plain_len + i] != (uint8_t)(i + 1)) {
			/* RFC 4303 2.4: default padding is 1, 2, 3, ... */
			sa->st.malformed++;
			log_debug("SPI %08x: bad padding", sa->spi);
			return KITE_ERR_PARSE;
		}
	}
	*inner = ct;
	*inner_len = plain_len;
	*next_header = nh;
	if (nh == ESP_NH_NONE) {
		/* RFC 4303 2.6: dummy packet, authenticated, discarded */
		sa->st.dummy++;
		return 1;
	}
	sa->st.packets++;
	sa->st.bytes += plain_len;
	return 0;
}
