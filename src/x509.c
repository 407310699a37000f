/* x509: see x509.h. wolfSSL does arithmetic; the DER walking is ours, over kbuf. */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/types.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/sha.h>
#include <wolfssl/wolfcrypt/rsa.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/asn_public.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kite.h"
#include "ikev2.h"
#include "kbuf.h"
#include "log.h"
#include "crypto.h"
#include "x509.h"

#if !defined(WC_RSA_PSS) || !defined(HAVE_ECC) || !defined(HAVE_ED25519) || \
    !defined(WOLFSSL_SHA384) || !defined(WOLFSSL_SHA512) || defined(NO_RSA)
#error "wolfSSL lacks an algorithm x509.c needs (see packaging/wolfssl.sh)"
#endif

/* ---- DER tags and object identifiers (content octets) ---- */

#define T_BOOLEAN	0x01
#define T_INTEGER	0x02
#define T_BITSTRING	0x03
#define T_OCTETSTRING	0x04
#define T_NULL		0x05
#define T_OID		0x06
#define T_UTF8STRING	0x0c
#define T_PRINTABLE	0x13
#define T_T61STRING	0x14
#define T_IA5STRING	0x16
#define T_UTCTIME	0x17
#define T_GENTIME	0x18
#define T_UNIVERSAL	0x1c
#define T_BMPSTRING	0x1e
#define T_SEQUENCE	0x30
#define T_SET		0x31
#define T_CTX(n)	(0x80 | (n))	/* [n] IMPLICIT primitive */
#define T_CTXC(n)	(0xa0 | (n))	/* [n] constructed / EXPLICIT */

struct oid {
	const uint8_t *p;
	size_t len;
};
#define OID(name, ...) static const uint8_t name##_b[] = { __VA_ARGS__ }; \
	static const struct oid name = { name##_b, sizeof(name##_b) }

/* PKCS #1 (RFC 8017 A.2) */
OID(oid_rsa, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01);
OID(oid_md5_rsa, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04);
OID(oid_sha1_rsa, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05);
OID(oid_mgf1, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08);
OID(oid_rsa_pss, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a);
OID(oid_sha256_rsa, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b);
OID(oid_sha384_rsa, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c);
OID(oid_sha512_rsa, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d);
OID(oid_sha224_rsa, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0e);
/* hashes (NIST, RFC 5754) */
OID(oid_sha1, 0x2b, 0x0e, 0x03, 0x02, 0x1a);
OID(oid_sha256, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01);
OID(oid_sha384, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02);
OID(oid_sha512, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03);
/* EC (RFC 5480, RFC 5758) */
OID(oid_ec_pub, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01);
OID(oid_p256, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07);
OID(oid_p384, 0x2b, 0x81, 0x04, 0x00, 0x22);
OID(oid_p521, 0x2b, 0x81, 0x04, 0x00, 0x23);
OID(oid_ecdsa_sha1, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01);
OID(oid_ecdsa_sha256, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02);
OID(oid_ecdsa_sha384, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03);
OID(oid_ecdsa_sha512, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04);
/* Ed25519 (RFC 8410) */
OID(oid_ed25519, 0x2b, 0x65, 0x70);
/* certificate extensions (RFC 5280 4.2) */
OID(oid_ext_skid, 0x55, 0x1d, 0x0e);
OID(oid_ext_ku, 0x55, 0x1d, 0x0f);
OID(oid_ext_san, 0x55, 0x1d, 0x11);
OID(oid_ext_ian, 0x55, 0x1d, 0x12);
OID(oid_ext_bc, 0x55, 0x1d, 0x13);
OID(oid_ext_nc, 0x55, 0x1d, 0x1e);
OID(oid_ext_crldp, 0x55, 0x1d, 0x1f);
OID(oid_ext_policies, 0x55, 0x1d, 0x20);
OID(oid_ext_policy_map, 0x55, 0x1d, 0x21);
OID(oid_ext_akid, 0x55, 0x1d, 0x23);
OID(oid_ext_policy_cons, 0x55, 0x1d, 0x24);
OID(oid_ext_eku, 0x55, 0x1d, 0x25);
OID(oid_ext_freshest, 0x55, 0x1d, 0x2e);
OID(oid_ext_inhibit_any, 0x55, 0x1d, 0x36);
OID(oid_ext_aia, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01);
/* extended key usages */
OID(oid_kp_server, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01);
OID(oid_kp_client, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02);
OID(oid_kp_ipsec_ike, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x11);	/* RFC 4945 */
OID(oid_kp_any, 0x55, 0x1d, 0x25, 0x00);
OID(oid_kp_ike_intermediate, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x08, 0x02, 0x02);

static int oid_eq(struct kbuf oid, const struct oid *want)
{
	return kbuf_left(&oid) == want->len && memcmp(kbuf_cur(&oid), want->p, want->len) == 0;
}

/* Dotted form of an OID for messages. */
static void oid_str(const uint8_t *p, size_t len, char *out, size_t cap)
{
	unsigned long v = 0;
	size_t i, o = 0;
	int first = 1, n;

	out[0] = '\0';
	for (i = 0; i < len && o + 1 < cap; i++) {
		if (v > (~0UL >> 7)) {
			snprintf(out, cap, "(long OID)");
			return;
		}
		v = v << 7 | (p[i] & 0x7f);
		if (p[i] & 0x80)
			continue;
		if (first) {
			unsigned long a = v < 80 ? v / 40 : 2;

			n = snprintf(out + o, cap - o, "%lu.%lu", a, v - 40 * a);
			first = 0;
		} else {
			n = snprintf(out + o, cap - o, ".%lu", v);
		}
		if (n < 0 || (size_t)n >= cap - o)
			return;
		o += (size_t)n;
		v = 0;
	}
}

/* ---- messages ---- */

static void why(char *reason, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void why(char *reason, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (reason == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, len, fmt, ap);
	va_end(ap);
}

static void fmt_time(time_t t, char *out, size_t cap)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, cap, "@%lld", (long long)t);
}

/* ---- DER reading (X.690 10: definite, minimal lengths; one-byte tags) ---- */

struct view {
	const uint8_t *p;
	size_t len;
};

/*
 * Next TLV of any tag: content cursor and the whole TLV. A failed read
 * consumes nothing.
 */
static int der_any(struct kbuf *b, uint8_t *tag, struct kbuf *content, struct view *tlv)
{
	struct kbuf c = *b;
	const uint8_t *start = kbuf_cur(b);
	uint8_t t, l, x;
	size_t len = 0;
	int i;

	if (kbuf_get_u8(&c, &t) != 0 || (t & 0x1f) == 0x1f || kbuf_get_u8(&c, &l) != 0)
		return -1;
	if (l < 0x80) {
		len = l;
	} else {
		if (l == 0x80 || l > 0x84)
			return -1;	/* indefinite, or beyond 4 GB */
		for (i = 0; i < (l & 0x7f); i++) {
			if (kbuf_get_u8(&c, &x) != 0 || (i == 0 && x == 0))
				return -1;
			len = len << 8 | x;
		}
		if (len < 0x80)
			return -1;	/* not minimal */
	}
	if (kbuf_get_sub(&c, content, len) != 0)
		return -1;
	if (tlv != NULL) {
		tlv->p = start;
		tlv->len = c.off - b->off;
	}
	if (tag != NULL)
		*tag = t;
	*b = c;
	return 0;
}

static int der_get(struct kbuf *b, uint8_t tag, struct kbuf *content, struct view *tlv)
{
	struct kbuf c = *b;
	uint8_t t;

	if (der_any(&c, &t, content, tlv) != 0 || t != tag)
		return -1;
	*b = c;
	return 0;
}

/* Optional element: 0 and *present = 0 when the next tag differs (or at the end). */
static int der_opt(struct kbuf *b, uint8_t tag, struct kbuf *content, struct view *tlv,
		   int *present)
{
	uint8_t t;

	*present = 0;
	if (kbuf_peek_u8(b, &t) != 0 || t != tag)
		return 0;
	if (der_get(b, tag, content, tlv) != 0)
		return -1;
	*present = 1;
	return 0;
}

/* Non-negative INTEGER up to max. */
static int der_small_int(struct kbuf *b, long max, long *out)
{
	struct kbuf c;
	uint8_t x;
	long v = 0;
	size_t n;

	if (der_get(b, T_INTEGER, &c, NULL) != 0 || (n = kbuf_left(&c)) == 0 || n > 4)
		return -1;
	if (kbuf_cur(&c)[0] & 0x80)
		return -1;
	if (n > 1 && kbuf_cur(&c)[0] == 0 && !(kbuf_cur(&c)[1] & 0x80))
		return -1;
	while (kbuf_get_u8(&c, &x) == 0)
		v = v << 8 | x;
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int der_bool(struct kbuf *b, int *out)
{
	struct kbuf c;
	uint8_t x;

	if (der_get(b, T_BOOLEAN, &c, NULL) != 0 || kbuf_left(&c) != 1 ||
	    kbuf_get_u8(&c, &x) != 0)
		return -1;
	*out = x != 0;
	return 0;
}

/* BIT STRING content without the unused-bits octet (which must be 0 for keys/signatures). */
static int der_bits0(struct kbuf *b, struct view *out)
{
	struct kbuf c;
	uint8_t unused;

	if (der_get(b, T_BITSTRING, &c, NULL) != 0 || kbuf_get_u8(&c, &unused) != 0 ||
	    unused != 0)
		return -1;
	out->p = kbuf_cur(&c);
	out->len = kbuf_left(&c);
	return 0;
}

/* ---- time (RFC 5280 4.1.2.5) ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const uint8_t *p, size_t n, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

/* UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ, as DER requires. */
static int der_time(struct kbuf *b, time_t *out)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	struct kbuf c;
	const uint8_t *p;
	unsigned y, mo, d, h, mi, s;
	uint8_t tag;
	size_t n;

	if (der_any(b, &tag, &c, NULL) != 0)
		return -1;
	p = kbuf_cur(&c);
	n = kbuf_left(&c);
	if (tag == T_UTCTIME && n == 13) {
		if (digits(p, 2, &y) != 0)
			return -1;
		y += y >= 50 ? 1900 : 2000;
		p += 2;
	} else if (tag == T_GENTIME && n == 15) {
		if (digits(p, 4, &y) != 0)
			return -1;
		p += 4;
	} else {
		return -1;
	}
	if (digits(p, 2, &mo) != 0 || digits(p + 2, 2, &d) != 0 || digits(p + 4, 2, &h) != 0 ||
	    digits(p + 6, 2, &mi) != 0 || digits(p + 8, 2, &s) != 0 || p[10] != 'Z')
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || s > 59)
		return -1;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	*out = (time_t)(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s);
	return 0;
}

/* ---- names ---- */

static const struct {
	const char *name;
	const struct oid oid;
} dn_attrs[] = {
	{ "CN", { (const uint8_t *)"\x55\x04\x03", 3 } },
	{ "SN", { (const uint8_t *)"\x55\x04\x04", 3 } },
	{ "serialNumber", { (const uint8_t *)"\x55\x04\x05", 3 } },
	{ "C", { (const uint8_t *)"\x55\x04\x06", 3 } },
	{ "L", { (const uint8_t *)"\x55\x04\x07", 3 } },
	{ "ST", { (const uint8_t *)"\x55\x04\x08", 3 } },
	{ "street", { (const uint8_t *)"\x55\x04\x09", 3 } },
	{ "O", { (const uint8_t *)"\x55\x04\x0a", 3 } },
	{ "OU", { (const uint8_t *)"\x55\x04\x0b", 3 } },
	{ "title", { (const uint8_t *)"\x55\x04\x0c", 3 } },
	{ "GN", { (const uint8_t *)"\x55\x04\x2a", 3 } },
	{ "initials", { (const uint8_t *)"\x55\x04\x2b", 3 } },
	{ "dnQualifier", { (const uint8_t *)"\x55\x04\x2e", 3 } },
	{ "pseudonym", { (const uint8_t *)"\x55\x04\x41", 3 } },
	{ "E", { (const uint8_t *)"\x2a\x86\x48\x86\xf7\x0d\x01\x09\x01", 9 } },
	{ "DC", { (const uint8_t *)"\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x19", 10 } },
	{ "UID", { (const uint8_t *)"\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x01", 10 } },
};

/* Short name of an attribute type, or its dotted OID in buf. */
static const char *attr_name(struct kbuf oid, char *buf, size_t cap)
{
	size_t i;

	for (i = 0; i < KITE_ARRAY_SIZE(dn_attrs); i++)
		if (oid_eq(oid, &dn_attrs[i].oid))
			return dn_attrs[i].name;
	oid_str(kbuf_cur(&oid), kbuf_left(&oid), buf, cap);
	return buf;
}

/* Visit each AttributeTypeAndValue of a Name TLV; stops at the first non-zero return. */
typedef int (*atv_fn)(void *arg, struct kbuf type, uint8_t vtag, struct kbuf value, int first_in_rdn);

static int name_walk(struct view name, atv_fn fn, void *arg)
{
	struct kbuf b, seq, rdn, atv, type, value;
	uint8_t vtag;
	int first, r;

	kbuf_init(&b, name.p, name.len);
	if (der_get(&b, T_SEQUENCE, &seq, NULL) != 0 || kbuf_left(&b) != 0)
		return -1;
	while (kbuf_left(&seq) > 0) {
		if (der_get(&seq, T_SET, &rdn, NULL) != 0 || kbuf_left(&rdn) == 0)
			return -1;
		first = 1;
		while (kbuf_left(&rdn) > 0) {
			if (der_get(&rdn, T_SEQUENCE, &atv, NULL) != 0 ||
			    der_get(&atv, T_OID, &type, NULL) != 0 ||
			    der_any(&atv, &vtag, &value, NULL) != 0 || kbuf_left(&atv) != 0)
				return -1;
			if (fn != NULL && (r = fn(arg, type, vtag, value, first)) != 0)
				return r;
			first = 0;
		}
	}
	return 0;
}

struct dn_out {
	char *out;
	size_t cap, len;
};

static void dn_put(struct dn_out *o, const char *s, size_t n)
{
	size_t room = o->cap - 1 - o->len;

	if (n > room)
		n = room;
	memcpy(o->out + o->len, s, n);
	o->len += n;
	o->out[o->len] = '\0';
}

/* Display: printable ASCII; anything else (BMPString high bytes, UTF-8, controls) as '?'. */
static int dn_atv_str(void *arg, struct kbuf type, uint8_t vtag, struct kbuf value, int first)
{
	struct dn_out *o = arg;
	char nb[48], c;
	const char *n = attr_name(type, nb, sizeof(nb));
	const uint8_t *p = kbuf_cur(&value);
	size_t i, len = kbuf_left(&value);

	if (o->len > 0)
		dn_put(o, first ? ", " : " + ", 2 + !first);
	dn_put(o, n, strlen(n));
	dn_put(o, "=", 1);
	for (i = 0; i < len; i++) {
		if (vtag == T_BMPSTRING) {
			/* UCS-2 big-endian */
			if (i % 2 == 0)
				continue;
			c = p[i - 1] == 0 && p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
		} else {
			c = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
		}
		dn_put(o, &c, 1);
	}
	return 0;
}

static void dn_string(struct view name, char *out, size_t cap)
{
	struct dn_out o = { out, cap, 0 };

	out[0] = '\0';
	if (name_walk(name, dn_atv_str, &o) != 0)
		snprintf(out, cap, "(malformed name)");
	else if (o.len == 0)
		snprintf(out, cap, "(empty name)");
}

static int view_eq(struct view a, struct view b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* ---- algorithms ---- */

enum key_type { KEY_NONE = 0, KEY_RSA, KEY_RSA_PSS, KEY_EC, KEY_ED25519 };
enum sig_scheme { SIG_RSA_PKCS1 = 1, SIG_RSA_PSS, SIG_ECDSA, SIG_ED25519 };

struct pubkey {
	enum key_type type;
	unsigned bits;
	int curve;			/* ECC_SECP256R1 / ECC_SECP384R1 */
	struct view n, e;		/* RSA modulus and exponent (INTEGER contents) */
	struct view point;		/* EC: uncompressed point; Ed25519: 32 bytes */
	int usable;
	char why[160];			/* when !usable */
};

struct sigalg {
	enum sig_scheme scheme;
	enum wc_HashType hash;		/* WC_HASH_TYPE_NONE for Ed25519 */
	int mgf;			/* PSS */
	int salt;			/* PSS */
};

static const char *hash_name(enum wc_HashType h)
{
	switch (h) {
	case WC_HASH_TYPE_SHA256:
		return "SHA-256";
	case WC_HASH_TYPE_SHA384:
		return "SHA-384";
	case WC_HASH_TYPE_SHA512:
		return "SHA-512";
	default:
		return "?";
	}
}

/* AlgorithmIdentifier of a SHA-2 hash (parameters NULL or absent). */
static int hash_algid(struct kbuf *b, enum wc_HashType *h, int *mgf, char *w, size_t wl)
{
	struct kbuf seq, oid, params;
	uint8_t t;
	char os[64];

	if (der_get(b, T_SEQUENCE, &seq, NULL) != 0 || der_get(&seq, T_OID, &oid, NULL) != 0)
		return KITE_ERR_PARSE;
	if (kbuf_left(&seq) > 0 &&
	    (der_any(&seq, &t, &params, NULL) != 0 || t != T_NULL || kbuf_left(&params) != 0 ||
	     kbuf_left(&seq) != 0))
		return KITE_ERR_PARSE;
	if (oid_eq(oid, &oid_sha256)) {
		*h = WC_HASH_TYPE_SHA256;
		*mgf = WC_MGF1SHA256;
	} else if (oid_eq(oid, &oid_sha384)) {
		*h = WC_HASH_TYPE_SHA384;
		*mgf = WC_MGF1SHA384;
	} else if (oid_eq(oid, &oid_sha512)) {
		*h = WC_HASH_TYPE_SHA512;
		*mgf = WC_MGF1SHA512;
	} else if (oid_eq(oid, &oid_sha1)) {
		why(w, wl, "RSA-PSS with SHA-1 is refused (SHA-2 only)");
		return KITE_ERR_VERIFY;
	} else {
		oid_str(kbuf_cur(&oid), kbuf_left(&oid), os, sizeof(os));
		why(w, wl, "RSA-PSS with hash %s is not supported", os);
		return KITE_ERR_UNSUPPORTED;
	}
	return 0;
}

/* RSASSA-PSS-params (RFC 8017 A.2.3); absent fields are the SHA-1 defaults: refused. */
static int pss_params(struct kbuf params, struct sigalg *a, char *w, size_t wl)
{
	struct kbuf seq, f, mgf_seq, mgf_oid;
	enum wc_HashType mh;
	int present, r, dummy;
	long v;

	if (der_get(&params, T_SEQUENCE, &seq, NULL) != 0 || kbuf_left(&params) != 0)
		return KITE_ERR_PARSE;
	if (der_opt(&seq, T_CTXC(0), &f, NULL, &present) != 0)
		return KITE_ERR_PARSE;
	if (!present) {
		why(w, wl, "RSA-PSS with SHA-1 (the default) is refused (SHA-2 only)");
		return KITE_ERR_VERIFY;
	}
	if ((r = hash_algid(&f, &a->hash, &dummy, w, wl)) != 0)
		return r;
	if (kbuf_left(&f) != 0 || der_opt(&seq, T_CTXC(1), &f, NULL, &present) != 0)
		return KITE_ERR_PARSE;
	if (!present) {
		why(w, wl, "RSA-PSS with MGF1-SHA-1 (the default) is refused");
		return KITE_ERR_VERIFY;
	}
	if (der_get(&f, T_SEQUENCE, &mgf_seq, NULL) != 0 || kbuf_left(&f) != 0 ||
	    der_get(&mgf_seq, T_OID, &mgf_oid, NULL) != 0)
		return KITE_ERR_PARSE;
	if (!oid_eq(mgf_oid, &oid_mgf1)) {
		why(w, wl, "RSA-PSS with a mask generation function other than MGF1");
		return KITE_ERR_UNSUPPORTED;
	}
	if ((r = hash_algid(&mgf_seq, &mh, &a->mgf, w, wl)) != 0)
		return r;
	if (kbuf_left(&mgf_seq) != 0)
		return KITE_ERR_PARSE;
	a->salt = 20;
	if (der_opt(&seq, T_CTXC(2), &f, NULL, &present) != 0)
		return KITE_ERR_PARSE;
	if (present) {
		if (der_small_int(&f, 1024, &v) != 0 || kbuf_left(&f) != 0)
			return KITE_ERR_PARSE;
		a->salt = (int)v;
	}
	if (der_opt(&seq, T_CTXC(3), &f, NULL, &present) != 0)
		return KITE_ERR_PARSE;
	if (present && (der_small_int(&f, 1, &v) != 0 || v != 1 || kbuf_left(&f) != 0))
		return KITE_ERR_PARSE;
	if (kbuf_left(&seq) != 0)
		return KITE_ERR_PARSE;
	return 0;
}

/*
 * A signature AlgorithmIdentifier (whole TLV), as in certificates and in
 * RFC 7427 AUTH data. KITE_ERR_VERIFY for algorithms refused by policy
 * (SHA-1, MD5, SHA-224), KITE_ERR_UNSUPPORTED for unknown ones.
 */
static int sigalg_parse(struct view algid, struct sigalg *a, char *w, size_t wl)
{
	struct kbuf b, seq, oid, params;
	int has_params = 0, null_params = 0;
	uint8_t t;
	char os[64];

	memset(a, 0, sizeof(*a));
	kbuf_init(&b, algid.p, algid.len);
	if (der_get(&b, T_SEQUENCE, &seq, NULL) != 0 || kbuf_left(&b) != 0 ||
	    der_get(&seq, T_OID, &oid, NULL) != 0) {
		why(w, wl, "malformed signature algorithm identifier");
		return KITE_ERR_PARSE;
	}
	if (kbuf_left(&seq) > 0) {
		struct kbuf all = seq;

		if (der_any(&seq, &t, &params, NULL) != 0 || kbuf_left(&seq) != 0) {
			why(w, wl, "malformed signature algorithm parameters");
			return KITE_ERR_PARSE;
		}
		has_params = 1;
		null_params = t == T_NULL && kbuf_left(&params) == 0;
		params = all;
	}
	if (oid_eq(oid, &oid_sha256_rsa) || oid_eq(oid, &oid_sha384_rsa) ||
	    oid_eq(oid, &oid_sha512_rsa)) {
		a->scheme = SIG_RSA_PKCS1;
		a->hash = oid_eq(oid, &oid_sha256_rsa) ? WC_HASH_TYPE_SHA256 :
		    oid_eq(oid, &oid_sha384_rsa) ? WC_HASH_TYPE_SHA384 : WC_HASH_TYPE_SHA512;
		if (has_params && !null_params)
			goto bad_params;
		return 0;
	}
	if (oid_eq(oid, &oid_ecdsa_sha256) || oid_eq(oid, &oid_ecdsa_sha384) ||
	    oid_eq(oid, &oid_ecdsa_sha512)) {
		a->scheme = SIG_ECDSA;
		a->hash = oid_eq(oid, &oid_ecdsa_sha256) ? WC_HASH_TYPE_SHA256 :
		    oid_eq(oid, &oid_ecdsa_sha384) ? WC_HASH_TYPE_SHA384 : WC_HASH_TYPE_SHA512;
		/* RFC 5758 3.2: absent; a NULL is tolerated */
		if (has_params && !null_params)
			goto bad_params;
		return 0;
	}
	if (oid_eq(oid, &oid_ed25519)) {
		a->scheme = SIG_ED25519;
		a->hash = WC_HASH_TYPE_NONE;
		if (has_params)
			goto bad_params;
		return 0;
	}
	if (oid_eq(oid, &oid_rsa_pss)) {
		int r;

		a->scheme = SIG_RSA_PSS;
		if (!has_params) {
			why(w, wl, "RSA-PSS with SHA-1 (the default) is refused (SHA-2 only)");
			return KITE_ERR_VERIFY;
		}
		if ((r = pss_params(params, a, w, wl)) == KITE_ERR_PARSE)
			why(w, wl, "malformed RSA-PSS parameters");
		return r;
	}
	if (oid_eq(oid, &oid_sha1_rsa) || oid_eq(oid, &oid_ecdsa_sha1)) {
		why(w, wl, "SHA-1 signatures are refused (RFC 8247; SHA-2 only)");
		return KITE_ERR_VERIFY;
	}
	if (oid_eq(oid, &oid_md5_rsa)) {
		why(w, wl, "MD5 signatures are refused");
		return KITE_ERR_VERIFY;
	}
	if (oid_eq(oid, &oid_sha224_rsa)) {
		why(w, wl, "SHA-224 signatures are refused (SHA-256/384/512 only)");
		return KITE_ERR_VERIFY;
	}
	oid_str(kbuf_cur(&oid), kbuf_left(&oid), os, sizeof(os));
	why(w, wl, "signature algorithm %s is not supported", os);
	return KITE_ERR_UNSUPPORTED;
bad_params:
	why(w, wl, "malformed signature algorithm parameters");
	return KITE_ERR_PARSE;
}

/* Bits of a big-endian unsigned INTEGER content. */
static unsigned int_bits(struct view v)
{
	size_t i = 0;
	unsigned bits;
	uint8_t x;

	while (i < v.len && v.p[i] == 0)
		i++;
	if (i == v.len)
		return 0;
	bits = (unsigned)(v.len - i - 1) * 8;
	for (x = v.p[i]; x; x >>= 1)
		bits++;
	return bits;
}

/* SubjectPublicKeyInfo (whole TLV) -> key; unusable keys get a reason, not an error. */
static int spki_parse(struct view spki, struct pubkey *k)
{
	struct kbuf b, seq, alg, oid, params, rsa, rseq, n, e;
	struct view bits;
	uint8_t t;
	char os[64];

	memset(k, 0, sizeof(*k));
	kbuf_init(&b, spki.p, spki.len);
	if (der_get(&b, T_SEQUENCE, &seq, NULL) != 0 || kbuf_left(&b) != 0 ||
	    der_get(&seq, T_SEQUENCE, &alg, NULL) != 0 || der_get(&alg, T_OID, &oid, NULL) != 0 ||
	    der_bits0(&seq, &bits) != 0 || kbuf_left(&seq) != 0)
		return KITE_ERR_PARSE;
	if (oid_eq(oid, &oid_rsa) || oid_eq(oid, &oid_rsa_pss)) {
		k->type = oid_eq(oid, &oid_rsa) ? KEY_RSA : KEY_RSA_PSS;
		kbuf_init(&rsa, bits.p, bits.len);
		if (der_get(&rsa, T_SEQUENCE, &rseq, NULL) != 0 || kbuf_left(&rsa) != 0 ||
		    der_get(&rseq, T_INTEGER, &n, NULL) != 0 ||
		    der_get(&rseq, T_INTEGER, &e, NULL) != 0 || kbuf_left(&rseq) != 0 ||
		    kbuf_left(&n) == 0 || kbuf_left(&e) == 0 || (kbuf_cur(&n)[0] & 0x80) ||
		    (kbuf_cur(&e)[0] & 0x80))
			return KITE_ERR_PARSE;
		k->n.p = kbuf_cur(&n);
		k->n.len = kbuf_left(&n);
		k->e.p = kbuf_cur(&e);
		k->e.len = kbuf_left(&e);
		k->bits = int_bits(k->n);
		if (k->bits < X509_MIN_RSA_BITS) {
			snprintf(k->why, sizeof(k->why), "RSA key of %u bits is too weak (need %d)",
				 k->bits, X509_MIN_RSA_BITS);
		} else if (k->bits > X509_MAX_RSA_BITS) {
			snprintf(k->why, sizeof(k->why), "RSA key of %u bits is too large (max %d)",
				 k->bits, X509_MAX_RSA_BITS);
		} else if (int_bits(k->e) < 2 || !(k->e.p[k->e.len - 1] & 1) || k->e.len > 8) {
			snprintf(k->why, sizeof(k->why), "RSA key with an invalid public exponent");
		} else {
			k->usable = 1;
		}
		return 0;
	}
	if (oid_eq(oid, &oid_ec_pub)) {
		k->type = KEY_EC;
		if (der_any(&alg, &t, &params, NULL) != 0 || kbuf_left(&alg) != 0)
			return KITE_ERR_PARSE;
		k->point = bits;
		if (t == T_OID && oid_eq(params, &oid_p256)) {
			k->curve = ECC_SECP256R1;
			k->bits = 256;
		} else if (t == T_OID && oid_eq(params, &oid_p384)) {
			k->curve = ECC_SECP384R1;
			k->bits = 384;
		} else if (t == T_OID) {
			oid_str(kbuf_cur(&params), kbuf_left(&params), os, sizeof(os));
			snprintf(k->why, sizeof(k->why),
				 "ECDSA key on curve %s is not accepted (need P-256 or P-384)",
				 oid_eq(params, &oid_p521) ? "P-521" : os);
			return 0;
		} else {
			snprintf(k->why, sizeof(k->why), "ECDSA key with explicit curve parameters");
			return 0;
		}
		if (bits.len != 1 + 2 * (size_t)(k->bits / 8) || bits.p[0] != 0x04) {
			snprintf(k->why, sizeof(k->why), "ECDSA public key is not an uncompressed point");
			return 0;
		}
		k->usable = 1;
		return 0;
	}
	if (oid_eq(oid, &oid_ed25519)) {
		k->type = KEY_ED25519;
		k->bits = 256;
		if (kbuf_left(&alg) != 0 || bits.len != ED25519_PUB_KEY_SIZE)
			return KITE_ERR_PARSE;
		k->point = bits;
		k->usable = 1;
		return 0;
	}
	oid_str(kbuf_cur(&oid), kbuf_left(&oid), os, sizeof(os));
	snprintf(k->why, sizeof(k->why), "unsupported public key type %s", os);
	return 0;
}

/* PKCS #1 v1.5 DigestInfo prefixes (RFC 8017 9.2, note 1) */
static const uint8_t di_sha256[] = {
	0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
	0x01, 0x05, 0x00, 0x04, 0x20,
};
static const uint8_t di_sha384[] = {
	0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
	0x02, 0x05, 0x00, 0x04, 0x30,
};
static const uint8_t di_sha512[] = {
	0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
	0x03, 0x05, 0x00, 0x04, 0x40,
};

static int digest(enum wc_HashType h, const uint8_t *msg, size_t len, uint8_t *out, size_t *out_len)
{
	int dl = wc_HashGetDigestSize(h);

	if (dl <= 0 || len > UINT32_MAX || wc_Hash(h, msg, (word32)len, out, (word32)dl) != 0)
		return KITE_ERR_CRYPTO;
	*out_len = (size_t)dl;
	return 0;
}

static int verify_rsa(const struct pubkey *k, const struct sigalg *a, const uint8_t *msg,
		      size_t mlen, const uint8_t *sig, size_t slen)
{
	uint8_t d[WC_MAX_DIGEST_SIZE], want[sizeof(di_sha512) + WC_MAX_DIGEST_SIZE];
	uint8_t *out = NULL, *in = NULL;
	const uint8_t *di;
	size_t dl, dil, klen = (k->bits + 7) / 8;
	RsaKey rk;
	int r = KITE_ERR_VERIFY, n;

	/* RFC 8017 8.2.2 / 8.1.2: the signature is exactly k octets */
	if (slen != klen || digest(a->hash, msg, mlen, d, &dl) != 0)
		return KITE_ERR_VERIFY;
	if (wc_InitRsaKey(&rk, NULL) != 0)
		return KITE_ERR_CRYPTO;
	if ((out = malloc(klen)) == NULL || (in = malloc(klen)) == NULL) {
		r = KITE_ERR_NOMEM;
		goto out;
	}
	if (wc_RsaPublicKeyDecodeRaw(k->n.p, (word32)k->n.len, k->e.p, (word32)k->e.len, &rk) != 0) {
		r = KITE_ERR_CRYPTO;
		goto out;
	}
	memcpy(in, sig, slen);
	if (a->scheme == SIG_RSA_PKCS1) {
		di = a->hash == WC_HASH_TYPE_SHA256 ? di_sha256 :
		    a->hash == WC_HASH_TYPE_SHA384 ? di_sha384 : di_sha512;
		dil = sizeof(di_sha256);
		memcpy(want, di, dil);
		memcpy(want + dil, d, dl);
		n = wc_RsaSSL_Verify(in, (word32)slen, out, (word32)klen, &rk);
		/* the whole DigestInfo, compared exactly (no lenient ASN.1 parse) */
		if (n >= 0 && (size_t)n == dil + dl && crypto_ct_eq(out, want, dil + dl))
			r = 0;
	} else {
		n = wc_RsaPSS_Verify_ex(in, (word32)slen, out, (word32)klen, a->hash, a->mgf,
					a->salt, &rk);
		if (n >= 0 && wc_RsaPSS_CheckPadding_ex2(d, (word32)dl, out, (word32)n, a->hash,
							 a->salt, (int)k->bits, NULL) == 0)
			r = 0;
	}
out:
	wc_FreeRsaKey(&rk);
	free(out);
	free(in);
	return r;
}

static int verify_ecdsa(const struct pubkey *k, const struct sigalg *a, const uint8_t *msg,
			size_t mlen, const uint8_t *sig, size_t slen)
{
	/* wolfSSL 5.5.4's wc_ecc_sig_to_rs ignores *rLen / *sLen as capacities and
	 * copies whatever the INTEGERs hold: r_ and s_ must each hold all of sig. */
	uint8_t d[WC_MAX_DIGEST_SIZE], re[2 * 66 + 16], r_[sizeof(re)], s_[sizeof(re)];
	word32 rl = sizeof(r_), sl = sizeof(s_), rel = sizeof(re);
	size_t dl;
	ecc_key ek;
	int r = KITE_ERR_VERIFY, res = 0;

	if (slen > sizeof(re) || digest(a->hash, msg, mlen, d, &dl) != 0)
		return KITE_ERR_VERIFY;
	/* DER only: decode r, s and re-encode; any other encoding is refused */
	if (wc_ecc_sig_to_rs(sig, (word32)slen, r_, &rl, s_, &sl) != 0 ||
	    wc_ecc_rs_raw_to_sig(r_, rl, s_, sl, re, &rel) != 0 || rel != slen ||
	    memcmp(re, sig, slen) != 0)
		return KITE_ERR_VERIFY;
	if (wc_ecc_init(&ek) != 0)
		return KITE_ERR_CRYPTO;
	if (wc_ecc_import_x963_ex(k->point.p, (word32)k->point.len, &ek, k->curve) != 0 ||
	    wc_ecc_check_key(&ek) != 0) {
		r = KITE_ERR_VERIFY;
		goto out;
	}
	if (wc_ecc_verify_hash(sig, (word32)slen, d, (word32)dl, &res, &ek) == 0 && res == 1)
		r = 0;
out:
	wc_ecc_free(&ek);
	return r;
}

static int verify_ed25519(const struct pubkey *k, const uint8_t *msg, size_t mlen,
			  const uint8_t *sig, size_t slen)
{
	ed25519_key ed;
	int r = KITE_ERR_VERIFY, res = 0;

	if (slen != ED25519_SIG_SIZE || mlen > UINT32_MAX)
		return KITE_ERR_VERIFY;
	if (wc_ed25519_init(&ed) != 0)
		return KITE_ERR_CRYPTO;
	if (wc_ed25519_import_public(k->point.p, (word32)k->point.len, &ed) == 0 &&
	    wc_ed25519_verify_msg(sig, (word32)slen, msg, (word32)mlen, &res, &ed) == 0 &&
	    res == 1)
		r = 0;
	wc_ed25519_free(&ed);
	return r;
}

static const char *scheme_name(enum sig_scheme s)
{
	switch (s) {
	case SIG_RSA_PKCS1:
		return "RSA";
	case SIG_RSA_PSS:
		return "RSA-PSS";
	case SIG_ECDSA:
		return "ECDSA";
	case SIG_ED25519:
		return "Ed25519";
	}
	return "?";
}

/* Signature by key k over msg; the key must suit the scheme. */
static int sig_verify(const struct pubkey *k, const struct sigalg *a, const uint8_t *msg,
		      size_t mlen, const uint8_t *sig, size_t slen, char *w, size_t wl)
{
	int ok;

	switch (a->scheme) {
	case SIG_RSA_PKCS1:
		ok = k->type == KEY_RSA;
		break;
	case SIG_RSA_PSS:
		ok = k->type == KEY_RSA || k->type == KEY_RSA_PSS;
		break;
	case SIG_ECDSA:
		ok = k->type == KEY_EC;
		break;
	case SIG_ED25519:
		ok = k->type == KEY_ED25519;
		break;
	default:
		ok = 0;
	}
	if (!ok) {
		why(w, wl, "%s signature does not match the key type", scheme_name(a->scheme));
		return KITE_ERR_VERIFY;
	}
	if (!k->usable) {
		why(w, wl, "%s", k->why);
		return KITE_ERR_VERIFY;
	}
	switch (a->scheme) {
	case SIG_RSA_PKCS1:
	case SIG_RSA_PSS:
		return verify_rsa(k, a, msg, mlen, sig, slen);
	case SIG_ECDSA:
		return verify_ecdsa(k, a, msg, mlen, sig, slen);
	case SIG_ED25519:
		return verify_ed25519(k, msg, mlen, sig, slen);
	}
	return KITE_ERR_VERIFY;
}

/* ---- certificates (RFC 5280 4.1) ---- */

#define MAX_SAN		64
#define KU_DIGITAL_SIGNATURE	(1u << 0)
#define KU_NON_REPUDIATION	(1u << 1)
#define KU_KEY_CERT_SIGN	(1u << 5)

enum eku_flag {
	EKU_SERVER = 1u << 0,
	EKU_CLIENT = 1u << 1,
	EKU_IPSEC_IKE = 1u << 2,
	EKU_ANY = 1u << 3,
	EKU_IKE_INTERMEDIATE = 1u << 4,
	EKU_OTHER = 1u << 5,
};

/* GeneralName tags (RFC 5280 4.2.1.6) */
#define GN_RFC822	T_CTX(1)
#define GN_DNS		T_CTX(2)
#define GN_DIRNAME	T_CTXC(4)
#define GN_IP		T_CTX(7)

struct gname {
	uint8_t tag;
	struct view v;		/* content; for directoryName the Name TLV inside */
};

struct x509_cert {
	uint8_t *der;
	size_t der_len;
	struct view tbs;	/* TBSCertificate TLV: what the issuer signed */
	struct view sigalg;	/* signatureAlgorithm TLV */
	struct view sig;	/* signatureValue bits */
	struct view issuer, subject;	/* Name TLVs */
	struct view spki;	/* SubjectPublicKeyInfo TLV */
	time_t not_before, not_after;
	int version;		/* 0 = v1, 2 = v3 */
	struct pubkey key;
	int has_bc, ca;
	long pathlen;		/* -1: none */
	int has_ku;
	unsigned ku;
	int has_eku;
	unsigned eku;
	struct view skid, akid;
	struct gname san[MAX_SAN];
	unsigned n_san;
	int has_nc;
	struct view nc_permitted, nc_excluded;	/* GeneralSubtrees contents */
	char bad_critical[64];	/* dotted OID of an unsupported critical extension */
	char name[192];		/* subject for messages */
	char issuer_name[192];
};

static int parse_bc(struct kbuf v, struct x509_cert *c)
{
	struct kbuf seq;
	uint8_t t;
	int ca = 0;
	long pl;

	if (der_get(&v, T_SEQUENCE, &seq, NULL) != 0 || kbuf_left(&v) != 0)
		return -1;
	if (kbuf_peek_u8(&seq, &t) == 0 && t == T_BOOLEAN && der_bool(&seq, &ca) != 0)
		return -1;
	c->has_bc = 1;
	c->ca = ca;
	c->pathlen = -1;
	if (kbuf_left(&seq) > 0) {
		if (der_small_int(&seq, 255, &pl) != 0)
			return -1;
		c->pathlen = pl;
	}
	return kbuf_left(&seq) == 0 ? 0 : -1;
}

static int parse_ku(struct kbuf v, struct x509_cert *c)
{
	struct kbuf bits;
	uint8_t unused, x;
	unsigned i = 0, bit;

	if (der_get(&v, T_BITSTRING, &bits, NULL) != 0 || kbuf_left(&v) != 0 ||
	    kbuf_get_u8(&bits, &unused) != 0 || unused > 7)
		return -1;
	c->has_ku = 1;
	c->ku = 0;
	while (kbuf_get_u8(&bits, &x) == 0) {
		for (bit = 0; bit < 8; bit++, i++)
			if (i < 16 && (x & (0x80 >> bit)))
				c->ku |= 1u << i;
	}
	return 0;
}

static int parse_eku(struct kbuf v, struct x509_cert *c)
{
	struct kbuf seq, oid;

	if (der_get(&v, T_SEQUENCE, &seq, NULL) != 0 || kbuf_left(&v) != 0 ||
	    kbuf_left(&seq) == 0)
		return -1;
	c->has_eku = 1;
	while (kbuf_left(&seq) > 0) {
		if (der_get(&seq, T_OID, &oid, NULL) != 0)
			return -1;
		if (oid_eq(oid, &oid_kp_server))
			c->eku |= EKU_SERVER;
		else if (oid_eq(oid, &oid_kp_client))
			c->eku |= EKU_CLIENT;
		else if (oid_eq(oid, &oid_kp_ipsec_ike))
			c->eku |= EKU_IPSEC_IKE;
		else if (oid_eq(oid, &oid_kp_any))
			c->eku |= EKU_ANY;
		else if (oid_eq(oid, &oid_kp_ike_intermediate))
			c->eku |= EKU_IKE_INTERMEDIATE;
		else
			c->eku |= EKU_OTHER;
	}
	return 0;
}

/* One GeneralName; directoryName content is checked to be a Name. */
static int parse_gname(struct kbuf *b, struct gname *g)
{
	struct kbuf content, inner;
	struct view tlv;
	uint8_t tag;

	if (der_any(b, &tag, &content, &tlv) != 0)
		return -1;
	g->tag = tag;
	g->v.p = kbuf_cur(&content);
	g->v.len = kbuf_left(&content);
	if (tag == GN_DIRNAME) {
		if (der_get(&content, T_SEQUENCE, &inner, &g->v) != 0 || kbuf_left(&content) != 0 ||
		    name_walk(g->v, NULL, NULL) != 0)
			return -1;
	}
	return 0;
}

static int parse_san(struct kbuf v, struct x509_cert *c)
{
	struct kbuf seq;
	struct gname g;

	if (der_get(&v, T_SEQUENCE, &seq, NULL) != 0 || kbuf_left(&v) != 0 ||
	    kbuf_left(&seq) == 0)
		return -1;
	while (kbuf_left(&seq) > 0) {
		if (parse_gname(&seq, &g) != 0 || c->n_san >= MAX_SAN)
			return -1;
		c->san[c->n_san++] = g;
	}
	return 0;
}

static int parse_skid(struct kbuf v, struct x509_cert *c)
{
	struct kbuf id;

	if (der_get(&v, T_OCTETSTRING, &id, NULL) != 0 || kbuf_left(&v) != 0)
		return -1;
	c->skid.p = kbuf_cur(&id);
	c->skid.len = kbuf_left(&id);
	return 0;
}

static int parse_akid(struct kbuf v, struct x509_cert *c)
{
	struct kbuf seq, id;
	int present;

	if (der_get(&v, T_SEQUENCE, &seq, NULL) != 0 || kbuf_left(&v) != 0 ||
	    der_opt(&seq, T_CTX(0), &id, NULL, &present) != 0)
		return -1;
	if (present) {
		c->akid.p = kbuf_cur(&id);
		c->akid.len = kbuf_left(&id);
	}
	/* authorityCertIssuer [1] and authorityCertSerialNumber [2] are not used */
	return 0;
}

/* GeneralSubtrees: each base with minimum 0 and no maximum (RFC 5280 4.2.1.10). */
static int check_subtrees(struct view v)
{
	struct kbuf b, st;
	struct gname g;

	kbuf_init(&b, v.p, v.len);
	if (kbuf_left(&b) == 0)
		return -1;
	while (kbuf_left(&b) > 0) {
		if (der_get(&b, T_SEQUENCE, &st, NULL) != 0 || parse_gname(&st, &g) != 0 ||
		    kbuf_left(&st) != 0)
			return -1;
	}
	return 0;
}

static int parse_nc(struct kbuf v, struct x509_cert *c)
{
	struct kbuf seq, t;
	int present;

	if (der_get(&v, T_SEQUENCE, &seq, NULL) != 0 || kbuf_left(&v) != 0)
		return -1;
	c->has_nc = 1;
	if (der_opt(&seq, T_CTXC(0), &t, NULL, &present) != 0)
		return -1;
	if (present) {
		c->nc_permitted.p = kbuf_cur(&t);
		c->nc_permitted.len = kbuf_left(&t);
		if (check_subtrees(c->nc_permitted) != 0)
			return -1;
	}
	if (der_opt(&seq, T_CTXC(1), &t, NULL, &present) != 0)
		return -1;
	if (present) {
		c->nc_excluded.p = kbuf_cur(&t);
		c->nc_excluded.len = kbuf_left(&t);
		if (check_subtrees(c->nc_excluded) != 0)
			return -1;
	}
	return kbuf_left(&seq) == 0 ? 0 : -1;
}

static const struct {
	const struct oid *oid;
	int (*parse)(struct kbuf v, struct x509_cert *c);
} known_exts[] = {
	{ &oid_ext_bc, parse_bc },
	{ &oid_ext_ku, parse_ku },
	{ &oid_ext_eku, parse_eku },
	{ &oid_ext_san, parse_san },
	{ &oid_ext_skid, parse_skid },
	{ &oid_ext_akid, parse_akid },
	{ &oid_ext_nc, parse_nc },
	/* understood well enough to ignore, even when critical: kite does no
	 * policy processing or revocation checking (as strongSwan by default) */
	{ &oid_ext_policies, NULL },
	{ &oid_ext_policy_map, NULL },
	{ &oid_ext_policy_cons, NULL },
	{ &oid_ext_inhibit_any, NULL },
	{ &oid_ext_crldp, NULL },
	{ &oid_ext_freshest, NULL },
	{ &oid_ext_aia, NULL },
	{ &oid_ext_ian, NULL },
};

static int parse_extensions(struct kbuf exts, struct x509_cert *c, char *w, size_t wl)
{
	struct kbuf seq, ext, oid, value;
	unsigned seen = 0;
	size_t i;
	int critical, known;
	uint8_t t;

	if (der_get(&exts, T_SEQUENCE, &seq, NULL) != 0 || kbuf_left(&exts) != 0 ||
	    kbuf_left(&seq) == 0)
		goto bad;
	while (kbuf_left(&seq) > 0) {
		critical = 0;
		if (der_get(&seq, T_SEQUENCE, &ext, NULL) != 0 ||
		    der_get(&ext, T_OID, &oid, NULL) != 0)
			goto bad;
		if (kbuf_peek_u8(&ext, &t) == 0 && t == T_BOOLEAN && der_bool(&ext, &critical) != 0)
			goto bad;
		if (der_get(&ext, T_OCTETSTRING, &value, NULL) != 0 || kbuf_left(&ext) != 0)
			goto bad;
		known = 0;
		for (i = 0; i < KITE_ARRAY_SIZE(known_exts); i++) {
			if (!oid_eq(oid, known_exts[i].oid))
				continue;
			known = 1;
			/* RFC 5280 4.2: at most one instance of an extension */
			if (seen & (1u << i)) {
				why(w, wl, "certificate '%s' repeats an extension", c->name);
				return KITE_ERR_PARSE;
			}
			seen |= 1u << i;
			if (known_exts[i].parse != NULL && known_exts[i].parse(value, c) != 0) {
				char os[64];

				oid_str(kbuf_cur(&oid), kbuf_left(&oid), os, sizeof(os));
				why(w, wl, "certificate '%s' has a malformed extension %s", c->name, os);
				return KITE_ERR_PARSE;
			}
			break;
		}
		if (!known && critical && c->bad_critical[0] == '\0')
			oid_str(kbuf_cur(&oid), kbuf_left(&oid), c->bad_critical,
				sizeof(c->bad_critical));
	}
	return 0;
bad:
	why(w, wl, "certificate '%s' has malformed extensions", c->name);
	return KITE_ERR_PARSE;
}

static int cert_parse_der(struct x509_cert *c, char *w, size_t wl)
{
	struct kbuf b, cert, tbs, ver, serial, sigalg, validity, exts, x;
	struct view inner_sigalg;
	int present;
	long v;
	uint8_t t;

	kbuf_init(&b, c->der, c->der_len);
	if (der_get(&b, T_SEQUENCE, &cert, NULL) != 0 || kbuf_left(&b) != 0 ||
	    der_get(&cert, T_SEQUENCE, &tbs, &c->tbs) != 0 ||
	    der_get(&cert, T_SEQUENCE, &sigalg, &c->sigalg) != 0 ||
	    der_bits0(&cert, &c->sig) != 0 || kbuf_left(&cert) != 0)
		goto bad;
	/* TBSCertificate */
	if (der_opt(&tbs, T_CTXC(0), &ver, NULL, &present) != 0)
		goto bad;
	c->version = 0;
	if (present) {
		if (der_small_int(&ver, 2, &v) != 0 || kbuf_left(&ver) != 0)
			goto bad;
		c->version = (int)v;
	}
	if (der_get(&tbs, T_INTEGER, &serial, NULL) != 0 || kbuf_left(&serial) == 0 ||
	    kbuf_left(&serial) > 64 ||
	    der_get(&tbs, T_SEQUENCE, &x, &inner_sigalg) != 0 ||
	    der_get(&tbs, T_SEQUENCE, &x, &c->issuer) != 0 ||
	    der_get(&tbs, T_SEQUENCE, &validity, NULL) != 0 ||
	    der_get(&tbs, T_SEQUENCE, &x, &c->subject) != 0 ||
	    der_get(&tbs, T_SEQUENCE, &x, &c->spki) != 0)
		goto bad;
	if (name_walk(c->issuer, NULL, NULL) != 0 || name_walk(c->subject, NULL, NULL) != 0)
		goto bad;
	dn_string(c->subject, c->name, sizeof(c->name));
	dn_string(c->issuer, c->issuer_name, sizeof(c->issuer_name));
	/* RFC 5280 4.1.1.2: the two algorithm identifiers must be the same */
	if (!view_eq(inner_sigalg, c->sigalg)) {
		why(w, wl, "certificate '%s': inner and outer signature algorithms differ", c->name);
		return KITE_ERR_PARSE;
	}
	if (der_time(&validity, &c->not_before) != 0 || der_time(&validity, &c->not_after) != 0 ||
	    kbuf_left(&validity) != 0) {
		why(w, wl, "certificate '%s' has a malformed validity period", c->name);
		return KITE_ERR_PARSE;
	}
	if (spki_parse(c->spki, &c->key) != 0) {
		why(w, wl, "certificate '%s' has a malformed public key", c->name);
		return KITE_ERR_PARSE;
	}
	/* issuerUniqueID [1], subjectUniqueID [2]: skipped */
	while (kbuf_peek_u8(&tbs, &t) == 0 && (t == T_CTX(1) || t == T_CTX(2) ||
	       t == T_CTXC(1) || t == T_CTXC(2))) {
		if (der_any(&tbs, NULL, &x, NULL) != 0)
			goto bad;
	}
	if (der_opt(&tbs, T_CTXC(3), &exts, NULL, &present) != 0)
		goto bad;
	if (present) {
		int r;

		if (c->version != 2) {
			why(w, wl, "certificate '%s': extensions in a v%d certificate", c->name,
			    c->version + 1);
			return KITE_ERR_PARSE;
		}
		if ((r = parse_extensions(exts, c, w, wl)) != 0)
			return r;
	}
	if (kbuf_left(&tbs) != 0)
		goto bad;
	return 0;
bad:
	why(w, wl, "malformed certificate (%zu bytes)", c->der_len);
	return KITE_ERR_PARSE;
}

struct x509_cert *x509_cert_parse(const uint8_t *der, size_t len, char *reason, size_t reason_len)
{
	struct x509_cert *c;

	why(reason, reason_len, "%s", "");
	if (der == NULL || len == 0 || len > X509_MAX_CERT_LEN) {
		why(reason, reason_len, "certificate of %zu bytes refused", len);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL || (c->der = malloc(len)) == NULL) {
		free(c);
		why(reason, reason_len, "out of memory");
		return NULL;
	}
	memcpy(c->der, der, len);
	c->der_len = len;
	c->pathlen = -1;
	snprintf(c->name, sizeof(c->name), "?");
	if (cert_parse_der(c, reason, reason_len) != 0) {
		x509_cert_free(c);
		return NULL;
	}
	return c;
}

void x509_cert_free(struct x509_cert *c)
{
	if (c == NULL)
		return;
	free(c->der);
	free(c);
}

const uint8_t *x509_cert_der(const struct x509_cert *c, size_t *len)
{
	*len = c->der_len;
	return c->der;
}

const uint8_t *x509_cert_subject(const struct x509_cert *c, size_t *len)
{
	*len = c->subject.len;
	return c->subject.p;
}

const char *x509_cert_name(const struct x509_cert *c)
{
	return c->name;
}

time_t x509_cert_not_after(const struct x509_cert *c)
{
	return c->not_after;
}

/* ---- files and PEM (RFC 7468) ---- */

/*
 * Read a whole file (at most max bytes). private_key: refuse anything but a
 * regular file that only its owner can read or write (root or us).
 */
static int read_file(const char *path, size_t max, int private_key, uint8_t **out,
		     size_t *out_len, char *w, size_t wl)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, r = KITE_ERR_SYS, e;

	*out = NULL;
	*out_len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		e = errno;
		why(w, wl, "%s: %s", path, strerror(e));
		errno = e;
		return KITE_ERR_SYS;
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		why(w, wl, "%s: %s", path, strerror(e));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		why(w, wl, "%s: not a regular file", path);
		r = KITE_ERR_CONFIG;
		goto out;
	}
	if (private_key && ((st.st_mode & 077) != 0 || (st.st_uid != 0 && st.st_uid != getuid()))) {
		why(w, wl, "%s: private key file must be owned by root and not accessible by "
		    "group or others (chmod 600)", path);
		r = KITE_ERR_CONFIG;
		goto out;
	}
	if ((size_t)st.st_size > max) {
		why(w, wl, "%s: larger than %zu bytes", path, max);
		r = KITE_ERR_CONFIG;
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		r = KITE_ERR_NOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? errno : EIO;
			why(w, wl, "%s: %s", path, strerror(e));
			goto out;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*out_len = got;
	buf = NULL;
	r = 0;
out:
	e = errno;
	if (buf != NULL) {
		crypto_wipe(buf, (size_t)st.st_size + 1);
		free(buf);
	}
	close(fd);
	errno = e;
	return r;
}

static int b64val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Base64 (RFC 4648 4) ignoring white space; out holds len * 3 / 4 bytes. */
static int b64_decode(const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)
{
	uint32_t acc = 0;
	size_t i, o = 0;
	int n = 0, pad = 0, v;

	for (i = 0; i < len; i++) {
		uint8_t c = in[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad || (v = b64val(c)) < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		if (++n == 4) {
			out[o++] = (uint8_t)(acc >> 16);
			out[o++] = (uint8_t)(acc >> 8);
			out[o++] = (uint8_t)acc;
			acc = 0;
			n = 0;
		}
	}
	if (n == 1 || (n == 0 && pad) || (n == 2 && pad != 2 && pad != 0) ||
	    (n == 3 && pad > 1) || pad > 2)
		return -1;
	if (n == 2) {
		out[o++] = (uint8_t)(acc >> 4);
	} else if (n == 3) {
		out[o++] = (uint8_t)(acc >> 10);
		out[o++] = (uint8_t)(acc >> 2);
	}
	*out_len = o;
	return 0;
}

static const uint8_t *mem_find(const uint8_t *p, size_t len, const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || len < n)
		return NULL;
	return memmem(p, len, s, n);
}

struct pem_block {
	char label[40];
	const uint8_t *body;	/* base64 (and headers), between the lines */
	size_t body_len;
	int encrypted;		/* RFC 1421 "Proc-Type: 4,ENCRYPTED" header */
};

/*
 * Next "-----BEGIN label-----" ... "-----END label-----" block in (*p, *len);
 * advances past it. 1 when found, 0 at the end, -1 when malformed.
 */
static int pem_next(const uint8_t **p, size_t *len, struct pem_block *blk)
{
	const uint8_t *b, *e, *lab, *end;
	size_t rest, ll;
	char endline[64];

	if ((b = mem_find(*p, *len, "-----BEGIN ")) == NULL)
		return 0;
	rest = *len - (size_t)(b - *p);
	lab = b + 11;
	if ((e = mem_find(lab, rest - 11, "-----")) == NULL)
		return -1;
	ll = (size_t)(e - lab);
	if (ll == 0 || ll >= sizeof(blk->label) || memchr(lab, '\n', ll) != NULL)
		return -1;
	memcpy(blk->label, lab, ll);
	blk->label[ll] = '\0';
	blk->body = e + 5;
	snprintf(endline, sizeof(endline), "-----END %s-----", blk->label);
	rest = *len - (size_t)(blk->body - *p);
	if ((end = mem_find(blk->body, rest, endline)) == NULL)
		return -1;
	blk->body_len = (size_t)(end - blk->body);
	blk->encrypted = mem_find(blk->body, blk->body_len, "Proc-Type:") != NULL;
	end += strlen(endline);
	*len -= (size_t)(end - *p);
	*p = end;
	return 1;
}

/* Decode a block's base64 into a fresh buffer (headers are not base64: refused). */
static int pem_decode(const struct pem_block *blk, uint8_t **out, size_t *out_len)
{
	uint8_t *buf;

	if ((buf = malloc(blk->body_len / 4 * 3 + 3)) == NULL)
		return KITE_ERR_NOMEM;
	if (b64_decode(blk->body, blk->body_len, buf, out_len) != 0 || *out_len == 0) {
		free(buf);
		return KITE_ERR_PARSE;
	}
	*out = buf;
	return 0;
}

static int is_pem(const uint8_t *p, size_t len)
{
	return mem_find(p, len, "-----BEGIN ") != NULL;
}

/*
 * Every certificate in a buffer (PEM blocks labelled CERTIFICATE, or one
 * DER certificate), each handed to fn. Returns the number found, or < 0.
 */
static int each_cert(const uint8_t *data, size_t len,
		     int (*fn)(void *arg, const uint8_t *der, size_t der_len), void *arg)
{
	struct pem_block blk;
	uint8_t *der;
	size_t der_len;
	int n = 0, r;

	if (!is_pem(data, len))
		return fn(arg, data, len) == 0 ? 1 : KITE_ERR_PARSE;
	while ((r = pem_next(&data, &len, &blk)) == 1) {
		if (strcmp(blk.label, "CERTIFICATE") != 0 && strcmp(blk.label, "X509 CERTIFICATE") != 0 &&
		    strcmp(blk.label, "TRUSTED CERTIFICATE") != 0)
			continue;
		if (pem_decode(&blk, &der, &der_len) != 0)
			return KITE_ERR_PARSE;
		r = fn(arg, der, der_len);
		free(der);
		if (r < 0)
			return r;
		n++;
	}
	return r < 0 ? KITE_ERR_PARSE : n;
}

/* ---- trust anchors ---- */

struct x509_store {
	struct x509_cert **a;
	size_t n, cap;
};

struct x509_store *x509_store_new(void)
{
	return calloc(1, sizeof(struct x509_store));
}

void x509_store_free(struct x509_store *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		x509_cert_free(s->a[i]);
	free(s->a);
	free(s);
}

size_t x509_store_count(const struct x509_store *s)
{
	return s == NULL ? 0 : s->n;
}

int x509_store_add(struct x509_store *s, const uint8_t *der, size_t len,
		   char *reason, size_t reason_len)
{
	struct x509_cert *c, **na;
	size_t i;

	if (s == NULL || der == NULL)
		return KITE_ERR_INVAL;
	for (i = 0; i < s->n; i++)
		if (s->a[i]->der_len == len && memcmp(s->a[i]->der, der, len) == 0)
			return 0;
	if (s->n >= X509_MAX_ANCHORS) {
		why(reason, reason_len, "more than %d CA certificates", X509_MAX_ANCHORS);
		return KITE_ERR_INVAL;
	}
	if ((c = x509_cert_parse(der, len, reason, reason_len)) == NULL)
		return KITE_ERR_PARSE;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;

		if ((na = realloc(s->a, cap * sizeof(*na))) == NULL) {
			x509_cert_free(c);
			return KITE_ERR_NOMEM;
		}
		s->a = na;
		s->cap = cap;
	}
	s->a[s->n++] = c;
	return 0;
}

struct store_load {
	struct x509_store *s;
	const char *file;
	int skipped;
};

static int store_add_cb(void *arg, const uint8_t *der, size_t len)
{
	struct store_load *l = arg;
	char w[X509_REASON_LEN];
	int r;

	if ((r = x509_store_add(l->s, der, len, w, sizeof(w))) == KITE_ERR_PARSE) {
		/* a CA bundle may hold something odd; one bad entry spoils nothing */
		log_debug("%s: skipped: %s", l->file, w);
		l->skipped++;
		return 0;
	}
	return r;
}

static int store_load_file(struct x509_store *s, const char *path, int quiet,
			   char *reason, size_t reason_len)
{
	struct store_load l = { s, path, 0 };
	uint8_t *data;
	size_t len;
	int r;

	if ((r = read_file(path, X509_MAX_FILE, 0, &data, &len, reason, reason_len)) != 0)
		return r;
	if (!is_pem(data, len) && (len == 0 || data[0] != T_SEQUENCE)) {
		free(data);
		if (!quiet)
			why(reason, reason_len, "%s: neither PEM nor a DER certificate", path);
		return quiet ? 0 : KITE_ERR_PARSE;
	}
	r = each_cert(data, len, store_add_cb, &l);
	free(data);
	if (r == KITE_ERR_NOMEM)
		return r;
	if (r <= 0 && !quiet) {
		why(reason, reason_len, "%s: %s", path,
		    r == 0 ? "no certificate in it" : "malformed certificate file");
		return KITE_ERR_PARSE;
	}
	return 0;
}

static int store_load_dir(struct x509_store *s, const char *dir, char *reason, size_t reason_len)
{
	struct dirent *de;
	struct stat st;
	char path[4096];
	DIR *d;
	int r = 0, e;

	if ((d = opendir(dir)) == NULL) {
		e = errno;
		why(reason, reason_len, "%s: %s", dir, strerror(e));
		errno = e;
		return KITE_ERR_SYS;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
			continue;
		/* symbolic links followed (the system store is made of them) */
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if ((r = store_load_file(s, path, 1, reason, reason_len)) == KITE_ERR_NOMEM ||
		    s->n >= X509_MAX_ANCHORS)
			break;
		r = 0;
	}
	closedir(d);
	return r;
}

int x509_store_load(struct x509_store **out, const char *ca, char *reason, size_t reason_len)
{
	struct x509_store *s;
	struct stat st;
	const char *path = ca;
	size_t i, usable = 0;
	int r, e;

	why(reason, reason_len, "%s", "");
	if (out == NULL || ca == NULL)
		return KITE_ERR_INVAL;
	*out = NULL;
	if ((s = x509_store_new()) == NULL)
		return KITE_ERR_NOMEM;
	if (strcmp(ca, "system") == 0)
		path = access(X509_SYSTEM_BUNDLE, R_OK) == 0 ? X509_SYSTEM_BUNDLE : X509_SYSTEM_DIR;
	if (stat(path, &st) != 0) {
		e = errno;
		why(reason, reason_len, "%s: %s", path, strerror(e));
		x509_store_free(s);
		errno = e;
		return KITE_ERR_SYS;
	}
	if (S_ISDIR(st.st_mode))
		r = store_load_dir(s, path, reason, reason_len);
	else
		r = store_load_file(s, path, 0, reason, reason_len);
	if (r != 0) {
		x509_store_free(s);
		return r;
	}
	for (i = 0; i < s->n; i++)
		usable += s->a[i]->key.usable;
	if (usable == 0) {
		why(reason, reason_len, "%s: no usable CA certificate", path);
		x509_store_free(s);
		return KITE_ERR_CONFIG;
	}
	log_debug("%s: %zu CA certificates (%zu usable)", path, s->n, usable);
	*out = s;
	return 0;
}

int x509_ca_keyhash(const struct x509_store *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t i, o = 0;

	if (s == NULL || out == NULL || len == NULL)
		return KITE_ERR_INVAL;
	for (i = 0; i < s->n && o + X509_KEYHASH_LEN <= cap; i++) {
		const struct x509_cert *c = s->a[i];

		if (!c->key.usable)
			continue;
		/* RFC 7296 3.7: SHA-1 of the SubjectPublicKeyInfo element */
		if (crypto_sha1(c->spki.p, c->spki.len, NULL, 0, out + o) != 0)
			return KITE_ERR_CRYPTO;
		o += X509_KEYHASH_LEN;
	}
	*len = o;
	return 0;
}

struct cert_list {
	struct x509_cert **out;
	size_t max, n;
	char *w;
	size_t wl;
};

static int cert_list_cb(void *arg, const uint8_t *der, size_t len)
{
	struct cert_list *l = arg;

	if (l->n >= l->max)
		return 0;
	if ((l->out[l->n] = x509_cert_parse(der, len, l->w, l->wl)) == NULL)
		return KITE_ERR_PARSE;
	l->n++;
	return 0;
}

int x509_cert_load(const char *path, struct x509_cert **out, size_t max, size_t *n,
		   char *reason, size_t reason_len)
{
	struct cert_list l = { out, max, 0, reason, reason_len };
	uint8_t *data;
	size_t len, i;
	int r;

	if (n != NULL)
		*n = 0;
	why(reason, reason_len, "%s", "");
	if (path == NULL || out == NULL || n == NULL || max == 0)
		return KITE_ERR_INVAL;
	if ((r = read_file(path, X509_MAX_FILE, 0, &data, &len, reason, reason_len)) != 0)
		return r;
	r = each_cert(data, len, cert_list_cb, &l);
	free(data);
	if (r <= 0 || l.n == 0) {
		for (i = 0; i < l.n; i++)
			x509_cert_free(out[i]);
		if (r == 0)
			why(reason, reason_len, "%s: no certificate in it", path);
		else if (reason != NULL && reason[0] != '\0') {
			char tmp[X509_REASON_LEN];

			snprintf(tmp, sizeof(tmp), "%s: %s", path, reason);
			why(reason, reason_len, "%s", tmp);
		} else {
			why(reason, reason_len, "%s: malformed certificate file", path);
		}
		return r < 0 ? r : KITE_ERR_PARSE;
	}
	*n = l.n;
	return 0;
}

/* ---- name constraints (RFC 5280 4.2.1.10) ---- */

static int ascii_casecmp_n(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t x = a[i], y = b[i];

		if (x >= 'A' && x <= 'Z')
			x = (uint8_t)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (uint8_t)(y + 32);
		if (x != y)
			return 1;
	}
	return 0;
}

/* dNSName within a dNSName constraint: equal, or ends in "." + constraint. */
static int dns_within(struct view name, struct view base)
{
	const uint8_t *bp = base.p;
	size_t bl = base.len;

	if (bl == 0)
		return 1;
	if (bp[0] == '.') {	/* ".example.com": subdomains only (common extension) */
		return name.len > bl && ascii_casecmp_n(name.p + name.len - bl, bp, bl) == 0;
	}
	if (name.len == bl)
		return ascii_casecmp_n(name.p, bp, bl) == 0;
	return name.len > bl && name.p[name.len - bl - 1] == '.' &&
	    ascii_casecmp_n(name.p + name.len - bl, bp, bl) == 0;
}

/* rfc822Name within a constraint: a mailbox, a host, or ".domain". */
static int email_within(struct view name, struct view base)
{
	const uint8_t *at = memchr(name.p, '@', name.len);
	struct view host;

	if (base.len == 0)
		return 1;
	if (memchr(base.p, '@', base.len) != NULL)
		return name.len == base.len && ascii_casecmp_n(name.p, base.p, base.len) == 0;
	if (at == NULL)
		return 0;
	host.p = at + 1;
	host.len = name.len - (size_t)(host.p - name.p);
	if (base.p[0] == '.')
		return dns_within(host, base);
	return host.len == base.len && ascii_casecmp_n(host.p, base.p, base.len) == 0;
}

static int ip_within(struct view addr, struct view base)
{
	size_t i, n = addr.len;

	if (base.len != 2 * n)
		return 0;	/* other address family: not within */
	for (i = 0; i < n; i++)
		if ((addr.p[i] & base.p[n + i]) != (base.p[i] & base.p[n + i]))
			return 0;
	return 1;
}

/* directoryName: the constraint's RDNs are the first RDNs of the name. */
static int dn_within(struct view name, struct view base)
{
	struct kbuf nb, bb, nseq, bseq;
	struct view nr, br;
	struct kbuf x;

	kbuf_init(&nb, name.p, name.len);
	kbuf_init(&bb, base.p, base.len);
	if (der_get(&nb, T_SEQUENCE, &nseq, NULL) != 0 || der_get(&bb, T_SEQUENCE, &bseq, NULL) != 0)
		return 0;
	while (kbuf_left(&bseq) > 0) {
		if (der_get(&bseq, T_SET, &x, &br) != 0 || der_get(&nseq, T_SET, &x, &nr) != 0 ||
		    !view_eq(nr, br))
			return 0;
	}
	return 1;
}

static int name_within(uint8_t tag, struct view v, const struct gname *base)
{
	switch (tag) {
	case GN_DNS:
		return dns_within(v, base->v);
	case GN_RFC822:
		return email_within(v, base->v);
	case GN_IP:
		return ip_within(v, base->v);
	case GN_DIRNAME:
		return dn_within(v, base->v);
	default:
		return 0;
	}
}

/*
 * One name of type tag against a CA's constraints: within some permitted
 * subtree of that type (if there are any of that type) and within no excluded one.
 */
static int name_allowed(const struct x509_cert *ca, uint8_t tag, struct view v)
{
	struct kbuf b, st;
	struct gname g;
	int have_type = 0, ok = 0;

	kbuf_init(&b, ca->nc_permitted.p, ca->nc_permitted.len);
	while (kbuf_left(&b) > 0) {
		if (der_get(&b, T_SEQUENCE, &st, NULL) != 0 || parse_gname(&st, &g) != 0)
			return 0;
		if (g.tag != tag)
			continue;
		have_type = 1;
		ok |= name_within(tag, v, &g);
	}
	if (have_type && !ok)
		return 0;
	kbuf_init(&b, ca->nc_excluded.p, ca->nc_excluded.len);
	while (kbuf_left(&b) > 0) {
		if (der_get(&b, T_SEQUENCE, &st, NULL) != 0 || parse_gname(&st, &g) != 0)
			return 0;
		if (g.tag == tag && name_within(tag, v, &g))
			return 0;
	}
	return 1;
}

/* Subtree forms kite can evaluate; anything else in a constraint is refused. */
static int nc_supported(const struct x509_cert *ca)
{
	const struct view *lists[2] = { &ca->nc_permitted, &ca->nc_excluded };
	struct kbuf b, st;
	struct gname g;
	int i;

	for (i = 0; i < 2; i++) {
		kbuf_init(&b, lists[i]->p, lists[i]->len);
		while (kbuf_left(&b) > 0) {
			if (der_get(&b, T_SEQUENCE, &st, NULL) != 0 || parse_gname(&st, &g) != 0 ||
			    kbuf_left(&st) != 0)
				return 0;
			if (g.tag != GN_DNS && g.tag != GN_RFC822 && g.tag != GN_IP &&
			    g.tag != GN_DIRNAME)
				return 0;
			if (g.tag == GN_IP && g.v.len != 8 && g.v.len != 32)
				return 0;
		}
	}
	return 1;
}

static int nc_check(const struct x509_cert *ca, const struct x509_cert *c, char *w, size_t wl)
{
	struct view subj = c->subject;
	unsigned i;

	if (!nc_supported(ca)) {
		why(w, wl, "CA '%s' has name constraints kite cannot evaluate", ca->name);
		return KITE_ERR_VERIFY;
	}
	/* an empty subject (SEQUENCE of nothing) names nobody */
	if (subj.len > 2 && !name_allowed(ca, GN_DIRNAME, subj))
		goto refused;
	for (i = 0; i < c->n_san; i++) {
		const struct gname *g = &c->san[i];

		if ((g->tag == GN_DNS || g->tag == GN_RFC822 || g->tag == GN_IP ||
		     g->tag == GN_DIRNAME) && !name_allowed(ca, g->tag, g->v))
			goto refused;
	}
	return 0;
refused:
	why(w, wl, "certificate '%s' violates the name constraints of CA '%s'", c->name, ca->name);
	return KITE_ERR_VERIFY;
}

/* ---- chain ---- */

static int cert_sig_ok(const struct x509_cert *issuer, const struct x509_cert *c,
		       char *w, size_t wl)
{
	char tmp[X509_REASON_LEN];
	struct sigalg a;
	int r;

	if ((r = sigalg_parse(c->sigalg, &a, tmp, sizeof(tmp))) != 0) {
		why(w, wl, "certificate '%s': %s", c->name, tmp);
		return r;
	}
	tmp[0] = '\0';
	if ((r = sig_verify(&issuer->key, &a, c->tbs.p, c->tbs.len, c->sig.p, c->sig.len,
			    tmp, sizeof(tmp))) != 0) {
		if (tmp[0])
			why(w, wl, "certificate '%s' cannot be verified with the key of '%s': %s",
			    c->name, issuer->name, tmp);
		else
			why(w, wl, "bad signature on certificate '%s' (issuer '%s')", c->name,
			    issuer->name);
		return KITE_ERR_VERIFY;
	}
	return 0;
}

/* c names issuer as its issuer (names and, when both are present, key IDs). */
static int issued_by(const struct x509_cert *c, const struct x509_cert *issuer)
{
	if (!view_eq(c->issuer, issuer->subject))
		return 0;
	if (c->akid.len > 0 && issuer->skid.len > 0 && !view_eq(c->akid, issuer->skid))
		return 0;
	return 1;
}

static int self_issued(const struct x509_cert *c)
{
	return view_eq(c->issuer, c->subject);
}

static int validity_ok(const struct x509_cert *c, time_t now, const char *what,
		       char *w, size_t wl)
{
	char t[48];

	if (now < c->not_before) {
		fmt_time(c->not_before, t, sizeof(t));
		why(w, wl, "%s '%s' is not valid before %s", what, c->name, t);
		return 0;
	}
	if (now > c->not_after) {
		fmt_time(c->not_after, t, sizeof(t));
		why(w, wl, "%s '%s' expired on %s", what, c->name, t);
		return 0;
	}
	return 1;
}

/* End-entity rules (RFC 4945 5.1.3.2, 5.1.3.12). */
static int ee_ok(const struct x509_cert *c, char *w, size_t wl)
{
	if (c->has_ku && !(c->ku & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION))) {
		why(w, wl, "certificate '%s' may not be used for signatures (key usage)", c->name);
		return 0;
	}
	if (c->has_eku &&
	    !(c->eku & (EKU_SERVER | EKU_IPSEC_IKE | EKU_ANY | EKU_IKE_INTERMEDIATE))) {
		why(w, wl, "certificate '%s' is not for IKE servers (extended key usage %s)",
		    c->name, c->eku & EKU_CLIENT ? "clientAuth" : "without serverAuth or ipsecIKE");
		return 0;
	}
	return 1;
}

/* CA rules (RFC 5280 6.1.4 (k), (l), (m), (n)). below: non-self-issued intermediates under it. */
static int ca_ok(const struct x509_cert *c, unsigned below, int anchor, char *w, size_t wl)
{
	const char *what = anchor ? "CA" : "intermediate CA";

	if (!anchor && (c->version != 2 || !c->has_bc || !c->ca)) {
		why(w, wl, "certificate '%s' is not a CA certificate (basic constraints) but "
		    "issued another", c->name);
		return 0;
	}
	if (anchor && c->has_bc && !c->ca) {
		why(w, wl, "trusted certificate '%s' is not a CA certificate (basic constraints)",
		    c->name);
		return 0;
	}
	if (c->has_ku && !(c->ku & KU_KEY_CERT_SIGN)) {
		why(w, wl, "%s '%s' may not sign certificates (key usage)", what, c->name);
		return 0;
	}
	if (c->pathlen >= 0 && below > (unsigned long)c->pathlen) {
		why(w, wl, "path length constraint of %s '%s' exceeded (%u > %ld)", what, c->name,
		    below, c->pathlen);
		return 0;
	}
	return 1;
}

struct chain {
	const struct x509_store *s;
	struct x509_cert *cand[X509_MAX_CHAIN];
	size_t n;
	unsigned used;
	const struct x509_cert *path[X509_MAX_DEPTH];
	time_t now;
	unsigned checks;		/* signature verifications so far */
	int rank;			/* of the reason kept: higher is more telling */
	char reason[X509_REASON_LEN];
};

enum { RANK_UNTRUSTED = 1, RANK_DEPTH, RANK_SIGNATURE, RANK_POLICY };

/* Paths tried are bounded: 8 look-alike certificates must not cost 8^4 signature checks. */
#define MAX_SIG_CHECKS	64

static void note(struct chain *ch, int rank, const char *w)
{
	if (rank > ch->rank) {
		ch->rank = rank;
		snprintf(ch->reason, sizeof(ch->reason), "%s", w);
	}
}

/* Every rule on a complete path path[0..depth) -> anchor. */
static int path_ok(struct chain *ch, size_t depth, const struct x509_cert *anchor)
{
	char w[X509_REASON_LEN];
	unsigned below = 0;
	size_t i, j;

	for (i = 0; i < depth; i++) {
		const struct x509_cert *c = ch->path[i];

		if (c->bad_critical[0]) {
			why(w, sizeof(w), "certificate '%s' has an unsupported critical extension %s",
			    c->name, c->bad_critical);
			goto refused;
		}
		if (!validity_ok(c, ch->now, "certificate", w, sizeof(w)))
			goto refused;
		if (!c->key.usable) {
			why(w, sizeof(w), "certificate '%s': %s", c->name, c->key.why);
			goto refused;
		}
		if (i == 0 ? !ee_ok(c, w, sizeof(w)) : !ca_ok(c, below, 0, w, sizeof(w)))
			goto refused;
		/* pathLen counts the non-self-issued intermediates below (RFC 5280 6.1.4 (l)) */
		if (i > 0 && !self_issued(c))
			below++;
	}
	if (anchor != NULL) {
		if (!validity_ok(anchor, ch->now, "CA certificate", w, sizeof(w)))
			goto refused;
		if (!anchor->key.usable) {
			why(w, sizeof(w), "CA certificate '%s': %s", anchor->name, anchor->key.why);
			goto refused;
		}
		if (!ca_ok(anchor, below, 1, w, sizeof(w)))
			goto refused;
		if (anchor->has_nc)
			for (j = 0; j < depth; j++)
				if (nc_check(anchor, ch->path[j], w, sizeof(w)) != 0)
					goto refused;
	}
	/* a CA's name constraints bind everything below it (self-issued CAs excepted) */
	for (i = 1; i < depth; i++) {
		if (!ch->path[i]->has_nc)
			continue;
		for (j = 0; j < i; j++) {
			if (j > 0 && self_issued(ch->path[j]))
				continue;
			if (nc_check(ch->path[i], ch->path[j], w, sizeof(w)) != 0)
				goto refused;
		}
	}
	return 0;
refused:
	note(ch, RANK_POLICY, w);
	return KITE_ERR_VERIFY;
}

/* Depth-first search from path[depth - 1] towards an anchor. */
static int search(struct chain *ch, size_t depth)
{
	const struct x509_cert *cur = ch->path[depth - 1];
	char w[X509_REASON_LEN];
	int named = 0;
	size_t i;

	for (i = 0; i < ch->s->n; i++) {
		const struct x509_cert *a = ch->s->a[i];

		if (!issued_by(cur, a))
			continue;
		named = 1;
		if (++ch->checks > MAX_SIG_CHECKS)
			goto too_many;
		if (cert_sig_ok(a, cur, w, sizeof(w)) != 0) {
			note(ch, RANK_SIGNATURE, w);
			continue;
		}
		if (path_ok(ch, depth, a) == 0)
			return 0;
	}
	for (i = 0; i < ch->n; i++) {
		struct x509_cert *c = ch->cand[i];

		if ((ch->used & (1u << i)) || !issued_by(cur, c))
			continue;
		named = 1;
		if (depth >= X509_MAX_DEPTH) {
			why(w, sizeof(w), "certificate chain is too deep (more than %d certificates "
			    "below the CA)", X509_MAX_DEPTH);
			note(ch, RANK_DEPTH, w);
			continue;
		}
		if (++ch->checks > MAX_SIG_CHECKS)
			goto too_many;
		if (cert_sig_ok(c, cur, w, sizeof(w)) != 0) {
			note(ch, RANK_SIGNATURE, w);
			continue;
		}
		ch->used |= 1u << i;
		ch->path[depth] = c;
		if (search(ch, depth + 1) == 0)
			return 0;
		ch->used &= ~(1u << i);
	}
	if (!named) {
		if (self_issued(cur))
			why(w, sizeof(w), "self-signed certificate '%s' is not trusted", cur->name);
		else
			why(w, sizeof(w), "issuer not trusted (%s)", cur->issuer_name);
		note(ch, RANK_UNTRUSTED, w);
	}
	return KITE_ERR_VERIFY;
too_many:
	note(ch, RANK_POLICY, "too many certificate paths to try (more than 64 signatures)");
	return KITE_ERR_VERIFY;
}

int x509_verify_chain(const struct x509_store *s, const uint8_t *const certs[],
		      const size_t lens[], size_t n, time_t now, struct x509_cert **ee,
		      char *reason, size_t reason_len)
{
	struct chain ch;
	size_t i;
	int r = KITE_ERR_VERIFY;

	if (ee != NULL)
		*ee = NULL;
	why(reason, reason_len, "%s", "");
	if (s == NULL || certs == NULL || lens == NULL || n == 0) {
		why(reason, reason_len, "no certificate from the gateway");
		return KITE_ERR_INVAL;
	}
	if (n > X509_MAX_CHAIN)
		n = X509_MAX_CHAIN;
	memset(&ch, 0, sizeof(ch));
	ch.s = s;
	ch.now = now;
	for (i = 0; i < n; i++) {
		char w[X509_REASON_LEN];

		if ((ch.cand[i] = x509_cert_parse(certs[i], lens[i], w, sizeof(w))) == NULL) {
			r = KITE_ERR_PARSE;
			if (i == 0) {
				why(reason, reason_len, "gateway certificate: %s", w);
				goto out;
			}
			/* a broken extra certificate: ignore it, the path may not need it */
			log_debug("certificate %zu from the gateway ignored: %s", i, w);
		}
	}
	ch.n = n;
	ch.path[0] = ch.cand[0];
	ch.used = 1;
	/* the end entity itself trusted (pinned in the ca file) */
	for (i = 0; i < s->n; i++) {
		if (view_eq((struct view){ s->a[i]->der, s->a[i]->der_len },
			    (struct view){ ch.cand[0]->der, ch.cand[0]->der_len })) {
			if ((r = path_ok(&ch, 1, NULL)) == 0)
				goto done;
			goto fail;
		}
	}
	for (i = 1; i < n; i++)
		if (ch.cand[i] == NULL)
			ch.used |= 1u << i;
	if ((r = search(&ch, 1)) == 0)
		goto done;
fail:
	why(reason, reason_len, "%s", ch.reason[0] ? ch.reason : "certificate not trusted");
	r = KITE_ERR_VERIFY;
	goto out;
done:
	log_debug("gateway certificate '%s' verified", ch.cand[0]->name);
	if (ee != NULL) {
		*ee = ch.cand[0];
		ch.cand[0] = NULL;
	}
	why(reason, reason_len, "%s", "");
	r = 0;
out:
	for (i = 0; i < n; i++)
		x509_cert_free(ch.cand[i]);
	return r;
}

/* ---- identities (RFC 7296 3.5, RFC 4945 3) ---- */

static const char *gn_type_name(uint8_t id_type)
{
	switch (id_type) {
	case IKEV2_ID_FQDN:
		return "DNS name";
	case IKEV2_ID_RFC822_ADDR:
		return "e-mail address";
	case IKEV2_ID_IPV4_ADDR:
	case IKEV2_ID_IPV6_ADDR:
		return "IP address";
	default:
		return "name";
	}
}

void x509_id_string(uint8_t id_type, const uint8_t *id, size_t id_len, char *out, size_t cap)
{
	size_t i, n;

	if (cap == 0)
		return;
	out[0] = '\0';
	if (id == NULL)
		return;
	switch (id_type) {
	case IKEV2_ID_IPV4_ADDR:
	case IKEV2_ID_IPV6_ADDR: {
		char a[INET6_ADDRSTRLEN];
		int af = id_len == 4 ? AF_INET : AF_INET6;

		if ((id_len == 4 || id_len == 16) && inet_ntop(af, id, a, sizeof(a)) != NULL)
			snprintf(out, cap, "%s", a);
		else
			snprintf(out, cap, "(bad address)");
		return;
	}
	case IKEV2_ID_DER_ASN1_DN:
		dn_string((struct view){ id, id_len }, out, cap);
		return;
	case IKEV2_ID_FQDN:
	case IKEV2_ID_RFC822_ADDR:
		n = id_len < cap - 1 ? id_len : cap - 1;
		for (i = 0; i < n; i++)
			out[i] = id[i] >= 0x20 && id[i] < 0x7f ? (char)id[i] : '?';
		out[n] = '\0';
		return;
	default:
		for (i = 0, n = 0; i < id_len && n + 3 <= cap; i++, n += 2)
			snprintf(out + n, cap - n, "%02x", id[i]);
		return;
	}
}

int x509_id_match(const struct x509_cert *c, uint8_t id_type, const uint8_t *id, size_t id_len,
		  char *reason, size_t reason_len)
{
	char want[128], have[128] = "";
	uint8_t tag;
	unsigned i;
	int ci;

	why(reason, reason_len, "%s", "");
	if (c == NULL || id == NULL)
		return KITE_ERR_INVAL;
	switch (id_type) {
	case IKEV2_ID_FQDN:
		tag = GN_DNS;
		ci = 1;
		break;
	case IKEV2_ID_RFC822_ADDR:
		tag = GN_RFC822;
		ci = 1;
		break;
	case IKEV2_ID_IPV4_ADDR:
	case IKEV2_ID_IPV6_ADDR:
		if (id_len != (id_type == IKEV2_ID_IPV4_ADDR ? 4u : 16u))
			return KITE_ERR_VERIFY;
		tag = GN_IP;
		ci = 0;
		break;
	case IKEV2_ID_DER_ASN1_DN:
		if (view_eq(c->subject, (struct view){ id, id_len }))
			return 0;
		for (i = 0; i < c->n_san; i++)
			if (c->san[i].tag == GN_DIRNAME &&
			    view_eq(c->san[i].v, (struct view){ id, id_len }))
				return 0;
		x509_id_string(id_type, id, id_len, want, sizeof(want));
		why(reason, reason_len, "certificate is for '%s', not '%s'", c->name, want);
		return KITE_ERR_VERIFY;
	default:
		why(reason, reason_len, "identity type %u cannot be bound to a certificate", id_type);
		return KITE_ERR_UNSUPPORTED;
	}
	for (i = 0; i < c->n_san; i++) {
		const struct gname *g = &c->san[i];

		if (g->tag != tag || g->v.len != id_len)
			continue;
		if (ci ? ascii_casecmp_n(g->v.p, id, id_len) == 0 : memcmp(g->v.p, id, id_len) == 0)
			return 0;
	}
	/* the first name of that type, to say what the certificate is for */
	for (i = 0; i < c->n_san; i++) {
		if (c->san[i].tag == tag) {
			x509_id_string(id_type == IKEV2_ID_IPV4_ADDR && c->san[i].v.len == 16 ?
				       IKEV2_ID_IPV6_ADDR : id_type == IKEV2_ID_IPV6_ADDR &&
				       c->san[i].v.len == 4 ? IKEV2_ID_IPV4_ADDR : id_type,
				       c->san[i].v.p, c->san[i].v.len, have, sizeof(have));
			break;
		}
	}
	x509_id_string(id_type, id, id_len, want, sizeof(want));
	if (have[0])
		why(reason, reason_len, "certificate is for '%s', not '%s'", have, want);
	else
		why(reason, reason_len, "certificate '%s' names no %s (subjectAltName), so it is "
		    "not for '%s'", c->name, gn_type_name(id_type), want);
	return KITE_ERR_VERIFY;
}

#define DN_MAX_ATV	32

struct atv_list {
	struct {
		char type[48];
		const uint8_t *v;
		size_t len;
	} a[DN_MAX_ATV];
	unsigned n;
};

static int atv_collect(void *arg, struct kbuf type, uint8_t vtag, struct kbuf value, int first)
{
	struct atv_list *l = arg;
	char nb[48];

	if (l->n >= DN_MAX_ATV)
		return -1;
	snprintf(l->a[l->n].type, sizeof(l->a[l->n].type), "%s",
		 attr_name(type, nb, sizeof(nb)));
	l->a[l->n].v = kbuf_cur(&value);
	l->a[l->n].len = kbuf_left(&value);
	l->n++;
	return 0;
}

static const char *attr_alias(const char *t)
{
	static const struct {
		const char *alias, *name;
	} al[] = {
		{ "S", "ST" }, { "EMAIL", "E" }, { "EMAILADDRESS", "E" }, { "G", "GN" },
		{ "GIVENNAME", "GN" }, { "SURNAME", "SN" }, { "COMMONNAME", "CN" },
		{ "DOMAINCOMPONENT", "DC" }, { "SERIALNUMBER", "serialNumber" },
	};
	size_t i;

	for (i = 0; i < KITE_ARRAY_SIZE(al); i++)
		if (strcasecmp(t, al[i].alias) == 0)
			return al[i].name;
	return t;
}

/* "C=CH, O=kite, CN=gw" against a DER Name: same attributes, same order, values exact. */
static int dn_equals_string(struct view der, const char *s)
{
	struct atv_list l;
	char type[48], val[256];
	size_t tl, vl;
	unsigned i = 0;

	l.n = 0;
	if (name_walk(der, atv_collect, &l) != 0)
		return 0;
	while (*s) {
		while (*s == ' ' || *s == ',')
			s++;
		if (*s == '\0')
			break;
		for (tl = 0; *s && *s != '=' && tl + 1 < sizeof(type); s++)
			type[tl++] = *s;
		while (tl > 0 && type[tl - 1] == ' ')
			tl--;
		type[tl] = '\0';
		if (*s != '=')
			return 0;
		s++;
		while (*s == ' ')
			s++;
		for (vl = 0; *s && *s != ',' && vl + 1 < sizeof(val); s++) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			val[vl++] = *s;
		}
		while (vl > 0 && val[vl - 1] == ' ')
			vl--;
		if (i >= l.n || strcasecmp(attr_alias(type), l.a[i].type) != 0 ||
		    vl != l.a[i].len || memcmp(val, l.a[i].v, vl) != 0)
			return 0;
		i++;
	}
	return i == l.n && i > 0;
}

int x509_id_equals_config(uint8_t id_type, const uint8_t *id, size_t id_len,
			  const char *remote_id)
{
	uint8_t a[16];
	size_t n;

	if (id == NULL || remote_id == NULL)
		return 0;
	n = strlen(remote_id);
	switch (id_type) {
	case IKEV2_ID_IPV4_ADDR:
		return id_len == 4 && inet_pton(AF_INET, remote_id, a) == 1 && memcmp(a, id, 4) == 0;
	case IKEV2_ID_IPV6_ADDR:
		return id_len == 16 && inet_pton(AF_INET6, remote_id, a) == 1 &&
		    memcmp(a, id, 16) == 0;
	case IKEV2_ID_FQDN:
	case IKEV2_ID_RFC822_ADDR:
		return n == id_len && ascii_casecmp_n((const uint8_t *)remote_id, id, n) == 0;
	case IKEV2_ID_DER_ASN1_DN:
		return strchr(remote_id, '=') != NULL &&
		    dn_equals_string((struct view){ id, id_len }, remote_id);
	case IKEV2_ID_KEY_ID:
		return n == id_len && memcmp(remote_id, id, n) == 0;
	default:
		return 0;
	}
}

/* ---- AUTH payloads ---- */

size_t x509_sig_hash_notify(uint8_t out[8])
{
	/* RFC 7427 7 (IANA "Hash Algorithms"): SHA2-256 2, SHA2-384 3, SHA2-512 4;
	 * RFC 8420: Identity 5 */
	static const uint8_t v[8] = { 0, 2, 0, 3, 0, 4, 0, 5 };

	memcpy(out, v, sizeof(v));
	return sizeof(v);
}

int x509_verify_auth(const struct x509_cert *c, uint8_t method, const uint8_t *auth,
		     size_t auth_len, const uint8_t *signed_octets, size_t signed_len,
		     char *reason, size_t reason_len)
{
	uint8_t der[2 * 48 + 16];
	word32 der_len = sizeof(der);
	char w[X509_REASON_LEN];
	struct sigalg a;
	const uint8_t *sig;
	size_t sig_len, half;
	int r;

	why(reason, reason_len, "%s", "");
	if (c == NULL || auth == NULL || signed_octets == NULL)
		return KITE_ERR_INVAL;
	w[0] = '\0';
	switch (method) {
	case IKEV2_AUTH_RSA_SIG:
		why(reason, reason_len, "the gateway signed with AUTH method 1 (RSA with SHA-1), "
		    "which is refused; it must use RFC 7427 signatures (AUTH method 14)");
		return KITE_ERR_VERIFY;
	case IKEV2_AUTH_SHARED_KEY_MIC:
		why(reason, reason_len, "the gateway authenticated with a pre-shared key, but "
		    "its certificate was expected");
		return KITE_ERR_VERIFY;
	case IKEV2_AUTH_ECDSA_256:
	case IKEV2_AUTH_ECDSA_384:
		/* RFC 4754 7: r | s, each the size of the curve; the hash goes with the curve */
		half = method == IKEV2_AUTH_ECDSA_256 ? 32 : 48;
		if (c->key.type != KEY_EC || c->key.bits != half * 8) {
			why(reason, reason_len, "AUTH method %u does not match the key of '%s'",
			    method, c->name);
			return KITE_ERR_VERIFY;
		}
		if (auth_len != 2 * half ||
		    wc_ecc_rs_raw_to_sig(auth, (word32)half, auth + half, (word32)half, der,
					 &der_len) != 0) {
			why(reason, reason_len, "malformed ECDSA AUTH data (%zu bytes)", auth_len);
			return KITE_ERR_VERIFY;
		}
		memset(&a, 0, sizeof(a));
		a.scheme = SIG_ECDSA;
		a.hash = half == 32 ? WC_HASH_TYPE_SHA256 : WC_HASH_TYPE_SHA384;
		sig = der;
		sig_len = der_len;
		break;
	case IKEV2_AUTH_DIGITAL_SIGNATURE: {
		struct view algid;

		/* RFC 7427 3: ASN.1 Length (1 octet) | AlgorithmIdentifier | Signature */
		if (auth_len < 2 || auth[0] == 0 || (size_t)auth[0] + 1 >= auth_len) {
			why(reason, reason_len, "malformed RFC 7427 AUTH data");
			return KITE_ERR_PARSE;
		}
		algid.p = auth + 1;
		algid.len = auth[0];
		if ((r = sigalg_parse(algid, &a, w, sizeof(w))) != 0) {
			why(reason, reason_len, "gateway AUTH: %s", w);
			return r;
		}
		sig = auth + 1 + auth[0];
		sig_len = auth_len - 1 - auth[0];
		break;
	}
	default:
		why(reason, reason_len, "AUTH method %u is not supported (use ECDSA or RFC 7427 "
		    "signatures)", method);
		return KITE_ERR_UNSUPPORTED;
	}
	if (sig_verify(&c->key, &a, signed_octets, signed_len, sig, sig_len, w, sizeof(w)) != 0) {
		if (w[0])
			why(reason, reason_len, "gateway AUTH with the key of '%s': %s", c->name, w);
		else
			why(reason, reason_len, "bad AUTH signature: the gateway does not hold the "
			    "key of '%s'", c->name);
		return KITE_ERR_VERIFY;
	}
	log_debug("AUTH (%s with %s) verified with '%s'", scheme_name(a.scheme),
		  a.scheme == SIG_ED25519 ? "no prehash" : hash_name(a.hash), c->name);
	return 0;
}

/* ---- private keys ---- */

struct x509_key {
	enum key_type type;
	unsigned bits;
	int curve;
	RsaKey *rsa;
	ecc_key *ecc;
	ed25519_key *ed;
};

enum key_form { KF_UNKNOWN = 0, KF_PKCS1, KF_SEC1, KF_PKCS8, KF_PKCS8_ENC };

void x509_key_free(struct x509_key *k)
{
	if (k == NULL)
		return;
	if (k->rsa != NULL) {
		wc_FreeRsaKey(k->rsa);
		crypto_wipe(k->rsa, sizeof(*k->rsa));
		free(k->rsa);
	}
	if (k->ecc != NULL) {
		wc_ecc_free(k->ecc);
		crypto_wipe(k->ecc, sizeof(*k->ecc));
		free(k->ecc);
	}
	if (k->ed != NULL) {
		wc_ed25519_free(k->ed);
		crypto_wipe(k->ed, sizeof(*k->ed));
		free(k->ed);
	}
	crypto_wipe(k, sizeof(*k));
	free(k);
}

/* Which structure a DER key is, from its first elements. */
static enum key_form key_form_der(const uint8_t *p, size_t len)
{
	struct kbuf b, seq, x;
	uint8_t t;

	kbuf_init(&b, p, len);
	if (der_get(&b, T_SEQUENCE, &seq, NULL) != 0 || kbuf_peek_u8(&seq, &t) != 0)
		return KF_UNKNOWN;
	if (t == T_SEQUENCE)
		return KF_PKCS8_ENC;	/* EncryptedPrivateKeyInfo: algorithm first */
	if (der_get(&seq, T_INTEGER, &x, NULL) != 0 || kbuf_peek_u8(&seq, &t) != 0)
		return KF_UNKNOWN;
	if (t == T_SEQUENCE)
		return KF_PKCS8;	/* version, AlgorithmIdentifier, ... */
	if (t == T_OCTETSTRING)
		return KF_SEC1;		/* version 1, privateKey, ... */
	if (t == T_INTEGER)
		return KF_PKCS1;	/* version, modulus, ... */
	return KF_UNKNOWN;
}

static int key_rsa(struct x509_key *k, const uint8_t *p, size_t len, char *w, size_t wl)
{
	uint8_t n[X509_MAX_RSA_BITS / 8 + 1], e[16];
	word32 idx = 0, nl = sizeof(n), el = sizeof(e);

	k->type = KEY_RSA;
	if ((k->rsa = calloc(1, sizeof(*k->rsa))) == NULL)
		return KITE_ERR_NOMEM;
	if (wc_InitRsaKey(k->rsa, NULL) != 0) {
		free(k->rsa);
		k->rsa = NULL;
		return KITE_ERR_CRYPTO;
	}
	if (len > UINT32_MAX || wc_RsaPrivateKeyDecode(p, &idx, k->rsa, (word32)len) != 0 ||
	    idx != len) {
		why(w, wl, "malformed RSA private key");
		return KITE_ERR_PARSE;
	}
	if (wc_RsaFlattenPublicKey(k->rsa, e, &el, n, &nl) != 0) {
		why(w, wl, "RSA key of more than %d bits", X509_MAX_RSA_BITS);
		return KITE_ERR_VERIFY;
	}
	k->bits = int_bits((struct view){ n, nl });
	if (k->bits < X509_MIN_RSA_BITS || k->bits > X509_MAX_RSA_BITS) {
		why(w, wl, "RSA key of %u bits refused (need %d to %d)", k->bits, X509_MIN_RSA_BITS,
		    X509_MAX_RSA_BITS);
		return KITE_ERR_VERIFY;
	}
	return 0;
}

/* ECPrivateKey (RFC 5915 3); curve from its [0] or from the PKCS #8 algorithm. */
static int key_ec(struct x509_key *k, const uint8_t *p, size_t len, struct kbuf *curve_oid,
		  char *w, size_t wl)
{
	struct kbuf b, seq, priv, params, oid, x;
	struct view pub = { NULL, 0 };
	int present, have_curve = curve_oid != NULL, r;
	long v;

	k->type = KEY_EC;
	kbuf_init(&b, p, len);
	if (der_get(&b, T_SEQUENCE, &seq, NULL) != 0 || der_small_int(&seq, 1, &v) != 0 ||
	    v != 1 || der_get(&seq, T_OCTETSTRING, &priv, NULL) != 0 ||
	    der_opt(&seq, T_CTXC(0), &params, NULL, &present) != 0)
		goto bad;
	if (present) {
		if (der_get(&params, T_OID, &oid, NULL) != 0)
			goto bad;
		curve_oid = &oid;
		have_curve = 1;
	}
	if (der_opt(&seq, T_CTXC(1), &x, NULL, &present) != 0)
		goto bad;
	if (present && (der_bits0(&x, &pub) != 0 || kbuf_left(&x) != 0))
		goto bad;
	if (!have_curve) {
		why(w, wl, "EC private key without its curve");
		return KITE_ERR_PARSE;
	}
	if (oid_eq(*curve_oid, &oid_p256)) {
		k->curve = ECC_SECP256R1;
		k->bits = 256;
	} else if (oid_eq(*curve_oid, &oid_p384)) {
		k->curve = ECC_SECP384R1;
		k->bits = 384;
	} else {
		why(w, wl, "EC key on a curve other than P-256 or P-384");
		return KITE_ERR_VERIFY;
	}
	if (kbuf_left(&priv) == 0 || kbuf_left(&priv) > k->bits / 8)
		goto bad;
	if ((k->ecc = calloc(1, sizeof(*k->ecc))) == NULL)
		return KITE_ERR_NOMEM;
	if (wc_ecc_init(k->ecc) != 0) {
		free(k->ecc);
		k->ecc = NULL;
		return KITE_ERR_CRYPTO;
	}
	r = wc_ecc_import_private_key_ex(kbuf_cur(&priv), (word32)kbuf_left(&priv), pub.p,
					 (word32)pub.len, k->ecc, k->curve);
	if (r == 0 && pub.p == NULL)
		r = wc_ecc_make_pub(k->ecc, NULL);
	if (r != 0 || wc_ecc_check_key(k->ecc) != 0)
		goto bad;
	return 0;
bad:
	why(w, wl, "malformed EC private key");
	return KITE_ERR_PARSE;
}

static int key_ed25519(struct x509_key *k, struct kbuf inner, char *w, size_t wl)
{
	struct kbuf priv;
	uint8_t pub[ED25519_PUB_KEY_SIZE];

	/* CurvePrivateKey ::= OCTET STRING (RFC 8410 7) */
	k->type = KEY_ED25519;
	k->bits = 256;
	if (der_get(&inner, T_OCTETSTRING, &priv, NULL) != 0 || kbuf_left(&inner) != 0 ||
	    kbuf_left(&priv) != ED25519_KEY_SIZE) {
		why(w, wl, "malformed Ed25519 private key");
		return KITE_ERR_PARSE;
	}
	if ((k->ed = calloc(1, sizeof(*k->ed))) == NULL)
		return KITE_ERR_NOMEM;
	if (wc_ed25519_init(k->ed) != 0) {
		free(k->ed);
		k->ed = NULL;
		return KITE_ERR_CRYPTO;
	}
	if (wc_ed25519_import_private_only(kbuf_cur(&priv), ED25519_KEY_SIZE, k->ed) != 0 ||
	    wc_ed25519_make_public(k->ed, pub, sizeof(pub)) != 0 ||
	    wc_ed25519_import_private_key(kbuf_cur(&priv), ED25519_KEY_SIZE, pub, sizeof(pub),
					  k->ed) != 0) {
		crypto_wipe(pub, sizeof(pub));
		why(w, wl, "malformed Ed25519 private key");
		return KITE_ERR_PARSE;
	}
	return 0;
}

/* PrivateKeyInfo / OneAsymmetricKey (RFC 5958 2). */
static int key_pkcs8(struct x509_key *k, const uint8_t *p, size_t len, char *w, size_t wl)
{
	struct kbuf b, seq, alg, oid, params, inner;
	long v;
	uint8_t t;
	char os[64];

	kbuf_init(&b, p, len);
	if (der_get(&b, T_SEQUENCE, &seq, NULL) != 0 || der_small_int(&seq, 1, &v) != 0 ||
	    der_get(&seq, T_SEQUENCE, &alg, NULL) != 0 || der_get(&alg, T_OID, &oid, NULL) != 0 ||
	    der_get(&seq, T_OCTETSTRING, &inner, NULL) != 0) {
		why(w, wl, "malformed PKCS#8 private key");
		return KITE_ERR_PARSE;
	}
	if (oid_eq(oid, &oid_rsa))
		return key_rsa(k, kbuf_cur(&inner), kbuf_left(&inner), w, wl);
	if (oid_eq(oid, &oid_ec_pub)) {
		if (der_any(&alg, &t, &params, NULL) != 0 || t != T_OID) {
			why(w, wl, "EC private key without a named curve");
			return KITE_ERR_PARSE;
		}
		return key_ec(k, kbuf_cur(&inner), kbuf_left(&inner), &params, w, wl);
	}
	if (oid_eq(oid, &oid_ed25519))
		return key_ed25519(k, inner, w, wl);
	oid_str(kbuf_cur(&oid), kbuf_left(&oid), os, sizeof(os));
	why(w, wl, "unsupported private key type %s", os);
	return KITE_ERR_UNSUPPORTED;
}

static int key_decrypt(uint8_t *der, size_t *len, x509_passphrase_cb cb, void *arg,
		       char *w, size_t wl)
{
	char pass[1024];
	int n, r;

	if (cb == NULL) {
		why(w, wl, "the private key is encrypted and no passphrase is available");
		return KITE_ERR_VERIFY;
	}
	n = cb(pass, sizeof(pass), arg);
	if (n < 0 || (size_t)n > sizeof(pass)) {
		crypto_wipe(pass, sizeof(pass));
		why(w, wl, "no passphrase for the private key");
		return KITE_ERR_VERIFY;
	}
	r = *len > UINT32_MAX ? -1 : wc_DecryptPKCS8Key(der, (word32)*len, pass, n);
	crypto_wipe(pass, sizeof(pass));
	if (r <= 0) {
		why(w, wl, "cannot decrypt the private key (wrong passphrase, or a PKCS#8 "
		    "scheme other than PBES2 with AES/3DES)");
		return KITE_ERR_VERIFY;
	}
	*len = (size_t)r;
	return 0;
}

struct x509_key *x509_key_parse(const uint8_t *data, size_t len, x509_passphrase_cb cb,
				void *arg, char *reason, size_t reason_len)
{
	struct pem_block blk;
	struct x509_key *k = NULL;
	enum key_form form = KF_UNKNOWN;
	uint8_t *der = NULL;
	size_t der_len = 0, alloc_len = 0;
	int r = KITE_ERR_PARSE, found = 0, pr;

	why(reason, reason_len, "%s", "");
	if (data == NULL || len == 0)
		return NULL;
	if (is_pem(data, len)) {
		const uint8_t *p = data;
		size_t left = len;

		while ((pr = pem_next(&p, &left, &blk)) == 1) {
			if (strcmp(blk.label, "RSA PRIVATE KEY") == 0)
				form = KF_PKCS1;
			else if (strcmp(blk.label, "EC PRIVATE KEY") == 0)
				form = KF_SEC1;
			else if (strcmp(blk.label, "PRIVATE KEY") == 0)
				form = KF_PKCS8;
			else if (strcmp(blk.label, "ENCRYPTED PRIVATE KEY") == 0)
				form = KF_PKCS8_ENC;
			else
				continue;	/* EC PARAMETERS, CERTIFICATE, ... */
			found = 1;
			break;
		}
		if (!found) {
			why(reason, reason_len, "no private key in PEM data");
			return NULL;
		}
		if (blk.encrypted) {
			why(reason, reason_len, "legacy OpenSSL key encryption (Proc-Type) is not "
			    "supported: convert the key with 'openssl pkcs8 -topk8 -v2 aes256'");
			return NULL;
		}
		if (pem_decode(&blk, &der, &der_len) != 0) {
			why(reason, reason_len, "malformed PEM private key");
			return NULL;
		}
		alloc_len = der_len;
	} else {
		if ((der = malloc(len)) == NULL)
			return NULL;
		memcpy(der, data, len);
		der_len = alloc_len = len;
		form = key_form_der(der, der_len);
	}
	if (form == KF_PKCS8_ENC) {
		if (key_decrypt(der, &der_len, cb, arg, reason, reason_len) != 0)
			goto out;
		form = KF_PKCS8;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL)
		goto out;
	switch (form) {
	case KF_PKCS1:
		r = key_rsa(k, der, der_len, reason, reason_len);
		break;
	case KF_SEC1:
		r = key_ec(k, der, der_len, NULL, reason, reason_len);
		break;
	case KF_PKCS8:
		r = key_pkcs8(k, der, der_len, reason, reason_len);
		break;
	default:
		why(reason, reason_len, "not a private key (PEM or DER: PKCS#1, SEC 1, PKCS#8)");
		r = KITE_ERR_PARSE;
		break;
	}
out:
	crypto_wipe(der, alloc_len);
	free(der);
	if (r != 0) {
		x509_key_free(k);
		return NULL;
	}
	return k;
}

struct x509_key *x509_key_load(const char *path, x509_passphrase_cb cb, void *arg,
			       char *reason, size_t reason_len)
{
	struct x509_key *k;
	uint8_t *data;
	size_t len;
	char w[X509_REASON_LEN] = "";

	why(reason, reason_len, "%s", "");
	if (path == NULL)
		return NULL;
	if (read_file(path, 1024 * 1024, 1, &data, &len, reason, reason_len) != 0)
		return NULL;
	k = x509_key_parse(data, len, cb, arg, w, sizeof(w));
	crypto_wipe(data, len);
	free(data);
	if (k == NULL)
		why(reason, reason_len, "%s: %s", path, w[0] ? w : "cannot load the private key");
	return k;
}

/* Strip leading zero octets of a big-endian integer. */
static struct view strip0(struct view v)
{
	while (v.len > 1 && v.p[0] == 0) {
		v.p++;
		v.len--;
	}
	return v;
}

int x509_key_matches_cert(const struct x509_key *k, const struct x509_cert *c)
{
	uint8_t n[X509_MAX_RSA_BITS / 8 + 1], e[16], pt[1 + 2 * 48];
	word32 nl = sizeof(n), el = sizeof(e), pl = sizeof(pt);

	if (k == NULL || c == NULL)
		return 0;
	switch (k->type) {
	case KEY_RSA:
		if ((c->key.type != KEY_RSA && c->key.type != KEY_RSA_PSS) ||
		    wc_RsaFlattenPublicKey(k->rsa, e, &el, n, &nl) != 0)
			return 0;
		return view_eq(strip0((struct view){ n, nl }), strip0(c->key.n)) &&
		    view_eq(strip0((struct view){ e, el }), strip0(c->key.e));
	case KEY_EC:
		if (c->key.type != KEY_EC || c->key.curve != k->curve ||
		    wc_ecc_export_x963(k->ecc, pt, &pl) != 0)
			return 0;
		return view_eq((struct view){ pt, pl }, c->key.point);
	case KEY_ED25519:
		if (c->key.type != KEY_ED25519 || wc_ed25519_export_public(k->ed, pt, &pl) != 0)
			return 0;
		return view_eq((struct view){ pt, pl }, c->key.point);
	default:
		return 0;
	}
}

/* AlgorithmIdentifiers kite signs with (RFC 7427 A.1, A.3, A.4.1; RFC 8420) */
static const uint8_t algid_sha256_rsa[] = {
	0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00,
};
static const uint8_t algid_rsa_pss_sha256[] = {
	0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a,
	0x30, 0x34,
	0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
	0x01, 0x05, 0x00,
	0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01,
	0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
	0x05, 0x00,
	0xa2, 0x03, 0x02, 0x01, 0x20,
};
static const uint8_t algid_ecdsa_sha256[] = {
	0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
};
static const uint8_t algid_ecdsa_sha384[] = {
	0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03,
};
static const uint8_t algid_ed25519[] = { 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70 };

int x509_sign_auth(const struct x509_key *k, unsigned flags, const uint8_t *signed_octets,
		   size_t signed_len, uint8_t *method, uint8_t *out, size_t cap, size_t *out_len,
		   char *reason, size_t reason_len)
{
	uint8_t d[WC_MAX_DIGEST_SIZE], in[sizeof(di_sha256) + 32], *sig;
	const uint8_t *algid;
	size_t algid_len, dl, sig_cap;
	word32 sl;
	WC_RNG rng;
	int r = KITE_ERR_CRYPTO, n;

	why(reason, reason_len, "%s", "");
	if (out_len != NULL)
		*out_len = 0;
	if (k == NULL || signed_octets == NULL || method == NULL || out == NULL ||
	    out_len == NULL || signed_len > UINT32_MAX)
		return KITE_ERR_INVAL;
	switch (k->type) {
	case KEY_RSA:
		if (flags & X509_SIGN_RSA_PKCS1) {
			algid = algid_sha256_rsa;
			algid_len = sizeof(algid_sha256_rsa);
		} else {
			algid = algid_rsa_pss_sha256;
			algid_len = sizeof(algid_rsa_pss_sha256);
		}
		break;
	case KEY_EC:
		algid = k->curve == ECC_SECP256R1 ? algid_ecdsa_sha256 : algid_ecdsa_sha384;
		algid_len = sizeof(algid_ecdsa_sha256);
		break;
	case KEY_ED25519:
		algid = algid_ed25519;
		algid_len = sizeof(algid_ed25519);
		break;
	default:
		return KITE_ERR_INVAL;
	}
	if (cap < 1 + algid_len + 16) {
		why(reason, reason_len, "AUTH buffer too small");
		return KITE_ERR_INVAL;
	}
	out[0] = (uint8_t)algid_len;
	memcpy(out + 1, algid, algid_len);
	sig = out + 1 + algid_len;
	sig_cap = cap - 1 - algid_len;
	sl = (word32)(sig_cap > UINT32_MAX ? UINT32_MAX : sig_cap);
	if (wc_InitRng(&rng) != 0)
		return KITE_ERR_CRYPTO;
	switch (k->type) {
	case KEY_RSA:
		if ((size_t)wc_RsaEncryptSize(k->rsa) > sig_cap) {
			r = KITE_ERR_INVAL;
			break;
		}
		if (digest(WC_HASH_TYPE_SHA256, signed_octets, signed_len, d, &dl) != 0)
			break;
		if (flags & X509_SIGN_RSA_PKCS1) {
			memcpy(in, di_sha256, sizeof(di_sha256));
			memcpy(in + sizeof(di_sha256), d, dl);
			n = wc_RsaSSL_Sign(in, (word32)(sizeof(di_sha256) + dl), sig, sl, k->rsa,
					   &rng);
		} else {
			n = wc_RsaPSS_Sign_ex(d, (word32)dl, sig, sl, WC_HASH_TYPE_SHA256,
					      WC_MGF1SHA256, 32, k->rsa, &rng);
		}
		if (n > 0) {
			sl = (word32)n;
			r = 0;
		}
		break;
	case KEY_EC:
		if (digest(k->curve == ECC_SECP256R1 ? WC_HASH_TYPE_SHA256 : WC_HASH_TYPE_SHA384,
			   signed_octets, signed_len, d, &dl) != 0)
			break;
		if (wc_ecc_sign_hash(d, (word32)dl, sig, &sl, &rng, k->ecc) == 0)
			r = 0;
		break;
	case KEY_ED25519:
		if (sl >= ED25519_SIG_SIZE &&
		    wc_ed25519_sign_msg(signed_octets, (word32)signed_len, sig, &sl, k->ed) == 0)
			r = 0;
		break;
	default:
		break;
	}
	wc_FreeRng(&rng);
	crypto_wipe(d, sizeof(d));
	crypto_wipe(in, sizeof(in));
	if (r != 0) {
		why(reason, reason_len, "signing the AUTH payload failed");
		return r;
	}
	*method = IKEV2_AUTH_DIGITAL_SIGNATURE;
	*out_len = 1 + algid_len + sl;
	return 0;
}
