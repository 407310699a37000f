/* kite: common definitions shared by every module. */
#ifndef KITE_H
#define KITE_H

#include <stddef.h>
#include <stdint.h>

#define KITE_VERSION "0.1.0"

/* Functions return 0 or one of these (negative). Parse and verify errors feed different counters. */
enum kite_err {
	KITE_OK = 0,
	KITE_ERR_PARSE = -1,	/* malformed input */
	KITE_ERR_VERIFY = -2,	/* authentication/integrity check failed */
	KITE_ERR_CRITICAL = -3,	/* unknown critical payload */
	KITE_ERR_UNSUPPORTED = -4,	/* algorithm/feature not available */
	KITE_ERR_NOMEM = -5,
	KITE_ERR_INVAL = -6,	/* bad argument / state */
	KITE_ERR_CRYPTO = -7,	/* crypto backend failure */
	KITE_ERR_SYS = -8,	/* system call failed, see errno */
	KITE_ERR_CONFIG = -9,
	KITE_ERR_PROPOSAL = -10,	/* no acceptable proposal */
	KITE_ERR_TIMEOUT = -11,
};

const char *kite_strerror(int err);

#define KITE_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Process exit codes (design.md 3) */
enum kite_exit {
	KITE_EXIT_OK = 0,
	KITE_EXIT_CONNECT = 1,	/* connection/authentication failure */
	KITE_EXIT_USAGE = 2,	/* usage or configuration error */
	KITE_EXIT_PERM = 3,	/* not permitted */
	KITE_EXIT_NOTCONN = 4,	/* not connected */
};

#endif
