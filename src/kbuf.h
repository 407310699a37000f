/*
 * kbuf: bounds-checked cursors over untrusted bytes (reader) and over an output
 * buffer of fixed capacity (writer). No other file does pointer arithmetic on
 * packets. Both live on the stack and never allocate.
 *
 * Reader contract: every kbuf_get_* returns 0 on success or -1 when fewer bytes
 * are left than asked for; a failed read consumes nothing and leaves *out
 * untouched. Multi-byte integers are big-endian (network order).
 *
 * Writer contract: a write that does not fit sets the sticky error flag and
 * writes nothing; later writes are ignored. Check wbuf_ok() once at the end.
 * Lengths are patched by offset (wbuf_set_u16), never through a saved pointer.
 */
#ifndef KITE_KBUF_H
#define KITE_KBUF_H

#include <stddef.h>
#include <stdint.h>

struct kbuf {
	const uint8_t *p;
	size_t len;
	size_t off;
};

static inline void kbuf_init(struct kbuf *b, const void *p, size_t len)
{
	b->p = p;
	b->len = p ? len : 0;
	b->off = 0;
}

static inline size_t kbuf_left(const struct kbuf *b)
{
	return b->len - b->off;
}

/* Pointer to the current read position; valid while the underlying buffer is. */
static inline const uint8_t *kbuf_cur(const struct kbuf *b)
{
	return b->p + b->off;
}

int kbuf_get_u8(struct kbuf *b, uint8_t *out);
int kbuf_get_u16(struct kbuf *b, uint16_t *out);
int kbuf_get_u32(struct kbuf *b, uint32_t *out);
int kbuf_get_u64(struct kbuf *b, uint64_t *out);
/* Copy n bytes out. */
int kbuf_get_bytes(struct kbuf *b, void *out, size_t n);
/* A view of the next n bytes (no copy); *out points into b's buffer. */
int kbuf_get_view(struct kbuf *b, const uint8_t **out, size_t n);
/* A sub-cursor over the next n bytes; b moves past them. */
int kbuf_get_sub(struct kbuf *b, struct kbuf *sub, size_t n);
int kbuf_skip(struct kbuf *b, size_t n);
/* Peek without consuming. */
int kbuf_peek_u8(const struct kbuf *b, uint8_t *out);

struct wbuf {
	uint8_t *p;
	size_t cap;
	size_t len;
	int err;
};

static inline void wbuf_init(struct wbuf *w, void *p, size_t cap)
{
	w->p = p;
	w->cap = cap;
	w->len = 0;
	w->err = 0;
}

static inline int wbuf_ok(const struct wbuf *w)
{
	return !w->err;
}

void wbuf_put_u8(struct wbuf *w, uint8_t v);
void wbuf_put_u16(struct wbuf *w, uint16_t v);
void wbuf_put_u32(struct wbuf *w, uint32_t v);
void wbuf_put_u64(struct wbuf *w, uint64_t v);
void wbuf_put_bytes(struct wbuf *w, const void *p, size_t n);
void wbuf_put_zero(struct wbuf *w, size_t n);
/*
 * Reserve n bytes (zeroed) and return their offset, for patching later;
 * returns (size_t)-1 and sets the error flag when they do not fit.
 */
size_t wbuf_reserve(struct wbuf *w, size_t n);
/* Patch at an offset earlier reserved/written; out-of-range sets the error flag. */
void wbuf_set_u8(struct wbuf *w, size_t off, uint8_t v);
void wbuf_set_u16(struct wbuf *w, size_t off, uint16_t v);
void wbuf_set_u32(struct wbuf *w, size_t off, uint32_t v);

#endif
