/* posix_spawnp with what a daemon child needs: qbnetd blocks its signals
 * for signalfd and ignores SIGPIPE, and a child would inherit both (a
 * modprobe that SIGTERM cannot stop); stdin from a pipe filled beforehand;
 * a bounded wait. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "child.h"

extern char **environ;

#define CHILD_POLL_MS 5

static struct child_result result_of(enum child_outcome outcome, int code)
{
	struct child_result result = { .outcome = outcome, .code = code };

	return result;
}

/* stdin for the child: a pipe holding input (closed for writing), or /dev/null. */
static int input_fd(const char *input, size_t len)
{
	int fds[2];

	if (!input)
		return open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (len > CHILD_INPUT_MAX) {
		errno = E2BIG;
		return -1;
	}
	if (pipe2(fds, O_CLOEXEC))
		return -1;
	while (len) {
		ssize_t n = write(fds[1], input, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int error = n < 0 ? errno : EIO;
			close(fds[0]);
			close(fds[1]);
			errno = error;
			return -1;
		}
		input += n;
		len -= (size_t)n;
	}
	close(fds[1]);
	return fds[0];
}

static struct child_result wait_child(pid_t pid, unsigned timeout_ms)
{
	const struct timespec pause = { .tv_nsec = CHILD_POLL_MS * 1000000L };
	uint64_t deadline = clock_now_ms() + timeout_ms;
	int status;

	for (;;) {
		pid_t done = waitpid(pid, &status, WNOHANG);
		if (done < 0 && errno == EINTR)
			continue;
		if (done < 0)
			return result_of(CHILD_FAILED, errno);
		if (done == pid)
			break;
		if (clock_now_ms() >= deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return result_of(CHILD_TIMED_OUT, (int)timeout_ms);
		}
		nanosleep(&pause, NULL);
	}
	if (WIFEXITED(status))
		return result_of(CHILD_EXITED, WEXITSTATUS(status));
	return result_of(CHILD_SIGNALED, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

struct child_result child_run(char *const argv[], const char *input, size_t input_len,
			      unsigned timeout_ms)
{
	static const int reset[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGPIPE, SIGCHLD };
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	sigset_t none, defaults;
	pid_t pid;

	int in = input_fd(input, input_len);
	if (in < 0)
		return result_of(CHILD_FAILED, errno);
	sigemptyset(&none);
	sigemptyset(&defaults);
	for (size_t i = 0; i < sizeof(reset) / sizeof(reset[0]); i++)
		sigaddset(&defaults, reset[i]);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, in, STDIN_FILENO);
	posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	int rc = posix_spawnp(&pid, argv[0], &actions, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	posix_spawnattr_destroy(&attr);
	close(in);
	if (rc)
		return result_of(CHILD_FAILED, rc);
	return wait_child(pid, timeout_ms);
}

void child_describe(struct child_result result, char *out, size_t out_len)
{
	switch (result.outcome) {
	case CHILD_EXITED:
		snprintf(out, out_len, "exited with %d", result.code);
		return;
	case CHILD_SIGNALED:
		snprintf(out, out_len, "killed by %s", strsignal(result.code));
		return;
	case CHILD_TIMED_OUT:
		snprintf(out, out_len, "timed out after %d ms (killed)", result.code);
		return;
	case CHILD_FAILED:
		snprintf(out, out_len, "could not be run: %s", strerror(result.code));
		return;
	}
	snprintf(out, out_len, "unknown outcome");
}
