/*
 * daemon: the glue between the sans-I/O core (ike_sa) and the world: the UDP
 * socket to the gateway, the data plane (dp.h), host configuration (route.h,
 * dns.h), the control socket (ctl.h), the clock and signals. One profile per
 * process, single-threaded, poll()-driven.
 */
#ifndef KITE_DAEMON_H
#define KITE_DAEMON_H

#include <stdint.h>

#include "config.h"

struct x509_key;
struct x509_cert;

struct daemon_opts {
	/* auth = cert: loaded (and unlocked) before the daemon starts; the daemon frees them */
	struct x509_key *key;
	struct x509_cert *certs[8];
	size_t n_certs;
	int foreground;		/* stay attached, log to stderr */
	int level;		/* log level */
	int report_fd;		/* background: write "up\n" or "fail CODE reason\n" here, then close */
	int await_secret;	/* auth = eap without password_file or terminal: the password comes
				 * over the control socket ("kite password NAME", e.g. from a
				 * NetworkManager plugin) before IKE starts */
};

/*
 * Connect the profile and run until closed. psk/psk_len: the key read before
 * forking (wiped by the caller afterwards). Returns a process exit code.
 */
int daemon_run(const struct kite_profile *prof, const struct daemon_opts *o,
	       const uint8_t *psk, size_t psk_len);

/* Monotonic milliseconds. */
uint64_t daemon_now_ms(void);

#endif
