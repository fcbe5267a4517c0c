/* Test-only LD_PRELOAD library for the USB VM test: once the file named by
 * $QB_FAULT_EP0 exists, read() on a FunctionFS ep0 fails with EIO, as a
 * dead gadget's ep0 would. Everything else reads as usual. */
#undef _FORTIFY_SOURCE
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

ssize_t __read_chk(int fd, void *buf, size_t len, size_t buf_len);

static bool fault_armed(int fd)
{
	const char *trigger = getenv("QB_FAULT_EP0");
	char link[64], target[PATH_MAX];

	if (!trigger || access(trigger, F_OK))
		return false;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n < 4)
		return false;
	target[n] = '\0';
	return !strcmp(target + n - 4, "/ep0");
}

ssize_t read(int fd, void *buf, size_t len)
{
	static ssize_t (*real)(int, void *, size_t);

	if (fault_armed(fd)) {
		errno = EIO;
		return -1;
	}
	if (!real)
		real = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
	return real(fd, buf, len);
}

ssize_t __read_chk(int fd, void *buf, size_t len, size_t buf_len)
{
	static ssize_t (*real)(int, void *, size_t, size_t);

	if (fault_armed(fd)) {
		errno = EIO;
		return -1;
	}
	if (!real)
		real = (ssize_t (*)(int, void *, size_t, size_t))dlsym(RTLD_NEXT, "__read_chk");
	return real(fd, buf, len, buf_len);
}
