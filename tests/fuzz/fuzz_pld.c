/*
 * libFuzzer harness for the IKEv2 decoder: the whole message, then what the
 * exchange layer does with a message that parsed (SA, TS and CP bodies, and
 * the SK body parsed as if it were already decrypted plaintext).
 *
 *   clang -fsanitize=fuzzer,address,undefined -Isrc tests/fuzz/fuzz_pld.c \
 *       src/ikev2_pld.c src/ikev2.c src/kbuf.c src/log.c
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "kite.h"
#include "ikev2.h"
#include "ikev2_pld.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int r)
{
	if (r != 0 && r != KITE_ERR_PARSE && r != KITE_ERR_CRITICAL &&
	    r != KITE_ERR_INVAL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ike_proposal props[IKE_MAX_PROPOSALS];
	struct ike_cfg_attr attrs[IKE_MAX_CFG_ATTR];
	struct ike_ts ts[IKE_MAX_TS];
	struct ike_msg m;
	unsigned i;
	size_t n;
	int r;

	r = ikev2_pld_parse(data, size, &m);
	check(r);
	if (r != 0)
		return 0;
	for (i = 0; i < m.n_notify; i++)
		if (ikev2_notify_check(&m.notify[i]) != 0)
			abort();	/* the decoder let a bad notify through */
	(void)ikev2_msg_notify(&m, IKEV2_N_COOKIE);
	(void)ikev2_msg_has_plain(&m);
	check(ikev2_pld_parse_sa(m.sa, props, IKE_MAX_PROPOSALS, &n));
	check(ikev2_pld_parse_ts(m.tsi, ts, IKE_MAX_TS, &n));
	check(ikev2_pld_parse_ts(m.tsr, ts, IKE_MAX_TS, &n));
	check(ikev2_pld_parse_cfg(m.cp, attrs, IKE_MAX_CFG_ATTR, &n));
	if (!m.has_sk)
		return 0;
	r = ikev2_pld_parse_inner(&m, m.sk_first, m.sk_body.p, m.sk_body.len);
	check(r);
	if (r != 0)
		return 0;
	check(ikev2_pld_parse_sa(m.sa, props, IKE_MAX_PROPOSALS, &n));
	check(ikev2_pld_parse_ts(m.tsi, ts, IKE_MAX_TS, &n));
	check(ikev2_pld_parse_ts(m.tsr, ts, IKE_MAX_TS, &n));
	check(ikev2_pld_parse_cfg(m.cp, attrs, IKE_MAX_CFG_ATTR, &n));
	return 0;
}
