/*
 * eap: the EAP peer state machine and its MSCHAPv2/MD5 crypto.
 * Vectors: RFC 2759 9.2 (MSCHAPv2), RFC 3079 3.5.3 (MPPE keys -> MSK), RFC 1320 A.5
 * (MD4), RFC 1321 A.5 (MD5), FIPS 81 / "Now is the time" (DES). Whole conversations
 * are driven by a scripted authenticator built from the same RFC values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kite.h"
#include "ikev2.h"
#include "crypto.h"
#include "log.h"
#include "eap.h"

/* RFC 2759 9.2 */
static const char rfc_user[] = "User";
static const char rfc_password[] = "clientPass";
static const uint8_t rfc_auth_challenge[16] = {
	0x5B, 0x5D, 0x7C, 0x7D, 0x7B, 0x3F, 0x2F, 0x3E,
	0x3C, 0x2C, 0x60, 0x21, 0x32, 0x26, 0x26, 0x28,
};
static const uint8_t rfc_peer_challenge[16] = {
	0x21, 0x40, 0x23, 0x24, 0x25, 0x5E, 0x26, 0x2A,
	0x28, 0x29, 0x5F, 0x2B, 0x3A, 0x33, 0x7C, 0x7E,
};
static const uint8_t rfc_challenge[8] = {
	0xD0, 0x2E, 0x43, 0x86, 0xBC, 0xE9, 0x12, 0x26,
};
static const uint8_t rfc_password_hash[16] = {
	0x44, 0xEB, 0xBA, 0x8D, 0x53, 0x12, 0xB8, 0xD6,
	0x11, 0x47, 0x44, 0x11, 0xF5, 0x69, 0x89, 0xAE,
};
static const uint8_t rfc_password_hash_hash[16] = {
	0x41, 0xC0, 0x0C, 0x58, 0x4B, 0xD2, 0xD9, 0x1C,
	0x40, 0x17, 0xA2, 0xA1, 0x2F, 0xA5, 0x9F, 0x3F,
};
static const uint8_t rfc_nt_response[24] = {
	0x82, 0x30, 0x9E, 0xCD, 0x8D, 0x70, 0x8B, 0x5E,
	0xA0, 0x8F, 0xAA, 0x39, 0x81, 0xCD, 0x83, 0x54,
	0x42, 0x33, 0x11, 0x4A, 0x3D, 0x85, 0xD6, 0xDF,
};
static const uint8_t rfc_auth_response[20] = {
	0x40, 0x7A, 0x55, 0x89, 0x11, 0x5F, 0xD0, 0xD6, 0x20, 0x9F,
	0x51, 0x0F, 0xE9, 0xC0, 0x45, 0x66, 0x93, 0x2C, 0xDA, 0x56,
};
static const char rfc_auth_string[] = "S=407A5589115FD0D6209F510FE9C04566932CDA56";

/* RFC 3079 3.5.3 */
static const uint8_t rfc_master_key[16] = {
	0xFD, 0xEC, 0xE3, 0x71, 0x7A, 0x8C, 0x83, 0x8C,
	0xB3, 0x88, 0xE5, 0x27, 0xAE, 0x3C, 0xDD, 0x31,
};
/* client send key (magic 2) and client receive key (magic 3); the RFC's
 * "SendStartKey128" 8B7C... is the server's send key = the client's receive key */
static const uint8_t rfc_client_send_key[16] = {
	0xD5, 0xF0, 0xE9, 0x52, 0x1E, 0x3E, 0xA9, 0x58,
	0x96, 0x45, 0xE8, 0x60, 0x51, 0xC8, 0x22, 0x26,
};
static const uint8_t rfc_client_recv_key[16] = {
	0x8B, 0x7C, 0xDC, 0x14, 0x9B, 0x99, 0x3A, 0x1B,
	0xA1, 0x18, 0xCB, 0x15, 0x3F, 0x56, 0xDC, 0xCB,
};

static int setup(void **state)
{
	log_init("test_eap", 0, LOG_LVL_ERR);
	return crypto_init() == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	crypto_fini();
	return 0;
}

/* ---- scripted authenticator ---- */

/* EAP packet: code, id, type (0: none), data. Returns its length. */
static size_t pkt(uint8_t *out, uint8_t code, uint8_t id, int type,
		  const void *data, size_t len)
{
	size_t n = 4;

	out[0] = code;
	out[1] = id;
	if (type >= 0)
		out[n++] = (uint8_t)type;
	if (len)
		memcpy(out + n, data, len);
	n += len;
	out[2] = (uint8_t)(n >> 8);
	out[3] = (uint8_t)n;
	return n;
}

static size_t mschap_req(uint8_t *out, uint8_t id, uint8_t op, uint8_t ms_id,
			 const void *data, size_t len)
{
	uint8_t body[512];
	size_t n = 4 + len;

	body[0] = op;
	body[1] = ms_id;
	body[2] = (uint8_t)((n + 1) >> 8);	/* MS-Length = EAP length - 5 */
	body[3] = (uint8_t)(n + 1);
	memcpy(body + 4, data, len);
	return pkt(out, EAP_CODE_REQUEST, id, EAP_TYPE_MSCHAPV2, body, n);
}

static size_t challenge_req(uint8_t *out, uint8_t id, const uint8_t ac[16])
{
	uint8_t d[1 + 16 + 6];

	d[0] = 16;
	memcpy(d + 1, ac, 16);
	memcpy(d + 17, "kitegw", 6);
	return mschap_req(out, id, 1, id, d, sizeof(d));
}

static size_t success_req(uint8_t *out, uint8_t id, const char *msg)
{
	return mschap_req(out, id, 3, id, msg, strlen(msg));
}

static struct eap *rfc_peer(void)
{
	struct eap *e = eap_new(EAP_TYPE_MSCHAPV2, rfc_user, (const uint8_t *)rfc_password,
				strlen(rfc_password));

	assert_non_null(e);
	eap_test_set_peer_challenge(e, rfc_peer_challenge);
	return e;
}

/* Feed one message; returns the status and leaves the response in resp. */
static enum eap_status feed(struct eap *e, const uint8_t *m, size_t len,
			    uint8_t *resp, size_t *rlen)
{
	return eap_input(e, m, len, resp, EAP_MAX_RESPONSE, rlen);
}

/* Identity + Challenge -> the RFC 2759 Response; checks every field of it. */
static void run_to_response(struct eap *e, uint8_t id)
{
	uint8_t m[600], r[EAP_MAX_RESPONSE];
	size_t n, rl;

	n = challenge_req(m, id, rfc_auth_challenge);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_CONTINUE);
	assert_int_equal(rl, 5 + 4 + 1 + 49 + 4);
	assert_int_equal(r[0], EAP_CODE_RESPONSE);
	assert_int_equal(r[1], id);
	assert_int_equal(r[2] << 8 | r[3], rl);
	assert_int_equal(r[4], EAP_TYPE_MSCHAPV2);
	assert_int_equal(r[5], 2);		/* OpCode Response */
	assert_int_equal(r[6], id);		/* MS-CHAPv2-ID echoes the Challenge */
	assert_int_equal(r[7] << 8 | r[8], rl - 5);
	assert_int_equal(r[9], 49);
	assert_memory_equal(r + 10, rfc_peer_challenge, 16);
	assert_memory_equal(r + 26, "\0\0\0\0\0\0\0\0", 8);
	assert_memory_equal(r + 34, rfc_nt_response, 24);
	assert_int_equal(r[58], 0);		/* Flags */
	assert_memory_equal(r + 59, "User", 4);
}

/* ---- legacy primitives (crypto.c) ---- */

static void test_md4_rfc1320_a5(void **state)
{
	static const uint8_t empty[16] = {
		0x31, 0xd6, 0xcf, 0xe0, 0xd1, 0x6a, 0xe9, 0x31,
		0xb7, 0x3c, 0x59, 0xd7, 0xe0, 0xc0, 0x89, 0xc0,
	};
	static const uint8_t abc[16] = {
		0xa4, 0x48, 0x01, 0x7a, 0xaf, 0x21, 0xd8, 0x52,
		0x5f, 0xc1, 0x0a, 0xe8, 0x7a, 0xa6, 0x72, 0x9d,
	};
	uint8_t out[16];

	assert_int_equal(crypto_md4(NULL, 0, out), 0);
	assert_memory_equal(out, empty, 16);
	assert_int_equal(crypto_md4((const uint8_t *)"abc", 3, out), 0);
	assert_memory_equal(out, abc, 16);
	assert_int_equal(crypto_md4(NULL, 1, out), KITE_ERR_INVAL);
}

static void test_md5_rfc1321_a5_in_parts(void **state)
{
	static const uint8_t empty[16] = {
		0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04,
		0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e,
	};
	static const uint8_t abc[16] = {
		0x90, 0x01, 0x50, 0x98, 0x3c, 0xd2, 0x4f, 0xb0,
		0xd6, 0x96, 0x3f, 0x7d, 0x28, 0xe1, 0x7f, 0x72,
	};
	uint8_t out[16];

	assert_int_equal(crypto_md5(NULL, 0, NULL, 0, NULL, 0, out), 0);
	assert_memory_equal(out, empty, 16);
	assert_int_equal(crypto_md5((const uint8_t *)"a", 1, (const uint8_t *)"b", 1,
				    (const uint8_t *)"c", 1, out), 0);
	assert_memory_equal(out, abc, 16);
	assert_int_equal(crypto_md5((const uint8_t *)"abc", 3, NULL, 0, NULL, 0, out), 0);
	assert_memory_equal(out, abc, 16);
}

static void test_des_fips81_and_7_byte_keys(void **state)
{
	/* key 0123456789ABCDEF, "Now is t" -> 3FA40E8A984D4815 */
	static const uint8_t key[8] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
	static const uint8_t want[8] = { 0x3f, 0xa4, 0x0e, 0x8a, 0x98, 0x4d, 0x48, 0x15 };
	/* the 56 key bits of 0123456789ABCDEF without its (low) parity bits */
	static const uint8_t key7[7] = { 0x00, 0x45, 0x13, 0x38, 0x95, 0x73, 0x77 };
	uint8_t out[8], out7[8];

	assert_int_equal(crypto_des_ecb_encrypt(key, 8, (const uint8_t *)"Now is t", out), 0);
	assert_memory_equal(out, want, 8);
	/* the high 7 bits of each key byte, packed: the same DES key */
	assert_int_equal(crypto_des_ecb_encrypt(key7, 7, (const uint8_t *)"Now is t", out7), 0);
	assert_memory_equal(out7, want, 8);
	assert_int_equal(crypto_des_ecb_encrypt(key, 6, out, out), KITE_ERR_INVAL);
	assert_int_equal(crypto_des_ecb_encrypt(key, 9, out, out), KITE_ERR_INVAL);
	assert_int_equal(crypto_des_ecb_encrypt(NULL, 8, out, out), KITE_ERR_INVAL);
}

/* ---- MSCHAPv2 (RFC 2759 9.2) and MPPE keys (RFC 3079 3.5.3) ---- */

static void test_mschapv2_password_hash_rfc2759_9_2(void **state)
{
	uint8_t h[16], hh[16];

	assert_int_equal(eap_mschapv2_nt_hash((const uint8_t *)rfc_password,
					      strlen(rfc_password), h), 0);
	assert_memory_equal(h, rfc_password_hash, 16);
	assert_int_equal(crypto_md4(h, 16, hh), 0);
	assert_memory_equal(hh, rfc_password_hash_hash, 16);
}

static void test_mschapv2_challenge_hash_rfc2759_9_2(void **state)
{
	uint8_t ch[8];

	assert_int_equal(eap_mschapv2_challenge_hash(rfc_peer_challenge, rfc_auth_challenge,
						     rfc_user, ch), 0);
	assert_memory_equal(ch, rfc_challenge, 8);
}

static void test_mschapv2_nt_response_rfc2759_9_2(void **state)
{
	uint8_t nt[24];

	assert_int_equal(eap_mschapv2_challenge_response(rfc_challenge, rfc_password_hash, nt), 0);
	assert_memory_equal(nt, rfc_nt_response, 24);
}

static void test_mschapv2_authenticator_response_rfc2759_9_2(void **state)
{
	uint8_t ar[20];

	assert_int_equal(eap_mschapv2_auth_response(rfc_password_hash, rfc_nt_response,
						    rfc_challenge, ar), 0);
	assert_memory_equal(ar, rfc_auth_response, 20);
}

static void test_mppe_master_and_start_keys_rfc3079_3_5_3(void **state)
{
	uint8_t mk[16], k[16];

	assert_int_equal(eap_mschapv2_master_key(rfc_password_hash, rfc_nt_response, mk), 0);
	assert_memory_equal(mk, rfc_master_key, 16);
	/* client side: send key from magic 2, receive key from magic 3 */
	assert_int_equal(eap_mschapv2_start_key(mk, 1, 0, k), 0);
	assert_memory_equal(k, rfc_client_send_key, 16);
	assert_int_equal(eap_mschapv2_start_key(mk, 0, 0, k), 0);
	assert_memory_equal(k, rfc_client_recv_key, 16);
	/* the server's keys mirror them (RFC 3079 3.4 GetAsymmetricStartKey) */
	assert_int_equal(eap_mschapv2_start_key(mk, 1, 1, k), 0);
	assert_memory_equal(k, rfc_client_recv_key, 16);
	assert_int_equal(eap_mschapv2_start_key(mk, 0, 1, k), 0);
	assert_memory_equal(k, rfc_client_send_key, 16);
}

static void test_mschapv2_username_domain_prefix_not_hashed(void **state)
{
	struct eap *e = eap_new(EAP_TYPE_MSCHAPV2, "CORP\\User", (const uint8_t *)rfc_password,
				strlen(rfc_password));
	uint8_t m[600], r[EAP_MAX_RESPONSE];
	size_t n, rl;

	/* RFC 2759 8.2: ChallengeHash uses the name without the domain, the
	 * Response's Name field carries it whole */
	assert_non_null(e);
	eap_test_set_peer_challenge(e, rfc_peer_challenge);
	n = challenge_req(m, 3, rfc_auth_challenge);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_CONTINUE);
	assert_memory_equal(r + 34, rfc_nt_response, 24);
	assert_int_equal(rl, 59 + 9);
	assert_memory_equal(r + 59, "CORP\\User", 9);
	eap_free(e);
}

static void test_mschapv2_password_is_hashed_as_utf16le(void **state)
{
	/* "pässwörd😀" (U+1F600 becomes the surrogate pair D83D DE00);
	 * MD4 of its UTF-16LE form computed with OpenSSL's legacy provider */
	static const uint8_t pw[] = "p\xc3\xa4sssw\xc3\xb6rd\xf0\x9f\x98\x80";
	static const uint8_t want[16] = {
		0xa3, 0x95, 0xe2, 0xe2, 0x15, 0xe8, 0x96, 0xa8,
		0xec, 0x4b, 0x16, 0x57, 0xb2, 0x29, 0xf0, 0x81,
	};
	static const uint8_t pw_ok[] = "p\xc3\xa4ssw\xc3\xb6rd\xf0\x9f\x98\x80";
	uint8_t h[16];

	assert_int_equal(eap_mschapv2_nt_hash(pw_ok, sizeof(pw_ok) - 1, h), 0);
	assert_memory_equal(h, want, 16);
	assert_int_equal(eap_mschapv2_nt_hash(pw, sizeof(pw) - 1, h), 0);
	assert_memory_not_equal(h, want, 16);
}

static void test_mschapv2_invalid_utf8_refused(void **state)
{
	static const char *const bad[] = {
		"\xc3",			/* truncated */
		"\xc0\xaf",		/* overlong '/' */
		"\xe0\x80\xaf",		/* overlong */
		"\xed\xa0\x80",		/* surrogate D800 */
		"\xf4\x90\x80\x80",	/* past U+10FFFF */
		"\xff",
		"a\x80",		/* stray continuation */
	};
	uint8_t h[16], big[EAP_MAX_PASSWORD + 1];
	size_t i;

	for (i = 0; i < KITE_ARRAY_SIZE(bad); i++) {
		assert_int_equal(eap_mschapv2_nt_hash((const uint8_t *)bad[i], strlen(bad[i]), h),
				 KITE_ERR_INVAL);
		assert_null(eap_new(EAP_TYPE_MSCHAPV2, "u", (const uint8_t *)bad[i],
				    strlen(bad[i])));
	}
	memset(big, 'x', sizeof(big));
	assert_int_equal(eap_mschapv2_nt_hash(big, EAP_MAX_PASSWORD, h), 0);
	assert_int_equal(eap_mschapv2_nt_hash(big, EAP_MAX_PASSWORD + 1, h), KITE_ERR_INVAL);
}

/* ---- whole conversations ---- */

static void test_mschapv2_conversation_rfc2759_vectors(void **state)
{
	static const uint8_t want_msk_tail[32];
	uint8_t m[600], r[EAP_MAX_RESPONSE], msk[EAP_MSK_LEN + 8];
	struct eap *e = rfc_peer();
	size_t n, rl, ml;
	char s[128];

	/* Identity */
	n = pkt(m, EAP_CODE_REQUEST, 1, EAP_TYPE_IDENTITY, NULL, 0);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_CONTINUE);
	assert_int_equal(rl, 9);
	assert_memory_equal(r, "\x02\x01\x00\x09\x01User", 9);
	/* no MSK before success */
	ml = sizeof(msk);
	assert_int_equal(eap_msk(e, msk, &ml), KITE_ERR_INVAL);
	/* Challenge -> Response */
	run_to_response(e, 2);
	assert_int_equal(eap_msk(e, msk, &ml), KITE_ERR_INVAL);
	/* Success-Request with S= -> Success-Response */
	snprintf(s, sizeof(s), "%s M=Welcome to kite", rfc_auth_string);
	n = success_req(m, 3, s);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_CONTINUE);
	assert_int_equal(rl, 6);
	assert_memory_equal(r, "\x02\x03\x00\x06\x1a\x03", 6);
	assert_int_equal(eap_msk(e, msk, &ml), KITE_ERR_INVAL);
	/* EAP-Success */
	n = pkt(m, EAP_CODE_SUCCESS, 3, -1, NULL, 0);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_SUCCESS);
	assert_int_equal(rl, 0);
	assert_non_null(strstr(eap_reason(e), "authenticated"));
	/* MSK = client send key | client receive key | 32 zeros (strongSwan, Android) */
	ml = sizeof(msk);
	assert_int_equal(eap_msk(e, msk, &ml), 0);
	assert_int_equal(ml, 64);
	assert_memory_equal(msk, rfc_client_send_key, 16);
	assert_memory_equal(msk + 16, rfc_client_recv_key, 16);
	assert_memory_equal(msk + 32, want_msk_tail, 32);
	/* too small a buffer */
	ml = 63;
	assert_int_equal(eap_msk(e, msk, &ml), KITE_ERR_INVAL);
	/* the conversation is over */
	n = pkt(m, EAP_CODE_SUCCESS, 4, -1, NULL, 0);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_FAILURE);
	assert_int_equal(rl, 0);
	eap_free(e);
}

static void test_mschapv2_without_identity_request(void **state)
{
	uint8_t m[600], r[EAP_MAX_RESPONSE];
	struct eap *e = rfc_peer();
	size_t n, rl;

	/* strongSwan skips EAP-Identity when IDi is the EAP identity */
	run_to_response(e, 7);
	n = success_req(m, 8, rfc_auth_string);	/* no " M=" part */
	assert_int_equal(feed(e, m, n, r, &rl), EAP_CONTINUE);
	n = pkt(m, EAP_CODE_SUCCESS, 8, -1, NULL, 0);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_SUCCESS);
	eap_free(e);
}

static void test_mschapv2_lowercase_authenticator_accepted(void **state)
{
	uint8_t m[600], r[EAP_MAX_RESPONSE];
	struct eap *e = rfc_peer();
	size_t n, rl;

	run_to_response(e, 1);
	n = success_req(m, 2, "S=407a5589115fd0d6209f510fe9c04566932cda56 M=ok");
	assert_int_equal(feed(e, m, n, r, &rl), EAP_CONTINUE);
	n = pkt(m, EAP_CODE_SUCCESS, 2, -1, NULL, 0);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_SUCCESS);
	eap_free(e);
}

static void test_mschapv2_bad_authenticator_response_fails(void **state)
{
	uint8_t m[600], r[EAP_MAX_RESPONSE], msk[EAP_MSK_LEN];
	char s[64];
	size_t n, rl, ml, pos;
	struct eap *e;

	/* every hex digit position, flipped: always refused, no Success-Response */
	for (pos = 2; pos < strlen(rfc_auth_string); pos += 7) {
		e = rfc_peer();
		run_to_response(e, 1);
		strcpy(s, rfc_auth_string);
		s[pos] = s[pos] == '0' ? '1' : '0';
		n = success_req(m, 2, s);
		assert_int_equal(feed(e, m, n, r, &rl), EAP_FAILURE);
		assert_int_equal(rl, 0);
		assert_non_null(strstr(eap_reason(e), "authenticator response is wrong"));
		/* a following EAP-Success does not rescue it */
		n = pkt(m, EAP_CODE_SUCCESS, 2, -1, NULL, 0);
		assert_int_equal(feed(e, m, n, r, &rl), EAP_FAILURE);
		ml = sizeof(msk);
		assert_int_equal(eap_msk(e, msk, &ml), KITE_ERR_INVAL);
		eap_free(e);
	}
}

static void test_mschapv2_malformed_success_requests(void **state)
{
	static const char *const bad[] = {
		"",
		"S=",
		"M=hello",
		"S=407A5589115FD0D6209F510FE9C04566932CDA5",	/* 39 digits */
		"S=407A5589115FD0D6209F510FE9C04566932CDA56X",	/* 41st char not ' ' */
		"S=407A5589115FD0D6209F510FE9C04566932CDAZZ",	/* not hex */
		"s=407A5589115FD0D6209F510FE9C04566932CDA56",
		" S=407A5589115FD0D6209F510FE9C04566932CDA56",
	};
	uint8_t m[600], r[EAP_MAX_RESPONSE];
	size_t i, n, rl;
	struct eap *e;

	for (i = 0; i < KITE_ARRAY_SIZE(bad); i++) {
		e = rfc_peer();
		run_to_response(e, 1);
		n = success_req(m, 2, bad[i]);
		assert_int_equal(feed(e, m, n, r, &rl), EAP_FAILURE);
		assert_int_equal(rl, 0);
		eap_free(e);
	}
}

static void test_mschapv2_failure_request_e691(void **state)
{
	uint8_t m[600], r[EAP_MAX_RESPONSE];
	struct eap *e = rfc_peer();
	size_t n, rl;

	run_to_response(e, 1);
	n = mschap_req(m, 2, 4, 1, "E=691 R=0 C=00112233445566778899aabbccddeeff V=3 M=Bad\x01pw",
		       strlen("E=691 R=0 C=00112233445566778899aabbccddeeff V=3 M=Bad\x01pw"));
	assert_int_equal(feed(e, m, n, r, &rl), EAP_FAILURE);
	assert_int_equal(rl, 0);	/* no Failure-Response, no retry (as strongSwan) */
	assert_non_null(strstr(eap_reason(e), "wrong user name or password (E=691)"));
	assert_non_null(strstr(eap_reason(e), "\"Bad?pw\""));	/* sanitised */
	eap_free(e);
}

static void test_mschapv2_failure_request_other_codes(void **state)
{
	static const struct {
		const char *msg, *want;
	} cases[] = {
		{ "E=648 R=0 V=3", "password expired" },
		{ "E=647 R=0 V=3", "account disabled" },
		{ "E=649", "no dial-in permission" },
		{ "E=12345", "rejected (E=12345)" },
		{ "garbage", "rejected (E=0)" },
	};
	uint8_t m[600], r[EAP_MAX_RESPONSE];
	size_t i, n, rl;
	struct eap *e;

	for (i = 0; i < KITE_ARRAY_SIZE(cases); i++) {
		e = rfc_peer();
		run_to_response(e, 1);
		n = mschap_req(m, 2, 4, 1, cases[i].msg, strlen(cases[i].msg));
		assert_int_equal(feed(e, m, n, r, &rl), EAP_FAILURE);
		assert_non_null(strstr(eap_reason(e), cases[i].want));
		eap_free(e);
	}
}

static void test_eap_failure_after_response(void **state)
{
	uint8_t m[600], r[EAP_MAX_RESPONSE];
	struct eap *e = rfc_peer();
	size_t n, rl;

	run_to_response(e, 1);
	n = pkt(m, EAP_CODE_FAILURE, 1, -1, NULL, 0);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_FAILURE);
	assert_non_null(strstr(eap_reason(e), "rejected the user name or password"));
	eap_free(e);
}

static void test_canned_success_refused_at_every_step(void **state)
{
	uint8_t m[600], r[EAP_MAX_RESPONSE], msk[EAP_MSK_LEN];
	size_t n, rl, ml;
	struct eap *e;
	int step;

	for (step = 0; step < 3; step++) {
		e = rfc_peer();
		if (step >= 1) {
			n = pkt(m, EAP_CODE_REQUEST, 1, EAP_TYPE_IDENTITY, NULL, 0);
			assert_int_equal(feed(e, m, n, r, &rl), EAP_CONTINUE);
		}
		if (step >= 2)
			run_to_response(e, 2);
		/* EAP-Success before the Success-Request was verified */
		n = pkt(m, EAP_CODE_SUCCESS, 2, -1, NULL, 0);
		assert_int_equal(feed(e, m, n, r, &rl), EAP_FAILURE);
		assert_non_null(strstr(eap_reason(e), "before the method completed"));
		ml = sizeof(msk);
		assert_int_equal(eap_msk(e, msk, &ml), KITE_ERR_INVAL);
		eap_free(e);
	}
}

static void test_nak_names_configured_method_then_proceeds(void **state)
{
	uint8_t m[600], r[EAP_MAX_RESPONSE];
	struct eap *e = rfc_peer();
	size_t n, rl;

	/* EAP-TLS proposed first: legacy Nak naming MSCHAPv2 (RFC 3748 5.3.1) */
	n = pkt(m, EAP_CODE_REQUEST, 5, EAP_TYPE_TLS, "\x20", 1);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_CONTINUE);
	assert_int_equal(rl, 6);
	assert_memory_equal(r, "\x02\x05\x00\x06\x03\x1a", 6);
	/* an expanded type gets a legacy Nak too (5.3.2) */
	n = pkt(m, EAP_CODE_REQUEST, 6, EAP_TYPE_EXPANDED, "\x00\x00\x00\x00\x00\x00\x00\x01", 8);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_CONTINUE);
	assert_memory_equal(r, "\x02\x06\x00\x06\x03\x1a", 6);
	/* then the gateway agrees */
	run_to_response(e, 7);
	n = success_req(m, 8, rfc_auth_string);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_CONTINUE);
	n = pkt(m, EAP_CODE_SUCCESS, 8, -1, NULL, 0);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_SUCCESS);
	eap_free(e);
}

static void test_nak_then_failure_names_both_methods(void **state)
{
	uint8_t m[600], r[EAP_MAX_RESPONSE];
	struct eap *e = rfc_peer();
	size_t n, rl;

	n = pkt(m, EAP_CODE_REQUEST, 1, 25, "\x00", 1);	/* PEAP */
	assert_int_equal(feed(e, m, n, r, &rl), EAP_CONTINUE);
	n = pkt(m, EAP_CODE_FAILURE, 1, -1, NULL, 0);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_FAILURE);
	assert_string_equal(eap_reason(e), "EAP: the gateway refused EAP-MSCHAPv2 (it offered PEAP)");
	eap_free(e);
}

static void test_method_switch_after_start_refused(void **state)
{
	uint8_t m[600], r[EAP_MAX_RESPONSE];
	size_t n, rl;
	struct eap *e;

	/* after our Response, an MD5 challenge is a switch: refused, no Nak */
	e = rfc_peer();
	run_to_response(e, 1);
	n = pkt(m, EAP_CODE_REQUEST, 2, EAP_TYPE_MD5, "\x01\x55", 2);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_FAILURE);
	assert_int_equal(rl, 0);
	assert_non_null(strstr(eap_reason(e), "switched to EAP-MD5"));
	eap_free(e);

	/* a second Challenge (a retry) or a new Identity request are refused too */
	e = rfc_peer();
	run_to_response(e, 1);
	n = challenge_req(m, 2, rfc_auth_challenge);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_FAILURE);
	eap_free(e);

	e = rfc_peer();
	run_to_response(e, 1);
	n = pkt(m, EAP_CODE_REQUEST, 2, EAP_TYPE_IDENTITY, NULL, 0);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_FAILURE);
	eap_free(e);

	/* a Success-Request before any Challenge */
	e = rfc_peer();
	n = success_req(m, 2, rfc_auth_string);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_FAILURE);
	eap_free(e);
}

static void test_notification_answered_anytime(void **state)
{
	uint8_t m[600], r[EAP_MAX_RESPONSE];
	struct eap *e = rfc_peer();
	size_t n, rl;

	n = pkt(m, EAP_CODE_REQUEST, 9, EAP_TYPE_NOTIFICATION, "Password expires soon", 21);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_CONTINUE);
	assert_int_equal(rl, 5);
	assert_memory_equal(r, "\x02\x09\x00\x05\x02", 5);
	run_to_response(e, 10);
	n = pkt(m, EAP_CODE_REQUEST, 11, EAP_TYPE_NOTIFICATION, NULL, 0);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_CONTINUE);
	n = success_req(m, 12, rfc_auth_string);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_CONTINUE);
	n = pkt(m, EAP_CODE_SUCCESS, 12, -1, NULL, 0);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_SUCCESS);
	eap_free(e);
}

static void test_rounds_are_bounded(void **state)
{
	uint8_t m[600], r[EAP_MAX_RESPONSE];
	struct eap *e = rfc_peer();
	size_t n, rl;
	int i;

	for (i = 0; i < EAP_MAX_ROUNDS; i++) {
		n = pkt(m, EAP_CODE_REQUEST, (uint8_t)i, EAP_TYPE_NOTIFICATION, "x", 1);
		assert_int_equal(feed(e, m, n, r, &rl), EAP_CONTINUE);
	}
	n = pkt(m, EAP_CODE_REQUEST, 99, EAP_TYPE_NOTIFICATION, "x", 1);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_FAILURE);
	assert_non_null(strstr(eap_reason(e), "more than"));
	eap_free(e);
}

static void test_malformed_packets_fail_cleanly(void **state)
{
	static const struct {
		const char *what;
		const char *p;
		size_t len;
	} cases[] = {
		{ "empty", "", 0 },
		{ "3 bytes", "\x01\x01\x00", 3 },
		{ "length 3", "\x01\x01\x00\x03\x01", 5 },
		{ "length past the end", "\x01\x01\x00\x09\x01Us", 7 },
		{ "request without type", "\x01\x01\x00\x04", 4 },
		{ "response from the gateway", "\x02\x01\x00\x05\x01", 5 },
		{ "unknown code", "\x05\x01\x00\x04", 4 },
		{ "code 0", "\x00\x01\x00\x04", 4 },
		{ "Nak as a request", "\x01\x01\x00\x06\x03\x1a", 6 },
		{ "mschapv2 without opcode", "\x01\x01\x00\x05\x1a", 5 },
		{ "mschapv2 short header", "\x01\x01\x00\x07\x1a\x01\x01", 7 },
		{ "mschapv2 unknown opcode", "\x01\x01\x00\x09\x1a\x07\x01\x00\x04", 9 },
		{ "challenge value size 8", "\x01\x01\x00\x12\x1a\x01\x01\x00\x0d\x08"
		  "\x01\x02\x03\x04\x05\x06\x07\x08", 18 },
		{ "challenge truncated", "\x01\x01\x00\x0f\x1a\x01\x01\x00\x0a\x10"
		  "\x01\x02\x03\x04\x05", 15 },
		{ "challenge no value size", "\x01\x01\x00\x09\x1a\x01\x01\x00\x04", 9 },
	};
	uint8_t r[EAP_MAX_RESPONSE];
	size_t i, rl;
	struct eap *e;

	for (i = 0; i < KITE_ARRAY_SIZE(cases); i++) {
		uint8_t *copy = malloc(cases[i].len ? cases[i].len : 1);

		/* exact-size copies so ASan sees any over-read */
		memcpy(copy, cases[i].p, cases[i].len);
		e = rfc_peer();
		rl = 99;
		if (feed(e, copy, cases[i].len, r, &rl) != EAP_FAILURE)
			fail_msg("%s: not refused", cases[i].what);
		assert_int_equal(rl, 0);
		eap_free(e);
		free(copy);
	}
}

static void test_trailing_padding_ignored(void **state)
{
	uint8_t m[600], r[EAP_MAX_RESPONSE];
	struct eap *e = rfc_peer();
	size_t n, rl;

	/* RFC 3748 4: octets past Length are padding */
	n = pkt(m, EAP_CODE_REQUEST, 1, EAP_TYPE_IDENTITY, NULL, 0);
	memset(m + n, 0xee, 7);
	assert_int_equal(feed(e, m, n + 7, r, &rl), EAP_CONTINUE);
	assert_int_equal(rl, 9);
	eap_free(e);
}

static void test_response_buffer_too_small(void **state)
{
	uint8_t m[600], r[EAP_MAX_RESPONSE];
	struct eap *e = rfc_peer();
	size_t n, rl;

	n = challenge_req(m, 1, rfc_auth_challenge);
	assert_int_equal(eap_input(e, m, n, r, 20, &rl), EAP_FAILURE);
	assert_int_equal(rl, 0);
	eap_free(e);
}

static void test_null_arguments(void **state)
{
	uint8_t m[8] = { 1, 1, 0, 5, 1 }, r[EAP_MAX_RESPONSE];
	struct eap *e = rfc_peer();
	size_t rl;

	assert_int_equal(eap_input(NULL, m, 5, r, sizeof(r), &rl), EAP_FAILURE);
	assert_int_equal(eap_input(e, NULL, 5, r, sizeof(r), &rl), EAP_FAILURE);
	eap_free(e);
	e = rfc_peer();
	assert_int_equal(eap_input(e, m, 5, NULL, sizeof(r), &rl), EAP_FAILURE);
	eap_free(e);
	e = rfc_peer();
	assert_int_equal(eap_input(e, m, 5, r, sizeof(r), NULL), EAP_FAILURE);
	eap_free(e);
	eap_free(NULL);
	assert_non_null(eap_reason(NULL));
	assert_int_equal(eap_method(NULL), 0);
}

static void test_eap_new_arguments(void **state)
{
	char long_id[EAP_MAX_IDENTITY + 2];
	struct eap *e;

	assert_null(eap_new(EAP_TYPE_TLS, "u", (const uint8_t *)"p", 1));
	assert_null(eap_new(0, "u", (const uint8_t *)"p", 1));
	assert_null(eap_new(EAP_TYPE_MSCHAPV2, "", (const uint8_t *)"p", 1));
	assert_null(eap_new(EAP_TYPE_MSCHAPV2, NULL, (const uint8_t *)"p", 1));
	assert_null(eap_new(EAP_TYPE_MSCHAPV2, "u", NULL, 1));
	assert_null(eap_new(EAP_TYPE_MD5, "u", (const uint8_t *)"p\0q", 3));
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	assert_null(eap_new(EAP_TYPE_MSCHAPV2, long_id, (const uint8_t *)"p", 1));
	long_id[EAP_MAX_IDENTITY] = '\0';
	e = eap_new(EAP_TYPE_MSCHAPV2, long_id, (const uint8_t *)"p", 1);
	assert_non_null(e);
	assert_int_equal(eap_method(e), EAP_TYPE_MSCHAPV2);
	eap_free(e);
	/* EAP-MD5 takes any bytes: no UTF-8 rule */
	e = eap_new(EAP_TYPE_MD5, "u", (const uint8_t *)"\xff\xfe", 2);
	assert_non_null(e);
	eap_free(e);
}

static void test_max_identity_response_fits(void **state)
{
	char id[EAP_MAX_IDENTITY + 1];
	uint8_t m[600], r[EAP_MAX_RESPONSE];
	struct eap *e;
	size_t n, rl;

	memset(id, 'u', EAP_MAX_IDENTITY);
	id[EAP_MAX_IDENTITY] = '\0';
	e = eap_new(EAP_TYPE_MSCHAPV2, id, (const uint8_t *)"pw", 2);
	assert_non_null(e);
	n = challenge_req(m, 1, rfc_auth_challenge);
	assert_int_equal(eap_input(e, m, n, r, sizeof(r), &rl), EAP_CONTINUE);
	assert_int_equal(rl, EAP_MAX_RESPONSE);
	eap_free(e);
}

/* ---- EAP-MD5 (RFC 3748 5.4, RFC 1994 4.1) ---- */

static void test_md5_challenge_response(void **state)
{
	/* MD5(0x2a | "hunter2" | 00112233..ff), computed with Python's hashlib */
	static const uint8_t want[16] = {
		0xbd, 0x99, 0xcf, 0xff, 0xef, 0x1f, 0x0e, 0x87,
		0x98, 0xd0, 0x5c, 0x27, 0x03, 0x78, 0x5d, 0x3c,
	};
	uint8_t m[600], r[EAP_MAX_RESPONSE], d[64], msk[EAP_MSK_LEN];
	struct eap *e = eap_new(EAP_TYPE_MD5, "alice", (const uint8_t *)"hunter2", 7);
	size_t n, rl, ml;

	assert_non_null(e);
	n = pkt(m, EAP_CODE_REQUEST, 0x29, EAP_TYPE_IDENTITY, "hello", 5);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_CONTINUE);
	assert_memory_equal(r, "\x02\x29\x00\x0a\x01" "alice", 10);
	d[0] = 16;
	memcpy(d + 1, "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff", 16);
	memcpy(d + 17, "gw", 2);
	n = pkt(m, EAP_CODE_REQUEST, 0x2a, EAP_TYPE_MD5, d, 19);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_CONTINUE);
	assert_int_equal(rl, 22);
	assert_memory_equal(r, "\x02\x2a\x00\x16\x04\x10", 6);
	assert_memory_equal(r + 6, want, 16);
	n = pkt(m, EAP_CODE_SUCCESS, 0x2a, -1, NULL, 0);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_SUCCESS);
	/* EAP-MD5 derives no MSK: the core uses SK_pi/SK_pr (RFC 7296 2.16) */
	ml = sizeof(msk);
	assert_int_equal(eap_msk(e, msk, &ml), KITE_ERR_UNSUPPORTED);
	eap_free(e);
}

static void test_md5_canned_success_and_failure(void **state)
{
	uint8_t m[600], r[EAP_MAX_RESPONSE];
	struct eap *e;
	size_t n, rl;

	e = eap_new(EAP_TYPE_MD5, "alice", (const uint8_t *)"pw", 2);
	n = pkt(m, EAP_CODE_SUCCESS, 1, -1, NULL, 0);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_FAILURE);
	eap_free(e);

	e = eap_new(EAP_TYPE_MD5, "alice", (const uint8_t *)"pw", 2);
	n = pkt(m, EAP_CODE_REQUEST, 1, EAP_TYPE_MD5, "\x01\x99", 2);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_CONTINUE);
	n = pkt(m, EAP_CODE_FAILURE, 1, -1, NULL, 0);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_FAILURE);
	assert_non_null(strstr(eap_reason(e), "EAP-MD5: the gateway rejected"));
	eap_free(e);

	/* value size 0 and a truncated value are malformed; MSCHAPv2 gets a Nak */
	e = eap_new(EAP_TYPE_MD5, "alice", (const uint8_t *)"pw", 2);
	n = pkt(m, EAP_CODE_REQUEST, 1, EAP_TYPE_MD5, "\x00", 1);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_FAILURE);
	eap_free(e);
	e = eap_new(EAP_TYPE_MD5, "alice", (const uint8_t *)"pw", 2);
	n = pkt(m, EAP_CODE_REQUEST, 1, EAP_TYPE_MD5, "\x05\x01\x02", 3);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_FAILURE);
	eap_free(e);
	e = eap_new(EAP_TYPE_MD5, "alice", (const uint8_t *)"pw", 2);
	n = challenge_req(m, 4, rfc_auth_challenge);
	assert_int_equal(feed(e, m, n, r, &rl), EAP_CONTINUE);
	assert_memory_equal(r, "\x02\x04\x00\x06\x03\x04", 6);
	eap_free(e);
}

/*
 * Mutation fuzz (OpenIKED test_parser_fuzz.c style): every message of a good
 * conversation, with each single bit flipped and truncated at every length,
 * is fed to a peer in the state that expects it. Only "no crash, no leak,
 * a defined result, and a response only with EAP_CONTINUE" is asserted.
 */
static void test_mutations_never_crash(void **state)
{
	uint8_t msgs[3][128], r[EAP_MAX_RESPONSE], *copy;
	size_t lens[3], rl, i, bit, cut;
	enum eap_status st;
	struct eap *e;

	lens[0] = pkt(msgs[0], EAP_CODE_REQUEST, 1, EAP_TYPE_IDENTITY, NULL, 0);
	lens[1] = challenge_req(msgs[1], 2, rfc_auth_challenge);
	lens[2] = success_req(msgs[2], 3, rfc_auth_string);
	for (i = 0; i < 3; i++) {
		for (bit = 0; bit < lens[i] * 8 + lens[i] + 1; bit++) {
			size_t len = lens[i];

			copy = malloc(len);
			memcpy(copy, msgs[i], len);
			if (bit < len * 8) {
				copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			} else {
				cut = bit - len * 8;	/* 0 .. len */
				len = cut;
			}
			e = rfc_peer();
			if (i >= 1) {
				assert_int_equal(feed(e, msgs[0], lens[0], r, &rl), EAP_CONTINUE);
			}
			if (i >= 2) {
				assert_int_equal(feed(e, msgs[1], lens[1], r, &rl), EAP_CONTINUE);
			}
			st = feed(e, copy, len, r, &rl);
			assert_true(st == EAP_CONTINUE || st == EAP_FAILURE || st == EAP_SUCCESS);
			assert_true((st == EAP_CONTINUE) == (rl > 0));
			assert_true(rl <= EAP_MAX_RESPONSE);
			eap_free(e);
			free(copy);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_md4_rfc1320_a5),
		cmocka_unit_test(test_md5_rfc1321_a5_in_parts),
		cmocka_unit_test(test_des_fips81_and_7_byte_keys),
		cmocka_unit_test(test_mschapv2_password_hash_rfc2759_9_2),
		cmocka_unit_test(test_mschapv2_challenge_hash_rfc2759_9_2),
		cmocka_unit_test(test_mschapv2_nt_response_rfc2759_9_2),
		cmocka_unit_test(test_mschapv2_authenticator_response_rfc2759_9_2),
		cmocka_unit_test(test_mppe_master_and_start_keys_rfc3079_3_5_3),
		cmocka_unit_test(test_mschapv2_username_domain_prefix_not_hashed),
		cmocka_unit_test(test_mschapv2_password_is_hashed_as_utf16le),
		cmocka_unit_test(test_mschapv2_invalid_utf8_refused),
		cmocka_unit_test(test_mschapv2_conversation_rfc2759_vectors),
		cmocka_unit_test(test_mschapv2_without_identity_request),
		cmocka_unit_test(test_mschapv2_lowercase_authenticator_accepted),
		cmocka_unit_test(test_mschapv2_bad_authenticator_response_fails),
		cmocka_unit_test(test_mschapv2_malformed_success_requests),
		cmocka_unit_test(test_mschapv2_failure_request_e691),
		cmocka_unit_test(test_mschapv2_failure_request_other_codes),
		cmocka_unit_test(test_eap_failure_after_response),
		cmocka_unit_test(test_canned_success_refused_at_every_step),
		cmocka_unit_test(test_nak_names_configured_method_then_proceeds),
		cmocka_unit_test(test_nak_then_failure_names_both_methods),
		cmocka_unit_test(test_method_switch_after_start_refused),
		cmocka_unit_test(test_notification_answered_anytime),
		cmocka_unit_test(test_rounds_are_bounded),
		cmocka_unit_test(test_malformed_packets_fail_cleanly),
		cmocka_unit_test(test_trailing_padding_ignored),
		cmocka_unit_test(test_response_buffer_too_small),
		cmocka_unit_test(test_null_arguments),
		cmocka_unit_test(test_eap_new_arguments),
		cmocka_unit_test(test_max_identity_response_fits),
		cmocka_unit_test(test_md5_challenge_response),
		cmocka_unit_test(test_md5_canned_success_and_failure),
		cmocka_unit_test(test_mutations_never_crash),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
