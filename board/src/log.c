/* Logging to stderr: one line per message, "[seconds.micros] level: text",
 * seconds counted on the monotonic clock from the first message; and the
 * per-kind rate limit for lines the host can cause. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"

static enum log_level current_level = LOG_LEVEL_INFO;
static FILE *output;
static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level level)
{
	current_level = level;
}

void log_set_output(FILE *out)
{
	output = out;
}

enum log_level log_get_level(void)
{
	return current_level;
}

const char *log_level_name(enum log_level level)
{
	return level_names[level];
}

int log_level_parse(const char *name, enum log_level *level)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (!strcmp(name, level_names[i])) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

static void emit(enum log_level level, const char *line, const char *note)
{
	static struct timespec start;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!start.tv_sec && !start.tv_nsec)
		start = now;
	long long usec = (long long)(now.tv_sec - start.tv_sec) * 1000000 +
			 (now.tv_nsec - start.tv_nsec) / 1000;
	fprintf(output ? output : stderr, "qbnetd[%5lld.%06lld] %s: %s%s\n", usec / 1000000,
		usec % 1000000, level_names[level], line, note);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (level > current_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	emit(level, line, "");
}

void log_once(struct log_once *once, enum log_level level, const char *fmt, ...)
{
	char line[sizeof(once->last)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (!strcmp(line, once->last))
		return;
	memcpy(once->last, line, sizeof(line));
	if (level <= current_level)
		emit(level, line, "");
}

void log_once_reset(struct log_once *once)
{
	once->last[0] = '\0';
}

int64_t log_limit_allow(struct log_limit *limit, uint64_t now_ms)
{
	if (limit->used && now_ms - limit->logged_ms < LOG_LIMIT_INTERVAL_MS) {
		limit->skipped++;
		return -1;
	}
	uint64_t skipped = limit->skipped;
	limit->used = 1;
	limit->logged_ms = now_ms;
	limit->skipped = 0;
	return (int64_t)skipped;
}

void log_limited_msg(struct log_limit *limit, enum log_level level, const char *fmt, ...)
{
	char line[1024], note[96] = "";
	va_list ap;

	if (level > current_level)
		return;
	int64_t skipped = log_limit_allow(limit, clock_now_ms());
	if (skipped < 0)
		return;
	if (skipped > 0)
		snprintf(note, sizeof(note), " (%lld more like it in the last 10 s not logged)",
			 (long long)skipped);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	emit(level, line, note);
}
