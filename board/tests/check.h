/* Minimal assertion helpers for the unit tests: count checks, report each
 * failure with file:line, and print "N passed, N failed" at the end. */
#ifndef QB_TEST_CHECK_H
#define QB_TEST_CHECK_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

extern unsigned checks_passed, checks_failed;

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		if (cond) {                                                \
			checks_passed++;                                   \
		} else {                                                   \
			checks_failed++;                                   \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, \
				__LINE__, #cond);                          \
			fprintf(stderr, __VA_ARGS__);                      \
			fputc('\n', stderr);                               \
		}                                                          \
	} while (0)

#define CHECKS_DEFINE unsigned checks_passed, checks_failed

/* How many times needle occurs in text (captured log lines). */
static inline size_t checks_count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Writes a fuzz seed DIR/NAME (DIR is created if missing); 0, or -1 with
 * the cause on stderr. */
static inline int checks_write_seed(const char *dir, const char *name, const void *data, size_t len)
{
	char path[4096];

	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "cannot create %s: %s\n", dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *file = fopen(path, "wb");
	if (!file) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	bool written = fwrite(data, 1, len, file) == len;
	if (fclose(file) || !written) {
		fprintf(stderr, "cannot write %s\n", path);
		return -1;
	}
	return 0;
}

static inline int checks_report(const char *suite)
{
	printf("%s: %u checks\n", suite, checks_passed + checks_failed);
	printf("%u passed, %u failed\n", checks_passed, checks_failed);
	return checks_failed || !checks_passed ? 1 : 0;
}

#endif
