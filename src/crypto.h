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

/* Startup: initialise wolfSSL and the RNG; run the known-answer self-tests. */
int crypto_init(void);
void crypto_fini(void);
/* "wolfSSL 5.5.4 (x86-64 asm: AES-NI, intelasm, SP asm)" or "... (no asm)". */
const char *crypto_version(void);
/* 1 when this build carries wolfSSL's x86-64 assembly. */
int crypto_has_asm(void);

int crypto_random(void *buf, size_t len);
/* Constant-time equality: 1 if equal. */
int crypto_ct_eq(const void *a, const void *b, size_t len);
/* Wipe memory the compiler cannot optimise away. */
void crypto_wipe(void *p, size_t len);

/* ---- PRF (RFC 7296 2.13, RFC 4868) ---- */

/* Output length of a PRF, 0 if unsupported (only HMAC-SHA2-256/384/512). */
size_t crypto_prf_len(uint16_t prf);
/* out receives crypto_prf_len(prf) bytes. data may be split in two parts (data2 may be NULL). */
int crypto_prf(uint16_t prf, const uint8_t *key, size_t key_len,
	       const uint8_t *data, size_t data_len,
	       const uint8_t *data2, size_t data2_len, uint8_t *out);
/* prf+ (RFC 7296 2.13): out_len bytes of T1 | T2 | ... ; out_len <= 255 * prf_len. */
int crypto_prf_plus(uint16_t prf, const uint8_t *key, size_t key_len,
		    const uint8_t *seed, size_t seed_len, uint8_t *out, size_t out_len);

/* Plain hash by PRF ID's hash (SHA-256/384/512); out gets crypto_prf_len(prf) bytes. */
int crypto_hash(uint16_t prf, const uint8_t *data, size_t len, uint8_t *out);
/* SHA-1 for NAT-D (RFC 7296 2.23 mandates SHA-1 there; not used for security). 20 bytes. */
int crypto_sha1(const uint8_t *d1, size_t l1, const uint8_t *d2, size_t l2, uint8_t out[20]);

/* ---- Key exchange (RFC 7296 2.10; RFC 6989; RFC 7748 6.1; RFC 5903) ---- */

struct crypto_dh;

/* 1 if kite implements the group (14, 15, 19, 20, 31; 2 only if allow_weak). */
int crypto_dh_supported(uint16_t group);
/* Length of the KE payload data for the group, 0 if unsupported. */
size_t crypto_dh_pub_len(uint16_t group);
/* New key pair for group; NULL if unsupported or on failure. */
struct crypto_dh *crypto_dh_new(uint16_t group);
/* Test hook: key pair from a fixed private key (for known-answer tests). */
struct crypto_dh *crypto_dh_new_priv(uint16_t group, const uint8_t *priv, size_t priv_len);
uint16_t crypto_dh_group(const struct crypto_dh *dh);
/* Our public value as it goes on the wire (ECP: x || y; X25519: 32 bytes LE). */
int crypto_dh_pub(const struct crypto_dh *dh, uint8_t *out, size_t *len);
/*
 * Shared secret from the peer's public value. The peer value is validated first
 * (length = crypto_dh_pub_len; MODP 1 < y < p-1; ECP on the curve; X25519 result
 * not all-zero): KITE_ERR_VERIFY when rejected. MODP secrets are left-padded to
 * the prime's length (RFC 7296 2.14).
 */
int crypto_dh_shared(struct crypto_dh *dh, const uint8_t *peer, size_t peer_len,
		     uint8_t *out, size_t *out_len);
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
 * open() compares the ICV in constant time and decrypts only after it verifies.
 * Neither allocates: safe on the per-packet path.
 */
struct crypto_aead;

/* Key material lengths in bytes, 0 if the combination is unsupported. */
size_t crypto_aead_enc_key_len(uint16_t encr, uint16_t key_bits);
size_t crypto_aead_integ_key_len(uint16_t integ);
/* 1 for AEAD transforms (no separate integrity transform allowed). */
int crypto_encr_is_aead(uint16_t encr);

struct crypto_aead *crypto_aead_new(uint16_t encr, uint16_t key_bits, uint16_t integ,
				    const uint8_t *enc_key, const uint8_t *integ_key);
size_t crypto_aead_iv_len(const struct crypto_aead *a);	/* 8 for AEAD, 16 for CBC */
size_t crypto_aead_icv_len(const struct crypto_aead *a);	/* 16; 16/24/32 for HMAC */
size_t crypto_aead_block_len(const struct crypto_aead *a);	/* 16 for CBC, 1 for AEAD */
int crypto_aead_seal(struct crypto_aead *a, const uint8_t *iv,
		     const uint8_t *aad, size_t aad_len,
		     uint8_t *buf, size_t len, uint8_t *icv);
int crypto_aead_open(struct crypto_aead *a, const uint8_t *iv,
		     const uint8_t *aad, size_t aad_len,
		     uint8_t *buf, size_t len, const uint8_t *icv);
void crypto_aead_free(struct crypto_aead *a);

#endif
