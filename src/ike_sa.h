/*
 * ike_sa: the IKEv2 initiator protocol core (RFC 7296). It does no I/O: it is
 * fed datagrams (ike_input), timer expiries (ike_timeout) and commands
 * (ike_start, ike_delete) with the current time, and acts through the
 * callbacks in struct ike_ops (send bytes, report state, install a CHILD SA).
 * Then every exchange can be driven by a scripted responder and a fake clock.
 *
 * Time is in milliseconds on a monotonic clock chosen by the caller.
 * One request is outstanding at a time (window size 1, RFC 7296 2.3).
 */
#ifndef KITE_IKE_SA_H
#define KITE_IKE_SA_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "ikev2_pld.h"

enum ike_state {
	IKE_STATE_IDLE = 0,
	IKE_STATE_INIT_SENT,		/* IKE_SA_INIT request outstanding */
	IKE_STATE_AUTH_SENT,		/* IKE_AUTH request outstanding */
	IKE_STATE_ESTABLISHED,
	IKE_STATE_DELETING,		/* our DELETE outstanding */
	IKE_STATE_DOWN,			/* final: closed or failed (see ike_sa.fail_reason) */
};

/* Why an SA went down (for the exit code and the one-line message). */
enum ike_fail {
	IKE_FAIL_NONE = 0,
	IKE_FAIL_TIMEOUT,		/* no response within the retransmit budget */
	IKE_FAIL_PROPOSAL,		/* no proposal chosen (either side) */
	IKE_FAIL_AUTH_LOCAL,		/* the gateway rejected our authentication */
	IKE_FAIL_AUTH_PEER,		/* the gateway failed to authenticate itself */
	IKE_FAIL_PROTOCOL,		/* malformed/unexpected authenticated message */
	IKE_FAIL_CHILD,			/* IKE SA up but the CHILD SA was refused */
	IKE_FAIL_DELETED,		/* the gateway deleted the IKE SA */
	IKE_FAIL_INTERNAL,
};

#define IKE_MAX_DNS	4

/* The negotiated CHILD SA, handed to the data plane. Keys are wiped after child_up returns. */
struct child_sa {
	uint32_t spi_in;		/* our inbound SPI (host order) */
	uint32_t spi_out;		/* the gateway's SPI */
	uint16_t encr, encr_bits, integ, dh;
	int esn;
	uint8_t enc_in[64], enc_out[64];	/* enc key (+salt for AEAD) */
	uint8_t integ_in[64], integ_out[64];
	size_t enc_len, integ_len;
	struct ike_ts tsi[IKE_MAX_TS], tsr[IKE_MAX_TS];
	size_t n_tsi, n_tsr;
	/*
	 * (rekeying) 1 when kite answered the gateway's rekey: install inbound now,
	 * but keep outbound traffic on the SA it replaces until that one is removed
	 * (the gateway installs its inbound side only once it has kite's answer).
	 */
	int out_later;
};

/* Configuration payload results. */
struct ike_cfg_result {
	int has_vip4, has_vip6;
	uint8_t vip4[4];
	uint8_t vip6[16];
	uint8_t vip6_prefix;
	uint8_t dns4[IKE_MAX_DNS][4];
	unsigned n_dns4;
	uint8_t dns6[IKE_MAX_DNS][16];
	unsigned n_dns6;
	char domains[256];		/* INTERNAL_DNS_DOMAIN, space separated, sanitised */
};

struct ike_sa;

struct ike_ops {
	/* Send a datagram to the gateway; natt: to port 4500 with the non-ESP marker prepended by the caller. */
	int (*send)(void *ctx, const uint8_t *buf, size_t len, int natt);
	/* State change; reason is a one-line human explanation (failures). */
	void (*state)(void *ctx, struct ike_sa *sa, enum ike_state st, const char *reason);
	/*
	 * A CHILD SA negotiated (IKE_AUTH: cfg set; a rekey: cfg NULL); return 0 when
	 * installed. Outbound traffic moves to the newest installed CHILD SA.
	 */
	int (*child_up)(void *ctx, struct ike_sa *sa, const struct child_sa *c,
			const struct ike_cfg_result *cfg);
	/* Remove the CHILD SA with this inbound SPI (rekeyed or deleted). May be NULL. */
	void (*child_down)(void *ctx, struct ike_sa *sa, uint32_t spi_in);
};

/* What the core needs from the profile and the environment. */
struct x509_store;
struct x509_key;
struct x509_cert;

struct ike_params {
	const struct kite_profile *prof;
	const uint8_t *psk;		/* the secret: PSK bytes (auth = psk) or the EAP password (auth = eap) */
	size_t psk_len;
	const struct x509_store *ca;	/* trust anchors for the gateway's certificate (auth = eap/cert) */
	const struct x509_key *my_key;	/* auth = cert: our key, certificate and intermediates */
	struct x509_cert *const *my_certs;
	size_t n_my_certs;
	int start_natt;			/* send IKE_SA_INIT to port 4500 (a probe next to an SA that floated) */
	struct sockaddr_storage local;	/* local address and port as the gateway sees it sent */
	struct sockaddr_storage remote;	/* gateway address and port (500) */
	uint8_t id_type;		/* our IDi type and data (built by the caller from local_id) */
	uint8_t id[256];
	size_t id_len;
	uint8_t rid_type;		/* expected IDr (0: not checked) */
	uint8_t rid[256];
	size_t rid_len;
};

struct ike_stats {
	uint64_t rx_dropped;		/* malformed, unexpected or unauthenticated input */
	uint64_t rx_bad_icv;
	uint64_t retransmits;
	uint64_t rx_msgs, tx_msgs;
};

/* Create an SA for one connection attempt; NULL on allocation failure. Copies params (psk too). */
struct ike_sa *ike_sa_new(const struct ike_params *p, const struct ike_ops *ops, void *ctx);
/* Wipes keys, cancels timers (there are no others than ike_next_timeout). NULL-safe. */
void ike_sa_free(struct ike_sa *sa);

/* Send IKE_SA_INIT. */
int ike_start(struct ike_sa *sa, uint64_t now);
/* A datagram from the gateway (non-ESP marker already removed). natt: it came on 4500. */
void ike_input(struct ike_sa *sa, const uint8_t *buf, size_t len, int natt, uint64_t now);
/* Call when now >= ike_next_timeout(). */
void ike_timeout(struct ike_sa *sa, uint64_t now);
/* Next deadline, or UINT64_MAX for none. */
uint64_t ike_next_timeout(const struct ike_sa *sa);
/* Close: send an INFORMATIONAL DELETE for the IKE SA (or go down at once if not established). */
int ike_delete(struct ike_sa *sa, uint64_t now);

/* Queue a liveness check (an empty INFORMATIONAL); no answer within the budget -> DOWN, IKE_FAIL_TIMEOUT. */
int ike_dpd(struct ike_sa *sa, uint64_t now);

/*
 * The path changed (RFC 4555 3.5): the caller has already moved its socket to
 * the new local address (and the data plane's SAs). The core updates the IKE
 * SA's addresses, retransmits an outstanding request on the new path at once,
 * and queues an INFORMATIONAL with UPDATE_SA_ADDRESSES, NAT-D and COOKIE2;
 * a newer change before its answer makes another update follow.
 * KITE_ERR_UNSUPPORTED when the gateway did not negotiate MOBIKE (reconnect).
 */
int ike_mobike_update(struct ike_sa *sa, const struct sockaddr_storage *local,
		      const struct sockaddr_storage *remote, uint64_t now);
/* The path came back after an outage (same addresses): retransmit an outstanding request now. */
void ike_path_resumed(struct ike_sa *sa, uint64_t now);
/* 1 when a liveness check is outstanding and has gone unanswered at least once. */
int ike_sa_dpd_unanswered(const struct ike_sa *sa);
/* Time of the last authenticated message from the gateway (0: none yet). */
uint64_t ike_sa_last_rx(const struct ike_sa *sa);
/*
 * kite's other local addresses, announced to the gateway as ADDITIONAL_IP4/6_ADDRESS
 * (RFC 4555 3.4, 3.6) only when the profile sets mobike_announce = yes.
 */
void ike_mobike_set_addrs(struct ike_sa *sa, const struct sockaddr_storage *addrs, unsigned n);
/* 1 when MOBIKE was negotiated. */
int ike_sa_mobike(const struct ike_sa *sa);
uint64_t ike_sa_mobike_updates(const struct ike_sa *sa);
/* 1 while an UPDATE_SA_ADDRESSES is outstanding or queued. */
int ike_sa_roaming(const struct ike_sa *sa);
/* The gateway's additional addresses (RFC 4555 3.4); returns the count. */
unsigned ike_sa_peer_addrs(const struct ike_sa *sa, struct sockaddr_storage *out, unsigned max);

/*
 * (rekeying, ike_child.c) The data plane reports that the CHILD SA with this
 * inbound SPI reached its soft (rekey now) or hard (stop using it) volume
 * limit: bytes, packets, or ESP sequence numbers (RFC 4303 3.3.3).
 */
void ike_child_expire(struct ike_sa *sa, uint32_t spi_in, int hard, uint64_t now);

/* (rekeying, ike_child.c) Ages and rekey times for `kite status`; all in ms. */
struct ike_sa_lifetimes {
	uint64_t ike_age;		/* since the current IKE SA keys were made */
	int64_t ike_rekey_in;		/* until the next IKE rekey or reauthentication; -1 none */
	uint32_t ike_rekeys;		/* IKE SA rekeys, either side */
	uint32_t reauths;		/* reauthentications (RFC 4478) completed */
	uint64_t child_age;		/* of the newest CHILD SA */
	int64_t child_rekey_in;		/* -1 none */
	uint32_t child_rekeys;		/* CHILD SA rekeys, either side */
	uint32_t collisions;		/* rekey collisions resolved (RFC 7296 2.8.1) */
};
void ike_sa_lifetimes(const struct ike_sa *sa, uint64_t now, struct ike_sa_lifetimes *out);

enum ike_state ike_sa_state(const struct ike_sa *sa);
enum ike_fail ike_sa_fail(const struct ike_sa *sa);
/* One line explaining why the SA went down ("" while it is up). */
const char *ike_sa_reason(const struct ike_sa *sa);
const char *ike_state_name(enum ike_state st);
const struct ike_stats *ike_sa_stats(const struct ike_sa *sa);
/* SPIs as wire bytes, and the negotiated proposal like "AES_GCM_16_256/PRF_HMAC_SHA2_384/CURVE_25519". */
void ike_sa_spis(const struct ike_sa *sa, uint8_t spi_i[8], uint8_t spi_r[8]);
const char *ike_sa_proposal(const struct ike_sa *sa);
/* 1 if NAT-D showed a NAT in front of us / in front of the gateway. */
int ike_sa_nat_local(const struct ike_sa *sa);
int ike_sa_nat_remote(const struct ike_sa *sa);
/* Current destination: 1 when messages go to port 4500 with the non-ESP marker. */
int ike_sa_natt(const struct ike_sa *sa);

/*
 * Build an IKEv2 identity from a config string: "@fqdn" or plain host names ->
 * FQDN, "user@domain" -> RFC822_ADDR, IPv4/IPv6 literals -> IPV4/6_ADDR,
 * "keyid:<hex>" or "@#<hex>" -> KEY_ID. Returns 0 or KITE_ERR_INVAL.
 */
int ike_id_parse(const char *s, uint8_t *type, uint8_t *out, size_t *len, size_t cap);
/* Render an identity for logs ("rw@kite.test", "198.51.100.1", "keyid:0a0b"). */
const char *ike_id_str(uint8_t type, const uint8_t *data, size_t len, char *buf, size_t buflen);

#endif
