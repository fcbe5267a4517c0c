/* Logging to stderr: one line per message, "[seconds.micros] level: text",
 * seconds counted on the monotonic clock from the first message. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

static enum log_level current_level = LOG_LEVEL_INFO;
static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level level)
{
	current_level = level;
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

void log_msg(enum log_level level, const char *fmt, ...)
{
	static struct timespec start;
	struct timespec now;
	char line[1024];
	va_list ap;

	if (level > current_level)
		return;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!start.tv_sec && !start.tv_nsec)
		start = now;
	long long usec = (long long)(now.tv_sec - start.tv_sec) * 1000000 +
			 (now.tv_nsec - start.tv_nsec) / 1000;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "qbnetd[%5lld.%06lld] %s: %s\n", usec / 1000000,
		usec % 1000000, level_names[level], line);
}
