/*
 * test_crypto: known-answer tests for crypto.c. Every vector names its source;
 * the rest are properties (round trips, tampering, rejected inputs).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "kite.h"
#include "ikev2.h"
#include "crypto.h"

#define HEXMAX	512

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex to bytes; spaces are skipped so RFC-style groups can be pasted. */
static size_t unhex(uint8_t *out, size_t max, const char *s)
{
	size_t n = 0;
	int hi = -1, v;

	for (; *s != '\0'; s++) {
		if (*s == ' ')
			continue;
		v = hexval(*s);
		assert_true(v >= 0);
		if (hi < 0) {
			hi = v;
			continue;
		}
		assert_true(n < max);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	assert_int_equal(hi, -1);
	return n;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want_hex)
{
	uint8_t want[HEXMAX];
	size_t n = unhex(want, sizeof(want), want_hex);

	assert_int_equal(len, n);
	assert_memory_equal(got, want, n);
}

static int setup(void **state)
{
	return crypto_init() == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	crypto_fini();
	return 0;
}

/* ---- basics ---- */

static void test_version_matches_build(void **state)
{
	const char *v = crypto_version();

	assert_non_null(v);
	assert_memory_equal(v, "wolfSSL 5.", 10);
	if (crypto_has_asm())
		assert_non_null(strstr(v, "AES-NI"));
	else
		assert_non_null(strstr(v, "(no asm)"));
}

static void test_init_is_idempotent(void **state)
{
	assert_int_equal(crypto_init(), 0);
}

static void test_ct_eq_compares_every_byte(void **state)
{
	uint8_t a[64], b[64];
	size_t i;

	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	assert_int_equal(crypto_ct_eq(a, b, sizeof(a)), 1);
	assert_int_equal(crypto_ct_eq(a, b, 0), 1);
	for (i = 0; i < sizeof(a); i++) {
		b[i] ^= 0x80;
		assert_int_equal(crypto_ct_eq(a, b, sizeof(a)), 0);
		b[i] ^= 0x80;
	}
}

static void test_wipe_zeroes(void **state)
{
	uint8_t buf[33], zero[33] = { 0 };

	memset(buf, 0xff, sizeof(buf));
	crypto_wipe(buf, sizeof(buf));
	assert_memory_equal(buf, zero, sizeof(buf));
	crypto_wipe(NULL, 0);
}

static void test_random_fills_large_buffers(void **state)
{
	/* larger than wolfSSL's per-call RNG_MAX_BLOCK_LEN (64 KiB) */
	size_t len = 70000, i, nz = 0;
	uint8_t *a = calloc(1, len), *b = calloc(1, len);

	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(crypto_random(a, len), 0);
	assert_int_equal(crypto_random(b, len), 0);
	assert_memory_not_equal(a, b, 32);
	assert_memory_not_equal(a + len - 32, b + len - 32, 32);
	for (i = len - 4096; i < len; i++)
		nz += a[i] != 0;
	assert_true(nz > 3900);
	assert_int_equal(crypto_random(NULL, 0), 0);
	free(a);
	free(b);
}

/* ---- HMAC-SHA2 as the IKEv2 PRF ---- */

static const uint16_t prf_ids[] = {
	IKEV2_PRF_HMAC_SHA2_256, IKEV2_PRF_HMAC_SHA2_384, IKEV2_PRF_HMAC_SHA2_512,
};

static void check_hmac(const uint8_t *key, size_t key_len, const char *data, const char *want[3])
{
	uint8_t out[CRYPTO_MAX_PRF_LEN];
	size_t i;

	for (i = 0; i < 3; i++) {
		memset(out, 0, sizeof(out));
		assert_int_equal(crypto_prf(prf_ids[i], key, key_len,
		    (const uint8_t *)data, strlen(data), NULL, 0, out), 0);
		assert_hex(out, crypto_prf_len(prf_ids[i]), want[i]);
	}
}

/* RFC 4231 4.2, test case 1 */
static void test_hmac_sha2_rfc4231_case1(void **state)
{
	static const char *want[3] = {
		"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
		"afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
		"faea9ea9076ede7f4af152e8b2fa9cb6",
		"87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
		"daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
	};
	uint8_t key[20];

	memset(key, 0x0b, sizeof(key));
	check_hmac(key, sizeof(key), "Hi There", want);
}

/* RFC 4231 4.3, test case 2 (a 4-byte key: no minimum key length enforced) */
static void test_hmac_sha2_rfc4231_case2(void **state)
{
	static const char *want[3] = {
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		"af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
		"8e2240ca5e69e2c78b3239ecfab21649",
		"164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
		"9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
	};

	check_hmac((const uint8_t *)"Jefe", 4, "what do ya want for nothing?", want);
}

/* RFC 4231 4.7, test case 6 (131-byte key, hashed first) */
static void test_hmac_sha2_rfc4231_case6_long_key(void **state)
{
	static const char *want[3] = {
		"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
		"4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
		"0c2ef6ab4030fe8296248df163f44952",
		"80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
		"6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
	};
	uint8_t key[131];

	memset(key, 0xaa, sizeof(key));
	check_hmac(key, sizeof(key),
	    "Test Using Larger Than Block-Size Key - Hash Key First", want);
}

/* RFC 4231 4.8, test case 7 (long key and long data) */
static void test_hmac_sha2_rfc4231_case7_long_key_and_data(void **state)
{
	static const char *want[3] = {
		"9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
		"6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5"
		"a678cc31e799176d3860e6110c46523e",
		"e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
		"b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58",
	};
	uint8_t key[131];

	memset(key, 0xaa, sizeof(key));
	check_hmac(key, sizeof(key),
	    "This is a test using a larger than block-size key and a larger "
	    "than block-size data. The key needs to be hashed before being "
	    "used by the HMAC algorithm.", want);
}

static void test_prf_two_part_data_equals_one_part(void **state)
{
	static const char data[] = "what do ya want for nothing?";
	uint8_t one[CRYPTO_MAX_PRF_LEN], two[CRYPTO_MAX_PRF_LEN];
	size_t i, split;

	for (i = 0; i < 3; i++) {
		assert_int_equal(crypto_prf(prf_ids[i], (const uint8_t *)"Jefe", 4,
		    (const uint8_t *)data, strlen(data), NULL, 0, one), 0);
		for (split = 0; split <= strlen(data); split += 7) {
			assert_int_equal(crypto_prf(prf_ids[i], (const uint8_t *)"Jefe", 4,
			    (const uint8_t *)data, split,
			    (const uint8_t *)data + split, strlen(data) - split, two), 0);
			assert_memory_equal(one, two, crypto_prf_len(prf_ids[i]));
		}
	}
}

static void test_prf_lengths_and_unsupported_ids(void **state)
{
	uint8_t out[CRYPTO_MAX_PRF_LEN];

	assert_int_equal(crypto_prf_len(IKEV2_PRF_HMAC_SHA2_256), 32);
	assert_int_equal(crypto_prf_len(IKEV2_PRF_HMAC_SHA2_384), 48);
	assert_int_equal(crypto_prf_len(IKEV2_PRF_HMAC_SHA2_512), 64);
	assert_int_equal(crypto_prf_len(IKEV2_PRF_HMAC_SHA1), 0);
	assert_int_equal(crypto_prf_len(IKEV2_PRF_HMAC_MD5), 0);
	assert_int_equal(crypto_prf_len(IKEV2_PRF_AES128_XCBC), 0);
	assert_int_equal(crypto_prf(IKEV2_PRF_HMAC_SHA1, (const uint8_t *)"k", 1,
	    (const uint8_t *)"d", 1, NULL, 0, out), KITE_ERR_UNSUPPORTED);
	assert_int_equal(crypto_prf_plus(IKEV2_PRF_HMAC_MD5, (const uint8_t *)"k", 1,
	    (const uint8_t *)"d", 1, out, 16), KITE_ERR_UNSUPPORTED);
	assert_int_equal(crypto_hash(IKEV2_PRF_HMAC_SHA1, (const uint8_t *)"d", 1, out),
	    KITE_ERR_UNSUPPORTED);
}

/* prf+ against RFC 7296 2.13 built by hand from crypto_prf:
 * T1 = prf(K, S | 0x01), T2 = prf(K, T1 | S | 0x02), T3 = prf(K, T2 | S | 0x03). */
static void test_prf_plus_follows_rfc7296_2_13(void **state)
{
	static const uint8_t key[] = "prf+ key material, 37 bytes long....";
	static const uint8_t seed[] = "Ni | Nr | SPIi | SPIr";
	uint8_t out[3 * CRYPTO_MAX_PRF_LEN], t[3][CRYPTO_MAX_PRF_LEN];
	uint8_t s[sizeof(seed)];
	size_t i, h, slen = sizeof(seed) - 1, n;

	for (i = 0; i < 3; i++) {
		h = crypto_prf_len(prf_ids[i]);
		n = 2 * h + 5;
		memset(out, 0xee, sizeof(out));
		assert_int_equal(crypto_prf_plus(prf_ids[i], key, sizeof(key) - 1,
		    seed, slen, out, n), 0);
		memcpy(s, seed, slen);
		s[slen] = 0x01;
		assert_int_equal(crypto_prf(prf_ids[i], key, sizeof(key) - 1,
		    s, slen + 1, NULL, 0, t[0]), 0);
		s[slen] = 0x02;
		assert_int_equal(crypto_prf(prf_ids[i], key, sizeof(key) - 1,
		    t[0], h, s, slen + 1, t[1]), 0);
		s[slen] = 0x03;
		assert_int_equal(crypto_prf(prf_ids[i], key, sizeof(key) - 1,
		    t[1], h, s, slen + 1, t[2]), 0);
		assert_memory_equal(out, t[0], h);
		assert_memory_equal(out + h, t[1], h);
		assert_memory_equal(out + 2 * h, t[2], 5);
		/* nothing written past out_len */
		assert_int_equal(out[n], 0xee);
	}
}

static void test_prf_plus_length_limit_is_255_blocks(void **state)
{
	size_t max = 255 * 32;
	uint8_t *out = malloc(max + 1), last[32], s[3] = { 's', 0, 0 };

	assert_non_null(out);
	assert_int_equal(crypto_prf_plus(IKEV2_PRF_HMAC_SHA2_256,
	    (const uint8_t *)"k", 1, s, 1, out, max), 0);
	assert_int_equal(crypto_prf_plus(IKEV2_PRF_HMAC_SHA2_256,
	    (const uint8_t *)"k", 1, s, 1, out, max + 1), KITE_ERR_INVAL);
	/* T255 = prf(K, T254 | S | 0xff): the counter is one byte and reaches 255 */
	s[1] = 0xff;
	assert_int_equal(crypto_prf(IKEV2_PRF_HMAC_SHA2_256, (const uint8_t *)"k", 1,
	    out + max - 64, 32, s, 2, last), 0);
	free(out);
	out = malloc(max);
	assert_non_null(out);
	assert_int_equal(crypto_prf_plus(IKEV2_PRF_HMAC_SHA2_256,
	    (const uint8_t *)"k", 1, s, 1, out, max), 0);
	assert_memory_equal(out + max - 32, last, 32);
	free(out);
	assert_int_equal(crypto_prf_plus(IKEV2_PRF_HMAC_SHA2_256,
	    (const uint8_t *)"k", 1, s, 1, NULL, 0), 0);
}

/*
 * NIST CAVP SP 800-135 IKEv2 KDF sample vectors, as carried by NSS
 * (gtests/common/testvectors/ike-sha256-vectors.h and ike-sha384-vectors.h,
 * "these vectors are from this NIST samples", tests 6, 7 and 8):
 *   SKEYSEED  = prf(Ni | Nr, g^ir)                       (RFC 7296 2.14)
 *   DKM       = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)    132 bytes
 *   SKEYSEED' = prf(SK_d, g^ir (new) | Ni | Nr)           (RFC 7296 2.18)
 */
struct kdf_vec {
	uint16_t	 prf;
	const char	*gir, *ni, *nr, *spii, *spir, *skeyseed, *dkm;
	const char	*gir_new, *skeyseed_rekey;
};

static void check_kdf(const struct kdf_vec *v)
{
	uint8_t gir[64], nonces[32], seed[64], key[64], dkm[132], out[64], girn[64];
	size_t glen, nlen, slen, h = crypto_prf_len(v->prf), gnlen;

	glen = unhex(gir, sizeof(gir), v->gir);
	nlen = unhex(nonces, sizeof(nonces), v->ni);
	nlen += unhex(nonces + nlen, sizeof(nonces) - nlen, v->nr);
	assert_int_equal(crypto_prf(v->prf, nonces, nlen, gir, glen, NULL, 0, key), 0);
	assert_hex(key, h, v->skeyseed);

	memcpy(seed, nonces, nlen);
	slen = nlen;
	slen += unhex(seed + slen, sizeof(seed) - slen, v->spii);
	slen += unhex(seed + slen, sizeof(seed) - slen, v->spir);
	assert_int_equal(crypto_prf_plus(v->prf, key, h, seed, slen, dkm, sizeof(dkm)), 0);
	assert_hex(dkm, sizeof(dkm), v->dkm);

	/* SK_d is the first prf-length block of DKM */
	gnlen = unhex(girn, sizeof(girn), v->gir_new);
	assert_int_equal(crypto_prf(v->prf, dkm, h, girn, gnlen, nonces, nlen, out), 0);
	assert_hex(out, h, v->skeyseed_rekey);
}

static void test_ikev2_kdf_sp800_135_hmac_sha256(void **state)
{
	static const struct kdf_vec v = {
		IKEV2_PRF_HMAC_SHA2_256,
		"0f4d257d7a58fc4545c7d7a88119eee5d5c9690c5b4c989171d3abbfd99d1d29",
		"3f302be1abcb28e1", "8c332ee006064c9b",
		"40dac39e1e1a8640", "8619a1cf9a6e4c07",
		"5f00d1bd2c58ec224b1e6b71fa0f19a1faa7a193952c444411b47c1a9d8ba6fe",
		"0b137d669b0947d7d026d593f0305ad401ff0c471357d695778a9c7f4b4869ece98aca531"
		"188d16041b3bb936d2dbb3b4993a6e768a809160de45d0283f273a6cdf6854379e31be72b"
		"8d3d1fa990cf9c5b015ca9f918a7df6253c958114a09d4e1c19bdcd4db14b29d98db1a74a"
		"d405c588662c14a04d0d36aa4ab55e90f8986d12d4aad",
		"25f3b12d6f282739256e39bf54eda53b60ffcf379bb7bcc90c27b4c4c578616c",
		"2d63f6debc92048b4fef3889c4c99ca67d6496e0fac14a2bca9a2d6566ff2398",
	};

	check_kdf(&v);
}

static void test_ikev2_kdf_sp800_135_hmac_sha384(void **state)
{
	static const struct kdf_vec v = {
		IKEV2_PRF_HMAC_SHA2_384,
		"d3288cd87565101e88fe3bad918f31939d8dd26ff1071f8b2d7f447524e58d7c",
		"fd1b572a8e735591", "6013b0ef88dacd3d",
		"2116ad07ce61f749", "24880e55f11a65b7",
		"69fe7a1ac94adaeb711295f5fe004b1a8d6a0b65d05692758ce8ad2f7a45f59d7d0b596f5"
		"1f7dfcf3330061888f6a94f",
		"4f904c2025c90c817ea5ff9b662a6fdb445a73b57cdf09eacd379b95e1f03cacb04cd6dee"
		"da4f952191dd9bc1f7a9502471a648d74dc06d38112de48a42501f6b1a3ad55c2099cd9a6"
		"48e5f17e5bf3e34bf9b5953decb768a34f875fe2b78dca0c2fcca81ec1a412006dfaed38f"
		"a06882e61f4c148105fb8e231fdb33c4d484c001721d4",
		"3358f620539473aee8d07e779764c4c6a9aabddc79a28e136b3bac021dbde44a",
		"e0548c1682e13bce454026b3b1bdf42985b24e4e7408095a7c529de38c3d1fcb04c9fe686"
		"8042a34c9614c6c99e3fcea",
	};

	check_kdf(&v);
}

/* FIPS 180-2 Appendices A.1, B.1, C.1, D.1 ("abc") */
static void test_hash_fips180_abc(void **state)
{
	static const char *want[3] = {
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
		"8086072ba1e7cc2358baeca134c825a7",
		"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
		"2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
	};
	uint8_t out[CRYPTO_MAX_PRF_LEN];
	size_t i;

	for (i = 0; i < 3; i++) {
		assert_int_equal(crypto_hash(prf_ids[i], (const uint8_t *)"abc", 3, out), 0);
		assert_hex(out, crypto_prf_len(prf_ids[i]), want[i]);
	}
}

/* FIPS 180-2 A.1 ("abc"), fed in two parts as NAT-D does (RFC 7296 2.23) */
static void test_sha1_two_parts_fips180_abc(void **state)
{
	uint8_t out[20];

	assert_int_equal(crypto_sha1((const uint8_t *)"ab", 2, (const uint8_t *)"c", 1, out), 0);
	assert_hex(out, 20, "a9993e364706816aba3e25717850c26c9cd0d89d");
	assert_int_equal(crypto_sha1((const uint8_t *)"abc", 3, NULL, 0, out), 0);
	assert_hex(out, 20, "a9993e364706816aba3e25717850c26c9cd0d89d");
}

/* ---- key exchange ---- */

static struct crypto_dh *dh_from_hex(uint16_t group, const char *priv_hex)
{
	uint8_t priv[HEXMAX];
	size_t n = unhex(priv, sizeof(priv), priv_hex);
	struct crypto_dh *dh = crypto_dh_new_priv(group, priv, n);

	assert_non_null(dh);
	assert_int_equal(crypto_dh_group(dh), group);
	return dh;
}

static void assert_dh_pub(const struct crypto_dh *dh, const char *want_hex)
{
	uint8_t pub[CRYPTO_MAX_DH_PUB];
	size_t len = sizeof(pub);

	assert_int_equal(crypto_dh_pub(dh, pub, &len), 0);
	assert_int_equal(len, crypto_dh_pub_len(crypto_dh_group(dh)));
	assert_hex(pub, len, want_hex);
}

static void assert_dh_shared(struct crypto_dh *dh, const char *peer_hex, const char *want_hex)
{
	uint8_t peer[HEXMAX], out[CRYPTO_MAX_DH_SECRET];
	size_t n = unhex(peer, sizeof(peer), peer_hex), len = sizeof(out);

	assert_int_equal(crypto_dh_shared(dh, peer, n, out, &len), 0);
	assert_hex(out, len, want_hex);
}

static void assert_dh_rejects(struct crypto_dh *dh, const uint8_t *peer, size_t n)
{
	uint8_t out[CRYPTO_MAX_DH_SECRET];
	size_t len = sizeof(out);

	assert_int_equal(crypto_dh_shared(dh, peer, n, out, &len), KITE_ERR_VERIFY);
	assert_int_equal(len, 0);
}

static void assert_dh_rejects_hex(struct crypto_dh *dh, const char *peer_hex)
{
	uint8_t peer[HEXMAX];
	size_t n = unhex(peer, sizeof(peer), peer_hex);

	assert_dh_rejects(dh, peer, n);
}

/* Two fresh key pairs of the group reach the same secret. */
static void check_fresh_pairs_agree(uint16_t group, size_t secret_len)
{
	struct crypto_dh *a = crypto_dh_new(group), *b = crypto_dh_new(group);
	uint8_t pa[CRYPTO_MAX_DH_PUB], pb[CRYPTO_MAX_DH_PUB];
	uint8_t sa[CRYPTO_MAX_DH_SECRET], sb[CRYPTO_MAX_DH_SECRET];
	size_t la = sizeof(pa), lb = sizeof(pb), ka = sizeof(sa), kb = sizeof(sb);

	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(crypto_dh_pub(a, pa, &la), 0);
	assert_int_equal(crypto_dh_pub(b, pb, &lb), 0);
	assert_int_equal(la, crypto_dh_pub_len(group));
	assert_int_equal(lb, crypto_dh_pub_len(group));
	assert_memory_not_equal(pa, pb, la);
	assert_int_equal(crypto_dh_shared(a, pb, lb, sa, &ka), 0);
	assert_int_equal(crypto_dh_shared(b, pa, la, sb, &kb), 0);
	assert_int_equal(ka, secret_len);
	assert_int_equal(kb, secret_len);
	assert_memory_equal(sa, sb, ka);
	crypto_dh_free(a);
	crypto_dh_free(b);
}

/* RFC 7748 6.1 */
#define X25519_A_PRIV	"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define X25519_A_PUB	"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define X25519_B_PRIV	"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
#define X25519_B_PUB	"de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
#define X25519_K	"4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"

static void test_x25519_rfc7748_6_1_alice_and_bob(void **state)
{
	struct crypto_dh *a = dh_from_hex(IKEV2_DH_CURVE25519, X25519_A_PRIV);
	struct crypto_dh *b = dh_from_hex(IKEV2_DH_CURVE25519, X25519_B_PRIV);

	assert_int_equal(crypto_dh_pub_len(IKEV2_DH_CURVE25519), 32);
	assert_dh_pub(a, X25519_A_PUB);
	assert_dh_pub(b, X25519_B_PUB);
	assert_dh_shared(a, X25519_B_PUB, X25519_K);
	assert_dh_shared(b, X25519_A_PUB, X25519_K);
	crypto_dh_free(a);
	crypto_dh_free(b);
}

/* RFC 7748 5.2, both single-step vectors. The second u-coordinate has its top
 * bit set, which receivers MUST mask (RFC 7748 5). */
static void test_x25519_rfc7748_5_2_masks_top_bit(void **state)
{
	struct crypto_dh *dh;

	dh = dh_from_hex(IKEV2_DH_CURVE25519,
	    "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
	assert_dh_shared(dh,
	    "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
	    "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
	crypto_dh_free(dh);
	dh = dh_from_hex(IKEV2_DH_CURVE25519,
	    "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d");
	assert_dh_shared(dh,
	    "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
	    "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
	crypto_dh_free(dh);
}

/* RFC 7748 6.1: low-order inputs give an all-zero secret, which is refused. */
static void test_x25519_low_order_points_rejected(void **state)
{
	struct crypto_dh *dh = dh_from_hex(IKEV2_DH_CURVE25519, X25519_A_PRIV);

	/* 0 */
	assert_dh_rejects_hex(dh,
	    "0000000000000000000000000000000000000000000000000000000000000000");
	/* 1 */
	assert_dh_rejects_hex(dh,
	    "0100000000000000000000000000000000000000000000000000000000000000");
	/* p = 2^255 - 19, i.e. 0 in non-canonical form */
	assert_dh_rejects_hex(dh,
	    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
	/* p + 1, i.e. 1 */
	assert_dh_rejects_hex(dh,
	    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
	/* the key still works afterwards */
	assert_dh_shared(dh, X25519_B_PUB, X25519_K);
	crypto_dh_free(dh);
}

static void test_x25519_wrong_length_rejected(void **state)
{
	struct crypto_dh *dh = dh_from_hex(IKEV2_DH_CURVE25519, X25519_A_PRIV);
	uint8_t peer[33];

	unhex(peer, sizeof(peer), X25519_B_PUB);
	peer[32] = 0;
	assert_dh_rejects(dh, peer, 31);
	assert_dh_rejects(dh, peer, 33);
	assert_null(crypto_dh_new_priv(IKEV2_DH_CURVE25519, peer, 31));
	crypto_dh_free(dh);
}

/* RFC 5903 8.1 (256-bit random ECP group); KE data is gx | gy */
#define P256_I		"C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433"
#define P256_GI		"DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180" \
			"5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3"
#define P256_R		"C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53"
#define P256_GR		"D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63" \
			"56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB"
#define P256_GIRX	"D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE"

/* RFC 5903 8.2 (384-bit random ECP group) */
#define P384_I		"099F3C7034D4A2C699884D73A375A67F7624EF7C6B3C0F160647B67414DCE655" \
			"E35B538041E649EE3FAEF896783AB194"
#define P384_GI		"667842D7D180AC2CDE6F74F37551F55755C7645C20EF73E31634FE72B4C55EE6" \
			"DE3AC808ACB4BDB4C88732AEE95F41AA" \
			"9482ED1FC0EEB9CAFC4984625CCFC23F65032149E0E144ADA024181535A0F38E" \
			"EB9FCFF3C2C947DAE69B4C634573A81C"
#define P384_R		"41CB0779B4BDB85D47846725FBEC3C9430FAB46CC8DC5060855CC9BDA0AA2942" \
			"E0308312916B8ED2960E4BD55A7448FC"
#define P384_GR		"E558DBEF53EECDE3D3FCCFC1AEA08A89A987475D12FD950D83CFA41732BC509D" \
			"0D1AC43A0336DEF96FDA41D0774A3571" \
			"DCFBEC7AACF3196472169E838430367F66EEBE3C6E70C416DD5F0C68759DD1FF" \
			"F83FA40142209DFF5EAAD96DB9E6386C"
#define P384_GIRX	"11187331C279962D93D604243FD592CB9D0A926F422E47187521287E7156C5C4" \
			"D603135569B9E9D09CF5D4A270F59746"

static void test_ecp256_rfc5903_8_1(void **state)
{
	struct crypto_dh *i = dh_from_hex(IKEV2_DH_ECP_256, P256_I);
	struct crypto_dh *r = dh_from_hex(IKEV2_DH_ECP_256, P256_R);

	assert_int_equal(crypto_dh_pub_len(IKEV2_DH_ECP_256), 64);
	assert_dh_pub(i, P256_GI);
	assert_dh_pub(r, P256_GR);
	assert_dh_shared(i, P256_GR, P256_GIRX);
	assert_dh_shared(r, P256_GI, P256_GIRX);
	crypto_dh_free(i);
	crypto_dh_free(r);
}

static void test_ecp384_rfc5903_8_2(void **state)
{
	struct crypto_dh *i = dh_from_hex(IKEV2_DH_ECP_384, P384_I);
	struct crypto_dh *r = dh_from_hex(IKEV2_DH_ECP_384, P384_R);

	assert_int_equal(crypto_dh_pub_len(IKEV2_DH_ECP_384), 96);
	assert_dh_pub(i, P384_GI);
	assert_dh_pub(r, P384_GR);
	assert_dh_shared(i, P384_GR, P384_GIRX);
	assert_dh_shared(r, P384_GI, P384_GIRX);
	crypto_dh_free(i);
	crypto_dh_free(r);
}

static void check_ecp_rejects(uint16_t group, const char *priv, const char *peer_hex,
			      const char *girx)
{
	struct crypto_dh *dh = dh_from_hex(group, priv);
	uint8_t good[HEXMAX], bad[HEXMAX];
	size_t n = unhex(good, sizeof(good), peer_hex), f = n / 2;

	/* off the curve: y + 1 */
	memcpy(bad, good, n);
	bad[n - 1] ^= 0x01;
	assert_dh_rejects(dh, bad, n);
	/* off the curve: x altered */
	memcpy(bad, good, n);
	bad[0] ^= 0x40;
	assert_dh_rejects(dh, bad, n);
	/* the point at infinity has no affine encoding; all-zero stands in */
	memset(bad, 0, n);
	assert_dh_rejects(dh, bad, n);
	/* coordinates >= p */
	memset(bad, 0xff, n);
	assert_dh_rejects(dh, bad, n);
	memcpy(bad, good, n);
	memset(bad, 0xff, f);
	assert_dh_rejects(dh, bad, n);
	/* SEC1 uncompressed form (0x04 prefix) is not the IKEv2 encoding */
	bad[0] = 0x04;
	memcpy(bad + 1, good, n);
	assert_dh_rejects(dh, bad, n + 1);
	assert_dh_rejects(dh, good, n - 1);
	/* and the genuine value still works */
	assert_dh_shared(dh, peer_hex, girx);
	crypto_dh_free(dh);
}

static void test_ecp_invalid_points_rejected(void **state)
{
	check_ecp_rejects(IKEV2_DH_ECP_256, P256_I, P256_GR, P256_GIRX);
	check_ecp_rejects(IKEV2_DH_ECP_384, P384_I, P384_GR, P384_GIRX);
}

static void test_ecp_private_key_length_checked(void **state)
{
	uint8_t priv[48];

	unhex(priv, sizeof(priv), P384_I);
	assert_null(crypto_dh_new_priv(IKEV2_DH_ECP_256, priv, 48));
	assert_null(crypto_dh_new_priv(IKEV2_DH_ECP_384, priv, 32));
	assert_null(crypto_dh_new_priv(IKEV2_DH_ECP_384, NULL, 48));
}

static void test_fresh_key_pairs_agree(void **state)
{
	check_fresh_pairs_agree(IKEV2_DH_CURVE25519, 32);
	check_fresh_pairs_agree(IKEV2_DH_ECP_256, 32);
	check_fresh_pairs_agree(IKEV2_DH_ECP_384, 48);
	check_fresh_pairs_agree(IKEV2_DH_MODP_2048, 256);
	check_fresh_pairs_agree(IKEV2_DH_MODP_3072, 384);
}

/* RFC 3526 3 */
#define MODP2048_P \
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74" \
	"020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437" \
	"4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" \
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05" \
	"98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB" \
	"9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" \
	"E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718" \
	"3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF"

/* RFC 6989 2.1: 1 < y < p-1, and nothing but the group's length */
static void test_modp2048_public_value_checks(void **state)
{
	struct crypto_dh *dh = crypto_dh_new(IKEV2_DH_MODP_2048);
	uint8_t p[256], y[257], out[CRYPTO_MAX_DH_SECRET];
	size_t len;

	assert_non_null(dh);
	assert_int_equal(crypto_dh_pub_len(IKEV2_DH_MODP_2048), 256);
	assert_int_equal(unhex(p, sizeof(p), MODP2048_P), 256);
	memset(y, 0, sizeof(y));
	assert_dh_rejects(dh, y, 256);				/* 0 */
	y[255] = 1;
	assert_dh_rejects(dh, y, 256);				/* 1 */
	memcpy(y, p, 256);
	y[255] -= 1;
	assert_dh_rejects(dh, y, 256);				/* p - 1 */
	memcpy(y, p, 256);
	assert_dh_rejects(dh, y, 256);				/* p */
	memset(y, 0xff, 256);
	assert_dh_rejects(dh, y, 256);				/* > p */
	/* the boundaries inside the range are accepted */
	memset(y, 0, sizeof(y));
	y[255] = 2;
	len = sizeof(out);
	assert_int_equal(crypto_dh_shared(dh, y, 256, out, &len), 0);
	assert_int_equal(len, 256);
	memcpy(y, p, 256);
	y[255] -= 2;
	len = sizeof(out);
	assert_int_equal(crypto_dh_shared(dh, y, 256, out, &len), 0);
	/* wrong lengths: short (even if the value is fine) and long */
	y[0] = 0;
	y[255] = 2;
	memset(y, 0, 255);
	assert_dh_rejects(dh, y + 1, 255);
	assert_dh_rejects(dh, y, 257);
	crypto_dh_free(dh);
}

static void test_modp3072_public_value_checks(void **state)
{
	struct crypto_dh *dh = crypto_dh_new(IKEV2_DH_MODP_3072);
	uint8_t pub[CRYPTO_MAX_DH_PUB], y[384];
	size_t len = sizeof(pub);

	assert_non_null(dh);
	assert_int_equal(crypto_dh_pub(dh, pub, &len), 0);
	assert_int_equal(len, 384);
	memset(y, 0, sizeof(y));
	y[383] = 1;
	assert_dh_rejects(dh, y, sizeof(y));
	memset(y, 0xff, sizeof(y));
	assert_dh_rejects(dh, y, sizeof(y));
	/* RFC 3526 4: p-1 ends in ...FFFE */
	y[383] = 0xfe;
	assert_dh_rejects(dh, y, sizeof(y));
	assert_dh_rejects(dh, y, 256);
	crypto_dh_free(dh);
}

/*
 * MODP-2048 with fixed exponents. RFC 3526 has no test vectors; these are the
 * generated ones in strongSwan src/libstrongswan/plugins/test_vectors/
 * test_vectors/modp.c (modp2048), where seed = x_i | x_r.
 */
static void test_modp2048_fixed_exponent_strongswan(void **state)
{
	static const char xi[] =
	    "af3bfd3862caa11774ce2b74840807c1de5cd6a7619bb3a0c7af39eedaa6eb89"
	    "e2e9c144b3625b2731879cb58fa3766d";
	static const char xr[] =
	    "77a48e4772e23e284ce4af81399dcd589beb7cefbcc9d196f06dcfdfc3a88e3b"
	    "4c1c82befec0e64ba495ccde329936ce";
	static const char gi[] =
	    "1a27c5a7237ae8fe0a71c0af6494faeccdd4a5031d47a1a6b7162dfcdf03bb17"
	    "b7bb089bd652a5f31b3661bb114d7c48d83d244f46db64870c9c8327f1a830ab"
	    "f531e518dd521a2e94e7061e944209ba5331012b3dff00849eaab58c7c7af152"
	    "65210fbcf0f87b9dd932f8ba4e9a9f91b63294530a1200b88b3a03e1a0c7fd34"
	    "deec6fad501ede06ce7ec9e291d47b69b3a4b61bb08763b6d46bfbdab97bdece"
	    "a0ff09a872221fb4b6ccca6b5c6faad8eb873b9a2f39b63e62cfadd47607e68e"
	    "2c290583f7268fb43fc00a7dc8810ecdac1a59bd1b477aaf41cb4b24ada3e5f7"
	    "b8cb986f1ae476afc7677aa62570a1b1838dda26be7863ee2f40b5e538a4e181";
	static const char gr[] =
	    "667282318d65cb05cd323c25091e664cc75a3a20c014b2f6389d3b27f5c1e908"
	    "e0d40ff8552bd587752550302285b49f75f8ffaec937fb2e69c8150f88d6508b"
	    "f0fb1f16e9676f5ecf718f874f3d8de3c8688749dbcf1affd4d62ff9ea5d9e30"
	    "35b2ce4a6eae281c408fc8084ae235d998a037610a8cb48c878cd0635fa1369f"
	    "c90b864c532367384597fdeefdb6742b006adedae2015bc4ce2f9c5451c9636a"
	    "16ed7d10b4e40d825b50aa7633a0e8fb813bebc049f7ff6a71ecfb14e880f509"
	    "d38b571a809808a496b451b5b5567a3608b01a22e4998355f181b879de262304"
	    "f29de142ff5e52cc564f3a2d1e84a0c33d8f3da7bf6412b3f018e00d90fa5b94";
	static const char k[] =
	    "26f9e8457cf2d7d56dd819c2a867d7c3a90aa2b944e20b8bded3a5bf91aa1ff8"
	    "1a7ea89d524c365f3823510835cd8644c4d5dacf893e610d2c1a140616d1c8c1"
	    "d35f46de2c5faad9aecec6b677acd984098142a8aa0c8542e9ac98b3bc7b577c"
	    "59b8ec53346e1567a90039ac92b224635ab216731b06353925642c330a201ba4"
	    "b31284a9515860f35e9308f5515a779984fbd9f5ce4177db78d1cb0384b63c73"
	    "9c6d744ad7a700b95a531b29f3b744ed38e69aee67072c45a91cee6b14215e04"
	    "f27c31358c86dce448d60a223bdc554edaa3e4072ef603a0f4619f8db39cec29"
	    "1c860174155d8abf9e1082931df58ed9ee9c1215dd2393de02f5c1767f070e28";
	struct crypto_dh *i = dh_from_hex(IKEV2_DH_MODP_2048, xi);
	struct crypto_dh *r = dh_from_hex(IKEV2_DH_MODP_2048, xr);

	assert_dh_pub(i, gi);
	assert_dh_pub(r, gr);
	assert_dh_shared(i, gr, k);
	assert_dh_shared(r, gi, k);
	crypto_dh_free(i);
	crypto_dh_free(r);
}

/* A small exponent gives a public value with leading zero bytes; the KE data
 * and the secret are still the prime's length (RFC 7296 2.14, 3.4). */
static void test_modp_values_are_left_padded(void **state)
{
	struct crypto_dh *a, *b;
	uint8_t one = 1, x = 3, pub[CRYPTO_MAX_DH_PUB], s[CRYPTO_MAX_DH_SECRET];
	size_t len;

	/* 2^1 = 2 */
	a = crypto_dh_new_priv(IKEV2_DH_MODP_2048, &one, 1);
	assert_non_null(a);
	len = sizeof(pub);
	assert_int_equal(crypto_dh_pub(a, pub, &len), 0);
	assert_int_equal(len, 256);
	assert_int_equal(pub[255], 2);
	for (len = 0; len < 255; len++)
		assert_int_equal(pub[len], 0);
	/* (2^3)^1 = 8: the secret is 255 zero bytes and 0x08 */
	b = crypto_dh_new_priv(IKEV2_DH_MODP_2048, &x, 1);
	assert_non_null(b);
	len = sizeof(pub);
	assert_int_equal(crypto_dh_pub(b, pub, &len), 0);
	assert_int_equal(len, 256);
	len = sizeof(s);
	assert_int_equal(crypto_dh_shared(a, pub, 256, s, &len), 0);
	assert_int_equal(len, 256);
	assert_int_equal(s[255], 8);
	assert_int_equal(s[0], 0);
	crypto_dh_free(a);
	crypto_dh_free(b);
}

/* *len is the buffer's capacity on input (crypto.h) */
static void test_dh_output_capacity_checked(void **state)
{
	struct crypto_dh *dh = dh_from_hex(IKEV2_DH_ECP_256, P256_I);
	uint8_t buf[CRYPTO_MAX_DH_PUB], peer[64];
	size_t len;

	len = 63;
	assert_int_equal(crypto_dh_pub(dh, buf, &len), KITE_ERR_INVAL);
	len = 64;
	assert_int_equal(crypto_dh_pub(dh, buf, &len), 0);
	assert_int_equal(len, 64);
	unhex(peer, sizeof(peer), P256_GR);
	len = 31;
	assert_int_equal(crypto_dh_shared(dh, peer, sizeof(peer), buf, &len), KITE_ERR_INVAL);
	assert_int_equal(len, 0);
	assert_int_equal(crypto_dh_shared(dh, peer, sizeof(peer), buf, NULL), KITE_ERR_INVAL);
	assert_int_equal(crypto_dh_pub(NULL, buf, &len), KITE_ERR_INVAL);
	crypto_dh_free(dh);
}

static void test_dh_unsupported_groups(void **state)
{
	static const uint16_t yes[] = {
		IKEV2_DH_MODP_2048, IKEV2_DH_MODP_3072, IKEV2_DH_ECP_256,
		IKEV2_DH_ECP_384, IKEV2_DH_CURVE25519,
	};
	static const uint16_t no[] = {
		IKEV2_DH_NONE, IKEV2_DH_MODP_768, IKEV2_DH_MODP_1024,
		IKEV2_DH_MODP_1536, IKEV2_DH_MODP_4096, IKEV2_DH_ECP_521,
		IKEV2_DH_CURVE448, 22, 23, 24, 0xffff,
	};
	uint8_t priv[32] = { 1 };
	size_t i;

	for (i = 0; i < KITE_ARRAY_SIZE(yes); i++)
		assert_int_equal(crypto_dh_supported(yes[i]), 1);
	for (i = 0; i < KITE_ARRAY_SIZE(no); i++) {
		assert_int_equal(crypto_dh_supported(no[i]), 0);
		assert_int_equal(crypto_dh_pub_len(no[i]), 0);
		assert_null(crypto_dh_new(no[i]));
		assert_null(crypto_dh_new_priv(no[i], priv, sizeof(priv)));
	}
	crypto_dh_free(NULL);
	assert_int_equal(crypto_dh_group(NULL), IKEV2_DH_NONE);
}

/* ---- SK payload / ESP protection ---- */

static struct crypto_aead *aead_from_hex(uint16_t encr, uint16_t key_bits, uint16_t integ,
					 const char *enc_hex, const char *integ_hex)
{
	uint8_t ek[CRYPTO_MAX_KEY], ik[CRYPTO_MAX_KEY];
	struct crypto_aead *a;

	assert_int_equal(unhex(ek, sizeof(ek), enc_hex),
	    crypto_aead_enc_key_len(encr, key_bits));
	if (integ_hex != NULL)
		assert_int_equal(unhex(ik, sizeof(ik), integ_hex),
		    crypto_aead_integ_key_len(integ));
	a = crypto_aead_new(encr, key_bits, integ, ek, integ_hex ? ik : NULL);
	assert_non_null(a);
	return a;
}

struct aead_kat {
	uint16_t	 encr, key_bits, integ;
	const char	*key, *integ_key, *iv, *aad, *pt, *ct, *icv;
};

static void check_aead_kat(const struct aead_kat *v)
{
	struct crypto_aead *a = aead_from_hex(v->encr, v->key_bits, v->integ,
	    v->key, v->integ_key);
	uint8_t iv[CRYPTO_MAX_IV], aad[64], buf[HEXMAX], icv[CRYPTO_MAX_ICV];
	size_t ivl, aadl, len;

	ivl = unhex(iv, sizeof(iv), v->iv);
	assert_int_equal(ivl, crypto_aead_iv_len(a));
	aadl = unhex(aad, sizeof(aad), v->aad);
	len = unhex(buf, sizeof(buf), v->pt);
	assert_int_equal(crypto_aead_seal(a, iv, aad, aadl, buf, len, icv), 0);
	assert_hex(buf, len, v->ct);
	assert_hex(icv, crypto_aead_icv_len(a), v->icv);
	assert_int_equal(crypto_aead_open(a, iv, aad, aadl, buf, len, icv), 0);
	assert_hex(buf, len, v->pt);
	crypto_aead_free(a);
}

/* RFC 7634 Appendix A: ESP tunnel-mode ICMP packet, SPI 0x01020304, seq 5.
 * The ESP payload is the IPv4 packet, pad 01 02, pad length 2, next header 4. */
static void test_chacha20poly1305_rfc7634_appendix_a_esp(void **state)
{
	static const struct aead_kat v = {
		IKEV2_ENCR_CHACHA20_POLY1305, 0, IKEV2_INTEG_NONE,
		"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
		"a0a1a2a3",
		NULL,
		"1011121314151617",
		"0102030400000005",
		"45000054a6f200004001e778c6336405c000020508005b7a3a080000553bec10"
		"0007362708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223"
		"2425262728292a2b2c2d2e2f3031323334353637" "01020204",
		"24039428b97f417e3c13753a4f05087b67c352e6a7fab1b982d466ef407ae5c6"
		"14ee8099d52844eb61aa95dfab4c02f72aa71e7c4c4f64c9befe2facc638e8f3"
		"cbec163fac469b502773f6fb94e664da9165b82829f641e0",
		"76aaa8266b7fb0f7b11b369907e1ad43",
	};

	check_aead_kat(&v);
}

/* draft-mcgrew-gcm-test-01 4: the AES-128 packet (SPI 0x00004321, 64-bit
 * ESN, salt 2e443b68) and the AES-256 packet (SPI 0x4a2cbfe3, salt 11223344). */
static void test_aes_gcm_draft_mcgrew_gcm_test_01_esp(void **state)
{
	static const struct aead_kat v128 = {
		IKEV2_ENCR_AES_GCM_16, 128, IKEV2_INTEG_NONE,
		"4c80cdefbb5d10da906ac73c3613a634" "2e443b68",
		NULL,
		"4956ed7e3b244cfe",
		"000043218765432100000000",
		"45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000"
		"00000000045f736970045f756470037369700963796265726369747902646b00"
		"0021000101020201",
		"fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34"
		"cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce"
		"61bc17d768fd9732",
		"459018148f6cbe722fd04796562dfdb4",
	};
	static const struct aead_kat v256 = {
		IKEV2_ENCR_AES_GCM_16, 256, IKEV2_INTEG_NONE,
		"abbccddef00112233445566778899aababbccddef00112233445566778899aab"
		"11223344",
		NULL,
		"0102030405060708",
		"4a2cbfe300000002",
		"4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee000000000"
		"7002400020bf0000020405b40101040201020201",
		"ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763"
		"748a637985771d347f0545659f14e99def842d8e",
		"b335f4eecfdbf831824b4c4915956c96",
	};

	check_aead_kat(&v128);
	check_aead_kat(&v256);
}

/* McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 4
 * (AES-128) and 16 (AES-256) with the 96-bit IV split as salt cafebabe and
 * ESP IV facedbaddecaf888 (RFC 4106 4), as in strongSwan's aes_gcm.c. */
static void test_aes_gcm_mcgrew_viega_cases_4_and_16(void **state)
{
	static const char pt[] =
	    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
	static const char aad[] = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
	const struct aead_kat v4 = {
		IKEV2_ENCR_AES_GCM_16, 128, IKEV2_INTEG_NONE,
		"feffe9928665731c6d6a8f9467308308" "cafebabe", NULL,
		"facedbaddecaf888", aad, pt,
		"42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
		"21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
		"5bc94fbc3221a5db94fae95ae7121a47",
	};
	const struct aead_kat v16 = {
		IKEV2_ENCR_AES_GCM_16, 256, IKEV2_INTEG_NONE,
		"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
		"cafebabe", NULL,
		"facedbaddecaf888", aad, pt,
		"522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
		"8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
		"76fc6ece0f4e1768cddf8853bb2d551b",
	};

	check_aead_kat(&v4);
	check_aead_kat(&v16);
}

/* RFC 3602 4, case #2 (AES-128-CBC, 32 bytes); the ICV is HMAC-SHA-256 over
 * aad | iv | ciphertext truncated to 128 bits (RFC 4868 2.3), computed here
 * independently with crypto_prf. */
static void test_aes_cbc_rfc3602_case2_with_hmac_sha256_128(void **state)
{
	struct crypto_aead *a;
	uint8_t ik[32], iv[16], buf[32], icv[16], mac[32], aad[8];
	uint8_t in[8 + 16 + 32];

	memset(ik, 0x0b, sizeof(ik));
	unhex(iv, sizeof(iv), "562e17996d093d28ddb3ba695a2e6f58");
	unhex(buf, sizeof(buf),
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	unhex(aad, sizeof(aad), "0000432100000001");
	a = crypto_aead_new(IKEV2_ENCR_AES_CBC, 128, IKEV2_INTEG_HMAC_SHA2_256_128,
	    (const uint8_t *)"\xc2\x86\x69\x6d\x88\x7c\x9a\xa0"
	    "\x61\x1b\xbb\x3e\x20\x25\xa4\x5a", ik);
	assert_non_null(a);
	assert_int_equal(crypto_aead_iv_len(a), 16);
	assert_int_equal(crypto_aead_icv_len(a), 16);
	assert_int_equal(crypto_aead_block_len(a), 16);
	assert_int_equal(crypto_aead_seal(a, iv, aad, sizeof(aad), buf, sizeof(buf), icv), 0);
	assert_hex(buf, sizeof(buf),
	    "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1");
	memcpy(in, aad, 8);
	memcpy(in + 8, iv, 16);
	memcpy(in + 24, buf, 32);
	assert_int_equal(crypto_prf(IKEV2_PRF_HMAC_SHA2_256, ik, sizeof(ik),
	    in, sizeof(in), NULL, 0, mac), 0);
	assert_memory_equal(icv, mac, 16);
	assert_int_equal(crypto_aead_open(a, iv, aad, sizeof(aad), buf, sizeof(buf), icv), 0);
	assert_hex(buf, sizeof(buf),
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	crypto_aead_free(a);
}

/* RFC 4868 2.7.2.2, AUTH256-2 / AUTH384-2 / AUTH512-2: key "Jefe" repeated to
 * the key length, data "what do ya want for nothing?". With no ciphertext
 * the ICV input is aad | iv, so the 28 bytes are split 12 | 16. */
static void test_cbc_icv_rfc4868_2_7_2_auth_2(void **state)
{
	static const struct {
		uint16_t	 integ;
		const char	*icv;
	} v[] = {
		{ IKEV2_INTEG_HMAC_SHA2_256_128, "167f928588c5cc2eef8e3093caa0e87c" },
		{ IKEV2_INTEG_HMAC_SHA2_384_192,
		  "2c7353974f1842fd66d53c452ca42122b28c0b594cfb184d" },
		{ IKEV2_INTEG_HMAC_SHA2_512_256,
		  "cb370917ae8a7ce28cfd1d8f4705d6141c173b2a9362c15df235dfb251b15454" },
	};
	static const char data[] = "what do ya want for nothing?";
	uint8_t ek[16] = { 0 }, ik[64], icv[CRYPTO_MAX_ICV], dummy;
	struct crypto_aead *a;
	size_t i, j, klen;

	for (i = 0; i < KITE_ARRAY_SIZE(v); i++) {
		klen = crypto_aead_integ_key_len(v[i].integ);
		for (j = 0; j < klen; j++)
			ik[j] = (uint8_t)"Jefe"[j % 4];
		a = crypto_aead_new(IKEV2_ENCR_AES_CBC, 128, v[i].integ, ek, ik);
		assert_non_null(a);
		assert_int_equal(crypto_aead_seal(a, (const uint8_t *)data + 12,
		    (const uint8_t *)data, 12, &dummy, 0, icv), 0);
		assert_hex(icv, crypto_aead_icv_len(a), v[i].icv);
		assert_int_equal(crypto_aead_open(a, (const uint8_t *)data + 12,
		    (const uint8_t *)data, 12, NULL, 0, icv), 0);
		crypto_aead_free(a);
	}
}

/* Encrypt-then-MAC: a bad ICV is found before decryption, so buf stays the
 * ciphertext it was. */
static void test_cbc_tamper_rejected_before_decrypt(void **state)
{
	uint8_t ek[32], ik[32], iv[16], aad[16], pt[64], ct[64], buf[64], icv[16];
	struct crypto_aead *a;
	size_t i;

	assert_int_equal(crypto_random(ek, sizeof(ek)), 0);
	assert_int_equal(crypto_random(ik, sizeof(ik)), 0);
	assert_int_equal(crypto_random(iv, sizeof(iv)), 0);
	assert_int_equal(crypto_random(aad, sizeof(aad)), 0);
	assert_int_equal(crypto_random(pt, sizeof(pt)), 0);
	a = crypto_aead_new(IKEV2_ENCR_AES_CBC, 256, IKEV2_INTEG_HMAC_SHA2_256_128, ek, ik);
	assert_non_null(a);
	memcpy(ct, pt, sizeof(ct));
	assert_int_equal(crypto_aead_seal(a, iv, aad, sizeof(aad), ct, sizeof(ct), icv), 0);
	for (i = 0; i < sizeof(ct); i++) {
		memcpy(buf, ct, sizeof(buf));
		buf[i] ^= 0x01;
		assert_int_equal(crypto_aead_open(a, iv, aad, sizeof(aad), buf,
		    sizeof(buf), icv), KITE_ERR_VERIFY);
		ct[i] ^= 0x01;
		assert_memory_equal(buf, ct, sizeof(buf));
		ct[i] ^= 0x01;
	}
	/* the last block changed alone would decrypt without error under plain CBC */
	memcpy(buf, ct, sizeof(buf));
	icv[15] ^= 0x80;
	assert_int_equal(crypto_aead_open(a, iv, aad, sizeof(aad), buf, sizeof(buf), icv),
	    KITE_ERR_VERIFY);
	assert_memory_equal(buf, ct, sizeof(buf));
	icv[15] ^= 0x80;
	aad[0] ^= 0x01;
	assert_int_equal(crypto_aead_open(a, iv, aad, sizeof(aad), buf, sizeof(buf), icv),
	    KITE_ERR_VERIFY);
	assert_memory_equal(buf, ct, sizeof(buf));
	aad[0] ^= 0x01;
	assert_int_equal(crypto_aead_open(a, iv, aad, sizeof(aad), buf, sizeof(buf), icv), 0);
	assert_memory_equal(buf, pt, sizeof(buf));
	crypto_aead_free(a);
}

struct combo {
	uint16_t	 encr, key_bits, integ;
	size_t		 iv_len, icv_len, block_len;
};

static const struct combo combos[] = {
	{ IKEV2_ENCR_AES_GCM_16, 128, IKEV2_INTEG_NONE, 8, 16, 1 },
	{ IKEV2_ENCR_AES_GCM_16, 256, IKEV2_INTEG_NONE, 8, 16, 1 },
	{ IKEV2_ENCR_CHACHA20_POLY1305, 0, IKEV2_INTEG_NONE, 8, 16, 1 },
	{ IKEV2_ENCR_CHACHA20_POLY1305, 256, IKEV2_INTEG_NONE, 8, 16, 1 },
	{ IKEV2_ENCR_AES_CBC, 128, IKEV2_INTEG_HMAC_SHA2_256_128, 16, 16, 16 },
	{ IKEV2_ENCR_AES_CBC, 128, IKEV2_INTEG_HMAC_SHA2_384_192, 16, 24, 16 },
	{ IKEV2_ENCR_AES_CBC, 128, IKEV2_INTEG_HMAC_SHA2_512_256, 16, 32, 16 },
	{ IKEV2_ENCR_AES_CBC, 256, IKEV2_INTEG_HMAC_SHA2_256_128, 16, 16, 16 },
	{ IKEV2_ENCR_AES_CBC, 256, IKEV2_INTEG_HMAC_SHA2_384_192, 16, 24, 16 },
	{ IKEV2_ENCR_AES_CBC, 256, IKEV2_INTEG_HMAC_SHA2_512_256, 16, 32, 16 },
};

static struct crypto_aead *combo_new(const struct combo *c)
{
	uint8_t ek[CRYPTO_MAX_KEY], ik[CRYPTO_MAX_KEY];
	struct crypto_aead *a;

	assert_int_equal(crypto_random(ek, sizeof(ek)), 0);
	assert_int_equal(crypto_random(ik, sizeof(ik)), 0);
	a = crypto_aead_new(c->encr, c->key_bits, c->integ, ek,
	    c->integ == IKEV2_INTEG_NONE ? NULL : ik);
	assert_non_null(a);
	assert_int_equal(crypto_aead_iv_len(a), c->iv_len);
	assert_int_equal(crypto_aead_icv_len(a), c->icv_len);
	assert_int_equal(crypto_aead_block_len(a), c->block_len);
	return a;
}

enum flip_field { FLIP_AAD, FLIP_IV, FLIP_CT, FLIP_ICV };

/* One flipped bit anywhere (aad, IV, ciphertext, ICV) fails with
 * KITE_ERR_VERIFY and leaves buf as the (flipped) ciphertext (crypto.h). */
static void check_flip_fails(struct crypto_aead *a, const uint8_t *iv, const uint8_t *aad,
			     size_t aad_len, const uint8_t *ct, size_t len, const uint8_t *icv,
			     size_t icv_len, enum flip_field field, size_t off)
{
	uint8_t b_iv[CRYPTO_MAX_IV], b_aad[64], buf[256], b_icv[CRYPTO_MAX_ICV];
	uint8_t *target = NULL;

	memcpy(b_iv, iv, crypto_aead_iv_len(a));
	memcpy(b_aad, aad, aad_len);
	memcpy(buf, ct, len);
	memcpy(b_icv, icv, icv_len);
	switch (field) {
	case FLIP_AAD:
		target = b_aad;
		break;
	case FLIP_IV:
		target = b_iv;
		break;
	case FLIP_CT:
		target = buf;
		break;
	case FLIP_ICV:
		target = b_icv;
		break;
	}
	target[off] ^= 0x10;
	assert_int_equal(crypto_aead_open(a, b_iv, b_aad, aad_len, buf, len, b_icv),
	    KITE_ERR_VERIFY);
	if (field == FLIP_CT)
		buf[off] ^= 0x10;
	assert_memory_equal(buf, ct, len);
}

static void test_aead_round_trip_every_combination(void **state)
{
	static const size_t lens[] = { 16, 64, 160 };
	uint8_t iv[CRYPTO_MAX_IV], aad[12], pt[256], ct[256], icv[CRYPTO_MAX_ICV];
	struct crypto_aead *a;
	size_t i, j, len, h;

	for (i = 0; i < KITE_ARRAY_SIZE(combos); i++) {
		a = combo_new(&combos[i]);
		for (j = 0; j < KITE_ARRAY_SIZE(lens); j++) {
			len = lens[j];
			assert_int_equal(crypto_random(iv, sizeof(iv)), 0);
			assert_int_equal(crypto_random(aad, sizeof(aad)), 0);
			assert_int_equal(crypto_random(pt, len), 0);
			memcpy(ct, pt, len);
			assert_int_equal(crypto_aead_seal(a, iv, aad, sizeof(aad), ct,
			    len, icv), 0);
			assert_memory_not_equal(ct, pt, len);

			h = combos[i].icv_len;
			check_flip_fails(a, iv, aad, sizeof(aad), ct, len, icv, h, FLIP_AAD, 0);
			check_flip_fails(a, iv, aad, sizeof(aad), ct, len, icv, h, FLIP_AAD,
			    sizeof(aad) - 1);
			check_flip_fails(a, iv, aad, sizeof(aad), ct, len, icv, h, FLIP_IV, 0);
			check_flip_fails(a, iv, aad, sizeof(aad), ct, len, icv, h, FLIP_IV,
			    combos[i].iv_len - 1);
			check_flip_fails(a, iv, aad, sizeof(aad), ct, len, icv, h, FLIP_CT, 0);
			check_flip_fails(a, iv, aad, sizeof(aad), ct, len, icv, h, FLIP_CT,
			    len - 1);
			check_flip_fails(a, iv, aad, sizeof(aad), ct, len, icv, h, FLIP_ICV, 0);
			check_flip_fails(a, iv, aad, sizeof(aad), ct, len, icv, h, FLIP_ICV,
			    h - 1);
			/* a shorter aad is a different aad */
			assert_int_equal(crypto_aead_open(a, iv, aad, sizeof(aad) - 4,
			    ct, len, icv), KITE_ERR_VERIFY);

			assert_int_equal(crypto_aead_open(a, iv, aad, sizeof(aad), ct,
			    len, icv), 0);
			assert_memory_equal(ct, pt, len);
		}
		/* no aad at all */
		memcpy(ct, pt, 32);
		assert_int_equal(crypto_aead_seal(a, iv, NULL, 0, ct, 32, icv), 0);
		assert_int_equal(crypto_aead_open(a, iv, NULL, 0, ct, 32, icv), 0);
		assert_memory_equal(ct, pt, 32);
		crypto_aead_free(a);
	}
}

/* Each context has its own keys and state: interleaved use does not mix. */
static void test_aead_contexts_are_independent(void **state)
{
	uint8_t iv[CRYPTO_MAX_IV] = { 0 }, p1[64], p2[64], c1[64], c2[64];
	uint8_t t1[CRYPTO_MAX_ICV], t2[CRYPTO_MAX_ICV];
	struct crypto_aead *a, *b;
	size_t i;

	for (i = 0; i < KITE_ARRAY_SIZE(combos); i++) {
		a = combo_new(&combos[i]);
		b = combo_new(&combos[i]);
		memset(p1, 0x11, sizeof(p1));
		memset(p2, 0x11, sizeof(p2));
		memcpy(c1, p1, sizeof(c1));
		memcpy(c2, p2, sizeof(c2));
		assert_int_equal(crypto_aead_seal(a, iv, NULL, 0, c1, 32, t1), 0);
		assert_int_equal(crypto_aead_seal(b, iv, NULL, 0, c2, 32, t2), 0);
		assert_int_equal(crypto_aead_seal(a, iv, NULL, 0, c1 + 32, 32, t1), 0);
		assert_memory_not_equal(c1, c2, 32);
		assert_int_equal(crypto_aead_open(b, iv, NULL, 0, c1 + 32, 32, t1),
		    KITE_ERR_VERIFY);
		assert_int_equal(crypto_aead_open(a, iv, NULL, 0, c1 + 32, 32, t1), 0);
		assert_memory_equal(c1 + 32, p1, 32);
		assert_int_equal(crypto_aead_open(b, iv, NULL, 0, c2, 32, t2), 0);
		assert_memory_equal(c2, p2, 32);
		crypto_aead_free(a);
		crypto_aead_free(b);
	}
}

static void test_aead_key_lengths(void **state)
{
	assert_int_equal(crypto_aead_enc_key_len(IKEV2_ENCR_AES_GCM_16, 128), 20);
	assert_int_equal(crypto_aead_enc_key_len(IKEV2_ENCR_AES_GCM_16, 256), 36);
	assert_int_equal(crypto_aead_enc_key_len(IKEV2_ENCR_AES_GCM_16, 192), 0);
	assert_int_equal(crypto_aead_enc_key_len(IKEV2_ENCR_AES_GCM_16, 0), 0);
	assert_int_equal(crypto_aead_enc_key_len(IKEV2_ENCR_CHACHA20_POLY1305, 0), 36);
	assert_int_equal(crypto_aead_enc_key_len(IKEV2_ENCR_CHACHA20_POLY1305, 256), 36);
	assert_int_equal(crypto_aead_enc_key_len(IKEV2_ENCR_CHACHA20_POLY1305, 128), 0);
	assert_int_equal(crypto_aead_enc_key_len(IKEV2_ENCR_AES_CBC, 128), 16);
	assert_int_equal(crypto_aead_enc_key_len(IKEV2_ENCR_AES_CBC, 256), 32);
	assert_int_equal(crypto_aead_enc_key_len(IKEV2_ENCR_AES_CBC, 192), 0);
	assert_int_equal(crypto_aead_enc_key_len(IKEV2_ENCR_3DES, 0), 0);
	assert_int_equal(crypto_aead_enc_key_len(IKEV2_ENCR_AES_GCM_8, 128), 0);
	assert_int_equal(crypto_aead_integ_key_len(IKEV2_INTEG_HMAC_SHA2_256_128), 32);
	assert_int_equal(crypto_aead_integ_key_len(IKEV2_INTEG_HMAC_SHA2_384_192), 48);
	assert_int_equal(crypto_aead_integ_key_len(IKEV2_INTEG_HMAC_SHA2_512_256), 64);
	assert_int_equal(crypto_aead_integ_key_len(IKEV2_INTEG_HMAC_SHA1_96), 0);
	assert_int_equal(crypto_aead_integ_key_len(IKEV2_INTEG_NONE), 0);
	assert_int_equal(crypto_encr_is_aead(IKEV2_ENCR_AES_GCM_16), 1);
	assert_int_equal(crypto_encr_is_aead(IKEV2_ENCR_CHACHA20_POLY1305), 1);
	assert_int_equal(crypto_encr_is_aead(IKEV2_ENCR_AES_CBC), 0);
	assert_int_equal(crypto_encr_is_aead(IKEV2_ENCR_NULL), 0);
}

static void test_aead_unsupported_combinations_return_null(void **state)
{
	static const struct {
		uint16_t encr, key_bits, integ;
	} bad[] = {
		{ IKEV2_ENCR_AES_GCM_16, 128, IKEV2_INTEG_HMAC_SHA2_256_128 },
		{ IKEV2_ENCR_CHACHA20_POLY1305, 0, IKEV2_INTEG_HMAC_SHA2_512_256 },
		{ IKEV2_ENCR_AES_CBC, 128, IKEV2_INTEG_NONE },
		{ IKEV2_ENCR_AES_CBC, 128, IKEV2_INTEG_HMAC_SHA1_96 },
		{ IKEV2_ENCR_AES_CBC, 128, IKEV2_INTEG_HMAC_MD5_96 },
		{ IKEV2_ENCR_AES_CBC, 128, IKEV2_INTEG_AES_XCBC_96 },
		{ IKEV2_ENCR_AES_CBC, 192, IKEV2_INTEG_HMAC_SHA2_256_128 },
		{ IKEV2_ENCR_AES_GCM_16, 192, IKEV2_INTEG_NONE },
		{ IKEV2_ENCR_AES_GCM_8, 128, IKEV2_INTEG_NONE },
		{ IKEV2_ENCR_AES_GCM_12, 256, IKEV2_INTEG_NONE },
		{ IKEV2_ENCR_CHACHA20_POLY1305, 128, IKEV2_INTEG_NONE },
		{ IKEV2_ENCR_DES, 0, IKEV2_INTEG_HMAC_SHA2_256_128 },
		{ IKEV2_ENCR_3DES, 0, IKEV2_INTEG_HMAC_SHA2_256_128 },
		{ IKEV2_ENCR_NULL, 0, IKEV2_INTEG_HMAC_SHA2_256_128 },
		{ IKEV2_ENCR_AES_CTR, 128, IKEV2_INTEG_HMAC_SHA2_256_128 },
	};
	uint8_t key[CRYPTO_MAX_KEY] = { 0 };
	size_t i;

	for (i = 0; i < KITE_ARRAY_SIZE(bad); i++)
		assert_null(crypto_aead_new(bad[i].encr, bad[i].key_bits, bad[i].integ,
		    key, key));
	/* missing keys */
	assert_null(crypto_aead_new(IKEV2_ENCR_AES_GCM_16, 128, IKEV2_INTEG_NONE, NULL, NULL));
	assert_null(crypto_aead_new(IKEV2_ENCR_AES_CBC, 128, IKEV2_INTEG_HMAC_SHA2_256_128,
	    key, NULL));
	crypto_aead_free(NULL);
	assert_int_equal(crypto_aead_iv_len(NULL), 0);
	assert_int_equal(crypto_aead_icv_len(NULL), 0);
	assert_int_equal(crypto_aead_block_len(NULL), 0);
}

static void test_aead_bad_arguments(void **state)
{
	uint8_t key[CRYPTO_MAX_KEY] = { 0 }, iv[16] = { 0 }, buf[32] = { 0 }, icv[32];
	struct crypto_aead *a;

	a = crypto_aead_new(IKEV2_ENCR_AES_CBC, 128, IKEV2_INTEG_HMAC_SHA2_256_128, key, key);
	assert_non_null(a);
	/* CBC needs whole blocks (RFC 3602 2.4) */
	assert_int_equal(crypto_aead_seal(a, iv, NULL, 0, buf, 17, icv), KITE_ERR_INVAL);
	assert_int_equal(crypto_aead_open(a, iv, NULL, 0, buf, 15, icv), KITE_ERR_INVAL);
	assert_int_equal(crypto_aead_seal(a, NULL, NULL, 0, buf, 16, icv), KITE_ERR_INVAL);
	assert_int_equal(crypto_aead_seal(a, iv, NULL, 4, buf, 16, icv), KITE_ERR_INVAL);
	assert_int_equal(crypto_aead_seal(a, iv, NULL, 0, buf, 16, NULL), KITE_ERR_INVAL);
	assert_int_equal(crypto_aead_seal(NULL, iv, NULL, 0, buf, 16, icv), KITE_ERR_INVAL);
	crypto_aead_free(a);
	/* stream-like AEADs take any length */
	a = crypto_aead_new(IKEV2_ENCR_CHACHA20_POLY1305, 0, IKEV2_INTEG_NONE, key, NULL);
	assert_non_null(a);
	assert_int_equal(crypto_aead_seal(a, iv, NULL, 0, buf, 17, icv), 0);
	assert_int_equal(crypto_aead_open(a, iv, NULL, 0, buf, 17, icv), 0);
	crypto_aead_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_matches_build),
		cmocka_unit_test(test_init_is_idempotent),
		cmocka_unit_test(test_ct_eq_compares_every_byte),
		cmocka_unit_test(test_wipe_zeroes),
		cmocka_unit_test(test_random_fills_large_buffers),
		cmocka_unit_test(test_hmac_sha2_rfc4231_case1),
		cmocka_unit_test(test_hmac_sha2_rfc4231_case2),
		cmocka_unit_test(test_hmac_sha2_rfc4231_case6_long_key),
		cmocka_unit_test(test_hmac_sha2_rfc4231_case7_long_key_and_data),
		cmocka_unit_test(test_prf_two_part_data_equals_one_part),
		cmocka_unit_test(test_prf_lengths_and_unsupported_ids),
		cmocka_unit_test(test_prf_plus_follows_rfc7296_2_13),
		cmocka_unit_test(test_prf_plus_length_limit_is_255_blocks),
		cmocka_unit_test(test_ikev2_kdf_sp800_135_hmac_sha256),
		cmocka_unit_test(test_ikev2_kdf_sp800_135_hmac_sha384),
		cmocka_unit_test(test_hash_fips180_abc),
		cmocka_unit_test(test_sha1_two_parts_fips180_abc),
		cmocka_unit_test(test_x25519_rfc7748_6_1_alice_and_bob),
		cmocka_unit_test(test_x25519_rfc7748_5_2_masks_top_bit),
		cmocka_unit_test(test_x25519_low_order_points_rejected),
		cmocka_unit_test(test_x25519_wrong_length_rejected),
		cmocka_unit_test(test_ecp256_rfc5903_8_1),
		cmocka_unit_test(test_ecp384_rfc5903_8_2),
		cmocka_unit_test(test_ecp_invalid_points_rejected),
		cmocka_unit_test(test_ecp_private_key_length_checked),
		cmocka_unit_test(test_fresh_key_pairs_agree),
		cmocka_unit_test(test_modp2048_public_value_checks),
		cmocka_unit_test(test_modp3072_public_value_checks),
		cmocka_unit_test(test_modp2048_fixed_exponent_strongswan),
		cmocka_unit_test(test_modp_values_are_left_padded),
		cmocka_unit_test(test_dh_output_capacity_checked),
		cmocka_unit_test(test_dh_unsupported_groups),
		cmocka_unit_test(test_chacha20poly1305_rfc7634_appendix_a_esp),
		cmocka_unit_test(test_aes_gcm_draft_mcgrew_gcm_test_01_esp),
		cmocka_unit_test(test_aes_gcm_mcgrew_viega_cases_4_and_16),
		cmocka_unit_test(test_aes_cbc_rfc3602_case2_with_hmac_sha256_128),
		cmocka_unit_test(test_cbc_icv_rfc4868_2_7_2_auth_2),
		cmocka_unit_test(test_cbc_tamper_rejected_before_decrypt),
		cmocka_unit_test(test_aead_round_trip_every_combination),
		cmocka_unit_test(test_aead_contexts_are_independent),
		cmocka_unit_test(test_aead_key_lengths),
		cmocka_unit_test(test_aead_unsupported_combinations_return_null),
		cmocka_unit_test(test_aead_bad_arguments),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
