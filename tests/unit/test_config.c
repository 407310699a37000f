/*
 * test_config: vpn.ini parsing (every key, defaults, file:line errors),
 * proposal strings, profile selection and pre-shared key files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kite.h"
#include "config.h"
#include "ikev2.h"

/* Lines 1-3; whatever a test appends starts at line 4. */
#define BASE	"[work]\ngateway = vpn.example.com\npsk_file = /etc/kite/work.psk\n"

static struct kite_config *cfg;
static char err[512];
static char tmpdir[64];

static int
setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/kite-test-config-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	config_free(cfg);
	free(cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static int
load(const char *text)
{
	config_free(cfg);
	err[0] = '\0';
	return config_load_string(cfg, "test.ini", text, err, sizeof(err));
}

static const struct kite_profile *
load_one(const char *text)
{
	const struct kite_profile *p;

	if (load(text) != 0) {
		print_error("unexpected error: %s\n", err);
		fail();
	}
	p = config_profile(cfg, NULL, err, sizeof(err));
	assert_non_null(p);
	return p;
}

/* The error starts with where ("test.ini:4:") and contains what. */
static void
expect_err_at(const char *text, const char *where, const char *what, int line)
{
	int r = load(text);

	if (r != KITE_ERR_CONFIG || strncmp(err, where, strlen(where)) != 0 ||
	    strstr(err, what) == NULL) {
		print_error("test line %d: r=%d err='%s' (want '%s' ... '%s')\n",
		    line, r, err, where, what);
		fail();
	}
	/* a failed load leaves nothing behind */
	assert_int_equal(cfg->n_profiles, 0);
	assert_null(cfg->path);
}
#define expect_err(text, where, what)	expect_err_at(text, where, what, __LINE__)

static void
write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
tmp_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

/* ---- defaults and keys ---- */

static void
test_config_defaults(void **state)
{
	const struct kite_profile *p = load_one(BASE);
	struct kite_proposal ike[KITE_MAX_PROPOSALS], esp[KITE_MAX_PROPOSALS];
	unsigned n_ike, n_esp;

	assert_string_equal(p->name, "work");
	assert_string_equal(p->file, "test.ini");
	assert_int_equal(p->line, 1);
	assert_string_equal(p->gateway, "vpn.example.com");
	assert_int_equal(p->gateway_port, 500);
	assert_null(p->local_id);
	assert_null(p->remote_id);
	assert_int_equal(p->auth, KITE_AUTH_PSK);
	assert_string_equal(p->psk_file, "/etc/kite/work.psk");
	assert_int_equal(p->eap_method, KITE_EAP_MSCHAPV2);
	assert_null(p->username);
	assert_null(p->password_file);
	assert_null(p->ca);
	assert_null(p->cert);
	assert_null(p->key);
	assert_null(p->updown);
	assert_int_equal(p->dataplane, KITE_DP_AUTO);
	assert_int_equal(p->mobike, 1);
	assert_int_equal(p->mobike_announce, 0);
	assert_int_equal(p->dpd_s, 30);
	assert_int_equal(p->reconnect, 1);
	assert_int_equal(p->dns, 1);
	assert_int_equal(p->ipv6_leak_block, 1);
	assert_int_equal(p->replay_window, 64);
	assert_int_equal(p->child_rekey_s, 3600);
	assert_int_equal(p->ike_rekey_s, 14400);
	assert_int_equal(p->retransmit_timeout_ms, 1000);
	assert_int_equal(p->retransmit_tries, 3);
	assert_int_equal(p->keepalive_s, 20);
	assert_int_equal(p->fragmentation, 1);
	assert_int_equal(p->fragment_size, 1280);

	/* proposals default to config_default_ike/esp */
	assert_int_equal(config_parse_proposals(config_default_ike, 0, ike,
	    KITE_MAX_PROPOSALS, &n_ike, err, sizeof(err)), 0);
	assert_int_equal(config_parse_proposals(config_default_esp, 1, esp,
	    KITE_MAX_PROPOSALS, &n_esp, err, sizeof(err)), 0);
	assert_int_equal(p->n_ike, n_ike);
	assert_int_equal(p->n_esp, n_esp);
	assert_memory_equal(p->ike, ike, sizeof(ike[0]) * n_ike);
	assert_memory_equal(p->esp, esp, sizeof(esp[0]) * n_esp);
}

static void
test_config_every_key(void **state)
{
	const struct kite_profile *p = load_one(
	    "[office-2.b_x]\n"
	    "gateway = 192.0.2.1:4500\n"
	    "local_id = alice@example.com\n"
	    "remote_id = vpn.example.com\n"
	    "auth = cert\n"
	    "psk_file = /etc/kite/x.psk\n"
	    "eap_method = tls\n"
	    "username = alice\n"
	    "password_file = /etc/kite/x.pass\n"
	    "ca = /etc/kite/ca.pem\n"
	    "cert = /etc/kite/client.pem\n"
	    "key = /etc/kite/client.key\n"
	    "ike = aes128gcm16-prfsha256-ecp256\n"
	    "esp = aes256-sha512-modp3072-esn\n"
	    "dataplane = tun\n"
	    "mobike = no\n"
	    "mobike_announce = yes\n"
	    "dpd = 0\n"
	    "reconnect = off\n"
	    "dns = false\n"
	    "ipv6_leak_block = 0\n"
	    "updown = /usr/lib/kite/updown\n"
	    "replay_window = 0\n"
	    "child_rekey = 30m\n"
	    "ike_rekey = 2d\n"
	    "retransmit_timeout = 500ms\n"
	    "retransmit_tries = 3\n"
	    "keepalive = 0\n"
	    "fragmentation = no\n"
	    "fragment_size = 576\n");

	assert_string_equal(p->name, "office-2.b_x");
	assert_string_equal(p->gateway, "192.0.2.1");
	assert_int_equal(p->gateway_port, 4500);
	assert_string_equal(p->local_id, "alice@example.com");
	assert_string_equal(p->remote_id, "vpn.example.com");
	assert_int_equal(p->auth, KITE_AUTH_CERT);
	assert_string_equal(p->psk_file, "/etc/kite/x.psk");
	assert_int_equal(p->eap_method, KITE_EAP_TLS);
	assert_string_equal(p->username, "alice");
	assert_string_equal(p->password_file, "/etc/kite/x.pass");
	assert_string_equal(p->ca, "/etc/kite/ca.pem");
	assert_string_equal(p->cert, "/etc/kite/client.pem");
	assert_string_equal(p->key, "/etc/kite/client.key");
	assert_int_equal(p->n_ike, 1);
	assert_int_equal(p->ike[0].encr[0], IKEV2_ENCR_AES_GCM_16);
	assert_int_equal(p->ike[0].encr_bits[0], 128);
	assert_int_equal(p->ike[0].prf[0], IKEV2_PRF_HMAC_SHA2_256);
	assert_int_equal(p->ike[0].dh[0], IKEV2_DH_ECP_256);
	assert_int_equal(p->n_esp, 1);
	assert_int_equal(p->esp[0].encr[0], IKEV2_ENCR_AES_CBC);
	assert_int_equal(p->esp[0].encr_bits[0], 256);
	assert_int_equal(p->esp[0].integ[0], IKEV2_INTEG_HMAC_SHA2_512_256);
	assert_int_equal(p->esp[0].dh[0], IKEV2_DH_MODP_3072);
	assert_int_equal(p->esp[0].esn, 1);
	assert_int_equal(p->dataplane, KITE_DP_TUN);
	assert_int_equal(p->mobike, 0);
	assert_int_equal(p->mobike_announce, 1);
	assert_int_equal(p->dpd_s, 0);
	assert_int_equal(p->reconnect, 0);
	assert_int_equal(p->dns, 0);
	assert_int_equal(p->ipv6_leak_block, 0);
	assert_string_equal(p->updown, "/usr/lib/kite/updown");
	assert_int_equal(p->replay_window, 0);
	assert_int_equal(p->child_rekey_s, 1800);
	assert_int_equal(p->ike_rekey_s, 2 * 86400);
	assert_int_equal(p->retransmit_timeout_ms, 500);
	assert_int_equal(p->retransmit_tries, 3);
	assert_int_equal(p->keepalive_s, 0);
	assert_int_equal(p->fragmentation, 0);
	assert_int_equal(p->fragment_size, 576);
}

static void
test_config_booleans(void **state)
{
	static const char *const yes[] = { "yes", "true", "1", "on", "YES", "On" };
	static const char *const no[] = { "no", "false", "0", "off", "No", "FALSE" };
	const struct kite_profile *p;
	char text[256];
	size_t i;

	for (i = 0; i < 6; i++) {
		snprintf(text, sizeof(text), BASE "mobike = %s\ndns = %s\n", no[i], yes[i]);
		p = load_one(text);
		assert_int_equal(p->mobike, 0);
		assert_int_equal(p->dns, 1);
	}
	expect_err(BASE "dns = maybe\n", "test.ini:4:", "dns: bad value 'maybe'");
	expect_err(BASE "mobike = 2\n", "test.ini:4:", "use yes or no");
}

static void
test_config_durations(void **state)
{
	const struct kite_profile *p;

	p = load_one(BASE "dpd = 45\nchild_rekey = 90s\nike_rekey = 3h\n"
	    "retransmit_timeout = 2s\nkeepalive = 1m\n");
	assert_int_equal(p->dpd_s, 45);
	assert_int_equal(p->child_rekey_s, 90);
	assert_int_equal(p->ike_rekey_s, 3 * 3600);
	assert_int_equal(p->retransmit_timeout_ms, 2000);
	assert_int_equal(p->keepalive_s, 60);

	expect_err(BASE "dpd = 30 s\n", "test.ini:4:", "dpd: bad duration");
	expect_err(BASE "dpd = 10x\n", "test.ini:4:", "bad duration");
	expect_err(BASE "dpd = -5\n", "test.ini:4:", "bad duration");
	expect_err(BASE "dpd = 99999999999999999999\n", "test.ini:4:", "bad duration");
	expect_err(BASE "dpd = 500ms\n", "test.ini:4:", "not whole seconds");
	expect_err(BASE "dpd = 2d\n", "test.ini:4:", "out of range");
	expect_err(BASE "child_rekey = 0\n", "test.ini:4:", "out of range (use 10s to 1d)");
	expect_err(BASE "ike_rekey = 5s\n", "test.ini:4:", "ike_rekey");
	expect_err(BASE "retransmit_timeout = 50ms\n", "test.ini:4:", "(use 100ms to 1m)");
	expect_err(BASE "keepalive = 2h\n", "test.ini:4:", "keepalive");
}

static void
test_config_retransmit_seconds_plain(void **state)
{
	/* a plain number is seconds for every duration, retransmit_timeout too */
	expect_err(BASE "retransmit_timeout = 250\n", "test.ini:4:", "out of range");
}

static void
test_config_numbers(void **state)
{
	const struct kite_profile *p;

	p = load_one(BASE "replay_window = 32\nfragment_size = 65000\nretransmit_tries = 0\n");
	assert_int_equal(p->replay_window, 32);
	assert_int_equal(p->fragment_size, 65000);
	assert_int_equal(p->retransmit_tries, 0);
	p = load_one(BASE "replay_window = 4096\n");
	assert_int_equal(p->replay_window, 4096);

	expect_err(BASE "replay_window = 16\n", "test.ini:4:", "replay_window: bad value '16'");
	expect_err(BASE "replay_window = 4097\n", "test.ini:4:", "32 to 4096");
	expect_err(BASE "fragment_size = 575\n", "test.ini:4:", "576 to 65000");
	expect_err(BASE "fragment_size = 65001\n", "test.ini:4:", "fragment_size");
	expect_err(BASE "fragment_size = 1k\n", "test.ini:4:", "fragment_size");
	expect_err(BASE "retransmit_tries = 21\n", "test.ini:4:", "0 to 20");
	expect_err(BASE "retransmit_tries = 4294967296\n", "test.ini:4:", "retransmit_tries");
}

static void
test_config_enums(void **state)
{
	const struct kite_profile *p;

	p = load_one(BASE "dataplane = xfrm\n");
	assert_int_equal(p->dataplane, KITE_DP_XFRM);
	p = load_one(BASE "dataplane = auto\n");
	assert_int_equal(p->dataplane, KITE_DP_AUTO);
	p = load_one("[e]\ngateway = g.example\nauth = eap\neap_method = md5\nusername = bob\n"
	    "password_file = /etc/kite/e.pass\nca = /etc/kite/ca.pem\n");
	assert_int_equal(p->auth, KITE_AUTH_EAP);
	assert_int_equal(p->eap_method, KITE_EAP_MD5);
	assert_string_equal(p->username, "bob");

	expect_err(BASE "dataplane = kernel\n", "test.ini:4:", "use auto, xfrm or tun");
	expect_err(BASE "auth = rsa\n", "test.ini:4:", "use psk, eap or cert");
	expect_err(BASE "eap_method = gtc\n", "test.ini:4:", "use mschapv2, md5 or tls");
}

static void
test_config_gateway_forms(void **state)
{
	static const struct {
		const char *in, *host;
		uint16_t port;
	} ok[] = {
		{ "vpn.example.com", "vpn.example.com", 500 },
		{ "vpn.example.com:4500", "vpn.example.com", 4500 },
		{ "vpn.example.com.", "vpn.example.com.", 500 },
		{ "gw_1", "gw_1", 500 },
		{ "192.0.2.1", "192.0.2.1", 500 },
		{ "192.0.2.1:1", "192.0.2.1", 1 },
		{ "2001:db8::1", "2001:db8::1", 500 },
		{ "[2001:db8::1]", "2001:db8::1", 500 },
		{ "[2001:db8::1]:4500", "2001:db8::1", 4500 },
		{ "[::1]:65535", "::1", 65535 },
	};
	static const char *const bad[] = {
		"vpn.example.com:0", "vpn.example.com:65536", "vpn.example.com:", "host:x",
		"[2001:db8::1", "[2001:db8::1]4500", "[192.0.2.1]:500", "2001:db8::zz",
		"1.2.3", "192.0.2.256", "-vpn.example.com", "vpn..example.com",
		"vpn.example.com-", "vpn example.com", ":500", "a:b:c",
	};
	const struct kite_profile *p;
	char text[256];
	size_t i;

	for (i = 0; i < KITE_ARRAY_SIZE(ok); i++) {
		snprintf(text, sizeof(text), "[w]\ngateway = %s\npsk_file = /k\n", ok[i].in);
		p = load_one(text);
		assert_string_equal(p->gateway, ok[i].host);
		assert_int_equal(p->gateway_port, ok[i].port);
	}
	for (i = 0; i < KITE_ARRAY_SIZE(bad); i++) {
		snprintf(text, sizeof(text), "[w]\npsk_file = /k\ngateway = %s\n", bad[i]);
		expect_err(text, "test.ini:3:", "gateway");
	}
}

/* ---- each documented error names file:line and the reason ---- */

static void
test_config_error_unknown_key(void **state)
{
	expect_err(BASE "frobnicate = 1\n", "test.ini:4:", "unknown key 'frobnicate'");
	expect_err(BASE "dpdd = 30s\n", "test.ini:4:", "did you mean 'dpd'?");
	expect_err(BASE "Gateway = x\n", "test.ini:4:", "unknown key");
}

static void
test_config_error_duplicate_section(void **state)
{
	expect_err(BASE "[home]\ngateway = h.example\npsk_file = /k\n[work]\n",
	    "test.ini:7:", "duplicate profile [work] (first at line 1");
}

static void
test_config_error_key_outside_section(void **state)
{
	expect_err("; comment\ngateway = x\n" BASE, "test.ini:2:",
	    "key 'gateway' is outside a profile");
}

static void
test_config_error_duplicate_key(void **state)
{
	expect_err(BASE "dpd = 10s\n\ndpd = 20s\n", "test.ini:6:",
	    "duplicate key 'dpd' in [work] (already set at line 4");
	/* the same key in two profiles is fine */
	assert_int_equal(load(BASE "dpd = 1\n[b]\ngateway = b.example\npsk_file = /k\ndpd = 2\n"), 0);
	assert_int_equal(cfg->n_profiles, 2);
	assert_int_equal(cfg->profiles[0].dpd_s, 1);
	assert_int_equal(cfg->profiles[1].dpd_s, 2);
	assert_int_equal(cfg->profiles[1].line, 5);
}

static void
test_config_error_missing_gateway(void **state)
{
	expect_err("[work]\npsk_file = /k\n", "test.ini:1:", "profile [work] has no gateway");
	expect_err(BASE "\n[empty]\n", "test.ini:5:", "[empty] has no gateway");
}

static void
test_config_error_auth_psk_without_psk_file(void **state)
{
	expect_err("[work]\ngateway = g\nauth = psk\n", "test.ini:3:",
	    "auth = psk needs psk_file");
	/* psk is the default: blame the profile header */
	expect_err("[work]\ngateway = g\n", "test.ini:1:", "auth = psk (the default) needs psk_file");
}

static void
test_config_error_auth_eap_without_username(void **state)
{
	expect_err("[w]\ngateway = g\nauth = eap\npassword_file = /p\nca = /ca\n",
	    "test.ini:3:", "auth = eap needs username");
	/* no password_file: asked on the terminal or handed over on the control socket */
	assert_int_equal(load("[w]\ngateway = g\nauth = eap\nusername = u\nca = /ca\n"), 0);
	expect_err("[w]\ngateway = g\nauth = eap\nusername = u\npassword_file = /p\n",
	    "test.ini:3:", "auth = eap needs ca");
	expect_err("[w]\ngateway = g\nauth = eap\neap_method = tls\nca = /ca\ncert = /c\n",
	    "test.ini:4:", "eap_method = tls needs cert and key");
	/* EAP-TLS needs no username or password */
	assert_int_equal(load("[w]\ngateway = g\nauth = eap\neap_method = tls\nca = /ca\n"
	    "cert = /c\nkey = /k\n"), 0);
}

static void
test_config_error_auth_cert_without_cert_key(void **state)
{
	expect_err("[w]\ngateway = g\nauth = cert\nca = /ca\n", "test.ini:3:",
	    "auth = cert needs cert and key");
	expect_err("[w]\ngateway = g\nauth = cert\nca = /ca\ncert = /c\n", "test.ini:3:",
	    "auth = cert needs key");
	expect_err("[w]\ngateway = g\nauth = cert\nca = /ca\nkey = /k\n", "test.ini:3:",
	    "auth = cert needs cert");
	expect_err("[w]\ngateway = g\nauth = cert\ncert = /c\nkey = /k\n", "test.ini:3:",
	    "auth = cert needs ca");
	assert_int_equal(load("[w]\ngateway = g\nauth = cert\nca = /ca\ncert = /c\nkey = /k\n"), 0);
}

static void
test_config_error_profile_name(void **state)
{
	expect_err("[my vpn]\ngateway = g\npsk_file = /k\n", "test.ini:1:",
	    "bad profile name '[my vpn]'");
	expect_err("[a/b]\ngateway = g\npsk_file = /k\n", "test.ini:1:", "bad profile name");
	expect_err("[]\ngateway = g\npsk_file = /k\n", "test.ini:1:", "bad profile name");
	/* 32 characters are fine, 33 are not */
	assert_int_equal(load("[abcdefghijklmnopqrstuvwxyz012345]\ngateway = g\npsk_file = /k\n"), 0);
	expect_err("[abcdefghijklmnopqrstuvwxyz0123456]\ngateway = g\npsk_file = /k\n",
	    "test.ini:1:", "1 to 32 characters");
}

static void
test_config_error_bad_values(void **state)
{
	expect_err(BASE "local_id =\n", "test.ini:4:", "local_id: empty value");
	expect_err(BASE "updown = updown.sh\n", "test.ini:4:", "updown: 'updown.sh' is not an absolute path");
	expect_err("[w]\ngateway = g\npsk_file = etc/kite/w.psk\n", "test.ini:3:", "absolute path");
	expect_err(BASE "remote_id = a\x01" "b\n", "test.ini:4:", "printable");
	expect_err(BASE "ike = aes256-sha1-modp2048\n", "test.ini:4:", "'sha1' refused");
	expect_err(BASE "esp = aes256gcm16-sha256\n", "test.ini:4:", "AEAD");
}

static void
test_config_error_syntax(void **state)
{
	expect_err(BASE "just words\n", "test.ini:4:", "syntax error");
	expect_err(BASE "[broken\ndpd = 1\n", "test.ini:4:", "syntax error");
	/* syntax errors are reported before values are looked at */
	expect_err(BASE "dpd = x\nno equals sign\n", "test.ini:5:", "syntax error");
}

static void
test_config_error_long_line(void **state)
{
	char text[512];
	char pad[CONFIG_MAX_LINE + 2];

	/* exactly CONFIG_MAX_LINE characters is fine (a valid key of that length) */
	memset(pad, 'a', sizeof(pad));
	snprintf(text, sizeof(text), BASE "local_id = %.*s\n", CONFIG_MAX_LINE - 11, pad);
	assert_int_equal(load(text), 0);
	assert_int_equal(strlen(cfg->profiles[0].local_id), CONFIG_MAX_LINE - 11);
	/* one more is an error naming the line, not a silently cut value */
	snprintf(text, sizeof(text), BASE "local_id = %.*s\ndpd = 1\n", CONFIG_MAX_LINE - 10, pad);
	expect_err(text, "test.ini:4:", "line longer than");
}

/* ---- syntax ---- */

static void
test_config_comments(void **state)
{
	const struct kite_profile *p = load_one(
	    "; leading comment\n"
	    "# hash comment\n"
	    "[work]   ; profile\n"
	    "gateway = vpn.example.com ; inline semicolon\n"
	    "psk_file = /etc/kite/#odd.psk   # inline hash; '#' inside a value stays\n"
	    "dpd = 10s\t# tab then hash\n"
	    "\n"
	    "   ; indented comment\n");

	assert_string_equal(p->gateway, "vpn.example.com");
	assert_string_equal(p->psk_file, "/etc/kite/#odd.psk");
	assert_int_equal(p->dpd_s, 10);
	expect_err("[work]\ngateway = g\npsk_file = /k\ndns = no;x\n", "test.ini:4:",
	    "dns: bad value 'no;x'");
	expect_err(BASE "dns = # only a comment\n", "test.ini:4:", "empty value");
}

static void
test_config_indent_and_continuation(void **state)
{
	const struct kite_profile *p = load_one(
	    "[work]\n"
	    "  gateway = vpn.example.com\n"
	    "\tpsk_file = /etc/kite/work.psk\n"
	    "    dns = no\n"
	    "ike = aes256gcm16-prfsha384-x25519,\n"
	    "      aes128gcm16-prfsha256-ecp256, ; second\n"
	    "      aes256-sha256-modp3072\n"
	    "  dpd = 5s\n");

	/* inih alone would read "  dns = no" as a continuation of psk_file */
	assert_string_equal(p->psk_file, "/etc/kite/work.psk");
	assert_int_equal(p->dns, 0);
	assert_int_equal(p->n_ike, 3);
	assert_int_equal(p->ike[1].dh[0], IKEV2_DH_ECP_256);
	assert_int_equal(p->ike[2].encr[0], IKEV2_ENCR_AES_CBC);
	assert_int_equal(p->dpd_s, 5);
	/* a continuation right after a header has nothing to continue */
	expect_err("[work]\n   aes256\n", "test.ini:2:", "syntax error");
}

static void
test_config_bom_crlf_colon(void **state)
{
	const struct kite_profile *p = load_one(
	    "\xef\xbb\xbf[work]\r\ngateway: vpn.example.com\r\npsk_file = /k\r\ndpd = 7\r\n");

	assert_string_equal(p->name, "work");
	assert_string_equal(p->gateway, "vpn.example.com");
	assert_int_equal(p->dpd_s, 7);
	/* no trailing newline at the end of the file */
	p = load_one("[w]\ngateway = g\npsk_file = /k");
	assert_string_equal(p->psk_file, "/k");
}

static void
test_config_several_profiles(void **state)
{
	assert_int_equal(load("[a]\ngateway = a.example\npsk_file = /a\n"
	    "[b]\ngateway = b.example:4500\npsk_file = /b\n"), 0);
	assert_int_equal(cfg->n_profiles, 2);
	assert_string_equal(cfg->profiles[0].name, "a");
	assert_string_equal(cfg->profiles[1].name, "b");
	assert_int_equal(cfg->profiles[1].gateway_port, 4500);
	assert_string_equal(cfg->profiles[1].psk_file, "/b");
	assert_ptr_equal(cfg->profiles[1].file, cfg->path);
}

static void
test_config_too_many_profiles(void **state)
{
	char *text, *w;
	int i;

	text = malloc(64 * (KITE_MAX_PROFILES + 1));
	assert_non_null(text);
	for (w = text, i = 0; i <= KITE_MAX_PROFILES; i++)
		w += sprintf(w, "[p%d]\ngateway = g\npsk_file = /k\n", i);
	expect_err(text, "test.ini:97:", "more than 32 profiles");
	free(text);
}

/* ---- config_profile ---- */

static void
test_config_profile_selection(void **state)
{
	const struct kite_profile *p;

	assert_int_equal(load(BASE), 0);
	p = config_profile(cfg, NULL, err, sizeof(err));
	assert_non_null(p);
	assert_string_equal(p->name, "work");
	p = config_profile(cfg, "work", err, sizeof(err));
	assert_non_null(p);
	assert_null(config_profile(cfg, "home", err, sizeof(err)));
	assert_non_null(strstr(err, "no profile [home]"));
	assert_non_null(strstr(err, "work"));

	assert_int_equal(load(BASE "[home]\ngateway = h.example\npsk_file = /h\n"), 0);
	assert_null(config_profile(cfg, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "test.ini: several profiles (work, home)"));
	p = config_profile(cfg, "home", err, sizeof(err));
	assert_non_null(p);
	assert_string_equal(p->gateway, "h.example");
	assert_null(config_profile(cfg, "office", err, sizeof(err)));
	assert_non_null(strstr(err, "(profiles: work, home)"));

	assert_int_equal(load("; nothing here\n"), 0);
	assert_null(config_profile(cfg, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "no profiles"));
}

/* ---- proposals ---- */

static int
props(const char *s, int esp, struct kite_proposal *out, unsigned *n)
{
	err[0] = '\0';
	return config_parse_proposals(s, esp, out, KITE_MAX_PROPOSALS, n, err, sizeof(err));
}

static void
expect_prop_err_at(const char *s, int esp, const char *what, int line)
{
	struct kite_proposal out[KITE_MAX_PROPOSALS];
	unsigned n = 99;
	int r = props(s, esp, out, &n);

	if (r != KITE_ERR_CONFIG || n != 0 || strstr(err, what) == NULL) {
		print_error("test line %d: '%s' r=%d n=%u err='%s' (want '%s')\n",
		    line, s, r, n, err, what);
		fail();
	}
}
#define expect_prop_err(s, esp, what)	expect_prop_err_at(s, esp, what, __LINE__)

static void
test_proposal_defaults_parse(void **state)
{
	struct kite_proposal p[KITE_MAX_PROPOSALS];
	unsigned n, i, j;

	assert_int_equal(props(config_default_ike, 0, p, &n), 0);
	assert_true(n >= 1);
	assert_int_equal(p[0].encr[0], IKEV2_ENCR_AES_GCM_16);
	assert_int_equal(p[0].encr_bits[0], 256);
	assert_int_equal(p[0].dh[0], IKEV2_DH_CURVE25519);
	for (i = 0; i < n; i++) {
		assert_true(p[i].n_encr > 0 && p[i].n_prf > 0 && p[i].n_dh > 0);
		for (j = 0; j < p[i].n_dh; j++)
			assert_true(p[i].dh[j] >= IKEV2_DH_MODP_2048);
	}
	assert_int_equal(props(config_default_esp, 1, p, &n), 0);
	assert_true(n >= 1);
	assert_int_equal(p[0].encr[0], IKEV2_ENCR_AES_GCM_16);
	for (i = 0; i < n; i++)
		assert_int_equal(p[i].n_prf, 0);
	/* the strings from design.md parse too */
	assert_int_equal(props("aes256gcm16-prfsha384-x25519, aes128gcm16-prfsha256-ecp256", 0,
	    p, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(props("aes256gcm16, chacha20poly1305", 1, p, &n), 0);
	assert_int_equal(n, 2);
}

static void
test_proposal_token_map(void **state)
{
	struct kite_proposal p[KITE_MAX_PROPOSALS];
	unsigned n;

	assert_int_equal(props("aes128gcm-aes256gcm-chacha20poly1305-prfsha512-curve25519-ecp384-modp2048",
	    0, p, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].n_encr, 3);
	assert_int_equal(p[0].encr[0], IKEV2_ENCR_AES_GCM_16);
	assert_int_equal(p[0].encr_bits[0], 128);
	assert_int_equal(p[0].encr[1], IKEV2_ENCR_AES_GCM_16);
	assert_int_equal(p[0].encr_bits[1], 256);
	assert_int_equal(p[0].encr[2], IKEV2_ENCR_CHACHA20_POLY1305);
	assert_int_equal(p[0].encr_bits[2], 0);
	assert_int_equal(p[0].n_integ, 0);
	assert_int_equal(p[0].n_prf, 1);
	assert_int_equal(p[0].prf[0], IKEV2_PRF_HMAC_SHA2_512);
	assert_int_equal(p[0].n_dh, 3);
	assert_int_equal(p[0].dh[0], IKEV2_DH_CURVE25519);
	assert_int_equal(p[0].dh[1], IKEV2_DH_ECP_384);
	assert_int_equal(p[0].dh[2], IKEV2_DH_MODP_2048);

	/* PRF derived from integrity when no prf token (strongSwan) */
	assert_int_equal(props("aes128-sha2_256-sha384-sha512-modp3072", 0, p, &n), 0);
	assert_int_equal(p[0].encr[0], IKEV2_ENCR_AES_CBC);
	assert_int_equal(p[0].encr_bits[0], 128);
	assert_int_equal(p[0].n_integ, 3);
	assert_int_equal(p[0].integ[0], IKEV2_INTEG_HMAC_SHA2_256_128);
	assert_int_equal(p[0].integ[1], IKEV2_INTEG_HMAC_SHA2_384_192);
	assert_int_equal(p[0].integ[2], IKEV2_INTEG_HMAC_SHA2_512_256);
	assert_int_equal(p[0].n_prf, 3);
	assert_int_equal(p[0].prf[0], IKEV2_PRF_HMAC_SHA2_256);
	assert_int_equal(p[0].prf[1], IKEV2_PRF_HMAC_SHA2_384);
	assert_int_equal(p[0].prf[2], IKEV2_PRF_HMAC_SHA2_512);
	assert_int_equal(p[0].dh[0], IKEV2_DH_MODP_3072);
	/* an explicit prf is kept as given */
	assert_int_equal(props("aes256-sha256-prfsha384-x25519", 0, p, &n), 0);
	assert_int_equal(p[0].n_prf, 1);
	assert_int_equal(p[0].prf[0], IKEV2_PRF_HMAC_SHA2_384);

	/* ESP: no PRF derived; DH optional (PFS); esn */
	assert_int_equal(props("aes256-sha256", 1, p, &n), 0);
	assert_int_equal(p[0].n_prf, 0);
	assert_int_equal(p[0].n_dh, 0);
	assert_int_equal(p[0].esn, 0);
	assert_int_equal(props("aes256gcm16-esn", 1, p, &n), 0);
	assert_int_equal(p[0].esn, 1);
	assert_int_equal(props("aes256gcm16-noesn", 1, p, &n), 0);
	assert_int_equal(p[0].esn, 0);
	assert_int_equal(props("aes256gcm16-esn-noesn-x25519", 1, p, &n), 0);
	assert_int_equal(p[0].esn, 2);
	assert_int_equal(p[0].dh[0], IKEV2_DH_CURVE25519);

	/* case, blanks and duplicates */
	assert_int_equal(props("  AES256GCM16 - PRFsha256 - X25519 - x25519 ,aes128gcm16-prfsha256-ecp256 ",
	    0, p, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(p[0].n_dh, 1);
	assert_int_equal(p[1].dh[0], IKEV2_DH_ECP_256);
}

static void
test_proposal_weak_refused(void **state)
{
	static const struct {
		const char *prop, *tok;
		int esp;
	} weak[] = {
		{ "des-sha256-modp2048", "des", 0 },
		{ "3des-sha256-modp2048", "3des", 0 },
		{ "3des-sha256", "3des", 1 },
		{ "blowfish-sha256", "blowfish", 1 },
		{ "null-sha256", "null", 1 },
		{ "aes256-md5-modp2048", "md5", 0 },
		{ "aes256-md5", "md5", 1 },
		{ "aes256-sha1-modp2048", "sha1", 0 },
		{ "aes256-sha1", "sha1", 1 },
		{ "aes256-sha-modp2048", "sha", 0 },
		{ "aes256gcm16-prfsha1-x25519", "prfsha1", 0 },
		{ "aes256gcm16-prfmd5-x25519", "prfmd5", 0 },
		{ "aes256gcm16-prfsha256-modp768", "modp768", 0 },
		{ "aes256gcm16-prfsha256-modp1024", "modp1024", 0 },
		{ "aes256gcm16-prfsha256-modp1536", "modp1536", 0 },
		{ "aes256gcm16-modp1024", "modp1024", 1 },
		{ "aes256gcm16-prfsha256-modp2048s256", "modp2048s256", 0 },
		{ "aes256gcm16-prfsha256-ecp192", "ecp192", 0 },
	};
	size_t i;
	char want[64];

	for (i = 0; i < KITE_ARRAY_SIZE(weak); i++) {
		snprintf(want, sizeof(want), "'%s' refused", weak[i].tok);
		expect_prop_err(weak[i].prop, weak[i].esp, want);
		if (strstr(err, "RFC 8247") == NULL && strstr(err, "RFC 8221") == NULL) {
			print_error("%s: no RFC cited: %s\n", weak[i].prop, err);
			fail();
		}
	}
	/* also when the weak one is only an alternative, and in a later proposal */
	expect_prop_err("aes256gcm16-prfsha256-x25519-modp1024", 0, "'modp1024' refused");
	expect_prop_err("aes256gcm16-prfsha256-x25519, 3des-sha256-modp2048", 0, "'3des' refused");
	expect_prop_err("aes256-SHA1-modp2048", 0, "'sha1' refused");
}

static void
test_proposal_unsupported_and_unknown(void **state)
{
	expect_prop_err("aes192-sha256-modp2048", 0, "'aes192' unsupported");
	expect_prop_err("aes192gcm16-prfsha256-x25519", 0, "'aes192gcm16' unsupported");
	expect_prop_err("aes128gcm8-prfsha256-x25519", 0, "'aes128gcm8' unsupported");
	expect_prop_err("aes256gcm16-prfsha256-ecp521", 0, "'ecp521' unsupported");
	expect_prop_err("aes256gcm16-prfsha256-x25519-rot13", 0, "unknown algorithm 'rot13'");
	expect_prop_err("aes256gcm16-prfsha256-x25519-", 0, "empty algorithm name");
	expect_prop_err("", 0, "empty proposal list");
	expect_prop_err("   ", 1, "empty proposal list");
	expect_prop_err("aes256gcm16,", 1, "empty proposal");
	expect_prop_err("aes256gcm16,,aes128gcm16", 1, "empty proposal");
}

static void
test_proposal_rules(void **state)
{
	/* AEAD and integrity in one proposal (strongSwan refuses it too) */
	expect_prop_err("aes256gcm16-sha256-x25519", 0,
	    "AEAD cipher 'aes256gcm16' cannot be combined with integrity algorithm 'sha256'");
	expect_prop_err("chacha20poly1305-sha512", 1, "cannot be combined");
	/* AEAD and CBC in one proposal */
	expect_prop_err("aes256gcm16-aes256-sha256-x25519", 0, "mixed with non-AEAD cipher 'aes256'");
	/* CBC without integrity */
	expect_prop_err("aes256-prfsha256-x25519", 0, "'aes256' needs an integrity algorithm");
	expect_prop_err("aes128", 1, "needs an integrity algorithm");
	/* IKE needs a DH group and a PRF */
	expect_prop_err("aes256gcm16-prfsha256", 0, "needs a key exchange (DH) group");
	expect_prop_err("aes256-sha256", 0, "needs a key exchange");
	expect_prop_err("aes256gcm16-x25519", 0, "needs a PRF (add prfsha256");
	/* no cipher */
	expect_prop_err("prfsha256-x25519", 0, "no encryption algorithm");
	expect_prop_err("sha256", 1, "no encryption algorithm");
	/* ESP takes no PRF; IKE takes no esn */
	expect_prop_err("aes256gcm16-prfsha256", 1, "'prfsha256' is a PRF, which ESP does not use");
	expect_prop_err("aes256gcm16-prfsha256-x25519-esn", 0, "'esn' applies only to esp");
}

static void
test_proposal_limits(void **state)
{
	struct kite_proposal p[KITE_MAX_PROPOSALS];
	char s[1024] = "";
	unsigned n, i;

	for (i = 0; i < KITE_MAX_PROPOSALS; i++)
		strcat(s, i ? ", aes256gcm16" : "aes256gcm16");
	assert_int_equal(props(s, 1, p, &n), 0);
	assert_int_equal(n, KITE_MAX_PROPOSALS);
	strcat(s, ", aes128gcm16");
	expect_prop_err(s, 1, "more than 8 proposals");
	/* a smaller caller array */
	assert_int_equal(config_parse_proposals("aes256gcm16, aes128gcm16", 1, p, 1, &n,
	    err, sizeof(err)), KITE_ERR_CONFIG);
	assert_int_equal(n, 0);
	/* duplicates in a proposal are dropped */
	assert_int_equal(props("aes256gcm16-x25519-ecp256-ecp384-modp2048-modp3072-x25519", 1,
	    p, &n), 0);
	assert_int_equal(p[0].n_dh, 5);
}

/* ---- pre-shared keys ---- */

static int
read_psk(const char *path, uint8_t *key, size_t *len, int *weak)
{
	err[0] = '\0';
	return config_read_psk(path, key, len, weak, err, sizeof(err));
}

static void
test_psk_text(void **state)
{
	uint8_t key[KITE_PSK_MAX];
	char path[128];
	size_t len;
	int weak;

	tmp_path(path, sizeof(path), "text.psk");
	write_file(path, "correct horse battery staple", 28, 0600);
	assert_int_equal(read_psk(path, key, &len, &weak), 0);
	assert_int_equal(len, 28);
	assert_memory_equal(key, "correct horse battery staple", 28);
	assert_int_equal(weak, 0);

	/* exactly one trailing newline is stripped, \n or \r\n */
	write_file(path, "correct horse battery staple\n", 29, 0600);
	assert_int_equal(read_psk(path, key, &len, &weak), 0);
	assert_int_equal(len, 28);
	write_file(path, "correct horse battery staple\r\n", 30, 0400);
	assert_int_equal(read_psk(path, key, &len, &weak), 0);
	assert_int_equal(len, 28);
	assert_memory_equal(key, "correct horse battery staple", 28);

	/* weak: under 20 characters */
	write_file(path, "0123456789abcdefghi\n", 20, 0600);
	assert_int_equal(read_psk(path, key, &len, &weak), 0);
	assert_int_equal(len, 19);
	assert_int_equal(weak, 1);
	write_file(path, "0123456789abcdefghij", 20, 0600);
	assert_int_equal(read_psk(path, key, &len, &weak), 0);
	assert_int_equal(weak, 0);

	/* a second line is refused, and the key is not in the message */
	write_file(path, "secret-first-line\nsecond\n", 25, 0600);
	assert_int_equal(read_psk(path, key, &len, &weak), KITE_ERR_CONFIG);
	assert_non_null(strstr(err, "line break"));
	assert_null(strstr(err, "secret"));
	assert_int_equal(len, 0);
}

static void
test_psk_hex(void **state)
{
	static const uint8_t want[16] = {
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
		0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
	};
	uint8_t key[KITE_PSK_MAX];
	char path[128];
	size_t len;
	int weak;

	tmp_path(path, sizeof(path), "hex.psk");
	write_file(path, "0x00112233445566778899aabbccddeeFF\n", 35, 0600);
	assert_int_equal(read_psk(path, key, &len, &weak), 0);
	assert_int_equal(len, 16);
	assert_memory_equal(key, want, 16);
	assert_int_equal(weak, 0);

	write_file(path, "0x00112233445566778899aabbccddee", 32, 0600);
	assert_int_equal(read_psk(path, key, &len, &weak), 0);
	assert_int_equal(len, 15);
	assert_int_equal(weak, 1);

	write_file(path, "0x0011223", 9, 0600);
	assert_int_equal(read_psk(path, key, &len, &weak), KITE_ERR_CONFIG);
	assert_non_null(strstr(err, "even"));
	write_file(path, "0x00gg", 6, 0600);
	assert_int_equal(read_psk(path, key, &len, &weak), KITE_ERR_CONFIG);
	assert_non_null(strstr(err, "hex digit"));
	write_file(path, "0x", 2, 0600);
	assert_int_equal(read_psk(path, key, &len, &weak), KITE_ERR_CONFIG);
}

static void
test_psk_base64(void **state)
{
	uint8_t key[KITE_PSK_MAX];
	char path[128];
	size_t len;
	int weak;

	tmp_path(path, sizeof(path), "b64.psk");
	/* "0123456789abcdef" (16 bytes) */
	write_file(path, "0sMDEyMzQ1Njc4OWFiY2RlZg==\n", 27, 0600);
	assert_int_equal(read_psk(path, key, &len, &weak), 0);
	assert_int_equal(len, 16);
	assert_memory_equal(key, "0123456789abcdef", 16);
	assert_int_equal(weak, 0);
	/* "0123456789abcde" (15 bytes, one pad) and "0123456789abcd" (14, two pads) */
	write_file(path, "0sMDEyMzQ1Njc4OWFiY2Rl", 22, 0600);
	assert_int_equal(read_psk(path, key, &len, &weak), 0);
	assert_int_equal(len, 15);
	assert_memory_equal(key, "0123456789abcde", 15);
	assert_int_equal(weak, 1);
	write_file(path, "0sMDEyMzQ1Njc4OWFiY2Q=", 22, 0600);
	assert_int_equal(read_psk(path, key, &len, &weak), 0);
	assert_int_equal(len, 14);
	assert_memory_equal(key, "0123456789abcd", 14);
	write_file(path, "0sMDEyMzQ1Njc4OWFiYw==", 22, 0600);
	assert_int_equal(read_psk(path, key, &len, &weak), 0);
	assert_int_equal(len, 13);
	assert_memory_equal(key, "0123456789abc", 13);

	write_file(path, "0sMDEy*zQ1", 10, 0600);
	assert_int_equal(read_psk(path, key, &len, &weak), KITE_ERR_CONFIG);
	assert_non_null(strstr(err, "base64"));
	write_file(path, "0sMDE", 5, 0600);
	assert_int_equal(read_psk(path, key, &len, &weak), KITE_ERR_CONFIG);
	write_file(path, "0sMD=y", 6, 0600);
	assert_int_equal(read_psk(path, key, &len, &weak), KITE_ERR_CONFIG);
}

static void
test_psk_file_checks(void **state)
{
	uint8_t key[KITE_PSK_MAX];
	char path[128], link[128], want[384];
	size_t len = 99;
	int weak;

	tmp_path(path, sizeof(path), "mode.psk");
	write_file(path, "correct horse battery staple", 28, 0644);
	assert_int_equal(read_psk(path, key, &len, &weak), KITE_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s: permissions 0644 are too open; run: chmod 600 %s",
	    path, path);
	assert_string_equal(err, want);
	assert_int_equal(len, 0);
	assert_null(strstr(err, "horse"));
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(read_psk(path, key, &len, &weak), KITE_ERR_CONFIG);
	assert_non_null(strstr(err, "0640"));

	/* a symlink to a good file is refused */
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(read_psk(path, key, &len, &weak), 0);
	tmp_path(link, sizeof(link), "link.psk");
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(read_psk(link, key, &len, &weak), KITE_ERR_CONFIG);
	assert_non_null(strstr(err, "symbolic link"));

	/* missing, empty, a directory, too large */
	tmp_path(link, sizeof(link), "missing.psk");
	assert_int_equal(read_psk(link, key, &len, &weak), KITE_ERR_CONFIG);
	assert_non_null(strstr(err, "missing.psk: cannot open: No such file"));
	write_file(path, "\n", 1, 0600);
	assert_int_equal(read_psk(path, key, &len, &weak), KITE_ERR_CONFIG);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(read_psk(tmpdir, key, &len, &weak), KITE_ERR_CONFIG);
	assert_non_null(strstr(err, "not a regular file"));
	{
		char big[1024];

		memset(big, 'k', sizeof(big));
		write_file(path, big, KITE_PSK_MAX + 1, 0600);
		assert_int_equal(read_psk(path, key, &len, &weak), KITE_ERR_CONFIG);
		assert_non_null(strstr(err, "too long"));
		write_file(path, big, sizeof(big), 0600);
		assert_int_equal(read_psk(path, key, &len, &weak), KITE_ERR_CONFIG);
		assert_non_null(strstr(err, "too large"));
		write_file(path, big, KITE_PSK_MAX, 0600);
		assert_int_equal(read_psk(path, key, &len, &weak), 0);
		assert_int_equal(len, KITE_PSK_MAX);
	}
}

static void
test_psk_owner(void **state)
{
	uint8_t key[KITE_PSK_MAX];
	char path[128];
	size_t len;
	int weak;

	if (geteuid() != 0)
		skip();	/* cannot give a file away */
	tmp_path(path, sizeof(path), "owner.psk");
	write_file(path, "correct horse battery staple", 28, 0600);
	assert_int_equal(chown(path, 1000, 1000), 0);
	assert_int_equal(read_psk(path, key, &len, &weak), KITE_ERR_CONFIG);
	assert_non_null(strstr(err, "owned by uid 1000, must be owned by root"));
}

/* ---- files ---- */

static void
test_config_load_file(void **state)
{
	char path[128], want[384];

	tmp_path(path, sizeof(path), "vpn.ini");
	write_file(path, BASE, strlen(BASE), 0644);
	err[0] = '\0';
	config_free(cfg);
	assert_int_equal(config_load(cfg, path, err, sizeof(err)), 0);
	assert_string_equal(cfg->path, path);
	assert_string_equal(cfg->profiles[0].file, path);
	config_free(cfg);	/* config_load overwrites cfg */

	write_file(path, BASE "dpd = soon\n", strlen(BASE) + 11, 0600);
	assert_int_equal(config_load(cfg, path, err, sizeof(err)), KITE_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s:4: dpd: bad duration", path);
	assert_non_null(strstr(err, want));
	assert_null(cfg->path);

	/* a config that others could edit could run anything as root via updown */
	write_file(path, BASE, strlen(BASE), 0666);
	assert_int_equal(config_load(cfg, path, err, sizeof(err)), KITE_ERR_CONFIG);
	assert_non_null(strstr(err, "writable by group or others"));

	write_file(path, "[w]\ngateway = g\n\0psk_file = /k\n", 31, 0600);
	assert_int_equal(config_load(cfg, path, err, sizeof(err)), KITE_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s:3: contains a NUL byte", path);
	assert_non_null(strstr(err, want));

	tmp_path(path, sizeof(path), "none.ini");
	errno = 0;
	assert_int_equal(config_load(cfg, path, err, sizeof(err)), KITE_ERR_SYS);
	assert_int_equal(errno, ENOENT);	/* kept for the caller (EACCES -> exit 3) */
	assert_non_null(strstr(err, "No such file or directory"));
	assert_int_equal(config_load(cfg, tmpdir, err, sizeof(err)), KITE_ERR_CONFIG);
	assert_non_null(strstr(err, "not a regular file"));
}

static void
test_config_free_safe(void **state)
{
	struct kite_config *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	config_free(NULL);
	config_free(c);
	assert_int_equal(config_load_string(c, "x.ini", BASE, err, sizeof(err)), 0);
	config_free(c);
	config_free(c);
	free(c);
}

/* vpn.ini.example parses and mentions every key (tests run from the repo root). */
static void
test_config_example_file(void **state)
{
	static const char *const keys[] = {
		"gateway", "local_id", "remote_id", "auth", "psk_file", "eap_method",
		"username", "password_file", "ca", "cert", "key", "ike", "esp",
		"dataplane", "mobike", "mobike_announce", "dpd", "reconnect", "dns",
		"ipv6_leak_block", "updown", "replay_window", "child_rekey", "ike_rekey",
		"retransmit_timeout", "retransmit_tries", "keepalive", "fragmentation",
		"fragment_size",
	};
	char *text, needle[64];
	FILE *f;
	long n;
	size_t i;

	if ((f = fopen("vpn.ini.example", "r")) == NULL &&
	    (f = fopen("../../vpn.ini.example", "r")) == NULL)
		skip();
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	for (i = 0; i < KITE_ARRAY_SIZE(keys); i++) {
		snprintf(needle, sizeof(needle), "\n%s = ", keys[i]);
		if (strstr(text, needle) == NULL) {
			snprintf(needle, sizeof(needle), "\n; %s = ", keys[i]);
			if (strstr(text, needle) == NULL) {
				print_error("vpn.ini.example does not document '%s'\n", keys[i]);
				fail();
			}
		}
	}
	if (load(text) != 0) {
		print_error("vpn.ini.example: %s\n", err);
		fail();
	}
	assert_int_equal(cfg->n_profiles, 1);
	assert_string_equal(cfg->profiles[0].name, "work");
	assert_string_equal(cfg->profiles[0].psk_file, "/etc/kite/work.psk");
	/* the commented EAP example parses once uncommented */
	for (i = 0; text[i] != '\0'; i++)
		if (strncmp(text + i, "\n; [home]", 9) == 0)
			break;
	assert_true(text[i] != '\0');
	{
		char *eap = strdup(text + i), *r, *w;

		assert_non_null(eap);
		for (r = w = eap; *r != '\0'; r++) {
			if (*r == ';' && r[-1] == '\n' && r[1] == ' ') {
				r++;
				continue;
			}
			*w++ = *r;
		}
		*w = '\0';
		if (load(eap) != 0) {
			print_error("EAP example: %s\n", err);
			fail();
		}
		assert_int_equal(cfg->profiles[0].auth, KITE_AUTH_EAP);
		assert_string_equal(cfg->profiles[0].gateway, "2001:db8::1");
		free(eap);
	}
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_every_key),
		cmocka_unit_test(test_config_booleans),
		cmocka_unit_test(test_config_durations),
		cmocka_unit_test(test_config_retransmit_seconds_plain),
		cmocka_unit_test(test_config_numbers),
		cmocka_unit_test(test_config_enums),
		cmocka_unit_test(test_config_gateway_forms),
		cmocka_unit_test(test_config_error_unknown_key),
		cmocka_unit_test(test_config_error_duplicate_section),
		cmocka_unit_test(test_config_error_key_outside_section),
		cmocka_unit_test(test_config_error_duplicate_key),
		cmocka_unit_test(test_config_error_missing_gateway),
		cmocka_unit_test(test_config_error_auth_psk_without_psk_file),
		cmocka_unit_test(test_config_error_auth_eap_without_username),
		cmocka_unit_test(test_config_error_auth_cert_without_cert_key),
		cmocka_unit_test(test_config_error_profile_name),
		cmocka_unit_test(test_config_error_bad_values),
		cmocka_unit_test(test_config_error_syntax),
		cmocka_unit_test(test_config_error_long_line),
		cmocka_unit_test(test_config_comments),
		cmocka_unit_test(test_config_indent_and_continuation),
		cmocka_unit_test(test_config_bom_crlf_colon),
		cmocka_unit_test(test_config_several_profiles),
		cmocka_unit_test(test_config_too_many_profiles),
		cmocka_unit_test(test_config_profile_selection),
		cmocka_unit_test(test_proposal_defaults_parse),
		cmocka_unit_test(test_proposal_token_map),
		cmocka_unit_test(test_proposal_weak_refused),
		cmocka_unit_test(test_proposal_unsupported_and_unknown),
		cmocka_unit_test(test_proposal_rules),
		cmocka_unit_test(test_proposal_limits),
		cmocka_unit_test(test_psk_text),
		cmocka_unit_test(test_psk_hex),
		cmocka_unit_test(test_psk_base64),
		cmocka_unit_test(test_psk_file_checks),
		cmocka_unit_test(test_psk_owner),
		cmocka_unit_test(test_config_load_file),
		cmocka_unit_test(test_config_free_safe),
		cmocka_unit_test(test_config_example_file),
	};

	return cmocka_run_group_tests_name("config", tests, setup, teardown);
}
