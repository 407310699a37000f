/*
 * fuzz_x509: certificate parsing, chain building, identity matching, AUTH
 * verification and private key parsing on fuzz input.
 *
 * Input: mode(1) | alen(2, big-endian) | A (alen bytes) | B (the rest).
 *   A is added to a fresh store as a trust anchor (when it parses) and B is
 *   verified as a chain of up to four certificates, each prefixed by a
 *   2-byte length; B's first certificate is also matched against identities
 *   of every type and asked to verify B's tail as AUTH data with method
 *   mode, over A as signed octets. mode & 0x80 also feeds A to the private
 *   key parser (with a passphrase callback).
 * Invariants: results are 0 or a negative enum kite_err; reasons are always
 * NUL-terminated and printable; nothing leaks (ASan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kite.h"
#include "ikev2.h"
#include "crypto.h"
#include "log.h"
#include "x509.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("fuzz_x509", 0, LOG_LVL_ERR);
	CHECK(crypto_init() == 0);
	return 0;
}

static void
check_reason(const char *r, size_t cap)
{
	size_t i;

	CHECK(memchr(r, '\0', cap) != NULL);
	for (i = 0; r[i]; i++)
		CHECK((unsigned char)r[i] >= 0x20 && (unsigned char)r[i] < 0x7f);
}

static int
pass(char *buf, size_t cap, void *arg)
{
	memcpy(buf, "fuzz", 4);
	return 4;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t v4[4] = { 192, 0, 2, 1 }, v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	const uint8_t *a, *b, *certs[4];
	size_t alen, blen, lens[4], n = 0, off = 0, l;
	struct x509_store *s;
	struct x509_cert *ee = NULL, *c;
	struct x509_key *k;
	char why[X509_REASON_LEN];
	uint8_t mode;
	int r;

	if (size < 3)
		return 0;
	mode = data[0];
	alen = (size_t)data[1] << 8 | data[2];
	if (alen > size - 3)
		alen = size - 3;
	a = data + 3;
	b = a + alen;
	blen = size - 3 - alen;

	s = x509_store_new();
	CHECK(s != NULL);
	r = x509_store_add(s, a, alen, why, sizeof(why));
	CHECK(r <= 0);
	check_reason(why, sizeof(why));
	while (n < 4 && off + 2 <= blen) {
		l = (size_t)b[off] << 8 | b[off + 1];
		off += 2;
		if (l > blen - off)
			l = blen - off;
		certs[n] = b + off;
		lens[n] = l;
		n++;
		off += l;
	}
	if (n > 0) {
		memset(why, 'x', sizeof(why));
		r = x509_verify_chain(s, certs, lens, n, (time_t)1700000000, &ee, why, sizeof(why));
		CHECK(r <= 0);
		CHECK((r == 0) == (ee != NULL));
		check_reason(why, sizeof(why));
		x509_cert_free(ee);
		if ((c = x509_cert_parse(certs[0], lens[0], why, sizeof(why))) != NULL) {
			const uint8_t *dn;
			size_t dn_len;

			dn = x509_cert_subject(c, &dn_len);
			CHECK(x509_id_match(c, IKEV2_ID_DER_ASN1_DN, dn, dn_len, why, sizeof(why)) == 0);
			CHECK(x509_id_match(c, IKEV2_ID_FQDN, (const uint8_t *)"gw.kite.test", 12, why,
					    sizeof(why)) <= 0);
			check_reason(why, sizeof(why));
			CHECK(x509_id_match(c, IKEV2_ID_IPV4_ADDR, v4, 4, why, sizeof(why)) <= 0);
			CHECK(x509_id_match(c, IKEV2_ID_IPV6_ADDR, v6, 16, why, sizeof(why)) <= 0);
			CHECK(x509_id_match(c, IKEV2_ID_RFC822_ADDR, (const uint8_t *)"a@b", 3, why,
					    sizeof(why)) <= 0);
			(void)x509_id_equals_config(IKEV2_ID_DER_ASN1_DN, dn, dn_len, "C=CH, CN=gw");
			check_reason(x509_cert_name(c), 192);
			r = x509_verify_auth(c, mode & 0x7f, b + off, blen - off, a, alen, why,
					     sizeof(why));
			CHECK(r <= 0);
			check_reason(why, sizeof(why));
			x509_cert_free(c);
		}
	}
	if (mode & 0x80) {
		k = x509_key_parse(a, alen, pass, NULL, why, sizeof(why));
		check_reason(why, sizeof(why));
		x509_key_free(k);
	}
	x509_store_free(s);
	return 0;
}
