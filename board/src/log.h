/* Logging to stderr with levels (error, warn, info, debug) and monotonic
 * timestamps relative to the daemon's start; rate-limited lines for what a
 * peer can cause. */
#ifndef QB_LOG_H
#define QB_LOG_H

#include <stdint.h>
#include <stdio.h>

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

/* Where lines go (stderr by default; tests capture them). */
void log_set_output(FILE *out);

#define err(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* Every line the host can cause (bad bundles, malformed control, HELLO,
 * RESET_LINK, LINK_TEST, retries...) goes through a limit of its own kind
 * (its call site): one line per 10 s, the next one saying how many were left
 * out, as the host's LogLimiter does. Lines below the log level cost nothing. */
#define LOG_LIMIT_INTERVAL_MS 10000u

struct log_limit {
	uint64_t logged_ms;
	uint64_t skipped;
	int used;
};

/* -1: leave the line out (counted); else how many were left out before it. */
int64_t log_limit_allow(struct log_limit *limit, uint64_t now_ms);
void log_limited_msg(struct log_limit *limit, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define LOG_LIMITED(level, ...)                                   \
	do {                                                      \
		static struct log_limit log_limit_;               \
		log_limited_msg(&log_limit_, level, __VA_ARGS__); \
	} while (0)
/* A persistent condition (a read-only resolv.conf, IPv6 the board lacks)
 * is logged once: again only when its text changes or after a reset (the
 * condition went away). */
struct log_once {
	char last[512];
};

void log_once(struct log_once *once, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_once_reset(struct log_once *once);

#define err_limited(...) LOG_LIMITED(LOG_LEVEL_ERROR, __VA_ARGS__)
#define warn_limited(...) LOG_LIMITED(LOG_LEVEL_WARN, __VA_ARGS__)
#define info_limited(...) LOG_LIMITED(LOG_LEVEL_INFO, __VA_ARGS__)

#endif
