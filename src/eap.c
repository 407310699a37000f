/* eap: see eap.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kite.h"
#include "ikev2.h"
#include "crypto.h"
#include "kbuf.h"
#include "log.h"
#include "eap.h"

#define EAP_HDR_LEN		4	/* Code, Identifier, Length (RFC 3748 4) */

/* EAP-MSCHAPv2 OpCodes (draft-kamath-pppext-eap-mschapv2-02 2) */
#define MSCHAPV2_OP_CHALLENGE	1
#define MSCHAPV2_OP_RESPONSE	2
#define MSCHAPV2_OP_SUCCESS	3
#define MSCHAPV2_OP_FAILURE	4
#define MSCHAPV2_CHALLENGE_LEN	16
#define MSCHAPV2_RESPONSE_LEN	49	/* Peer-Challenge 16, Reserved 8, NT-Response 24, Flags 1 */
#define MSCHAPV2_AUTH_HEX_LEN	40	/* "S=" + 40 hex digits (RFC 2759 5) */

#define MD5_VALUE_LEN		16

enum eap_state {
	ST_IDLE = 0,		/* no method request answered yet */
	ST_MSCHAP_RESPONDED,	/* Response sent; Success- or Failure-Request next */
	ST_METHOD_DONE,		/* method finished on our side; EAP-Success next */
	ST_SUCCESS,
	ST_FAILED,
};

struct eap {
	uint8_t method;
	enum eap_state state;
	unsigned rounds;
	uint8_t offered;		/* last method the gateway proposed that we Nak'ed */
	char identity[EAP_MAX_IDENTITY + 1];
	size_t identity_len;
	uint8_t *password;		/* EAP-MD5 only */
	size_t password_len;
	uint8_t nt_hash[16];		/* MSCHAPv2: NtPasswordHash */
	uint8_t auth_response[20];	/* expected S= value */
	uint8_t msk[EAP_MSK_LEN];
	size_t msk_len;
	char reason[256];
#ifdef KITE_TESTING
	int fixed_pc;
	uint8_t pc[MSCHAPV2_CHALLENGE_LEN];
#endif
};

static const char *method_name(uint8_t type)
{
	static char buf[24];

	switch (type) {
	case EAP_TYPE_IDENTITY:
		return "Identity";
	case EAP_TYPE_NOTIFICATION:
		return "Notification";
	case EAP_TYPE_NAK:
		return "Nak";
	case EAP_TYPE_MD5:
		return "EAP-MD5";
	case EAP_TYPE_TLS:
		return "EAP-TLS";
	case 17:
		return "LEAP";
	case 18:
		return "EAP-SIM";
	case 21:
		return "EAP-TTLS";
	case 23:
		return "EAP-AKA";
	case 25:
		return "PEAP";
	case EAP_TYPE_MSCHAPV2:
		return "EAP-MSCHAPv2";
	case 43:
		return "EAP-FAST";
	case 50:
		return "EAP-AKA'";
	case EAP_TYPE_EXPANDED:
		return "an expanded EAP type";
	default:
		snprintf(buf, sizeof(buf), "EAP type %u", type);
		return buf;
	}
}

static enum eap_status fail(struct eap *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum eap_status fail(struct eap *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	va_end(ap);
	e->state = ST_FAILED;
	crypto_wipe(e->msk, sizeof(e->msk));
	e->msk_len = 0;
	log_debug("%s", e->reason);
	return EAP_FAILURE;
}

/* Printable ASCII copy of untrusted text for messages ('?' for the rest). */
static void sanitize(char *out, size_t cap, const uint8_t *p, size_t len)
{
	size_t i, n = len < cap - 1 ? len : cap - 1;

	for (i = 0; i < n; i++)
		out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	out[n] = '\0';
}

/* ---- MSCHAPv2 primitives (RFC 2759 8, RFC 3079 3.4) ---- */

/*
 * UTF-8 -> UTF-16LE. Refuses overlong forms, surrogates, code points past
 * U+10FFFF and more than EAP_MAX_PASSWORD characters. out holds
 * 4 * EAP_MAX_PASSWORD bytes.
 */
static int utf8_to_utf16le(const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)
{
	size_t i = 0, o = 0, chars = 0, n, k;
	uint32_t cp, min;

	while (i < len) {
		uint8_t c = in[i];

		if (c < 0x80) {
			cp = c;
			n = 0;
			min = 0;
		} else if ((c & 0xe0) == 0xc0) {
			cp = c & 0x1f;
			n = 1;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			cp = c & 0x0f;
			n = 2;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			cp = c & 0x07;
			n = 3;
			min = 0x10000;
		} else {
			return KITE_ERR_INVAL;
		}
		if (n > len - i - 1)
			return KITE_ERR_INVAL;
		for (k = 1; k <= n; k++) {
			if ((in[i + k] & 0xc0) != 0x80)
				return KITE_ERR_INVAL;
			cp = cp << 6 | (in[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0)
			return KITE_ERR_INVAL;
		if (++chars > EAP_MAX_PASSWORD)
			return KITE_ERR_INVAL;
		i += n + 1;
		if (cp >= 0x10000) {
			uint32_t v = cp - 0x10000, hi = 0xd800 | v >> 10, lo = 0xdc00 | (v & 0x3ff);

			out[o++] = (uint8_t)hi;
			out[o++] = (uint8_t)(hi >> 8);
			out[o++] = (uint8_t)lo;
			out[o++] = (uint8_t)(lo >> 8);
		} else {
			out[o++] = (uint8_t)cp;
			out[o++] = (uint8_t)(cp >> 8);
		}
	}
	*out_len = o;
	return 0;
}

int eap_mschapv2_nt_hash(const uint8_t *password, size_t len, uint8_t out[16])
{
	uint8_t u[4 * EAP_MAX_PASSWORD];
	size_t ulen = 0;
	int r;

	if (out == NULL || (password == NULL && len > 0))
		return KITE_ERR_INVAL;
	if ((r = utf8_to_utf16le(password, len, u, &ulen)) == 0)
		r = crypto_md4(u, ulen, out);
	crypto_wipe(u, sizeof(u));
	return r;
}

/* RFC 2759 8.2: the user name without any domain prefix ("DOMAIN\user"). */
static const char *bare_username(const char *name)
{
	const char *bs = strrchr(name, '\\');

	return bs != NULL ? bs + 1 : name;
}

int eap_mschapv2_challenge_hash(const uint8_t peer_challenge[16], const uint8_t auth_challenge[16],
				const char *username, uint8_t out[8])
{
	uint8_t buf[2 * MSCHAPV2_CHALLENGE_LEN + EAP_MAX_IDENTITY], d[20];
	size_t ulen;
	int r;

	if (peer_challenge == NULL || auth_challenge == NULL || username == NULL || out == NULL)
		return KITE_ERR_INVAL;
	if ((ulen = strlen(username)) > EAP_MAX_IDENTITY)
		return KITE_ERR_INVAL;
	memcpy(buf, peer_challenge, 16);
	memcpy(buf + 16, auth_challenge, 16);
	memcpy(buf + 32, username, ulen);
	if ((r = crypto_sha1(buf, 32 + ulen, NULL, 0, d)) == 0)
		memcpy(out, d, 8);
	crypto_wipe(d, sizeof(d));
	return r;
}

int eap_mschapv2_challenge_response(const uint8_t challenge[8], const uint8_t password_hash[16],
				    uint8_t out[24])
{
	uint8_t z[21];
	int r = 0, i;

	if (challenge == NULL || password_hash == NULL || out == NULL)
		return KITE_ERR_INVAL;
	/* ZPasswordHash: the hash padded to 21 octets, three 7-octet DES keys */
	memset(z, 0, sizeof(z));
	memcpy(z, password_hash, 16);
	for (i = 0; i < 3 && r == 0; i++)
		r = crypto_des_ecb_encrypt(z + 7 * i, 7, challenge, out + 8 * i);
	crypto_wipe(z, sizeof(z));
	return r;
}

/* RFC 2759 8.7 */
static const uint8_t magic_auth1[39] = "Magic server to client signing constant";
static const uint8_t magic_auth2[41] = "Pad to make it do more than one iteration";

int eap_mschapv2_auth_response(const uint8_t password_hash[16], const uint8_t nt_response[24],
			       const uint8_t challenge[8], uint8_t out[20])
{
	uint8_t hh[16], buf[64], d[20];
	int r;

	if (password_hash == NULL || nt_response == NULL || challenge == NULL || out == NULL)
		return KITE_ERR_INVAL;
	/* PasswordHashHash = MD4(PasswordHash) */
	if ((r = crypto_md4(password_hash, 16, hh)) != 0)
		goto out;
	/* Digest = SHA1(PasswordHashHash | NT-Response | Magic1) */
	memcpy(buf, hh, 16);
	memcpy(buf + 16, nt_response, 24);
	if ((r = crypto_sha1(buf, 40, magic_auth1, sizeof(magic_auth1), d)) != 0)
		goto out;
	/* AuthenticatorResponse = SHA1(Digest | Challenge | Magic2) */
	memcpy(buf, d, 20);
	memcpy(buf + 20, challenge, 8);
	r = crypto_sha1(buf, 28, magic_auth2, sizeof(magic_auth2), out);
out:
	crypto_wipe(hh, sizeof(hh));
	crypto_wipe(buf, sizeof(buf));
	crypto_wipe(d, sizeof(d));
	return r;
}

/* RFC 3079 3.4 */
static const uint8_t magic_mppe1[27] = "This is the MPPE Master Key";
static const uint8_t magic_mppe2[84] =
    "On the client side, this is the send key; on the server side, it is the receive key.";
static const uint8_t magic_mppe3[84] =
    "On the client side, this is the receive key; on the server side, it is the send key.";

int eap_mschapv2_master_key(const uint8_t password_hash[16], const uint8_t nt_response[24],
			    uint8_t out[16])
{
	uint8_t hh[16], buf[40], d[20];
	int r;

	if (password_hash == NULL || nt_response == NULL || out == NULL)
		return KITE_ERR_INVAL;
	if ((r = crypto_md4(password_hash, 16, hh)) != 0)
		goto out;
	memcpy(buf, hh, 16);
	memcpy(buf + 16, nt_response, 24);
	if ((r = crypto_sha1(buf, 40, magic_mppe1, sizeof(magic_mppe1), d)) == 0)
		memcpy(out, d, 16);
out:
	crypto_wipe(hh, sizeof(hh));
	crypto_wipe(buf, sizeof(buf));
	crypto_wipe(d, sizeof(d));
	return r;
}

int eap_mschapv2_start_key(const uint8_t master_key[16], int is_send, int is_server,
			   uint8_t out[16])
{
	/* SHSpad1 = 40 x 0x00, SHSpad2 = 40 x 0xf2 */
	uint8_t buf[16 + 40 + 84 + 40], d[20];
	const uint8_t *magic;
	int r;

	if (master_key == NULL || out == NULL)
		return KITE_ERR_INVAL;
	magic = (!is_send) == (!is_server) ? magic_mppe3 : magic_mppe2;
	memcpy(buf, master_key, 16);
	memset(buf + 16, 0, 40);
	memcpy(buf + 56, magic, 84);
	memset(buf + 140, 0xf2, 40);
	if ((r = crypto_sha1(buf, sizeof(buf), NULL, 0, d)) == 0)
		memcpy(out, d, 16);
	crypto_wipe(buf, sizeof(buf));
	crypto_wipe(d, sizeof(d));
	return r;
}

/* MSK = client send key | client receive key | 32 zero octets (see eap.h). */
static int mschapv2_msk(struct eap *e, const uint8_t nt_response[24])
{
	uint8_t mk[16];
	int r;

	memset(e->msk, 0, sizeof(e->msk));
	if ((r = eap_mschapv2_master_key(e->nt_hash, nt_response, mk)) != 0 ||
	    (r = eap_mschapv2_start_key(mk, 1, 0, e->msk)) != 0 ||
	    (r = eap_mschapv2_start_key(mk, 0, 0, e->msk + 16)) != 0)
		crypto_wipe(e->msk, sizeof(e->msk));
	e->msk_len = r == 0 ? EAP_MSK_LEN : 0;
	crypto_wipe(mk, sizeof(mk));
	return r;
}

/* ---- peer ---- */

struct eap *eap_new(uint8_t method, const char *identity,
		    const uint8_t *password, size_t password_len)
{
	struct eap *e;
	size_t ilen;

	if (method != EAP_TYPE_MSCHAPV2 && method != EAP_TYPE_MD5) {
		log_debug("EAP method %u is not supported", method);
		return NULL;
	}
	if (identity == NULL || (ilen = strlen(identity)) == 0 || ilen > EAP_MAX_IDENTITY ||
	    (password == NULL && password_len > 0) || password_len > 4 * EAP_MAX_PASSWORD ||
	    (password_len > 0 && memchr(password, 0, password_len) != NULL))
		return NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->method = method;
	memcpy(e->identity, identity, ilen);
	e->identity_len = ilen;
	if (method == EAP_TYPE_MSCHAPV2) {
		/* Only the hash is kept: it is all MSCHAPv2 needs. */
		if (eap_mschapv2_nt_hash(password, password_len, e->nt_hash) != 0) {
			log_debug("password is not valid UTF-8 of at most %d characters",
				  EAP_MAX_PASSWORD);
			eap_free(e);
			return NULL;
		}
	} else {
		if ((e->password = malloc(password_len ? password_len : 1)) == NULL) {
			eap_free(e);
			return NULL;
		}
		if (password_len > 0)
			memcpy(e->password, password, password_len);
		e->password_len = password_len;
	}
	snprintf(e->reason, sizeof(e->reason), "%s: not started", method_name(method));
	return e;
}

void eap_free(struct eap *e)
{
	if (e == NULL)
		return;
	if (e->password != NULL) {
		crypto_wipe(e->password, e->password_len);
		free(e->password);
	}
	crypto_wipe(e, sizeof(*e));
	free(e);
}

uint8_t eap_method(const struct eap *e)
{
	return e == NULL ? 0 : e->method;
}

const char *eap_reason(const struct eap *e)
{
	return e == NULL ? "no EAP state" : e->reason;
}

int eap_msk(const struct eap *e, uint8_t *out, size_t *len)
{
	if (e == NULL || out == NULL || len == NULL || e->state != ST_SUCCESS)
		return KITE_ERR_INVAL;
	if (e->msk_len == 0)
		return KITE_ERR_UNSUPPORTED;
	if (*len < e->msk_len)
		return KITE_ERR_INVAL;
	memcpy(out, e->msk, e->msk_len);
	*len = e->msk_len;
	return 0;
}

#ifdef KITE_TESTING
void eap_test_set_peer_challenge(struct eap *e, const uint8_t pc[16])
{
	memcpy(e->pc, pc, sizeof(e->pc));
	e->fixed_pc = 1;
}
#endif

/* Response header: Code, Identifier, Length (patched by put_end), Type. */
static void put_begin(struct wbuf *w, uint8_t id, uint8_t type)
{
	wbuf_put_u8(w, EAP_CODE_RESPONSE);
	wbuf_put_u8(w, id);
	wbuf_put_u16(w, 0);
	wbuf_put_u8(w, type);
}

static enum eap_status put_end(struct eap *e, struct wbuf *w, size_t *resp_len)
{
	if (!wbuf_ok(w) || w->len > UINT16_MAX)
		return fail(e, "EAP: response does not fit the buffer (%zu bytes)", w->cap);
	wbuf_set_u16(w, 2, (uint16_t)w->len);
	*resp_len = w->len;
	return EAP_CONTINUE;
}

static enum eap_status on_identity(struct eap *e, uint8_t id, struct wbuf *w, size_t *resp_len)
{
	if (e->state != ST_IDLE)
		return fail(e, "%s: the gateway asked for the identity again mid-method",
			    method_name(e->method));
	put_begin(w, id, EAP_TYPE_IDENTITY);
	wbuf_put_bytes(w, e->identity, e->identity_len);
	return put_end(e, w, resp_len);
}

static enum eap_status on_notification(struct eap *e, uint8_t id, struct kbuf *data,
				       struct wbuf *w, size_t *resp_len)
{
	char text[128];

	/* RFC 3748 5.2: displayable message; the response carries no data. */
	sanitize(text, sizeof(text), kbuf_cur(data), kbuf_left(data));
	log_info("EAP notification from the gateway: \"%s\"", text);
	put_begin(w, id, EAP_TYPE_NOTIFICATION);
	return put_end(e, w, resp_len);
}

static enum eap_status on_other_method(struct eap *e, uint8_t id, uint8_t type,
				       struct wbuf *w, size_t *resp_len)
{
	if (type == EAP_TYPE_NAK)
		return fail(e, "EAP: malformed request (Nak is a response type)");
	if (e->state != ST_IDLE)
		return fail(e, "%s: the gateway switched to %s mid-method (refused)",
			    method_name(e->method), method_name(type));
	/* RFC 3748 5.3.1: legacy Nak naming the one method we are configured for
	 * (also the answer to an expanded type, 5.3.2). */
	e->offered = type;
	log_debug("gateway proposed %s; answering Nak with %s", method_name(type),
		  method_name(e->method));
	put_begin(w, id, EAP_TYPE_NAK);
	wbuf_put_u8(w, e->method);
	return put_end(e, w, resp_len);
}

static int get_peer_challenge(struct eap *e, uint8_t pc[16])
{
#ifdef KITE_TESTING
	if (e->fixed_pc) {
		memcpy(pc, e->pc, 16);
		return 0;
	}
#endif
	return crypto_random(pc, 16);
}

static enum eap_status mschapv2_challenge(struct eap *e, uint8_t id, uint8_t ms_id,
					  struct kbuf *b, struct wbuf *w, size_t *resp_len)
{
	uint8_t vsize, pc[16], ch[8], nt[24];
	const uint8_t *auth_challenge;
	enum eap_status st;
	size_t len_off;

	if (e->state != ST_IDLE)
		return fail(e, "EAP-MSCHAPv2: unexpected second Challenge (retries are not supported)");
	if (kbuf_get_u8(b, &vsize) != 0 || vsize != MSCHAPV2_CHALLENGE_LEN ||
	    kbuf_get_view(b, &auth_challenge, MSCHAPV2_CHALLENGE_LEN) != 0)
		return fail(e, "EAP-MSCHAPv2: malformed Challenge");
	/* The rest is the authenticator's Name; nothing depends on it. */
	if (get_peer_challenge(e, pc) != 0)
		return fail(e, "EAP-MSCHAPv2: no random bytes for the Peer-Challenge");
	if (eap_mschapv2_challenge_hash(pc, auth_challenge, bare_username(e->identity), ch) != 0 ||
	    eap_mschapv2_challenge_response(ch, e->nt_hash, nt) != 0 ||
	    eap_mschapv2_auth_response(e->nt_hash, nt, ch, e->auth_response) != 0 ||
	    mschapv2_msk(e, nt) != 0) {
		st = fail(e, "EAP-MSCHAPv2: MD4/DES/SHA-1 not available in this wolfSSL build");
		goto out;
	}
	/* Response (draft-kamath 2.2): OpCode, MS-CHAPv2-ID, MS-Length, Value-Size,
	 * Peer-Challenge, 8 reserved zero octets, NT-Response, Flags 0, Name. */
	put_begin(w, id, EAP_TYPE_MSCHAPV2);
	wbuf_put_u8(w, MSCHAPV2_OP_RESPONSE);
	wbuf_put_u8(w, ms_id);
	len_off = wbuf_reserve(w, 2);
	wbuf_put_u8(w, MSCHAPV2_RESPONSE_LEN);
	wbuf_put_bytes(w, pc, sizeof(pc));
	wbuf_put_zero(w, 8);
	wbuf_put_bytes(w, nt, sizeof(nt));
	wbuf_put_u8(w, 0);
	wbuf_put_bytes(w, e->identity, e->identity_len);
	/* MS-Length counts from the OpCode: the EAP length minus 5 */
	if (wbuf_ok(w))
		wbuf_set_u16(w, len_off, (uint16_t)(w->len - 5));
	if ((st = put_end(e, w, resp_len)) == EAP_CONTINUE)
		e->state = ST_MSCHAP_RESPONDED;
out:
	crypto_wipe(ch, sizeof(ch));
	crypto_wipe(nt, sizeof(nt));
	return st;
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static enum eap_status mschapv2_success(struct eap *e, uint8_t id, struct kbuf *b,
					struct wbuf *w, size_t *resp_len)
{
	uint8_t got[20];
	const uint8_t *msg;
	size_t len, i;
	int hi, lo, bad = 0;

	if (e->state != ST_MSCHAP_RESPONDED)
		return fail(e, "EAP-MSCHAPv2: Success-Request before our Response (refused)");
	/* Message: "S=<40 hex digits>" optionally followed by " M=<text>" (RFC 2759 5) */
	len = kbuf_left(b);
	msg = kbuf_cur(b);
	if (len < 2 + MSCHAPV2_AUTH_HEX_LEN || msg[0] != 'S' || msg[1] != '=' ||
	    (len > 2 + MSCHAPV2_AUTH_HEX_LEN && msg[2 + MSCHAPV2_AUTH_HEX_LEN] != ' '))
		return fail(e, "EAP-MSCHAPv2: malformed Success-Request (no S=<authenticator>)");
	for (i = 0; i < 20; i++) {
		hi = hexval(msg[2 + 2 * i]);
		lo = hexval(msg[3 + 2 * i]);
		bad |= hi < 0 || lo < 0;
		got[i] = (uint8_t)((hi & 0xf) << 4 | (lo & 0xf));
	}
	if (bad)
		return fail(e, "EAP-MSCHAPv2: malformed Success-Request (authenticator is not hex)");
	if (!crypto_ct_eq(got, e->auth_response, sizeof(got)))
		return fail(e, "EAP-MSCHAPv2: the gateway's authenticator response is wrong "
			    "(it does not know the password: refused)");
	/* Success-Response (draft-kamath 2.4): just the OpCode */
	put_begin(w, id, EAP_TYPE_MSCHAPV2);
	wbuf_put_u8(w, MSCHAPV2_OP_SUCCESS);
	if (put_end(e, w, resp_len) != EAP_CONTINUE)
		return EAP_FAILURE;
	e->state = ST_METHOD_DONE;
	snprintf(e->reason, sizeof(e->reason), "EAP-MSCHAPv2: gateway authenticator verified");
	return EAP_CONTINUE;
}

static const char *mschapv2_error_text(long err)
{
	switch (err) {
	case 646:
		return "logon not allowed at this time";
	case 647:
		return "account disabled";
	case 648:
		return "password expired (kite cannot change it)";
	case 649:
		return "no dial-in permission";
	case 691:
		return "wrong user name or password";
	case 709:
		return "error changing the password";
	default:
		return "rejected";
	}
}

static enum eap_status mschapv2_failure(struct eap *e, struct kbuf *b)
{
	char text[96] = "";
	const uint8_t *msg = kbuf_cur(b), *m;
	size_t len = kbuf_left(b), i;
	long err = 0;

	if (e->state != ST_MSCHAP_RESPONDED)
		return fail(e, "EAP-MSCHAPv2: Failure-Request before our Response");
	/* "E=eeeeeeeeee R=r C=cccc... V=vvvvvvvvvv M=<msg>" (RFC 2759 6) */
	if (len >= 2 && msg[0] == 'E' && msg[1] == '=')
		for (i = 2; i < len && i < 12 && msg[i] >= '0' && msg[i] <= '9'; i++)
			err = err * 10 + (msg[i] - '0');
	for (i = 0; i + 2 <= len; i++) {
		if ((i == 0 || msg[i - 1] == ' ') && msg[i] == 'M' && msg[i + 1] == '=') {
			m = msg + i + 2;
			sanitize(text, sizeof(text), m, len - i - 2);
			break;
		}
	}
	/* No Failure-Response and no retry (see eap.h) */
	return fail(e, "EAP-MSCHAPv2: %s (E=%ld)%s%s%s", mschapv2_error_text(err), err,
		    text[0] ? ": \"" : "", text, text[0] ? "\"" : "");
}

static enum eap_status on_mschapv2(struct eap *e, uint8_t id, struct kbuf *b,
				   struct wbuf *w, size_t *resp_len)
{
	uint8_t op, ms_id;
	uint16_t ms_len;

	if (kbuf_get_u8(b, &op) != 0)
		return fail(e, "EAP-MSCHAPv2: malformed request (no OpCode)");
	/* MS-Length is not checked: servers disagree on it, EAP Length is authoritative. */
	if (kbuf_get_u8(b, &ms_id) != 0 || kbuf_get_u16(b, &ms_len) != 0)
		return fail(e, "EAP-MSCHAPv2: malformed request (short header)");
	switch (op) {
	case MSCHAPV2_OP_CHALLENGE:
		return mschapv2_challenge(e, id, ms_id, b, w, resp_len);
	case MSCHAPV2_OP_SUCCESS:
		return mschapv2_success(e, id, b, w, resp_len);
	case MSCHAPV2_OP_FAILURE:
		return mschapv2_failure(e, b);
	default:
		return fail(e, "EAP-MSCHAPv2: unsupported OpCode %u", op);
	}
}

static enum eap_status on_md5(struct eap *e, uint8_t id, struct kbuf *b,
			      struct wbuf *w, size_t *resp_len)
{
	uint8_t vsize, value[MD5_VALUE_LEN];
	const uint8_t *challenge;

	if (e->state != ST_IDLE)
		return fail(e, "EAP-MD5: unexpected second Challenge");
	/* Value-Size, Value (the challenge), Name (RFC 1994 4.1) */
	if (kbuf_get_u8(b, &vsize) != 0 || vsize == 0 ||
	    kbuf_get_view(b, &challenge, vsize) != 0)
		return fail(e, "EAP-MD5: malformed Challenge");
	/* Response Value = MD5(Identifier | secret | Challenge) (RFC 1994 4.1) */
	if (crypto_md5(&id, 1, e->password, e->password_len, challenge, vsize, value) != 0)
		return fail(e, "EAP-MD5: MD5 not available in this wolfSSL build");
	put_begin(w, id, EAP_TYPE_MD5);
	wbuf_put_u8(w, MD5_VALUE_LEN);
	wbuf_put_bytes(w, value, sizeof(value));
	crypto_wipe(value, sizeof(value));
	if (put_end(e, w, resp_len) != EAP_CONTINUE)
		return EAP_FAILURE;
	e->state = ST_METHOD_DONE;
	snprintf(e->reason, sizeof(e->reason), "EAP-MD5: response sent");
	return EAP_CONTINUE;
}

static enum eap_status on_failure(struct eap *e)
{
	switch (e->state) {
	case ST_IDLE:
		if (e->offered)
			return fail(e, "EAP: the gateway refused %s (it offered %s)",
				    method_name(e->method), method_name(e->offered));
		return fail(e, "EAP: the gateway sent EAP-Failure before authentication");
	case ST_MSCHAP_RESPONDED:
		return fail(e, "EAP-MSCHAPv2: the gateway rejected the user name or password "
			    "(EAP-Failure)");
	case ST_METHOD_DONE:
		if (e->method == EAP_TYPE_MD5)
			return fail(e, "EAP-MD5: the gateway rejected the user name or password "
				    "(EAP-Failure)");
		return fail(e, "EAP-MSCHAPv2: EAP-Failure after a successful exchange");
	default:
		return fail(e, "EAP: EAP-Failure");
	}
}

enum eap_status eap_input(struct eap *e, const uint8_t *req, size_t len,
			  uint8_t *resp, size_t cap, size_t *resp_len)
{
	struct kbuf b, data;
	struct wbuf w;
	uint8_t code, id, type;
	uint16_t elen;

	if (resp_len != NULL)
		*resp_len = 0;
	if (e == NULL)
		return EAP_FAILURE;
	if (req == NULL || resp == NULL || resp_len == NULL)
		return fail(e, "EAP: internal error (missing buffer)");
	if (e->state == ST_SUCCESS || e->state == ST_FAILED) {
		if (e->state == ST_SUCCESS)
			return fail(e, "EAP: message after EAP-Success");
		return EAP_FAILURE;
	}
	kbuf_init(&b, req, len);
	if (kbuf_get_u8(&b, &code) != 0 || kbuf_get_u8(&b, &id) != 0 ||
	    kbuf_get_u16(&b, &elen) != 0 || elen < EAP_HDR_LEN ||
	    kbuf_get_sub(&b, &data, elen - EAP_HDR_LEN) != 0)
		return fail(e, "EAP: malformed message (%zu bytes)", len);
	/* Bytes past Length are link-layer padding (RFC 3748 4): ignored. */
	wbuf_init(&w, resp, cap);
	switch (code) {
	case EAP_CODE_SUCCESS:
		/* RFC 3748 4.2, 7.16: only after the method completed */
		if (e->state != ST_METHOD_DONE)
			return fail(e, "%s: EAP-Success before the method completed (refused)",
				    method_name(e->method));
		e->state = ST_SUCCESS;
		snprintf(e->reason, sizeof(e->reason), "%s: authenticated",
			 method_name(e->method));
		return EAP_SUCCESS;
	case EAP_CODE_FAILURE:
		return on_failure(e);
	case EAP_CODE_REQUEST:
		break;
	default:
		return fail(e, "EAP: unexpected code %u from the gateway", code);
	}
	if (++e->rounds > EAP_MAX_ROUNDS)
		return fail(e, "EAP: more than %d requests (refused)", EAP_MAX_ROUNDS);
	if (kbuf_get_u8(&data, &type) != 0)
		return fail(e, "EAP: malformed request (no type)");
	switch (type) {
	case EAP_TYPE_IDENTITY:
		return on_identity(e, id, &w, resp_len);
	case EAP_TYPE_NOTIFICATION:
		return on_notification(e, id, &data, &w, resp_len);
	default:
		break;
	}
	if (type != e->method)
		return on_other_method(e, id, type, &w, resp_len);
	if (type == EAP_TYPE_MSCHAPV2)
		return on_mschapv2(e, id, &data, &w, resp_len);
	return on_md5(e, id, &data, &w, resp_len);
}
