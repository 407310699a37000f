/* config: see config.h. The only file that includes inih. */
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "kite.h"
#include "config.h"
#include "ikev2.h"

/*
 * Secure only (reliability.md 8): one AEAD proposal and one AES-CBC/HMAC-SHA2
 * fallback, each carrying every group kite implements, so that one round trip
 * suffices against most gateways. X25519 first: it is the KE we send.
 */
const char *const config_default_ike =
	"aes256gcm16-aes128gcm16-chacha20poly1305-prfsha256-prfsha384-prfsha512-"
	"x25519-ecp256-ecp384-modp3072-modp2048, "
	"aes256-aes128-sha256-sha384-sha512-x25519-ecp256-ecp384-modp3072-modp2048";
const char *const config_default_esp =
	"aes256gcm16-aes128gcm16-chacha20poly1305, aes256-aes128-sha256";

#define VALUE_MAX	1024		/* a value after joining continuation lines */
#define STR_MAX		255		/* identities, user names */
#define PATH_MAX_LEN	4095

static void __attribute__((format(printf, 3, 4)))
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- proposals ---- */

enum tok_kind { TOK_ENCR, TOK_INTEG, TOK_PRF, TOK_DH, TOK_ESN, TOK_REFUSED, TOK_UNSUPPORTED };

struct alg_token {
	const char *name;
	enum tok_kind kind;
	uint16_t id;
	uint16_t bits;		/* ENCR: key bits; INTEG: the PRF derived for IKE */
	int aead;
	const char *why;	/* REFUSED/UNSUPPORTED: "reason (what to use)" */
};

#define WHY_GCM_ICV	"AES-GCM with a short ICV is not supported (use aes128gcm16 or aes256gcm16)"
#define WHY_AES192	"AES-192 is not supported by kite (use aes128 or aes256, or their gcm16 forms)"
#define WHY_GROUP	"kite does not support this group (use x25519, ecp256, ecp384, modp3072 or modp2048)"
#define WHY_5114	"RFC 5114 groups 22-24 are refused (RFC 8247 2.4: SHOULD NOT) (use x25519 or ecp256)"

static const struct alg_token alg_tokens[] = {
	{ "aes128gcm16", TOK_ENCR, IKEV2_ENCR_AES_GCM_16, 128, 1, NULL },
	{ "aes128gcm", TOK_ENCR, IKEV2_ENCR_AES_GCM_16, 128, 1, NULL },
	{ "aes128gcm128", TOK_ENCR, IKEV2_ENCR_AES_GCM_16, 128, 1, NULL },
	{ "aes256gcm16", TOK_ENCR, IKEV2_ENCR_AES_GCM_16, 256, 1, NULL },
	{ "aes256gcm", TOK_ENCR, IKEV2_ENCR_AES_GCM_16, 256, 1, NULL },
	{ "aes256gcm128", TOK_ENCR, IKEV2_ENCR_AES_GCM_16, 256, 1, NULL },
	{ "chacha20poly1305", TOK_ENCR, IKEV2_ENCR_CHACHA20_POLY1305, 0, 1, NULL },
	{ "aes128", TOK_ENCR, IKEV2_ENCR_AES_CBC, 128, 0, NULL },
	{ "aes256", TOK_ENCR, IKEV2_ENCR_AES_CBC, 256, 0, NULL },
	{ "sha256", TOK_INTEG, IKEV2_INTEG_HMAC_SHA2_256_128, IKEV2_PRF_HMAC_SHA2_256, 0, NULL },
	{ "sha2_256", TOK_INTEG, IKEV2_INTEG_HMAC_SHA2_256_128, IKEV2_PRF_HMAC_SHA2_256, 0, NULL },
	{ "sha384", TOK_INTEG, IKEV2_INTEG_HMAC_SHA2_384_192, IKEV2_PRF_HMAC_SHA2_384, 0, NULL },
	{ "sha2_384", TOK_INTEG, IKEV2_INTEG_HMAC_SHA2_384_192, IKEV2_PRF_HMAC_SHA2_384, 0, NULL },
	{ "sha512", TOK_INTEG, IKEV2_INTEG_HMAC_SHA2_512_256, IKEV2_PRF_HMAC_SHA2_512, 0, NULL },
	{ "sha2_512", TOK_INTEG, IKEV2_INTEG_HMAC_SHA2_512_256, IKEV2_PRF_HMAC_SHA2_512, 0, NULL },
	{ "prfsha256", TOK_PRF, IKEV2_PRF_HMAC_SHA2_256, 0, 0, NULL },
	{ "prfsha384", TOK_PRF, IKEV2_PRF_HMAC_SHA2_384, 0, 0, NULL },
	{ "prfsha512", TOK_PRF, IKEV2_PRF_HMAC_SHA2_512, 0, 0, NULL },
	{ "x25519", TOK_DH, IKEV2_DH_CURVE25519, 0, 0, NULL },
	{ "curve25519", TOK_DH, IKEV2_DH_CURVE25519, 0, 0, NULL },
	{ "ecp256", TOK_DH, IKEV2_DH_ECP_256, 0, 0, NULL },
	{ "ecp384", TOK_DH, IKEV2_DH_ECP_384, 0, 0, NULL },
	{ "modp2048", TOK_DH, IKEV2_DH_MODP_2048, 0, 0, NULL },
	{ "modp3072", TOK_DH, IKEV2_DH_MODP_3072, 0, 0, NULL },
	{ "esn", TOK_ESN, IKEV2_ESN_YES, 0, 0, NULL },
	{ "noesn", TOK_ESN, IKEV2_ESN_NO, 0, 0, NULL },

	{ "des", TOK_REFUSED, 0, 0, 0,
	  "DES is forbidden by RFC 8247 2.1 and RFC 8221 5 (use aes256gcm16)" },
	{ "3des", TOK_REFUSED, 0, 0, 0,
	  "3DES (64-bit block) is deprecated by RFC 8247 2.1 and RFC 8221 5 (use aes256gcm16)" },
	{ "blowfish", TOK_REFUSED, 0, 0, 0,
	  "Blowfish is forbidden by RFC 8221 5 (use aes256gcm16)" },
	{ "cast128", TOK_REFUSED, 0, 0, 0,
	  "CAST is not recommended by RFC 8247 2.1 or RFC 8221 5 (use aes256gcm16)" },
	{ "null", TOK_REFUSED, 0, 0, 0,
	  "NULL encryption gives no confidentiality (RFC 8221 5); kite always encrypts (use aes256gcm16)" },
	{ "md5", TOK_REFUSED, 0, 0, 0,
	  "HMAC-MD5 is forbidden by RFC 8247 2.3 and RFC 8221 6 (use sha256)" },
	{ "md5_128", TOK_REFUSED, 0, 0, 0,
	  "HMAC-MD5 is forbidden by RFC 8247 2.3 and RFC 8221 6 (use sha256)" },
	{ "sha1", TOK_REFUSED, 0, 0, 0,
	  "HMAC-SHA1 is deprecated by RFC 8247 2.3 and RFC 8221 6 (use sha256)" },
	{ "sha", TOK_REFUSED, 0, 0, 0,
	  "HMAC-SHA1 is deprecated by RFC 8247 2.3 and RFC 8221 6 (use sha256)" },
	{ "sha1_160", TOK_REFUSED, 0, 0, 0,
	  "HMAC-SHA1 is deprecated by RFC 8247 2.3 and RFC 8221 6 (use sha256)" },
	{ "prfsha1", TOK_REFUSED, 0, 0, 0,
	  "PRF-HMAC-SHA1 is deprecated by RFC 8247 2.2 (use prfsha256)" },
	{ "prfmd5", TOK_REFUSED, 0, 0, 0,
	  "PRF-HMAC-MD5 is forbidden by RFC 8247 2.2 (use prfsha256)" },
	{ "modp768", TOK_REFUSED, 0, 0, 0,
	  "DH group 1 (768-bit MODP) is forbidden by RFC 8247 2.4 (use x25519 or ecp256)" },
	{ "modp1024", TOK_REFUSED, 0, 0, 0,
	  "DH group 2 (1024-bit MODP) is too weak, RFC 8247 2.4 says SHOULD NOT (use x25519 or ecp256)" },
	{ "modp1536", TOK_REFUSED, 0, 0, 0,
	  "DH group 5 (1536-bit MODP) is too weak, RFC 8247 2.4 says SHOULD NOT (use x25519 or ecp256)" },
	{ "modp1024s160", TOK_REFUSED, 0, 0, 0, WHY_5114 },
	{ "modp2048s224", TOK_REFUSED, 0, 0, 0, WHY_5114 },
	{ "modp2048s256", TOK_REFUSED, 0, 0, 0, WHY_5114 },
	{ "ecp192", TOK_REFUSED, 0, 0, 0,
	  "ECP-192 is too weak and not in RFC 8247 2.4 (use ecp256)" },
	{ "ecp224", TOK_REFUSED, 0, 0, 0,
	  "ECP-224 is too weak and not in RFC 8247 2.4 (use ecp256)" },

	{ "aes192", TOK_UNSUPPORTED, 0, 0, 0, WHY_AES192 },
	{ "aes192gcm16", TOK_UNSUPPORTED, 0, 0, 0, WHY_AES192 },
	{ "aes192gcm", TOK_UNSUPPORTED, 0, 0, 0, WHY_AES192 },
	{ "aes128gcm8", TOK_UNSUPPORTED, 0, 0, 0, WHY_GCM_ICV },
	{ "aes128gcm12", TOK_UNSUPPORTED, 0, 0, 0, WHY_GCM_ICV },
	{ "aes256gcm8", TOK_UNSUPPORTED, 0, 0, 0, WHY_GCM_ICV },
	{ "aes256gcm12", TOK_UNSUPPORTED, 0, 0, 0, WHY_GCM_ICV },
	{ "aes128ctr", TOK_UNSUPPORTED, 0, 0, 0,
	  "AES-CTR is not supported by kite (use aes128gcm16)" },
	{ "aes256ctr", TOK_UNSUPPORTED, 0, 0, 0,
	  "AES-CTR is not supported by kite (use aes256gcm16)" },
	{ "aes128ccm16", TOK_UNSUPPORTED, 0, 0, 0,
	  "AES-CCM is not supported by kite (use aes128gcm16)" },
	{ "aes256ccm16", TOK_UNSUPPORTED, 0, 0, 0,
	  "AES-CCM is not supported by kite (use aes256gcm16)" },
	{ "aesxcbc", TOK_UNSUPPORTED, 0, 0, 0,
	  "AES-XCBC is off in kite, which uses HMAC-SHA2 only (use sha256)" },
	{ "aescmac", TOK_UNSUPPORTED, 0, 0, 0,
	  "AES-CMAC is off in kite, which uses HMAC-SHA2 only (use sha256)" },
	{ "prfaesxcbc", TOK_UNSUPPORTED, 0, 0, 0,
	  "PRF-AES-XCBC is off in kite, which uses HMAC-SHA2 only (use prfsha256)" },
	{ "prfaescmac", TOK_UNSUPPORTED, 0, 0, 0,
	  "PRF-AES-CMAC is off in kite, which uses HMAC-SHA2 only (use prfsha256)" },
	{ "ecp521", TOK_UNSUPPORTED, 0, 0, 0, WHY_GROUP },
	{ "modp4096", TOK_UNSUPPORTED, 0, 0, 0, WHY_GROUP },
	{ "modp6144", TOK_UNSUPPORTED, 0, 0, 0, WHY_GROUP },
	{ "modp8192", TOK_UNSUPPORTED, 0, 0, 0, WHY_GROUP },
	{ "x448", TOK_UNSUPPORTED, 0, 0, 0, WHY_GROUP },
	{ "curve448", TOK_UNSUPPORTED, 0, 0, 0, WHY_GROUP },
};

static const struct alg_token *
alg_lookup(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < KITE_ARRAY_SIZE(alg_tokens); i++) {
		if (strlen(alg_tokens[i].name) == len &&
		    strncasecmp(alg_tokens[i].name, s, len) == 0)
			return &alg_tokens[i];
	}
	return NULL;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trim [*s, *s + *len) of blanks. */
static void
trim(const char **s, size_t *len)
{
	while (*len > 0 && is_blank(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_blank((*s)[*len - 1]))
		(*len)--;
}

/* Appends v unless present. -1 when full. */
static int
alg_add(uint16_t *arr, uint16_t *bits, unsigned *n, uint16_t v, uint16_t b)
{
	unsigned i;

	for (i = 0; i < *n; i++)
		if (arr[i] == v && (bits == NULL || bits[i] == b))
			return 0;
	if (*n >= KITE_MAX_ALGS)
		return -1;
	arr[*n] = v;
	if (bits != NULL)
		bits[*n] = b;
	(*n)++;
	return 0;
}

static int
proposal_parse_one(const char *s, size_t len, int is_esp, struct kite_proposal *p,
		   char *err, size_t errlen)
{
	const char *kind = is_esp ? "esp" : "ike";
	const char *tok, *end = s + len, *dash;
	const struct alg_token *t, *aead = NULL, *cbc = NULL, *integ = NULL;
	int esn_yes = 0, esn_no = 0, full;
	int plen = len > 80 ? 80 : (int)len;	/* quoted in messages */
	size_t tlen;
	unsigned i;

	memset(p, 0, sizeof(*p));
	for (tok = s; tok <= end; tok = dash + 1) {
		if ((dash = memchr(tok, '-', (size_t)(end - tok))) == NULL)
			dash = end;
		tlen = (size_t)(dash - tok);
		trim(&tok, &tlen);
		if (tlen == 0) {
			seterr(err, errlen, "%s proposal '%.*s': empty algorithm name "
			    "(separate algorithms with one '-')", kind, plen, s);
			return KITE_ERR_CONFIG;
		}
		if ((t = alg_lookup(tok, tlen)) == NULL) {
			seterr(err, errlen, "%s proposal '%.*s': unknown algorithm '%.*s' "
			    "(see vpn.ini.example for the supported names)",
			    kind, plen, s, (int)(tlen > 40 ? 40 : tlen), tok);
			return KITE_ERR_CONFIG;
		}
		full = 0;
		switch (t->kind) {
		case TOK_REFUSED:
			seterr(err, errlen, "%s proposal '%.*s': '%s' refused: %s",
			    kind, plen, s, t->name, t->why);
			return KITE_ERR_CONFIG;
		case TOK_UNSUPPORTED:
			seterr(err, errlen, "%s proposal '%.*s': '%s' unsupported: %s",
			    kind, plen, s, t->name, t->why);
			return KITE_ERR_CONFIG;
		case TOK_ENCR:
			if (t->aead && aead == NULL)
				aead = t;
			if (!t->aead && cbc == NULL)
				cbc = t;
			full = alg_add(p->encr, p->encr_bits, &p->n_encr, t->id, t->bits);
			break;
		case TOK_INTEG:
			if (integ == NULL)
				integ = t;
			full = alg_add(p->integ, NULL, &p->n_integ, t->id, 0);
			break;
		case TOK_PRF:
			if (is_esp) {
				seterr(err, errlen, "esp proposal '%.*s': '%s' is a PRF, which "
				    "ESP does not use (remove it)", plen, s, t->name);
				return KITE_ERR_CONFIG;
			}
			full = alg_add(p->prf, NULL, &p->n_prf, t->id, 0);
			break;
		case TOK_DH:
			full = alg_add(p->dh, NULL, &p->n_dh, t->id, 0);
			break;
		case TOK_ESN:
			if (!is_esp) {
				seterr(err, errlen, "ike proposal '%.*s': '%s' applies only "
				    "to esp proposals (remove it)", plen, s, t->name);
				return KITE_ERR_CONFIG;
			}
			if (t->id == IKEV2_ESN_YES)
				esn_yes = 1;
			else
				esn_no = 1;
			break;
		}
		if (full) {
			seterr(err, errlen, "%s proposal '%.*s': more than %d algorithms "
			    "of one type (split it into several proposals)",
			    kind, plen, s, KITE_MAX_ALGS);
			return KITE_ERR_CONFIG;
		}
		if (dash == end)
			break;
	}

	if (p->n_encr == 0) {
		seterr(err, errlen, "%s proposal '%.*s': no encryption algorithm "
		    "(add e.g. aes256gcm16)", kind, plen, s);
		return KITE_ERR_CONFIG;
	}
	if (aead != NULL && cbc != NULL) {
		seterr(err, errlen, "%s proposal '%.*s': AEAD cipher '%s' mixed with "
		    "non-AEAD cipher '%s' (put them in separate proposals)",
		    kind, plen, s, aead->name, cbc->name);
		return KITE_ERR_CONFIG;
	}
	if (aead != NULL && integ != NULL) {
		seterr(err, errlen, "%s proposal '%.*s': AEAD cipher '%s' cannot be "
		    "combined with integrity algorithm '%s' (remove '%s'; AEAD "
		    "authenticates by itself)", kind, plen, s, aead->name,
		    integ->name, integ->name);
		return KITE_ERR_CONFIG;
	}
	if (cbc != NULL && integ == NULL) {
		seterr(err, errlen, "%s proposal '%.*s': cipher '%s' needs an integrity "
		    "algorithm (add sha256)", kind, plen, s, cbc->name);
		return KITE_ERR_CONFIG;
	}
	if (!is_esp) {
		if (p->n_prf == 0 && p->n_integ > 0) {
			/* As strongSwan: the PRF follows the integrity algorithm. */
			for (i = 0; i < p->n_integ; i++) {
				switch (p->integ[i]) {
				case IKEV2_INTEG_HMAC_SHA2_256_128:
					(void)alg_add(p->prf, NULL, &p->n_prf,
					    IKEV2_PRF_HMAC_SHA2_256, 0);
					break;
				case IKEV2_INTEG_HMAC_SHA2_384_192:
					(void)alg_add(p->prf, NULL, &p->n_prf,
					    IKEV2_PRF_HMAC_SHA2_384, 0);
					break;
				case IKEV2_INTEG_HMAC_SHA2_512_256:
					(void)alg_add(p->prf, NULL, &p->n_prf,
					    IKEV2_PRF_HMAC_SHA2_512, 0);
					break;
				}
			}
		}
		if (p->n_prf == 0) {
			seterr(err, errlen, "ike proposal '%.*s': needs a PRF "
			    "(add prfsha256, prfsha384 or prfsha512)", plen, s);
			return KITE_ERR_CONFIG;
		}
		if (p->n_dh == 0) {
			seterr(err, errlen, "ike proposal '%.*s': needs a key exchange "
			    "(DH) group (add x25519, ecp256, ecp384, modp3072 or modp2048)",
			    plen, s);
			return KITE_ERR_CONFIG;
		}
	} else {
		p->esn = esn_yes && esn_no ? 2 : esn_yes ? 1 : 0;
	}
	return 0;
}

int
config_parse_proposals(const char *s, int is_esp, struct kite_proposal *out,
		       unsigned max, unsigned *n, char *err, size_t errlen)
{
	const char *kind = is_esp ? "esp" : "ike";
	const char *p, *comma, *start;
	unsigned count = 0;
	size_t len;
	int r;

	if (n != NULL)
		*n = 0;
	if (s == NULL || out == NULL || n == NULL) {
		seterr(err, errlen, "%s: no proposal list", kind);
		return KITE_ERR_INVAL;
	}
	memset(out, 0, max * sizeof(*out));
	for (p = s;; p = comma + 1) {
		comma = strchr(p, ',');
		start = p;
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		trim(&start, &len);
		if (len == 0) {
			if (count == 0 && comma == NULL)
				seterr(err, errlen, "%s: empty proposal list (e.g. %s = %s)",
				    kind, kind, is_esp ? "aes256gcm16" :
				    "aes256gcm16-prfsha384-x25519");
			else
				seterr(err, errlen, "%s: empty proposal in '%.80s' "
				    "(remove the extra ',')", kind, s);
			r = KITE_ERR_CONFIG;
			goto fail;
		}
		if (count >= max) {
			seterr(err, errlen, "%s: more than %u proposals (merge some: "
			    "a proposal may list several algorithms of each type)",
			    kind, max);
			r = KITE_ERR_CONFIG;
			goto fail;
		}
		if ((r = proposal_parse_one(start, len, is_esp, &out[count],
		    err, errlen)) != 0)
			goto fail;
		count++;
		if (comma == NULL)
			break;
	}
	*n = count;
	return 0;
 fail:
	memset(out, 0, max * sizeof(*out));
	return r;
}

/* ---- pre-shared keys ---- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
b64val(int c)
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

/* Strict RFC 4648 base64 with padding. Returns the length or -1. */
static long
b64_decode(const uint8_t *in, size_t len, uint8_t *out, size_t outmax)
{
	size_t i, o = 0, pad = 0;
	uint32_t acc;
	int j, v;

	if (len == 0 || len % 4 != 0)
		return -1;
	if (in[len - 1] == '=') {
		pad++;
		if (in[len - 2] == '=')
			pad++;
	}
	if ((len / 4) * 3 - pad > outmax)
		return -1;
	for (i = 0; i < len; i += 4) {
		acc = 0;
		for (j = 0; j < 4; j++) {
			if (in[i + j] == '=' && i + 4 == len && j >= 4 - (int)pad)
				v = 0;
			else if ((v = b64val(in[i + j])) < 0)
				return -1;
			acc = acc << 6 | (uint32_t)v;
		}
		out[o++] = (uint8_t)(acc >> 16);
		if (i + 4 < len || pad < 2)
			out[o++] = (uint8_t)(acc >> 8);
		if (i + 4 < len || pad < 1)
			out[o++] = (uint8_t)acc;
	}
	return (long)o;
}

int
config_read_psk(const char *path, uint8_t out[static KITE_PSK_MAX], size_t *len,
		int *weak, char *err, size_t errlen)
{
	/* "0x" + 2 hex digits per byte + CRLF, plus one byte to detect overflow */
	uint8_t buf[2 + 2 * KITE_PSK_MAX + 2 + 1];
	size_t n = 0, i, klen = 0;
	struct stat st;
	ssize_t r;
	long l;
	int fd = -1, ret = KITE_ERR_CONFIG, hi, lo;

	*len = 0;
	*weak = 0;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
	    O_NOCTTY)) == -1) {
		if (errno == ELOOP)
			seterr(err, errlen, "%s: is a symbolic link; refusing it "
			    "(set psk_file to the file itself)", path);
		else
			seterr(err, errlen, "%s: cannot open: %s (check psk_file)",
			    path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		seterr(err, errlen, "%s: fstat: %s", path, strerror(errno));
		ret = KITE_ERR_SYS;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		seterr(err, errlen, "%s: not a regular file (psk_file must name a "
		    "file holding the key)", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		seterr(err, errlen, "%s: permissions %04o are too open; run: "
		    "chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	/* Root must own it; an unprivileged run (tests) may use its own files. */
	if (st.st_uid != 0 && (geteuid() == 0 || st.st_uid != getuid())) {
		seterr(err, errlen, "%s: owned by uid %u, must be owned by root "
		    "(chown root %s)", path, (unsigned)st.st_uid, path);
		goto out;
	}
	while (n < sizeof(buf)) {
		if ((r = read(fd, buf + n, sizeof(buf) - n)) == -1) {
			if (errno == EINTR)
				continue;
			seterr(err, errlen, "%s: read: %s", path, strerror(errno));
			ret = KITE_ERR_SYS;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n == sizeof(buf)) {
		seterr(err, errlen, "%s: too large (a key is at most %d bytes)",
		    path, KITE_PSK_MAX);
		goto out;
	}
	if (n > 0 && buf[n - 1] == '\n') {
		n--;
		if (n > 0 && buf[n - 1] == '\r')
			n--;
	}
	if (n == 0) {
		seterr(err, errlen, "%s: the key is empty (write the key into it)", path);
		goto out;
	}

	if (n >= 2 && buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X')) {
		if (n == 2 || (n - 2) % 2 != 0) {
			seterr(err, errlen, "%s: 0x key needs an even, non-zero number "
			    "of hex digits", path);
			goto out;
		}
		if ((n - 2) / 2 > KITE_PSK_MAX) {
			seterr(err, errlen, "%s: too long (a key is at most %d bytes)",
			    path, KITE_PSK_MAX);
			goto out;
		}
		for (i = 2; i < n; i += 2) {
			if ((hi = hexval(buf[i])) < 0 || (lo = hexval(buf[i + 1])) < 0) {
				seterr(err, errlen, "%s: 0x key has a character that is "
				    "not a hex digit (after 0x use only 0-9 a-f)", path);
				goto out;
			}
			out[klen++] = (uint8_t)(hi << 4 | lo);
		}
		*weak = klen < 16;
	} else if (n >= 2 && buf[0] == '0' && (buf[1] == 's' || buf[1] == 'S')) {
		if ((l = b64_decode(buf + 2, n - 2, out, KITE_PSK_MAX)) <= 0) {
			seterr(err, errlen, "%s: 0s key is not valid base64 of at "
			    "most %d bytes (after 0s use A-Z a-z 0-9 + / and = padding)",
			    path, KITE_PSK_MAX);
			goto out;
		}
		klen = (size_t)l;
		*weak = klen < 16;
	} else {
		if (n > KITE_PSK_MAX) {
			seterr(err, errlen, "%s: too long (a key is at most %d bytes)",
			    path, KITE_PSK_MAX);
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (buf[i] == '\0' || buf[i] == '\n' || buf[i] == '\r') {
				seterr(err, errlen, "%s: the key contains a NUL or a line "
				    "break (keep the key on one line; 0x or 0s for binary)",
				    path);
				goto out;
			}
		}
		memcpy(out, buf, n);
		klen = n;
		*weak = klen < 20;
	}
	*len = klen;
	ret = 0;
 out:
	if (ret != 0) {
		explicit_bzero(out, KITE_PSK_MAX);
		*weak = 0;
	}
	explicit_bzero(buf, sizeof(buf));
	if (fd != -1)
		close(fd);
	return ret;
}

/* ---- pass 1: inih collects sections and entries, with line numbers ---- */

struct ini_sect {
	char *name;
	int line;
};

struct ini_entry {
	int sect;
	int line;
	char *name;
	char *value;
};

struct ini_ctx {
	const char *p, *end;		/* input not yet handed to inih */
	int lineno;			/* line last handed to inih */
	int cont;			/* that line continues the previous value */
	struct ini_sect sects[KITE_MAX_PROFILES];
	int n_sects;
	struct ini_entry *ents;
	size_t n_ents, cap_ents;
	int err_line;			/* first error found here, 0 = none */
	char err_msg[256];
	int nomem;
};

static void __attribute__((format(printf, 3, 4)))
ctx_err(struct ini_ctx *c, int line, const char *fmt, ...)
{
	va_list ap;

	if (c->err_line != 0)
		return;
	c->err_line = line;
	va_start(ap, fmt);
	vsnprintf(c->err_msg, sizeof(c->err_msg), fmt, ap);
	va_end(ap);
}

/*
 * inih's reader callback. Counting lines here works with any libinih build
 * (Debian 12's is compiled with INI_HANDLER_LINENO=1 but its ini.h says 0).
 * We also record section headers, which inih does not report (so duplicate and
 * empty sections can be found), and un-indent lines, because inih treats ANY
 * indented line after a key as a continuation, "  dns = no" included.
 */
static char *
cfg_reader(char *str, int num, void *stream)
{
	struct ini_ctx *c = stream;
	const char *line = c->p, *nl, *q;
	size_t len, ind, max;

	if (c->p >= c->end || c->err_line != 0)
		return NULL;
	if (num < 2) {
		/* inih's realloc path; never reached since each line ends in '\n' */
		if (num == 1)
			*str = '\0';
		return str;
	}
	nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	len = nl != NULL ? (size_t)(nl - c->p) : (size_t)(c->end - c->p);
	c->p = nl != NULL ? nl + 1 : c->end;
	c->lineno++;
	if (c->lineno == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
		line += 3;
		len -= 3;
	}
	for (ind = 0; ind < len && (line[ind] == ' ' || line[ind] == '\t'); ind++)
		;
	c->cont = 0;
	if (ind > 0 && ind < len && line[ind] != '\r' && strchr("[;#", line[ind]) == NULL &&
	    memchr(line + ind, '=', len - ind) == NULL &&
	    memchr(line + ind, ':', len - ind) == NULL)
		c->cont = 1;
	else {
		line += ind;
		len -= ind;
	}
	max = (size_t)num - 2;
	if (max > CONFIG_MAX_LINE)
		max = CONFIG_MAX_LINE;
	if (len > max) {
		ctx_err(c, c->lineno, "line longer than %zu characters (continue a "
		    "long value on an indented next line)", max);
		return NULL;
	}
	if (len > 0 && line[0] == '[' && (q = memchr(line, ']', len)) != NULL) {
		if (c->n_sects >= KITE_MAX_PROFILES) {
			ctx_err(c, c->lineno, "more than %d profiles (split the file)",
			    KITE_MAX_PROFILES);
			return NULL;
		}
		if ((c->sects[c->n_sects].name = strndup(line + 1,
		    (size_t)(q - line - 1))) == NULL) {
			c->nomem = 1;
			return NULL;
		}
		c->sects[c->n_sects++].line = c->lineno;
	}
	memcpy(str, line, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	return str;
}

/* inih only knows "blank ;" comments; cut " #" ones too (and a value that starts with one). */
static void
strip_comment(char *v)
{
	size_t i, n;

	for (i = 0; v[i] != '\0'; i++) {
		if ((v[i] == '#' || v[i] == ';') && (i == 0 || v[i - 1] == ' ' ||
		    v[i - 1] == '\t')) {
			v[i] = '\0';
			break;
		}
	}
	n = strlen(v);
	while (n > 0 && is_blank(v[n - 1]))
		v[--n] = '\0';
}

static int
cfg_handler(void *user, const char *section, const char *name, const char *value)
{
	struct ini_ctx *c = user;
	struct ini_entry *e, *ne;
	char *v, *joined;
	size_t cap;

	if (c->nomem || c->err_line != 0 || name == NULL)
		return 1;
	if (value == NULL) {
		ctx_err(c, c->lineno, "key '%.40s' has no value (write key = value)", name);
		return 1;
	}
	if ((v = strdup(value)) == NULL) {
		c->nomem = 1;
		return 0;
	}
	strip_comment(v);
	if (c->cont && c->n_ents > 0 && strcmp(c->ents[c->n_ents - 1].name, name) == 0) {
		e = &c->ents[c->n_ents - 1];
		if (strlen(e->value) + 1 + strlen(v) > VALUE_MAX) {
			ctx_err(c, c->lineno, "value of '%s' longer than %d characters",
			    name, VALUE_MAX);
			free(v);
			return 1;
		}
		if (asprintf(&joined, "%s%s%s", e->value, *e->value ? " " : "", v) == -1) {
			free(v);
			c->nomem = 1;
			return 0;
		}
		free(v);
		free(e->value);
		e->value = joined;
		return 1;
	}
	if (c->n_sects == 0) {
		ctx_err(c, c->lineno, "key '%.40s' is outside a profile (put it under "
		    "a [name] header)", name);
		free(v);
		return 1;
	}
	if (c->n_ents == c->cap_ents) {
		cap = c->cap_ents ? c->cap_ents * 2 : 32;
		if ((ne = reallocarray(c->ents, cap, sizeof(*ne))) == NULL) {
			free(v);
			c->nomem = 1;
			return 0;
		}
		c->ents = ne;
		c->cap_ents = cap;
	}
	e = &c->ents[c->n_ents];
	e->sect = c->n_sects - 1;
	e->line = c->lineno;
	e->value = v;
	if ((e->name = strdup(name)) == NULL) {
		free(v);
		c->nomem = 1;
		return 0;
	}
	c->n_ents++;
	return 1;
}

static void
ini_ctx_free(struct ini_ctx *c)
{
	size_t i;

	for (i = 0; i < (size_t)c->n_sects; i++)
		free(c->sects[i].name);
	for (i = 0; i < c->n_ents; i++) {
		free(c->ents[i].name);
		free(c->ents[i].value);
	}
	free(c->ents);
}

/* ---- pass 2: values ---- */

struct parse {
	struct kite_config *cfg;
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 3, 4)))
perr(struct parse *ps, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ps->err == NULL || ps->errlen == 0)
		return KITE_ERR_CONFIG;
	n = snprintf(ps->err, ps->errlen, "%s:%d: ", ps->cfg->path, line);
	if (n >= 0 && (size_t)n < ps->errlen) {
		va_start(ap, fmt);
		vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return KITE_ERR_CONFIG;
}

enum vtype {
	V_GATEWAY, V_ID, V_AUTH, V_EAP, V_PATH, V_IKE, V_ESP, V_DATAPLANE,
	V_BOOL, V_SECS, V_MSECS, V_UINT, V_REPLAY,
};

struct key_def {
	const char *name;
	enum vtype type;
	size_t off;
	uint32_t min, max;	/* V_SECS/V_MSECS in ms, V_UINT/V_REPLAY plain */
};

#define OFF(f)	offsetof(struct kite_profile, f)
#define SEC	1000U
#define DAY	(86400U * SEC)

static const struct key_def keys[] = {
	{ "gateway", V_GATEWAY, OFF(gateway), 0, 0 },
	{ "local_id", V_ID, OFF(local_id), 0, 0 },
	{ "remote_id", V_ID, OFF(remote_id), 0, 0 },
	{ "auth", V_AUTH, OFF(auth), 0, 0 },
	{ "psk_file", V_PATH, OFF(psk_file), 0, 0 },
	{ "eap_method", V_EAP, OFF(eap_method), 0, 0 },
	{ "username", V_ID, OFF(username), 0, 0 },
	{ "password_file", V_PATH, OFF(password_file), 0, 0 },
	{ "ca", V_PATH, OFF(ca), 0, 0 },
	{ "cert", V_PATH, OFF(cert), 0, 0 },
	{ "key", V_PATH, OFF(key), 0, 0 },
	{ "ike", V_IKE, OFF(ike), 0, 0 },
	{ "esp", V_ESP, OFF(esp), 0, 0 },
	{ "dataplane", V_DATAPLANE, OFF(dataplane), 0, 0 },
	{ "mobike", V_BOOL, OFF(mobike), 0, 0 },
	{ "mobike_announce", V_BOOL, OFF(mobike_announce), 0, 0 },
	{ "dpd", V_SECS, OFF(dpd_s), 0, DAY },
	{ "reconnect", V_BOOL, OFF(reconnect), 0, 0 },
	{ "dns", V_BOOL, OFF(dns), 0, 0 },
	{ "ipv6_leak_block", V_BOOL, OFF(ipv6_leak_block), 0, 0 },
	{ "updown", V_PATH, OFF(updown), 0, 0 },
	{ "replay_window", V_REPLAY, OFF(replay_window), 32, 4096 },
	{ "child_rekey", V_SECS, OFF(child_rekey_s), 10 * SEC, DAY },
	{ "ike_rekey", V_SECS, OFF(ike_rekey_s), 10 * SEC, 7 * DAY },
	{ "retransmit_timeout", V_MSECS, OFF(retransmit_timeout_ms), 100, 60 * SEC },
	{ "retransmit_tries", V_UINT, OFF(retransmit_tries), 0, 20 },
	{ "keepalive", V_SECS, OFF(keepalive_s), 0, 3600 * SEC },
	{ "fragmentation", V_BOOL, OFF(fragmentation), 0, 0 },
	{ "fragment_size", V_UINT, OFF(fragment_size), 576, 65000 },
};

#define N_KEYS	KITE_ARRAY_SIZE(keys)

/* char * fields of a profile, for config_free */
static const size_t str_fields[] = {
	OFF(gateway), OFF(local_id), OFF(remote_id), OFF(psk_file), OFF(username),
	OFF(password_file), OFF(ca), OFF(cert), OFF(key), OFF(updown),
};

#define FIELD(p, off, type)	((type *)(void *)((char *)(p) + (off)))

static void
profile_defaults(struct kite_profile *p)
{
	unsigned n;

	p->gateway_port = IKEV2_PORT;
	p->auth = KITE_AUTH_PSK;
	p->eap_method = KITE_EAP_MSCHAPV2;
	/* the defaults are known to parse; test_config checks them */
	(void)config_parse_proposals(config_default_ike, 0, p->ike, KITE_MAX_PROPOSALS,
	    &n, NULL, 0);
	p->n_ike = n;
	(void)config_parse_proposals(config_default_esp, 1, p->esp, KITE_MAX_PROPOSALS,
	    &n, NULL, 0);
	p->n_esp = n;
	p->dataplane = KITE_DP_AUTO;
	p->mobike = 1;
	p->mobike_announce = 0;
	p->dpd_s = 30;
	p->reconnect = 1;
	p->dns = 1;
	p->ipv6_leak_block = 1;
	p->replay_window = 64;
	p->child_rekey_s = 3600;
	p->ike_rekey_s = 14400;
	p->retransmit_timeout_ms = 1000;
	p->retransmit_tries = 3;
	p->keepalive_s = 20;
	p->fragmentation = 1;
	p->fragment_size = 1280;
}

static int
valid_text(const char *v)
{
	for (; *v != '\0'; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return 0;
	return 1;
}

/* "30s", "1h", "500ms", "45" (seconds). */
static int
parse_duration_ms(const char *v, uint64_t *ms)
{
	uint64_t n = 0, mul;
	const char *s = v;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		n = n * 10 + (uint64_t)(*s - '0');
		if (n > 100000000000ULL)
			return -1;
	}
	if (*s == '\0' || strcmp(s, "s") == 0)
		mul = 1000;
	else if (strcmp(s, "ms") == 0)
		mul = 1;
	else if (strcmp(s, "m") == 0)
		mul = 60 * 1000;
	else if (strcmp(s, "h") == 0)
		mul = 3600 * 1000;
	else if (strcmp(s, "d") == 0)
		mul = 86400 * 1000;
	else
		return -1;
	*ms = n * mul;
	return 0;
}

/* Largest exact unit: 500ms, 30s, 2m, 4h, 7d. */
static const char *
fmt_ms(uint64_t ms, char *buf, size_t len)
{
	if (ms == 0)
		snprintf(buf, len, "0 (off)");
	else if (ms % DAY == 0)
		snprintf(buf, len, "%llud", (unsigned long long)(ms / DAY));
	else if (ms % (3600 * SEC) == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(ms / (3600 * SEC)));
	else if (ms % (60 * SEC) == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(ms / (60 * SEC)));
	else if (ms % SEC == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ms / SEC));
	else
		snprintf(buf, len, "%llums", (unsigned long long)ms);
	return buf;
}

static int
parse_uint(const char *v, uint32_t *out)
{
	uint64_t n = 0;

	if (*v == '\0')
		return -1;
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9')
			return -1;
		n = n * 10 + (uint64_t)(*v - '0');
		if (n > UINT32_MAX)
			return -1;
	}
	*out = (uint32_t)n;
	return 0;
}

static int
parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "yes", "true", "1", "on" };
	static const char *const no[] = { "no", "false", "0", "off" };
	size_t i;

	for (i = 0; i < KITE_ARRAY_SIZE(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int
valid_hostname(const char *h)
{
	size_t label = 0, total = 0;
	const char *s;
	int alpha = 0;

	for (s = h; *s != '\0'; s++, total++) {
		if (*s == '.') {
			if (label == 0 || s[-1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
		if (label == 0 && *s == '-')
			return 0;
		if (!(*s >= '0' && *s <= '9'))
			alpha = 1;
		if (++label > 63)
			return 0;
	}
	/* one trailing dot allowed; all-numeric names are broken IPv4 addresses */
	return total > 0 && total <= 253 && h[0] != '.' && (label > 0 || total > 1) &&
	    (label == 0 || s[-1] != '-') && alpha;
}

/* host, host:port, 192.0.2.1:4500, 2001:db8::1, [2001:db8::1]:4500 */
static int
parse_gateway(struct parse *ps, int line, const char *v, struct kite_profile *p)
{
	char host[256];
	const char *port = NULL, *rb, *colon;
	struct in6_addr a6;
	struct in_addr a4;
	size_t hl;
	uint32_t pn;

	if (v[0] == '[') {
		if ((rb = strchr(v, ']')) == NULL)
			return perr(ps, line, "gateway '%.80s': missing ']' (write "
			    "[IPV6]:PORT)", v);
		hl = (size_t)(rb - v - 1);
		if (rb[1] == ':')
			port = rb + 2;
		else if (rb[1] != '\0')
			return perr(ps, line, "gateway '%.80s': unexpected text after "
			    "']' (write [IPV6]:PORT)", v);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, v + 1, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return perr(ps, line, "gateway '%.80s': '%s' is not an IPv6 "
			    "address (brackets are only for IPv6)", v, host);
	} else {
		colon = strchr(v, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			if (strlen(v) >= sizeof(host) || inet_pton(AF_INET6, v, &a6) != 1)
				return perr(ps, line, "gateway '%.80s': not an IPv6 "
				    "address (write [IPV6]:PORT to give a port)", v);
			snprintf(host, sizeof(host), "%s", v);
		} else {
			hl = colon != NULL ? (size_t)(colon - v) : strlen(v);
			if (colon != NULL)
				port = colon + 1;
			if (hl == 0 || hl >= sizeof(host))
				goto bad;
			memcpy(host, v, hl);
			host[hl] = '\0';
			if (inet_pton(AF_INET, host, &a4) != 1 && !valid_hostname(host))
				goto bad;
		}
	}
	if (port != NULL && (parse_uint(port, &pn) != 0 || pn == 0 || pn > 65535))
		return perr(ps, line, "gateway '%.80s': bad port (use 1 to 65535, "
		    "e.g. vpn.example.com:4500)", v);
	if ((p->gateway = strdup(host)) == NULL)
		return KITE_ERR_NOMEM;
	p->gateway_port = port != NULL ? (uint16_t)pn : IKEV2_PORT;
	return 0;
 bad:
	return perr(ps, line, "gateway '%.80s': not a host name or address (use "
	    "HOST, HOST:PORT, IPV4:PORT or [IPV6]:PORT)", v);
}

static int
parse_enum(const char *v, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(v, names[i]) == 0)
			return (int)i;
	return -1;
}

static int
parse_value(struct parse *ps, const struct key_def *k, int line, const char *v,
	    struct kite_profile *p)
{
	static const char *const auths[] = { "psk", "eap", "cert" };
	static const char *const eaps[] = { "mschapv2", "md5", "tls" };
	static const char *const dps[] = { "auto", "xfrm", "tun" };
	char msg[200], lo[24], hi[24];
	uint64_t ms;
	uint32_t u;
	int i, b;

	if (*v == '\0')
		return perr(ps, line, "%s: empty value (remove the line to get the "
		    "default)", k->name);
	switch (k->type) {
	case V_GATEWAY:
		return parse_gateway(ps, line, v, p);
	case V_ID:
		if (strlen(v) > STR_MAX || !valid_text(v))
			return perr(ps, line, "%s: at most %d printable characters",
			    k->name, STR_MAX);
		if ((*FIELD(p, k->off, char *) = strdup(v)) == NULL)
			return KITE_ERR_NOMEM;
		return 0;
	case V_PATH:
		if (v[0] != '/' || strlen(v) > PATH_MAX_LEN || !valid_text(v))
			return perr(ps, line, "%s: '%.80s' is not an absolute path "
			    "(write the full path, e.g. /etc/kite/...)", k->name, v);
		if ((*FIELD(p, k->off, char *) = strdup(v)) == NULL)
			return KITE_ERR_NOMEM;
		return 0;
	case V_AUTH:
		if ((i = parse_enum(v, auths, KITE_ARRAY_SIZE(auths))) < 0)
			return perr(ps, line, "auth: bad value '%.40s' (use psk, eap "
			    "or cert)", v);
		p->auth = (enum kite_auth)(KITE_AUTH_PSK + i);
		return 0;
	case V_EAP:
		if ((i = parse_enum(v, eaps, KITE_ARRAY_SIZE(eaps))) < 0)
			return perr(ps, line, "eap_method: bad value '%.40s' (use "
			    "mschapv2, md5 or tls)", v);
		p->eap_method = (enum kite_eap)(KITE_EAP_MSCHAPV2 + i);
		return 0;
	case V_DATAPLANE:
		if ((i = parse_enum(v, dps, KITE_ARRAY_SIZE(dps))) < 0)
			return perr(ps, line, "dataplane: bad value '%.40s' (use auto, "
			    "xfrm or tun)", v);
		p->dataplane = (enum kite_dataplane)(KITE_DP_AUTO + i);
		return 0;
	case V_IKE:
	case V_ESP:
		if (config_parse_proposals(v, k->type == V_ESP, k->type == V_ESP ?
		    p->esp : p->ike, KITE_MAX_PROPOSALS, k->type == V_ESP ?
		    &p->n_esp : &p->n_ike, msg, sizeof(msg)) != 0)
			return perr(ps, line, "%s", msg);
		return 0;
	case V_BOOL:
		if (parse_bool(v, &b) != 0)
			return perr(ps, line, "%s: bad value '%.40s' (use yes or no)",
			    k->name, v);
		*FIELD(p, k->off, int) = b;
		return 0;
	case V_SECS:
	case V_MSECS:
		if (parse_duration_ms(v, &ms) != 0)
			return perr(ps, line, "%s: bad duration '%.40s' (use seconds, "
			    "or a number with ms, s, m, h or d, e.g. 30s)", k->name, v);
		if (k->type == V_SECS && ms % SEC != 0)
			return perr(ps, line, "%s: '%.40s' is not whole seconds",
			    k->name, v);
		if (ms < k->min || ms > k->max)
			return perr(ps, line, "%s: '%.40s' out of range (use %s to %s)",
			    k->name, v, fmt_ms(k->min, lo, sizeof(lo)),
			    fmt_ms(k->max, hi, sizeof(hi)));
		*FIELD(p, k->off, uint32_t) = (uint32_t)(k->type == V_SECS ?
		    ms / SEC : ms);
		return 0;
	case V_UINT:
		if (parse_uint(v, &u) != 0 || u < k->min || u > k->max)
			return perr(ps, line, "%s: bad value '%.40s' (use a number "
			    "from %u to %u)", k->name, v, k->min, k->max);
		*FIELD(p, k->off, uint32_t) = u;
		return 0;
	case V_REPLAY:
		if (parse_uint(v, &u) != 0 || (u != 0 && u < k->min) || u > k->max)
			return perr(ps, line, "%s: bad value '%.40s' (use 0 to turn "
			    "replay protection off, or %u to %u packets)", k->name,
			    v, k->min, k->max);
		*FIELD(p, k->off, uint32_t) = u;
		return 0;
	}
	return perr(ps, line, "%s: internal error", k->name);
}

/* Edit distance up to 2, for "did you mean". */
static int
near(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	unsigned d[48][48];

	if (la >= 48 || lb >= 48 || (la > lb ? la - lb : lb - la) > 2)
		return 0;
	for (i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			unsigned sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			unsigned del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;

			d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
	}
	return d[la][lb] <= 2;
}

static int
valid_profile_name(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++) {
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		    (s[n] >= '0' && s[n] <= '9') || s[n] == '_' || s[n] == '.' ||
		    s[n] == '-'))
			return 0;
	}
	return n >= 1 && n <= KITE_NAME_MAX;
}

static size_t
key_index(const char *name)
{
	size_t i;

	for (i = 0; i < N_KEYS && strcmp(keys[i].name, name) != 0; i++)
		;
	return i;
}

/* Keys that belong together; blame the line of the key that asks, else the header. */
static int
check_profile(struct parse *ps, struct kite_profile *p, const int *seen)
{
	int auth_seen = seen[key_index("auth")];
	int auth_line = auth_seen ? auth_seen : p->line;
	int eap_line = seen[key_index("eap_method")] ? seen[key_index("eap_method")] :
	    auth_line;
	int pw = p->eap_method != KITE_EAP_TLS;

	if (p->gateway == NULL)
		return perr(ps, p->line, "profile [%s] has no gateway (add gateway = "
		    "HOST[:PORT])", p->name);
	switch (p->auth) {
	case KITE_AUTH_PSK:
		if (p->psk_file == NULL)
			return perr(ps, auth_line, "auth = psk%s needs psk_file (add "
			    "psk_file = /etc/kite/%s.psk, mode 0600, owned by root; "
			    "or set auth = eap or cert)", auth_seen ? "" : " (the default)",
			    p->name);
		break;
	case KITE_AUTH_EAP:
		if (pw && p->username == NULL)
			return perr(ps, auth_line, "auth = eap needs username (add "
			    "username = NAME)");
		/* Without password_file the password is asked on the terminal or handed over
		 * on the control socket ("kite password NAME"). */
		if (!pw && (p->cert == NULL || p->key == NULL))
			return perr(ps, eap_line, "eap_method = tls needs cert and key "
			    "(add cert = /etc/kite/client.pem and key = "
			    "/etc/kite/client.key)");
		if (p->ca == NULL)
			return perr(ps, auth_line, "auth = eap needs ca to verify the "
			    "gateway's certificate (add ca = /etc/kite/ca.pem)");
		break;
	case KITE_AUTH_CERT:
		if (p->cert == NULL || p->key == NULL)
			return perr(ps, auth_line, "auth = cert needs %s (add cert = "
			    "/etc/kite/client.pem and key = /etc/kite/client.key)",
			    p->cert == NULL && p->key == NULL ? "cert and key" :
			    p->cert == NULL ? "cert" : "key");
		if (p->ca == NULL)
			return perr(ps, auth_line, "auth = cert needs ca to verify the "
			    "gateway's certificate (add ca = /etc/kite/ca.pem)");
		break;
	}
	return 0;
}

static int
build_profiles(struct parse *ps, struct ini_ctx *c)
{
	struct kite_config *cfg = ps->cfg;
	struct kite_profile *p;
	const struct key_def *k;
	struct ini_entry *e;
	int seen[N_KEYS];
	size_t i, j;
	int s, r, t;

	for (s = 0; s < c->n_sects; s++) {
		if (!valid_profile_name(c->sects[s].name))
			return perr(ps, c->sects[s].line, "bad profile name '[%.40s]' "
			    "(use 1 to %d characters from a-z A-Z 0-9 _ . -)",
			    c->sects[s].name, KITE_NAME_MAX);
		for (t = 0; t < s; t++)
			if (strcmp(c->sects[t].name, c->sects[s].name) == 0)
				return perr(ps, c->sects[s].line, "duplicate profile "
				    "[%s] (first at line %d; rename or merge them)",
				    c->sects[s].name, c->sects[t].line);
		p = &cfg->profiles[cfg->n_profiles++];
		memcpy(p->name, c->sects[s].name, strlen(c->sects[s].name) + 1);
		p->file = cfg->path;
		p->line = c->sects[s].line;
		profile_defaults(p);
		memset(seen, 0, sizeof(seen));
		for (i = 0; i < c->n_ents; i++) {
			e = &c->ents[i];
			if (e->sect != s)
				continue;
			if ((j = key_index(e->name)) == N_KEYS) {
				for (j = 0; j < N_KEYS && !near(keys[j].name, e->name); j++)
					;
				if (j < N_KEYS)
					return perr(ps, e->line, "unknown key '%.40s' (did "
					    "you mean '%s'?)", e->name, keys[j].name);
				return perr(ps, e->line, "unknown key '%.40s' (see "
				    "vpn.ini.example for the keys)", e->name);
			}
			k = &keys[j];
			if (seen[j])
				return perr(ps, e->line, "duplicate key '%s' in [%s] "
				    "(already set at line %d; keep one)", k->name,
				    p->name, seen[j]);
			seen[j] = e->line;
			if ((r = parse_value(ps, k, e->line, e->value, p)) != 0)
				return r;
		}
		if ((r = check_profile(ps, p, seen)) != 0)
			return r;
	}
	return 0;
}

static int
config_parse_text(struct kite_config *cfg, const char *text, size_t len,
		  char *err, size_t errlen)
{
	struct parse ps = { cfg, err, errlen };
	struct ini_ctx *c;
	int r;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return KITE_ERR_NOMEM;
	c->p = text;
	c->end = text + len;
	r = ini_parse_stream(cfg_reader, c, cfg_handler, c);
	if (r == -2 || c->nomem) {
		seterr(err, errlen, "%s: out of memory", cfg->path);
		r = KITE_ERR_NOMEM;
	} else if (r > 0 && (c->err_line == 0 || r < c->err_line)) {
		r = perr(&ps, r, "syntax error (expected [name], key = value, or a "
		    "; comment)");
	} else if (c->err_line != 0) {
		r = perr(&ps, c->err_line, "%s", c->err_msg);
	} else if (r != 0) {
		seterr(err, errlen, "%s: cannot parse (inih error %d)", cfg->path, r);
		r = KITE_ERR_CONFIG;
	} else {
		r = build_profiles(&ps, c);
	}
	ini_ctx_free(c);
	free(c);
	return r;
}

int
config_load_string(struct kite_config *cfg, const char *name, const char *text,
		   char *err, size_t errlen)
{
	int r;

	memset(cfg, 0, sizeof(*cfg));
	if (text == NULL)
		text = "";
	if ((cfg->path = strdup(name != NULL ? name : "(string)")) == NULL) {
		seterr(err, errlen, "out of memory");
		return KITE_ERR_NOMEM;
	}
	if ((r = config_parse_text(cfg, text, strlen(text), err, errlen)) != 0)
		config_free(cfg);
	return r;
}

int
config_load(struct kite_config *cfg, const char *path, char *err, size_t errlen)
{
	char *buf = NULL, *nul;
	size_t n = 0, cap, i;
	struct stat st;
	ssize_t rd;
	int fd = -1, r = KITE_ERR_CONFIG, line, saved_errno;

	memset(cfg, 0, sizeof(*cfg));
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)) == -1) {
		saved_errno = errno;	/* callers map EACCES to "not permitted" */
		seterr(err, errlen, "%s: %s (create it from vpn.ini.example, or "
		    "pass -c FILE)", path, strerror(saved_errno));
		errno = saved_errno;
		return KITE_ERR_SYS;
	}
	if (fstat(fd, &st) == -1) {
		seterr(err, errlen, "%s: fstat: %s", path, strerror(errno));
		r = KITE_ERR_SYS;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		seterr(err, errlen, "%s: not a regular file (pass -c FILE)", path);
		goto out;
	}
	/* The file names the updown script that runs as root. */
	if ((st.st_mode & 022) != 0) {
		seterr(err, errlen, "%s: writable by group or others (permissions "
		    "%04o); run: chmod go-w %s", path, (unsigned)(st.st_mode & 07777),
		    path);
		goto out;
	}
	if (st.st_uid != 0 && (geteuid() == 0 || st.st_uid != getuid())) {
		seterr(err, errlen, "%s: owned by uid %u, must be owned by root "
		    "(chown root %s)", path, (unsigned)st.st_uid, path);
		goto out;
	}
	if (st.st_size > CONFIG_MAX_FILE) {
		seterr(err, errlen, "%s: larger than %d bytes (is this the right "
		    "file?)", path, CONFIG_MAX_FILE);
		goto out;
	}
	cap = (size_t)st.st_size + 1;
	if ((buf = malloc(cap + 1)) == NULL) {
		seterr(err, errlen, "%s: out of memory", path);
		r = KITE_ERR_NOMEM;
		goto out;
	}
	/* The size may change under us; read at most cap bytes. */
	while (n < cap) {
		if ((rd = read(fd, buf + n, cap - n)) == -1) {
			if (errno == EINTR)
				continue;
			seterr(err, errlen, "%s: read: %s", path, strerror(errno));
			r = KITE_ERR_SYS;
			goto out;
		}
		if (rd == 0)
			break;
		n += (size_t)rd;
	}
	if (n == cap) {
		seterr(err, errlen, "%s: changed while being read (try again)", path);
		goto out;
	}
	buf[n] = '\0';
	if ((nul = memchr(buf, '\0', n)) != NULL) {
		for (line = 1, i = 0; buf + i < nul; i++)
			line += buf[i] == '\n';
		seterr(err, errlen, "%s:%d: contains a NUL byte (is this a text "
		    "file?)", path, line);
		goto out;
	}
	if ((cfg->path = strdup(path)) == NULL) {
		seterr(err, errlen, "%s: out of memory", path);
		r = KITE_ERR_NOMEM;
		goto out;
	}
	r = config_parse_text(cfg, buf, n, err, errlen);
 out:
	if (r != 0)
		config_free(cfg);
	free(buf);
	if (fd != -1)
		close(fd);
	return r;
}

void
config_free(struct kite_config *cfg)
{
	unsigned i;
	size_t j;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->n_profiles && i < KITE_MAX_PROFILES; i++)
		for (j = 0; j < KITE_ARRAY_SIZE(str_fields); j++)
			free(*FIELD(&cfg->profiles[i], str_fields[j], char *));
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

const struct kite_profile *
config_profile(const struct kite_config *cfg, const char *name, char *err, size_t errlen)
{
	const char *path = cfg->path != NULL ? cfg->path : "config";
	char names[256];
	size_t off = 0;
	unsigned i;
	int n;

	names[0] = '\0';
	for (i = 0; i < cfg->n_profiles; i++) {
		if (name != NULL && strcmp(cfg->profiles[i].name, name) == 0)
			return &cfg->profiles[i];
		n = snprintf(names + off, sizeof(names) - off, "%s%s",
		    i ? ", " : "", cfg->profiles[i].name);
		if (n < 0 || (size_t)n >= sizeof(names) - off)
			break;
		off += (size_t)n;
	}
	if (name != NULL) {
		seterr(err, errlen, "%s: no profile [%.40s] (profiles: %s)", path,
		    name, cfg->n_profiles ? names : "none");
		return NULL;
	}
	if (cfg->n_profiles == 1)
		return &cfg->profiles[0];
	if (cfg->n_profiles == 0)
		seterr(err, errlen, "%s: no profiles (add a [name] section with a "
		    "gateway)", path);
	else
		seterr(err, errlen, "%s: several profiles (%s); name one, e.g. "
		    "kite connect %s", path, names, cfg->profiles[0].name);
	return NULL;
}

/* ---- rendering proposals back (for messages) ---- */

static const char *token_for(enum tok_kind kind, uint16_t id, uint16_t bits)
{
	for (size_t i = 0; i < sizeof(alg_tokens) / sizeof(alg_tokens[0]); i++) {
		const struct alg_token *t = &alg_tokens[i];

		if (t->kind == kind && t->id == id && (kind != TOK_ENCR || t->bits == bits))
			return t->name;
	}
	return "?";
}

static void cat(char *buf, size_t len, size_t *o, const char *s)
{
	int n = snprintf(buf + *o, len > *o ? len - *o : 0, "%s", s);

	if (n > 0)
		*o = *o + (size_t)n < len ? *o + (size_t)n : len;
}

void config_proposals_str(const struct kite_proposal *p, unsigned n, char *buf, size_t len)
{
	size_t o = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		const struct kite_proposal *k = &p[i];
		int first = 1;

		if (i)
			cat(buf, len, &o, ", ");
#define ADD(tok) do { if (!first) cat(buf, len, &o, "-"); cat(buf, len, &o, tok); first = 0; } while (0)
		for (unsigned j = 0; j < k->n_encr; j++)
			ADD(token_for(TOK_ENCR, k->encr[j], k->encr_bits[j]));
		for (unsigned j = 0; j < k->n_integ; j++)
			ADD(token_for(TOK_INTEG, k->integ[j], 0));
		for (unsigned j = 0; j < k->n_prf; j++)
			ADD(token_for(TOK_PRF, k->prf[j], 0));
		for (unsigned j = 0; j < k->n_dh; j++)
			ADD(token_for(TOK_DH, k->dh[j], 0));
#undef ADD
	}
}
