/* Unit tests of the io_getevents timeout (src/aio.h): the layout the
 * kernel reads on this ABI, checked at compile time so that every cross
 * build (armhf with 32- and 64-bit time_t, arm64) checks it too, and one
 * real io_getevents call that must wait for the timeout it was given. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "aio.h"
#include "check.h"
#include "clock.h"

CHECKS_DEFINE;

#ifdef __NR_io_getevents
/* The kernel's io_getevents reads old_timespec32 (two 32-bit fields) on a
 * 32-bit ABI and __kernel_timespec (two 64-bit fields) on a 64-bit one,
 * whatever the C library's time_t is. */
#define KERNEL_TIMEOUT_FIELD (sizeof(void *))
#else
#define KERNEL_TIMEOUT_FIELD 8u /* io_pgetevents_time64: __kernel_timespec */
#endif
_Static_assert(sizeof(struct aio_timeout) == 2 * KERNEL_TIMEOUT_FIELD,
	       "the io_getevents timeout has the size the kernel reads");
_Static_assert(offsetof(struct aio_timeout, tv_nsec) == KERNEL_TIMEOUT_FIELD,
	       "tv_nsec is where the kernel reads it");

static void test_layout(void)
{
	struct aio_timeout t = aio_timeout_ms(1500);

	CHECK(sizeof(t) == 2 * KERNEL_TIMEOUT_FIELD, "%zu bytes", sizeof(t));
	CHECK(t.tv_sec == 1 && t.tv_nsec == 500000000L, "1500 ms: %lld s %lld ns",
	      (long long)t.tv_sec, (long long)t.tv_nsec);
	t = aio_timeout_ms(0);
	CHECK(t.tv_sec == 0 && t.tv_nsec == 0, "0 ms");
	t = aio_timeout_ms(999);
	CHECK(t.tv_sec == 0 && t.tv_nsec == 999000000L, "999 ms");
}

/* With nothing submitted, io_getevents(min 1) returns 0 after the timeout:
 * a timeout misread (fields swapped or shifted) returns at once or blocks
 * far longer. */
static void test_syscall(void)
{
	aio_context_t ctx = 0;
	struct io_event events[1];

	if (syscall(__NR_io_setup, 1, &ctx)) {
		CHECK(0, "io_setup: %s (the kernel needs CONFIG_AIO)", strerror(errno));
		return;
	}
	struct aio_timeout timeout = aio_timeout_ms(200);
	uint64_t start = clock_now_ms();
	long n = aio_getevents(ctx, 1, 1, events, &timeout);
	uint64_t waited = clock_now_ms() - start;
	CHECK(n == 0, "%s returned %ld (%s)", AIO_TIMEOUT_SYSCALL, n, n < 0 ? strerror(errno) : "");
	CHECK(waited >= 190 && waited < 5000, "waited %llu ms for a 200 ms timeout",
	      (unsigned long long)waited);
	timeout = aio_timeout_ms(0);
	start = clock_now_ms();
	n = aio_getevents(ctx, 1, 1, events, &timeout);
	CHECK(n == 0 && clock_now_ms() - start < 1000, "a zero timeout returns at once");
	syscall(__NR_io_destroy, ctx);
}

int main(void)
{
	test_layout();
	test_syscall();
	return checks_report("test_aio");
}
