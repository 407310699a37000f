/*
 * daemon: the glue between the sans-I/O core (ike_sa) and the world: the UDP
 * socket to the gateway, the clock, signals. One profile per process.
 */
#ifndef KITE_DAEMON_H
#define KITE_DAEMON_H

#include "config.h"

struct daemon_opts {
	int foreground;
	int verbose;		/* log level */
};

/* Connect the profile and run until closed. Returns a process exit code (enum kite_exit). */
int daemon_run(const struct kite_profile *prof, const struct daemon_opts *o);

/* Monotonic milliseconds. */
uint64_t daemon_now_ms(void);

#endif
