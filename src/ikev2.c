/* ikev2: names of wire constants for logs (IANA "IKEv2 Parameters"). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kite.h"
#include "ikev2.h"

struct ikev2_name {
	unsigned v;
	const char *name;
};

#define N(prefix, x)	{ prefix##x, #x }

static const struct ikev2_name exchange_names[] = {
	N(IKEV2_EXCH_, IKE_SA_INIT),
	N(IKEV2_EXCH_, IKE_AUTH),
	N(IKEV2_EXCH_, CREATE_CHILD_SA),
	N(IKEV2_EXCH_, INFORMATIONAL),
	N(IKEV2_EXCH_, IKE_SESSION_RESUME),
	N(IKEV2_EXCH_, IKE_INTERMEDIATE),
};

static const struct ikev2_name payload_names[] = {
	N(IKEV2_PLD_, NONE),
	N(IKEV2_PLD_, SA),
	N(IKEV2_PLD_, KE),
	N(IKEV2_PLD_, IDi),
	N(IKEV2_PLD_, IDr),
	N(IKEV2_PLD_, CERT),
	N(IKEV2_PLD_, CERTREQ),
	N(IKEV2_PLD_, AUTH),
	N(IKEV2_PLD_, NONCE),
	N(IKEV2_PLD_, NOTIFY),
	N(IKEV2_PLD_, DELETE),
	N(IKEV2_PLD_, VENDOR),
	N(IKEV2_PLD_, TSi),
	N(IKEV2_PLD_, TSr),
	N(IKEV2_PLD_, SK),
	N(IKEV2_PLD_, CP),
	N(IKEV2_PLD_, EAP),
	N(IKEV2_PLD_, GSPM),
	N(IKEV2_PLD_, SKF),
};

static const struct ikev2_name notify_names[] = {
	N(IKEV2_N_, UNSUPPORTED_CRITICAL_PAYLOAD),
	N(IKEV2_N_, INVALID_IKE_SPI),
	N(IKEV2_N_, INVALID_MAJOR_VERSION),
	N(IKEV2_N_, INVALID_SYNTAX),
	N(IKEV2_N_, INVALID_MESSAGE_ID),
	N(IKEV2_N_, INVALID_SPI),
	N(IKEV2_N_, NO_PROPOSAL_CHOSEN),
	N(IKEV2_N_, INVALID_KE_PAYLOAD),
	N(IKEV2_N_, AUTHENTICATION_FAILED),
	N(IKEV2_N_, SINGLE_PAIR_REQUIRED),
	N(IKEV2_N_, NO_ADDITIONAL_SAS),
	N(IKEV2_N_, INTERNAL_ADDRESS_FAILURE),
	N(IKEV2_N_, FAILED_CP_REQUIRED),
	N(IKEV2_N_, TS_UNACCEPTABLE),
	N(IKEV2_N_, INVALID_SELECTORS),
	N(IKEV2_N_, UNACCEPTABLE_ADDRESSES),
	N(IKEV2_N_, UNEXPECTED_NAT_DETECTED),
	N(IKEV2_N_, TEMPORARY_FAILURE),
	N(IKEV2_N_, CHILD_SA_NOT_FOUND),
	N(IKEV2_N_, INITIAL_CONTACT),
	N(IKEV2_N_, SET_WINDOW_SIZE),
	N(IKEV2_N_, ADDITIONAL_TS_POSSIBLE),
	N(IKEV2_N_, IPCOMP_SUPPORTED),
	N(IKEV2_N_, NAT_DETECTION_SOURCE_IP),
	N(IKEV2_N_, NAT_DETECTION_DESTINATION_IP),
	N(IKEV2_N_, COOKIE),
	N(IKEV2_N_, USE_TRANSPORT_MODE),
	N(IKEV2_N_, HTTP_CERT_LOOKUP_SUPPORTED),
	N(IKEV2_N_, REKEY_SA),
	N(IKEV2_N_, ESP_TFC_PADDING_NOT_SUPPORTED),
	N(IKEV2_N_, NON_FIRST_FRAGMENTS_ALSO),
	N(IKEV2_N_, MOBIKE_SUPPORTED),
	N(IKEV2_N_, ADDITIONAL_IP4_ADDRESS),
	N(IKEV2_N_, ADDITIONAL_IP6_ADDRESS),
	N(IKEV2_N_, NO_ADDITIONAL_ADDRESSES),
	N(IKEV2_N_, UPDATE_SA_ADDRESSES),
	N(IKEV2_N_, COOKIE2),
	N(IKEV2_N_, NO_NATS_ALLOWED),
	N(IKEV2_N_, AUTH_LIFETIME),
	N(IKEV2_N_, REDIRECT_SUPPORTED),
	N(IKEV2_N_, REDIRECT),
	N(IKEV2_N_, EAP_ONLY_AUTHENTICATION),
	N(IKEV2_N_, IKEV2_FRAGMENTATION_SUPPORTED),
	N(IKEV2_N_, SIGNATURE_HASH_ALGORITHMS),
};

static const struct ikev2_name encr_names[] = {
	N(IKEV2_ENCR_, DES),
	N(IKEV2_ENCR_, 3DES),
	N(IKEV2_ENCR_, NULL),
	N(IKEV2_ENCR_, AES_CBC),
	N(IKEV2_ENCR_, AES_CTR),
	N(IKEV2_ENCR_, AES_GCM_8),
	N(IKEV2_ENCR_, AES_GCM_12),
	N(IKEV2_ENCR_, AES_GCM_16),
	N(IKEV2_ENCR_, CHACHA20_POLY1305),
};

static const struct ikev2_name prf_names[] = {
	N(IKEV2_PRF_, HMAC_MD5),
	N(IKEV2_PRF_, HMAC_SHA1),
	N(IKEV2_PRF_, AES128_XCBC),
	N(IKEV2_PRF_, HMAC_SHA2_256),
	N(IKEV2_PRF_, HMAC_SHA2_384),
	N(IKEV2_PRF_, HMAC_SHA2_512),
	N(IKEV2_PRF_, AES128_CMAC),
};

static const struct ikev2_name integ_names[] = {
	N(IKEV2_INTEG_, NONE),
	N(IKEV2_INTEG_, HMAC_MD5_96),
	N(IKEV2_INTEG_, HMAC_SHA1_96),
	N(IKEV2_INTEG_, AES_XCBC_96),
	N(IKEV2_INTEG_, HMAC_SHA2_256_128),
	N(IKEV2_INTEG_, HMAC_SHA2_384_192),
	N(IKEV2_INTEG_, HMAC_SHA2_512_256),
};

static const struct ikev2_name dh_names[] = {
	N(IKEV2_DH_, NONE),
	N(IKEV2_DH_, MODP_768),
	N(IKEV2_DH_, MODP_1024),
	N(IKEV2_DH_, MODP_1536),
	N(IKEV2_DH_, MODP_2048),
	N(IKEV2_DH_, MODP_3072),
	N(IKEV2_DH_, MODP_4096),
	N(IKEV2_DH_, ECP_256),
	N(IKEV2_DH_, ECP_384),
	N(IKEV2_DH_, ECP_521),
	N(IKEV2_DH_, CURVE25519),
	N(IKEV2_DH_, CURVE448),
};

#undef N

/*
 * Unknown values are formatted into one of a few rotating static buffers, so
 * that up to IKEV2_NAME_BUFS unknown names can appear in one log call.
 */
#define IKEV2_NAME_BUFS	4

static const char *ikev2_name(const struct ikev2_name *map, size_t n, unsigned v)
{
	static char buf[IKEV2_NAME_BUFS][24];
	static unsigned next;
	char *s;
	size_t i;

	for (i = 0; i < n; i++)
		if (map[i].v == v)
			return map[i].name;
	s = buf[next++ % IKEV2_NAME_BUFS];
	snprintf(s, sizeof(buf[0]), "UNKNOWN_%u", v);
	return s;
}

const char *ikev2_exchange_name(unsigned v)
{
	return ikev2_name(exchange_names, KITE_ARRAY_SIZE(exchange_names), v);
}

const char *ikev2_payload_name(unsigned v)
{
	return ikev2_name(payload_names, KITE_ARRAY_SIZE(payload_names), v);
}

const char *ikev2_notify_name(unsigned v)
{
	return ikev2_name(notify_names, KITE_ARRAY_SIZE(notify_names), v);
}

const char *ikev2_encr_name(unsigned v)
{
	return ikev2_name(encr_names, KITE_ARRAY_SIZE(encr_names), v);
}

const char *ikev2_prf_name(unsigned v)
{
	return ikev2_name(prf_names, KITE_ARRAY_SIZE(prf_names), v);
}

const char *ikev2_integ_name(unsigned v)
{
	return ikev2_name(integ_names, KITE_ARRAY_SIZE(integ_names), v);
}

const char *ikev2_dh_name(unsigned v)
{
	return ikev2_name(dh_names, KITE_ARRAY_SIZE(dh_names), v);
}
