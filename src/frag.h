/*
 * frag: IKEv2 message fragmentation (RFC 7383), as pure bookkeeping: no I/O,
 * no crypto, no clock of its own (the caller passes `now` in milliseconds of
 * a monotonic clock, as everywhere in kite).
 *
 * Used only after both peers sent IKEV2_FRAGMENTATION_SUPPORTED in
 * IKE_SA_INIT (RFC 7383 2.3), and only for messages protected by SK (IKE_AUTH
 * and later; IKE_SA_INIT is never fragmented, 2.5).
 *
 * SENDING. A message whose datagram would exceed the fragment size (config
 * fragment_size, default 1280, counted as strongSwan does: the whole IP
 * datagram) is sent as `total` messages with the same header (SPIs, exchange,
 * flags, Message ID), each carrying one Encrypted Fragment payload (SKF, 53):
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Next Payload  |C|  RESERVED   |         Payload Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        Fragment Number        |        Total Fragments        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Initialization Vector                     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                      Encrypted content                        ~
 * +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |               |             Padding (0-255 octets)            |
 * +-+-+-+-+-+-+-+-+                               +-+-+-+-+-+-+-+-+
 * |                                               |  Pad Length   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                    Integrity Checksum Data                    ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *                    (RFC 7383 2.5)
 *
 * The plaintext inner payload chain (what would have gone into one SK
 * payload) is cut into consecutive chunks; fragment n (1-based) encrypts chunk
 * n exactly as an SK payload would (own IV, padding, ICV), with the AAD being
 * the IKE header plus the 8-byte SKF header (RFC 7383 2.5.3). Next Payload is
 * the first inner payload's type in fragment 1 and 0 in all others.
 *
 *   struct frag_plan p;
 *   if (fragmentation negotiated && frag_needed(msg_len, ovh, frag_size) &&
 *       frag_plan(&p, inner_len, frag_size, ovh, iv_len, icv_len, block_len) == 0)
 *       for (n = 1; n <= p.total; n++) {
 *           frag_chunk(&p, n, &off, &len);
 *           seal inner[off .. off+len) into SKF(n == 1 ? first : 0, n, p.total)
 *           frag_set_add(&req_frags, datagram, datagram_len);
 *       }
 *
 * Keep every fragment (frag_set) and retransmit all of them, in order,
 * whenever the request is retransmitted (RFC 7383 2.6.1); each retransmission
 * re-sends the same bytes (RFC 7296 2.1: bitwise identical).
 *
 * RECEIVING. The core authenticates and decrypts each SKF payload on its own
 * (a fragment with a bad ICV is dropped alone and leaves the reassembly
 * untouched, RFC 7383 2.6) and hands the plaintext, padding removed, to
 * frag_add(). Limits (reliability.md family G): at most FRAG_MAX_TOTAL
 * fragments, at most max_bytes of reassembled plaintext, at most timeout_ms
 * from the first fragment of a message to its last.
 */
#ifndef KITE_FRAG_H
#define KITE_FRAG_H

#include <stddef.h>
#include <stdint.h>

#include "ikev2.h"

#define FRAG_MAX_TOTAL		255	/* strongSwan MAX_FRAGMENTS */
#define FRAG_MAX_BYTES		IKEV2_MAX_MSG	/* reassembled inner chain cap */
#define FRAG_TIMEOUT_MS		30000	/* from the first fragment held */
#define FRAG_DEFAULT_SIZE	1280	/* whole IP datagram, as strongSwan's fragment_size */
#define FRAG_SKF_HDR_LEN	8	/* generic header + Fragment Number + Total */
/* Bytes in front of the IKE message in a datagram (net_overhead below). */
#define FRAG_IPV4_OVERHEAD	28	/* IPv4 20 + UDP 8 */
#define FRAG_IPV6_OVERHEAD	48	/* IPv6 40 + UDP 8 */
#define FRAG_NATT_MARKER	4	/* + non-ESP marker on port 4500 (RFC 3948 2.2) */

/* ---- sending ---- */

struct frag_plan {
	size_t inner_len;	/* plaintext inner chain being cut */
	size_t chunk;		/* plaintext bytes per fragment (the last may be shorter) */
	unsigned total;		/* number of fragments, 1..FRAG_MAX_TOTAL */
};

/*
 * 1 when an IKE message of msg_len bytes, sent in a datagram with
 * net_overhead bytes in front of it, would exceed frag_size. frag_size 0
 * means FRAG_DEFAULT_SIZE.
 */
int frag_needed(size_t msg_len, size_t net_overhead, size_t frag_size);

/*
 * Largest chunk such that IP/UDP (net_overhead) + IKE header + SKF header +
 * IV + chunk padded for block_len (Pad Length byte included) + ICV fits in
 * frag_size, and the number of fragments for inner_len bytes. block_len is 1
 * for AEAD (kite pads AEAD plaintext with the Pad Length byte only) or the
 * cipher's block (16). frag_size 0 means FRAG_DEFAULT_SIZE.
 * KITE_ERR_INVAL when not even one byte fits, or when more than
 * FRAG_MAX_TOTAL fragments would be needed; *p is zeroed then.
 */
int frag_plan(struct frag_plan *p, size_t inner_len, size_t frag_size, size_t net_overhead,
	      size_t iv_len, size_t icv_len, size_t block_len);

/* Chunk of fragment num (1..total): offset and length in the inner chain. */
int frag_chunk(const struct frag_plan *p, unsigned num, size_t *off, size_t *len);

/*
 * Length of the IKE message (header included, datagram overhead not) that
 * carries a chunk of chunk_len bytes: what frag_plan() keeps within frag_size.
 */
size_t frag_msg_len(size_t chunk_len, size_t iv_len, size_t icv_len, size_t block_len);

/*
 * The datagrams of one fragmented request, kept for retransmission (all of
 * them are sent again, in order, on every retransmission). A zeroed struct is
 * an empty set. Each datagram is copied.
 */
struct frag_set {
	unsigned n;
	size_t bytes;			/* sum of len[] */
	uint8_t *pkt[FRAG_MAX_TOTAL];
	size_t len[FRAG_MAX_TOTAL];
};

/* KITE_ERR_INVAL when full or len is 0, KITE_ERR_NOMEM. */
int frag_set_add(struct frag_set *s, const uint8_t *pkt, size_t len);
/* Frees every datagram; the set is empty and reusable. NULL-safe. */
void frag_set_clear(struct frag_set *s);

/* ---- receiving ---- */

enum frag_status {
	FRAG_INCOMPLETE = 0,	/* stored; more fragments needed */
	FRAG_DONE,		/* *out holds the whole inner chain */
	FRAG_DUPLICATE,		/* fragment already held (first copy wins), or a
				 * fragment of the message completed last: ignored */
	FRAG_ERROR,		/* dropped; see frag_ctx.st for which counter */
};

struct frag_stats {
	uint64_t done;		/* messages reassembled */
	uint64_t duplicate;	/* FRAG_DUPLICATE */
	uint64_t invalid;	/* number 0, total 0, number > total, total > 255 */
	uint64_t stale;		/* older Message ID, or Total Fragments shrank */
	uint64_t restarted;	/* reassembly restarted: newer Message ID, or total grew */
	uint64_t too_large;	/* sum of fragments over max_bytes: reassembly abandoned */
	uint64_t expired;	/* frag_expire() dropped a partial message */
};

/*
 * One reassembly at a time, for one direction of one IKE SA (use one context
 * for responses to kite's requests, another for the gateway's requests).
 * Message IDs only grow within a direction, so a fragment of a newer message
 * replaces an unfinished older one, and fragments of older messages are
 * stale. Embedded in its owner; no allocation until fragments arrive.
 */
struct frag_ctx {
	size_t max_bytes;
	uint64_t timeout_ms;
	int active;			/* a reassembly is in progress */
	uint32_t msgid;
	uint16_t total;
	uint16_t have;			/* fragments held */
	uint8_t first_next;		/* Next Payload of fragment 1 */
	size_t bytes;			/* plaintext held */
	uint64_t started;		/* now of the first fragment held */
	int done_valid;
	uint32_t done_msgid;		/* the message reassembled last */
	uint8_t *frag[FRAG_MAX_TOTAL];	/* by number - 1 */
	uint16_t len[FRAG_MAX_TOTAL];
	struct frag_stats st;
};

/* max_bytes 0: FRAG_MAX_BYTES; timeout_ms 0: FRAG_TIMEOUT_MS. */
void frag_init(struct frag_ctx *c, size_t max_bytes, uint64_t timeout_ms);

/*
 * Add one authenticated, decrypted fragment (padding removed): Message ID,
 * Fragment Number num, Total Fragments total and the SKF Next Payload
 * next_payload from its headers, len bytes of plaintext.
 *
 * Rules (RFC 7383 2.6; reliability.md 46-54):
 *   num 0, total 0, num > total, total > FRAG_MAX_TOTAL -> FRAG_ERROR, nothing
 *     allocated, the reassembly in progress untouched;
 *   Message ID older than the one in progress or the one completed last ->
 *     FRAG_ERROR (stale); the one completed last -> FRAG_DUPLICATE (a
 *     responder retransmits its response on fragment 1 of such a request,
 *     RFC 7383 2.6.1); newer -> the partial older one is dropped, restart;
 *   total larger than the one in progress -> restart with the new total (the
 *     sender re-fragmented, e.g. for a smaller PMTU); smaller -> FRAG_ERROR;
 *   a fragment number already held -> FRAG_DUPLICATE, the first copy stays;
 *   held bytes + len > max_bytes -> the whole reassembly is abandoned, FRAG_ERROR;
 *   next_payload is taken from fragment 1 only (RFC 7383 2.5: it is 0 in
 *     the others; a receiver must not rely on them).
 *
 * On FRAG_DONE: *out is a malloc'd buffer of *out_len bytes (the inner
 * payload chain in fragment order; owned by the caller, free() it; a
 * 1-byte buffer when the chain is empty) and *first_next the first inner
 * payload type, as for ikev2_pld_parse_inner(). Otherwise *out is NULL and
 * *out_len 0. out, out_len and first_next may not be NULL.
 */
enum frag_status frag_add(struct frag_ctx *c, uint32_t msgid, uint16_t num, uint16_t total,
			  uint8_t next_payload, const uint8_t *data, size_t len, uint64_t now,
			  uint8_t **out, size_t *out_len, uint8_t *first_next);

/*
 * Drop a partial reassembly whose first fragment is timeout_ms old or older.
 * Returns 1 when one was dropped. frag_deadline() says when that will be
 * (0: nothing in progress), for the owner's timer.
 */
int frag_expire(struct frag_ctx *c, uint64_t now);
uint64_t frag_deadline(const struct frag_ctx *c);

/* Frees the held fragments and forgets the completed Message ID; statistics
 * and limits stay. NULL-safe. */
void frag_reset(struct frag_ctx *c);

#endif
