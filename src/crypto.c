/* crypto: see crypto.h. The only file that includes wolfSSL headers. */
#include <wolfssl/options.h>
#include <wolfssl/version.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/types.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/wc_port.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/sha.h>
#include <wolfssl/wolfcrypt/sha256.h>
#include <wolfssl/wolfcrypt/sha512.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/chacha.h>
#include <wolfssl/wolfcrypt/poly1305.h>
#include <wolfssl/wolfcrypt/dh.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/curve25519.h>

#include <stdlib.h>
#include <string.h>

#include "kite.h"
#include "ikev2.h"
#include "log.h"
#include "crypto.h"

#if !defined(HAVE_AESGCM) || !defined(HAVE_CHACHA) || !defined(HAVE_POLY1305) || \
    !defined(HAVE_ECC) || !defined(HAVE_CURVE25519) || defined(NO_DH) || \
    !defined(WOLFSSL_SHA384) || !defined(WOLFSSL_SHA512) || defined(NO_AES_CBC) || \
    defined(NO_SHA) || defined(NO_HMAC)
#error "wolfSSL lacks an algorithm kite needs (see packaging/wolfssl.sh)"
#endif

#if defined(WOLFSSL_AESNI) && defined(USE_INTEL_SPEEDUP)
#define CRYPTO_ASM	1
#define CRYPTO_ASM_DESC	" (x86-64 asm: AES-NI, intelasm" CRYPTO_SP_DESC ")"
#if defined(WOLFSSL_SP_X86_64_ASM)
#define CRYPTO_SP_DESC	", SP asm"
#else
#define CRYPTO_SP_DESC	""
#endif
#else
#define CRYPTO_ASM	0
#define CRYPTO_ASM_DESC	" (no asm)"
#endif

#define DH_MAX_LEN	384	/* MODP-3072, the largest group kite implements */
#define AEAD_SALT_LEN	4	/* RFC 4106 4, RFC 7634 2 */
#define AEAD_IV_LEN	8
#define AEAD_NONCE_LEN	(AEAD_SALT_LEN + AEAD_IV_LEN)
#define AEAD_ICV_LEN	16
#define CBC_IV_LEN	16

_Static_assert(DH_MAX_LEN <= CRYPTO_MAX_DH_PUB, "CRYPTO_MAX_DH_PUB too small");
_Static_assert(DH_MAX_LEN <= CRYPTO_MAX_DH_SECRET, "CRYPTO_MAX_DH_SECRET too small");
_Static_assert(WC_MAX_DIGEST_SIZE >= CRYPTO_MAX_PRF_LEN, "digest size");

static WC_RNG crypto_rng;
static int crypto_ready;

const char *crypto_version(void)
{
	return "wolfSSL " LIBWOLFSSL_VERSION_STRING CRYPTO_ASM_DESC;
}

int crypto_has_asm(void)
{
	return CRYPTO_ASM;
}

void crypto_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		explicit_bzero(p, len);
}

int crypto_ct_eq(const void *a, const void *b, size_t len)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;
	size_t i;

	for (i = 0; i < len; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

int crypto_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	word32 n;

	if (!crypto_ready)
		return KITE_ERR_INVAL;
	if (buf == NULL && len > 0)
		return KITE_ERR_INVAL;
	/* wolfSSL caps one request at RNG_MAX_BLOCK_LEN */
	while (len > 0) {
		n = len > RNG_MAX_BLOCK_LEN ? RNG_MAX_BLOCK_LEN : (word32)len;
		if (wc_RNG_GenerateBlock(&crypto_rng, p, n) != 0)
			return KITE_ERR_CRYPTO;
		p += n;
		len -= n;
	}
	return 0;
}

/* ---- hashes and PRF ---- */

static int prf_hash_type(uint16_t prf)
{
	switch (prf) {
	case IKEV2_PRF_HMAC_SHA2_256:
		return WC_SHA256;
	case IKEV2_PRF_HMAC_SHA2_384:
		return WC_SHA384;
	case IKEV2_PRF_HMAC_SHA2_512:
		return WC_SHA512;
	default:
		return -1;
	}
}

size_t crypto_prf_len(uint16_t prf)
{
	switch (prf) {
	case IKEV2_PRF_HMAC_SHA2_256:
		return WC_SHA256_DIGEST_SIZE;
	case IKEV2_PRF_HMAC_SHA2_384:
		return WC_SHA384_DIGEST_SIZE;
	case IKEV2_PRF_HMAC_SHA2_512:
		return WC_SHA512_DIGEST_SIZE;
	default:
		return 0;
	}
}

static int len_ok(const void *p, size_t len)
{
	return (p != NULL || len == 0) && len <= UINT32_MAX;
}

/* HMAC over up to three parts; out gets the full digest. */
static int hmac3(int type, const uint8_t *key, size_t key_len,
		 const uint8_t *d1, size_t l1, const uint8_t *d2, size_t l2,
		 const uint8_t *d3, size_t l3, uint8_t *out)
{
	Hmac h;
	int r = KITE_ERR_CRYPTO;

	if (wc_HmacInit(&h, NULL, INVALID_DEVID) != 0)
		return KITE_ERR_CRYPTO;
	if (wc_HmacSetKey(&h, type, key, (word32)key_len) != 0 ||
	    wc_HmacUpdate(&h, d1, (word32)l1) != 0 ||
	    wc_HmacUpdate(&h, d2, (word32)l2) != 0 ||
	    wc_HmacUpdate(&h, d3, (word32)l3) != 0 ||
	    wc_HmacFinal(&h, out) != 0)
		goto out;
	r = 0;
out:
	wc_HmacFree(&h);
	crypto_wipe(&h, sizeof(h));
	return r;
}

int crypto_prf(uint16_t prf, const uint8_t *key, size_t key_len,
	       const uint8_t *data, size_t data_len,
	       const uint8_t *data2, size_t data2_len, uint8_t *out)
{
	int type;

	if ((type = prf_hash_type(prf)) < 0)
		return KITE_ERR_UNSUPPORTED;
	if (out == NULL || !len_ok(key, key_len) || !len_ok(data, data_len) ||
	    !len_ok(data2, data2_len))
		return KITE_ERR_INVAL;
	return hmac3(type, key, key_len, data, data_len, data2, data2_len,
	    NULL, 0, out);
}

int crypto_prf_plus(uint16_t prf, const uint8_t *key, size_t key_len,
		    const uint8_t *seed, size_t seed_len, uint8_t *out, size_t out_len)
{
	uint8_t t[CRYPTO_MAX_PRF_LEN];
	size_t hlen, done = 0, n;
	unsigned int i;
	uint8_t ctr;
	Hmac h;
	int type, r = KITE_ERR_CRYPTO;

	if ((type = prf_hash_type(prf)) < 0)
		return KITE_ERR_UNSUPPORTED;
	hlen = crypto_prf_len(prf);
	if ((out == NULL && out_len > 0) || out_len > 255 * hlen ||
	    !len_ok(key, key_len) || !len_ok(seed, seed_len))
		return KITE_ERR_INVAL;
	if (wc_HmacInit(&h, NULL, INVALID_DEVID) != 0)
		return KITE_ERR_CRYPTO;
	/* wolfSSL keeps the keyed pads across Final, so the key is set once. */
	if (wc_HmacSetKey(&h, type, key, (word32)key_len) != 0)
		goto out;
	/* T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n) (RFC 7296 2.13) */
	for (i = 1; done < out_len; i++) {
		ctr = (uint8_t)i;
		if ((i > 1 && wc_HmacUpdate(&h, t, (word32)hlen) != 0) ||
		    wc_HmacUpdate(&h, seed, (word32)seed_len) != 0 ||
		    wc_HmacUpdate(&h, &ctr, 1) != 0 ||
		    wc_HmacFinal(&h, t) != 0)
			goto out;
		n = out_len - done < hlen ? out_len - done : hlen;
		memcpy(out + done, t, n);
		done += n;
	}
	r = 0;
out:
	wc_HmacFree(&h);
	crypto_wipe(&h, sizeof(h));
	crypto_wipe(t, sizeof(t));
	if (r != 0 && out != NULL)
		crypto_wipe(out, out_len);
	return r;
}

int crypto_hash(uint16_t prf, const uint8_t *data, size_t len, uint8_t *out)
{
	int r;

	if (out == NULL || !len_ok(data, len))
		return KITE_ERR_INVAL;
	switch (prf) {
	case IKEV2_PRF_HMAC_SHA2_256:
		r = wc_Sha256Hash(data, (word32)len, out);
		break;
	case IKEV2_PRF_HMAC_SHA2_384:
		r = wc_Sha384Hash(data, (word32)len, out);
		break;
	case IKEV2_PRF_HMAC_SHA2_512:
		r = wc_Sha512Hash(data, (word32)len, out);
		break;
	default:
		return KITE_ERR_UNSUPPORTED;
	}
	return r == 0 ? 0 : KITE_ERR_CRYPTO;
}

int crypto_sha1(const uint8_t *d1, size_t l1, const uint8_t *d2, size_t l2, uint8_t out[20])
{
	wc_Sha sha;
	int r = KITE_ERR_CRYPTO;

	if (out == NULL || !len_ok(d1, l1) || !len_ok(d2, l2))
		return KITE_ERR_INVAL;
	if (wc_InitSha(&sha) != 0)
		return KITE_ERR_CRYPTO;
	if (wc_ShaUpdate(&sha, d1, (word32)l1) != 0 ||
	    wc_ShaUpdate(&sha, d2, (word32)l2) != 0 ||
	    wc_ShaFinal(&sha, out) != 0)
		goto out;
	r = 0;
out:
	wc_ShaFree(&sha);
	return r;
}

/* ---- key exchange ---- */

/* RFC 3526 3 (group 14) and 4 (group 15); generator 2 */
static const uint8_t modp2048_p[256] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc9, 0x0f, 0xda, 0xa2,
	0x21, 0x68, 0xc2, 0x34, 0xc4, 0xc6, 0x62, 0x8b, 0x80, 0xdc, 0x1c, 0xd1,
	0x29, 0x02, 0x4e, 0x08, 0x8a, 0x67, 0xcc, 0x74, 0x02, 0x0b, 0xbe, 0xa6,
	0x3b, 0x13, 0x9b, 0x22, 0x51, 0x4a, 0x08, 0x79, 0x8e, 0x34, 0x04, 0xdd,
	0xef, 0x95, 0x19, 0xb3, 0xcd, 0x3a, 0x43, 0x1b, 0x30, 0x2b, 0x0a, 0x6d,
	0xf2, 0x5f, 0x14, 0x37, 0x4f, 0xe1, 0x35, 0x6d, 0x6d, 0x51, 0xc2, 0x45,
	0xe4, 0x85, 0xb5, 0x76, 0x62, 0x5e, 0x7e, 0xc6, 0xf4, 0x4c, 0x42, 0xe9,
	0xa6, 0x37, 0xed, 0x6b, 0x0b, 0xff, 0x5c, 0xb6, 0xf4, 0x06, 0xb7, 0xed,
	0xee, 0x38, 0x6b, 0xfb, 0x5a, 0x89, 0x9f, 0xa5, 0xae, 0x9f, 0x24, 0x11,
	0x7c, 0x4b, 0x1f, 0xe6, 0x49, 0x28, 0x66, 0x51, 0xec, 0xe4, 0x5b, 0x3d,
	0xc2, 0x00, 0x7c, 0xb8, 0xa1, 0x63, 0xbf, 0x05, 0x98, 0xda, 0x48, 0x36,
	0x1c, 0x55, 0xd3, 0x9a, 0x69, 0x16, 0x3f, 0xa8, 0xfd, 0x24, 0xcf, 0x5f,
	0x83, 0x65, 0x5d, 0x23, 0xdc, 0xa3, 0xad, 0x96, 0x1c, 0x62, 0xf3, 0x56,
	0x20, 0x85, 0x52, 0xbb, 0x9e, 0xd5, 0x29, 0x07, 0x70, 0x96, 0x96, 0x6d,
	0x67, 0x0c, 0x35, 0x4e, 0x4a, 0xbc, 0x98, 0x04, 0xf1, 0x74, 0x6c, 0x08,
	0xca, 0x18, 0x21, 0x7c, 0x32, 0x90, 0x5e, 0x46, 0x2e, 0x36, 0xce, 0x3b,
	0xe3, 0x9e, 0x77, 0x2c, 0x18, 0x0e, 0x86, 0x03, 0x9b, 0x27, 0x83, 0xa2,
	0xec, 0x07, 0xa2, 0x8f, 0xb5, 0xc5, 0x5d, 0xf0, 0x6f, 0x4c, 0x52, 0xc9,
	0xde, 0x2b, 0xcb, 0xf6, 0x95, 0x58, 0x17, 0x18, 0x39, 0x95, 0x49, 0x7c,
	0xea, 0x95, 0x6a, 0xe5, 0x15, 0xd2, 0x26, 0x18, 0x98, 0xfa, 0x05, 0x10,
	0x15, 0x72, 0x8e, 0x5a, 0x8a, 0xac, 0xaa, 0x68, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff,
};

static const uint8_t modp3072_p[384] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc9, 0x0f, 0xda, 0xa2,
	0x21, 0x68, 0xc2, 0x34, 0xc4, 0xc6, 0x62, 0x8b, 0x80, 0xdc, 0x1c, 0xd1,
	0x29, 0x02, 0x4e, 0x08, 0x8a, 0x67, 0xcc, 0x74, 0x02, 0x0b, 0xbe, 0xa6,
	0x3b, 0x13, 0x9b, 0x22, 0x51, 0x4a, 0x08, 0x79, 0x8e, 0x34, 0x04, 0xdd,
	0xef, 0x95, 0x19, 0xb3, 0xcd, 0x3a, 0x43, 0x1b, 0x30, 0x2b, 0x0a, 0x6d,
	0xf2, 0x5f, 0x14, 0x37, 0x4f, 0xe1, 0x35, 0x6d, 0x6d, 0x51, 0xc2, 0x45,
	0xe4, 0x85, 0xb5, 0x76, 0x62, 0x5e, 0x7e, 0xc6, 0xf4, 0x4c, 0x42, 0xe9,
	0xa6, 0x37, 0xed, 0x6b, 0x0b, 0xff, 0x5c, 0xb6, 0xf4, 0x06, 0xb7, 0xed,
	0xee, 0x38, 0x6b, 0xfb, 0x5a, 0x89, 0x9f, 0xa5, 0xae, 0x9f, 0x24, 0x11,
	0x7c, 0x4b, 0x1f, 0xe6, 0x49, 0x28, 0x66, 0x51, 0xec, 0xe4, 0x5b, 0x3d,
	0xc2, 0x00, 0x7c, 0xb8, 0xa1, 0x63, 0xbf, 0x05, 0x98, 0xda, 0x48, 0x36,
	0x1c, 0x55, 0xd3, 0x9a, 0x69, 0x16, 0x3f, 0xa8, 0xfd, 0x24, 0xcf, 0x5f,
	0x83, 0x65, 0x5d, 0x23, 0xdc, 0xa3, 0xad, 0x96, 0x1c, 0x62, 0xf3, 0x56,
	0x20, 0x85, 0x52, 0xbb, 0x9e, 0xd5, 0x29, 0x07, 0x70, 0x96, 0x96, 0x6d,
	0x67, 0x0c, 0x35, 0x4e, 0x4a, 0xbc, 0x98, 0x04, 0xf1, 0x74, 0x6c, 0x08,
	0xca, 0x18, 0x21, 0x7c, 0x32, 0x90, 0x5e, 0x46, 0x2e, 0x36, 0xce, 0x3b,
	0xe3, 0x9e, 0x77, 0x2c, 0x18, 0x0e, 0x86, 0x03, 0x9b, 0x27, 0x83, 0xa2,
	0xec, 0x07, 0xa2, 0x8f, 0xb5, 0xc5, 0x5d, 0xf0, 0x6f, 0x4c, 0x52, 0xc9,
	0xde, 0x2b, 0xcb, 0xf6, 0x95, 0x58, 0x17, 0x18, 0x39, 0x95, 0x49, 0x7c,
	0xea, 0x95, 0x6a, 0xe5, 0x15, 0xd2, 0x26, 0x18, 0x98, 0xfa, 0x05, 0x10,
	0x15, 0x72, 0x8e, 0x5a, 0x8a, 0xaa, 0xc4, 0x2d, 0xad, 0x33, 0x17, 0x0d,
	0x04, 0x50, 0x7a, 0x33, 0xa8, 0x55, 0x21, 0xab, 0xdf, 0x1c, 0xba, 0x64,
	0xec, 0xfb, 0x85, 0x04, 0x58, 0xdb, 0xef, 0x0a, 0x8a, 0xea, 0x71, 0x57,
	0x5d, 0x06, 0x0c, 0x7d, 0xb3, 0x97, 0x0f, 0x85, 0xa6, 0xe1, 0xe4, 0xc7,
	0xab, 0xf5, 0xae, 0x8c, 0xdb, 0x09, 0x33, 0xd7, 0x1e, 0x8c, 0x94, 0xe0,
	0x4a, 0x25, 0x61, 0x9d, 0xce, 0xe3, 0xd2, 0x26, 0x1a, 0xd2, 0xee, 0x6b,
	0xf1, 0x2f, 0xfa, 0x06, 0xd9, 0x8a, 0x08, 0x64, 0xd8, 0x76, 0x02, 0x73,
	0x3e, 0xc8, 0x6a, 0x64, 0x52, 0x1f, 0x2b, 0x18, 0x17, 0x7b, 0x20, 0x0c,
	0xbb, 0xe1, 0x17, 0x57, 0x7a, 0x61, 0x5d, 0x6c, 0x77, 0x09, 0x88, 0xc0,
	0xba, 0xd9, 0x46, 0xe2, 0x08, 0xe2, 0x4f, 0xa0, 0x74, 0xe5, 0xab, 0x31,
	0x43, 0xdb, 0x5b, 0xfc, 0xe0, 0xfd, 0x10, 0x8e, 0x4b, 0x82, 0xd1, 0x20,
	0xa9, 0x3a, 0xd2, 0xca, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

enum dh_kind {
	DH_MODP = 1,
	DH_ECP,
	DH_X25519,
};

struct dh_group {
	uint16_t	 id;
	enum dh_kind	 kind;
	size_t		 len;		/* KE data length (RFC 7296 3.4) */
	int		 curve;		/* wolfSSL curve id for ECP */
	const uint8_t	*prime;		/* MODP: big-endian, len bytes */
};

static const struct dh_group dh_groups[] = {
	{ IKEV2_DH_MODP_2048, DH_MODP, sizeof(modp2048_p), 0, modp2048_p },
	{ IKEV2_DH_MODP_3072, DH_MODP, sizeof(modp3072_p), 0, modp3072_p },
	{ IKEV2_DH_ECP_256, DH_ECP, 64, ECC_SECP256R1, NULL },	/* RFC 5903 7 */
	{ IKEV2_DH_ECP_384, DH_ECP, 96, ECC_SECP384R1, NULL },
	{ IKEV2_DH_CURVE25519, DH_X25519, CURVE25519_KEYSIZE, 0, NULL },	/* RFC 8031 */
};

struct crypto_dh {
	const struct dh_group	*grp;
	int			 key_init;	/* wolfSSL key needs freeing */
	uint8_t			 pub[DH_MAX_LEN];	/* wire format, grp->len bytes */
	union {
		struct {
			DhKey	 key;
			uint8_t	 priv[DH_MAX_LEN];
			word32	 priv_len;
		} modp;
		ecc_key		 ecc;
		curve25519_key	 x25519;
	} u;
};

static const struct dh_group *dh_group_find(uint16_t group)
{
	size_t i;

	for (i = 0; i < KITE_ARRAY_SIZE(dh_groups); i++)
		if (dh_groups[i].id == group)
			return &dh_groups[i];
	return NULL;
}

int crypto_dh_supported(uint16_t group)
{
	return dh_group_find(group) != NULL;
}

size_t crypto_dh_pub_len(uint16_t group)
{
	const struct dh_group *g = dh_group_find(group);

	return g == NULL ? 0 : g->len;
}

/* Copy a big-endian value into len bytes, left-padded with zeros (RFC 7296 2.14). */
static int be_pad(uint8_t *out, size_t len, const uint8_t *in, size_t in_len)
{
	if (in_len > len)
		return KITE_ERR_CRYPTO;
	memmove(out + (len - in_len), in, in_len);
	memset(out, 0, len - in_len);
	return 0;
}

static int dh_modp_init(struct crypto_dh *dh, const uint8_t *priv, size_t priv_len)
{
	static const uint8_t gen[] = { 2 };
	const struct dh_group *g = dh->grp;
	uint8_t pub[DH_MAX_LEN];
	word32 pub_len = sizeof(pub), plen = sizeof(dh->u.modp.priv);

	if (wc_InitDhKey(&dh->u.modp.key) != 0)
		return KITE_ERR_CRYPTO;
	dh->key_init = 1;
	if (wc_DhSetKey(&dh->u.modp.key, g->prime, (word32)g->len, gen, sizeof(gen)) != 0)
		return KITE_ERR_CRYPTO;
	if (priv == NULL) {
		if (wc_DhGenerateKeyPair(&dh->u.modp.key, &crypto_rng,
		    dh->u.modp.priv, &plen, pub, &pub_len) != 0)
			return KITE_ERR_CRYPTO;
	} else {
		if (priv_len == 0 || priv_len > g->len)
			return KITE_ERR_INVAL;
		memcpy(dh->u.modp.priv, priv, priv_len);
		plen = (word32)priv_len;
		/* No public g^x call in wolfSSL 5.5: agreeing with the generator is one. */
		if (wc_DhAgree(&dh->u.modp.key, pub, &pub_len, dh->u.modp.priv, plen,
		    gen, sizeof(gen)) != 0)
			return KITE_ERR_CRYPTO;
	}
	dh->u.modp.priv_len = plen;
	return be_pad(dh->pub, g->len, pub, pub_len);
}

static int dh_ecp_init(struct crypto_dh *dh, const uint8_t *priv, size_t priv_len)
{
	const struct dh_group *g = dh->grp;
	word32 flen = (word32)(g->len / 2), xl = flen, yl = flen;
	ecc_key *k = &dh->u.ecc;

	if (wc_ecc_init(k) != 0)
		return KITE_ERR_CRYPTO;
	dh->key_init = 1;
	if (priv == NULL) {
		if (wc_ecc_make_key_ex(&crypto_rng, (int)flen, k, g->curve) != 0)
			return KITE_ERR_CRYPTO;
	} else {
		if (priv_len != flen)
			return KITE_ERR_INVAL;
		if (wc_ecc_import_private_key_ex(priv, flen, NULL, 0, k, g->curve) != 0 ||
		    wc_ecc_make_pub(k, NULL) != 0 ||
		    wc_ecc_check_key(k) != 0)
			return KITE_ERR_CRYPTO;
	}
	/* ECC_TIMING_RESISTANT builds refuse ECDH without an RNG for blinding */
	if (wc_ecc_set_rng(k, &crypto_rng) != 0)
		return KITE_ERR_CRYPTO;
	/* KE data is x | y without the 0x04 prefix (RFC 5903 7) */
	if (wc_ecc_export_public_raw(k, dh->pub, &xl, dh->pub + flen, &yl) != 0 ||
	    xl != flen || yl != flen)
		return KITE_ERR_CRYPTO;
	return 0;
}

static int dh_x25519_init(struct crypto_dh *dh, const uint8_t *priv, size_t priv_len)
{
	curve25519_key *k = &dh->u.x25519;
	word32 len = CURVE25519_KEYSIZE;

	if (wc_curve25519_init(k) != 0)
		return KITE_ERR_CRYPTO;
	dh->key_init = 1;
	if (priv == NULL) {
		if (wc_curve25519_make_key(&crypto_rng, CURVE25519_KEYSIZE, k) != 0)
			return KITE_ERR_CRYPTO;
	} else {
		if (priv_len != CURVE25519_KEYSIZE)
			return KITE_ERR_INVAL;
		/* The import clamps the scalar, as X25519 itself does (RFC 7748 5). */
		if (wc_curve25519_import_private_ex(priv, CURVE25519_KEYSIZE, k,
		    EC25519_LITTLE_ENDIAN) != 0)
			return KITE_ERR_CRYPTO;
	}
	/* wolfSSL defaults to big-endian; the wire format is RFC 7748's little-endian */
	if (wc_curve25519_export_public_ex(k, dh->pub, &len, EC25519_LITTLE_ENDIAN) != 0 ||
	    len != CURVE25519_KEYSIZE)
		return KITE_ERR_CRYPTO;
	return 0;
}

static struct crypto_dh *dh_new(uint16_t group, const uint8_t *priv, size_t priv_len)
{
	struct crypto_dh *dh = NULL, *ret = NULL;
	const struct dh_group *g;
	int r;

	if ((g = dh_group_find(group)) == NULL) {
		log_debug("group %u not supported", group);
		return NULL;
	}
	if (!crypto_ready) {
		log_err("crypto_init has not run");
		return NULL;
	}
	if ((dh = calloc(1, sizeof(*dh))) == NULL)
		return NULL;
	dh->grp = g;
	switch (g->kind) {
	case DH_MODP:
		r = dh_modp_init(dh, priv, priv_len);
		break;
	case DH_ECP:
		r = dh_ecp_init(dh, priv, priv_len);
		break;
	case DH_X25519:
		r = dh_x25519_init(dh, priv, priv_len);
		break;
	default:
		r = KITE_ERR_UNSUPPORTED;
		break;
	}
	if (r != 0) {
		log_debug("group %u: key generation failed (%d)", group, r);
		goto out;
	}
	ret = dh;
	dh = NULL;
out:
	crypto_dh_free(dh);
	return ret;
}

struct crypto_dh *crypto_dh_new(uint16_t group)
{
	return dh_new(group, NULL, 0);
}

struct crypto_dh *crypto_dh_new_priv(uint16_t group, const uint8_t *priv, size_t priv_len)
{
	if (priv == NULL)
		return NULL;
	return dh_new(group, priv, priv_len);
}

uint16_t crypto_dh_group(const struct crypto_dh *dh)
{
	return dh == NULL ? IKEV2_DH_NONE : dh->grp->id;
}

int crypto_dh_pub(const struct crypto_dh *dh, uint8_t *out, size_t *len)
{
	if (dh == NULL || out == NULL || len == NULL)
		return KITE_ERR_INVAL;
	if (*len < dh->grp->len)
		return KITE_ERR_INVAL;
	memcpy(out, dh->pub, dh->grp->len);
	*len = dh->grp->len;
	return 0;
}

static int dh_modp_shared(struct crypto_dh *dh, const uint8_t *peer, uint8_t *out)
{
	const struct dh_group *g = dh->grp;
	uint8_t z[DH_MAX_LEN];
	word32 zlen = sizeof(z);
	int r = KITE_ERR_CRYPTO;

	/* 1 < y < p-1 (RFC 6989 2.1); wc_DhAgree does not check unless
	 * WOLFSSL_VALIDATE_FFC_IMPORT, which neither build defines. */
	if (wc_DhCheckPubValue(g->prime, (word32)g->len, peer, (word32)g->len) != 0)
		return KITE_ERR_VERIFY;
	if (wc_DhAgree(&dh->u.modp.key, z, &zlen, dh->u.modp.priv,
	    dh->u.modp.priv_len, peer, (word32)g->len) != 0)
		goto out;
	r = be_pad(out, g->len, z, zlen);
out:
	crypto_wipe(z, sizeof(z));
	return r;
}

static int dh_ecp_shared(struct crypto_dh *dh, const uint8_t *peer, uint8_t *out)
{
	const struct dh_group *g = dh->grp;
	size_t flen = g->len / 2;
	uint8_t z[DH_MAX_LEN];
	word32 zlen = sizeof(z);
	ecc_key pk;
	int r = KITE_ERR_VERIFY;

	if (wc_ecc_init(&pk) != 0)
		return KITE_ERR_CRYPTO;
	/* Import refuses (0, 0); check_key refuses coordinates >= p, points
	 * off the curve and points whose order is not n (SP 800-56A 5.6.2.3.3). */
	if (wc_ecc_import_unsigned(&pk, peer, peer + flen, NULL, g->curve) != 0 ||
	    wc_ecc_check_key(&pk) != 0)
		goto out;
	r = KITE_ERR_CRYPTO;
	if (wc_ecc_shared_secret(&dh->u.ecc, &pk, z, &zlen) != 0)
		goto out;
	/* The secret is the x coordinate, field-size bytes (RFC 5903 7) */
	r = be_pad(out, flen, z, zlen);
out:
	wc_ecc_free(&pk);
	crypto_wipe(z, sizeof(z));
	return r;
}

static int dh_x25519_shared(struct crypto_dh *dh, const uint8_t *peer, uint8_t *out)
{
	uint8_t u[CURVE25519_KEYSIZE], acc = 0;
	word32 len = CURVE25519_KEYSIZE;
	curve25519_key pk;
	size_t i;
	int r = KITE_ERR_CRYPTO;

	/* Receivers MUST mask the top bit (RFC 7748 5); wolfSSL instead
	 * rejects such values. */
	memcpy(u, peer, sizeof(u));
	u[CURVE25519_KEYSIZE - 1] &= 0x7f;
	if (wc_curve25519_init(&pk) != 0)
		return KITE_ERR_CRYPTO;
	if (wc_curve25519_import_public_ex(u, sizeof(u), &pk, EC25519_LITTLE_ENDIAN) != 0 ||
	    wc_curve25519_shared_secret_ex(&dh->u.x25519, &pk, out, &len,
	    EC25519_LITTLE_ENDIAN) != 0 || len != CURVE25519_KEYSIZE)
		goto out;
	/* Low-order points give all zeros (RFC 7748 6.1); this wolfSSL build
	 * only checks with WOLFSSL_ECDHX_SHARED_NOT_ZERO. */
	for (i = 0; i < CURVE25519_KEYSIZE; i++)
		acc |= out[i];
	r = acc == 0 ? KITE_ERR_VERIFY : 0;
out:
	if (r != 0)
		crypto_wipe(out, CURVE25519_KEYSIZE);
	wc_curve25519_free(&pk);
	return r;
}

int crypto_dh_shared(struct crypto_dh *dh, const uint8_t *peer, size_t peer_len,
		     uint8_t *out, size_t *out_len)
{
	size_t cap, slen;
	int r;

	if (out_len == NULL)
		return KITE_ERR_INVAL;
	cap = *out_len;
	*out_len = 0;
	if (dh == NULL || peer == NULL || out == NULL)
		return KITE_ERR_INVAL;
	/* ECP secrets are the x coordinate only (RFC 5903 7) */
	slen = dh->grp->kind == DH_ECP ? dh->grp->len / 2 : dh->grp->len;
	if (cap < slen)
		return KITE_ERR_INVAL;
	if (peer_len != dh->grp->len) {
		log_debug("group %u: KE data is %zu bytes, want %zu",
			  dh->grp->id, peer_len, dh->grp->len);
		return KITE_ERR_VERIFY;
	}
	switch (dh->grp->kind) {
	case DH_MODP:
		r = dh_modp_shared(dh, peer, out);
		break;
	case DH_ECP:
		r = dh_ecp_shared(dh, peer, out);
		break;
	case DH_X25519:
		r = dh_x25519_shared(dh, peer, out);
		break;
	default:
		return KITE_ERR_UNSUPPORTED;
	}
	if (r != 0) {
		log_debug("group %u: %s", dh->grp->id,
			  r == KITE_ERR_VERIFY ? "peer public value rejected" : "failed");
		return r;
	}
	*out_len = slen;
	return 0;
}

void crypto_dh_free(struct crypto_dh *dh)
{
	if (dh == NULL)
		return;
	if (dh->key_init) {
		switch (dh->grp->kind) {
		case DH_MODP:
			wc_FreeDhKey(&dh->u.modp.key);
			break;
		case DH_ECP:
			wc_ecc_free(&dh->u.ecc);
			break;
		case DH_X25519:
			wc_curve25519_free(&dh->u.x25519);
			break;
		}
	}
	crypto_wipe(dh, sizeof(*dh));
	free(dh);
}

/* ---- SK payload / ESP protection ---- */

enum aead_kind {
	AEAD_GCM = 1,
	AEAD_CHACHA,
	AEAD_CBC_HMAC,
};

struct crypto_aead {
	enum aead_kind	 kind;
	int		 hmac_type;
	size_t		 icv_len;
	uint8_t		 salt[AEAD_SALT_LEN];
	int		 init;		/* wolfSSL contexts need freeing */
	union {
		Aes	 gcm;
		ChaCha	 chacha;	/* key set once; nonce per packet */
		struct {
			Aes	 enc;
			Aes	 dec;
			Hmac	 hmac;	/* keyed once; wolfSSL keeps the pads */
		} cbc;
	} u;
};

static size_t aes_key_len(uint16_t key_bits)
{
	switch (key_bits) {
	case 128:
		return 16;
	case 256:
		return 32;
	default:
		return 0;
	}
}

size_t crypto_aead_enc_key_len(uint16_t encr, uint16_t key_bits)
{
	size_t k;

	switch (encr) {
	case IKEV2_ENCR_AES_GCM_16:
		k = aes_key_len(key_bits);
		return k == 0 ? 0 : k + AEAD_SALT_LEN;
	case IKEV2_ENCR_CHACHA20_POLY1305:
		/* RFC 7634 2: no Key Length attribute; 256 accepted when sent */
		return key_bits == 0 || key_bits == 256 ?
		    CHACHA_MAX_KEY_SZ + AEAD_SALT_LEN : 0;
	case IKEV2_ENCR_AES_CBC:
		return aes_key_len(key_bits);
	default:
		return 0;
	}
}

static int integ_hmac(uint16_t integ, int *type, size_t *icv_len)
{
	switch (integ) {
	case IKEV2_INTEG_HMAC_SHA2_256_128:	/* RFC 4868 2.3 */
		*type = WC_SHA256;
		*icv_len = 16;
		return 32;
	case IKEV2_INTEG_HMAC_SHA2_384_192:
		*type = WC_SHA384;
		*icv_len = 24;
		return 48;
	case IKEV2_INTEG_HMAC_SHA2_512_256:
		*type = WC_SHA512;
		*icv_len = 32;
		return 64;
	default:
		return 0;
	}
}

size_t crypto_aead_integ_key_len(uint16_t integ)
{
	size_t icv_len;
	int type;

	return (size_t)integ_hmac(integ, &type, &icv_len);
}

int crypto_encr_is_aead(uint16_t encr)
{
	switch (encr) {
	case IKEV2_ENCR_AES_GCM_8:
	case IKEV2_ENCR_AES_GCM_12:
	case IKEV2_ENCR_AES_GCM_16:
	case IKEV2_ENCR_CHACHA20_POLY1305:
		return 1;
	default:
		return 0;
	}
}

struct crypto_aead *crypto_aead_new(uint16_t encr, uint16_t key_bits, uint16_t integ,
				    const uint8_t *enc_key, const uint8_t *integ_key)
{
	struct crypto_aead *a = NULL, *ret = NULL;
	size_t klen, ilen = 0;

	if ((klen = crypto_aead_enc_key_len(encr, key_bits)) == 0 || enc_key == NULL) {
		log_debug("encr %u/%u not supported", encr, key_bits);
		return NULL;
	}
	if (crypto_encr_is_aead(encr) != (integ == IKEV2_INTEG_NONE)) {
		log_debug("encr %u with integ %u not allowed", encr, integ);
		return NULL;
	}
	if (integ != IKEV2_INTEG_NONE &&
	    ((ilen = crypto_aead_integ_key_len(integ)) == 0 || integ_key == NULL)) {
		log_debug("integ %u not supported", integ);
		return NULL;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	switch (encr) {
	case IKEV2_ENCR_AES_GCM_16:
		a->kind = AEAD_GCM;
		a->icv_len = AEAD_ICV_LEN;
		memcpy(a->salt, enc_key + klen - AEAD_SALT_LEN, AEAD_SALT_LEN);
		if (wc_AesInit(&a->u.gcm, NULL, INVALID_DEVID) != 0)
			goto out;
		a->init = 1;
		if (wc_AesGcmSetKey(&a->u.gcm, enc_key, (word32)(klen - AEAD_SALT_LEN)) != 0)
			goto out;
		break;
	case IKEV2_ENCR_CHACHA20_POLY1305:
		a->kind = AEAD_CHACHA;
		a->icv_len = AEAD_ICV_LEN;
		memcpy(a->salt, enc_key + klen - AEAD_SALT_LEN, AEAD_SALT_LEN);
		if (wc_Chacha_SetKey(&a->u.chacha, enc_key, CHACHA_MAX_KEY_SZ) != 0)
			goto out;
		break;
	case IKEV2_ENCR_AES_CBC:
		a->kind = AEAD_CBC_HMAC;
		(void)integ_hmac(integ, &a->hmac_type, &a->icv_len);
		if (wc_AesInit(&a->u.cbc.enc, NULL, INVALID_DEVID) != 0)
			goto out;
		if (wc_AesInit(&a->u.cbc.dec, NULL, INVALID_DEVID) != 0) {
			wc_AesFree(&a->u.cbc.enc);
			goto out;
		}
		if (wc_HmacInit(&a->u.cbc.hmac, NULL, INVALID_DEVID) != 0) {
			wc_AesFree(&a->u.cbc.enc);
			wc_AesFree(&a->u.cbc.dec);
			goto out;
		}
		a->init = 1;
		if (wc_AesSetKey(&a->u.cbc.enc, enc_key, (word32)klen, NULL, AES_ENCRYPTION) != 0 ||
		    wc_AesSetKey(&a->u.cbc.dec, enc_key, (word32)klen, NULL, AES_DECRYPTION) != 0 ||
		    wc_HmacSetKey(&a->u.cbc.hmac, a->hmac_type, integ_key, (word32)ilen) != 0)
			goto out;
		break;
	default:
		goto out;
	}
	ret = a;
	a = NULL;
out:
	if (ret == NULL)
		log_debug("encr %u: backend setup failed", encr);
	crypto_aead_free(a);
	return ret;
}

size_t crypto_aead_iv_len(const struct crypto_aead *a)
{
	if (a == NULL)
		return 0;
	return a->kind == AEAD_CBC_HMAC ? CBC_IV_LEN : AEAD_IV_LEN;
}

size_t crypto_aead_icv_len(const struct crypto_aead *a)
{
	return a == NULL ? 0 : a->icv_len;
}

size_t crypto_aead_block_len(const struct crypto_aead *a)
{
	if (a == NULL)
		return 0;
	return a->kind == AEAD_CBC_HMAC ? AES_BLOCK_SIZE : 1;
}

static int aead_args_ok(const struct crypto_aead *a, const uint8_t *iv, const uint8_t *aad,
			size_t aad_len, const uint8_t *buf, size_t len, const uint8_t *icv)
{
	if (a == NULL || iv == NULL || icv == NULL ||
	    !len_ok(aad, aad_len) || !len_ok(buf, len))
		return 0;
	if (a->kind == AEAD_CBC_HMAC && len % AES_BLOCK_SIZE != 0)
		return 0;
	return 1;
}

/* RFC 8439 2.8: one-time Poly1305 key from block 0, MAC over the ciphertext. */
static int chacha_poly_tag(struct crypto_aead *a, const uint8_t *nonce, const uint8_t *aad,
			   size_t aad_len, const uint8_t *ct, size_t len, uint8_t tag[AEAD_ICV_LEN])
{
	static const uint8_t zero[CHACHA_CHUNK_BYTES];
	uint8_t otk[CHACHA_CHUNK_BYTES];
	Poly1305 poly;
	int r = KITE_ERR_CRYPTO;

	if (wc_Chacha_SetIV(&a->u.chacha, nonce, 0) != 0 ||
	    wc_Chacha_Process(&a->u.chacha, otk, zero, sizeof(otk)) != 0 ||
	    wc_Poly1305SetKey(&poly, otk, 32) != 0 ||
	    wc_Poly1305Update(&poly, aad, (word32)aad_len) != 0 ||
	    wc_Poly1305_Pad(&poly, (word32)aad_len) != 0 ||
	    wc_Poly1305Update(&poly, ct, (word32)len) != 0 ||
	    wc_Poly1305_Pad(&poly, (word32)len) != 0 ||
	    wc_Poly1305_EncodeSizes(&poly, (word32)aad_len, (word32)len) != 0 ||
	    wc_Poly1305Final(&poly, tag) != 0)
		goto out;
	r = 0;
out:
	crypto_wipe(otk, sizeof(otk));
	crypto_wipe(&poly, sizeof(poly));
	return r;
}

static int chacha_xor(struct crypto_aead *a, const uint8_t *nonce, uint8_t *buf, size_t len)
{
	if (len == 0)
		return 0;
	if (wc_Chacha_SetIV(&a->u.chacha, nonce, 1) != 0 ||
	    wc_Chacha_Process(&a->u.chacha, buf, buf, (word32)len) != 0)
		return KITE_ERR_CRYPTO;
	return 0;
}

static int cbc_icv(struct crypto_aead *a, const uint8_t *aad, size_t aad_len,
		   const uint8_t *iv, const uint8_t *ct, size_t len, uint8_t *full)
{
	if (wc_HmacUpdate(&a->u.cbc.hmac, aad, (word32)aad_len) != 0 ||
	    wc_HmacUpdate(&a->u.cbc.hmac, iv, CBC_IV_LEN) != 0 ||
	    wc_HmacUpdate(&a->u.cbc.hmac, ct, (word32)len) != 0 ||
	    wc_HmacFinal(&a->u.cbc.hmac, full) != 0)
		return KITE_ERR_CRYPTO;
	return 0;
}

int crypto_aead_seal(struct crypto_aead *a, const uint8_t *iv,
		     const uint8_t *aad, size_t aad_len,
		     uint8_t *buf, size_t len, uint8_t *icv)
{
	uint8_t nonce[AEAD_NONCE_LEN], full[WC_MAX_DIGEST_SIZE], dummy = 0;
	int r = KITE_ERR_CRYPTO;

	if (!aead_args_ok(a, iv, aad, aad_len, buf, len, icv))
		return KITE_ERR_INVAL;
	switch (a->kind) {
	case AEAD_GCM:
		/* nonce = salt | IV (RFC 4106 4) */
		memcpy(nonce, a->salt, AEAD_SALT_LEN);
		memcpy(nonce + AEAD_SALT_LEN, iv, AEAD_IV_LEN);
		if (buf == NULL)
			buf = &dummy;
		if (wc_AesGcmEncrypt(&a->u.gcm, buf, buf, (word32)len, nonce,
		    sizeof(nonce), icv, AEAD_ICV_LEN, aad, (word32)aad_len) != 0)
			goto out;
		break;
	case AEAD_CHACHA:
		/* nonce = salt | IV (RFC 7634 2) */
		memcpy(nonce, a->salt, AEAD_SALT_LEN);
		memcpy(nonce + AEAD_SALT_LEN, iv, AEAD_IV_LEN);
		if (chacha_xor(a, nonce, buf, len) != 0 ||
		    chacha_poly_tag(a, nonce, aad, aad_len, buf, len, icv) != 0)
			goto out;
		break;
	case AEAD_CBC_HMAC:
		if (len > 0 &&
		    (wc_AesSetIV(&a->u.cbc.enc, iv) != 0 ||
		    wc_AesCbcEncrypt(&a->u.cbc.enc, buf, buf, (word32)len) != 0))
			goto out;
		if (cbc_icv(a, aad, aad_len, iv, buf, len, full) != 0)
			goto out;
		memcpy(icv, full, a->icv_len);
		break;
	}
	r = 0;
out:
	crypto_wipe(full, sizeof(full));
	return r;
}

int crypto_aead_open(struct crypto_aead *a, const uint8_t *iv,
		     const uint8_t *aad, size_t aad_len,
		     uint8_t *buf, size_t len, const uint8_t *icv)
{
	uint8_t nonce[AEAD_NONCE_LEN], full[WC_MAX_DIGEST_SIZE], dummy = 0;
	uint8_t tag[AEAD_ICV_LEN];
	int r = KITE_ERR_CRYPTO, wr;

	if (!aead_args_ok(a, iv, aad, aad_len, buf, len, icv))
		return KITE_ERR_INVAL;
	switch (a->kind) {
	case AEAD_GCM:
		memcpy(nonce, a->salt, AEAD_SALT_LEN);
		memcpy(nonce + AEAD_SALT_LEN, iv, AEAD_IV_LEN);
		if (buf == NULL)
			buf = &dummy;
		/* wolfSSL decrypts into buf before it compares the tag. */
		wr = wc_AesGcmDecrypt(&a->u.gcm, buf, buf, (word32)len, nonce,
		    sizeof(nonce), icv, AEAD_ICV_LEN, aad, (word32)aad_len);
		if (wr == AES_GCM_AUTH_E) {
			/* CTR is its own inverse: put the ciphertext back so no
			 * unauthenticated plaintext is left behind. */
			if (wc_AesGcmEncrypt(&a->u.gcm, buf, buf, (word32)len, nonce,
			    sizeof(nonce), tag, AEAD_ICV_LEN, aad, (word32)aad_len) != 0) {
				crypto_wipe(buf, len);
				goto out;
			}
			r = KITE_ERR_VERIFY;
			goto out;
		}
		if (wr != 0)
			goto out;
		break;
	case AEAD_CHACHA:
		memcpy(nonce, a->salt, AEAD_SALT_LEN);
		memcpy(nonce + AEAD_SALT_LEN, iv, AEAD_IV_LEN);
		if (chacha_poly_tag(a, nonce, aad, aad_len, buf, len, tag) != 0)
			goto out;
		if (!crypto_ct_eq(tag, icv, AEAD_ICV_LEN)) {
			r = KITE_ERR_VERIFY;
			goto out;
		}
		if (chacha_xor(a, nonce, buf, len) != 0)
			goto out;
		break;
	case AEAD_CBC_HMAC:
		/* Encrypt-then-MAC: verify before touching the ciphertext */
		if (cbc_icv(a, aad, aad_len, iv, buf, len, full) != 0)
			goto out;
		if (!crypto_ct_eq(full, icv, a->icv_len)) {
			r = KITE_ERR_VERIFY;
			goto out;
		}
		if (len > 0 &&
		    (wc_AesSetIV(&a->u.cbc.dec, iv) != 0 ||
		    wc_AesCbcDecrypt(&a->u.cbc.dec, buf, buf, (word32)len) != 0))
			goto out;
		break;
	}
	r = 0;
out:
	crypto_wipe(full, sizeof(full));
	crypto_wipe(tag, sizeof(tag));
	return r;
}

void crypto_aead_free(struct crypto_aead *a)
{
	if (a == NULL)
		return;
	if (a->init) {
		switch (a->kind) {
		case AEAD_GCM:
			wc_AesFree(&a->u.gcm);
			break;
		case AEAD_CHACHA:
			break;
		case AEAD_CBC_HMAC:
			wc_AesFree(&a->u.cbc.enc);
			wc_AesFree(&a->u.cbc.dec);
			wc_HmacFree(&a->u.cbc.hmac);
			break;
		}
	}
	crypto_wipe(a, sizeof(*a));
	free(a);
}

/* ---- startup ---- */

/* RFC 4231 4.3 (test case 2), HMAC-SHA-256 */
static int selftest_hmac(void)
{
	static const uint8_t key[] = "Jefe";
	static const uint8_t data[] = "what do ya want for nothing?";
	static const uint8_t want[32] = {
		0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26,
		0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83,
		0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43,
	};
	uint8_t out[32];

	if (crypto_prf(IKEV2_PRF_HMAC_SHA2_256, key, sizeof(key) - 1,
	    data, sizeof(data) - 1, NULL, 0, out) != 0)
		return KITE_ERR_CRYPTO;
	return crypto_ct_eq(out, want, sizeof(want)) ? 0 : KITE_ERR_CRYPTO;
}

/* McGrew & Viega, "The Galois/Counter Mode of Operation", test case 2
 * (K, IV, P all zero), through the same path ESP and SK payloads use. */
static int selftest_gcm(void)
{
	static const uint8_t key[16 + AEAD_SALT_LEN];
	static const uint8_t iv[AEAD_IV_LEN];
	static const uint8_t want_c[16] = {
		0x03, 0x88, 0xda, 0xce, 0x60, 0xb6, 0xa3, 0x92,
		0xf3, 0x28, 0xc2, 0xb9, 0x71, 0xb2, 0xfe, 0x78,
	};
	static const uint8_t want_t[16] = {
		0xab, 0x6e, 0x47, 0xd4, 0x2c, 0xec, 0x13, 0xbd,
		0xf5, 0x3a, 0x67, 0xb2, 0x12, 0x57, 0xbd, 0xdf,
	};
	static const uint8_t zero[16];
	uint8_t buf[16] = { 0 }, tag[16];
	struct crypto_aead *a;
	int r = KITE_ERR_CRYPTO;

	if ((a = crypto_aead_new(IKEV2_ENCR_AES_GCM_16, 128, IKEV2_INTEG_NONE,
	    key, NULL)) == NULL)
		return KITE_ERR_CRYPTO;
	if (crypto_aead_seal(a, iv, NULL, 0, buf, sizeof(buf), tag) != 0 ||
	    !crypto_ct_eq(buf, want_c, sizeof(buf)) ||
	    !crypto_ct_eq(tag, want_t, sizeof(tag)) ||
	    crypto_aead_open(a, iv, NULL, 0, buf, sizeof(buf), tag) != 0 ||
	    !crypto_ct_eq(buf, zero, sizeof(buf)))
		goto out;
	/* and a forged tag must be refused */
	memcpy(buf, want_c, sizeof(buf));
	tag[0] ^= 1;
	if (crypto_aead_open(a, iv, NULL, 0, buf, sizeof(buf), tag) != KITE_ERR_VERIFY)
		goto out;
	r = 0;
out:
	crypto_aead_free(a);
	return r;
}

int crypto_init(void)
{
	if (crypto_ready)
		return 0;
	if (wolfCrypt_Init() != 0) {
		log_err("wolfCrypt_Init failed");
		return KITE_ERR_CRYPTO;
	}
	if (wc_InitRng(&crypto_rng) != 0) {
		log_err("RNG initialisation failed");
		wolfCrypt_Cleanup();
		return KITE_ERR_CRYPTO;
	}
	/* Fail closed: a build that gets these wrong must not run. */
	if (selftest_hmac() != 0 || selftest_gcm() != 0) {
		log_err("%s: known-answer self-test failed", crypto_version());
		wc_FreeRng(&crypto_rng);
		wolfCrypt_Cleanup();
		return KITE_ERR_CRYPTO;
	}
	crypto_ready = 1;
	log_debug("%s", crypto_version());
	return 0;
}

void crypto_fini(void)
{
	if (!crypto_ready)
		return;
	wc_FreeRng(&crypto_rng);
	crypto_wipe(&crypto_rng, sizeof(crypto_rng));
	wolfCrypt_Cleanup();
	crypto_ready = 0;
}

/* ---- legacy primitives for EAP (never IKE/ESP algorithms) ---- */

#include <wolfssl/wolfcrypt/md4.h>
#include <wolfssl/wolfcrypt/md5.h>
#include <wolfssl/wolfcrypt/des3.h>

int crypto_md4(const uint8_t *data, size_t len, uint8_t out[16])
{
#ifndef NO_MD4
	Md4 md4;

	if (out == NULL || !len_ok(data, len))
		return KITE_ERR_INVAL;
	wc_InitMd4(&md4);
	wc_Md4Update(&md4, data, (word32)len);
	wc_Md4Final(&md4, out);
	crypto_wipe(&md4, sizeof(md4));
	return 0;
#else
	return KITE_ERR_UNSUPPORTED;
#endif
}

int crypto_md5(const uint8_t *d1, size_t l1, const uint8_t *d2, size_t l2,
	       const uint8_t *d3, size_t l3, uint8_t out[16])
{
#ifndef NO_MD5
	wc_Md5 md5;
	int r = KITE_ERR_CRYPTO;

	if (out == NULL || !len_ok(d1, l1) || !len_ok(d2, l2) || !len_ok(d3, l3))
		return KITE_ERR_INVAL;
	if (wc_InitMd5(&md5) != 0)
		return KITE_ERR_CRYPTO;
	if (wc_Md5Update(&md5, d1, (word32)l1) != 0 ||
	    wc_Md5Update(&md5, d2, (word32)l2) != 0 ||
	    wc_Md5Update(&md5, d3, (word32)l3) != 0 ||
	    wc_Md5Final(&md5, out) != 0)
		goto out;
	r = 0;
out:
	wc_Md5Free(&md5);
	/* EAP-MD5 hashes the password: leave none of it in the context */
	crypto_wipe(&md5, sizeof(md5));
	return r;
#else
	return KITE_ERR_UNSUPPORTED;
#endif
}

int crypto_des_ecb_encrypt(const uint8_t *key, size_t key_len, const uint8_t in[8],
			   uint8_t out[8])
{
#ifndef NO_DES3
	static const uint8_t zero_iv[DES_BLOCK_SIZE];
	uint8_t k[DES_BLOCK_SIZE];
	unsigned i, bit, v, p;
	Des des;
	int r = KITE_ERR_CRYPTO;

	if (key == NULL || in == NULL || out == NULL)
		return KITE_ERR_INVAL;
	if (key_len == 8) {
		memcpy(k, key, 8);
	} else if (key_len == 7) {
		/* 7 bits of key per byte, high bits first; the low bit is odd parity */
		for (i = 0; i < 8; i++) {
			bit = 7 * i;
			v = ((unsigned)key[bit / 8] << 8 |
			    (bit / 8 + 1 < 7 ? key[bit / 8 + 1] : 0)) >> (9 - bit % 8);
			v &= 0x7f;
			p = v ^ (v >> 4);
			p ^= p >> 2;
			p ^= p >> 1;
			k[i] = (uint8_t)(v << 1 | (~p & 1));
		}
	} else {
		return KITE_ERR_INVAL;
	}
	/* One block of CBC with a zero IV is ECB (wc_Des_EcbEncrypt is not in every build). */
	if (wc_Des_SetKey(&des, k, zero_iv, DES_ENCRYPTION) != 0 ||
	    wc_Des_CbcEncrypt(&des, out, in, DES_BLOCK_SIZE) != 0)
		goto out;
	r = 0;
out:
	crypto_wipe(k, sizeof(k));
	crypto_wipe(&des, sizeof(des));
	return r;
#else
	return KITE_ERR_UNSUPPORTED;
#endif
}
