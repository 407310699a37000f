/*
 * eap: the EAP peer (RFC 3748) that IKE_AUTH carries in EAP payloads
 * (RFC 7296 2.16), as a pure state machine: no I/O, no timers, no logging of
 * secrets. Methods: EAP-MSCHAPv2 (RFC 2759 in draft-kamath-pppext-eap-mschapv2
 * framing, MSK per RFC 3079) and EAP-MD5-Challenge (RFC 3748 5.4). Identity
 * and Notification requests are answered in any conversation; a request for
 * another method before ours started is answered with a legacy Nak naming
 * ours (RFC 3748 5.3.1).
 *
 * One struct eap per authentication attempt. The caller feeds every EAP
 * message the gateway sends (the whole EAP payload body of an IKE_AUTH
 * response, struct ike_msg.eap) to eap_input() and sends back whatever it
 * writes into resp, in an EAP payload of the next IKE_AUTH request:
 *
 *   EAP_CONTINUE  resp holds *resp_len (> 0) bytes: send them, wait for more.
 *   EAP_SUCCESS   EAP-Success after the method completed (for MSCHAPv2: the
 *                 gateway proved knowledge of the password with S=...). Nothing
 *                 to send; now compute AUTH from eap_msk() (RFC 7296 2.16).
 *   EAP_FAILURE   stop: abort this IKE SA attempt. eap_reason() says why in
 *                 one line for the user (never containing the password).
 *
 * Once EAP_SUCCESS or EAP_FAILURE was returned, the conversation is over and
 * every later eap_input() returns EAP_FAILURE.
 *
 * Refused (EAP_FAILURE): an EAP-Success before our method completed ("canned
 * success", RFC 3748 4.2 and 7.16 warn of it), EAP-Failure, a different method
 * once ours has started, an MSCHAPv2 Success-Request whose authenticator
 * response does not match (compared in constant time), an MSCHAPv2
 * Failure-Request (E=691 and friends; like strongSwan and Windows, kite does
 * not send a Failure-Response and does not retry with the same password),
 * malformed packets (the gateway was already authenticated when EAP starts,
 * so a malformed request is a broken peer, not noise to drop), and more than
 * EAP_MAX_ROUNDS requests.
 *
 * Packets are parsed through kbuf only. Octets past the EAP Length field are
 * ignored as link-layer padding (RFC 3748 4); a Length past the end of the
 * buffer is malformed.
 */
#ifndef KITE_EAP_H
#define KITE_EAP_H

#include <stddef.h>
#include <stdint.h>

/* EAP method types (IANA "Method Types", RFC 3748 5) */
enum eap_type {
	EAP_TYPE_IDENTITY = 1,
	EAP_TYPE_NOTIFICATION = 2,
	EAP_TYPE_NAK = 3,		/* legacy Nak, responses only */
	EAP_TYPE_MD5 = 4,
	EAP_TYPE_TLS = 13,		/* RFC 5216: not supported by kite (see README) */
	EAP_TYPE_MSCHAPV2 = 26,
	EAP_TYPE_EXPANDED = 254,
};

enum eap_status {
	EAP_CONTINUE = 0,
	EAP_SUCCESS = 1,
	EAP_FAILURE = 2,
};

#define EAP_MAX_ROUNDS		16	/* requests per conversation (MSCHAPv2 needs 3) */
#define EAP_MAX_IDENTITY	253	/* RADIUS User-Name limit (RFC 2865 5.1) */
#define EAP_MAX_PASSWORD	256	/* characters (RFC 2759 8.3: 0..256 Unicode chars) */
#define EAP_MAX_RESPONSE	(5 + 4 + 1 + 49 + EAP_MAX_IDENTITY)	/* MSCHAPv2 Response */
#define EAP_MSK_LEN		64	/* RFC 3748 7.10: at least 64 octets */

struct eap;

/*
 * A peer for method (EAP_TYPE_MSCHAPV2 or EAP_TYPE_MD5; NULL for anything
 * else, EAP-TLS included). identity: NUL-terminated, 1..EAP_MAX_IDENTITY
 * bytes; sent in Identity responses and as the MSCHAPv2 Name (the part after
 * the last '\' is the user name hashed into the ChallengeHash, RFC 2759 8.2).
 * password: password_len bytes, UTF-8 (MSCHAPv2 hashes it as UTF-16LE, so
 * invalid UTF-8 or more than EAP_MAX_PASSWORD characters is refused here
 * with NULL); may contain no NUL. Both are copied; the caller may wipe its
 * copy at once. crypto_init() must have succeeded (the MSCHAPv2 Peer-Challenge
 * comes from crypto_random).
 */
struct eap *eap_new(uint8_t method, const char *identity,
		    const uint8_t *password, size_t password_len);

/*
 * Process one EAP message from the gateway (req, len bytes). resp has cap
 * bytes (EAP_MAX_RESPONSE always suffices); *resp_len is set on every return
 * (0 unless EAP_CONTINUE). See the top of this file for the meaning of the
 * results. NULL arguments are EAP_FAILURE.
 */
enum eap_status eap_input(struct eap *e, const uint8_t *req, size_t len,
			  uint8_t *resp, size_t cap, size_t *resp_len);

/*
 * Why the conversation failed, or a one-line summary of its progress
 * otherwise ("EAP-MSCHAPv2: authenticated"). Valid until eap_free(). Never NULL.
 */
const char *eap_reason(const struct eap *e);

/*
 * The Master Session Key, only after EAP_SUCCESS. *len: capacity of out on
 * input (EAP_MSK_LEN suffices), key length on output (64 for MSCHAPv2).
 * KITE_ERR_UNSUPPORTED for EAP-MD5, which derives no key: RFC 7296 2.16 then
 * has the AUTH payloads computed with SK_pi / SK_pr instead. KITE_ERR_INVAL
 * before EAP_SUCCESS or when out is too small.
 *
 * For MSCHAPv2 the MSK is what strongSwan, Windows and Android use with
 * IKEv2: MasterSendKey || MasterReceiveKey || 32 zero octets, where both are
 * the client's 16-byte start keys of RFC 3079 3.4 (send = "On the client
 * side, this is the send key" magic, receive = the other).
 */
int eap_msk(const struct eap *e, uint8_t *out, size_t *len);

/* The method this peer runs (as given to eap_new). */
uint8_t eap_method(const struct eap *e);

/* Wipes the password, hashes and keys. NULL-safe. */
void eap_free(struct eap *e);

/*
 * ---- MSCHAPv2 building blocks (RFC 2759 8, RFC 3079 3.4), for tests ----
 * All return 0 or a negative enum kite_err.
 */

/* NtPasswordHash: MD4 of the UTF-16LE password (from UTF-8). */
int eap_mschapv2_nt_hash(const uint8_t *password, size_t len, uint8_t out[16]);
/* ChallengeHash: first 8 octets of SHA-1(PeerChallenge | AuthenticatorChallenge | UserName). */
int eap_mschapv2_challenge_hash(const uint8_t peer_challenge[16], const uint8_t auth_challenge[16],
				const char *username, uint8_t out[8]);
/* ChallengeResponse: three DES encryptions of the challenge hash under the padded password hash. */
int eap_mschapv2_challenge_response(const uint8_t challenge[8], const uint8_t password_hash[16],
				    uint8_t out[24]);
/* GenerateAuthenticatorResponse: the 20 octets behind "S=". */
int eap_mschapv2_auth_response(const uint8_t password_hash[16], const uint8_t nt_response[24],
			       const uint8_t challenge[8], uint8_t out[20]);
/* GetMasterKey (RFC 3079 3.4): 16 octets. */
int eap_mschapv2_master_key(const uint8_t password_hash[16], const uint8_t nt_response[24],
			    uint8_t out[16]);
/* GetAsymmetricStartKey for the client (is_server 0) or server: 16 octets. */
int eap_mschapv2_start_key(const uint8_t master_key[16], int is_send, int is_server,
			   uint8_t out[16]);

#ifdef KITE_TESTING
/* Use this Peer-Challenge instead of random bytes (RFC 2759 9.2 vectors). */
void eap_test_set_peer_challenge(struct eap *e, const uint8_t pc[16]);
#endif

#endif
