/* Running helper programs (modprobe, resolvectl, resolvconf) from the
 * daemon: a clean signal state for the child, optional stdin, a time limit,
 * and one outcome to log. */
#ifndef QB_CHILD_H
#define QB_CHILD_H

#include <stddef.h>

#define CHILD_INPUT_MAX 16384	/* stdin is written to a pipe before the child runs */

enum child_outcome {
	CHILD_EXITED,		/* code: the exit status */
	CHILD_SIGNALED,		/* code: the signal that ended it */
	CHILD_TIMED_OUT,	/* killed after timeout_ms; code: the limit in ms */
	CHILD_FAILED,		/* not started; code: errno (ENOENT: not installed) */
};

struct child_result {
	enum child_outcome outcome;
	int code;
};

/* Runs argv (argv[0] looked up in PATH) with an empty signal mask and the
 * default disposition for the signals qbnetd blocks or ignores, stdin from
 * input (NULL: /dev/null), stdout to /dev/null and stderr inherited, and
 * waits at most timeout_ms for it (then SIGKILL). */
struct child_result child_run(char *const argv[], const char *input, size_t input_len,
			      unsigned timeout_ms);
/* True when it ran and exited 0. */
static inline int child_ok(struct child_result result)
{
	return result.outcome == CHILD_EXITED && result.code == 0;
}
/* "exited with 1", "killed by Terminated", "timed out after 5000 ms", ... */
void child_describe(struct child_result result, char *out, size_t out_len);

#endif
