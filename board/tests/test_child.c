/* Unit tests of child_run (src/spawn.c): a child gets an empty signal mask
 * and default dispositions although qbnetd blocks its signals (signalfd)
 * and ignores SIGPIPE; stdin from the given bytes; a time limit; and
 * outcomes for a missing program and a signal. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "clock.h"
#include "child.h"
#include "state.h"

CHECKS_DEFINE;

static char dir[] = "/tmp/qbnetd-child.XXXXXX";

static char *path_in_dir(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static char *shell(const char *script)
{
	static char copy[1024];

	snprintf(copy, sizeof(copy), "%s", script);
	return copy;
}

/* The signal state as qbnetd sets it up (main.c): its signals blocked for
 * signalfd, SIGPIPE ignored. */
static void daemon_signal_state(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

/* The hex mask on a /proc/PID/status line such as "SigBlk:". */
static unsigned long long status_mask(const char *text, const char *key)
{
	const char *line = strstr(text, key);

	return line ? strtoull(line + strlen(key), NULL, 16) : ~0ull;
}

static void test_signal_state(void)
{
	char script[512], *data = NULL;

	/* exec: no fork in the shell, whose own mask it may block around one. */
	snprintf(script, sizeof(script), "exec grep '^Sig' /proc/self/status > %s",
		 path_in_dir("status"));
	char *argv[] = { "sh", "-c", shell(script), NULL };
	struct child_result r = child_run(argv, NULL, 0, 5000);
	CHECK(child_ok(r), "sh ran: outcome %d code %d", r.outcome, r.code);
	CHECK(read_file(path_in_dir("status"), 4096, &data) > 0, "child wrote its status");
	if (!data)
		return;
	unsigned long long blocked = status_mask(data, "SigBlk:");
	unsigned long long ignored = status_mask(data, "SigIgn:");
	CHECK(blocked == 0, "the child's signal mask is empty (SigBlk %llx)", blocked);
	CHECK(!(ignored & (1ull << (SIGPIPE - 1))), "SIGPIPE is not ignored in the child (SigIgn %llx)",
	      ignored);
	free(data);

	/* So a child can be stopped with SIGTERM, as modprobe must be. */
	char *term[] = { "sh", "-c", "kill -TERM $$; exit 7", NULL };
	r = child_run(term, NULL, 0, 5000);
	CHECK(r.outcome == CHILD_SIGNALED && r.code == SIGTERM,
	      "SIGTERM ends the child (outcome %d code %d)", r.outcome, r.code);
}

static void test_input_and_outcomes(void)
{
	char script[512], *data = NULL, text[128];

	snprintf(script, sizeof(script), "cat > %s", path_in_dir("stdin"));
	char *cat[] = { "sh", "-c", shell(script), NULL };
	const char input[] = "nameserver 10.113.98.3\n";
	struct child_result r = child_run(cat, input, strlen(input), 5000);
	CHECK(child_ok(r), "cat ran");
	CHECK(read_file(path_in_dir("stdin"), 4096, &data) == (ssize_t)strlen(input) &&
	      !strcmp(data, input), "stdin delivered: '%s'", data ? data : "");
	free(data);

	char *nothing[] = { "sh", "-c", "read -r line; [ -z \"$line\" ]", NULL };
	CHECK(child_ok(child_run(nothing, NULL, 0, 5000)), "no input: stdin is empty");

	char *code[] = { "sh", "-c", "exit 3", NULL };
	r = child_run(code, NULL, 0, 5000);
	child_describe(r, text, sizeof(text));
	CHECK(r.outcome == CHILD_EXITED && r.code == 3 && !strcmp(text, "exited with 3"), "%s", text);

	char *missing[] = { "qbnetd-no-such-program", NULL };
	r = child_run(missing, NULL, 0, 5000);
	child_describe(r, text, sizeof(text));
	CHECK(r.outcome == CHILD_FAILED && r.code == ENOENT && strstr(text, "could not be run"),
	      "missing program: %s", text);

	char *slow[] = { "sleep", "10", NULL };
	uint64_t start = clock_now_ms();
	r = child_run(slow, NULL, 0, 200);
	uint64_t took = clock_now_ms() - start;
	child_describe(r, text, sizeof(text));
	CHECK(r.outcome == CHILD_TIMED_OUT && took < 5000, "time limit: %s after %llu ms", text,
	      (unsigned long long)took);

	char too_big[CHILD_INPUT_MAX + 1];
	memset(too_big, 'x', sizeof(too_big));
	r = child_run(cat, too_big, sizeof(too_big), 5000);
	CHECK(r.outcome == CHILD_FAILED && r.code == E2BIG, "input above the limit refused");
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	daemon_signal_state();
	test_signal_state();
	test_input_and_outcomes();
	unlink(path_in_dir("status"));
	unlink(path_in_dir("stdin"));
	rmdir(dir);
	return checks_report("test_child");
}
