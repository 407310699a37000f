/*
 * fuzz_eap: one EAP peer conversation per input, driven by eap_input.
 *
 * Input: method(1) then records of  sel(1) | len(1) | len bytes.
 *   method & 1 selects EAP-MD5, else EAP-MSCHAPv2 (identity "CORP\user",
 *   password "secret", fixed Peer-Challenge).
 *   sel % 4 == 0: the bytes are a raw EAP message from the "gateway";
 *   sel % 4 == 1: a well-formed MSCHAPv2 Challenge (Identifier sel >> 2) whose
 *                 authenticator challenge is the bytes, zero-padded to 16;
 *   sel % 4 == 2: a Success-Request carrying the correct S= for the last
 *                 Challenge the harness sent, then the bytes (the fuzzer
 *                 cannot forge it; this reaches the states behind it);
 *   sel % 4 == 3: an EAP-Success / EAP-Failure (bit 2 of sel picks which).
 * Invariants: the status is one of the three; a response exactly when
 * EAP_CONTINUE, inside the buffer, a well-formed EAP Response; nothing but
 * EAP_FAILURE after the conversation ended; eap_msk only after EAP_SUCCESS,
 * and then equal to the MSK computed here from RFC 3079 independently.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kite.h"
#include "ikev2.h"
#include "crypto.h"
#include "log.h"
#include "eap.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static const uint8_t peer_challenge[16] = "kite-fuzz-peerch";
static const char identity[] = "CORP\\user";
static const char password[] = "secret";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("fuzz_eap", 0, LOG_LVL_ERR);
	CHECK(crypto_init() == 0);
	return 0;
}

static size_t
mschap(uint8_t *out, uint8_t id, uint8_t op, const uint8_t *d, size_t len)
{
	size_t n = 9 + len;

	out[0] = EAP_CODE_REQUEST;
	out[1] = id;
	out[2] = (uint8_t)(n >> 8);
	out[3] = (uint8_t)n;
	out[4] = EAP_TYPE_MSCHAPV2;
	out[5] = op;
	out[6] = id;
	out[7] = (uint8_t)((n - 5) >> 8);
	out[8] = (uint8_t)(n - 5);
	memcpy(out + 9, d, len);
	return n;
}

/* Expected authenticator response and MSK for an authenticator challenge. */
static void
expect(const uint8_t ac[16], uint8_t ar[20], uint8_t msk[64])
{
	uint8_t ph[16], ch[8], nt[24], mk[16];

	CHECK(eap_mschapv2_nt_hash((const uint8_t *)password, strlen(password), ph) == 0);
	CHECK(eap_mschapv2_challenge_hash(peer_challenge, ac, "user", ch) == 0);
	CHECK(eap_mschapv2_challenge_response(ch, ph, nt) == 0);
	CHECK(eap_mschapv2_auth_response(ph, nt, ch, ar) == 0);
	CHECK(eap_mschapv2_master_key(ph, nt, mk) == 0);
	memset(msk, 0, 64);
	CHECK(eap_mschapv2_start_key(mk, 1, 0, msk) == 0);
	CHECK(eap_mschapv2_start_key(mk, 0, 0, msk + 16) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	uint8_t resp[EAP_MAX_RESPONSE], msg[600], ac[16] = { 0 }, ar[20], want_msk[64];
	uint8_t msk[EAP_MSK_LEN], body[300];
	size_t rlen, mlen, rec, i, klen;
	enum eap_status st;
	int over = 0, succeeded = 0, have_challenge = 0, md5;
	struct eap *e;

	if (size < 1)
		return 0;
	md5 = data[0] & 1;
	e = eap_new(md5 ? EAP_TYPE_MD5 : EAP_TYPE_MSCHAPV2, identity,
		    (const uint8_t *)password, strlen(password));
	CHECK(e != NULL);
	eap_test_set_peer_challenge(e, peer_challenge);
	data++;
	size--;
	while (size >= 2) {
		uint8_t sel = data[0];

		rec = data[1];
		data += 2;
		size -= 2;
		if (rec > size)
			rec = size;
		switch (sel % 4) {
		case 0:
			/* an exact-size copy so ASan sees any over-read */
			memcpy(msg, data, rec);
			mlen = rec;
			break;
		case 1:
			memset(ac, 0, sizeof(ac));
			memcpy(ac, data, rec < 16 ? rec : 16);
			body[0] = 16;
			memcpy(body + 1, ac, 16);
			memcpy(body + 17, "gw", 2);
			mlen = mschap(msg, (uint8_t)(sel >> 2), 1, body, 19);
			expect(ac, ar, want_msk);
			have_challenge = 1;
			break;
		case 2:
			expect(ac, ar, want_msk);
			body[0] = 'S';
			body[1] = '=';
			for (i = 0; i < 20; i++) {
				body[2 + 2 * i] = (uint8_t)hex[ar[i] >> 4];
				body[3 + 2 * i] = (uint8_t)hex[ar[i] & 15];
			}
			memcpy(body + 42, data, rec);
			mlen = mschap(msg, (uint8_t)(sel >> 2), 3, body, 42 + rec);
			break;
		default:
			msg[0] = sel & 4 ? EAP_CODE_FAILURE : EAP_CODE_SUCCESS;
			msg[1] = sel >> 3;
			msg[2] = 0;
			msg[3] = 4;
			mlen = 4;
			break;
		}
		{
			uint8_t *copy = malloc(mlen ? mlen : 1);

			CHECK(copy != NULL);
			memcpy(copy, msg, mlen);
			rlen = 12345;
			st = eap_input(e, copy, mlen, resp, sizeof(resp), &rlen);
			free(copy);
		}
		CHECK(st == EAP_CONTINUE || st == EAP_SUCCESS || st == EAP_FAILURE);
		CHECK((st == EAP_CONTINUE) == (rlen > 0));
		CHECK(rlen <= sizeof(resp));
		if (over)
			CHECK(st == EAP_FAILURE);
		if (st == EAP_CONTINUE) {
			CHECK(rlen >= 5 && resp[0] == EAP_CODE_RESPONSE);
			CHECK(((size_t)resp[2] << 8 | resp[3]) == rlen);
		}
		klen = sizeof(msk);
		if (st == EAP_SUCCESS) {
			succeeded = 1;
			if (md5) {
				CHECK(eap_msk(e, msk, &klen) == KITE_ERR_UNSUPPORTED);
			} else {
				CHECK(have_challenge);
				CHECK(eap_msk(e, msk, &klen) == 0 && klen == 64);
				CHECK(memcmp(msk, want_msk, 64) == 0);
			}
		} else {
			CHECK(eap_msk(e, msk, &klen) == KITE_ERR_INVAL);
		}
		if (st != EAP_CONTINUE)
			over = 1;
		data += rec;
		size -= rec;
	}
	(void)succeeded;
	eap_free(e);
	return 0;
}
