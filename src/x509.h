/*
 * x509: certificates for IKEv2 (RFC 7296 2.15, 3.6-3.8; RFC 4945; RFC 7427).
 * The second (and last) file allowed to include wolfSSL headers besides
 * crypto.c. The DER structure of certificates, names and algorithm
 * identifiers is walked here with kbuf (no pointer arithmetic on input);
 * wolfSSL does the arithmetic: hashes, RSA (PKCS#1 v1.5 and PSS), ECDSA,
 * Ed25519, base64, PKCS#8 decryption.
 *
 * Gateway authentication, in this order, before kite sends anything that
 * depends on the gateway being genuine (the first EAP response, its own AUTH):
 *
 *   x509_verify_chain(store, CERT payloads (encoding 4, first = end entity),
 *                     now, &ee, reason)
 *   x509_id_match(ee, IDr type, IDr data)        the certificate names IDr
 *   x509_id_equals_config(IDr, remote_id)        IDr is who we wanted
 *   x509_verify_auth(ee, AUTH method, AUTH data, responder signed octets)
 *
 * Policy (reliability.md 8):
 *   - chain: at most X509_MAX_DEPTH certificates below the trust anchor; each
 *     valid at `now` (the anchor too); every certificate signature SHA-2 based
 *     (RSA PKCS#1 v1.5, RSA-PSS, ECDSA) or Ed25519; CAs need basicConstraints
 *     cA=TRUE, keyCertSign when keyUsage is present, and their pathLen
 *     honoured; name constraints (dNSName, rfc822Name, iPAddress,
 *     directoryName) of every CA apply below it, other forms are refused;
 *     unknown critical extensions are refused;
 *   - keys: RSA >= 2048 bits (<= 8192), ECDSA P-256 or P-384, Ed25519;
 *   - end entity: keyUsage, when present, must allow digitalSignature or
 *     nonRepudiation (RFC 4945 5.1.3.2); extendedKeyUsage, when present, must
 *     contain serverAuth, id-kp-ipsecIKE (RFC 4945 5.1.3.12), anyExtendedKeyUsage,
 *     or the Microsoft/strongSwan ikeIntermediate (1.3.6.1.5.5.8.2.2);
 *   - AUTH: methods 9/10 (RFC 4754) and 14 (RFC 7427) with SHA-256/384/512;
 *     method 1 is RSA with SHA-1 (RFC 7296 3.8) and is refused, as are SHA-1
 *     in RFC 7427 (RFC 8247 3) and method 11 (P-521).
 *
 * Every refusal writes one line for the user into reason (when reason is not
 * NULL; reason_len bytes, always NUL-terminated), naming the certificate and
 * the cause: "certificate 'CN=gw.kite.test' expired on 2026-01-01 00:00:00 UTC",
 * "issuer not trusted (CN=Other CA)", "RSA key of 1024 bits is too weak (need
 * 2048)", "certificate is for 'other.example', not 'gw.kite.test'".
 * X509_REASON_LEN is always enough.
 *
 * Returns: 0, or KITE_ERR_VERIFY (policy or signature refusal), KITE_ERR_PARSE
 * (malformed DER), KITE_ERR_UNSUPPORTED (a form kite does not implement),
 * KITE_ERR_SYS (file access; errno kept), KITE_ERR_NOMEM, KITE_ERR_INVAL.
 */
#ifndef KITE_X509_H
#define KITE_X509_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define X509_MAX_DEPTH		4	/* certificates below the trust anchor (EE + 3 CAs) */
#define X509_MAX_CHAIN		8	/* CERT payloads looked at (IKE_MAX_CERT) */
#define X509_MAX_ANCHORS	1024
#define X509_MAX_CERT_LEN	16384	/* one DER certificate */
#define X509_MAX_FILE		(4 * 1024 * 1024)	/* a CA bundle */
#define X509_MIN_RSA_BITS	2048
#define X509_MAX_RSA_BITS	8192
#define X509_REASON_LEN		320
#define X509_KEYHASH_LEN	20	/* SHA-1, RFC 7296 3.7 */
#define X509_MAX_AUTH		1200	/* AUTH data of method 14 for RSA-8192 */
#define X509_SYSTEM_BUNDLE	"/etc/ssl/certs/ca-certificates.crt"
#define X509_SYSTEM_DIR		"/etc/ssl/certs"

struct x509_store;	/* trust anchors */
struct x509_cert;	/* one parsed certificate (owns a copy of its DER) */
struct x509_key;	/* a private key */

/* ---- trust anchors ---- */

/*
 * Load trust anchors from ca: a file (PEM with one or more CERTIFICATE blocks,
 * or one DER certificate), a directory (every regular file in it, symbolic
 * links followed; files that hold no certificate are skipped, duplicates
 * kept once), or "system": X509_SYSTEM_BUNDLE, else X509_SYSTEM_DIR. At least
 * one usable anchor is required. Anchors whose key kite refuses (RSA-1024,
 * P-521, DSA, ...) are kept, so that a chain ending there is refused with the
 * reason, but are not named in CERTREQ. *out is NULL on failure.
 */
int x509_store_load(struct x509_store **out, const char *ca, char *reason, size_t reason_len);
/* An empty store, for x509_store_add (tests, or anchors from memory). */
struct x509_store *x509_store_new(void);
/* Add one DER certificate as a trust anchor (duplicates ignored). */
int x509_store_add(struct x509_store *s, const uint8_t *der, size_t len,
		   char *reason, size_t reason_len);
size_t x509_store_count(const struct x509_store *s);
void x509_store_free(struct x509_store *s);

/*
 * CERTREQ "Certification Authority" data (RFC 7296 3.7): the SHA-1 hashes of
 * the SubjectPublicKeyInfo of each usable anchor, concatenated, as many as fit
 * in cap (a multiple of X509_KEYHASH_LEN is used). *len is the bytes written.
 * The CERTREQ payload's encoding is 4 (X.509 Certificate - Signature).
 */
int x509_ca_keyhash(const struct x509_store *s, uint8_t *out, size_t cap, size_t *len);

/* ---- certificates ---- */

/* One DER certificate (exactly len bytes). NULL and a reason on failure. */
struct x509_cert *x509_cert_parse(const uint8_t *der, size_t len, char *reason, size_t reason_len);
/*
 * Certificates from a file (PEM, first block = end entity, the rest
 * intermediates to send along; or one DER certificate). Up to max into out;
 * *n set. On failure nothing is returned (and *n is 0).
 */
int x509_cert_load(const char *path, struct x509_cert **out, size_t max, size_t *n,
		   char *reason, size_t reason_len);
void x509_cert_free(struct x509_cert *c);
/* The DER, for a CERT payload (encoding 4). Valid until x509_cert_free. */
const uint8_t *x509_cert_der(const struct x509_cert *c, size_t *len);
/* The subject Name's DER, for IDi of type ID_DER_ASN1_DN (RFC 7296 3.5). */
const uint8_t *x509_cert_subject(const struct x509_cert *c, size_t *len);
/* "C=CH, O=kite, CN=gw.kite.test" (attribute types in certificate order). */
const char *x509_cert_name(const struct x509_cert *c);
/* notAfter, for warnings about certificates about to expire. */
time_t x509_cert_not_after(const struct x509_cert *c);

/*
 * Build and check a path from certs[0] (the end entity; certs[1..n) are
 * candidate intermediates in any order, extras ignored) to a trust anchor in
 * s, at time now (a certificate that is itself an anchor, byte for byte, is
 * trusted directly). On success *ee (if ee is not NULL) is the parsed end
 * entity, owned by the caller. Certificates past X509_MAX_CHAIN are ignored;
 * a malformed one other than the first is skipped (the path may not need it).
 */
int x509_verify_chain(const struct x509_store *s, const uint8_t *const certs[],
		      const size_t lens[], size_t n, time_t now, struct x509_cert **ee,
		      char *reason, size_t reason_len);

/*
 * Does the certificate carry this identity (IKEv2 ID type and data, RFC 7296
 * 3.5)? ID_FQDN: a subjectAltName dNSName, compared without case (no
 * wildcards); ID_IPV4_ADDR / ID_IPV6_ADDR: an iPAddress; ID_RFC822_ADDR: an
 * rfc822Name, without case; ID_DER_ASN1_DN: the subject Name, DER byte for
 * byte. Other types: KITE_ERR_UNSUPPORTED. The subject CN is never used for
 * FQDN (RFC 4945 3.1.x). 0 when it does, KITE_ERR_VERIFY and a reason when not.
 */
int x509_id_match(const struct x509_cert *c, uint8_t id_type, const uint8_t *id, size_t id_len,
		  char *reason, size_t reason_len);

/*
 * Is the identity (IDr as received) the configured remote_id? remote_id is
 * config text: an IPv4/IPv6 address, "user@domain", a DN with '=' in it
 * ("C=CH, O=kite, CN=gw"; compared attribute by attribute, types without
 * case, values exactly, blanks around ',' and '=' ignored), or a host name
 * (compared without case). 1 when equal, 0 otherwise.
 */
int x509_id_equals_config(uint8_t id_type, const uint8_t *id, size_t id_len,
			  const char *remote_id);

/*
 * Printable form of an identity for messages ("gw.kite.test", "192.0.2.1",
 * "C=CH, CN=gw"); out is always NUL-terminated.
 */
void x509_id_string(uint8_t id_type, const uint8_t *id, size_t id_len, char *out, size_t cap);

/*
 * Verify an AUTH payload (RFC 7296 3.8) made with c's key over the signed
 * octets (RFC 7296 2.15: the responder's are RealMessage2 | NonceIData |
 * prf(SK_pr, IDr')). method: IKEV2_AUTH_ECDSA_256/384 (RFC 4754: r | s,
 * SHA-256/384, the key's curve must match) or IKEV2_AUTH_DIGITAL_SIGNATURE
 * (RFC 7427: 1-byte length, AlgorithmIdentifier, signature). 0 when genuine.
 */
int x509_verify_auth(const struct x509_cert *c, uint8_t method, const uint8_t *auth,
		     size_t auth_len, const uint8_t *signed_octets, size_t signed_len,
		     char *reason, size_t reason_len);

/*
 * Data of the SIGNATURE_HASH_ALGORITHMS notify kite sends in IKE_SA_INIT
 * (RFC 7427 4): SHA2-256, SHA2-384, SHA2-512, Identity (RFC 8420); 8 bytes.
 */
size_t x509_sig_hash_notify(uint8_t out[8]);

/* ---- the client's own key (auth = cert) ---- */

/*
 * Passphrase for an encrypted key: write at most cap bytes into buf and
 * return the length, or a negative value to give up. kite asks on the
 * terminal without echo or through the control socket; buf is wiped after use.
 */
typedef int (*x509_passphrase_cb)(char *buf, size_t cap, void *arg);

/*
 * A private key: PEM ("RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY",
 * "ENCRYPTED PRIVATE KEY" = PKCS#8 with PBES2, whose passphrase comes from cb)
 * or DER of the same forms; RSA (2048..8192 bits), ECDSA P-256/P-384 or
 * Ed25519. Legacy OpenSSL encryption ("Proc-Type: 4,ENCRYPTED") is refused
 * with advice to convert the key to PKCS#8. x509_key_load also refuses a file
 * that is not a regular file, or is readable or writable by group or others.
 */
struct x509_key *x509_key_parse(const uint8_t *data, size_t len, x509_passphrase_cb cb,
				void *arg, char *reason, size_t reason_len);
struct x509_key *x509_key_load(const char *path, x509_passphrase_cb cb, void *arg,
			       char *reason, size_t reason_len);
/* Wipes the key. NULL-safe. */
void x509_key_free(struct x509_key *k);
/* 1 when the certificate holds this key's public half. */
int x509_key_matches_cert(const struct x509_key *k, const struct x509_cert *c);

#define X509_SIGN_RSA_PKCS1	0x1	/* RSA: PKCS#1 v1.5 instead of PSS */

/*
 * AUTH data for method 14 (RFC 7427) over the initiator's signed octets
 * (RealMessage1 | NonceRData | prf(SK_pi, IDi')): ECDSA P-256 with SHA-256,
 * P-384 with SHA-384, RSA-PSS with SHA-256 (MGF1-SHA-256, salt 32, encoded as
 * RFC 7427 A.4.1; X509_SIGN_RSA_PKCS1 selects sha256WithRSAEncryption),
 * Ed25519. out holds X509_MAX_AUTH bytes; *method is set to
 * IKEV2_AUTH_DIGITAL_SIGNATURE.
 */
int x509_sign_auth(const struct x509_key *k, unsigned flags, const uint8_t *signed_octets,
		   size_t signed_len, uint8_t *method, uint8_t *out, size_t cap, size_t *out_len,
		   char *reason, size_t reason_len);

#endif
