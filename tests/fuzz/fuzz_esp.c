/*
 * fuzz_esp: esp_decap on fuzz input, with fixed SAs for every algorithm.
 *
 * Input: records of  sel(1) | len(2, big-endian) | len bytes.
 *   sel % N_SAS picks the SA; sel & 0x80 makes the record "authentic": its
 *   bytes are seq_hi(4) | seq_lo(4) | plaintext (trailer included), sealed
 *   here with the SA's keys so esp_decap gets past the ICV to the replay
 *   window and the padding checks (dropbear FUZZER-NOTES: reach the parsers
 *   behind the MAC). Otherwise the bytes are a raw ESP packet.
 * The replay windows are reset for every input, so a run is reproducible.
 * Invariants checked: exactly one counter moves per call; the window moves
 * only after the ICV verified; an accepted inner packet lies inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kite.h"
#include "ikev2.h"
#include "crypto.h"
#include "log.h"
#include "esp.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_sa {
	uint16_t encr, key_bits, integ;
	int esn;
	uint32_t window;
	struct esp_sa rx;
	struct crypto_aead *tx;
};

static struct fuzz_sa sas[] = {
	{ .encr = IKEV2_ENCR_AES_GCM_16, .key_bits = 128, .window = 64 },
	{ .encr = IKEV2_ENCR_AES_GCM_16, .key_bits = 256, .esn = 1, .window = ESP_MAX_WINDOW },
	{ .encr = IKEV2_ENCR_CHACHA20_POLY1305, .key_bits = 256, .window = 32 },
	{ .encr = IKEV2_ENCR_CHACHA20_POLY1305, .key_bits = 256, .esn = 1, .window = 0 },
	{ .encr = IKEV2_ENCR_AES_CBC, .key_bits = 128, .integ = IKEV2_INTEG_HMAC_SHA2_256_128,
	  .window = 64 },
	{ .encr = IKEV2_ENCR_AES_CBC, .key_bits = 256, .integ = IKEV2_INTEG_HMAC_SHA2_512_256,
	  .window = 0 },
	{ .encr = IKEV2_ENCR_AES_CBC, .key_bits = 128, .integ = IKEV2_INTEG_HMAC_SHA2_384_192,
	  .window = 100 },
};
#define N_SAS KITE_ARRAY_SIZE(sas)
#define FUZZ_SPI 0x0badcafe

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t ek[CRYPTO_MAX_KEY], ik[CRYPTO_MAX_KEY];
	size_t i;

	log_init("fuzz_esp", 0, LOG_LVL_ERR);
	CHECK(crypto_init() == 0);
	for (i = 0; i < sizeof(ek); i++) {
		ek[i] = (uint8_t)(i * 13 + 1);
		ik[i] = (uint8_t)(i ^ 0x5c);
	}
	for (i = 0; i < N_SAS; i++) {
		struct fuzz_sa *f = &sas[i];
		const uint8_t *integ_key = f->integ == IKEV2_INTEG_NONE ? NULL : ik;

		CHECK(esp_sa_init(&f->rx, FUZZ_SPI, f->encr, f->key_bits, f->integ, ek, integ_key,
				  f->esn, f->window) == 0);
		f->tx = crypto_aead_new(f->encr, f->key_bits, f->integ, ek, integ_key);
		CHECK(f->tx != NULL);
	}
	return 0;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Seal seq_hi | seq_lo | plaintext into an ESP packet; returns its length, 0 if unusable. */
static size_t
seal(struct fuzz_sa *f, const uint8_t *in, size_t in_len, uint8_t **out)
{
	size_t iv_len = f->rx.iv_len, icv_len = f->rx.icv_len, pt_len, aad_len, len;
	uint8_t aad[12], *p;

	if (in_len < 8)
		return 0;
	pt_len = in_len - 8;
	if (f->rx.block_len > 1)
		pt_len -= pt_len % f->rx.block_len;
	len = ESP_HDR_LEN + iv_len + pt_len + icv_len;
	if ((p = malloc(len)) == NULL)
		return 0;
	put32(p, FUZZ_SPI);
	memcpy(p + 4, in + 4, 4);	/* seq_lo */
	if (f->rx.aead_mode) {
		memcpy(p + ESP_HDR_LEN, in, 8);	/* IV = seq_hi | seq_lo */
	} else {
		memset(p + ESP_HDR_LEN, 0xa5, iv_len);
	}
	memcpy(p + ESP_HDR_LEN + iv_len, in + 8, pt_len);
	if (f->esn) {
		memcpy(aad, p, 4);
		memcpy(aad + 4, in, 4);
		memcpy(aad + 8, in + 4, 4);
		aad_len = 12;
	} else {
		memcpy(aad, p, 8);
		aad_len = 8;
	}
	CHECK(crypto_aead_seal(f->tx, p + ESP_HDR_LEN, aad, aad_len, p + ESP_HDR_LEN + iv_len,
			       pt_len, p + ESP_HDR_LEN + iv_len + pt_len) == 0);
	*out = p;
	return len;
}

static uint64_t
counted(const struct esp_stats *st)
{
	return st->packets + st->replayed + st->auth_failed + st->malformed + st->dummy;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t bitmap[sizeof(sas[0].rx.bitmap)], *pkt, *inner, nh;
	size_t i, len, rec_len, inner_len;
	uint64_t top, before;
	int r;

	for (i = 0; i < N_SAS; i++) {
		sas[i].rx.top = 0;
		memset(sas[i].rx.bitmap, 0, sizeof(sas[i].rx.bitmap));
		memset(&sas[i].rx.st, 0, sizeof(sas[i].rx.st));
	}
	while (size >= 3) {
		struct fuzz_sa *f = &sas[data[0] % N_SAS];
		int authentic = data[0] & 0x80;

		rec_len = (size_t)data[1] << 8 | data[2];
		data += 3;
		size -= 3;
		if (rec_len > size)
			rec_len = size;
		if (authentic) {
			if ((len = seal(f, data, rec_len, &pkt)) == 0)
				goto next;
		} else {
			/* an exact-size copy so ASan sees any overread */
			if ((pkt = malloc(rec_len ? rec_len : 1)) == NULL)
				goto next;
			memcpy(pkt, data, rec_len);
			len = rec_len;
		}
		top = f->rx.top;
		memcpy(bitmap, f->rx.bitmap, sizeof(bitmap));
		before = counted(&f->rx.st);

		r = esp_decap(&f->rx, pkt, len, &inner, &inner_len, &nh);

		CHECK(counted(&f->rx.st) == before + 1);
		CHECK(f->rx.top >= top);
		switch (r) {
		case 0:
		case 1:
			CHECK(inner >= pkt + ESP_HDR_LEN && inner_len <= len &&
			      inner + inner_len <= pkt + len);
			CHECK((r == 1) == (nh == ESP_NH_NONE));
			break;
		case KITE_ERR_VERIFY:
		case KITE_ERR_INVAL:
			CHECK(f->rx.top == top);
			CHECK(memcmp(bitmap, f->rx.bitmap, sizeof(bitmap)) == 0);
			/* FALLTHROUGH */
		case KITE_ERR_PARSE:
			CHECK(inner == NULL && inner_len == 0);
			break;
		default:
			abort();
		}
		free(pkt);
 next:
		data += rec_len;
		size -= rec_len;
	}
	return 0;
}
