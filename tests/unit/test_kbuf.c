/*
 * kbuf: bounded reader and writer. A failed read consumes nothing and leaves
 * the output untouched (OpenSSH test_sshbuf_getput_basic.c "sshbuf_get_u32
 * truncated"); writer errors are sticky; patches go by offset.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "kbuf.h"

static const uint8_t seq[] = {
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
};

/* Reader */

static void kbuf_get_integers_big_endian(void **state)
{
	struct kbuf b;
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;

	kbuf_init(&b, seq, 15);
	assert_int_equal(kbuf_get_u8(&b, &v8), 0);
	assert_int_equal(v8, 0x01);
	assert_int_equal(kbuf_get_u16(&b, &v16), 0);
	assert_int_equal(v16, 0x0203);
	assert_int_equal(kbuf_get_u32(&b, &v32), 0);
	assert_int_equal(v32, 0x04050607);
	assert_int_equal(kbuf_get_u64(&b, &v64), 0);
	assert_true(v64 == 0x08090a0b0c0d0e0fULL);
	assert_int_equal(kbuf_left(&b), 0);
	assert_int_equal(b.off, 15);
}

static void kbuf_get_u32_truncated(void **state)
{
	struct kbuf b;
	uint32_t v = 0xdeadbeef;
	uint8_t v8;

	kbuf_init(&b, seq, 5);
	assert_int_equal(kbuf_skip(&b, 3), 0);
	assert_int_equal(kbuf_left(&b), 2);
	assert_int_equal(kbuf_get_u32(&b, &v), -1);
	/* nothing consumed, output untouched */
	assert_int_equal(kbuf_left(&b), 2);
	assert_int_equal(b.off, 3);
	assert_true(v == 0xdeadbeef);
	assert_int_equal(kbuf_get_u8(&b, &v8), 0);
	assert_int_equal(v8, 0x04);
}

static void kbuf_get_u16_truncated(void **state)
{
	struct kbuf b;
	uint16_t v = 0xabcd;

	kbuf_init(&b, seq, 1);
	assert_int_equal(kbuf_get_u16(&b, &v), -1);
	assert_int_equal(kbuf_left(&b), 1);
	assert_int_equal(v, 0xabcd);
}

static void kbuf_get_u64_truncated(void **state)
{
	struct kbuf b;
	uint64_t v = 42;

	kbuf_init(&b, seq, 7);
	assert_int_equal(kbuf_get_u64(&b, &v), -1);
	assert_int_equal(kbuf_left(&b), 7);
	assert_true(v == 42);
}

static void kbuf_get_u8_empty(void **state)
{
	struct kbuf b;
	uint8_t v = 0x55;

	kbuf_init(&b, seq, 0);
	assert_int_equal(kbuf_get_u8(&b, &v), -1);
	assert_int_equal(v, 0x55);
	assert_int_equal(kbuf_left(&b), 0);
}

static void kbuf_get_bytes_truncated(void **state)
{
	struct kbuf b;
	uint8_t out[8];

	memset(out, 0xee, sizeof(out));
	kbuf_init(&b, seq, 6);
	assert_int_equal(kbuf_skip(&b, 1), 0);
	assert_int_equal(kbuf_get_bytes(&b, out, 6), -1);
	assert_int_equal(kbuf_left(&b), 5);
	assert_int_equal(out[0], 0xee);
	assert_int_equal(kbuf_get_bytes(&b, out, 5), 0);
	assert_memory_equal(out, seq + 1, 5);
	assert_int_equal(kbuf_left(&b), 0);
}

static void kbuf_get_view_points_into_buffer(void **state)
{
	struct kbuf b;
	const uint8_t *v = NULL;

	kbuf_init(&b, seq, sizeof(seq));
	assert_int_equal(kbuf_skip(&b, 4), 0);
	assert_int_equal(kbuf_get_view(&b, &v, 3), 0);
	assert_ptr_equal(v, seq + 4);
	assert_int_equal(kbuf_left(&b), sizeof(seq) - 7);
}

static void kbuf_get_view_truncated(void **state)
{
	struct kbuf b;
	const uint8_t *v = seq;

	kbuf_init(&b, seq, 4);
	assert_int_equal(kbuf_get_view(&b, &v, 5), -1);
	assert_ptr_equal(v, seq);
	assert_int_equal(kbuf_left(&b), 4);
}

static void kbuf_get_sub_is_bounded(void **state)
{
	struct kbuf b, sub;
	uint32_t v32;
	uint16_t v16;

	kbuf_init(&b, seq, sizeof(seq));
	assert_int_equal(kbuf_get_sub(&b, &sub, 3), 0);
	/* the parent moved past the sub-cursor's bytes */
	assert_int_equal(kbuf_left(&b), sizeof(seq) - 3);
	assert_int_equal(kbuf_left(&sub), 3);
	/* the parent still has bytes, but the sub-cursor must not reach them */
	assert_int_equal(kbuf_get_u32(&sub, &v32), -1);
	assert_int_equal(kbuf_left(&sub), 3);
	assert_int_equal(kbuf_get_u16(&sub, &v16), 0);
	assert_int_equal(v16, 0x0102);
	assert_int_equal(kbuf_get_u16(&sub, &v16), -1);
	assert_int_equal(kbuf_get_u16(&b, &v16), 0);
	assert_int_equal(v16, 0x0405);
}

static void kbuf_get_sub_truncated(void **state)
{
	struct kbuf b, sub = { NULL, 0, 0 };

	kbuf_init(&b, seq, 4);
	assert_int_equal(kbuf_get_sub(&b, &sub, 5), -1);
	assert_int_equal(kbuf_left(&b), 4);
	assert_null(sub.p);
}

static void kbuf_skip_truncated(void **state)
{
	struct kbuf b;

	kbuf_init(&b, seq, 4);
	assert_int_equal(kbuf_skip(&b, 5), -1);
	assert_int_equal(kbuf_left(&b), 4);
	assert_int_equal(kbuf_skip(&b, (size_t)-1), -1);
	assert_int_equal(kbuf_left(&b), 4);
	assert_int_equal(kbuf_skip(&b, 4), 0);
	assert_int_equal(kbuf_left(&b), 0);
}

static void kbuf_peek_u8_does_not_consume(void **state)
{
	struct kbuf b;
	uint8_t v = 0;

	kbuf_init(&b, seq, 2);
	assert_int_equal(kbuf_peek_u8(&b, &v), 0);
	assert_int_equal(v, 0x01);
	assert_int_equal(kbuf_left(&b), 2);
	assert_int_equal(kbuf_peek_u8(&b, &v), 0);
	assert_int_equal(kbuf_get_u8(&b, &v), 0);
	assert_int_equal(kbuf_get_u8(&b, &v), 0);
	v = 0x77;
	assert_int_equal(kbuf_peek_u8(&b, &v), -1);
	assert_int_equal(v, 0x77);
}

static void kbuf_zero_length_reads_succeed(void **state)
{
	struct kbuf b, sub;
	const uint8_t *v = NULL;
	uint8_t out[1] = { 0x99 };

	kbuf_init(&b, seq, 2);
	assert_int_equal(kbuf_skip(&b, 2), 0);
	assert_int_equal(kbuf_get_bytes(&b, out, 0), 0);
	assert_int_equal(out[0], 0x99);
	assert_int_equal(kbuf_get_view(&b, &v, 0), 0);
	assert_ptr_equal(v, seq + 2);
	assert_int_equal(kbuf_get_sub(&b, &sub, 0), 0);
	assert_int_equal(kbuf_left(&sub), 0);
	assert_int_equal(kbuf_skip(&b, 0), 0);
}

static void kbuf_init_null_is_empty(void **state)
{
	struct kbuf b, sub;
	const uint8_t *v = seq;
	uint8_t v8;

	kbuf_init(&b, NULL, 100);
	assert_int_equal(kbuf_left(&b), 0);
	assert_int_equal(kbuf_get_u8(&b, &v8), -1);
	assert_int_equal(kbuf_get_view(&b, &v, 0), 0);
	assert_null(v);
	assert_int_equal(kbuf_get_sub(&b, &sub, 0), 0);
	assert_int_equal(kbuf_left(&sub), 0);
	assert_int_equal(kbuf_get_bytes(&b, &v8, 0), 0);
}

/* Writer */

static void wbuf_put_integers_big_endian(void **state)
{
	uint8_t buf[15];
	struct wbuf w;

	wbuf_init(&w, buf, sizeof(buf));
	wbuf_put_u8(&w, 0x01);
	wbuf_put_u16(&w, 0x0203);
	wbuf_put_u32(&w, 0x04050607);
	wbuf_put_u64(&w, 0x08090a0b0c0d0e0fULL);
	assert_true(wbuf_ok(&w));
	assert_int_equal(w.len, 15);
	assert_memory_equal(buf, seq, 15);
}

static void wbuf_exact_fit(void **state)
{
	uint8_t buf[4];
	struct wbuf w;

	wbuf_init(&w, buf, sizeof(buf));
	wbuf_put_bytes(&w, seq, 2);
	wbuf_put_zero(&w, 2);
	assert_true(wbuf_ok(&w));
	assert_int_equal(w.len, 4);
	assert_int_equal(buf[3], 0);
}

static void wbuf_overflow_is_sticky(void **state)
{
	uint8_t buf[8];
	struct wbuf w;

	memset(buf, 0xaa, sizeof(buf));
	wbuf_init(&w, buf, 5);
	wbuf_put_u32(&w, 0x01020304);
	wbuf_put_u16(&w, 0x0506);	/* does not fit: nothing written */
	assert_false(wbuf_ok(&w));
	assert_int_equal(w.len, 4);
	assert_int_equal(buf[4], 0xaa);
	wbuf_put_u8(&w, 0x07);		/* would fit, but the error is sticky */
	assert_false(wbuf_ok(&w));
	assert_int_equal(w.len, 4);
	assert_int_equal(buf[4], 0xaa);
}

static void wbuf_put_bytes_overflow_writes_nothing(void **state)
{
	uint8_t buf[8];
	struct wbuf w;

	memset(buf, 0xaa, sizeof(buf));
	wbuf_init(&w, buf, 4);
	wbuf_put_u8(&w, 1);
	wbuf_put_bytes(&w, seq, 4);
	assert_false(wbuf_ok(&w));
	assert_int_equal(w.len, 1);
	assert_int_equal(buf[1], 0xaa);
	wbuf_init(&w, buf, 4);
	wbuf_put_zero(&w, 5);
	assert_false(wbuf_ok(&w));
	assert_int_equal(w.len, 0);
	wbuf_init(&w, buf, 4);
	wbuf_put_u64(&w, 1);
	assert_false(wbuf_ok(&w));
	assert_int_equal(w.len, 0);
}

static void wbuf_reserve_zeroes_and_returns_offset(void **state)
{
	uint8_t buf[8];
	struct wbuf w;
	size_t off;

	memset(buf, 0xaa, sizeof(buf));
	wbuf_init(&w, buf, sizeof(buf));
	wbuf_put_u16(&w, 0xffff);
	off = wbuf_reserve(&w, 4);
	assert_int_equal(off, 2);
	assert_int_equal(w.len, 6);
	assert_int_equal(buf[2], 0);
	assert_int_equal(buf[5], 0);
	assert_true(wbuf_ok(&w));
}

static void wbuf_reserve_overflow(void **state)
{
	uint8_t buf[4];
	struct wbuf w;

	wbuf_init(&w, buf, sizeof(buf));
	assert_true(wbuf_reserve(&w, 5) == (size_t)-1);
	assert_false(wbuf_ok(&w));
	assert_int_equal(w.len, 0);
	assert_true(wbuf_reserve(&w, 1) == (size_t)-1);
}

static void wbuf_patch_by_offset(void **state)
{
	static const uint8_t want[] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 };
	uint8_t buf[16];
	struct wbuf w;
	size_t a, b;

	wbuf_init(&w, buf, sizeof(buf));
	a = wbuf_reserve(&w, 1);
	b = wbuf_reserve(&w, 2);
	wbuf_put_zero(&w, 4);
	wbuf_set_u8(&w, a, 0x11);
	wbuf_set_u16(&w, b, 0x2233);
	wbuf_set_u32(&w, 3, 0x44556677);
	assert_true(wbuf_ok(&w));
	assert_int_equal(w.len, 7);
	assert_memory_equal(buf, want, sizeof(want));
}

static void wbuf_patch_out_of_range_sets_error(void **state)
{
	uint8_t buf[16];
	struct wbuf w;

	/* one past the written bytes, though within capacity */
	wbuf_init(&w, buf, sizeof(buf));
	wbuf_put_zero(&w, 4);
	wbuf_set_u8(&w, 4, 1);
	assert_false(wbuf_ok(&w));

	/* straddling the end */
	wbuf_init(&w, buf, sizeof(buf));
	wbuf_put_zero(&w, 4);
	wbuf_set_u16(&w, 3, 1);
	assert_false(wbuf_ok(&w));

	wbuf_init(&w, buf, sizeof(buf));
	wbuf_put_zero(&w, 4);
	wbuf_set_u32(&w, 1, 1);
	assert_false(wbuf_ok(&w));

	/* offsets that would overflow off + size */
	wbuf_init(&w, buf, sizeof(buf));
	wbuf_put_zero(&w, 4);
	wbuf_set_u32(&w, (size_t)-1, 1);
	assert_false(wbuf_ok(&w));

	wbuf_init(&w, buf, sizeof(buf));
	wbuf_put_zero(&w, 4);
	wbuf_set_u16(&w, (size_t)-2, 1);
	assert_false(wbuf_ok(&w));
}

static void wbuf_patch_after_error_is_ignored(void **state)
{
	uint8_t buf[4] = { 0 };
	struct wbuf w;

	wbuf_init(&w, buf, sizeof(buf));
	wbuf_put_u16(&w, 0);
	wbuf_put_u32(&w, 0);	/* overflow */
	wbuf_set_u8(&w, 0, 0x5a);
	assert_false(wbuf_ok(&w));
	assert_int_equal(buf[0], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kbuf_get_integers_big_endian),
		cmocka_unit_test(kbuf_get_u32_truncated),
		cmocka_unit_test(kbuf_get_u16_truncated),
		cmocka_unit_test(kbuf_get_u64_truncated),
		cmocka_unit_test(kbuf_get_u8_empty),
		cmocka_unit_test(kbuf_get_bytes_truncated),
		cmocka_unit_test(kbuf_get_view_points_into_buffer),
		cmocka_unit_test(kbuf_get_view_truncated),
		cmocka_unit_test(kbuf_get_sub_is_bounded),
		cmocka_unit_test(kbuf_get_sub_truncated),
		cmocka_unit_test(kbuf_skip_truncated),
		cmocka_unit_test(kbuf_peek_u8_does_not_consume),
		cmocka_unit_test(kbuf_zero_length_reads_succeed),
		cmocka_unit_test(kbuf_init_null_is_empty),
		cmocka_unit_test(wbuf_put_integers_big_endian),
		cmocka_unit_test(wbuf_exact_fit),
		cmocka_unit_test(wbuf_overflow_is_sticky),
		cmocka_unit_test(wbuf_put_bytes_overflow_writes_nothing),
		cmocka_unit_test(wbuf_reserve_zeroes_and_returns_offset),
		cmocka_unit_test(wbuf_reserve_overflow),
		cmocka_unit_test(wbuf_patch_by_offset),
		cmocka_unit_test(wbuf_patch_out_of_range_sets_error),
		cmocka_unit_test(wbuf_patch_after_error_is_ignored),
	};

	return cmocka_run_group_tests_name("kbuf", tests, NULL, NULL);
}
