/*
 * config: reads vpn.ini (inih is used only here) into struct kite_config.
 * Every string kept is copied. Errors are reported as one line
 * "FILE:LINE: what is wrong (what to do)" into the caller's buffer, and the
 * load fails with KITE_ERR_CONFIG; unknown keys, bad values and duplicate
 * sections are errors.
 */
#ifndef KITE_CONFIG_H
#define KITE_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define KITE_MAX_PROPOSALS	8
#define KITE_MAX_ALGS		8
#define KITE_MAX_PROFILES	32
#define KITE_NAME_MAX		32
#define KITE_PSK_MAX		256

/* One proposal in strongSwan syntax, e.g. "aes256gcm16-prfsha384-x25519". */
struct kite_proposal {
	uint16_t encr[KITE_MAX_ALGS];
	uint16_t encr_bits[KITE_MAX_ALGS];	/* key length in bits (128/256), 0 for ChaCha20 */
	unsigned n_encr;
	uint16_t integ[KITE_MAX_ALGS];
	unsigned n_integ;
	uint16_t prf[KITE_MAX_ALGS];
	unsigned n_prf;
	uint16_t dh[KITE_MAX_ALGS];		/* for ESP: PFS groups (may be empty) */
	unsigned n_dh;
	uint8_t esn;				/* ESP: 0 no, 1 yes, 2 both offered */
};

enum kite_auth { KITE_AUTH_PSK = 1, KITE_AUTH_EAP, KITE_AUTH_CERT };
enum kite_eap { KITE_EAP_MSCHAPV2 = 1, KITE_EAP_MD5, KITE_EAP_TLS };
enum kite_dataplane { KITE_DP_AUTO = 0, KITE_DP_XFRM, KITE_DP_TUN };

struct kite_profile {
	char name[KITE_NAME_MAX + 1];
	const char *file;		/* config file path (for messages) */
	int line;			/* line of the [section] header */

	char *gateway;			/* host name or address, without :port */
	uint16_t gateway_port;		/* default 500 */
	char *local_id;			/* NULL: the local address */
	char *remote_id;		/* NULL: the gateway host name/address */
	enum kite_auth auth;
	char *psk_file;
	enum kite_eap eap_method;
	char *username;
	char *password_file;
	char *ca;
	char *cert;
	char *key;

	struct kite_proposal ike[KITE_MAX_PROPOSALS];
	unsigned n_ike;
	struct kite_proposal esp[KITE_MAX_PROPOSALS];
	unsigned n_esp;

	enum kite_dataplane dataplane;
	int mobike;			/* yes */
	uint32_t dpd_s;			/* 30 s; 0 = off */
	int reconnect;			/* yes */
	int dns;			/* yes */
	int ipv6_leak_block;		/* yes */
	char *updown;
	uint32_t replay_window;		/* 64, up to 4096 */
	uint32_t child_rekey_s;		/* 3600 */
	uint32_t ike_rekey_s;		/* 14400 */
	uint32_t retransmit_timeout_ms;	/* first timeout, 1000 */
	uint32_t retransmit_tries;	/* 5 retransmissions after the first send */
	uint32_t keepalive_s;		/* NAT-T keepalive, 20 */
	uint32_t fragment_size;		/* 1280 */
	int fragmentation;		/* yes */
	int mobike_announce;		/* no */
};

struct kite_config {
	char *path;
	struct kite_profile profiles[KITE_MAX_PROFILES];
	unsigned n_profiles;
};

#define KITE_DEFAULT_CONFIG "/etc/kite/vpn.ini"

/*
 * Parse a file. On error: KITE_ERR_CONFIG (or KITE_ERR_SYS when unreadable) and a line in err.
 *
 * cfg is overwritten on entry (config_free a previously loaded one first). On success
 * every string in cfg is owned by cfg and lives until config_free(); each profile's
 * file points at cfg->path. On failure cfg is left empty (config_free is still safe).
 * Missing keys get the defaults documented above and in vpn.ini.example (auth = psk).
 *
 * The file must be a regular file of at most CONFIG_MAX_FILE bytes, owned by root
 * (or by the current user when not root) and not writable by group or others, since
 * it names the updown script kite runs as root. Syntax, as parsed by inih:
 *   [name]            profile; 1..KITE_NAME_MAX characters of a-z A-Z 0-9 _ . -
 *   key = value       "key: value" is accepted too; leading blanks are ignored
 *   ; or # comment    at the start of a line, or after a value when preceded by a blank
 *   indented line     without '=' or ':' continues the previous value (joined with a
 *                     space), for long ike/esp lists: end the line with ',' and go on
 * Lines are at most CONFIG_MAX_LINE characters (inih's limit; longer is an error).
 * Syntax errors are reported before bad values. KITE_ERR_SYS only when open(2) fails
 * (errno kept, e.g. EACCES), or fstat/read fail; KITE_ERR_NOMEM when memory runs out.
 */
int config_load(struct kite_config *cfg, const char *path, char *err, size_t errlen);
/* Parse from a string (tests); name is used in messages. No file checks. */
int config_load_string(struct kite_config *cfg, const char *name, const char *text,
		       char *err, size_t errlen);
/* Frees every string and empties cfg. NULL-safe; safe on an empty/zeroed cfg. */
void config_free(struct kite_config *cfg);

#define CONFIG_MAX_LINE		198		/* characters per line, without the newline */
#define CONFIG_MAX_FILE		(1024 * 1024)

/*
 * Profile by name; name NULL selects the only profile (error when there are several,
 * naming them). The result points into cfg. Errors start with "FILE: ".
 */
const struct kite_profile *config_profile(const struct kite_config *cfg, const char *name,
					  char *err, size_t errlen);

/*
 * Parse a proposal list ("aes256gcm16-prfsha384-x25519, aes128gcm16-prfsha256-ecp256").
 * is_esp selects ESP rules (no PRF; DH optional, meaning PFS; esn/noesn).
 * Weak or unknown algorithms are refused with the token named in err.
 *
 * Proposals are separated by ',', algorithms by '-', in any order, case-insensitive:
 *   aes128gcm16 aes128gcm aes256gcm16 aes256gcm chacha20poly1305  (AEAD)
 *   aes128 aes256 (CBC) with sha256|sha2_256 sha384|sha2_384 sha512|sha2_512 (integrity)
 *   prfsha256 prfsha384 prfsha512; x25519|curve25519 ecp256 ecp384 modp2048 modp3072;
 *   esn noesn (ESP only; esn = 2 when both are given, 0 when neither)
 * Rules (as strongSwan): an AEAD cipher takes no integrity algorithm and is not mixed
 * with CBC in one proposal; CBC needs one. IKE needs a DH group and a PRF; without a
 * prf token the PRFs are derived from the integrity algorithms (sha256 -> prfsha256).
 * ESP refuses prf tokens. Duplicates in a proposal are dropped. err gets e.g.
 * "ike proposal 'aes256-sha1-x25519': 'sha1' refused: ..." without file:line.
 * *n is 0 and out[0..max) zeroed on error (KITE_ERR_CONFIG).
 */
int config_parse_proposals(const char *s, int is_esp, struct kite_proposal *out,
			   unsigned max, unsigned *n, char *err, size_t errlen);

/*
 * Read a pre-shared key file: must be a regular file owned by root (or by the
 * current user when not root, for tests) with no group/other permissions.
 * Content: text (one trailing newline ignored), or "0x" hex, or "0s" base64,
 * as in strongSwan's secrets. *weak is set when the key is shorter than 20
 * characters (text) or 16 bytes (encoded). The caller wipes out.
 *
 * out holds KITE_PSK_MAX bytes; *len receives the key length (output only).
 * The file is opened with O_NOFOLLOW: a symbolic link is refused. A text key
 * may not contain NUL, CR or LF (other than the one trailing newline). Errors:
 * KITE_ERR_CONFIG with "PATH: what is wrong (what to do)" in err (never the
 * key), KITE_ERR_SYS when reading fails; out is wiped and *len is 0 then.
 */
int config_read_psk(const char *path, uint8_t out[static KITE_PSK_MAX], size_t *len,
		    int *weak, char *err, size_t errlen);

/* Render proposals in strongSwan syntax ("aes256gcm16-prfsha384-x25519, ...") for messages. */
void config_proposals_str(const struct kite_proposal *p, unsigned n, char *buf, size_t len);

/* Defaults for secure proposals (reliability.md 8). */
extern const char *const config_default_ike;
extern const char *const config_default_esp;

#endif
