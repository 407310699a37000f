/* log: see log.h. */
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "kite.h"
#include "log.h"

static int log_syslog;
static int log_lvl = LOG_LVL_INFO;
static char last_err[1024];

void log_init(const char *ident, int use_syslog, int level)
{
	log_syslog = use_syslog;
	log_lvl = level;
	if (use_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

const char *log_last_error(void)
{
	return last_err;
}

int log_level(void)
{
	return log_lvl;
}

void log_msg(int level, const char *func, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const tag[] = { "error", "warning", "", "debug" };
	char line[1024];
	va_list ap;

	if (level > log_lvl && level != LOG_LVL_ERR)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (level == LOG_LVL_ERR)
		snprintf(last_err, sizeof(last_err), "%s", line);
	if (level > log_lvl)
		return;
	if (log_syslog) {
		syslog(prio[level], "%s", line);
		return;
	}
	if (log_lvl >= LOG_LVL_DEBUG && level != LOG_LVL_ERR) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		fprintf(stderr, "%02ld:%02ld:%02ld.%03ld %s: %s%s%s\n",
			(long)(ts.tv_sec / 3600 % 24), (long)(ts.tv_sec / 60 % 60),
			(long)(ts.tv_sec % 60), (long)(ts.tv_nsec / 1000000), func,
			tag[level], *tag[level] ? ": " : "", line);
	} else {
		fprintf(stderr, "kite: %s%s%s\n", tag[level], *tag[level] ? ": " : "", line);
	}
}

const char *kite_strerror(int err)
{
	switch (err) {
	case KITE_OK: return "success";
	case KITE_ERR_PARSE: return "malformed input";
	case KITE_ERR_VERIFY: return "verification failed";
	case KITE_ERR_CRITICAL: return "unsupported critical payload";
	case KITE_ERR_UNSUPPORTED: return "not supported";
	case KITE_ERR_NOMEM: return "out of memory";
	case KITE_ERR_INVAL: return "invalid argument";
	case KITE_ERR_CRYPTO: return "crypto failure";
	case KITE_ERR_SYS: return "system error";
	case KITE_ERR_CONFIG: return "configuration error";
	case KITE_ERR_PROPOSAL: return "no acceptable proposal";
	case KITE_ERR_TIMEOUT: return "timed out";
	}
	return "unknown error";
}
