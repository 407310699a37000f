/*
 * ctl: the control socket, /run/kite/NAME.sock (mode 0600, root), both sides.
 * Protocol: the client writes one request line ("status", "status-json",
 * "disconnect"); the daemon answers with text and closes. For "disconnect" the
 * daemon keeps the connection open until the host is restored, then writes
 * "closed\n" and closes, so the client's wait is the daemon's cleanup.
 */
#ifndef KITE_CTL_H
#define KITE_CTL_H

#include <stddef.h>

#define KITE_RUN_DIR "/run/kite"

/* Socket path for a profile ("/run/kite/NAME.sock"); profile names contain no '/'. */
void ctl_path(const char *profile, char *out, size_t len);

/*
 * Listen on the profile's socket. A stale socket (ECONNREFUSED) is replaced;
 * a live one makes this fail with errno EADDRINUSE. Returns the fd or -1.
 */
int ctl_listen(const char *profile);

/*
 * Client: connect to the profile's socket. Returns the fd, or -1 with errno
 * (ENOENT/ECONNREFUSED: not running; EACCES: not permitted).
 */
int ctl_connect(const char *profile);

/* Client: send a request and copy the whole answer into out (NUL-terminated). Returns 0 or -1. */
int ctl_request(const char *profile, const char *req, char *out, size_t len);

/* Names of running profiles (sockets in /run/kite); returns the count (max n). */
int ctl_list(char names[][40], int n);

#endif
