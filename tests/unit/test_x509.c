/*
 * x509: gateway certificate chains, identities and AUTH signatures, and the
 * client's key, against certificates made at test time by x509_certs.sh with
 * the OpenSSL command line (skipped, saying why, when openssl is missing).
 * Signatures made by OpenSSL are verified here, and signatures made here are
 * verified here, for every AUTH form kite accepts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kite.h"
#include "ikev2.h"
#include "crypto.h"
#include "log.h"
#include "x509.h"

static char dir[64];
static int have_certs;
static char skip_why[320];

#define NEED_CERTS() do { if (!have_certs) { print_message("skipped: %s\n", skip_why); \
	skip(); } } while (0)

static const char *path(const char *name)
{
	static char p[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static int setup(void **state)
{
	char cmd[512], script[256];
	const char *src = __FILE__, *slash = strrchr(src, '/');

	log_init("test_x509", 0, LOG_LVL_ERR);
	if (crypto_init() != 0)
		return -1;
	if (system("command -v openssl >/dev/null 2>&1") != 0) {
		snprintf(skip_why, sizeof(skip_why), "no openssl command to make test certificates");
		return 0;
	}
	snprintf(script, sizeof(script), "%.*sx509_certs.sh",
		 slash ? (int)(slash - src + 1) : 0, src);
	if (access(script, R_OK) != 0) {
		snprintf(skip_why, sizeof(skip_why), "%s not found (run from the source tree)",
			 script);
		return 0;
	}
	snprintf(dir, sizeof(dir), "/tmp/kite-x509-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "sh %s %s/c >%s/gen.log 2>&1", script, dir, dir);
	if (system(cmd) != 0) {
		snprintf(cmd, sizeof(cmd), "cat %s/gen.log >&2", dir);
		if (system(cmd) != 0)
			print_error("cannot show %s/gen.log\n", dir);
		return -1;
	}
	strncat(dir, "/c", sizeof(dir) - strlen(dir) - 1);
	have_certs = 1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	if (dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen("/tmp/kite-x509-XXXXXX")),
			 dir);
		if (system(cmd) != 0)
			print_error("cannot remove %s\n", dir);
	}
	crypto_fini();
	return 0;
}

static uint8_t *slurp(const char *name, size_t *len)
{
	FILE *f = fopen(path(name), "rb");
	uint8_t *buf = malloc(1 << 20);
	size_t n;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, 1 << 20, f);
	fclose(f);
	*len = n;
	return buf;
}

static struct x509_cert *cert(const char *name)
{
	struct x509_cert *c[1];
	char file[64], why[X509_REASON_LEN];
	size_t n;

	snprintf(file, sizeof(file), "%s.crt", name);
	if (x509_cert_load(path(file), c, 1, &n, why, sizeof(why)) != 0)
		fail_msg("%s: %s", name, why);
	assert_int_equal(n, 1);
	return c[0];
}

static struct x509_store *store(const char *const names[])
{
	struct x509_store *s = x509_store_new();
	char why[X509_REASON_LEN];
	size_t i, len;

	assert_non_null(s);
	for (i = 0; names[i] != NULL; i++) {
		struct x509_cert *c = cert(names[i]);
		const uint8_t *der = x509_cert_der(c, &len);

		if (x509_store_add(s, der, len, why, sizeof(why)) != 0)
			fail_msg("%s: %s", names[i], why);
		x509_cert_free(c);
	}
	return s;
}

/* Verify the chain names[0] (end entity), names[1..] against the anchors. */
static int chain_at(const char *const anchors[], const char *const names[], time_t now,
		    char *why, size_t why_len, struct x509_cert **ee)
{
	struct x509_cert *c[X509_MAX_CHAIN];
	const uint8_t *der[X509_MAX_CHAIN];
	size_t lens[X509_MAX_CHAIN], n = 0, i;
	struct x509_store *s = store(anchors);
	int r;

	while (names[n] != NULL) {
		c[n] = cert(names[n]);
		der[n] = x509_cert_der(c[n], &lens[n]);
		n++;
	}
	r = x509_verify_chain(s, der, lens, n, now, ee, why, why_len);
	for (i = 0; i < n; i++)
		x509_cert_free(c[i]);
	x509_store_free(s);
	return r;
}

static int chain(const char *const anchors[], const char *const names[], char *why, size_t wl)
{
	return chain_at(anchors, names, time(NULL), why, wl, NULL);
}

#define L(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void expect_refused(const char *const anchors[], const char *const names[],
			   const char *want)
{
	char why[X509_REASON_LEN];

	assert_int_equal(chain(anchors, names, why, sizeof(why)), KITE_ERR_VERIFY);
	if (strstr(why, want) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\"", why, want);
}

static void expect_ok(const char *const anchors[], const char *const names[])
{
	char why[X509_REASON_LEN];

	if (chain(anchors, names, why, sizeof(why)) != 0)
		fail_msg("refused: %s", why);
	assert_string_equal(why, "");
}

/* ---- trust anchors ---- */

static void test_store_from_file_directory_bundle(void **state)
{
	struct x509_store *s;
	char why[X509_REASON_LEN];

	NEED_CERTS();
	assert_int_equal(x509_store_load(&s, path("root_rsa.crt"), why, sizeof(why)), 0);
	assert_int_equal(x509_store_count(s), 1);
	x509_store_free(s);
	assert_int_equal(x509_store_load(&s, path("bundle.pem"), why, sizeof(why)), 0);
	assert_int_equal(x509_store_count(s), 2);
	x509_store_free(s);
	/* a.pem, b.pem, a symlink to a.pem (kept once), a README (skipped) */
	assert_int_equal(x509_store_load(&s, path("cadir"), why, sizeof(why)), 0);
	assert_int_equal(x509_store_count(s), 2);
	x509_store_free(s);
	/* DER works too */
	assert_int_equal(x509_store_load(&s, path("gw_rsa.der"), why, sizeof(why)), 0);
	assert_int_equal(x509_store_count(s), 1);
	x509_store_free(s);
}

static void test_store_system(void **state)
{
	struct x509_store *s = NULL;
	char why[X509_REASON_LEN];

	if (access(X509_SYSTEM_BUNDLE, R_OK) != 0 && access(X509_SYSTEM_DIR, R_OK) != 0) {
		print_message("skipped: no system CA store\n");
		skip();
	}
	if (x509_store_load(&s, "system", why, sizeof(why)) != 0)
		fail_msg("system store: %s", why);
	assert_true(x509_store_count(s) > 10);
	x509_store_free(s);
}

static void test_store_errors(void **state)
{
	struct x509_store *s = (struct x509_store *)1;
	char why[X509_REASON_LEN];

	NEED_CERTS();
	assert_int_equal(x509_store_load(&s, path("nonexistent"), why, sizeof(why)), KITE_ERR_SYS);
	assert_null(s);
	assert_non_null(strstr(why, "No such file"));
	assert_int_equal(x509_store_load(&s, path("cadir/README"), why, sizeof(why)),
			 KITE_ERR_PARSE);
	assert_non_null(strstr(why, "neither PEM nor a DER certificate"));
	/* PEM without certificates */
	assert_int_equal(x509_store_load(&s, path("gw_ec_sec1.pem"), why, sizeof(why)),
			 KITE_ERR_PARSE);
	assert_non_null(strstr(why, "no certificate"));
	/* only unusable anchors */
	assert_int_equal(x509_store_load(&s, path("root_weak.crt"), why, sizeof(why)),
			 KITE_ERR_CONFIG);
	assert_non_null(strstr(why, "no usable CA certificate"));
	assert_int_equal(x509_store_load(NULL, "system", why, sizeof(why)), KITE_ERR_INVAL);
}

static void test_certreq_keyhash_matches_openssl(void **state)
{
	struct x509_store *s;
	uint8_t out[100], *h1, *h2;
	size_t len, l1, l2;
	char why[X509_REASON_LEN];

	NEED_CERTS();
	assert_int_equal(x509_store_load(&s, path("bundle.pem"), why, sizeof(why)), 0);
	h1 = slurp("root_rsa.keyhash", &l1);
	h2 = slurp("root_ec.keyhash", &l2);
	assert_int_equal(l1, 20);
	assert_int_equal(l2, 20);
	assert_int_equal(x509_ca_keyhash(s, out, sizeof(out), &len), 0);
	assert_int_equal(len, 40);
	assert_memory_equal(out, h1, 20);
	assert_memory_equal(out + 20, h2, 20);
	/* only whole hashes fit */
	assert_int_equal(x509_ca_keyhash(s, out, 39, &len), 0);
	assert_int_equal(len, 20);
	free(h1);
	free(h2);
	x509_store_free(s);
}

/* ---- chains ---- */

static void test_good_rsa_2048_chain(void **state)
{
	struct x509_cert *ee = NULL;
	char why[X509_REASON_LEN];

	NEED_CERTS();
	assert_int_equal(chain_at(L("root_rsa"), L("gw_rsa"), time(NULL), why, sizeof(why), &ee),
			 0);
	assert_non_null(ee);
	assert_string_equal(x509_cert_name(ee), "C=CH, O=kite, CN=gw.kite.test");
	assert_true(x509_cert_not_after(ee) > time(NULL));
	x509_cert_free(ee);
}

static void test_good_ecdsa_chains(void **state)
{
	NEED_CERTS();
	/* P-256 end entity under a P-256 intermediate under a P-384 root */
	expect_ok(L("root_ec"), L("gw_ec", "int_ec"));
	/* extra and unrelated certificates, the root included, any order */
	expect_ok(L("root_ec"), L("gw_ec", "root_rsa", "root_ec", "gw_p384", "int_ec"));
	/* several anchors */
	expect_ok(L("root_rsa", "root_other", "root_ec"), L("gw_ec", "int_ec"));
	expect_ok(L("root_ec"), L("gw_p384"));
	expect_ok(L("root_ec"), L("gw_ed"));
	/* without the intermediate: the issuer is unknown */
	expect_refused(L("root_ec"), L("gw_ec"), "issuer not trusted (C=CH, O=kite, "
		       "CN=kite Intermediate EC)");
}

static void test_rsa_pss_signed_certificate_accepted(void **state)
{
	NEED_CERTS();
	expect_ok(L("root_rsa"), L("pss"));
}

static void test_expired_and_not_yet_valid(void **state)
{
	struct x509_cert *c;
	char why[X509_REASON_LEN];

	NEED_CERTS();
	expect_refused(L("root_rsa"), L("expired"), "certificate 'C=CH, O=kite, "
		       "CN=expired.kite.test' expired on 2021-01-01 00:00:00 UTC");
	expect_refused(L("root_rsa"), L("future"), "is not valid before 2099-01-01 00:00:00 UTC");
	/* the bounds are inclusive: pinned, only the certificate's own dates count */
	c = cert("expired");
	assert_int_equal(chain_at(L("expired"), L("expired"), x509_cert_not_after(c), why,
				  sizeof(why), NULL), 0);
	assert_int_equal(chain_at(L("expired"), L("expired"), x509_cert_not_after(c) + 1, why,
				  sizeof(why), NULL), KITE_ERR_VERIFY);
	assert_int_equal(chain_at(L("expired"), L("expired"), 1577836800 /* 2020-01-01 */, why,
				  sizeof(why), NULL), 0);
	assert_int_equal(chain_at(L("expired"), L("expired"), 1577836799, why, sizeof(why), NULL),
			 KITE_ERR_VERIFY);
	assert_non_null(strstr(why, "is not valid before 2020-01-01 00:00:00 UTC"));
	x509_cert_free(c);
	/* under the root, before the root itself was valid: the CA's dates refuse it */
	assert_int_equal(chain_at(L("root_rsa"), L("expired"), 1577836800, why, sizeof(why), NULL),
			 KITE_ERR_VERIFY);
	assert_non_null(strstr(why, "CA certificate 'C=CH, O=kite, CN=kite Test Root RSA' is not "
			       "valid before"));
	/* the CA's own validity counts: years after it expired */
	assert_int_equal(chain_at(L("root_rsa"), L("gw_rsa"), time(NULL) + 20 * 365 * 86400L, why,
				  sizeof(why), NULL), KITE_ERR_VERIFY);
	assert_non_null(strstr(why, "expired on"));
}

static void test_extended_key_usage(void **state)
{
	NEED_CERTS();
	expect_refused(L("root_rsa"), L("eku_client"), "is not for IKE servers (extended key "
		       "usage clientAuth)");
	/* id-kp-ipsecIKE (RFC 4945), serverAuth + ikeIntermediate, or none at all */
	expect_ok(L("root_rsa"), L("eku_ipsec"));
	expect_ok(L("root_ec"), L("gw_ec", "int_ec"));
	expect_ok(L("root_ec"), L("gw_p384"));
}

static void test_key_usage(void **state)
{
	NEED_CERTS();
	expect_refused(L("root_rsa"), L("ku_keyenc"), "may not be used for signatures (key usage)");
	expect_refused(L("root_rsa"), L("under_noks", "noks"),
		       "may not sign certificates (key usage)");
}

static void test_chain_too_deep(void **state)
{
	NEED_CERTS();
	/* four certificates below the root: the limit */
	expect_ok(L("root_rsa"), L("deep_ok", "deep3", "deep2", "deep1"));
	expect_refused(L("root_rsa"), L("deep_bad", "deep4", "deep3", "deep2", "deep1"),
		       "certificate chain is too deep (more than 4 certificates below the CA)");
}

static void test_unknown_ca(void **state)
{
	NEED_CERTS();
	expect_refused(L("root_rsa"), L("other_gw"),
		       "issuer not trusted (C=CH, O=kite, CN=kite Other Root)");
	/* the gateway sending its (untrusted) root along changes nothing */
	expect_refused(L("root_rsa"), L("other_gw", "root_other"),
		       "self-signed certificate 'C=CH, O=kite, CN=kite Other Root' is not trusted");
	expect_refused(L("root_rsa", "root_ec"), L("self_gw"),
		       "self-signed certificate 'CN=self.kite.test' is not trusted");
}

static void test_weak_and_unsupported_keys(void **state)
{
	struct x509_store *s;
	char why[X509_REASON_LEN];
	const uint8_t *der;
	size_t len;
	struct x509_cert *w;

	NEED_CERTS();
	expect_refused(L("root_rsa"), L("weak_ee"), "RSA key of 1024 bits is too weak (need 2048)");
	expect_refused(L("root_ec"), L("p521_ee"), "P-521 is not accepted (need P-256 or P-384)");
	/* a weak root in the store: kept, so the refusal names it */
	s = x509_store_new();
	w = cert("root_weak");
	der = x509_cert_der(w, &len);
	assert_int_equal(x509_store_add(s, der, len, why, sizeof(why)), 0);
	assert_int_equal(x509_store_count(s), 1);
	x509_cert_free(w);
	x509_store_free(s);
	expect_refused(L("root_weak"), L("weak_gw"), "RSA key of 1024 bits is too weak");
}

static void test_sha1_signed_certificate_refused(void **state)
{
	NEED_CERTS();
	expect_refused(L("root_rsa"), L("sha1"), "SHA-1 signatures are refused");
}

static void test_unknown_critical_extension_refused(void **state)
{
	NEED_CERTS();
	expect_refused(L("root_rsa"), L("crit_ext"), "unsupported critical extension 1.2.3.4.5");
}

static void test_path_length_and_ca_flag(void **state)
{
	NEED_CERTS();
	expect_refused(L("root_ec"), L("under_pathlen", "ca2", "int_ec"),
		       "path length constraint of intermediate CA 'C=CH, O=kite, "
		       "CN=kite Intermediate EC' exceeded (1 > 0)");
	expect_refused(L("root_rsa"), L("under_noca", "gw_rsa"),
		       "certificate 'C=CH, O=kite, CN=gw.kite.test' is not a CA certificate");
}

static void test_name_constraints(void **state)
{
	NEED_CERTS();
	expect_ok(L("root_nc"), L("nc_in"));
	expect_refused(L("root_nc"), L("nc_out"), "violates the name constraints of CA");
}

static void test_pinned_end_entity(void **state)
{
	NEED_CERTS();
	/* the gateway's own certificate as the trust anchor: no CA needed */
	expect_ok(L("gw_rsa"), L("gw_rsa"));
	expect_refused(L("expired"), L("expired"), "expired on");
}

static void test_bad_signatures(void **state)
{
	struct x509_cert *c = NULL;
	struct x509_store *s;
	uint8_t *der;
	const uint8_t *p;
	size_t len, i;
	char why[X509_REASON_LEN];
	const uint8_t *certs[1];

	NEED_CERTS();
	s = store(L("root_rsa"));
	c = cert("gw_rsa");
	p = x509_cert_der(c, &len);
	der = malloc(len);
	/* the last byte is signature; "gw.kite.test" appears inside the signed part */
	memcpy(der, p, len);
	der[len - 1] ^= 1;
	certs[0] = der;
	assert_int_equal(x509_verify_chain(s, certs, &len, 1, time(NULL), NULL, why, sizeof(why)),
			 KITE_ERR_VERIFY);
	assert_non_null(strstr(why, "bad signature on certificate 'C=CH, O=kite, "
			       "CN=gw.kite.test' (issuer 'C=CH, O=kite, CN=kite Test Root RSA')"));
	memcpy(der, p, len);
	for (i = 0; i + 12 < len; i++)
		if (memcmp(der + i, "gw.kite.test", 12) == 0)
			break;
	assert_true(i + 12 < len);
	der[i] = 'G';
	assert_int_equal(x509_verify_chain(s, certs, &len, 1, time(NULL), NULL, why, sizeof(why)),
			 KITE_ERR_VERIFY);
	assert_non_null(strstr(why, "bad signature"));
	free(der);
	x509_cert_free(c);
	x509_store_free(s);
}

static void test_chain_arguments(void **state)
{
	struct x509_store *s;
	const uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
	const uint8_t *certs[1] = { junk };
	size_t len = sizeof(junk);
	char why[X509_REASON_LEN];
	struct x509_cert *ee = (struct x509_cert *)1;

	NEED_CERTS();
	s = store(L("root_rsa"));
	assert_int_equal(x509_verify_chain(s, certs, &len, 1, time(NULL), &ee, why, sizeof(why)),
			 KITE_ERR_PARSE);
	assert_null(ee);
	assert_non_null(strstr(why, "malformed certificate"));
	assert_int_equal(x509_verify_chain(s, certs, &len, 0, time(NULL), &ee, why, sizeof(why)),
			 KITE_ERR_INVAL);
	/* reason may be NULL */
	assert_int_equal(x509_verify_chain(s, certs, &len, 1, time(NULL), NULL, NULL, 0),
			 KITE_ERR_PARSE);
	x509_store_free(s);
}

/* OpenIKED-style mutation: every bit of a certificate flipped, every length cut. */
static void test_certificate_mutations_never_crash(void **state)
{
	struct x509_cert *c, *m;
	struct x509_store *s;
	const uint8_t *p;
	uint8_t *der;
	size_t len, bit, cut, ok = 0;
	char why[X509_REASON_LEN];

	NEED_CERTS();
	s = store(L("root_ec"));
	c = cert("gw_p384");
	p = x509_cert_der(c, &len);
	for (bit = 0; bit < len * 8; bit++) {
		der = malloc(len);
		memcpy(der, p, len);
		der[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if ((m = x509_cert_parse(der, len, why, sizeof(why))) != NULL) {
			const uint8_t *certs[1] = { der };

			/* a changed certificate never verifies */
			assert_int_not_equal(x509_verify_chain(s, certs, &len, 1, time(NULL), NULL,
							       why, sizeof(why)), 0);
			x509_cert_free(m);
			ok++;
		}
		free(der);
	}
	for (cut = 0; cut < len; cut++) {
		der = malloc(cut ? cut : 1);
		memcpy(der, p, cut);
		assert_null(x509_cert_parse(der, cut, why, sizeof(why)));
		free(der);
	}
	/* most flips inside values still parse: the parser was exercised beyond the header */
	assert_true(ok > len * 4);
	x509_cert_free(c);
	x509_store_free(s);
}

/* ---- identities ---- */

static void test_identity_in_subject_alt_name(void **state)
{
	static const uint8_t v4[4] = { 192, 0, 2, 1 }, v4b[4] = { 192, 0, 2, 2 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	struct x509_cert *c;
	const uint8_t *dn;
	size_t dn_len;
	char why[X509_REASON_LEN];

	NEED_CERTS();
	c = cert("gw_rsa");
	assert_int_equal(x509_id_match(c, IKEV2_ID_FQDN, (const uint8_t *)"gw.kite.test", 12,
				       why, sizeof(why)), 0);
	assert_int_equal(x509_id_match(c, IKEV2_ID_FQDN, (const uint8_t *)"GW.Kite.TEST", 12,
				       why, sizeof(why)), 0);
	assert_int_equal(x509_id_match(c, IKEV2_ID_FQDN, (const uint8_t *)"gw.kite.tes", 11,
				       why, sizeof(why)), KITE_ERR_VERIFY);
	assert_string_equal(why, "certificate is for 'gw.kite.test', not 'gw.kite.tes'");
	assert_int_equal(x509_id_match(c, IKEV2_ID_IPV4_ADDR, v4, 4, why, sizeof(why)), 0);
	assert_int_equal(x509_id_match(c, IKEV2_ID_IPV4_ADDR, v4b, 4, why, sizeof(why)),
			 KITE_ERR_VERIFY);
	assert_string_equal(why, "certificate is for '192.0.2.1', not '192.0.2.2'");
	assert_int_equal(x509_id_match(c, IKEV2_ID_IPV6_ADDR, v6, 16, why, sizeof(why)), 0);
	assert_int_equal(x509_id_match(c, IKEV2_ID_IPV4_ADDR, v6, 16, why, sizeof(why)),
			 KITE_ERR_VERIFY);
	assert_int_equal(x509_id_match(c, IKEV2_ID_RFC822_ADDR, (const uint8_t *)"gw@kite.test",
				       12, why, sizeof(why)), 0);
	dn = x509_cert_subject(c, &dn_len);
	assert_int_equal(x509_id_match(c, IKEV2_ID_DER_ASN1_DN, dn, dn_len, why, sizeof(why)), 0);
	assert_int_equal(x509_id_match(c, IKEV2_ID_DER_ASN1_DN, dn, dn_len - 1, why, sizeof(why)),
			 KITE_ERR_VERIFY);
	assert_int_equal(x509_id_match(c, IKEV2_ID_KEY_ID, (const uint8_t *)"k", 1, why,
				       sizeof(why)), KITE_ERR_UNSUPPORTED);
	x509_cert_free(c);

	/* the wrong name, and no name: the subject CN is not used for FQDN */
	c = cert("wrong_san");
	assert_int_equal(x509_id_match(c, IKEV2_ID_FQDN, (const uint8_t *)"gw.kite.test", 12,
				       why, sizeof(why)), KITE_ERR_VERIFY);
	assert_string_equal(why, "certificate is for 'other.example', not 'gw.kite.test'");
	x509_cert_free(c);
	c = cert("no_san");
	assert_int_equal(x509_id_match(c, IKEV2_ID_FQDN, (const uint8_t *)"gw.kite.test", 12,
				       why, sizeof(why)), KITE_ERR_VERIFY);
	assert_non_null(strstr(why, "names no DNS name (subjectAltName)"));
	x509_cert_free(c);
}

static void test_identity_equals_config(void **state)
{
	static const uint8_t v4[4] = { 192, 0, 2, 1 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	struct x509_cert *c;
	const uint8_t *dn;
	size_t dn_len;
	char s[128];

	NEED_CERTS();
	assert_true(x509_id_equals_config(IKEV2_ID_FQDN, (const uint8_t *)"gw.kite.test", 12,
					  "GW.kite.test"));
	assert_false(x509_id_equals_config(IKEV2_ID_FQDN, (const uint8_t *)"gw.kite.test", 12,
					   "gw.kite.test."));
	assert_true(x509_id_equals_config(IKEV2_ID_IPV4_ADDR, v4, 4, "192.0.2.1"));
	assert_false(x509_id_equals_config(IKEV2_ID_IPV4_ADDR, v4, 4, "192.0.2.10"));
	assert_true(x509_id_equals_config(IKEV2_ID_IPV6_ADDR, v6, 16, "2001:DB8::1"));
	assert_false(x509_id_equals_config(IKEV2_ID_IPV6_ADDR, v6, 16, "gw.kite.test"));
	c = cert("gw_rsa");
	dn = x509_cert_subject(c, &dn_len);
	assert_true(x509_id_equals_config(IKEV2_ID_DER_ASN1_DN, dn, dn_len,
					  "C=CH, O=kite, CN=gw.kite.test"));
	assert_true(x509_id_equals_config(IKEV2_ID_DER_ASN1_DN, dn, dn_len,
					  "c = CH,o=kite ,  commonName=gw.kite.test"));
	assert_false(x509_id_equals_config(IKEV2_ID_DER_ASN1_DN, dn, dn_len,
					   "C=CH, O=kite, CN=GW.kite.test"));
	assert_false(x509_id_equals_config(IKEV2_ID_DER_ASN1_DN, dn, dn_len, "C=CH, O=kite"));
	assert_false(x509_id_equals_config(IKEV2_ID_DER_ASN1_DN, dn, dn_len,
					   "O=kite, C=CH, CN=gw.kite.test"));
	assert_false(x509_id_equals_config(IKEV2_ID_DER_ASN1_DN, dn, dn_len, "gw.kite.test"));
	x509_id_string(IKEV2_ID_DER_ASN1_DN, dn, dn_len, s, sizeof(s));
	assert_string_equal(s, "C=CH, O=kite, CN=gw.kite.test");
	x509_id_string(IKEV2_ID_IPV6_ADDR, v6, 16, s, sizeof(s));
	assert_string_equal(s, "2001:db8::1");
	x509_id_string(IKEV2_ID_FQDN, (const uint8_t *)"a\x1b[31m", 6, s, sizeof(s));
	assert_string_equal(s, "a?[31m");
	x509_cert_free(c);
}

/* ---- AUTH ---- */

/* DER ECDSA-Sig-Value -> r | s of n bytes each (RFC 4754 7). */
static void der_to_raw(const uint8_t *der, size_t len, size_t n, uint8_t *out)
{
	size_t off = 2, l, i;

	assert_true(len > 8 && der[0] == 0x30);
	memset(out, 0, 2 * n);
	for (i = 0; i < 2; i++) {
		assert_int_equal(der[off], 0x02);
		l = der[off + 1];
		off += 2;
		while (l > n) {
			off++;
			l--;
		}
		memcpy(out + i * n + (n - l), der + off, l);
		off += l;
	}
}

static size_t rfc7427(uint8_t *out, const uint8_t *algid, size_t alen, const uint8_t *sig,
		      size_t slen)
{
	out[0] = (uint8_t)alen;
	memcpy(out + 1, algid, alen);
	memcpy(out + 1 + alen, sig, slen);
	return 1 + alen + slen;
}

static const uint8_t algid_sha256_rsa[] = {
	0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00,
};
static const uint8_t algid_sha1_rsa[] = {
	0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00,
};
static const uint8_t algid_pss_sha384_salt48[] = {
	0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a,
	0x30, 0x34,
	0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
	0x02, 0x05, 0x00,
	0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01,
	0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
	0x05, 0x00,
	0xa2, 0x03, 0x02, 0x01, 0x30,
};
static const uint8_t algid_pss_default[] = {	/* RSASSA-PSS with all-default (SHA-1) params */
	0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x00,
};
static const uint8_t algid_ecdsa_sha256[] = {
	0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
};
static const uint8_t algid_ecdsa_sha384[] = {
	0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03,
};
static const uint8_t algid_ecdsa_sha512[] = {
	0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04,
};
static const uint8_t algid_ed25519[] = { 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70 };

static void auth_ok(struct x509_cert *c, uint8_t method, const uint8_t *a, size_t alen,
		    uint8_t *msg, size_t mlen)
{
	char why[X509_REASON_LEN];

	if (x509_verify_auth(c, method, a, alen, msg, mlen, why, sizeof(why)) != 0)
		fail_msg("AUTH method %u refused: %s", method, why);
	/* the signed octets changed: refused */
	msg[mlen / 2] ^= 0x20;
	assert_int_equal(x509_verify_auth(c, method, a, alen, msg, mlen, why, sizeof(why)),
			 KITE_ERR_VERIFY);
	msg[mlen / 2] ^= 0x20;
}

static void test_auth_signatures_made_by_openssl(void **state)
{
	struct x509_cert *rsa, *ec, *p384, *ed;
	uint8_t *msg, *sig, a[1200], raw[96];
	size_t mlen, slen, alen;
	char why[X509_REASON_LEN];

	NEED_CERTS();
	rsa = cert("gw_rsa");
	ec = cert("gw_ec");
	p384 = cert("gw_p384");
	ed = cert("gw_ed");
	msg = slurp("msg.bin", &mlen);

	/* RFC 7427 with RSA PKCS#1 v1.5 / SHA-256 */
	sig = slurp("sig_rsa_pkcs1.bin", &slen);
	alen = rfc7427(a, algid_sha256_rsa, sizeof(algid_sha256_rsa), sig, slen);
	auth_ok(rsa, IKEV2_AUTH_DIGITAL_SIGNATURE, a, alen, msg, mlen);
	/* the same signature labelled SHA-1: refused by policy, with the reason */
	alen = rfc7427(a, algid_sha1_rsa, sizeof(algid_sha1_rsa), sig, slen);
	assert_int_equal(x509_verify_auth(rsa, IKEV2_AUTH_DIGITAL_SIGNATURE, a, alen, msg, mlen,
					  why, sizeof(why)), KITE_ERR_VERIFY);
	assert_non_null(strstr(why, "SHA-1 signatures are refused"));
	/* method 1 is RSA with SHA-1 (RFC 7296 3.8): refused */
	assert_int_equal(x509_verify_auth(rsa, IKEV2_AUTH_RSA_SIG, sig, slen, msg, mlen, why,
					  sizeof(why)), KITE_ERR_VERIFY);
	assert_non_null(strstr(why, "AUTH method 1 (RSA with SHA-1)"));
	/* the wrong key */
	alen = rfc7427(a, algid_sha256_rsa, sizeof(algid_sha256_rsa), sig, slen);
	assert_int_equal(x509_verify_auth(ec, IKEV2_AUTH_DIGITAL_SIGNATURE, a, alen, msg, mlen,
					  why, sizeof(why)), KITE_ERR_VERIFY);
	assert_non_null(strstr(why, "does not match the key type"));
	free(sig);

	/* RSA-PSS, SHA-384, MGF1-SHA-384, salt 48 */
	sig = slurp("sig_rsa_pss384.bin", &slen);
	alen = rfc7427(a, algid_pss_sha384_salt48, sizeof(algid_pss_sha384_salt48), sig, slen);
	auth_ok(rsa, IKEV2_AUTH_DIGITAL_SIGNATURE, a, alen, msg, mlen);
	/* labelled with the PKCS#1 v1.5 algorithm instead: refused */
	alen = rfc7427(a, algid_sha256_rsa, sizeof(algid_sha256_rsa), sig, slen);
	assert_int_equal(x509_verify_auth(rsa, IKEV2_AUTH_DIGITAL_SIGNATURE, a, alen, msg, mlen,
					  why, sizeof(why)), KITE_ERR_VERIFY);
	assert_non_null(strstr(why, "bad AUTH signature"));
	alen = rfc7427(a, algid_pss_default, sizeof(algid_pss_default), sig, slen);
	assert_int_equal(x509_verify_auth(rsa, IKEV2_AUTH_DIGITAL_SIGNATURE, a, alen, msg, mlen,
					  why, sizeof(why)), KITE_ERR_VERIFY);
	assert_non_null(strstr(why, "SHA-1"));
	free(sig);

	/* ECDSA P-256: RFC 7427 (DER) and RFC 4754 method 9 (r | s) */
	sig = slurp("sig_ec256.der", &slen);
	alen = rfc7427(a, algid_ecdsa_sha256, sizeof(algid_ecdsa_sha256), sig, slen);
	auth_ok(ec, IKEV2_AUTH_DIGITAL_SIGNATURE, a, alen, msg, mlen);
	der_to_raw(sig, slen, 32, raw);
	auth_ok(ec, IKEV2_AUTH_ECDSA_256, raw, 64, msg, mlen);
	assert_int_equal(x509_verify_auth(ec, IKEV2_AUTH_ECDSA_384, raw, 64, msg, mlen, why,
					  sizeof(why)), KITE_ERR_VERIFY);
	assert_int_equal(x509_verify_auth(ec, IKEV2_AUTH_ECDSA_256, raw, 63, msg, mlen, why,
					  sizeof(why)), KITE_ERR_VERIFY);
	/* a non-DER encoding of the same signature (long-form length) is refused */
	{
		uint8_t ber[200];

		ber[0] = 0x30;
		ber[1] = 0x81;
		ber[2] = sig[1];
		memcpy(ber + 3, sig + 2, slen - 2);
		alen = rfc7427(a, algid_ecdsa_sha256, sizeof(algid_ecdsa_sha256), ber, slen + 1);
		assert_int_equal(x509_verify_auth(ec, IKEV2_AUTH_DIGITAL_SIGNATURE, a, alen, msg,
						  mlen, why, sizeof(why)), KITE_ERR_VERIFY);
	}
	free(sig);

	/* P-256 with SHA-512 (RFC 7427 lets the hash differ from the curve) */
	sig = slurp("sig_ec256_sha512.der", &slen);
	alen = rfc7427(a, algid_ecdsa_sha512, sizeof(algid_ecdsa_sha512), sig, slen);
	auth_ok(ec, IKEV2_AUTH_DIGITAL_SIGNATURE, a, alen, msg, mlen);
	alen = rfc7427(a, algid_ecdsa_sha256, sizeof(algid_ecdsa_sha256), sig, slen);
	assert_int_equal(x509_verify_auth(ec, IKEV2_AUTH_DIGITAL_SIGNATURE, a, alen, msg, mlen,
					  why, sizeof(why)), KITE_ERR_VERIFY);
	free(sig);

	/* ECDSA P-384: RFC 7427 and method 10 */
	sig = slurp("sig_ec384.der", &slen);
	alen = rfc7427(a, algid_ecdsa_sha384, sizeof(algid_ecdsa_sha384), sig, slen);
	auth_ok(p384, IKEV2_AUTH_DIGITAL_SIGNATURE, a, alen, msg, mlen);
	der_to_raw(sig, slen, 48, raw);
	auth_ok(p384, IKEV2_AUTH_ECDSA_384, raw, 96, msg, mlen);
	free(sig);

	/* Ed25519 (RFC 8420) */
	sig = slurp("sig_ed.bin", &slen);
	assert_int_equal(slen, 64);
	alen = rfc7427(a, algid_ed25519, sizeof(algid_ed25519), sig, slen);
	auth_ok(ed, IKEV2_AUTH_DIGITAL_SIGNATURE, a, alen, msg, mlen);
	free(sig);

	/* other methods and malformed RFC 7427 data */
	assert_int_equal(x509_verify_auth(ec, IKEV2_AUTH_SHARED_KEY_MIC, raw, 32, msg, mlen, why,
					  sizeof(why)), KITE_ERR_VERIFY);
	assert_int_equal(x509_verify_auth(ec, IKEV2_AUTH_ECDSA_521, raw, 32, msg, mlen, why,
					  sizeof(why)), KITE_ERR_UNSUPPORTED);
	assert_int_equal(x509_verify_auth(ec, IKEV2_AUTH_DIGITAL_SIGNATURE, (const uint8_t *)"\x00\x01",
					  2, msg, mlen, why, sizeof(why)), KITE_ERR_PARSE);
	/* the AlgorithmIdentifier ends the data: no signature */
	assert_int_equal(x509_verify_auth(ed, IKEV2_AUTH_DIGITAL_SIGNATURE, a, 8, msg, mlen, why,
					  sizeof(why)), KITE_ERR_PARSE);
	a[0] = 0x30;	/* AlgorithmIdentifier length swallowing the signature */
	assert_int_not_equal(x509_verify_auth(ec, IKEV2_AUTH_DIGITAL_SIGNATURE, a, 60, msg, mlen,
					      why, sizeof(why)), 0);

	free(msg);
	x509_cert_free(rsa);
	x509_cert_free(ec);
	x509_cert_free(p384);
	x509_cert_free(ed);
}

static void test_auth_sign_verify_round_trips(void **state)
{
	static const struct {
		const char *key, *cert;
		unsigned flags;
	} cases[] = {
		{ "gw_rsa.key", "gw_rsa", 0 },			/* RSA-PSS SHA-256 */
		{ "gw_rsa.key", "gw_rsa", X509_SIGN_RSA_PKCS1 },
		{ "gw_ec.key", "gw_ec", 0 },			/* ECDSA P-256 SHA-256 */
		{ "gw_p384.key", "gw_p384", 0 },		/* ECDSA P-384 SHA-384 */
		{ "gw_ed.key", "gw_ed", 0 },			/* Ed25519 */
	};
	uint8_t so[300], out[X509_MAX_AUTH], method = 0;
	size_t i, len;
	char why[X509_REASON_LEN];

	NEED_CERTS();
	for (i = 0; i < sizeof(so); i++)
		so[i] = (uint8_t)(i * 31);
	for (i = 0; i < KITE_ARRAY_SIZE(cases); i++) {
		struct x509_key *k = x509_key_load(path(cases[i].key), NULL, NULL, why, sizeof(why));
		struct x509_cert *c = cert(cases[i].cert), *other = cert("gw_p384");

		if (k == NULL)
			fail_msg("%s: %s", cases[i].key, why);
		assert_true(x509_key_matches_cert(k, c));
		assert_int_equal(x509_key_matches_cert(k, other), i == 3);
		assert_int_equal(x509_sign_auth(k, cases[i].flags, so, sizeof(so), &method, out,
						sizeof(out), &len, why, sizeof(why)), 0);
		assert_int_equal(method, IKEV2_AUTH_DIGITAL_SIGNATURE);
		auth_ok(c, method, out, len, so, sizeof(so));
		if (i != 3)
			assert_int_not_equal(x509_verify_auth(other, method, out, len, so, sizeof(so),
							      why, sizeof(why)), 0);
		/* too small an output buffer */
		assert_int_not_equal(x509_sign_auth(k, cases[i].flags, so, sizeof(so), &method, out,
						    40, &len, why, sizeof(why)), 0);
		x509_key_free(k);
		x509_cert_free(c);
		x509_cert_free(other);
	}
	x509_key_free(NULL);
}

static void test_rsa_pss_algid_is_rfc7427_encoding(void **state)
{
	struct x509_key *k;
	uint8_t so[4] = { 1, 2, 3, 4 }, out[X509_MAX_AUTH], method;
	size_t len;
	char why[X509_REASON_LEN];
	/* RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32 (as strongSwan encodes it) */
	static const uint8_t want[] = {
		0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30,
		0x34, 0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
		0x02, 0x01, 0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
		0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
		0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x20,
	};

	NEED_CERTS();
	k = x509_key_load(path("gw_rsa.key"), NULL, NULL, why, sizeof(why));
	assert_non_null(k);
	assert_int_equal(x509_sign_auth(k, 0, so, sizeof(so), &method, out, sizeof(out), &len,
					why, sizeof(why)), 0);
	assert_int_equal(out[0], sizeof(want));
	assert_memory_equal(out + 1, want, sizeof(want));
	assert_int_equal(len, 1 + sizeof(want) + 256);
	x509_key_free(k);
}

/* ---- the client's key ---- */

static int pass_cb(char *buf, size_t cap, void *arg)
{
	const char *p = arg;
	size_t n = strlen(p);

	if (n > cap)
		return -1;
	memcpy(buf, p, n);
	return (int)n;
}

static void test_key_forms(void **state)
{
	static const struct {
		const char *file, *cert;
	} ok[] = {
		{ "gw_rsa.key", "gw_rsa" },		/* PKCS#8 PEM */
		{ "gw_rsa_pkcs1.pem", "gw_rsa" },	/* RSA PRIVATE KEY */
		{ "gw_rsa_pkcs1.der", "gw_rsa" },
		{ "gw_ec.key", "gw_ec" },
		{ "gw_ec_sec1.pem", "gw_ec" },		/* EC PRIVATE KEY */
		{ "gw_ec_pkcs8.der", "gw_ec" },
		{ "gw_ec_params_first.pem", "gw_ec" },	/* EC PARAMETERS block first */
		{ "gw_p384.key", "gw_p384" },
		{ "gw_ed.key", "gw_ed" },
	};
	struct x509_key *k;
	struct x509_cert *c;
	char why[X509_REASON_LEN];
	size_t i;

	NEED_CERTS();
	for (i = 0; i < KITE_ARRAY_SIZE(ok); i++) {
		k = x509_key_load(path(ok[i].file), NULL, NULL, why, sizeof(why));
		if (k == NULL)
			fail_msg("%s: %s", ok[i].file, why);
		c = cert(ok[i].cert);
		assert_true(x509_key_matches_cert(k, c));
		x509_key_free(k);
		x509_cert_free(c);
	}
}

static void test_encrypted_keys(void **state)
{
	struct x509_key *k;
	struct x509_cert *c;
	char why[X509_REASON_LEN];

	NEED_CERTS();
	/* PKCS#8 with PBES2 / AES-256-CBC, PEM and DER */
	k = x509_key_load(path("gw_ec_enc.pem"), pass_cb, (void *)"kite-secret", why, sizeof(why));
	if (k == NULL)
		fail_msg("gw_ec_enc.pem: %s", why);
	c = cert("gw_ec");
	assert_true(x509_key_matches_cert(k, c));
	x509_cert_free(c);
	x509_key_free(k);
	k = x509_key_load(path("gw_rsa_enc.der"), pass_cb, (void *)"kite-secret", why,
			  sizeof(why));
	if (k == NULL)
		fail_msg("gw_rsa_enc.der: %s", why);
	x509_key_free(k);
	/* wrong passphrase, none at all, and a refused prompt */
	assert_null(x509_key_load(path("gw_ec_enc.pem"), pass_cb, (void *)"wrong", why,
				  sizeof(why)));
	assert_non_null(strstr(why, "wrong passphrase"));
	assert_null(x509_key_load(path("gw_ec_enc.pem"), NULL, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "encrypted and no passphrase"));
	/* legacy OpenSSL encryption: refused with advice */
	assert_null(x509_key_load(path("gw_rsa_legacy.pem"), pass_cb, (void *)"x", why,
				  sizeof(why)));
	assert_non_null(strstr(why, "openssl pkcs8 -topk8"));
}

static void test_key_refusals(void **state)
{
	char why[X509_REASON_LEN];
	size_t len;
	uint8_t *data;

	NEED_CERTS();
	/* readable by others */
	assert_null(x509_key_load(path("gw_ec_open.key"), NULL, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "chmod 600"));
	assert_null(x509_key_load(path("weak.key"), NULL, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "RSA key of 1024 bits refused"));
	assert_null(x509_key_load(path("p521.key"), NULL, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "P-256 or P-384"));
	assert_null(x509_key_load(path("nonexistent.key"), NULL, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "No such file"));
	/* a certificate is not a key */
	data = slurp("gw_rsa.crt", &len);
	assert_null(x509_key_parse(data, len, NULL, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "no private key"));
	free(data);
	data = slurp("gw_rsa.der", &len);
	assert_null(x509_key_parse(data, len, NULL, NULL, why, sizeof(why)));
	free(data);
}

static void test_certificate_file_with_chain(void **state)
{
	struct x509_cert *c[4];
	char why[X509_REASON_LEN], cmd[512];
	size_t n, i;

	NEED_CERTS();
	snprintf(cmd, sizeof(cmd), "cat %s %s > %s", path("gw_ec.crt"), path("int_ec.crt"),
		 path("gw_ec_chain.pem"));
	assert_int_equal(system(cmd), 0);
	assert_int_equal(x509_cert_load(path("gw_ec_chain.pem"), c, 4, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(x509_cert_name(c[0]), "C=CH, O=kite, CN=gw.kite.test");
	assert_string_equal(x509_cert_name(c[1]), "C=CH, O=kite, CN=kite Intermediate EC");
	for (i = 0; i < n; i++)
		x509_cert_free(c[i]);
	/* max 1: the end entity only */
	assert_int_equal(x509_cert_load(path("gw_ec_chain.pem"), c, 1, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 1);
	x509_cert_free(c[0]);
	assert_int_not_equal(x509_cert_load(path("gw_ec.key"), c, 4, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 0);
	assert_non_null(strstr(why, "no certificate"));
}

static void test_sig_hash_notify(void **state)
{
	uint8_t n[8];

	assert_int_equal(x509_sig_hash_notify(n), 8);
	assert_memory_equal(n, "\x00\x02\x00\x03\x00\x04\x00\x05", 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_from_file_directory_bundle),
		cmocka_unit_test(test_store_system),
		cmocka_unit_test(test_store_errors),
		cmocka_unit_test(test_certreq_keyhash_matches_openssl),
		cmocka_unit_test(test_good_rsa_2048_chain),
		cmocka_unit_test(test_good_ecdsa_chains),
		cmocka_unit_test(test_rsa_pss_signed_certificate_accepted),
		cmocka_unit_test(test_expired_and_not_yet_valid),
		cmocka_unit_test(test_extended_key_usage),
		cmocka_unit_test(test_key_usage),
		cmocka_unit_test(test_chain_too_deep),
		cmocka_unit_test(test_unknown_ca),
		cmocka_unit_test(test_weak_and_unsupported_keys),
		cmocka_unit_test(test_sha1_signed_certificate_refused),
		cmocka_unit_test(test_unknown_critical_extension_refused),
		cmocka_unit_test(test_path_length_and_ca_flag),
		cmocka_unit_test(test_name_constraints),
		cmocka_unit_test(test_pinned_end_entity),
		cmocka_unit_test(test_bad_signatures),
		cmocka_unit_test(test_chain_arguments),
		cmocka_unit_test(test_certificate_mutations_never_crash),
		cmocka_unit_test(test_identity_in_subject_alt_name),
		cmocka_unit_test(test_identity_equals_config),
		cmocka_unit_test(test_auth_signatures_made_by_openssl),
		cmocka_unit_test(test_auth_sign_verify_round_trips),
		cmocka_unit_test(test_rsa_pss_algid_is_rfc7427_encoding),
		cmocka_unit_test(test_key_forms),
		cmocka_unit_test(test_encrypted_keys),
		cmocka_unit_test(test_key_refusals),
		cmocka_unit_test(test_certificate_file_with_chain),
		cmocka_unit_test(test_sig_hash_notify),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
