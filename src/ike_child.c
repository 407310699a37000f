/*
 * ike_child: CHILD SA bookkeeping and CREATE_CHILD_SA (RFC 7296 1.3, 2.8).
 * See ike_sa_int.h for how it plugs into the core.
 *
 * This version keeps the CHILD SA negotiated in IKE_AUTH for the life of the
 * IKE SA: it does not rekey, and answers the gateway's CREATE_CHILD_SA with
 * NO_ADDITIONAL_SAS, which RFC 7296 1.3 allows ("the responder ... MAY reply
 * NO_ADDITIONAL_SAS"); strongSwan then keeps using the existing SAs until
 * their hard lifetime.
 */
#include <arpa/inet.h>
#include <string.h>

#include "ike_sa_int.h"
#include "kite.h"
#include "log.h"

void ike_child_added(struct ike_sa *sa, const struct child_sa *c, uint64_t now)
{
	for (unsigned i = 0; i < IKE_MAX_CHILDREN; i++) {
		struct ike_child *ch = &sa->children[i];

		if (ch->state != IKE_CHILD_NONE)
			continue;
		memset(ch, 0, sizeof(*ch));
		ch->state = IKE_CHILD_INSTALLED;
		ch->spi_in = c->spi_in;
		ch->spi_out = c->spi_out;
		ch->encr = c->encr;
		ch->encr_bits = c->encr_bits;
		ch->integ = c->integ;
		ch->esn = c->esn;
		ch->created = now;
		return;
	}
	log_warn("no room to track CHILD SA %08x", c->spi_in);
}

void ike_child_handle_request(struct ike_sa *sa, const struct ike_msg *m, struct ike_enc *e, uint64_t now)
{
	log_info("the gateway asked to create or rekey a CHILD SA: answered NO_ADDITIONAL_SAS");
	ikev2_enc_notify(e, IKEV2_PROTO_NONE, NULL, 0, IKEV2_N_NO_ADDITIONAL_SAS, NULL, 0);
}

void ike_child_handle_delete(struct ike_sa *sa, const struct ike_msg *m, struct ike_enc *e, uint64_t now)
{
	uint8_t mine[IKE_MAX_CHILDREN * 4];
	uint16_t n = 0;

	for (unsigned i = 0; i < m->n_delete; i++) {
		const struct ike_delete *d = &m->del[i];

		if (d->proto != IKEV2_PROTO_ESP || d->spi_size != 4)
			continue;
		for (unsigned k = 0; k < d->n_spi; k++) {
			const uint8_t *s = d->spis.p + 4 * k;
			uint32_t spi = (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 | s[3];

			for (unsigned j = 0; j < IKE_MAX_CHILDREN; j++) {
				struct ike_child *ch = &sa->children[j];
				uint32_t be;

				if (ch->state == IKE_CHILD_NONE || ch->spi_out != spi)
					continue;
				log_info("the gateway deleted the CHILD SA %08x/%08x", ch->spi_in, ch->spi_out);
				be = htonl(ch->spi_in);
				memcpy(mine + 4 * n++, &be, 4);
				if (sa->ops->child_down)
					sa->ops->child_down(sa->ctx, sa, ch->spi_in);
				ch->state = IKE_CHILD_NONE;
			}
		}
	}
	/* Answer with the inbound SPIs of the pairs deleted (RFC 7296 1.4.1). */
	if (n)
		ikev2_enc_delete(e, IKEV2_PROTO_ESP, 4, mine, n);
}

int ike_child_task_start(struct ike_sa *sa, unsigned task, uint64_t now)
{
	return KITE_ERR_UNSUPPORTED;
}

void ike_child_task_response(struct ike_sa *sa, unsigned task, const struct ike_msg *m, uint64_t now)
{
}

uint64_t ike_child_next_timeout(const struct ike_sa *sa)
{
	return UINT64_MAX;
}

void ike_child_timeout(struct ike_sa *sa, uint64_t now)
{
}
