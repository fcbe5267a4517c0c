/* Unit tests of the log rate limit (src/log.c): one line per kind per 10 s,
 * the next one saying how many were left out, nothing counted below the log
 * level. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "log.h"

CHECKS_DEFINE;

static void test_allow(void)
{
	struct log_limit limit = { 0 };

	CHECK(log_limit_allow(&limit, 5000) == 0, "the first line passes");
	CHECK(log_limit_allow(&limit, 5001) == -1, "a second within 10 s is left out");
	CHECK(log_limit_allow(&limit, 14999) == -1, "still within 10 s");
	CHECK(log_limit_allow(&limit, 15000) == 2, "after 10 s: passes, 2 left out before it");
	CHECK(log_limit_allow(&limit, 15001) == -1, "the interval restarts");
	CHECK(log_limit_allow(&limit, 40000) == 1, "a long pause: passes with 1 left out");
	CHECK(log_limit_allow(&limit, 60000) == 0, "nothing left out since");

	struct log_limit at_zero = { 0 };
	CHECK(log_limit_allow(&at_zero, 0) == 0 && log_limit_allow(&at_zero, 1) == -1,
	      "time 0 is a time like any other");
}

static void test_output(void)
{
	char text[8192] = "";
	FILE *out = fmemopen(text, sizeof(text) - 1, "w");
	struct log_limit limit = { 0 };

	setvbuf(out, NULL, _IONBF, 0);
	log_set_output(out);
	log_set_level(LOG_LEVEL_INFO);
	for (int i = 0; i < 50; i++)
		log_limited_msg(&limit, LOG_LEVEL_WARN, "dropped bundle %d", i);
	CHECK(checks_count(text, "dropped bundle") == 1 && strstr(text, "warn: dropped bundle 0\n"),
	      "50 lines within 10 s: one logged:\n%s", text);
	limit.logged_ms -= LOG_LIMIT_INTERVAL_MS;
	log_limited_msg(&limit, LOG_LEVEL_WARN, "dropped bundle %d", 50);
	CHECK(strstr(text, "dropped bundle 50 (49 more like it in the last 10 s not logged)\n") != NULL,
	      "the next line after 10 s names the 49 left out:\n%s", text);

	struct log_limit quiet = { 0 };
	log_set_level(LOG_LEVEL_WARN);
	log_limited_msg(&quiet, LOG_LEVEL_INFO, "hidden");
	CHECK(!quiet.used && !quiet.skipped && !strstr(text, "hidden"),
	      "below the log level: not logged, not counted");
	log_set_output(NULL);
	fclose(out);
}

int main(void)
{
	test_allow();
	test_output();
	return checks_report("test_log");
}
