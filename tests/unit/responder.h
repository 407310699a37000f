/*
 * responder: a scripted IKEv2 RESPONDER for exchange tests (the test peer,
 * like strongSwan's exchange_test_helper or libreswan's impair peer).
 *
 * It is built only from kite's own codec and crypto seam (ikev2_enc,
 * ikev2_pld, crypto) and does no I/O: the test hands it the initiator's
 * datagrams (the bytes kite's ops.send produced) with resp_input(), and picks
 * up what it answered from r->out[0 .. r->n_out). It keeps one IKE SA.
 *
 * What it does, per RFC 7296:
 *  - IKE_SA_INIT: picks the first acceptable proposal of the initiator's SA
 *    (1.2, 2.7), answers SA, KE (for the chosen group), Nr, NAT-D (2.23);
 *    or demands a COOKIE (2.6), or INVALID_KE_PAYLOAD (1.2), or
 *    NO_PROPOSAL_CHOSEN; derives SKEYSEED and SK_* (2.14).
 *  - IKE_AUTH: decrypts SK (3.14), verifies the initiator's PSK AUTH (2.15)
 *    and answers IDr, AUTH, CP (virtual IP 10.3.0.1, DNS 10.1.0.53), SA (the
 *    chosen ESP proposal with our SPI), TSi (the VIP /32), TSr (10.1.0.0/24);
 *    then derives the CHILD SA KEYMAT (2.17) for the test to compare.
 *  - INFORMATIONAL: answers the initiator's requests (empty or DELETE), and
 *    sends its own requests (liveness check, DELETE) with resp_request().
 *  - Retransmitted requests get the cached response bit for bit (2.1).
 *  - CREATE_CHILD_SA (1.3, 2.8, 2.17, 2.18): answers kite's CHILD SA rekey or
 *    creation (with or without PFS) and IKE SA rekey, and starts its own
 *    (resp_request RESP_REQ_REKEY_CHILD / RESP_REQ_REKEY_IKE) or a malformed one
 *    (RESP_REQ_CCS_BAD). It derives the same keys kite must derive and keeps
 *    every CHILD SA it has (r->children) for the test to compare.
 *  - After an IKE SA rekey it keeps the old IKE SA (r->old) until that one is
 *    deleted: messages are routed to it by SPIs; RESP_REQ_DELETE_OLD_IKE sends
 *    the DELETE there. When the responder initiated the rekey it is the new
 *    SA's original initiator (its messages carry the Initiator flag, 2.18).
 *  - Collisions (2.8.1) need no logic here: the test holds messages and
 *    decides the order; the nonces of each exchange are recorded, and
 *    zero_nonce makes ours the lowest on purpose.
 *
 * Impairments (r->imp, bits of enum resp_imp) are sticky until the test
 * clears them. The "wire" ones (RESP_IMP_WIRE) change only the copy that goes
 * out in r->out: the genuine response is what the responder caches and
 * re-sends when the request is retransmitted, so a test can check that a
 * malformed copy is dropped and a later good one accepted.
 *
 * Everything lives in struct resp (fixed buffers, no allocation besides the
 * crypto contexts); nonces, SPIs, cookies and IVs come from a seeded PRNG so
 * runs are repeatable. DH key pairs come from crypto_dh_new().
 * All symbols are prefixed resp_ (the file is linked into every unit test).
 */
#ifndef KITE_TEST_RESPONDER_H
#define KITE_TEST_RESPONDER_H

#include <stddef.h>
#include <stdint.h>

#include "ikev2.h"
#include "ikev2_pld.h"
#include "crypto.h"

#define RESP_BUF	IKEV2_MAX_MSG
#define RESP_MAX_OUT	4
#define RESP_COOKIE_MAX	128	/* more than RFC 7296 2.6 allows, to test the limit */

enum resp_imp {
	/* IKE_SA_INIT */
	RESP_IMP_NO_PROPOSAL	= 1u << 0,	/* answer N(NO_PROPOSAL_CHOSEN) */
	RESP_IMP_TWO_PROPOSALS	= 1u << 1,	/* SA with the chosen proposal and a second one */
	RESP_IMP_UNOFFERED	= 1u << 2,	/* transform imp_xf_type replaced by imp_xf_id */
	RESP_IMP_NO_DH		= 1u << 3,	/* IKE proposal without a DH transform */
	RESP_IMP_KE_PINGPONG	= 1u << 4,	/* after each INVALID_KE, swap want_group/alt_group */
	RESP_IMP_COOKIE_ALWAYS	= 1u << 5,	/* demand a fresh cookie every time (never accept) */
	/* IKE_AUTH */
	RESP_IMP_WRONG_PSK	= 1u << 8,	/* our AUTH computed with another PSK */
	RESP_IMP_AUTH_FAILED	= 1u << 9,	/* answer N(AUTHENTICATION_FAILED) only */
	RESP_IMP_NO_IDR		= 1u << 10,
	RESP_IMP_NO_AUTH	= 1u << 11,
	RESP_IMP_OTHER_ID	= 1u << 12,	/* IDr FQDN "evil.kite.test", AUTH computed over it */
	/* any response */
	RESP_IMP_DUPLICATE	= 1u << 13,	/* the response goes out twice */
	/* wire copy only (the cache keeps the genuine response) */
	RESP_IMP_WRONG_MSGID	= 1u << 16,	/* message ID + 1 (inside the ICV for SK messages) */
	RESP_IMP_NO_RFLAG	= 1u << 17,	/* Response flag clear */
	RESP_IMP_BAD_SPI_I	= 1u << 18,	/* SPIi with its last byte flipped */
	RESP_IMP_CORRUPT_ICV	= 1u << 19,	/* last ICV byte flipped (SK messages) */
	RESP_IMP_KE_LEN		= 1u << 20,	/* KE data one byte short */
	RESP_IMP_SHORT_NR	= 1u << 21,	/* Nr of 8 bytes */
	RESP_IMP_NO_NR		= 1u << 22,	/* omit Nr */
	RESP_IMP_CRITICAL	= 1u << 23,	/* an unknown payload (type 120) with the critical bit */
};

#define RESP_IMP_WIRE	(RESP_IMP_WRONG_MSGID | RESP_IMP_NO_RFLAG | RESP_IMP_BAD_SPI_I | \
			 RESP_IMP_CORRUPT_ICV | RESP_IMP_KE_LEN | RESP_IMP_SHORT_NR | \
			 RESP_IMP_NO_NR | RESP_IMP_CRITICAL)

/* What resp_input() did with a datagram. */
enum resp_result {
	RESP_ANSWERED = 0,	/* r->out holds the answer(s) */
	RESP_RESENT,		/* a retransmitted request: the cached response is in r->out */
	RESP_DROPPED,		/* dropped on purpose (r->drop_n) */
	RESP_ABSORBED,		/* a response to our own request, processed */
	RESP_REJECTED,		/* something wrong with the initiator's message: see r->err */
};

/* Our own requests (resp_request). */
enum resp_req {
	RESP_REQ_LIVENESS = 1,	/* empty INFORMATIONAL (RFC 7296 1.4) */
	RESP_REQ_DELETE_IKE,	/* INFORMATIONAL with D(IKE) */
	RESP_REQ_REKEY_CHILD,	/* CREATE_CHILD_SA rekeying r->rq_spi (our inbound SPI; 0: the
				 * newest CHILD SA), with PFS when r->rq_group != 0 */
	RESP_REQ_REKEY_IKE,	/* CREATE_CHILD_SA rekeying the IKE SA (KE: r->rq_group or the
				 * IKE SA's group) */
	RESP_REQ_DELETE_CHILD,	/* INFORMATIONAL with D(ESP, r->rq_spi: our inbound SPI) */
	RESP_REQ_DELETE_OLD_IKE,	/* D(IKE) on the old IKE SA (after a rekey) */
	RESP_REQ_DELETE_ALT_IKE,	/* D(IKE) on r->alt (a collision's other new IKE SA) */
	RESP_REQ_CCS_BAD,	/* a malformed CHILD SA rekey, see r->rq_bad */
};

/* RESP_REQ_CCS_BAD: what is wrong with it. */
enum resp_bad {
	RESP_BAD_NO_NONCE = 1,	/* no Ni payload */
	RESP_BAD_KE_GROUP,	/* SA offers r->rq_group only, KE is for another group */
	RESP_BAD_REKEY_SPI,	/* REKEY_SA names an SPI kite does not have */
};


struct resp_pkt {
	uint8_t buf[RESP_BUF];
	size_t len;
};

/* One selected suite. */
struct resp_suite {
	uint16_t encr, encr_bits, integ, prf, dh, esn;
	int has_esn;
	uint8_t num;		/* the initiator's proposal number */
};

#define RESP_MAX_CHILDREN	8

/* A CHILD SA the responder holds. Keys by direction. */
struct resp_child {
	int alive;
	uint32_t spi_i;			/* kite's inbound SPI */
	uint32_t spi_r;			/* ours */
	uint16_t dh;			/* PFS group of the exchange that made it, 0 without */
	uint8_t k2g_enc[CRYPTO_MAX_KEY], k2g_integ[CRYPTO_MAX_KEY];	/* kite -> gateway */
	uint8_t g2k_enc[CRYPTO_MAX_KEY], g2k_integ[CRYPTO_MAX_KEY];	/* gateway -> kite */
	size_t enc_len, integ_len;
};

/* Everything one IKE SA has on the wire (swapped with r->old to work on the old one). */
struct resp_ikectx {
	int valid;
	uint8_t spi_i[8], spi_r[8];
	int orig_init;			/* the responder is this SA's original initiator */
	struct resp_suite ike;
	size_t prf_len, enc_len, integ_len;
	uint8_t sk_d[CRYPTO_MAX_PRF_LEN];
	struct crypto_aead *aead_i, *aead_r;
	uint32_t next_req_msgid;
	int have_last;
	uint32_t last_msgid;
	uint8_t last_req[RESP_BUF];
	size_t last_req_len;
	struct resp_pkt last_resp;
	uint32_t my_msgid;
	int my_req_pending;
	struct resp_pkt my_req;
	int my_req_kind;
};

struct resp {
	/* ---- set by the test (resp_init gives defaults) ---- */
	uint8_t psk[128];
	size_t psk_len;
	uint32_t imp;		/* enum resp_imp */
	unsigned drop_n;	/* drop the next N requests from the initiator (lost on the wire) */
	uint16_t want_group;	/* 0: accept the KE group offered; else demand this one */
	uint16_t alt_group;	/* RESP_IMP_KE_PINGPONG */
	size_t cookie_len;	/* > 0: demand a COOKIE of this length (<= RESP_COOKIE_MAX) in IKE_SA_INIT */
	uint8_t imp_xf_type, imp_xf_esp;	/* RESP_IMP_UNOFFERED: which transform (ESP SA if imp_xf_esp) */
	uint16_t imp_xf_id;
	uint8_t id_type;	/* our identity (IDr): FQDN gw.kite.test */
	uint8_t id[64];
	size_t id_len;
	uint8_t self_ip[4], peer_ip[4];	/* for NAT-D: us, and the initiator as we see it */
	uint16_t self_port, peer_port;

	/* ---- output of the last resp_input()/resp_request() ---- */
	struct resp_pkt out[RESP_MAX_OUT];
	unsigned n_out;
	char err[160];		/* why the last message was REJECTED */

	/* ---- counters and facts for assertions ---- */
	unsigned n_rx, n_dropped, n_resent;
	unsigned n_cookie_sent, n_cookie_ok, n_invalid_ke_sent;
	int have_sa;		/* IKE_SA_INIT answered with SA/KE/Nr; keys derived */
	int auth_ok;		/* the initiator's AUTH verified */
	int auth_bad;		/* ... and failed to verify (we answered AUTHENTICATION_FAILED) */
	int child_up;		/* IKE_AUTH answered with a CHILD SA */
	int ike_deleted;	/* the initiator deleted the IKE SA */
	unsigned n_info_rx;	/* INFORMATIONAL requests from the initiator */
	unsigned n_peer_resp;	/* responses to our own requests */
	uint32_t peer_resp_msgid;
	size_t peer_resp_inner_len;	/* decrypted inner payload bytes of the last one */

	/* ---- IKE SA ---- */
	uint8_t spi_i[8], spi_r[8];
	struct resp_suite ike, esp;
	struct crypto_dh *dh;
	uint8_t ni[IKEV2_NONCE_MAX], nr[IKEV2_NONCE_MAX];
	size_t ni_len, nr_len;
	uint8_t ke_r[CRYPTO_MAX_DH_PUB];
	size_t ke_r_len;
	uint8_t shared[CRYPTO_MAX_DH_SECRET];
	size_t shared_len;
	size_t prf_len, enc_len, integ_len;
	uint8_t sk_d[CRYPTO_MAX_PRF_LEN], sk_pi[CRYPTO_MAX_PRF_LEN], sk_pr[CRYPTO_MAX_PRF_LEN];
	uint8_t sk_ai[CRYPTO_MAX_KEY], sk_ar[CRYPTO_MAX_KEY];
	uint8_t sk_ei[CRYPTO_MAX_KEY], sk_er[CRYPTO_MAX_KEY];
	struct crypto_aead *aead_i;	/* opens the initiator's messages */
	struct crypto_aead *aead_r;	/* seals ours */
	uint8_t init_req[RESP_BUF];	/* RealMessage1 (the request we answered) */
	size_t init_req_len;
	uint8_t init_resp[RESP_BUF];	/* RealMessage2 */
	size_t init_resp_len;

	/* ---- CHILD SA (after IKE_AUTH) ---- */
	uint32_t child_spi_i;		/* the initiator's inbound SPI (from its SA proposal) */
	uint32_t child_spi_r;		/* ours */
	uint8_t keymat_ei[CRYPTO_MAX_KEY], keymat_ai[CRYPTO_MAX_KEY];	/* initiator -> responder */
	uint8_t keymat_er[CRYPTO_MAX_KEY], keymat_ar[CRYPTO_MAX_KEY];	/* responder -> initiator */
	size_t child_enc_len, child_integ_len;
	uint8_t idi_type;
	uint8_t idi[256];
	size_t idi_len;

	/* ---- message IDs and caches ---- */
	uint32_t next_req_msgid;	/* the initiator's next request we expect */
	int have_last;			/* last_resp answers request last_msgid */
	uint32_t last_msgid;
	uint8_t last_req[RESP_BUF];
	size_t last_req_len;
	struct resp_pkt last_resp;
	uint32_t my_msgid;		/* our next request's message ID */
	int my_req_pending;
	struct resp_pkt my_req;		/* our outstanding request (for resp_resend_request) */

	/* ---- rekeying ---- */
	int orig_init;			/* the responder is the current IKE SA's original initiator */
	struct resp_ikectx old;		/* the IKE SA before the last rekey, until deleted */
	int old_deleted;		/* the old IKE SA was deleted (by either side) */
	struct resp_ikectx alt;		/* IKE rekey collision: our rekey's new SA, made after kite's */
	int alt_deleted;
	int mobike;			/* MOBIKE_SUPPORTED in IKE_AUTH; COOKIE2 echoed (RFC 4555) */
	unsigned n_update_sa_rx;	/* UPDATE_SA_ADDRESSES requests answered */
	struct resp_child children[RESP_MAX_CHILDREN];
	/* answering kite's CREATE_CHILD_SA */
	uint16_t ccs_notify;		/* answer only this error notify (0: answer normally) */
	uint16_t ccs_notify_group;	/* its data for INVALID_KE_PAYLOAD */
	int ccs_refuse_pfs;		/* NO_PROPOSAL_CHOSEN when kite offers a DH group */
	int zero_nonce;			/* our nonces in CREATE_CHILD_SA are all zero (the lowest) */
	unsigned n_ccs_rx;		/* kite's CREATE_CHILD_SA requests answered */
	int ccs_was_ike;		/* the last one rekeyed the IKE SA */
	int ccs_has_rekey_sa;		/* ... carried REKEY_SA */
	uint32_t ccs_rekey_spi;		/* ... naming this SPI (kite's inbound) */
	uint16_t ccs_ke_group;		/* ... and a KE of this group (0: none) */
	uint16_t ccs_proposal_dh;	/* ... and the first DH group it proposed (0: none) */
	uint8_t ccs_ni[IKEV2_NONCE_MAX], ccs_nr[IKEV2_NONCE_MAX];	/* the nonces of that exchange */
	size_t ccs_ni_len, ccs_nr_len;
	/* our own CREATE_CHILD_SA */
	uint32_t rq_spi;		/* RESP_REQ_REKEY_CHILD / DELETE_CHILD: our inbound SPI */
	uint16_t rq_group;		/* PFS / KE group, 0: none */
	int rq_bad;			/* enum resp_bad */
	uint32_t rq_new_spi;		/* the SPI we proposed */
	uint8_t rq_spi8[8];
	uint8_t rq_ni[IKEV2_NONCE_LEN];
	struct crypto_dh *rq_dh;
	uint8_t rq_nr[IKEV2_NONCE_MAX];	/* kite's nonce in its answer */
	size_t rq_nr_len;
	uint16_t peer_resp_notify;	/* first error notify in kite's last response, 0 none */
	unsigned peer_resp_n_del;	/* ESP SPIs in its D payload */
	uint32_t peer_resp_del[8];
	uint32_t auth_lifetime;		/* > 0: AUTH_LIFETIME (RFC 4478) in the IKE_AUTH response */
	int auth_initial_contact;	/* the last IKE_AUTH request carried INITIAL_CONTACT */
	int auth_cp_has_addr;		/* ... and asked for this address in its CP request */
	uint8_t auth_cp_addr[4];
	unsigned n_auth;		/* IKE_AUTH requests answered */
	int my_req_kind;		/* enum resp_req of our outstanding request */
	int in_old;			/* working on r->old or r->alt (swapped in) */
	int routed_deleted;		/* ... and kite deleted it */
	uint8_t bld_cookie2[64];	/* INFORMATIONAL: COOKIE2 to echo */
	size_t bld_cookie2_len;
	uint8_t bld_inner[RESP_BUF];	/* a prepared inner chain for the response */
	size_t bld_inner_len;
	uint8_t bld_first;
	uint8_t bld_exch;
	uint32_t bld_del_spis[RESP_MAX_CHILDREN];	/* INFORMATIONAL: our SPIs in D(ESP) */
	unsigned bld_n_del;
	unsigned n_child_del_rx;	/* kite's D(ESP) requests */
	uint32_t child_del_rx[8];	/* the SPIs (kite's inbound) of the last one */
	unsigned n_child_del_rx_spis;

	/* what the response being built says (set before resp_answer) */
	uint32_t bld_msgid;
	int bld_auth_failed;		/* IKE_AUTH: N(AUTHENTICATION_FAILED) only */
	int bld_child_failed;		/* IKE_AUTH: IDr/AUTH then N(NO_PROPOSAL_CHOSEN), no CHILD SA */
	int bld_want_cp;		/* IKE_AUTH: CP reply */
	int bld_del_esp;		/* INFORMATIONAL: D(ESP) with our SPI */

	uint64_t rng;			/* splitmix64 state */
	uint8_t iv_ctr;
};

/* Defaults: PSK, identity gw.kite.test, addresses 198.51.100.1:500 / 198.51.100.10:500, seed. */
void resp_init(struct resp *r, const uint8_t *psk, size_t psk_len, uint64_t seed);
/* Frees the crypto contexts and wipes keys. */
void resp_free(struct resp *r);

/* One datagram from the initiator (non-ESP marker removed). r->out is reset first. */
enum resp_result resp_input(struct resp *r, const uint8_t *buf, size_t len);

/* Start one of our own requests (needs an established SA); it goes into r->out[0]. */
int resp_request(struct resp *r, enum resp_req what);

/* Make r->alt the current IKE SA (and the current one r->alt): the test decided
 * that kite lost an IKE rekey collision, so our rekey's SA survives. */
void resp_promote_alt(struct resp *r);

/* A CHILD SA by kite's inbound SPI or ours (NULL when none or deleted). */
struct resp_child *resp_child_by_i(struct resp *r, uint32_t spi_i);
struct resp_child *resp_child_by_r(struct resp *r, uint32_t spi_r);
/* The newest live CHILD SA, NULL when none. */
struct resp_child *resp_child_newest(struct resp *r);
unsigned resp_children_alive(const struct resp *r);
/* RFC 7296 2.8.1 order: memcmp over the shorter nonce, then length. */
int resp_nonce_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl);
/* Put our outstanding request into r->out again (a retransmission, bitwise identical). */
int resp_resend_request(struct resp *r);

/*
 * Parse and decrypt a message the initiator sent (with SK), for assertions:
 * buf is copied into scratch (cap bytes), m views point into scratch.
 * Returns 0, KITE_ERR_VERIFY (bad ICV) or KITE_ERR_PARSE.
 */
int resp_open(struct resp *r, const uint8_t *buf, size_t len, uint8_t *scratch, size_t cap,
	      struct ike_msg *m);

/*
 * Build an unprotected IKE_SA_INIT response that carries only N(type, data),
 * answering the request req (for spoofed errors). Returns the length, 0 on error.
 */
size_t resp_build_init_notify(struct resp *r, const uint8_t *req, size_t req_len,
			      uint16_t type, const uint8_t *data, size_t data_len,
			      uint8_t *out, size_t cap);

#endif
