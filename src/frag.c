/* frag: see frag.h. */
#include <stdlib.h>
#include <string.h>

#include "kite.h"
#include "ikev2.h"
#include "log.h"
#include "frag.h"

/* ---- sending ---- */

static size_t frag_size_or_default(size_t frag_size)
{
	return frag_size == 0 ? FRAG_DEFAULT_SIZE : frag_size;
}

int frag_needed(size_t msg_len, size_t net_overhead, size_t frag_size)
{
	frag_size = frag_size_or_default(frag_size);
	return net_overhead >= frag_size || msg_len > frag_size - net_overhead;
}

size_t frag_msg_len(size_t chunk_len, size_t iv_len, size_t icv_len, size_t block_len)
{
	size_t pt = chunk_len + 1;	/* Pad Length byte */

	if (block_len > 1)
		pt += (block_len - pt % block_len) % block_len;
	return IKEV2_HDR_LEN + FRAG_SKF_HDR_LEN + iv_len + pt + icv_len;
}

int frag_plan(struct frag_plan *p, size_t inner_len, size_t frag_size, size_t net_overhead,
	      size_t iv_len, size_t icv_len, size_t block_len)
{
	size_t fixed, avail, chunk, total;

	if (p == NULL)
		return KITE_ERR_INVAL;
	memset(p, 0, sizeof(*p));
	frag_size = frag_size_or_default(frag_size);
	if (block_len == 0)
		block_len = 1;
	fixed = net_overhead + IKEV2_HDR_LEN + FRAG_SKF_HDR_LEN + iv_len + icv_len;
	if (fixed >= frag_size || block_len > frag_size)
		return KITE_ERR_INVAL;
	/* chunk + 1 rounded up to block_len must fit: whole blocks, less the Pad Length */
	avail = (frag_size - fixed) / block_len * block_len;
	if (avail < 2)
		return KITE_ERR_INVAL;
	chunk = avail - 1;
	total = inner_len == 0 ? 1 : (inner_len + chunk - 1) / chunk;
	if (total > FRAG_MAX_TOTAL) {
		log_debug("%zu bytes need %zu fragments of %zu (max %d)", inner_len, total,
			  chunk, FRAG_MAX_TOTAL);
		return KITE_ERR_INVAL;
	}
	p->inner_len = inner_len;
	p->chunk = chunk;
	p->total = (unsigned)total;
	return 0;
}

int frag_chunk(const struct frag_plan *p, unsigned num, size_t *off, size_t *len)
{
	size_t o;

	if (p == NULL || off == NULL || len == NULL || num == 0 || num > p->total)
		return KITE_ERR_INVAL;
	o = (size_t)(num - 1) * p->chunk;
	*off = o;
	*len = p->inner_len - o < p->chunk ? p->inner_len - o : p->chunk;
	return 0;
}

int frag_set_add(struct frag_set *s, const uint8_t *pkt, size_t len)
{
	uint8_t *copy;

	if (s == NULL || pkt == NULL || len == 0 || s->n >= FRAG_MAX_TOTAL)
		return KITE_ERR_INVAL;
	if ((copy = malloc(len)) == NULL)
		return KITE_ERR_NOMEM;
	memcpy(copy, pkt, len);
	s->pkt[s->n] = copy;
	s->len[s->n] = len;
	s->n++;
	s->bytes += len;
	return 0;
}

void frag_set_clear(struct frag_set *s)
{
	unsigned i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		free(s->pkt[i]);
	memset(s, 0, sizeof(*s));
}

/* ---- receiving ---- */

void frag_init(struct frag_ctx *c, size_t max_bytes, uint64_t timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->max_bytes = max_bytes ? max_bytes : FRAG_MAX_BYTES;
	c->timeout_ms = timeout_ms ? timeout_ms : FRAG_TIMEOUT_MS;
}

/* Free what is held; keep limits, statistics and the completed Message ID. */
static void frag_drop(struct frag_ctx *c)
{
	unsigned i;

	for (i = 0; i < FRAG_MAX_TOTAL; i++) {
		free(c->frag[i]);
		c->frag[i] = NULL;
		c->len[i] = 0;
	}
	c->active = 0;
	c->msgid = 0;
	c->total = 0;
	c->have = 0;
	c->first_next = 0;
	c->bytes = 0;
	c->started = 0;
}

void frag_reset(struct frag_ctx *c)
{
	if (c == NULL)
		return;
	frag_drop(c);
	c->done_valid = 0;
	c->done_msgid = 0;
}

static void frag_start(struct frag_ctx *c, uint32_t msgid, uint16_t total, uint64_t now)
{
	frag_drop(c);
	c->active = 1;
	c->msgid = msgid;
	c->total = total;
	c->started = now;
}

enum frag_status frag_add(struct frag_ctx *c, uint32_t msgid, uint16_t num, uint16_t total,
			  uint8_t next_payload, const uint8_t *data, size_t len, uint64_t now,
			  uint8_t **out, size_t *out_len, uint8_t *first_next)
{
	uint8_t *copy, *buf;
	size_t off;
	unsigned i;

	if (out != NULL)
		*out = NULL;
	if (out_len != NULL)
		*out_len = 0;
	if (c == NULL || out == NULL || out_len == NULL || first_next == NULL ||
	    (data == NULL && len > 0))
		return FRAG_ERROR;
	/* RFC 7383 2.6; strongSwan frag_verify: checked before anything is kept */
	if (num == 0 || total == 0 || num > total || total > FRAG_MAX_TOTAL) {
		c->st.invalid++;
		return FRAG_ERROR;
	}
	if (c->done_valid && msgid == c->done_msgid && !(c->active && c->msgid == msgid)) {
		c->st.duplicate++;
		return FRAG_DUPLICATE;
	}
	if ((c->done_valid && msgid < c->done_msgid) || (c->active && msgid < c->msgid)) {
		c->st.stale++;
		return FRAG_ERROR;
	}
	if (!c->active || msgid != c->msgid) {
		if (c->active)
			c->st.restarted++;
		frag_start(c, msgid, total, now);
	} else if (total > c->total) {
		/* the sender re-fragmented with a smaller size (RFC 7383 2.6) */
		log_debug("message %u: total fragments %u -> %u, restarting", msgid,
			  c->total, total);
		c->st.restarted++;
		frag_start(c, msgid, total, now);
	} else if (total < c->total) {
		c->st.stale++;
		return FRAG_ERROR;
	}
	if (c->frag[num - 1] != NULL) {
		c->st.duplicate++;
		return FRAG_DUPLICATE;
	}
	if (len > c->max_bytes || c->bytes > c->max_bytes - len || len > UINT16_MAX) {
		log_debug("message %u: fragmented IKE message is too large (%zu + %zu > %zu)",
			  msgid, c->bytes, len, c->max_bytes);
		c->st.too_large++;
		frag_drop(c);
		return FRAG_ERROR;
	}
	if ((copy = malloc(len ? len : 1)) == NULL)
		return FRAG_ERROR;
	if (len)
		memcpy(copy, data, len);
	c->frag[num - 1] = copy;
	c->len[num - 1] = (uint16_t)len;
	c->bytes += len;
	c->have++;
	if (num == 1)
		c->first_next = next_payload;
	if (c->have < c->total)
		return FRAG_INCOMPLETE;

	if ((buf = malloc(c->bytes ? c->bytes : 1)) == NULL) {
		frag_drop(c);
		return FRAG_ERROR;
	}
	for (i = 0, off = 0; i < c->total; i++) {
		memcpy(buf + off, c->frag[i], c->len[i]);
		off += c->len[i];
	}
	*out = buf;
	*out_len = c->bytes;
	*first_next = c->first_next;
	c->done_valid = 1;
	c->done_msgid = msgid;
	c->st.done++;
	frag_drop(c);
	return FRAG_DONE;
}

int frag_expire(struct frag_ctx *c, uint64_t now)
{
	if (c == NULL || !c->active || now - c->started < c->timeout_ms || now < c->started)
		return 0;
	log_debug("message %u: %u of %u fragments after %llu ms, dropped", c->msgid, c->have,
		  c->total, (unsigned long long)(now - c->started));
	c->st.expired++;
	frag_drop(c);
	return 1;
}

uint64_t frag_deadline(const struct frag_ctx *c)
{
	if (c == NULL || !c->active)
		return 0;
	return c->started + c->timeout_ms;
}
