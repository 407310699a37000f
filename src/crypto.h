/*
 * crypto: the only door to wolfSSL. Everything is addressed by IKEv2 transform
 * IDs (ikev2.h). Keys are wiped (crypto_wipe) when contexts are freed.
 *
 * Return values: 0 or a negative enum kite_err (KITE_ERR_UNSUPPORTED for an ID
 * kite does not implement, KITE_ERR_VERIFY for a failed ICV or a rejected DH
 * public value, KITE_ERR_CRYPTO for a backend failure).
 */
#ifndef KITE_CRYPTO_H
#define KITE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_MAX_PRF_LEN	64	/* HMAC-SHA2-512 */
#define CRYPTO_MAX_DH_PUB	1024	/* MODP-8192 would be 1024; kite uses <= 384 */
#define CRYPTO_MAX_DH_SECRET	512
#define CRYPTO_MAX_ICV		32
#define CRYPTO_MAX_IV		16
#define CRYPTO_MAX_KEY		64

/*
 * Startup: initialise wolfSSL and the RNG, then run known-answer self-tests
 * (HMAC-SHA-256, RFC 4231 case 2; AES-GCM, McGrew-Viega case 2, through the
 * crypto_aead path). Fails closed: KITE_ERR_CRYPTO and nothing initialised.
 * Must succeed before crypto_random() and crypto_dh_new*(). A second call
 * is a no-op. crypto_fini() releases the RNG; safe when init never ran.
 */
int crypto_init(void);
void crypto_fini(void);
/* "wolfSSL 5.5.4 (x86-64 asm: AES-NI, intelasm, SP asm)" or "... (no asm)". */
const char *crypto_version(void);
/* 1 when this build carries wolfSSL's x86-64 assembly. */
int crypto_has_asm(void);

/* len bytes from wolfSSL's Hash-DRBG. KITE_ERR_INVAL before crypto_init(). */
int crypto_random(void *buf, size_t len);
/* Constant-time equality: 1 if equal. */
int crypto_ct_eq(const void *a, const void *b, size_t len);
/* Wipe memory the compiler cannot optimise away. */
void crypto_wipe(void *p, size_t len);

/* ---- PRF (RFC 7296 2.13, RFC 4868) ---- */

/* Output length of a PRF, 0 if unsupported (only HMAC-SHA2-256/384/512). */
size_t crypto_prf_len(uint16_t prf);
/* out receives crypto_prf_len(prf) bytes. data may be split in two parts (data2 may be NULL).
 * Keys of any length are accepted (HMAC hashes long ones, RFC 2104 2). */
int crypto_prf(uint16_t prf, const uint8_t *key, size_t key_len,
	       const uint8_t *data, size_t data_len,
	       const uint8_t *data2, size_t data2_len, uint8_t *out);
/* prf+ (RFC 7296 2.13): out_len bytes of T1 | T2 | ... ; out_len <= 255 * prf_len,
 * KITE_ERR_INVAL beyond. out is wiped on failure. */
int crypto_prf_plus(uint16_t prf, const uint8_t *key, size_t key_len,
		    const uint8_t *seed, size_t seed_len, uint8_t *out, size_t out_len);

/* Plain hash by PRF ID's hash (SHA-256/384/512); out gets crypto_prf_len(prf) bytes. */
int crypto_hash(uint16_t prf, const uint8_t *data, size_t len, uint8_t *out);
/* SHA-1 for NAT-D (RFC 7296 2.23 mandates SHA-1 there; not used for security). 20 bytes. */
int crypto_sha1(const uint8_t *d1, size_t l1, const uint8_t *d2, size_t l2, uint8_t out[20]);

/* ---- Key exchange (RFC 7296 2.10; RFC 6989; RFC 7748 6.1; RFC 5903) ---- */

struct crypto_dh;

/* 1 if kite implements the group: 14, 15, 19, 20, 31. MODP-1024 (2) and the
 * other weak groups are not supported at all (RFC 8247 2.4). */
int crypto_dh_supported(uint16_t group);
/* Length of the KE payload data for the group, 0 if unsupported. */
size_t crypto_dh_pub_len(uint16_t group);
/* New key pair for group; NULL if unsupported or on failure. The caller owns
 * it and frees it with crypto_dh_free(). Needs crypto_init(). */
struct crypto_dh *crypto_dh_new(uint16_t group);
/*
 * Test hook: key pair from a fixed private key (for known-answer tests).
 * MODP: big-endian exponent, 1..prime-length bytes. ECP: big-endian scalar of
 * exactly the field size (32, 48). X25519: 32-byte little-endian scalar as in
 * RFC 7748 (clamped here, as X25519 does). NULL on a wrong length.
 */
struct crypto_dh *crypto_dh_new_priv(uint16_t group, const uint8_t *priv, size_t priv_len);
uint16_t crypto_dh_group(const struct crypto_dh *dh);
/*
 * Our public value as it goes on the wire (MODP: left-padded to the prime's
 * length; ECP: x || y, no 0x04 prefix; X25519: 32 bytes LE).
 * *len is the capacity of out on input (CRYPTO_MAX_DH_PUB always suffices)
 * and the length written on output; KITE_ERR_INVAL if out is too small.
 */
int crypto_dh_pub(const struct crypto_dh *dh, uint8_t *out, size_t *len);
/*
 * Shared secret from the peer's public value. The peer value is validated first
 * (length = crypto_dh_pub_len; MODP 1 < y < p-1, RFC 6989 2.1; ECP coordinates
 * < p, on the curve, not the point at infinity; X25519 result not all-zero,
 * RFC 7748 6.1): KITE_ERR_VERIFY when rejected. X25519 masks the top bit of the
 * peer's u-coordinate (RFC 7748 5). MODP secrets are left-padded to the prime's
 * length (RFC 7296 2.14); ECP secrets are the x coordinate, 32 or 48 bytes
 * (RFC 5903 7); X25519 secrets are 32 bytes.
 * *out_len is the capacity of out on input (CRYPTO_MAX_DH_SECRET always
 * suffices) and the secret's length on output; 0 on any failure. The key pair
 * stays usable after a rejected peer value.
 */
int crypto_dh_shared(struct crypto_dh *dh, const uint8_t *peer, size_t peer_len,
		     uint8_t *out, size_t *out_len);
/* Wipes the private key. NULL-safe. */
void crypto_dh_free(struct crypto_dh *dh);

/* ---- Symmetric protection for SK payloads and ESP ----
 *
 * One context covers an AEAD (AES-GCM-16 128/256, ChaCha20-Poly1305) or a
 * cipher + integrity pair (AES-CBC 128/256 + HMAC-SHA2-256-128 / 384-192 / 512-256).
 *
 * enc_key: for AES-GCM the AES key followed by the 4-byte salt (RFC 4106 8.1,
 * RFC 5282 7.1); for ChaCha20-Poly1305 the 32-byte key and 4-byte salt (RFC 7634 2);
 * for AES-CBC the AES key. integ_key: the HMAC key (NULL for AEAD).
 *
 * seal/open work in place on buf (len bytes of plaintext/ciphertext). The caller
 * lays out the packet: aad is authenticated but not encrypted. For AEAD the
 * ICV covers aad and ciphertext, and the IV is not authenticated separately
 * (it is part of the nonce). For CBC+HMAC the ICV is HMAC(aad || iv || ciphertext),
 * truncated (encrypt-then-MAC, RFC 7296 3.14 and RFC 4303 3.3.2).
 * len must be a multiple of crypto_aead_block_len() for CBC.
 * open() compares the ICV in constant time; a forged packet never leaves
 * plaintext behind (see crypto_aead_open below).
 * Neither allocates: safe on the per-packet path.
 */
struct crypto_aead;

/* Key material lengths in bytes, 0 if the combination is unsupported. */
size_t crypto_aead_enc_key_len(uint16_t encr, uint16_t key_bits);
size_t crypto_aead_integ_key_len(uint16_t integ);
/* 1 for AEAD transforms (no separate integrity transform allowed). This says what
 * the ID is, not that kite implements it: AES-GCM-8/12 are AEAD but unsupported. */
int crypto_encr_is_aead(uint16_t encr);

/*
 * key_bits: the Key Length attribute, AES key bits without the salt (128 or
 * 256); ChaCha20-Poly1305 takes 0 (attribute absent, RFC 7634 2) or 256.
 * NULL for anything unsupported: another key size, an AEAD with an integrity
 * transform, AES-CBC without one, missing keys. The keys are copied into
 * wolfSSL's contexts once (the caller may wipe its copies); the caller owns
 * the context and frees it with crypto_aead_free(). Contexts share no state.
 */
struct crypto_aead *crypto_aead_new(uint16_t encr, uint16_t key_bits, uint16_t integ,
				    const uint8_t *enc_key, const uint8_t *integ_key);
size_t crypto_aead_iv_len(const struct crypto_aead *a);	/* 8 for AEAD, 16 for CBC */
size_t crypto_aead_icv_len(const struct crypto_aead *a);	/* 16; 16/24/32 for HMAC */
size_t crypto_aead_block_len(const struct crypto_aead *a);	/* 16 for CBC, 1 for AEAD */
/*
 * iv is crypto_aead_iv_len() bytes, icv crypto_aead_icv_len() bytes (written by
 * seal, read by open). aad may be NULL when aad_len is 0. KITE_ERR_INVAL for bad
 * arguments, including a CBC len that is not a whole number of blocks.
 *
 * open returns KITE_ERR_VERIFY when the ICV does not match, and then buf still
 * holds the ciphertext, untouched: CBC+HMAC and ChaCha20-Poly1305 verify before
 * decrypting; wolfSSL's AES-GCM decrypts first, so open re-applies the
 * keystream to put the ciphertext back. No unauthenticated plaintext is left
 * in buf. After KITE_ERR_CRYPTO (a backend failure) buf is unspecified.
 */
int crypto_aead_seal(struct crypto_aead *a, const uint8_t *iv,
		     const uint8_t *aad, size_t aad_len,
		     uint8_t *buf, size_t len, uint8_t *icv);
int crypto_aead_open(struct crypto_aead *a, const uint8_t *iv,
		     const uint8_t *aad, size_t aad_len,
		     uint8_t *buf, size_t len, const uint8_t *icv);
/* Wipes the keys. NULL-safe. */
void crypto_aead_free(struct crypto_aead *a);

/* ---- legacy primitives for EAP (never IKE/ESP algorithms) ----
 *
 * EAP-MSCHAPv2 (RFC 2759) is built from MD4, single DES and SHA-1, and
 * EAP-MD5 (RFC 3748 5.4, RFC 1994) from MD5. They exist here only for eap.c;
 * nothing that negotiates IKE or ESP transforms may use them. Builds of
 * wolfSSL without one of them return KITE_ERR_UNSUPPORTED.
 */

/* MD4 (RFC 1320) of data; 16 bytes. */
int crypto_md4(const uint8_t *data, size_t len, uint8_t out[16]);
/* MD5 (RFC 1321) of d1 | d2 | d3 (any part may be NULL with length 0); 16 bytes. */
int crypto_md5(const uint8_t *d1, size_t l1, const uint8_t *d2, size_t l2,
	       const uint8_t *d3, size_t l3, uint8_t out[16]);
/*
 * One DES block in ECB mode. key_len 8: a DES key as is (parity bits ignored);
 * key_len 7: 56 key bits, spread over 8 bytes with odd parity as RFC 2759 8.6
 * (DesEncrypt) requires. KITE_ERR_INVAL for any other length.
 */
int crypto_des_ecb_encrypt(const uint8_t *key, size_t key_len, const uint8_t in[8],
			   uint8_t out[8]);

#endif
