/*
 * ike_sa_int.h: the IKE SA's inside, shared by the files of the protocol core
 * (ike_sa.c: IKE_SA_INIT, IKE_AUTH, INFORMATIONAL, the request queue;
 * ike_child.c: CREATE_CHILD_SA, rekeying and CHILD SA bookkeeping; mobike.c).
 * Nothing outside the core includes it.
 *
 * Requests: one outstanding at a time (RFC 7296 2.3, window 1). Work that needs
 * a request is queued as a task bit; when the outstanding request is answered
 * (or none is), the highest-priority queued task builds sa->req and sends it
 * with ike_req_send(); its answer is handed to that task's response function.
 */
#ifndef KITE_IKE_SA_INT_H
#define KITE_IKE_SA_INT_H

#include <stdarg.h>

#include "crypto.h"
#include "ike_sa.h"
#include "ikev2.h"
#include "ikev2_enc.h"
#include "ikev2_pld.h"
#include "frag.h"

#define IKE_MAX_INIT_RETRIES	5	/* COOKIE + INVALID_KE rounds (strongSwan MAX_RETRIES) */
#define IKE_BUF			(IKEV2_MAX_MSG + 64)
#define IKE_MAX_BACKOFF_MS	(60u * 1000u)
#define IKE_MAX_CHILDREN	8	/* old + new + a collision's redundant one, with room */
#define IKE_MAX_ZOMBIES		3	/* old IKE SAs kept only to finish their DELETE (ike_child.c) */

/* Queued work, highest priority first. */
enum ike_task {
	IKE_TASK_DELETE = 1u << 0,	/* DELETE of the IKE SA */
	IKE_TASK_IKE_REKEY = 1u << 1,
	IKE_TASK_CHILD_REKEY = 1u << 2,
	IKE_TASK_MOBIKE = 1u << 3,	/* UPDATE_SA_ADDRESSES */
	IKE_TASK_DPD = 1u << 4,		/* liveness check */
};

enum ike_child_state {
	IKE_CHILD_NONE = 0,
	IKE_CHILD_INSTALLED,		/* in use */
	IKE_CHILD_REKEYING,		/* being replaced; inbound still accepted */
	IKE_CHILD_DELETING,		/* replaced; waiting for its DELETE to be answered */
	IKE_CHILD_REPLACED,		/* replaced by the gateway's rekey (or it won a collision):
					 * the gateway deletes it; inbound still accepted */
};

/* A CHILD SA as the core tracks it (no keys: those went to the data plane). */
struct ike_child {
	enum ike_child_state state;
	uint32_t spi_in, spi_out;
	uint16_t encr, encr_bits, integ, dh;
	int esn;
	uint64_t created;		/* ms */
	uint64_t rekey_at;		/* ms, 0 = never */
	/* rekeying (ike_child.c) */
	uint64_t expire_at;		/* hard lifetime, ms (0 = never) */
	uint64_t wait_until;		/* REPLACED: delete it ourselves after this */
	int installed;			/* handed to the data plane (child_up) */
	int rekey_due;			/* soft lifetime passed: a rekey is queued */
	int del_sent;			/* DELETING: our DELETE is outstanding */
};

/*
 * A negotiated IKE SA key set not (yet) in struct ike_sa: the result of an IKE
 * SA rekey (RFC 7296 2.18) before it is swapped in, or a redundant one from a
 * rekey collision (2.8.2). Owned by ike_child.c.
 */
struct ike_keys {
	int valid;
	uint8_t spi_i[8], spi_r[8];	/* original initiator / responder of the new SA */
	int orig_resp;			/* kite is the new SA's original responder */
	uint16_t encr, encr_bits, prf, integ, dh;
	size_t prf_len;
	uint8_t sk_d[CRYPTO_MAX_PRF_LEN], sk_pi[CRYPTO_MAX_PRF_LEN], sk_pr[CRYPTO_MAX_PRF_LEN];
	struct crypto_aead *in, *out;
	uint8_t lo_nonce[IKEV2_NONCE_MAX];	/* the lower nonce of its exchange (2.8.1) */
	size_t lo_len;
	uint32_t msgid;			/* the gateway's request that made it (responder) */
};

/* Rekeying, reauthentication and CHILD SA work (ike_child.c); zeroed with the SA. */
struct ike_rekey_state {
	/* our outstanding CREATE_CHILD_SA / INFORMATIONAL for CHILD SAs (IKE_TASK_CHILD_REKEY) */
	int child_op;			/* enum child_op in ike_child.c */
	uint32_t child_old;		/* spi_in of the CHILD SA being rekeyed (0: create) */
	uint32_t child_new;		/* our inbound SPI for the new one */
	struct crypto_dh *child_dh;	/* PFS key exchange, NULL without */
	uint8_t child_ni[IKEV2_NONCE_LEN];
	unsigned child_tries;		/* INVALID_KE_PAYLOAD / PFS fallback rounds */
	int no_pfs;			/* the gateway refused PFS: rekey without a KE */
	int need_create;		/* no CHILD SA left: create one */
	uint64_t create_at;		/* not before (after a refusal) */
	/* the gateway's rekey of the CHILD SA we were rekeying, answered meanwhile (2.8.1) */
	uint32_t coll_old, coll_new;
	uint8_t coll_nonce[IKEV2_NONCE_MAX];
	size_t coll_nonce_len;
	/* our IKE SA rekey (IKE_TASK_IKE_REKEY) */
	int ike_op;			/* enum ike_op in ike_child.c */
	uint8_t ike_spi[8];		/* our SPI for the new IKE SA */
	struct crypto_dh *ike_dh;
	uint8_t ike_ni[IKEV2_NONCE_LEN];
	unsigned ike_tries;
	int ike_due, reauth_due;
	uint64_t ike_created;		/* keys of the current IKE SA made */
	uint64_t ike_rekey_at, ike_expire_at;
	uint64_t reauth_at;		/* AUTH_LIFETIME (RFC 4478) minus a margin; 0 = none */
	uint64_t auth_expire_at;	/* the gateway's AUTH_LIFETIME itself */
	/* the gateway's IKE rekey, answered, swapped in after the answer went out */
	struct ike_keys peer_ike;
	/* a fresh IKE SA reauthenticating this one (make-before-break), and old IKE SAs */
	struct ike_sa *succ;
	int succ_up;			/* its CHILD SA is installed: promote it */
	uint64_t reauth_retry_at;
	struct ike_sa *zombie[IKE_MAX_ZOMBIES];
	uint64_t zombie_deadline[IKE_MAX_ZOMBIES];	/* the gateway should have deleted it by then */
	/* for kite status */
	uint32_t child_rekeys, ike_rekeys, reauths, collisions;
};

struct ike_sa {
	struct ike_params p;
	uint8_t *psk;
	const struct ike_ops *ops;
	void *ctx;

	enum ike_state state;
	enum ike_fail fail;
	char reason[256];

	uint8_t spi_i[8], spi_r[8];

	/* IKE_SA_INIT */
	struct crypto_dh *dh;
	uint16_t dh_group;
	uint8_t ni[IKEV2_NONCE_LEN];
	uint8_t nr[IKEV2_NONCE_MAX];
	size_t nr_len;
	uint8_t cookie[IKEV2_COOKIE_MAX];
	size_t cookie_len;
	unsigned init_retries;
	int natd_sent;

	/* negotiated */
	uint16_t encr, encr_bits, prf, integ;
	size_t prf_len;
	uint8_t sk_d[CRYPTO_MAX_PRF_LEN], sk_pi[CRYPTO_MAX_PRF_LEN], sk_pr[CRYPTO_MAX_PRF_LEN];
	struct crypto_aead *sk_out, *sk_in;
	uint64_t iv_ctr;
	char proposal[128];
	int natt, nat_local, nat_remote, peer_mobike;

	/* RealMessage1 / RealMessage2 for AUTH (RFC 7296 2.15) */
	uint8_t *msg1;
	size_t msg1_len;
	uint8_t *msg2;
	size_t msg2_len;

	/* our outstanding request (window 1) */
	uint8_t req[IKE_BUF];
	size_t req_len;
	int req_active;
	int req_natt;
	uint8_t req_exch;
	uint32_t req_msgid;
	unsigned req_tries;
	uint64_t req_deadline;
	uint64_t req_first;		/* first sent */
	uint64_t last_rx;		/* last authenticated message from the gateway */
	uint32_t msgid_next;
	/* an unauthenticated error notify seen while waiting (RFC 7296 2.21.1) */
	int pending_fail;		/* unauthenticated error answers seen for this request */
	enum ike_fail pending_code;
	char pending_reason[200];

	/* requests from the gateway */
	uint32_t peer_msgid_next;
	uint8_t resp[IKE_BUF];
	size_t resp_len;
	int resp_valid;
	int resp_natt;

	/* CHILD SAs (ike_child.c) */
	uint32_t child_spi_in;
	struct child_sa child;		/* the first CHILD SA as negotiated in IKE_AUTH */
	struct ike_child children[IKE_MAX_CHILDREN];
	struct ike_cfg_result cfg;

	/* IKE fragmentation (RFC 7383) */
	int frag_ok;			/* both sides sent IKEV2_FRAGMENTATION_SUPPORTED */
	struct frag_set req_frags;	/* our outstanding request as fragments (n = 0: not fragmented) */
	struct frag_ctx frag_rx;	/* reassembly of the gateway's messages */
	uint8_t *frag_whole;		/* the last reassembled inner chain (owned) */
	uint64_t now;			/* time of the datagram being processed */

	/* IKE_AUTH with EAP and a certificate-authenticated gateway */
	struct eap *eap;
	int gw_verified;
	int eap_done;
	int msk_is_skp;
	uint8_t msk[64];
	size_t msk_len;
	uint8_t idi_body[4 + 256], idr_body[4 + 256];
	size_t idi_body_len, idr_body_len;
	uint8_t idr_type;

	/* MOBIKE (mobike.c) */
	int mobike_dirty;		/* addresses changed since the last UPDATE_SA_ADDRESSES was built */
	uint8_t cookie2[16];		/* RFC 4555 3.9: return routability of the update */
	uint64_t mobike_updates;
	struct sockaddr_storage peer_addrs[8];	/* the gateway's ADDITIONAL_IP4/6_ADDRESS list */
	unsigned n_peer_addrs;
	struct sockaddr_storage my_addrs[8];	/* our other addresses, announced with mobike_announce */
	unsigned n_my_addrs;
	uint8_t natd_seen[20];		/* NAT_DETECTION_SOURCE_IP last seen from the gateway */
	int natd_seen_valid;

	/* rekeying (ike_child.c) */
	int orig_resp;			/* kite is the original responder (the gateway rekeyed the
					 * IKE SA, RFC 7296 2.18): flags and key roles swap */
	int reauth;			/* this SA reauthenticates an older one (RFC 4478): no
					 * INITIAL_CONTACT, asks for the same virtual IP */
	struct ike_rekey_state rk;

	/* queued work, one request at a time (enum ike_task bits) */
	unsigned tasks;
	unsigned task_active;		/* the task whose request is outstanding, 0 for none */

	struct ike_stats st;
	uint64_t t_start;		/* IKE_SA_INIT first sent */
	uint64_t t_established;
	uint8_t rx[IKE_BUF];
	uint8_t work[IKE_BUF];
};

/* ---- shared helpers (ike_sa.c) ---- */
void ike_fail(struct ike_sa *sa, enum ike_fail why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ike_set_state(struct ike_sa *sa, enum ike_state st, const char *reason);
int ike_send_raw(struct ike_sa *sa, const uint8_t *buf, size_t len, int natt);
/* Send sa->req (req_len, req_exch, req_msgid, req_natt set) and arm its retransmission. */
int ike_req_send(struct ike_sa *sa, uint64_t now);
/*
 * Build an encrypted message into out: header + SK{inner}; first is the inner
 * chain's first payload type. For a request, msgid is sa->msgid_next (the caller
 * then increments it); for a response, the request's.
 */
int ike_seal_msg(struct ike_sa *sa, uint8_t exch, int response, uint32_t msgid, uint8_t first,
		 const uint8_t *inner, size_t inner_len, uint8_t *out, size_t cap, size_t *out_len);
/* (Re)send the outstanding request: one datagram, or all its fragments together. */
int ike_req_xmit(struct ike_sa *sa);
/* Build sa->req as an encrypted request of exchange exch from the inner chain in e; takes a message ID. */
int ike_req_build(struct ike_sa *sa, uint8_t exch, const struct ike_enc *e);
int natd_hash(const uint8_t spi_i[8], const uint8_t spi_r[8], const struct sockaddr_storage *ss,
	      uint8_t out[20]);
size_t build_esp_proposals(const struct ike_sa *sa, struct ike_proposal *pr, size_t max);
const char *ike_dh_str(uint16_t dh);

struct chosen {
	uint16_t encr, encr_bits, prf, integ, dh, esn;
	int has_prf, has_integ, has_dh, has_esn;
	uint8_t spi[8];
	uint8_t spi_size;
};
/*
 * Check the gateway's single chosen proposal against ours (downgrade guard):
 * spi_size is what the exchange carries (0 in IKE_SA_INIT, 8 for an IKE rekey,
 * 4 for ESP); a non-empty SPI must not be zero.
 */
int check_chosen(const struct ike_view sa_pld, const struct ike_proposal *ours, size_t n_ours,
		 uint8_t proto, uint8_t spi_size, struct chosen *c, char *why, size_t whylen);

/* Queue a task; starts it at once when no request is outstanding. */
void ike_task_queue(struct ike_sa *sa, unsigned task, uint64_t now);

/* ---- mobike.c ---- */
/* Record MOBIKE facts from the IKE_AUTH response (additional addresses). */
void mobike_auth_response(struct ike_sa *sa, const struct ike_msg *m);
int mobike_task_start(struct ike_sa *sa, uint64_t now);
void mobike_task_response(struct ike_sa *sa, const struct ike_msg *m, uint64_t now);
/* NAT-D notifies for a liveness check (RFC 4555 3.8); and checking the answer's. */
void mobike_add_natd(struct ike_sa *sa, struct ike_enc *e);
/* ADDITIONAL_IP4/6_ADDRESS list, or NO_ADDITIONAL_ADDRESSES (RFC 4555 3.6). */
void mobike_add_addrs(struct ike_sa *sa, struct ike_enc *e);
void mobike_check_natd(struct ike_sa *sa, const struct ike_msg *m, uint64_t now);

/* ---- ike_child.c ---- */
/* Record the first CHILD SA (from IKE_AUTH). */
void ike_child_added(struct ike_sa *sa, const struct child_sa *c, uint64_t now);
/* The gateway's CREATE_CHILD_SA request: add the answer's payloads to e. */
void ike_child_handle_request(struct ike_sa *sa, const struct ike_msg *m, struct ike_enc *e, uint64_t now);
/* ESP deletes in the gateway's INFORMATIONAL request: add our answering D payload to e. */
void ike_child_handle_delete(struct ike_sa *sa, const struct ike_msg *m, struct ike_enc *e, uint64_t now);
/* Start a queued rekey task (CHILD or IKE): build and send sa->req. Returns 0 or an error. */
int ike_child_task_start(struct ike_sa *sa, unsigned task, uint64_t now);
/* The answer to a rekey task's request. */
void ike_child_task_response(struct ike_sa *sa, unsigned task, const struct ike_msg *m, uint64_t now);
/* Timers (rekey deadlines): next deadline and expiry handling. */
uint64_t ike_child_next_timeout(const struct ike_sa *sa);
void ike_child_timeout(struct ike_sa *sa, uint64_t now);
/*
 * Hooks in ike_sa.c for rekeying and reauthentication:
 * ike_child_divert: first thing in ike_input; a datagram for an old IKE SA
 *   (being deleted) or for the reauthenticating successor is handled here: 1.
 * ike_child_request_done: after every answered request from the gateway (the
 *   gateway's IKE SA rekey takes effect once its answer went out under the old keys).
 * ike_child_auth_done: the IKE_AUTH response verified (AUTH_LIFETIME, RFC 4478).
 * ike_child_free: from ike_sa_free (old IKE SAs, successor, DH contexts).
 */
int ike_child_divert(struct ike_sa *sa, const uint8_t *buf, size_t len, int natt, uint64_t now);
void ike_child_request_done(struct ike_sa *sa, uint64_t now);
void ike_child_auth_done(struct ike_sa *sa, const struct ike_msg *m, uint64_t now);
void ike_child_free(struct ike_sa *sa);

#endif
