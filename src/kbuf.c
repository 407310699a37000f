/* kbuf: bounded reader/writer cursors; see kbuf.h for the contract. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kbuf.h"

/*
 * Reader. Every check is "n > left" with left = len - off (off <= len always
 * holds), so no addition can overflow (OpenSSH sshbuf-getput-basic.c style).
 */

static int kbuf_need(const struct kbuf *b, size_t n)
{
	return n > kbuf_left(b) ? -1 : 0;
}

int kbuf_get_u8(struct kbuf *b, uint8_t *out)
{
	if (kbuf_need(b, 1) != 0)
		return -1;
	*out = b->p[b->off];
	b->off += 1;
	return 0;
}

int kbuf_get_u16(struct kbuf *b, uint16_t *out)
{
	const uint8_t *q;

	if (kbuf_need(b, 2) != 0)
		return -1;
	q = b->p + b->off;
	*out = (uint16_t)((unsigned)q[0] << 8 | q[1]);
	b->off += 2;
	return 0;
}

int kbuf_get_u32(struct kbuf *b, uint32_t *out)
{
	const uint8_t *q;

	if (kbuf_need(b, 4) != 0)
		return -1;
	q = b->p + b->off;
	*out = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 |
	    (uint32_t)q[2] << 8 | (uint32_t)q[3];
	b->off += 4;
	return 0;
}

int kbuf_get_u64(struct kbuf *b, uint64_t *out)
{
	const uint8_t *q;
	uint64_t v = 0;
	int i;

	if (kbuf_need(b, 8) != 0)
		return -1;
	q = b->p + b->off;
	for (i = 0; i < 8; i++)
		v = v << 8 | q[i];
	*out = v;
	b->off += 8;
	return 0;
}

int kbuf_get_bytes(struct kbuf *b, void *out, size_t n)
{
	if (kbuf_need(b, n) != 0)
		return -1;
	/* memcpy(NULL, NULL, 0) is undefined; a zero-length read is a no-op. */
	if (n == 0)
		return 0;
	memcpy(out, b->p + b->off, n);
	b->off += n;
	return 0;
}

int kbuf_get_view(struct kbuf *b, const uint8_t **out, size_t n)
{
	if (kbuf_need(b, n) != 0)
		return -1;
	/* Never form NULL + 0: an empty cursor yields a NULL view. */
	*out = b->p != NULL ? b->p + b->off : NULL;
	b->off += n;
	return 0;
}

int kbuf_get_sub(struct kbuf *b, struct kbuf *sub, size_t n)
{
	const uint8_t *v;

	if (kbuf_get_view(b, &v, n) != 0)
		return -1;
	sub->p = v;
	sub->len = v != NULL ? n : 0;
	sub->off = 0;
	return 0;
}

int kbuf_skip(struct kbuf *b, size_t n)
{
	if (kbuf_need(b, n) != 0)
		return -1;
	b->off += n;
	return 0;
}

int kbuf_peek_u8(const struct kbuf *b, uint8_t *out)
{
	if (kbuf_need(b, 1) != 0)
		return -1;
	*out = b->p[b->off];
	return 0;
}

/*
 * Writer. A write that does not fit sets the sticky error and writes nothing;
 * once the error is set every write and patch is ignored.
 */

static int wbuf_room(struct wbuf *w, size_t n)
{
	if (w->err)
		return -1;
	if (n > w->cap - w->len) {
		w->err = 1;
		return -1;
	}
	return 0;
}

void wbuf_put_u8(struct wbuf *w, uint8_t v)
{
	if (wbuf_room(w, 1) != 0)
		return;
	w->p[w->len++] = v;
}

void wbuf_put_u16(struct wbuf *w, uint16_t v)
{
	if (wbuf_room(w, 2) != 0)
		return;
	w->p[w->len++] = (uint8_t)(v >> 8);
	w->p[w->len++] = (uint8_t)v;
}

void wbuf_put_u32(struct wbuf *w, uint32_t v)
{
	int i;

	if (wbuf_room(w, 4) != 0)
		return;
	for (i = 3; i >= 0; i--)
		w->p[w->len++] = (uint8_t)(v >> (8 * i));
}

void wbuf_put_u64(struct wbuf *w, uint64_t v)
{
	int i;

	if (wbuf_room(w, 8) != 0)
		return;
	for (i = 7; i >= 0; i--)
		w->p[w->len++] = (uint8_t)(v >> (8 * i));
}

void wbuf_put_bytes(struct wbuf *w, const void *p, size_t n)
{
	if (wbuf_room(w, n) != 0 || n == 0)
		return;
	memcpy(w->p + w->len, p, n);
	w->len += n;
}

void wbuf_put_zero(struct wbuf *w, size_t n)
{
	if (wbuf_room(w, n) != 0 || n == 0)
		return;
	memset(w->p + w->len, 0, n);
	w->len += n;
}

size_t wbuf_reserve(struct wbuf *w, size_t n)
{
	size_t off;

	if (wbuf_room(w, n) != 0)
		return (size_t)-1;
	off = w->len;
	if (n != 0)
		memset(w->p + off, 0, n);
	w->len += n;
	return off;
}

/* Patches may only touch bytes already written: [0, len). */
static int wbuf_patch_ok(struct wbuf *w, size_t off, size_t n)
{
	if (w->err)
		return -1;
	if (off > w->len || w->len - off < n) {
		w->err = 1;
		return -1;
	}
	return 0;
}

void wbuf_set_u8(struct wbuf *w, size_t off, uint8_t v)
{
	if (wbuf_patch_ok(w, off, 1) != 0)
		return;
	w->p[off] = v;
}

void wbuf_set_u16(struct wbuf *w, size_t off, uint16_t v)
{
	if (wbuf_patch_ok(w, off, 2) != 0)
		return;
	w->p[off] = (uint8_t)(v >> 8);
	w->p[off + 1] = (uint8_t)v;
}

void wbuf_set_u32(struct wbuf *w, size_t off, uint32_t v)
{
	if (wbuf_patch_ok(w, off, 4) != 0)
		return;
	w->p[off] = (uint8_t)(v >> 24);
	w->p[off + 1] = (uint8_t)(v >> 16);
	w->p[off + 2] = (uint8_t)(v >> 8);
	w->p[off + 3] = (uint8_t)v;
}
