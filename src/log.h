/*
 * log: one line per event, with the function name. Output goes to stderr
 * (foreground, tests) or syslog (daemon). Secrets are never passed to these.
 */
#ifndef KITE_LOG_H
#define KITE_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_init(const char *ident, int use_syslog, int level);
int log_level(void);
/* The last error line logged (for reporting to the parent process); "" if none. */
const char *log_last_error(void);
void log_msg(int level, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(...)	log_msg(LOG_LVL_ERR, __func__, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARN, __func__, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __func__, __VA_ARGS__)
#define log_debug(...)	do { if (log_level() >= LOG_LVL_DEBUG) \
	log_msg(LOG_LVL_DEBUG, __func__, __VA_ARGS__); } while (0)

#endif
