/*
 * frag: RFC 7383 fragment planning and reassembly, including the family G
 * cases of reliability.md (46-55): numbers 0 / total 0 / number > total, the
 * 255 limit without allocation, duplicates (first copy wins), total grows /
 * shrinks, reverse order with next payload from fragment 1 only, size cap,
 * timeout, and keeping every fragment of a request for retransmission.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "kite.h"
#include "ikev2.h"
#include "log.h"
#include "frag.h"

static int setup(void **state)
{
	log_init("test_frag", 0, LOG_LVL_ERR);
	return 0;
}

/* A message of n bytes: byte i = i * 7 + 3, so misplaced chunks show. */
static uint8_t *message(size_t n)
{
	uint8_t *m = malloc(n ? n : 1);
	size_t i;

	for (i = 0; i < n; i++)
		m[i] = (uint8_t)(i * 7 + 3);
	return m;
}

struct piece {
	const uint8_t *p;
	size_t len;
};

/* Cut msg into total pieces of chunk bytes (last shorter). */
static void cut(const uint8_t *msg, size_t n, size_t chunk, struct piece *pc, unsigned total)
{
	unsigned i;

	for (i = 0; i < total; i++) {
		size_t off = (size_t)i * chunk;

		pc[i].p = msg + off;
		pc[i].len = n - off < chunk ? n - off : chunk;
	}
}

static enum frag_status add(struct frag_ctx *c, uint32_t msgid, uint16_t num, uint16_t total,
			    uint8_t next, const struct piece *pc, uint64_t now,
			    uint8_t **out, size_t *out_len, uint8_t *first)
{
	return frag_add(c, msgid, num, total, next, pc->p, pc->len, now, out, out_len, first);
}

/* Deliver fragments in the order given (1-based numbers); expect DONE at the end. */
static void deliver(const unsigned *order, unsigned total, size_t n, size_t chunk)
{
	uint8_t *msg = message(n), *out = NULL, first = 0;
	struct piece pc[FRAG_MAX_TOTAL];
	struct frag_ctx c;
	size_t out_len = 0;
	unsigned i;

	frag_init(&c, 0, 0);
	cut(msg, n, chunk, pc, total);
	for (i = 0; i < total; i++) {
		unsigned num = order[i];
		/* Next Payload is the inner type in fragment 1, 0 in the others */
		uint8_t next = num == 1 ? IKEV2_PLD_IDr : 0;

		assert_int_equal(add(&c, 1, (uint16_t)num, (uint16_t)total, next, &pc[num - 1],
				     100 + i, &out, &out_len, &first),
				 i + 1 < total ? FRAG_INCOMPLETE : FRAG_DONE);
		if (i + 1 < total) {
			assert_null(out);
			assert_int_equal(out_len, 0);
		}
	}
	assert_non_null(out);
	assert_int_equal(out_len, n);
	assert_memory_equal(out, msg, n);
	assert_int_equal(first, IKEV2_PLD_IDr);
	assert_int_equal(c.st.done, 1);
	assert_int_equal(c.active, 0);
	assert_int_equal(c.bytes, 0);
	free(out);
	free(msg);
	frag_reset(&c);
}

/* ---- reassembly ---- */

static void test_in_order(void **state)
{
	static const unsigned order[] = { 1, 2, 3, 4 };

	deliver(order, 4, 3000, 800);
}

static void test_out_of_order(void **state)
{
	static const unsigned order[] = { 3, 1, 4, 2 };

	deliver(order, 4, 3000, 800);
}

static void test_reverse_order_next_payload_from_fragment_1(void **state)
{
	static const unsigned order[] = { 5, 4, 3, 2, 1 };

	/* reliability.md 50: fragment 1 last, its Next Payload still wins */
	deliver(order, 5, 4001, 1000);
}

static void test_single_fragment(void **state)
{
	static const unsigned order[] = { 1 };

	deliver(order, 1, 500, 800);
}

static void test_next_payload_ignored_outside_fragment_1(void **state)
{
	uint8_t *msg = message(300), *out = NULL, first = 0;
	struct piece pc[3];
	struct frag_ctx c;
	size_t out_len;

	frag_init(&c, 0, 0);
	cut(msg, 300, 100, pc, 3);
	/* bogus non-zero Next Payload in 2 and 3, after and before 1 */
	assert_int_equal(add(&c, 7, 2, 3, IKEV2_PLD_SA, &pc[1], 0, &out, &out_len, &first),
			 FRAG_INCOMPLETE);
	assert_int_equal(add(&c, 7, 1, 3, IKEV2_PLD_EAP, &pc[0], 0, &out, &out_len, &first),
			 FRAG_INCOMPLETE);
	assert_int_equal(add(&c, 7, 3, 3, IKEV2_PLD_CERT, &pc[2], 0, &out, &out_len, &first),
			 FRAG_DONE);
	assert_int_equal(first, IKEV2_PLD_EAP);
	assert_memory_equal(out, msg, 300);
	free(out);
	free(msg);
}

static void test_duplicates_first_copy_wins(void **state)
{
	uint8_t *msg = message(300), *out = NULL, first = 0, evil[100];
	struct piece pc[3], bad = { evil, sizeof(evil) };
	struct frag_ctx c;
	size_t out_len;

	frag_init(&c, 0, 0);
	cut(msg, 300, 100, pc, 3);
	memset(evil, 0xee, sizeof(evil));
	assert_int_equal(add(&c, 1, 2, 3, 0, &pc[1], 0, &out, &out_len, &first), FRAG_INCOMPLETE);
	/* same bytes again */
	assert_int_equal(add(&c, 1, 2, 3, 0, &pc[1], 0, &out, &out_len, &first), FRAG_DUPLICATE);
	/* different bytes, even a different length: ignored (reliability.md 48) */
	assert_int_equal(add(&c, 1, 2, 3, 0, &bad, 0, &out, &out_len, &first), FRAG_DUPLICATE);
	bad.len = 5;
	assert_int_equal(add(&c, 1, 2, 3, 0, &bad, 0, &out, &out_len, &first), FRAG_DUPLICATE);
	assert_int_equal(c.bytes, 100);
	assert_int_equal(add(&c, 1, 1, 3, IKEV2_PLD_AUTH, &pc[0], 0, &out, &out_len, &first),
			 FRAG_INCOMPLETE);
	/* a duplicate fragment 1 with another Next Payload changes nothing */
	assert_int_equal(add(&c, 1, 1, 3, IKEV2_PLD_SA, &bad, 0, &out, &out_len, &first),
			 FRAG_DUPLICATE);
	assert_int_equal(add(&c, 1, 3, 3, 0, &pc[2], 0, &out, &out_len, &first), FRAG_DONE);
	assert_int_equal(first, IKEV2_PLD_AUTH);
	assert_memory_equal(out, msg, 300);
	assert_int_equal(c.st.duplicate, 4);
	free(out);
	free(msg);
}

static void test_invalid_numbers_dropped_without_touching_state(void **state)
{
	static const struct {
		uint16_t num, total;
	} bad[] = {
		{ 0, 3 }, { 1, 0 }, { 0, 0 }, { 4, 3 }, { 256, 256 }, { 1, 256 },
		{ 1, 65535 }, { 65535, 65535 }, { 65535, 1 },
	};
	uint8_t *msg = message(300), *out = (uint8_t *)1, first = 0x55;
	struct piece pc[3];
	struct frag_ctx c;
	size_t out_len = 9, i;

	frag_init(&c, 0, 0);
	cut(msg, 300, 100, pc, 3);
	assert_int_equal(add(&c, 1, 1, 3, IKEV2_PLD_IDr, &pc[0], 0, &out, &out_len, &first),
			 FRAG_INCOMPLETE);
	for (i = 0; i < KITE_ARRAY_SIZE(bad); i++) {
		assert_int_equal(add(&c, 1, bad[i].num, bad[i].total, 0, &pc[1], 0, &out,
				     &out_len, &first), FRAG_ERROR);
		assert_null(out);
		assert_int_equal(out_len, 0);
		/* nothing allocated, nothing dropped (reliability.md 46, 47) */
		assert_int_equal(c.have, 1);
		assert_int_equal(c.total, 3);
		assert_int_equal(c.bytes, 100);
	}
	assert_int_equal(c.st.invalid, KITE_ARRAY_SIZE(bad));
	assert_int_equal(first, 0x55);
	assert_int_equal(add(&c, 1, 2, 3, 0, &pc[1], 0, &out, &out_len, &first), FRAG_INCOMPLETE);
	assert_int_equal(add(&c, 1, 3, 3, 0, &pc[2], 0, &out, &out_len, &first), FRAG_DONE);
	assert_memory_equal(out, msg, 300);
	free(out);
	free(msg);
}

static void test_255_fragments_is_the_limit(void **state)
{
	uint8_t *msg = message(255 * 3), *out = NULL, first = 0;
	struct piece pc[255];
	struct frag_ctx c;
	size_t out_len;
	unsigned i;

	frag_init(&c, 0, 0);
	cut(msg, 255 * 3, 3, pc, 255);
	/* 255 fragments, highest first */
	for (i = 255; i >= 1; i--)
		assert_int_equal(add(&c, 1, (uint16_t)i, 255, i == 1 ? 33 : 0, &pc[i - 1], 0,
				     &out, &out_len, &first),
				 i > 1 ? FRAG_INCOMPLETE : FRAG_DONE);
	assert_int_equal(out_len, 255 * 3);
	assert_memory_equal(out, msg, 255 * 3);
	free(out);
	/* 256 is refused */
	assert_int_equal(add(&c, 2, 1, 256, 33, &pc[0], 0, &out, &out_len, &first), FRAG_ERROR);
	assert_int_equal(c.active, 0);
	free(msg);
}

static void test_total_grows_restarts(void **state)
{
	uint8_t *msg = message(600), *out = NULL, first = 0;
	struct piece big[3], small[6];
	struct frag_ctx c;
	size_t out_len;
	unsigned i;

	frag_init(&c, 0, 0);
	cut(msg, 600, 200, big, 3);
	cut(msg, 600, 100, small, 6);
	assert_int_equal(add(&c, 4, 1, 3, 35, &big[0], 0, &out, &out_len, &first), FRAG_INCOMPLETE);
	assert_int_equal(add(&c, 4, 2, 3, 0, &big[1], 0, &out, &out_len, &first), FRAG_INCOMPLETE);
	/* re-fragmented with a smaller size: restart (reliability.md 49) */
	assert_int_equal(add(&c, 4, 2, 6, 0, &small[1], 10, &out, &out_len, &first),
			 FRAG_INCOMPLETE);
	assert_int_equal(c.have, 1);
	assert_int_equal(c.total, 6);
	assert_int_equal(c.st.restarted, 1);
	/* a late fragment of the old, larger-fragment set: total shrank -> dropped */
	assert_int_equal(add(&c, 4, 3, 3, 0, &big[2], 11, &out, &out_len, &first), FRAG_ERROR);
	assert_int_equal(c.st.stale, 1);
	assert_int_equal(c.have, 1);
	for (i = 1; i <= 6; i++) {
		if (i == 2)
			continue;
		assert_int_equal(add(&c, 4, (uint16_t)i, 6, i == 1 ? 35 : 0, &small[i - 1], 12,
				     &out, &out_len, &first), i < 6 ? FRAG_INCOMPLETE : FRAG_DONE);
	}
	assert_int_equal(out_len, 600);
	assert_memory_equal(out, msg, 600);
	assert_int_equal(first, 35);
	free(out);
	free(msg);
}

static void test_message_ids(void **state)
{
	uint8_t *msg = message(200), *out = NULL, first = 0;
	struct piece pc[2];
	struct frag_ctx c;
	size_t out_len;

	frag_init(&c, 0, 0);
	cut(msg, 200, 100, pc, 2);
	/* a newer message replaces an unfinished older one */
	assert_int_equal(add(&c, 5, 1, 2, 35, &pc[0], 0, &out, &out_len, &first), FRAG_INCOMPLETE);
	assert_int_equal(add(&c, 6, 2, 2, 0, &pc[1], 0, &out, &out_len, &first), FRAG_INCOMPLETE);
	assert_int_equal(c.msgid, 6);
	assert_int_equal(c.have, 1);
	/* an older one is stale */
	assert_int_equal(add(&c, 5, 2, 2, 0, &pc[1], 0, &out, &out_len, &first), FRAG_ERROR);
	assert_int_equal(add(&c, 6, 1, 2, 36, &pc[0], 0, &out, &out_len, &first), FRAG_DONE);
	assert_int_equal(first, 36);
	free(out);
	/* fragments of the message just completed (a retransmitted response, or
	 * a request the core answers again on fragment 1): FRAG_DUPLICATE */
	assert_int_equal(add(&c, 6, 1, 2, 36, &pc[0], 0, &out, &out_len, &first), FRAG_DUPLICATE);
	assert_int_equal(add(&c, 6, 2, 2, 0, &pc[1], 0, &out, &out_len, &first), FRAG_DUPLICATE);
	assert_null(out);
	assert_int_equal(c.active, 0);
	/* older than the completed one: stale */
	assert_int_equal(add(&c, 5, 1, 2, 36, &pc[0], 0, &out, &out_len, &first), FRAG_ERROR);
	/* the next one reassembles */
	assert_int_equal(add(&c, 7, 2, 2, 0, &pc[1], 0, &out, &out_len, &first), FRAG_INCOMPLETE);
	assert_int_equal(add(&c, 7, 1, 2, 37, &pc[0], 0, &out, &out_len, &first), FRAG_DONE);
	assert_memory_equal(out, msg, 200);
	free(out);
	/* frag_reset forgets the completed one */
	frag_reset(&c);
	assert_int_equal(add(&c, 7, 1, 2, 37, &pc[0], 0, &out, &out_len, &first), FRAG_INCOMPLETE);
	frag_reset(&c);
	free(msg);
}

static void test_oversize_sum_abandons_reassembly(void **state)
{
	uint8_t *msg = message(5000), *out = NULL, first = 0;
	struct piece pc[5];
	struct frag_ctx c;
	size_t out_len;

	/* cap 4000: four 1000-byte fragments fit, the fifth does not */
	frag_init(&c, 4000, 0);
	cut(msg, 5000, 1000, pc, 5);
	assert_int_equal(add(&c, 1, 1, 5, 35, &pc[0], 0, &out, &out_len, &first), FRAG_INCOMPLETE);
	assert_int_equal(add(&c, 1, 2, 5, 0, &pc[1], 0, &out, &out_len, &first), FRAG_INCOMPLETE);
	assert_int_equal(add(&c, 1, 3, 5, 0, &pc[2], 0, &out, &out_len, &first), FRAG_INCOMPLETE);
	assert_int_equal(add(&c, 1, 4, 5, 0, &pc[3], 0, &out, &out_len, &first), FRAG_INCOMPLETE);
	assert_int_equal(add(&c, 1, 5, 5, 0, &pc[4], 0, &out, &out_len, &first), FRAG_ERROR);
	assert_int_equal(c.st.too_large, 1);
	/* everything freed (reliability.md 53) */
	assert_int_equal(c.active, 0);
	assert_int_equal(c.have, 0);
	assert_int_equal(c.bytes, 0);
	assert_null(c.frag[0]);
	/* the default cap is IKEV2_MAX_MSG; one fragment bigger than it is refused alone */
	frag_init(&c, 0, 0);
	assert_int_equal(c.max_bytes, IKEV2_MAX_MSG);
	assert_int_equal(frag_add(&c, 1, 1, 2, 35, msg, IKEV2_MAX_MSG + 1, 0, &out, &out_len,
				  &first), FRAG_ERROR);
	assert_int_equal(c.active, 0);
	free(msg);
}

static void test_timeout_frees_partial_message(void **state)
{
	uint8_t *msg = message(300), *out = NULL, first = 0;
	struct piece pc[3];
	struct frag_ctx c;
	size_t out_len;

	frag_init(&c, 0, 5000);
	cut(msg, 300, 100, pc, 3);
	assert_int_equal(frag_deadline(&c), 0);
	assert_int_equal(frag_expire(&c, 1000000), 0);
	assert_int_equal(add(&c, 1, 1, 3, 35, &pc[0], 1000, &out, &out_len, &first),
			 FRAG_INCOMPLETE);
	assert_int_equal(add(&c, 1, 3, 3, 0, &pc[2], 3000, &out, &out_len, &first),
			 FRAG_INCOMPLETE);
	/* the deadline counts from the first fragment, not the latest */
	assert_int_equal(frag_deadline(&c), 6000);
	assert_int_equal(frag_expire(&c, 5999), 0);
	assert_int_equal(c.have, 2);
	assert_int_equal(frag_expire(&c, 6000), 1);
	assert_int_equal(c.active, 0);
	assert_int_equal(c.have, 0);
	assert_null(c.frag[0]);
	assert_null(c.frag[2]);
	assert_int_equal(c.st.expired, 1);
	assert_int_equal(frag_deadline(&c), 0);
	/* a clock going backwards expires nothing */
	assert_int_equal(add(&c, 1, 1, 3, 35, &pc[0], 7000, &out, &out_len, &first),
			 FRAG_INCOMPLETE);
	assert_int_equal(frag_expire(&c, 10), 0);
	/* the late fragment 2 of the expired set starts over rather than completing */
	assert_int_equal(add(&c, 1, 2, 3, 0, &pc[1], 7001, &out, &out_len, &first),
			 FRAG_INCOMPLETE);
	assert_null(out);
	frag_reset(&c);
	free(msg);
}

static void test_empty_fragments_and_bad_arguments(void **state)
{
	uint8_t *out = NULL, first = 0, b = 1;
	struct frag_ctx c;
	size_t out_len;

	frag_init(&c, 0, 0);
	assert_int_equal(frag_add(&c, 1, 1, 2, 35, NULL, 0, 0, &out, &out_len, &first),
			 FRAG_INCOMPLETE);
	assert_int_equal(frag_add(&c, 1, 2, 2, 0, &b, 1, 0, &out, &out_len, &first), FRAG_DONE);
	assert_int_equal(out_len, 1);
	assert_int_equal(out[0], 1);
	free(out);
	assert_int_equal(frag_add(&c, 2, 1, 1, 35, NULL, 0, 0, &out, &out_len, &first), FRAG_DONE);
	assert_int_equal(out_len, 0);
	assert_non_null(out);
	free(out);
	assert_int_equal(frag_add(&c, 3, 1, 1, 35, NULL, 4, 0, &out, &out_len, &first), FRAG_ERROR);
	assert_int_equal(frag_add(NULL, 3, 1, 1, 35, &b, 1, 0, &out, &out_len, &first), FRAG_ERROR);
	assert_int_equal(frag_add(&c, 3, 1, 1, 35, &b, 1, 0, NULL, &out_len, &first), FRAG_ERROR);
	assert_int_equal(frag_add(&c, 3, 1, 1, 35, &b, 1, 0, &out, NULL, &first), FRAG_ERROR);
	assert_int_equal(frag_add(&c, 3, 1, 1, 35, &b, 1, 0, &out, &out_len, NULL), FRAG_ERROR);
	frag_reset(NULL);
	assert_int_equal(frag_expire(NULL, 0), 0);
	assert_int_equal(frag_deadline(NULL), 0);
}

/* ---- sending ---- */

static void test_plan_fits_every_fragment_in_frag_size(void **state)
{
	static const struct {
		size_t iv, icv, block;
	} algs[] = {
		{ 8, 16, 1 },		/* AES-GCM-16, ChaCha20-Poly1305 */
		{ 16, 16, 16 },		/* AES-CBC + HMAC-SHA2-256-128 */
		{ 16, 32, 16 },		/* AES-CBC + HMAC-SHA2-512-256 */
	};
	static const size_t sizes[] = { 576, 1280, 1500 };
	static const size_t ovh[] = { FRAG_IPV4_OVERHEAD, FRAG_IPV4_OVERHEAD + FRAG_NATT_MARKER,
				      FRAG_IPV6_OVERHEAD };
	size_t a, s, o, off, len, next, inner;
	struct frag_plan p;
	unsigned n;

	for (a = 0; a < KITE_ARRAY_SIZE(algs); a++)
		for (s = 0; s < KITE_ARRAY_SIZE(sizes); s++)
			for (o = 0; o < KITE_ARRAY_SIZE(ovh); o++)
				for (inner = 1; inner < 9000; inner += 997) {
					assert_int_equal(frag_plan(&p, inner, sizes[s], ovh[o],
						algs[a].iv, algs[a].icv, algs[a].block), 0);
					/* the largest chunk fits, one more byte would not */
					assert_true(ovh[o] + frag_msg_len(p.chunk, algs[a].iv,
						algs[a].icv, algs[a].block) <= sizes[s]);
					assert_true(ovh[o] + frag_msg_len(p.chunk + 1, algs[a].iv,
						algs[a].icv, algs[a].block) > sizes[s]);
					/* chunks tile the message exactly */
					for (n = 1, next = 0; n <= p.total; n++) {
						assert_int_equal(frag_chunk(&p, n, &off, &len), 0);
						assert_int_equal(off, next);
						assert_true(len > 0 && len <= p.chunk);
						if (n < p.total)
							assert_int_equal(len, p.chunk);
						next += len;
					}
					assert_int_equal(next, inner);
					assert_int_equal(frag_chunk(&p, 0, &off, &len), KITE_ERR_INVAL);
					assert_int_equal(frag_chunk(&p, p.total + 1, &off, &len),
							 KITE_ERR_INVAL);
				}
}

static void test_plan_1280_gcm_numbers(void **state)
{
	struct frag_plan p;

	/* 1280 - 28 (IPv4+UDP) - 28 (IKE) - 8 (SKF) - 8 (IV) - 16 (ICV) = 1192, less Pad Length */
	assert_int_equal(frag_plan(&p, 5000, 0, FRAG_IPV4_OVERHEAD, 8, 16, 1), 0);
	assert_int_equal(p.chunk, 1191);
	assert_int_equal(p.total, 5);
	/* CBC: 1280 - 28 - 28 - 8 - 16 - 16 = 1184 = 74 blocks, less Pad Length */
	assert_int_equal(frag_plan(&p, 1183, 1280, FRAG_IPV4_OVERHEAD, 16, 16, 16), 0);
	assert_int_equal(p.chunk, 1183);
	assert_int_equal(p.total, 1);
	assert_int_equal(frag_plan(&p, 1184, 1280, FRAG_IPV4_OVERHEAD, 16, 16, 16), 0);
	assert_int_equal(p.total, 2);
}

static void test_plan_limits(void **state)
{
	struct frag_plan p;

	/* too small to carry one byte */
	assert_int_equal(frag_plan(&p, 10, 100, 48, 16, 16, 16), KITE_ERR_INVAL);
	assert_int_equal(p.total, 0);
	assert_int_equal(frag_plan(&p, 10, 50, 48, 0, 0, 1), KITE_ERR_INVAL);
	/* more than 255 fragments */
	assert_int_equal(frag_plan(&p, 255 * 100, 28 + 28 + 8 + 101, 28, 0, 0, 1), 0);
	assert_int_equal(p.total, 255);
	assert_int_equal(frag_plan(&p, 255 * 100 + 1, 28 + 28 + 8 + 101, 28, 0, 0, 1),
			 KITE_ERR_INVAL);
	assert_int_equal(frag_plan(NULL, 1, 1280, 28, 8, 16, 1), KITE_ERR_INVAL);
	/* an empty chain is one fragment */
	assert_int_equal(frag_plan(&p, 0, 1280, 28, 8, 16, 1), 0);
	assert_int_equal(p.total, 1);
}

static void test_needed(void **state)
{
	assert_false(frag_needed(1252, FRAG_IPV4_OVERHEAD, 1280));
	assert_true(frag_needed(1253, FRAG_IPV4_OVERHEAD, 1280));
	assert_true(frag_needed(1249, FRAG_IPV4_OVERHEAD + FRAG_NATT_MARKER, 0));
	assert_false(frag_needed(1232, FRAG_IPV6_OVERHEAD, 0));
	assert_true(frag_needed(1, 2000, 1280));
}

static void test_split_then_reassemble_round_trip(void **state)
{
	uint8_t *msg = message(7777), *out = NULL, first = 0;
	struct frag_plan p;
	struct frag_ctx c;
	size_t off, len, out_len;
	unsigned n;

	assert_int_equal(frag_plan(&p, 7777, 576, FRAG_IPV4_OVERHEAD + FRAG_NATT_MARKER,
				   16, 24, 16), 0);
	frag_init(&c, 0, 0);
	/* even numbers first, then odd, to mix it up */
	for (n = 2; n <= p.total; n += 2) {
		frag_chunk(&p, n, &off, &len);
		assert_int_equal(frag_add(&c, 9, (uint16_t)n, (uint16_t)p.total, 0, msg + off, len,
					  0, &out, &out_len, &first), FRAG_INCOMPLETE);
	}
	for (n = 1; n <= p.total; n += 2) {
		frag_chunk(&p, n, &off, &len);
		assert_int_equal(frag_add(&c, 9, (uint16_t)n, (uint16_t)p.total,
					  n == 1 ? IKEV2_PLD_IDr : 0, msg + off, len, 0, &out,
					  &out_len, &first),
				 n + 2 > p.total ? FRAG_DONE : FRAG_INCOMPLETE);
	}
	assert_int_equal(out_len, 7777);
	assert_memory_equal(out, msg, 7777);
	free(out);
	free(msg);
}

static void test_frag_set_keeps_every_datagram(void **state)
{
	struct frag_set s;
	uint8_t d[3] = { 1, 2, 3 };
	unsigned i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < FRAG_MAX_TOTAL; i++) {
		d[0] = (uint8_t)i;
		assert_int_equal(frag_set_add(&s, d, sizeof(d)), 0);
	}
	assert_int_equal(frag_set_add(&s, d, sizeof(d)), KITE_ERR_INVAL);
	assert_int_equal(s.n, FRAG_MAX_TOTAL);
	assert_int_equal(s.bytes, 3 * FRAG_MAX_TOTAL);
	for (i = 0; i < s.n; i++) {
		assert_int_equal(s.len[i], 3);
		assert_int_equal(s.pkt[i][0], (uint8_t)i);
	}
	frag_set_clear(&s);
	assert_int_equal(s.n, 0);
	assert_int_equal(frag_set_add(&s, d, 0), KITE_ERR_INVAL);
	assert_int_equal(frag_set_add(&s, NULL, 3), KITE_ERR_INVAL);
	assert_int_equal(frag_set_add(&s, d, 3), 0);
	frag_set_clear(&s);
	frag_set_clear(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_reverse_order_next_payload_from_fragment_1),
		cmocka_unit_test(test_single_fragment),
		cmocka_unit_test(test_next_payload_ignored_outside_fragment_1),
		cmocka_unit_test(test_duplicates_first_copy_wins),
		cmocka_unit_test(test_invalid_numbers_dropped_without_touching_state),
		cmocka_unit_test(test_255_fragments_is_the_limit),
		cmocka_unit_test(test_total_grows_restarts),
		cmocka_unit_test(test_message_ids),
		cmocka_unit_test(test_oversize_sum_abandons_reassembly),
		cmocka_unit_test(test_timeout_frees_partial_message),
		cmocka_unit_test(test_empty_fragments_and_bad_arguments),
		cmocka_unit_test(test_plan_fits_every_fragment_in_frag_size),
		cmocka_unit_test(test_plan_1280_gcm_numbers),
		cmocka_unit_test(test_plan_limits),
		cmocka_unit_test(test_needed),
		cmocka_unit_test(test_split_then_reassemble_round_trip),
		cmocka_unit_test(test_frag_set_keeps_every_datagram),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
