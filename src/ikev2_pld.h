/*
 * ikev2_pld: DECODE. Validates and parses IKEv2 messages and payload bodies into
 * struct ike_msg "facts". It touches no SA, socket or kernel state and keeps no
 * pointer beyond the buffer it was handed: every view in struct ike_msg points
 * into the caller's datagram (or decrypted SK plaintext) and is valid only while
 * that buffer is.
 *
 * Return values: 0, or a negative enum kite_err:
 *   KITE_ERR_PARSE    malformed (length, framing, chain, counts) -> drop and count
 *   KITE_ERR_CRITICAL unknown payload with the critical bit set (RFC 7296, 2.5);
 *                     m->unsupported_critical holds its type for the notify.
 */
#ifndef KITE_IKEV2_PLD_H
#define KITE_IKEV2_PLD_H

#include <stddef.h>
#include <stdint.h>

#include "kite.h"

#define IKE_MAX_NOTIFY		20	/* strongSwan MAX_NOTIFY_PAYLOADS */
#define IKE_MAX_VID		20
#define IKE_MAX_CERT		8
#define IKE_MAX_CERTREQ		20
#define IKE_MAX_DELETE		20
#define IKE_MAX_PROPOSALS	16
#define IKE_MAX_TRANSFORMS	32	/* per proposal */
#define IKE_MAX_TS		16
#define IKE_MAX_CFG_ATTR	32
#define IKE_MAX_UNKNOWN		64	/* unknown non-critical payloads skipped per message */
#define IKE_MAX_FRAGMENTS	255	/* SKF Total Fragments cap (strongSwan MAX_FRAGMENTS) */

struct ike_hdr {
	uint8_t spi_i[8];
	uint8_t spi_r[8];
	uint8_t next_payload;
	uint8_t version;
	uint8_t exchange;
	uint8_t flags;
	uint32_t msgid;
	uint32_t length;
};

struct ike_view {
	const uint8_t *p;
	size_t len;
};

struct ike_notify {
	uint8_t proto;
	uint8_t spi_size;
	uint16_t type;
	struct ike_view spi;
	struct ike_view data;
};

struct ike_delete {
	uint8_t proto;
	uint8_t spi_size;
	uint16_t n_spi;
	struct ike_view spis;	/* n_spi * spi_size bytes */
};

struct ike_id {
	uint8_t type;		/* enum ikev2_id_type */
	struct ike_view data;
	struct ike_view body;	/* whole payload body (type + reserved + data), for AUTH */
};

struct ike_transform {
	uint8_t type;		/* enum ikev2_xform_type */
	uint16_t id;
	uint16_t key_bits;	/* KEY_LENGTH attribute, 0 if absent */
};

struct ike_proposal {
	uint8_t num;
	uint8_t proto;		/* enum ikev2_proto */
	uint8_t spi_size;
	uint8_t spi[8];
	uint8_t n_xf;
	struct ike_transform xf[IKE_MAX_TRANSFORMS];
};

struct ike_ts {
	uint8_t type;		/* IKEV2_TS_IPV4/6_ADDR_RANGE */
	uint8_t ip_proto;	/* 0 = any */
	uint16_t port_start, port_end;
	uint8_t start[16], end[16];	/* 4 bytes used for IPv4 */
};

struct ike_cfg_attr {
	uint16_t type;		/* enum ikev2_cfg_attr (R bit cleared) */
	struct ike_view value;
};

/*
 * One decoded message. Singletons are present when .p != NULL; for payloads
 * that may occur more than once, counts are bounded by the IKE_MAX_* limits
 * (more is KITE_ERR_PARSE).
 */
struct ike_msg {
	struct ike_hdr hdr;
	struct ike_view raw;		/* whole message, header included */

	struct ike_view sa;		/* SA payload body (proposals) */
	uint16_t ke_group;
	struct ike_view ke;		/* KE key exchange data */
	struct ike_view nonce;
	struct ike_id idi, idr;
	uint8_t auth_method;
	struct ike_view auth;		/* AUTH data */
	struct ike_view tsi, tsr;	/* TS payload bodies */
	uint8_t cp_type;
	struct ike_view cp;		/* CP attributes (after the 4-byte CP header) */
	struct ike_view eap;		/* whole EAP message */

	struct ike_notify notify[IKE_MAX_NOTIFY];
	unsigned n_notify;
	struct ike_delete del[IKE_MAX_DELETE];
	unsigned n_delete;
	struct ike_view cert[IKE_MAX_CERT];	/* CERT bodies incl. encoding byte */
	unsigned n_cert;
	struct ike_view certreq[IKE_MAX_CERTREQ];
	unsigned n_certreq;
	unsigned n_vid;
	unsigned n_unknown;
	uint8_t unsupported_critical;	/* type of an unknown critical payload */

	/*
	 * SK / SKF (always the last payload, RFC 7296 3.14, RFC 7383 2.5):
	 * sk_first is the SK generic header's Next Payload, sk_off the offset of the
	 * SK generic header in raw (AAD = raw[0 .. sk_off + 4) for AEAD),
	 * sk_body the IV || ciphertext || ICV.
	 * For SKF, sk_body starts after Fragment Number and Total Fragments, and
	 * the AAD runs to sk_off + 8 (RFC 7383, 2.5): in both cases it is every
	 * byte of raw before sk_body.
	 */
	int has_sk;
	int is_skf;
	uint8_t sk_first;
	size_t sk_off;
	struct ike_view sk_body;
	uint16_t frag_num, frag_total;	/* SKF only */
	int encrypted;			/* payloads came from inside SK */
};

/*
 * Parse the IKE header of a datagram (after any non-ESP marker). Checks the
 * length field against len, the major version, and that the message is not
 * shorter than the header or longer than IKEV2_MAX_MSG.
 */
int ikev2_pld_parse_hdr(const uint8_t *buf, size_t len, struct ike_hdr *hdr);

/*
 * Parse a whole message: header, then the payload chain up to and including
 * SK/SKF (whose body is recorded but not decrypted). Resets *m first.
 */
int ikev2_pld_parse(const uint8_t *buf, size_t len, struct ike_msg *m);

/*
 * Parse the decrypted inner payload chain of an SK payload into *m (adding to
 * what ikev2_pld_parse recorded), first = m->sk_first. Sets m->encrypted.
 */
int ikev2_pld_parse_inner(struct ike_msg *m, uint8_t first, const uint8_t *buf, size_t len);

/*
 * SA payload body -> proposals. Unknown transform types/attributes: KITE_ERR_PARSE.
 * For this and the two parsers below: more than max entries, or out == NULL
 * (KITE_ERR_INVAL), fail with *n = 0. ikev2_pld_parse has already checked the
 * syntax of the SA, TS and CP payloads it recorded (without a count cap).
 * Proposal numbers (RFC 7296, 3.3.1): several proposals must be numbered 1, 2,
 * ...; a single (accepted) proposal may carry any number but 0.
 */
int ikev2_pld_parse_sa(struct ike_view sa, struct ike_proposal *out, size_t max, size_t *n);

/* TS payload body -> selectors (unknown TS types: KITE_ERR_PARSE). */
int ikev2_pld_parse_ts(struct ike_view ts, struct ike_ts *out, size_t max, size_t *n);

/* CP attributes -> list. */
int ikev2_pld_parse_cfg(struct ike_view cp, struct ike_cfg_attr *out, size_t max, size_t *n);

/* First notify of a type, or NULL. */
const struct ike_notify *ikev2_msg_notify(const struct ike_msg *m, uint16_t type);

/*
 * Checks a notify's data length for the types whose size RFCs fix (NAT-D 20,
 * COOKIE 1..64, INVALID_KE 2, ADDITIONAL_IP4/6 4/16, AUTH_LIFETIME 4, ...).
 * Returns 0 when acceptable. ikev2_pld_parse applies it to every notify, so a
 * message carrying a wrong-size notify is KITE_ERR_PARSE as a whole.
 */
int ikev2_notify_check(const struct ike_notify *n);

/*
 * Nonzero when the message carried payloads outside SK/SKF (any payload at all
 * when it has no SK). The exchange layer rejects such messages where RFC 7296
 * requires everything encrypted (IKE_AUTH and later); m->encrypted alone cannot
 * tell, as it is set once ikev2_pld_parse_inner ran.
 */
int ikev2_msg_has_plain(const struct ike_msg *m);

#endif
