/* Logging to stderr with levels (error, warn, info, debug) and monotonic
 * timestamps relative to the daemon's start. */
#ifndef QB_LOG_H
#define QB_LOG_H

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
int log_level_parse(const char *name, enum log_level *level);
const char *log_level_name(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define err(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
